"""Where the project's own templates, catalogs, fonts and content live."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
TEMPLATES_DIR = PROJECT_DIR / "templates"
ASSETS_DIR = PROJECT_DIR / "assets"
LOCALES_DIR = PROJECT_DIR / "locales"
REGULATORS_DIR = PACKAGE_DIR / "regulators" / "data"
LETTERHEADS_DIR = PROJECT_DIR / "letterheads"
"""Letterheads shared by several DHPCs, one folder each."""

# Folders WeasyPrint may read from; nothing else, and never the network.
RENDER_ROOTS = (TEMPLATES_DIR, ASSETS_DIR)

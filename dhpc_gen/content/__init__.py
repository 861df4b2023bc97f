"""The DHPC content: a typed model loaded from ``content/<id>/``."""

from __future__ import annotations

from dhpc_gen.content.loader import load_dhpc
from dhpc_gen.content.model import Dhpc, DhpcMeta, LanguageText

__all__ = ["Dhpc", "DhpcMeta", "LanguageText", "load_dhpc"]

"""Fixtures shared by the tests of several features."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
EXAMPLE = PROJECT / "content" / "lemtrada-2019"
CAMPAIGN = PROJECT / "content" / "fictumab-2026"


@pytest.fixture
def example_dir(tmp_path: Path) -> Path:
    """A private copy of the bundled Lemtrada example, free to change."""
    target = tmp_path / "content" / "lemtrada-2019"
    shutil.copytree(EXAMPLE, target)
    return target


@pytest.fixture
def campaign_dir(tmp_path: Path) -> Path:
    """A private copy of the bundled EU-wide campaign (fictional), free to change."""
    target = tmp_path / "content" / "fictumab-2026"
    shutil.copytree(CAMPAIGN, target)
    return target

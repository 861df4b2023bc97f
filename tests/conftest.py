"""Fixtures shared by the tests of several features."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
EXAMPLE = PROJECT / "content" / "lemtrada-2019"
CAMPAIGN = PROJECT / "content" / "fictumab-2026"


@pytest.fixture(scope="session", autouse=True)
def bundled_content_stays_unsent() -> Iterator[None]:
    """No test may record a real send in the bundled examples (they are the project's)."""
    yield
    recorded = sorted(PROJECT.glob("content/*/distribution.yaml"))
    assert not recorded, f"a test sent with a bundled content folder: {recorded}"


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

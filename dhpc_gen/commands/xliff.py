"""Commands of this feature (filled in as the feature is built)."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    """Add this feature's commands to the ``dhpc`` group."""

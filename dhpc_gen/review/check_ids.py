"""The ids of the checks of ``dhpc check``, apart so that ``dhpc --help`` imports no more."""

from __future__ import annotations

CHECK_IDS = (
    "structure",
    "numbers",
    "terms",
    "contacts",
    "untranslated",
    "length",
    "catalog",
    "regulator",
    "deviation",
)
"""Every check, in the order the report lists them."""

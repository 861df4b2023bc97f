"""Address sources → normalised, deduplicated mailing list in each recipient's language."""

from __future__ import annotations

"""From a :class:`~dhpc_gen.content.Dhpc` to HTML and PDF."""

from __future__ import annotations

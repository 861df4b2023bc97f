"""Signed letters: a PAdES signature on each built PDF, and checking it later."""

from __future__ import annotations

"""National adverse-reaction reporting contacts of every EEA country, per language."""

from __future__ import annotations

from dhpc_gen.regulators.registry import Regulator

__all__ = ["Regulator"]

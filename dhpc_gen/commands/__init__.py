"""Click commands of each feature, kept out of :mod:`dhpc_gen.cli` so features stay apart.

Each module has ``register(group)`` that adds its commands to the ``dhpc`` group.
"""

from __future__ import annotations

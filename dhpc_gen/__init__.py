"""dhpc_gen: Direct Healthcare Professional Communications in every language a country needs."""

from __future__ import annotations

import logging

__version__ = "0.1.0"

# Library code logs through this logger and never prints; the CLI decides what is shown.
logging.getLogger("dhpc_gen").addHandler(logging.NullHandler())

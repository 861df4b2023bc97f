"""Allow ``python -m dhpc_gen``."""

from __future__ import annotations

from dhpc_gen.cli import main

if __name__ == "__main__":
    main()

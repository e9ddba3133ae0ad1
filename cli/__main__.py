"""`python -m cli`: the `aisle` command without its script (the benchmarks start it so)."""

import sys

from cli import app

if __name__ == "__main__":  # pragma: no cover
    sys.exit(app(prog_name="aisle"))

"""``python -m cyw2v``: the cyw2v command line (see cyw2v.cli)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())

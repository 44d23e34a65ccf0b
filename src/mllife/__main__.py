"""``python -m mllife demo [--out DIR]``."""

import sys

from ._demo import main

if __name__ == "__main__":
    sys.exit(main())

"""``python -m gui``: the same as the ``musicgen-gui`` command."""

import sys

from .app import main

if __name__ == "__main__":
    sys.exit(main())

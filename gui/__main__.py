"""``python -m gui``: the same as the ``musicgen-gui`` command."""

import sys

from .app import main

sys.exit(main())

"""Where musicgen keeps things: the committed dataset, the shipped models, the user's models.

Torch-free, so the CLI's flag defaults and the GUI can name these places cheaply.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATASET = PACKAGE_ROOT / "data" / "corpus"  # the committed token cache
REPO_MODELS = PACKAGE_ROOT / "models"  # the shipped models of a checkout
DEFAULT_MODEL = "musicgen-default"


def user_models_dir() -> Path:
    """The per-user model folder (XDG data home): where ``musicgen train`` writes by default."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "musicgen" / "models"

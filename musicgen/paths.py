"""Where musicgen keeps things: the committed dataset, the shipped models, and the user's own folders.

The user's folders follow each platform's conventions (the ``platformdirs`` package):

* Linux: data (models, the app's takes) in ``~/.local/share/musicgen``, settings in ``~/.config/musicgen``,
  cache (style critics, originality indexes) in ``~/.cache/musicgen``;
* macOS: data and settings in ``~/Library/Application Support/musicgen``, cache in ``~/Library/Caches/musicgen``;
* Windows: data and settings in ``%APPDATA%\\musicgen``, cache in ``%LOCALAPPDATA%\\musicgen\\Cache``.

``$XDG_DATA_HOME``, ``$XDG_CONFIG_HOME`` and ``$XDG_CACHE_HOME``, when set, win on every platform (as
they did before platformdirs was used; the tests rely on them to keep away from the real folders).
What earlier versions kept elsewhere is still found: models in ``~/.local/share/musicgen/models``
(``legacy_models_dirs``) and the app's takes in ``<data>/musicgen-gui/takes`` (moved by ``takes_dir``).

Torch-free and Qt-free, so the CLI's flag defaults and the GUI can name these places cheaply.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

APP_NAME = "musicgen"
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
IN_CHECKOUT = (PACKAGE_ROOT / "pyproject.toml").is_file()  # a source checkout (editable install), not a wheel
REPO_MODELS = PACKAGE_ROOT / "models"  # the shipped models of a checkout
REPO_DATASET = PACKAGE_ROOT / "data" / "corpus"  # the committed token cache of a checkout
DEFAULT_MODEL = "musicgen-default"
SETTINGS_FILE = "musicgen-gui.conf"  # the name Qt gave the app's settings on Linux, kept so they carry over
TAKES_FOLDER = "takes"
LEGACY_TAKES = Path("musicgen-gui") / TAKES_FOLDER  # below the data folder: where Qt put the takes before


def installed_package_dir(package: str) -> Path | None:
    """The folder of an installed data-only package (``musicgen_models``, ``musicgen_corpus``) without
    importing it, or None when it is not installed."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _default_dataset() -> Path:
    """The committed corpus: ``data/corpus`` of a checkout, else the installed ``musicgen_corpus``."""
    if (REPO_DATASET / "dataset.json").is_file():
        return REPO_DATASET
    installed = installed_package_dir("musicgen_corpus")
    if installed is not None and (installed / "dataset.json").is_file():
        return installed
    return REPO_DATASET


DEFAULT_DATASET = _default_dataset()


def platform_dirs():
    """The platform's folders for musicgen (``platformdirs``): ``%APPDATA%`` (roaming) on Windows, and no
    author folder there."""
    import platformdirs

    return platformdirs.PlatformDirs(APP_NAME, appauthor=False, roaming=True)


def user_data_dir() -> Path:
    """The user data folder (models, the app's takes): ``$XDG_DATA_HOME/musicgen``, else the platform's."""
    if os.environ.get("XDG_DATA_HOME"):
        return Path(os.environ["XDG_DATA_HOME"]) / APP_NAME
    return Path(platform_dirs().user_data_dir)


def user_config_dir() -> Path:
    """The user settings folder (the app's settings file): ``$XDG_CONFIG_HOME/musicgen``, else the platform's."""
    if os.environ.get("XDG_CONFIG_HOME"):
        return Path(os.environ["XDG_CONFIG_HOME"]) / APP_NAME
    return Path(platform_dirs().user_config_dir)


def user_cache_dir() -> Path:
    """The user cache folder (style critics, originality indexes; rebuilt when missing):
    ``$XDG_CACHE_HOME/musicgen``, else the platform's."""
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / APP_NAME
    return Path(platform_dirs().user_cache_dir)


def user_models_dir() -> Path:
    """The per-user model folder: where ``musicgen train`` writes by default."""
    return user_data_dir() / "models"


def legacy_models_dirs() -> list[Path]:
    """Model folders of earlier versions that are no longer the user's model folder: before platformdirs,
    models went to ``~/.local/share/musicgen/models`` on every platform (when $XDG_DATA_HOME was unset).
    Still searched, after the user's folder, so nobody loses a model; empty on Linux."""
    if os.environ.get("XDG_DATA_HOME"):
        return []  # earlier versions used the same folder then
    legacy = Path.home() / ".local" / "share" / APP_NAME / "models"
    return [] if legacy == user_models_dir() else [legacy]


def settings_file() -> Path:
    """The desktop app's settings (an INI file) in the user settings folder."""
    return user_config_dir() / SETTINGS_FILE


def takes_dir() -> Path:
    """The desktop app's takes, in the user data folder. Takes that earlier versions kept in
    ``<data>/musicgen-gui/takes`` (Qt's app data folder) are moved here the first time; when they cannot
    be moved they are used where they are."""
    data = user_data_dir()
    return adopt_folder(data / TAKES_FOLDER, data / LEGACY_TAKES)


def adopt_folder(new: Path, old: Path) -> Path:
    """``new``, after moving ``old`` there when only ``old`` exists (a rename: nothing is copied, nothing
    lost); ``old`` when that fails. The emptied parent of ``old`` is removed when it can be."""
    if new.exists() or new.is_symlink() or not old.is_dir():
        return new
    try:
        new.parent.mkdir(parents=True, exist_ok=True)
        os.rename(old, new)
    except OSError:
        return old
    try:
        old.parent.rmdir()  # only when empty
    except OSError:
        pass
    return new

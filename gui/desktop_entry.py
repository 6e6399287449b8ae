"""``musicgen-gui --install-desktop-entry``: a Linux menu entry with the app's icon.

Writes, atomically and never through a link it did not make, the freedesktop.org files a desktop
reads: ``$XDG_DATA_HOME/applications/musicgen.desktop`` and the scalable icon
``$XDG_DATA_HOME/icons/hicolor/scalable/apps/musicgen.svg`` (``~/.local/share`` when XDG_DATA_HOME
is not set). The entry runs the ``musicgen-gui`` this Python would run, by its full path, so it
works from a virtual environment, pipx or uv without a PATH change. No root, no system package.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from musicgen.files.writing import atomic_write_bytes

ICON = Path(__file__).resolve().parent / "icon.svg"
ENTRY_NAME = "musicgen.desktop"


def data_home() -> Path:
    """The XDG data folder: $XDG_DATA_HOME, else ~/.local/share."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def launcher() -> str:
    """The command the menu entry runs: the ``musicgen-gui`` beside this Python, else on PATH, else
    this Python running the app's module."""
    beside = Path(sys.executable).with_name("musicgen-gui")
    if beside.is_file():
        return str(beside)
    found = shutil.which("musicgen-gui")
    return found or f"{sys.executable} -m gui.app"


def entry_text(command: str, icon: Path) -> str:
    """The .desktop file for ``command`` with ``icon``."""
    return "\n".join(
        [
            "[Desktop Entry]",
            "Type=Application",
            "Name=musicgen",
            "GenericName=Music generator",
            "Comment=Compose new music in a chosen style",
            f"Exec={command}",
            f"Icon={icon}",
            "Terminal=false",
            "Categories=AudioVideo;Audio;Music;",
            "MimeType=audio/midi;audio/x-midi;",
            "",
        ]
    )


def install_desktop_entry(home: Path | None = None) -> list[Path]:
    """Write the menu entry and its icon under ``home`` (default: ``data_home()``); the paths written.
    ValueError naming the file when one of them is a link or cannot be written."""
    home = home or data_home()
    icon = home / "icons" / "hicolor" / "scalable" / "apps" / "musicgen.svg"
    entry = home / "applications" / ENTRY_NAME
    written = []
    for path, data in ((icon, ICON.read_bytes()), (entry, entry_text(launcher(), icon).encode())):
        if path.is_symlink():
            raise ValueError(f"{path}: is a link; remove it and run --install-desktop-entry again")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(path, lambda temp, data=data: Path(temp).write_bytes(data))
        except OSError as error:
            raise ValueError(f"{path}: cannot write ({error.strerror or error})") from None
        written.append(path)
    return written

"""Files musicgen writes: atomic writes, and the checks of an output path made before any work.

Every write goes to a temp file in the target's folder that is then renamed onto the target, so a
crash never leaves half a file. Only regular files are written: a device (``/dev/full``), a FIFO, a
socket or a folder at the path is refused, never replaced.

Symlinks are written *through*: when the output path is a symlink, the file it points to gets the
new content and the link itself stays (a dangling link creates its target, if that folder exists).

Torch-free and without pretty_midi, so the CLI can check its outputs before importing either.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Callable

# Output kinds: the name used in messages and the file name endings allowed for it.
OUTPUT_KINDS = {
    "midi": ("MIDI", (".mid", ".midi")),
    "wav": ("WAV", (".wav",)),
    "musicxml": ("MusicXML", (".musicxml", ".xml")),
    "abc": ("ABC", (".abc",)),
}
TEMP_SUFFIX = ".tmp"
# mkstemp(prefix=".<name>.", suffix=".tmp") adds 8 characters of [a-z0-9_]
_TEMP_NAME = re.compile(r"^\.(?P<target>.+)\.[a-z0-9_]{8}\.tmp$")


class OutputPathError(ValueError, OSError):
    """An output path musicgen will not write (one line naming the path and the reason).

    A ValueError (bad input) and an OSError, so code that catches either kind of failed write catches it."""

    def __str__(self) -> str:  # OSError would print the argument tuple
        return str(self.args[0]) if self.args else ""


def write_target(path) -> Path:
    """The file a write to ``path`` lands on: a symlink's final target, otherwise ``path`` itself."""
    path = Path(path)
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def check_regular_target(path) -> Path:
    """The file to write for ``path`` (through symlinks); OutputPathError unless it is absent or a
    regular file."""
    target = write_target(path)
    try:
        mode = os.stat(target).st_mode
    except (FileNotFoundError, NotADirectoryError):  # nothing there (the folder is checked apart)
        return target
    except OSError as error:  # e.g. a symlink loop, or no permission to look
        raise OutputPathError(f"{path}: cannot be used as an output ({error.strerror or error})") from None
    if stat.S_ISREG(mode):
        return target
    if stat.S_ISDIR(mode):
        what = "is a folder; give a file name"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        what = "is a device, not a regular file"
    elif stat.S_ISFIFO(mode):
        what = "is a FIFO (named pipe), not a regular file"
    elif stat.S_ISSOCK(mode):
        what = "is a socket, not a regular file"
    else:
        what = "is not a regular file"
    shown = f"{path} (a symlink to {target})" if target != Path(path) else f"{path}"
    raise OutputPathError(f"{shown} {what}; musicgen writes only regular files")


def check_extension(path, kind: str) -> None:
    """OutputPathError unless ``path`` ends in an ending of ``kind`` (a key of OUTPUT_KINDS)."""
    name, endings = OUTPUT_KINDS[kind]
    if Path(path).suffix.lower() not in endings:
        raise OutputPathError(f"{path}: a {name} file name must end in {' or '.join(endings)}")


def check_writable_folder(folder) -> None:
    """OutputPathError unless ``folder`` exists and a file can be created in it."""
    folder = Path(folder) if str(folder) else Path(".")
    if not folder.is_dir():
        raise OutputPathError(f"{folder}: output folder does not exist")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise OutputPathError(f"{folder}: cannot write there ({error.strerror or error})") from None


def check_output(path, kind: str | None = None) -> Path:
    """Every check of one output file, made before any work: a regular file or nothing at the path
    (symlinks followed), its ending (if ``kind`` is given), a writable folder. Returns the file
    that will be written."""
    target = check_regular_target(path)
    if kind is not None:
        check_extension(path, kind)
    check_writable_folder(target.parent)
    return target


def _identity(path) -> tuple:
    """What makes two paths one file: device and inode when it exists, else its resolved name."""
    try:
        info = os.stat(path)
        return (info.st_dev, info.st_ino)
    except OSError:
        return (os.path.normcase(os.path.realpath(path)),)


def check_distinct(paths: dict[str, object]) -> None:
    """OutputPathError if two of ``paths`` (``{"--wav": path, ...}``; None entries skipped) are one
    file, through symlinks and hard links: one path for two outputs, or an output onto an input."""
    seen: dict[tuple, str] = {}
    for label, path in paths.items():
        if path is None:
            continue
        key = _identity(path)
        if key in seen:
            raise OutputPathError(f"{path}: given for both {seen[key]} and {label}; give each its own file")
        seen[key] = label


def atomic_write_bytes(path, write: Callable[[str], object]) -> Path:
    """Call ``write(temp_path)`` then rename the temp file onto ``path`` (no partial files).

    Writes through a symlink to its target; OutputPathError if a device, FIFO or folder is at the
    path. An existing file keeps its permissions. Returns ``path``."""
    path = Path(path)
    target = check_regular_target(path)
    directory = target.parent if str(target.parent) else Path(".")
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=directory)
    os.close(handle)
    try:
        write(temp)
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask  # mkstemp makes 0600; give a new file normal permissions
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    return path


def atomic_write_text(path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically."""
    return atomic_write_bytes(path, lambda temp: Path(temp).write_text(text, encoding=encoding))


def atomic_write_json(path, data, indent: int | None = 2) -> Path:
    """Write ``data`` as JSON to ``path`` atomically."""
    return atomic_write_text(path, json.dumps(data, indent=indent))


def stray_temp_files(folder) -> list[Path]:
    """Temp files that ``atomic_write_bytes`` left in ``folder`` (killed between write and rename)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if _TEMP_NAME.match(p.name) and p.is_file() and not p.is_symlink())

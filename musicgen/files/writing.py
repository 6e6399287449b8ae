"""Files musicgen writes: atomic writes, and the checks of an output path made before any work.

Every write goes to a temp file in the target's folder that is then renamed onto the target, so a
crash never leaves half a file. Only regular files are written: a device (``/dev/full``), a FIFO, a
socket or a folder at the path is refused, never replaced.

Symlinks are written *through*: when the output path is a symlink, the file it points to gets the
new content and the link itself stays (a dangling link creates its target, if that folder exists).
A folder musicgen fills by itself (a batch) is different: there ``follow_links=False`` refuses any
link, since another user of a shared folder may have planted it (``refuse_link``).

Writes made inside ``written_together()`` land together: every temp file is written first and the
renames come last, so a failure or an interrupt leaves all the old files (``generate``'s MIDI and WAV).

Torch-free and without pretty_midi, so the CLI can check its outputs before importing either.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Callable, Iterator

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
NAME_MAX = 255  # bytes in one file or folder name on Linux, macOS and Windows file systems
_TEMP_EXTRA = len("..") + 8 + len(TEMP_SUFFIX)  # what a temp name adds to its target's name
SHOWN_NAME = 40  # characters of an over-long name shown in a message
# (temp file, target) pairs of the innermost written_together() block, or None outside one
_staged: ContextVar[list | None] = ContextVar("staged_writes", default=None)


class OutputPathError(ValueError, OSError):
    """An output path musicgen will not write (one line naming the path and the reason).

    A ValueError (bad input) and an OSError, so code that catches either kind of failed write catches it."""

    def __str__(self) -> str:  # OSError would print the argument tuple
        return str(self.args[0]) if self.args else ""


def check_name_length(path) -> None:
    """OutputPathError if a file or folder name in ``path`` is longer than ``NAME_MAX`` bytes."""
    for part in Path(path).parts:
        size = len(os.fsencode(part))
        if size > NAME_MAX:
            shown = part[:SHOWN_NAME] + "..."
            raise OutputPathError(f"{shown}: a name of {size} bytes; file and folder names have at most {NAME_MAX}")


def write_target(path) -> Path:
    """The file a write to ``path`` lands on: a symlink's final target, otherwise ``path`` itself."""
    path = Path(path)
    return Path(os.path.realpath(path)) if os.path.islink(path) else path


def refuse_link(path) -> None:
    """OutputPathError if ``path`` is a symlink (for files musicgen makes itself, e.g. in a batch folder)."""
    if os.path.islink(path):
        raise OutputPathError(
            f"{path} is a symbolic link; musicgen does not write or read through links it did not make: "
            "remove it or use another folder"
        )


def check_regular_target(path) -> Path:
    """The file to write for ``path`` (through symlinks); OutputPathError unless it is absent or a
    regular file, with names of at most ``NAME_MAX`` bytes."""
    check_name_length(path)
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


def _temp_prefix(name: str) -> str:
    """``.<name>.``, the name cut so that the temp file's name stays within ``NAME_MAX`` bytes."""
    encoded = os.fsencode(name)[: NAME_MAX - _TEMP_EXTRA]
    return f".{os.fsdecode(encoded)}."


def atomic_write_bytes(path, write: Callable[[str], object], follow_links: bool = True) -> Path:
    """Call ``write(temp_path)`` then rename the temp file onto ``path`` (no partial files).

    Writes through a symlink to its target (with ``follow_links=False``: OutputPathError for a
    link); OutputPathError if a device, FIFO or folder is at the path. An existing file keeps its
    permissions. Inside ``written_together()`` the rename waits for the end of the block. Returns ``path``."""
    path = Path(path)
    if not follow_links:
        refuse_link(path)  # and os.replace below replaces a link planted meanwhile, never its target
    target = check_regular_target(path)
    directory = target.parent if str(target.parent) else Path(".")
    handle, temp = tempfile.mkstemp(prefix=_temp_prefix(target.name), suffix=TEMP_SUFFIX, dir=directory)
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
        staged = _staged.get()
        if staged is None:
            os.replace(temp, target)
        else:
            staged.append((temp, target))
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    return path


@contextmanager
def written_together() -> Iterator[None]:
    """Atomic writes inside this block are renamed onto their files only when it ends without an
    error; an error or an interrupt (Ctrl+C, SIGTERM in the CLI) removes every temp file and
    leaves every old file. The renames come one after another, microseconds apart."""
    staged: list[tuple[str, Path]] = []
    token = _staged.set(staged)
    try:
        yield
        for temp, target in staged:
            os.replace(temp, target)
    finally:
        _staged.reset(token)
        for temp, _ in staged:
            if os.path.exists(temp):  # not renamed: the block failed
                os.unlink(temp)


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


# --- a lock on a folder that one process fills (a batch) ----------------------------------------

LOCK_NAME = ".musicgen.lock"


class FolderBusyError(ValueError):
    """Another live process holds the folder's lock."""


class FolderLock:
    """An exclusive lock on a folder: ``<folder>/.musicgen.lock``, held with ``flock`` (released by
    the system when its process dies, so a stale lock is taken over) and holding the owner's PID
    for the message a second process gets. ``release()`` removes the file."""

    def __init__(self, folder, what: str = "batch"):
        self.path = Path(folder) / LOCK_NAME
        self._file = None
        for _ in range(3):  # a holder may remove the file between our open and our flock
            handle = self._open()
            if not _flock(handle):
                holder = _read_pid(handle)
                handle.close()
                who = f"PID {holder}" if holder else "a process still starting"
                raise FolderBusyError(
                    f"{folder} is in use by another musicgen {what} ({who}); wait for it to end or use another folder"
                )
            if _same_file(handle, self.path):
                handle.seek(0)
                handle.truncate()
                handle.write(f"{os.getpid()}\n")
                handle.flush()
                self._file = handle
                return
            handle.close()
        raise FolderBusyError(f"{folder}: cannot take its lock {LOCK_NAME}; another process keeps replacing it")

    def _open(self):
        refuse_link(self.path)
        try:  # O_NOFOLLOW: a link planted after the check above is refused too
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        except OSError as error:
            raise OutputPathError(f"{self.path}: cannot take the folder's lock ({error.strerror or error})") from None
        return os.fdopen(fd, "r+", encoding="ascii", errors="replace")

    def release(self) -> None:
        """Remove the lock file and let go of the lock (idempotent)."""
        if self._file is None:
            return
        try:
            os.unlink(self.path)
        except OSError:
            pass
        self._file.close()
        self._file = None


def _flock(handle) -> bool:
    """Take an exclusive ``flock`` without waiting; False if another open file holds it. Where
    ``flock`` is missing (Windows) or not supported (some network file systems), the PID in the
    file decides: the lock is free unless that process is alive."""
    try:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    except (ImportError, OSError):
        holder = _read_pid(handle)
        return holder is None or holder == os.getpid() or not _alive(holder)


def _read_pid(handle) -> int | None:
    handle.seek(0)
    text = handle.read(32).strip()
    return int(text) if text.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists, as another user's process
        return True
    return True


def _same_file(handle, path: Path) -> bool:
    """True if ``path`` still names the file open as ``handle``."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    mine = os.fstat(handle.fileno())
    return (info.st_dev, info.st_ino) == (mine.st_dev, mine.st_ino)

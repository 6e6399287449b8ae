"""What every ``musicgen`` command shares: the one-line user error, the argument parser,
output checks, model loading and the progress bar.
"""

from __future__ import annotations

import argparse
from contextlib import contextmanager
from pathlib import Path


class UserError(Exception):
    """A problem the user can fix; shown as one line, exit status 2."""


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr (exit status 2), like every other error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


@contextmanager
def os_error_as_user_error(message: str):
    """An OSError in the block becomes one line, ``message (the system's reason)``; a refusal that
    is a ValueError too (an ``OutputPathError`` is both) passes as it is."""
    try:
        yield
    except ValueError:
        raise
    except OSError as error:
        raise UserError(f"{message} ({error.strerror or error})") from None


def check_writable(path: Path, kind: str | None = None) -> None:
    """Fail now, before any work, unless ``path`` can be written: a regular file or nothing there
    (a symlink is written through), an existing writable folder, and the ending of ``kind``
    ("midi", "wav", "musicxml", "abc"; see ``musicgen.files.writing``)."""
    from ..files.writing import check_output

    check_output(path, kind)


def check_outputs(outputs: dict[str, tuple]) -> None:
    """``check_writable`` for each ``{flag: (path or None, kind)}``, and no file given for two of them."""
    for path, kind in outputs.values():
        if path:
            check_writable(Path(path), kind)
    check_distinct({flag: path for flag, (path, _) in outputs.items()})


def check_distinct(paths: dict) -> None:
    """UserError if two of ``{what: path or None}`` are one file (through symlinks and hard links)."""
    from ..files.writing import check_distinct

    check_distinct(paths)


def load_model_or_fail(name_or_path):
    """Load a model by name or path; UserError with the reason if it cannot be used."""
    from ..model.model_files import load_model

    return load_model(name_or_path)


def consume(steps, description: str):
    """Run a progress generator: a transient bar on a terminal, silently otherwise; returns the last value."""
    from ..progress import run_with_bar

    return run_with_bar(steps, description, transient=True)


def minutes(seconds: float) -> str:
    """``m:ss``."""
    seconds = round(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


def read_model_card(name_or_path):
    """Card path and card of a model (no weights loaded); UserError if it cannot be used."""
    from ..model.model_files import find_model, read_card

    path = find_model(name_or_path)
    return path, read_card(path)

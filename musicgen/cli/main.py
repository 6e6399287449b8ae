"""The ``musicgen`` command line: small commands that hand off to the library.

Heavy modules (torch, music21) are imported inside the commands so ``--help`` stays fast. Every
error a user can fix (a ``UserError`` or a ``ValueError`` from the library) is caught once, here
in ``main``: one line on stderr, exit status 2. The commands live in ``cli.train`` (data, training,
evaluation), ``cli.compose`` (generate, regenerate, score, originality), ``cli.batch`` (batch),
``cli.harmonise`` (harmonise) and ``cli.library`` (genres, models, render, play).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from . import batch as cli_batch
from . import compose as cli_compose
from . import harmonise as cli_harmonise
from . import library as cli_library
from . import train as cli_train
from .common import OneLineParser, UserError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = OneLineParser(prog="musicgen", description="Compose music in a chosen style.")
    commands = parser.add_subparsers(dest="command", required=True)
    cli_train.add_commands(commands)
    cli_compose.add_commands(commands)
    cli_batch.add_commands(commands)
    cli_harmonise.add_commands(commands)
    cli_library.add_commands(commands)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, a scheduler ending a job), handled like Ctrl+C: temp files are removed,
    worker processes stopped, finished work kept."""


def _terminate(signum, frame) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not interrupt the cleanup
    raise Terminated()


def _handle_sigterm():
    """Turn SIGTERM into ``Terminated`` (main thread only); returns the handler to restore, or None."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _terminate)


def _quiet_closed_stdout() -> None:
    """Point stdout at /dev/null so Python's flush at exit does not report the closed pipe again."""
    import os

    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (a test's captured stdout)
        pass


def main(argv=None) -> int:
    """Entry point of the ``musicgen`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = _handle_sigterm()
    try:
        args.func(args)
    except (UserError, ValueError) as error:  # bad input of any command: one line
        print(f"musicgen: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`musicgen models | head`): stop quietly, as Unix tools do
        _quiet_closed_stdout()
        return 0
    except KeyboardInterrupt as stop:
        if argv is None:  # run from a shell: a further Ctrl+C while exiting must not print a traceback
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        what = "terminated" if isinstance(stop, Terminated) else "interrupted"
        print(f"musicgen: {what}; finished work is kept", file=sys.stderr)
        return 128 + signal.SIGTERM if isinstance(stop, Terminated) else 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0

"""The ``musicgen`` command line: small commands that hand off to the library.

Heavy modules (torch, music21) are imported inside the commands so ``--help`` stays fast. Every
error a user can fix (a ``UserError`` or a ``ValueError`` from the library) is caught once, here
in ``main``: one line on stderr, exit status 2. The commands live in ``cli_train`` (data, training,
evaluation), ``cli_compose`` (generate, batch, regenerate, score, originality) and ``cli_library``
(genres, models, render, play); ``cli_harmonise`` (harmonise).
"""

from __future__ import annotations

import argparse
import sys

from . import cli_compose, cli_harmonise, cli_library, cli_train
from .cli_common import OneLineParser, UserError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = OneLineParser(prog="musicgen", description="Compose music in a chosen style.")
    commands = parser.add_subparsers(dest="command", required=True)
    cli_train.add_commands(commands)
    cli_compose.add_commands(commands)
    cli_harmonise.add_commands(commands)
    cli_library.add_commands(commands)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``musicgen`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (UserError, ValueError) as error:  # bad input of any command: one line
        print(f"musicgen: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if argv is None:  # run from a shell: a further Ctrl+C while exiting must not print a traceback
            import signal

            signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("musicgen: interrupted; finished work is kept", file=sys.stderr)
        return 130
    return 0

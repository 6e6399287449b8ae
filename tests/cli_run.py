"""``musicgen`` run in-process for tests."""

from __future__ import annotations

import contextlib
import io

from musicgen.cli.main import main


def run(*argv) -> tuple[int, str, str]:
    """``musicgen argv`` in-process: (exit status, stdout, stderr); argparse's exits included."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as stop:
            code = stop.code
    return code, out.getvalue(), err.getvalue()

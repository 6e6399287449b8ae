"""Progress of long jobs: one ``Progress`` type, and a progress bar for the command line.

Long work in the core library is a generator that yields ``Progress`` values; the CLI wraps it in
``run_with_bar`` (rich), the GUI worker re-emits each value as a signal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Progress:
    """A step of a long job: ``done`` of ``total`` units, a short message, and on the last step
    of some jobs their ``result``."""

    done: int
    total: int
    message: str = ""
    result: Any = None


def run_job(steps, on_step=None):
    """Run a job's generator to its end; returns its result: the generator's return value, else
    the ``result`` of its last step. ``on_step(progress)`` sees every step (a bar, a signal)."""
    last = None
    while True:
        try:
            last = next(steps)
        except StopIteration as stop:
            return stop.value if stop.value is not None else getattr(last, "result", None)
        if on_step is not None:
            on_step(last)


def run_with_bar(steps, description: str, transient: bool = False):
    """Consume ``steps`` (``Progress`` values), drawing a bar on a terminal (stderr) and staying
    quiet otherwise; returns the last step (its ``result`` holds a job's result)."""
    import sys

    last = None
    if not sys.stderr.isatty():
        for last in steps:  # noqa: B007 - only the last step is kept
            pass
        return last
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress as Bar,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Bar(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[message]}"),
        console=Console(stderr=True),
        transient=transient,
    ) as bar:
        task = bar.add_task(description, total=None, message="")
        for last in steps:
            bar.update(task, completed=last.done, total=last.total, message=str(last.message)[:60])
    return last


def run_training_bar(steps):
    """Draw training progress (loss, tokens/s, ETA) and print each epoch's validation line."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn

    last = None
    with Bar(
        TextColumn("[bold]epoch {task.fields[epoch]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}"),
        TextColumn("{task.fields[rate]} tok/s"),
        TextColumn("ETA {task.fields[eta]}"),
        transient=False,
    ) as bar:
        task = bar.add_task("train", total=None, epoch=1, loss="?", rate="?", eta="?")
        for step in steps:
            shown = {"epoch": step.epoch}
            if step.loss == step.loss:  # a message-only step has no loss (NaN): keep the last training figures
                shown.update(loss=f"{step.loss:.3f}", rate=f"{step.tokens_per_second:,.0f}")
            if step.eta_seconds:
                shown["eta"] = f"{int(step.eta_seconds // 60)}m{int(step.eta_seconds % 60):02d}s"
            elif step.total and step.done >= step.total:
                shown["eta"] = "0m00s"
            bar.update(task, completed=step.done, total=step.total, **shown)
            if step.message:
                bar.console.print(step.message + (f"  {step.valid_nll}" if step.valid_nll else ""))
            last = step
    return last

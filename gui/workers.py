"""Background work: one generic worker that runs any job of ``gui.jobs`` in its own QThread.

A job is a generator that yields ``musicgen.progress.Progress`` and returns its result (or yields
a last Progress carrying ``.result``, as the core's generators do). The worker re-emits progress
as signals, checks ``abort_requested`` between steps (cooperative cancel: the job is closed, so
sampling stops at once), delivers the result, and catches the job's exceptions. It never touches
widgets. Every worker emits ``done`` last, which ends its thread.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Iterator

from PySide6.QtCore import QObject, QThread, Signal, Slot

PROGRESS_INTERVAL_S = 0.05  # at most ~20 progress signals per second reach the GUI
# Threads still running when their window closed, with their workers: a QThread (or a worker) that is
# destroyed while it runs aborts the app, so they are kept here until they end.
_outliving: set[tuple] = set()


def describe_error(error: Exception) -> str:
    """One line for a dialog: the message of a ValueError/OSError, else the type and message."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if isinstance(error, (ValueError, OSError)) and text:
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def start_in_thread(worker: QObject, parent: QObject) -> QThread:
    """Run ``worker.run`` in a new thread that ends when the worker emits ``done``."""
    thread = QThread(parent)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.done.connect(thread.quit)
    thread.start()
    return thread


def outlive(thread: QThread, worker: QObject) -> None:
    """Keep a thread that is still running (and its worker) alive after its window is gone, until it ends."""
    entry = (thread, worker)
    thread.setParent(None)
    _outliving.add(entry)
    thread.finished.connect(lambda: _outliving.discard(entry))


def outliving_threads() -> list[QThread]:
    """Threads kept alive by ``outlive`` that are still running."""
    return [thread for thread, _ in list(_outliving) if thread.isRunning()]


class JobWorker(QObject):
    """Runs ``job()`` (a generator of Progress); ``finished(result)``, ``failed(message)`` or ``cancelled``."""

    progressed = Signal(int, int, str)  # done, total, message
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    done = Signal()

    def __init__(self, job: Callable[[], Iterator], kind: str = ""):
        super().__init__()
        self.job = job
        self.kind = kind  # what the job is, for the window ("generate", "audio", ...)
        self._abort = threading.Event()

    def request_abort(self) -> None:
        """Ask the job to stop at its next step (safe to call from any thread)."""
        self._abort.set()

    @property
    def abort_requested(self) -> bool:
        return self._abort.is_set()

    @Slot()
    def run(self) -> None:
        try:
            finished, result = self._run_job()
            if finished:
                self.finished.emit(result)
            else:
                self.cancelled.emit()
        except Exception as error:  # a worker reports every failure instead of dying silently
            self.failed.emit(describe_error(error))
        finally:
            self.done.emit()

    def _run_job(self) -> tuple[bool, object]:
        """(True, result) when the job ran to its end, (False, None) when it was cancelled."""
        steps = self.job()
        result, last_emit = None, 0.0
        try:
            while True:
                if self._abort.is_set():
                    return False, None
                try:
                    progress = next(steps)
                except StopIteration as stop:
                    return True, stop.value if stop.value is not None else result
                if progress.result is not None:
                    result = progress.result
                now = time.monotonic()
                if now - last_emit >= PROGRESS_INTERVAL_S or progress.done >= progress.total:
                    last_emit = now
                    self.progressed.emit(progress.done, progress.total, progress.message)
        finally:
            steps.close()  # a cancelled job stops at once


class JobReport(QObject):
    """Delivers a worker's signals to plain callables in the GUI thread (its slots are queued there)."""

    def __init__(self, on_finished=None, on_failed=None, on_progress=None, on_cancelled=None, parent=None):
        super().__init__(parent)
        self.on_finished, self.on_failed = on_finished, on_failed
        self.on_progress, self.on_cancelled = on_progress, on_cancelled

    def silence(self) -> None:
        """Drop whatever the worker reports from now on (its window is closing)."""
        self.on_finished = self.on_failed = self.on_progress = self.on_cancelled = None

    def connect_to(self, worker: JobWorker) -> None:
        worker.finished.connect(self._finished)
        worker.failed.connect(self._failed)
        worker.progressed.connect(self._progressed)
        worker.cancelled.connect(self._cancelled)

    @Slot(object)
    def _finished(self, result) -> None:
        if self.on_finished is not None:
            self.on_finished(result)

    @Slot(str)
    def _failed(self, message: str) -> None:
        if self.on_failed is not None:
            self.on_failed(message)

    @Slot(int, int, str)
    def _progressed(self, done: int, total: int, message: str) -> None:
        if self.on_progress is not None:
            self.on_progress(done, total, message)

    @Slot()
    def _cancelled(self) -> None:
        if self.on_cancelled is not None:
            self.on_cancelled()

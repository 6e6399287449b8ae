"""Background work: loading the model, generating, rendering audio. Each worker lives in its own QThread.

Workers import the torch-using parts of musicgen themselves (inside ``run``), so the window can show
before torch is loaded. They never touch widgets: they report through signals named as events and
catch their own exceptions. Every worker emits ``done`` last, which ends its thread.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

PROGRESS_INTERVAL_S = 0.05  # at most ~20 progress signals per second reach the GUI


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


class ModelLoader(QObject):
    """Loads a model and builds its Generator; ``loaded(generator, model_name)`` or ``failed(message)``."""

    loaded = Signal(object, str)
    failed = Signal(str)
    done = Signal()

    def __init__(self, model_name: str | None):
        super().__init__()
        self.model_name = model_name

    @Slot()
    def run(self) -> None:
        try:
            from musicgen.checkpoint import load_model
            from musicgen.generate import Generator

            loaded = load_model(self.model_name)
            generator = Generator(loaded)
            self.loaded.emit(generator, loaded.name)
        except Exception as error:  # a worker reports every failure instead of dying silently
            self.failed.emit(describe_error(error))
        finally:
            self.done.emit()


class GenerationWorker(QObject):
    """Runs ``generator.generate(request)``; cancel with ``request_abort()`` (checked between steps)."""

    progressed = Signal(int, int, str)  # done, total, message
    finished = Signal(object)  # GeneratedPiece
    failed = Signal(str)
    cancelled = Signal()
    done = Signal()

    def __init__(self, generator, request_fields: dict):
        super().__init__()
        self.generator = generator
        self.request_fields = dict(request_fields)
        self._abort = threading.Event()

    def request_abort(self) -> None:
        """Ask the worker to stop at the next step (safe to call from any thread)."""
        self._abort.set()

    @property
    def abort_requested(self) -> bool:
        return self._abort.is_set()

    @Slot()
    def run(self) -> None:
        try:
            result = self._generate()
            if result is None:
                self.cancelled.emit()
            else:
                self.finished.emit(result)
        except Exception as error:
            self.failed.emit(describe_error(error))
        finally:
            self.done.emit()

    def _generate(self):
        """The finished GeneratedPiece, or None when cancelled."""
        from musicgen.request import GenerationRequest

        steps = self.generator.generate(GenerationRequest(**self.request_fields))
        last_emit = 0.0
        try:
            for progress in steps:
                if self._abort.is_set():
                    return None
                if progress.result is not None:
                    self.progressed.emit(progress.total, progress.total, progress.message)
                    return progress.result
                now = time.monotonic()
                if now - last_emit >= PROGRESS_INTERVAL_S:
                    last_emit = now
                    self.progressed.emit(progress.done, progress.total, progress.message)
        finally:
            steps.close()  # stops sampling at once when cancelled
        if self._abort.is_set():
            return None
        raise ValueError("the generator stopped without producing a piece")


class AudioRenderWorker(QObject):
    """Renders a GeneratedPiece to a WAV file; ``finished(path, backend)`` or ``failed(path, message)``."""

    finished = Signal(str, str)
    failed = Signal(str, str)
    done = Signal()

    def __init__(self, generated, path: Path):
        super().__init__()
        self.generated = generated
        self.path = Path(path)

    @Slot()
    def run(self) -> None:
        try:
            from musicgen.audio import render_audio, write_wav

            audio, backend = render_audio(self.generated.to_pretty_midi())
            write_wav(self.path, audio)
            self.finished.emit(str(self.path), backend)
        except Exception as error:
            self.failed.emit(str(self.path), describe_error(error))
        finally:
            self.done.emit()

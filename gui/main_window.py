"""The main window: settings on the left, the take (roll, transport, take tools) in the middle, the takes
on the right. It wires widgets to background jobs and never computes music itself.

From 800x600 up everything stays usable: the settings scroll, the window shows one side panel at a
time when narrower than ``COMPACT_WIDTH`` (View menu or the header's Settings / Takes buttons), and
long titles are shortened with "…".
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from pathlib import Path

from PySide6.QtCore import QDeadlineTimer, QSettings, QThread, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QMainWindow, QMessageBox, QWidget

from musicgen.paths import TAKES_FOLDER, settings_file, takes_dir

from . import jobs, window_layout, window_menus
from .file_actions import FileActions, midi_paths_in
from .panel_settings import restore_panel, save_panel
from .playback import NO_DEVICE_MESSAGE, audio_output_available
from .take_actions import TakeActions
from .take_commands import AddTake
from .takes import Take, TakeStore, continuation_fields
from .window_layout import DEFAULT_SIZE, MIN_SIZE, LayoutWidgets
from .window_menus import MenuActions
from .workers import JobReport, JobWorker, outlive, start_in_thread

COMPACT_WIDTH = 1100  # px: narrower windows show one side panel at a time
CLOSE_DEADLINE_MS = 1_000  # closing waits this long for background jobs, then quits without them


def takes_folder(settings: QSettings) -> Path:
    """Where takes are kept: next to a settings file of its own (tests, screenshots), else in the user data
    folder (``musicgen.paths.takes_dir``: ``~/.local/share/musicgen/takes`` on Linux), as for the app's
    settings (``gui.app.open_settings``)."""
    if settings.format() == QSettings.IniFormat:
        own = os.path.abspath(settings.fileName())
        if own != os.path.abspath(settings_file()):
            return Path(own).parent / TAKES_FOLDER
    return takes_dir()


class MainWindow(QMainWindow, LayoutWidgets, MenuActions):
    """The app window. Call ``start()`` after ``show()`` to read the takes, find the audio output and load
    the model in the background. Its widgets and actions are declared where they are made
    (``window_layout.LayoutWidgets``, ``window_menus.MenuActions``)."""

    model_ready = Signal()
    model_failed = Signal(str)
    takes_loaded = Signal()
    piece_ready = Signal(object)  # the new Take
    take_analysed = Signal(object)  # a Take whose style fit and originality are now known
    audio_ready = Signal(str)  # WAV path of the current take
    generation_stopped = Signal(str)  # "finished", "duplicate", "cancelled" or "failed"

    def __init__(
        self, settings: QSettings, model_name: str | None = None, has_audio_device: bool | None = None, data_dir=None
    ):
        super().__init__()
        self.settings = settings
        self.model_name = model_name
        self.store = TakeStore(Path(data_dir) if data_dir is not None else takes_folder(settings))
        self.generator = self.analyser = self.model_info = None  # from the model job
        self.features: dict[str, str] = {}  # optional feature -> "" or why it is off
        self._model_failed = False
        self.current: Take | None = None
        self._has_audio_device = has_audio_device
        self._jobs: dict[QThread, tuple[JobWorker, JobReport]] = {}  # running threads, kept alive here
        self.unfinished_jobs: list[QThread] = []  # still running when the window closed
        self._generation: JobWorker | None = None
        self._temp_dir = Path(tempfile.mkdtemp(prefix="musicgen-gui-"))
        self._remove_temp = weakref.finalize(self, shutil.rmtree, str(self._temp_dir), ignore_errors=True)
        self._history_auto_hidden = False
        self._closed = False
        self.undo_stack = QUndoStack(self)
        self.files = FileActions(self)
        self.take_actions = TakeActions(self, self._temp_dir)
        self.setWindowTitle("musicgen")
        self.setAcceptDrops(True)
        window_layout.build_layout(self)
        window_menus.build_menus(self)
        self._restore_window()
        self._set_busy(False)

    def _restore_window(self) -> None:
        available = self.screen().availableGeometry()
        least = (min(MIN_SIZE[0], available.width()), min(MIN_SIZE[1], available.height()))
        self.setMinimumSize(*least)
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
            if self.width() < least[0] or self.height() < least[1]:  # saved smaller than usable
                self.resize(max(self.width(), least[0]), max(self.height(), least[1]))
        else:  # first run: the default size, shrunk to fit a small laptop screen
            self.resize(
                min(DEFAULT_SIZE[0], int(available.width() * 0.95)), min(DEFAULT_SIZE[1], int(available.height() * 0.9))
            )
        splitter = self.settings.value("window/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)
        self.sidebar.show()
        self.history_box.show()
        self._fit_panels()

    # --- side panels ---------------------------------------------------------------------------
    @property
    def compact(self) -> bool:
        return self.width() < COMPACT_WIDTH

    def set_panel_visible(self, panel: QWidget, visible: bool) -> None:
        """Show or hide a side panel; in a compact window showing one hides the other."""
        other = self.history_box if panel is self.sidebar else self.sidebar
        if visible and self.compact:
            other.hide()
        panel.setVisible(visible)
        if panel is self.history_box:
            self._history_auto_hidden = False
        self._sync_panel_buttons()

    def _fit_panels(self) -> None:
        """Keep at most one side panel in a compact window; bring the takes back when it is wide again."""
        if self.compact and self.sidebar.isVisibleTo(self) and self.history_box.isVisibleTo(self):
            self.history_box.hide()
            self._history_auto_hidden = True
        elif not self.compact and self._history_auto_hidden:
            self.history_box.show()
            self._history_auto_hidden = False
        self.speed_label.setVisible(not self.compact)
        self._sync_panel_buttons()

    def _sync_panel_buttons(self) -> None:
        for widget, action in (
            (self.sidebar, self.settings_panel_action),
            (self.history_box, self.history_panel_action),
        ):
            action.setChecked(widget.isVisibleTo(self))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_panels()

    # --- start-up and jobs ---------------------------------------------------------------------
    def start(self) -> None:
        """Read the takes, find the audio output and load the model in the background."""
        if self._has_audio_device is None:
            self._has_audio_device = audio_output_available()
        self.playback.start(self._has_audio_device)
        if not self._has_audio_device:
            self.audio_label.setText(f"\u26a0 {NO_DEVICE_MESSAGE}")
            self.audio_label.show()
        self.statusBar().showMessage("Loading model\u2026")
        self.run_job(
            lambda: jobs.load_takes(self.store),
            "takes",
            self._on_takes_loaded,
            lambda message: self.show_error("Could not read your takes", message),
        )
        self.run_job(lambda: jobs.load_model(self.model_name), "model", self._on_model_loaded, self._on_model_failed)
        self.playback.list_ports()
        self._update_actions()

    def run_job(
        self, job, kind: str, on_finished=None, on_failed=None, on_progress=None, on_cancelled=None
    ) -> JobWorker:
        """Run ``job`` (a ``gui.jobs`` generator function) in its own thread; callbacks run in the GUI thread.

        A closed window starts nothing (a job that ends while it closes may still try)."""
        worker = JobWorker(job, kind)
        if self._closed:
            return worker
        report = JobReport(on_finished, on_failed, on_progress, on_cancelled, self)
        report.connect_to(worker)
        thread = start_in_thread(worker, self)
        self._jobs[thread] = (worker, report)
        thread.finished.connect(self._forget_finished_jobs)
        return worker

    def _forget_finished_jobs(self) -> None:
        for thread in [t for t in self._jobs if t.isFinished()]:
            _, report = self._jobs.pop(thread)
            report.deleteLater()
            thread.deleteLater()

    def _on_takes_loaded(self, result) -> None:
        takes, problems = result
        for take in takes:
            self.history.add(take, select=False)
        if takes and self.current is None:  # where the last session ended
            self.take_actions.show_take(takes[-1].id)
        if problems:
            self.statusBar().showMessage(f"{len(problems)} stored takes could not be read: {problems[0]}", 10000)
        self.takes_loaded.emit()

    def _on_model_loaded(self, result) -> None:
        self.generator, self.analyser, self.model_info = result
        self.features = dict(self.model_info.features)
        self.controls.set_model(self.model_info)
        restore_panel(self.controls, self.settings)
        self.model_label.setText(f"Model: {self.model_info.name} \u00b7 {len(self.model_info.genres)} styles")
        self.statusBar().showMessage("Ready \u2014 pick a style and press Generate.", 8000)
        self.run_job(lambda: jobs.warm_up(self.analyser), "warm-up", self.take_actions.tell_problems)
        self._update_actions()
        self.model_ready.emit()

    def _on_model_failed(self, message: str) -> None:
        self._model_failed = True
        self.model_label.setText("No model loaded")
        self.statusBar().showMessage("No model loaded \u2014 generating is off.")
        self._update_actions()
        self.show_error("Model not loaded", f"The music model could not be loaded: {message}", critical=True)
        self.model_failed.emit(message)

    # --- making takes --------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """True while a take is being made."""
        return self._generation is not None

    def generate(self) -> None:
        """Generate with the panel's settings (a new seed unless "Keep" is ticked)."""
        if self.generator is None or self.busy:
            return
        if self.controls.problem():
            self.statusBar().showMessage(self.controls.problem(), 8000)
            return
        self.controls.seed_for_next_piece()
        self.start_generation(self.controls.request_fields())

    def start_generation(self, fields: dict, draft: jobs.TakeDraft | None = None, text: str = "Generate") -> None:
        """Make a take from GenerationRequest ``fields`` in a worker."""
        if self.generator is None or self.busy:
            return
        if draft is None:  # (the primer's summary comes from the worker, which reads the file)
            draft = jobs.TakeDraft(self.controls.describe_spec(fields.get("genre", "")))
        generator, analyser, known = self.generator, self.analyser, self._fingerprints()
        self._start_take_job(lambda: jobs.generate_take(generator, analyser, fields, draft, self.store, known), text)

    def regenerate_bars(self, first: int, last: int) -> None:
        """Write bars ``first..last`` of the current take anew (a new take; every other note kept): every
        voice, or only the one in the Voice box of a four-voice take."""
        take = self.current
        if take is None or self.generator is None or self.busy or self.features.get("regenerate"):
            return
        voice = self.take_tools.chosen_voice() if window_menus.voices_rewritable(self, take) else None
        seed, strength = self.controls.seed_for_next_piece(), take.generated.request.style_strength  # the take's
        draft = jobs.TakeDraft(take.title, take.primer_summary, parent=take.id, reworked=(first, last))
        draft.reworked_voice = voice
        generator, analyser, known = self.generator, self.analyser, self._fingerprints()
        what = f"bars {first}\u2013{last}" if voice is None else f"the {take.voice_names[voice].lower()} of bars"
        self._start_take_job(
            lambda: jobs.regenerate_take(
                generator, analyser, take, first, last, seed, strength, draft, self.store, known, voice
            ),
            f"Regenerate {what}" + ("" if voice is None else f" {first}\u2013{last}"),
        )

    def harmonise(self, path: str, genre: str) -> None:
        """Harmonise the melody of MIDI file ``path`` in four-voice style ``genre`` (a new take)."""
        if self.generator is None or self.busy or self.features.get("harmonise"):
            return
        seed, name = self.controls.seed_for_next_piece(), Path(path).name
        draft = jobs.TakeDraft(f"{self.controls.describe_spec(genre)}: {name} harmonised")
        generator, analyser, known = self.generator, self.analyser, self._fingerprints()
        self._start_take_job(
            lambda: jobs.harmonise_take(generator, analyser, path, genre, seed, draft, self.store, known),
            f"Harmonise {name}",
            "Could not harmonise",
        )

    def continue_take(self) -> None:
        """Add new music after the end of the current take, in the take's own settings (as long as the
        Length box says; a new seed)."""
        take = self.current
        if take is None or take.midi_path is None or self.generator is None or self.busy:
            return
        seed = self.controls.seed_for_next_piece()
        bars = self.controls.request_fields()["bars"]
        fields = continuation_fields(take.generated, str(take.midi_path), seed, bars)
        whole_bars = max(0, len(take.generated.piece.bars) - 1)
        summary = f"{len(take.generated.piece.notes)} notes, {whole_bars} bars"
        self.start_generation(
            fields, jobs.TakeDraft(f"{take.display_name} (continued)", summary, parent=take.id), "Continue"
        )

    def _fingerprints(self) -> dict[str, str]:
        return {take.fingerprint: take.id for take in self.history.takes}

    def _start_take_job(self, job, text: str, failure: str = "Could not generate") -> None:
        """Make a take in a worker; ``text`` names it on the undo stack, ``failure`` titles an error."""
        self._generation = self.run_job(
            job,
            "generate",
            lambda result: self._on_take_made(result, text),
            lambda message: self._on_generation_failed(message, failure),
            self._on_progress,
            self._on_generation_cancelled,
        )
        self._set_busy(True)
        self.statusBar().showMessage("Composing\u2026")

    def cancel_generation(self) -> None:
        if self._generation is not None:
            self._generation.request_abort()
            self.cancel_button.setEnabled(False)
            self.progress_label.setText("Stopping\u2026")

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.progress_bar, self.cancel_button, self.progress_label):
            widget.setVisible(busy)
        self.cancel_button.setEnabled(busy)
        self.progress_bar.setRange(0, 0)  # busy indicator until the first progress arrives
        self.progress_label.setText("Starting\u2026")
        self._update_actions()

    def _on_progress(self, done: int, total: int, message: str) -> None:
        self.progress_bar.setRange(0, max(1, total))
        self.progress_bar.setValue(min(done, total))
        self.progress_label.setText(message or f"{done} of {total}")

    def _finish_generation(self, outcome: str) -> None:
        self._generation = None
        self._set_busy(False)
        self.generation_stopped.emit(outcome)

    def _on_generation_cancelled(self) -> None:
        self._finish_generation("cancelled")
        self.statusBar().showMessage("Cancelled \u2014 nothing was changed.", 6000)

    def _on_generation_failed(self, message: str, title: str = "Could not generate") -> None:
        self._finish_generation("failed")
        self.statusBar().showMessage(f"{title}.", 6000)
        self.show_error(title, message)

    def _on_take_made(self, result: jobs.TakeResult, text: str) -> None:
        if result.take is None:
            existing = self.history.take(result.duplicate_of)
            self._finish_generation("duplicate")
            if existing is not None:
                self.take_actions.show_take(existing.id)
                self.statusBar().showMessage(
                    f"Same notes as the take \u201c{existing.display_name}\u201d (same seed "
                    "and settings): shown again, not added twice.",
                    10000,
                )
            return
        take = result.take
        self.history.add(take)
        self.undo_stack.push(AddTake(self, take, text))
        self._finish_generation("finished")
        generated = take.generated
        self.speed_label.setText(
            f"Last take: {generated.events} events in {generated.seconds_taken:.1f} s "
            f"({generated.events_per_second:,.0f} events/s)"
        )
        self.take_actions.show_take(take.id)
        if generated.request.primer and generated.request.primer == self.controls.primer_path:
            self.controls.set_primer(generated.request.primer, take.primer_summary)  # now it has been read
        self.statusBar().showMessage(take.outcome, 0 if generated.stop_reason else 10000)
        self.piece_ready.emit(take)

    # --- playback ------------------------------------------------------------------------------
    def toggle_playback(self) -> None:
        self.playback.toggle()

    def stop_playback(self) -> None:
        self.playback.stop()

    def _playback_failed(self, title: str, message: str) -> None:
        self._update_actions()
        self.show_error(title, message)

    # --- drops ---------------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if event.source() is None and midi_paths_in(event.mimeData()):  # not our own takes dragged out
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        """A MIDI file dropped is continued, or (asked when the model has a four-voice style) harmonised."""
        paths = midi_paths_in(event.mimeData())
        if paths and event.source() is None:
            event.acceptProposedAction()
            self.files.use_dropped(paths[0], self.mapToGlobal(event.position().toPoint()))

    # --- state ---------------------------------------------------------------------------------
    def show_error(self, title: str, message: str, critical: bool = False) -> None:
        """A dialog with a one-line explanation."""
        (QMessageBox.critical if critical else QMessageBox.warning)(self, title, message)

    def _update_actions(self) -> None:
        window_menus.update_actions(self)

    def closeEvent(self, event) -> None:
        """Stop every job (its results are dropped), wait for them briefly, save the settings, remove
        the temporary folder. A job still running after ``CLOSE_DEADLINE_MS`` is left to end alone."""
        if self._closed:
            super().closeEvent(event)
            return
        self._closed = True
        self.hide()  # waiting for a job must not look like a frozen window
        self.playback.stop()
        for worker, report in self._jobs.values():
            worker.request_abort()
            report.silence()
        deadline = QDeadlineTimer(CLOSE_DEADLINE_MS)
        for thread, (worker, _) in list(self._jobs.items()):
            thread.quit()
            if not thread.wait(deadline):
                self.unfinished_jobs.append(thread)
                self._jobs.pop(thread)  # the outliving set owns it now: never deleted while it runs
                outlive(thread, worker)
        if self.generator is not None:
            save_panel(self.controls, self.settings)
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/splitter", self.splitter.saveState())
        self.settings.sync()
        self._remove_temp()
        super().closeEvent(event)

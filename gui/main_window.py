"""The main window: settings on the left, the piano roll and transport in the middle, the session history on
the right. It wires widgets to background workers and never computes music itself.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths, Qt, QThread, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QMainWindow, QMessageBox, QProgressBar,
                               QPushButton, QScrollArea, QSplitter, QStyle, QToolButton, QVBoxLayout,
                               QWidget)

from musicgen.notes import STEPS_PER_BEAT

from .controls import ControlPanel, split_blend_spec
from .history import HistoryEntry, HistoryPanel, format_duration
from .piano_roll import PianoRoll
from .playback import NO_DEVICE_MESSAGE, AudioPlayer, Status, audio_output_available
from .workers import AudioRenderWorker, GenerationWorker, ModelLoader, start_in_thread

MIDI_SUFFIXES = (".mid", ".midi")
SIDEBAR_WIDTH = 330  # px
HISTORY_WIDTH = 250
DEFAULT_SIZE = (1440, 880)
NO_MODEL_TOOLTIP = "No model loaded \u2014 start the app with --model NAME or PATH"


def midi_paths_in(mime_data) -> list[str]:
    """Local MIDI files among dragged URLs."""
    paths = [url.toLocalFile() for url in mime_data.urls() if url.isLocalFile()] if mime_data.hasUrls() else []
    return [p for p in paths if p.lower().endswith(MIDI_SUFFIXES)]


def suggested_file_name(generated, suffix: str) -> str:
    """Default file name: genre key(s) and seed, e.g. "reel-seed7.mid" or "reel-bach-seed7.mid"."""
    first, second, _ = split_blend_spec(generated.request.genre)
    keys = [k for k in (first, second) if k] or ["piece"]
    return f"{'-'.join(keys)}-seed{generated.request.seed}{suffix}"


def file_error_text(error: Exception, path: Path) -> str:
    """One line for a failed save: the folder and the system's reason."""
    if isinstance(error, OSError):
        reason = error.strerror or str(error)
        return f"Could not write to {path.parent}: {reason}."
    return f"Could not write {path.name}: {error}"


class MainWindow(QMainWindow):
    """The app window. Call ``start()`` after ``show()`` to detect audio and load the model in the background."""

    model_ready = Signal()
    model_failed = Signal(str)
    piece_ready = Signal(object)  # HistoryEntry of a new piece
    audio_ready = Signal(str)  # WAV path of the current piece
    generation_stopped = Signal(str)  # "finished", "cancelled" or "failed"

    def __init__(self, settings: QSettings, model_name: str | None = None, has_audio_device: bool | None = None):
        super().__init__()
        self.settings = settings
        self.model_name = model_name
        self.generator = None  # musicgen.generate.Generator once loaded
        self._model_failed = False
        self.current: HistoryEntry | None = None
        self._has_audio_device = has_audio_device
        self._jobs: dict[QThread, object] = {}  # running threads -> their workers (kept alive here)
        self._generation: GenerationWorker | None = None
        self._rendering: dict[str, int] = {}  # WAV path being rendered -> history index
        self._temp_dir = Path(tempfile.mkdtemp(prefix="musicgen-gui-"))
        self.player: AudioPlayer | None = None
        self.setWindowTitle("musicgen")
        self.setAcceptDrops(True)
        self._build_ui()
        self._build_actions()
        self._restore_window()
        self._set_busy(False)

    # --- construction --------------------------------------------------------------------------
    def _build_ui(self) -> None:
        self.controls = ControlPanel()
        self.controls.primer_open_requested.connect(self.open_primer)
        self.generate_button = QPushButton("Generate")
        self.generate_button.setObjectName("generate")
        self.generate_button.setToolTip("Compose a new piece with these settings (Ctrl+G)")
        self.generate_button.clicked.connect(self.generate)
        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop composing (Esc)")
        self.cancel_button.clicked.connect(self.cancel_generation)
        self.progress_label = QLabel("")
        self.progress_label.setObjectName("hint")
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress_bar, 1)
        progress_row.addWidget(self.cancel_button)

        sidebar_content = QWidget()
        sidebar_layout = QVBoxLayout(sidebar_content)
        sidebar_layout.setContentsMargins(10, 4, 10, 10)
        sidebar_layout.addWidget(self.controls)
        sidebar_layout.addSpacing(6)
        sidebar_layout.addWidget(self.generate_button)
        sidebar_layout.addLayout(progress_row)
        sidebar_layout.addWidget(self.progress_label)
        sidebar_layout.addStretch(1)
        sidebar = QScrollArea()
        sidebar.setWidget(sidebar_content)
        sidebar.setWidgetResizable(True)
        sidebar.setFrameShape(QScrollArea.NoFrame)
        sidebar.setMinimumWidth(SIDEBAR_WIDTH)
        sidebar.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)

        self.roll = PianoRoll()
        self.roll.seek_requested.connect(self._seek_to_step)
        self.piece_title = QLabel("No piece yet")
        self.piece_title.setObjectName("pieceTitle")
        self.piece_details = QLabel("Choose a style on the left and press Generate.")
        self.piece_details.setObjectName("hint")
        self.save_button = QPushButton("Save MIDI\u2026")
        self.save_button.setToolTip("Save the piece as a MIDI file (Ctrl+S)")
        self.save_button.clicked.connect(self.save_midi)
        self.export_button = QPushButton("Export WAV\u2026")
        self.export_button.setToolTip("Save the piece as a WAV audio file (Ctrl+E)")
        self.export_button.clicked.connect(self.export_wav)
        header = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(2)
        titles.addWidget(self.piece_title)
        titles.addWidget(self.piece_details)
        header.addLayout(titles, 1)
        header.addWidget(self.save_button)
        header.addWidget(self.export_button)

        style = self.style()
        self.play_button = QPushButton(style.standardIcon(QStyle.SP_MediaPlay), "Play")
        self.play_button.setToolTip("Play / pause (Space)")
        self.play_button.clicked.connect(self.toggle_playback)
        self.play_button.setMinimumWidth(96)
        self.stop_button = QPushButton(style.standardIcon(QStyle.SP_MediaStop), "Stop")
        self.stop_button.clicked.connect(self.stop_playback)
        self.time_label = QLabel("0:00 / 0:00")
        self.time_label.setMinimumWidth(90)
        self.audio_label = QLabel("")
        self.audio_label.setObjectName("noAudio")
        self.audio_label.setWordWrap(True)
        self.audio_label.hide()
        zoom_out = QToolButton()
        zoom_out.setText("\u2212")
        zoom_out.setToolTip("Zoom out (Ctrl+wheel, Ctrl+-)")
        zoom_out.clicked.connect(self.roll.zoom_out)
        zoom_fit = QToolButton()
        zoom_fit.setText("Fit")
        zoom_fit.setToolTip("Show the whole piece (Ctrl+0)")
        zoom_fit.clicked.connect(self.roll.zoom_to_fit)
        zoom_in = QToolButton()
        zoom_in.setText("+")
        zoom_in.setToolTip("Zoom in (Ctrl+wheel, Ctrl++)")
        zoom_in.clicked.connect(self.roll.zoom_in)
        transport = QHBoxLayout()
        transport.addWidget(self.play_button)
        transport.addWidget(self.stop_button)
        transport.addWidget(self.time_label)
        transport.addStretch(1)
        zoom_caption = QLabel("Zoom")
        zoom_caption.setObjectName("hint")
        transport.addWidget(zoom_caption)
        transport.addWidget(zoom_out)
        transport.addWidget(zoom_fit)
        transport.addWidget(zoom_in)

        centre = QWidget()
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(8, 8, 8, 8)
        centre_layout.addLayout(header)
        centre_layout.addWidget(self.roll, 1)
        centre_layout.addLayout(transport)
        centre_layout.addWidget(self.audio_label)

        self.history = HistoryPanel()
        self.history.entry_chosen.connect(self.show_entry)
        history_box = QWidget()
        history_layout = QVBoxLayout(history_box)
        history_layout.setContentsMargins(6, 8, 10, 8)
        history_layout.addWidget(self.history)
        history_box.setMinimumWidth(180)

        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.addWidget(sidebar)
        self.splitter.addWidget(centre)
        self.splitter.addWidget(history_box)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(1, False)
        self.splitter.setSizes([SIDEBAR_WIDTH + 20, DEFAULT_SIZE[0] - SIDEBAR_WIDTH - HISTORY_WIDTH, HISTORY_WIDTH])
        self.setCentralWidget(self.splitter)

        self.model_label = QLabel("Model: loading\u2026")
        self.speed_label = QLabel("")
        self.statusBar().addPermanentWidget(self.speed_label)
        self.statusBar().addPermanentWidget(self.model_label)

    def _build_actions(self) -> None:
        def action(text, slot, shortcuts=(), menu=None):
            act = QAction(text, self)
            act.setShortcuts([QKeySequence(s) for s in shortcuts])
            act.setShortcutContext(Qt.WindowShortcut)
            act.triggered.connect(slot)
            self.addAction(act)
            if menu is not None:
                menu.addAction(act)
            return act

        file_menu = self.menuBar().addMenu("&File")
        self.open_primer_action = action("Continue a MIDI file\u2026", self.open_primer, ["Ctrl+O"], file_menu)
        self.save_action = action("Save MIDI\u2026", self.save_midi, [QKeySequence.Save], file_menu)
        self.export_action = action("Export WAV\u2026", self.export_wav, ["Ctrl+E"], file_menu)
        file_menu.addSeparator()
        action("Quit", self.close, [QKeySequence.Quit], file_menu)
        music_menu = self.menuBar().addMenu("&Music")
        self.generate_action = action("Generate", self.generate, ["Ctrl+G", "Ctrl+Return"], music_menu)
        self.cancel_action = action("Cancel generation", self.cancel_generation, ["Esc"], music_menu)
        music_menu.addSeparator()
        self.play_action = action("Play / Pause", self.toggle_playback, ["Space"], music_menu)
        self.stop_action = action("Stop", self.stop_playback, ["Ctrl+."], music_menu)
        view_menu = self.menuBar().addMenu("&View")
        action("Zoom in", self.roll.zoom_in, [QKeySequence.ZoomIn, "Ctrl+="], view_menu)
        action("Zoom out", self.roll.zoom_out, [QKeySequence.ZoomOut], view_menu)
        action("Show whole piece", self.roll.zoom_to_fit, ["Ctrl+0"], view_menu)

    def _restore_window(self) -> None:
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:  # first run: the default size, shrunk to fit a small laptop screen
            available = self.screen().availableGeometry()
            self.resize(min(DEFAULT_SIZE[0], int(available.width() * 0.95)),
                        min(DEFAULT_SIZE[1], int(available.height() * 0.9)))
        splitter = self.settings.value("window/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)

    # --- start-up ------------------------------------------------------------------------------
    def start(self) -> None:
        """Find the audio output and load the model in the background (the window is already up)."""
        if self._has_audio_device is None:
            self._has_audio_device = audio_output_available()
        self.player = AudioPlayer(self._has_audio_device, self)
        self.player.state_changed.connect(self._update_actions)
        self.player.position_changed.connect(self._show_position)
        self.player.failed.connect(self._on_playback_failed)
        if not self._has_audio_device:
            self.audio_label.setText(f"\u26a0 {NO_DEVICE_MESSAGE}")
            self.audio_label.show()
        self.statusBar().showMessage("Loading model\u2026")
        loader = ModelLoader(self.model_name)
        loader.loaded.connect(self._on_model_loaded)
        loader.failed.connect(self._on_model_failed)
        self._start_job(loader)
        self._update_actions()

    def _start_job(self, worker) -> QThread:
        thread = start_in_thread(worker, self)
        self._jobs[thread] = worker
        thread.finished.connect(self._forget_finished_jobs)
        return thread

    def _forget_finished_jobs(self) -> None:
        for thread in [t for t in self._jobs if t.isFinished()]:
            del self._jobs[thread]
            thread.deleteLater()

    def _on_model_loaded(self, generator, model_name: str) -> None:
        from pretty_midi import program_to_instrument_name  # already imported by the loader thread

        self.generator = generator
        self.controls.set_genres(generator.genres, [program_to_instrument_name(p) for p in range(128)])
        self.controls.restore_settings(self.settings)
        self.model_label.setText(f"Model: {model_name} \u00b7 {len(generator.genres)} styles")
        self.statusBar().showMessage("Ready \u2014 pick a style and press Generate.", 8000)
        self._update_actions()
        self.model_ready.emit()

    def _on_model_failed(self, message: str) -> None:
        self._model_failed = True
        self.model_label.setText("No model loaded")
        self.statusBar().showMessage("No model loaded \u2014 generating is off.")
        self._update_actions()
        self.show_error("Model not loaded", f"The music model could not be loaded: {message}", critical=True)
        self.model_failed.emit(message)

    # --- generating ----------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """True while a piece is being generated."""
        return self._generation is not None

    def generate(self) -> None:
        """Generate with the panel's settings (a new seed unless "Keep" is ticked)."""
        if self.generator is None or self.busy:
            return
        self.controls.seed_for_next_piece()
        self.start_generation(self.controls.request_fields())

    def start_generation(self, request_fields: dict) -> None:
        """Generate a piece from GenerationRequest fields in a worker thread."""
        if self.generator is None or self.busy:
            return
        worker = GenerationWorker(self.generator, request_fields)
        worker.progressed.connect(self._on_progress)
        worker.finished.connect(self._on_generated)
        worker.failed.connect(self._on_generation_failed)
        worker.cancelled.connect(self._on_generation_cancelled)
        self._generation = worker
        self._set_busy(True)
        self.statusBar().showMessage("Composing\u2026")
        self._start_job(worker)

    def cancel_generation(self) -> None:
        if self._generation is not None:
            self._generation.request_abort()
            self.cancel_button.setEnabled(False)
            self.progress_label.setText("Stopping\u2026")

    def _set_busy(self, busy: bool) -> None:
        self.progress_bar.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.cancel_button.setEnabled(busy)
        self.progress_label.setVisible(busy)
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

    def _on_generation_failed(self, message: str) -> None:
        self._finish_generation("failed")
        self.statusBar().showMessage("Generation failed.", 6000)
        self.show_error("Could not generate", message)

    def _on_generated(self, generated) -> None:
        title = self.controls.describe_spec(generated.request.genre)
        primer_summary = self.controls.primer_summary if generated.request.primer else ""
        entry = HistoryEntry(generated, title, primer_summary)
        index = self.history.add(entry)
        self._finish_generation("finished")
        self.speed_label.setText(f"Last piece: {generated.events} events in {generated.seconds_taken:.1f} s "
                                 f"({generated.events_per_second:,.0f} events/s)")
        self.statusBar().showMessage(f"Done \u2014 {title}, seed {generated.request.seed}.", 6000)
        self.show_entry(index, restore_settings=False)
        self.piece_ready.emit(entry)

    # --- showing a piece -----------------------------------------------------------------------
    def show_entry(self, index: int, restore_settings: bool = True) -> None:
        """Bring back history entry ``index``: roll, title, playback and (optionally) its settings."""
        entry = self.history.entries[index]
        generated = entry.generated
        self.current = entry
        self.history.select(index)
        self.roll.set_piece(generated.piece)
        if restore_settings:
            self.controls.apply_fields(self.fields_of(generated), entry.primer_summary)
        instrument = self.controls.instrument_combo.itemText(self.controls.instrument_combo.findData(generated.program))
        key = generated.key_result or self._key_of(generated.piece)
        self.piece_title.setText(f"{entry.title} \u2014 seed {generated.request.seed}")
        self.piece_details.setText(f"{entry.summary} \u00b7 {round(generated.tempo)} BPM \u00b7 {key} "
                                   f"\u00b7 {instrument}")
        self.setWindowTitle(f"musicgen \u2014 {entry.title}, seed {generated.request.seed}")
        if self.player is not None:
            if entry.wav_path is not None:
                self.player.load(entry.wav_path)
            else:
                self.player.begin_preparing()
        self._show_position(0)
        if entry.wav_path is None and index not in self._rendering.values():
            self._render_audio(index)
        self._update_actions()

    @staticmethod
    def _key_of(piece) -> str:
        """The key the piece sounds in, e.g. "A minor" (estimated from its notes)."""
        from musicgen.keys import estimate_key, key_name

        return key_name(*estimate_key(piece)) if piece.notes else "no notes"

    @staticmethod
    def fields_of(generated) -> dict:
        """The panel settings that made ``generated``."""
        request = generated.request
        return {"genre": request.genre, "bars": request.bars, "tempo": generated.tempo, "key": request.key,
                "program": generated.program, "temperature": request.temperature, "seed": request.seed,
                "primer": request.primer}

    def _render_audio(self, index: int) -> None:
        path = self._temp_dir / f"piece-{index + 1}.wav"
        worker = AudioRenderWorker(self.history.entries[index].generated, path)
        worker.finished.connect(self._on_audio_rendered)
        worker.failed.connect(self._on_audio_failed)
        self._rendering[str(path)] = index
        self._start_job(worker)

    def _on_audio_rendered(self, path: str, backend: str) -> None:
        index = self._rendering.pop(path, None)
        if index is None:
            return
        entry = self.history.entries[index]
        entry.wav_path, entry.audio_backend = Path(path), backend
        if entry is self.current:
            if self.player is not None:
                self.player.load(entry.wav_path)
            self.statusBar().showMessage(f"Sound ready: {backend}", 5000)
            self._update_actions()
            self.audio_ready.emit(path)

    def _on_audio_failed(self, path: str, message: str) -> None:
        index = self._rendering.pop(path, None)
        if index is not None and self.history.entries[index] is self.current and self.player is not None:
            self.player.load(None)
        self._update_actions()
        self.show_error("Could not prepare the sound", f"{message} (you can still save the MIDI file)")

    # --- playback ------------------------------------------------------------------------------
    def _on_playback_failed(self, message: str) -> None:
        self._update_actions()
        self.show_error("Could not play the sound", message)

    def toggle_playback(self) -> None:
        if self.player is not None:
            self.player.toggle()

    def stop_playback(self) -> None:
        if self.player is not None:
            self.player.stop()

    def _seconds_per_step(self) -> float:
        return 60.0 / self.current.generated.tempo / STEPS_PER_BEAT

    def _seek_to_step(self, step: int) -> None:
        if self.current is not None and self.player is not None:
            self.player.seek(int(step * self._seconds_per_step() * 1000))

    def _show_position(self, ms: int) -> None:
        if self.current is None:
            return
        total = self.current.generated.duration_seconds
        self.time_label.setText(f"{format_duration(ms / 1000)} / {format_duration(total)}")
        playing = self.player is not None and self.player.state.status is not Status.STOPPED
        self.roll.set_playhead(ms / 1000 / self._seconds_per_step() if playing or ms else None)

    # --- files ---------------------------------------------------------------------------------
    def _folder(self, kind: str) -> str:
        default = QStandardPaths.writableLocation(QStandardPaths.MusicLocation) or str(Path.home())
        folder = str(self.settings.value(f"folders/{kind}", default))
        return folder if Path(folder).is_dir() else str(Path.home())

    def _remember_folder(self, kind: str, path: str) -> None:
        self.settings.setValue(f"folders/{kind}", str(Path(path).parent))

    def open_primer(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Continue a MIDI file", self._folder("primer"),
                                              "MIDI files (*.mid *.midi);;All files (*)")
        if path:
            self.use_primer(path)

    def use_primer(self, path: str) -> bool:
        """Check ``path`` is a usable MIDI file and make it the primer; a dialog explains when it is not."""
        from musicgen.midi_io import midi_to_piece

        try:
            piece = midi_to_piece(path)
        except ValueError as error:
            self.show_error("Can't continue this file", str(error))
            return False
        bars = max(0, len(piece.bars) - 1)
        summary = f"{len(piece.notes)} notes" + (f", {bars} bars" if bars else "")
        self.controls.set_primer(path, summary)
        self._remember_folder("primer", path)
        self.statusBar().showMessage(f"The next piece continues {Path(path).name}.", 6000)
        return True

    def save_midi(self) -> None:
        if self.current is None:
            return
        suggested = Path(self._folder("save")) / suggested_file_name(self.current.generated, ".mid")
        path, _ = QFileDialog.getSaveFileName(self, "Save MIDI", str(suggested), "MIDI files (*.mid *.midi)")
        if not path:
            return
        path = Path(path) if Path(path).suffix.lower() in MIDI_SUFFIXES else Path(path).with_suffix(".mid")
        try:
            self.current.generated.write_midi(path)
        except (OSError, ValueError) as error:
            self.show_error("Could not save the MIDI file", file_error_text(error, path))
            return
        self._remember_folder("save", str(path))
        self.statusBar().showMessage(f"Saved {path.name}", 6000)

    def export_wav(self) -> None:
        if self.current is None or self.current.wav_path is None:
            return
        suggested = Path(self._folder("export")) / suggested_file_name(self.current.generated, ".wav")
        path, _ = QFileDialog.getSaveFileName(self, "Export WAV", str(suggested), "WAV audio (*.wav)")
        if not path:
            return
        path = Path(path) if Path(path).suffix.lower() == ".wav" else Path(path).with_suffix(".wav")
        source = self.current.wav_path
        try:
            from musicgen.midi_io import atomic_write_bytes

            atomic_write_bytes(path, lambda temp: shutil.copyfile(source, temp))
        except OSError as error:
            self.show_error("Could not export the WAV file", file_error_text(error, path))
            return
        self._remember_folder("export", str(path))
        self.statusBar().showMessage(f"Exported {path.name}", 6000)

    def dragEnterEvent(self, event) -> None:
        if midi_paths_in(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = midi_paths_in(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.use_primer(paths[0])

    # --- state ---------------------------------------------------------------------------------
    def show_error(self, title: str, message: str, critical: bool = False) -> None:
        """A dialog with a one-line explanation."""
        (QMessageBox.critical if critical else QMessageBox.warning)(self, title, message)

    def _update_actions(self) -> None:
        has_model = self.generator is not None
        if self.busy:
            self.generate_button.setText("Composing\u2026")
        elif has_model:
            self.generate_button.setText("Generate")
        else:
            self.generate_button.setText("No model loaded" if self._model_failed else "Loading model\u2026")
        self.generate_button.setEnabled(has_model and not self.busy)
        self.generate_button.setToolTip("Compose a new piece with these settings (Ctrl+G)" if has_model
                                        else NO_MODEL_TOOLTIP)
        self.generate_action.setEnabled(has_model and not self.busy)
        self.cancel_action.setEnabled(self.busy)
        has_piece = self.current is not None
        self.save_button.setEnabled(has_piece)
        self.save_action.setEnabled(has_piece)
        has_audio = has_piece and self.current.wav_path is not None
        self.export_button.setEnabled(has_audio)
        self.export_action.setEnabled(has_audio)
        self.export_button.setToolTip("Save the piece as a WAV audio file (Ctrl+E)" if has_audio or not has_piece
                                      else "Preparing audio\u2026")
        state = self.player.state if self.player is not None else None
        playing = state is not None and state.status is Status.PLAYING
        can_toggle = state is not None and (state.can_play or state.can_pause)
        self.play_button.setEnabled(can_toggle)
        self.play_action.setEnabled(can_toggle)
        self.play_button.setText("Pause" if playing else "Play")
        self.play_button.setIcon(self.style().standardIcon(QStyle.SP_MediaPause if playing else QStyle.SP_MediaPlay))
        reason = state.unavailable_reason if state is not None else ""
        self.play_button.setToolTip(reason or "Play / pause (Space)")
        self.stop_button.setEnabled(state is not None and state.can_stop)
        self.stop_action.setEnabled(state is not None and state.can_stop)

    def closeEvent(self, event) -> None:
        self.hide()  # waiting for a model still loading must not look like a frozen window
        if self._generation is not None:
            self._generation.request_abort()
        if self.player is not None:
            self.player.stop()
        for thread in list(self._jobs):
            thread.quit()
            thread.wait()
        if self.generator is not None:
            self.controls.save_settings(self.settings)
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/splitter", self.splitter.saveState())
        self.settings.sync()
        shutil.rmtree(self._temp_dir, ignore_errors=True)
        super().closeEvent(event)

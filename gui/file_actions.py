"""Files in and out of the window: a MIDI file to continue or a melody to harmonise, Save MIDI, Export
WAV (mono or stereo), Export score (MusicXML or ABC), and dragging a take out as a MIDI file.

Every path is checked before anything is written (``musicgen.files.writing.check_output``: a regular file
with the right ending in a writable folder); MIDI files are read (once) and sound is rendered in workers.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, Qt, Signal
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import QMenu

from musicgen.files.writing import atomic_write_bytes, check_output

from . import file_dialogs, jobs
from .history import take_mime_data
from .music_text import format_duration
from .takes import default_file_name

MIDI_SUFFIXES = (".mid", ".midi")
MIDI_FILTER = "MIDI files (*.mid *.midi)"
MUSICXML_FILTER = "MusicXML (*.musicxml *.xml)"
ABC_FILTER = "ABC notation (*.abc)"
PRIMER_CHECKING = "reading it\u2026"
MAX_PRIMER_BYTES = 1 << 20  # 1 MiB: ~100,000 notes; a primer that long is refused before it is read
MIDI_HEADER = b"MThd"
LAST_OUTPUT_KEY = "folders/last_output"  # the folder of the last file written (MIDI, WAV or score)
SCORE_SUFFIXES = (".musicxml", ".xml", ".abc")
HARMONY_FALLBACK = "bach"  # the four-voice style a melody is harmonised in when the style box is in one voice
CONTINUE, HARMONISE = "continue", "harmonise"  # what to do with a dropped MIDI file


def midi_paths_in(mime_data) -> list[str]:
    """Local MIDI files among dragged URLs."""
    paths = [url.toLocalFile() for url in mime_data.urls() if url.isLocalFile()] if mime_data.hasUrls() else []
    return [p for p in paths if p.lower().endswith(MIDI_SUFFIXES)]


def with_suffix(path: str, allowed: tuple[str, ...], default: str) -> Path:
    """``path`` if it ends in one of ``allowed``, else with ``default`` added."""
    chosen = Path(path)
    return chosen if chosen.suffix.lower() in allowed else chosen.with_name(chosen.name + default)


def score_path(chosen: str, abc: bool) -> Path:
    """The score's file: "x.musicxml" chosen with the ABC type becomes "x.abc", never "x.musicxml.abc"."""
    path = Path(chosen)
    if abc:
        return path.with_suffix(".abc") if path.suffix.lower() in SCORE_SUFFIXES else path.with_name(path.name + ".abc")
    return with_suffix(chosen, (".musicxml", ".xml"), ".musicxml")


def file_error_text(error: Exception, path: Path) -> str:
    """One line for a failed write: the folder and the system's reason."""
    if isinstance(error, OSError) and not isinstance(error, ValueError):
        return f"Could not write to {path.parent}: {error.strerror or error}."
    return str(error)


def primer_file_problem(path: Path) -> str:
    """Why ``path`` cannot be continued, from its name, size and first bytes ("" when it may be)."""
    if not path.exists():
        return f"{path.name}: no such file"
    if path.suffix.lower() not in MIDI_SUFFIXES or not path.is_file():
        return f"{path.name}: not a MIDI file"
    size = path.stat().st_size
    if size == 0:
        return f"{path.name} is empty (0 bytes): not a MIDI file"
    if size > MAX_PRIMER_BYTES:
        return f"{path.name} is too long to continue ({size / 1e6:.1f} MB; at most {MAX_PRIMER_BYTES // 1024} KB)"
    try:
        with path.open("rb") as file:
            header = file.read(len(MIDI_HEADER))
    except OSError as error:
        return f"{path.name}: {error.strerror or error}"
    return "" if header == MIDI_HEADER else f"{path.name} is not a MIDI file (it does not start like one)"


def ask_drop_use(parent, name: str, position) -> str | None:
    """Ask (a menu at ``position``) whether a dropped MIDI file is continued or harmonised; None = neither."""
    menu = QMenu(parent)
    chosen = {
        menu.addAction(f"Continue {name}"): CONTINUE,
        menu.addAction(f"Harmonise the melody of {name}"): HARMONISE,
    }
    return chosen.get(menu.exec(position))


def harmony_style(window) -> str | None:
    """The four-voice style to harmonise in: the style box's when it is one, else bach, else the model's
    first four-voice style (None when it has none)."""
    info = window.model_info
    if info is None:
        return None
    four = [key for key, count in info.voices.items() if count >= 4]
    chosen = window.controls.genre_combo.currentData()
    for key in (chosen, HARMONY_FALLBACK, *four):
        if key in four:
            return key
    return None


class FileActions(QObject):
    """The window's file actions; ``exported(path)`` after each file written, ``primer_checked(path,
    problem)`` when a chosen MIDI file has been read ("" = it will be continued)."""

    exported = Signal(str)
    primer_checked = Signal(str, str)

    def __init__(self, window):
        super().__init__(window)
        self.window = window

    # --- folders -------------------------------------------------------------------------------
    def folder(self, kind: str) -> str:
        """Where a dialog opens: for a file written, the folder of the last file written (whatever its
        kind); for a MIDI file to continue, the folder the last one came from."""
        default = QStandardPaths.writableLocation(QStandardPaths.MusicLocation) or str(Path.home())
        key = "folders/primer" if kind == "primer" else LAST_OUTPUT_KEY
        folder = str(self.window.settings.value(key, self.window.settings.value(f"folders/{kind}", default)))
        return folder if Path(folder).is_dir() and not file_dialogs.is_special_folder(folder) else str(Path.home())

    def remember_folder(self, kind: str, path) -> None:
        folder = str(Path(path).parent)
        self.window.settings.setValue(f"folders/{kind}", folder)
        if kind != "primer":
            self.window.settings.setValue(LAST_OUTPUT_KEY, folder)

    # --- a MIDI file to continue ---------------------------------------------------------------
    def ask_midi_file(self, title: str) -> str:
        """A MIDI file the user picks in the primer folder ('' when cancelled)."""
        return file_dialogs.ask_open_path(self.window, title, self.folder("primer"), f"{MIDI_FILTER};;All files (*)")

    def open_primer(self) -> None:
        path = self.ask_midi_file("Continue a MIDI file")
        if path:
            self.use_primer(path)

    def use_primer(self, path: str) -> bool:
        """Make ``path`` the MIDI file the next take continues. Its name, size and first bytes are checked
        here; a worker reads it (``jobs.check_primer``) and a file that cannot be continued is refused
        with a dialog and does not stay chosen."""
        chosen = Path(path)
        problem = primer_file_problem(chosen)
        if problem:
            self.window.show_error("Can't continue this file", problem)
            return False
        controls = self.window.controls
        controls.set_primer(str(chosen), PRIMER_CHECKING)
        self.remember_folder("primer", chosen)

        def checked(result) -> None:
            notes, seconds = result
            if controls.primer_path == str(chosen) and controls.primer_summary == PRIMER_CHECKING:
                controls.set_primer(str(chosen), f"{notes} notes, {format_duration(seconds)}")
            self.window.statusBar().showMessage(f"The next piece continues {chosen.name}.", 6000)
            self.primer_checked.emit(str(chosen), "")

        def refused(message: str) -> None:
            if controls.primer_path == str(chosen):
                controls.clear_primer()
            self.window.show_error("Can't continue this file", message)
            self.primer_checked.emit(str(chosen), message)

        self.window.run_job(lambda: jobs.check_primer(str(chosen)), "primer", checked, refused)
        return True

    def use_dropped(self, path: str, position) -> None:
        """A MIDI file dropped on the window: continued, or harmonised when the musician asks (only asked
        when the model has a four-voice style)."""
        use = CONTINUE
        if harmony_style(self.window) is not None and not self.window.features.get("harmonise"):
            use = ask_drop_use(self.window, Path(path).name, position)
        if use == CONTINUE:
            self.use_primer(path)
        elif use == HARMONISE:
            self.harmonise_file(path)

    # --- a melody to harmonise -----------------------------------------------------------------
    def open_melody(self) -> None:
        path = self.ask_midi_file("Harmonise a melody")
        if path:
            self.harmonise_file(path)

    def harmonise_file(self, path: str) -> bool:
        """Harmonise the melody of ``path`` in the style box's four-voice style (else bach) in a worker; a
        file that is not MIDI, or a model without a four-voice style, is refused with a dialog."""
        chosen, style = Path(path), harmony_style(self.window)
        problem = primer_file_problem(chosen).replace("to continue", "to harmonise")
        if not problem and style is None:
            problem = "This model has no four-voice style (such as bach or palestrina) to harmonise in."
        if problem:
            self.window.show_error("Can't harmonise this file", problem)
            return False
        if self.window.busy:
            self.window.statusBar().showMessage("A take is being made: harmonise when it is ready.", 6000)
            return False
        self.remember_folder("primer", chosen)
        self.window.harmonise(str(chosen), style)
        return True

    # --- writing -------------------------------------------------------------------------------
    def _ask(self, title: str, kind: str, suffix: str, filters: str) -> tuple[str, str]:
        take = self.window.current
        suggested = Path(self.folder(kind)) / default_file_name(take, suffix)
        return file_dialogs.ask_save_path(self.window, title, str(suggested), filters)

    def _checked(self, path: Path, kind: str, title: str) -> Path | None:
        try:
            check_output(path, kind)
        except ValueError as error:
            self.window.show_error(title, str(error))
            return None
        return path

    def save_midi(self) -> None:
        take = self.window.current
        if take is None:
            return
        chosen, _ = self._ask("Save MIDI", "save", ".mid", MIDI_FILTER)
        path = (
            self._checked(with_suffix(chosen, MIDI_SUFFIXES, ".mid"), "midi", "Could not save the MIDI file")
            if chosen
            else None
        )
        if path is None:
            return
        try:
            take.generated.write_midi(path)
        except (OSError, ValueError) as error:
            self.window.show_error("Could not save the MIDI file", file_error_text(error, path))
            return
        self._done("save", path, f"Saved {path.name}")

    def export_wav(self, stereo: bool = False) -> None:
        """Mono: copy the take's rendered sound. Stereo: render its voices spread left to right."""
        take = self.window.current
        if take is None or (not stereo and take.wav_path is None):
            return
        chosen, _ = self._ask("Export WAV (stereo)" if stereo else "Export WAV", "export", ".wav", "WAV audio (*.wav)")
        path = (
            self._checked(with_suffix(chosen, (".wav",), ".wav"), "wav", "Could not export the WAV file")
            if chosen
            else None
        )
        if path is None:
            return
        if stereo:
            self.window.statusBar().showMessage(f"Rendering {path.name} in stereo\u2026")
            self.window.run_job(
                lambda: jobs.render_audio(take.generated, path, take.voices, stereo=True),
                "export",
                lambda _: self._done("export", path, f"Exported {path.name} (stereo)"),
                lambda message: self.window.show_error("Could not export the WAV file", message),
            )
            return
        source = take.wav_path
        try:
            atomic_write_bytes(path, lambda temp: shutil.copyfile(source, temp))
        except OSError as error:
            self.window.show_error("Could not export the WAV file", file_error_text(error, path))
            return
        self._done("export", path, f"Exported {path.name}")

    def export_score(self) -> None:
        """MusicXML or ABC, by the ending or the filter chosen."""
        take = self.window.current
        if take is None:
            return
        chosen, chosen_filter = self._ask("Export score", "score", ".musicxml", f"{MUSICXML_FILTER};;{ABC_FILTER}")
        if not chosen:
            return
        abc = chosen_filter == ABC_FILTER or chosen.lower().endswith(".abc")
        path = score_path(chosen, abc)
        if self._checked(path, "abc" if abc else "musicxml", "Could not export the score") is None:
            return
        self.window.run_job(
            lambda: jobs.export_score(take.generated, str(path), take.display_name),
            "export",
            lambda _: self._done("score", path, f"Exported {path.name}"),
            lambda message: self.window.show_error("Could not export the score", message),
        )

    def _done(self, kind: str, path: Path, text: str) -> None:
        self.remember_folder(kind, path)
        self.window.statusBar().showMessage(text, 6000)
        self.exported.emit(str(path))

    # --- drag-out ------------------------------------------------------------------------------
    def drag_current_take(self, source) -> None:
        """Start dragging the current take's MIDI file from widget ``source``."""
        take = self.window.current
        if take is None or take.midi_path is None:
            return
        drag = QDrag(source)
        drag.setMimeData(take_mime_data(take))
        drag.exec(Qt.CopyAction)

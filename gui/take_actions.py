"""The current take and what the musician does to a take: show it (roll, title, playback), find its
sound and its style fit and originality in workers, rename it, use its settings, and push the undoable
changes of ``take_commands``. The window keeps the widgets; this keeps them in step with the takes.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QInputDialog

from . import jobs
from .music_text import bar_span
from .take_commands import RenameTake, UseSettings
from .takes import Take


class TakeActions(QObject):
    """The window's take actions; sound is rendered into ``temp_dir`` (one WAV file per take)."""

    def __init__(self, window, temp_dir: Path):
        super().__init__(window)
        self.window = window
        self.temp_dir = temp_dir
        self._rendering: set[str] = set()  # ids of takes whose sound is being rendered
        self._judging: set[str] = set()  # ids of takes whose style fit and originality are being found
        self._problems_shown: set[str] = set()  # analysis problems already told

    def show_take(self, take_id: str) -> None:
        """Show a take: roll, title, playback. The panel's settings stay as they are."""
        window = self.window
        take = window.history.take(take_id)
        if take is None:
            return
        piece = take.generated.piece
        window.current = take
        window.history.select(take.id)
        highlight = None
        if take.reworked:
            try:
                start, end = bar_span(list(piece.bars), *take.reworked)
                highlight = (start, end, f"new {take.reworked_text}".replace("new the ", "new "))
            except ValueError:
                pass
        window.roll.set_piece(piece, take.voices, take.voice_names, highlight)
        window.voice_legend.set_voices(take.voice_names if take.voices is not None else ())
        window.take_tools.set_bar_count(max(1, len(piece.bars) - 1))
        if take.reworked:  # the bars (and the voice) last written anew, ready to try again
            window.take_tools.show_bars(*take.reworked)
            window.take_tools.show_voice(take.reworked_voice)
        else:  # nothing chosen yet: a drag across the ruler (or the Bars boxes) chooses
            window.roll.set_selection(None)
        self._show_take_text(take)
        window.playback.set_take(take)
        if take.wav_path is None and take.id not in self._rendering:
            self._render_audio(take)
        if take.originality is None and take.generated.style_fit is None:
            self._judge(take)
        window._update_actions()

    def _judge(self, take: Take) -> None:
        """Find a take's style fit and originality in a worker, then show them on it."""
        window = self.window
        if window.analyser is None or take.id in self._judging:
            return
        self._judging.add(take.id)

        def judged(result) -> None:
            self._judging.discard(take.id)
            take.generated.style_fit, take.originality, problems = result
            live = any(t is take for t in window.history.takes)  # not deleted while it was judged
            if live and take.folder is not None and take.folder.is_dir():
                try:
                    window.store.update(take)
                except OSError:  # its folder went away meanwhile (deleted, or the window closing)
                    pass
            self.refresh(take)
            if not take.generated.stop_reason:  # that message stays in the status bar
                self.tell_problems(problems)
            window.take_analysed.emit(take)

        window.run_job(
            lambda: jobs.judge_take(window.analyser, take),
            "judge",
            judged,
            lambda message: self._judging.discard(take.id),
        )

    def tell_problems(self, problems) -> None:
        """Say once in the status bar why style fit or originality is off."""
        new = [p for p in problems or [] if p not in self._problems_shown]
        self._problems_shown.update(new)
        if new:
            self.window.statusBar().showMessage(" \u00b7 ".join(new), 10000)

    def _show_take_text(self, take: Take) -> None:
        window, generated = self.window, take.generated
        instruments = window.controls.instrument_combo
        instrument = instruments.itemText(instruments.findData(generated.program))
        details = [take.summary, f"{round(generated.tempo)} BPM"] + [text for text in (instrument, take.badges) if text]
        key_and_metre = " \u00b7 ".join(text for text in (take.key, generated.meter) if text)
        window.key_label.setText(key_and_metre)
        window.key_label.setVisible(bool(key_and_metre))
        window.piece_title.setText(f"{take.display_name} \u2014 seed {generated.request.seed}")
        window.piece_details.setText(" \u00b7 ".join(details))
        window.setWindowTitle(f"musicgen \u2014 {take.display_name}")

    def use_settings_of(self, take_id: str) -> None:
        """Fill the panel with the settings that made a take (undoable)."""
        window = self.window
        take = window.history.take(take_id)
        if take is not None and window.generator is not None:
            window.undo_stack.push(UseSettings(window, take))
            window.statusBar().showMessage(
                f"The settings of \u201c{take.display_name}\u201d are in the panel (Undo puts yours back).", 8000
            )

    def rename_take(self, take_id: str) -> None:
        """Ask for a new name (undoable)."""
        window = self.window
        take = window.history.take(take_id)
        if take is None:
            return
        name, ok = QInputDialog.getText(window, "Rename take", "Name:", text=take.display_name)
        if ok and name.strip() and name.strip() != take.display_name:
            window.undo_stack.push(RenameTake(window, take, name.strip()))

    def push(self, command, take_id: str) -> None:
        """Do ``command(window, take)`` on the undo stack, if the take is still there."""
        take = self.window.history.take(take_id)
        if take is not None:
            self.window.undo_stack.push(command(self.window, take))

    def refresh(self, take: Take) -> None:
        """Show a take's new name, star or badges in the list and, when current, in the title."""
        self.window.history.refresh(take)
        if take is self.window.current:
            self._show_take_text(take)
        self.window._update_actions()

    def hear_voices(self, audible) -> None:
        """Play only the ``audible`` voices of the current take (None = all): grey the others in the roll
        and render the sound of those heard in a worker."""
        window, take = self.window, self.window.current
        window.roll.set_audible_voices(audible)
        if take is None or take.voices is None:
            return
        if audible is None or not audible:  # every voice, or none (nothing to play)
            window.playback.use_sound(take, take.wav_path if audible is None else None)
            return
        path = self.temp_dir / f"{take.id}-voices-{'-'.join(str(v) for v in sorted(audible))}.wav"

        def rendered(result) -> None:
            if take is window.current and window.voice_legend.audible() == audible:
                window.playback.use_sound(take, Path(result[0]))

        window.playback.use_sound(take, None)  # nothing to play until the voices heard are rendered
        window.run_job(
            lambda: jobs.render_audio(take.generated, path, take.voices, only=audible),
            "audio",
            rendered,
            lambda message: window.show_error("Could not prepare the sound", message),
        )

    def _render_audio(self, take: Take) -> None:
        window = self.window
        path = self.temp_dir / f"{take.id}.wav"
        self._rendering.add(take.id)

        def rendered(result) -> None:
            self._rendering.discard(take.id)
            take.wav_path, take.audio_backend = Path(result[0]), result[1]
            if take is not window.current or window.voice_legend.audible() is None:
                window.playback.sound_ready(take)  # (voices muted meanwhile keep the sound of those heard)
            if take is window.current:  # (the status bar keeps what the take got)
                window._update_actions()
                window.audio_ready.emit(result[0])

        def failed(message: str) -> None:
            self._rendering.discard(take.id)
            window.show_error("Could not prepare the sound", f"{message} (you can still save the MIDI file)")

        window.run_job(lambda: jobs.render_audio(take.generated, path), "audio", rendered, failed)

"""The piano roll: notes as bars on a pitch/time grid, with numbered bars, zoom, a playhead, voices in
their own colours, note names on hover, and drag-out of the piece.

Time is in steps (``musicgen.music.piece.STEPS_PER_BEAT`` per quarter note), pitch in MIDI numbers. The widget
knows nothing about generation, audio or files: a click on the ruler asks to seek (``seek_requested``), a
drag across the ruler chooses whole bars (``bars_chosen``), a drag from the notes asks the window to start a file drag (``drag_requested``). Painting lives in
``roll_painting``.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt, Signal
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QToolTip

from musicgen.music.piece import MAX_PITCH, MIN_PITCH, STEPS_PER_BEAT, Note, Piece

from . import roll_painting
from .music_text import note_name, note_value
from .roll_painting import KEYBOARD_WIDTH, RULER_HEIGHT, octave_name  # noqa: F401  (octave_name: the roll's API)

MIN_ROW_HEIGHT = 7  # px per semitone
MAX_ROW_HEIGHT = 16
PITCH_PADDING = 3  # semitones shown above and below the notes
MIN_VISIBLE_PITCHES = 30
MIN_PX_PER_BEAT = 4.0  # zooming out stops here (Fit may go further, to show a whole long piece)
MAX_PX_PER_BEAT = 400.0
ZOOM_FACTOR = 1.25
PRIMER_CONTEXT_BARS = 1  # bars of the primer kept in view left of the new music
BEATS_PER_DEFAULT_BAR = 4  # bar lines when a piece carries none


class PianoRoll(QAbstractScrollArea):
    """Shows one Piece; ``seek_requested(step)`` on a ruler click, ``bars_chosen(first, last)`` while dragging
    across the ruler, ``drag_requested()`` on a drag from the grid."""

    seek_requested = Signal(int)
    bars_chosen = Signal(int, int)
    drag_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.piece: Piece | None = None
        self.voices: tuple[int, ...] | None = None  # voice of each note of ``piece`` (0 = top)
        self.voice_names: tuple[str, ...] = ()
        self.audible_voices: frozenset[int] | None = None  # voices heard in playback (None = all)
        self.highlight: tuple[int, int, str] | None = None  # (start, end) steps and a tag, e.g. new bars
        self.selection: tuple[int, int] | None = None  # whole bars (first, last) chosen, 1-based
        self.playhead: float | None = None  # steps
        self._ruler_press: QPointF | None = None  # where a press on the ruler began (a click or a drag)
        self.px_per_beat = 24.0
        self._notes_low, self._notes_high = 48, 84  # pitch range the notes need (padded)
        self._pitch_low, self._pitch_high = 48, 84  # pitch range drawn: the notes' range grown to fill the height
        self._press: QPoint | None = None  # where a press on the grid began (a drag may follow)
        self._fit_mode: str | None = None  # "whole" or "new" while the view is fitted (kept on resize)
        self.setMinimumSize(300, 200)
        self.setFrameShape(QAbstractScrollArea.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAsNeeded)
        self.viewport().setMouseTracking(False)
        self.horizontalScrollBar().valueChanged.connect(self.viewport().update)
        self.verticalScrollBar().valueChanged.connect(self.viewport().update)

    # --- content -------------------------------------------------------------------------------
    def set_piece(
        self,
        piece: Piece | None,
        voices: tuple[int, ...] | None = None,
        voice_names=(),
        highlight: tuple[int, int, str] | None = None,
    ) -> None:
        """Show ``piece`` (None clears the roll): the whole piece, or after a primer the new music.

        ``voices`` gives each note's voice (coloured apart), ``highlight`` a passage to mark."""
        self.piece = piece
        self.voices = voices if piece is not None and voices is not None and len(voices) == len(piece.notes) else None
        self.voice_names = tuple(voice_names)
        self.highlight = highlight
        self.audible_voices = None
        self.selection = None
        self.playhead = None
        if piece is not None and piece.notes:
            pitches = piece.pitches()
            low, high = min(pitches) - PITCH_PADDING, max(pitches) + PITCH_PADDING
            missing = MIN_VISIBLE_PITCHES - (high - low + 1)
            if missing > 0:
                low -= missing // 2
                high += missing - missing // 2
            self._notes_low, self._notes_high = max(MIN_PITCH, low), min(MAX_PITCH, high)
        self._fit_pitch_range()
        if piece is not None and 0 < piece.primer_end < piece.end:
            self.show_new_music()
        else:
            self.zoom_to_fit()
            self.horizontalScrollBar().setValue(0)
        self._centre_pitches()

    def voice_audible(self, voice: int) -> bool:
        return self.audible_voices is None or voice in self.audible_voices

    def set_audible_voices(self, voices) -> None:
        """Grey out the voices not heard (None = every voice heard)."""
        self.audible_voices = None if voices is None else frozenset(voices)
        self.viewport().update()

    def whole_bars(self) -> int:
        """Whole bars of the piece (the pickup, bar 0, not counted)."""
        return max(0, len(self.piece.bars) - 1) if self.piece is not None else 0

    def bar_at(self, step: float) -> int:
        """The whole bar (1-based) that ``step`` falls in: the pickup counts as bar 1, past the end as the last."""
        lines = list(self.piece.bars) if self.piece is not None else []
        for number in range(1, len(lines)):
            if step < lines[number]:
                return number
        return max(1, len(lines) - 1)

    def set_selection(self, first: int | None, last: int | None = None) -> None:
        """Shade whole bars ``first..last`` (None clears the shade)."""
        whole = self.whole_bars()
        if first is None or whole == 0:
            self.selection = None
        else:
            first = min(max(1, first), whole)
            self.selection = (first, min(max(first, last if last is not None else first), whole))
        self.viewport().update()

    def note_counts(self) -> tuple[int, int]:
        """(primer notes, generated notes) currently drawn."""
        if self.piece is None:
            return 0, 0
        primer = sum(1 for note in self.piece.notes if note.start < self.piece.primer_end)
        return primer, len(self.piece.notes) - primer

    def length_steps(self) -> int:
        """Drawn length: the piece's end (last note or closing bar line), plus one beat of air."""
        if self.piece is None:
            return 16 * STEPS_PER_BEAT
        return self.piece.end + STEPS_PER_BEAT

    def set_playhead(self, step: float | None, follow: bool = True) -> None:
        """Move the playhead to ``step`` (None hides it); scroll to keep it in view when ``follow``."""
        self.playhead = step
        if step is not None and follow:
            x = step * self._px_per_step()
            bar = self.horizontalScrollBar()
            visible = self._grid_width()
            if x < bar.value() or x > bar.value() + visible * 0.9:
                bar.setValue(int(x - visible * 0.1))
        self.viewport().update()

    def visible_steps(self) -> tuple[float, float]:
        """(first, last) step in view."""
        first = self.horizontalScrollBar().value() / self._px_per_step()
        return first, first + self._grid_width() / self._px_per_step()

    # --- zoom ----------------------------------------------------------------------------------
    def zoom_in(self) -> None:
        self._fit_mode = None
        self.set_zoom(self.px_per_beat * ZOOM_FACTOR)

    def zoom_out(self) -> None:
        self._fit_mode = None
        self.set_zoom(self.px_per_beat / ZOOM_FACTOR)

    def fit_px_per_beat(self) -> float:
        """The scale at which the whole piece fills the width."""
        return self._grid_width() / max(self.length_steps() / STEPS_PER_BEAT, 1.0)

    def zoom_to_fit(self) -> None:
        """Show the whole piece, however long."""
        self.set_zoom(self.fit_px_per_beat())
        self.horizontalScrollBar().setValue(0)
        self._fit_mode = "whole"

    def show_new_music(self) -> None:
        """After a primer: fit the new music (with a bar of the primer before it) and scroll there."""
        piece = self.piece
        before = [b for b in piece.bars if b < piece.primer_end]
        start = before[-PRIMER_CONTEXT_BARS] if len(before) >= PRIMER_CONTEXT_BARS else 0
        steps = max(STEPS_PER_BEAT, self.length_steps() - start)
        self.set_zoom(self._grid_width() / (steps / STEPS_PER_BEAT))
        self.horizontalScrollBar().setValue(round(start * self._px_per_step()))
        self._fit_mode = "new"

    def set_zoom(self, px_per_beat: float, anchor_x: float | None = None) -> None:
        """Set the horizontal scale, keeping the time under ``anchor_x`` (viewport px) in place."""
        old_step = None
        if anchor_x is not None:
            old_step = (anchor_x - KEYBOARD_WIDTH + self.horizontalScrollBar().value()) / self._px_per_step()
        lowest = min(MIN_PX_PER_BEAT, self.fit_px_per_beat())
        self.px_per_beat = min(MAX_PX_PER_BEAT, max(lowest, px_per_beat))
        self._update_scroll_ranges()
        if old_step is not None:
            self.horizontalScrollBar().setValue(int(old_step * self._px_per_step() - (anchor_x - KEYBOARD_WIDTH)))
        self.viewport().update()

    # --- geometry ------------------------------------------------------------------------------
    def _px_per_step(self) -> float:
        return self.px_per_beat / STEPS_PER_BEAT

    def _grid_width(self) -> int:
        return max(1, self.viewport().width() - KEYBOARD_WIDTH)

    def _rows(self) -> int:
        return self._pitch_high - self._pitch_low + 1

    def row_height(self) -> float:
        available = self.viewport().height() - RULER_HEIGHT
        return min(MAX_ROW_HEIGHT, max(MIN_ROW_HEIGHT, available / self._rows()))

    def _fit_pitch_range(self) -> None:
        """Grow the drawn pitch range around the notes until the rows fill the height."""
        low, high = self._notes_low, self._notes_high
        wanted = math.ceil(max(1, self.viewport().height() - RULER_HEIGHT) / MAX_ROW_HEIGHT)
        while high - low + 1 < wanted and (low > MIN_PITCH or high < MAX_PITCH):
            if high < MAX_PITCH:
                high += 1
            if high - low + 1 < wanted and low > MIN_PITCH:
                low -= 1
        self._pitch_low, self._pitch_high = low, high

    def _centre_pitches(self) -> None:
        """Scroll the notes' pitch range to the middle of the height (when it is taller)."""
        self._update_scroll_ranges()
        middle = (self._notes_low + self._notes_high) / 2
        visible = self.viewport().height() - RULER_HEIGHT
        self.verticalScrollBar().setValue(round((self._pitch_high - middle + 0.5) * self.row_height() - visible / 2))

    def _update_scroll_ranges(self) -> None:
        content_width = self.length_steps() * self._px_per_step()
        hbar = self.horizontalScrollBar()
        hbar.setRange(0, max(0, round(content_width - self._grid_width())))  # a fitted piece: 0, no scroll bar
        hbar.setPageStep(self._grid_width())
        hbar.setSingleStep(max(1, int(self.px_per_beat)))
        content_height = self._rows() * self.row_height()
        vbar = self.verticalScrollBar()
        visible = max(1, self.viewport().height() - RULER_HEIGHT)
        vbar.setRange(0, max(0, int(content_height - visible)))
        vbar.setPageStep(visible)
        vbar.setSingleStep(int(self.row_height()))

    def x_of(self, step: float) -> float:
        """Viewport x of a time in steps."""
        return KEYBOARD_WIDTH + step * self._px_per_step() - self.horizontalScrollBar().value()

    def step_at(self, x: float) -> float:
        return (x - KEYBOARD_WIDTH + self.horizontalScrollBar().value()) / self._px_per_step()

    def y_of(self, pitch: int) -> float:
        """Viewport y of the top edge of the row of ``pitch``."""
        return RULER_HEIGHT + (self._pitch_high - pitch) * self.row_height() - self.verticalScrollBar().value()

    def bar_lines(self) -> list[int]:
        if self.piece is not None and self.piece.bars:
            return list(self.piece.bars)
        bar = BEATS_PER_DEFAULT_BAR * STEPS_PER_BEAT
        return list(range(0, self.length_steps() + 1, bar))

    # --- notes under the pointer ---------------------------------------------------------------
    def note_at(self, position) -> int | None:
        """Index in ``piece.notes`` of the note drawn at viewport ``position``, or None."""
        if self.piece is None or position.x() < KEYBOARD_WIDTH or position.y() < RULER_HEIGHT:
            return None
        step = self.step_at(position.x())
        pitch = self._pitch_high - math.floor(
            (position.y() - RULER_HEIGHT + self.verticalScrollBar().value()) / self.row_height()
        )
        for index, note in enumerate(self.piece.notes):
            if note.pitch == pitch and note.start <= step < note.end:
                return index
        return None

    def note_text(self, index: int) -> str:
        """E.g. "F#4, 1/8" (with the voice's name in a piece of several voices)."""
        note: Note = self.piece.notes[index]
        text = f"{note_name(note.pitch)}, {note_value(note.duration)}"
        if self.voices is not None and self.voice_names:
            text += f" \u00b7 {self.voice_names[self.voices[index]]}"
        return text

    # --- events --------------------------------------------------------------------------------
    def viewportEvent(self, event) -> bool:
        if event.type() == QEvent.ToolTip:
            index = self.note_at(event.pos())
            if index is None:
                QToolTip.hideText()
                event.ignore()
            else:
                QToolTip.showText(event.globalPos(), self.note_text(index), self.viewport())
            return True
        return super().viewportEvent(event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_pitch_range()
        if self._fit_mode == "whole":
            self.zoom_to_fit()
        elif self._fit_mode == "new" and self.piece is not None:
            self.show_new_music()
        self._update_scroll_ranges()

    def wheelEvent(self, event) -> None:
        delta = event.angleDelta().y() or event.angleDelta().x()
        if event.modifiers() & Qt.ControlModifier:
            factor = ZOOM_FACTOR if delta > 0 else 1 / ZOOM_FACTOR
            self._fit_mode = None
            self.set_zoom(self.px_per_beat * factor, anchor_x=event.position().x())
            event.accept()
            return
        horizontal = event.modifiers() & Qt.ShiftModifier or self.verticalScrollBar().maximum() == 0
        if horizontal:
            bar = self.horizontalScrollBar()
            bar.setValue(bar.value() - delta)
            event.accept()
            return
        super().wheelEvent(event)

    def mousePressEvent(self, event) -> None:
        position = event.position()
        if self.piece is not None and position.y() < RULER_HEIGHT and position.x() > KEYBOARD_WIDTH:
            self._ruler_press = QPointF(position)  # a click seeks (on release), a drag chooses bars
            event.accept()
            return
        if self.piece is not None and event.button() == Qt.LeftButton and position.x() > KEYBOARD_WIDTH:
            self._press = position.toPoint()
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._ruler_press is not None and event.buttons() & Qt.LeftButton:
            if abs(event.position().x() - self._ruler_press.x()) >= QApplication.startDragDistance():
                self._choose_bars(self._ruler_press.x(), event.position().x())
            event.accept()
            return
        if self._press is not None and event.buttons() & Qt.LeftButton:
            if (event.position().toPoint() - self._press).manhattanLength() >= QApplication.startDragDistance():
                self._press = None
                self.drag_requested.emit()
                event.accept()
                return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        press, self._ruler_press, self._press = self._ruler_press, None, None
        if press is not None:
            if abs(event.position().x() - press.x()) < QApplication.startDragDistance():
                self.seek_requested.emit(max(0, int(self.step_at(press.x()))))
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def _choose_bars(self, x0: float, x1: float) -> None:
        """Shade the whole bars between two ruler positions and say which they are."""
        bars = sorted((self.bar_at(self.step_at(max(KEYBOARD_WIDTH, x))) for x in (x0, x1)))
        if self.selection != tuple(bars):
            self.set_selection(*bars)
            self.bars_chosen.emit(*self.selection)

    def paintEvent(self, event) -> None:
        roll_painting.paint(self)

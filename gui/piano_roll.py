"""The piano roll: notes as bars on a pitch/time grid, with bar lines, octave labels, zoom and a playhead.

Time is in steps (``musicgen.notes.STEPS_PER_BEAT`` per quarter note), pitch in MIDI numbers. The widget
paints only what is visible, so long pieces stay smooth; it knows nothing about generation or audio.
"""
from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QFont, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QAbstractScrollArea

from musicgen.notes import MAX_PITCH, MIN_PITCH, STEPS_PER_BEAT, Piece

from . import theme

KEYBOARD_WIDTH = 58  # px, the piano keys and octave labels on the left
KEY_LENGTH = 24  # px, the drawn piano keys (white); black keys are shorter
BLACK_KEY_SHARE = 0.6
RULER_HEIGHT = 26  # px, bar numbers on top
MIN_ROW_HEIGHT = 7  # px per semitone
MAX_ROW_HEIGHT = 16
PITCH_PADDING = 3  # semitones shown above and below the notes
MIN_VISIBLE_PITCHES = 30
MIN_PX_PER_BEAT = 4.0
MAX_PX_PER_BEAT = 400.0
MIN_FIT_PX_PER_BEAT = 8.0  # a fitted long piece scrolls rather than shrink notes below this
ZOOM_FACTOR = 1.25
MIN_LABEL_GAP = 30  # px between bar numbers
PRIMER_LABEL = "new music \u2192"
BEATS_PER_DEFAULT_BAR = 4  # bar lines when a piece carries none
BLACK_KEYS = {1, 3, 6, 8, 10}  # pitch classes
EMPTY_TEXT = "Pick a style and press Generate \u2014 the notes appear here."


def octave_name(pitch: int) -> str:
    """Scientific pitch name of a C: MIDI 60 -> "C4"."""
    return f"C{pitch // 12 - 1}"


class PianoRoll(QAbstractScrollArea):
    """Shows one Piece; ``seek_requested(step)`` fires when the ruler is clicked."""

    seek_requested = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.piece: Piece | None = None
        self.playhead: float | None = None  # steps
        self.px_per_beat = 24.0
        self._notes_low, self._notes_high = 48, 84  # pitch range the notes need (padded)
        self._pitch_low, self._pitch_high = 48, 84  # pitch range drawn: the notes' range grown to fill the height
        self.setMinimumSize(420, 260)
        self.setFrameShape(QAbstractScrollArea.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAsNeeded)
        self.viewport().setMouseTracking(False)
        self.horizontalScrollBar().valueChanged.connect(self.viewport().update)
        self.verticalScrollBar().valueChanged.connect(self.viewport().update)

    # --- content -------------------------------------------------------------------------------
    def set_piece(self, piece: Piece | None) -> None:
        """Show ``piece`` (None clears the roll), fitted to the width and centred on its notes."""
        self.piece = piece
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
        self.zoom_to_fit()
        self.horizontalScrollBar().setValue(0)
        self.verticalScrollBar().setValue(0)

    def note_counts(self) -> tuple[int, int]:
        """(primer notes, generated notes) currently drawn."""
        if self.piece is None:
            return 0, 0
        primer = sum(1 for note in self.piece.notes if note.start < self.piece.primer_end)
        return primer, len(self.piece.notes) - primer

    def length_steps(self) -> int:
        """Drawn length: the last note end or bar line, plus one beat of air."""
        if self.piece is None:
            return 16 * STEPS_PER_BEAT
        last_bar = self.piece.bars[-1] if self.piece.bars else 0
        return max(self.piece.length, last_bar) + STEPS_PER_BEAT

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

    # --- zoom ----------------------------------------------------------------------------------
    def zoom_in(self) -> None:
        self.set_zoom(self.px_per_beat * ZOOM_FACTOR)

    def zoom_out(self) -> None:
        self.set_zoom(self.px_per_beat / ZOOM_FACTOR)

    def zoom_to_fit(self) -> None:
        """Fit the whole piece to the width (down to a readable minimum)."""
        beats = self.length_steps() / STEPS_PER_BEAT
        self.set_zoom(max(MIN_FIT_PX_PER_BEAT, self._grid_width() / max(beats, 1.0)))

    def set_zoom(self, px_per_beat: float, anchor_x: float | None = None) -> None:
        """Set the horizontal scale, keeping the time under ``anchor_x`` (viewport px) in place."""
        old_step = None
        if anchor_x is not None:
            old_step = (anchor_x - KEYBOARD_WIDTH + self.horizontalScrollBar().value()) / self._px_per_step()
        self.px_per_beat = min(MAX_PX_PER_BEAT, max(MIN_PX_PER_BEAT, px_per_beat))
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

    def _row_height(self) -> float:
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

    def _update_scroll_ranges(self) -> None:
        content_width = self.length_steps() * self._px_per_step()
        hbar = self.horizontalScrollBar()
        hbar.setRange(0, max(0, int(content_width - self._grid_width())))
        hbar.setPageStep(self._grid_width())
        hbar.setSingleStep(max(1, int(self.px_per_beat)))
        content_height = self._rows() * self._row_height()
        vbar = self.verticalScrollBar()
        visible = max(1, self.viewport().height() - RULER_HEIGHT)
        vbar.setRange(0, max(0, int(content_height - visible)))
        vbar.setPageStep(visible)
        vbar.setSingleStep(int(self._row_height()))

    def _x(self, step: float) -> float:
        return KEYBOARD_WIDTH + step * self._px_per_step() - self.horizontalScrollBar().value()

    def _y(self, pitch: int) -> float:
        """Top edge of the row of ``pitch``."""
        return RULER_HEIGHT + (self._pitch_high - pitch) * self._row_height() - self.verticalScrollBar().value()

    def _bar_lines(self) -> list[int]:
        if self.piece is not None and self.piece.bars:
            return list(self.piece.bars)
        bar = BEATS_PER_DEFAULT_BAR * STEPS_PER_BEAT
        return list(range(0, self.length_steps() + 1, bar))

    # --- events --------------------------------------------------------------------------------
    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_pitch_range()
        self._update_scroll_ranges()

    def wheelEvent(self, event) -> None:
        delta = event.angleDelta().y() or event.angleDelta().x()
        if event.modifiers() & Qt.ControlModifier:
            factor = ZOOM_FACTOR if delta > 0 else 1 / ZOOM_FACTOR
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
            step = (position.x() - KEYBOARD_WIDTH + self.horizontalScrollBar().value()) / self._px_per_step()
            self.seek_requested.emit(max(0, int(step)))
            event.accept()
            return
        super().mousePressEvent(event)

    # --- drawing -------------------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        painter = QPainter(self.viewport())
        painter.setRenderHint(QPainter.Antialiasing, True)
        width, height = self.viewport().width(), self.viewport().height()
        painter.fillRect(0, 0, width, height, theme.ROLL_BACKGROUND)
        self._draw_rows(painter, width)
        self._draw_time_lines(painter, height)
        if self.piece is not None:
            self._draw_primer_region(painter, height)
            self._draw_notes(painter, width, height)
            self._draw_primer_label(painter)
        else:
            painter.setPen(theme.MUTED_TEXT)
            painter.drawText(QRectF(KEYBOARD_WIDTH, RULER_HEIGHT, width - KEYBOARD_WIDTH, height - RULER_HEIGHT),
                             Qt.AlignCenter, EMPTY_TEXT)
        self._draw_keyboard(painter, height)
        self._draw_ruler(painter, width)
        self._draw_playhead(painter, height)
        painter.end()

    def _draw_rows(self, painter: QPainter, width: int) -> None:
        row = self._row_height()
        for pitch in range(self._pitch_low, self._pitch_high + 1):
            y = self._y(pitch)
            if pitch % 12 in BLACK_KEYS:
                painter.fillRect(QRectF(KEYBOARD_WIDTH, y, width, row), theme.ROLL_BLACK_KEY_ROW)
            if pitch % 12 == 0:  # line under every C: the octave boundary
                painter.setPen(QPen(theme.ROLL_OCTAVE_LINE, 1))
                painter.drawLine(QPointF(KEYBOARD_WIDTH, y + row), QPointF(width, y + row))

    def _draw_time_lines(self, painter: QPainter, height: int) -> None:
        left, right = KEYBOARD_WIDTH, self.viewport().width()
        if self.px_per_beat >= 8:
            painter.setPen(QPen(theme.ROLL_BEAT_LINE, 1))
            first = int(self.horizontalScrollBar().value() / self._px_per_step()) // STEPS_PER_BEAT
            step = first * STEPS_PER_BEAT
            while self._x(step) <= right:
                if self._x(step) >= left:
                    painter.drawLine(QPointF(self._x(step), RULER_HEIGHT), QPointF(self._x(step), height))
                step += STEPS_PER_BEAT
        painter.setPen(QPen(theme.ROLL_BAR_LINE, 1))
        for bar in self._bar_lines():
            x = self._x(bar)
            if left <= x <= right:
                painter.drawLine(QPointF(x, RULER_HEIGHT), QPointF(x, height))

    def _draw_primer_region(self, painter: QPainter, height: int) -> None:
        end = self.piece.primer_end
        if end <= 0:
            return
        x0, x1 = max(KEYBOARD_WIDTH, self._x(0)), self._x(end)
        if x1 > x0:
            painter.fillRect(QRectF(x0, RULER_HEIGHT, x1 - x0, height - RULER_HEIGHT), theme.ROLL_PRIMER_SHADE)
        if x1 >= KEYBOARD_WIDTH:
            painter.setPen(QPen(theme.PRIMER_MARKER, 2, Qt.DashLine))
            painter.drawLine(QPointF(x1, RULER_HEIGHT), QPointF(x1, height))

    def _draw_primer_label(self, painter: QPainter) -> None:
        """A small tag right of the primer marker, over the notes."""
        x1 = self._x(self.piece.primer_end)
        if self.piece.primer_end > 0 and x1 >= KEYBOARD_WIDTH:
            font = QFont(self.font())
            font.setPointSizeF(8.5)
            painter.setFont(font)
            label = QRectF(x1 + 4, RULER_HEIGHT + 4, painter.fontMetrics().horizontalAdvance(PRIMER_LABEL) + 12, 18)
            painter.setPen(Qt.NoPen)
            painter.setBrush(theme.PRIMER_MARKER.darker(250))
            painter.drawRoundedRect(label, 9, 9)
            painter.setPen(theme.PRIMER_MARKER)
            painter.drawText(label, Qt.AlignCenter, PRIMER_LABEL)

    def _draw_notes(self, painter: QPainter, width: int, height: int) -> None:
        row = self._row_height()
        pps = self._px_per_step()
        first_visible = (self.horizontalScrollBar().value()) / pps
        last_visible = first_visible + width / pps
        primer_end = self.piece.primer_end
        for note in self.piece.notes:
            if note.end < first_visible or note.start > last_visible:
                continue
            if not self._pitch_low <= note.pitch <= self._pitch_high:
                continue
            colour = theme.NOTE_PRIMER if note.start < primer_end else theme.NOTE_GENERATED
            rect = QRectF(self._x(note.start) + 0.5, self._y(note.pitch) + 1,
                          max(2.0, note.duration * pps - 1.5), max(2.0, row - 2))
            painter.setPen(QPen(colour.darker(160), 1))
            painter.setBrush(QBrush(colour))
            painter.drawRoundedRect(rect, 2, 2)

    def _draw_keyboard(self, painter: QPainter, height: int) -> None:
        row = self._row_height()
        painter.fillRect(QRectF(0, RULER_HEIGHT, KEYBOARD_WIDTH, height), theme.RULER)
        key_left = KEYBOARD_WIDTH - KEY_LENGTH  # the keys sit against the grid, labels to their left
        top, bottom = self._y(self._pitch_high), self._y(self._pitch_low) + row
        painter.fillRect(QRectF(key_left, top, KEY_LENGTH, bottom - top), theme.KEY_WHITE)
        font = QFont(self.font())
        font.setPointSizeF(7.5 if row < 10 else 8.5)
        painter.setFont(font)
        for pitch in range(self._pitch_low, self._pitch_high + 1):
            y = self._y(pitch)
            if pitch % 12 in BLACK_KEYS:
                painter.fillRect(QRectF(key_left, y + 1, KEY_LENGTH * BLACK_KEY_SHARE, row - 2), theme.KEY_BLACK)
            elif pitch % 12 in (0, 5):  # the white-white joins below C and F
                painter.setPen(QPen(theme.MUTED_TEXT, 1))
                painter.drawLine(QPointF(key_left, y + row), QPointF(KEYBOARD_WIDTH, y + row))
            if pitch % 12 == 0:
                painter.setPen(theme.TEXT)
                painter.drawText(QRectF(2, y - 4, key_left - 5, row + 8), Qt.AlignRight | Qt.AlignVCenter,
                                 octave_name(pitch))

    def _draw_ruler(self, painter: QPainter, width: int) -> None:
        painter.fillRect(QRectF(0, 0, width, RULER_HEIGHT), theme.RULER)
        painter.setPen(QPen(theme.ROLL_OCTAVE_LINE, 1))
        painter.drawLine(QPointF(0, RULER_HEIGHT - 0.5), QPointF(width, RULER_HEIGHT - 0.5))
        font = QFont(self.font())
        font.setPointSizeF(8.5)
        painter.setFont(font)
        last_label_x = -math.inf
        for index, bar in enumerate(self._bar_lines()):
            x = self._x(bar)
            if x < KEYBOARD_WIDTH - 1 or x > width:
                continue
            painter.setPen(QPen(theme.ROLL_BAR_LINE, 1))
            painter.drawLine(QPointF(x, RULER_HEIGHT - 8), QPointF(x, RULER_HEIGHT))
            if x - last_label_x >= MIN_LABEL_GAP:  # keep bar numbers apart when zoomed out
                last_label_x = x
                painter.setPen(theme.MUTED_TEXT)
                painter.drawText(QRectF(x + 3, 0, 60, RULER_HEIGHT - 4), Qt.AlignLeft | Qt.AlignVCenter,
                                 str(index + 1))
        painter.fillRect(QRectF(0, 0, KEYBOARD_WIDTH, RULER_HEIGHT), theme.RULER)
        painter.setPen(theme.MUTED_TEXT)
        painter.drawText(QRectF(4, 0, KEYBOARD_WIDTH - 8, RULER_HEIGHT - 4), Qt.AlignLeft | Qt.AlignVCenter, "Bar")

    def _draw_playhead(self, painter: QPainter, height: int) -> None:
        if self.playhead is None:
            return
        x = self._x(self.playhead)
        if x < KEYBOARD_WIDTH or x > self.viewport().width():
            return
        painter.setPen(QPen(theme.PLAYHEAD, 2))
        painter.drawLine(QPointF(x, RULER_HEIGHT), QPointF(x, height))
        painter.setBrush(theme.PLAYHEAD)
        painter.setPen(Qt.NoPen)
        painter.drawPolygon(QPolygonF([QPointF(x - 6, RULER_HEIGHT - 10), QPointF(x + 6, RULER_HEIGHT - 10),
                                       QPointF(x, RULER_HEIGHT)]))

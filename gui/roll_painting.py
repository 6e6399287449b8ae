"""Painting the piano roll (``piano_roll.PianoRoll``): rows, bar lines, notes, tags, keys, ruler, playhead.

Only what is visible is drawn, so long pieces stay smooth. Reads the roll's state; changes nothing.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QFont, QPainter, QPen, QPolygonF

from musicgen.music.piece import STEPS_PER_BEAT

from . import theme
from .music_text import bar_span, ruler_labels

KEYBOARD_WIDTH = 58  # px, the piano keys and octave labels on the left
RULER_HEIGHT = 26  # px, bar numbers on top
KEY_LENGTH = 24  # px, the drawn piano keys (white); black keys are shorter
BLACK_KEY_SHARE = 0.6
BLACK_KEYS = {1, 3, 6, 8, 10}  # pitch classes
MIN_LABEL_GAP = 30  # px between bar numbers
MIN_BEAT_LINE_PX = 8  # beat lines are drawn when beats are at least this far apart
PRIMER_LABEL = "new music \u2192"
EMPTY_TEXT = "Pick a style and press Generate \u2014 the notes appear here."
TAG_HEIGHT = 18  # px


def octave_name(pitch: int) -> str:
    """Scientific pitch name of a C: MIDI 60 -> "C4"."""
    return f"C{pitch // 12 - 1}"


def paint(roll) -> None:
    """Paint the whole visible roll."""
    painter = QPainter(roll.viewport())
    painter.setRenderHint(QPainter.Antialiasing, True)
    width, height = roll.viewport().width(), roll.viewport().height()
    painter.fillRect(0, 0, width, height, theme.ROLL_BACKGROUND)
    _rows(roll, painter, width)
    _time_lines(roll, painter, height)
    if roll.piece is not None:
        _region(roll, painter, height, 0, roll.piece.primer_end, theme.ROLL_PRIMER_SHADE, theme.PRIMER_MARKER)
        if roll.highlight is not None:
            _region(
                roll,
                painter,
                height,
                roll.highlight[0],
                roll.highlight[1],
                theme.ROLL_HIGHLIGHT_SHADE,
                theme.HIGHLIGHT_MARKER,
            )
        selection = _selection_span(roll)
        if selection is not None:
            _region(roll, painter, height, *selection[:2], theme.ROLL_SELECTION_SHADE, theme.SELECTION_MARKER)
        _notes(roll, painter, width)
        tags = [(selection[0], selection[2], selection[3])] if selection is not None else []
        if roll.piece.primer_end > 0:
            tags.append((roll.piece.primer_end, PRIMER_LABEL, theme.PRIMER_MARKER))
        if roll.highlight is not None:
            tags.append((roll.highlight[0], roll.highlight[2], theme.HIGHLIGHT_MARKER))
        parts = roll.piece.meta.get("parts") or []
        if len(parts) > 1:
            tags.extend((part["start"], part["label"], theme.PART_MARKER) for part in parts)
        _tags(roll, painter, tags)
    else:
        painter.setPen(theme.MUTED_TEXT)
        painter.drawText(
            QRectF(KEYBOARD_WIDTH, RULER_HEIGHT, width - KEYBOARD_WIDTH, height - RULER_HEIGHT),
            Qt.AlignCenter | Qt.TextWordWrap,
            EMPTY_TEXT,
        )
    _keyboard(roll, painter, height)
    _ruler(roll, painter, width)
    _playhead(roll, painter, height)
    painter.end()


def _selection_span(roll) -> tuple[int, int, str, object] | None:
    """(start, end, tag, colour) of the bars chosen on the ruler or in the Bars boxes, if any."""
    if roll.selection is None:
        return None
    first, last = roll.selection
    try:
        start, end = bar_span(list(roll.piece.bars), first, last)
    except ValueError:
        return None
    return start, end, f"bar {first}" if first == last else f"bars {first}\u2013{last}", theme.SELECTION_MARKER


def _rows(roll, painter: QPainter, width: int) -> None:
    row = roll.row_height()
    for pitch in range(roll._pitch_low, roll._pitch_high + 1):
        y = roll.y_of(pitch)
        if pitch % 12 in BLACK_KEYS:
            painter.fillRect(QRectF(KEYBOARD_WIDTH, y, width, row), theme.ROLL_BLACK_KEY_ROW)
        if pitch % 12 == 0:  # line under every C: the octave boundary
            painter.setPen(QPen(theme.ROLL_OCTAVE_LINE, 1))
            painter.drawLine(QPointF(KEYBOARD_WIDTH, y + row), QPointF(width, y + row))


def _time_lines(roll, painter: QPainter, height: int) -> None:
    left, right = KEYBOARD_WIDTH, roll.viewport().width()
    if roll.px_per_beat >= MIN_BEAT_LINE_PX:
        painter.setPen(QPen(theme.ROLL_BEAT_LINE, 1))
        step = int(roll.visible_steps()[0]) // STEPS_PER_BEAT * STEPS_PER_BEAT
        while roll.x_of(step) <= right:
            if roll.x_of(step) >= left:
                painter.drawLine(QPointF(roll.x_of(step), RULER_HEIGHT), QPointF(roll.x_of(step), height))
            step += STEPS_PER_BEAT
    painter.setPen(QPen(theme.ROLL_BAR_LINE, 1))
    for bar in roll.bar_lines():
        x = roll.x_of(bar)
        if left <= x <= right:
            painter.drawLine(QPointF(x, RULER_HEIGHT), QPointF(x, height))


def _region(roll, painter: QPainter, height: int, start: int, end: int, shade, marker) -> None:
    """Shade steps start..end and draw a dashed line where it ends."""
    if end <= start:
        return
    x0, x1 = max(KEYBOARD_WIDTH, roll.x_of(start)), roll.x_of(end)
    if x1 > x0:
        painter.fillRect(QRectF(x0, RULER_HEIGHT, x1 - x0, height - RULER_HEIGHT), shade)
    painter.setPen(QPen(marker, 2, Qt.DashLine))
    for x in (roll.x_of(start) if start > 0 else None, x1):
        if x is not None and x >= KEYBOARD_WIDTH:
            painter.drawLine(QPointF(x, RULER_HEIGHT), QPointF(x, height))


def _tags(roll, painter: QPainter, tags: list) -> None:
    """Small rounded labels at the top of the grid, right of their step; later tags never cover earlier ones."""
    font = QFont(roll.font())
    font.setPointSizeF(8.5)
    painter.setFont(font)
    taken_until = {0: -1.0, 1: -1.0}  # two lanes of tags: right edge of the last tag in each
    for step, text, colour in sorted(tags, key=lambda tag: tag[0]):
        x = roll.x_of(step) + 4
        width = painter.fontMetrics().horizontalAdvance(text) + 12
        if x < KEYBOARD_WIDTH or x > roll.viewport().width():
            continue
        lane = next((lane for lane, right in taken_until.items() if x > right + 2), None)
        if lane is None:
            continue
        taken_until[lane] = x + width
        label = QRectF(x, RULER_HEIGHT + 4 + lane * (TAG_HEIGHT + 3), width, TAG_HEIGHT)
        painter.setPen(Qt.NoPen)
        painter.setBrush(colour.darker(250))
        painter.drawRoundedRect(label, 9, 9)
        painter.setPen(colour)
        painter.drawText(label, Qt.AlignCenter, text)


def _notes(roll, painter: QPainter, width: int) -> None:
    """The visible notes as rounded bars, grouped by colour so each colour sets pen and brush once."""
    row = roll.row_height()
    pps = roll.px_per_beat / STEPS_PER_BEAT
    first_visible, last_visible = roll.visible_steps()
    primer_end = roll.piece.primer_end
    voices = roll.voices
    by_colour: dict[str, tuple] = {}  # colour name -> (QColor, [QRectF])
    for index, note in enumerate(roll.piece.notes):
        if note.end < first_visible or note.start > last_visible:
            continue
        if not roll._pitch_low <= note.pitch <= roll._pitch_high:
            continue
        if voices is not None and not roll.voice_audible(voices[index]):
            colour = theme.NOTE_MUTED
        elif note.start < primer_end:
            colour = theme.NOTE_PRIMER
        elif voices is not None:
            colour = theme.VOICE_COLOURS[voices[index] % len(theme.VOICE_COLOURS)]
        else:
            colour = theme.NOTE_GENERATED
        rect = QRectF(
            roll.x_of(note.start) + 0.5,
            roll.y_of(note.pitch) + 1,
            max(2.0, note.duration * pps - 1.5),
            max(2.0, row - 2),
        )
        by_colour.setdefault(colour.name(), (colour, []))[1].append(rect)
    for colour, rects in by_colour.values():
        painter.setPen(QPen(colour.darker(160), 1))
        painter.setBrush(QBrush(colour))
        for rect in rects:
            painter.drawRoundedRect(rect, 2, 2)


def _keyboard(roll, painter: QPainter, height: int) -> None:
    row = roll.row_height()
    painter.fillRect(QRectF(0, RULER_HEIGHT, KEYBOARD_WIDTH, height), theme.RULER)
    key_left = KEYBOARD_WIDTH - KEY_LENGTH  # the keys sit against the grid, labels to their left
    top, bottom = roll.y_of(roll._pitch_high), roll.y_of(roll._pitch_low) + row
    painter.fillRect(QRectF(key_left, top, KEY_LENGTH, bottom - top), theme.KEY_WHITE)
    font = QFont(roll.font())
    font.setPointSizeF(7.5 if row < 10 else 8.5)
    painter.setFont(font)
    for pitch in range(roll._pitch_low, roll._pitch_high + 1):
        y = roll.y_of(pitch)
        if pitch % 12 in BLACK_KEYS:
            painter.fillRect(QRectF(key_left, y + 1, KEY_LENGTH * BLACK_KEY_SHARE, row - 2), theme.KEY_BLACK)
        elif pitch % 12 in (0, 5):  # the white-white joins below C and F
            painter.setPen(QPen(theme.MUTED_TEXT, 1))
            painter.drawLine(QPointF(key_left, y + row), QPointF(KEYBOARD_WIDTH, y + row))
        if pitch % 12 == 0:
            painter.setPen(theme.TEXT)
            painter.drawText(
                QRectF(2, y - 4, key_left - 5, row + 8), Qt.AlignRight | Qt.AlignVCenter, octave_name(pitch)
            )


def _ruler(roll, painter: QPainter, width: int) -> None:
    painter.fillRect(QRectF(0, 0, width, RULER_HEIGHT), theme.RULER)
    painter.setPen(QPen(theme.ROLL_OCTAVE_LINE, 1))
    painter.drawLine(QPointF(0, RULER_HEIGHT - 0.5), QPointF(width, RULER_HEIGHT - 0.5))
    font = QFont(roll.font())
    font.setPointSizeF(8.5)
    painter.setFont(font)
    painter.setPen(QPen(theme.ROLL_BAR_LINE, 1))
    for bar in roll.bar_lines():
        x = roll.x_of(bar)
        if KEYBOARD_WIDTH - 1 <= x <= width:
            painter.drawLine(QPointF(x, RULER_HEIGHT - 8), QPointF(x, RULER_HEIGHT))
    painter.setPen(theme.MUTED_TEXT)
    for step, number in ruler_labels(roll.bar_lines(), roll.px_per_beat / STEPS_PER_BEAT, MIN_LABEL_GAP):
        x = roll.x_of(step)
        if KEYBOARD_WIDTH - 1 <= x <= width:
            painter.drawText(
                QRectF(x + 3, 0, MIN_LABEL_GAP * 2, RULER_HEIGHT - 4), Qt.AlignLeft | Qt.AlignVCenter, str(number)
            )
    painter.fillRect(QRectF(0, 0, KEYBOARD_WIDTH, RULER_HEIGHT), theme.RULER)
    painter.drawText(QRectF(4, 0, KEYBOARD_WIDTH - 8, RULER_HEIGHT - 4), Qt.AlignLeft | Qt.AlignVCenter, "Bar")


def _playhead(roll, painter: QPainter, height: int) -> None:
    if roll.playhead is None:
        return
    x = roll.x_of(roll.playhead)
    if x < KEYBOARD_WIDTH or x > roll.viewport().width():
        return
    painter.setPen(QPen(theme.PLAYHEAD, 2))
    painter.drawLine(QPointF(x, RULER_HEIGHT), QPointF(x, height))
    painter.setBrush(theme.PLAYHEAD)
    painter.setPen(Qt.NoPen)
    painter.drawPolygon(
        QPolygonF([QPointF(x - 6, RULER_HEIGHT - 10), QPointF(x + 6, RULER_HEIGHT - 10), QPointF(x, RULER_HEIGHT)])
    )

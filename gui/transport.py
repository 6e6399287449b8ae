"""The transport row under the roll: Play/Pause, Stop, the time, and zoom; and the take tools row:
regenerate some bars (every voice, or one voice of a four-voice take), continue the take, undo and redo.

Plain widgets with signals; the window decides what the buttons do and when they are enabled.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QStyle, QToolButton, QWidget

PLAY_MIN_WIDTH = 88  # px: "Pause" fits without the button changing size
TIME_MIN_WIDTH = 84  # px: "12:05 / 12:05"
VOICE_CHOICES = ("all voices", "soprano", "alto", "tenor", "bass")  # the Voice box: every voice, or voice 0..3


class TransportBar(QWidget):
    """Play, Stop, the time "0:12 / 0:34" and zoom out / fit / in."""

    def __init__(self, parent=None):
        super().__init__(parent)
        style = self.style()
        self.play_button = QPushButton(style.standardIcon(QStyle.SP_MediaPlay), "Play")
        self.play_button.setToolTip("Play / pause (Space)")
        self.play_button.setMinimumWidth(PLAY_MIN_WIDTH)
        self.stop_button = QPushButton(style.standardIcon(QStyle.SP_MediaStop), "Stop")
        self.stop_button.setToolTip("Stop and go back to the start (Ctrl+.)")
        self.loop_button = QToolButton()
        self.loop_button.setText("\u21bb Loop")
        self.loop_button.setCheckable(True)
        self.loop_button.setToolTip("Play the chosen bars over and over (drag across the bar ruler to choose) (Ctrl+L)")
        self.time_label = QLabel("0:00 / 0:00")
        self.time_label.setMinimumWidth(TIME_MIN_WIDTH)
        self.zoom_out_button = QToolButton()
        self.zoom_out_button.setText("\u2212")
        self.zoom_out_button.setToolTip("Zoom out (Ctrl+wheel, Ctrl+-)")
        self.zoom_fit_button = QToolButton()
        self.zoom_fit_button.setText("Fit")
        self.zoom_fit_button.setToolTip("Show the whole piece (Ctrl+0)")
        self.zoom_in_button = QToolButton()
        self.zoom_in_button.setText("+")
        self.zoom_in_button.setToolTip("Zoom in (Ctrl+wheel, Ctrl++)")
        zoom_caption = QLabel("Zoom")
        zoom_caption.setObjectName("hint")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.play_button, self.stop_button, self.loop_button, self.time_label):
            layout.addWidget(widget)
        layout.addStretch(1)
        for widget in (zoom_caption, self.zoom_out_button, self.zoom_fit_button, self.zoom_in_button):
            layout.addWidget(widget)

    def show_playing(self, playing: bool) -> None:
        self.play_button.setText("Pause" if playing else "Play")
        self.play_button.setIcon(self.style().standardIcon(QStyle.SP_MediaPause if playing else QStyle.SP_MediaPlay))


class TakeTools(QWidget):
    """``regenerate_requested(first, last)``, ``continue_requested()``, ``bars_changed(first, last)`` when the
    Bars boxes change; the Voice box says which voice Regenerate writes anew (``chosen_voice``); Undo and
    Redo work an undo stack."""

    regenerate_requested = Signal(int, int)
    bars_changed = Signal(int, int)
    continue_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.first_spin = QSpinBox()
        self.last_spin = QSpinBox()
        for spin, what in ((self.first_spin, "First"), (self.last_spin, "Last")):
            spin.setRange(1, 1)
            spin.setToolTip(f"{what} bar to write anew (bar 1 is the first whole bar; the pickup is bar 0)")
        self.first_spin.valueChanged.connect(lambda v: self.last_spin.setValue(max(v, self.last_spin.value())))
        self.last_spin.valueChanged.connect(lambda v: self.first_spin.setValue(min(v, self.first_spin.value())))
        for spin in (self.first_spin, self.last_spin):
            spin.valueChanged.connect(lambda: self.bars_changed.emit(self.first_spin.value(), self.last_spin.value()))
        self.regenerate_button = QPushButton("Regenerate")
        self.regenerate_button.setToolTip("Write these bars anew and keep every other note (a new take)")
        self.regenerate_button.clicked.connect(
            lambda: self.regenerate_requested.emit(self.first_spin.value(), self.last_spin.value())
        )
        self.voice_combo = QComboBox()
        for index, name in enumerate(VOICE_CHOICES):
            self.voice_combo.addItem(name, None if index == 0 else index - 1)
        self.voice_combo.setAccessibleName("Voice")  # (no caption beside it: the row must fit 800 px)
        self.voice_combo.setToolTip("Regenerate writes every voice anew, or only this one (four-voice takes)")
        self.continue_button = QPushButton("Continue")
        self.continue_button.setToolTip(
            "Add new music after the end of this take (a new take, as long as the Length box says)"
        )
        self.continue_button.clicked.connect(self.continue_requested)
        self.undo_button = QToolButton()
        self.undo_button.setText("Undo")
        self.redo_button = QToolButton()
        self.redo_button.setText("Redo")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        bars = QLabel("Bars")
        bars.setObjectName("hint")
        dash = QLabel("\u2013")
        for widget in (bars, self.first_spin, dash, self.last_spin, self.voice_combo, self.regenerate_button):
            layout.addWidget(widget)
        layout.addWidget(self.continue_button)
        layout.addStretch(1)
        layout.addWidget(self.undo_button)
        layout.addWidget(self.redo_button)

    def set_bar_count(self, bars: int) -> None:
        """Offer bars 1..``bars`` (keeping the choice where it still fits)."""
        for spin in (self.first_spin, self.last_spin):
            spin.setRange(1, max(1, bars))

    def show_bars(self, first: int, last: int) -> None:
        """Put bars ``first..last`` in the Bars boxes."""
        self.last_spin.setValue(last)
        self.first_spin.setValue(first)

    def chosen_voice(self) -> int | None:
        """The voice Regenerate writes anew (0 = soprano .. 3 = bass), None for every voice or when the
        Voice box is off (a take in one line)."""
        return self.voice_combo.currentData() if self.voice_combo.isEnabled() else None

    def show_voice(self, voice: int | None) -> None:
        """Put ``voice`` (None = all) in the Voice box."""
        self.voice_combo.setCurrentIndex(0 if voice is None else voice + 1)

    def bind_undo(self, stack) -> None:
        """Make the row's Undo and Redo buttons work ``stack`` (a QUndoStack); tooltips say what they undo."""
        self.undo_button.clicked.connect(stack.undo)
        self.redo_button.clicked.connect(stack.redo)

        def update() -> None:
            if not shiboken6.isValid(stack) or not shiboken6.isValid(self):
                return  # the window is being taken down
            self.undo_button.setEnabled(stack.canUndo())
            self.redo_button.setEnabled(stack.canRedo())
            self.undo_button.setToolTip(f"Undo {stack.undoText()} (Ctrl+Z)" if stack.canUndo() else "Nothing to undo")
            self.redo_button.setToolTip(
                f"Redo {stack.redoText()} (Ctrl+Shift+Z)" if stack.canRedo() else "Nothing to redo"
            )

        stack.indexChanged.connect(update)
        update()

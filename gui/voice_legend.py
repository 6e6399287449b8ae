"""The voice legend under the roll: each voice of a chorale or a Palestrina piece in its colour, with
Mute (M) and Solo (S) for playback. A plain widget: ``audible_changed(voices)`` gives the voices heard
(None = all of them), and the window decides what that changes."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from . import theme


class VoiceLegend(QWidget):
    """Voice names in their roll colours, each with Mute and Solo; hidden for a piece in one line."""

    audible_changed = Signal(object)  # frozenset of voice indexes heard, or None for every voice

    def __init__(self, parent=None):
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self.names: tuple[str, ...] = ()
        self.mute_buttons: list[QToolButton] = []
        self.solo_buttons: list[QToolButton] = []
        self.hide()

    def set_voices(self, names) -> None:
        """Show ``names`` (top voice first), every voice heard; no names hides the legend."""
        while self._layout.count():
            widget = self._layout.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        self.names, self.mute_buttons, self.solo_buttons = tuple(names), [], []
        caption = QLabel("Voices")
        caption.setObjectName("hint")
        self._layout.addWidget(caption)
        for index, name in enumerate(self.names):
            colour = theme.VOICE_COLOURS[index % len(theme.VOICE_COLOURS)].name()
            chip = QLabel(f"<span style='color:{colour}'>\u25a0</span> {name}")
            chip.setToolTip(f"{name}: the notes drawn in this colour")
            self._layout.addWidget(chip)
            for text, tip, buttons in (("M", "Mute", self.mute_buttons), ("S", "Solo", self.solo_buttons)):
                button = QToolButton()
                button.setText(text)
                button.setCheckable(True)
                button.setToolTip(f"{tip} the {name.lower()} when playing")
                button.toggled.connect(lambda _=False: self.audible_changed.emit(self.audible()))
                buttons.append(button)
                self._layout.addWidget(button)
        self._layout.addStretch(1)
        self.setVisible(bool(self.names))

    def audible(self) -> frozenset | None:
        """The voices heard: the soloed ones if any, else all but the muted ones (None = every voice)."""
        soloed = {index for index, button in enumerate(self.solo_buttons) if button.isChecked()}
        if soloed:
            return frozenset(soloed)
        muted = {index for index, button in enumerate(self.mute_buttons) if button.isChecked()}
        return frozenset(set(range(len(self.names))) - muted) if muted else None

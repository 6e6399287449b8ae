"""The Help menu's pages: every keyboard shortcut of the window, and a few words about the app."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout

TIPS = (
    "Click the bar ruler to move the playhead, drag across it to choose bars to regenerate; drag the notes or a take onto a DAW or a folder to get "
    "its MIDI file; Ctrl+wheel zooms, Shift+wheel scrolls."
)


def shortcut_rows(actions) -> list[tuple[str, str]]:
    """(what it does, its keys) for each action with a shortcut, in menu order."""
    rows = []
    for action in actions:
        keys = ", ".join(s.toString(QKeySequence.NativeText) for s in action.shortcuts() if not s.isEmpty())
        if keys:
            rows.append((action.text().replace("&", "").rstrip("\u2026"), keys))
    return rows


class ShortcutsDialog(QDialog):
    """A table of the window's shortcuts."""

    def __init__(self, actions, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(actions)
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(["Action", "Keys"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        for row, (text, keys) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(text))
            self.table.setItem(row, 1, QTableWidgetItem(keys))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        tips = QLabel(TIPS)
        tips.setWordWrap(True)
        tips.setObjectName("hint")
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(tips)
        layout.addWidget(buttons)
        self.resize(460, 520)


ABOUT_TEXT = (
    "<b>musicgen</b> {version} composes new music in a chosen style with a genre-conditioned LSTM. "
    "Music from the shipped model is trained on the music21 corpus; treat it as non-commercial."
)


def about_text() -> str:
    """The About box: what the app is, and its version."""
    from musicgen import __version__

    return ABOUT_TEXT.format(version=__version__)

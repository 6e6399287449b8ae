"""The session history: every piece generated since the app started, newest first; click one to bring it back."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget


def format_duration(seconds: float) -> str:
    """0:34, 12:05."""
    seconds = max(0, round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


@dataclass
class HistoryEntry:
    """One generated piece and what the session made from it."""

    generated: object  # musicgen.generate.GeneratedPiece
    title: str  # e.g. "Irish reels 70% + Bach chorales 30%"
    primer_summary: str = ""
    wav_path: Path | None = None  # rendered audio, once ready
    audio_backend: str = ""
    created: float = field(default_factory=time.time)

    @property
    def summary(self) -> str:
        """E.g. "seed 7 · 16 bars · 0:34" (with the primer's name when it continues one)."""
        generated = self.generated
        bars = max(0, len(generated.piece.bars) - 1)
        parts = [f"seed {generated.request.seed}", f"{bars} bars" if bars else f"{len(generated.piece.notes)} notes",
                 format_duration(generated.duration_seconds)]
        if generated.request.primer:
            parts.insert(0, f"continues {Path(generated.request.primer).name}")
        return " \u00b7 ".join(parts)

    @property
    def subtitle(self) -> str:
        """The summary and the time it was made."""
        return f"{self.summary} \u00b7 {time.strftime('%H:%M', time.localtime(self.created))}"


class HistoryPanel(QWidget):
    """A list of HistoryEntry; ``entry_chosen(index)`` fires when the musician clicks one."""

    entry_chosen = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.entries: list[HistoryEntry] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel("This session")
        title.setObjectName("hint")
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.list.setToolTip("Every piece made since the app started; click one to see, hear or save it again")
        self.empty_label = QLabel("Pieces you generate\nare kept here.")
        self.empty_label.setObjectName("hint")
        self.empty_label.setAlignment(Qt.AlignCenter)
        layout.addWidget(title)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty_label)
        self.list.itemClicked.connect(self._clicked)
        self.list.itemActivated.connect(self._clicked)

    def add(self, entry: HistoryEntry) -> int:
        """Append an entry, show it on top and select it; returns its index."""
        self.entries.append(entry)
        index = len(self.entries) - 1
        item = QListWidgetItem(f"{entry.title}\n{entry.subtitle}")
        item.setData(Qt.UserRole, index)
        item.setToolTip(f"{entry.title}\n{entry.subtitle}")
        self.list.insertItem(0, item)
        self.list.setCurrentItem(item)
        self.empty_label.hide()
        return index

    def select(self, index: int) -> None:
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.UserRole) == index:
                self.list.setCurrentRow(row)

    def _clicked(self, item: QListWidgetItem) -> None:
        self.entry_chosen.emit(int(item.data(Qt.UserRole)))

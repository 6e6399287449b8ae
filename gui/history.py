"""The takes list: every piece kept (newest first), with star, rename, delete and "Use these
settings"; drag a take out onto a DAW, a folder or the desktop as its MIDI file.

The panel shows takes and reports what the musician asks for (signals named as requests); the
window does the work, so that Undo can reverse it.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, QUrl, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .takes import Take

STAR = "\u2605"
MIDI_MIME = "audio/midi"


def take_mime_data(take: Take) -> QMimeData:
    """Drag data for a take: its MIDI file as a file URL (what DAWs, file managers and desktops accept)."""
    mime = QMimeData()
    if take.midi_path is not None and take.midi_path.is_file():
        mime.setUrls([QUrl.fromLocalFile(str(take.midi_path))])
        mime.setData(MIDI_MIME, take.midi_path.read_bytes())
    mime.setText(take.display_name)
    return mime


class TakeList(QListWidget):
    """The list itself: drags hand out the take's MIDI file."""

    def __init__(self, panel: "HistoryPanel"):
        super().__init__()
        self.panel = panel
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragOnly)
        self.setDefaultDropAction(Qt.CopyAction)

    def mimeTypes(self) -> list[str]:
        return ["text/uri-list", MIDI_MIME, "text/plain"]

    def mimeData(self, items) -> QMimeData:
        take = self.panel.take(items[0].data(Qt.UserRole)) if items else None
        return take_mime_data(take) if take is not None else QMimeData()

    def supportedDragActions(self):
        return Qt.CopyAction


class HistoryPanel(QWidget):
    """The takes; ``take_chosen(id)`` when one is clicked, and a ``*_requested(id)`` per action."""

    take_chosen = Signal(str)
    use_settings_requested = Signal(str)
    star_requested = Signal(str)
    rename_requested = Signal(str)
    delete_requested = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.takes: list[Take] = []  # oldest first
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel("Takes")
        title.setObjectName("hint")
        self.list = TakeList(self)
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.ElideRight)
        self.list.setToolTip(
            "Your takes, kept between sessions. Click one to see and hear it; drag it onto a DAW "
            "or a folder as a MIDI file; right-click for more"
        )
        self.list.setContextMenuPolicy(Qt.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._context_menu)
        self.empty_label = QLabel("Pieces you generate\nare kept here.")
        self.empty_label.setObjectName("hint")
        self.empty_label.setAlignment(Qt.AlignCenter)
        self.use_button = QPushButton("Use these settings")
        self.use_button.setToolTip("Put this take's settings in the panel on the left")
        self.star_button = QToolButton()
        self.star_button.setText(f"{STAR} Star")
        self.star_button.setToolTip("Star or unstar this take")
        self.rename_button = QToolButton()
        self.rename_button.setText("Rename")
        self.delete_button = QToolButton()
        self.delete_button.setText("Delete")
        self.delete_button.setToolTip("Delete this take (Undo brings it back)")
        buttons = QHBoxLayout()
        for button in (self.star_button, self.rename_button, self.delete_button):
            button.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
            buttons.addWidget(button)
        layout.addWidget(title)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.use_button)
        layout.addLayout(buttons)
        self.list.itemClicked.connect(self._clicked)
        self.list.itemActivated.connect(self._clicked)
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        for button, signal in (
            (self.use_button, self.use_settings_requested),
            (self.star_button, self.star_requested),
            (self.rename_button, self.rename_requested),
            (self.delete_button, self.delete_requested),
        ):
            button.clicked.connect(lambda _=False, signal=signal: self._request(signal))
        self._update_buttons()

    # --- content -------------------------------------------------------------------------------
    def take(self, take_id: str) -> Take | None:
        return next((t for t in self.takes if t.id == take_id), None)

    def current_take(self) -> Take | None:
        item = self.list.currentItem()
        return self.take(item.data(Qt.UserRole)) if item is not None else None

    def add(self, take: Take, select: bool = True) -> None:
        """Show a take on top (or in its place by age, when it comes back after Undo)."""
        self.takes.append(take)
        self.takes.sort(key=lambda t: t.created)
        item = QListWidgetItem()
        item.setData(Qt.UserRole, take.id)
        self.list.insertItem(len(self.takes) - 1 - self.takes.index(take), item)
        self.refresh(take)
        if select:
            self.list.setCurrentItem(item)
        self._update_buttons()

    def remove(self, take_id: str) -> None:
        item = self._item(take_id)
        if item is not None:
            self.list.takeItem(self.list.row(item))
        self.takes = [t for t in self.takes if t.id != take_id]
        self._update_buttons()

    def refresh(self, take: Take) -> None:
        """Redraw a take's line (after a rename, a star or its analysis)."""
        item = self._item(take.id)
        if item is None:
            return
        lines = [f"{STAR + ' ' if take.starred else ''}{take.display_name}", take.subtitle]
        if take.badges:
            lines.append(take.badges)
        item.setText("\n".join(lines))
        tooltip = "\n".join(lines + ([f"style: {take.title}"] if take.name else []))
        if take.originality and take.originality.get("source"):
            tooltip += f"\nlongest shared run from: {take.originality['source']}"
        item.setToolTip(tooltip)
        self._update_buttons()

    def select(self, take_id: str) -> None:
        item = self._item(take_id)
        if item is not None:
            self.list.setCurrentItem(item)

    def _item(self, take_id: str) -> QListWidgetItem | None:
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.UserRole) == take_id:
                return self.list.item(row)
        return None

    # --- requests ------------------------------------------------------------------------------
    def _clicked(self, item: QListWidgetItem) -> None:
        self.take_chosen.emit(str(item.data(Qt.UserRole)))

    def _request(self, signal) -> None:
        take = self.current_take()
        if take is not None:
            signal.emit(take.id)

    def _context_menu(self, position) -> None:
        item = self.list.itemAt(position)
        if item is None:
            return
        self.list.setCurrentItem(item)
        take = self.current_take()
        menu = QMenu(self)
        for text, signal in (
            ("Use these settings", self.use_settings_requested),
            ("Unstar" if take.starred else "Star", self.star_requested),
            ("Rename\u2026", self.rename_requested),
            ("Delete", self.delete_requested),
        ):
            menu.addAction(text, lambda signal=signal: signal.emit(take.id))
        menu.exec(self.list.viewport().mapToGlobal(position))

    def _update_buttons(self) -> None:
        take = self.current_take()
        has_take = take is not None
        self.star_button.setText(f"{STAR} Unstar" if has_take and take.starred else f"{STAR} Star")
        for button in (self.use_button, self.star_button, self.rename_button, self.delete_button):
            button.setEnabled(has_take)
        self.empty_label.setVisible(not self.takes)

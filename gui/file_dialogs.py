"""File dialogs that cannot freeze the app on device files.

Qt's own (non-native) file dialog reads the first bytes of every file it lists to guess its type, in
the GUI thread: a FIFO, or ``/proc/kmsg``, then blocks the app for ever (seen when typing "/proc" in
the Save dialog). So the platform's native dialog is used where there is one (Windows, macOS, a Linux
desktop whose Qt theme provides it); elsewhere ``SafeFileDialog``, which lists folders with
``os.scandir`` (names and types only, no file is ever opened), shows only folders and regular files,
and refuses the system's special folders.
"""

from __future__ import annotations

import os
import sys
from fnmatch import fnmatch
from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyle,
    QVBoxLayout,
)

SPECIAL_FOLDERS = ("/proc", "/sys", "/dev", "/run")  # files there can block (or never end) when read
NATIVE_THEMES = ("gtk3", "xdgdesktopportal", "flatpak", "snap", "kde")  # Linux Qt themes with native dialogs


def is_special_folder(path: str) -> bool:
    """True for /proc, /sys, /dev, /run and folders inside them."""
    resolved = os.path.realpath(path) if path else ""
    return any(resolved == folder or resolved.startswith(folder + "/") for folder in SPECIAL_FOLDERS)


def safe_folder() -> str:
    """Where to go instead of a special folder: the Music folder if it exists, else home."""
    music = QStandardPaths.writableLocation(QStandardPaths.MusicLocation)
    return music if music and os.path.isdir(music) else str(Path.home())


def native_dialogs_available() -> bool:
    """True where Qt shows the platform's own file dialog."""
    if sys.platform in ("win32", "darwin"):
        return True
    return os.environ.get("QT_QPA_PLATFORMTHEME", "").split(":")[0].lower() in NATIVE_THEMES


def filter_patterns(name_filter: str) -> list[str]:
    """ "MIDI files (*.mid *.midi)" -> ["*.mid", "*.midi"]."""
    inside = name_filter[name_filter.find("(") + 1 : name_filter.rfind(")")] if "(" in name_filter else name_filter
    return inside.split() or ["*"]


def list_folder(folder: str, patterns: list[str]) -> tuple[list[str], list[str]]:
    """(sub-folders, regular files matching ``patterns``) of ``folder``, sorted, hidden ones left out.

    Uses only names and ``stat``: no file is opened, so devices and FIFOs cannot block it."""
    folders, files = [], []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir():
                    folders.append(entry.name)
                elif entry.is_file() and any(fnmatch(entry.name.lower(), p.lower()) for p in patterns):
                    files.append(entry.name)
            except OSError:
                continue  # vanished or unreadable: not offered
    return sorted(folders, key=str.lower), sorted(files, key=str.lower)


class SafeFileDialog(QDialog):
    """A plain file dialog: a folder, its sub-folders and matching files, a file name and a type."""

    def __init__(self, parent, caption: str, start: str, filters: str, save: bool):
        super().__init__(parent)
        self.setWindowTitle(caption)
        self.save = save
        start_path = Path(start) if start else Path(safe_folder())
        folder, name = (start_path, "") if start_path.is_dir() else (start_path.parent, start_path.name)
        self.folder = str(folder) if folder.is_dir() and not is_special_folder(str(folder)) else safe_folder()
        self.folder_edit = QLineEdit(self.folder)
        self.folder_edit.setToolTip("Type a folder and press Enter")
        self.folder_edit.returnPressed.connect(lambda: self.enter(self.folder_edit.text()))
        up = QPushButton(self.style().standardIcon(QStyle.SP_FileDialogToParent), "")
        up.setToolTip("The folder above")
        up.clicked.connect(lambda: self.enter(str(Path(self.folder).parent)))
        self.entries = QListWidget()
        self.entries.itemActivated.connect(self._activated)
        self.entries.itemClicked.connect(self._clicked)
        self.name_edit = QLineEdit(name)
        self.type_combo = QComboBox()
        self.type_combo.addItems([f for f in filters.split(";;") if f])
        self.type_combo.currentIndexChanged.connect(self.refresh)
        self.message = QLabel("")
        self.message.setObjectName("problem")
        self.message.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Save if save else QDialogButtonBox.Open)
        buttons.addButton(QDialogButtonBox.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        top = QHBoxLayout()
        top.addWidget(self.folder_edit, 1)
        top.addWidget(up)
        form = QFormLayout()
        form.addRow("File name", self.name_edit)
        form.addRow("Type", self.type_combo)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.entries, 1)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.resize(560, 420)
        self.refresh()

    def selected_filter(self) -> str:
        return self.type_combo.currentText()

    def enter(self, folder: str) -> bool:
        """Show ``folder``; refuses special folders and ones that cannot be read (and says so)."""
        folder = os.path.expanduser(folder.strip())
        if is_special_folder(folder):
            self.message.setText(f"{folder} holds system files, not music; choose another folder.")
            self.folder_edit.setText(self.folder)
            return False
        if not os.path.isdir(folder):
            self.message.setText(f"{folder}: no such folder.")
            self.folder_edit.setText(self.folder)
            return False
        self.folder = os.path.abspath(folder)
        self.folder_edit.setText(self.folder)
        self.message.setText("")
        self.refresh()
        return True

    def refresh(self) -> None:
        self.entries.clear()
        try:
            folders, files = list_folder(self.folder, filter_patterns(self.selected_filter()))
        except OSError as error:
            self.message.setText(f"Cannot read {self.folder}: {error.strerror or error}")
            return
        style = self.style()
        for name in folders:
            item = QListWidgetItem(style.standardIcon(QStyle.SP_DirIcon), name + "/")
            item.setData(Qt.UserRole, "folder")
            self.entries.addItem(item)
        for name in files:
            item = QListWidgetItem(style.standardIcon(QStyle.SP_FileIcon), name)
            item.setData(Qt.UserRole, "file")
            self.entries.addItem(item)

    def _clicked(self, item: QListWidgetItem) -> None:
        if item.data(Qt.UserRole) == "file":
            self.name_edit.setText(item.text())

    def _activated(self, item: QListWidgetItem) -> None:
        if item.data(Qt.UserRole) == "folder":
            self.enter(os.path.join(self.folder, item.text().rstrip("/")))
        else:
            self.name_edit.setText(item.text())
            self._accept()

    def chosen_path(self) -> str:
        name = os.path.expanduser(self.name_edit.text().strip())
        return os.path.join(self.folder, name) if name else ""

    def _accept(self) -> None:
        path = self.chosen_path()
        if not path:
            self.message.setText("Give the file a name.")
        elif os.path.isdir(path):  # a folder typed as the name: go there
            if self.enter(path):
                self.name_edit.clear()
        elif is_special_folder(os.path.dirname(path)):
            self.message.setText(f"{os.path.dirname(path)} holds system files, not music; choose another folder.")
        elif not self.save and not os.path.isfile(path):
            self.message.setText(f"{os.path.basename(path)}: no such file here.")
        else:
            self.accept()


def ask_save_path(parent, caption: str, suggested: str, filters: str) -> tuple[str, str]:
    """(chosen path or "", chosen filter) for saving; ``suggested`` is a full path."""
    if native_dialogs_available():
        return QFileDialog.getSaveFileName(parent, caption, suggested, filters)
    dialog = SafeFileDialog(parent, caption, suggested, filters, save=True)
    return (dialog.chosen_path(), dialog.selected_filter()) if dialog.exec() else ("", "")


def ask_open_path(parent, caption: str, folder: str, filters: str) -> str:
    """The chosen existing file, or ""."""
    if native_dialogs_available():
        return QFileDialog.getOpenFileName(parent, caption, folder, filters)[0]
    dialog = SafeFileDialog(parent, caption, folder, filters, save=False)
    return dialog.chosen_path() if dialog.exec() else ""

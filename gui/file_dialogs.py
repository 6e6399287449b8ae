"""File dialogs that cannot freeze the app on device files.

Qt's own (non-native) dialog asks the MIME database for each file's type and icon, and for a file
without an ending that means reading its first bytes: ``/proc/kmsg`` or a FIFO then blocks the GUI
thread for ever. These dialogs use the platform's native dialog where there is one; Qt's dialog
gets an icon provider that looks only at names, and refuses to enter the system's special folders.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QFileInfo, QStandardPaths
from PySide6.QtGui import QAbstractFileIconProvider
from PySide6.QtWidgets import QApplication, QFileDialog, QStyle

SPECIAL_FOLDERS = ("/proc", "/sys", "/dev", "/run")  # files there can block (or never end) when read


def is_special_folder(path: str) -> bool:
    """True for /proc, /sys, /dev, /run and folders inside them."""
    resolved = str(Path(path).resolve()) if path else ""
    return any(resolved == folder or resolved.startswith(folder + "/") for folder in SPECIAL_FOLDERS)


def safe_folder() -> str:
    """Where to go instead of a special folder: the Music folder, else home."""
    return QStandardPaths.writableLocation(QStandardPaths.MusicLocation) or str(Path.home())


class NameOnlyIconProvider(QAbstractFileIconProvider):
    """Icons and type names from the file name alone: never opens a file."""

    def icon(self, what):
        style = QApplication.style()
        if isinstance(what, QFileInfo):
            return style.standardIcon(QStyle.SP_DirIcon if what.isDir() else QStyle.SP_FileIcon)
        return style.standardIcon(QStyle.SP_DirIcon if what == QAbstractFileIconProvider.Folder
                                  else QStyle.SP_FileIcon)

    def type(self, info: QFileInfo) -> str:
        if info.isDir():
            return "Folder"
        return f"{info.suffix().upper()} file" if info.suffix() else "File"


def make_dialog(parent, caption: str, start: str, filters: str, save: bool) -> QFileDialog:
    """A file dialog (not shown yet) with the safe icon provider and the special-folder guard."""
    dialog = QFileDialog(parent, caption, start, filters)
    dialog.setAcceptMode(QFileDialog.AcceptSave if save else QFileDialog.AcceptOpen)
    dialog.setFileMode(QFileDialog.AnyFile if save else QFileDialog.ExistingFile)
    dialog._icons = NameOnlyIconProvider()  # the dialog does not own its provider: keep it alive with it
    dialog.setIconProvider(dialog._icons)

    def refuse_special(folder: str) -> None:
        if is_special_folder(folder):
            dialog.setDirectory(safe_folder())
            dialog.setLabelText(QFileDialog.LookIn, f"{folder} holds system files, not music:")

    dialog.directoryEntered.connect(refuse_special)
    if is_special_folder(start):
        dialog.setDirectory(safe_folder())
    return dialog


def ask_save_path(parent, caption: str, suggested: str, filters: str) -> tuple[str, str]:
    """(chosen path or "", chosen filter) for saving; ``suggested`` is a full path."""
    dialog = make_dialog(parent, caption, suggested, filters, save=True)
    if not dialog.exec():
        return "", ""
    chosen = dialog.selectedFiles()
    return (chosen[0] if chosen else ""), dialog.selectedNameFilter()


def ask_open_path(parent, caption: str, folder: str, filters: str) -> str:
    """The chosen existing file, or ""."""
    dialog = make_dialog(parent, caption, folder, filters, save=False)
    if not dialog.exec():
        return ""
    chosen = dialog.selectedFiles()
    return chosen[0] if chosen else ""

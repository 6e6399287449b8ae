"""Undoable changes to the takes and the panel: each is a QUndoCommand on the window's QUndoStack.

A command calls the window's small primitives (``add_take``, ``drop_take``, ...); Undo calls the
opposite one. Nothing is lost until the app quits: a removed take's folder is only moved aside.
"""
from __future__ import annotations

from PySide6.QtGui import QUndoCommand


class AddTake(QUndoCommand):
    """A new take (generated, regenerated or continued); it is already shown when pushed."""

    def __init__(self, window, take, text: str):
        super().__init__(text)
        self.window, self.take, self._first = window, take, True

    def redo(self) -> None:
        if self._first:
            self._first = False
            return
        self.window.bring_back_take(self.take)

    def undo(self) -> None:
        self.window.drop_take(self.take)


class DeleteTake(QUndoCommand):
    def __init__(self, window, take):
        super().__init__(f"Delete \u201c{take.display_name}\u201d")
        self.window, self.take = window, take

    def redo(self) -> None:
        self.window.drop_take(self.take)

    def undo(self) -> None:
        self.window.bring_back_take(self.take)


class RenameTake(QUndoCommand):
    def __init__(self, window, take, name: str):
        super().__init__(f"Rename \u201c{take.display_name}\u201d")
        self.window, self.take, self.new, self.old = window, take, name, take.name

    def redo(self) -> None:
        self.window.name_take(self.take, self.new)

    def undo(self) -> None:
        self.window.name_take(self.take, self.old)


class StarTake(QUndoCommand):
    def __init__(self, window, take):
        super().__init__(("Unstar" if take.starred else "Star") + f" \u201c{take.display_name}\u201d")
        self.window, self.take = window, take

    def redo(self) -> None:
        self.window.star_take(self.take, not self.take.starred)

    def undo(self) -> None:
        self.window.star_take(self.take, not self.take.starred)


class UseSettings(QUndoCommand):
    """Put a take's settings in the panel; Undo puts back what the panel held."""

    def __init__(self, window, take):
        super().__init__(f"Use the settings of \u201c{take.display_name}\u201d")
        self.window, self.take = window, take
        self.before = window.controls.request_fields()
        self.before_summary = window.controls.primer_summary

    def redo(self) -> None:
        self.window.controls.apply_fields(self.window.fields_of(self.take.generated), self.take.primer_summary)

    def undo(self) -> None:
        self.window.controls.apply_fields(self.before, self.before_summary)

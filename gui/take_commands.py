"""Undoable changes to the takes and the panel: each is a QUndoCommand on the window's QUndoStack.

A command calls one of the small primitives below (``drop_take``, ``bring_back_take``, ...); Undo
calls the opposite one. Nothing is lost until the app quits: a removed take's folder is only moved aside.
"""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from .takes import settings_of

EMPTY_TITLE = "No piece yet"
EMPTY_DETAILS = "Choose a style on the left and press Generate."


# --- primitives ----------------------------------------------------------------------------------
def _stored(window, change, take, failure: str) -> bool:
    """Apply ``change`` (a takes-store method) to ``take``; a failure is one dialog titled ``failure``."""
    try:
        change(take)
    except OSError as error:
        window.show_error(failure, str(error))
        return False
    return True


def drop_take(window, take) -> None:
    """Take a take out of the list (its folder is moved aside, so Undo can bring it back)."""
    if not _stored(window, window.store.delete, take, "Could not delete the take"):
        return
    window.history.remove(take.id)
    if window.current is take:
        window.current = None
        newest = window.history.takes[-1] if window.history.takes else None
        if newest is not None:
            window.take_actions.show_take(newest.id)
        else:
            window.roll.set_piece(None)
            window.playback.set_take(None)
            window.piece_title.setText(EMPTY_TITLE)
            window.piece_details.setText(EMPTY_DETAILS)
            window.key_label.hide()
    window._update_actions()


def bring_back_take(window, take) -> None:
    if not _stored(window, window.store.restore, take, "Could not bring the take back"):
        return
    window.history.add(take)
    window.take_actions.show_take(take.id)


def name_take(window, take, name: str) -> None:
    window.store.rename(take, name)
    window.take_actions.refresh(take)


def star_take(window, take, starred: bool) -> None:
    take.starred = starred
    window.store.update(take)
    window.take_actions.refresh(take)


# --- commands ------------------------------------------------------------------------------------


class AddTake(QUndoCommand):
    """A new take (generated, regenerated or continued); it is already shown when pushed."""

    def __init__(self, window, take, text: str):
        super().__init__(text)
        self.window, self.take, self._first = window, take, True

    def redo(self) -> None:
        if self._first:
            self._first = False
            return
        bring_back_take(self.window, self.take)

    def undo(self) -> None:
        drop_take(self.window, self.take)


class DeleteTake(QUndoCommand):
    def __init__(self, window, take):
        super().__init__(f"Delete \u201c{take.display_name}\u201d")
        self.window, self.take = window, take

    def redo(self) -> None:
        drop_take(self.window, self.take)

    def undo(self) -> None:
        bring_back_take(self.window, self.take)


class RenameTake(QUndoCommand):
    def __init__(self, window, take, name: str):
        super().__init__(f"Rename \u201c{take.display_name}\u201d")
        self.window, self.take, self.new, self.old = window, take, name, take.name

    def redo(self) -> None:
        name_take(self.window, self.take, self.new)

    def undo(self) -> None:
        name_take(self.window, self.take, self.old)


class StarTake(QUndoCommand):
    def __init__(self, window, take):
        super().__init__(("Unstar" if take.starred else "Star") + f" \u201c{take.display_name}\u201d")
        self.window, self.take = window, take

    def redo(self) -> None:
        star_take(self.window, self.take, not self.take.starred)

    def undo(self) -> None:
        star_take(self.window, self.take, not self.take.starred)


class UseSettings(QUndoCommand):
    """Put a take's settings in the panel; Undo puts back what the panel held."""

    def __init__(self, window, take):
        super().__init__(f"Use the settings of \u201c{take.display_name}\u201d")
        self.window, self.take = window, take
        self.before = window.controls.request_fields()
        self.before_summary = window.controls.primer_summary

    def redo(self) -> None:
        self.window.controls.apply_fields(settings_of(self.take.generated), self.take.primer_summary)

    def undo(self) -> None:
        self.window.controls.apply_fields(self.before, self.before_summary)

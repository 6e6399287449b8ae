"""The mouse wheel over a settings panel scrolls the panel: a spin box, combo box or slider under the
pointer takes the wheel only when it has the keyboard focus (clicked or tabbed to), so scrolling down
the settings never changes the tempo by accident."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSlider, QAbstractSpinBox, QApplication, QComboBox, QScrollArea


class WheelToScroll(QObject):
    """An event filter that hands the wheel of an unfocused value widget to ``scroll_area``."""

    def __init__(self, scroll_area: QScrollArea):
        super().__init__(scroll_area)
        self.scroll_area = scroll_area

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Wheel and not watched.hasFocus():
            QApplication.sendEvent(self.scroll_area.verticalScrollBar(), event)
            return True
        return False


def scroll_with_wheel(scroll_area: QScrollArea) -> None:
    """Make the value widgets inside ``scroll_area`` leave the wheel to it unless they have the focus."""
    guard = WheelToScroll(scroll_area)
    for kind in (QAbstractSpinBox, QComboBox, QAbstractSlider):
        for widget in scroll_area.widget().findChildren(kind):
            widget.setFocusPolicy(Qt.StrongFocus)  # the wheel alone never gives them the focus
            widget.installEventFilter(guard)

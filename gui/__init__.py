"""The desktop app (PySide6). Importing it first guards against PySide6's reference leak (``pyside_guard``)."""

from .pyside_guard import protect_none

protect_none()

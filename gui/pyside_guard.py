"""A guard against a reference leak of PySide6 6.12 on CPython 3.10 and 3.11.

That PySide6 is built for the CPython 3.12 API, where ``None`` is immortal, so its methods that return
nothing (``QPainter.setBrush``, ``QWidget.update``, ...) hand back ``None`` without a reference. On 3.10
and 3.11 every such call takes one reference away from ``None``; painting a 400-bar take (thousands of
notes, three calls each) used them up within a second and Python aborted with ``none_dealloc``.
``protect_none`` measures the leak once and, where it is there, gives ``None`` as many spare references
as 3.12 gives an immortal object, so no session can use them up.
"""

from __future__ import annotations

import ctypes
import sys

PROBE_CALLS = 64  # calls of a method that returns nothing, to see whether each one costs a reference
SPARE_REFERENCES = 1 << 48  # at a million leaked references a second, enough for eight years


def leaks_none_references() -> bool:
    """True when a PySide6 method returning nothing takes a reference away from ``None``."""
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(PROBE_CALLS):
        probe.setObjectName("probe")
    return sys.getrefcount(None) <= before - PROBE_CALLS // 2


def protect_none() -> bool:
    """Give ``None`` (and ``True``, ``False``) spare references where PySide6 leaks them; True when it did."""
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12) or not leaks_none_references():
        return False
    for singleton in (None, True, False):
        # CPython's object header starts with its reference count (a Py_ssize_t), at the object's id
        ctypes.c_ssize_t.from_address(id(singleton)).value += SPARE_REFERENCES
    return True

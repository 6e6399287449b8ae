"""``musicgen-gui [--model NAME|PATH]``: start the desktop app (``--install-desktop-entry``: add it
to the Linux desktop's menu instead, ``gui.desktop_entry``).

The window appears first; torch and the model load in a background thread afterwards (the
status bar says "Loading model…"), so the app feels quick even on a slow laptop. Ctrl+C in the
terminal (SIGINT) and SIGTERM close the window as File > Quit does: jobs are stopped, settings
saved and the temporary folder removed.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
from pathlib import Path

ORGANISATION = "musicgen"
APPLICATION = "musicgen-gui"
ICON_PATH = Path(__file__).resolve().parent / "icon.svg"
# Qt Multimedia lists every codec library it could not find; that is noise for a musician.
QUIET_LOGGING = "qt.multimedia.symbolsresolver=false;qt.multimedia.ffmpeg=false"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="musicgen-gui", description="Compose music in a chosen style: the desktop app."
    )
    parser.add_argument(
        "--model",
        default=None,
        metavar="NAME|PATH",
        help="model name (searched in $MUSICGEN_MODELS, your model folder and the shipped models) "
        "or a path to a model .json/.safetensors file; default: musicgen-default",
    )
    parser.add_argument(
        "--install-desktop-entry",
        action="store_true",
        help="add musicgen to the Linux desktop's menu (with its icon) for this user, then exit",
    )
    return parser.parse_args(argv)


def create_application(argv: list[str]):
    """The QApplication with the app's name, icon and theme."""
    os.environ.setdefault("QT_LOGGING_RULES", QUIET_LOGGING)
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from .theme import apply_theme

    app = QApplication.instance() or QApplication(argv)
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("musicgen")
    app.setWindowIcon(QIcon(str(ICON_PATH)))
    apply_theme(app)
    return app


def open_settings():
    """The app's settings: an INI file in the user settings folder (``musicgen.paths.settings_file``:
    ``~/.config/musicgen/musicgen-gui.conf`` on Linux, the file Qt used before). Where Qt kept them
    elsewhere (the registry on Windows, a plist on macOS) they are copied over the first time."""
    from PySide6.QtCore import QSettings

    from musicgen.paths import settings_file

    path = settings_file()
    settings = QSettings(str(path), QSettings.IniFormat)
    if not path.exists():
        earlier = QSettings(QSettings.NativeFormat, QSettings.UserScope, ORGANISATION, APPLICATION)
        if os.path.abspath(earlier.fileName()) != os.path.abspath(path):
            for key in earlier.allKeys():
                settings.setValue(key, earlier.value(key))
            settings.sync()
    return settings


def quit_on_signals(app) -> None:
    """Close the app's windows and quit on SIGINT or SIGTERM.

    Python runs its signal handlers only between bytecodes, and Qt's event loop is C++: the signal
    is written to a socket (``signal.set_wakeup_fd``) that a QSocketNotifier watches, so the loop
    wakes at once and the window closes from the GUI thread."""
    from PySide6.QtCore import QSocketNotifier

    reader, writer = socket.socketpair()
    for end in (reader, writer):
        end.setblocking(False)
    signal.set_wakeup_fd(writer.fileno())
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: None)  # the wake-up byte does the work; no KeyboardInterrupt in a slot
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Read, app)

    def on_signal() -> None:
        try:
            reader.recv(64)
        except OSError:
            pass
        for window in app.topLevelWidgets():
            window.close()
        app.quit()

    notifier.activated.connect(on_signal)
    app._signal_sockets = (reader, writer, notifier)  # kept alive with the app


def main(argv: list[str] | None = None) -> int:
    """Show the window, then load the model in the background; returns the exit status."""
    args = parse_args(argv)
    if args.install_desktop_entry:
        from .desktop_entry import install_desktop_entry

        try:
            for path in install_desktop_entry():
                print(f"wrote {path}")
        except ValueError as error:
            print(f"musicgen-gui: error: {error}", file=sys.stderr)
            return 2
        return 0
    app = create_application(sys.argv[:1])
    quit_on_signals(app)  # before the window makes its temporary folder
    from PySide6.QtCore import QTimer

    from .main_window import MainWindow

    window = MainWindow(open_settings(), model_name=args.model)
    window.show()
    QTimer.singleShot(0, window.start)  # after the first paint
    status = app.exec()
    window.close()  # already closed unless the app quit another way; closing twice is harmless
    if window.unfinished_jobs:  # a job that ignored Cancel past the deadline: do not wait for it
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    return status


if __name__ == "__main__":
    sys.exit(main())

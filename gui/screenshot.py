"""Take a screenshot of the real window with generated pieces (for the README): ``python -m gui.screenshot``.

Runs offscreen with throwaway settings: generates a plain piece and a blend of the model's first two
styles, moves the playhead a third of the way in and saves the window as a PNG.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "assets" / "screenshot.png"
WINDOW_SIZE = (1440, 860)
TIMEOUT_MS = 600_000


def wait_for(app, signal, timeout_ms: int = TIMEOUT_MS) -> list:
    """Run the event loop until ``signal`` fires; returns its arguments."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop, received = QEventLoop(), []
    signal.connect(lambda *args: (received.extend(args), loop.quit()))
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    return received


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model name or path (default: musicgen-default)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="PNG file to write")
    parser.add_argument("--bars", type=int, default=16)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-audio", action="store_true", help="show the window as on a machine without sound")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import QSettings

    from .app import create_application
    from .main_window import MainWindow

    app = create_application(sys.argv[:1])
    settings_dir = tempfile.mkdtemp(prefix="musicgen-shot-")
    settings = QSettings(str(Path(settings_dir) / "settings.ini"), QSettings.IniFormat)
    window = MainWindow(settings, model_name=args.model, has_audio_device=not args.no_audio)
    window.resize(*WINDOW_SIZE)
    window.show()
    window.start()
    if not wait_for(app, window.model_ready) and window.generator is None:
        print("the model did not load", file=sys.stderr)
        return 1
    controls = window.controls
    controls.bars_spin.setValue(args.bars)
    controls.keep_seed_check.setChecked(True)
    controls.seed_spin.setValue(args.seed)
    window.generate()
    wait_for(app, window.audio_ready)
    if controls.blend_combo.count() > 2:  # a blend of the first two styles, 70/30
        controls.blend_combo.setCurrentIndex(2)
        controls.blend_slider.setValue(30)
    controls.seed_spin.setValue(args.seed + 1)
    window.generate()
    wait_for(app, window.audio_ready)
    window._show_position(int(window.current.generated.duration_seconds * 1000 / 3))  # playhead a third in
    app.processEvents()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(args.out)
    print(f"wrote {args.out}")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

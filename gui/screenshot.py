"""Screenshots of the real window with a generated take (for the README): ``python -m gui.screenshot``.

    python -m gui.screenshot --model musicgen-default --genre bach --size 800x600 --out assets/chorale-800.png
    python -m gui.screenshot --genre jig --regenerate 5-8 --size 1440x900 --out assets/jig-1440.png
    python -m gui.screenshot --genre bach --loop 3-4 --solo 1 --size 800x600 --out /tmp/legend-800.png

Runs offscreen (or under ``xvfb-run``) with throwaway settings and takes: generates one take in the
chosen style (``--regenerate A-B`` then writes those bars anew, which the roll marks; ``--loop A-B``
chooses bars and turns Loop on; ``--solo N`` solos voice N in the legend), moves the playhead a third of the way in and saves the window as a PNG. Works with any model (``--model``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "assets" / "screenshot.png"
DEFAULT_SIZE = "1440x900"
TIMEOUT_MS = 600_000


def parse_size(text: str) -> tuple[int, int]:
    """ "800x600" -> (800, 600)."""
    width, _, height = text.lower().partition("x")
    try:
        size = int(width), int(height)
    except ValueError:
        raise argparse.ArgumentTypeError(f"size '{text}' must look like 800x600") from None
    if min(size) < 200:
        raise argparse.ArgumentTypeError(f"size '{text}' is too small for the window")
    return size


def wait_for(signal, timeout_ms: int = TIMEOUT_MS) -> list:
    """Run the event loop until ``signal`` fires; returns its arguments (empty on a timeout)."""
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
    parser.add_argument("--genre", default=None, help="genre key, e.g. bach or jig (default: the model's first)")
    parser.add_argument("--size", type=parse_size, default=DEFAULT_SIZE, help="window size, e.g. 800x600")
    parser.add_argument("--bars", type=int, default=0, help="length in bars (default: the style's form length)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--regenerate", default=None, metavar="A-B", help="then write bars A to B anew, e.g. 5-8")
    parser.add_argument("--loop", default=None, metavar="A-B", help="choose bars A to B and turn Loop on")
    parser.add_argument("--solo", type=int, default=None, metavar="N", help="solo voice N (0 = top) in the legend")
    parser.add_argument("--no-audio", action="store_true", help="show the window as on a machine without sound")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    scratch = Path(tempfile.mkdtemp(prefix="musicgen-shot-"))
    try:
        return take_screenshot(args, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def take_screenshot(args, scratch: Path) -> int:
    """Open the window with settings and takes in ``scratch``, make the take, save the PNG."""
    from PySide6.QtCore import QSettings

    from .app import create_application
    from .main_window import MainWindow

    app = create_application(sys.argv[:1])
    settings = QSettings(str(scratch / "settings.ini"), QSettings.IniFormat)
    window = MainWindow(settings, model_name=args.model, has_audio_device=not args.no_audio)
    failures = []
    window.show_error = lambda title, message, critical=False: failures.append(f"{title}: {message}")
    window.resize(*args.size)
    window.show()
    window.start()
    if not wait_for(window.model_ready) and window.generator is None:
        print(f"the model did not load: {'; '.join(failures)}", file=sys.stderr)
        return 1
    controls = window.controls
    if args.genre is not None:
        if controls.genre_combo.findData(args.genre) < 0:
            print(f"the model has no genre '{args.genre}' (it has {', '.join(controls.genre_keys)})", file=sys.stderr)
            return 1
        controls.genre_combo.setCurrentIndex(controls.genre_combo.findData(args.genre))
    controls.bars_spin.setValue(args.bars)
    controls.keep_seed_check.setChecked(True)
    controls.seed_spin.setValue(args.seed)
    window.generate()
    if not wait_for(window.piece_ready):
        print(f"no take was made: {'; '.join(failures)}", file=sys.stderr)
        return 1
    if args.regenerate:
        first, _, last = args.regenerate.partition("-")
        window.regenerate_bars(int(first), int(last or first))
        if not wait_for(window.piece_ready):
            print(f"bars {args.regenerate} were not regenerated: {'; '.join(failures)}", file=sys.stderr)
            return 1
    if args.loop:
        first, _, last = args.loop.partition("-")
        window.take_tools.show_bars(int(first), int(last or first))
        window.loop_action.trigger()
    if args.solo is not None and args.solo < len(window.voice_legend.solo_buttons):
        window.voice_legend.solo_buttons[args.solo].click()
    if window.current.originality is None and window.current.generated.style_fit is None:
        wait_for(window.take_analysed)  # the style-fit and originality badges
    if window.current.wav_path is None:
        wait_for(window.audio_ready)
    window.playback.show_position(int(window.current.generated.duration_seconds * 1000 / 3))  # a third in
    app.processEvents()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(out))
    print(f"wrote {out} ({args.size[0]}x{args.size[1]}, {window.current.summary})")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How quickly the desktop app responds: time to the window, to a loaded model, and from Generate to sound.

    python benchmarks/gui_startup.py [--model NAME|PATH] [--seconds 30] [--repeat 3]

Runs the real window offscreen with throwaway settings. "Window shown" counts from the start of this
script (before Qt or musicgen are imported) to the first painted window; "model ready" to the end of the
background load (torch + weights); "Generate to first sound" is generation plus rendering the WAV that
Play plays (the player starts at once when a device exists), for a piece of ``--seconds`` length.
"""

from __future__ import annotations

import time

SCRIPT_START = time.perf_counter()

import argparse  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
TIMEOUT_MS = 600_000


def wait_for(signal, failure=None) -> float:
    """Run the event loop until ``signal`` fires; returns when (perf_counter seconds). Exits if ``failure`` fires."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop, fired, failed = QEventLoop(), [], []

    def on_fired(*args):
        fired.append(time.perf_counter())
        loop.quit()

    def on_failed(message):
        failed.append(message)
        loop.quit()

    signal.connect(on_fired)
    if failure is not None:
        failure.connect(on_failed)
    QTimer.singleShot(TIMEOUT_MS, loop.quit)
    loop.exec()
    signal.disconnect(on_fired)
    if failure is not None:
        failure.disconnect(on_failed)
    if failed:
        raise SystemExit(f"the app reported a failure: {failed[0]}")
    if not fired:
        raise SystemExit("timed out waiting for the app")
    return fired[0]


def main() -> int:
    parser = argparse.ArgumentParser(description="Time the desktop app's start-up and Generate-to-sound.")
    parser.add_argument("--model", default=None, help="model name or path (default: musicgen-default)")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the generated piece")
    parser.add_argument("--repeat", type=int, default=3, help="Generate presses to time (median reported)")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import QSettings

    from gui.app import create_application
    from gui.main_window import MainWindow

    app = create_application(sys.argv[:1])
    scratch = Path(tempfile.mkdtemp(prefix="musicgen-bench-"))  # throwaway settings and takes
    settings = QSettings(str(scratch / "settings.ini"), QSettings.IniFormat)
    window = MainWindow(settings, model_name=args.model)
    window.show()
    app.processEvents()  # delivers the expose and first paint
    shown = time.perf_counter()
    # No dialogs in a benchmark: problems go to stderr.
    window.show_error = lambda title, message, critical=False: print(f"{title}: {message}", file=sys.stderr)
    try:
        return measure(app, window, shown, args)
    finally:
        window.close()  # joins the background threads
        shutil.rmtree(scratch, ignore_errors=True)


def measure(app, window, shown: float, args) -> int:
    """Print the timings; ``shown`` is when the window was first painted."""
    started = time.perf_counter()
    window.start()
    ready = wait_for(window.model_ready, window.model_failed)
    print(
        f"window shown:            {shown - SCRIPT_START:6.2f} s after the script started "
        f"(platform {app.platformName()})"
    )
    model = window.model_label.text().removeprefix("Model: ")
    print(f"model ready:             {ready - started:6.2f} s later (torch + model {model})")

    totals, generations, renders, speeds = [], [], [], []
    for attempt in range(args.repeat):
        fields = {**window.controls.request_fields(), "seconds": args.seconds, "seed": attempt}
        pressed = time.perf_counter()
        window.start_generation(fields)
        generated_at = wait_for(window.piece_ready)
        sound_at = wait_for(window.audio_ready)
        player = window.playback.player
        if player is not None and player.state.can_play:
            player.play()
        generated = window.current.generated
        totals.append(sound_at - pressed)
        generations.append(generated_at - pressed)
        renders.append(sound_at - generated_at)
        speeds.append(generated.events_per_second)
        print(
            f"  press {attempt + 1}: {generated.events} events, {generated.duration_seconds:.1f} s of music, "
            f"generated in {generated_at - pressed:.2f} s, sound ready {sound_at - generated_at:.2f} s later "
            f"({window.current.audio_backend})"
        )
    print(
        f"Generate to first sound: {statistics.median(totals):6.2f} s median over {args.repeat} "
        f"(generation {statistics.median(generations):.2f} s at {statistics.median(speeds):,.0f} events/s, "
        f"audio render {statistics.median(renders):.2f} s) for a {args.seconds:g}-second piece"
    )
    has_device = window.playback.player.state.has_device
    print(f"audio output device:     {'yes' if has_device else 'none (WAV rendered, not played)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

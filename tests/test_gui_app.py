"""The app as a musician starts and quits it: on a home folder whose newest take is long, closed at
any moment while it loads, with no temporary folder left behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LONG_TAKE_HOME = REPO.parent / "shared" / "fixtures" / "gui-long-take"
LONG_TAKE_NOTES = 4272  # the fixture's newest take: 400 bars of Palestrina

# Starts the app as ``gui.app.main`` does, paints the newest take's roll 20 times once the takes are
# read (while the model may still be loading in its worker), then quits as main() does.
PAINT_AND_QUIT = """
import os, sys
from PySide6.QtCore import QSettings, QTimer
from gui.app import APPLICATION, ORGANISATION, create_application
from gui.main_window import MainWindow

app = create_application(sys.argv[:1])
window = MainWindow(QSettings(ORGANISATION, APPLICATION), model_name=sys.argv[1], has_audio_device=False)
window.show()
painted = []

def paint_the_take():
    for _ in range(20):
        window.roll.viewport().repaint()
    painted.append(len(window.roll.piece.notes) if window.roll.piece is not None else 0)
    QTimer.singleShot(500, window.close)

window.takes_loaded.connect(lambda: QTimer.singleShot(0, paint_the_take))
QTimer.singleShot(0, window.start)
app.exec()
print("painted", *painted, flush=True)
if window.unfinished_jobs:
    os._exit(0)
"""


def app_env(home: Path) -> dict:
    """The app's environment with ``home`` as HOME (settings, takes, caches and temp files under it)."""
    (home / "tmp").mkdir(exist_ok=True)
    return {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": str(home),
        "TMPDIR": str(home / "tmp"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "PYTHONPATH": str(REPO),
    }


@pytest.mark.skipif(not LONG_TAKE_HOME.is_dir(), reason="the shared fixtures are not beside this checkout")
def test_the_app_starts_and_paints_a_400_bar_take_without_crashing(tmp_path, tiny_model):
    home = tmp_path / "home"
    shutil.copytree(LONG_TAKE_HOME, home)
    run = subprocess.run(
        [sys.executable, "-c", PAINT_AND_QUIT, str(tiny_model)],
        cwd=tmp_path,
        env=app_env(home),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Fatal Python error" not in run.stderr
    assert run.stdout.split() == ["painted", str(LONG_TAKE_NOTES)]
    assert [p.name for p in (home / "tmp").glob("musicgen-gui-*")] == []

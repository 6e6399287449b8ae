"""The app as a musician starts and quits it: on a home folder whose newest take is long, closed at
any moment while it loads, with no temporary folder left behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QThread
from PySide6.QtWidgets import QMessageBox

import gui.main_window
from gui import jobs
from gui.main_window import MainWindow
from gui.workers import outliving_threads

REPO = Path(__file__).resolve().parent.parent
LONG_TAKE_HOME = REPO.parent / "shared" / "fixtures" / "gui-long-take"
LONG_TAKE_NOTES = 4272  # the fixture's newest take: 400 bars of Palestrina
WAIT_MS = 60_000  # generous: the machine may be busy
QUIT_S = 2.0  # closing the window returns within this, whatever is running

# Starts the app as ``gui.app.main`` does, paints the newest take's roll 20 times once the takes are
# read (while the model may still be loading in its worker), then quits as main() does.
PAINT_AND_QUIT = """
import os, sys
from PySide6.QtCore import QTimer
from gui.app import create_application, open_settings
from gui.main_window import MainWindow

app = create_application(sys.argv[:1])
window = MainWindow(open_settings(), model_name=sys.argv[1], has_audio_device=False)
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
    # the last line: pyfluidsynth prints where it found its library when CI is set
    assert run.stdout.splitlines()[-1].split() == ["painted", str(LONG_TAKE_NOTES)]
    assert [p.name for p in (home / "tmp").glob("musicgen-gui-*")] == []


@pytest.fixture
def settings(tmp_path):
    """A private settings file (its folder also holds the takes)."""
    return QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)


@pytest.fixture
def dialogs(monkeypatch):
    """Message boxes as (kind, title, text) instead of blocking on them."""
    shown = []
    for kind in ("warning", "critical", "information"):
        monkeypatch.setattr(
            QMessageBox, kind, lambda parent, title, text, *a, kind=kind, **k: shown.append((kind, title, text))
        )
    return shown


def test_closing_while_the_model_loads_quits_at_once_and_starts_nothing_after(
    qtbot, settings, dialogs, tiny_model, monkeypatch
):
    load_model = jobs.load_model

    def slow_load(name):
        time.sleep(3)  # like importing torch on a slow laptop: one step that Cancel cannot cut short
        return (yield from load_model(name))

    monkeypatch.setattr(jobs, "load_model", slow_load)
    started = []
    start_in_thread = gui.main_window.start_in_thread
    monkeypatch.setattr(
        gui.main_window,
        "start_in_thread",
        lambda worker, parent: started.append(worker.kind) or start_in_thread(worker, parent),
    )
    window = MainWindow(settings, model_name=str(tiny_model), has_audio_device=False)
    ready = []
    window.model_ready.connect(lambda: ready.append(True))
    window.show()
    window.start()
    qtbot.wait(300)
    began = time.monotonic()
    window.close()
    assert time.monotonic() - began < QUIT_S
    assert not window._temp_dir.exists() and window.unfinished_jobs
    jobs_at_close = list(started)
    qtbot.waitUntil(lambda: not outliving_threads(), timeout=WAIT_MS)  # the model job ends by itself
    qtbot.wait(300)  # its report would arrive now
    assert started == jobs_at_close and not ready  # a closed window starts nothing and shows nothing
    assert not any(thread.isRunning() for thread in window.findChildren(QThread))
    assert not window._temp_dir.exists() and dialogs == []


@pytest.mark.parametrize("moment", ["takes read", "model ready"])
def test_closing_at_any_moment_of_the_start_quits_within_two_seconds(qtbot, settings, dialogs, tiny_model, moment):
    window = MainWindow(settings, model_name=str(tiny_model), has_audio_device=False)
    window.show()
    with qtbot.waitSignal(window.takes_loaded if moment == "takes read" else window.model_ready, timeout=WAIT_MS):
        window.start()
    began = time.monotonic()
    window.close()
    assert time.monotonic() - began < QUIT_S and not window._temp_dir.exists()
    qtbot.waitUntil(lambda: not outliving_threads(), timeout=WAIT_MS)
    qtbot.wait(200)
    assert not any(thread.isRunning() for thread in window.findChildren(QThread))

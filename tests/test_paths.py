"""musicgen.paths: the user's folders on each platform (platformdirs), what earlier versions left
elsewhere, and the shipped model and corpus found from an installed (wheel) layout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import platformdirs
import platformdirs.macos
import platformdirs.windows
import pytest
from PySide6.QtCore import QSettings

from musicgen import paths
from musicgen.evaluation import originality
from musicgen.model.model_files import find_model, list_models, search_path

REPO = Path(__file__).resolve().parent.parent
XDG_VARIABLES = ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A private HOME with no XDG variables: the platform's default folders, under tmp_path."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("MUSICGEN_MODELS", raising=False)
    for name in XDG_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def macos(monkeypatch, home):
    """platformdirs answering as on macOS."""
    monkeypatch.setattr(platformdirs, "PlatformDirs", platformdirs.macos.MacOS)
    return home


@pytest.fixture
def windows(monkeypatch, home):
    """platformdirs answering as on Windows (the known folders as %APPDATA% and %LOCALAPPDATA% name them)."""
    folders = {"CSIDL_APPDATA": r"C:\Users\ann\AppData\Roaming", "CSIDL_LOCAL_APPDATA": r"C:\Users\ann\AppData\Local"}
    monkeypatch.setattr(platformdirs, "PlatformDirs", platformdirs.windows.Windows)
    monkeypatch.setattr(platformdirs.windows, "get_win_folder", folders.__getitem__)
    return folders


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux defaults")
def test_linux_folders_are_the_xdg_defaults(home):
    assert paths.user_data_dir() == home / ".local" / "share" / "musicgen"
    assert paths.user_models_dir() == home / ".local" / "share" / "musicgen" / "models"
    assert paths.takes_dir() == home / ".local" / "share" / "musicgen" / "takes"
    assert paths.settings_file() == home / ".config" / "musicgen" / "musicgen-gui.conf"  # where Qt kept them
    assert paths.user_cache_dir() == home / ".cache" / "musicgen"
    assert paths.legacy_models_dirs() == []  # the model folder has not moved on Linux


def test_macos_folders_are_application_support_and_caches(macos):
    support = macos / "Library" / "Application Support" / "musicgen"
    assert paths.user_models_dir() == support / "models"
    assert paths.takes_dir() == support / "takes"
    assert paths.settings_file().parent in (support, macos / "Library" / "Preferences" / "musicgen")
    assert paths.user_cache_dir() == macos / "Library" / "Caches" / "musicgen"
    assert paths.legacy_models_dirs() == [macos / ".local" / "share" / "musicgen" / "models"]


def test_windows_folders_are_appdata(windows):
    roaming = Path(windows["CSIDL_APPDATA"])
    assert str(paths.user_models_dir()) == str(roaming / "musicgen" / "models")
    assert str(paths.settings_file()) == str(roaming / "musicgen" / "musicgen-gui.conf")
    assert str(paths.user_cache_dir()).startswith(str(Path(windows["CSIDL_LOCAL_APPDATA"]) / "musicgen"))


def test_xdg_variables_win_on_every_platform(macos, tmp_path, monkeypatch):
    for name in XDG_VARIABLES:
        monkeypatch.setenv(name, str(tmp_path / name))
    assert paths.user_models_dir() == tmp_path / "XDG_DATA_HOME" / "musicgen" / "models"
    assert paths.settings_file() == tmp_path / "XDG_CONFIG_HOME" / "musicgen" / "musicgen-gui.conf"
    assert paths.user_cache_dir() == tmp_path / "XDG_CACHE_HOME" / "musicgen"
    assert originality.cache_dir() == tmp_path / "XDG_CACHE_HOME" / "musicgen"
    assert paths.legacy_models_dirs() == []


def fake_model(folder: Path, name: str) -> Path:
    """A model's two files (enough to be found and listed; never loaded here)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.safetensors").write_bytes(b"")
    card = folder / f"{name}.json"
    card.write_text("{}")
    return card


def test_models_of_earlier_versions_are_still_found(macos):
    old = fake_model(macos / ".local" / "share" / "musicgen" / "models", "my-old-model")
    new = fake_model(paths.user_models_dir(), "my-new-model")
    assert find_model("my-old-model") == old and find_model("my-new-model") == new
    assert {old, new} <= set(list_models())
    assert search_path().index(new.parent) < search_path().index(old.parent)  # the new folder first


def write_take(folder: Path, name: str) -> Path:
    (folder / name).mkdir(parents=True)
    take = folder / name / "take.json"
    take.write_text('{"title": "jig"}')
    return take


def test_takes_of_earlier_versions_move_to_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    old = tmp_path / "musicgen" / "musicgen-gui" / "takes"  # where Qt's app data folder put them
    write_take(old, "20260101-120000-1")
    takes = paths.takes_dir()
    assert takes == tmp_path / "musicgen" / "takes"
    assert (takes / "20260101-120000-1" / "take.json").read_text() == '{"title": "jig"}'
    assert not (tmp_path / "musicgen" / "musicgen-gui").exists()  # emptied, so removed
    assert paths.takes_dir() == takes


def test_takes_that_cannot_be_moved_are_used_where_they_are(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    take = write_take(tmp_path / "musicgen" / "musicgen-gui" / "takes", "t")

    def refuse(*_):
        raise PermissionError("read-only")

    monkeypatch.setattr(paths.os, "rename", refuse)
    assert paths.takes_dir() == tmp_path / "musicgen" / "musicgen-gui" / "takes"
    assert take.is_file()


def test_a_takes_folder_already_there_is_kept_and_the_old_one_left_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    old = write_take(tmp_path / "musicgen" / "musicgen-gui" / "takes", "old")
    new = write_take(tmp_path / "musicgen" / "takes", "new")
    assert paths.takes_dir() == new.parent.parent
    assert old.is_file() and new.is_file()


def test_the_apps_settings_file_keeps_its_takes_in_the_data_folder(tmp_path, monkeypatch):
    from gui.main_window import takes_folder

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert (
        takes_folder(QSettings(str(paths.settings_file()), QSettings.IniFormat))
        == tmp_path / "data" / "musicgen" / "takes"
    )
    private = QSettings(str(tmp_path / "shot" / "settings.ini"), QSettings.IniFormat)  # tests, screenshots
    assert takes_folder(private) == tmp_path / "shot" / "takes"


# Qt fixes its settings folders once per process: the app's settings are opened in a process of their own.
OPEN_SETTINGS = """
import sys
from pathlib import Path
from PySide6.QtCore import QSettings
import musicgen.paths
from gui.app import APPLICATION, ORGANISATION, open_settings

earlier = QSettings(ORGANISATION, APPLICATION)  # where Qt kept them: a plist on macOS, the registry on Windows
earlier.setValue("controls/genre", "jig")
earlier.sync()
if sys.argv[1] != "same":
    musicgen.paths.settings_file = lambda: Path(sys.argv[1])
settings = open_settings()
print(settings.fileName(), settings.value("controls/genre"), sep="\\n")
"""


def open_settings_in(tmp_path: Path, target: str) -> list[str]:
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"), "PYTHONPATH": str(REPO)}
    run = subprocess.run(
        [sys.executable, "-c", OPEN_SETTINGS, target], env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout.splitlines()[-2:]  # pyfluidsynth may print a line first when CI is set


def test_settings_kept_elsewhere_by_earlier_versions_are_copied_over(tmp_path):
    new = tmp_path / "Application Support" / "musicgen" / "musicgen-gui.conf"
    assert open_settings_in(tmp_path, str(new)) == [str(new), "jig"]
    assert "jig" in new.read_text()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt's own settings file on Linux")
def test_on_linux_the_settings_stay_in_the_file_qt_used(tmp_path):
    assert open_settings_in(tmp_path, "same") == [str(tmp_path / "config" / "musicgen" / "musicgen-gui.conf"), "jig"]


def test_the_committed_corpus_stands_in_for_a_training_folder_that_is_not_here():
    fingerprint = originality._fingerprint_of(paths.DEFAULT_DATASET)
    card = {"name": "m", "dataset": {"path": "/nowhere/data/corpus", "fingerprint": fingerprint}}
    assert originality._model_dataset(card) == (paths.DEFAULT_DATASET, fingerprint)
    other = {"name": "m", "dataset": {"path": "/nowhere/data/corpus", "fingerprint": "0" * 16}}
    with pytest.raises(ValueError, match="not on this machine"):
        originality._model_dataset(other)


# What an installed wheel is asked for, from a folder that is not the checkout.
INSTALLED = """
import json
from musicgen import paths
from musicgen.evaluation.originality import _model_dataset
from musicgen.model.model_files import find_model, search_path

card = find_model()
print(json.dumps({
    "card": str(card),
    "dataset": str(_model_dataset(json.loads(card.read_text()))[0]),
    "default_dataset": str(paths.DEFAULT_DATASET),
    "in_checkout": paths.IN_CHECKOUT,
    "search_path": [str(p) for p in search_path()],
}))
"""


def test_an_installed_layout_finds_the_shipped_model_and_corpus_from_another_folder(tmp_path):
    """site-packages as a wheel lays it out (musicgen, musicgen_models, musicgen_corpus; no checkout), with
    the model trained on another machine: found without the repository."""
    shipped = REPO / "models" / "musicgen-default.json"
    if not shipped.is_file() or not shipped.with_suffix(".safetensors").is_file():
        pytest.skip("models/musicgen-default.json is not trained yet")
    site = tmp_path / "site-packages"
    shutil.copytree(REPO / "musicgen", site / "musicgen", ignore=shutil.ignore_patterns("__pycache__"))
    (site / "musicgen_models").mkdir()
    (site / "musicgen_corpus").mkdir()
    card = json.loads(shipped.read_text())
    card["dataset"]["path"] = "/home/someone-else/musicgen/data/corpus"
    (site / "musicgen_models" / "musicgen-default.json").write_text(json.dumps(card))
    (site / "musicgen_models" / "musicgen-default.safetensors").symlink_to(shipped.with_suffix(".safetensors"))
    for name in ("dataset.json", "dataset.npz"):
        (site / "musicgen_corpus" / name).symlink_to(REPO / "data" / "corpus" / name)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "XDG_DATA_HOME": str(tmp_path / "xdg")}
    env.pop("MUSICGEN_MODELS", None)
    run = subprocess.run(
        [sys.executable, "-c", INSTALLED], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-2000:]
    found = json.loads(run.stdout.splitlines()[-1])  # pyfluidsynth may print a line first when CI is set
    assert found["card"] == str(site / "musicgen_models" / "musicgen-default.json")
    assert found["default_dataset"] == found["dataset"] == str(site / "musicgen_corpus")
    assert found["in_checkout"] is False
    assert not any(folder.startswith(str(REPO)) for folder in found["search_path"])

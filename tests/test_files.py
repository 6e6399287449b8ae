"""musicgen.files.writing: atomic writes that touch only regular files, and the checks of output paths."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest

from musicgen.files import writing as files
from musicgen.files.writing import (
    OutputPathError,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    check_distinct,
    check_output,
    stray_temp_files,
)


def everything_in(folder: Path) -> list[str]:
    """Names in ``folder``, hidden temp files included."""
    return sorted(p.name for p in folder.iterdir())


def test_write_replaces_a_file_whole_and_keeps_its_permissions(tmp_path):
    path = tmp_path / "a.mid"
    path.write_bytes(b"old")
    path.chmod(0o640)
    atomic_write_bytes(path, lambda temp: Path(temp).write_bytes(b"new"))
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert everything_in(tmp_path) == ["a.mid"]


def test_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path):
    path = tmp_path / "a.mid"
    path.write_bytes(b"old")

    def broken(temp):
        Path(temp).write_bytes(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write_bytes(path, broken)
    assert path.read_bytes() == b"old" and everything_in(tmp_path) == ["a.mid"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_and_stays_a_fifo(tmp_path):
    fifo = tmp_path / "pipe.mid"
    os.mkfifo(fifo)
    with pytest.raises(OutputPathError, match=r"pipe\.mid is a FIFO \(named pipe\), not a regular file"):
        atomic_write_bytes(fifo, lambda temp: Path(temp).write_bytes(b"x"))
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and everything_in(tmp_path) == ["pipe.mid"]
    with pytest.raises(OutputPathError, match="FIFO"):
        check_output(fifo, "midi")


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="needs /dev/null")
def test_a_device_is_refused_as_an_output():
    with pytest.raises(OutputPathError, match=r"^/dev/null is a device, not a regular file"):
        check_output("/dev/null")
    with pytest.raises(OutputPathError, match="device"):
        files.check_regular_target("/dev/null")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_folder_is_refused(tmp_path):
    (tmp_path / "song.mid").mkdir()
    with pytest.raises(OutputPathError, match="is a folder; give a file name"):
        atomic_write_bytes(tmp_path / "song.mid", lambda temp: Path(temp).write_bytes(b"x"))
    assert (tmp_path / "song.mid").is_dir()


def test_a_symlink_is_written_through_to_its_target(tmp_path):
    target = tmp_path / "real" / "take3.mid"
    target.parent.mkdir()
    target.write_bytes(b"old")
    link = tmp_path / "latest.mid"
    link.symlink_to(target)
    assert check_output(link, "midi") == target.resolve()
    atomic_write_bytes(link, lambda temp: Path(temp).write_bytes(b"new"))
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == b"new"
    assert everything_in(tmp_path) == ["latest.mid", "real"] and everything_in(target.parent) == ["take3.mid"]


def test_a_symlink_to_a_device_is_refused_naming_both(tmp_path):
    link = tmp_path / "out.mid"
    link.symlink_to("/dev/null")
    with pytest.raises(OutputPathError, match=r"out\.mid \(a symlink to /dev/null\) is a device"):
        atomic_write_bytes(link, lambda temp: Path(temp).write_bytes(b"x"))
    assert link.is_symlink()


@pytest.mark.parametrize(
    "name, kind, ok",
    [
        ("a.mid", "midi", True),
        ("a.MIDI", "midi", True),
        ("a.wav", "midi", False),
        ("a", "midi", False),
        ("a.wav", "wav", True),
        ("a.mid", "wav", False),
        ("a.musicxml", "musicxml", True),
        ("a.xml", "musicxml", True),
        ("a.abc", "abc", True),
        ("a.txt", "abc", False),
    ],
)
def test_extensions_are_checked_with_a_one_line_message(tmp_path, name, kind, ok):
    if ok:
        check_output(tmp_path / name, kind)
        return
    with pytest.raises(OutputPathError) as error:
        check_output(tmp_path / name, kind)
    message = str(error.value)
    assert "\n" not in message and message.startswith(str(tmp_path / name))
    assert "must end in " + files.OUTPUT_KINDS[kind][1][0] in message


def test_missing_or_read_only_folders_are_refused(tmp_path):
    with pytest.raises(OutputPathError, match="output folder does not exist"):
        check_output(tmp_path / "nope" / "a.mid", "midi")
    if os.geteuid() == 0:
        return  # root writes into read-only folders
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(OutputPathError, match="cannot write there"):
            check_output(locked / "a.mid", "midi")
    finally:
        locked.chmod(0o700)


def test_one_file_for_two_outputs_is_refused(tmp_path):
    a = tmp_path / "x.mid"
    with pytest.raises(OutputPathError, match=r"x\.mid: given for both -o and --wav; give each its own file"):
        check_distinct({"-o": a, "--wav": tmp_path / "." / "x.mid"})
    a.write_bytes(b"x")
    (tmp_path / "link.wav").symlink_to(a)
    os.link(a, tmp_path / "hard.wav")
    for other in ("link.wav", "hard.wav"):
        with pytest.raises(OutputPathError, match="given for both"):
            check_distinct({"the MIDI file": a, "the WAV file": tmp_path / other})
    check_distinct({"-o": a, "--wav": tmp_path / "x.wav", "--abc": None})


def test_text_and_json_writes_and_stray_temp_files(tmp_path):
    atomic_write_text(tmp_path / "a.txt", "héllo")
    atomic_write_json(tmp_path / "a.json", {"n": 1})
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "héllo"
    assert (tmp_path / "a.json").read_text() == '{\n  "n": 1\n}'
    handle, left = tempfile.mkstemp(prefix=".rise-3.mid.", suffix=".tmp", dir=tmp_path)  # as a kill -9 leaves it
    os.close(handle)
    (tmp_path / ".hidden.tmp").write_text("not ours")
    assert stray_temp_files(tmp_path) == [Path(left)]


def test_midi_io_keeps_the_old_import():
    from musicgen.files import midi as midi_io

    assert midi_io.atomic_write_bytes is files.atomic_write_bytes

"""The command line writes only the files it is asked to, only regular files, and changes nothing
when an output is refused."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pretty_midi
import pytest

from musicgen.cli.main import main
from musicgen.files.midi import write_midi
from musicgen.music.piece import make_piece

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and symlinks")


@pytest.fixture(autouse=True)
def isolated_model_search(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg")))
    monkeypatch.delenv("MUSICGEN_MODELS", raising=False)


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every entry below ``folder`` (hidden ones too): its kind, and a file's bytes or a link's target."""
    entries = {}
    for path in sorted(folder.rglob("*")):
        mode = os.lstat(path).st_mode
        if stat.S_ISLNK(mode):
            entries[str(path.relative_to(folder))] = ("link", os.readlink(path))
        elif stat.S_ISREG(mode):
            entries[str(path.relative_to(folder))] = ("file", path.read_bytes())
        else:
            entries[str(path.relative_to(folder))] = (stat.S_IFMT(mode),)
    return entries


def assert_refused(code: int, err: str, *words: str) -> None:
    assert code == 2 and err.startswith("musicgen: error: ") and err.count("\n") == 1, err
    for word in words:
        assert word in err, err


@pytest.fixture
def midi_file(tmp_path) -> Path:
    return write_midi(make_piece([(i * 12, 60 + i, 12) for i in range(8)], bars=[0, 48, 96]), tmp_path / "in.mid")


def generate(capsys, tiny_model, *extra):
    return run(capsys, "generate", "--model", tiny_model, "--bars", 2, "--seed", 1, *extra)


def test_generate_refuses_a_fifo_and_changes_nothing(tmp_path, capsys, tiny_model):
    os.mkfifo(tmp_path / "pipe.mid")
    before = snapshot(tmp_path)
    code, _, err = generate(capsys, tiny_model, "-o", tmp_path / "pipe.mid")
    assert_refused(code, err, "pipe.mid", "FIFO")
    assert snapshot(tmp_path) == before


def test_generate_checks_its_default_file_name_too(tmp_path, capsys, tiny_model, monkeypatch):
    from musicgen.sampling.request import piece_file_name

    monkeypatch.chdir(tmp_path)
    name = piece_file_name("rise", 1)  # the name generate gives --genre rise --seed 1
    os.mkfifo(tmp_path / name)
    before = snapshot(tmp_path)
    assert_refused(*generate(capsys, tiny_model, "--genre", "rise")[::2], name, "FIFO")
    assert snapshot(tmp_path) == before


def test_generate_refuses_a_folder_and_a_fifo_for_the_wav(tmp_path, capsys, tiny_model):
    (tmp_path / "song.mid").mkdir()
    os.mkfifo(tmp_path / "song.wav")
    before = snapshot(tmp_path)
    assert_refused(*generate(capsys, tiny_model, "-o", tmp_path / "song.mid")[::2], "is a folder")
    assert_refused(*generate(capsys, tiny_model, "-o", tmp_path / "x.mid", "--wav", tmp_path / "song.wav")[::2], "FIFO")
    assert snapshot(tmp_path) == before


def test_generate_writes_through_a_symlink_and_keeps_it(tmp_path, capsys, tiny_model):
    target = tmp_path / "takes" / "take1.mid"
    target.parent.mkdir()
    target.write_bytes(b"old")
    (tmp_path / "latest.mid").symlink_to(target)
    code, _, err = generate(capsys, tiny_model, "-o", tmp_path / "latest.mid")
    assert code == 0, err
    assert (tmp_path / "latest.mid").is_symlink() and os.readlink(tmp_path / "latest.mid") == str(target)
    assert len(pretty_midi.PrettyMIDI(str(target)).instruments[0].notes) > 0
    assert sorted(snapshot(tmp_path)) == ["latest.mid", "takes", "takes/take1.mid"]


@pytest.mark.parametrize(
    "flags, words",
    [
        (("-o", "{d}/x.txt"), ("x.txt", "must end in .mid or .midi")),
        (("-o", "{d}/x.mid", "--wav", "{d}/x.mid"), ("x.mid", "WAV file name must end in .wav")),
        (("-o", "{d}/x.mid", "--wav", "{d}/x.mp3"), ("x.mp3", "must end in .wav")),
        (("-o", "{d}/x.mid", "--wav", "{d}/same.wav"), ("same.wav", "given for both -o/--output and --wav")),
    ],
)
def test_generate_refuses_wrong_endings_and_one_file_for_two_outputs(tmp_path, capsys, tiny_model, flags, words):
    (tmp_path / "x.mid").write_bytes(b"mine")
    os.link(tmp_path / "x.mid", tmp_path / "same.wav")  # one file under two names
    before = snapshot(tmp_path)
    code, _, err = generate(capsys, tiny_model, *[f.format(d=tmp_path) for f in flags])
    assert_refused(code, err, *words)
    assert snapshot(tmp_path) == before


def test_render_refuses_writing_onto_its_input_or_a_non_wav_name(tmp_path, capsys, midi_file):
    (tmp_path / "in.wav").symlink_to(midi_file)
    before = snapshot(tmp_path)
    assert_refused(*run(capsys, "render", midi_file, midi_file)[::2], "in.mid", "must end in .wav")
    assert_refused(
        *run(capsys, "render", midi_file, tmp_path / "in.wav")[::2],
        "given for both the MIDI file to render and the WAV file to write",
    )
    assert snapshot(tmp_path) == before


def test_batch_refuses_a_fifo_where_a_piece_goes_and_changes_nothing(tmp_path, capsys, tiny_model):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    from musicgen.sampling.request import piece_file_name

    os.mkfifo(out_dir / piece_file_name("rise", 0))  # the first piece's name
    before = snapshot(tmp_path)
    code, _, err = run(capsys, "batch", "--model", tiny_model, "--count", 2, "--bars", 2, "--out-dir", out_dir)
    assert_refused(code, err, piece_file_name("rise", 0), "FIFO")
    assert snapshot(tmp_path) == before

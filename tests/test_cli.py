"""The command line as a user runs it: generate, batch, genres, models, render, play, and bad input."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import mido
import pretty_midi
import pytest

from musicgen.batch import compose as batch
from musicgen.cli.main import main
from musicgen.files import midi_port as midi_out
from musicgen.files.midi import write_midi

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def model(tiny_model) -> str:
    return str(tiny_model)


@pytest.fixture(autouse=True)
def isolated_model_search(tmp_path_factory, monkeypatch):
    """No models from the user's own folder leak into these tests."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg")))
    monkeypatch.delenv("MUSICGEN_MODELS", raising=False)


def run(capsys, *argv) -> tuple[int, str, str]:
    """Run ``musicgen argv`` in-process; returns (exit status, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def generate(capsys, model, *extra) -> tuple[int, str, str]:
    return run(capsys, "generate", "--model", model, "--bars", 4, *extra)


def user_files(folder: Path) -> list[str]:
    """Every file below ``folder`` (temp files included), as sorted relative paths."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def read_manifest_lines(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]


# --- generate ----------------------------------------------------------------------------------


def test_help_runs_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "musicgen", "--help"], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert result.returncode == 0
    for command in ("generate", "batch", "genres", "models", "render", "play", "train", "data"):
        assert command in result.stdout


def test_generate_writes_midi_that_every_library_reads(tmp_path, capsys, model):
    out = tmp_path / "rise.mid"
    code, stdout, err = generate(capsys, model, "--genre", "rise", "--seed", 7, "-o", out)
    assert code == 0, err
    line = stdout.strip()
    assert "\n" not in line
    assert str(out) in line and "rise" in line and "seed 7" in line and "bars" in line and "events/s" in line
    notes = int(re.search(r"(\d+) notes", line).group(1))
    pm = pretty_midi.PrettyMIDI(str(out))
    assert sum(len(i.notes) for i in pm.instruments) == notes > 0
    assert pm.instruments[0].program == 0  # the genre's default instrument
    assert pm.get_tempo_changes()[1][0] == pytest.approx(120)  # the genre's default tempo
    assert sum(msg.type == "note_on" and msg.velocity > 0 for msg in mido.MidiFile(str(out))) == notes
    music21 = pytest.importorskip("music21")
    assert len(music21.converter.parse(str(out)).flatten().notes) > 0


def test_same_seed_gives_the_same_file_and_another_seed_does_not(tmp_path, capsys, model):
    paths = [tmp_path / "a.mid", tmp_path / "b.mid", tmp_path / "c.mid"]
    for path, seed in zip(paths, (3, 3, 4)):
        assert generate(capsys, model, "--genre", "fall", "--seed", seed, "-o", path)[0] == 0
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()


def test_default_seed_is_random_printed_and_repeatable(tmp_path, capsys, model, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, stdout, _ = generate(capsys, model, "--genre", "rise")
    assert code == 0
    seed = int(re.search(r"seed (\d+)", stdout).group(1))
    first = tmp_path / f"rise-seed{seed}.mid"  # default name: <genre>-seed<seed>.mid
    assert first.is_file()
    assert generate(capsys, model, "--genre", "rise", "--seed", seed, "-o", "again.mid")[0] == 0
    assert (tmp_path / "again.mid").read_bytes() == first.read_bytes()


def test_generate_with_wav_renders_audio_and_names_the_backend(tmp_path, capsys, model):
    code, stdout, err = generate(capsys, model, "--seed", 1, "-o", tmp_path / "p.mid", "--wav", tmp_path / "p.wav")
    assert code == 0, err
    assert "FluidSynth" in stdout or "built-in synthesis" in stdout
    with wave.open(str(tmp_path / "p.wav"), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 44100)
        midi_seconds = pretty_midi.PrettyMIDI(str(tmp_path / "p.mid")).get_end_time()
        assert wav.getnframes() >= midi_seconds * 44100 * 0.99


def test_generate_honours_blend_morph_tempo_and_instrument(tmp_path, capsys, model):
    out = tmp_path / "blend.mid"
    code, stdout, err = generate(
        capsys,
        model,
        "--genre",
        "rise=0.7,fall=0.3",
        "--morph-to",
        "fall",
        "--seed",
        2,
        "--tempo",
        100,
        "--program",
        73,
        "--temperature",
        0.8,
        "--top-k",
        10,
        "--top-p",
        0.9,
        "-o",
        out,
    )
    assert code == 0, err
    assert "rise=0.7,fall=0.3 -> fall" in stdout and "100 bpm" in stdout
    pm = pretty_midi.PrettyMIDI(str(out))
    assert pm.instruments[0].program == 73
    assert pm.get_tempo_changes()[1][0] == pytest.approx(100)


def test_generate_continues_a_primer(tmp_path, capsys, model, chorale_like):
    primer = write_midi(chorale_like, tmp_path / "primer.mid", tempo=120)
    out = tmp_path / "continued.mid"
    code, stdout, err = generate(capsys, model, "--genre", "rise", "--seed", 5, "--primer", primer, "-o", out)
    assert code == 0, err
    assert "after the primer" in stdout
    pm = pretty_midi.PrettyMIDI(str(out))
    primer_notes = sorted(
        (n.pitch, round(n.start, 3)) for n in pretty_midi.PrettyMIDI(str(primer)).instruments[0].notes
    )
    result_notes = sorted((n.pitch, round(n.start, 3)) for n in pm.instruments[0].notes)
    assert set(primer_notes) <= set(result_notes) and len(result_notes) > len(primer_notes)


def _corrupt_primer(folder: Path) -> Path:
    path = folder.parent / f"{folder.name}-corrupt.mid"
    path.write_bytes(b"MThd\x00\x00\x00\x06 not midi at all")
    return path


def _a_file(folder: Path) -> Path:
    path = folder.parent / f"{folder.name}-plain.txt"
    path.write_text("not a folder")
    return path


BAD_GENERATE = {
    "unknown genre": (["--genre", "polka"], "rise, fall"),
    "unknown blend part": (["--genre", "rise=0.5,polka=0.5"], "polka"),
    "unknown morph target": (["--morph-to", "polka"], "polka"),
    "zero temperature": (["--temperature", "0"], "temperature"),
    "negative temperature": (["--temperature", "-1"], "temperature"),
    "top-p zero": (["--top-p", "0"], "top-p"),
    "top-p above one": (["--top-p", "1.5"], "top-p"),
    "zero bars": (["--bars", "0"], "bars"),
    "absurd bars": (["--bars", "100000"], "bars"),
    "zero seconds": (["--seconds", "0"], "seconds"),
    "negative top-k": (["--top-k", "-3"], "top-k"),
    "bad key": (["--key", "H#"], "H#"),
    "bad instrument": (["--program", "128"], "program"),
    "zero max events": (["--max-events", "0"], "max events"),
    "missing primer": (["--primer", "{tmp}/nowhere.mid"], "nowhere.mid"),
    "corrupt primer": (["--primer", "{corrupt}"], "corrupt.mid"),
    "missing model": (["--model", "{tmp}/gone.json"], "gone"),
    "unknown model name": (["--model", "no-such-model"], "no-such-model"),
    "missing output folder": (["-o", "{tmp}/missing/out.mid"], "does not exist"),
    "output folder is a file": (["-o", "{file}/out.mid"], "does not exist"),
    "output is a folder": (["-o", "{tmp}"], "folder"),
    "missing wav folder": (["--wav", "{tmp}/missing/out.wav"], "does not exist"),
}


@pytest.mark.parametrize("case", sorted(BAD_GENERATE))
def test_bad_generate_input_is_one_line_exit_2_and_no_file(case, tmp_path, capsys, model):
    flags, expected = BAD_GENERATE[case]
    work = tmp_path / "work"
    work.mkdir()
    names = {"tmp": work, "corrupt": _corrupt_primer(work), "file": _a_file(work)}
    flags = [flag.format(**names) for flag in flags]
    if "-o" not in flags:
        flags += ["-o", str(work / "out.mid")]
    code, stdout, err = generate(capsys, model, "--seed", 1, *flags)
    assert code == 2
    assert err.startswith("musicgen: error: ") and err.count("\n") == 1, err
    assert expected in err
    assert user_files(work) == []


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write to read-only folders")
def test_read_only_output_folder_is_refused_before_any_work(tmp_path, capsys, model):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, _, err = generate(capsys, model, "-o", locked / "x.mid")
    finally:
        locked.chmod(0o700)
    assert code == 2 and "cannot write" in err and user_files(locked) == []


# --- batch -------------------------------------------------------------------------------------


def batch_args(model, out_dir, count=6, *extra):
    return ("batch", "--model", model, "--count", count, "--out-dir", out_dir, "--bars", 2, "--seed-base", 10, *extra)


def test_batch_writes_every_piece_and_a_manifest(tmp_path, capsys, model):
    out_dir = tmp_path / "out"
    code, stdout, err = run(capsys, *batch_args(model, out_dir, 6, "--temperature", 0.9))
    assert code == 0, err
    expected = [f"{'rise' if i % 2 == 0 else 'fall'}-seed{10 + i}.mid" for i in range(6)]  # --genre all cycles
    assert user_files(out_dir) == sorted(expected + ["manifest.jsonl"])
    entries = read_manifest_lines(out_dir)
    assert sorted(e["file"] for e in entries) == sorted(expected)
    for entry in entries:
        assert entry["file"] == f"{entry['genre']}-seed{entry['seed']}.mid"
        assert entry["request"]["temperature"] == 0.9 and entry["request"]["bars"] == 2
        pm = pretty_midi.PrettyMIDI(str(out_dir / entry["file"]))
        assert sum(len(i.notes) for i in pm.instruments) == entry["notes"]
        assert entry["duration_seconds"] == pytest.approx(pm.get_end_time(), abs=0.01)
    assert "6 pieces (6 new, 0 already there)" in stdout


def test_batch_piece_matches_generate_with_the_same_seed(tmp_path, capsys, model):
    out_dir = tmp_path / "out"
    assert run(capsys, *batch_args(model, out_dir, 2, "--genre", "fall"))[0] == 0
    assert generate(capsys, model, "--bars", 2, "--genre", "fall", "--seed", 11, "-o", tmp_path / "one.mid")[0] == 0
    assert (out_dir / "fall-seed11.mid").read_bytes() == (tmp_path / "one.mid").read_bytes()


def test_rerun_repairs_a_damaged_batch_without_duplicates(tmp_path, capsys, model):
    out_dir = tmp_path / "out"
    assert run(capsys, *batch_args(model, out_dir))[0] == 0
    original = {name: (out_dir / name).read_bytes() for name in user_files(out_dir) if name.endswith(".mid")}
    (out_dir / "fall-seed11.mid").unlink()  # a lost file ...
    lines = (out_dir / "manifest.jsonl").read_text().splitlines()
    kept = [line for line in lines if '"rise-seed12.mid"' not in line]  # ... a lost manifest line ...
    (out_dir / "manifest.jsonl").write_text("\n".join(kept) + '\n{"file": "rise-14.m')  # ... and a cut-off line
    code, stdout, err = run(capsys, *batch_args(model, out_dir))
    assert code == 0, err
    assert "2 new, 4 already there" in stdout
    entries = read_manifest_lines(out_dir)
    assert sorted(e["file"] for e in entries) == sorted(original)  # each piece exactly once
    assert {name: (out_dir / name).read_bytes() for name in original} == original  # same music again


def test_interrupted_batch_resumes_where_it_stopped(tmp_path, capsys, model, monkeypatch):
    from musicgen.model.model_files import load_model
    from musicgen.sampling.generate import GenerationRequest

    monkeypatch.setattr(batch, "CHUNK_SIZE", 2)
    loaded = load_model(model)
    requests = batch.plan_batch(GenerationRequest(bars=2), "all", 6, 10, loaded.genre_keys)
    out_dir = tmp_path / "out"
    steps = batch.run_batch(loaded, requests, out_dir)
    next(steps), next(steps)  # start, then the first chunk of two pieces
    steps.close()  # the user stops the batch
    assert len(read_manifest_lines(out_dir)) == 2
    code, stdout, err = run(capsys, *batch_args(model, out_dir))
    assert code == 0, err
    assert "4 new, 2 already there" in stdout
    assert len(read_manifest_lines(out_dir)) == 6 == len({e["file"] for e in read_manifest_lines(out_dir)})


def test_batch_with_worker_processes_matches_one_process(tmp_path, capsys, model):
    assert run(capsys, *batch_args(model, tmp_path / "one", 3))[0] == 0
    code, _, err = run(capsys, *batch_args(model, tmp_path / "two", 3, "--workers", 2))
    assert code == 0, err
    names = [n for n in user_files(tmp_path / "one") if n.endswith(".mid")]
    assert names == [n for n in user_files(tmp_path / "two") if n.endswith(".mid")]
    for name in names:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_batch_refuses_to_mix_settings_in_one_folder(tmp_path, capsys, model):
    out_dir = tmp_path / "out"
    assert run(capsys, *batch_args(model, out_dir, 2))[0] == 0
    code, _, err = run(capsys, *batch_args(model, out_dir, 2, "--temperature", 0.5))
    assert code == 2 and "temperature" in err and err.count("\n") == 1
    assert len(read_manifest_lines(out_dir)) == 2


@pytest.mark.parametrize(
    "flags, expected",
    [
        (["--count", "0"], "count"),
        (["--workers", "0"], "workers"),
        (["--genre", "polka"], "rise, fall"),
        (["--top-p", "2"], "top-p"),
        (["--model", "no-such-model"], "no-such-model"),
    ],
)
def test_bad_batch_input_creates_nothing(tmp_path, capsys, model, flags, expected):
    out_dir = tmp_path / "new" / "out"
    code, _, err = run(capsys, *batch_args(model, out_dir), *flags)  # later flags win in argparse
    assert code == 2 and expected in err and err.count("\n") == 1
    assert not (tmp_path / "new").exists()


def test_batch_out_dir_that_is_a_file_is_refused(tmp_path, capsys, model):
    (tmp_path / "taken").write_text("x")
    code, _, err = run(capsys, *batch_args(model, tmp_path / "taken"))
    assert code == 2 and "not a folder" in err


# --- genres, models ----------------------------------------------------------------------------


def test_genres_lists_the_models_genres_with_instrument_and_tempo(capsys, model):
    code, stdout, _ = run(capsys, "genres", "--model", model)
    assert code == 0
    rise = next(line for line in stdout.splitlines() if line.startswith("rise "))
    fall = next(line for line in stdout.splitlines() if line.startswith("fall "))
    assert "Rising scales" in rise and "Acoustic Grand Piano" in rise and "120" in rise
    assert "Falling arpeggios" in fall and "Violin" in fall and " 90 " in fall


def test_models_lists_models_on_the_search_path(tmp_path, capsys, model, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    for suffix in (".json", ".safetensors"):
        shutil.copy(Path(model).with_suffix(suffix), folder / f"mine{suffix}")
        shutil.copy(Path(model).with_suffix(suffix), folder / f"musicgen-default{suffix}")
    (folder / "broken.json").write_text("{not json")
    (folder / "broken.safetensors").write_bytes(b"")
    monkeypatch.setenv("MUSICGEN_MODELS", str(folder))
    code, stdout, _ = run(capsys, "models")
    assert code == 0
    assert f"mine  {folder / 'mine.json'}" in stdout
    assert "musicgen-default  (default)" in stdout
    assert "genres: rise, fall" in stdout and "parameters" in stdout
    assert "valid_nll: rise" in stdout  # the metrics the trainer stored in the card
    assert "broken" in stdout and "unusable" in stdout


def test_missing_default_model_says_where_it_looked(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("musicgen.model.model_files.search_path", lambda: [tmp_path])
    code, _, err = run(capsys, "genres")
    assert code == 2 and "musicgen-default" in err and str(tmp_path) in err


# --- render, play ------------------------------------------------------------------------------


def test_render_writes_a_wav_and_names_the_backend(tmp_path, capsys, chorale_like):
    midi = write_midi(chorale_like, tmp_path / "c.mid", tempo=240, program=19)
    code, stdout, err = run(capsys, "render", midi, tmp_path / "c.wav")
    assert code == 0, err
    assert "FluidSynth" in stdout or "built-in synthesis" in stdout
    with wave.open(str(tmp_path / "c.wav"), "rb") as wav:
        assert wav.getnframes() >= pretty_midi.PrettyMIDI(str(midi)).get_end_time() * wav.getframerate()


def test_render_of_a_corrupt_file_is_one_line_and_no_wav(tmp_path, capsys):
    bad = _corrupt_primer(tmp_path)
    code, _, err = run(capsys, "render", bad, tmp_path / "out.wav")
    assert code == 2 and "corrupt.mid" in err and err.count("\n") == 1
    assert not (tmp_path / "out.wav").exists()


def test_list_ports_works_or_explains_in_one_line(capsys):
    code, stdout, err = run(capsys, "play", "--list-ports")
    if code == 0:
        assert stdout.strip()
    else:
        assert code == 2 and err.startswith("musicgen: error: ") and err.count("\n") == 1


def test_list_ports_prints_each_port(capsys, monkeypatch):
    monkeypatch.setattr(midi_out, "output_port_names", lambda: ["FLUID Synth 128:0", "Midi Through 14:0"])
    code, stdout, _ = run(capsys, "play", "--list-ports")
    assert code == 0 and stdout.splitlines() == ["FLUID Synth 128:0", "Midi Through 14:0"]


def test_play_without_ports_says_so(tmp_path, capsys, monkeypatch, chorale_like):
    midi = write_midi(chorale_like, tmp_path / "c.mid")
    monkeypatch.setattr(midi_out, "output_port_names", lambda: [])
    for argv in (["play", "--list-ports"], ["play", midi]):
        code, _, err = run(capsys, *argv)
        assert code == 2 and "no MIDI output ports" in err and err.count("\n") == 1


class FakePort:
    """Stands in for a mido output port and records what was sent."""

    def __init__(self):
        self.sent, self.closed = [], False

    def send(self, message):
        self.sent.append(message)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.closed = True


def test_play_sends_every_note_to_the_chosen_port(tmp_path, capsys, monkeypatch):
    pm = pretty_midi.PrettyMIDI(initial_tempo=600)
    instrument = pretty_midi.Instrument(program=0)
    instrument.notes.extend(pretty_midi.Note(80, 60 + i, i * 0.02, i * 0.02 + 0.02) for i in range(5))
    pm.instruments.append(instrument)
    midi = tmp_path / "short.mid"
    pm.write(str(midi))
    port = FakePort()
    opened = []
    fake_mido = type("FakeMido", (), {"open_output": staticmethod(lambda name, **kw: opened.append(name) or port)})
    monkeypatch.setattr(midi_out, "output_port_names", lambda: ["Midi Through 14:0", "FLUID Synth 128:0"])
    monkeypatch.setattr(midi_out, "_backend", lambda: fake_mido)
    code, stdout, err = run(capsys, "play", midi, "--port", "fluid")
    assert code == 0, err
    assert opened == ["FLUID Synth 128:0"] and port.closed
    assert [m.note for m in port.sent if m.type == "note_on" and m.velocity > 0] == [60, 61, 62, 63, 64]


def test_play_unknown_port_lists_the_available_ones(tmp_path, capsys, monkeypatch, chorale_like):
    midi = write_midi(chorale_like, tmp_path / "c.mid")
    monkeypatch.setattr(midi_out, "output_port_names", lambda: ["Midi Through 14:0"])
    code, _, err = run(capsys, "play", midi, "--port", "Yamaha")
    assert code == 2 and "Yamaha" in err and "Midi Through 14:0" in err


# --- installation --------------------------------------------------------------------------------


def test_default_model_is_found_after_a_non_editable_install(tmp_path):
    card = REPO / "models" / "musicgen-default.json"
    if not card.is_file() or not card.with_suffix(".safetensors").is_file():
        pytest.skip("models/musicgen-default.json is not trained yet")
    source = tmp_path / "src"  # a clean copy, so the build leaves nothing in the repository
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("musicgen", "gui"):
        shutil.copytree(REPO / folder, source / folder, ignore=ignore)
    (source / "models").mkdir()
    for path in (REPO / "models").iterdir():
        if path.suffix in (".py", ".json", ".safetensors"):
            shutil.copy(path, source / "models" / path.name)
    (source / "data" / "corpus").mkdir(parents=True)
    for name in ("dataset.json", "dataset.npz"):
        shutil.copy(REPO / "data" / "corpus" / name, source / "data" / "corpus" / name)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    shipped = sorted(p.name for p in (target / "musicgen_models").iterdir())
    assert "musicgen-default.json" in shipped and "musicgen-default.safetensors" in shipped
    assert sorted(p.name for p in (target / "musicgen_corpus").iterdir()) == ["dataset.json", "dataset.npz"]
    env = {**os.environ, "PYTHONPATH": str(target), "XDG_DATA_HOME": str(tmp_path / "xdg")}
    env.pop("MUSICGEN_MODELS", None)
    found = subprocess.run(
        [sys.executable, "-c", "from musicgen.model.model_files import find_model; print(find_model())"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=True,
    )
    # pyfluidsynth prints where it found its library when $CI is set: the path is the last line
    assert Path(found.stdout.strip().splitlines()[-1]) == target / "musicgen_models" / "musicgen-default.json"


def test_a_reader_that_stops_early_ends_the_listing_quietly(tiny_model):
    """`musicgen models | head -1`: the pipe closes before the listing is written; no traceback."""
    listing = subprocess.Popen(
        [sys.executable, "-m", "musicgen", "genres", "--model", str(tiny_model)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    listing.stdout.close()  # the reader is gone before the first line
    _, errors = listing.communicate(timeout=120)
    assert listing.returncode == 0, errors.decode()
    assert b"Traceback" not in errors and b"BrokenPipe" not in errors


def test_python_dash_m_gui_is_the_app_command():
    run = subprocess.run(
        [sys.executable, "-m", "gui", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert run.returncode == 0 and run.stdout.startswith("usage: musicgen-gui")

"""Allowed input never crashes: hot temperatures, very long primers, any flag values; and the small
things a user notices (training's epoch numbers and last line, --help, data stats totals, LICENSE)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import mido
import pretty_midi
import pytest
from cli_run import run
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated_model_search(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg")))
    monkeypatch.delenv("MUSICGEN_MODELS", raising=False)


def assert_reads_back(path: Path, notes: int | None = None, empty_ok: bool = False) -> None:
    """mido and pretty_midi both read ``path``, with the same number of notes (``notes`` if given)."""
    played = sum(msg.type == "note_on" and msg.velocity > 0 for msg in mido.MidiFile(str(path)))
    assert played == sum(len(i.notes) for i in pretty_midi.PrettyMIDI(str(path)).instruments)
    assert played > 0 or empty_ok
    if notes is not None:
        assert played == notes


# --- item 2: temperature 5 and 10 -----------------------------------------------------------------


@pytest.mark.parametrize("temperature", [5.0, 10.0])
def test_hot_temperatures_write_files_that_every_library_reads(tiny_model, tmp_path, temperature):
    from musicgen.model.model_files import load_model
    from musicgen.sampling.generate import Generator
    from musicgen.sampling.request import GenerationRequest

    generator = Generator(load_model(str(tiny_model)))
    requests = [
        GenerationRequest(
            genre=("rise", "fall", "rise=0.5,fall=0.5")[seed % 3], seed=seed, bars=3, temperature=temperature, top_p=1.0
        )
        for seed in range(48)
    ]
    for request, result in zip(requests, generator.generate_batch(requests)):
        path = result.write_midi(tmp_path / f"{request.seed}.mid")
        assert_reads_back(path, len(result.piece.notes))


def test_generate_and_batch_at_temperature_10(tiny_model, tmp_path):
    for seed in (37, 38, 39):
        code, _, err = run(
            "generate",
            "--model",
            tiny_model,
            "--bars",
            3,
            "--temperature",
            10,
            "--top-p",
            1,
            "--seed",
            seed,
            "-o",
            tmp_path / f"g{seed}.mid",
        )
        assert code == 0, err
        assert_reads_back(tmp_path / f"g{seed}.mid")
    code, stdout, err = run(
        "batch", "--model", tiny_model, "--count", 16, "--bars", 3, "--temperature", 10, "--out-dir", tmp_path / "batch"
    )
    assert code == 0, err
    assert "16 pieces (16 new" in stdout
    for line in (tmp_path / "batch" / "manifest.jsonl").read_text().splitlines():
        assert_reads_back(tmp_path / "batch" / json.loads(line)["file"], json.loads(line)["notes"])


# --- item 4: long primers -------------------------------------------------------------------------


def long_midi_file(path: Path, notes: int) -> Path:
    """A valid one-track file of ``notes`` eighth notes (mido writes it in well under a second per 100,000)."""
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    for i in range(notes):
        pitch = 60 + (i * 7) % 12
        track.append(mido.Message("note_on", note=pitch, velocity=80, time=0))
        track.append(mido.Message("note_off", note=pitch, velocity=0, time=240))
    midi.save(str(path))
    return path


def test_a_200000_note_primer_is_continued(tiny_model, tmp_path):
    from musicgen.model.model_files import load_model
    from musicgen.sampling.generate import Generator, generate_piece
    from musicgen.sampling.request import GenerationRequest

    primer = long_midi_file(tmp_path / "long.mid", 200_000)
    result = generate_piece(
        Generator(load_model(str(tiny_model))), GenerationRequest(genre="rise", seed=1, bars=2, primer=str(primer))
    )
    assert len(result.piece.notes) > 200_000  # the primer's notes and the new bars
    assert result.piece.primer_end == 200_000 * 6  # new music starts after the primer's last eighth
    assert result.bars_generated >= 1


def test_corrupt_files_are_still_called_unreadable(tmp_path):
    from musicgen.files.midi import midi_to_piece

    data = long_midi_file(tmp_path / "long.mid", 2000).read_bytes()
    (tmp_path / "cut.mid").write_bytes(data[: len(data) // 2])
    header = data[:14]  # MThd and its fields
    # notes that each last 2^28 - 1 ticks (the largest delta time a file can hold): a million quarter notes
    huge = b"".join(b"\x00\x90\x3c\x50" + b"\xff\xff\xff\x7f\x80\x3c\x00" for _ in range(2000))
    (tmp_path / "huge.mid").write_bytes(
        header + b"MTrk" + (len(huge) + 4).to_bytes(4, "big") + huge + b"\x00\xff\x2f\x00"
    )
    for name in ("cut.mid", "huge.mid"):
        with pytest.raises(ValueError, match=rf"^{name}: not a readable MIDI file \(.+\)$"):
            midi_to_piece(tmp_path / name)


# --- item 8: training's epochs and last line, help, stats totals, licence ------------------------


def test_training_counts_epochs_from_1_and_ends_with_real_figures(tiny_dataset, tmp_path, capsys):
    from musicgen.progress import run_training_bar
    from musicgen.training.train import TrainConfig, train

    config = TrainConfig(
        dataset=str(tiny_dataset),
        out=str(tmp_path / "m"),
        n_layer=1,
        n_hidden=16,
        n_embd=8,
        genre_dim=4,
        dropout=0.0,
        batch_size=4,
        bptt=32,
        epochs=2,
        warmup_steps=1,
        seed=0,
    )
    steps = list(train(config))
    summaries = [i for i, s in enumerate(steps) if s.message.startswith("epoch ")]
    assert [steps[i].message.split(":")[0] for i in summaries] == ["epoch 1", "epoch 2"]
    assert {s.epoch for s in steps[: summaries[0] + 1]} == {1}  # the bar says what the summary says
    assert {s.epoch for s in steps[summaries[0] + 1 : summaries[1] + 1]} == {2}
    last = run_training_bar(iter(steps))
    final_bar = capsys.readouterr().out.strip().splitlines()[-1]
    trained = [s for s in steps if s.loss == s.loss][-1]
    assert last.message.startswith("epoch 2")
    assert f"loss {trained.loss:.3f}" in final_bar and "loss 0.000" not in final_bar
    assert " 0 tok/s" not in final_bar and final_bar.startswith("epoch 2")


def test_train_evaluate_and_data_build_explain_their_flags():
    helps = {command: run(*command.split(), "--help")[1] for command in ("train", "evaluate", "data build")}
    flat = {command: " ".join(text.split()) for command, text in helps.items()}
    assert "--threads THREADS torch threads" in flat["train"] and "0 = torch's default" in flat["train"]
    assert "0 = all of them" in flat["train"] and "--resume" in flat["train"]
    from musicgen.cli.main import build_parser

    commands = next(a for a in build_parser()._actions if a.dest == "command").choices
    for action in commands["train"]._actions:  # every flag says what it does, not just its default
        assert action.help and not action.help.startswith("(default"), action.option_strings
    assert "nats per event" in flat["evaluate"] and "Kneser-Ney" in flat["evaluate"]
    assert "music21 corpus" in flat["data build"] and "skipped" in flat["data build"]


def test_data_stats_ends_with_a_totals_row(tiny_dataset):
    code, stdout, err = run("data", "stats", "--dataset", tiny_dataset)
    assert code == 0, err
    rows = [line.split() for line in stdout.splitlines()[1:]]
    assert rows[-1][0] == "total" and [r[0] for r in rows[:-1]] == ["rise", "fall"]
    for column in range(1, 6):  # pieces per split, notes, tokens
        assert int(rows[-1][column]) == sum(int(r[column]) for r in rows[:-1])


def test_the_code_has_its_mit_licence_file():
    text = (REPO / "LICENSE").read_text()
    assert text.startswith("MIT License") and "Copyright (c) 2026 musicgen authors" in text
    assert "MIT" in (REPO / "README.md").read_text()


# --- the command line never shows a traceback --------------------------------------------------

NUMBER_TEXT = st.one_of(st.integers(-3, 70).map(str), st.sampled_from(["0", "1e9", "-1", "nan", "inf", "2.5", "x", ""]))
FLAG_VALUES = {
    "--genre": st.sampled_from(["rise", "fall", "rise=0.7,fall=0.3", "rise=0,fall=0", "nope", "rise=x", "", "all"]),
    "--morph-to": st.sampled_from(["fall", "rise=1", "nope"]),
    "--bars": NUMBER_TEXT,
    "--seconds": NUMBER_TEXT,
    "--part-bars": NUMBER_TEXT,
    "--max-events": NUMBER_TEXT,
    "--meter": st.sampled_from(["6/8", "3/4", "4/4", "7/8", "0/4", "4/0", "x", "300/4"]),
    "--form": st.sampled_from(["AABB", "AB", "ABAC", "free", "BA", "Z", "aabb", ""]),
    "--style-strength": NUMBER_TEXT,
    "--tempo": NUMBER_TEXT,
    "--program": NUMBER_TEXT,
    "--key": st.sampled_from(["C", "F#", "Bb", "H", "c", ""]),
    "--temperature": NUMBER_TEXT,
    "--top-k": NUMBER_TEXT,
    "--top-p": NUMBER_TEXT,
    "--seed": NUMBER_TEXT,
}


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(sorted(FLAG_VALUES)), st.integers(), max_size=5), st.data())
def test_generate_with_any_flags_exits_0_or_2_with_one_line(tiny_model, flags, data):
    argv = ["generate", "--model", str(tiny_model), "--max-events", "300"]  # short pieces; a fuzzed value wins
    for flag in flags:
        argv += [flag, data.draw(FLAG_VALUES[flag], label=flag)]
    with tempfile.TemporaryDirectory() as folder:
        code, _, err = run(*argv, "-o", Path(folder) / "out.mid")
        event(f"exit {code}")
        assert code in (0, 2), (argv, err)
        assert "Traceback" not in err, (argv, err)
        if code == 2:
            assert err.count("\n") == 1 and "error: " in err, (argv, err)
            assert not (Path(folder) / "out.mid").exists()
        else:
            assert_reads_back(Path(folder) / "out.mid", empty_ok=True)  # --max-events 1 may end before a note

"""Dataset: building from MIDI folders, splits, loading errors, and the committed corpus."""

from __future__ import annotations

import json

import numpy as np
import pretty_midi
import pytest

from musicgen.cli.main import main
from musicgen.tokens.codec import piece_to_tokens, tokens_to_piece
from musicgen.training.dataset import DEFAULT_DATASET, build_midi_folder, load_dataset


def _song(path, pitches, program=0):
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    inst = pretty_midi.Instrument(program)
    for i, p in enumerate(pitches):
        inst.notes.append(pretty_midi.Note(90, p, i * 0.25, (i + 1) * 0.25))
    pm.instruments.append(inst)
    pm.write(str(path))


@pytest.fixture
def midi_folder(tmp_path):
    root = tmp_path / "mine"
    for genre, base in (("waltz", 60), ("march", 48)):
        (root / genre).mkdir(parents=True)
        for i in range(6):
            _song(root / genre / f"{genre}{i}.mid", [base + (k * (i + 1)) % 12 for k in range(20)])
    (root / "waltz" / "broken.mid").write_bytes(b"not midi at all")
    return root


def test_build_from_midi_folder_lists_corrupt_files(midi_folder, tmp_path):
    out = tmp_path / "ds"
    steps = list(build_midi_folder(midi_folder, out, workers=1))
    assert steps[-1].done == steps[-1].total == 13
    dataset = load_dataset(out)
    assert dataset.genre_keys == ["march", "waltz"]
    assert len(dataset.genre) == 12
    assert [f[0].endswith("broken.mid") for f in dataset.manifest["failed"]] == [True]
    for g in range(2):  # stratified: each genre has train, valid and test pieces
        assert all(dataset.indices(split, g) for split in ("train", "valid", "test"))
    # Rerun: everything cached, nothing parsed again.
    again = list(build_midi_folder(midi_folder, out, workers=1))
    assert again[0].message == "13 units cached"


def test_cli_build_and_stats(midi_folder, tmp_path, capsys):
    out = tmp_path / "ds2"
    assert main(["data", "build", "--midi-dir", str(midi_folder), "--out", str(out), "--workers", "1"]) == 0
    assert "12 pieces" in capsys.readouterr().out
    assert main(["data", "stats", "--dataset", str(out)]) == 0
    text = capsys.readouterr().out
    assert "waltz" in text and "march" in text


def test_loading_errors_are_one_line(tmp_path, capsys, tiny_dataset):
    assert main(["data", "stats", "--dataset", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no dataset here" in err
    copy = tmp_path / "old"
    copy.mkdir()
    manifest = json.loads((tiny_dataset / "dataset.json").read_text())
    manifest["codec"]["codec_version"] = 0
    (copy / "dataset.json").write_text(json.dumps(manifest))
    (copy / "dataset.npz").write_bytes((tiny_dataset / "dataset.npz").read_bytes())
    with pytest.raises(ValueError, match="made with event codec version 0"):
        load_dataset(copy)
    assert main(["data", "build", "--midi-dir", str(tmp_path / "nowhere")]) == 2


def test_committed_corpus_has_every_genre_and_round_trips():
    dataset = load_dataset(DEFAULT_DATASET)
    expected = {"bach", "reel", "jig", "hornpipe", "chinese", "german", "scottish"}
    assert expected <= set(dataset.genre_keys)
    for g, key in enumerate(dataset.genre_keys):
        assert len(dataset.indices("train", g)) >= 100, key
        for i in dataset.indices("test", g)[:5]:
            tokens = dataset.piece_tokens(i)
            assert list(piece_to_tokens(tokens_to_piece(tokens))) == list(tokens)
    sources = [p["source"] for p in dataset.manifest["pieces"]]
    assert len(sources) == len(set(sources))
    assert np.all(np.diff(dataset.offsets) > 2)


def test_training_runs_on_a_midi_folder_dataset(midi_folder, tmp_path):
    from musicgen.model.model_files import load_model
    from musicgen.training.train import TrainConfig, train

    out = tmp_path / "ds3"
    list(build_midi_folder(midi_folder, out, workers=1))
    config = TrainConfig(
        dataset=str(out),
        out=str(tmp_path / "mine"),
        n_layer=1,
        n_hidden=16,
        n_embd=8,
        genre_dim=4,
        batch_size=4,
        bptt=16,
        epochs=1,
        seed=1,
    )
    list(train(config))
    loaded = load_model(str(tmp_path / "mine.json"))
    assert loaded.genre_keys == ["march", "waltz"]
    assert loaded.card["dataset"]["pieces"] == 12

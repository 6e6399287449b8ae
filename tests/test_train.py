"""Training: the tiny model learns, checkpoints resume exactly, bad input stops cleanly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from musicgen.model.model_files import load_model
from musicgen.training.dataset import load_dataset
from musicgen.training.nll import evaluate_nll
from musicgen.training.train import TrainConfig, TrainingError, train


def test_tiny_model_learns_and_has_card(tiny_model, tiny_dataset):
    card = json.loads(Path(tiny_model).read_text())
    history = card["training"]["history"]
    assert history[-1]["valid_mean"] < history[0]["valid_mean"]
    assert set(card["metrics"]["valid_nll"]) == {"rise", "fall"}
    assert card["dataset"]["fingerprint"] == load_dataset(tiny_dataset).fingerprint
    loaded = load_model(str(tiny_model))
    assert loaded.genre_keys == ["rise", "fall"]


def test_conditioning_matters(tiny_model, tiny_dataset):
    loaded = load_model(str(tiny_model))
    dataset = load_dataset(tiny_dataset)
    pieces = dataset.indices("test")
    right = evaluate_nll(loaded.model, dataset, pieces)
    for g in right:
        wrong = evaluate_nll(loaded.model, dataset, dataset.indices("test", g), genre_override=1 - g)
        assert right[g] < wrong[g]


def _config(tiny_dataset, out, **overrides):
    values = dict(
        dataset=str(tiny_dataset),
        out=str(out),
        n_layer=1,
        n_hidden=16,
        n_embd=8,
        genre_dim=4,
        dropout=0.0,
        batch_size=4,
        bptt=16,
        epochs=2,
        bf16=False,
        seed=3,
        checkpoint_minutes=0.0,
    )
    values.update(overrides)
    return TrainConfig(**values)


def _tiny_train_args(tiny_dataset, out, batch_size: int, epochs: int) -> list[str]:
    """``musicgen train ...`` for a one-layer 16-unit network (after ``python -m`` or ``torchrun ... -m``)."""
    sizes = ["--n-layer", "1", "--n-hidden", "16", "--n-embd", "8", "--genre-dim", "4", "--bptt", "16"]
    run = ["--batch-size", str(batch_size), "--epochs", str(epochs), "--no-bf16"]
    return ["musicgen", "train", "--dataset", str(tiny_dataset), "--out", str(out), *sizes, *run]


def test_resume_continues_with_same_step_count(tiny_dataset, tmp_path):
    # One uninterrupted run ...
    full = [p for p in train(_config(tiny_dataset, tmp_path / "a" / "m"))]
    # ... and one stopped mid-epoch (the checkpoint is written every step here), then resumed.
    partial = train(_config(tiny_dataset, tmp_path / "b" / "m"))
    for p in partial:
        if p.done == 7 and not p.message:
            break
    partial.close()
    ckpt = torch.load(tmp_path / "b" / "m.ckpt", weights_only=True)
    assert ckpt["step"] == 7
    resumed = [p for p in train(_config(tiny_dataset, tmp_path / "b" / "m"), resume=True)]
    assert resumed[-1].done == full[-1].done
    a = torch.load(tmp_path / "a" / "m.ckpt", weights_only=True)["model"]
    b = torch.load(tmp_path / "b" / "m.ckpt", weights_only=True)["model"]
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-5), key


def test_kill_minus_nine_then_resume(tiny_dataset, tmp_path):
    out = tmp_path / "k" / "m"
    args = [sys.executable, "-m", *_tiny_train_args(tiny_dataset, out, batch_size=4, epochs=40)]
    args += ["--checkpoint-minutes", "0"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpt = out.with_suffix(".ckpt")
    import time

    deadline = time.time() + 120
    while time.time() < deadline:
        if ckpt.exists():
            try:
                if torch.load(ckpt, weights_only=True)["step"] >= 20:
                    break
            except Exception:
                pass
        time.sleep(0.2)
    proc.kill()
    proc.wait()
    step_at_kill = torch.load(ckpt, weights_only=True)["step"]
    assert step_at_kill >= 20
    config = _config(tiny_dataset, out, epochs=40)
    progress = train(config, resume=True)
    first = next(progress)
    assert first.done == step_at_kill
    second = next(progress)
    assert second.done == step_at_kill + 1
    progress.close()


def test_missing_dataset_is_a_clear_error(tmp_path):
    with pytest.raises(TrainingError, match="no dataset here"):
        list(train(_config(tmp_path / "nothing", tmp_path / "m")))


def test_nan_loss_stops_and_keeps_checkpoint(tiny_dataset, tmp_path):
    config = _config(tiny_dataset, tmp_path / "m", lr=float("inf"), warmup_steps=1)
    with pytest.raises(TrainingError, match="loss became"):
        list(train(config))


def test_torchrun_two_cpu_processes(tiny_dataset, tmp_path):
    out = tmp_path / "ddp" / "m"
    torchrun = Path(sys.executable).with_name("torchrun")
    args = [str(torchrun), "--standalone", "--nproc_per_node=2", "-m"]
    args += [*_tiny_train_args(tiny_dataset, out, batch_size=2, epochs=2), "--threads", "1"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    result = subprocess.run(args, capture_output=True, text=True, timeout=180, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["training"]["hardware"].startswith("2 x ")
    assert card["training"]["epochs"] >= 1
    ckpt = torch.load(out.with_suffix(".ckpt"), weights_only=True)
    assert ckpt["epoch"] == 2


def test_every_epoch_has_the_same_number_of_steps(tiny_dataset, tmp_path):
    steps = [p for p in train(_config(tiny_dataset, tmp_path / "m", epochs=4)) if p.valid_nll]
    per_epoch = steps[0].done
    assert [p.done for p in steps] == [per_epoch * (e + 1) for e in range(4)]


def test_resume_takes_the_network_from_the_checkpoint_and_refuses_a_conflict(tiny_dataset, tmp_path):
    from musicgen.training.train import TrainConfig, TrainingError, resume_config, train

    out = tmp_path / "m"
    config = TrainConfig(
        dataset=str(tiny_dataset),
        out=str(out),
        n_hidden=24,
        n_embd=8,
        genre_dim=4,
        batch_size=4,
        bptt=16,
        epochs=1,
        warmup_steps=2,
    )
    for _ in train(config):
        pass
    resumed, note = resume_config(TrainConfig(dataset=str(tiny_dataset), out=str(out)), set())
    assert (resumed.n_hidden, resumed.n_embd, resumed.genre_dim) == (24, 8, 4) and "n_hidden=24" in note
    with pytest.raises(TrainingError, match="--n-hidden 64 conflicts with the checkpoint's 24"):
        resume_config(TrainConfig(dataset=str(tiny_dataset), out=str(out), n_hidden=64), {"n_hidden"})


def test_training_without_out_never_writes_the_shipped_model(monkeypatch, tmp_path):
    from musicgen.paths import REPO_MODELS
    from musicgen.training.config import TrainConfig

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    out = TrainConfig().out
    assert out.startswith(str(tmp_path)) and not out.startswith(str(REPO_MODELS))


@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_a_gru_or_tanh_rnn_trains_loads_and_samples(tiny_dataset, tmp_path, cell):
    from musicgen.sampling.generate import Generator, generate_piece
    from musicgen.sampling.request import GenerationRequest

    out = tmp_path / cell
    for _ in train(_config(tiny_dataset, out, cell=cell, n_layer=2, epochs=3, lr=1e-2)):
        pass
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["config"]["cell"] == cell
    history = card["training"]["history"]
    assert history[-1]["valid_mean"] < history[0]["valid_mean"]
    loaded = load_model(str(out.with_suffix(".json")))
    assert loaded.model.config.cell == cell
    request = GenerationRequest(genre="rise", bars=4, seed=5)
    pieces = {}
    for precision in ("fp32", "int8"):
        pieces[precision] = generate_piece(Generator(loaded, precision=precision), request)
        assert pieces[precision].bars_generated == 4
    again = generate_piece(Generator(loaded, precision="int8"), request)
    assert again.tokens == pieces["int8"].tokens  # reproducible per seed with the compiled engine
    plain = generate_piece(Generator(loaded, fast=False), request)
    assert plain.bars_generated == 4


def test_cell_flag_is_checked_by_the_cli():
    result = subprocess.run(
        [sys.executable, "-m", "musicgen", "train", "--cell", "transformer"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "invalid choice: 'transformer'" in result.stderr


def test_balance_genres_evens_the_tokens_per_genre_and_keeps_the_epoch_length():
    from musicgen.training.streams import balance_genres, transpose_ranges

    dataset = load_dataset()
    pieces = dataset.indices("train")
    ranges = transpose_ranges(dataset, pieces)

    def per_genre(chosen):
        counts = {}
        for i in chosen:
            g = int(dataset.genre[i])
            counts[g] = counts.get(g, 0) + len(dataset.piece_tokens(i))
        return counts

    before = per_genre(pieces)
    assert max(before.values()) / min(before.values()) > 2  # the corpus is uneven: 118k to 282k tokens
    kept, kept_ranges = balance_genres(dataset, pieces, ranges, seed=3)
    after = per_genre(kept)
    mean = sum(before.values()) / len(before)
    assert all(abs(n - mean) / mean < 0.08 for n in after.values()), after
    assert abs(sum(after.values()) - sum(before.values())) / sum(before.values()) < 0.03
    assert len(kept_ranges) == len(kept)
    assert all(span == ranges[pieces.index(i)] for i, span in zip(kept[:200], kept_ranges[:200]))
    assert balance_genres(dataset, pieces, ranges, seed=3)[0] == kept  # a pure function of the seed


def test_balanced_training_runs(tiny_dataset, tmp_path):
    reports = list(train(_config(tiny_dataset, tmp_path / "m", epochs=1, balance_genres=True)))
    assert reports[-1].valid_nll
    card = json.loads((tmp_path / "m.json").read_text())
    assert card["training"]["config"]["balance_genres"] is True

"""Evaluation: the n-gram baseline is a proper distribution, and ``musicgen evaluate`` reports
NLL per genre against it, identifies the toy genres, and writes the metrics into the model card."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import synthetic_records

from musicgen.cli.main import main
from musicgen.genres import Genre
from musicgen.model.model_files import load_model
from musicgen.tokens.codec import BOS, DUR, PITCH, SHIFT, VOCAB_SIZE
from musicgen.training.dataset import assemble, load_dataset
from musicgen.training.evaluate import evaluate_model, metrics_markdown, update_card_metrics
from musicgen.training.ngram import NGramModel
from musicgen.training.nll import evaluate_nll


@pytest.fixture(scope="module")
def dataset(tiny_dataset):
    return load_dataset(tiny_dataset)


@pytest.fixture(scope="module")
def rise_ngram(dataset):
    return NGramModel.fit([dataset.piece_tokens(i) for i in dataset.indices("train", 0)])


@pytest.fixture(scope="module")
def test_result(tiny_model, dataset):
    steps = list(evaluate_model(load_model(str(tiny_model)), dataset, "test"))
    return steps, steps[-1].result


@pytest.fixture
def model_copy(tiny_model, tmp_path):
    """The tiny model's files copied, so tests may write into its card."""
    for suffix in (".json", ".safetensors"):
        shutil.copy(Path(tiny_model).with_suffix(suffix), tmp_path / f"tiny{suffix}")
    return tmp_path / "tiny.json"


def test_ngram_gives_a_distribution_over_the_vocabulary(dataset, rise_ngram):
    piece = list(dataset.piece_tokens(dataset.indices("train", 0)[0]))
    unseen = [BOS, PITCH.token(21), DUR.token(96), SHIFT.token(48), PITCH.token(108)]
    for context in ([BOS], piece[:7], piece[:40], unseen, []):
        p = rise_ngram.distribution(context)
        assert p.shape == (VOCAB_SIZE,)
        assert p.sum() == pytest.approx(1.0, abs=1e-9)
        assert p.min() > 0  # every token stays possible


def test_ngram_predicts_its_training_data_better_than_uniform(dataset, rise_ngram):
    for i in dataset.indices("train", 0):
        assert rise_ngram.nll(dataset.piece_tokens(i)) < 0.5 * math.log(VOCAB_SIZE)
    log_probs = rise_ngram.log_probs(dataset.piece_tokens(0))
    assert log_probs.shape == (len(dataset.piece_tokens(0)) - 1,)
    assert rise_ngram.nll(dataset.piece_tokens(0)) == pytest.approx(-log_probs.mean())


def test_ngram_backs_off_from_unseen_contexts(dataset, rise_ngram):
    # Rising runs are all eighth notes: after a pitch, the lower orders still predict DUR 6,
    # even when the longer context before it never occurred in training.
    context = [BOS, PITCH.token(21), DUR.token(96), SHIFT.token(48), PITCH.token(60)]
    p = rise_ngram.distribution(context)
    assert int(np.argmax(p)) == DUR.token(6)
    nonsense = [BOS] + [PITCH.token(108), SHIFT.token(48)] * 20
    assert math.isfinite(rise_ngram.nll(nonsense))
    assert rise_ngram.nll(nonsense) > rise_ngram.nll(dataset.piece_tokens(dataset.indices("train", 0)[0]))


def test_evaluate_reports_every_genre_against_the_baseline(tiny_model, dataset, test_result):
    steps, result = test_result
    assert [s.done for s in steps] == sorted(s.done for s in steps)
    assert steps[-1].done == steps[-1].total == len(dataset.indices("test"))
    assert set(result["test_nll"]) == set(result["baseline_nll"]) == {"rise", "fall"}
    # Same measure as the validation NLL in training ...
    model = load_model(str(tiny_model)).model
    expected = evaluate_nll(model, dataset, dataset.indices("test"))
    for g, key in enumerate(dataset.genre_keys):
        assert result["test_nll"][key] == pytest.approx(expected[g], abs=1e-3)
    # ... and the baseline is fit on the train split of the piece's own genre.
    fall_test = dataset.indices("test", 1)
    fall_ngram = NGramModel.fit([dataset.piece_tokens(i) for i in dataset.indices("train", 1)])
    assert result["baseline_nll"]["fall"] == pytest.approx(fall_ngram.nll(dataset.piece_tokens(fall_test[0])), abs=1e-3)
    assert result["evaluated_on"]["split"] == "test"
    assert result["evaluated_on"]["dataset_fingerprint"] == dataset.fingerprint
    assert result["evaluated_on"]["same_dataset_as_training"]


def test_toy_genres_are_identified(tiny_model, dataset, test_result):
    _, result = test_result
    assert result["genre_id_accuracy"] == 1.0
    assert result["confusion"] == {"labels": ["rise", "fall"], "matrix": [[1, 0], [0, 1]]}
    assert result["per_genre_accuracy"] == {"rise": 1.0, "fall": 1.0}
    # The train split has more pieces of both genres: all identified too.
    train = list(evaluate_model(load_model(str(tiny_model)), dataset, "train"))[-1].result
    assert min(train["pieces"].values()) >= 5
    assert train["genre_id_accuracy"] == 1.0
    assert np.trace(train["confusion"]["matrix"]) == sum(train["pieces"].values()) == len(dataset.indices("train"))


def test_markdown_table_has_a_row_per_genre(test_result):
    _, result = test_result
    markdown = metrics_markdown(result)
    assert "| genre | pieces | LSTM NLL | 5-gram NLL | LSTM better? | genre-ID accuracy |" in markdown
    assert f"| rise | 1 | {result['test_nll']['rise']:.3f} | {result['baseline_nll']['rise']:.3f} |" in markdown
    assert "| **mean** |" in markdown
    assert "| fall | 0 | 1 |" in markdown  # confusion row


def test_update_card_metrics_merges_and_keeps_the_rest(model_copy, test_result):
    _, result = test_result
    before = json.loads(model_copy.read_text())
    update_card_metrics(model_copy, result)
    card = json.loads(model_copy.read_text())
    assert card["training"] == before["training"]
    assert card["metrics"]["valid_nll"] == before["metrics"]["valid_nll"]
    assert card["metrics"]["test_nll"] == result["test_nll"]
    assert card["metrics"]["metrics_table"] == metrics_markdown(result)
    update_card_metrics(model_copy, {"genre_id_accuracy": 0.5})
    card = json.loads(model_copy.read_text())
    assert card["metrics"]["genre_id_accuracy"] == 0.5 and card["metrics"]["test_nll"] == result["test_nll"]
    assert "| **mean** | **2** |" in card["metrics"]["metrics_table"] and "50.0%" in card["metrics"]["metrics_table"]
    load_model(str(model_copy))  # still a valid card


def test_mismatched_genres_are_refused(tiny_model, tmp_path):
    genres = [Genre("up", "Up", "", 0, 120), Genre("down", "Down", "", 0, 120)]
    records = [{**r, "genre": {"rise": "up", "fall": "down"}[r["genre"]]} for r in synthetic_records()]
    assemble([{"pieces": records, "failed": []}], genres, tmp_path, {"source": "synthetic"})
    with pytest.raises(ValueError, match=r"\['rise', 'fall'\].*\['up', 'down'\]"):
        next(evaluate_model(load_model(str(tiny_model)), load_dataset(tmp_path)))


def test_unknown_split_is_refused(tiny_model, dataset):
    with pytest.raises(ValueError, match="split 'holdout'"):
        next(evaluate_model(load_model(str(tiny_model)), dataset, "holdout"))


def test_cli_evaluate_prints_the_table_and_updates_the_card(model_copy, tiny_dataset, capsys):
    before = model_copy.read_text()
    assert main(["evaluate", "--model", str(model_copy), "--dataset", str(tiny_dataset), "--no-update-card"]) == 0
    out = capsys.readouterr().out
    assert "genre-ID accuracy" in out and "5-gram NLL" in out and "Confusion matrix" in out
    assert model_copy.read_text() == before
    assert main(["evaluate", "--model", str(model_copy), "--dataset", str(tiny_dataset), "--split", "valid"]) == 0
    metrics = json.loads(model_copy.read_text())["metrics"]
    assert metrics["evaluated_on"]["split"] == "valid"
    assert set(metrics["test_nll"]) == {"rise", "fall"} and "metrics_table" in metrics


def test_cli_evaluate_reports_a_missing_model(tiny_dataset, tmp_path, capsys):
    assert main(["evaluate", "--model", str(tmp_path / "nothing.json"), "--dataset", str(tiny_dataset)]) == 2
    assert "musicgen: error:" in capsys.readouterr().err

"""Evaluation of a trained model on a dataset split, as a generator of progress reports.

Three measures per genre, on pieces the model never trained on:
* NLL in nats per event of the LSTM under the piece's own genre (as ``train.evaluate_nll``);
* the same for an n-gram baseline fit on that genre's *train* pieces (``ngram.NGramModel``);
* genre identification: each piece is scored under every genre's conditioning and assigned the
  genre under which it is most likely; accuracy and a confusion matrix (rows: true genre,
  columns: identified genre).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F

from ..tokens import voice_context
from ..files.writing import atomic_write_bytes
from ..model.model_files import LoadedModel, model_file
from ..progress import Progress
from .dataset import SPLITS, Dataset
from .ngram import DEFAULT_ORDER, NGramModel
from .nll import IGNORE, next_token_batch

TOKEN_BUDGET = 1 << 16  # tokens per LSTM forward pass (rows x time); logits take ~60 MB
DIGITS = 4  # decimals kept in the model card


def piece_batches(
    dataset: Dataset, pieces: list[int], rows_per_piece: int, token_budget: int = TOKEN_BUDGET
) -> list[list[int]]:
    """Group pieces (shortest first) so that pieces x rows_per_piece x length stays within the budget."""
    batches, current = [], []
    for i in sorted(pieces, key=lambda i: len(dataset.piece_tokens(i))):
        length = len(dataset.piece_tokens(i)) - 1
        if current and (len(current) + 1) * rows_per_piece * length > token_budget:
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


@torch.no_grad()
def nats_under_every_genre(model, dataset: Dataset, batch: list[int], n_genres: int) -> np.ndarray:
    """Total NLL in nats of each piece's ``tokens[1:]`` under each genre's conditioning; (B, G)."""
    model.eval()
    x, y = next_token_batch(dataset, batch)
    context = raws = None  # what the voices sing is read once per piece, not once per genre
    if model.config.voice_context:
        context = torch.from_numpy(voice_context.batch_features(x.numpy())[0]).repeat_interleave(n_genres, 0)
    if model.config.voice_head:
        raws = torch.from_numpy(voice_context.batch_raws(x.numpy())).repeat_interleave(n_genres, 0)
    x, y = x.repeat_interleave(n_genres, 0), y.repeat_interleave(n_genres, 0)  # (B*G, T): piece-major
    genre = torch.arange(n_genres).repeat(len(batch))  # (B*G,)
    logits, _ = model(x, genre, None, context, raws)  # (B*G, T, V)
    nats = F.cross_entropy(logits.transpose(1, 2), y, ignore_index=IGNORE, reduction="none").sum(1)
    return nats.view(len(batch), n_genres).double().numpy()


def fit_baselines(dataset: Dataset, order: int = DEFAULT_ORDER) -> dict[int, NGramModel]:
    """One n-gram model per genre index, fit on that genre's train pieces."""
    return {
        g: NGramModel.fit([dataset.piece_tokens(i) for i in dataset.indices("train", g)], order)
        for g in range(len(dataset.genres))
    }


def check_genres_match(loaded: LoadedModel, dataset: Dataset) -> None:
    """ValueError unless the model was trained on the dataset's genres, in the same order."""
    if loaded.genre_keys != dataset.genre_keys:
        raise ValueError(f"model genres {loaded.genre_keys} do not match dataset genres {dataset.genre_keys}")


def evaluate_model(
    loaded: LoadedModel, dataset: Dataset, split: str = "test", order: int = DEFAULT_ORDER
) -> Iterator[Progress]:
    """Score the model and an n-gram baseline on ``split``; yields progress, the last with ``.result``."""
    if split not in SPLITS:
        raise ValueError(f"unknown split '{split}' (choose from {', '.join(SPLITS)})")
    check_genres_match(loaded, dataset)
    pieces = dataset.indices(split)
    if not pieces:
        raise ValueError(f"the dataset has no pieces in its '{split}' split")
    started = time.time()
    keys, G = dataset.genre_keys, len(dataset.genres)
    true_genre = {i: int(dataset.genre[i]) for i in pieces}
    events = {i: len(dataset.piece_tokens(i)) - 1 for i in pieces}

    yield Progress(0, len(pieces), f"fitting {order}-gram baselines on the train split")
    baselines = fit_baselines(dataset, order)
    # Total nats of every piece under every genre's n-gram: (P, G); the diagonal is the baseline NLL.
    baseline_nats = {
        i: [-float(np.sum(baselines[g].log_probs(dataset.piece_tokens(i)))) for g in range(G)] for i in pieces
    }

    lstm_nats: dict[int, np.ndarray] = {}
    for batch in piece_batches(dataset, pieces, G):
        for i, row in zip(batch, nats_under_every_genre(loaded.model, dataset, batch, G)):
            lstm_nats[i] = row
        yield Progress(len(lstm_nats), len(pieces), f"scoring pieces under {G} genres")

    result = _metrics(keys, pieces, true_genre, events, lstm_nats, baseline_nats)
    result["baseline"] = f"interpolated Kneser-Ney {order}-gram per genre, fit on the train split"
    result["baseline_order"] = order
    training_fingerprint = loaded.card.get("dataset", {}).get("fingerprint")
    result["evaluated_on"] = {
        "split": split,
        "dataset_fingerprint": dataset.fingerprint,
        "same_dataset_as_training": training_fingerprint == dataset.fingerprint,
        "pieces": len(pieces),
        "events": int(sum(events.values())),
        "seconds": round(time.time() - started, 1),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    yield Progress(len(pieces), len(pieces), "done", result)


def _metrics(keys, pieces, true_genre, events, lstm_nats, baseline_nats) -> dict:
    """NLL per genre (own-genre conditioning), genre-ID accuracy and confusion from per-piece nats."""
    G = len(keys)
    confusion = np.zeros((G, G), dtype=np.int64)
    baseline_correct = 0
    for i in pieces:
        confusion[true_genre[i], int(np.argmin(lstm_nats[i]))] += 1
        baseline_correct += int(np.argmin(baseline_nats[i])) == true_genre[i]
    present = [g for g in range(G) if confusion[g].sum() > 0]

    def nll_per_genre(nats) -> dict[str, float]:
        out = {}
        for g in present:
            mine = [i for i in pieces if true_genre[i] == g]
            out[keys[g]] = round(sum(float(nats[i][g]) for i in mine) / max(1, sum(events[i] for i in mine)), DIGITS)
        return out

    return {
        "test_nll": nll_per_genre(lstm_nats),
        "baseline_nll": nll_per_genre(baseline_nats),
        "genre_id_accuracy": round(float(np.trace(confusion) / len(pieces)), DIGITS),
        "per_genre_accuracy": {keys[g]: round(float(confusion[g, g] / confusion[g].sum()), DIGITS) for g in present},
        "confusion": {"labels": list(keys), "matrix": confusion.tolist()},
        "baseline_genre_id_accuracy": round(baseline_correct / len(pieces), DIGITS),
        "pieces": {keys[g]: int(confusion[g].sum()) for g in present},
    }


def _rows(metrics: dict) -> list[list[str]]:
    """Table cells: one row per genre, then the mean row."""
    order = metrics.get("baseline_order", DEFAULT_ORDER)
    rows = [["genre", "pieces", "LSTM NLL", f"{order}-gram NLL", "LSTM better?", "genre-ID accuracy"]]
    lstm, base = metrics["test_nll"], metrics["baseline_nll"]
    for key in lstm:
        rows.append(
            [
                key,
                str(metrics["pieces"][key]),
                f"{lstm[key]:.3f}",
                f"{base[key]:.3f}",
                "yes" if lstm[key] < base[key] else "no",
                f"{metrics['per_genre_accuracy'][key]:.1%}",
            ]
        )
    mean_lstm, mean_base = float(np.mean(list(lstm.values()))), float(np.mean(list(base.values())))
    rows.append(
        [
            "mean",
            str(sum(metrics["pieces"].values())),
            f"{mean_lstm:.3f}",
            f"{mean_base:.3f}",
            "yes" if mean_lstm < mean_base else "no",
            f"{metrics['genre_id_accuracy']:.1%}",
        ]
    )
    return rows


def _notes(metrics: dict) -> str:
    split = metrics.get("evaluated_on", {}).get("split", "test")
    order = metrics.get("baseline_order", DEFAULT_ORDER)
    return (
        f"NLL: nats per event on the {split} split (lower is better); mean row: NLL averaged over genres, "
        f"accuracy over all pieces. Genre ID: each piece is scored under every genre and the most likely "
        f"genre wins ({order}-gram baseline doing the same: {metrics['baseline_genre_id_accuracy']:.1%})."
    )


def metrics_text(metrics: dict) -> str:
    """The metrics as a plain-text table plus the confusion matrix, for the terminal."""
    rows = _rows(metrics)
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(w) if c == 0 else cell.rjust(w) for c, (cell, w) in enumerate(zip(row, widths)))
        for row in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    lines.insert(len(lines) - 1, "-" * len(lines[0]))
    labels, matrix = metrics["confusion"]["labels"], metrics["confusion"]["matrix"]
    width = max(5, *(len(k) for k in labels))
    lines += [
        "",
        _notes(metrics),
        "",
        "Confusion matrix (rows: true genre, columns: identified genre):",
        " " * width + "".join(f"{k:>{width + 1}}" for k in labels),
    ]
    lines += [f"{k:<{width}}" + "".join(f"{n:>{width + 1}}" for n in row) for k, row in zip(labels, matrix)]
    return "\n".join(lines)


def metrics_markdown(metrics: dict) -> str:
    """The same table and confusion matrix in Markdown, for the README and the model card."""
    rows = _rows(metrics)
    rows[-1] = [f"**{cell}**" for cell in rows[-1]]
    lines = ["| " + " | ".join(rows[0]) + " |", "|---|" + "---:|" * 3 + ":---:|---:|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    labels, matrix = metrics["confusion"]["labels"], metrics["confusion"]["matrix"]
    lines += [
        "",
        _notes(metrics),
        "",
        "Confusion matrix (rows: true genre, columns: identified genre):",
        "",
        "| true \\ identified | " + " | ".join(labels) + " |",
        "|---|" + "---:|" * len(labels),
    ]
    lines += [f"| {k} | " + " | ".join(str(n) for n in row) + " |" for k, row in zip(labels, matrix)]
    return "\n".join(lines) + "\n"


def update_card_metrics(card_path, metrics: dict) -> None:
    """Merge ``metrics`` into the card's ``metrics`` (other keys kept) and refresh ``metrics_table``; atomic."""
    card_path = model_file(card_path, ".json")
    try:
        card = json.loads(card_path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{card_path.name}: cannot read the model card ({error})") from None
    merged = {**card.get("metrics", {}), **metrics}
    if all(
        key in merged
        for key in (
            "test_nll",
            "baseline_nll",
            "per_genre_accuracy",
            "pieces",
            "confusion",
            "genre_id_accuracy",
            "baseline_genre_id_accuracy",
        )
    ):
        merged["metrics_table"] = metrics_markdown(merged)
    card["metrics"] = merged
    atomic_write_bytes(card_path, lambda temp: Path(temp).write_text(json.dumps(card, indent=2)))

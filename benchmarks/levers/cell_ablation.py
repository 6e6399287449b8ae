"""The cell and recipe ablations of issue 11: tanh RNN, GRU and LSTM at equal parameter count;
dropout, genre balance and a larger LSTM.

Models come from ``benchmarks/levers/cell_ablation_train.sh`` (runs/ablation/cell-<cell>.*) and
``benchmarks/levers/recipe_ablation_train.sh`` (runs/ablation/dropout-<p>.*, balanced.*,
lstm-2x512.*), each with the same data, seed, schedule and epochs. For each one, measured in one
run, one torch thread:

* test NLL (nats per event, own genre) per genre and its mean, next to the 5-gram baseline;
* genre identification by likelihood (share of test pieces whose own genre scores them best);
* the style critic's recall on generated pieces (default settings, ``--pieces`` per genre) and the
  real-vs-generated accuracy per genre, as played and as notated (0.5 = the critic's features cannot
  tell them apart);
* single-stream sampling speed of the compiled engine, int8 and fp32 (events/s).

Usage::

    python benchmarks/levers/cell_ablation.py [--pieces 30] [--models runs/ablation/cell-rnn.json ...]

Prints a markdown table (and the per-genre figures) to paste into README and docs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from sampling import single_stream  # noqa: E402

from musicgen.evaluation.critic import dataset_pieces, load_critic, real_vs_generated_accuracy  # noqa: E402
from musicgen.model.model_files import load_model  # noqa: E402
from musicgen.notation.layout import notated_piece  # noqa: E402
from musicgen.sampling.generate import Generator  # noqa: E402
from musicgen.sampling.request import GenerationRequest  # noqa: E402
from musicgen.training.dataset import load_dataset  # noqa: E402
from musicgen.training.evaluate import evaluate_model  # noqa: E402

DEFAULT_MODELS = [ROOT / "runs" / "ablation" / f"cell-{cell}.json" for cell in ("rnn", "gru", "lstm")]


def critic_figures(loaded, dataset, critic, pieces_per_genre: int) -> dict[str, tuple[float, float, float]]:
    """Per genre: (critic recall on generated pieces, real-vs-generated accuracy as played, as notated)."""
    generator = Generator(loaded)
    keys = loaded.genre_keys
    figures = {}
    for g, key in enumerate(keys):
        requests = [GenerationRequest(genre=key, seed=1000 + i) for i in range(pieces_per_genre)]
        pieces = [result.piece for result in generator.generate_batch(requests)]
        recall = float(np.mean(np.argmax(critic.predict_proba(pieces), 1) == g))
        real = dataset_pieces(dataset, "test", g)
        notated = [notated_piece(piece) for piece in pieces]
        figures[key] = (recall, real_vs_generated_accuracy(real, pieces), real_vs_generated_accuracy(real, notated))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=[str(p) for p in DEFAULT_MODELS], help="model cards")
    parser.add_argument("--pieces", type=int, default=30, help="generated pieces per genre for the critic")
    parser.add_argument("--events", type=int, default=2000, help="events per speed run")
    args = parser.parse_args()
    torch.set_num_threads(1)
    dataset = load_dataset()
    critic = load_critic(dataset=dataset)
    rows = []
    for path in args.models:
        began = time.time()
        loaded = load_model(path)
        config = loaded.model.config
        metrics = None
        for progress in evaluate_model(loaded, dataset):
            metrics = progress.result or metrics
        figures = critic_figures(loaded, dataset, critic, args.pieces)
        speeds = {p: single_stream(Generator(loaded, precision=p), args.events).wall for p in ("int8", "fp32")}
        name = f"{config.cell} 2x{config.n_hidden}, dropout {config.dropout:g}"
        if loaded.card.get("training", {}).get("config", {}).get("balance_genres"):
            name += ", genres balanced"
        print(f"{name} ({loaded.model.num_parameters():,} parameters), {path}")
        for key in loaded.genre_keys:
            nll, base = metrics["test_nll"][key], metrics["baseline_nll"][key]
            recall, rvg, notated = figures[key]
            print(
                f"  {key:<10} NLL {nll:.3f} (5-gram {base:.3f})  genre ID {metrics['per_genre_accuracy'][key]:.1%}  "
                f"critic recall {recall:.2f}  real-vs-generated {rvg:.2f} (as notated {notated:.2f})"
            )
        print(f"  measured in {time.time() - began:.0f} s", flush=True)
        rows.append(
            (
                name,
                loaded.model.num_parameters(),
                float(np.mean(list(metrics["test_nll"].values()))),
                metrics["genre_id_accuracy"],
                float(np.mean([f[0] for f in figures.values()])),
                min(f[0] for f in figures.values()),
                float(np.mean([f[1] for f in figures.values()])),
                float(np.mean([f[2] for f in figures.values()])),
                speeds["int8"],
                speeds["fp32"],
            )
        )
    print()
    print(
        "| cell | parameters | test NLL (mean) | genre ID | critic recall (mean / lowest genre) "
        "| real-vs-generated (mean, as played / as notated) | int8 events/s | fp32 events/s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, params, nll, gid, recall, lowest, rvg, notated, int8, fp32 in rows:
        print(
            f"| {name} | {params:,} | {nll:.3f} | {gid:.1%} | {recall:.2f} / {lowest:.2f} | {rvg:.2f} / {notated:.2f} "
            f"| {int8:,.0f} | {fp32:,.0f} |"
        )


if __name__ == "__main__":
    main()

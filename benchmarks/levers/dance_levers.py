"""Sampling levers for one dance style, judged three ways: the listening critic (recall, and
real-vs-generated as notated), the independent trigram ear (``independent_genre_check``) and the
rhythm a player hears (the share of even-eighth pairs and of dotted-quarter gaps in the top line).

    python benchmarks/levers/dance_levers.py --genre hornpipe --pieces 60 \
        --settings '[{}, {"style_strength": 1.0}, {"temperature": 1.1}]'

Each setting is GenerationRequest fields ({} = the card's defaults); seeds 7000.. (neither the
report's nor the independent check's). The real test pieces are measured the same way first.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from independent_genre_check import MAX_GAP, TrigramModel, classify, top_line_symbols  # noqa: E402

from musicgen.evaluation.critic import dataset_pieces, load_critic, real_vs_generated_accuracy  # noqa: E402
from musicgen.model.model_files import load_model  # noqa: E402
from musicgen.notation.layout import notated_piece  # noqa: E402
from musicgen.sampling.generate import Generator  # noqa: E402
from musicgen.sampling.request import GenerationRequest  # noqa: E402
from musicgen.training.dataset import load_dataset  # noqa: E402


def rhythm(pieces) -> dict:
    """Shares of the top line's 16th-note gaps: even-eighth pairs (2, 2) and dotted quarters (6)."""
    gaps, pairs = Counter(), Counter()
    for piece in pieces:
        symbols = [gap for gap, _ in top_line_symbols(piece)]
        gaps.update(symbols)
        pairs.update(zip(symbols, symbols[1:]))
    return {
        "eighth_pairs": round(pairs[(2, 2)] / max(1, sum(pairs.values())), 3),
        "dotted_quarters": round(gaps[6] / max(1, sum(gaps.values())), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/musicgen-default.json")
    parser.add_argument("--genre", default="hornpipe")
    parser.add_argument("--pieces", type=int, default=60)
    parser.add_argument("--settings", default="[{}]", help="JSON list of GenerationRequest fields")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dataset = load_dataset()
    genres = dataset.genre_keys
    ears = {
        g: TrigramModel([top_line_symbols(p) for p in dataset_pieces(dataset, "train", i)], (MAX_GAP + 1) * 25)
        for i, g in enumerate(genres)
    }
    critic = load_critic(dataset=dataset)
    target = genres.index(args.genre)
    real = dataset_pieces(dataset, "test", target)
    generator = Generator(load_model(args.model))

    def row(pieces) -> dict:
        heard_as = Counter(classify(ears, top_line_symbols(p)) for p in pieces)
        recall = float(np.mean(np.argmax(critic.predict_proba(pieces), 1) == target))
        return {"critic_recall": round(recall, 2), "ear_recall": round(heard_as[args.genre] / len(pieces), 2)}

    print(args.genre, "real", json.dumps({**row(real), **rhythm(real)}), flush=True)
    for setting in json.loads(args.settings):
        requests = [GenerationRequest(genre=args.genre, seed=7000 + i, **setting) for i in range(args.pieces)]
        pieces = [notated_piece(r.piece) for r in generator.generate_batch(requests)]
        figures = {**row(pieces), **rhythm(pieces)}
        figures["real_vs_generated"] = round(real_vs_generated_accuracy(real, pieces, space=critic.space), 2)
        print(args.genre, json.dumps(setting), json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()

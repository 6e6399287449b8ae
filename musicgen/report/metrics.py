"""The report's numbers: per-genre feature overlaps and checks, and the style critic's verdicts.

Pure numpy (no plotting, no HTML); ``report.build_report`` gathers the pieces and calls these.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..evaluation.features import FEATURES, PieceFeatures, feature_overlap, feature_values, overlap_ceiling


@dataclass
class GenreSample:
    """Features of one genre's pieces: generated and real (test split)."""

    generated: list[PieceFeatures]
    real: list[PieceFeatures]
    ended_naturally: list[bool]
    bars: int  # whole bars each generated piece was asked for


def _share(flags) -> float | None:
    flags = list(flags)
    return round(float(np.mean(flags)), 4) if flags else None


def _rounded(value, digits: int = 4):
    """Round floats (also inside lists/arrays); NaN becomes None."""
    if isinstance(value, np.ndarray):
        return _rounded(value.tolist(), digits)
    if isinstance(value, list):
        return [_rounded(v, digits) for v in value]
    value = float(value)
    return round(value, digits) if math.isfinite(value) else None


def feature_summary(values: np.ndarray):
    """Mean over pieces of a feature (a number, a histogram or a matrix), ignoring NaN."""
    if len(values) == 0:
        return None
    finite = values[np.isfinite(values.reshape(len(values), -1)).all(1)]
    return _rounded(finite.mean(0)) if len(finite) else None


def genre_metrics(sample: GenreSample, seed: int) -> dict:
    """Overlap, ceiling and ratio per feature, and the checks, for one genre."""
    features = {}
    for feature in FEATURES:
        generated = feature_values(sample.generated, feature.name)
        real = feature_values(sample.real, feature.name)
        overlap = feature_overlap(feature, generated, real)
        ceiling = overlap_ceiling(feature, real, seed)
        ratio = overlap / ceiling if ceiling > 0 else math.nan
        features[feature.name] = {
            "overlap": _rounded(overlap),
            "ceiling": _rounded(ceiling),
            "ratio": _rounded(ratio),
            "generated_mean": feature_summary(generated),
            "real_mean": feature_summary(real),
        }
    ratios = [f["ratio"] for f in features.values() if f["ratio"] is not None]
    return {
        "bars_requested": sample.bars,
        "generated_pieces": len(sample.generated),
        "real_pieces": len(sample.real),
        "features": features,
        "mean_ratio": round(float(np.mean(ratios)), 4) if ratios else None,
        "checks": {
            "ends_by_itself": {"generated": _share(sample.ended_naturally), "real": None},
            "keeps_metre": {
                "generated": _share(f.keeps_metre for f in sample.generated),
                "real": _share(f.keeps_metre for f in sample.real),
            },
            "in_key": {
                "generated": _share(f.in_key for f in sample.generated),
                "real": _share(f.in_key for f in sample.real),
            },
        },
    }


def json_safe(value):
    """A copy with NaN/inf as None and numpy numbers as Python numbers (strict JSON)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def critic_metrics(critic, real: dict[str, list], generated: dict[str, list], seeds: dict[str, list[int]]) -> dict:
    """The style critic's verdicts: recall on real test pieces (the ceiling) and on generated pieces,
    with confusion matrices, the generated/real recall ratio, the real-vs-generated accuracy (of the
    pieces as played, and as notated: each repeated strain once, as the corpus stores tunes) and the
    style fit of every generated piece; ``real`` and ``generated`` map genre keys to Pieces."""
    from ..evaluation.critic import confusion, real_vs_generated_accuracy
    from ..notation.layout import notated_piece

    keys = critic.genre_keys

    def verdict(pieces_by_genre: dict[str, list]) -> tuple[dict, dict[str, np.ndarray]]:
        pieces = [p for key in keys for p in pieces_by_genre.get(key, [])]
        true = [g for g, key in enumerate(keys) for _ in pieces_by_genre.get(key, [])]
        probabilities = critic.predict_proba(pieces) if pieces else np.zeros((0, len(keys)))
        by_genre, first = {}, 0
        for key in keys:
            count = len(pieces_by_genre.get(key, []))
            by_genre[key], first = probabilities[first : first + count], first + count
        return confusion(probabilities, true, keys), by_genre

    real_confusion, _ = verdict(real)
    generated_confusion, generated_probabilities = verdict(generated)
    genres = {}
    for g, key in enumerate(keys):
        ceiling, recall = real_confusion["recall"][key], generated_confusion["recall"][key]
        fits = generated_probabilities[key][:, g]
        accuracy = real_vs_generated_accuracy(real.get(key, []), generated.get(key, []), space=critic.space)
        # The corpus stores a tune's repeated strains once (with repeat signs); so does a score.
        notated = [notated_piece(piece) for piece in generated.get(key, [])]
        notated_accuracy = real_vs_generated_accuracy(real.get(key, []), notated, space=critic.space)
        genres[key] = {
            "real_recall": _rounded(ceiling) if ceiling is not None else None,
            "generated_recall": _rounded(recall) if recall is not None else None,
            "recall_ratio": _rounded(recall / ceiling) if recall is not None and ceiling else None,
            "real_vs_generated_accuracy": _rounded(accuracy),
            "real_vs_generated_notated": _rounded(notated_accuracy),
            "real_pieces": len(real.get(key, [])),
            "generated_pieces": len(generated.get(key, [])),
            "mean_style_fit": _rounded(fits.mean()) if len(fits) else None,
            "style_fit": [{"seed": s, "style_fit": _rounded(f)} for s, f in zip(seeds.get(key, []), fits)],
        }
    return {
        "trained_on": dict(critic.info),
        "genres": genres,
        "real_confusion": real_confusion,
        "generated_confusion": generated_confusion,
    }

"""Evaluation report: does the generated music sound like its genre?

``build_report`` generates N pieces per genre with fixed seeds, measures the features of
``features.py`` on them and on the genre's held-out *test* pieces, and writes to ``out_dir``:

* ``index.html``: self-contained (inline CSS, relative links), opens from disk;
* ``figures/*.png``: one figure per feature (genres side by side, generated vs real), the checks,
  the genre-ID confusion matrix and the style critic's confusion matrices (real and generated);
* ``examples/*.mid``: the first few generated pieces of each genre, to listen to;
* ``metrics.json``: every number in the report (NaN written as null).

Per feature and genre, ``overlap`` compares generated with real test pieces, ``ceiling`` compares two
halves of the real test pieces, and ``ratio = overlap / ceiling`` (1.0 = as close to the genre as its
own pieces are to each other). The style critic (``critic.py``, trained on the real *train* pieces
only) names the genre of every real test piece and every generated piece, gives each generated piece
its style fit, and a cross-validated classifier tries to tell each genre's generated pieces from its
real ones. Piece ``i`` of genre number ``g`` is generated with seed ``seed + g * pieces_per_genre + i``,
so a report is reproducible. The numbers are in ``report.metrics``, the figures in ``report.figures``,
the page in ``report.page``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Iterator

import numpy as np

from ..evaluation.critic import dataset_pieces
from ..evaluation.features import FEATURES, IN_KEY_THRESHOLD, piece_features
from ..evaluation.form_metrics import form_metrics
from ..evaluation.voice_leading import measure_all
from ..files.writing import atomic_write_bytes
from ..model.model_files import LoadedModel
from ..progress import Progress
from ..training.dataset import Dataset
from .figures import plot_checks, plot_confusion, plot_critic_confusion, plot_feature
from .metrics import GenreSample, critic_metrics, genre_metrics, json_safe
from .page import report_html

__all__ = ["ReportProgress", "GenreSample", "build_report", "genre_metrics", "json_safe", "report_html"]

EXAMPLES_PER_GENRE = 2  # generated MIDI files linked from the report
GENERATION_BATCH = 100  # pieces per batched generation pass (speed vs progress granularity)
EVALUATION_KEYS = ("test_nll", "baseline_nll", "genre_id_accuracy", "per_genre_accuracy", "confusion")


ReportProgress = Progress  # the one progress type (name kept for callers)


def card_evaluation(loaded: LoadedModel, dataset: Dataset) -> dict | None:
    """Test metrics stored in the model card, if complete and measured on this dataset."""
    metrics = loaded.card.get("metrics", {})
    if not all(key in metrics for key in EVALUATION_KEYS):
        return None
    fingerprint = metrics.get("evaluated_on", {}).get("dataset_fingerprint")
    if fingerprint is not None and fingerprint != dataset.fingerprint:
        return None
    if metrics.get("evaluated_on", {}).get("split", "test") != "test":
        return None
    return {key: metrics[key] for key in metrics if key != "metrics_table"}


def build_report(
    loaded: LoadedModel,
    dataset: Dataset,
    out_dir,
    pieces_per_genre: int = 100,
    seed: int = 0,
    temperature: float = 1.0,
    top_p: float | None = None,
    top_k: int = 0,
    batch_size: int = GENERATION_BATCH,
    critic=None,
    critic_notated=None,
) -> Iterator[ReportProgress]:
    """Generate, measure and write the report to ``out_dir``; yields progress, the last with the metrics.

    ``critic``: a ``StyleCritic`` for ``dataset``'s genres; by default the dataset's cached one
    (``critic.load_critic``, trained on first use). ``top_p`` None and the style strength: each
    genre's defaults (``Genre``, from the model card), as ``generate`` uses them."""
    from ..sampling.generate import Generator
    from ..training.evaluate import check_genres_match

    if pieces_per_genre < 1:
        raise ValueError(f"pieces per genre must be at least 1 (got {pieces_per_genre})")
    if temperature <= 0 or (top_p is not None and not 0 < top_p <= 1) or top_k < 0:
        raise ValueError("temperature must be positive, top-p in (0, 1] and top-k at least 0")
    check_genres_match(loaded, dataset)
    started = time.time()
    out_dir = Path(out_dir)
    (out_dir / "figures").mkdir(parents=True, exist_ok=True)  # fails now, not after the long generation
    (out_dir / "examples").mkdir(parents=True, exist_ok=True)
    keys = dataset.genre_keys
    evaluation = card_evaluation(loaded, dataset)
    test_pieces = len(dataset.indices("test"))
    total = len(keys) * pieces_per_genre + (test_pieces if evaluation is None else 0) + len(FEATURES) + 6
    done = 0
    yield ReportProgress(done, total, "measuring the real test pieces")
    samples, real_pieces = _real_samples(dataset)
    if critic is None:
        from ..evaluation.critic import load_critic

        yield ReportProgress(done, total, "loading the style critic (trained on first use)")
        critic = load_critic(dataset=dataset)
    if critic.genre_keys != keys:
        raise ValueError(
            f"the style critic knows the genres {', '.join(critic.genre_keys)}, the dataset has {', '.join(keys)}"
        )
    done += 1

    settings = dict(pieces_per_genre=pieces_per_genre, seed=seed, temperature=temperature, top_p=top_p, top_k=top_k)
    requests = _requests(keys, settings)
    generator = Generator(loaded)
    generated = _Generated(keys)
    for first in range(0, len(requests), batch_size):
        done += generated.sample(generator, requests[first : first + batch_size], samples)
        yield ReportProgress(done, total, f"generated {generated.count} of {len(requests)} pieces")

    evaluation_source = "model card"
    if evaluation is None:
        evaluation = yield from _evaluate(loaded, dataset, done, total)
        evaluation_source = "computed for this report"
        done += test_pieces

    metrics = {
        "model": loaded.name,
        "model_path": str(loaded.path),
        "dataset_fingerprint": dataset.fingerprint,
        "created": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "settings": _settings_metrics(loaded, keys, settings),
        "genres": {key: genre_metrics(samples[key], seed) for key in keys},
        "evaluation": evaluation,
        "evaluation_source": evaluation_source,
        "generation": generated.speed(),
    }
    metrics["form"] = form_metrics(generated.results)  # metre, exact length, endings, read back from MIDI
    yield ReportProgress(done, total, "the style critic judges the pieces")
    _judge(metrics, dataset, critic, critic_notated, real_pieces, generated)
    metrics["voice_leading"] = _voice_leading(generator, real_pieces, generated.pieces)
    done += 1
    ratios = [m["mean_ratio"] for m in metrics["genres"].values() if m["mean_ratio"] is not None]
    metrics["mean_ratio"] = round(float(np.mean(ratios)), 4) if ratios else None

    figures = {}
    for feature in FEATURES:
        figures[feature.name] = plot_feature(feature, samples, metrics, out_dir)
        done += 1
        yield ReportProgress(done, total, f"plotting {feature.title.lower()}")
    figures["checks"] = plot_checks(metrics, out_dir)
    figures["confusion"] = plot_confusion(evaluation, out_dir) if evaluation else None
    figures["critic_confusion"] = plot_critic_confusion(metrics["critic"], out_dir)
    done += 3
    _write_files(loaded, out_dir, metrics, figures, generated.examples, started)
    done += 1
    yield ReportProgress(done, total, f"wrote {out_dir / 'index.html'}", json_safe(metrics))


# --- the steps of build_report -------------------------------------------------------------------


def _real_samples(dataset: Dataset) -> tuple[dict[str, GenreSample], dict[str, list]]:
    """Per genre: a sample holding the features of its real test pieces, and those pieces."""
    samples: dict[str, GenreSample] = {}
    real_pieces: dict[str, list] = {}
    for g, key in enumerate(dataset.genre_keys):
        real = real_pieces[key] = dataset_pieces(dataset, "test", g)
        samples[key] = GenreSample([], [piece_features(p) for p in real], [], 0)
    return samples, real_pieces


def _requests(keys: list[str], settings: dict) -> list:
    """Piece ``i`` of genre number ``g`` with seed ``seed + g * pieces_per_genre + i``, in one flat
    list over all genres (sampled in large batches: a batch of 100 rows samples ~4x more events per
    second than a batch of 10 on a CPU). Default settings otherwise: each genre's own metre and form
    (AABB in 8-bar parts for the dances)."""
    from ..sampling.request import GenerationRequest

    per_genre, seed = settings["pieces_per_genre"], settings["seed"]
    sampling = {name: settings[name] for name in ("temperature", "top_p", "top_k")}
    return [
        GenerationRequest(genre=key, **sampling, seed=seed + g * per_genre + i)
        for g, key in enumerate(keys)
        for i in range(per_genre)
    ]


class _Generated:
    """The report's generated pieces, per genre, as they come: pieces, seeds, results, examples
    to link, and the sampling speed."""

    def __init__(self, keys: list[str]):
        self.pieces: dict[str, list] = {key: [] for key in keys}
        self.seeds: dict[str, list[int]] = {key: [] for key in keys}
        self.results: dict[str, list] = {key: [] for key in keys}
        self.examples: dict[str, list] = {key: [] for key in keys}
        self.events, self.seconds = 0, 0.0

    @property
    def count(self) -> int:
        return sum(len(pieces) for pieces in self.pieces.values())

    def sample(self, generator, requests: list, samples: dict[str, GenreSample]) -> int:
        """Sample ``requests`` in one batch; each piece's features go to its genre's sample. Returns
        the number of pieces."""
        tick = time.time()
        results = generator.generate_batch(requests)
        self.seconds += time.time() - tick
        for result in results:
            key = result.request.genre
            self.events += result.events
            samples[key].generated.append(piece_features(result.piece))
            samples[key].ended_naturally.append(bool(result.ended_naturally))
            samples[key].bars = result.bars_requested  # the genre's own form length (default settings)
            self.pieces[key].append(result.piece)
            self.seeds[key].append(result.request.seed)
            self.results[key].append(result)
            if len(self.examples[key]) < EXAMPLES_PER_GENRE:
                self.examples[key].append(result)
        return len(results)

    def speed(self) -> dict:
        return {
            "seconds": round(self.seconds, 1),
            "events": self.events,
            "events_per_second": round(self.events / max(self.seconds, 1e-9), 1),
        }


def _evaluate(loaded: LoadedModel, dataset: Dataset, done: int, total: int):
    """Test NLL and genre ID on the test pieces (the card has none for this dataset); yields
    progress from ``done``, returns the evaluation."""
    from ..training.evaluate import evaluate_model

    evaluation = None
    for step in evaluate_model(loaded, dataset, "test"):
        yield ReportProgress(done + step.done, total, f"test NLL and genre ID: {step.message}")
        if step.result is not None:
            evaluation = step.result
    return evaluation


def _settings_metrics(loaded: LoadedModel, keys: list[str], settings: dict) -> dict:
    """The report's settings, with what each genre's pieces were sampled with (the request's None
    taken from the genre)."""
    from ..sampling.request import GenerationRequest, with_genre_defaults

    resolved = (
        with_genre_defaults(GenerationRequest(genre=key, top_p=settings["top_p"]), loaded.genres) for key in keys
    )
    return {
        **settings,
        "genre_sampling": {r.genre: {"style_strength": r.style_strength, "top_p": r.top_p} for r in resolved},
        "in_key_threshold": IN_KEY_THRESHOLD,
    }


def _judge(metrics: dict, dataset: Dataset, critic, critic_notated, real_pieces: dict, generated: _Generated) -> None:
    """The style critic's verdicts (``metrics["critic"]``), and the notated critic's beside them
    (``metrics["critic_notated"]``, the critic before the listening one)."""
    metrics["critic"] = critic_metrics(critic, real_pieces, generated.pieces, generated.seeds)
    if critic_notated is None:
        from ..evaluation.critic import load_critic

        critic_notated = load_critic(dataset=dataset, listening=False)
    notated = critic_metrics(critic_notated, real_pieces, generated.pieces, generated.seeds)
    metrics["critic_notated"] = {
        "genres": {key: {k: v for k, v in g.items() if k != "style_fit"} for key, g in notated["genres"].items()}
    }


def _voice_leading(generator, real_pieces: dict, generated_pieces: dict) -> dict:
    """Voice-leading figures of the real and the generated pieces of every four-voice genre."""
    return {
        key: {
            "real": measure_all(real_pieces[key]).figures(),
            "generated": measure_all(generated_pieces[key]).figures(),
        }
        for key in real_pieces
        if generator.genre_voices(key) > 1
    }


def _write_files(loaded: LoadedModel, out_dir: Path, metrics: dict, figures: dict, examples: dict, started: float):
    """The examples, ``metrics.json`` and ``index.html``; files of an earlier report not written again go."""
    keys = list(examples)
    example_files = {key: [write_example(result, key, out_dir) for result in examples[key]] for key in keys}
    metrics["examples"] = example_files
    metrics["seconds"] = round(time.time() - started, 1)
    text = json.dumps(json_safe(metrics), indent=1)
    atomic_write_bytes(out_dir / "metrics.json", lambda temp: Path(temp).write_text(text))
    page = report_html(metrics, figures, {key: loaded.genres[g].display_name for g, key in enumerate(keys)})
    atomic_write_bytes(out_dir / "index.html", lambda temp: Path(temp).write_text(page, encoding="utf-8"))
    remove_stale_files(out_dir, [f for f in figures.values() if f] + [f for fs in example_files.values() for f in fs])


# --- files -------------------------------------------------------------------------------------------


def write_example(result, key: str, out_dir: Path) -> str:
    """Write one generated piece as MIDI under ``examples/``; returns its path relative to ``out_dir``."""
    relative = f"examples/{key}-seed{result.request.seed}.mid"
    result.write_midi(out_dir / relative)
    return relative


def remove_stale_files(out_dir: Path, current: list[str]) -> None:
    """Delete figures and examples of an earlier report in the same folder that this one did not write."""
    keep = {out_dir / relative for relative in current}
    for pattern in ("figures/*.png", "examples/*.mid"):
        for path in out_dir.glob(pattern):
            if path not in keep:
                path.unlink()

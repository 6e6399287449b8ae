"""Evaluation report: does the generated music sound like its genre?

``build_report`` generates N pieces per genre with fixed seeds, measures the features of
``features.py`` on them and on the genre's held-out *test* pieces, and writes to ``out_dir``:

* ``index.html``: self-contained (inline CSS, relative links), opens from disk;
* ``figures/*.png``: one figure per feature (genres side by side, generated vs real), the checks and
  the genre-ID confusion matrix;
* ``examples/*.mid``: the first few generated pieces of each genre, to listen to;
* ``metrics.json``: every number in the report (NaN written as null).

Per feature and genre, ``overlap`` compares generated with real test pieces, ``ceiling`` compares two
halves of the real test pieces, and ``ratio = overlap / ceiling`` (1.0 = as close to the genre as its
own pieces are to each other). Piece ``i`` of genre number ``g`` is generated with seed
``seed + g * pieces_per_genre + i``, so a report is reproducible.
"""
from __future__ import annotations

import html
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from .checkpoint import LoadedModel
from .codec import tokens_to_piece
from .dataset import Dataset
from .features import FEATURES, IN_KEY_THRESHOLD, Feature, PieceFeatures, feature_overlap, feature_values, \
    overlap_ceiling, piece_features
from .midi_io import atomic_write_bytes

DPI = 80  # keeps the whole report well under 2 MB
PANEL_COLUMNS = 4  # genres per row of a figure
DEFAULT_BARS = 16  # generation length when a genre has no test pieces to copy it from
MIN_BARS = 4
EXAMPLES_PER_GENRE = 2  # generated MIDI files linked from the report
GENERATION_BATCH = 100  # pieces per batched generation pass (speed vs progress granularity)
REAL_COLOUR, GENERATED_COLOUR = "#4c72b0", "#dd8452"
EVALUATION_KEYS = ("test_nll", "baseline_nll", "genre_id_accuracy", "per_genre_accuracy", "confusion")


@dataclass
class ReportProgress:
    """One report step: ``done`` of ``total`` units; the last one carries the metrics as ``result``."""

    done: int
    total: int
    message: str = ""
    result: dict | None = None


@dataclass
class GenreSample:
    """Features of one genre's pieces: generated and real (test split)."""

    generated: list[PieceFeatures]
    real: list[PieceFeatures]
    ended_naturally: list[bool]
    bars: int  # minimum length requested from the generator


def typical_bars(pieces) -> int:
    """Median number of bar lines of real pieces (DEFAULT_BARS without pieces), at least MIN_BARS."""
    counts = [len(piece.bars) for piece in pieces]
    return max(MIN_BARS, int(np.median(counts))) if counts else DEFAULT_BARS


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


def build_report(loaded: LoadedModel, dataset: Dataset, out_dir, pieces_per_genre: int = 100, seed: int = 0,
                 temperature: float = 1.0, top_p: float = 0.95, top_k: int = 0,
                 batch_size: int = GENERATION_BATCH) -> Iterator[ReportProgress]:
    """Generate, measure and write the report to ``out_dir``; yields progress, the last with the metrics."""
    from .evaluate import check_genres_match, evaluate_model
    from .generate import Generator
    from .request import GenerationRequest

    if pieces_per_genre < 1:
        raise ValueError(f"pieces per genre must be at least 1 (got {pieces_per_genre})")
    if temperature <= 0 or not 0 < top_p <= 1 or top_k < 0:
        raise ValueError("temperature must be positive, top-p in (0, 1] and top-k at least 0")
    check_genres_match(loaded, dataset)
    started = time.time()
    out_dir = Path(out_dir)
    (out_dir / "figures").mkdir(parents=True, exist_ok=True)  # fails now, not after the long generation
    (out_dir / "examples").mkdir(parents=True, exist_ok=True)
    keys = dataset.genre_keys
    evaluation = card_evaluation(loaded, dataset)
    test_pieces = len(dataset.indices("test"))
    total = len(keys) * pieces_per_genre + (test_pieces if evaluation is None else 0) + len(FEATURES) + 4
    done = 0
    yield ReportProgress(done, total, "measuring the real test pieces")

    samples: dict[str, GenreSample] = {}
    for g, key in enumerate(keys):
        real = [tokens_to_piece(dataset.piece_tokens(i)) for i in dataset.indices("test", g)]
        samples[key] = GenreSample([], [piece_features(p) for p in real], [], typical_bars(real))

    # One flat list over all genres, sampled in large batches: a batch of 100 rows samples ~4x more
    # events per second than a batch of 10 on a CPU.
    requests = [GenerationRequest(genre=key, bars=samples[key].bars, temperature=temperature, top_p=top_p,
                                  top_k=top_k, seed=seed + g * pieces_per_genre + i)
                for g, key in enumerate(keys) for i in range(pieces_per_genre)]
    generator = Generator(loaded)
    generation_seconds, events, examples = 0.0, 0, {key: [] for key in keys}
    for first in range(0, len(requests), batch_size):
        tick = time.time()
        results = generator.generate_batch(requests[first:first + batch_size])
        generation_seconds += time.time() - tick
        for result in results:
            key = result.request.genre
            events += result.events
            samples[key].generated.append(piece_features(result.piece))
            samples[key].ended_naturally.append(bool(result.ended_naturally))
            if len(examples[key]) < EXAMPLES_PER_GENRE:
                examples[key].append(result)
        done += len(results)
        yield ReportProgress(done, total, f"generated {done} of {len(requests)} pieces")

    if evaluation is None:
        base = done
        for step in evaluate_model(loaded, dataset, "test"):
            yield ReportProgress(base + step.done, total, f"test NLL and genre ID: {step.message}")
            if step.result is not None:
                evaluation = step.result
        evaluation_source = "computed for this report"
        done = base + test_pieces
    else:
        evaluation_source = "model card"

    metrics = {
        "model": loaded.name, "model_path": str(loaded.path),
        "dataset_fingerprint": dataset.fingerprint,
        "created": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "settings": {"pieces_per_genre": pieces_per_genre, "seed": seed, "temperature": temperature,
                     "top_p": top_p, "top_k": top_k, "in_key_threshold": IN_KEY_THRESHOLD},
        "genres": {key: genre_metrics(samples[key], seed) for key in keys},
        "evaluation": evaluation, "evaluation_source": evaluation_source,
        "generation": {"seconds": round(generation_seconds, 1), "events": events,
                       "events_per_second": round(events / max(generation_seconds, 1e-9), 1)},
    }
    ratios = [m["mean_ratio"] for m in metrics["genres"].values() if m["mean_ratio"] is not None]
    metrics["mean_ratio"] = round(float(np.mean(ratios)), 4) if ratios else None

    figures = {}
    for feature in FEATURES:
        figures[feature.name] = plot_feature(feature, samples, metrics, out_dir)
        done += 1
        yield ReportProgress(done, total, f"plotting {feature.title.lower()}")
    figures["checks"] = plot_checks(metrics, out_dir)
    figures["confusion"] = plot_confusion(evaluation, out_dir) if evaluation else None
    done += 3
    example_files = {key: [write_example(result, key, out_dir) for result in examples[key]] for key in keys}
    metrics["examples"] = example_files
    metrics["seconds"] = round(time.time() - started, 1)
    text = json.dumps(json_safe(metrics), indent=1)
    atomic_write_bytes(out_dir / "metrics.json", lambda temp: Path(temp).write_text(text))
    page = report_html(metrics, figures, {key: loaded.genres[g].display_name for g, key in enumerate(keys)})
    atomic_write_bytes(out_dir / "index.html", lambda temp: Path(temp).write_text(page, encoding="utf-8"))
    remove_stale_files(out_dir, [f for f in figures.values() if f] + [f for fs in example_files.values() for f in fs])
    done += 1
    yield ReportProgress(done, total, f"wrote {out_dir / 'index.html'}", json_safe(metrics))


# --- numbers -----------------------------------------------------------------------------------------

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
        features[feature.name] = {"overlap": _rounded(overlap), "ceiling": _rounded(ceiling), "ratio": _rounded(ratio),
                                  "generated_mean": feature_summary(generated), "real_mean": feature_summary(real)}
    ratios = [f["ratio"] for f in features.values() if f["ratio"] is not None]
    return {
        "bars_requested": sample.bars, "generated_pieces": len(sample.generated), "real_pieces": len(sample.real),
        "features": features,
        "mean_ratio": round(float(np.mean(ratios)), 4) if ratios else None,
        "checks": {
            "ends_by_itself": {"generated": _share(sample.ended_naturally), "real": None},
            "keeps_metre": {"generated": _share(f.keeps_metre for f in sample.generated),
                            "real": _share(f.keeps_metre for f in sample.real)},
            "in_key": {"generated": _share(f.in_key for f in sample.generated),
                       "real": _share(f.in_key for f in sample.real)},
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


def _save(figure, out_dir: Path, name: str) -> str:
    relative = f"figures/{name}.png"
    atomic_write_bytes(out_dir / relative, lambda temp: figure.savefig(temp, format="png", dpi=DPI))
    return relative


def _panels(count: int, height_per_row: float = 2.4):
    """A Figure with one axes per genre (PANEL_COLUMNS per row); unused axes hidden."""
    from matplotlib.figure import Figure

    columns = min(PANEL_COLUMNS, count)
    rows = math.ceil(count / columns)
    figure = Figure(figsize=(2.9 * columns, height_per_row * rows + 0.6), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes[count:]:
        ax.set_visible(False)
    return figure, axes[:count]


def _ratio_label(metrics: dict, key: str, name: str) -> str:
    ratio = metrics["genres"][key]["features"][name]["ratio"]
    return f"{key}  (ratio {ratio:.2f})" if ratio is not None else f"{key}  (ratio n/a)"


def plot_feature(feature: Feature, samples: dict[str, GenreSample], metrics: dict, out_dir: Path) -> str:
    """One figure for a feature: a panel per genre, generated vs real; returns its relative path."""
    if feature.kind == "matrix":
        return plot_matrix(feature, samples, metrics, out_dir)
    figure, axes = _panels(len(samples))
    for ax, (key, sample) in zip(axes, samples.items()):
        generated = feature_values(sample.generated, feature.name)
        real = feature_values(sample.real, feature.name)
        if feature.kind == "scalar":
            both = np.concatenate([generated, real])
            both = both[np.isfinite(both)]
            bins = np.histogram_bin_edges(both, bins=20) if len(both) else 10
            for values, colour, label in ((real, REAL_COLOUR, "real"), (generated, GENERATED_COLOUR, "generated")):
                values = values[np.isfinite(values)]
                if len(values):
                    ax.hist(values, bins=bins, density=True, histtype="stepfilled" if label == "real" else "step",
                            alpha=0.45 if label == "real" else 1.0, color=colour, linewidth=1.8, label=label)
            ax.set_xlabel(feature.unit, fontsize=8)
        else:
            positions = np.arange(len(feature.labels))
            for offset, values, colour, label in ((-0.2, real, REAL_COLOUR, "real"),
                                                   (0.2, generated, GENERATED_COLOUR, "generated")):
                if len(values):
                    ax.bar(positions + offset, values.mean(0), width=0.4, color=colour, label=label)
            short_labels = all(len(label) <= 2 for label in feature.labels)
            ax.set_xticks(positions, feature.labels, rotation=0 if short_labels else 90, fontsize=7)
            ax.set_ylabel(feature.unit, fontsize=8)
        ax.set_title(_ratio_label(metrics, key, feature.name), fontsize=9)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=7)
    figure.suptitle(f"{feature.title}: generated vs real test pieces", fontsize=11)
    return _save(figure, out_dir, feature.name)


def plot_matrix(feature: Feature, samples: dict[str, GenreSample], metrics: dict, out_dir: Path) -> str:
    """Mean transition matrices, real and generated side by side for each genre."""
    from matplotlib.figure import Figure

    pairs_per_row = PANEL_COLUMNS // 2
    rows = math.ceil(len(samples) / pairs_per_row)
    figure = Figure(figsize=(2.6 * PANEL_COLUMNS, 2.6 * rows + 0.6), layout="constrained")
    axes = figure.subplots(rows, pairs_per_row * 2, squeeze=False).ravel()
    for ax in axes[2 * len(samples):]:
        ax.set_visible(False)
    for index, (key, sample) in enumerate(samples.items()):
        for side, (values, label) in enumerate(((feature_values(sample.real, feature.name), "real"),
                                                (feature_values(sample.generated, feature.name), "generated"))):
            ax = axes[2 * index + side]
            mean = values.mean(0) if len(values) else np.zeros((12, 12))
            ax.imshow(mean, cmap="magma", vmin=0)
            ax.set_title(f"{key} {label}" + (f"\n{_ratio_label(metrics, key, feature.name).split('  ')[1]}"
                                                  if side else "\n"), fontsize=8)
            ax.set_xticks(range(12), feature.labels, fontsize=5)
            ax.set_yticks(range(12), feature.labels, fontsize=5)
    figure.suptitle(f"{feature.title} of the top voice (row: from, column: to)", fontsize=11)
    return _save(figure, out_dir, feature.name)


def _nan(value) -> float:
    return math.nan if value is None else float(value)


def plot_checks(metrics: dict, out_dir: Path) -> str:
    """Bars: share of pieces that end by themselves, keep one metre, stay in key; generated vs real."""
    from matplotlib.figure import Figure

    keys = list(metrics["genres"])
    checks = (("ends_by_itself", "ends by itself"), ("keeps_metre", "keeps one metre"), ("in_key", "stays in key"))
    figure = Figure(figsize=(11, 2.8), layout="constrained")
    axes = figure.subplots(1, len(checks))
    positions = np.arange(len(keys))
    for ax, (name, title) in zip(axes, checks):
        for offset, side, colour in ((-0.2, "real", REAL_COLOUR), (0.2, "generated", GENERATED_COLOUR)):
            values = [_nan(metrics["genres"][k]["checks"][name][side]) for k in keys]
            if not all(math.isnan(v) for v in values):
                ax.bar(positions + offset, values, width=0.4, color=colour, label=side)
        ax.set_title(title, fontsize=10)
        ax.set_ylim(0, 1.05)
        ax.set_xticks(positions, keys, rotation=45, ha="right", fontsize=8)
        ax.tick_params(labelsize=8)
    axes[1].legend(fontsize=7, loc="lower right")
    return _save(figure, out_dir, "checks")


def plot_confusion(evaluation: dict, out_dir: Path) -> str:
    """Genre-ID confusion matrix as a heat map (rows: true genre)."""
    from matplotlib.figure import Figure

    labels, matrix = evaluation["confusion"]["labels"], np.array(evaluation["confusion"]["matrix"], dtype=float)
    shares = matrix / np.maximum(matrix.sum(1, keepdims=True), 1)
    figure = Figure(figsize=(0.6 * len(labels) + 2.2, 0.5 * len(labels) + 1.6), layout="constrained")
    ax = figure.subplots()
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for (row, column), count in np.ndenumerate(matrix):
        ax.text(column, row, f"{int(count)}", ha="center", va="center", fontsize=8,
                color="white" if shares[row, column] > 0.6 else "black")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("identified genre", fontsize=9)
    ax.set_ylabel("true genre", fontsize=9)
    return _save(figure, out_dir, "confusion")


# --- HTML --------------------------------------------------------------------------------------------

CSS = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f3f3; }
img { max-width: 100%; }
.note { color: #555; font-size: 0.9em; }
code { background: #f3f3f3; padding: 0 0.2em; }
"""


def _cell(value, fmt: str = "{:.2f}", colour: bool = False) -> str:
    if value is None:
        return "<td>&ndash;</td>"
    style = ""
    if colour:  # red (0.5 or less) .. green (1.0 or more)
        level = min(1.0, max(0.0, (value - 0.5) / 0.5))
        style = f' style="background: hsl({int(120 * level)}, 60%, 85%)"'
    return f"<td{style}>{fmt.format(value)}</td>"


def _table(header: list[str], rows: list[str]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _row(name: str, cells: str) -> str:
    return f"<tr><td>{html.escape(name)}</td>{cells}</tr>"


def _percent(value) -> str:
    return _cell(value, "{:.0%}")


def _intro_html(metrics: dict) -> str:
    settings, generation = metrics["settings"], metrics["generation"]
    return (f"<h1>Does the generated music sound like its genre?</h1><p>Model <code>{html.escape(metrics['model'])}"
            f"</code>, {settings['pieces_per_genre']} generated pieces per genre compared with each genre's held-out "
            f"test pieces. Sampling: temperature {settings['temperature']}, top-p {settings['top_p']}, top-k "
            f"{settings['top_k'] or 'off'}, seed {settings['seed']}. Created {html.escape(metrics['created'])}; "
            f"generation took {generation['seconds']:.0f} s ({generation['events_per_second']:.0f} events/s), "
            f"the whole report {metrics['seconds']:.0f} s.</p>")


def _glance_html(metrics: dict, names: dict[str, str]) -> str:
    mean = "n/a" if metrics["mean_ratio"] is None else f"{metrics['mean_ratio']:.2f}"
    rows = [_row(names.get(key, key), "".join(_cell(genre["features"][f.name]["ratio"], colour=True) for f in FEATURES)
                 + _cell(genre["mean_ratio"], colour=True))
            for key, genre in metrics["genres"].items()]
    return ("<h2>At a glance</h2><p>Each number is <b>overlap / ceiling</b>: how much the distribution of a feature "
            "over generated pieces overlaps the one over real pieces, relative to how much two halves of the real "
            "pieces overlap each other. 1.0 means the generated pieces are as close to the genre as its own pieces "
            f"are. Mean over genres and features: <b>{mean}</b>.</p>"
            + _table(["genre"] + [f.title for f in FEATURES] + ["mean"], rows))


def _checks_html(metrics: dict, figures: dict, names: dict[str, str]) -> str:
    rows = []
    for key, genre in metrics["genres"].items():
        checks = genre["checks"]
        rows.append(_row(names.get(key, key), f"<td>{genre['bars_requested']}</td>"
                         + _percent(checks["ends_by_itself"]["generated"])
                         + _percent(checks["keeps_metre"]["generated"]) + _percent(checks["keeps_metre"]["real"])
                         + _percent(checks["in_key"]["generated"]) + _percent(checks["in_key"]["real"])))
    return ("<h2>Checks</h2><p>Share of pieces that <b>end by themselves</b> (the model chose to stop after the "
            "requested length instead of being cut at a bar line 25% past it or at the event cap), <b>keep one "
            "metre</b> (equal bars apart from a pickup, the last bar and bars split at repeats) and <b>stay in "
            f"key</b> (at least {IN_KEY_THRESHOLD:.0%} of the sounding time inside the best-fitting major or minor "
            "scale). Real test pieces are the reference; every real piece ends by itself.</p>"
            + _table(["genre", "bars asked for", "ends by itself", "keeps metre", "(real)", "in key", "(real)"], rows)
            + f"<img src='{figures['checks']}' alt='checks'>")


def _evaluation_html(metrics: dict, figures: dict, names: dict[str, str]) -> str:
    evaluation = metrics["evaluation"]
    if not evaluation:
        return ""
    baseline = evaluation.get("baseline_nll", {})
    rows = [_row(names.get(key, key), _cell(nll, "{:.3f}") + _cell(baseline.get(key), "{:.3f}")
                 + _percent(evaluation["per_genre_accuracy"].get(key)))
            for key, nll in evaluation["test_nll"].items()]
    confusion = ""
    if figures.get("confusion"):
        confusion = f"<img src='{figures['confusion']}' alt='genre-ID confusion matrix'>"
    return ("<h2>Likelihood and genre identification</h2><p>Negative log-likelihood of the test pieces in nats per "
            f"event (lower is better; source: {html.escape(metrics['evaluation_source'])}), next to an n-gram "
            "baseline. Genre ID: each test piece is scored under every genre and the most likely genre wins; overall "
            f"accuracy <b>{evaluation['genre_id_accuracy']:.1%}</b>.</p>"
            + _table(["genre", "test NLL", "baseline NLL", "genre-ID accuracy"], rows) + confusion)


def _feature_html(feature: Feature, metrics: dict, figure: str) -> str:
    rows = []
    for key, genre in metrics["genres"].items():
        numbers = genre["features"][feature.name]
        means = _cell(numbers["real_mean"]) + _cell(numbers["generated_mean"]) if feature.kind == "scalar" else ""
        rows.append(_row(key, means + _cell(numbers["overlap"]) + _cell(numbers["ceiling"])
                         + _cell(numbers["ratio"], colour=True)))
    header = ["genre"] + (["real mean", "generated mean"] if feature.kind == "scalar" else []) + \
        ["overlap", "ceiling", "ratio"]
    return (f"<h3>{html.escape(feature.title)} ({html.escape(feature.unit)})</h3><p class='note'>"
            f"{html.escape(FEATURE_NOTES[feature.name])}</p><img src='{figure}' alt='{html.escape(feature.title)}'>"
            + _table(header, rows))


def _examples_html(metrics: dict, names: dict[str, str]) -> str:
    items = []
    for key, files in metrics["examples"].items():
        links = ", ".join(f"<a href='{html.escape(f)}'>{html.escape(Path(f).name)}</a>" for f in files)
        items.append(f"<li>{html.escape(names.get(key, key))}: {links}</li>")
    return f"<h2>Listen</h2><p>The first generated pieces of each genre (MIDI):</p><ul>{''.join(items)}</ul>"


def report_html(metrics: dict, figures: dict, names: dict[str, str]) -> str:
    """The report page. ``figures`` maps figure names to PNG paths relative to the page; ``names`` maps
    genre keys to display names."""
    title = f"musicgen report: {html.escape(metrics['model'])}"
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
             f"<style>{CSS}</style></head><body>",
             _intro_html(metrics), _glance_html(metrics, names), _checks_html(metrics, figures, names),
             _evaluation_html(metrics, figures, names), "<h2>Features</h2>"]
    parts += [_feature_html(feature, metrics, figures[feature.name]) for feature in FEATURES]
    parts += [_examples_html(metrics, names), f"<h2>Method</h2><p class='note'>{html.escape(METHOD_NOTE)}</p>",
              "<p class='note'>All numbers are in <a href='metrics.json'>metrics.json</a>.</p></body></html>"]
    return "\n".join(parts)


FEATURE_NOTES = {
    "pitch_class_histogram": "Share of sounding time (duration-weighted) on each of the 12 pitch classes, counted "
                             "in semitones from the piece's estimated tonic (1 = tonic, 5 = fifth, b3 = minor "
                             "third); bars show the mean over pieces.",
    "pitch_range": "Highest minus lowest pitch of a piece.",
    "mean_interval": "Mean absolute step between successive notes of the top voice (the highest sounding line).",
    "note_length_histogram": "Share of notes per length class (counts, not durations).",
    "onset_interval_histogram": "Share of gaps between successive note onsets per length class.",
    "notes_per_bar": "Mean number of notes starting in each full bar (pickups and split bars left out).",
    "polyphony": "Mean number of notes sounding at each onset: 1 for a single melody, about 4 for a chorale.",
    "pitch_class_transitions": "How often one pitch class (counted from the tonic) follows another in the top "
                               "voice; mean matrices shown.",
}

METHOD_NOTE = (
    "Features after MGEval (Yang & Lerch 2018). Scalar features: overlap area of the kernel density estimates "
    "(Gaussian, Scott's bandwidth) of generated and real values. Histogram and matrix features: overlap area of "
    "the density of Euclidean distances between real pieces (intra-set) and between generated and real pieces "
    "(inter-set). Ceiling: the same overlap between two random halves of the real test pieces (mean of 10 "
    "splits); small genres have noisy ceilings. Generation length: the median number of bars of the genre's "
    "test pieces. Key: Krumhansl-Kessler profiles; the minor scale includes the leading tone.")

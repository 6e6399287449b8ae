"""The report's figures: one PNG per feature (genres side by side, generated vs real), the checks,
and confusion matrices (genre identification by likelihood, and the style critic's).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..evaluation.features import Feature, feature_values
from ..files.writing import atomic_write_bytes
from .metrics import GenreSample

DPI = 80  # keeps the whole report well under 2 MB
PANEL_COLUMNS = 4  # genres per row of a figure
REAL_COLOUR, GENERATED_COLOUR = "#4c72b0", "#dd8452"


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
                    ax.hist(
                        values,
                        bins=bins,
                        density=True,
                        histtype="stepfilled" if label == "real" else "step",
                        alpha=0.45 if label == "real" else 1.0,
                        color=colour,
                        linewidth=1.8,
                        label=label,
                    )
            ax.set_xlabel(feature.unit, fontsize=8)
        else:
            positions = np.arange(len(feature.labels))
            for offset, values, colour, label in (
                (-0.2, real, REAL_COLOUR, "real"),
                (0.2, generated, GENERATED_COLOUR, "generated"),
            ):
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
    for ax in axes[2 * len(samples) :]:
        ax.set_visible(False)
    for index, (key, sample) in enumerate(samples.items()):
        for side, (values, label) in enumerate(
            (
                (feature_values(sample.real, feature.name), "real"),
                (feature_values(sample.generated, feature.name), "generated"),
            )
        ):
            ax = axes[2 * index + side]
            mean = values.mean(0) if len(values) else np.zeros((12, 12))
            ax.imshow(mean, cmap="magma", vmin=0)
            ax.set_title(
                f"{key} {label}" + (f"\n{_ratio_label(metrics, key, feature.name).split('  ')[1]}" if side else "\n"),
                fontsize=8,
            )
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


def _draw_confusion(ax, labels: list[str], matrix: np.ndarray) -> None:
    """A confusion matrix as a heat map of row shares, with the counts written in (rows: true genre)."""
    shares = matrix / np.maximum(matrix.sum(1, keepdims=True), 1)
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for (row, column), count in np.ndenumerate(matrix):
        ax.text(
            column,
            row,
            f"{int(count)}",
            ha="center",
            va="center",
            fontsize=8,
            color="white" if shares[row, column] > 0.6 else "black",
        )
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("identified genre", fontsize=9)
    ax.set_ylabel("true genre", fontsize=9)


def plot_confusion(evaluation: dict, out_dir: Path) -> str:
    """Genre-ID confusion matrix as a heat map (rows: true genre)."""
    from matplotlib.figure import Figure

    labels, matrix = evaluation["confusion"]["labels"], np.array(evaluation["confusion"]["matrix"], dtype=float)
    figure = Figure(figsize=(0.6 * len(labels) + 2.2, 0.5 * len(labels) + 1.6), layout="constrained")
    _draw_confusion(figure.subplots(), labels, matrix)
    return _save(figure, out_dir, "confusion")


def plot_critic_confusion(critic: dict, out_dir: Path) -> str:
    """The style critic's confusion matrices side by side: real test pieces, generated pieces."""
    from matplotlib.figure import Figure

    labels = critic["real_confusion"]["labels"]
    figure = Figure(figsize=(1.2 * len(labels) + 4.0, 0.5 * len(labels) + 1.8), layout="constrained")
    for ax, (name, title) in zip(
        figure.subplots(1, 2), (("real_confusion", "real test pieces"), ("generated_confusion", "generated pieces"))
    ):
        _draw_confusion(ax, labels, np.array(critic[name]["matrix"], dtype=float))
        ax.set_title(f"style critic on {title}", fontsize=10)
    return _save(figure, out_dir, "critic_confusion")

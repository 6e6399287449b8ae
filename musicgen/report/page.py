"""The report's page: ``report.page`` turns the metrics (see ``report.build``) into one self-contained
HTML file (inline CSS, relative links to the figures and examples)."""

from __future__ import annotations

import html
from pathlib import Path

from ..evaluation.features import FEATURES, IN_KEY_THRESHOLD, Feature

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


def _sampling_text(settings: dict) -> str:
    """Top-p and style strength as sampled: one value, or each genre's (the model card's defaults)."""
    per_genre = settings.get("genre_sampling")
    if not per_genre:
        return f"top-p {settings['top_p']}"
    return "style strength and top-p per genre: " + ", ".join(
        f"{html.escape(key)} {values['style_strength']:g} / {values['top_p']:g}" for key, values in per_genre.items()
    )


def _intro_html(metrics: dict) -> str:
    settings, generation = metrics["settings"], metrics["generation"]
    return (
        f"<h1>Does the generated music sound like its genre?</h1><p>Model <code>{html.escape(metrics['model'])}"
        f"</code>, {settings['pieces_per_genre']} generated pieces per genre compared with each genre's held-out "
        f"test pieces. Sampling: temperature {settings['temperature']}, {_sampling_text(settings)}, top-k "
        f"{settings['top_k'] or 'off'}, seed {settings['seed']}. Created {html.escape(metrics['created'])}; "
        f"generation took {generation['seconds']:.0f} s ({generation['events_per_second']:.0f} events/s), "
        f"the whole report {metrics['seconds']:.0f} s.</p>"
    )


def _glance_html(metrics: dict, names: dict[str, str]) -> str:
    mean = "n/a" if metrics["mean_ratio"] is None else f"{metrics['mean_ratio']:.2f}"
    rows = [
        _row(
            names.get(key, key),
            "".join(_cell(genre["features"][f.name]["ratio"], colour=True) for f in FEATURES)
            + _cell(genre["mean_ratio"], colour=True),
        )
        for key, genre in metrics["genres"].items()
    ]
    return (
        "<h2>At a glance</h2><p>Each number is <b>overlap / ceiling</b>: how much the distribution of a feature "
        "over generated pieces overlaps the one over real pieces, relative to how much two halves of the real "
        "pieces overlap each other. 1.0 means the generated pieces are as close to the genre as its own pieces "
        f"are. Mean over genres and features: <b>{mean}</b>.</p>"
        + _table(["genre"] + [f.title for f in FEATURES] + ["mean"], rows)
    )


def _checks_html(metrics: dict, figures: dict, names: dict[str, str]) -> str:
    rows = []
    for key, genre in metrics["genres"].items():
        checks = genre["checks"]
        rows.append(
            _row(
                names.get(key, key),
                f"<td>{genre['bars_requested']}</td>"
                + _percent(checks["ends_by_itself"]["generated"])
                + _percent(checks["keeps_metre"]["generated"])
                + _percent(checks["keeps_metre"]["real"])
                + _percent(checks["in_key"]["generated"])
                + _percent(checks["in_key"]["real"]),
            )
        )
    return (
        "<h2>Checks</h2><p>Share of pieces that <b>end by themselves</b> (the model chose to stop after the "
        "requested length instead of being cut at a bar line 25% past it or at the event cap), <b>keep one "
        "metre</b> (equal bars apart from a pickup, the last bar and bars split at repeats) and <b>stay in "
        f"key</b> (at least {IN_KEY_THRESHOLD:.0%} of the sounding time inside the best-fitting major or minor "
        "scale). Real test pieces are the reference; every real piece ends by itself.</p>"
        + _table(["genre", "bars asked for", "ends by itself", "keeps metre", "(real)", "in key", "(real)"], rows)
        + f"<img src='{figures['checks']}' alt='checks'>"
    )


def _evaluation_html(metrics: dict, figures: dict, names: dict[str, str]) -> str:
    evaluation = metrics["evaluation"]
    if not evaluation:
        return ""
    baseline = evaluation.get("baseline_nll", {})
    rows = [
        _row(
            names.get(key, key),
            _cell(nll, "{:.3f}")
            + _cell(baseline.get(key), "{:.3f}")
            + _percent(evaluation["per_genre_accuracy"].get(key)),
        )
        for key, nll in evaluation["test_nll"].items()
    ]
    confusion = ""
    if figures.get("confusion"):
        confusion = f"<img src='{figures['confusion']}' alt='genre-ID confusion matrix'>"
    return (
        "<h2>Likelihood and genre identification</h2><p>Negative log-likelihood of the test pieces in nats per "
        f"event (lower is better; source: {html.escape(metrics['evaluation_source'])}), next to an n-gram "
        "baseline. Genre ID: each test piece is scored under every genre and the most likely genre wins; overall "
        f"accuracy <b>{evaluation['genre_id_accuracy']:.1%}</b>.</p>"
        + _table(["genre", "test NLL", "baseline NLL", "genre-ID accuracy"], rows)
        + confusion
    )


def _feature_html(feature: Feature, metrics: dict, figure: str) -> str:
    rows = []
    for key, genre in metrics["genres"].items():
        numbers = genre["features"][feature.name]
        means = _cell(numbers["real_mean"]) + _cell(numbers["generated_mean"]) if feature.kind == "scalar" else ""
        rows.append(
            _row(
                key,
                means + _cell(numbers["overlap"]) + _cell(numbers["ceiling"]) + _cell(numbers["ratio"], colour=True),
            )
        )
    header = (
        ["genre"]
        + (["real mean", "generated mean"] if feature.kind == "scalar" else [])
        + ["overlap", "ceiling", "ratio"]
    )
    return (
        f"<h3>{html.escape(feature.title)} ({html.escape(feature.unit)})</h3><p class='note'>"
        f"{html.escape(FEATURE_NOTES[feature.name])}</p><img src='{figure}' alt='{html.escape(feature.title)}'>"
        + _table(header, rows)
    )


def _critic_html(metrics: dict, figures: dict, names: dict[str, str]) -> str:
    critic = metrics.get("critic")
    if not critic:
        return ""
    notated = (metrics.get("critic_notated") or {}).get("genres", {})  # the critic that read the notation
    rows = [
        _row(
            names.get(key, key),
            _percent(genre["real_recall"])
            + _percent(genre["generated_recall"])
            + _cell(genre["recall_ratio"], colour=True)
            + _cell(genre["real_vs_generated_accuracy"])
            + _cell(genre.get("real_vs_generated_notated"))
            + _cell(genre["mean_style_fit"])
            + f"<td>{genre['real_pieces']}</td><td>{genre['generated_pieces']}</td>"
            + _percent(notated.get(key, {}).get("real_recall"))
            + _percent(notated.get(key, {}).get("generated_recall")),
        )
        for key, genre in critic["genres"].items()
    ]
    means = [critic[name]["mean_recall"] for name in ("real_confusion", "generated_confusion")]
    summary = ", ".join(
        f"{label} <b>{value:.0%}</b>" for label, value in zip(("real", "generated"), means) if value is not None
    )
    figure = (
        f"<img src='{figures['critic_confusion']}' alt='style critic confusion matrices'>"
        if figures.get("critic_confusion")
        else ""
    )
    trained = critic.get("trained_on", {})
    return (
        "<h2>Style critic</h2><p>A genre classifier trained only on the real <b>training</b> pieces "
        f"({trained.get('pieces', '?')} pieces; whole-piece features of the piece <b>as heard</b>: its notes in "
        "beats, the metre and bar lines they imply and how often their accents recur, never the time signature, "
        "bar lines or strain marks written with it; rhythm within the heard bar, melodic intervals, pitch classes "
        "from the tonic, polyphony, phrase and cadence shape) names the genre of each "
        "real test piece (its recall there is the ceiling) and of each generated piece. <b>ratio</b> = generated "
        "recall / real recall (1.0 = generated pieces are as recognisable as real ones). <b>real vs generated"
        "</b>: cross-validated balanced accuracy of a classifier on the same features telling this genre's "
        "generated pieces from its real test pieces (0.5 = it cannot tell them apart); <b>as notated</b>: the same with "
        "each repeated strain of a generated piece written once, as the corpus stores its tunes. <b>style fit</b>: the "
        f"critic's probability of the intended genre, mean over generated pieces. Mean recall: {summary}. "
        "<b>notated critic</b>: the recall of the critic before, which read the written metre and strain marks "
        "(which the sampler writes by construction).</p>"
        + _table(
            [
                "genre",
                "real recall",
                "generated recall",
                "ratio",
                "real vs generated",
                "as notated",
                "style fit",
                "real pieces",
                "generated pieces",
                "notated critic: real",
                "notated critic: generated",
            ],
            rows,
        )
        + figure
    )


def _examples_html(metrics: dict, names: dict[str, str]) -> str:
    critic = (metrics.get("critic") or {}).get("genres", {})
    items = []
    for key, files in metrics["examples"].items():
        fits = critic.get(key, {}).get("style_fit", [])  # examples are the genre's first pieces
        links = ", ".join(
            f"<a href='{html.escape(f)}'>{html.escape(Path(f).name)}</a>"
            + (f" (style fit {fits[i]['style_fit']:.2f})" if i < len(fits) and fits[i]["style_fit"] is not None else "")
            for i, f in enumerate(files)
        )
        items.append(f"<li>{html.escape(names.get(key, key))}: {links}</li>")
    return f"<h2>Listen</h2><p>The first generated pieces of each genre (MIDI):</p><ul>{''.join(items)}</ul>"


def _form_html(metrics: dict, names: dict[str, str]) -> str:
    form = metrics.get("form") or {}
    rows = [
        _row(
            names.get(key, key),
            f"<td>{row['pieces']}</td>"
            + _percent(row["exact_bars"])
            + _percent(row["ended_naturally"])
            + _percent(row["exact_and_natural"])
            + _percent(row["pickup"])
            + f"<td>{html.escape(', '.join(f'{m} x{c}' for m, c in row['meters'].items()))}</td>",
        )
        for key, row in form.items()
    ]
    return (
        "<h2>Metre, length and ending</h2><p>Each generated piece written as a MIDI file and read back: "
        "<b>exact bars</b> = the bars asked for, every bar of the metre's length, nothing sounding past the "
        "closing bar line; <b>ends by itself</b> = the network chose to end at the closing bar line of its last "
        "part (told by LAST_BAR that the final bar had come); the metre is the file's time signature.</p>"
        + _table(["genre", "pieces", "exact bars", "ends by itself", "both", "pickup", "metre written"], rows)
    )


VOICE_LEADING_ROWS = (  # (figure, label, format)
    ("parallel_fifths_per_100_moves", "parallel fifths per 100 voice-pair moves", "{:.2f}"),
    ("parallel_octaves_per_100_moves", "parallel octaves and unisons per 100 voice-pair moves", "{:.2f}"),
    ("crossings_per_100_beats", "voice crossings per 100 beats", "{:.2f}"),
    ("wide_spacing_per_100_beats", "S-A or A-T over an octave apart, per 100 beats", "{:.2f}"),
    ("all_voices_sounding", "beats where all four voices sound", "{:.0%}"),
    ("final_bass_on_tonic", "final bass on the tonic", "{:.0%}"),
    ("final_soprano_on_1_3_5", "final soprano on 1, 3 or 5", "{:.0%}"),
    ("bass_leaps_over_fifth_per_100_notes", "bass leaps over a fifth per 100 bass notes", "{:.1f}"),
)


def _voice_leading_html(metrics: dict, names: dict[str, str]) -> str:
    table = metrics.get("voice_leading") or {}
    if not table:
        return ""
    keys = list(table)
    header = ["measure"] + [f"{names.get(k, k)}: {side}" for k in keys for side in ("real", "generated")]
    rows = []
    for name, label, fmt in VOICE_LEADING_ROWS:
        cells = "".join(_cell(table[k][side].get(name), fmt) for k in keys for side in ("real", "generated"))
        rows.append(_row(label, cells))
    for voice, voice_name in enumerate(("soprano", "alto", "tenor", "bass")):
        cells = "".join(
            _cell((table[k][side].get("out_of_range_percent") or [None] * 4)[voice], "{:.1f}%")
            for k in keys
            for side in ("real", "generated")
        )
        rows.append(_row(f"{voice_name} notes outside the textbook range", cells))
    return (
        "<h2>Voice leading</h2><p>The four-voice styles, counted as a teacher marks a chorale: real test pieces "
        "beside the generated ones. A <b>voice-pair move</b> is two voices both sounding at two successive onsets "
        "with at least one of them moving; parallels are fifths or octaves (compound or not) reached in similar "
        "motion from the same interval. Textbook ranges: soprano C4-A5, alto G3-D5, tenor C3-A4, bass E2-D4.</p>"
        + _table(header, rows)
    )


def report_html(metrics: dict, figures: dict, names: dict[str, str]) -> str:
    """The report page. ``figures`` maps figure names to PNG paths relative to the page; ``names`` maps
    genre keys to display names."""
    title = f"musicgen report: {html.escape(metrics['model'])}"
    parts = [
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"<style>{CSS}</style></head><body>",
        _intro_html(metrics),
        _glance_html(metrics, names),
        _form_html(metrics, names),
        _checks_html(metrics, figures, names),
        _evaluation_html(metrics, figures, names),
        _critic_html(metrics, figures, names),
        _voice_leading_html(metrics, names),
        "<h2>Features</h2>",
    ]
    parts += [_feature_html(feature, metrics, figures[feature.name]) for feature in FEATURES]
    parts += [
        _examples_html(metrics, names),
        f"<h2>Method</h2><p class='note'>{html.escape(METHOD_NOTE)}</p>",
        "<p class='note'>All numbers are in <a href='metrics.json'>metrics.json</a>.</p></body></html>",
    ]
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
    "test pieces. Key: Krumhansl-Kessler profiles; the minor scale includes the leading tone."
)

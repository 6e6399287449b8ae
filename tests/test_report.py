"""Features, overlap metric and the evaluation report (tiny model, a few pieces per genre)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from musicgen.evaluation import features as F
from musicgen.music.piece import make_piece

C_MAJOR = (60, 62, 64, 65, 67, 69, 71)
QUARTER, EIGHTH = 12, 6


def scale_piece(pitches, duration=QUARTER, bar=4 * QUARTER):
    """One note after another, bar lines every ``bar`` steps."""
    notes = [(i * duration, p, duration) for i, p in enumerate(pitches)]
    return make_piece(notes, bars=range(0, len(pitches) * duration, bar))


# --- features ---------------------------------------------------------------------------------------


def test_c_major_scale_has_only_white_key_classes_with_equal_weights():
    histogram = F.pitch_class_histogram(scale_piece(C_MAJOR))
    white = [0, 2, 4, 5, 7, 9, 11]
    assert histogram[white] == pytest.approx([1 / 7] * 7)
    assert histogram[[1, 3, 6, 8, 10]].sum() == 0


def test_pitch_class_histogram_weights_by_duration():
    piece = make_piece([(0, 60, 36), (36, 67, 12)])  # a dotted half C, a quarter G
    histogram = F.pitch_class_histogram(piece)
    assert histogram[0] == pytest.approx(0.75) and histogram[7] == pytest.approx(0.25)


def test_notes_per_bar_counts_full_bars_and_skips_the_pickup():
    pickup = [(0, 67, QUARTER)]
    eighths = [(QUARTER + k * EIGHTH, 60 + k % 5, EIGHTH) for k in range(4 * 8)]  # four bars of eighths
    piece = make_piece(pickup + eighths, bars=[0, 12, 60, 108, 156])
    assert F.notes_per_bar(piece) == 8.0
    assert np.isnan(F.notes_per_bar(make_piece(eighths)))  # no bar lines: no bars to count


def test_polyphony_counts_notes_sounding_at_each_onset():
    melody = scale_piece(C_MAJOR)
    chords = make_piece([(beat * QUARTER, p, QUARTER) for beat in range(4) for p in (48, 55, 64, 72)])
    held = make_piece([(0, 48, 4 * QUARTER)] + [(beat * QUARTER, 60 + beat, QUARTER) for beat in range(4)])
    assert F.polyphony(melody) == 1.0
    assert F.polyphony(chords) == 4.0
    assert F.polyphony(held) == 2.0  # the held bass sounds under every melody note


def test_mean_interval_follows_the_top_voice_not_an_inner_voice():
    soprano = [(0, 72, 4 * QUARTER), (4 * QUARTER, 74, 4 * QUARTER)]
    alto = [(beat * QUARTER, p, QUARTER) for beat, p in enumerate((64, 65, 67, 65))]
    piece = make_piece(soprano + alto)
    assert F.top_voice(piece) == [72, 74]
    assert F.piece_features(piece).mean_interval == 2.0


def test_length_classes_of_common_note_values():
    names = [name for name, _ in F.LENGTH_CLASSES]
    for steps, name in (
        (3, "16th"),
        (4, "8th triplet"),
        (6, "8th"),
        (9, "dotted 8th"),
        (12, "quarter"),
        (18, "dotted quarter"),
        (24, "half"),
        (36, "dotted half"),
        (48, "whole+"),
        (200, "whole+"),
        (1, "16th"),
    ):
        assert names[int(F.length_class(np.array([steps]))[0])] == name, steps


def test_one_metre_allows_pickup_last_bar_and_bars_split_at_repeats():
    def with_bar_lengths(lengths):
        bars = np.concatenate([[0], np.cumsum(lengths)])
        notes = [(start, 60, 3) for start in range(0, int(bars[-1]), 6)]
        return make_piece(notes, bars=bars[:-1])

    assert F.keeps_metre(with_bar_lengths([6, 36, 36, 36, 30, 6, 36, 36, 30]))  # a jig with a repeat
    assert F.keeps_metre(with_bar_lengths([48] * 6))
    assert not F.keeps_metre(with_bar_lengths([48, 48, 48, 36, 36, 36]))  # 4/4 turns into 3/4
    assert not F.keeps_metre(with_bar_lengths([48, 48, 60, 48, 48]))  # one bar too long
    assert not F.keeps_metre(make_piece([(0, 60, 12), (12, 62, 12)]))  # no bar lines at all


def test_in_key_check():
    a_minor_with_leading_tone = (69, 71, 72, 74, 76, 77, 80, 81)
    chromatic = range(60, 72)
    share, key = F.in_key_share(scale_piece(C_MAJOR))
    assert share == pytest.approx(1.0) and key in ("C major", "A minor")
    assert F.piece_features(scale_piece(a_minor_with_leading_tone)).in_key
    assert not F.piece_features(scale_piece(chromatic)).in_key


def test_empty_piece_has_features_without_crashing():
    features = F.piece_features(make_piece([]))
    assert np.isnan(features.pitch_range) and not features.keeps_metre
    assert features.pitch_class_histogram.sum() == 0


# --- overlap ----------------------------------------------------------------------------------------


def test_identical_sets_overlap_fully():
    rng = np.random.default_rng(0)
    values = rng.normal(5, 2, 60)
    assert F.kde_overlap(values, values.copy(), 0.1) == pytest.approx(1.0, abs=1e-9)
    histograms = rng.dirichlet(np.ones(12), 60)
    feature = F.FEATURES_BY_NAME["pitch_class_histogram"]
    # Each piece also meets its own copy at distance 0, so identical sets score 1 - O(1/n).
    assert F.feature_overlap(feature, histograms, histograms.copy()) > 0.9


def test_clearly_different_sets_overlap_little():
    rng = np.random.default_rng(1)
    assert F.kde_overlap(rng.normal(0, 1, 60), rng.normal(10, 1, 60), 0.1) < 0.05
    major = np.array([1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1], dtype=float)
    real = rng.dirichlet(major * 20 + 0.01, 40)
    chromatic_noise = rng.dirichlet(np.ones(12) * 20, 40)
    feature = F.FEATURES_BY_NAME["pitch_class_histogram"]
    assert F.feature_overlap(feature, chromatic_noise, real) < 0.2
    assert F.feature_overlap(feature, rng.dirichlet(major * 20 + 0.01, 40), real) > 0.8


def test_constant_features_overlap_when_equal_and_not_when_different():
    ones = np.ones(30)
    assert F.kde_overlap(ones, ones, 0.05) == pytest.approx(1.0)
    assert F.kde_overlap(ones, ones * 4, 0.05) < 0.01


def test_ceiling_of_a_homogeneous_set_is_high():
    values = np.random.default_rng(2).normal(0, 1, 80)
    assert 0.7 < F.overlap_ceiling(F.FEATURES_BY_NAME["pitch_range"], values) <= 1.0
    assert np.isnan(F.overlap_ceiling(F.FEATURES_BY_NAME["pitch_range"], values[:3]))


# --- report -----------------------------------------------------------------------------------------


def test_genre_metrics_of_a_copy_of_the_real_pieces_match_the_ceiling():
    from musicgen.report.build import GenreSample, genre_metrics, json_safe, report_html

    rng = np.random.default_rng(3)
    real = [
        F.piece_features(scale_piece(rng.choice(C_MAJOR, size=int(rng.integers(8, 24))) + int(rng.integers(-5, 5))))
        for _ in range(24)
    ]
    metrics = genre_metrics(GenreSample(real, real, [True] * 24, 8), seed=0)
    pitch_range = metrics["features"]["pitch_range"]
    assert pitch_range["overlap"] == pytest.approx(1.0) and pitch_range["ratio"] >= 1.0
    assert metrics["checks"]["ends_by_itself"]["generated"] == 1.0
    assert metrics["checks"]["keeps_metre"]["generated"] == metrics["checks"]["keeps_metre"]["real"] == 1.0
    page = report_html(
        json_safe(
            {
                "model": "m",
                "created": "now",
                "seconds": 1.0,
                "mean_ratio": metrics["mean_ratio"],
                "settings": {"pieces_per_genre": 24, "temperature": 1.0, "top_p": 0.95, "top_k": 0, "seed": 0},
                "generation": {"seconds": 1.0, "events_per_second": 10.0},
                "genres": {"g": metrics},
                "evaluation": None,
                "examples": {"g": []},
            }
        ),
        {f.name: f"figures/{f.name}.png" for f in F.FEATURES} | {"checks": "figures/checks.png"},
        {},
    )
    assert f"{pitch_range['ratio']:.2f}" in page and "hsl(120" in page  # a full match is coloured green


@pytest.fixture(scope="module")
def tiny_report(tiny_model, tiny_dataset, tmp_path_factory):
    from musicgen.model.model_files import load_model
    from musicgen.report.build import build_report
    from musicgen.training.dataset import load_dataset

    out = tmp_path_factory.mktemp("report")
    with pytest.MonkeyPatch.context() as patch:  # the style critic is cached here, not in the real user cache
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        steps = list(
            build_report(load_model(str(tiny_model)), load_dataset(tiny_dataset), out, pieces_per_genre=3, seed=0)
        )
    return out, steps


def test_tiny_report_writes_page_metrics_and_figures(tiny_report):
    out, steps = tiny_report
    assert steps[-1].result is not None and steps[-1].done == steps[-1].total
    assert all(a.done <= b.done for a, b in zip(steps, steps[1:]))
    metrics = json.loads(
        (out / "metrics.json").read_text(), parse_constant=lambda name: pytest.fail(f"{name} in metrics.json")
    )
    assert set(metrics["genres"]) == {"rise", "fall"}
    for genre in metrics["genres"].values():
        assert genre["generated_pieces"] == 3
        assert set(genre["features"]) == {f.name for f in F.FEATURES}
        assert genre["checks"]["keeps_metre"]["real"] == 1.0  # the toy genres keep strict metres
    assert metrics["evaluation"]["genre_id_accuracy"] >= 0
    # Metre, length and ending, read back from the MIDI files of the generated pieces
    assert metrics["form"]["rise"]["meters"] == {"4/4": 3} and metrics["form"]["fall"]["meters"] == {"6/8": 3}
    assert all(row["exact_bars"] == 1.0 and row["pieces"] == 3 for row in metrics["form"].values())
    assert "Metre, length and ending" in (out / "index.html").read_text()
    assert len(list((out / "figures").glob("*.png"))) >= len(F.FEATURES)
    # Piece i of genre g has seed SEED + g * PIECES + i: the linked examples can be regenerated.
    assert metrics["examples"] == {
        "rise": ["examples/rise-seed0.mid", "examples/rise-seed1.mid"],
        "fall": ["examples/fall-seed3.mid", "examples/fall-seed4.mid"],
    }


def test_tiny_report_has_the_style_critics_verdicts(tiny_report):
    out, _ = tiny_report
    critic = json.loads((out / "metrics.json").read_text())["critic"]
    assert critic["trained_on"]["split"] == "train"
    assert critic["real_confusion"]["labels"] == ["rise", "fall"]
    generated = np.array(critic["generated_confusion"]["matrix"])
    assert generated.sum(1).tolist() == [3, 3]  # every generated piece was judged once
    for g, genre in enumerate(critic["genres"].values()):
        assert genre["real_recall"] == 1.0  # the toy genres are easy to tell apart
        assert genre["generated_recall"] == pytest.approx(generated[g, g] / 3, abs=1e-4)
        fits = [piece["style_fit"] for piece in genre["style_fit"]]
        assert [piece["seed"] for piece in genre["style_fit"]] == [3 * g, 3 * g + 1, 3 * g + 2]
        assert all(0.0 <= fit <= 1.0 for fit in fits)
        assert genre["mean_style_fit"] == pytest.approx(np.mean(fits), abs=1e-4)
        assert genre["real_vs_generated_accuracy"] is None  # one real test piece per toy genre: no verdict
    page = (out / "index.html").read_text()
    assert "Style critic" in page and "figures/critic_confusion.png" in page and "style fit" in page
    assert (out / "figures" / "critic_confusion.png").is_file()


def test_critic_metrics_compare_generated_pieces_with_the_ceiling():
    from musicgen.evaluation.critic import fit_critic
    from musicgen.report.metrics import critic_metrics

    def tune(start_pitch, step, length):  # a one-voice 4/4 tune of 8 bars, in notes of `length` steps
        notes = [(i * length, start_pitch + (i * step) % 12, length) for i in range(8 * 48 // length)]
        return make_piece(notes, bars=range(0, 8 * 48 + 1, 48), meters=[(0, 4, 4)])

    quick = [tune(60 + i, 2, 6) for i in range(12)]  # running eighths
    slow = [tune(60 + i, 5, 24) for i in range(12)]  # half notes
    critic = fit_critic(quick[:8] + slow[:8], [0] * 8 + [1] * 8, ["quick", "slow"])
    # "Generated" quick pieces that are really slow ones: recall 0 against a real recall of 1.
    metrics = critic_metrics(
        critic,
        {"quick": quick[8:], "slow": slow[8:]},
        {"quick": slow[8:], "slow": slow[8:]},
        {"quick": [0, 1, 2, 3], "slow": [4, 5, 6, 7]},
    )
    assert metrics["genres"]["quick"]["real_recall"] == 1.0 and metrics["genres"]["quick"]["generated_recall"] == 0.0
    assert metrics["genres"]["quick"]["recall_ratio"] == 0.0 and metrics["genres"]["slow"]["recall_ratio"] == 1.0
    assert metrics["genres"]["quick"]["real_vs_generated_accuracy"] == 1.0
    assert metrics["genres"]["quick"]["real_vs_generated_notated"] == 1.0  # no repeats: the same pieces
    assert metrics["generated_confusion"]["matrix"] == [[0, 4], [0, 4]]
    assert metrics["genres"]["quick"]["mean_style_fit"] < 0.5 < metrics["genres"]["slow"]["mean_style_fit"]


def test_tiny_report_html_links_only_existing_files(tiny_report):
    out, _ = tiny_report
    page = (out / "index.html").read_text()
    links = re.findall(r"(?:src|href)='([^']+)'", page)
    assert any(link.endswith(".png") for link in links) and any(link.endswith(".mid") for link in links)
    for link in links:
        assert not link.startswith(("/", "http")), link
        assert (out / link).is_file(), link
    assert "<style>" in page and "Pitch range" in page


def test_report_rejects_bad_settings(tiny_model, tiny_dataset, tmp_path):
    from musicgen.model.model_files import load_model
    from musicgen.report.build import build_report
    from musicgen.training.dataset import load_dataset

    with pytest.raises(ValueError, match="pieces per genre"):
        next(build_report(load_model(str(tiny_model)), load_dataset(tiny_dataset), tmp_path, pieces_per_genre=0))


def test_cli_report_errors_are_one_line(tiny_model, tiny_dataset, tmp_path, capsys):
    from musicgen.cli.main import main

    a_file = tmp_path / "taken"
    a_file.write_text("not a folder")
    common = ["report", "--model", str(tiny_model), "--dataset", str(tiny_dataset)]
    assert main(common + ["-o", str(a_file)]) == 2
    assert "is a file" in capsys.readouterr().err
    assert main(common + ["--pieces", "0", "-o", str(tmp_path / "r")]) == 2
    assert capsys.readouterr().err.strip() == "musicgen: error: pieces per genre must be at least 1 (got 0)"

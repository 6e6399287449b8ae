"""The style critic: genre recognition, files without pickle, the cache, real-vs-generated, best-of-N."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from musicgen.evaluation.critic import (
    CRITIC_VERSION,
    StyleCritic,
    best_of,
    candidate_seeds,
    critic_cache_path,
    fit_critic,
    load_critic,
    real_vs_generated_accuracy,
    train_critic,
)
from musicgen.evaluation.critic_features import fit_feature_space
from musicgen.music.piece import make_piece

BAR = 48  # steps of a 4/4 bar
C_MAJOR = (0, 2, 4, 5, 7, 9, 11)
EVEN_RHYTHMS = ((6,) * 8, (12, 6, 6, 12, 6, 6), (6, 6, 12, 6, 6, 12))
DOTTED_RHYTHMS = ((9, 3) * 4, (18, 6, 9, 3, 12), (9, 3, 12, 9, 3, 12))


def tune(rng, rhythms, bars: int = 8, leaps: bool = False):
    """A one-voice 4/4 tune in C major: each bar one of ``rhythms`` (note lengths in steps), the melody
    a random walk over the scale (steps of one degree, or of two and three with ``leaps``)."""
    notes, start, degree = [], 0, int(rng.integers(7, 14))
    for _ in range(bars):
        for length in rhythms[int(rng.integers(len(rhythms)))]:
            degree = int(np.clip(degree + rng.choice((-3, -2, 2, 3) if leaps else (-1, 1)), 0, 20))
            notes.append((start, 48 + 12 * (degree // 7) + C_MAJOR[degree % 7], length))
            start += length
    notes.append((start, 60, BAR))  # a whole-note tonic ends it
    return make_piece(notes, bars=range(0, start + BAR + 1, BAR), meters=[(0, 4, 4)], last_bars=[start])


def tunes(seed: int, count: int, rhythms, leaps: bool = False):
    rng = np.random.default_rng(seed)
    return [tune(rng, rhythms, leaps=leaps) for _ in range(count)]


def shuffled_pitches(piece, rng):
    """The same rhythm with the pitches in random order."""
    pitches = rng.permutation([n.pitch for n in piece.notes])
    return make_piece(
        [(n.start, p, n.duration) for n, p in zip(piece.notes, pitches)],
        piece.bars,
        meters=piece.meters,
        last_bars=piece.last_bars,
    )


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A private user cache folder, so tests never write to the real one."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "musicgen"


# --- recognising genres ------------------------------------------------------------------------------


def test_critic_tells_the_toy_genres_apart_on_held_out_pieces(tiny_dataset):
    from musicgen.evaluation.critic import dataset_pieces
    from musicgen.training.dataset import load_dataset

    dataset = load_dataset(tiny_dataset)
    critic = train_critic(dataset)
    held_out = [i for split in ("valid", "test") for i in dataset.indices(split)]
    pieces = dataset_pieces(dataset, "valid") + dataset_pieces(dataset, "test")
    probabilities = critic.predict_proba(pieces)
    assert probabilities.shape == (len(pieces), 2)
    assert np.allclose(probabilities.sum(1), 1.0)
    assert probabilities.argmax(1).tolist() == dataset.genre[held_out].tolist()
    assert critic.info["pieces"] == len(dataset.indices("train"))  # trained on the train split only


def test_critic_hears_rhythm_within_the_bar_not_only_the_metre():
    # Both genres: 4/4, C major, the same melodic walk; only even vs dotted rhythms tell them apart.
    train = tunes(1, 20, EVEN_RHYTHMS) + tunes(2, 20, DOTTED_RHYTHMS)
    critic = fit_critic(train, [0] * 20 + [1] * 20, ["even", "dotted"])
    held_out = tunes(3, 20, EVEN_RHYTHMS) + tunes(4, 20, DOTTED_RHYTHMS)
    chosen = critic.predict(held_out)
    assert chosen[:20].count("even") >= 18 and chosen[20:].count("dotted") >= 18  # chance would be ~10 of 20
    assert critic.style_fit(held_out[0], "even") > 0.5 > critic.style_fit(held_out[0], "dotted")
    blend = critic.style_fit(held_out[0], "even=0.5,dotted=0.5")
    assert blend == pytest.approx(0.5)  # a blend's fit weighs its genres' probabilities, which sum to 1
    with pytest.raises(ValueError, match="not one the style critic knows"):
        critic.style_fit(held_out[0], "polka")


def test_features_are_finite_for_odd_pieces():
    space = fit_feature_space(tunes(5, 3, EVEN_RHYTHMS))
    odd = [make_piece([]), make_piece([(0, 60, 12)]), make_piece([(5, 61, 7), (5, 64, 30), (40, 70, 2)])]
    features = space.matrix(odd)
    assert features.shape == (3, space.size) == (3, len(space.names))
    assert np.isfinite(features).all()


# --- files and the cache -----------------------------------------------------------------------------


def test_save_and_load_give_identical_probabilities_and_no_pickle(tmp_path):
    train = tunes(1, 10, EVEN_RHYTHMS) + tunes(2, 10, DOTTED_RHYTHMS)
    critic = fit_critic(train, [0] * 10 + [1] * 10, ["even", "dotted"])
    path = critic.save(tmp_path / "critic.json")
    raw = path.read_bytes()
    assert not raw.startswith(b"\x80") and b"pickle" not in raw
    data = json.loads(raw)  # plain JSON: vocabularies, standardisation, coefficients
    assert data["format"] == "musicgen-critic" and len(data["weights"]) == critic.space.size
    loaded = StyleCritic.load(path)
    pieces = tunes(9, 6, EVEN_RHYTHMS + DOTTED_RHYTHMS)
    assert np.array_equal(loaded.predict_proba(pieces), critic.predict_proba(pieces))


def test_damaged_or_foreign_critic_files_are_refused(tmp_path):
    train = tunes(1, 4, EVEN_RHYTHMS) + tunes(2, 4, DOTTED_RHYTHMS)
    data = fit_critic(train, [0] * 4 + [1] * 4, ["even", "dotted"]).to_dict()
    cases = {
        "not JSON": "{",
        "not a musicgen style-critic file": json.dumps({"format": "x"}),
        "version": json.dumps({**data, "version": CRITIC_VERSION + 1}),
        "bias has shape": json.dumps({**data, "bias": [0.0]}),
    }
    for message, text in cases.items():
        path = tmp_path / "critic.json"
        path.write_text(text)
        with pytest.raises(ValueError, match=message):
            StyleCritic.load(path)


def test_load_critic_trains_once_then_reads_the_cache(tiny_dataset, cache, monkeypatch):
    from musicgen.evaluation import critic as critic_module
    from musicgen.training.dataset import load_dataset

    first = load_critic(tiny_dataset)
    path = critic_cache_path(load_dataset(tiny_dataset))
    assert path.parent == cache and path.is_file() and load_dataset(tiny_dataset).fingerprint in path.name

    def no_training(dataset):
        raise AssertionError("trained again instead of reading the cache")

    monkeypatch.setattr(critic_module, "train_critic", no_training)
    second = load_critic(tiny_dataset)
    assert np.array_equal(second.weights, first.weights)
    path.write_text("damaged")
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache.parent))
    with pytest.warns(UserWarning, match="retraining the style critic"):
        third = load_critic(tiny_dataset)
    assert np.array_equal(third.weights, first.weights) and StyleCritic.load(path).genre_keys == ["rise", "fall"]


# --- real vs generated -------------------------------------------------------------------------------


def test_real_vs_generated_cannot_tell_two_samples_of_the_same_music_apart():
    rhythms = EVEN_RHYTHMS + DOTTED_RHYTHMS
    accuracy = real_vs_generated_accuracy(tunes(11, 40, rhythms), tunes(12, 40, rhythms))
    assert 0.3 <= accuracy <= 0.7


def test_real_vs_generated_spots_shuffled_pitches():
    rng = np.random.default_rng(13)
    real = tunes(11, 40, EVEN_RHYTHMS + DOTTED_RHYTHMS)
    fake = [shuffled_pitches(piece, rng) for piece in tunes(12, 40, EVEN_RHYTHMS + DOTTED_RHYTHMS)]
    assert real_vs_generated_accuracy(real, fake) >= 0.9
    assert np.isnan(real_vs_generated_accuracy(real[:1], fake))  # one piece: no verdict


# --- best of N ---------------------------------------------------------------------------------------


def test_best_of_keeps_the_candidate_with_the_highest_fit():
    from musicgen.sampling.request import GeneratedPiece, GenerationRequest

    train = tunes(1, 20, EVEN_RHYTHMS) + tunes(2, 20, DOTTED_RHYTHMS)
    critic = fit_critic(train, [0] * 20 + [1] * 20, ["even", "dotted"])
    even, dotted = tunes(3, 1, EVEN_RHYTHMS)[0], tunes(4, 1, DOTTED_RHYTHMS)[0]
    dotted_seeds = set(candidate_seeds(7, 4)[1::2])  # candidates 1 and 3 of seed 7 come out dotted

    def generate_batch(requests):
        return [
            GeneratedPiece(dotted if r.seed in dotted_seeds else even, r, [], 120.0, 0, 0, 0, 0.0, True)
            for r in requests
        ]

    kept = best_of(generate_batch, critic, 4)([GenerationRequest("even", seed=7), GenerationRequest("dotted", seed=7)])
    assert kept[0].request.seed == candidate_seeds(7, 4)[0] and kept[0].piece is even
    assert kept[1].request.seed == candidate_seeds(7, 4)[1] and kept[1].piece is dotted
    assert kept[1].style_fit == pytest.approx(critic.style_fit(dotted, "dotted")) and kept[1].style_fit > 0.5
    with pytest.raises(ValueError, match="--best-of"):
        best_of(generate_batch, critic, 0)


def test_batch_best_of_records_the_best_candidates_fit(tiny_model, cache):
    from musicgen.batch.compose import piece_file_name, read_manifest, run_batch
    from musicgen.evaluation.critic import critic_for_model
    from musicgen.model.model_files import load_model
    from musicgen.sampling.generate import Generator
    from musicgen.sampling.request import GenerationRequest

    loaded = load_model(str(tiny_model))
    requests = [GenerationRequest("rise", bars=4, seed=0), GenerationRequest("fall", bars=4, seed=1)]
    out = cache.parent.parent / "batch"
    list(run_batch(loaded, requests, out, best_of=3))
    manifest = read_manifest(out)
    critic = critic_for_model(loaded)
    generator = Generator(loaded)
    for request in requests:
        entry = manifest[piece_file_name(request.genre, request.seed)]
        candidates = generator.generate_batch([replace(request, seed=s) for s in candidate_seeds(request.seed, 3)])
        fits = critic.style_fits([c.piece for c in candidates], [request.genre] * 3)
        assert entry["best_of"] == 3 and entry["planned_seed"] == request.seed
        assert entry["style_fit"] == pytest.approx(max(fits))
        assert entry["request"]["seed"] == candidates[int(np.argmax(fits))].request.seed
        assert entry["notes"] == len(candidates[int(np.argmax(fits))].piece.notes)
    with pytest.raises(ValueError, match="best-of 3, not None"):
        run_batch(loaded, requests, out)  # a folder made with best-of 3 is resumed only with best-of 3
    # Worker processes get the same critic and keep the same takes.
    list(run_batch(loaded, requests, out.with_name("batch-workers"), workers=2, best_of=3))
    in_workers = read_manifest(out.with_name("batch-workers"))
    assert {name: (e["request"]["seed"], e["style_fit"]) for name, e in in_workers.items()} == {
        name: (e["request"]["seed"], e["style_fit"]) for name, e in manifest.items()
    }


def test_cli_batch_best_of(tiny_model, cache, capsys):
    from musicgen.batch.compose import read_manifest
    from musicgen.cli.main import main

    out = cache.parent.parent / "cli-batch"
    common = ["batch", "--model", str(tiny_model), "--count", "2", "--out-dir", str(out)]
    assert main(common + ["--best-of", "0"]) == 2
    assert capsys.readouterr().err.strip() == "musicgen: error: --best-of must be between 1 and 64, got 0"
    assert main(common + ["--best-of", "2"]) == 0
    entries = read_manifest(out).values()
    assert len(entries) == 2 and all(0.0 <= e["style_fit"] <= 1.0 and e["best_of"] == 2 for e in entries)

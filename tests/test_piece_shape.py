"""The metre and length a request leaves open, drawn per seed from the genre's training pieces."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from musicgen.model.model_files import load_model
from musicgen.music.piece_shape import bar_counts, draw_bars, draw_meter, length_range, meter_odds
from musicgen.sampling.generate import Generator
from musicgen.sampling.request import FREE_BARS, GenerationRequest

GERMAN = {"4/4": 302, "3/4": 212, "2/4": 202, "6/8": 135, "4/2": 50, "3/8": 46, "3/2": 21, "6/4": 15, "4/1": 5}


def test_a_genre_with_its_own_metre_always_gets_it():
    assert meter_odds({"6/8": 422, "9/8": 23, "2/4": 7, "2/2": 6}) == {"6/8": 1.0}  # jigs: 92%
    assert {draw_meter({"6/8": 422, "9/8": 23}, seed) for seed in range(50)} == {"6/8"}
    assert meter_odds({}) == {} and draw_meter({}, 3) is None


def test_other_genres_draw_their_metres_with_the_corpus_odds():
    odds = meter_odds(GERMAN)
    assert list(odds) == ["4/4", "3/4", "2/4", "6/8", "4/2", "3/8", "3/2"]  # 6/4 and 4/1 under 2%: never drawn
    assert sum(odds.values()) == pytest.approx(1.0)
    drawn = Counter(draw_meter(GERMAN, seed) for seed in range(4000))
    assert set(drawn) == set(odds)
    for meter, chance in odds.items():
        assert drawn[meter] / 4000 == pytest.approx(chance, abs=0.03)
    assert [draw_meter(GERMAN, seed) for seed in range(20)] == [draw_meter(GERMAN, seed) for seed in range(20)]


def test_lengths_are_drawn_from_the_middle_of_the_training_lengths():
    counts = {"4": 5, "8": 40, "12": 30, "16": 20, "200": 5}
    assert length_range(counts) == (8, 16)  # the 10th and 90th percentiles: no fragment, no whole movement
    drawn = Counter(draw_bars(counts, seed) for seed in range(3000))
    assert set(drawn) == {8, 12, 16}
    assert drawn[8] > drawn[12] > drawn[16]  # with the corpus's odds
    assert draw_bars(counts, 11) == draw_bars(counts, 11)
    assert length_range({}) is None and draw_bars({}, 0) is None


def test_bar_counts_of_a_manifest_leave_the_pickup_out_and_keep_one_split():
    pieces = [
        {"genre": "reel", "split": "train", "bars": 16, "pickup": 0},
        {"genre": "reel", "split": "train", "bars": 17, "pickup": 6},
        {"genre": "reel", "split": "test", "bars": 40, "pickup": 0},
        {"genre": "bach", "split": "train", "bars": 13, "pickup": 12},
    ]
    assert bar_counts(pieces, ["bach", "reel", "jig"]) == {"bach": {"12": 1}, "reel": {"16": 2}, "jig": {}}


@pytest.fixture
def shaped_model(tiny_model, tmp_path):
    """The tiny model, its card telling "rise" pieces to draw between 4/4 and 6/8 and 3-5 bars."""
    card = json.loads(tiny_model.read_text())
    card["meters"]["rise"] = {"4/4": 50, "6/8": 50}
    card["bar_counts"]["rise"] = {"3": 30, "4": 40, "5": 30}
    weights = tiny_model.with_suffix(".safetensors")
    (tmp_path / weights.name).write_bytes(weights.read_bytes())
    path = tmp_path / tiny_model.name
    path.write_text(json.dumps(card))
    return Generator(load_model(path))


def test_generated_pieces_take_the_drawn_metre_and_length(shaped_model):
    results = shaped_model.generate_batch([GenerationRequest(genre="rise", seed=seed) for seed in range(12)])
    assert {r.meter for r in results} == {"4/4", "6/8"}
    assert {r.bars_requested for r in results} <= {3, 4, 5} and len({r.bars_requested for r in results}) > 1
    for r in results:
        assert r.meter == draw_meter({"4/4": 50, "6/8": 50}, r.request.seed)
        assert r.bars_requested == draw_bars({"3": 30, "4": 40, "5": 30}, r.request.seed)
    again = shaped_model.generate_batch([GenerationRequest(genre="rise", seed=seed) for seed in range(12)])
    assert [r.tokens for r in again] == [r.tokens for r in results]


def test_a_named_metre_or_length_wins_over_the_draw(shaped_model):
    results = shaped_model.generate_batch(
        [GenerationRequest(genre="rise", seed=seed, meter="6/8", bars=2) for seed in range(6)]
    )
    assert {(r.meter, r.bars_requested) for r in results} == {("6/8", 2)}
    assert shaped_model.meter_odds("rise") == {"4/4": 0.5, "6/8": 0.5}
    assert shaped_model.length_range("rise") == (3, 5)


def test_a_model_card_without_counts_keeps_the_commonest_metre_and_the_fixed_lengths(tiny_model, tmp_path):
    card = json.loads(tiny_model.read_text())
    del card["bar_counts"]
    card["meters"] = {}
    weights = tiny_model.with_suffix(".safetensors")
    (tmp_path / weights.name).write_bytes(weights.read_bytes())
    (tmp_path / tiny_model.name).write_text(json.dumps(card))
    generator = Generator(load_model(tmp_path / tiny_model.name))
    assert generator.length_range("rise") is None
    result = generator.generate_batch([GenerationRequest(genre="rise", seed=1, max_events=40)])[0]
    assert result.meter == "4/4" and result.bars_requested == FREE_BARS.get("rise", 16)

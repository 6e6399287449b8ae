"""Regenerate a passage: outside the passage nothing changes; bar ranges; candidates joined to the rest."""

from __future__ import annotations

import pytest

from musicgen.files.midi import midi_to_piece
from musicgen.model.model_files import load_model
from musicgen.sampling.generate import Generator, generate_piece
from musicgen.sampling.regenerate import parse_bar_range, regenerate
from musicgen.sampling.request import GenerationRequest


@pytest.fixture(scope="module")
def generator(tiny_model):
    return Generator(load_model(tiny_model))


@pytest.fixture(scope="module")
def take(generator):
    return generate_piece(generator, GenerationRequest(genre="rise", bars=12, seed=11))


def run(steps):
    result = None
    for progress in steps:
        result = progress.result or result
    return result


def outside(piece, start, stop):
    return [n for n in piece.notes if n.start < start or n.start >= stop]


@pytest.mark.parametrize("first, last", [(5, 8), (1, 2), (9, None)])
def test_notes_outside_the_passage_stay_exactly(generator, take, first, last):
    result = run(regenerate(generator, take, first, last, seed=3))
    bars = take.piece.bars
    start, stop = bars[first - 1], bars[last if last else len(bars) - 1]
    assert outside(result.piece, start, stop) == outside(take.piece, start, stop)
    inside = [n for n in result.piece.notes if start <= n.start < stop]
    assert inside and inside != [n for n in take.piece.notes if start <= n.start < stop]
    assert all(n.end <= stop for n in inside)  # new notes stay inside their bars
    assert result.piece.bars == take.piece.bars and result.piece.meters == take.piece.meters


def test_the_chosen_candidate_is_the_one_that_leads_in_best(generator, take):
    result = run(regenerate(generator, take, 3, 6, seed=0, candidates=4))
    scores = result.piece.meta["continuation_nll"]
    assert len(scores) == 4 and scores[result.request.seed] == min(scores)  # candidate k has seed k


def test_works_on_a_midi_file_and_names_bad_ranges(generator, take, tmp_path):
    path = take.write_midi(tmp_path / "take.mid")
    result = run(regenerate(generator, str(path), 2, 3, seed=1))
    original = midi_to_piece(path)
    assert outside(result.piece, original.bars[1], original.bars[3]) == outside(
        original, original.bars[1], original.bars[3]
    )
    with pytest.raises(ValueError, match="not in the piece"):
        run(regenerate(generator, str(path), 10, 20))


def test_a_file_without_metre_or_pulse_is_refused(generator, tmp_path):
    import mido

    track = mido.MidiTrack()  # no time signature, onsets off any grid (a free performance)
    for k in range(40):
        track.append(mido.Message("note_on", note=60 + k % 5, velocity=80, time=37 + k % 11))
        track.append(mido.Message("note_off", note=60 + k % 5, velocity=0, time=29))
    path = tmp_path / "free.mid"
    mido.MidiFile(tracks=[track]).save(path)
    with pytest.raises(ValueError, match="cannot find bar lines"):
        run(regenerate(generator, str(path), 1, 2))


def test_bar_ranges():
    assert parse_bar_range("5-8") == (5, 8) and parse_bar_range("5-") == (5, None)
    assert parse_bar_range("5-end") == (5, None) and parse_bar_range("3") == (3, 3)
    for bad in ("0-2", "8-5", "x"):
        with pytest.raises(ValueError, match="bars"):
            parse_bar_range(bad)


def test_a_passage_in_a_repeated_part_changes_in_every_repeat(generator):
    take = generate_piece(generator, GenerationRequest(genre="rise", form="AABB", part_bars=4, seed=2))
    result = run(regenerate(generator, take, 2, 3, seed=9))
    a1, a2 = result.parts[0], result.parts[1]

    def notes_of(part):
        return [
            (n.start - part["start"], n.pitch, n.duration)
            for n in result.piece.notes
            if part["start"] <= n.start < part["end"]
        ]

    assert notes_of(a1) == notes_of(a2)  # still AABB
    assert notes_of(a1) != [
        (n.start - a1["start"], n.pitch, n.duration) for n in take.piece.notes if a1["start"] <= n.start < a1["end"]
    ]


def test_a_regenerated_take_records_the_engine_and_the_ending_it_was_sampled_with(tiny_model, take):
    int8 = Generator(load_model(tiny_model), precision="int8")
    result = run(regenerate(int8, take, 2, 3, seed=4))
    assert result.precision == "int8"  # was recorded as fp32 whatever the engine
    assert result.primer_tokens > 0  # the kept bars before the passage were fed in as its primer

"""Metre, exact length, endings and form of generated pieces, read back from the MIDI files."""

from __future__ import annotations

import mido
import pytest

from musicgen.files.midi import midi_to_piece
from musicgen.model.model_files import load_model
from musicgen.music.piece import make_piece
from musicgen.sampling.generate import Generator, generate_piece
from musicgen.sampling.request import GenerationRequest, plan_request
from musicgen.tokens.codec import EOS
from musicgen.tokens.grammar import Follower, check_stream


@pytest.fixture(scope="module")
def generator(tiny_model):
    return Generator(load_model(tiny_model))


def _time_signatures(path):
    return [
        (m.numerator, m.denominator)
        for track in mido.MidiFile(path).tracks
        for m in track
        if m.type == "time_signature"
    ]


@pytest.mark.parametrize("genre", ["rise", "fall"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bars_asked_are_the_bars_in_the_file(generator, tmp_path, genre, seed):
    result = generate_piece(generator, GenerationRequest(genre=genre, bars=16, seed=seed))
    assert result.bars_generated == 16 and result.complete
    assert check_stream(result.tokens) == []
    path = result.write_midi(tmp_path / "piece.mid")
    back = midi_to_piece(path)
    bar = {"rise": 48, "fall": 36}[genre]
    assert back.meters[0][1:] == {"rise": (4, 4), "fall": (6, 8)}[genre]
    assert back.pickup == result.piece.pickup < bar
    # 16 whole bars after the pickup, every one of the metre's length, the last note inside them
    assert list(back.bars) == [back.pickup + k * bar for k in range(17)]
    assert max(n.end for n in back.notes) <= back.bars[-1]


def test_a_six_eight_piece_writes_a_six_eight_time_signature(generator, tmp_path):
    result = generate_piece(generator, GenerationRequest(genre="rise", meter="6/8", bars=8, seed=4))
    assert result.meter == "6/8"  # rise is 4/4 in its data; 6/8 comes from the other genre
    path = result.write_midi(tmp_path / "jig.mid")
    signatures = _time_signatures(path)
    assert signatures[-1] == (6, 8)
    assert len(signatures) == (2 if result.piece.pickup else 1)  # a pickup is its own short bar first
    assert list(midi_to_piece(path).bars)[-1] == result.piece.pickup + 8 * 36


def test_aabb_repeats_each_part_note_for_note(generator):
    result = generate_piece(generator, GenerationRequest(genre="rise", form="AABB", part_bars=4, seed=5))
    assert result.form == "AABB" and result.bars_generated == 16
    parts = result.parts
    assert [p["label"] for p in parts] == list("AABB")

    def notes_of(part):
        return [
            (n.start - part["start"], n.pitch, n.duration)
            for n in result.piece.notes
            if part["start"] <= n.start < part["end"]
        ]

    assert notes_of(parts[0]) == notes_of(parts[1]) and notes_of(parts[0])
    assert notes_of(parts[2]) == notes_of(parts[3]) and notes_of(parts[2]) != notes_of(parts[0])


@pytest.mark.parametrize("form", ["AABB", "ABA", "AAAB"])
def test_the_network_hears_each_part_once_as_the_corpus_writes_a_tune(generator, monkeypatch, form):
    """A repeat is written out, not played through the network: the network is fed the piece's
    tokens less every repeated part (with the bar line that begins it), as the corpus writes a
    tune (each strain once)."""
    from musicgen.sampling import piece_state

    monkeypatch.setattr(piece_state, "ENDING_TRIES", 1)  # the final bar sampled once: one pass
    fed = []
    step_ranked = generator.stepper.step_ranked

    def spy(tokens, state, settings):
        fed.append(list(tokens)[0])
        return step_ranked(tokens, state, settings)

    monkeypatch.setattr(generator.stepper, "step_ranked", spy)
    result = generate_piece(generator, GenerationRequest(genre="rise", form=form, part_bars=4, seed=7))
    assert [p["label"] for p in result.parts] == list(form) and result.complete
    assert check_stream(result.tokens) == []
    follower, heard = Follower(), []
    for token in result.tokens[:-1]:  # the EOS is never fed
        follower.follow(token)
        part = (follower.bar_lines - 1) // 4 if follower.bar_lines else None  # bar 1 begins at the first bar line
        if part is None or part >= len(form) or form.index(form[part]) == part:
            heard.append(token)
    # BOS goes in with the start; the closing bar line is the one before the last repeat (AABB) or
    # after it (ABA): a bar line either way.
    assert fed == heard[1:]
    assert len(fed) < 0.7 * len(result.tokens)


def test_form_and_length_must_agree(generator):
    with pytest.raises(ValueError, match="does not fit form AABB"):
        generate_piece(generator, GenerationRequest(genre="rise", form="AABB", part_bars=8, bars=16))
    with pytest.raises(ValueError, match="cannot be split"):
        generate_piece(generator, GenerationRequest(genre="rise", form="ABAC", bars=10))
    with pytest.raises(ValueError, match="not one the codec knows"):
        generate_piece(generator, GenerationRequest(genre="rise", meter="7/4"))
    with pytest.raises(ValueError, match="never saw metre 3/4"):
        generate_piece(generator, GenerationRequest(genre="rise", meter="3/4"))


def test_seconds_round_to_whole_bars(generator):
    # 10 s at 120 quarter notes per minute = 20 beats = 5 bars of 4/4
    request = GenerationRequest(genre="rise", seconds=10.0, tempo=120, seed=1)
    assert plan_request(request, "rise", (4, 4), 120).bars == 5
    assert generate_piece(generator, request).bars_generated == 5


def test_the_event_cap_is_reported_not_silent(generator):
    result = generate_piece(generator, GenerationRequest(genre="rise", bars=64, max_events=50, seed=2))
    assert not result.complete and "event cap" in result.stop_reason
    assert result.bars_generated < 64


def test_a_final_bar_the_network_would_not_end_is_sampled_again(generator, monkeypatch):
    import musicgen.sampling.piece_state as piece_state

    requests = [
        GenerationRequest(genre=g, bars=4, seed=s, temperature=1.5) for g in ("rise", "fall") for s in range(12)
    ]
    monkeypatch.setattr(piece_state, "ENDING_TRIES", 1)
    once = generator.generate_batch(requests)
    monkeypatch.setattr(piece_state, "ENDING_TRIES", 4)
    retried = generator.generate_batch(requests)
    assert sum(r.ended_naturally for r in retried) >= sum(r.ended_naturally for r in once)
    assert any(r.ending_tries > 1 for r in retried)
    for result in retried:  # a rewound ending still gives the exact bars, and repeats the same way
        assert result.bars_generated == 4 and result.tokens.count(EOS) == 1
    assert [r.tokens for r in retried] == [r.tokens for r in generator.generate_batch(requests)]


def test_final_bars_are_sampled_again_until_they_end_on_the_tonic(generator, monkeypatch):
    import musicgen.sampling.piece_state as piece_state

    requests = [GenerationRequest(genre=g, bars=4, seed=s) for g in ("rise", "fall") for s in range(6)]
    monkeypatch.setattr(piece_state, "ends_on_tonic", lambda piece: False)
    never = generator.generate_batch(requests)
    assert all(r.ending_tries > piece_state.TONIC_TRIES for r in never)  # every tonic try was rejected
    monkeypatch.setattr(piece_state, "ends_on_tonic", lambda piece: True)
    always = generator.generate_batch(requests)
    assert sum(r.ending_tries for r in always) < sum(r.ending_tries for r in never)
    for result in never + always:
        assert result.bars_generated == 4 and result.tokens.count(EOS) == 1


def test_ends_on_tonic_looks_at_the_lowest_final_note():
    from musicgen.music.keys import ends_on_tonic

    tune = (60, 64, 67, 72, 67, 64, 60, 65, 69, 72, 67, 64, 60, 62, 64, 60, 67, 65, 64, 62)  # C major
    melody = [(i * 12, pitch, 12) for i, pitch in enumerate(tune)]
    end = 12 * len(tune)
    bars = list(range(0, end + 49, 48))
    on_c = make_piece(melody + [(end, 48, 24), (end, 64, 24), (end, 72, 24)], bars=bars)
    on_g = make_piece(melody + [(end, 55, 24), (end, 62, 24)], bars=bars)
    assert ends_on_tonic(on_c) and not ends_on_tonic(on_g)


def test_a_one_line_style_never_has_two_notes_sounding_even_at_a_high_temperature(generator):
    """A one-line tune (codec 4) is one voice: the sampler allows no new note while its last one
    sounds (time moves on instead), whatever the temperature."""

    def most_sounding(piece) -> int:
        return max(
            sum(1 for n in piece.notes if n.start <= t < n.start + n.duration) for t in {n.start for n in piece.notes}
        )

    for seed in range(6):
        result = generate_piece(generator, GenerationRequest(genre="fall", bars=8, seed=seed, temperature=4.0))
        assert check_stream(result.tokens) == [] and result.complete
        assert most_sounding(result.piece) == 1

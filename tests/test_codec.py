"""Codec: round trips (hand-made, hypothesis, real corpus pieces) and decoding of any tokens."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from musicgen.files.midi import piece_to_midi
from musicgen.music.piece import MAX_PITCH, MIN_PITCH, make_piece
from musicgen.tokens import codec
from musicgen.tokens.codec import BAR, BOS, EOS, piece_to_tokens, tokens_to_piece


def assert_same_notes(a, b):
    assert len(a.notes) == len(b.notes)
    for x, y in zip(a.notes, b.notes):
        assert x.pitch == y.pitch
        assert abs(x.start - y.start) <= 1
        assert abs(x.duration - y.duration) <= 1


def test_round_trip_chorale(chorale_like):
    tokens = piece_to_tokens(chorale_like)
    assert tokens[0] == BOS and tokens[-1] == EOS
    back = tokens_to_piece(tokens)
    assert_same_notes(chorale_like, back)
    assert back.bars == chorale_like.bars


def test_chord_shares_one_onset_written_from_the_top_down():
    piece = make_piece([(0, 60, 12), (0, 64, 12), (0, 67, 12)])
    names = [codec.token_name(t) for t in piece_to_tokens(piece)]
    assert names == ["BOS", "PITCH_67", "DUR_12", "PITCH_64", "DUR_12", "PITCH_60", "DUR_12", "EOS"]


def test_long_values_use_several_tokens():
    piece = make_piece([(200, 60, 250)])
    tokens = piece_to_tokens(piece)
    assert sum(1 for t in tokens if t in codec.SHIFT) == 5  # 200 = 4 x 48 + 8
    assert tokens_to_piece(tokens).notes == piece.notes


def test_triplets_and_dotted_values_are_exact():
    # eighth triplets (4 steps), dotted eighth + sixteenth (9 + 3)
    piece = make_piece([(0, 60, 4), (4, 62, 4), (8, 64, 4), (12, 65, 9), (21, 67, 3)])
    assert tokens_to_piece(piece_to_tokens(piece)).notes == piece.notes


notes_strategy = st.lists(
    st.tuples(st.integers(0, 2000), st.integers(MIN_PITCH, MAX_PITCH), st.integers(1, 400)), min_size=0, max_size=60
)


@settings(max_examples=200, deadline=None)
@given(notes_strategy, st.lists(st.integers(0, 2400), max_size=20))
def test_round_trip_property(raw, bars):
    piece = make_piece(raw, bars)
    back = tokens_to_piece(piece_to_tokens(piece))
    assert_same_notes(piece, back)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, codec.VOCAB_SIZE - 1), max_size=300))
def test_any_tokens_decode_to_valid_midi(tokens):
    piece = tokens_to_piece(tokens)
    pm = piece_to_midi(piece, tempo=100)
    notes = pm.instruments[0].notes
    assert all(n.end > n.start >= 0 for n in notes)
    starts = [n.start for n in notes]
    assert starts == sorted(starts)
    # no stuck notes: a pitch never starts again while it still sounds
    by_pitch = {}
    for n in notes:
        assert by_pitch.get(n.pitch, -1) <= n.start + 1e-9
        by_pitch[n.pitch] = n.end


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(0, codec.VOCAB_SIZE - 1), max_size=300),
    st.floats(20.0, 400.0),
    st.integers(0, 127),
    st.integers(-11, 11),
    st.integers(1, 4),
    st.booleans(),
)
def test_any_tokens_write_a_file_that_mido_and_pretty_midi_read_back(tokens, tempo, program, transpose, voices, shaped):
    """Every allowed tempo, instrument, key shift, voice count and velocity style: the file is written
    and reads back with every note (a time signature that does not fit a MIDI byte would fail here)."""
    import tempfile
    from pathlib import Path

    import mido
    import pretty_midi

    from musicgen.files.midi import write_midi

    piece = tokens_to_piece(tokens)
    with tempfile.TemporaryDirectory() as folder:
        path = write_midi(
            piece,
            Path(folder) / "any.mid",
            tempo=tempo,
            program=program,
            transpose=transpose,
            voices=voices,
            shaped=shaped,
        )
        played = sum(msg.type == "note_on" and msg.velocity > 0 for msg in mido.MidiFile(str(path)))
        read = pretty_midi.PrettyMIDI(str(path))
    assert played == len(piece.notes) == sum(len(i.notes) for i in read.instruments)
    assert all(0 < n.velocity <= 127 and n.end > n.start for i in read.instruments for n in i.notes)


def test_everything_after_eos_is_ignored():
    tokens = piece_to_tokens(make_piece([(0, 60, 12)]))
    more = tokens + [codec.PITCH.token(70), codec.DUR.token(5)]
    assert tokens_to_piece(more).notes == tokens_to_piece(tokens).notes


def test_pitch_without_duration_is_dropped():
    tokens = [BOS, codec.PITCH.token(60), codec.SHIFT.token(3), codec.PITCH.token(62), codec.DUR.token(6), BAR]
    piece = tokens_to_piece(tokens)
    assert [(n.pitch, n.start, n.duration) for n in piece.notes] == [(62, 3, 6)]


def test_transpose_tokens_moves_only_pitches(chorale_like):
    tokens = np.array(piece_to_tokens(chorale_like))
    up = codec.transpose_tokens(tokens, 2)
    assert [n.pitch + 2 for n in chorale_like.notes] == [n.pitch for n in tokens_to_piece(up).notes]
    assert codec.pitch_span(up) == tuple(p + 2 for p in codec.pitch_span(tokens))


# ----- since codec version 2: metre, pickup, strain ends--------------------------------------------


def _tune(meter, bar, pickup, bars=4):
    """A one-voice tune in ``meter`` with a pickup of ``pickup`` steps and ``bars`` whole bars."""
    step = 6  # eighth notes: they fill every bar and pickup used here exactly
    raw = [(t, 60 + (t // step) % 7, step) for t in range(0, pickup + bars * bar, step)]
    lines = [pickup + k * bar for k in range(bars + 1)]
    return make_piece(raw, lines, meters=[(0, *meter)])


def test_round_trips_in_six_eight_three_four_four_four_with_pickups():
    for meter, bar in (((6, 8), 36), ((3, 4), 36), ((4, 4), 48)):
        for pickup in (0, 6, 12):
            piece = _tune(meter, bar, pickup)
            tokens = piece_to_tokens(piece)
            assert codec.token_name(tokens[1]) == f"METER_{meter[0]}/{meter[1]}"
            back = tokens_to_piece(tokens)
            assert back.notes == piece.notes and back.bars == piece.bars
            assert back.meters == ((0, *meter),) and back.pickup == pickup
            assert tokens[-2:] == [BAR, EOS]  # the closing bar line, then the end
            assert codec.LAST_BAR in tokens  # the final bar is announced


def test_a_change_of_metre_is_written_after_its_bar_line():
    raw = [(0, 60, 36), (36, 62, 36), (72, 64, 48), (120, 65, 48)]
    piece = make_piece(raw, [0, 36, 72, 120, 168], meters=[(0, 3, 4), (72, 4, 4)])
    names = [codec.token_name(t) for t in piece_to_tokens(piece)]
    at = names.index("METER_4/4")
    assert names[at - 1] == "BAR" and names[1] == "METER_3/4"
    assert tokens_to_piece(piece_to_tokens(piece)).meters == piece.meters


def test_strain_ends_round_trip_as_last_bars():
    piece = _tune((4, 4), 48, 12, bars=8)
    marked = make_piece(
        [(n.start, n.pitch, n.duration) for n in piece.notes],
        piece.bars,
        meters=piece.meters,
        last_bars=[piece.bars[3]],
    )
    tokens = piece_to_tokens(marked)
    assert tokens.count(codec.PART_BAR) == 1 and tokens.count(codec.LAST_BAR) == 1  # strain end, final bar
    assert tokens_to_piece(tokens).last_bars == (piece.bars[3], piece.bars[-2])


def test_a_four_voice_piece_writes_each_note_in_its_voice_outer_voices_first():
    # soprano, alto, tenor, bass on one onset, then the alto alone (the others hold)
    piece = make_piece([(0, 72, 24, 0), (0, 64, 12, 1), (0, 55, 24, 2), (0, 48, 24, 3), (12, 65, 12, 1)])
    names = [codec.token_name(t) for t in piece_to_tokens(piece)]
    assert names == [
        "BOS",
        *("VOICE_0", "PITCH_72", "DUR_24", "VOICE_3", "PITCH_48", "DUR_24"),
        *("VOICE_1", "PITCH_64", "DUR_12", "VOICE_2", "PITCH_55", "DUR_24"),
        *("SHIFT_12", "VOICE_1", "PITCH_65", "DUR_12"),
        "EOS",
    ]
    assert tokens_to_piece(piece_to_tokens(piece)).notes == piece.notes


def test_two_voices_on_one_pitch_stay_two_notes():
    piece = make_piece([(0, 67, 12, 0), (0, 60, 12, 1), (0, 60, 12, 2), (0, 48, 12, 3)])
    back = tokens_to_piece(piece_to_tokens(piece))
    assert sorted((n.voice, n.pitch) for n in back.notes) == [(0, 67), (1, 60), (2, 60), (3, 48)]


def test_a_one_line_tune_has_no_voice_tokens():
    piece = make_piece([(0, 67, 6), (6, 69, 6), (12, 71, 12)], bars=[0, 24], meters=[(0, 2, 4)])
    tokens = piece_to_tokens(piece)
    assert not any(t in codec.VOICE for t in tokens)
    assert tokens_to_piece(tokens).notes == piece.notes and not piece.voiced


voiced_strategy = st.lists(
    st.tuples(st.integers(0, 800), st.integers(MIN_PITCH, MAX_PITCH), st.integers(1, 200), st.integers(0, 3)),
    min_size=1,
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(voiced_strategy)
def test_voiced_round_trip_property(raw):
    piece = make_piece(raw)
    back = tokens_to_piece(piece_to_tokens(piece))
    assert back.notes == piece.notes


def test_voice_spans_name_each_voices_lowest_and_highest_pitch():
    piece = make_piece([(0, 72, 12, 0), (12, 76, 12, 0), (0, 48, 24, 3), (0, 64, 24, 1)])
    assert codec.voice_spans(piece_to_tokens(piece)) == {0: (72, 76), 3: (48, 48), 1: (64, 64)}

"""The codec's grammar: masks for each situation, the clock follower, and the corpus obeys it."""

from __future__ import annotations

import numpy as np

from musicgen.codec import BAR, BOS, DUR, EOS, LAST_BAR, PITCH, SHIFT, meter_token, piece_to_tokens
from musicgen.dataset import load_dataset
from musicgen.grammar import AFTER_FULL_DUR, AFTER_OTHER, AFTER_PITCH, Follower, MaskKey, allowed, check_stream
from musicgen.notes import make_piece


def kinds(mask: np.ndarray) -> set[str]:
    names = set()
    for token in np.flatnonzero(mask):
        for block in (SHIFT, PITCH, DUR):
            if token in block:
                names.add(block.kind)
        names |= {name for name, value in (("BAR", BAR), ("LAST_BAR", LAST_BAR), ("EOS", EOS)) if token == value}
    return names


def test_a_note_needs_its_duration_and_a_due_bar_line_comes_alone():
    assert kinds(allowed(MaskKey(AFTER_PITCH))) == {"DUR"}
    assert kinds(allowed(MaskKey(AFTER_OTHER, bar=BAR, bar_due=True))) == {"BAR"}
    assert kinds(allowed(MaskKey(AFTER_FULL_DUR, bar=LAST_BAR, bar_due=True))) == {"DUR", "LAST_BAR"}
    free = allowed(MaskKey(AFTER_OTHER, shift_room=5))
    assert kinds(free) == {"SHIFT", "PITCH"} and not free[EOS]
    assert free[SHIFT.token(5)] and not free[SHIFT.token(6)]  # no time shift across the next bar line
    assert allowed(MaskKey(AFTER_OTHER, shift_room=48, eos=True))[EOS]


def test_the_follower_keeps_clock_metre_and_the_next_bar_line():
    follower = Follower()
    for token in (BOS, meter_token((6, 8)), PITCH.token(62), DUR.token(6), SHIFT.token(6), BAR):
        follower.follow(token)
    assert follower.meter == (6, 8) and follower.bar_length == 36
    assert follower.clock == 6 and follower.last_bar == 6 and follower.next_bar_line == 42
    assert follower.kind == AFTER_OTHER


def test_encoded_pieces_follow_the_grammar_and_a_broken_stream_is_named():
    piece = make_piece([(0, 60, 6), (6, 62, 36), (42, 64, 30)], bars=[6, 42, 78], meters=[(0, 6, 8)])
    tokens = piece_to_tokens(piece)
    assert check_stream(tokens) == []
    broken = [t for t in tokens if t != DUR.token(30)]  # a note without its duration
    assert any("without a duration" in error for error in check_stream(broken))


def test_every_piece_of_the_corpus_follows_the_grammar():
    dataset = load_dataset()
    broken = [i for i in range(len(dataset.genre)) if check_stream(dataset.piece_tokens(i))]
    assert len(dataset.genre) > 5000 and broken == []


def test_the_follower_counts_the_notes_sounding_with_long_notes_lengthened():
    follower = Follower()
    full = DUR.token(DUR.max)  # a DUR of the maximum length: the next DUR lengthens the same note
    for token in (BOS, meter_token((4, 4)), BAR, PITCH.token(72), DUR.token(12), PITCH.token(60), full, DUR.token(6)):
        follower.follow(token)
    assert follower.sounding == 2 and follower.note_ends == (12, DUR.max + 6)
    follower.follow(SHIFT.token(12))  # the short note ends here; the long one sounds on
    assert follower.sounding == 1 and follower.note_ends == (DUR.max + 6,)
    copy_of = Follower.__new__(Follower)
    copy_of.__dict__ = dict(follower.__dict__)  # as copy.copy makes it: no list shared with the original
    copy_of.follow(PITCH.token(64))
    copy_of.follow(DUR.token(3))
    assert follower.sounding == 1 and copy_of.sounding == 2

"""The codec's grammar: masks for each situation, the clock follower, and the corpus obeys it."""

from __future__ import annotations

import numpy as np

from musicgen.music.piece import make_piece
from musicgen.tokens.codec import BAR, BOS, DUR, EOS, LAST_BAR, PITCH, SHIFT, meter_token, piece_to_tokens
from musicgen.tokens.grammar import AFTER_FULL_DUR, AFTER_OTHER, AFTER_PITCH, Follower, MaskKey, allowed, check_stream
from musicgen.training.dataset import load_dataset


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
    errors = {i: check_stream(dataset.piece_tokens(i)) for i in range(len(dataset.genre))}
    broken = [i for i, found in errors.items() if found]
    # The voice ranges are the sampler's and leave out the corpus's rarest notes: 57 notes of 14
    # chorales and Palestrina movements lie outside them; nothing else breaks a rule.
    assert len(dataset.genre) > 5000 and len(broken) <= 14
    assert all("voice's range" in error for i in broken for error in errors[i])
    assert {dataset.genre_keys[dataset.genre[i]] for i in broken} <= {"bach", "palestrina"}


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


def test_a_voice_sings_one_note_at_a_time_in_its_range_and_in_order():
    from musicgen.tokens.codec import VOICE, VOICE_RANGES
    from musicgen.tokens.grammar import AFTER_VOICE

    piece = make_piece([(0, 72, 24, 0), (0, 48, 12, 3), (12, 50, 12, 3)], bars=[0, 48], meters=[(0, 4, 4)])
    tokens = piece_to_tokens(piece)
    assert check_stream(tokens) == []
    # the soprano starting again while its half note sounds
    at = tokens.index(SHIFT.token(12)) + 1
    twice = tokens[:at] + [VOICE.token(0), PITCH.token(74), DUR.token(12)] + tokens[at:]
    assert any("while its last one sounds" in error for error in check_stream(twice))
    # the bass written before the soprano at one onset
    assert tokens[3] == VOICE.token(0) and tokens[6] == VOICE.token(3)
    swapped = tokens[:3] + tokens[6:9] + tokens[3:6] + tokens[9:]
    assert any("out of the order" in error for error in check_stream(swapped))
    # a bass note above the bass's range
    high = [PITCH.token(VOICE_RANGES[3][1] + 1) if t == PITCH.token(48) else t for t in tokens]
    assert any("outside the 3 voice's range" in error for error in check_stream(high))
    mask = allowed(MaskKey(AFTER_VOICE, voice=3))
    low, top = VOICE_RANGES[3]
    assert mask.sum() == top - low + 1 and mask[PITCH.token(low)] and mask[PITCH.token(top)]


def test_the_follower_frees_each_voice_when_its_note_ends():
    from musicgen.tokens.codec import VOICE

    follower = Follower()
    stream = [BOS, meter_token((4, 4)), BAR, VOICE.token(0), PITCH.token(72), DUR.token(24)]
    stream += [VOICE.token(3), PITCH.token(48), DUR.token(12)]
    for token in stream:
        follower.follow(token)
    assert follower.free_voices() == 0b0110  # alto and tenor may still come at this onset
    follower.follow(SHIFT.token(12))
    assert follower.free_voices() == 0b1110  # the bass's quarter has ended, the soprano holds

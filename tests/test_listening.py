"""The critic listens: what it judges is the notes, never the metre or strain marks written with them."""

from __future__ import annotations

import numpy as np

from musicgen.evaluation.critic_features import FeatureSpace
from musicgen.music.listening import heard, infer_meter, periodicity
from musicgen.music.piece import make_piece


def jig_notes(bars: int = 8):
    """A jig-like line: per dotted-quarter beat a quarter and an eighth, or three eighths."""
    notes, now = [], 0
    for beat in range(2 * bars):
        if beat % 2:
            notes += [(now, 67, 6), (now + 6, 69, 6), (now + 12, 71, 6)]
        else:
            notes += [(now, 72, 12), (now + 12, 71, 6)]
        now += 18
    return notes, now


def test_the_same_notes_under_any_notated_metre_give_the_same_heard_features():
    notes, end = jig_notes()
    as_jig = make_piece(notes, bars=range(0, end + 1, 36), meters=[(0, 6, 8)], last_bars=[end - 36])
    as_reel = make_piece(notes, bars=range(0, end + 1, 48), meters=[(0, 4, 4)])
    space = FeatureSpace([], [], listening=True)
    assert np.array_equal(space.vector(as_jig), space.vector(as_reel))
    notated = FeatureSpace([], [], listening=False)
    assert not np.array_equal(notated.vector(as_jig), notated.vector(as_reel))


def test_a_jig_rhythm_is_heard_in_compound_time_and_a_reel_rhythm_in_simple_time():
    notes, _ = jig_notes()
    meter, phase = infer_meter(make_piece(notes, meters=[(0, 4, 4)]))
    assert meter in ((6, 8), (12, 8), (9, 8)) and phase % 18 == 0
    reel = [(k * 6, 67 + (k % 4 == 0) * 5, 12 if k % 4 == 0 else 6) for k in range(64) if k % 4 != 1]
    meter, _ = infer_meter(make_piece(reel))
    assert meter in ((2, 4), (4, 4), (3, 4))
    profile = dict(zip((6, 12, 18, 24, 36, 48, 54, 72, 96), periodicity(make_piece(notes))))
    assert profile[18] > profile[12] and profile[36] > profile[24]


def test_heard_keeps_the_notes_and_drops_the_strain_marks():
    notes, end = jig_notes()
    piece = make_piece([(*n, 1) for n in notes], bars=range(0, end + 1, 36), meters=[(0, 6, 8)], last_bars=[36])
    ear = heard(piece)
    assert [(n.start, n.pitch, n.duration) for n in ear.notes] == [(n.start, n.pitch, n.duration) for n in piece.notes]
    assert ear.last_bars == () and not ear.voiced and len(ear.meters) == 1

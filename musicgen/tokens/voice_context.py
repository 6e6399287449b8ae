"""What each voice sings, read from the tokens so far: the network's voice-leading context.

An onset-event stream names a voice only when it starts a note, so a network reading it must
remember, many tokens back, where the alto last went before it can write the tenor against it.
With ``ModelConfig.voice_context`` the network is told instead, at every token, what a
musician reading the score so far would see (a pure function of the tokens, never of the
sampler's settings, and nothing is masked: the network still chooses every note):

* each voice's latest pitch, with a flag saying it started at the current onset;
* each voice's pitch before that one;
* for each of the six pairs of voices, the interval class (semitones mod 12) between them just
  before the current onset and now, so a fifth or an octave held into a move is in view.

The raw context also keeps the bass's notes per pitch class and whether the final bar has begun (LAST_BAR),
which the voice head (``model.voice_head``) reads; the embedding features above do not.

The context is kept as ``RAW_SIZE`` integers per sequence (``fresh``), advanced token by token
(``advance``) and turned into ``N_SLOTS`` row indices of one embedding table of ``TABLE_SIZE``
rows (``features``). A bare PITCH (a one-line tune) is voice 0. Pure Python, no torch.
"""

from __future__ import annotations

import numpy as np

from ..music.piece import MAX_PITCH, MAX_VOICES, MIN_PITCH
from .codec import BOS, LAST_BAR, PITCH, SHIFT, VOICE

PITCHES = MAX_PITCH - MIN_PITCH + 2  # 0 = no note yet, then one index per piano key
NO_INTERVAL = 12  # interval class of a pair where a voice has no note yet
INTERVALS = 13
PAIRS = tuple((a, b) for a in range(MAX_VOICES) for b in range(a + 1, MAX_VOICES))  # upper voice first
# raw layout: latest pitch per voice, the one before, started-at-this-onset flags, the next PITCH's
# voice, "the final bar has begun", and the bass's notes so far per pitch class (of the pitch's
# index, so a transposition only rotates them): the voice head's reference for the key
LATEST, BEFORE, FLAGS, NEXT_VOICE = 0, MAX_VOICES, 2 * MAX_VOICES, 3 * MAX_VOICES
FINAL_BAR, BASS_CLASSES = 3 * MAX_VOICES + 1, 3 * MAX_VOICES + 2
RAW_SIZE = BASS_CLASSES + 12
BASS = MAX_VOICES - 1
SLOT_SIZES = (2 * PITCHES,) * MAX_VOICES + (PITCHES,) * MAX_VOICES + (INTERVALS * INTERVALS,) * len(PAIRS)
SLOT_OFFSETS = tuple(int(x) for x in np.cumsum((0,) + SLOT_SIZES[:-1]))
N_SLOTS = len(SLOT_SIZES)
TABLE_SIZE = sum(SLOT_SIZES)


def fresh() -> list[int]:
    """The context of a sequence before its first token: no voice has sung."""
    return [0] * RAW_SIZE


def advance(raw: list[int], token: int) -> None:
    """Update ``raw`` in place with one more token (the codec's reading of voices)."""
    if PITCH.offset <= token < PITCH.stop:
        voice = raw[NEXT_VOICE]
        raw[BEFORE + voice] = raw[LATEST + voice]
        raw[LATEST + voice] = token - PITCH.offset + 1
        raw[FLAGS + voice] = 1
        raw[NEXT_VOICE] = 0  # a VOICE token belongs to the PITCH right after it
        if voice == BASS:
            raw[BASS_CLASSES + raw[LATEST + voice] % 12] += 1
    elif VOICE.offset <= token < VOICE.stop:
        raw[NEXT_VOICE] = token - VOICE.offset
    elif SHIFT.offset <= token < SHIFT.stop:
        for voice in range(MAX_VOICES):
            raw[FLAGS + voice] = 0  # the clock moved: a new onset
    elif token == LAST_BAR:
        raw[FINAL_BAR] = 1
    elif token == BOS:
        raw[:] = fresh()


def _interval(upper: int, lower: int) -> int:
    return NO_INTERVAL if upper == 0 or lower == 0 else (upper - lower) % 12


def features(raw: list[int]) -> list[int]:
    """The ``N_SLOTS`` embedding rows (offsets included) that describe ``raw``."""
    latest = raw[LATEST : LATEST + MAX_VOICES]
    flags = raw[FLAGS : FLAGS + MAX_VOICES]
    before_onset = [raw[BEFORE + v] if flags[v] else latest[v] for v in range(MAX_VOICES)]
    rows = [latest[v] + PITCHES * flags[v] for v in range(MAX_VOICES)]
    rows += raw[BEFORE : BEFORE + MAX_VOICES]
    rows += [
        _interval(before_onset[a], before_onset[b]) * INTERVALS + _interval(latest[a], latest[b]) for a, b in PAIRS
    ]
    return [row + offset for row, offset in zip(rows, SLOT_OFFSETS)]


def sequence_features(tokens, raw: list[int] | None = None) -> tuple[np.ndarray, list[int]]:
    """Features after each of ``tokens`` (T,): (T, N_SLOTS) int64, and the context after the last."""
    raw = fresh() if raw is None else list(raw)
    out = np.zeros((len(tokens), N_SLOTS), dtype=np.int64)
    for t, token in enumerate(np.asarray(tokens).tolist()):
        advance(raw, token)
        out[t] = features(raw)
    return out, raw


def batch_raws(tokens: np.ndarray, raws: list[list[int]] | None = None) -> np.ndarray:
    """The context ``raw`` after each token of every row of tokens (B, T): (B, T, RAW_SIZE); ``raws``
    the B contexts before them (None: the tokens start a piece)."""
    tokens = np.asarray(tokens)
    out = np.zeros(tokens.shape + (RAW_SIZE,), dtype=np.int64)
    for b, row in enumerate(tokens.tolist()):
        raw = fresh() if raws is None else list(raws[b])
        for t, token in enumerate(row):
            advance(raw, token)
            out[b, t] = raw
    return out


def batch_features(tokens: np.ndarray, raws: list[list[int]] | None = None) -> tuple[np.ndarray, list[list[int]]]:
    """``sequence_features`` of every row of tokens (B, T): (B, T, N_SLOTS) and the B contexts after."""
    tokens = np.asarray(tokens)
    raws = raws or [None] * tokens.shape[0]
    out = np.zeros(tokens.shape + (N_SLOTS,), dtype=np.int64)
    after = []
    for b, row in enumerate(tokens):
        out[b], raw = sequence_features(row, raws[b])
        after.append(raw)
    return out, after

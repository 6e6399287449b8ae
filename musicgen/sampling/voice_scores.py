"""The voice head's pitch scores in the sampler, in numpy, for the rows about to write a pitch.

The same maths as ``model.voice_head.voice_bias`` (torch, used in training and by
``PlainStepper``), written for the fast sampler's small arrays, where a numpy call costs about a
microsecond and a torch call five to ten (``tests/test_voice_head.py`` checks both give the same
numbers); ``RowScores`` does one row at a time with slices, cheaper still for a few rows.
"""

from __future__ import annotations

import numpy as np

from ..model import voice_head as vh
from ..music.piece import MAX_VOICES
from ..tokens import voice_context as vc

_V = MAX_VOICES
_OTHERS = vh.OTHERS.numpy()
_CANDIDATES = vh.CANDIDATES.numpy()
_EDGES = vh.DISTANCE_EDGES.numpy()
_SLOTS = np.arange(_V - 1)


def pitch_scores(tables: list[np.ndarray], raws: np.ndarray) -> np.ndarray:
    """The voice head's biases (N, N_PITCHES) float32 for rows whose contexts raws (N, RAW_SIZE)
    follow a VOICE token; ``tables`` the head's (moves, spacing, steps, tonal) as numpy arrays."""
    moves, spacing, steps, tonal = tables
    latest, before = raws[:, vc.LATEST : vc.LATEST + MAX_VOICES], raws[:, vc.BEFORE : vc.BEFORE + MAX_VOICES]
    flags, voice = raws[:, vc.FLAGS : vc.FLAGS + MAX_VOICES] > 0, raws[:, vc.NEXT_VOICE]
    other = _OTHERS[voice]  # (N, 3)
    u_now = np.take_along_axis(latest, other, 1)
    u_last = np.take_along_axis(before, other, 1)
    u_moved = np.take_along_axis(flags, other, 1) & (u_last > 0)
    u_before = np.where(u_moved, u_last, u_now)
    v_before = np.take_along_axis(latest, voice[:, None], 1)  # (N, 1)
    silent = (v_before == 0) | (u_before == 0)
    interval_before = np.where(silent, vh.NO_INTERVAL, (v_before - u_before) % 12)
    u_motion = np.where(u_moved, np.sign(u_now - u_before) + 1, 1)
    p = _CANDIDATES[None, None, :]
    interval_now = (p - u_now[:, :, None]) % 12  # (N, 3, P)
    v_motion = np.where(v_before == 0, vh.FIRST_NOTE, np.sign(p[:, 0] - v_before) + 1)  # (N, P)
    pair = voice[:, None] * vh.OTHER_VOICES + _SLOTS
    index = ((pair * vh.INTERVALS + interval_before)[:, :, None] * 12 + interval_now) * vh.V_MOTIONS
    index = (index + v_motion[:, None]) * vh.U_MOTIONS + u_motion[:, :, None]
    distance = np.searchsorted(_EDGES, p - u_now[:, :, None], side="left")  # torch.bucketize's bins
    spaced = (pair[:, :, None] * vh.DISTANCES + distance) * vh.V_MOTIONS + v_motion[:, None]
    sounding = (u_now > 0)[:, :, None]
    against = ((moves[index] + spacing[spaced]) * sounding).sum(1)  # (N, P)
    leap = np.where(v_before == 0, vh.FIRST_LEAP, np.clip(p[:, 0] - v_before, -12, 12) + 12)
    bass_classes = raws[:, vc.BASS_CLASSES : vc.BASS_CLASSES + 12]
    tonic = bass_classes.argmax(1)[:, None]
    degree = np.where(bass_classes.sum(1, keepdims=True) > 0, (p[:, 0] - tonic) % 12, vh.NO_INTERVAL)
    tonal_index = (voice[:, None] * 2 + raws[:, vc.FINAL_BAR : vc.FINAL_BAR + 1]) * vh.INTERVALS + degree
    return against + steps[voice[:, None] * vh.LEAPS + leap] + tonal[tonal_index]


class RowScores:
    """``pitch_scores`` of one row at a time, as slices of tables laid out once per model: for a
    sampler of a few rows (a piece alone, a harmonisation) about 20 microseconds a row against
    about 120 for the vectorised form, whose cost is mostly numpy's per-call overhead.

    ``pairs[pair, before, u_motion, v_motion, r + 87]`` holds ``moves + spacing`` of a pitch r
    semitones from the other voice's (r = -87..87), ``leaps[v, d + 87]`` the step table by the
    interval d from the voice's last pitch, ``degrees[v, final bar, j]`` the tonal table repeated
    over j = 0..99, so every score row is a few slices.
    """

    REACH = vh.N_PITCHES - 1  # the widest interval between two pitches, semitones

    def __init__(self, tables: list[np.ndarray]):
        moves, spacing, steps, tonal = tables
        span = np.arange(-self.REACH, self.REACH + 1)
        moves = moves.reshape(vh.N_PAIRS, vh.INTERVALS, 12, vh.V_MOTIONS, vh.U_MOTIONS)
        spacing = spacing.reshape(vh.N_PAIRS, vh.DISTANCES, vh.V_MOTIONS)
        against = moves[:, :, span % 12].transpose(0, 1, 4, 3, 2)  # (pair, before, u_motion, v_motion, r)
        distance = np.searchsorted(_EDGES, span, side="left")
        self.pairs = np.ascontiguousarray(against + spacing[:, None, None, distance].transpose(0, 1, 2, 4, 3))
        steps = steps.reshape(_V, vh.LEAPS)
        self.leaps = np.ascontiguousarray(steps[:, np.clip(span, -12, 12) + 12])
        self.first_steps = steps[:, vh.FIRST_LEAP]
        tonal = tonal.reshape(_V, 2, vh.INTERVALS)
        self.degrees = np.ascontiguousarray(tonal[:, :, np.arange(vh.N_PITCHES + 12) % 12])
        self.unplaced = tonal[:, :, vh.NO_INTERVAL]

    def scores(self, raw: list[int]) -> np.ndarray:
        """The head's biases (N_PITCHES,) float32 of one row's context ``raw`` (a list)."""
        n, reach = vh.N_PITCHES, self.REACH
        voice, final_bar = raw[vc.NEXT_VOICE], raw[vc.FINAL_BAR]
        v_before = raw[vc.LATEST + voice]
        out = np.zeros(n, dtype=np.float32)
        for slot, other in enumerate(_OTHERS[voice].tolist()):
            u_now = raw[vc.LATEST + other]
            if u_now == 0:
                continue
            moved = raw[vc.FLAGS + other] and raw[vc.BEFORE + other] > 0
            u_before = raw[vc.BEFORE + other] if moved else u_now
            before = vh.NO_INTERVAL if v_before == 0 or u_before == 0 else (v_before - u_before) % 12
            u_motion = (u_now > u_before) - (u_now < u_before) + 1 if moved else 1
            rows = self.pairs[voice * vh.OTHER_VOICES + slot, before, u_motion]  # (V_MOTIONS, 175)
            start = 1 - u_now + reach  # the column of pitch 1
            if v_before == 0:
                out += rows[vh.FIRST_NOTE, start : start + n]
            else:
                below = v_before - 1  # pitches under v's last one
                out[:below] += rows[0, start : start + below]
                out[below] += rows[1, start + below]
                out[below + 1 :] += rows[2, start + below + 1 : start + n]
        if v_before == 0:
            out += self.first_steps[voice]
        else:
            start = 1 - v_before + reach
            out += self.leaps[voice, start : start + n]
        bass = raw[vc.BASS_CLASSES : vc.BASS_CLASSES + 12]
        if any(bass):
            tonic = bass.index(max(bass))
            start = (1 - tonic) % 12
            out += self.degrees[voice, final_bar, start : start + n]
        else:
            out += self.unplaced[voice, final_bar]
        return out

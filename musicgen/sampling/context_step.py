"""The voice contexts of a batch of sampled rows, advanced one token per row, and their embedding rows.

The same reading as ``tokens.voice_context.advance`` and ``features`` (pure Python, one row): the
advance in numpy on all rows at once (``advance``), or row by row in Python for a few rows
(``advance_rows``), whichever is cheaper (``advance_raws``); the features in torch. Tests check all
give the same numbers (``tests/test_voice_context.py``, ``tests/test_voice_head.py``).
"""

from __future__ import annotations

import numpy as np
import torch

from ..music.piece import MAX_VOICES
from ..tokens import voice_context as vc
from ..tokens.codec import BOS, LAST_BAR, PITCH, SHIFT, VOICE

ROW_BY_ROW = 4  # rows advanced one at a time in Python up to this many, in numpy above
_UPPER = torch.tensor([a for a, _ in vc.PAIRS])
_LOWER = torch.tensor([b for _, b in vc.PAIRS])
_OFFSETS = torch.tensor(vc.SLOT_OFFSETS)
_V = MAX_VOICES
_CLASSES = np.arange(12)
_VOICES = np.arange(_V)


def advance(raws: np.ndarray, tokens: np.ndarray) -> np.ndarray:
    """Contexts (B, RAW_SIZE) int64 after one more token per row, tokens (B,) int64 (a new array)."""
    latest, before = raws[:, vc.LATEST : vc.LATEST + _V], raws[:, vc.BEFORE : vc.BEFORE + _V]
    flags, next_voice = raws[:, vc.FLAGS : vc.FLAGS + _V], raws[:, vc.NEXT_VOICE]
    final_bar, bass_classes = raws[:, vc.FINAL_BAR], raws[:, vc.BASS_CLASSES :]
    is_pitch = (tokens >= PITCH.offset) & (tokens < PITCH.stop)
    is_voice = (tokens >= VOICE.offset) & (tokens < VOICE.stop)
    sings = (next_voice[:, None] == _VOICES) & is_pitch[:, None]  # (B, V)
    before = np.where(sings, latest, before)
    latest = np.where(sings, (tokens - PITCH.offset + 1)[:, None], latest)
    flags = np.where(sings, 1, flags)
    flags = np.where(((tokens >= SHIFT.offset) & (tokens < SHIFT.stop))[:, None], 0, flags)
    next_voice = np.where(is_voice, tokens - VOICE.offset, np.where(is_pitch, 0, next_voice))
    bass_class = (latest[:, _V - 1 : _V] % 12 == _CLASSES) & sings[:, _V - 1 : _V]
    bass_classes = bass_classes + bass_class
    final_bar = np.where(tokens == LAST_BAR, 1, final_bar)
    out = np.concatenate([latest, before, flags, next_voice[:, None], final_bar[:, None], bass_classes], axis=1)
    return np.where((tokens == BOS)[:, None], 0, out)


def advance_rows(raws: np.ndarray, tokens: list[int]) -> np.ndarray:
    """``advance`` one row at a time in Python (``tokens.voice_context.advance``): cheaper than the
    vectorised form for a few rows."""
    rows = raws.tolist()
    for raw, token in zip(rows, tokens):
        vc.advance(raw, token)
    return np.array(rows, dtype=np.int64).reshape(raws.shape)


def advance_raws(raws: torch.Tensor, tokens: list[int]) -> torch.Tensor:
    """Contexts (B, RAW_SIZE) int64 after one more token per row (a new tensor), the cheaper way
    for the batch's size."""
    if len(tokens) <= ROW_BY_ROW:
        return torch.from_numpy(advance_rows(raws.numpy(), tokens))
    return torch.from_numpy(advance(raws.numpy(), np.asarray(tokens, dtype=np.int64)))


def _interval(upper: torch.Tensor, lower: torch.Tensor) -> torch.Tensor:
    silent = (upper == 0) | (lower == 0)
    return torch.where(silent, torch.full_like(upper, vc.NO_INTERVAL), torch.remainder(upper - lower, 12))


def features(raws: torch.Tensor) -> torch.Tensor:
    """Embedding rows (B, N_SLOTS) int64 of contexts (B, RAW_SIZE), offsets included."""
    latest = raws[:, vc.LATEST : vc.LATEST + _V]
    before = raws[:, vc.BEFORE : vc.BEFORE + _V]
    flags = raws[:, vc.FLAGS : vc.FLAGS + _V]
    before_onset = torch.where(flags.bool(), before, latest)
    pairs = _interval(before_onset[:, _UPPER], before_onset[:, _LOWER]) * vc.INTERVALS + _interval(
        latest[:, _UPPER], latest[:, _LOWER]
    )
    return torch.cat([latest + vc.PITCHES * flags, before, pairs], dim=1) + _OFFSETS

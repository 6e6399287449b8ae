"""The voice context of a batch of sampled rows, advanced one token per row in torch.

The same reading as ``tokens.voice_context.advance`` and ``features`` (pure Python, one row),
written as some twenty tensor operations on all rows at once, so a batch of 128 rows costs about
as much as one (``tests/test_voice_context.py`` checks both give the same numbers).
"""

from __future__ import annotations

import torch

from ..music.piece import MAX_VOICES
from ..tokens import voice_context as vc
from ..tokens.codec import BOS, PITCH, SHIFT, VOICE

_UPPER = torch.tensor([a for a, _ in vc.PAIRS])
_LOWER = torch.tensor([b for _, b in vc.PAIRS])
_OFFSETS = torch.tensor(vc.SLOT_OFFSETS)
_V = MAX_VOICES


def _within(tokens: torch.Tensor, block) -> torch.Tensor:
    return (tokens >= block.offset) & (tokens < block.stop)


def _voices(raws: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The latest pitches, the ones before and the started-at-this-onset flags, each (B, V)."""
    return (
        raws[:, vc.LATEST : vc.LATEST + _V],
        raws[:, vc.BEFORE : vc.BEFORE + _V],
        raws[:, vc.FLAGS : vc.FLAGS + _V],
    )


def advance(raws: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """Contexts (B, RAW_SIZE) int64 after one more token per row, tokens (B,) int64."""
    latest, before, flags = _voices(raws)
    next_voice = raws[:, vc.NEXT_VOICE]
    is_pitch, is_voice = _within(tokens, PITCH), _within(tokens, VOICE)
    sings = torch.nn.functional.one_hot(next_voice, _V).bool() & is_pitch.unsqueeze(1)  # (B, V): the voice that sings
    before = torch.where(sings, latest, before)
    latest = torch.where(sings, (tokens - PITCH.offset + 1).unsqueeze(1), latest)
    flags = torch.where(sings, torch.ones_like(flags), flags)
    flags = torch.where(_within(tokens, SHIFT).unsqueeze(1), torch.zeros_like(flags), flags)
    next_voice = torch.where(
        is_voice, tokens - VOICE.offset, torch.where(is_pitch, torch.zeros_like(next_voice), next_voice)
    )
    raws = torch.cat([latest, before, flags, next_voice.unsqueeze(1)], dim=1)
    return torch.where((tokens == BOS).unsqueeze(1), torch.zeros_like(raws), raws)


def _interval(upper: torch.Tensor, lower: torch.Tensor) -> torch.Tensor:
    silent = (upper == 0) | (lower == 0)
    return torch.where(silent, torch.full_like(upper, vc.NO_INTERVAL), torch.remainder(upper - lower, 12))


def features(raws: torch.Tensor) -> torch.Tensor:
    """Embedding rows (B, N_SLOTS) int64 of contexts (B, RAW_SIZE), offsets included."""
    latest, before, flags = _voices(raws)
    before_onset = torch.where(flags.bool(), before, latest)
    pairs = _interval(before_onset[:, _UPPER], before_onset[:, _LOWER]) * vc.INTERVALS + _interval(
        latest[:, _UPPER], latest[:, _LOWER]
    )
    return torch.cat([latest + vc.PITCHES * flags, before, pairs], dim=1) + _OFFSETS

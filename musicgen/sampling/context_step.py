"""The voice context of a batch of sampled rows, advanced one token per row in torch.

The same reading as ``tokens.voice_context.advance`` and ``features`` (pure Python, one row),
written as some twenty tensor operations on all rows at once, so a batch of 128 rows costs about
as much as one (``tests/test_voice_context.py`` checks both give the same numbers).
"""

from __future__ import annotations

import warnings

import torch
from typing import Tuple

from ..music.piece import MAX_VOICES
from ..tokens import voice_context as vc
from ..tokens.codec import BOS, LAST_BAR, PITCH, SHIFT, VOICE

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


def advance(
    raws: torch.Tensor,
    tokens: torch.Tensor,
    pitch: Tuple[int, int] = (PITCH.offset, PITCH.stop),
    voice: Tuple[int, int] = (VOICE.offset, VOICE.stop),
    shift: Tuple[int, int] = (SHIFT.offset, SHIFT.stop),
    bos: int = BOS,
    last_bar: int = LAST_BAR,
    voices: int = _V,
) -> torch.Tensor:
    """Contexts (B, RAW_SIZE) int64 after one more token per row, tokens (B,) int64 (the token
    blocks come as defaults so TorchScript can compile it, ``scripted_advance``)."""
    latest, before, flags = raws[:, 0:voices], raws[:, voices : 2 * voices], raws[:, 2 * voices : 3 * voices]
    next_voice = raws[:, 3 * voices]
    final_bar, bass_classes = raws[:, 3 * voices + 1], raws[:, 3 * voices + 2 :]
    is_pitch = (tokens >= pitch[0]) & (tokens < pitch[1])
    is_voice = (tokens >= voice[0]) & (tokens < voice[1])
    sings = (next_voice.unsqueeze(1) == torch.arange(voices)) & is_pitch.unsqueeze(1)  # (B, V): the voice that sings
    before = torch.where(sings, latest, before)
    latest = torch.where(sings, (tokens - pitch[0] + 1).unsqueeze(1), latest)
    flags = torch.where(sings, torch.ones_like(flags), flags)
    new_onset = ((tokens >= shift[0]) & (tokens < shift[1])).unsqueeze(1)
    flags = torch.where(new_onset, torch.zeros_like(flags), flags)
    next_voice = torch.where(
        is_voice, tokens - voice[0], torch.where(is_pitch, torch.zeros_like(next_voice), next_voice)
    )
    bass_class = torch.remainder(latest[:, voices - 1 : voices], 12) == torch.arange(12)  # (B, 12)
    bass_classes = bass_classes + (bass_class & sings[:, voices - 1 : voices]).long()
    final_bar = torch.where(tokens == last_bar, torch.ones_like(final_bar), final_bar)
    extra = torch.stack([next_voice, final_bar], dim=1)
    raws = torch.cat([latest, before, flags, extra, bass_classes], dim=1)
    return torch.where((tokens == bos).unsqueeze(1), torch.zeros_like(raws), raws)


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


_SCRIPTED = None


def scripted_advance():
    """``advance`` compiled with TorchScript (once per process; the sampler calls it every step),
    or as it is where that fails."""
    global _SCRIPTED
    if _SCRIPTED is None:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*deprecated", category=DeprecationWarning)
            try:
                _SCRIPTED = torch.jit.script(advance)
            except Exception:  # a torch without TorchScript
                _SCRIPTED = advance
    return _SCRIPTED

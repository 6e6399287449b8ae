"""What the trainer reads: the pieces' transposition ranges, the genres evened out, and the
stream batcher (B parallel streams through the pieces in windows of T tokens).

The order of pieces is a pure function of the seed, so a resumed run replays the data exactly.
"""

from __future__ import annotations

import math
import random

import numpy as np
import torch

from ..tokens import voice_context
from ..tokens.codec import PAD, VOICE, VOICE_RANGES, pitch_span, transpose_tokens, voice_spans
from .dataset import Dataset
from .nll import IGNORE

MAX_TRANSPOSE = 6  # semitones either way


def transpose_ranges(dataset: Dataset, pieces: list[int]) -> list[tuple[int, int]]:
    """Allowed transpositions per piece: stay inside its genre's pitch span, at most +-MAX_TRANSPOSE."""
    piece_spans = [pitch_span(dataset.piece_tokens(i)) for i in pieces]
    spans: dict[int, tuple[int, int]] = {}
    for i, (lo, hi) in zip(pieces, piece_spans):
        g = int(dataset.genre[i])
        old = spans.get(g, (999, -1))
        spans[g] = (min(old[0], lo), max(old[1], hi))
    ranges = []
    for i, (lo, hi) in zip(pieces, piece_spans):
        g_lo, g_hi = spans[int(dataset.genre[i])]
        down, up = (max(-MAX_TRANSPOSE, g_lo - lo), min(MAX_TRANSPOSE, g_hi - hi)) if hi >= lo else (0, 0)
        tokens = dataset.piece_tokens(i)
        if (tokens >= VOICE.offset).any():  # a four-voice piece: every voice stays in its range
            for voice, (v_lo, v_hi) in voice_spans(tokens).items():
                r_lo, r_hi = VOICE_RANGES[voice]
                down, up = max(down, r_lo - v_lo), min(up, r_hi - v_hi)
            down, up = (down, up) if down <= up else (0, 0)
        ranges.append((down, up))
    return ranges


def balance_genres(dataset: Dataset, pieces: list[int], ranges, seed: int) -> tuple[list[int], list]:
    """Pieces (and their transposition ranges) repeated or thinned so every genre brings about the
    mean genre's number of tokens: a genre with a share w of that mean has each piece kept
    floor(1 / w) times, once more with probability frac(1 / w). The total stays about the same."""
    tokens: dict[int, int] = {}
    for i in pieces:
        g = int(dataset.genre[i])
        tokens[g] = tokens.get(g, 0) + len(dataset.piece_tokens(i))
    target = sum(tokens.values()) / max(1, len(tokens))
    rng = random.Random(seed)
    kept, kept_ranges = [], []
    for i, span in zip(pieces, ranges):
        copies = target / tokens[int(dataset.genre[i])]
        for _ in range(int(copies) + (rng.random() < copies - int(copies))):
            kept.append(i)
            kept_ranges.append(span)
    return kept, kept_ranges


class StreamBatcher:
    """Yields (x, y, genre, reset, context, raws) windows: x, y (B, T) int64; genre (B,); reset (B,)
    bool; context (B, T, N_SLOTS) int64, each x token's voice context (``tokens.voice_context``), or
    None when the network reads none; raws (B, T, RAW_SIZE) the raw context after each x token for
    a voice head, or None."""

    def __init__(
        self,
        dataset: Dataset,
        pieces: list[int],
        ranges,
        batch: int,
        bptt: int,
        seed: int,
        voice_context: bool = False,
        voice_head: bool = False,
    ):
        self.dataset, self.batch, self.bptt, self.voice_context = dataset, batch, bptt, voice_context
        self.voice_head = voice_head
        rng = random.Random(seed)
        order = list(range(len(pieces)))
        rng.shuffle(order)
        # Deal pieces to streams round-robin so every stream has about the same number of tokens.
        self.queues = [[] for _ in range(batch)]
        loads = [0] * batch
        for k in order:
            s = loads.index(min(loads))
            shift = rng.randint(*ranges[k])
            self.queues[s].append((pieces[k], shift))
            loads[s] += len(dataset.piece_tokens(pieces[k]))
        if not pieces:
            raise ValueError("no training pieces to make batches from")
        for s, queue in enumerate(self.queues):  # fewer pieces than streams: some streams repeat one
            if not queue:
                k = order[s % len(order)]
                queue.append((pieces[k], rng.randint(*ranges[k])))
        # Windows until the shortest stream has been through its pieces once; streams wrap
        # around their queue, so the trainer may ask for any fixed number of steps instead.
        self.steps = max(
            1, min(sum(math.ceil((len(dataset.piece_tokens(p)) - 1) / bptt) for p, _ in q) for q in self.queues)
        )

    def __iter__(self):
        cursors = [(0, None, 0) for _ in range(self.batch)]  # (queue index, tokens, position)
        contexts = [None] * self.batch  # per stream: its piece's voice context at every token
        readings = [None] * self.batch  # per stream: its piece's raw voice context at every token (voice head)
        for _ in range(self.steps):
            x = np.full((self.batch, self.bptt), PAD, dtype=np.int64)
            context = (
                np.zeros((self.batch, self.bptt, voice_context.N_SLOTS), dtype=np.int64) if self.voice_context else None
            )
            raws = (
                np.zeros((self.batch, self.bptt, voice_context.RAW_SIZE), dtype=np.int64) if self.voice_head else None
            )
            y = np.full((self.batch, self.bptt), IGNORE, dtype=np.int64)
            genre = np.zeros(self.batch, dtype=np.int64)
            reset = np.zeros(self.batch, dtype=bool)
            for b in range(self.batch):
                q, tokens, pos = cursors[b]
                if tokens is None or pos >= len(tokens) - 1:  # start this stream's next piece
                    if tokens is not None:
                        q += 1
                    piece, shift = self.queues[b][q % len(self.queues[b])]
                    tokens = transpose_tokens(self.dataset.piece_tokens(piece), shift)
                    if self.voice_context:
                        contexts[b] = voice_context.sequence_features(tokens)[0]
                    if self.voice_head:
                        readings[b] = voice_context.batch_raws(np.asarray(tokens)[None])[0]
                    pos = 0
                    reset[b] = True
                piece, _ = self.queues[b][q % len(self.queues[b])]
                chunk = tokens[pos : pos + self.bptt + 1]
                x[b, : len(chunk) - 1] = chunk[:-1]
                y[b, : len(chunk) - 1] = chunk[1:]
                if self.voice_context:
                    context[b, : len(chunk) - 1] = contexts[b][pos : pos + len(chunk) - 1]
                if self.voice_head:
                    raws[b, : len(chunk) - 1] = readings[b][pos : pos + len(chunk) - 1]
                genre[b] = int(self.dataset.genre[piece])
                cursors[b] = (q, tokens, pos + self.bptt)
            yield (
                torch.from_numpy(x),
                torch.from_numpy(y),
                torch.from_numpy(genre),
                torch.from_numpy(reset),
                None if context is None else torch.from_numpy(context),
                None if raws is None else torch.from_numpy(raws),
            )

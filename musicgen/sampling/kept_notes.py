"""Notes a four-voice piece must keep while the network writes the others: a melody to harmonise
(the soprano kept, alto, tenor and bass written) or every voice but one (rewrite the alto).

Torch-free. ``PieceState`` consults a ``KeptNotes`` at every step:

* the voices the network may start are only those it rewrites (``rewrite`` bits);
* time never moves past a kept note's onset (a SHIFT stops there) and never leaves an onset before
  its kept notes are written;
* at an onset, the voices are written in ``VOICE_ORDER`` (soprano, bass, alto, tenor): a kept note
  comes when no rewritten voice before it in that order is free; when one is, the network chooses
  between starting that voice (VOICE v) and letting it hold or rest, which it says by writing the
  kept note's own VOICE token, after which the kept note is written for it.

Every kept note is fed through the network like a sampled one, so the network hears the melody it
harmonises; the kept notes come out note for note.
"""

from __future__ import annotations

import bisect

from ..music.piece import Note
from ..tokens.codec import DUR, MAX_DURATION, PITCH, VOICE, VOICE_ORDER, split_steps
from ..tokens.grammar import Follower


def note_tokens(note: Note) -> list[int]:
    """VOICE, PITCH and DUR tokens of one note."""
    durations = [DUR.token(k) for k in split_steps(note.duration, MAX_DURATION)]
    return [VOICE.token(note.voice), PITCH.token(note.pitch), *durations]


class KeptNotes:
    """Kept notes by onset (steps), and the voices the network rewrites (bit v = voice v)."""

    def __init__(self, notes, rewrite: int):
        self.rewrite = rewrite
        self.by_onset: dict[int, list[tuple[int, Note]]] = {}
        for note in notes:
            self.by_onset.setdefault(note.start, []).append((VOICE_ORDER.index(note.voice), note))
        for kept in self.by_onset.values():
            kept.sort(key=lambda item: item[0])
        self.onsets = sorted(self.by_onset)

    def pending(self, follower: Follower) -> list[tuple[int, Note]]:
        """Kept notes at the clock not written yet, in writing order (rank, note)."""
        return [(rank, note) for rank, note in self.by_onset.get(follower.clock, ()) if rank > follower.order_done]

    def next_onset(self, clock: int) -> int | None:
        """The first kept onset after ``clock`` (steps), or None."""
        index = bisect.bisect_right(self.onsets, clock)
        return self.onsets[index] if index < len(self.onsets) else None

    def network_voices(self, follower: Follower, pending: list[tuple[int, Note]]) -> int:
        """Bits of the rewritten voices that may start now: free, after those written at the clock,
        and (with kept notes pending here) before the first of them in writing order."""
        bits = follower.free_voices() & self.rewrite
        if pending:
            first = pending[0][0]
            bits &= sum(1 << VOICE_ORDER[rank] for rank in range(first))
        return bits

    def due(self, follower: Follower) -> list[int] | None:
        """The tokens of the next kept note when it must be written now (no rewritten voice may
        come before it at this onset), else None."""
        pending = self.pending(follower)
        if pending and not self.network_voices(follower, pending):
            return note_tokens(pending[0][1])
        return None

    def passed_voice(self, follower: Follower, voice: int) -> list[int] | None:
        """After the network wrote VOICE ``voice`` at an onset where that voice has a kept note
        pending (it let its own voices before it hold or rest): the rest of that note's tokens."""
        for _, note in self.pending(follower):
            if note.voice == voice:
                return note_tokens(note)[1:]
        return None

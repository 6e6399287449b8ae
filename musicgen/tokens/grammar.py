"""The codec's token grammar: which token may follow which, and a clock that follows a stream.

It lives with the vocabulary (as MidiTok's tokenizers own theirs), so the sampler's masks and any
check of a token stream use one table. Pure Python and numpy, no torch.

* ``Follower`` reads tokens one by one and keeps the musical position: clock (steps), the latest
  bar line, the metre in force and its bar length, the chord being written, the notes sounding,
  the grammar state.
* ``allowed(key)`` gives the boolean mask (V,) of tokens allowed in a ``MaskKey`` situation; the
  sampler caches one row per key.

Rules (the codec writes every piece this way, so they cost the network nothing):
  after PITCH only DUR (a note needs its length); after a DUR of the maximum length another DUR
  may extend the note; no stray DUR otherwise; chords are written downwards (no PITCH at or above
  the chord's lowest pitch so far at this time); bar lines and metres only where the
  sampler's plan puts them (``MaskKey``); SHIFTs never cross the next bar line.
  Voices (codec 4): after VOICE v only a PITCH inside v's range (``VOICE_RANGES``, narrowed by the
  sampler to what fits the style's sung ranges: ``MaskKey.low/high``); a voice starts a
  note only when its last one has ended (one note at a time per voice) and after the voices already
  written at this time in ``VOICE_ORDER``; a one-line tune's bare PITCH likewise waits for its
  last note to end. Parallels, spacing, crossing and cadences are left to the network.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from ..music.meter import Meter, bar_steps
from ..music.piece import MAX_VOICES
from .codec import (
    BAR_TOKENS,
    BOS,
    DUR,
    EOS,
    MAX_SHIFT,
    METER,
    PAD,
    PITCH,
    SHIFT,
    VOCAB_SIZE,
    VOICE,
    VOICE_ORDER,
    VOICE_RANGES,
    token_meter,
)

AFTER_PITCH = 0  # only DUR (a note needs its length)
AFTER_FULL_DUR = 1  # a DUR of the maximum length: another DUR may extend the note, or anything
AFTER_OTHER = 2  # no DUR (a stray DUR is ignored by the decoder, a wasted token)
AFTER_VOICE = 3  # only a PITCH in the voice's range
ALL_VOICES = (1 << MAX_VOICES) - 1  # bit v set: VOICE v may come


class MaskKey(NamedTuple):
    """What the sampler allows at one step, besides the grammar state ``kind`` (a named tuple: the
    sampler builds and looks one up per row and token, and a tuple hashes in C).

    ``bar``: which bar token may come: None, BAR, PART_BAR or LAST_BAR; ``bar_due``: it must come now (only
    it, or a DUR extending a long note). ``shift_room``: the largest SHIFT allowed (0 = none;
    MAX_SHIFT or more = any). ``notes``: PITCH allowed. ``eos``: EOS allowed. Chords downwards is
    applied by the sampler (it depends on the chord's top pitch, not cached here).
    """

    kind: int
    bar: int | None = None
    bar_due: bool = False
    shift_room: int = 0
    notes: bool = True
    eos: bool = False
    voices: int = 0  # bit v set: VOICE v may come (a four-voice piece's next note)
    voice: int = 0  # after VOICE: the voice whose range the PITCH must lie in
    # after VOICE: the sampler's narrower (lowest, highest) MIDI pitch inside the voice's range (its
    # piece's room in the style's sung ranges, ``sampling.range_room``); (0, 127): the whole range
    low: int = 0
    high: int = 127


@functools.lru_cache(maxsize=4096)
def allowed(key: MaskKey) -> np.ndarray:
    """Boolean mask (V,) of the tokens allowed in the situation ``key`` (cached: read-only)."""
    mask = _allowed(key)
    mask.flags.writeable = False
    return mask


def _allowed(key: MaskKey) -> np.ndarray:
    mask = np.zeros(VOCAB_SIZE, dtype=bool)
    if key.kind == AFTER_PITCH:
        mask[DUR.offset : DUR.stop] = True
        return mask
    if key.kind == AFTER_VOICE:
        low, high = VOICE_RANGES[key.voice]
        low, high = max(low, key.low), min(high, key.high)
        mask[PITCH.token(low) : PITCH.token(high) + 1] = True
        return mask
    if key.kind == AFTER_FULL_DUR:
        mask[DUR.offset : DUR.stop] = True
    if key.bar is not None:
        mask[key.bar] = True
        if key.bar_due:
            return mask  # a bar line is due: nothing else moves past it
    if key.eos:
        mask[EOS] = True
    room = min(key.shift_room, MAX_SHIFT)
    if room > 0:
        mask[SHIFT.offset : SHIFT.offset + room] = True
    if key.notes:
        mask[PITCH.offset : PITCH.stop] = True
    for voice in range(MAX_VOICES):
        if key.voices >> voice & 1:
            mask[VOICE.token(voice)] = True
    return mask


class Follower:
    """The musical position after each token of a stream (see the module docstring)."""

    def __init__(self) -> None:
        self.clock = 0  # steps
        self.last_bar = -1  # step of the latest bar line (-1: none yet)
        self.bar_lines = 0  # bar lines seen
        self.meter: Meter | None = None  # time signature in force
        self.kind = AFTER_OTHER  # grammar state after the latest token
        self.chord_low = -1  # lowest PITCH token started at the current time (-1: none)
        self.last_onset = 0  # step of the latest note start
        # Ends (steps) of the notes sounding at the clock, in the order they started (a tuple:
        # copies of a Follower never share it).
        self.note_ends: tuple[int, ...] = ()
        # Voices (codec 4): the step at which each voice's latest note ends, the voice of the note
        # being written, and how far into VOICE_ORDER the notes written at the clock have gone.
        self.voice_ends: tuple[int, ...] = (0,) * MAX_VOICES
        self.voice = 0
        self.order_done = -1  # index in VOICE_ORDER of the latest voice written at the clock

    def voice_free(self, voice: int) -> bool:
        """True when ``voice`` has no note sounding at the clock."""
        return self.voice_ends[voice] <= self.clock

    def free_voices(self) -> int:
        """Bits of the voices that may start a note now: free, and after those written at the clock."""
        bits = 0
        for rank in range(self.order_done + 1, MAX_VOICES):
            voice = VOICE_ORDER[rank]
            if self.voice_ends[voice] <= self.clock:
                bits |= 1 << voice
        return bits

    @property
    def bar_length(self) -> int:
        """Steps in a bar of the metre in force (0 when no metre is known)."""
        return bar_steps(self.meter) if self.meter else 0

    @property
    def next_bar_line(self) -> int | None:
        """Step of the next bar line on the metre's grid (None before the first bar line)."""
        if self.last_bar < 0 or not self.meter:
            return None
        return self.last_bar + self.bar_length

    @property
    def sounding(self) -> int:
        """Notes sounding at the clock (those started here included, once their DUR is read)."""
        return len(self.note_ends)

    def follow(self, token: int) -> None:
        """Update the position for ``token``."""
        if token in DUR:  # the note's length (a DUR after a full one lengthens the same note)
            if self.kind == AFTER_PITCH:
                self.note_ends += (self.clock + DUR.value(token),)
                self._set_voice_end(self.clock + DUR.value(token))
            elif self.kind == AFTER_FULL_DUR and self.note_ends:
                self.note_ends = self.note_ends[:-1] + (self.note_ends[-1] + DUR.value(token),)
                self._set_voice_end(self.note_ends[-1])
        if token in SHIFT:
            self.clock += SHIFT.value(token)
            self.chord_low = -1
            self.order_done = -1
            if self.note_ends:
                self.note_ends = tuple(end for end in self.note_ends if end > self.clock)
        elif token in BAR_TOKENS:
            if self.last_bar != self.clock:
                self.bar_lines += 1
            self.last_bar = self.clock
        elif token in METER:
            self.meter = token_meter(token)
        if token in VOICE:
            self.kind = AFTER_VOICE
            self.voice = VOICE.value(token)
            return
        if token in PITCH:
            if self.kind != AFTER_VOICE:
                self.voice = 0
                self.chord_low = token
            self.order_done = max(self.order_done, VOICE_ORDER.index(self.voice))
            self.kind = AFTER_PITCH
            self.last_onset = self.clock
        elif token in DUR:
            self.kind = AFTER_FULL_DUR if DUR.value(token) == DUR.max else AFTER_OTHER
        else:
            self.kind = AFTER_OTHER

    def _set_voice_end(self, end: int) -> None:
        ends = list(self.voice_ends)
        ends[self.voice] = end
        self.voice_ends = tuple(ends)


def _voice_errors(follower: Follower, token: int, index: int) -> list[str]:
    """Grammar errors of ``token`` against the voices (codec 4) at ``follower``'s position."""
    if follower.kind == AFTER_VOICE:
        if token not in PITCH:
            return [f"{index}: a voice without a note"]
        low, high = VOICE_RANGES[follower.voice]
        if not low <= PITCH.value(token) <= high:
            return [f"{index}: pitch {PITCH.value(token)} outside the {follower.voice} voice's range {low}..{high}"]
        return []
    voice = VOICE.value(token) if token in VOICE else 0 if token in PITCH else None
    if voice is None:
        return []
    if not follower.voice_free(voice):
        return [f"{index}: voice {voice} starts a note while its last one sounds"]
    if VOICE_ORDER.index(voice) <= follower.order_done:
        return [f"{index}: voice {voice} written out of the order {VOICE_ORDER}"]
    return []


def check_stream(tokens) -> list[str]:
    """Grammar errors of a token stream (empty when it follows the rules a sampled stream keeps)."""
    errors = []
    follower = Follower()
    for index, token in enumerate(tokens):
        token = int(token)
        if token in (PAD,):
            errors.append(f"{index}: PAD inside a piece")
        if follower.kind == AFTER_PITCH and token not in DUR:
            errors.append(f"{index}: a note without a duration")
        if follower.kind == AFTER_OTHER and token in DUR and index > 0:
            errors.append(f"{index}: a duration without a note")
        nxt = follower.next_bar_line
        if token in SHIFT and nxt is not None and follower.clock + SHIFT.value(token) > nxt:
            errors.append(f"{index}: a time shift across the bar line at step {nxt}")
        changes_metre = index + 1 < len(tokens) and int(tokens[index + 1]) in METER
        if token in BAR_TOKENS and nxt is not None and follower.clock != nxt and not changes_metre:
            # (a bar cut short by a change of metre is how the corpus writes some Essen songs)
            errors.append(f"{index}: a bar line at step {follower.clock}, expected {nxt}")
        if token == EOS:
            break
        if token == BOS and index > 0:
            errors.append(f"{index}: BOS inside a piece")
        if follower.kind != AFTER_PITCH:
            errors.extend(_voice_errors(follower, token, index))
        follower.follow(token)
    return errors

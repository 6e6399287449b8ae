"""The sampling state of one piece: its plan (metre, bars, form), position, repeats and ending.

``generate.Generator`` samples many ``PieceState`` rows in one batch; each row decides what may
come next (``mask_key``: the codec's grammar and the bar grid), takes the next token
(``advance``: a sampled one, or a forced one when a part repeats) and keeps the bookkeeping a
musician sees in the result: bars done, parts, whether the network ended the piece itself.
"""

from __future__ import annotations

import copy
import enum
from collections import deque

import torch

from ..music.keys import ends_on_tonic
from ..tokens.codec import (
    BAR,
    BAR_TOKENS,
    EOS,
    LAST_BAR,
    MAX_SHIFT,
    PART_BAR,
    PITCH,
    VOICE,
    VOICE_RANGES,
    tokens_to_piece,
)
from ..tokens.grammar import AFTER_PITCH, AFTER_VOICE, ALL_VOICES, Follower, MaskKey, allowed
from .kept_notes import KeptNotes
from .range_room import RangeRoom
from .request import GenerationRequest, Plan, SamplingSettings

MAX_GAP = 4 * MAX_SHIFT  # steps (four whole notes) without a new note before a note must come ...
GAP_BARS = 2  # ... or two bars of the metre, whichever is shorter
PICKUP_GRID = 3  # steps: a pickup ends on a 16th (12 steps per quarter note)
# Final bars sampled at most, until the network chooses to end at the closing bar line on the tonic.
# Real pieces end with the tonic as the lowest final note at 55-89% per genre (data/corpus, keys.
# estimate_key), the network's first tries at 20-40%; asking it of the first 4 tries gives 62-88%
# and the network still ends by itself in 98-100% of pieces (docs/style_levers.md).
ENDING_TRIES = 8
TONIC_TRIES = 4  # tries that must also end on the tonic; later ones take any ending the network chooses
# A four-voice piece's final bar is cheap next to the piece, and a chorale that stops off its tonic is
# heard as unfinished: it asks the tonic of more tries (docs/voices.md, "Cadences").
VOICED_ENDING_TRIES = 12
VOICED_TONIC_TRIES = 8
UNIFORM_BLOCK = 256  # random numbers drawn at a time per row (one call instead of one per token)


def weight_vector(weights: dict[str, float], genre_keys: list[str]) -> torch.Tensor:
    """Genre weights as a vector (G,) in the model's genre order."""
    return torch.tensor([weights.get(k, 0.0) for k in genre_keys], dtype=torch.float32)


class Ending(enum.Enum):
    """Where a piece stands towards its end (``PieceState.ending``); ``PieceState.done`` ends it in
    any of them (the piece is complete, or stopped early).

    WRITING -> FINAL_BAR when LAST_BAR is written (the sampler keeps the network state there) ->
    CLOSING at the closing bar line, where the network decides whether to end (EOS) -> DECIDED; or
    CLOSING -> FINAL_BAR when the final bar is sampled again (the network state restored). A
    primer that already holds the final bar's line goes WRITING -> CLOSING; a passage inside a
    piece (``open_end``) stays WRITING until done.
    """

    WRITING = "writing"
    FINAL_BAR = "final bar"
    CLOSING = "closing"
    DECIDED = "decided"


class PieceState:
    """Sampling state of one piece: settings, plan, random stream, position, parts, ending."""

    def __init__(
        self,
        request: GenerationRequest,
        plan: Plan,
        *,
        blend: dict,
        end_blend: dict | None = None,
        genre_keys: list[str],
        tempo: float,
        prefix: list[int],
        primed: bool = False,
        open_end: bool = False,
        strain_ends: frozenset = frozenset(),
        voices: int = 0,
        kept: KeptNotes | None = None,
        pickup: int | None = None,
        room: RangeRoom | None = None,
    ):
        self.request, self.plan = request, plan
        self.sampling = SamplingSettings.of(request)  # how its tokens are drawn
        self.generator = torch.Generator().manual_seed(request.seed)
        self._uniforms: list[float] = []
        self.blend, self.end_blend = blend, end_blend
        self.start_weights = weight_vector(blend, genre_keys)  # (G,)
        self.end_weights = None if end_blend is None else weight_vector(end_blend, genre_keys)
        self.tempo = tempo
        self.primed = primed
        self.follower = Follower()
        self.tokens: list[int] = []
        # A four-voice piece whose key is drawn afterwards: the room its voices have left in the
        # style's sung ranges (None: the codec's ranges alone)
        self.room = room
        for token in prefix:
            self._take(token)
        self.prefix_tokens = len(prefix)
        self.start_clock = self.follower.clock
        self.follower.last_onset = self.follower.clock  # silence counts from where new music starts
        # Bars of new music begun: a primer ends on its (written) next bar line, which starts bar 1.
        self.bars_begun = 1 if primed else 0
        self.part_starts: list[tuple[int, int]] = [(self.start_clock, len(self.tokens))] if primed else []
        self.forced: deque[int] = deque()
        self.events = 0
        self.ending = Ending.WRITING
        self.done = False  # complete, or stopped early (``stop_reason``)
        self.ended_naturally = False  # the network chose EOS at the closing bar line
        self.stop_reason = ""
        self.morph = 0.0  # 0 = start blend, 1 = end blend
        self.companion = self.sampling.style_strength > 0
        # A passage inside a piece (regenerate): it stops at the bar line after its last bar, with
        # no ending, and marks the strain ends the piece had there (bar numbers of the passage).
        self.open_end, self.strain_ends = open_end, strain_ends
        # A style written in ``voices`` real voices (chorales, Palestrina: 4) writes every note in
        # its voice (codec 4: VOICE v PITCH p); others (0 or 1) are one line, one note at a time.
        self.voices = voices
        # Notes to keep while the network writes the other voices (harmonise, rewrite one voice),
        # the tokens of the one being written, and a pickup of a given length (steps; None: free).
        self.kept, self.kept_queue, self.fixed_pickup = kept, deque(), pickup
        # Endings: the final bar is sampled up to ENDING_TRIES times until the network ends it, on the tonic.
        self.ending_mark = None  # (tokens, follower, bars begun, parts, room) just after LAST_BAR
        self.ending_tries = 1
        # What the sampler is asked to do with the network state: keep it at the mark, put it back.
        self.snapshot_due = self.rewind_due = False
        self.saved_state = None  # the network state at the mark (``keep_network_state``)

    # ----- the plan ------------------------------------------------------------------------
    @property
    def decision_bar(self) -> int:
        """Bar number (1-based) whose start is the closing bar line where EOS is decided: after
        the last sampled part when only its repeats follow, else after the whole piece."""
        parts = self.plan.parts
        last_new = max(parts.index(letter) for letter in set(parts))
        if all(letter == parts[last_new] for letter in parts[last_new:]):
            return (last_new + 1) * self.plan.part_bars + 1
        return self.plan.bars + 1

    def _bar_token(self, number: int) -> int:
        """The token for the bar line that starts bar ``number`` (1-based): for the last bar of a
        part sampled anew, LAST_BAR when only its repeats follow (the ending), else PART_BAR (a
        strain's end, as the training data marks it); BAR otherwise."""
        if self.open_end:
            return PART_BAR if number in self.strain_ends else BAR
        if number > self.plan.bars or number % self.plan.part_bars:
            return BAR
        if number == self.decision_bar - 1:
            return LAST_BAR
        index = (number - 1) // self.plan.part_bars
        return PART_BAR if self.plan.parts.index(self.plan.parts[index]) == index else BAR

    def _begin_bar(self) -> None:
        """Bookkeeping at a bar line of new music: part starts, repeats, the closing bar line."""
        self.bars_begun += 1
        number = self.bars_begun  # the bar this line starts
        part_bars = self.plan.part_bars
        if self.open_end:
            self.done = number > self.plan.bars
            return
        if number == self.decision_bar and not self.decided:
            self.ending = Ending.CLOSING
        if number > self.plan.bars:
            return
        if (number - 1) % part_bars == 0:
            index = (number - 1) // part_bars
            self.part_starts.append((self.follower.clock, len(self.tokens)))
            letter = self.plan.parts[index]
            first = self.plan.parts.index(letter)
            if first < index:  # a repeat: the first occurrence's tokens, note for note
                begin = self.part_starts[first][1]
                end = self.part_starts[first + 1][1] - 1  # up to (not with) its closing bar line
                self.forced.extend(self.tokens[begin:end])

    # ----- position and masks --------------------------------------------------------------
    def _take(self, token: int) -> None:
        if self.room is not None and token in PITCH and self.follower.kind == AFTER_VOICE:
            self.room = self.room.sing(self.follower.voice, PITCH.value(token))
        self.tokens.append(token)
        self.follower.follow(token)

    def uniform(self) -> float:
        """The next uniform number in [0, 1) of this row's seeded stream (drawn in blocks)."""
        if not self._uniforms:
            self._uniforms = torch.rand(UNIFORM_BLOCK, generator=self.generator, dtype=torch.float64).tolist()
            self._uniforms.reverse()
        return self._uniforms.pop()

    def mask_key(self) -> MaskKey:
        """What may come next (the grammar, the bar grid, the plan, the voices).

        A four-voice row writes each note as VOICE v PITCH p: the voices that may start a note now
        are those whose last note has ended and that come after the ones already written at this
        time (``Follower.free_voices``); a one-line row writes bare PITCHes, one note at a time.
        """
        f = self.follower
        if f.kind == AFTER_PITCH or self.kept_queue:  # (a kept note's next token is not sampled)
            return MaskKey(AFTER_PITCH)
        if f.kind == AFTER_VOICE:
            return self._voice_key(f.voice)
        if self.kept is not None:
            return self._kept_key()
        free = f.free_voices() if self.voices > 1 else f.free_voices() & 1
        key = self._position_key(silence_rule=bool(free))  # with every voice singing it is not silence
        if not key.notes:
            return key
        limited = key._replace(notes=False, voices=free) if self.voices > 1 else key._replace(notes=bool(free))
        if allowed(limited).any():
            return limited  # a voice still singing starts nothing until its note ends (time moves on) ...
        # ... unless nothing else may come here (off the pickup's grid at its very end)
        return key._replace(notes=False, voices=ALL_VOICES) if self.voices > 1 else key

    def _voice_key(self, voice: int) -> MaskKey:
        """``mask_key`` after VOICE: a PITCH in the voice's range, within the piece's room."""
        if self.room is None:
            return MaskKey(AFTER_VOICE, voice=voice)
        lowest, highest = VOICE_RANGES[voice]
        low, high = self.room.bounds(voice)
        low, high = max(low, lowest), min(high, highest)
        if low > high:  # (cannot happen with the corpus's ranges; never a row with nothing allowed)
            return MaskKey(AFTER_VOICE, voice=voice)
        return MaskKey(AFTER_VOICE, voice=voice, low=low, high=high)

    def _kept_key(self) -> MaskKey:
        """``mask_key`` with kept notes: the rewritten voices only, time stopping at each kept
        onset, and at an onset with kept notes pending the choice ``KeptNotes`` describes."""
        f, kept = self.follower, self.kept
        pending = [] if self._bar_due() else kept.pending(f)
        if pending:  # a rewritten voice before the kept note, or the kept note's VOICE (that voice holds)
            return MaskKey(f.kind, notes=False, voices=kept.network_voices(f, pending) | 1 << pending[0][1].voice)
        key = self._position_key(silence_rule=False)
        after = kept.next_onset(f.clock)
        room = key.shift_room if after is None else min(key.shift_room, after - f.clock)
        limited = key._replace(notes=False, voices=kept.network_voices(f, []) if key.notes else 0, shift_room=room)
        return limited if allowed(limited).any() else key

    def _bar_due(self) -> bool:
        """True when a bar line is due at the clock and not written yet."""
        f = self.follower
        if f.last_bar < 0:
            return self.fixed_pickup is not None and f.clock >= self.fixed_pickup
        nxt = f.next_bar_line
        return nxt is not None and f.clock >= nxt

    def _queue_kept(self) -> None:
        """Queue the next kept note's tokens when it must be written now."""
        f = self.follower
        if self.kept is None or self.kept_queue or self.done or self.closing or self._bar_due():
            return
        if f.kind in (AFTER_PITCH, AFTER_VOICE):
            return
        due = self.kept.due(f)
        if due:
            self.kept_queue.extend(due)

    def _position_key(self, silence_rule: bool = True) -> MaskKey:
        """``mask_key`` before the voice limit: the grammar, the bar grid and the plan."""
        f = self.follower
        gap = min(MAX_GAP, GAP_BARS * f.bar_length) if f.bar_length else MAX_GAP
        quiet = silence_rule and f.clock - f.last_onset >= gap  # no endless silence: a note must come
        if self.closing:  # the EOS decision: anything the grammar allows, EOS among it
            return MaskKey(f.kind, shift_room=0 if quiet else MAX_SHIFT, eos=True)
        if f.last_bar < 0 and self.fixed_pickup is not None:  # a pickup of a given length (a melody's)
            room = self.fixed_pickup - f.clock
            return MaskKey(f.kind, bar=self._bar_token(1) if room <= 0 else None, bar_due=room <= 0, shift_room=room)
        if f.last_bar < 0 or (not self.primed and self.bars_begun == 0):  # the pickup, before bar 1
            # A pickup shorter than a bar, ending on a 16th (so a MIDI time signature and a score can
            # write it as its own short bar: 1/16 .. 15/16 of the metre).
            room = f.bar_length - PICKUP_GRID - f.clock
            on_grid = f.clock % PICKUP_GRID == 0
            return MaskKey(
                f.kind,
                bar=self._bar_token(1) if on_grid else None,
                bar_due=on_grid and room <= 0,
                shift_room=0 if quiet and on_grid else max(0, room),
            )
        nxt = f.next_bar_line
        if f.clock >= nxt:
            return MaskKey(f.kind, bar=self._bar_token(self.bars_begun + 1), bar_due=True)
        return MaskKey(f.kind, shift_room=0 if quiet else nxt - f.clock)

    def weights(self) -> torch.Tensor:
        """Genre weights (G,) at the current point of a morph."""
        if self.end_weights is None:
            return self.start_weights
        return (1.0 - self.morph) * self.start_weights + self.morph * self.end_weights

    def progress(self) -> float:
        """Fraction 0..1 of the planned bars done (whole bars plus the current bar's share)."""
        f = self.follower
        bars = max(0, self.bars_begun - 1)
        if self.bars_begun and f.bar_length:
            bars += min(1.0, max(0, f.clock - f.last_bar) / f.bar_length)
        return min(1.0, bars / self.plan.bars)

    def _mark_ending(self) -> None:
        """Remember the position after LAST_BAR, so the final bar can be sampled again."""
        self.ending_mark = (
            len(self.tokens),
            copy.copy(self.follower),
            self.bars_begun,
            len(self.part_starts),
            self.room,
        )
        if not self.closing:
            self.ending = Ending.FINAL_BAR
        self.snapshot_due = True  # the sampler keeps this row's network state from here

    def _ends_well(self, sampled: int | None) -> bool:
        """The closing decision is taken: the network chose EOS and, in the first TONIC_TRIES
        tries, the piece (with the repeats still to come) ends on its tonic."""
        if sampled != EOS:
            return False
        if self.ending_tries > (VOICED_TONIC_TRIES if self.voices > 1 else TONIC_TRIES):  # then any ending
            return True
        return ends_on_tonic(tokens_to_piece(self.tokens + list(self.forced)))

    def _rewind_ending(self) -> None:
        """Back to just after LAST_BAR: the final bar is sampled again (``rewind_due`` tells the
        sampler to restore the network state it kept)."""
        length, follower, bars_begun, parts, self.room = self.ending_mark
        del self.tokens[length:]
        del self.part_starts[parts:]
        self.follower, self.bars_begun = copy.copy(follower), bars_begun
        self.forced.clear()
        self.kept_queue.clear()
        self.ending = Ending.FINAL_BAR
        self.ending_tries += 1
        self.rewind_due = True

    def advance(self, sampled: int | None) -> bool:
        """Take the next token (``sampled``, or the forced one); returns True when the genre
        weights moved (a morph).

        A repeated part is written out at once, not played through the network: its notes, then
        the bar line after it (the one the part's first time ended with), so the network goes on
        from the part's first time into the next new part, as the corpus writes a tune (each
        strain once, between repeat signs). A repeat waiting on the closing decision (EOS) is
        written after the decision.
        """
        if self.kept_queue:  # a kept note, one token a step (the network hears it)
            self._take(self.kept_queue.popleft())
            self._queue_kept()
            return False
        moved = self._advance_one(sampled)
        if self.kept is not None and sampled is not None and sampled in VOICE and self.follower.kind == AFTER_VOICE:
            self.kept_queue.extend(self.kept.passed_voice(self.follower, VOICE.value(sampled)) or ())
        self._queue_kept()
        while self.forced and not self.done and not self.closing:  # the bar line may begin another repeat
            while self.forced and not self.done:
                moved |= self._advance_one(None)
            if not self.done:  # the bar line that is due, taken as the network's would be (it is fed next)
                moved |= self._advance_one(self._bar_token(self.bars_begun + 1))
        return moved

    def _morph_moved(self) -> bool:
        """Move a morph's genre weights to the piece's progress; True when they moved."""
        if self.end_weights is not None and not self.done:
            morph = self.progress()
            if morph != self.morph:
                self.morph = morph
                return True
        return False

    def _advance_one(self, sampled: int | None) -> bool:
        """One token: ``sampled``, or the next one of a repeat (``sampled`` None)."""
        if self.closing:
            self.events += 1
            most = VOICED_ENDING_TRIES if self.voices > 1 else ENDING_TRIES
            if self.ending_mark is not None and self.ending_tries < most and not self._ends_well(sampled):
                self._rewind_ending()  # the network would go on, or off the tonic: sample the final bar again
                return False
            self.ending = Ending.DECIDED
            self.ended_naturally = sampled == EOS
            if self.bars_begun > self.plan.bars:
                self.tokens.append(EOS)
                self.done = True
                return False
            sampled = None  # the repeats follow: the decision token is not written
        replaying = bool(self.forced)
        if self.forced:
            token = self.forced.popleft()
        elif sampled is None:
            return False
        else:
            token = sampled
            self.events += 1
        if token == EOS:  # only reachable through the closing decision above
            self.tokens.append(EOS)
            self.done = True
            return False
        self._take(token)
        if token in BAR_TOKENS:
            self._begin_bar()
            if self.bars_begun > self.plan.bars and self.decided:
                self.tokens.append(EOS)  # the repeats are over: the piece ends here
                self.done = True
        if token == LAST_BAR and not self.decided and not replaying:
            self._mark_ending()  # after _begin_bar: the mark is "bar N has begun"
        if self.events >= self.plan.max_events and not self.done:
            self.done = True
            self.stop_reason = (
                f"stopped at the event cap ({self.plan.max_events} events) in bar "
                f"{max(1, self.bars_begun)} of {self.plan.bars}"
            )
        return self._morph_moved()

    def keep_network_state(self, saved: list) -> None:
        """The sampler's network state at the ending mark, this row's then its style companion's."""
        self.saved_state, self.snapshot_due = saved, False

    def network_state_to_restore(self) -> list:
        """The network state to put back for a final bar sampled again (the request is answered)."""
        self.rewind_due = False
        return self.saved_state

    @property
    def closing(self) -> bool:
        """At the closing bar line, waiting for the network's EOS decision."""
        return self.ending is Ending.CLOSING

    @property
    def decided(self) -> bool:
        """The EOS decision at the closing bar line has been taken."""
        return self.ending is Ending.DECIDED

    @property
    def in_ending(self) -> bool:
        """True in the final bar and at the closing bar line, until the network has ended the piece."""
        return self.ending in (Ending.FINAL_BAR, Ending.CLOSING)

    @property
    def needs_sample(self) -> bool:
        """False when the next token is forced (a repeat being replayed; ``advance`` writes a
        repeat at once, so a row waits on the network only at the closing decision)."""
        return (self.closing or not self.forced) and not self.kept_queue

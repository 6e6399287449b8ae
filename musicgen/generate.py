"""Sampling new music from a trained model: requests in, pieces out.

The sampler feeds one token at a time and carries the LSTM state (the prefix is never run
again). Each step: logits -> grammar and length masks -> temperature -> top-k -> top-p ->
one draw from the request's own seeded ``torch.Generator`` (nothing global is touched, so the
same request gives a byte-identical MIDI file).

Length and endings: the requested length (bars, or seconds at the tempo) counts new music
only. EOS is masked until it is reached; after that the piece stops at EOS (a natural
ending), or, if it runs on, at the first bar line past a slack of ``END_SLACK`` (+25 %), so it
ends on a completed bar. ``max_events`` caps the number of sampled tokens in every case.

A small grammar mask keeps notes whole (after PITCH only DUR; no stray DUR), writes chords
upwards as the codec does, never puts two bar lines at one time and allows at most ``MAX_GAP``
steps without a new note, so even greedy decoding keeps making music. A piece cut at a bar line has its last notes cut there too.

Genres: one key, a blend ``"bach=0.7,reel=0.3"`` (weights normalised), or a morph: the weights
move linearly from the start blend to ``morph_to`` over the requested length.

Primer: its last ``PRIMER_MAX_TOKENS`` tokens warm the state in one forward pass; the result
holds all its notes, then the new ones from ``piece.primer_end`` (where the primer stops
sounding). Render choices that are not in the tokens: tempo and General MIDI program (genre
defaults of the main genre unless set) and key (``musicgen.keys``: the whole piece moves to the
requested tonic by the smallest shift, keeping its mode).

Reproducibility holds per engine: the fp32 fast path, the int8 path and the plain loop compute
slightly different logits, so a rare draw may differ between them.
"""
from __future__ import annotations

import bisect
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

import pretty_midi
import torch

from .checkpoint import LoadedModel
from .codec import (BAR, BOS, DUR, EOS, MAX_SHIFT, PAD, PITCH, SHIFT, VOCAB_SIZE, piece_to_tokens,
                    split_steps, tokens_to_piece)
from .fast_lstm import FastLSTM, PlainStepper
from .genres import Genre
from .keys import key_name, parse_key, transpose_to_key
from .midi_io import midi_to_piece, piece_to_midi, write_midi
from .notes import STEPS_PER_BEAT, Piece, make_piece

MAX_BARS = 512
MAX_SECONDS = 1800.0  # 30 minutes
MAX_EVENTS = 100_000
MIN_TEMPO, MAX_TEMPO = 20.0, 400.0  # quarter notes per minute
MAX_TEMPERATURE = 10.0  # beyond this the distribution is flat noise
MAX_SEED = 2**63 - 1
MAX_PROGRAM = 127
END_SLACK = 0.25  # a piece may run on up to 25 % past its length before it is cut at a bar line
HARD_STOP = 1.5  # without bar lines, a length in seconds stops at 150 % of the request
PRIMER_MAX_TOKENS = 1500  # the primer's last tokens warm the state (its notes are all kept)
PROGRESS_EVERY = 32  # tokens sampled between progress reports (and cancel points)
MAX_GAP = 4 * MAX_SHIFT  # steps (four whole notes) without a new note before a note must come
UNIFORM_BLOCK = 256  # random numbers drawn at a time per row (one call instead of one per token)

# What may follow the previous token (a tiny grammar that keeps every note whole):
AFTER_PITCH = 0  # only DUR (a note needs its length)
AFTER_FULL_DUR = 1  # a DUR of the maximum length: another DUR may extend the note, or anything
AFTER_OTHER = 2  # no DUR (a stray DUR is ignored by the decoder, a wasted token)


@dataclass
class GenerationRequest:
    """Everything that decides a generated piece (see module docstring)."""

    genre: str = ""  # "reel", a blend "bach=0.7,reel=0.3", or "" = the model's first genre
    morph_to: str | None = None  # genre/blend the piece moves to by its end (morph)
    bars: int | None = 16  # minimum length in bars ...
    seconds: float | None = None  # ... or in seconds at `tempo` (wins over bars when set)
    tempo: float | None = None  # quarter notes per minute; None = genre default (Genre.tempo)
    key: str | None = None  # tonic to transpose the result to: "C", "F#", "Bb"...; None = as generated
    program: int | None = None  # General MIDI program 0..127; None = genre default (Genre.program)
    temperature: float = 1.0
    top_k: int = 0  # 0 = off
    top_p: float = 0.95  # 1.0 = off
    seed: int = 0
    primer: str | None = None  # MIDI file to continue
    max_events: int = 4000  # hard cap on sampled tokens


def parse_genre_spec(spec: str, genre_keys: list[str]) -> dict[str, float]:
    """``"reel"`` or ``"bach=0.7,reel=0.3"`` -> weights summing to 1 ("" = the first genre).

    A part without ``=`` weighs 1, so ``"bach,reel"`` is an even blend.
    """
    valid = ", ".join(genre_keys)
    if spec is None or not str(spec).strip():
        return {genre_keys[0]: 1.0}
    weights: dict[str, float] = {}
    for part in str(spec).split(","):
        name, _, value = part.partition("=")
        name = name.strip().lower()
        if name not in genre_keys:
            raise ValueError(f"unknown genre '{name}' in '{spec}'; valid genres: {valid}")
        if name in weights:
            raise ValueError(f"genre '{name}' appears twice in '{spec}'")
        try:
            weight = float(value) if value.strip() else 1.0
        except ValueError:
            raise ValueError(f"genre weight '{value.strip()}' for '{name}' is not a number") from None
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(f"genre weight for '{name}' must be zero or positive, got {value.strip()}")
        weights[name] = weight
    total = sum(weights.values())
    if total <= 0:
        raise ValueError(f"genre weights in '{spec}' add up to zero")
    return {name: weight / total for name, weight in weights.items() if weight > 0}


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_request(request: GenerationRequest, genre_keys: list[str]) -> None:
    """Check every setting; raise ValueError with one line naming the first problem."""
    parse_genre_spec(request.genre, genre_keys)
    if request.morph_to is not None:
        parse_genre_spec(request.morph_to, genre_keys)
    r = request
    if not _is_number(r.temperature) or not 0 < r.temperature <= MAX_TEMPERATURE:
        raise ValueError(f"temperature must be above 0 and at most {MAX_TEMPERATURE:g}, got {r.temperature}")
    if not _is_number(r.top_p) or not 0 < r.top_p <= 1:
        raise ValueError(f"top-p must be above 0 and at most 1, got {r.top_p}")
    if not _is_whole(r.top_k) or r.top_k < 0:
        raise ValueError(f"top-k must be a whole number, 0 (off) or more, got {r.top_k}")
    if r.seconds is not None:
        if not _is_number(r.seconds) or not 0 < r.seconds <= MAX_SECONDS:
            raise ValueError(f"length in seconds must be above 0 and at most {MAX_SECONDS:g}, got {r.seconds}")
    elif r.bars is None:
        raise ValueError("give a length: bars or seconds")
    elif not _is_whole(r.bars) or not 1 <= r.bars <= MAX_BARS:
        raise ValueError(f"length in bars must be a whole number from 1 to {MAX_BARS}, got {r.bars}")
    if not _is_whole(r.max_events) or not 1 <= r.max_events <= MAX_EVENTS:
        raise ValueError(f"max events must be a whole number from 1 to {MAX_EVENTS}, got {r.max_events}")
    if r.tempo is not None and (not _is_number(r.tempo) or not MIN_TEMPO <= r.tempo <= MAX_TEMPO):
        raise ValueError(f"tempo must be from {MIN_TEMPO:g} to {MAX_TEMPO:g} quarter notes per minute, got {r.tempo}")
    if r.key is not None:
        parse_key(r.key)
    if r.program is not None and (not _is_whole(r.program) or not 0 <= r.program <= MAX_PROGRAM):
        raise ValueError(f"instrument program must be a whole number from 0 to {MAX_PROGRAM}, got {r.program}")
    if not _is_whole(r.seed) or not 0 <= r.seed <= MAX_SEED:
        raise ValueError(f"seed must be a whole number from 0 to {MAX_SEED}, got {r.seed}")
    if r.primer is not None and not Path(r.primer).is_file():
        raise ValueError(f"primer {r.primer}: no such file")


def _weights_text(weights: dict[str, float]) -> str:
    return ",".join(f"{k}={v:.3g}" for k, v in weights.items())


@dataclass
class GeneratedPiece:
    """A finished piece with the settings that made it."""

    piece: Piece  # final notes (after key transposition); piece.primer_end > 0 with a primer
    request: GenerationRequest
    tokens: list[int]  # primer tokens (if any), then the sampled ones
    tempo: float  # quarter notes per minute
    program: int  # General MIDI program 0..127
    transpose: int  # semitones applied for `key`
    events: int  # tokens sampled (primer excluded)
    seconds_taken: float  # wall-clock time of sampling
    ended_naturally: bool  # stopped at EOS after the minimum length
    model_name: str = ""
    genre_weights: dict = field(default_factory=dict)  # start blend, normalised
    morph_weights: dict | None = None  # end blend of a morph
    key_detected: str = ""  # key of the piece as generated, e.g. "A minor"
    key_result: str = ""  # key after transposition
    bars_generated: int = 0  # bar lines completed by the new music
    primer_tokens: int = 0  # how many of `tokens` come from the primer

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds_taken if self.seconds_taken > 0 else 0.0

    @property
    def duration_seconds(self) -> float:
        """Length of the piece at ``tempo``, in seconds."""
        return self.piece.length * 60.0 / self.tempo / STEPS_PER_BEAT

    def to_pretty_midi(self) -> pretty_midi.PrettyMIDI:
        return piece_to_midi(self.piece, tempo=self.tempo, program=self.program)

    def write_midi(self, path) -> Path:
        """Write the piece as a standard MIDI file (atomically)."""
        return write_midi(self.piece, path, tempo=self.tempo, program=self.program)

    def settings_dict(self) -> dict:
        """Every setting, the outcome and the note count, as JSON-able values."""
        return {
            "model": self.model_name, "request": asdict(self.request),
            "genre_weights": dict(self.genre_weights), "morph_weights": self.morph_weights,
            "tempo": self.tempo, "program": self.program, "transpose": self.transpose,
            "key_detected": self.key_detected, "key_result": self.key_result,
            "events": self.events, "seconds_taken": round(self.seconds_taken, 3),
            "events_per_second": round(self.events_per_second, 1), "ended_naturally": self.ended_naturally,
            "notes": len(self.piece.notes), "bars_generated": self.bars_generated,
            "primer_end": self.piece.primer_end, "duration_seconds": round(self.duration_seconds, 3),
        }


@dataclass
class GenerationProgress:
    """A report from ``Generator.generate``: ``done`` of ``total`` bars (or seconds); the last has ``result``."""

    done: int
    total: int
    message: str = ""
    result: GeneratedPiece | None = None


def _primer_tokens(primer: Piece) -> list[int]:
    """The primer's tokens (no EOS), with time shifts up to the end of its last note, so the
    new music starts where the primer stops sounding."""
    tokens = piece_to_tokens(primer, add_end=False)
    clock = sum(SHIFT.value(t) for t in tokens if t in SHIFT)
    gap = max(0, primer.length - clock)  # steps
    tokens.extend(SHIFT.token(k) for k in split_steps(gap, MAX_SHIFT))
    return tokens


def _weight_vector(weights: dict[str, float], genre_keys: list[str]) -> torch.Tensor:
    """Genre weights as a vector (G,) in the model's genre order."""
    return torch.tensor([weights.get(k, 0.0) for k in genre_keys], dtype=torch.float32)


class _Row:
    """Sampling state of one sequence: settings, random generator, clock and bar count."""

    def __init__(self, request: GenerationRequest, blend: dict[str, float], end_blend: dict[str, float] | None,
                 genre_keys: list[str], tempo: float, primer_tokens: list[int]):
        self.request = request
        self.generator = torch.Generator().manual_seed(request.seed)
        self._uniforms: list[float] = []
        self.blend, self.end_blend = blend, end_blend
        self.start_weights = _weight_vector(blend, genre_keys)  # (G,)
        self.end_weights = None if end_blend is None else _weight_vector(end_blend, genre_keys)  # (G,)
        self.tempo = tempo
        self.primer_tokens = primer_tokens
        self.tokens = list(primer_tokens)
        self.clock = 0  # steps
        self.last_bar = -1  # step of the latest bar line
        self.bar_length = 0  # steps between the latest two bar lines (0 = not known yet)
        self.kind = AFTER_OTHER  # grammar state after the latest token
        self.chord_top = -1  # highest PITCH token started at the current time (-1: none)
        self.last_onset = 0  # step of the latest note start
        for token in primer_tokens:
            self._follow(token)
        self.start_clock = self.clock
        self.last_onset = max(self.last_onset, self.clock)  # silence counts from where new music starts
        self.bars_done = 0
        self.events = 0
        self.done = False
        self.ended_naturally = False
        self.morph = 0.0  # 0 = start blend, 1 = end blend
        if request.seconds is not None:
            self.target_steps = round(request.seconds * tempo / 60.0 * STEPS_PER_BEAT)
            self.target_bars = None
        else:
            self.target_steps, self.target_bars = None, request.bars

    def uniform(self) -> float:
        """The next uniform number in [0, 1) of this row's seeded stream (drawn in blocks)."""
        if not self._uniforms:
            self._uniforms = torch.rand(UNIFORM_BLOCK, generator=self.generator, dtype=torch.float64).tolist()
            self._uniforms.reverse()
        return self._uniforms.pop()

    def _follow(self, token: int) -> None:
        """Update clock, bar line, chord and grammar state for ``token``."""
        if token in SHIFT:
            self.clock += SHIFT.value(token)
            self.chord_top = -1
        elif token == BAR:
            if self.last_bar >= 0:
                self.bar_length = self.clock - self.last_bar
            self.last_bar = self.clock
        if token in PITCH:
            self.kind = AFTER_PITCH
            self.chord_top = token
            self.last_onset = self.clock
        elif token in DUR:
            self.kind = AFTER_FULL_DUR if DUR.value(token) == DUR.max else AFTER_OTHER
        else:
            self.kind = AFTER_OTHER

    @property
    def elapsed(self) -> int:
        """Steps of new music so far."""
        return self.clock - self.start_clock

    def length_reached(self) -> bool:
        if self.target_bars is not None:
            return self.bars_done >= self.target_bars
        return self.elapsed >= self.target_steps

    def mask_id(self) -> int:
        """Row of the mask table (see ``_mask_bias``)."""
        eos_ok = self.length_reached()
        bar_ok = self.clock != self.last_bar  # no second bar line at the same time
        shift_ok = self.clock - self.last_onset < MAX_GAP  # no endless silence
        return self.kind * 8 + eos_ok * 4 + bar_ok * 2 + shift_ok

    def weights(self) -> torch.Tensor:
        """Genre weights (G,) at the current point of a morph."""
        if self.end_weights is None:
            return self.start_weights
        return (1.0 - self.morph) * self.start_weights + self.morph * self.end_weights

    def progress(self) -> float:
        """Fraction 0..1 of the requested length done (in bars: whole bars plus the current
        bar's share, judged by the length of the bar before it)."""
        if self.target_bars is None:
            return min(1.0, self.elapsed / max(1, self.target_steps))
        bars = self.bars_done
        if self.bar_length > 0 and self.clock > self.start_clock:
            bars += min(1.0, (self.clock - self.last_bar) / self.bar_length)
        return min(1.0, bars / self.target_bars)

    def advance(self, token: int) -> bool:
        """Take a sampled token; decide whether to stop; returns True when the genre weights moved."""
        self.tokens.append(token)
        self.events += 1
        if token == EOS:
            self.done = self.ended_naturally = True
            return False
        new_bar = token == BAR and self.clock > self.start_clock
        self._follow(token)
        if new_bar:
            self.bars_done += 1
        if self.target_bars is not None:
            slack_bars = math.ceil(self.target_bars * (1 + END_SLACK))
            if new_bar and self.bars_done >= slack_bars:
                self.done = True
        else:
            if new_bar and self.elapsed >= self.target_steps * (1 + END_SLACK):
                self.done = True
            if token in SHIFT and self.elapsed >= self.target_steps * HARD_STOP:
                self.done = True
        if self.events >= self.request.max_events:
            self.done = True
        if self.end_weights is not None and not self.done:
            morph = self.progress()
            if morph != self.morph:
                self.morph = morph
                return True
        return False


def _mask_bias() -> torch.Tensor:
    """(24, V): -inf on forbidden tokens, else 0.

    Row = grammar state * 8 + EOS allowed * 4 + BAR allowed * 2 + SHIFT allowed.
    """
    table = torch.zeros(24, VOCAB_SIZE, dtype=torch.bool)
    dur = torch.zeros(VOCAB_SIZE, dtype=torch.bool)
    dur[DUR.offset:DUR.stop] = True
    for kind in (AFTER_PITCH, AFTER_FULL_DUR, AFTER_OTHER):
        for eos_ok in (0, 1):
            for bar_ok in (0, 1):
                for shift_ok in (0, 1):
                    row = table[kind * 8 + eos_ok * 4 + bar_ok * 2 + shift_ok]
                    row[PAD] = row[BOS] = True
                    row[EOS] = not eos_ok
                    row[BAR] = not bar_ok
                    row[SHIFT.offset:SHIFT.stop] = not shift_ok
                    if kind == AFTER_PITCH:
                        row |= ~dur
                    elif kind == AFTER_OTHER:
                        row |= dur
    return torch.zeros(table.shape).masked_fill(table, float("-inf"))


class _Temperatures:
    """Temperatures of the active rows as a (B, 1) tensor, or None when all are 1."""

    def __init__(self, rows: list[_Row]):
        values = [[row.request.temperature] for row in rows]
        self.tensor = None if all(v == [1.0] for v in values) else torch.tensor(values, dtype=torch.float32)


def _draw(cdf: list[float], order: list[int], request: GenerationRequest, uniform: float) -> int:
    """One token from a row's sorted distribution, within its top-k and top-p.

    ``cdf`` is the running sum of probabilities sorted from most to least likely and ``order``
    the matching tokens. The kept tokens are a prefix: at most ``top_k``, and those whose more
    likely neighbours hold less than ``top_p`` of the mass (always at least one).
    """
    size = len(cdf)
    if request.top_p < 1.0:
        size = min(size, bisect.bisect_left(cdf, request.top_p) + 1)
    if request.top_k > 0:
        size = min(size, request.top_k)
    # (1 - u) lies in (0, 1], so the draw lands on a token with non-zero probability.
    target = (1.0 - uniform) * cdf[size - 1]
    return order[min(bisect.bisect_left(cdf, target, 0, size), size - 1)]


class Generator:
    """Samples pieces from a loaded model; ``fast`` picks ``FastLSTM`` over the plain loop and
    ``int8`` its quantized variant. Use one Generator per thread (iterators may interleave)."""

    def __init__(self, loaded: LoadedModel, fast: bool = True, int8: bool = False):
        self.loaded = loaded
        self.genres: list[Genre] = list(loaded.genres)
        self.genre_keys = [g.key for g in self.genres]
        model = loaded.model.eval()
        self.stepper = FastLSTM(model, int8=int8) if fast else PlainStepper(model)
        self.mask_bias = _mask_bias()  # (24, V)
        self._vocab = torch.arange(VOCAB_SIZE).unsqueeze(0)  # (1, V)

    # ----- settings -----------------------------------------------------------------------
    def _main_genre(self, weights: dict[str, float]) -> Genre:
        """The genre with the largest weight (the first listed on a tie)."""
        best = max(weights.values())
        key = next(k for k in self.genre_keys if weights.get(k, 0.0) == best)
        return self.genres[self.genre_keys.index(key)]

    def _make_row(self, request: GenerationRequest) -> _Row:
        validate_request(request, self.genre_keys)
        start = parse_genre_spec(request.genre, self.genre_keys)
        end = parse_genre_spec(request.morph_to, self.genre_keys) if request.morph_to is not None else None
        tempo = float(request.tempo if request.tempo is not None else self._main_genre(start).tempo)
        primer_tokens = _primer_tokens(midi_to_piece(request.primer)) if request.primer is not None else []
        return _Row(request, start, end, self.genre_keys, tempo, primer_tokens)

    # ----- sampling -------------------------------------------------------------------------
    def _sample(self, logits: torch.Tensor, rows: list[_Row], temperatures: _Temperatures) -> list[int]:
        """One token per row from logits (B, V) after masks, temperature, top-k and top-p."""
        # Chords go upwards, as the codec writes them: no PITCH at or below the chord's top so far.
        # This also keeps the clock moving (greedy decoding cannot repeat one note forever).
        if len(rows) == 1:
            logits += self.mask_bias[rows[0].mask_id()]
            if rows[0].chord_top >= 0:
                logits[:, PITCH.offset:rows[0].chord_top + 1] = float("-inf")
        else:
            logits += self.mask_bias[[row.mask_id() for row in rows]]
            tops = torch.tensor([[row.chord_top] for row in rows])  # (B, 1)
            logits.masked_fill_((self._vocab >= PITCH.offset) & (self._vocab <= tops), float("-inf"))
        if temperatures.tensor is not None:
            logits /= temperatures.tensor
        ordered, order = torch.sort(logits, dim=-1, descending=True)  # (B, V)
        cdf = torch.softmax(ordered, dim=-1).cumsum_(dim=-1)
        # Per-row work in Python on two lists: cheaper than a dozen tensor ops per step at small B.
        return [_draw(row_cdf, row_order, row.request, row.uniform())
                for row, row_cdf, row_order in zip(rows, cdf.tolist(), order.tolist())]

    def _run(self, rows: list[_Row]) -> Iterator[None]:
        """Sample all rows together, one batched step per token; yields every PROGRESS_EVERY steps."""
        stepper = self.stepper
        states, feed = [], []
        with stepper.context():
            for row in rows:
                weights = row.weights().unsqueeze(0)  # (1, G)
                state = stepper.start(weights)
                warm = row.primer_tokens[-PRIMER_MAX_TOKENS:] or [BOS]
                if len(warm) > 1:  # one pass over the primer; its last token is the first step
                    state = stepper.warm(torch.tensor([warm[:-1]]), weights, state)
                states.append(state)
                feed.append(warm[-1])
            state = stepper.concat(states)
        active = list(range(len(rows)))
        active_rows = rows
        temperatures = _Temperatures(active_rows)
        tokens = torch.tensor(feed)
        while active:
            with stepper.context():
                # Set again after every pause: another iterator may have used the engine meanwhile.
                stepper.set_genre(torch.stack([row.weights() for row in active_rows]))
                for _ in range(PROGRESS_EVERY):
                    logits, state = stepper.step(tokens, state)
                    sampled = self._sample(logits, active_rows, temperatures)
                    keep, genre_moved = [], False
                    for position, (row, token) in enumerate(zip(active_rows, sampled)):
                        genre_moved |= row.advance(token)
                        if not row.done:
                            keep.append(position)
                    if len(keep) < len(active):
                        active = [active[p] for p in keep]
                        active_rows = [rows[i] for i in active]
                        if not active:
                            break
                        state = stepper.select(state, torch.tensor(keep))
                        temperatures = _Temperatures(active_rows)
                        genre_moved = True
                    if genre_moved:
                        stepper.set_genre(torch.stack([row.weights() for row in active_rows]))
                    if len(active) == 1 == len(tokens):
                        tokens.fill_(active_rows[0].tokens[-1])  # (1,): no new tensor per step
                    else:
                        tokens = torch.tensor([rows[i].tokens[-1] for i in active])
            yield

    def _finish(self, row: _Row, seconds_taken: float) -> GeneratedPiece:
        """Decode, transpose and package one row."""
        request = row.request
        piece = tokens_to_piece(row.tokens)
        notes = [(n.start, n.pitch, n.duration) for n in piece.notes]
        if row.events and row.tokens[-1] == BAR:
            # Cut at a bar line: the last bar is complete, so nothing may sound past it.
            end = row.clock
            notes = [(start, pitch, min(duration, end - start)) for start, pitch, duration in notes if start < end]
        primer_end = row.start_clock if row.primer_tokens else 0
        meta = {"model": self.loaded.name, "genre": _weights_text(row.blend)}
        piece = make_piece(notes, piece.bars, primer_end, meta)
        transpose, detected, result = 0, None, None
        if request.key is not None:
            piece, transpose, detected, result = transpose_to_key(piece, request.key)
        main = self._main_genre(row.blend)
        return GeneratedPiece(
            piece=piece, request=request, tokens=row.tokens, tempo=row.tempo,
            program=int(request.program if request.program is not None else main.program),
            transpose=transpose, events=row.events, seconds_taken=seconds_taken,
            ended_naturally=row.ended_naturally, model_name=self.loaded.name, genre_weights=dict(row.blend),
            morph_weights=None if row.end_blend is None else dict(row.end_blend),
            key_detected=key_name(*detected) if detected else "", key_result=key_name(*result) if result else "",
            bars_generated=row.bars_done, primer_tokens=len(row.primer_tokens))

    def generate(self, request: GenerationRequest) -> Iterator[GenerationProgress]:
        """Sample one piece, yielding progress; the last item carries the result.

        Stop iterating (or ``.close()`` the iterator) to cancel. Raises ValueError for a bad request.
        """
        began = time.perf_counter()
        row = self._make_row(request)
        in_seconds = request.seconds is not None
        total = math.ceil(request.seconds) if in_seconds else request.bars
        unit = "s" if in_seconds else "bars"
        yield GenerationProgress(0, total, "warming up on the primer" if row.primer_tokens else "starting")
        for _ in self._run([row]):
            done = min(total, int(row.progress() * total))
            yield GenerationProgress(done, total, f"{done}/{total} {unit}, {row.events} events")
        result = self._finish(row, time.perf_counter() - began)
        ending = "ended naturally" if result.ended_naturally else "stopped at a bar line"
        if row.events >= request.max_events and not result.ended_naturally:
            ending = "stopped at max events"
        yield GenerationProgress(total, total, f"{result.events} events, {ending}", result)

    def generate_batch(self, requests: list[GenerationRequest]) -> list[GeneratedPiece]:
        """Sample several pieces in one batched pass (one step for all rows per token), in request order."""
        began = time.perf_counter()
        rows = []
        for number, request in enumerate(requests, start=1):
            try:
                rows.append(self._make_row(request))
            except ValueError as error:
                raise ValueError(f"request {number}: {error}") from None
        if not rows:
            return []
        for _ in self._run(rows):
            pass
        seconds = time.perf_counter() - began
        return [self._finish(row, seconds) for row in rows]

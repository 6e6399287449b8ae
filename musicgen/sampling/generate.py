"""Sampling new music from a trained model: requests in (``musicgen.sampling.request``), pieces out.

The sampler feeds one token at a time and carries the LSTM state (the prefix is never run
again). Each step: logits -> style guidance -> grammar and bar masks -> temperature -> top-k ->
top-p -> one draw from the request's own seeded ``torch.Generator`` (nothing global is touched,
so the same request gives a byte-identical MIDI file).

Metre, length and form (``request.plan_request``): the piece starts with BOS and the METER token
of its metre; the network may write a pickup before the first bar line; after that every bar has
exactly the metre's length (no SHIFT crosses a bar line, and the bar line is written when the
clock reaches it). A form's new parts are sampled in order; a repeated part is copied note for
note into the piece without passing through the network, which goes on from the part's first
time into the next new part: it hears each strain once, as the corpus writes a tune. The bar that
ends the last sampled part is announced with LAST_BAR, as in the training data, so the network
writes its cadence there; at the closing bar line it may choose EOS: ``ended_naturally`` records
whether it did (it is ended there in any case). A final bar the network would run on from, or that
does not end on the tonic of the piece's key, is sampled again (``piece_state.ENDING_TRIES``).
Every other part sampled anew ends with a PART_BAR bar, as strains do in the training data. ``max_events`` follows from the length; when it
still stops a piece early, ``stop_reason`` says so.

Style strength W (classifier-free-style guidance over genres): every row with W > 0 has a
companion row that sees the same tokens under the even blend of all genres; the row's logits
become ``l + W (l - l_even)``.

Genres: one key, a blend ``"bach=0.7,reel=0.3"``, or a morph: the weights move linearly from
the start blend to ``morph_to`` over the piece's bars.

Primer: its last ``PRIMER_MAX_TOKENS`` tokens warm the state; the piece holds all its notes, then
the new bars from ``piece.primer_end`` (the primer's next bar line), in the primer's metre.
Render choices that are not in the tokens: tempo, General MIDI program and key.
"""

from __future__ import annotations

import time
from typing import Iterator

import torch

from ..files.midi import midi_to_piece
from ..genres import Genre, main_genre, weights_text
from ..model.model_files import LoadedModel
from ..music.keys import NotesOutOfRange, estimate_key, key_name, shift_to_key, transpose_to_key
from ..music.meter import DANCE_METERS, Meter, bar_steps, meter_text, parse_meter
from ..music.piece import Piece, make_piece
from ..music.piece_shape import draw_bars, draw_key, draw_meter, length_range, meter_odds
from ..music.voices import POLYPHONIC_GENRES
from ..tokens.codec import (
    BAR,
    BOS,
    MAX_SHIFT,
    PITCH,
    SHIFT,
    VOCAB_SIZE,
    VOICE_RANGES,
    meter_token,
    piece_to_tokens,
    split_steps,
    tokens_to_piece,
)
from ..tokens.grammar import Follower, MaskKey, allowed
from .fast_step import FastStepper, PlainStepper
from .piece_state import PieceState
from .range_room import RangeRoom
from .request import CheckedRequest, GeneratedPiece, GenerationRequest, check_request, plan_request
from .token_draw import PickSettings, RankSettings, kept_tokens, pick, rank_settings

PRIMER_MAX_TOKENS = 1500  # the primer's last tokens warm the state (its notes are all kept)
PRECISIONS = ("int8", "fp32")
# int8 weights sample about 1.8x as fast and follow fp32 (benchmarks/sampling.py: same likeliest
# token >= 99.2% in every genre, KL <= 1.4e-4 nats/event; test NLL within 0.0005 nats/event; style
# critic recall within noise): the default. ``--precision fp32`` keeps the exact path.
DEFAULT_PRECISION = "int8"
PARTIAL_SORT = 32  # tokens sorted per step when they hold the top-p mass (else all are)
PROGRESS_EVERY = 32  # tokens sampled between progress reports (and cancel points)


def primer_prefix(primer: Piece, meter: Meter) -> list[int]:
    """The primer's tokens (no end), padded with rests to its next bar line, which is written:
    new music starts on a downbeat in the primer's metre."""
    tokens = piece_to_tokens(primer, add_end=False)
    follower = Follower()
    for token in tokens:
        follower.follow(token)
    if follower.meter is None:
        tokens.insert(1, meter_token(meter))
        follower.meter = meter
    if follower.last_bar < 0:  # no bar lines at all: the primer's end is the first one
        tokens.extend(SHIFT.token(k) for k in split_steps(max(0, primer.length - follower.clock), MAX_SHIFT))
        return tokens + [BAR]
    while follower.clock < primer.length or follower.last_bar != follower.clock:
        target = follower.next_bar_line
        for k in split_steps(target - follower.clock, MAX_SHIFT):
            tokens.append(SHIFT.token(k))
            follower.follow(tokens[-1])
        tokens.append(BAR)
        follower.follow(BAR)
    return tokens


class Generator:
    """Samples pieces from a loaded model; ``fast`` picks ``FastStepper`` over the plain loop and
    ``precision`` its int8 (default) or fp32 weights. Use one Generator per thread (iterators may
    interleave). ``int8=True/False`` is the older spelling of ``precision``."""

    def __init__(self, loaded: LoadedModel, fast: bool = True, int8: bool | None = None, precision: str | None = None):
        if precision is None:
            precision = DEFAULT_PRECISION if int8 is None else ("int8" if int8 else "fp32")
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision}")
        self.loaded = loaded
        self.genres: list[Genre] = list(loaded.genres)
        self.genre_keys = [g.key for g in self.genres]
        model = loaded.model.eval()
        self.precision = precision if fast else "fp32"
        self.stepper = FastStepper(model, int8=precision == "int8") if fast else PlainStepper(model)
        self._bias: dict[MaskKey, torch.Tensor] = {}  # mask rows (V,), built on first use
        # Metres and whole-bar counts of the training pieces per genre, from the model card.
        self.genre_meters: dict[str, dict[str, int]] = dict(loaded.card.get("meters") or {})
        self.genre_bar_counts: dict[str, dict[str, int]] = dict(loaded.card.get("bar_counts") or {})
        self.genre_keys_counts: dict[str, dict[str, int]] = dict(loaded.card.get("keys") or {})  # pieces per key
        # Per four-voice genre, where each voice sings ([low, high] per voice; dataset.sung_ranges)
        self.sung_ranges: dict[str, list] = dict(loaded.card.get("sung_ranges") or {})
        self.even_weights = torch.full((len(self.genres),), 1.0 / len(self.genres))  # (G,)

    def _drawn_key(self, piece: Piece, genre: str, seed: int, ranges) -> tuple[str | None, tuple[int, str]]:
        """A key for ``piece`` and its (tonic, mode) as written: one the genre's real pieces are in, with
        their odds (not where the network wandered); for four voices, among the keys that put the
        fewest notes outside the voices' sung ``ranges``."""
        detected = estimate_key(piece)
        counts = self.genre_keys_counts.get(genre, {})
        if not piece.voiced:
            return draw_key(counts, detected[1], seed), detected

        counter = NotesOutOfRange(piece, ranges)

        def notes_out(name: str) -> int:
            return counter(shift_to_key(piece, name, detected, counter)[0])

        return draw_key(counts, detected[1], seed, notes_out), detected

    # ----- settings -----------------------------------------------------------------------
    def default_meter(self, genre: str) -> Meter:
        """The genre's most common metre in the model's training data (4/4 if unknown)."""
        counts = self.genre_meters.get(genre) or {}
        if counts:
            return parse_meter(max(counts, key=counts.get))
        return DANCE_METERS.get(genre, (4, 4))

    def meter_odds(self, genre: str) -> dict[str, float]:
        """The metres a piece of ``genre`` without ``--meter`` may get, with their chances
        (``piece_shape.meter_odds``; the commonest metre alone for a model without counts)."""
        return meter_odds(self.genre_meters.get(genre) or {}) or {meter_text(self.default_meter(genre)): 1.0}

    def length_range(self, genre: str) -> tuple[int, int] | None:
        """(shortest, longest) whole bars of a through-composed ``genre`` piece without a length;
        None for a model without bar counts (then ``request.FREE_BARS``)."""
        return length_range(self.genre_bar_counts.get(genre) or {})

    def known_meters(self) -> list[str]:
        """Metres the model saw in training (any genre), most pieces first."""
        totals: dict[str, int] = {}
        for counts in self.genre_meters.values():
            for meter, count in counts.items():
                totals[meter] = totals.get(meter, 0) + count
        return sorted(totals, key=lambda m: -totals[m])

    def _meter_for(self, request: GenerationRequest, genre: str) -> Meter:
        if request.meter is None:
            drawn = draw_meter(self.genre_meters.get(genre) or {}, request.seed)
            return parse_meter(drawn) if drawn else self.default_meter(genre)
        meter = parse_meter(request.meter)
        known = self.known_meters()
        if known and meter_text(meter) not in known:
            raise ValueError(f"this model never saw metre {meter_text(meter)}; it knows {', '.join(known)}")
        return meter

    def check(self, request: GenerationRequest | CheckedRequest) -> CheckedRequest:
        """``request.check_request`` for this model's genres: the request checked once, its genres
        parsed, style strength and top-p left open (None) the main genre's (from the model card)."""
        return check_request(request, self.genres)

    def with_genre_defaults(self, request: GenerationRequest) -> GenerationRequest:
        """The request with style strength and top-p left open (None) the main genre's (``check``)."""
        return self.check(request).request

    def _make_row(self, request: GenerationRequest | CheckedRequest) -> PieceState:
        checked = self.check(request)
        request, genre = checked.request, checked.main
        tempo = float(request.tempo if request.tempo is not None else genre.tempo)
        meter = self._meter_for(request, genre.key)
        prefix = [BOS, meter_token(meter)]
        if request.primer is not None:
            primer = midi_to_piece(request.primer, voices=self.genre_voices(genre.key) > 1)
            primer_meter = primer.meter_at(primer.end) or meter
            if request.meter is not None and primer_meter != meter:
                raise ValueError(
                    f"the primer is in {meter_text(primer_meter)}; --meter {request.meter} does not fit it"
                )
            meter = primer_meter
            prefix = primer_prefix(primer, meter)
        free_bars = draw_bars(self.genre_bar_counts.get(genre.key) or {}, request.seed)
        plan = plan_request(request, genre.key, meter, tempo, free_bars)
        return PieceState(
            request,
            plan,
            blend=checked.blend.weights,
            end_blend=checked.morph_to.weights if checked.morph_to is not None else None,
            genre_keys=self.genre_keys,
            tempo=tempo,
            prefix=prefix,
            primed=request.primer is not None,
            voices=self.genre_voices(genre.key),
            room=self._range_room(genre.key) if request.primer is None else None,
        )

    def _range_room(self, genre: str) -> RangeRoom | None:
        """The voices' room in ``genre``'s sung ranges for a piece moved to a key afterwards (None for
        one-line styles and models without sung ranges)."""
        ranges = self.sung_ranges.get(genre)
        return RangeRoom.of(ranges) if ranges and self.genre_voices(genre) > 1 else None

    def genre_voices(self, genre: str) -> int:
        """Voices a piece of ``genre`` is written in: 4 for chorales and Palestrina (and a user's
        genre whose training pieces mostly had several voices), else 1."""
        counts = self.loaded.card.get("voices", {})
        return int(counts.get(genre, POLYPHONIC_GENRES.get(genre, 1)))

    # ----- sampling -------------------------------------------------------------------------
    def _mask(self, key: MaskKey) -> torch.Tensor:
        """Additive mask row (V,): 0 where allowed, -inf elsewhere (cached per key)."""
        row = self._bias.get(key)
        if row is None:
            row = torch.zeros(VOCAB_SIZE).masked_fill_(torch.from_numpy(~allowed(key)), float("-inf"))
            self._bias[key] = row
        return row

    def _draw_settings(self, rows: list[PieceState], partners: list[int]) -> tuple[RankSettings, PickSettings]:
        """What the draw needs besides the logits (``token_draw``), from each row's
        ``SamplingSettings`` and position: for ``rank`` the masks, guidance (none in the final bar),
        chords downwards and temperature; for ``pick`` top-k, top-p and a uniform number per row
        (-1 where the next token is forced)."""
        settings = [row.sampling for row in rows]
        top_ks, top_ps = [s.top_k for s in settings], [s.top_p for s in settings]
        ranking = rank_settings(
            masks=[self._mask(row.mask_key()) for row in rows],
            partners=partners,
            scales=[0.0 if rows[i].in_ending else settings[i].style_strength for i in partners],
            chord_lows=[row.follower.chord_low for row in rows],
            pitch_stop=PITCH.stop,
            temperatures=[s.temperature for s in settings],
            partial_sort=kept_tokens(top_ks, top_ps, PARTIAL_SORT, VOCAB_SIZE),
        )
        picking = PickSettings(top_ks, top_ps, [row.uniform() if row.needs_sample else -1.0 for row in rows])
        return ranking, picking

    def _layout(self, rows: list[PieceState]) -> tuple[torch.Tensor, list[int]]:
        """Batch layout: the rows, then one companion per row with style strength. Returns the
        genre weights (B', G) and the row position of each companion."""
        partners = [i for i, row in enumerate(rows) if row.companion]
        weights = [row.weights() for row in rows] + [self.even_weights] * len(partners)
        return torch.stack(weights), partners

    def _keep_or_restore(self, state, active: list[PieceState], partners: list[int]):
        """Keep the network state of rows that just wrote LAST_BAR; restore it for rows whose
        final bar is sampled again (and the same for their style companions)."""
        for position, row in enumerate(active):
            if not (row.snapshot_due or row.rewind_due):
                continue
            rows_of = [position] + [len(active) + k for k, i in enumerate(partners) if i == position]
            if row.snapshot_due:
                row.keep_network_state([self.stepper.select(state, torch.tensor([r])) for r in rows_of])
            if row.rewind_due:
                for r, saved in zip(rows_of, row.network_state_to_restore()):
                    self.stepper.put(state, r, saved)
        return state

    def _warm_start(self, warm: tuple, weights: torch.Tensor):
        """The network state of one row (weights (1, G)) after the tokens ``warm`` (one pass)."""
        state = self.stepper.start(weights)
        if warm:
            state = self.stepper.warm(torch.tensor([warm]), weights, state)
        return state

    def _run(self, rows: list[PieceState]) -> Iterator[None]:
        """Sample all rows together, one batched step per token; yields every PROGRESS_EVERY steps."""
        stepper = self.stepper
        states = []
        with stepper.context():
            starts = [(row, row.weights()) for row in rows]
            starts += [(row, self.even_weights) for row in rows if row.companion]
            # Rows of one batch mostly share their prefix (BOS, metre) and genre: each distinct
            # start is run once, alone, as it would be for a piece sampled by itself.
            warmed: dict[tuple, tuple] = {}
            for row, weights in starts:
                warm = tuple(row.tokens[-PRIMER_MAX_TOKENS:-1])  # the prefix's last token is the first step
                key = (warm, tuple(weights.tolist()))
                if key not in warmed:
                    warmed[key] = self._warm_start(warm, weights.unsqueeze(0))
                states.append(warmed[key])
            state = stepper.concat(states)  # (a copy: rows that shared a start share no tensor)
        active = list(rows)
        weights, partners = self._layout(active)
        while active:
            with stepper.context():
                # Set again after every pause: another iterator may have used the engine meanwhile.
                stepper.set_genre(weights)
                for _ in range(PROGRESS_EVERY):
                    fed = [row.tokens[-1] for row in active]
                    ranking, picking = self._draw_settings(active, partners)
                    ranked, state = stepper.step_ranked(fed + [fed[i] for i in partners], state, ranking)
                    sampled = pick(ranked, picking)
                    genre_moved = False
                    for row, token in zip(active, sampled):
                        genre_moved |= row.advance(None if token < 0 else token)
                    state = self._keep_or_restore(state, active, partners)
                    if any(row.done for row in active):
                        keep = [i for i, row in enumerate(active) if not row.done]
                        keep_partners = [len(active) + k for k, i in enumerate(partners) if not active[i].done]
                        active = [active[i] for i in keep]
                        if not active:
                            break
                        state = stepper.select(state, torch.tensor(keep + keep_partners))
                        genre_moved = True
                    if genre_moved:
                        weights, partners = self._layout(active)
                        stepper.set_genre(weights)
            yield

    def _finish(self, row: PieceState, seconds_taken: float) -> GeneratedPiece:
        """Decode, transpose and package one row."""
        request, plan = row.request, row.plan
        piece = tokens_to_piece(row.tokens)
        end = row.follower.last_bar if row.done and not row.stop_reason else None
        notes = [(n.start, n.pitch, n.duration, n.voice) for n in piece.notes]
        if end is not None and end > row.start_clock:  # nothing sounds past the closing bar line
            notes = [(s, p, min(d, end - s), v) for s, p, d, v in notes if s < end]
        primer_end = row.start_clock if row.primed else 0
        parts = []
        for index, (step, _) in enumerate(row.part_starts[: plan.bars // plan.part_bars]):
            stop = row.part_starts[index + 1][0] if index + 1 < len(row.part_starts) else row.follower.clock
            parts.append({"label": plan.parts[index], "start": step, "end": stop})
        main = self.genres[self.genre_keys.index(main_genre(row.blend, self.genre_keys))]
        meta = {"model": self.loaded.name, "genre": weights_text(row.blend), "form": plan.form, "parts": parts}
        piece = make_piece(notes, piece.bars, primer_end, meta, piece.meters, piece.last_bars)
        transpose, detected, result = 0, None, None
        key = request.key
        ranges = self.sung_ranges.get(main.key, VOICE_RANGES)
        if key is None and row.kept is None and not row.primed:  # a harmonised melody or a primer keeps its key
            key, detected = self._drawn_key(piece, main.key, request.seed, ranges)
        if key is not None:
            piece, transpose, detected, result = transpose_to_key(piece, key, detected, ranges)
        return GeneratedPiece(
            piece=piece,
            request=request,
            tokens=row.tokens,
            tempo=row.tempo,
            program=int(request.program if request.program is not None else main.program),
            transpose=transpose,
            events=row.events,
            seconds_taken=seconds_taken,
            ended_naturally=row.ended_naturally,
            model_name=self.loaded.name,
            genre_weights=dict(row.blend),
            morph_weights=None if row.end_blend is None else dict(row.end_blend),
            key_detected=key_name(*detected) if detected else "",
            key_result=key_name(*result) if result else "",
            bars_generated=max(0, min(row.bars_begun - 1, plan.bars)),
            bars_requested=plan.bars,
            primer_tokens=row.prefix_tokens if row.primed else 0,
            meter=meter_text(plan.meter),
            form=plan.form,
            parts=parts,
            stop_reason=row.stop_reason,
            ending_tries=row.ending_tries,
            precision=self.precision,
        )

    def generate(self, request: GenerationRequest | CheckedRequest) -> Iterator:
        """Sample one piece, yielding ``Progress`` in bars; returns the ``GeneratedPiece``
        (the generator's return value; ``run_job`` and the GUI worker deliver it).

        Stop iterating (or ``.close()`` the iterator) to cancel. Raises ValueError for a bad request.
        """
        from ..progress import Progress

        began = time.perf_counter()
        row = self._make_row(request)
        total = row.plan.bars
        yield Progress(0, total, "warming up on the primer" if row.primed else "starting")
        done = 0
        for _ in self._run([row]):
            done = max(done, min(total, int(row.progress() * total)))  # an ending sampled again never goes back
            yield Progress(done, total, f"bar {done}/{total}, {row.events} events")
        result = self._finish(row, time.perf_counter() - began)
        ending = "ended by itself" if result.ended_naturally else "ended at its closing bar line"
        if result.stop_reason:
            ending = result.stop_reason
        yield Progress(
            total, total, f"{result.bars_generated} bars of {result.meter}, {result.events} events, {ending}", result
        )
        return result

    def sample_rows(self, rows: list[PieceState]) -> list[GeneratedPiece]:
        """Sample prepared rows together (see ``musicgen.sampling.regenerate``); pieces in row order."""
        began = time.perf_counter()
        for _ in self._run(rows):
            pass
        seconds = time.perf_counter() - began
        return [self._finish(row, seconds) for row in rows]

    def generate_batch(self, requests: list[GenerationRequest | CheckedRequest]) -> list[GeneratedPiece]:
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


def generate_piece(generator: Generator, request: GenerationRequest | CheckedRequest) -> GeneratedPiece:
    """Run ``generator.generate`` to the end and return its piece (no progress shown)."""
    result = None
    for progress in generator.generate(request):
        result = progress.result or result
    return result


__all__ = ["Generator", "GenerationRequest", "GeneratedPiece", "generate_piece", "bar_steps"]

"""What a user asks for and what they get back: ``GenerationRequest`` and ``GeneratedPiece``.

Torch-free, so the CLI, the batch runner, the GUI and the sampler share one definition of every
setting and its checks without loading the network (the limits: ``musicgen.limits``). A request is
checked once, where it comes in, for a model's genres: ``check_request`` parses its genre text into
a ``genres.Blend``, fills in the settings it leaves to the genre and checks every setting; the
``CheckedRequest`` it returns (with the ``SamplingSettings`` the draw uses) is what the sampler
takes without checking again. ``validate_request`` checks a request without a model's genre defaults.

Length and form: a piece is ``bars`` whole bars of its metre (plus a pickup, if the model writes
one). A form such as ``"AABB"`` splits it into parts of ``part_bars`` bars; each new letter is
sampled, each repeated letter repeats its part note for note. ``None`` settings take the genre's
defaults: a metre and a through-composed length drawn for the seed from the genre's training pieces
(``piece_shape``, by the sampler; ``FREE_BARS`` for a model without those counts), AABB in 8-bar
parts for the dance genres (Irish reels, jigs, hornpipes and the Scottish tunes, whose strains the
corpus writes with repeat signs), through-composed (``"free"``) for the others.
"""

from __future__ import annotations

import math
import os
import re
import stat
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from ..genres import Blend, Genre, parse_blend, parse_genre_spec
from ..limits import (
    MAX_BARS,
    MAX_EVENTS,
    MAX_PROGRAM,
    MAX_SECONDS,
    MAX_SEED,
    MAX_STYLE_STRENGTH,
    MAX_TEMPERATURE,
    MAX_TEMPO,
    MIN_TEMPO,
)
from ..music.keys import parse_key
from ..music.meter import Meter, bars_for_seconds, parse_meter
from ..music.piece import STEPS_PER_BEAT, Piece

DEFAULT_FREE_BARS = 16  # a through-composed piece without a length
DEFAULT_PART_BARS = 8  # a strain of a dance tune
FREE = "free"
FORMS = ("AABB", "AB", "ABAC", FREE)  # offered in menus; any letters A-H work
MAX_FORM_PARTS = 16  # letters in a form
SHOWN_NAME = 40  # characters of an over-long file name shown in a message
DANCE_FORM = "AABB"
# 321 of 400 Scottish training tunes (Aird) have two strains of 8 bars, like the Irish dances.
DANCE_GENRES = ("reel", "jig", "hornpipe", "scottish")
# Through-composed lengths for a model card without bar counts: the median bar count of each
# genre's training pieces in data/corpus (bach 13, quartiles 11-16; german 12, 8-16; chinese 16,
# 11-24; palestrina 38, 29-60).
FREE_BARS = {"bach": 13, "german": 12, "chinese": 16, "palestrina": 38}
EVENTS_PER_BEAT = 48  # generous cap: a 4-voice chorale uses ~12 tokens per beat
EVENT_MARGIN = 500  # tokens on top (the pickup, endings sampled again)


@dataclass
class GenerationRequest:
    """Everything that decides a generated piece (see the module docstring)."""

    genre: str = ""  # "reel", a blend "bach=0.7,reel=0.3", or "" = the model's first genre
    morph_to: str | None = None  # genre/blend the piece moves to by its end (morph)
    bars: int | None = None  # whole bars; None = the form's length
    seconds: float | None = None  # length in seconds at `tempo`, rounded to whole bars (wins over bars)
    meter: str | None = None  # "6/8"; None = the genre's own, or one drawn for the seed (piece_shape)
    form: str | None = None  # "AABB", "AB", "ABAC", "free"; None = genre default
    part_bars: int | None = None  # bars per part of a form; None = bars / parts, or 8
    tempo: float | None = None  # quarter notes per minute; None = genre default (Genre.tempo)
    key: str | None = None  # tonic to transpose the result to: "C", "F#m", "Bb"...; None = as generated
    program: int | None = None  # General MIDI program 0..127; None = genre default (Genre.program)
    temperature: float = 1.0
    top_k: int = 0  # 0 = off
    top_p: float | None = None  # 1.0 = off; None = the genre's default (Genre.top_p)
    # Genre guidance W: logits + W (logits - logits of the even blend); None = the genre's default.
    style_strength: float | None = None
    seed: int = 0
    primer: str | None = None  # MIDI file to continue
    max_events: int | None = None  # cap on sampled tokens; None = from the length

    def with_seed(self, seed: int) -> GenerationRequest:
        """The same request with another seed (a candidate, a resample)."""
        return replace(self, seed=seed)


@dataclass(frozen=True)
class SamplingSettings:
    """How a piece's tokens are drawn, as one typed value: built once from a request whose genre
    defaults are filled in (``with_genre_defaults``), kept by the piece's sampling row and passed on
    whole to the draw (``token_draw.RankSettings`` and ``PickSettings``, per step for the batch)."""

    temperature: float
    top_k: int  # 0 = off
    top_p: float  # 1.0 = off
    style_strength: float  # genre guidance W; 0 = no style companion

    @classmethod
    def of(cls, request: GenerationRequest) -> SamplingSettings:
        """The settings of a resolved request (ValueError when top-p or style strength is still open)."""
        if request.top_p is None or request.style_strength is None:
            raise ValueError("top-p and style strength are open: resolve the request (with_genre_defaults) first")
        return cls(float(request.temperature), int(request.top_k), float(request.top_p), float(request.style_strength))


@dataclass(frozen=True)
class Plan:
    """A request's length and form made concrete: ``parts`` letters, ``part_bars`` bars each."""

    meter: Meter
    form: str  # "AABB", or "free"
    parts: str  # letters of the parts in order ("A" for a free piece)
    part_bars: int
    max_events: int

    @property
    def bars(self) -> int:
        """Whole bars of the piece (after the pickup)."""
        return len(self.parts) * self.part_bars


def parse_form(text: str) -> str:
    """``"aabb"`` -> ``"AABB"``; ``"free"`` stays; ValueError for anything else."""
    form = str(text).strip()
    if form.lower() in (FREE, "through", "through-composed"):
        return FREE
    if re.fullmatch(r"[A-Ha-h]+", form) and len(form) > MAX_FORM_PARTS:
        raise ValueError(f"form '{text}' has {len(form)} parts; a form has at most {MAX_FORM_PARTS}")
    if not re.fullmatch(rf"[A-Ha-h]{{1,{MAX_FORM_PARTS}}}", form):
        raise ValueError(f"form '{text}' must be letters A-H such as AABB, AB, ABAC, or 'free'")
    form = form.upper()
    if form[0] != "A":
        raise ValueError(f"form '{text}' must start with part A")
    return form


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_request(request: GenerationRequest, genre_keys: list[str]) -> None:
    """Check every setting; raise ValueError with one line naming the first problem."""
    parse_genre_spec(request.genre, genre_keys)
    if request.morph_to is not None:
        parse_genre_spec(request.morph_to, genre_keys)
    _check_settings(request)


def _check_seed(seed) -> None:
    if not _is_whole(seed) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be a whole number from 0 to {MAX_SEED}, got {seed}")


def _check_settings(r: GenerationRequest) -> None:
    """``validate_request`` of every setting but the genres."""
    if not _is_number(r.temperature) or not 0 < r.temperature <= MAX_TEMPERATURE:
        raise ValueError(f"temperature must be above 0 and at most {MAX_TEMPERATURE:g}, got {r.temperature}")
    if r.top_p is not None and (not _is_number(r.top_p) or not 0 < r.top_p <= 1):
        raise ValueError(f"top-p must be above 0 and at most 1, got {r.top_p}")
    if not _is_whole(r.top_k) or r.top_k < 0:
        raise ValueError(f"top-k must be a whole number, 0 (off) or more, got {r.top_k}")
    if r.style_strength is not None and (
        not _is_number(r.style_strength) or not 0 <= r.style_strength <= MAX_STYLE_STRENGTH
    ):
        raise ValueError(f"style strength must be from 0 to {MAX_STYLE_STRENGTH:g}, got {r.style_strength}")
    _check_length(r)
    if r.tempo is not None and (not _is_number(r.tempo) or not MIN_TEMPO <= r.tempo <= MAX_TEMPO):
        raise ValueError(f"tempo must be from {MIN_TEMPO:g} to {MAX_TEMPO:g} quarter notes per minute, got {r.tempo}")
    if r.key is not None:
        parse_key(r.key)
    if r.program is not None and (not _is_whole(r.program) or not 0 <= r.program <= MAX_PROGRAM):
        raise ValueError(f"instrument program must be a whole number from 0 to {MAX_PROGRAM}, got {r.program}")
    _check_seed(r.seed)
    if r.primer is not None:
        check_primer(r.primer)
    if r.primer is not None and r.form is not None and parse_form(r.form) != FREE:
        raise ValueError("a continued primer is through-composed: leave --form out (or use 'free')")


def _check_length(r: GenerationRequest) -> None:
    """The settings of a request's length and form: seconds, bars, part bars, metre, form, events."""
    if r.seconds is not None and (not _is_number(r.seconds) or not 0 < r.seconds <= MAX_SECONDS):
        raise ValueError(f"length in seconds must be above 0 and at most {MAX_SECONDS:g}, got {r.seconds}")
    if r.bars is not None and (not _is_whole(r.bars) or not 1 <= r.bars <= MAX_BARS):
        raise ValueError(f"length in bars must be a whole number from 1 to {MAX_BARS}, got {r.bars}")
    if r.part_bars is not None and (not _is_whole(r.part_bars) or not 1 <= r.part_bars <= MAX_BARS):
        raise ValueError(f"bars per part must be a whole number from 1 to {MAX_BARS}, got {r.part_bars}")
    if r.meter is not None:
        parse_meter(r.meter)
    if r.form is not None:
        parse_form(r.form)
    if r.max_events is not None and (not _is_whole(r.max_events) or not 1 <= r.max_events <= MAX_EVENTS):
        raise ValueError(f"max events must be a whole number from 1 to {MAX_EVENTS}, got {r.max_events}")


def check_primer(path) -> None:
    """ValueError unless ``path`` is a file that can be opened (it is read as MIDI later)."""
    name = Path(path).name
    shown = path if len(name) <= SHOWN_NAME * 2 else name[:SHOWN_NAME] + "..."
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        reason = "no such file" if isinstance(error, FileNotFoundError) else error.strerror or str(error)
        raise ValueError(f"primer {shown}: {reason}") from None
    if stat.S_ISDIR(mode):
        raise ValueError(f"primer {shown} is a folder; give a MIDI file")
    if not stat.S_ISREG(mode):
        raise ValueError(f"primer {shown} is not a regular file; give a MIDI file")


@dataclass(frozen=True)
class CheckedRequest:
    """A request checked once for a model's genres (``check_request``), as the sampler takes it:
    ``request`` with the settings it left open taken from its main genre, its genre text and morph
    parsed (``blend``, ``morph_to``), its ``main`` genre and its ``sampling`` settings. ``seed``,
    ``genre`` (the text) and ``with_seed`` read as a ``GenerationRequest``'s do."""

    request: GenerationRequest
    blend: Blend
    morph_to: Blend | None
    main: Genre  # the start blend's main genre
    sampling: SamplingSettings
    genre_keys: tuple[str, ...]  # the genres it was checked for

    @property
    def seed(self) -> int:
        return self.request.seed

    @property
    def genre(self) -> str:
        """The request's genre text, as written."""
        return self.request.genre

    def with_seed(self, seed: int) -> CheckedRequest:
        """The same checked request with another seed (a candidate, a resample); ValueError for a bad seed."""
        _check_seed(seed)
        return replace(self, request=replace(self.request, seed=seed))


def check_request(request: GenerationRequest | CheckedRequest, genres: list[Genre]) -> CheckedRequest:
    """Check ``request`` once for a model's ``genres``: its genre and morph parsed, style strength
    and top-p left open (None) taken from its main genre (values the model card holds, measured per
    genre), every setting checked. A request already checked for these genres is returned as it is.
    ValueError with one line naming the first problem."""
    keys = tuple(genre.key for genre in genres)
    if isinstance(request, CheckedRequest):
        if request.genre_keys == keys:
            return request
        request = request.request
    blend = parse_blend(request.genre, list(keys))
    morph_to = parse_blend(request.morph_to, list(keys)) if request.morph_to is not None else None
    main = genres[keys.index(blend.main)]
    resolved = replace(
        request,
        style_strength=main.style_strength if request.style_strength is None else request.style_strength,
        top_p=main.top_p if request.top_p is None else request.top_p,
    )
    _check_settings(resolved)  # every setting, the card's values among them
    return CheckedRequest(resolved, blend, morph_to, main, SamplingSettings.of(resolved), keys)


def with_genre_defaults(request: GenerationRequest, genres: list) -> GenerationRequest:
    """The request with the sampling settings it leaves open (None) taken from its main genre
    (``check_request``'s request). ValueError for a bad request."""
    return check_request(request, genres).request


def plan_request(
    request: GenerationRequest, genre: str, meter: Meter, tempo: float, free_bars: int | None = None
) -> Plan:
    """The concrete length and form of a valid request for main genre ``genre`` in ``meter``;
    ``free_bars``: the length of a through-composed piece the request gives none (None =
    ``FREE_BARS``).

    ValueError when bars, form and part bars contradict each other.
    """
    r = request
    asked_form = parse_form(r.form) if r.form is not None else None
    form = asked_form or (DANCE_FORM if genre in DANCE_GENRES and r.primer is None else FREE)
    bars = bars_for_seconds(r.seconds, tempo, meter) if r.seconds is not None else r.bars
    if form == FREE:
        total = bars or r.part_bars or free_bars or FREE_BARS.get(genre, DEFAULT_FREE_BARS)
        parts, part_bars = "A", total
    else:
        parts = form
        if r.part_bars is not None:
            part_bars = r.part_bars
            if bars is not None and bars != len(parts) * part_bars and r.seconds is None:
                raise ValueError(
                    f"--bars {bars} does not fit form {form} with {part_bars}-bar parts ({len(parts) * part_bars} bars)"
                )
        elif bars is None:
            part_bars = DEFAULT_PART_BARS
        elif bars % len(parts) == 0:
            part_bars = bars // len(parts)
        elif asked_form is None:  # the genre's default form does not fit: through-composed
            form, parts, part_bars = FREE, "A", bars
        else:
            raise ValueError(f"{bars} bars cannot be split into the {len(parts)} equal parts of form {form}")
    if len(parts) * part_bars > MAX_BARS:
        raise ValueError(f"the piece would have {len(parts) * part_bars} bars; at most {MAX_BARS}")
    max_events = r.max_events or event_cap(len(parts) * part_bars, meter)
    return Plan(meter, form, parts, part_bars, max_events)


def piece_file_name(genre: str, seed: int, suffix: str = ".mid") -> str:
    """The one file-name scheme of musicgen: ``reel-seed7.mid``; a blend ``bach=0.7,reel=0.3``
    becomes ``bach0.7+reel0.3-seed7.mid``."""
    safe = str(genre).replace("=", "").replace(",", "+").replace(" ", "")
    safe = re.sub(r"[^A-Za-z0-9_.+-]", "_", safe) or "piece"
    return f"{safe}-seed{seed}{suffix}"


def event_cap(bars: int, meter: Meter) -> int:
    """The most tokens sampled for ``bars`` bars of ``meter`` (EVENTS_PER_BEAT a beat, and a margin)."""
    beats = bars * meter[0] * 4 / meter[1]
    return min(MAX_EVENTS, int(EVENT_MARGIN + beats * EVENTS_PER_BEAT))


@dataclass
class GeneratedPiece:
    """A finished piece with the settings that made it."""

    piece: Piece  # final notes (after key transposition); piece.primer_end > 0 with a primer
    request: GenerationRequest
    tokens: list[int]  # primer tokens (if any), then the sampled (and repeated) ones
    tempo: float  # quarter notes per minute
    program: int  # General MIDI program 0..127
    transpose: int  # semitones applied for `key`
    events: int  # tokens sampled (primer and repeated parts excluded)
    seconds_taken: float  # wall-clock time of sampling
    ended_naturally: bool  # the network chose EOS at the closing bar line of its last part
    model_name: str = ""
    genre_weights: dict = field(default_factory=dict)  # start blend, normalised
    morph_weights: dict | None = None  # end blend of a morph
    key_detected: str = ""  # key of the piece as generated, e.g. "A minor"
    key_result: str = ""  # key after transposition
    bars_generated: int = 0  # whole bars of new music
    bars_requested: int = 0  # whole bars the plan asked for
    primer_tokens: int = 0  # how many of `tokens` come from the primer
    meter: str = ""  # "6/8"
    form: str = ""  # "AABB" or "free"
    parts: list = field(default_factory=list)  # [{"label": "A", "start": step, "end": step}, ...]
    stop_reason: str = ""  # "" when the piece is complete, else why it stopped early
    style_fit: float | None = None  # the style critic's score, when one was asked for
    precision: str = "fp32"  # the sampling engine's weights: "int8" or "fp32"
    ending_tries: int = 1  # final bars sampled until the network chose to end on the tonic (at most ENDING_TRIES)

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds_taken if self.seconds_taken > 0 else 0.0

    @property
    def duration_seconds(self) -> float:
        """Length of the piece at ``tempo``, in seconds."""
        return self.piece.end * 60.0 / self.tempo / STEPS_PER_BEAT

    @property
    def complete(self) -> bool:
        """True when the piece has every bar it was asked for."""
        return not self.stop_reason

    @property
    def voices(self) -> int:
        """Voices (MIDI tracks, score parts): 4 for a piece whose notes carry voices (codec 4's
        four-voice styles, a user's among them), else those of the main genre (1 for a tune)."""
        from ..music.voices import voices_for_genre

        if self.piece.voiced:
            return 4
        weights = self.genre_weights or {}
        return voices_for_genre(max(weights, key=weights.get) if weights else self.request.genre)

    def to_pretty_midi(self, flat_velocity: bool = False):
        """The piece as a ``pretty_midi.PrettyMIDI`` at its tempo and instrument, one track per
        voice, velocities shaped by metre and phrase (all 80 with ``flat_velocity``)."""
        from ..files.midi import piece_to_midi

        return piece_to_midi(
            self.piece, tempo=self.tempo, program=self.program, voices=self.voices, shaped=not flat_velocity
        )

    def write_midi(self, path, flat_velocity: bool = False) -> Path:
        """Write the piece as a standard MIDI file (atomically); tracks and velocities as in
        ``to_pretty_midi``."""
        from ..files.writing import atomic_write_bytes

        pm = self.to_pretty_midi(flat_velocity)
        return atomic_write_bytes(path, lambda temp: pm.write(temp))

    def settings_dict(self) -> dict:
        """Every setting, the outcome and the note count, as JSON-able values."""
        return {
            "model": self.model_name,
            "request": asdict(self.request),
            "genre_weights": dict(self.genre_weights),
            "morph_weights": self.morph_weights,
            "tempo": self.tempo,
            "program": self.program,
            "transpose": self.transpose,
            "key_detected": self.key_detected,
            "key_result": self.key_result,
            "meter": self.meter,
            "form": self.form,
            "parts": list(self.parts),
            "events": self.events,
            "seconds_taken": round(self.seconds_taken, 3),
            "events_per_second": round(self.events_per_second, 1),
            "ended_naturally": self.ended_naturally,
            "notes": len(self.piece.notes),
            "bars_generated": self.bars_generated,
            "bars_requested": self.bars_requested,
            "pickup": self.piece.pickup,
            "stop_reason": self.stop_reason,
            "style_fit": self.style_fit,
            "ending_tries": self.ending_tries,
            "precision": self.precision,
            "primer_end": self.piece.primer_end,
            "duration_seconds": round(self.duration_seconds, 3),
        }

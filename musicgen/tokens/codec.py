"""Event codec: a Piece <-> a list of integer tokens.

Scheme: TSD-like (time-shift, pitch, duration) with bar markers, chosen over
Performance-RNN's NOTE_ON/NOTE_OFF/TIME_SHIFT because

* a note is one PITCH token followed by its DURATION token(s), so a sampled sequence can
  never leave a note dangling (no NOTE_OFF that the network may forget), and
* polyphony costs no extra time tokens: notes of a chord share one onset, which keeps
  four-voice chorales only ~2.4 tokens per note (NOTE_ON/OFF needs ~3-4).

Token stream (codec version 4)::

    BOS METER_6/8 [pickup notes] BAR [SHIFT k]... PITCH p DUR d [DUR d2]... PITCH q DUR e ...
        BAR [METER_m] ... LAST_BAR ... BAR EOS

* METER m gives the time signature (one of ``meter.METERS``): right after BOS, and after the
  BAR where it changes.
* Notes before the first BAR are a pickup (a partial bar 0); bar 1 starts at the first BAR.
* PART_BAR marks a bar line that starts the last bar of an inner part (a strain, ending before a
  repeat sign or a double bar of the source); LAST_BAR the one that starts the piece's final bar.
  So the network learns to write a cadence there, and knows which ending is the last one. The BAR
  after the final bar closes the piece and EOS follows.
* SHIFT k advances the clock by k steps (k = 1..MAX_SHIFT); longer gaps use several SHIFTs.
* PITCH p starts a note at the current time; the DUR tokens that follow add up to its length
  (d = 1..MAX_DURATION steps each), so any length is exact.
* Voices (version 4): in a four-voice piece (chorales, Palestrina) every note is
  ``VOICE v PITCH p DUR d``, v = 0..3 for soprano, alto, tenor, bass, and the notes starting
  together are written outer voices first: soprano, bass, alto, tenor (TonicNet's order: the
  melody, then the line that carries the harmony, then the inner voices that fill it). The
  network so knows which voice moves, and writes the bass against the soprano it has just heard.
  A one-line tune's notes have no VOICE token: a bare PITCH is voice 0, one note at a time.
  Version 3 had no voices: notes starting together were written top down and given staves after.
* BAR marks a bar line at the current time. It does not move the clock.
* Times are in steps of 1/STEPS_PER_BEAT quarter note: tempo is not part of the tokens.

Decoding accepts any token sequence: a PITCH without DUR is dropped, stray DURs are ignored,
everything after EOS is ignored, and overlapping notes of one pitch are cut (``make_piece``),
so every sequence decodes to a valid piece.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from ..music.meter import METERS, known_meter
from ..music.piece import MAX_PITCH, MAX_VOICES, MIN_PITCH, STEPS_PER_BEAT, Note, Piece, make_piece

CODEC_VERSION = 4
MAX_SHIFT = 4 * STEPS_PER_BEAT  # one whole note
MAX_DURATION = 8 * STEPS_PER_BEAT  # two whole notes

PAD, BOS, EOS, BAR, LAST_BAR, PART_BAR = 0, 1, 2, 3, 4, 5
BAR_TOKENS = (BAR, PART_BAR, LAST_BAR)  # every token that writes a bar line


@dataclass(frozen=True)
class TokenRange:
    """A block of the vocabulary: tokens ``offset .. offset + (max - min)`` mean values min..max."""

    kind: str
    min: int
    max: int
    offset: int
    stop: int = field(init=False)  # first token after this block (stored: the sampler asks per token)

    def __post_init__(self) -> None:
        object.__setattr__(self, "stop", self.offset + self.max - self.min + 1)

    def __contains__(self, token: int) -> bool:
        return self.offset <= token < self.stop

    def token(self, value: int) -> int:
        assert self.min <= value <= self.max, (self.kind, value)
        return self.offset + value - self.min

    def value(self, token: int) -> int:
        return token - self.offset + self.min


SPECIAL = ("PAD", "BOS", "EOS", "BAR", "LAST_BAR", "PART_BAR")
METER = TokenRange("METER", 0, len(METERS) - 1, len(SPECIAL))  # value = index into METERS
SHIFT = TokenRange("SHIFT", 1, MAX_SHIFT, METER.stop)
PITCH = TokenRange("PITCH", MIN_PITCH, MAX_PITCH, SHIFT.stop)
DUR = TokenRange("DUR", 1, MAX_DURATION, PITCH.stop)
VOICE = TokenRange("VOICE", 0, MAX_VOICES - 1, DUR.stop)  # value = voice: 0 soprano .. 3 bass
VOCAB_SIZE = VOICE.stop

VOICE_NAMES = ("soprano", "alto", "tenor", "bass")
VOICE_ORDER = (0, 3, 1, 2)  # voices starting together are written soprano, bass, alto, tenor
# Range of each voice (MIDI pitches, lowest and highest), as the corpus's chorales and Palestrina
# movements sing them (``musicgen data build`` reports the measured ranges); a grammar rule: a
# sampled voice never leaves it, and training transposes a four-voice piece only within it.
VOICE_RANGES = ((55, 81), (52, 77), (46, 72), (36, 67))


def codec_params() -> dict:
    """Parameters that a model or dataset must share with this codec to be compatible."""
    return {
        "codec_version": CODEC_VERSION,
        "steps_per_beat": STEPS_PER_BEAT,
        "vocab_size": VOCAB_SIZE,
        "max_shift": MAX_SHIFT,
        "max_duration": MAX_DURATION,
        "min_pitch": MIN_PITCH,
        "max_pitch": MAX_PITCH,
        "meters": [f"{n}/{d}" for n, d in METERS],
        "voice_ranges": [list(r) for r in VOICE_RANGES],
    }


def codec_mismatch(stored: dict) -> str:
    """One line naming how a model's (or dataset's) codec differs from this musicgen's."""
    ours = codec_params()
    if stored.get("codec_version") != ours["codec_version"]:
        return (
            f"made with event codec version {stored.get('codec_version')}, this musicgen reads codec "
            f"version {ours['codec_version']}; retrain it (musicgen train) or use the musicgen it was made with"
        )
    fields = [
        f"{name} {stored.get(name)} (expected {value})" for name, value in ours.items() if stored.get(name) != value
    ]
    return f"event codec version {ours['codec_version']} but different settings: {'; '.join(fields)}"


def meter_token(meter: tuple[int, int]) -> int:
    """The METER token of a time signature (an unknown one maps to a known one, ``known_meter``)."""
    return METER.token(METERS.index(known_meter(meter)))


def token_meter(token: int) -> tuple[int, int]:
    """The time signature ``(numerator, denominator)`` of a METER token."""
    return METERS[METER.value(token)]


def token_name(token: int) -> str:
    """Readable name of a token, e.g. ``PITCH_60`` or ``SHIFT_3``."""
    if 0 <= token < len(SPECIAL):
        return SPECIAL[token]
    if token in METER:
        numerator, denominator = token_meter(token)
        return f"METER_{numerator}/{denominator}"
    for block in (SHIFT, PITCH, DUR, VOICE):
        if token in block:
            return f"{block.kind}_{block.value(token)}"
    raise ValueError(f"token {token} outside the vocabulary of {VOCAB_SIZE}")


def split_steps(amount: int, largest: int) -> list[int]:
    """``amount`` as parts of at most ``largest`` (largest first)."""
    parts = [largest] * (amount // largest)
    if amount % largest:
        parts.append(amount % largest)
    return parts


def piece_to_tokens(piece: Piece, add_end: bool = True) -> list[int]:
    """Encode a piece as BOS, METER, events and (if ``add_end``) LAST_BAR ... closing BAR, EOS.

    The final bar is marked only when ``add_end`` is set and the piece has a closing bar line
    (its last bar line at or after the last note's end). A voiced piece (``Piece.voiced``) writes a
    VOICE token before each note, the voices of one onset in ``VOICE_ORDER``.
    """
    tokens = [BOS]
    bars = list(piece.bars)
    meters = {step: (numerator, denominator) for step, numerator, denominator in piece.meters}
    first_meter = min(meters) if meters else None
    if first_meter is not None:
        tokens.append(meter_token(meters.pop(first_meter)))
    last_bars = set(piece.last_bars)
    final_bar = bars[-2] if add_end and len(bars) >= 2 and bars[-1] >= piece.length else None
    bar_index = 0
    now = 0

    def advance_to(target: int) -> None:
        nonlocal now, bar_index
        while bar_index < len(bars) and bars[bar_index] <= target:
            bar = bars[bar_index]
            if bar > now:
                tokens.extend(SHIFT.token(k) for k in split_steps(bar - now, MAX_SHIFT))
                now = bar
            if bar == final_bar:
                tokens.append(LAST_BAR)
            else:
                tokens.append(PART_BAR if bar in last_bars and bar != bars[-1] else BAR)
            if bar in meters:
                tokens.append(meter_token(meters.pop(bar)))
            bar_index += 1
        if target > now:
            tokens.extend(SHIFT.token(k) for k in split_steps(target - now, MAX_SHIFT))
            now = target

    voiced = piece.voiced
    if voiced:
        order = sorted(piece.notes, key=lambda n: (n.start, VOICE_ORDER.index(n.voice), -n.pitch))
    else:
        order = sorted(piece.notes, key=lambda n: (n.start, -n.pitch, n.duration))  # chords top down
    for note in order:
        advance_to(note.start)
        if voiced:
            tokens.append(VOICE.token(note.voice))
        tokens.append(PITCH.token(note.pitch))
        tokens.extend(DUR.token(k) for k in split_steps(note.duration, MAX_DURATION))
    # Close the bars that the notes reach into (and the closing bar line at the piece's end).
    while bar_index < len(bars) and bars[bar_index] <= piece.end:
        advance_to(bars[bar_index])
    if add_end:
        tokens.append(EOS)
    return tokens


def tokens_to_piece(tokens) -> Piece:
    """Decode any token sequence into a valid Piece (see module docstring for the rules)."""
    raw: list[tuple[int, int, int, int]] = []
    bars: list[int] = []
    last_bars: list[int] = []
    meters: list[tuple[int, int, int]] = []
    now = 0
    pitch = None  # pitch of the note being read, waiting for its DUR tokens
    duration = 0
    voice = 0  # the voice of the next PITCH (set by a VOICE token; a bare PITCH is voice 0)
    note_voice = 0

    def flush() -> None:
        nonlocal pitch, duration
        if pitch is not None and duration > 0:
            raw.append((now, pitch, duration, note_voice))
        pitch, duration = None, 0

    for token in tokens:
        token = int(token)
        if token == EOS:
            break
        if token in DUR:
            if pitch is not None:
                duration += DUR.value(token)
            continue
        flush()
        if token in SHIFT:
            now += SHIFT.value(token)
        elif token in PITCH:
            pitch, note_voice, voice = PITCH.value(token), voice, 0
            continue
        elif token in VOICE:
            voice = VOICE.value(token)
            continue
        elif token in BAR_TOKENS:
            if not bars or bars[-1] != now:
                bars.append(now)
            if token != BAR:
                last_bars.append(now)
        elif token in METER:
            meters.append((now, *token_meter(token)))
        elif token in (PAD, BOS):
            continue
        else:
            raise ValueError(f"token {token} outside the vocabulary of {VOCAB_SIZE}")
        voice = 0  # a VOICE token belongs to the PITCH right after it
    flush()
    return make_piece(raw, bars, meters=meters, last_bars=last_bars)


def transpose_tokens(tokens: np.ndarray, semitones: int) -> np.ndarray:
    """Shift every PITCH token by ``semitones``; caller keeps pitches inside MIN..MAX_PITCH."""
    out = np.array(tokens, copy=True)
    is_pitch = (out >= PITCH.offset) & (out < PITCH.stop)
    out[is_pitch] += semitones
    return out


def pitch_span(tokens: np.ndarray) -> tuple[int, int]:
    """Lowest and highest MIDI pitch among the tokens, or (0, -1) when there are none."""
    tokens = np.asarray(tokens)
    is_pitch = (tokens >= PITCH.offset) & (tokens < PITCH.stop)
    if not is_pitch.any():
        return 0, -1
    values = tokens[is_pitch] - PITCH.offset + MIN_PITCH
    return int(values.min()), int(values.max())


def voice_pitches(tokens) -> Iterator[tuple[int, int]]:
    """(voice, MIDI pitch) of every note of ``tokens`` in order (a bare PITCH is voice 0)."""
    voice = 0
    for token in np.asarray(tokens).tolist():
        if token in VOICE:
            voice = VOICE.value(token)
        elif token in PITCH:
            yield voice, PITCH.value(token)
            voice = 0


def voice_spans(tokens) -> dict[int, tuple[int, int]]:
    """Lowest and highest MIDI pitch of each voice that has notes (a bare PITCH is voice 0)."""
    spans: dict[int, tuple[int, int]] = {}
    for voice, pitch in voice_pitches(tokens):
        low, high = spans.get(voice, (pitch, pitch))
        spans[voice] = (min(low, pitch), max(high, pitch))
    return spans


def is_note_token(token: int) -> bool:
    """True for PITCH tokens (the start of a note)."""
    return token in PITCH


__all__ = [
    "BAR",
    "BAR_TOKENS",
    "BOS",
    "EOS",
    "LAST_BAR",
    "PART_BAR",
    "PAD",
    "DUR",
    "VOICE",
    "VOICE_ORDER",
    "VOICE_RANGES",
    "METER",
    "PITCH",
    "SHIFT",
    "VOCAB_SIZE",
    "CODEC_VERSION",
    "meter_token",
    "token_meter",
    "Note",
    "Piece",
    "piece_to_tokens",
    "tokens_to_piece",
    "transpose_tokens",
    "pitch_span",
    "token_name",
    "codec_params",
]

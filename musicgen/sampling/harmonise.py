"""Harmonise a melody in a four-voice style: the melody kept note for note as the soprano, the
network writing alto, tenor and bass (``KeptNotes``); and rewrite one voice of a four-voice piece.

The melody's metre and pickup come from its file (or ``meter``); a melody whose range does not fit
the soprano's is moved by octaves (and the move is stated), one that spans more than the soprano
sings, or is in a metre the model never saw for the style, gets a one-line error.

Seeing ahead: a left-to-right network choosing the bass does not know where the melody goes next.
With ``candidates`` > 1, that many harmonisations are sampled side by side and the one under which
the network finds the whole melody likeliest wins: a harmony that leads where the melody goes
makes the melody's next notes expected (the sum of the soprano tokens' negative log-likelihood,
one teacher-forced pass over each candidate). ``candidates=1`` is the plain left-to-right choice.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Iterator

import numpy as np
import torch

from ..music.keys import estimate_key, key_name
from ..music.meter import Meter, bar_steps, meter_text
from ..music.piece import Note, Piece, make_piece
from ..music.voicing import line_notes
from ..progress import Progress
from ..tokens.codec import BOS, DUR, PITCH, VOICE, VOICE_RANGES, meter_token
from ..training.nll import scored_nll
from .generate import Generator
from .kept_notes import KeptNotes
from .piece_state import PieceState
from ..genres import Blend, parse_blend
from ..limits import HARMONISE_CANDIDATES
from .request import GenerationRequest, Plan, event_cap

SOPRANO, REWRITE_BELOW_SOPRANO = 0, 0b1110  # the kept voice, and the voices the network writes
OCTAVE = 12


@dataclasses.dataclass(frozen=True)
class Melody:
    """A melody ready to harmonise: one line of notes (voice 0, steps), its metre, pickup and bars."""

    notes: tuple[Note, ...]
    meter: Meter
    pickup: int  # steps before bar 1
    bars: int  # whole bars after the pickup
    shift: int  # semitones it was moved (by octaves) to lie in the soprano's range
    tempo: float | None = None


def soprano_shift(pitches: list[int]) -> int:
    """Octaves (in semitones) that move ``pitches`` into the soprano's range, fewest notes outside
    first, then the smallest move; ValueError when the melody spans more than the soprano sings."""
    low, high = VOICE_RANGES[SOPRANO]
    span = max(pitches) - min(pitches)
    if span > high - low:
        raise ValueError(
            f"the melody spans {span} semitones, more than a soprano sings here ({high - low}: MIDI {low}-{high})"
        )
    options = range(-3 * OCTAVE, 3 * OCTAVE + 1, OCTAVE)
    return min(options, key=lambda s: (sum(not low <= p + s <= high for p in pitches), abs(s)))


def prepare_melody(piece: Piece, meter: Meter | None = None) -> Melody:
    """The top line of ``piece`` as a soprano, with its metre (``meter`` overrides the file's),
    pickup and whole bars; moved by octaves into the soprano's range."""
    line = line_notes(piece.notes)
    if len(line) < 2:
        raise ValueError("the melody has fewer than two notes")
    file_meter = piece.meter_at(piece.pickup)
    pickup = piece.pickup if (meter is None or meter == file_meter) and file_meter else 0
    meter = meter or file_meter or (4, 4)
    bar = bar_steps(meter)
    start = line[0][0]
    if meter != file_meter and start:  # read in another metre: the first note starts the first bar
        line = [(s - start, p, d) for s, p, d in line]
    end = max(s + d for s, p, d in line)
    bars = max(1, math.ceil((end - pickup) / bar))
    shift = soprano_shift([p for _, p, _ in line])
    notes = tuple(Note(s, p + shift, min(d, pickup + bars * bar - s), SOPRANO) for s, p, d in line)
    return Melody(notes, meter, pickup, bars, shift, piece.meta.get("tempo"))


def check_style(generator: Generator, genre: str | Blend, melody: Melody) -> str:
    """The main genre of ``genre`` (a genre text or a parsed blend); ValueError unless it is a
    four-voice style that knows the metre."""
    main = (genre if isinstance(genre, Blend) else parse_blend(genre, generator.genre_keys)).main
    if generator.genre_voices(main) < 4:
        four = [key for key in generator.genre_keys if generator.genre_voices(key) >= 4]
        raise ValueError(f"{main} is written in one voice; harmonise in a four-voice style: {', '.join(four)}")
    known = generator.genre_meters.get(main) or {}
    if known and meter_text(melody.meter) not in known:
        raise ValueError(
            f"the melody is in {meter_text(melody.meter)}, which the model never saw for {main} "
            f"(it knows {', '.join(known)}); read it in another metre with --meter"
        )
    return main


def soprano_nll(generator: Generator, sequences: list[list[int]], weights: torch.Tensor) -> np.ndarray:
    """Negative log-likelihood (nats) of each sequence's soprano tokens (VOICE 0 and its note) (K,)."""
    scored = []
    for sequence in sequences:
        keep = np.zeros(len(sequence), dtype=bool)
        voice = None  # the voice of the note being read (its VOICE, PITCH and DUR tokens)
        for position, token in enumerate(sequence):
            if token in VOICE:
                voice = VOICE.value(token)
            elif token not in PITCH and token not in DUR:
                voice = None
            keep[position] = voice == SOPRANO
        scored.append(keep)
    return scored_nll(generator.loaded.model, sequences, scored, weights)


def harmonise(
    generator: Generator,
    melody: Melody,
    genre: str = "bach",
    seed: int = 0,
    candidates: int = HARMONISE_CANDIDATES,
    style_strength: float | None = None,
) -> Iterator[Progress]:
    """Write alto, tenor and bass under ``melody``; yields Progress, the last with ``.result`` (a
    GeneratedPiece whose soprano is the melody note for note), also the generator's return value."""
    began = time.perf_counter()
    if candidates < 1:
        raise ValueError(f"candidates must be at least 1, got {candidates}")
    # the genre text is parsed once, by the request's check; a melody without a tempo takes the style's
    checked = generator.check(
        GenerationRequest(genre=genre, bars=melody.bars, seed=seed, tempo=melody.tempo, style_strength=style_strength)
    )
    main = check_style(generator, checked.blend, melody)
    blend = checked.blend.weights
    tempo = float(melody.tempo or checked.main.tempo)
    checked = dataclasses.replace(checked, request=dataclasses.replace(checked.request, tempo=tempo))
    plan = Plan(melody.meter, "free", "A", melody.bars, event_cap(melody.bars, melody.meter))
    yield Progress(0, 2, f"harmonising {len(melody.notes)} melody notes in {main} ({candidates} candidates)")
    rows = []
    for k in range(candidates):
        rows.append(
            PieceState(
                checked.with_seed(seed + k).request,
                plan,
                blend=blend,
                genre_keys=generator.genre_keys,
                tempo=tempo,
                prefix=[BOS, meter_token(melody.meter)],
                voices=4,
                kept=KeptNotes(melody.notes, REWRITE_BELOW_SOPRANO),
                pickup=melody.pickup,
            )
        )
    sampled = generator.sample_rows(rows)
    yield Progress(1, 2, "choosing the harmonisation under which the melody is likeliest")
    weights = torch.tensor([blend.get(key, 0.0) for key in generator.genre_keys])
    nll = soprano_nll(generator, [row.tokens for row in rows], weights) if candidates > 1 else np.zeros(1)
    best = int(np.argmin(nll))
    chosen = sampled[best]
    tonic, mode = estimate_key(chosen.piece)
    meta = {
        **chosen.piece.meta,
        "harmonised": {
            "melody_notes": len(melody.notes),
            "moved_semitones": melody.shift,
            "candidates": candidates,
            "soprano_nll": [round(float(v), 3) for v in nll],
        },
    }
    piece = make_piece(
        [(n.start, n.pitch, n.duration, n.voice) for n in chosen.piece.notes],
        chosen.piece.bars,
        0,
        meta,
        chosen.piece.meters,
        chosen.piece.last_bars,
    )
    result = dataclasses.replace(
        chosen,
        piece=piece,
        transpose=0,
        key_detected=key_name(tonic, mode),
        key_result=key_name(tonic, mode),
        seconds_taken=time.perf_counter() - began,
    )
    yield Progress(2, 2, f"harmonised (candidate {best + 1} of {candidates})", result)
    return result


__all__ = ["Melody", "prepare_melody", "harmonise", "soprano_shift"]

"""Regenerate a passage: new bars ``first..last`` of a piece, every other note kept exactly.

The network reads the piece up to the passage (its state carries everything before), then K
candidate passages are sampled together. Each candidate is joined to the kept bars after it and
the whole sequence is scored in one forward pass; the candidate under which the network finds
the kept continuation most likely wins, so the new bars lead into the old ones. A passage that
runs to the end of the piece ends as a piece does (its last bar announced, EOS chosen or not).

Bars are numbered as a musician counts them: bar 1 is the first whole bar after any pickup.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F

from ..files.midi import midi_to_piece, open_midi_file
from ..music.piece import STEPS_PER_BEAT, Piece, make_piece
from ..music.voicing import assign_voices
from ..progress import Progress
from ..tokens.codec import BAR, BAR_TOKENS, BOS, METER, piece_to_tokens
from ..training.nll import IGNORE, padded_next_token_batch, scored_nll
from .generate import Generator
from .kept_notes import KeptNotes
from .piece_state import PieceState
from ..genres import main_genre, parse_genre_spec, weights_text
from .request import GeneratedPiece, GenerationRequest, Plan, event_cap

DEFAULT_CANDIDATES = 4
MAX_CANDIDATES = 32
PULSE_SHARE = 0.7  # without a time signature, this share of onsets must sit on an eighth-note grid


def parse_bar_range(text: str) -> tuple[int, int | None]:
    """``"5-8"`` -> (5, 8); ``"5-"`` or ``"5-end"`` -> (5, None); ``"5"`` -> (5, 5)."""
    first, dash, last = str(text).strip().partition("-")
    try:
        start = int(first)
        stop = None if dash and last.strip().lower() in ("", "end") else int(last if dash else first)
    except ValueError:
        raise ValueError(f"bars '{text}' must look like 5-8, 5-end or 5") from None
    if start < 1 or (stop is not None and stop < start):
        raise ValueError(f"bars '{text}': the first bar is 1 and the range must not run backwards")
    return start, stop


def _source_piece(source, generator: Generator) -> tuple[Piece, float, int, dict | None]:
    """The piece, tempo, program and genre blend (None when unknown) of a GeneratedPiece or MIDI file."""
    if isinstance(source, GeneratedPiece):
        return source.piece, source.tempo, source.program, dict(source.genre_weights)
    path = Path(source)
    piece = midi_to_piece(path, voices=True)  # its tracks as voices when it has several lines
    midi = open_midi_file(path)
    tempi = midi.get_tempo_changes()[1]
    programs = [i.program for i in midi.instruments if not i.is_drum]
    import mido  # pretty_midi reports 4/4 for a file without any time signature: ask the file itself

    signed = any(m.type == "time_signature" for track in open_midi_file(path, mido.MidiFile).tracks for m in track)
    if not signed and not _has_pulse(piece):
        raise ValueError(f"{path.name}: cannot find bar lines (no time signature and no regular pulse)")
    return piece, float(tempi[0]) if len(tempi) else 120.0, int(programs[0]) if programs else 0, None


def _has_pulse(piece: Piece) -> bool:
    """True when most onsets sit on an eighth-note grid (so 4/4 bar lines from 0 are believable)."""
    onsets = [n.start for n in piece.notes]
    eighth = STEPS_PER_BEAT // 2
    return bool(onsets) and sum(1 for t in onsets if t % eighth == 0) >= PULSE_SHARE * len(onsets)


def _sub_piece(piece: Piece, start: int, stop: int | None) -> Piece:
    """The notes starting in [start, stop) and the bar lines and metres in that span."""
    stop = piece.end + 1 if stop is None else stop
    notes = [(n.start, n.pitch, n.duration, n.voice) for n in piece.notes if start <= n.start < stop]
    return make_piece(notes, [b for b in piece.bars if b <= stop], meters=piece.meters, last_bars=piece.last_bars)


def _likeliest_genre(generator: Generator, tokens: list[int]) -> dict[str, float]:
    """The genre under which the network finds ``tokens`` most likely."""
    genres = len(generator.genre_keys)
    x, y = padded_next_token_batch([tokens] * genres)  # (G, T): the piece once under each genre
    with torch.no_grad():
        logits, _ = generator.loaded.model(x, torch.arange(genres))
        nll = F.cross_entropy(logits.transpose(1, 2), y, ignore_index=IGNORE, reduction="none").sum(1)  # (G,)
    return {generator.genre_keys[int(nll.argmin())]: 1.0}


def _suffix_tokens(piece: Piece, region_end: int) -> list[int]:
    """Tokens of the kept bars after the passage, as they follow its closing bar line."""
    later = [(n.start - region_end, n.pitch, n.duration) for n in piece.notes if n.start >= region_end]
    bars = [b - region_end for b in piece.bars if b >= region_end]
    shifted = make_piece(
        later,
        bars,
        meters=[(0, *piece.meter_at(region_end))],
        last_bars=[b - region_end for b in piece.last_bars if b >= region_end],
    )
    tokens = piece_to_tokens(shifted, add_end=True)
    # Drop BOS, METER and the bar line at the passage's end (the candidate writes that one).
    assert tokens[0] == BOS and tokens[1] in METER and tokens[2] in BAR_TOKENS, tokens[:3]
    return tokens[3:]


def _continuation_nll(
    generator: Generator, sequences: list[list[int]], suffix_length: int, weights: torch.Tensor
) -> np.ndarray:
    """Negative log-likelihood (nats) of the last ``suffix_length`` tokens of each sequence (K,)."""
    if suffix_length == 0:
        return np.zeros(len(sequences))
    scored = [np.arange(len(sequence)) >= len(sequence) - suffix_length for sequence in sequences]
    return scored_nll(generator.loaded.model, sequences, scored, weights)  # only the kept continuation


def _repeat_in_form(piece: Piece, kept: list, new_notes: list, start: int, stop: int) -> tuple[list, list]:
    """When the passage lies inside one part of a form (meta["parts"]), the part's repeats get the
    same new bars, so an AABB tune stays AABB; returns (kept notes, new notes)."""
    parts = piece.meta.get("parts") or []
    home = next((p for p in parts if p["start"] <= start and stop <= p["end"]), None)
    if home is None:
        return kept, new_notes
    copies = [
        p
        for p in parts
        if p is not home and p["label"] == home["label"] and p["end"] - p["start"] == home["end"] - home["start"]
    ]
    for copy in copies:
        offset = copy["start"] - home["start"]
        kept = [n for n in kept if not start + offset <= n[0] < stop + offset]
        new_notes = new_notes + [(s + offset, *rest) for s, *rest in new_notes if start <= s < stop]
    return kept, new_notes


@dataclasses.dataclass(frozen=True)
class _Passage:
    """Bars ``first..last`` (1-based, inclusive) of a piece: steps ``start`` to ``end``, in ``meter``."""

    first: int
    last: int
    start: int
    end: int
    to_the_end: bool  # the passage ends the piece
    meter: tuple[int, int]

    @property
    def bars(self) -> int:
        return self.last - self.first + 1

    def rewritten(self, note, voice: int | None) -> bool:
        """True for a note of the passage that is written anew (only ``voice``'s, when given)."""
        return self.start <= note.start < self.end and (voice is None or note.voice == voice)


def _passage(piece: Piece, first_bar: int, last_bar: int | None) -> _Passage:
    """The passage ``first_bar..last_bar`` (None = to the end); ValueError when it is not in the piece."""
    whole_bars = len(piece.bars) - 1
    if whole_bars < 1:
        raise ValueError("the piece has no whole bars to regenerate")
    last = whole_bars if last_bar is None else last_bar
    if not 1 <= first_bar <= last <= whole_bars:
        raise ValueError(f"bars {first_bar}-{last} are not in the piece (bars 1-{whole_bars})")
    start, end = piece.bars[first_bar - 1], piece.bars[last]
    return _Passage(first_bar, last, start, end, last == whole_bars, piece.meter_at(start) or (4, 4))


def _in_style(
    generator: Generator, piece: Piece, blend: dict | None, genre: str | None, voice: int | None
) -> tuple[dict, Piece, int]:
    """The blend to write in (``genre``, else the source's, else the likeliest for the piece), the
    piece as that style reads it (four voices assigned, or one line) and its voices."""
    if genre is not None:
        blend = parse_genre_spec(genre, generator.genre_keys)
    elif blend is None:
        blend = _likeliest_genre(generator, piece_to_tokens(piece))
    main = main_genre(blend, generator.genre_keys)
    voices = generator.genre_voices(main)
    if voices > 1:
        piece = assign_voices(piece)  # a four-voice style writes each note in its voice
    elif voice is not None:
        raise ValueError(f"{main} is one voice; --voice needs a four-voice style")
    elif piece.voiced:  # a one-line style reads the notes without voices
        raw = [(n.start, n.pitch, n.duration) for n in piece.notes]
        piece = make_piece(raw, piece.bars, piece.primer_end, piece.meta, piece.meters, piece.last_bars)
    return blend, piece, voices


def _candidate_rows(
    generator: Generator,
    piece: Piece,
    passage: _Passage,
    request: GenerationRequest,
    blend: dict,
    voices: int,
    voice: int | None,
    candidates: int,
) -> list[PieceState]:
    """One sampling row per candidate (seeds ``request.seed + k``), each starting after the piece's
    tokens up to the passage and ending at its last bar line (or as a piece ends)."""
    kept_notes = None
    if voice is not None:  # the other voices' notes of the passage are kept, note for note
        inside = [n for n in piece.notes if passage.start <= n.start < passage.end and n.voice != voice]
        kept_notes = KeptNotes(inside, 1 << voice)
    prefix = piece_to_tokens(_sub_piece(piece, 0, passage.start), add_end=False)
    if prefix[-1] not in BAR_TOKENS:  # the bar line at the passage's start must be written
        prefix = prefix + [BAR]
    plan = Plan(passage.meter, "free", "A", passage.bars, event_cap(passage.bars, passage.meter))
    # Strain ends the piece marks in the passage, as bar numbers of the passage (1 = its first bar).
    strain_ends = frozenset(
        piece.bars.index(b) - passage.first + 2 for b in piece.last_bars if passage.start <= b <= passage.end
    )
    return [
        PieceState(
            request.with_seed(request.seed + k),
            plan,
            blend=blend,
            genre_keys=generator.genre_keys,
            tempo=request.tempo,
            prefix=prefix,
            primed=True,
            open_end=not passage.to_the_end,
            strain_ends=strain_ends,
            voices=voices,
            kept=kept_notes,
        )
        for k in range(candidates)
    ]


def _joined_piece(piece: Piece, chosen: Piece, passage: _Passage, voice: int | None, meta: dict) -> Piece:
    """``piece`` with the passage's rewritten notes taken from ``chosen`` (cut at its end), in every
    repeat of its part of a form."""
    new_notes = [
        (n.start, n.pitch, min(n.duration, passage.end - n.start), n.voice)
        for n in chosen.notes
        if passage.rewritten(n, voice)
    ]
    kept = [(n.start, n.pitch, n.duration, n.voice) for n in piece.notes if not passage.rewritten(n, voice)]
    kept, new_notes = _repeat_in_form(piece, kept, new_notes, passage.start, passage.end)
    return make_piece(kept + new_notes, piece.bars, piece.primer_end, meta, piece.meters, piece.last_bars)


def regenerate(
    generator: Generator,
    source,
    first_bar: int,
    last_bar: int | None = None,
    seed: int = 0,
    genre: str | None = None,
    style_strength: float | None = None,
    candidates: int = DEFAULT_CANDIDATES,
    voice: int | None = None,
) -> Iterator[Progress]:
    """Regenerate bars ``first_bar..last_bar`` (1-based, inclusive; None = to the end) of a
    GeneratedPiece or MIDI file; yields Progress, the last with ``.result`` (a GeneratedPiece),
    which is also the generator's return value. ``style_strength`` None: the genre's default.
    ``voice`` (0 soprano .. 3 bass, four-voice styles): only that voice is written anew in those
    bars, every other note is kept (``kept_notes``). ValueError names any problem."""
    began = time.perf_counter()
    if not 1 <= candidates <= MAX_CANDIDATES:
        raise ValueError(f"candidates must be from 1 to {MAX_CANDIDATES}, got {candidates}")
    piece, tempo, program, blend = _source_piece(source, generator)
    passage = _passage(piece, first_bar, last_bar)
    first, last = passage.first, passage.last
    blend, piece, voices = _in_style(generator, piece, blend, genre, voice)
    request = GenerationRequest(
        genre=weights_text(blend),
        bars=passage.bars,
        seed=seed,
        style_strength=style_strength,
        tempo=tempo,
        program=program,
    )
    request = generator.with_genre_defaults(request)  # style strength None: the genre's own
    yield Progress(0, candidates + 1, f"sampling {candidates} candidates for bars {first}-{last}")
    rows = _candidate_rows(generator, piece, passage, request, blend, voices, voice, candidates)
    sampled = generator.sample_rows(rows)
    yield Progress(candidates, candidates + 1, "scoring how each candidate leads into the kept bars")
    suffix = [] if passage.to_the_end else _suffix_tokens(piece, passage.end)
    sequences = [row.tokens + suffix for row in rows]
    weights = torch.tensor([blend.get(key, 0.0) for key in generator.genre_keys])
    nll = _continuation_nll(generator, sequences, len(suffix), weights)
    best = int(np.argmin(nll))
    chosen = sampled[best]
    meta = {
        **piece.meta,
        "regenerated_bars": [first, last],
        "candidates": candidates,
        "continuation_nll": [round(float(v), 3) for v in nll],
    }
    # the generator built the candidate (engine, ending tries, primer): only the passage's own fields change
    result = dataclasses.replace(
        chosen,
        piece=_joined_piece(piece, chosen.piece, passage, voice, meta),
        request=rows[best].request,
        tokens=sequences[best],
        tempo=tempo,
        program=program,
        transpose=0,
        events=sum(r.events for r in sampled),
        seconds_taken=time.perf_counter() - began,
        ended_naturally=chosen.ended_naturally if passage.to_the_end else False,
        model_name=generator.loaded.name,
        genre_weights=dict(blend),
        bars_generated=passage.bars,
        bars_requested=passage.bars,
        meter=f"{passage.meter[0]}/{passage.meter[1]}",
        form=(source.form if isinstance(source, GeneratedPiece) else "free"),
        parts=list(piece.meta.get("parts", [])),
        stop_reason=chosen.stop_reason,
    )
    yield Progress(
        candidates + 1,
        candidates + 1,
        f"bars {first}-{last} regenerated (candidate {best + 1} of {candidates} leads in best)",
        result,
    )
    return result

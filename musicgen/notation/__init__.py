"""Sheet music: MusicXML (through music21) and ABC scores of generated pieces and MIDI files.

``export_score(source, path)`` picks the format from the file name (.musicxml/.xml or .abc).
Torch-free; music21 is imported only when a MusicXML file is written.
"""

from __future__ import annotations

from pathlib import Path

from ..music.piece import Piece
from ..music.voices import MAX_SCORE_VOICES, POLYPHONIC_GENRES, max_polyphony, separate_voices, voices_for_genre
from .musicxml import ScoreInfo

SCORE_FORMATS = {".musicxml": "musicxml", ".xml": "musicxml", ".abc": "abc"}
DEFAULT_TEMPO = 120.0  # quarter notes per minute, for a piece that does not say

__all__ = [
    "export_score",
    "midi_score_source",
    "score_format",
    "separate_voices",
    "voices_for_genre",
    "POLYPHONIC_GENRES",
    "SCORE_FORMATS",
]


def score_format(path) -> str:
    """ "musicxml" or "abc" from the file name; ValueError for any other ending."""
    suffix = Path(path).suffix.lower()
    if suffix not in SCORE_FORMATS:
        raise ValueError(f"{path}: a score file name must end in .musicxml, .xml or .abc")
    return SCORE_FORMATS[suffix]


def _voices_of_piece(piece: Piece) -> int:
    """Voices of a piece that names none: its own ``meta["voices"]``, its genre's, else one line
    unless notes sound together (then as many as sound at once, at most four)."""
    if piece.meta.get("voices"):
        return max(1, min(MAX_SCORE_VOICES, int(piece.meta["voices"])))
    if piece.meta.get("genre"):
        return voices_for_genre(piece.meta["genre"])
    return max(1, min(MAX_SCORE_VOICES, max_polyphony(piece)))


def _source_info(source, title: str | None) -> tuple[Piece, ScoreInfo, str]:
    """The piece, what its score shows, and its main genre ("" when unknown)."""
    from ..music.voices import genre_of
    from ..sampling.request import GeneratedPiece

    if isinstance(source, GeneratedPiece):
        weights = source.genre_weights or {}
        genre = max(weights, key=weights.get) if weights else genre_of(source.request.genre)
        blend = " + ".join(f"{k} {v:.0%}" for k, v in weights.items()) if len(weights) > 1 else genre
        name = title or f"{blend.capitalize() or 'Piece'}, seed {source.request.seed}"
        return (
            source.piece,
            ScoreInfo(name, source.tempo, source.program, source.voices, f"musicgen {source.model_name}".strip()),
            genre,
        )
    if not isinstance(source, Piece):
        raise ValueError(f"cannot write a score of a {type(source).__name__}; give a Piece or a GeneratedPiece")
    meta = source.meta
    name = title or meta.get("title") or (Path(meta["source"]).stem if meta.get("source") else "Untitled")
    info = ScoreInfo(
        str(name), float(meta.get("tempo") or DEFAULT_TEMPO), int(meta.get("program") or 0), _voices_of_piece(source)
    )
    return source, info, genre_of(meta.get("genre"))


def export_score(source, path, *, title: str | None = None) -> Path:
    """Write the score of a GeneratedPiece or a Piece to ``path`` (atomically), MusicXML or ABC by
    the file name; ValueError for an unknown ending, an empty piece, or ABC of several voices."""
    kind = score_format(path)
    piece, info, genre = _source_info(source, title)
    if not piece.notes:
        raise ValueError("the piece has no notes to write as a score")
    if kind == "abc":
        from .abc import write_abc

        return write_abc(piece, path, info, genre)
    from .musicxml import write_musicxml

    return write_musicxml(piece, path, info)


def midi_score_source(path, genre: str | None = None) -> Piece:
    """A MIDI file as a Piece that knows its tempo, instrument, title and voice count: ``genre``'s
    voices when given, else one per track (at most four) when the file has several, else one
    unless it has chords. ValueError naming the file if it is unusable."""
    import pretty_midi

    from ..files.midi import midi_to_piece, open_midi_file
    from ..genres import CORPUS_GENRES

    known = [g.key for g in CORPUS_GENRES]
    if genre is not None and genre not in known:
        raise ValueError(f"unknown genre '{genre}'; valid genres: {', '.join(known)}")
    piece = midi_to_piece(path)
    pm: pretty_midi.PrettyMIDI = open_midi_file(path)
    tracks = [i for i in pm.instruments if not i.is_drum and i.notes]
    tempos = pm.get_tempo_changes()[1]
    if genre is not None:
        voices = voices_for_genre(genre)
    elif len(tracks) > 1:
        voices = min(MAX_SCORE_VOICES, len(tracks))
    else:
        voices = max(1, min(MAX_SCORE_VOICES, max_polyphony(piece)))
    meta = dict(
        piece.meta,
        title=Path(path).stem,
        tempo=float(tempos[0]) if len(tempos) else DEFAULT_TEMPO,
        program=tracks[0].program if tracks else 0,
        voices=voices,
        genre=genre or "",
    )
    return Piece(piece.notes, piece.bars, piece.primer_end, meta, piece.meters, piece.last_bars)

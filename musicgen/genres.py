"""The styles musicgen knows from the music21 corpus: names, descriptions, render defaults."""

from __future__ import annotations

from dataclasses import dataclass

from .sampling.request import DEFAULT_STYLE_STRENGTH, DEFAULT_TOP_P


@dataclass(frozen=True)
class Genre:
    """A style: ``key`` is its short name on the command line, ``program`` its default
    General MIDI instrument (0-based), ``tempo`` its default playback tempo (quarter notes
    per minute), ``style_strength`` and ``top_p`` the sampling defaults of a request that names
    none (a model card may hold values measured for its model: ``benchmarks/levers/sampling_defaults.py``)."""

    key: str
    display_name: str
    description: str
    program: int
    tempo: int
    style_strength: float = DEFAULT_STYLE_STRENGTH
    top_p: float = DEFAULT_TOP_P


# General MIDI programs (0-based): 19 church organ, 52 choir aahs, 40 violin, 73 flute,
# 71 clarinet, 22 harmonica, 75 pan flute, 110 fiddle.
CORPUS_GENRES: tuple[Genre, ...] = (
    Genre("bach", "Bach chorales", "Four-voice chorale harmonisations by J. S. Bach.", 19, 80),
    Genre("reel", "Irish reels", "Fast dance tunes in 4/4 with running eighth notes (O'Neill, Ryan).", 40, 180),
    Genre("jig", "Irish jigs", "Dance tunes in 6/8 with lilting triplet-feel eighths (O'Neill, Ryan).", 40, 170),
    Genre("hornpipe", "Hornpipes", "Dotted, swung dance tunes in 4/4 (O'Neill, Ryan).", 40, 150),
    Genre("chinese", "Chinese folk songs", "Han Chinese folk melodies, mostly pentatonic (Essen collection).", 73, 84),
    Genre("german", "German folk songs", "German folk song melodies (Essen collection, fixed sample).", 71, 96),
    Genre("scottish", "Scottish airs", "Scottish tunes, airs and marches from Aird's Selection (1782-1803).", 73, 88),
    Genre("palestrina", "Renaissance polyphony", "Mass movements by Palestrina: flowing vocal counterpoint.", 52, 72),
)


def genre_table(genres: tuple[Genre, ...] | list[Genre]) -> dict[str, Genre]:
    """Map from key to Genre."""
    return {genre.key: genre for genre in genres}


def genre_from_dict(data: dict) -> Genre:
    """Rebuild a Genre from its JSON form (as stored in dataset manifests and model cards)."""
    return Genre(
        str(data["key"]),
        str(data["display_name"]),
        str(data.get("description", "")),
        int(data.get("program", 0)),
        int(data.get("tempo", 120)),
        float(data.get("style_strength", DEFAULT_STYLE_STRENGTH)),
        float(data.get("top_p", DEFAULT_TOP_P)),
    )


def genre_to_dict(genre: Genre) -> dict:
    """JSON form of a Genre."""
    return {
        "key": genre.key,
        "display_name": genre.display_name,
        "description": genre.description,
        "program": genre.program,
        "tempo": genre.tempo,
        "style_strength": genre.style_strength,
        "top_p": genre.top_p,
    }

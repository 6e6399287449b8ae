"""The styles musicgen knows from the music21 corpus (names, descriptions, render defaults), and
the one reader of a genre text: a genre or a blend (``"bach=0.7,reel=0.3"``) parsed once into a
``Blend`` where a request comes in (``parse_blend``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .limits import DEFAULT_STYLE_STRENGTH, DEFAULT_TOP_P


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


@dataclass(frozen=True)
class Blend:
    """A genre text parsed once: ``weights`` (genre key -> share, summing to 1, in the order the
    text names them) and ``main``, the heaviest genre (the model's first listed on a tie)."""

    weights: dict[str, float]
    main: str

    @property
    def text(self) -> str:
        """``"bach=0.7,reel=0.3"`` (``weights_text``)."""
        return weights_text(self.weights)


def parse_blend(spec: str | None, genre_keys: list[str]) -> Blend:
    """``parse_genre_spec`` and the main genre in one typed value; ValueError for a bad text."""
    weights = parse_genre_spec(spec, genre_keys)
    return Blend(weights, main_genre(weights, genre_keys))


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
    if not math.isfinite(total):  # finite weights whose sum overflows (1e308 + 1e308): scale first
        largest = max(weights.values())
        weights = {name: weight / largest for name, weight in weights.items()}
        total = sum(weights.values())
    return {name: weight / total for name, weight in weights.items() if weight > 0}


def main_genre(weights: dict[str, float], genre_keys: list[str]) -> str:
    """The genre with the largest weight (the first listed on a tie)."""
    best = max(weights.values())
    return next(k for k in genre_keys if weights.get(k, 0.0) == best)


def weights_text(weights: dict[str, float]) -> str:
    """``{"bach": 0.7, "reel": 0.3}`` -> ``"bach=0.7,reel=0.3"``."""
    return ",".join(f"{k}={v:.3g}" for k, v in weights.items())

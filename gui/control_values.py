"""The values behind the settings panel, without Qt: genre blends as text, keys, temperature words.

Genre texts are read with ``musicgen.genres.parse_genre_spec`` (the one parser of the CLI and the
sampler); this module only writes them.
"""

from __future__ import annotations

from musicgen.genres import parse_genre_spec
from musicgen.sampling.request import DANCE_FORM, DANCE_GENRES, FREE

TONICS = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
TONIC_LABELS = {"C#": "C\u266f", "Eb": "E\u266d", "F#": "F\u266f", "Ab": "A\u266d", "Bb": "B\u266d"}
# (value sent to the generator, label shown): every tonic in major and in minor
KEYS = [
    (f"{tonic} {mode}", f"{TONIC_LABELS.get(tonic, tonic)} {mode}") for tonic in TONICS for mode in ("major", "minor")
]
FORM_CHOICES = [
    ("AABB", "AABB \u2014 two strains, each played twice"),
    ("AB", "AB \u2014 two parts"),
    ("ABAC", "ABAC \u2014 a returning first part"),
    (FREE, "Through-composed"),
]


def blend_spec(first: str, second: str | None, second_percent: int) -> str:
    """Genre text for the generator: "reel", or "reel=0.70,bach=0.30" for a blend."""
    if not second or second == first or second_percent <= 0:
        return first
    if second_percent >= 100:
        return second
    return f"{first}={(100 - second_percent) / 100:.2f},{second}={second_percent / 100:.2f}"


def split_blend_spec(spec: str, genre_keys: list[str]) -> tuple[str, str | None, int]:
    """Inverse of ``blend_spec``: (main genre, second genre or None, percent of the second).

    Unknown genres raise ValueError (from ``parse_genre_spec``); more than two are cut to the two heaviest.
    """
    weights = parse_genre_spec(spec, genre_keys)
    ranked = sorted(weights, key=lambda key: (-weights[key], genre_keys.index(key)))
    if len(ranked) == 1:
        return ranked[0], None, 0
    first, second = ranked[0], ranked[1]
    # keep the order the text gives (first listed first), as blend_spec wrote it
    listed = [key.split("=")[0].strip().lower() for key in str(spec).split(",")]
    if listed.index(second) < listed.index(first):
        first, second = second, first
    total = weights[first] + weights[second]
    return first, second, round(100 * weights[second] / total)


def main_genre_key(spec: str, genre_keys: list[str]) -> str:
    """The heaviest genre of a genre text (the first on a tie)."""
    weights = parse_genre_spec(spec, genre_keys)
    return max(genre_keys, key=lambda key: (weights.get(key, 0.0), -genre_keys.index(key)))


def default_form(genre_key: str, has_primer: bool = False) -> str:
    """The form a request without one gets: AABB for the dance genres, else through-composed."""
    return DANCE_FORM if genre_key in DANCE_GENRES and not has_primer else FREE


def meter_default_label(odds: dict[str, float], shown: int = 3) -> str:
    """What "Style default" means for the metre: "6/8", or "4/4, 3/4, 2/4…" when each piece
    draws one (``Generator.meter_odds``, commonest first)."""
    meters = list(odds) or ["4/4"]
    return ", ".join(meters[:shown]) + ("…" if len(meters) > shown else "")


def form_label(form: str) -> str:
    """ "AABB", or "through-composed" for "free"."""
    return "through-composed" if form == FREE else form


def adventurousness_word(temperature: float) -> str:
    """Plain-language reading of a sampling temperature."""
    if temperature < 0.7:
        return "safe"
    if temperature < 0.9:
        return "gentle"
    if temperature <= 1.1:
        return "balanced"
    if temperature <= 1.4:
        return "bold"
    return "wild"


def strength_word(strength: float) -> str:
    """Plain-language reading of a style strength 0..4."""
    if strength <= 0:
        return "off"
    if strength < 1:
        return "a touch"
    if strength < 2:
        return "clear"
    return "strong"

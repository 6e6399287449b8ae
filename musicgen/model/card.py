"""The checks of a model card's fields, made when it is read, so that a damaged or crafted card is
one line naming the card and the field, never a crash later in ``models``, ``genres`` or ``generate``.

Torch-free: ``checkpoint.read_card`` runs these before any network is built.
"""

from __future__ import annotations

import math

from ..limits import MAX_PROGRAM, MAX_STYLE_STRENGTH, MAX_TEMPO, MAX_VOICE_STRENGTH, MIN_TEMPO
from .config import CELLS

NETWORK_SIZES = ("vocab_size", "n_genres", "n_layer", "n_hidden", "n_embd", "genre_dim")  # whole numbers >= 1
OBJECT_FIELDS = (
    "dataset",
    "metrics",
    "meters",
    "bar_counts",
    "voice_head",
    "sung_ranges",
)  # optional fields that must be JSON objects


class CardError(ValueError):
    """A model card field that cannot be used: ``<card>: model card field '<field>' <problem>``."""

    def __init__(self, card_name: str, field: str, problem: str):
        super().__init__(f"{card_name}: model card field '{field}' {problem}")


def _is_whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_config(config, card_name: str) -> None:
    """CardError unless ``config`` is a network config with sizes of at least 1 (unknown or missing
    settings are named when the ``ModelConfig`` is built)."""
    if not isinstance(config, dict):
        raise CardError(card_name, "config", "must be an object holding the network's sizes")
    for name in NETWORK_SIZES:
        if name in config and not (_is_whole(config[name]) and config[name] >= 1):
            raise CardError(card_name, f"config.{name}", f"must be a whole number of at least 1, got {config[name]!r}")
    dropout = config.get("dropout", 0.0)
    if not (_is_number(dropout) and 0 <= dropout < 1):
        raise CardError(card_name, "config.dropout", f"must be from 0 to below 1, got {dropout!r}")
    if config.get("cell", CELLS[0]) not in CELLS:
        raise CardError(card_name, "config.cell", f"must be one of {', '.join(CELLS)}, got {config['cell']!r}")
    for flag in ("voice_context", "voice_head"):
        if not isinstance(config.get(flag, False), bool):
            raise CardError(card_name, f"config.{flag}", f"must be true or false, got {config[flag]!r}")


def _check_genre(genre, field: str, card_name: str) -> None:
    """CardError unless ``genre`` (the card's ``field``, e.g. ``genres[2]``) can be a ``Genre``."""
    if not isinstance(genre, dict):
        raise CardError(card_name, field, "must be an object with the genre's key and name")
    for name in ("key", "display_name"):
        if not isinstance(genre.get(name), str) or not genre[name].strip():
            raise CardError(card_name, f"{field}.{name}", "is missing or not a name")
    if not isinstance(genre.get("description", ""), str):
        raise CardError(card_name, f"{field}.description", "must be text")
    limits = {
        "program": (0, MAX_PROGRAM, _is_whole),
        "tempo": (MIN_TEMPO, MAX_TEMPO, _is_number),
        "style_strength": (0, MAX_STYLE_STRENGTH, _is_number),
        "top_p": (0, 1, _is_number),
    }
    for name, (low, high, kind) in limits.items():
        value = genre.get(name, high)
        if not kind(value) or not low <= value <= high or (name == "top_p" and value == 0):
            shown = f"{value:g}" if _is_number(value) else repr(value)
            label = name.replace("_", " ").replace("top p", "top-p")
            raise CardError(
                card_name, f"{field}.{name}", f"is out of range: {label} must be from {low:g} to {high:g}, got {shown}"
            )


def check_genres(genres, n_genres, card_name: str) -> None:
    """CardError unless ``genres`` is a list of ``n_genres`` usable genres with distinct keys."""
    if not isinstance(genres, list) or not genres:
        raise CardError(card_name, "genres", "must list at least one genre")
    for number, genre in enumerate(genres):
        _check_genre(genre, f"genres[{number}]", card_name)
    keys = [genre["key"] for genre in genres]
    twice = next((key for key in keys if keys.count(key) > 1), None)
    if twice is not None:
        raise CardError(card_name, "genres", f"lists genre '{twice}' twice")
    if n_genres != len(genres):
        raise CardError(card_name, "config.n_genres", f"is {n_genres} but the card lists {len(genres)} genres")


def check_card_fields(card: dict, card_name: str) -> None:
    """CardError naming the first field of ``card`` (a dict) that musicgen cannot use."""
    check_config(card.get("config"), card_name)
    check_genres(card.get("genres"), card["config"].get("n_genres"), card_name)
    for name in OBJECT_FIELDS:
        if card.get(name) is not None and not isinstance(card[name], dict):
            raise CardError(card_name, name, "must be an object")
    for name in ("meters", "bar_counts"):
        for genre, table in (card.get(name) or {}).items():
            if not isinstance(table, dict):
                raise CardError(card_name, f"{name}.{genre}", "must be an object")
    if "parameters" in card and not (_is_whole(card["parameters"]) and card["parameters"] >= 0):
        raise CardError(card_name, "parameters", f"must be a whole number, got {card['parameters']!r}")
    for genre, ranges in (card.get("sung_ranges") or {}).items():
        if not (
            isinstance(ranges, list)
            and all(isinstance(r, list) and len(r) == 2 and all(map(_is_whole, r)) and r[0] <= r[1] for r in ranges)
        ):
            raise CardError(card_name, f"sung_ranges.{genre}", "must list a [low, high] pitch pair per voice")
    strength = voice_sampling_strength(card)
    if not (_is_number(strength) and 0 <= strength <= MAX_VOICE_STRENGTH):
        raise CardError(
            card_name, "voice_head.sampling_strength", f"must be from 0 to {MAX_VOICE_STRENGTH:g}, got {strength!r}"
        )


def voice_sampling_strength(card: dict) -> float:
    """The voice head's weight when sampling, as a card records it (``voice_head.sampling_strength``;
    1 = as fitted, and for a card without it)."""
    return (card.get("voice_head") or {}).get("sampling_strength", 1.0)

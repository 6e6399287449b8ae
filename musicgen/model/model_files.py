"""Model files: ``<name>.safetensors`` (weights) + ``<name>.json`` (the model card).

The card holds everything needed to rebuild and use the model: network config, codec
parameters, genres with descriptions and render defaults, the dataset fingerprint, metrics,
training time and hardware, and the licence note for the training data. Loading never runs
pickled code (safetensors holds only tensors).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from ..files.writing import atomic_write_bytes
from ..genres import Genre, genre_from_dict, genre_to_dict
from ..paths import DEFAULT_MODEL, IN_CHECKOUT, REPO_MODELS, installed_package_dir, legacy_models_dirs, user_models_dir
from ..tokens.codec import codec_mismatch, codec_params
from .card import check_card_fields, voice_sampling_strength
from .network import GenreRNN, ModelConfig

CARD_FORMAT = "musicgen-model"
CARD_VERSION = 1


MODEL_SUFFIXES = (".json", ".safetensors", ".ckpt")  # a model's card, its weights, a training checkpoint


def model_file(path, suffix: str) -> Path:
    """The file of model ``path`` ending in ``suffix``: ``runs/dropout-0.25`` -> ``runs/dropout-0.25.json``.
    A dot in the name stays part of it; an ending .json, .safetensors or .ckpt is replaced."""
    path = Path(path)
    if path.suffix in MODEL_SUFFIXES:
        path = path.with_suffix("")
    return path.with_name(path.name + suffix)


# where a wheel (``pipx install .``, ``pip install .``) put the shipped models: the package musicgen_models
PACKAGED_MODELS = installed_package_dir("musicgen_models") or REPO_MODELS
DATA_LICENCE = (
    "Trained on the music21 corpus. Some of its encodings (notably parts of the Essen folk song "
    "collection and other contributed files) are licensed for non-commercial research use only; "
    "see music21/corpus/license.txt. Treat output of this model as non-commercial unless you retrain "
    "on data you may use commercially."
)


@dataclass
class LoadedModel:
    """A model ready to use: the network (eval mode), its genres, and its card."""

    model: GenreRNN
    genres: list[Genre]
    card: dict
    path: Path

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def genre_keys(self) -> list[str]:
        return [g.key for g in self.genres]


def search_path() -> list[Path]:
    """Folders searched for models, in order: $MUSICGEN_MODELS, the user's model folder (then where earlier
    versions kept it), the checkout's and the installed shipped models."""
    folders = []
    if os.environ.get("MUSICGEN_MODELS"):
        folders.extend(Path(p) for p in os.environ["MUSICGEN_MODELS"].split(os.pathsep) if p)
    folders.extend([user_models_dir(), *legacy_models_dirs()])
    folders.extend([REPO_MODELS, PACKAGED_MODELS] if IN_CHECKOUT else [PACKAGED_MODELS])
    unique = []
    for folder in folders:  # an editable install has REPO_MODELS == PACKAGED_MODELS
        if folder not in unique:
            unique.append(folder)
    return unique


def list_models() -> list[Path]:
    """Card paths of every model on the search path (first occurrence of a name wins)."""
    found, names = [], set()
    for folder in search_path():
        if not folder.is_dir():
            continue
        for card in sorted(folder.glob("*.json")):
            if card.stem not in names and model_file(card, ".safetensors").is_file():
                names.add(card.stem)
                found.append(card)
    return found


def find_model(name_or_path: str | None = None) -> Path:
    """Resolve a model name or a file path to its card path; ValueError if not found."""
    name = name_or_path or DEFAULT_MODEL
    candidate = Path(name)
    if candidate.suffix in (".json", ".safetensors") or candidate.parent != Path("."):
        card = model_file(candidate, ".json")
        if card.is_file():
            return card
        raise ValueError(f"{candidate}: no model file there")
    for folder in search_path():
        card = folder / f"{name}.json"
        if card.is_file():
            return card
    places = ", ".join(str(p) for p in search_path())
    raise ValueError(f"model '{name}' not found (looked in {places})")


def save_model(model: GenreRNN, genres: list[Genre], path, extra_card: dict | None = None) -> Path:
    """Write weights and card atomically; ``path`` may end in .json, .safetensors or nothing."""
    path = Path(path)
    weights_path = model_file(path, ".safetensors")
    card_path = model_file(path, ".json")
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    raw = getattr(model, "module", model)  # unwrap DDP
    raw = getattr(raw, "_orig_mod", raw)  # unwrap torch.compile
    state = {k: v.detach().to(torch.float32).contiguous().clone() for k, v in raw.state_dict().items()}
    card = {
        "format": CARD_FORMAT,
        "version": CARD_VERSION,
        "name": model_file(path, "").name,
        "config": raw.config.to_dict(),
        "codec": codec_params(),
        "genres": [genre_to_dict(g) for g in genres],
        "licence": DATA_LICENCE,
        "parameters": raw.num_parameters(),
    }
    card.update(extra_card or {})
    atomic_write_bytes(weights_path, lambda temp: save_file(state, temp, metadata={"format": CARD_FORMAT}))
    atomic_write_bytes(card_path, lambda temp: Path(temp).write_text(json.dumps(card, indent=2)))
    return card_path


def read_card(path) -> dict:
    """Read and check a model card; ValueError with the reason if it cannot be used."""
    path = model_file(path, ".json")
    try:
        card = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"{path.name}: model card missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path.name}: model card is damaged ({error})") from None
    if not isinstance(card, dict):
        raise ValueError(f"{path.name}: not a musicgen model card (a JSON {type(card).__name__}, not an object)")
    if card.get("format") != CARD_FORMAT:
        raise ValueError(f"{path.name}: not a musicgen model card")
    if card.get("version") != CARD_VERSION:
        raise ValueError(
            f"{path.name}: model file version {card.get('version')} is not supported "
            f"(this musicgen reads version {CARD_VERSION})"
        )
    if card.get("codec") != codec_params():
        raise ValueError(f"{path.name}: {codec_mismatch(card.get('codec') or {})}")
    check_card_fields(card, path.name)
    return card


MAX_HEADER_BYTES = 100_000_000  # safetensors' own limit on the JSON header of a weights file


def _model_config(card: dict, card_path: Path) -> ModelConfig:
    """The network config stored in a card; ValueError naming a missing or unknown setting."""
    try:
        return ModelConfig(**card["config"])
    except KeyError:
        raise ValueError(f"{card_path.name}: model card has no network config") from None
    except TypeError as error:  # an unknown or missing setting
        reason = str(error).split("__init__() ")[-1]
        raise ValueError(
            f"{card_path.name}: model card's network config does not fit this musicgen ({reason})"
        ) from None


def weights_shapes(weights_path) -> dict[str, tuple[int, ...]]:
    """Shape of every tensor in a safetensors file, read from its header (no tensor is loaded);
    ValueError if the file is missing, damaged or shorter than its header says."""
    weights_path = Path(weights_path)
    try:
        size = weights_path.stat().st_size
        with open(weights_path, "rb") as handle:
            prefix = handle.read(8)  # little-endian u64: length of the JSON header that follows
            header_bytes = int.from_bytes(prefix, "little") if len(prefix) == 8 else -1
            if not 0 < header_bytes <= min(MAX_HEADER_BYTES, size - 8):
                raise ValueError(f"{size:,} bytes, no complete header")
            header = json.loads(handle.read(header_bytes))
        tensors = {name: info for name, info in header.items() if name != "__metadata__"}
        needed = 8 + header_bytes + max((int(info["data_offsets"][1]) for info in tensors.values()), default=0)
        if needed != size:
            raise ValueError(f"{size:,} bytes where its header describes {needed:,}")
        return {name: tuple(int(n) for n in info["shape"]) for name, info in tensors.items()}
    except FileNotFoundError:
        raise ValueError(f"{weights_path.name}: weights file missing") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:  # unreadable or malformed header
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"{weights_path.name}: weights file is damaged or truncated ({reason})") from None


def _shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) or "a scalar"


def weights_mismatch(config: ModelConfig, shapes: dict[str, tuple[int, ...]]) -> str | None:
    """What in ``shapes`` (a weights file's tensors) does not fit a network of ``config``, or None."""
    with torch.device("meta"):  # shapes only: nothing is allocated
        wanted = {name: tuple(t.shape) for name, t in GenreRNN(config).state_dict().items()}
    sizes = ", ".join(f"{k} {v}" for k, v in config.to_dict().items() if k != "dropout")
    missing = [name for name in wanted if name not in shapes]
    if missing:
        return f"the weights lack {missing[0]}" + (f" and {len(missing) - 1} more tensors" if len(missing) > 1 else "")
    extra = [name for name in shapes if name not in wanted]
    if extra:
        return f"the weights hold {extra[0]}, which a network of the card's config ({sizes}) does not have"
    wrong = [name for name in wanted if shapes[name] != wanted[name]]
    if not wrong:
        return None
    first = wrong[0]
    more = f" ({len(wrong) - 1} more tensors differ)" if len(wrong) > 1 else ""
    return (
        f"{first} is {_shape_text(shapes[first])} in the weights but {_shape_text(wanted[first])} for the "
        f"card's config ({sizes}){more}"
    )


def check_model(card_path) -> dict:
    """Check a model's card and its weights file (size, header, every tensor's shape) without
    loading the weights; returns the card, or ValueError naming exactly what does not match."""
    card_path = model_file(card_path, ".json")
    card = read_card(card_path)
    config = _model_config(card, card_path)
    weights_path = model_file(card_path, ".safetensors")
    problem = weights_mismatch(config, weights_shapes(weights_path))
    if problem:
        raise ValueError(f"{weights_path.name}: weights do not match the card: {problem}")
    return card


def load_model(name_or_path: str | None = None) -> LoadedModel:
    """Find and load a model by name or path; ValueError with a one-line reason on any problem."""
    card_path = find_model(name_or_path)
    card = check_model(card_path)
    weights_path = model_file(card_path, ".safetensors")
    try:
        state = load_file(str(weights_path))
    except FileNotFoundError:
        raise ValueError(f"{weights_path.name}: weights file missing") from None
    except Exception as error:  # safetensors raises its own error types for damaged files
        raise ValueError(f"{weights_path.name}: weights file is damaged or truncated ({error})") from None
    model = GenreRNN(_model_config(card, card_path))
    try:
        model.load_state_dict(state)
    except RuntimeError as error:  # shapes were checked; e.g. a tensor of another dtype kind
        reason = " ".join(str(error).split())
        raise ValueError(f"{weights_path.name}: weights do not match the card ({reason})") from None
    model.eval()
    model.voice_strength = float(voice_sampling_strength(card))
    genres = [genre_from_dict(g) for g in card["genres"]]
    return LoadedModel(model, genres, card, card_path)

"""The network's sizes: ``ModelConfig``, the one source of their defaults.

Kept apart from ``model.py`` (which imports torch) so the command line and ``TrainConfig`` can
read the defaults without loading torch; ``model.GenreLSTM`` is built from it and every model
file stores it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class ModelConfig:
    """Sizes of the network; stored in every model file."""

    vocab_size: int
    n_genres: int
    n_layer: int = 2
    n_hidden: int = 384
    n_embd: int = 128  # token embedding size
    genre_dim: int = 32  # genre embedding size
    dropout: float = 0.25

    def to_dict(self) -> dict:
        return asdict(self)

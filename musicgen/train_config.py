"""Hyper-parameters of a training run, kept apart from the trainer so the CLI can build its
flags without importing torch."""
from __future__ import annotations

from dataclasses import dataclass, field

from .model_config import ModelConfig
from .paths import DEFAULT_DATASET, user_models_dir

MODEL_SIZES = ("n_layer", "n_hidden", "n_embd", "genre_dim", "dropout")  # fields that shape the network


@dataclass
class TrainConfig:
    """Hyper-parameters of a training run (stored in the checkpoint and the model card)."""

    dataset: str = str(DEFAULT_DATASET)
    # Never the shipped model: a run without --out writes to the user's model folder.
    out: str = field(default_factory=lambda: str(user_models_dir() / "my-model"))
    # Network sizes: defaults from ModelConfig (one source); a resumed run takes them from its checkpoint.
    n_layer: int = ModelConfig.n_layer
    n_hidden: int = ModelConfig.n_hidden
    n_embd: int = ModelConfig.n_embd
    genre_dim: int = ModelConfig.genre_dim
    dropout: float = ModelConfig.dropout
    batch_size: int = 32  # streams per process
    bptt: int = 128  # tokens per window
    lr: float = 3e-3
    min_lr: float = 1e-4
    weight_decay: float = 0.01
    warmup_steps: int = 200
    grad_clip: float = 1.0
    epochs: int = 8
    patience: int = 3  # epochs without validation improvement before stopping
    seed: int = 1337
    bf16: bool = False  # bfloat16 autocast on CPU: oneDNN LSTM backward is ~40x slower in bf16 here
    checkpoint_minutes: float = 5.0
    max_train_pieces: int = 0  # 0 = all; small numbers for tests
    threads: int = 0  # torch threads, 0 = leave default

    def model_config(self, vocab_size: int, n_genres: int):
        """The network's ModelConfig for this run."""
        return ModelConfig(vocab_size, n_genres, self.n_layer, self.n_hidden, self.n_embd,
                           self.genre_dim, self.dropout)

"""Hyper-parameters of a training run, kept apart from the trainer so the CLI can build its
flags without importing torch."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model.config import ModelConfig
from ..paths import DEFAULT_DATASET, user_models_dir

# the fields that shape the network
MODEL_SIZES = ("n_layer", "n_hidden", "n_embd", "genre_dim", "dropout", "cell", "voice_context", "voice_head")


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
    cell: str = ModelConfig.cell
    voice_context: bool = False  # the network also reads what each voice sings (measured in docs/voices.md)
    voice_head: bool = False  # the voice head's scores join the pitch logits, trained with the network
    init_from: str = ""  # start from this model's weights (same sizes; a voice head it lacks starts at zero)
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
    balance_genres: bool = False  # every genre brings about the same number of tokens to an epoch
    threads: int = 0  # torch threads, 0 = leave default

    def model_config(self, vocab_size: int, n_genres: int):
        """The network's ModelConfig for this run."""
        sizes = {name: getattr(self, name) for name in MODEL_SIZES}
        return ModelConfig(vocab_size, n_genres, **sizes)


# What each flag of `musicgen train` does, for its --help (the default is added there).
FLAG_HELP = {
    "dataset": "dataset folder made by `musicgen data build`",
    "out": "model to write: <out>.safetensors + <out>.json (the best so far) and <out>.ckpt (for --resume)",
    "n_layer": "recurrent layers",
    "n_hidden": "units per recurrent layer",
    "n_embd": "size of the token embedding",
    "genre_dim": "size of the genre embedding (it seeds every layer's state and joins every step's input)",
    "dropout": "dropout between layers, 0..1",
    "cell": "recurrent cell: lstm, gru or rnn (the tanh RNN)",
    "voice_context": "feed the network, at every token, each voice's latest pitches and the intervals between the voices (what a reader of the score so far sees)",
    "voice_head": "train the voice head (learned scores of each pitch against the other voices) with the network",
    "init_from": "start from this model's weights (a model name or card path of the same sizes); a voice head it lacks starts at zero",
    "batch_size": "token streams trained side by side in each process",
    "bptt": "tokens per training window (truncated backpropagation through time)",
    "lr": "peak learning rate (AdamW)",
    "min_lr": "learning rate at the end of the cosine schedule",
    "weight_decay": "AdamW weight decay",
    "warmup_steps": "steps of linear learning-rate warm-up",
    "grad_clip": "largest gradient norm; larger ones are scaled down to it",
    "epochs": "passes over the training pieces",
    "patience": "stop early after this many epochs without a better validation loss",
    "seed": "random seed: the same seed, data and flags give the same model",
    "bf16": "bfloat16 autocast on CPU (slower on this project's CPU: oneDNN's LSTM backward is ~40x slower in bf16)",
    "checkpoint_minutes": "minutes between checkpoints to <out>.ckpt (one is also written after every epoch)",
    "max_train_pieces": "train on the first N training pieces only; 0 = all of them",
    "balance_genres": "repeat or thin each genre's pieces per epoch so every genre brings about the same number of tokens (the epoch keeps its length)",
    "threads": "torch threads in each process; 0 = torch's default (OMP_NUM_THREADS if set, else one per CPU core)",
}

"""The network's sizes: ``ModelConfig``, the one source of their defaults.

Kept apart from ``model.py`` (which imports torch) so the command line and ``TrainConfig`` can
read the defaults without loading torch; ``model.GenreRNN`` is built from it and every model
file stores it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

CELLS = ("lstm", "gru", "rnn")
STATE_SHARE = {"lstm": 2, "gru": 1, "rnn": 1}  # state vectors per layer: (h, c) for the LSTM, h for the others


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
    cell: str = "lstm"  # the recurrent cell: "lstm", "gru" or "rnn" (the article's tanh RNN)
    voice_context: bool = False  # the input also tells what each voice sings (tokens.voice_context)
    voice_head: bool = False  # a learned voice-leading score joins the pitch logits (model.voice_head)

    def __post_init__(self):
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {', '.join(CELLS)}, got {self.cell!r}")

    def to_dict(self) -> dict:
        return asdict(self)

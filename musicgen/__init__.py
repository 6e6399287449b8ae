"""musicgen: compose new music in a chosen style with a genre-conditioned LSTM."""

__version__ = "0.1.0"

"""The limits of every setting a person may give, and the library-wide sampling defaults.

Torch-free and importing nothing of musicgen, so every place that checks a setting reads the same
numbers from the ground up: the request's checks (``sampling.request``), the genres' defaults
(``genres``), a model card's checks (``model.card``) and the app's controls.
"""

from __future__ import annotations

MAX_BARS = 512
MAX_SECONDS = 1800.0  # 30 minutes
MAX_EVENTS = 200_000
MIN_TEMPO, MAX_TEMPO = 20.0, 400.0  # quarter notes per minute
MAX_TEMPERATURE = 10.0  # beyond this the distribution is flat noise
MAX_SEED = 2**63 - 1
MAX_PROGRAM = 127
MAX_STYLE_STRENGTH = 4.0
MAX_VOICE_STRENGTH = 4.0  # the voice head's weight when sampling (a card's voice_head.sampling_strength)
# Sampling defaults of a genre whose model card names none (``Genre.style_strength`` / ``top_p``;
# the shipped card names its own per genre, measured: docs/style_levers.md). At style strength 0.5
# the style critic recognised every genre at >= 0.9x its recall of real pieces (at 0: Scottish
# 0.66x, hornpipes 0.90x); at 1.0 some chorales degenerate into runs of short notes.
DEFAULT_STYLE_STRENGTH = 0.5
DEFAULT_TOP_P = 0.95

# Harmonisations sampled side by side by ``musicgen harmonise``, the likeliest melody wins. One: with
# the voice head the plain left-to-right choice cadences better (final bass on the tonic 0.83 against
# 0.73 for 8) and is 4x faster; 8 are harder to tell from Bach (docs/voices.md, "Harmonising a melody").
HARMONISE_CANDIDATES = 1

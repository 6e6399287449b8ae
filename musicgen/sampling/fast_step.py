"""Single-step inference for sampling: one token per sequence per call, state carried.

Two engines with one interface (``context``, ``start``, ``warm``, ``set_genre``, ``step``,
``select``, ``put``, ``concat``), so the sampler in ``generate`` runs on either:

* ``PlainStepper``: the textbook loop, ``GenreRNN.step`` (``nn.LSTM`` / ``nn.GRU`` / ``nn.RNN``
  called for T = 1).
* ``FastStepper``: the same maths written out for T = 1 and compiled with TorchScript
  (``musicgen.sampling.step_kernels``), which is where the module calls lose most of their time (per-call
  setup, oneDNN primitives built for a sequence, the genre embedding and the input projection
  recomputed on every token, Python dispatch of some forty small ops):

  - layer 0's input projection is a table: ``token_embedding @ W_ih[:, :E].T + biases``
    (V, G H), so a token's contribution is one row lookup;
  - every layer's genre part ``g @ W_ih[:, genre columns].T`` (B, G H) is a bias recomputed only
    when the genre weights change (a morph), not per token;
  - LSTM and RNN layers >= 1 do one fused matmul ``[x, h] @ [W_ih; W_hh]``;
  - LSTM gate rows are reordered to (i, f, o, g) so one sigmoid covers three gates;
  - oneDNN is off and autograd is off (``inference_mode``) inside ``context()``.

  With ``int8=True`` the recurrent, fused and head matmuls use dynamically quantized int8
  weights (fbgemm ``linear_dynamic``, one scale per output row; activations quantized on the
  fixed range [-1, 1] of a hidden state, so a row's result never depends on the others in its batch). It reads a quarter of the
  memory per step and follows fp32 closely; it is the sampler's default (``generate.DEFAULT_PRECISION``,
  measured in ``benchmarks/sampling.py``).

``PlainStepper`` keeps the state as ``(h, c)``, each (L, B, H), like ``GenreRNN.forward``;
``FastStepper`` as two lists of per-layer tensors ``(hs, cs)``, each (B, H) (``to_model_state``
converts), which saves slicing and stacking on every step. The GRU and the RNN carry ``c`` as zeros.
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import torch

from ..model.network import GenreRNN, State
from ..tokens import voice_context
from . import context_step, voice_scores
from .step_kernels import StepWeights, kernels
from ..tokens.codec import BOS, LAST_BAR, PITCH, SHIFT, VOICE
from .token_draw import RankSettings, rank

LayerState = tuple  # (hs, cs[, context]): per layer (B, H) each; a voice context (B, RAW_SIZE)

# torch 2.13 prints deprecation notices for quantized tensors and ops; only the int8 path uses them.
_QUANTIZED_DEPRECATION = r"(?s).*quantiz.*deprecated.*"


@contextlib.contextmanager
def _quiet_quantization():
    """Silence torch's deprecation warnings about quantized tensors, only here."""
    with warnings.catch_warnings():
        for category in (UserWarning, DeprecationWarning, FutureWarning):
            warnings.filterwarnings("ignore", message=_QUANTIZED_DEPRECATION, category=category)
        yield


def _quantize_linear(weight: torch.Tensor, bias: torch.Tensor | None):
    """Prepack ``weight`` (N, K) as int8 with one scale per output row, for ``linear_dynamic``."""
    scales = (weight.abs().amax(dim=1) / 127.0).clamp_min(1e-8).double()
    zero_points = torch.zeros(weight.shape[0], dtype=torch.long)
    with _quiet_quantization():
        qweight = torch.quantize_per_channel(weight.contiguous(), scales, zero_points, 0, torch.qint8)
        return torch.ops.quantized.linear_prepack(qweight, bias)


def _span_row(size: int) -> torch.Tensor:
    """(1, size): -1, 1, then zeros; appended to int8 activations to fix their range (step_kernels.linear)."""
    row = torch.zeros(1, size)
    row[0, :2] = torch.tensor([-1.0, 1.0])
    return row


def _reorder_gates(weight: torch.Tensor, hidden: int, cell: str) -> torch.Tensor:
    """LSTM: PyTorch's gate order (i, f, g, o) along dim 0 -> (i, f, o, g); other cells unchanged."""
    if cell != "lstm":
        return weight
    i, f, g, o = weight.split(hidden, dim=0)
    return torch.cat([i, f, o, g], dim=0)


def advance_contexts(raws: torch.Tensor, tokens: list[int], features: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Voice contexts (B, RAW_SIZE) after one more token per row: (the new contexts, their
    embedding rows (B, N_SLOTS), or None without ``features``); see ``tokens.voice_context``."""
    raws = context_step.advance_raws(raws, tokens)
    return raws, context_step.features(raws) if features else None


_MOVES_VOICES = frozenset((BOS, LAST_BAR, *range(PITCH.offset, PITCH.stop), *range(VOICE.offset, VOICE.stop)))
_MOVES_VOICES |= frozenset(range(SHIFT.offset, SHIFT.stop))  # the tokens that change a voice context


def _context_unchanged(raws: torch.Tensor, tokens: list[int]) -> bool:
    """True when a step cannot change what the voice head reads: no token changes a context (a
    duration, a bar line), or no row has named a voice or reached its final bar yet (a one-line
    tune: its context is read only after a VOICE token, which it never writes). Checked in Python,
    cheaper than the step it saves."""
    if not any(token in _MOVES_VOICES for token in tokens):
        return True
    named = any(VOICE.offset <= token < VOICE.stop or token == LAST_BAR for token in tokens)
    return not named and not bool(raws.any())


class PlainStepper:
    """The textbook sampler engine: ``GenreRNN.step`` once per token, default settings.

    A network that reads the voices (``ModelConfig.voice_context`` or ``voice_head``) carries their
    raw context in its state as a third part, (B, RAW_SIZE) integers, so it follows the rows
    wherever the sampler moves them."""

    def __init__(self, model: GenreRNN):
        self.model = model.eval()
        self.weights: torch.Tensor | None = None  # (B, G)
        self.voice_context = model.config.voice_context
        self.voice_head = model.config.voice_head
        self.tracks_voices = self.voice_context or self.voice_head  # the state carries the voices' raw context

    def context(self):
        """Autograd off; everything else as torch sets it."""
        return torch.no_grad()

    def start(self, weights: torch.Tensor) -> State:
        """Genre-seeded state for weights (B, G)."""
        state = self.model.initial_state(weights)
        if self.tracks_voices:
            return (*state, torch.zeros(state[0].shape[1], voice_context.RAW_SIZE, dtype=torch.long))
        return state

    def warm(self, tokens: torch.Tensor, weights: torch.Tensor, state: State) -> State:
        """Run tokens (B, T) through the network in one pass; returns the state after them."""
        if not self.tracks_voices:
            return self.model(tokens, weights, state)[1]
        if tokens.shape[1] == 0:
            return state
        every = torch.from_numpy(voice_context.batch_raws(tokens.numpy(), state[2].tolist()))  # (B, T, RAW_SIZE)
        features = None
        if self.voice_context:  # the embedding rows of the same contexts, (B, T, N_SLOTS)
            features = context_step.features(every.flatten(0, 1)).view(*tokens.shape, -1)
        new_state = self.model(tokens, weights, state[:2], features, every if self.voice_head else None)[1]
        return (*new_state, every[:, -1].clone())

    def set_genre(self, weights: torch.Tensor) -> None:
        """Genre weights (B, G) used from the next step on."""
        self.weights = weights

    def step(self, tokens: list[int] | torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """tokens (B,) -> logits (B, V) and the new state."""
        tokens = torch.as_tensor(tokens)
        if not self.tracks_voices:
            return self.model.step(tokens, self.weights, state)
        raws, features = advance_contexts(state[2], tokens.tolist(), self.voice_context)
        logits, new_state = self.model.step(
            tokens, self.weights, state[:2], features, raws if self.voice_head else None
        )
        return logits, (*new_state, raws)

    def step_ranked(self, tokens: list[int], state: State, settings: RankSettings) -> tuple[tuple, State]:
        """``step``, then ``token_draw.rank(logits, settings)``: (the ranked likeliest tokens, the new state)."""
        logits, state = self.step(tokens, state)
        return rank(logits, settings), state

    @staticmethod
    def select(state: State, rows: torch.Tensor) -> State:
        """Keep only the batch rows ``rows`` (K,) of the state."""
        return (state[0].index_select(1, rows), state[1].index_select(1, rows), *_context_rows(state, rows))

    @staticmethod
    def put(state: State, row: int, saved: State) -> None:
        """Overwrite batch row ``row`` of ``state`` in place with a one-row state ``saved``."""
        state[0][:, row] = saved[0][:, 0]
        state[1][:, row] = saved[1][:, 0]
        _put_context(state, row, saved)

    @staticmethod
    def concat(states: list[State]) -> State:
        """Join states along the batch dimension."""
        joined = torch.cat([s[0] for s in states], dim=1), torch.cat([s[1] for s in states], dim=1)
        return (*joined, *_joined_contexts(states))


def _context_rows(state: tuple, rows: torch.Tensor) -> tuple:
    """The voice-context part of ``state`` for ``rows``, as a 0- or 1-tuple."""
    return (state[2].index_select(0, rows),) if len(state) == 3 else ()


def _put_context(state: tuple, row: int, saved: tuple) -> None:
    if len(state) == 3:
        state[2][row] = saved[2][0]


def _joined_contexts(states: list[tuple]) -> tuple:
    return (torch.cat([s[2] for s in states]),) if len(states[0]) == 3 else ()


class FastStepper(PlainStepper):
    """Compiled single-step inference for ``GenreRNN`` of any cell (see the module docstring)."""

    def __init__(self, model: GenreRNN, int8: bool = False):
        super().__init__(model)
        config = model.config
        self.int8, self.cell = int8, config.cell
        self.n_layer, self.hidden = config.n_layer, config.n_hidden
        H, E = config.n_hidden, config.n_embd
        fused = self.cell != "gru"  # the GRU's reset gate scales only the recurrent part

        def weight(layer: int, name: str) -> torch.Tensor:
            return _reorder_gates(getattr(model.layers[layer], name).detach().float(), H, self.cell)

        with torch.no_grad():
            w_ih0 = weight(0, "weight_ih_l0")  # (G H, E + D)
            bias0 = weight(0, "bias_ih_l0") + (weight(0, "bias_hh_l0") if fused else 0)
            # Token part of layer 0's input projection, with its biases: (V, G H).
            self.token_gates = torch.addmm(bias0, model.token_embedding.weight.detach().float(), w_ih0[:, :E].t())
            if self.voice_context:  # each context row's part of layer 0's input projection: (TABLE_SIZE, G H)
                self.context_gates = model.context_embedding.weight.detach().float() @ w_ih0[:, :E].t()
            self.genre_embedding = model.genre_embedding.weight.detach().float().t().contiguous()  # (G, D)
            # Per layer: the genre's columns of the input weights (D, G H) and the input biases (G H,)
            # (layer 0's are in token_gates already).
            self.genre_to_gates = [w_ih0[:, E:].t().contiguous()]
            self.biases = [torch.zeros(w_ih0.shape[0])]
            weights = [weight(0, "weight_hh_l0")]  # as (N, K), numbered as step_kernels says
            self.hidden_bias = [weight(0, "bias_hh_l0")] if not fused else []
            for layer in range(1, self.n_layer):
                w_ih, w_hh = weight(layer, "weight_ih_l0"), weight(layer, "weight_hh_l0")  # (G H, H + D), (G H, H)
                if fused:
                    weights.append(torch.cat([w_ih[:, :H], w_hh], dim=1))
                    self.biases.append(weight(layer, "bias_ih_l0") + weight(layer, "bias_hh_l0"))
                else:
                    weights += [w_ih[:, :H], w_hh]
                    self.biases.append(weight(layer, "bias_ih_l0"))
                    self.hidden_bias.append(weight(layer, "bias_hh_l0"))
                self.genre_to_gates.append(w_ih[:, H:].t().contiguous())
            weights.append(model.head.weight.detach().float())  # (V, H)
            self.head_bias = model.head.bias.detach().float().clone()  # (V,)
            self.head_bias_array = self.head_bias.numpy()
            if self.voice_head:  # the voice head's tables, for sampling.voice_scores
                strength = model.voice_strength  # the head's weight when sampling (as network.step)
                self.voice_tables = [(table.detach().float() * strength).numpy() for table in model.voice_head.tables()]
                self.row_scores = voice_scores.RowScores(self.voice_tables)
            self.weight_shapes = [tuple(w.shape) for w in weights]  # (N, K) of every matmul, in kernel order
            self.mats = [] if int8 else [w.t().contiguous() for w in weights]  # (K, N) each
            self.packed = [_quantize_linear(w, None) for w in weights] if int8 else []
            self.spans = [_span_row(w.shape[1]) for w in weights] if int8 else []
        self.kernels = kernels()
        self.genre_gates = [torch.zeros(1, w.shape[1]) for w in self.genre_to_gates]  # per layer (B, G H)

    def context(self):
        """Inference mode with oneDNN off: the fast path's matmuls are plain BLAS calls."""
        stack = contextlib.ExitStack()
        stack.enter_context(torch.inference_mode())
        # None leaves the TF32/precision flags alone (setting them warns on CPU-only builds).
        stack.enter_context(
            torch.backends.mkldnn.flags(enabled=False, deterministic=None, allow_tf32=None, fp32_precision=None)
        )
        if self.int8:
            stack.enter_context(_quiet_quantization())
        return stack

    def set_genre(self, weights: torch.Tensor) -> None:
        """Fold the genre's share of every layer's input projection (and the input biases of
        layers >= 1) into one bias per layer, each (B, G H)."""
        super().set_genre(weights)
        # Row by row: a BLAS call's rounding may depend on its number of rows, and a row's result
        # must not depend on the rest of its batch.
        rows = weights.float().split(1)
        self.genre_gates = [
            torch.cat([torch.addmm(bias, row @ self.genre_embedding, w) for row in rows])
            for bias, w in zip(self.biases, self.genre_to_gates)
        ]

    @staticmethod
    def to_layers(state: State) -> LayerState:
        """``(h, c)``, each (L, B, H) -> per-layer lists ``(hs, cs)``, each (B, H) (a voice context,
        the third part, is kept as it is)."""
        h, c = state[:2]
        hs = [h[layer].contiguous() for layer in range(h.shape[0])]
        return (hs, [c[layer].contiguous() for layer in range(c.shape[0])], *state[2:])

    @staticmethod
    def to_model_state(layers: LayerState) -> State:
        """Per-layer lists -> ``(h, c)``, each (L, B, H), as ``GenreRNN.forward`` takes it."""
        return (torch.stack(layers[0]), torch.stack(layers[1]), *layers[2:])

    def start(self, weights: torch.Tensor) -> LayerState:
        return self.to_layers(super().start(weights))

    def warm(self, tokens: torch.Tensor, weights: torch.Tensor, state: LayerState) -> LayerState:
        return self.to_layers(super().warm(tokens, weights, self.to_model_state(state)))

    @staticmethod
    def select(state: LayerState, rows: torch.Tensor) -> LayerState:
        selected = [h.index_select(0, rows) for h in state[0]], [c.index_select(0, rows) for c in state[1]]
        return (*selected, *_context_rows(state, rows))

    @staticmethod
    def put(state: LayerState, row: int, saved: LayerState) -> None:
        for part, saved_part in zip(state[:2], saved[:2]):
            for tensor, saved_tensor in zip(part, saved_part):
                tensor[row] = saved_tensor[0]
        _put_context(state, row, saved)

    @staticmethod
    def concat(states: list[LayerState]) -> LayerState:
        layers = range(len(states[0][0]))
        joined = (
            [torch.cat([s[0][layer] for s in states]) for layer in layers],
            [torch.cat([s[1][layer] for s in states]) for layer in layers],
        )
        return (*joined, *_joined_contexts(states))

    def _advance(self, tokens: list[int], state: LayerState) -> tuple[StepWeights, tuple]:
        """This step's weights (layer 0's genre bias with the rows' voice context added, the head's
        bias with the voice head's pitch scores) and the context part of the new state (empty
        when the network reads no voices)."""
        if not self.tracks_voices:
            return self._weights(self.genre_gates, self.head_bias), ()
        if not self.voice_context and _context_unchanged(state[2], tokens):
            return self._weights(self.genre_gates, self.head_bias), (state[2],)
        genre_gates, head_bias = self.genre_gates, self.head_bias
        raws, rows = advance_contexts(state[2], tokens, self.voice_context)
        if self.voice_context:
            # row lookups summed per row, like the token's table row: a row's result never depends on its batch
            gates = self.context_gates.index_select(0, rows.view(-1)).view(len(tokens), -1, self.context_gates.shape[1])
            genre_gates = [self.genre_gates[0] + gates.sum(1), *self.genre_gates[1:]]
        voiced = [row for row, token in enumerate(tokens) if VOICE.offset <= token < VOICE.stop]
        if self.voice_head and voiced:  # rows about to write a pitch: the voice head scores them
            head_bias = self._voice_biases(raws.numpy(), voiced)
        return self._weights(genre_gates, head_bias), (raws,)

    def _voice_biases(self, raws: np.ndarray, rows: list[int]) -> torch.Tensor:
        """The head's biases (B, V) for this step: the head's bias with the voice head's pitch scores
        added to the rows ``rows`` (their token is a VOICE token); raws (B, RAW_SIZE)."""
        biases = np.tile(self.head_bias_array, (raws.shape[0], 1))
        if len(rows) <= context_step.ROW_BY_ROW:  # one row at a time is cheaper for a few
            for row in rows:
                biases[row, PITCH.offset : PITCH.stop] += self.row_scores.scores(raws[row].tolist())
        else:
            biases[rows, PITCH.offset : PITCH.stop] += voice_scores.pitch_scores(self.voice_tables, raws[rows])
        return torch.from_numpy(biases)

    def _weights(self, genre_gates: list[torch.Tensor], head_bias: torch.Tensor) -> StepWeights:
        """The prepared weights as the kernels take them, with this step's genre and head biases."""
        return StepWeights(
            self.token_gates,
            genre_gates,
            self.mats,
            self.packed,
            self.spans,
            self.hidden_bias,
            head_bias,
            self.int8,
        )

    def step(self, tokens: list[int] | torch.Tensor, state: LayerState) -> tuple[torch.Tensor, LayerState]:
        """tokens (B,) -> logits (B, V) and the new state; call inside ``context()``."""
        if torch.is_tensor(tokens):
            tokens = tokens.tolist()
        weights, context = self._advance(tokens, state)
        logits, hs, cs = self.kernels.network_step(self.cell, tokens, state[0], state[1], weights)
        return logits, (hs, cs, *context)

    def step_ranked(self, tokens: list[int], state: LayerState, settings: RankSettings) -> tuple[tuple, LayerState]:
        """``step`` and ``token_draw.rank`` in one compiled call (``step_kernels.network_step_ranked``)."""
        weights, context = self._advance(tokens, state)
        ranked, hs, cs = self.kernels.network_step_ranked(self.cell, tokens, state[0], state[1], weights, settings)
        return ranked, (hs, cs, *context)

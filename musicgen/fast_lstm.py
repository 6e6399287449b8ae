"""Single-step LSTM inference for sampling: one token per sequence per call, state carried.

Two engines with one interface (``context``, ``start``, ``warm``, ``set_genre``, ``step``,
``select``, ``concat``), so the sampler in ``generate`` runs on either:

* ``PlainStepper``: the textbook loop, ``GenreLSTM.step`` (``nn.LSTM`` called for T = 1).
* ``FastLSTM``: the same maths written out for T = 1, which is where ``nn.LSTM`` loses
  most of its time (per-call setup, oneDNN primitives built for a sequence, the genre
  embedding and the input projection recomputed on every token):

  - layer 0's input projection is a table: ``token_embedding @ W_ih[:, :E].T + b_ih + b_hh``
    (V, 4H), so a token's contribution is one row lookup;
  - every layer's genre part ``g @ W_ih[:, genre columns].T`` (B, 4H) is a bias recomputed only
    when the genre weights change (a morph), not per token;
  - layers >= 1 do one fused matmul ``[x, h] @ [W_ih, W_hh].T`` with ``torch.addmm``;
  - gate rows are reordered to (i, f, o, g) so one sigmoid covers three gates;
  - oneDNN is off and autograd is off (``inference_mode``) inside ``context()``.

  With ``int8=True`` the recurrent, fused and head matmuls use dynamically quantized int8
  weights (fbgemm ``linear_dynamic``, one scale per output row; activations quantized row by
  row, so a row's result never depends on the others in its batch). It reads a quarter of the
  memory per step and follows fp32 closely; it is the sampler's default (``generate.DEFAULT_PRECISION``,
  measured in ``benchmarks/sampling.py``). A fused-cell variant (``torch.lstm_cell`` and
  ``quantized_lstm_cell_dynamic``, one call per layer) measured no faster here (int8 3,579 vs
  3,911 events/s) and was dropped.

``PlainStepper`` keeps the state as ``(h, c)``, each (L, B, H), like ``GenreLSTM.forward``;
``FastLSTM`` as a list of per-layer ``(h, c)`` pairs, each (B, H) (``to_model_state``
converts), which saves slicing and stacking on every step.
"""

from __future__ import annotations

import contextlib
import warnings

import torch

from .model import GenreLSTM, State

LayerState = list[tuple[torch.Tensor, torch.Tensor]]  # per layer (h, c), each (B, H)

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


def _linear_int8(x: torch.Tensor, packed) -> torch.Tensor:
    """``x @ W.T (+ b)`` with int8 weights, each row of ``x`` (B, K) quantized on its own: fbgemm
    quantizes the activations of one call with one scale, so rows sampled together would change
    each other's result; row by row, a piece is the same whatever else is in its batch."""
    if x.shape[0] == 1:
        return torch.ops.quantized.linear_dynamic(x, packed, True)
    return torch.cat([torch.ops.quantized.linear_dynamic(row, packed, True) for row in x.split(1)])


def _reorder_gates(weight: torch.Tensor, hidden: int) -> torch.Tensor:
    """PyTorch's gate order (i, f, g, o) along dim 0 -> (i, f, o, g)."""
    i, f, g, o = weight.split(hidden, dim=0)
    return torch.cat([i, f, o, g], dim=0)


class PlainStepper:
    """The textbook sampler engine: ``GenreLSTM.step`` once per token, default settings."""

    def __init__(self, model: GenreLSTM):
        self.model = model.eval()
        self.weights: torch.Tensor | None = None  # (B, G)

    def context(self):
        """Autograd off; everything else as torch sets it."""
        return torch.no_grad()

    def start(self, weights: torch.Tensor) -> State:
        """Genre-seeded state for weights (B, G)."""
        return self.model.initial_state(weights)

    def warm(self, tokens: torch.Tensor, weights: torch.Tensor, state: State) -> State:
        """Run tokens (B, T) through the network in one pass; returns the state after them."""
        return self.model(tokens, weights, state)[1]

    def set_genre(self, weights: torch.Tensor) -> None:
        """Genre weights (B, G) used from the next step on."""
        self.weights = weights

    def step(self, tokens: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """tokens (B,) -> logits (B, V) and the new state."""
        return self.model.step(tokens, self.weights, state)

    @staticmethod
    def select(state: State, rows: torch.Tensor) -> State:
        """Keep only the batch rows ``rows`` (K,) of the state."""
        return state[0].index_select(1, rows), state[1].index_select(1, rows)

    @staticmethod
    def put(state: State, row: int, saved: State) -> None:
        """Overwrite batch row ``row`` of ``state`` in place with a one-row state ``saved``."""
        state[0][:, row] = saved[0][:, 0]
        state[1][:, row] = saved[1][:, 0]

    @staticmethod
    def concat(states: list[State]) -> State:
        """Join states along the batch dimension."""
        return torch.cat([s[0] for s in states], dim=1), torch.cat([s[1] for s in states], dim=1)


class FastLSTM(PlainStepper):
    """Hand-written single-step inference for ``GenreLSTM`` (see the module docstring)."""

    def __init__(self, model: GenreLSTM, int8: bool = False):
        super().__init__(model)
        config = model.config
        self.int8 = int8
        self.n_layer, self.hidden = config.n_layer, config.n_hidden
        H, E = config.n_hidden, config.n_embd

        def weight(layer: int, name: str) -> torch.Tensor:
            return _reorder_gates(getattr(model.layers[layer], name).detach().float(), H)

        with torch.no_grad():
            w_ih0 = weight(0, "weight_ih_l0")  # (4H, E + D)
            # Token part of layer 0's input projection, with both biases: (V, 4H).
            self.token_gates = torch.addmm(
                weight(0, "bias_ih_l0") + weight(0, "bias_hh_l0"),
                model.token_embedding.weight.detach().float(),
                w_ih0[:, :E].t(),
            ).contiguous()
            self.genre_embedding = model.genre_embedding.weight.detach().float().t().contiguous()  # (G, D)
            self.w_hh0 = weight(0, "weight_hh_l0").t().contiguous()  # (H, 4H)
            # Per layer: the genre's columns of the input weights (D, 4H) and the biases (4H,)
            # (layer 0's biases are in token_gates already).
            self.genre_to_gates = [w_ih0[:, E:].t().contiguous()]
            self.biases = [torch.zeros(4 * H)]
            self.w_cat = [None]  # layers >= 1: [W_ih(x part), W_hh] as (2H, 4H)
            for layer in range(1, self.n_layer):
                w_ih = weight(layer, "weight_ih_l0")  # (4H, H + D)
                self.w_cat.append(torch.cat([w_ih[:, :H], weight(layer, "weight_hh_l0")], dim=1).t().contiguous())
                self.genre_to_gates.append(w_ih[:, H:].t().contiguous())
                self.biases.append(weight(layer, "bias_ih_l0") + weight(layer, "bias_hh_l0"))
            self.head_w = model.head.weight.detach().float().t().contiguous()  # (H, V)
            self.head_b = model.head.bias.detach().float().clone()  # (V,)
            if int8:
                self.q_hh0 = _quantize_linear(self.w_hh0.t(), None)
                self.q_cat = [None] + [
                    _quantize_linear(self.w_cat[layer].t(), None) for layer in range(1, self.n_layer)
                ]
                self.q_head = _quantize_linear(self.head_w.t(), self.head_b)
        self.genre_gates = [torch.zeros(1, 4 * H)] * self.n_layer  # per layer (B, 4H), set by set_genre

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
        """Fold the genre's share of every layer's input projection (and the biases of layers
        >= 1) into one bias per layer, each (B, 4H)."""
        super().set_genre(weights)
        g = weights.float() @ self.genre_embedding  # (B, D)
        self.genre_gates = [torch.addmm(bias, g, w) for bias, w in zip(self.biases, self.genre_to_gates)]

    @staticmethod
    def to_layers(state: State) -> LayerState:
        """``(h, c)``, each (L, B, H) -> per-layer pairs, each (B, H)."""
        h, c = state
        return [(h[layer].contiguous(), c[layer].contiguous()) for layer in range(h.shape[0])]

    @staticmethod
    def to_model_state(layers: LayerState) -> State:
        """Per-layer pairs -> ``(h, c)``, each (L, B, H), as ``GenreLSTM.forward`` takes it."""
        return torch.stack([h for h, _ in layers]), torch.stack([c for _, c in layers])

    def start(self, weights: torch.Tensor) -> LayerState:
        return self.to_layers(super().start(weights))

    def warm(self, tokens: torch.Tensor, weights: torch.Tensor, state: LayerState) -> LayerState:
        return self.to_layers(super().warm(tokens, weights, self.to_model_state(state)))

    @staticmethod
    def select(state: LayerState, rows: torch.Tensor) -> LayerState:
        return [(h.index_select(0, rows), c.index_select(0, rows)) for h, c in state]

    @staticmethod
    def put(state: LayerState, row: int, saved: LayerState) -> None:
        for (h, c), (saved_h, saved_c) in zip(state, saved):
            h[row] = saved_h[0]
            c[row] = saved_c[0]

    @staticmethod
    def concat(states: list[LayerState]) -> LayerState:
        return [
            (torch.cat([s[layer][0] for s in states]), torch.cat([s[layer][1] for s in states]))
            for layer in range(len(states[0]))
        ]

    def step(self, tokens: torch.Tensor, state: LayerState) -> tuple[torch.Tensor, LayerState]:
        """tokens (B,) -> logits (B, V) and the new state; call inside ``context()``."""
        H = self.hidden
        new_state = []
        x = None
        for layer, (h, c) in enumerate(state):
            if layer == 0:
                gates = self.token_gates.index_select(0, tokens)  # (B, 4H): token part + biases
                gates += self.genre_gates[0]
                if self.int8:
                    gates += _linear_int8(h, self.q_hh0)
                else:
                    gates.addmm_(h, self.w_hh0)
            else:
                joined = torch.cat([x, h], dim=1)  # (B, 2H)
                if self.int8:
                    gates = _linear_int8(joined, self.q_cat[layer])
                    gates += self.genre_gates[layer]
                else:
                    gates = torch.addmm(self.genre_gates[layer], joined, self.w_cat[layer])  # (B, 4H)
            i, f, o = gates[:, : 3 * H].sigmoid_().chunk(3, dim=1)
            candidate = gates[:, 3 * H :].tanh_()
            c = torch.addcmul(f * c, i, candidate)  # c' = f c + i g
            x = o * torch.tanh(c)  # h' = o tanh(c')
            new_state.append((x, c))
        if self.int8:
            logits = _linear_int8(x, self.q_head)
        else:
            logits = torch.addmm(self.head_b, x, self.head_w)  # (B, V)
        return logits, new_state

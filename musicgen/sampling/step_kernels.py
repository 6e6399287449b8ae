"""TorchScript kernels of one sampling step: the network's step for each cell.

Compiled once per process (``kernels()``, on first use) so a step is one call into TorchScript
instead of some thirty small eager ops, each with its Python dispatch (the int8 ops cost most:
about 20 us each from Python, measured: a tiny int8 model's step takes 35 us compiled, 98 us
eager). ``network_step_ranked`` adds the tensor half of the draw (``token_draw.rank``); the pick
itself stays in Python (``token_draw.pick``): with ``bisect`` it is faster there. The weights come
as one ``StepWeights`` and the draw's settings as one ``token_draw.RankSettings``. The maths is that of
``GenreRNN.forward`` for T = 1, with the weights prepared by ``fast_step.FastStepper``:

* ``token_gates`` (V, G H): layer 0's token part of the input projection, one row per token;
* ``genre_gates[l]`` (B, G H): layer l's genre part plus its input bias (a per-row bias);
* ``mats[m]`` (K, N) fp32, or ``packed[m]`` int8 (fbgemm ``linear_dynamic``), numbered:
  LSTM and RNN: 0 = layer 0's recurrent weights, l = layer l's ``[W_x; W_h]`` (fused matmul over
  ``[x, h]``), L = the head; GRU: 0 = layer 0's recurrent, 2l-1 / 2l = layer l's input / recurrent
  weights (its reset gate scales only the recurrent part), 2L-1 = the head;
* ``spans[m]`` (1, K): int8 only, the row that fixes the activations' range (see ``linear``);
* ``hidden_bias[l]`` (N,): the GRU's recurrent biases (empty for the other cells).

LSTM gate rows are in the order (i, f, o, g) so one sigmoid covers three gates; the GRU keeps
PyTorch's (r, z, n). int8 activations are quantized on one fixed range ([-1, 1], see ``linear``),
so a row's result never depends on the rest of its batch (a piece is the same alone or in a batch).
"""

from __future__ import annotations

import threading
import warnings
from typing import List, NamedTuple, Tuple

import torch
from torch import Tensor

from .token_draw import RankSettings, rank

Packed = torch.classes.quantized.LinearPackedParamsBase
StepResult = Tuple[Tensor, List[Tensor], List[Tensor]]  # logits (B, V), then per layer the new h and c (B, H)


class StepWeights(NamedTuple):
    """The network's weights as ``fast_step.FastStepper`` prepares them for one step, numbered as
    the module docstring says; the kernels take them whole (a TorchScript named tuple)."""

    token_gates: Tensor  # (V, G H)
    genre_gates: List[Tensor]  # per layer (B, G H)
    mats: List[Tensor]  # fp32 (K, N) each; empty for int8
    packed: List[Packed]  # int8 (fbgemm); empty for fp32
    spans: List[Tensor]  # int8: (1, K) each, the activations' fixed range
    hidden_bias: List[Tensor]  # the GRU's recurrent biases; empty for the other cells
    head_bias: Tensor  # (V,), or (B, V) with the voice head's per-row pitch scores
    int8: bool


def linear(x: Tensor, m: int, w: StepWeights) -> Tensor:
    """``x`` (B, K) times weight ``m``: (B, N), without bias.

    int8: fbgemm quantizes a call's activations with one scale and zero point from the whole
    tensor's range, so rows sampled together would change each other's result. Every input here
    is a hidden state, which lies in [-1, 1] (tanh, a gate times tanh, or the GRU's clamped mix of
    two such), so one extra row ``spans[m]`` (1, K) holding -1 and 1 fixes that range: each row is
    quantized the same way alone or in any batch, and its result (integer sums, then per-element
    scaling) is bitwise the same.
    """
    if not w.int8:
        return torch.mm(x, w.mats[m])
    rows = x.size(0)
    return torch.ops.quantized.linear_dynamic(torch.cat([x, w.spans[m]]), w.packed[m], True).narrow(0, 0, rows)


def token_rows(table: Tensor, tokens: List[int]) -> Tensor:
    """Rows ``tokens`` (B) of ``table`` (V, N): (B, N); one row is a view (no copy)."""
    if len(tokens) == 1:
        return table[tokens[0]].unsqueeze(0)
    return table.index_select(0, torch.tensor(tokens))


def fused_preactivation(layer: int, tokens: List[int], x: Tensor, hs: List[Tensor], w: StepWeights) -> Tensor:
    """LSTM and RNN: layer ``layer``'s input and recurrent parts with biases, (B, G H); layer 0's
    input is the token (a table row), a higher layer's the output ``x`` of the one below."""
    if layer == 0:
        return token_rows(w.token_gates, tokens) + w.genre_gates[0] + linear(hs[0], 0, w)
    return linear(torch.cat([x, hs[layer]], 1), layer, w) + w.genre_gates[layer]


def lstm_step(tokens: List[int], hs: List[Tensor], cs: List[Tensor], w: StepWeights) -> StepResult:
    """tokens (B) -> logits (B, V), new hs and cs (each a list of (B, H))."""
    H = hs[0].size(1)
    new_h: List[Tensor] = []
    new_c: List[Tensor] = []
    x = hs[0]
    for layer in range(len(hs)):
        gates = fused_preactivation(layer, tokens, x, hs, w)
        i, f, o = gates.narrow(1, 0, 3 * H).sigmoid().chunk(3, 1)
        c = torch.addcmul(f * cs[layer], i, gates.narrow(1, 3 * H, H).tanh())
        x = o * c.tanh()
        new_h.append(x)
        new_c.append(c)
    logits = linear(x, len(hs), w) + w.head_bias
    return logits, new_h, new_c


def rnn_step(tokens: List[int], hs: List[Tensor], cs: List[Tensor], w: StepWeights) -> StepResult:
    """The tanh RNN: h' = tanh(W_x x + W_h h + b); ``cs`` passes through unchanged."""
    new_h: List[Tensor] = []
    x = hs[0]
    for layer in range(len(hs)):
        x = fused_preactivation(layer, tokens, x, hs, w).tanh()
        new_h.append(x)
    logits = linear(x, len(hs), w) + w.head_bias
    return logits, new_h, cs


def gru_step(tokens: List[int], hs: List[Tensor], cs: List[Tensor], w: StepWeights) -> StepResult:
    """The GRU: r, z = sigmoid(...), n = tanh(x part + r * (W_hn h + b_hn)), h' = n + z (h - n)."""
    H = hs[0].size(1)
    new_h: List[Tensor] = []
    x = hs[0]
    for layer in range(len(hs)):
        if layer == 0:
            from_x = token_rows(w.token_gates, tokens) + w.genre_gates[0]
            from_h = linear(hs[0], 0, w) + w.hidden_bias[0]
        else:
            from_x = linear(x, 2 * layer - 1, w) + w.genre_gates[layer]
            from_h = linear(hs[layer], 2 * layer, w) + w.hidden_bias[layer]
        r, z = (from_x.narrow(1, 0, 2 * H) + from_h.narrow(1, 0, 2 * H)).sigmoid().chunk(2, 1)
        n = torch.addcmul(from_x.narrow(1, 2 * H, H), r, from_h.narrow(1, 2 * H, H)).tanh()
        # A mix of two values in [-1, 1] may round a hair outside it; int8 needs [-1, 1] (see linear).
        x = torch.addcmul(n, z, hs[layer] - n).clamp(-1.0, 1.0)
        new_h.append(x)
    logits = linear(x, 2 * len(hs) - 1, w) + w.head_bias
    return logits, new_h, cs


def network_step(cell: str, tokens: List[int], hs: List[Tensor], cs: List[Tensor], w: StepWeights) -> StepResult:
    """The step of ``cell`` ("lstm", "gru" or "rnn"): tokens (B) -> logits (B, V), hs, cs."""
    if cell == "lstm":
        return lstm_step(tokens, hs, cs, w)
    if cell == "gru":
        return gru_step(tokens, hs, cs, w)
    return rnn_step(tokens, hs, cs, w)


def network_step_ranked(
    cell: str, tokens: List[int], hs: List[Tensor], cs: List[Tensor], w: StepWeights, settings: RankSettings
) -> Tuple[Tuple[Tensor, Tensor, Tensor], List[Tensor], List[Tensor]]:
    """``network_step``, then ``token_draw.rank`` of its logits under ``settings``: (running
    probabilities (B, k), token ids (B, k), probabilities (B, V)), hs, cs; all the tensor work of a
    sampling step in one call."""
    logits, new_h, new_c = network_step(cell, tokens, hs, cs, w)
    return rank(logits, settings), new_h, new_c


class Kernels:
    """The compiled kernels (``network_step``, ``network_step_ranked``); ``compiled`` is False
    where TorchScript is missing."""

    def __init__(self):
        with warnings.catch_warnings():  # torch 2.13 calls TorchScript deprecated; it is what runs fastest here
            warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*deprecated", category=DeprecationWarning)
            warnings.filterwarnings("ignore", message=r"(?s).*quantiz.*deprecated.*")
            try:
                self.network_step = torch.jit.script(network_step)
                self.network_step_ranked = torch.jit.script(network_step_ranked)
                self.compiled = True
            except Exception:  # a torch without TorchScript: the same functions run eagerly, slower
                self.network_step, self.network_step_ranked = network_step, network_step_ranked
                self.compiled = False


_KERNELS: Kernels | None = None
_COMPILING = threading.Lock()  # the app's worker threads may ask at the same time


def kernels() -> Kernels:
    """The process's compiled kernels (compiled on first use, in about 0.05 s)."""
    global _KERNELS
    with _COMPILING:
        if _KERNELS is None:
            _KERNELS = Kernels()
    return _KERNELS

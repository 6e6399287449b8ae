"""TorchScript kernels of one sampling step: the network's step for each cell, and the draw.

Compiled once per process (``kernels()``, on first use) so a step is two calls into TorchScript
instead of some forty small eager ops, each with its Python dispatch. The maths is that of
``GenreRNN.forward`` for T = 1, with the weights prepared by ``fast_step.FastStepper``:

* ``token_gates`` (V, G H): layer 0's token part of the input projection, one row per token;
* ``genre_gates[l]`` (B, G H): layer l's genre part plus its input bias (a per-row bias);
* ``mats[m]`` (K, N) fp32, or ``packed[m]`` int8 (fbgemm ``linear_dynamic``), numbered:
  LSTM and RNN: 0 = layer 0's recurrent weights, l = layer l's ``[W_x; W_h]`` (fused matmul over
  ``[x, h]``), L = the head; GRU: 0 = layer 0's recurrent, 2l-1 / 2l = layer l's input / recurrent
  weights (its reset gate scales only the recurrent part), 2L-1 = the head;
* ``hidden_bias[l]`` (N,): the GRU's recurrent biases (empty for the other cells).

LSTM gate rows are in the order (i, f, o, g) so one sigmoid covers three gates; the GRU keeps
PyTorch's (r, z, n). int8 rows are quantized one at a time, so a row's result never depends on
the rest of its batch (a piece is the same alone or in a batch).

``draw`` turns logits into one token per row: style guidance, the grammar masks, chords that go
upwards, temperature, then top-k and top-p over the sorted distribution and one inverse-CDF draw
with the row's own uniform number (float64, as Python's ``bisect`` would).
"""

from __future__ import annotations

import warnings
from typing import List, Tuple

import torch
from torch import Tensor

Packed = torch.classes.quantized.LinearPackedParamsBase


def linear(x: Tensor, m: int, mats: List[Tensor], packed: List[Packed], int8: bool) -> Tensor:
    """``x`` (B, K) times weight ``m``: (B, N), without bias."""
    if not int8:
        return torch.mm(x, mats[m])
    if x.size(0) == 1:
        return torch.ops.quantized.linear_dynamic(x, packed[m], True)
    rows: List[Tensor] = []
    for r in range(x.size(0)):
        rows.append(torch.ops.quantized.linear_dynamic(x[r : r + 1], packed[m], True))
    return torch.cat(rows)


def lstm_step(
    tokens: Tensor,
    hs: List[Tensor],
    cs: List[Tensor],
    token_gates: Tensor,
    genre_gates: List[Tensor],
    mats: List[Tensor],
    packed: List[Packed],
    hidden_bias: List[Tensor],
    head_bias: Tensor,
    int8: bool,
) -> Tuple[Tensor, List[Tensor], List[Tensor]]:
    """tokens (B,) -> logits (B, V), new hs and cs (each a list of (B, H))."""
    H = hs[0].size(1)
    new_h: List[Tensor] = []
    new_c: List[Tensor] = []
    x = hs[0]
    for layer in range(len(hs)):
        if layer == 0:
            gates = token_gates.index_select(0, tokens) + genre_gates[0] + linear(hs[0], 0, mats, packed, int8)
        else:
            gates = linear(torch.cat([x, hs[layer]], 1), layer, mats, packed, int8) + genre_gates[layer]
        ifo = gates[:, : 3 * H].sigmoid()
        c = torch.addcmul(ifo[:, H : 2 * H] * cs[layer], ifo[:, :H], gates[:, 3 * H :].tanh())
        x = ifo[:, 2 * H :] * c.tanh()
        new_h.append(x)
        new_c.append(c)
    logits = linear(x, len(hs), mats, packed, int8) + head_bias
    return logits, new_h, new_c


def rnn_step(
    tokens: Tensor,
    hs: List[Tensor],
    cs: List[Tensor],
    token_gates: Tensor,
    genre_gates: List[Tensor],
    mats: List[Tensor],
    packed: List[Packed],
    hidden_bias: List[Tensor],
    head_bias: Tensor,
    int8: bool,
) -> Tuple[Tensor, List[Tensor], List[Tensor]]:
    """The tanh RNN: h' = tanh(W_x x + W_h h + b); ``cs`` passes through unchanged."""
    new_h: List[Tensor] = []
    x = hs[0]
    for layer in range(len(hs)):
        if layer == 0:
            pre = token_gates.index_select(0, tokens) + genre_gates[0] + linear(hs[0], 0, mats, packed, int8)
        else:
            pre = linear(torch.cat([x, hs[layer]], 1), layer, mats, packed, int8) + genre_gates[layer]
        x = pre.tanh()
        new_h.append(x)
    logits = linear(x, len(hs), mats, packed, int8) + head_bias
    return logits, new_h, cs


def gru_step(
    tokens: Tensor,
    hs: List[Tensor],
    cs: List[Tensor],
    token_gates: Tensor,
    genre_gates: List[Tensor],
    mats: List[Tensor],
    packed: List[Packed],
    hidden_bias: List[Tensor],
    head_bias: Tensor,
    int8: bool,
) -> Tuple[Tensor, List[Tensor], List[Tensor]]:
    """The GRU: r, z = sigmoid(...), n = tanh(x part + r * (W_hn h + b_hn)), h' = n + z (h - n)."""
    H = hs[0].size(1)
    new_h: List[Tensor] = []
    x = hs[0]
    for layer in range(len(hs)):
        if layer == 0:
            from_x = token_gates.index_select(0, tokens) + genre_gates[0]
            from_h = linear(hs[0], 0, mats, packed, int8) + hidden_bias[0]
        else:
            from_x = linear(x, 2 * layer - 1, mats, packed, int8) + genre_gates[layer]
            from_h = linear(hs[layer], 2 * layer, mats, packed, int8) + hidden_bias[layer]
        rz = (from_x[:, : 2 * H] + from_h[:, : 2 * H]).sigmoid()
        n = torch.addcmul(from_x[:, 2 * H :], rz[:, :H], from_h[:, 2 * H :]).tanh()
        x = torch.addcmul(n, rz[:, H:], hs[layer] - n)
        new_h.append(x)
    logits = linear(x, 2 * len(hs) - 1, mats, packed, int8) + head_bias
    return logits, new_h, cs


def draw(
    logits: Tensor,
    partners: List[int],
    scales: List[float],
    masks: List[Tensor],
    chord_tops: List[int],
    pitch_offset: int,
    temperatures: List[float],
    top_ks: List[int],
    top_ps: List[float],
    uniforms: List[float],
    partial_sort: int,
) -> List[int]:
    """One token per row (-1 where ``uniforms`` is negative: the row's next token is forced).

    logits (B + P, V): the rows, then one companion per partner row (``partners[k]`` is the row
    of companion k, guided as l + scale (l - l_companion)). ``masks`` are additive (V,) rows.
    Only the likeliest ``partial_sort`` tokens are sorted when they hold every sampled row's
    top-k / top-p choice (almost always); otherwise the whole distribution is.
    """
    rows = len(masks)
    guided = logits[:rows].clone()
    for k in range(len(partners)):
        r = partners[k]
        if scales[k] != 0.0:
            guided[r] += scales[k] * (guided[r] - logits[rows + k])
    guided += torch.stack(masks)
    for r in range(rows):
        if chord_tops[r] >= 0:  # chords go upwards, as the codec writes them
            guided[r, pitch_offset : chord_tops[r] + 1] = float("-inf")
    if any([t != 1.0 for t in temperatures]):
        guided /= torch.tensor(temperatures, dtype=guided.dtype).unsqueeze(1)
    probs = torch.softmax(guided, dim=-1)
    ordered, order = probs.topk(min(partial_sort, probs.size(1)), dim=-1)
    cdf = ordered.cumsum(dim=-1)
    covered: List[float] = cdf[:, -1].tolist()
    for r in range(rows):
        within = (top_ks[r] > 0 and top_ks[r] <= partial_sort) or (top_ps[r] < 1.0 and covered[r] > top_ps[r])
        if uniforms[r] >= 0.0 and not within:
            ordered, order = torch.sort(probs, dim=-1, descending=True)
            cdf = ordered.cumsum(dim=-1)
            break
    cdf = cdf.double()
    width = cdf.size(1)
    chosen: List[int] = []
    for r in range(rows):
        if uniforms[r] < 0.0:
            chosen.append(-1)
            continue
        size = width
        if top_ps[r] < 1.0:
            size = min(size, int(torch.searchsorted(cdf[r], top_ps[r]).item()) + 1)
        if top_ks[r] > 0:
            size = min(size, top_ks[r])
        # (1 - u) lies in (0, 1], so the draw lands on a token with non-zero probability.
        target = (1.0 - uniforms[r]) * float(cdf[r, size - 1].item())
        index = min(int(torch.searchsorted(cdf[r, :size], target).item()), size - 1)
        chosen.append(int(order[r, index].item()))
    return chosen


class Kernels:
    """The compiled kernels: ``steps[cell]`` and ``draw``."""

    def __init__(self):
        with warnings.catch_warnings():  # torch 2.13 calls TorchScript deprecated; it is what runs fastest here
            warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*deprecated", category=DeprecationWarning)
            warnings.filterwarnings("ignore", message=r"(?s).*quantiz.*deprecated.*")
            self.steps = {
                "lstm": torch.jit.script(lstm_step),
                "gru": torch.jit.script(gru_step),
                "rnn": torch.jit.script(rnn_step),
            }
            self.draw = torch.jit.script(draw)


_KERNELS: Kernels | None = None


def kernels() -> Kernels:
    """The process's compiled kernels (compiled on first use, ~0.3 s)."""
    global _KERNELS
    if _KERNELS is None:
        _KERNELS = Kernels()
    return _KERNELS

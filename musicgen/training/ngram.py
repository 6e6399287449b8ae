"""An n-gram baseline over codec tokens: interpolated Kneser-Ney, backing off to uniform.

The baseline the LSTM has to beat: counted once over a genre's training pieces, it gives every
token of the vocabulary a non-zero probability in every context. Each piece is left-padded with
BOS so that every predicted token (``tokens[1:]``, as in ``train.evaluate_nll``) has a full
context of ``order - 1`` tokens.

An n-gram (t1..tk) is stored as one integer, ``t1*V^(k-1) + ... + tk`` (V = vocabulary size), so
counting is ``np.unique`` and lookup is ``np.searchsorted`` over sorted arrays, with no Python loop
over tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tokens.codec import BOS, VOCAB_SIZE

DEFAULT_ORDER = 5
FALLBACK_DISCOUNT = 0.5  # used when an order has too few counts to estimate its own


@dataclass
class _OrderTable:
    """Counts of one order k: grams (sorted ids of k tokens) and their contexts (k-1 tokens)."""

    grams: np.ndarray  # (N,) int64, sorted
    counts: np.ndarray  # (N,) raw counts at the top order, continuation counts below
    contexts: np.ndarray  # (C,) int64, sorted
    context_totals: np.ndarray  # (C,) sum of counts of the grams with this context
    context_types: np.ndarray  # (C,) number of distinct tokens seen after this context
    discount: float


def _lookup(keys: np.ndarray, values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """values[keys == query] per query, 0 where a query is not among the sorted keys."""
    if len(keys) == 0:
        return np.zeros(len(queries), dtype=values.dtype)
    index = np.minimum(np.searchsorted(keys, queries), len(keys) - 1)
    return np.where(keys[index] == queries, values[index], 0)


def _gram_ids(windows: np.ndarray, vocab_size: int) -> np.ndarray:
    """Integer id of each row of ``windows`` (N, k) of tokens; (N,) int64."""
    ids = np.zeros(len(windows), dtype=np.int64)
    for column in range(windows.shape[1]):
        ids = ids * vocab_size + windows[:, column]
    return ids


def _table(grams: np.ndarray, counts: np.ndarray, vocab_size: int) -> _OrderTable:
    contexts, first, types = np.unique(grams // vocab_size, return_index=True, return_counts=True)
    totals = np.add.reduceat(counts, first) if len(counts) else np.zeros(0, np.int64)
    n1, n2 = int(np.sum(counts == 1)), int(np.sum(counts == 2))
    discount = n1 / (n1 + 2 * n2) if n1 > 0 and n2 > 0 else FALLBACK_DISCOUNT  # Ney et al. estimate
    return _OrderTable(grams, counts, contexts, totals, types, discount)


class NGramModel:
    """Interpolated Kneser-Ney n-gram model over token ids ``0 .. vocab_size-1``."""

    def __init__(self, tables: list[_OrderTable], order: int, vocab_size: int):
        self.tables = tables  # tables[k-1] holds order k (k = 1 .. order)
        self.order = order
        self.vocab_size = vocab_size

    @classmethod
    def fit(cls, sequences, order: int = DEFAULT_ORDER, vocab_size: int = VOCAB_SIZE) -> "NGramModel":
        """Count n-grams over token sequences (each BOS ... EOS) once."""
        if order < 1 or vocab_size**order >= 2**63:
            raise ValueError(f"n-gram order {order} is out of range for a vocabulary of {vocab_size}")
        windows = [_windows(np.asarray(s, dtype=np.int64), order) for s in sequences]
        top = np.concatenate(windows) if windows else np.zeros((0, order), np.int64)
        grams, counts = np.unique(_gram_ids(top, vocab_size), return_counts=True)
        tables = [_table(grams, counts, vocab_size)]
        for k in range(order - 1, 0, -1):
            # Kneser-Ney: a lower order counts the distinct tokens seen *before* a gram, not its uses.
            grams, counts = np.unique(tables[0].grams % vocab_size**k, return_counts=True)
            tables.insert(0, _table(grams, counts, vocab_size))
        return cls(tables, order, vocab_size)

    def probabilities(self, history: np.ndarray, tokens: np.ndarray) -> np.ndarray:
        """P(token | the ``order - 1`` tokens of history before it): history (N, order-1), tokens (N,)."""
        history = np.asarray(history, dtype=np.int64).reshape(len(tokens), self.order - 1)
        tokens = np.asarray(tokens, dtype=np.int64)
        p = np.full(len(tokens), 1.0 / self.vocab_size)
        for k, table in enumerate(self.tables, start=1):
            context = _gram_ids(history[:, self.order - k :], self.vocab_size)  # last k-1 tokens
            total = _lookup(table.contexts, table.context_totals, context)
            types = _lookup(table.contexts, table.context_types, context)
            count = _lookup(table.grams, table.counts, context * self.vocab_size + tokens)
            seen = total > 0  # an unseen context keeps the lower order's estimate
            mixed = (np.maximum(count - table.discount, 0.0) + table.discount * types * p) / np.maximum(total, 1)
            p = np.where(seen, mixed, p)
        return p

    def distribution(self, context) -> np.ndarray:
        """Probabilities of every token (V,) after ``context`` (the piece so far, from BOS)."""
        history = _windows(np.asarray((list(context) or [BOS]) + [BOS], dtype=np.int64), self.order)[-1, :-1]
        tokens = np.arange(self.vocab_size)
        return self.probabilities(np.broadcast_to(history, (self.vocab_size, self.order - 1)), tokens)

    def log_probs(self, tokens) -> np.ndarray:
        """Natural log probability of each of ``tokens[1:]`` given its prefix; (len-1,)."""
        windows = _windows(np.asarray(tokens, dtype=np.int64), self.order)
        return np.log(self.probabilities(windows[:, :-1], windows[:, -1]))

    def nll(self, tokens) -> float:
        """Mean negative log-likelihood of ``tokens[1:]``, in nats per event."""
        return float(-np.mean(self.log_probs(tokens)))


def _windows(tokens: np.ndarray, order: int) -> np.ndarray:
    """Rows of ``order`` tokens ending at each of tokens[1:] (left-padded with BOS); (len-1, order)."""
    padded = np.concatenate([np.full(order - 1, BOS, dtype=np.int64), tokens])
    return np.lib.stride_tricks.sliding_window_view(padded, order)[1 : len(tokens)]

"""The network: a genre-conditioned recurrent network over codec tokens. Model and config only.

The genre is a weight vector over the known genres (a one-hot vector for one genre, any
convex mix for a blend). Its embedding ``g`` (a weighted sum of genre vectors) is used twice:
* it *seeds* the recurrent state: ``(h0, c0)`` of every layer are computed from ``g``
  (the one-to-many RNN), and
* it is joined to the input of every layer at every step (not only the first layer's), so
  the style is not forgotten and every layer can shape it.

The layers are single-layer ``nn.LSTM`` modules (``layers[i]``) because each one takes the genre
embedding as part of its input: layer 0 sees ``[token embedding, g]``, layer i ``[h_(i-1), g]``.
``config.cell`` picks the cell: ``lstm`` (the default), ``gru``, or ``rnn``, the tanh RNN of the
article the project grew from. The state is ``(h, c)`` for every cell so the samplers handle one
shape; the GRU and the RNN have no cell state and carry ``c`` as zeros, unchanged.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..tokens import voice_context
from .config import STATE_SHARE, ModelConfig  # the sizes, torch-free so the CLI reads defaults cheaply
from .voice_head import VoiceHead, add_voice_bias

State = tuple[torch.Tensor, torch.Tensor]  # (h, c), each (L, B, H); c is zeros for the GRU and the RNN
CELL_MODULES = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}  # nn.RNN: tanh


def genre_weights(genre, n_genres: int, batch: int | None = None) -> torch.Tensor:
    """Normalise a genre spec to weights (B, G) or (B, T, G).

    ``genre`` is an index tensor (B,), or weights (B, G) / (B, T, G) whose rows sum to 1.
    """
    if not torch.is_tensor(genre):
        genre = torch.as_tensor(genre)
    if genre.dtype in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
        weights = F.one_hot(genre.long().reshape(-1), n_genres).float()
    else:
        weights = genre.float()
        if weights.dim() == 1:
            weights = weights.unsqueeze(0)
    if batch is not None and weights.shape[0] == 1 and batch > 1:
        weights = weights.expand(batch, *weights.shape[1:])
    return weights


class GenreRNN(nn.Module):
    """``forward(tokens, genre, state=None) -> (logits, state)``; ``step`` does one token."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.token_embedding = nn.Embedding(config.vocab_size, config.n_embd)
        if config.voice_context:  # one table; each token adds the rows of its voice-context slots
            self.context_embedding = nn.Embedding(voice_context.TABLE_SIZE, config.n_embd)
            # N_SLOTS rows are summed: scaled so the sum is as large as one token's embedding
            nn.init.normal_(self.context_embedding.weight, std=voice_context.N_SLOTS**-0.5)
        self.genre_embedding = nn.Linear(config.n_genres, config.genre_dim, bias=False)
        self.state_share = STATE_SHARE[config.cell]  # seeded vectors per layer: (h, c) or h
        self.seed = nn.Linear(config.genre_dim, self.state_share * config.n_layer * config.n_hidden)
        inputs = [config.n_embd] + [config.n_hidden] * (config.n_layer - 1)
        cell = CELL_MODULES[config.cell]
        self.layers = nn.ModuleList(cell(size + config.genre_dim, config.n_hidden, batch_first=True) for size in inputs)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.n_hidden, config.vocab_size)
        if config.voice_head:  # learned voice-leading scores of the pitch logits (model.voice_head)
            self.voice_head = VoiceHead()
        # How much the voice head weighs when sampling (``step``; the card's voice_head.sampling_strength):
        # 1 = as fitted; training and evaluation always use the head as fitted.
        self.voice_strength = 1.0

    def embed_genre(self, genre, batch: int | None = None) -> torch.Tensor:
        """Genre embedding (B, D) or (B, T, D) from indices or weights."""
        return self.genre_embedding(genre_weights(genre, self.config.n_genres, batch))

    def initial_state(self, genre, batch: int | None = None) -> State:
        """The genre seed: ``(h0, c0)``, each (L, B, H)."""
        g = self.embed_genre(genre, batch)
        if g.dim() == 3:
            g = g[:, 0]  # a per-step genre seeds the state with its first step
        L, H = self.config.n_layer, self.config.n_hidden
        seed = self.seed(g).view(g.shape[0], self.state_share, L, H)  # (B, 2 or 1, L, H)
        h0 = torch.tanh(seed[:, 0]).transpose(0, 1).contiguous()  # (L, B, H)
        if self.state_share == 1:
            return h0, torch.zeros_like(h0)
        c0 = seed[:, 1].transpose(0, 1).contiguous()  # (L, B, H)
        return h0, c0

    def embed_tokens(self, tokens: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        """Input vectors (B, T, E) of tokens (B, T). With ``config.voice_context`` the voice-context
        rows ``context`` (B, T, N_SLOTS) are added; None reads them from tokens that start a piece."""
        x = self.token_embedding(tokens)
        if not self.config.voice_context:
            return x
        if context is None:
            context = torch.from_numpy(voice_context.batch_features(tokens.cpu().numpy())[0]).to(tokens.device)
        return x + self.context_embedding(context).sum(dim=2)

    def forward(
        self,
        tokens: torch.Tensor,
        genre,
        state: State | None = None,
        context: torch.Tensor | None = None,
        raws: torch.Tensor | None = None,
        voice_strength: float = 1.0,
    ):
        """tokens (B, T) int64 -> logits (B, T, V) and the final state. ``context``: see ``embed_tokens``;
        ``raws`` (B, T, RAW_SIZE): the voice contexts after each token, for ``config.voice_head`` (None
        reads them from tokens that start a piece); ``voice_strength`` scales the voice head's scores."""
        B, T = tokens.shape
        if state is None:
            state = self.initial_state(genre, B)
        g = self.embed_genre(genre, B)  # (B, D) or (B, T, D)
        if g.dim() == 2:
            g = g.unsqueeze(1).expand(B, T, g.shape[-1])
        x = self.dropout(self.embed_tokens(tokens, context))  # (B, T, E)
        h0, c0 = state
        if x.device.type == "cpu" and torch.is_autocast_enabled("cpu"):
            # oneDNN's bf16 LSTM needs input and state already in bf16 (autocast leaves them fp32)
            dtype = torch.get_autocast_dtype("cpu")
            x, g, h0, c0 = x.to(dtype), g.to(dtype), h0.to(dtype), c0.to(dtype)
        hs, cs = [], []
        for layer, rnn in enumerate(self.layers):
            if layer > 0:
                x = self.dropout(x)
            joined = torch.cat([x, g], dim=-1)
            h, c = h0[layer : layer + 1], c0[layer : layer + 1]
            if self.state_share == 2:
                x, (h, c) = rnn(joined, (h, c))  # (B, T, H)
            else:
                x, h = rnn(joined, h)
            hs.append(h)
            cs.append(c)
        logits = self.head(self.dropout(x))  # (B, T, V)
        if self.config.voice_head:
            if raws is None:
                raws = torch.from_numpy(voice_context.batch_raws(tokens.cpu().numpy())).to(tokens.device)
            flat = add_voice_bias(
                self.voice_head,
                logits.reshape(B * T, -1),
                tokens.reshape(-1),
                raws.reshape(B * T, -1),
                voice_strength,
            )
            logits = flat.view(B, T, -1)
        return logits, (torch.cat(hs), torch.cat(cs))

    @torch.no_grad()
    def step(
        self,
        token: torch.Tensor,
        genre,
        state: State | None = None,
        context: torch.Tensor | None = None,
        raws: torch.Tensor | None = None,
    ):
        """One token per sequence: token (B,) -> logits (B, V) and the new state; context (B, N_SLOTS),
        raws (B, RAW_SIZE) the voice contexts after the token (needed with ``config.voice_head``); the
        voice head weighs ``voice_strength`` (sampling)."""
        context = None if context is None else context.view(context.shape[0], 1, -1)
        raws = None if raws is None else raws.view(raws.shape[0], 1, -1)
        logits, state = self.forward(token.view(-1, 1), genre, state, context, raws, self.voice_strength)
        return logits[:, 0], state

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

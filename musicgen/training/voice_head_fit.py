"""Training the voice head (``model.voice_head``) on a trained network whose weights stay as they are.

The recurrent network is run once over the four-voice training pieces (each as written and at
``shifts - 1`` random transpositions that keep every voice in its range); at every note the
network's pitch logits, the log-sum of its other logits, the voice context and the pitch Bach or
Palestrina wrote are kept. The head's tables are then fitted to those by maximum likelihood
(Adam, small L2), a few seconds an epoch on a CPU, and the best epoch by the validation pieces'
pitch NLL is kept. The network's other outputs, and every one-line tune, are unchanged: the head
acts only on a pitch that follows a VOICE token. As a generator of ``Progress`` reports.
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Generator, Iterator

import numpy as np
import torch

from ..model.model_files import load_model, read_card, save_model
from ..model.network import GenreRNN
from ..model.voice_head import VoiceHead, writes_voice
from ..paths import DEFAULT_DATASET
from ..progress import Progress
from ..tokens import voice_context
from ..tokens.codec import PITCH, transpose_tokens
from .dataset import Dataset, load_dataset, sung_ranges
from .streams import transpose_ranges

OWN_CARD_FIELDS = ("format", "version", "name", "config", "codec", "genres", "licence", "parameters")


@dataclass
class VoiceHeadConfig:
    """A voice-head run: the trained network it joins, where the new model goes, and the fit."""

    base: str  # model name or path: the recurrent network, kept as it is
    out: str  # the new model (<out>.safetensors + <out>.json)
    dataset: str = str(DEFAULT_DATASET)
    epochs: int = 6
    shifts: int = 2  # readings of each training piece: as written, then random transpositions
    lr: float = 0.05  # Adam
    l2: float = 1e-5  # penalty on the squared table entries, per position
    batch: int = 4096  # notes per Adam step
    seed: int = 1337
    # The head's weight when sampling (written to the card; evaluation uses the head as fitted):
    # above 1 it corrects the drift of free sampling away from the fitted odds (docs/voices.md).
    sampling_strength: float = 1.0


@dataclass
class Notes:
    """The notes of four-voice pieces as the frozen network saw them, N of them."""

    pitch_logits: torch.Tensor  # (N, N_PITCHES): the network's PITCH logits before the note
    other_logsumexp: torch.Tensor  # (N,): log-sum-exp of its other logits
    raws: torch.Tensor  # (N, RAW_SIZE): the voice context after the VOICE token
    target: torch.Tensor  # (N,): the pitch written, as an index into the PITCH tokens
    genre: torch.Tensor  # (N,)

    def nll(self, head: VoiceHead | None, rows: torch.Tensor | None = None) -> torch.Tensor:
        """Nats per note (N,) or (len(rows),) with the head's scores added (None: the network alone)."""
        pick = (lambda t: t) if rows is None else (lambda t: t[rows])
        logits = pick(self.pitch_logits)
        if head is not None:
            logits = logits + head(pick(self.raws))
        total = torch.logaddexp(pick(self.other_logsumexp), torch.logsumexp(logits, 1))
        return total - logits.gather(1, pick(self.target)[:, None])[:, 0]

    def per_genre(self, head: VoiceHead | None, genre_keys: list[str]) -> dict[str, float]:
        """Mean pitch NLL per genre (nats per note)."""
        with torch.no_grad():
            nll = self.nll(head)
        return {genre_keys[g]: round(nll[self.genre == g].mean().item(), 4) for g in self.genre.unique().tolist()}


def four_voice_pieces(dataset: Dataset, split: str) -> list[int]:
    """The pieces of ``split`` written in voices (codec 4's VOICE tokens)."""
    return [i for i in dataset.indices(split) if writes_voice(torch.from_numpy(dataset.piece_tokens(i))).any()]


def read_notes(
    model: GenreRNN, dataset: Dataset, split: str, shifts: int, seed: int
) -> Generator[Progress, None, Notes]:
    """Run the network (one without a voice head, ``without_head``) over ``split``'s four-voice pieces,
    reporting progress; returns their ``Notes``."""
    pieces = four_voice_pieces(dataset, split)
    ranges = transpose_ranges(dataset, pieces)
    rng = random.Random(seed)
    parts: list[list[torch.Tensor]] = [[], [], [], [], []]
    for done, (piece, (down, up)) in enumerate(zip(pieces, ranges), start=1):
        for reading in range(shifts):
            tokens = transpose_tokens(dataset.piece_tokens(piece), 0 if reading == 0 else rng.randint(down, up))
            x = torch.from_numpy(np.asarray(tokens[:-1], dtype=np.int64))
            y = torch.from_numpy(np.asarray(tokens[1:], dtype=np.int64))
            genre = int(dataset.genre[piece])
            raws = torch.from_numpy(voice_context.batch_raws(x[None].numpy()))[0]  # (T, RAW_SIZE)
            with torch.no_grad():
                logits = model(x[None], torch.tensor([genre]))[0][0]  # (T, V)
            rows = (writes_voice(x) & (y >= PITCH.offset) & (y < PITCH.stop)).nonzero().view(-1)
            chosen = logits[rows]
            others = torch.ones(chosen.shape[1], dtype=torch.bool)
            others[PITCH.offset : PITCH.stop] = False
            parts[0].append(chosen[:, PITCH.offset : PITCH.stop])
            parts[1].append(torch.logsumexp(chosen[:, others], 1))
            parts[2].append(raws[rows])
            parts[3].append(y[rows] - PITCH.offset)
            parts[4].append(torch.full((len(rows),), genre))
        yield Progress(done, len(pieces), f"reading the {split} pieces")
    if not pieces:
        raise ValueError(f"the dataset has no four-voice pieces in its {split} split")
    return Notes(*(torch.cat(part) for part in parts))


def fit_voice_head(config: VoiceHeadConfig) -> Iterator[Progress]:
    """Read the notes, fit the head, write the model; the last report's ``result`` is the card's path."""
    began = time.perf_counter()
    torch.manual_seed(config.seed)
    loaded = load_model(config.base)
    dataset = load_dataset(config.dataset)
    if dataset.genre_keys != loaded.genre_keys:
        raise ValueError(f"the dataset's genres ({', '.join(dataset.genre_keys)}) are not the model's")
    base = without_head(loaded.model).eval()  # a head already there is replaced, not fitted on top of
    train = yield from read_notes(base, dataset, "train", config.shifts, config.seed)
    valid = yield from read_notes(base, dataset, "valid", 1, config.seed)
    head = VoiceHead()
    optimiser = torch.optim.Adam(head.parameters(), lr=config.lr)
    best, best_nll = {k: v.clone() for k, v in head.state_dict().items()}, float(valid.nll(None).mean())
    before = valid.per_genre(None, dataset.genre_keys)
    count = len(train.target)
    for epoch in range(1, config.epochs + 1):
        order = torch.randperm(count)
        for start in range(0, count, config.batch):
            rows = order[start : start + config.batch]
            penalty = config.l2 * sum((table**2).sum() for table in head.parameters())
            loss = train.nll(head, rows).mean() + penalty
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        with torch.no_grad():
            nll = float(valid.nll(head).mean())
        if nll < best_nll:
            best, best_nll = {k: v.clone() for k, v in head.state_dict().items()}, nll
        yield Progress(epoch, config.epochs, f"epoch {epoch}: valid pitch NLL {nll:.4f} (best {best_nll:.4f})")
    head.load_state_dict(best)
    summary = {
        "sampling_strength": config.sampling_strength,
        "recipe": {k: v for k, v in asdict(config).items() if k not in ("out", "dataset", "sampling_strength")},
        "train_notes": count,
        "valid_pitch_nll_without": before,
        "valid_pitch_nll_with": valid.per_genre(head, dataset.genre_keys),
        "seconds": round(time.perf_counter() - began, 1),
    }
    path = save_with_head(loaded, head, config.out, summary, sung_ranges(dataset))
    yield Progress(config.epochs, config.epochs, f"wrote {path}", result=path)


def without_head(model: GenreRNN) -> GenreRNN:
    """``model`` itself, or its network without its voice head when it has one."""
    if not model.config.voice_head:
        return model
    bare = GenreRNN(replace(model.config, voice_head=False))
    bare.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith("voice_head.")})
    return bare


def save_with_head(loaded, head: VoiceHead, out, summary: dict, ranges: dict) -> Path:
    """Write the base network with ``head`` as a new model; its card keeps the base's record, with the
    voices' sung ``ranges`` (``dataset.sung_ranges``)."""
    model = GenreRNN(replace(loaded.model.config, voice_head=True))
    model.load_state_dict(loaded.model.state_dict(), strict=False)
    model.voice_head.load_state_dict(head.state_dict())
    card = read_card(loaded.path)
    extra = {k: v for k, v in card.items() if k not in OWN_CARD_FIELDS}
    extra["voice_head"] = {"base": loaded.name, **summary}
    extra["sung_ranges"] = ranges
    return save_model(model.eval(), loaded.genres, out, extra)

"""Training: truncated BPTT over the token dataset, as a generator of progress reports.

Batches are B parallel *streams*; each stream walks through its share of the (shuffled,
randomly transposed) training pieces in windows of T tokens, carrying the LSTM state from one
window to the next within a piece and re-seeding it from the genre when a new piece starts.
The order of pieces is a pure function of (seed, epoch, rank), so a resumed run replays the data
exactly from its checkpointed step.

Runs alone or under ``torchrun`` (DistributedDataParallel; gloo on CPU, nccl on GPU).
"""

from __future__ import annotations

import math
import os
import platform
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

from ..model.model_files import model_file, save_model
from ..model.network import GenreRNN
from ..music.piece import MAX_VOICES
from ..music.piece_shape import bar_counts
from ..progress import Progress
from ..tokens import voice_context
from ..tokens.codec import PAD, VOICE, VOICE_RANGES, pitch_span, transpose_tokens, voice_spans
from .config import TrainConfig
from .dataset import Dataset, load_dataset
from .nll import IGNORE, evaluate_nll

MAX_TRANSPOSE = 6  # semitones either way
CHECKPOINT_FORMAT = 1


@dataclass
class TrainProgress(Progress):
    """One report from ``train``: ``done``/``total`` steps, and what happened (a ``Progress`` with
    the training figures)."""

    epoch: int = 0  # counted from 1: the epoch being trained, or just finished ("epoch 1: valid NLL ...")
    loss: float = float("nan")
    tokens_per_second: float = 0.0
    eta_seconds: float = 0.0
    valid_nll: dict = field(default_factory=dict)  # per genre, nats per event


class TrainingError(Exception):
    """Training cannot go on (bad data, NaN loss); the last good checkpoint is kept."""


def transpose_ranges(dataset: Dataset, pieces: list[int]) -> list[tuple[int, int]]:
    """Allowed transpositions per piece: stay inside its genre's pitch span, at most +-MAX_TRANSPOSE."""
    piece_spans = [pitch_span(dataset.piece_tokens(i)) for i in pieces]
    spans: dict[int, tuple[int, int]] = {}
    for i, (lo, hi) in zip(pieces, piece_spans):
        g = int(dataset.genre[i])
        old = spans.get(g, (999, -1))
        spans[g] = (min(old[0], lo), max(old[1], hi))
    ranges = []
    for i, (lo, hi) in zip(pieces, piece_spans):
        g_lo, g_hi = spans[int(dataset.genre[i])]
        down, up = (max(-MAX_TRANSPOSE, g_lo - lo), min(MAX_TRANSPOSE, g_hi - hi)) if hi >= lo else (0, 0)
        tokens = dataset.piece_tokens(i)
        if (tokens >= VOICE.offset).any():  # a four-voice piece: every voice stays in its range
            for voice, (v_lo, v_hi) in voice_spans(tokens).items():
                r_lo, r_hi = VOICE_RANGES[voice]
                down, up = max(down, r_lo - v_lo), min(up, r_hi - v_hi)
            down, up = (down, up) if down <= up else (0, 0)
        ranges.append((down, up))
    return ranges


def genre_voices(pieces: list[dict], genre_keys: list[str]) -> dict[str, int]:
    """Per genre, the voices its pieces are written in: 4 when most of its training pieces have
    several voices (codec 4's VOICE tokens), else 1."""
    voiced = {key: [0, 0] for key in genre_keys}
    for piece in pieces:
        counts = voiced.get(piece.get("genre"))
        if counts is not None:
            counts[0] += int(piece.get("voices", 1) > 1)
            counts[1] += 1
    return {key: MAX_VOICES if 2 * several > total else 1 for key, (several, total) in voiced.items()}


def balance_genres(dataset: Dataset, pieces: list[int], ranges, seed: int) -> tuple[list[int], list]:
    """Pieces (and their transposition ranges) repeated or thinned so every genre brings about the
    mean genre's number of tokens: a genre with a share w of that mean has each piece kept
    floor(1 / w) times, once more with probability frac(1 / w). The total stays about the same."""
    tokens: dict[int, int] = {}
    for i in pieces:
        g = int(dataset.genre[i])
        tokens[g] = tokens.get(g, 0) + len(dataset.piece_tokens(i))
    target = sum(tokens.values()) / max(1, len(tokens))
    rng = random.Random(seed)
    kept, kept_ranges = [], []
    for i, span in zip(pieces, ranges):
        copies = target / tokens[int(dataset.genre[i])]
        for _ in range(int(copies) + (rng.random() < copies - int(copies))):
            kept.append(i)
            kept_ranges.append(span)
    return kept, kept_ranges


class StreamBatcher:
    """Yields (x, y, genre, reset, context) windows: x, y (B, T) int64; genre (B,); reset (B,) bool;
    context (B, T, N_SLOTS) int64, each x token's voice context (``tokens.voice_context``), or None
    when the network reads none."""

    def __init__(
        self, dataset: Dataset, pieces: list[int], ranges, batch: int, bptt: int, seed: int, voice_context: bool = False
    ):
        self.dataset, self.batch, self.bptt, self.voice_context = dataset, batch, bptt, voice_context
        rng = random.Random(seed)
        order = list(range(len(pieces)))
        rng.shuffle(order)
        # Deal pieces to streams round-robin so every stream has about the same number of tokens.
        self.queues = [[] for _ in range(batch)]
        loads = [0] * batch
        for k in order:
            s = loads.index(min(loads))
            shift = rng.randint(*ranges[k])
            self.queues[s].append((pieces[k], shift))
            loads[s] += len(dataset.piece_tokens(pieces[k]))
        if not pieces:
            raise ValueError("no training pieces to make batches from")
        for s, queue in enumerate(self.queues):  # fewer pieces than streams: some streams repeat one
            if not queue:
                k = order[s % len(order)]
                queue.append((pieces[k], rng.randint(*ranges[k])))
        # Windows until the shortest stream has been through its pieces once; streams wrap
        # around their queue, so the trainer may ask for any fixed number of steps instead.
        self.steps = max(
            1, min(sum(math.ceil((len(dataset.piece_tokens(p)) - 1) / bptt) for p, _ in q) for q in self.queues)
        )

    def __iter__(self):
        cursors = [(0, None, 0) for _ in range(self.batch)]  # (queue index, tokens, position)
        contexts = [None] * self.batch  # per stream: its piece's voice context at every token
        for _ in range(self.steps):
            x = np.full((self.batch, self.bptt), PAD, dtype=np.int64)
            context = np.zeros((self.batch, self.bptt, voice_context.N_SLOTS), dtype=np.int64)
            y = np.full((self.batch, self.bptt), IGNORE, dtype=np.int64)
            genre = np.zeros(self.batch, dtype=np.int64)
            reset = np.zeros(self.batch, dtype=bool)
            for b in range(self.batch):
                q, tokens, pos = cursors[b]
                if tokens is None or pos >= len(tokens) - 1:  # start this stream's next piece
                    if tokens is not None:
                        q += 1
                    piece, shift = self.queues[b][q % len(self.queues[b])]
                    tokens = transpose_tokens(self.dataset.piece_tokens(piece), shift)
                    if self.voice_context:
                        contexts[b] = voice_context.sequence_features(tokens)[0]
                    pos = 0
                    reset[b] = True
                piece, _ = self.queues[b][q % len(self.queues[b])]
                chunk = tokens[pos : pos + self.bptt + 1]
                x[b, : len(chunk) - 1] = chunk[:-1]
                y[b, : len(chunk) - 1] = chunk[1:]
                if self.voice_context:
                    context[b, : len(chunk) - 1] = contexts[b][pos : pos + len(chunk) - 1]
                genre[b] = int(self.dataset.genre[piece])
                cursors[b] = (q, tokens, pos + self.bptt)
            yield (
                torch.from_numpy(x),
                torch.from_numpy(y),
                torch.from_numpy(genre),
                torch.from_numpy(reset),
                torch.from_numpy(context) if self.voice_context else None,
            )


def _lr_at(step: int, total: int, config: TrainConfig) -> float:
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    progress = min(1.0, (step - config.warmup_steps) / max(1, total - config.warmup_steps))
    return config.min_lr + 0.5 * (config.lr - config.min_lr) * (1 + math.cos(math.pi * progress))


def _atomic_torch_save(obj, path: Path) -> None:
    temp = path.with_name(path.name + ".tmp")
    torch.save(obj, temp)
    os.replace(temp, path)


def resume_config(config: TrainConfig, given: set[str]) -> tuple[TrainConfig, str]:
    """The config of a resumed run: network sizes from ``<out>.ckpt`` (as nanoGPT does, so a
    resumed run never builds another network). ``given`` names the flags the user set; one that
    contradicts the checkpoint is a TrainingError. Returns the config and a line saying what was taken."""
    from dataclasses import replace

    from .config import MODEL_SIZES

    ckpt_path = model_file(config.out, ".ckpt")
    if not ckpt_path.is_file():
        raise TrainingError(f"{ckpt_path}: no checkpoint to resume from")
    try:
        stored = torch.load(ckpt_path, weights_only=True)["train_config"]
    except Exception as error:  # a damaged or foreign file: torch raises many kinds
        raise TrainingError(f"{ckpt_path}: not a readable musicgen checkpoint ({type(error).__name__})") from None
    sizes = {name: stored[name] for name in MODEL_SIZES if name in stored}
    sizes.setdefault("voice_context", False)  # checkpoints from before the voice context had none
    for name, value in sizes.items():
        if name in given and getattr(config, name) != value:
            flag = "--" + name.replace("_", "-")
            raise TrainingError(
                f"{flag} {getattr(config, name)} conflicts with the checkpoint's {value}; "
                f"a resumed run keeps its network (drop the flag or train anew)"
            )
    summary = ", ".join(f"{name}={value}" for name, value in sizes.items())
    return replace(config, **sizes), f"resuming {ckpt_path.name}: network sizes from the checkpoint ({summary})"


def hardware_summary(world: int) -> str:
    """One line about the machine, for the model card."""
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else platform.processor() or platform.machine()
    return f"{world} x {device}, {torch.get_num_threads()} torch threads, torch {torch.__version__}"


def train(config: TrainConfig, resume: bool = False) -> Iterator[TrainProgress]:
    """Train a model; yields progress; writes ``<out>.safetensors/.json`` (best) and ``<out>.ckpt``."""
    distributed = "RANK" in os.environ and "WORLD_SIZE" in os.environ
    if distributed and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    rank = dist.get_rank() if distributed else 0
    world = dist.get_world_size() if distributed else 1
    if config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed + rank)

    try:
        dataset = load_dataset(config.dataset)
    except ValueError as error:
        raise TrainingError(str(error)) from None
    train_pieces = dataset.indices("train")
    if config.max_train_pieces:
        train_pieces = train_pieces[: config.max_train_pieces]
    valid_pieces = dataset.indices("valid")
    if not train_pieces or not valid_pieces:
        raise TrainingError(f"{config.dataset}: dataset needs pieces in both train and valid splits")
    ranges = transpose_ranges(dataset, train_pieces)
    mine = train_pieces[rank::world]
    my_ranges = ranges[rank::world]

    model_config = config.model_config(int(dataset.manifest["codec"]["vocab_size"]), len(dataset.genres))
    model = GenreRNN(model_config)
    raw_model = model
    if distributed:
        model = torch.nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.AdamW(raw_model.parameters(), lr=config.lr, weight_decay=config.weight_decay)

    out = Path(config.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    ckpt_path = model_file(out, ".ckpt")
    step, epoch, best, bad_epochs, history, elapsed_before = 0, 0, float("inf"), 0, [], 0.0
    resumed_stream_state = None
    if resume:
        if not ckpt_path.is_file():
            raise TrainingError(f"{ckpt_path}: no checkpoint to resume from")
        state = torch.load(ckpt_path, weights_only=True)
        if state.get("format") != CHECKPOINT_FORMAT:
            raise TrainingError(f"{ckpt_path}: checkpoint from another musicgen version")
        raw_model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step, epoch, best, bad_epochs = state["step"], state["epoch"], state["best"], state["bad_epochs"]
        history, elapsed_before = state["history"], state["elapsed"]
        resumed_stream_state = tuple(state["stream_state"]) or None
        torch.set_rng_state(state["torch_rng"])

    # Steps per epoch must agree across processes: every rank uses the smallest count.
    def batchers(e: int) -> StreamBatcher:
        seed = config.seed * 1000 + e * world + rank
        pieces, spans = balance_genres(dataset, mine, my_ranges, seed) if config.balance_genres else (mine, my_ranges)
        return StreamBatcher(dataset, pieces, spans, config.batch_size, config.bptt, seed, config.voice_context)

    steps_per_epoch = batchers(0).steps
    if distributed:
        count = torch.tensor([steps_per_epoch])
        dist.all_reduce(count, op=dist.ReduceOp.MIN)
        steps_per_epoch = int(count)
    total_steps = steps_per_epoch * config.epochs
    autocast = config.bf16 and not torch.cuda.is_available()

    def save_checkpoint(path_step: int, path_epoch: int, stream_state=None) -> None:
        if rank != 0:
            return
        _atomic_torch_save(
            {
                "stream_state": list(stream_state) if stream_state is not None else [],
                "torch_rng": torch.get_rng_state(),
                "format": CHECKPOINT_FORMAT,
                "model": raw_model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "step": path_step,
                "epoch": path_epoch,
                "best": best,
                "bad_epochs": bad_epochs,
                "history": history,
                "elapsed": elapsed_before + time.time() - started,
                "train_config": asdict(config),
            },
            ckpt_path,
        )

    started = time.time()
    last_checkpoint = time.time()
    tokens_seen, rate_start, steps_this_run = 0, time.time(), 0
    yield TrainProgress(
        step,
        total_steps,
        epoch=epoch + 1,
        message=f"{len(train_pieces)} training pieces, "
        f"{raw_model.num_parameters():,} parameters, {steps_per_epoch} steps per epoch",
    )
    while epoch < config.epochs:
        model.train()
        state, resumed_stream_state = resumed_stream_state, None
        skip = step - epoch * steps_per_epoch  # >0 only when resuming mid-epoch
        batcher = batchers(epoch)
        batcher.steps = steps_per_epoch  # every epoch and every rank runs exactly this many steps
        for i, (x, y, genre, reset, context) in enumerate(batcher):
            if i >= steps_per_epoch:
                break
            if i < skip:
                continue  # replay the data order without computing (resume)
            seed_h, seed_c = raw_model.initial_state(genre, x.shape[0])
            if state is None:
                state = (seed_h, seed_c)
            else:
                keep = (~reset).float().view(1, -1, 1)
                state = (state[0].detach() * keep + seed_h * (1 - keep), state[1].detach() * keep + seed_c * (1 - keep))
            for group in optimizer.param_groups:
                group["lr"] = _lr_at(step, total_steps, config)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
                logits, new_state = model(x, genre, state, context)
            loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=IGNORE)
            if not torch.isfinite(loss):
                raise TrainingError(
                    f"loss became {float(loss.detach())} at step {step}; the last checkpoint "
                    f"({ckpt_path}) is kept — try a lower --lr"
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(raw_model.parameters(), config.grad_clip)
            optimizer.step()
            state = (new_state[0].detach().float(), new_state[1].detach().float())
            step += 1
            tokens_seen += int((y != IGNORE).sum()) * world
            rate = tokens_seen / max(1e-9, time.time() - rate_start)
            steps_this_run += 1
            eta = (total_steps - step) * (time.time() - rate_start) / steps_this_run
            if time.time() - last_checkpoint >= config.checkpoint_minutes * 60 and step % steps_per_epoch:
                save_checkpoint(step, epoch, state)
                last_checkpoint = time.time()
            yield TrainProgress(  # epoch counted from 1
                step, total_steps, epoch=epoch + 1, loss=float(loss.detach()), tokens_per_second=rate, eta_seconds=eta
            )
        epoch += 1
        valid = evaluate_nll(raw_model, dataset, valid_pieces)
        valid_by_key = {dataset.genres[g].key: round(v, 4) for g, v in sorted(valid.items())}
        mean_valid = float(np.mean(list(valid.values())))
        history.append(
            {
                "epoch": epoch,
                "step": step,
                "valid_nll": valid_by_key,
                "valid_mean": round(mean_valid, 4),
                "minutes": round((elapsed_before + time.time() - started) / 60, 2),
            }
        )
        improved = mean_valid < best
        if improved:
            best, bad_epochs = mean_valid, 0
            if rank == 0:
                save_model(
                    raw_model,
                    dataset.genres,
                    out,
                    {
                        "training": {
                            "config": asdict(config),
                            "epochs": epoch,
                            "steps": step,
                            "minutes": round((elapsed_before + time.time() - started) / 60, 1),
                            "hardware": hardware_summary(world),
                            "history": history,
                        },
                        "dataset": {
                            "path": config.dataset,
                            "fingerprint": dataset.fingerprint,
                            "pieces": int(len(dataset.genre)),
                            "tokens": int(len(dataset.tokens)),
                        },
                        "meters": dataset.manifest.get("meters", {}),
                        "keys": dataset.manifest.get("keys", {}),
                        "voices": genre_voices(dataset.manifest.get("pieces", []), dataset.genre_keys),
                        "bar_counts": bar_counts(dataset.manifest.get("pieces", []), dataset.genre_keys),
                        "metrics": {"valid_nll": valid_by_key},
                    },
                )
        else:
            bad_epochs += 1
        save_checkpoint(step, epoch)
        last_checkpoint = time.time()
        yield TrainProgress(
            step,
            total_steps,
            epoch=epoch,
            message=f"epoch {epoch}: valid NLL {mean_valid:.4f}"
            + (" (best)" if improved else f" (no gain {bad_epochs}/{config.patience})"),
            valid_nll=valid_by_key,
        )
        if bad_epochs >= config.patience:
            yield TrainProgress(step, total_steps, epoch=epoch, message="early stop: validation loss stopped improving")
            break
    if distributed:
        dist.barrier()

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
from .config import TrainConfig
from .dataset import load_dataset, sung_ranges
from .nll import IGNORE, evaluate_nll
from .streams import StreamBatcher, balance_genres, transpose_ranges

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
    sizes.setdefault("voice_head", False)
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


def _start_processes(config: TrainConfig) -> tuple[bool, int, int]:
    """Join the ``torchrun`` process group when there is one; set threads and the seed. Returns
    (distributed, rank, world)."""
    distributed = "RANK" in os.environ and "WORLD_SIZE" in os.environ
    if distributed and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    rank = dist.get_rank() if distributed else 0
    world = dist.get_world_size() if distributed else 1
    if config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed + rank)
    return distributed, rank, world


class _Run:
    """One training run (this process's share under ``torchrun``): the data, the network and its
    optimiser, and where the run stands (step, epoch, best validation NLL, epochs without gain,
    history), restored from ``<out>.ckpt`` when it resumes. ``train`` drives it."""

    def __init__(self, config: TrainConfig, resume: bool):
        self.config = config
        self.distributed, self.rank, self.world = _start_processes(config)
        self._read_data()
        self._build_network()
        self.out = Path(config.out)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.ckpt_path = model_file(self.out, ".ckpt")
        self.step, self.epoch, self.best, self.bad_epochs, self.history, self.elapsed_before = (
            0,
            0,
            math.inf,
            0,
            [],
            0.0,
        )
        self.resumed_stream_state = None
        if resume:
            self._restore()
        self.steps_per_epoch = self._steps_per_epoch()
        self.total_steps = self.steps_per_epoch * config.epochs
        self.autocast = config.bf16 and not torch.cuda.is_available()
        self.started = time.time()
        self.last_checkpoint = time.time()
        self.tokens_seen, self.rate_start, self.steps_this_run = 0, time.time(), 0

    # ----- setting up ---------------------------------------------------------------------------
    def _read_data(self) -> None:
        """The dataset, its training and validation pieces, and this process's share of the training ones."""
        config = self.config
        try:
            self.dataset = load_dataset(config.dataset)
        except ValueError as error:
            raise TrainingError(str(error)) from None
        self.train_pieces = self.dataset.indices("train")
        if config.max_train_pieces:
            self.train_pieces = self.train_pieces[: config.max_train_pieces]
        self.valid_pieces = self.dataset.indices("valid")
        if not self.train_pieces or not self.valid_pieces:
            raise TrainingError(f"{config.dataset}: dataset needs pieces in both train and valid splits")
        ranges = transpose_ranges(self.dataset, self.train_pieces)
        self.mine = self.train_pieces[self.rank :: self.world]
        self.my_ranges = ranges[self.rank :: self.world]

    def _build_network(self) -> None:
        """The network (wrapped for DistributedDataParallel under torchrun) and its AdamW optimiser."""
        config = self.config
        model_config = config.model_config(int(self.dataset.manifest["codec"]["vocab_size"]), len(self.dataset.genres))
        self.raw_model = GenreRNN(model_config)
        if config.init_from:
            self._start_from(config.init_from)
        self.model = self.raw_model
        if self.distributed:
            self.model = torch.nn.parallel.DistributedDataParallel(self.raw_model)
        self.optimizer = torch.optim.AdamW(self.raw_model.parameters(), lr=config.lr, weight_decay=config.weight_decay)

    def _start_from(self, name: str) -> None:
        """The weights of model ``name`` (same sizes; a voice head it lacks starts at zero)."""
        from ..model.model_files import load_model

        try:
            start = load_model(name).model
        except ValueError as error:
            raise TrainingError(f"--init-from: {error}") from None
        mine, theirs = self.raw_model.config.to_dict(), start.config.to_dict()
        differ = [k for k in mine if k not in ("voice_head", "dropout") and mine[k] != theirs.get(k, False)]
        if differ:
            raise TrainingError(f"--init-from {name}: its {', '.join(differ)} differ from this run's")
        self.raw_model.load_state_dict(start.state_dict(), strict=not (mine["voice_head"] and not theirs["voice_head"]))

    def _restore(self) -> None:
        """Weights, optimiser, position, data stream and random state from the checkpoint."""
        if not self.ckpt_path.is_file():
            raise TrainingError(f"{self.ckpt_path}: no checkpoint to resume from")
        state = torch.load(self.ckpt_path, weights_only=True)
        if state.get("format") != CHECKPOINT_FORMAT:
            raise TrainingError(f"{self.ckpt_path}: checkpoint from another musicgen version")
        self.raw_model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.step, self.epoch, self.best, self.bad_epochs = (
            state["step"],
            state["epoch"],
            state["best"],
            state["bad_epochs"],
        )
        self.history, self.elapsed_before = state["history"], state["elapsed"]
        self.resumed_stream_state = tuple(state["stream_state"]) or None
        torch.set_rng_state(state["torch_rng"])

    def batcher(self, epoch: int) -> StreamBatcher:
        """The data stream of ``epoch`` (its order a function of the seed, the epoch and the rank)."""
        config = self.config
        seed = config.seed * 1000 + epoch * self.world + self.rank
        pieces, spans = self.mine, self.my_ranges
        if config.balance_genres:
            pieces, spans = balance_genres(self.dataset, pieces, spans, seed)
        return StreamBatcher(
            self.dataset, pieces, spans, config.batch_size, config.bptt, seed, config.voice_context, config.voice_head
        )

    def _steps_per_epoch(self) -> int:
        """Steps per epoch; they must agree across processes: every rank uses the smallest count."""
        steps = self.batcher(0).steps
        if self.distributed:
            count = torch.tensor([steps])
            dist.all_reduce(count, op=dist.ReduceOp.MIN)
            steps = int(count)
        return steps

    # ----- files -------------------------------------------------------------------------------
    def save_checkpoint(self, step: int, epoch: int, stream_state=None) -> None:
        """Write ``<out>.ckpt`` (rank 0 only): everything a resumed run needs to go on exactly."""
        if self.rank != 0:
            return
        _atomic_torch_save(
            {
                "stream_state": list(stream_state) if stream_state is not None else [],
                "torch_rng": torch.get_rng_state(),
                "format": CHECKPOINT_FORMAT,
                "model": self.raw_model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "step": step,
                "epoch": epoch,
                "best": self.best,
                "bad_epochs": self.bad_epochs,
                "history": self.history,
                "elapsed": self._elapsed(),
                "train_config": asdict(self.config),
            },
            self.ckpt_path,
        )

    def _elapsed(self) -> float:
        """Seconds trained, resumed runs' included."""
        return self.elapsed_before + time.time() - self.started

    def _save_model(self, valid_by_key: dict) -> None:
        """Write the best model so far: weights and card (rank 0 only)."""
        if self.rank != 0:
            return
        dataset, pieces = self.dataset, self.dataset.manifest.get("pieces", [])
        training = {
            "config": asdict(self.config),
            "epochs": self.epoch,
            "steps": self.step,
            "minutes": round(self._elapsed() / 60, 1),
            "hardware": hardware_summary(self.world),
            "history": self.history,
        }
        card = {
            "training": training,
            "dataset": {
                "path": self.config.dataset,
                "fingerprint": dataset.fingerprint,
                "pieces": int(len(dataset.genre)),
                "tokens": int(len(dataset.tokens)),
            },
            "meters": dataset.manifest.get("meters", {}),
            "keys": dataset.manifest.get("keys", {}),
            "voices": genre_voices(pieces, dataset.genre_keys),
            "sung_ranges": sung_ranges(dataset),
            "bar_counts": bar_counts(pieces, dataset.genre_keys),
            "metrics": {"valid_nll": valid_by_key},
        }
        save_model(self.raw_model, dataset.genres, self.out, card)

    # ----- training ----------------------------------------------------------------------------
    def first_report(self) -> TrainProgress:
        return TrainProgress(
            self.step,
            self.total_steps,
            epoch=self.epoch + 1,
            message=f"{len(self.train_pieces)} training pieces, "
            f"{self.raw_model.num_parameters():,} parameters, {self.steps_per_epoch} steps per epoch",
        )

    def train_epoch(self) -> Iterator[TrainProgress]:
        """The steps of one epoch (the ones before the checkpoint skipped when resuming mid-epoch)."""
        self.model.train()
        state, self.resumed_stream_state = self.resumed_stream_state, None
        skip = self.step - self.epoch * self.steps_per_epoch  # >0 only when resuming mid-epoch
        batcher = self.batcher(self.epoch)
        batcher.steps = self.steps_per_epoch  # every epoch and every rank runs exactly this many steps
        for i, (x, y, genre, reset, context, raws) in enumerate(batcher):
            if i >= self.steps_per_epoch:
                break
            if i < skip:
                continue  # replay the data order without computing (resume)
            state = self._carried_state(state, genre, reset, x.shape[0])
            loss, state = self._optimise(x, y, genre, (context, raws), state)
            yield self._step_done(loss, y, state)
        self.epoch += 1

    def _carried_state(self, state, genre, reset, batch: int):
        """The state each stream starts its window with: carried on, or seeded from the genre where
        a new piece starts (``reset``)."""
        seed_h, seed_c = self.raw_model.initial_state(genre, batch)
        if state is None:
            return seed_h, seed_c
        keep = (~reset).float().view(1, -1, 1)
        return state[0].detach() * keep + seed_h * (1 - keep), state[1].detach() * keep + seed_c * (1 - keep)

    def _optimise(self, x, y, genre, voices, state):
        """One optimiser step on a window (``voices``: its voice context and raw context, each
        None when the network reads none): (the loss, the state carried to the next window)."""
        for group in self.optimizer.param_groups:
            group["lr"] = _lr_at(self.step, self.total_steps, self.config)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.autocast):
            logits, new_state = self.model(x, genre, state, *voices)
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=IGNORE)
        if not torch.isfinite(loss):
            raise TrainingError(
                f"loss became {float(loss.detach())} at step {self.step}; the last checkpoint "
                f"({self.ckpt_path}) is kept — try a lower --lr"
            )
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.raw_model.parameters(), self.config.grad_clip)
        self.optimizer.step()
        self.step += 1
        return loss, (new_state[0].detach().float(), new_state[1].detach().float())

    def _step_done(self, loss, y, state) -> TrainProgress:
        """Count the step's tokens, checkpoint when one is due (mid-epoch), and report."""
        self.tokens_seen += int((y != IGNORE).sum()) * self.world
        rate = self.tokens_seen / max(1e-9, time.time() - self.rate_start)
        self.steps_this_run += 1
        eta = (self.total_steps - self.step) * (time.time() - self.rate_start) / self.steps_this_run
        due = time.time() - self.last_checkpoint >= self.config.checkpoint_minutes * 60
        if due and self.step % self.steps_per_epoch:
            self.save_checkpoint(self.step, self.epoch, state)
            self.last_checkpoint = time.time()
        return TrainProgress(  # epoch counted from 1
            self.step,
            self.total_steps,
            epoch=self.epoch + 1,
            loss=float(loss.detach()),
            tokens_per_second=rate,
            eta_seconds=eta,
        )

    def end_epoch(self) -> tuple[TrainProgress, bool]:
        """Validate the finished epoch, keep the model when it is the best so far, checkpoint;
        returns the report and whether to stop early (no gain for ``patience`` epochs)."""
        valid = evaluate_nll(self.raw_model, self.dataset, self.valid_pieces)
        valid_by_key = {self.dataset.genres[g].key: round(v, 4) for g, v in sorted(valid.items())}
        mean_valid = float(np.mean(list(valid.values())))
        self.history.append(
            {
                "epoch": self.epoch,
                "step": self.step,
                "valid_nll": valid_by_key,
                "valid_mean": round(mean_valid, 4),
                "minutes": round(self._elapsed() / 60, 2),
            }
        )
        improved = mean_valid < self.best
        if improved:
            self.best, self.bad_epochs = mean_valid, 0
            self._save_model(valid_by_key)
        else:
            self.bad_epochs += 1
        self.save_checkpoint(self.step, self.epoch)
        self.last_checkpoint = time.time()
        gain = " (best)" if improved else f" (no gain {self.bad_epochs}/{self.config.patience})"
        report = TrainProgress(
            self.step,
            self.total_steps,
            epoch=self.epoch,
            message=f"epoch {self.epoch}: valid NLL {mean_valid:.4f}" + gain,
            valid_nll=valid_by_key,
        )
        return report, self.bad_epochs >= self.config.patience


def train(config: TrainConfig, resume: bool = False) -> Iterator[TrainProgress]:
    """Train a model; yields progress; writes ``<out>.safetensors/.json`` (best) and ``<out>.ckpt``."""
    run = _Run(config, resume)
    yield run.first_report()
    while run.epoch < config.epochs:
        yield from run.train_epoch()
        report, stop = run.end_epoch()
        yield report
        if stop:
            yield TrainProgress(
                run.step, run.total_steps, epoch=run.epoch, message="early stop: validation loss stopped improving"
            )
            break
    if run.distributed:
        dist.barrier()

"""The ``musicgen`` command line: small commands that hand off to the library.

Heavy modules (torch, music21) are imported inside the commands so ``--help`` stays fast.
Errors the user can fix exit with status 2 and one line on stderr.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


class UserError(Exception):
    """A problem the user can fix; shown as one line, exit status 2."""


def cmd_data_build(args) -> None:
    """Build the token dataset from the music21 corpus or from a folder of MIDI files."""
    from .dataset import DEFAULT_DATASET, build_corpus, build_midi_folder, load_dataset
    from .progress import run_with_bar

    if args.midi_dir:
        out = Path(args.out or f"dataset-{Path(args.midi_dir).resolve().name}")
        steps = build_midi_folder(args.midi_dir, out, workers=args.workers)
    else:
        out = Path(args.out or DEFAULT_DATASET)
        steps = build_corpus(out, workers=args.workers)
    try:
        run_with_bar(steps, "Building dataset")
    except ValueError as error:
        raise UserError(str(error)) from None
    dataset = load_dataset(out)
    stats = dataset.manifest["stats"]
    print(f"Dataset in {out}: {stats['pieces']} pieces, {len(dataset.tokens)} tokens, "
          f"{stats['failed']} failed to parse, {stats['duplicates_removed']} duplicates removed, "
          f"{stats['build_seconds']} s")
    _print_stats(dataset)
    for source, reason in dataset.manifest["failed"][:args.show_failed]:
        print(f"  skipped {source}: {reason}")


def _print_stats(dataset) -> None:
    from .dataset import SPLITS, dataset_stats

    rows = dataset_stats(dataset)
    print(f"{'genre':<12}" + "".join(f"{s + ' pieces':>14}" for s in SPLITS) + f"{'notes':>10}{'tokens':>10}{'tok/piece':>10}")
    for genre in dataset.genre_keys:
        mine = [r for r in rows if r["genre"] == genre]
        pieces = sum(r["pieces"] for r in mine)
        tokens = sum(r["tokens"] for r in mine)
        print(f"{genre:<12}" + "".join(f"{r['pieces']:>14}" for r in mine)
              + f"{sum(r['notes'] for r in mine):>10}{tokens:>10}{tokens / max(1, pieces):>10.0f}")


def cmd_data_stats(args) -> None:
    """Print pieces, notes and tokens per genre and split."""
    from .dataset import DEFAULT_DATASET, load_dataset

    try:
        dataset = load_dataset(args.dataset or DEFAULT_DATASET)
    except ValueError as error:
        raise UserError(str(error)) from None
    _print_stats(dataset)


def cmd_train(args) -> None:
    """Train a genre-conditioned LSTM on a dataset; keeps the best model and a resumable checkpoint."""
    from dataclasses import fields

    from .train import TrainConfig, TrainingError, train

    config = TrainConfig(**{f.name: getattr(args, f.name) for f in fields(TrainConfig)
                            if getattr(args, f.name, None) is not None})
    if config.epochs <= 0 or config.batch_size <= 0 or config.bptt <= 1 or config.lr <= 0:
        raise UserError("--epochs, --batch-size, --lr must be positive and --bptt at least 2")
    quiet = os.environ.get("RANK", "0") != "0"
    try:
        steps = train(config, resume=args.resume)
        if quiet:
            for _ in steps:
                pass
            return
        from .progress import run_training_bar
        last = run_training_bar(steps)
    except TrainingError as error:
        raise UserError(str(error)) from None
    print(f"best model: {config.out}.safetensors / .json (checkpoint {config.out}.ckpt); {last.message}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="musicgen", description="Compose music in a chosen style.")
    commands = parser.add_subparsers(dest="command", required=True)

    data = commands.add_parser("data", help="build or inspect a training dataset")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    build = data_commands.add_parser("build", help=cmd_data_build.__doc__)
    build.add_argument("--midi-dir", help="folder of your MIDI files, one genre per subfolder")
    build.add_argument("--out", help="dataset folder to write (default: data/corpus, or dataset-<name>)")
    build.add_argument("--workers", type=int, default=2, help="processes to parse with (default 2)")
    build.add_argument("--show-failed", type=int, default=10, help="list this many skipped files")
    build.set_defaults(func=cmd_data_build)
    stats = data_commands.add_parser("stats", help=cmd_data_stats.__doc__)
    stats.add_argument("--dataset", help="dataset folder (default: data/corpus)")
    stats.set_defaults(func=cmd_data_stats)
    train_cmd = commands.add_parser("train", help=cmd_train.__doc__)
    from .train import TrainConfig
    for name, default in TrainConfig().__dict__.items():
        flag = "--" + name.replace("_", "-")
        if isinstance(default, bool):
            train_cmd.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction, default=None,
                                   help=f"(default {default})")
        else:
            train_cmd.add_argument(flag, dest=name, type=type(default), default=None, help=f"(default {default})")
    train_cmd.add_argument("--resume", action="store_true", help="continue from <out>.ckpt")
    train_cmd.set_defaults(func=cmd_train)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``musicgen`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except UserError as error:
        print(f"musicgen: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("musicgen: interrupted; finished work is kept", file=sys.stderr)
        return 130
    return 0

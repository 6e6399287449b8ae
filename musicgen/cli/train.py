"""The dataset, training and evaluation commands: ``data build``, ``data stats``, ``train``, ``evaluate``, ``report``."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..limits import MAX_VOICE_STRENGTH
from .common import UserError, check_writable


def cmd_data_build(args) -> None:
    """Build the token dataset from the music21 corpus or from a folder of MIDI files."""
    from ..progress import run_with_bar
    from ..training.dataset import DEFAULT_DATASET, build_corpus, build_midi_folder, load_dataset

    default = f"dataset-{Path(args.midi_dir).resolve().name}" if args.midi_dir else DEFAULT_DATASET
    out = Path(args.out or default)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} is a file; give a folder for the dataset (--out)")
    if args.midi_dir:
        steps = build_midi_folder(args.midi_dir, out, workers=args.workers)
    else:
        steps = build_corpus(out, workers=args.workers)
    run_with_bar(steps, "Building dataset")
    dataset = load_dataset(out)
    stats = dataset.manifest["stats"]
    print(
        f"Dataset in {out}: {stats['pieces']} pieces, {len(dataset.tokens)} tokens, "
        f"{stats['failed']} failed to parse, {stats['duplicates_removed']} duplicates removed, "
        f"{stats['build_seconds']} s"
    )
    _print_stats(dataset)
    for source, reason in dataset.manifest["failed"][: args.show_failed]:
        print(f"  skipped {source}: {reason}")


def _print_stats(dataset) -> None:
    from ..training.dataset import SPLITS, dataset_stats

    rows = dataset_stats(dataset)
    print(
        f"{'genre':<12}"
        + "".join(f"{s + ' pieces':>14}" for s in SPLITS)
        + f"{'notes':>10}{'tokens':>10}{'tok/piece':>10}"
    )
    for genre in [*dataset.genre_keys, "total"]:
        mine = [r for r in rows if r["genre"] == genre or genre == "total"]
        per_split = [sum(r["pieces"] for r in mine if r["split"] == split) for split in SPLITS]
        pieces = sum(per_split)
        tokens = sum(r["tokens"] for r in mine)
        print(
            f"{genre:<12}"
            + "".join(f"{n:>14}" for n in per_split)
            + f"{sum(r['notes'] for r in mine):>10}{tokens:>10}{tokens / max(1, pieces):>10.0f}"
        )


def cmd_data_stats(args) -> None:
    """Print pieces, notes and tokens per genre and split."""
    from ..training.dataset import DEFAULT_DATASET, load_dataset

    dataset = load_dataset(args.dataset or DEFAULT_DATASET)
    _print_stats(dataset)


def _check_train_out(out: str, resume: bool, force: bool) -> None:
    """UserError if training would replace an existing model or checkpoint at ``out`` without
    --resume or --force (the default --out is the same for every run), or cannot write there."""
    from ..files.writing import check_regular_target
    from ..model.model_files import MODEL_SUFFIXES, model_file

    for suffix in MODEL_SUFFIXES:  # the model card, its weights, the checkpoint
        check_regular_target(model_file(out, suffix))
    if resume and force:
        raise UserError("--resume continues <out>.ckpt and --force replaces it: give one of them")
    existing = [model_file(out, suffix) for suffix in MODEL_SUFFIXES if model_file(out, suffix).exists()]
    if existing and not (resume or force):
        raise UserError(
            f"{existing[0]} exists; --resume continues its training, --force replaces it, or give another --out"
        )


def cmd_train(args) -> None:
    """Train a genre-conditioned recurrent network (LSTM by default) on a dataset; keeps the best model and a resumable checkpoint."""
    from dataclasses import fields

    from ..training.train import TrainConfig, TrainingError, resume_config, train

    given = {f.name for f in fields(TrainConfig) if getattr(args, f.name, None) is not None}
    config = TrainConfig(**{name: getattr(args, name) for name in given})
    if config.epochs <= 0 or config.batch_size <= 0 or config.bptt <= 1 or config.lr <= 0:
        raise UserError("--epochs, --batch-size, --lr must be positive and --bptt at least 2")
    from ..model.model_files import model_file

    _check_train_out(config.out, resume=args.resume, force=args.force)
    quiet = os.environ.get("RANK", "0") != "0"
    try:
        if args.resume:
            config, note = resume_config(config, given)
            if not quiet:
                print(note)
        steps = train(config, resume=args.resume)
        if quiet:
            for _ in steps:
                pass
            return
        from ..progress import run_training_bar

        last = run_training_bar(steps)
    except TrainingError as error:
        raise UserError(str(error)) from None
    print(
        f"best model: {model_file(config.out, '.safetensors')} / .json "
        f"(checkpoint {model_file(config.out, '.ckpt')}); {last.message}"
    )


def cmd_train_voice_head(args) -> None:
    """Fit the voice head (a learned voice-leading score of each pitch against the other voices) to a trained model's four-voice pieces; the network itself is kept as it is."""
    from ..model.model_files import model_file
    from ..progress import run_with_bar
    from ..training.voice_head_fit import VoiceHeadConfig, fit_voice_head

    config = VoiceHeadConfig(
        base=args.model or "musicgen-default",
        out=args.out,
        **{
            name: getattr(args, name)
            for name in ("epochs", "shifts", "lr", "seed", "sampling_strength")
            if getattr(args, name) is not None
        },
        **({"dataset": args.dataset} if args.dataset else {}),
    )
    if config.epochs <= 0 or config.shifts <= 0 or config.lr <= 0:
        raise UserError("--epochs, --shifts and --lr must be positive")
    if not 0 <= config.sampling_strength <= MAX_VOICE_STRENGTH:
        raise UserError(
            f"--sampling-strength must be from 0 to {MAX_VOICE_STRENGTH:g}, got {config.sampling_strength:g}"
        )
    _check_train_out(config.out, resume=False, force=args.force)
    try:
        last = run_with_bar(fit_voice_head(config), "Voice head")
    except ValueError as error:
        raise UserError(str(error)) from None
    print(f"model with a voice head: {model_file(last.result, '.safetensors')} / .json")


def cmd_evaluate(args) -> None:
    """Score a model on held-out pieces: NLL per genre vs an n-gram baseline, and genre identification."""
    from ..model.model_files import load_model
    from ..progress import run_with_bar
    from ..training.dataset import DEFAULT_DATASET, load_dataset
    from ..training.evaluate import evaluate_model, metrics_text, update_card_metrics

    loaded = load_model(args.model)
    dataset = load_dataset(args.dataset or DEFAULT_DATASET)
    last = run_with_bar(evaluate_model(loaded, dataset, args.split, args.order), f"Evaluating {loaded.name}")
    metrics = last.result
    print(metrics_text(metrics))
    where = metrics["evaluated_on"]
    print(f"\n{where['pieces']} pieces, {where['events']} events, {where['seconds']} s")
    if not where["same_dataset_as_training"]:
        print("note: this is not the dataset the model was trained on; its pieces may have been seen in training")
    if args.no_update_card:
        return
    try:
        update_card_metrics(loaded.path, metrics)  # also stores the Markdown table as metrics_table
    except (OSError, ValueError) as error:
        raise UserError(
            f"{loaded.path}: cannot write the metrics into the model card ({error}); use --no-update-card"
        ) from None
    print(f"metrics written to {loaded.path}")


def cmd_report(args) -> None:
    """Write an HTML report: do generated pieces match their genre's real pieces (features, checks, NLL)?"""
    from ..model.model_files import load_model
    from ..progress import run_with_bar
    from ..report.build import build_report
    from ..training.dataset import DEFAULT_DATASET, load_dataset

    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} is a file; give a folder for the report")
    if out.is_dir():
        for name in ("index.html", "metrics.json"):  # a folder or FIFO of that name: refused before any work
            check_writable(out / name)
    try:
        loaded = load_model(args.model)
        dataset = load_dataset(args.dataset or DEFAULT_DATASET)
        steps = build_report(
            loaded,
            dataset,
            out,
            pieces_per_genre=args.pieces,
            seed=args.seed,
            temperature=args.temperature,
            top_p=args.top_p,
            top_k=args.top_k,
        )
        last = run_with_bar(steps, f"Report on {loaded.name}")
    except OSError as error:
        raise UserError(f"{out}: cannot write the report ({error.strerror or error})") from None
    metrics = last.result
    for key, genre in metrics["genres"].items():
        ratio = "n/a" if genre["mean_ratio"] is None else f"{genre['mean_ratio']:.2f}"
        checks = genre["checks"]
        print(
            f"{key:<12} overlap/ceiling {ratio:>5}   ends by itself {checks['ends_by_itself']['generated']:.0%}"
            f"   keeps metre {checks['keeps_metre']['generated']:.0%}   in key {checks['in_key']['generated']:.0%}"
        )
    print(f"report: {out / 'index.html'} ({metrics['seconds']:.0f} s)")


def add_commands(commands) -> None:
    """Register data build/stats, train, evaluate and report."""

    data = commands.add_parser("data", help="build or inspect a training dataset")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    build = data_commands.add_parser(
        "build",
        help=cmd_data_build.__doc__,
        description=(
            f"{cmd_data_build.__doc__} Without --midi-dir it reads the music21 corpus (pip install -e '.[corpus]'). "
            "Files that fail to parse are skipped and listed; an interrupted build reruns without redoing finished work."
        ),
    )
    build.add_argument("--midi-dir", help="folder of your MIDI files, one genre per subfolder")
    build.add_argument("--out", help="dataset folder to write (default: data/corpus, or dataset-<name>)")
    build.add_argument("--workers", type=int, default=2, help="processes to parse with (default 2)")
    build.add_argument("--show-failed", type=int, default=10, help="list this many skipped files")
    build.set_defaults(func=cmd_data_build)
    stats = data_commands.add_parser("stats", help=cmd_data_stats.__doc__, description=cmd_data_stats.__doc__)
    stats.add_argument("--dataset", help="dataset folder (default: data/corpus)")
    stats.set_defaults(func=cmd_data_stats)
    train_cmd = commands.add_parser(
        "train",
        help=cmd_train.__doc__,
        description=(
            f"{cmd_train.__doc__} The best model by validation loss is kept in <out>.safetensors + <out>.json; "
            "<out>.ckpt is written every few minutes and after each epoch, and --resume continues from it with its "
            "network sizes. Several processes or GPUs: torchrun --nproc_per_node=N -m musicgen train ..."
        ),
    )
    from ..model.config import CELLS
    from ..training.config import FLAG_HELP, TrainConfig

    for name, default in TrainConfig().__dict__.items():
        flag = "--" + name.replace("_", "-")
        text = f"{FLAG_HELP[name]} (default {default})" if name in FLAG_HELP else f"(default {default})"
        if isinstance(default, bool):
            train_cmd.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction, default=None, help=text)
        elif name == "cell":
            train_cmd.add_argument(flag, dest=name, choices=CELLS, default=None, help=text)
        else:
            train_cmd.add_argument(flag, dest=name, type=type(default), default=None, help=text)
    train_cmd.add_argument("--resume", action="store_true", help="continue from <out>.ckpt")
    train_cmd.add_argument(
        "--force",
        action="store_true",
        help="replace an existing model and checkpoint at <out> (without it, or --resume, train refuses)",
    )
    train_cmd.set_defaults(func=cmd_train)
    head = commands.add_parser(
        "train-voice-head",
        help=cmd_train_voice_head.__doc__,
        description=(
            f"{cmd_train_voice_head.__doc__} It reads the training chorales and Palestrina movements once through the "
            "network, then fits the head's tables by maximum likelihood (a few minutes on a CPU); one-line tunes are "
            "unchanged."
        ),
    )
    head.add_argument("--model", help="the trained model to add the head to (default: musicgen-default)")
    head.add_argument("--out", required=True, help="model to write: <out>.safetensors + <out>.json")
    head.add_argument("--dataset", help="dataset folder (default: data/corpus)")
    head.add_argument("--epochs", type=int, help="passes over the notes (default 6)")
    head.add_argument("--shifts", type=int, help="readings of each piece: as written, then transposed (default 2)")
    head.add_argument("--lr", type=float, help="Adam learning rate (default 0.05)")
    head.add_argument("--seed", type=int, help="random seed (default 1337)")
    head.add_argument(
        "--sampling-strength",
        type=float,
        help="how much the head weighs when sampling, 1 = as fitted (default 1; the shipped model 1.5, docs/voices.md)",
    )
    head.add_argument("--force", action="store_true", help="replace an existing model at <out>")
    head.set_defaults(func=cmd_train_voice_head)
    evaluate = commands.add_parser(
        "evaluate",
        help=cmd_evaluate.__doc__,
        description=(
            f"{cmd_evaluate.__doc__} NLL is in nats per event (lower is better), next to an interpolated Kneser-Ney "
            "n-gram per genre trained on the same tokens; genre identification scores each piece under every "
            "genre and picks the likeliest. The metrics are written into the model card unless --no-update-card."
        ),
    )
    evaluate.add_argument("--model", help="model name or card/weights path (default: musicgen-default)")
    evaluate.add_argument("--dataset", help="dataset folder (default: data/corpus)")
    evaluate.add_argument("--split", choices=("test", "valid"), default="test", help="pieces to score (default test)")
    evaluate.add_argument("--order", type=int, default=5, help="n-gram order of the baseline (default 5)")
    evaluate.add_argument("--no-update-card", action="store_true", help="do not write the metrics into the model card")
    evaluate.set_defaults(func=cmd_evaluate)
    report = commands.add_parser("report", help=cmd_report.__doc__, description=cmd_report.__doc__)
    report.add_argument("--model", help="model name or card/weights path (default: musicgen-default)")
    report.add_argument("--dataset", help="dataset folder with the real test pieces (default: data/corpus)")
    report.add_argument("--pieces", type=int, default=100, help="pieces generated per genre (default 100)")
    report.add_argument("-o", "--output", default="report", help="folder to write (default: report/)")
    report.add_argument(
        "--seed", type=int, default=0, help="piece i of genre g gets seed SEED + g*PIECES + i (default 0)"
    )
    report.add_argument("--temperature", type=float, default=1.0, help="randomness, > 0 (default 1.0)")
    report.add_argument(
        "--top-p", type=float, help="nucleus sampling, in (0, 1] (default: each genre's, from the model card)"
    )
    report.add_argument("--top-k", type=int, default=0, help="sample among the k likeliest events; 0 = off (default)")
    report.set_defaults(func=cmd_report)

"""The ``batch`` command: many pieces into a folder, one part of a batch (``--shard``), or the
parts joined (``--merge``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .common import UserError, check_writable, load_model_or_fail, os_error_as_user_error
from .compose import add_sampling_flags, request_from_args


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _batch_workers(asked: int) -> int:
    """``--workers``, at most one per CPU (more only slow every one down), with a note when capped."""
    if asked < 1:
        raise UserError(f"--workers must be at least 1, got {asked}")
    cpus = available_cpus()
    if asked > cpus:
        plural = "s" if cpus != 1 else ""
        print(f"note: --workers {asked} is more than the {cpus} CPU{plural} here; using {cpus}", file=sys.stderr)
    return min(asked, cpus)


def _check_batch_folder(out_dir: Path) -> None:
    """UserError now, before the model loads, if ``out_dir`` cannot become or hold a batch."""
    from ..batch.compose import MANIFEST_NAME
    from ..files.writing import check_name_length

    check_name_length(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{out_dir} is a file, not a folder")
    existing = out_dir
    while not existing.exists() and existing != existing.parent:  # the folder is made later, after all checks
        existing = existing.parent
    check_writable(existing / MANIFEST_NAME)


def _batch_steps(args, out_dir: Path, workers: int):
    """The planned batch (its ``--shard`` part, if given) as a generator of progress; checks happen now."""
    from ..batch.compose import check_requests, plan_batch, run_batch
    from ..batch.shards import parse_shard, shard_record, shard_requests

    loaded = load_model_or_fail(args.model)
    requests = plan_batch(request_from_args(args, "", 0), args.genre, args.count, args.seed_base, loaded.genre_keys)
    checked = check_requests(requests, loaded.genres)  # every piece of the whole batch, once, before any work
    record = None
    if args.shard:
        shard = parse_shard(args.shard, args.count)
        options = {"best_of": args.best_of, "max_copied": args.max_copied, "precision": args.precision}
        record = shard_record(loaded, requests, shard, **options)  # the settings as asked (open ones open)
        checked = shard_requests(checked, shard)
    return run_batch(
        loaded,
        checked,
        out_dir,
        workers=workers,
        max_copied=args.max_copied,
        best_of=args.best_of,
        precision=args.precision,
        shard_record=record,
    )


def cmd_batch(args) -> None:
    """Compose many pieces into a folder with a manifest.jsonl; rerun the same command to resume.
    With --shard I/N, only the I-th of N parts (one per machine); --merge joins the parts' folders."""
    import time

    from ..batch.compose import MANIFEST_NAME
    from ..progress import run_with_bar

    out_dir = Path(args.out_dir)
    _check_batch_folder(out_dir)
    if args.merge:
        _merge_parts(args, out_dir)
        return
    if args.count is None:
        raise UserError("batch needs --count (or --merge to join the parts of a batch)")
    workers = _batch_workers(args.workers)
    started = time.perf_counter()
    with os_error_as_user_error(f"{out_dir}: cannot create the folder"):
        steps = _batch_steps(args, out_dir, workers)
    try:
        last = run_with_bar(steps, "Composing")
    except OSError as error:  # e.g. the disk filled up: the pieces finished so far are kept
        raise UserError(
            f"{out_dir}: cannot write there ({error.strerror or error}); finished pieces are kept"
        ) from None
    except ValueError as error:
        raise UserError(f"{error}; finished pieces are kept") from None
    seconds = time.perf_counter() - started
    rate = f", {last.written / seconds:.1f} pieces/s" if last.written else ""
    part = f" (part {args.shard.strip()} of {args.count})" if args.shard else ""
    print(
        f"{out_dir}: {last.done} pieces{part} ({last.written} new, {last.skipped} already there){rate}; "
        f"manifest {out_dir / MANIFEST_NAME}"
    )


def _merge_parts(args, out_dir: Path) -> None:
    """``batch --merge DIR... --out-dir OUT``: join the folders of a batch's --shard parts."""
    from ..batch.compose import MANIFEST_NAME
    from ..batch.shards import merge_shards
    from ..progress import run_with_bar

    if args.count is not None or args.shard:
        raise UserError("--merge joins finished parts: leave out --count and --shard")
    with os_error_as_user_error(f"{out_dir}: cannot write there"):
        last = run_with_bar(merge_shards(args.merge, out_dir), "Merging")
    print(f"{out_dir}: {last.done} pieces joined from {len(args.merge)} parts; manifest {out_dir / MANIFEST_NAME}")


def add_commands(commands) -> None:
    """Register batch."""
    batch = commands.add_parser("batch", help=cmd_batch.__doc__, description=cmd_batch.__doc__)
    batch.add_argument("--genre", default="all", help="'all' (cycle over the model's genres), a genre or a blend")
    batch.add_argument("--count", type=int, help="number of pieces (of the whole batch, with --shard)")
    batch.add_argument("--out-dir", required=True, help="folder for the MIDI files and manifest.jsonl")
    batch.add_argument(
        "--workers", type=int, default=1, help="processes to compose with, at most one per CPU (default 1)"
    )
    batch.add_argument(
        "--shard",
        metavar="I/N",
        help="make only the I-th of N disjoint parts of the batch (piece i goes to part i %% N + 1), "
        "e.g. one per task of a Slurm array; join the parts' folders with --merge",
    )
    batch.add_argument(
        "--merge",
        nargs="+",
        metavar="DIR",
        help="join the folders of all N --shard parts of one batch into --out-dir (refuses parts made "
        "with other settings); the result is the same as one run of the whole batch",
    )
    batch.add_argument("--seed-base", type=int, default=0, help="piece i gets seed SEED_BASE + i (default 0)")
    batch.add_argument(
        "--max-copied",
        type=int,
        help="resample (another seed, in the manifest) any piece that shares "
        "a run of more than this many melody notes with a training piece (default: keep every piece)",
    )
    batch.add_argument(
        "--best-of",
        type=int,
        metavar="N",
        help="compose N candidates per piece and keep the one the "
        "style critic finds most like its genre; records style_fit (default: one take, no critic)",
    )
    add_sampling_flags(batch)
    batch.set_defaults(func=cmd_batch)

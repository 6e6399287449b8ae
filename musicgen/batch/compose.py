"""Batch composition: many pieces into one folder, with a manifest, resumable.

Every piece has a deterministic file name ``<genre>-<seed>.mid`` and one line in
``manifest.jsonl`` (file, model, genre, seed, every setting, notes, duration, the file's size and
SHA-256). A piece counts as done when its manifest line exists and its file is the one the line
records, so rerunning an interrupted batch only composes what is missing or damaged, never
duplicates a line, and removes temp files a kill left behind. Pieces are sampled ``CHUNK_SIZE`` at a time
with ``Generator.generate_batch`` and, with ``workers > 1``, in that many processes.

The folder is the batch's own: a run holds a lock on it (``files.FolderLock``, naming its PID to a
second run) and refuses any symlink where it reads or writes its files, since in a shared folder
someone else may have planted one (``batch.folder``). A part of a batch made with ``--shard``
records which part it is and how the whole batch was made in ``shard.json`` (``batch.shards``).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Iterator

from ..files.writing import FolderLock, atomic_write_bytes, check_regular_target, refuse_link, stray_temp_files
from ..progress import Progress
from ..sampling.request import (
    check_request,
    piece_file_name,  # re-exported: the one file-name scheme ("reel-seed7.mid")
)
from .folder import (
    MANIFEST_NAME,  # re-exported: the manifest's name and reader
    append_manifest,
    claim_for_shard,
    file_is_intact,
    manifest_lines,
    read_manifest,  # re-exported
    rewrite_manifest,
)

CHUNK_SIZE = 32  # pieces per batched sampling pass
MAX_COUNT = 100_000  # more pieces than this in one folder is almost surely a typo
ALL_GENRES = "all"


@dataclass
class BatchProgress(Progress):
    """``done`` of ``total`` pieces exist; ``written`` were composed by this run, ``skipped`` were already there."""

    written: int = 0
    skipped: int = 0


def plan_batch(template, genre: str, count: int, seed_base: int, genre_keys: list[str]) -> list:
    """One GenerationRequest per piece: ``template``'s settings, seeds ``seed_base + i``.

    ``genre`` is "all" (cycle over ``genre_keys``), one genre, or a blend. The requests are checked
    once, by ``check_requests`` (``run_batch`` checks those given unchecked).
    """
    if not 1 <= count <= MAX_COUNT:
        raise ValueError(f"--count must be between 1 and {MAX_COUNT}, got {count}")
    if not genre_keys:
        raise ValueError("the model has no genres to compose in")
    genres = list(genre_keys) if genre.strip().lower() == ALL_GENRES else [genre]
    return [replace(template, genre=genres[i % len(genres)], seed=seed_base + i) for i in range(count)]


def check_requests(requests: list, genres: list) -> list:
    """Every request checked once for the model's ``genres`` (``sampling.request.check_request``:
    its genre parsed, the settings it leaves open the genre's, so the manifest and a resumed run
    agree); ValueError naming the first bad one."""
    return [check_request(request, genres) for request in requests]


def _check_same_settings(entry: dict, request) -> None:
    """ValueError if a piece already in the folder was made with other settings than ``request`` (checked)."""
    made_with = entry.get("request", {})
    for name, wanted in asdict(request.request).items():
        if name == "seed" and "planned_seed" in entry:  # resampled (--max-copied): compare the planned seed
            made_with = {**made_with, "seed": entry["planned_seed"]}
        if name in made_with and made_with[name] != wanted and not _same_number(made_with[name], wanted):
            raise ValueError(
                f"{entry['file']} in this folder was made with {name} {made_with[name]!r}, "
                f"not {wanted!r}; use another --out-dir or the same settings"
            )


def _same_number(a, b) -> bool:
    """True if both are numbers of equal value (JSON turns 1.0 into 1)."""
    numbers = (int, float)
    return isinstance(a, numbers) and isinstance(b, numbers) and float(a) == float(b)


# --- work done in worker processes (or in-process with workers=1) -------------------------------

_worker_generator = None
_worker_index = None  # the OriginalityIndex of the model's training data, or None
_worker_critic = None  # the StyleCritic for --best-of, or None


def _init_worker(
    model_path: str, dataset_path: str | None = None, critic_data: dict | None = None, precision: str | None = None
) -> None:
    """Per-process setup: one torch thread (the processes are the parallelism), Ctrl+C left to the parent."""
    import signal

    import torch

    global _worker_generator, _worker_index, _worker_critic
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(1)
    from ..model.model_files import load_model
    from ..sampling.generate import Generator

    _worker_generator = Generator(load_model(model_path), precision=precision)
    if dataset_path is not None:
        from ..evaluation.originality import load_index

        _worker_index = load_index(dataset_path=dataset_path)  # from the cache the parent wrote
    if critic_data is not None:
        from ..evaluation.critic import StyleCritic

        _worker_critic = StyleCritic.from_dict(critic_data)


def _compose_chunk(
    requests: list, generator=None, index=None, max_copied: int | None = None, critic=None, best_of: int | None = None
) -> list[tuple[dict, bytes]]:
    """Sample ``requests`` in one batched pass (resampling copies over ``max_copied`` notes; with
    ``best_of``, the best of that many candidates by the critic's style fit); returns (settings with the
    originality and style-fit fields, MIDI file bytes) per piece."""
    import io

    from ..evaluation.originality import compose_original

    generator, index, critic = generator or _worker_generator, index or _worker_index, critic or _worker_critic
    generate_batch = generator.generate_batch
    if best_of is not None:
        from ..evaluation.critic import best_of as keep_best

        generate_batch = keep_best(generate_batch, critic, best_of)
    if index is None:
        taken = [(piece, None, 0) for piece in generate_batch(requests)]
    else:
        taken = compose_original(generate_batch, requests, index, max_copied)
    results = []
    for request, (piece, found, resampled) in zip(requests, taken):
        buffer = io.BytesIO()
        piece.to_pretty_midi().write(buffer)
        settings = piece.settings_dict()
        if found is not None:
            settings.update(found.manifest_fields())
        if max_copied is not None:
            settings.update(max_copied=max_copied, planned_seed=request.seed, resampled=resampled)
        if best_of is not None:  # the kept candidate's seed is in settings["request"]
            settings.update(best_of=best_of, planned_seed=request.seed)
        results.append((settings, buffer.getvalue()))
    return results


def _chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def run_batch(
    loaded,
    requests: list,
    out_dir,
    workers: int = 1,
    max_copied: int | None = None,
    best_of: int | None = None,
    precision: str | None = None,
    shard_record: dict | None = None,
) -> Iterator[BatchProgress]:
    """Compose every request whose file or manifest line is missing in ``out_dir``; yields progress.

    Checks happen now (ValueError before any work); the returned generator does the composing.
    ``loaded`` is the LoadedModel (worker processes reload it from ``loaded.path``). Stopping the
    generator early keeps every piece finished so far. Each manifest line gets the piece's longest
    run shared with a training piece (``copied_notes``, ``copied_share``, ``copied_from``); with
    ``max_copied``, a piece over that many notes is resampled with another seed (``originality``).
    With ``best_of`` N, each piece is the best of N candidates by the style critic's fit for its genre
    (``critic.best_of``); its line records ``style_fit``, ``best_of`` and the ``planned_seed``.
    ``shard_record`` (``batch_shards.shard_record``) marks the requests as one part of a larger batch.
    The folder stays locked until the generator ends (FolderBusyError for a second run meanwhile).
    """
    if workers < 1:
        raise ValueError(f"--workers must be at least 1, got {workers}")
    if max_copied is not None and max_copied < 1:
        raise ValueError(f"--max-copied must be at least 1 note, got {max_copied}")
    critic = None
    if best_of is not None:
        from ..evaluation.critic import MAX_BEST_OF, critic_for_model

        if not 1 <= best_of <= MAX_BEST_OF:
            raise ValueError(f"--best-of must be between 1 and {MAX_BEST_OF}, got {best_of}")
        critic = critic_for_model(loaded)  # trained and cached on first use
    requests = check_requests(requests, loaded.genres)  # those planned by the CLI are checked already
    index = _originality_index(loaded, max_copied)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lock = FolderLock(out_dir, "batch")
    try:
        claim_for_shard(out_dir, shard_record)
        manifest, todo = _work_left(out_dir, requests, best_of)
    except BaseException:
        lock.release()
        raise
    steps = _compose(
        loaded, todo, len(requests), out_dir, manifest, workers, index, max_copied, critic, best_of, precision
    )
    return _holding(lock, steps)


def _holding(lock: FolderLock, steps: Iterator[BatchProgress]) -> Iterator[BatchProgress]:
    """``steps``, then let go of ``lock``, also when stopped early (the system lets go if killed)."""
    try:
        yield from steps
    finally:
        lock.release()


def _work_left(out_dir: Path, requests: list, best_of: int | None) -> tuple[dict, list]:
    """The folder's manifest entries that stay, and the (file name, request) pairs still to compose;
    tidies the folder (a line cut by a crash, damaged files, temp files). ValueError for a piece made
    with other settings, a link, or a folder or FIFO where a piece goes."""
    names = [piece_file_name(r.genre, r.seed) for r in requests]
    if len(set(names)) != len(names):
        raise ValueError("two pieces of this batch would get the same file name; use distinct seeds")
    for name in names:
        refuse_link(out_dir / name)  # in a shared folder someone else may have planted it
    lines_on_disk = len(manifest_lines(out_dir / MANIFEST_NAME))
    manifest = read_manifest(out_dir)
    todo = []  # (file name, request) of each piece still to compose
    for name, request in zip(names, requests):
        if name in manifest:
            _check_same_settings(manifest[name], request)
            if manifest[name].get("best_of") != best_of:
                raise ValueError(
                    f"{name} in this folder was made with best-of {manifest[name].get('best_of')}, "
                    f"not {best_of}; use another --out-dir or the same settings"
                )
        if name in manifest and not file_is_intact(out_dir / name, manifest[name]):
            del manifest[name]  # missing or damaged: composed again, with a fresh manifest line
        if name not in manifest:
            check_regular_target(out_dir / name)  # a folder or FIFO of that name: refused before any work
            todo.append((name, request))
    if lines_on_disk != len(manifest):
        rewrite_manifest(out_dir, manifest)  # drop a line cut by a crash, duplicates, or damaged files
    for temp in stray_temp_files(out_dir):  # left by a kill between writing a file and renaming it
        temp.unlink()
    return manifest, todo


def _originality_index(loaded, max_copied: int | None):
    """The index of the model's training pieces; None (a warning, no copied_* fields) when that
    dataset is not here, unless ``max_copied`` needs it (then ValueError)."""
    import warnings

    from ..evaluation.originality import load_index

    try:
        return load_index(loaded)
    except ValueError as error:
        if max_copied is not None:
            raise ValueError(f"--max-copied needs the model's training data: {error}") from None
        warnings.warn(f"pieces are not checked for copying: {error}")
        return None


def _compose(
    loaded,
    todo: list,
    total: int,
    out_dir: Path,
    manifest: dict,
    workers: int,
    index=None,
    max_copied: int | None = None,
    critic=None,
    best_of: int | None = None,
    precision: str | None = None,
) -> Iterator[BatchProgress]:
    """Compose ``todo`` ((file name, request) pairs), writing each file and its manifest line."""
    skipped = total - len(todo)
    done, written = skipped, 0
    yield BatchProgress(done, total, f"{skipped} already there" if skipped else "", written=written, skipped=skipped)
    if not todo:
        return

    def save(chunk: list[tuple[str, object]], results: list[tuple[dict, bytes]]) -> None:
        nonlocal done, written
        for (name, _), (settings, midi_bytes) in zip(chunk, results):
            atomic_write_bytes(
                out_dir / name, lambda temp, data=midi_bytes: Path(temp).write_bytes(data), follow_links=False
            )
            if name not in manifest:
                request = settings["request"]
                manifest[name] = {
                    "file": name,
                    "genre": request["genre"],
                    "seed": request["seed"],
                    **settings,
                    "bytes": len(midi_bytes),
                    "sha256": hashlib.sha256(midi_bytes).hexdigest(),
                }
                append_manifest(out_dir, manifest[name])
            done, written = done + 1, written + 1

    if workers == 1:
        import torch

        from ..sampling.generate import Generator

        generator = Generator(loaded, precision=precision)
        threads = torch.get_num_threads()
        # One thread, as in each worker process: the small per-step matrices gain little from more, and
        # on a busy machine torch's thread pool can make every step wait (measured 75x slower).
        torch.set_num_threads(1)
        try:
            for chunk in _chunks(todo, CHUNK_SIZE):
                save(
                    chunk,
                    _compose_chunk([request for _, request in chunk], generator, index, max_copied, critic, best_of),
                )
                yield BatchProgress(done, total, f"{written} composed", written=written, skipped=skipped)
        finally:
            torch.set_num_threads(threads)
        return

    from .processes import run_in_processes

    chunk_size = max(1, min(CHUNK_SIZE, -(-len(todo) // workers)))  # ceil: every worker gets work
    chunks = _chunks(todo, chunk_size)
    # Workers stop at once on Ctrl+C and never outlive this process (musicgen.batch.processes).
    results = run_in_processes(
        _compose_chunk,
        [([request for _, request in chunk], None, None, max_copied, None, best_of) for chunk in chunks],
        workers,
        initializer=_init_worker,
        initargs=(
            str(loaded.path),
            index.dataset_path if index is not None else None,
            critic.to_dict() if critic is not None else None,
            precision,
        ),
    )
    try:
        for number, chunk_results in results:
            save(chunks[number], chunk_results)
            yield BatchProgress(done, total, f"{written} composed", written=written, skipped=skipped)
    finally:
        results.close()

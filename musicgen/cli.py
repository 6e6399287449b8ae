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


class _OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr (exit status 2), like every other error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


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
    for genre in [*dataset.genre_keys, "total"]:
        mine = [r for r in rows if r["genre"] == genre or genre == "total"]
        per_split = [sum(r["pieces"] for r in mine if r["split"] == split) for split in SPLITS]
        pieces = sum(per_split)
        tokens = sum(r["tokens"] for r in mine)
        print(f"{genre:<12}" + "".join(f"{n:>14}" for n in per_split)
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

    from .train import TrainConfig, TrainingError, resume_config, train

    given = {f.name for f in fields(TrainConfig) if getattr(args, f.name, None) is not None}
    config = TrainConfig(**{name: getattr(args, name) for name in given})
    if config.epochs <= 0 or config.batch_size <= 0 or config.bptt <= 1 or config.lr <= 0:
        raise UserError("--epochs, --batch-size, --lr must be positive and --bptt at least 2")
    from .files import check_regular_target

    try:
        for suffix in (".json", ".safetensors", ".ckpt"):  # the model card, its weights, the checkpoint
            check_regular_target(Path(config.out).with_suffix(suffix))
    except ValueError as error:
        raise UserError(str(error)) from None
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
        from .progress import run_training_bar
        last = run_training_bar(steps)
    except TrainingError as error:
        raise UserError(str(error)) from None
    print(f"best model: {config.out}.safetensors / .json (checkpoint {config.out}.ckpt); {last.message}")


def cmd_evaluate(args) -> None:
    """Score a model on held-out pieces: NLL per genre vs an n-gram baseline, and genre identification."""
    from .checkpoint import load_model
    from .dataset import DEFAULT_DATASET, load_dataset
    from .evaluate import evaluate_model, metrics_text, update_card_metrics
    from .progress import run_with_bar

    try:
        loaded = load_model(args.model)
        dataset = load_dataset(args.dataset or DEFAULT_DATASET)
        last = run_with_bar(evaluate_model(loaded, dataset, args.split, args.order), f"Evaluating {loaded.name}")
    except ValueError as error:
        raise UserError(str(error)) from None
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
        raise UserError(f"{loaded.path}: cannot write the metrics into the model card ({error}); "
                        "use --no-update-card") from None
    print(f"metrics written to {loaded.path}")


def cmd_report(args) -> None:
    """Write an HTML report: do generated pieces match their genre's real pieces (features, checks, NLL)?"""
    from .checkpoint import load_model
    from .dataset import DEFAULT_DATASET, load_dataset
    from .progress import run_with_bar
    from .report import build_report

    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} is a file; give a folder for the report")
    if out.is_dir():
        for name in ("index.html", "metrics.json"):  # a folder or FIFO of that name: refused before any work
            _check_writable(out / name)
    try:
        loaded = load_model(args.model)
        dataset = load_dataset(args.dataset or DEFAULT_DATASET)
        steps = build_report(loaded, dataset, out, pieces_per_genre=args.pieces, seed=args.seed,
                             temperature=args.temperature, top_p=args.top_p, top_k=args.top_k)
        last = run_with_bar(steps, f"Report on {loaded.name}")
    except ValueError as error:
        raise UserError(str(error)) from None
    except OSError as error:
        raise UserError(f"{out}: cannot write the report ({error.strerror or error})") from None
    metrics = last.result
    for key, genre in metrics["genres"].items():
        ratio = "n/a" if genre["mean_ratio"] is None else f"{genre['mean_ratio']:.2f}"
        checks = genre["checks"]
        print(f"{key:<12} overlap/ceiling {ratio:>5}   ends by itself {checks['ends_by_itself']['generated']:.0%}"
              f"   keeps metre {checks['keeps_metre']['generated']:.0%}   in key {checks['in_key']['generated']:.0%}")
    print(f"report: {out / 'index.html'} ({metrics['seconds']:.0f} s)")


RANDOM_SEED_LIMIT = 2**31  # a seed drawn for the user is below this (short enough to retype)


def _check_writable(path: Path, kind: str | None = None) -> None:
    """Fail now, before any work, unless ``path`` can be written: a regular file or nothing there
    (a symlink is written through), an existing writable folder, and the ending of ``kind``
    ("midi", "wav", "musicxml", "abc"; see ``musicgen.files``)."""
    from .files import check_output

    try:
        check_output(path, kind)
    except ValueError as error:
        raise UserError(str(error)) from None


def _check_outputs(outputs: dict[str, tuple]) -> None:
    """``_check_writable`` for each ``{flag: (path or None, kind)}``, and no file given for two of them."""
    for path, kind in outputs.values():
        if path:
            _check_writable(Path(path), kind)
    _check_distinct({flag: path for flag, (path, _) in outputs.items()})


def _check_distinct(paths: dict) -> None:
    """UserError if two of ``{what: path or None}`` are one file (through symlinks and hard links)."""
    from .files import check_distinct

    try:
        check_distinct(paths)
    except ValueError as error:
        raise UserError(str(error)) from None


def _generate_outputs(args, midi_path) -> dict[str, tuple]:
    """The files ``generate`` writes, by flag."""
    return {"-o/--output": (midi_path, "midi"), "--wav": (args.wav, "wav"),
            "--musicxml": (getattr(args, "musicxml", None), "musicxml"), "--abc": (getattr(args, "abc", None), "abc")}


def _load_model(name_or_path):
    """Load a model by name or path; UserError with the reason if it cannot be used."""
    from .checkpoint import load_model

    try:
        return load_model(name_or_path)
    except ValueError as error:
        raise UserError(str(error)) from None


def _request_from_args(args, genre: str, seed: int):
    """A GenerationRequest from the sampling flags; flags left out keep the request's defaults."""
    from .request import GenerationRequest

    flags = {"genre": genre, "seed": seed, "morph_to": args.morph_to, "bars": args.bars, "seconds": args.seconds,
             "meter": args.meter, "form": args.form, "part_bars": args.part_bars,
             "style_strength": args.style_strength,
             "tempo": args.tempo, "key": args.key, "program": args.program, "temperature": args.temperature,
             "top_k": args.top_k, "top_p": args.top_p, "primer": getattr(args, "primer", None),
             "max_events": args.max_events}
    return GenerationRequest(**{name: value for name, value in flags.items() if value is not None})


def _consume(steps, description: str):
    """Run a progress generator: a transient bar on a terminal, silently otherwise; returns the last value."""
    from .progress import run_with_bar

    return run_with_bar(steps, description, transient=True)


def _minutes(seconds: float) -> str:
    """``m:ss``."""
    seconds = round(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


def cmd_generate(args) -> None:
    """Compose one piece in a genre or a blend (e.g. bach=0.7,reel=0.3); write MIDI, optionally WAV and a score."""
    import secrets

    seed = args.seed if args.seed is not None else secrets.randbelow(RANDOM_SEED_LIMIT)
    _check_outputs(_generate_outputs(args, args.output))
    if not args.output:
        _check_writable(Path("piece.mid"))  # the default name lands in the current folder (checked again below)
    _check_score_outputs(args)
    from .generate import Generator
    from .request import validate_request

    loaded = _load_model(args.model)
    request = _request_from_args(args, args.genre or "", seed)
    genre = request.genre or loaded.genre_keys[0]
    midi_path = Path(args.output) if args.output else Path(_default_name(genre, seed))
    if not args.output:
        _check_outputs(_generate_outputs(args, midi_path))
    try:
        validate_request(request, loaded.genre_keys)
        _check_abc_genre(args, request, loaded.genre_keys)
        result = _consume(Generator(loaded).generate(request), "Composing").result
    except ValueError as error:
        raise UserError(str(error)) from None
    result.write_midi(midi_path, flat_velocity=args.flat_velocity)
    audio_note = ""
    if args.wav:
        from .audio import render_audio, write_wav

        audio, backend = render_audio(result.to_pretty_midi(args.flat_velocity))
        write_wav(args.wav, audio)
        audio_note = f"; audio {args.wav} ({backend})"
    audio_note += _write_scores(args, result)
    style = genre + (f" -> {request.morph_to}" if request.morph_to else "")
    primer_note = " after the primer" if result.piece.primer_end else ""
    pickup_note = " + pickup" if result.piece.pickup and not result.piece.primer_end else ""
    form_note = f", form {result.form}" if result.form != "free" else ""
    ending = "ends by itself" if result.ended_naturally else "ended at its last bar line"
    print(f"{midi_path}: {style}, {result.bars_generated} bars of {result.meter}{pickup_note}{primer_note}{form_note}, "
          f"{len(result.piece.notes)} notes, {_minutes(result.duration_seconds)} at {result.tempo:g} bpm, "
          f"seed {seed}, {ending}, {result.events_per_second:,.0f} events/s{audio_note}")
    if result.stop_reason:
        print(f"warning: {result.stop_reason}", file=sys.stderr)


def _check_score_outputs(args) -> None:
    """Check the --musicxml and --abc file names and folders before any work."""
    from .files import check_output

    for path, kind in ((args.musicxml, "musicxml"), (args.abc, "abc")):
        if path:
            try:
                check_output(path, kind)
            except ValueError as error:
                raise UserError(str(error)) from None


def _check_abc_genre(args, request, genre_keys) -> None:
    """Refuse --abc for a genre written in several voices before composing (ABC holds one voice)."""
    from .notation.voices import voices_for_genre
    from .request import main_genre, parse_genre_spec

    if not args.abc:
        return
    genre = main_genre(parse_genre_spec(request.genre, genre_keys), genre_keys)
    if voices_for_genre(genre) > 1:
        raise UserError(f"--abc writes one-voice tunes; {genre} is written in {voices_for_genre(genre)} voices: "
                        "use --musicxml")


def _write_scores(args, result) -> str:
    """Write the --musicxml and --abc scores of a generated piece; the note for the summary line."""
    from .notation import export_score

    written = []
    for path in (args.musicxml, args.abc):
        if path:
            try:
                export_score(result, path)
            except ValueError as error:
                raise UserError(str(error)) from None
            written.append(str(path))
    return f"; score {', '.join(written)}" if written else ""


def cmd_score(args) -> None:
    """Write the score of a MIDI file as MusicXML (.musicxml/.xml) or ABC (.abc)."""
    from .files import check_distinct, check_output
    from .notation import export_score, midi_score_source, score_format

    try:
        check_output(args.score, score_format(args.score))
        check_distinct({"IN": args.midi, "OUT": args.score})
        source = midi_score_source(args.midi, args.genre)
        export_score(source, args.score, title=args.title)
    except ValueError as error:
        raise UserError(str(error)) from None
    voices = source.meta["voices"]
    print(f"{args.score}: score of {args.midi} in {voices} voice{'s' if voices > 1 else ''}, "
          f"{len(source.notes)} notes")


def _default_name(genre: str, seed: int) -> str:
    from .batch import piece_file_name

    return piece_file_name(genre, seed)


def cmd_batch(args) -> None:
    """Compose many pieces into a folder with a manifest.jsonl; rerun the same command to resume."""
    import time

    from .batch import MANIFEST_NAME, plan_batch, run_batch
    from .progress import run_with_bar

    out_dir = Path(args.out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{out_dir} is a file, not a folder")
    existing = out_dir
    while not existing.exists() and existing != existing.parent:  # the folder is made later, after all checks
        existing = existing.parent
    _check_writable(existing / MANIFEST_NAME)
    if args.workers < 1:
        raise UserError(f"--workers must be at least 1, got {args.workers}")
    loaded = _load_model(args.model)
    template = _request_from_args(args, "", 0)
    started = time.perf_counter()
    try:
        requests = plan_batch(template, args.genre, args.count, args.seed_base, loaded.genre_keys)
        steps = run_batch(loaded, requests, out_dir, workers=args.workers, max_copied=args.max_copied,
                          best_of=args.best_of)
    except ValueError as error:
        raise UserError(str(error)) from None
    except OSError as error:
        raise UserError(f"{out_dir}: cannot create the folder ({error.strerror or error})") from None
    try:
        last = run_with_bar(steps, "Composing")
    except OSError as error:  # e.g. the disk filled up: the pieces finished so far are kept
        raise UserError(f"{out_dir}: cannot write there ({error.strerror or error}); "
                        "finished pieces are kept") from None
    except ValueError as error:
        raise UserError(f"{error}; finished pieces are kept") from None
    seconds = time.perf_counter() - started
    rate = f", {last.written / seconds:.1f} pieces/s" if last.written else ""
    print(f"{out_dir}: {last.done} pieces ({last.written} new, {last.skipped} already there){rate}; "
          f"manifest {out_dir / MANIFEST_NAME}")


def _read_model_card(name_or_path):
    """Card path and card of a model (no weights loaded); UserError if it cannot be used."""
    from .checkpoint import find_model, read_card

    try:
        path = find_model(name_or_path)
        return path, read_card(path)
    except ValueError as error:
        raise UserError(str(error)) from None


def cmd_regenerate(args) -> None:
    """Compose bars anew (e.g. --bars 5-8 or 5-end) in a MIDI file; every other note stays as it was."""
    from .generate import Generator
    from .regenerate import parse_bar_range, regenerate

    _check_writable(Path(args.output), "midi")
    loaded = _load_model(args.model)
    try:
        first, last = parse_bar_range(args.bars)
        steps = regenerate(Generator(loaded), args.midi, first, last, seed=args.seed, genre=args.genre,
                           style_strength=args.style_strength, candidates=args.candidates)
        result = _consume(steps, "Regenerating").result
    except ValueError as error:
        raise UserError(str(error)) from None
    result.write_midi(args.output)
    first, last = result.piece.meta["regenerated_bars"]
    print(f"{args.output}: bars {first}-{last} of {args.midi} composed anew "
          f"({weights_text_of(result)}, seed {result.request.seed}, best of {args.candidates} candidates)")


def weights_text_of(result) -> str:
    """The genre blend of a result, for messages."""
    from .request import weights_text

    return weights_text(result.genre_weights)


def cmd_originality(args) -> None:
    """Compare a MIDI file with the model's training pieces: the longest run of melody notes it shares
    with one of them (in any key), and which piece that is."""
    from .midi_io import midi_to_piece
    from .originality import load_index

    card = None if args.dataset else _read_model_card(args.model)[1]
    try:
        piece = midi_to_piece(args.midi)
        index = load_index(card, args.dataset)
        found = index.check(piece)
    except ValueError as error:
        raise UserError(str(error)) from None
    against = f"dataset {args.dataset}" if args.dataset else f"model {card.get('name', args.model)}"
    print(f"{args.midi}: {found.melody_notes} melody notes, compared with {index.pieces} training pieces of {against}")
    print(f"longest shared run: {found.notes} notes ({found.share:.0%} of the piece) with {found.source or 'none'}")


def cmd_genres(args) -> None:
    """List the genres a model can compose, with each one's default instrument and tempo."""
    import pretty_midi

    from .genres import genre_from_dict

    path, card = _read_model_card(args.model)
    genres = [genre_from_dict(g) for g in card["genres"]]
    print(f"Genres of model {path.stem} (use --genre KEY, or a blend such as "
          f"{genres[0].key}=0.7,{genres[-1].key}=0.3):")
    print(f"{'key':<12}{'name':<24}{'instrument':<26}{'tempo':>6}  description")
    for genre in genres:
        instrument = pretty_midi.program_to_instrument_name(genre.program)
        print(f"{genre.key:<12}{genre.display_name:<24}{instrument:<26}{genre.tempo:>6}  {genre.description}")


def _format_metrics(metrics: dict) -> list[str]:
    """One line per metric: numbers as they are, per-genre tables as ``genre value`` pairs."""
    lines = []
    for name, value in metrics.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            lines.append(f"{name} {value:.4g}")
        elif isinstance(value, dict) and value and all(isinstance(v, (int, float)) for v in value.values()):
            lines.append(f"{name}: " + ", ".join(f"{k} {v:.3g}" for k, v in value.items()))
    return lines


def cmd_models(args) -> None:
    """List the models on the search path: name, file, genres, size, metrics; marks the default."""
    from .checkpoint import DEFAULT_MODEL, check_model, list_models, search_path

    cards = list_models()
    if not cards:
        places = ", ".join(str(p) for p in search_path())
        print(f"no models found (looked in {places}); train one with `musicgen train`")
        return
    for path in cards:
        marker = "  (default)" if path.stem == DEFAULT_MODEL else ""
        print(f"{path.stem}{marker}  {path}")
        try:
            card = check_model(path)  # the card, and the weights' size and tensor shapes
        except ValueError as error:
            print(f"    unusable: {error}")
            continue
        genres = ", ".join(g["key"] for g in card.get("genres", []))
        print(f"    genres: {genres}; {card.get('parameters', 0):,} parameters")
        for line in _format_metrics(card.get("metrics", {})):
            print(f"    {line}")


def cmd_render(args) -> None:
    """Render a MIDI file to a WAV file (FluidSynth with a General MIDI soundfont, or a simple synth)."""
    _check_writable(Path(args.wav), "wav")
    _check_distinct({"the MIDI file to render": args.midi, "the WAV file to write": args.wav})
    from .audio import render_midi_file

    try:
        backend = render_midi_file(args.midi, args.wav)
    except ValueError as error:
        raise UserError(str(error)) from None
    print(f"{args.wav}: rendered with {backend}")


def cmd_play(args) -> None:
    """Play a MIDI file on a MIDI output port (a synth, a DAW or a device)."""
    from .midi_out import output_port_names, play_midi_file

    try:
        if args.list_ports:
            names = output_port_names()
            if not names:
                raise ValueError("no MIDI output ports found; start a software synth or connect a MIDI device")
            print("\n".join(names))
            return
        if not args.midi:
            raise ValueError("give a MIDI file to play (or --list-ports)")
        steps = play_midi_file(args.midi, args.port)
    except ValueError as error:
        raise UserError(str(error)) from None
    from .progress import run_with_bar

    last = run_with_bar(steps, f"Playing {Path(args.midi).name}")
    print(f"played {args.midi} on {last.message}")


def _add_sampling_flags(parser: argparse.ArgumentParser) -> None:
    """Flags shared by ``generate`` and ``batch``; left out = the request's (genre's) default."""
    parser.add_argument("--bars", type=int, help="length in whole bars, after any pickup (default: the form's "
                        "length: 32 for AABB dances in 8-bar parts, 16 for through-composed pieces)")
    parser.add_argument("--seconds", type=float, help="length in seconds at the tempo, rounded to whole bars (wins over --bars)")
    parser.add_argument("--meter", help="time signature such as 6/8, 3/4, 4/4 (default: the genre's most common)")
    parser.add_argument("--form", help="AABB (default for reels, jigs, hornpipes), AB, ABAC, any letters A-H, "
                        "or free (through-composed; default for the other genres)")
    parser.add_argument("--part-bars", type=int, help="bars per part of the form (default 8, or --bars / parts)")
    parser.add_argument("--style-strength", type=float, help="genre guidance 0..4: how strongly the style is "
                        "pushed away from the average of all genres (default 0)")
    parser.add_argument("--tempo", type=float, help="quarter notes per minute (default: the genre's)")
    parser.add_argument("--key", help="tonic to transpose to: C, F#, Bb ... (default: as composed)")
    parser.add_argument("--program", type=int, help="General MIDI instrument 0..127 (default: the genre's)")
    parser.add_argument("--temperature", type=float, help="randomness, > 0 (default 1.0)")
    parser.add_argument("--top-k", type=int, help="sample among the k likeliest events; 0 = off (default)")
    parser.add_argument("--top-p", type=float, help="nucleus sampling, in (0, 1]; 1 = off (default 0.95)")
    parser.add_argument("--morph-to", help="genre or blend the piece moves to by its end")
    parser.add_argument("--max-events", type=int, help="cap on sampled events (default: from the length, 48 per beat)")
    parser.add_argument("--model", help="model name or .json path (default: musicgen-default)")


def _add_music_commands(commands) -> None:
    """The composing, listing and listening commands."""
    generate = commands.add_parser("generate", help=cmd_generate.__doc__, description=cmd_generate.__doc__)
    generate.add_argument("--genre", help="genre key or blend like bach=0.7,reel=0.3 (default: the model's first)")
    generate.add_argument("--seed", type=int, help="random seed; same seed and settings = same piece (default: random, printed)")
    generate.add_argument("-o", "--output", help="MIDI file to write (default: <genre>-<seed>.mid)")
    generate.add_argument("--wav", help="also render audio to this WAV file")
    generate.add_argument("--primer", help="MIDI file to continue")
    generate.add_argument("--musicxml", help="also write the score as MusicXML (.musicxml or .xml)")
    generate.add_argument("--abc", help="also write the score as ABC (.abc; one-voice genres)")
    generate.add_argument("--flat-velocity", action="store_true",
                          help="every note at velocity 80 (default: accents by metre and phrase)")
    _add_sampling_flags(generate)
    generate.set_defaults(func=cmd_generate)

    batch = commands.add_parser("batch", help=cmd_batch.__doc__, description=cmd_batch.__doc__)
    batch.add_argument("--genre", default="all", help="'all' (cycle over the model's genres), a genre or a blend")
    batch.add_argument("--count", type=int, required=True, help="number of pieces")
    batch.add_argument("--out-dir", required=True, help="folder for the MIDI files and manifest.jsonl")
    batch.add_argument("--workers", type=int, default=1, help="processes to compose with (default 1)")
    batch.add_argument("--seed-base", type=int, default=0, help="piece i gets seed SEED_BASE + i (default 0)")
    batch.add_argument("--max-copied", type=int, help="resample (another seed, in the manifest) any piece that shares "
                       "a run of more than this many melody notes with a training piece (default: keep every piece)")
    batch.add_argument("--best-of", type=int, metavar="N", help="compose N candidates per piece and keep the one the "
                       "style critic finds most like its genre; records style_fit (default: one take, no critic)")
    _add_sampling_flags(batch)
    batch.set_defaults(func=cmd_batch)

    regen = commands.add_parser("regenerate", help=cmd_regenerate.__doc__, description=cmd_regenerate.__doc__)
    regen.add_argument("midi", help="MIDI file to rework (any MIDI file with bar lines)")
    regen.add_argument("--bars", required=True, help="bars to compose anew: 5-8, 5-end or 5 (bar 1 = first whole bar)")
    regen.add_argument("-o", "--output", required=True, help="MIDI file to write")
    regen.add_argument("--genre", help="genre or blend (default: the genre the model finds likeliest for the file)")
    regen.add_argument("--seed", type=int, default=0, help="seed of the first candidate (default 0)")
    regen.add_argument("--style-strength", type=float, default=0.0, help="genre guidance 0..4 (default 0)")
    regen.add_argument("--candidates", type=int, default=4,
                       help="passages sampled; the one that leads best into the kept bars wins (default 4)")
    regen.add_argument("--model", help="model name or .json path (default: musicgen-default)")
    regen.set_defaults(func=cmd_regenerate)

    genres = commands.add_parser("genres", help=cmd_genres.__doc__, description=cmd_genres.__doc__)
    genres.add_argument("--model", help="model name or .json path (default: musicgen-default)")
    genres.set_defaults(func=cmd_genres)
    models = commands.add_parser("models", help=cmd_models.__doc__, description=cmd_models.__doc__)
    models.set_defaults(func=cmd_models)

    score = commands.add_parser("score", help=cmd_score.__doc__, description=cmd_score.__doc__)
    score.add_argument("midi", help="MIDI file to read")
    score.add_argument("score", help="score file to write: .musicxml, .xml or .abc")
    score.add_argument("--genre", help="write it in this genre's voices (bach, palestrina: 4; others: 1) "
                       "(default: one voice unless the file has several tracks or chords)")
    score.add_argument("--title", help="title on the score (default: the file name)")
    score.set_defaults(func=cmd_score)
    render = commands.add_parser("render", help=cmd_render.__doc__, description=cmd_render.__doc__)
    render.add_argument("midi", help="MIDI file to render")
    render.add_argument("wav", help="WAV file to write")
    render.set_defaults(func=cmd_render)
    play = commands.add_parser("play", help=cmd_play.__doc__, description=cmd_play.__doc__)
    play.add_argument("midi", nargs="?", help="MIDI file to play")
    play.add_argument("--port", help="output port name, or a unique part of it (default: the first port)")
    play.add_argument("--list-ports", action="store_true", help="list the MIDI output ports and exit")
    play.set_defaults(func=cmd_play)

    originality = commands.add_parser("originality", help=cmd_originality.__doc__, description=cmd_originality.__doc__)
    originality.add_argument("midi", help="MIDI file to check")
    originality.add_argument("--model", help="model whose training pieces to compare with (default: musicgen-default)")
    originality.add_argument("--dataset", help="compare with this dataset folder's training split instead")
    originality.set_defaults(func=cmd_originality)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = _OneLineParser(prog="musicgen", description="Compose music in a chosen style.")
    commands = parser.add_subparsers(dest="command", required=True)

    data = commands.add_parser("data", help="build or inspect a training dataset")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    build = data_commands.add_parser("build", help=cmd_data_build.__doc__, description=(
        f"{cmd_data_build.__doc__} Without --midi-dir it reads the music21 corpus (pip install -e '.[corpus]'). "
        "Files that fail to parse are skipped and listed; an interrupted build reruns without redoing finished work."))
    build.add_argument("--midi-dir", help="folder of your MIDI files, one genre per subfolder")
    build.add_argument("--out", help="dataset folder to write (default: data/corpus, or dataset-<name>)")
    build.add_argument("--workers", type=int, default=2, help="processes to parse with (default 2)")
    build.add_argument("--show-failed", type=int, default=10, help="list this many skipped files")
    build.set_defaults(func=cmd_data_build)
    stats = data_commands.add_parser("stats", help=cmd_data_stats.__doc__, description=cmd_data_stats.__doc__)
    stats.add_argument("--dataset", help="dataset folder (default: data/corpus)")
    stats.set_defaults(func=cmd_data_stats)
    train_cmd = commands.add_parser("train", help=cmd_train.__doc__, description=(
        f"{cmd_train.__doc__} The best model by validation loss is kept in <out>.safetensors + <out>.json; "
        "<out>.ckpt is written every few minutes and after each epoch, and --resume continues from it with its "
        "network sizes. Several processes or GPUs: torchrun --nproc_per_node=N -m musicgen train ..."))
    from .train_config import FLAG_HELP, TrainConfig
    for name, default in TrainConfig().__dict__.items():
        flag = "--" + name.replace("_", "-")
        text = f"{FLAG_HELP[name]} (default {default})" if name in FLAG_HELP else f"(default {default})"
        if isinstance(default, bool):
            train_cmd.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction, default=None, help=text)
        else:
            train_cmd.add_argument(flag, dest=name, type=type(default), default=None, help=text)
    train_cmd.add_argument("--resume", action="store_true", help="continue from <out>.ckpt")
    train_cmd.set_defaults(func=cmd_train)
    evaluate = commands.add_parser("evaluate", help=cmd_evaluate.__doc__, description=(
        f"{cmd_evaluate.__doc__} NLL is in nats per event (lower is better), next to an interpolated Kneser-Ney "
        "n-gram per genre trained on the same tokens; genre identification scores each piece under every "
        "genre and picks the likeliest. The metrics are written into the model card unless --no-update-card."))
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
    report.add_argument("--seed", type=int, default=0, help="piece i of genre g gets seed SEED + g*PIECES + i (default 0)")
    report.add_argument("--temperature", type=float, default=1.0, help="randomness, > 0 (default 1.0)")
    report.add_argument("--top-p", type=float, default=0.95, help="nucleus sampling, in (0, 1] (default 0.95)")
    report.add_argument("--top-k", type=int, default=0, help="sample among the k likeliest events; 0 = off (default)")
    report.set_defaults(func=cmd_report)
    _add_music_commands(commands)
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
        if argv is None:  # run from a shell: a further Ctrl+C while exiting must not print a traceback
            import signal

            signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("musicgen: interrupted; finished work is kept", file=sys.stderr)
        return 130
    return 0

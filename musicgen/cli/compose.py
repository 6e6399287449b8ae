"""The composing commands: ``generate``, ``regenerate``, ``score``, ``originality`` (``batch``: ``cli.batch``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..genres import weights_text
from ..tokens.codec import VOICE_NAMES
from .common import UserError, check_outputs, check_writable, consume, load_model_or_fail, minutes, read_model_card

RANDOM_SEED_LIMIT = 2**31  # a seed drawn for the user is below this (short enough to retype)


def add_sampling_flags(parser: argparse.ArgumentParser) -> None:
    """Flags shared by ``generate`` and ``batch``; left out = the request's (genre's) default."""
    parser.add_argument(
        "--bars",
        type=int,
        help="length in whole bars, after any pickup (default: the form's "
        "length: 32 for AABB dances in 8-bar parts; a through-composed piece draws one for the seed "
        "from the genre's training pieces)",
    )
    parser.add_argument(
        "--seconds", type=float, help="length in seconds at the tempo, rounded to whole bars (wins over --bars)"
    )
    parser.add_argument(
        "--meter",
        help="time signature such as 6/8, 3/4, 4/4 (default: the genre's own, or one drawn for the seed "
        "with the corpus's odds)",
    )
    parser.add_argument(
        "--form",
        help="AABB (default for reels, jigs, hornpipes, Scottish tunes), AB, ABAC, any letters A-H, "
        "or free (through-composed; default for the other genres)",
    )
    parser.add_argument("--part-bars", type=int, help="bars per part of the form (default 8, or --bars / parts)")
    parser.add_argument(
        "--style-strength",
        type=float,
        help="genre guidance 0..4: how strongly the style is pushed away from the average of all genres; "
        "0 = off (default: the genre's, from the model card; see 'musicgen genres')",
    )
    parser.add_argument(
        "--precision",
        choices=("int8", "fp32"),
        default="int8",
        help="sampling engine weights: int8 (default; twice as fast, follows fp32 within 0.0003 nats/event) or fp32",
    )
    parser.add_argument("--tempo", type=float, help="quarter notes per minute (default: the genre's)")
    parser.add_argument("--key", help="tonic to transpose to: C, F#, Bb ... (default: as composed)")
    parser.add_argument("--program", type=int, help="General MIDI instrument 0..127 (default: the genre's)")
    parser.add_argument("--temperature", type=float, help="randomness, > 0 (default 1.0)")
    parser.add_argument("--top-k", type=int, help="sample among the k likeliest events; 0 = off (default)")
    parser.add_argument(
        "--top-p", type=float, help="nucleus sampling, in (0, 1]; 1 = off (default: the genre's, from the model card)"
    )
    parser.add_argument("--morph-to", help="genre or blend the piece moves to by its end")
    parser.add_argument("--max-events", type=int, help="cap on sampled events (default: from the length, 48 per beat)")
    parser.add_argument("--model", help="model name or .json path (default: musicgen-default)")


def request_from_args(args, genre: str, seed: int):
    """A GenerationRequest from the sampling flags; flags left out keep the request's defaults."""
    from ..sampling.request import GenerationRequest

    flags = {
        "genre": genre,
        "seed": seed,
        "morph_to": args.morph_to,
        "bars": args.bars,
        "seconds": args.seconds,
        "meter": args.meter,
        "form": args.form,
        "part_bars": args.part_bars,
        "style_strength": args.style_strength,
        "tempo": args.tempo,
        "key": args.key,
        "program": args.program,
        "temperature": args.temperature,
        "top_k": args.top_k,
        "top_p": args.top_p,
        "primer": getattr(args, "primer", None),
        "max_events": args.max_events,
    }
    return GenerationRequest(**{name: value for name, value in flags.items() if value is not None})


def _generate_outputs(args, midi_path) -> dict[str, tuple]:
    """The files ``generate`` writes, by flag."""
    return {
        "-o/--output": (midi_path, "midi"),
        "--wav": (args.wav, "wav"),
        "--musicxml": (getattr(args, "musicxml", None), "musicxml"),
        "--abc": (getattr(args, "abc", None), "abc"),
    }


def cmd_generate(args) -> None:
    """Compose one piece in a genre or a blend (e.g. bach=0.7,reel=0.3); write MIDI, optionally WAV and a score."""
    import secrets

    seed = args.seed if args.seed is not None else secrets.randbelow(RANDOM_SEED_LIMIT)
    check_outputs(_generate_outputs(args, args.output))
    _check_not_onto_primer(args, args.output)
    if not args.output:
        check_writable(Path("piece.mid"))  # the default name lands in the current folder (checked again below)
    _check_score_outputs(args)
    from ..sampling.generate import Generator
    from ..sampling.request import check_request

    loaded = load_model_or_fail(args.model)
    request = request_from_args(args, args.genre or "", seed)
    genre = request.genre or loaded.genre_keys[0]
    midi_path = Path(args.output) if args.output else Path(_default_name(genre, seed))
    if not args.output:
        check_outputs(_generate_outputs(args, midi_path))
        _check_not_onto_primer(args, midi_path)
    checked = check_request(request, loaded.genres)  # the one check: genres parsed, genre defaults filled in
    _check_abc_genre(args, checked.main.key)
    result = consume(Generator(loaded, precision=args.precision).generate(checked), "Composing").result
    audio_note = _write_outputs(args, result, midi_path)
    style = genre + (f" -> {request.morph_to}" if request.morph_to else "")
    primer_note = " after the primer" if result.piece.primer_end else ""
    pickup_note = " + pickup" if result.piece.pickup and not result.piece.primer_end else ""
    form_note = f", form {result.form}" if result.form != "free" else ""
    ending = "ends by itself" if result.ended_naturally else "ended at its last bar line"
    print(
        f"{midi_path}: {style}, {result.bars_generated} bars of {result.meter}{pickup_note}{primer_note}{form_note}, "
        f"{len(result.piece.notes)} notes, {minutes(result.duration_seconds)} at {result.tempo:g} bpm, "
        f"seed {seed}, {ending}, {result.events_per_second:,.0f} events/s{audio_note}"
    )
    if result.stop_reason:
        print(f"warning: {result.stop_reason}", file=sys.stderr)


def _check_not_onto_primer(args, midi_path) -> None:
    """UserError if an output of ``generate`` is its --primer (the file it continues)."""
    from .common import check_distinct

    if args.primer:
        for flag, (path, _) in _generate_outputs(args, midi_path).items():
            check_distinct({"--primer": args.primer, flag: path})


def _write_outputs(args, result, midi_path: Path) -> str:
    """Write the MIDI file and the --wav, --musicxml and --abc files of ``result``, all or none:
    each is written to its temp file first and the renames come last (``files.written_together``),
    so an error or an interrupt leaves every old file as it was. Returns the summary's note."""
    from ..files.writing import written_together

    note = ""
    with written_together():
        result.write_midi(midi_path, flat_velocity=args.flat_velocity)
        if args.wav:
            from ..files.audio import render_audio, write_wav

            audio, backend = render_audio(result.to_pretty_midi(args.flat_velocity))
            write_wav(args.wav, audio)
            note = f"; audio {args.wav} ({backend})"
        note += _write_scores(args, result)
    return note


def _check_score_outputs(args) -> None:
    """Check the --musicxml and --abc file names and folders before any work."""
    from ..files.writing import check_output

    for path, kind in ((args.musicxml, "musicxml"), (args.abc, "abc")):
        if path:
            check_output(path, kind)


def _check_abc_genre(args, genre: str) -> None:
    """Refuse --abc for a main ``genre`` written in several voices before composing (ABC holds one voice)."""
    from ..music.voices import voices_for_genre

    if not args.abc:
        return
    if voices_for_genre(genre) > 1:
        raise UserError(
            f"--abc writes one-voice tunes; {genre} is written in {voices_for_genre(genre)} voices: use --musicxml"
        )


def _write_scores(args, result) -> str:
    """Write the --musicxml and --abc scores of a generated piece; the note for the summary line."""
    from ..notation import export_score

    written = []
    for path in (args.musicxml, args.abc):
        if path:
            export_score(result, path)
            written.append(str(path))
    return f"; score {', '.join(written)}" if written else ""


def cmd_score(args) -> None:
    """Write the score of a MIDI file as MusicXML (.musicxml/.xml) or ABC (.abc)."""
    from ..files.writing import check_distinct, check_output
    from ..notation import export_score, midi_score_source, score_format

    check_output(args.score, score_format(args.score))
    check_distinct({"IN": args.midi, "OUT": args.score})
    source = midi_score_source(args.midi, args.genre)
    export_score(source, args.score, title=args.title)
    voices = source.meta["voices"]
    print(f"{args.score}: score of {args.midi} in {voices} voice{'s' if voices > 1 else ''}, {len(source.notes)} notes")


def _default_name(genre: str, seed: int) -> str:
    from ..batch.compose import piece_file_name

    return piece_file_name(genre, seed)


def cmd_regenerate(args) -> None:
    """Compose bars anew (e.g. --bars 5-8 or 5-end) in a MIDI file; every other note stays as it was."""
    from ..sampling.generate import Generator
    from ..sampling.regenerate import parse_bar_range, regenerate

    check_writable(Path(args.output), "midi")
    loaded = load_model_or_fail(args.model)
    first, last = parse_bar_range(args.bars)
    steps = regenerate(
        Generator(loaded, precision=args.precision),
        args.midi,
        first,
        last,
        seed=args.seed,
        genre=args.genre,
        style_strength=args.style_strength,
        candidates=args.candidates,
        voice=VOICE_NAMES.index(args.voice) if args.voice else None,
    )
    result = consume(steps, "Regenerating").result
    result.write_midi(args.output)
    first, last = result.piece.meta["regenerated_bars"]
    print(
        f"{args.output}: {args.voice + ' of ' if args.voice else ''}bars {first}-{last} of {args.midi} composed anew "
        f"({weights_text(result.genre_weights)}, seed {result.request.seed}, best of {args.candidates} candidates)"
    )


def cmd_originality(args) -> None:
    """Compare a MIDI file with the model's training pieces: the longest run of melody notes it shares
    with one of them (in any key), and which piece that is."""
    from ..evaluation.originality import load_index
    from ..files.midi import midi_to_piece

    card = None if args.dataset else read_model_card(args.model)[1]
    piece = midi_to_piece(args.midi)
    index = load_index(card, args.dataset)
    found = index.check(piece)
    against = f"dataset {args.dataset}" if args.dataset else f"model {card.get('name', args.model)}"
    print(f"{args.midi}: {found.melody_notes} melody notes, compared with {index.pieces} training pieces of {against}")
    print(f"longest shared run: {found.notes} notes ({found.share:.0%} of the piece) with {found.source or 'none'}")


def add_commands(commands) -> None:
    """Register generate, regenerate, score and originality."""
    generate = commands.add_parser("generate", help=cmd_generate.__doc__, description=cmd_generate.__doc__)
    generate.add_argument("--genre", help="genre key or blend like bach=0.7,reel=0.3 (default: the model's first)")
    generate.add_argument(
        "--seed", type=int, help="random seed; same seed and settings = same piece (default: random, printed)"
    )
    generate.add_argument("-o", "--output", help="MIDI file to write (default: <genre>-<seed>.mid)")
    generate.add_argument("--wav", help="also render audio to this WAV file")
    generate.add_argument("--primer", help="MIDI file to continue")
    generate.add_argument("--musicxml", help="also write the score as MusicXML (.musicxml or .xml)")
    generate.add_argument("--abc", help="also write the score as ABC (.abc; one-voice genres)")
    generate.add_argument(
        "--flat-velocity", action="store_true", help="every note at velocity 80 (default: accents by metre and phrase)"
    )
    add_sampling_flags(generate)
    generate.set_defaults(func=cmd_generate)
    regen = commands.add_parser("regenerate", help=cmd_regenerate.__doc__, description=cmd_regenerate.__doc__)
    regen.add_argument("midi", help="MIDI file to rework (any MIDI file with bar lines)")
    regen.add_argument("--bars", required=True, help="bars to compose anew: 5-8, 5-end or 5 (bar 1 = first whole bar)")
    regen.add_argument("-o", "--output", required=True, help="MIDI file to write")
    regen.add_argument("--genre", help="genre or blend (default: the genre the model finds likeliest for the file)")
    regen.add_argument(
        "--voice", choices=VOICE_NAMES, help="write only this voice anew (four-voice styles); the others are kept"
    )
    regen.add_argument("--seed", type=int, default=0, help="seed of the first candidate (default 0)")
    regen.add_argument(
        "--style-strength",
        type=float,
        help="genre guidance 0..4 (default: the genre's, from the model card)",
    )
    regen.add_argument(
        "--candidates",
        type=int,
        default=4,
        help="passages sampled; the one that leads best into the kept bars wins (default 4)",
    )
    regen.add_argument("--model", help="model name or .json path (default: musicgen-default)")
    regen.add_argument(
        "--precision", choices=("int8", "fp32"), default="int8", help="sampling engine weights (default int8)"
    )
    regen.set_defaults(func=cmd_regenerate)
    score = commands.add_parser("score", help=cmd_score.__doc__, description=cmd_score.__doc__)
    score.add_argument("midi", help="MIDI file to read")
    score.add_argument("score", help="score file to write: .musicxml, .xml or .abc")
    score.add_argument(
        "--genre",
        help="write it in this genre's voices (bach, palestrina: 4; others: 1) "
        "(default: one voice unless the file has several tracks or chords)",
    )
    score.add_argument("--title", help="title on the score (default: the file name)")
    score.set_defaults(func=cmd_score)
    originality = commands.add_parser("originality", help=cmd_originality.__doc__, description=cmd_originality.__doc__)
    originality.add_argument("midi", help="MIDI file to check")
    originality.add_argument("--model", help="model whose training pieces to compare with (default: musicgen-default)")
    originality.add_argument("--dataset", help="compare with this dataset folder's training split instead")
    originality.set_defaults(func=cmd_originality)

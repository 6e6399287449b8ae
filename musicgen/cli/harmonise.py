"""``musicgen harmonise``: a melody kept note for note as the soprano of a four-voice piece."""

from __future__ import annotations

from pathlib import Path

from ..limits import HARMONISE_CANDIDATES
from .common import check_distinct, check_writable, consume, load_model_or_fail


def cmd_harmonise(args) -> None:
    """Harmonise a melody (a MIDI file's top line, or --track N) in a four-voice style: the melody is
    kept note for note as the soprano and the network writes alto, tenor and bass."""
    from ..files.midi import midi_to_piece
    from ..music.meter import parse_meter
    from ..sampling.generate import Generator
    from ..sampling.harmonise import harmonise, prepare_melody

    check_writable(Path(args.output), "midi")
    check_distinct({"MELODY": args.melody, "-o": args.output})
    if args.musicxml:
        from ..files.writing import check_output

        check_output(args.musicxml, "musicxml")
    meter = parse_meter(args.meter) if args.meter else None
    melody = prepare_melody(midi_to_piece(args.melody, track=args.track), meter)
    loaded = load_model_or_fail(args.model)
    steps = harmonise(
        Generator(loaded, precision=args.precision),
        melody,
        genre=args.genre,
        seed=args.seed,
        candidates=args.candidates,
        style_strength=args.style_strength,
    )
    result = consume(steps, "Harmonising").result
    result.write_midi(args.output)
    notes = ""
    if args.musicxml:
        from ..notation import export_score

        export_score(result, args.musicxml)
        notes = f"; score {args.musicxml}"
    moved = melody.shift
    if moved:
        notes += f"; the melody was moved {'up' if moved > 0 else 'down'} {abs(moved) // 12} octave(s) into the soprano's range"
    print(
        f"{args.output}: {Path(args.melody).name} harmonised in {args.genre} ({len(melody.notes)} melody notes, "
        f"{melody.bars} bars, key {result.key_result}, seed {args.seed}, best of {args.candidates}, "
        f"{result.seconds_taken:.2f} s){notes}"
    )


def add_commands(commands) -> None:
    """Register harmonise."""
    parser = commands.add_parser("harmonise", help=cmd_harmonise.__doc__, description=cmd_harmonise.__doc__)
    parser.add_argument("melody", help="MIDI file with the melody (its top line is taken)")
    parser.add_argument("-o", "--output", required=True, help="MIDI file to write (four tracks, Soprano first)")
    parser.add_argument("--genre", default="bach", help="four-voice style: bach or palestrina (default bach)")
    parser.add_argument("--musicxml", help="also write the score as MusicXML (.musicxml or .xml)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first candidate (default 0)")
    parser.add_argument("--track", type=int, help="take the melody from this track (1 = the first with notes)")
    parser.add_argument("--meter", help="read the melody in this metre, e.g. 3/4 (default: the file's)")
    parser.add_argument(
        "--candidates",
        type=int,
        default=HARMONISE_CANDIDATES,
        help=f"harmonisations sampled; the one under which the melody is likeliest wins (1 = none; default {HARMONISE_CANDIDATES})",
    )
    parser.add_argument("--style-strength", type=float, help="genre guidance 0..4 (default: the genre's)")
    parser.add_argument("--model", help="model name or .json path (default: musicgen-default)")
    parser.add_argument(
        "--precision", choices=("int8", "fp32"), default="int8", help="sampling engine weights (default int8)"
    )
    parser.set_defaults(func=cmd_harmonise)

"""The listing and listening commands: ``genres``, ``models``, ``render``, ``play``."""

from __future__ import annotations

from pathlib import Path

from .common import check_distinct, check_writable, read_model_card


def cmd_genres(args) -> None:
    """List the genres a model can compose, with each one's default instrument, tempo, style strength and top-p."""
    import pretty_midi

    from ..genres import genre_from_dict

    path, card = read_model_card(args.model)
    genres = [genre_from_dict(g) for g in card["genres"]]
    print(
        f"Genres of model {path.stem} (use --genre KEY, or a blend such as {genres[0].key}=0.7,{genres[-1].key}=0.3):"
    )
    print(f"{'key':<12}{'name':<24}{'instrument':<26}{'tempo':>6}{'style':>7}{'top-p':>7}  description")
    for genre in genres:
        instrument = pretty_midi.program_to_instrument_name(genre.program)
        print(
            f"{genre.key:<12}{genre.display_name:<24}{instrument:<26}{genre.tempo:>6}"
            f"{genre.style_strength:>7g}{genre.top_p:>7g}  {genre.description}"
        )


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
    from ..model.model_files import DEFAULT_MODEL, check_model, list_models, search_path

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
    check_writable(Path(args.wav), "wav")
    check_distinct({"the MIDI file to render": args.midi, "the WAV file to write": args.wav})
    from ..files.audio import render_midi_file

    backend = render_midi_file(args.midi, args.wav)
    print(f"{args.wav}: rendered with {backend}")


def cmd_play(args) -> None:
    """Play a MIDI file on a MIDI output port (a synth, a DAW or a device)."""
    from ..files.midi_port import output_port_names, play_midi_file

    if args.list_ports:
        names = output_port_names()
        if not names:
            raise ValueError("no MIDI output ports found; start a software synth or connect a MIDI device")
        print("\n".join(names))
        return
    if not args.midi:
        raise ValueError("give a MIDI file to play (or --list-ports)")
    steps = play_midi_file(args.midi, args.port)
    from ..progress import run_with_bar

    last = run_with_bar(steps, f"Playing {Path(args.midi).name}")
    print(f"played {args.midi} on {last.message}")


def add_commands(commands) -> None:
    """Register genres, models, render and play."""
    genres = commands.add_parser("genres", help=cmd_genres.__doc__, description=cmd_genres.__doc__)
    genres.add_argument("--model", help="model name or .json path (default: musicgen-default)")
    genres.set_defaults(func=cmd_genres)
    models = commands.add_parser("models", help=cmd_models.__doc__, description=cmd_models.__doc__)
    models.set_defaults(func=cmd_models)
    render = commands.add_parser("render", help=cmd_render.__doc__, description=cmd_render.__doc__)
    render.add_argument("midi", help="MIDI file to render")
    render.add_argument("wav", help="WAV file to write")
    render.set_defaults(func=cmd_render)
    play = commands.add_parser("play", help=cmd_play.__doc__, description=cmd_play.__doc__)
    play.add_argument("midi", nargs="?", help="MIDI file to play")
    play.add_argument("--port", help="output port name, or a unique part of it (default: the first port)")
    play.add_argument("--list-ports", action="store_true", help="list the MIDI output ports and exit")
    play.set_defaults(func=cmd_play)

"""Generation: reproducible seeds, lengths and endings, genres, primers, keys, batches, validation."""

from __future__ import annotations

import json
import warnings

import mido
import pretty_midi
import pytest

from musicgen.files.midi import midi_to_piece, write_midi
from musicgen.model.model_files import load_model
from musicgen.music.keys import estimate_key, key_name, parse_key, smallest_shift, target_tonic, transpose_piece
from musicgen.music.piece import make_piece
from musicgen.sampling.generate import Generator
from musicgen.sampling.piece_state import MAX_GAP
from musicgen.genres import parse_genre_spec
from musicgen.sampling.request import GenerationRequest, validate_request
from musicgen.tokens.codec import BAR, EOS, PITCH, SHIFT, piece_to_tokens

GENRES = ["rise", "fall"]


@pytest.fixture(scope="module")
def loaded(tiny_model):
    return load_model(str(tiny_model))


@pytest.fixture(scope="module")
def generator(loaded):
    return Generator(loaded)


def run(generator: Generator, **settings):
    """Generate one piece and return the result (the last progress item)."""
    progress = list(generator.generate(GenerationRequest(**settings)))
    return progress[-1].result


# ----- reproducibility -------------------------------------------------------------------------
def test_same_seed_gives_byte_identical_midi(generator, tmp_path):
    first = run(generator, genre="rise", bars=8, seed=42).write_midi(tmp_path / "a.mid")
    second = run(generator, genre="rise", bars=8, seed=42).write_midi(tmp_path / "b.mid")
    assert first.read_bytes() == second.read_bytes()


def test_different_seeds_give_different_music(generator):
    a = run(generator, genre="rise", bars=8, seed=1)
    b = run(generator, genre="rise", bars=8, seed=2)
    assert a.piece.notes != b.piece.notes


def test_fast_path_samples_the_same_music_as_the_textbook_loop(loaded, generator):
    request = dict(genre="fall", bars=4, seed=5, max_events=150)
    plain = run(Generator(loaded, fast=False), **request)
    assert run(Generator(loaded, precision="fp32"), **request).tokens == plain.tokens


@pytest.mark.parametrize("precision", ["int8", "fp32"])
def test_a_piece_is_the_same_alone_and_in_a_batch(loaded, precision):
    generator = Generator(loaded, precision=precision)
    requests = [GenerationRequest(genre=g, bars=4, seed=s) for g, s in (("rise", 1), ("fall", 2), ("rise", 3))]
    together = generator.generate_batch(requests)
    assert [r.tokens for r in together] == [run(generator, **r.__dict__).tokens for r in requests]


@pytest.mark.parametrize("precision", ["int8", "fp32"])
def test_each_precision_is_reproducible_and_recorded(loaded, tmp_path, precision):
    request = dict(genre="fall", bars=4, seed=9)
    first = run(Generator(loaded, precision=precision), **request)
    again = run(Generator(loaded, precision=precision), **request)
    assert first.write_midi(tmp_path / "a.mid").read_bytes() == again.write_midi(tmp_path / "b.mid").read_bytes()
    assert first.settings_dict()["precision"] == precision
    with pytest.raises(ValueError, match="precision"):
        Generator(loaded, precision="fp16")


# ----- length and endings ----------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(4))
def test_piece_has_exactly_the_requested_bars_and_ends_at_its_closing_bar_line(generator, seed):
    result = run(generator, genre=GENRES[seed % 2], bars=6, seed=seed)
    assert result.bars_generated == 6 == result.bars_requested and result.complete
    assert result.tokens.count(EOS) == 1 and result.tokens[-1] == EOS
    assert result.tokens[-2] == BAR  # the closing bar line comes right before the end
    assert len(result.piece.bars) == 7  # bar 1's line, five more, and the closing one
    assert result.piece.length <= result.piece.bars[-1]  # nothing sounds past the final bar line


def test_long_request_runs_past_where_the_model_would_stop(generator):
    # The toy pieces are 6-10 bars long; asking for 24 forces the model on.
    result = run(generator, genre="fall", bars=24, seed=3)
    assert result.bars_generated == 24 and result.complete
    assert result.piece.bars[-1] - result.piece.bars[0] == 24 * 36  # 24 bars of 6/8


def test_greedy_decoding_still_makes_music(generator):
    # top-k 1 always takes the most likely token; the toy model alone would rest forever.
    result = run(generator, genre="fall", bars=12, seed=0, top_k=1)
    onsets = [0] + sorted({n.start for n in result.piece.notes}) + [result.piece.end]
    assert len(onsets) >= 6
    assert max(b - a for a, b in zip(onsets, onsets[1:])) <= min(MAX_GAP, 2 * 36) + 36  # two bars of rest at most


def test_chords_are_written_downwards(generator):
    for result in generator.generate_batch(
        [GenerationRequest(genre=g, bars=6, seed=s) for g in GENRES for s in (1, 2)]
    ):
        pitches_at = {}
        for token in result.tokens:
            if token in SHIFT:
                pitches_at = {}
            elif token in PITCH:
                assert all(token < other for other in pitches_at), "a chord note at or above an earlier one"
                pitches_at[token] = True


def test_max_events_is_a_hard_cap(generator):
    result = run(generator, genre="rise", bars=64, seed=0, max_events=50)
    assert result.events == 50 == len(result.tokens) - 2  # BOS and METER are not sampled
    assert not result.ended_naturally and not result.complete


def test_length_in_seconds_at_the_chosen_tempo(generator):
    result = run(generator, genre="rise", seconds=6.0, tempo=150, seed=4)
    assert result.tempo == 150
    # 6 s at 150 quarter notes a minute = 15 beats, rounded to 4 bars of 4/4 (6.4 s), plus any pickup
    assert result.bars_generated == 4
    assert result.duration_seconds == pytest.approx((4 * 48 + result.piece.pickup) / 12 * 60 / 150)


# ----- genres ------------------------------------------------------------------------------------
def test_parse_genre_spec_normalises_and_rejects_unknown_genres():
    assert parse_genre_spec("rise", GENRES) == {"rise": 1.0}
    assert parse_genre_spec("", GENRES) == {"rise": 1.0}
    assert parse_genre_spec("rise=3, fall=1", GENRES) == {"rise": 0.75, "fall": 0.25}
    assert parse_genre_spec("rise,fall", GENRES) == {"rise": 0.5, "fall": 0.5}
    with pytest.raises(ValueError, match="unknown genre 'jazz'.*valid genres: rise, fall"):
        parse_genre_spec("rise=0.5,jazz=0.5", GENRES)


def test_blend_and_morph_change_the_music(generator):
    pure = run(generator, genre="rise", bars=8, seed=7)
    blend = run(generator, genre="rise=0.5,fall=0.5", bars=8, seed=7)
    morph = run(generator, genre="rise", morph_to="fall", bars=8, seed=7)
    assert blend.tokens != pure.tokens
    assert morph.tokens != pure.tokens
    # A morph starts exactly as its first genre (its weights move with the bars done, from 0).
    assert morph.tokens[:3] == pure.tokens[:3]
    assert blend.genre_weights == {"rise": 0.5, "fall": 0.5}
    assert morph.morph_weights == {"fall": 1.0}


def test_render_defaults_come_from_the_main_genre_and_can_be_overridden(generator, loaded):
    fall = loaded.genres[1]
    result = run(generator, genre="rise=0.3,fall=0.7", bars=2, seed=0)
    assert (result.tempo, result.program) == (fall.tempo, fall.program)
    pm = run(generator, genre="fall", bars=2, seed=0, tempo=66, program=73).to_pretty_midi()
    assert pm.instruments[0].program == 73
    assert pm.get_tempo_changes()[1][0] == pytest.approx(66)


def test_sampling_defaults_come_from_the_main_genre_of_the_card_and_can_be_overridden(tiny_model, tmp_path):
    """A model card's per-genre style strength and top-p fill a request's open settings; a card
    without them gives the global defaults; a named value wins; the result records what was used."""
    import shutil

    from musicgen.genres import genre_from_dict
    from musicgen.limits import DEFAULT_STYLE_STRENGTH, DEFAULT_TOP_P

    card = json.loads(tiny_model.read_text())
    assert all("style_strength" in g for g in card["genres"])  # train writes them
    old = genre_from_dict({k: v for k, v in card["genres"][0].items() if k not in ("style_strength", "top_p")})
    assert (old.style_strength, old.top_p) == (DEFAULT_STYLE_STRENGTH, DEFAULT_TOP_P)
    card["genres"][1].update(style_strength=0.0, top_p=1.0)  # "fall": no guidance, no nucleus
    shutil.copy(tiny_model.with_suffix(".safetensors"), tmp_path / "tuned.safetensors")
    (tmp_path / "tuned.json").write_text(json.dumps(card))
    tuned = Generator(load_model(str(tmp_path / "tuned.json")))
    plain = Generator(load_model(str(tiny_model)))
    blend = run(tuned, genre="rise=0.3,fall=0.7", bars=2, seed=4)  # the main genre's defaults
    assert (blend.request.style_strength, blend.request.top_p) == (0.0, 1.0)
    fall = run(tuned, genre="fall", bars=2, seed=4)
    assert fall.tokens == run(plain, genre="fall", bars=2, seed=4, style_strength=0.0, top_p=1.0).tokens
    assert fall.tokens != run(plain, genre="fall", bars=2, seed=4).tokens
    rise = run(tuned, genre="rise", bars=2, seed=4)
    assert (rise.request.style_strength, rise.request.top_p) == (DEFAULT_STYLE_STRENGTH, DEFAULT_TOP_P)
    named = run(tuned, genre="fall", bars=2, seed=4, style_strength=2.0, top_p=0.5)
    assert (named.request.style_strength, named.request.top_p) == (2.0, 0.5)
    assert named.tokens != fall.tokens
    card["genres"][1]["style_strength"] = 9.0  # a damaged card: named in the error
    (tmp_path / "tuned.json").write_text(json.dumps(card))
    with pytest.raises(ValueError, match="style strength must be from 0 to 4, got 9"):
        run(Generator(load_model(str(tmp_path / "tuned.json"))), genre="fall", bars=2)


# ----- primer ------------------------------------------------------------------------------------
def test_primer_notes_come_first_and_primer_end_is_set(generator, chorale_like, tmp_path):
    path = write_midi(chorale_like, tmp_path / "primer.mid", tempo=100)
    primer = midi_to_piece(path)
    primer_tokens = piece_to_tokens(primer, add_end=False)
    result = run(generator, genre="fall", bars=4, seed=2, primer=str(path))
    # new music starts on the primer's next bar line, in its metre (4/4: 48-step bars)
    assert result.piece.primer_end == primer.bars[-1] >= primer.length > 0
    assert result.meter == "4/4"
    assert result.piece.notes[: len(primer.notes)] == primer.notes
    assert all(n.start >= primer.length for n in result.piece.notes[len(primer.notes) :])
    assert len(result.piece.notes) > len(primer.notes)
    assert result.tokens[: len(primer_tokens)] == primer_tokens
    # every new token was sampled (EOS is written, not drawn); final bars sampled again count too
    assert result.events >= len(result.tokens) - result.primer_tokens - 1
    assert result.bars_generated == 4  # the length counts the new part only
    assert result.piece.bars[-1] == result.piece.primer_end + 4 * 48


def test_long_primer_keeps_every_note(generator, tmp_path):
    raw = [(k * 6, 60 + (k * 5) % 12, 6) for k in range(1200)]  # ~2,600 tokens, more than the warm-up cap
    primer = make_piece(raw, bars=range(0, 1200 * 6 + 1, 48), meters=[(0, 4, 4)])
    path = write_midi(primer, tmp_path / "long.mid")
    result = run(generator, genre="rise", bars=2, seed=0, primer=str(path))
    assert result.piece.notes[: len(primer.notes)] == midi_to_piece(path).notes
    assert result.piece.primer_end == 1200 * 6


def test_corrupt_primer_is_a_value_error(generator, tmp_path):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"not midi at all")
    with pytest.raises(ValueError, match="bad.mid"):
        run(generator, bars=2, primer=str(bad))


# ----- keys --------------------------------------------------------------------------------------
def test_key_finding_on_a_c_major_scale_and_an_a_minor_melody():
    c_major = make_piece([(i * 12, p, 12) for i, p in enumerate([60, 62, 64, 65, 67, 69, 71, 72])])
    assert estimate_key(c_major) == (0, "major")
    # A natural minor, leaning on A, C and E, with a G# leading note at the cadence.
    melody = [69, 72, 76, 74, 72, 71, 69, 64, 65, 64, 62, 60, 59, 68, 69, 69]
    a_minor = make_piece([(i * 12, p, 24 if p % 12 == 9 else 12) for i, p in enumerate(melody)])
    assert estimate_key(a_minor) == (9, "minor")
    assert key_name(*estimate_key(a_minor)) == "A minor"


def test_key_names_and_shifts():
    assert parse_key("C") == (0, None)
    assert parse_key("F#") == (6, None)
    assert parse_key("Bb") == (10, None)
    assert parse_key("D minor") == (2, "minor")
    assert parse_key("ebm") == (3, "minor")
    assert parse_key("A major") == (9, "major")
    assert [smallest_shift(0, t) for t in range(12)] == [0, 1, 2, 3, 4, 5, -6, -5, -4, -3, -2, -1]
    assert target_tonic((2, "minor"), "major") == 5  # D minor asked of a major piece: F major
    assert target_tonic((0, "major"), "minor") == 9  # C major asked of a minor piece: A minor


def test_transposition_moves_the_piece_to_the_requested_tonic(generator):
    drawn = run(generator, genre="rise", bars=4, seed=3)  # left open: moved to a key drawn from the corpus's
    as_generated = transpose_piece(drawn.piece, -drawn.transpose)  # the key the network wrote in
    tonic, mode = estimate_key(as_generated)
    assert drawn.key_detected == key_name(tonic, mode) and drawn.key_result in generator.genre_keys_counts["rise"]
    target = (tonic + 5) % 12
    moved = run(generator, genre="rise", bars=4, seed=3, key=key_name(target, "major").split()[0])
    assert estimate_key(moved.piece) == (target, mode)
    assert moved.transpose == smallest_shift(tonic, target)
    assert -6 <= moved.transpose <= 5
    assert moved.key_result == key_name(target, mode)
    assert moved.piece == transpose_piece(as_generated, moved.transpose)


# ----- batch -------------------------------------------------------------------------------------
def test_batch_gives_valid_reproducible_pieces_in_request_order(generator):
    requests = [
        GenerationRequest(genre="rise", bars=2, seed=0),
        GenerationRequest(genre="fall", bars=8, seed=1),
        GenerationRequest(genre="rise", morph_to="fall", bars=4, seed=2, temperature=0.8, top_k=20),
        GenerationRequest(genre="fall", bars=64, seed=3, max_events=40),
    ]
    first = generator.generate_batch(requests)
    second = generator.generate_batch(requests)
    assert [p.tokens for p in first] == [p.tokens for p in second]
    assert [p.request for p in first] == [generator.with_genre_defaults(r) for r in requests]  # None: the genre's
    for piece, request in zip(first, requests):
        assert piece.events <= (request.max_events or 10**9)
        assert piece.piece.notes
        if piece.complete:
            assert piece.bars_generated == request.bars
            assert piece.tokens[-1] == EOS
    assert first[3].events == 40  # a row that stops early leaves the others running
    assert first[1].bars_generated > first[0].bars_generated


# ----- progress and cancel -----------------------------------------------------------------------
def test_progress_counts_up_and_the_last_item_has_the_result(generator):
    steps = list(generator.generate(GenerationRequest(genre="rise", bars=8, seed=1)))
    assert all(s.result is None for s in steps[:-1]) and steps[-1].result is not None
    done = [s.done for s in steps]
    assert done == sorted(done) and done[-1] == steps[-1].total == 8


def test_cancel_by_closing_the_iterator(generator):
    steps = generator.generate(GenerationRequest(genre="rise", bars=200, seed=1, max_events=50000))
    next(steps), next(steps)
    steps.close()  # no exception, no result; the generator can be used again
    assert run(generator, bars=1, seed=0).piece.notes


def test_two_interleaved_generations_do_not_disturb_each_other(generator):
    requests = [
        GenerationRequest(genre="rise", morph_to="fall", bars=6, seed=1),
        GenerationRequest(genre="fall", bars=6, seed=2),
    ]
    alone = [list(generator.generate(r))[-1].result.tokens for r in requests]
    first, second = generator.generate(requests[0]), generator.generate(requests[1])
    results = [None, None]
    while None in results:
        for index, steps in enumerate((first, second)):
            if results[index] is None:
                step = next(steps)
                results[index] = step.result.tokens if step.result else None
    assert results == alone


# ----- validation --------------------------------------------------------------------------------
def test_a_bad_request_in_a_batch_is_named(generator):
    requests = [GenerationRequest(bars=2), GenerationRequest(bars=2, top_p=2.0)]
    with pytest.raises(ValueError, match="request 2: top-p"):
        generator.generate_batch(requests)


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(temperature=0), "temperature"),
        (dict(temperature=-1.0), "temperature"),
        (dict(temperature=float("nan")), "temperature"),
        (dict(top_p=0.0), "top-p"),
        (dict(top_p=1.5), "top-p"),
        (dict(top_k=-1), "top-k"),
        (dict(bars=0), "bars"),
        (dict(bars=-4), "bars"),
        (dict(bars=10_000), "bars"),
        (dict(part_bars=0), "per part"),
        (dict(meter="5/7"), "metre"),
        (dict(meter="fast"), "metre"),
        (dict(form="XYZ"), "form"),
        (dict(form="BA"), "start with part A"),
        (dict(style_strength=-1.0), "style strength"),
        (dict(style_strength=9.0), "style strength"),
        (dict(primer="/no/such/file.mid"), "no such file"),
        (dict(seconds=0.0), "seconds"),
        (dict(seconds=-3.0), "seconds"),
        (dict(seconds=86_400.0), "seconds"),
        (dict(max_events=0), "max events"),
        (dict(max_events=10_000_000), "max events"),
        (dict(genre="jazz"), "unknown genre 'jazz'.*rise, fall"),
        (dict(morph_to="polka"), "unknown genre 'polka'"),
        (dict(genre="rise=lots"), "not a number"),
        (dict(genre="rise=-1,fall=2"), "zero or positive"),
        (dict(genre="rise=0,fall=0"), "add up to zero"),
        (dict(genre="rise,rise"), "twice"),
        (dict(key="H"), "key 'H'"),
        (dict(key="C minorish"), "key"),
        (dict(program=-1), "program"),
        (dict(program=128), "program"),
        (dict(tempo=10), "tempo"),
        (dict(tempo=500), "tempo"),
        (dict(seed=-1), "seed"),
        (dict(primer="/no/such/file.mid"), "no such file"),
    ],
)
def test_bad_settings_are_one_line_value_errors(settings, message, generator):
    request = GenerationRequest(**settings)
    with pytest.raises(ValueError, match=message) as error:
        validate_request(request, GENRES)
    assert "\n" not in str(error.value)
    with pytest.raises(ValueError, match=message):
        next(iter(generator.generate(request)))


def test_good_settings_pass_validation():
    validate_request(
        GenerationRequest(
            genre="rise=0.2,fall=0.8",
            morph_to="fall",
            seconds=30.0,
            tempo=90,
            key="D minor",
            program=0,
            temperature=0.7,
            top_k=10,
            top_p=1.0,
        ),
        GENRES,
    )


# ----- output files ------------------------------------------------------------------------------
def test_midi_opens_cleanly_in_mido_pretty_midi_and_music21(generator, tmp_path):
    import music21

    result = run(generator, genre="fall", bars=4, seed=8, key="Bb")
    path = result.write_midi(tmp_path / "out.mid")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        midi = mido.MidiFile(str(path))
        pm = pretty_midi.PrettyMIDI(str(path))
    assert len(midi.tracks) >= 1
    assert len(pm.instruments[0].notes) == len(result.piece.notes)
    assert pm.get_end_time() == pytest.approx(result.duration_seconds, abs=0.01)
    score = music21.converter.parse(str(path))
    assert len(score.flatten().notes) > 0
    settings = json.loads(json.dumps(result.settings_dict()))
    assert settings["request"]["key"] == "Bb" and settings["notes"] == len(result.piece.notes)
    assert settings["key_result"].startswith("Bb ")  # the tonic asked for, in the piece's own mode

"""Voices (codec 4): sampled four-voice pieces keep one note per voice in its range; a one-line
style stays one line; MIDI files and primers get voices; keys are drawn with the corpus's odds;
voice-leading figures count what a teacher marks."""

from __future__ import annotations

import pretty_midi

from musicgen.evaluation.voice_leading import measure
from musicgen.files.midi import midi_to_piece
from musicgen.model.model_files import load_model
from musicgen.music.piece import make_piece
from musicgen.music.piece_shape import draw_key
from musicgen.music.voicing import assign_voices
from musicgen.sampling.generate import Generator
from musicgen.sampling.request import GenerationRequest
from musicgen.tokens.codec import VOICE_RANGES
from musicgen.tokens.grammar import check_stream


def notes_out_of_range(piece, shift: int, ranges) -> int:
    """Notes of ``piece`` moved by ``shift`` semitones outside their voice's (low, high) range, counted plainly."""
    return sum(not ranges[n.voice][0] <= n.pitch + shift <= ranges[n.voice][1] for n in piece.notes)


def _overlaps(notes) -> bool:
    ordered = sorted(notes, key=lambda n: n.start)
    return any(b.start < a.end for a, b in zip(ordered, ordered[1:]))


def test_a_four_voice_style_samples_every_note_in_its_voice(choir_model):
    generator = Generator(load_model(choir_model))
    for seed in range(4):
        result = generator.generate_batch([GenerationRequest(genre="choir", bars=4, seed=seed, key="C")])[0]
        piece = result.piece
        assert piece.voiced and check_stream(result.tokens) == []
        for voice in range(4):
            notes = [n for n in piece.notes if n.voice == voice]
            low, high = VOICE_RANGES[voice]
            assert not _overlaps(notes), f"seed {seed}: voice {voice} sings two notes at once"
            # (after the key's transposition a voice may lie a few semitones off its sampled range)
            assert all(low - 6 <= n.pitch <= high + 6 for n in notes)


def test_a_one_line_style_samples_one_note_at_a_time(choir_model):
    generator = Generator(load_model(choir_model))
    result = generator.generate_batch([GenerationRequest(genre="rise", bars=4, seed=3)])[0]
    assert not result.piece.voiced and not _overlaps(result.piece.notes)
    assert check_stream(result.tokens) == []


def test_midi_tracks_that_each_play_one_line_become_voices(tmp_path):
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    for pitches in ((48, 50), (72, 74), (64, 65)):  # bass, soprano, alto tracks in that order
        track = pretty_midi.Instrument(0)
        for k, pitch in enumerate(pitches):
            track.notes.append(pretty_midi.Note(80, pitch, k * 0.5, k * 0.5 + 0.5))
        pm.instruments.append(track)
    path = tmp_path / "three.mid"
    pm.write(str(path))
    piece = midi_to_piece(path, voices=True)
    assert {(n.pitch, n.voice) for n in piece.notes} == {(72, 0), (74, 0), (64, 2), (65, 2), (48, 3), (50, 3)}
    assert not midi_to_piece(path).voiced  # without voices=True every note is voice 0


def test_chords_without_tracks_are_separated_into_one_line_voices():
    piece = make_piece([(0, 72, 24), (0, 64, 24), (0, 55, 24), (0, 48, 24), (24, 74, 24), (24, 47, 24)])
    voiced = assign_voices(piece)
    assert voiced.voiced and len(voiced.notes) == len(piece.notes)
    for voice in range(4):
        assert not _overlaps([n for n in voiced.notes if n.voice == voice])
    assert [n.pitch for n in voiced.notes if n.voice == 0] == [72, 74]
    assert [n.pitch for n in voiced.notes if n.voice == 3] == [48, 47]


def test_keys_are_drawn_with_the_corpus_odds_in_the_pieces_mode():
    counts = {"G major": 90, "D major": 10, "A minor": 50}
    majors = [draw_key(counts, "major", seed) for seed in range(400)]
    assert set(majors) == {"G major", "D major"} and 0.8 < majors.count("G major") / 400 < 0.97
    assert draw_key(counts, "minor", 1) == "A minor" and draw_key({}, "major", 1) is None
    assert draw_key(counts, "major", 7) == draw_key(counts, "major", 7)


def test_only_the_keys_that_put_the_fewest_notes_out_of_range_are_drawn():
    counts = {"G major": 90, "D major": 10, "E major": 40, "F major": 30}
    out = {"G major": 5, "D major": 1, "E major": 1, "F major": 2}
    kept = [draw_key(counts, "major", seed, out.get) for seed in range(400)]
    assert set(kept) == {"D major", "E major"}  # G major, the commonest, would put 5 notes out
    assert 0.65 < kept.count("E major") / 400 < 0.95  # with the corpus's odds between them (40 : 10)
    assert {draw_key(counts, "major", seed, lambda name: 3) for seed in range(200)} == set(counts)


def test_a_piece_left_without_a_key_comes_out_in_a_key_of_its_style(choir_model):
    from musicgen.music.keys import transpose_piece

    generator = Generator(load_model(choir_model))
    card_keys = generator.genre_keys_counts["choir"]
    ranges = generator.sung_ranges["choir"]
    assert len(ranges) == 4 and all(low < high for low, high in ranges)
    for seed in range(6):
        result = generator.generate_batch([GenerationRequest(genre="choir", bars=4, seed=seed)])[0]
        # (the toy corpus is all in C major: a piece the network wrote in a minor key keeps it)
        assert result.key_result in card_keys if result.key_detected.endswith("major") else not result.key_result
        # no more notes outside the voices' sung ranges than in the key the network wrote it in
        written = transpose_piece(result.piece, -result.transpose)
        assert notes_out_of_range(result.piece, 0, ranges) <= notes_out_of_range(written, 0, ranges)


def test_sung_ranges_are_measured_for_styles_of_several_voices(choir_dataset):
    from musicgen.training.dataset import load_dataset, sung_ranges

    ranges = sung_ranges(load_dataset(choir_dataset))
    assert list(ranges) == ["choir"]  # the one-line toy scales have none
    soprano, alto, tenor, bass = ranges["choir"]
    assert bass[0] < tenor[0] < alto[0] < soprano[0] and bass[1] < soprano[1]


def test_parallel_fifths_and_octaves_are_counted():
    # soprano and bass move C->D two octaves apart: parallel octaves; alto and bass
    # G->A over C->D: parallel fifths (compound); the tenor holds E.
    piece = make_piece(
        [(0, 72, 12, 0), (12, 74, 12, 0), (0, 67, 12, 1), (12, 69, 12, 1)]
        + [(0, 64, 24, 2), (0, 48, 12, 3), (12, 50, 12, 3)]
    )
    counts = measure(piece)
    assert counts.parallel_octaves == 1 and counts.parallel_fifths == 1  # S-B octaves, A-B fifths (S-A: fourths)
    assert counts.moves == 6 and counts.full_beats == counts.beats == 2
    contrary = make_piece(
        [(0, 72, 12, 0), (12, 71, 12, 0), (0, 67, 12, 1), (12, 67, 12, 1)]
        + [(0, 64, 24, 2), (0, 48, 12, 3), (12, 55, 12, 3)]
    )
    assert measure(contrary).parallel_fifths == measure(contrary).parallel_octaves == 0


def _melody_file(tmp_path, pitches, name="tune.mid", numerator=4):
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(numerator, 4, 0))
    track = pretty_midi.Instrument(0)
    for k, pitch in enumerate(pitches):
        track.notes.append(pretty_midi.Note(80, pitch, k * 0.5, k * 0.5 + 0.5))  # quarter notes at 120 bpm
    pm.instruments.append(track)
    path = tmp_path / name
    pm.write(str(path))
    return path


def test_harmonise_keeps_the_melody_note_for_note_and_writes_three_voices(choir_model, tmp_path):
    from musicgen.sampling.harmonise import harmonise, prepare_melody

    pitches = [72, 71, 72, 74, 76, 74, 72, 71, 69, 71, 72, 74, 72, 71, 72, 72]
    melody = prepare_melody(midi_to_piece(_melody_file(tmp_path, pitches)))
    assert melody.bars == 4 and melody.shift == 0
    generator = Generator(load_model(choir_model))
    for candidates in (1, 3):
        steps = harmonise(generator, melody, genre="choir", seed=2, candidates=candidates)
        *_, last = steps
        piece = last.result.piece
        soprano = [(n.start, n.pitch, n.duration) for n in piece.notes if n.voice == 0]
        assert soprano == [(n.start, n.pitch, n.duration) for n in melody.notes]
        assert {n.voice for n in piece.notes} == {0, 1, 2, 3}
        for voice in range(4):
            assert not _overlaps([n for n in piece.notes if n.voice == voice])
        assert piece.bars[-1] == 4 * 48 and check_stream(last.result.tokens) == []


def test_harmonise_refuses_a_one_voice_style_and_an_unknown_metre(choir_model, tmp_path):
    import pytest

    from musicgen.sampling.harmonise import harmonise, prepare_melody

    generator = Generator(load_model(choir_model))
    melody = prepare_melody(midi_to_piece(_melody_file(tmp_path, [72, 74, 76, 77, 79, 77])))
    with pytest.raises(ValueError, match="one voice"):
        list(harmonise(generator, melody, genre="rise"))
    waltz = prepare_melody(midi_to_piece(_melody_file(tmp_path, [72, 74, 76] * 4, "waltz.mid", numerator=3)))
    with pytest.raises(ValueError, match="never saw"):
        list(harmonise(generator, waltz, genre="choir"))
    low = prepare_melody(midi_to_piece(_melody_file(tmp_path, [48, 50, 52, 53], "low.mid")))
    assert low.shift == 12 and min(n.pitch for n in low.notes) == 60  # the smallest move into 55..81


def test_a_melody_wider_than_a_soprano_is_refused(tmp_path):
    import pytest

    from musicgen.sampling.harmonise import prepare_melody

    with pytest.raises(ValueError, match="more than a soprano sings"):
        prepare_melody(midi_to_piece(_melody_file(tmp_path, [48, 60, 72, 84])))


def test_rewriting_one_voice_keeps_every_other_note(choir_model, tmp_path):
    from musicgen.sampling.regenerate import regenerate

    generator = Generator(load_model(choir_model))
    source = generator.generate_batch([GenerationRequest(genre="choir", bars=4, seed=5)])[0]
    *_, last = regenerate(generator, source, 2, 3, seed=1, genre="choir", candidates=2, voice=1)
    before, after = source.piece, last.result.piece
    start, end = before.bars[1], before.bars[3]

    def others(piece):
        return sorted(
            (n.start, n.pitch, n.duration, n.voice) for n in piece.notes if n.voice != 1 or not start <= n.start < end
        )

    assert others(after) == others(before)
    assert not _overlaps([n for n in after.notes if n.voice == 1])


def test_rewriting_one_voice_of_a_midi_file_finds_its_four_voice_style(choir_model, tmp_path):
    from musicgen.sampling.regenerate import regenerate

    generator = Generator(load_model(choir_model))
    source = generator.generate_batch([GenerationRequest(genre="choir", bars=4, seed=5)])[0]
    path = tmp_path / "choir.mid"
    source.write_midi(path)  # four tracks, Soprano first
    *_, last = regenerate(generator, str(path), 2, 3, seed=1, candidates=2, voice=2)
    assert last.result.genre_weights == {"choir": 1.0}
    before = midi_to_piece(path, voices=True)
    start, end = before.bars[1], before.bars[3]

    def others(piece):
        return sorted((n.start, n.pitch, n.voice) for n in piece.notes if n.voice != 2 or not start <= n.start < end)

    assert others(last.result.piece) == others(before)


def test_a_drawn_key_moves_four_voices_the_way_that_keeps_them_in_their_ranges():
    from musicgen.music.keys import estimate_key, transpose_to_key
    from musicgen.music.piece import make_piece
    from musicgen.tokens.codec import VOICE_RANGES

    # F major, the soprano high (up to F5 = 77): B major's tonic is a tritone either way
    chords = [(72, 69, 65, 53), (74, 70, 65, 46), (72, 67, 64, 48), (77, 69, 60, 53)]
    notes = [(8 * i, pitch, 8, voice) for i, chord in enumerate(chords) for voice, pitch in enumerate(chord)]
    piece = make_piece(notes, [0, 32])
    assert estimate_key(piece) == (5, "major")
    moved, shift, _, result = transpose_to_key(piece, "B major", voice_ranges=VOICE_RANGES)
    assert result == (11, "major") and shift == -6  # +6 would lift the soprano to B5, over its range
    assert all(VOICE_RANGES[n.voice][0] <= n.pitch <= VOICE_RANGES[n.voice][1] for n in moved.notes)
    # a low piece goes up: the bass down at D2 would fall under its range a tritone lower
    low = make_piece([(s, p - 12 if v == 3 else p, d, v) for s, p, d, v in notes], [0, 32])
    assert transpose_to_key(low, "B major", voice_ranges=VOICE_RANGES)[1] == 6


def test_a_piece_left_without_a_key_keeps_every_voice_in_its_sung_range(choir_model, monkeypatch):
    generator = Generator(load_model(choir_model))
    ranges = generator.sung_ranges["choir"]
    requests = [GenerationRequest(genre="choir", bars=4, seed=seed) for seed in range(12)]
    results = generator.generate_batch(requests)
    assert [notes_out_of_range(result.piece, 0, ranges) for result in results] == [0] * 12
    assert all(check_stream(result.tokens) == [] for result in results)
    assert sum(result.key_result == "C major" for result in results) >= 6
    # the rule is what keeps them there: without it the network's voices leave their ranges
    monkeypatch.setattr(generator, "_range_room", lambda genre: None)
    assert sum(notes_out_of_range(result.piece, 0, ranges) for result in generator.generate_batch(requests)) > 10


def test_the_range_room_keeps_one_transposition_to_spare_for_every_voice():
    from musicgen.sampling.range_room import RangeRoom

    room = RangeRoom.of([[60, 78], [57, 72], [52, 67], [40, 61]], slack=1)
    assert room.bounds(0)[0] < 0 and room.bounds(3)[1] > 127  # nothing sung yet: no limit
    room = room.sing(0, 80)  # a soprano at G#5: the piece moves down 2 to 20 semitones (to fit 60-78)
    assert room.shifts == (-20, -2) and room.bounds(3) == (43, 80)
    room = room.sing(3, 45)  # a bass at A2: down at most 5 (to fit 40)
    assert room.shifts == (-5, -2)
    low, high = room.bounds(1)
    assert (low, high) == (60, 76)
    for pitch in (low, high):  # the alto's extremes leave exactly two transpositions
        least, most = room.sing(1, pitch).shifts
        assert most - least == 1
    assert room.sing(1, high + 1).shifts[1] - room.sing(1, high + 1).shifts[0] == 0


def test_notes_out_of_range_are_counted_alike_for_every_shift():
    from musicgen.music.keys import NotesOutOfRange

    piece = make_piece(
        [(0, 79, 12, 0), (0, 60, 12, 1), (12, 52, 12, 2), (12, 38, 12, 3), (24, 62, 12, 3), (24, 81, 12, 0)]
    )
    ranges = [[60, 78], [57, 72], [52, 67], [40, 61]]
    counter = NotesOutOfRange(piece, ranges)
    assert [counter(shift) for shift in range(-14, 15)] == [
        notes_out_of_range(piece, s, ranges) for s in range(-14, 15)
    ]
    assert counter(0) == 4  # soprano 79 and 81 above 78, alto 60 in range, bass 38 under 40, bass 62 over 61

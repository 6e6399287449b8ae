"""MIDI in and out: merging tracks, dropping drums, tempo independence, clear errors."""

from __future__ import annotations

import pretty_midi
import pytest

from musicgen.files.midi import midi_to_piece, piece_to_midi, write_midi
from musicgen.music.piece import make_piece
from musicgen.tokens.codec import piece_to_tokens, tokens_to_piece


def _write(pm, path):
    pm.write(str(path))
    return path


def test_tracks_merge_and_drums_drop(tmp_path):
    pm = pretty_midi.PrettyMIDI(initial_tempo=90)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(3, 4, 0))
    beat = 60 / 90
    for program, pitch in ((0, 60), (40, 72)):
        inst = pretty_midi.Instrument(program)
        inst.notes.append(pretty_midi.Note(80, pitch, 0, beat))
        pm.instruments.append(inst)
    pm.instruments[0].notes.append(pretty_midi.Note(80, 62, 3 * beat, 6 * beat))
    drums = pretty_midi.Instrument(0, is_drum=True)
    drums.notes.append(pretty_midi.Note(100, 36, 0, beat / 2))
    pm.instruments.append(drums)
    piece = midi_to_piece(_write(pm, tmp_path / "two.mid"))
    assert [(n.start, n.pitch, n.duration) for n in piece.notes] == [(0, 60, 12), (0, 72, 12), (36, 62, 36)]
    assert piece.bars == (0, 36, 72)  # 3/4 bars of 36 steps


def test_write_then_read_keeps_notes_at_any_tempo(tmp_path, chorale_like):
    for tempo in (60, 137.5):
        path = write_midi(chorale_like, tmp_path / f"t{tempo}.mid", tempo=tempo, program=19)
        back = midi_to_piece(path)
        assert [(n.start, n.pitch, n.duration) for n in back.notes] == [
            (n.start, n.pitch, n.duration) for n in chorale_like.notes
        ]
        assert pretty_midi.PrettyMIDI(str(path)).instruments[0].program == 19


def test_corrupt_and_empty_files_name_the_file(tmp_path):
    bad = tmp_path / "broken.mid"
    bad.write_bytes(b"MThd\x00\x00\x00\x06garbage")
    with pytest.raises(ValueError, match=r"^broken\.mid: not a readable MIDI file"):
        midi_to_piece(bad)
    empty = _write(pretty_midi.PrettyMIDI(), tmp_path / "empty.mid")
    with pytest.raises(ValueError, match=r"^empty\.mid: the file holds no notes"):
        midi_to_piece(empty)
    with pytest.raises(ValueError, match="no such file"):
        midi_to_piece(tmp_path / "missing.mid")


def test_time_signature_written_from_bars(tmp_path):
    piece = make_piece([(0, 60, 18), (18, 62, 18)], bars=[0, 36, 72])
    pm = piece_to_midi(piece)
    assert [(t.numerator, t.denominator) for t in pm.time_signature_changes] == [(3, 4)]
    jig = make_piece([(0, 60, 6)], bars=[0, 36, 72])
    assert tokens_to_piece(piece_to_tokens(jig)).bars == (0, 36, 72)  # bars of rest are part of the piece


# --- real tracks and shaped velocities ------------------------------------------------------------


def test_a_chorale_writes_one_named_track_per_voice_and_reads_back_the_same(tmp_path, chorale_like):
    path = write_midi(chorale_like, tmp_path / "satb.mid", tempo=80, program=19, voices=4)
    pm = pretty_midi.PrettyMIDI(str(path))
    assert [i.name for i in pm.instruments] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert [i.program for i in pm.instruments] == [19] * 4
    assert len({pm.instruments[k].notes[0].pitch for k in range(4)}) == 4
    assert [
        min(n.pitch for n in i.notes) > max(n.pitch for n in j.notes)
        for i, j in zip(pm.instruments, pm.instruments[1:])
    ] == [True] * 3  # soprano on top
    back = midi_to_piece(path)
    assert back.notes == chorale_like.notes
    assert back.bars == chorale_like.bars and back.pickup == 12  # time signatures and pickup kept
    one = pretty_midi.PrettyMIDI(str(write_midi(chorale_like, tmp_path / "one.mid", program=19)))
    assert [i.name for i in one.instruments] == ["musicgen"]


def _velocities_by_position(pm, bar=48):
    """Velocity of each note by its position in the 4/4 bar, in steps (one track)."""
    by_position: dict[int, list[int]] = {}
    for note in pm.instruments[0].notes:
        step = round(pm.time_to_tick(note.start) / pm.resolution * 12)
        by_position.setdefault(step % bar, []).append(note.velocity)
    return {position: sum(v) / len(v) for position, v in sorted(by_position.items())}


def test_shaped_velocities_stress_downbeats_and_arc_over_phrases():
    eighths = make_piece(
        [(k * 6, 60 + k % 5, 6) for k in range(8 * 8)], bars=range(0, 8 * 48 + 1, 48), meters=[(0, 4, 4)]
    )
    pm = piece_to_midi(eighths, shaped=True)
    mean = _velocities_by_position(pm)
    assert mean[0] > mean[24] > mean[12] > mean[6]  # downbeat, beat 3, beat 2, off-beat eighth
    assert abs(mean[12] - mean[36]) <= 1 and abs(mean[6] - mean[30]) <= 1  # beats 2 and 4 alike (arc aside)
    downbeats = [n.velocity for n in pm.instruments[0].notes if round(n.start / 0.5 * 12) % 48 == 0]
    assert downbeats[0] < downbeats[1] < downbeats[2] > downbeats[3] and downbeats[4] < downbeats[3]  # 4-bar arcs
    assert all(1 <= n.velocity <= 127 for n in pm.instruments[0].notes)
    flat = piece_to_midi(eighths)
    assert {n.velocity for n in flat.instruments[0].notes} == {80}


def test_generate_shapes_velocities_unless_flat_velocity(tmp_path, capsys, tiny_model):
    from musicgen.cli.main import main

    outputs = {}
    for name, extra in (("shaped", []), ("flat", ["--flat-velocity"])):
        path = tmp_path / f"{name}.mid"
        code = main(
            [
                "generate",
                "--model",
                str(tiny_model),
                "--genre",
                "rise",
                "--bars",
                "4",
                "--seed",
                "2",
                "-o",
                str(path),
                *extra,
            ]
        )
        assert code == 0, capsys.readouterr().err
        outputs[name] = pretty_midi.PrettyMIDI(str(path))
    shaped, flat = outputs["shaped"], outputs["flat"]
    assert len(shaped.instruments) == 1  # a one-voice genre: one track
    assert {n.velocity for n in flat.instruments[0].notes} == {80}
    mean = _velocities_by_position(shaped)
    pickup = (
        round(shaped.time_signature_changes[0].numerator * 4 / shaped.time_signature_changes[0].denominator * 12)
        if len(shaped.time_signature_changes) > 1
        else 0
    )
    on_bar = [v for p, v in mean.items() if (p - pickup) % 48 == 0]
    off_beat = [v for p, v in mean.items() if (p - pickup) % 12]
    assert on_bar and off_beat and min(on_bar) > max(off_beat)
    assert [(n.start, n.pitch, n.end) for n in shaped.instruments[0].notes] == [
        (n.start, n.pitch, n.end) for n in flat.instruments[0].notes
    ]  # only the loudness differs


def test_a_last_bar_of_rest_reads_back_as_a_bar(tmp_path):
    from musicgen.files.midi import midi_to_piece, write_midi

    piece = make_piece([(0, 60, 48), (48, 62, 48), (96, 64, 48)], bars=[0, 48, 96, 144, 192], meters=[(0, 4, 4)])
    back = midi_to_piece(write_midi(piece, tmp_path / "rest.mid", tempo=100))
    assert back.bars == piece.bars  # the closing bar line after a bar of rest is in the file

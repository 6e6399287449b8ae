"""Sheet music: voices split by pitch order, MusicXML read back by music21, ABC played by abc2midi."""

from __future__ import annotations

import shutil
import subprocess

import pretty_midi
import pytest

from musicgen.cli.main import main
from musicgen.files.midi import midi_to_piece, write_midi
from musicgen.model.model_files import load_model
from musicgen.music.piece import STEPS_PER_BEAT, make_piece
from musicgen.music.voices import separate_voices
from musicgen.notation import export_score, midi_score_source
from musicgen.notation.abc import piece_to_abc
from musicgen.notation.layout import notated_piece
from musicgen.notation.musicxml import ScoreInfo, note_values
from musicgen.sampling.generate import Generator, generate_piece
from musicgen.sampling.request import GenerationRequest

ABC2MIDI = shutil.which("abc2midi")
needs_abc2midi = pytest.mark.skipif(ABC2MIDI is None, reason="abc2midi not installed (Debian package abcmidi)")

JIG_A = [
    (0, 62, 6),
    (6, 64, 6),
    (12, 66, 6),
    (18, 67, 12),
    (30, 69, 6),
    (36, 71, 18),
    (54, 69, 6),
    (60, 66, 6),
    (66, 62, 6),
]
JIG_B = [(0, 74, 12), (12, 73, 6), (18, 71, 6), (24, 69, 4), (28, 67, 4), (32, 66, 4), (36, 64, 36)]


def triples(notes) -> list[tuple[int, int, int]]:
    return sorted((n.start, n.pitch, n.duration) for n in notes)


def jig_like(form="AABB"):
    """A 6/8 tune: an eighth-note pickup, then two-bar strains in ``form`` (with a triplet)."""
    raw, parts, position = [(0, 57, 6)], [], 6
    for label in form:
        strain = JIG_A if label == "A" else JIG_B
        raw += [(position + s, p, d) for s, p, d in strain]
        parts.append({"label": label, "start": position, "end": position + 72})
        position += 72
    return make_piece(
        raw,
        bars=range(6, position + 1, 36),
        meters=[(0, 6, 8)],
        meta={"parts": parts, "title": "Jig-like", "tempo": 170, "program": 40, "genre": "jig"},
    )


def music21_notes(path) -> tuple[list[tuple[int, int, int]], object]:
    """Every note of a score file as music21 plays it (repeats expanded, ties joined), in steps."""
    from music21 import converter

    score = converter.parse(str(path))
    found = []
    for part in score.parts:
        for element in part.expandRepeats().stripTies().flatten().notes:
            for pitch in element.pitches:
                found.append(
                    (round(element.offset * STEPS_PER_BEAT), pitch.midi, round(element.quarterLength * STEPS_PER_BEAT))
                )
    return sorted(found), score


def abc2midi_notes(abc_path, tmp_path) -> tuple[list[tuple[int, int, int]], str]:
    """Notes abc2midi plays from an ABC file, and everything it printed."""
    out = tmp_path / "from_abc.mid"
    result = subprocess.run([ABC2MIDI, str(abc_path), "-o", str(out)], capture_output=True, text=True, timeout=60)
    printed = result.stdout + result.stderr
    assert result.returncode == 0, printed
    return triples(midi_to_piece(out).notes), printed


# --- voices ------------------------------------------------------------------------------------


def test_voices_follow_pitch_order_and_keep_every_note(chorale_like):
    voices = separate_voices(chorale_like, 4)
    assert [len(v) for v in voices] == [16, 16, 16, 16]
    assert triples(n for v in voices for n in v) == triples(chorale_like.notes)
    for onset in {n.start for n in chorale_like.notes}:
        tops = [next(n.pitch for n in v if n.start == onset) for v in voices]
        assert tops == sorted(tops, reverse=True)  # soprano highest, bass lowest at every onset


def test_fewer_notes_leave_a_voice_resting_and_more_make_a_chord():
    satb = [(0, 72, 12), (0, 67, 12), (0, 60, 12), (0, 48, 12)]
    three = [(12, 71, 12), (12, 65, 12), (12, 50, 12)]  # nearest to soprano, alto and bass
    five = [(24, 72, 12), (24, 67, 12), (24, 64, 12), (24, 60, 12), (24, 48, 12)]
    rest = [(36, 76, 36), (36, 43, 12), (48, 41, 12), (72, 72, 12), (60, 67, 12), (60, 60, 12), (60, 48, 12)]
    piece = make_piece(satb + three + five + rest, bars=[0, 48, 96])
    soprano, alto, tenor, bass = separate_voices(piece, 4)
    assert [n.pitch for n in soprano] == [72, 71, 72, 76, 72]
    assert [n.pitch for n in bass] == [48, 50, 48, 43, 41, 48]
    # the fifth note at step 24 joins the nearest voice as a chord note
    assert [n.pitch for n in alto if n.start == 24] == [64, 67]
    # a beat without a note for the tenor, filled exactly by the alto's nearby 65: a merged unison
    assert [(n.start, n.pitch) for n in tenor if n.start < 36] == [(0, 60), (12, 65), (24, 60)]
    assert (12, 65) in [(n.start, n.pitch) for n in alto]
    # a real rest: no other voice fills alto's and tenor's silence with notes near their line
    assert not [n for n in alto + tenor if 36 <= n.start < 60]
    kept = {(n.start, n.pitch, n.duration) for v in (soprano, alto, tenor, bass) for n in v}
    assert kept == set(triples(piece.notes))


def test_unisons_in_two_tracks_read_back_as_one_note(tmp_path):
    piece = make_piece(
        [(0, 72, 12), (0, 67, 12), (0, 60, 12), (12, 71, 12), (12, 65, 12), (24, 72, 12), (24, 67, 12), (24, 60, 12)],
        bars=[0, 48],
    )
    path = write_midi(piece, tmp_path / "unison.mid", voices=3)
    assert [len(i.notes) for i in pretty_midi.PrettyMIDI(str(path)).instruments] == [3, 3, 3]  # 65 sung twice
    assert midi_to_piece(path).notes == piece.notes


def test_odd_lengths_become_tied_note_values():
    assert note_values(12) == (12,) and note_values(18) == (18,) and note_values(4) == (4,)
    assert note_values(60) == (48, 12)
    assert sum(note_values(5)) == 5 and sum(note_values(97)) == 97


# --- MusicXML ----------------------------------------------------------------------------------


def test_chorale_musicxml_round_trips_through_music21_in_four_parts(tmp_path, chorale_like):
    midi = write_midi(chorale_like, tmp_path / "chorale.mid", tempo=80, program=19, voices=4)
    piece = midi_to_piece(midi)
    piece = make_piece(
        [(n.start, n.pitch, n.duration) for n in piece.notes],
        piece.bars,
        meta={"genre": "bach", "title": "Chorale", "tempo": 80, "program": 19},
        meters=piece.meters,
    )
    path = export_score(piece, tmp_path / "chorale.musicxml")
    notes, score = music21_notes(path)
    assert notes == triples(midi_to_piece(midi).notes)  # (no unisons here: each note once)
    assert [p.partName for p in score.parts] == ["Soprano", "Alto", "Tenor", "Bass"]
    soprano = score.parts[0]
    measures = list(soprano.getElementsByClass("Measure"))
    assert measures[0].number == 0 and measures[0].duration.quarterLength == 1  # the one-beat pickup
    assert measures[0].timeSignature.ratioString == "4/4"  # the pickup shows the metre of bar 1
    assert [m.duration.quarterLength for m in measures[1:]] == [4, 4, 4, 4]
    assert 'implicit="yes"' in path.read_text()  # a pickup bar, not a short bar 1
    assert '<sound tempo="80"' in path.read_text()


def test_aabb_musicxml_writes_each_strain_once_between_repeat_signs(tmp_path):
    jig = jig_like()
    path = export_score(jig, tmp_path / "jig.xml")
    text = path.read_text()
    assert text.count('<repeat direction="forward"') == 2 and text.count('<repeat direction="backward"') == 2
    notes, score = music21_notes(path)
    assert notes == triples(jig.notes)
    part = score.parts[0]
    assert len(part.getElementsByClass("Measure")) == 1 + 2 + 2  # pickup, A once, B once
    assert part.recurse().getElementsByClass("TimeSignature")[0].ratioString == "6/8"
    assert part.partName == "Violin"
    key = part.recurse().getElementsByClass("KeySignature")[0]
    assert key.sharps == 1  # E minor / G major: the tune's F sharps are in the signature


def test_parts_that_differ_are_written_out_in_full(tmp_path):
    jig = jig_like("AB")
    notes, score = music21_notes(export_score(jig, tmp_path / "ab.musicxml"))
    assert notes == triples(jig.notes)
    assert len(score.parts[0].getElementsByClass("Measure")) == 1 + 4
    assert "<repeat" not in (tmp_path / "ab.musicxml").read_text()


def test_notated_piece_leaves_out_each_repeated_copy():
    jig = jig_like()  # pickup + A A B B, two bars each
    notated = notated_piece(jig)
    expected = jig_like("AB")
    assert triples(notated.notes) == triples(expected.notes)
    assert notated.bars == expected.bars and notated.pickup == 6
    assert [(p["label"], p["start"], p["end"]) for p in notated.meta["parts"]] == [("A", 6, 78), ("B", 78, 150)]
    assert notated_piece(expected) is expected  # nothing repeats: unchanged


# --- ABC -----------------------------------------------------------------------------------------


@needs_abc2midi
def test_jig_abc_has_its_metre_repeats_and_plays_the_same_notes_in_abc2midi(tmp_path):
    jig = jig_like()
    path = export_score(jig, tmp_path / "jig.abc")
    text = path.read_text()
    headers = [line for line in text.splitlines() if len(line) > 1 and line[1] == ":"]
    assert [h[:2] for h in headers] == ["X:", "T:", "C:", "R:", "M:", "L:", "Q:", "K:"]
    assert "M:6/8" in headers and "L:1/8" in headers and "R:jig" in headers
    body = text.split("\nK:")[1]
    assert body.count("|:") == 2 and body.count(":|") == 2 and "(3" in body
    notes, printed = abc2midi_notes(path, tmp_path)
    assert "error" not in printed.lower() and "warning" not in printed.lower(), printed
    assert notes == triples(jig.notes)


@needs_abc2midi
def test_abc_ties_rests_and_accidentals_play_back_exactly(tmp_path):
    # B minor (F sharp in the signature): F natural then F again in the same bar (no new sign), F
    # sharp next bar (the signature's again), a note tied over the bar line, a rest, 16ths, a chord.
    raw = [
        (0, 67, 12),
        (12, 65, 6),
        (18, 65, 6),
        (24, 71, 12),
        (36, 74, 24),  # tied into bar 2
        (60, 66, 12),
        (84, 64, 3),
        (87, 62, 3),
        (90, 59, 6),
        (96, 55, 48),
        (96, 59, 48),
        (96, 62, 48),
    ]
    piece = make_piece(raw, bars=[0, 48, 96, 144], meters=[(0, 4, 4)], meta={"title": "Odd bits"})
    text = piece_to_abc(piece, ScoreInfo("Odd bits", 120, 0, 1))
    body = text.split("\nK:")[1]
    first, second = body.split("|")[:2]
    assert text.count("K:Bm") == 1 and "=FF" in first and "F2" in second and "=F" not in second
    assert "d2- |" in body and "z2" in body and "E/2D/2" in body and "[G,B,D]8" in body
    path = tmp_path / "odd.abc"
    path.write_text(text)
    notes, printed = abc2midi_notes(path, tmp_path)
    assert "error" not in printed.lower(), printed
    assert notes == triples(piece.notes)


def test_abc_refuses_a_chorale_and_scores_need_a_known_ending(tmp_path, chorale_like):
    chorale = make_piece(
        [(n.start, n.pitch, n.duration) for n in chorale_like.notes],
        chorale_like.bars,
        meta={"genre": "bach"},
        meters=chorale_like.meters,
    )
    with pytest.raises(ValueError, match="one-voice tunes; this piece is written in 4 voices"):
        export_score(chorale, tmp_path / "chorale.abc")
    with pytest.raises(ValueError, match=r"must end in \.musicxml, \.xml or \.abc"):
        export_score(chorale, tmp_path / "chorale.pdf")
    assert not list(tmp_path.iterdir())  # nothing half-written


# --- generated pieces and the command line ------------------------------------------------------


@pytest.fixture(scope="module")
def generator(tiny_model):
    return Generator(load_model(tiny_model))


@needs_abc2midi
def test_generated_six_eight_piece_scores_match_its_midi_file(generator, tmp_path):
    result = generate_piece(generator, GenerationRequest(genre="fall", form="AABB", part_bars=2, seed=3))
    assert result.meter == "6/8"
    midi_notes = triples(midi_to_piece(result.write_midi(tmp_path / "fall.mid")).notes)
    abc = export_score(result, tmp_path / "fall.abc")
    assert "M:6/8" in abc.read_text() and "T:Fall, seed 3" in abc.read_text()
    notes, printed = abc2midi_notes(abc, tmp_path)
    assert "error" not in printed.lower(), printed
    assert notes == midi_notes
    xml_notes, _ = music21_notes(export_score(result, tmp_path / "fall.musicxml"))
    assert xml_notes == midi_notes


def test_cli_writes_scores_of_generated_pieces_and_of_midi_files(tmp_path, capsys, tiny_model, chorale_like):
    xml, abc = tmp_path / "rise.musicxml", tmp_path / "rise.abc"
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
            "1",
            "-o",
            str(tmp_path / "rise.mid"),
            "--musicxml",
            str(xml),
            "--abc",
            str(abc),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"score {xml}, {abc}" in out and xml.read_text().startswith("<?xml") and "M:4/4" in abc.read_text()

    midi = write_midi(chorale_like, tmp_path / "satb.mid", program=19, voices=4)
    assert main(["score", str(midi), str(tmp_path / "satb.musicxml")]) == 0
    assert "in 4 voices" in capsys.readouterr().out
    _, score = music21_notes(tmp_path / "satb.musicxml")
    assert len(score.parts) == 4  # four tracks in the file: four parts

    assert main(["score", str(midi), str(tmp_path / "satb.abc")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "one-voice tunes" in err
    assert main(["score", str(midi), str(tmp_path / "satb.pdf")]) == 2
    assert "must end in" in capsys.readouterr().err
    assert main(["score", str(tmp_path / "missing.mid"), str(tmp_path / "x.abc")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_score_of_a_one_track_melody_is_one_voice(tmp_path):
    pm = pretty_midi.PrettyMIDI(initial_tempo=100)
    violin = pretty_midi.Instrument(40)
    for k, pitch in enumerate((62, 66, 69, 74)):
        violin.notes.append(pretty_midi.Note(90, pitch, k * 0.6, (k + 1) * 0.6))
    pm.instruments.append(violin)
    pm.write(str(tmp_path / "tune.mid"))
    source = midi_score_source(tmp_path / "tune.mid")
    assert source.meta["voices"] == 1 and source.meta["program"] == 40 and source.meta["tempo"] == pytest.approx(100)
    assert midi_score_source(tmp_path / "tune.mid", genre="bach").meta["voices"] == 4
    with pytest.raises(ValueError, match="unknown genre 'bahc'"):
        midi_score_source(tmp_path / "tune.mid", genre="bahc")

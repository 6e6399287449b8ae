"""Nothing the user made is overwritten or mixed up, and odd input is one line (issue 28): train
onto an existing model, crafted model cards, over-long names, SIGTERM while writing, overflowing
genre weights, a file as a dataset folder, and messages that used to mislead."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import mido
import pytest
from cli_run import run

REPO = Path(__file__).resolve().parent.parent
TINY_SIZES = ("--n-layer", 1, "--n-hidden", 8, "--n-embd", 4, "--genre-dim", 2, "--bptt", 16, "--batch-size", 4)


@pytest.fixture(autouse=True)
def isolated_model_search(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg")))
    monkeypatch.delenv("MUSICGEN_MODELS", raising=False)


def one_line_error(code: int, err: str) -> bool:
    return code == 2 and err.count("\n") == 1 and err.startswith("musicgen: error: ") and "Traceback" not in err


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- 1: train never replaces a model silently ----------------------------------------------------


@pytest.mark.parametrize("existing", [".json", ".safetensors", ".ckpt"])
def test_train_refuses_an_existing_out_unless_resume_or_force(tiny_dataset, tmp_path, existing):
    out = tmp_path / "m"
    (tmp_path / f"m{existing}").write_text("the first run's model")
    code, _, err = run("train", "--dataset", tiny_dataset, "--out", out, "--epochs", 1, *TINY_SIZES)
    assert one_line_error(code, err), err
    assert f"m{existing} exists" in err and "--resume" in err and "--force" in err
    assert files_in(tmp_path) == [f"m{existing}"]
    assert (tmp_path / f"m{existing}").read_text() == "the first run's model"


def test_train_with_force_replaces_the_model(tiny_dataset, tmp_path):
    out = tmp_path / "m"
    (tmp_path / "m.json").write_text("old")
    code, _, err = run("train", "--dataset", tiny_dataset, "--out", out, "--epochs", 1, "--force", *TINY_SIZES)
    assert code == 0, err
    assert json.loads((tmp_path / "m.json").read_text())["format"] == "musicgen-model"


# --- 3: crafted model cards ----------------------------------------------------------------------

CRAFTED = {
    "a-list": ([1, 2, 3], "not a musicgen model card"),
    "b-null": (None, "not a musicgen model card"),
    "c-no-key": (lambda card: card["genres"][0].pop("key"), "'genres[0].key'"),
    "d-layers": (lambda card: card["config"].update(n_layer=-1), "'config.n_layer'"),
    "e-no-genres": (lambda card: card.update(genres=[]), "'genres'"),
    "f-genre-count": (lambda card: card["config"].update(n_genres=8), "'config.n_genres' is 8 but the card lists 2"),
    "g-tempo": (lambda card: card["genres"][1].update(tempo="fast"), "'genres[1].tempo'"),
    "h-metrics": (lambda card: card.update(metrics=[1]), "'metrics'"),
}


def crafted_models(tiny_model, folder: Path) -> Path:
    """A copy of the tiny model under each name of CRAFTED with its card changed, and a good one last."""
    folder.mkdir()
    good = json.loads(Path(tiny_model).read_text())
    for name, (change, _) in CRAFTED.items():
        card = json.loads(json.dumps(good))
        if callable(change):
            change(card)
        else:
            card = change
        (folder / f"{name}.json").write_text(json.dumps(card))
        shutil.copy(Path(tiny_model).with_suffix(".safetensors"), folder / f"{name}.safetensors")
    shutil.copy(tiny_model, folder / "z-good.json")
    shutil.copy(Path(tiny_model).with_suffix(".safetensors"), folder / "z-good.safetensors")
    return folder


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_a_crafted_card_is_one_line_naming_the_card_and_the_field(tiny_model, tmp_path, name):
    folder = crafted_models(tiny_model, tmp_path / "models")
    for command in (
        ("generate", "--model", folder / f"{name}.json", "--bars", 2, "-o", tmp_path / "x.mid"),
        ("genres", "--model", folder / f"{name}.json"),
        ("batch", "--model", folder / f"{name}.json", "--count", 2, "--out-dir", tmp_path / "out"),
    ):
        code, _, err = run(*command)
        assert one_line_error(code, err), (command, err)
        assert f"{name}.json" in err and CRAFTED[name][1] in err, err
    assert files_in(tmp_path) == ["models"]


def test_models_lists_every_good_model_and_marks_each_broken_one(tiny_model, tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICGEN_MODELS", str(crafted_models(tiny_model, tmp_path / "models")))
    code, out, err = run("models")
    assert code == 0, err
    lines = out.splitlines()
    for name, (_, reason) in CRAFTED.items():
        at = next(i for i, line in enumerate(lines) if line.startswith(f"{name}  "))
        assert lines[at + 1].startswith("    unusable: ") and reason in lines[at + 1], lines[at + 1]
    good = next(i for i, line in enumerate(lines) if line.startswith("z-good  "))
    assert lines[good + 1].startswith("    genres: rise, fall; ")


def test_batch_of_all_genres_needs_a_genre():
    from musicgen.batch.compose import plan_batch
    from musicgen.sampling.request import GenerationRequest

    with pytest.raises(ValueError, match="no genres"):
        plan_batch(GenerationRequest(), "all", 4, 0, [])


# --- 4: over-long names --------------------------------------------------------------------------


def test_a_300_character_output_or_primer_is_one_line_before_any_work(tiny_model, tmp_path):
    long_name = "a" * 296 + ".mid"
    for flags in (("-o", tmp_path / long_name), ("--primer", tmp_path / long_name, "-o", tmp_path / "x.mid")):
        code, _, err = run("generate", "--model", tiny_model, "--bars", 2, *flags)
        assert one_line_error(code, err), err
        assert "a" * 40 in err and "a" * 100 not in err
    assert files_in(tmp_path) == []


def test_a_250_character_output_gets_a_shorter_temp_name(tiny_model, tmp_path):
    name = "b" * 246 + ".mid"  # 250 characters: its temp file's name would have 264
    code, _, err = run("generate", "--model", tiny_model, "--bars", 2, "--seed", 1, "-o", tmp_path / name)
    assert code == 0, err
    assert files_in(tmp_path) == [name]
    assert len(mido.MidiFile(str(tmp_path / name)).tracks) >= 1


def test_a_temp_file_with_a_cut_name_is_still_found_as_a_stray(tmp_path):
    import os
    import tempfile

    from musicgen.files.writing import NAME_MAX, _temp_prefix, stray_temp_files

    handle, temp = tempfile.mkstemp(prefix=_temp_prefix("c" * 250 + ".mid"), suffix=".tmp", dir=tmp_path)
    os.close(handle)
    assert len(Path(temp).name) <= NAME_MAX
    assert stray_temp_files(tmp_path) == [Path(temp)]


# --- 5: SIGTERM while writing; the MIDI and WAV files land together --------------------------------

TERMINATE_WHILE_WRITING = """
import os, signal, sys, time
import pretty_midi
from musicgen.cli.main import main

write = pretty_midi.PrettyMIDI.write
def write_then_terminate(self, target):
    write(self, target)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(10)
pretty_midi.PrettyMIDI.write = write_then_terminate
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_while_writing_leaves_no_temp_file(tiny_model, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    command = ["generate", "--model", str(tiny_model), "--bars", 2, "-o", out / "x.mid", "--wav", out / "x.wav"]
    done = subprocess.run(
        [sys.executable, "-c", TERMINATE_WHILE_WRITING, *map(str, command)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 128 + signal.SIGTERM, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "musicgen: terminated; finished work is kept"
    assert files_in(out) == []


def test_midi_and_wav_are_written_together_or_not_at_all(tiny_model, tmp_path, monkeypatch):
    import musicgen.files.audio

    (tmp_path / "x.mid").write_bytes(b"old midi")
    (tmp_path / "x.wav").write_bytes(b"old wav")

    def no_synth(pm):
        raise ValueError("no synthesizer")

    monkeypatch.setattr(musicgen.files.audio, "render_audio", no_synth)
    code, _, err = run(
        "generate", "--model", tiny_model, "--bars", 2, "-o", tmp_path / "x.mid", "--wav", tmp_path / "x.wav"
    )
    assert one_line_error(code, err) and "no synthesizer" in err
    assert (tmp_path / "x.mid").read_bytes() == b"old midi" and (tmp_path / "x.wav").read_bytes() == b"old wav"
    assert files_in(tmp_path) == ["x.mid", "x.wav"]


# --- 6: genre weights that overflow ----------------------------------------------------------------


def test_huge_genre_weights_are_normalised_not_lost():
    from musicgen.genres import parse_genre_spec

    assert parse_genre_spec("rise=1e308,fall=1e308", ["rise", "fall"]) == {"rise": 0.5, "fall": 0.5}
    weights = parse_genre_spec("rise=1.5e308,fall=0.5e308", ["rise", "fall"])
    assert weights == pytest.approx({"rise": 0.75, "fall": 0.25})
    assert parse_genre_spec("rise=2,fall=1", ["rise", "fall"]) == {"rise": 2 / 3, "fall": 1 / 3}


def test_generate_with_huge_weights_writes_a_piece_of_the_blend(tiny_model, tmp_path):
    code, out, err = run(
        "generate", "--model", tiny_model, "--genre", "rise=1e308,fall=1e308", "--bars", 2, "-o", tmp_path / "x.mid"
    )
    assert code == 0, err
    assert "rise=1e308,fall=1e308" in out


# --- 7: a file as the dataset folder ---------------------------------------------------------------


def test_data_build_onto_a_file_is_one_line(tmp_path, chorale_like):
    from musicgen.files.midi import write_midi

    (tmp_path / "midi" / "chorale").mkdir(parents=True)
    write_midi(chorale_like, tmp_path / "midi" / "chorale" / "one.mid")
    (tmp_path / "taken").write_text("not a folder")
    code, _, err = run("data", "build", "--midi-dir", tmp_path / "midi", "--out", tmp_path / "taken", "--workers", 1)
    assert one_line_error(code, err) and "taken is a file" in err, err
    assert (tmp_path / "taken").read_text() == "not a folder"


# --- 8: messages that used to mislead --------------------------------------------------------------


def test_a_long_form_is_told_the_real_limit():
    from musicgen.sampling.request import parse_form

    with pytest.raises(ValueError, match="has 50 parts; a form has at most 16"):
        parse_form("AB" * 25)
    assert parse_form("AB" * 8) == "AB" * 8


def test_a_midi_file_of_division_0_is_not_called_smpte(tmp_path):
    from musicgen.files.midi import midi_to_piece

    track = b"\x00\x90\x3c\x50\x10\x80\x3c\x00\x00\xff\x2f\x00"
    data = b"MThd" + (6).to_bytes(4, "big") + b"\x00\x00\x00\x01\x00\x00" + b"MTrk" + len(track).to_bytes(4, "big")
    (tmp_path / "zero.mid").write_bytes(data + track)
    with pytest.raises(ValueError) as error:
        midi_to_piece(tmp_path / "zero.mid")
    assert "SMPTE" not in str(error.value) and "0 ticks per beat" in str(error.value)


def test_a_folder_as_primer_is_called_a_folder(tmp_path):
    from musicgen.sampling.request import GenerationRequest, validate_request

    with pytest.raises(ValueError, match="is a folder; give a MIDI file"):
        validate_request(GenerationRequest(genre="rise", primer=str(tmp_path)), ["rise"])
    with pytest.raises(ValueError, match="no such file"):
        validate_request(GenerationRequest(genre="rise", primer=str(tmp_path / "none.mid")), ["rise"])


def test_generate_refuses_to_write_onto_its_primer(tiny_model, tmp_path, chorale_like):
    from musicgen.files.midi import write_midi

    primer = write_midi(chorale_like, tmp_path / "x.mid")
    before = primer.read_bytes()
    (tmp_path / "link.mid").symlink_to(primer)
    for output in (primer, tmp_path / "link.mid"):
        code, _, err = run("generate", "--model", tiny_model, "--primer", primer, "--bars", 2, "-o", output)
        assert one_line_error(code, err) and "--primer" in err, err
    assert primer.read_bytes() == before

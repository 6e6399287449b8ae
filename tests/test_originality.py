"""Originality: is a piece copied from the training pieces? (longest shared melody run, any key)."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from musicgen.cli.main import main
from musicgen.evaluation import originality
from musicgen.evaluation.originality import load_index
from musicgen.files.midi import write_midi
from musicgen.genres import Genre
from musicgen.music.piece import make_piece
from musicgen.paths import DEFAULT_DATASET
from musicgen.tokens.codec import tokens_to_piece
from musicgen.training.dataset import assemble, load_dataset

LAST_LINE = re.compile(r"^longest shared run: (\d+) notes \((\d+)% of the piece\) with (.+)$")
TUNE_NOTES = 64


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    """Each test has its own empty user cache (and no user models)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("MUSICGEN_MODELS", raising=False)


def random_tunes(count: int, seed: int) -> list[dict]:
    """Dataset records of seeded random-walk melodies (steps of -4..4 semitones, mixed rhythms)."""
    rng = random.Random(seed)
    records = []
    for number in range(count):
        pitch, now, notes = rng.randint(60, 72), 0, []
        for _ in range(TUNE_NOTES):
            duration = rng.choice((6, 6, 12, 12, 18, 24))
            notes.append([now, pitch, duration])
            now += duration
            pitch = min(84, max(48, pitch + rng.randint(-4, 4)))
        records.append(
            {
                "genre": "walk",
                "source": f"walks/{seed}-{number}.mid",
                "title": f"Walk {seed}-{number}",
                "notes": notes,
                "bars": list(range(0, now + 48, 48)),
                "meters": [[0, 4, 4]],
            }
        )
    return records


def write_dataset(folder: Path, seed: int) -> Path:
    genre = Genre("walk", "Random walks", "Toy genre: random-walk melodies.", 0, 120)
    assemble([{"pieces": random_tunes(20, seed), "failed": []}], [genre], folder, {"source": "test"})
    return folder


@pytest.fixture
def walks(tmp_path) -> Path:
    return write_dataset(tmp_path / "walks", seed=1)


def first_training_piece(folder: Path):
    dataset = load_dataset(folder)
    index = dataset.indices("train")[0]
    return index, tokens_to_piece(dataset.piece_tokens(index)), dataset.manifest["pieces"][index]


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_melody_is_the_top_voice_and_skips_inner_notes_under_a_held_one():
    upper = [(0, 72, 24), (24, 74, 24)]  # half notes
    lower = [(0, 60, 12), (12, 62, 12), (24, 64, 12), (36, 65, 12)]  # quarters below them
    piece = make_piece(upper + lower)
    assert [(n.start, n.pitch) for n in originality.melody(piece)] == [(0, 72), (24, 74)]


def test_a_training_piece_checks_as_fully_copied_and_names_itself(walks):
    number, piece, record = first_training_piece(walks)
    found = originality.load_index(dataset_path=walks).check(piece)
    assert (found.notes, found.share, found.melody_notes) == (TUNE_NOTES, 1.0, TUNE_NOTES)
    assert found.source_index == number
    assert found.source == f"{record['title']} ({record['source']})"


def test_a_transposed_training_piece_is_still_fully_copied(walks):
    _, piece, record = first_training_piece(walks)
    up_a_fourth = make_piece([(n.start, n.pitch + 5, n.duration) for n in piece.notes], piece.bars, meters=piece.meters)
    found = originality.load_index(dataset_path=walks).check(up_a_fourth)
    assert found.share == 1.0 and record["title"] in found.source


def test_a_pitch_shuffled_training_piece_shares_only_a_short_run(walks):
    _, piece, _ = first_training_piece(walks)
    pitches = [n.pitch for n in piece.notes]
    random.Random(3).shuffle(pitches)
    shuffled = make_piece([(n.start, p, n.duration) for n, p in zip(piece.notes, pitches)], piece.bars)
    found = originality.load_index(dataset_path=walks).check(shuffled)
    assert found.notes <= 6 and found.share < 0.1


def test_a_test_piece_is_not_found_as_a_copy(walks):
    dataset = load_dataset(walks)
    held_out = dataset.indices("test")[0]
    found = originality.load_index(dataset_path=walks).check(tokens_to_piece(dataset.piece_tokens(held_out)))
    assert found.share < 0.2 and found.source_index != held_out


def test_cli_last_line_names_the_training_piece_of_a_midi_file(walks, tmp_path, capsys):
    _, piece, record = first_training_piece(walks)
    midi = write_midi(piece, tmp_path / "copy.mid", tempo=100, transpose=-3)
    code, out, err = run(capsys, "originality", midi, "--dataset", walks)
    assert code == 0, err
    assert out.splitlines()[-1] == (
        f"longest shared run: {TUNE_NOTES} notes (100% of the piece) with {record['title']} ({record['source']})"
    )


def test_cli_uses_the_models_training_data(tiny_model, tiny_dataset, tmp_path, capsys):
    dataset = load_dataset(tiny_dataset)
    index = dataset.indices("train")[0]
    midi = write_midi(tokens_to_piece(dataset.piece_tokens(index)), tmp_path / "tune.mid")
    code, out, err = run(capsys, "originality", midi, "--model", tiny_model)
    assert code == 0, err
    notes, percent, source = LAST_LINE.match(out.splitlines()[-1]).groups()
    assert int(percent) == 100 and dataset.manifest["pieces"][index]["source"] in source


@pytest.mark.parametrize(
    "argv, expected",
    [
        (("originality", "missing.mid", "--dataset", "."), "missing.mid: no such file"),
        (("originality", "{midi}", "--dataset", "no-such-folder"), "no dataset here"),
        (("originality", "{midi}", "--model", "no-such-model"), "model 'no-such-model' not found"),
    ],
)
def test_cli_errors_exit_2_with_one_line(tmp_path, capsys, monkeypatch, argv, expected):
    monkeypatch.chdir(tmp_path)
    midi = write_midi(make_piece([(0, 60, 12), (12, 62, 12)]), tmp_path / "two.mid")
    code, out, err = run(capsys, *(a.format(midi=midi) for a in argv))
    assert code == 2 and expected in err and len(err.strip().splitlines()) == 1


def test_index_is_cached_and_reused_on_the_second_load(walks, tmp_path):
    first = originality.load_index(dataset_path=walks)
    cached = tmp_path / "cache" / "musicgen" / f"originality-v{originality.INDEX_VERSION}-{first.fingerprint}.npz"
    assert not first.from_cache and cached.is_file()
    stamp = cached.stat().st_mtime_ns
    second = originality.load_index(dataset_path=walks)
    assert second.from_cache and cached.stat().st_mtime_ns == stamp
    _, piece, _ = first_training_piece(walks)
    assert second.check(piece) == first.check(piece)


def test_index_is_rebuilt_when_the_dataset_changes(walks):
    old_index = originality.load_index(dataset_path=walks)
    _, old_piece, _ = first_training_piece(walks)
    write_dataset(walks, seed=2)  # other tunes in the same folder
    new_index = originality.load_index(dataset_path=walks)
    _, new_piece, _ = first_training_piece(walks)
    assert not new_index.from_cache and new_index.fingerprint != old_index.fingerprint
    assert new_index.check(new_piece).share == 1.0 and new_index.check(old_piece).share < 0.2


def test_a_damaged_cache_file_is_rebuilt(walks):
    index = originality.load_index(dataset_path=walks)
    originality.cache_path(index.fingerprint).write_bytes(b"not an index")
    again = originality.load_index(dataset_path=walks)
    assert not again.from_cache and originality.cache_path(index.fingerprint).stat().st_size > 100


# --- batch --------------------------------------------------------------------------------------


def batch(capsys, model, out_dir, *extra) -> list[dict]:
    code, _, err = run(
        capsys,
        "batch",
        "--model",
        model,
        "--genre",
        "rise",
        "--count",
        4,
        "--bars",
        2,
        "--seed-base",
        10,
        "--out-dir",
        out_dir,
        *extra,
    )
    assert code == 0, err
    return [json.loads(line) for line in (Path(out_dir) / "manifest.jsonl").read_text().splitlines()]


def test_batch_manifest_carries_the_copied_figure(tiny_model, tiny_dataset, tmp_path, capsys):
    names = {f"{r['title']} ({r['source']})" for r in load_dataset(tiny_dataset).manifest["pieces"]}
    for entry in batch(capsys, tiny_model, tmp_path / "plain"):
        assert entry["copied_notes"] >= 2 and 0 < entry["copied_share"] <= 1 and entry["copied_from"] in names
        assert "planned_seed" not in entry


def test_max_copied_resamples_copies_with_a_recorded_seed(tiny_model, tmp_path, capsys):
    plain = batch(capsys, tiny_model, tmp_path / "plain")
    limit = max(e["copied_notes"] for e in plain) - 1  # at least the most copied piece is over it
    limited = batch(capsys, tiny_model, tmp_path / "limited", "--max-copied", limit)
    by_file = {e["file"]: e for e in plain}
    resampled = [e for e in limited if e["resampled"]]
    assert resampled, "no piece was over the limit"
    for entry in limited:
        first_take = by_file[entry["file"]]
        assert entry["planned_seed"] == first_take["seed"] and entry["max_copied"] == limit
        if first_take["copied_notes"] <= limit:  # kept as it was
            assert entry["seed"] == first_take["seed"] and entry["resampled"] == 0
        elif entry["copied_notes"] <= limit:  # resampled until under the limit: the last take is kept
            assert entry["seed"] == entry["planned_seed"] + entry["resampled"] * originality.RESAMPLE_SEED_STEP
        else:  # never under it: every try was made and the least copied take kept
            assert entry["resampled"] == originality.MAX_RESAMPLES
            assert (entry["seed"] - entry["planned_seed"]) % originality.RESAMPLE_SEED_STEP == 0
    new_takes = [e for e in resampled if e["seed"] != e["planned_seed"]]
    assert new_takes and all(e["copied_notes"] <= limit for e in new_takes)
    # The recorded seed gives the same piece again with `generate`.
    entry = new_takes[0]
    again = tmp_path / "again.mid"
    code, _, err = run(
        capsys, "generate", "--model", tiny_model, "--genre", "rise", "--bars", 2, "--seed", entry["seed"], "-o", again
    )
    assert code == 0, err
    assert again.read_bytes() == (tmp_path / "limited" / entry["file"]).read_bytes()
    # Rerunning the same command finds every piece there (the resampled seeds do not count as other settings).
    code, out, err = run(
        capsys,
        "batch",
        "--model",
        tiny_model,
        "--genre",
        "rise",
        "--count",
        4,
        "--bars",
        2,
        "--seed-base",
        10,
        "--out-dir",
        tmp_path / "limited",
        "--max-copied",
        limit,
    )
    assert code == 0 and "0 new, 4 already there" in out, err


def test_worker_processes_resample_the_same_way(tiny_model, tmp_path, capsys):
    one = batch(capsys, tiny_model, tmp_path / "one", "--max-copied", 2)
    two = batch(capsys, tiny_model, tmp_path / "two", "--max-copied", 2, "--workers", 2)
    fields = ("file", "seed", "planned_seed", "resampled", "copied_notes", "copied_from")
    assert sorted([e[f] for f in fields] for e in one) == sorted([e[f] for f in fields] for e in two)
    assert any(e["resampled"] for e in one)


def test_max_copied_below_one_note_is_refused(tiny_model, tmp_path, capsys):
    code, _, err = run(
        capsys, "batch", "--model", tiny_model, "--count", 2, "--out-dir", tmp_path / "b", "--max-copied", 0
    )
    assert code == 2 and "--max-copied must be at least 1" in err


ROSELAND_HILL = """X: 1484
T: Roseland Hill
R:reel
M:2/4
L:1/16
K:G
G2BA GABd|e2 ef edBA|G2BA GABc|dBAB AFED|
G2BA GABd|e2 ef edBA|G2BA GABc|dBAB G2 z2||
e2eB e2 z2|edef gfeg|fddc defg|abaf gfed|
e2eB e2 z2|edef g2fg|agfa gfeg|edef edBA||
"""


@pytest.mark.parametrize("scale", [1, 2])
def test_a_training_tune_is_found_in_any_note_values(scale):
    """O'Neill's reel X1484 as its ABC source writes it (2/4 sixteenths) and as the corpus stores it
    (4/4 eighths, every value doubled): both are found as the training tune they are."""
    import music21

    from musicgen.music.piece import make_piece
    from musicgen.training.corpus import score_to_raw

    score = music21.converter.parse(ROSELAND_HILL, format="abc")
    raw, _, _ = score_to_raw(score)
    piece = make_piece([(s * scale, p, d * scale) for s, p, d, _ in raw])
    found = load_index(dataset_path=DEFAULT_DATASET).check(piece)
    assert found.share >= 0.9 and "1484" in found.source

"""Shared fixtures: offscreen Qt, a tiny dataset and a tiny trained model (built once per session)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# One torch thread in tests: deterministic, and no OpenMP oversubscription on a shared 2-core machine.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest

from musicgen.music.piece import make_piece


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """Caches (originality index, style critic) go to a folder of this test run, not ~/.cache."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    yield


@pytest.fixture
def chorale_like():
    """A small four-voice piece with a pickup bar, as the codec sees a chorale."""
    raw = []
    for beat in range(16):
        for voice, base in enumerate((48, 55, 64, 72)):
            raw.append((12 + beat * 12, base + (beat * (voice + 1)) % 7, 12))
    return make_piece(raw, bars=[12, 60, 108, 156, 204], meters=[(0, 4, 4)])


def synthetic_records(n_per_genre: int = 12):
    """Two clearly different toy genres: rising 4/4 scale runs in eighths and falling 6/8 arpeggios."""
    import random

    rng = random.Random(7)
    records = []
    for i in range(n_per_genre):
        base = rng.randint(55, 67)
        cycle = rng.choice((4, 5, 6, 8))
        # a passing note here and there makes every piece its own tune (none dropped as a duplicate)
        rise = [(k * 6, base + (k % cycle) * 2 + (1 if rng.random() < 0.1 else 0), 6) for k in range(48)]
        records.append(
            {
                "genre": "rise",
                "source": f"rise/{i}",
                "title": f"Rise {i}",
                "notes": [list(n) for n in rise],
                "bars": list(range(0, 48 * 6 + 1, 48)),
                "meters": [[0, 4, 4]],
            }
        )
        step = rng.choice((3, 4, 5))
        fall = [(k * 12, base + 12 - (k % 3) * step + (1 if rng.random() < 0.1 else 0), 12) for k in range(30)]
        records.append(
            {
                "genre": "fall",
                "source": f"fall/{i}",
                "title": f"Fall {i}",
                "notes": [list(n) for n in fall],
                "bars": list(range(0, 30 * 12 + 1, 36)),
                "meters": [[0, 6, 8]],
            }
        )
    return records


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory):
    """A two-genre synthetic dataset folder (no music21 needed)."""
    from musicgen.genres import Genre
    from musicgen.training.dataset import assemble

    out = tmp_path_factory.mktemp("tiny_dataset")
    genres = [
        Genre("rise", "Rising scales", "Toy genre: rising scales in 4/4.", 0, 120),
        Genre("fall", "Falling arpeggios", "Toy genre: falling arpeggios in 6/8.", 40, 90),
    ]
    assemble([{"pieces": synthetic_records(), "failed": []}], genres, out, {"source": "synthetic"})
    return out


@pytest.fixture(scope="session")
def tiny_model(tiny_dataset, tmp_path_factory):
    """Path of the card of a baby model trained for a few seconds on ``tiny_dataset``."""
    return train_baby(tiny_dataset, tmp_path_factory.mktemp("tiny_model") / "tiny", epochs=30)


def train_baby(dataset, out, epochs: int):
    """Train a baby model (2x32 LSTM, seeded) on ``dataset``; the path of its card."""
    import torch

    from musicgen.training.train import TrainConfig, train

    torch.manual_seed(0)
    config = TrainConfig(
        dataset=str(dataset),
        out=str(out),
        n_layer=2,
        n_hidden=32,
        n_embd=16,
        genre_dim=8,
        dropout=0.0,
        batch_size=4,
        bptt=32,
        lr=1e-2,
        warmup_steps=5,
        epochs=epochs,
        patience=epochs,
        bf16=False,
        seed=0,
    )
    for _ in train(config):
        pass
    return out.with_suffix(".json")


def choir_records(n: int = 10):
    """Toy four-voice pieces: soprano, alto, tenor and bass in quarter-note chords of C major (I, IV,
    V, I ...), each voice one line in its range; a one-line toy genre beside them."""
    import random

    rng = random.Random(11)
    chords = {"I": (72, 67, 64, 48), "IV": (72, 69, 65, 53), "V": (71, 67, 62, 43), "vi": (72, 69, 64, 45)}
    records = []
    for i in range(n):
        progression = ["I"] + [rng.choice(("IV", "V", "vi", "I")) for _ in range(13)] + ["V", "I"]
        notes = [
            [beat * 12, pitch, 12, voice]
            for beat, name in enumerate(progression)
            for voice, pitch in enumerate(chords[name])
        ]
        records.append(
            {
                "genre": "choir",
                "source": f"choir/{i}",
                "title": f"Choir {i}",
                "notes": notes,
                "bars": list(range(0, 16 * 12 + 1, 48)),
                "meters": [[0, 4, 4]],
            }
        )
    return records + [r for r in synthetic_records(n) if r["genre"] == "rise"]


@pytest.fixture(scope="session")
def choir_dataset(tmp_path_factory):
    """A dataset folder of a four-voice toy genre ("choir") and a one-line one ("rise")."""
    from musicgen.genres import Genre
    from musicgen.training.dataset import assemble

    data = tmp_path_factory.mktemp("choir_dataset")
    genres = [Genre("choir", "Choir", "Toy four-voice chords.", 19, 80), Genre("rise", "Rising", "Toy scales.", 0, 120)]
    assemble([{"pieces": choir_records(), "failed": []}], genres, data, {"source": "synthetic"})
    return data


@pytest.fixture(scope="session")
def choir_model(choir_dataset, tmp_path_factory):
    """Card of a baby model trained on ``choir_dataset``."""
    return train_baby(choir_dataset, tmp_path_factory.mktemp("choir_model") / "choir", epochs=25)

"""A guard for refactors of the sampler: the same seeds give the same tokens, across genres and engines.

The networks are randomly initialised from ``torch.manual_seed`` (no training, so their weights
are the same on every machine); the head is scaled up so the distributions are peaked and every
sampling setting (temperature, top-k, top-p, style strength, morph, chords, masks) changes the
draws. Each scenario runs on the three engines the ``Generator`` offers (the plain loop, the fast
fp32 path and the fast int8 path) and its tokens must equal those recorded in
``tests/same_tokens.json``, written once from the code before a refactor:

    python tests/test_same_tokens.py --record

Re-record only when a change is meant to change the music (and say so in its commit).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "same_tokens.json"
ENGINES = {"plain": dict(fast=False), "fp32": dict(precision="fp32"), "int8": dict(precision="int8")}
NETWORKS = {  # name: (cell, voice context, seed)
    "lstm-context": ("lstm", True, 1),
    "gru": ("gru", False, 2),
    "rnn": ("rnn", False, 3),
}
HEAD_SCALE = 8.0  # peaked distributions: top-p and top-k cut, temperature matters


def _genres():
    from musicgen.genres import Genre

    return [
        Genre("bach", "Chorales", "Four voices.", 19, 80, style_strength=0.5, top_p=0.95),
        Genre("reel", "Reels", "Dance tunes in AABB.", 40, 180, style_strength=1.0, top_p=0.9),
        Genre("chinese", "Folk songs", "One line.", 73, 84, style_strength=0.0, top_p=0.97),
    ]


CARD = {
    "meters": {"bach": {"4/4": 8, "3/4": 4}, "reel": {"4/4": 10, "2/2": 2}, "chinese": {"4/4": 5, "2/4": 5}},
    "bar_counts": {"bach": {"3": 4, "4": 2}, "chinese": {"2": 3, "3": 3}},
    "keys": {"bach": {"G": 3, "Em": 2}, "reel": {"D": 5, "G": 3}, "chinese": {"C": 2, "F": 1}},
}


def random_model(cell: str, voice_context: bool, seed: int):
    """A ``LoadedModel`` of a seeded, randomly initialised small network (eval mode)."""
    import torch

    from musicgen.model.model_files import LoadedModel
    from musicgen.model.network import GenreRNN, ModelConfig
    from musicgen.tokens.codec import DUR, PITCH, SHIFT, VOCAB_SIZE

    genres = _genres()
    torch.manual_seed(seed)
    config = ModelConfig(
        vocab_size=VOCAB_SIZE,
        n_genres=len(genres),
        n_layer=2,
        n_hidden=32,
        n_embd=16,
        genre_dim=8,
        dropout=0.0,
        cell=cell,
        voice_context=voice_context,
    )
    model = GenreRNN(config)
    with torch.no_grad():
        model.head.weight.mul_(HEAD_SCALE)
        model.genre_embedding.weight.mul_(4.0)  # genres that differ, so blends and guidance matter
        # short shifts and notes likelier, so a few bars hold many notes
        bias = model.head.bias
        bias[SHIFT.offset : SHIFT.stop] -= 0.3 * torch.arange(SHIFT.stop - SHIFT.offset)
        bias[DUR.offset : DUR.stop] -= 0.1 * torch.arange(DUR.stop - DUR.offset)
        bias[PITCH.offset : PITCH.stop] += 1.0
    model.eval()
    return LoadedModel(model, genres, json.loads(json.dumps(CARD)), Path(f"golden-{cell}.json"))


def _request(**settings):
    from musicgen.sampling.request import GenerationRequest

    return GenerationRequest(**settings)


def _tokens(result) -> dict:
    return {
        "tokens": list(result.tokens),
        "notes": [[n.start, n.pitch, n.duration, n.voice] for n in result.piece.notes],
    }


def _primer(tmp_path: Path) -> str:
    from musicgen.files.midi import write_midi
    from musicgen.music.piece import make_piece

    notes = [(k * 12, 60 + (k * 5) % 12, 12) for k in range(12)]
    path = tmp_path / "primer.mid"
    write_midi(make_piece(notes, bars=[0, 48, 96, 144], meters=[(0, 4, 4)]), path, tempo=100)
    return str(path)


def _run(steps):
    result = None
    for progress in steps:
        result = progress.result or result
    return result


def scenarios(generator, tmp_path: Path, full: bool) -> dict:
    """Tokens (and notes) of every scenario on ``generator``; ``full``: also primer, batch,
    regenerate and harmonise (the main network only)."""
    from musicgen.music.piece import make_piece
    from musicgen.sampling.generate import generate_piece
    from musicgen.sampling.harmonise import harmonise, prepare_melody
    from musicgen.sampling.regenerate import regenerate

    out = {}
    reel = generate_piece(generator, _request(genre="reel", bars=4, seed=1))
    out["reel-defaults"] = _tokens(reel)
    out["blend-morph-settings"] = _tokens(
        generate_piece(
            generator,
            _request(
                genre="bach=0.6,chinese=0.4",
                morph_to="reel",
                bars=3,
                meter="3/4",
                key="G",
                temperature=0.9,
                top_k=30,
                top_p=0.85,
                style_strength=1.5,
                seed=7,
            ),
        )
    )
    out["bach-four-voices"] = _tokens(
        generate_piece(generator, _request(genre="bach", bars=2, seed=3, temperature=1.2))
    )
    if not full:
        return out
    out["chinese-top-k-cold"] = _tokens(
        generate_piece(generator, _request(genre="chinese", bars=2, seed=4, top_k=5, temperature=0.7, top_p=1.0))
    )
    out["primer"] = _tokens(
        generate_piece(generator, _request(genre="chinese", bars=2, seed=5, primer=_primer(tmp_path)))
    )
    batch = generator.generate_batch(
        [
            _request(genre="reel", form="AB", bars=2, seed=11, style_strength=2.0),
            _request(genre="chinese=0.5,reel=0.5", bars=2, seed=12, tempo=90.0, program=3),
        ]
    )
    out["batch"] = [_tokens(result) for result in batch]
    out["regenerate"] = _tokens(_run(regenerate(generator, reel, 2, 3, seed=5, candidates=2)))
    out["regenerate-to-end"] = _tokens(_run(regenerate(generator, reel, 3, None, seed=6, candidates=2, genre="reel")))
    bach = generate_piece(generator, _request(genre="bach", bars=3, seed=8))
    out["regenerate-voice"] = _tokens(_run(regenerate(generator, bach, 2, 2, seed=9, candidates=2, voice=2)))
    melody = make_piece([(k * 12, 67 + (k * 2) % 7, 12) for k in range(8)], bars=[0, 48, 96], meters=[(0, 4, 4)])
    out["harmonise"] = _tokens(_run(harmonise(generator, prepare_melody(melody), "bach", seed=10, candidates=2)))
    return out


def record_all(tmp_path: Path) -> dict:
    from musicgen.sampling.generate import Generator

    golden = {}
    for network, (cell, context, seed) in NETWORKS.items():
        loaded = random_model(cell, context, seed)
        for engine, options in ENGINES.items():
            golden[f"{network}/{engine}"] = scenarios(Generator(loaded, **options), tmp_path, network == "lstm-context")
    return golden


@pytest.fixture(scope="module")
def golden():
    return json.loads(GOLDEN.read_text())


@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize("engine", ENGINES)
def test_the_same_seeds_give_the_same_tokens(golden, tmp_path, network, engine):
    from musicgen.sampling.generate import Generator

    cell, context, seed = NETWORKS[network]
    generator = Generator(random_model(cell, context, seed), **ENGINES[engine])
    expected = golden[f"{network}/{engine}"]
    got = scenarios(generator, tmp_path, network == "lstm-context")
    assert list(got) == list(expected)
    for name in expected:
        assert json.loads(json.dumps(got[name])) == expected[name], f"{network}/{engine}: {name} changed"


def test_the_settings_matter(golden):
    """The recording is a real guard: settings, genres and engines change the tokens."""
    main = golden["lstm-context/fp32"]
    pieces = [main[name]["tokens"] for name in ("reel-defaults", "blend-morph-settings", "bach-four-voices")]
    assert len({tuple(tokens) for tokens in pieces}) == 3
    assert golden["lstm-context/int8"] != golden["lstm-context/fp32"]
    assert golden["gru/fp32"]["reel-defaults"] != golden["rnn/fp32"]["reel-defaults"]


if __name__ == "__main__" and "--record" in sys.argv:
    import tempfile

    sys.path.insert(0, str(Path(__file__).parent.parent))
    with tempfile.TemporaryDirectory() as folder:
        recorded = record_all(Path(folder))
    GOLDEN.write_text(json.dumps(recorded, separators=(",", ":")) + "\n")
    print(f"recorded {len(recorded)} engine runs in {GOLDEN}")

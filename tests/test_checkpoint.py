"""Model files: self-describing cards, search path, and one-line errors for bad files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from musicgen.model import model_files as checkpoint
from musicgen.model.model_files import find_model, list_models, load_model, model_file, save_model


@pytest.fixture
def model_copy(tiny_model, tmp_path):
    """A copy of the tiny model's two files in a folder of its own."""
    folder = tmp_path / "models"
    folder.mkdir()
    for suffix in (".json", ".safetensors"):
        shutil.copy(tiny_model.with_suffix(suffix), folder / f"baby{suffix}")
    return folder / "baby.json"


def test_card_describes_the_model(model_copy):
    card = json.loads(model_copy.read_text())
    for key in ("config", "codec", "genres", "dataset", "metrics", "training", "licence"):
        assert key in card
    assert "non-commercial" in card["licence"]
    loaded = load_model(str(model_copy))
    assert loaded.model.config.n_hidden == card["config"]["n_hidden"]
    assert not loaded.model.training


def test_search_path_order(model_copy, monkeypatch, tmp_path):
    monkeypatch.setenv("MUSICGEN_MODELS", str(model_copy.parent))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert checkpoint.search_path()[0] == model_copy.parent
    assert find_model("baby") == model_copy
    assert model_copy in list_models()
    with pytest.raises(ValueError, match="model 'nope' not found"):
        find_model("nope")


def test_truncated_weights_are_a_clear_error(model_copy):
    weights = model_copy.with_suffix(".safetensors")
    weights.write_bytes(weights.read_bytes()[:200])
    with pytest.raises(ValueError, match=r"^baby\.safetensors: weights file is damaged or truncated"):
        load_model(str(model_copy))


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda c: c.update(version=99), "model file version 99 is not supported"),
        (
            lambda c: c["codec"].update(codec_version=1),
            "made with event codec version 1, this musicgen reads codec version 4",
        ),
        (lambda c: c["codec"].update(vocab_size=236), "vocab_size 236 \\(expected"),
        (lambda c: c["config"].update(n_hidden=64), "weights do not match the card"),
        (lambda c: c.update(format="other"), "not a musicgen model card"),
    ],
)
def test_other_versions_are_clear_errors(model_copy, change, message):
    card = json.loads(model_copy.read_text())
    change(card)
    model_copy.write_text(json.dumps(card))
    with pytest.raises(ValueError, match=message):
        load_model(str(model_copy))


def test_weights_file_holds_only_tensors(model_copy):
    from safetensors import safe_open

    with safe_open(str(model_copy.with_suffix(".safetensors")), "pt") as handle:
        assert all(handle.get_tensor(k).dtype == torch.float32 for k in handle.keys())


def test_a_dot_in_a_model_name_stays_part_of_it(tiny_model, tmp_path):
    assert model_file("runs/dropout-0.25", ".json") == Path("runs/dropout-0.25.json")
    assert model_file("runs/dropout-0.25.json", ".ckpt") == Path("runs/dropout-0.25.ckpt")
    loaded = load_model(tiny_model)
    saved = save_model(loaded.model, loaded.genres, tmp_path / "dropout-0.25")
    assert saved == tmp_path / "dropout-0.25.json" and (tmp_path / "dropout-0.25.safetensors").is_file()
    assert not (tmp_path / "dropout-0.json").exists()
    again = load_model(tmp_path / "dropout-0.25")
    assert again.name == "dropout-0.25"

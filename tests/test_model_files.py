"""Damaged or mismatched model files: the message says exactly what does not match, and
``musicgen models`` checks the weights before calling a model usable."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from musicgen.cli.main import main
from musicgen.model.model_files import check_model, load_model


@pytest.fixture
def model_copy(tiny_model, tmp_path):
    """A copy of the tiny model's two files in a folder of its own."""
    folder = tmp_path / "models"
    folder.mkdir()
    for suffix in (".json", ".safetensors"):
        shutil.copy(tiny_model.with_suffix(suffix), folder / f"baby{suffix}")
    return folder / "baby.json"


def edit_card(card_path, change) -> None:
    card = json.loads(card_path.read_text())
    change(card)
    card_path.write_text(json.dumps(card))


def error_of(card_path) -> str:
    with pytest.raises(ValueError) as error:
        load_model(str(card_path))
    message = str(error.value)
    assert "\n" not in message
    return message


def test_a_changed_vocab_size_is_named_not_called_another_version(model_copy):
    card = json.loads(model_copy.read_text())
    vocab = card["codec"]["vocab_size"]
    edit_card(model_copy, lambda c: c["codec"].update(vocab_size=vocab + 7))
    message = error_of(model_copy)
    assert "vocab_size" in message and str(vocab + 7) in message and str(vocab) in message
    assert "version 1" not in message


def test_a_changed_n_hidden_names_the_tensor_and_both_shapes(model_copy):
    hidden = json.loads(model_copy.read_text())["config"]["n_hidden"]
    edit_card(model_copy, lambda c: c["config"].update(n_hidden=hidden * 2))
    message = error_of(model_copy)
    assert message.startswith("baby.safetensors: weights do not match the card: ")
    assert not message.endswith(":") and "for GenreRNN:" not in message
    assert f"n_hidden {hidden * 2}" in message  # what the card says
    # the tensor, its shape in the file and the shape the card's sizes need
    assert re.search(r": \S+ is \d+x\d+ in the weights but \d+x\d+ for the card's config", message), message


def test_an_unknown_config_setting_is_named(model_copy):
    edit_card(model_copy, lambda c: c["config"].update(n_heads=4))
    assert "n_heads" in error_of(model_copy)


@pytest.mark.parametrize("keep", [0, 5, 200, -1])
def test_truncated_weights_are_found_from_the_header(model_copy, keep):
    weights = model_copy.with_suffix(".safetensors")
    data = weights.read_bytes()
    weights.write_bytes(data[:keep] if keep >= 0 else data[:-1])
    with pytest.raises(ValueError, match=r"^baby\.safetensors: weights file is damaged or truncated \(.+\)$"):
        check_model(model_copy)
    assert error_of(model_copy).startswith("baby.safetensors: weights file is damaged or truncated")


def test_models_lists_truncated_or_mismatched_weights_as_unusable(model_copy, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("MUSICGEN_MODELS", str(model_copy.parent))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    for suffix in (".json", ".safetensors"):
        shutil.copy(model_copy.with_suffix(suffix), model_copy.with_name(f"wide{suffix}"))
    edit_card(model_copy.with_name("wide.json"), lambda c: c["config"].update(n_hidden=c["config"]["n_hidden"] * 2))
    shutil.copy(model_copy, model_copy.with_name("cut.json"))
    data = model_copy.with_suffix(".safetensors").read_bytes()
    model_copy.with_name("cut.safetensors").write_bytes(data[: len(data) // 2])
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()

    def block(name):
        start = next(i for i, line in enumerate(lines) if line.startswith(name + " "))
        return lines[start + 1]

    assert block("baby").startswith("    genres: rise, fall")
    assert block("cut").startswith("    unusable: cut.safetensors: weights file is damaged or truncated")
    assert block("wide").startswith("    unusable: wide.safetensors: weights do not match the card: ")

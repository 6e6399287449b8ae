"""The voice head: learned scores of each pitch a voice may sing against the other voices."""

from __future__ import annotations

import json

import torch

from stepping import assert_steppers_follow_the_whole_pass

from musicgen.model.config import ModelConfig
from musicgen.model.network import GenreRNN
from musicgen.model.voice_head import N_PAIRS, V_MOTIONS, U_MOTIONS, INTERVALS
from musicgen.music.piece import make_piece
from musicgen.sampling.fast_step import FastStepper
from musicgen.tokens.codec import PITCH, VOCAB_SIZE, VOICE, piece_to_tokens


def chorale():
    """Soprano G4 -> A4 over a bass C3 -> D3: a parallel fifth, both voices rising."""
    notes = [(0, 67, 8, 0), (0, 64, 8, 1), (0, 60, 8, 2), (0, 48, 8, 3)]
    notes += [(8, 69, 8, 0), (8, 65, 8, 1), (8, 60, 8, 2), (8, 50, 8, 3)]
    return make_piece(notes, [0, 16])


def network(voice_head=True, seed=3, scale=1.0):
    torch.manual_seed(seed)
    config = ModelConfig(VOCAB_SIZE, 2, n_layer=2, n_hidden=24, n_embd=12, genre_dim=4, voice_head=voice_head)
    model = GenreRNN(config).eval()
    if voice_head:
        with torch.no_grad():
            for table in model.voice_head.tables():
                table.normal_(0.0, scale)
    return model


def logits_of(model, tokens):
    with torch.no_grad():
        return model(torch.tensor([tokens]), torch.tensor([0]))[0][0]


def same_network_without_head(model):
    base = GenreRNN(ModelConfig(**{**model.config.to_dict(), "voice_head": False})).eval()
    base.load_state_dict(model.state_dict(), strict=False)
    return base


def test_the_head_scores_only_the_pitch_after_a_voice_token_and_leaves_one_line_tunes_alone():
    model = network()
    base = same_network_without_head(model)
    tokens = piece_to_tokens(chorale())
    with_head, without = logits_of(model, tokens), logits_of(base, tokens)
    after_voice = torch.tensor([VOICE.offset <= t < VOICE.stop for t in tokens])
    changed = (with_head != without).any(dim=1)
    assert changed[after_voice].all() and not changed[~after_voice].any()
    columns = (with_head != without).any(dim=0).nonzero().view(-1)
    assert columns.min() >= PITCH.offset and columns.max() < PITCH.stop
    tune = piece_to_tokens(make_piece([(0, 60, 4, 0), (4, 62, 4, 0), (8, 64, 8, 0)], [0]))
    assert torch.equal(logits_of(model, tune), logits_of(base, tune))


def test_a_parallel_fifth_is_scored_by_its_own_entry():
    model = network(scale=0.0)  # all tables zero: the head changes nothing
    base = same_network_without_head(model)
    tokens = piece_to_tokens(chorale())
    assert torch.equal(logits_of(model, tokens), logits_of(base, tokens))
    # the bass's second note: the token before it is VOICE_3 at the second onset
    bass_turns = [i for i, t in enumerate(tokens) if t == VOICE.token(3)]
    at = bass_turns[1]
    assert tokens[at + 1] == PITCH.token(50)
    # pair (bass, soprano) is v = 3, the soprano its first "other"; bass - soprano = 5 mod 12 (a fifth
    # below), before (48 - 67) and with D3 (50 - 69); both rise
    pair, up = 3 * 3 + 0, 2
    entry = (((pair * INTERVALS + 5) * 12 + 5) * V_MOTIONS + up) * U_MOTIONS + up
    assert model.voice_head.moves.numel() == N_PAIRS * INTERVALS * 12 * V_MOTIONS * U_MOTIONS
    with torch.no_grad():
        model.voice_head.moves[entry] = -50.0
    after = logits_of(model, tokens)
    before = logits_of(base, tokens)
    drop = (before - after)[at]
    assert drop[PITCH.token(50)] == 50.0  # D3: a parallel fifth with the soprano's A4
    assert drop[PITCH.token(51)] == 0.0 and drop[PITCH.token(62)] == 50.0  # an octave higher: the same fifth
    assert drop[PITCH.token(38)] == 0.0  # D2: the bass falls, contrary to the soprano
    assert (drop[PITCH.offset : PITCH.stop] > 0).sum() == 5  # D3, D4, D5, D6, D7: every rising D
    assert after[at - 1].equal(before[at - 1])


def test_the_steppers_follow_the_whole_sequence_pass_token_by_token():
    assert_steppers_follow_the_whole_pass(network(), piece_to_tokens(chorale()))


def test_the_sampling_strength_scales_the_head_in_both_engines_and_leaves_the_whole_pass_as_fitted():
    model = network()
    base = same_network_without_head(model)
    tokens = piece_to_tokens(chorale())
    fitted = logits_of(model, tokens)
    model.voice_strength = 1.5
    assert torch.equal(logits_of(model, tokens), fitted)  # training and evaluation: the head as fitted
    without = logits_of(base, tokens)
    assert_steppers_follow_the_whole_pass(model, tokens, expected=without + 1.5 * (fitted - without))


def test_a_card_s_sampling_strength_and_sung_ranges_are_loaded_and_checked(choir_model, tmp_path):
    import pytest

    from musicgen.model.model_files import load_model

    card = json.loads(choir_model.with_suffix(".json").read_text())
    for value, problem in ((1.5, None), (-1, "voice_head.sampling_strength"), ("strong", "must be from 0 to 4")):
        out = tmp_path / f"strength-{value}"
        out.with_suffix(".safetensors").write_bytes(choir_model.with_suffix(".safetensors").read_bytes())
        out.with_suffix(".json").write_text(json.dumps({**card, "voice_head": {"sampling_strength": value}}))
        if problem is None:
            assert load_model(str(out.with_suffix(".json"))).model.voice_strength == 1.5
        else:
            with pytest.raises(ValueError, match=problem):
                load_model(str(out.with_suffix(".json")))
    assert load_model(str(choir_model)).model.voice_strength == 1.0
    out = tmp_path / "bad-ranges"
    out.with_suffix(".safetensors").write_bytes(choir_model.with_suffix(".safetensors").read_bytes())
    out.with_suffix(".json").write_text(json.dumps({**card, "sung_ranges": {"choir": [[72, 60]]}}))
    with pytest.raises(ValueError, match="sung_ranges.choir"):
        load_model(str(out.with_suffix(".json")))


def test_a_row_scores_the_same_alone_or_beside_other_rows():
    model = network()
    tokens = piece_to_tokens(chorale())
    tune = piece_to_tokens(make_piece([(0, 60, 4, 0), (4, 62, 4, 0)], [0]))
    tune = (tune * 20)[: len(tokens)]
    alone = logits_of(model, tokens)
    for rows in (2, 6):  # row by row, and vectorised (more than ROW_BY_ROW rows)
        stepper = FastStepper(model)
        weights = torch.tensor([[1.0, 0.0], [0.0, 1.0]] * (rows // 2))
        with stepper.context():
            stepper.set_genre(weights)
            state = stepper.start(weights)
            for t in range(len(tokens)):
                logits, state = stepper.step([tokens[t], tune[t]] * (rows // 2), state)
                for row in range(0, rows, 2):
                    assert torch.allclose(logits[row], alone[t], atol=1e-4), (rows, t)


def test_train_voice_head_fits_a_model_that_composes_and_keeps_one_line_tunes(choir_dataset, choir_model, tmp_path):
    from musicgen.cli.main import main
    from musicgen.model.model_files import load_model
    from musicgen.sampling.generate import Generator
    from musicgen.sampling.request import GenerationRequest

    out = tmp_path / "choir-head"
    args = ["train-voice-head", "--model", str(choir_model), "--dataset", str(choir_dataset), "--out", str(out)]
    assert main([*args, "--epochs", "3", "--shifts", "1"]) in (0, None)
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["config"]["voice_head"] is True
    fit = card["voice_head"]
    assert fit["valid_pitch_nll_with"]["choir"] < fit["valid_pitch_nll_without"]["choir"]
    loaded, base = load_model(str(out.with_suffix(".json"))), load_model(str(choir_model))
    for precision in ("int8", "fp32"):
        request = [GenerationRequest(genre="choir", bars=4, seed=1)]
        assert Generator(loaded, precision=precision).generate_batch(request)[0].piece.notes
        tune = [GenerationRequest(genre="rise", bars=4, seed=2)]
        with_head = Generator(loaded, precision=precision).generate_batch(tune)[0]
        assert with_head.tokens == Generator(base, precision=precision).generate_batch(tune)[0].tokens
    # an existing model is not replaced without --force
    assert main([*args, "--epochs", "1"]) == 2
    evaluate = ["evaluate", "--model", str(out.with_suffix(".json")), "--dataset", str(choir_dataset)]
    assert main([*evaluate, "--no-update-card"]) in (0, None)


def test_the_sampler_s_numpy_reading_and_scores_equal_the_reference_ones_on_any_tokens():
    import numpy as np

    from musicgen.sampling import context_step, voice_scores
    from musicgen.tokens import voice_context

    model = network()
    tables = [table.detach().numpy() for table in model.voice_head.tables()]
    generator = torch.Generator().manual_seed(5)
    rows, steps = 12, 400
    # tokens drawn mostly from the blocks that move voices, so every voice sings often
    blocks = torch.cat([torch.arange(PITCH.offset, PITCH.stop), torch.arange(VOICE.offset, VOICE.stop).repeat(8)])
    tokens = torch.randint(0, VOCAB_SIZE, (rows, steps), generator=generator)
    mostly = torch.rand(rows, steps, generator=generator) < 0.8
    tokens = torch.where(mostly, blocks[torch.randint(0, len(blocks), (rows, steps), generator=generator)], tokens)
    one_row = [voice_context.fresh() for _ in range(rows)]
    array = np.zeros((rows, voice_context.RAW_SIZE), dtype=np.int64)
    scored = 0
    for t in range(steps):
        for b in range(rows):
            voice_context.advance(one_row[b], int(tokens[b, t]))
        array = context_step.advance(array, tokens[:, t].numpy())
        assert array.tolist() == one_row, t
        voiced = [b for b in range(rows) if VOICE.offset <= int(tokens[b, t]) < VOICE.stop]
        if voiced:
            with torch.no_grad():
                expected = model.voice_head(torch.tensor([one_row[b] for b in voiced])).numpy()
            assert np.allclose(voice_scores.pitch_scores(tables, array[voiced]), expected, atol=1e-5), t
            scored += len(voiced)
    assert scored > 500


def test_the_row_by_row_scores_and_reading_equal_the_vectorised_ones():
    import numpy as np

    from musicgen.sampling import context_step, voice_scores
    from musicgen.tokens import voice_context

    model = network()
    tables = [table.detach().numpy() for table in model.voice_head.tables()]
    rows = voice_scores.RowScores(tables)
    generator = torch.Generator().manual_seed(9)
    blocks = torch.cat([torch.arange(PITCH.offset, PITCH.stop), torch.arange(VOICE.offset, VOICE.stop).repeat(8)])
    tokens = torch.where(
        torch.rand(6, 300, generator=generator) < 0.85,
        blocks[torch.randint(0, len(blocks), (6, 300), generator=generator)],
        torch.randint(0, VOCAB_SIZE, (6, 300), generator=generator),
    ).numpy()
    array = np.zeros((6, voice_context.RAW_SIZE), dtype=np.int64)
    compared = 0
    for t in range(tokens.shape[1]):
        by_rows = context_step.advance_rows(array, tokens[:, t].tolist())
        array = context_step.advance(array, tokens[:, t])
        assert np.array_equal(by_rows, array), t
        for b in range(6):
            if VOICE.offset <= tokens[b, t] < VOICE.stop:
                expected = voice_scores.pitch_scores(tables, array[b : b + 1])[0]
                assert np.allclose(rows.scores(array[b].tolist()), expected, atol=1e-5), (t, b)
                compared += 1
    assert compared > 200


def test_train_voice_head_on_a_dataset_without_voices_says_so_in_one_line(tiny_dataset, tiny_model, tmp_path, capsys):
    from musicgen.cli.main import main

    out = tmp_path / "no-voices"
    args = ["train-voice-head", "--model", str(tiny_model), "--dataset", str(tiny_dataset), "--out", str(out)]
    assert main(args) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "no four-voice pieces" in error[0]
    assert not out.with_suffix(".json").exists()


def test_training_with_the_voice_head_can_start_from_a_trained_model(choir_dataset, choir_model, tmp_path):
    import pytest

    from musicgen.model.model_files import load_model
    from musicgen.training.train import TrainConfig, TrainingError, train

    sizes = dict(n_layer=2, n_hidden=32, n_embd=16, genre_dim=8, dropout=0.0, batch_size=4, bptt=32, bf16=False)
    config = TrainConfig(
        dataset=str(choir_dataset), out=str(tmp_path / "joint"), epochs=1, lr=1e-3, warmup_steps=2, seed=1,
        voice_head=True, init_from=str(choir_model), **sizes,
    )  # fmt: skip
    torch.manual_seed(0)
    for _ in train(config):
        pass
    joint, base = load_model(str(tmp_path / "joint.json")).model, load_model(str(choir_model)).model
    assert joint.config.voice_head and any(table.abs().sum() > 0 for table in joint.voice_head.tables())
    # it started from the base's weights: one epoch at a small rate moves them only a little
    moved = (joint.head.weight - base.head.weight).abs().max()
    assert 0 < moved < 0.1
    wider = TrainConfig(**{**config.__dict__, "n_hidden": 48, "out": str(tmp_path / "wider")})
    with pytest.raises(TrainingError, match="n_hidden"):
        for _ in train(wider):
            pass

"""The voice context: what each voice sings, read from the tokens, fed to the network."""

from __future__ import annotations

import numpy as np
import torch

from stepping import assert_steppers_follow_the_whole_pass

from musicgen.model.config import ModelConfig
from musicgen.model.network import GenreRNN
from musicgen.music.piece import make_piece
from musicgen.sampling.fast_step import FastStepper
from musicgen.tokens import voice_context
from musicgen.tokens.codec import BOS, DUR, PITCH, SHIFT, VOCAB_SIZE, piece_to_tokens


def chorale_bars():
    """Two four-voice chords a half note apart: C major (C5 G4 E4 C3) to G major (D5 G4 D4 G2)."""
    notes = [(0, 72, 8, 0), (0, 67, 8, 1), (0, 64, 8, 2), (0, 48, 8, 3)]
    notes += [(8, 74, 8, 0), (8, 67, 8, 1), (8, 62, 8, 2), (8, 43, 8, 3)]
    return make_piece(notes, [0, 16])


def raw_after(tokens):
    return voice_context.sequence_features(tokens)[1]


def up_to_last_note(tokens):
    """Tokens up to the last note's DUR (before the clock moves on to the final bar line)."""
    last = max(i for i, token in enumerate(tokens) if token in DUR)
    return tokens[: last + 1]


def test_each_voice_keeps_its_latest_pitch_the_one_before_and_whether_it_just_started():
    raw = raw_after(up_to_last_note(piece_to_tokens(chorale_bars())))
    index = lambda pitch: pitch - PITCH.min + 1  # noqa: E731
    assert raw[voice_context.LATEST : voice_context.LATEST + 4] == [index(p) for p in (74, 67, 62, 43)]
    assert raw[voice_context.BEFORE : voice_context.BEFORE + 4] == [index(p) for p in (72, 67, 64, 48)]
    # the alto repeated its G at the second onset: it started again, so all four flags are set
    assert raw[voice_context.FLAGS : voice_context.FLAGS + 4] == [1, 1, 1, 1]
    # the clock moves on to the final bar line: a new onset where no voice has started yet
    assert raw_after(piece_to_tokens(chorale_bars()))[voice_context.FLAGS : voice_context.FLAGS + 4] == [0] * 4


def test_the_pair_slots_show_the_intervals_before_the_onset_and_now():
    rows = voice_context.features(raw_after(up_to_last_note(piece_to_tokens(chorale_bars()))))
    soprano_bass = voice_context.PAIRS.index((0, 3))
    row = rows[2 * 4 + soprano_bass] - voice_context.SLOT_OFFSETS[2 * 4 + soprano_bass]
    before, now = divmod(row, voice_context.INTERVALS)
    assert (before, now) == ((72 - 48) % 12, (74 - 43) % 12)  # an octave, then a fifth
    assert all(0 <= r < voice_context.TABLE_SIZE for r in rows)


def test_a_one_line_tune_is_voice_zero_and_a_shift_clears_the_onset_flags():
    tune = make_piece([(0, 60, 4, 0), (4, 62, 4, 0)], [0])
    raw = raw_after(up_to_last_note(piece_to_tokens(tune)))
    assert raw[voice_context.LATEST] == 62 - PITCH.min + 1
    assert raw[voice_context.BEFORE] == 60 - PITCH.min + 1
    assert raw[voice_context.LATEST + 1 : voice_context.LATEST + 4] == [0, 0, 0]
    assert raw[voice_context.FLAGS] == 1
    voice_context.advance(raw, SHIFT.token(2))
    assert raw[voice_context.FLAGS] == 0 and raw[voice_context.LATEST] == 62 - PITCH.min + 1
    assert voice_context.features(voice_context.fresh())[:4] == list(voice_context.SLOT_OFFSETS[:4])


def context_network(cell="lstm"):
    torch.manual_seed(3)
    config = ModelConfig(VOCAB_SIZE, 2, n_layer=2, n_hidden=24, n_embd=12, genre_dim=4, cell=cell, voice_context=True)
    return GenreRNN(config).eval()


def test_the_context_changes_what_the_network_predicts():
    model = context_network()
    tokens = torch.tensor([piece_to_tokens(chorale_bars())])
    with torch.no_grad():
        with_context = model(tokens, torch.tensor([0]))[0]
        blank = torch.full(tokens.shape + (voice_context.N_SLOTS,), 0, dtype=torch.long)
        without = model(tokens, torch.tensor([0]), None, blank + torch.tensor(voice_context.SLOT_OFFSETS))[0]
    assert not torch.allclose(with_context, without)


def test_the_steppers_follow_the_whole_sequence_pass_token_by_token():
    assert_steppers_follow_the_whole_pass(context_network(), piece_to_tokens(chorale_bars()))


def test_rows_moved_between_batches_keep_their_own_context():
    model = context_network()
    stepper = FastStepper(model)
    tokens = piece_to_tokens(chorale_bars())
    weights = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    with stepper.context():
        stepper.set_genre(weights)
        state = stepper.start(weights)
        for t in range(len(tokens)):
            _, state = stepper.step([tokens[t], tokens[min(t, 5)]], state)
        second = stepper.select(state, torch.tensor([1]))
        joined = stepper.concat([second, stepper.select(state, torch.tensor([0]))])
    assert joined[2][1].tolist() == raw_after(tokens)
    assert joined[2][0].tolist() == raw_after(tokens[:6] + [tokens[5]] * (len(tokens) - 6))


def test_the_batched_torch_reading_equals_the_one_row_reading_on_any_tokens():
    from musicgen.sampling import context_step

    generator = torch.Generator().manual_seed(11)
    rows, steps = 16, 300
    tokens = torch.randint(0, VOCAB_SIZE, (rows, steps), generator=generator)
    tokens[:, 0] = BOS
    raws = np.zeros((rows, voice_context.RAW_SIZE), dtype=np.int64)
    one_row = [voice_context.fresh() for _ in range(rows)]
    for t in range(steps):
        raws = context_step.advance(raws, tokens[:, t].numpy())
        for b in range(rows):
            voice_context.advance(one_row[b], int(tokens[b, t]))
        assert raws.tolist() == one_row, t
        assert context_step.features(torch.from_numpy(raws)).tolist() == [voice_context.features(r) for r in one_row], t


def test_a_model_trained_with_the_voice_context_saves_loads_and_composes(tiny_dataset, tmp_path):
    from musicgen.model.model_files import load_model
    from musicgen.sampling.generate import Generator
    from musicgen.sampling.request import GenerationRequest
    from musicgen.training.train import TrainConfig, train

    torch.manual_seed(0)
    config = TrainConfig(
        dataset=str(tiny_dataset), out=str(tmp_path / "ctx"), n_layer=1, n_hidden=16, n_embd=8, genre_dim=4,
        dropout=0.0, batch_size=4, bptt=16, epochs=2, bf16=False, seed=3, voice_context=True,
    )  # fmt: skip
    for _ in train(config):
        pass
    loaded = load_model(str(tmp_path / "ctx.json"))
    assert loaded.model.config.voice_context and hasattr(loaded.model, "context_embedding")
    for precision in ("int8", "fp32"):
        piece = Generator(loaded, precision=precision).generate_batch([GenerationRequest(genre="rise", bars=4, seed=1)])
        assert piece[0].piece.notes

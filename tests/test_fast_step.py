"""The fast single-step engine computes what GenreRNN.forward computes."""

from __future__ import annotations

import warnings

import pytest
import torch

from musicgen.model.config import CELLS
from musicgen.model.model_files import load_model
from musicgen.model.network import GenreRNN, ModelConfig
from musicgen.sampling.fast_step import FastStepper, PlainStepper
from musicgen.tokens.codec import BOS, VOCAB_SIZE

STEPS = 40


def _tokens(batch: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    tokens = torch.randint(4, VOCAB_SIZE, (batch, STEPS), generator=generator)
    tokens[:, 0] = BOS
    return tokens


def _run_steps(engine, tokens: torch.Tensor, weights: torch.Tensor) -> tuple[torch.Tensor, object]:
    """Logits (B, T, V) from feeding ``tokens`` one step at a time; weights (B, G) or (B, T, G)."""
    with engine.context():
        first = weights[:, 0] if weights.dim() == 3 else weights
        state = engine.concat([engine.start(first[i : i + 1]) for i in range(first.shape[0])])  # as generate does
        outputs = []
        for t in range(tokens.shape[1]):
            engine.set_genre(weights[:, t] if weights.dim() == 3 else weights)
            logits, state = engine.step(tokens[:, t], state)
            outputs.append(logits)
    return torch.stack(outputs, dim=1), state


def _wide(cell: str) -> GenreRNN:
    """An untrained three-layer model (exercises layers >= 1 and a blend of 3 genres)."""
    torch.manual_seed(0)
    config = ModelConfig(VOCAB_SIZE, n_genres=3, n_layer=3, n_hidden=64, n_embd=24, genre_dim=6, cell=cell)
    return GenreRNN(config).eval()


@pytest.fixture(scope="module", params=CELLS)
def wide_model(request):
    """The wide model for every cell (LSTM, GRU, tanh RNN)."""
    return _wide(request.param)


def test_fp32_logits_match_forward_for_a_batch_of_blends(wide_model):
    tokens = _tokens(3)
    weights = torch.tensor([[1.0, 0.0, 0.0], [0.2, 0.5, 0.3], [0.0, 0.0, 1.0]])
    with torch.no_grad():
        expected, (h, c) = wide_model(tokens, weights)
    logits, state = _run_steps(FastStepper(wide_model), tokens, weights)
    torch.testing.assert_close(logits, expected, atol=1e-4, rtol=1e-4)
    fast_h, fast_c = FastStepper.to_model_state(state)
    torch.testing.assert_close(fast_h, h, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(fast_c, c, atol=1e-5, rtol=1e-4)


def test_fp32_follows_genre_weights_that_change_every_step(wide_model):
    tokens = _tokens(2, seed=1)
    fraction = torch.linspace(0, 1, STEPS).view(1, STEPS, 1)
    start, end = torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 0.3, 0.7])
    weights = ((1 - fraction) * start + fraction * end).expand(2, STEPS, 3).contiguous()  # (B, T, G)
    with torch.no_grad():
        expected, _ = wide_model(tokens, weights)
    logits, _ = _run_steps(FastStepper(wide_model), tokens, weights)
    torch.testing.assert_close(logits, expected, atol=1e-4, rtol=1e-4)


def test_fast_and_plain_agree_on_the_trained_model_after_a_warm_pass(tiny_model):
    model = load_model(str(tiny_model)).model
    tokens = _tokens(1, seed=2)
    weights = torch.tensor([[0.0, 1.0]])
    with torch.no_grad():
        expected, _ = model(tokens, weights)
    results = []
    for engine in (PlainStepper(model), FastStepper(model)):
        with engine.context():
            state = engine.warm(tokens[:, :10], weights, engine.start(weights))  # one pass over a "primer"
            engine.set_genre(weights)
            outputs = []
            for t in range(10, STEPS):
                logits, state = engine.step(tokens[:, t], state)
                outputs.append(logits)
        results.append(torch.stack(outputs, dim=1))
    for logits in results:
        torch.testing.assert_close(logits, expected[:, 10:], atol=1e-4, rtol=1e-4)


def test_select_and_concat_keep_rows_apart(wide_model):
    engine = FastStepper(wide_model)
    tokens = _tokens(3, seed=3)
    weights = torch.eye(3)
    with engine.context():
        rows = [engine.start(weights[i : i + 1]) for i in range(3)]
        state = engine.concat(rows)
        engine.set_genre(weights)
        _, state = engine.step(tokens[:, 0], state)
        kept = engine.select(state, torch.tensor([2, 0]))
        engine.set_genre(weights[[2, 0]])
        logits, _ = engine.step(tokens[[2, 0], 1], kept)
    with torch.no_grad():
        expected, _ = wide_model(tokens[[2, 0], :2], weights[[2, 0]])
    torch.testing.assert_close(logits, expected[:, 1], atol=1e-4, rtol=1e-4)


def test_int8_is_close_and_mostly_picks_the_same_token(tiny_model):
    model = load_model(str(tiny_model)).model
    tokens = _tokens(2, seed=4)
    weights = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    with torch.no_grad():
        expected, _ = model(tokens, weights)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch's quantization deprecation notices are silenced inside
        engine = FastStepper(model, int8=True)
        logits, _ = _run_steps(engine, tokens, weights)
    scale = expected.abs().max().item()
    assert (logits - expected).abs().max().item() < 0.05 * scale
    same_argmax = (logits.argmax(-1) == expected.argmax(-1)).float().mean().item()
    assert same_argmax >= 0.9
    assert not torch.equal(logits, expected)  # it really is the quantized path


def test_fast_context_restores_onednn_setting(wide_model):
    before = torch.backends.mkldnn.enabled
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with FastStepper(wide_model).context():
            assert not torch.backends.mkldnn.enabled
            assert torch.is_inference_mode_enabled()
    assert torch.backends.mkldnn.enabled == before


@pytest.mark.parametrize("cell", CELLS)
def test_int8_follows_fp32_for_every_cell(cell):
    model = _wide(cell)
    tokens = _tokens(2, seed=5)
    weights = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]])
    exact, _ = _run_steps(FastStepper(model), tokens, weights)
    quantized, _ = _run_steps(FastStepper(model, int8=True), tokens, weights)
    assert (quantized - exact).abs().max().item() < 0.05 * exact.abs().max().item()
    assert not torch.equal(quantized, exact)


@pytest.mark.parametrize("int8", [False, True])
def test_a_row_gives_the_same_logits_alone_and_in_a_batch(int8):
    model = _wide("lstm")
    tokens = _tokens(3, seed=6)
    weights = torch.tensor([[1.0, 0.0, 0.0], [0.2, 0.5, 0.3], [0.0, 0.0, 1.0]])
    together, _ = _run_steps(FastStepper(model, int8=int8), tokens, weights)
    alone, _ = _run_steps(FastStepper(model, int8=int8), tokens[1:2], weights[1:2])
    if int8:
        assert torch.equal(together[1:2], alone)  # activations quantized on a fixed range: bitwise the same
    else:
        torch.testing.assert_close(together[1:2], alone, atol=1e-5, rtol=1e-5)


def test_unknown_cell_is_a_clear_error():
    with pytest.raises(ValueError, match="cell must be one of lstm, gru, rnn"):
        ModelConfig(VOCAB_SIZE, n_genres=2, cell="transformer")


def test_the_kernels_compile_with_torchscript():
    """The kernels take their weights and draw settings as named tuples; TorchScript must compile
    them (else the sampler would fall back, silently, to the slower eager functions)."""
    from musicgen.sampling.step_kernels import kernels

    assert kernels().compiled


def test_the_engine_runs_eagerly_where_torchscript_is_missing(wide_model, monkeypatch):
    import musicgen.sampling.step_kernels as step_kernels

    def no_script(function):
        raise RuntimeError("TorchScript is not available")

    monkeypatch.setattr(step_kernels.torch.jit, "script", no_script)
    eager = step_kernels.Kernels()
    assert not eager.compiled
    tokens = _tokens(2, seed=7)
    weights = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    compiled, _ = _run_steps(FastStepper(wide_model), tokens, weights)
    engine = FastStepper(wide_model)
    engine.kernels = eager
    plain, _ = _run_steps(engine, tokens, weights)
    torch.testing.assert_close(plain, compiled, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("engine_kind", ["plain", "fp32", "int8"])
def test_the_step_with_its_ranking_is_the_step_then_the_ranking(wide_model, engine_kind):
    """``step_ranked`` (one compiled call on the fast engines) gives exactly ``draw.rank`` of
    ``step``'s logits, with guidance, masks, chords downwards and temperature in play."""
    from musicgen.sampling.token_draw import RankSettings, rank
    from musicgen.tokens.codec import PITCH

    def engine():
        if engine_kind == "plain":
            return PlainStepper(wide_model)
        return FastStepper(wide_model, int8=engine_kind == "int8")

    tokens = _tokens(3, seed=8)  # rows 0 and 1, then row 0's style companion
    weights = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    masks = [torch.zeros(VOCAB_SIZE), torch.zeros(VOCAB_SIZE)]
    masks[1][PITCH.offset :] = float("-inf")
    temperatures = torch.tensor([[1.0], [0.8]])
    settings = RankSettings(
        masks=masks,
        partners=[0],
        scales=[1.5],
        chord_rows=[1],
        chord_lows=[PITCH.offset + 30],
        pitch_stop=PITCH.stop,
        temperatures=temperatures,
        partial_sort=16,
    )
    separate, fused = engine(), engine()
    with separate.context():
        state_a = separate.concat([separate.start(weights[i : i + 1]) for i in range(3)])
        state_b = fused.concat([fused.start(weights[i : i + 1]) for i in range(3)])
        separate.set_genre(weights)
        fused.set_genre(weights)
        for t in range(5):
            logits, state_a = separate.step(tokens[:, t].tolist(), state_a)
            expected = rank(logits, settings)
            ranked, state_b = fused.step_ranked(tokens[:, t].tolist(), state_b, settings)
            for got, want in zip(ranked, expected):
                assert torch.equal(got, want)
    assert expected[0].shape == (2, 16) and expected[2].shape == (2, VOCAB_SIZE)

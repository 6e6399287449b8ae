"""Checks of the sampler engines shared by tests."""

from __future__ import annotations

import torch

from musicgen.sampling.fast_step import FastStepper, PlainStepper


def assert_steppers_follow_the_whole_pass(model, tokens: list[int], warm: int = 3, expected=None) -> None:
    """Both engines, warmed on the first ``warm`` tokens and then fed the rest one at a time, give the
    logits ``expected`` (T, V) at every step; None: one whole-sequence pass of ``model`` (genre 0)."""
    weights = torch.tensor([[1.0] + [0.0] * (model.config.n_genres - 1)])
    if expected is None:
        with torch.no_grad():
            expected = model(torch.tensor([tokens]), weights)[0][0]  # (T, V)
    for stepper in (PlainStepper(model), FastStepper(model)):
        with stepper.context():
            stepper.set_genre(weights)
            state = stepper.warm(torch.tensor([tokens[:warm]]), weights, stepper.start(weights))
            for t in range(warm, len(tokens)):
                logits, state = stepper.step([tokens[t]], state)
                assert torch.allclose(logits[0], expected[t], atol=1e-4), (type(stepper).__name__, t)

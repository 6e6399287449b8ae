"""Sampling speed: events (tokens) per second of the engines in ``musicgen.sampling.generate``.

Measured in one run, on one thread unless ``--threads`` says otherwise; each line gives events
per wall-clock second and, in brackets, per CPU-second of the sampling thread (the machine may be
shared: CPU time shows the engine's own cost, wall time what a user waits):

* single-stream, fast path (``FastStepper``, fp32) and its int8 variant, with how closely int8
  follows fp32 (same most likely token, KL divergence) on a sampled piece;
* the plain textbook loop: ``GenreRNN.step`` (``nn.LSTM`` for one token) per event;
* the naive loop that re-runs the whole prefix on every step (short run: it is quadratic);
* batch throughput of ``generate_batch`` at B = 1, 8, 32, 128 (events of all rows per second);
* whole default pieces per genre, one at a time (seconds a piece; a repeated strain is copied, not
  sampled, so a dance's tokens come faster than its sampled events).

Every sampled run masks EOS and asks for more bars than it can reach, so it samples exactly
the number of events asked for. Usage::

    python benchmarks/sampling.py [--model musicgen-default|PATH] [--events 2000]

The last line is ``single-stream <N> events/s, plain loop <M> events/s, ratio <R>x``.
It also prints the bound: the network's matrix-vector products alone (fp32 and int8) and the share
of it each engine reaches, int8-vs-fp32 agreement per genre, and training tokens/s.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import List

import torch

from musicgen.model.model_files import load_model
from musicgen.sampling.fast_step import FastStepper
from musicgen.sampling.generate import Generator
from musicgen.limits import DEFAULT_STYLE_STRENGTH, MAX_BARS
from musicgen.sampling.request import GenerationRequest
from musicgen.sampling.step_kernels import Packed
from musicgen.tokens.codec import BOS

BATCH_SIZES = (1, 8, 32, 128)


def _request(events: int, seed: int = 0, style_strength: float = 0.0) -> GenerationRequest:
    """A request that samples exactly ``events`` tokens (the bar target is out of reach)."""
    return GenerationRequest(bars=MAX_BARS, max_events=events, seed=seed, style_strength=style_strength)


class Rate:
    """Events per wall-clock second, and per CPU second of this thread (robust on a busy machine)."""

    def __init__(self, events: int, wall: float, cpu: float):
        self.wall = events / wall
        self.cpu = events / cpu if cpu > 0 else float("nan")

    def __str__(self) -> str:
        return f"{self.wall:10,.0f} events/s  ({self.cpu:,.0f} per CPU-second)"


def _timed(work) -> tuple[int, float, float]:
    """Run ``work()`` (returns an event count); returns (events, wall seconds, CPU seconds)."""
    wall, cpu = time.perf_counter(), time.thread_time()
    events = work()
    return events, time.perf_counter() - wall, time.thread_time() - cpu


def single_stream(generator: Generator, events: int, style_strength: float = 0.0) -> Rate:
    """Speed of one ``generate`` run (after a short warm-up run)."""
    for _ in generator.generate(_request(min(events, 100), seed=99, style_strength=style_strength)):
        pass

    def work() -> int:
        for progress in generator.generate(_request(events, style_strength=style_strength)):  # noqa: B007 - the last one has the result
            pass
        return progress.result.events

    done, wall, cpu = _timed(work)
    assert done == events, done
    return Rate(done, wall, cpu)


def whole_pieces(generator: Generator, seeds: int = 5) -> list[tuple[str, float, float]]:
    """Default pieces one at a time (the genre's metre, length and form; default settings), per
    genre: (genre, mean seconds per piece, tokens of the finished pieces per second)."""
    generator.generate_batch([GenerationRequest(genre=generator.loaded.genre_keys[0], bars=2, seed=99)])  # warm-up
    rows = []
    for key in generator.loaded.genre_keys:
        started, tokens = time.perf_counter(), 0
        for seed in range(seeds):
            tokens += len(generator.generate_batch([GenerationRequest(genre=key, seed=seed)])[0].tokens)
        seconds = time.perf_counter() - started
        rows.append((key, seconds / seeds, tokens / seconds))
    return rows


def rerun_prefix(model, events: int) -> Rate:
    """The naive loop: the whole sequence goes through the network again for every new event."""
    generator = torch.Generator().manual_seed(0)
    genre = torch.tensor([0])

    @torch.no_grad()
    def work() -> int:
        tokens = torch.tensor([[BOS]])
        for _ in range(events):
            logits, _ = model(tokens, genre)  # (1, T, V): no state kept
            probs = torch.softmax(logits[0, -1], dim=-1)
            token = torch.multinomial(probs, 1, generator=generator)
            tokens = torch.cat([tokens, token.view(1, 1)], dim=1)
        return events

    return Rate(*_timed(work))


def batch_throughput(generator: Generator, batch: int, events: int) -> Rate:
    """Events per second summed over ``batch`` rows sampled together by ``generate_batch``."""
    generator.generate_batch([_request(min(events, 32), seed=s) for s in range(batch)])  # warm-up

    def work() -> int:
        return sum(p.events for p in generator.generate_batch([_request(events, seed=s) for s in range(batch)]))

    return Rate(*_timed(work))


@torch.jit.script
def _products_loop(inputs: List[torch.Tensor], mats: List[torch.Tensor], packed: List[Packed], steps: int) -> float:
    """``steps`` rounds of the products ``inputs[m] @ weight m`` (fp32 ``mats`` or int8 ``packed``),
    compiled so no Python runs between them; the sum of one element each keeps them from being
    optimised away."""
    total = torch.zeros(1)
    for _ in range(steps):
        for m in range(len(inputs)):
            if len(packed) > 0:
                out = torch.ops.quantized.linear_dynamic(inputs[m], packed[m], True)
            else:
                out = torch.mm(inputs[m], mats[m])
            total += out[0, 0]
    return float(total.item())


def matvec_bound(loaded, steps: int = 2000) -> tuple[float, float]:
    """Steps per second of the network's matrix-vector products alone (every weight matrix of one
    step times one vector, in a compiled loop with nothing else), fp32 and int8: the bound a
    sampler approaches."""
    rates = []
    for int8 in (False, True):
        engine = FastStepper(loaded.model, int8=int8)
        sizes = [k for _, k in engine.weight_shapes]
        inputs = [torch.rand(1, k) * 2 - 1 for k in sizes]
        with engine.context():

            def work(engine=engine, inputs=inputs) -> int:
                _products_loop(inputs, engine.mats, engine.packed, steps)
                return steps

            work()  # warm-up
            rates.append(Rate(*_timed(work)).wall)
    return rates[0], rates[1]


def training_rate(loaded, steps: int = 5, batch: int = 32, bptt: int = 128) -> float:
    """Training tokens per second of the shipped network (``batch`` x ``bptt`` tokens a step, AdamW),
    threads as set."""
    import copy

    model = copy.deepcopy(loaded.model).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    tokens = torch.randint(0, model.config.vocab_size, (batch, bptt + 1))
    genre = torch.zeros(batch, dtype=torch.long)
    started = time.perf_counter()
    for step in range(steps + 1):
        if step == 1:
            started = time.perf_counter()  # the first step warms oneDNN up
        logits, _ = model(tokens[:, :-1], genre)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return steps * batch * bptt / (time.perf_counter() - started)


def int8_agreement(loaded, tokens: list[int], genre: int = 0) -> tuple[float, float]:
    """Feed ``tokens`` to the fp32 and int8 engines under ``genre``: (share of steps with the same
    most likely token, mean KL divergence of int8's next-token distribution from fp32's in nats)."""
    weights = torch.zeros(1, len(loaded.genres))
    weights[0, genre] = 1.0
    logits = []
    for engine in (FastStepper(loaded.model), FastStepper(loaded.model, int8=True)):
        with engine.context():
            engine.set_genre(weights)
            state = engine.start(weights)
            steps = []
            for token in tokens:
                step_logits, state = engine.step(torch.tensor([token]), state)
                steps.append(step_logits[0])
        logits.append(torch.stack(steps))
    exact, quantized = logits
    same = (exact.argmax(-1) == quantized.argmax(-1)).float().mean().item()
    log_p, log_q = torch.log_softmax(exact, -1), torch.log_softmax(quantized, -1)
    kl = (log_p.exp() * (log_p - log_q)).sum(-1).mean().item()
    return same, kl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model name or card path (default: musicgen-default)")
    parser.add_argument("--events", type=int, default=2000, help="events per single-stream run")
    parser.add_argument("--plain-events", type=int, default=300, help="events for the plain loop")
    parser.add_argument("--prefix-events", type=int, default=200, help="events for the re-run-prefix loop")
    parser.add_argument("--batch-events", type=int, default=256, help="events per row in the batch runs")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--agreement-events", type=int, default=2000, help="events per genre for int8 vs fp32")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    loaded = load_model(args.model)
    config = loaded.model.config
    print(
        f"model {loaded.name}: {config.n_layer}x{config.n_hidden} {config.cell.upper()}, {loaded.model.num_parameters():,} "
        f"parameters; torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
    )

    fast = Generator(loaded, precision="fp32")
    fp32_rate = single_stream(fast, args.events)
    print(f"single-stream fast fp32   {fp32_rate}")
    int8 = Generator(loaded, precision="int8")
    int8_rate = single_stream(int8, args.events)
    print(f"single-stream fast int8   {int8_rate}  (the default engine)")
    guided_rate = single_stream(int8, args.events, style_strength=DEFAULT_STYLE_STRENGTH)
    print(
        f"  with style strength {DEFAULT_STYLE_STRENGTH:g} {guided_rate}  (one companion row, as a style with guidance samples)"
    )
    fast_rate = int8_rate
    for key, seconds, rate in whole_pieces(int8):
        print(f"whole default pieces, {key:<10} {seconds:6.2f} s a piece, {rate:8,.0f} tokens of the piece per second")
    fp32_bound, int8_bound = matvec_bound(loaded)
    print(
        f"matrix-vector products alone: fp32 {fp32_bound:,.0f} steps/s, int8 {int8_bound:,.0f} steps/s; "
        f"fp32 path at {fp32_rate.wall / fp32_bound:.0%} of its bound, int8 path at {int8_rate.wall / int8_bound:.0%}"
    )
    for g, genre in enumerate(loaded.genres):
        request = GenerationRequest(genre=genre.key, bars=MAX_BARS, max_events=args.agreement_events, seed=1)
        sample = fast.generate_batch([request])[0].tokens  # BOS, METER, events
        same, kl = int8_agreement(loaded, sample, g)
        print(
            f"int8 vs fp32, {genre.key:<10} {len(sample):,} events: same most likely token {same:.2%}, "
            f"mean KL {kl:.2e} nats/event"
        )
    plain_rate = single_stream(Generator(loaded, fast=False), args.plain_events)
    print(f"plain loop (model.step)   {plain_rate}")
    prefix_rate = rerun_prefix(loaded.model, args.prefix_events)
    print(f"re-run prefix, {args.prefix_events} ev  {prefix_rate}")
    for batch in BATCH_SIZES:
        rate = batch_throughput(fast, batch, args.batch_events)
        print(f"batch B={batch:<4} fp32      {rate}, {rate.wall / batch:,.0f} per row")
    for batch in BATCH_SIZES[2:]:
        rate = batch_throughput(int8, batch, args.batch_events)
        print(f"batch B={batch:<4} int8      {rate}, {rate.wall / batch:,.0f} per row")
    if os.cpu_count() >= 2 and args.threads == 1:
        torch.set_num_threads(2)
        print(f"single-stream int8, 2 threads {single_stream(int8, args.events)}  (generate's default on 2 cores)")
        for generator, name in ((int8, "int8"), (fast, "fp32")):
            rate = batch_throughput(generator, BATCH_SIZES[-1], args.batch_events)
            print(f"batch B={BATCH_SIZES[-1]:<4} {name}, 2 threads {rate}")
        torch.set_num_threads(args.threads)
    print(
        f"training (batch 32 x 128, AdamW, {torch.get_num_threads()} thread(s)) {training_rate(loaded):,.0f} tokens/s"
    )
    if os.cpu_count() >= 2 and args.threads == 1:
        for threads, batch in ((2, 32), (1, 64), (2, 64)):
            torch.set_num_threads(threads)
            rate = training_rate(loaded, batch=batch)
            print(f"training (batch {batch} x 128, AdamW, {threads} thread(s)) {rate:,.0f} tokens/s")
        torch.set_num_threads(args.threads)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    print(
        f"single-stream {fast_rate.wall:.0f} events/s, plain loop {plain_rate.wall:.0f} events/s, "
        f"ratio {fast_rate.wall / plain_rate.wall:.1f}x"
    )


if __name__ == "__main__":
    main()

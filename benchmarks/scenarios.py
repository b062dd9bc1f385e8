"""Monte Carlo disruption scenarios: the engine against a plain per-draw Python loop, a million
draws, and the speed-up from one to two Dask workers (issue 5).

The scenario (benchmarks/scenario_bench.yaml) has 12 uncertain events touching 14 minerals
over 365 days, with stockpiles (the japan-60-day preset), spare capacity and substitution,
propagated to every shipped product template. The baseline is a plain Python loop over
draws, days and nodes implementing the same model on the same random numbers; the benchmark
checks that both give the same per-draw shortfalls before it reports any figure.

Rerun: .venv/bin/python benchmarks/scenarios.py [--draws 1000000] [--loop-draws 300]
                                                [--engine-draws 200000] [--dask-draws 400000]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from pathlib import Path
from statistics import NormalDist

import dask
import distributed
import numpy as np

from kizuna.data.bundle import load_dataset
from kizuna.scenarios import build_model, load_scenario, run_model
from kizuna.scenarios.distributions import Distribution
from kizuna.scenarios.engine import BLOCK_SIZE, _Plan, block_rng, simulate_block
from kizuna.scenarios.model import Model
from kizuna.scenarios.runner import local_cluster, resolve_products

SCENARIO = Path(__file__).with_name("scenario_bench.yaml")
_NORMAL = NormalDist()


# --- the baseline: one draw at a time, plain Python --------------------------------------------


def _ppf(dist: Distribution, u: float) -> float:
    if dist.kind == "constant":
        return dist.low
    if dist.kind == "uniform":
        return dist.low + (dist.high - dist.low) * u
    if dist.kind == "triangular":
        width = dist.high - dist.low
        if width <= 0:
            return dist.low
        if u < (dist.mode - dist.low) / width:
            return dist.low + math.sqrt(u * width * (dist.mode - dist.low))
        return dist.high - math.sqrt((1 - u) * width * (dist.high - dist.mode))
    u = min(max(u, 1e-300), 1 - 2.0**-53)
    return min(dist.median * math.exp(dist.sigma * _NORMAL.inv_cdf(u)), dist.cap)


def _mitigate_one(gross: list[float], responses, stock: float, weights: list[float],
                  step: int) -> list[float]:
    steps = len(gross)
    if responses:
        onset = next((t for t in range(steps) if gross[t] > 0), steps)
        offset = [0.0] * steps
        for share, lag in responses:
            begin = onset + round(lag / step)
            for t in range(max(begin, 0), steps):
                offset[t] += share
        gross = [max(g - o, 0.0) for g, o in zip(gross, offset, strict=True)]
    if stock > 0:
        total, net = 0.0, [0.0] * steps
        exhausted = False
        for t in range(steps):
            total += gross[t] * weights[t]
            if exhausted:
                net[t] = gross[t]
            elif total > stock:
                exhausted = True
                net[t] = (total - stock) / weights[t]
        gross = net
    return gross


def _node_gross(plan: _Plan, node: int, values: list[float], starts: list[int],
                ends: list[int]) -> list[float]:
    model = plan.model
    channels = [int(c) for c in plan.channels[node]]
    steps = plan.steps
    out = [0.0] * steps
    for position, group in enumerate(plan.groups[node]):
        part = [0.0] * steps
        for member in group:
            channel = channels[int(member)]
            for t in range(starts[channel], ends[channel]):
                part[t] += values[channel]
        if position > 0:
            cap = float(model.coefficients[channels[int(group[0])], 2])
            part = [min(p, cap) for p in part]
        out = [a + b for a, b in zip(out, part, strict=True)]
    if plan.capped[node] or len(plan.groups[node]) > 1:
        out = [min(v, 1.0) for v in out]
    return out


def loop_draw(plan: _Plan, uniforms: np.ndarray, draw: int) -> tuple[list[float], list[float]]:
    """One draw of the model in plain Python: (shortfall per node, short share per product)."""
    model = plan.model
    steps, step = plan.steps, model.step_days
    weights = [float(w) for w in plan.weights]
    starts, ends, sev = [], [], []
    for index, event in enumerate(model.events):
        u0, u1, u2, u3 = (float(uniforms[index, k, draw]) for k in range(4))
        first = min(max(round(_ppf(event.start, u1) / step), 0), steps)
        length = max(round(_ppf(event.duration, u2) / step), 0)
        starts.append(first)
        ends.append(min(first + length, steps) if u0 < event.probability else first)
        sev.append(_ppf(event.severity, u3))
    c = model.coefficients
    chan_start = [starts[int(e)] for e in model.channel_event]
    chan_end = [ends[int(e)] for e in model.channel_event]
    loss, feed = [], []
    for k, event in enumerate(model.channel_event):
        s = sev[int(event)]
        loss.append(min(max(c[k, 0] + c[k, 1] * s, 0.0), c[k, 2]))
        feed.append(min(max(c[k, 3] + c[k, 4] * s, 0.0), c[k, 5]))
    nets: list[list[float]] = []
    feeds: dict[int, list[float]] = {}
    totals = []
    for index, node in enumerate(model.nodes):
        gross = _node_gross(plan, index, loss, chan_start, chan_end)
        if node.feed_from is not None and node.feed_from in feeds:
            gross = [max(a, b) for a, b in zip(gross, feeds[node.feed_from], strict=True)]
        net = _mitigate_one(gross, node.responses, node.stockpile_days, weights, step)
        if index in plan.feeds:
            feeds[index] = net if plan.same_feed[index] else _mitigate_one(
                _node_gross(plan, index, feed, chan_start, chan_end), node.responses,
                node.stockpile_days, weights, step)
        nets.append(net)
        totals.append(sum(v * w for v, w in zip(net, weights, strict=True)) / 365.0)
    products = []
    for product in model.products:
        short = [0.0] * steps
        for node, _ in product.needs:
            short = [max(a, b) for a, b in zip(short, nets[node], strict=True)]
        products.append(sum(v * w for v, w in zip(short, weights, strict=True)) / 365.0)
    return totals, products


def run_loop(model: Model, seed: int, draws: int) -> tuple[np.ndarray, np.ndarray, float]:
    """The baseline on the first ``draws`` draws of block 0 (same random numbers)."""
    began = time.perf_counter()
    plan = _Plan(model)
    uniforms = block_rng(seed, 0).random((len(model.events), 4, draws))
    rows = [loop_draw(plan, uniforms, d) for d in range(draws)]
    seconds = time.perf_counter() - began
    return (np.array([r[0] for r in rows]), np.array([r[1] for r in rows]), seconds)


# --- figures -----------------------------------------------------------------------------------


def _machine() -> str:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu or 'unknown CPU'}, {os.cpu_count()} cores"


def _versions() -> str:
    return (f"Python {platform.python_version()}, NumPy {np.__version__}, dask "
            f"{dask.__version__}, distributed {distributed.__version__}")


def _process_seconds() -> float:
    return time.process_time()


def _dask_seconds(model: Model, draws: int, workers: int, seed: int,
                  repeat: int = 3) -> tuple[float, float]:
    """Best of ``repeat`` timings of ``draws`` on a warm LocalCluster of ``workers`` (start-up
    not counted; the best run is the one least disturbed by other work on the machine), and
    in that run the CPU seconds of the busiest worker."""
    with local_cluster(workers) as cluster, distributed.Client(cluster) as client:
        run_model(model, draws=4 * BLOCK_SIZE * workers, seed=seed + 1,
                  scheduler=cluster.scheduler_address)  # warm the workers up
        best, busiest = math.inf, math.inf
        for _ in range(repeat):
            before = client.run(_process_seconds)
            began = time.perf_counter()
            run_model(model, draws=draws, seed=seed, scheduler=cluster.scheduler_address)
            seconds = time.perf_counter() - began
            after = client.run(_process_seconds)
            if seconds < best:
                best = seconds
                busiest = max(after[key] - before[key] for key in after)
        return best, busiest


def _speed_up(model: Model, args: argparse.Namespace) -> None:
    one, one_cpu = _dask_seconds(model, args.dask_draws, 1, args.seed)
    two, two_cpu = _dask_seconds(model, args.dask_draws, 2, args.seed)
    print(f"Dask LocalCluster, {args.dask_draws:,} draws, best of 3: 1 worker {one:.1f} s, "
          f"2 workers {two:.1f} s, wall speed-up {one / two:.2f}x (near-linear = 2x)")
    print(f"  CPU of the busiest worker: 1 worker {one_cpu:.1f} s, 2 workers {two_cpu:.1f} s "
          f"each at most: work speed-up {one_cpu / two_cpu:.2f}x; other busy processes now: "
          f"{_others_busy()}")


def _others_busy() -> str:
    """Processes of other users of this machine using CPU now (the figures assume none)."""
    import subprocess  # noqa: PLC0415 - only here

    try:
        text = subprocess.run(["ps", "-eo", "pcpu,pid,comm", "--sort=-pcpu"], check=True,
                              capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    mine = {os.getpid(), os.getppid()}
    busy = [line.split(None, 2) for line in text.splitlines()[1:]]
    found = [f"{name} {cpu}%" for cpu, pid, name in busy
             if float(cpu) > 30 and int(pid) not in mine]
    return ", ".join(found) or "none"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--draws", type=int, default=1_000_000)
    parser.add_argument("--engine-draws", type=int, default=200_000)
    parser.add_argument("--loop-draws", type=int, default=300)
    parser.add_argument("--dask-draws", type=int, default=400_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--dask-only", action="store_true",
                        help="only the 1 -> 2 worker speed-up (to rerun it on a quiet machine)")
    args = parser.parse_args(argv)

    ds = load_dataset()
    scenario = load_scenario(SCENARIO, dataset=ds)
    model = build_model(ds, scenario, products=resolve_products(scenario))
    minerals = sorted({n.mineral for n in model.nodes})
    print(f"# Kizuna scenario benchmark\n{_versions()}\n{_machine()}\n")
    print(f"scenario: {scenario.name}: {len(scenario.events)} events, "
          f"{len(scenario.minerals)} minerals named, {len(model.nodes)} mineral-stage nodes "
          f"({len(minerals)} minerals), {len(model.products)} products, "
          f"{model.horizon_days} days, step {model.step_days} day")

    if args.dask_only:
        _speed_up(model, args)
        return
    loop_short, loop_products, loop_seconds = run_loop(model, args.seed, args.loop_draws)
    check = simulate_block(model, args.seed, 0, args.loop_draws)
    gap = max(float(np.abs(check.shortfall - loop_short).max()),
              float(np.abs(check.product_short - loop_products).max()))
    if gap > 1e-4:
        sys.exit(f"the engine and the loop disagree by {gap:.2e}: not reporting figures")
    print(f"check: engine and loop agree on {args.loop_draws} draws (max gap {gap:.1e})")

    run_model(model, draws=BLOCK_SIZE, seed=args.seed + 1)  # warm-up
    began, cpu = time.perf_counter(), time.process_time()
    run_model(model, draws=args.engine_draws, seed=args.seed)
    engine_seconds = time.perf_counter() - began
    engine_cpu = time.process_time() - cpu
    engine_rate = args.engine_draws / engine_seconds
    loop_rate = args.loop_draws / loop_seconds
    print(f"engine, 1 process: {engine_rate:,.0f} draws/s ({args.engine_draws:,} draws in "
          f"{engine_seconds:.1f} s wall, {engine_cpu:.1f} s CPU)")
    print(f"plain Python loop: {loop_rate:,.1f} draws/s ({args.loop_draws:,} draws in "
          f"{loop_seconds:.1f} s)")
    print(f"ratio: {engine_rate / loop_rate:,.0f}x (target >= 100x)")

    began, cpu = time.perf_counter(), time.process_time()
    local = run_model(model, draws=args.draws, seed=args.seed)
    local_seconds = time.perf_counter() - began
    print(f"{args.draws:,} draws, 1 process: {local_seconds:.1f} s wall "
          f"({time.process_time() - cpu:.1f} s CPU)")
    _speed_up(model, args)
    began = time.perf_counter()
    distributed_result = run_model(model, draws=args.draws, seed=args.seed, workers=2)
    total = time.perf_counter() - began
    same = np.array_equal(distributed_result.shortfall, local.shortfall)
    print(f"{args.draws:,} draws, kizuna scenario run --workers 2 (LocalCluster started for the "
          f"run): {total:.1f} s; same answer as 1 process: {same} (target < 60 s)")
    print(f"other busy processes at the end: {_others_busy()}")


if __name__ == "__main__":
    main()

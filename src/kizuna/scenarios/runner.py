"""Run a model: locally block by block, or split over Dask workers with the same answer.

``run_model(model, draws=N, seed=S)`` cuts the N draws into blocks of ``block_size`` (the
last one shorter), runs each with ``engine.simulate_block`` and joins them in block order.
With ``scheduler="tcp://host:8786"`` (an existing Dask cluster) or ``workers=k`` (a
``distributed.LocalCluster`` of k single-threaded worker processes started for the run) the
blocks are Dask tasks; since a block's random numbers depend only on (seed, block index) and
blocks are joined in order, the result is identical to the local run.

``run_scenario(ds, scenario, ...)`` is the one call a page or the CLI needs: it resolves the
products and the perspective, builds the model and runs it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from kizuna.data.bundle import Dataset
from kizuna.errors import InputError, MissingExtraError
from kizuna.exposure.mixes import perspective_of
from kizuna.products.model import Product
from kizuna.products.templates import load_template, template_ids
from kizuna.scenarios.build import build_model
from kizuna.scenarios.engine import BLOCK_SIZE, BlockResult, simulate_block
from kizuna.scenarios.model import Model
from kizuna.scenarios.result import ScenarioResult
from kizuna.scenarios.schema import ProductChoice, Scenario

Progress = Callable[[int, int], None]
"""Called with (draws done, draws in all) after each block."""

MAX_DRAWS = 100_000_000
TRIM_SETTING = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
"""Dask starts worker processes with MALLOC_TRIM_THRESHOLD_=65536, which makes glibc map and
unmap every large temporary array: the engine runs about 3x slower (measured). The local
clusters Kizuna starts leave it unset (docs/scenarios.md says how to do the same on a
cluster of your own)."""


def blocks_of(draws: int, block_size: int) -> list[tuple[int, int]]:
    """(block index, size) for ``draws`` draws in blocks of ``block_size``."""
    full, rest = divmod(draws, block_size)
    out = [(index, block_size) for index in range(full)]
    if rest:
        out.append((full, rest))
    return out


def _check(draws: int, seed: int, block_size: int) -> None:
    if not 1 <= draws <= MAX_DRAWS:
        raise InputError(f"draws must be from 1 to {MAX_DRAWS:,}, got {draws}", field="draws")
    if seed < 0:
        raise InputError(f"the seed must be a whole number >= 0, got {seed}", field="seed")
    if block_size < 1:
        raise InputError(f"block_size must be >= 1, got {block_size}", field="block_size")


def run_model(model: Model, *, draws: int, seed: int = 0, block_size: int = BLOCK_SIZE,
              scheduler: str | None = None, workers: int | None = None,
              progress: Progress | None = None) -> ScenarioResult:
    """Run ``draws`` draws of ``model`` with ``seed`` (locally, or on Dask when asked)."""
    _check(draws, seed, block_size)
    began = time.perf_counter()
    plan = blocks_of(draws, block_size)
    if scheduler is None and workers is None:
        results, where = _run_local(model, seed, plan, draws, progress), "local"
    else:
        results, where = _run_dask(model, seed, plan, draws, scheduler, workers, progress)
    return ScenarioResult.from_blocks(model, results, seed, block_size, scheduler=where,
                                      seconds=time.perf_counter() - began)


def _run_local(model: Model, seed: int, plan: list[tuple[int, int]], draws: int,
               progress: Progress | None) -> list[BlockResult]:
    out, done = [], 0
    for block, size in plan:
        out.append(simulate_block(model, seed, block, size))
        done += size
        if progress is not None:
            progress(done, draws)
    return out


@contextmanager
def local_cluster(workers: int) -> Iterator[Any]:
    """A ``distributed.LocalCluster`` of ``workers`` single-threaded worker processes, started
    without Dask's MALLOC_TRIM_THRESHOLD_ (see TRIM_SETTING); closed on exit."""
    try:
        import dask  # noqa: PLC0415 - optional extra
        from distributed import LocalCluster  # noqa: PLC0415 - optional extra
    except ImportError:  # pragma: no cover - the dask extra is installed in development
        raise MissingExtraError("distributed", "dask") from None
    if workers < 1:
        raise InputError(f"--workers must be >= 1, got {workers}", field="workers")
    with dask.config.set({TRIM_SETTING: None}), LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True,
            dashboard_address=None) as cluster:
        yield cluster


@contextmanager
def _client(scheduler: str | None, workers: int | None) -> Iterator[tuple[Any, str]]:
    try:
        from distributed import Client  # noqa: PLC0415 - optional extra
    except ImportError:  # pragma: no cover - the dask extra is installed in development
        raise MissingExtraError("distributed", "dask") from None
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="10s")
        except OSError as error:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {error}",
                             hint="start one with: dask scheduler (and dask worker ADDRESS)",
                             field="scheduler") from None
        with client:
            yield client, f"dask {scheduler}"
        return
    count = int(workers or 1)
    with local_cluster(count) as cluster, Client(cluster) as client:
        yield client, f"dask LocalCluster({count} workers)"


def _run_dask(model: Model, seed: int, plan: list[tuple[int, int]], draws: int,
              scheduler: str | None, workers: int | None,
              progress: Progress | None) -> tuple[list[BlockResult], str]:
    from distributed import as_completed  # noqa: PLC0415 - optional extra

    with _client(scheduler, workers) as (client, where):
        shared = client.scatter(model, broadcast=True)
        futures = [client.submit(simulate_block, shared, seed, block, size, pure=False)
                   for block, size in plan]
        done = 0
        results: list[BlockResult] = []
        for _, result in as_completed(futures, with_results=True):
            results.append(result)
            done += result.size
            if progress is not None:
                progress(done, draws)
        return results, where


# --- the one call for a page or the CLI --------------------------------------------------------


def resolve_products(scenario: Scenario, chosen: Sequence[ProductChoice | str] | None = None
                     ) -> list[Product]:
    """The products to propagate to: ``chosen``, else the scenario's, else every template."""
    picks: list[ProductChoice] = []
    for item in chosen if chosen is not None else scenario.products or template_ids():
        picks.append(item if isinstance(item, ProductChoice) else ProductChoice(str(item)))
    known = template_ids()
    out = []
    for pick in picks:
        if pick.id not in known:
            raise InputError(f"unknown product template {pick.id!r}",
                             hint=f"use one of: {', '.join(known)}", field="products",
                             value=pick.id)
        product = load_template(pick.id, pick.params)
        out.append(Product(product.id, product.name, product.unit, pick.volume, product.lines,
                           product.assumptions, product.sources))
    return out


def run_scenario(ds: Dataset, scenario: Scenario, *, draws: int, seed: int = 0,
                 products: Sequence[ProductChoice | str] | None = None,
                 perspective: str | None = None, block_size: int = BLOCK_SIZE,
                 scheduler: str | None = None, workers: int | None = None,
                 progress: Progress | None = None) -> ScenarioResult:
    """Build the model of ``scenario`` (products, perspective) and run it.

    ``perspective`` (world, an importer such as USA, or an import-mix CSV) overrides the
    file's; ``products`` overrides the file's list (default: every shipped template).
    """
    _check(draws, seed, block_size)
    view = perspective_of(ds, perspective if perspective is not None else scenario.perspective)
    model = build_model(ds, scenario, products=resolve_products(scenario, products),
                        perspective=view)
    return run_model(model, draws=draws, seed=seed, block_size=block_size,
                     scheduler=scheduler, workers=workers, progress=progress)

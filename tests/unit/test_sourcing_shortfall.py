"""Scenario draws as sourcing losses: closed-form events, the engine's own draws, and the
"ore is refined at home" rule at the level of one path."""

from __future__ import annotations

import numpy as np
import pytest

from kizuna.data.bundle import load_dataset
from kizuna.products.model import Line, Product
from kizuna.scenarios import build_model, parse_scenario_text, run_model
from kizuna.sourcing import Assumptions, build, shortfall_draws

DS = load_dataset()
PACK = Product("p", "pack", "1 kWh", 1.0, (Line("cobalt", 0.076, "cathode"),
                                          Line("nickel", 0.608, "cathode")))


def draws_of(text: str, n: int = 50, seed: int = 0):  # type: ignore[no-untyped-def]
    scenario = parse_scenario_text(text, origin="t.yaml", dataset=DS)
    model = build(DS, PACK, volume=1000, assumptions=Assumptions())
    return model, shortfall_draws(DS, scenario, model, draws=n, seed=seed, products=[PACK])


def column(draws, key):  # type: ignore[no-untyped-def]
    return draws.loss.toarray()[:, draws.keys.index(key)]


CERTAIN = """
name: certain
horizon_days: 365
events:
  - {kind: export_ban, country: COD, minerals: [cobalt], stage: mining, share: 1.0}
  - {kind: facility_outage, country: FIN, minerals: [cobalt], stage: refining, share: 0.5,
     start_day: 100, duration_days: 73}
  - {kind: export_ban, country: IDN, minerals: [nickel], stage: mining, share: 1.0}
"""


def test_certain_events_lose_their_share_of_the_year_in_every_draw() -> None:
    model, draws = draws_of(CERTAIN)
    assert column(draws, ("cobalt", "mining", "COD")) == pytest.approx(np.ones(50))
    assert column(draws, ("cobalt", "refining", "FIN")) == pytest.approx(
        np.full(50, 0.5 * 73 / 365), rel=1e-6)
    dense = draws.path_loss(model).toarray()
    for index, path in enumerate(model.paths):
        mine, refine = path.at("mining"), path.at("refining")
        if path.mineral == "cobalt":
            # the COD ban cuts the whole year; FIN's outage adds nothing on top (max, not sum)
            expected = 1.0 if mine == "COD" else (0.1 if refine == "FIN" else 0.0)
        else:  # Indonesian ore banned from export is still refined in Indonesia
            expected = 1.0 if mine == "IDN" and refine != "IDN" else 0.0
        assert dense[:, index] == pytest.approx(np.full(50, expected), rel=1e-6, abs=1e-9)


def test_a_physical_outage_at_a_mine_cuts_its_home_refinery_too() -> None:
    model, draws = draws_of("""
name: flood
events:
  - {kind: facility_outage, country: IDN, minerals: [nickel], stage: mining, share: 0.4,
     cause: natural-hazard}
""")
    dense = draws.path_loss(model).toarray()
    home = [i for i, p in enumerate(model.paths)
            if p.mineral == "nickel" and p.at("mining") == p.at("refining") == "IDN"]
    assert home and dense[:, home] == pytest.approx(np.full((50, len(home)), 0.4))


UNCERTAIN = """
name: uncertain
year: 2025
events:
  - {kind: export_ban, country: COD, minerals: [cobalt], stage: mining, probability: 0.3,
     share: {dist: uniform, low: 0.2, high: 1.0}, start_day: {dist: uniform, low: 0, high: 300},
     duration_days: {dist: uniform, low: 10, high: 200}}
  - {kind: export_quota, country: IDN, minerals: [nickel], stage: mining, probability: 0.5,
     allowed_share: {dist: uniform, low: 0.2, high: 0.9}, duration_days: 120}
"""


def test_the_draws_are_the_scenario_engines_draws() -> None:
    """Per draw, a source country's loss times its world share is the engine's shortfall of
    that mineral and stage (one event each, no mitigations)."""
    _, draws = draws_of(UNCERTAIN, n=3000, seed=11)
    scenario = parse_scenario_text(UNCERTAIN, origin="t.yaml", dataset=DS)
    engine = build_model(DS, scenario, products=[PACK])
    result = run_model(engine, draws=3000, seed=11)
    for key in (("cobalt", "mining", "COD"), ("nickel", "mining", "IDN")):
        node = next(i for i, n in enumerate(engine.nodes) if (n.mineral, n.stage) == key[:2])
        share = engine.nodes[node].shares[key[2]]
        assert column(draws, key) * share == pytest.approx(
            result.shortfall[:, node].astype(float), abs=2e-6)
    hit = (column(draws, ("cobalt", "mining", "COD")) > 0).mean()
    assert 0.25 < hit < 0.35


def test_a_demand_surge_is_left_out_with_a_note() -> None:
    _, draws = draws_of("""
name: surge
events:
  - {kind: demand_surge, minerals: [cobalt], share: 0.1}
""")
    assert draws.keys == [] and any("demand surge" in note for note in draws.notes)

"""kizuna.scenarios: disruption scenarios and their Monte Carlo simulation.

A page or a script needs four calls (docs/scenarios.md):

    scenario = load_scenario("drc-cobalt-2025")            # an example id or a YAML path
    # or: parse_scenario_text(text, origin="edited.yaml")  # YAML from an editor
    result = run_scenario(load_dataset(), scenario, draws=10_000, seed=1)
    result.to_json()                                      # the CLI's --json document
    scenario_figures(result)                              # Plotly figures (report module)

``build_model`` and ``run_model`` split the run into its two steps (inspect the model, then
run it locally or on Dask).
"""

from kizuna.scenarios.build import build_model
from kizuna.scenarios.loader import (
    EXAMPLE_IDS,
    example_text,
    list_examples,
    load_scenario,
    parse_scenario,
    parse_scenario_text,
)
from kizuna.scenarios.model import Model
from kizuna.scenarios.result import ScenarioResult
from kizuna.scenarios.runner import run_model, run_scenario
from kizuna.scenarios.schema import Scenario

__all__ = [
    "EXAMPLE_IDS",
    "Model",
    "Scenario",
    "ScenarioResult",
    "build_model",
    "example_text",
    "list_examples",
    "load_scenario",
    "parse_scenario",
    "parse_scenario_text",
    "run_model",
    "run_scenario",
]

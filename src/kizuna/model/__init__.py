"""kizuna.model: domain types (minerals, stages, country groups) and country codes."""

from kizuna.model.types import MEASURES, STAGES, CountryGroup, Measure, Mineral, Stage

__all__ = ["MEASURES", "STAGES", "CountryGroup", "Measure", "Mineral", "Stage"]

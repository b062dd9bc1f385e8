"""Indicator matching: STIX patterns compiled once, scanned over telemetry at line rate.

``build_lookup(indicators)`` compiles the supported subset (docs/matcher.md) and lists the
rest with the reason; ``plan_files`` checks the files and the field mapping before any work;
``scan`` matches them (threads or Dask) into a ``MatchReport``; ``sightings_for`` turns it
into STIX sightings and ``export_indicators`` writes Zeek Intel, Suricata and CSV files.
"""

from kizuna.intel.matcher.compile import (
    CompiledIndicator,
    Lookup,
    UnsupportedIndicator,
    build_lookup,
    compile_indicator,
)
from kizuna.intel.matcher.readers import FORMATS, parse_field_map
from kizuna.intel.matcher.run import BadLine, Match, MatchReport, plan_files, scan, stix_time

__all__ = [
    "FORMATS",
    "BadLine",
    "CompiledIndicator",
    "Lookup",
    "Match",
    "MatchReport",
    "UnsupportedIndicator",
    "build_lookup",
    "compile_indicator",
    "parse_field_map",
    "plan_files",
    "scan",
    "stix_time",
]

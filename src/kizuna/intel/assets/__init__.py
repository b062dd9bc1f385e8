"""Asset registers of critical infrastructure, their exposure, and the bridge to scenarios.

* ``read_register(path)`` — a CSV/XLSX register, checked all or nothing (``register``);
* ``save_register``/``load_assets`` — kept in the store, private to the owning organisation
  under the hub's access rules (``store``);
* ``asset_exposure(assets, objects)`` — KEV entries on each asset's software, adversaries
  after its sector or country, a score with its parts (``exposure``, ``matching``,
  ``versions``);
* ``outage_scenario(exposures, probability=, duration_days=)`` — a facility_outage scenario
  for ``kizuna.scenarios`` with the findings as its stated evidence (``bridge``).
"""

from kizuna.intel.assets.bridge import outage_scenario
from kizuna.intel.assets.exposure import WEIGHTS, AssetExposure, asset_exposure
from kizuna.intel.assets.register import Register, read_register
from kizuna.intel.assets.schema import COLUMNS, KINDS, Asset, Software
from kizuna.intel.assets.store import load_assets, register_summary, save_register
from kizuna.intel.assets.versions import VersionData, read_versions

__all__ = [
    "COLUMNS",
    "KINDS",
    "WEIGHTS",
    "Asset",
    "AssetExposure",
    "Register",
    "Software",
    "VersionData",
    "asset_exposure",
    "load_assets",
    "outage_scenario",
    "read_register",
    "read_versions",
    "register_summary",
    "save_register",
]

"""Reference data: countries resolve, minerals and lists map, groups are data."""

from __future__ import annotations

import pandas as pd
import pytest

from kizuna.data.importers.lists import mineral_index, resolve_entry
from kizuna.data.reference import reference
from kizuna.data.testing import shared_data_dir
from kizuna.errors import InputError
from kizuna.model.countries import country_name, is_aggregate, to_iso3, wgi_to_iso3

EXPECTED = {
    "Congo (Kinshasa)": "COD", "Congo (Brazzaville)": "COG", "Burma": "MMR",
    "Korea, Republic of": "KOR", "Korea, North": "PRK", "Russia": "RUS", "Laos": "LAO",
    "Turkey": "TUR", "Türkiye": "TUR", "Vietnam": "VNM", "Iran": "IRN", "Bolivia": "BOL",
    "Tanzania": "TZA", "Czechia": "CZE", "Taiwan": "TWN", "Kosovo": "XKX",
    "Côte d’Ivoire": "CIV", "World total": "WORLD", "World total (rounded)": "WORLD",
    "World total (may be rounded)": "WORLD", "Other countries": "OTHER", "ROW": "ROW",
}  # fmt: skip


@pytest.mark.parametrize(("name", "code"), sorted(EXPECTED.items()))
def test_country_names_resolve_to_the_intended_code(name, code):
    assert to_iso3(name) == code


def test_every_usgs_world_table_country_resolves():
    usgs = shared_data_dir() / "usgs_mcs2026" / "MCS2026_Commodities_Data.csv"
    raw = pd.read_csv(usgs, encoding="cp1252", dtype=str, keep_default_na=False)
    names = set(raw.loc[raw["Section"].str.startswith("World"), "Country"])
    resolved = {name: to_iso3(name) for name in names}
    assert len(resolved) > 100
    assert all(len(code) == 3 or is_aggregate(code) for code in resolved.values())


def test_an_unknown_country_says_how_to_fix_it():
    with pytest.raises(InputError) as info:
        to_iso3("Narnia")
    assert "unknown country 'Narnia'" in str(info.value)
    assert "COD" in (info.value.hint or "") and "countries.yaml" in (info.value.hint or "")


def test_wgi_codes_translate_to_iso():
    pairs = {"ZAR": "COD", "ROM": "ROU", "ADO": "AND", "TMP": "TLS", "KSV": "XKX", "WBG": "PSE"}
    assert {k: wgi_to_iso3(k) for k in pairs} == pairs


def test_aggregates_and_codes_have_display_names():
    assert country_name("WORLD") == "World"
    assert country_name("COD") == "DR Congo"
    assert country_name("XKX") == "Kosovo"


def test_japan_rare_metal_names_resolve_to_31_distinct_minerals():
    ref = reference()
    names = ["Lithium", "Beryllium", "Boron", "Titanium", "Vanadium", "Chromium", "Manganese",
             "Cobalt", "Nickel", "Gallium", "Germanium", "Selenium", "Rubidium", "Strontium",
             "Zirconium", "Niobium", "Molybdenum", "Palladium", "Indium", "Antimony",
             "Tellurium", "Cesium", "Barium", "Hafnium", "Tantalum", "Tungsten", "Rhenium",
             "Platinum", "Thallium", "Bismuth", "Rare earth elements"]  # fmt: skip
    index = mineral_index(ref)
    slugs = {slug for name in names for slug in resolve_entry(name, ref, index)}
    assert len(slugs) == 31


def test_grade_qualifiers_and_compound_entries_resolve():
    ref = reference()
    index = mineral_index(ref)
    assert resolve_entry("Lithium – battery grade", ref, index) == ("lithium",)
    assert resolve_entry("Bauxite/Alumina/Aluminium", ref, index) == (
        "bauxite",
        "alumina",
        "aluminium",
    )


def test_groups_are_data_with_sources():
    groups = reference().groups
    assert {"g7", "quad", "msp", "eu27", "concern"} <= set(groups)
    assert len(groups["eu27"].members) == 27
    assert groups["concern"].members == frozenset({"CHN", "RUS", "PRK", "IRN"})
    assert all(group.source for group in groups.values())


def test_the_shared_data_helper_fails_in_ci_and_skips_elsewhere(monkeypatch, tmp_path):
    monkeypatch.setenv("KIZUNA_SHARED_DATA", str(tmp_path / "nowhere"))
    monkeypatch.setenv("KIZUNA_CI", "1")
    with pytest.raises(pytest.fail.Exception, match="KIZUNA_CI is set"):
        shared_data_dir()
    monkeypatch.delenv("KIZUNA_CI")
    with pytest.raises(pytest.skip.Exception, match="nowhere"):
        shared_data_dir()
    monkeypatch.setenv("KIZUNA_SHARED_DATA", str(tmp_path))
    assert shared_data_dir() == tmp_path


def test_supply_pointers_name_known_slugs_and_stages():
    pointers = reference().supply_pointers
    assert pointers[("platinum-group-metals", "mining")].see == ("platinum", "palladium")
    assert pointers[("aluminium", "mining")].see == ("bauxite",)
    minerals = reference().minerals
    assert all(slug in minerals for pointer in pointers.values() for slug in pointer.see)

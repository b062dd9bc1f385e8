"""The shipped dataset: key figures, revisions applied, lookups and missing-data reasons."""

from __future__ import annotations

import pytest

from kizuna.data.bundle import load_dataset
from kizuna.errors import NotFoundError


@pytest.fixture(scope="module")
def dataset():
    return load_dataset()


def _one(supply, **where):
    rows = supply
    for column, value in where.items():
        rows = rows[rows[column] == value]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_rare_earth_mining_2025_china_and_world(dataset):
    common = {"mineral": "rare-earths", "measure": "production", "year": 2025}
    assert _one(dataset.supply, area="CHN", **common)["value"] == 270000
    world = _one(dataset.supply, area="WORLD", **common)
    assert world["value"] == 390000
    assert world["unit"] == "t REO"
    assert world["estimated"]


def test_the_v1_3_revision_of_rare_earth_reserves_is_applied(dataset):
    common = {"mineral": "rare-earths", "measure": "reserves", "year": 2025}
    brazil = _one(dataset.supply, area="BRA", **common)
    assert brazil["value"] == 11_000_000
    assert "v1.3" in brazil["citation"]
    world = _one(dataset.supply, area="WORLD", **common)
    assert (world["value_code"], world["value_min"]) == (">", 75_000_000)


def test_cobalt_mining_top_country_is_dr_congo(dataset):
    supply = dataset.supply
    rows = supply[
        (supply["mineral"] == "cobalt")
        & (supply["measure"] == "production")
        & (supply["year"] == 2025)
        & ~supply["is_aggregate"]
    ]
    assert rows.sort_values("value", ascending=False).iloc[0]["area"] == "COD"


def test_refining_shares_stay_fractions_that_sum_to_one(dataset):
    shares = dataset.supply[dataset.supply["measure"] == "share"]
    assert set(shares["unit"]) == {"fraction"}
    sums = shares.groupby(["mineral", "series", "year", "source"])["value"].sum()
    assert ((sums - 1).abs() < 0.0005).all()
    assert {"iea-cmd-2025", "iea-gcmo-2024", "usgs-mcs2026", "stratas-2023"} == set(
        shares["source"]
    )


def test_at_most_one_headline_series_per_mineral_stage_measure_source(dataset):
    heads = dataset.supply[dataset.supply["headline"]]
    per = heads.groupby(["mineral", "stage", "measure", "source", "year"])["series"].nunique()
    assert (per == 1).all()


def test_lists_have_the_expected_ids_and_jp_rare_metals_has_31(dataset):
    ids = set(dataset.lists["list_id"])
    assert {"jp-rare-metals", "uk-2024", "uk-2021", "eu-crma-critical", "eu-crma-strategic",
            "us-2022", "us-2025", "au-2024", "au-strategic-2023", "jp-jogmec-stockpile",
            "jp-espa-2022"} <= ids  # fmt: skip
    members = dataset.list_members
    assert members[members["list_id"] == "jp-rare-metals"]["mineral"].nunique() == 31
    uk = dataset.lists.set_index("list_id").loc["uk-2024"]
    assert not uk["complete"] and "Incomplete" in uk["note"]
    assert set(members[members["list_id"] == "uk-2024"]["status"]) == {"confirmed", "unconfirmed"}
    assert set(members["mineral"]) <= set(dataset.minerals)


def test_governance_has_a_latest_year_per_country(dataset):
    latest = dataset.governance.groupby("iso3")["year"].max()
    assert latest.loc["CHN"] == 2023
    assert "COD" in latest.index and "ZAR" not in latest.index


def test_minerals_are_found_by_slug_name_or_alias_case_insensitively(dataset):
    assert dataset.mineral("REE").slug == "rare-earths"
    assert dataset.mineral("aluminum").slug == "aluminium"
    assert dataset.mineral("Rare-earth elements").slug == "rare-earths"


def test_an_unknown_mineral_suggests_close_matches(dataset):
    with pytest.raises(NotFoundError) as info:
        dataset.mineral("cobalx")
    assert "unknown mineral 'cobalx'" in str(info.value)
    assert "did you mean: cobalt" in (info.value.hint or "")


def test_missing_reason_explains_absent_stages(dataset):
    assert dataset.missing_reason("cobalt", "mining") is None
    assert dataset.missing_reason("lithium", "refining") is None
    reason = dataset.missing_reason("germanium", "mining")
    assert reason == "USGS MCS 2026 has no world production table for germanium"


@pytest.mark.parametrize(
    ("mineral", "stage", "expected"),
    [
        ("platinum-group-metals", "mining",
         "USGS MCS 2026 gives reserves but no world production table for platinum-group metals; "
         "USGS gives mine production per metal (see platinum, palladium)"),
        ("cesium", "mining",
         "USGS MCS 2026 gives reserves but no world production table for cesium"),
        ("aluminium", "mining",
         "USGS MCS 2026 has no world mine production table for aluminium; its supply figures are "
         "at the refining stage (Smelter production); aluminium is smelted from alumina, which is "
         "refined from bauxite, the mined ore (see bauxite)"),
        ("alumina", "mining",
         "USGS MCS 2026 has no world mine production table for alumina; its supply figures are "
         "at the refining stage (Alumina, refinery production); alumina is refined from bauxite, "
         "the mined ore (see bauxite)"),
        ("bauxite", "refining",
         "USGS MCS 2026 has no world refinery or smelter production table for bauxite, and the "
         "compiled refining shares do not cover it; its supply figures are at the mining stage "
         "(Bauxite, mine production); bauxite is refined into alumina, which is smelted into "
         "aluminium (see alumina, aluminium)"),
        ("gallium", "mining",
         "USGS MCS 2026 has no world mine production table for gallium; its supply figures are "
         "at the refining stage (Primary production)"),
        ("gold", "refining",
         "USGS MCS 2026 has no world refinery or smelter production table for gold, and the "
         "compiled refining shares do not cover it; its supply figures are at the mining stage "
         "(Mine production)"),
        ("neodymium", "mining",
         "USGS MCS 2026 has no world production table for neodymium; rare earths are reported as "
         "a group (see rare-earths)"),
        ("uranium", "mining",
         "USGS MCS 2026 has no world production table for uranium; the Mineral Commodity "
         "Summaries cover nonfuel minerals only"),
    ],
)  # fmt: skip
def test_missing_reasons_say_what_the_sources_have_and_where_to_look(
    dataset, mineral, stage, expected
):
    assert dataset.missing_reason(mineral, stage) == expected


def test_reserves_and_capacity_do_not_count_as_supply_data(dataset):
    supply = dataset.supply
    pgm = supply[supply["mineral"] == "platinum-group-metals"]
    assert set(pgm["measure"]) == {"reserves"}
    assert dataset.missing_reason("platinum-group-metals", "mining") is not None


def test_every_mineral_and_stage_without_supply_figures_has_a_specific_reason(dataset):
    supply = dataset.supply
    for slug, mineral in dataset.minerals.items():
        for stage in ("mining", "refining"):
            reason = dataset.missing_reason(slug, stage)
            if reason is None:
                continue
            assert "\n" not in reason
            if mineral.group == "category":
                assert "product category" in reason
                continue
            assert reason.startswith("USGS MCS 2026 ")
            has_reserves = bool(
                ((supply["mineral"] == slug) & (supply["measure"] == "reserves")).any()
            )
            assert ("gives reserves" in reason) == (has_reserves and stage == "mining"), slug


def test_every_pointer_leads_to_a_mineral_with_data(dataset):
    with_data = set(dataset.supply["mineral"])
    for (slug, stage), pointer in dataset.supply_pointers.items():
        assert dataset.missing_reason(slug, stage) is not None, (slug, stage)
        for target in pointer.see:
            assert target in with_data, f"{slug} points to {target}, which has no data either"


def test_country_name_and_groups(dataset):
    assert dataset.country_name("PRK") == "North Korea"
    assert "CHN" in dataset.groups["concern"].members

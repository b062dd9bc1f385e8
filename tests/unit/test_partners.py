"""Partner scouting: a ranking recomputed by hand from the shipped tables, missing data said
out loud, and the weights file's checks."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from kizuna.data.bundle import Dataset, load_dataset
from kizuna.errors import InputError, NotFoundError
from kizuna.model import CountryGroup
from kizuna.partners import FACTOR_NAMES, default_weights, load_weights, resolve_weights, scout


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return load_dataset()


def _rows(ds: Dataset, **where: object) -> pd.DataFrame:
    supply = ds.supply
    mask = ~supply["is_aggregate"]
    for column, value in where.items():
        mask &= supply[column] == value
    return supply[mask]


def _wgi(ds: Dataset, iso3: str) -> float:
    """Scaled WGI as docs/concentration.md states it: clip((2.5 - mean) * 2, 0, 10)."""
    gov = ds.governance
    latest = gov[gov["year"] == gov["year"].max()]
    row = latest[latest["iso3"] == iso3].iloc[0]
    values = [float(row[k]) for k in ("va", "pv", "ge", "rq", "rl", "cc") if not pd.isna(row[k])]
    return min(10.0, max(0.0, (2.5 - sum(values) / len(values)) * 2))


def _size(value: float, largest: float) -> float:
    """docs/partners.md: 1 + log10(value / largest) / 3, floored at 0; 0 for nothing."""
    return 0.0 if value <= 0 else max(0.0, 1 + math.log10(value / largest) / 3)


def test_cobalt_refining_matches_a_recomputation_from_the_tables(ds: Dataset) -> None:
    """Every score of the cobalt refining ranking, recomputed from the raw CSV rows with the
    formula of docs/partners.md (and not the library's selection code)."""
    refined = _rows(ds, mineral="cobalt", stage="refining", measure="share", year=2024)
    refined = dict(zip(refined["area"], refined["value"].astype(float), strict=True))
    mined = _rows(ds, mineral="cobalt", stage="mining", measure="production", year=2025)
    mined = dict(zip(mined["area"], mined["value"].astype(float), strict=True))
    world = ds.supply[(ds.supply["mineral"] == "cobalt") & (ds.supply["area"] == "WORLD")
                      & (ds.supply["measure"] == "production") & (ds.supply["year"] == 2025)]
    world_mined = float(world["value"].iat[0])
    reserves = _rows(ds, mineral="cobalt", measure="reserves")
    reserves = dict(zip(reserves["area"], reserves["value"].astype(float), strict=True))
    members = {iso: sum(iso in ds.groups[g].members for g in ("g7", "quad", "msp", "eu27"))
               for iso in {*refined, *mined, *reserves}}
    weights = default_weights("refining")
    gaps = {iso: mined.get(iso, 0) / world_mined - refined.get(iso, 0) for iso in members}
    expected = {}
    for iso, groups in members.items():
        if iso not in reserves or iso not in mined:
            rp = 0.0  # no figure: scores 0
        elif mined[iso] == 0:
            rp = math.inf if reserves[iso] > 0 else 0.0  # reserves, no production: unbounded
        else:
            rp = reserves[iso] / mined[iso]
        parts = {
            "reserves": _size(reserves.get(iso, 0), max(reserves.values())),
            "production": _size(refined.get(iso, 0), max(refined.values())),
            "growth": 0.0,  # the IEA shares hold one year
            "rp_years": min(rp / 100, 1.0),
            "governance": 1 - _wgi(ds, iso) / 10,
            "alignment": groups / 4,
            "refining_gap": _size(max(gaps[iso], 0), max(gaps.values())),
        }
        expected[iso] = sum(100 * weights[name] * parts[name] for name in FACTOR_NAMES)
    result = scout(ds, "cobalt", stage="refining")
    got = {c.iso3: c.score for c in result.candidates}
    assert set(got) == set(expected)
    for iso, score in expected.items():
        assert got[iso] == pytest.approx(score, abs=1e-9), iso
    assert [c.iso3 for c in result.candidates] == sorted(expected, key=lambda i: -expected[i])


def test_finland_refining_cobalt_by_hand(ds: Dataset) -> None:
    """Reference worked out on paper from the shipped figures (docs/partners.md example):
    production 0.0804 of world refining vs China's 0.7841 -> 1 + log10(0.10254)/3 = 0.6703,
    x 25 = 16.76 points; WGI 1.653 -> 0.8347 x 20 = 16.69; MSP and EU-27 of four groups
    -> 0.5 x 15 = 7.5; not named in the reserves or mine tables: 0 on the rest."""
    finland = next(c for c in scout(ds, "cobalt", stage="refining").candidates
                   if c.iso3 == "FIN")
    points = {name: value.contribution for name, value in finland.factors.items()}
    assert points["production"] == pytest.approx(16.757, abs=1e-3)
    assert points["governance"] == pytest.approx(16.69, abs=0.01)
    assert points["alignment"] == pytest.approx(7.5)
    assert finland.score == pytest.approx(40.95, abs=0.01)
    assert finland.factors["reserves"].raw.status == "zero"
    assert "Other countries" in (finland.factors["reserves"].raw.note or "")


def test_every_factor_carries_raw_normalised_weight_points_and_sources(ds: Dataset) -> None:
    result = scout(ds, "lithium", stage="mining")
    rows = result.to_json()
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    for row in rows:
        assert set(row["factors"]) == set(FACTOR_NAMES)
        assert row["score"] == pytest.approx(sum(f["contribution"] for f in row["factors"]
                                                 .values()))
        for value in row["factors"].values():
            assert {"raw", "unit", "year", "status", "normalised", "weight", "contribution",
                    "note", "sources"} <= set(value)
            assert 0 <= value["normalised"] <= 1
            if value["status"] == "data":
                assert value["sources"], value
    australia = next(r for r in rows if r["iso3"] == "AUS")
    production = australia["factors"]["production"]
    assert production["sources"][0]["source"] == "usgs-mcs2026"
    assert "Mine production" in production["sources"][0]["citation"]


def test_missing_data_is_named_never_silently_zero(ds: Dataset) -> None:
    chromium = scout(ds, "chromium")
    assert any("not on one basis" in note for note in chromium.notes)
    assert all(c.factors["rp_years"].raw.status == "missing" for c in chromium.candidates)
    nickel = {c.iso3: c for c in scout(ds, "nickel").candidates}
    governance = nickel["NCL"].factors["governance"]
    assert governance.raw.status == "default" and governance.raw.value == 5.0
    assert "not covered by the WGI" in (governance.raw.note or "")
    cobalt = {c.iso3: c for c in scout(ds, "cobalt", stage="refining").candidates}
    assert "growth" in cobalt["CHN"].missing
    gap = cobalt["COD"].factors["refining_gap"].raw
    assert gap.status == "zero" and "Rest of world" in (gap.note or "")


def test_a_mineral_without_country_figures_is_an_error_with_the_reason(ds: Dataset) -> None:
    with pytest.raises(NotFoundError, match="germanium") as caught:
        scout(ds, "germanium", stage="mining")
    assert "no world production table" in str(caught.value)


def test_exclusions_take_groups_codes_and_names(ds: Dataset) -> None:
    result = scout(ds, "cobalt", exclude=["concern", "cod", "Cuba"])
    codes = {c.iso3 for c in result.candidates}
    assert not codes & {"CHN", "RUS", "COD", "CUB"}
    assert set(result.removed) == {"CHN", "RUS", "COD", "CUB"}
    assert {c.iso3 for c in scout(ds, "cobalt", exclude=["CONCERN,MSP"]).candidates}.isdisjoint(
        {"CHN", "RUS", "AUS", "CAN", "USA"})
    mine = {**ds.groups, "can": CountryGroup("can", "Cans", frozenset({"AUS"}), "", "")}
    assert scout(ds, "cobalt", exclude=["CAN"], groups=mine).removed == ("CAN",)  # Canada
    assert scout(ds, "cobalt", exclude=["can"], groups=mine).removed == ("AUS",)  # the group
    with pytest.raises(InputError, match="neither a country group nor a country"):
        scout(ds, "cobalt", exclude=["atlantis"])
    with pytest.raises(InputError, match="aggregate"):
        scout(ds, "cobalt", exclude=["WORLD"])


def test_partner_groups_decide_alignment(ds: Dataset) -> None:
    only_quad = {c.iso3: c for c in scout(ds, "cobalt", partners=["quad"]).candidates}
    assert only_quad["AUS"].factors["alignment"].normalised == 1.0
    assert only_quad["CAN"].factors["alignment"].normalised == 0.0
    with pytest.raises(NotFoundError, match="unknown country group 'nato'"):
        scout(ds, "cobalt", partners=["nato"])


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_weights_files_in_yaml_and_toml_override_the_defaults(tmp_path: Path) -> None:
    yaml_file = _write(tmp_path, "w.yaml", "governance: 0.4\nrefining_gap: 0\n")
    toml_file = _write(tmp_path, "w.toml", "[weights]\ngovernance = 0.4\nrefining_gap = 0\n")
    from_yaml, from_toml = load_weights(yaml_file, "mining"), load_weights(toml_file, "mining")
    assert from_yaml.values == from_toml.values
    assert math.fsum(from_yaml.values.values()) == pytest.approx(1.0)
    assert from_yaml.values["refining_gap"] == 0.0
    share = 0.4 / (1 - 0.20 - 0.05 + 0.4)  # governance replaced, the gap dropped
    assert from_yaml.values["governance"] == pytest.approx(share)
    assert str(yaml_file) in from_yaml.describe()


@pytest.mark.parametrize(("name", "text", "field", "words"), [
    ("w.yaml", "governence: 0.3\n", "governence", "unknown factor 'governence'"),
    ("w.yaml", "governance: -0.1\n", "governance", "finite numbers >= 0"),
    ("w.yaml", "governance: high\n", "governance", "not a number"),
    ("w.yaml", "governance: true\n", "governance", "not a number"),
    ("w.yaml", "governance: .nan\n", "governance", "finite numbers >= 0"),
    ("w.toml", "governance = '0.3'\n", "governance", "not a number"),
    ("w.yaml", "- governance\n", "weights", "expected a mapping"),
    ("w.yaml", "", "weights", "is empty"),
    ("w.yaml", "governance: [1\n", "weights", "not valid YAML"),
    ("w.toml", "governance = \n", "weights", "not valid TOML"),
    ("w.json", "{}", "weights", "YAML (.yaml, .yml) or TOML"),
])  # fmt: skip
def test_a_bad_weights_file_names_the_file_and_the_field(
    tmp_path: Path, name: str, text: str, field: str, words: str
) -> None:
    path = _write(tmp_path, name, text)
    with pytest.raises(InputError) as caught:
        load_weights(path, "mining")
    assert caught.value.fields["field"] == field
    assert caught.value.fields["file"] == str(path)
    assert words in str(caught.value) and str(path) in str(caught.value)


def test_all_zero_weights_are_refused(tmp_path: Path) -> None:
    text = "".join(f"{name}: 0\n" for name in FACTOR_NAMES)
    with pytest.raises(InputError, match="every weight is 0"):
        load_weights(_write(tmp_path, "w.yaml", text), "refining")


def test_default_weights_sum_to_one_at_each_stage() -> None:
    for stage in ("mining", "refining"):
        assert math.fsum(default_weights(stage).values()) == pytest.approx(1.0)
        assert resolve_weights(stage).values == pytest.approx(default_weights(stage))


def test_docs_show_the_factor_table_the_code_declares() -> None:
    from kizuna.partners.factors import factors_markdown

    doc = Path(__file__).resolve().parents[2] / "docs" / "partners.md"
    assert factors_markdown() in doc.read_text(encoding="utf-8"), (
        "docs/partners.md is out of date: paste kizuna.partners.factors.factors_markdown()")

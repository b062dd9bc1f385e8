"""Product templates: figures against their sources, parameters, errors and the YAML format."""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.data.bundle import Dataset, load_dataset
from kizuna.errors import InputError
from kizuna.products import (
    TEMPLATE_IDS,
    Product,
    describe_templates,
    load_product,
    load_template,
    load_template_file,
    template_ids,
)
from kizuna.products.model import Formula
from kizuna.products.units import LCE_PER_LI

BATPAC_NMC811 = {  # kg per kWh of pack energy, minerals.md section 5.1
    "lithium": 0.092, "nickel": 0.608, "cobalt": 0.076, "manganese": 0.071,
    "graphite": 0.854, "copper": 0.364, "aluminium": 0.595,
}
BATPAC_LFP = {
    "lithium": 0.089, "graphite": 0.955, "copper": 0.566, "aluminium": 0.797,
    "iron-ore": 0.72, "phosphorus": 0.40,
}
UNITS = {
    "nmc811": "1 kWh of pack energy", "lfp": "1 kWh of pack energy", "ndfeb-motor": "one motor",
    "wind-dd": "1 MW", "jet-engine": "one engine", "fighter-ree": "one aircraft",
}
REE = ("neodymium", "praseodymium", "dysprosium", "terbium", "samarium")


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return load_dataset()


def kg(product: Product, mineral: str, component: str | None = None) -> float:
    return math.fsum(line.kg for line in product.lines if line.mineral == mineral
                     and (component is None or line.component == component))


def ree_total(product: Product) -> float:
    return math.fsum(product.demand_kg().get(mineral, 0.0) for mineral in REE)


# --- every template ----------------------------------------------------------------------------


def test_template_ids_are_exactly_the_shipped_yaml_files() -> None:
    folder = resources.files("kizuna.products").joinpath("templates")
    shipped = {entry.name.removesuffix(".yaml") for entry in folder.iterdir()
               if entry.name.endswith(".yaml")}
    assert shipped == set(TEMPLATE_IDS)
    assert template_ids() == list(TEMPLATE_IDS)
    assert {"nmc811", "lfp", "ndfeb-motor", "wind-dd", "jet-engine", "fighter-ree"} <= shipped


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
def test_each_template_loads_with_canonical_slugs_and_cited_lines(
    template_id: str, dataset: Dataset
) -> None:
    product = load_template(template_id)
    assert product.id == template_id
    assert product.unit == UNITS[template_id]
    assert product.volume == 1.0
    assert product.lines
    for line in product.lines:
        assert line.mineral in dataset.minerals, line.mineral
        assert dataset.mineral(line.mineral).slug == line.mineral
        assert line.kg > 0
        assert line.citation
        rest = line.citation
        for source in product.sources:
            rest = rest.replace(source, "")
        assert rest.replace(";", "").strip() == "", f"uncited part of {line.citation!r}"
    assert product.assumptions[0].startswith("Parameters: ")
    assert len({(line.component, line.mineral) for line in product.lines}) == len(product.lines)


def test_describe_templates_lists_every_parameter_with_default_and_allowed_values() -> None:
    listing = describe_templates()
    assert [entry["id"] for entry in listing] == list(TEMPLATE_IDS)
    for entry in listing:
        assert entry["name"] and entry["unit"] and entry["sources"]
        for parameter in entry["parameters"]:
            assert parameter["description"] and parameter["allowed"]
            assert parameter["default"] is not None
            assert parameter["sources"], f"{entry['id']} {parameter['name']} has no source"
    motor = next(entry for entry in listing if entry["id"] == "ndfeb-motor")
    magnet = next(p for p in motor["parameters"] if p["name"] == "magnet_kg")
    assert (magnet["default"], magnet["unit"]) == (1.5, "kg")
    fighter = next(entry for entry in listing if entry["id"] == "fighter-ree")
    source = next(p for p in fighter["parameters"] if p["name"] == "source")
    assert set(source["choices"]) == {"crs-2013", "adamas-2026"}


# --- batteries ---------------------------------------------------------------------------------


def test_nmc811_per_kwh_figures_equal_batpac() -> None:
    assert load_template("nmc811").demand_kg() == pytest.approx(BATPAC_NMC811, rel=1e-12)


def test_lfp_per_kwh_figures_equal_batpac_and_the_stoichiometric_fe_and_p() -> None:
    demand = load_template("lfp").demand_kg()
    assert demand == pytest.approx(BATPAC_LFP, rel=1e-12)
    assert "nickel" not in demand and "cobalt" not in demand
    # Fe and P follow LiFePO4 (1:1:1) from BatPaC's Li, within the 2-digit rounding.
    assert demand["iron-ore"] == pytest.approx(0.089 * 55.845 / 6.941, rel=0.01)
    assert demand["phosphorus"] == pytest.approx(0.089 * 30.974 / 6.941, rel=0.01)


def test_a_75_kwh_nmc811_pack_matches_the_worked_example() -> None:
    pack = {mineral: 75 * value for mineral, value in load_template("nmc811").demand_kg().items()}
    assert pack["cobalt"] == pytest.approx(5.7, abs=0.01)
    assert pack["lithium"] == pytest.approx(6.9, abs=0.01)
    assert pack["nickel"] == pytest.approx(45.6, abs=0.01)
    assert pack["manganese"] == pytest.approx(5.3, abs=0.05)
    assert pack["graphite"] == pytest.approx(64, abs=0.1)


def test_a_60_kwh_lfp_pack_matches_the_worked_example() -> None:
    pack = {mineral: 60 * value for mineral, value in load_template("lfp").demand_kg().items()}
    assert pack["lithium"] == pytest.approx(5.3, abs=0.05)
    assert pack["graphite"] == pytest.approx(57, abs=0.5)
    assert pack["iron-ore"] == pytest.approx(43, abs=0.5)
    assert pack["phosphorus"] == pytest.approx(24, abs=0.5)


@pytest.mark.parametrize("template_id", ["nmc811", "lfp"])
def test_graphite_is_split_into_natural_and_synthetic_components(template_id: str) -> None:
    total = load_template(template_id).demand_kg()["graphite"]
    product = load_template(template_id, {"natural_graphite_share": 0.8})
    natural = kg(product, "graphite", "anode (natural graphite)")
    synthetic = kg(product, "graphite", "anode (synthetic graphite)")
    assert natural == pytest.approx(0.8 * total)
    assert synthetic == pytest.approx(0.2 * total)
    note = next(line.note for line in product.lines if "synthetic graphite" in line.component)
    assert "synthetic" in note and "no mining stage" in note
    only_natural = load_template(template_id, {"natural_graphite_share": 1})
    assert not [line for line in only_natural.lines if "synthetic" in line.component]
    assert any("left out" in sentence for sentence in only_natural.assumptions)


def test_cathode_scrap_raises_cathode_minerals_only() -> None:
    plain = load_template("nmc811").demand_kg()
    scrap = load_template("nmc811", {"scrap": "0.04"}).demand_kg()
    for mineral in ("lithium", "nickel", "cobalt", "manganese"):
        assert scrap[mineral] == pytest.approx(plain[mineral] * 1.04)
    for mineral in ("graphite", "copper", "aluminium"):
        assert scrap[mineral] == pytest.approx(plain[mineral])


def test_battery_assumptions_give_lithium_as_lce_and_the_graphite_split() -> None:
    text = " ".join(load_template("nmc811").assumptions)
    assert str(LCE_PER_LI) in text
    assert f"{0.092 * LCE_PER_LI:.3f} kg LCE" in text
    assert "natural_graphite_share = 0.5 (default)" in text
    assert "IDTechEx" in text


# --- magnets -----------------------------------------------------------------------------------


def test_motor_defaults_match_the_research_notes() -> None:
    demand = load_template("ndfeb-motor").demand_kg()
    assert demand["neodymium"] == pytest.approx(0.32, abs=0.01)
    assert demand["praseodymium"] == pytest.approx(0.10, abs=0.01)
    assert demand["dysprosium"] == pytest.approx(0.015)
    assert "terbium" not in demand
    assert demand["neodymium"] / demand["praseodymium"] == pytest.approx(3)


def test_doubling_the_magnet_mass_doubles_every_magnet_element() -> None:
    base = load_template("ndfeb-motor").demand_kg()
    double = load_template("ndfeb-motor", {"magnet_kg": 3.0}).demand_kg()
    assert double["neodymium"] == pytest.approx(2 * base["neodymium"])
    assert double == pytest.approx({mineral: 2 * value for mineral, value in base.items()})


def test_wind_direct_drive_defaults_match_the_research_notes() -> None:
    demand = load_template("wind-dd").demand_kg()
    assert 165 <= demand["neodymium"] + demand["praseodymium"] <= 170
    assert demand["neodymium"] == pytest.approx(125, rel=0.02)
    assert demand["dysprosium"] == pytest.approx(26)
    assert ree_total(load_template("wind-dd")) == pytest.approx(195)


def test_terbium_is_taken_out_of_neodymium_and_praseodymium() -> None:
    base = load_template("wind-dd")
    with_tb = load_template("wind-dd", {"tb_share": 0.005})
    assert kg(with_tb, "terbium") == pytest.approx(650 * 0.005)
    assert ree_total(with_tb) == pytest.approx(ree_total(base))
    assert kg(with_tb, "neodymium") < kg(base, "neodymium")


@settings(max_examples=60, deadline=None)
@given(
    magnet=st.floats(min_value=0.1, max_value=50),
    re_share=st.floats(min_value=0.2, max_value=0.4),
    dy=st.floats(min_value=0, max_value=0.1),
    tb=st.floats(min_value=0, max_value=0.02),
)
def test_motor_rare_earths_always_add_up_to_magnet_mass_times_re_share(
    magnet: float, re_share: float, dy: float, tb: float
) -> None:
    params = {"magnet_kg": magnet, "re_share": re_share, "dy_share": dy, "tb_share": tb}
    product = load_template("ndfeb-motor", params)
    assert all(line.kg > 0 for line in product.lines)
    assert ree_total(product) == pytest.approx(magnet * re_share, rel=1e-9, abs=1e-12)
    assert math.fsum(product.demand_kg().values()) == pytest.approx(magnet, rel=1e-9)


# --- defence -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("alloy", "rhenium"), [("cmsx-4", 0.03), ("cmsx-10", 0.06),
                                                ("dd6", 0.02)])
def test_jet_engine_alloy_mixes_sum_to_the_superalloy_mass(alloy: str, rhenium: float) -> None:
    product = load_template("jet-engine", {"alloy": alloy, "superalloy_kg": 250})
    demand = product.demand_kg()
    assert math.fsum(demand.values()) == pytest.approx(250)
    assert demand["rhenium"] == pytest.approx(250 * rhenium)
    assert any("illustrative" in sentence for sentence in product.assumptions)


def test_jet_engine_cmsx4_is_the_published_nominal_composition() -> None:
    demand = load_template("jet-engine").demand_kg()  # 100 kg, CMSX-4
    assert demand == pytest.approx({
        "nickel": 60.8, "cobalt": 9.6, "chromium": 6.4, "tungsten": 6.4, "tantalum": 6.5,
        "rhenium": 3.0, "aluminium": 5.6, "titanium": 1.0, "molybdenum": 0.6, "hafnium": 0.1,
    })


def test_fighter_source_selector_gives_different_totals() -> None:
    adamas = load_template("fighter-ree")
    crs = load_template("fighter-ree", {"source": "crs-2013"})
    assert 11 <= ree_total(adamas) <= 20  # Adamas: 11-20 kg of elemental REE
    assert kg(adamas, "samarium") + kg(adamas, "cobalt") == pytest.approx(23)  # ~23 kg SmCo
    assert kg(crs, "samarium") + kg(crs, "cobalt") == pytest.approx(417 * 23 / 37)
    assert ree_total(crs) == pytest.approx(ree_total(adamas) * 417 / 37)
    assert any("Congressional Research Service" in source for source in crs.sources)
    assert not any("Congressional" in source for source in adamas.sources)
    assert "source = crs-2013 (given)" in crs.assumptions[0]


# --- parameters and errors ---------------------------------------------------------------------


def test_an_unknown_template_id_names_the_known_ids() -> None:
    with pytest.raises(InputError) as caught:
        load_template("nmc812")
    assert "nmc811" in str(caught.value) and "fighter-ree" in str(caught.value)
    assert "did you mean nmc811" in str(caught.value)
    assert caught.value.fields["field"] == "template"


def test_an_unknown_parameter_names_the_known_parameters() -> None:
    with pytest.raises(InputError) as caught:
        load_template("ndfeb-motor", {"magnet_mass": 2})
    message = str(caught.value)
    assert "magnet_mass" in message and "magnet_kg" in message and "dy_share" in message
    assert caught.value.fields["parameter"] == "magnet_mass"


@pytest.mark.parametrize(("params", "expected"), [
    ({"magnet_kg": -1}, "magnet_kg' must be a number from 0 to 50, got -1"),
    ({"magnet_kg": "heavy"}, "magnet_kg' must be a number from 0 to 50, got 'heavy'"),
    ({"magnet_kg": "nan"}, "magnet_kg' must be a number from 0 to 50"),
    ({"dy_share": 0.5}, "dy_share' must be a number from 0 to 0.1"),
])
def test_an_invalid_parameter_value_names_the_parameter_and_range(
    params: dict[str, object], expected: str
) -> None:
    with pytest.raises(InputError, match="parameter") as caught:
        load_template("ndfeb-motor", params)  # type: ignore[arg-type]
    assert expected in str(caught.value)
    assert caught.value.fields["parameter"] == next(iter(params))


def test_an_invalid_choice_lists_the_choices() -> None:
    with pytest.raises(InputError) as caught:
        load_template("jet-engine", {"alloy": "inconel-718"})
    assert "one of: cmsx-4, cmsx-10, dd6" in str(caught.value)
    assert load_template("jet-engine", {"alloy": " DD6 "}).demand_kg()["rhenium"] == 2.0


def test_parameters_that_break_a_check_are_an_error(tmp_path: Path, dataset: Dataset) -> None:
    path = tmp_path / "magnet.yaml"
    path.write_text(
        "name: magnet\nunit: one magnet\n"
        "parameters: [{name: re, default: 0.3, min: 0, max: 1, description: RE share},\n"
        "             {name: dy, default: 0.04, min: 0, max: 1, description: Dy share}]\n"
        "checks: [{expr: re - dy, min: 0, message: dy must not exceed re}]\n"
        "lines: [{component: magnet, mineral: dysprosium, kg: dy}]\n", encoding="utf-8")
    assert load_template_file(path, dataset=dataset).demand_kg() == {"dysprosium": 0.04}
    with pytest.raises(InputError, match=r"dy must not exceed re \(got dy=0.5, re=0.3\)"):
        load_template_file(path, {"dy": 0.5}, dataset=dataset)


@pytest.mark.parametrize("text", ["__import__('os')", "a ** 2", "f(a)", "a.b", "'x'", "True",
                                  "a if a else a", "[a]"])
def test_expressions_allow_only_arithmetic(text: str) -> None:
    with pytest.raises(ValueError, match=r"allowed|not a number|cannot parse"):
        Formula.parse(text)


def test_expressions_evaluate_arithmetic_over_names() -> None:
    formula = Formula.parse("a * (1 - b) / 2 + -c")
    assert formula.names == {"a", "b", "c"}
    assert formula({"a": 4.0, "b": 0.25, "c": 1.0}) == 0.5
    assert math.isnan(Formula.parse("1 / a")({"a": 0.0}))


# --- user files in the template format ---------------------------------------------------------

USER_TEMPLATE = """\
name: My drone motor
unit: one motor
parameters:
  - {name: magnet_kg, default: 0.2, min: 0, max: 5, description: magnet mass}
lines:
  - {component: rotor, mineral: Neodymium, kg: magnet_kg * 0.22, sourcing: {refining: {China: 1}}}
  - {component: frame, mineral: Aluminum, kg: 0.5, owners: {refining: USA}}
"""


def test_a_user_yaml_template_resolves_aliases_and_sourcing(tmp_path: Path,
                                                             dataset: Dataset) -> None:
    path = tmp_path / "drone.yaml"
    path.write_text(USER_TEMPLATE, encoding="utf-8")
    product = load_template_file(path, {"magnet_kg": 1}, dataset=dataset)
    assert product.id == "drone"
    assert product.demand_kg() == pytest.approx({"neodymium": 0.22, "aluminium": 0.5})
    rotor = product.lines[0]
    assert rotor.sourcing == {"refining": {"CHN": 1.0}}
    assert rotor.citation == "user file drone.yaml"
    assert product.lines[1].owners == {"refining": "USA"}
    assert load_product(str(path), dataset=dataset).demand_kg()["neodymium"] == pytest.approx(
        0.044)


@pytest.mark.parametrize(("change", "expected"), [
    (("Aluminum", "Unobtainium"), "drone.yaml: lines[1]: unknown mineral 'Unobtainium'"),
    (("kg: 0.5", "kg: 0.5 ** 2"), "drone.yaml: lines[1] kg: '0.5 ** 2': only"),
    (("kg: 0.5", "kg: 0.5 * rotor_kg"), "unknown name 'rotor_kg'"),
    (("unit: one motor", "unit: one motor\ncolour: red"), "unknown key 'colour'"),
    (("China", "Atlantis"), "unknown country 'Atlantis'"),
])
def test_a_bad_user_yaml_template_names_the_file_and_place(
    tmp_path: Path, dataset: Dataset, change: tuple[str, str], expected: str
) -> None:
    path = tmp_path / "drone.yaml"
    path.write_text(USER_TEMPLATE.replace(*change), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_template_file(path, dataset=dataset)
    assert expected in str(caught.value)


def test_load_product_takes_a_template_id_with_parameters() -> None:
    product = load_product("ndfeb-motor", {"magnet_kg": "3"})
    assert product.demand_kg()["dysprosium"] == pytest.approx(0.03)
    with pytest.raises(InputError, match=r"--sheet applies to \.xlsx files"):
        load_product("nmc811", sheet="Sheet1")

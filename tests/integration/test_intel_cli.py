"""``kizuna intel`` and ``kizuna assets`` as a user runs them, on a SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from clitools import kizuna
from inteltools import kev_catalog, kev_entry
from kizuna.data.bundle import load_dataset
from kizuna.intel.demo import ASSETS, demo_path
from kizuna.scenarios import parse_scenario_text, run_scenario


def test_the_demo_seeds_partners_and_loads_synthetic_data_once(demo, capsys) -> None:
    assert demo["org"] == "tokyo-cert" and set(demo["keys"]) == {"tokyo-cert", "london-ncsc"}
    assert demo["bundle"]["failed"] == 0 and demo["bundle"]["new_objects"] > 40
    assert demo["register"]["assets"] == 6
    code, out, _ = kizuna(capsys, "intel", "demo", "--json")  # again, with the key: no change
    assert code == 0
    again = json.loads(out)
    assert (again["bundle"]["new_objects"], again["keys"]) == (0, {})
    assert again["register"]["unchanged"] == 6


def test_a_command_without_a_key_says_how_to_get_one(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("KIZUNA_API_KEY", raising=False)
    code, out, err = kizuna(capsys, "intel", "groups")
    assert code == 2 and out == ""
    assert err.startswith("error: this command acts as an organisation of the hub")
    assert "KIZUNA_API_KEY" in err and err.count("\n") == 1


def test_org_must_be_the_keys_and_a_key_file_works(demo, tmp_path, capsys, monkeypatch):
    code, _, err = kizuna(capsys, "assets", "list", "--org", "london-ncsc")
    assert code == 2 and "--org london-ncsc but the API key is tokyo-cert's" in err
    key = tmp_path / "key.txt"
    key.write_text(demo["keys"]["london-ncsc"] + "\n", encoding="utf-8")
    monkeypatch.delenv("KIZUNA_API_KEY")
    code, out, _ = kizuna(capsys, "assets", "list", "--key-file", str(key), "--json")
    assert code == 0 and json.loads(out)["assets"] == []  # tokyo's register is not london's


def test_import_kev_twice_stores_nothing_the_second_time(demo, tmp_path, capsys) -> None:
    path = tmp_path / "kev.json"
    path.write_text(json.dumps(kev_catalog(kev_entry("CVE-2024-0001", "Siemens", "SIMATIC CP"),
                                           kev_entry("CVE-2024-0002", "Git", "Git"))),
                    encoding="utf-8")
    code, out, _ = kizuna(capsys, "intel", "import", "kev", str(path), "--json")
    first = json.loads(out)
    assert code == 0 and first["counts"]["vulnerability"] == 2 and first["new_objects"] == 2
    code, out, _ = kizuna(capsys, "intel", "import", "kev", str(path), "--json")
    second = json.loads(out)
    assert (second["new_objects"], second["new_versions"], second["failed"]) == (0, 0, 0)
    code, out, err = kizuna(capsys, "intel", "import", "kev", str(tmp_path / "missing.json"))
    assert code == 1 and err.startswith("error: ") and "no such file" in err
    assert err.count("\n") == 1


def test_groups_lists_adversaries_with_the_source_of_each_claim(demo, capsys) -> None:
    code, out, _ = kizuna(capsys, "intel", "groups", "--sector", "mining", "--json")
    assert code == 0
    doc = json.loads(out)
    (row,) = doc["groups"]
    assert row["name"] == "Copper Lynx (synthetic)"
    sector = next(c for c in row["matched"] if c["kind"] == "target-sector")
    assert sector["source"]["origin"] == "meta.cfr-target-category"
    assert sector["source"]["publisher"].startswith("SYNTHETIC")
    code, out, _ = kizuna(capsys, "intel", "groups", "--sponsor", "Atlantis")
    assert code == 2


def test_a_partner_does_not_see_what_tlp_keeps_from_it(demo, capsys, monkeypatch) -> None:
    code, out, _ = kizuna(capsys, "intel", "groups", "--sector", "manufacturing", "--json")
    assert code == 0
    tokyo = {row["name"]: row["kind"] for row in json.loads(out)["groups"]}
    monkeypatch.setenv("KIZUNA_API_KEY", demo["keys"]["london-ncsc"])
    code, out, _ = kizuna(capsys, "intel", "groups", "--sector", "manufacturing", "--json")
    assert code == 0
    london = {row["name"]: row["kind"] for row in json.loads(out)["groups"]}
    # Quiet Kiln's intrusion set is TLP:AMBER+STRICT without recipients: tokyo produced it
    assert tokyo["Quiet Kiln (synthetic)"] == "intrusion-set"
    assert london["Quiet Kiln (synthetic)"] == "threat-actor"  # only the CLEAR galaxy actor


def test_a_bad_register_is_one_line_exit_1_and_nothing_is_stored(demo, tmp_path, capsys):
    text = demo_path(ASSETS).read_text(encoding="utf-8").replace(",FIN,", ",Atlantis,", 1)
    bad = tmp_path / "bad.csv"
    bad.write_text(text, encoding="utf-8")
    code, out, err = kizuna(capsys, "assets", "import", str(bad))
    assert (code, out) == (1, "")
    assert err.startswith("error: bad.csv row 2, column 'country': unknown country 'Atlantis'")
    assert err.count("\n") == 1
    missing = tmp_path / "missing-col.csv"
    missing.write_text("asset_id,name,kind,operator,country\nA,B,mine,,AUS\n", encoding="utf-8")
    code, _, err = kizuna(capsys, "assets", "import", str(missing))
    assert code == 1 and "missing-col.csv row 1, column 'sector': missing column" in err
    code, out, _ = kizuna(capsys, "assets", "list", "--json")
    assert len(json.loads(out)["assets"]) == 6  # the demo register is untouched


def test_exposure_and_to_scenario_end_in_a_runnable_scenario(demo, tmp_path, capsys) -> None:
    code, out, _ = kizuna(capsys, "assets", "exposure", "--json")
    assert code == 0
    doc = json.loads(out)
    refinery = next(a for a in doc["assets"] if a["asset"]["asset_id"] == "DEMO-REF-01")
    assert {k["cve"] for k in refinery["kev"]} == {"CVE-2099-0001", "CVE-2099-0002"}
    assert {k["version_label"] for k in refinery["kev"]} == {"version not assessed"}
    assert refinery["score"]["total"] == refinery["score"]["kev"] + refinery["score"][
        "adversaries"]
    out_file = tmp_path / "s.yaml"
    code, out, err = kizuna(capsys, "assets", "to-scenario", "--asset", "DEMO-REF-01-DCS",
                            "--probability", "0.2", "--duration", "21", "--out", str(out_file))
    assert code == 0, err
    text = out_file.read_text(encoding="utf-8")
    assert yaml.safe_load(text)["events"][0]["probability"] == 0.2
    dataset = load_dataset()
    result = run_scenario(dataset, parse_scenario_text(text, dataset=dataset), draws=1000,
                          seed=1)
    assert result.results_frame()["mean_shortfall"].iloc[0] > 0
    code, _, err = kizuna(capsys, "assets", "to-scenario", "--asset", "DEMO-PORT-01",
                          "--probability", "0.2", "--duration", "21")
    assert code == 1 and "DEMO-PORT-01 (port) has no mineral and stage" in err


def test_the_demo_register_file_is_labelled_synthetic() -> None:
    text = Path(demo_path(ASSETS)).read_text(encoding="utf-8")
    assert text.count("synthetic") >= 6 and "SYNTHETIC" in text

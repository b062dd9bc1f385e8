"""``kizuna scenario`` as a user runs it: JSON contract, one-line errors, reports, Dask."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
import yaml

from clitools import kizuna
from kizuna.data.bundle import load_dataset
from kizuna.exposure.mixes import world_mix
from kizuna.scenarios.loader import EXAMPLE_IDS

RESULT_KEYS = {"mineral", "stage", "mean_shortfall", "stderr", "p95", "p99", "prob_any"}


def test_run_json_follows_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = kizuna(capsys, "scenario", "run", "china-rare-earth-mining-ban",
                            "--draws", "200", "--seed", "3", "--json")
    assert code == 0, err
    assert err == ""  # no progress bar with --json
    doc = json.loads(out)
    assert {"scenario", "draws", "seed", "results", "products"} <= set(doc)
    assert (doc["scenario"], doc["draws"], doc["seed"]) == ("china-rare-earth-mining-ban",
                                                           200, 3)
    assert all(set(r) >= RESULT_KEYS for r in doc["results"])
    (mining,) = [r for r in doc["results"] if r["stage"] == "mining"]
    china = world_mix(load_dataset(), "rare-earths", "mining", 2025).shares["CHN"]
    assert mining["mean_shortfall"] == pytest.approx(china, abs=1e-6)
    assert {p["id"] for p in doc["products"]} >= {"nmc811", "ndfeb-motor"}
    assert all({"id", "mean_units_short", "stderr", "prob_any"} <= set(p)
               for p in doc["products"])


def test_products_with_volumes_scale_the_units_not_built(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = kizuna(capsys, "scenario", "run", "drc-cobalt-2025", "--draws", "100",
                            "--products", "nmc811:75000,jet-engine", "--json")
    assert code == 0, err
    products = {p["id"]: p for p in json.loads(out)["products"]}
    assert set(products) == {"nmc811", "jet-engine"}
    battery = products["nmc811"]
    assert battery["volume"] == 75000
    assert battery["mean_units_short"] == pytest.approx(75000 * battery["mean_share_short"])
    assert 0.3 < battery["mean_share_short"] < 0.9


def test_the_table_output_names_the_minerals_and_the_assumptions(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = kizuna(capsys, "scenario", "run", "cobalt-refinery-cyber-outage",
                            "--draws", "100")
    assert code == 0, err
    assert "cobalt" in out and "refining" in out and "pure supply cut" in out


BAD = {
    "unknown mineral": ("minerals: [cobalt]", "minerals: [unobtainium]",
                        "events[0].minerals[0]: unknown mineral 'unobtainium'"),
    "negative duration": ("duration_days: 21", "duration_days: -21",
                          "events[0].duration_days: -21 is outside"),
    "probability 1.5": ("probability: 1.0", "probability: 1.5",
                        "events[0].probability: 1.5 is outside the allowed range 0 to 1"),
    "typo in a key": ("duration_days: 21", "duraton_days: 21",
                      "events[0].duraton_days: unknown key 'duraton_days' (did you mean "
                      "'duration_days'?"),
}


@pytest.mark.parametrize(("old", "new", "message"), BAD.values(), ids=BAD.keys())
def test_bad_input_is_one_line_and_exit_1_before_anything_runs(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, old: str, new: str,
        message: str) -> None:
    code, text, _ = kizuna(capsys, "scenario", "show", "cobalt-refinery-cyber-outage")
    assert code == 0 and old in text
    path = tmp_path / "edited.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    report = tmp_path / "report.html"
    code, out, err = kizuna(capsys, "scenario", "run", str(path), "--report", str(report))
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: edited.yaml: ")
    assert message in err
    assert not report.exists()


def test_bad_arguments_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    for args, code_expected, words in (
        (["no-such-scenario"], 1, "unknown example scenario"),
        (["drc-cobalt-2025", "--products", "nmc811:lots"], 2, "not a number of units"),
        (["drc-cobalt-2025", "--products", "nmc812"], 1, "unknown product template"),
        (["drc-cobalt-2025", "--perspective", "Narnia"], 1, "--perspective 'Narnia'"),
        (["drc-cobalt-2025", "--workers", "2", "--scheduler", "tcp://x:1"], 2, "not both"),
    ):
        code, _, err = kizuna(capsys, "scenario", "run", *args)
        assert code == code_expected, err
        assert err.count("\n") == 1 and words in err


def test_list_and_show_cover_every_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kizuna(capsys, "scenario", "list", "--json")
    assert code == 0
    assert [e["id"] for e in json.loads(out)] == list(EXAMPLE_IDS)
    for example in EXAMPLE_IDS:
        code, text, _ = kizuna(capsys, "scenario", "show", example)
        assert code == 0 and yaml.safe_load(text)["id"] == example
    code, out, _ = kizuna(capsys, "scenario", "list")
    assert code == 0 and "drc-cobalt-2025" in out


def test_the_report_is_self_contained(capsys: pytest.CaptureFixture[str],
                                      tmp_path: Path) -> None:
    report = tmp_path / "r.html"
    code, _, err = kizuna(capsys, "scenario", "run", "china-rare-earth-controls-2025",
                          "--draws", "300", "--report", str(report), "--json")
    assert code == 0, err
    text = report.read_text(encoding="utf-8")
    assert "Plotly.newPlot('timeline'" in text and "Plotly.newPlot('distribution'" in text
    bundle = resources.files("plotly").joinpath("package_data", "plotly.min.js").read_text(
        "utf-8")
    assert bundle[:200] in text and "<script src=" not in text  # inlined, nothing fetched
    assert "dysprosium" in text and "Announcement No. 18" in text


def test_a_dask_cluster_gives_the_local_answer(capsys: pytest.CaptureFixture[str]) -> None:
    from distributed import LocalCluster  # the dask extra (make install-dev)

    args = ["scenario", "run", "china-graphite-anode-controls", "--draws", "25000",
            "--seed", "8", "--json"]
    code, local, err = kizuna(capsys, *args)
    assert code == 0, err
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        code, remote, err = kizuna(capsys, *args, "--scheduler", cluster.scheduler_address)
    assert code == 0, err
    local_doc, remote_doc = json.loads(local), json.loads(remote)
    assert remote_doc["run"]["scheduler"].startswith("dask ")
    assert local_doc["run"]["scheduler"] == "local"
    assert remote_doc["results"] == local_doc["results"]
    assert remote_doc["products"] == local_doc["products"]
    assert remote_doc["timeline"] == local_doc["timeline"]


def test_workers_start_a_local_cluster_of_processes_with_the_same_answer(
        capsys: pytest.CaptureFixture[str]) -> None:
    args = ["scenario", "run", "drc-cobalt-2025", "--draws", "12000", "--seed", "2", "--json"]
    code, local, err = kizuna(capsys, *args)
    assert code == 0, err
    code, remote, err = kizuna(capsys, *args, "--workers", "2")
    assert code == 0, err
    remote_doc = json.loads(remote)
    assert remote_doc["run"]["scheduler"] == "dask LocalCluster(2 workers)"
    assert remote_doc["results"] == json.loads(local)["results"]

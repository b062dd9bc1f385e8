"""``kizuna partners`` as a user runs it: the JSON contract, the table, and bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clitools import kizuna


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    code, out, err = kizuna(capsys, "partners", *args, "--json")
    assert (code, err) == (0, ""), err
    rows: list[dict[str, Any]] = json.loads(out)
    return rows


def test_json_is_a_list_best_first_with_every_factor(capsys: pytest.CaptureFixture[str]) -> None:
    rows = _json(capsys, "cobalt", "--stage", "refining")
    assert isinstance(rows, list) and len(rows) >= 10
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    assert {"iso3", "score", "factors"} <= set(rows[0])
    factors = rows[0]["factors"]
    assert set(factors) == {"reserves", "production", "growth", "rp_years", "governance",
                            "alignment", "refining_gap"}
    assert sum(f["weight"] for f in factors.values()) == pytest.approx(1.0)
    for row in rows:
        assert row["score"] == pytest.approx(sum(f["contribution"]
                                                 for f in row["factors"].values()))
    china = next(r for r in rows if r["iso3"] == "CHN")
    production = china["factors"]["production"]
    assert production["raw"] == pytest.approx(0.7841) and production["normalised"] == 1.0
    assert production["sources"][0]["source"] == "iea-cmd-2025"


def test_excluding_a_group_and_a_country_keeps_the_others_in_order(
    capsys: pytest.CaptureFixture[str],
) -> None:
    full = _json(capsys, "lithium", "--stage", "refining")
    fewer = _json(capsys, "lithium", "--stage", "refining", "--exclude", "concern",
                  "--exclude", "Chile")
    assert {"CHN", "RUS", "CHL"}.isdisjoint(r["iso3"] for r in fewer)
    kept = [(r["iso3"], r["score"]) for r in full if r["iso3"] not in {"CHN", "RUS", "CHL"}]
    assert [(r["iso3"], r["score"]) for r in fewer] == kept


def test_a_weights_file_reweights_the_ranking(capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    only_governance = tmp_path / "weights.toml"
    only_governance.write_text(
        "governance = 1\nreserves = 0\nproduction = 0\ngrowth = 0\nrp_years = 0\n"
        "alignment = 0\nrefining_gap = 0\n")
    rows = _json(capsys, "cobalt", "--weights", str(only_governance))
    wgi = [r["factors"]["governance"]["raw"] for r in rows]
    assert wgi == sorted(wgi)  # best governance (lowest WGI risk score) first
    assert all(r["factors"]["reserves"]["contribution"] == 0 for r in rows)


def test_the_table_shows_factors_weights_notes_and_a_breakdown(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = kizuna(capsys, "partners", "cobalt", "--stage", "refining",
                            "--country", "FIN")
    assert code == 0, err
    assert "Finland" in out and "FIN" in out and "gov" in out
    assert "weight 25.0%" in out  # production at the refining stage
    assert "holds one year only" in out  # growth: the IEA shares are one year
    assert "#4 Finland (FIN)" in out or "Finland (FIN): score" in out
    assert "iea-cmd-2025 2024" in out and "not named in usgs-mcs2026" in out


@pytest.mark.parametrize(("args", "code", "words"), [
    (["unobtainium"], 1, "unknown mineral 'unobtainium'"),
    (["cobalt", "--stage", "smelting"], 2, "'smelting' is not one of"),
    (["cobalt", "--exclude", "atlantis"], 1, "'atlantis' is neither a country group"),
    (["cobalt", "--exclude", "OTHER"], 1, "aggregate"),
    (["cobalt", "--partner", "nato"], 1, "unknown country group 'nato'"),
    (["germanium"], 1, "no world production table for germanium"),
    (["cobalt", "--country", "ATA"], 1, "not among the ranked countries"),
])  # fmt: skip
def test_bad_arguments_get_one_line_and_no_traceback(
    capsys: pytest.CaptureFixture[str], args: list[str], code: int, words: str
) -> None:
    got, out, err = kizuna(capsys, "partners", *args)
    assert got == code
    assert words in err and "Traceback" not in err
    assert out == ""


@pytest.mark.parametrize(("text", "field"), [
    ("governence: 0.2\n", "unknown factor 'governence'"),
    ("governance: -1\n", "weight of 'governance' is -1"),
    ("governance: lots\n", "weight of 'governance' is 'lots', not a number"),
])  # fmt: skip
def test_a_bad_weights_file_is_one_line_naming_file_and_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, field: str
) -> None:
    weights = tmp_path / "weights.yaml"
    weights.write_text(text)
    code, out, err = kizuna(capsys, "partners", "cobalt", "--weights", str(weights), "--json")
    assert code == 1 and out == ""
    assert err.startswith(f"error: {weights}: {field}")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_missing_weights_file_is_named(capsys: pytest.CaptureFixture[str],
                                         tmp_path: Path) -> None:
    code, _, err = kizuna(capsys, "partners", "cobalt", "--weights", str(tmp_path / "no.yaml"))
    assert code == 1 and "no.yaml not found" in err

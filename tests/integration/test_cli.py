"""The CLI as a user runs it: acceptance examples from issue 2, JSON shapes and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from clitools import kizuna


def kizuna_json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    code, out, err = kizuna(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_rare_earth_mining_2025_puts_china_first_with_usgs_share(capsys) -> None:  # type: ignore[no-untyped-def]
    data = kizuna_json(capsys, "minerals", "show", "rare-earths", "--stage", "mining",
                       "--year", "2025")
    assert {"mineral", "stage", "year", "unit", "source", "world_total", "hhi", "top1_share",
            "top3_share", "countries"} <= set(data)
    assert data["mineral"] == "rare-earths" and data["stage"] == "mining" and data["year"] == 2025
    assert data["world_total"] == 390_000
    first = data["countries"][0]
    assert first["iso3"] == "CHN" and first["value"] == 270_000
    assert first["share"] == pytest.approx(270_000 / 390_000)
    values = [c["value"] for c in data["countries"]]
    assert values == sorted(values, reverse=True)
    assert data["estimated"] is True and data["year_label"] == "2025e"
    assert "REO" in data["unit"]


def test_cobalt_mining_shows_congo_kinshasa_as_cod_first(capsys) -> None:  # type: ignore[no-untyped-def]
    data = kizuna_json(capsys, "minerals", "show", "cobalt")
    assert data["countries"][0]["iso3"] == "COD"
    assert all(c["iso3"] not in {"OTHER", "WORLD"} for c in data["countries"])


def test_rare_earth_refining_comes_from_shares_labelled_as_shares(capsys) -> None:  # type: ignore[no-untyped-def]
    data = kizuna_json(capsys, "minerals", "show", "rare-earths", "--stage", "refining")
    assert data["basis"] == "share" and data["world_total"] is None
    assert data["year"] == 2024
    assert data["countries"][0]["iso3"] == "CHN"
    assert data["countries"][0]["share"] == pytest.approx(0.9128)
    assert data["residual"]["area"] == "ROW"
    assert any("not tonnages" in note for note in data["notes"])


def test_a_mineral_without_world_data_says_so_plainly(capsys) -> None:  # type: ignore[no-untyped-def]
    data = kizuna_json(capsys, "minerals", "show", "germanium", "--stage", "mining")
    assert data["countries"] == []
    assert "no world production table for germanium" in data["missing"]


def test_japans_rare_metals_list_has_31_entries(capsys) -> None:  # type: ignore[no-untyped-def]
    data = kizuna_json(capsys, "minerals", "list", "--list", "jp-rare-metals")
    assert len(data) == 31
    assert len({row["slug"] for row in data}) == 31


def test_uk_2024_list_shows_confirmation_status(capsys) -> None:  # type: ignore[no-untyped-def]
    data = kizuna_json(capsys, "minerals", "list", "--list", "uk-2024")
    assert {row["status"] for row in data} == {"confirmed", "unconfirmed"}


def test_concentration_is_sorted_by_hhi_with_the_group_share(capsys) -> None:  # type: ignore[no-untyped-def]
    rows = kizuna_json(capsys, "minerals", "concentration", "--stage", "refining",
                       "--group", "concern")
    hhis = [row["hhi"] for row in rows]
    assert hhis == sorted(hhis, reverse=True)
    by_mineral = {row["mineral"]: row for row in rows}
    assert by_mineral["graphite"]["top1_iso3"] == "CHN"
    assert by_mineral["graphite"]["group_share"] >= by_mineral["graphite"]["top1_share"]
    assert by_mineral["rare-earths"]["basis"] == "share"


def test_an_unknown_mineral_exits_1_with_one_line_naming_close_matches(capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, err = kizuna(capsys, "minerals", "show", "cobolt")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "unknown mineral 'cobolt'" in err and "cobalt" in err
    code, _, err = kizuna(capsys, "minerals", "show", "unobtainium")
    assert code == 1 and err.count("\n") == 1 and "unobtainium" in err
    assert "Traceback" not in err


def test_an_unavailable_year_exits_1_naming_the_years_available(capsys) -> None:  # type: ignore[no-untyped-def]
    code, _, err = kizuna(capsys, "minerals", "show", "rare-earths", "--year", "1850")
    assert code == 1 and err.count("\n") == 1
    assert "1850" in err and "2024" in err and "2025" in err


def test_a_bad_stage_is_a_usage_error_with_exit_2(capsys) -> None:  # type: ignore[no-untyped-def]
    code, _, err = kizuna(capsys, "minerals", "show", "cobalt", "--stage", "smelting")
    assert code == 2
    assert "smelting" in err


def test_an_unknown_group_exits_1_listing_the_groups(capsys) -> None:  # type: ignore[no-untyped-def]
    code, _, err = kizuna(capsys, "minerals", "concentration", "--group", "nato")
    assert code == 1 and "unknown country group 'nato'" in err and "g7" in err.lower()


def test_tables_are_printed_for_people_without_json(capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = kizuna(capsys, "minerals", "show", "rare-earths")
    assert code == 0
    assert "China" in out and "HHI" in out and "2025e" in out


def test_the_installed_command_runs_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kizuna", "minerals", "show", "lithium", "--json"],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["mineral"] == "lithium"


def test_debug_shows_the_traceback_that_is_otherwise_hidden() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kizuna", "--debug", "minerals", "show", "unobtainium"],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "NotFoundError" in result.stderr


def test_an_edited_group_changes_the_group_share_and_survives_in_the_store(  # type: ignore[no-untyped-def]
    capsys, tmp_path
) -> None:
    store = f"sqlite:///{tmp_path / 'k.db'}"
    before = {r["mineral"]: r for r in kizuna_json(capsys, "minerals", "concentration",
                                                  "--store", store)}
    code, _, err = kizuna(capsys, "groups", "set", "concern", "COD", "--store", store)
    assert code == 0, err
    after = {r["mineral"]: r for r in kizuna_json(capsys, "--store", store, "minerals",
                                                 "concentration")}
    assert before["cobalt"]["group_share"] < 0.1
    assert after["cobalt"]["group_share"] == pytest.approx(after["cobalt"]["top1_share"])
    shown = kizuna_json(capsys, "groups", "show", "concern", "--store", store)
    assert shown["members"] == ["COD"] and shown["edited"] is True


def test_a_bad_group_member_exits_1_and_keeps_the_stored_group(capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = f"sqlite:///{tmp_path / 'k.db'}"
    assert kizuna(capsys, "groups", "set", "concern", "CHN", "--store", store)[0] == 0
    code, _, err = kizuna(capsys, "groups", "set", "concern", "CHN", "XYZ", "--store", store)
    assert code == 1 and err.count("\n") == 1 and "unknown country 'XYZ'" in err
    assert kizuna_json(capsys, "groups", "show", "concern", "--store", store)["members"] == ["CHN"]


def test_an_unknown_store_scheme_exits_1_naming_the_supported_ones(capsys) -> None:  # type: ignore[no-untyped-def]
    code, _, err = kizuna(capsys, "groups", "list", "--store", "mysql://db")
    assert code == 1 and err.count("\n") == 1
    assert "sqlite:///" in err and "postgresql://" in err


def test_an_unreachable_postgres_store_is_one_line_without_the_password(capsys) -> None:  # type: ignore[no-untyped-def]
    code, _, err = kizuna(capsys, "--store", "postgresql://kz:s3cret@127.0.0.1:1/x",
                          "groups", "list")
    assert code == 1 and err.count("\n") == 1
    assert "s3cret" not in err and "Connection refused" in err


def test_concentration_for_a_year_nobody_has_names_the_years_available(capsys) -> None:  # type: ignore[no-untyped-def]
    code, _, err = kizuna(capsys, "minerals", "concentration", "--year", "1850")
    assert code == 1 and err.count("\n") == 1
    assert "1850" in err and "2024, 2025" in err


def test_a_mineral_assessed_as_not_critical_is_not_a_list_member(capsys) -> None:  # type: ignore[no-untyped-def]
    members = {row["slug"] for row in kizuna_json(capsys, "minerals", "list", "--list", "uk-2024")}
    assert "palladium" not in members and "cobalt" in members
    lists = kizuna_json(capsys, "minerals", "lists")
    uk = next(row for row in lists if row["list_id"] == "uk-2024")
    assert uk["complete"] is False and "34" in uk["note"]


def test_a_partial_list_says_so_under_its_table(capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = kizuna(capsys, "minerals", "list", "--list", "uk-2024")
    assert code == 0 and "Partial list" in out and "unconfirmed" in out


def test_serve_get_answers_one_request_and_exits_1_on_an_error_status(capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = kizuna(capsys, "serve", "--get", "/api/minerals/cobalt")
    assert code == 0 and json.loads(out)["countries"][0]["iso3"] == "COD"
    code, out, _ = kizuna(capsys, "serve", "--get", "/api/minerals/unobtainium")
    assert code == 1 and json.loads(out)["error"] == "not-found"


def test_reserves_are_reachable_with_the_v1_3_revision_applied(capsys) -> None:  # type: ignore[no-untyped-def]
    data = kizuna_json(capsys, "minerals", "show", "rare-earths", "--measure", "reserves")
    brazil = next(c for c in data["countries"] if c["iso3"] == "BRA")
    assert brazil["value"] == 11_000_000
    assert data["world_total_kind"] == "sum_of_parts"
    assert any("more than 75,000,000" in note for note in data["notes"])


def test_a_table_usgs_says_cannot_be_added_up_gets_no_shares_or_hhi(capsys) -> None:  # type: ignore[no-untyped-def]
    data = kizuna_json(capsys, "minerals", "show", "boron")
    assert data["world_total_kind"] == "not_additive" and data["hhi"] is None
    assert data["countries"] and all(c["share"] is None for c in data["countries"])
    ranked = {r["mineral"] for r in kizuna_json(capsys, "minerals", "concentration")}
    assert "boron" not in ranked and "cobalt" in ranked


def test_low_coverage_rows_are_flagged(capsys) -> None:  # type: ignore[no-untyped-def]
    rows = {r["mineral"]: r for r in kizuna_json(capsys, "minerals", "concentration",
                                                "--stage", "refining")}
    assert rows["xenon"]["low_coverage"] is True and rows["xenon"]["named_share"] < 0.5
    assert rows["cobalt"]["low_coverage"] is False


def test_every_profile_has_the_same_keys_even_when_data_are_missing(capsys) -> None:  # type: ignore[no-untyped-def]
    full = kizuna_json(capsys, "minerals", "show", "cobalt")
    empty = kizuna_json(capsys, "minerals", "show", "germanium")
    assert set(full) == set(empty)
    assert empty["hhi"] is None and empty["unit"] is None


def test_the_other_series_text_keeps_its_brackets_in_the_table(capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = kizuna(capsys, "minerals", "show", "rare-earths", "--stage", "refining")
    assert code == 0 and "iea-gcmo-2024" in out

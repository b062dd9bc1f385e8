"""``kizuna intel match`` and ``kizuna intel export`` as a user runs them, on the demo hub."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clitools import kizuna
from matchtools import CONN_FIELDS, conn_row, zeek_tsv

GREEN_IP = "198.51.100.23"  # demo indicators (synthetic bundle), valid from 2026-01-01
RED_IP = "203.0.113.200"


@pytest.fixture
def conn(tmp_path) -> Path:
    return zeek_tsv(tmp_path / "conn.log", CONN_FIELDS, [
        conn_row(86400 * 3, "10.0.0.5", GREEN_IP), conn_row(86400 * 3 + 5, "10.0.0.6", GREEN_IP),
        conn_row(86400 * 4, "10.0.0.7", RED_IP)], extra_lines=[(1, "half\ta line")])


def test_bad_format_or_mapping_is_one_line_and_exit_1_before_any_work(tmp_path, capsys,
                                                                      conn) -> None:
    code, out, err = kizuna(capsys, "intel", "match", str(conn), "--format", "pcap",
                            "--indicators", str(tmp_path / "none.json"))
    assert (code, out) == (1, "")
    assert err == "error: unknown telemetry format 'pcap' (use zeek, jsonl or csv)\n"
    code, _, err = kizuna(capsys, "intel", "match", str(conn), "--format", "csv",
                          "--indicators", str(tmp_path / "none.json"))
    assert code == 1 and err.startswith("error: csv telemetry needs a field mapping")
    assert err.count("\n") == 1


def test_match_a_collection_reports_the_issue_shape_and_pushes_sightings(demo, conn,
                                                                          capsys) -> None:
    code, out, err = kizuna(capsys, "intel", "match", str(conn), "--collection",
                            demo["collection"], "--push", "--json")
    assert code == 0, err
    body = json.loads(out)
    assert {"events", "bad_lines", "matches", "unsupported"} <= set(body)
    assert body["events"] == 3 and body["bad_lines"] == 1
    assert body["bad_line_examples"] == [{"file": str(conn), "line": 10,
                                          "reason": "2 fields where the header has 9"}]
    found = {m["indicator_id"]: m for m in body["matches"]}
    assert sorted(m["count"] for m in found.values()) == [1, 2]
    assert all(set(m) == {"indicator_id", "count", "first_seen", "last_seen"}
               for m in body["matches"])
    assert body["pushed"]["stored"] == 2 and body["pushed"]["failures"] == []
    code, out, _ = kizuna(capsys, "hub", "--help")
    assert code == 0


def test_match_a_bundle_file_needs_no_key(tmp_path, conn, capsys, monkeypatch) -> None:
    monkeypatch.delenv("KIZUNA_API_KEY", raising=False)
    bundle = tmp_path / "b.json"
    bundle.write_text(json.dumps({"type": "bundle", "id": "bundle--1", "objects": [
        {"type": "indicator", "id": "indicator--00000000-0000-4000-8000-000000000001",
         "pattern": f"[ipv4-addr:value = '{GREEN_IP}']", "pattern_type": "stix",
         "valid_from": "2025-01-01T00:00:00Z"},
        {"type": "indicator", "id": "indicator--00000000-0000-4000-8000-000000000002",
         "pattern": "[x-thing:value = 'a']", "pattern_type": "stix",
         "valid_from": "2025-01-01T00:00:00Z"}]}), encoding="utf-8")
    code, out, err = kizuna(capsys, "intel", "match", str(conn), "--indicators", str(bundle))
    assert code == 0, err
    assert "1 indicators sighted" in out.replace("\n", " ")
    assert "unsupported indicator--00000000-0000-4000-8000-000000000002: object type " \
        "'x-thing'" in out


def test_export_as_the_producer_withholds_red_and_writes_the_files(demo, tmp_path,
                                                                   capsys) -> None:
    code, out, err = kizuna(capsys, "intel", "export", "--collection", demo["collection"],
                            "--format", "zeek")
    assert code == 0
    assert GREEN_IP in out and RED_IP not in out
    assert "withheld" in err
    folder = tmp_path / "rules"
    folder.mkdir()
    code, out, _ = kizuna(capsys, "intel", "export", "--collection", demo["collection"],
                          "--format", "suricata", "--out", str(folder), "--json")
    assert code == 0
    body = json.loads(out)
    assert "kizuna.rules" in body["files"]
    assert any("TLP:RED" in w["reason"] for w in body["withheld"])
    assert RED_IP not in (folder / "kizuna.rules").read_text(encoding="utf-8")
    code, _, err = kizuna(capsys, "intel", "export", "--collection", demo["collection"],
                          "--format", "suricata")
    assert code == 2 and "--out FOLDER" in err

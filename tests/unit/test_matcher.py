"""The matcher on each telemetry format, broken lines, unsupported patterns, CIDR edges,
validity windows, and the same answer however the work is split."""

from __future__ import annotations

from pathlib import Path

import pytest

from kizuna.errors import InputError
from kizuna.intel.matcher import build_lookup, plan_files, scan
from kizuna.intel.matcher.run import _range_size
from matchtools import CONN_FIELDS, T0, conn_row, counts, indicator, jsonl, run, zeek_tsv

IP1 = indicator(1, "[ipv4-addr:value = '198.51.100.23']")
NET = indicator(2, "[ipv4-addr:value ISSUBSET '203.0.113.0/24']")
DOMAIN = indicator(3, "[domain-name:value = 'update.copper-lynx.example']")
NT = indicator(4, "[network-traffic:dst_ref.value = '192.0.2.7' AND "
                  "network-traffic:dst_port = 8443]")
SHA = "82fe4d3d8a5787406927dcdcbc793976971f8f97c8161c74f5ca109486193730"
HASH = indicator(5, f"[file:hashes.'SHA-256' = '{SHA}']")
URL = indicator(6, "[url:value = 'http://evil.example/drop/a.exe']")


# --------------------------------------------------------------------------- formats


def test_a_zeek_conn_log_counts_events_per_indicator_with_first_and_last_time(tmp_path: Path
                                                                              ) -> None:
    log = zeek_tsv(tmp_path / "conn.log", CONN_FIELDS, [
        conn_row(10, "10.0.0.5", "198.51.100.23"),
        conn_row(20, "198.51.100.23", "10.0.0.5"),  # the source side counts too
        conn_row(30, "10.0.0.6", "203.0.113.250"),
        conn_row(40, "10.0.0.7", "192.0.2.7", 8443),
        conn_row(50, "10.0.0.7", "192.0.2.7", 443),  # right address, wrong port
        conn_row(60, "10.0.0.8", "8.8.8.8"),
    ])
    report = run([log], "zeek", [IP1, NET, NT])
    assert report.events == 6 and report.bad_lines == 0
    assert counts(report) == {IP1["id"]: 2, NET["id"]: 1, NT["id"]: 1}
    first = next(m for m in report.matches if m.indicator_id == IP1["id"])
    assert (first.first_seen, first.last_seen) == ("2026-01-01T00:00:10.000Z",
                                                   "2026-01-01T00:00:20.000Z")


def test_zeek_dns_http_and_files_logs_fill_domain_url_and_hashes(tmp_path: Path) -> None:
    dns = zeek_tsv(tmp_path / "dns.log", ("ts", "uid", "id.orig_h", "id.resp_h", "query"),
                   [(T0 + 1, "D1", "10.0.0.5", "10.0.0.53", "Update.Copper-Lynx.Example.")],
                   log="dns")
    http = zeek_tsv(tmp_path / "http.log", ("ts", "uid", "id.orig_h", "id.resp_h", "host",
                                            "uri"),
                    [(T0 + 2, "H1", "10.0.0.5", "192.0.2.1", "evil.example", "/drop/a.exe"),
                     (T0 + 3, "H2", "10.0.0.5", "192.0.2.1", "update.copper-lynx.example:8080",
                      "/")], log="http")
    files = zeek_tsv(tmp_path / "files.log", ("ts", "fuid", "md5", "sha1", "sha256"),
                     [(T0 + 4, "F1", "-", "-", SHA.upper())], log="files")
    report = run([dns, http, files], "zeek", [DOMAIN, URL, HASH])
    assert counts(report) == {DOMAIN["id"]: 2, URL["id"]: 1, HASH["id"]: 1}
    assert report.events == 4


def test_zeek_json_logs_are_read_like_the_tsv_ones(tmp_path: Path) -> None:
    log = jsonl(tmp_path / "conn.json", [
        {"ts": T0 + 1, "uid": "C1", "id.orig_h": "10.0.0.5", "id.orig_p": 5000,
         "id.resp_h": "198.51.100.23", "id.resp_p": 443, "proto": "tcp"},
        {"ts": T0 + 2, "uid": "D1", "id.orig_h": "10.0.0.5", "id.resp_h": "10.0.0.53",
         "query": "update.copper-lynx.example"},
    ])
    report = run([log], "zeek", [IP1, DOMAIN])
    assert counts(report) == {IP1["id"]: 1, DOMAIN["id"]: 1}


def test_json_lines_with_a_field_map_reach_nested_fields_and_iso_times(tmp_path: Path) -> None:
    log = jsonl(tmp_path / "ecs.jsonl", [
        {"@timestamp": "2026-01-01T00:00:05Z", "source": {"ip": "10.0.0.5"},
         "destination": {"ip": "198.51.100.23", "port": 443}},
        {"@timestamp": "2026-01-01T00:00:06Z", "source": {"ip": "10.0.0.5"},
         "destination": {"ip": "192.0.2.7", "port": 8443}},
    ])
    field_map = {"ts": "@timestamp", "src_ip": "source.ip", "dst_ip": "destination.ip",
                 "dst_port": "destination.port"}
    report = run([log], "jsonl", [IP1, NT], field_map)
    assert counts(report) == {IP1["id"]: 1, NT["id"]: 1}
    assert report.matches[0].first_seen.startswith("2026-01-01T00:00:0")


def test_csv_with_a_field_map(tmp_path: Path) -> None:
    log = tmp_path / "proxy.csv"
    log.write_text('time,client,server,"site name"\n'
                   f'{T0 + 1},10.0.0.5,198.51.100.23,"a, quoted cell"\n'
                   f"{T0 + 2},10.0.0.6,203.0.113.9,x\n", encoding="utf-8")
    report = run([log], "csv", [IP1, NET], {"ts": "time", "src_ip": "client",
                                            "dst_ip": "server"})
    assert counts(report) == {IP1["id"]: 1, NET["id"]: 1}


# --------------------------------------------------------------------------- bad input


def test_broken_lines_are_counted_with_file_and_line_and_the_scan_goes_on(tmp_path: Path
                                                                          ) -> None:
    log = zeek_tsv(tmp_path / "conn.log", CONN_FIELDS, [
        conn_row(1, "10.0.0.5", "198.51.100.23"),
        ("not-a-time", "C2", "10.0.0.5", 1, "198.51.100.23", 443, "tcp", "-", "0"),
        conn_row(3, "10.0.0.5", "198.51.100.23"),
    ], extra_lines=[(1, "truncated\tline")])
    report = run([log], "zeek", [IP1])
    assert counts(report) == {IP1["id"]: 2}
    assert report.bad_lines == 2
    # 8 header lines, then data: line 9 good, 10 truncated, 11 bad time, 12 good
    assert [(b.line, b.reason) for b in report.bad_examples] == [
        (10, "2 fields where the header has 9"), (11, "ts is not a time")]
    assert all(b.file == str(log) for b in report.bad_examples)


def test_broken_json_lines_are_named_and_skipped(tmp_path: Path) -> None:
    log = jsonl(tmp_path / "x.jsonl", [{"t": T0, "ip": "198.51.100.23"}, "{not json",
                                       {"t": "yesterday", "ip": "198.51.100.23"},
                                       {"t": T0 + 1, "ip": "198.51.100.23"}])
    report = run([log], "jsonl", [IP1], {"ts": "t", "dst_ip": "ip"})
    assert counts(report) == {IP1["id"]: 2}
    assert [b.line for b in report.bad_examples] == [2, 3]


def test_line_numbers_stay_exact_when_the_file_is_cut_into_many_ranges(tmp_path: Path) -> None:
    rows = [conn_row(i, "10.0.0.5", "198.51.100.23" if i % 7 == 0 else "10.1.1.1")
            for i in range(3000)]
    log = zeek_tsv(tmp_path / "conn.log", CONN_FIELDS, rows,
                   extra_lines=[(1500, "broken"), (2500, "broken too")])
    whole = run([log], "zeek", [IP1])
    plans = plan_files([log], "zeek")
    cut = scan(plans, build_lookup([IP1]), chunk_bytes=4096, workers=2)
    assert cut.to_json()["matches"] == whole.to_json()["matches"]
    assert [b.line for b in cut.bad_examples] == [b.line for b in whole.bad_examples] == [
        8 + 1501, 8 + 2502]


def test_an_unknown_format_or_a_missing_field_map_is_one_error_before_any_work(
        tmp_path: Path) -> None:
    log = jsonl(tmp_path / "x.jsonl", [{"t": T0}])
    with pytest.raises(InputError, match="unknown telemetry format 'suricata'"):
        plan_files([log], "suricata")
    with pytest.raises(InputError, match="needs a field mapping with ts") as caught:
        plan_files([log], "jsonl", {"dst_ip": "ip"})
    assert caught.value.fields["field"] == "field_map"
    with pytest.raises(InputError, match="no column 'server'"):
        (tmp_path / "a.csv").write_text("time,client\n1,2\n", encoding="utf-8")
        plan_files([tmp_path / "a.csv"], "csv", {"ts": "time", "dst_ip": "server"})
    with pytest.raises(InputError, match="not a Zeek log"):
        (tmp_path / "plain.log").write_text("hello\n", encoding="utf-8")
        plan_files([tmp_path / "plain.log"], "zeek")


# --------------------------------------------------------------------------- the subset


@pytest.mark.parametrize(("pattern", "reason"), [
    ("[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [ipv4-addr:value = '5.6.7.8']", "FOLLOWEDBY"),
    ("[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'a.example']",
     "joined by AND need several events"),
    ("[ipv4-addr:value = '1.2.3.4'] REPEATS 5 TIMES", "REPEATS qualifier"),
    ("[ipv4-addr:value = '1.2.3.4'] WITHIN 60 SECONDS", "WITHIN qualifier"),
    ("[file:name = 'a.exe']", "file:name is not matched"),
    ("[process:name = 'a.exe']", "object type 'process'"),
    ("[domain-name:value LIKE '%.example']", "LIKE operator"),
    ("[ipv4-addr:value = '1.2.3.4' AND domain-name:value = 'a.example']",
     "different object types"),
    ("[ipv4-addr:value != '1.2.3.4']", "no equality, IN or ISSUBSET"),
    ("[ipv4-addr:value ISSUBSET '0.0.0.0/0']", "/0 block"),
    ("[ipv4-addr:value = '2001:db8::1']", "not an IPv4 address"),
    ("[network-traffic:dst_port = '443']", "something other than a number"),
    ("[file:hashes.'SHA-512' = '" + "a" * 128 + "']", "not in the telemetry"),
    ("[ipv4-addr:value = '1.2.3.4'", "does not parse"),
])
def test_patterns_outside_the_subset_are_reported_with_the_reason(pattern: str,
                                                                   reason: str) -> None:
    lookup = build_lookup([indicator(9, pattern)])
    assert not lookup.indicators
    assert len(lookup.unsupported) == 1 and reason in lookup.unsupported[0].reason


def test_revoked_and_non_stix_indicators_are_reported_not_dropped() -> None:
    lookup = build_lookup([indicator(1, "[ipv4-addr:value = '1.2.3.4']", revoked=True),
                           indicator(2, "alert ip any any -> any any (sid:1;)",
                                     pattern_type="suricata")])
    assert [u.reason for u in lookup.unsupported] == [
        "the indicator is revoked", "pattern_type 'suricata': only STIX patterns are matched"]


@pytest.mark.parametrize(("pattern", "address", "matched"), [
    ("[ipv4-addr:value ISSUBSET '10.0.0.0/31']", "10.0.0.1", True),
    ("[ipv4-addr:value ISSUBSET '10.0.0.0/31']", "10.0.0.2", False),
    ("[ipv4-addr:value ISSUBSET '10.0.0.5/8']", "10.255.255.255", True),  # host bits ignored
    ("[ipv4-addr:value ISSUBSET '10.0.0.0/8']", "11.0.0.0", False),
    ("[ipv4-addr:value ISSUBSET '128.0.0.0/1']", "255.255.255.255", True),
    ("[ipv4-addr:value ISSUBSET '128.0.0.0/1']", "127.255.255.255", False),
    ("[ipv4-addr:value = '198.51.100.0/24']", "198.51.100.200", True),  # a CIDR value
    ("[ipv4-addr:value = '198.51.100.7/32']", "198.51.100.7", True),
    ("[ipv4-addr:value = '10.0.0.1']", "010.0.0.1", False),  # equality compares the text
    ("[ipv6-addr:value ISSUBSET '2001:db8::/32']", "2001:db8:ffff::1", True),
    ("[ipv6-addr:value ISSUBSET '2001:db8::/32']", "2001:db9::1", False),
    ("[ipv6-addr:value = '2001:db8::1']", "2001:0DB8:0:0::1", True),  # canonical form
    ("[ipv4-addr:value ISSUBSET '10.0.0.0/8']", "::ffff:10.0.0.1", False),  # an IPv6 value
    ("[network-traffic:dst_ref.value ISSUBSET '10.0.0.0/8']", "10.9.9.9", True),
])
def test_address_and_cidr_edges(tmp_path: Path, pattern: str, address: str,
                                matched: bool) -> None:
    log = zeek_tsv(tmp_path / "conn.log", CONN_FIELDS, [conn_row(1, "127.0.0.1", address)])
    report = run([log], "zeek", [indicator(1, pattern)])
    assert not report.unsupported
    assert bool(report.matches) is matched


@pytest.mark.parametrize(("size", "workers"), [(613 << 20, 2), (10 << 20, 2), (5 << 30, 3),
                                               (100, 1)])
def test_a_file_is_cut_into_a_multiple_of_the_workers_ranges(size: int, workers: int) -> None:
    chunk = 48 << 20
    per_range = _range_size(size, chunk, workers)
    pieces = -(-size // per_range)
    assert per_range <= chunk + 1
    assert pieces % workers == 0  # no worker alone on the last range
    assert pieces >= workers * 2


def test_an_event_counts_from_valid_from_and_not_at_valid_until(tmp_path: Path) -> None:
    window = indicator(1, "[ipv4-addr:value = '198.51.100.23']",
                       valid_from="2026-01-01T00:00:10Z", valid_until="2026-01-01T00:00:20Z")
    log = zeek_tsv(tmp_path / "conn.log", CONN_FIELDS, [
        conn_row(second, "10.0.0.5", "198.51.100.23") for second in (9.999, 10, 15, 20)])
    report = run([log], "zeek", [window])
    assert counts(report) == {window["id"]: 2}
    assert (report.matches[0].first_seen, report.matches[0].last_seen) == (
        "2026-01-01T00:00:10.000Z", "2026-01-01T00:00:15.000Z")


def test_an_event_matching_two_alternatives_of_one_indicator_counts_once(tmp_path: Path
                                                                         ) -> None:
    both = indicator(1, "[ipv4-addr:value = '198.51.100.23'] OR "
                        "[network-traffic:dst_port = 443]")
    log = zeek_tsv(tmp_path / "conn.log", CONN_FIELDS, [conn_row(1, "10.0.0.5",
                                                                 "198.51.100.23")])
    assert counts(run([log], "zeek", [both])) == {both["id"]: 1}


def test_dask_gives_the_threads_answer(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    rows = [conn_row(i, "10.0.0.5", "198.51.100.23" if i % 5 == 0 else "203.0.113.4")
            for i in range(2000)]
    log = zeek_tsv(tmp_path / "conn.log", CONN_FIELDS, rows, extra_lines=[(700, "broken")])
    local = run([log], "zeek", [IP1, NET], chunk_bytes=8192)
    with distributed.LocalCluster(n_workers=2, processes=False, dashboard_address=None,
                                  threads_per_worker=1) as cluster:
        remote = run([log], "zeek", [IP1, NET], chunk_bytes=8192,
                     scheduler=cluster.scheduler_address)
    assert remote.to_json()["matches"] == local.to_json()["matches"]
    assert [b.to_json() for b in remote.bad_examples] == [b.to_json()
                                                          for b in local.bad_examples]

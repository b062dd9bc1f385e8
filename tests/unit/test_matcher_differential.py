"""Kizuna's matcher against the OASIS reference, ``stix2-matcher``, on generated input.

Hypothesis builds patterns from the supported subset (addresses with CIDR and ISSUBSET,
domains, URLs, e-mail addresses, file hashes, network traffic with refs, ports and
protocols; AND/OR inside an observation, OR between observations; NOT, !=, IN, ordering on
ports) and events drawn from the same small pools, so matches and near misses are both
common. Each event is one JSON line for Kizuna (the real reader and scan) and one STIX 2.1
bundle with an observed-data for the reference; the set of (pattern, event) pairs that
match must be the same. Pairs the reference cannot evaluate (it raises on IPv6 values
under ISSUBSET) are left out of the comparison and counted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kizuna.intel.matcher import build_lookup
from kizuna.intel.matcher.readers import plan_file, ranges, read_range
from kizuna.intel.matcher.scan import match_pairs

stix2matcher = pytest.importorskip("stix2matcher.matcher")

V4 = ["10.0.0.1", "10.0.0.2", "10.0.1.5", "192.168.1.1", "8.8.8.8", "10.255.255.255"]
V6 = ["2001:db8::1", "2001:db8::2", "fe80::1"]
CIDR4 = ["10.0.0.0/24", "10.0.0.0/8", "192.168.0.0/16", "8.8.8.8/32", "10.0.0.0/31",
         "10.0.1.0/24", "0.0.0.0/1", "128.0.0.0/1"]
DOMAINS = ["evil.example", "good.example", "a.test"]
URLS = ["http://evil.example/x", "http://good.example/", "https://a.test/p?q=1"]
EMAILS = ["bad@evil.example", "ok@good.example"]
MD5 = ["d41d8cd98f00b204e9800998ecf8427e", "0cc175b9c0f1b6a831c399e269772661"]
SHA1 = ["da39a3ee5e6b4b0d3255bfef95601890afd80709", "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8"]
SHA256 = ["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
          "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"]
PORTS = [53, 80, 443, 8080]
PROTOS = ["tcp", "udp"]
TS = "2024-03-01T12:00:00Z"
FIELDS = {"ts": "ts", "src_ip": "src_ip", "dst_ip": "dst_ip", "src_port": "src_port",
          "dst_port": "dst_port", "protocol": "protocol", "domain": "domain", "url": "url",
          "email": "email", "md5": "md5", "sha1": "sha1", "sha256": "sha256"}


def quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


POSITIVE_FIRST = ["=", "=", "=", "=", "!=", "NOT =", "NOT !="]


def equality(path: str, pool: list[str], *, sets: bool = True) -> st.SearchStrategy[str]:
    single = st.builds(lambda op, v: f"{path} {op} {quote(v)}", st.sampled_from(POSITIVE_FIRST),
                       st.sampled_from(pool))
    if not sets:  # the pattern grammar's hash check refuses IN on hashes
        return single
    return st.one_of(
        single,
        st.builds(lambda neg, vs: f"{path} {neg}IN ({', '.join(quote(v) for v in vs)})",
                  st.sampled_from(["", "", "NOT "]), st.lists(st.sampled_from(pool), min_size=1,
                                                          max_size=3)))


def subset(path: str) -> st.SearchStrategy[str]:
    return st.builds(lambda neg, v: f"{path} {neg}ISSUBSET {quote(v)}",
                     st.sampled_from(["", "", "NOT "]), st.sampled_from(CIDR4))


def port(path: str) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(lambda op, v: f"{path} {op} {v}",
                  st.sampled_from(["=", "=", "=", "!=", "<", "<=", ">", ">=", "NOT ="]),
                  st.sampled_from([*PORTS, 1024])),
        st.builds(lambda vs: f"{path} IN ({', '.join(map(str, vs))})",
                  st.lists(st.sampled_from(PORTS), min_size=1, max_size=3)))


COMPARISONS: dict[str, st.SearchStrategy[str]] = {
    "ipv4-addr": st.one_of(equality("ipv4-addr:value", V4), subset("ipv4-addr:value")),
    "ipv6-addr": equality("ipv6-addr:value", V6),
    "network-traffic": st.one_of(
        equality("network-traffic:dst_ref.value", V4 + V6),
        equality("network-traffic:src_ref.value", V4),
        subset("network-traffic:dst_ref.value"), port("network-traffic:dst_port"),
        port("network-traffic:src_port"),
        equality("network-traffic:protocols[*]", PROTOS)),
    "domain-name": equality("domain-name:value", DOMAINS),
    "url": equality("url:value", URLS),
    "email-addr": equality("email-addr:value", EMAILS),
    "file": st.one_of(equality("file:hashes.MD5", MD5, sets=False),
                      equality("file:hashes.'SHA-1'", SHA1, sets=False),
                      equality("file:hashes.'SHA-256'", SHA256, sets=False)),
}


@st.composite
def comparison_expression(draw: st.DrawFn, object_type: str, depth: int = 0) -> str:
    if depth >= 2 or draw(st.integers(0, 2)):
        return draw(COMPARISONS[object_type])
    left = draw(comparison_expression(object_type, depth + 1))
    right = draw(comparison_expression(object_type, depth + 1))
    joined = f"{left} {draw(st.sampled_from(['AND', 'OR']))} {right}"
    return f"({joined})" if draw(st.booleans()) else joined


@st.composite
def patterns(draw: st.DrawFn) -> str:
    observations = [f"[{draw(comparison_expression(draw(st.sampled_from(list(COMPARISONS)))))}]"
                    for _ in range(draw(st.integers(1, 2)))]
    return " OR ".join(observations)


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    event: dict[str, Any] = {"ts": TS}
    if draw(st.integers(0, 3)):
        event["src_ip"] = draw(st.sampled_from(V4 + V6[:1]))
        event["dst_ip"] = draw(st.sampled_from(V4 + V6))
        if draw(st.booleans()):
            event["src_port"] = draw(st.sampled_from([*PORTS, 50123]))
            event["dst_port"] = draw(st.sampled_from(PORTS))
        event["protocol"] = draw(st.sampled_from(PROTOS))
    for column, pool in (("domain", DOMAINS), ("url", URLS), ("email", EMAILS), ("md5", MD5),
                         ("sha1", SHA1), ("sha256", SHA256)):
        if draw(st.booleans()):
            event[column] = draw(st.sampled_from(pool))
    return event


def observed_bundle(event: dict[str, Any], number: int) -> dict[str, Any]:
    """The event as the reference sees it: one observed-data and its SCOs."""
    objects: list[dict[str, Any]] = []

    def add(obj: dict[str, Any]) -> str:
        obj["id"] = f"{obj['type']}--00000000-0000-4000-8000-{len(objects):012d}"
        obj["spec_version"] = "2.1"
        objects.append(obj)
        return str(obj["id"])

    refs = {}
    for side in ("src_ip", "dst_ip"):
        if side in event:
            kind = "ipv6-addr" if ":" in event[side] else "ipv4-addr"
            refs[side] = add({"type": kind, "value": event[side]})
    if refs:
        traffic: dict[str, Any] = {"type": "network-traffic", "src_ref": refs["src_ip"],
                                   "dst_ref": refs["dst_ip"],
                                   "protocols": [event["protocol"]]}
        for side in ("src_port", "dst_port"):
            if side in event:
                traffic[side] = event[side]
        add(traffic)
    for column, kind in (("domain", "domain-name"), ("url", "url"), ("email", "email-addr")):
        if column in event:
            add({"type": kind, "value": event[column]})
    hashes = {name: event[column] for column, name in (("md5", "MD5"), ("sha1", "SHA-1"),
                                                        ("sha256", "SHA-256")) if column in event}
    if hashes:
        add({"type": "file", "hashes": hashes})
    observed = {"type": "observed-data", "spec_version": "2.1",
                "id": f"observed-data--00000000-0000-4000-8000-{number:012d}",
                "created": TS, "modified": TS, "first_observed": TS, "last_observed": TS,
                "number_observed": 1, "object_refs": [o["id"] for o in objects]}
    return {"type": "bundle", "id": f"bundle--00000000-0000-4000-8000-{number:012d}",
            "objects": [observed, *objects]}


def kizuna_pairs(pattern_list: list[str], event_list: list[dict[str, Any]],
                 folder: Path) -> tuple[set[tuple[int, int]], set[int]]:
    indicators = [{"type": "indicator", "id": f"indicator--00000000-0000-4000-8000-{n:012d}",
                   "pattern": p, "pattern_type": "stix", "valid_from": "2020-01-01T00:00:00Z"}
                  for n, p in enumerate(pattern_list)]
    lookup = build_lookup(indicators)
    log = folder / "events.jsonl"
    log.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in event_list))
    plan = plan_file(log, "jsonl", FIELDS)
    matched: set[tuple[int, int]] = set()
    for start, end in ranges(plan):
        rows, found, _times, _unreadable = match_pairs(lookup, read_range(plan, start, end))
        for row, index in zip(rows.tolist(), found.tolist(), strict=True):
            matched.add((int(lookup.indicators[index].indicator_id[-12:]), row))
    unsupported = {int(u.indicator_id[-12:]) for u in lookup.unsupported}
    return matched, unsupported


def reference_pairs(pattern_list: list[str], event_list: list[dict[str, Any]]
                    ) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    matched, skipped = set(), set()
    for p_number, pattern in enumerate(pattern_list):
        for e_number, event in enumerate(event_list):
            try:
                if stix2matcher.match(pattern, [observed_bundle(event, e_number)],
                                      stix_version="2.1"):
                    matched.add((p_number, e_number))
            except stix2matcher.MatcherException:
                skipped.add((p_number, e_number))
    return matched, skipped


STATS = {"pairs": 0, "patterns": 0, "matched": 0, "unsupported": 0, "skipped": 0}


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(pattern_list=st.lists(patterns(), min_size=1, max_size=6),
       event_list=st.lists(events(), min_size=1, max_size=6))
def test_matches_equal_the_oasis_reference(pattern_list: list[str],
                                           event_list: list[dict[str, Any]],
                                           tmp_path: Path) -> None:
    ours, unsupported = kizuna_pairs(pattern_list, event_list, tmp_path)
    theirs, skipped = reference_pairs(pattern_list, event_list)
    theirs = {pair for pair in theirs if pair[0] not in unsupported}
    ours_compared = {pair for pair in ours if pair not in skipped}
    theirs_compared = {pair for pair in theirs if pair not in skipped}
    assert ours_compared == theirs_compared, orjson.dumps([pattern_list, event_list]).decode()
    STATS["pairs"] += len(pattern_list) * len(event_list)
    STATS["patterns"] += len(pattern_list)
    STATS["matched"] += len(theirs_compared)
    STATS["unsupported"] += len(unsupported)
    STATS["skipped"] += len(skipped)


def test_the_generated_cases_match_often_and_are_mostly_supported() -> None:
    """Run after the property (file order): the comparison was not vacuous."""
    if not STATS["pairs"]:
        pytest.skip("run with the property test")
    assert STATS["matched"] > STATS["pairs"] * 0.08
    assert STATS["unsupported"] < STATS["patterns"] * 0.5

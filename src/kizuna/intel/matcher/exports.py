"""A collection's indicators as files defenders load: Zeek Intel, Suricata, CSV.

The indicators come from the hub as the requesting organisation (``Hub.get_objects``), so
access control and TLP have already removed what it may not see. On top of that an export
**never writes TLP:RED** (a file leaves the hands of the people RED names: sensors, their
operators, a SIEM), nor revoked or expired indicators; each is listed as withheld with the
reason. Patterns are read with the matcher's compiler, so an export says exactly what the
matcher would match:

* **Zeek Intel framework** (``kizuna.intel``): one line per single value — ``Intel::ADDR``,
  ``Intel::SUBNET``, ``Intel::DOMAIN``, ``Intel::URL`` (without the scheme, as Zeek wants),
  ``Intel::EMAIL``, ``Intel::FILE_HASH`` — with the indicator id in ``meta.desc``. Compound
  alternatives (AND, ports) have no Intel form and are withheld with that reason.
* **Suricata**: ``kizuna.rules`` with one rule per address or block (and per destination and
  port for network-traffic), rules over datasets for domains (``dns.query``, ``tls.sni``,
  ``http.host``) and hash lists for files (``filemd5``, ``filesha1``, ``filesha256``).
  The ``sid`` is derived from the indicator id, so it is stable between exports.
* **CSV**: one row per value (or one per compound alternative, with the pattern), with TLP,
  validity and name.
"""

from __future__ import annotations

import base64
import csv
import io
import ipaddress
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kizuna.errors import InputError
from kizuna.intel.matcher.compile import (
    IP,
    PORT,
    Atom,
    Clause,
    Unsupported,
    compile_indicator,
)
from kizuna.intel.stix.markings import RED, level_name, level_of

EXPORT_FORMATS = ("zeek", "suricata", "csv")
SID_BASE = 1_000_000_000
SID_SPAN = 2_000_000_000
HASH_KEYWORDS = {"md5": "filemd5", "sha1": "filesha1", "sha256": "filesha256"}
ZEEK_TYPES = {"domain": "Intel::DOMAIN", "url": "Intel::URL", "email": "Intel::EMAIL",
              "md5": "Intel::FILE_HASH", "sha1": "Intel::FILE_HASH",
              "sha256": "Intel::FILE_HASH"}
STIX_TYPES = {"domain": "domain-name", "url": "url", "email": "email-addr", "md5": "file",
              "sha1": "file", "sha256": "file"}


@dataclass
class Export:
    """The files of one export and what was left out, with the reason."""

    format: str
    files: dict[str, str] = field(default_factory=dict)
    exported: int = 0  # indicators with at least one exported value
    values: int = 0
    withheld: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"format": self.format, "files": sorted(self.files), "exported": self.exported,
                "values": self.values,
                "withheld": [{"indicator_id": i, "reason": r} for i, r in self.withheld]}


@dataclass(frozen=True)
class Item:
    """One exportable alternative of an indicator."""

    indicator: Mapping[str, Any]
    clause: Clause

    @property
    def indicator_id(self) -> str:
        return str(self.indicator["id"])


def _values(atom: Atom) -> list[str]:
    if atom.kind == IP:
        out = []
        for family, low, high in atom.ranges:
            address = ipaddress.ip_address(low) if family == 4 else ipaddress.IPv6Address(low)
            bits = 32 if family == 4 else 128
            prefix = bits - (high - low).bit_length()
            out.append(str(address) if prefix == bits else f"{address}/{prefix}")
        return sorted(out)
    return sorted(str(v) for v in atom.values)


def _single(clause: Clause) -> Atom | None:
    """The atom of a one-comparison, positive alternative (what Intel files can hold)."""
    if len(clause.atoms) == 1 and clause.atoms[0].indexable:
        atom = clause.atoms[0]
        if atom.prop in (("value",), ("src_ref", "value"), ("dst_ref", "value")) or \
                atom.prop[:1] == ("hashes",):
            return atom
    return None


def select(indicators: Iterable[Mapping[str, Any]], now: float
           ) -> tuple[list[Item], list[tuple[str, str]]]:
    """The alternatives to export, and the indicators withheld with the reason."""
    items: list[Item] = []
    withheld: list[tuple[str, str]] = []
    for obj in sorted(indicators, key=lambda o: str(o.get("id"))):
        ident = str(obj.get("id"))
        level = level_of([str(r) for r in obj.get("object_marking_refs") or ()])
        if level == RED:
            withheld.append((ident, "TLP:RED is never written to a file"))
            continue
        try:
            compiled = compile_indicator(obj)
        except Unsupported as why:
            withheld.append((ident, str(why)))
            continue
        if compiled.valid_until <= now:
            withheld.append((ident, "expired (valid_until has passed)"))
            continue
        items.extend(Item(obj, clause) for clause in compiled.clauses)
    return items, withheld


def _sid(indicator_id: str, salt: int, used: set[int]) -> int:
    try:
        number = uuid.UUID(indicator_id.split("--", 1)[-1]).int
    except ValueError:
        number = int.from_bytes(indicator_id.encode()[:16], "big")
    sid = SID_BASE + (number + salt) % SID_SPAN
    while sid in used:
        sid += 1
    used.add(sid)
    return sid


def _desc(obj: Mapping[str, Any]) -> str:
    name = str(obj.get("name") or "").replace("\t", " ").replace("\n", " ").replace('"', "'")
    name = name.replace(";", ",")
    return f"{obj['id']}" + (f" {name}" if name else "")


def zeek_intel(items: Iterable[Item], source: str, export: Export) -> None:
    lines = ["#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url"]
    done: set[str] = set()
    for item in items:
        atom = _single(item.clause)
        if atom is None:
            export.withheld.append((item.indicator_id, "a compound alternative (AND, ports or "
                                    "protocol) has no Zeek Intel form"))
            continue
        for value in _values(atom):
            if atom.kind == IP:
                kind = "Intel::SUBNET" if "/" in value else "Intel::ADDR"
            else:
                kind = ZEEK_TYPES[atom.column]
            shown = value.split("://", 1)[-1] if atom.column == "url" else value
            if "\t" in shown or "\n" in shown:
                continue
            lines.append("\t".join((shown, kind, source, _desc(item.indicator), "-")))
            export.values += 1
            done.add(item.indicator_id)
    export.files["kizuna.intel"] = "\n".join(lines) + "\n"
    export.exported = len(done)


def suricata(items: Iterable[Item], source: str, export: Export) -> None:
    rules: list[str] = [f"# Kizuna export of {source}: load kizuna.rules; the .lst and .txt "
                        "files sit in the rules directory"]
    used: set[int] = set()
    domains: dict[str, list[str]] = defaultdict(list)
    hashes: dict[str, set[str]] = defaultdict(set)
    done: set[str] = set()
    for item in items:
        msg = f"Kizuna {_desc(item.indicator)}"
        atoms = {a.prop: a for a in item.clause.atoms}
        single = _single(item.clause)
        if all(a.kind in (IP, PORT) and not a.negated and a.op == "in" for a in atoms.values()):
            rule = _ip_rule(atoms, item.clause.object_type)
            if rule is None:
                export.withheld.append((item.indicator_id, "this combination of addresses and "
                                        "ports has no Suricata rule form here"))
                continue
            sid = _sid(item.indicator_id, 0, used)
            rules.append(f'alert {rule} (msg:"{msg}"; sid:{sid}; rev:1; '
                         f"metadata:stix_id {item.indicator_id};)")
            export.values += 1
            done.add(item.indicator_id)
        elif single is not None and single.column == "domain":
            for value in _values(single):
                domains[value].append(item.indicator_id)
            done.add(item.indicator_id)
        elif single is not None and single.column in HASH_KEYWORDS:
            hashes[single.column].update(_values(single))
            done.add(item.indicator_id)
        else:
            export.withheld.append((item.indicator_id, "no Suricata form for this alternative "
                                    "(URLs, e-mail addresses and compound text tests)"))
    if domains:
        export.files["kizuna-domains.lst"] = "".join(
            base64.b64encode(d.encode()).decode() + "\n" for d in sorted(domains))
        export.values += len(domains)
        for buffer in ("dns.query", "tls.sni", "http.host"):
            rules.append(f'alert {"dns" if buffer == "dns.query" else buffer.split(".")[0]} any '
                         f'any -> any any (msg:"Kizuna shared indicator: domain in {buffer}"; '
                         f"{buffer}; dataset:isset,kizuna-domains,type string,load "
                         f"kizuna-domains.lst; sid:{_sid(buffer, 0, used)}; rev:1;)")
    for column, values in sorted(hashes.items()):
        name = f"kizuna-{column}.txt"
        export.files[name] = "".join(v + "\n" for v in sorted(values))
        export.values += len(values)
        rules.append(f'alert http any any -> any any (msg:"Kizuna shared indicator: file '
                     f'{column.upper()}"; {HASH_KEYWORDS[column]}:{name}; '
                     f"sid:{_sid(column, 0, used)}; rev:1;)")
    export.files["kizuna.rules"] = "\n".join(rules) + "\n"
    export.exported = len(done)


def _ip_rule(atoms: Mapping[tuple[Any, ...], Atom], object_type: str) -> str | None:
    """``proto src port -> dst port`` of an address or network-traffic alternative."""
    def addresses(atom: Atom | None) -> str:
        return "any" if atom is None else "[" + ",".join(_values(atom)) + "]"

    def ports(atom: Atom | None) -> str:
        if atom is None:
            return "any"
        numbers = sorted(int(v) for v in atom.values if float(v).is_integer())
        return str(numbers[0]) if len(numbers) == 1 else "[" + ",".join(map(str, numbers)) + "]"

    if object_type in ("ipv4-addr", "ipv6-addr"):
        value = atoms.get(("value",))
        return None if value is None or len(atoms) != 1 else \
            f"ip any any <> {addresses(value)} any"
    known = {("src_ref", "value"), ("dst_ref", "value"), ("src_port",), ("dst_port",)}
    if set(atoms) - known:
        return None
    return (f"ip {addresses(atoms.get(('src_ref', 'value')))} {ports(atoms.get(('src_port',)))}"
            f" -> {addresses(atoms.get(('dst_ref', 'value')))} "
            f"{ports(atoms.get(('dst_port',)))}").replace("ip ", "tcp ", 1) \
        if ("src_port",) in atoms or ("dst_port",) in atoms else \
        (f"ip {addresses(atoms.get(('src_ref', 'value')))} any -> "
         f"{addresses(atoms.get(('dst_ref', 'value')))} any")


def csv_rows(items: Iterable[Item], export: Export) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["indicator_id", "name", "type", "value", "pattern", "tlp", "valid_from",
                     "valid_until"])
    done: set[str] = set()
    for item in items:
        obj = item.indicator
        level = level_of([str(r) for r in obj.get("object_marking_refs") or ()])
        common = [str(obj.get("pattern", "")),
                  level_name(level) if level is not None else "collection default",
                  str(obj.get("valid_from", "")), str(obj.get("valid_until", ""))]
        single = _single(item.clause)
        values = _values(single) if single is not None else [""]
        kind = item.clause.object_type
        for value in values:
            writer.writerow([item.indicator_id, _safe(str(obj.get("name", ""))), kind,
                             _safe(value), *map(_safe, common)])
            export.values += 1
        done.add(item.indicator_id)
    export.files["kizuna-indicators.csv"] = out.getvalue()
    export.exported = len(done)


def _safe(text: str) -> str:
    """No spreadsheet formula injection: a cell starting with = + - @ is quoted with '."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def export_indicators(indicators: Iterable[Mapping[str, Any]], fmt: str, *, source: str,
                      now: float) -> Export:
    """Files of ``fmt`` for the indicators (already filtered by the hub for the reader)."""
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"unknown export format {fmt!r}", hint="use zeek, suricata or csv",
                         field="format", value=fmt)
    items, withheld = select(indicators, now)
    export = Export(fmt, withheld=withheld)
    if fmt == "zeek":
        zeek_intel(items, source, export)
    elif fmt == "suricata":
        suricata(items, source, export)
    else:
        csv_rows(items, export)
    return export

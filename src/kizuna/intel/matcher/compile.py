"""STIX indicator patterns compiled once into lookup tables for the scan.

A pattern comes from the hub's own parser (``kizuna.intel.stix.patterns.parse_pattern``).
Each observation's comparison expression is put in disjunctive normal form: a list of
*clauses*, each a conjunction of *atoms* that one observed object must satisfy together
(the reference matcher intersects the objects each comparison selects, so ``AND`` binds to
one object). One atom of every clause — an equality, ``IN`` or ``ISSUBSET`` — is its
*driver* and goes into a lookup table (a hash set for text, a table per prefix length for
addresses, a sorted array for ports); the other atoms are checked only on the events the
driver finds. An indicator outside the supported subset is kept with the reason, never
dropped.
"""

from __future__ import annotations

import ipaddress
import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from kizuna.errors import InputError
from kizuna.intel.stix import patterns_ast as ast
from kizuna.intel.stix.patterns import parse_pattern

MAX_CLAUSES = 64
MAX_PREFILTER = 8  # distinct first octets of IPv4 blocks tested one by one
FOREVER = float("inf")

# An observed object kind ("slot") and the event columns its properties read.
IP, TEXT, PORT = "ip", "text", "port"
SLOTS: dict[str, dict[tuple[Any, ...], tuple[str, str]]] = {
    "src4": {("value",): ("src_ip", IP)},
    "dst4": {("value",): ("dst_ip", IP)},
    "src6": {("value",): ("src_ip", IP)},
    "dst6": {("value",): ("dst_ip", IP)},
    "nt": {("src_ref", "value"): ("src_ip", IP), ("dst_ref", "value"): ("dst_ip", IP),
           ("src_port",): ("src_port", PORT), ("dst_port",): ("dst_port", PORT),
           ("protocols", ast.Star.ANY): ("protocol", TEXT), ("protocols", 0): ("protocol", TEXT)},
    "domain": {("value",): ("domain", TEXT)},
    "url": {("value",): ("url", TEXT)},
    "email": {("value",): ("email", TEXT)},
    "file": {("hashes", "MD5"): ("md5", TEXT), ("hashes", "SHA-1"): ("sha1", TEXT),
             ("hashes", "SHA-256"): ("sha256", TEXT)},
}
OBJECT_SLOTS: dict[str, tuple[str, ...]] = {
    "ipv4-addr": ("src4", "dst4"), "ipv6-addr": ("src6", "dst6"), "network-traffic": ("nt",),
    "domain-name": ("domain",), "url": ("url",), "email-addr": ("email",), "file": ("file",),
}
#: the address family an ``ipv4-addr``/``ipv6-addr`` slot holds (other slots take both)
SLOT_FAMILY = {"src4": 4, "dst4": 4, "src6": 6, "dst6": 6}
HASH_ALIASES = {"MD5": "MD5", "SHA1": "SHA-1", "SHA-1": "SHA-1", "SHA256": "SHA-256",
                "SHA-256": "SHA-256"}
#: columns whose text is compared case-insensitively (lower-cased on both sides)
FOLDED = frozenset({"domain", "email", "md5", "sha1", "sha256", "protocol"})
ORDER_OPS = {"<", "<=", ">", ">="}


class Unsupported(Exception):
    """Why an indicator cannot be matched (one sentence)."""


@dataclass(frozen=True)
class Atom:
    """One comparison on one column of an observed object.

    ``kind`` ip: ``ranges`` are (family, low, high) address ranges and the test is "in one
    of them"; text: ``values`` a set of normalised strings; port: ``op`` is ``in`` (with
    ``values``) or an ordering against ``number``. ``negated`` flips the test; an absent
    property never passes, negated or not (as in the reference).
    """

    column: str
    kind: str
    op: str
    negated: bool
    prop: tuple[Any, ...] = ()  # the property steps, to find the column of each slot
    values: frozenset[Any] = frozenset()
    ranges: tuple[tuple[int, int, int], ...] = ()
    number: float = 0.0

    @property
    def indexable(self) -> bool:
        return not self.negated and self.op == "in"


@dataclass(frozen=True)
class Clause:
    """Atoms one object of ``object_type`` must satisfy together."""

    object_type: str
    atoms: tuple[Atom, ...]


@dataclass(frozen=True)
class CompiledIndicator:
    indicator_id: str
    clauses: tuple[Clause, ...]
    valid_from: float
    valid_until: float
    markings: tuple[str, ...]


@dataclass(frozen=True)
class UnsupportedIndicator:
    indicator_id: str
    reason: str


@dataclass
class IpTable:
    """Address lookups: per family and prefix length, sorted network keys -> entries."""

    v4: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    v6: dict[int, dict[int, list[int]]] = field(default_factory=dict)
    #: the first octets every IPv4 block starts with, when few (a cheap prefilter), else None
    first_octets: tuple[int, ...] | None = ()


@dataclass
class Lookup:
    """Everything the scan needs, built once: picklable for Dask workers."""

    indicators: list[CompiledIndicator]
    unsupported: list[UnsupportedIndicator]
    # entry (clause on one slot) -> indicator index, slot, residual atoms
    entry_indicator: np.ndarray
    entry_residual: dict[int, tuple[Atom, ...]]  # only entries with atoms besides the driver
    valid_from: np.ndarray
    valid_until: np.ndarray
    text: dict[str, tuple[pa.Array, np.ndarray, np.ndarray]]  # column -> keys, offsets, entries
    ips: dict[str, IpTable]
    ports: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]  # column -> keys, offsets, ids

    columns: frozenset[str] = frozenset()  # every event column an indicator reads
    ipv6_text: frozenset[str] = frozenset()  # columns whose exact keys include IPv6 addresses


# --------------------------------------------------------------------------- patterns


def fold(column: str, text: str) -> str:
    """The comparable form of a text value of ``column``."""
    if column in FOLDED:
        text = text.lower()
        if column == "domain":
            text = text.rstrip(".")
    return text


def _network(text: str, family: int | None) -> tuple[int, int, int]:
    """(family, low, high) of an address or CIDR literal; Unsupported when it is neither."""
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise Unsupported(f"{text!r} is not an IP address or CIDR block") from None
    if family is not None and net.version != family:
        raise Unsupported(f"{text!r} is not an IPv{family} address")
    if net.prefixlen == 0:
        raise Unsupported(f"{text!r} is a /0 block: it would match every address")
    return net.version, int(net.network_address), int(net.broadcast_address)


def _slot_props(object_type: str, steps: tuple[Any, ...]) -> tuple[tuple[Any, ...], str, str]:
    slots = OBJECT_SLOTS.get(object_type)
    if slots is None:
        raise Unsupported(f"object type {object_type!r} is not matched against telemetry "
                          "(supported: " + ", ".join(OBJECT_SLOTS) + ")")
    if object_type == "file" and len(steps) == 2 and steps[0] == "hashes" and isinstance(
            steps[1], str):
        algorithm = HASH_ALIASES.get(steps[1].upper())
        if algorithm is None:
            raise Unsupported(f"file hash {steps[1]!r} is not in the telemetry (MD5, SHA-1, "
                              "SHA-256 are)")
        steps = ("hashes", algorithm)
    found = SLOTS[slots[0]].get(tuple(steps))
    if found is None:
        path = ".".join(str(s.value if isinstance(s, ast.Star) else s) for s in steps)
        raise Unsupported(f"property {object_type}:{path} is not matched against telemetry")
    return tuple(steps), found[0], found[1]


def _literals(value: ast.Constant | None) -> tuple[ast.Scalar, ...]:
    if isinstance(value, ast.SetConstant):
        return value.values
    if value is None:
        return ()
    return (value,)


def _atom(comparison: ast.Comparison) -> Atom:
    path = comparison.object_path
    prop, column, kind = _slot_props(path.object_type, path.steps)
    op, negated = comparison.operator, comparison.negated
    if op == "!=":
        op, negated = "=", not negated
    literals = _literals(comparison.value)
    if op in ORDER_OPS:
        number = literals[0] if literals else None
        if kind != PORT or isinstance(number, bool) or not isinstance(number, int | float):
            raise Unsupported(f"{op} is supported only on ports against a number")
        return Atom(column, kind, op, negated, prop, number=float(number))
    if op == "ISSUBSET":
        if kind != IP:
            raise Unsupported("ISSUBSET is supported only on IP addresses")
    elif op not in ("=", "IN"):
        raise Unsupported(f"the {op} operator is not supported by the matcher")
    if kind == PORT:
        numbers = [v for v in literals if isinstance(v, int | float) and not isinstance(v, bool)]
        if not literals or len(numbers) != len(literals):
            raise Unsupported("a port is compared with something other than a number")
        return Atom(column, kind, "in", negated, prop,
                    values=frozenset(float(v) for v in numbers))
    if any(not isinstance(v, str) for v in literals):
        raise Unsupported(f"{path.object_type} text is compared with a non-string literal")
    if kind == IP:
        family = {"ipv4-addr": 4, "ipv6-addr": 6}.get(path.object_type)
        ranges = tuple(_network(str(v), family) for v in literals)
        return Atom(column, kind, "in", negated, prop, ranges=ranges)
    return Atom(column, kind, "in", negated, prop,
                values=frozenset(fold(column, str(v)) for v in literals))


def _dnf(expr: ast.ComparisonExpr) -> list[list[tuple[str, Atom]]]:
    """OR of ANDs of (object type, atom)."""
    if isinstance(expr, ast.Comparison):
        return [[(expr.object_path.object_type, _atom(expr))]]
    parts = [_dnf(operand) for operand in expr.operands]
    if isinstance(expr, ast.Or):
        clauses = [clause for part in parts for clause in part]
    else:
        total = 1
        for part in parts:
            total *= len(part)
        if total > MAX_CLAUSES:
            raise Unsupported(f"the comparison expression expands to more than {MAX_CLAUSES} "
                              "alternatives")
        clauses = [[atom for clause in combo for atom in clause]
                   for combo in itertools.product(*parts)]
    if len(clauses) > MAX_CLAUSES:
        raise Unsupported(f"the comparison expression has more than {MAX_CLAUSES} alternatives")
    return clauses


def _observations(expr: ast.ObservationExpr) -> list[ast.Observation]:
    if isinstance(expr, ast.Observation):
        return [expr]
    if isinstance(expr, ast.ObsOr):
        return [obs for operand in expr.operands for obs in _observations(operand)]
    if isinstance(expr, ast.Qualified):
        kind = type(expr.qualifier).__name__.upper().replace("STARTSTOP", "START/STOP")
        raise Unsupported(f"the {kind} qualifier needs several events correlated in time; "
                          "the matcher tests one event at a time")
    word = "AND" if isinstance(expr, ast.ObsAnd) else "FOLLOWEDBY"
    raise Unsupported(f"observation expressions joined by {word} need several events "
                      "correlated; the matcher tests one event at a time")


def compile_pattern(text: str) -> tuple[Clause, ...]:
    """The clauses of a pattern; ``Unsupported`` says why a pattern cannot be matched."""
    try:
        tree = parse_pattern(text)
    except InputError as error:
        raise Unsupported(f"the pattern does not parse: {error.message}") from None
    clauses = []
    for observation in _observations(tree.expr):
        for conjunction in _dnf(observation.comparison):
            types = {object_type for object_type, _ in conjunction}
            if len(types) > 1:
                raise Unsupported("AND joins comparisons on different object types ("
                                  + ", ".join(sorted(types)) + "); no single object "
                                  "satisfies it, so it never matches")
            clauses.append(Clause(types.pop(), tuple(atom for _, atom in conjunction)))
    for clause in clauses:
        if not any(atom.indexable for atom in clause.atoms):
            raise Unsupported("an alternative has no equality, IN or ISSUBSET test (only "
                              "negations or ranges): it would be tested on every event")
    return tuple(clauses)


def epoch(text: str) -> float:
    """Seconds since the epoch of a STIX timestamp."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def compile_indicator(obj: Mapping[str, Any]) -> CompiledIndicator:
    """One STIX indicator object; ``Unsupported`` says why it cannot be matched."""
    if obj.get("type") != "indicator":
        raise Unsupported(f"a {obj.get('type')!r} object is not an indicator")
    if obj.get("revoked") is True:
        raise Unsupported("the indicator is revoked")
    if obj.get("pattern_type", "stix") != "stix":
        raise Unsupported(f"pattern_type {obj.get('pattern_type')!r}: only STIX patterns are "
                          "matched")
    pattern = obj.get("pattern")
    if not isinstance(pattern, str):
        raise Unsupported("the indicator has no pattern")
    try:
        valid_from = epoch(str(obj["valid_from"])) if obj.get("valid_from") else -FOREVER
        valid_until = epoch(str(obj["valid_until"])) if obj.get("valid_until") else FOREVER
    except ValueError:
        raise Unsupported("valid_from or valid_until is not a timestamp") from None
    markings = tuple(str(ref) for ref in obj.get("object_marking_refs") or ())
    return CompiledIndicator(str(obj.get("id")), compile_pattern(pattern), valid_from,
                             valid_until, markings)


# --------------------------------------------------------------------------- lookups


def _driver(clause: Clause) -> Atom:
    """The atom to index: an address or text equality before a port or protocol."""
    rank = {TEXT: 0, IP: 1, PORT: 2}
    candidates = [a for a in clause.atoms if a.indexable]
    return min(candidates, key=lambda a: (a.column == "protocol", rank[a.kind],
                                          len(a.values) + len(a.ranges)))


def _csr(pairs: Iterable[tuple[Any, int]]) -> tuple[list[Any], np.ndarray, np.ndarray]:
    grouped: dict[Any, list[int]] = defaultdict(list)
    for key, entry in pairs:
        grouped[key].append(entry)
    keys = sorted(grouped)
    offsets = np.zeros(len(keys) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(grouped[k]) for k in keys])
    entries = np.fromiter((e for k in keys for e in grouped[k]), dtype=np.int64,
                          count=int(offsets[-1]))
    return keys, offsets, entries


def build_lookup(objects: Iterable[Mapping[str, Any]]) -> Lookup:
    """Compile every indicator once; the others are listed with the reason."""
    indicators: list[CompiledIndicator] = []
    unsupported: list[UnsupportedIndicator] = []
    seen: set[str] = set()
    for obj in objects:
        ident = str(obj.get("id"))
        if obj.get("type") != "indicator" or ident in seen:
            continue
        seen.add(ident)
        try:
            indicators.append(compile_indicator(obj))
        except Unsupported as why:
            unsupported.append(UnsupportedIndicator(ident, str(why)))
    entry_indicator: list[int] = []
    entry_residual: dict[int, tuple[Atom, ...]] = {}
    text_pairs: dict[str, list[tuple[str, int]]] = defaultdict(list)
    ip_pairs: dict[str, list[tuple[int, int, int, int]]] = defaultdict(list)
    port_pairs: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for number, indicator in enumerate(indicators):
        for clause in indicator.clauses:
            driver = _driver(clause)
            for slot in OBJECT_SLOTS[clause.object_type]:
                entry = len(entry_indicator)
                entry_indicator.append(number)
                residual = tuple(_on_slot(a, slot) for a in clause.atoms if a is not driver)
                if residual:
                    entry_residual[entry] = residual
                _register(driver, slot, entry, text_pairs, port_pairs, ip_pairs)
    text = {}
    for column, text_list in text_pairs.items():
        keys, offsets, entries = _csr(text_list)
        text[column] = (pa.array(keys, type=pa.string()), offsets, entries)
    ports = {}
    for column, port_list in port_pairs.items():
        keys, offsets, entries = _csr(port_list)
        ports[column] = (np.asarray(keys, dtype=np.float64), offsets, entries)
    ips = {column: _ip_table(ranges) for column, ranges in ip_pairs.items()}
    columns = set(text) | set(ips) | set(ports)
    for residual in set(entry_residual.values()):
        columns.update(atom.column for atom in residual)
    return Lookup(
        indicators, unsupported, np.asarray(entry_indicator, dtype=np.int64), entry_residual,
        np.asarray([i.valid_from for i in indicators], dtype=np.float64),
        np.asarray([i.valid_until for i in indicators], dtype=np.float64),
        text, ips, ports, frozenset(columns),
        frozenset(c for c, pairs in text_pairs.items() if any(":" in k for k, _ in pairs)))


def _register(driver: Atom, slot: str, entry: int, text_pairs: dict[str, list[tuple[str, int]]],
              port_pairs: dict[str, list[tuple[float, int]]],
              ip_pairs: dict[str, list[tuple[int, int, int, int]]]) -> None:
    """Put one entry's driver into the lookup of the column it reads on ``slot``."""
    column = SLOTS[slot][driver.prop][0]
    if driver.kind == TEXT:
        text_pairs[column].extend((v, entry) for v in driver.values)
        return
    if driver.kind == PORT:
        port_pairs[column].extend((v, entry) for v in driver.values)
        return
    family = SLOT_FAMILY.get(slot)
    for fam, low, high in driver.ranges:
        if family not in (None, fam):
            continue
        if low == high:  # one address: a text key, in canonical form
            address = ipaddress.IPv4Address(low) if fam == 4 else ipaddress.IPv6Address(low)
            text_pairs[column].append((str(address), entry))
        else:
            ip_pairs[column].append((fam, low, high, entry))


def _on_slot(atom: Atom, slot: str) -> Atom:
    """The atom reading the column of ``slot`` (an address is the source or the destination)."""
    return replace(atom, column=SLOTS[slot][atom.prop][0])


def _ip_table(ranges: Sequence[tuple[int, int, int, int]]) -> IpTable:
    table = IpTable()
    v4: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for family, low, high, entry in ranges:
        bits = 32 if family == 4 else 128
        prefix = bits - (high - low).bit_length()
        if family == 4:
            v4[prefix].append((low, entry))
        else:
            table.v6.setdefault(prefix, {}).setdefault(low, []).append(entry)
    octets: set[int] = set()
    for prefix, pairs in v4.items():
        keys, offsets, entries = _csr(pairs)
        table.v4[prefix] = (np.asarray(keys, dtype=np.int64), offsets, entries)
        span = 1 << max(0, 8 - prefix)
        octets.update(octet for key in keys for octet in range(key >> 24, (key >> 24) + span))
    table.first_octets = tuple(sorted(octets)) if len(octets) <= MAX_PREFILTER else None
    return table

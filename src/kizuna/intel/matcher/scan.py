"""The scan: blocks of events against the compiled lookups, whole arrays at a time.

For each column an indicator drives on, the block's distinct values (the reader's
dictionary) are looked up once — a hash lookup for text and exact addresses, a sorted array
per prefix length for CIDR blocks, a sorted array for ports — and the hits are spread back to
the rows through the dictionary codes. Only the rows a driver found are checked against the
rest of their clause and the indicator's validity window, then counted per indicator with
first and last time. No Python runs per event.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kizuna.intel.matcher.addresses import ipv6_int
from kizuna.intel.matcher.compile import FOLDED, IP, PORT, Atom, IpTable, Lookup
from kizuna.intel.matcher.readers import MAX_BAD_EXAMPLES, Block, FilePlan, read_range

EMPTY = np.zeros(0, dtype=np.int64)
IP_COLUMNS = frozenset({"src_ip", "dst_ip"})


@dataclass
class Partial:
    """Matches of one byte range: per indicator (index into the lookup) count, first, last."""

    indicators: np.ndarray
    counts: np.ndarray
    first: np.ndarray
    last: np.ndarray
    events: int = 0
    bad_count: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)
    lines: int = 0


# --------------------------------------------------------------------------- lookups


def _dictionary(values: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """(distinct values, code of each row; -1 for null)."""
    if not pa.types.is_dictionary(values.type):
        values = pc.dictionary_encode(values)
    codes = values.indices.to_numpy(zero_copy_only=False)
    if values.null_count:
        codes = np.where(values.is_valid().to_numpy(zero_copy_only=False), codes, -1)
    return values.dictionary, np.asarray(codes, dtype=np.int64)


def _spread(codes: np.ndarray, size: int, hit_unique: np.ndarray,
            hit_entry: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, entry) for every row whose distinct value has entries."""
    if not len(hit_unique):
        return EMPTY, EMPTY
    order = np.argsort(hit_unique, kind="stable")
    hit_unique, hit_entry = hit_unique[order], hit_entry[order]
    counts = np.bincount(hit_unique, minlength=size + 1)
    rows = np.flatnonzero((counts > 0)[codes])
    return _expand(rows, codes[rows], counts, hit_entry)


def _expand(rows: np.ndarray, keys: np.ndarray, counts: np.ndarray,
            entries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row repeated once per entry of its key (entries grouped by key, in key order)."""
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    per_row = counts[keys]
    total = int(per_row.sum())
    if total == 0:
        return EMPTY, EMPTY
    offsets = np.arange(total) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    return np.repeat(rows, per_row), entries[np.repeat(starts[keys], per_row) + offsets]


def _fold(column: str, values: pa.Array, ipv6: bool = True) -> pa.Array:
    """The comparable form of a column's values (``ipv6``: canonicalise IPv6 text)."""
    if values.type != pa.string():
        values = values.cast(pa.string())
    if column in FOLDED:
        values = pc.utf8_lower(values)
        if column == "domain":
            values = pc.utf8_rtrim(values, characters=".")
    elif column in IP_COLUMNS and ipv6:
        values = _canonical_ipv6(values)
    return values


def _canonical_ipv6(values: pa.Array) -> pa.Array:
    """IPv6 text in the compressed lower-case form the exact-address keys use."""
    colon = pc.fill_null(pc.match_substring(values, ":"), False).to_numpy(zero_copy_only=False)
    if not colon.any():
        return values
    texts = values.to_pylist()
    for index in np.flatnonzero(colon):
        number = ipv6_int(texts[index])
        if number is not None:
            texts[index] = str(ipaddress.IPv6Address(number))
    return pa.array(texts, type=pa.string())


def _ipv4(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(address, valid) of dotted quads, via Arrow's split and cast."""
    size = len(values)
    out = np.zeros(size, dtype=np.int64)
    parts = pc.split_pattern(values, ".")
    four = pc.fill_null(pc.equal(pc.list_value_length(parts), 4), False).to_numpy(
        zero_copy_only=False)
    if not four.any():
        return out, four
    chosen = pc.list_flatten(parts.filter(pa.array(four)))
    try:
        numbers = pc.cast(chosen, pa.int64()).to_numpy(zero_copy_only=False).reshape(-1, 4)
        ok = ((numbers >= 0) & (numbers <= 255)).all(axis=1)
        ok &= pc.all(pc.less_equal(pc.utf8_length(chosen), 3)).as_py() is not False
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        texts = chosen.to_pylist()
        numbers = np.asarray([int(t) if t.isdigit() and len(t) <= 3 else -1 for t in texts],
                             dtype=np.int64).reshape(-1, 4)
        ok = ((numbers >= 0) & (numbers <= 255)).all(axis=1)
    ints = (numbers[:, 0] << 24) | (numbers[:, 1] << 16) | (numbers[:, 2] << 8) | numbers[:, 3]
    where = np.flatnonzero(four)
    valid = np.zeros(size, dtype=bool)
    valid[where[ok]] = True
    out[where[ok]] = ints[ok]
    return out, valid


def _v4_range_hits(table: IpTable, values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(row, entry) of IPv4 values inside a block of ``table``."""
    if table.first_octets is not None:  # only values starting with a block's first octet
        mask = np.zeros(len(values), dtype=bool)
        for octet in table.first_octets:
            mask |= np.asarray(pc.fill_null(pc.starts_with(values, f"{octet}."), False)
                               .to_numpy(zero_copy_only=False), dtype=bool)
        rows = np.flatnonzero(mask)
        if not len(rows):
            return EMPTY, EMPTY
        distinct, codes = _dictionary(values.take(pa.array(rows)))
    else:
        rows = None
        distinct, codes = _dictionary(values)
    ints, valid = _ipv4(distinct)
    index = np.flatnonzero(valid)
    ints = ints[index]
    hit_u: list[np.ndarray] = []
    hit_e: list[np.ndarray] = []
    for prefix, (keys, offsets, entries) in table.v4.items():
        mask_bits = ((1 << 32) - 1) ^ ((1 << (32 - prefix)) - 1)
        masked = ints & mask_bits
        pos = np.minimum(np.searchsorted(keys, masked), len(keys) - 1)
        found = keys[pos] == masked
        unique_rows, ents = _expand(index[found], pos[found], np.diff(offsets), entries)
        hit_u.append(unique_rows)
        hit_e.append(ents)
    codes = np.where(codes < 0, len(distinct), codes)
    sub_rows, ents = _spread(codes, len(distinct), np.concatenate(hit_u), np.concatenate(hit_e))
    return (sub_rows if rows is None else rows[sub_rows]), ents


def _v6_range_hits(table: IpTable, values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    colon = np.flatnonzero(np.asarray(pc.fill_null(pc.match_substring(values, ":"), False)
                                      .to_numpy(zero_copy_only=False), dtype=bool))
    rows: list[int] = []
    ents: list[int] = []
    texts = values.take(pa.array(colon)).to_pylist() if len(colon) else []
    for row, text in zip(colon.tolist(), texts, strict=True):
        address = ipv6_int(text)
        if address is None:
            continue
        for prefix, networks in table.v6.items():
            for entry in networks.get(address >> (128 - prefix) << (128 - prefix), ()):
                rows.append(row)
                ents.append(entry)
    return np.asarray(rows, dtype=np.int64), np.asarray(ents, dtype=np.int64)


def _text_hits(column: str, values: pa.Array, keys: pa.Array, offsets: np.ndarray,
               ents: np.ndarray, ipv6: bool) -> tuple[np.ndarray, np.ndarray]:
    """(row, entry) of the values equal to a key, after folding them as the keys were.

    Values compared as they are (IPv4 addresses, URLs) are looked up row by row in one pass:
    Arrow builds the key set once per call, and encoding the block first would hash every
    row anyway. Values that need folding (lower-casing, IPv6 canonical form) are folded once
    per distinct value and spread back through the dictionary codes.
    """
    if not pa.types.is_dictionary(values.type) and column not in FOLDED and not (
            ipv6 and column in IP_COLUMNS):
        if values.type != pa.string():
            values = values.cast(pa.string())
        pos = pc.index_in(values, value_set=keys)
        pos_np = np.asarray(pc.fill_null(pos, -1).to_numpy(zero_copy_only=False),
                            dtype=np.int64)
        found = np.flatnonzero(pos_np >= 0)
        return _expand(found, pos_np[found], np.diff(offsets), ents)
    distinct, codes = _dictionary(values)  # fold and look each distinct value up once
    pos = pc.index_in(_fold(column, distinct, ipv6), value_set=keys)
    pos_np = np.asarray(pc.fill_null(pos, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    found = np.flatnonzero(pos_np >= 0)
    hit_u, hit_e = _expand(found, pos_np[found], np.diff(offsets), ents)
    codes = np.where(codes < 0, len(distinct), codes)
    return _spread(codes, len(distinct), hit_u, hit_e)


def _candidates(lookup: Lookup, block: Block) -> tuple[np.ndarray, np.ndarray]:
    rows: list[np.ndarray] = []
    entries: list[np.ndarray] = []
    for column, (keys, offsets, ents) in lookup.text.items():
        values = block.columns.get(column)
        if values is None:
            continue
        r, e = _text_hits(column, values, keys, offsets, ents, column in lookup.ipv6_text)
        rows.append(r)
        entries.append(e)
    for column, table in lookup.ips.items():
        values = block.columns.get(column)
        if values is None:
            continue
        if pa.types.is_dictionary(values.type):
            values = values.cast(pa.string())
        for hits in (_v4_range_hits if table.v4 else None, _v6_range_hits if table.v6
                     else None):
            if hits is not None:
                r, e = hits(table, values)
                rows.append(r)
                entries.append(e)
    for column, (numbers_keys, offsets, ents) in lookup.ports.items():
        values = block.columns.get(column)
        if values is None or not len(numbers_keys):
            continue
        numbers = _numbers(values)
        pos = np.minimum(np.searchsorted(numbers_keys, numbers), len(numbers_keys) - 1)
        found = np.flatnonzero(numbers_keys[pos] == numbers)
        r, e = _expand(found, pos[found], np.diff(offsets), ents)
        rows.append(r)
        entries.append(e)
    if not rows:
        return EMPTY, EMPTY
    return np.concatenate(rows), np.concatenate(entries)


def _numbers(values: pa.Array) -> np.ndarray:
    """Float values of a numeric or text column; NaN where missing or not a number."""
    try:
        numbers = pc.cast(values, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return np.asarray([_float(v) for v in values.to_pylist()], dtype=np.float64)
    out = np.asarray(numbers.to_numpy(zero_copy_only=False), dtype=np.float64)
    if numbers.null_count:
        out = np.where(pc.is_null(numbers).to_numpy(zero_copy_only=False), np.nan, out)
    return out


def _float(value: object) -> float:
    try:
        return float(str(value)) if value is not None else float("nan")
    except ValueError:
        return float("nan")


# --------------------------------------------------------------------------- residual atoms


def atom_holds(atom: Atom, block: Block, rows: np.ndarray) -> np.ndarray:
    """Whether each row's object passes ``atom`` (an absent property never does)."""
    values = block.columns.get(atom.column)
    if values is None:
        return np.zeros(len(rows), dtype=bool)
    taken = values.take(pa.array(rows))
    present = taken.is_valid().to_numpy(zero_copy_only=False)
    if atom.kind == PORT:
        numbers = _numbers(taken)
        present &= ~np.isnan(numbers)
        test = _port_test(atom, numbers)
    elif atom.kind == IP:
        test = np.asarray([_in_ranges(text, atom.ranges) for text in taken.to_pylist()],
                          dtype=bool)
        present &= np.asarray([_is_ip(text) for text in taken.to_pylist()], dtype=bool)
    else:
        folded = _fold(atom.column, taken.cast(pa.string()) if pa.types.is_dictionary(
            taken.type) else taken)
        test = np.asarray(pc.fill_null(pc.is_in(folded, value_set=pa.array(
            sorted(atom.values), type=pa.string())), False).to_numpy(zero_copy_only=False),
            dtype=bool)
    holds: np.ndarray = present & (test != atom.negated)
    return holds


def _port_test(atom: Atom, numbers: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        if atom.op == "in":
            return np.isin(numbers, np.asarray(sorted(atom.values)))
        compare: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
            "<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}
        return compare[atom.op](numbers, atom.number)


def _is_ip(text: str | None) -> bool:
    if text is None:
        return False
    try:
        ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _in_ranges(text: str | None, ranges: Sequence[tuple[int, int, int]]) -> bool:
    if text is None:
        return False
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    number = int(address)
    return any(family == address.version and low <= number <= high
               for family, low, high in ranges)


# --------------------------------------------------------------------------- one block


def match_pairs(lookup: Lookup, block: Block
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(row, indicator index, time) of every match in ``block`` (a row may appear once per
    clause it satisfies), and the rows a driver found whose time is not readable."""
    rows, entries = _candidates(lookup, block)
    if len(rows) and lookup.entry_residual and any(
            int(e) in lookup.entry_residual for e in np.unique(entries)):
        rows, entries = _residual(lookup, block, rows, entries)
    indicators = lookup.entry_indicator[entries] if len(entries) else EMPTY
    times = block.times(rows) if len(rows) else np.zeros(0)
    unreadable = np.unique(rows[np.isnan(times)]) if block.ts is None else EMPTY
    with np.errstate(invalid="ignore"):
        inside = (times >= lookup.valid_from[indicators]) & (times < lookup.valid_until[
            indicators])
    return rows[inside], indicators[inside], times[inside], unreadable


def match_block(lookup: Lookup, block: Block) -> Partial:
    """Count the indicators each event of ``block`` matches."""
    rows, indicators, times, unreadable = match_pairs(lookup, block)
    partial = _aggregate(rows, indicators, times, block.rows)
    bad = list(block.bad)
    for line in block.line_of(unreadable[:MAX_BAD_EXAMPLES]).tolist():
        bad.append((int(line), f"{block.ts_name} is not a time"))
    bad.sort()
    partial.events = block.rows - (len(unreadable) if block.ts is None else
                                   int(np.isnan(block.ts).sum()))
    partial.bad = bad
    partial.bad_count = block.bad_count + len(unreadable)
    partial.lines = block.lines
    return partial


def _residual(lookup: Lookup, block: Block, rows: np.ndarray,
              entries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = np.ones(len(rows), dtype=bool)
    order = np.argsort(entries, kind="stable")
    unique, starts = np.unique(entries[order], return_index=True)
    bounds = np.append(starts, len(order))
    for number, entry in enumerate(unique):
        atoms = lookup.entry_residual.get(int(entry))
        if not atoms:
            continue
        where = order[bounds[number]:bounds[number + 1]]
        ok = np.ones(len(where), dtype=bool)
        for atom in atoms:
            ok &= atom_holds(atom, block, rows[where])
        keep[where] = ok
    return rows[keep], entries[keep]


def _aggregate(rows: np.ndarray, indicators: np.ndarray, times: np.ndarray,
               size: int) -> Partial:
    if not len(rows):
        return Partial(EMPTY, EMPTY, np.zeros(0), np.zeros(0))
    keys = indicators * max(size, 1) + rows
    keys, first_index = np.unique(keys, return_index=True)
    indicators, times = keys // max(size, 1), times[first_index]
    unique, starts, counts = np.unique(indicators, return_index=True, return_counts=True)
    return Partial(unique, counts.astype(np.int64), np.minimum.reduceat(times, starts),
                   np.maximum.reduceat(times, starts))


def merge(partials: Sequence[Partial]) -> Partial:
    """One Partial from many (counts add, first is the earliest, last the latest)."""
    parts = [p for p in partials if len(p.indicators)]
    total = Partial(EMPTY, EMPTY, np.zeros(0), np.zeros(0))
    if parts:
        indicators = np.concatenate([p.indicators for p in parts])
        order = np.argsort(indicators, kind="stable")
        indicators = indicators[order]
        unique, starts = np.unique(indicators, return_index=True)
        total = Partial(
            unique, np.add.reduceat(np.concatenate([p.counts for p in parts])[order], starts),
            np.minimum.reduceat(np.concatenate([p.first for p in parts])[order], starts),
            np.maximum.reduceat(np.concatenate([p.last for p in parts])[order], starts))
    total.events = sum(p.events for p in partials)
    total.bad_count = sum(p.bad_count for p in partials)
    total.lines = sum(p.lines for p in partials)
    return total


def scan_range(lookup: Lookup, plan: FilePlan, start: int, end: int) -> Partial:
    """Read one byte range of a file and match it (the unit of work, local or on Dask)."""
    return match_block(lookup, read_range(plan, start, end))

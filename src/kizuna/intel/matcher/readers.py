"""Telemetry files to blocks of event columns: Zeek TSV and JSON, JSON lines, CSV.

A file is planned once (its header read, the field mapping checked: every problem is an
error before any work starts) and cut into byte ranges that end on a newline. Each range is
parsed by itself with pyarrow's CSV or JSON reader (one buffer, one thread: several ranges
run in parallel), so line numbers of broken lines are exact: the reader reports the lines it
cannot parse, and a range whose values do not convert (a ``ts`` that is not a time, a port
that is not a number) is parsed again as text and checked column by column.

Every event becomes the canonical columns below (absent ones are simply missing):

| column | STIX object it stands for |
|---|---|
| ``ts`` | the observation time (seconds since the epoch) |
| ``src_ip``/``dst_ip`` | ``ipv4-addr``/``ipv6-addr``; ``network-traffic`` ``src_ref``/``dst_ref`` |
| ``src_port``/``dst_port`` | ``network-traffic`` ``src_port``/``dst_port`` |
| ``protocol`` | ``network-traffic`` ``protocols`` |
| ``domain``, ``url``, ``email`` | ``domain-name``, ``url``, ``email-addr`` ``value`` |
| ``md5``/``sha1``/``sha256`` | ``file`` ``hashes`` |
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json

from kizuna.errors import InputError
from kizuna.intel.matcher import tsv

FORMATS = ("zeek", "jsonl", "csv")
CANONICAL = ("ts", "src_ip", "dst_ip", "src_port", "dst_port", "protocol", "domain", "url",
             "email", "md5", "sha1", "sha256")
PORTS = ("src_port", "dst_port")
OBSERVABLES = frozenset(CANONICAL) - {"ts"}
#: Zeek field -> canonical column (conn, dns, http, files, ssl, smtp); first present wins
ZEEK_FIELDS: dict[str, str] = {
    "ts": "ts", "id.orig_h": "src_ip", "id.resp_h": "dst_ip", "id.orig_p": "src_port",
    "id.resp_p": "dst_port", "proto": "protocol", "query": "domain", "host": "domain",
    "server_name": "domain", "mailfrom": "email", "md5": "md5", "sha1": "sha1",
    "sha256": "sha256",
}
ZEEK_NULLS = ["-", "(empty)"]
CHUNK_BYTES = 48 * 1024 * 1024  # per range: large, so per-call set-up is amortised
MAX_BAD_EXAMPLES = 1000
HOST_PORT = r"^([^:]+):\d+$"


@dataclass(frozen=True)
class FilePlan:
    """How to read one file: format, the source fields to read and the column each fills."""

    path: str
    kind: str  # zeek-tsv | zeek-json | jsonl | csv
    fields: dict[str, str]  # source field -> canonical column
    names: tuple[str, ...] = ()  # every column of a delimited file, in order
    delimiter: str = "\t"
    data_start: int = 0  # byte offset of the first data line
    header_lines: int = 0
    ts_text: bool = False  # ts given as ISO 8601 text rather than epoch seconds
    url_parts: tuple[str, str] | None = None  # Zeek http: host + uri
    nested: tuple[str, ...] = ()  # JSON fields reached through nested objects
    size: int = 0


@dataclass
class Block:
    """The events of one byte range, as canonical columns.

    Delimited files are read as text only: the time and ports of an event are converted
    when a driver has found it (``times``), so a value that does not convert is a bad line
    only if the event mattered; JSON is converted by its reader.
    """

    columns: dict[str, pa.Array]
    rows: int
    lines: int  # physical lines in the range
    bad: list[tuple[int, str]] = field(default_factory=list)  # (line within range, reason)
    bad_count: int = 0
    ts: np.ndarray | None = None  # seconds since the epoch (NaN: none), when converted
    ts_text: pa.Array | None = None  # the raw time column, when not converted yet
    ts_iso: bool = False
    ts_name: str = "ts"
    row_lines: np.ndarray | None = None  # line of each row, when not simply row + 1

    def line_of(self, rows: np.ndarray) -> np.ndarray:
        lines: np.ndarray = rows + 1 if self.row_lines is None else self.row_lines[rows]
        return lines

    def times(self, rows: np.ndarray) -> np.ndarray:
        """The time of each of ``rows`` (NaN where it is missing or not a time)."""
        if self.ts is not None:
            known: np.ndarray = self.ts[rows]
            return known
        if self.ts_text is None or not len(rows):
            return np.full(len(rows), np.nan)
        return seconds(self.ts_text.take(pa.array(rows)), iso=self.ts_iso)


# --------------------------------------------------------------------------- planning


def parse_field_map(items: Sequence[str]) -> dict[str, str]:
    """``["ts=time,src_ip=source.ip", "domain=query"]`` -> {canonical: source field}."""
    mapping: dict[str, str] = {}
    for item in items:
        for part in item.split(","):
            if not part.strip():
                continue
            name, sep, source = part.partition("=")
            name, source = name.strip(), source.strip()
            if not sep or not source:
                raise InputError(f"--field-map entry {part!r} is not COLUMN=FIELD",
                                 hint="e.g. --field-map ts=time,dst_ip=dest_ip,domain=query",
                                 field="field_map", value=part)
            if name not in CANONICAL:
                raise InputError(f"--field-map: unknown column {name!r}",
                                 hint="columns: " + ", ".join(CANONICAL), field="field_map",
                                 value=name)
            mapping[name] = source
    return mapping


def _first_line(path: Path, skip_comments: bool) -> tuple[bytes, int, int]:
    """(first data line, its byte offset, comment lines before it)."""
    offset = comments = 0
    with path.open("rb") as handle:
        for line in handle:
            if skip_comments and line.startswith(b"#"):
                offset += len(line)
                comments += 1
                continue
            if line.strip():
                return line, offset, comments
            offset += len(line)
            comments += 1
    return b"", offset, comments


def _json_fields(line: bytes, wanted: Mapping[str, str]) -> tuple[dict[str, str], list[str],
                                                                  bool]:
    try:
        record = orjson.loads(line) if line.strip() else {}
    except orjson.JSONDecodeError:
        record = {}
    if not isinstance(record, dict):
        record = {}
    fields, nested = {}, []
    for source, column in wanted.items():
        if source in record:
            fields[source] = column
            continue
        node: Any = record
        for step in source.split("."):
            node = node.get(step) if isinstance(node, dict) else None
        fields[source] = column  # absent from the first record: null where missing
        if node is not None:
            nested.append(source)
    ts_source = next((s for s, c in fields.items() if c == "ts"), None)
    ts_value = record.get(ts_source) if ts_source else None
    return fields, nested, isinstance(ts_value, str)


def plan_file(path: str | os.PathLike[str], fmt: str,
              field_map: Mapping[str, str] | None = None) -> FilePlan:
    """Read a file's header and check the mapping; every problem is an InputError here."""
    if fmt not in FORMATS:
        raise InputError(f"unknown telemetry format {fmt!r}", hint="use zeek, jsonl or csv",
                         field="format", value=fmt)
    file = Path(path)
    if not file.is_file():
        raise InputError(f"no such log file: {file}", field="path", value=str(file))
    size = file.stat().st_size
    user = dict(field_map or {})
    if fmt in ("jsonl", "csv") and ("ts" not in user or not OBSERVABLES & set(user)):
        raise InputError(
            f"{fmt} telemetry needs a field mapping with ts and at least one observable "
            "column", hint="give --field-map ts=FIELD,dst_ip=FIELD,...; columns: "
            + ", ".join(CANONICAL), field="field_map", value=str(file))
    wanted = {source: column for column, source in user.items()}
    if fmt == "csv":
        return _plan_csv(file, wanted, size)
    first, offset, comments = _first_line(file, skip_comments=True)
    if fmt == "zeek" and not first.lstrip().startswith(b"{"):
        return _plan_zeek_tsv(file, user, size)
    base = {} if fmt == "jsonl" else dict(ZEEK_FIELDS)
    base = {s: c for s, c in base.items() if c not in user} | wanted
    fields, nested, ts_text = _json_fields(first, base | {"uri": "uri"})
    url_parts = ("host", "uri") if fmt == "zeek" and {"host", "uri"} <= set(fields) and \
        "url" not in user else None
    fields.pop("uri", None)
    if first and "ts" not in fields.values():
        raise InputError(f"{file}: the first record has no {_ts_name(user)} field",
                         hint="map the time field with --field-map ts=FIELD", field="path",
                         value=str(file))
    return FilePlan(str(file), "zeek-json" if fmt == "zeek" else "jsonl", fields,
                    data_start=offset, header_lines=comments, ts_text=ts_text,
                    url_parts=url_parts, nested=tuple(nested), size=size)


def _ts_name(user: Mapping[str, str]) -> str:
    return repr(user.get("ts", "ts"))


def _plan_zeek_tsv(file: Path, user: Mapping[str, str], size: int) -> FilePlan:
    names: list[str] = []
    delimiter = "\t"
    offset = lines = 0
    with file.open("rb") as handle:
        for raw in handle:
            if not raw.startswith(b"#"):
                break
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            if text.startswith("#separator"):
                sep = text.split(" ", 1)[-1].strip()
                delimiter = sep.encode().decode("unicode_escape") if sep.startswith("\\x") \
                    else sep
            elif text.startswith("#fields"):
                names = text.split(delimiter)[1:]
            offset += len(raw)
            lines += 1
    if not names:
        raise InputError(f"{file} is not a Zeek log: no #fields header and not Zeek JSON",
                         hint="Zeek TSV logs start with #separator ... #fields ...; for other "
                         "files use --format jsonl or csv with --field-map", field="path",
                         value=str(file))
    wanted = {s: c for s, c in ZEEK_FIELDS.items() if c not in user}
    wanted |= {source: column for column, source in user.items()}
    fields = {name: wanted[name] for name in names if name in wanted}
    missing = [source for column, source in user.items() if source not in names]
    if missing:
        raise InputError(f"{file}: no field {missing[0]!r} in its #fields header",
                         field="field_map", value=missing[0])
    if "ts" not in fields.values():
        raise InputError(f"{file}: the Zeek log has no ts field", field="path",
                         value=str(file))
    fields = dict(sorted(fields.items(), key=lambda kv: list(ZEEK_FIELDS).index(kv[0])
                         if kv[0] in ZEEK_FIELDS else -1))
    url_parts = ("host", "uri") if {"host", "uri"} <= set(names) and "url" not in user \
        else None
    return FilePlan(str(file), "zeek-tsv", fields, names=tuple(names), delimiter=delimiter,
                    data_start=offset, header_lines=lines, url_parts=url_parts, size=size)


def _plan_csv(file: Path, wanted: dict[str, str], size: int) -> FilePlan:
    with file.open("rb") as handle:
        header = handle.readline()
        first = handle.readline()
    names = pa_csv.read_csv(pa.BufferReader(header)).column_names if header.strip() else []
    missing = [source for source in wanted if source not in names]
    if missing:
        raise InputError(f"{file}: no column {missing[0]!r} in the CSV header",
                         hint="header: " + ", ".join(names), field="field_map",
                         value=missing[0])
    ts_source = next(s for s, c in wanted.items() if c == "ts")
    ts_text = False
    if first.strip():
        cells = pa_csv.read_csv(pa.BufferReader(header + first), convert_options=
                                pa_csv.ConvertOptions(column_types={ts_source: pa.string()}))
        value = cells.column(ts_source)[0].as_py() if cells.num_rows else None
        ts_text = value is not None and not _is_number(value)
    return FilePlan(str(file), "csv", dict(wanted), names=tuple(names), delimiter=",",
                    data_start=len(header), header_lines=1, ts_text=ts_text, size=size)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def ranges(plan: FilePlan, chunk_bytes: int = CHUNK_BYTES) -> list[tuple[int, int]]:
    """Byte ranges of the data, each ending just after a newline (or at the end)."""
    out: list[tuple[int, int]] = []
    start = plan.data_start
    with open(plan.path, "rb") as handle:
        while start < plan.size:
            end = min(start + chunk_bytes, plan.size)
            if end < plan.size:
                handle.seek(end)
                tail = handle.readline()
                end += len(tail)
            out.append((start, end))
            start = end
    return out


# --------------------------------------------------------------------------- reading


def narrow(plan: FilePlan, columns: Collection[str]) -> FilePlan:
    """The plan reading only ``columns`` (and ts): fewer columns, less to convert."""
    fields = {s: c for s, c in plan.fields.items() if c in columns or c == "ts"}
    url_parts = plan.url_parts if "url" in columns else None
    return replace(plan, fields=fields, url_parts=url_parts)


def read_range(plan: FilePlan, start: int, end: int) -> Block:
    if plan.kind in ("zeek-tsv", "csv"):
        with pa.memory_map(plan.path) as mapped:  # no copy of the range
            mapped.seek(start)
            return _read_delimited(plan, mapped.read_buffer(end - start))
    with open(plan.path, "rb") as handle:
        handle.seek(start)
        data = handle.read(end - start)
    block = _read_json(plan, data)
    block.lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    return block


def _read_delimited(plan: FilePlan, data: pa.Buffer, *, kernel: bool = True) -> Block:
    """Text columns only (nothing to convert, so nothing fails but the field count).

    Zeek TSV goes through ``tsv``'s kernel unless ``kernel`` is false (pyarrow's reader,
    the reference the kernel is tested against).
    """
    expected = len(plan.names)
    skipped: list[int] = []
    bad: list[tuple[int, str]] = []

    def on_invalid(row: Any) -> str:
        number = int(row.number) if row.number is not None else 0
        skipped.append(number)
        try:
            text = row.text or ""
        except UnicodeDecodeError:  # a broken line that is not UTF-8 either
            text = "?"
        if text.strip() and not text.startswith("#"):
            bad.append((number, f"{row.actual_columns} fields where the header has {expected}"))
        return "skip"

    reads = {**plan.fields, **({p: p for p in plan.url_parts} if plan.url_parts else {})}
    zeek = plan.kind == "zeek-tsv"
    if zeek and kernel and tsv.fits(plan.delimiter):
        return _read_zeek_fields(plan, data, reads)
    data = _hide_broken_non_utf8(plan, data, bad)
    table = pa_csv.read_csv(pa.BufferReader(data), read_options=pa_csv.ReadOptions(
        column_names=list(plan.names), use_threads=False, block_size=max(len(data) + 1,
                                                                         1 << 20)),
        parse_options=pa_csv.ParseOptions(
            delimiter=plan.delimiter, quote_char=False if zeek else '"',
            double_quote=not zeek, escape_char=False, ignore_empty_lines=False,
            invalid_row_handler=on_invalid),
        convert_options=pa_csv.ConvertOptions(
            include_columns=list(reads), column_types=dict.fromkeys(reads, pa.binary()),
            null_values=ZEEK_NULLS if zeek else ["", "-"], strings_can_be_null=True,
            quoted_strings_can_be_null=True))
    lines = table.num_rows + len(skipped)
    row_lines = _row_lines(lines, skipped, table.num_rows) if skipped else None
    table, row_lines = _utf8_rows(plan, table, row_lines, bad)
    block = _block(plan, table, sorted(bad), row_lines=row_lines)
    block.lines = lines
    return block


def _hide_broken_non_utf8(plan: FilePlan, data: pa.Buffer,
                          bad: list[tuple[int, str]]) -> pa.Buffer:
    """``data`` with each line that is not UTF-8 and has the wrong field count made a ``#``
    line, reported in ``bad``: pyarrow decodes a broken line before it reports it, and
    fails the whole range when it cannot (fields of a good line are checked later)."""
    whole = pa.Array.from_buffers(pa.string(), 1, [None, pa.py_buffer(
        np.array([0, len(data)], dtype=np.int32)), data])
    try:
        whole.validate(full=True)
        return data
    except pa.ArrowInvalid:
        pass
    lines = data.to_pybytes().split(b"\n")
    expected = len(plan.names)
    delimiter = plan.delimiter.encode()
    for number, line in enumerate(lines):
        try:
            line.decode()
        except UnicodeDecodeError:
            got = line.count(delimiter) + 1
            if line.startswith(b"#"):  # a comment, skipped like any other
                lines[number] = b"#"
            elif got != expected:
                bad.append((number + 1, f"{got} fields where the header has {expected}"))
                lines[number] = b"#"
    return pa.py_buffer(b"\n".join(lines))


def _utf8_rows(plan: FilePlan, table: pa.Table, row_lines: np.ndarray | None,
               bad: list[tuple[int, str]]) -> tuple[pa.Table, np.ndarray | None]:
    """The table as text; a row with a field that is not UTF-8 is dropped as a bad line
    (pyarrow's string columns would fail the whole range)."""
    names = sorted(table.column_names, key=plan.names.index)  # file order, as the kernel
    columns, rows = tsv.text_columns([table.column(n).combine_chunks() for n in names])
    table = pa.table(dict(zip(names, columns, strict=True)))
    if not rows:
        return table, row_lines
    lines = row_lines if row_lines is not None else np.arange(1, table.num_rows + 1)
    bad.extend((int(lines[row]), f"field {names[position]} is not UTF-8 text")
               for row, position in rows.items())
    keep = np.ones(table.num_rows, dtype=bool)
    keep[list(rows)] = False
    return table.filter(pa.array(keep)), lines[keep]


def _read_zeek_fields(plan: FilePlan, data: pa.Buffer, reads: Collection[str]) -> Block:
    """Zeek TSV through the field-cutting kernel: the same block as pyarrow's reader gives."""
    index = {name: i for i, name in enumerate(plan.names)}
    wanted = sorted({index[name] for name in reads})
    split = tsv.split_fields(data, plan.delimiter, len(plan.names), wanted, ZEEK_NULLS)
    table = pa.table(dict(zip((plan.names[i] for i in wanted), split.columns, strict=True)))
    row_lines = None
    bad: list[tuple[int, str]] = []
    if split.status.any():
        keep = split.status == tsv.OK
        table = table.filter(pa.array(keep))
        row_lines = np.flatnonzero(keep) + 1
        expected = len(plan.names)
        bad = [(line + 1, f"field {plan.names[split.bad_utf8[line]]} is not UTF-8 text"
                if line in split.bad_utf8 else
                f"{split.fields[line]} fields where the header has {expected}")
               for line in np.flatnonzero(split.status == tsv.BAD).tolist()]
    block = _block(plan, table, bad, row_lines=row_lines)
    block.lines = split.lines
    return block


def _row_lines(lines: int, skipped: Sequence[int], rows: int) -> np.ndarray:
    """1-based line (within the range) of each parsed row: every line not skipped."""
    all_lines = np.arange(1, max(lines, rows + len(skipped)) + 1, dtype=np.int64)
    if skipped:
        all_lines = np.setdiff1d(all_lines, np.asarray(skipped, dtype=np.int64),
                                 assume_unique=True)
    return all_lines[:rows]


def _read_json(plan: FilePlan, data: bytes) -> Block:
    if b"\n\n" not in data and not data.startswith(b"\n"):
        try:
            table = pa_json.read_json(pa.BufferReader(data), read_options=pa_json.ReadOptions(
                use_threads=False, block_size=max(len(data) + 1, 1 << 20)),
                parse_options=pa_json.ParseOptions(explicit_schema=_json_schema(plan),
                                                   unexpected_field_behavior="ignore"))
            flat = _flatten_json(plan, table)
            ts = seconds(flat[_ts_source(plan)], iso=plan.ts_text)
            if not np.isnan(ts).any():
                return _block(plan, flat, [], ts=ts)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    return _read_json_slowly(plan, data)


def _json_schema(plan: FilePlan) -> pa.Schema:
    tree: dict[str, Any] = {}
    for source, column in {**plan.fields, **({"host": "", "uri": ""} if plan.url_parts
                                              else {})}.items():
        kind: pa.DataType
        if column == "ts":
            kind = pa.string() if plan.ts_text else pa.float64()
        elif column in PORTS:
            kind = pa.int64()
        else:
            kind = pa.string()
        steps = source.split(".") if source in plan.nested else [source]
        node = tree
        for step in steps[:-1]:
            node = node.setdefault(step, {})
        node[steps[-1]] = kind

    def build(node: dict[str, Any]) -> list[pa.Field]:
        return [pa.field(k, pa.struct(build(v)) if isinstance(v, dict) else v)
                for k, v in node.items()]

    return pa.schema(build(tree))


def _flatten_json(plan: FilePlan, table: pa.Table) -> pa.Table:
    columns = {}
    for source in list(plan.fields) + list(plan.url_parts or ()):
        if source in plan.nested:
            steps = source.split(".")
            values: Any = table.column(steps[0]).combine_chunks()
            for step in steps[1:]:
                values = pc.struct_field(values, step)
        else:
            values = table.column(source).combine_chunks()
        columns[source] = values
    return pa.table(columns)


def _get(record: Mapping[str, Any], source: str, nested: bool) -> Any:
    if not nested:
        return record.get(source)
    node: Any = record
    for step in source.split("."):
        node = node.get(step) if isinstance(node, dict) else None
    return node


def _read_json_slowly(plan: FilePlan, data: bytes) -> Block:
    """Line by line (only for a range the fast reader refused): bad lines named."""
    sources = list(plan.fields) + list(plan.url_parts or ())
    schema = _json_schema(plan)
    values: dict[str, list[Any]] = {s: [] for s in sources}
    row_lines: list[int] = []
    bad: list[tuple[int, str]] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            bad.append((number, f"not JSON ({str(error).split(':')[0]})"))
            continue
        if not isinstance(record, dict):
            bad.append((number, "not a JSON object"))
            continue
        row = {s: _get(record, s, s in plan.nested) for s in sources}
        problem = _json_problem(plan, row)
        if problem:
            bad.append((number, problem))
            continue
        for source in sources:
            values[source].append(row[source])
        row_lines.append(number)
    table = pa.table({s: pa.array(
        [None if v is None else (float(v) if plan.fields.get(s) == "ts" and not plan.ts_text
                                 else v) for v in vs],
        type=schema.field(s).type if s not in plan.nested else _leaf_type(plan, s))
        for s, vs in values.items()}) if row_lines else pa.table(
        {s: pa.array([], type=_leaf_type(plan, s)) for s in sources})
    block = _block(plan, table, bad, row_lines=np.asarray(row_lines, dtype=np.int64))
    block.ts = seconds(table.column(_ts_source(plan)), iso=plan.ts_text)
    return block


def _leaf_type(plan: FilePlan, source: str) -> pa.DataType:
    column = plan.fields.get(source, "")
    if column == "ts":
        return pa.string() if plan.ts_text else pa.float64()
    return pa.int64() if column in PORTS else pa.string()


def _json_problem(plan: FilePlan, row: Mapping[str, Any]) -> str | None:
    for source, value in row.items():
        column = plan.fields.get(source, "")
        if column == "ts":
            if value is None:
                return f"no {source}"
            wrong = not isinstance(value, str) if plan.ts_text else (
                isinstance(value, bool) or not isinstance(value, int | float))
            if wrong:
                return f"{source} {value!r} is not a time"
        elif value is None:
            continue
        elif column in PORTS:
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 65536:
                return f"{source} {value!r} is not a port"
        elif not isinstance(value, str):
            return f"{source} {value!r} is not text"
    return None


def _ts_source(plan: FilePlan) -> str:
    return next(s for s, c in plan.fields.items() if c == "ts")


def seconds(values: pa.Array | pa.ChunkedArray, *, iso: bool) -> np.ndarray:
    """Seconds since the epoch of epoch numbers or ISO 8601 text; NaN where not a time."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if iso or pa.types.is_string(values.type):
        try:
            numbers = pc.cast(values, pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return np.asarray([_one_time(v) for v in values.to_pylist()], dtype=np.float64)
    else:
        numbers = pc.cast(values, pa.float64())
    out = np.asarray(numbers.to_numpy(zero_copy_only=False), dtype=np.float64)
    if numbers.null_count:
        out = np.where(pc.is_null(numbers).to_numpy(zero_copy_only=False), np.nan, out)
    return out


def _one_time(value: Any) -> float:
    if value is None:
        return float("nan")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return float("nan")
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


def _block(plan: FilePlan, table: pa.Table, bad: list[tuple[int, str]], *,
           ts: np.ndarray | None = None, row_lines: np.ndarray | None = None) -> Block:
    columns: dict[str, pa.Array] = {}
    for source, column in plan.fields.items():
        values = table.column(source)
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
        if column in columns:  # several Zeek fields fill one column (query, host, ...)
            values = pc.coalesce(columns[column], values)
        columns[column] = values
    if plan.url_parts:
        host, uri = (table.column(p).combine_chunks() for p in plan.url_parts)
        columns["url"] = pc.binary_join_element_wise("http://", host, uri, "")
    if "domain" in columns and plan.kind.startswith("zeek"):
        columns["domain"] = _strip_port(columns["domain"])
    ts_text = columns.pop("ts")
    block = Block(columns, table.num_rows, 0, bad, len(bad), ts=ts,
                  ts_text=None if ts is not None else ts_text, ts_iso=plan.ts_text,
                  ts_name=_ts_source(plan), row_lines=row_lines)
    if ts is not None:
        missing = np.flatnonzero(np.isnan(ts))
        for index in missing[:MAX_BAD_EXAMPLES]:
            block.bad.append((int(block.line_of(np.asarray([index]))[0]), "no valid ts"))
        block.bad_count += len(missing)
        block.bad.sort()
    return block


def _strip_port(values: pa.Array) -> pa.Array:
    """``host:8080`` -> ``host`` (Zeek's http ``host`` keeps the port of the Host header)."""
    if pa.types.is_dictionary(values.type):
        stripped = pc.replace_substring_regex(values.dictionary, HOST_PORT, r"\1")
        return pa.DictionaryArray.from_arrays(values.indices, stripped)
    return pc.replace_substring_regex(values, HOST_PORT, r"\1")

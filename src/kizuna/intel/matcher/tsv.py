"""A tokenizer for Zeek TSV that cuts out only the fields an indicator needs.

pyarrow's CSV reader tokenizes every field of every line before it drops the columns it
was not asked for; a Zeek conn log has 21 fields and the matcher needs five of them, so
most of its time went on fields nobody reads (docs/matcher.md, "How it is fast"). This
kernel, compiled by numba, finds separators eight bytes at a time (a SWAR test for the
delimiter and the newline in one 64-bit word, then one step per separator found), counts
every line's fields (a line with the wrong count is a bad line, as before) and copies
only the wanted fields into Arrow string buffers.

It handles what Zeek writes: a one-byte separator, no quoting, ``#`` comment lines, the
unset and empty markers as nulls, ``\\n`` or ``\\r\\n`` line ends and a last line without
one. The reader falls back to pyarrow for anything else (a CSV file, a separator of more
than one byte). ``tests/unit/test_matcher_tsv.py`` checks it against pyarrow's reader.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
from numba import njit, uint64

_LOW = 0x7F7F7F7F7F7F7F7F  # SWAR: bytes of a word equal to a given byte (_split)
_ONES = 0x0101010101010101
# De Bruijn table: the index of the single set bit of a 64-bit word
_DEBRUIJN = 0x0218A392CD3D5DBF
_BIT_INDEX = np.zeros(64, np.int64)
for _i in range(64):
    _BIT_INDEX[((1 << _i) * _DEBRUIJN & (2**64 - 1)) >> 58] = _i

OK, SKIPPED, BAD = 0, 1, 2  # line status


@dataclass
class Split:
    """The wanted fields of every line of a range, and what each line was."""

    columns: list[pa.Array]  # one string array per wanted field, one value per line
    status: np.ndarray  # per line: OK, SKIPPED (comment or empty) or BAD
    fields: np.ndarray  # per line: how many fields it had (meaningful for BAD lines)
    lines: int
    non_ascii: bool  # some field may hold bytes that are not UTF-8: check them
    bad_utf8: dict[int, int] = field(default_factory=dict)  # line -> field not UTF-8


@njit(nogil=True, cache=True)
def _found_bytes(data: np.ndarray, lo: int, hi: int, delim: int
                 ) -> tuple[np.uint64, np.uint64]:  # pragma: no cover - compiled
    """0x80 in byte i of (separators, newlines) where ``data[lo + i]`` is one (i < 8)."""
    tabs = uint64(0)
    newlines = uint64(0)
    for p in range(lo, hi):
        if data[p] == delim:
            tabs |= uint64(0x80) << uint64(8 * (p - lo))
        elif data[p] == 10:
            newlines |= uint64(0x80) << uint64(8 * (p - lo))
    return tabs, newlines


@njit(nogil=True, cache=True)
def _split(  # noqa: C901, PLR0912, PLR0915 - one hot loop; helper calls cost 50% (measured)
        data: np.ndarray, head: int, delim: int, nfields: int, slot_of: np.ndarray,
        nslots: int, nulls: np.ndarray, null_lengths: np.ndarray, bit_index: np.ndarray,
        capacity: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                int, np.uint8]:  # pragma: no cover - compiled
    """Cut ``data`` into lines and fields; -1 lines when there are more than ``capacity``."""
    n = data.shape[0]
    nw = (n - head) // 8
    words = data[head:head + 8 * nw].view(np.uint64)
    out = np.empty(nslots * n + 16, np.uint8)  # slot s writes from s * n
    offsets = np.empty((nslots, capacity + 1), np.int32)
    valid = np.empty((nslots, capacity), np.bool_)
    status = np.empty(capacity, np.uint8)
    counts = np.empty(capacity, np.int32)
    offsets[:, 0] = 0
    tabs = uint64(_ONES) * uint64(delim)
    newlines = uint64(_ONES) * uint64(10)
    low = uint64(_LOW)
    line = field = filled = 0  # filled: wanted fields of the current line written
    start = first = 0  # of the current field and line
    seen = np.uint8(0)  # every byte copied, OR-ed
    for k in range(nw + 3):  # the head bytes, the words, the tail bytes, a last line
        if k == 0:
            found_tab, found_nl = _found_bytes(data, 0, head, delim)
            base = 0
        elif k == nw + 1:
            base = head + 8 * nw
            found_tab, found_nl = _found_bytes(data, base, n, delim)
        elif k == nw + 2:
            if first >= n:
                break
            found_tab, found_nl, base = uint64(0), uint64(0x80), n  # a last line without \n
        else:
            x = words[k - 1] ^ tabs
            found_tab = ~(((x & low) + low) | x | low)
            x = words[k - 1] ^ newlines
            found_nl = ~(((x & low) + low) | x | low)
            base = head + 8 * (k - 1)
        mask = found_tab | found_nl
        while mask != 0:
            bit = mask & (~mask + uint64(1))
            pos = base + (bit_index[np.int64((bit * uint64(_DEBRUIJN)) >> uint64(58))] >> 3)
            mask ^= bit
            if line >= capacity:
                return out, offsets, valid, status, counts, -1, seen
            is_nl = (found_nl & bit) != 0
            end = pos - 1 if is_nl and pos > start and data[pos - 1] == 13 else pos  # \r\n
            slot = slot_of[field] if field < nfields else -1
            if slot >= 0:
                at = offsets[slot, line]
                length = end - start
                ok = True
                for t in range(null_lengths.shape[0]):
                    if length == null_lengths[t]:
                        same = True
                        for j in range(length):
                            if data[start + j] != nulls[t, j]:
                                same = False
                                break
                        if same:
                            ok = False
                if ok:
                    to = slot * n + at
                    if start + length + 16 <= n:
                        j = 0
                        while j < length:
                            for q in range(16):
                                byte = data[start + j + q]
                                out[to + j + q] = byte
                                seen |= byte
                            j += 16
                    else:
                        for j in range(length):
                            out[to + j] = data[start + j]
                            seen |= data[start + j]
                    at += length
                offsets[slot, line + 1] = at
                valid[slot, line] = ok
                filled = slot + 1
            if not is_nl:
                field += 1
                start = pos + 1
                continue
            for slot in range(filled, nslots):  # fields the line did not have
                offsets[slot, line + 1] = offsets[slot, line]
                valid[slot, line] = False
            counts[line] = field + 1
            empty_or_comment = end == first or data[first] == 35
            status[line] = SKIPPED if empty_or_comment else OK if field + 1 == nfields else BAD
            line += 1
            field = filled = 0
            start = first = pos + 1
    return out, offsets, valid, status, counts, line, seen


def split_fields(data: pa.Buffer, delimiter: str, nfields: int, wanted: Sequence[int],
                 nulls: Sequence[str]) -> Split:
    """The fields ``wanted`` (indexes, ascending) of every line of ``data``."""
    raw = np.frombuffer(data, np.uint8)
    head = min((-raw.ctypes.data) % 8, len(raw))
    slot_of = np.full(nfields, -1, np.int64)
    for slot, index in enumerate(wanted):
        slot_of[index] = slot
    encoded = [token.encode() for token in nulls]
    null_bytes = np.zeros((len(encoded), max((len(t) for t in encoded), default=1)), np.uint8)
    for row, token in enumerate(encoded):
        null_bytes[row, :len(token)] = np.frombuffer(token, np.uint8)
    null_lengths = np.array([len(t) for t in encoded], np.int64)
    capacity = len(raw) // 48 + 16  # Zeek lines are longer; else count them and go again
    while True:
        out, offsets, valid, status, counts, lines, seen = _split(
            raw, head, ord(delimiter), nfields, slot_of, len(wanted), null_bytes,
            null_lengths, _BIT_INDEX, capacity)
        if lines >= 0:
            break
        capacity = int(np.count_nonzero(raw == 10)) + 1
    size = len(raw)
    columns = []
    for slot in range(len(wanted)):
        validity = np.packbits(valid[slot, :lines], bitorder="little")
        columns.append(pa.StringArray.from_buffers(
            lines, pa.py_buffer(offsets[slot, :lines + 1]),
            pa.py_buffer(out[slot * size:slot * size + int(offsets[slot, lines])]),
            pa.py_buffer(validity)))
    split = Split(columns, status[:lines], counts[:lines], lines, bool(seen & 0x80))
    if split.non_ascii:  # only then can a field be other than UTF-8
        split.columns, rows = text_columns(split.columns)
        for line, slot in rows.items():
            if split.status[line] == OK:  # a line already bad or skipped keeps its reason
                split.status[line] = BAD
                split.bad_utf8[line] = wanted[slot]
    return split


def text_columns(columns: list[pa.Array]) -> tuple[list[pa.Array], dict[int, int]]:
    """``columns`` (string or binary) as string arrays, and the rows that are not UTF-8:
    row -> position of the first column in ``columns`` whose value there is not."""
    out: list[pa.Array] = []
    rows: dict[int, int] = {}
    for position, column in enumerate(columns):
        text = pa.Array.from_buffers(pa.string(), len(column), column.buffers(),
                                     offset=column.offset)
        out.append(text)
        try:
            text.validate(full=True)
            continue
        except pa.ArrowInvalid:
            pass
        raw = pa.Array.from_buffers(pa.binary(), len(column), column.buffers(),
                                    offset=column.offset)
        for row, value in enumerate(raw.to_pylist()):
            if value is not None and row not in rows:
                try:
                    value.decode()
                except UnicodeDecodeError:
                    rows[row] = position
    return out, rows


def fits(delimiter: str) -> bool:
    """Whether the kernel can read a file with this separator."""
    return len(delimiter.encode()) == 1 and delimiter not in "\n\r"

"""IP address text to integers, vectorised over Arrow string arrays.

IPv4 dotted quads are parsed with NumPy over the array's byte buffer (no per-value Python):
about 15 passes over the bytes. Values that are not dotted quads (IPv6, hostnames, junk)
come back invalid; the scan parses the few IPv6 values with :mod:`ipaddress`.
"""

from __future__ import annotations

import ipaddress

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DOT, ZERO, NINE = 46, 48, 57
POWERS = np.array([1.0, 10.0, 100.0, 1000.0])


def ipv4_ints(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(int64 address, valid) for each value of a string array; nulls are invalid."""
    count = len(values)
    if count == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    if values.type != pa.string():
        values = values.cast(pa.string())
    if values.null_count:
        values = pc.fill_null(values, "")
    _validity, offsets_buf, data_buf = values.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int32)[values.offset:values.offset + count + 1]
    first = int(offsets[0])
    data = np.frombuffer(data_buf, dtype=np.uint8)[first:int(offsets[-1])] if data_buf \
        else np.zeros(0, dtype=np.uint8)
    lengths = np.diff(offsets)
    valid = (lengths >= 7) & (lengths <= 15)
    seg = np.repeat(np.arange(count, dtype=np.int32), lengths)
    is_dot = data == DOT
    is_digit = (data >= ZERO) & (data <= NINE)
    valid &= np.bincount(seg[~(is_dot | is_digit)], minlength=count) == 0
    valid &= np.bincount(seg[is_dot], minlength=count) == 3
    # which octet each byte belongs to: dots seen before it within its value (int32: large
    # int64 temporaries cost more in fresh pages than the arithmetic)
    dots_before = np.cumsum(is_dot.view(np.uint8), dtype=np.int32) - is_dot
    starts = offsets[:-1] - first
    start_dots = np.zeros(count, dtype=np.int32)
    nonempty = lengths > 0
    start_dots[nonempty] = dots_before[starts[nonempty]]
    octet = dots_before - np.repeat(start_dots, lengths)
    ok_byte = is_digit & (octet <= 3) & np.repeat(valid, lengths)
    group = seg[ok_byte] * 4 + octet[ok_byte]
    digits = data[ok_byte] - ZERO
    digit_count = np.bincount(group, minlength=4 * count).astype(np.int32)
    if len(group):
        change = np.flatnonzero(np.diff(group, prepend=-1)).astype(np.int32)
        rank = np.arange(len(group), dtype=np.int32) - np.repeat(
            change, np.diff(np.append(change, len(group))))
        power = np.clip(digit_count[group] - 1 - rank, 0, 3)
        weights = POWERS[power] * digits
        octets = np.bincount(group, weights=weights, minlength=4 * count).astype(
            np.int64).reshape(count, 4)
    else:
        octets = np.zeros((count, 4), dtype=np.int64)
    counts = digit_count.reshape(count, 4)
    valid &= ((counts >= 1) & (counts <= 3)).all(axis=1) & (octets <= 255).all(axis=1)
    ints = (octets[:, 0] << 24) | (octets[:, 1] << 16) | (octets[:, 2] << 8) | octets[:, 3]
    return np.where(valid, ints, 0), valid


def ipv6_int(text: str) -> int | None:
    """The integer of an IPv6 address (a zone index ``%eth0`` is ignored), or None."""
    try:
        return int(ipaddress.IPv6Address(text.split("%", 1)[0]))
    except ValueError:
        return None

"""The Zeek TSV field-cutting kernel gives what pyarrow's CSV reader gives (its reference)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kizuna.intel.matcher import tsv
from kizuna.intel.matcher.readers import Block, FilePlan, _read_delimited

COLUMNS = ("ts", "src_ip", "dst_ip", "src_port", "dst_port", "protocol", "email", "md5", "sha1")
VALUES = ("-", "(empty)", "", "a", "1.2.3.4", "2001:db8::1", "é", "(empty", "--", "x y",
          "a-much-longer-value-over-sixteen-bytes", "443", "1700000000.25", "\"quoted\"",
          "bad-\udcff-byte")


def plan_for(names: list[str], wanted: list[int]) -> FilePlan:
    fields = {names[i]: COLUMNS[i] for i in wanted}
    return FilePlan("memory.log", "zeek-tsv", fields, names=tuple(names))


def assert_same_block(a: Block, b: Block) -> None:
    assert (a.rows, a.lines) == (b.rows, b.lines)
    assert a.bad == b.bad
    assert a.bad_count == b.bad_count
    assert a.columns.keys() == b.columns.keys()
    for name in a.columns:
        assert a.columns[name].equals(b.columns[name]), name
    assert a.ts_text is not None and b.ts_text is not None
    assert a.ts_text.equals(b.ts_text)
    assert np.array_equal(a.line_of(np.arange(a.rows)), b.line_of(np.arange(b.rows)))


@st.composite
def zeek_logs(draw: st.DrawFn) -> tuple[list[str], list[int], bytes]:
    width = draw(st.integers(2, 9))
    names = [f"f{i}" for i in range(width)]
    wanted = sorted({0} | set(draw(st.lists(st.integers(0, width - 1), max_size=width))))
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    value = st.sampled_from(VALUES)
    lines = []
    for _ in range(draw(st.integers(1, 40))):  # a range is never empty
        kind = draw(st.sampled_from(["good"] * 6 + ["bad", "comment"]))
        if kind == "good":
            cells = [draw(value) for _ in range(width)]
        elif kind == "bad":  # the wrong number of fields, never an empty line
            count = draw(st.integers(1, width + 3).filter(lambda n: n != width))
            cells = [draw(value.filter(bool)) for _ in range(count)]
        else:  # a comment with another field count (pyarrow would read a full one as data)
            cells = ["#close"] + [draw(value) for _ in range(draw(st.integers(0, 2)))]
            if len(cells) == width:
                cells.append("x")
        lines.append("\t".join(cells))
    text = ending.join(lines)
    if lines and draw(st.booleans()):
        text += ending
    return names, wanted, text.encode("utf-8", "surrogateescape")  # \udcff: byte 0xff


@settings(max_examples=300, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(zeek_logs(), st.integers(0, 7))
def test_the_kernel_reads_what_pyarrow_reads(log: tuple[list[str], list[int], bytes],
                                             shift: int) -> None:
    names, wanted, content = log
    plan = plan_for(names, wanted)
    # the range starts at every offset modulo 8, so head, words and tail all get used
    data = pa.py_buffer(b"\0" * shift + content).slice(shift)
    assert_same_block(_read_delimited(plan, data, kernel=False),
                      _read_delimited(plan, data, kernel=True))


def test_many_short_lines_overflow_the_first_guess_and_are_read_again() -> None:
    content = b"".join(b"%d\t-\n" % i for i in range(5000))  # 5-8 bytes a line
    split = tsv.split_fields(pa.py_buffer(content), "\t", 2, [0, 1], ["-"])
    assert split.lines == 5000
    assert split.columns[0].to_pylist() == [str(i) for i in range(5000)]
    assert split.columns[1].null_count == 5000
    assert not split.status.any()


def test_an_empty_line_is_skipped_rather_than_read_as_an_event_of_nulls() -> None:
    plan = plan_for(["f0", "f1"], [0, 1])
    block = _read_delimited(plan, pa.py_buffer(b"1\ta\n\n2\tb\n"))
    assert block.rows == 2 and block.lines == 3
    assert block.columns["src_ip"].to_pylist() == ["a", "b"]
    assert block.line_of(np.arange(2)).tolist() == [1, 3]
    assert block.bad == []


def test_a_field_that_is_not_utf8_makes_a_bad_line_and_the_rest_is_read() -> None:
    plan = plan_for(["ts", "id.orig_h", "other"], [0, 1])
    content = b"1\t1.2.3.\xc3\xa9\tx\n2\t1.2.3.\xff\tx\n3\t5.6.7.8\t\xff\n"
    block = _read_delimited(plan, pa.py_buffer(content))
    assert block.columns["src_ip"].to_pylist() == ["1.2.3.\u00e9", "5.6.7.8"]
    assert block.bad == [(2, "field id.orig_h is not UTF-8 text")]  # line 3's bad byte is unread
    assert block.line_of(np.arange(2)).tolist() == [1, 3]


def test_only_one_byte_separators_go_through_the_kernel() -> None:
    assert tsv.fits("\t") and tsv.fits(",")
    assert not tsv.fits("||") and not tsv.fits("\n") and not tsv.fits("\u00a7")

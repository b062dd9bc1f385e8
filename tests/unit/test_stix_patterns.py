"""STIX 2.1 patterns: the spec's examples, known rejects, tree shapes and error fields."""

from __future__ import annotations

import pytest

from kizuna.errors import InputError
from kizuna.intel.stix.patterns import (
    PatternError,
    is_valid_pattern,
    parse_pattern,
    validate_pattern,
)
from kizuna.intel.stix.patterns_ast import (
    And,
    Binary,
    Comparison,
    FollowedBy,
    Hex,
    ObjectPath,
    ObsAnd,
    Observation,
    Or,
    Pattern,
    Qualified,
    Repeats,
    SetConstant,
    Star,
    StartStop,
    Timestamp,
    Within,
)

SHA256 = "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"

# From STIX 2.1 part 9 (Patterning) examples, as shipped with stix2-patterns' tests.
SPEC_EXAMPLES = [
    f"[file:hashes.'SHA-256' = '{SHA256}']",
    "[email-message:from_ref.value MATCHES '.+\\\\@example\\\\.com$' AND "
    "email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\\\.exe$']",
    f"[file:hashes.'SHA-256' = '{SHA256}' AND file:mime_type = 'application/x-pdf']",
    "([file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] FOLLOWEDBY "
    "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) WITHIN 300 SECONDS",
    "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
    "[file:mime_type = 'image/bmp' AND file:magic_number_hex = h'ffd8']",
    "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = "
    "'example.com'] REPEATS 5 TIMES WITHIN 1800 SECONDS",
    "[domain-name:value = 'www.5z8.info' AND domain-name:resolves_to_refs[*].value = "
    "'198.51.100.1/32']",
    "[(file:name = 'pdf.exe' OR file:size = '371712') AND file:created = t'2014-01-13T07:03:17Z']",
    "[network-traffic:dst_ref.value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']",
    "([file:name = 'foo.dll'] AND [windows-registry-key:key = "
    "'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) OR "
    "[process:name = 'fooproc' OR process:name = 'procfoo']",
    "[artifact:payload_bin = b'dGhpcyBpcyBhIHRlc3Q=']",
    "[file:name = 'a'] START t'2016-06-01T01:30:00.123Z' STOP t'2016-06-01T02:20:00Z'",
    "[file:size IN (1024, 2048, 4096)]",
    "[NOT EXISTS file:name]",
    "[x:created = t'2024-02-30T12:00:60Z']",  # the grammar admits day 30 of any month
    "[a:b = 1 AND c:d = 2]",  # different object types in one observation: accepted
    "([x:y = 1]) WITHIN 5 SECONDS WITHIN 6 SECONDS",  # repeats allowed on a group
    "[x:y = 1] START t'2020-01-01T00:00:00Z' STOP t'2019-01-01T00:00:00Z'",  # not ordered
    "[x:y = 00.5] // trailing comment",
    f"[file:hashes.MD5 = '{'a' * 32}\n']",  # the reference's $ allows a final newline
]

REJECTED = [
    ("", "expected '['"),
    ("file:name = 'a'", "expected '['"),
    ("/* lead */ [x:y = 1]", "expected '['"),
    ("[file:name = 'a'", "expected ']'"),
    ("[file:name = 'a']]", "the end"),
    ("[file:name == 'a' and file:size = 1]", "expected ']'"),
    ("[file:name = 'a\\b']", "a literal"),
    ("[x:y = b'']", "a literal"),
    ("[x:y = h'abc']", "a literal"),
    ("[x:y = 01]", "expected ']'"),
    ("[x:y = True]", "a literal"),
    ("[x:y = t'2020-13-01T00:00:00Z']", "a literal"),
    ("[x:y < true]", "a literal"),
    ("[x:y LIKE 5]", "a string"),
    ("[x:a-b = 1]", "a property name"),
    ("[x:y = 1] WITHIN -1 SECONDS", "seconds"),
    ("[x:y = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS", "duplicate WITHIN"),
    ("[x:y = 1] REPEATS 2 TIMES WITHIN 1 SECONDS REPEATS 3 TIMES", "duplicate REPEATS"),
    ("[x:y[-1] = 1]", "negative list index"),
    ("[file:hashes[0] = 'a']", "list index cannot select"),
    ("[file:hashes.MD5 = 'xyz']", "not a valid MD5 hash"),
    (f"[file:hashes.'SHA-256' IN ('{SHA256}')]", "not a valid SHA-256 hash"),
    ("[x:y = 1] LAST 5 SECONDS", "the end"),
]


@pytest.mark.parametrize("pattern", SPEC_EXAMPLES)
def test_spec_example_is_valid(pattern: str) -> None:
    validate_pattern(pattern)
    assert is_valid_pattern(pattern)


@pytest.mark.parametrize(("pattern", "words"), REJECTED)
def test_invalid_pattern_is_rejected_with_a_reason(pattern: str, words: str) -> None:
    with pytest.raises(PatternError) as caught:
        validate_pattern(pattern)
    assert words in str(caught.value)
    assert not is_valid_pattern(pattern)


def test_pattern_error_names_what_and_where() -> None:
    text = "[file:name = 'a' OR]"
    with pytest.raises(PatternError) as caught:
        parse_pattern(text)
    error = caught.value
    assert isinstance(error, InputError)
    assert error.status == 400
    assert error.offset == 19
    assert error.pattern == text
    assert error.fields == {"pattern": text, "offset": 19}
    assert str(error).startswith("pattern: expected an object type such as file")
    assert "at offset 19, found ']'" in str(error)


def test_compound_pattern_has_the_expected_tree() -> None:
    tree = parse_pattern(
        "([file:name = 'a.exe' AND file:size > 10] FOLLOWEDBY [x:y[*].'k\\'s' IN (1, true)])"
        " WITHIN 300 SECONDS"
    )
    name = Comparison(ObjectPath("file", ("name",)), "=", False, "a.exe")
    size = Comparison(ObjectPath("file", ("size",)), ">", False, 10)
    path = ObjectPath("x", ("y", Star.ANY, "k's"))
    member = Comparison(path, "IN", False, SetConstant((1, True)))
    assert tree == Pattern(
        Qualified(
            FollowedBy((Observation(And((name, size))), Observation(member))),
            Within(300),
        )
    )


def test_literals_are_decoded_and_operators_normalised() -> None:
    tree = parse_pattern(
        "[a:b == b'AAE=' OR a:c <> h'ff00' OR a:d NOT = t'2020-01-01T00:00:00Z' OR a:e = -.5]"
    )
    assert tree.expr == Observation(
        Or(
            (
                Comparison(ObjectPath("a", ("b",)), "=", False, Binary(b"\x00\x01")),
                Comparison(ObjectPath("a", ("c",)), "!=", False, Hex(b"\xff\x00")),
                Comparison(ObjectPath("a", ("d",)), "=", True, Timestamp("2020-01-01T00:00:00Z")),
                Comparison(ObjectPath("a", ("e",)), "=", False, -0.5),
            )
        )
    )


def test_qualifier_chain_nests_and_groups_keep_their_shape() -> None:
    tree = parse_pattern(
        "[a:b = 1] REPEATS 2 TIMES START t'2020-01-01T00:00:00Z' STOP t'2020-01-02T00:00:00Z'"
        " AND [EXISTS a:c]"
    )
    first = Qualified(
        Qualified(Observation(Comparison(ObjectPath("a", ("b",)), "=", False, 1)), Repeats(2)),
        StartStop(Timestamp("2020-01-01T00:00:00Z"), Timestamp("2020-01-02T00:00:00Z")),
    )
    exists = Observation(Comparison(ObjectPath("a", ("c",)), "EXISTS", False, None))
    assert tree == Pattern(ObsAnd((first, exists)))


def test_the_tree_is_immutable() -> None:
    tree = parse_pattern("[a:b = 1]")
    with pytest.raises(AttributeError):
        tree.expr = tree.expr  # type: ignore[misc]

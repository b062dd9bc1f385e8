"""Kizuna's STIX 2.1 pattern validator accepts exactly what the OASIS reference accepts.

Patterns come from grammar-based Hypothesis strategies: valid patterns built rule by rule
from STIXPattern.g4 (2.1), then near-valid mutations of them at the token and the character
level. Every example is checked against ``stix2patterns.validator.run_validator(p, "2.1")``;
each test also asserts that the examples were a real mix of accepted and rejected patterns,
so a degenerate generator fails loudly instead of passing quietly.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kizuna.intel.stix.patterns import is_valid_pattern, parse_pattern
from kizuna.intel.stix.patterns_lexer import tokenize, tokenize_fast

run_validator = pytest.importorskip("stix2patterns.validator").run_validator

SETTINGS = {
    "deadline": None,
    "derandomize": True,  # deterministic in CI; the seed is the test's own name
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much],
}


def reference_accepts(pattern: str) -> bool:
    """The reference's verdict; it raises on a few inputs (see docs/patterns.md): a reject."""
    try:
        return run_validator(pattern, stix_version="2.1") == []
    except (AttributeError, UnboundLocalError):
        return False


# -- tokens -------------------------------------------------------------------------------

KEYWORDS = [
    "AND",
    "OR",
    "NOT",
    "FOLLOWEDBY",
    "LIKE",
    "MATCHES",
    "ISSUPERSET",
    "ISSUBSET",
    "EXISTS",
    "IN",
    "START",
    "STOP",
    "SECONDS",
    "WITHIN",
    "REPEATS",
    "TIMES",
    "LAST",
    "true",
    "false",
]
OBJECT_TYPES = ("file", "ipv4-addr", "network-traffic", "x-usb-device", "x_custom", "url", "A-")
PROPERTIES = ("name", "value", "hashes", "extensions", "size", "src_ref", "MD5", "x_1", "_p")
HASHES = (("MD5", 32), ("'SHA-256'", 64), ("sha1", 40), ("'SHA3-512'", 128), ("MD6", 64))
HASHES += (("'md5'", 32), ("WHIRLPOOL", 128), ("'RIPEMD-160'", 40), ("x_hash", 7))
HEX = "0123456789abcdefABCDEF"

identifier = st.builds(
    str.__add__,
    st.sampled_from("aZ_tbhx"),
    st.text(st.sampled_from("a9_Z"), max_size=3),
)
object_type = st.one_of(
    st.sampled_from(OBJECT_TYPES),
    identifier,
    st.builds(str.__add__, identifier, st.sampled_from(["-", "-x", "--y", "-ext-1"])),
    st.sampled_from(KEYWORDS).map(lambda word: word + "-x"),
)


def quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


string_literal = st.text(st.sampled_from("ab'\\ %._-/é\n\t\u00a0*\u1680ſ"), max_size=6).map(quote)
int_literal = st.one_of(
    st.integers(-1000, 10**6).map(str),
    st.integers(0, 99).map(lambda n: f"+{n}"),
)
float_literal = st.builds(
    lambda sign, whole, frac: f"{sign}{whole}.{frac}",
    st.sampled_from(["", "+", "-"]),
    st.sampled_from(["", "0", "00", "1", "42"]),
    st.sampled_from(["0", "5", "25", "007"]),
)
binary_literal = st.binary(min_size=1, max_size=9).map(
    lambda raw: "b'" + base64.b64encode(raw).decode() + "'"
)
hex_literal = st.binary(max_size=6).map(lambda raw: "h'" + raw.hex() + "'")
timestamp_literal = st.builds(
    lambda year, month, day, hour, minute, second, frac: (
        f"t'{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second}{frac}Z'"
    ),
    st.integers(0, 9999),
    st.integers(1, 12),
    st.integers(1, 31),
    st.integers(0, 23),
    st.integers(0, 59),
    st.sampled_from(["00", "07", "59", "60"]),
    st.sampled_from(["", ".1", ".123456", ".0"]),
)
orderable = st.one_of(
    string_literal, int_literal, float_literal, binary_literal, hex_literal, timestamp_literal
)
primitive = st.one_of(orderable, st.sampled_from(["true", "false"]))
set_literal = st.lists(primitive, max_size=4).map(lambda items: ["(", *_commas(items), ")"])


def hash_digest(length: int) -> st.SearchStrategy[str]:
    """Mostly a digest of the algorithm's length, sometimes any length or an SSDEEP value."""
    return st.one_of(
        st.text(st.sampled_from(HEX), min_size=length, max_size=length),
        st.text(st.sampled_from(HEX), min_size=length, max_size=length),
        st.text(st.sampled_from(HEX), max_size=130),
        st.sampled_from(["3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C", "a" * 32 + "\n", ""]),
    ).map(lambda digest: f"'{digest}'")


def _commas(items: list[str]) -> list[str]:
    out: list[str] = []
    for index, item in enumerate(items):
        if index:
            out.append(",")
        out.append(item)
    return out


# -- grammar ------------------------------------------------------------------------------

path_step = st.one_of(
    st.sampled_from(PROPERTIES).map(lambda name: ["." + name]),
    string_literal.map(lambda text: [".", text]),
    st.sampled_from(["*", "0", "3", "+1"]).map(lambda index: ["[", index, "]"]),
    st.just([".", "extensions", ".", "'windows-pebinary-ext'"]),
)


@st.composite
def object_path(draw: st.DrawFn) -> list[str]:
    tokens = [draw(object_type), ":"]
    first = draw(st.one_of(st.sampled_from(PROPERTIES), identifier, string_literal))
    tokens.append(first)
    for step in draw(st.lists(path_step, max_size=3)):
        tokens.extend(step)
    return tokens


@st.composite
def comparison(draw: st.DrawFn) -> list[str]:
    if draw(st.integers(0, 9)) == 0:  # hashes, with valid and invalid digests
        name, length = draw(st.sampled_from(HASHES))
        op = draw(st.sampled_from(["=", "!=", "LIKE", "NOT =", ">"]))
        return ["file", ":", "hashes", ".", name, *op.split(), draw(hash_digest(length))]
    path = draw(object_path())
    negation = ["NOT"] if draw(st.booleans()) else []
    kind = draw(st.sampled_from(["eq", "order", "in", "string", "exists"]))
    if kind == "exists":
        return [*negation, "EXISTS", *path]
    if kind == "eq":
        return [*path, *negation, draw(st.sampled_from(["=", "==", "!=", "<>"])), draw(primitive)]
    if kind == "order":
        return [*path, *negation, draw(st.sampled_from(["<", "<=", ">", ">="])), draw(orderable)]
    if kind == "in":
        return [*path, *negation, "IN", *draw(set_literal)]
    operator = draw(st.sampled_from(["LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"]))
    return [*path, *negation, operator, draw(string_literal)]


def _join(operator: str) -> Callable[[list[list[str]]], list[str]]:
    def join(parts: list[list[str]]) -> list[str]:
        out: list[str] = []
        for index, part in enumerate(parts):
            if index:
                out.append(operator)
            out.extend(part)
        return out

    return join


def _binary(children: st.SearchStrategy[list[str]], operators: list[str]):  # type: ignore[no-untyped-def]
    return st.one_of(
        *[st.lists(children, min_size=2, max_size=3).map(_join(op)) for op in operators],
        children.map(lambda part: ["(", *part, ")"]),
    )


comparison_expr = st.recursive(comparison(), lambda c: _binary(c, ["AND", "OR"]), max_leaves=3)

qualifier = st.one_of(
    st.builds(lambda n: ["WITHIN", n, "SECONDS"], st.sampled_from(["5", "0", "300", ".5", "+2"])),
    st.builds(lambda n: ["REPEATS", n, "TIMES"], st.sampled_from(["5", "0", "+3"])),
    st.builds(lambda a, b: ["START", a, "STOP", b], timestamp_literal, timestamp_literal),
)


@st.composite
def qualified(draw: st.DrawFn, inner: st.SearchStrategy[list[str]]) -> list[str]:
    tokens = draw(inner)
    for extra in draw(st.lists(qualifier, max_size=2)):  # sometimes a duplicate type
        tokens = [*tokens, *extra]
    return tokens


observation = comparison_expr.map(lambda tokens: ["[", *tokens, "]"])


def _observation_operators(
    children: st.SearchStrategy[list[str]],
) -> st.SearchStrategy[list[str]]:
    return st.one_of(
        qualified(children.map(lambda tokens: ["(", *tokens, ")"])),
        st.tuples(children, st.sampled_from(["AND", "OR", "FOLLOWEDBY"]), children).map(
            lambda parts: [*parts[0], parts[1], *parts[2]]
        ),
    )


observation_expr = st.recursive(qualified(observation), _observation_operators, max_leaves=3)
pattern_tokens = observation_expr

SEPARATORS = [" "] * 12 + ["  ", "\n", "\t", "\u3000", "\x85", "/* c */", "// line\n", ""]
LEADS = [""] * 8 + [" ", "\n(", "/* c */", "\u2028"]
TRAILS = [""] * 8 + [" ", "// end", "/**/"]


@st.composite
def render(draw: st.DrawFn, tokens: list[str]) -> str:
    """Join tokens with random whitespace and comments (rarely none: tokens may then merge).

    One seeded ``random`` draws every separator: far cheaper than one draw per gap.
    """
    rnd = draw(st.randoms(use_true_random=False))
    out = [rnd.choice(LEADS), tokens[0]]
    for token in tokens[1:]:
        out.append(rnd.choice(SEPARATORS))
        out.append(token)
    out.append(rnd.choice(TRAILS))
    return "".join(out)


valid_patterns = pattern_tokens.flatmap(render)

# -- near-valid mutations -----------------------------------------------------------------

VOCABULARY = [
    *KEYWORDS,
    "and",
    "or",
    "Within",
    "[",
    "]",
    "(",
    ")",
    ":",
    ".",
    ",",
    "*",
    "=",
    "==",
    "!=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "'",
    "-",
    "+",
    "!",
    "^",
    "/",
    "b''",
    "h'abc'",
    "t'2020-13-01T00:00:00Z'",
    "t'2020-01-01 00:00:00Z'",
    "b'abc'",
    "'bad\\escape'",
    "01",
    "1.",
    "-1",
    "1e5",
    "True",
    "x-y",
]


@st.composite
def token_mutation(draw: st.DrawFn) -> str:
    tokens = list(draw(pattern_tokens))
    for _ in range(draw(st.sampled_from([1, 1, 1, 2]))):
        index = draw(st.integers(0, len(tokens) - 1))
        action = draw(
            st.sampled_from(["drop", "dup", "swap", "replace", "lower", "corrupt", "same", "same"])
        )
        if action == "same":  # an operator or literal of the same class: often still valid
            tokens[index] = draw(_same_class(tokens[index]))
        elif action == "drop" and len(tokens) > 1:
            del tokens[index]
        elif action == "dup":
            tokens.insert(index, tokens[index])
        elif action == "swap" and index + 1 < len(tokens):
            tokens[index], tokens[index + 1] = tokens[index + 1], tokens[index]
        elif action == "replace":
            tokens[index] = draw(st.sampled_from(VOCABULARY))
        elif action == "lower":
            tokens[index] = tokens[index].lower()
        else:
            tokens[index] = _corrupt(tokens[index], draw(st.integers(0, 5)))
    return draw(render(tokens))


SAME_CLASS = [
    ["=", "==", "!=", "<>", "<", "<=", ">", ">=", "IN", "LIKE", "MATCHES", "ISSUBSET"],
    ["AND", "OR", "FOLLOWEDBY"],
    ["WITHIN", "REPEATS", "START", "STOP", "SECONDS", "TIMES"],
    ["[", "(", "]", ")"],
]


def _same_class(token: str) -> st.SearchStrategy[str]:
    for group in SAME_CLASS:
        if token in group:
            return st.sampled_from(group)
    if token[:1] in "'+-.0123456789tbh" or token in ("true", "false"):
        return primitive
    return st.just(token)


def _corrupt(token: str, how: int) -> str:
    if token.startswith("t'") and len(token) > 12:
        return [token.replace("-", "/", 1), token[:-2] + "'", token.replace("T", "t")][how % 3]
    if token.startswith(("b'", "h'")):
        return token[:-2] + "'" if len(token) > 3 else token + token[-1]
    if token.startswith("'"):
        return ["'\\x" + token[1:], token[:-1], token + "'"][how % 3]
    return [token + "x", token[1:] or "x", token + "'", "+" + token, token + "-", token * 2][how]


@st.composite
def char_mutation(draw: st.DrawFn) -> str:
    text = draw(valid_patterns)
    index = draw(st.integers(0, len(text)))
    action = draw(st.sampled_from(["delete", "insert", "duplicate", "truncate"]))
    if action == "delete":
        return text[:index] + text[index + 1 :]
    if action == "duplicate":
        return text[:index] + text[index : index + 1] * 2 + text[index + 1 :]
    if action == "truncate":
        return text[:index]
    char = draw(st.sampled_from("[]()'\\:.,*=<>!-+ \u00a0\u200b/tbh0aZ_\x00é"))
    return text[:index] + char + text[index:]


# -- the tests ----------------------------------------------------------------------------


def differential(
    strategy: st.SearchStrategy[str], examples: int, *, accepted: float, rejected: float
) -> Counter[bool]:
    """Run ``examples`` patterns through both validators and check the verdict mix.

    ``accepted`` and ``rejected`` are the least shares of each verdict the strategy must
    produce, so that it cannot silently degenerate into all-valid or all-garbage input.
    """
    verdicts: Counter[bool] = Counter()

    @settings(max_examples=examples, **SETTINGS)  # type: ignore[arg-type]
    @given(strategy)
    def check(pattern: str) -> None:
        expected = reference_accepts(pattern)
        assert is_valid_pattern(pattern) is expected, pattern
        verdicts[expected] += 1

    check()
    total = verdicts[True] + verdicts[False]
    assert total >= examples * 0.9
    assert verdicts[True] >= accepted * total, verdicts
    assert verdicts[False] >= rejected * total, verdicts
    return verdicts


def test_valid_grammar_patterns_get_the_reference_verdict() -> None:
    # Mostly accepted; the rejects come from duplicate qualifiers, hash digests of the wrong
    # length, leading comments and tokens that merge where no separator was drawn.
    differential(valid_patterns, examples=1500, accepted=0.4, rejected=0.1)


def test_token_mutations_get_the_reference_verdict() -> None:
    differential(token_mutation(), examples=2000, accepted=0.03, rejected=0.6)


def test_character_mutations_get_the_reference_verdict() -> None:
    differential(char_mutation(), examples=1500, accepted=0.08, rejected=0.5)


@settings(max_examples=200, **SETTINGS)  # type: ignore[arg-type]
@given(valid_patterns)
def test_an_accepted_pattern_parses_to_a_tree(pattern: str) -> None:
    if is_valid_pattern(pattern):
        assert parse_pattern(pattern).expr is not None


def _kinds_and_texts(tokens: list[tuple[str, str, int]]) -> list[tuple[str, str]]:
    return [(kind, text) for kind, text, _offset in tokens]


@settings(max_examples=1000, **SETTINGS)  # type: ignore[arg-type]
@given(st.one_of(valid_patterns, token_mutation(), char_mutation(),
                 st.text(alphabet=st.sampled_from(
                     "[]()'\\:.,*=<>!-+/ \t\n\u00a0\u1680\u2028\x1c\u200btbhTZ0129aAND_é"),
                     max_size=30),
                 st.text(max_size=20)))
def test_the_fast_tokenizer_gives_the_exact_tokenizers_kinds_and_texts(text: str) -> None:
    """The first parse of every pattern runs on tokenize_fast's tokens; they must be the same
    tokens as tokenize's, or a pattern could be accepted that the grammar rejects."""
    assert _kinds_and_texts(tokenize_fast(text)) == _kinds_and_texts(tokenize(text))


# -- the one-regex path for plain patterns (kizuna.intel.stix.patterns.simple_pattern_ok) ---

NEAR_MISS = st.integers(0, 9).map(lambda n: n == 0)  # about one part in ten goes wrong
simple_type = st.one_of(st.sampled_from(OBJECT_TYPES), object_type,
                        st.sampled_from([*KEYWORDS, "x-", "a--b", "t", "_"]))
simple_step = st.one_of(st.sampled_from(PROPERTIES), identifier, string_literal,
                        st.sampled_from([*KEYWORDS, "x-y", "'hashes'", "a.5", "7"]))


@st.composite
def plain_patterns(draw: st.DrawFn) -> str:
    """One observation of comparisons in the shape the regex takes, with near misses."""
    parts = []
    for index in range(draw(st.integers(1, 3))):
        if index:
            parts.append(draw(st.sampled_from([" AND ", " OR ", "  AND  "])) if not draw(
                NEAR_MISS) else draw(st.sampled_from([" AND", "AND ", " FOLLOWEDBY ", " and "])))
        kind = draw(st.sampled_from(["plain", "plain", "hash"]))
        space = draw(st.sampled_from(["", " ", " ", "  "] + (["\t"] if draw(NEAR_MISS) else [])))
        if kind == "hash":
            algorithm, length = draw(st.sampled_from(HASHES))
            path = f"hashes.{algorithm}"
            value = draw(hash_digest(length))
        else:
            steps = st.sampled_from(PROPERTIES) if not draw(NEAR_MISS) else simple_step
            path = ".".join(draw(st.lists(steps, min_size=1, max_size=3)))
            value = draw(st.one_of(string_literal, int_literal) if not draw(NEAR_MISS) else
                         st.sampled_from(["0123", "5.", "-0", "+7", "1e3", "true", "'a'b'"]))
        operator = draw(st.sampled_from(["=", "==", "!=", "<>", "<", "<=", ">", ">=", "=<"]))
        object_type_ = draw(st.sampled_from(OBJECT_TYPES) if not draw(NEAR_MISS) else simple_type)
        parts.append(f"{object_type_}:{path}{space}{operator}{space}{value}")
    return draw(st.sampled_from(["[", "[ "] if not draw(NEAR_MISS) else [" [", "(["])) + "".join(
        parts) + draw(st.sampled_from(["]", " ]"] if not draw(NEAR_MISS) else ["] ", "]]"]))


def test_plain_patterns_taken_by_the_regex_get_the_reference_verdict() -> None:
    from kizuna.intel.stix.patterns import simple_pattern_ok

    taken: Counter[bool] = Counter()

    @settings(max_examples=2500, **SETTINGS)  # type: ignore[arg-type]
    @given(plain_patterns())
    def check(pattern: str) -> None:
        expected = reference_accepts(pattern)
        if simple_pattern_ok(pattern):
            assert expected, f"the regex accepted what the reference rejects: {pattern}"
        assert is_valid_pattern(pattern) is expected, pattern
        taken[simple_pattern_ok(pattern)] += 1

    check()
    total = taken[True] + taken[False]
    assert taken[True] >= 0.25 * total, taken  # the regex path really ran
    assert taken[False] >= 0.25 * total, taken  # and near misses reached the parser

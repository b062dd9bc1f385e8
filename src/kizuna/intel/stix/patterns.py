"""STIX 2.1 patterns: a fast hand-written parser that agrees with the OASIS reference.

``parse_pattern`` turns a pattern into a tree (``patterns_ast``); ``validate_pattern`` and
``is_valid_pattern`` are the ingest fast path. Acceptance is exactly that of
``stix2patterns.validator.run_validator(pattern, stix_version="2.1")`` (version 2.1.2),
including the checks it makes after parsing and its quirks; docs/patterns.md lists them and
tests/unit/test_stix_patterns_differential.py proves the agreement with Hypothesis.

The grammar is recursive descent over the token list of ``patterns_lexer``, one function
per rule, each a loop for the left-associative chains of the ANTLR grammar.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable
from typing import Final

from kizuna.errors import InputError
from kizuna.intel.stix.patterns_ast import (
    And,
    Binary,
    Comparison,
    ComparisonExpr,
    Constant,
    FollowedBy,
    Hex,
    ObjectPath,
    ObsAnd,
    Observation,
    ObservationExpr,
    ObsOr,
    Or,
    PathStep,
    Pattern,
    Qualified,
    Qualifier,
    Repeats,
    Scalar,
    SetConstant,
    Star,
    StartStop,
    Timestamp,
    Within,
)
from kizuna.intel.stix.patterns_lexer import KEYWORDS, Token, tokenize, tokenize_fast

__all__ = [
    "PatternError",
    "is_valid_pattern",
    "parse_pattern",
    "validate_pattern",
]


class PatternError(InputError):
    """A pattern the STIX 2.1 grammar (or the reference's checks) rejects.

    ``offset`` is the character offset of the offending token in ``pattern``.
    """

    code = "bad-pattern"

    def __init__(self, message: str, *, pattern: str, offset: int, hint: str | None = None):
        super().__init__(message, hint=hint, pattern=pattern, offset=offset)
        self.pattern = pattern
        self.offset = offset


_ORDER_OPS: Final = frozenset({"<", "<=", ">", ">="})
_STRING_OPS: Final = frozenset({"LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"})
_ORDERABLE: Final = frozenset({"INT", "NEGINT", "FLOAT", "NEGFLOAT", "STR", "BIN", "HEX", "TS"})
_PRIMITIVE: Final = _ORDERABLE | {"BOOL"}

# The reference's object_validator.HASHES_REGEX, verbatim, applied with re.match. Its MD6
# entry is unanchored alternatives with an escaped newline inside (a reference bug we match).
_HASH_RE: Final[dict[str, tuple[re.Pattern[str], str]]] = {
    name: (re.compile(regex), label)
    for name, regex, label in (
        ("MD5", r"^[a-fA-F0-9]{32}$", "MD5"),
        (
            "MD6",
            "^[a-fA-F0-9]{32}|[a-fA-F0-9]{40}|[a-fA-F0-9]{56}|\\\n    [a-fA-F0-9]{64}"
            "|[a-fA-F0-9]{96}|[a-fA-F0-9]{128}$",
            "MD6",
        ),
        ("RIPEMD160", r"^[a-fA-F0-9]{40}$", "RIPEMD-160"),
        ("SHA1", r"^[a-fA-F0-9]{40}$", "SHA-1"),
        ("SHA224", r"^[a-fA-F0-9]{56}$", "SHA-224"),
        ("SHA256", r"^[a-fA-F0-9]{64}$", "SHA-256"),
        ("SHA384", r"^[a-fA-F0-9]{96}$", "SHA-384"),
        ("SHA512", r"^[a-fA-F0-9]{128}$", "SHA-512"),
        ("SHA3224", r"^[a-fA-F0-9]{56}$", "SHA3-224"),
        ("SHA3256", r"^[a-fA-F0-9]{64}$", "SHA3-256"),
        ("SHA3384", r"^[a-fA-F0-9]{96}$", "SHA3-384"),
        ("SHA3512", r"^[a-fA-F0-9]{128}$", "SHA3-512"),
        ("SSDEEP", r"^[a-zA-Z0-9/+:.]{1,128}$", "SSDEEP"),
        ("WHIRLPOOL", r"^[a-fA-F0-9]{128}$", "WHIRLPOOL"),
    )
}

_LEADING: Final = re.compile(r"[(\s]*")

_DESCRIBE: Final[dict[str, str]] = {
    "IDENT": "a name",
    "HIDENT": "a hyphenated name",
    "STR": "a string",
    "INT": "an integer",
    "NEGINT": "a negative integer",
    "FLOAT": "a number",
    "NEGFLOAT": "a negative number",
    "BIN": "a binary literal",
    "HEX": "a hex literal",
    "TS": "a timestamp",
    "BOOL": "true/false",
}


def parse_pattern(text: str) -> Pattern:
    """Parse a STIX 2.1 pattern into its tree; raise PatternError where the reference rejects it.

    The first parse runs on ``tokenize_fast``'s tokens (no offsets); only a pattern it
    rejects is parsed again on ``tokenize``'s, so the error says at which offset.
    """
    _check_leading_bracket(text)
    try:
        return _Parser(text, tokenize_fast(text)).pattern()
    except PatternError:
        pass
    return _Parser(text, tokenize(text)).pattern()


def validate_pattern(text: str) -> None:
    """Raise PatternError unless ``text`` is a pattern the reference validator accepts.

    Most indicators are one observation of plain comparisons; ``simple_pattern_ok`` accepts
    those with one regex and no tree. Everything else (and anything it is unsure of) goes
    through the parser, which also words the error.
    """
    if simple_pattern_ok(text):
        return
    parse_pattern(text)


# The common shape, recognised without building a tree: one observation of comparisons
# joined by AND/OR, ASCII spaces only, `=`-family or ordering operators on a string or an
# integer. Each piece is a subset of the lexer's token of the same kind, and every piece
# ends where the lexer's token ends (the look-aheads), so a match here is a pattern the
# parser accepts; the one further check the parser makes on such patterns (hash digests)
# is made below. Anything else returns False and is parsed in full.
_WORD_END: Final = r"(?![a-zA-Z0-9_-])"
_NOT_KEYWORD: Final = rf"(?!(?:{'|'.join(sorted(KEYWORDS, key=len, reverse=True))}){_WORD_END})"
_STR_LIT: Final = r"'(?:[^'\\]|\\['\\])*'"
_STEP: Final = rf"(?:{_NOT_KEYWORD}[a-zA-Z_][a-zA-Z0-9_]*{_WORD_END}|{_STR_LIT})"


def _comparison(named: bool) -> str:
    def group(name: str, body: str) -> str:
        return f"(?P<{name}>{body})" if named else f"(?:{body})"

    path = group("path", rf"{_STEP}(?:\.{_STEP})*")
    value = group("value", rf"{_STR_LIT}|[+-]?(?:0|[1-9][0-9]*)(?![0-9.])")
    return rf" *{_NOT_KEYWORD}[a-zA-Z_][a-zA-Z0-9_-]*:{path} *(?:<=|>=|==|!=|<>|=|<|>) *{value}"


_SIMPLE: Final = re.compile(
    rf"\[{_comparison(False)}(?: +(?:AND|OR) +{_comparison(False)})* *\]")
_SIMPLE_COMPARISON: Final = re.compile(_comparison(True))
_SIMPLE_JOIN: Final = re.compile(r" +(?:AND|OR) +")
_SIMPLE_STEP: Final = re.compile(_STEP)


def simple_pattern_ok(text: str) -> bool:
    """True when ``text`` has the common shape above and is valid; False: parse it in full."""
    if text.count("[") != 1 or "(" in text or _SIMPLE.fullmatch(text) is None:
        return False  # (the counts first: compound patterns leave at once)
    if "hashes" not in text:
        return True
    pos = 1
    while True:  # the comparisons again, one by one, for the reference's hash check
        found = _SIMPLE_COMPARISON.match(text, pos)
        if found is None or not _simple_hash_ok(found["path"], found["value"]):
            return False
        pos = found.end()
        joined = _SIMPLE_JOIN.match(text, pos)
        if joined is None:
            return True
        pos = joined.end()


def _simple_hash_ok(path: str, value: str) -> bool:
    """``check_hash`` for a path of names and quoted names (no list index)."""
    steps = [_unescape(step) if step[0] == "'" else step
             for step in _SIMPLE_STEP.findall(path)]
    if "hashes" not in steps:
        return True
    entry = _HASH_RE.get(steps[-1].upper().replace("-", "").replace("'", ""))
    return entry is None or entry[0].match(value.replace("'", "")) is not None


def is_valid_pattern(text: str) -> bool:
    """Whether the reference validator (STIX 2.1) accepts ``text``."""
    try:
        validate_pattern(text)
    except PatternError:
        return False
    return True


def _check_leading_bracket(text: str) -> None:
    """The reference's brackets_check: skipping '(' and whitespace, the first character is '['.

    It runs on the raw text, so a leading comment fails it although the grammar allows one.
    (The regex whitespace class and the reference's str.isspace() are the same predicate.)
    """
    if text[:1] == "[":
        return
    offset = _LEADING.match(text).end()  # type: ignore[union-attr]
    if text[offset : offset + 1] == "[":
        return
    raise PatternError(
        f"pattern: expected '[' at offset {offset} (after any '(' and spaces)",
        pattern=text,
        offset=offset,
        hint="a pattern starts with an observation such as [file:name = 'a.exe']",
    )


def _unescape(literal: str) -> str:
    """The value of a STR token: quotes removed, \\' and \\\\ unescaped."""
    body = literal[1:-1]
    if "\\" not in body:
        return body
    return body.replace("\\'", "'").replace("\\\\", "\\")


_CONVERT: Final[dict[str, Callable[[str], Scalar]]] = {
    "STR": _unescape,
    "INT": int,
    "NEGINT": int,
    "FLOAT": float,
    "NEGFLOAT": float,
    "BOOL": "true".__eq__,
    "TS": lambda text: Timestamp(text[2:-1]),
    "HEX": lambda text: Hex(bytes.fromhex(text[2:-1])),
    "BIN": lambda text: Binary(binascii.a2b_base64(text[2:-1])),
}


class _Parser:
    """One parse: the tokens, a cursor, and the rules of STIXPattern.g4 (2.1)."""

    __slots__ = ("pos", "text", "tokens")

    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.pos = 0

    # -- helpers ---------------------------------------------------------------------

    def fail(self, expected: str, index: int | None = None) -> PatternError:
        kind, value, offset = self.tokens[self.pos if index is None else index]
        if kind == "EOF":
            found = "the end"
        elif kind == "INVALID":
            found = f"unexpected {value!r}"
        else:
            found = repr(value) if len(value) <= 24 else repr(value[:21] + "...")
        return PatternError(
            f"pattern: expected {expected} at offset {offset}, found {found}",
            pattern=self.text,
            offset=offset,
        )

    def expect(self, kind: str, expected: str) -> Token:
        token = self.tokens[self.pos]
        if token[0] != kind:
            raise self.fail(expected)
        self.pos += 1
        return token

    # -- observation expressions --------------------------------------------------------

    def pattern(self) -> Pattern:
        expr = self.followed_by()
        if self.tokens[self.pos][0] != "EOF":
            raise self.fail("AND, OR, FOLLOWEDBY, a qualifier or the end")
        return Pattern(expr)

    def followed_by(self) -> ObservationExpr:
        first = self.obs_or()
        if self.tokens[self.pos][0] != "FOLLOWEDBY":
            return first
        operands = [first]
        while self.tokens[self.pos][0] == "FOLLOWEDBY":
            self.pos += 1
            operands.append(self.obs_or())
        return FollowedBy(tuple(operands))

    def obs_or(self) -> ObservationExpr:
        first = self.obs_and()
        if self.tokens[self.pos][0] != "OR":
            return first
        operands = [first]
        while self.tokens[self.pos][0] == "OR":
            self.pos += 1
            operands.append(self.obs_and())
        return ObsOr(tuple(operands))

    def obs_and(self) -> ObservationExpr:
        first = self.qualified()
        if self.tokens[self.pos][0] != "AND":
            return first
        operands = [first]
        while self.tokens[self.pos][0] == "AND":
            self.pos += 1
            operands.append(self.qualified())
        return ObsAnd(tuple(operands))

    def qualified(self) -> ObservationExpr:
        """A bracketed or parenthesised observation and its qualifiers.

        Like the reference's ValidationListener, a qualifier type may not repeat directly on
        a bracketed observation; on a parenthesised one repeats are allowed.
        """
        kind = self.tokens[self.pos][0]
        if kind == "[":
            self.pos += 1
            expr: ObservationExpr = Observation(self.cmp_or())
            self.expect("]", "']'")
            seen: set[type] | None = set()
        elif kind == "(":
            self.pos += 1
            expr = self.followed_by()
            self.expect(")", "')'")
            seen = None
        else:
            raise self.fail("'[' or '('")
        while self.tokens[self.pos][0] in ("WITHIN", "REPEATS", "START"):
            start = self.pos
            qualifier = self.qualifier()
            if seen is not None:
                if type(qualifier) in seen:
                    raise PatternError(
                        f"pattern: duplicate {type(qualifier).__name__.upper()} qualifier"
                        f" at offset {self.tokens[start][2]}",
                        pattern=self.text,
                        offset=self.tokens[start][2],
                        hint="put the observation in parentheses to qualify it twice",
                    )
                seen.add(type(qualifier))
            expr = Qualified(expr, qualifier)
        return expr

    def qualifier(self) -> Qualifier:
        kind, value, _ = self.tokens[self.pos]
        self.pos += 1
        if kind == "WITHIN":
            kind, value, _ = self.tokens[self.pos]
            if kind == "INT":
                seconds: int | float = int(value)
            elif kind == "FLOAT":
                seconds = float(value)
            else:
                raise self.fail("a positive number of seconds")
            self.pos += 1
            self.expect("SECONDS", "SECONDS")
            return Within(seconds)
        if kind == "REPEATS":
            times = int(self.expect("INT", "a positive integer")[1])
            self.expect("TIMES", "TIMES")
            return Repeats(times)
        start = Timestamp(self.expect("TS", "a timestamp t'YYYY-MM-DDTHH:MM:SSZ'")[1][2:-1])
        self.expect("STOP", "STOP")
        stop = Timestamp(self.expect("TS", "a timestamp t'YYYY-MM-DDTHH:MM:SSZ'")[1][2:-1])
        return StartStop(start, stop)

    # -- comparison expressions ---------------------------------------------------------

    def cmp_or(self) -> ComparisonExpr:
        first = self.cmp_and()
        if self.tokens[self.pos][0] != "OR":
            return first
        operands = [first]
        while self.tokens[self.pos][0] == "OR":
            self.pos += 1
            operands.append(self.cmp_and())
        return Or(tuple(operands))

    def cmp_and(self) -> ComparisonExpr:
        first = self.prop_test()
        if self.tokens[self.pos][0] != "AND":
            return first
        operands = [first]
        while self.tokens[self.pos][0] == "AND":
            self.pos += 1
            operands.append(self.prop_test())
        return And(tuple(operands))

    def prop_test(self) -> ComparisonExpr:
        kind = self.tokens[self.pos][0]
        if kind == "(":
            self.pos += 1
            expr = self.cmp_or()
            self.expect(")", "')'")
            return expr
        if kind == "EXISTS" or (kind == "NOT" and self.tokens[self.pos + 1][0] == "EXISTS"):
            negated = kind == "NOT"
            self.pos += 2 if negated else 1
            return Comparison(self.object_path(), "EXISTS", negated, None)
        path = self.object_path()
        negated = self.tokens[self.pos][0] == "NOT"
        if negated:
            self.pos += 1
        operator, value_start = self.tokens[self.pos][0], self.pos + 1
        self.pos = value_start
        if operator in {"=", "!="}:
            value: Constant = self.literal(_PRIMITIVE)
        elif operator in _ORDER_OPS:
            value = self.literal(_ORDERABLE)
        elif operator in _STRING_OPS:
            value = self.literal(frozenset({"STR"}))
        elif operator == "IN":
            value = self.set_literal()
        else:
            raise self.fail("a comparison operator", value_start - 1)
        if "hashes" in path.steps:
            self.check_hash(path, value_start)
        return Comparison(path, operator, negated, value)

    def object_path(self) -> ObjectPath:
        kind, object_type, _ = self.tokens[self.pos]
        if kind not in {"IDENT", "HIDENT"}:
            raise self.fail("an object type such as file or ipv4-addr")
        self.pos += 1
        self.expect(":", "':'")
        steps: list[PathStep] = [self.property_name("a property name")]
        while True:
            kind = self.tokens[self.pos][0]
            if kind == ".":
                self.pos += 1
                steps.append(self.property_name("a property name after '.'"))
            elif kind == "[":
                self.pos += 1
                steps.append(self.list_index())
                self.expect("]", "']'")
            else:
                return ObjectPath(object_type, tuple(steps))

    def property_name(self, expected: str) -> str:
        kind, value, _ = self.tokens[self.pos]
        if kind == "IDENT":
            self.pos += 1
            return value
        if kind == "STR":
            self.pos += 1
            return _unescape(value)
        raise self.fail(expected)

    def list_index(self) -> int | Star:
        kind, value, offset = self.tokens[self.pos]
        if kind == "*":
            self.pos += 1
            return Star.ANY
        if kind == "INT":
            self.pos += 1
            return int(value)
        if kind == "NEGINT":
            # The grammar admits it, but the reference's inspector crashes on it
            # (AttributeError), so no pattern with one ever validates.
            raise PatternError(
                f"pattern: negative list index {value} at offset {offset}",
                pattern=self.text,
                offset=offset,
                hint="use [n] with n >= 0 or [*]",
            )
        raise self.fail("a list index or '*'")

    # -- literals -----------------------------------------------------------------------

    def literal(self, allowed: frozenset[str]) -> Scalar:
        kind, value, _ = self.tokens[self.pos]
        if kind not in allowed:
            raise self.fail("a string" if len(allowed) == 1 else "a literal value")
        self.pos += 1
        return _CONVERT[kind](value)

    def set_literal(self) -> SetConstant:
        self.expect("(", "'(' to open a set")
        if self.tokens[self.pos][0] == ")":
            self.pos += 1
            return SetConstant(())
        values = [self.literal(_PRIMITIVE)]
        while self.tokens[self.pos][0] == ",":
            self.pos += 1
            values.append(self.literal(_PRIMITIVE))
        self.expect(")", "',' or ')'")
        return SetConstant(tuple(values))

    def check_hash(self, path: ObjectPath, value_start: int) -> None:
        """The reference's object_validator on a comparison whose path names 'hashes'.

        The last path step selects the algorithm (upper-cased, '-' removed); the literal's
        source text, quotes removed, must match that algorithm's regex.
        """
        selector = path.steps[-1]
        offset = self.tokens[value_start][2]
        if isinstance(selector, Star):
            return
        if isinstance(selector, int):
            # The reference crashes here (int has no .upper()), so it never validates.
            raise PatternError(
                f"pattern: a list index cannot select a hash algorithm at offset {offset}",
                pattern=self.text,
                offset=offset,
                hint="write hashes.'SHA-256' or hashes[*]",
            )
        entry = _HASH_RE.get(selector.upper().replace("-", "").replace("'", ""))
        if entry is None:
            return
        source = "".join(token[1] for token in self.tokens[value_start : self.pos])
        digest = source.replace("'", "")
        if not entry[0].match(digest):
            raise PatternError(
                f"pattern: {digest!r} is not a valid {selector} hash at offset {offset}",
                pattern=self.text,
                offset=offset,
                hint=f"a {entry[1]} hash is hexadecimal of the algorithm's length",
            )

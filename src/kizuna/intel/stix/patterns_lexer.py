"""Tokenizer for STIX 2.1 patterns: one compiled regex that reproduces the ANTLR lexer.

The reference lexer (``stix2patterns/v21``, generated from ``STIXPattern.g4``) takes the
longest match and, on a tie, the rule defined first. The alternatives below are ordered so
that Python's first-match alternation gives the same tokens:

* literals that start with a letter (``t'..'``, ``b'..'``, ``h'..'``) come before identifiers,
  and fall back to the identifier ``t``/``b``/``h`` when malformed, as ANTLR does;
* floats come before integers (``00.5`` is one float; ``01`` is the two integers ``0`` ``1``);
* ``==``, ``!=``, ``<>``, ``<=``, ``>=`` come before their one-character prefixes;
* comments (``/* */``, ``//``) and the lexer's whitespace set are skipped;
* every token the parser never accepts (``'`` alone, ``+``, ``-``, ``^``, ``/``, ``LAST``,
  any other character) becomes ``INVALID``.
"""

from __future__ import annotations

import re
from typing import Final

# The lexer's WS rule, character for character (a subset of str.isspace()).
_WS: Final = (
    " \t\r\n\x0b\x0c\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_B64: Final = "[A-Za-z0-9+/]"

_TOKEN_RE: Final = re.compile(
    rf"""(?s)
    (?P<SKIP>[{_WS}]+|/\*.*?\*/|//[^\r\n]*)
  | (?P<TS>t'[0-9]{{4}}-(?:0[1-9]|1[012])-(?:0[1-9]|[12][0-9]|3[01])
        T(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]+)?Z')
  | (?P<BIN>b'(?:{_B64}{{4}})*(?:{_B64}{{4}}|{_B64}{{3}}=|{_B64}{{2}}==)')
  | (?P<HEX>h'(?:[0-9A-Fa-f]{{2}})*')
  | (?P<WORD>[a-zA-Z_][a-zA-Z0-9_-]*)
  | (?P<FLOAT>[+-]?[0-9]*\.[0-9]+)
  | (?P<INT>[+-]?(?:0|[1-9][0-9]*))
  | (?P<STR>'(?:[^'\\]|\\['\\])*')
  | (?P<OP>==|!=|<>|<=|>=|[=<>:.,()\[\]*])
  | (?P<INVALID>.)
    """,
    re.VERBOSE,
)

# Token kinds (interned strings: cheap to compare, readable in errors).
KEYWORDS: Final[dict[str, str]] = {
    word: word
    for word in [
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
    ]
}
KEYWORDS["true"] = "BOOL"
KEYWORDS["false"] = "BOOL"
KEYWORDS["LAST"] = "INVALID"  # a reserved word no 2.1 rule uses

_OP_KINDS: Final[dict[str, str]] = {"==": "=", "<>": "!="}

Token = tuple[str, str, int]
"""(kind, text, offset). Kinds: punctuation and operators as themselves ('[', '=', '!=' ...),
keywords by name, BOOL, IDENT, HIDENT (identifier with a hyphen), STR, INT, NEGINT, FLOAT,
NEGFLOAT, BIN, HEX, TS, INVALID, EOF."""


def tokenize(text: str) -> list[Token]:
    """The token list of ``text``, always ending with an EOF token; never raises."""
    tokens: list[Token] = []
    append = tokens.append
    keywords = KEYWORDS
    for match in _TOKEN_RE.finditer(text):
        kind = match.lastgroup
        if kind == "SKIP":
            continue
        value = match.group()
        if kind == "WORD":
            kind = keywords.get(value) or ("HIDENT" if "-" in value else "IDENT")
        elif kind == "OP":
            kind = _OP_KINDS.get(value, value)
        elif value[0] == "-" and kind in {"INT", "FLOAT"}:
            kind = "NEG" + kind
        append((kind, value, match.start()))  # type: ignore[arg-type]
    append(("EOF", "", len(text)))
    return tokens


# The same tokens without their offsets, about three times as fast: ``findall`` hands back
# strings instead of match objects, whitespace is folded into the token that follows, and
# the kind is read off the text. A valid pattern never needs an offset; a parse that fails
# on these tokens is parsed again on ``tokenize``'s, so error messages still say where.
# tests/unit/test_stix_patterns.py holds the two tokenizers equal (kinds and texts) on
# generated patterns and on arbitrary text.
_FAST_RE: Final = re.compile(
    rf"""(?s)[{_WS}]*(
    ==|!=|<>|<=|>=|[=<>:,()\[\]*]
  | (?![tbh]')[a-zA-Z_][a-zA-Z0-9_-]*
  | '(?:[^'\\]|\\['\\])*'
  | /\*.*?\*/|//[^\r\n]*
  | t'[0-9]{{4}}-(?:0[1-9]|1[012])-(?:0[1-9]|[12][0-9]|3[01])
        T(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]+)?Z'
  | b'(?:{_B64}{{4}})*(?:{_B64}{{4}}|{_B64}{{3}}=|{_B64}{{2}}==)'
  | h'(?:[0-9A-Fa-f]{{2}})*'
  | [a-zA-Z_][a-zA-Z0-9_-]*
  | [+-]?[0-9]*\.[0-9]+
  | [+-]?(?:0|[1-9][0-9]*)
  | [^{_WS}]
    )""",
    re.VERBOSE,
)
_PUNCTUATION: Final[dict[str, str]] = {
    op: _OP_KINDS.get(op, op)
    for op in ("==", "!=", "<>", "<=", ">=", "=", "<", ">", ":", ",", "(", ")", "[", "]", "*", ".")
}
_LITERAL_PREFIX: Final[dict[str, str]] = {"t": "TS", "b": "BIN", "h": "HEX"}
_DIGITS: Final = frozenset("0123456789")  # ASCII only: str.isdigit() also takes '²'
_NUMBER_START: Final = _DIGITS | frozenset("+-.")


def _fast_kind(value: str) -> str | None:
    """The kind of one token text from ``_FAST_RE`` (None: a comment, skipped)."""
    kind = _PUNCTUATION.get(value)
    if kind is not None:
        return kind
    first = value[0]
    if first.isascii() and (first.isalpha() or first == "_"):
        if len(value) > 1 and value[1] == "'":
            return _LITERAL_PREFIX[first]
        return KEYWORDS.get(value) or ("HIDENT" if "-" in value else "IDENT")
    if first in "'/" and len(value) > 1:
        return "STR" if first == "'" else None  # a string, or a comment (skipped)
    if first in _NUMBER_START and (len(value) > 1 or first in _DIGITS):
        number = "FLOAT" if "." in value else "INT"
        return "NEG" + number if first == "-" else number
    return "INVALID"


_KNOWN: dict[str, str | None] = dict(_PUNCTUATION)  # word and punctuation kinds seen so far
_KNOWN_MAX = 4096


def tokenize_fast(text: str) -> list[Token]:
    """``tokenize(text)`` with every offset -1 (see above); never raises."""
    tokens: list[Token] = []
    append = tokens.append
    known = _KNOWN
    for value in _FAST_RE.findall(text):
        kind = known.get(value, "")
        if kind == "":
            kind = _fast_kind(value)
            if value[0] not in "0123456789+-./" and "'" not in value and len(known) < _KNOWN_MAX:
                known[value] = kind  # words repeat (keywords, types, properties); literals not
        if kind is not None:
            append((kind, value, -1))
    append(("EOF", "", -1))
    return tokens

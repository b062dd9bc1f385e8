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

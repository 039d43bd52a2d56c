"""Parser for DRMS record-set specifications: ``series[filters]{segments}``.

Grammar (``lm-jps/drms:base/drms/doc/drms_names.txt``; value sets and durations in
``base/drms/libs/api/drms_names.c`` L990-1418, their SQL in ``sql_primekey_value_set`` L2131-2235):

* ``[v]``, ``[v1-v2]`` (inclusive), ``[v/duration]`` (start inclusive, end exclusive), an
  optional ``@skip``, comma lists, ``^`` (first) and ``$`` (last): prime-key value sets,
  consumed in prime-key order; ``[]`` skips a key; ``[KEY=value]`` names the key.
* ``[:#recnum,#recnum]``: record numbers.
* ``[? SQL ?]``: keyword filter with comparisons (``= != <> < <= > >=``), ``AND``, ``OR``,
  ``NOT``, parentheses, quoted strings, numbers and the function ``drms.image_exists(quality)``.
* ``{seg1, seg2}`` or ``{**ALL**}``: segment list.

Parsing yields plain data; the catalogue interprets values (times or numbers) with the
series definition. `evaluate_sql` evaluates a parsed SQL filter against column arrays.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from .errors import RecordSetError

__all__ = [
    "KeyFilter",
    "ParsedSpec",
    "RecnumFilter",
    "SqlFilter",
    "ValueItem",
    "evaluate_sql",
    "parse_spec",
]


@dataclass(frozen=True)
class ValueItem:
    """One comma-separated item of a prime-key value set (strings as written)."""

    kind: str  # "value", "range", "duration", "first", "last"
    start: str | None = None
    end: str | None = None
    duration: str | None = None
    skip: str | None = None


@dataclass(frozen=True)
class KeyFilter:
    """A prime-key filter; ``key`` None means positional; empty ``items`` means ``[]``."""

    key: str | None
    items: tuple[ValueItem, ...]


@dataclass(frozen=True)
class RecnumFilter:
    """``[:#n1,#n2-#n3]``: inclusive ranges of record numbers."""

    ranges: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class SqlFilter:
    """``[? ... ?]``: the parsed expression tree and its text."""

    text: str
    tree: tuple


@dataclass
class ParsedSpec:
    """A parsed record-set specification."""

    series: str
    filters: list = field(default_factory=list)
    segments: list[str] | None = None
    text: str = ""


_SERIES_RE = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*")


def _split_brackets(rest: str, spec: str) -> tuple[list[str], str | None]:
    """Top-level ``[...]`` bodies and the ``{...}`` body (if any) of the text after the name.
    A filter after the segment list (``s[t]{image}[? q ?]``) is accepted too."""
    bodies: list[str] = []
    segments: str | None = None
    pos, n = 0, len(rest)
    while pos < n:
        char = rest[pos]
        if char.isspace():
            pos += 1
        elif char == "[":
            if rest.startswith("[?", pos):
                end = rest.find("?]", pos + 2)
                if end < 0:
                    raise RecordSetError(f"Unterminated SQL filter in {spec!r}")
                bodies.append(rest[pos + 1 : end + 1])
                pos = end + 2
            else:
                end = rest.find("]", pos)
                if end < 0:
                    raise RecordSetError(f"Unterminated '[' in {spec!r}")
                bodies.append(rest[pos + 1 : end])
                pos = end + 1
        elif char == "{":
            end = rest.find("}", pos)
            if end < 0 or segments is not None:
                raise RecordSetError(f"Bad segment list in {spec!r}")
            segments, pos = rest[pos + 1 : end], end + 1
        else:
            raise RecordSetError(f"Syntax error in record set {spec!r} at {rest[pos:]!r}")
    return bodies, segments


def parse_spec(spec: str) -> ParsedSpec:
    """Parse ``series[filters]{segments}``. Raises `RecordSetError` on bad syntax."""
    match = _SERIES_RE.match(spec or "")
    if not match:
        raise RecordSetError(f"Can not parse record set {spec!r}")
    parsed = ParsedSpec(series=match.group(1), text=spec.strip())
    bodies, segs = _split_brackets(spec[match.end() :], spec)
    for body in bodies:
        parsed.filters.append(_parse_filter(body.strip(), spec))
    if segs is not None:
        names = [s.strip() for s in segs.split(",") if s.strip()]
        parsed.segments = None if any(s == "**ALL**" for s in names) else names
    return parsed


def _parse_filter(body: str, spec: str):
    if body.startswith("?"):
        text = body[1:-1].strip() if body.endswith("?") else body[1:].strip()
        return SqlFilter(text, _SqlParser(text).parse())
    if body.startswith(":"):
        return RecnumFilter(_parse_recnums(body[1:], spec))
    key = None
    named = re.match(r"^([A-Za-z_]\w*)\s*=\s*(.*)$", body, re.S)
    if named:
        key, body = named.group(1), named.group(2)
    items = tuple(_parse_item(part.strip(), spec) for part in body.split(",") if part.strip())
    if key is not None and not items:
        raise RecordSetError(f"Empty value for {key} in {spec!r}")
    return KeyFilter(key, items)


def _parse_recnums(body: str, spec: str) -> tuple[tuple[int, int], ...]:
    out = []
    for part in body.split(","):
        match = re.match(r"^\s*#\s*(\d+)\s*(?:-\s*#?\s*(\d+))?\s*$", part)
        if not match:
            raise RecordSetError(f"Bad record number list in {spec!r}")
        lo = int(match.group(1))
        out.append((lo, int(match.group(2)) if match.group(2) else lo))
    return tuple(out)


def _parse_item(text: str, spec: str) -> ValueItem:
    if text in ("^", "$"):
        return ValueItem("first" if text == "^" else "last")
    skip = None
    if "@" in text:
        text, skip = (s.strip() for s in text.split("@", 1))
    if "/" in text:
        start, duration = (s.strip() for s in text.split("/", 1))
        if not start or not duration:
            raise RecordSetError(f"Bad duration in {spec!r}")
        return ValueItem("duration", start, duration=duration, skip=skip)
    if not text:
        raise RecordSetError(f"Empty value in {spec!r}")
    return ValueItem("value", text, skip=skip)


# ---------------------------------------------------------------- SQL filters

_TOKEN_RE = re.compile(
    r"\s*(?:(?P<str>'[^']*'|\"[^\"]*\")|(?P<num>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?![\w.:]))"
    r"|(?P<op><>|!=|<=|>=|=|<|>)|(?P<punct>[(),])|(?P<word>[A-Za-z_$][\w.$\-:]*))"
)


class _SqlParser:
    """Recursive-descent parser producing tuples:
    ``("or", a, b)``, ``("and", a, b)``, ``("not", a)``, ``("cmp", op, lhs, rhs)``,
    ``("ident", name)``, ``("num", value)``, ``("str", text)``, ``("call", name, args)``."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = self._tokenize(text)
        self.pos = 0

    def _tokenize(self, text: str) -> list[tuple[str, str]]:
        tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            if not text[pos:].strip():
                break
            match = _TOKEN_RE.match(text, pos)
            if not match or match.end() == pos:
                raise RecordSetError(f"Bad SQL filter near {text[pos:]!r}")
            kind = match.lastgroup
            assert kind is not None, "every alternative of the token pattern is a named group"
            tokens.append((kind, match.group(kind)))
            pos = match.end()
        return tokens

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        tok = self._peek()
        if tok is None:
            raise RecordSetError(f"Unexpected end of SQL filter {self.text!r}")
        self.pos += 1
        return tok

    def _is_word(self, word: str) -> bool:
        tok = self._peek()
        return tok is not None and tok[0] == "word" and tok[1].upper() == word

    def parse(self) -> tuple:
        tree = self._or()
        rest = self._peek()
        if rest is not None:
            raise RecordSetError(f"Bad SQL filter {self.text!r} near {rest[1]!r}")
        return tree

    def _or(self) -> tuple:
        node = self._and()
        while self._is_word("OR"):
            self._take()
            node = ("or", node, self._and())
        return node

    def _and(self) -> tuple:
        node = self._not()
        while self._is_word("AND"):
            self._take()
            node = ("and", node, self._not())
        return node

    def _not(self) -> tuple:
        if self._is_word("NOT"):
            self._take()
            return ("not", self._not())
        return self._comparison()

    def _comparison(self) -> tuple:
        lhs = self._operand()
        tok = self._peek()
        if tok is not None and tok[0] == "op":
            self._take()
            return ("cmp", tok[1], lhs, self._operand())
        return lhs

    def _operand(self) -> tuple:
        kind, value = self._take()
        if kind == "punct" and value == "(":
            node = self._or()
            if self._take() != ("punct", ")"):
                raise RecordSetError(f"Missing ')' in SQL filter {self.text!r}")
            return node
        if kind == "num":
            return ("num", float(value))
        if kind == "str":
            return ("str", value[1:-1])
        if kind == "word":
            if self._peek() == ("punct", "("):
                return self._call(value)
            return ("ident", value)
        raise RecordSetError(f"Bad SQL filter {self.text!r} near {value!r}")

    def _call(self, name: str) -> tuple:
        self._take()
        args = []
        while self._peek() != ("punct", ")"):
            args.append(self._or())
            if self._peek() == ("punct", ","):
                self._take()
        self._take()
        return ("call", name.lower(), tuple(args))


_OPS: dict[str, Callable] = {
    "=": np.equal,
    "!=": np.not_equal,
    "<>": np.not_equal,
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}


class SqlContext(Protocol):
    """What `evaluate_sql` needs: ``column(name)`` (array or None if unknown), ``is_time(name)``,
    ``parse_time(text)`` and ``image_exists()`` (bool array); ``size`` is the record count."""

    size: int

    def column(self, name: str) -> np.ndarray | None: ...
    def is_time(self, name: str) -> bool: ...
    def parse_time(self, text: str) -> float: ...
    def image_exists(self) -> np.ndarray: ...


def evaluate_sql(tree: tuple, ctx: SqlContext) -> np.ndarray:
    """Boolean mask of the records satisfying the parsed SQL ``tree``."""
    kind = tree[0]
    if kind == "or":
        return evaluate_sql(tree[1], ctx) | evaluate_sql(tree[2], ctx)
    if kind == "and":
        return evaluate_sql(tree[1], ctx) & evaluate_sql(tree[2], ctx)
    if kind == "not":
        return ~evaluate_sql(tree[1], ctx)
    if kind == "cmp":
        return _compare(tree[1], tree[2], tree[3], ctx)
    if kind == "call":
        if tree[1] == "drms.image_exists":
            return np.asarray(ctx.image_exists(), bool)
        raise RecordSetError(f"Unknown function {tree[1]} in SQL filter")
    value = _operand_value(tree, ctx, None)
    return np.broadcast_to(np.asarray(value).astype(bool), (ctx.size,)).copy()


def _operand_value(node: tuple, ctx: SqlContext, time_hint: bool | None):
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "str":
        if time_hint:
            return ctx.parse_time(node[1])
        return node[1]
    if kind == "ident":
        col = ctx.column(node[1])
        if col is None:
            raise RecordSetError(f"Unknown keyword {node[1]} in SQL filter")
        return col
    if kind == "call":
        return evaluate_sql(node, ctx)
    return evaluate_sql(node, ctx)


def _compare(op: str, lhs: tuple, rhs: tuple, ctx: SqlContext) -> np.ndarray:
    hint = any(n[0] == "ident" and ctx.is_time(n[1]) for n in (lhs, rhs))
    left, right = _operand_value(lhs, ctx, hint), _operand_value(rhs, ctx, hint)
    left, right = _coerce(left), _coerce(right)
    with np.errstate(invalid="ignore"):
        result = _OPS[op](left, right)
    return np.broadcast_to(np.asarray(result, bool), (ctx.size,)).copy()


def _coerce(value):
    """Strings that look like numbers compare as numbers (as PostgreSQL casts them)."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    if isinstance(value, np.ndarray) and value.dtype == object:
        return value.astype(str)
    return value

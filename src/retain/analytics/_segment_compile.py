"""Validate a segment predicate parsed by sqlglot against an allow-list and compile it to an Ibis expression.

The predicate text is tokenised and parsed by sqlglot (DuckDB dialect); the syntax tree is then walked node by
node. Only the node types listed in ``_COMPARISONS``, ``_FUNCTIONS`` and the ``_compile`` dispatch are accepted;
every other node (subqueries, ``*``, casts, arithmetic, unknown functions, placeholders, DDL/DML...) is rejected
with an ``InputError`` naming it. The walk builds a closure that calls Ibis methods on the profile table's
columns: nothing is ever formatted into SQL text.

Hostile sizes are refused before they cost anything: the length before tokenising (``MAX_PREDICATE_CHARS``), the
nesting of the tokens before sqlglot's recursive parser sees them and the depth of the tree while walking it
(``MAX_PREDICATE_DEPTH``), so a predicate never ends in ``RecursionError`` or a long wait.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

import ibis
import ibis.expr.datatypes as dt
import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from retain.analytics.periods import as_instant
from retain.errors import InputError

__all__ = [
    "ALLOWED_FUNCTIONS",
    "ALLOWED_OPERATORS",
    "MAX_PREDICATE_CHARS",
    "MAX_PREDICATE_DEPTH",
    "CompiledPredicate",
    "compile_predicate",
]

MAX_PREDICATE_CHARS = 4_000
"""Longest predicate accepted; a real segment is a line or two, and the limit bounds the work of parsing it."""

MAX_PREDICATE_DEPTH = 25
"""Most levels of the syntax tree inside each other (a chain of ANDs or ORs is one level). Real segments use a
handful; sqlglot's parser recurses ~20-25 Python frames per parenthesis and fails near 45 of them, so the limit
stays well below what it can parse from any caller."""

ALLOWED_FUNCTIONS = ("abs", "coalesce", "length", "lower", "upper")
ALLOWED_OPERATORS = (
    "=, !=, <>, <, <=, >, >=, AND, OR, NOT, parentheses, IN (literal list), BETWEEN, IS [NOT] NULL, "
    "[NOT] LIKE / ILIKE on strings"
)

_COMPARISONS: dict[type[exp.Expression], Callable] = {
    exp.EQ: operator.eq,
    exp.NEQ: operator.ne,
    exp.LT: operator.lt,
    exp.LTE: operator.le,
    exp.GT: operator.gt,
    exp.GTE: operator.ge,
}
_DIALECT = Dialect.get_or_raise("duckdb")
_INTEGER = re.compile(r"^\d+$")
_SHOWN_CHARS = 100  # of a long predicate quoted in an error message
_UNARY = (TokenType.NOT, TokenType.DASH)

Build = Callable[[ibis.Table], ibis.Value]


@dataclass(frozen=True)
class _Node:
    """A compiled sub-expression: its kind (``number``, ``string``, ``boolean``, ``timestamp``, ``date`` or
    ``null``), how to build it from a table, and its Python value when it is a literal."""

    kind: str
    build: Build
    literal: object = None
    is_literal: bool = False


def _kind(dtype: dt.DataType) -> str | None:
    if dtype.is_boolean():
        return "boolean"
    if dtype.is_numeric():
        return "number"
    if dtype.is_string():
        return "string"
    if dtype.is_timestamp():
        return "timestamp"
    if dtype.is_date():
        return "date"
    return None


@dataclass(frozen=True)
class CompiledPredicate:
    """A validated predicate: call it with a table holding the profile columns to get an Ibis boolean.

    Attributes
    ----------
    predicate
        The predicate text as given.
    columns
        The profile columns it reads, in order of first use.
    """

    predicate: str
    columns: tuple[str, ...]
    _build: Build

    def __call__(self, table: ibis.Table) -> ibis.BooleanValue:
        missing = [c for c in self.columns if c not in table.columns]
        if missing:
            raise InputError(
                f"Segment predicate {self.predicate!r} reads column(s) {', '.join(missing)} that the table lacks. "
                f"The table has: {', '.join(table.columns)}."
            )
        return self._build(table)


class _Compiler:
    def __init__(self, predicate: str, columns: Mapping[str, dt.DataType]):
        self.predicate = predicate
        self.columns = {name: dt.dtype(dtype) for name, dtype in columns.items()}
        self.used: list[str] = []
        self.depth = 0  # of the node being visited

    # -- errors ---------------------------------------------------------------------------------------------
    def fail(self, problem: str) -> InputError:
        allowed = ", ".join(c for c, t in self.columns.items() if _kind(t) is not None)
        shown = self.predicate
        if isinstance(shown, str) and len(shown) > _SHOWN_CHARS:
            shown = shown[: _SHOWN_CHARS - 3] + "..."
        return InputError(
            f"Segment predicate {shown!r} is not allowed: {problem}. "
            f"Allowed columns: {allowed or '(none)'}. Allowed functions: {', '.join(ALLOWED_FUNCTIONS)}. "
            f"Allowed operators: {ALLOWED_OPERATORS}; literals: numbers, 'strings', TRUE/FALSE, NULL."
        )

    @staticmethod
    def show(node: exp.Expression) -> str:
        try:
            text = node.sql(dialect="duckdb")
        except Exception:  # only used to name the node in an error message
            text = type(node).__name__
        return text if len(text) <= 60 else text[:57] + "..."

    # -- entry ----------------------------------------------------------------------------------------------
    def compile(self) -> CompiledPredicate:
        if not isinstance(self.predicate, str) or not self.predicate.strip():
            raise self.fail("it is empty; write a condition such as days_since_last_order > 30")
        if len(self.predicate) > MAX_PREDICATE_CHARS:
            raise self.fail(
                f"it is longer than {MAX_PREDICATE_CHARS:,} characters ({len(self.predicate):,}); shorten it, e.g. "
                "with IN (...) instead of a long chain of ORs, or split it into several segments"
            )
        self.check_tokens()
        try:
            tree = sqlglot.parse_one(self.predicate, dialect=_DIALECT)
        except RecursionError:  # the token check bounds nesting; this guards what it cannot see
            raise self.too_deep() from None
        except ParseError as exc:
            first = exc.errors[0] if exc.errors else {}
            token = first.get("highlight") or first.get("start_context") or "?"
            raise self.fail(f"it does not parse near {token!r} ({first.get('description', 'syntax error')})") from None
        node = self.visit(tree)
        if node.kind != "boolean":
            raise self.fail(f"{self.show(tree)!r} is a {node.kind}, not a condition; compare it, e.g. '... > 0'")
        return CompiledPredicate(self.predicate, tuple(self.used), node.build)

    def too_deep(self) -> InputError:
        return self.fail(
            f"it is nested deeper than {MAX_PREDICATE_DEPTH} levels; simplify it (drop redundant parentheses or "
            "NOTs) or split it into several segments"
        )

    def check_tokens(self) -> None:
        try:
            tokens = _DIALECT.tokenize(self.predicate)
        except TokenError as exc:
            raise self.fail(f"it cannot be tokenised ({exc}); check quotes: strings use 'single quotes'") from None
        if _token_depth(tokens) > MAX_PREDICATE_DEPTH:
            raise self.too_deep()  # before sqlglot's recursive parser sees it
        for token in tokens:
            if token.comments:
                raise self.fail(f"comment {token.comments[0].strip()!r} (comments are not allowed)")
            if token.token_type == TokenType.SEMICOLON:
                raise self.fail("token ';' (a predicate is one condition, not statements)")
            if token.token_type in (TokenType.PARAMETER, TokenType.PLACEHOLDER):
                raise self.fail(f"placeholder {token.text!r}")

    # -- walk -----------------------------------------------------------------------------------------------
    def visit(self, node: exp.Expression) -> _Node:
        self.depth += 1
        try:
            if self.depth > MAX_PREDICATE_DEPTH:
                raise self.too_deep()
            return self.visit_node(node)
        finally:
            self.depth -= 1

    def visit_node(self, node: exp.Expression) -> _Node:
        if node.comments:
            raise self.fail(f"comment {node.comments[0].strip()!r} (comments are not allowed)")
        if isinstance(node, exp.Paren):
            return self.visit(node.this)
        if isinstance(node, exp.And | exp.Or):
            return self.boolean_op(node)
        if isinstance(node, exp.Not):
            inner = self.expect(node.this, "boolean", "NOT")
            return _Node("boolean", lambda t: ~inner.build(t))
        if type(node) in _COMPARISONS:
            return self.comparison(node)
        if isinstance(node, exp.Is):
            return self.is_null(node)
        if isinstance(node, exp.In):
            return self.in_list(node)
        if isinstance(node, exp.Between):
            return self.between(node)
        if isinstance(node, exp.Like | exp.ILike) and not isinstance(node, exp.Escape):
            return self.like(node)
        if isinstance(node, exp.Column):
            return self.column(node)
        if isinstance(node, exp.Literal | exp.Boolean | exp.Null | exp.Neg):
            return self.literal(node)
        if isinstance(node, exp.Func):
            return self.function(node)
        raise self.fail(self.describe(node))

    def describe(self, node: exp.Expression) -> str:
        if isinstance(node, exp.Subquery | exp.Select | exp.Query | exp.Exists):
            return f"subquery {self.show(node)!r}"
        if isinstance(node, exp.Star):
            return "'*'"
        if isinstance(node, exp.Escape):
            return "ESCAPE clause (LIKE patterns use % and _ only)"
        if isinstance(node, exp.Binary):
            op = node.key.upper()
            return f"operator {op} in {self.show(node)!r}"
        return f"{type(node).__name__.lower()} {self.show(node)!r}"

    def expect(self, node: exp.Expression, kind: str, where: str) -> _Node:
        out = self.visit(node)
        if out.kind != kind:
            raise self.fail(f"{where} needs a {kind}, but {self.show(node)!r} is a {out.kind}")
        return out

    def boolean_op(self, node: exp.And | exp.Or) -> _Node:
        # sqlglot nests a chain a OR b OR c ... one level per term; taken as one list it is one level deep here,
        # and it is rebuilt as a balanced tree, so hundreds of terms nest only a few levels in Ibis too.
        word = "AND" if isinstance(node, exp.And) else "OR"
        terms = [self.expect(term, "boolean", word) for term in node.flatten(unnest=False)]
        combine = operator.and_ if word == "AND" else operator.or_
        return _Node("boolean", lambda t: _balanced(combine, [term.build(t) for term in terms]))

    def column(self, node: exp.Column) -> _Node:
        ident = node.this
        if node.table or node.args.get("db") or node.args.get("catalog"):
            raise self.fail(f"qualified column {self.show(node)!r}; use the bare column name")
        if not isinstance(ident, exp.Identifier):
            raise self.fail(self.describe(ident))
        name = ident.this
        if name not in self.columns and not ident.quoted:
            matches = [c for c in self.columns if c.lower() == name.lower()]
            name = matches[0] if len(matches) == 1 else name
        if name not in self.columns:
            raise self.fail(f"unknown column {ident.this!r}")
        kind = _kind(self.columns[name])
        if kind is None:
            raise self.fail(f"column {name!r} has type {self.columns[name]}, which predicates cannot use")
        if name not in self.used:
            self.used.append(name)
        return _Node(kind, lambda t: t[name])

    def literal(self, node: exp.Expression) -> _Node:
        if isinstance(node, exp.Null):
            return _Node("null", lambda t: ibis.null(), None, True)
        if isinstance(node, exp.Boolean):
            value = bool(node.this)
            return _Node("boolean", lambda t: ibis.literal(value), value, True)
        if isinstance(node, exp.Neg):
            inner = self.visit(node.this)
            if inner.kind != "number" or not inner.is_literal:
                raise self.fail(f"unary minus on {self.show(node.this)!r} (only numbers can be negative)")
            value = -inner.literal
            return _Node("number", lambda t: ibis.literal(value), value, True)
        if node.is_string:
            text = node.this
            return _Node("string", lambda t: ibis.literal(text, "string"), text, True)
        text = node.this
        value: int | float = int(text) if _INTEGER.match(text) else float(text)
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(f"number {text!r} is out of range")
        return _Node("number", lambda t: ibis.literal(value), value, True)

    def function(self, node: exp.Func) -> _Node:
        name = node.name if isinstance(node, exp.Anonymous) else node.sql_name().lower()
        if name.lower() not in ALLOWED_FUNCTIONS or type(node) not in _FUNCTIONS:
            raise self.fail(f"function {name!r}")
        return _FUNCTIONS[type(node)](self, node)

    def coerce(self, node: _Node, to_kind: str, source: exp.Expression) -> _Node:
        """A string literal compared with a timestamp/date column becomes that instant or day."""
        if node.kind == "string" and node.is_literal and to_kind in ("timestamp", "date"):
            try:
                if to_kind == "date":
                    day = date.fromisoformat(node.literal)
                    return _Node("date", lambda t: ibis.literal(day), day, True)
                moment = as_instant(datetime.fromisoformat(node.literal))
            except ValueError:
                raise self.fail(
                    f"{self.show(source)!r} is not an ISO date/time such as '2024-01-31' or '2024-01-31T12:00:00Z'"
                ) from None
            return _Node("timestamp", lambda t: ibis.literal(moment, "timestamp('UTC')"), moment, True)
        return node

    def comparable(self, left: _Node, right: _Node, lnode, rnode, where: str) -> tuple[_Node, _Node]:
        if "null" in (left.kind, right.kind):
            raise self.fail(f"{where} with NULL is never true; write 'column IS NULL' or 'column IS NOT NULL'")
        left, right = self.coerce(left, right.kind, lnode), self.coerce(right, left.kind, rnode)
        if left.kind != right.kind:
            raise self.fail(
                f"{where} of {self.show(lnode)!r} ({left.kind}) with {self.show(rnode)!r} ({right.kind}): types differ"
            )
        return left, right

    def comparison(self, node: exp.Expression) -> _Node:
        op = _COMPARISONS[type(node)]
        left, right = self.visit(node.this), self.visit(node.expression)
        left, right = self.comparable(left, right, node.this, node.expression, "comparison")
        return _Node("boolean", lambda t: op(left.build(t), right.build(t)))

    def is_null(self, node: exp.Is) -> _Node:
        if not isinstance(node.expression, exp.Null):
            raise self.fail(f"{self.show(node)!r}: only IS NULL and IS NOT NULL are allowed")
        inner = self.visit(node.this)
        return _Node("boolean", lambda t: inner.build(t).isnull())

    def in_list(self, node: exp.In) -> _Node:
        for arg in ("query", "unnest", "field"):
            if node.args.get(arg) is not None:
                raise self.fail(f"IN with {self.show(node.args[arg])!r}; IN takes a list of literals")
        left = self.visit(node.this)
        values = []
        for item in node.expressions:
            lit = self.visit(item)
            if not lit.is_literal or lit.kind == "null":
                raise self.fail(f"{self.show(item)!r} inside IN (...); the list holds non-null literals only")
            _, lit = self.comparable(left, lit, node.this, item, "IN")
            values.append(lit.literal)
        if not values:
            raise self.fail("an empty IN list")
        return _Node("boolean", lambda t: left.build(t).isin(values))

    def between(self, node: exp.Between) -> _Node:
        value = self.visit(node.this)
        low = self.comparable(value, self.visit(node.args["low"]), node.this, node.args["low"], "BETWEEN")[1]
        high = self.comparable(value, self.visit(node.args["high"]), node.this, node.args["high"], "BETWEEN")[1]
        return _Node("boolean", lambda t: value.build(t).between(low.build(t), high.build(t)))

    def like(self, node: exp.Like | exp.ILike) -> _Node:
        word = "ILIKE" if isinstance(node, exp.ILike) else "LIKE"
        for arg, value in node.args.items():
            if arg not in ("this", "expression", "negate") and value is not None:
                raise self.fail(f"{word} option {arg!r}")
        value = self.expect(node.this, "string", word)
        pattern = self.expect(node.expression, "string", word)
        negate = bool(node.args.get("negate"))

        def build(t: ibis.Table) -> ibis.Value:
            v, p = value.build(t), pattern.build(t)
            out = v.ilike(p) if word == "ILIKE" else v.like(p)
            return ~out if negate else out

        return _Node("boolean", build)


def _token_depth(tokens: list) -> int:
    """How deep the tokens nest: open parentheses plus a run of NOT / minus signs, which each open a level."""
    depth = deepest = unary = 0
    for token in tokens:
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth = max(depth - 1, 0)
        elif token.token_type in _UNARY:
            unary += 1
        else:
            unary = 0
        deepest = max(deepest, depth + unary)
    return deepest


def _balanced(combine: Callable, values: list):
    """``combine`` over ``values`` as a balanced tree: depth log2(n) instead of n."""
    while len(values) > 1:
        pairs = [combine(values[i], values[i + 1]) for i in range(0, len(values) - 1, 2)]
        values = pairs + ([values[-1]] if len(values) % 2 else [])
    return values[0]


def _unary(kind_in: str, kind_out: str, method: str):
    def handle(c: _Compiler, node: exp.Func) -> _Node:
        extra = [k for k, v in node.args.items() if k != "this" and v not in (None, False, [])]
        if extra:
            raise c.fail(f"{node.sql_name().lower()}() with extra arguments in {c.show(node)!r}")
        inner = c.expect(node.this, kind_in, f"{node.sql_name().lower()}()")
        return _Node(kind_out, lambda t: getattr(inner.build(t), method)())

    return handle


def _coalesce(c: _Compiler, node: exp.Coalesce) -> _Node:
    args = [c.visit(a) for a in [node.this, *node.expressions]]
    kinds = {a.kind for a in args} - {"null"}
    if len(kinds) != 1:
        raise c.fail(f"coalesce() needs arguments of one type, got {', '.join(sorted(kinds)) or 'only NULL'}")
    return _Node(kinds.pop(), lambda t: ibis.coalesce(*[a.build(t) for a in args]))


_FUNCTIONS: dict[type[exp.Func], Callable[[_Compiler, exp.Func], _Node]] = {
    exp.Lower: _unary("string", "string", "lower"),
    exp.Upper: _unary("string", "string", "upper"),
    exp.Length: _unary("string", "number", "length"),
    exp.Abs: _unary("number", "number", "abs"),
    exp.Coalesce: _coalesce,
}


def compile_predicate(predicate: str, columns: Mapping[str, dt.DataType | str]) -> CompiledPredicate:
    """Validate ``predicate`` against the allow-list and ``columns`` (see ``segments.compile_segment``)."""
    return _Compiler(predicate, columns).compile()

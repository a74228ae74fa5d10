"""User-defined segments: literal memberships on a tiny profile, rejected injections, a hypothesis reference check."""

from __future__ import annotations

import inspect
import sys
import tomllib
from datetime import UTC, date, datetime

import ibis
import pyarrow as pa
import pytest
from analytics_helpers import run
from builders_segments import PROFILE_ROWS, PROFILE_SCHEMA, profile_table
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from retain.analytics._segment_compile import ALLOWED_OPERATORS, MAX_PREDICATE_CHARS, MAX_PREDICATE_DEPTH
from retain.analytics.segments import (
    MEMBERSHIP_COLUMNS,
    Segment,
    SegmentSettings,
    add_segment_columns,
    compile_segment,
    evaluate_segments,
    segments_from_mapping,
)
from retain.errors import InputError

SCHEMA = ibis.schema({f.name: ibis.dtype(f.type) for f in PROFILE_SCHEMA})

# name -> (predicate, members), members worked out by hand from builders_segments.PROFILE_ROWS.
VALID = {
    "the_issue_example": ("days_since_last_order > 30 AND total_revenue >= 500", ["p2", "p4", "p8"]),
    "no_plan": ("plan IS NULL", ["p2", "p4", "p6"]),
    "has_plan": ("plan IS NOT NULL", ["p1", "p3", "p5", "p7", "p8"]),
    "french_exact": ("country = 'FR'", ["p1"]),
    "french_lower": ("lower(country) = 'fr'", ["p1", "p4"]),
    "fr_or_de": ("upper(country) IN ('FR', 'DE')", ["p1", "p2", "p4", "p7"]),
    "not_us_de": ("country NOT IN ('US', 'DE')", ["p1", "p4", "p5"]),  # p8's null country is unknown
    "mid_revenue": ("total_revenue BETWEEN 75.5 AND 800", ["p2", "p4", "p5", "p7"]),
    "not_mid_revenue": ("NOT (total_revenue BETWEEN 75.5 AND 800)", ["p1", "p3", "p6", "p8"]),
    "nps_extremes": ("nps >= 9 OR nps <= 6", ["p1", "p4", "p5", "p7", "p8"]),
    "subscribers": ("is_subscriber", ["p1", "p3", "p5", "p7"]),
    "buyers_not_subscribed": ("is_subscriber = FALSE AND orders > 0", ["p2", "p4", "p8"]),
    "not_subscribers": ("NOT is_subscriber", ["p2", "p4", "p6", "p8"]),
    "plan_b": ("plan LIKE 'b%'", ["p3", "p7"]),
    "plan_not_pro": ("plan NOT LIKE 'pro'", ["p3", "p7", "p8"]),
    "fr_ilike": ("country ILIKE 'fr'", ["p1", "p4"]),
    "no_nps": ("coalesce(nps, -1) < 0", ["p3", "p6"]),
    "unknown_country": ("coalesce(country, 'unknown') = 'unknown'", ["p8"]),
    "long_plan": ("length(plan) > 5", ["p8"]),
    "zero_nps": ("abs(nps) = 0", ["p8"]),
    "quoted_column": ('"total_revenue" > 1000', ["p1", "p8"]),
    "upper_case_column": ("TOTAL_REVENUE > 1000", ["p1", "p8"]),
    "nested": ("(orders >= 4 OR nps = 10) AND NOT country = 'US'", ["p1", "p2", "p4"]),
    "not_equal": ("days_since_last_order <> 30 AND days_since_last_order != 31 AND days_since_last_order < 50",
                  ["p1", "p2", "p7"]),
    "decimal_edge": ("total_revenue > 499.99", ["p1", "p2", "p4", "p8"]),
    "never_or_unknown": ("orders = 0 OR nps IS NULL", ["p3", "p6"]),
}  # fmt: skip


def test_valid_predicates_give_the_expected_members(backend, load):
    profile = load(profile_table())
    segments = [Segment(name, predicate) for name, (predicate, _) in VALID.items()]
    out = run(backend, evaluate_segments(profile, segments))
    assert list(out.columns) == list(MEMBERSHIP_COLUMNS)
    got: dict[str, list[str]] = {}
    for customer, segment in out.itertuples(index=False):
        got.setdefault(segment, []).append(customer)
    assert got == {name: members for name, (_, members) in VALID.items()}
    # Sorted by customer, then segment.
    assert list(out.itertuples(index=False, name=None)) == sorted(out.itertuples(index=False, name=None))


def test_boolean_columns_per_segment(backend, load):
    profile = load(profile_table())
    segs = {"big": "total_revenue >= 500", "risky_nps": "nps <= 6"}
    out = run(backend, add_segment_columns(profile, segs).order_by("customer_id"))
    assert out["segment_big"].tolist() == [True, True, False, True, False, False, False, True]
    # A null NPS is "not a member", never null.
    assert out["segment_risky_nps"].tolist() == [False, False, False, True, False, False, True, True]
    assert out["customer_id"].tolist() == [r[0] for r in PROFILE_ROWS]


def test_no_segments_give_an_empty_membership_table(duckdb_backend):
    out = run(duckdb_backend, evaluate_segments(ibis.memtable(profile_table()), []))
    assert out.empty and list(out.columns) == list(MEMBERSHIP_COLUMNS)


def test_timestamp_and_date_columns_compare_with_iso_strings(duckdb_backend):
    t = ibis.memtable(
        pa.table(
            {
                "customer_id": ["a", "b", "c"],
                "last_order_at": pa.array(
                    [datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 3, 1, 12, tzinfo=UTC), None],
                    pa.timestamp("us", tz="UTC"),
                ),
                "birth_date": pa.array([date(1990, 5, 1), date(2001, 1, 1), date(1985, 1, 1)], pa.date32()),
            }
        )
    )
    segs = {
        "recent": "last_order_at >= '2024-03-01T12:00:00+00:00'",
        "early": "last_order_at < '2024-02-01'",
        "older": "birth_date < '1991-01-01'",
    }
    out = run(duckdb_backend, evaluate_segments(t, segs))
    assert list(out.itertuples(index=False, name=None)) == [
        ("a", "early"),
        ("a", "older"),
        ("b", "recent"),
        ("c", "older"),
    ]
    with pytest.raises(InputError, match=r"'yesterday'.*not an ISO date"):
        compile_segment("last_order_at > 'yesterday'", t.schema())


ALLOWED_LIST = "Allowed columns: customer_id, days_since_last_order, total_revenue, orders, country, plan, nps, "

# predicate -> a fragment of the message that names the offending token
REJECTED = {
    "1=1; DROP TABLE x": "token ';'",
    "total_revenue > 0; ": "token ';'",
    "total_revenue > 0 OR (SELECT 1)": "subquery '(SELECT 1)'",
    "country IN (SELECT country FROM customers)": "IN with '(SELECT country FROM customers)'",
    "EXISTS (SELECT 1)": "EXISTS",
    "read_csv('/etc/passwd')": "function 'read_csv'",
    "read_csv('/etc/passwd') IS NULL": "function 'read_csv'",
    "pg_sleep(10) > 0": "function 'pg_sleep'",
    "getenv('HOME') = 'x'": "function 'getenv'",
    "CAST(country AS INT) > 1": "function 'cast'",
    "country::INT > 1": "function 'cast'",
    '"; --': "tokenis",
    "total_revenue > 0 -- and more": "comment 'and more'",
    "/* hi */ total_revenue > 0": "comment 'hi'",
    "total_revenue > 0 /* x */ OR 1 = 1": "comment 'x'",
    "unknown_col > 1": "unknown column 'unknown_col'",
    '"Total_Revenue" > 1': "unknown column 'Total_Revenue'",  # quoted names are exact
    '"secret" = 1': "unknown column 'secret'",
    "`secret` = 1": "near '`'",
    "customers.total_revenue > 1": "qualified column 'customers.total_revenue'",
    "*": "'*'",
    "x := 1": "PROPERTYEQ",
    "total_revenue = total_revenue + 1": "ADD",
    "DROP TABLE customers": "drop 'DROP TABLE customers'",
    "DELETE FROM customers": "delete",
    "country = 1": "'country' (string) with '1' (number): types differ",
    "total_revenue > 'a lot'": "'total_revenue' (number) with \"'a lot'\" (string)",
    "is_subscriber = 1": "(boolean) with '1' (number)",
    "country LIKE 5": "LIKE needs a string",
    "total_revenue LIKE '1%'": "LIKE needs a string",
    "lower(total_revenue) = 'x'": "lower() needs a string",
    "total_revenue": "is a number, not a condition",
    "plan = NULL": "with NULL is never true",
    "country IN ('FR', NULL)": "'NULL' inside IN",
    "country IN ('FR', plan)": "'plan' inside IN",
    "country > ?": "placeholder '?'",
    "country > $1": "placeholder '$'",
    "plan LIKE 'a!%' ESCAPE '!'": "ESCAPE",
    "country IS TRUE": "only IS NULL and IS NOT NULL",
    "-orders > 1": "unary minus on 'orders'",
    "total_revenue > 1e999": "out of range",
    "": "empty",
    "   ": "empty",
    "total_revenue >": "does not parse",
    "nps > 1 AND": "does not parse",
    "orders AND nps > 1": "AND needs a boolean",
}


@pytest.mark.parametrize(("predicate", "token"), list(REJECTED.items()))
def test_injection_and_invalid_predicates_are_rejected(predicate, token):
    with pytest.raises(InputError) as info:
        compile_segment(predicate, SCHEMA)
    message = str(info.value)
    assert token in message, message
    assert ALLOWED_LIST in message
    assert "Allowed functions: abs, coalesce, length, lower, upper" in message


TOO_DEEP = (
    "it is nested deeper than 25 levels; simplify it (drop redundant parentheses or NOTs) or split it into "
    "several segments"
)


def _too_long(length: int) -> str:
    return (
        f"it is longer than 4,000 characters ({length:,}); shorten it, e.g. with IN (...) instead of a long chain "
        "of ORs, or split it into several segments"
    )


# name -> (predicate, the problem the message states); each must fail fast, never RecursionError or a hang
HOSTILE = {
    "5,000 NOTs": ("NOT " * 5_000 + "is_subscriber", _too_long(20_013)),
    "2,000 parentheses": ("(" * 2_000 + "orders > 1" + ")" * 2_000, _too_long(4_010)),
    "20,000 ORs": (" OR ".join(["orders = 1"] * 20_000), _too_long(279_996)),
    "26 NOTs": ("NOT " * 26 + "is_subscriber", TOO_DEEP),
    "30 parentheses": ("(" * 30 + "orders > 1" + ")" * 30, TOO_DEEP),
    "30 functions": ("abs(" * 30 + "orders" + ")" * 30 + " > 1", TOO_DEEP),
    "30 minus signs": ("orders > " + "- " * 30 + "1", TOO_DEEP),
    "400 chained comparisons": ("orders = " * 400 + "1", TOO_DEEP),  # no parenthesis, only the tree is deep
}


@pytest.mark.parametrize(("predicate", "problem"), list(HOSTILE.values()), ids=list(HOSTILE))
def test_predicates_nested_too_deep_or_too_long_are_rejected_naming_the_limit(predicate, problem):
    with pytest.raises(InputError) as info:
        compile_segment(predicate, SCHEMA)
    shown = predicate if len(predicate) <= 100 else predicate[:97] + "..."  # a long one is quoted shortened
    assert str(info.value) == (
        f"Segment predicate {shown!r} is not allowed: {problem}. {ALLOWED_LIST}is_subscriber. Allowed functions: "
        f"abs, coalesce, length, lower, upper. Allowed operators: {ALLOWED_OPERATORS}; literals: numbers, "
        "'strings', TRUE/FALSE, NULL."
    )


def test_the_limits_leave_room_for_real_predicates(duckdb_backend):
    profile = ibis.memtable(profile_table())
    deep = "NOT " * 24 + "is_subscriber"  # 24 NOTs and the column: 25 levels
    parens = "(" * 22 + "orders > 1" + ")" * 22  # 22 parentheses, the comparison and its column
    assert len(" OR ".join(f"orders = {i}" for i in range(250))) <= MAX_PREDICATE_CHARS == 4_000
    many = " OR ".join(f"orders = {i}" for i in range(250))  # one level however long, built balanced for Ibis
    segments = {"deep": deep, "parens": parens, "many": many}
    out = run(duckdb_backend, evaluate_segments(profile, segments))
    members = {name: sorted(out.loc[out["segment"] == name, "customer_id"]) for name in segments}
    assert members == {
        "deep": ["p1", "p3", "p5", "p7"],
        "parens": ["p1", "p2", "p4", "p5", "p7", "p8"],
        "many": [f"p{i}" for i in range(1, 9)],
    }
    assert MAX_PREDICATE_DEPTH == 25


def test_a_caller_deep_in_its_own_stack_gets_an_input_error_not_a_recursion_error():
    # sqlglot's parser recurses per parenthesis: with little stack left, its RecursionError becomes InputError.
    predicate = "(" * 20 + "orders > 1" + ")" * 20

    def dive(frames: int):
        return compile_segment(predicate, SCHEMA) if frames <= 0 else dive(frames - 1)

    used = len(inspect.stack(0))
    with pytest.raises(InputError) as info:
        dive(sys.getrecursionlimit() - used - 150)
    assert TOO_DEEP in str(info.value)
    assert compile_segment(predicate, SCHEMA).columns == ("orders",)  # with the stack to spare, it parses


def test_segment_errors_name_the_segment():
    with pytest.raises(InputError, match=r"Segment 'vip'.*unknown column 'revenue'"):
        evaluate_segments(ibis.memtable(profile_table()), {"vip": "revenue > 1000"})


@pytest.mark.parametrize("name", ["", "1abc", "has space", "semi;colon", "x" * 65, "drop--"])
def test_bad_segment_names_are_rejected(name):
    with pytest.raises(InputError, match="Invalid segment name"):
        Segment(name, "orders > 1")
    with pytest.raises(ValidationError, match="invalid segment name"):
        SegmentSettings({name: "orders > 1"})


def test_duplicate_names_and_column_clashes_are_rejected():
    profile = ibis.memtable(profile_table())
    with pytest.raises(InputError, match="more than once"):
        evaluate_segments(profile, [Segment("a", "orders > 1"), Segment("a", "orders > 2")])
    with pytest.raises(InputError, match="already exists"):
        add_segment_columns(profile, {"plan": "orders > 1"}, prefix="")


def test_segments_from_retain_toml():
    text = """
    [segments]
    high_value_lapsing = "days_since_last_order > 30 AND total_revenue >= 500"
    french = "lower(country) = 'fr'"
    """
    settings_ = SegmentSettings.model_validate(tomllib.loads(text)["segments"])
    segs = settings_.segments()
    assert [s.name for s in segs] == ["high_value_lapsing", "french"]
    assert segs == segments_from_mapping(tomllib.loads(text)["segments"])
    out = run(ibis.duckdb.connect(), evaluate_segments(ibis.memtable(profile_table()), segs))
    assert list(out.itertuples(index=False, name=None)) == [
        ("p1", "french"),
        ("p2", "high_value_lapsing"),
        ("p4", "french"),
        ("p4", "high_value_lapsing"),
        ("p8", "high_value_lapsing"),
    ]
    assert SegmentSettings().segments() == []
    with pytest.raises(ValidationError, match="empty predicate"):
        SegmentSettings({"x": "  "})


def test_compiled_predicate_reports_the_columns_it_reads():
    compiled = compile_segment("nps > 5 AND (lower(country) = 'fr' OR nps < 2)", SCHEMA)
    assert compiled.columns == ("nps", "country")
    with pytest.raises(InputError, match="lacks"):
        compiled(ibis.memtable({"customer_id": ["a"], "nps": [1]}))


# --- hypothesis: compiled predicates agree with an independent three-valued evaluator -------------------------

_NUMERIC = ["days_since_last_order", "total_revenue", "orders", "nps"]
_OPS = {"=": lambda a, b: a == b, "<>": lambda a, b: a != b, "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}  # fmt: skip
_COLUMN_INDEX = {name: i for i, name in enumerate(PROFILE_SCHEMA.names)}


def _atoms():
    comparison = st.builds(
        lambda c, op, v: (f"{c} {op} {v}", lambda r, c=c, op=op, v=v: _cmp(r[_COLUMN_INDEX[c]], op, v)),
        st.sampled_from(_NUMERIC),
        st.sampled_from(list(_OPS)),
        st.integers(min_value=-1, max_value=1300),
    )
    is_null = st.builds(
        lambda c: (f"{c} IS NULL", lambda r, c=c: r[_COLUMN_INDEX[c]] is None),
        st.sampled_from(["nps", "plan", "country"]),
    )
    plan_eq = st.builds(
        lambda v: (f"plan = '{v}'", lambda r, v=v: None if r[5] is None else r[5] == v),
        st.sampled_from(["pro", "basic", "enterprise", "free"]),
    )
    return st.one_of(comparison, is_null, plan_eq)


def _cmp(value, op, literal):
    return None if value is None else _OPS[op](value, literal)


def _and(a, b):
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _or(a, b):
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def _combine(children):
    def node(left, right, kind):
        (ls, lf), (rs, rf) = left, right
        if kind == "AND":
            return f"({ls} AND {rs})", lambda r: _and(lf(r), rf(r))
        return f"({ls} OR {rs})", lambda r: _or(lf(r), rf(r))

    def negate(child):
        s, f = child
        return f"NOT ({s})", lambda r: None if f(r) is None else not f(r)

    return st.one_of(
        st.builds(node, children, children, st.sampled_from(["AND", "OR"])),
        st.builds(negate, children),
    )


_PREDICATES = st.recursive(_atoms(), _combine, max_leaves=6)
_DUCKDB = ibis.duckdb.connect()
_PROFILE = ibis.memtable(profile_table())


@settings(max_examples=60, deadline=None)
@given(_PREDICATES)
def test_predicates_match_a_reference_evaluator_and_not_partitions_known_rows(case):
    predicate, reference = case
    out = run(_DUCKDB, evaluate_segments(_PROFILE, {"p": predicate, "not_p": f"NOT ({predicate})"}))
    members = {s: {c for c, seg in out.itertuples(index=False, name=None) if seg == s} for s in ("p", "not_p")}
    expected = {r[0] for r in PROFILE_ROWS if reference(r) is True}
    known = {r[0] for r in PROFILE_ROWS if reference(r) is not None}
    assert members["p"] == expected
    # A predicate and its negation split the rows where it is known (not null), with no overlap.
    assert members["p"] & members["not_p"] == set()
    assert members["p"] | members["not_p"] == known

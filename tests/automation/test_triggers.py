"""Trigger evaluation: each kind on a tiny hand-written timeline with the exact entries expected (on DuckDB, and the
same timelines on PySpark), plus the edges: parameters, missing profiles, tables without data, JSON and ISO text."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import ibis
import pyarrow as pa
import pytest
from trigger_timelines import AS_OF, CASES, FEW_CUSTOMERS, IDS, Case, build_workspace, run_case, to_table

from retain.automation.triggers import (
    TRIGGER_COLUMNS,
    TRIGGERS,
    TriggerInputs,
    TriggerKind,
    evaluate_trigger,
    get_trigger,
    iso_instant,
)
from retain.automation.triggers._expr import iso_text, json_object
from retain.errors import InputError
from retain.facts import Facts
from retain.workspace import Workspace

CASE_IDS = [case.id for case in CASES]


@pytest.fixture(scope="module")
def workspace_of(tmp_path_factory) -> Callable[[dict[str, str]], Workspace]:
    """The workspace holding a timeline's tables, built once per timeline (several cases share one)."""
    built: dict[tuple[tuple[str, str], ...], Workspace] = {}

    def get(tables: dict[str, str]) -> Workspace:
        key = tuple(sorted(tables.items()))
        if key not in built:
            built[key] = build_workspace(tmp_path_factory.mktemp("timeline"), tables)
        return built[key]

    return get


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_trigger_fires_exactly_for_the_expected_customers(case: Case, workspace_of, tmp_path):
    run_case(case, workspace_of(case.tables), tmp_path)


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_pyspark_fires_the_same_entries(case: Case, workspace_of, tmp_path, spark_backend):
    run_case(case, workspace_of(case.tables), tmp_path, spark_backend)


def test_every_kind_has_an_evaluator_and_a_timeline():
    assert set(TRIGGERS) == set(TriggerKind)
    assert {case.kind for case in CASES} == {kind.value for kind in TriggerKind}
    assert TRIGGERS["inactive"] is get_trigger("Inactive")  # plain strings look them up too


def test_parameters_follow_the_playbook_schema():
    spec = {kind: (dict(e.defaults), e.required) for kind, e in TRIGGERS.items()}
    assert spec == {
        "signup": ({"within_days": 1}, ()),
        "event": ({"within_days": 1}, ("event_type",)),
        "inactive": ({"activity": "any"}, ("days",)),
        "date": ({"days_before": 0}, ("field",)),
        "onboarding": ({"days": 7}, ("feature",)),
        "risk": ({"reason": None}, ("min_p_churn",)),
        "segment_entry": ({}, ("segment",)),
        "lifecycle": ({"from": None}, ("to",)),
        "ticket": ({"min_unresolved": 2, "within_days": 30, "category": None}, ()),
        "survey": ({"within_days": 1}, ("group",)),
        "churned": ({"reason": None, "within_days": 30}, ()),
    }


@pytest.fixture
def few(tmp_path) -> TriggerInputs:
    ws = build_workspace(tmp_path, FEW_CUSTOMERS)
    return TriggerInputs(facts=ws.facts(), as_of=AS_OF)


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        ("nap", {}, "Unknown trigger kind 'nap'. Valid kinds: signup, event, inactive, date"),
        ("inactive", {}, "missing required parameter(s) days"),
        ("inactive", {"days": 30, "dayz": 3}, "unknown parameter(s) 'dayz'. Valid parameters: days, activity"),
        ("inactive", {"days": 0}, "days must be a whole number of days >= 1, got 0"),
        ("inactive", {"days": True}, "days must be a whole number of days >= 1, got True"),
        ("inactive", {"days": 30, "activity": "walk"}, "unknown activity 'walk'. Valid values: login, order, any"),
        ("event", {"event_type": " "}, "event_type must be a non-empty text"),
        ("date", {"field": "wedding"}, "Valid values: birthday, signup_anniversary, renewal"),
        ("risk", {"min_p_churn": 1.5}, "min_p_churn must be a number from 0 to 1, got 1.5"),
        ("risk", {"min_p_churn": 0.2, "reason": "bored"}, "unknown reason 'bored'. Valid values: price,"),
        ("lifecycle", {"to": "none"}, "unknown to 'none'. Valid values: new, active, returning, at_risk"),
        ("lifecycle", {"to": "active", "from": "active"}, "from and to are both 'active'"),
        ("ticket", {"min_unresolved": 0}, "min_unresolved must be a whole number >= 1, got 0"),
        ("survey", {"group": "fan"}, "Valid values: detractor, passive, promoter"),
        ("churned", {"reason": "bored"}, "unknown reason 'bored'. Valid values: price, missing_feature"),
    ],
)
def test_bad_parameters_say_what_is_valid(few, kind, params, message):
    with pytest.raises(InputError) as caught:
        evaluate_trigger(kind, few, params)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("kind", "params"),
    [("risk", {"min_p_churn": 0.2}), ("segment_entry", {"segment": "vip"}), ("lifecycle", {"to": "churned"})],
)
def test_profile_triggers_without_a_profile_ask_for_a_refresh(few, kind, params):
    with pytest.raises(InputError, match=r"run `retain refresh` first"):
        evaluate_trigger(kind, few, params)


def test_segment_entry_without_segment_membership_says_how_to_define_one(few):
    inputs = TriggerInputs(facts=few.facts, as_of=AS_OF, profile=ibis.memtable(pa.Table.from_pylist(IDS)))
    with pytest.raises(InputError, match=r"Define the segment under \[segments\] in retain.toml"):
        evaluate_trigger("segment_entry", inputs, {"segment": "vip"})


def test_a_profile_without_the_column_read_is_reported(few):
    profile = ibis.memtable(pa.table({"customer_id": ["c1"], "score": [0.4]}))
    inputs = TriggerInputs(facts=few.facts, as_of=AS_OF, profile=profile)
    with pytest.raises(InputError, match=r"reads column\(s\) p_churn of the profile"):
        evaluate_trigger("risk", inputs, {"min_p_churn": 0.2})


_FACT_TRIGGERS = [
    ("event", {"event_type": "login"}),
    ("inactive", {"days": 30}),
    ("date", {"field": "renewal"}),
    ("date", {"field": "birthday"}),
    ("onboarding", {"feature": "report_created"}),
    ("ticket", {}),
    ("survey", {"group": "promoter"}),
    ("churned", {}),
]


@pytest.mark.parametrize(("kind", "params"), _FACT_TRIGGERS)
def test_a_trigger_whose_table_holds_no_data_fires_for_nobody(tmp_path, kind, params):
    # Only customers exist (created long ago): no events, orders, subscriptions, tickets or feedback.
    ws = build_workspace(tmp_path, {"customers": "customer_id,created_at\nc1,2023-01-01T00:00:00Z\n"})
    frame = evaluate_trigger(kind, TriggerInputs(facts=ws.facts(), as_of=AS_OF), params)
    assert list(frame.columns) == list(TRIGGER_COLUMNS) and len(frame) == 0


@pytest.mark.parametrize(("kind", "params"), [*_FACT_TRIGGERS, ("signup", {})])
def test_an_empty_workspace_fires_for_nobody(tmp_path, kind, params):
    ws = build_workspace(tmp_path, {})
    frame = evaluate_trigger(kind, TriggerInputs(facts=ws.facts(), as_of=AS_OF), params)
    assert len(frame) == 0


def test_evaluate_returns_an_ibis_table_of_the_trigger_shape(few):
    expr = TRIGGERS[TriggerKind.SIGNUP].evaluate(few, within_days=400)
    assert isinstance(expr, ibis.Table)
    assert dict(expr.schema().items()) == {
        "customer_id": ibis.dtype("string"),
        "trigger_key": ibis.dtype("string"),
        "fired_at": ibis.dtype("timestamp('UTC', 6)"),
        "detail": ibis.dtype("string"),
    }
    assert sorted(few.facts.backend.to_pyarrow(expr).column("customer_id").to_pylist()) == ["c1", "c2"]


def test_as_of_is_normalised_to_utc(few):
    naive = TriggerInputs(facts=few.facts, as_of=datetime(2024, 3, 31, 12))
    assert naive.as_of == AS_OF and naive.day_start == datetime(2024, 3, 31, tzinfo=UTC)
    with pytest.raises(InputError, match="activity_window_days must be a positive whole number"):
        TriggerInputs(facts=few.facts, as_of=AS_OF, activity_window_days=0)


def test_churned_shops_follow_the_configured_activity_window(tmp_path):
    # 2 × 30 days after the last order of 2024-02-01 10:00 is 2024-04-01 10:00: in the window only at that instant.
    ws = build_workspace(
        tmp_path, {"orders": "order_id,customer_id,ordered_at,amount,status\no1,c1,2024-02-01T10:00:00Z,5,completed\n"}
    )
    for as_of, expected in (("2024-04-01T09:59:59", []), ("2024-04-01T10:00:00", ["churned:2024-04-01"])):
        inputs = TriggerInputs(facts=ws.facts(), as_of=datetime.fromisoformat(as_of), activity_window_days=30)
        assert list(evaluate_trigger("churned", inputs).trigger_key) == expected


# --- text building blocks, on both engines -----------------------------------------------------------------------


def _probe_table(backend, tmp_path):
    moments = [
        datetime(2024, 3, 5, 10, 0, tzinfo=UTC),
        datetime(2024, 3, 5, 10, 0, 0, 123, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        None,
    ]
    data = pa.table(
        {
            "at": pa.array(moments, pa.timestamp("us", tz="UTC")),
            "text": ['a"b\\c\nd\te\x01f\r', None, "x", "ü €"],
            "n": pa.array([3, None, -1, 0], pa.int64()),
            "p": [0.35, None, 1.0, float("nan")],
            "ok": [True, False, None, True],
            "raw": ['{"a": [1, 2]}', None, "[]", "{}"],
        }
    )
    return moments, to_table(backend, data, tmp_path)


def test_iso_text_and_json_objects_are_exact(backend, tmp_path):
    from retain.automation.triggers._expr import RawJson

    moments, t = _probe_table(backend, tmp_path)
    expr = t.select(
        iso=iso_text(t.at),
        detail=json_object(at=t.at, text=t.text, n=t.n, p=t.p, ok=t.ok, raw=RawJson(t.raw), fixed="k", none=None),
    )
    rows = backend.to_pyarrow(expr).to_pylist()
    assert [r["iso"] for r in rows] == [None if m is None else iso_instant(m) for m in moments]
    assert [r["iso"] for r in rows[:3]] == [
        "2024-03-05T10:00:00Z",
        "2024-03-05T10:00:00.000123Z",
        "1999-12-31T23:59:59.999999Z",
    ]
    details = [json.loads(r["detail"]) for r in rows]
    assert details[0] == {
        "at": "2024-03-05T10:00:00Z",
        "text": 'a"b\\c\nd\tef\r',  # the one control character without a short escape is dropped
        "n": 3,
        "p": 0.35,
        "ok": True,
        "raw": {"a": [1, 2]},
        "fixed": "k",
        "none": None,
    }
    assert details[1] == {
        "at": "2024-03-05T10:00:00.000123Z",
        "text": None,
        "n": None,
        "p": None,
        "ok": False,
        "raw": None,
        "fixed": "k",
        "none": None,
    }
    assert details[2]["p"] == 1.0 and details[2]["ok"] is None and details[2]["raw"] == []
    assert details[3]["at"] is None and details[3]["text"] == "ü €" and details[3]["p"] is None  # NaN → null


def test_inputs_see_the_lake_view_they_were_given(tmp_path):
    # A later ingest does not change what a TriggerInputs built on an earlier view sees.
    ws = build_workspace(tmp_path, {"events": "customer_id,event_type,occurred_at\nc1,login,2024-03-31T10:00:00Z\n"})
    inputs = TriggerInputs(facts=ws.facts(), as_of=AS_OF)
    (tmp_path / "late.csv").write_text("customer_id,event_type,occurred_at\nc2,login,2024-03-31T11:00:00Z\n")
    ws.ingest("events", tmp_path / "late.csv")
    assert list(evaluate_trigger("event", inputs, {"event_type": "login"}).customer_id) == ["c1"]
    fresh = TriggerInputs(facts=Facts(ws.backend, ws.lake.view()), as_of=AS_OF)
    assert list(evaluate_trigger("event", fresh, {"event_type": "login"}).customer_id) == ["c1", "c2"]

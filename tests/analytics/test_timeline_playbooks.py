"""What playbooks did in the customer timeline: enrolments and steps from the system tables, on DuckDB and PySpark.

Ana of the hand-written world (builders_profile) entered two playbooks: ``wake_up`` (treatment: an email queued,
a task done, an email suppressed by the frequency cap, a webhook that failed) and ``nps_ask`` (holdout: the
survey step is held out — she was sent nothing). Her rows fall between her own facts, after them at the same
instant; a later enrolment (after AS_OF) and Ben's rows never show.
"""

from __future__ import annotations

import ibis
import pyarrow as pa
import pytest
from analytics_helpers import run
from builders_profile import AS_OF, plain, ts, world
from test_timeline import ANA_AT_AS_OF

from retain.analytics.timeline import TIMELINE_COLUMNS, TimelineKind, customer_timeline
from retain.contract.system_tables import SYSTEM_TABLES, SystemTableName
from retain.errors import InputError

WAKE = "trigger_key=inactive:2024-03-01, version=0123456789ab"
NPS = "trigger_key=survey:r9, version=abcdef012345"


def _enrolment(playbook, customer, key, arm, at, version):
    return {
        "playbook": playbook,
        "playbook_version": version,
        "customer_id": customer,
        "trigger_key": key,
        "arm": arm,
        "enrolled_at": at,
        "goal_metric": "retained",
        "goal_window_days": 30,
        "holdout_share": 0.1,
    }


def _message(playbook, customer, key, step, action, status, at, reason=None):
    return {
        "message_key": f"{playbook}-{customer}-{key}-{step}",
        "playbook": playbook,
        "customer_id": customer,
        "trigger_key": key,
        "step": step,
        "action": action,
        "status": status,
        "reason": reason,
        "decided_at": at,
    }


def _system(name: SystemTableName, rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=SYSTEM_TABLES[name].arrow_schema)


ENROLMENTS = _system(
    SystemTableName.PLAYBOOK_ENROLMENTS,
    [
        _enrolment("wake_up", "ana", "inactive:2024-03-01", "treatment", ts(2024, 3, 1, 6), "0123456789ab"),
        _enrolment("nps_ask", "ana", "survey:r9", "holdout", ts(2024, 3, 15), "abcdef012345"),
        _enrolment("win_back", "ana", "churned:2024-04-02", "treatment", ts(2024, 4, 2), "0123456789ab"),  # later
        _enrolment("wake_up", "ben", "inactive:2024-03-01", "treatment", ts(2024, 3, 1, 6), "0123456789ab"),
    ],
)
MESSAGES = _system(
    SystemTableName.PLAYBOOK_MESSAGES,
    [
        _message("wake_up", "ana", "inactive:2024-03-01", 0, "email", "enqueued", ts(2024, 3, 1, 6)),
        _message("wake_up", "ana", "inactive:2024-03-01", 1, "task", "done", ts(2024, 3, 4)),
        _message("nps_ask", "ana", "survey:r9", 0, "survey", "held_out", ts(2024, 3, 15)),
        _message("wake_up", "ana", "inactive:2024-03-01", 2, "email", "suppressed", ts(2024, 3, 20), "frequency_cap"),
        _message("wake_up", "ana", "inactive:2024-03-01", 3, "webhook", "failed", AS_OF, "receiver refused: 400"),
        _message("win_back", "ana", "churned:2024-04-02", 0, "email", "enqueued", ts(2024, 4, 2)),  # later
        _message("wake_up", "ben", "inactive:2024-03-01", 0, "email", "skipped", ts(2024, 3, 1, 6), "no longer"),
    ],
)

ENROLLED, MESSAGE = "playbook_enrolled", "message"
WAKE_UP_ROWS = [
    (ts(2024, 3, 1, 6), ENROLLED, "Enrolled in wake_up (treatment arm)", None, WAKE),
    (ts(2024, 3, 1, 6), MESSAGE, "wake_up step 0: email queued", None, None),
    (ts(2024, 3, 4), MESSAGE, "wake_up step 1: task done", None, None),
]
NPS_ROWS = [
    (ts(2024, 3, 15), ENROLLED, "Enrolled in nps_ask (holdout arm)", None, NPS),
    (ts(2024, 3, 15), MESSAGE, "nps_ask step 0: survey held out, not sent", None, None),
]
SUPPRESSED = (ts(2024, 3, 20), MESSAGE, "wake_up step 2: email suppressed", None, "reason=frequency_cap")
FAILED = (AS_OF, MESSAGE, "wake_up step 3: webhook failed", None, "reason=receiver refused: 400")
# Ana's facts at AS_OF (test_timeline) with her playbook rows in place: after her own facts of the same instant
# (the "nps 9" answer at 15 March 00:00 that fired nps_ask; the order O2 on 20 March).
ANA_WITH_PLAYBOOKS = (
    ANA_AT_AS_OF[:6]
    + WAKE_UP_ROWS
    + ANA_AT_AS_OF[6:10]
    + NPS_ROWS
    + ANA_AT_AS_OF[10:11]
    + [SUPPRESSED]
    + ANA_AT_AS_OF[11:]
    + [FAILED]
)


def _timeline(backend, tables, customer_id, **options):
    out = run(backend, customer_timeline(tables, customer_id, **options))
    assert list(out.columns) == list(TIMELINE_COLUMNS)
    return plain(out)


def test_enrolments_and_steps_fall_into_place_identically_on_both_engines(backend, load):
    tables = {name: load(t) for name, t in world(future=True).items()}
    got = _timeline(backend, tables, "ana", as_of=AS_OF, enrolments=load(ENROLMENTS), messages=load(MESSAGES))
    assert got == ANA_WITH_PLAYBOOKS


@pytest.fixture
def memtables():
    return (
        {name: ibis.memtable(t) for name, t in world(future=True).items()},
        ibis.memtable(ENROLMENTS),
        ibis.memtable(MESSAGES),
    )


def test_playbook_rows_until_a_later_instant_and_without_as_of(duckdb_backend, memtables):
    tables, enrolments, messages = memtables
    win_back = [
        (ts(2024, 4, 2), ENROLLED, "Enrolled in win_back (treatment arm)", None, "trigger_key=churned:2024-04-02, "
         "version=0123456789ab"),
        (ts(2024, 4, 2), MESSAGE, "win_back step 0: email queued", None, None),
    ]  # fmt: skip
    # The 360's case: the facts at AS_OF, what the playbooks did until later (win_back on 2 April).
    later = _timeline(
        duckdb_backend,
        tables,
        "ana",
        as_of=AS_OF,
        enrolments=enrolments,
        messages=messages,
        playbooks_until=ts(2024, 4, 2),
    )
    assert later == ANA_WITH_PLAYBOOKS + win_back
    # An earlier bound hides the playbook rows after it, and none of the facts.
    early = _timeline(
        duckdb_backend,
        tables,
        "ana",
        as_of=AS_OF,
        enrolments=enrolments,
        messages=messages,
        playbooks_until=ts(2024, 3, 10),
    )
    assert early == ANA_AT_AS_OF[:6] + WAKE_UP_ROWS + ANA_AT_AS_OF[6:]
    # Ben's step was skipped (the conditions no longer held): said so, with the reason.
    ben = _timeline(duckdb_backend, tables, "ben", enrolments=enrolments, messages=messages)
    assert [r for r in ben if r[1] in (ENROLLED, MESSAGE)] == [
        (ts(2024, 3, 1, 6), ENROLLED, "Enrolled in wake_up (treatment arm)", None, WAKE),
        (ts(2024, 3, 1, 6), MESSAGE, "wake_up step 0: email skipped", None, "reason=no longer"),
    ]
    # Without the system tables the timeline is the facts alone; a customer no playbook touched gets no rows.
    assert _timeline(duckdb_backend, tables, "ana", as_of=AS_OF) == ANA_AT_AS_OF
    cara = _timeline(duckdb_backend, tables, "cara", as_of=AS_OF, enrolments=enrolments, messages=messages)
    assert {r[1] for r in cara}.isdisjoint({ENROLLED, MESSAGE})
    assert [TimelineKind.PLAYBOOK_ENROLLED, TimelineKind.MESSAGE] == [ENROLLED, MESSAGE]


def test_a_system_table_without_its_columns_is_refused(memtables):
    tables, enrolments, _ = memtables
    with pytest.raises(InputError, match=r"The playbook_enrolments table lacks column\(s\) arm"):
        customer_timeline(tables, "ana", enrolments=enrolments.drop("arm"))

"""A refresh killed at any moment leaves the marts and the state database on the same snapshot (real SIGKILL).

Kill moments are found by watching the refresh, not by sleeping for fractions of a timed run: a child process is
killed as soon as it reaches a phase — computing marts (``marts/.tmp-*`` exists), writing the profiles (its
snapshot folder is published but the state database does not name it yet) — or after a searched delay inside the
profile write. After every kill both stores must agree: the state database's current snapshot is a complete
folder, and the ``customer_profiles`` rows are exactly that snapshot's ``profiles`` mart.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
from marts_builders import build_synthetic

from retain.services import current_snapshot, marts_store, refresh
from retain.state.profiles import list_profiles
from retain.workspace import Workspace

KILL_AS_OF = "2025-06-01"  # the killed refreshes describe another instant: their profiles differ from the first's
_POLL_SECONDS = 0.001


def _start(ws: Workspace) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "retain", "refresh", "-w", str(ws.path), "--as-of", KILL_AS_OF],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _phase(ws: Workspace, known: set[str]) -> str:
    marts = ws.path / "marts"
    if any(p.is_dir() for p in marts.glob(".tmp-*")):
        return "computing"
    if {s.id for s in marts_store(ws).snapshots()} - known:
        return "publishing"  # a new complete folder the state database may not name yet
    return "starting"


def _kill_when(ws: Workspace, phase: str, extra_delay: float = 0.0, timeout: float = 120.0) -> bool:
    """Start a refresh, kill it once it reaches ``phase`` (then ``extra_delay`` s); False if it finished first."""
    known = {s.id for s in marts_store(ws).snapshots()}
    proc = _start(ws)
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if _phase(ws, known) == phase:
            if extra_delay:
                time.sleep(extra_delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(_POLL_SECONDS)
    proc.wait()
    return False


def _stores_agree(ws: Workspace) -> str:
    """Assert the state database's current snapshot is whole and its profiles are the stored rows; its id."""
    snapshot = current_snapshot(ws)
    assert snapshot is not None
    for name in snapshot.marts:
        assert snapshot.read(name).num_rows == snapshot.manifest["marts"][name]["rows"], name
    mart = {
        row["customer_id"]: (row["days_since_last_order"], row["tenure_days"])
        for row in snapshot.read(
            "profiles", columns=["customer_id", "days_since_last_order", "tenure_days"]
        ).to_pylist()
    }
    with ws.connect() as connection:
        stored = {
            p.customer_id: (p.profile["days_since_last_order"], p.profile["tenure_days"])
            for p in list_profiles(connection, limit=1_000_000)
        }
    assert stored == mart, f"profiles in the state database are not snapshot {snapshot.id}'s"
    return snapshot.id


@pytest.mark.slow
def test_sigkill_at_any_moment_leaves_both_stores_on_one_snapshot(tmp_path):
    ws = build_synthetic(tmp_path, customers=3000)
    first = refresh(ws)  # the snapshot that must survive every kill
    assert _stores_agree(ws) == first.snapshot_id

    outcomes: dict[str, list[str]] = {"computing": [], "publishing": []}
    assert _kill_when(ws, "computing"), "the refresh finished before it computed a mart"
    outcomes["computing"].append(_stores_agree(ws))
    # Inside the profile write: killed the moment the snapshot is published, then later and later, until a kill
    # lands after the commit (then the new snapshot is current in both stores).
    for delay in (0.0, *(0.002 * 2**k for k in range(10))):
        if not _kill_when(ws, "publishing", extra_delay=delay):
            break  # finished before it was seen publishing: every later delay would too
        outcomes["publishing"].append(_stores_agree(ws))
        if outcomes["publishing"][-1] != first.snapshot_id:
            break
    assert outcomes["computing"] == [first.snapshot_id]
    assert first.snapshot_id in outcomes["publishing"], (
        f"no kill landed between publishing the snapshot and committing its profiles: {outcomes}"
    )

    # The next refresh (on the wall clock, like the killed ones) cleans up and publishes normally; the folders the
    # kills published but never made current are pruned like any old snapshot.
    ws = Workspace.open(ws.path)
    result = refresh(ws)
    assert _stores_agree(ws) == result.snapshot_id
    assert not list((ws.path / "marts").glob(".tmp-*"))
    assert len(marts_store(ws).snapshots()) <= ws.settings.keep_snapshots


def test_a_database_failure_mid_write_changes_neither_store(tmp_path, database_url):
    """A real failure inside the database (a trigger refusing the 200th profile) rolls the whole write back."""
    ws = build_synthetic(tmp_path, customers=300)
    ws = Workspace.open(ws.path, database_url=database_url)
    first = refresh(ws)
    victim = sorted(first_profile_ids(ws))[199]
    with ws.transaction() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(
                "CREATE FUNCTION refuse_profile() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.customer_id = '{victim}' THEN RAISE EXCEPTION 'disk quota exceeded (test)'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON customer_profiles "
                "FOR EACH ROW EXECUTE FUNCTION refuse_profile()"
            )
        else:
            for event in ("INSERT", "UPDATE"):
                connection.exec_driver_sql(
                    f"CREATE TRIGGER refuse_{event.lower()} BEFORE {event} ON customer_profiles "
                    f"WHEN NEW.customer_id = '{victim}' BEGIN SELECT RAISE(ABORT, 'disk quota exceeded (test)'); END"
                )
    from retain.errors import StateDatabaseError

    with pytest.raises(StateDatabaseError) as failure:
        refresh(ws, as_of=datetime(2025, 6, 1, tzinfo=UTC))
    message = str(failure.value)
    assert message.startswith("The state database failed while writing the profiles of snapshot 20250601T000000Z_")
    assert "disk quota exceeded (test)" in message
    assert f"Nothing changed: snapshot {first.snapshot_id} is still current." in message
    assert "INSERT" not in message and "customer_profiles (" not in message  # the cause, not the SQL
    assert len(message) < 400
    assert _stores_agree(ws) == first.snapshot_id


def first_profile_ids(ws: Workspace) -> list[str]:
    with ws.connect() as connection:
        return [p.customer_id for p in list_profiles(connection, limit=1_000_000)]


def test_stores_agree_helper_notices_a_mismatch(tmp_path):
    """The agreement check can fail: a profile changed behind the refresh's back is caught."""
    ws = build_synthetic(tmp_path, customers=100)
    refresh(ws)
    with ws.transaction() as connection:
        connection.exec_driver_sql("UPDATE customer_profiles SET tenure_days = tenure_days + 1 WHERE rowid = 1")
    with pytest.raises(AssertionError, match="profiles in the state database are not snapshot"):
        _stores_agree(ws)

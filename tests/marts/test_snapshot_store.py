"""The snapshot store: ids, publishing, pruning, leftovers of killed refreshes; which one is current is the
state database's (tests/marts/test_current_snapshot.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from retain.errors import InputError, WorkspaceError
from retain.marts import MartsStore, make_snapshot_id, parse_snapshot_id

AS_OF = datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)
CREATED = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)


def _write(store: MartsStore, as_of: datetime, created: datetime, value: int) -> str:
    writer = store.begin(store.new_id(as_of, created))
    writer.write("numbers", pa.table({"x": [value]}))
    writer.commit({"as_of": as_of.isoformat(), "marts": {"numbers": {"file": "numbers.parquet", "rows": 1}}})
    return writer.id


def test_id_is_as_of_then_creation_and_round_trips():
    snapshot_id = make_snapshot_id(AS_OF, CREATED)
    assert snapshot_id == "20251231T235959Z_20260102T030405123456Z"
    assert parse_snapshot_id(snapshot_id) == (AS_OF, CREATED)
    earlier_as_of = make_snapshot_id(AS_OF - timedelta(days=1), CREATED + timedelta(days=9))
    later_created = make_snapshot_id(AS_OF, CREATED + timedelta(microseconds=1))
    assert sorted([later_created, snapshot_id, earlier_as_of]) == [earlier_as_of, snapshot_id, later_created]
    with pytest.raises(InputError, match="not a marts snapshot id"):
        parse_snapshot_id("latest")
    with pytest.raises(InputError, match="no time zone"):
        make_snapshot_id(datetime(2025, 1, 1), CREATED)


def test_commit_publishes_the_snapshot_under_its_id(tmp_path):
    store = MartsStore(tmp_path / "marts")
    assert store.snapshots() == []
    first = _write(store, AS_OF, CREATED, 1)
    # Same clock reading (a fixed clock): the second id moves by one microsecond instead of clashing.
    second = _write(store, AS_OF, CREATED, 2)
    assert second == make_snapshot_id(AS_OF, CREATED + timedelta(microseconds=1))
    assert store.get(second).read("numbers").column("x").to_pylist() == [2]
    assert store.get(first).read("numbers").column("x").to_pylist() == [1]
    assert [s.id for s in store.snapshots()] == [first, second]
    # Snapshots are listed by creation time: an older as_of made later comes last although its id sorts first.
    third = _write(store, AS_OF - timedelta(days=30), CREATED + timedelta(hours=1), 3)
    assert third < first and [s.id for s in store.snapshots()] == [first, second, third]
    assert not list((tmp_path / "marts").glob(".tmp-*"))
    assert not (tmp_path / "marts" / "CURRENT").exists()  # the state database says which one is current


def test_missing_mart_names_the_available_ones(tmp_path):
    store = MartsStore(tmp_path / "marts")
    snapshot_id = _write(store, AS_OF, CREATED, 1)
    with pytest.raises(WorkspaceError, match=r"has no 'rfm' mart.*available: numbers"):
        store.get(snapshot_id).read("rfm")


def test_prune_keeps_the_newest_created_and_always_the_current(tmp_path):
    store = MartsStore(tmp_path / "marts")
    ids = [_write(store, AS_OF, CREATED + timedelta(minutes=i), i) for i in range(5)]
    assert store.prune(3, current=ids[4]) == ids[:2]
    assert [s.id for s in store.snapshots()] == ids[2:]
    assert store.prune(1, current=ids[2]) == [ids[3]]  # e.g. the newest never became current
    assert [s.id for s in store.snapshots()] == [ids[2], ids[4]]
    with pytest.raises(InputError, match="at least 1"):
        store.prune(0, current=None)


def test_unfinished_snapshot_is_invisible_and_removed_by_the_next_writer(tmp_path):
    store = MartsStore(tmp_path / "marts")
    done = _write(store, AS_OF, CREATED, 1)
    writer = store.begin(store.new_id(AS_OF, CREATED + timedelta(hours=1)))
    writer.write("numbers", pa.table({"x": [99]}))  # killed here: no manifest, no rename
    assert [s.id for s in store.snapshots()] == [done]
    removed = store.remove_temporary()
    assert [p.name for p in removed] == [f".tmp-{writer.id}"]
    assert not writer.temp_path.exists()


def test_a_missing_snapshot_is_a_clear_error(tmp_path):
    store = MartsStore(tmp_path / "marts")
    _write(store, AS_OF, CREATED, 1)
    with pytest.raises(
        WorkspaceError, match=r"'20990101T000000Z_20990101T000000000000Z' is missing or incomplete.*retain refresh"
    ):
        store.get("20990101T000000Z_20990101T000000000000Z")

"""Every mart a refresh writes has exactly the columns its spec declares, in order, and one row per grain."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest

from retain.marts import MARTS, MartName
from retain.services import current_snapshot, refresh
from retain.workspace import Workspace


@pytest.fixture(scope="module")
def full_snapshot(trained_workspace):
    """The trained synthetic workspace (every table, a churn model) refreshed with a user segment."""
    ws = Workspace.open(trained_workspace.path, segments={"engaged": "events_30d >= 5"})
    refresh(ws)
    return current_snapshot(ws)


def test_the_refresh_builds_every_declared_mart(full_snapshot):
    assert set(full_snapshot.marts) == {str(name) for name in MartName}
    assert set(MARTS) == set(MartName)


@pytest.mark.parametrize("name", list(MartName), ids=str)
def test_a_mart_has_its_declared_columns_and_grain(full_snapshot, name):
    spec = MARTS[name].spec
    table = full_snapshot.read(name)
    assert tuple(table.column_names) == spec.columns
    assert table.num_rows > 0
    keys = pc.binary_join_element_wise(*[pc.cast(table[c], "string").fill_null("∅") for c in spec.grain], "|")
    assert pc.count_distinct(keys).as_py() == table.num_rows, f"{name}: grain {spec.grain} is not unique"


def test_a_spec_cannot_declare_a_grain_outside_its_columns():
    from retain.marts.registry import MartSpec

    with pytest.raises(ValueError, match=r"grain column\(s\) \['day'\] are not among its columns"):
        MartSpec(MartName.RFM, "x", grain=("day",), columns=("customer_id",))

"""The facts one job reads: the workspace's lake fixed at one moment, opened on the workspace's engine.

``Workspace.facts()`` lists the committed batches once (a :class:`~retain.lake.LakeView`); every table, the
business model and the time span below come from that one list. A refresh, a training or a scoring holds one
``Facts`` from start to end, so an ingest committing meanwhile changes nothing it computes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cached_property

import ibis

from retain.analytics.periods import as_instant
from retain.analytics.time_range import time_range
from retain.contract.business_model import BusinessModel
from retain.contract.system_tables import SystemTableName
from retain.contract.tables import TableName
from retain.errors import NoDataError
from retain.lake.reader import read_table
from retain.lake.view import LakeView

__all__ = ["Facts"]


class Facts:
    """The canonical tables that hold data in one fixed view of the lake.

    Parameters
    ----------
    backend
        The analytics engine the tables are read with.
    view
        The committed batches to read (``Lake.view()``).
    """

    def __init__(self, backend: ibis.BaseBackend, view: LakeView):
        self.backend = backend
        self.view = view

    @cached_property
    def tables(self) -> dict[str, ibis.Table]:
        """Canonical table name → latest-version Ibis table, for the tables holding data (empty ones are absent)."""
        return {name: read_table(self.backend, self.view, name) for name in self.view.tables_with_data}

    @property
    def empty(self) -> bool:
        return not self.view.tables_with_data

    def has(self, *names: TableName | str) -> bool:
        """Whether any of the named tables holds data."""
        return any(str(name) in self.view.tables_with_data for name in names)

    def table(self, name: TableName | str) -> ibis.Table | None:
        return self.tables.get(str(name))

    def has_system_table(self, name: SystemTableName | str) -> bool:
        """Whether the system-written fact table holds a batch in this view (a playbook run wrote one)."""
        return bool(self.view.batch_files(SystemTableName(name)))

    def system_table(self, name: SystemTableName | str) -> ibis.Table:
        """A system-written fact table (what playbooks did) in this view; empty, with its columns, when none."""
        return read_table(self.backend, self.view, SystemTableName(name))

    @property
    def business_model(self) -> BusinessModel:
        """Subscription when the subscriptions table holds data, else commerce."""
        return BusinessModel.detect(self.view.tables_with_data)

    @cached_property
    def time_range(self) -> tuple[datetime | None, datetime | None]:
        """Earliest and latest recorded instant (UTC) over every timestamp of every table; ``None`` when empty."""
        if self.empty:
            return None, None
        row = self.backend.to_pyarrow(time_range(self.tables)).to_pylist()[0]
        first, last = row["first"], row["last"]
        return (None if first is None else as_instant(first), None if last is None else as_instant(last))

    def require(self, what: str = "compute") -> Facts:
        """``self``, or :class:`~retain.errors.NoDataError` ("nothing to <what>") when no table holds a fact."""
        if self.time_range[1] is None:
            raise NoDataError(what)
        return self

    @property
    def start(self) -> datetime:
        """The first recorded instant (raises :class:`~retain.errors.NoDataError` when empty)."""
        first = self.require().time_range[0]
        assert first is not None
        return first

    @property
    def end(self) -> datetime:
        """The latest recorded instant (raises :class:`~retain.errors.NoDataError`)."""
        last = self.require().time_range[1]
        assert last is not None
        return last

    @property
    def default_as_of(self) -> datetime:
        """The instant a refresh, a training or a scoring describes by default: just after the latest fact.

        Everything retain computes at ``as_of`` counts facts strictly before it in periods (``[start, end)``) and
        facts at or before it in the 360; one microsecond after the latest fact makes both include it, so the
        metrics and the 360 agree on the last order of the data.
        """
        return self.end + timedelta(microseconds=1)

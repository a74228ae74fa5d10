"""A refresh writes only the profiles that changed: after a small ingest, the customers it touched."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from marts_builders import build_tiny

from retain.services import customer_360, refresh

AS_OF = datetime(2024, 4, 15, 12, tzinfo=UTC)


def test_a_refresh_after_a_small_ingest_writes_only_the_customers_it_touched(tmp_path):
    ws = build_tiny(tmp_path / "ws")
    first = refresh(ws, as_of=AS_OF)
    assert (first.profiles.written, first.profiles.unchanged, first.profiles.deleted) == (3, 0, 0)
    # A late export: c3 logged in twice in April. Only c3's profile changes (usage is not relative to others,
    # unlike the RFM quintiles, which a new order can move for other customers too).
    late = pd.DataFrame(
        {
            "customer_id": ["c3", "c3"],
            "event_type": ["login", "login"],
            "occurred_at": ["2024-04-01T10:00:00Z", "2024-04-10T10:00:00Z"],
        }
    )
    assert ws.ingest("events", late).rows_accepted == 2
    second = refresh(ws, as_of=AS_OF)
    assert (second.profiles.written, second.profiles.unchanged, second.profiles.deleted) == (1, 2, 0)
    c3 = customer_360(ws, "c3")
    assert (c3.profile["logins_30d"], c3.profile["days_since_last_login"]) == (2, 5)
    assert c3.snapshot_id == second.snapshot_id
    # Nothing new: nothing written.
    third = refresh(ws, as_of=AS_OF)
    assert (third.profiles.written, third.profiles.unchanged) == (0, 3)

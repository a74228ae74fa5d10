"""Does P(alive) rank churn? BG/NBD, MBG/NBD and recency on the real UCI Online Retail II subset.

Both yearly files go through the ``online-retail-ii`` import preset into a workspace. At each as-of date both models
are fitted on the completed orders up to then (:func:`summary_from_orders`, weeks), every customer with at least one
such order is labelled churned if they place no completed order in the next 90 days, and the ROC-AUC of
``1 − P(alive)`` is compared with that of recency (days since the last order) alone.

Measured (scipy 1.17, 262 customers in the subset, so each AUC has a standard error of about 0.04):

==========  =========  =======  ======  =======  =======
as of       customers  churned  BG/NBD  MBG/NBD  recency
==========  =========  =======  ======  =======  =======
2010-12-01  155        90       0.416   0.704    0.736
2011-03-01  174        113      0.410   0.668    0.758
2011-06-01  203        122      0.436   0.768    0.771
2011-09-01  226        121      0.462   0.790    0.765
==========  =========  =======  ======  =======  =======

BG/NBD ranks worse than chance: its one-time buyers sit at P(alive) = 1, above everyone else, however long ago they
bought. MBG/NBD fixes that and beats BG/NBD by 0.26-0.33 at every date, which is what is asserted (with margin
0.15). It does NOT beat recency alone: it is below it at the first two dates (by 0.03 and 0.09), level at the third
and 0.025 above at the last, all within the noise. At the first two dates the MLE puts the dropout probability at
essentially 0 (a → 0, b → ∞), so 1 − P(alive) is ~1e-11 for everyone and only its ordering carries information.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from _ci import shared_path
from retain.models.clv import BetaGeoModel, ModifiedBetaGeoModel, summary_from_orders
from retain.workspace import Workspace

AS_OF_DATES = ("2010-12-01", "2011-03-01", "2011-06-01", "2011-09-01")
HORIZON = pd.Timedelta(days=90)
FILES = ("online_retail_II_subset_Year_2009-2010.csv", "online_retail_II_subset_Year_2010-2011.csv")
MARGIN = 0.15


@pytest.fixture(scope="module")
def orders(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    paths = [shared_path("online-retail-ii-subset", name) for name in FILES]
    ws = Workspace.init(Path(tmp_path_factory.mktemp("oretail")) / "ws")
    for path in paths:
        ws.ingest("orders", path, preset="online-retail-ii")
    return ws.backend.to_pandas(ws.table("orders"))


def churn_aucs(orders: pd.DataFrame, as_of: str) -> dict[str, float]:
    """ROC-AUC for 'no completed order in the next 90 days' of 1 − P(alive) (both models) and of recency."""
    cut = pd.Timestamp(as_of, tz="UTC")
    completed = orders[orders["status"] == "completed"]
    summary = summary_from_orders(orders, as_of=cut, time_unit="W")
    ahead = completed[(completed["ordered_at"] > cut) & (completed["ordered_at"] <= cut + HORIZON)]
    churned = ~summary.index.isin(ahead["customer_id"].unique())
    last_order = completed[completed["ordered_at"] <= cut].groupby("customer_id")["ordered_at"].max()
    days_since_last = (cut - last_order.reindex(summary.index)).dt.total_seconds() / 86400.0
    history = [summary[c].to_numpy() for c in ("x", "t_x", "T")]
    aucs = {"customers": len(summary), "churned": int(churned.sum())}
    for name, model in (("bgnbd", BetaGeoModel()), ("mbgnbd", ModifiedBetaGeoModel())):
        p_alive = model.fit(summary).probability_alive(*history)
        aucs[name] = roc_auc_score(churned, 1.0 - p_alive)
    aucs["recency"] = roc_auc_score(churned, days_since_last)
    return aucs


@pytest.mark.slow
def test_mbgnbd_ranks_churn_better_than_bgnbd_at_every_date(orders) -> None:
    table = pd.DataFrame({as_of: churn_aucs(orders, as_of) for as_of in AS_OF_DATES}).T
    shown = f"ROC-AUC of 1 − P(alive) and of recency for 90-day churn:\n{table.round(3)}"
    assert np.all(table["mbgnbd"] > table["bgnbd"] + MARGIN), shown
    # Sanity of the labels: recency alone ranks well, as on any shop data (measured 0.74-0.77).
    assert np.all(table["recency"] > 0.7), shown

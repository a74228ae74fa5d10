"""The README example: the bank churn snapshot ingested as customers through a mapping."""

from __future__ import annotations

import json

import pandas as pd

from retain.ingest import IngestOptions, ingest


def test_bank_churn_as_customers(lake, lake_rows, shared_file):
    path = shared_file("bank-churn-modelling", "Churn_Modelling.csv")
    options = IngestOptions(
        mapping={"customer_id": "customerId", "name": "surname"},
        constants={"created_at": "2019-01-01"},
        keep_extra=True,
    )
    result = ingest(lake, "customers", path, options)

    raw = pd.read_csv(path)
    assert (result.rows_read, result.rows_accepted, result.rows_rejected) == (len(raw), raw["customerId"].nunique(), 0)
    got = lake_rows("customers").to_pandas().set_index("customer_id")
    first = raw.iloc[0]
    attributes = json.loads(got.loc[str(first["customerId"]), "attributes"])
    assert attributes["creditScore"] == first["creditScore"]
    assert attributes["geography"] == first["geography"]
    assert attributes["exited"] == first["exited"]
    assert got.loc[str(first["customerId"]), "name"] == first["surname"]

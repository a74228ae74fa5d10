"""The at-risk list a team works from: filters by risk, segment and reason, explains what it shows, names contacts."""

from __future__ import annotations

import pytest
from scoring_builders import build_workspace

from retain.errors import InputError
from retain.services import at_risk, refresh, score, train
from retain.workspace import Workspace


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    ws = build_workspace(tmp_path_factory.mktemp("at-risk"), customers=600)
    train(ws)
    ws = Workspace.open(ws.path, segments={"big_payers": "mrr >= 100"})
    refresh(ws)
    return ws


def test_top_keeps_the_order_of_the_whole_ranking_and_explains_what_it_shows(ws):
    everyone = score(ws, top=0).ranked
    listed = at_risk(ws, top=7)
    assert listed.scored == len(everyone) and listed.matching == len(everyone)
    assert listed.rows["customer_id"].tolist() == everyone["customer_id"].head(7).tolist()
    assert listed.rows["rank"].tolist() == list(range(1, 8))
    assert listed.rows["reasons"].notna().all()  # the shown customers are explained
    assert at_risk(ws, top=None).rows.shape[0] == len(everyone)


def test_min_risk_and_the_contacts_a_crm_needs(ws):
    listed = at_risk(ws, top=None, min_risk=0.2)
    everyone = score(ws, top=0).ranked
    assert listed.matching == int((everyone["p_churn"] >= 0.2).sum()) > 0
    assert (listed.rows["p_churn"] >= 0.2).all()
    assert listed.rows["rank"].is_monotonic_increasing
    customers = ws.backend.to_pyarrow(ws.table("customers")).to_pandas().set_index("customer_id")
    expected = customers.loc[listed.rows["customer_id"], "email"]
    assert listed.rows["email"].fillna("").tolist() == expected.fillna("").tolist()
    assert listed.filters == {"min_risk": "20%"}


def test_reason_filter_keeps_only_that_first_reason(ws):
    all_explained = at_risk(ws, top=None, reason=None)
    codes = all_explained.rows["reason_code"].value_counts()
    code = codes.index[0]
    listed = at_risk(ws, top=None, reason=code)
    assert listed.matching == codes.iloc[0]
    assert set(listed.rows["reason_code"]) == {code}


def test_segment_filter_reads_user_rfm_and_lifecycle_segments_of_the_snapshot(ws):
    big = at_risk(ws, top=None, segment="big_payers")
    assert big.matching > 0 and (big.rows["mrr"] >= 100).all()
    everyone = score(ws, top=0).ranked
    assert big.matching == int((everyone["mrr"] >= 100).sum())
    active = at_risk(ws, top=None, segment="active")  # a lifecycle state
    assert 0 < active.matching <= len(everyone)
    with pytest.raises(InputError, match=r"No segment 'nope'\. User segments \(retain.toml\): big_payers; RFM segm"):
        at_risk(ws, segment="nope")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_risk": 1.5}, "min_risk is a probability between 0 and 1"),
        ({"top": 0}, "top must be at least 1"),
        ({"reason": "bored"}, "Unknown reason code 'bored'. Valid codes: price, missing_feature"),
    ],
)
def test_bad_filters_name_the_valid_values(ws, kwargs, message):
    with pytest.raises(InputError, match=message):
        at_risk(ws, **kwargs)

"""Early-warning ranking: expected loss = P(churn) x value if retained, on literal rows."""

from __future__ import annotations

import pandas as pd
import pytest

from retain.errors import InputError
from retain.health import rank_at_risk


def _scored() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            "p_churn": [0.9, 0.2, 0.5, 0.4, 0.8],
            "value_if_retained": [100.0, 1000.0, 400.0, 500.0, 250.0],
            "health": [20, 75, 45, 50, 30],
            "band": ["red", "green", "yellow", "yellow", "red"],
            "reasons": ["payment failed twice", "", "logins down 62 %", "no login for 23 days", "NPS 3 (detractor)"],
            "playbook": ["dunning", None, "re_engagement", "re_engagement", "service_recovery"],
            "segment": ["x", "y", "z", "w", "v"],
        }
    )


def test_ranked_by_expected_loss_with_ties_broken_by_higher_risk():
    # expected loss: a 90, b 200, c 200, d 200, e 200; among the 200s: e (0.8) > c (0.5) > d (0.4) > b (0.2)
    out = rank_at_risk(_scored())
    assert out["customer_id"].tolist() == ["e", "c", "d", "b", "a"]
    assert out["rank"].tolist() == [1, 2, 3, 4, 5]
    assert out["expected_loss"].tolist() == pytest.approx([200, 200, 200, 200, 90])
    assert list(out.columns) == [
        "rank",
        "customer_id",
        "expected_loss",
        "p_churn",
        "value_if_retained",
        "health",
        "band",
        "reasons",
        "playbook",
        "segment",
    ]
    assert out.loc[0, "reasons"] == "NPS 3 (detractor)" and out.loc[0, "playbook"] == "service_recovery"


def test_top_keeps_the_first_n():
    out = rank_at_risk(_scored(), top=2)
    assert out["customer_id"].tolist() == ["e", "c"]
    assert out.index.tolist() == [0, 1]


def test_full_tie_is_ordered_by_customer_id():
    scored = pd.DataFrame({"customer_id": ["z", "m", "a"], "p_churn": [0.5] * 3, "value_if_retained": [10.0] * 3})
    assert rank_at_risk(scored)["customer_id"].tolist() == ["a", "m", "z"]


def test_only_the_required_columns():
    scored = pd.DataFrame({"customer_id": [1, 2], "p_churn": [0.1, 0.3], "value_if_retained": [50.0, 10.0]})
    out = rank_at_risk(scored)
    assert out.to_dict("list") == {
        "rank": [1, 2],
        "customer_id": [1, 2],
        "expected_loss": pytest.approx([5.0, 3.0]),
        "p_churn": [0.1, 0.3],
        "value_if_retained": [50.0, 10.0],
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.drop(columns=["value_if_retained"]), r"lacks column\(s\) \['value_if_retained'\]"),
        (lambda s: s.assign(p_churn=[0.9, 1.2, 0.5, 0.4, 0.8]), "between 0 and 1"),
        (lambda s: s.assign(value_if_retained=[100.0, -1.0, 400.0, 500.0, 250.0]), "value_if_retained must be >= 0"),
        (lambda s: s.assign(p_churn=[0.9, None, 0.5, 0.4, 0.8]), "p_churn has 1 missing"),
        (lambda s: s.assign(customer_id=["a", "a", "c", "d", "e"]), "customer_id must be unique"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(change, message):
    with pytest.raises(InputError, match=message):
        rank_at_risk(change(_scored()))


@pytest.mark.parametrize("top", [0, -1, 2.5, True])
def test_top_must_be_a_positive_integer(top):
    with pytest.raises(InputError, match="top must be a positive integer"):
        rank_at_risk(_scored(), top=top)

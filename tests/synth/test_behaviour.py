"""The simulated behaviour has the shapes the brief asks for (growth, seasonality, birthdays, usage, refunds)."""

from __future__ import annotations

import json

from retain.synth.params import FEATURES


def test_recent_signups_are_more_frequent(dataset):
    (first, last) = dataset.sql(
        """SELECT count(*) FILTER (WHERE created_at < TIMESTAMPTZ '2024-07-01'),
                  count(*) FILTER (WHERE created_at >= TIMESTAMPTZ '2025-07-01') FROM customers"""
    )[0]
    assert last > 1.5 * first


def test_subscription_volumes(subscription_data):
    d = subscription_data
    (per_customer,) = d.sql("SELECT count(*) / 20000 FROM events")[0]
    assert 40 <= per_customer <= 60  # ~50 events per customer over the window
    (annual,) = d.sql(
        "SELECT avg((billing_period_months = 12)::INT) FROM (SELECT DISTINCT subscription_id, billing_period_months "
        "FROM subscriptions)"
    )[0]
    assert 0.2 < annual < 0.3
    features = {json.loads(p)["feature"] for (p,) in d.sql("SELECT DISTINCT properties FROM events "
                                                          "WHERE event_type = 'feature_used'")}  # fmt: skip
    assert features == set(FEATURES)
    types = {t for (t,) in d.sql("SELECT DISTINCT event_type FROM events")}
    assert types == {"login", "feature_used", "email_open", "email_click", "payment_failed"}


def test_falling_usage_raises_subscription_churn(subscription_data):
    # Customer-months with three full previous months and some activity last month: usage fell by half or more.
    (fell, steady, n) = subscription_data.sql(
        """WITH a AS (SELECT customer_id, date_trunc('month', occurred_at)::DATE AS month, count(*) AS n
                      FROM events WHERE event_type IN ('login', 'feature_used') GROUP BY ALL),
                x AS (SELECT g.churned::INT AS churned,
                             coalesce(a1.n, 0) AS n1, (coalesce(a2.n, 0) + coalesce(a3.n, 0)) / 2 AS before
                      FROM truth g JOIN customers c USING (customer_id)
                      LEFT JOIN a a1 ON a1.customer_id = g.customer_id AND a1.month = g.month - INTERVAL 1 MONTH
                      LEFT JOIN a a2 ON a2.customer_id = g.customer_id AND a2.month = g.month - INTERVAL 2 MONTH
                      LEFT JOIN a a3 ON a3.customer_id = g.customer_id AND a3.month = g.month - INTERVAL 3 MONTH
                      WHERE g.month >= date_trunc('month', c.created_at) + INTERVAL 4 MONTH)
           SELECT avg(churned) FILTER (WHERE n1 > 0 AND n1 <= before / 2),
                  avg(churned) FILTER (WHERE n1 > 0 AND n1 > before / 2), count(*) FILTER (WHERE n1 <= before / 2)
           FROM x"""
    )[0]
    assert n > 1000
    assert fell > 1.5 * steady, (fell, steady)


def test_commerce_orders_peak_in_november_december(commerce_data):
    rates = dict(
        commerce_data.sql(
            """WITH o AS (SELECT date_trunc('month', ordered_at)::DATE AS month, count(*) AS n FROM orders GROUP BY 1),
                    g AS (SELECT month, count(*) AS alive FROM truth GROUP BY 1)
               SELECT month::VARCHAR, n / alive FROM o JOIN g USING (month)"""
        )
    )
    assert rates["2025-12-01"] > 1.4 * rates["2025-06-01"]
    assert rates["2024-12-01"] > 1.4 * rates["2024-06-01"]
    assert rates["2025-11-01"] > 1.2 * rates["2025-06-01"]


def test_commerce_birthday_bump_and_refunds(commerce_data):
    d = commerce_data
    (bday, other) = d.sql(
        """WITH o AS (SELECT customer_id, date_trunc('month', ordered_at)::DATE AS month, count(*) AS n
                      FROM orders GROUP BY ALL),
                x AS (SELECT coalesce(o.n, 0) AS n, month(g.month) = month(c.birth_date) AS bday
                      FROM truth g JOIN customers c USING (customer_id) LEFT JOIN o USING (customer_id, month)
                      WHERE c.birth_date IS NOT NULL)
           SELECT avg(n) FILTER (WHERE bday), avg(n) FILTER (WHERE NOT bday) FROM x"""
    )[0]
    assert bday > 1.3 * other, (bday, other)
    shares = dict(d.sql("SELECT status, count(*) / (SELECT count(*) FROM orders) FROM orders GROUP BY 1"))
    assert 0.02 < shares["refunded"] < 0.04 and 0.01 < shares["canceled"] < 0.03
    assert {t for (t,) in d.sql("SELECT DISTINCT event_type FROM events")} == {
        "page_view", "email_open", "email_click", "review", "referral"
    }  # fmt: skip

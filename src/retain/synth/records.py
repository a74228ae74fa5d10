"""Row collectors: each month appends numpy arrays; a chunk turns them into one contract-ordered Arrow table."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from retain.contract.tables import TABLES, TableName
from retain.synth import arrow
from retain.synth.params import FEATURES, REASONS

__all__ = ["EVENT_TYPES", "PROPERTIES", "Records", "event_code"]

EVENT_TYPES = np.array(
    ["login", "feature_used", "email_open", "email_click", "payment_failed", "page_view", "review", "referral"]
)


def event_code(name: str) -> int:
    """Index of ``name`` in :data:`EVENT_TYPES`."""
    return int(np.flatnonzero(name == EVENT_TYPES)[0])


_PAGES = ["/", "/products", "/product", "/cart", "/checkout", "/account"]
_CAMPAIGNS = ["newsletter", "onboarding", "promotion", "winback"]
PROPERTIES = np.array(
    [f'{{"feature": "{f}"}}' for f in FEATURES]
    + [f'{{"page": "{p}"}}' for p in _PAGES]
    + [f'{{"campaign": "{c}"}}' for c in _CAMPAIGNS]
    + [f'{{"rating": {r}}}' for r in range(1, 6)]
)
"""JSON property strings; events store an index into this array (-1 = no properties)."""
PROP_FEATURE, PROP_PAGE, PROP_CAMPAIGN, PROP_RATING = 0, len(FEATURES), len(FEATURES) + len(_PAGES), 15
SURVEYS = np.array(["nps", "csat", "exit"])
_EXIT_COMMENTS = np.array(
    ["Too expensive for what we use", "Missing an integration we need", "Support did not solve our problem"]
)


def _cat(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)


class Records:
    """Collects the fact rows of one chunk.

    Every ``add_*`` takes parallel arrays; ``cust`` is the customer's index within the chunk and times are
    epoch seconds. Codes index the catalogues of :mod:`retain.synth.params` (-1 = missing).
    """

    def __init__(self) -> None:
        self._cols: dict[str, dict[str, list[np.ndarray]]] = {}

    def _add(self, table: str, **cols: np.ndarray) -> None:
        store = self._cols.setdefault(table, {})
        n = len(cols["cust"])
        for k, v in cols.items():
            store.setdefault(k, []).append(np.broadcast_to(np.asarray(v), (n,)))

    def _get(self, table: str, col: str, dtype) -> np.ndarray:
        return _cat(self._cols.get(table, {}).get(col, []), dtype)

    def add_events(self, cust: np.ndarray, etype: int | np.ndarray, at: np.ndarray, prop: int | np.ndarray) -> None:
        """Events of one type (or several, as arrays) with property codes."""
        n = len(cust)
        self._add(
            "events",
            cust=cust,
            type=np.broadcast_to(etype, n),
            at=at,
            prop=np.broadcast_to(prop, n),
        )

    def add_tickets(self, **cols: np.ndarray) -> None:
        """cust, opened, resolved (-1 = open), category, priority, complaint, satisfaction (0 = none)."""
        self._add("tickets", **cols)

    def add_feedback(self, cust, survey, score, reason, comment, at) -> None:
        """survey: index into nps/csat/exit; score -1 = none; reason/comment codes -1 = none."""
        n = len(cust)
        self._add(
            "feedback",
            cust=cust,
            survey=np.broadcast_to(survey, n),
            score=score,
            reason=np.broadcast_to(reason, n),
            comment=np.broadcast_to(comment, n),
            at=at,
        )

    def add_orders(self, cust, at, amount, status, items, discount, channel) -> None:
        """status: 0 completed, 1 refunded, 2 canceled; discount/channel: codes into the caller's catalogues."""
        self._add(
            "orders",
            cust=cust,
            at=at,
            amount=amount,
            status=status,
            items=items,
            discount=discount,
            channel=channel,
        )

    def add_subscriptions(self, cust, plan, mrr, started, ended, status, reason, churn_type, billing) -> None:
        """status: 0 active, 1 paused, 2 canceled; ended -1 = running; churn_type 0 none, 1 vol, 2 invol."""
        self._add(
            "subscriptions",
            cust=cust,
            plan=plan,
            mrr=mrr,
            started=started,
            ended=ended,
            status=status,
            reason=reason,
            churn_type=churn_type,
            billing=billing,
        )

    def has(self, table: str) -> bool:
        return table in self._cols

    # --- tables ---------------------------------------------------------------------------------------------

    def _order(self, table: str, time_col: str) -> np.ndarray:
        return np.lexsort((self._get(table, time_col, np.int64), self._get(table, "cust", np.int64)))

    def events_table(self, customer_numbers: np.ndarray, first_id: int) -> pa.Table:
        """Events sorted by customer and time, ids ``E`` + 10 digits from ``first_id``."""
        o = self._order("events", "at")
        cust = self._get("events", "cust", np.int64)[o]
        etype = self._get("events", "type", np.int64)[o]
        prop = self._get("events", "prop", np.int64)[o]
        at = self._get("events", "at", np.int64)[o]
        return pa.table(
            {
                "event_id": arrow.ids("E", np.arange(first_id, first_id + len(o)), 10),
                "customer_id": arrow.ids("C", customer_numbers[cust], 7),
                "event_type": arrow.labels(EVENT_TYPES, etype),
                "occurred_at": arrow.timestamps(at),
                "properties": arrow.labels(PROPERTIES, prop),
            },
            schema=TABLES[TableName.EVENTS].arrow_schema,
        )

    def tickets_table(self, customer_numbers: np.ndarray, first_id: int, categories: np.ndarray) -> pa.Table:
        """Tickets sorted by customer and opening time, ids ``T`` + 8 digits."""
        o = self._order("tickets", "opened")

        def g(c: str) -> np.ndarray:
            return self._get("tickets", c, np.int64)[o]

        resolved, sat = g("resolved"), g("satisfaction")
        return pa.table(
            {
                "ticket_id": arrow.ids("T", np.arange(first_id, first_id + len(o)), 8),
                "customer_id": arrow.ids("C", customer_numbers[g("cust")], 7),
                "opened_at": arrow.timestamps(g("opened")),
                "resolved_at": arrow.timestamps(resolved, null=resolved < 0),
                "category": arrow.labels(categories, g("category")),
                "priority": arrow.labels(["low", "normal", "high", "urgent"], g("priority")),
                "is_complaint": pa.array(g("complaint").astype(bool)),
                "satisfaction": pa.array(sat, pa.int64(), mask=sat <= 0),
            },
            schema=TABLES[TableName.TICKETS].arrow_schema,
        )

    def feedback_table(self, customer_numbers: np.ndarray, first_id: int) -> pa.Table:
        """Survey answers sorted by customer and time, ids ``R`` + 8 digits."""
        o = self._order("feedback", "at")

        def g(c: str) -> np.ndarray:
            return self._get("feedback", c, np.int64)[o]

        score = g("score")
        return pa.table(
            {
                "response_id": arrow.ids("R", np.arange(first_id, first_id + len(o)), 8),
                "customer_id": arrow.ids("C", customer_numbers[g("cust")], 7),
                "survey": arrow.labels(SURVEYS, g("survey")),
                "score": pa.array(score, pa.int64(), mask=score < 0),
                "reason": arrow.labels(REASONS, g("reason")),
                "comment": arrow.labels(_EXIT_COMMENTS, g("comment")),
                "responded_at": arrow.timestamps(g("at")),
            },
            schema=TABLES[TableName.FEEDBACK].arrow_schema,
        )

    def orders_table(
        self, customer_numbers: np.ndarray, first_id: int, discounts: np.ndarray, channels: np.ndarray
    ) -> pa.Table:
        """Orders sorted by customer and time, ids ``O`` + 8 digits."""
        o = self._order("orders", "at")

        def g(c: str, dtype=np.int64) -> np.ndarray:
            return self._get("orders", c, dtype)[o]

        return pa.table(
            {
                "order_id": arrow.ids("O", np.arange(first_id, first_id + len(o)), 8),
                "customer_id": arrow.ids("C", customer_numbers[g("cust")], 7),
                "ordered_at": arrow.timestamps(g("at")),
                "amount": arrow.money(g("amount", np.float64)),
                "status": arrow.labels(["completed", "refunded", "canceled"], g("status")),
                "items": pa.array(g("items"), pa.int64()),
                "discount_code": arrow.labels(discounts, g("discount")),
                "channel": arrow.labels(channels, g("channel")),
            },
            schema=TABLES[TableName.ORDERS].arrow_schema,
        )

    def subscriptions_table(self, customer_numbers: np.ndarray, plans: np.ndarray) -> pa.Table:
        """Subscription periods sorted by customer and start; one subscription per customer (``S`` + 7 digits)."""
        o = self._order("subscriptions", "started")

        def g(c: str, dtype=np.int64) -> np.ndarray:
            return self._get("subscriptions", c, dtype)[o]

        ended, ctype = g("ended"), g("churn_type")
        number = customer_numbers[g("cust")]
        return pa.table(
            {
                "subscription_id": arrow.ids("S", number, 7),
                "customer_id": arrow.ids("C", number, 7),
                "plan": arrow.labels(plans, g("plan")),
                "mrr": arrow.money(g("mrr", np.float64)),
                "started_at": arrow.timestamps(g("started")),
                "ended_at": arrow.timestamps(ended, null=ended < 0),
                "status": arrow.labels(["active", "paused", "canceled", "past_due"], g("status")),
                "cancel_reason": arrow.labels(REASONS, g("reason")),
                "churn_type": arrow.labels(["", "voluntary", "involuntary"], ctype, null=ctype == 0),
                "billing_period_months": pa.array(g("billing"), pa.int64()),
            },
            schema=TABLES[TableName.SUBSCRIPTIONS].arrow_schema,
        )

"""The benchmark's baseline: the same analytics as retain's Ibis metrics, written as plain pandas.

This is what a data scientist would write without retain: read the lake's Parquet files with pandas, keep the
latest version of each key (as the lake reader does), then compute each metric with vectorised pandas/NumPy
(boolean masks, ``groupby``, ``merge``, ``rank``) — no Python loop over customers or rows, and no engine. Each
function follows the definitions in the docstring of the Ibis metric it mirrors and returns the same columns,
so the benchmark's correctness tests can compare both on the same data:

* :func:`retention_series` — :func:`retain.analytics.retention_series` (subscriptions);
* :func:`cohort_matrix` — :func:`retain.analytics.cohorts.cohort_matrix` (logo, monthly);
* :func:`rfm_scores` — :func:`retain.analytics.rfm.rfm_scores`;
* :func:`customer_profile` — the order, usage, ticket and NPS columns of the Ibis customer profile.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from retain.analytics.retention import SERIES_COLUMNS
from retain.contract.tables import TABLES, TableName
from retain.contract.validate import ROW_COLUMN
from retain.errors import InputError
from retain.lake.layout import Lake

__all__ = [
    "COHORT_COLUMNS",
    "METRICS",
    "PROFILE_COLUMNS",
    "RFM_COLUMNS",
    "SERIES_COLUMNS",
    "cohort_matrix",
    "compute_all",
    "customer_profile",
    "read_lake",
    "read_lake_table",
    "retention_series",
    "rfm_scores",
]

# The baseline computes the numbers independently; only the output column names are shared.
COHORT_COLUMNS = ("cohort", "age", "customers", "cohort_size", "share")
RFM_COLUMNS = (
    "customer_id",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm",
    "segment",
)


def _utc(value: date | datetime) -> pd.Timestamp:
    if isinstance(value, datetime):
        return pd.Timestamp(value if value.tzinfo else value.replace(tzinfo=UTC)).tz_convert("UTC")
    return pd.Timestamp(datetime(value.year, value.month, value.day, tzinfo=UTC))


def _round(values: pd.Series, digits: int) -> pd.Series:
    """Round half away from zero, as DuckDB's ``round`` does (pandas rounds half to even: 0.78125 → 0.7812)."""
    scale = 10.0**digits
    scaled = values.astype("float64") * scale
    return np.sign(scaled) * np.floor(np.abs(scaled) + 0.5) / scale


# --- reading the lake -------------------------------------------------------------------------------------------


def read_lake_table(lake: Lake | Path, name: TableName | str, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The latest version of each key of a lake table, read with pandas.

    Batches are read oldest first and rows keep their source order, so ``drop_duplicates(keep="last")`` on the
    key keeps the newest version — the rule of :func:`retain.lake.read_table`.
    """
    lake = lake if isinstance(lake, Lake) else Lake(Path(lake))
    spec = TABLES[TableName(str(name))]
    wanted = list(dict.fromkeys([*spec.key, *(columns or spec.column_names)]))
    files = lake.batch_files(spec.name)
    if not files:
        return pd.DataFrame({c: pd.Series(dtype=spec.arrow_schema.field(c).type.to_pandas_dtype()) for c in wanted})
    frames = []
    for file in files:  # oldest batch first
        frame = pd.read_parquet(file, columns=[*wanted, ROW_COLUMN])
        if not frame[ROW_COLUMN].is_monotonic_increasing:
            frame = frame.sort_values(ROW_COLUMN, kind="stable")
        frames.append(frame)
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    df = df.drop_duplicates(subset=list(spec.key), keep="last")
    return df[[c for c in (columns or spec.column_names)]].reset_index(drop=True)


# --- retention series (subscriptions) ---------------------------------------------------------------------------


class _Subscriptions:
    """Subscription periods with customers numbered 0..n-1, so per-customer states are plain boolean arrays."""

    def __init__(self, subscriptions: pd.DataFrame):
        s = subscriptions
        self.codes, self.customers = pd.factorize(s["customer_id"])
        self.n = len(self.customers)
        self.started = s["started_at"]
        self.ended = s["ended_at"]
        self.paused = (s["status"] == "paused").to_numpy()
        self.frame = s

    def state_at(self, t: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
        """(active, paused) per customer at instant ``t``: a running non-paused period, or only paused ones."""
        running = ((self.started <= t) & (self.ended.isna() | (self.ended > t))).to_numpy()
        active = np.zeros(self.n, dtype=bool)
        active[self.codes[running & ~self.paused]] = True
        any_paused = np.zeros(self.n, dtype=bool)
        any_paused[self.codes[running & self.paused]] = True
        return active, any_paused & ~active


def _percent(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    whole = whole.astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(whole > 0, 100.0 * part / whole, np.nan)


def retention_series(subscriptions: pd.DataFrame, periods: Iterable[tuple[datetime, datetime]]) -> pd.DataFrame:
    """Customer retention and churn per period, as :func:`retain.analytics.retention_series` defines them.

    ``subscriptions`` needs ``customer_id, mrr, started_at, ended_at, status, cancel_reason, churn_type``.
    """
    subs = _Subscriptions(subscriptions)
    s = subs.frame
    ran = ~subs.paused & (s["ended_at"].isna() | (s["ended_at"] > s["started_at"])).to_numpy()
    first = s.loc[ran].groupby(subs.codes[ran])["started_at"].min()
    first_at = pd.Series(pd.NaT, index=range(subs.n), dtype=s["started_at"].dtype)
    first_at.iloc[first.index.to_numpy()] = first.to_numpy()
    churn_type, reason = s["churn_type"], s["cancel_reason"]
    involuntary = np.where(churn_type.isna(), reason.fillna("") == "payment_failed", churn_type == "involuntary")

    states: dict[pd.Timestamp, tuple[np.ndarray, np.ndarray]] = {}
    rows = []
    for start, end in sorted({(_utc(a), _utc(b)) for a, b in periods}):
        for t in (start, end):
            if t not in states:
                states[t] = subs.state_at(t)
        active_s, paused_s = states[start]
        active_e, paused_e = states[end]
        # How each customer's last period ending in (start, end] ended; involuntary wins a tie.
        ending = ((s["ended_at"] > start) & (s["ended_at"] <= end)).to_numpy()
        last = pd.DataFrame({"c": subs.codes[ending], "at": s["ended_at"][ending], "inv": involuntary[ending]})
        last = last.sort_values(["c", "at", "inv"]).drop_duplicates("c", keep="last")
        invol = np.zeros(subs.n, dtype=bool)
        invol[last["c"].to_numpy()] = last["inv"].to_numpy()

        seen_before = (first_at < start).to_numpy()
        arrived = ~active_s & active_e
        lost = active_s & ~active_e & ~paused_e
        rows.append(
            {
                "period_start": start,
                "period_end": end,
                "start_customers": active_s.sum(),
                "new_customers": arrived.sum(),
                "end_customers": active_e.sum(),
                "retained": (active_s & active_e).sum(),
                "lost": lost.sum(),
                "lost_voluntary": (lost & ~invol).sum(),
                "lost_involuntary": (lost & invol).sum(),
                "paused": (active_s & paused_e).sum(),
                "acquired": (arrived & ~paused_s & ~seen_before).sum(),
                "reactivated": (arrived & ~paused_s & seen_before).sum(),
                "resumed": (arrived & paused_s).sum(),
            }
        )
    out = pd.DataFrame(rows)
    counts = [c for c in SERIES_COLUMNS[2:] if not c.endswith("_rate")]
    out[counts] = out[counts].astype("int64")
    start_n = out["start_customers"].to_numpy()
    out["retention_rate"] = _percent(out["end_customers"] - out["new_customers"], start_n)
    out["churn_rate"] = _percent(out["lost"], start_n)
    out["voluntary_churn_rate"] = _percent(out["lost_voluntary"], start_n)
    out["involuntary_churn_rate"] = _percent(out["lost_involuntary"], start_n)
    out["pause_rate"] = _percent(out["paused"], start_n)
    return out[list(SERIES_COLUMNS)]


# --- logo cohort matrix (subscriptions, monthly) -----------------------------------------------------------------


def _month_index(ts: pd.Series) -> pd.Series:
    return ts.dt.year.astype("int64") * 12 + ts.dt.month.astype("int64") - 1


def _is_month_start(ts: pd.Series) -> pd.Series:
    return (ts.dt.day == 1) & (ts == ts.dt.normalize())


def cohort_matrix(subscriptions: pd.DataFrame, *, as_of: date | datetime) -> pd.DataFrame:
    """Monthly logo retention by cohort of first paid start, as :func:`retain.analytics.cohorts.cohort_matrix`.

    Returns a long triangle ``cohort, age, customers, cohort_size, share`` sorted by ``cohort, age``.
    """
    moment = _utc(as_of)
    last = moment.year * 12 + moment.month - 1
    s = subscriptions.loc[subscriptions["started_at"] <= moment]
    not_paused = s["status"] != "paused"
    paid = not_paused & (s["ended_at"].isna() | (s["ended_at"] > s["started_at"])) & (s["mrr"] > 0)
    first = s.loc[paid].groupby("customer_id", as_index=False)["started_at"].min()
    first["c"] = _month_index(first["started_at"])

    r = s.loc[not_paused, ["customer_id", "started_at", "ended_at"]].merge(
        first[["customer_id", "c"]], on="customer_id"
    )
    # Ages k >= 1 at whose first instant the period runs: started_at <= start of month c + k < ended_at.
    lo = _month_index(r["started_at"]) + (~_is_month_start(r["started_at"])).astype("int64")
    ended = r["ended_at"]
    end_index = _month_index(ended.fillna(moment)) - _is_month_start(ended.fillna(moment)).astype("int64")
    hi = np.where(ended.isna(), last, np.minimum(end_index, last))
    lo = np.maximum(lo.to_numpy(), r["c"].to_numpy() + 1)
    keep = lo <= hi
    r, lo, hi = r.loc[keep], lo[keep], hi[keep]
    lengths = hi - lo + 1
    # One row per (period, covered month): repeat each row by its number of months, then number the repeats.
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    month = np.repeat(lo, lengths) + (np.arange(lengths.sum()) - starts)
    covered = pd.DataFrame(
        {"customer_id": np.repeat(r["customer_id"].to_numpy(), lengths), "c": np.repeat(r["c"].to_numpy(), lengths)}
    )
    covered["age"] = month - covered["c"].to_numpy()
    covered = covered.drop_duplicates()
    values = covered.groupby(["c", "age"]).size().rename("customers")

    sizes = first.groupby("c").size().rename("cohort_size").reset_index()
    ages = last - sizes["c"].to_numpy() + 1
    grid = pd.DataFrame(
        {
            "c": np.repeat(sizes["c"].to_numpy(), ages),
            "cohort_size": np.repeat(sizes["cohort_size"].to_numpy(), ages),
        }
    )
    grid["age"] = np.arange(len(grid)) - np.repeat(np.cumsum(ages) - ages, ages)
    out = grid.merge(values.reset_index(), on=["c", "age"], how="left")
    out["customers"] = out["customers"].fillna(0).astype("int64")
    out.loc[out["age"] == 0, "customers"] = out["cohort_size"]  # age 0 is the signup itself: every member
    out["cohort_size"] = out["cohort_size"].astype("int64")
    out["share"] = _round(out["customers"] / out["cohort_size"], 4)
    out["cohort"] = pd.to_datetime({"year": out["c"] // 12, "month": out["c"] % 12 + 1, "day": 1}, utc=True).astype(
        "datetime64[us, UTC]"
    )
    out["age"] = out["age"].astype("int64")
    return out.sort_values(["c", "age"])[list(COHORT_COLUMNS)].reset_index(drop=True)


# --- RFM -------------------------------------------------------------------------------------------------------


_SEGMENT_ROWS = {  # R score: segments for FM = 1..5 (the score map of retain.analytics.rfm)
    5: ("New", "Potential loyalist", "Potential loyalist", "Champions", "Champions"),
    4: ("Promising", "Potential loyalist", "Potential loyalist", "Loyal", "Loyal"),
    3: ("About to sleep", "About to sleep", "Need attention", "Loyal", "Loyal"),
    2: ("Hibernating", "Hibernating", "At risk", "At risk", "Can't lose them"),
    1: ("Lost", "Hibernating", "At risk", "At risk", "Can't lose them"),
}


def _quintile(worse_first_rank: pd.Series, n: int) -> pd.Series:
    k = worse_first_rank.astype("int64") - 1  # customers strictly worse
    return (k * 5) // n + 1


def rfm_scores(orders: pd.DataFrame, *, as_of: date | datetime) -> pd.DataFrame:
    """Recency, frequency, monetary value, their 1–5 scores and segment, as :func:`retain.analytics.rfm_scores`."""
    moment = _utc(as_of)
    o = orders.loc[(orders["ordered_at"] <= moment) & orders["status"].isin(["completed", "refunded"])]
    completed = o["status"] == "completed"
    signed = o["amount"].where(completed, -o["amount"].abs())
    g = (
        pd.DataFrame(
            {
                "customer_id": o["customer_id"],
                "completed_at": o["ordered_at"].where(completed),
                "is_sale": completed.astype("int64"),
                "signed": signed,
            }
        )
        .groupby("customer_id", as_index=False)
        .agg(last_at=("completed_at", "max"), frequency=("is_sale", "sum"), monetary=("signed", "sum"))
    )
    g = g.loc[g["frequency"] > 0].copy()
    g["monetary"] = _round(g["monetary"], 2)
    g["recency_days"] = (moment - g["last_at"]) // pd.Timedelta(days=1)
    n = len(g)
    g["r_score"] = _quintile(g["recency_days"].rank(method="min", ascending=False), n)
    g["f_score"] = _quintile(g["frequency"].rank(method="min"), n)
    g["m_score"] = _quintile(g["monetary"].rank(method="min"), n)
    fm = (g["f_score"] + g["m_score"] + 1) // 2
    segments = {r * 10 + f: name for r, names in _SEGMENT_ROWS.items() for f, name in enumerate(names, start=1)}
    g["segment"] = (g["r_score"] * 10 + fm).map(segments)
    g["rfm"] = g["r_score"].astype(str) + g["f_score"].astype(str) + g["m_score"].astype(str)
    for col in ("recency_days", "frequency", "r_score", "f_score", "m_score"):
        g[col] = g[col].astype("int64")
    return g.sort_values("customer_id")[list(RFM_COLUMNS)].reset_index(drop=True)


# --- customer profile ------------------------------------------------------------------------------------------

PROFILE_COLUMNS = (
    "customer_id",
    "name",
    "email",
    "country",
    "acquisition_channel",
    "created_at",
    "tenure_days",
    "orders",
    "total_revenue",
    "aov",
    "first_order_at",
    "last_order_at",
    "days_since_last_order",
    "r_score",
    "f_score",
    "m_score",
    "rfm",
    "rfm_segment",
    "subscription_status",
    "plan",
    "mrr",
    "subscription_started_at",
    "events_7d",
    "events_30d",
    "events_90d",
    "logins_7d",
    "logins_30d",
    "logins_90d",
    "usage_trend",
    "days_since_last_event",
    "days_since_last_login",
    "tickets_open",
    "complaints_unresolved",
    "nps_score",
    "nps_at",
    "csat_score",
    "csat_at",
)
"""The columns of :func:`retain.analytics.profile.customer_profiles` this baseline computes (all but the
lifecycle state), with the same meaning."""

_IDENTITY = ("email", "name", "country", "acquisition_channel")
_USAGE_WINDOWS = (7, 30, 90)
_TREND_DAYS = 30


def _facts_at(tables: dict[str, pd.DataFrame], t: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """Rows known at ``t``; periods and tickets that end after ``t`` are still running / open."""
    out = {}
    for name, df in tables.items():
        df = df.loc[df[TABLES[TableName(name)].time_column] <= t]
        if name == TableName.SUBSCRIPTIONS:
            later = df["ended_at"] > t
            if later.any():
                df = df.copy()
                df.loc[later, ["ended_at", "cancel_reason", "churn_type"]] = None
        if name == TableName.TICKETS:
            later = df["resolved_at"] > t
            if later.any():
                df = df.copy()
                df.loc[later, ["resolved_at", "satisfaction"]] = None
        out[name] = df
    return out


def _elapsed_days(at: pd.Series, t: pd.Timestamp) -> pd.Series:
    """Whole days from ``at`` (truncated to the second) to ``t``; null stays null."""
    return ((t - at.dt.floor("s")) // pd.Timedelta(days=1)).astype("Int64")


def _order_facts(orders: pd.DataFrame) -> pd.DataFrame:
    o = orders.loc[orders["status"].isin(["completed", "refunded"])]
    sale = o["status"] == "completed"
    frame = pd.DataFrame(
        {
            "customer_id": o["customer_id"],
            "is_sale": sale.astype("int64"),
            "net": o["amount"].where(sale, -o["amount"].abs()),
            "sale_at": o["ordered_at"].where(sale),
        }
    )
    g = frame.groupby("customer_id").agg(
        orders=("is_sale", "sum"),
        total_revenue=("net", "sum"),
        first_order_at=("sale_at", "min"),
        last_order_at=("sale_at", "max"),
    )
    g["total_revenue"] = _round(g["total_revenue"], 2)
    return g


def _subscription_facts(subs: pd.DataFrame, t: pd.Timestamp) -> pd.DataFrame:
    s = subs.assign(
        _running=(subs["ended_at"].isna() | (subs["ended_at"] > t)).astype("int64"),
        _paused=(subs["status"] == "paused").astype("int64"),
    )
    # The period that describes the customer: running first, non-paused, highest MRR, latest start, then names.
    chosen = s.sort_values(
        ["customer_id", "_running", "_paused", "mrr", "started_at", "plan", "subscription_id"],
        ascending=[True, False, True, False, False, True, True],
    ).drop_duplicates("customer_id")
    starts = s.groupby(["customer_id", "subscription_id"], as_index=False)["started_at"].min()
    chosen = chosen.merge(starts.rename(columns={"started_at": "subscription_started_at"}), how="left")
    chosen["plan"] = chosen["plan"].where(chosen["_running"] == 1)

    runs = (s["started_at"] <= t) & (s["ended_at"].isna() | (s["ended_at"] > t))
    r = s.loc[runs]
    not_paused = r["_paused"] == 0
    state = (
        pd.DataFrame({"customer_id": r["customer_id"], "active": not_paused, "mrr": r["mrr"].where(not_paused, 0.0)})
        .groupby("customer_id")
        .agg(active=("active", "any"), mrr=("mrr", "sum"))
    )
    state["mrr"] = _round(state["mrr"], 6)
    out = chosen.set_index("customer_id")[["plan", "subscription_started_at"]].join(state, how="left")
    out["subscription_status"] = np.where(
        out["active"].isna(), "canceled", np.where(out["active"].fillna(False).astype(bool), "active", "paused")
    )
    out["mrr"] = out["mrr"].fillna(0.0)
    return out[["subscription_status", "plan", "mrr", "subscription_started_at"]]


def _usage(events: pd.DataFrame, t: pd.Timestamp) -> pd.DataFrame:
    at = events["occurred_at"]
    login = events["event_type"] == "login"
    cols: dict[str, pd.Series] = {"customer_id": events["customer_id"]}
    for n in _USAGE_WINDOWS:
        cols[f"events_{n}d"] = at > t - pd.Timedelta(days=n)
    for n in _USAGE_WINDOWS:
        cols[f"logins_{n}d"] = login & (at > t - pd.Timedelta(days=n))
    cols["_current"] = at > t - pd.Timedelta(days=_TREND_DAYS)
    cols["_previous"] = (at > t - pd.Timedelta(days=2 * _TREND_DAYS)) & (at <= t - pd.Timedelta(days=_TREND_DAYS))
    cols["last_event_at"] = at
    cols["last_login_at"] = at.where(login)
    frame = pd.DataFrame(cols)
    g = frame.groupby("customer_id")
    counts = [c for c in cols if c not in ("customer_id", "last_event_at", "last_login_at")]
    out = g[counts].sum().astype("int64").join(g[["last_event_at", "last_login_at"]].max())
    trend = _round(out["_current"] / out["_previous"].where(out["_previous"] > 0), 4)
    return out.assign(usage_trend=trend).drop(columns=["_current", "_previous"])


def _tickets(tickets: pd.DataFrame) -> pd.DataFrame:
    is_open = tickets["resolved_at"].isna()
    complaint = is_open & tickets["is_complaint"].fillna(False).astype(bool)
    frame = pd.DataFrame({"customer_id": tickets["customer_id"], "tickets_open": is_open, "complaints": complaint})
    g = frame.groupby("customer_id").sum().astype("int64")
    return g.rename(columns={"complaints": "complaints_unresolved"})


def _latest_score(feedback: pd.DataFrame, survey: str) -> pd.DataFrame:
    f = feedback.loc[(feedback["survey"] == survey) & feedback["score"].notna()]
    f = f.sort_values(["customer_id", "responded_at", "response_id"], ascending=[True, False, False])
    f = f.drop_duplicates("customer_id").set_index("customer_id")
    return pd.DataFrame({f"{survey}_score": f["score"].astype("Int64"), f"{survey}_at": f["responded_at"]})


def customer_profile(tables: dict[str, pd.DataFrame], *, as_of: date | datetime) -> pd.DataFrame:
    """One row per customer known at ``as_of`` with the columns :data:`PROFILE_COLUMNS`.

    ``tables`` maps canonical table names (``customers``, ``orders``, ``subscriptions``, ``events``,
    ``tickets``, ``feedback``, all required here) to DataFrames with their canonical columns.
    """
    t = _utc(as_of)
    facts = _facts_at(tables, t)
    customers = facts[TableName.CUSTOMERS].set_index("customer_id")
    # The customer dimension: every id any table mentions; created_at from the customers table, else first seen.
    seen = [
        facts[name].groupby("customer_id")[TABLES[name].time_column].min()
        for name in (TableName.ORDERS, TableName.SUBSCRIPTIONS, TableName.EVENTS, TableName.TICKETS, TableName.FEEDBACK)
    ]
    first_seen = pd.concat(seen).groupby(level=0).min()
    ids = customers.index.union(first_seen.index)
    p = pd.DataFrame(index=ids.rename("customer_id"))
    p = p.join(customers[[*_IDENTITY, "created_at"]]).join(first_seen.rename("_seen"))
    p["created_at"] = p["created_at"].fillna(p["_seen"])
    p["tenure_days"] = _elapsed_days(p["created_at"], t)

    p = p.join(_order_facts(facts[TableName.ORDERS]))
    rfm = rfm_scores(facts[TableName.ORDERS], as_of=t).set_index("customer_id")
    p = p.join(rfm[["r_score", "f_score", "m_score", "rfm", "segment"]].rename(columns={"segment": "rfm_segment"}))
    p = p.join(_subscription_facts(facts[TableName.SUBSCRIPTIONS], t))
    p = p.join(_usage(facts[TableName.EVENTS], t))
    p = p.join(_tickets(facts[TableName.TICKETS]))
    p = p.join(_latest_score(facts[TableName.FEEDBACK], "nps")).join(_latest_score(facts[TableName.FEEDBACK], "csat"))

    counts = [f"events_{n}d" for n in _USAGE_WINDOWS] + [f"logins_{n}d" for n in _USAGE_WINDOWS]
    p[[*counts, "orders", "tickets_open", "complaints_unresolved"]] = (
        p[[*counts, "orders", "tickets_open", "complaints_unresolved"]].fillna(0).astype("int64")
    )
    p["total_revenue"] = p["total_revenue"].fillna(0.0)
    p["aov"] = _round(p["total_revenue"] / p["orders"].where(p["orders"] > 0), 2)
    p["days_since_last_order"] = _elapsed_days(p["last_order_at"], t)
    p["days_since_last_event"] = _elapsed_days(p["last_event_at"], t)
    p["days_since_last_login"] = _elapsed_days(p["last_login_at"], t)
    p["subscription_status"] = p["subscription_status"].fillna("none")
    for col in ("r_score", "f_score", "m_score"):
        p[col] = p[col].astype("Int64")
    return p.reset_index()[list(PROFILE_COLUMNS)]


# --- everything, as the benchmark runs it ----------------------------------------------------------------------

_READ_COLUMNS = {
    TableName.CUSTOMERS: ("customer_id", "created_at", *_IDENTITY),
    TableName.ORDERS: ("order_id", "customer_id", "ordered_at", "amount", "status"),
    TableName.SUBSCRIPTIONS: (
        "subscription_id",
        "customer_id",
        "plan",
        "mrr",
        "started_at",
        "ended_at",
        "status",
        "cancel_reason",
        "churn_type",
    ),
    TableName.EVENTS: ("customer_id", "event_type", "occurred_at"),
    TableName.TICKETS: ("ticket_id", "customer_id", "opened_at", "resolved_at", "is_complaint", "satisfaction"),
    TableName.FEEDBACK: ("response_id", "customer_id", "survey", "score", "responded_at"),
}


def read_lake(lake: Lake | Path) -> dict[str, pd.DataFrame]:
    """The six canonical tables from the lake (latest version of each key), only the columns the metrics read."""
    return {str(name): read_lake_table(lake, name, columns) for name, columns in _READ_COLUMNS.items()}


METRICS = ("retention_series", "cohorts", "rfm", "profiles")
"""What :func:`compute_all` computes, by name (the keys of its result)."""


def compute_all(
    lake: Lake | Path,
    *,
    as_of: date | datetime,
    periods: Iterable[tuple[datetime, datetime]],
    metrics: Sequence[str] = METRICS,
) -> dict[str, pd.DataFrame]:
    """Read the lake and compute ``metrics``: the monthly retention series, logo cohorts, RFM, customer profiles."""
    unknown = sorted(set(metrics) - set(METRICS))
    if unknown:
        raise InputError(f"Unknown baseline metric(s) {', '.join(unknown)}. Valid metrics: {', '.join(METRICS)}.")
    tables = read_lake(lake)
    moment = _utc(as_of)
    jobs = {
        "retention_series": lambda: retention_series(tables[TableName.SUBSCRIPTIONS], periods),
        "cohorts": lambda: cohort_matrix(tables[TableName.SUBSCRIPTIONS], as_of=moment),
        "rfm": lambda: rfm_scores(tables[TableName.ORDERS], as_of=moment),
        "profiles": lambda: customer_profile(tables, as_of=moment),
    }
    return {name: jobs[name]() for name in METRICS if name in metrics}

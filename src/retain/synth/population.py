"""Who the customers are: sign-up times, demographics and latent traits, drawn once per customer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from retain.contract.tables import TABLES, TableName
from retain.synth import arrow
from retain.synth.calendar import Calendar
from retain.synth.params import (
    CHANNEL_WEIGHTS,
    CHANNELS,
    COUNTRIES,
    COUNTRY_WEIGHTS,
    FIRST_NAMES,
    LAST_NAMES,
)

__all__ = ["Population", "draw_population"]

_DAY = 86_400
_SEGMENTS = ['{"segment": "consumer"}', '{"segment": "smb"}', '{"segment": "mid_market"}', '{"segment": "enterprise"}']
_SIGNUP_SEASON = {
    1: 1.3,
    2: 1.05,
    3: 1.0,
    4: 0.95,
    5: 0.9,
    6: 0.85,
    7: 0.8,
    8: 0.85,
    9: 1.15,
    10: 1.05,
    11: 1.2,
    12: 0.9,
}


@dataclass
class Population:
    """Per-customer draws of one chunk (arrays of length ``n``)."""

    number: np.ndarray
    """Global customer number (1-based); the id is ``C`` + 7 digits."""
    signup_month: np.ndarray
    signup_at: np.ndarray
    """Epoch seconds."""
    billing_offset: np.ndarray
    """Seconds after the start of a month at which the customer's renewals happen (billing anniversary)."""
    engagement_mean: np.ndarray
    frailty: np.ndarray
    """Unobserved per-customer churn propensity, N(0, 1)."""
    birth_month: np.ndarray
    """Calendar month of the birthday (1-12), 0 when unknown."""

    @property
    def n(self) -> int:
        return len(self.number)


def _signup_weights(cal: Calendar) -> np.ndarray:
    # Growth: the latest month brings ~3x the sign-ups of the first; plus seasonality (January, autumn peaks).
    m = np.arange(cal.months)
    w = np.exp(1.1 * m / max(cal.months - 1, 1)) * np.array([_SIGNUP_SEASON[int(x)] for x in cal.month_of_year])
    return w / w.sum()


def draw_population(rng: np.random.Generator, cal: Calendar, first_number: int, n: int) -> tuple[Population, pa.Table]:
    """Draw ``n`` customers numbered from ``first_number`` and build their ``customers`` rows.

    Returns
    -------
    (Population, pa.Table)
        The latent and static draws, and the ``customers`` table in contract column order.
    """
    starts, ends = cal.starts, cal.ends
    number = np.arange(first_number, first_number + n, dtype=np.int64)
    month = rng.choice(cal.months, size=n, p=_signup_weights(cal))
    signup = starts[month] + (rng.random(n) * (ends[month] - starts[month])).astype(np.int64)
    day = (signup - starts[month]) // _DAY
    tod = (signup - starts[month]) % _DAY
    billing_offset = np.minimum(day, 27) * _DAY + tod

    pop = Population(
        number=number,
        signup_month=month,
        signup_at=signup,
        billing_offset=billing_offset,
        engagement_mean=rng.normal(0.0, 0.6, n),
        frailty=rng.normal(0.0, 1.0, n),
        birth_month=np.zeros(n, dtype=np.int64),
    )

    # Birthdays: age 18-80 around 38, 8 % unknown.
    age_days = (np.clip(rng.normal(38, 12, n), 18, 80) * 365.25).astype(np.int64)
    end_day = cal.window_end // _DAY - 1
    birth = (end_day - age_days).astype("datetime64[D]")
    birth_null = rng.random(n) < 0.08
    pop.birth_month = np.where(birth_null, 0, birth.astype("datetime64[M]").astype(np.int64) % 12 + 1)

    first = rng.integers(0, len(FIRST_NAMES), n)
    last = rng.integers(0, len(LAST_NAMES), n)
    first_s, last_s = arrow.labels(FIRST_NAMES, first), arrow.labels(LAST_NAMES, last)
    name = pc.binary_join_element_wise(first_s, last_s, " ")
    local = pc.utf8_lower(pc.binary_join_element_wise(first_s, last_s, arrow.ids("", number, 1), "."))
    email = pc.binary_join_element_wise(local, "example.com", "@")
    country = rng.choice(len(COUNTRIES), size=n, p=COUNTRY_WEIGHTS / COUNTRY_WEIGHTS.sum())
    channel = rng.choice(len(CHANNELS), size=n, p=CHANNEL_WEIGHTS / CHANNEL_WEIGHTS.sum())
    segment = rng.choice(len(_SEGMENTS), size=n, p=[0.4, 0.35, 0.2, 0.05])
    r = rng.random((3, n))

    spec = TABLES[TableName.CUSTOMERS]
    table = pa.table(
        {
            "customer_id": arrow.ids("C", number, 7),
            "created_at": arrow.timestamps(signup),
            "email": pc.if_else(pa.array(r[0] < 0.05), pa.nulls(n, pa.string()), email),
            "name": name,
            "country": arrow.labels(COUNTRIES, country, null=r[1] < 0.03),
            "birth_date": pa.array(birth, pa.date32(), mask=birth_null),
            "acquisition_channel": arrow.labels(CHANNELS, channel, null=r[2] < 0.02),
            "attributes": arrow.labels(_SEGMENTS, segment),
        },
        schema=spec.arrow_schema,
    )
    return pop, table

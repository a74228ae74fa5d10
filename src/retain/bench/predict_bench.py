"""``retain bench predict``: time and peak memory of the prediction jobs, and BG/NBD against ``lifetimes``.

For N synthetic subscription customers (the workspace of ``retain bench analytics``, cached per size):

- **features**: point-in-time churn features of every customer at one as-of date (what scoring needs);
- **dataset**: features + labels at ``dates`` monthly observation dates (what training needs);
- **train**: ``ChurnModel`` (the workspace training parameters, inner folds by customer) fitted on that dataset;
- **score**: P(churn), value if retained, health, ranking by expected loss and reasons for the top 20 of every
  active customer (:func:`retain.models.scoring.score_features`).

BG/NBD is timed on a summary of N customers simulated from the CDNOW parameters (Fader, Hardie & Lee 2005):
retain's maximum-likelihood fit, and in the same run the ``lifetimes`` package's ``BetaGeoFitter`` on the same
summary when it can be imported. lifetimes 0.11.3 (its last release) does not install against numpy 2 /
pandas 3, which retain requires, so in retain's own environment it is normally absent and reported as such.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from retain.bench.analytics_bench import prepare_workspace
from retain.bench.measure import Measurement, measure

__all__ = ["CDNOW_PARAMS", "PredictBenchResult", "lifetimes_status", "run_predict_bench", "simulate_bgnbd_summary"]

CDNOW_PARAMS = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
"""BG/NBD parameters published for CDNOW (weeks), used to simulate the benchmark's summary."""
AS_OF = datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)


def simulate_bgnbd_summary(customers: int, *, seed: int = 0, weeks: float = 39.0) -> pd.DataFrame:
    """``x, t_x, T`` of ``customers`` simulated from the BG/NBD process with :data:`CDNOW_PARAMS`.

    Each customer buys at rate λ ~ Gamma(r, α) and, after each repeat purchase, drops out with probability
    p ~ Beta(a, b); first purchases are spread uniformly over the first ``weeks`` weeks, and T runs to ``weeks``.
    """
    rng = np.random.default_rng(seed)
    r, alpha, a, b = CDNOW_PARAMS.values()
    lam = rng.gamma(r, 1.0 / alpha, size=customers)
    p = rng.beta(a, b, size=customers)
    T = weeks - rng.uniform(0.0, weeks, size=customers)
    x = np.zeros(customers, dtype="int64")
    t_x = np.zeros(customers)
    clock = np.zeros(customers)
    alive = np.ones(customers, dtype=bool)  # the model has no drop-out at the first purchase (x = 0: alive)
    while alive.any():
        clock[alive] += rng.exponential(1.0 / np.maximum(lam[alive], 1e-12))
        bought = alive & (clock <= T)
        x[bought] += 1
        t_x[bought] = clock[bought]
        alive = bought & (rng.uniform(size=customers) >= p)
    return pd.DataFrame({"x": x, "t_x": t_x, "T": T})


def lifetimes_status() -> str | None:
    """``None`` when ``lifetimes`` can be imported, else why it cannot."""
    try:
        import lifetimes  # noqa: F401
    except Exception as exc:  # any import failure (missing, or broken against numpy 2 / pandas 3)
        return (
            f"lifetimes is not importable here ({type(exc).__name__}: {exc}); its last release (0.11.3) does not "
            "install against numpy 2 / pandas 3, which retain requires — it runs only in a separate environment "
            "with numpy<2 and pandas<2.2"
        )
    return None


@dataclass
class PredictBenchResult:
    """Measurements of one size."""

    customers: int
    dates: int
    rows: dict[str, int] = field(default_factory=dict)
    jobs: dict[str, Measurement] = field(default_factory=dict)
    bgnbd_retain: Measurement | None = None
    bgnbd_lifetimes: Measurement | None = None
    bgnbd_params: dict[str, dict[str, float]] = field(default_factory=dict)
    lifetimes_note: str | None = None


def run_predict_bench(
    customers: int,
    *,
    work_dir: Path,
    dates: int = 6,
    seed: int = 0,
    on_step: Callable[[str], None] | None = None,
) -> PredictBenchResult:
    """Measure the prediction jobs on ``customers`` synthetic customers (see the module docstring)."""
    from retain.analytics.periods import as_instant
    from retain.models.churn import ChurnModel
    from retain.models.churn.dataset import AS_OF as AS_OF_COLUMN
    from retain.models.churn.dataset import build_dataset, monthly_dates, observable_dates
    from retain.models.churn.features import churn_features
    from retain.models.churn.labels import LABEL
    from retain.models.clv import BetaGeoModel
    from retain.models.scoring import population, score_features
    from retain.services.training import DEFAULT_MODEL_PARAMS

    say = on_step or (lambda _s: None)
    ws = prepare_workspace(customers, Path(work_dir), seed=seed, on_step=say)
    tables = ws.facts().tables
    result = PredictBenchResult(customers, dates)
    backend = ws.backend

    say("features at one as-of date")
    m, features = measure(lambda: backend.to_pyarrow(churn_features(tables, as_of=AS_OF)).to_pandas())
    result.jobs["features"], result.rows["features"] = m, len(features)

    end = as_instant(AS_OF)
    chosen = observable_dates(monthly_dates(datetime(2024, 4, 1, tzinfo=UTC), end), horizon_days=90, end=end)
    chosen = chosen[-dates:]
    say(f"training dataset at {len(chosen)} monthly dates")
    m, frame = measure(
        lambda: backend.to_pyarrow(
            build_dataset(tables, observation_dates=chosen, horizon_days=90, end=end)
        ).to_pandas()
    )
    result.jobs["dataset"], result.rows["dataset"] = m, len(frame)

    say(f"train on {len(frame):,} rows")
    X = frame.drop(columns=["customer_id", AS_OF_COLUMN, LABEL])
    y = frame[LABEL].to_numpy()
    groups = frame["customer_id"].to_numpy()
    m, model = measure(lambda: ChurnModel(horizon_days=90, **DEFAULT_MODEL_PARAMS).fit(X, y, groups=groups))
    result.jobs["train"] = m
    del frame

    active = features[population(features, "subscription").to_numpy()].reset_index(drop=True)
    say(f"score {len(active):,} active customers")
    m, _ = measure(
        lambda: score_features(model, active, business_model="subscription", health_settings=ws.settings.health, top=20)
    )
    result.jobs["score"], result.rows["score"] = m, len(active)

    summary = simulate_bgnbd_summary(customers, seed=seed)
    say(f"BG/NBD fit on {customers:,} simulated customers")
    m, bg = measure(lambda: BetaGeoModel().fit(summary))
    result.bgnbd_retain = m
    result.bgnbd_params["retain"] = {k: float(getattr(bg, f"{k}_")) for k in CDNOW_PARAMS}
    result.lifetimes_note = lifetimes_status()
    if result.lifetimes_note is None:
        from lifetimes import BetaGeoFitter

        data = summary.rename(columns={"x": "frequency", "t_x": "recency"})
        m, fitter = measure(lambda: BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"]))
        result.bgnbd_lifetimes = m
        result.bgnbd_params["lifetimes"] = {k: float(fitter.params_[k]) for k in CDNOW_PARAMS}
    return result

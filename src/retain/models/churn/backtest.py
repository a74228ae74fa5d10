"""End-to-end temporal backtest on synthetic data, judged against the generator's true churn probabilities.

The synthetic generator (``retain.synth``) records, for every customer and calendar month they were alive, the
true probability ``p_month`` that they churn during that month (``ground_truth/churn_probability``). For an
observation at ``as_of`` the true probability of churning within ``(as_of, as_of + horizon]`` is therefore

    p_true = 1 − Π_months (1 − p_month × f_month)

over the months overlapping the window, where ``f_month`` is the share of the month inside the window
(churn instants are uniform within a month, so a month only partly inside the window contributes that share of
its hazard; months start at midnight UTC on the 1st and the last one ends with the data window). Months after
a customer's churn have no row (they are not alive) and contribute nothing. ``p_true`` is the best score any
model can reach (it also knows the unobservable frailty and shocks), so its ROC-AUC on the test rows is the
ceiling the model's ROC-AUC is compared with. (It is a slightly generous ceiling: the hazards of later months
in the window already reflect what happens after ``as_of``.)

The model trains on observation dates whose label windows end before the first test date (no label of the
training rows overlaps the test period) and is scored on the last ``test_months`` monthly dates.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd

from retain.analytics.periods import as_instant
from retain.contract import TableName
from retain.engine import connect
from retain.errors import InputError
from retain.models.churn.classifier import ChurnModel
from retain.models.churn.dataset import AS_OF, build_dataset, monthly_dates, observable_dates
from retain.models.churn.evaluate import calibration_table, summary_metrics, temporal_backtest
from retain.models.churn.labels import LABEL, BusinessModel, business_model

__all__ = [
    "BACKTEST_MODEL_PARAMS",
    "SyntheticBacktest",
    "calibration_within",
    "oracle_probability",
    "synthetic_backtest",
]

BACKTEST_MODEL_PARAMS: dict[str, Any] = {
    "n_estimators": 200,
    "learning_rate": 0.03,
    "num_leaves": 7,
    "min_child_samples": 200,
    "reg_lambda": 5.0,
}
"""ChurnModel parameters of the backtest: small, strongly regularised trees.

The synthetic hazard is additive in a dozen drivers plus unobserved noise, so shallow trees (7 leaves) with
large leaves (200 rows) and an L2 penalty generalise best; the defaults (31 leaves, 20 rows, 400 trees) fit
noise and lose about 0.01 ROC-AUC out of time.
"""


@dataclass(frozen=True)
class SyntheticBacktest:
    """Outcome of :func:`synthetic_backtest`.

    Attributes
    ----------
    model : str
        Business model of the data (``subscription`` or ``commerce``).
    customers, seed, horizon_days : int
    train_dates, test_dates : list of datetime
        Observation dates used to train and to test.
    n_train, n_test : int
        Rows (customer × date) on each side.
    metrics : dict of str to float
        :func:`~retain.models.churn.evaluate.summary_metrics` of the model on the test rows.
    oracle_metrics : dict of str to float
        The same metrics of the true probabilities on the same rows.
    calibration : pandas.DataFrame
        :func:`~retain.models.churn.evaluate.calibration_table` (deciles) of the model on the test rows.
    predictions : pandas.DataFrame
        Test rows: ``customer_id``, ``as_of``, ``churned``, ``p_model``, ``p_true``.
    seconds : dict of str to float
        Wall-clock time per stage (informational).
    """

    model: str
    customers: int
    seed: int
    horizon_days: int
    train_dates: list[datetime]
    test_dates: list[datetime]
    n_train: int
    n_test: int
    metrics: dict[str, float]
    oracle_metrics: dict[str, float]
    calibration: pd.DataFrame
    predictions: pd.DataFrame
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def model_auc(self) -> float:
        """ROC-AUC of the model on the test rows."""
        return self.metrics["roc_auc"]

    @property
    def oracle_auc(self) -> float:
        """ROC-AUC of the true churn probabilities on the same rows."""
        return self.oracle_metrics["roc_auc"]

    @property
    def auc_ratio(self) -> float:
        """``model_auc / oracle_auc`` (the acceptance asks for at least 0.95)."""
        return self.model_auc / self.oracle_auc


def calibration_within(table: pd.DataFrame, *, absolute: float = 0.02, relative: float = 0.2) -> bool:
    """Whether every bin of a calibration table is within tolerance.

    A bin passes when ``|observed_rate − predicted_mean| <= max(absolute, relative × predicted_mean)``: a fixed
    allowance for the low-risk bins and a proportional one for the high-risk bins.
    """
    allowed = np.maximum(absolute, relative * table["predicted_mean"].to_numpy())
    return bool((np.abs(table["gap"].to_numpy()) <= allowed).all())


def oracle_probability(
    ground_truth: pd.DataFrame,
    rows: pd.DataFrame,
    *,
    horizon_days: int,
    window_end: date | datetime,
) -> np.ndarray:
    """True probability of churning within ``(as_of, as_of + horizon_days]`` for each row.

    Parameters
    ----------
    ground_truth : pandas.DataFrame
        The generator's ``churn_probability`` table: ``customer_id``, ``month`` (first day), ``p_churn``.
    rows : pandas.DataFrame
        ``customer_id`` and ``as_of`` (UTC timestamps) of the rows to score.
    horizon_days : int
        Label window length.
    window_end : date or datetime
        Exclusive end of the simulated window (the last month ends there).

    Returns
    -------
    ndarray
        ``1 − Π (1 − p_month × f_month)`` per row, in ``rows`` order (see the module docstring).
    """
    end = pd.Timestamp(as_instant(window_end))
    gt = ground_truth[["customer_id", "month", "p_churn"]].copy()
    gt["month_start"] = pd.to_datetime(gt["month"]).dt.tz_localize("UTC")
    gt["month_end"] = (gt["month_start"] + pd.offsets.MonthBegin(1)).clip(upper=end)
    keyed = pd.DataFrame(
        {"row": np.arange(len(rows)), "customer_id": rows["customer_id"].to_numpy(), AS_OF: rows[AS_OF].to_numpy()}
    )
    m = keyed.merge(gt, on="customer_id", how="inner")
    lo = np.maximum(m["month_start"], m[AS_OF])
    hi = np.minimum(m["month_end"], m[AS_OF] + pd.Timedelta(days=horizon_days))
    share = ((hi - lo) / (m["month_end"] - m["month_start"])).clip(lower=0.0).to_numpy(dtype="float64")
    m["log_survival"] = np.log1p(-m["p_churn"].to_numpy() * share)
    log_survival = m.groupby("row")["log_survival"].sum().reindex(keyed["row"], fill_value=0.0)
    return 1.0 - np.exp(log_survival.to_numpy())


def _synth_data(data_dir: Path | None, customers: int, model: BusinessModel, seed: int, scratch: Path) -> Path:
    if data_dir is not None:
        return Path(data_dir)
    from retain.synth import generate  # the generator is only needed when we make the data

    out = scratch / "synth"
    generate(out, customers=customers, model=str(model), seed=seed)
    return out


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    if not path.exists():
        raise InputError(
            f"{folder} is not a synthetic dataset (no manifest.json); pass the folder `retain synth` wrote, "
            "or leave data_dir empty to generate one."
        )
    manifest = json.loads(path.read_text())
    if manifest.get("format") != "parquet":
        raise InputError(f"the synthetic data in {folder} is {manifest.get('format')!r}; regenerate it as parquet.")
    return manifest


def synthetic_backtest(
    *,
    customers: int = 10_000,
    seed: int = 0,
    model: BusinessModel | str = BusinessModel.SUBSCRIPTION,
    data_dir: Path | None = None,
    horizon_days: int = 90,
    history_months: int = 3,
    test_months: int = 4,
    model_params: Mapping[str, Any] | None = None,
    backend: ibis.BaseBackend | None = None,
) -> SyntheticBacktest:
    """Generate synthetic data (or read it), train on earlier dates, test on later ones, compare with the truth.

    Parameters
    ----------
    customers, seed, model
        Passed to ``retain.synth.generate`` when ``data_dir`` is not given.
    data_dir : Path, optional
        A folder written by ``retain.synth.generate`` (Parquet); its manifest overrides ``customers``,
        ``seed`` and ``model``.
    horizon_days : int, default 90
        Label window.
    history_months : int, default 3
        The first observation date is this many months after the start of the data (features need history).
    test_months : int, default 4
        The last ``test_months`` monthly observation dates with a fully observed window are the test set.
    model_params : mapping, optional
        ChurnModel parameters; default :data:`BACKTEST_MODEL_PARAMS`.
    backend : ibis.BaseBackend, optional
        Engine that builds the features; default an in-memory DuckDB.

    Returns
    -------
    SyntheticBacktest

    Raises
    ------
    InputError
        If the window is too short to leave training dates before the test dates.
    """
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="retain-backtest-") as scratch:
        clock = time.perf_counter()
        folder = _synth_data(data_dir, customers, business_model(model), seed, Path(scratch))
        manifest = _read_manifest(folder)
        seconds["generate"] = time.perf_counter() - clock
        kind = business_model(manifest["model"])
        start = date.fromisoformat(manifest["start"])
        window_end = date.fromisoformat(manifest["end"]) + timedelta(days=1)

        dates = observable_dates(
            monthly_dates(start, window_end)[history_months:],
            horizon_days=horizon_days,
            end=window_end,
        )
        test_dates = dates[-test_months:]
        train_dates = [d for d in dates if d + timedelta(days=horizon_days) <= test_dates[0]]
        if not train_dates or len(dates) <= test_months:
            raise InputError(
                f"the data window {start} to {manifest['end']} leaves no training dates before the last "
                f"{test_months} test dates with a {horizon_days}-day horizon; generate more months or use "
                "fewer test months."
            )

        clock = time.perf_counter()
        engine = backend if backend is not None else connect("duckdb")
        tables = {
            str(name): engine.read_parquet(folder / f"{name}.parquet")
            for name in TableName
            if (folder / f"{name}.parquet").exists()
        }
        expr = build_dataset(
            tables, observation_dates=[*train_dates, *test_dates], horizon_days=horizon_days, model=kind, end=window_end
        )
        frame = engine.to_pyarrow(expr).to_pandas()
        seconds["features"] = time.perf_counter() - clock

        clock = time.perf_counter()
        params = dict(BACKTEST_MODEL_PARAMS if model_params is None else model_params)
        result = temporal_backtest(
            frame,
            time_column=AS_OF,
            train_until=train_dates[-1],
            test_from=test_dates[0],
            target=LABEL,
            model_factory=lambda: ChurnModel(horizon_days=horizon_days, **params),
            drop_columns=["customer_id"],
        )
        seconds["train_and_score"] = time.perf_counter() - clock

        test = frame.loc[result.test_proba.index, ["customer_id", AS_OF, LABEL]].reset_index(drop=True)
        truth = pd.read_parquet(folder / manifest["ground_truth"])
        test["p_model"] = result.test_proba.to_numpy()
        test["p_true"] = oracle_probability(truth, test, horizon_days=horizon_days, window_end=window_end)

    y = test[LABEL].to_numpy()
    return SyntheticBacktest(
        model=str(kind),
        customers=int(manifest["customers"]),
        seed=int(manifest["seed"]),
        horizon_days=horizon_days,
        train_dates=train_dates,
        test_dates=test_dates,
        n_train=result.n_train,
        n_test=result.n_test,
        metrics=result.metrics,
        oracle_metrics=summary_metrics(y, test["p_true"].to_numpy()),
        calibration=calibration_table(y, test["p_model"].to_numpy()),
        predictions=test,
        seconds=seconds,
    )

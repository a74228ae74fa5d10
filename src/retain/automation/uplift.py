"""A playbook's measured effect: its two randomised arms turned into an effect with an interval.

Every playbook enrols customers into a treatment arm (sent the messages) and a holdout (sent nothing) by a
deterministic hash, so the two arms are comparable and the difference in their goal metric after the window is
the playbook's effect. :func:`measure_uplift` reports it with Welch's interval, the CUPED estimate that uses the
pre-enrolment value of the metric to narrow the interval, a sample-ratio-mismatch check and the minimum
detectable effect. Pure computation over a table; reading the enrolments and outcomes is the caller's job.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from retain.automation.uplift_result import (
    Arm,
    ArmStats,
    CupedAdjustment,
    OutcomeKind,
    UpliftResult,
    UpliftStatus,
)
from retain.automation.uplift_stats import (
    SRM_ALPHA,
    EffectEstimate,
    SampleRatioCheck,
    SrmMethod,
    check_sample_ratio,
    cuped_theta,
    difference_in_means,
    minimum_detectable_effect,
    not_enough_data_reason,
    require_fraction,
)
from retain.errors import InputError

__all__ = [
    "SRM_ALPHA",
    "Arm",
    "ArmStats",
    "CupedAdjustment",
    "EffectEstimate",
    "OutcomeKind",
    "SampleRatioCheck",
    "SrmMethod",
    "UpliftResult",
    "UpliftStatus",
    "check_sample_ratio",
    "cuped_theta",
    "difference_in_means",
    "measure_uplift",
    "minimum_detectable_effect",
]

_REQUIRED = ("arm", "y")


def measure_uplift(
    frame: pd.DataFrame, *, holdout_share: float, confidence: float = 0.95, power: float = 0.8
) -> UpliftResult:
    """Measure a playbook's effect from one row per enrolled customer.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``arm`` (``"treatment"`` or ``"holdout"``), ``y`` (the goal outcome after the window: 0/1 for "retained N
        days later", or a count or amount for orders, revenue, logins) and optionally ``pre`` (the same metric
        over the pre-enrolment window, for CUPED). Other columns are ignored. ``y`` and ``pre`` must be finite
        numbers: a customer without pre-period activity has ``pre`` = 0 for a count, not NaN.
    holdout_share : float
        The playbook's configured holdout share, in (0, 1) — for the sample-ratio check.
    confidence : float, default 0.95
        Coverage of the two-sided intervals, in (0, 1).
    power : float, default 0.8
        Power at which the minimum detectable effect is computed, in (0, 1).

    Returns
    -------
    UpliftResult
        Per arm: customers, mean and standard deviation. ``raw``: treatment − holdout with Welch's *t* interval
        (:func:`difference_in_means`; for a 0/1 outcome the two-proportion Wald interval with the *t* quantile and
        ddof = 1 variances), p-value, relative effect and MDE. ``cuped`` (with ``pre``): theta pooled over both
        arms (:func:`cuped_theta`), the effect on ``y − theta · (pre − mean(pre))``, the variance reduction and
        the ratio of interval half-widths. ``sample_ratio``: the SRM check (:func:`check_sample_ratio`, flagged at
        p < 0.001). When an arm has fewer than two customers or the outcome does not vary in either arm, the
        status is ``not_enough_data`` with the reason, the per-arm figures and the SRM check still reported.

    Raises
    ------
    InputError
        When ``frame`` is not a DataFrame or lacks ``arm``/``y``; an arm label is unknown; ``y`` or ``pre`` is not
        numeric, or is NaN or infinite; ``holdout_share``, ``confidence`` or ``power`` is not in (0, 1).

    Examples
    --------
    >>> frame = pd.DataFrame({"arm": ["treatment"] * 3 + ["holdout"] * 2, "y": [1, 1, 0, 0, 1]})
    >>> result = measure_uplift(frame, holdout_share=0.4)
    >>> round(result.effect, 4)  # 2/3 − 1/2
    0.1667
    """
    require_fraction("holdout_share", holdout_share)
    require_fraction("confidence", confidence)
    require_fraction("power", power)
    treated_mask, y, pre = _validated(frame)
    y_t, y_h = y[treated_mask], y[~treated_mask]
    n = y.size
    sample_ratio = check_sample_ratio(y_t.size, y_h.size, holdout_share=holdout_share) if n else None
    reason = not_enough_data_reason(y_t, y_h)
    raw = cuped = None
    if reason is None:
        raw = difference_in_means(y_t, y_h, confidence=confidence, power=power)
        if pre is not None:
            cuped = _cuped(y, pre, treated_mask, raw, confidence=confidence, power=power)
    binary = bool(np.isin(y, (0.0, 1.0)).all())
    return UpliftResult(
        status=UpliftStatus.MEASURED if reason is None else UpliftStatus.NOT_ENOUGH_DATA,
        reason=reason,
        outcome_kind=OutcomeKind.BINARY if binary else OutcomeKind.NUMERIC,
        holdout_share=float(holdout_share),
        confidence=float(confidence),
        power=float(power),
        treatment=_arm_stats(Arm.TREATMENT, y_t),
        holdout=_arm_stats(Arm.HOLDOUT, y_h),
        raw=raw,
        cuped=cuped,
        sample_ratio=sample_ratio,
    )


def _cuped(
    y: np.ndarray,
    pre: np.ndarray,
    treated_mask: np.ndarray,
    raw: EffectEstimate,
    *,
    confidence: float,
    power: float,
) -> CupedAdjustment | None:
    """The CUPED estimate, or ``None`` when the adjusted outcome leaves nothing to estimate an interval from."""
    theta = cuped_theta(y, pre)
    adjusted = y - theta * (pre - pre.mean())
    adj_t, adj_h = adjusted[treated_mask], adjusted[~treated_mask]
    if not_enough_data_reason(adj_t, adj_h) is not None:  # pre predicts y exactly within both arms
        return None
    baseline = float(y[~treated_mask].mean())
    estimate = difference_in_means(adj_t, adj_h, confidence=confidence, power=power, baseline=baseline)
    var_raw = float(np.var(y, ddof=1))
    return CupedAdjustment(
        theta=theta,
        variance_reduction=1.0 - float(np.var(adjusted, ddof=1)) / var_raw if var_raw > 0 else 0.0,
        width_ratio=estimate.half_width / raw.half_width,
        estimate=estimate,
    )


def _arm_stats(arm: Arm, values: np.ndarray) -> ArmStats:
    return ArmStats(
        arm=arm,
        customers=int(values.size),
        mean=float(values.mean()) if values.size else None,
        std=float(values.std(ddof=1)) if values.size >= 2 else None,
    )


def _validated(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Which rows are treated, the outcomes and (optional) pre-period values as arrays, after every input check."""
    if not isinstance(frame, pd.DataFrame):
        raise InputError(
            f"frame must be a pandas DataFrame with one row per enrolled customer; got {type(frame).__name__}."
        )
    missing = [col for col in _REQUIRED if col not in frame.columns]
    if missing:
        raise InputError(
            f"frame lacks column(s) {missing}; expected 'arm' ('treatment' or 'holdout'), 'y' (the goal outcome) "
            f"and optionally 'pre' (the same metric before enrolment); got columns {list(frame.columns)}."
        )
    arms = frame["arm"].to_numpy(dtype=object)
    treated = arms == str(Arm.TREATMENT)
    unknown = ~(treated | (arms == str(Arm.HOLDOUT)))
    if unknown.any():
        bad = list(dict.fromkeys("<missing>" if pd.isna(value) else str(value) for value in arms[unknown]))
        raise InputError(
            f"arm has {int(unknown.sum())} value(s) that are not an arm, e.g. {bad[:3]}; "
            f"valid arms are {[str(arm) for arm in Arm]}."
        )
    y = _finite_numbers(frame["y"], "y", "the goal outcome after the window (0/1, a count or an amount)")
    pre = None
    if "pre" in frame.columns:
        pre = _finite_numbers(
            frame["pre"], "pre", "the metric over the pre-enrolment window; use 0 for a customer with no activity"
        )
    return treated, y, pre


def _finite_numbers(column: pd.Series, name: str, meaning: str) -> np.ndarray:
    if column.empty:
        return np.empty(0, dtype="float64")
    # Numbers only: a text column of digits would silently convert, and usually means a wrong column.
    if not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)):
        raise InputError(f"{name} must be numeric ({meaning}); got dtype {column.dtype}, e.g. {column.iloc[0]!r}.")
    values = column.to_numpy(dtype="float64", na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        first = column.index[int(np.argmax(bad))]
        first = first.item() if isinstance(first, np.generic) else first
        raise InputError(
            f"{name} has {int(bad.sum())} missing or infinite value(s) (first at index {first!r}); "
            f"expected a finite number per customer: {meaning}. Fill or drop those customers first."
        )
    return values

"""The statistics behind a playbook's measured effect, as pure functions over numbers.

- :func:`difference_in_means`: treatment − holdout with Welch's unequal-variance *t* interval.
- :func:`cuped_theta`: the CUPED coefficient that removes the part of the outcome the pre-period predicts.
- :func:`check_sample_ratio`: does the observed arm split match the configured holdout share?
- :func:`minimum_detectable_effect`: the smallest true effect the current sample detects with the given power.

:func:`retain.automation.uplift.measure_uplift` combines them over a table of enrolled customers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
from scipy import special, stats

from retain.errors import InputError

__all__ = [
    "MIN_PER_ARM",
    "SRM_ALPHA",
    "EffectEstimate",
    "SampleRatioCheck",
    "SrmMethod",
    "check_sample_ratio",
    "cuped_theta",
    "difference_in_means",
    "minimum_detectable_effect",
    "no_spread",
    "not_enough_data_reason",
    "require_fraction",
]

SRM_ALPHA = 0.001
"""p-value below which the arm split is flagged as a sample-ratio mismatch (see :func:`check_sample_ratio`)."""

MIN_PER_ARM = 2
"""Customers an arm needs before its standard deviation, and so an interval, exists."""

_COCHRAN_MIN_EXPECTED = 5.0  # below this expected count per arm the chi-square approximation is poor


@dataclass(frozen=True)
class EffectEstimate:
    """A difference in mean outcome, treatment − holdout, with its interval.

    Attributes
    ----------
    effect : float
        mean(treatment) − mean(holdout), in the outcome's units (a share of customers for a 0/1 outcome).
    ci_low, ci_high : float
        The two-sided Welch *t* interval at ``confidence``.
    std_error : float
        sqrt(s_t²/n_t + s_h²/n_h), sample variances with ddof = 1.
    df : float
        Welch–Satterthwaite degrees of freedom.
    p_value : float
        Two-sided p-value of Welch's *t* test of "no difference".
    confidence : float
        Coverage of the interval, e.g. 0.95.
    mde : float
        Minimum detectable effect (absolute, outcome units) at this sample size, ``confidence`` and the power
        asked for, from the pooled within-arm variance (:func:`minimum_detectable_effect`).
    relative_effect : float or None
        ``effect`` divided by the holdout's (unadjusted) mean; ``None`` when that mean is 0. A point estimate only.
    """

    effect: float
    ci_low: float
    ci_high: float
    std_error: float
    df: float
    p_value: float
    confidence: float
    mde: float
    relative_effect: float | None

    @property
    def half_width(self) -> float:
        """Half the interval's width: how far the truth may plausibly lie from ``effect``."""
        return (self.ci_high - self.ci_low) / 2.0

    @property
    def significant(self) -> bool:
        """True when the interval excludes 0 (equivalently ``p_value < 1 − confidence``)."""
        return self.ci_low > 0.0 or self.ci_high < 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values, with ``half_width`` and ``significant`` included."""
        return {
            "effect": self.effect,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "half_width": self.half_width,
            "std_error": self.std_error,
            "df": self.df,
            "p_value": self.p_value,
            "confidence": self.confidence,
            "significant": self.significant,
            "mde": self.mde,
            "relative_effect": self.relative_effect,
        }


class SrmMethod(StrEnum):
    """How the sample-ratio p-value was computed."""

    CHI_SQUARE = "chi_square"
    """Pearson's chi-square goodness of fit, 1 degree of freedom (both expected counts >= 5)."""
    BINOMIAL_EXACT = "binomial_exact"
    """The exact two-sided binomial test, used when an expected count is below 5 (Cochran's rule)."""


@dataclass(frozen=True)
class SampleRatioCheck:
    """Observed versus configured arm sizes.

    Attributes
    ----------
    treatment, holdout : int
        Observed customers per arm.
    expected_treatment, expected_holdout : float
        n × (1 − holdout_share) and n × holdout_share.
    holdout_share : float
        The configured share.
    statistic : float
        Pearson's chi-square statistic, Σ (observed − expected)² / expected.
    p_value : float
        Probability of a split at least this far from the configured share if assignment works as configured.
    method : SrmMethod
        Chi-square, or the exact binomial test for small samples.
    srm : bool
        ``p_value < SRM_ALPHA`` (0.001): the split is very unlikely under the configured share.
    """

    treatment: int
    holdout: int
    expected_treatment: float
    expected_holdout: float
    holdout_share: float
    statistic: float
    p_value: float
    method: SrmMethod
    srm: bool

    @property
    def observed_holdout_share(self) -> float:
        """holdout / (treatment + holdout)."""
        return self.holdout / (self.treatment + self.holdout)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        return {
            "treatment": self.treatment,
            "holdout": self.holdout,
            "expected_treatment": self.expected_treatment,
            "expected_holdout": self.expected_holdout,
            "holdout_share": self.holdout_share,
            "observed_holdout_share": self.observed_holdout_share,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "method": str(self.method),
            "srm": self.srm,
            "alpha": SRM_ALPHA,
        }


def no_spread(values: np.ndarray) -> bool:
    """True when ``values`` are all equal, up to rounding (relative 1e-12), so their variance is 0."""
    if values.size == 0:
        return True
    scale = max(1.0, float(np.max(np.abs(values))))
    return float(np.ptp(values)) <= 1e-12 * scale


def not_enough_data_reason(treated: np.ndarray, held: np.ndarray) -> str | None:
    """Why no interval can be computed from these two arms, or ``None`` when one can.

    An interval needs at least :data:`MIN_PER_ARM` customers in each arm (a standard deviation needs two) and
    some variation of the outcome in at least one arm (with none, the standard error is 0 and any interval
    would claim a certainty the data do not have).
    """
    for arm, values in (("treatment", treated), ("holdout", held)):
        if values.size < MIN_PER_ARM:
            return (
                f"the {arm} arm has {values.size} customer{'s' if values.size != 1 else ''}; "
                f"an interval needs at least {MIN_PER_ARM} per arm — wait for more enrolments"
            )
    if no_spread(treated) and no_spread(held):
        return (
            "the outcome does not vary within either arm (every customer has the same value), so its "
            "uncertainty cannot be estimated — wait for more customers or a longer goal window"
        )
    return None


def minimum_detectable_effect(
    variance: float, n_treatment: int, n_holdout: int, *, confidence: float = 0.95, power: float = 0.8
) -> float:
    """The smallest true effect a two-sided test detects with probability ``power``.

    ``MDE = (z_{1−α/2} + z_{power}) · sqrt(σ²/n_t + σ²/n_h)`` with α = 1 − ``confidence`` — the normal
    approximation used for sizing experiments; the chance of the effect landing on the wrong side is ignored.

    Parameters
    ----------
    variance : float
        σ², the outcome's variance within an arm (e.g. the pooled within-arm sample variance), >= 0.
    n_treatment, n_holdout : int
        Customers per arm, >= 1.
    confidence, power : float
        In (0, 1).

    Returns
    -------
    float
        The MDE in the outcome's units (0 when ``variance`` is 0).
    """
    require_fraction("confidence", confidence)
    require_fraction("power", power)
    if not (math.isfinite(variance) and variance >= 0):
        raise InputError(f"variance must be a finite number >= 0; got {variance!r}.")
    if n_treatment < 1 or n_holdout < 1:
        raise InputError(f"each arm needs at least one customer; got {n_treatment} treated, {n_holdout} held out.")
    # scipy.special's distribution functions are what scipy.stats calls, without its per-call overhead.
    z = special.ndtri(1.0 - (1.0 - confidence) / 2.0) + special.ndtri(power)
    return float(z * math.sqrt(variance / n_treatment + variance / n_holdout))


def difference_in_means(
    treated: np.ndarray,
    held: np.ndarray,
    *,
    confidence: float = 0.95,
    power: float = 0.8,
    baseline: float | None = None,
) -> EffectEstimate:
    """mean(treated) − mean(held) with Welch's unequal-variance *t* interval.

    ``se = sqrt(s_t²/n_t + s_h²/n_h)``, ``df = se⁴ / ((s_t²/n_t)²/(n_t−1) + (s_h²/n_h)²/(n_h−1))``, interval
    ``effect ± t_{1−α/2, df} · se``. Welch's interval does not assume equal variances, which a treatment that
    changes behaviour rarely leaves equal. For a 0/1 outcome it is the familiar two-proportion Wald interval
    ``Δp ± z · sqrt(p_t(1−p_t)/n_t + p_h(1−p_h)/n_h)`` except for two small-sample corrections: the *t* quantile
    instead of *z*, and the ddof = 1 variance ``n/(n−1) · p(1−p)``; both make the interval slightly wider and
    vanish as the arms grow.

    Parameters
    ----------
    treated, held : numpy.ndarray
        Outcomes of each arm, finite floats, each with at least two values and not both constant.
    confidence, power : float
        In (0, 1); ``power`` only enters the MDE.
    baseline : float, optional
        Denominator of ``relative_effect`` (the holdout's unadjusted mean); defaults to ``held.mean()``.

    Returns
    -------
    EffectEstimate

    Raises
    ------
    InputError
        When an arm has fewer than two values or neither arm varies (:func:`not_enough_data_reason`).
    """
    require_fraction("confidence", confidence)
    reason = not_enough_data_reason(treated, held)
    if reason is not None:
        raise InputError(f"Cannot compute an interval: {reason}.")
    n_t, n_h = treated.size, held.size
    var_t, var_h = float(np.var(treated, ddof=1)), float(np.var(held, ddof=1))
    share_t, share_h = var_t / n_t, var_h / n_h
    se = math.sqrt(share_t + share_h)
    df = (share_t + share_h) ** 2 / (share_t**2 / (n_t - 1) + share_h**2 / (n_h - 1))
    effect = float(np.mean(treated) - np.mean(held))
    half = float(special.stdtrit(df, 1.0 - (1.0 - confidence) / 2.0)) * se  # the t quantile
    p_value = float(2.0 * special.stdtr(df, -abs(effect) / se))  # two-sided t tail
    pooled_var = ((n_t - 1) * var_t + (n_h - 1) * var_h) / (n_t + n_h - 2)
    base = float(np.mean(held)) if baseline is None else baseline
    return EffectEstimate(
        effect=effect,
        ci_low=effect - half,
        ci_high=effect + half,
        std_error=se,
        df=float(df),
        p_value=p_value,
        confidence=confidence,
        mde=minimum_detectable_effect(pooled_var, n_t, n_h, confidence=confidence, power=power),
        relative_effect=effect / base if base != 0 else None,
    )


def cuped_theta(y: np.ndarray, pre: np.ndarray) -> float:
    """CUPED's coefficient ``theta = cov(y, pre) / var(pre)``, over every customer of both arms.

    Pooling both arms is valid because ``pre`` is measured before enrolment, so randomisation makes it
    independent of the arm. The adjusted outcome ``y − theta · (pre − mean(pre))`` keeps each arm's expected
    mean difference and has variance ``var(y) · (1 − corr(y, pre)²)``. A constant ``pre`` carries no
    information: theta is then 0 and the adjustment changes nothing.
    """
    if y.shape != pre.shape:
        raise InputError(f"y and pre must have the same length; got {y.size} and {pre.size}.")
    if y.size < 2 or no_spread(pre):
        return 0.0
    pre_centred = pre - pre.mean()
    return float(np.dot(y - y.mean(), pre_centred) / np.dot(pre_centred, pre_centred))


def check_sample_ratio(n_treatment: int, n_holdout: int, *, holdout_share: float) -> SampleRatioCheck:
    """Sample-ratio-mismatch (SRM) check: are the arms split as configured?

    A randomised holdout of share *h* puts each enrolled customer in the holdout with probability *h*, so the
    holdout count is Binomial(n, h). Pearson's chi-square goodness of fit (1 degree of freedom) compares the
    observed counts with n·(1−h) and n·h; when an expected count is below 5 the chi-square approximation is poor
    and the exact two-sided binomial test is used instead (``method`` says which).

    The flag ``srm`` is raised at p < 0.001 rather than the usual 0.05: the check runs on every result of every
    playbook, again and again as enrolments accrue, so a lax threshold would raise false alarms all the time;
    a real mismatch (an assignment or logging bug, customers of one arm dropping out of the data) yields tiny
    p-values quickly. 0.001 is the threshold recommended in the SRM literature (Fabijan et al., "Diagnosing
    Sample Ratio Mismatch in Online Controlled Experiments", KDD 2019; Kohavi, Tang & Xu, *Trustworthy Online
    Controlled Experiments*, 2020). An SRM means the arms are no longer comparable: do not trust the effect.

    Parameters
    ----------
    n_treatment, n_holdout : int
        Observed customers per arm, >= 0, at least one in total.
    holdout_share : float
        The configured holdout share, in (0, 1).

    Returns
    -------
    SampleRatioCheck
    """
    require_fraction("holdout_share", holdout_share)
    for name, count in (("n_treatment", n_treatment), ("n_holdout", n_holdout)):
        if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 0:
            raise InputError(f"{name} must be a whole number >= 0; got {count!r}.")
    n = int(n_treatment) + int(n_holdout)
    if n == 0:
        raise InputError("No customers are enrolled in either arm, so the split cannot be checked.")
    expected_t, expected_h = n * (1.0 - holdout_share), n * holdout_share
    statistic = (n_treatment - expected_t) ** 2 / expected_t + (n_holdout - expected_h) ** 2 / expected_h
    if min(expected_t, expected_h) >= _COCHRAN_MIN_EXPECTED:
        method, p_value = SrmMethod.CHI_SQUARE, float(special.chdtrc(1, statistic))
    else:
        method = SrmMethod.BINOMIAL_EXACT
        p_value = float(stats.binomtest(int(n_holdout), n, holdout_share).pvalue)
    return SampleRatioCheck(
        treatment=int(n_treatment),
        holdout=int(n_holdout),
        expected_treatment=expected_t,
        expected_holdout=expected_h,
        holdout_share=holdout_share,
        statistic=float(statistic),
        p_value=p_value,
        method=method,
        srm=p_value < SRM_ALPHA,
    )


def require_fraction(name: str, value: object) -> None:
    """Raise :class:`InputError` unless ``value`` is a real number strictly between 0 and 1."""
    ok = isinstance(value, int | float | np.floating | np.integer) and not isinstance(value, bool)
    if not ok or not (0.0 < float(value) < 1.0):  # type: ignore[arg-type]
        raise InputError(
            f"{name} must be a number strictly between 0 and 1 (e.g. 0.1 for a 10 % holdout, 0.95, 0.8); got {value!r}."
        )

"""What :func:`retain.automation.uplift.measure_uplift` reports: per-arm figures, the raw and CUPED effects, the
sample-ratio check, a JSON form and a one-line summary a retention manager can read."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from retain.automation.uplift_stats import EffectEstimate, SampleRatioCheck
from retain.contract.system_tables import Arm  # one definition: the enrolments table's arms

__all__ = ["Arm", "ArmStats", "CupedAdjustment", "OutcomeKind", "UpliftResult", "UpliftStatus"]


class OutcomeKind(StrEnum):
    """What the goal metric counts, which decides how effects are worded."""

    BINARY = "binary"
    """0/1 per customer (e.g. retained N days later): effects are shares, shown in percentage points."""
    NUMERIC = "numeric"
    """A count or amount per customer (orders, revenue, logins): effects are in the metric's own units."""


class UpliftStatus(StrEnum):
    """Whether the effect could be measured."""

    MEASURED = "measured"
    NOT_ENOUGH_DATA = "not_enough_data"
    """An arm is empty or has one customer, or the outcome does not vary: no interval; ``reason`` says why."""


@dataclass(frozen=True)
class ArmStats:
    """One arm's customers and outcome.

    Attributes
    ----------
    arm : Arm
    customers : int
    mean : float or None
        Mean outcome (``None`` for an empty arm).
    std : float or None
        Sample standard deviation, ddof = 1 (``None`` below two customers).
    """

    arm: Arm
    customers: int
    mean: float | None
    std: float | None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        return {"arm": str(self.arm), "customers": self.customers, "mean": self.mean, "std": self.std}


@dataclass(frozen=True)
class CupedAdjustment:
    """The effect re-estimated on ``y_adj = y − theta · (pre − mean(pre))``.

    Attributes
    ----------
    theta : float
        cov(y, pre) / var(pre) over all customers of both arms (0 when ``pre`` is constant).
    variance_reduction : float
        1 − var(y_adj) / var(y), both over all customers: corr(y, pre)², the share of the outcome's variance
        explained by the pre-period.
    width_ratio : float
        CUPED interval half-width / raw half-width (below 1: CUPED narrows the interval).
    estimate : EffectEstimate
        Effect, interval, p-value and MDE on the adjusted outcome; ``relative_effect`` divides by the raw
        holdout mean.
    """

    theta: float
    variance_reduction: float
    width_ratio: float
    estimate: EffectEstimate

    @property
    def width_change(self) -> float:
        """Relative change of the interval width, ``width_ratio − 1`` (−0.18: 18 % narrower)."""
        return self.width_ratio - 1.0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        return {
            "theta": self.theta,
            "variance_reduction": self.variance_reduction,
            "width_ratio": self.width_ratio,
            "width_change": self.width_change,
            **self.estimate.to_dict(),
        }


@dataclass(frozen=True)
class UpliftResult:
    """A playbook's measured effect: treatment − holdout on the goal metric.

    Attributes
    ----------
    status : UpliftStatus
        ``measured``, or ``not_enough_data`` (then ``raw`` and ``cuped`` are ``None`` and ``reason`` says why).
    reason : str or None
        Why the effect could not be measured.
    outcome_kind : OutcomeKind
        ``binary`` when every outcome is 0 or 1, else ``numeric``.
    holdout_share, confidence, power : float
        The configured holdout share and the levels asked for.
    treatment, holdout : ArmStats
    raw : EffectEstimate or None
        The unadjusted difference in means with Welch's interval — the headline estimate.
    cuped : CupedAdjustment or None
        The CUPED estimate, when a ``pre`` column was given and the effect was measured.
    sample_ratio : SampleRatioCheck or None
        The SRM check (``None`` only when no customer is enrolled).
    """

    status: UpliftStatus
    reason: str | None
    outcome_kind: OutcomeKind
    holdout_share: float
    confidence: float
    power: float
    treatment: ArmStats
    holdout: ArmStats
    raw: EffectEstimate | None
    cuped: CupedAdjustment | None
    sample_ratio: SampleRatioCheck | None

    @property
    def effect(self) -> float | None:
        """mean(treatment) − mean(holdout), unadjusted (``None`` when not measured)."""
        return None if self.raw is None else self.raw.effect

    @property
    def ci(self) -> tuple[float, float] | None:
        """The raw effect's interval (low, high)."""
        return None if self.raw is None else (self.raw.ci_low, self.raw.ci_high)

    @property
    def relative_effect(self) -> float | None:
        """effect / mean(holdout), ``None`` when not measured or the holdout mean is 0."""
        return None if self.raw is None else self.raw.relative_effect

    @property
    def mde(self) -> float | None:
        """Minimum detectable effect of the raw estimate at the current sample size."""
        return None if self.raw is None else self.raw.mde

    @property
    def variance_reduction(self) -> float | None:
        """CUPED's 1 − var(adjusted)/var(raw), ``None`` without a pre-period."""
        return None if self.cuped is None else self.cuped.variance_reduction

    @property
    def significant(self) -> bool:
        """The raw interval excludes 0 (False when not measured)."""
        return self.raw is not None and self.raw.significant

    @property
    def srm(self) -> bool:
        """The arm split is a sample-ratio mismatch (p < 0.001): the effect is not to be trusted."""
        return self.sample_ratio is not None and self.sample_ratio.srm

    def to_dict(self) -> dict[str, Any]:
        """Every figure as plain JSON-ready values (for ``--format json``); NaN and infinities become ``None``."""
        return _finite(
            {
                "status": str(self.status),
                "reason": self.reason,
                "outcome_kind": str(self.outcome_kind),
                "holdout_share": self.holdout_share,
                "confidence": self.confidence,
                "power": self.power,
                "arms": {"treatment": self.treatment.to_dict(), "holdout": self.holdout.to_dict()},
                "effect": None if self.raw is None else self.raw.to_dict(),
                "cuped": None if self.cuped is None else self.cuped.to_dict(),
                "sample_ratio": None if self.sample_ratio is None else self.sample_ratio.to_dict(),
                "significant": self.significant,
                "srm": self.srm,
            }
        )

    def summary(self, name: str = "Playbook", *, metric: str | None = None) -> str:
        """One plain-English line, e.g.
        ``Wake-up email: +3.1 pts retained (95 % CI +0.4 to +5.8), 1,204 treated vs 131 held out; CUPED −18 % width``.

        The headline is the raw estimate (it rests on randomisation alone); "CUPED −18 % width" says how much
        narrower the CUPED interval is. A 0/1 outcome is shown in percentage points ("pts"), any other per
        customer in its own units. Not significant, SRM and not-enough-data results say so.

        Parameters
        ----------
        name : str
            The playbook's name, first on the line.
        metric : str, optional
            The goal metric in words, e.g. ``"retained"`` or ``"orders"``.
        """
        counts = f"{self.treatment.customers:,} treated vs {self.holdout.customers:,} held out"
        if self.raw is None:
            return f"{name}: not enough data yet — {counts}; {self.reason}."
        scale, unit, per = _WORDING[self.outcome_kind]
        what = (f"{unit} {metric}" if metric else unit) + per
        digits = _decimals(self.raw.half_width * scale)
        level = f"{self.confidence * 100:g} % CI"
        interval = f"{_signed(self.raw.ci_low * scale, digits)} to {_signed(self.raw.ci_high * scale, digits)}"
        verdict = "" if self.raw.significant else ", not significant"
        line = f"{name}: {_signed(self.raw.effect * scale, digits)}{what} ({level} {interval}{verdict}), {counts}"
        if self.cuped is not None:
            line += f"; CUPED {_signed(self.cuped.width_change * 100, 0)} % width"
        if self.srm and self.sample_ratio is not None:
            configured = f"{(1 - self.holdout_share) * 100:g}/{self.holdout_share * 100:g}"
            line += (
                f"; SAMPLE RATIO MISMATCH (p = {self.sample_ratio.p_value:.1e}): the arms are not split {configured} "
                "as configured — check enrolment before trusting this"
            )
        return line


_WORDING = {OutcomeKind.BINARY: (100.0, " pts", ""), OutcomeKind.NUMERIC: (1.0, "", " per customer")}
"""Per outcome kind: the scale effects are shown at, their unit, and what they are per."""


def _decimals(half_width: float) -> int:
    """Decimals that show the interval's half-width to two significant digits (never negative)."""
    if not math.isfinite(half_width) or half_width <= 0:
        return 1
    return max(0, 1 - math.floor(math.log10(half_width)))


def _signed(value: float, digits: int) -> str:
    """``+3.1`` / ``−0.4`` (a true minus sign) / ``0``, with thousands separators."""
    text = f"{abs(value):,.{digits}f}"
    if float(text.replace(",", "")) == 0:
        return text
    return ("+" if value > 0 else "−") + text


def _finite(value: Any) -> Any:
    """``value`` with NaN and ±inf floats replaced by ``None``, recursively (JSON has no NaN)."""
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value

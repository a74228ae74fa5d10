"""Is the uplift recovered? The acceptance of issue 9 over many simulation seeds.

Over ``seeds`` simulations of a playbook with a known effect and one without (hazard multiplier 1): the true
effect lies inside the reported 95 % interval in at least 90 % of the seeds (18 of 20); the mean estimate is
within a quarter of the mean interval half-width of the mean truth; the playbook without effect is significant
in at most 10 % of the seeds; the sample-ratio check passes everywhere; no holdout customer received a message.
How much CUPED narrows the interval is reported (the mean ratio of half-widths, CUPED over raw).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retain.automation.uplift_stats import SRM_ALPHA
from retain.errors import InputError
from retain.services.simulate import SimulatedPlaybook, SimulationResult, simulate

__all__ = ["Acceptance", "acceptance", "simulate_seeds"]

_SHARE = 0.9
"""18 of 20."""
_BIAS = 0.25
"""A quarter of the mean half-width."""


@dataclass(frozen=True)
class Acceptance:
    """The uplift acceptance over several seeds.

    Attributes
    ----------
    seeds : int
    effect_playbook, null_playbook : str
    covered : int
        Seeds whose 95 % interval of the effect playbook holds its true effect.
    mean_estimate, mean_truth, mean_half_width : float
        Of the effect playbook, over the seeds.
    null_significant, null_covered : int
        Seeds in which the playbook without effect is significant / holds its truth (0) in its interval.
    cuped_width_ratio : float or None
        Mean CUPED half-width over raw half-width of the effect playbook (below 1: CUPED narrows).
    cuped_covered, cuped_null_significant : int
        The same two counts for the CUPED interval (reported; the acceptance is judged on the raw interval).
    srm_failures : int
        Playbook-seeds with a sample-ratio mismatch (p < 0.001).
    holdout_messages : int
        Messages that reached a holdout customer, over every seed and both playbooks.
    """

    seeds: int
    effect_playbook: str
    null_playbook: str
    covered: int
    mean_estimate: float
    mean_truth: float
    mean_half_width: float
    null_significant: int
    null_covered: int
    cuped_width_ratio: float | None
    cuped_covered: int
    cuped_null_significant: int
    srm_failures: int
    holdout_messages: int

    @property
    def required(self) -> int:
        """Seeds that must hold the truth (18 of 20)."""
        return math.ceil(_SHARE * self.seeds)

    @property
    def bias_in_half_widths(self) -> float:
        """|mean estimate − mean truth| over the mean half-width."""
        return abs(self.mean_estimate - self.mean_truth) / self.mean_half_width

    @property
    def passed(self) -> bool:
        return (
            self.covered >= self.required
            and self.bias_in_half_widths <= _BIAS
            and self.seeds - self.null_significant >= self.required
            and self.srm_failures == 0
            and self.holdout_messages == 0
        )

    def to_dict(self) -> dict[str, object]:
        return {
            **self.__dict__,
            "required": self.required,
            "bias_in_half_widths": self.bias_in_half_widths,
            "passed": self.passed,
        }


def _measured(result: SimulationResult, name: str) -> SimulatedPlaybook:
    row = result.get(name)
    if row.estimate is None:
        raise InputError(
            f"Playbook {name!r} has no measured effect in seed {result.seed} ({row.enrolled} measured enrolments); "
            "simulate more customers or more months."
        )
    return row


def acceptance(results: Sequence[SimulationResult], *, effect: str, null: str) -> Acceptance:
    """Summarise simulations of the playbook ``effect`` (a known effect) and ``null`` (none) over their seeds.

    Raises
    ------
    InputError
        No result given, or a playbook has no measured effect in one of them.
    """
    if not results:
        raise InputError("acceptance needs at least one simulation result.")
    eff = [_measured(r, effect) for r in results]
    nul = [_measured(r, null) for r in results]
    half = [(row.ci_high - row.ci_low) / 2 for row in eff]
    ratios = [row.cuped_width_ratio for row in eff if row.cuped_width_ratio is not None]
    srm = [row.srm_p_value for row in (*eff, *nul) if row.srm_p_value is not None]
    return Acceptance(
        seeds=len(results),
        effect_playbook=effect,
        null_playbook=null,
        covered=sum(row.covered for row in eff),
        mean_estimate=float(np.mean([row.estimate for row in eff])),
        mean_truth=float(np.mean([row.true_effect for row in eff])),
        mean_half_width=float(np.mean(half)),
        null_significant=sum(row.significant for row in nul),
        null_covered=sum(row.covered for row in nul),
        cuped_width_ratio=float(np.mean(ratios)) if ratios else None,
        cuped_covered=sum(row.cuped_covered for row in eff),
        cuped_null_significant=sum(row.cuped_significant for row in nul),
        srm_failures=sum(p < SRM_ALPHA for p in srm),
        holdout_messages=sum(row.holdout_messages for row in (*eff, *nul)),
    )


def simulate_seeds(
    path: Path | str,
    *,
    seeds: int,
    first_seed: int = 0,
    progress: Callable[[str], None] | None = None,
    **options: object,
) -> list[SimulationResult]:
    """:func:`~retain.services.simulate.simulate` once per seed, each in ``path/seed-<n>``; the results in order."""
    if seeds < 1:
        raise InputError(f"seeds must be at least 1, got {seeds}.")
    out = []
    for seed in range(first_seed, first_seed + seeds):
        out.append(simulate(Path(path) / f"seed-{seed:03d}", seed=seed, **options))  # type: ignore[arg-type]
        if progress is not None:
            progress(f"seed {seed}: {out[-1].seconds:.1f} s")
    return out

"""Uplift statistics: hand-computed examples, SciPy as the reference, and simulations with a known true effect."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from retain.automation.uplift import (
    SRM_ALPHA,
    Arm,
    ArmStats,
    CupedAdjustment,
    EffectEstimate,
    OutcomeKind,
    SrmMethod,
    UpliftResult,
    UpliftStatus,
    check_sample_ratio,
    difference_in_means,
    measure_uplift,
    minimum_detectable_effect,
)
from retain.errors import InputError

Z_975, Z_80 = 1.959963984540054, 0.8416212335729143  # standard normal quantiles, from tables


def _frame(treated: list[float], held: list[float], pre_t=None, pre_h=None) -> pd.DataFrame:
    frame = pd.DataFrame({"arm": ["treatment"] * len(treated) + ["holdout"] * len(held), "y": treated + held})
    if pre_t is not None:
        frame["pre"] = pre_t + pre_h
    return frame


# --- hand-computed examples -------------------------------------------------------------------------------------


def test_binary_example_by_hand():
    # treatment 1,1,1,0: mean 3/4, s² = (3·(1/4)² + (3/4)²)/3 = (3/16 + 9/16)/3 = 1/4
    # holdout   1,0,0,0: mean 1/4, s² = 1/4 by symmetry
    # effect = 3/4 − 1/4 = 1/2; se = sqrt(1/16 + 1/16) = sqrt(1/8) = 0.353553
    # df = (1/8)² / ((1/16)²/3 + (1/16)²/3) = (1/64) / (2/768) = 6; t_{0.975, 6} = 2.446912 (table)
    # half-width = 2.446912 · 0.353553 = 0.865124 → CI (−0.365124, 1.365124)
    result = measure_uplift(_frame([1, 1, 1, 0], [1, 0, 0, 0]), holdout_share=0.5)
    assert result.status is UpliftStatus.MEASURED and result.reason is None
    assert result.outcome_kind is OutcomeKind.BINARY
    assert result.treatment == ArmStats(Arm.TREATMENT, 4, 0.75, pytest.approx(0.5))
    assert result.holdout == ArmStats(Arm.HOLDOUT, 4, 0.25, pytest.approx(0.5))
    raw = result.raw
    assert raw.effect == pytest.approx(0.5)
    assert raw.std_error == pytest.approx(math.sqrt(1 / 8))
    assert raw.df == pytest.approx(6.0)
    assert raw.ci_low == pytest.approx(0.5 - 2.446912 * math.sqrt(1 / 8), abs=1e-6)
    assert raw.ci_high == pytest.approx(0.5 + 2.446912 * math.sqrt(1 / 8), abs=1e-6)
    assert result.relative_effect == pytest.approx(2.0)  # 0.5 / 0.25
    assert not result.significant  # the interval contains 0
    # MDE: pooled variance (3·1/4 + 3·1/4)/6 = 1/4; (1.959964 + 0.841621) · sqrt(1/4 · (1/4 + 1/4)) = 0.990504
    assert result.mde == pytest.approx((Z_975 + Z_80) * math.sqrt(0.25 * 0.5))
    assert result.cuped is None  # no pre column
    # counts 4 vs 4 against a 50 % holdout: chi-square 0, p = 1
    assert result.sample_ratio.statistic == 0 and result.sample_ratio.p_value == pytest.approx(1.0)
    assert not result.srm


def test_numeric_example_with_cuped_by_hand():
    # treatment y 2,6,4 pre 1,3,2 · holdout y 1,2 pre 1,3
    # raw: treatment mean 4, s² = (4+4+0)/2 = 4; holdout mean 1.5, s² = (0.25+0.25)/1 = 0.5; effect 2.5
    #      se² = 4/3 + 0.5/2 = 1.583333; df = 1.583333² / ((4/3)²/2 + 0.25²/1) = 2.506944/0.951389 = 2.635036
    # CUPED (over all 5): mean y = 15/5 = 3, mean pre = 10/5 = 2
    #      y − 3 = −1,3,1,−2,−1; pre − 2 = −1,1,0,−1,1
    #      theta = Σ(dy·dpre) / Σ(dpre²) = (1+3+0+2−1) / (1+1+0+1+1) = 5/4
    #      y_adj = y − 1.25·(pre − 2) = 3.25, 4.75, 4 | 2.25, 0.75
    #      treatment mean 4, s² = (0.5625+0.5625+0)/2 = 0.5625; holdout mean 1.5, s² = 1.125; effect still 2.5
    #      (both arms' pre mean equals the overall mean 2, so the adjustment shifts neither arm's mean)
    #      se² = 0.5625/3 + 1.125/2 = 0.75; df = 0.75² / (0.1875²/2 + 0.5625²/1) = 0.5625/0.333984 = 1.684211
    #      variance reduction = corr² = 5² / (Σdy² · Σdpre²) = 25 / (16 · 4) = 0.390625
    #      (check: var(y) = 16/4 = 4, var(y_adj) = (0.0625+3.0625+1+0.5625+5.0625)/4 = 2.4375 = 4 · 39/64)
    frame = _frame([2, 6, 4], [1, 2], [1, 3, 2], [1, 3])
    result = measure_uplift(frame, holdout_share=0.4)
    assert result.outcome_kind is OutcomeKind.NUMERIC
    assert result.effect == pytest.approx(2.5)
    assert result.raw.std_error == pytest.approx(math.sqrt(4 / 3 + 0.25))
    assert result.raw.df == pytest.approx(2.506944 / 0.951389, rel=1e-5)
    cuped = result.cuped
    assert cuped.theta == pytest.approx(1.25)
    assert cuped.variance_reduction == pytest.approx(25 / 64)
    assert cuped.estimate.effect == pytest.approx(2.5)
    assert cuped.estimate.std_error == pytest.approx(math.sqrt(0.75))
    assert cuped.estimate.df == pytest.approx(0.5625 / 0.333984375)
    t_raw = stats.t.ppf(0.975, 2.506944444 / 0.951388889)
    t_cuped = stats.t.ppf(0.975, 0.5625 / 0.333984375)
    assert cuped.width_ratio == pytest.approx(t_cuped * math.sqrt(0.75) / (t_raw * math.sqrt(4 / 3 + 0.25)))
    assert cuped.estimate.relative_effect == pytest.approx(2.5 / 1.5)  # divided by the raw holdout mean


def test_cuped_is_skipped_when_pre_predicts_the_outcome_exactly_within_both_arms():
    # pooled y 3,5 | 1,3 and pre 1,3 | 1,3: means 3 and 2, theta = (0·−1 + 2·1 + −2·−1 + 0·1)/4 = 1
    # y_adj = 4,4 | 2,2: no variation left, so no CUPED interval; the raw one stands (effect 4 − 2 = 2)
    result = measure_uplift(_frame([3, 5], [1, 3], [1, 3], [1, 3]), holdout_share=0.5)
    assert result.effect == pytest.approx(2.0)
    assert result.cuped is None


def test_constant_pre_leaves_the_estimate_unchanged():
    frame = _frame([2, 6, 4], [1, 2], [7, 7, 7], [7, 7])
    result = measure_uplift(frame, holdout_share=0.4)
    assert result.cuped.theta == 0.0
    assert result.cuped.variance_reduction == pytest.approx(0.0)
    assert result.cuped.width_ratio == pytest.approx(1.0)
    assert result.cuped.estimate.ci_low == pytest.approx(result.raw.ci_low)


def test_one_arm_without_variation_still_has_an_interval():
    # treatment 1,1,1 (s² = 0), holdout 0,1,0,1 (mean 0.5, s² = 1/3): se = sqrt(0 + (1/3)/4) = sqrt(1/12)
    # df = (1/12)² / ((1/12)²/3) = 3 (all from the holdout: n_h − 1); t_{0.975, 3} = 3.182446 (table)
    result = measure_uplift(_frame([1, 1, 1], [0, 1, 0, 1]), holdout_share=0.5)
    assert result.effect == pytest.approx(0.5)
    assert result.raw.df == pytest.approx(3.0)
    assert result.raw.half_width == pytest.approx(3.182446 * math.sqrt(1 / 12), abs=1e-6)


def test_binary_interval_is_the_wald_interval_with_t_and_ddof_one():
    # Welch's se² for 0/1 outcomes: p(1−p)·n/(n−1)/n = p(1−p)/(n−1) per arm; Wald uses p(1−p)/n and z.
    rng = np.random.default_rng(7)
    treated, held = (rng.random(3000) < 0.32).astype(float), (rng.random(400) < 0.27).astype(float)
    estimate = difference_in_means(treated, held)
    p_t, p_h = treated.mean(), held.mean()
    assert estimate.std_error == pytest.approx(math.sqrt(p_t * (1 - p_t) / 2999 + p_h * (1 - p_h) / 399))
    wald_half = Z_975 * math.sqrt(p_t * (1 - p_t) / 3000 + p_h * (1 - p_h) / 400)
    assert estimate.half_width == pytest.approx(wald_half, rel=0.005)  # the corrections vanish at this size


# --- the reference implementation: SciPy ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_interval_and_p_value_match_scipy_welch(seed, confidence):
    rng = np.random.default_rng(seed)
    treated = rng.gamma(2.0, 30.0, size=int(rng.integers(5, 400)))  # revenue-like, skewed, unequal variances
    held = rng.gamma(1.5, 25.0, size=int(rng.integers(3, 60)))
    frame = pd.DataFrame({"arm": ["treatment"] * treated.size + ["holdout"] * held.size, "y": [*treated, *held]})
    result = measure_uplift(frame, holdout_share=0.1, confidence=confidence)
    reference = stats.ttest_ind(treated, held, equal_var=False)
    interval = reference.confidence_interval(confidence_level=confidence)
    assert result.raw.ci_low == pytest.approx(interval.low, rel=1e-10)
    assert result.raw.ci_high == pytest.approx(interval.high, rel=1e-10)
    assert result.raw.df == pytest.approx(reference.df, rel=1e-10)
    assert result.raw.p_value == pytest.approx(reference.pvalue, rel=1e-8)
    assert result.raw.significant == (reference.pvalue < 1 - confidence)


def test_cuped_interval_matches_scipy_welch_on_the_adjusted_outcome():
    rng = np.random.default_rng(3)
    pre = rng.poisson(4.0, size=900).astype(float)
    arm = np.where(rng.random(900) < 0.15, "holdout", "treatment")
    y = 0.8 * pre + rng.normal(0, 2, size=900) + 0.5 * (arm == "treatment")
    result = measure_uplift(pd.DataFrame({"arm": arm, "y": y, "pre": pre}), holdout_share=0.15)
    theta = np.cov(y, pre)[0, 1] / np.var(pre, ddof=1)  # independent route to theta
    adjusted = y - theta * (pre - pre.mean())
    reference = stats.ttest_ind(adjusted[arm == "treatment"], adjusted[arm == "holdout"], equal_var=False)
    interval = reference.confidence_interval()
    assert result.cuped.theta == pytest.approx(theta, rel=1e-10)
    assert (result.cuped.estimate.ci_low, result.cuped.estimate.ci_high) == pytest.approx(
        (interval.low, interval.high), rel=1e-10
    )
    assert result.cuped.variance_reduction == pytest.approx(np.corrcoef(y, pre)[0, 1] ** 2, rel=1e-10)


@pytest.mark.parametrize(("treated", "held", "share"), [(60, 40, 0.5), (912, 88, 0.1), (500, 500, 0.1), (17, 8, 0.3)])
def test_sample_ratio_chi_square_matches_scipy(treated, held, share):
    n = treated + held
    check = check_sample_ratio(treated, held, holdout_share=share)
    reference = stats.chisquare([treated, held], f_exp=[n * (1 - share), n * share])
    assert check.method is SrmMethod.CHI_SQUARE
    assert check.statistic == pytest.approx(reference.statistic)
    assert check.p_value == pytest.approx(reference.pvalue, rel=1e-10)
    assert check.srm == (reference.pvalue < 0.001)


def test_sample_ratio_by_hand():
    # 60 vs 40 against 50/50: expected 50 and 50, chi-square = 10²/50 + 10²/50 = 4, p = 2·(1 − Φ(2)) = 0.0455
    check = check_sample_ratio(60, 40, holdout_share=0.5)
    assert check.statistic == pytest.approx(4.0)
    assert check.p_value == pytest.approx(0.0455003, abs=1e-7)
    assert check.observed_holdout_share == pytest.approx(0.4)
    assert not check.srm


def test_small_samples_use_the_exact_binomial_test():
    # 10 enrolled, 10 % holdout: expected 1 held out, below Cochran's 5 → exact binomial. Observing 5:
    # P(X >= 5) = Σ_{k=5..10} C(10,k) 0.1^k 0.9^(10−k) = 0.0014880 + 0.0001378 + 0.0000087 + ... = 0.0016349;
    # every lower count is likelier than P(X=5), so the two-sided p-value is that tail: above 0.001, no SRM.
    # (The chi-square approximation would say (5−1)²/1 + (5−9)²/9 = 17.8, p = 2.5e-5: a false alarm.)
    check = check_sample_ratio(5, 5, holdout_share=0.1)
    assert check.method is SrmMethod.BINOMIAL_EXACT
    assert check.p_value == pytest.approx(0.0016349374, rel=1e-8)
    assert check.p_value == pytest.approx(stats.binomtest(5, 10, 0.1).pvalue)
    assert check.statistic == pytest.approx(16 + 16 / 9)
    assert not check.srm


# --- the minimum detectable effect ------------------------------------------------------------------------------


def test_mde_closed_form_by_hand():
    # σ² = 0.25 (a 50 % retention rate), 100 per arm: (1.959964 + 0.841621) · sqrt(0.25/100 + 0.25/100)
    # = 2.801585 · 0.0707107 = 0.198101
    assert minimum_detectable_effect(0.25, 100, 100) == pytest.approx(0.198101, abs=1e-6)
    # 90 % power at 99 %: z 2.575829 + 1.281552 = 3.857381
    assert minimum_detectable_effect(0.25, 100, 100, confidence=0.99, power=0.9) == pytest.approx(
        3.857381 * math.sqrt(0.005), abs=1e-6
    )


def test_a_true_effect_equal_to_the_mde_is_detected_with_the_stated_power():
    rng = np.random.default_rng(11)
    n_t, n_h, sigma = 400, 100, 2.0
    mde = minimum_detectable_effect(sigma**2, n_t, n_h)
    detected = [
        difference_in_means(rng.normal(mde, sigma, n_t), rng.normal(0.0, sigma, n_h)).significant for _ in range(3000)
    ]
    # 80 % nominal; Welch's t quantile makes it a hair lower. Binomial sd of the rate over 3,000 runs: 0.0073.
    assert 0.77 <= np.mean(detected) <= 0.83


# --- coverage by simulation --------------------------------------------------------------------------------------

EXPERIMENTS, CUSTOMERS, HOLDOUT = 2000, 2000, 0.2


def _simulate(*, effect: float, pre_correlated: bool, seed: int) -> list[UpliftResult]:
    """Experiments on a company of two segments: engaged customers stay with p = 0.75, disengaged with 0.15 (half
    each); treatment adds ``effect`` to both, so the true effect is exactly ``effect``. ``pre`` is the share of
    the last 6 months a customer was active, drawn from their own retention rate (correlated with y:
    corr² ≈ 0.28), or from an unrelated Binomial(6, 0.45) draw."""
    rng = np.random.default_rng(seed)
    shape = (EXPERIMENTS, CUSTOMERS)
    p0 = np.where(rng.random(shape) < 0.5, 0.75, 0.15)
    treated = rng.random(shape) >= HOLDOUT
    y = (rng.random(shape) < p0 + effect * treated).astype(float)
    pre = rng.binomial(6, p0 if pre_correlated else np.full(shape, 0.45)) / 6.0
    arm = np.where(treated, "treatment", "holdout")
    return [
        measure_uplift(pd.DataFrame({"arm": arm[i], "y": y[i], "pre": pre[i]}), holdout_share=HOLDOUT)
        for i in range(EXPERIMENTS)
    ]


def _covers(estimate: EffectEstimate, truth: float) -> bool:
    return estimate.ci_low <= truth <= estimate.ci_high


@pytest.fixture(scope="module")
def with_effect() -> list[UpliftResult]:
    return _simulate(effect=0.05, pre_correlated=True, seed=20240901)


@pytest.fixture(scope="module")
def null_uncorrelated() -> list[UpliftResult]:
    return _simulate(effect=0.0, pre_correlated=False, seed=20240902)


def test_intervals_cover_a_known_effect_at_the_nominal_rate(with_effect):
    raw = np.mean([_covers(r.raw, 0.05) for r in with_effect])
    cuped = np.mean([_covers(r.cuped.estimate, 0.05) for r in with_effect])
    assert 0.93 <= raw <= 0.97, raw
    assert 0.93 <= cuped <= 0.97, cuped
    # both estimators are unbiased: mean estimate within a tenth of a standard error of the truth
    assert abs(np.mean([r.effect for r in with_effect]) - 0.05) < 0.1 * np.mean([r.raw.std_error for r in with_effect])
    assert abs(np.mean([r.cuped.estimate.effect for r in with_effect]) - 0.05) < 0.1 * np.mean(
        [r.cuped.estimate.std_error for r in with_effect]
    )


def test_cuped_narrows_the_interval_when_the_pre_period_predicts_the_outcome(with_effect):
    # corr(y, pre)² for this design: cov = var(p) = 0.09; var(y) = 0.45·0.55 = 0.2475;
    # var(pre) = E[p(1−p)]/6 + var(p) = 0.1575/6 + 0.09 = 0.11625 → 0.0081 / (0.2475 · 0.11625) = 0.2815
    # (pooled over arms the treatment shift changes it a little); half-width ≈ sqrt(1 − 0.28) = 0.85 of raw.
    reduction = np.mean([r.variance_reduction for r in with_effect])
    assert reduction == pytest.approx(0.28, abs=0.01)
    ratio = np.mean([r.cuped.estimate.half_width for r in with_effect]) / np.mean(
        [r.raw.half_width for r in with_effect]
    )
    assert ratio == pytest.approx(math.sqrt(1 - 0.2815), abs=0.01)
    assert all(r.cuped.width_ratio < 1 for r in with_effect)


def test_cuped_changes_nothing_when_the_pre_period_is_unrelated(null_uncorrelated):
    ratio = np.mean([r.cuped.estimate.half_width for r in null_uncorrelated]) / np.mean(
        [r.raw.half_width for r in null_uncorrelated]
    )
    assert abs(ratio - 1) < 0.01
    assert np.mean([r.variance_reduction for r in null_uncorrelated]) < 0.002  # E[corr²] ≈ 1/n = 0.0005


def test_a_null_effect_is_rarely_significant(null_uncorrelated):
    assert np.mean([r.significant for r in null_uncorrelated]) <= 0.06
    assert np.mean([r.cuped.estimate.significant for r in null_uncorrelated]) <= 0.06
    assert 0.93 <= np.mean([_covers(r.raw, 0.0) for r in null_uncorrelated]) <= 0.97


def test_fair_splits_pass_the_sample_ratio_check(with_effect, null_uncorrelated):
    flagged = sum(r.srm for r in [*with_effect, *null_uncorrelated])
    assert flagged <= 12  # 4,000 fair draws at α = 0.001: 4 expected, P(more than 12) < 1e-4


# --- sample-ratio mismatch over many seeds ----------------------------------------------------------------------


def test_a_fifty_fifty_split_configured_as_ninety_ten_is_flagged():
    rng = np.random.default_rng(5)
    for _ in range(200):
        held = int(rng.binomial(1000, 0.5))
        check = check_sample_ratio(1000 - held, held, holdout_share=0.1)
        assert check.srm and check.p_value < 1e-100


def test_fair_draws_are_flagged_at_about_the_nominal_rate():
    rng = np.random.default_rng(6)
    p_values = np.array(
        [check_sample_ratio(1000 - h, h, holdout_share=0.1).p_value for h in rng.binomial(1000, 0.1, size=20_000)]
    )
    assert np.mean(p_values < SRM_ALPHA) <= 0.002  # nominal 0.001; 20 flags expected, sd 4.5
    assert 0.045 <= np.mean(p_values < 0.05) <= 0.055  # and p-values are uniform at the usual level too


def test_measure_uplift_flags_an_arm_lost_from_the_data():
    rng = np.random.default_rng(8)
    arm = np.where(rng.random(5000) < 0.1, "holdout", "treatment")
    y = rng.random(5000) < 0.4
    keep = (arm == "treatment") | (rng.random(5000) < 0.7)  # 30 % of the holdout's rows went missing
    result = measure_uplift(pd.DataFrame({"arm": arm[keep], "y": y[keep]}), holdout_share=0.1)
    assert result.srm and result.to_dict()["srm"] is True
    assert "SAMPLE RATIO MISMATCH" in result.summary("Wake-up email")


# --- properties --------------------------------------------------------------------------------------------------

_values = st.lists(st.integers(-50, 50), min_size=2, max_size=25)


@settings(max_examples=150, deadline=None)
@given(treated=_values, held=_values, seed=st.integers(0, 2**32 - 1), share=st.floats(0.05, 0.95))
def test_swapping_arms_negates_the_effect_and_mirrors_the_interval(treated, held, seed, share):
    assume(len(set(treated)) > 1 or len(set(held)) > 1)
    pre = np.random.default_rng(seed).integers(0, 20, size=len(treated) + len(held)).tolist()
    frame = _frame([float(v) for v in treated], [float(v) for v in held], pre[: len(treated)], pre[len(treated) :])
    swapped = frame.assign(arm=frame["arm"].map({"treatment": "holdout", "holdout": "treatment"}))
    result = measure_uplift(frame, holdout_share=share)
    mirror = measure_uplift(swapped, holdout_share=1 - share)
    assert mirror.effect == pytest.approx(-result.effect, abs=1e-9)
    assert mirror.ci == pytest.approx((-result.ci[1], -result.ci[0]), abs=1e-9)
    assert mirror.mde == pytest.approx(result.mde)
    assert mirror.sample_ratio.p_value == pytest.approx(result.sample_ratio.p_value)
    if result.cuped is not None:
        assert mirror.cuped.estimate.effect == pytest.approx(-result.cuped.estimate.effect, abs=1e-9)
        assert mirror.cuped.estimate.ci_low == pytest.approx(-result.cuped.estimate.ci_high, abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(treated=_values, held=_values, shift=st.integers(-10_000, 10_000))
def test_adding_a_constant_to_the_outcome_leaves_the_effect_unchanged(treated, held, shift):
    assume(len(set(treated)) > 1 or len(set(held)) > 1)
    frame = _frame([float(v) for v in treated], [float(v) for v in held])
    result = measure_uplift(frame, holdout_share=0.3)
    moved = measure_uplift(frame.assign(y=frame["y"] + shift), holdout_share=0.3)
    assert moved.effect == pytest.approx(result.effect, abs=1e-7)
    assert moved.ci == pytest.approx(result.ci, abs=1e-7)
    assert moved.raw.p_value == pytest.approx(result.raw.p_value, abs=1e-7)


# --- edge cases --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("treated", "held", "expected"),
    [
        ([1, 0, 1], [], "the holdout arm has 0 customers"),
        ([1], [0, 1, 1], "the treatment arm has 1 customer;"),
        ([1, 1, 1], [1, 1], "does not vary within either arm"),
    ],
)
def test_not_enough_data_is_a_result_not_an_error(treated, held, expected):
    result = measure_uplift(_frame(treated, held), holdout_share=0.1)
    assert result.status is UpliftStatus.NOT_ENOUGH_DATA
    assert expected in result.reason
    assert result.raw is None and result.effect is None and not result.significant
    assert (result.treatment.customers, result.holdout.customers) == (len(treated), len(held))
    assert result.sample_ratio is not None  # the split is still checked
    assert result.summary("Birthday reward").startswith("Birthday reward: not enough data yet — ")
    json.dumps(result.to_dict(), allow_nan=False)


def test_an_empty_table_has_nothing_to_check():
    result = measure_uplift(pd.DataFrame({"arm": [], "y": []}), holdout_share=0.1)
    assert result.status is UpliftStatus.NOT_ENOUGH_DATA
    assert result.sample_ratio is None and not result.srm
    assert result.treatment == ArmStats(Arm.TREATMENT, 0, None, None)


@pytest.mark.parametrize("share", [0, 1, 1.5, -0.1, True, "0.1", float("nan")])
def test_holdout_share_outside_zero_one_is_refused(share):
    with pytest.raises(InputError, match="holdout_share must be a number strictly between 0 and 1"):
        measure_uplift(_frame([1, 0], [0, 1]), holdout_share=share)


@pytest.mark.parametrize(("option", "value"), [("confidence", 95), ("power", 0.0)])
def test_confidence_and_power_outside_zero_one_are_refused(option, value):
    with pytest.raises(InputError, match=f"{option} must be a number strictly between 0 and 1"):
        measure_uplift(_frame([1, 0], [0, 1]), holdout_share=0.1, **{option: value})


def test_unknown_arm_labels_are_listed_with_the_valid_ones():
    frame = pd.DataFrame({"arm": ["treatment", "control", "Holdout", None], "y": [1, 0, 1, 0]})
    with pytest.raises(
        InputError, match=r"3 value\(s\).*'control', 'Holdout', '<missing>'.*\['treatment', 'holdout'\]"
    ):
        measure_uplift(frame, holdout_share=0.1)


@pytest.mark.parametrize("column", ["y", "pre"])
def test_missing_outcomes_are_refused(column):
    frame = _frame([1.0, 0.0, 1.0], [0.0, 1.0], [1.0, 2.0, 3.0], [1.0, 2.0])
    frame.loc[3, column] = np.nan
    with pytest.raises(InputError, match=rf"{column} has 1 missing or infinite value\(s\) \(first at index 3\)"):
        measure_uplift(frame, holdout_share=0.1)


def test_text_outcomes_and_missing_columns_are_refused():
    with pytest.raises(InputError, match="y must be numeric"):
        measure_uplift(pd.DataFrame({"arm": ["treatment", "holdout"], "y": ["1", "0"]}), holdout_share=0.1)
    with pytest.raises(InputError, match=r"lacks column\(s\) \['y'\]"):
        measure_uplift(pd.DataFrame({"arm": ["treatment"], "outcome": [1]}), holdout_share=0.1)
    with pytest.raises(InputError, match="must be a pandas DataFrame"):
        measure_uplift({"arm": ["treatment"], "y": [1]}, holdout_share=0.1)


def test_nullable_and_boolean_outcomes_are_numbers():
    frame = pd.DataFrame({"arm": ["treatment"] * 3 + ["holdout"] * 2, "y": pd.array([1, 1, 0, 0, 1], dtype="Int64")})
    result = measure_uplift(frame, holdout_share=0.4)
    assert result.effect == pytest.approx(2 / 3 - 1 / 2)
    assert measure_uplift(frame.assign(y=frame["y"] == 1), holdout_share=0.4).effect == pytest.approx(1 / 6)


# --- what people read --------------------------------------------------------------------------------------------


def _result(*, kind: OutcomeKind, effect: float, low: float, high: float, width_ratio: float | None) -> UpliftResult:
    estimate = EffectEstimate(
        effect=effect, ci_low=low, ci_high=high, std_error=0.0, df=1.0, p_value=0.5, confidence=0.95, mde=0.0,
        relative_effect=None,
    )  # fmt: skip
    cuped = None if width_ratio is None else CupedAdjustment(0.5, 0.3, width_ratio, estimate)
    return UpliftResult(
        status=UpliftStatus.MEASURED, reason=None, outcome_kind=kind, holdout_share=0.1, confidence=0.95, power=0.8,
        treatment=ArmStats(Arm.TREATMENT, 1204, 0.4, 0.49), holdout=ArmStats(Arm.HOLDOUT, 131, 0.37, 0.48),
        raw=estimate, cuped=cuped, sample_ratio=check_sample_ratio(1204, 131, holdout_share=0.1),
    )  # fmt: skip


def test_summary_reads_like_the_brief():
    result = _result(kind=OutcomeKind.BINARY, effect=0.031, low=0.004, high=0.058, width_ratio=0.82)
    assert result.summary("Wake-up email", metric="retained") == (
        "Wake-up email: +3.1 pts retained (95 % CI +0.4 to +5.8), 1,204 treated vs 131 held out; CUPED −18 % width"
    )


def test_summary_of_a_numeric_metric_that_is_not_significant():
    result = _result(kind=OutcomeKind.NUMERIC, effect=12.5, low=-140.2, high=165.2, width_ratio=None)
    assert result.summary("Win-back", metric="revenue") == (
        "Win-back: +12 revenue per customer (95 % CI −140 to +165, not significant), 1,204 treated vs 131 held out"
    )


def test_to_dict_is_json_with_every_figure():
    result = measure_uplift(_frame([2, 6, 4], [1, 2], [1, 3, 2], [1, 3]), holdout_share=0.4)
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["status"] == "measured" and data["outcome_kind"] == "numeric"
    assert data["arms"]["treatment"] == {"arm": "treatment", "customers": 3, "mean": 4.0, "std": 2.0}
    assert data["effect"]["effect"] == pytest.approx(2.5)
    assert data["effect"]["half_width"] == pytest.approx(result.raw.half_width)
    assert data["cuped"]["theta"] == pytest.approx(1.25)
    assert data["cuped"]["variance_reduction"] == pytest.approx(25 / 64)
    assert data["sample_ratio"]["method"] == "binomial_exact"  # 5 customers: expected counts 3 and 2
    assert data["significant"] is result.significant and data["srm"] is False

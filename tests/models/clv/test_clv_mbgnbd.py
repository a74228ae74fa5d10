"""MBG/NBD: published CDNOW estimates, the likelihood optimum and predictions against an independent quadrature
reference, and P(alive) of one-time buyers.

Published values: lifetimes' test suite holds its ``ModifiedBetaGeoFitter`` on this CDNOW summary to r = 0.525,
α = 6.183, a = 0.891, b = 1.614 (three decimals), the estimates of BTYDplus (M. Platzer's R package,
``mbgnbd.EstimateParameters``) — CamDavidsonPilon/lifetimes, tests/test_estimation.py,
``TestModifiedBetaGammaFitter.test_params_out_is_close_to_BTYDplus``. No log-likelihood is published with them, so
the optimum itself is checked against the quadrature reference below: its gradient at our estimate is zero and its
Newton step from there is nil.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _mixing_quadrature import beta_expectation, gamma_moment

from retain.models.clv import BetaGeoModel, ModifiedBetaGeoModel

# --- Independent reference -------------------------------------------------------------------------------------
# Given (λ, p), a customer who drops out with probability p right after the first purchase and after each repeat
# purchase, and otherwise buys at rate λ, has the likelihood
#   (1−p)^(x+1) λ^x e^(−λT)           (survived all x + 1 draws, active at T)
#   + p (1−p)^x λ^x e^(−λ t_x)        (dropped out at the draw after the purchase at t_x; t_x = 0 when x = 0).
# λ is integrated out in closed form (A(s), the NBD Gamma integral shared with BG/NBD) and p numerically.


def alive_and_dropped_out(params, x, t_x, T):
    """The two terms of one customer's likelihood: active at T, and dropped out after the last purchase."""
    r, alpha, a, b = params
    a_T, a_tx = gamma_moment(r, alpha, x, T), gamma_moment(r, alpha, x, t_x)
    alive = beta_expectation(lambda p: (1 - p) ** (x + 1) * a_T, a, b)
    dead = beta_expectation(lambda p: p * (1 - p) ** x * a_tx, a, b)
    return alive, dead


def reference_mbgnbd(params, x, t_x, T, t):
    """Log-likelihood, P(alive), E[purchases in (T, T+t]] and the same given alive for one customer."""
    r, alpha, a, b = params
    alive, dead = alive_and_dropped_out(params, x, t_x, T)
    a_T = gamma_moment(r, alpha, x, T)

    # Active at T, a customer makes (1/p)(1 − e^(−λpt)) purchases in expectation over the next t; with λ integrated
    # that is (A(T) − A(T + pt)) / p, whose limit at p = 0 is (r + x) t A(T) / (α + T).
    def future_integrand(p):
        if p == 0:
            return (r + x) * t * a_T / (alpha + T)
        return (1 - p) ** (x + 1) * (a_T - gamma_moment(r, alpha, x, T + p * t)) / p

    future = beta_expectation(future_integrand, a, b)
    likelihood = alive + dead
    return np.log(likelihood), alive / likelihood, future / likelihood, future / alive


def reference_total_log_likelihood(params, summary: pd.DataFrame) -> float:
    """Σ log L over the customers (identical histories computed once)."""
    rows = summary.groupby(["x", "t_x", "T"]).size().reset_index(name="n")
    terms = (n * np.log(sum(alive_and_dropped_out(params, x, t_x, T))) for x, t_x, T, n in rows.itertuples(index=False))
    return float(sum(terms))


# --- Published values -------------------------------------------------------------------------------------------


def test_cdnow_parameters_match_published(cdnow_mbg: ModifiedBetaGeoModel) -> None:
    assert (round(cdnow_mbg.r_, 3), round(cdnow_mbg.alpha_, 3), round(cdnow_mbg.a_, 3), round(cdnow_mbg.b_, 3)) == (
        0.525,
        6.183,
        0.891,
        1.614,
    )
    assert cdnow_mbg.n_customers_ == 2357
    assert cdnow_mbg.converged_


def test_cdnow_log_likelihood_and_optimum_match_the_reference(cdnow_mbg: ModifiedBetaGeoModel, cdnow_summary) -> None:
    data = cdnow_summary[["x", "t_x", "T"]]
    log_params = np.log([cdnow_mbg.r_, cdnow_mbg.alpha_, cdnow_mbg.a_, cdnow_mbg.b_])

    def ref(theta):
        return reference_total_log_likelihood(np.exp(theta), data)

    at_fit = ref(log_params)
    assert at_fit == pytest.approx(cdnow_mbg.log_likelihood_, abs=1e-6)
    assert at_fit == pytest.approx(-9582.1327, abs=1e-4)  # the value this fit reaches, for the record

    # Central differences of the reference in log parameters: gradient g and Hessian H, then the Newton step
    # −H⁻¹g to the reference's own maximum. h = 1e-3 keeps the quadrature's rounding (~1e-12 relative) far below
    # the differences.
    h = 1e-3
    steps = np.eye(4) * h
    grad = np.array([(ref(log_params + e) - ref(log_params - e)) / (2 * h) for e in steps])
    hess = np.empty((4, 4))
    for i in range(4):
        for j in range(i, 4):
            ei, ej = steps[i], steps[j]
            if i == j:
                hess[i, i] = (ref(log_params + ei) - 2 * at_fit + ref(log_params - ei)) / h**2
            else:
                cross = ref(log_params + ei + ej) - ref(log_params + ei - ej)
                cross -= ref(log_params - ei + ej) - ref(log_params - ei - ej)
                hess[i, j] = hess[j, i] = cross / (4 * h * h)
    assert np.all(np.linalg.eigvalsh(hess) < 0)  # a maximum, not a saddle
    newton = -np.linalg.solve(hess, grad)
    # The reference's maximum is within 1e-5 (relative) of each estimate and no more than 1e-8 higher.
    assert np.max(np.abs(newton)) < 1e-5
    assert -0.5 * grad @ newton < 1e-8


@pytest.mark.parametrize(
    ("x", "t_x", "T", "t"),
    [
        (0, 0.0, 38.86, 39.0),
        (0, 0.0, 1.0, 10.0),
        (1, 1.71, 38.86, 39.0),
        (2, 30.43, 38.86, 39.0),
        (7, 29.43, 32.71, 10.0),
        (3, 5.0, 35.0, 52.0),
    ],
)
def test_matches_quadrature_reference(cdnow_mbg: ModifiedBetaGeoModel, x, t_x, T, t) -> None:
    ll, p_alive, expected, expected_if_alive = reference_mbgnbd(tuple(cdnow_mbg.params_.values()), x, t_x, T, t)
    assert cdnow_mbg.log_likelihood(x, t_x, T)[()] == pytest.approx(ll, rel=1e-9)
    assert cdnow_mbg.probability_alive(x, t_x, T)[()] == pytest.approx(p_alive, rel=1e-9)
    assert cdnow_mbg.expected_purchases(t, x, t_x, T)[()] == pytest.approx(expected, rel=1e-7)
    assert cdnow_mbg.expected_purchases_if_alive(t, x, t_x, T)[()] == pytest.approx(expected_if_alive, rel=1e-7)


@pytest.mark.parametrize("t", [1.0, 39.0, 78.0, 520.0])
def test_expected_purchases_new_matches_quadrature(cdnow_mbg: ModifiedBetaGeoModel, t: float) -> None:
    # A new customer survives the draw at the first purchase with probability 1 − p, then makes (1/p)(1 − e^{−λpt})
    # repeat purchases in expectation; λ integrated in closed form.
    r, alpha, a, b = cdnow_mbg.params_.values()

    def integrand(p):
        return (1 - p) * (1 - (alpha / (alpha + p * t)) ** r) / p if p > 0 else r * t / alpha

    assert cdnow_mbg.expected_purchases_new(t)[()] == pytest.approx(beta_expectation(integrand, a, b), rel=1e-7)


# --- One-time buyers ---------------------------------------------------------------------------------------------


def test_one_time_buyers_may_have_dropped_out(cdnow_mbg: ModifiedBetaGeoModel, cdnow_bg: BetaGeoModel) -> None:
    T = np.array([0.0, 1.0, 5.0, 13.0, 26.0, 38.86, 104.0])
    p_alive = cdnow_mbg.probability_alive(np.zeros_like(T), np.zeros_like(T), T)
    assert np.all(p_alive < 1.0)
    assert np.all(np.diff(p_alive) < 0)  # the longer since the one purchase, the likelier gone
    # Right after the first purchase nothing has been observed yet: the chance of surviving that draw, E[1 − p].
    assert p_alive[0] == pytest.approx(cdnow_mbg.b_ / (cdnow_mbg.a_ + cdnow_mbg.b_), rel=1e-12)
    # BG/NBD on the same customers cannot tell them apart.
    np.testing.assert_array_equal(cdnow_bg.probability_alive(np.zeros_like(T), np.zeros_like(T), T), 1.0)

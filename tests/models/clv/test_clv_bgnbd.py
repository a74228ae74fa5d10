"""BG/NBD: published CDNOW values and an independent quadrature reference.

What BG/NBD shares with MBG/NBD (weights, starting points, time units, input errors, the scikit-learn protocol) is
tested for both in test_clv_purchase_models.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from _mixing_quadrature import beta_expectation, gamma_moment

from retain.models.clv import BetaGeoModel


def sig3(value: float) -> float:
    """Round to 3 significant figures, as the published values are."""
    return float(f"{value:.3g}")


# --- Published values: Fader, Hardie & Lee (2005), CDNOW, 39-week calibration -------------------------------


def test_cdnow_parameters_match_fhl_2005(cdnow_bg: BetaGeoModel) -> None:
    assert (sig3(cdnow_bg.r_), sig3(cdnow_bg.alpha_), sig3(cdnow_bg.a_), sig3(cdnow_bg.b_)) == (
        0.243,
        4.41,
        0.793,
        2.43,
    )
    # The paper gives 4 decimals for α and b: hold them to that too.
    assert cdnow_bg.alpha_ == pytest.approx(4.414, abs=5e-4)
    assert cdnow_bg.b_ == pytest.approx(2.426, abs=5e-4)
    assert cdnow_bg.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)
    assert cdnow_bg.n_customers_ == 2357
    assert cdnow_bg.converged_


def test_cdnow_conditional_expectation_matches_fhl_2005(cdnow_bg: BetaGeoModel) -> None:
    # FHL 2005: customer with x=2, t_x=30.43, T=38.86 is expected to make 1.226 purchases in the next 39 weeks.
    assert cdnow_bg.expected_purchases(39, 2, 30.43, 38.86) == pytest.approx(1.226, abs=5e-4)


# --- Independent reference: integrate over the dropout probability p numerically ------------------------------
# For a customer with rate λ and dropout probability p, FHL 2005 eq. 3 gives the likelihood; integrating λ out
# against Gamma(r, α) in closed form leaves A(s) = Γ(r+x) α^r / (Γ(r) (α+s)^(r+x)) = ∫ λ^x e^{-λ s} g(λ) dλ,
# and the p integral is done here by quadrature against Beta(a, b) (weight='alg' handles p^(a−1) at 0).
# This uses neither the beta-function closed form (eq. 6) nor the hypergeometric function (eq. 10).


def reference_bgnbd(params, x, t_x, T, t):
    """Log-likelihood, P(alive), E[purchases in (T, T+t]] and the same given alive for one customer, by quadrature."""
    r, alpha, a, b = params
    a_T = gamma_moment(r, alpha, x, T)
    a_tx = gamma_moment(r, alpha, x, t_x)

    alive = beta_expectation(lambda p: (1 - p) ** x * a_T, a, b)
    dead = beta_expectation(lambda p: p * (1 - p) ** (x - 1) * a_tx, a, b) if x > 0 else 0.0

    # Alive at T, an active customer makes (1/p)(1 − e^{−λpt}) purchases in expectation over the next t; at p = 0
    # (where quadrature may evaluate) the integrand's limit is (r + x) t A(T) / (α + T).
    def future_integrand(p):
        if p == 0:
            return (r + x) * t * a_T / (alpha + T)
        return (1 - p) ** x * (a_T - gamma_moment(r, alpha, x, T + p * t)) / p

    future = beta_expectation(future_integrand, a, b)
    likelihood = alive + dead
    return np.log(likelihood), alive / likelihood, future / likelihood, future / alive


@pytest.mark.parametrize(
    ("x", "t_x", "T", "t"),
    [
        (0, 0.0, 38.86, 39.0),
        (1, 1.71, 38.86, 39.0),
        (2, 30.43, 38.86, 39.0),
        (7, 29.43, 32.71, 10.0),
        (3, 5.0, 35.0, 52.0),
    ],
)
def test_matches_quadrature_reference(cdnow_bg: BetaGeoModel, x, t_x, T, t) -> None:
    params = (cdnow_bg.r_, cdnow_bg.alpha_, cdnow_bg.a_, cdnow_bg.b_)
    ll, p_alive, expected, expected_if_alive = reference_bgnbd(params, x, t_x, T, t)
    assert cdnow_bg.log_likelihood(x, t_x, T)[()] == pytest.approx(ll, rel=1e-9)
    assert cdnow_bg.probability_alive(x, t_x, T)[()] == pytest.approx(p_alive, rel=1e-9)
    assert cdnow_bg.expected_purchases(t, x, t_x, T)[()] == pytest.approx(expected, rel=1e-7)
    assert cdnow_bg.expected_purchases_if_alive(t, x, t_x, T)[()] == pytest.approx(expected_if_alive, rel=1e-7)


def test_probability_alive_is_one_without_repeat_purchase(cdnow_bg: BetaGeoModel) -> None:
    np.testing.assert_array_equal(cdnow_bg.probability_alive([0, 0], [0, 0], [1.0, 38.86]), [1.0, 1.0])


@pytest.mark.parametrize("t", [1.0, 39.0, 78.0, 520.0])
def test_expected_purchases_new_matches_quadrature(cdnow_bg: BetaGeoModel, t: float) -> None:
    # E[X(t) | λ, p] = (1/p)(1 − e^{−λpt}) (FHL 2005 eq. 7 before mixing); λ integrated in closed form.
    r, alpha, a, b = cdnow_bg.r_, cdnow_bg.alpha_, cdnow_bg.a_, cdnow_bg.b_
    expected = beta_expectation(lambda p: (1 - (alpha / (alpha + p * t)) ** r) / p if p > 0 else r * t / alpha, a, b)
    assert cdnow_bg.expected_purchases_new(t)[()] == pytest.approx(expected, rel=1e-7)


def test_expected_purchases_broadcast_over_horizons(cdnow_bg: BetaGeoModel) -> None:
    horizons = np.array([[0.0], [39.0]])
    out = cdnow_bg.expected_purchases(horizons, [2, 0], [30.43, 0.0], [38.86, 38.86])
    assert out.shape == (2, 2)
    np.testing.assert_array_equal(out[0], [0.0, 0.0])
    assert out[1, 0] == pytest.approx(1.226, abs=5e-4)

"""BG/NBD: published CDNOW values, an independent quadrature reference, weights and input errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate
from scipy.special import gammaln

from retain.errors import InputError, NotFittedError, RetainWarning
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


def test_cdnow_log_likelihood_is_the_sum_of_per_customer_terms(cdnow_bg: BetaGeoModel, cdnow_summary) -> None:
    per_customer = cdnow_bg.log_likelihood(cdnow_summary["x"], cdnow_summary["t_x"], cdnow_summary["T"])
    assert per_customer.sum() == pytest.approx(cdnow_bg.log_likelihood_, rel=1e-12)


def test_fit_is_the_maximum_from_other_starting_points(cdnow_summary) -> None:
    data = cdnow_summary[["x", "t_x", "T"]]
    reference = BetaGeoModel().fit(data)
    for start in ({"r": 2.0, "alpha": 20.0, "a": 3.0, "b": 0.5}, {"r": 0.05, "alpha": 0.5, "a": 0.2, "b": 10.0}):
        other = BetaGeoModel(initial_params=start).fit(data)
        assert other.log_likelihood_ == pytest.approx(reference.log_likelihood_, abs=1e-6)
        np.testing.assert_allclose(list(other.params_.values()), list(reference.params_.values()), rtol=1e-4)


def test_time_unit_only_rescales_alpha(cdnow_summary) -> None:
    # λ is a rate per time unit, so measuring in days instead of weeks divides it by 7: α×7, r, a, b unchanged.
    days = cdnow_summary[["x", "t_x", "T"]].assign(t_x=lambda d: d["t_x"] * 7, T=lambda d: d["T"] * 7)
    weeks = BetaGeoModel().fit(cdnow_summary[["x", "t_x", "T"]])
    in_days = BetaGeoModel().fit(days)
    assert in_days.alpha_ == pytest.approx(7 * weeks.alpha_, rel=1e-4)
    for name in ("r_", "a_", "b_"):
        assert getattr(in_days, name) == pytest.approx(getattr(weeks, name), rel=1e-4)


# --- Independent reference: integrate over the dropout probability p numerically ------------------------------
# For a customer with rate λ and dropout probability p, FHL 2005 eq. 3 gives the likelihood; integrating λ out
# against Gamma(r, α) in closed form leaves A(s) = Γ(r+x) α^r / (Γ(r) (α+s)^(r+x)) = ∫ λ^x e^{-λ s} g(λ) dλ,
# and the p integral is done here by quadrature against Beta(a, b) (weight='alg' handles p^(a−1) at 0).
# This uses neither the beta-function closed form (eq. 6) nor the hypergeometric function (eq. 10).


def _gamma_moment(r, alpha, x, s):
    return np.exp(gammaln(r + x) - gammaln(r) + r * np.log(alpha) - (r + x) * np.log(alpha + s))


def _beta_expect(func, a, b):
    """E[func(p)] for p ~ Beta(a, b), by quadrature."""
    norm = np.exp(gammaln(a) + gammaln(b) - gammaln(a + b))
    value, _ = integrate.quad(func, 0.0, 1.0, weight="alg", wvar=(a - 1.0, b - 1.0), limit=200)
    return value / norm


def reference_bgnbd(params, x, t_x, T, t):
    """Likelihood, P(alive) and E[purchases in (T, T+t]] for one customer, by quadrature."""
    r, alpha, a, b = params
    a_T = _gamma_moment(r, alpha, x, T)
    a_tx = _gamma_moment(r, alpha, x, t_x)

    alive = _beta_expect(lambda p: (1 - p) ** x * a_T, a, b)
    dead = _beta_expect(lambda p: p * (1 - p) ** (x - 1) * a_tx, a, b) if x > 0 else 0.0

    # Alive at T, an active customer makes (1/p)(1 − e^{−λpt}) purchases in expectation over the next t; at p = 0
    # (where quadrature may evaluate) the integrand's limit is (r + x) t A(T) / (α + T).
    def future_integrand(p):
        if p == 0:
            return (r + x) * t * a_T / (alpha + T)
        return (1 - p) ** x * (a_T - _gamma_moment(r, alpha, x, T + p * t)) / p

    future = _beta_expect(future_integrand, a, b)
    likelihood = alive + dead
    return np.log(likelihood), alive / likelihood, future / likelihood


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
    ll, p_alive, expected = reference_bgnbd(params, x, t_x, T, t)
    assert cdnow_bg.log_likelihood(x, t_x, T)[()] == pytest.approx(ll, rel=1e-9)
    assert cdnow_bg.probability_alive(x, t_x, T)[()] == pytest.approx(p_alive, rel=1e-9)
    assert cdnow_bg.expected_purchases(t, x, t_x, T)[()] == pytest.approx(expected, rel=1e-7)


def test_probability_alive_is_one_without_repeat_purchase(cdnow_bg: BetaGeoModel) -> None:
    np.testing.assert_array_equal(cdnow_bg.probability_alive([0, 0], [0, 0], [1.0, 38.86]), [1.0, 1.0])


@pytest.mark.parametrize("t", [1.0, 39.0, 78.0, 520.0])
def test_expected_purchases_new_matches_quadrature(cdnow_bg: BetaGeoModel, t: float) -> None:
    # E[X(t) | λ, p] = (1/p)(1 − e^{−λpt}) (FHL 2005 eq. 7 before mixing); λ integrated in closed form.
    r, alpha, a, b = cdnow_bg.r_, cdnow_bg.alpha_, cdnow_bg.a_, cdnow_bg.b_
    expected = _beta_expect(lambda p: (1 - (alpha / (alpha + p * t)) ** r) / p if p > 0 else r * t / alpha, a, b)
    assert cdnow_bg.expected_purchases_new(t)[()] == pytest.approx(expected, rel=1e-7)


def test_expected_purchases_broadcast_over_horizons(cdnow_bg: BetaGeoModel) -> None:
    horizons = np.array([[0.0], [39.0]])
    out = cdnow_bg.expected_purchases(horizons, [2, 0], [30.43, 0.0], [38.86, 38.86])
    assert out.shape == (2, 2)
    np.testing.assert_array_equal(out[0], [0.0, 0.0])
    assert out[1, 0] == pytest.approx(1.226, abs=5e-4)


# --- Weights -------------------------------------------------------------------------------------------------


def test_weights_equal_repeated_rows(cdnow_summary) -> None:
    grouped = cdnow_summary.groupby(["x", "t_x", "T"]).size().rename("n").reset_index()
    assert len(grouped) < len(cdnow_summary)
    by_weight = BetaGeoModel().fit(grouped[["x", "t_x", "T"]], weights=grouped["n"])
    by_row = BetaGeoModel().fit(cdnow_summary[["x", "t_x", "T"]])
    assert by_weight.n_customers_ == 2357
    assert by_weight.log_likelihood_ == pytest.approx(by_row.log_likelihood_, abs=1e-8)
    np.testing.assert_allclose(list(by_weight.params_.values()), list(by_row.params_.values()), rtol=1e-6)


def test_accepts_arrays_and_lifetimes_column_names(cdnow_summary, cdnow_bg: BetaGeoModel) -> None:
    as_array = BetaGeoModel().fit(cdnow_summary[["x", "t_x", "T"]].to_numpy())
    lifetimes_names = BetaGeoModel().fit(cdnow_summary.rename(columns={"x": "frequency", "t_x": "recency"}))
    for model in (as_array, lifetimes_names):
        assert model.log_likelihood_ == pytest.approx(cdnow_bg.log_likelihood_, abs=1e-8)


def test_penalizer_shrinks_parameters(cdnow_summary, cdnow_bg: BetaGeoModel) -> None:
    penalized = BetaGeoModel(penalizer=0.1).fit(cdnow_summary[["x", "t_x", "T"]])
    squared = lambda m: sum(v**2 for v in m.params_.values())  # noqa: E731
    assert squared(penalized) < squared(cdnow_bg)
    assert penalized.log_likelihood_ < cdnow_bg.log_likelihood_


def test_follows_the_scikit_learn_parameter_protocol() -> None:
    clone = pytest.importorskip("sklearn.base").clone
    model = BetaGeoModel(penalizer=0.01, max_iter=50)
    assert model.get_params() == {"penalizer": 0.01, "initial_params": None, "tol": 1e-8, "max_iter": 50}
    assert clone(model).get_params() == model.get_params()
    assert repr(model) == "BetaGeoModel(max_iter=50, penalizer=0.01)"
    assert model.set_params(tol=1e-6).tol == 1e-6
    with pytest.raises(InputError, match="no parameter 'alpha'"):
        model.set_params(alpha=3.0)
    with pytest.raises(TypeError):
        BetaGeoModel(0.01)  # type: ignore[misc]


# --- Errors --------------------------------------------------------------------------------------------------


def test_warns_when_not_converged(cdnow_summary) -> None:
    with pytest.warns(RetainWarning, match="did not converge"):
        model = BetaGeoModel(max_iter=2).fit(cdnow_summary[["x", "t_x", "T"]])
    assert not model.converged_
    assert model.n_iter_ <= 2


def test_not_fitted() -> None:
    model = BetaGeoModel()
    for call in (
        lambda: model.probability_alive(1, 1.0, 2.0),
        lambda: model.expected_purchases(1.0, 1, 1.0, 2.0),
        lambda: model.expected_purchases_new(1.0),
    ):
        with pytest.raises(NotFittedError, match="not fitted"):
            call()


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ((-1, 0.0, 5.0), "negative"),
        ((1, -1.0, 5.0), "negative"),
        ((1, 6.0, 5.0), "exceeds T"),
        ((0, 2.0, 5.0), "x=0"),
        ((np.nan, 0.0, 5.0), "missing"),
        ((1.5, 1.0, 5.0), "whole numbers"),
    ],
)
def test_invalid_rows_are_rejected(row, message) -> None:
    data = pd.DataFrame([(2, 3.0, 10.0), row], columns=["x", "t_x", "T"])
    with pytest.raises(InputError, match=message):
        BetaGeoModel().fit(data)


def test_missing_column_and_bad_weights_are_rejected() -> None:
    with pytest.raises(InputError, match="column 'T' is missing"):
        BetaGeoModel().fit(pd.DataFrame({"x": [1], "t_x": [1.0]}))
    with pytest.raises(InputError, match="one value per row"):
        BetaGeoModel().fit(np.array([[1, 1.0, 2.0]]), weights=[1, 2])
    with pytest.raises(InputError, match="initial_params"):
        BetaGeoModel(initial_params={"r": 1.0}).fit(np.array([[1, 1.0, 2.0], [0, 0.0, 3.0]]))

"""What BG/NBD and MBG/NBD share: the estimator contract, weights, starting points, time units and input errors.

Each test runs for both models; their published values and quadrature references are in test_clv_bgnbd.py and
test_clv_mbgnbd.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retain.errors import InputError, NotFittedError, RetainWarning
from retain.models.clv import BetaGeoModel, ModifiedBetaGeoModel

MODELS = [BetaGeoModel, ModifiedBetaGeoModel]
both_models = pytest.mark.parametrize("model_class", MODELS, ids=["bgnbd", "mbgnbd"])


@pytest.fixture(scope="module", params=MODELS, ids=["bgnbd", "mbgnbd"])
def fitted(request, cdnow_summary):
    return request.param().fit(cdnow_summary[["x", "t_x", "T"]])


def test_cdnow_log_likelihood_is_the_sum_of_per_customer_terms(fitted, cdnow_summary) -> None:
    per_customer = fitted.log_likelihood(cdnow_summary["x"], cdnow_summary["t_x"], cdnow_summary["T"])
    assert per_customer.sum() == pytest.approx(fitted.log_likelihood_, rel=1e-12)
    assert fitted.n_customers_ == 2357
    assert fitted.converged_


@both_models
def test_fit_is_the_maximum_from_other_starting_points(model_class, cdnow_summary) -> None:
    data = cdnow_summary[["x", "t_x", "T"]]
    reference = model_class().fit(data)
    for start in ({"r": 2.0, "alpha": 20.0, "a": 3.0, "b": 0.5}, {"r": 0.05, "alpha": 0.5, "a": 0.2, "b": 10.0}):
        other = model_class(initial_params=start).fit(data)
        assert other.log_likelihood_ == pytest.approx(reference.log_likelihood_, abs=1e-6)
        np.testing.assert_allclose(list(other.params_.values()), list(reference.params_.values()), rtol=1e-4)


@both_models
def test_time_unit_only_rescales_alpha(model_class, cdnow_summary) -> None:
    # λ is a rate per time unit, so measuring in days instead of weeks divides it by 7: α×7, r, a, b unchanged.
    days = cdnow_summary[["x", "t_x", "T"]].assign(t_x=lambda d: d["t_x"] * 7, T=lambda d: d["T"] * 7)
    weeks = model_class().fit(cdnow_summary[["x", "t_x", "T"]])
    in_days = model_class().fit(days)
    assert in_days.alpha_ == pytest.approx(7 * weeks.alpha_, rel=1e-4)
    for name in ("r_", "a_", "b_"):
        assert getattr(in_days, name) == pytest.approx(getattr(weeks, name), rel=1e-4)


def test_expected_purchases_is_p_alive_times_purchases_if_alive(fitted) -> None:
    x, t_x, T = np.array([0, 1, 2, 7]), np.array([0.0, 1.71, 30.43, 29.43]), np.array([38.86, 38.86, 38.86, 32.71])
    p_alive = fitted.probability_alive(x, t_x, T)
    if_alive = fitted.expected_purchases_if_alive(39.0, x, t_x, T)
    expected = fitted.expected_purchases(39.0, x, t_x, T)
    np.testing.assert_allclose(expected, p_alive * if_alive, rtol=1e-12)
    assert np.all(if_alive[x > 0] > expected[x > 0])  # a customer with repeat purchases may have dropped out


def test_new_customer_is_the_history_with_no_information(fitted) -> None:
    # E[X(t)] of a customer just acquired is the conditional expectation given x = t_x = T = 0.
    t = np.array([1.0, 39.0, 78.0])
    np.testing.assert_allclose(fitted.expected_purchases_new(t), fitted.expected_purchases(t, 0, 0.0, 0.0), rtol=1e-12)


def test_expected_purchases_broadcast_over_horizons(fitted) -> None:
    horizons = np.array([[0.0], [13.0], [39.0]])
    out = fitted.expected_purchases(horizons, [2, 0], [30.43, 0.0], [38.86, 38.86])
    assert out.shape == (3, 2)
    np.testing.assert_array_equal(out[0], [0.0, 0.0])
    for j, (x, t_x) in enumerate([(2, 30.43), (0, 0.0)]):
        assert out[2, j] == pytest.approx(fitted.expected_purchases(39.0, x, t_x, 38.86)[()], rel=1e-12)
    assert np.all(out[2] > out[1])


# --- Weights and inputs ---------------------------------------------------------------------------------------


@both_models
def test_weights_equal_repeated_rows(model_class, cdnow_summary) -> None:
    grouped = cdnow_summary.groupby(["x", "t_x", "T"]).size().rename("n").reset_index()
    assert len(grouped) < len(cdnow_summary)
    by_weight = model_class().fit(grouped[["x", "t_x", "T"]], weights=grouped["n"])
    by_row = model_class().fit(cdnow_summary[["x", "t_x", "T"]])
    assert by_weight.n_customers_ == 2357
    assert by_weight.log_likelihood_ == pytest.approx(by_row.log_likelihood_, abs=1e-8)
    np.testing.assert_allclose(list(by_weight.params_.values()), list(by_row.params_.values()), rtol=1e-6)


@both_models
def test_accepts_arrays_and_lifetimes_column_names(model_class, cdnow_summary) -> None:
    by_name = model_class().fit(cdnow_summary[["x", "t_x", "T"]])
    as_array = model_class().fit(cdnow_summary[["x", "t_x", "T"]].to_numpy())
    lifetimes_names = model_class().fit(cdnow_summary.rename(columns={"x": "frequency", "t_x": "recency"}))
    for model in (as_array, lifetimes_names):
        assert model.log_likelihood_ == pytest.approx(by_name.log_likelihood_, abs=1e-8)


@both_models
def test_penalizer_shrinks_parameters(model_class, cdnow_summary) -> None:
    plain = model_class().fit(cdnow_summary[["x", "t_x", "T"]])
    penalized = model_class(penalizer=0.1).fit(cdnow_summary[["x", "t_x", "T"]])
    squared = lambda m: sum(v**2 for v in m.params_.values())  # noqa: E731
    assert squared(penalized) < squared(plain)
    assert penalized.log_likelihood_ < plain.log_likelihood_


@both_models
def test_follows_the_scikit_learn_parameter_protocol(model_class) -> None:
    clone = pytest.importorskip("sklearn.base").clone
    model = model_class(penalizer=0.01, max_iter=50)
    assert model.get_params() == {"penalizer": 0.01, "initial_params": None, "tol": 1e-8, "max_iter": 50}
    assert clone(model).get_params() == model.get_params()
    assert repr(model) == f"{model_class.__name__}(max_iter=50, penalizer=0.01)"
    assert model.set_params(tol=1e-6).tol == 1e-6
    with pytest.raises(InputError, match="no parameter 'alpha'"):
        model.set_params(alpha=3.0)
    with pytest.raises(TypeError):
        model_class(0.01)  # type: ignore[misc]


# --- Errors --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("model_class", "name"), [(BetaGeoModel, "BG/NBD"), (ModifiedBetaGeoModel, "MBG/NBD")])
def test_warns_when_not_converged(model_class, name, cdnow_summary) -> None:
    with pytest.warns(RetainWarning, match=f"^{name} maximum likelihood did not converge"):
        model = model_class(max_iter=2).fit(cdnow_summary[["x", "t_x", "T"]])
    assert not model.converged_
    assert model.n_iter_ <= 2


@both_models
def test_not_fitted(model_class) -> None:
    model = model_class()
    for call in (
        lambda: model.probability_alive(1, 1.0, 2.0),
        lambda: model.expected_purchases(1.0, 1, 1.0, 2.0),
        lambda: model.expected_purchases_if_alive(1.0, 1, 1.0, 2.0),
        lambda: model.expected_purchases_new(1.0),
        lambda: model.log_likelihood(1, 1.0, 2.0),
    ):
        with pytest.raises(NotFittedError, match=f"this {model_class.__name__} is not fitted"):
            call()


@both_models
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
def test_invalid_rows_are_rejected(model_class, row, message) -> None:
    data = pd.DataFrame([(2, 3.0, 10.0), row], columns=["x", "t_x", "T"])
    with pytest.raises(InputError, match=message):
        model_class().fit(data)


@both_models
def test_missing_column_bad_weights_and_bad_horizon_are_rejected(model_class, cdnow_summary) -> None:
    with pytest.raises(InputError, match="column 'T' is missing"):
        model_class().fit(pd.DataFrame({"x": [1], "t_x": [1.0]}))
    with pytest.raises(InputError, match="one value per row"):
        model_class().fit(np.array([[1, 1.0, 2.0]]), weights=[1, 2])
    with pytest.raises(InputError, match="initial_params"):
        model_class(initial_params={"r": 1.0}).fit(np.array([[1, 1.0, 2.0], [0, 0.0, 3.0]]))
    model = model_class().fit(cdnow_summary[["x", "t_x", "T"]])
    with pytest.raises(InputError, match="prediction horizon"):
        model.expected_purchases(-1.0, 1, 1.0, 2.0)

"""What BG/NBD and MBG/NBD share: Gamma-Poisson purchasing, Beta-geometric dropout at purchase occasions.

While active, a customer buys as a Poisson process with rate λ ~ Gamma(shape r, rate α); at certain purchase
occasions the customer drops out for good with probability p ~ Beta(a, b). The two models differ only in which
occasions: BG/NBD (Fader, Hardie & Lee 2005) draws after each *repeat* purchase, MBG/NBD (Batislam, Denizel &
Filiztekin 2007) also right after the first purchase. So a customer who is still active at T after x repeat
purchases has survived

    k = x      dropout draws under BG/NBD,
    k = x + 1  under MBG/NBD,

and every formula of both papers is the same expression in k (written out in :func:`_loglik_rows`,
:func:`_probability_alive` and :func:`_expected_purchases`; each model's docstring gives its own form). The data
per customer are ``x`` (repeat purchases), ``t_x`` (time of the last purchase, from the first) and ``T`` (time from
the first purchase to the end of observation), in one time unit.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np
from scipy.special import betaln, expit, gammaln, hyp2f1, psi

from retain.errors import InputError
from retain.models.clv._mle import initial_log_params, maximize_log_likelihood
from retain.models.clv._params import ParamsMixin
from retain.models.clv._validation import as_columns, as_float_array, check_fitted, check_rft, check_weights

__all__ = ["BetaGeoFamilyModel"]

_PARAM_NAMES = ("r", "alpha", "a", "b")
# Accept the column names lifetimes uses, so its summaries fit as they are.
_ALIASES = {"x": "frequency", "t_x": "recency"}


class BetaGeoFamilyModel(ParamsMixin):
    """Maximum-likelihood estimator shared by :class:`BetaGeoModel` and :class:`ModifiedBetaGeoModel`.

    Subclasses set ``_dropout_at_first_purchase`` (whether a dropout draw follows the first purchase, i.e. k = x + 1
    instead of x) and ``_model_name`` (used in messages), and document their parameters and formulas.
    """

    _dropout_at_first_purchase: ClassVar[bool]
    _model_name: ClassVar[str]

    def __init__(
        self,
        *,
        penalizer: float = 0.0,
        initial_params: dict[str, float] | None = None,
        tol: float = 1e-8,
        max_iter: int = 1000,
    ) -> None:
        self.penalizer = penalizer
        self.initial_params = initial_params
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, X: Any, y: None = None, *, weights: Any = None) -> Self:
        """Fit the model to one row per customer (or per group of identical customers).

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n, 3)
            Columns ``x`` (repeat purchases), ``t_x`` (recency) and ``T`` (age), in one time unit; a DataFrame
            may also use lifetimes' names ``frequency`` and ``recency``.
        y : None
            Ignored; present for scikit-learn compatibility.
        weights : array-like of shape (n,), optional
            How many customers each row stands for (e.g. counts from a grouped summary).

        Returns
        -------
        self
            The fitted model.
        """
        x, t_x, T = check_rft(*as_columns(X, ("x", "t_x", "T"), _ALIASES))
        w = check_weights(weights, x.shape[0])
        # Identical customers share a likelihood term: fit on unique rows with summed weights (much faster on
        # summaries such as CDNOW, where T takes few values).
        rows, inverse = np.unique(np.column_stack([x, t_x, T]), axis=0, return_inverse=True)
        wu = np.bincount(inverse.ravel(), weights=w, minlength=rows.shape[0])
        keep = wu > 0
        xu, txu, Tu, wu = rows[keep, 0], rows[keep, 1], rows[keep, 2], wu[keep]
        ku = self._survived_draws(xu)

        rate = max(float(np.sum(wu * xu)) / max(float(np.sum(wu * Tu)), 1e-12), 1e-6)
        default = np.array([1.0, 1.0 / rate, 1.0, 1.0])
        log_params0 = initial_log_params(self.initial_params, _PARAM_NAMES, default)

        def loglik_and_grad(params: np.ndarray) -> tuple[float, np.ndarray]:
            ll, grad = _loglik_rows(params, xu, txu, Tu, ku)
            return float(np.sum(wu * ll)), wu @ grad

        params, ll, n_iter, converged = maximize_log_likelihood(
            loglik_and_grad,
            log_params0,
            total_weight=float(wu.sum()),
            penalizer=self.penalizer,
            tol=self.tol,
            max_iter=self.max_iter,
            model_name=self._model_name,
        )
        self.r_, self.alpha_, self.a_, self.b_ = (float(v) for v in params)
        self.params_ = dict(zip(_PARAM_NAMES, (self.r_, self.alpha_, self.a_, self.b_), strict=True))
        self.log_likelihood_ = ll
        self.n_customers_ = float(wu.sum())
        self.n_iter_ = n_iter
        self.converged_ = converged
        return self

    def log_likelihood(self, x: Any, t_x: Any, T: Any) -> np.ndarray:
        """Log-likelihood of each customer's (x, t_x, T) under the fitted parameters (formula: class docstring)."""
        check_fitted(self, "r_")
        x, t_x, T = check_rft(x, t_x, T)
        ll, _ = _loglik_rows(self._params(), x.ravel(), t_x.ravel(), T.ravel(), self._survived_draws(x.ravel()))
        return ll.reshape(x.shape)

    def probability_alive(self, x: Any, t_x: Any, T: Any) -> np.ndarray:
        """P(customer still active at T | x, t_x, T) (formula: class docstring).

        Returns
        -------
        numpy.ndarray
            One probability per customer.
        """
        check_fitted(self, "r_")
        x, t_x, T = check_rft(x, t_x, T)
        return _probability_alive(self._params(), x, t_x, T, self._survived_draws(x))

    def expected_purchases(self, t: Any, x: Any, t_x: Any, T: Any) -> np.ndarray:
        """Expected number of purchases in the next ``t`` periods for a customer with history (x, t_x, T).

        ``t`` is in the same time unit as the data and broadcasts against the customer arrays (formula: class
        docstring). The closed form divides by a − 1, so it is undefined (inf/NaN) if the fit lands exactly on a = 1.
        """
        check_fitted(self, "r_")
        t = _check_horizon(t)
        x, t_x, T = check_rft(x, t_x, T)
        t, x, t_x, T = np.broadcast_arrays(t, x, t_x, T)
        return _expected_purchases(self._params(), t, x, t_x, T, self._survived_draws(x))

    def expected_purchases_if_alive(self, t: Any, x: Any, t_x: Any, T: Any) -> np.ndarray:
        """Expected purchases in the next ``t`` periods by a customer with history (x, t_x, T) *who is still active*.

        :meth:`expected_purchases` is this times :meth:`probability_alive`. It is what a customer brings if retained
        (DESIGN section 8: P(churn) multiplies this, never the expectation that already discounts for dropout).
        """
        check_fitted(self, "r_")
        t = _check_horizon(t)
        x, t_x, T = check_rft(x, t_x, T)
        t, x, t_x, T = np.broadcast_arrays(t, x, t_x, T)
        return _expected_purchases_if_alive(self._params(), t, x, T, self._survived_draws(x))

    def expected_purchases_new(self, t: Any) -> np.ndarray:
        """Expected repeat purchases E[X(t)] in ``t`` periods by a customer just acquired (formula: class docstring).

        This is the conditional expectation for the history x = t_x = T = 0, which carries no information.
        """
        check_fitted(self, "r_")
        t = _check_horizon(t)
        zero = np.zeros_like(t)
        return _expected_purchases(self._params(), t, zero, zero, zero, self._survived_draws(zero))

    def _survived_draws(self, x: np.ndarray) -> np.ndarray:
        """k: dropout draws an active customer with x repeat purchases has survived (see the module docstring)."""
        return x + 1.0 if self._dropout_at_first_purchase else x

    def _params(self) -> tuple[float, float, float, float]:
        return self.r_, self.alpha_, self.a_, self.b_


def _check_horizon(t: Any) -> np.ndarray:
    t = as_float_array("t (horizon)", t)
    if np.any(t < 0):
        raise InputError(f"t (the prediction horizon) must be >= 0 in the data's time unit; got {t[t < 0][0]}.")
    return t


def _probability_alive(params: Any, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, k: np.ndarray) -> np.ndarray:
    """``1 / (1 + [k > 0] · a / (b + k − 1) · ((α + T) / (α + t_x))^(r + x))``.

    The odds of having dropped out at the last purchase occasion against still being active; a customer who has
    faced no dropout draw (k = 0: BG/NBD with x = 0) is active for certain.
    """
    r, alpha, a, b = params
    drawn = k > 0
    b_k = np.where(drawn, b + k - 1.0, 1.0)  # b + k − 1 is only used (and only positive) when k > 0
    log_odds_dead = np.log(a) - np.log(b_k) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(drawn, expit(-log_odds_dead), 1.0)


def _expected_purchases(
    params: Any, t: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, k: np.ndarray
) -> np.ndarray:
    """E[Y(t) | x, t_x, T] = P(alive | x, t_x, T) · E[Y(t) | alive, x, T]."""
    return _probability_alive(params, x, t_x, T, k) * _expected_purchases_if_alive(params, t, x, T, k)


def _expected_purchases_if_alive(params: Any, t: np.ndarray, x: np.ndarray, T: np.ndarray, k: np.ndarray) -> np.ndarray:
    """E[Y(t) | alive, x, T] = (a + b + k − 1) / (a − 1)
    · [1 − ((α + T) / (α + T + t))^(r + x) · ₂F₁(r + x, b + k; a + b + k − 1; t / (α + T + t))].

    Active at T, the customer's (λ, p) has the posterior Gamma(r + x, α + T) × Beta(a, b + k), and an active
    customer makes (1 − e^(−λpt)) / p purchases in expectation over the next t; integrating gives this.
    """
    r, alpha, a, b = params
    z = t / (alpha + T + t)
    log_ratio = (r + x) * (np.log(alpha + T) - np.log(alpha + T + t))
    bracket = 1.0 - np.exp(log_ratio) * hyp2f1(r + x, b + k, a + b + k - 1.0, z)
    return (a + b + k - 1.0) / (a - 1.0) * bracket


def _loglik_rows(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, k: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row log-likelihood and its gradient in (r, α, a, b), shape (n, 4).

    L = B(a, b+k)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
        + [k > 0] · B(a+1, b+k−1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))

    The first term is "survived all k draws, still active at T", the second "dropped out at the last draw, right
    after the purchase at t_x". Without a draw (k = 0) the second term is exactly zero rather than evaluated at the
    invalid B(a+1, b−1).
    """
    r, alpha, a, b = params
    drawn = k > 0
    ks = np.where(drawn, k, 1.0)  # safe stand-in so the k > 0 term is finite where it is masked out
    log_at, log_atx = np.log(alpha + T), np.log(alpha + t_x)

    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + k) - betaln(a, b) - (r + x) * log_at
    a3 = np.where(drawn, betaln(a + 1.0, b + ks - 1.0) - betaln(a, b) - (r + x) * log_atx, -np.inf)
    mix = np.logaddexp(a2, a3)
    ll = a1 + mix

    s2 = np.exp(a2 - mix)  # share of the "still active" term; s2 + s3 = 1
    s3 = np.where(drawn, np.exp(np.where(drawn, a3, 0.0) - mix), 0.0)
    d_ab = psi(a + b) - psi(a + b + k)
    grad = np.empty((x.shape[0], 4))
    grad[:, 0] = psi(r + x) - psi(r) + np.log(alpha) - s2 * log_at - s3 * log_atx
    grad[:, 1] = r / alpha - (r + x) * (s2 / (alpha + T) + s3 / (alpha + t_x))
    grad[:, 2] = d_ab + s3 / a
    grad[:, 3] = d_ab - psi(b) + s2 * psi(b + k) + s3 * psi(b + ks - 1.0)
    return ll, grad

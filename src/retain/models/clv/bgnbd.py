"""BG/NBD model of repeat purchasing for non-contractual customers.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers" the Easy Way: An Alternative to
the Pareto/NBD Model. *Marketing Science*, 24(2), 275-284.

While active, a customer buys as a Poisson process with rate λ ~ Gamma(r, α); after each repeat purchase the
customer drops out for good with probability p ~ Beta(a, b). The data per customer are ``x`` (repeat purchases),
``t_x`` (time of the last purchase, measured from the first) and ``T`` (time from the first purchase to the end
of observation), all in one time unit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import betaln, expit, gammaln, hyp2f1, psi

from retain.errors import InputError
from retain.models.clv._mle import initial_log_params, maximize_log_likelihood
from retain.models.clv._params import ParamsMixin
from retain.models.clv._validation import as_columns, as_float_array, check_fitted, check_rft, check_weights

__all__ = ["BetaGeoModel"]

_PARAM_NAMES = ("r", "alpha", "a", "b")
# Accept the column names lifetimes uses, so its summaries fit as they are.
_ALIASES = {"x": "frequency", "t_x": "recency"}


class BetaGeoModel(ParamsMixin):
    """BG/NBD model fitted by maximum likelihood (Fader, Hardie & Lee 2005).

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty ``penalizer * (r² + α² + a² + b²)`` added to the mean negative log-likelihood; a small value
        (e.g. 0.001) stabilises fits on tiny or degenerate data sets. 0 gives the plain MLE.
    initial_params : dict, optional
        Starting values ``{"r", "alpha", "a", "b"}`` (all positive). By default r=a=b=1 and α is set from the
        mean purchase rate, so the start is sensible in any time unit.
    tol : float, default 1e-8
        Convergence tolerance on the gradient of the mean log-likelihood (log parameters).
    max_iter : int, default 1000
        Maximum optimiser iterations.

    Attributes
    ----------
    r_, alpha_, a_, b_ : float
        Fitted parameters: purchase rate λ ~ Gamma(shape r, rate α); dropout p ~ Beta(a, b).
    params_ : dict
        The four parameters by name.
    log_likelihood_ : float
        Total log-likelihood at the fitted parameters (without penalty).
    n_customers_ : float
        Number of customers fitted (sum of weights).
    n_iter_ : int
        Optimiser iterations.
    converged_ : bool
        Whether the optimiser reported convergence (a :class:`~retain.errors.RetainWarning` is raised if not).
    """

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

    def fit(self, X: Any, y: None = None, *, weights: Any = None) -> BetaGeoModel:
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
        BetaGeoModel
            The fitted model (``self``).
        """
        x, t_x, T = check_rft(*as_columns(X, ("x", "t_x", "T"), _ALIASES))
        w = check_weights(weights, x.shape[0])
        # Identical customers share a likelihood term: fit on unique rows with summed weights (much faster on
        # summaries such as CDNOW, where T takes few values).
        rows, inverse = np.unique(np.column_stack([x, t_x, T]), axis=0, return_inverse=True)
        wu = np.bincount(inverse.ravel(), weights=w, minlength=rows.shape[0])
        keep = wu > 0
        xu, txu, Tu, wu = rows[keep, 0], rows[keep, 1], rows[keep, 2], wu[keep]

        rate = max(float(np.sum(wu * xu)) / max(float(np.sum(wu * Tu)), 1e-12), 1e-6)
        default = np.array([1.0, 1.0 / rate, 1.0, 1.0])
        log_params0 = initial_log_params(self.initial_params, _PARAM_NAMES, default)

        def loglik_and_grad(params: np.ndarray) -> tuple[float, np.ndarray]:
            ll, grad = _loglik_rows(params, xu, txu, Tu)
            return float(np.sum(wu * ll)), wu @ grad

        params, ll, n_iter, converged = maximize_log_likelihood(
            loglik_and_grad,
            log_params0,
            total_weight=float(wu.sum()),
            penalizer=self.penalizer,
            tol=self.tol,
            max_iter=self.max_iter,
            model_name="BG/NBD",
        )
        self.r_, self.alpha_, self.a_, self.b_ = (float(v) for v in params)
        self.params_ = dict(zip(_PARAM_NAMES, (self.r_, self.alpha_, self.a_, self.b_), strict=True))
        self.log_likelihood_ = ll
        self.n_customers_ = float(wu.sum())
        self.n_iter_ = n_iter
        self.converged_ = converged
        return self

    def log_likelihood(self, x: Any, t_x: Any, T: Any) -> np.ndarray:
        """Log-likelihood of each customer's (x, t_x, T) under the fitted parameters (FHL 2005, eq. 6)."""
        check_fitted(self, "r_")
        x, t_x, T = check_rft(x, t_x, T)
        ll, _ = _loglik_rows(self._params(), x.ravel(), t_x.ravel(), T.ravel())
        return ll.reshape(x.shape)

    def probability_alive(self, x: Any, t_x: Any, T: Any) -> np.ndarray:
        """P(customer still active at T | x, t_x, T).

        ``1 / (1 + [x > 0] · a / (b + x − 1) · ((α + T) / (α + t_x))^(r + x))`` (FHL 2005, from eq. 6); a customer
        with no repeat purchase cannot have dropped out yet, so the probability is exactly 1.

        Returns
        -------
        numpy.ndarray
            One probability per customer.
        """
        check_fitted(self, "r_")
        x, t_x, T = check_rft(x, t_x, T)
        return _probability_alive(self._params(), x, t_x, T)

    def expected_purchases(self, t: Any, x: Any, t_x: Any, T: Any) -> np.ndarray:
        """Expected number of purchases in the next ``t`` periods for a customer with history (x, t_x, T).

        FHL 2005 eq. 10: E[Y(t) | x, t_x, T] = P(alive | x, t_x, T) · (a + b + x − 1) / (a − 1)
        · [1 − ((α + T) / (α + T + t))^(r + x) · ₂F₁(r + x, b + x; a + b + x − 1; t / (α + T + t))].

        ``t`` is in the same time unit as the data and broadcasts against the customer arrays. The closed form
        divides by a − 1, so it is undefined (inf/NaN) if the fit lands exactly on a = 1.
        """
        check_fitted(self, "r_")
        t = _check_horizon(t)
        x, t_x, T = check_rft(x, t_x, T)
        r, alpha, a, b = self._params()
        t, x, t_x, T = np.broadcast_arrays(t, x, t_x, T)
        z = t / (alpha + T + t)
        log_ratio = (r + x) * (np.log(alpha + T) - np.log(alpha + T + t))
        bracket = 1.0 - np.exp(log_ratio) * hyp2f1(r + x, b + x, a + b + x - 1.0, z)
        return (a + b + x - 1.0) / (a - 1.0) * bracket * _probability_alive((r, alpha, a, b), x, t_x, T)

    def expected_purchases_new(self, t: Any) -> np.ndarray:
        """Expected purchases E[X(t)] in ``t`` periods by a customer just acquired (FHL 2005, eq. 7).

        ``(a + b − 1) / (a − 1) · [1 − (α / (α + t))^r · ₂F₁(r, b; a + b − 1; t / (α + t))]``
        """
        check_fitted(self, "r_")
        t = _check_horizon(t)
        r, alpha, a, b = self._params()
        bracket = 1.0 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1.0, t / (alpha + t))
        return (a + b - 1.0) / (a - 1.0) * bracket

    def _params(self) -> tuple[float, float, float, float]:
        return self.r_, self.alpha_, self.a_, self.b_


def _check_horizon(t: Any) -> np.ndarray:
    t = as_float_array("t (horizon)", t)
    if np.any(t < 0):
        raise InputError(f"t (the prediction horizon) must be >= 0 in the data's time unit; got {t[t < 0][0]}.")
    return t


def _probability_alive(params: Any, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    r, alpha, a, b = params
    repeat = x > 0
    b_x = np.where(repeat, b + x - 1.0, 1.0)  # b + x − 1 is only used (and only positive) when x > 0
    log_odds_dead = np.log(a) - np.log(b_x) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(repeat, expit(-log_odds_dead), 1.0)


def _loglik_rows(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row log-likelihood (FHL 2005 eq. 6) and its gradient in (r, α, a, b), shape (n, 4).

    L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
        + [x > 0] · B(a+1, b+x−1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))

    The second term exists only for x > 0 (a customer can only drop out after a repeat purchase), so for x = 0
    it is exactly zero rather than evaluated at the invalid B(a+1, b−1).
    """
    r, alpha, a, b = params
    repeat = x > 0
    xs = np.where(repeat, x, 1.0)  # safe stand-in so the x > 0 term is finite where it is masked out
    log_at, log_atx = np.log(alpha + T), np.log(alpha + t_x)

    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b) - (r + x) * log_at
    a3 = np.where(repeat, betaln(a + 1.0, b + xs - 1.0) - betaln(a, b) - (r + x) * log_atx, -np.inf)
    mix = np.logaddexp(a2, a3)
    ll = a1 + mix

    s2 = np.exp(a2 - mix)  # share of the "still alive" term; s2 + s3 = 1
    s3 = np.where(repeat, np.exp(np.where(repeat, a3, 0.0) - mix), 0.0)
    d_ab = psi(a + b) - psi(a + b + x)
    grad = np.empty((x.shape[0], 4))
    grad[:, 0] = psi(r + x) - psi(r) + np.log(alpha) - s2 * log_at - s3 * log_atx
    grad[:, 1] = r / alpha - (r + x) * (s2 / (alpha + T) + s3 / (alpha + t_x))
    grad[:, 2] = d_ab + s3 / a
    grad[:, 3] = d_ab - psi(b) + s2 * psi(b + x) + s3 * psi(b + xs - 1.0)
    return ll, grad

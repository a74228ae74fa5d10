"""Gamma-Gamma model of the average value of a customer's transactions.

Fader, P. S. & Hardie, B. G. S. (2013). The Gamma-Gamma Model of Monetary Value.
http://www.brucehardie.com/notes/025/gamma_gamma.pdf (after Colombo & Jiang 1999, "A stochastic RFM model").

Each transaction value is Gamma(shape p, rate ν); across customers ν ~ Gamma(shape q, rate γ). The model sees
each repeat customer's number of transactions ``x`` and their mean value ``m``, and assumes spend is independent
of purchase frequency (checked on fit).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy.special import gammaln, psi

from retain.errors import InputError, RetainWarning
from retain.models.clv._mle import initial_log_params, maximize_log_likelihood
from retain.models.clv._params import ParamsMixin
from retain.models.clv._validation import as_columns, as_float_array, check_fitted, check_weights

__all__ = ["GammaGammaModel"]

_PARAM_NAMES = ("p", "q", "v")
_ALIASES = {"x": "frequency", "monetary": "monetary_value"}


class GammaGammaModel(ParamsMixin):
    """Gamma-Gamma spend model fitted by maximum likelihood (Fader & Hardie 2013).

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty ``penalizer * (p² + q² + v²)`` added to the mean negative log-likelihood.
    initial_params : dict, optional
        Starting values ``{"p", "q", "v"}`` (all positive). By default p=1, q=2 and v set so that the implied
        mean spend p·v/(q−1) equals the observed mean.
    tol : float, default 1e-8
        Convergence tolerance on the gradient of the mean log-likelihood (log parameters).
    max_iter : int, default 1000
        Maximum optimiser iterations.
    correlation_threshold : float, default 0.3
        A :class:`~retain.errors.RetainWarning` is raised on fit when the absolute Pearson correlation between
        frequency and mean value exceeds this: the model assumes they are independent.

    Attributes
    ----------
    p_, q_, v_ : float
        Fitted parameters (``v_`` is the paper's γ, the rate of the Gamma prior on ν).
    params_ : dict
        The three parameters by name.
    log_likelihood_ : float
        Total log-likelihood of the observed mean values (the density of m given x; without penalty).
    n_customers_ : float
        Repeat customers fitted (sum of weights); rows with x = 0 carry no spend information and are skipped.
    frequency_monetary_correlation_ : float
        Weighted Pearson correlation between ``x`` and ``m`` among the fitted customers.
    n_iter_ : int
        Optimiser iterations.
    converged_ : bool
        Whether the optimiser reported convergence.
    """

    def __init__(
        self,
        *,
        penalizer: float = 0.0,
        initial_params: dict[str, float] | None = None,
        tol: float = 1e-8,
        max_iter: int = 1000,
        correlation_threshold: float = 0.3,
    ) -> None:
        self.penalizer = penalizer
        self.initial_params = initial_params
        self.tol = tol
        self.max_iter = max_iter
        self.correlation_threshold = correlation_threshold

    def fit(self, X: Any, y: None = None, *, weights: Any = None) -> GammaGammaModel:
        """Fit the model to customers' repeat-purchase counts and mean transaction values.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n, 2)
            Columns ``x`` (number of transactions the mean is taken over) and ``monetary`` (their mean value); a
            DataFrame may also use lifetimes' names ``frequency`` and ``monetary_value``. Rows with x = 0 are
            skipped (they have no repeat transaction to learn spend from); every row with x ≥ 1 needs m > 0.
        y : None
            Ignored; present for scikit-learn compatibility.
        weights : array-like of shape (n,), optional
            How many customers each row stands for.

        Returns
        -------
        GammaGammaModel
            The fitted model (``self``).
        """
        x, m = as_columns(X, ("x", "monetary"), _ALIASES)
        w = check_weights(weights, x.shape[0])
        x, m = _check_xm(x, m)
        use = (x > 0) & (w > 0)
        x, m, w = x[use], m[use], w[use]
        if np.any(m <= 0):
            raise InputError(
                f"monetary (mean transaction value) must be > 0 for customers with x >= 1; got {m[m <= 0][0]}. "
                "Gamma-Gamma models positive spend: drop zero-value customers or orders before fitting."
            )
        if x.size < 3:
            raise InputError(f"Gamma-Gamma needs at least 3 customers with a repeat purchase; got {x.size}.")

        corr = self.frequency_monetary_correlation_ = _weighted_corr(x, m, w)
        if abs(corr) > self.correlation_threshold:
            warnings.warn(
                f"frequency and mean transaction value are correlated (Pearson {corr:.2f}, threshold "
                f"{self.correlation_threshold}); the Gamma-Gamma model assumes they are independent, so its "
                "expected values may be biased. Segment the customers or use a model that links them.",
                RetainWarning,
                stacklevel=2,
            )

        mean_m = float(np.sum(w * m) / np.sum(w))
        default = np.array([1.0, 2.0, mean_m])  # implied mean p·v/(q−1) = observed mean
        log_params0 = initial_log_params(self.initial_params, _PARAM_NAMES, default)

        def loglik_and_grad(params: np.ndarray) -> tuple[float, np.ndarray]:
            ll, grad = _loglik_rows(params, x, m)
            return float(np.sum(w * ll)), w @ grad

        params, ll, n_iter, converged = maximize_log_likelihood(
            loglik_and_grad,
            log_params0,
            total_weight=float(w.sum()),
            penalizer=self.penalizer,
            tol=self.tol,
            max_iter=self.max_iter,
            model_name="Gamma-Gamma",
        )
        self.p_, self.q_, self.v_ = (float(v) for v in params)
        self.params_ = dict(zip(_PARAM_NAMES, (self.p_, self.q_, self.v_), strict=True))
        self.log_likelihood_ = ll
        self.n_customers_ = float(w.sum())
        self.n_iter_ = n_iter
        self.converged_ = converged
        return self

    def conditional_expected_value(self, x: Any, m: Any) -> np.ndarray:
        """Expected value of a customer's future transactions given x transactions with mean m.

        ``E[M | x, m] = p (v + x m) / (p x + q − 1)``, a weighted average of the population mean p·v/(q−1) and the
        customer's own mean m (Fader & Hardie 2013, eq. 5). For x = 0 this is the population mean, which exists
        only when q > 1 (otherwise NaN).
        """
        check_fitted(self, "p_")
        x, m = _check_xm(as_float_array("x (frequency)", x), as_float_array("monetary", m))
        p, q, v = self.p_, self.q_, self.v_
        m = np.where(x > 0, m, 0.0)  # m is meaningless without a repeat purchase
        denom = p * x + q - 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(denom > 0, p * (v + x * m) / np.where(denom > 0, denom, 1.0), np.nan)

    def log_likelihood(self, x: Any, m: Any) -> np.ndarray:
        """Log density of each mean value m given x under the fitted parameters (customers with x ≥ 1)."""
        check_fitted(self, "p_")
        x, m = _check_xm(as_float_array("x (frequency)", x), as_float_array("monetary", m))
        if np.any(x < 1) or np.any(m <= 0):
            raise InputError("log_likelihood needs x >= 1 and monetary > 0 for every row.")
        ll, _ = _loglik_rows(np.array([self.p_, self.q_, self.v_]), x.ravel(), m.ravel())
        return ll.reshape(x.shape)


def _check_xm(x: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    try:
        x, m = np.broadcast_arrays(x, m)
    except ValueError as exc:
        raise InputError(f"x and monetary must have the same length; got shapes {x.shape} and {m.shape}.") from exc
    if np.any(x < 0) or np.any(m < 0):
        raise InputError("x (frequency) and monetary (mean value) must be >= 0; found a negative value.")
    if np.any(x != np.round(x)):
        raise InputError("x (frequency) must count transactions (whole numbers); found a fractional value.")
    return x, m


def _weighted_corr(x: np.ndarray, m: np.ndarray, w: np.ndarray) -> float:
    wn = w / w.sum()
    dx, dm = x - wn @ x, m - wn @ m
    denom = np.sqrt((wn @ dx**2) * (wn @ dm**2))
    return float(wn @ (dx * dm) / denom) if denom > 0 else 0.0


def _loglik_rows(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row log density of the mean value m given x, and its gradient in (p, q, v), shape (n, 3).

    The mean of x Gamma(p, ν) values is Gamma(px, xν); mixing ν ~ Gamma(q, v) gives
    f(m | x) = Γ(px+q) / (Γ(px) Γ(q)) · v^q · x^(px) · m^(px−1) / (v + x m)^(px+q).
    """
    p, q, v = params
    px = p * x
    log_vxm = np.log(v + x * m)
    ll = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * log_vxm
    )
    grad = np.empty((x.shape[0], 3))
    grad[:, 0] = x * (psi(px + q) - psi(px) + np.log(m) + np.log(x) - log_vxm)
    grad[:, 1] = psi(px + q) - psi(q) + np.log(v) - log_vxm
    grad[:, 2] = q / v - (px + q) / (v + x * m)
    return ll, grad

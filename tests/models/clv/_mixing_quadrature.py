"""Quadrature over the mixing distributions, for independent reference values of the BG/NBD-family models.

Both models mix a customer's purchase rate λ over Gamma(r, rate α) and dropout probability p over Beta(a, b). The
λ integral of the Poisson terms is the standard NBD one (:func:`gamma_moment`); the p integral, where BG/NBD and
MBG/NBD differ, is done numerically (:func:`beta_expectation`), so the references use neither the beta-function
closed forms nor the hypergeometric function of the models.
"""

from __future__ import annotations

import numpy as np
from scipy import integrate
from scipy.special import gammaln

__all__ = ["beta_expectation", "gamma_moment"]


def gamma_moment(r: float, alpha: float, x: float, s: float) -> float:
    """A(s) = E[λ^x e^(−λ s)] = Γ(r+x) α^r / (Γ(r) (α+s)^(r+x)) for λ ~ Gamma(r, rate α)."""
    return float(np.exp(gammaln(r + x) - gammaln(r) + r * np.log(alpha) - (r + x) * np.log(alpha + s)))


def beta_expectation(func, a: float, b: float) -> float:
    """E[func(p)] for p ~ Beta(a, b), by quadrature (weight='alg' handles p^(a−1) (1−p)^(b−1) at the ends)."""
    norm = np.exp(gammaln(a) + gammaln(b) - gammaln(a + b))
    value, _ = integrate.quad(func, 0.0, 1.0, weight="alg", wvar=(a - 1.0, b - 1.0), limit=200)
    return value / norm

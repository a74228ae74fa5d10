"""BG/NBD model of repeat purchasing for non-contractual customers.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers" the Easy Way: An Alternative to
the Pareto/NBD Model. *Marketing Science*, 24(2), 275-284.

While active, a customer buys as a Poisson process with rate λ ~ Gamma(r, α); after each repeat purchase the
customer drops out for good with probability p ~ Beta(a, b). The data per customer are ``x`` (repeat purchases),
``t_x`` (time of the last purchase, measured from the first) and ``T`` (time from the first purchase to the end
of observation), all in one time unit.
"""

from __future__ import annotations

from retain.models.clv._beta_geo_family import BetaGeoFamilyModel

__all__ = ["BetaGeoModel"]


class BetaGeoModel(BetaGeoFamilyModel):
    """BG/NBD model fitted by maximum likelihood (Fader, Hardie & Lee 2005).

    A customer can drop out only after a repeat purchase, so a customer with none (x = 0) is alive for certain;
    :class:`ModifiedBetaGeoModel` lifts that.

    Formulas (FHL 2005), with A(s) = Γ(r+x) α^r / (Γ(r) (α+s)^(r+x)):

    - likelihood (eq. 6): ``L = B(a, b+x)/B(a, b) · A(T) + [x > 0] · B(a+1, b+x−1)/B(a, b) · A(t_x)``;
    - P(alive) (from eq. 6): ``1 / (1 + [x > 0] · a / (b + x − 1) · ((α + T) / (α + t_x))^(r + x))``;
    - expected purchases in the next t (eq. 10): ``P(alive) · (a + b + x − 1) / (a − 1)
      · [1 − ((α + T) / (α + T + t))^(r + x) · ₂F₁(r + x, b + x; a + b + x − 1; t / (α + T + t))]``;
      given alive (:meth:`expected_purchases_if_alive`) the same without the factor P(alive);
    - a new customer's expected repeat purchases (eq. 7):
      ``(a + b − 1) / (a − 1) · [1 − (α / (α + t))^r · ₂F₁(r, b; a + b − 1; t / (α + t))]``.

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

    _dropout_at_first_purchase = False
    _model_name = "BG/NBD"

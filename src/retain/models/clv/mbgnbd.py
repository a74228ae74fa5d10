"""MBG/NBD model of repeat purchasing: BG/NBD where customers may also drop out right after the first purchase.

Batislam, E. P., Denizel, M. & Filiztekin, A. (2007). Empirical validation and comparison of models for customer
base analysis. *International Journal of Research in Marketing*, 24(3), 201-209.
Wagner, U. & Hoppe, D. (2008). Erratum on the MBG/NBD model. *International Journal of Research in Marketing*,
25(3), 225-226 (corrects the conditional expectation).

While active, a customer buys as a Poisson process with rate λ ~ Gamma(r, α); right after the first purchase and
after each repeat purchase the customer drops out for good with probability p ~ Beta(a, b). Under BG/NBD a customer
who never came back (x = 0) cannot have dropped out, so P(alive | x = 0) = 1 however long ago the one purchase
was; here it falls with the time since that purchase, which is what ranking one-time buyers by churn needs. This is
the model of lifetimes' ``ModifiedBetaGeoFitter``.
"""

from __future__ import annotations

from retain.models.clv._beta_geo_family import BetaGeoFamilyModel

__all__ = ["ModifiedBetaGeoModel"]


class ModifiedBetaGeoModel(BetaGeoFamilyModel):
    """MBG/NBD model fitted by maximum likelihood (Batislam, Denizel & Filiztekin 2007).

    Same data, parameters and methods as :class:`BetaGeoModel`; an active customer with x repeat purchases has
    survived x + 1 dropout draws instead of x.

    Formulas, with A(s) = Γ(r+x) α^r / (Γ(r) (α+s)^(r+x)):

    - likelihood (Batislam et al. 2007): ``L = B(a, b+x+1)/B(a, b) · A(T) + B(a+1, b+x)/B(a, b) · A(t_x)``
      (alive after x + 1 draws, or dropped out at the draw after the purchase at t_x; for x = 0 that is t_x = 0);
    - P(alive) (Batislam et al. 2007): ``1 / (1 + a / (b + x) · ((α + T) / (α + t_x))^(r + x))``,
      below 1 for x = 0 as well;
    - expected purchases in the next t (Wagner & Hoppe 2008, correcting Batislam et al.):
      ``P(alive) · (a + b + x) / (a − 1)
      · [1 − ((α + T) / (α + T + t))^(r + x) · ₂F₁(r + x, b + x + 1; a + b + x; t / (α + T + t))]``;
      given alive (:meth:`expected_purchases_if_alive`) the same without the factor P(alive);
    - a new customer's expected repeat purchases (Batislam et al. 2007):
      ``b / (a − 1) · [1 − (α / (α + t))^r · ₂F₁(r, b + 1; a + b; t / (α + t))]``.

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

    _dropout_at_first_purchase = True
    _model_name = "MBG/NBD"

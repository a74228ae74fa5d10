"""Maximum-likelihood fitting on log parameters, shared by the CLV models."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize

from retain.errors import InputError, RetainWarning

__all__ = ["initial_log_params", "maximize_log_likelihood"]

# Natural parameters stay within [e^-30, e^30]: wide enough for any data in any time unit, narrow enough that
# the line search never evaluates overflowing special functions (steps beyond are rejected as infinitely bad).
_LOG_BOUND = 30.0
# Restarts after an early stop, and the gradient of the mean log-likelihood (per log parameter) below which a stop
# still counts as converged; converged CDNOW fits end near 1e-8, so this only excuses rounding-level stalls.
_RESTARTS = 2
_FLAT_GRADIENT = 1e-6


def initial_log_params(
    initial_params: dict[str, float] | None, names: tuple[str, ...], default: np.ndarray
) -> np.ndarray:
    """Log of the starting point: the user's ``initial_params`` (all names) or ``default``."""
    if initial_params is None:
        return np.log(default)
    missing = [n for n in names if n not in initial_params]
    unknown = [n for n in initial_params if n not in names]
    if missing or unknown:
        raise InputError(f"initial_params must give exactly {list(names)}; missing {missing}, unknown {unknown}.")
    values = np.array([float(initial_params[n]) for n in names])
    if not np.all(np.isfinite(values) & (values > 0)):
        raise InputError(
            f"initial_params must all be positive finite numbers; got {dict(zip(names, values, strict=True))}."
        )
    return np.log(values)


def maximize_log_likelihood(
    loglik_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
    log_params0: np.ndarray,
    *,
    total_weight: float,
    penalizer: float,
    tol: float,
    max_iter: int,
    model_name: str,
) -> tuple[np.ndarray, float, int, bool]:
    """Maximise a log-likelihood over log parameters with BFGS and the analytic gradient.

    ``loglik_and_grad(params)`` returns the total (weighted) log-likelihood at the natural ``params`` and its
    gradient with respect to them. The optimiser minimises the mean negative log-likelihood (so ``tol`` does not
    depend on the number of customers) plus ``penalizer * sum(params**2)`` (the L2 shrinkage lifetimes uses).

    Returns the natural parameters, the total log-likelihood there (without penalty), the iteration count and
    whether the optimiser reported convergence.
    """
    if penalizer < 0:
        raise InputError(f"penalizer must be >= 0; got {penalizer}.")
    if tol <= 0 or max_iter < 1:
        raise InputError(f"tol must be > 0 and max_iter >= 1; got tol={tol}, max_iter={max_iter}.")

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        if np.any(np.abs(log_params) > _LOG_BOUND):
            return np.inf, np.zeros_like(log_params)  # outside the sane range: make the line search step back
        params = np.exp(log_params)
        ll, grad = loglik_and_grad(params)
        if not np.isfinite(ll):
            return np.inf, np.zeros_like(log_params)
        value = -ll / total_weight + penalizer * float(np.sum(params**2))
        # Chain rule to log space: d/d(log θ) = θ · d/dθ.
        g = -grad * params / total_weight + 2.0 * penalizer * params**2
        return value, g

    log_params, n_iter = np.asarray(log_params0, dtype=float), 0
    for _ in range(_RESTARTS + 1):
        # Plain BFGS: the log parameterisation already keeps parameters positive, and with 3-4 parameters it is
        # ~10x faster than L-BFGS-B, whose BLAS calls stall when other processes load the cores.
        result = minimize(
            objective,
            log_params,
            jac=True,
            method="BFGS",
            options={"maxiter": max(max_iter - n_iter, 1), "gtol": tol},
        )
        log_params, n_iter = result.x, n_iter + int(result.nit)
        # A failed line search next to the optimum ("precision loss") is a rounding artefact, not divergence: accept
        # it when the gradient is already flat, otherwise restart from there with a fresh curvature estimate.
        flat = float(np.max(np.abs(result.jac))) <= _FLAT_GRADIENT
        if result.success or flat or n_iter >= max_iter:
            break
    converged = bool(result.success) or flat
    params = np.exp(result.x)
    ll, _ = loglik_and_grad(params)
    if not converged:
        warnings.warn(
            f"{model_name} maximum likelihood did not converge after {n_iter} iterations ({result.message}); "
            "the parameters may be inaccurate. Raise max_iter, try other initial_params or add a small penalizer.",
            RetainWarning,
            stacklevel=3,
        )
    return params, float(ll), n_iter, converged

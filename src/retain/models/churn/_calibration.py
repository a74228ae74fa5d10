"""Score calibration: a monotone map from a model's raw log-odds to probabilities, fitted on held-out rows.

``sigmoid`` (Platt scaling: a logistic regression on the score) is strictly increasing, so it never changes
how customers rank. ``isotonic`` is only non-decreasing: it maps whole ranges of scores to one probability, and
those ties lower the ROC-AUC (on the bank churn data by about 0.001, see docs/models.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

__all__ = ["CALIBRATION_METHODS", "ScoreCalibrator"]

#: Valid values of ``ChurnModel(calibration=...)``; ``None`` keeps the model's own probabilities.
CALIBRATION_METHODS = ("isotonic", "sigmoid", None)

_UNPENALISED = 1e6  # Platt scaling is a two-parameter fit on thousands of rows: no penalty needed


@dataclass
class ScoreCalibrator:
    """Maps raw scores (log-odds) to probabilities, fitted on held-out scores and their labels.

    Parameters
    ----------
    method : {"sigmoid", "isotonic"}
    """

    method: str

    def fit(self, scores: np.ndarray, y: np.ndarray) -> ScoreCalibrator:
        """Fit the map on held-out ``scores`` and their 0/1 labels ``y``."""
        s = np.asarray(scores, dtype="float64").reshape(-1, 1)
        if self.method == "sigmoid":
            self._map = LogisticRegression(C=_UNPENALISED).fit(s, y)
        else:
            self._map = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(s.ravel(), y)
        return self

    def predict(self, scores: np.ndarray) -> np.ndarray:
        """Churn probability of each raw score."""
        s = np.asarray(scores, dtype="float64")
        if self.method == "sigmoid":
            return self._map.predict_proba(s.reshape(-1, 1))[:, 1]
        return np.asarray(self._map.predict(s), dtype="float64")

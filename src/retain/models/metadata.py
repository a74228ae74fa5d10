"""What a saved churn model knows about itself: a pydantic model, written as ``metadata.json`` beside the artifact.

One declared shape instead of a free-form dict: the registry writes it, ``retain model list|evaluate``, the
refresh (calibration mart) and the scoring (population, horizon, training range) read it, and a file that does
not fit is refused with the field that is wrong.

:class:`TrainingRecord` is what training knows (data, backtest, timings); :class:`ModelMetadata` adds what the
registry fills in when it saves (version, creation time, library versions, the artifact's checksum).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from retain.contract.business_model import BusinessModel

__all__ = [
    "Artifact",
    "Backtest",
    "BaselineRecord",
    "CalibrationBin",
    "DataRange",
    "ModelMetadata",
    "RowCounts",
    "TrainingRecord",
]

_FROZEN = ConfigDict(extra="forbid", frozen=True)


class DataRange(BaseModel):
    """First and last instant of the facts the model was trained on."""

    model_config = _FROZEN
    start: datetime
    end: datetime


class RowCounts(BaseModel):
    """Rows of the training dataset (one per customer and observation date)."""

    model_config = _FROZEN
    total: int = Field(ge=0)
    positives: int = Field(ge=0, description="Rows whose customer churned within the horizon.")
    customers: int = Field(ge=0)
    train: int = Field(ge=0, description="Rows the backtest model trained on.")
    test: int = Field(ge=0, description="Later rows the backtest model was tested on.")


class CalibrationBin(BaseModel):
    """One tenth of the backtest's test rows by predicted probability (``bin`` 0 = lowest)."""

    model_config = _FROZEN
    bin: int
    count: int
    positives: int
    p_min: float
    p_max: float
    predicted_mean: float
    observed_rate: float
    gap: float


class BaselineRecord(BaseModel):
    """A baseline trained and tested on the backtest's rows (``retain.models.churn.baselines``)."""

    model_config = _FROZEN
    description: str = Field(description="What it ranks by: the recency column, or the logistic penalty.")
    metrics: dict[str, float] = Field(default_factory=dict, description="Same keys as the model's; empty: n/a.")
    note: str = Field(default="", description="Why the baseline could not be evaluated, when it could not.")


class Backtest(BaseModel):
    """The temporal backtest: trained on earlier observation dates, tested on later ones."""

    model_config = _FROZEN
    train_dates: list[datetime]
    test_dates: list[datetime]
    metrics: dict[str, float] = Field(description="roc_auc, pr_auc, top_decile_lift, brier, base_rate, n ...")
    calibration: list[CalibrationBin]
    baselines: dict[str, BaselineRecord] = Field(
        default_factory=dict,
        description="recency and logistic_regression on the same rows; empty for models trained before baselines.",
    )


class TrainingRecord(BaseModel):
    """What training knows about a model: its data, features, parameters and backtest."""

    model_config = _FROZEN
    kind: Literal["churn"] = "churn"
    business_model: BusinessModel
    horizon_days: int = Field(gt=0, description="The label: churn within this many days.")
    data_range: DataRange
    observation_dates: list[datetime]
    features: list[str]
    categorical_features: list[str] = Field(default_factory=list)
    model_params: dict[str, Any] = Field(default_factory=dict)
    capacity: dict[str, Any] = Field(
        default_factory=dict, description="What the final model chose (ChurnModel.capacity_): trees or linear."
    )
    rows: RowCounts
    backtest: Backtest
    seconds: dict[str, float] = Field(default_factory=dict)


class Artifact(BaseModel):
    """The saved files of a model version and the checksum that guards them."""

    model_config = _FROZEN
    model_file: str
    format: Literal["joblib"] = "joblib"
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    boosters: list[str]


class ModelMetadata(TrainingRecord):
    """``metadata.json`` of a saved version: the training record plus what the registry adds on save."""

    version: str = Field(pattern=r"^v\d+$")
    created_at: datetime
    libraries: dict[str, str]
    artifact: Artifact

"""Versioned churn model artifacts: save → load gives the same predictions; CURRENT; metadata; refusals."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import sklearn

from retain.errors import InputError, NotFittedError, WorkspaceError
from retain.models.churn import ChurnModel
from retain.models.metadata import TrainingRecord
from retain.models.registry import ModelRegistry

CREATED = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)


def _record(horizon_days: int = 90, features: tuple[str, ...] = ("usage_drop", "plan")) -> TrainingRecord:
    """A complete training record (what training hands the registry), with made-up backtest figures."""
    day = datetime(2025, 1, 1, tzinfo=UTC)
    return TrainingRecord(
        business_model="subscription",
        horizon_days=horizon_days,
        data_range={"start": day, "end": datetime(2025, 12, 31, tzinfo=UTC)},
        observation_dates=[day],
        features=list(features),
        rows={"total": 10, "positives": 2, "customers": 10, "train": 6, "test": 4},
        backtest={
            "train_dates": [day],
            "test_dates": [day],
            "metrics": {"roc_auc": 0.7},
            "calibration": [
                {
                    "bin": 0,
                    "count": 4,
                    "positives": 1,
                    "p_min": 0.1,
                    "p_max": 0.3,
                    "predicted_mean": 0.2,
                    "observed_rate": 0.25,
                    "gap": 0.05,
                }
            ],
        },
    )


def _world(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    usage = rng.normal(size=n)
    plan = rng.choice(["basic", "pro", "team"], size=n)
    logit = -1.0 + 1.5 * usage + pd.Series(plan).map({"basic": 0.8, "pro": 0.0, "team": -0.8}).to_numpy()
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype("int64")
    return pd.DataFrame({"usage_drop": usage, "plan": pd.array(plan, dtype="str")}), y


@pytest.fixture(scope="module")
def fitted() -> tuple[ChurnModel, pd.DataFrame]:
    X, y = _world(800, seed=1)
    model = ChurnModel(capacity="fixed", n_estimators=40, calibration="isotonic", calibration_folds=3).fit(X, y)
    X_new, _ = _world(300, seed=2)
    # An unseen plan must behave identically after loading too (the learned categories travel with the model).
    X_new.loc[:4, "plan"] = "enterprise"
    return model, X_new


def test_round_trip_gives_identical_predictions_and_contributions(tmp_path, fitted):
    model, X = fitted
    registry = ModelRegistry(tmp_path / "churn")
    saved = registry.save(model, _record(), created_at=CREATED)
    loaded, metadata = registry.load()
    assert saved.version == "v1" and metadata.version == "v1"
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    pd.testing.assert_frame_equal(loaded.contributions(X), model.contributions(X))
    assert loaded.categories_ == model.categories_ == {"plan": ["basic", "pro", "team"]}


def test_a_linear_model_round_trips_with_no_booster_files(tmp_path, fitted):
    _, X = fitted
    model = ChurnModel(capacity="linear").fit(*_world(800, seed=1))
    saved = ModelRegistry(tmp_path / "churn").save(model, _record(), created_at=CREATED)
    loaded, metadata = ModelRegistry(tmp_path / "churn").load()
    assert metadata.artifact.boosters == [] and not list(saved.path.glob("booster_*.txt"))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    pd.testing.assert_frame_equal(loaded.contributions(X), model.contributions(X))


def test_metadata_written_before_baselines_and_capacity_still_loads(tmp_path, fitted):
    model, _ = fitted
    saved = ModelRegistry(tmp_path / "churn").save(model, _record(), created_at=CREATED)
    old = json.loads((saved.path / "metadata.json").read_text())
    del old["capacity"], old["backtest"]["baselines"]  # what a model trained before them has on disk
    (saved.path / "metadata.json").write_text(json.dumps(old))
    metadata = ModelRegistry(tmp_path / "churn").metadata()
    assert metadata.backtest.baselines == {} and metadata.capacity == {}


def test_boosters_are_saved_as_lightgbm_text(tmp_path, fitted):
    model, X = fitted
    saved = ModelRegistry(tmp_path / "churn").save(model, _record(), created_at=CREATED)
    assert saved.metadata.artifact.boosters == ["booster_0.txt", "booster_1.txt", "booster_2.txt"]
    encoded = model._layout.transform(X)
    for i, booster in enumerate(model.boosters_):
        text = (saved.path / f"booster_{i}.txt").read_text()
        # The text alone rebuilds the trees: same raw scores as the fitted booster.
        rebuilt = lgb.Booster(model_str=text)
        np.testing.assert_allclose(rebuilt.predict(encoded, raw_score=True), booster.predict(encoded, raw_score=True))


def test_current_pointer_follows_the_latest_save_and_can_be_moved(tmp_path, fitted):
    model, _ = fitted
    registry = ModelRegistry(tmp_path / "churn")
    assert registry.current() is None and registry.versions() == []
    registry.save(model, _record(horizon_days=30), created_at=CREATED)
    registry.save(model, _record(horizon_days=60), created_at=CREATED)
    assert registry.versions() == ["v1", "v2"]
    assert registry.current() == "v2"
    assert (tmp_path / "churn" / "CURRENT").read_text() == "v2\n"
    assert registry.metadata().horizon_days == 60
    registry.set_current("v1")
    assert registry.current() == "v1"
    assert registry.load()[1].horizon_days == 30
    assert [item.metadata.horizon_days for item in registry.list()] == [30, 60]
    with pytest.raises(InputError, match="no model version 'v7'; saved versions: \\['v1', 'v2'\\]"):
        registry.set_current("v7")


def test_versions_number_past_ten_in_numeric_order(tmp_path, fitted):
    model, _ = fitted
    registry = ModelRegistry(tmp_path / "churn")
    for folder in ("v1", "v2", "v9", "v10"):  # sorted as text, v10 would come before v2
        (tmp_path / "churn" / folder).mkdir(parents=True)
    assert registry.save(model, _record(), created_at=CREATED).version == "v11"
    assert registry.versions() == ["v1", "v2", "v9", "v10", "v11"]


def test_metadata_records_what_was_saved(tmp_path, fitted):
    model, _ = fitted
    saved = ModelRegistry(tmp_path / "churn").save(model, _record(), created_at=CREATED)
    on_disk = json.loads((saved.path / "metadata.json").read_text())
    assert on_disk == saved.metadata.model_dump(mode="json")
    assert on_disk["created_at"] == "2026-03-01T08:30:00Z"
    assert on_disk["features"] == ["usage_drop", "plan"]
    assert on_disk["libraries"]["lightgbm"] == lgb.__version__
    assert on_disk["libraries"]["scikit-learn"] == sklearn.__version__
    assert on_disk["libraries"]["numpy"] == np.__version__
    assert on_disk["libraries"]["pandas"] == pd.__version__
    assert set(on_disk["libraries"]) >= {"retain", "scipy"}
    digest = hashlib.sha256((saved.path / "model.joblib").read_bytes()).hexdigest()
    assert on_disk["artifact"]["sha256"] == digest


def test_a_changed_model_file_is_refused(tmp_path, fitted):
    model, _ = fitted
    saved = ModelRegistry(tmp_path / "churn").save(model, _record(), created_at=CREATED)
    with open(saved.path / "model.joblib", "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(WorkspaceError, match="does not match the checksum"):
        ModelRegistry(tmp_path / "churn").load()


def test_nothing_trained_yet_says_what_to_run(tmp_path):
    with pytest.raises(NotFittedError, match="run `retain model train`"):
        ModelRegistry(tmp_path / "churn").load()


def test_unfitted_or_naive_time_is_refused(tmp_path, fitted):
    registry = ModelRegistry(tmp_path / "churn")
    with pytest.raises(NotFittedError):
        registry.save(ChurnModel(), _record(), created_at=CREATED)
    with pytest.raises(InputError, match="no time zone"):
        registry.save(fitted[0], _record(), created_at=datetime(2026, 3, 1))
    assert registry.versions() == []


def test_a_half_written_version_is_invisible_and_cleaned_up(tmp_path, fitted):
    model, _ = fitted
    registry = ModelRegistry(tmp_path / "churn")
    registry.save(model, _record(), created_at=CREATED)
    leftover = tmp_path / "churn" / ".tmp-v2"  # a save killed before its rename
    leftover.mkdir()
    (leftover / "model.joblib").write_bytes(b"partial")
    assert registry.versions() == ["v1"] and registry.current() == "v1"
    assert registry.save(model, _record(), created_at=CREATED).version == "v2"
    assert not leftover.exists()
    assert registry.load("v2")[1].version == "v2"


def test_a_damaged_metadata_file_is_refused_with_the_field(tmp_path, fitted):
    model, _ = fitted
    saved = ModelRegistry(tmp_path / "churn").save(model, _record(), created_at=CREATED)
    data = json.loads((saved.path / "metadata.json").read_text())
    data["horizon_days"] = "soon"
    (saved.path / "metadata.json").write_text(json.dumps(data))
    with pytest.raises(
        WorkspaceError, match=r"metadata.json is missing or not the metadata of a retain model \(1 validation error"
    ):
        ModelRegistry(tmp_path / "churn").load()

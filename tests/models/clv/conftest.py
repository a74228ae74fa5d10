"""CDNOW fixtures for the CLV tests (data in tests/data/cdnow, see its README for the source)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from retain.models.clv import BetaGeoModel, GammaGammaModel, ModifiedBetaGeoModel

CDNOW_DIR = Path(__file__).resolve().parents[2] / "data" / "cdnow"


@pytest.fixture(scope="session")
def cdnow_summary() -> pd.DataFrame:
    """The 2,357-customer CDNOW summary: x, t_x, T in weeks, monetary = mean repeat-purchase value."""
    df = pd.read_csv(CDNOW_DIR / "cdnow_customers_summary_with_transactions.csv", index_col="ID")
    return df.rename(columns={"zbar": "monetary"})


@pytest.fixture(scope="session")
def cdnow_orders() -> pd.DataFrame:
    """The CDNOW sample's transactions as an orders table (customer_id, ordered_at, amount)."""
    raw = pd.read_csv(
        CDNOW_DIR / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "amount"],
        dtype={"date": str},
    )
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"],
            "ordered_at": pd.to_datetime(raw["date"], format="%Y%m%d"),
            "amount": raw["amount"],
        }
    )


@pytest.fixture(scope="session")
def cdnow_bg(cdnow_summary: pd.DataFrame) -> BetaGeoModel:
    return BetaGeoModel().fit(cdnow_summary[["x", "t_x", "T"]])


@pytest.fixture(scope="session")
def cdnow_mbg(cdnow_summary: pd.DataFrame) -> ModifiedBetaGeoModel:
    return ModifiedBetaGeoModel().fit(cdnow_summary[["x", "t_x", "T"]])


@pytest.fixture(scope="session")
def cdnow_gg(cdnow_summary: pd.DataFrame) -> GammaGammaModel:
    return GammaGammaModel().fit(cdnow_summary[["x", "monetary"]])

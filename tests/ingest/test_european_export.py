"""The real UCI Online Retail II subset, written out as a German spreadsheet would export it (banner lines,
semicolons, decimal commas with thousands points, day-first local times in Europe/Berlin), ingests with
--skip-rows, --decimal , , --date-format and --timezone into exactly the orders of the original file."""

from __future__ import annotations

import pandas as pd

from retain.contract.formats import ValueFormats
from retain.ingest import IngestOptions, ingest
from retain.lake import Lake, read_table

FILE = "online_retail_II_subset_Year_2009-2010.csv"


def _european_number(text: str) -> str:
    """``-80995`` -> ``-80.995``, ``1234.5`` -> ``1.234,5``: written here with plain string operations."""
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, fraction = digits.partition(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    return sign + grouped + ("," + fraction if fraction else "")


def _as_german_export(raw: pd.DataFrame, path) -> None:
    out = raw.copy()
    out["Quantity"] = raw["Quantity"].map(_european_number)
    out["Price"] = raw["Price"].map(_european_number)
    berlin = pd.to_datetime(raw["InvoiceDate"]).dt.tz_localize("UTC").dt.tz_convert("Europe/Berlin")
    out["InvoiceDate"] = berlin.dt.strftime("%d.%m.%Y %H:%M")
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("Umsatzbericht Online-Shop\n")
        f.write("Exportiert am 01.01.2011\n")
        out.to_csv(f, sep=";", index=False)


def test_a_german_export_gives_the_orders_of_the_original(tmp_path, shared_file, duck):
    original = shared_file("online-retail-ii-subset", FILE)
    raw = pd.read_csv(original, dtype=str, keep_default_na=False)
    assert (pd.to_datetime(raw["InvoiceDate"]).dt.second == 0).all()  # minutes are all the file has
    assert raw["Quantity"].str.lstrip("-").str.len().max() >= 4  # so thousands separators are exercised
    german = tmp_path / "umsatz.csv"
    _as_german_export(raw, german)

    lake_a, lake_b = Lake(tmp_path / "a"), Lake(tmp_path / "b")
    plain = ingest(lake_a, "orders", original, IngestOptions(preset="online-retail-ii"))
    formats = ValueFormats(date_format="%d.%m.%Y %H:%M", decimal=",", timezone="Europe/Berlin")
    local = ingest(lake_b, "orders", german, IngestOptions(preset="online-retail-ii", skip_rows=2, formats=formats))

    assert (local.rows_read, local.rows_accepted, local.rows_rejected) == (
        plain.rows_read,
        plain.rows_accepted,
        plain.rows_rejected,
    )
    assert local.rejects_by_reason == plain.rejects_by_reason
    columns = ["order_id", "customer_id", "ordered_at", "amount", "status", "items"]
    a, b = (
        duck.to_pandas(read_table(duck, lake, "orders")).sort_values("order_id")[columns] for lake in (lake_a, lake_b)
    )
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
    # Rejected lines keep their line numbers in the export: two banner lines further down than in the original.
    rejects_a, rejects_b = (pd.read_csv(r.rejects_path) for r in (plain, local))
    assert (rejects_b["source_row"] - 2).tolist() == rejects_a["source_row"].tolist()

"""--date-format, --decimal , and --timezone on tiny hand-written files: exact values kept, exact rejects."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pyarrow as pa
import pytest

from retain.contract.formats import DecimalSeparator, ValueFormats
from retain.errors import InputError
from retain.ingest import IngestOptions, IngestStatus, ingest

ORDERS = "order_id,customer_id,ordered_at,amount,status,items\n"


def _write(tmp_path, text: str, name: str = "orders.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _rejects(result) -> list[tuple[int, str, str, str]]:
    frame = pd.read_csv(result.rejects_path, dtype=str, keep_default_na=False)
    return list(frame[["source_row", "column", "reason", "message"]].itertuples(index=False, name=None))


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_date_format_reads_day_first_times_and_names_the_format_of_a_reject(tmp_path, lake, lake_rows):
    path = _write(
        tmp_path,
        ORDERS + "o1,c1,23/04/2025 10:30,1,completed,1\n"  # day first
        "o2,c1,05/04/2025,1,completed,1\n"  # only the date part: midnight
        "o3,c1,31/02/2025 10:00,1,completed,1\n"  # no 31 February
        "o4,c1,2025-04-23 10:30,1,completed,1\n",  # ISO is not the format given
    )
    result = ingest(lake, "orders", path, IngestOptions(formats=ValueFormats(date_format="%d/%m/%Y %H:%M")))

    assert (result.rows_accepted, result.rows_rejected) == (2, 2)
    got = lake_rows("orders").sort_by("order_id").to_pydict()
    assert got["ordered_at"] == [_utc(2025, 4, 23, 10, 30), _utc(2025, 4, 5)]
    expected = "not a timestamp (expected --date-format %d/%m/%Y %H:%M (01/03/2025 10:22) or %d/%m/%Y (01/03/2025))"
    assert _rejects(result) == [
        ("4", "ordered_at", "bad_timestamp", expected),
        ("5", "ordered_at", "bad_timestamp", expected),
    ]


def test_date_format_applies_to_date_columns_with_their_date_part(tmp_path, lake, lake_rows):
    path = _write(
        tmp_path,
        "customer_id,created_at,birth_date\n"
        "c1,01/02/2024 08:00,23/04/1990\n"
        "c2,02/02/2024 09:15,24/04/1990 00:00\n"  # a date column takes the date of a value with a time
        "c3,03/02/2024 10:00,1990-04-25\n",
        "customers.csv",
    )
    result = ingest(lake, "customers", path, IngestOptions(formats=ValueFormats(date_format="%d/%m/%Y %H:%M")))

    got = lake_rows("customers").sort_by("customer_id").to_pydict()
    assert got["customer_id"] == ["c1", "c2"]
    assert got["created_at"] == [_utc(2024, 2, 1, 8), _utc(2024, 2, 2, 9, 15)]
    assert got["birth_date"] == [date(1990, 4, 23), date(1990, 4, 24)]
    assert _rejects(result) == [
        ("4", "birth_date", "bad_date", "not a date (expected --date-format %d/%m/%Y (01/03/2025))")
    ]


def test_date_format_with_an_offset_keeps_each_values_offset(tmp_path, lake, lake_rows):
    path = _write(
        tmp_path, ORDERS + "o1,c1,23.04.2025 10:30 +0200,1,completed,1\no2,c1,23.04.2025 10:30 -0500,1,completed,1\n"
    )
    options = IngestOptions(formats=ValueFormats(date_format="%d.%m.%Y %H:%M %z", timezone="Asia/Tokyo"))
    ingest(lake, "orders", path, options)

    got = lake_rows("orders").sort_by("order_id").to_pydict()
    assert got["ordered_at"] == [_utc(2025, 4, 23, 8, 30), _utc(2025, 4, 23, 15, 30)]


def test_decimal_comma_with_point_or_space_thousands(tmp_path, lake, lake_rows):
    path = _write(
        tmp_path,
        "order_id;customer_id;ordered_at;amount;status;items\n"
        "o1;c1;2025-01-01;1.234,50;completed;1.200\n"
        "o2;c1;2025-01-01;1 234,5;completed;2\n"
        "o3;c1;2025-01-01;1\u00a0000\u00a0000,25;completed;3\n"  # no-break spaces, as spreadsheets write them
        "o4;c1;2025-01-01;-12,5;refunded;1\n"
        "o5;c1;2025-01-01;7;completed;1\n"
        "o6;c1;2025-01-01;12.50;completed;1\n"  # a point that is no thousands separator
        "o7;c1;2025-01-01;1.23,4;completed;1\n"  # a group of two digits
        "o8;c1;2025-01-01;5;completed;2,5\n",  # items must be whole
    )
    result = ingest(lake, "orders", path, IngestOptions(formats=ValueFormats(decimal=",")))

    got = lake_rows("orders").sort_by("order_id").to_pydict()
    assert got["order_id"] == ["o1", "o2", "o3", "o4", "o5"]
    assert got["amount"] == [1234.5, 1234.5, 1000000.25, -12.5, 7.0]
    assert got["items"] == [1200, 2, 3, 1, 1]
    number = "not a finite number (expected a decimal comma (--decimal ,) such as 1.234,50 or 12,5)"
    assert _rejects(result) == [
        ("7", "amount", "bad_number", number),
        ("8", "amount", "bad_number", number),
        ("9", "items", "bad_integer", "not a whole number (expected a decimal comma (--decimal ,) such as 1.234)"),
    ]


def test_without_the_option_a_decimal_comma_is_rejected(tmp_path, lake):
    path = _write(tmp_path, "order_id;customer_id;ordered_at;amount;status\no1;c1;2025-01-01;12,50;completed\n")
    result = ingest(lake, "orders", path)
    assert result.status is IngestStatus.NOTHING_ACCEPTED
    assert _rejects(result) == [("2", "amount", "bad_number", "not a finite number (such as 12.50)")]


# Europe/Berlin: CET (+01:00) in winter, CEST (+02:00) from 2025-03-30 02:00 (clocks jump to 03:00) until
# 2025-10-26 03:00 (clocks go back to 02:00, so 02:00-02:59 happens twice). Offsets from the tz database.
BERLIN = [
    ("2025-01-15 12:00", _utc(2025, 1, 15, 11)),  # winter, +01:00
    ("2025-07-01 12:00", _utc(2025, 7, 1, 10)),  # summer, +02:00
    ("2025-03-30 01:59", _utc(2025, 3, 30, 0, 59)),  # just before the gap, +01:00
    ("2025-03-30 02:30", _utc(2025, 3, 30, 1, 30)),  # in the gap: the offset before it, +01:00
    ("2025-03-30 03:00", _utc(2025, 3, 30, 1)),  # just after the gap, +02:00
    ("2025-10-26 02:30", _utc(2025, 10, 26, 0, 30)),  # in the fold: its first occurrence, +02:00
    ("2025-10-26 03:00", _utc(2025, 10, 26, 2)),  # after the fold, +01:00
    ("2025-07-01T12:00:00+05:30", _utc(2025, 7, 1, 6, 30)),  # an offset is kept
    ("2025-07-01T12:00:00Z", _utc(2025, 7, 1, 12)),
    ("2025-07-01", _utc(2025, 6, 30, 22)),  # a date alone is local midnight
]


def test_timezone_reads_naive_times_as_local_and_handles_the_gap_and_the_fold(tmp_path, lake, lake_rows):
    lines = [f"e{i},c1,login,{text}" for i, (text, _) in enumerate(BERLIN)]
    path = _write(tmp_path, "event_id,customer_id,event_type,occurred_at\n" + "\n".join(lines) + "\n", "events.csv")
    result = ingest(lake, "events", path, IngestOptions(formats=ValueFormats(timezone="Europe/Berlin")))

    assert result.rows_accepted == len(BERLIN) and result.rows_rejected == 0
    got = dict(zip(*lake_rows("events").select(["event_id", "occurred_at"]).to_pydict().values(), strict=True))
    assert [got[f"e{i}"] for i in range(len(BERLIN))] == [utc for _, utc in BERLIN]


def test_timezone_agrees_with_zoneinfo_fold_0_on_every_minute_of_both_transitions():
    """An independent reference: Python's zoneinfo (PEP 495, fold=0) for every minute around both changes."""
    from zoneinfo import ZoneInfo

    from retain.contract.convert import convert
    from retain.contract.tables import ColumnType

    minutes = [
        *pd.date_range("2025-03-30 00:00", "2025-03-30 04:00", freq="min"),
        *pd.date_range("2025-10-26 00:00", "2025-10-26 04:00", freq="min"),
    ]
    text = pa.array([m.strftime("%Y-%m-%d %H:%M") for m in minutes])
    got = convert(text, ColumnType.TIMESTAMP, ValueFormats(timezone="Europe/Berlin")).values.to_pylist()
    zone = ZoneInfo("Europe/Berlin")
    assert got == [m.to_pydatetime().replace(tzinfo=zone).astimezone(UTC) for m in minutes]


def test_timezone_applies_to_typed_naive_timestamps_too(lake, lake_rows):
    table = pa.table(
        {
            "event_id": ["e1", "e2"],
            "customer_id": ["c1", "c1"],
            "event_type": ["login", "login"],
            "occurred_at": pa.array([datetime(2025, 1, 15, 12), datetime(2025, 7, 1, 12)], pa.timestamp("us")),
        }
    )
    ingest(lake, "events", table, IngestOptions(formats=ValueFormats(timezone="America/New_York")))
    got = lake_rows("events").sort_by("event_id").to_pydict()
    assert got["occurred_at"] == [_utc(2025, 1, 15, 17), _utc(2025, 7, 1, 16)]  # EST -05:00, EDT -04:00


def test_each_format_is_part_of_the_fingerprint(tmp_path, lake, lake_rows):
    path = _write(tmp_path, ORDERS + "o1,c1,2025-01-15 12:00,10,completed,1\n")
    first = ingest(lake, "orders", path)
    again = ingest(lake, "orders", path, IngestOptions(formats=ValueFormats()))
    berlin = ingest(lake, "orders", path, IngestOptions(formats=ValueFormats(timezone="Europe/Berlin")))
    berlin_again = ingest(lake, "orders", path, IngestOptions(formats=ValueFormats(timezone="Europe/Berlin")))

    assert first.status is IngestStatus.COMMITTED and again.status is IngestStatus.ALREADY_INGESTED
    assert berlin.status is IngestStatus.COMMITTED and berlin.fingerprint != first.fingerprint
    assert berlin_again.status is IngestStatus.ALREADY_INGESTED
    assert lake_rows("orders").to_pydict()["ordered_at"] == [_utc(2025, 1, 15, 11)]  # the later batch wins
    fingerprints = {
        ingest(lake, "orders", path, IngestOptions(formats=f)).fingerprint
        for f in (ValueFormats(date_format="%Y-%m-%d %H:%M"), ValueFormats(decimal=DecimalSeparator.COMMA))
    }
    assert len(fingerprints | {first.fingerprint, berlin.fingerprint}) == 4


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timezone": "Europe/Atlantis"}, "--timezone 'Europe/Atlantis': not a known time zone"),
        ({"date_format": "%H:%M"}, "--date-format '%H:%M': needs the year, month, day"),
        ({"date_format": "%d/%m"}, "--date-format '%d/%m': needs the year"),
        ({"decimal": ";"}, "--decimal ';': expected '.' or ','"),
    ],
)
def test_bad_options_say_what_is_wrong(kwargs, message):
    with pytest.raises(InputError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        ValueFormats(**kwargs)


def test_the_platform_presets_read_their_times_and_amounts_with_the_formats(tmp_path, lake, lake_rows):
    """Stripe's invoices export written with decimal commas and day-first times gives the same orders."""
    from pathlib import Path

    original = Path(__file__).resolve().parents[1] / "data" / "platforms" / "stripe_invoices.csv"
    raw = pd.read_csv(original, dtype=str, keep_default_na=False)
    local = raw.copy()
    for column in ("Amount Due", "Amount Paid", "Amount Remaining", "Subtotal", "Total"):
        local[column] = raw[column].map(lambda v: f"{float(v):,.2f}".replace(",", " ").replace(".", ","))
    for column in ("Date (UTC)", "Due Date (UTC)", "Finalized At (UTC)", "Paid At (UTC)"):
        local[column] = raw[column].map(lambda v: pd.Timestamp(v).strftime("%d/%m/%Y %H:%M") if v else "")
    assert local.loc[0, "Amount Paid"] == "1 200,00" and local.loc[0, "Paid At (UTC)"] == "01/01/2024 00:04"
    path = tmp_path / "invoices.csv"
    local.to_csv(path, sep=";", index=False)

    formats = ValueFormats(date_format="%d/%m/%Y %H:%M", decimal=",")
    result = ingest(lake, "orders", path, IngestOptions(preset="stripe-invoices", formats=formats))

    assert (result.rows_read, result.rows_accepted) == (4, 2)
    got = sorted((r["order_id"], r["ordered_at"], r["amount"]) for r in lake_rows("orders").to_pylist())
    assert got == [("in_1", _utc(2024, 1, 1, 0, 4), 1200.0), ("in_4", _utc(2024, 1, 15, 8, 30), 10.0)]

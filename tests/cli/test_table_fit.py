"""Tables sized for the terminal (retain.cli._tables) and the wide views built on them, at 80 columns.

Each table is rendered on an 80-column console and read back: no line is wider than 80, ids and numbers
appear whole on one line and never as ``…``, long text wraps at spaces, and what was left out is named.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from rich.console import Console
from terminal80 import WIDTH, cells, flat, too_long

from retain.analytics.periods import Freq
from retain.cli import _common
from retain.cli._at_risk_table import DEFAULT_AT_RISK_COLUMNS, at_risk_table, reasons_table
from retain.cli._cohorts_table import cohorts_table, shown_ages
from retain.cli._metrics_table import DEFAULT_KPIS, choose_kpis, metrics_table
from retain.cli._tables import Col, choose_columns, fit_table
from retain.cli.bench_cmd import print_results
from retain.errors import InputError
from retain.services import CohortView


def _render(renderable, width: int = WIDTH) -> str:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None).print(renderable)
    return out.getvalue()


def _assert_readable(output: str) -> None:
    assert too_long(output) == []
    assert "…" not in output


LONG_REASON = "on the business plan; renewal in 8 days and usage falling; based in US; no login for 103 days"


def test_ids_and_numbers_stay_whole_and_long_text_wraps_at_spaces():
    columns = [Col("id", "customer"), Col("amount", "revenue at risk", "right"), Col("why", "why", wrap=True)]
    rows = [["C0000000153", "1,234,567", LONG_REASON], ["C2", "3", "short"]]
    output = _render(fit_table(columns, rows, width=WIDTH))
    _assert_readable(output)
    table = cells(output)
    assert ["C0000000153", "1,234,567"] in [row[:2] for row in table]  # one line each, whole
    assert ["C2", "3", "short"] in table
    start = [row[0] for row in table].index("C0000000153")
    first = [row[2] for row in table[start : table.index(["C2", "3", "short"])]]
    assert " ".join(first) == LONG_REASON  # wrapped at spaces, nothing lost


def test_optional_columns_are_left_out_in_order_and_named():
    columns = [Col(f"c{i}", f"column {i}", "right") for i in range(12)]
    rows = [[f"{1_000_000 + i:,}" for i in range(12)]]
    fitted = fit_table(columns, rows, width=WIDTH, optional=[f"c{i}" for i in range(11, 0, -1)])
    output = _render(fitted)
    _assert_readable(output)
    shown = 12 - len(fitted.hidden)
    assert fitted.hidden == [f"c{i}" for i in range(shown, 12)]  # the last ones went first
    assert cells(output)[-1] == [f"{1_000_000 + i:,}" for i in range(shown)]


def test_required_columns_wider_than_the_terminal_fold_but_are_never_cut():
    columns = [Col("id", "id"), Col("n", "n", "right")]
    rows = [["X" * 100, "12345"]]
    output = _render(fit_table(columns, rows, width=WIDTH))
    assert "…" not in output
    assert "".join(row[0] for row in cells(output)[1:]) == "X" * 100  # folded over lines, every character there
    assert "".join(row[1] for row in cells(output)[1:]) == "12345"


def test_cells_are_never_read_as_markup():
    output = _render(fit_table([Col("a", "a")], [["[/bold]"], ["[link=https://evil.example]x[/link]"]], width=WIDTH))
    assert "[/bold]" in output and "[link=https://evil.example]x[/link]" in output


def test_choose_columns_keeps_the_order_given_and_refuses_unknown_names_listing_the_valid_ones():
    valid = ["rank", "customer_id", "reasons"]
    assert choose_columns(None, valid, ["rank"]) == ["rank"]
    assert choose_columns(" reasons, rank ,reasons", valid, ["rank"]) == ["reasons", "rank"]
    with pytest.raises(InputError, match=r"Unknown column\(s\) 'nope' for --columns\. Valid: rank, customer_id"):
        choose_columns("rank,nope", valid, ["rank"])


# ------------------------------------------------------------------ metrics: a KPI per row, periods as columns
def _periods(n: int) -> list[dict]:
    rows = []
    for i in range(n):
        start = datetime(2024 + (i // 12), i % 12 + 1, 1, tzinfo=UTC)
        rows.append(
            {
                "period_start": start,
                "complete": i < n - 1,
                "retention": {"start_customers": 10_000 + i, "end_customers": 10_100 + i, "retention_rate": 95.25},
                "mrr": {"ending_mrr": 1_234_567.0 + i, "nrr": 101.04, "new_customers": 7},
                "commerce": {"revenue": 98_765.4, "aov": 66.35, "customers": 5},
            }
        )
    return rows


def test_metrics_show_the_newest_periods_that_fit_with_every_number_whole():
    rows = _periods(12)
    fitted = metrics_table(rows, choose_kpis(None, rows), freq=Freq.MONTH, title="Metrics", width=WIDTH)
    output = _render(fitted)
    _assert_readable(output)
    table = cells(output)
    header = table[0]
    assert header[0] == "KPI" and header[-1] == "2024-12*"  # the newest period, marked partial, on the right
    assert fitted.hidden == [f"2024-{m:02d}" for m in range(1, 13 - (len(header) - 1))]  # the oldest went
    assert len(header) - 1 >= 4
    assert ["MRR at end", *(f"{1_234_567 + i:,}" for i in range(12 - len(header) + 1, 12))] in table
    assert ["retention", *["95.2%"] * (len(header) - 1)] in table  # 95.25 → 95.2 (round half to even)


def test_metrics_columns_choose_kpis_by_csv_name_or_unique_column_name():
    rows = _periods(3)
    kpis = choose_kpis("nrr, commerce.customers,retention.start_customers", rows)
    assert [k.name for k in kpis] == ["mrr.nrr", "commerce.customers", "retention.start_customers"]
    assert [k.label for k in kpis] == ["NRR", "commerce.customers", "customers at start"]
    with pytest.raises(InputError) as refused:
        choose_kpis("new_customers,bogus", [{**rows[0], "retention": {"new_customers": 1}}])
    message = str(refused.value)
    assert "'new_customers' is in several sections (retention.new_customers or mrr.new_customers)" in message
    assert "'bogus' is no column" in message and "Valid" in message and "commerce.aov" in message
    defaults = [k.name for k in choose_kpis(None, rows)]  # the default KPIs the view has, in their order
    retention = ["retention.start_customers", "retention.end_customers", "retention.retention_rate"]
    assert defaults == [*retention, "mrr.ending_mrr", "mrr.nrr", "commerce.revenue", "commerce.aov"]
    assert defaults == [k.name for k in DEFAULT_KPIS if k.name in defaults]


# ------------------------------------------------------------------ cohorts: milestones when ages do not fit
def test_cohorts_keep_milestone_ages_when_not_every_age_fits():
    ages = list(range(24))
    view = CohortView(
        "logo",
        False,
        ages,
        [{"cohort": datetime(2024, 1, 1), "cohort_size": 1_345.0, "values": [1_345.0 - 10 * a for a in ages]}],
    )
    fitted = cohorts_table(view, title="Cohorts", width=WIDTH)
    output = _render(fitted)
    _assert_readable(output)
    shown = [int(h[1:]) for h in cells(output)[0][2:]]
    assert shown[:4] == [0, 1, 2, 3] and {6, 9, 12} <= set(shown) and 23 not in shown
    assert shown_ages(ages, fitted.hidden) == ", ".join(map(str, shown))
    assert cells(output)[1][:3] == ["2024-01", "1,345", "1,345"]
    assert cells(output)[1][-1] == f"{1_345 - 10 * shown[-1]:,}"


# ------------------------------------------------------------------ at-risk: compact table, reasons underneath
AT_RISK = [
    {
        "rank": i + 1,
        "customer_id": f"C{153 + i:07d}",
        "expected_loss": 1_365.77 - i,
        "p_churn": 0.283,
        "value_if_retained": 12_328.05,
        "health": 44,
        "band": "yellow",
        "reasons": LONG_REASON,
        "reason_code": "price",
        "playbook": "service_recovery",
    }
    for i in range(3)
]


def test_at_risk_default_table_fits_and_the_reasons_follow_whole():
    table = at_risk_table(AT_RISK, DEFAULT_AT_RISK_COLUMNS, title="Top 3", width=WIDTH)
    reasons = reasons_table(AT_RISK, with_code=True, width=WIDTH)
    output = _render(table) + _render(reasons)
    _assert_readable(output)
    assert table.hidden == []
    assert ["1", "C0000153", "28%", "12,328", "1,366", "44 yellow", "service_recovery"] in cells(output)
    assert f"1 C0000153 price: {LONG_REASON}" in flat(output)


def test_at_risk_columns_that_do_not_fit_are_left_out_from_the_end_never_the_id():
    every = [
        "rank",
        "customer_id",
        "reasons",
        "expected_loss",
        "p_churn",
        "value_if_retained",
        "health",
        "band",
        "playbook",
    ]
    table = at_risk_table(AT_RISK, every, title="Top 3", width=WIDTH)
    output = _render(table)
    _assert_readable(output)
    assert table.hidden and table.hidden == [c for c in every if c in table.hidden]
    assert "customer_id" not in table.hidden and "rank" not in table.hidden
    assert ["3", "C0000155"] in [row[:2] for row in cells(output)]
    reasons = " ".join(row[2] for row in cells(output) if row[2] and row[2] != "reasons")
    assert reasons == " ".join([LONG_REASON] * 3)  # wrapped at spaces, nothing lost


# ------------------------------------------------------------------ bench: a measure per row, a run per column
def test_bench_results_are_transposed_to_fit(capsys):
    headers = ("customers", "lake rows", "refresh s", "metrics s", "pandas s", "refresh CPU s", "metrics CPU s")
    headers += ("pandas CPU s", "pandas ÷ refresh", "pandas ÷ metrics", "refresh peak MB", "metrics peak MB")
    lines = [
        ("100,000", "5,012,345", "3.21", "1.05", "40.10", "9.90", "2.00", "39.00", "12.49×", "38.19×", "812", "604"),
        ("1,000,000", "50,123,456", "30.02", "9.87", "400.55", "99.1", "20.0", "390.2", "13.34×", "40.58×", "8", "6"),
    ]
    saved = _common.console.width
    _common.console.width = WIDTH
    try:
        print_results("retain bench analytics (median of 3)", headers, lines, markdown=False)
    finally:
        _common.console.width = saved
    output = capsys.readouterr().out
    _assert_readable(output)
    table = cells(output)
    assert table[0] == ["customers", "100,000", "1,000,000"]
    assert ["lake rows", "5,012,345", "50,123,456"] in table and ["pandas ÷ metrics", "38.19×", "40.58×"] in table

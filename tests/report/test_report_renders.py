"""``retain report`` output opened in headless Chromium: every chart renders to SVG, and a screenshot is not blank.

Chromium runs with networking features off and a fresh profile; ``--virtual-time-budget`` lets the page's scripts
finish before the DOM is dumped, so what we read is the page after Plotly drew the charts.
"""

from __future__ import annotations

import re
import struct
import subprocess
import zlib
from pathlib import Path

from retain.report import FIGURES, write_report

_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=10000",
)
TITLES = (
    "Retention and churn by month",
    "MRR movements by month",
    "Cohort retention by signup month",
    "RFM segments",
    "Lifecycle flows, ",
)
RISK_CHARTS = ("risk-distribution", "lift-chart", "calibration-plot")
RISK_TITLES = (
    "Churn risk distribution (",
    "Lift by risk decile (temporal backtest, ROC-AUC ",
    "Calibration (temporal ",
)
NO_MODEL = "train a model to see who is at risk"


def _chromium(binary: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    return subprocess.run(
        [binary, *_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )


def _png_pixels(path: Path) -> tuple[int, int, int, list[bytes]]:
    """Width, height, channels and raw rows (filters undone) of an 8-bit RGB/RGBA PNG, using only the stdlib."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    pos, chunks = 8, {}
    idat = b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IDAT":
            idat += body
        else:
            chunks.setdefault(kind, body)
        pos += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert depth == 8 and color in (2, 6), f"unexpected PNG format depth={depth} color={color}"
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):  # undo the PNG row filters (spec section 9)
            a = line[x - channels] if x >= channels else 0
            b = previous[x]
            c = previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + a) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + b) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, channels, rows


def test_report_charts_render_in_headless_chromium(chromium, synthetic_snapshot, tmp_path):
    report = write_report(synthetic_snapshot, tmp_path / "report.html")
    html = report.read_text(encoding="utf-8")
    assert "<script src=" not in html and html.count("plotly.js v") == 1  # self-contained: the bundle once, inline

    dom = _chromium(chromium, tmp_path, "--dump-dom", report.as_uri()).stdout
    containers = re.findall(r'<div id="chart-([a-z-]+)" class="plotly-graph-div', dom)
    # Without a churn model the risk charts are left out and the report says how to get them.
    assert containers == [c for c in FIGURES if c not in RISK_CHARTS], containers
    assert NO_MODEL in dom and 'id="top-at-risk"' not in dom
    # Plotly replaces each empty container with its rendered SVG: split the DOM at the containers and look inside.
    pieces = re.split(r'<div id="chart-[a-z-]+" class="plotly-graph-div', dom)[1:]
    for chart_id, piece in zip(containers, pieces, strict=True):
        assert 'class="main-svg"' in piece, f"chart {chart_id} did not render to SVG"
    for title in TITLES:
        assert title in dom, f"chart title {title!r} not rendered"
    assert dom.count('class="tile"') >= 6
    assert "Active customers" in dom and "NRR" in dom

    shot = tmp_path / "report.png"
    _chromium(chromium, tmp_path, f"--screenshot={shot}", "--window-size=1400,2000", report.as_uri())
    assert shot.stat().st_size > 20_000
    width, height, channels, rows = _png_pixels(shot)
    assert (width, height) == (1400, 2000)
    sample = [row[x * channels : x * channels + 3] for row in rows[::20] for x in range(0, width, 7)]
    distinct = len(set(sample))
    # A blank page is one colour; the header, tiles, lines, bars and the heatmap give many.
    assert distinct > 50, f"screenshot looks blank: only {distinct} distinct colours sampled"
    dark = sum(1 for px in sample if max(px) < 90)  # the dark header band and text
    assert dark > len(sample) * 0.02


def test_report_with_a_model_shows_the_risk_charts_and_top_at_risk_table(chromium, trained_snapshot, tmp_path):
    report = write_report(trained_snapshot, tmp_path / "report.html")
    dom = _chromium(chromium, tmp_path, "--dump-dom", report.as_uri()).stdout
    containers = re.findall(r'<div id="chart-([a-z-]+)" class="plotly-graph-div', dom)
    assert containers == list(FIGURES) and set(RISK_CHARTS) <= set(containers), containers
    pieces = re.split(r'<div id="chart-[a-z-]+" class="plotly-graph-div', dom)[1:]
    for chart_id, piece in zip(containers, pieces, strict=True):
        assert 'class="main-svg"' in piece, f"chart {chart_id} did not render to SVG"
    for title in RISK_TITLES:
        assert title in dom, f"chart title {title!r} not rendered"
    # Each risk chart drew its marks: histogram and lift bars, calibration points (the 10 deciles).
    by_id = dict(zip(containers, pieces, strict=True))
    marks = {chart: len(re.findall(r'class="point[" ]', by_id[chart])) for chart in RISK_CHARTS}
    assert marks["risk-distribution"] >= 5 and marks["lift-chart"] == 10 and marks["calibration-plot"] == 10, marks
    assert NO_MODEL not in dom

    table = dom[dom.index('id="top-at-risk"') : dom.index("</table>", dom.index('id="top-at-risk"'))]
    body = table[table.index("<tbody>") :]
    rows = re.findall(r"<tr><td class=\"num\">(\d+)</td><td>([^<]+)</td>", body)
    mart = trained_snapshot.read("at_risk").to_pylist()
    expected = sorted(mart, key=lambda r: r["rank"])[:20]
    assert [(int(rank), cid) for rank, cid in rows] == [(r["rank"], r["customer_id"]) for r in expected]
    first = expected[0]
    assert f"{first['expected_loss']:,.2f}" in body and f"{100 * first['p_churn']:.1f}%" in body
    assert first["playbook"] in body

"""The static HTML report: KPI tiles and charts from a marts snapshot, in one self-contained file."""

from retain.report.figures import FIGURES
from retain.report.render import render_report, write_report
from retain.report.tiles import Tile, headline_tiles

__all__ = ["FIGURES", "Tile", "headline_tiles", "render_report", "write_report"]

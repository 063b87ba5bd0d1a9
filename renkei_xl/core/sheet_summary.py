"""集計: counts per symbol overall and per 役割, the 達成割合 line and its chart, as a sheet plan
(the 達成割合 of past years is added by renkei_xl.core.history.with_year_rates)."""

from __future__ import annotations

from . import contract as c
from .layout import summary_grid
from .model import Result, Settings
from .looks import print_setup
from .plan_types import Chart, SheetPlan
from .sheet_grid import fitted_heights, sheet_from_grid

SUMMARY_WIDTHS = (30, 14, 14, 14, 20, 14, 8)


def summary_sheet(result: Result, settings: Settings) -> SheetPlan:
    """集計: counts per symbol overall and per 役割, the 達成割合 line and a column chart."""
    grid = summary_grid(result, settings)
    ncols = max(len(r) for r in grid.rows)
    rate_row = len(grid.rows)          # the 達成割合 line is the last row

    sheet = sheet_from_grid(c.SUMMARY, grid, ncols, SUMMARY_WIDTHS)
    # Fitted as 一覧's: a 役割 longer than 区分's line printed its first two lines only.
    sheet.heights = fitted_heights(grid, SUMMARY_WIDTHS)
    value, _ = sheet.rows[rate_row - 1][1]
    sheet.rows[rate_row - 1][1] = (value, "total_right")
    header = grid.header_row + 1
    nsym = ncols - 2
    sheet.chart = Chart(c.SUMMARY_CHART_TITLE, categories=(header, 2, header, 1 + nsym),
                        values=(header + 1, 2, header + 1, 1 + nsym), anchor=(rate_row + 3, 1))
    sheet.print_setup = print_setup("a4")
    return sheet

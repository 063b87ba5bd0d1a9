"""一覧: the official list as a sheet plan (values, looks, symbol colours, pages)."""

from __future__ import annotations

from typing import Optional

from . import contract as c
from . import pages, text_fit
from .layout import INDICATOR, ROLE_KPI, Grid, list_grid
from .looks import look, print_setup
from .model import Result, Settings
from .plan_types import DATABAR, CondFormat, SheetPlan
from .sheet_grid import fitted_heights, sheet_from_grid, symbol_colours

LIST_WIDTHS = (14, 22, 40, 26, 14, 16, 14, 6, 60, 9, 9)
LIST_PRINT = "a3"          # the official list's page (renkei_xl.core.looks.PRINTS)


def list_sheet(result: Result, settings: Settings) -> SheetPlan:
    """一覧: the official layout, A3 landscape, header row repeated, symbols coloured by rules,
    pages broken by the plan with every merge split at the breaks (renkei_xl.core.pages)."""
    grid = list_grid(result, settings)
    ncols = len(c.LIST_COLUMNS)

    def special(kind: str, col: int) -> Optional[str]:
        if kind not in (INDICATOR, ROLE_KPI):
            return None
        kpi = "_kpi" if kind == ROLE_KPI else ""
        if col == c.LIST_SYMBOL_COL:
            return "symbol" + kpi
        if col == c.LIST_RATE_COL:
            return "rate" + kpi
        return None

    header = grid.header_row + 1
    first, last = header + 1, len(grid.rows)
    breaks, heights = _list_pages(grid, header, first, last)
    sheet = sheet_from_grid(c.LIST, grid, ncols, LIST_WIDTHS, special)
    sheet.heights = heights
    if last >= first:
        sym, rate = c.LIST_SYMBOL_COL + 1, c.LIST_RATE_COL + 1
        sheet.conditional = symbol_colours((first, sym, last, sym))
        sheet.conditional.append(CondFormat(DATABAR, (first, rate, last, rate), c.DATA_BAR,
                                            minimum=0, maximum=1))
    sheet.freeze = (header + 1, 1)
    sheet.print_setup = print_setup(LIST_PRINT, title_rows=(header, header),
                                    area=(1, 1, max(last, header), ncols), row_breaks=tuple(breaks))
    return sheet


def _list_pages(grid: Grid, header: int, first: int, last: int) -> tuple[list[int], dict[int, float]]:
    """Page breaks of 一覧 and the row heights that go with them; ``grid.merges`` is left
    split at the breaks.

    Splitting a merge can make a row taller (a project's 事業概要 must now fit the rows of
    each part), which can move a break, so breaks and heights are settled together."""
    whole = [(r1 + 1, c1 + 1, r2 + 1, c2 + 1) for r1, c1, r2, c2 in grid.merges]
    blocks = [(r1, r2) for r1, c1, r2, _c2 in whole if c1 == 2]    # projects (連携事業名)
    setup = print_setup(LIST_PRINT)
    capacity = pages.body_height(setup.paper, setup.landscape, setup.margins)
    breaks: list[int] = []
    col_lines = text_fit.column_lines(grid.rows, LIST_WIDTHS)
    for attempt in range(5):
        grid.merges = [(r1 - 1, c1 - 1, r2 - 1, c2 - 1) for r1, c1, r2, c2 in pages.split_merges(whole, breaks)]
        heights = fitted_heights(grid, LIST_WIDTHS, col_lines)
        heights[1] = text_fit.height(1, look("title").font_size)
        if len(grid.rows) > 1:
            heights[2] = text_fit.height(1)
        if last < first or attempt == 4:
            break
        moved = pages.paginate(heights, first, last, capacity, heights.get(header, 0.0), blocks)
        if moved == breaks:
            break
        breaks = moved
    return breaks, heights

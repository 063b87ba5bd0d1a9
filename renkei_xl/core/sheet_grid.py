"""From a layout grid (renkei_xl.core.layout) to a sheet's plan: a look per cell by row kind,
and row heights that show wrapped Japanese text whole. Shared by the builders of 一覧, 集計,
検証結果 and 次の一歩.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

from . import contract as c
from . import text_fit
from .layout import HEADER, INDICATOR, LEGEND, ROLE_KPI, TITLE, TOTAL, Grid
from .plan_types import Cell, CondFormat, Rect, SheetPlan

LINE_HEIGHT = text_fit.LINE_EM * 9   # points per line of 9-pt text
MAX_ROW_HEIGHT = 409.0    # Excel's limit
STYLED_KINDS = (HEADER, INDICATOR, ROLE_KPI, TOTAL)
ROW_LOOK = {HEADER: "header", INDICATOR: "body", ROLE_KPI: "kpi", TOTAL: "total"}


_lines = text_fit.lines


def fitted_heights(grid: Grid, widths: Sequence[float],
                   cell_lines: Optional[list[list[int]]] = None) -> dict[int, float]:
    """Row heights so wrapped Japanese text shows whole (1-based rows).

    Neither Excel nor LibreOffice sizes rows for wrapped text written into an existing
    file, and merged cells are never auto-sized, even by Excel. So the height is estimated
    from the wrapped text per column (renkei_xl.core.text_fit), and a merged block (a
    project's 事業概要 over its indicators) gets any extra height on its last row.
    """
    merged = {}
    covered = set()
    for r1, c1, r2, c2 in grid.merges:
        merged[(r1, c1)] = (r2, sum(widths[col] for col in range(c1, c2 + 1) if col < len(widths)))
        covered.update((r, col) for r in range(r1, r2 + 1) for col in range(c1, c2 + 1))
    heights: list[Optional[float]] = []
    for r, row in enumerate(grid.rows):
        if grid.kinds[r] not in STYLED_KINDS:
            heights.append(None)
            continue
        lines = 1
        known = cell_lines[r] if cell_lines is not None else None
        for col, value in enumerate(row):
            if col < len(widths) and (r, col) not in covered:
                lines = max(lines, known[col] if known is not None else _lines(value, widths[col]))
        heights.append(text_fit.height(lines))
    for (r1, c1), (r2, width) in merged.items():
        if r2 == r1:
            continue
        need = text_fit.height(_lines(grid.rows[r1][c1], width))
        have = sum(h or LINE_HEIGHT for h in heights[r1:r2 + 1])
        if need > have:
            heights[r2] = (heights[r2] or LINE_HEIGHT) + need - have
    return {r + 1: min(h, MAX_ROW_HEIGHT) for r, h in enumerate(heights) if h is not None}


def sheet_from_grid(name: str, grid: Grid, ncols: int, widths: Sequence[float],
                     special: Optional[Callable[[str, int], Optional[str]]] = None) -> SheetPlan:
    """Values from the grid, a look per cell by row kind (``special`` may override by column).

    Styled rows carry a look on every column, merged followers included, so borders run
    round merged blocks; merged followers hold no value.
    """
    followers = set()
    for r1, c1, r2, c2 in grid.merges:
        followers.update((r, col) for r in range(r1, r2 + 1) for col in range(c1, c2 + 1)
                         if (r, col) != (r1, c1))
    rows: list[list[Optional[Cell]]] = []
    for r, (kind, values) in enumerate(zip(grid.kinds, grid.rows)):
        out: list[Optional[Cell]] = []
        styled = kind in STYLED_KINDS
        for col in range(ncols if styled else len(values)):
            value = values[col] if col < len(values) and (r, col) not in followers else None
            if value == "":
                value = None   # Excel keeps no empty text: both faces leave the cell empty
            if styled:
                name_ = (special(kind, col) if special else None) or ROW_LOOK[kind]
            elif kind == TITLE and col == 0:
                name_ = "title"
            elif kind == LEGEND and col == 0:
                name_ = "legend"
            else:
                name_ = None
            out.append(None if value is None and name_ is None else (value, name_))
        rows.append(out)
    return SheetPlan(
        name, rows, widths={i: float(w) for i, w in enumerate(widths, start=1)},
        merges=[(r1 + 1, c1 + 1, r2 + 1, c2 + 1) for r1, c1, r2, c2 in grid.merges])


def symbol_colours(rect: Rect) -> list[CondFormat]:
    """The evaluation symbols coloured by rule over ``rect``, one format per symbol
    (contract.SYMBOL_FILLS): 一覧, 次の一歩 and 経年 colour their 評価 columns alike, and a
    symbol typed later is coloured too."""
    return [CondFormat("equal", rect, colour, symbol) for symbol, colour in c.SYMBOL_FILLS.items()]

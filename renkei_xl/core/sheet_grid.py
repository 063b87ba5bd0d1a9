"""From a layout grid (renkei_xl.core.layout) to a sheet's plan: a look per cell by row kind,
and row heights that show wrapped Japanese text whole. Shared by the builders of 一覧, 集計,
検証結果 and 次の一歩.
"""

from __future__ import annotations

from typing import Callable, Collection, Mapping, Optional, Sequence

from . import contract as c
from . import text_fit
from .layout import HEADER, INDICATOR, LEGEND, ROLE_KPI, TITLE, TOTAL, Grid
from .looks import FONT_SIZE, SYMBOL_FILLS
from .plan_types import EQUAL, Cell, CondFormat, Rect, SheetPlan

LINE_HEIGHT = text_fit.LINE_EM * FONT_SIZE   # points per line of body text
STYLED_KINDS = (HEADER, INDICATOR, ROLE_KPI, TOTAL)
ROW_LOOK = {HEADER: "header", INDICATOR: "body", ROLE_KPI: "kpi", TOTAL: "total"}


_lines = text_fit.lines


def fitted_heights(grid: Grid, widths: Sequence[float]) -> dict[int, float]:
    """Row heights so wrapped Japanese text shows whole (1-based rows); see ``fitted``."""
    return fitted(grid, widths)[0]


def fitted(grid: Grid, widths: Sequence[float], col_lines: Optional[list[list[int]]] = None
           ) -> tuple[dict[int, float], list[tuple[int, int, int]]]:
    """Row heights so wrapped Japanese text shows whole (1-based rows), and the cells whose
    text needs more than Excel's tallest row gives them: (0-based row, column, lines).

    Neither Excel nor LibreOffice sizes rows for wrapped text written into an existing
    file, and merged cells are never auto-sized, even by Excel. So the height is estimated
    from the wrapped text per column (renkei_xl.core.text_fit), and a merged block (a
    project's 事業概要 over its indicators) gets any extra height on its last row. Every
    height stops at text_fit.MAX_ROW_HEIGHT; a text that needs more is whole in its cell but
    not shown whole, which is why the cut cells are returned rather than left silent.
    ``col_lines``: text_fit.column_lines of the grid's rows, when the caller has them.
    """
    if col_lines is None:
        col_lines = text_fit.column_lines(
            [row if kind in STYLED_KINDS else () for kind, row in zip(grid.kinds, grid.rows)], widths)
    merged = {}
    for r1, c1, r2, c2 in grid.merges:
        merged[(r1, c1)] = (r2, sum(widths[col] for col in range(c1, c2 + 1) if col < len(widths)))
    heights = _row_heights(grid.kinds, col_lines, grid.merges)
    cut = _cut_single_cells(heights, col_lines, grid.merges)
    needs = []
    for (r1, c1), (r2, width) in merged.items():
        if r2 == r1:
            continue
        n = _lines(grid.rows[r1][c1], width)
        need = text_fit.height(n)
        have = sum(h or LINE_HEIGHT for h in heights[r1:r2 + 1])
        if need > have:
            heights[r2] = (heights[r2] or LINE_HEIGHT) + need - have
        if need > text_fit.MAX_ROW_HEIGHT:      # may not fit once the rows stop at the limit
            needs.append((r1, c1, r2, n, need))
    out = {r + 1: min(h, text_fit.MAX_ROW_HEIGHT) for r, h in enumerate(heights) if h is not None}
    for r1, c1, r2, n, need in needs:
        if need > sum(out.get(r + 1, LINE_HEIGHT) for r in range(r1, r2 + 1)) + 0.01:
            cut.append((r1, c1, n))
    return out, sorted(cut)


def fitted_cells(rows: Sequence[Sequence[Optional[Cell]]], widths: Mapping[int, float],
                 first: int) -> dict[int, float]:
    """Row heights so wrapped text shows whole, for a sheet planned as cells rather than a
    grid (経年), from its 1-based row ``first`` on, over the columns ``widths`` gives
    (1-based). Rows a sheet leaves at Excel's default print one line of each cell: 経年's
    連携事業名 and 評価指標 were drawn over the rows below them."""
    cols = sorted(widths)
    values = [[cell[0] if cell else None for cell in (row[col - 1] if col <= len(row) else None for col in cols)]
              for row in rows[first - 1:]]
    counts = text_fit.column_lines(values, [widths[col] for col in cols])
    ones = [1] * len(values)
    return {first + i: text_fit.row_height(n) for i, n in enumerate(map(max, ones, ones, *counts))}


def _cut_single_cells(heights: Sequence[Optional[float]], col_lines: list[list[int]],
                      merges: Sequence[Rect]) -> list[tuple[int, int, int]]:
    """The unmerged cells that need more lines than the tallest row holds. Only rows already
    over the limit are looked at (nearly never any), so merged cells are sorted out there."""
    over = [r for r, h in enumerate(heights) if h is not None and h > text_fit.MAX_ROW_HEIGHT]
    out = []
    for r in over:
        in_merge = {col for r1, c1, r2, c2 in merges if r1 <= r <= r2 for col in range(c1, c2 + 1)}
        out += [(r, col, lines[r]) for col, lines in enumerate(col_lines)
                if col not in in_merge and text_fit.height(lines[r]) > text_fit.MAX_ROW_HEIGHT]
    return out


def _row_heights(kinds: Sequence[str], col_lines: list[list[int]],
                 merges: Sequence[Rect]) -> list[Optional[float]]:
    """Each styled row's height by its tallest cell outside merges (None: not styled).

    Column by column, merged cells blanked by slices and the row maxima taken in C
    (``map(max, ...)``): about 10 ms rather than 50 ms a pass over a 20,000-row 一覧,
    which is sized twice while its breaks settle."""
    if merges:
        col_lines = [list(col) for col in col_lines]
        for r1, c1, r2, c2 in merges:
            last = min(r2, len(kinds) - 1)
            for col in range(c1, min(c2 + 1, len(col_lines))):
                if r1 <= last:
                    col_lines[col][r1:last + 1] = [1] * (last + 1 - r1)   # counted with its block, below
    ones = [1] * len(kinds)
    most = list(map(max, ones, ones, *col_lines))
    height_of = {n: text_fit.height(n) for n in set(most)}
    return [height_of[n] if kind in STYLED_KINDS else None for kind, n in zip(kinds, most)]


def _followers_by_row(merges: Sequence[Rect]) -> dict[int, set[int]]:
    """Row → the columns of merged cells in it that follow their merge's first cell (0-based)."""
    out: dict[int, set[int]] = {}
    for r1, c1, r2, c2 in merges:
        cols = range(c1, c2 + 1)
        out.setdefault(r1, set()).update(c for c in cols if c != c1)
        for r in range(r1 + 1, r2 + 1):
            out.setdefault(r, set()).update(cols)
    return out


def sheet_from_grid(name: str, grid: Grid, ncols: int, widths: Sequence[float],
                     special: Optional[Callable[[str, int], Optional[str]]] = None) -> SheetPlan:
    """Values from the grid, a look per cell by row kind (``special`` may override by column).

    Styled rows carry a look on every column, merged followers included, so borders run
    round merged blocks; merged followers hold no value.
    """
    followers = _followers_by_row(grid.merges)
    styled_looks: dict[str, list[str]] = {}
    rows: list[list[Optional[Cell]]] = []
    for r, (kind, values) in enumerate(zip(grid.kinds, grid.rows)):
        skip = followers.get(r, ())
        if kind not in STYLED_KINDS:
            rows.append(_plain_row(kind, values, skip))
            continue
        looks = styled_looks.get(kind)
        if looks is None:
            looks = styled_looks[kind] = [(special(kind, col) if special else None) or ROW_LOOK[kind]
                                          for col in range(ncols)]
        if len(values) < ncols:
            values = list(values) + [None] * (ncols - len(values))
        if "" in values:
            # Empty text becomes None: Excel keeps no empty text, so both faces leave it empty.
            out: list[Optional[Cell]] = [(None if v == "" else v, look) for v, look in zip(values, looks)]
        else:
            out = list(zip(values, looks))   # in C: 220,000 cells on 一覧
        for col in skip:
            if col < ncols:
                out[col] = (None, looks[col])
        rows.append(out)
    return SheetPlan(
        name, rows, widths={i: float(w) for i, w in enumerate(widths, start=1)},
        merges=[(r1 + 1, c1 + 1, r2 + 1, c2 + 1) for r1, c1, r2, c2 in grid.merges])


def _plain_row(kind: str, values: Sequence[object], skip: Collection[int]) -> list[Optional[Cell]]:
    """A row without the table's looks: a title or legend in its first cell, else values."""
    out: list[Optional[Cell]] = []
    for col, value in enumerate(values):
        if col in skip or value == "":
            value = None
        look_ = ("title" if kind == TITLE else "legend" if kind == LEGEND else None) if col == 0 else None
        out.append(None if value is None and look_ is None else (value, look_))
    return out


def symbol_colours(rect: Rect) -> list[CondFormat]:
    """The evaluation symbols coloured by rule over ``rect``, one format per symbol
    (looks.SYMBOL_FILLS): 一覧, 次の一歩 and 経年 colour their 評価 columns alike, and a
    symbol typed later is coloured too."""
    return [CondFormat(EQUAL, rect, colour, symbol) for symbol, colour in SYMBOL_FILLS.items()]

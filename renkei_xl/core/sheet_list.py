"""一覧: the official list as a sheet plan (values, looks, symbol colours, pages)."""

from __future__ import annotations

from typing import Optional

from . import contract as c
from . import pages, text_fit
from .findings import LIST_STATUS_OR_ELSE, LIST_TEXT_CUT
from .layout import INDICATOR, ROLE_KPI, Grid, list_grid
from .looks import look, print_setup
from .model import Finding, Result, Settings
from .plan_types import DATABAR, CondFormat, SheetPlan
from .sheet_grid import fitted, sheet_from_grid, symbol_colours

LIST_WIDTHS = (14, 22, 40, 26, 14, 16, 14, 6, 60, 9, 9)
LIST_PRINT = "a3"          # the official list's page (renkei_xl.core.looks.PRINTS)
# The 指標 column each 一覧 column's text comes from (None: the tool's own, never long).
LIST_SOURCES = ("role", "project_name", "summary", "name", "baseline", "target", "actual_manual", None,
                "status_manual", "id", None)
assert len(LIST_SOURCES) == len(c.LIST_COLUMNS)


def list_sheet(result: Result, settings: Settings, confirmed: bool = False) -> SheetPlan:
    """一覧 (see ``list_layout``)."""
    return list_layout(result, settings, confirmed)[0]


def list_cuts(result: Result, settings: Settings) -> list[Finding]:
    """``list_layout``'s findings, for 入力チェック: it writes no 一覧 but says what 再計算 will.

    The whole layout (pages, merges split at their breaks) runs only when some text needs
    more than the tallest row at its own column's width. Otherwise nothing can be cut: a
    merged block is wider than its first column, and its last row grows to its text while
    that fits one row. That first look is about half the layout's time at 20,000 rows."""
    grid = list_grid(result, settings)
    col_lines = text_fit.column_lines(grid.rows, LIST_WIDTHS)
    if text_fit.height(max(map(max, col_lines), default=1)) <= text_fit.MAX_ROW_HEIGHT:
        return []
    return list_layout(result, settings)[1]


def list_layout(result: Result, settings: Settings, confirmed: bool = False) -> tuple[SheetPlan, list[Finding]]:
    """一覧: the official layout, A3 landscape, header row repeated, symbols coloured by rules,
    pages broken by the plan with every merge split at the breaks (renkei_xl.core.pages);
    and a finding for each text Excel's tallest row cannot show whole."""
    grid = list_grid(result, settings, confirmed)
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
    breaks, heights, cut = _list_pages(grid, header, first, last)
    findings = _cut_findings(grid, cut, result)
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
    return sheet, findings


def _cut_findings(grid: Grid, cut: list[tuple[int, int, int]], result: Result) -> list[Finding]:
    """Each cut 一覧 cell said at the 指標 cell its text comes from (a merged block once, at
    its first row's indicator), as values.fit_cell's cuts are (consolidate.fit_texts)."""
    by_id = {}
    heads = grid.rows[grid.header_row]     # as 一覧 prints them: the status header names 基準日
    for ind in result.indicators:
        by_id.setdefault(ind.id, ind)
    out: dict[str, Finding] = {}     # by place: a block cut on each page it spans is said once
    for row, col, lines in cut:
        source = LIST_SOURCES[col] if col < len(LIST_SOURCES) else None
        ind = by_id.get(grid.rows[row][c.LIST_ID_COL]) if grid.kinds[row] in (INDICATOR, ROLE_KPI) else None
        if source is None or ind is None:
            continue
        status = col == c.LIST_STATUS_COL
        found = LIST_TEXT_CUT.at(
            ind.sheet, ind.cell(source), ind.id, label=heads[col], row=row + 1, lines=lines,
            limit=f"{text_fit.MAX_ROW_HEIGHT:g}",
            source="連携事業実施状況等" if status else c.INDICATOR_HEADERS[source],
            or_else=LIST_STATUS_OR_ELSE if status else "")
        out.setdefault(found.place, found)
    return list(out.values())


def _list_pages(grid: Grid, header: int, first: int, last: int
                ) -> tuple[list[int], dict[int, float], list[tuple[int, int, int]]]:
    """Page breaks of 一覧, the row heights that go with them and the cells those heights
    cannot show whole (sheet_grid.fitted); ``grid.merges`` is left split at the breaks.

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
        heights, cut = fitted(grid, LIST_WIDTHS, col_lines)
        heights[1] = text_fit.height(1, look("title").font_size)
        if len(grid.rows) > 1:
            heights[2] = text_fit.height(1)
        if last < first or attempt == 4:
            break
        moved = pages.paginate(heights, first, last, capacity, heights.get(header, 0.0), blocks)
        if moved == breaks:
            break
        breaks = moved
    return breaks, heights, cut


def list_undrawn(sheet: SheetPlan, drawn) -> list[tuple[int, str, str, str]]:
    """The cells of a laid-out 一覧 holding characters no font of the printing machine draws
    (text_fit.undrawn; ``drawn``: whether a character has a glyph there): (row, the column's
    header as 一覧 prints it, 指標ID, the characters). Each distinct character is asked once,
    and only the cells holding one that is not drawn are looked at again."""
    texts = [cell[0] for row in sheet.rows for cell in row if cell and isinstance(cell[0], str)]
    missing = set(text_fit.undrawn("".join(set().union(*map(set, texts))), drawn))
    if not missing:
        return []
    header = sheet.print_setup.title_rows[0] if sheet.print_setup and sheet.print_setup.title_rows else 0
    heads = [cell[0] if cell else "" for cell in sheet.rows[header - 1]] if header else []
    out = []
    for r, row in enumerate(sheet.rows, start=1):
        ind_id = row[c.LIST_ID_COL][0] if r > header and len(row) > c.LIST_ID_COL and row[c.LIST_ID_COL] else ""
        for col, cell in enumerate(row):
            if cell and isinstance(cell[0], str) and not missing.isdisjoint(cell[0]):
                head = heads[col] if r > header and col < len(heads) else ""
                out.append((r, str(head or ""), str(ind_id or ""), text_fit.undrawn(cell[0], drawn)))
    return out

"""Write 一覧, 集計, 検証結果 and the メニュー status into an openpyxl workbook.

The tool-owned output sheets are rebuilt from the pure grids of renkei_xl.layout on every
run, at the same position and with the same code name (the VBA document module of that
sheet depends on it). Sheets and cells that belong to the staff are only touched to mark
or unmark the cells named by 検証結果, and a mark is only removed while it is still the
tool's own fill colour.
"""

from __future__ import annotations

import datetime as dt
from copy import copy
from typing import Callable, Iterable, Optional, Sequence

from openpyxl.chart import BarChart, Reference
from openpyxl.formatting.rule import CellIsRule, DataBarRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from .. import contract as c
from ..layout import (HEADER, INDICATOR, LEGEND, ROLE_KPI, TITLE, TOTAL, Grid, findings_grid,
                      list_grid, summary_grid)
from ..model import ERROR, Finding, Result, Settings
from .read import defined_cell

FONT_NAME = "游ゴシック"
THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
KPI_FILL = PatternFill("solid", fgColor="F2F2F2")
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)

LIST_WIDTHS = (14, 22, 40, 26, 14, 16, 14, 6, 60, 9, 9)
FINDING_WIDTHS = (8, 14, 8, 10, 70, 50)


def _fresh_sheet(wb: Workbook, title: str, default_index: Optional[int] = None) -> Worksheet:
    """Replace a tool-owned sheet by an empty one at the same place with the same code name."""
    code_name = None
    index = default_index if default_index is not None else len(wb.sheetnames)
    if title in wb.sheetnames:
        old = wb[title]
        index = wb.sheetnames.index(title)
        code_name = old.sheet_properties.codeName
        wb.remove(old)
    ws = wb.create_sheet(title, index)
    if code_name:
        ws.sheet_properties.codeName = code_name
    return ws


def _put(ws: Worksheet, grid: Grid, *, start_row: int = 1) -> None:
    merged_followers = set()
    for r1, c1, r2, c2 in grid.merges:
        for r in range(r1, r2 + 1):
            for col in range(c1, c2 + 1):
                if (r, col) != (r1, c1):
                    merged_followers.add((r, col))
    for r, row in enumerate(grid.rows):
        for col, value in enumerate(row):
            if (r, col) in merged_followers or value is None:
                continue
            ws.cell(start_row + r, col + 1, value)
    for r1, c1, r2, c2 in grid.merges:
        ws.merge_cells(start_row=start_row + r1, start_column=c1 + 1,
                       end_row=start_row + r2, end_column=c2 + 1)


class _Looks:
    """Apply each distinct look once, then copy it.

    openpyxl hashes every Font, Border and Alignment on each assignment, which made
    styling a 20,000-row 一覧 the slowest part of recalc. Each look is set once through the
    public API and then copied as openpyxl's own StyleArray (``cell._style``), the way
    openpyxl's WorksheetCopy copies styles.
    """

    def __init__(self) -> None:
        self._done: dict = {}

    def apply(self, cell, key, setter: Callable) -> None:
        arr = self._done.get(key)
        if arr is None:
            setter(cell)
            self._done[key] = copy(cell._style)
        else:
            cell._style = copy(arr)


def _style_table(ws: Worksheet, grid: Grid, ncols: int, widths: Sequence[int],
                 extra: Optional[dict] = None) -> None:
    """Borders, fonts and fills by row kind; ``extra`` maps a 0-based column to a setter
    applied on data rows (the 評価 and 達成率 columns of 一覧)."""
    extra = extra or {}
    looks = _Looks()
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    for r, kind in enumerate(grid.kinds, start=1):
        if kind == TITLE:
            ws.cell(r, 1).font = Font(name=FONT_NAME, size=14, bold=True)
            continue
        if kind == LEGEND:
            ws.cell(r, 1).font = Font(name=FONT_NAME, size=9)
            continue
        if kind not in (HEADER, INDICATOR, ROLE_KPI, TOTAL):
            continue
        for col in range(1, ncols + 1):
            special = extra.get(col - 1) if kind in (INDICATOR, ROLE_KPI) else None

            def setter(cell, kind=kind, special=special):
                cell.border = BORDER
                cell.font = Font(name=FONT_NAME, size=9, bold=kind in (HEADER, TOTAL))
                cell.alignment = CENTER if kind == HEADER else WRAP_TOP
                if kind == HEADER:
                    cell.fill = HEADER_FILL
                elif kind == ROLE_KPI:
                    cell.fill = KPI_FILL
                if special:
                    special(cell)

            looks.apply(ws.cell(r, col), (kind, col - 1 if special else None), setter)


LINE_HEIGHT = 12.0   # points per line of 9-pt text
CHARS_PER_WIDTH = 1.15  # half-width characters of 9-pt text per unit of column width


def _lines(value: object, width: float) -> int:
    from ..textable import width as text_width

    if value is None or width <= 0:
        return 1
    per_line = max(width * CHARS_PER_WIDTH, 1)
    return sum(max(1, -(-text_width(part) // int(per_line))) for part in str(value).split("\n"))


def fit_rows(ws: Worksheet, grid: Grid, widths: Sequence[float], *, start_row: int = 1) -> None:
    """Set row heights so wrapped Japanese text shows whole.

    Neither openpyxl nor LibreOffice sizes rows for wrapped text written into an existing
    file, and merged cells are never auto-sized, even by Excel. So the height is estimated
    from the text width (full-width characters count double) per column, and a merged
    block (a project's 事業概要 over its indicators) gets any extra height on its last row.
    """
    merged_cells = {}
    covered = set()
    for r1, c1, r2, c2 in grid.merges:
        merged_cells[(r1, c1)] = (r2, sum(widths[c] for c in range(c1, c2 + 1)))
        covered.update((r, col) for r in range(r1, r2 + 1) for col in range(c1, c2 + 1))
    heights = []
    for r, row in enumerate(grid.rows):
        if grid.kinds[r] not in (INDICATOR, ROLE_KPI, HEADER, TOTAL):
            heights.append(None)
            continue
        lines = 1
        for col, value in enumerate(row):
            if col >= len(widths) or (r, col) in covered:
                continue
            lines = max(lines, _lines(value, widths[col]))
        heights.append(lines * LINE_HEIGHT + 4)
    for (r1, c1), (r2, width) in merged_cells.items():
        if r2 == r1:
            continue
        need = _lines(grid.rows[r1][c1], width) * LINE_HEIGHT + 4
        have = sum(h or LINE_HEIGHT for h in heights[r1:r2 + 1])
        if need > have:
            heights[r2] = (heights[r2] or LINE_HEIGHT) + need - have
    for r, h in enumerate(heights):
        if h is not None:
            ws.row_dimensions[start_row + r].height = min(h, 409)


def symbol_rules(ws: Worksheet, ref: str) -> None:
    """Colours come from conditional formatting, so a symbol typed by hand is coloured too."""
    for symbol, colour in c.SYMBOL_FILLS.items():
        ws.conditional_formatting.add(ref, CellIsRule(
            operator="equal", formula=[f'"{symbol}"'],
            fill=PatternFill("solid", fgColor=colour, bgColor=colour)))


def write_list(wb: Workbook, result: Result, settings: Settings) -> Worksheet:
    grid = list_grid(result, settings)
    ws = _fresh_sheet(wb, c.LIST)
    _put(ws, grid)
    ncols = len(c.LIST_COLUMNS)

    def symbol_look(cell):
        cell.alignment = CENTER
        cell.font = Font(name=FONT_NAME, size=12, bold=True)

    def rate_look(cell):
        cell.number_format = "0.0%"

    _style_table(ws, grid, ncols, LIST_WIDTHS,
                 {c.LIST_SYMBOL_COL: symbol_look, c.LIST_RATE_COL: rate_look})
    fit_rows(ws, grid, LIST_WIDTHS)
    first, last = grid.header_row + 2, len(grid.rows)
    sym_col = get_column_letter(c.LIST_SYMBOL_COL + 1)
    rate_col = get_column_letter(c.LIST_RATE_COL + 1)
    if last >= first:
        symbol_rules(ws, f"{sym_col}{first}:{sym_col}{last}")
        ws.conditional_formatting.add(f"{rate_col}{first}:{rate_col}{last}", DataBarRule(
            start_type="num", start_value=0, end_type="num", end_value=1, color="63BE7B"))
    ws.freeze_panes = ws.cell(grid.header_row + 2, 1)
    ws.print_title_rows = f"{grid.header_row + 1}:{grid.header_row + 1}"
    ws.print_area = f"A1:{get_column_letter(ncols)}{max(last, grid.header_row + 1)}"
    _print_setup(ws)
    ws.protection.sheet = True
    return ws


def _print_setup(ws: Worksheet) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A3
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.oddFooter.center.text = "&P / &N"
    ws.oddFooter.center.size = 9


def write_summary(wb: Workbook, result: Result, settings: Settings) -> Worksheet:
    grid = summary_grid(result, settings)
    ws = _fresh_sheet(wb, c.SUMMARY)
    _put(ws, grid)
    ncols = max(len(r) for r in grid.rows)
    _style_table(ws, grid, ncols, (30, 14, 14, 14, 20, 14, 8))
    rate_row = len(grid.rows)
    ws.cell(rate_row, 2).alignment = Alignment(horizontal="right", vertical="top")
    header = grid.header_row + 1
    chart = BarChart()
    chart.type = "col"
    chart.title = "評価の内訳（全体）"
    chart.legend = None
    chart.add_data(Reference(ws, min_col=2, max_col=6, min_row=header + 1, max_row=header + 1),
                   from_rows=True, titles_from_data=False)
    chart.set_categories(Reference(ws, min_col=2, max_col=6, min_row=header, max_row=header))
    chart.height, chart.width = 7.5, 16
    ws.add_chart(chart, f"A{rate_row + 3}")
    _print_setup(ws)
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.protection.sheet = True
    return ws


def previous_marks(wb: Workbook) -> list[tuple[str, str]]:
    """(sheet, cell) pairs listed by the last 検証結果, so their marks can be lifted."""
    if c.FINDINGS not in wb.sheetnames:
        return []
    ws = wb[c.FINDINGS]
    out = []
    for row in ws.iter_rows(min_row=2, max_col=3, values_only=True):
        sheet, cell = row[1], row[2]
        if sheet and cell:
            out.append((str(sheet), str(cell)))
    return out


def _is_mark(cell) -> bool:
    fill = cell.fill
    return (fill is not None and fill.fill_type == "solid"
            and str(fill.fgColor.rgb).upper().endswith(c.MARK_FILL))


def mark_cells(wb: Workbook, findings: Iterable[Finding], previous: Iterable[tuple[str, str]]) -> None:
    for sheet, ref in previous:
        if sheet in wb.sheetnames and sheet not in c.TOOL_SHEETS:
            try:
                cell = wb[sheet][ref]
            except (ValueError, KeyError):
                continue
            if _is_mark(cell):
                # Unlocked cells are the input cells the builder gave the input fill.
                unlocked = cell.protection is not None and cell.protection.locked is False
                cell.fill = (PatternFill("solid", fgColor=c.INPUT_FILL) if unlocked
                             else PatternFill(fill_type=None))
    mark = PatternFill("solid", fgColor=c.MARK_FILL)
    for f in findings:
        if f.cell and f.sheet in wb.sheetnames and f.sheet not in c.TOOL_SHEETS and f.is_error:
            wb[f.sheet][f.cell].fill = mark


def write_findings(wb: Workbook, findings: Sequence[Finding]) -> Worksheet:
    previous = previous_marks(wb)
    grid = findings_grid(findings)
    ws = _fresh_sheet(wb, c.FINDINGS)
    _put(ws, grid)
    _style_table(ws, grid, len(c.FINDING_COLUMNS), FINDING_WIDTHS)
    fit_rows(ws, grid, FINDING_WIDTHS)
    for r, f in enumerate(findings, start=2):
        if f.cell and f.sheet in wb.sheetnames:
            cell = ws.cell(r, 3)
            cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"'{f.sheet}'!{f.cell}",
                                       display=f.cell)
            cell.font = Font(name=FONT_NAME, size=9, color="0563C1", underline="single")
        if f.severity == ERROR:
            ws.cell(r, 1).font = Font(name=FONT_NAME, size=9, bold=True, color="C00000")
    ws.freeze_panes = "A2"
    if findings:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(c.FINDING_COLUMNS))}{len(findings) + 1}"
    ws.protection.sheet = True
    mark_cells(wb, findings, previous)
    return ws


def write_menu_status(wb: Workbook, line: str, when: Optional[dt.datetime] = None) -> None:
    when = when or dt.datetime.now().replace(microsecond=0)
    for name, value in ((c.N_LAST_RUN, when), (c.N_LAST_RESULT, line)):
        try:
            ws, cell = defined_cell(wb, name)
        except Exception:  # an older master without these names: nothing to update
            continue
        cell.value = value
        if isinstance(value, dt.datetime):
            cell.number_format = "yyyy/mm/dd hh:mm:ss"

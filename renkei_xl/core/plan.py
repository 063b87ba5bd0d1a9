"""Everything a write does, decided once, as plain data: the write plan.

Both faces apply the same plan: the file applier (renkei_xl.workbook.apply) edits the
package part by part, the live applier (renkei_xl.excel.apply) calls Excel through
xlwings. Neither decides anything: which cells a sheet holds and how they look, which
staff cells change, which marks are added or lifted and what a lifted cell gets back, and
where history rows go are all computed here from the recalculation's Result and the
master's current state (plain grids and names). So the buttons and the command line give
the same values and the same looks by construction, and one test module states what both
must show.

Rows and columns are 1-based here, as in Excel.
"""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType
from typing import Callable, Mapping, NamedTuple, Optional, Sequence

from . import contract as c
from .contract_read import Book, MasterData, cell_ref, parse_ref, quote_sheet, text
from .errors import UserError
from .layout import HEADER, INDICATOR, LEGEND, ROLE_KPI, TITLE, TOTAL, Grid, findings_grid, list_grid, summary_grid
from . import pages, text_fit
from .looks import FONT_SIZE, PROTECTION, PrintSetup, Protection, Rect, look, print_setup
from .model import ERROR, Finding, Result, Settings

Cell = tuple[object, Optional[str]]       # (value, look name); None value: a styled blank


EQUAL, DATABAR = "equal", "databar"
# The conditional-format kinds every applier draws; an applier refuses any other kind
# rather than draw something else (renkei_xl.workbook.apply, renkei_xl.excel.apply).
CONDITIONAL_KINDS = (EQUAL, DATABAR)


class CondFormat(NamedTuple):
    """A conditional format: ``equal`` (cell equals ``text`` → solid ``color``) or
    ``databar`` (a bar of ``color`` from ``minimum`` to ``maximum``); see CONDITIONAL_KINDS."""
    kind: str
    rect: Rect
    color: str
    text: str = ""
    minimum: Optional[float] = None
    maximum: Optional[float] = None


class Chart(NamedTuple):
    """A clustered column chart of one row of values against one row of categories."""
    title: str
    categories: Rect
    values: Rect
    anchor: tuple[int, int]               # top-left cell (row, col)
    width_cm: float = 16.0
    height_cm: float = 7.5
    legend: bool = False


class SheetPlan:
    """The whole content of one tool-owned sheet: what is there after the write, nothing else.

    A plain class, not a dataclass: see layout.Grid."""

    __slots__ = ("name", "rows", "widths", "heights", "merges", "freeze", "links", "conditional",
                 "chart", "print_setup", "autofilter", "hidden_cols", "protect", "more_charts", "protection")

    def __init__(self, name: str, rows: Optional[list[list[Optional[Cell]]]] = None, *,
                 widths: Optional[dict[int, float]] = None, heights: Optional[dict[int, float]] = None,
                 merges: Optional[list[Rect]] = None, freeze: Optional[tuple[int, int]] = None,
                 links: Optional[dict[tuple[int, int], str]] = None,
                 conditional: Optional[list[CondFormat]] = None, chart: Optional[Chart] = None,
                 print_setup: Optional[PrintSetup] = None, autofilter: Optional[Rect] = None,
                 hidden_cols: Optional[set[int]] = None, protect: bool = True,
                 protection: Protection = PROTECTION):
        self.name = name
        self.rows = rows if rows is not None else []
        self.widths = widths if widths is not None else {}
        self.heights = heights if heights is not None else {}
        self.merges = merges if merges is not None else []
        self.freeze = freeze                               # first cell that scrolls
        self.links = links if links is not None else {}   # cell → "'sheet'!A1"
        self.conditional = conditional if conditional is not None else []
        self.chart = chart
        self.print_setup = print_setup
        self.autofilter = autofilter
        self.hidden_cols = hidden_cols if hidden_cols is not None else set()
        self.protect = protect
        self.protection = protection                       # how, when ``protect``
        self.more_charts: list[Chart] = []   # beside ``chart`` (集計's 達成割合 per year)

    @property
    def charts(self) -> list[Chart]:
        """Every chart of the sheet, ``chart`` first."""
        return ([self.chart] if self.chart is not None else []) + self.more_charts

    def __repr__(self) -> str:
        return f"SheetPlan({self.name!r}, {len(self.rows)} rows)"

    def cell(self, row: int, col: int) -> Optional[Cell]:
        if row - 1 < len(self.rows) and col - 1 < len(self.rows[row - 1]):
            return self.rows[row - 1][col - 1]
        return None

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)


class CellEdit(NamedTuple):
    """A staff-sheet cell set to ``value`` (a str is always text, never a formula)."""
    sheet: str
    row: int
    col: int
    value: object
    number_format: Optional[str] = None   # None: the cell keeps its own

    @property
    def ref(self) -> str:
        return cell_ref(self.row, self.col)


class FillEdit(NamedTuple):
    """A cell's fill set to ``fill`` (None: no fill), everything else about it kept.

    ``only_if``: apply only while the cell still has this fill (a lifted mark is left alone
    when staff have coloured the cell since). A face that cannot read colours applies it.
    """
    sheet: str
    row: int
    col: int
    fill: Optional[str]
    only_if: Optional[str] = None

    @property
    def ref(self) -> str:
        return cell_ref(self.row, self.col)


class NameEdit(NamedTuple):
    """A workbook-scope defined name set to ``value`` (its definition, without "=")."""
    name: str
    value: str
    hidden: bool = False


class WritePlan:
    __slots__ = ("sheets", "cells", "fills", "names")

    def __init__(self, sheets: Optional[list[SheetPlan]] = None, cells: Optional[list[CellEdit]] = None,
                 fills: Optional[list[FillEdit]] = None, names: Optional[list[NameEdit]] = None):
        self.sheets = sheets if sheets is not None else []
        self.cells = cells if cells is not None else []
        self.fills = fills if fills is not None else []
        self.names = names if names is not None else []

    def __repr__(self) -> str:
        return f"WritePlan({self.sheets!r}, {len(self.cells)} cells, {len(self.fills)} fills)"

    @property
    def staff_sheets(self) -> list[str]:
        """Sheets outside the owned ones that this plan edits."""
        return list(dict.fromkeys([e.sheet for e in self.cells] + [f.sheet for f in self.fills]))

    @property
    def empty(self) -> bool:
        return not (self.sheets or self.cells or self.fills or self.names)

    def refuse_missing(self, sheetnames: Sequence[str]) -> None:
        """The rule for a staff sheet the book does not have: the whole plan is refused
        before anything is written, on every face (UserError naming the sheets).

        The builders only name sheets the master state lists (``marks`` leaves a deleted
        sheet's marks out), so this is a sheet deleted between the read and the write: a
        plan half applied would leave 検証結果 listing marks that were never painted."""
        planned = {s.name for s in self.sheets}
        missing = [s for s in self.staff_sheets if s not in sheetnames and s not in planned]
        if missing:
            raise UserError(f"シート「{'」「'.join(missing)}」がありません。ブックを開き直してから、"
                            "もう一度実行してください（何も書き込んでいません）")


class MasterState(NamedTuple):
    """What a plan needs to know of the master besides its contract data.

    ``grids``: the current 検証結果 and 取込履歴 as rows from A1 (absent when the sheet is).
    ``fill_of``: the fill a cell has now, where the face can read it (None: no fill);
    a face that cannot read colours leaves it out and the contract's expectation is used.
    """
    sheetnames: Sequence[str]
    names: Mapping[str, tuple[str, str]]
    grids: Mapping[str, Sequence[Sequence[object]]] = MappingProxyType({})
    fill_of: Optional[Callable[[str, str], Optional[str]]] = None


# ----------------------------------------------------------------------- 一覧, 集計

LIST_WIDTHS = (14, 22, 40, 26, 14, 16, 14, 6, 60, 9, 9)
SUMMARY_WIDTHS = (30, 14, 14, 14, 20, 14, 8)
FINDING_WIDTHS = (8, 14, 8, 10, 70, 50, 10)
LINE_HEIGHT = text_fit.LINE_EM * FONT_SIZE   # points per line of body text
MAX_ROW_HEIGHT = 409.0    # Excel's limit
LIST_PRINT = "a3"          # the official list's page
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


def _sheet_from_grid(name: str, grid: Grid, ncols: int, widths: Sequence[float],
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
    sheet = _sheet_from_grid(c.LIST, grid, ncols, LIST_WIDTHS, special)
    sheet.heights = heights
    if last >= first:
        sym, rate = c.LIST_SYMBOL_COL + 1, c.LIST_RATE_COL + 1
        sheet.conditional = [CondFormat(EQUAL, (first, sym, last, sym), colour, symbol)
                             for symbol, colour in c.SYMBOL_FILLS.items()]
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
    ncols = len(LIST_WIDTHS)
    cell_lines = [[_lines(v, LIST_WIDTHS[col]) for col, v in enumerate(row[:ncols])] for row in grid.rows]
    for attempt in range(5):
        grid.merges = [(r1 - 1, c1 - 1, r2 - 1, c2 - 1) for r1, c1, r2, c2 in pages.split_merges(whole, breaks)]
        heights = fitted_heights(grid, LIST_WIDTHS, cell_lines)
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


def summary_sheet(result: Result, settings: Settings) -> SheetPlan:
    """集計: counts per symbol overall and per 役割, the 達成割合 line and a column chart."""
    grid = summary_grid(result, settings)
    ncols = max(len(r) for r in grid.rows)
    rate_row = len(grid.rows)          # the 達成割合 line is the last row

    sheet = _sheet_from_grid(c.SUMMARY, grid, ncols, SUMMARY_WIDTHS)
    value, _ = sheet.rows[rate_row - 1][1]
    sheet.rows[rate_row - 1][1] = (value, "total_right")
    header = grid.header_row + 1
    nsym = ncols - 2
    sheet.chart = Chart("評価の内訳（全体）", categories=(header, 2, header, 1 + nsym),
                        values=(header + 1, 2, header + 1, 1 + nsym), anchor=(rate_row + 3, 1))
    sheet.print_setup = print_setup("a4")
    return sheet


# ------------------------------------------------------------------- 検証結果, marks

class PreviousMark(NamedTuple):
    sheet: str
    ref: str
    before: Optional[str]       # the fill the cell had before it was marked
    recorded: bool = True       # False: a 検証結果 from before the 元の塗り column existed


def previous_marks(grid: Optional[Sequence[Sequence[object]]]) -> list[PreviousMark]:
    """The marks the current 検証結果 lists, with the fill each cell had before its mark
    (columns found by header text)."""
    if not grid:
        return []
    header = [text(v) for v in grid[0]]
    try:
        s_col, c_col = header.index(c.FINDING_COLUMNS[1]), header.index(c.FINDING_COLUMNS[2])
    except ValueError:
        return []
    b_col = header.index(c.FINDING_BEFORE_COLUMN) if c.FINDING_BEFORE_COLUMN in header else None
    out = []
    for row in grid[1:]:
        sheet = text(row[s_col]) if s_col < len(row) else ""
        ref = text(row[c_col]) if c_col < len(row) else ""
        if not sheet or not ref:
            continue
        before = text(row[b_col]) if b_col is not None and b_col < len(row) else ""
        out.append(PreviousMark(sheet, ref, _fill_from_text(before) if before else None, bool(before)))
    return out


def is_rgb(fill: str) -> bool:
    return len(fill) == 6 and all(ch in "0123456789ABCDEFabcdef" for ch in fill)


def _fill_from_text(value: str) -> Optional[str]:
    """元の塗り as recorded; anything but "なし" or a colour (a hand-edited cell) is taken as
    no fill, so a bad record never stops a run."""
    if value == c.NO_FILL:
        return None
    fill = value.lstrip("#").upper()
    return fill if is_rgb(fill) else None


def _fill_text(fill: Optional[str]) -> str:
    return c.NO_FILL if fill is None else fill


def input_cells(data: MasterData) -> set[tuple[str, str]]:
    """Cells the builder and the input workbooks give the input fill: a municipality's
    実績値, 分母 and 実施状況 on each of its rows."""
    out = set()
    for e in data.entries:
        for f in ("value", "denominator", "status"):
            ref = e.cell(f)
            if ref:
                out.add((e.sheet, ref))
    return out


class _Lazy:
    """A set computed on the first membership test."""

    def __init__(self, make: Callable[[], set]):
        self._make, self._value = make, None

    def __contains__(self, item: object) -> bool:
        if self._value is None:
            self._value = self._make()
        return item in self._value


def expected_fill(sheet: str, ref: str, inputs) -> Optional[str]:
    """What an unmarked cell looks like by the contract, for faces that cannot read colours."""
    return c.INPUT_FILL if (sheet, ref) in inputs else None


def _markable(f: Finding, sheetnames: Sequence[str]) -> bool:
    return bool(f.is_error and f.cell and f.sheet in sheetnames and f.sheet not in c.TOOL_SHEETS
                and f.sheet != c.IMPORT_LOG and f.sheet not in c.YEAR_SHEETS)


# 検証結果 lists at most this many findings, then one row that counts the rest.
SHOWN_FINDING_ROWS = 1_000
SHOWN_BUSY_SHEETS = 5     # sheets named in the count row, most findings first


class Shown(NamedTuple):
    """The findings 検証結果 lists and what its count row says of the others."""
    findings: list[Finding]
    omitted: int
    note: Optional[str]      # the count row's text; None when nothing is left out


def shown_findings(findings: Sequence[Finding], limit: int = SHOWN_FINDING_ROWS) -> Shown:
    """Which findings 検証結果 lists: all of them up to ``limit``, else errors before warnings
    (each in their own order), the rest counted in one row naming the sheets they are on.

    One rule for every face: a sheet with 150,000 stray rows would otherwise be 150,000
    rows with links and marks, which no Excel client replays in time (the server issue).
    Only listed findings are marked, so every mark has its row on 検証結果 and the next
    run can lift it with the fill recorded there.
    """
    if len(findings) <= limit:
        return Shown(list(findings), 0, None)
    errors = [i for i, f in enumerate(findings) if f.is_error]
    keep = set(errors[:limit])
    if len(keep) < limit:
        keep.update([i for i, f in enumerate(findings) if not f.is_error][:limit - len(keep)])
    shown = [f for i, f in enumerate(findings) if i in keep]
    rest = [f for i, f in enumerate(findings) if i not in keep]
    n_errors = sum(1 for f in rest if f.is_error)
    per_sheet: dict[str, int] = {}
    for f in rest:
        per_sheet[f.sheet] = per_sheet.get(f.sheet, 0) + 1
    busy = sorted(per_sheet.items(), key=lambda kv: -kv[1])
    where = "、".join(f"「{s}」{n:,} 件" for s, n in busy[:SHOWN_BUSY_SHEETS] if s)
    if len(busy) > SHOWN_BUSY_SHEETS:
        where += " ほか"
    note = (f"ほかに {len(rest):,} 件（エラー {n_errors:,} 件、警告 {len(rest) - n_errors:,} 件）あります。"
            f"表示は {limit:,} 件までです" + (f"（シート{where}）" if where else "")
            + "。上の行を直してから、もう一度実行すると続きが出ます。")
    return Shown(shown, len(rest), note)


def marks(findings: Sequence[Finding], state: MasterState, data: MasterData
          ) -> tuple[list[FillEdit], dict[tuple[str, str], Optional[str]]]:
    """The fills that mark this run's error cells and lift the last run's marks.

    Returns the edits and, for each marked cell, the fill it had before its mark (written
    to 検証結果 so the next run can give it back). A cell marked last time and again now
    keeps its recorded fill; a lifted cell gets its recorded fill back, only while it still
    shows the mark.
    """
    inputs = _Lazy(lambda: input_cells(data))   # only asked when a colour cannot be read

    def read_or_expected(sheet: str, ref: str) -> Optional[str]:
        if state.fill_of is not None:
            now = state.fill_of(sheet, ref)
            # A theme colour or a pattern (the file face reads them as tokens) is not a
            # colour both faces can give back: the contract's expectation is used instead.
            if now is None or (now != c.MARK_FILL and is_rgb(now)):
                return now
        return expected_fill(sheet, ref, inputs)

    previous: dict[tuple[str, str], Optional[str]] = {}
    for m in previous_marks(state.grids.get(c.FINDINGS)):
        key = (m.sheet, _normal_ref(m.ref))
        if key[1] and key not in previous:
            previous[key] = m.before if m.recorded else expected_fill(m.sheet, key[1], inputs)
    current: dict[tuple[str, str], Optional[str]] = {}
    for f in findings:
        if not _markable(f, state.sheetnames):
            continue
        key = (f.sheet, _normal_ref(f.cell))
        if key[1] and key not in current:
            current[key] = previous[key] if key in previous else read_or_expected(*key)
    edits: list[FillEdit] = []
    for (sheet, ref), before in previous.items():
        if (sheet, ref) in current or sheet not in state.sheetnames or sheet in c.TOOL_SHEETS:
            continue
        row, col = parse_ref(ref)
        edits.append(FillEdit(sheet, row, col, before, only_if=c.MARK_FILL))
    for sheet, ref in sorted(current):
        row, col = parse_ref(ref)
        edits.append(FillEdit(sheet, row, col, c.MARK_FILL))
    return edits, current


def _normal_ref(ref: str) -> str:
    try:
        return cell_ref(*parse_ref(ref.split(":")[0]))
    except ValueError:
        return ""


def findings_sheet(findings: Sequence[Finding], sheetnames: Sequence[str],
                   before: Mapping[tuple[str, str], Optional[str]]) -> SheetPlan:
    """検証結果: one row per listed finding (shown_findings), セル linked to the cell, errors
    in red, filterable; below them, outside the filter, the row that counts the others."""
    shown = shown_findings(findings)
    findings = shown.findings
    grid = findings_grid(findings)
    grid.rows[0] = [*grid.rows[0], c.FINDING_BEFORE_COLUMN]
    for i, f in enumerate(findings, start=1):
        key = (f.sheet, _normal_ref(f.cell)) if f.cell else None
        grid.rows[i] = [*grid.rows[i], _fill_text(before[key]) if key in before else None]
    ncols = len(c.FINDING_COLUMNS) + 1
    sheet = _sheet_from_grid(c.FINDINGS, grid, ncols, FINDING_WIDTHS)
    sheet.heights = fitted_heights(grid, FINDING_WIDTHS)
    link_col = c.FINDING_COLUMNS.index("セル") + 1
    for r, f in enumerate(findings, start=2):
        if f.cell and f.sheet in sheetnames:
            sheet.links[(r, link_col)] = f"{quote_sheet(f.sheet)}!{f.cell}"
            value, _ = sheet.rows[r - 1][link_col - 1]
            sheet.rows[r - 1][link_col - 1] = (value, "link")
        if f.severity == ERROR:
            value, _ = sheet.rows[r - 1][0]
            sheet.rows[r - 1][0] = (value, "error")
    if shown.note:
        sheet.rows.append([(shown.note, "note")])
    sheet.freeze = (2, 1)
    if findings:
        sheet.autofilter = (1, 1, len(findings) + 1, len(c.FINDING_COLUMNS))
    sheet.hidden_cols = {ncols}
    return sheet


# ------------------------------------------------------------------------- メニュー

def menu_cells(state: MasterState, line: str, when: dt.datetime) -> list[CellEdit]:
    """The two status cells of メニュー (by their defined names); an older master without
    the names gets none."""
    out = []
    for name, value, fmt in ((c.N_LAST_RUN, when, c.DATETIME_FORMAT), (c.N_LAST_RESULT, line, None)):
        if name not in state.names:
            continue
        sheet, ref = state.names[name]
        if sheet not in state.sheetnames:
            continue
        row, col = parse_ref(ref.split(":")[0])
        out.append(CellEdit(sheet, row, col, value, fmt))
    return out


# ---------------------------------------------------------------------- 取込履歴

HISTORY_WIDTHS = (34, 10, 20, 10, 66, 20, 60)


def history_writes(grid: Optional[Sequence[Sequence[object]]], columns: Sequence[str],
                   records: Sequence[Sequence[object]]) -> tuple[Optional[SheetPlan], list[CellEdit]]:
    """取込履歴 rows: appended below the last used row, columns found by header text.

    Without the sheet (or with an empty one) the tool creates it whole; once it exists it
    belongs to the staff too (they may add columns), so rows are added cell by cell.
    """
    if not grid or not any(v not in (None, "") for row in grid for v in row):
        rows: list[list[Optional[Cell]]] = [[(h, "header") for h in columns]]
        for rec in records:
            rows.append([(v, "datetime" if isinstance(v, dt.datetime) else "body") for v in rec])
        sheet = SheetPlan(c.IMPORT_LOG, rows, widths={i: float(w) for i, w in enumerate(HISTORY_WIDTHS, 1)},
                          freeze=(2, 1), protect=False)
        return sheet, []
    fields = {str(i): h for i, h in enumerate(columns)}
    try:
        header_row, cols = Book({c.IMPORT_LOG: grid}, {}).header(c.IMPORT_LOG, fields, ("0",))
    except UserError:
        raise UserError(f"シート「{c.IMPORT_LOG}」に見出し「{'」「'.join(columns)}」がありません"
                        "（見出しを元に戻すか、シートを削除してください）") from None
    last = max((r for r, row in enumerate(grid, start=1) if any(v not in (None, "") for v in row)),
               default=header_row)
    edits = []
    # A column added since the sheet was made (取り込まなかったセル) gets its header after
    # the last one used, so what it records is never dropped.
    free = max([len(grid[header_row - 1]), *cols.values()]) + 1
    for k, header in enumerate(columns):
        if str(k) not in cols:
            cols[str(k)] = free
            edits.append(CellEdit(c.IMPORT_LOG, header_row, free, header, None))
            free += 1
    for i, rec in enumerate(records):
        row = max(last, header_row) + 1 + i
        for k, value in enumerate(rec):
            col = cols.get(str(k))
            if col is not None:
                edits.append(CellEdit(c.IMPORT_LOG, row, col, value,
                                      c.DATETIME_FORMAT if isinstance(value, dt.datetime) else None))
    return None, edits


# ------------------------------------------------------------------------ whole plans

def validate_plan(state: MasterState, data: MasterData, result: Result, line: str,
                  when: dt.datetime) -> WritePlan:
    """入力チェック: 検証結果 rebuilt, marks added and lifted, メニュー status. Only the
    findings 検証結果 lists are marked (shown_findings)."""
    fills, before = marks(shown_findings(result.findings).findings, state, data)
    return WritePlan([findings_sheet(result.findings, state.sheetnames, before)],
                     menu_cells(state, line, when), fills)


def recalc_plan(state: MasterState, data: MasterData, result: Result, line: str,
                when: dt.datetime) -> WritePlan:
    """評価を再計算: 一覧 and 集計 too (集計 with the 達成割合 of every year in 経年), and
    次の一歩 (what each row that is not ◎ still needs)."""
    from .gaps import next_steps_sheet
    from .history import read_history, with_year_rates

    plan = validate_plan(state, data, result, line, when)
    history = read_history(state.grids.get(c.HISTORY))
    summary = with_year_rates(summary_sheet(result, data.settings), history, data.settings.fiscal_year, result)
    plan.sheets[:0] = [list_sheet(result, data.settings), summary]
    plan.sheets.append(next_steps_sheet(result, data.entries, data.settings, history))
    return plan


def collect_plan(state: MasterState, changes: Sequence, columns: Sequence[str],
                 records: Sequence[Sequence[object]]) -> WritePlan:
    """回収ファイル取込: the changed cells (``changes`` carry sheet, cell, new) and history rows."""
    cells = []
    for ch in changes:
        row, col = parse_ref(ch.cell)
        cells.append(CellEdit(ch.sheet, row, col, ch.new))
    new_sheet, history = history_writes(state.grids.get(c.IMPORT_LOG), columns, records)
    return WritePlan([new_sheet] if new_sheet else [], cells + history, [])


def owned_sheets(plan: WritePlan) -> list[str]:
    return [s.name for s in plan.sheets]

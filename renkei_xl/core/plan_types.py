"""The write plan's types: what a write does, as plain data, and nothing else.

Every builder of an owned sheet (一覧, 集計, 検証結果, 次の一歩, 経年, 取込履歴) fills these
in, and both appliers (renkei_xl.workbook.apply for files, renkei_xl.excel.apply for a
live workbook) read them. They live apart from the builders so that a builder, an applier
or an operation needs only the types, and no import runs in a circle through the plan.
The only imports of ours are the cell-address helper (renkei_xl.core.refs) and the user
error (renkei_xl.core.errors), which import nothing. The page (PrintSetup) and the sheet
protection (Protection) are types here; their named values, with the looks, are the look
system's (renkei_xl.core.looks).

Rows and columns are 1-based here, as in Excel.
"""

# No ``from __future__ import annotations`` here: typing.NamedTuple compiles each string
# annotation (a ForwardRef), and this module's nine records are made at every command's start.

from types import MappingProxyType
from typing import Callable, Collection, Mapping, NamedTuple, Optional, Sequence

from .errors import UserError
from .refs import LAST_COLUMN, LEAST_COLUMNS_READ, MAX_CELLS, MAX_COLUMNS, MAX_ROWS, area_holding, cell_ref

Rect = tuple[int, int, int, int]          # first row, first col, last row, last col (1-based)
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


class PrintSetup(NamedTuple):
    """A sheet's page: paper, fit, margins, footer, and (per sheet) titles, area and breaks.
    Named setups: renkei_xl.core.looks.PRINTS."""
    paper: str                            # a key of renkei_xl.core.looks.PAPER_CODES
    landscape: bool = True
    fit_width: int = 1
    fit_height: int = 0                   # 0: as many pages down as needed
    center_horizontally: bool = True
    margins: tuple[float, float, float, float] = (0.4, 0.4, 0.5, 0.5)  # left right top bottom, inches
    footer: str = "&P / &N"               # centred; Excel's codes (&P page, &N pages)
    title_rows: Optional[tuple[int, int]] = None
    area: Optional[Rect] = None
    row_breaks: tuple[int, ...] = ()      # last row of each page but the last (manual breaks)
    footer_size: int = 9                  # points, as the body text
    header_margin: float = 0.3            # inches from the paper's edge to the header
    footer_margin: float = 0.3            # and to the footer

    @property
    def centre_footer(self) -> str:
        """The footer's centre section in Excel's codes, its size first (「&9&P / &N」), ""
        for none: what every writer sets (the file's oddFooter, COM's and the VBA client's
        CenterFooter, XlsxWriter's &C section), said once so that the faces cannot differ."""
        return f"&{self.footer_size}{self.footer}" if self.footer else ""


class Protection(NamedTuple):
    """How a protected sheet is protected (no password), in the order of Excel's
    Worksheet.Protect arguments: what is protected, then what staff may still do. The
    defaults are the tool's protection (renkei_xl.core.looks.PROTECTION says why)."""
    drawing_objects: bool = True          # protected
    scenarios: bool = True                # protected
    format_cells: bool = False            # allowed ...
    format_columns: bool = True
    format_rows: bool = True
    insert_columns: bool = False
    insert_rows: bool = False
    insert_hyperlinks: bool = False
    delete_columns: bool = False
    delete_rows: bool = False
    sort: bool = False
    autofilter: bool = True
    pivot_tables: bool = False


class Validation(NamedTuple):
    """A data validation over some rectangles of a sheet (one sqref): ``rule`` is a
    renkei_xl.core.methods.InputRule, so the file asks exactly what the master asks."""
    rule: object
    areas: tuple[Rect, ...]


class SheetPlan:
    """The whole content of one tool-owned sheet: what is there after the write, nothing else.

    A plain class, not a dataclass: see layout.Grid."""

    __slots__ = ("name", "rows", "widths", "heights", "merges", "freeze", "links", "conditional",
                 "chart", "print_setup", "autofilter", "hidden_cols", "protect", "more_charts", "protection",
                 "validations")

    def __init__(self, name: str, rows: Optional[list[list[Optional[Cell]]]] = None, *,
                 widths: Optional[dict[int, float]] = None, heights: Optional[dict[int, float]] = None,
                 merges: Optional[list[Rect]] = None, freeze: Optional[tuple[int, int]] = None,
                 links: Optional[dict[tuple[int, int], str]] = None,
                 conditional: Optional[list[CondFormat]] = None, chart: Optional[Chart] = None,
                 print_setup: Optional[PrintSetup] = None, autofilter: Optional[Rect] = None,
                 hidden_cols: Optional[set[int]] = None, protect: bool = True,
                 protection: Protection = Protection()):
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
        self.validations: list[Validation] = []   # input cells' rules (a municipality's input file)

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

    def kept_widths(self, old: Sequence[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
        """The widths staff gave the sheet's columns that this plan neither sizes nor hides:
        ``old`` (first column, last column, width) each, the sheet's widths before the write,
        with the plan's columns cut out of its runs. The rule of every face: ``widths`` and
        ``hidden_cols`` are the columns the plan decides, every other column shows, at the
        width staff gave it. The buttons clear a tool sheet with Excel's Clear All, which
        leaves every column's width, and set the plan's; the file face, which writes the sheet
        anew, writes these beside them (workbook.apply). Without them a note column staff
        widened beside 一覧 came back at the default width from the command line alone.
        A width of 0 (a column hidden by its width) is left out: the column shows, as the
        buttons show every column the plan does not hide (excel.apply)."""
        planned = set(self.widths) | self.hidden_cols
        out: list[tuple[int, int, float]] = []
        for first, last, width in old:
            if not (0 < width <= 255 and 1 <= first <= last <= LAST_COLUMN):
                continue
            start = first
            for col in sorted(k for k in planned if first <= k <= last):
                if col > start:
                    out.append((start, col - 1, width))
                start = col + 1
            if start <= last:
                out.append((start, last, width))
        return out


class CellEdit(NamedTuple):
    """A staff-sheet cell set to ``value`` (a str is always text, never a formula).

    ``optional``: a write the command's result does not depend on (メニュー's last-run
    status, which the click's own message says anyway). A face that cannot write its sheet
    (a sheet staff protected with a password, which a button cannot lift) leaves it out
    and says so, rather than refusing the whole command (WritePlan.leave_out)."""
    sheet: str
    row: int
    col: int
    value: object
    number_format: Optional[str] = None   # None: the cell keeps its own
    optional: bool = False

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


class WidthEdit(NamedTuple):
    """A staff-sheet column set ``width`` wide (Excel's unit), every other setting of it kept
    (hidden, its format). Only the file face applies one: the plans that hold them
    (rollover, a closed year carried into a later master) are written to files on every face."""
    sheet: str
    col: int
    width: float


class NameEdit(NamedTuple):
    """A workbook-scope defined name set to ``value`` (its definition, without "=")."""
    name: str
    value: str
    hidden: bool = False


class WritePlan:
    """``under_way``: cells written before anything else, each one a cell ``cells`` writes
    again later (メニュー's 最終実行結果, marked as under way: core.plan.under_way_cells). Only
    a plan for a face whose writes reach the book one at a time and can stop partway holds
    them (MasterState.stops_halfway); a stop leaves the mark where staff look first. The
    rules that refuse a cell before writing (merged, data table, long text) see the cell in
    ``cells``."""
    __slots__ = ("sheets", "cells", "fills", "names", "under_way", "widths")

    def __init__(self, sheets: Optional[list[SheetPlan]] = None, cells: Optional[list[CellEdit]] = None,
                 fills: Optional[list[FillEdit]] = None, names: Optional[list[NameEdit]] = None,
                 under_way: Optional[list[CellEdit]] = None, widths: Optional[list[WidthEdit]] = None):
        self.sheets = sheets if sheets is not None else []
        self.cells = cells if cells is not None else []
        self.fills = fills if fills is not None else []
        self.names = names if names is not None else []
        self.under_way = under_way if under_way is not None else []
        self.widths = widths if widths is not None else []

    def __repr__(self) -> str:
        return f"WritePlan({self.sheets!r}, {len(self.cells)} cells, {len(self.fills)} fills)"

    @property
    def staff_sheets(self) -> list[str]:
        """Sheets outside the owned ones that this plan edits."""
        return list(dict.fromkeys([e.sheet for e in self.cells] + [f.sheet for f in self.fills]
                                  + [w.sheet for w in self.widths]))

    @property
    def empty(self) -> bool:
        return not (self.sheets or self.cells or self.fills or self.names or self.widths)

    @property
    def changes_values(self) -> bool:
        """Whether a formula could read something this plan writes (fills change no value)."""
        return bool(self.sheets or self.cells or self.names)

    @property
    def optional_sheets(self) -> list[str]:
        """Sheets holding optional cells: the ones a face asks whether it can write."""
        return list(dict.fromkeys(e.sheet for e in self.cells if e.optional))

    def leave_out(self, locked: Sequence[str]) -> list[CellEdit]:
        """Drop the optional cells on ``locked`` sheets (the rule, once, for every face), and
        the under-way mark with them (a status not written is not marked either); returns
        the cells, for the face to say which cells it did not write. Required writes on a
        locked sheet stay, and the face refuses them as before."""
        out = [e for e in self.cells if e.optional and e.sheet in locked]
        if out:
            self.cells = [e for e in self.cells if not (e.optional and e.sheet in locked)]
        self.under_way = [e for e in self.under_way if not (e.optional and e.sheet in locked)]
        return out

    def refuse_missing(self, sheetnames: Sequence[str]) -> None:
        """The rule for a staff sheet the book does not have: the whole plan is refused
        before anything is written, on every face (UserError naming the sheets).

        The builders only name sheets the master state lists (the marks leave a deleted
        sheet's marks out), so this is a sheet deleted between the read and the write: a
        plan half applied would leave 検証結果 listing marks that were never painted."""
        planned = {s.name for s in self.sheets}
        missing = [s for s in self.staff_sheets if s not in sheetnames and s not in planned]
        if missing:
            from .face import again

            raise UserError(f"シート「{'」「'.join(missing)}」がありません。ブックを開き直してから、"
                            f"もう一度{again()}ください（何も書き込んでいません）")


    def refuse_taken(self, other_tabs: Sequence[str]) -> None:
        """The rule for a tool sheet whose name a tab that is not a worksheet holds (a chart
        sheet staff made from 集計's chart and named 「集計」, a dialog or Excel 4.0 macro
        sheet): refused before anything is written, on every face that can tell those tabs
        (contract.tab_taken_message). Sheet names are one set over every tab, compared as
        Excel compares them (contract.sheet_name_key): Excel names no new sheet so (1004 after
        Sheets.Add had added one, halfway through a server click), and the file face took the
        chart sheet for the tool's sheet and stopped on its missing grid (TypeError)."""
        from .face import again
        from .contract import sheet_name_key, tab_taken_message

        held = {sheet_name_key(name): name for name in other_tabs}
        taken = [held[sheet_name_key(s.name)] for s in self.sheets if sheet_name_key(s.name) in held]
        if taken:
            raise UserError(tab_taken_message(taken, again()))

    def added(self, sheetnames: Collection[str]) -> list[str]:
        """The owned sheets the plan adds: those the book does not have (staff deleted 検証結果,
        or a master's first 評価を再計算 adds 次の一歩).

        The rule of every face for them: the sheet staff had shown stays shown. Excel shows the
        sheet it adds (Sheets.Add), so the buttons left the book on 次の一歩 after the first
        評価を再計算 of every new master, where the command line left it on メニュー; a face that
        adds one shows the one shown before again, once its sheets are written (excel.apply).
        The file face adds it at the end and leaves the tabs as they were (its activeTab; the
        new sheet is not selected)."""
        return [s.name for s in self.sheets if s.name not in sheetnames]

    def refuse_added(self, sheetnames: Sequence[str], structure_locked: bool) -> None:
        """The rule for a book whose structure is protected: a plan that would add a sheet
        (an owned sheet the book does not have) is refused before anything is written, on
        every face (run again as the face runs: core.face.again; contract.locked_structure_message)."""
        if not structure_locked:
            return
        added = self.added(sheetnames)
        if added:
            from .face import again
            from .contract import locked_structure_message

            raise UserError(locked_structure_message(added, again()))

    def refuse_merged(self, merged_of: Callable[[str], Sequence[tuple[int, int, int, int]]]) -> None:
        """The rule for merged cells on the sheets the plan writes values into (staff's: a
        municipality sheet's inputs, 前年度実績, メニュー's status): a value for a cell in
        a merged area's hidden part (any cell of it but the first, which Excel refuses with
        1004 halfway through a click, and which in the file no one would see) is refused
        before anything is written, on every face (contract.merged_cells_message).
        ``merged_of(sheet)``: the sheet's merged areas as the face knows them."""
        hits = [f"{e.sheet}!{cell_ref(e.row, e.col)}（{cell_ref(a[0], a[1])}:{cell_ref(a[2], a[3])}）"
                for e, a in self._edits_in(merged_of) if (e.row, e.col) != a[:2]]
        if hits:
            from .face import again
            from .contract import merged_cells_message

            raise UserError(merged_cells_message(hits, again()))

    def refuse_data_tables(self, tables_of: Callable[[str], Sequence[tuple[int, int, int, int]]]) -> None:
        """The rule for What-If data tables (「データ テーブル」) on the sheets the plan writes
        values into: staff may build one anywhere on their own sheets, a municipality sheet's
        input columns or 前年度実績 included, and Excel refuses any value into its results
        (1004) halfway through a click, while the file face would drop the table with its
        first cell. A value for a cell of one is refused before anything is written, on every
        face (contract.data_table_message). ``tables_of(sheet)``: the result ranges there."""
        hits = [f"{e.sheet}!{cell_ref(e.row, e.col)}" for e, _area in self._edits_in(tables_of, cells=True)]
        if hits:
            from .face import again
            from .contract import data_table_message

            raise UserError(data_table_message(hits, again()))

    def _edits_in(self, areas_of: Callable[[str], Sequence[tuple[int, int, int, int]]], cells: bool = False
                  ) -> "list[tuple[CellEdit, tuple[int, int, int, int]]]":
        """Each value edit inside an area ``areas_of(sheet)`` gives, with the first such area;
        an area of one cell counts only where ``cells`` (a data table may be one cell, a merge
        of one cell is none). Each sheet's areas are asked once, and only for a sheet written."""
        by_sheet: dict[str, list[CellEdit]] = {}
        for e in self.cells:
            by_sheet.setdefault(e.sheet, []).append(e)
        out = []
        for sheet, edits in by_sheet.items():
            areas = [a for a in areas_of(sheet) if cells or a[:2] != a[2:]]
            for e in edits if areas else ():
                area = area_holding(e.row, e.col, areas)
                if area is not None:
                    out.append((e, area))
        return out

    def refuse_long_texts(self) -> None:
        """The rule for a text longer than the tool writes in a cell (values.CELL_TEXT_LIMIT:
        Excel's 32,767 less the buttons' text prefix), in a sheet the plan builds or a staff
        cell it sets: refused before anything is written, on every face, naming the cells
        (contract.long_texts_message). Each builder cuts the texts it quotes (values.fit_cell)
        or refuses their source (設定's 圏域名); this is the rule behind them, so a text a
        builder missed is never a 1004 halfway through a click, nor a cell the command line
        writes that Excel cannot open whole (Excel specifications and limits: 32,767 characters
        in a cell)."""
        hits = [f"{name}!{cell_ref(row, col)}（{n:,}文字）" for name, row, col, n in long_texts(self.sheets, self.cells)]
        if hits:
            from .face import again
            from .contract import long_texts_message

            raise UserError(long_texts_message(hits, again()))

    def refuse_past_the_extent(self) -> None:
        """The rule for the sheets a command grows (取込履歴 by rows at every 回収ファイル取込,
        経年 by two columns a year, any cell a plan sets): a plan that would write past what
        the tool reads of a sheet (refs.MAX_ROWS rows, MAX_COLUMNS columns, MAX_CELLS cells
        counted from column Z at least, as check_extent counts them; all well inside Excel's
        1,048,576 × 16,384) is refused before anything is written, on every face, naming the
        sheet and the row or column it would reach. Written, every later command refused the
        master as too large (sheet_checks.check_extent), and past Excel's grid Excel calls
        the file damaged. Nothing bounded 取込履歴, which gains a row for each file and each
        cell an import leaves (a 20,000-indicator return may leave thousands). The width is
        the widest cell the plan writes there: staff's own columns past it are not known here."""
        reach: dict[str, list[int]] = {}
        for sheet in self.sheets:
            at = reach.setdefault(sheet.name, [0, 0])
            at[0] = max(at[0], len(sheet.rows))
            at[1] = max(at[1], max((len(row) for row in sheet.rows), default=0))
        for e in (*self.cells, *self.under_way):
            at = reach.setdefault(e.sheet, [0, 0])
            at[0], at[1] = max(at[0], e.row), max(at[1], e.col)
        from .face import again

        for name, (rows, cols) in reach.items():
            if cols > MAX_COLUMNS:
                raise UserError(f"シート「{name}」に書き込むと {cols:,} 列目まで使うことになり、このツールが読める"
                                f" {MAX_COLUMNS:,} 列を超えます（何も書き込んでいません）。シート「{name}」の古い列を"
                                "別のブックに移して（コピーして貼り付け、元の列は削除）、列を減らしてから"
                                f"もう一度{again()}ください")
            most = min(MAX_ROWS, MAX_CELLS // max(cols, LEAST_COLUMNS_READ))
            if rows > most:
                raise UserError(f"シート「{name}」に書き込むと {rows:,} 行目まで使うことになり、このツールが読める"
                                f" {most:,} 行を超えます（何も書き込んでいません）。シート「{name}」の古い行を"
                                "別のブックに移して（コピーして貼り付け、元の行は削除）、行を減らしてから"
                                f"もう一度{again()}ください")

    def refuse_shared(self, shared: bool, result: str) -> None:
        """The rule for a legacy shared workbook: a plan that rebuilds a sheet (merges,
        conditional formats, hyperlinks, protection lifted and set again) is refused before
        anything is written (contract.shared_book_message); values and names alone, which a
        shared workbook takes, go through."""
        if shared and self.sheets:
            from .face import again
            from .contract import shared_book_message

            raise UserError(shared_book_message(result, again()))


def long_texts(sheets: Sequence[SheetPlan], cells: Sequence[CellEdit] = ()) -> list[tuple[str, int, int, int]]:
    """(sheet, row, column, length) of each text longer than values.CELL_TEXT_LIMIT in
    ``sheets``' cells and ``cells``' values (WritePlan.refuse_long_texts). No character is
    wider than two UTF-16 units, so only a text of more than half the limit is measured
    (the scan of a 20,000-row 一覧 costs about 25 ms on the test machine; a pass in C through
    itertools cost as much, the type test per value being a call)."""
    from .values import CELL_TEXT_LIMIT, over_cell

    half = CELL_TEXT_LIMIT // 2
    out = []
    for sheet in sheets:
        for r, row in enumerate(sheet.rows, start=1):
            for value, _look in filter(None, row):
                if type(value) is str and len(value) > half:
                    for col, cell in enumerate(row, start=1):
                        if cell is not None and (n := over_cell(cell[0])):
                            out.append((sheet.name, r, col, n))
                    break
    for e in cells:
        if n := over_cell(e.value):
            out.append((e.sheet, e.row, e.col, n))
    return out


class MasterState(NamedTuple):
    """What a plan needs to know of the master besides its contract data.

    ``grids``: the current 検証結果, 取込履歴, 経年 and 一覧 (c.STATE_SHEETS) as rows from A1
    (absent when the sheet is).
    ``fill_of``: the fill a cell has now, where the face can read it (None: no fill): the
    file's styles, Excel's cell, or on the server the saved master's styles (the payload
    has no colours); a face with none of these leaves it out and the contract's
    expectation is used.
    ``comments``: the notes on a sheet's cells, (cell, text) each, where the face can read
    them: the file's comments parts, or on the server the saved master's (the payload has
    none); None where nothing can say them.
    ``moved``: on the server only, whose ``fill_of`` reads the saved master and not the
    open book: a sheet's rows and columns since the save (core.saved_places.SheetPlaces),
    None for a sheet in place. None on the faces that read the book they write, where a
    cell is where it is.
    ``charts``: the charts on a sheet as last saved, (name, title, top left cell) each, where the face drops
    them when it rebuilds the sheet and can read them: the file, and Excel on the PC (whose
    buttons delete a rebuilt sheet's charts); None on the server, whose VBA client neither
    sees nor deletes charts.
    ``tables``: the tables (Excel's ListObjects) on a sheet, (name, range) each, where the face
    can say them: the file and Excel on the PC (its saved file, as charts), the server (the
    tables its VBA client lists in the payload). Every face drops them with a rebuilt sheet
    (package.tables).
    ``cell_settings``: the data validations, ignored-error flags and sparklines on a sheet's
    cells, (kind, range) each (package.cell_settings), where the face can say them: the file,
    and Excel on the PC and the server from the saved master. Every face drops them with a
    rebuilt sheet's cells.
    ``formulas``: the cells of a sheet that hold a formula (「A1」 each), where the face can say
    them: the file (rollover and a late return's 前年度実績 are made from the saved master on
    every face). A formula showing nothing reads as an empty cell, and is none: a column of
    them is no free column to write into.
    ``percents``: the cells of a sheet whose number format has a percent sign, (row, col) →
    that format, numbers and empty cells, as the face's reader found them (core.percent_cells):
    the file's styles, or on the server the saved master's of the cells unchanged since the
    save; None where the face cannot say them. A number collect writes there is given the
    format 標準 (core.percent_cells.written_format).
    ``hidden_cols``: the hidden columns of a sheet as saved, (first, last) each, where the face can
    say them: the file (rollover is made from the saved master on every face). A column the
    tool writes into there is one staff never see (core.rollover.hidden_previous).
    ``stops_halfway``: the face's writes reach the book one at a time, and Excel can stop them
    partway (an error past every check made before writing): the buttons, by COM, AppleScript
    or the VBA client's replay of the server's answer. The plan then marks the click as under
    way first (WritePlan.under_way). False for the file face, whose write replaces the file
    whole or not at all.
    """
    sheetnames: Sequence[str]
    names: Mapping[str, tuple[str, str]]
    grids: Mapping[str, Sequence[Sequence[object]]] = MappingProxyType({})
    fill_of: Optional[Callable[[str, str], Optional[str]]] = None
    comments: Optional[Callable[[str], Sequence[tuple[str, str]]]] = None
    moved: Optional[Callable[[str], object]] = None
    charts: Optional[Callable[[str], Sequence[tuple[str, str, str]]]] = None
    tables: Optional[Callable[[str], Sequence[tuple[str, str]]]] = None
    cell_settings: Optional[Callable[[str], Sequence[tuple[str, str]]]] = None
    formulas: Optional[Callable[[str], Collection[str]]] = None
    percents: Optional[Callable[[str], Mapping[tuple[int, int], str]]] = None
    stops_halfway: bool = False
    hidden_cols: Optional[Callable[[str], Sequence[tuple[int, int]]]] = None

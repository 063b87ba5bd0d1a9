"""Excel itself behind the book: Windows (COM) and macOS (AppleScript).

Neither can run on the Linux test bench, so these classes stay small and say, call by
call, what Excel is asked. What both desktops share (a status bar, screen updating, fills
that can be read, widths in characters, xlwings' own alignment, panes set through the
window of the active sheet, protection lifted and restored sheet by sheet) is in
DesktopBook; each engine adds only the calls xlwings has no common form for. On a Mac
those calls are AppleScript terms of the terminology xlwings sends with every Apple event
(xlwings/mac_dict.py; tests/apple_model.py holds each call to it), but whether Excel for
Mac answers them as Windows does only a Mac can say: each look goes through
``best_effort``, never worth failing a button over there. Lifting protection does not: a
sheet that cannot be lifted is refused before anything is written, as on Windows.
"""

from __future__ import annotations

from abc import abstractmethod
from contextlib import contextmanager
from decimal import Decimal
from typing import Callable, Iterable, Iterator, Mapping, Optional

from ..core.contract_read import MasterData, needed_sheets, read_contract
from ..core.displayed import plain_format
from ..core.looks import PAPER_CODES, PROTECTION, PrintSetup, Protection
from ..core.errors import UserError
from ..core.unsaved import BookState
from .book import (MAC, WINDOWS, LiveBook, best_effort, locked_sheet_message, online_book_message,
                   shared_book_message)
from .com_errors import clean_grid

# COM constants (XlPageOrientation, XlUnderlineStyle)
_XL_LANDSCAPE, _XL_PORTRAIT = 2, 1
_XL_UNDERLINE_SINGLE = 2
_XL_SHEET_VISIBLE = -1
_XL_PAGE_LAYOUT_VIEW = 3


def com_page_setup(setup: PrintSetup) -> dict[str, object]:
    """PageSetup's properties for a core PrintSetup, in the order they are set (COM's one
    translation of it; the print area and page breaks are set on the sheet, and the server's
    VBA client is sent the same, renkei_xl.excel.client.PAGE_SETUP). Margins are points
    rounded to 1/10,000: 0.7 inch is 50.400000000000006 points, a number VBA-Web's parser
    hands the VBA client as a String, which CDbl reads with the decimal separator of the
    PC's locale."""
    left, right, top, bottom = (_points(inches) for inches in setup.margins)
    return {
        "PrintTitleRows": _title_rows(setup),
        "Orientation": _XL_LANDSCAPE if setup.landscape else _XL_PORTRAIT,
        "PaperSize": PAPER_CODES[setup.paper],
        "Zoom": False,
        "FitToPagesWide": setup.fit_width or False,
        "FitToPagesTall": setup.fit_height or False,
        "CenterHorizontally": setup.center_horizontally,
        "LeftMargin": left, "RightMargin": right, "TopMargin": top, "BottomMargin": bottom,
        "HeaderMargin": _points(setup.header_margin), "FooterMargin": _points(setup.footer_margin),
        "CenterFooter": setup.centre_footer,
    }


def _points(inches: float) -> float:
    return round(inches * 72, 4)


# Protection's "allowed" fields and Worksheet.Protect's arguments of the same name, which are
# also the properties of COM's Worksheet.Protection: said once for both directions.
_COM_ALLOWED = (("format_cells", "AllowFormattingCells"), ("format_columns", "AllowFormattingColumns"),
                ("format_rows", "AllowFormattingRows"), ("insert_columns", "AllowInsertingColumns"),
                ("insert_rows", "AllowInsertingRows"), ("insert_hyperlinks", "AllowInsertingHyperlinks"),
                ("delete_columns", "AllowDeletingColumns"), ("delete_rows", "AllowDeletingRows"),
                ("sort", "AllowSorting"), ("autofilter", "AllowFiltering"), ("pivot_tables", "AllowUsingPivotTables"))


def com_protection(p: Protection) -> Mapping[str, object]:
    """Worksheet.Protect's arguments for a core Protection (COM's one translation of it)."""
    return dict(DrawingObjects=p.drawing_objects, Contents=True, Scenarios=p.scenarios,
                **{com: getattr(p, field) for field, com in _COM_ALLOWED})


# The same fields as Excel for Mac's AppleScript names them: protect_worksheet's parameters
# and the properties of a sheet's protection_object (xlwings/mac_dict.py). Not COM's names
# in snake case: the pivot table one is singular, and Contents is ``worksheet_contents``.
_MAC_ALLOWED = (("format_cells", "allow_formatting_cells"), ("format_columns", "allow_formatting_columns"),
                ("format_rows", "allow_formatting_rows"), ("insert_columns", "allow_inserting_columns"),
                ("insert_rows", "allow_inserting_rows"), ("insert_hyperlinks", "allow_inserting_hyperlinks"),
                ("delete_columns", "allow_deleting_columns"), ("delete_rows", "allow_deleting_rows"),
                ("sort", "allow_sorting"), ("autofilter", "allow_filtering"), ("pivot_tables", "allow_using_pivot_table"))


def mac_protection(p: Protection) -> Mapping[str, object]:
    """protect_worksheet's parameters for a core Protection (the Mac's one translation of it).
    appscript refuses a keyword the command does not have (TypeError): ``contents=True``
    left every tool sheet unprotected after a click on a Mac."""
    return dict(drawing_objects=p.drawing_objects, worksheet_contents=True, scenarios=p.scenarios,
                **{mac: getattr(p, field) for field, mac in _MAC_ALLOWED})


# A tool sheet a click has just added is protected as the built ones are (also sent to the
# VBA client of the server's answers: renkei_xl.excel.remote.RemoteBook.writable).
NEW_SHEET_PROTECTION = com_protection(PROTECTION)


def _saved(read, path, sheet: str) -> list[tuple]:
    """``read`` (package.comments.sheet_comments, package.drawing.sheet_charts) of ``sheet``
    in the master saved at ``path``; none where it cannot say."""
    from ..package.workbook import WorkbookXml
    from ..package.xml import PackageError
    from ..package.zipped import Package

    try:
        pkg = Package(path, path.read_bytes())     # bytes: no file held open after the click
        return read(pkg, WorkbookXml(pkg), sheet)
    except (UserError, PackageError, OSError, ValueError, KeyError):
        return []


class _AskedPercentFormats(Mapping):
    """A sheet's cells whose number format is not plain (core.displayed.plain_format: a
    percent sign, words, a scale, a date), as Excel answers for each cell
    looked up (one question a cell: collect writes a few); those asked so far are its items."""

    def __init__(self, book: "DesktopBook", sheet_name: str):
        self._book, self._sheet, self._asked = book, sheet_name, {}

    def __getitem__(self, cell: tuple[int, int]) -> str:
        if cell not in self._asked:
            row, col = cell
            self._asked[cell] = self._book._number_formats(self._sheet, col, [row]).get(row)
        code = self._asked[cell]
        if code is None or plain_format(code):
            raise KeyError(cell)
        return code

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter([cell for cell, code in self._asked.items() if code and not plain_format(code)])

    def __len__(self) -> int:
        return sum(1 for _cell in self)


class DesktopBook(LiveBook):
    """What Excel on Windows and on a Mac do alike."""

    is_desktop = True
    reads_colours = True

    def __init__(self, book):
        super().__init__(book)
        # (sheet, cells) -> the merges Excel said over them this click (``merges_over``)
        self._asked_merges: dict[tuple[str, frozenset], list[tuple[int, int, int, int]]] = {}

    def set_column_width(self, rng, width: float) -> None:
        rng.column_width = width

    def file_name(self) -> str:
        """Excel names a book open from OneDrive or SharePoint by its URL, which xlwings'
        desktop engines turn into the synced local file, raising XlwingsError where they
        find none (xlwings/utils.py fullname_url_to_local_path, from Book.fullname in
        _xlwindows.py and _xlmac.py): that is said in Japanese, not as 「予期しないエラー」
        in xlwings' English. Any failure here is taken so (this module imports no xlwings,
        and reading a name fails for no other reason while Excel runs the click)."""
        try:
            return self.book.fullname
        except Exception:
            raise UserError(online_book_message()) from None

    def comment_source(self):
        """The saved master's notes, read from its file as the server reads them, so both
        clients name the same notes (one put since the last save is not known): xlwings
        offers no reading of notes, and the file is what the command line reads too. Where
        no saved file can be found, none is known (入力チェック and 評価を再計算 still run)."""
        from ..package.comments import sheet_comments

        return self._saved_source(sheet_comments)

    def chart_source(self):
        """The saved master's charts, as the command line reads them: clear_sheet deletes a
        rebuilt sheet's charts here, the staff's own with the tool's (one made since the
        last save is not known)."""
        from ..package.drawing import sheet_charts

        return self._saved_source(sheet_charts)

    def table_source(self):
        """The saved master's tables, as the command line reads them and as charts are read
        here: clear_sheet's Clear All deletes a rebuilt sheet's tables (one made since the last
        save is not known)."""
        from ..package.tables import sheet_tables

        return self._saved_source(sheet_tables)

    def cell_settings_source(self):
        """The saved master's validations, ignored-error flags and sparklines, as the command
        line reads them: clear_sheet's Clear All removes them with a rebuilt sheet's cells
        (one set since the last save is not known)."""
        from ..package.cell_settings import sheet_cell_settings

        return self._saved_source(sheet_cell_settings)

    def formats_problem(self, plan) -> str:
        """workbook.apply.cell_formats_problem of ``plan`` on the saved master, with the formats
        Excel makes on the way to its looks (COM and AppleScript write them attribute by
        attribute too), as the server counts it ("" where no saved file can be found or read)."""
        from pathlib import Path

        from ..package.workbook import WorkbookXml
        from ..package.xml import PackageError
        from ..package.zipped import Package
        from ..workbook.apply import cell_formats_problem
        from ..workbook.state import StyleReader
        from .apply import formats_on_the_way

        try:
            name = self.file_name()
            if "://" in name or not Path(name).is_file():
                return ""
            pkg = Package(Path(name), Path(name).read_bytes())     # bytes: no file held open
            return cell_formats_problem(StyleReader(pkg, WorkbookXml(pkg)), plan, formats_on_the_way) or ""
        except (UserError, PackageError, OSError, ValueError, KeyError):
            return ""

    def _saved_source(self, read):
        from functools import partial
        from pathlib import Path

        try:
            name = self.file_name()
        except UserError:
            return None
        return partial(_saved, read, Path(name)) if "://" not in name and Path(name).is_file() else None

    def align(self, rng, horizontal: Optional[str], vertical: Optional[str]) -> None:
        if horizontal:
            rng.horizontal_alignment = horizontal
        if vertical:
            rng.vertical_alignment = vertical

    def freeze(self, sheet, first: Optional[tuple[int, int]]) -> None:
        """Panes are a property of the window, so the sheet is activated for it, and the
        sheet staff had open is given back. A sheet staff hid cannot be activated (1004):
        its panes stay as they are, as RenkeiServer.bas' RenkeiFreeze leaves them. COM gives
        Worksheet.Visible as it is, -1 shown, 0 hidden, 2 very hidden (xlSheetVeryHidden,
        truthy): only -1 (or a Mac's True) is shown; very hidden met 1004 halfway."""
        if sheet.visible not in (True, _XL_SHEET_VISIBLE):
            return
        rows, cols = (first[0] - 1, first[1] - 1) if first else (0, 0)
        active = self.book.sheets.active
        try:
            sheet.activate()
            self._freeze_window(rows, cols)
        finally:
            active.activate()

    @abstractmethod
    def _freeze_window(self, rows: int, cols: int) -> None:
        """Freeze the first ``rows`` rows and ``cols`` columns of the active window (0, 0: none)."""

    def in_array(self, sheet_name: str, row: int, col: int) -> bool:
        return bool(self.book.sheets[sheet_name].range((row, col)).has_array)

    def array_cells(self, cells: Iterable[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
        """One question to Excel per sheet's rectangle of cells (HasArray: False for none),
        cell by cell only inside one that has an array: each question is a round trip."""
        from .apply import rectangles

        out = []
        for sheet, held in _by_sheet(cells).items():
            for r1, c1, r2, c2 in rectangles(held):
                if self.book.sheets[sheet].range((r1, c1), (r2, c2)).has_array is not False:
                    out += [(sheet, r, c) for r, c in held if r1 <= r <= r2 and c1 <= c <= c2
                            and self.in_array(sheet, r, c)]
        return out

    def merges_over(self, cells: Iterable[tuple[str, int, int]]
                    ) -> Callable[[str], list[tuple[int, int, int, int]]]:
        """Excel itself says the merges over ``cells``, a merge staff made since the last save
        included (the server's VBA asks the same of the cells written, RenkeiCheckWritten):
        the cells a click writes (WritePlan.refuse_merged, before any write) and the input
        cells a read looks at (contract_read.merged_input_cells: 入力チェック and 評価を再計算
        name a merged input as the command line and the server do). Each question is a round
        trip: one for the sheet's cells' bounding range (MergeCells: False for none), then
        one per rectangle of the cells; a rectangle with a merge is halved and asked again,
        and a single cell with one says its MergeArea, so that a long column with one merge
        costs a few dozen round trips, not one per cell. Asked once per click for the same
        cells (a read and the comparison with the saved master read alike, and the book
        does not change before the click writes: ``writable`` forgets them). The areas go
        to the core's rules, which decide what is named or refused."""
        by_sheet = _by_sheet(cells)
        return lambda sheet_name: self._merges_in(sheet_name, by_sheet.get(sheet_name, []))

    def _merges_in(self, sheet_name: str, held: list[tuple[int, int]]) -> list[tuple[int, int, int, int]]:
        key = (sheet_name, frozenset(held))
        if key not in self._asked_merges:
            self._asked_merges[key] = self._ask_merges(sheet_name, held)
        return list(self._asked_merges[key])

    def _ask_merges(self, sheet_name: str, held: list[tuple[int, int]]) -> list[tuple[int, int, int, int]]:
        from .apply import rectangles

        sheet = self.book.sheets[sheet_name]
        found: list[tuple[int, int, int, int]] = []
        pending = rectangles(held)
        if len(pending) > 1:
            bounds = (min(r[0] for r in pending), min(r[1] for r in pending),
                      max(r[2] for r in pending), max(r[3] for r in pending))
            if sheet.range(bounds[:2], bounds[2:]).merge_cells is False:
                return found
        while pending:
            r1, c1, r2, c2 = pending.pop()
            if any(a[0] <= r1 and a[1] <= c1 and r2 <= a[2] and c2 <= a[3] for a in found):
                continue                           # inside a merge already found
            if sheet.range((r1, c1), (r2, c2)).merge_cells is False:
                continue
            if (r1, c1) == (r2, c2):
                area = _area(sheet.range((r1, c1)).merge_area.address)
                if area is not None and area[:2] != area[2:]:
                    found.append(area)
            elif r2 - r1 >= c2 - c1:
                half = (r1 + r2) // 2
                pending += [(half + 1, c1, r2, c2), (r1, c1, half, c2)]
            else:
                half = (c1 + c2) // 2
                pending += [(r1, half + 1, r2, c2), (r1, c1, r2, half)]
        return found

    def data_tables_over(self, cells: Iterable[tuple[str, int, int]]
                         ) -> Callable[[str], list[tuple[int, int, int, int]]]:
        """Excel itself says which cells a click writes hold a What-If data table's results (a
        table made since the last save included): one question per sheet's rectangle of
        cells, its formulas (xlwings' ``formula``, on both desktops), a result's reading
        "=TABLE(...)" as RenkeiCheckWritten reads it. Each such cell goes to the core's rule
        (WritePlan.refuse_data_tables) as an area of its own."""
        by_sheet = _by_sheet(cells)
        return lambda sheet_name: self._tables_in(sheet_name, by_sheet.get(sheet_name, []))

    def _tables_in(self, sheet_name: str, held: list[tuple[int, int]]) -> list[tuple[int, int, int, int]]:
        from .apply import rectangles

        sheet = self.book.sheets[sheet_name]
        out = []
        for r1, c1, r2, c2 in rectangles(held):
            cells = [(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]
            formulas = _flat(sheet.range((r1, c1), (r2, c2)).formula)
            if len(formulas) != len(cells):         # an answer of another shape: cell by cell
                formulas = [sheet.range(cell).formula for cell in cells]
            out += [(r, c, r, c) for (r, c), f in zip(cells, formulas)
                    if isinstance(f, str) and f[:7].upper() == "=TABLE("]
        return out

    def text_cols(self, sheet_name: str, row: int, cols: list[int]) -> set[int]:
        """Excel itself says each cell's NumberFormat (a format staff set since the last save
        included): one question per run of adjacent cells, which answers the run's one format,
        or none (Null) where they differ; then cell by cell."""
        from ..core.values import is_text_format

        sheet = self.book.sheets[sheet_name]
        out: set[int] = set()
        for run in _adjacent(cols):
            shared = sheet.range((row, run[0]), (row, run[-1])).number_format
            if len(run) > 1 and not (isinstance(shared, str) and shared):
                out.update(col for col in run if is_text_format(sheet.range((row, col)).number_format))
            elif is_text_format(shared):
                out.update(run)
        return out

    def _contract(self) -> MasterData:
        """The contract read as the file face reads it, a number input cell whose number
        format shows a percent read as it shows (core.percent_cells: 1 typed as 「100%」 is
        100%, not 1%). Excel is live here, so each cell's format is the one staff see, a
        format set since the last save included (the server cannot tell those, and refuses
        where it matters). Read once without formats to find where the number input cells
        are (the records' cells), Excel asked of those (``percent_cells``), and read again
        only where one has a percent format: a master without one is read once, as before."""
        from ..core.percent_cells import PercentFormats

        sheets = {name: self.grid(name) for name in needed_sheets(self.sheetnames)}
        data = read_contract(sheets, self.names)
        formats = self.percent_cells(sheets, data)
        if not formats:
            return data
        return read_contract(sheets, self.names, formats=PercentFormats(lambda sheet: formats.get(sheet, {})))

    def percent_cells(self, sheets: Mapping[str, list], data: MasterData) -> dict[str, dict[tuple[int, int], str]]:
        """sheet → (row, col) → number format of the numbers in the master's number input
        columns (core.percent_cells.PercentFormats.FIELDS: the columns the records read them from)
        whose format is not plain (core.displayed.plain_format), as Excel says it now, on the sheets
        core.percent_cells.read_on names (as on the server)."""
        from ..core.percent_cells import PercentFormats, read_on
        from ..core.refs import parse_ref

        columns: dict[str, set[int]] = {}
        for record in (*data.indicators, *data.entries):
            name = record.sheet or getattr(record, "municipality", "")
            if name not in sheets or not read_on(name):
                continue
            for field, ref in record.cells.items():
                if field in PercentFormats.FIELDS and ref:
                    columns.setdefault(name, set()).add(parse_ref(ref)[1])
        out: dict[str, dict[tuple[int, int], str]] = {}
        for name, cols in columns.items():
            grid, found = sheets[name], {}
            for col in sorted(cols):
                rows = [r for r, row in enumerate(grid, start=1)
                        if col <= len(row) and type(row[col - 1]) in (int, float)]
                if rows:
                    found.update(((r, col), fmt) for r, fmt in self._number_formats(name, col, rows).items()
                                 if not plain_format(fmt))
            if found:
                out[name] = found
        return out

    def percent_source(self):
        """Where collect's plan learns whether a cell it writes has a percent format
        (MasterState.percents): Excel asked of each such cell when the plan looks it up, an
        empty cell included (a 「100%」 typed and deleted keeps its 0%). The read asked only
        the numbers; without this the desktop wrote 85 into a 0% cell, which it then read
        as 「8500%」, where the file face and the server give the cell 標準."""
        return lambda sheet_name: _AskedPercentFormats(self, sheet_name)

    def _number_formats(self, sheet_name: str, col: int, rows: list[int]) -> dict[int, str]:
        """The NumberFormat of column ``col``'s cells in ``rows`` (sorted), asked of Excel a
        block at a time, never a cell at a time over the sheet: each question is a round
        trip (COM, or an Apple event on a Mac), and a cell at a time is 20,000 of them on a
        sheet of 20,000 rows. A block from its first row to its last answers its one format,
        or Null (None) where its cells differ; only such a block is split, in two halves of
        its rows. So a column of one format is one question (a click asks two per
        municipality sheet, 実績値 and 分母, and three on 指標), and one with k cells of another
        format at most 1 + 2·k·(log2(len(rows)) + 1). Excel for Mac may answer a block cell
        by cell (a list of one-item rows): taken as it comes."""
        sheet = self.book.sheets[sheet_name]
        out: dict[int, str] = {}
        pending = [rows]
        while pending:
            part = pending.pop()
            answer = sheet.range((part[0], col), (part[-1], col)).number_format
            if isinstance(answer, str):
                out.update((r, answer) for r in part)
                continue
            each = _per_cell(answer, part[-1] - part[0] + 1)
            if each is not None:
                out.update((r, each[r - part[0]]) for r in part if isinstance(each[r - part[0]], str))
            elif len(part) > 1:
                half = len(part) // 2
                pending += [part[half:], part[:half]]
        return out

    def covers_part_of_merge(self, sheet_name: str, rect: tuple[int, int, int, int]) -> bool:
        """Excel itself says whether the range holds merged cells (MergeCells: False for
        none); a range with any is written cell by cell, which is never refused for it."""
        r1, c1, r2, c2 = rect
        return self.book.sheets[sheet_name].range((r1, c1), (r2, c2)).merge_cells is not False

    def status(self, text: Optional[str]) -> None:
        def show() -> None:
            self.book.app.status_bar = text if text is not None else False
        best_effort(show)  # a status line is never worth failing a button over

    @contextmanager
    def writable(self, sheet_names: Iterable[str], protect: Iterable[str] = (),
                 written: Iterable[tuple[str, int, int]] = ()) -> Iterator[None]:
        """Only sheets that were protected, or are listed in ``protect``, are touched.
        ``written`` is for a client that replays later: here the writes are Excel's own calls,
        arrays are asked of the open book (``in_array``) and nothing is sent ahead."""
        restore: list[tuple[str, Protection]] = []
        try:
            for name in dict.fromkeys(sheet_names):   # inside: a sheet that cannot be lifted
                if name in self.sheetnames:          # leaves the ones before it protected again
                    self._lift(name, restore)
            yield
        finally:
            done = {name for name, _ in restore}
            restore += [(name, PROTECTION) for name in dict.fromkeys(protect)
                        if name not in done and name in self.sheetnames]
            for name, own in restore:
                self._protect(self.book.sheets[name].api, own)
            self._asked_merges.clear()               # the book is written now: asked again

    def _lift(self, name: str, restore: list) -> None:
        """Unprotect ``name`` if it is protected, remembering its own options (what staff
        may still do: filter, format), so that it is protected again as it was."""
        api = self.book.sheets[name].api
        own = self._own_protection(api)
        if own is None:
            return
        if not self._unprotect(api):
            raise UserError(locked_sheet_message([name]))
        restore.append((name, own))

    def password_sheets(self, sheet_names: Iterable[str]) -> list[str]:
        """Neither COM nor AppleScript has a "has a password" property: a protected sheet is
        lifted with an empty password and, if that works, protected again at once."""
        out = []
        for name in dict.fromkeys(sheet_names):
            if name not in self.sheetnames:
                continue
            api = self.book.sheets[name].api
            own = self._own_protection(api)
            if own is None:
                continue
            if self._unprotect(api):
                self._protect(api, own)
            else:
                out.append(name)
        return out

    @abstractmethod
    def _own_protection(self, api) -> Optional[Protection]:
        """How the sheet is protected now (None: it is not)."""

    @abstractmethod
    def _unprotect(self, api) -> bool:
        """Lift the protection with an explicit empty password (without one, Excel asks
        staff for the password in a dialog in the middle of the click); False where the
        sheet has a password."""

    @abstractmethod
    def _protect(self, api, own: Protection) -> None:
        """Protect the sheet again as ``own`` says."""

    def calculate(self) -> None:
        """F9 where calculation is manual (xlwings' App.calculation and App.calculate, which
        both desktops implement): every open book's formulas, as Excel calculates the
        master before saving it."""
        app = self.book.app
        if app.calculation == "manual":
            app.calculate()

    @contextmanager
    def quiet(self) -> Iterator[None]:
        """No screen repaint between the writes (much faster), put back as it was."""
        app = self.book.app
        before = app.screen_updating
        app.screen_updating = False
        try:
            yield
        finally:
            app.screen_updating = before


class WindowsBook(DesktopBook):
    """Excel through COM: ``.api`` is the Excel object model, and everything works."""

    engine = WINDOWS

    @contextmanager
    def quiet(self) -> Iterator[None]:
        """DesktopBook's, and no event procedure of staff's run by the writes (a
        Worksheet_Change or Workbook_SheetChange that upgrade-macros carried would run at every
        value written, writing cells the plan does not know or stopping the click halfway), as
        RenkeiCallServer turns events off for the server's replay; put back as they were.
        Here, not in DesktopBook: xlwings sets no events on a Mac."""
        app = self.book.app
        events = app.enable_events
        app.enable_events = False
        try:
            with super().quiet():
                yield
        finally:
            app.enable_events = events

    def grid(self, sheet_name: str) -> list[list[object]]:
        """COM hands an error value xlwings does not know (#SPILL!, #CALC!, ...) over as its
        SCODE, an int: read as its text, so the core names the cell (excel.com_errors).

        Range.Value of a cell formatted as a currency (¥, $, 通貨, 会計) is a VBA Currency,
        which pywin32 hands over as a Decimal of four decimals: 0.123456 typed there was read
        as 0.1235, where the command line reads the saved 0.123456. Range.Value2 is the Double
        the cell holds: read once more for a sheet that has such a cell, and taken for those
        cells alone (Value2 gives dates as serials)."""
        rows = clean_grid(super().grid(sheet_name))
        at = [(r, c) for r, row in enumerate(rows) for c, v in enumerate(row) if type(v) is Decimal]
        if at:
            exact = self.book.sheets[sheet_name].range((1, 1), (len(rows), len(rows[0]))).api.Value2
            if not isinstance(exact, tuple):     # COM gives one cell's value alone
                exact = ((exact,),)
            for r, c in at:
                rows[r][c] = exact[r][c]
        return rows

    def structure_locked(self) -> bool:
        return bool(self.book.api.ProtectStructure)

    def other_tabs(self) -> list[str]:
        """COM's Sheets less its Worksheets (chart, dialog and Excel 4.0 macro sheets); two
        counts in the common book that has none, the names asked only where it has some."""
        api = self.book.api
        if api.Sheets.Count == api.Worksheets.Count:
            return []
        worksheets = {api.Worksheets(i).Name for i in range(1, api.Worksheets.Count + 1)}
        return [name for name in (api.Sheets(i).Name for i in range(1, api.Sheets.Count + 1))
                if name not in worksheets]

    def prepare(self) -> None:
        """A legacy shared workbook is refused: Excel unprotects no sheet and merges no cells
        there, and the failing Unprotect read as a password. Sheets staff grouped
        (「[グループ]」) are ungrouped, as clicking one tab does: Excel offers no protection,
        filter, conditional format or panes to a group (docs/excel-model.md). Select works on
        the active book only, so the master is brought to the front first."""
        if self.book.api.MultiUserEditing:
            raise UserError(shared_book_message())
        if self.book.api.Windows(1).SelectedSheets.Count > 1:
            self.book.activate()
            self.book.api.ActiveSheet.Select()

    tells_saved = True

    def unsaved(self) -> bool:
        return not self.book.api.Saved

    def read_only(self) -> bool:
        return bool(self.book.api.ReadOnly)

    def book_state(self) -> BookState:
        return BookState(saved=not self.unsaved(), read_only=self.read_only())

    def _delete_links(self, sheet) -> None:
        sheet.api.Hyperlinks.Delete()   # COM's Clear may keep them on older Excel versions

    def underline(self, rng) -> None:
        rng.api.Font.Underline = _XL_UNDERLINE_SINGLE

    def _freeze_window(self, rows: int, cols: int) -> None:
        """As RenkeiServer.bas' RenkeiFreeze: a sheet staff look at in Page Layout view
        (shown as printed) keeps its panes and its view. Excel offers no freezing there, and
        what FreezePanes then does (1004 halfway through the click's writes, a prompt, or
        nothing) is not known (docs/excel-model.md, check 16)."""
        win = self.book.app.api.ActiveWindow
        if win.View == _XL_PAGE_LAYOUT_VIEW:
            return
        win.FreezePanes = False
        win.Split = False
        if rows or cols:
            win.ScrollRow, win.ScrollColumn = 1, 1
            win.SplitRow, win.SplitColumn = rows, cols
            win.FreezePanes = True

    def _page_setup(self, sheet, setup) -> None:
        """Print titles, paper, orientation, fit, margins, footer and page breaks. The paper
        is asked of the printer driver: one without it (no A3 on the office's default
        printer) makes Excel refuse PaperSize with 1004, and the page keeps its paper while
        the rest is set, as RenkeiServer.bas' renkeiPageSetup does under On Error Resume
        Next; raised, it stopped 評価を再計算 with 一覧's values written and its page half set."""
        ps = sheet.api.PageSetup
        for prop, value in com_page_setup(setup).items():
            if prop == "PaperSize":
                best_effort(lambda: setattr(ps, "PaperSize", value))   # called at once
            else:
                setattr(ps, prop, value)
        # The plan's page breaks (renkei_xl.core.pages): after the sheet's old ones go.
        sheet.api.ResetAllPageBreaks()
        for last in setup.row_breaks:
            sheet.api.HPageBreaks.Add(Before=sheet.range((last + 1, 1)).api)

    def autofilter(self, sheet, rect: Optional[tuple[int, int, int, int]]) -> None:
        if sheet.api.AutoFilterMode:
            sheet.api.AutoFilterMode = False
        if rect:
            sheet.range(rect[:2], rect[2:]).api.AutoFilter()

    def _own_protection(self, api) -> Optional[Protection]:
        return _windows_protection(api) if api.ProtectContents else None

    def _unprotect(self, api) -> bool:
        try:
            api.Unprotect("")
        except Exception:   # pywintypes.com_error: the sheet has a password
            return False
        return True

    def _protect(self, api, own: Protection) -> None:
        api.Protect(**com_protection(own))


class MacBook(DesktopBook):
    """Excel through AppleScript (appscript): ``.api`` is an appscript reference."""

    engine = MAC
    # xlwings' RunPython on a Mac starts Python in the background and returns at once
    # (xlwings-0.37.8.applescript, VbaHandler: the shell command ends in "&"; xlwings.bas'
    # ExecuteMac), where Windows waits for it (ExecuteWindows: WaitOnReturn = True): a second
    # click, on this button or another, starts a second writer while the first still writes.
    clicks_overlap = True

    def _values(self, sheet, rows: int, cols: int) -> list[list[object]]:
        """Without ``err_to_str`` (it raises TypeError on a Mac for any range of two rows or
        more), every error value read as None, then named from what its cell shows
        (excel.mac_errors), read in as many Apple events as its size needs."""
        from .mac_errors import SHOWN_CELLS, rows_2d, with_shown_errors

        values = sheet.range((1, 1), (rows, cols)).options(ndim=2).value
        step = max(1, SHOWN_CELLS // max(cols, 1))
        shown: list = []
        for top in range(1, rows + 1, step):
            part = sheet.range((top, 1), (min(top + step - 1, rows), cols))
            shown += rows_2d(part.api.string_value.get())
        return with_shown_errors(sheet.name, values, shown)

    def underline(self, rng) -> None:
        def mac() -> None:
            from appscript import k

            rng.api.font_object.underline.set(k.underline_style_single)
        best_effort(mac)

    def _freeze_window(self, rows: int, cols: int) -> None:
        """As WindowsBook and RenkeiServer.bas' RenkeiFreeze: split_row counts rows from the
        top of what the window shows, so the window is unsplit and scrolled to A1 first."""
        def mac() -> None:
            win = self.book.app.api.active_window
            win.freeze_panes.set(False)
            win.split.set(False)
            if rows or cols:
                win.scroll_row.set(1)
                win.scroll_column.set(1)
                win.split_row.set(rows)
                win.split_column.set(cols)
                win.freeze_panes.set(True)
        best_effort(mac)

    def _page_setup(self, sheet, setup) -> None:
        """Print titles only."""
        best_effort(lambda: sheet.api.page_setup_object.print_title_rows.set(_title_rows(setup)))

    def autofilter(self, sheet, rect: Optional[tuple[int, int, int, int]]) -> None:
        def mac() -> None:
            if sheet.api.autofilter_mode.get():
                sheet.api.autofilter_mode.set(False)
            if rect:
                # ``autofilter`` is a class of the terminology; calling it was appscript's
                # ``get``. The command is ``autofilter_range`` (COM's Range.AutoFilter).
                sheet.range(rect[:2], rect[2:]).api.autofilter_range()
        best_effort(mac)

    def _own_protection(self, api) -> Optional[Protection]:
        """The sheet's own options from its protection_object; the built ones where Excel
        for Mac does not say them (a look, not worth failing the click over). Where it does
        not even say whether the sheet is protected, it is left as it is, as before: a
        protected one then stops the write with Excel's own message."""
        try:
            if not api.protect_contents.get():
                return None
        except Exception:   # appscript's CommandError
            return None
        try:
            allowed = api.protection_object
            return Protection(drawing_objects=bool(api.protect_drawing_objects.get()),
                              scenarios=bool(api.protect_scenarios.get()),
                              **{field: bool(getattr(allowed, mac).get()) for field, mac in _MAC_ALLOWED})
        except Exception:   # appscript's CommandError
            return PROTECTION

    def _unprotect(self, api) -> bool:
        try:
            api.unprotect(password="")
        except Exception:   # appscript's CommandError: the sheet has a password
            return False
        return True

    def _protect(self, api, own: Protection) -> None:
        best_effort(lambda: api.protect_worksheet(**mac_protection(own)))


def _by_sheet(cells: Iterable[tuple[str, int, int]]) -> dict[str, list[tuple[int, int]]]:
    by_sheet: dict[str, list[tuple[int, int]]] = {}
    for sheet, row, col in cells:
        by_sheet.setdefault(sheet, []).append((row, col))
    return by_sheet


def _area(address: object) -> Optional[tuple[int, int, int, int]]:
    """An address as Excel gives it (「$E$4:$E$5」, 「$E$4」) as (first row, first col, last
    row, last col); None for an answer that is none."""
    from ..core.refs import parse_ref

    if not isinstance(address, str) or not address:
        return None
    try:
        first, _, last = address.rpartition("!")[2].partition(":")
        return (*parse_ref(first), *parse_ref(last or first))
    except ValueError:
        return None


def _flat(answer: object) -> list:
    """A range's answer row by row as one list: COM gives a tuple of rows, AppleScript a list
    of rows, and a single cell its value alone."""
    if isinstance(answer, (list, tuple)):
        return [v for part in answer for v in _flat(part)]
    return [answer]


def _per_cell(answer: object, cells: int) -> Optional[list]:
    """A column block's NumberFormat answered cell by cell (a list of one-item rows, or a
    flat list, of ``cells`` formats), else None."""
    if not isinstance(answer, (list, tuple)):
        return None
    flat = [v[0] if isinstance(v, (list, tuple)) and len(v) == 1 else v for v in answer]
    return flat if len(flat) == cells else None


def _adjacent(cols: list[int]) -> list[list[int]]:
    """Sorted columns as runs of adjacent ones."""
    runs: list[list[int]] = []
    for col in sorted(cols):
        if runs and col == runs[-1][-1] + 1:
            runs[-1].append(col)
        else:
            runs.append([col])
    return runs


def _title_rows(setup) -> str:
    return f"${setup.title_rows[0]}:${setup.title_rows[1]}" if setup.title_rows else ""


def _windows_protection(api) -> Protection:
    """A protected sheet's own options (COM's Worksheet.Protection), to put them back as they were."""
    allowed = api.Protection
    return Protection(drawing_objects=api.ProtectDrawingObjects, scenarios=api.ProtectScenarios,
                      **{field: getattr(allowed, com) for field, com in _COM_ALLOWED})

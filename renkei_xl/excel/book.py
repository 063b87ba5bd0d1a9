"""The open master workbook behind a button: the interface every engine serves, and the
bulk reads they share.

The button path hands the contract reader the same thing the file path does (each sheet
as rows of values from A1, each workbook-scope name as (sheet, cell)), so both faces read
the master identically. Writes go through Excel itself, which keeps everything openpyxl
would drop (VBA, form buttons, x14 formats, images). What to write is never decided here:
renkei_xl.core.plan decides it and renkei_xl.excel.apply turns the plan into xlwings calls,
asking a LiveBook for the few writes that each engine does its own way.

Three engines sit behind an ``xw.Book``, one LiveBook class each, as xlwings itself keeps
one engine per class behind one interface; renkei_xl.excel.engines picks the class:

- ``windows`` (renkei_xl.excel.desktop.WindowsBook): Excel through COM. Everything works,
  including ``sheet.api`` calls.
- ``mac`` (renkei_xl.excel.desktop.MacBook): Excel through AppleScript (appscript).
  xlwings' own calls work; what xlwings has no call for (underline, freeze panes, print
  titles, autofilter, protection) goes through AppleScript terms that the Linux test
  bench cannot check, so a failure there is ignored rather than failing the button.
- ``remote`` (renkei_xl.excel.remote.RemoteBook): xlwings' remote engine
  (``xw.Book(json=payload)``), which the tests drive on Linux. Reads come from the
  payload; every write becomes an action for the client. It has no status bar, cannot
  read colours and cannot call into Excel (``sheet.api`` is the payload dictionary). Its
  column widths are in points, not characters. What its client replays beyond xlwings'
  own VBA client is data it is given (RemoteClient), not a branch.

These modules import no Excel library themselves (not even xlwings): they work on the Book
they are given, so a button's Python process loads only what xlwings already loads.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator, Mapping, Optional

from ..core.alerts import BUTTON_CHARS, cut
from ..core.face import AGAIN_BY_BUTTON
from ..core.contract import tool_chart_name
from ..core.contract_read import (EXCEL_DAY_ZERO, EXCEL_FIRST_DAY, LEAP_1900_END, MasterData, merged_input_cells,
                                  merged_inputs, needed_sheets, read_contract, to_whole_second)
from ..core.errors import UserError
from ..core.refs import NameMap
from ..core.unsaved import BookState
from ..core.values import ErrorValue
from ..workbook.sheet_rows import as_read

WINDOWS, MAC, REMOTE = "windows", "mac", "remote"
# The payload key by which the renkei-xl server says the client implements our actions.
RENKEI_CLIENT_KEY = "renkei_client"
# The payload key by which it names the sheets the saved master protects with a password.
PASSWORD_SHEETS_KEY = "renkei_password_sheets"
# And whether its structure is protected (no sheet can be added).
STRUCTURE_KEY = "renkei_structure_locked"
# And the saved master's file, whose cell formats say what fill a cell had before a mark
# (the payload carries no colours: excel.remote.SavedFills).
SAVED_MASTER_KEY = "renkei_saved_master"
# And what the client said of the open book (Workbook.Saved, Workbook.ReadOnly: core.unsaved),
# which decides the step staff are given when the open book cannot be written as it is.
BOOK_STATE_KEY = "renkei_book_state"
# And the number formats with a percent sign of the cells holding a number, as the client said
# them (server.percent_header: sheet -> [[format, [[top, left, bottom, right], ...]], ...]),
# absent where it did not (a master before client 7, or a list too long for a header).
PERCENTS_KEY = "renkei_percents"
# And the exact numbers of the cells whose Range.Value the client sent as VBA's Currency, as it
# said them (server.currency_header: sheet -> [[row, col, number], ...], None for a sheet not
# known), absent where it did not (a master before client 9, or a list too long for a header).
CURRENCY_KEY = "renkei_currency"
# And the names of the open book's tabs that are not worksheets (chart, dialog and Excel 4.0
# macro sheets), as the client said them (server.sheet_positions.other_tabs), absent where it
# did not (a master before client 10, or a list too long for a header): no sheet added may
# take one of them (excel.remote.RemoteBook.other_tabs).
OTHER_TABS_KEY = "renkei_other_tabs"
# Every key above: set by the server alone, from its own reading of the saved master and from
# the client's headers. A body that carries one is not a client's (xlwings sends none of
# them): the server removes them before anything reads the payload, so that a hand-made
# request cannot name the file read as the saved master, lock or unlock sheets, or claim
# actions or formats the master's VBA never said (server.app._admitted).
SERVER_KEYS = (RENKEI_CLIENT_KEY, PASSWORD_SHEETS_KEY, STRUCTURE_KEY, SAVED_MASTER_KEY, BOOK_STATE_KEY, PERCENTS_KEY,
               CURRENCY_KEY, OTHER_TABS_KEY)

ALERT_TITLE = "連携事業 評価ツール"
LINK_TIP = "クリックすると該当のセルへ移動します"

# Excel's column width unit is the width of "0" in the workbook's default font (here
# Meiryo UI 10: about 7 px at 96 dpi) plus 5 px of padding; the remote engine sets widths
# in points. An estimate, used only where the engine wants points.
DIGIT_PX, PADDING_PX, POINTS_PER_PX = 7.0, 5.0, 0.75
CM_TO_POINTS = 72 / 2.54
# The tool's chart as Excel's object model draws it, on every face that draws through Excel:
# xlwings' Charts.add (the desktop) and RenkeiServer.bas' renkeiAddChart (the server) take the
# same numbers. The style is xlwings' default for Charts.add (Excel 2013's first), named here
# so that both faces give it; the type and the series direction are xlwings' own codes of
# "column_clustered" and "rows" (xlwings._xlwindows: chart_types_s2i, plot_by_s2i).
CHART_STYLE = 227
XL_COLUMN_CLUSTERED = 51
XL_ROWS = 1


# The refusals below are a button's alone, said as one whatever runs when they are made
# (core.face.AGAIN_BY_BUTTON, not core.face.again): client_refusals' templates go into
# RenkeiServer.bas' checks, which only a click meets, and are built where no click's
# core.face.BY_BUTTON need be set (excel.remote's answer, the macros' build).


def locked_structure_message(names: Iterable[str]) -> str:
    """core.contract.locked_structure_message, as a button says it."""
    from ..core.contract import locked_structure_message as message

    return message(list(names), AGAIN_BY_BUTTON)


def locked_sheet_message(names: Iterable[str]) -> str:
    """Why a click that would write a sheet protected with a password stops: the tool never
    has the password, and Excel refuses every write on a protected sheet."""
    shown = "」「".join(names)
    return (f"シート「{shown}」はパスワードで保護されているため、ボタンからは書き込めません（このボタンは"
            "このシートに結果・印・値を書き込みます）。ブックは変更していません。「校閲」→「シート保護の解除」で保護を"
            "外すか、パスワードなしで保護し直してから、もう一度ボタンを押してください（パスワードのない保護は、"
            "ツールが書き込みの間だけ外して元どおりに戻します）")




def online_book_message() -> str:
    """Why a button that needs the master's file stops where the book is open from OneDrive
    or SharePoint and no local file stands for it."""
    return ("このブックは OneDrive / SharePoint 上で開かれています。配布・回収・書き出しは、"
            "ブックをパソコンのフォルダーに保存して開き直してから実行してください")


def shared_book_message() -> str:
    """core.contract.shared_book_message, as a button says it. RenkeiServer.bas' RenkeiUnready
    says the same words (MSG_SHARED) before it sends anything."""
    from ..core.contract import shared_book_message as message

    return message("ボタンの結果", AGAIN_BY_BUTTON)


def array_cells_message(places: Iterable[str]) -> str:
    """core.contract.array_cells_message, as a button says it."""
    from ..core.contract import array_cells_message as message

    return message(list(places), AGAIN_BY_BUTTON)


def client_refusals() -> dict[str, str]:
    """The two refusals above as templates ("{0}": the sheets) for RenkeiServer.bas, which
    sends each answer with them: the server reads protection from the saved master, so a
    sheet protected with a password, or a structure protected, after the last save is met
    by the VBA itself, before anything is written, in the same words and with no copy of
    them in the VBA."""
    refusals = {"password": locked_sheet_message(["{0}"]), "structure": locked_structure_message(["{0}"])}
    return {**refusals, **written_refusals()}


def written_refusals() -> dict[str, str]:
    """The refusals of a value into a merged area's hidden part (or its first cell written with
    its neighbours in one range, the area reaching past them), a What-If data table or an
    array formula as templates ("{0}": the cells, as RenkeiServer.bas lists them) for the
    check renkeiUnprotectSheets makes of the cells the click writes (excel.client.written_ranges):
    the server knows those from the master as last saved (WritePlan.refuse_merged and
    friends, excel.buttons._apply), so one made since the save is met by the VBA, before
    anything is written, in the words the saved master's would get."""
    from ..core.contract import data_table_message, merged_cells_message, merged_run_message

    return {"merged": merged_cells_message(["{0}"], AGAIN_BY_BUTTON),
            "merged_run": merged_run_message(["{0}"], AGAIN_BY_BUTTON),
            "data_table": data_table_message(["{0}"], AGAIN_BY_BUTTON),
            "array": array_cells_message(["{0}"])}


# The day of a date Excel hands to VBA, COM and Office.js, which count days as OLE
# Automation does: day 0 is 1899-12-30, day 1 is 1899-12-31. Excel's own serial 1 is
# 1900-01-01, and its serial 60 is the 29 February 1900 that never was (Lotus' leap year).
_ONE_DAY = dt.timedelta(days=1)
_OLE_DAY_ZERO = EXCEL_DAY_ZERO
_OLE_DAY_ONE = EXCEL_DAY_ZERO + _ONE_DAY
# OLE's day 60; Excel's serial 60 and every serial below it name the day after their OLE day.
_OLE_DAY_SIXTY = LEAP_1900_END - _ONE_DAY
_MIDNIGHT = dt.time()


def as_file_reads(value: object) -> object:
    """A cell's value as the file reader (python-calamine, then renkei_xl.workbook.sheet_rows'
    ``as_read``) reads the same saved cell: the one normalisation of every engine's reads
    (``LiveBook.grid``).

    Why: a cell whose number format is a date or a time reaches the live face as a
    ``datetime`` of OLE Automation's day count. xlwings' VBA client sends Range.Value, a
    VBA Date, which VBA-Web's ConvertToIso writes as "1899-12-30T10:30:00.000Z" for a time
    of day; COM hands pywin32 the same VT_DATE, and xlwings' Office.js client computes the
    same day from the serial (``value - 25569`` days after 1970-01-01). Before 1 March 1900
    that day is one lower than Excel's (Excel serial 17 is 1900-01-17, OLE day 17 is
    1900-01-16). python-calamine reads the saved serial instead: below 1 (negatives too) a
    ``time`` of day, a whole serial a ``date``, serials 1-59 counted from 1899-12-31 and 60
    (Excel's fictitious 29 February) as 1900-02-28. Without this, 「10:30」 typed into 実績値
    read as 「1899-12-30 10:30:00」 on the buttons and 「10:30:00」 on the command line, and
    the server's comparison of the workbook sent with the saved master (server.admission)
    never found them equal: the buttons that make files were refused for unsaved edits
    that saving could not remove.

    A date before OLE's day 0 is a negative serial, which Excel shows as ##### and has no
    date for: read as the number, as the file reader reads it
    (workbook.stored_values.check_stored_values finds it, put back where calamine gave a
    time of day) and as Excel hands it to VBA. xlwings' Office.js client computes a date from it all the same.

    Every other value is returned as it is. A duration ([h]:mm:ss, which Excel gives
    「25:30」) is a VBA Date too, and no engine's read says which format a cell has: the file
    reader reads calamine's ``timedelta`` as this date (core.contract_read.duration_as_read)."""
    if type(value) is not dt.datetime:
        return value
    if value < _OLE_DAY_ZERO:           # a negative serial: Excel has no date for it (it shows #####)
        # as sent, not to the second: the file face reads the stored number, which Office.js'
        # milliseconds give back (-9.78578 read -9.78577546296296 once rounded: qa-122)
        return (value - _OLE_DAY_ZERO) / _ONE_DAY
    value = to_whole_second(value)      # Office.js sends milliseconds; the file side rounds too
    if value < _OLE_DAY_ONE:            # OLE day 0: calamine's time of day
        return as_read(value.time())
    if value < _OLE_DAY_SIXTY:          # Excel serials 1-59: the day after OLE's
        value += _ONE_DAY
    return value.date() if value.time() == _MIDNIGHT else value


def as_excel_text(value: object, text_cell: bool = False) -> object:
    """Strings are written with a leading apostrophe, Excel's "this is text" prefix, except
    into a cell whose number format is Text (``text_cell``: LiveBook.text_cols); a date
    before 1 March 1900 as the Date Excel stores as its serial (_as_ole_day).

    Excel converts a string assigned to ``Range.Value`` as if it had been typed: "73.2%"
    becomes 0.732, "1-1" a date, "17" a number, "=..." a formula. The file face stores
    these as text, so without the prefix the button and the command line would write
    different 一覧. Excel strips the apostrophe from the value (it becomes the cell's
    PrefixCharacter), so the cell holds exactly the string. A cell formatted as 文字列 ("@",
    which staff often give an input column) converts nothing, and there the apostrophe may
    stay part of the value (「'実施」, read back so by every later click): it gets the string
    as it is, which is right whichever Excel does. This is the one place that decides it.
    An error value the plan carries (core.values.ErrorValue) goes without the prefix: Excel
    reads the code as the error, as the file face writes it.
    """
    if isinstance(value, ErrorValue):
        # the code as typed, which Excel reads as the error (core.values.TYPED_ERRORS)
        return str(value)
    if isinstance(value, str) and value and not text_cell:
        return "'" + value
    if isinstance(value, dt.date) and _day_of(value) < _MARCH_1900:
        return _as_ole_day(value)
    return value


# From this day on, a date's OLE day is its Excel serial.
_MARCH_1900, _JANUARY_1900 = LEAP_1900_END.date(), EXCEL_FIRST_DAY.date()


def _day_of(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _as_ole_day(value: dt.date) -> dt.date:
    """A date before 1 March 1900 as the Date whose OLE day is its Excel serial: every client
    hands Excel a Date (VBA-Web's ParseIso, COM's VT_DATE), which Excel stores as its OLE day,
    one lower than its own serial there (as_file_reads reads the shift the other way). Given
    as it was, 1900-01-15 (serial 15) was written as serial 16. Excel has no date before
    1900-01-01, and no plan makes one (core.contract_read.excel_serial)."""
    if _day_of(value) < _JANUARY_1900:
        raise ValueError(f"no Excel date before 1900-01-01: {value}")
    return value - _ONE_DAY


def width_to_points(width: float) -> float:
    """A column width in characters as points (what the remote engine takes)."""
    return (width * DIGIT_PX + PADDING_PX) * POINTS_PER_PX


def _rgb_to_hex(rgb) -> Optional[str]:
    if rgb is None:
        return None
    if isinstance(rgb, str):
        return rgb.lstrip("#").upper()
    return "".join(f"{int(v):02X}" for v in rgb[:3])


def best_effort(action: Callable[[], object]) -> None:
    """Run a cosmetic call that may fail without harm: the status bar, and the AppleScript
    calls of Excel on a Mac. appscript raises its own CommandError and MacOSError, classes
    that cannot even be imported on the other platforms, and none of these looks is worth
    failing a button over; this is the one place such errors are dropped."""
    try:
        action()
    except Exception:
        pass


class LiveBook(ABC):
    """One open master workbook, read once and written in bulk: what the live applier and
    the buttons may ask of any engine. The reads are shared (xlwings reads alike on every
    engine); each engine's subclass answers the writes xlwings has no common call for."""

    engine = ""            # WINDOWS / MAC / REMOTE
    is_desktop = False     # Excel itself behind the book (a path, a PDF, a modal alert)
    reads_colours = False  # whether a cell's fill can be read (the remote engine cannot)
    clicks_overlap = False  # whether a second click can start while the first still writes
    tells_saved = False     # whether unsaved() and read_only() can say (only COM can)

    def __init__(self, book):
        self.book = book
        self.sheetnames = [s.name for s in book.sheets]
        self._names: Optional[dict[str, tuple[str, str]]] = None

    # ------------------------------------------------------------------ reading

    def grid(self, sheet_name: str) -> list[list[object]]:
        """One bulk read from A1 to the used range's last cell (no ``expand()``: slow)."""
        sheet = self.book.sheets[sheet_name]
        last = sheet.used_range.last_cell
        return [[as_file_reads(v) for v in r] for r in self._values(sheet, last.row, last.column)]

    def _values(self, sheet, rows: int, cols: int) -> list[list[object]]:
        """The values of A1 to (rows, cols) as xlwings reads them, each error value as its text."""
        # err_to_str: "#REF!" as text, as the file face reads it, so validate reports it the same way
        return sheet.range((1, 1), (rows, cols)).options(ndim=2, err_to_str=True).value

    def extent(self, sheet_name: str) -> tuple[int, int]:
        """(last row, last column) of the used range as the sheet is now; (0, 0) if absent."""
        if sheet_name not in self.sheetnames:
            return 0, 0
        last = self.book.sheets[sheet_name].used_range.last_cell
        return last.row, last.column

    @property
    def names(self) -> dict[str, tuple[str, str]]:
        """Workbook-scope names that refer to one range, as (sheet, "B3"), read as the file
        face reads them (NameMap.add): a name over several cells with its span, a broken one
        with its formula (on the desktop; xlwings' VBA client sends no broken name)."""
        if self._names is None:
            out = NameMap()
            for name in self.book.names:
                key = name.name
                if "!" in key:  # sheet scope ("一覧!Print_Titles"): the workbook's is the contract's
                    sheet, _, key = key.rpartition("!")
                    quoted = len(sheet) > 1 and sheet[0] == sheet[-1] == "'"
                    out.add_scoped(key, sheet[1:-1].replace("''", "'") if quoted else sheet, name.refers_to or "")
                    continue
                out.add(key, name.refers_to or "")
            self._names = out
        return self._names

    def read(self) -> MasterData:
        return self._with_merged(self._contract())

    def year_name_refusal(self, file_name: str) -> str:
        """The one rule of a master named for another 年度 (core.contract_read.year_name_refusal)
        of this book under ``file_name`` (its own name on a PC, its file in the work folder on
        the server), judged on 設定 alone as cycle.rollover.fiscal_year_of reads a file's: a
        click is refused before it reads the rest. "" where 設定 does not read: the click's own
        read says why, in its words."""
        from ..core import contract as c
        from ..core.contract_read import Book, read_settings, year_name_refusal

        if c.SETTINGS not in self.sheetnames:
            return ""
        try:
            year = read_settings(Book({c.SETTINGS: self.grid(c.SETTINGS)}, self.names)).fiscal_year
        except UserError:
            return ""
        return year_name_refusal(file_name, year)

    def _contract(self) -> MasterData:
        sheets = {name: self.grid(name) for name in needed_sheets(self.sheetnames)}
        return read_contract(sheets, self.names)

    def _with_merged(self, data: MasterData) -> MasterData:
        """The input cells under merged areas named as the file face names them
        (contract_read.merged_inputs), as far as the engine knows the merges over those cells
        (``merges_over``: the saved master's on the server, Excel's own on the desktop; a sheet
        whose saved merges cannot be followed to where it is now names none here: a write
        there is refused before anything is written, excel.buttons._apply)."""
        merges = self.merges_over(merged_input_cells(data.entries, data.indicators))

        def merged_of(sheet_name: str):
            try:
                return merges(sheet_name)
            except UserError:
                return []
        data.findings.extend(merged_inputs(data.entries, merged_of, data.indicators))
        return data

    def fill_source(self) -> Optional[Callable[[str, str], Optional[str]]]:
        """Where a plan learns the fill a cell has before its mark (MasterState.fill_of):
        the cell itself where the engine reads colours; None where nothing can say it."""
        return self.fill_of if self.reads_colours else None

    def comment_source(self) -> Optional[Callable[[str], list[tuple[str, str]]]]:
        """Where a plan learns the notes on a sheet's cells (MasterState.comments): None
        where the engine cannot say them (the remote engine reads the saved master's)."""
        return None

    def chart_source(self) -> Optional[Callable[[str], list[tuple[str, str, str]]]]:
        """Where a plan learns the charts a rebuild deletes with a sheet (MasterState.charts):
        None where the engine deletes none (the remote engine's VBA client sees no charts)."""
        return None

    def table_source(self) -> Optional[Callable[[str], list[tuple[str, str]]]]:
        """Where a plan learns the tables (ListObjects) clear_sheet deletes with a rebuilt
        sheet (MasterState.tables): None where the engine cannot say them."""
        return None

    def cell_settings_source(self) -> Optional[Callable[[str], list[tuple[str, str]]]]:
        """Where a plan learns the validations, ignored-error flags and sparklines clear_sheet
        removes with a rebuilt sheet's cells (MasterState.cell_settings): None where the engine
        cannot say them."""
        return None

    def percent_source(self) -> Optional[Callable[[str], Mapping[tuple[int, int], str]]]:
        """Where a plan learns the cells whose number format has a percent sign
        (MasterState.percents): None where the engine cannot say them."""
        return None

    def moved_source(self) -> Optional[Callable[[str], object]]:
        """Where a plan learns which sheets' cells are not where ``fill_source`` reads them
        (MasterState.moved): None where the colours read are the open book's own."""
        return None

    def fill_of(self, sheet_name: str, ref: str) -> Optional[str]:
        """A cell's solid fill as "RRGGBB" (None: no fill), where ``reads_colours``."""
        if not self.reads_colours:
            raise NotImplementedError("this engine cannot read colours")
        return _rgb_to_hex(self.book.sheets[sheet_name].range(ref).color)

    def file_name(self) -> str:
        """Where the book is saved, as xlwings says it (Book.fullname): a URL for a book
        open from OneDrive or SharePoint (UserError where the engine cannot say it)."""
        return self.book.fullname

    def unsaved(self) -> bool:
        """Edits not yet saved to disk; only COM can tell (Workbook.Saved), elsewhere False."""
        return False

    def read_only(self) -> bool:
        """Opened read-only (a colleague had the file open), so it cannot be saved over the
        master; only COM can tell (Workbook.ReadOnly), elsewhere False."""
        return False

    def book_state(self) -> BookState:
        """What the open book says of itself (Workbook.Saved, Workbook.ReadOnly), for the rule
        on a book opened read-only (core.unsaved.read_only_click): COM asks Excel, the server
        has RenkeiServer.bas' word (server.book_state); None where neither can say (a Mac,
        LibreOffice, a master's macros older than client 5), and the click runs as before."""
        return BookState()

    def calculate(self) -> None:
        """Formulas calculated before the click reads them, where Excel's calculation is set to
        manual (staff, or the first book opened that day): a formula shows its last result
        there, which the click would evaluate, while the command line reads the master as
        Excel calculated it before saving. Only the desktops can tell; the server's client does
        it in RenkeiServer.bas (RenkeiUnready)."""

    # ------------------------------------------------------------------ writing

    def prepare(self) -> None:
        """Ready the open book for a click that writes into it (contract.BOOK_WRITERS), before
        anything is read: sheets staff grouped are ungrouped, and a legacy shared workbook is
        refused (UserError). Only COM needs and can do it; the server's client does it in
        RenkeiServer.bas (RenkeiUnready), before it sends the book."""

    def structure_locked(self) -> bool:
        """Whether the book's structure is protected, so that no sheet can be added (the
        buttons refuse before writing, excel.buttons._apply)."""
        return False

    def other_tabs(self) -> list[str]:
        """The names of the book's tabs that are not worksheets (chart, dialog and Excel 4.0
        macro sheets), which ``sheetnames`` leaves out as xlwings does and which no added
        sheet may take (WritePlan.refuse_taken), where the engine can tell; one that cannot
        tell says none, and Excel refuses the name as before."""
        return []

    def sheet(self, name: str):
        """The sheet to write, added at the end when staff have deleted it."""
        if name not in self.sheetnames:
            last = self.book.sheets[len(self.sheetnames) - 1]
            self.book.sheets.add(name, after=last)
            self.sheetnames.append(name)
        return self.book.sheets[name]

    def shown_sheet(self) -> object:
        """The sheet staff have shown, for ``show_sheet`` after Excel has shown one it added
        (WritePlan.added); None where the engine cannot say it."""
        return self.book.sheets.active

    def show_sheet(self, shown: object) -> None:
        shown.activate()

    def clear_sheet(self, sheet) -> None:
        """Everything in the cells goes: values, formats, merges, conditional formats,
        hyperlinks, the sheet's charts, and its tables.

        Tables (ListObjects): Excel's Clear All of a range holding a table's whole range
        deletes the table with its cells, and ``Cells`` holds every table of the sheet, so
        none outlives this (nor the server's VBA client's ``sheetClear``, the same
        ``Cells.Clear``). The file face drops them alike (workbook.apply), and every face
        names them as they go (MasterState.tables, core.list_notes.dropped_tables).

        ``Sheet.clear()`` is Excel's Clear All (the remote engine's ``sheetClear``); the
        merges and conditional formats are removed by their own calls as well, so that
        no engine depends on what its Clear happens to include. An engine whose Clear may
        keep hyperlinks deletes them first (``_delete_links``). Charts are found through
        the sheet's chart list; the remote engine's payload lists none, and its VBA client
        deletes the tool's chart as it draws the new one (RemoteBook.add_chart).
        What belongs to the sheet, not a cell (custom views, watches, editable ranges, the
        background picture), is taken to stay; the file face keeps it alike
        (package.sheet_settings; assumed, docs/excel-model.md check 20).
        """
        for chart in reversed(list(sheet.charts)):
            chart.delete()
        sheet.cells.unmerge()
        sheet.cells.conditional_formats.clear()
        self._delete_links(sheet)
        sheet.clear()

    def _delete_links(self, sheet) -> None:
        """Hyperlinks that the engine's Clear All may keep; most engines have no call for it."""

    def merged_areas(self, sheet_name: str) -> list[tuple[int, int, int, int]]:
        """The merged areas of a staff sheet, (first row, first col, last row, last col), as
        far as the engine can tell (none where it cannot): Excel refuses a write that covers
        part of one (1004), so a row's values are written around them (excel.apply)."""
        return []

    def data_table_areas(self, sheet_name: str) -> list[tuple[int, int, int, int]]:
        """The result ranges of a staff sheet's What-If data tables, as far as the engine can
        tell (none where it cannot): Excel refuses a value into one (1004), so the plan is
        refused before any write (WritePlan.refuse_data_tables)."""
        return []

    def merges_over(self, cells: Iterable[tuple[str, int, int]]
                    ) -> Callable[[str], list[tuple[int, int, int, int]]]:
        """The merged areas over ``cells`` (sheet, row, col): those a click writes values into
        (WritePlan.refuse_merged, before any write) and the input cells a read looks at
        (contract_read.merged_input_cells, ``_with_merged``). Here the sheet's as the engine
        knows them (``merged_areas``). An engine that asks the open book per range answers
        about ``cells`` only (DesktopBook): the core still decides what is named or refused."""
        return self.merged_areas

    def data_tables_over(self, cells: Iterable[tuple[str, int, int]]
                         ) -> Callable[[str], list[tuple[int, int, int, int]]]:
        """The data tables' result ranges WritePlan.refuse_data_tables is given, as
        ``merges_over`` gives the merges (here ``data_table_areas``)."""
        return self.data_table_areas

    def in_array(self, sheet_name: str, row: int, col: int) -> bool:
        """Whether the cell belongs to an array formula staff entered ({=...}), where the
        engine can tell: Excel refuses a value there (1004, part of an array)."""
        return False

    def array_cells(self, cells: Iterable[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
        """Which of ``cells`` (sheet, row, col) belong to an array formula (``in_array``)."""
        return [cell for cell in cells if self.in_array(*cell)]

    def text_cols(self, sheet_name: str, row: int, cols: list[int]) -> set[int]:
        """Which of a staff row's cells ``cols`` have the number format Text ("@"), where a
        string goes without the text prefix (as_excel_text), as far as the engine can tell
        (none where it cannot: the prefix, as before)."""
        return set()

    def text_value(self, text: str) -> str:
        """What goes into setValues for a string into a cell ``text_cols`` named: the string as
        it is, where the engine reads the open book's formats (the desktops); the server's
        engine knows only the saved master's (RemoteBook)."""
        return text

    def keep_text(self, rng, text: str) -> None:
        """Called after ``text`` went into a cell formatted as Text without the prefix
        (as_excel_text): Excel converts nothing there, and neither does any engine but the
        remote one's VBA client (RemoteBook), which has it written again as it is."""

    def covers_part_of_merge(self, sheet_name: str, rect: tuple[int, int, int, int]) -> bool:
        """Whether one write over ``rect`` would cover part of a merged area."""
        r1, c1, r2, c2 = rect
        return any(not (m[2] < r1 or r2 < m[0] or m[3] < c1 or c2 < m[1])          # overlaps
                   and not (r1 <= m[0] and c1 <= m[1] and m[2] <= r2 and m[3] <= c2)  # not inside
                   for m in self.merged_areas(sheet_name))

    def set_fill(self, rng, fill: Optional[str]) -> None:
        """A solid fill "RRGGBB", or none (None): xlwings' ``color = None`` everywhere but
        where the client cannot take it (the remote engine's VBA client)."""
        rng.color = None if fill is None else "#" + fill

    @abstractmethod
    def set_column_width(self, rng, width: float) -> None:
        """``width`` in characters, in the unit the engine takes."""

    @abstractmethod
    def underline(self, rng) -> None:
        """A single underline: xlwings' Font has no underline on any engine."""

    @abstractmethod
    def align(self, rng, horizontal: Optional[str], vertical: Optional[str]) -> None:
        """Horizontal and vertical alignment, as xlwings names them (None: leave as is)."""

    @abstractmethod
    def freeze(self, sheet, first: Optional[tuple[int, int]]) -> None:
        """Freeze panes so that ``first`` (row, col) is the first cell that scrolls (None:
        no frozen panes)."""

    def print_setup(self, sheet, setup) -> None:
        """The print area on every engine; the rest of the page setup where the engine
        has it (``_page_setup``). A setup without an area clears the sheet's: the file
        face's rebuild leaves none there, and a print area staff set on 集計 kept by the
        buttons alone printed part of a sheet that has other rows every run. Cleared with
        "", which Excel documents for PageSetup.PrintArea and every engine passes on
        (xlwings' own None reaches COM as a Null, which Excel does not document)."""
        area = ""
        if setup.area:
            r1, c1, r2, c2 = setup.area
            area = sheet.range((r1, c1), (r2, c2)).address
        sheet.page_setup.print_area = area
        self._page_setup(sheet, setup)

    def _page_setup(self, sheet, setup) -> None:
        """Print titles, paper, margins, footer, breaks: none by default."""

    def footer_problem(self, sheet_name: str, setup) -> str:
        """Why the plan's footer set on ``sheet_name`` by ``_page_setup`` would take the
        sheet's footer past Excel's limit with the staff's own sections (core.pages.
        footer_problem), "" when it would not or where the engine cannot tell: asked before
        anything is written, as Excel refuses the footer halfway through a click."""
        return ""

    def formats_problem(self, plan) -> str:
        """Why the cell formats ``plan`` adds would take the book past Excel's limit
        (workbook.apply.cell_formats_problem, counted on the saved master as the command line
        counts them), "" when they fit or where the engine cannot tell: asked before anything
        is written, as Excel stops a click halfway there (1004, 「セルの書式が多すぎます」)."""
        return ""

    @abstractmethod
    def autofilter(self, sheet, rect: Optional[tuple[int, int, int, int]]) -> None:
        """Filter buttons over ``rect`` (None: none)."""

    def add_chart(self, sheet, chart) -> None:
        """A clustered column chart, under the tool's name (core.contract.tool_chart_name), which
        the file face gives it too and the server's client finds it by."""
        r1, c1, r2, c2 = chart.values
        made = sheet.charts.add(width=chart.width_cm * CM_TO_POINTS, height=chart.height_cm * CM_TO_POINTS,
                                chart_type="column_clustered", anchor=sheet.range(chart.anchor),
                                source=sheet.range((r1, c1), (r2, c2)), plot_by="rows",
                                name=tool_chart_name(chart.title), style=CHART_STYLE)
        r1, c1, r2, c2 = chart.categories
        made.set_x_axis_values(sheet.range((r1, c1), (r2, c2)))
        made.title = chart.title
        made.legend.visible = chart.legend

    # ------------------------------------------------------------- talking to staff

    def alert(self, text: str, *, critical: bool = False, buttons: str = "ok") -> Optional[str]:
        """A message box; returns the button pressed where the engine can wait for it. The
        buttons fit what they say to the message box (core.alerts); a text that was not
        fitted is cut here, its start and end kept, rather than by the client's MsgBox."""
        return self.book.app.alert(cut(text, BUTTON_CHARS), title=ALERT_TITLE, buttons=buttons,
                                   mode="critical" if critical else "info")

    def status(self, text: Optional[str]) -> None:
        """Excel's status bar (None gives it back to Excel), where the engine has one."""

    # ----------------------------------------------------------- protection, speed

    @abstractmethod
    def writable(self, sheet_names: Iterable[str], protect: Iterable[str] = (),
                 written: Iterable[tuple[str, int, int]] = ()):
        """A context that lifts sheet protection (no password) while writing and restores
        it afterwards. The master's tool sheets are protected so that staff do not type
        into them. ``protect``: sheets protected afterwards even if they were not before
        (a tool sheet that was missing and has just been added), with the options the
        master is built with (formatting rows and columns and filtering allowed). A sheet
        protected with a password is not lifted: UserError(locked_sheet_message), before
        anything is written. ``written``: the staff cells (sheet, row, col) the plan writes
        values into, for an engine that knows merges, arrays and data tables only as last
        saved (RemoteBook: its client checks them in the open book before any write)."""

    def password_sheets(self, sheet_names: Iterable[str]) -> list[str]:
        """Which of ``sheet_names`` are protected with a password (the button cannot lift
        them), where the engine can tell without writing; an engine that cannot tell says
        none, and ``writable`` refuses such a sheet as before."""
        return []

    @contextmanager
    def quiet(self) -> Iterator[None]:
        """No screen repaint between the writes, where the engine repaints at all."""
        yield


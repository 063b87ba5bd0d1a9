"""xlwings' remote engine behind the book (``xw.Book(json=payload)``): the server's face.

Every write becomes an action that the client replays in Excel; nothing here reaches
Excel. The client is xlwings' own VBA client (Remote.bas) in the clicking master: it replays
with ``Application.Run`` and so has only the Subs its master carries. The renkei-xl server
answers no other client (server.app._client_refusal: an Office.js add-in, or a master without
our action module RenkeiServer.bas, would stop at our actions halfway), and marks the payloads
of masters that carry it; what else the client said is data this class is given
(RemoteClient), read from the payload once by renkei_xl.excel.engines. What is left out of an
answer because the clicking master cannot replay it is decided after the run, in one place
(renkei_xl.excel.client).
"""

from __future__ import annotations

import datetime as dt
import re
from contextlib import contextmanager
from typing import Iterable, Iterator, Mapping, NamedTuple, Optional

from ..core import contract as c
from ..core.refs import cell_ref, column_letter, parse_ref
from ..core.errors import UserError
from ..core.unsaved import BookState
from .book import (BOOK_STATE_KEY, CHART_STYLE, CM_TO_POINTS, CURRENCY_KEY, OTHER_TABS_KEY, PASSWORD_SHEETS_KEY,
                   PERCENTS_KEY, RENKEI_CLIENT_KEY, XL_COLUMN_CLUSTERED, XL_ROWS, REMOTE, SAVED_MASTER_KEY, STRUCTURE_KEY, LiveBook, as_file_reads, client_refusals, locked_sheet_message,
                   width_to_points)

# xlwings' alignment names as its remote actions spell them (Office.js' enum values).
_H_ALIGN_JS = {"general": "General", "left": "Left", "center": "Center", "right": "Right",
               "fill": "Fill", "justify": "Justify", "center_across_selection": "CenterAcrossSelection",
               "distributed": "Distributed"}
_V_ALIGN_JS = {"top": "Top", "center": "Center", "bottom": "Bottom", "justify": "Justify",
               "distributed": "Distributed"}


class RemoteClient(NamedTuple):
    """What the client that replays the answer can do beyond xlwings' own VBA client.
    (A NamedTuple: a button on a desktop imports this module, and dataclasses would be
    the one import its start-up adds.)"""

    # setHorizontalAlignment / setVerticalAlignment: a VBA client carrying RenkeiServer.bas has
    # them (the server marks it); xlwings refuses alignment for its own VBA client. The server
    # answers no client without the mark: the unmarked one is the tests' model of Remote.bas alone.
    aligns: bool = False
    # Sheets the saved master protects with a password (the server reads them before the
    # click, renkei_xl.server.admission): the client cannot lift them.
    locked: frozenset = frozenset()
    structure: bool = False       # and its structure is protected
    # The saved master's path (the server's admission found it): its cell formats.
    saved: Optional[str] = None
    # What the client said of the open book (Workbook.Saved, Workbook.ReadOnly; None: not
    # said), for the step of a refusal (core.unsaved.steps).
    book_state: tuple = (None, None)
    # The number formats with a percent sign of the cells holding a number, as the client said
    # them (X-Renkei-Percents, server.percent_header: sheet -> [(format, blocks)]); None where
    # it did not: the saved master's formats then stand in (RemoteBook._saved_percents).
    percents: Optional[Mapping] = None
    # The exact numbers of the cells sent as VBA's Currency, as the client said them
    # (X-Renkei-Currency, server.currency_header: sheet -> [[row, col, number], ...], None for a
    # sheet not known); None where it did not: the saved master's numbers then stand in
    # (RemoteBook._saved_numbers).
    currency: Optional[Mapping] = None
    # The names of the open book's tabs that are not worksheets, as the client said them
    # (X-Renkei-Tabs, server.sheet_positions.other_tabs); None where it did not: the saved
    # master's then stand in (RemoteBook.other_tabs).
    other_tabs: Optional[tuple] = None

    @classmethod
    def of(cls, payload: Mapping) -> "RemoteClient":
        state = payload.get(BOOK_STATE_KEY)
        known = isinstance(state, list) and len(state) == 2 and all(v in (True, False, None) for v in state)
        return cls(aligns=bool(payload.get(RENKEI_CLIENT_KEY)),
                   locked=frozenset(payload.get(PASSWORD_SHEETS_KEY) or ()),
                   structure=bool(payload.get(STRUCTURE_KEY)), saved=payload.get(SAVED_MASTER_KEY) or None,
                   book_state=tuple(state) if known else (None, None),
                   percents=payload.get(PERCENTS_KEY) if isinstance(payload.get(PERCENTS_KEY), dict) else None,
                   currency=payload.get(CURRENCY_KEY) if isinstance(payload.get(CURRENCY_KEY), dict) else None,
                   other_tabs=tuple(map(str, tabs)) if isinstance(tabs := payload.get(OTHER_TABS_KEY), list) else None)


class SavedFills:
    """The fill each cell has in the saved master, read from its styles as the file face
    reads them (workbook.state.StyleReader), the file read once, lazily (only marked cells
    ask). The remote engine's payload carries no colours and xlwings' VBA client sends
    none, so a mark's 元の塗り comes from here: the cell's fill as last saved, the one the
    command line records too. A cell the file cannot say (a sheet added since the save, a
    damaged part) answers UNKNOWN, which the plan does not take as a fill.

    The payload says nothing of merges or array formulas either, which Excel refuses a
    write into part of, nor of number formats (a cell formatted as Text takes a string
    without the text prefix): those of the saved master's sheets come from here too."""

    UNKNOWN = "?"

    def __init__(self, path: str):
        self.path = path
        self._reader = None
        self._texts: dict[str, str] = {}
        self._currency_xfs: Optional[frozenset] = None
        self._currency: dict[str, dict[tuple[int, int], float]] = {}
        self._percent_xfs: Optional[dict] = None
        self._percents: dict[str, dict[tuple[int, int], tuple[str, float]]] = {}

    def _styles(self):
        from pathlib import Path

        from ..package.workbook import WorkbookXml
        from ..package.zipped import Package
        from ..safety import read_confined
        from ..workbook.state import StyleReader

        if self._reader is None:
            path = Path(self.path)
            # bytes: no file held open after the click; read as opened, inside its folder
            pkg = Package(path, read_confined(path))
            self._reader = StyleReader(pkg, WorkbookXml(pkg))
        return self._reader

    def other_tabs(self) -> list[str]:
        """The saved master's tabs that are not worksheets (no grid part: chart, dialog and
        Excel 4.0 macro sheets); none where the file cannot be read (admission read it)."""
        from ..package.xml import PackageError

        try:
            return self._styles().workbook.other_tabs
        except (UserError, PackageError, OSError):
            return []

    def __call__(self, sheet: str, ref: str) -> Optional[str]:
        from ..package.xml import PackageError

        try:
            return self._styles().fill_of(sheet, ref)
        except (UserError, PackageError, OSError, ValueError, KeyError):
            return self.UNKNOWN

    def is_text(self, sheet: str, row: int, col: int) -> bool:
        """Whether the cell's number format is Text ("@") as last saved (its own, its row's or
        its column's); False where the file cannot say (a sheet added since the save)."""
        from ..core.values import is_text_format
        from ..package.xml import PackageError

        try:
            return is_text_format(self._styles().number_format_at(sheet, row, col))
        except (UserError, PackageError, OSError, ValueError, KeyError):
            return False

    def has_currency(self) -> bool:
        """Whether the saved master's styles.xml has a Currency or Accounting cell format."""
        from ..package.xml import PackageError

        if self._currency_xfs is None:
            try:
                self._currency_xfs = self._styles().styles.currency_xfs()
            except (UserError, PackageError, OSError, ValueError, KeyError):
                self._currency_xfs = frozenset()
        return bool(self._currency_xfs)

    def currency_numbers(self, sheet: str) -> dict[tuple[int, int], float]:
        """The numbers of the sheet's Currency- or Accounting-formatted cells as last saved
        that Currency rounds (core.currency: what the VBA client sent of them has four
        decimal places), by (row, col). Nothing is read of a sheet's cells where styles.xml
        has no such format at all, and none is known where the file cannot say (a sheet
        added since)."""
        from ..package.xml import PackageError

        if sheet not in self._currency:
            try:
                from ..core.currency import currency_rounds

                found = {}
                if self.has_currency():
                    from ..package.cells import numbers_styled
                    from ..package.xml import prefix_of

                    text = self._sheet_text(sheet)     # decoded once a sheet, with its merges
                    found = numbers_styled(text, prefix_of(text), sheet, self._currency_xfs) if text else {}
                self._currency[sheet] = {cell: n for cell, n in found.items() if currency_rounds(n)}
            except (UserError, PackageError, OSError, ValueError, KeyError):
                self._currency[sheet] = {}
        return self._currency[sheet]

    def percent_numbers(self, sheet: str) -> dict[tuple[int, int], tuple[str, float]]:
        """(row, col) → (number format, number) of the sheet's numbers as last saved in a cell
        format whose number format is not plain (workbook.sheet_checks.shown_styles: a percent
        sign, words, a scale, a date), and of its empty cells in one, their number None: the
        payload carries values only, and a number is read as the percent its format shows or
        refused as shown otherwise (core.percent_cells), and written into one with the format
        標準 where it would be read so (core.percent_cells.written_format). Nothing is read of a
        sheet's cells where styles.xml has no such format, and none is known where the file cannot say (a sheet added since)."""
        from ..package.xml import PackageError

        if sheet not in self._percents:
            try:
                if self._percent_xfs is None:
                    from ..workbook.sheet_checks import shown_styles

                    reader = self._styles()
                    self._percent_xfs = shown_styles(reader.pkg, reader.workbook)
                found = {}
                if self._percent_xfs:
                    from ..package.cells import numbers_formatted
                    from ..package.xml import prefix_of

                    text = self._sheet_text(sheet)
                    found = numbers_formatted(text, prefix_of(text), sheet, self._percent_xfs) if text else {}
                self._percents[sheet] = found
            except (UserError, PackageError, OSError, ValueError, KeyError):
                self._percent_xfs = self._percent_xfs or {}
                self._percents[sheet] = {}
        return self._percents[sheet]

    def merged_areas(self, sheet: str) -> list[tuple[int, int, int, int]]:
        """The sheet's merged areas as last saved, (first row, first col, last row, last
        col); none where the file cannot say (a sheet added since the save)."""
        from ..package.cells import merged_areas

        return merged_areas(self._sheet_text(sheet))

    def data_table_areas(self, sheet: str) -> list[tuple[int, int, int, int]]:
        """The result ranges of the sheet's What-If data tables as last saved."""
        from ..package.cells import data_table_areas

        return data_table_areas(self._sheet_text(sheet))

    def array_areas(self, sheet: str) -> list[tuple[int, int, int, int]]:
        """The ranges of the sheet's array formulas as last saved (Excel's {=...})."""
        from ..package.cells import array_areas

        return array_areas(self._sheet_text(sheet))

    def data(self):
        """The saved master's contract data, as the one reader reads the file (None where it
        cannot be read: then no sheet's cells can be followed, core.saved_places); read once
        (the places and the percent cells' values both ask)."""
        from pathlib import Path

        from ..workbook.session import load_master

        if not hasattr(self, "_data"):
            try:
                self._data = load_master(Path(self.path), as_named=False)    # looks, not a command
            except (UserError, OSError):
                self._data = None
        return self._data

    def comments(self, sheet: str) -> list[tuple[str, str]]:
        """The notes on the sheet's cells as last saved (the payload carries none): notes
        staff put since the save are not known."""
        from ..package.comments import sheet_comments
        from ..package.xml import PackageError

        try:
            reader = self._styles()
            return sheet_comments(reader.pkg, reader.workbook, sheet)
        except (UserError, PackageError, OSError, ValueError, KeyError):
            return []

    def charts(self, sheet: str) -> list[tuple[str, str, str]]:
        """The charts on the sheet as last saved, (name, title, cell) each (package.drawing):
        the names of the tool's own that an older version drew under Excel's name
        (RemoteBook.add_chart); charts made since the save are not known."""
        from ..package.drawing import sheet_charts
        from ..package.xml import PackageError

        try:
            reader = self._styles()
            return sheet_charts(reader.pkg, reader.workbook, sheet)
        except (UserError, PackageError, OSError, ValueError, KeyError):
            return []

    def cell_settings(self, sheet: str) -> list[tuple[str, str]]:
        """The validations, ignored-error flags and sparklines on the sheet's cells as last
        saved (package.cell_settings): ones set since the save are not known."""
        from ..package.cell_settings import sheet_cell_settings
        from ..package.xml import PackageError

        try:
            reader = self._styles()
            return sheet_cell_settings(reader.pkg, reader.workbook, sheet)
        except (UserError, PackageError, OSError, ValueError, KeyError):
            return []

    def formats_problem(self, plan) -> str:
        """workbook.apply.cell_formats_problem of ``plan`` on the saved master, with the formats
        Excel makes on the way to the plan's looks (excel.apply.formats_on_the_way), "" where
        the file cannot say (a sheet added since the save, a damaged part)."""
        from ..package.xml import PackageError
        from ..workbook.apply import cell_formats_problem
        from .apply import formats_on_the_way

        try:
            return cell_formats_problem(self._styles(), plan, formats_on_the_way) or ""
        except (UserError, PackageError, OSError, ValueError, KeyError):
            return ""

    def header_footer(self, sheet: str) -> Optional[str]:
        """The sheet's <headerFooter> as last saved (package.sheet_settings), None where it
        has none or the file cannot say: the left and right footers staff set, which the
        buttons' CenterFooter keeps beside the plan's."""
        from ..package.sheet_settings import kept_settings
        from ..package.xml import PackageError

        try:
            reader = self._styles()
            entry = reader.workbook.sheet(sheet)
            kept = kept_settings(reader.pkg, entry.part) if entry is not None and entry.part else None
        except (UserError, PackageError, OSError, ValueError, KeyError):
            return None
        element = kept.elements.get("headerFooter") if kept is not None else None
        return element.decode("utf-8") if element is not None else None

    def _sheet_text(self, sheet: str) -> str:
        from ..package.xml import PackageError

        if sheet not in self._texts:
            try:
                entry = self._styles().workbook.sheet(sheet)
                self._texts[sheet] = self._styles().pkg.text(entry.part) if entry is not None and entry.part else ""
            except (UserError, PackageError, OSError, ValueError, KeyError):
                self._texts[sheet] = ""
        return self._texts[sheet]


# A date as both of xlwings' clients write it into the payload: VBA-Web's ConvertToIso
# (Format$ "yyyy-mm-ddTHH:mm:ss.000Z") and Office.js' Date.toISOString() (milliseconds, Z).
_CLIENT_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z")


def client_value(value: object) -> object:
    """A cell of the payload as the engine reads it: "" is an empty cell, a date the client
    wrote is a ``datetime``, anything else is what was sent (error values as their text).

    Why not xlwings' own conversion (``Range.value``): it takes every text its pattern
    calls a date for one and cuts its last character as if it were the client's "Z", so a
    text typed into a cell, 「2023-04-01T10:30:00」 (a date pasted from another system),
    raised ValueError and the click failed with no word on the cell; 「0000-01-01T00:00:00Z」
    or 「10000-01-01T00:00:00Z」 too. Only what a client writes for a date is read as one;
    a text is a text, as the file reader reads it."""
    if type(value) is not str:
        return value
    if value == "":
        return None
    m = _CLIENT_DATE.fullmatch(value) if len(value) == 24 else None
    if m is None:
        return value
    try:
        return dt.datetime(*map(int, m.groups()[:6]), int(m.group(7)) * 1000)
    except ValueError:     # 「2023-02-30T…」 or year 0: no client writes it, so a typed text
        return value


class RemoteBook(LiveBook):
    """The payload as a workbook: reads from it, writes as actions for ``client``."""

    engine = REMOTE

    def __init__(self, book, client: RemoteClient):
        super().__init__(book)
        self.client = client
        self._saved_fills = SavedFills(client.saved) if client.saved else None
        self._sent = None         # the contract data read from the payload (read once)
        self._moved = None        # core.saved_places.moved_sheets, when first asked
        self._areas: dict[tuple[str, str], list] = {}   # (sheet, merges/arrays) → placed areas
        self._as_sent: Optional[dict] = None   # during the first read: the grids as sent, by sheet
        self._restored = 0        # cells read from the saved master (``_saved_numbers``)
        self._saved_texts: Optional[dict] = None   # ``_unsure``: the saved master's inputs, as read
        self._percent_cells: dict = {}   # ``_saved_percents`` as the first read found them

    def book_state(self) -> BookState:
        return BookState(*self.client.book_state)

    def knows_saved(self, path: str) -> None:
        """The saved master, found after the book was opened (server.admission finds it from
        the workbook sent, then compares the two): read as the click reads it, a number the
        VBA client rounded through Currency taken as saved (``_saved_numbers``). Without it
        12 against a saved 12.00005 was an unsaved edit that no save could remove."""
        self.client = self.client._replace(saved=path)
        self._saved_fills = SavedFills(path)
        self._sent = self._moved = self._saved_texts = None
        self._areas, self._percent_cells = {}, {}

    def read(self):
        """Read once: the payload does not change during a click, and the places of the saved
        master's cells are found from this read (``_saved_cell``): from the cells as sent,
        as 指標ID and headers locate them (no Currency rounds a text), then read again where
        a Currency-formatted number is taken from the saved master (``_saved_numbers``):
        only where the saved master holds one that Currency rounds, so a book without one
        is read once, as before."""
        if self._sent is None:
            self._as_sent = {}
            try:
                self._sent = self._contract()        # set first: merged_areas follows moved rows by it
                sent_grids, self._as_sent = self._as_sent, None
            finally:
                self._as_sent = None
            sheets, again = sent_grids, False
            if self._restores_currency() or self._said_currency() is not None:
                before = self._restored
                sheets = {name: self._saved_numbers(name, grid) for name, grid in sent_grids.items()}
                again = self._restored != before
            said = self._said_percents(sheets)
            formats = self._percent_cells = self._saved_percents(sheets, said)
            if again or formats:
                from ..core.contract_read import read_contract
                from ..core.percent_cells import PercentFormats

                self._sent = read_contract(sheets, self.names, formats=PercentFormats(lambda sheet: formats.get(sheet, {})))
            unknown = None if said is None else {name for name, found in said.items() if found is None}
            if (said is None or unknown) and self._saved_fills is not None and self.client.book_state[0] is not True:
                from ..core.percent_cells import unknown_format_findings

                unsure = self._unsure if said is None else (
                    lambda sheet, ref, typed: sheet in unknown and self._unsure(sheet, ref, typed))
                self._sent.findings.extend(unknown_format_findings(self._sent, unsure))
            self._with_merged(self._sent)
        return self._sent

    def _said_percents(self, sheets: Mapping[str, list]) -> Optional[dict[str, Optional[dict[tuple[int, int], str]]]]:
        """sheet → (row, col) → number format of the cells sent holding a number that the client
        said have a format with a percent sign (X-Renkei-Percents: RemoteClient.percents), or
        None where it did not say; a sheet the client said it could not read (past its bounds
        of cells read one by one, or an error there: percent_header.UNKNOWN) → None, read as
        before for itself alone (``_saved_percents``, ``read``'s unknown_format_findings). Only
        the cells named that hold a number in the payload are taken (a cell named that holds a
        text or nothing changes nothing), and only on the
        sheets a percent is read on (core.percent_cells.read_on). A list naming more cells
        than the sheets sent could hold twice over was not written by RenkeiPercents (whose
        blocks do not overlap): None, read as without it, after work bounded by the payload."""
        from ..core.percent_cells import read_on

        said = self.client.percents
        if said is None:
            return None
        grids = {name: grid for name, grid in sheets.items() if read_on(name)}
        budget = 2 * sum(len(row) for grid in grids.values() for row in grid) + 10_000
        out: dict[str, Optional[dict[tuple[int, int], str]]] = {}
        for name, grid in grids.items():
            if name in said and said[name] is None:
                out[name] = None
                continue
            found: dict[tuple[int, int], str] = {}
            for number_format, blocks in said.get(name, ()):
                for top, left, bottom, right in blocks:
                    for row in range(top, min(bottom, len(grid)) + 1):
                        cells = grid[row - 1]
                        last = min(right, len(cells))
                        budget -= 1 + max(0, last - left + 1)
                        if budget < 0:
                            return None
                        for col in range(left, last + 1):
                            if type(cells[col - 1]) in (int, float):
                                found[(row, col)] = number_format
            if found:
                out[name] = found
        return out

    def _saved_percents(self, sheets: Mapping[str, list],
                        said: Optional[dict] = None) -> dict[str, dict[tuple[int, int], str]]:
        """sheet → (row, col) → number format of the cells sent whose format the saved master
        says is not plain (SavedFills.percent_numbers), each followed to where the
        workbook sent has it: the payload carries values only. The saved format is the
        cell's where the cell holds the number saved (as the client sends it, ``_same_number``);
        a number typed since into an unsaved book may have another (``_unsure``). So may a
        number of a book that says it is saved (X-Renkei-Book) and holds another: the master
        was saved again since it was opened (core.unsaved), and a 1.5 this copy shows in 標準
        (1.5 %) was read 150 % by the 0% of the colleague's cell, without a word.

        Where the client said the formats of the cells holding a number (``said``,
        ``_said_percents``), they are the ones taken, unsaved edits included; the saved master
        still gives those of the cells sent empty, where collect may write a number
        (``percent_source``). A sheet the client said it could not read is read as without it."""
        from ..core.percent_cells import read_on

        out: dict[str, dict[tuple[int, int], str]] = {name: dict(found) for name, found in (said or {}).items()
                                                      if found is not None}
        if self._saved_fills is None:
            return out
        for name, grid in sheets.items():
            if not read_on(name):
                continue
            numbers = self._saved_fills.percent_numbers(name)
            if not numbers:
                continue
            moved = self._moved_sheet(name)
            found = {}
            for (row, col), (code, number) in numbers.items():
                placed = (row, col) if moved is None else moved.sent_cell(row, col)
                if placed is None:
                    continue
                sent = (grid[placed[0] - 1][placed[1] - 1]
                        if placed[0] <= len(grid) and placed[1] <= len(grid[placed[0] - 1]) else None)
                if said is not None and not (name in said and said[name] is None):
                    # its format said of numbers with a percent sign only: the saved master
                    # gives the others' where the number is the one saved (a number shown
                    # with words or hidden: core.displayed.shown_otherwise)
                    if sent is None or "%" not in code and _same_number(sent, number):
                        found[placed] = code
                elif _same_number(sent, number):     # an empty cell sent empty (None): as saved
                    found[placed] = code
            if found:
                out[name] = {**found, **out.get(name, {})}
        return out

    def _unsure(self, sheet_name: str, ref: str, typed: str) -> bool:
        """Whether the format of the cell sent at ``ref``, read as ``typed``, is not known: it
        is not where the saved master has a cell, or the saved master reads another value
        there (typed since the save: a percent typed gives the cell its format, which the
        payload does not carry). core.percent_cells.unknown_format_findings asks this."""
        try:
            placed = self._saved_cell(sheet_name, *parse_ref(ref))
        except ValueError:
            placed = None
        if placed is None:
            return True
        if self._saved_texts is None:
            saved = self._saved_fills.data()
            self._saved_texts = {} if saved is None else {
                **{(i.sheet, i.cells.get("actual_manual")): i.actual_manual for i in saved.indicators},
                **{(i.sheet, i.cells.get("target")): i.target for i in saved.indicators},
                **{(e.sheet or e.municipality, e.cells.get("value")): e.value for e in saved.entries}}
        return self._saved_texts.get((sheet_name, cell_ref(*placed))) != typed

    def _restores_currency(self) -> bool:
        """xlwings' VBA client sends Range.Value, a Currency cell's number cut to four decimal
        places; only a saved master that has a Currency format can say more."""
        return self._saved_fills is not None and self._saved_fills.has_currency()

    def _said_currency(self) -> Optional[Mapping]:
        """The exact numbers the VBA client said of its Currency cells (X-Renkei-Currency,
        client 9 on), or None where it said nothing: then the saved master stands in."""
        return self.client.currency

    def _saved_numbers(self, sheet_name: str, values: list[list[object]]) -> list[list[object]]:
        """The numbers the VBA client rounded through VBA's Currency as the open book holds
        them: where the client said them (X-Renkei-Currency), its exact numbers, at the cells
        sent, unsaved edits included; on a sheet it did not say (a master before client 9, a
        list too long for its header, a sheet past its bound), the saved master's, each cell
        followed to where the saved master has it. Either is taken only where it rounds to
        the number sent (core.currency.saved_number): the file face reads the stored number,
        and so the same cell said 「件数・人数なのに小数です」 on the command line and nothing
        on the button. A sheet the client said holds no such cell has none to take from the
        saved master either (staff changed it since the save). A row changed is a new list
        (the rows given may be held by an earlier read)."""
        said = self._said_currency()
        if said is not None and (sheet_name not in said or said[sheet_name] is not None):
            numbers = {(row, col): number for row, col, number in said.get(sheet_name) or ()}
            moved = None
        elif self._restores_currency():
            numbers = self._saved_fills.currency_numbers(sheet_name)
            moved = self._moved_sheet(sheet_name) if numbers else None
        else:
            return values
        if not numbers:
            return values
        from ..core.currency import saved_number

        changed = set()
        for (row, col), saved in numbers.items():
            placed = (row, col) if moved is None else moved.sent_cell(row, col)
            if placed is None or placed[0] > len(values) or placed[1] > len(values[placed[0] - 1]):
                continue
            sent = values[placed[0] - 1][placed[1] - 1]
            taken = saved_number(sent, saved)
            if taken is not sent:
                if placed[0] not in changed:
                    values = values if changed else list(values)
                    values[placed[0] - 1] = list(values[placed[0] - 1])
                    changed.add(placed[0])
                values[placed[0] - 1][placed[1] - 1] = taken
                self._restored += 1
        return values

    def _saved_cell(self, sheet_name: str, row: int, col: int) -> Optional[tuple[int, int]]:
        """Where the sent cell is in the saved master (None: not known). Staff may have moved
        rows or columns since the save (core.saved_places): the saved address of a tool sheet
        is taken as it is, as the tool rebuilds those whole and protects them."""
        moved = self._moved_sheet(sheet_name)
        return (row, col) if moved is None else moved.saved_cell(row, col)

    def _moved_sheet(self, sheet_name: str):
        if self._saved_fills is None or c.is_tool_owned(sheet_name):
            return None
        if self._moved is None:
            from ..core.saved_places import moved_sheets

            sent = self.read()       # which may have found them (``_saved_numbers`` asks during the read)
            if self._moved is None:
                self._moved = moved_sheets(self._saved_fills.data(), sent)
        return self._moved.get(sheet_name)

    def _placed(self, sheet_name: str, kind: str) -> list[tuple[int, int, int, int]]:
        """The saved master's merges or arrays (``kind``) of a sheet where they are in the
        workbook sent, worked out once a sheet; UserError where one cannot be followed
        (array_cells refuses it before any write)."""
        key = (sheet_name, kind)
        if key not in self._areas:
            areas = getattr(self._saved_fills, kind)(sheet_name)
            moved = self._moved_sheet(sheet_name) if areas else None
            placed = areas if moved is None else [moved.sent_area(a) for a in areas]
            if None in placed:
                from ..core.saved_places import moved_message
                from ..core.unsaved import steps

                raise UserError(moved_message(sheet_name, steps(self.book_state())[0]))
            self._areas[key] = placed
        return self._areas[key]

    def grid(self, sheet_name: str) -> list[list[object]]:
        """The sheet's values as the client sent them (from A1 to the used range's last
        cell), each cell as ``client_value`` reads it and then as every engine's reads are
        normalised (``as_file_reads``).

        Read from the payload itself, not through a Range: xlwings' remote Range slices the
        sheet in ``get_range_api``, an unbounded lru_cache keyed by the whole sheet's values,
        so a sheet equal (==) to one read before, by any click the worker served, gave that
        one's cells: 0 where the earlier sheet had FALSE read 「FALSE」, 1 read 「TRUE」; and
        every sheet read stayed in the cache for the life of the worker.

        A number the VBA client rounded through VBA's Currency is read as the saved master
        holds it (``_saved_numbers``)."""
        values = self.book.sheets[sheet_name].api["values"]
        width = max(map(len, values), default=0)
        grid = [[as_file_reads(client_value(v)) for v in row] + [None] * (width - len(row)) for row in values]
        if self._as_sent is not None:        # the first read: the places are found from these
            self._as_sent[sheet_name] = grid
            return grid
        return self._saved_numbers(sheet_name, grid)

    def fill_source(self):
        """The saved master's fills (SavedFills) of the cells sent, followed to where the
        saved master has them (``_saved_cell``): the open book's colours cannot be read,
        so ``reads_colours`` stays False (a lifted mark is given back unconditionally)."""
        return self._saved_fill if self._saved_fills is not None else None

    def _saved_fill(self, sheet_name: str, ref: str) -> Optional[str]:
        try:
            placed = self._saved_cell(sheet_name, *parse_ref(ref))
        except ValueError:
            placed = None
        return SavedFills.UNKNOWN if placed is None else self._saved_fills(sheet_name, cell_ref(*placed))

    def percent_source(self):
        """The cells sent whose saved format is not plain, as the read found them
        (``_saved_percents``): collect's plan gives a number it writes there the format 標準."""
        self.read()
        cells = self._percent_cells
        return lambda sheet_name: cells.get(sheet_name, {})

    def moved_source(self):
        """The sheets whose rows or columns staff moved since the save (``_moved_sheet``):
        the fills read are the saved master's, so a mark's place is decided with them."""
        return self._moved_sheet if self._saved_fills is not None else None

    def comment_source(self):
        """The saved master's notes (SavedFills.comments): the payload carries none."""
        return self._saved_fills.comments if self._saved_fills is not None else None

    def cell_settings_source(self):
        """The saved master's validations, ignored-error flags and sparklines
        (SavedFills.cell_settings): the payload carries none, and ``sheetClear`` (Cells.Clear)
        removes them with a rebuilt sheet's cells."""
        return self._saved_fills.cell_settings if self._saved_fills is not None else None

    def table_source(self):
        """The tables the client lists in the payload (Remote.bas sends each sheet's
        ListObjects: name, range_address), the open book's own: its ``sheetClear`` (Cells.Clear)
        deletes them with a rebuilt sheet's cells."""
        return self._payload_tables

    def _payload_tables(self, sheet_name: str) -> list[tuple[str, str]]:
        if sheet_name not in self.sheetnames:
            return []
        try:
            listed = self.book.sheets[sheet_name].api.get("tables") or []
        except (KeyError, AttributeError):
            return []
        return [(str(t.get("name") or ""), str(t.get("range_address") or "").replace("$", ""))
                for t in listed if isinstance(t, dict)]

    def set_column_width(self, rng, width: float) -> None:
        rng.column_width = width_to_points(width)   # the remote engine takes points

    def merged_areas(self, sheet_name: str) -> list[tuple[int, int, int, int]]:
        """From the saved master (the payload says nothing of merges): merges staff made
        since the save are not known."""
        if self._saved_fills is None:
            return []
        return self._placed(sheet_name, "merged_areas")

    def data_table_areas(self, sheet_name: str) -> list[tuple[int, int, int, int]]:
        """From the saved master, as the merges (a data table made since the save is not known)."""
        if self._saved_fills is None:
            return []
        return self._placed(sheet_name, "data_table_areas")

    def in_array(self, sheet_name: str, row: int, col: int) -> bool:
        """From the saved master, as the merges (an array entered since the save is not known)."""
        if self._saved_fills is None:
            return False
        return any(r1 <= row <= r2 and c1 <= col <= c2
                   for r1, c1, r2, c2 in self._placed(sheet_name, "array_areas"))

    def array_cells(self, cells: Iterable[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
        """Asked before anything is written (excel.buttons._apply): a sheet the cells are
        written into whose saved merges or arrays cannot be followed to where they are now
        is refused here, with the step for the open book, rather than meet Excel's 1004
        halfway through the replay."""
        cells = list(cells)
        if self._saved_fills is not None:
            for sheet_name in dict.fromkeys(sheet for sheet, _, _ in cells):
                self.merged_areas(sheet_name)
        return super().array_cells(cells)

    def text_cols(self, sheet_name: str, row: int, cols: list[int]) -> set[int]:
        """From the saved master, as the merges (a format staff set since the save is not
        known), each cell followed to where the saved master has it (``_saved_cell``)."""
        if self._saved_fills is None:
            return set()
        out = set()
        for col in cols:
            placed = self._saved_cell(sheet_name, row, col)
            if placed is not None and self._saved_fills.is_text(sheet_name, *placed):
                out.add(col)
        return out

    def set_fill(self, rng, fill: Optional[str]) -> None:
        """No fill is RenkeiServer.bas' action: Remote.bas' setRangeColor cannot take "no fill"
        (null); a master whose VBA lacks it has its fills left out as one look
        (renkei_xl.excel.client)."""
        if fill is None:
            from .client import CLEAR_FILL   # not at the top: the desktop buttons never need it

            rng.impl.append_json_action(func=CLEAR_FILL, args=[])
        else:
            super().set_fill(rng, fill)

    def text_value(self, text: str) -> str:
        """A string for a cell the saved master has as Text goes with the text prefix where
        Excel could read it as typed (client.read_as_typed): the cell may have been set back to
        標準 since the save, and keep_text writes it again by the open book's format."""
        from .client import read_as_typed   # not at the top: the desktop buttons never need it

        return "'" + text if read_as_typed(text) else text

    def keep_text(self, rng, text: str) -> None:
        """xlwings' VBA client (Remote.bas' setValues) writes a string of a date's shape as a
        date (VBA-Web's ParseIso), even into a Text cell, and the server knows the saved
        master's formats only (text_value sent such a string with the prefix): it is written
        again by RenkeiServer.bas' own action, which assigns it as it is into a cell the open
        book has as Text and with the prefix into any other (a master of client 9 or older
        assigns it as it is). A master whose VBA lacks the action is refused the answer
        (renkei_xl.excel.client: a value is no look to leave out)."""
        from .client import SET_TEXT, read_as_typed   # not at the top: the desktop buttons never need it

        if read_as_typed(text):
            rng.impl.append_json_action(func=SET_TEXT, args=[text])

    def underline(self, rng) -> None:
        """A ``setFontProperty`` action of the same shape as xlwings' own font actions, with
        Office.js' value ("Single"); clients without it ignore the look."""
        rng.font.impl.append_json_action(func="setFontProperty", args=["underline", "Single"])

    def align(self, rng, horizontal: Optional[str], vertical: Optional[str]) -> None:
        """The actions xlwings' own setter writes for Office.js, for every client that has them."""
        if not self.client.aligns:
            return
        for func, value, names in (("setHorizontalAlignment", horizontal, _H_ALIGN_JS),
                                   ("setVerticalAlignment", vertical, _V_ALIGN_JS)):
            if value:
                rng.impl.append_json_action(func=func, args=names[value])

    def freeze(self, sheet, first: Optional[tuple[int, int]]) -> None:
        """xlwings' freeze panes, which exist on the remote engine only."""
        rows, cols = (first[0] - 1, first[1] - 1) if first else (0, 0)
        if not rows and not cols:
            sheet.freeze_panes.unfreeze()
        elif not cols:
            sheet.freeze_panes.freeze_at(f"1:{rows}")
        elif not rows:
            sheet.freeze_panes.freeze_at(f"A:{column_letter(cols)}")
        else:
            sheet.freeze_panes.freeze_at(f"A1:{cell_ref(rows, cols)}")

    def formats_problem(self, plan) -> str:
        """Excel adds the plan's cell formats whichever client replays them (the saved
        master's count: SavedFills.formats_problem)."""
        return "" if self._saved_fills is None else self._saved_fills.formats_problem(plan)

    def footer_problem(self, sheet_name: str, setup) -> str:
        """A VBA client's renkeiPageSetup sets CenterFooter beside the left and right footers
        staff have on the sheet, read from the saved master (staff's edits since the save are
        not known): past Excel's limit it is 1004 halfway through the replay, where the file
        face refuses the write (workbook.apply._page), so the click refuses it the same way."""
        if self._saved_fills is None:
            return ""
        from ..core.pages import footer_problem
        from ..package.page_kept import odd_footer
        from .desktop import com_page_setup

        return footer_problem(sheet_name, odd_footer(self._saved_fills.header_footer(sheet_name),
                                                     str(com_page_setup(setup)["CenterFooter"])))

    def _page_setup(self, sheet, setup) -> None:
        """The plan's page and page breaks, through RenkeiServer.bas' own actions, in the
        properties the desktop sets through COM."""
        # not at the top: the desktop buttons never need them
        from .client import PAGE_BREAKS, PAGE_SETUP, PAGE_SETUP_PROPERTIES
        from .desktop import com_page_setup

        props = com_page_setup(setup)
        cell = sheet.range("A1").impl
        cell.append_json_action(func=PAGE_SETUP, args=[props[name] for name in PAGE_SETUP_PROPERTIES])
        cell.append_json_action(func=PAGE_BREAKS, args=[list(setup.row_breaks)])

    def shown_sheet(self) -> Optional[int]:
        """The shown sheet's index as the client sent it (Remote.bas: ActiveSheet.Index, which
        counts chart sheets too). Only an index among the worksheets sent is given back: it
        lies at or before the last of them, so the sheet a click adds after the last one does
        not move it; a sheet past them (a chart sheet at the end) might have moved, and
        xlwings' Sheets.active cannot reach it (None: the added sheet stays shown)."""
        index = self.book.impl.api["book"].get("active_sheet_index")
        return index if type(index) is int and 0 <= index < len(self.sheetnames) else None

    def show_sheet(self, shown: object) -> None:
        """Remote.bas' activateSheet (xlwings' own): the client dropping it where its VBA lacks
        it (client.SKIPPABLE) leaves the added sheet shown, as before."""
        self.book.impl.append_json_action(func="activateSheet", args=[shown])
        self.book.impl.api["book"]["active_sheet_index"] = shown

    def autofilter(self, sheet, rect: Optional[tuple[int, int, int, int]]) -> None:
        """Through RenkeiServer.bas' own action: the last run's filter off (with what staff
        filtered out: its rows would hide the new list), then the buttons over ``rect``.
        xlwings has no action that only shows the buttons (its AutoFilter applies criteria)."""
        from .client import AUTOFILTER   # not at the top: the desktop buttons never need it

        address = "" if rect is None else sheet.range(rect[:2], rect[2:]).address
        sheet.range("A1").impl.append_json_action(func=AUTOFILTER, args=[address])

    def add_chart(self, sheet, chart) -> None:
        """Through RenkeiServer.bas' own action (xlwings' addChart is Office.js'; Remote.bas has
        none, and its payload lists no charts, so the last run's could not be found): the
        client deletes the sheet's chart of the tool's name, and of the names an older version
        gave the tool's chart in the saved master (titled as this one: core.list_notes' rule
        for the tool's own), then draws it as LiveBook.add_chart does on the desktop. A
        staff's chart is never named, so never touched; a click again finds the one it drew."""
        from .client import ADD_CHART, CHART_ARGUMENTS   # not at the top: the desktop never needs them

        name = c.tool_chart_name(chart.title)
        saved = self._saved_fills.charts(sheet.name) if self._saved_fills is not None else []
        older = sorted({n for n, title, _cell in saved if title == chart.title and n and n != name})
        r1, c1, r2, c2 = chart.values
        values = sheet.range((r1, c1), (r2, c2)).address.replace("$", "")
        r1, c1, r2, c2 = chart.categories
        categories = sheet.range((r1, c1), (r2, c2)).address.replace("$", "")
        said = {"name": name, "title": chart.title, "source": values, "categories": categories,
                "anchor": cell_ref(*chart.anchor), "width": chart.width_cm * CM_TO_POINTS,
                "height": chart.height_cm * CM_TO_POINTS, "legend": chart.legend, "chart_type": XL_COLUMN_CLUSTERED,
                "plot_by": XL_ROWS, "style": CHART_STYLE, "older": older}
        sheet.range("A1").impl.append_json_action(func=ADD_CHART, args=[said[k] for k in CHART_ARGUMENTS])

    def structure_locked(self) -> bool:
        return self.client.structure

    def other_tabs(self) -> list[str]:
        """The open book's, as RenkeiServer.bas names them (X-Renkei-Tabs, client 10 on: a
        chart sheet staff made or renamed since the save among them; the payload holds
        worksheets only); else the saved master's, where a chart sheet made since the save
        is not known and meets Excel's refusal as before."""
        if self.client.other_tabs is not None:
            return list(self.client.other_tabs)
        return [] if self._saved_fills is None else self._saved_fills.other_tabs()

    def password_sheets(self, sheet_names: Iterable[str]) -> list[str]:
        """What the server read from the saved master (PASSWORD_SHEETS_KEY)."""
        return [n for n in dict.fromkeys(sheet_names) if n in self.client.locked and n in self.sheetnames]

    @contextmanager
    def writable(self, sheet_names: Iterable[str], protect: Iterable[str] = (),
                 written: Iterable[tuple[str, int, int]] = ()) -> Iterator[None]:
        """The payload carries no protection state, and the client replays the actions
        itself. The first action, ``renkeiUnprotectSheets`` (RenkeiServer.bas), names the
        sheets to lift and the ones to protect afterwards, and says how those are protected
        (the tool's one protection as Worksheet.Protect's arguments by name: the client's
        Protect is COM's) and in which words it refuses protection staff set after the last
        save (``client_refusals``); the client lifts the sheets that are protected,
        remembering their options, and restores them after the replay whether it succeeded
        or not (renkei_xl.excel.client: a client without that Sub gets no answer at all).
        ``written`` goes too (client.written_ranges), which the client checks in the open book
        for a merge, an array or a data table made since the save."""
        from .client import UNPROTECT, written_ranges   # not at the top: the desktop buttons never need them
        from .desktop import NEW_SHEET_PROTECTION

        names = list(dict.fromkeys(sheet_names))
        locked = [n for n in names if n in self.client.locked and n in self.sheetnames]
        if locked:
            raise UserError(locked_sheet_message(locked))
        args = [[n for n in names if n in self.sheetnames], list(dict.fromkeys(protect)),
                dict(NEW_SHEET_PROTECTION), client_refusals(),
                written_ranges(cell for cell in written if cell[0] in self.sheetnames)]
        self.book.impl.append_json_action(func=UNPROTECT, args=args)
        yield


def _same_number(sent: object, saved: object) -> bool:
    """Whether the number sent is the one saved, as the client could send it: xlwings' VBA
    client writes a Double as CStr does, 15 significant digits (0.6223776223776224, 89/143
    pasted as a value, arrives as 0.622377622377622), and the reader reads both as those
    digits (core.contract_read.text). Compared exactly, such a cell saved in 0.0% was a number
    typed since the save in every unsaved book, and refused as one (PERCENT_FORMAT_UNSAVED)."""
    if sent == saved:
        return True
    from ..core.contract_read import text

    return type(sent) in (int, float) and type(saved) in (int, float) and text(sent) == text(saved)

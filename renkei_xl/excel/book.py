"""The open master workbook behind a button: bulk reads and writes through xlwings.

The button path hands the contract reader the same thing the file path does (each sheet
as rows of values from A1, each workbook-scope name as (sheet, cell)), so both faces read
the master identically. Writes go through Excel itself, which keeps everything openpyxl
would drop (VBA, form buttons, x14 formats, images); they are few and in bulk, because
every call is a round trip to Excel (COM on Windows, Apple events on macOS) or an action
the remote client has to replay.

Three engines sit behind an ``xw.Book``, and this module is the only place that tells
them apart (``LiveBook.engine``):

- ``windows``: Excel through COM. Everything works, including ``sheet.api`` calls.
- ``mac``: Excel through AppleScript (appscript). Values, colours, links and alerts work;
  ``sheet.api`` is an appscript reference, so protection uses AppleScript commands.
- ``remote``: xlwings' remote engine (``xw.Book(json=payload)``), which the tests drive on
  Linux. Reads come from the payload; every write becomes an action for the client. It
  has no status bar, cannot read colours and cannot call into Excel (``sheet.api`` is the
  payload dictionary).

This module imports no Excel library itself (not even xlwings): it works on the Book it
is given, so a button's Python process loads only what xlwings already loads.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from contextlib import contextmanager
from typing import Iterable, Iterator, Mapping, Optional, Sequence

from .. import contract as c
from ..contract_read import MasterData, needed_sheets, parse_ref, read_contract
from ..layout import Grid
from ..model import Finding

WINDOWS, MAC, REMOTE = "windows", "mac", "remote"

# "=設定!$B$3", "='さっぽろ 圏'!$B$3:$C$4" (a doubled '' inside quotes is one ')
_REFERS_TO = re.compile(r"=(?:'((?:[^']|'')+)'|([^'!]+))!(\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?)")

ALERT_TITLE = "連携事業 評価ツール"
LINK_TIP = "クリックすると該当のセルへ移動します"
MARK_COLOR = "#" + c.MARK_FILL
RATE_FORMAT = "0.0%"
DATETIME_FORMAT = "yyyy/mm/dd hh:mm:ss"


def engine_of(book) -> str:
    """windows / mac / remote, from what xlwings reports about the book's app."""
    engine = book.app.engine
    if engine.type != "desktop":
        return REMOTE
    return WINDOWS if sys.platform.startswith("win") else MAC


def as_excel_text(value: object) -> object:
    """Strings are written with a leading apostrophe, Excel's "this is text" prefix.

    Excel converts a string assigned to ``Range.Value`` as if it had been typed: "73.2%"
    becomes 0.732, "1-1" a date, "17" a number, "=..." a formula. The openpyxl writer
    stores these as text, so without the prefix the button and the command line would
    write different 一覧. Excel strips the apostrophe from the value (it becomes the
    cell's PrefixCharacter), so the cell holds exactly the string.
    """
    if isinstance(value, str) and value:
        return "'" + value
    return value


def _rows_for_excel(grid: Grid) -> list[list[object]]:
    """The padded rows, merged followers blanked (as the openpyxl writer leaves them)."""
    rows = [[as_excel_text(v) for v in row] for row in grid.padded()]
    for r1, c1, r2, c2 in grid.merges:
        for r in range(r1, r2 + 1):
            for col in range(c1, c2 + 1):
                if (r, col) != (r1, c1):
                    rows[r][col] = None
    return rows


def _hex_to_rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


class LiveBook:
    """One open master workbook, read once and written in bulk."""

    def __init__(self, book):
        self.book = book
        self.engine = engine_of(book)
        self.sheetnames = [s.name for s in book.sheets]
        self._names: Optional[dict[str, tuple[str, str]]] = None

    @property
    def is_desktop(self) -> bool:
        return self.engine != REMOTE

    # ------------------------------------------------------------------ reading

    def grid(self, sheet_name: str) -> list[list[object]]:
        """One bulk read from A1 to the used range's last cell (no ``expand()``: slow)."""
        sheet = self.book.sheets[sheet_name]
        last = sheet.used_range.last_cell
        # err_to_str: "#REF!" as text, as openpyxl reads it, so validate reports it the same way
        rows = sheet.range((1, 1), (last.row, last.column)).options(ndim=2, err_to_str=True).value
        return [list(r) for r in rows]

    @property
    def names(self) -> dict[str, tuple[str, str]]:
        """Workbook-scope names that refer to one range, as (sheet, "B3")."""
        if self._names is None:
            out: dict[str, tuple[str, str]] = {}
            for name in self.book.names:
                key = name.name
                if "!" in key:  # sheet scope ("一覧!Print_Titles"): not part of the contract
                    continue
                m = _REFERS_TO.fullmatch(name.refers_to or "")
                if m:
                    sheet = m.group(1).replace("''", "'") if m.group(1) else m.group(2)
                    out[key] = (sheet, m.group(3).replace("$", ""))
            self._names = out
        return self._names

    def read(self) -> MasterData:
        sheets = {name: self.grid(name) for name in needed_sheets(self.sheetnames)}
        return read_contract(sheets, self.names)

    def previous_marks(self) -> list[tuple[str, str]]:
        """(sheet, cell) pairs the current 検証結果 lists, so their marks can be lifted."""
        if c.FINDINGS not in self.sheetnames:
            return []
        rows = self.grid(c.FINDINGS)
        if not rows:
            return []
        header = [str(v) if v is not None else "" for v in rows[0]]
        try:
            s_col = header.index(c.FINDING_COLUMNS[1])
            c_col = header.index(c.FINDING_COLUMNS[2])
        except ValueError:
            return []
        out = []
        for row in rows[1:]:
            sheet = row[s_col] if s_col < len(row) else None
            cell = row[c_col] if c_col < len(row) else None
            if sheet and cell:
                out.append((str(sheet), str(cell)))
        return out

    # ------------------------------------------------------------------ writing

    def _sheet(self, name: str):
        """The sheet to write, added at the end when staff have deleted it."""
        if name not in self.sheetnames:
            last = self.book.sheets[len(self.sheetnames) - 1]
            self.book.sheets.add(name, after=last)
            self.sheetnames.append(name)
        return self.book.sheets[name]

    def replace_values(self, sheet_name: str, grid: Grid) -> None:
        """Clear a tool sheet's contents, then write the grid in one bulk write.

        Formats, conditional formats, column widths and print setup stay as they are.
        On a desktop Excel the old merges are undone first (a stale merge would swallow
        values) and the grid's merges made again; the remote client cannot merge.
        """
        sheet = self._sheet(sheet_name)
        if self.is_desktop:
            sheet.used_range.unmerge()
        sheet.clear_contents()
        rows = _rows_for_excel(grid)
        if rows:
            sheet.range("A1").value = rows
        if self.is_desktop:
            for r1, c1, r2, c2 in grid.merges:
                sheet.range((r1 + 1, c1 + 1), (r2 + 1, c2 + 1)).merge()

    def number_format(self, sheet_name: str, first: tuple[int, int], last: tuple[int, int],
                      fmt: str) -> None:
        self.book.sheets[sheet_name].range(first, last).number_format = fmt

    def write_named(self, name: str, value: object, number_format: Optional[str] = None) -> bool:
        """Write the cell a workbook-scope name points at; False when there is no such name."""
        if name not in self.names:
            return False
        sheet, ref = self.names[name]
        if sheet not in self.sheetnames:
            return False
        rng = self.book.sheets[sheet].range(ref.split(":")[0])
        rng.value = as_excel_text(value)
        if number_format:
            rng.number_format = number_format
        return True

    def write_cell(self, sheet_name: str, ref: str, value: object) -> None:
        self.book.sheets[sheet_name].range(ref).value = as_excel_text(value)

    def write_block(self, sheet_name: str, first_row: int, rows: Sequence[Sequence[object]]) -> None:
        """Rows written from column A of ``first_row`` in one bulk write (sheet added if missing)."""
        if not rows:
            return
        sheet = self._sheet(sheet_name)
        width = max(len(r) for r in rows)
        block = [[as_excel_text(v) for v in r] + [None] * (width - len(r)) for r in rows]
        sheet.range((first_row, 1)).value = block

    def link_findings(self, findings: Sequence[Finding], first_row: int = 2) -> None:
        """Hyperlinks in 検証結果's セル column to the cell each finding names."""
        sheet = self.book.sheets[c.FINDINGS]
        if self.engine == WINDOWS:
            # ClearContents keeps hyperlinks: without this, rows of the last run that now
            # hold another finding (or none) would still jump to the old cell. The remote
            # client and AppleScript have no call for it; there links are only added.
            sheet.api.Hyperlinks.Delete()
        col = c.FINDING_COLUMNS.index("セル") + 1
        for r, f in enumerate(findings, start=first_row):
            if f.cell and f.sheet in self.sheetnames:
                sheet.range((r, col)).add_hyperlink(f"#'{f.sheet}'!{f.cell}", f.cell, LINK_TIP)

    def mark_cells(self, findings: Iterable[Finding], previous: Iterable[tuple[str, str]]) -> None:
        """Colour the cells of error findings, after lifting the marks of the last run.

        A previous mark is lifted only where it still has the tool's own colour on a
        desktop Excel (staff may have filled the cell themselves since). The remote
        engine cannot read colours: there the listed cells are lifted, which is safe as
        long as MARK_FILL stays a colour staff do not use.
        """
        current = {(f.sheet, f.cell) for f in findings
                   if f.is_error and f.cell and f.sheet in self.sheetnames
                   and f.sheet not in c.TOOL_SHEETS}
        for sheet, ref in dict.fromkeys(previous):
            if (sheet, ref) in current or sheet not in self.sheetnames or sheet in c.TOOL_SHEETS:
                continue
            try:
                parse_ref(ref)
            except ValueError:
                continue
            rng = self.book.sheets[sheet].range(ref)
            if self.is_desktop and rng.color != _hex_to_rgb(MARK_COLOR):
                continue
            rng.color = None
        for sheet, ref in sorted(current):
            self.book.sheets[sheet].range(ref).color = MARK_COLOR

    # ------------------------------------------------------------- talking to staff

    def alert(self, text: str, *, critical: bool = False, buttons: str = "ok") -> Optional[str]:
        """A message box; returns the button pressed where the engine can wait for it."""
        return self.book.app.alert(text, title=ALERT_TITLE, buttons=buttons,
                                   mode="critical" if critical else "info")

    def status(self, text: Optional[str]) -> None:
        """Excel's status bar (None gives it back to Excel); the remote engine has none."""
        if not self.is_desktop:
            return
        try:
            self.book.app.status_bar = text if text is not None else False
        except Exception:  # a status line is never worth failing a button over
            pass

    # ----------------------------------------------------------- protection, speed

    @contextmanager
    def writable(self, sheet_names: Iterable[str]) -> Iterator[None]:
        """Lift sheet protection (no password) while writing, restore it afterwards.

        The master's tool sheets are protected so that staff do not type into them.
        - Windows (COM): ``Unprotect()``, then ``Protect()`` with the sheet's own Allow*
          options, so what staff may still do (filter, format) is kept. Only sheets that
          were protected are touched.
        - macOS (AppleScript): ``unprotect`` and ``protect worksheet``; not verifiable on
          the Linux test bench, so a failure there is ignored, and a protected sheet then
          makes the write itself fail with Excel's message.
        - remote engine: nothing to call; the payload carries no protection state and
          the client applies the actions itself (its sheets must not be protected).
        """
        restore = []
        if self.engine == WINDOWS:
            for name in dict.fromkeys(sheet_names):
                if name in self.sheetnames:
                    api = self.book.sheets[name].api
                    if api.ProtectContents:
                        restore.append((api, _windows_protection(api)))
                        api.Unprotect()
        elif self.engine == MAC:
            for name in dict.fromkeys(sheet_names):
                if name in self.sheetnames:
                    api = self.book.sheets[name].api
                    try:
                        if api.protect_contents.get():
                            api.unprotect()
                            restore.append((api, None))
                    except Exception:
                        pass
        try:
            yield
        finally:
            for api, options in restore:
                if self.engine == WINDOWS:
                    api.Protect(**options)
                else:
                    try:
                        api.protect_worksheet(contents=True)
                    except Exception:
                        pass

    @contextmanager
    def quiet(self) -> Iterator[None]:
        """No screen repaint between the writes on a desktop Excel (much faster)."""
        if not self.is_desktop:
            yield
            return
        app = self.book.app
        before = app.screen_updating
        app.screen_updating = False
        try:
            yield
        finally:
            app.screen_updating = before


def _windows_protection(api) -> Mapping[str, object]:
    p = api.Protection
    return dict(
        DrawingObjects=api.ProtectDrawingObjects, Contents=True, Scenarios=api.ProtectScenarios,
        AllowFormattingCells=p.AllowFormattingCells, AllowFormattingColumns=p.AllowFormattingColumns,
        AllowFormattingRows=p.AllowFormattingRows, AllowInsertingColumns=p.AllowInsertingColumns,
        AllowInsertingRows=p.AllowInsertingRows, AllowInsertingHyperlinks=p.AllowInsertingHyperlinks,
        AllowDeletingColumns=p.AllowDeletingColumns, AllowDeletingRows=p.AllowDeletingRows,
        AllowSorting=p.AllowSorting, AllowFiltering=p.AllowFiltering,
        AllowUsingPivotTables=p.AllowUsingPivotTables)


def now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)

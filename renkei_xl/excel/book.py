"""The open master workbook behind a button: bulk reads, and the engine-specific writes.

The button path hands the contract reader the same thing the file path does (each sheet
as rows of values from A1, each workbook-scope name as (sheet, cell)), so both faces read
the master identically. Writes go through Excel itself, which keeps everything openpyxl
would drop (VBA, form buttons, x14 formats, images). What to write is never decided here:
renkei_xl.core.plan decides it and renkei_xl.excel.apply turns the plan into xlwings calls,
asking this module for the few writes that each engine does its own way.

Three engines sit behind an ``xw.Book``, and this module is the only place that tells
them apart (``LiveBook.engine``):

- ``windows``: Excel through COM. Everything works, including ``sheet.api`` calls.
- ``mac``: Excel through AppleScript (appscript). xlwings' own calls work; what xlwings
  has no call for (underline, freeze panes, print titles, autofilter, protection) goes
  through AppleScript terms that the Linux test bench cannot check, so a failure there
  is ignored rather than failing the button.
- ``remote``: xlwings' remote engine (``xw.Book(json=payload)``), which the tests drive on
  Linux. Reads come from the payload; every write becomes an action for the client. It
  has no status bar, cannot read colours and cannot call into Excel (``sheet.api`` is the
  payload dictionary). Its column widths are in points, not characters. Two of its calls
  need what only the Office.js client sends or implements: alignment, and charts (the
  payload has to list the sheet's charts so the last run's chart can be removed).

This module imports no Excel library itself (not even xlwings): it works on the Book it
is given, so a button's Python process loads only what xlwings already loads.
"""

from __future__ import annotations

import re
import sys
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator, Mapping, Optional

from ..core.contract_read import MasterData, needed_sheets, read_contract
from ..core.refs import cell_ref, column_letter

WINDOWS, MAC, REMOTE = "windows", "mac", "remote"
# The payload key by which the renkei-xl server says the client implements our actions.
RENKEI_CLIENT_KEY = "renkei_client"
# xlwings' alignment names as its remote actions spell them (Office.js' enum values).
_H_ALIGN_JS = {"general": "General", "left": "Left", "center": "Center", "right": "Right",
               "fill": "Fill", "justify": "Justify", "center_across_selection": "CenterAcrossSelection",
               "distributed": "Distributed"}
_V_ALIGN_JS = {"top": "Top", "center": "Center", "bottom": "Bottom", "justify": "Justify",
               "distributed": "Distributed"}

# "=設定!$B$3", "='さっぽろ 圏'!$B$3:$C$4" (a doubled '' inside quotes is one ')
_REFERS_TO = re.compile(r"=(?:'((?:[^']|'')+)'|([^'!]+))!(\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?)")

ALERT_TITLE = "連携事業 評価ツール"
LINK_TIP = "クリックすると該当のセルへ移動します"

# Excel's column width unit is the width of "0" in the workbook's default font (here
# Meiryo UI 10: about 7 px at 96 dpi) plus 5 px of padding; the remote engine sets widths
# in points. An estimate, used only where the engine wants points.
DIGIT_PX, PADDING_PX, POINTS_PER_PX = 7.0, 5.0, 0.75
CM_TO_POINTS = 72 / 2.54

# COM constants (XlPageOrientation, XlPaperSize, XlUnderlineStyle)
_XL_LANDSCAPE, _XL_PORTRAIT = 2, 1
_XL_PAPER = {"A3": 8, "A4": 9}
_XL_UNDERLINE_SINGLE = 2


def engine_of(book) -> str:
    """windows / mac / remote, from what xlwings reports about the book's app."""
    engine = book.app.engine
    if engine.type != "desktop":
        return REMOTE
    return WINDOWS if sys.platform.startswith("win") else MAC


def as_excel_text(value: object) -> object:
    """Strings are written with a leading apostrophe, Excel's "this is text" prefix.

    Excel converts a string assigned to ``Range.Value`` as if it had been typed: "73.2%"
    becomes 0.732, "1-1" a date, "17" a number, "=..." a formula. The file face stores
    these as text, so without the prefix the button and the command line would write
    different 一覧. Excel strips the apostrophe from the value (it becomes the cell's
    PrefixCharacter), so the cell holds exactly the string.
    """
    if isinstance(value, str) and value:
        return "'" + value
    return value


def width_to_points(width: float) -> float:
    """A column width in characters as points (what the remote engine takes)."""
    return (width * DIGIT_PX + PADDING_PX) * POINTS_PER_PX


def points_to_width(points: float) -> float:
    return (points / POINTS_PER_PX - PADDING_PX) / DIGIT_PX


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

    @property
    def reads_colours(self) -> bool:
        """Whether a cell's fill can be read (the remote engine cannot)."""
        return self.is_desktop

    @property
    def _office_js(self) -> bool:
        return self.engine == REMOTE and self.book.api.get("client") == "Office.js"

    @property
    def _renkei_client(self) -> bool:
        """A VBA client that carries our action module (renkei_xl/vba/macros/RenkeiServer.bas):
        the renkei-xl server marks such payloads (renkei_xl.server), and the module
        implements alignment, which xlwings' own VBA client lacks."""
        return self.engine == REMOTE and bool(self.book.api.get(RENKEI_CLIENT_KEY))

    # ------------------------------------------------------------------ reading

    def grid(self, sheet_name: str) -> list[list[object]]:
        """One bulk read from A1 to the used range's last cell (no ``expand()``: slow)."""
        sheet = self.book.sheets[sheet_name]
        last = sheet.used_range.last_cell
        # err_to_str: "#REF!" as text, as openpyxl reads it, so validate reports it the same way
        rows = sheet.range((1, 1), (last.row, last.column)).options(ndim=2, err_to_str=True).value
        return [list(r) for r in rows]

    def extent(self, sheet_name: str) -> tuple[int, int]:
        """(last row, last column) of the used range as the sheet is now; (0, 0) if absent."""
        if sheet_name not in self.sheetnames:
            return 0, 0
        last = self.book.sheets[sheet_name].used_range.last_cell
        return last.row, last.column

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

    def fill_of(self, sheet_name: str, ref: str) -> Optional[str]:
        """A cell's solid fill as "RRGGBB" (None: no fill). Desktop engines only."""
        if not self.reads_colours:
            raise NotImplementedError("this engine cannot read colours")
        return _rgb_to_hex(self.book.sheets[sheet_name].range(ref).color)

    def unsaved(self) -> bool:
        """Edits not yet saved to disk; only COM can tell (Workbook.Saved), elsewhere False."""
        return self.engine == WINDOWS and not self.book.api.Saved

    # ------------------------------------------------------------------ writing

    def sheet(self, name: str):
        """The sheet to write, added at the end when staff have deleted it."""
        if name not in self.sheetnames:
            last = self.book.sheets[len(self.sheetnames) - 1]
            self.book.sheets.add(name, after=last)
            self.sheetnames.append(name)
        return self.book.sheets[name]

    def clear_sheet(self, sheet) -> None:
        """Everything in the cells goes: values, formats, merges, conditional formats,
        hyperlinks, and the sheet's charts.

        ``Sheet.clear()`` is Excel's Clear All (the remote engine's ``sheetClear``); the
        merges and conditional formats are removed by their own calls as well, so that
        no engine depends on what its Clear happens to include. COM's Clear may keep
        hyperlinks on older Excel versions, so they are deleted explicitly there; the
        other engines have no call for it. Charts are found through the sheet's chart
        list, which the remote engine has only from an Office.js client.
        """
        for chart in reversed(list(sheet.charts)):
            chart.delete()
        sheet.cells.unmerge()
        sheet.cells.conditional_formats.clear()
        if self.engine == WINDOWS:
            sheet.api.Hyperlinks.Delete()
        sheet.clear()

    def set_column_width(self, rng, width: float) -> None:
        rng.column_width = width_to_points(width) if self.engine == REMOTE else width

    def underline(self, rng) -> None:
        """A single underline: xlwings' Font has no underline on any engine.

        COM: ``Font.Underline``; AppleScript: the font object's underline; the remote
        engine: a ``setFontProperty`` action of the same shape as xlwings' own font
        actions, with Office.js' value ("Single"); clients without it ignore the look.
        """
        if self.engine == WINDOWS:
            rng.api.Font.Underline = _XL_UNDERLINE_SINGLE
        elif self.engine == MAC:
            def mac() -> None:
                from appscript import k

                rng.api.font_object.underline.set(k.underline_style_single)
            best_effort(mac)
        else:
            rng.font.impl.append_json_action(func="setFontProperty", args=["underline", "Single"])

    def align(self, rng, horizontal: Optional[str], vertical: Optional[str]) -> None:
        """Alignment; the remote engine has it for an Office.js client and for a VBA client
        with our action module; xlwings refuses it for its own VBA client, which lacks it."""
        if self.engine == REMOTE and not self._office_js:
            if self._renkei_client:   # the same actions; xlwings only refuses them for "VBA"
                for func, value, names in (("setHorizontalAlignment", horizontal, _H_ALIGN_JS),
                                           ("setVerticalAlignment", vertical, _V_ALIGN_JS)):
                    if value:
                        rng.impl.append_json_action(func=func, args=names[value])
            return
        if horizontal:
            rng.horizontal_alignment = horizontal
        if vertical:
            rng.vertical_alignment = vertical

    def freeze(self, sheet, first: Optional[tuple[int, int]]) -> None:
        """Freeze panes so that ``first`` (row, col) is the first cell that scrolls (None:
        no frozen panes). xlwings has freeze panes on the remote engine only; COM and
        AppleScript go through the window, which means activating the sheet."""
        rows, cols = (first[0] - 1, first[1] - 1) if first else (0, 0)
        if self.engine == REMOTE:
            if not rows and not cols:
                sheet.freeze_panes.unfreeze()
            elif not cols:
                sheet.freeze_panes.freeze_at(f"1:{rows}")
            elif not rows:
                sheet.freeze_panes.freeze_at(f"A:{column_letter(cols)}")
            else:
                sheet.freeze_panes.freeze_at(f"A1:{cell_ref(rows, cols)}")
            return
        active = self.book.sheets.active
        try:
            sheet.activate()
            if self.engine == WINDOWS:
                win = self.book.app.api.ActiveWindow
                win.FreezePanes = False
                win.Split = False
                if rows or cols:
                    win.ScrollRow, win.ScrollColumn = 1, 1
                    win.SplitRow, win.SplitColumn = rows, cols
                    win.FreezePanes = True
            else:
                def mac() -> None:
                    win = self.book.app.api.active_window
                    win.freeze_panes.set(False)
                    if rows or cols:
                        win.split_row.set(rows)
                        win.split_column.set(cols)
                        win.freeze_panes.set(True)
                best_effort(mac)
        finally:
            active.activate()

    def print_setup(self, sheet, setup) -> None:
        """Print area on every engine; print titles, paper, orientation, fit, margins,
        footer and page breaks through COM, print titles through AppleScript (best effort);
        the remote engine has only the print area."""
        if setup.area:
            r1, c1, r2, c2 = setup.area
            sheet.page_setup.print_area = sheet.range((r1, c1), (r2, c2)).address
        titles = f"${setup.title_rows[0]}:${setup.title_rows[1]}" if setup.title_rows else ""
        if self.engine == WINDOWS:
            ps = sheet.api.PageSetup
            ps.PrintTitleRows = titles
            ps.Orientation = _XL_LANDSCAPE if setup.landscape else _XL_PORTRAIT
            ps.PaperSize = _XL_PAPER[setup.paper]
            ps.Zoom = False
            ps.FitToPagesWide = setup.fit_width or False
            ps.FitToPagesTall = setup.fit_height or False
            ps.CenterHorizontally = setup.center_horizontally
            left, right, top, bottom = setup.margins
            ps.LeftMargin, ps.RightMargin = left * 72, right * 72
            ps.TopMargin, ps.BottomMargin = top * 72, bottom * 72
            ps.CenterFooter = setup.footer
            # The plan's page breaks (renkei_xl.core.pages): after the sheet's old ones go.
            sheet.api.ResetAllPageBreaks()
            for last in setup.row_breaks:
                sheet.api.HPageBreaks.Add(Before=sheet.range((last + 1, 1)).api)
        elif self.engine == MAC:
            best_effort(lambda: sheet.api.page_setup_object.print_title_rows.set(titles))

    def autofilter(self, sheet, rect: Optional[tuple[int, int, int, int]]) -> None:
        """Filter buttons over ``rect`` (None: none). COM and AppleScript; the remote engine
        has no action that only shows the buttons (xlwings' AutoFilter applies criteria)."""
        if self.engine == WINDOWS:
            if sheet.api.AutoFilterMode:
                sheet.api.AutoFilterMode = False
            if rect:
                sheet.range(rect[:2], rect[2:]).api.AutoFilter()
        elif self.engine == MAC:
            def mac() -> None:
                if sheet.api.autofilter_mode.get():
                    sheet.api.autofilter_mode.set(False)
                if rect:
                    sheet.range(rect[:2], rect[2:]).api.autofilter()
            best_effort(mac)

    def add_chart(self, sheet, chart) -> None:
        """A clustered column chart. The remote engine adds it only when the payload
        lists the sheet's charts (Office.js clients, and sheets added in this run):
        otherwise the last run's chart could not be removed and every run would add one."""
        if self.engine == REMOTE and "charts" not in sheet.api:
            return
        r1, c1, r2, c2 = chart.values
        made = sheet.charts.add(width=chart.width_cm * CM_TO_POINTS, height=chart.height_cm * CM_TO_POINTS,
                                chart_type="column_clustered", anchor=sheet.range(chart.anchor),
                                source=sheet.range((r1, c1), (r2, c2)), plot_by="rows")
        r1, c1, r2, c2 = chart.categories
        made.set_x_axis_values(sheet.range((r1, c1), (r2, c2)))
        made.title = chart.title
        made.legend.visible = chart.legend

    # ------------------------------------------------------------- talking to staff

    def alert(self, text: str, *, critical: bool = False, buttons: str = "ok") -> Optional[str]:
        """A message box; returns the button pressed where the engine can wait for it."""
        return self.book.app.alert(text, title=ALERT_TITLE, buttons=buttons,
                                   mode="critical" if critical else "info")

    def status(self, text: Optional[str]) -> None:
        """Excel's status bar (None gives it back to Excel); the remote engine has none."""
        if not self.is_desktop:
            return
        def show() -> None:
            self.book.app.status_bar = text if text is not None else False
        best_effort(show)  # a status line is never worth failing a button over

    # ----------------------------------------------------------- protection, speed

    @contextmanager
    def writable(self, sheet_names: Iterable[str], protect: Iterable[str] = ()) -> Iterator[None]:
        """Lift sheet protection (no password) while writing, restore it afterwards.

        The master's tool sheets are protected so that staff do not type into them.
        ``protect``: sheets protected afterwards even if they were not before (a tool
        sheet that was missing and has just been added), with the options the master
        is built with (formatting rows and columns and filtering allowed).
        - Windows (COM): ``Unprotect()``, then ``Protect()`` with the sheet's own Allow*
          options, so what staff may still do (filter, format) is kept. Only sheets that
          were protected, or are listed in ``protect``, are touched.
        - macOS (AppleScript): ``unprotect`` and ``protect worksheet``; not verifiable on
          the Linux test bench, so a failure there is ignored, and a protected sheet then
          makes the write itself fail with Excel's message.
        - remote engine: the payload carries no protection state, and the client replays
          the actions itself. The first action, ``renkeiUnprotectSheets`` (RenkeiServer.bas),
          names the sheets to lift and the ones to protect afterwards; the client lifts
          those that are protected, remembering their options, and restores them after the
          replay whether it succeeded or not (renkei_xl.excel.client: a client without
          that Sub gets no answer at all).
        """
        names = list(dict.fromkeys(sheet_names))
        restore = []
        if self.engine == REMOTE:
            from .client import UNPROTECT

            self.book.impl.append_json_action(
                func=UNPROTECT, args=[[n for n in names if n in self.sheetnames], list(dict.fromkeys(protect))])
        elif self.engine == WINDOWS:
            for name in names:
                if name in self.sheetnames:
                    api = self.book.sheets[name].api
                    if api.ProtectContents:
                        restore.append((name, _windows_protection(api)))
                        api.Unprotect()
        elif self.engine == MAC:
            for name in names:
                if name in self.sheetnames:
                    api = self.book.sheets[name].api

                    def lift(api=api, name=name) -> None:
                        if api.protect_contents.get():
                            api.unprotect()
                            restore.append((name, None))
                    best_effort(lift)
        try:
            yield
        finally:
            if self.is_desktop:
                done = {name for name, _ in restore}
                restore += [(name, _NEW_PROTECTION) for name in dict.fromkeys(protect)
                            if name not in done and name in self.sheetnames]
            for name, options in restore:
                api = self.book.sheets[name].api
                if self.engine == WINDOWS:
                    api.Protect(**options)
                else:
                    best_effort(lambda api=api: api.protect_worksheet(contents=True))

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


_NEW_PROTECTION: Mapping[str, object] = dict(
    Contents=True, AllowFormattingColumns=True, AllowFormattingRows=True, AllowFiltering=True)


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

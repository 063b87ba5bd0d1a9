"""The xlwings remote engine as a stand-in for Excel: payloads from real files, actions replayed.

``payload_from_file`` builds what an xlwings client sends for a workbook: every worksheet's
values from A1 to the used range's last cell (a value under a merged area's hidden part
too, which openpyxl blanks: ``file_under_merges``; an empty cell as the client writes it),
a date- or time-formatted cell as the date its client hands over (Excel's serial counted as
OLE Automation counts days, from 1904 in a book that counts so, written as ISO text:
``client_date``), a Currency-formatted number as VBA's Currency for the VBA client
(``vba_currency``), the names that refer to one range and, for an Office.js client, each
sheet's charts. ``apply_actions`` replays the actions the Python side emits on a model of the
workbook (values, per-cell looks, merges, sizes, links, conditional formats, panes, print
area, charts), the way a client would, so tests compare workbooks and not action lists.

The ``file_*`` readers give the same shapes for a saved file (openpyxl), with the same
normalisation as ``applied_looks`` and friends, so that one expectation can be stated for
both faces: colours "RRGGBB" upper-case or None, alignment None for general (horizontal)
and bottom (vertical), underline True/False, number format None for General, row heights
and column widths rounded to 0.1. Each reader asks ``saved_book`` for the workbook, which
loads a file once per content and loader (openpyxl takes about a second for a master, and
one comparison of two faces asks for ten attributes of four sheets): treat what it returns
as read-only. The payload, ``file_rows`` and ``file_grid`` read ``payload_book`` instead: the same cells
as openpyxl's load, read about three times faster, because almost every payload is of a
file the test has just written (docs/performance.md, "The button model's reading").

Excel is stricter than a kind model, so ``apply_actions`` refuses what Excel refuses, with
the error Excel would raise (``ExcelError``): any write, clear, merge or format on a
protected sheet (values into unlocked cells excepted) unless ``renkeiUnprotectSheets``
lifted it; lifting a sheet with a password, or adding a sheet to a protected structure
(1004, unless the master's renkeiUnprotectSheets refuses them first: RENKEI_REFUSED with the
answer's words, ``refuses_unsaved_protection``); a value into a merge's hidden part, an array or
a data table the open book has and the saved master had not (the payload's ``merges``, ``arrays``,
``data_tables`` edited after the save) is 1004 at the value unless the master's renkeiUnprotectSheets
checks the cells the answer names first (RENKEI_REFUSED, ``written_check``, read from its VBA);
an action with no Sub in the clicking master's VBA ("Cannot run the macro");
a merge or a value write that covers part of a merged area (the merges of the saved file
included; one value into a merged area's top-left cell is the merged cell's value, as in
Excel); a value into, or a clear or merge over part of, an array formula or a What-If data
table's results (the saved file's: ``file_array_formulas``, ``file_data_tables``); a merge
over more than one filled
cell (Excel stops for its "only the upper-left value is kept" dialog); a sheet name over 31
characters or with ``[]:*?/\\``; text over 32,767 characters; a row height over 409 pt; a
footer (the saved file's sections with renkeiPageSetup's CenterFooter) over 255 characters.
A string assigned with a leading apostrophe is stored without it (Excel's text prefix), but
in a cell whose number format is Text ("@", 文字列: the saved file's cell, row or column
format, or one set during the replay) the apostrophe stays part of the value: Excel cannot
be run here, and that is the stricter of its possible behaviours.
A VBA client's payload cannot be made for a sheet whose used range Remote.bas cannot count
in VBA Integer (RenkeiServer.bas refuses it before sending; ``ClientRefused`` here), nor for
a legacy shared workbook (``ClientStopped``); a click with another book in front sends that
book unless the master's VBA brings the master forward (``SentOtherBook``), and sheets staff
grouped stay grouped unless it ungroups them (then protection, merges, conditional formats,
filters and panes are refused: ``before_sending``, GROUPED_REFUSED, SHARED_REFUSED). The
protection and the client's Subs come from the saved file (``payload["_excel"]``, which no
real client sends and the server ignores); after the replay the model restores protection
as RenkeiCallServer does, so ``Applied.protection`` is the book as staff find it.

Which client: the buttons on a desktop run through COM (Windows) or AppleScript (macOS),
which implement every action modelled here. A button with a server is xlwings' own VBA
client (Remote.bas, ``RunServerPython``), which implements only ``CLIENT_ACTIONS``; the
masters carry RenkeiServer.bas for the rest (the renkei-xl server, tests/test_server.py).
``click_payload`` is that click as the server admits it, what a test of the buttons replays.
``payload_from_file`` has no default client: the Office.js one (xlwings Server's add-in) is no
button of the product, and the server refuses its click (server.app._client_refusal,
docs/excel-model.md); the model skips the VBA client's checks for it (Null, ISO dates, CR LF,
the text prefix). A test names it only for what it sends (its values), or as the stand-in for a
client that takes charts (the desktop's engines).
"""

from __future__ import annotations

import copy
import datetime as dt
import decimal
import functools
import hashlib
import html
import io
import json
import math
import os
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional
from unittest import mock
from xml.etree import ElementTree as ET

import xlwings as xw
from openpyxl import load_workbook
from openpyxl.utils.datetime import CALENDAR_MAC_1904
from openpyxl.worksheet.worksheet import Worksheet

from renkei_xl.core.currency import is_currency_format, vba_currency
from renkei_xl.core.refs import column_letter, parse_ref
from renkei_xl.excel.book import DIGIT_PX, PADDING_PX, POINTS_PER_PX

def points_to_width(points: float) -> float:
    """A width in points as Excel's characters: width_to_points undone, as Excel reads it."""
    return (points / POINTS_PER_PX - PADDING_PX) / DIGIT_PX


LICENSE_ENV = ("XLWINGS_LICENSE_KEY", "noncommercial")
OFFICE_JS, VBA = "Office.js", "VBA"
EXCEL_KEY = "_excel"          # the model's facts about the saved book (not part of xlwings' payload)
UNPROTECT, REQUEST = "renkeiUnprotectSheets", "renkeiRequest"
CLEAR_FILL = "renkeiClearFill"   # RenkeiServer.bas: no fill (Remote.bas' setRangeColor cannot take null)
PAGE_BREAKS = "renkeiPageBreaks"  # RenkeiServer.bas: the plan's page breaks (last row of each page)
PAGE_SETUP = "renkeiPageSetup"    # RenkeiServer.bas: PageSetup's properties, one argument each
AUTOFILTER = "renkeiAutoFilter"   # RenkeiServer.bas: the last run's filter off, the plan's buttons on
SET_TEXT = "renkeiSetText"       # RenkeiServer.bas: a string assigned as it is (no ParseIso)
SET_NUMBERS = "renkeiSetNumbers"  # RenkeiServer.bas: numbers of a range, as exact integer parts
ADD_CHART = "renkeiAddChart"     # RenkeiServer.bas: the tool's chart, drawn again under the tool's name
# renkeiAddChart's arguments as the Sub reads them (args(1) .. args(12)); Excel's codes it sets
CHART_ARGS = ("name", "title", "source", "categories", "anchor", "width", "height", "legend",
              "chart_type", "plot_by", "style", "older")
XL_CHART_TYPES, XL_PLOT_BY = {51: "ColumnClustered"}, {1: "Rows", 2: "Columns"}
RENKEI_REFUSED = -2147220804     # RenkeiServer.bas' RenkeiRefuse: vbObjectError + 700
# Excel's limits (Excel specifications and limits; Remote.bas' Integer counters)
# Japanese Excel folds width first: the full-width forms are refused too, ￥ (its 0x5C) with
# them, and ’ ＇ are the apostrophe no name starts or ends with (docs/excel-model.md).
# U+0000 too: refused by Worksheet.Name in Excel 2010 and 2016 (RelaxTools' walk over the BMP).
MAX_SHEET_NAME, SHEET_NAME_FORBIDDEN = 31, set("[]:*?/\\［］：＊？／＼￥\x00")
SHEET_NAME_APOSTROPHES = tuple("'’＇")
MAX_CELL_TEXT, MAX_ROW_HEIGHT = 32_767, 409.0
MIN_FONT_SIZE, MAX_FONT_SIZE = 1.0, 409.0     # Font.Size (Excel's font size box: 1 to 409)
# The last row Remote.bas can count: startRow + nRows - 1 in Integer overflows at 32,768 first.
VBA_LAST_ROW = 32_766
# The most names of a book, or shapes of a sheet, Remote.bas walks: For i = 1 To n with an
# Integer i overflows stepping past 32,767.
VBA_MAX_ITEMS = 32_766
MAX_ROWS, MAX_COLUMNS, MAX_COLUMN_WIDTH, MAX_FORMULA = 1_048_576, 16_384, 255, 8_192
# Names Excel keeps for itself: "History" (履歴 in a Japanese Excel) is its change-tracking sheet.
RESERVED_SHEET_NAMES = {"history", "履歴"}
# MsgBox shows about 1,024 characters of its prompt and drops the rest without a word; a
# hyperlink's address and its screen tip hold 255.
MAX_PROMPT, MAX_LINK_TEXT = 1_023, 255
# Hyperlinks a worksheet holds (Excel specifications and limits: 65,530): Hyperlinks.Add
# past them is taken as 1004 here (assumed, the stricter reading). Counted per cell an
# addHyperlink covers, with the links the saved sheet holds until Clear All (sheetClear)
# removes them (file_link_counts); a link over a cell that had one counts twice (stricter).
MAX_HYPERLINKS = 65_530
# Manual page breaks a sheet holds: Excel's specifications say 1,026; a file with more than
# 1,024 is reported damaged when it opens (NPOI #456), so HPageBreaks.Add past that is taken
# as 1004 here (the stricter reading; Excel cannot be run here).
MAX_PAGE_BREAKS = 1_024
# Characters of a header or a footer, its sections (&L &C &R) and codes (&P, &9 …) counted.
MAX_HEADER_FOOTER = 255
# Characters of a number format code: Excel's 表示形式 box takes 255, and NumberFormat a
# longer code is taken as 1004 here (assumed, the stricter reading; docs/excel-model.md).
MAX_NUMBER_FORMAT = 255
# The most cell formats a book holds (core.looks.MAX_CELL_FORMATS, MS-OI29500 on cellXfs):
# Excel adds one for each new combination a button's looks, number formats and fills make,
# and past the limit stops the replay (1004, "Too many different cell formats"). Counted by
# the model only for a book within FORMATS_NEAR of it (no write adds that many), whose cells'
# looks are read as held already (file_held_looks).
FORMATS_NEAR = 2_000
# The actions that give a cell a format of its own (a hyperlink gives Excel's Hyperlink style).
FORMAT_ACTIONS = frozenset({"setFontProperty", "setBorderProperty", "setHorizontalAlignment", "setVerticalAlignment",
                            "setWrapText", "setNumberFormat", "setRangeColor", "renkeiClearFill", "addHyperlink"})


def excel_length(text: str) -> int:
    """Length as Excel counts it: UTF-16 code units (a character outside the BMP is 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def sheet_key(name: str) -> str:
    """A sheet name as Excel compares two: case and width ignored (ﾒﾆｭｰ is メニュー)."""
    import unicodedata

    forms = (unicodedata.decomposition(ch) for ch in name)
    narrow = "".join(chr(int(f.split()[1], 16)) if f.startswith(("<wide>", "<narrow>")) else ch
                     for ch, f in zip(name, forms))
    return unicodedata.normalize("NFC", narrow).lower()
# Range.Merge over more than one filled cell stops for Excel's "only the upper-left value is kept"
# dialog (OK / Cancel) in the middle of a replay, unless DisplayAlerts is off: the model raises it.
MERGE_DIALOG = "merge-dialog"
MSGBOX_CUT = "msgbox-cut"     # raised by the model though Excel says nothing (see _excel_refuses)
# Esc (or Ctrl+Break) pressed during the replay where the master's VBA leaves Excel's cancel key
# as it is (xlInterrupt): Excel's "Code execution has been interrupted" box, whose End ends every
# procedure with no handler run (documented, Application.EnableCancelKey). The model takes End,
# the stricter answer: nothing RenkeiCallServer lifted or turned off is put back (apply_actions).
CODE_ENDED = "code-ended"
_PROTECTION_KEYS = ("sheet", "objects", "scenarios", "formatCells", "formatColumns", "formatRows",
                    "insertColumns", "insertRows", "insertHyperlinks", "deleteColumns", "deleteRows",
                    "sort", "autoFilter", "pivotTables")


_COM_ALLOWED = {"formatCells": "AllowFormattingCells", "formatColumns": "AllowFormattingColumns",
                "formatRows": "AllowFormattingRows", "insertColumns": "AllowInsertingColumns",
                "insertRows": "AllowInsertingRows", "insertHyperlinks": "AllowInsertingHyperlinks",
                "deleteColumns": "AllowDeletingColumns", "deleteRows": "AllowDeletingRows", "sort": "AllowSorting",
                "autoFilter": "AllowFiltering", "pivotTables": "AllowUsingPivotTables"}


def com_protection_attrs(kwargs: dict) -> dict:
    """Worksheet.Protect's arguments (by name) as file_protection reads the result, openpyxl's
    attributes (True: protected / not allowed); an argument left out is Excel's default
    (everything protected, nothing allowed)."""
    assert kwargs.get("Contents", True) is True
    return {"sheet": True, "objects": bool(kwargs.get("DrawingObjects", True)),
            "scenarios": bool(kwargs.get("Scenarios", True)),
            **{attr: not kwargs.get(name, False) for attr, name in _COM_ALLOWED.items()}}


class ExcelError(AssertionError):
    """What Excel raises while replaying an action (run-time error ``number``)."""

    def __init__(self, number: int, text: str, action: Optional[dict] = None):
        self.number, self.text, self.action = number, text, action
        self.applied: Optional["Applied"] = None     # the book as the stop left it (apply_actions)
        shown = {k: v for k, v in (action or {}).items() if k != "values"}
        super().__init__(f"Excel error {number}: {text} in {shown}")


class ClientRefused(AssertionError):
    """The VBA client refuses before sending (RenkeiServer.bas' RenkeiUncountable): a sheet's
    used range (``rows``, ``cols``) or shapes (``shapes``), or the book's names (``names``;
    ``sheet`` is then "")."""

    def __init__(self, sheet: str, rows: int = 0, cols: int = 0, *, names: int = 0, shapes: int = 0):
        self.sheet, self.rows, self.cols, self.names, self.shapes = sheet, rows, cols, names, shapes
        super().__init__(f"the VBA client cannot count {sheet or 'the book'}: {rows} rows × {cols} columns, "
                         f"{names} names, {shapes} shapes")


class ClientStopped(AssertionError):
    """The VBA client stops before sending, with a message box of its own (RenkeiServer.bas'
    RenkeiUnready): ``text`` is what staff read, decoded from the master's VBA."""

    def __init__(self, reason: str, text: str):
        self.reason, self.text = reason, text
        super().__init__(f"the VBA client stops before sending ({reason}): {text}")


class SentOtherBook(AssertionError):
    """Remote.bas' RunServerPython sends, and replays the answer on, ActiveWorkbook: a click
    from the macro list or the toolbar while another book is in front reaches that book."""


def _read_from_vba(read):
    """``read(codes)``, a reading of a VBA project's modules (``_vba_codes``), as a function of
    a file's path worked out once per project: the model asks a dozen such questions of the
    master's VBA for each payload (what RenkeiCallServer does before sending, what its
    renkeiUnprotectSheets checks, which headers it sends, ...), each a search through 400 KB
    of code, and the tests send copies of a few masters whose projects are the same. Each
    caller gets a copy of the answer (some are dicts a test may change), keyed by the
    modules' text itself, so a project that differs in one character is read anew
    (``answers``; ``__wrapped__``: the reading itself, which a test may count or compare)."""
    @functools.wraps(read)
    def by_path(path: Path):
        codes, answers = _vba_codes(path), by_path.answers
        if codes not in answers:
            _kept(answers, codes, by_path.__wrapped__(codes))
        return copy.deepcopy(answers[codes])
    by_path.answers = {}
    VBA_READINGS.append(by_path)
    return by_path


VBA_READINGS: list = []     # every function made by _read_from_vba


@_read_from_vba
def vba_subs(codes: tuple[str, ...]) -> list[str]:
    """Public Subs of shape (wb As Workbook, action As Dictionary) in the standard modules of
    the file's VBA that Excel's ``Application.Run name, wb, action`` runs, read with oletools
    (not the product's own reader, which it checks). Not run (docs/excel-model.md):
    - a name public in two standard modules, whatever each names (Sub, Function, Property,
      variable, Const, Declare, Enum or its member): "Ambiguous name detected";
    - a Sub inside #If ... #End If (not compiled under #If False, nor #If Mac on Windows);
    - a Sub whose action is not the project's Dictionary class (Scripting.Dictionary: error 13);
    - a Sub named as a module (a project-level name too; the stricter reading);
    - every Sub of a module that uses, unqualified, a name two other modules make public
      and it does not declare itself: the module does not compile.

    Worked out once per project's modules (``_vba_codes`` keeps them per content): reading
    the names of 400 KB of VBA line by line was half of building a VBA client's payload
    (55 of about 100 ms), asked again for every copy of the same master (``_read_from_vba``)."""
    return _vba_subs_of(codes)


def _vba_subs_of(codes: tuple[str, ...]) -> list[str]:
    modules = [_vba_names(code) for code in codes
               if not re.search(r"^Attribute VB_(Base|Creatable|PredeclaredId|Exposed)", code, re.MULTILINE)]
    counted = [name for module in modules for name in module["public"]]
    ambiguous = {name for name in counted if counted.count(name) > 1}
    module_names = {m.lower() for code in codes for m in re.findall(r'^Attribute VB_Name = "([^"]*)"', code, re.MULTILINE)}
    return sorted(name for module in modules if not (module["uses"] - module["own"]) & ambiguous
                  for key, name in module["subs"].items() if key not in ambiguous | module_names)


_VBA_SUB = re.compile(r"(?:Public )?Sub (\w+)\(\w+ As (?:Excel\.)?Workbook, \w+ As Dictionary\)$", re.IGNORECASE)
_VBA_PUBLIC = re.compile(r"(?:(?:Public )?(?:Static )?(?:Sub|Function|Property [GLS]et|Declare (?:PtrSafe )?(?:Sub|Function)"
                         r"|Enum|Type) |(?:Public|Global) (?:Const )?)(\w+)", re.IGNORECASE)
_VBA_PROCEDURE = re.compile(r"\w+ (?:Static )?(?:Sub|Function|Property|Declare|Enum|Type)\b", re.IGNORECASE)
_VBA_OWN = re.compile(r"(?:Private|Dim|Static|Const|Public|Global|ReDim|Sub|Function|Property [GLS]et|Enum|Type|"
                      r"Declare (?:PtrSafe )?(?:Sub|Function)|Optional|ByVal|ByRef|ParamArray|,|\()\s*(?:Const |Preserve |"
                      r"WithEvents |(?:Sub|Function) )?(\w+)", re.IGNORECASE)


@functools.lru_cache(maxsize=64)
def _vba_names(code: str) -> dict:
    """One module's public names, names of its own, identifiers used, replayable Subs.

    Kept per module's text (callers only read the answer): projects read anew
    (``vba_subs``) differ from those read before in one module (the server's address in
    Renkei, a staff module added), and reading the other modules' lines again was most of
    reading such a project (test_server reads 17, 92 modules of which a few differ)."""
    out = {"public": set(), "own": set(), "uses": set(), "subs": {}}
    depth, block = 0, None
    joined = re.sub(r"(?:^|(?<=[ \t]))_[ \t]*\r?\n", " ", code, flags=re.MULTILINE)   # continuations, comments' too
    for raw in joined.splitlines():
        line = re.sub(r"\s+", " ", re.sub(r"(?i)(?:'|^\s*Rem\b).*", "", re.sub(r'"[^"]*"', '""', raw))).strip()
        word = line.split(" ", 1)[0].lower()
        if word.startswith("#"):
            depth += word == "#if"
            depth -= word == "#end" and depth > 0
            continue
        if word in ("attribute", "option", ""):
            continue
        if block == "enum" and word != "end":
            out["public"].add(word)
            continue
        if m := _VBA_PUBLIC.match(line):
            out["public"].add(m.group(1).lower())
            if word in ("public", "global") and not _VBA_PROCEDURE.match(line):    # Public a As Long, b
                out["public"].update(n.lower() for n in re.findall(r",\s*(\w+)", line))
            block = "enum" if re.match(r"(?:Public )?Enum ", line, re.IGNORECASE) else None
        if word == "end":
            block = None
        if depth == 0 and (sub := _VBA_SUB.match(line)):
            out["subs"][sub.group(1).lower()] = sub.group(1)
        out["own"].update(n.lower() for n in _VBA_OWN.findall(line))
        out["uses"].update(n.lower() for n in re.findall(r"(?<![.\w])[A-Za-z]\w*", line))
    out["own"] |= out["public"]
    return out


@_read_from_vba
def freeze_leaves_hidden_sheets(codes: tuple[str, ...]) -> bool:
    """Whether the file's RenkeiFreeze returns before activating a hidden sheet (Excel cannot
    activate one: 1004 in the middle of the replay)."""
    for code in codes:
        body = re.search(r"^Sub RenkeiFreeze\(.*?^End Sub", code, re.MULTILINE | re.DOTALL)
        if body:
            guard, activate = body.group(0).find("If ws.Visible <> -1 Then Exit Sub"), body.group(0).find("ws.Activate")
            return 0 <= guard < activate
    return False


@_read_from_vba
def freeze_leaves_page_layout(codes: tuple[str, ...]) -> bool:
    """Whether the file's RenkeiFreeze leaves the panes of a sheet shown in Page Layout view
    (``ActiveWindow.View`` 3) rather than freeze them there (the model's 1004: Excel's ribbon
    offers no freezing in that view, docs/excel-model.md check 16)."""
    for code in codes:
        body = re.search(r"^Sub RenkeiFreeze\(.*?^End Sub", code, re.MULTILINE | re.DOTALL)
        if body:
            text = body.group(0)
            read, guard = text.find("shown = ActiveWindow.View"), text.find("If shown <> 3 Then")
            return 0 <= read < guard < text.find(".FreezePanes = True")
    return False


def file_page_layout(wb) -> list[str]:
    """The sheets staff left in Page Layout view (表示 > ページ レイアウト, ``view="pageLayout"``
    on the sheet's view): Excel opens them so, and a click's panes meet that view."""
    return [ws.title for ws in wb.worksheets if any(v.view == "pageLayout" for v in ws.views.sheetView)]


@_read_from_vba
def page_setup_arguments(codes: tuple[str, ...]) -> dict[str, int]:
    """Which argument of the file's renkeiPageSetup each PageSetup property takes (a line
    ``.Property = a(n)``, a CLng or CDbl around it or not), read from the VBA itself: the
    model then holds what the master's Sub sets, not what the server meant to send."""
    for code in codes:
        body = re.search(r"^Sub renkeiPageSetup\(.*?^End Sub", code, re.MULTILINE | re.DOTALL)
        if body:
            return {prop: int(n) - 1 for prop, n in
                    re.findall(r"^\s*\.(\w+) = (?:C(?:Lng|Dbl)\()?a\((\d+)\)", body.group(0), re.MULTILINE)}
    return {}


@_read_from_vba
def refuses_unsaved_protection(codes: tuple[str, ...]) -> bool:
    """Whether the file's renkeiUnprotectSheets meets protection staff set after the last
    save itself: Unprotect with an explicit empty password (a sheet with a password raises,
    Excel asks for nothing) and a look at ProtectStructure before a sheet is added, each
    stopping the click with RenkeiRefuse before anything is written."""
    for code in codes:
        body = re.search(r"^Sub renkeiUnprotectSheets\(.*?^End Sub", code, re.MULTILINE | re.DOTALL)
        if body:
            text = body.group(0)
            return all(part in text for part in ('ws.Unprotect ""', "wb.ProtectStructure Then RenkeiRefuse",
                                                 "If Not lifted Then RenkeiRefuse"))
    return False


# Staff's event procedures in the master's document modules (upgrade-macros carries them,
# vba.carry): Excel runs a Change procedure at every value a macro writes and an Activate
# procedure at every sheet it shows (documented: events occur for a macro's own actions unless
# Application.EnableEvents is False, "Using events with Excel objects").
_STAFF_EVENT = re.compile(r"^[ \t]*(?:(?:Private|Public)[ \t]+)?Sub[ \t]+((?:Workbook_Sheet|Worksheet_)"
                          r"(?:Change|Activate|Deactivate|SelectionChange|Calculate))[ \t]*\(",
                          re.MULTILINE | re.IGNORECASE)
STAFF_EVENT = "staff-event"     # raised by the model though Excel says nothing (see _excel_refuses)


@_read_from_vba
def staff_events(codes: tuple[str, ...]) -> list[str]:
    """The event procedures of the file's modules that a replay's writes or RenkeiFreeze's
    Activate would run (none in the tool's own modules)."""
    return sorted({m.group(1) for code in codes for m in _STAFF_EVENT.finditer(code)})


@_read_from_vba
def events_off(codes: tuple[str, ...]) -> bool:
    """Whether the file's RenkeiCallServer turns events off before RunServerPython replays."""
    for code in codes:
        body = re.search(r"^Public Sub RenkeiCallServer\(.*?^End Sub", code, re.MULTILINE | re.DOTALL)
        if body:
            text = body.group(0)
            off = text.find("Application.EnableEvents = False")
            return 0 <= off < text.find("RunServerPython url")
    return False


@_read_from_vba
def cancel_key_off(codes: tuple[str, ...]) -> bool:
    """Whether the file's RenkeiCallServer turns Esc and Ctrl+Break off (Application.EnableCancelKey
    xlDisabled, through RenkeiCancelKey) before it turns events off and replays, and gives the
    key back only after protection is back, on both paths: staff cannot then end the replay
    halfway with protection lifted and events off (CODE_ENDED)."""
    for code in codes:
        body = re.search(r"^Public Sub RenkeiCallServer\(.*?^End Sub", code, re.MULTILINE | re.DOTALL)
        helper = re.search(r"^Function RenkeiCancelKey\(ByVal how As Long\) As Long\s*$.*?^End Function", code,
                           re.MULTILINE | re.DOTALL)
        disabled = re.search(r"^Private Const CANCEL_KEY_DISABLED As Long = 0\s*$", code, re.MULTILINE)
        if not (body and helper and disabled and "Application.EnableCancelKey = how" in helper.group(0)):
            continue
        text = body.group(0)
        off = text.find("= RenkeiCancelKey(CANCEL_KEY_DISABLED)")
        failed = text.find("\nFailed:")
        if not 0 <= off < text.find("Application.EnableEvents = False") < text.find("RunServerPython url") < failed:
            return False
        # each path: protection put back, then the key given back
        return all(0 <= part.find("RenkeiRestoreProtection(") < part.find("RenkeiCancelKey cancelKey")
                   for part in (text[off:failed], text[failed:]))
    return False


@_read_from_vba
def written_check(codes: tuple[str, ...]) -> Optional[dict]:
    """What the file's renkeiUnprotectSheets does with its fifth argument (the cells the click
    writes values into, excel.client.written_ranges), read from the VBA itself; None where it
    does nothing with it (a master before client 8: Excel's 1004 halfway, as before). Else the
    check's facts as RenkeiCheckWritten has them: the reasons in the order it refuses them, the
    most cells it walks (``walk``) and names (``shown``), and what it walks a range for
    (``reads``: the properties read of the whole range, which the model takes as Excel answers
    them, False only where no cell of the range is merged / holds a formula)."""
    for code in codes:
        unprotect = re.search(r"^Sub renkeiUnprotectSheets\(.*?^End Sub", code, re.MULTILINE | re.DOTALL)
        check = re.search(r"^Sub RenkeiCheckWritten\(.*?^End Sub", code, re.MULTILINE | re.DOTALL)
        if not unprotect or not check or 'RenkeiCheckWritten wb, action("args")(5)' not in unprotect.group(0):
            continue
        body = check.group(0)
        reasons = re.search(r'reasons = Split\("([^"]*)", " "\)', body)
        consts = dict(re.findall(r"^Private Const (WRITTEN_\w+) As Long = (\d+)", code, re.MULTILINE))
        reads = re.findall(r"= area\.(\w+)\s*$", body, re.MULTILINE)
        if not reasons or {"WRITTEN_WALK", "WRITTEN_SHOWN"} - set(consts):
            continue
        return {"reasons": reasons.group(1).split(" "), "walk": int(consts["WRITTEN_WALK"]),
                "shown": int(consts["WRITTEN_SHOWN"]), "reads": reads,
                "table": '"=TABLE("' in body, "merge_area": "cell.MergeArea.Row" in body,
                # a merge's first cell written with its row's neighbours, the merge reaching past them
                "merged_run": "cell.MergeArea.Rows.Count" in body and "merged_run" in reasons.group(1),
                "array": "cell.HasArray" in body}
    return None


@_read_from_vba
def set_text_checks_format(codes: tuple[str, ...]) -> bool:
    """Whether the file's renkeiSetText asks the open book for the cell's number format and
    gives the text prefix to a cell that is not Text (qa-client63): the server knows the saved
    master's Text cells only, and a column staff set back to 標準 since the save takes a string
    assigned as it is as typed. False for a master whose renkeiSetText assigns it as it is."""
    for code in codes:
        sub = re.search(r"^Sub renkeiSetText\(.*?^End Sub", code, re.MULTILINE | re.DOTALL)
        if sub and 'NumberFormat = "@"' in sub.group(0) and "\"'\" & " in sub.group(0):
            return True
    return False


# What RenkeiServer.bas' RenkeiUnready does before RunServerPython sends the book, as read
# from a master's VBA: bring the master to the front, undo a group of sheets, refuse a legacy
# shared workbook (with the text of MSG_SHARED).
BEFORE_SENDING = {"front": "wb.Activate", "ungroup": "ActiveSheet.Select", "shared": "wb.MultiUserEditing",
                  "calculate": "Then Application.Calculate"}


@_read_from_vba
def before_sending(codes: tuple[str, ...]) -> dict[str, str]:
    """Which of BEFORE_SENDING the file's RenkeiCallServer does with the master (ThisWorkbook)
    before RunServerPython, each with the message box text it shows when it cannot
    (RenkeiText of its MSG_ constant; "" where it shows none)."""
    out: dict[str, str] = {}
    for code in codes:
        call = re.search(r"^Public Sub RenkeiCallServer\(.*?^End Sub", code, re.MULTILINE | re.DOTALL)
        unready = re.search(r"^Function RenkeiUnready\(.*?^End Function", code, re.MULTILINE | re.DOTALL)
        if not call or not unready:
            continue
        body = call.group(0)
        sent = body.find("RunServerPython url")
        if not 0 <= body.find("Set wb = ThisWorkbook") < body.find("RenkeiUnready(wb") < sent:
            continue
        consts = dict(re.findall(r'^Private Const (MSG_\w+) As String = "([0-9A-F]*)"', code, re.MULTILINE))
        text = {"front": "MSG_NOT_FRONT", "ungroup": "MSG_GROUPED", "shared": "MSG_SHARED", "calculate": ""}
        for key, part in BEFORE_SENDING.items():
            if part in unready.group(0):
                hexed = consts.get(text[key], "")
                out[key] = "".join(chr(int(hexed[i:i + 4], 16)) for i in range(0, len(hexed), 4))
    return out


@_read_from_vba
def shared_refused_to(codes: tuple[str, ...]) -> Optional[frozenset[str]]:
    """The buttons (Renkei.bas entries: "check", …) whose click the file's RenkeiUnready stops
    on a legacy shared workbook: those its shared check names through BOOK_WRITERS, None
    where it stops every click (or names no list the model can read: the stricter)."""
    for code in codes:
        unready = re.search(r"^Function RenkeiUnready\(.*?^End Function", code, re.MULTILINE | re.DOTALL)
        if not unready:
            continue
        check = re.search(r"^\s*If isShared (.*?) Then\r?$", unready.group(0), re.MULTILINE)
        listed = re.search(r'^Private Const BOOK_WRITERS As String = "([^"]*)"', code, re.MULTILINE)
        if check and listed and check.group(1) == 'And InStr(BOOK_WRITERS, "," & entry & ",") > 0':
            return frozenset(filter(None, listed.group(1).split(",")))
    return None


def file_grouped(wb) -> list[str]:
    """The sheets staff grouped (ctrl-clicked tabs, 「[グループ]」 in the title bar): Excel saves
    the group as tabSelected on each sheet's view, and opens the book grouped again."""
    chosen = [ws.title for ws in wb.worksheets if any(v.tabSelected for v in ws.views.sheetView)]
    return chosen if len(chosen) > 1 else []


def file_shared(path: Path) -> bool:
    """Whether the file is a legacy shared workbook (「ブックの共有（レガシ）」): Excel keeps its
    change history as the workbook's revisionHeaders part."""
    with zipfile.ZipFile(path) as z:
        rels = "xl/_rels/workbook.xml.rels"
        return rels in z.namelist() and b"/relationships/revisionHeaders" in z.read(rels)


def _vba_codes(path: Path) -> tuple[str, ...]:
    """The source of every module of the file's VBA, read with oletools (not the product's own
    reader, which it checks).

    Kept per content of what oletools reads (every OLE part of the package: it takes any of
    them for a VBA project), not per file: the tests send copies of a few masters from a
    folder of their own each, and decompressing the modules again for every copy was a
    quarter of some modules' time. A package seen before, part for part (each part's name,
    CRC-32 and size, from the zip's directory), is not decompressed again: a payload asks
    for the modules six times, and digesting the project each time was a third of building
    a payload from a file already loaded. While a payload is built (``_payload_of``), the
    modules are read once for its six questions."""
    if _VBA_WITHIN_PAYLOAD.get("path") == str(path):
        if "codes" not in _VBA_WITHIN_PAYLOAD:
            _VBA_WITHIN_PAYLOAD["codes"] = _vba_codes_read(path)
        return _VBA_WITHIN_PAYLOAD["codes"]
    return _vba_codes_read(path)


# {"path": the file whose payload is being built, "codes": its modules, "arrays": whether a
# sheet of it may hold an array formula (_formula_areas)}
_VBA_WITHIN_PAYLOAD: dict = {}


def _vba_codes_read(path: Path) -> tuple[str, ...]:
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        package = tuple((info.filename, info.CRC, info.file_size) for info in infos)
        key = _VBA_PACKAGES.get(package)
        if key is None:
            # each part looked into once (``_OLE_PARTS``): a package differs from the last one
            # seen in the sheet a test changed, not in its VBA project
            digest = hashlib.sha256()
            for info, seen in zip(infos, package):
                ole = _recalled(_OLE_PARTS, seen, lambda: _ole_digest(z, info), limit=512)
                if ole is not None:
                    digest.update(ole)
            key = digest.hexdigest()
            _kept(_VBA_PACKAGES, package, key)
    if key not in _VBA_CODES:
        _kept(_VBA_CODES, key, _vba_codes_of(path))
    return _VBA_CODES[key]


_VBA_CODES: dict[str, tuple[str, ...]] = {}
_VBA_PACKAGES: dict[tuple, str] = {}
_OLE_PARTS: dict[tuple, Optional[bytes]] = {}     # (name, CRC-32, size) -> _ole_digest


def _ole_digest(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> Optional[bytes]:
    """The digest of a part's name and bytes where the part is an OLE file (one oletools
    may take for a VBA project), None where it is not."""
    from olefile import MAGIC

    with z.open(info) as part:
        if part.read(len(MAGIC)) != MAGIC:
            return None
    return hashlib.sha256(info.filename.encode("utf-8") + b"\0" + z.read(info) + b"\0").digest()


def _kept(cache: dict, key, value, limit: int = 32) -> None:
    """``cache[key] = value``, the oldest entry dropped past ``limit``."""
    while len(cache) >= limit:
        del cache[next(iter(cache))]
    cache[key] = value


def _vba_codes_of(path: Path) -> tuple[str, ...]:
    """oletools' reading of the file's modules, each stream decompressed once per process
    (``_decompressed``)."""
    from oletools import olevba

    parser = olevba.VBA_Parser(str(path))
    kept = functools.partial(_decompressed, olevba.decompress_stream)
    try:
        with mock.patch.object(olevba, "decompress_stream", kept):
            if not parser.detect_vba_macros():
                return ()
            return tuple(code for _, _, _, code in parser.extract_macros())
    finally:
        parser.close()


def _decompressed(decompress, container) -> bytes:
    """oletools' ``decompress_stream(container)`` (MS-OVBA 2.4.1, bytes out: ``decompress``),
    kept per compressed stream (``_STREAMS``, 256): masters whose VBA projects differ differ in
    one module (the server's address in Renkei), and oletools' pure-Python decompression of
    the other thirty was nearly all of reading a project anew (0.1 CPU s; test_server reads
    18 such projects). What it raises is raised each time."""
    return _recalled(_STREAMS, bytes(container), lambda: decompress(container), limit=256)


_STREAMS: dict[bytes, bytes] = {}


def file_protection(path: Path, wb=None) -> dict[str, dict]:
    """Sheet -> {"options": openpyxl's protection attributes, "unlocked": [[row, col], ...]}
    for every protected sheet of a saved file (``wb``: the file already loaded; else its
    protected sheets are read alone, ``_protected_sheets_book``)."""
    wb = wb if wb is not None else _protected_sheets_book(path)
    out = {}
    for ws in wb.worksheets:
        if not ws.protection.sheet:
            continue
        unlocked = [[r, col] for (r, col), cell in ws._cells.items()
                    if cell.has_style and cell.protection.locked is False]
        out[ws.title] = {"options": {k: bool(getattr(ws.protection, k)) for k in _PROTECTION_KEYS},
                         "unlocked": unlocked,
                         # the legacy hash or Excel 2013's hashValue: either is a password
                         "password": bool(ws.protection.password or ws.protection.hashValue)}
    return out

_EMPTY_SHEET = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>'
_WORKSHEET_ROOT = re.compile(rb"<(?:\w+:)?worksheet[\s>]")


def _protected_sheets_book(path: Path):
    """The book ``file_protection`` reads for a file alone: the file's ``payload_book`` or
    ``saved_book`` where one is loaded already (a face's comparison asks for the protection of
    each sheet of a file it has read), else ``_reduced_book``, kept per content (``_PROTECTED``)
    apart from those two, whose books it would push out."""
    path = Path(path)
    data = path.read_bytes()
    digest, suffix = hashlib.sha256(data).hexdigest(), path.suffix.lower()
    for cache, key in ((_payload_loaded.cache, (digest, suffix, True, False)),
                       (_loaded.cache, (digest, suffix, False, False))):
        if key in cache:
            return cache[key]
    return _recalled(_PROTECTED, (digest, suffix), lambda: _reduced_book(path, data), limit=6)


_PROTECTED: dict[tuple, object] = {}


def _reduced_book(path: Path, data: bytes):
    """``payload_book`` of the file (``data``) with each worksheet that cannot be protected
    read as an empty one: a part with no <sheetProtection> element (by its bytes: openpyxl
    reads the protection from nothing else) is a sheet ``file_protection`` passes over, so its
    cells need not be read, and the largest master served spent 2 s reading 402,000 of them
    for four small protected sheets (test_answer_size). Every other part is as saved (copied
    raw by the product's ``Package.copy_with``), so the protected sheets, their cells, styles
    and notes are read as ``payload_book`` reads the file itself; a package the product's
    reader refuses is read whole."""
    from renkei_xl.package.xml import PackageError
    from renkei_xl.package.zipped import Package

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
            book_rels = _rels(z, "xl/workbook.xml")
            parts = {book_rels.get(sheet.get(f"{{{_NS['r']}}}id"))
                     for sheet in ET.fromstring(z.read("xl/workbook.xml")).find("m:sheets", _NS)}
            blank = {}
            for part in sorted(parts & names):
                xml = z.read(part)
                if b"sheetProtection" not in xml and _WORKSHEET_ROOT.search(xml, 0, 4096):
                    blank[part] = _EMPTY_SHEET
        with Package(path, data=data) as package:
            reduced = package.copy_with(blank)
    except (KeyError, TypeError, ET.ParseError, zipfile.BadZipFile, PackageError):
        return _read_payload_book(io.BytesIO(data), True, False)
    return _read_payload_book(io.BytesIO(reduced), True, False)


# What xlwings' VBA remote client (Remote.bas) implements by itself. The buttons run locally
# through COM/AppleScript, which implement every action in KNOWN_ACTIONS; through the
# renkei-xl server, Remote.bas plus the master's RenkeiServer.bas (see test_server).
CLIENT_ACTIONS = {"setValues", "sheetClearContents", "setRangeColor", "addHyperlink",
                  "setNumberFormat", "alert", "addSheet"}

Rect = tuple[int, int, int, int]
SIDES = ("top", "bottom", "left", "right")
LOOK_KEYS = ("font_name", "font_size", "bold", "font_color", "underline", "fill", "border",
             "h_align", "v_align", "wrap", "number_format", "border_color", "locked")
_LOOK_DEFAULTS = {"bold": False, "underline": False, "border": False, "wrap": False, "locked": True}


def look_attrs(look) -> dict:
    """A core Look as the readers below report a cell: the border colour only where there
    is a border."""
    out = look._asdict()
    if not out["border"]:
        out["border_color"] = None
    return out
MAX_MODELLED_CELLS = 2_000_000


class DateSerial(float):
    """The number a date- or time-formatted cell holds in the file, as Excel holds it (see
    ``saved_book(serials=True)``): openpyxl's own date reading cannot tell serial 59 from
    serial 60 (both 1900-02-28), nor a time of day from the serial 0 of a date cell."""


# What Excel hands a client for such a cell: a date counted in OLE Automation's days (day 0
# is 1899-12-30, one day lower than Excel's own serials before 1 March 1900). Beyond
# 9999-12-31 no Date exists, and Range.Value is the Double.
OLE_EPOCH, LAST_DATE_SERIAL = dt.datetime(1899, 12, 30), 2958466
FIRST_PYTHON_SERIAL = -693593      # 0001-01-01, the first day a Python datetime holds


# Days from 1899-12-30 to 1904-01-01: a book that counts its dates from 1904 (workbookPr
# date1904, 「1904 年から計算する」, the old Mac default) holds serial 0 for 1904-01-01.
DAYS_1904 = 1462


def client_date(serial: float, client: str, date1904: bool = False) -> object:
    """The JSON value the client sends for a date- or time-formatted cell holding ``serial``.

    ``date1904``: the book counts from 1904. Range.Value is a VBA Date, the day Excel shows,
    whichever system the book counts in (Excel converts), so the VBA client sends the
    serial's day counted from 1904-01-01; xlwings' Office.js client reads Range.values, the
    stored number, and counts it from 1899-12-30 as for any book (xlwings.ts): 4 years and a
    day early, what it sends.

    Remote.bas sends Range.Value, a VBA Date for such a cell; VBA-Web's ConvertToIso writes
    it with Format$(d, "yyyy-mm-ddTHH:mm:ss.000Z"): whole seconds. Excel's dates run from
    serial 0 to 9999-12-31; outside them the cell shows ##### and Range.Value is the
    Double, below 0 as beyond the last date (assumed from Excel's having no date there:
    no Excel runs here to measure it). xlwings' Office.js client computes
    ``new Date(Math.round((value - 25569) * 86400 * 1000)).toISOString()`` for every number
    in a Date or Time category (xlwings.ts): milliseconds, the same day count, plain
    arithmetic below 0; a serial before year 1 (which that client could not send either:
    toISOString raises past ±10^8 days) is sent as the number here."""
    if client == VBA and date1904:
        if not serial < LAST_DATE_SERIAL - DAYS_1904 or serial < 0:
            return float(serial)       # ##### in Excel: no Date, the Double
        serial = serial + DAYS_1904
    if not serial < LAST_DATE_SERIAL or (client == VBA and serial < 0) or serial < FIRST_PYTHON_SERIAL:
        return float(serial)
    if client == VBA:
        days = math.trunc(serial)
        seconds = round(abs(serial - days) * 86400)
        # whole seconds, never past the last second a Date holds (9999-12-31 23:59:59)
        when = min(OLE_EPOCH + dt.timedelta(days=days, seconds=seconds - 1), dt.datetime(9999, 12, 31, 23, 59, 58)) \
            + dt.timedelta(seconds=1)
        return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    when = OLE_EPOCH + dt.timedelta(milliseconds=round(serial * 86400 * 1000))
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _json_value(value, client: str, date1904: bool = False):
    """A cell's value as the client writes it into the payload (``date1904``: client_date).
    An empty cell: Office.js' Range.values gives "", the VBA client's Range.Value gives
    Empty, which VBA-Web's ConvertToJson writes as null in an array (json_IsUndefined)."""
    if value is None:
        return None if client == VBA else ""
    if isinstance(value, DateSerial):
        return client_date(value, client, date1904)
    if isinstance(value, (dt.datetime, dt.date, dt.time, dt.timedelta)):
        from openpyxl.utils.datetime import to_excel

        return client_date(to_excel(value), client)
    return value


# Which formats make Range.Value a VBA Currency, and how it rounds: the product's one rule
# (renkei_xl.core.currency), which the server undoes with the saved master.
currency_format, vba_currency = is_currency_format, vba_currency


def _cell_json(cell, client: str, date1904: bool):
    """A cell's value as the client sends it: a number in a Currency- or Accounting-formatted
    cell through VBA's Currency for the VBA client (Range.Value); Office.js' Range.values is
    the stored Double."""
    value = cell.value
    if (client == VBA and type(value) in (int, float) and cell.data_type == "n"
            and currency_format(cell.number_format)):
        return vba_currency(value)
    return _json_value(value, client, date1904)


def _tables(ws) -> list[dict]:
    """The sheet's tables (ListObjects) as both clients list them: Remote.bas sends each one's
    Name (what Excel shows, the part's displayName) and Range.Address, absolute."""
    out = []
    for table in ws.tables.values():
        first, _, last = table.ref.partition(":")
        absolute = ":".join(re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", p) for p in (first, last or first))
        out.append({"name": table.displayName, "range_address": absolute, "show_headers": True,
                    "show_totals": bool(table.totalsRowCount)})
    return out


def payload_from_file(path: Path, *, client: str, name: str | None = None,
                      in_front: bool = True, uncalculated: Optional[dict] = None,
                      entry: Optional[str] = None) -> dict:
    """The payload an xlwings client would send for the workbook ``path`` (saved values).

    ``client``: VBA (Remote.bas, what every button of the product is) or OFFICE_JS, which no
    button is: stated by each caller, as what the model checks differs (module docstring); a
    button's click as the server hands it is ``click_payload``.
    ``in_front``: whether the master is the active workbook when the button's macro runs
    (False: staff ran it from the macro list or the toolbar with another book in front).
    ``uncalculated``: {sheet: {"A1": value}}, what formula cells show with calculation set to
    manual where the saved (calculated) values differ; a VBA client sends them unless the
    master's VBA calculates first.
    ``entry``: the button clicked, as Renkei.bas names it ("split"; None: any, taken as one
    that writes into the book): a master's VBA may stop only some buttons (shared_refused_to).
    A VBA client's master may stop before sending (ClientStopped), or send another book
    (SentOtherBook), as its RenkeiServer.bas does (``before_sending``); a group of sheets
    and a shared workbook it does not deal with are the model's to refuse (``_excel``).

    The book is read with ``payload_book`` (the cached formula results, as Excel shows
    them); with ``PAYLOAD_BOTH_WAYS`` set in the environment, the payload is built from
    openpyxl's normal load too (``saved_book``) and the two must be the same, types included."""
    path = Path(path)
    kwargs = dict(name=name, client=client, in_front=in_front, uncalculated=uncalculated, entry=entry)
    if not os.environ.get(PAYLOAD_BOTH_WAYS):
        return _json_payload(_payload_of(path, lambda: payload_book(path), **kwargs))
    built = [_outcome(lambda: _payload_of(path, lambda: book, **kwargs))
             for book in (payload_book(path), saved_book(path, data_only=True))]
    difference = _first_difference(*built)
    assert difference is None, f"{path}: payload_book and saved_book differ at {difference}"
    if isinstance(built[0], BaseException):
        raise built[0]
    return _json_payload(built[0])


def click_payload(path: Path, *, saved: Optional[Path] = None, **kwargs) -> dict:
    """A button's click on the open book ``path`` as the renkei-xl server hands it to the
    button: the VBA client's payload (Remote.bas; every button of the product is one) with what
    the server's admission adds (server.app._admitted): the mark of a master carrying
    RenkeiServer.bas (X-Renkei-Client, so the looks it has Subs for are sent), the saved master
    standing in for what the payload does not carry (``saved``, the file itself unless staff
    changed the open book since the save), and the headers the master's VBA sends, parsed by the
    server's own readers. ``kwargs``: payload_from_file's."""
    from renkei_xl.excel.book import OTHER_TABS_KEY, RENKEI_CLIENT_KEY, SAVED_MASTER_KEY
    from renkei_xl.server.sheet_positions import other_tabs

    payload = admitted_percents(payload_from_file(path, client=VBA, **kwargs))
    if (named := other_tabs(tabs_header_of(payload))) is not None:
        payload[OTHER_TABS_KEY] = named
    payload.update({RENKEI_CLIENT_KEY: True, SAVED_MASTER_KEY: str(saved or path)})
    return payload


# Set (to anything) in the environment: every payload is built from both readings of the
# file and they are compared (payload_from_file).
PAYLOAD_BOTH_WAYS = "RENKEI_TEST_PAYLOAD_BOTH_WAYS"


def _outcome(build):
    """What ``build()`` returns, or the AssertionError it raises (a refusal of the model's)."""
    try:
        return build()
    except AssertionError as error:
        return error


def _first_difference(a, b, where: str = "") -> Optional[str]:
    """Where two payloads (or their refusals) first differ: deep ==, the types too (a
    DateSerial is not a float, True is not 1); None if nowhere."""
    if type(a) is not type(b):
        return f"{where or '.'}: {type(a).__name__} {a!r} != {type(b).__name__} {b!r}"
    if isinstance(a, BaseException):
        return None if str(a) == str(b) else f"{where or '.'}: {a} != {b}"
    if isinstance(a, dict):
        if list(a) != list(b):
            return f"{where or '.'}: keys {list(a)} != {list(b)}"
        return next((d for k in a if (d := _first_difference(a[k], b[k], f"{where}[{k!r}]"))), None)
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return f"{where or '.'}: {len(a)} items != {len(b)}"
        return next((d for i, (x, y) in enumerate(zip(a, b)) if (d := _first_difference(x, y, f"{where}[{i}]"))), None)
    if a != b and not (isinstance(a, float) and math.isnan(a) and math.isnan(b)):
        return f"{where or '.'}: {a!r} != {b!r}"
    return None


def _json_payload(payload: dict) -> dict:
    return json.loads(json.dumps(payload, ensure_ascii=False))  # what arrives is JSON


def _sheet_values(ws, client: str, date1904: bool = False) -> list[list]:
    """The sheet's values from A1 to its used range's last cell, as the client writes them
    ([[]] for an empty sheet), read from the cells the workbook holds (an openpyxl
    workbook's or ``payload_book``'s) without making the missing ones."""
    cells = ws._cells
    height, width = ws.max_row, ws.max_column
    if height == 1 and width == 1 and getattr(cells.get((1, 1)), "value", None) is None:
        return [[]]
    if client == VBA and (ws.min_row, ws.min_column) == (height, width) and cells[(height, width)].value is None:
        # Remote.bas: IsEmpty(UsedRange.Value), a used range of one empty cell (a styled one,
        # C5 say, wherever it is) sends Array(Array()), not the rows from A1 down to it
        return [[]]
    get, blank = cells.get, _json_value(None, client)
    rows = []
    for r in range(1, height + 1):
        row = []
        for col in range(1, width + 1):
            cell = get((r, col))
            row.append(blank if cell is None else _cell_json(cell, client, date1904))
        rows.append(row)
    return rows


def _payload_of(path: Path, load, *, name: str | None, client: str, in_front: bool,
                uncalculated: Optional[dict], entry: Optional[str]) -> dict:
    """payload_from_file's payload from the workbook ``load()`` reads from ``path``, before
    JSON (loaded once the client has not stopped first)."""
    _VBA_WITHIN_PAYLOAD.clear()
    _VBA_WITHIN_PAYLOAD["path"] = str(path)
    try:
        return _payload_within(path, load, name=name, client=client, in_front=in_front, uncalculated=uncalculated,
                               entry=entry)
    finally:
        _VBA_WITHIN_PAYLOAD.clear()


def file_under_merges(path: Path) -> dict[str, dict[tuple[int, int], object]]:
    """Per sheet, the cells under a merged area's hidden part (every cell but its top-left
    one) that hold a value in the saved file, each as its ``_Held`` (value, data_type).

    openpyxl blanks them on load (MergedCell has no value), but Excel keeps such a value
    (a file written by another tool, cells merged with the format painter, a merge made
    with its alert off keeps them too) and reports it: Range.Value of the sheet's range,
    which both clients send, is every cell's own value. Read from the sheet's XML
    (``payload_book``), whichever way the payload's workbook was loaded."""
    return {ws.title: getattr(ws, "_under_merges", {}) for ws in payload_book(path).worksheets}


def _payload_within(path: Path, load, *, name: str | None, client: str, in_front: bool,
                    uncalculated: Optional[dict], entry: Optional[str]) -> dict:
    done = before_sending(path) if client == VBA else {}
    shared = client == VBA and file_shared(path)
    if shared and "shared" in done:
        refused = shared_refused_to(path)
        if refused is None or entry is None or entry in refused:
            raise ClientStopped("shared", done["shared"])
    if client == VBA and not in_front and "front" not in done:
        raise SentOtherBook(f"{path.name} was not in front: Remote.bas sends the book that is")
    if client == VBA:
        # Names.Count: every definedName, print areas and titles too, counted by
        # RenkeiServer.bas' RenkeiUncountable before anything is read or sent, so before the
        # book is loaded here: 32,767 names took openpyxl a second to read and walk.
        with zipfile.ZipFile(path) as z:
            named = len(re.findall(rb"<(?:\w+:)?definedName[\s>]", z.read("xl/workbook.xml")))
        if named > VBA_MAX_ITEMS:
            raise ClientRefused("", names=named)
    wb = load()
    grouped = file_grouped(wb) if client == VBA and "ungroup" not in done else []
    charts = file_charts(path)      # Office.js lists them; for Remote.bas, the model's facts
    under_merges = file_under_merges(path)
    date1904 = wb.epoch == CALENDAR_MAC_1904     # openpyxl's reading of workbookPr/@date1904
    unsent = file_unsent_tabs(path)
    worksheets = [ws for ws in wb.worksheets if ws.title not in unsent]     # Excel's wb.Worksheets
    sheets = []
    for ws in worksheets:
        values = _sheet_values(ws, client, date1904)
        for (r, col), held in under_merges.get(ws.title, {}).items():
            values[r - 1][col - 1] = _cell_json(held, client, date1904)
        if client == VBA and "calculate" not in done:
            for ref, shown in (uncalculated or {}).get(ws.title, {}).items():
                r, col = parse_ref(ref)
                values[r - 1][col - 1] = _json_value(shown, client, date1904)
        sheet = {"name": ws.title, "values": values, "pictures": [], "tables": _tables(ws)}
        if client == OFFICE_JS:
            sheet["charts"] = [{"name": n} for n in charts.get(ws.title, [])]
        sheets.append(sheet)
    names = []
    # openpyxl's DefinedName.destinations is its RefersTo text tokenized twice (its type,
    # then its ranges): kept per text here, as a book of names copied along with sheets
    # holds thousands of the same text (1.8 s of a 32,766-name book's payload).
    destinations: dict[str, Optional[list]] = {}
    sheetnames = wb.sheetnames          # a list openpyxl makes anew at each ask

    def add(defined, book_scope, scope_ws=None):
        text = defined.value
        if text not in destinations:
            try:
                destinations[text] = list(defined.destinations)
            except Exception:
                destinations[text] = None
        dests = destinations[text]
        if dests is None:
            return
        if len(dests) != 1:
            return
        sheet, ref = dests[0]
        sheet = sheet.replace("''", "'")     # openpyxl leaves a quoted name's doubled ' as it is
        if sheet not in sheetnames or not _A1_RANGE.fullmatch(ref):
            return      # Remote.bas sends only names whose RefersToRange is a range (not =設定!#REF!)
        names.append({"name": defined.name, "sheet_index": sheetnames.index(sheet),
                      "address": ref.replace("$", ""), "book_scope": book_scope,
                      "scope_sheet_name": scope_ws.title if scope_ws else None,
                      "scope_sheet_index": sheetnames.index(scope_ws.title) if scope_ws else None})

    for defined in wb.defined_names.values():
        add(defined, True)
    for ws in worksheets:
        for defined in ws.defined_names.values():
            add(defined, False, ws)
    unsendable = []
    if client == VBA:
        shapes = file_shape_counts(path)
        for ws in worksheets:
            if ws.max_row > VBA_LAST_ROW or ws.max_column > VBA_LAST_ROW:
                raise ClientRefused(ws.title, ws.max_row, ws.max_column)
            if shapes.get(ws.title, 0) > VBA_MAX_ITEMS:
                raise ClientRefused(ws.title, shapes=shapes[ws.title])
        unsendable = _unsendable_errors(wb, sheets, under_merges)
    payload = {"client": client, "version": xw.__version__,
               "book": {"name": name or path.name, "active_sheet_index": file_shown_index(path), "selection": "A1"},
               "names": names, "sheets": sheets}
    # The Office.js payload stands for a client with every action (the desktop engines,
    # which lift protection through COM; modelled by the same lifting action).
    subs = vba_subs(path) if client == VBA else sorted(KNOWN_ACTIONS)
    payload[EXCEL_KEY] = {"protection": file_protection(path, wb), "subs": subs, "unsendable": unsendable,
                          "merges": file_merged_areas(wb),
                          "arrays": file_array_formulas(path),
                          "data_tables": file_data_tables(path),
                          "text_formats": file_text_formats(wb),
                          "structure": bool(wb.security is not None and wb.security.lockStructure),
                          "hidden": [ws.title for ws in worksheets if ws.sheet_state != "visible"],
                          # the columns' widths and hidden columns, which Clear All leaves as they are
                          "widths": {ws.title: sorted(w.items()) for ws in worksheets if (w := _widths_of(ws))},
                          "hidden_cols": {ws.title: sorted(h) for ws in worksheets if (h := _hidden_cols_of(ws))},
                          # what the VBA client leaves as staff had it when it sends (before_sending)
                          "grouped": grouped, "shared": shared,
                          "freeze_leaves_hidden": client == VBA and freeze_leaves_hidden_sheets(path),
                          "page_layout": file_page_layout(wb) if client == VBA else [],
                          "freeze_leaves_page_layout": client == VBA and freeze_leaves_page_layout(path),
                          "refuses_unsaved_protection": client == VBA and refuses_unsaved_protection(path),
                          "staff_events": staff_events(path) if client == VBA else [],
                          "events_off": client == VBA and events_off(path),
                          # the master's RenkeiCallServer turns Esc off while it replays; a test
                          # may press it before an action ("escape_at": the action's index)
                          "cancel_key_off": client == VBA and cancel_key_off(path),
                          # the master's check of the cells the click writes (client 8 on)
                          "written_check": written_check(path) if client == VBA else None,
                          # the master's renkeiSetText gives a cell not Text the prefix (qa-client63)
                          "set_text_checks_format": client == VBA and set_text_checks_format(path),
                          "page_setup_arguments": page_setup_arguments(path) if client == VBA else {},
                          "footers": file_footers(path) if client == VBA else {},
                          # RenkeiServer.bas' X-Renkei-Chart-Sheets, where the master's VBA sends it
                          "chart_sheets": _chart_sheets(path, wb, worksheets, unsent)
                          if client == VBA and sends_chart_sheets(path) else None,
                          # the tabs Worksheets leaves out, in tab order: Excel's names, every
                          # tab's (addSheet); a test may add one made since the save (tab_made_since_save)
                          "other_tabs": list(unsent),
                          "charts": {sheet: [{"name": n} for n in names] for sheet, names in charts.items() if names},
                          # and whether the master's VBA names them (X-Renkei-Tabs, tabs_header_of)
                          "tabs_sent": client == VBA and sends_tabs(path),
                          # RenkeiServer.bas' X-Renkei-Percents, where the master's VBA sends it:
                          # the cells whose number format has a percent sign (``percent_header_of``)
                          "percent_formats": file_percent_formats(worksheets)
                          if client == VBA and sends_percents(path) else None,
                          # and the other formats of the cells holding a number, which decide
                          # the cells RenkeiPercents reads one by one (its bounds)
                          "number_formats": file_number_formats(worksheets)
                          if client == VBA and sends_percents(path) else None,
                          # RenkeiServer.bas' X-Renkei-Currency, where the master's VBA sends it:
                          # the numbers of the Currency-formatted cells as stored (Value2)
                          "currency_numbers": file_currency_numbers(worksheets, under_merges)
                          if client == VBA and sends_currency(path) else None}
    payload[EXCEL_KEY].update(file_cell_formats(path, worksheets))
    payload[EXCEL_KEY]["links"] = file_link_counts(path)
    return payload


# The fewest bytes one <hyperlink ref="A1"/> takes in a sheet's XML: a part smaller than
# MAX_HYPERLINKS of them cannot hold the limit, and is not read for its links.
_LINK_BYTES = 20


def file_link_counts(path: Path) -> dict[str, int]:
    """Hyperlinks per worksheet in the saved file (its <hyperlink> elements), for the sheets
    whose XML is large enough to hold MAX_HYPERLINKS of them: what Hyperlinks.Count is when
    the book opens, where it matters to the model's limit."""
    out: dict[str, int] = {}
    with zipfile.ZipFile(path) as z:
        sizes = {info.filename: info.file_size for info in z.infolist()}
        book_rels = _rels(z, "xl/workbook.xml")
        for sheet in ET.fromstring(z.read("xl/workbook.xml")).find("m:sheets", _NS):
            part = book_rels.get(sheet.get(f"{{{_NS['r']}}}id"))
            if sizes.get(part, 0) < MAX_HYPERLINKS * _LINK_BYTES:
                continue
            count = len(re.findall(rb"<(?:\w+:)?hyperlink[\s/>]", z.read(part)))
            if count:
                out[sheet.get("name")] = count
    return out


def file_cell_formats(path: Path, worksheets) -> dict:
    """The book's cell formats as Excel counts them ("cell_formats", package.styles), and for a
    book within FORMATS_NEAR of the limit the looks its cells hold ("held_looks", as
    ``_look_key`` spells them): what Excel need not add again."""
    import zipfile

    from renkei_xl.core.looks import MAX_CELL_FORMATS
    from renkei_xl.package.xml import PackageError

    try:
        with zipfile.ZipFile(path) as z:
            part = z.read("xl/styles.xml")
        have = styles_cell_formats(part)
    except (KeyError, ValueError, PackageError, zipfile.BadZipFile):    # no such part where the tests' books name it
        return {}
    if have < MAX_CELL_FORMATS - FORMATS_NEAR:
        return {"cell_formats": have}
    held = {_look_key(look) for ws in worksheets for look in file_looks(path, ws.title).values()}
    return {"cell_formats": have, "held_looks": sorted(held, key=repr)}


def styles_cell_formats(part: bytes) -> int:
    """The cell formats of a styles part as Excel counts them (package.styles.Styles.
    cell_formats), kept per content: what a payload's model counts from, and what a test
    that builds a book near the limit checks it built (test_excel_limits' _with_cell_formats),
    the 65,000 formats parsed once for both, and once with the product's readers of the same
    bytes in this process (package.styles.read_styles)."""
    from renkei_xl.package.styles import read_styles

    return _recalled(_CELL_FORMATS, hashlib.sha256(part).digest(),
                     lambda: read_styles(part, "xl/styles.xml").cell_formats()[0], limit=8)


# styles part's digest -> its cell formats as Excel counts them: a master near the limit
# (test_excel_limits) took a second to parse for each payload made of it
_CELL_FORMATS: dict[bytes, int] = {}


def _look_key(look: dict) -> tuple:
    return tuple(sorted(look.items()))


def file_unsent_tabs(path: Path) -> dict[str, str]:
    """The tabs that are not worksheets to Excel, name -> kind ("chartsheet", "dialogsheet",
    "xlMacrosheet", "xlIntlMacrosheet"), by the workbook's relationship types. Remote.bas sends
    ``wb.Worksheets``, which holds none of them: an Excel 4.0 macro sheet is a Worksheet object
    (TypeName "Worksheet", Type xlExcel4MacroSheet) that Worksheets leaves out (documented:
    "This property doesn't return macro sheets"). openpyxl reads a macro or dialog sheet as a
    worksheet; Excel's Worksheets does not."""
    out = {}
    with zipfile.ZipFile(path) as z:
        kinds = {}
        rels_part = "xl/_rels/workbook.xml.rels"
        if rels_part in z.namelist():
            for rel in ET.fromstring(z.read(rels_part)).findall("rel:Relationship", _NS):
                kinds[rel.get("Id")] = rel.get("Type", "").rpartition("/")[2]
        for sheet in ET.fromstring(z.read("xl/workbook.xml")).find("m:sheets", _NS):
            kind = kinds.get(sheet.get(f"{{{_NS['r']}}}id"), "worksheet")
            if kind != "worksheet":
                out[sheet.get("name")] = kind
    return out


# The kinds of tab whose TypeName is "Worksheet" though Worksheets leaves them out: a master's
# RenkeiChartSheets that tells sheets apart by TypeName does not list them (lists_every_unsent_tab).
MACRO_SHEETS = frozenset({"xlMacrosheet", "xlIntlMacrosheet"})


@_read_from_vba
def lists_every_unsent_tab(codes: tuple[str, ...]) -> bool:
    """Whether the file's RenkeiChartSheets lists every tab Worksheets leaves out (matching the
    tabs against Worksheets), not only those whose TypeName is not "Worksheet"."""
    for code in codes:
        body = re.search(r"^Function RenkeiChartSheets\(.*?^End Function", code, re.MULTILINE | re.DOTALL)
        if body:
            return "wb.Worksheets(sent).Name = wb.Sheets(i).Name" in body.group(0)
    return False


@_read_from_vba
def sends_chart_sheets(codes: tuple[str, ...]) -> bool:
    """Whether the file's RenkeiServer.bas sends the chart sheets' tab positions."""
    return any(re.search(r'headers\.Add "X-Renkei-Chart-Sheets", RenkeiChartSheets\(', code)
               for code in codes)


def _chart_sheets(path: Path, wb, worksheets: list, unsent: dict[str, str]) -> list[int]:
    """RenkeiChartSheets' tab positions: every tab not among the worksheets sent, but the macro
    sheets where the master's VBA tells the tabs apart by TypeName."""
    every = lists_every_unsent_tab(path)
    sent = {ws.title for ws in worksheets}
    return [i for i, n in enumerate(wb.sheetnames)
            if n not in sent and (every or unsent.get(n) not in MACRO_SHEETS)]


@_read_from_vba
def sends_tabs(codes: tuple[str, ...]) -> bool:
    """Whether the file's RenkeiServer.bas names the tabs that are not worksheets (X-Renkei-Tabs,
    client version 10 on), from RenkeiChartSheets' walk."""
    return any(re.search(r'headers\.Add "X-Renkei-Chart-Sheets", RenkeiChartSheets\(wb, tabs\)\s+'
                         r'headers\.Add "X-Renkei-Tabs", tabs\b', code) for code in codes)


# RenkeiServer.bas' TABS_MAX, TABS_OVERFLOW and TABS_VERSION.
TABS_MAX, TABS_OVERFLOW, TABS_VERSION = 1000, "+", "1"


def tabs_header_of(payload: dict) -> Optional[str]:
    """X-Renkei-Tabs as RenkeiChartSheets and RenkeiTabsAdd write it from the open book the
    payload stands for (None: the master's VBA does not send it): TABS_VERSION, then ";" and each
    tab's name that Worksheets leaves out, in tab order, as UTF-16 hex; TABS_OVERFLOW once the
    whole would pass TABS_MAX characters."""
    excel = payload.get(EXCEL_KEY, {})
    if not excel.get("tabs_sent"):
        return None
    out = TABS_VERSION
    for name in excel.get("other_tabs", ()):
        if out != TABS_OVERFLOW:
            out += ";" + _utf16_hex(name)
        if len(out) > TABS_MAX:
            out = TABS_OVERFLOW
    return out


def tab_made_since_save(payload: dict, name: str) -> dict:
    """The payload of the open book after staff made a chart sheet ``name`` as its last tab since
    the save (「グラフの移動」→「新しいシート」, then renamed): Remote.bas sends no more of it than
    before, RenkeiChartSheets counts its position and names it where the master's VBA does, and
    Excel holds its name (addSheet of it is 1004). In place; returned."""
    excel = payload[EXCEL_KEY]
    excel["other_tabs"] = [*excel.get("other_tabs", ()), name]
    if excel.get("chart_sheets") is not None:
        excel["chart_sheets"] = [*excel["chart_sheets"], len(payload["sheets"]) + len(excel["other_tabs"]) - 1]
    return payload


def client_headers(payload: dict) -> dict:
    """The headers of ours that the payload's client sends beside the body (the rest are
    the test server's own: key, client, master)."""
    charts = payload.get(EXCEL_KEY, {}).get("chart_sheets")
    out = {} if charts is None else {"X-Renkei-Chart-Sheets": ",".join(map(str, charts))}
    tabs = tabs_header_of(payload)
    if tabs is not None:
        out["X-Renkei-Tabs"] = tabs
    percents = percent_header_of(payload)
    if percents is not None:
        out["X-Renkei-Percents"] = percents
    exact = currency_header_of(payload)
    if exact is not None:
        out["X-Renkei-Currency"] = exact
    return out


@_read_from_vba
def sends_percents(codes: tuple[str, ...]) -> bool:
    """Whether the file's RenkeiServer.bas sends X-Renkei-Percents (client version 7 on)."""
    return any(re.search(r'headers\.Add "X-Renkei-Percents", RenkeiPercents\(', code) for code in codes)


def file_percent_formats(worksheets) -> dict[str, dict[str, str]]:
    """Per sheet, "A1" -> number format of every cell whose format holds a percent sign,
    whatever it holds (a number, a text, nothing): what Excel knows of the open book's cells
    beside their values. Kept in the model's facts so that an edit modelled since the save
    (``typed_since_save``) changes the format as Excel does, and ``percent_header_of`` then
    says what RenkeiPercents would."""
    out = {}
    for ws in worksheets:
        found = {f"{column_letter(col)}{row}": cell.number_format for (row, col), cell in ws._cells.items()
                 if "%" in (cell.number_format or "")}
        if found:
            out[ws.title] = found
    return out


def file_number_formats(worksheets) -> dict[str, dict[str, str]]:
    """Per sheet, "A1" -> number format of every cell holding a number whose format is neither
    標準 nor one with a percent sign (those are in ``file_percent_formats``): with them the model
    knows which runs of numbers RenkeiPercents finds in mixed formats and reads cell by cell."""
    out = {}
    for ws in worksheets:
        found = {f"{column_letter(col)}{row}": cell.number_format for (row, col), cell in ws._cells.items()
                 if type(cell.value) in (int, float) and cell.number_format not in (None, "General")
                 and "%" not in cell.number_format}
        if found:
            out[ws.title] = found
    return out


@_read_from_vba
def sends_currency(codes: tuple[str, ...]) -> bool:
    """Whether the file's RenkeiServer.bas sends X-Renkei-Currency (client version 9 on)."""
    return any(re.search(r'headers\.Add "X-Renkei-Currency", ', code) for code in codes)


_is_currency_code = functools.lru_cache(maxsize=None)(currency_format)     # a book has few formats, many cells


def file_currency_numbers(worksheets, under_merges: dict) -> dict[str, dict[str, float]]:
    """Per sheet, "A1" -> the number as stored (Range.Value2) of every cell holding a number in a
    Currency or Accounting format (``currency_format``), under a merge's hidden part too: what
    the open book holds where the payload has Range.Value, VBA's Currency. Kept in the model's
    facts so that a number typed since the save (``typed_since_save``) is modelled as Excel
    holds it, and ``currency_header_of`` says what RenkeiCurrency would."""
    out = {}
    for ws in worksheets:
        cells = {**ws._cells, **under_merges.get(ws.title, {})}
        found = {f"{column_letter(col)}{row}": cell.value for (row, col), cell in cells.items()
                 if type(cell.value) in (int, float) and getattr(cell, "data_type", "n") == "n"
                 and _is_currency_code(getattr(cell, "number_format", None))}
        if found:
            out[ws.title] = found
    return out


# RenkeiServer.bas' CURRENCY_MAX, CURRENCY_OVERFLOW, CURRENCY_VERSION and CURRENCY_UNKNOWN.
CURRENCY_MAX, CURRENCY_OVERFLOW, CURRENCY_VERSION, CURRENCY_UNKNOWN = 4000, "+", "1", "+"


def double_hex(value: float) -> str:
    """RenkeiDoubleHex: a Double's IEEE 754 bits as 16 hex digits, sign first."""
    import struct

    return struct.pack(">d", float(value)).hex().upper()


def currency_header_of(payload: dict) -> Optional[str]:
    """X-Renkei-Currency as RenkeiCurrency writes it from the open book the payload stands for
    (None: the master's VBA does not send it): per sheet sent, down each column from the left,
    "A1=" and the exact number's bits of each cell whose Range.Value is a Currency that is
    another number (``vba_currency``; past Currency's range Excel's Value is taken to be the
    Double, so none); a sheet whose part would not fit in what is left of CURRENCY_MAX as not
    known; CURRENCY_OVERFLOW when even that does not fit."""
    numbers = payload.get(EXCEL_KEY, {}).get("currency_numbers")
    if numbers is None:
        return None
    out = CURRENCY_VERSION
    for sheet in payload["sheets"] if isinstance(payload.get("sheets"), list) else ():
        held = numbers.get(sheet.get("name") if isinstance(sheet, dict) else None) or {}
        cells = sorted((parse_ref(ref)[1], parse_ref(ref)[0], value) for ref, value in held.items()
                       if type(value) in (int, float) and vba_currency(value) != value)
        if not cells:
            continue
        sheet_hex = _utf16_hex(sheet["name"])
        part = f";{sheet_hex}/" + ",".join(f"{column_letter(col)}{row}={double_hex(value)}" for col, row, value in cells)
        if len(part) > CURRENCY_MAX - len(out):
            part = f";{sheet_hex}/{CURRENCY_UNKNOWN}"
            if len(part) > CURRENCY_MAX - len(out):
                return CURRENCY_OVERFLOW
        out += part
    return out


# RenkeiServer.bas' PERCENTS_MAX, PERCENTS_OVERFLOW, PERCENTS_VERSION, PERCENTS_UNKNOWN and its
# bounds on the cells read one by one (PERCENTS_WALK_SHEET, PERCENTS_WALK_BOOK).
PERCENTS_MAX, PERCENTS_OVERFLOW, PERCENTS_VERSION, PERCENTS_UNKNOWN = 8000, "+", "2", "+"
PERCENTS_WALK_SHEET, PERCENTS_WALK_BOOK = 5000, 20000


def _utf16_hex(text: str) -> str:
    return text.encode("utf-16-be").hex().upper()


def percent_header_of(payload: dict) -> Optional[str]:
    """X-Renkei-Percents as RenkeiPercents writes it from the open book the payload stands
    for (None: the master's VBA does not send it): per sheet sent, per format holding a percent
    sign, the cells holding a number (the payload's numbers: no date, text, logical or empty
    cell), a column's consecutive numbers of one format as one block, in the order down each
    column; a sheet whose runs of numbers in mixed formats pass its bound of cells read one
    by one (or the book's) as not known; PERCENTS_OVERFLOW past PERCENTS_MAX characters."""
    formats = payload.get(EXCEL_KEY, {}).get("percent_formats")
    if formats is None:
        return None
    others = payload.get(EXCEL_KEY, {}).get("number_formats") or {}
    out, walked = PERCENTS_VERSION, 0
    for sheet in payload["sheets"] if isinstance(payload.get("sheets"), list) else ():
        values = sheet.get("values") if isinstance(sheet, dict) else None
        if not isinstance(values, list) or not all(isinstance(row, list) for row in values):
            continue        # a payload a test doctored: RenkeiPercents reads the book, not it
        held, other, sheet_hex = formats.get(sheet["name"], {}), others.get(sheet["name"], {}), _utf16_hex(sheet["name"])
        numbers = sorted((col, row) for row, cells in enumerate(values, 1) for col, value in enumerate(cells, 1)
                         if type(value) in (int, float))
        runs: list[list[tuple[int, str]]] = []        # runs of numbers down a column: [(row, format), ...]
        for col, row in numbers:
            ref = f"{column_letter(col)}{row}"
            cell = (row, held.get(ref) or other.get(ref, "General"))
            if runs and runs[-1][0][2] == col and runs[-1][-1][0] == row - 1:
                runs[-1].append((*cell, col))
            else:
                runs.append([(*cell, col)])
        by_format: dict[str, list[str]] = {}
        used, own, part = 0, 0, None
        for run in runs:
            if len({fmt for _, fmt, _ in run}) > 1:
                own, walked = own + len(run), walked + len(run)
                if own > PERCENTS_WALK_SHEET or walked > PERCENTS_WALK_BOOK:
                    part = f";{sheet_hex}/{PERCENTS_UNKNOWN}"
                    break
            start = 0
            for i in range(1, len(run) + 1):
                if i < len(run) and run[i][1] == run[start][1]:
                    continue
                fmt, col = run[start][1], run[start][2]
                if "%" in fmt:
                    first, last = f"{column_letter(col)}{run[start][0]}", f"{column_letter(col)}{run[i - 1][0]}"
                    ref = first if first == last else f"{first}:{last}"
                    used += len(ref) + 1 if fmt in by_format else len(sheet_hex) + 4 * len(fmt) + len(ref) + 3
                    by_format.setdefault(fmt, []).append(ref)
                start = i
            if used > PERCENTS_MAX - len(out):
                return PERCENTS_OVERFLOW
        if part is None:
            part = "".join(f";{sheet_hex}/{_utf16_hex(fmt)}/{','.join(refs)}" for fmt, refs in by_format.items())
        if len(part) > PERCENTS_MAX - len(out):
            return PERCENTS_OVERFLOW
        out += part
    return out


def with_unknown_sheets(header: Optional[str], sheets) -> Optional[str]:
    """``header`` as RenkeiPercents writes it when ``sheets`` could not be read (past its bounds
    of cells read one by one, or an error there): each sheet's part replaced by its
    PERCENTS_UNKNOWN part, where the sheet stands among the others."""
    if header is None or header == PERCENTS_OVERFLOW:
        return header
    version, *parts = header.split(";")
    unknown = {_utf16_hex(sheet) for sheet in sheets}
    kept = [part for part in parts if part.split("/")[0] not in unknown]
    return ";".join([version, *kept, *(f"{sheet}/{PERCENTS_UNKNOWN}" for sheet in sorted(unknown))])


def admitted_percents(payload: dict, unknown=()) -> dict:
    """The payload as the server's admission hands it to the click for the headers the client
    sends beside it (server.app._admitted): X-Renkei-Percents, parsed, under PERCENTS_KEY,
    the sheets ``unknown`` sent as not known (``with_unknown_sheets``); and X-Renkei-Currency,
    parsed, under CURRENCY_KEY (``currency_header_of``: client 9 on)."""
    from renkei_xl.excel.book import CURRENCY_KEY, PERCENTS_KEY
    from renkei_xl.server.currency_header import currency_header
    from renkei_xl.server.percent_header import percent_header

    out = {key: value for key, value in payload.items() if key not in (PERCENTS_KEY, CURRENCY_KEY)}
    said = percent_header(with_unknown_sheets(percent_header_of(payload), unknown))
    if said is not None:
        out[PERCENTS_KEY] = said
    exact = currency_header(currency_header_of(payload))
    if exact is not None:
        out[CURRENCY_KEY] = exact
    return out


def typed_since_save(payload: dict, sheet: str, ref: str, typed) -> None:
    """``typed`` entered into ``sheet!ref`` of the open book since its last save, as Excel's
    entry stores it: a text ending in % (「1500%」) is the number over 100 and gives the cell a
    percent format (0% or, with decimals, 0.00%) unless it has one; a number typed into a cell
    whose format is a percent is stored over 100 (Excel's automatic percent entry: 85 in a 0%
    cell is 0.85); anything else is stored as typed. The payload's value and the model's
    formats both change, as the book's do."""
    formats = payload[EXCEL_KEY].get("percent_formats")
    if formats is None:     # a master whose VBA sends no formats: the model did not read them
        formats = {}
    held = formats.get(sheet, {})
    row, col = parse_ref(ref)
    value = typed
    if isinstance(typed, str) and re.fullmatch(r"-?\d+(?:\.\d+)?%", typed):
        number = decimal.Decimal(typed[:-1]) / 100
        value = int(number) if number == int(number) else float(number)
        if ref not in held:
            formats.setdefault(sheet, {})[ref] = "0.00%" if "." in typed else "0%"
    elif type(typed) in (int, float) and ref in held:
        value = float(decimal.Decimal(repr(typed)) / 100)
    currency = (payload[EXCEL_KEY].get("currency_numbers") or {}).get(sheet, {})
    if ref in currency:         # a Currency-formatted cell: Value is VBA's Currency, Value2 the number
        if type(value) in (int, float):
            currency[ref] = value
            value = vba_currency(value)
        else:
            currency[ref] = None
    values = next(s for s in payload["sheets"] if s["name"] == sheet)["values"]
    while len(values) < row:
        values.append([None] * len(values[0]))
    for r in values:
        r.extend([None] * (col - len(r)))
    values[row - 1][col - 1] = value


# The error values VBA-Web's ConvertToJson (xlwings' WebHelpers.bas) writes; for any other
# it writes nothing, leaving a hole in the array: the body is then not JSON.
VBA_JSON_ERRORS = frozenset({"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!"})
_HOLE = "\ue001hole"


def _unsendable_errors(wb, sheets: list[dict], under_merges: dict) -> list[list]:
    """[sheet index, row, column] of each cell holding an error value (a cell of type
    "e", not text that looks like one) that xlwings' VBA client cannot write as JSON,
    under a merged area's hidden part too (``file_under_merges``)."""
    out = []
    for i, (ws, sheet) in enumerate(zip(wb.worksheets, sheets)):
        under = under_merges.get(ws.title, {})
        for r, row in enumerate(sheet["values"], start=1):
            for c, v in enumerate(row, start=1):
                if (isinstance(v, str) and v.startswith("#") and v not in VBA_JSON_ERRORS
                        and getattr(under.get((r, c)) or ws._cells.get((r, c)), "data_type", "n") == "e"):
                    out.append([i, r, c])
    return out


_A1_RANGE = re.compile(r"\$?[A-Z]{1,3}\$?\d+(:\$?[A-Z]{1,3}\$?\d+)?")
# VBA-Web's json_StringIsLargeNumber (xlwings' WebHelpers.bas): a text it writes without quotes.
_LARGE_NUMBER = re.compile(r"[.0-9Ee]{16,100}")
_BARE = "\ue001bare:"


def client_body(payload: dict) -> bytes:
    """The request body as the payload's client writes it. A VBA client leaves a hole for
    each error value it cannot write (``[1,,3]``; a one-column row becomes ``[]``), and
    writes a text of 16 to 100 characters of ``0-9 . E e`` bare, as if it were a number."""
    text = json.dumps(payload, ensure_ascii=False)
    if payload.get("client") != VBA:
        return text.encode("utf-8")
    body = _BODIES.get(text)
    if body is None:
        body = _vba_body(text)
        _kept(_BODIES, text, body, limit=8)
    return body


# client_body's VBA bodies by the payload's JSON text: tests post one payload again and again
# (test_server sends the server master's unchanged some two hundred times), and the walk over
# every cell was four times the JSON text it is a function of.
_BODIES: dict[str, bytes] = {}


def _vba_body(text: str) -> bytes:
    copy = json.loads(text)
    holes = copy.get(EXCEL_KEY, {}).get("unsendable") or []
    for i, r, c in holes:
        copy["sheets"][i]["values"][r - 1][c - 1] = _HOLE
    for sheet in copy.get("sheets") if isinstance(copy.get("sheets"), list) else []:
        values = sheet.get("values") if isinstance(sheet, dict) else None
        for row in values if isinstance(values, list) else []:
            for k, v in enumerate(row if isinstance(row, list) else []):
                if isinstance(v, str) and _LARGE_NUMBER.fullmatch(v):
                    row[k] = _BARE + v
                elif isinstance(v, float) and math.isfinite(v):
                    row[k] = _BARE + format(v, ".15g")   # a Double through CStr: 15 significant digits
    text = json.dumps(copy, ensure_ascii=False).replace(json.dumps(_HOLE, ensure_ascii=False), "")
    return re.sub('"' + _BARE + r'([-+.0-9Ee]+)"', r"\1", text).encode("utf-8")


def payload_after(payload: dict, applied: "Applied") -> dict:
    """The payload the client would send next time, from the workbook as ``applied`` left it
    (charts as the model has them)."""
    after = json.loads(json.dumps(payload, ensure_ascii=False))
    sheets = []
    for s in applied.order:
        values = [[_json_value(v, payload["client"]) for v in row] for row in applied.rows(s)] or [[]]
        sheet = {"name": s, "values": values, "pictures": [], "tables": []}
        if payload["client"] == OFFICE_JS:
            sheet["charts"] = [{"name": ch["name"]} for ch in applied.charts.get(s, [])]
        sheets.append(sheet)
    after["sheets"] = sheets
    after[EXCEL_KEY] = {**payload[EXCEL_KEY], "protection": applied.protection,
                        "text_formats": _text_formats_json(applied.text_formats),
                        "footers": copy.deepcopy(applied.footers),
                        "merges": {sheet: sorted(rects) for sheet, rects in applied.merges.items() if rects},
                        "links": _links_after(applied),
                        "widths": {sheet: sorted(w.items()) for sheet in applied.order
                                   if (w := applied.sheet_widths(sheet))},
                        "hidden_cols": {sheet: sorted(h) for sheet, h in applied.hidden_cols.items() if h},
                        "charts": {sheet: [dict(ch) for ch in charts] for sheet, charts in applied.charts.items() if charts}}
    return after


def _links_after(applied: "Applied") -> dict[str, int]:
    """Each sheet's hyperlinks as ``applied`` left them: those the file held still, and the added."""
    counts = dict(applied.file_links)
    for sheet, _ref in applied.links:
        counts[sheet] = counts.get(sheet, 0) + 1
    return counts


def remote_book(payload: dict):
    """The payload opened on a remote-engine App of its own, as the server opens each click
    (server.app.run_button). ``xw.Book(json=...)`` opens it on xlwings' default App, into
    the book of an earlier payload of the same name, updating it in place: a cell equal to
    the earlier one's (False and 0, or -0.0) kept the earlier value."""
    from xlwings.pro._xlremote import App

    return xw.Book(impl=App(apps=None, add_book=False).books.open(json=copy.deepcopy(payload)))


def click_said(path: Path, button, client: str = VBA) -> str:
    """What a click of ``button`` (a function of renkei_xl.excel.buttons) on the saved
    workbook ``path`` says in its alerts, its actions replayed on the model of ``client``
    (VBA's, as the server's buttons are): the button face of a faces test in one call."""
    payload = payload_from_file(path, client=client)
    book = remote_book(payload)
    button(book)
    return "\n".join(a["prompt"] for a in apply_actions(payload, book.json()["actions"]).alerts)


# -------------------------------------------------------------------- the model

@dataclass
class Applied:
    """The workbook after the client replayed the actions.

    ``colors``, ``links`` and ``formats`` are keyed by (sheet, "A1") as the older tests use
    them; everything else is per sheet, cells as (row, col).
    """
    grids: dict[str, dict[tuple[int, int], object]]
    order: list[str]
    colors: dict[tuple[str, str], object] = field(default_factory=dict)
    links: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    formats: dict[tuple[str, str], str] = field(default_factory=dict)
    alerts: list[dict] = field(default_factory=list)
    cell_looks: dict[str, dict[tuple[int, int], dict]] = field(default_factory=dict)
    borders: dict[str, dict[tuple[int, int], dict[str, dict]]] = field(default_factory=dict)
    merges: dict[str, set[Rect]] = field(default_factory=dict)
    heights: dict[str, dict[int, float]] = field(default_factory=dict)
    widths: dict[str, dict[int, float]] = field(default_factory=dict)    # characters, as the actions set them
    # The widths the saved sheets' columns had (the file's unit), which Clear All leaves and an
    # action's width or autofit replaces: sheet_widths gives both.
    saved_widths: dict[str, dict[int, float]] = field(default_factory=dict)
    hidden_cols: dict[str, set[int]] = field(default_factory=dict)
    freeze: dict[str, Optional[tuple[int, int]]] = field(default_factory=dict)  # first scrolling cell
    print_area: dict[str, Optional[str]] = field(default_factory=dict)
    page_breaks: dict[str, list[int]] = field(default_factory=dict)
    # PageSetup's properties as renkeiPageSetup set them (COM's names and values), per sheet
    page_setup: dict[str, dict[str, object]] = field(default_factory=dict)
    page_setup_arguments: dict[str, int] = field(default_factory=dict)   # property -> index (the Sub's)
    # Each sheet's odd pages' footer as its sections {"L", "C", "R"} (file_footers), as set
    footers: dict[str, dict[str, str]] = field(default_factory=dict)
    autofilter: dict[str, str] = field(default_factory=dict)    # the filter buttons' address ("" none)
    conditional: dict[str, list[tuple[str, str, str, str]]] = field(default_factory=dict)
    charts: dict[str, list[dict]] = field(default_factory=dict)
    # Protected sheets as in file_protection; ``lifted``/``protect_new`` while replaying.
    protection: dict[str, dict] = field(default_factory=dict)
    lifted: dict[str, dict] = field(default_factory=dict)
    protect_new: list[str] = field(default_factory=list)
    new_options: dict = field(default_factory=dict)   # how protect_new is protected (Protect's arguments)
    subs: frozenset = frozenset()
    structure: bool = False           # the book's structure is protected: no sheet can be added
    # The tabs Worksheets leaves out (chart, dialog, Excel 4.0 macro sheets): not sent, but their
    # names are the book's, and Excel names no added sheet as one of them (1004).
    other_tabs: frozenset = frozenset()
    # Sheets staff hid, which the VBA client cannot activate to freeze their panes, and whether
    # the master's RenkeiFreeze leaves them (freeze_leaves_hidden_sheets) or meets 1004.
    hidden: frozenset = frozenset()
    freeze_leaves_hidden: bool = False
    # Sheets saved in Page Layout view, whose panes the master's RenkeiFreeze leaves
    # (freeze_leaves_page_layout) or meets the model's 1004.
    page_layout: frozenset = frozenset()
    freeze_leaves_page_layout: bool = False
    # Whether the master's renkeiUnprotectSheets refuses a password or a protected structure
    # itself (refuses_unsaved_protection), or meets Excel's dialog and 1004.
    refuses_unsaved_protection: bool = False
    # Staff's event procedures the replay would run (staff_events), unless the master's
    # RenkeiCallServer turns events off first (events_off).
    staff_events: tuple = ()
    events_off: bool = False
    # Whether the master's RenkeiCallServer turns Esc off while it replays (cancel_key_off); else
    # Esc pressed before action ``escape_at`` (a test's) ends the replay there (CODE_ENDED).
    cancel_key_off: bool = False
    escape_at: Optional[int] = None
    # What the master's renkeiUnprotectSheets does with the cells the click writes (written_check):
    # None, nothing (a value into a merge, array or data table made since the save meets 1004).
    written_check: Optional[dict] = None
    # Whether the master's renkeiSetText gives the text prefix where the open book's cell is not
    # Text (set_text_checks_format); else it assigns the string as it is, read as typed there.
    set_text_checks_format: bool = False
    # Sheets staff grouped, which the VBA client sent grouped, and whether the book is a legacy
    # shared workbook (payload_from_file): Excel refuses protection and much else there.
    grouped: frozenset = frozenset()
    shared: bool = False
    request: Optional[str] = None     # the request number the server sent (renkeiRequest)
    # The sheet shown (None: a tab not sent, as a chart sheet): Excel's Sheets.Add shows the
    # sheet it adds (Remote.bas' addSheet, and the desktop engines' add), activateSheet another.
    shown: Optional[str] = None
    vba: bool = False                 # xlwings' VBA client replays (Remote.bas, the master's Subs)
    arrays: dict[str, list[Rect]] = field(default_factory=dict)   # array formulas' ranges, per sheet
    data_tables: dict[str, list[Rect]] = field(default_factory=dict)   # What-If data tables' results, per sheet
    # Where the number format is Text ("@"), per sheet, as file_text_formats gives it (cells
    # as {(r, c): is_text}, rows as a set, columns as (first, last)): there Excel keeps a
    # leading apostrophe as part of the value (``_excel_value``).
    text_formats: dict[str, dict] = field(default_factory=dict)
    # The book's cell formats as Excel counts them and the looks its cells hold, where the book
    # stands near the limit (file_cell_formats); None: not counted.
    cell_formats: Optional[int] = None
    held_looks: set = field(default_factory=set)
    # Hyperlinks each sheet held when it was sent (file_link_counts; only a sheet that could
    # hold MAX_HYPERLINKS is counted), until Clear All (sheetClear) removes them.
    file_links: dict[str, int] = field(default_factory=dict)

    def is_text_cell(self, sheet: str, row: int, col: int) -> bool:
        """Whether the cell's number format is Text: its own, else its row's, else its column's."""
        held = self.text_formats.get(sheet)
        if not held:
            return False
        if (row, col) in held["cells"]:
            return held["cells"][(row, col)]
        return row in held["rows"] or any(lo <= col <= hi for lo, hi in held["cols"])

    def rows(self, sheet: str) -> list[list[object]]:
        """The sheet as rows from A1, trailing empty rows and columns dropped."""
        cells = {k: v for k, v in self.grids[sheet].items() if v is not None}
        if not cells:
            return []
        height = max(r for r, _ in cells)
        width = max(c for _, c in cells)
        return [[cells.get((r, c)) for c in range(1, width + 1)] for r in range(1, height + 1)]

    def error_cells(self, sheet: str) -> set[tuple[int, int]]:
        """(row, column) of each cell a write left holding an error value (TypedError), not
        the text that looks like one: what ``file_error_cells`` reads from a saved file."""
        return {k for k, v in self.grids.get(sheet, {}).items() if isinstance(v, TypedError)}

    def value(self, sheet: str, ref: str):
        row, col = parse_ref(ref)
        return self.grids[sheet].get((row, col))

    def sheet_links(self, sheet: str) -> dict[tuple[int, int], str]:
        """Internal links of a sheet: cell -> "'sheet'!A1" (the address without its "#")."""
        return {parse_ref(ref): address[1:] if address.startswith("#") else address
                for (s, ref), (address, _text) in self.links.items() if s == sheet}

    def sheet_heights(self, sheet: str) -> dict[int, float]:
        return {r: round(h, 1) for r, h in self.heights.get(sheet, {}).items()}

    def sheet_widths(self, sheet: str) -> dict[int, float]:
        held = {**self.saved_widths.get(sheet, {}), **self.widths.get(sheet, {})}
        return {col: round(w, 1) for col, w in held.items()}

    def sheet_conditional(self, sheet: str) -> list[tuple[str, str, str, str]]:
        return sorted(self.conditional.get(sheet, []))

    def sheet_print_area(self, sheet: str) -> Optional[str]:
        """"A1:K90" (no $), as ``file_print_area``."""
        area = self.print_area.get(sheet)
        return area.split("!")[-1].replace("$", "") if area else None


def _vba_cint(piece: str) -> int:
    """VBA's CInt of a string, as far as the model needs it: a number rounded half to even,
    ValueError for anything else, OverflowError outside Integer."""
    piece = piece.strip().replace(",", "")
    if re.fullmatch(r"&[hH][0-9a-fA-F]+", piece):
        value = int(piece[2:], 16)
    else:
        value = round(float(piece.replace("d", "e").replace("D", "e")))
    if not -32_768 <= value <= 32_767:
        raise OverflowError(piece)
    return value


def _date_serial(year: int, month: int, day: int) -> dt.datetime:
    """VBA's DateSerial: years 0-29 are 2000s and 30-99 1900s; months and days roll over."""
    year += 2000 if 0 <= year < 30 else 1900 if 30 <= year < 100 else 0
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return dt.datetime(year, month, 1) + dt.timedelta(days=day - 1)


def excel_day(when: dt.datetime) -> object:
    """The cell Excel makes of a VBA Date assigned to it: its serial is the Date's OLE day,
    which before 1 March 1900 names the day before Excel's own (OLE day 15 is 1900-01-14,
    Excel's serial 15 is 1900-01-15): the day the file reader then reads (as client_date's
    reading the other way)."""
    if when >= dt.datetime(1900, 3, 1):
        return when
    from renkei_xl.core.contract_read import duration_as_read

    return duration_as_read(when - OLE_EPOCH)


def parse_iso(text: str) -> Optional[dt.datetime]:
    """What xlwings' WebHelpers.ParseIso gives Remote.bas' setValues for ``text`` (None: it
    raises, and setValues writes the string): the part before "T" split at "-", its first
    three pieces through CInt into DateSerial, then hours, minutes and seconds after "T"."""
    parts = text.split("T")
    try:
        when = _date_serial(*(_vba_cint(p) for p in parts[0].split("-")[:3]))
        if len(parts) > 1:
            clock = parts[1].replace("Z", "").split("+")[0].split("-")[0].split(":")
            when += dt.timedelta(hours=_vba_cint(clock[0]), minutes=_vba_cint(clock[1]) if len(clock) > 1 else 0,
                                 seconds=int(float(clock[2])) if len(clock) > 2 else 0)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    return when if 100 <= when.year <= 9999 else None


def vba_parsed(actions: list[dict]) -> list[dict]:
    """The actions as VBA-Web's JSON parser hands them to Remote.bas, from the body the server
    sends (server.limits.answer_json):
    - a number whose JSON text is 16 characters or more (17 with a decimal point) is a String,
      the others are Doubles (Python's int or float here, as the server wrote them;
      WebHelpers.json_ParseNumber);
    - the escape ``\\n`` is vbCrLf, two characters (WebHelpers.json_ParseString, ``Case "n"``,
      xlwings 0.37.8's WebHelpers.bas line 2464), which Excel stores as they are: a line break
      typed with Alt+Enter is LF alone (officetanaka.net, Excel VBA tips 89). ``\\u000a`` is LF.
    """
    from renkei_xl.server.limits import answer_json

    return vba_read(answer_json({"actions": actions}).decode("utf-8"))["actions"]


def vba_read(body: str):
    """A JSON body as VBA-Web's ParseJson reads it (vba_parsed)."""
    from renkei_xl.server.limits import JSON_ESCAPE   # JSON's escapes, found as the server finds them

    def number(text: str, kind):
        return text if len(text) >= (17 if "." in text else 16) else kind(text)

    if "\\n" in body:
        body = JSON_ESCAPE.sub(lambda m: "\\r\\n" if m.group(1) == "n" else m.group(0), body)
    return json.loads(body, parse_int=lambda t: number(t, int), parse_float=lambda t: number(t, float))


# A string Excel reads as a number when Range.Value is given it, as if typed (a decimal number,
# as VBA-Web leaves a long one). Excel keeps 15 significant digits of what is typed and sets
# the rest to zero (Excel specifications and limits: number precision).
_TYPED_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
EXCEL_TYPED_DIGITS = 15


def _typed_number(text: str) -> float:
    exact = decimal.Decimal(text)
    if not exact:
        return 0.0
    step = decimal.Decimal(1).scaleb(exact.adjusted() - EXCEL_TYPED_DIGITS + 1)
    return float(exact.quantize(step, rounding=decimal.ROUND_DOWN))


# A string Excel's entry parser may read as other than text when Range.Value is given it in a
# cell not formatted as Text (as if typed): a date or time (「3/5」 is 5 March, 「R6.4.1」 and
# 「令和6年4月1日」 in a Japanese Excel, 「9:30」), a percentage (「73.2%」 is 0.732), a number
# with separators, a currency, brackets or a fraction (「1,234」, 「¥500」, 「(5)」 is -5,
# 「1 1/2」), full-width digits, TRUE/FALSE, an error (「#N/A」) or a formula (「=…」, 「+…」,
# 「-…」, 「@…」). The model converts a plain decimal exactly (_typed_number); for the rest it
# cannot say what Excel stores, so it refuses them (TYPED_ENTRY), the stricter reading: any
# string holding a digit, starting with one of these signs, or TRUE/FALSE.
# xlwings' remote engine sends a date-time as "2026-12-07 09:31:31" (_xlremote's cleaning:
# isoformat(sep=" ") to the second), which ParseIso does not read and Excel reads as typed: the
# date-time itself, in any locale (the model keeps the text, which the readers take as it).
TYPED_ENTRY = "typed-entry"
_ENTRY_SIGNS = tuple("=+-@#＝＋－＠＃")
_XLWINGS_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def typed_as_other(text: str) -> bool:
    """Whether Excel may store ``text``, assigned as it is to a cell not formatted as Text, as
    anything but that text (TYPED_ENTRY); a plain decimal is not asked (_typed_number)."""
    import unicodedata

    if _XLWINGS_DATETIME.fullmatch(text):
        return False
    folded = unicodedata.normalize("NFKC", text).strip()
    return (any(ch.isdecimal() for ch in text) or text.lstrip().startswith(_ENTRY_SIGNS)
            or folded.upper() in ("TRUE", "FALSE"))


# The error codes Excel's entry parser reads as the error when a client assigns one as it is
# (no prefix) to a cell not formatted as Text: documented for #N/A (the NA function's page:
# "You can also type the value #N/A directly into a cell"), the other six are the formula
# grammar's error constants (ECMA-376 Part 1 §18.17.2), **assumed** taken alike. Any other
# code (#SPILL!, #CALC!, #GETTING_DATA, a lower-case one) stays refused (TYPED_ENTRY): what
# Excel stores for it is not known here, the stricter reading.
TYPED_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"})


class TypedError(str):
    """An error value a cell holds after the client assigned its code (「#N/A」 without the
    text prefix to a cell not formatted as Text): Excel's entry parser reads the code as the
    error (TYPED_ERRORS), never as the text, which sorts, counts and tests (ISERROR) otherwise.
    Equal to the code's text, as the readers give an error; ``Applied.error_cells`` tells it."""

    __slots__ = ()


def _excel_value(v, text_cell: bool = False):
    """What Excel stores for a value the client assigns: "" is empty, a leading ' is the text
    prefix (PrefixCharacter) in a cell of General or a number format. In a cell formatted as
    Text ("@", 文字列) nothing is converted, so the apostrophe is assumed to stay part of the
    value (the stricter of Excel's possible behaviours: it cannot be run here to check). An
    error's code typed elsewhere is the error (TypedError)."""
    if v == "" or v is None:
        return None
    if isinstance(v, str) and v.startswith("'") and not text_cell:
        return v[1:]
    if isinstance(v, str) and not text_cell and v in TYPED_ERRORS:
        return TypedError(v)
    if isinstance(v, str) and not text_cell and _TYPED_NUMBER.fullmatch(v):
        return _typed_number(v)
    return v


def _text_formats_of(saved: dict) -> dict[str, dict]:
    """file_text_formats' JSON as Applied.text_formats holds it."""
    return {sheet: {"cells": {(r, col): bool(t) for r, col, t in held["cells"]}, "rows": set(held["rows"]),
                    "cols": [tuple(pair) for pair in held["cols"]]} for sheet, held in saved.items()}


def _text_formats_json(held: dict[str, dict]) -> dict[str, dict]:
    """Applied.text_formats as file_text_formats gives it (for the next payload)."""
    return {sheet: {"cells": sorted([r, col, t] for (r, col), t in h["cells"].items()), "rows": sorted(h["rows"]),
                    "cols": sorted(list(pair) for pair in h["cols"])}
            for sheet, h in held.items() if h["cells"] or h["rows"] or h["cols"]}


def _hex(value) -> Optional[str]:
    return None if value is None else str(value).lstrip("#").upper()


def _address(rect: Rect) -> str:
    r1, c1, r2, c2 = rect
    first = f"{column_letter(c1)}{r1}"
    return first if (r1, c1) == (r2, c2) else f"{first}:{column_letter(c2)}{r2}"


def _rect_of(address: str) -> Rect:
    first, _, last = address.replace("$", "").partition(":")
    r1, c1 = parse_ref(first)
    r2, c2 = parse_ref(last) if last else (r1, c1)
    return r1, c1, r2, c2


def _overlaps(a: Rect, b: Rect) -> bool:
    return not (a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1])


def _frozen_first_cell(address: str) -> tuple[int, int]:
    """freeze_at's range (what stays put) as the first cell that scrolls."""
    address = address.replace("$", "")
    if re.fullmatch(r"\d+:\d+", address):                 # "1:3": rows
        return int(address.split(":")[1]) + 1, 1
    if re.fullmatch(r"[A-Z]+:[A-Z]+", address):           # "A:B": columns
        return 1, parse_ref(address.split(":")[1] + "1")[1] + 1
    r1, c1, r2, c2 = _rect_of(address)
    return r2 + 1, c2 + 1


def _cf_entry(entry: dict) -> tuple[str, str]:
    """An addConditionalFormat entry as (kind, text, colour) without the range."""
    if entry["type"] == "CellValue" and entry.get("operator") == "EqualTo":
        return "equal", _formula_text(entry["formula1"]), _hex(entry.get("fill_color"))
    if entry["type"] == "DataBar":
        return "databar", "", _hex(entry.get("bar_color"))
    raise AssertionError(f"conditional format the model does not know: {entry}")


def _formula_text(formula: str) -> str:
    """'="◎"' / '"◎"' -> ◎ (a doubled quote inside is one)."""
    f = formula[1:] if formula.startswith("=") else formula
    if len(f) >= 2 and f[0] == f[-1] == '"':
        f = f[1:-1].replace('""', '"')
    return f


_H_ALIGN = {"General": None}
_V_ALIGN = {"Bottom": None}


def apply_actions(payload: dict, actions: list[dict]) -> Applied:
    order = [s["name"] for s in payload["sheets"]]
    grids = {}
    for s in payload["sheets"]:
        g = {}
        for r, row in enumerate(s["values"], start=1):
            for col, v in enumerate(row, start=1):
                if v not in ("", None):     # Range.Value as sent: never with a prefix character
                    g[(r, col)] = v
        grids[s["name"]] = g
    excel = payload[EXCEL_KEY]   # KeyError: a payload not made from a file (payload_from_file)
    out = Applied(grids, order, protection=copy.deepcopy(excel["protection"]), subs=frozenset(excel["subs"]),
                  merges={sheet: {tuple(m) for m in rects} for sheet, rects in excel.get("merges", {}).items()},
                  arrays={sheet: [tuple(a) for a in rects] for sheet, rects in excel.get("arrays", {}).items()},
                  data_tables={sheet: [tuple(a) for a in rects] for sheet, rects in excel.get("data_tables", {}).items()},
                  text_formats=_text_formats_of(excel.get("text_formats", {})),
                  structure=excel.get("structure", False),
                  other_tabs=frozenset(excel.get("other_tabs", ())),
                  hidden=frozenset(excel.get("hidden", ())) if payload["client"] == VBA else frozenset(),
                  freeze_leaves_hidden=excel.get("freeze_leaves_hidden", False),
                  page_layout=frozenset(excel.get("page_layout", ())),
                  freeze_leaves_page_layout=excel.get("freeze_leaves_page_layout", False),
                  refuses_unsaved_protection=excel.get("refuses_unsaved_protection", False),
                  staff_events=tuple(excel.get("staff_events", ())), events_off=excel.get("events_off", False),
                  cancel_key_off=excel.get("cancel_key_off", False), escape_at=excel.get("escape_at"),
                  written_check=excel.get("written_check"),
                  set_text_checks_format=excel.get("set_text_checks_format", False),
                  page_setup_arguments=excel.get("page_setup_arguments", {}),
                  footers=copy.deepcopy(excel.get("footers", {})),
                  grouped=frozenset(excel.get("grouped", ())) if payload["client"] == VBA else frozenset(),
                  shared=bool(excel.get("shared")) and payload["client"] == VBA,
                  vba=payload["client"] == VBA,
                  cell_formats=excel["cell_formats"] if "held_looks" in excel else None,
                  held_looks={tuple(tuple(item) for item in key) for key in excel.get("held_looks", ())},
                  file_links=dict(excel.get("links", {})),
                  saved_widths={sheet: dict(pairs) for sheet, pairs in excel.get("widths", {}).items()},
                  hidden_cols={sheet: set(cols) for sheet, cols in excel.get("hidden_cols", {}).items()})
    for s in payload["sheets"]:     # the book's charts: Office.js lists them, Remote.bas does not
        listed = s["charts"] if "charts" in s else excel.get("charts", {}).get(s["name"], [])
        out.charts[s["name"]] = [dict(ch) for ch in listed]
    shown = payload["book"].get("active_sheet_index", 0)
    out.shown = order[shown] if 0 <= shown < len(order) else None
    if out.vba:
        actions = vba_parsed(actions)
    try:
        for i, a in enumerate(actions):
            if i == out.escape_at and out.vba and not out.cancel_key_off:
                raise ExcelError(CODE_ENDED, "Code execution has been interrupted (Esc), and End ends it: "
                                             f"{len(out.lifted)} sheet(s) left unprotected ({', '.join(out.lifted)}), "
                                             f"events left off: {out.events_off}", a)
            if a["func"] not in out.subs:
                raise ExcelError(1004, f"Cannot run the macro '{a['func']}'. The macro may not be available "
                                       "in this workbook or all macros may be disabled.", a)
            _excel_refuses(out, a)
            _replay(out, a)
            if out.cell_formats is not None and a["func"] in FORMAT_ACTIONS:
                _count_formats(out, a)
    except ExcelError as stop:
        # Remote.bas stops at the first error, the actions before it written; RenkeiCallServer's
        # handler puts back the protection lifted: ``stop.applied`` is the book staff then have.
        # Ended from Excel's interrupt box, no handler runs: the lifted sheets stay unprotected.
        if stop.number != CODE_ENDED:
            _restore_protection(out)
        stop.applied = out
        raise
    _restore_protection(out)
    return out


def _count_formats(out: Applied, a: dict) -> None:
    """Excel's cell formats after ``a``: one more for each look no cell of the book held (the
    stricter reading: a format a cell held before the click and no cell holds now still
    counts, as Excel keeps it until the book is saved and opened again)."""
    from renkei_xl.core.looks import MAX_CELL_FORMATS

    rect = _action_rect(a)
    if rect is None:
        return
    sheet = out.order[a["sheet_position"]]
    raw, sides = out.cell_looks.get(sheet, {}), out.borders.get(sheet, {})
    for r in range(rect[0], rect[2] + 1):
        for col in range(rect[1], rect[3] + 1):
            key = _look_key(_look(raw.get((r, col), {}), sides.get((r, col), {})))
            if key not in out.held_looks:
                out.held_looks.add(key)
                out.cell_formats += 1
                if out.cell_formats > MAX_CELL_FORMATS:
                    raise ExcelError(1004, f"Too many different cell formats ({MAX_CELL_FORMATS:,}; "
                                           f"{sheet}!{_address((r, col, r, col))}).", a)


def _restore_protection(out: Applied) -> None:
    """RenkeiCallServer after the replay: lifted sheets get their own options back, sheets
    added for the tool are protected as the answer said (new_options)."""
    for sheet, state in out.lifted.items():
        if sheet in out.order:
            out.protection[sheet] = state
    for sheet in out.protect_new:
        if sheet in out.order and sheet not in out.protection:
            out.protection[sheet] = {"options": com_protection_attrs(out.new_options), "unlocked": [],
                                     "password": False}
    out.lifted, out.protect_new, out.new_options = {}, [], {}


def _refusal(refusals: Optional[dict], reason: str, sheets: list[str]) -> str:
    """RenkeiRefuse's text: the server's template for reason, or the sheets' names alone."""
    shown = "\u300d\u300c".join(sheets)
    return shown if refusals is None else refusals[reason].replace("{0}", shown)


def _written_refused(out: Applied, written: list) -> Optional[tuple[str, list[str]]]:
    """RenkeiCheckWritten on the book as it is now (the merges, arrays and data tables of the
    model, which may be newer than the saved master the server read): (reason, [the cells as
    it lists them]) for the first reason with a hit, None for none. A range is walked only
    where a property it reads of the whole range is not False (a merge, an array or a data
    table overlaps it; the payload carries no other formulas), its cells row by row, at most
    ``walk`` in the click: past it the rest goes unchecked."""
    check = out.written_check
    hits: dict[str, list[str]] = {reason: [] for reason in check["reasons"]}
    walked = 0
    for sheet, addresses in written:
        if sheet not in out.order:
            continue
        merges = out.merges.get(sheet, set())
        tables, arrays = out.data_tables.get(sheet, ()), out.arrays.get(sheet, ())
        for address in addresses:
            rect = _rect_of(address)
            walk_merged = "MergeCells" in check["reads"] and any(_overlaps(m, rect) for m in merges)
            walk_formulas = "HasFormula" in check["reads"] and any(_overlaps(t, rect) for t in (*tables, *arrays))
            if not (walk_merged or walk_formulas):
                continue
            for row in range(rect[0], rect[2] + 1):
                for col in range(rect[1], rect[3] + 1):
                    walked += 1
                    if walked > check["walk"]:
                        return _first_refused(check, hits)
                    place = f"{sheet}!{_address((row, col, row, col))}"
                    area = next((m for m in merges if _overlaps(m, (row, col, row, col))), None)
                    if walk_merged and check["merge_area"] and area is not None and area[:2] != (row, col):
                        hits["merged"].append(f"{place}\uff08{_address(area)}\uff09")
                    elif (walk_merged and check["merged_run"] and area is not None and rect[3] > rect[1]
                          and (area[2] > area[0] or area[3] > rect[3])):
                        # its first cell, in a row written as one range the merge reaches past
                        hits["merged_run"].append(f"{place}\uff08{_address(area)}\uff09")
                    elif walk_formulas and check["table"] and any(_overlaps(t, (row, col, row, col)) for t in tables):
                        hits["data_table"].append(place)
                    elif walk_formulas and check["array"] and any(_overlaps(t, (row, col, row, col)) for t in arrays):
                        hits["array"].append(place)
    return _first_refused(check, hits)


def _first_refused(check: dict, hits: dict[str, list[str]]) -> Optional[tuple[str, list[str]]]:
    for reason in check["reasons"]:
        places = hits[reason]
        if places:
            shown = "\u3001".join(places[:check["shown"]])
            if len(places) > check["shown"]:
                shown += f" \u307b\u304b {len(places) - check['shown']} \u304b\u6240"
            return reason, [shown]
    return None


def _action_rect(a: dict) -> Optional[Rect]:
    if a.get("start_row") is None:
        return None
    r0, c0 = a["start_row"] + 1, a["start_column"] + 1
    return r0, c0, r0 + a["row_count"] - 1, c0 + a["column_count"] - 1


# Arguments a VBA client's Sub cannot take as Null (JSON null, which VBA-Web's parser
# hands over as Null): Remote.bas' HexToRgb takes a String, and so do MsgBox's prompt, the
# number format and Hyperlinks.Add's texts; RenkeiServer.bas' sizes are Doubles. Excel
# stops the replay with run-time error 94 (Invalid use of Null). By action: the argument
# positions, or (for setFontProperty, setBorderProperty) the attribute names whose value
# cannot be Null (underline and line style test IsNull themselves).
NULL_REFUSED = {"setRangeColor": (0,), "setNumberFormat": (0,), "alert": (0, 1, 2, 3, 4),
                "addHyperlink": (0, 1, 2), "setColumnWidth": (0,), "setRowHeight": (0,), "setWrapText": (0,),
                "setColumnHidden": (0,), "setAutofit": (0,), "freezePaneAtRange": (0,)}
NULL_REFUSED_ATTRIBUTES = {"setFontProperty": (0, 1, {"bold", "italic", "size", "name", "color"}),
                           "setBorderProperty": (1, 2, {"color"})}
INVALID_USE_OF_NULL = 94


def _null_refused(a: dict) -> bool:
    """Whether a VBA client's Sub meets Null where it cannot take it (NULL_REFUSED)."""
    func, args = a["func"], a["args"] or []
    if func in NULL_REFUSED:
        return any(i < len(args) and args[i] is None for i in NULL_REFUSED[func])
    if func in NULL_REFUSED_ATTRIBUTES:
        name_at, value_at, names = NULL_REFUSED_ATTRIBUTES[func]
        return len(args) > value_at and args[name_at] in names and args[value_at] is None
    return False


def _excel_refuses(out: Applied, a: dict) -> None:
    """Raise ExcelError where Excel would, before the action changes anything."""
    func, args = a["func"], a["args"]
    if out.vba and _null_refused(a):
        raise ExcelError(INVALID_USE_OF_NULL, f"Invalid use of Null ({func} {args})", a)
    if func == UNPROTECT:
        # The protection the model knows is the book's now, which may be newer than the saved
        # master the server read. RenkeiServer.bas refuses a sheet that must be added to a
        # protected structure, and a password, itself (RenkeiRefuse, before anything is
        # written); an older one meets 1004 at addSheet, or Unprotect without the password
        # asks staff for it in a dialog in the middle of the replay (Cancel is 1004).
        refusals = args[3] if len(args) > 3 else None
        cannot = "a legacy shared workbook" if out.shared else "grouped sheets" if out.grouped else None
        if cannot and any(sheet in out.protection for sheet in args[0]):
            # Unprotect fails whatever the password; renkeiUnprotectSheets takes any failure
            # for a password and says so (what staff read is then not the cause).
            if out.refuses_unsaved_protection:
                first = next(sheet for sheet in args[0] if sheet in out.protection)
                raise ExcelError(RENKEI_REFUSED, _refusal(refusals, "password", [first]), a)
            raise ExcelError(1004, f"Unprotect method of Worksheet class failed ({cannot}).", a)
        adding = [name for name in args[1] if name not in out.order]
        if adding and out.structure and out.refuses_unsaved_protection:
            raise ExcelError(RENKEI_REFUSED, _refusal(refusals, "structure", adding), a)
        if out.written_check is not None and len(args) > 4:
            refused = _written_refused(out, args[4])
            if refused is not None:
                raise ExcelError(RENKEI_REFUSED, _refusal(refusals, *refused), a)
        for sheet in args[0]:
            if out.protection.get(sheet, {}).get("password"):
                if out.refuses_unsaved_protection:
                    raise ExcelError(RENKEI_REFUSED, _refusal(refusals, "password", [sheet]), a)
                raise ExcelError(1004, f"The password you supplied is not correct ({sheet}).", a)
        return
    if func == REQUEST:
        return
    if func == "addSheet":
        if out.structure:
            raise ExcelError(1004, "Unable to set the Add property: the workbook's structure is protected.", a)
        name = args[1]
        if name is not None and (excel_length(name) > MAX_SHEET_NAME or set(name) & SHEET_NAME_FORBIDDEN
                                 or not name.strip() or name.startswith(SHEET_NAME_APOSTROPHES)
                                 or name.endswith(SHEET_NAME_APOSTROPHES)
                                 or sheet_key(name) in RESERVED_SHEET_NAMES
                                 or sheet_key(name) in {sheet_key(s) for s in (*out.order, *out.other_tabs)}):
            raise ExcelError(1004, f"That name is not valid for a sheet: {name!r}", a)
        return
    if func == "alert" and args and isinstance(args[0], str) and excel_length(args[0]) > MAX_PROMPT:
        # not an error: MsgBox drops the end, so what staff read is not the message sent
        raise ExcelError(MSGBOX_CUT, f"MsgBox shows only {MAX_PROMPT} of the prompt's {excel_length(args[0])} "
                                     "characters", a)
    if out.shared and func in SHARED_REFUSED:
        raise ExcelError(1004, f"{func}: not available in a shared workbook.", a)
    if out.grouped and func in GROUPED_REFUSED:
        raise ExcelError(1004, f"{func}: not available while sheets are grouped "
                               f"({', '.join(sorted(out.grouped))}).", a)
    if func == "activateSheet":
        # Remote.bas: wb.Sheets(i + 1).Activate, Sheets counting the tabs not sent too; where
        # there are none the model's order is Sheets' own and can name the sheet.
        index = int(args[0])
        if not 0 <= index < len(out.order) + len(out.other_tabs):
            raise ExcelError(9, f"Subscript out of range (Sheets({index + 1}))", a)
        if not out.other_tabs and out.order[index] in out.hidden:
            raise ExcelError(1004, f"Activate method of Worksheet class failed ({out.order[index]} is hidden).", a)
    if a.get("sheet_position") is None:
        return
    sheet = out.order[a["sheet_position"]]
    if out.staff_events and not out.events_off and func in EVENT_ACTIONS:
        # not an error: Excel runs staff's procedure in the middle of the replay, writing what
        # the answer does not know or stopping it, which the model cannot say
        raise ExcelError(STAFF_EVENT, f"{func} on {sheet} runs staff's {', '.join(out.staff_events)}", a)
    if func in ("freezePaneAtRange", "freezePaneUnfreeze") and sheet in out.hidden and not out.freeze_leaves_hidden:
        raise ExcelError(1004, f"Activate method of Worksheet class failed ({sheet} is hidden).", a)
    if (func in ("freezePaneAtRange", "freezePaneUnfreeze") and sheet in out.page_layout
            and not out.freeze_leaves_page_layout):
        # assumed, the stricter reading: Excel's ribbon offers no freezing in Page Layout view
        raise ExcelError(1004, f"Unable to set the FreezePanes property ({sheet} is in Page Layout view).", a)
    rect = _action_rect(a)
    if rect is not None and not (1 <= rect[0] <= rect[2] <= MAX_ROWS and 1 <= rect[1] <= rect[3] <= MAX_COLUMNS):
        raise ExcelError(1004, f"Application-defined or object-defined error: no such cells {rect}", a)
    if func == "setValues" and rect is not None and (
            len(a["values"]) != a["row_count"] or any(len(row) != a["column_count"] for row in a["values"])):
        # xlwings sizes the range to the values; Remote.bas fills a bigger range with #N/A
        raise AssertionError(f"values not of the range's shape: {a}")
    protected = out.protection.get(sheet)
    if func == ADD_CHART and protected is not None and protected["options"].get("objects", True):
        # ChartObjects.Add on a sheet protected with DrawingObjects (the tool's protection)
        raise ExcelError(1004, f"Add method of ChartObjects class failed: {sheet} is protected "
                               "(DrawingObjects).", a)
    if protected is not None:
        unlocked = {tuple(cell) for cell in protected["unlocked"]}
        only_unlocked_values = (func in ("setValues", SET_TEXT, SET_NUMBERS) and rect is not None and all(
            (r, col) in unlocked for r in range(rect[0], rect[2] + 1) for col in range(rect[1], rect[3] + 1)))
        if not only_unlocked_values:
            raise ExcelError(1004, f"The cell or chart you're trying to change is on a protected sheet ({sheet}).", a)
    merges = out.merges.get(sheet, set())
    if func in ("setValues", SET_TEXT) and rect is not None:
        for m in merges:
            if _overlaps(m, rect) and not _contains(rect, m) and rect != (m[0], m[1], m[0], m[1]):
                # Excel takes one value into a merged area's top-left cell (the merged cell's
                # value) and a range that covers whole merged areas; any other write into part of
                # one is 1004. (A single cell inside, not the top-left, is refused here too: Excel
                # keeps such a value in a cell nobody sees, never what the plan meant.)
                raise ExcelError(1004, f"Cannot change part of a merged cell ({_address(m)} and {_address(rect)}).", a)
    if func == SET_NUMBERS:
        for i, j, *_parts in args[0]:
            cell = (rect[0] + int(i), rect[1] + int(j))
            if any(_overlaps(m, (*cell, *cell)) and cell != m[:2] for m in merges):
                raise ExcelError(1004, f"Cannot change part of a merged cell ({_address((*cell, *cell))}).", a)
    if func in ("setValues", SET_TEXT, SET_NUMBERS, "rangeMerge", "rangeClearContents", "rangeClear") and rect is not None:
        for area in out.arrays.get(sheet, ()):
            # a value over the whole array too: whether Excel takes it is not known here (stricter)
            if _overlaps(area, rect) and (func in ("setValues", SET_TEXT, SET_NUMBERS) or not _contains(rect, area)):
                raise ExcelError(1004, f"You can't change part of an array ({_address(area)} and {_address(rect)}).", a)
        for area in out.data_tables.get(sheet, ()):
            # Excel clears a data table's results only all at once, and takes no value there
            if _overlaps(area, rect) and (func in ("setValues", SET_TEXT, SET_NUMBERS) or not _contains(rect, area)):
                raise ExcelError(1004, f"Cannot change part of a data table ({_address(area)} and {_address(rect)}).", a)
    if func == "rangeMerge" and rect is not None:
        for m in merges:
            if _overlaps(m, rect) and not _contains(rect, m):
                raise ExcelError(1004, f"We can't do that to a merged cell ({_address(m)} and {_address(rect)}).", a)
    if func in ("setValues", SET_TEXT):
        for row in (a["values"] if func == "setValues" else [args]):
            for v in row:
                if isinstance(v, str) and excel_length(v) > MAX_CELL_TEXT:
                    raise ExcelError(1004, f"text of {excel_length(v)} characters (Excel holds {MAX_CELL_TEXT})", a)
                if isinstance(v, str) and v.startswith("=") and excel_length(v) > MAX_FORMULA:
                    raise ExcelError(1004, f"a formula of {excel_length(v)} characters (Excel takes {MAX_FORMULA})", a)
    if func in ("setValues", SET_TEXT) and rect is not None:
        for i, row in enumerate(a["values"] if func == "setValues" else [args]):
            for j, v in enumerate(row):
                if (not isinstance(v, str) or not v or v.startswith("'") or _TYPED_NUMBER.fullmatch(v)
                        or out.is_text_cell(sheet, rect[0] + i, rect[1] + j)):
                    continue
                if func == "setValues" and out.vba and parse_iso(v) is not None:
                    continue        # Remote.bas writes the date ParseIso reads (modelled)
                if func == SET_TEXT and out.set_text_checks_format:
                    continue        # the master's renkeiSetText gives it the text prefix
                if func == "setValues" and v in TYPED_ERRORS:
                    continue        # Excel stores the error itself (modelled: TypedError)
                if typed_as_other(v):
                    # not an error: Excel stores what it reads the string as, which the model
                    # cannot say, never the text the plan meant
                    raise ExcelError(TYPED_ENTRY, f"{func}: 「{v}」 into {sheet}!"
                                                  f"{column_letter(rect[1] + j)}{rect[0] + i}, a cell not "
                                                  "formatted as Text, is read as typed", a)
    if func == "addHyperlink" and any(isinstance(t, str) and excel_length(t) > MAX_LINK_TEXT
                                      for t in (args[0], args[2])):
        raise ExcelError(1004, f"Hyperlinks.Add: an address or screen tip over {MAX_LINK_TEXT} characters", a)
    if func == "addHyperlink" and rect is not None:
        adding = (rect[2] - rect[0] + 1) * (rect[3] - rect[1] + 1)
        held = out.file_links.get(sheet, 0)
        if held + len(out.links) + adding > MAX_HYPERLINKS:     # the book's links bound the sheet's
            held += sum(1 for s, _ref in out.links if s == sheet)
            if held + adding > MAX_HYPERLINKS:
                raise ExcelError(1004, f"Hyperlinks.Add: {held + adding:,} hyperlinks on {sheet} "
                                       f"(a worksheet holds {MAX_HYPERLINKS:,})", a)
    if func == "setNumberFormat" and isinstance(args[0], str) and excel_length(args[0]) > MAX_NUMBER_FORMAT:
        raise ExcelError(1004, f"Unable to set the NumberFormat property of the Range class: a code of "
                               f"{excel_length(args[0])} characters (Excel takes {MAX_NUMBER_FORMAT})", a)
    if func == "setColumnWidth" and not 0 <= points_to_width(float(args[0])) <= MAX_COLUMN_WIDTH:
        raise ExcelError(1004, f"Unable to set the ColumnWidth property to {points_to_width(float(args[0])):.1f}", a)
    if func == "rangeMerge" and rect is not None:
        grid = out.grids.get(sheet, {})
        parts = ([(r, rect[1], r, rect[3]) for r in range(rect[0], rect[2] + 1)] if args and args[0] else [rect])
        for r1, c1, r2, c2 in parts:
            filled = [(r, col) for r in range(r1, r2 + 1) for col in range(c1, c2 + 1)
                      if grid.get((r, col)) not in (None, "")]
            if len(filled) > 1:
                raise ExcelError(MERGE_DIALOG, "Merging cells only keeps the upper-left value and discards "
                                               f"other values ({_address((r1, c1, r2, c2))}: {filled})", a)
    if func == PAGE_BREAKS and len(args[0]) > MAX_PAGE_BREAKS:
        raise ExcelError(1004, f"Add method of HPageBreaks class failed: {len(args[0])} manual breaks "
                               f"(a sheet holds {MAX_PAGE_BREAKS})", a)
    if func == PAGE_SETUP:
        footer = dict(out.footers.get(sheet, {}))
        for prop, key in (("LeftFooter", "L"), ("CenterFooter", "C"), ("RightFooter", "R")):
            if prop in out.page_setup_arguments:
                footer[key] = str(args[out.page_setup_arguments[prop]] or "")
        whole = "".join(f"&{key}{footer[key]}" for key in "LCR" if footer.get(key))
        if excel_length(whole) > MAX_HEADER_FOOTER:
            # Excel specifications and limits: a header or footer holds 255 characters, its
            # sections and codes together; PageSetup refuses a section that takes it past
            raise ExcelError(1004, f"Unable to set the CenterFooter property of the PageSetup class: the footer "
                                   f"would be {excel_length(whole)} characters ({sheet})", a)
    if (func == "setFontProperty" and args[0] == "size" and args[1] is not None
            and not MIN_FONT_SIZE <= float(args[1]) <= MAX_FONT_SIZE):
        # Excel's font sizes run from 1 to 409 points (its 「1 から 409 までの数値」 prompt)
        raise ExcelError(1004, f"Unable to set the Size property of the Font class ({args[1]})", a)
    if func == "setRowHeight" and not 0 <= float(args[0]) <= MAX_ROW_HEIGHT:
        raise ExcelError(1004, f"Unable to set the RowHeight property to {args[0]}", a)


# The actions that run a Change event procedure (a value written or cleared) or an Activate one
# (RenkeiFreeze shows the sheet).
EVENT_ACTIONS = frozenset({"setValues", SET_TEXT, SET_NUMBERS, "sheetClear", "sheetClearContents", "rangeClear",
                           "rangeClearContents", "freezePaneAtRange", "freezePaneUnfreeze"})


# What Excel refuses in a legacy shared workbook (documented: Microsoft's list of features a
# shared workbook does not support: merge or split cells, add or change conditional formats,
# insert or change hyperlinks, create or change charts; protect or unprotect sheets, above).
SHARED_REFUSED = frozenset({"rangeMerge", "rangeUnmerge", "addConditionalFormat", "clearConditionalFormats",
                            "addHyperlink", "addChart", "deleteChart", ADD_CHART})
# What Excel refuses while sheets are grouped (assumed: its ribbon disables protection,
# conditional formats, filters and merging across a group, and panes belong to the window;
# that the object model refuses them too is the stricter reading, docs/excel-model.md).
GROUPED_REFUSED = frozenset({"rangeMerge", "rangeUnmerge", "addConditionalFormat", "clearConditionalFormats",
                             AUTOFILTER, "freezePaneAtRange", "freezePaneUnfreeze"})


def _contains(outer: Rect, inner: Rect) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


KNOWN_ACTIONS = {
    "alert", "addSheet", "setValues", "sheetClear", "sheetClearContents", "setRangeColor",
    "setFontProperty", "setBorderProperty", "setHorizontalAlignment", "setVerticalAlignment",
    "setWrapText", "setNumberFormat", "rangeMerge", "rangeUnmerge", "setColumnWidth",
    "setRowHeight", "setAutofit", "setColumnHidden", "freezePaneAtRange", "freezePaneUnfreeze",
    "addHyperlink", "addConditionalFormat", "clearConditionalFormats", "setPrintArea",
    "addChart", "deleteChart", "setChartTitle", "setChartLegend", "setChartXAxisValues", "activateSheet", UNPROTECT, REQUEST,
    CLEAR_FILL, PAGE_BREAKS, PAGE_SETUP, AUTOFILTER, SET_TEXT, SET_NUMBERS, ADD_CHART,
}


def _replay(out: Applied, a: dict) -> None:
    func = a["func"]
    args = a["args"]
    if func == REQUEST:
        out.request = args[0]
        return
    if func == UNPROTECT:
        lift, protect_new, *how = args      # RenkeiServer.bas: no args(3) is Excel's defaults
        out.new_options = how[0] if how else {}
        for sheet in lift:
            if sheet in out.protection:
                out.lifted[sheet] = out.protection.pop(sheet)
        out.protect_new.extend(protect_new)
        return
    assert func in KNOWN_ACTIONS, f"action the workbook model does not know: {func} {a}"
    if func == "alert":
        prompt, title, buttons, mode, _callback = args
        out.alerts.append({"prompt": prompt, "title": title, "buttons": buttons, "mode": mode})
        return
    if func == "addSheet":
        index, name = args
        out.order.insert(index, name)
        out.grids[name] = {}
        out.charts[name] = []
        out.shown = name
        return
    if func == "activateSheet":
        out.shown = out.order[int(args[0])]     # wb.Sheets(i + 1): no chart sheet in the model
        return
    sheet = out.order[a["sheet_position"]]
    grid = out.grids[sheet]
    looks = out.cell_looks.setdefault(sheet, {})
    borders = out.borders.setdefault(sheet, {})
    if func in ("sheetClear", "sheetClearContents"):
        out.grids[sheet] = {}
        out.arrays.pop(sheet, None)
        out.data_tables.pop(sheet, None)
        if func == "sheetClear":       # Excel's Clear All: contents, formats, hyperlinks
            out.text_formats.pop(sheet, None)
            looks.clear()
            borders.clear()
            for store in (out.colors, out.links, out.formats):
                for key in [k for k in store if k[0] == sheet]:
                    del store[key]
            out.file_links.pop(sheet, None)
        return
    if func in ("freezePaneAtRange", "freezePaneUnfreeze") and (sheet in out.hidden or sheet in out.page_layout):
        return                          # left by RenkeiFreeze (_excel_refuses raised otherwise)
    if func == "freezePaneAtRange":
        out.freeze[sheet] = _frozen_first_cell(args[0])
        return
    if func == "freezePaneUnfreeze":
        out.freeze[sheet] = None
        return
    if func == "setPrintArea":
        out.print_area[sheet] = args[0]
        return
    if func == PAGE_BREAKS:
        out.page_breaks[sheet] = [int(last) for last in args[0]]
        return
    if func == PAGE_SETUP:
        out.page_setup[sheet] = {prop: args[i] for prop, i in out.page_setup_arguments.items()}
        footer = out.footers.setdefault(sheet, {})
        for prop, key in (("LeftFooter", "L"), ("CenterFooter", "C"), ("RightFooter", "R")):
            if prop in out.page_setup_arguments:
                footer[key] = str(args[out.page_setup_arguments[prop]] or "")
        return
    if func == AUTOFILTER:
        out.autofilter[sheet] = args[0]
        return
    charts = out.charts.setdefault(sheet, [])
    if func == "addChart":
        name, chart_type, source_sheet, source, left, top, width, height, plot_by, anchor, style = args
        charts.append({"name": name, "chart_type": chart_type, "source": (source_sheet, source),
                       "width": width, "height": height, "plot_by": plot_by, "anchor": anchor,
                       "style": style})
        return
    if func == ADD_CHART:
        said = dict(zip(CHART_ARGS, args, strict=True))
        gone = {said["name"], *said["older"]}
        charts[:] = [ch for ch in charts if ch.get("name") not in gone]   # staff's, of other names, stay
        charts.append({"name": said["name"], "title": said["title"], "chart_type": XL_CHART_TYPES[said["chart_type"]],
                       "plot_by": XL_PLOT_BY[said["plot_by"]], "source": (sheet, said["source"]),
                       "categories": (sheet, said["categories"]), "anchor": said["anchor"],
                       "width": float(said["width"]), "height": float(said["height"]),
                       "legend_visible": bool(said["legend"]), "style": said["style"]})
        return
    if func == "deleteChart":
        del charts[args[0]]
        return
    if func == "setChartTitle":
        charts[args[0]]["title"] = args[1]
        return
    if func == "setChartLegend":
        charts[args[0]][f"legend_{args[1]}"] = args[2]
        return
    if func == "setChartXAxisValues":
        charts[args[0]]["categories"] = (args[1], args[2])
        return

    r0, c0 = a["start_row"] + 1, a["start_column"] + 1
    rect = (r0, c0, r0 + a["row_count"] - 1, c0 + a["column_count"] - 1)

    def cells():
        assert a["row_count"] * a["column_count"] <= MAX_MODELLED_CELLS, f"range too large to model: {a}"
        return [(r, col) for r in range(rect[0], rect[2] + 1) for col in range(rect[1], rect[3] + 1)]

    def set_look(key, value):
        for cell in cells():
            looks.setdefault(cell, {})[key] = value

    if func in ("setValues", SET_TEXT):
        for i, row in enumerate(a["values"] if func == "setValues" else [args]):
            for j, v in enumerate(row):
                if out.vba and func == "setValues" and isinstance(v, str) and (when := parse_iso(v)) is not None:
                    v = excel_day(when)   # Remote.bas: a string WebHelpers.ParseIso reads is written as a date
                if (func == SET_TEXT and out.set_text_checks_format and isinstance(v, str)
                        and not out.is_text_cell(sheet, r0 + i, c0 + j)):
                    v = "'" + v           # RenkeiServer.bas' renkeiSetText: the prefix where the cell is not Text
                v = _excel_value(v, out.is_text_cell(sheet, r0 + i, c0 + j))
                if v is None:
                    grid.pop((r0 + i, c0 + j), None)
                else:
                    grid[(r0 + i, c0 + j)] = v
    elif func == SET_NUMBERS:
        for i, j, high, low, exponent in args[0]:
            # RenkeiExactNumber: (high * 2^26 + low), halved or doubled |exponent| times, all exact
            grid[(r0 + int(i), c0 + int(j))] = math.ldexp(high * 2.0 ** 26 + low, int(exponent))
    elif func in ("setRangeColor", CLEAR_FILL):
        colour = args[0] if func == "setRangeColor" else None
        set_look("fill", _hex(colour))
        for r, col in cells():
            out.colors[(sheet, f"{column_letter(col)}{r}")] = colour
    elif func == "setFontProperty":
        attribute, value = args
        if attribute == "color":
            value = _hex(value)
        elif attribute == "underline":
            value = value not in (None, "None")
        elif attribute == "size":
            value = float(value)
        set_look({"name": "font_name", "size": "font_size", "color": "font_color"}.get(attribute, attribute),
                 value)
    elif func == "setBorderProperty":
        side, attribute, value = args
        r1, c1, r2, c2 = rect
        for r, col in cells():
            hit = {"edge_top": ["top"] if r == r1 else [], "edge_bottom": ["bottom"] if r == r2 else [],
                   "edge_left": ["left"] if col == c1 else [], "edge_right": ["right"] if col == c2 else [],
                   "inside_horizontal": (["top"] if r > r1 else []) + (["bottom"] if r < r2 else []),
                   "inside_vertical": (["left"] if col > c1 else []) + (["right"] if col < c2 else []),
                   }.get(side, [])
            for s in hit:
                attrs = borders.setdefault((r, col), {}).setdefault(s, {})
                attrs[attribute] = _hex(value) if attribute == "color" else value
    elif func == "setHorizontalAlignment":
        set_look("h_align", _H_ALIGN.get(args[0], str(args[0]).lower()))
    elif func == "setVerticalAlignment":
        set_look("v_align", _V_ALIGN.get(args[0], str(args[0]).lower()))
    elif func == "setWrapText":
        set_look("wrap", bool(args[0]))
    elif func == "setNumberFormat":
        fmt = None if args[0] == "General" else args[0]
        set_look("number_format", fmt)
        text = out.text_formats.setdefault(sheet, {"cells": {}, "rows": set(), "cols": []})
        for r, col in cells():
            out.formats[(sheet, f"{column_letter(col)}{r}")] = args[0]
            text["cells"][(r, col)] = args[0] == TEXT_FORMAT
    elif func in ("rangeMerge", "rangeUnmerge"):
        merges = out.merges.setdefault(sheet, set())
        for m in [m for m in merges if _overlaps(m, rect)]:
            merges.discard(m)
        if func == "rangeMerge":
            if args[0]:   # across: each row on its own
                merges.update((r, rect[1], r, rect[3]) for r in range(rect[0], rect[2] + 1))
            else:
                merges.add(rect)
    elif func == "setColumnWidth":
        for col in range(rect[1], rect[3] + 1):
            out.widths.setdefault(sheet, {})[col] = points_to_width(args[0])
            out.saved_widths.get(sheet, {}).pop(col, None)
    elif func == "setRowHeight":
        for r in range(rect[0], rect[2] + 1):
            out.heights.setdefault(sheet, {})[r] = float(args[0])
    elif func == "setAutofit":
        store, lo, hi = ((out.heights, rect[0], rect[2]) if args[0] == "rows" else
                         (out.widths, rect[1], rect[3]))
        for k in range(lo, hi + 1):
            store.get(sheet, {}).pop(k, None)
            if args[0] != "rows":
                out.saved_widths.get(sheet, {}).pop(k, None)
    elif func == "setColumnHidden":
        hidden = out.hidden_cols.setdefault(sheet, set())
        for col in range(rect[1], rect[3] + 1):
            (hidden.add if args[0] else hidden.discard)(col)
    elif func == "addHyperlink":
        address, text, _tip = args
        for r, col in cells():
            out.links[(sheet, f"{column_letter(col)}{r}")] = (address, text)
            if text is not None:
                grid[(r, col)] = text
    elif func == "addConditionalFormat":
        kind, text, colour = _cf_entry(args[0])
        out.conditional.setdefault(sheet, []).append((kind, _address(rect), text, colour))
    elif func == "clearConditionalFormats":
        out.conditional[sheet] = [cf for cf in out.conditional.get(sheet, [])
                                  if not _overlaps(_rect_of(cf[1]), rect)]


def _look(raw: dict, sides: dict) -> dict:
    look = {key: raw.get(key, _LOOK_DEFAULTS.get(key)) for key in LOOK_KEYS}
    look["border"] = all(sides.get(s, {}).get("line_style") not in (None, "none") for s in SIDES)
    colours = {sides[s].get("color") for s in SIDES} if look["border"] else {None}
    look["border_color"] = colours.pop() if len(colours) == 1 else "mixed"
    return look


def applied_looks(applied: Applied, sheet: str) -> dict[tuple[int, int], dict]:
    """The look attributes of every cell that has any (keys of renkei_xl.core.looks.Look)."""
    raw = applied.cell_looks.get(sheet, {})
    borders = applied.borders.get(sheet, {})
    return {cell: _look(raw.get(cell, {}), borders.get(cell, {})) for cell in set(raw) | set(borders)}


# ---------------------------------------------------------------- a saved file

def saved_book(path: Path, *, data_only: bool = False, merged_styles: bool = False):
    """The openpyxl workbook of a saved file, loaded once per content and way of loading.

    Keyed by a digest of the bytes (not the modification time, whose coarse clock can miss
    a rewrite), so a file a test changes is read again. The workbook is shared by every
    caller: read it, never change or save it. ``merged_styles``: see
    ``_load_keeping_merged_styles``. ``data_only``: the values as Excel shows them (cached
    formula results), a date- or time-formatted cell's as the DateSerial it holds, not
    openpyxl's reading of it (``file_rows`` reads those as openpyxl does)."""
    path = Path(path)
    data = path.read_bytes()
    return _loaded(hashlib.sha256(data).hexdigest(), path.suffix.lower(), data_only, merged_styles, path)


def _cached_by_content(load):
    """``load`` once per (digest, suffix, way of loading), whatever the path: tests copy one
    master to a folder of their own and read it there (test_buttons asked for 167 workbooks,
    127 loads keyed by path, 77 by content). openpyxl keeps nothing of the path but its
    suffix, which it checks; the path is the first one met with that content."""
    cache: dict[tuple, object] = {}

    def loaded(digest: str, suffix: str, data_only: bool, merged_styles: bool, path: Path):
        key = (digest, suffix, data_only, merged_styles)
        if key in cache:
            cache[key] = cache.pop(key)          # the most recently used last
        else:
            cache[key] = load(path, data_only, merged_styles)
            while len(cache) > 6:
                del cache[next(iter(cache))]
        return cache[key]
    loaded.cache = cache        # what is loaded, for a reader content with any book of the file's
    return loaded


@_cached_by_content
def _loaded(path: Path, data_only: bool, merged_styles: bool):
    with mock.patch("openpyxl.reader.excel.read_string_table", _raw_string_table):
        if merged_styles:
            return _decoded(_load_keeping_merged_styles(path))
        if data_only:
            with mock.patch("openpyxl.worksheet._reader.from_excel", lambda value, *_a, **_k: DateSerial(value)):
                return _decoded(load_workbook(path, data_only=True))
        return _decoded(load_workbook(path))


# A cell's text in the file is an ST_Xstring (ECMA-376 Part 1, 22.9.2.19): a character XML
# 1.0 cannot carry is written _xHHHH_ (HHHH: its UTF-16 code unit in hex), and a text that
# itself reads like one has its first underscore written _x005F_. Excel decodes both in
# shared strings, inline strings and a formula's saved text before any client sees the
# value; openpyxl decodes none (it only deletes every 「x005F_」 of a shared string, which
# turns 「_x005F_x0007_」 into 「_x0007_」 and leaves 「_x0007_」 as it is), so the model sent
# 「件_x0007_」 where Excel sends 「件」 and U+0007 (qa-94). python-calamine, the file face's
# reader, decodes them too, left to right as here. Excel's strings are UTF-16, so a pair
# of escaped surrogates is one character to it (calamine leaves those as written).
_XSTRING_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def excel_text(text: str) -> str:
    """``text`` as written in the file (ST_Xstring) → the text Excel holds."""
    if "_x" not in text:
        return text
    decoded = _XSTRING_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return decoded.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def _raw_string_table(xml_source) -> list[str]:
    """openpyxl's shared string table without its own half decoding (see _XSTRING_ESCAPE):
    _decoded decodes every text cell of the book once, whichever part it came from."""
    from openpyxl.cell.text import Text
    from openpyxl.xml.constants import SHEET_MAIN_NS
    from openpyxl.xml.functions import iterparse

    strings, tag = [], f"{{{SHEET_MAIN_NS}}}si"
    for _, node in iterparse(xml_source):
        if node.tag == tag:
            strings.append(Text.from_tree(node).content)
            node.clear()
    return strings


def _decoded(wb):
    """``wb`` with every text value as Excel holds it (excel_text); formulas are not values."""
    for ws in wb.worksheets:
        for cell in ws._cells.values():
            value = cell._value
            if type(value) is str and "_x" in value and cell.data_type != "f":
                cell._value = excel_text(value)
    return wb


def _load_keeping_merged_styles(path: Path):
    """openpyxl turns merged followers into style-less MergedCells on load; kept as cells
    here, with their own styles, as Excel keeps them. Read for the cells' looks alone
    (file_looks), the book takes the Stylesheet kept per styles part (``_apply_stylesheet``),
    as ``payload_book`` does: a master near Excel's cell formats limit (test_excel_limits)
    made openpyxl's 65,000 formats twice, for the payload and for its looks."""
    with mock.patch.object(Worksheet, "_clean_merge_range", lambda self, mcr: None), \
            mock.patch("openpyxl.reader.excel.apply_stylesheet", _apply_stylesheet):
        return load_workbook(path)


# ------------------------------------------------- a saved file, as a client reads it

class _Held:
    """A cell of ``payload_book``: what the payload's readers ask of an openpyxl cell (value,
    data_type, has_style, number_format, protection), without the Cell object openpyxl
    binds for every cell, which was half of a load. ``facts``: ``_style_facts`` of its style."""

    __slots__ = ("value", "data_type", "facts")

    def __init__(self, value, data_type: str, facts: tuple):
        self.value, self.data_type, self.facts = value, data_type, facts

    has_style = property(lambda self: self.facts[0])
    number_format = property(lambda self: self.facts[1])
    protection = property(lambda self: self.facts[2])


class _HeldMerged(_Held):
    """A merged area's cell other than its top-left one (openpyxl's MergedCell): no value."""

    __slots__ = ()


def payload_book(path: Path):
    """The saved workbook as ``payload_from_file`` reads it: an openpyxl Workbook (the
    workbook part, styles, names, sheets with their protection, views, tables, row and
    column formats, as openpyxl reads them) whose cells are ``_Held`` (the cached values,
    a date- or time-formatted cell's as the DateSerial it holds: ``saved_book(data_only=True)``
    read faster). The cells are read from the sheet's XML here, as openpyxl's WorkSheetParser
    reads them (``_sheet_of``); what openpyxl does with a sheet beside them is done with its
    own code on the few cells concerned (merged areas, hyperlinks, comments), so the extent,
    values and looks are a normal load's: ``PAYLOAD_BOTH_WAYS`` checks that. Loaded once per
    content, as ``saved_book``; read it, never change it."""
    path = Path(path)
    data = path.read_bytes()
    return _payload_loaded(hashlib.sha256(data).hexdigest(), path.suffix.lower(), True, False, path)


def _read_payload_book(path: Path, _data_only: bool, _merged_styles: bool):
    """ExcelReader.read (data_only) as far as a payload reads the book: no document
    properties or theme; the strings and sheets read by the functions below. (The flags are
    ``_cached_by_content``'s: this reading has one way. ``path`` may be a package held in
    memory, ``_reduced_book``'s.)"""
    from openpyxl.reader.excel import ExcelReader

    reader = ExcelReader(path if isinstance(path, io.BytesIO) else str(path), data_only=True)
    reader.read_manifest()
    strings = _read_strings(reader)
    reader.read_workbook()
    _apply_stylesheet(reader.archive, reader.wb)
    _east_asian_dates(reader.wb)
    _read_payload_sheets(reader, strings)
    reader.parser.assign_names()
    reader.archive.close()
    return reader.wb


def _apply_stylesheet(archive, wb) -> None:
    """openpyxl's ``apply_stylesheet`` (3.1) with the Stylesheet it makes of the styles part
    kept per the part's content (``_STYLESHEETS``): its from_tree was about a sixth of reading
    a book whose sheets are kept (perf-110), and most books a test reads share their styles
    part with the last. The book's fonts, fills and borders are lists of its own, as there;
    the rest (cell formats, number formats, protections, alignments, named styles) is the kept
    Stylesheet's, shared by the books of that styles part, as the sheets' ``_Held`` cells are:
    binding a named style to a book adds nothing the first binding did not. The date
    formats are each book's own (``_east_asian_dates`` adds to them, which a book read for
    its looks alone does not: ``_load_keeping_merged_styles``). A part with no cell formats
    or no named styles is left to openpyxl's own function (its warnings and defaults)."""
    from openpyxl.styles.stylesheet import apply_stylesheet
    from openpyxl.utils.indexed_list import IndexedList
    from openpyxl.xml.constants import ARC_STYLE

    try:
        src = archive.read(ARC_STYLE)
    except KeyError:
        return
    stylesheet = _stylesheet_of(src)
    if not stylesheet.cell_styles or not stylesheet.named_styles:
        apply_stylesheet(archive, wb)
        return
    wb._borders = IndexedList(stylesheet.borders)
    wb._fonts = IndexedList(stylesheet.fonts)
    wb._fills = IndexedList(stylesheet.fills)
    wb._differential_styles.styles = stylesheet.dxfs
    wb._number_formats = stylesheet.number_formats
    wb._protections = stylesheet.protections
    wb._alignments = stylesheet.alignments
    wb._table_styles = stylesheet.tableStyles
    wb._cell_styles = stylesheet.cell_styles
    wb._named_styles = stylesheet.named_styles
    wb._date_formats = set(stylesheet.date_formats)     # the book's own: _east_asian_dates adds to it
    wb._timedelta_formats = stylesheet.timedelta_formats
    for ns in wb._named_styles:
        ns.bind(wb)
    if stylesheet.colors is not None:
        wb._colors = stylesheet.colors.index


_STYLESHEETS: dict[bytes, object] = {}    # styles part's digest -> openpyxl's Stylesheet of it
_STYLESHEETS_KEPT = 8


def _stylesheet_of(src: bytes):
    """openpyxl's Stylesheet of the styles part ``src``, kept per content (``_STYLESHEETS``);
    of a part ``styles_within`` knows as a larger one's first cell formats, the larger one's
    cut to them (``_first_cell_formats``)."""
    from openpyxl.styles.stylesheet import Stylesheet
    from openpyxl.xml.functions import fromstring

    def made():
        if (within := _STYLES_WITHIN.get(digest)) is None:
            return Stylesheet.from_tree(fromstring(src))
        larger, dropped = within
        whole = _stylesheet_of(larger)
        return _first_cell_formats(whole, len(whole.cell_styles) - dropped)

    digest = hashlib.sha256(src).digest()
    return _recalled(_STYLESHEETS, digest, made, limit=_STYLESHEETS_KEPT)


def styles_within(part: bytes, larger: bytes) -> None:
    """Lets openpyxl's Stylesheet of the styles part ``part`` be taken from ``larger``'s
    where ``part`` is ``larger`` with its last cell formats left out, byte for byte otherwise
    (checked here): test_excel_limits' masters near Excel's limit differ so, and openpyxl took
    3 s to make each one's 65,000 formats into objects. What a Stylesheet holds of its cell
    formats is each one's in order of first use (openpyxl's CellStyleList._to_array and
    Stylesheet._normalise_numbers), so the smaller's is a cut of the larger's."""
    head, tail = part.split(b"</cellXfs>", 1)
    whole_head, whole_tail = larger.split(b"</cellXfs>", 1)
    count = rb'<cellXfs count="\d+"'
    head, whole_head = (re.sub(count, b"<cellXfs", h, count=1) for h in (head, whole_head))
    rest = whole_head[len(head):]
    assert whole_tail == tail and whole_head.startswith(head), "not the larger part cut short"
    assert re.fullmatch(rb'(?:<xf\b[^>]*?(?:/>|>.*?</xf>))+', rest, re.S), "more than cell formats cut"
    _STYLES_WITHIN[hashlib.sha256(part).digest()] = (larger, len(re.findall(rb"<xf\b", rest)))


_STYLES_WITHIN: dict[bytes, tuple[bytes, int]] = {}     # part's digest -> (larger part, cell formats it lacks)


def _first_cell_formats(whole, n: int):
    """``whole`` (openpyxl's Stylesheet) as openpyxl reads the part of its first ``n`` cell
    formats alone: the alignments, protections and custom number formats those use, and
    their date and time indexes; the rest shared, never changed."""
    from openpyxl.styles.cell_style import CellStyleList
    from openpyxl.styles.numbers import BUILTIN_FORMATS_MAX_SIZE
    from openpyxl.utils.indexed_list import IndexedList

    cut = object.__new__(type(whole))       # not copy.copy: openpyxl's __copy__ writes and reads the whole tree
    cut.__dict__.update(whole.__dict__)
    styles = whole.cell_styles[:n]
    cut.cellXfs = CellStyleList(xf=whole.cellXfs.xf[:n])
    cut.cell_styles = IndexedList(styles)
    # each list openpyxl adds to in the order the cell formats first use its entries
    cut.alignments = cut.cellXfs.alignments = IndexedList(whole.alignments[:1 + max(s.alignmentId for s in styles)])
    cut.protections = cut.cellXfs.prots = IndexedList(whole.protections[:1 + max(s.protectionId for s in styles)])
    custom = [s.numFmtId - BUILTIN_FORMATS_MAX_SIZE for s in styles if s.numFmtId >= BUILTIN_FORMATS_MAX_SIZE]
    cut.number_formats = IndexedList(whole.number_formats[:1 + max(custom, default=-1)])
    cut.date_formats = {i for i in whole.date_formats if i < n}
    cut.timedelta_formats = {i for i in whole.timedelta_formats if i < n}
    return cut


# The builtin number formats ISO/IEC 29500-1 §18.8.30 lists per UI language for ja-jp
# (27 「[$-411]ge.m.d」, 28 「[$-411]ggge"年"m"月"d"日"」, 31 「yyyy"年"m"月"d"日"」, 32
# 「h"時"mm"分"」 … 36, 50-58 the same), written as an id on the xf with no <numFmt>: Japanese
# Excel shows a date or a time there, so Range.Value is a VBA Date, and python-calamine reads
# the cell as a date. openpyxl knows them as no format (General), and the model sent the
# serial as a number: a face difference the model made, not the product.
EAST_ASIAN_DATE_IDS = frozenset((*range(27, 37), *range(50, 59)))


def _east_asian_dates(wb) -> None:
    """The cell formats of EAST_ASIAN_DATE_IDS counted among the book's date formats."""
    wb._date_formats.update(i for i, style in enumerate(wb._cell_styles) if style.numFmtId in EAST_ASIAN_DATE_IDS)


_payload_loaded = _cached_by_content(_read_payload_book)
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _read_strings(reader) -> Optional[bytes]:
    """ExcelReader.read_strings (openpyxl's read_string_table), each string's text as
    ``_text_content`` reads it; the digest of the part read (None: the book has none), which
    the sheets' parses are kept by (``_sheet_of``). The table is kept per content too
    (``_STRINGS``): a test that writes no text leaves it as it was. Shared by the books of
    that content: read it, never change it."""
    from openpyxl.xml.constants import SHARED_STRINGS

    ct = reader.package.find(SHARED_STRINGS)
    if ct is None:
        return None
    data = reader.archive.read(ct.PartName[1:])
    digest = hashlib.sha256(data).digest()

    def read() -> list[str]:
        root = ET.fromstring(data)
        # decoded as Excel decodes them (excel_text), not as openpyxl half does (_raw_string_table)
        return [excel_text(_text_content(si)) for si in root.iter(_MAIN + "si")]
    reader.shared_strings = _recalled(_STRINGS, digest, read, limit=8)
    return digest


_STRINGS: dict[bytes, list[str]] = {}


def _recalled(cache: dict, key, make, limit: int):
    """``cache[key]``, made by ``make()`` where missing; the most recently used kept last, the
    least recently used dropped past ``limit`` entries."""
    if key in cache:
        cache[key] = value = cache.pop(key)
        return value
    value = make()
    _kept(cache, key, value, limit)
    return value


def _text_content(node) -> str:
    """openpyxl's ``Text.from_tree(node).content`` (a shared or inline string: its <t>, then
    each run's <t>, whatever their namespace; the last one where an element has several),
    without the objects it makes on the way (a third of reading a sheet of inline strings)."""
    plain, runs = None, []
    for el in node:
        name = el.tag.rpartition("}")[2]
        if name == "t":
            plain = el.text
        elif name == "r":
            text = None
            for part in el:
                if part.tag.rpartition("}")[2] == "t":
                    text = part.text
            runs.append(text)
    return "".join(([] if plain is None else [plain]) + [text for text in runs if text is not None])


def _read_payload_sheets(reader, strings: Optional[bytes]) -> None:
    """ExcelReader.read_worksheets without what no payload reads (drawings, charts, pivot
    tables, conditional formats), the cells bound as ``_Held``. ``strings``: the digest of
    the shared strings part (``_read_strings``), which a sheet's bound cells depend on where
    they refer to it."""
    from openpyxl.comments.comment_sheet import CommentSheet
    from openpyxl.packaging.relationship import RelationshipList, get_dependents, get_rels_path
    from openpyxl.worksheet.table import Table
    from openpyxl.xml.constants import COMMENTS_NS
    from openpyxl.xml.functions import fromstring

    wb = reader.wb
    facts = _StyleFacts(wb)
    for sheet, rel in reader.parser.find_sheets():
        if rel.target not in reader.valid_files:
            continue
        if "chartsheet" in rel.Type:
            reader.read_chartsheet(sheet, rel)
            continue
        rels_path = get_rels_path(rel.target)
        rels = get_dependents(reader.archive, rels_path) if rels_path in reader.valid_files else RelationshipList()
        ws = _PayloadWorksheet(wb, sheet.name)     # wb.create_sheet's, its defaults made when read
        wb._add_sheet(ws)
        ws._rels = rels
        parsed = _sheet_of(reader.archive.read(rel.target), reader.shared_strings, wb._date_formats, facts, strings)
        binder = _PayloadSheetBinder(ws, parsed)
        ws._cells = parsed.cells
        binder.bind_merged_cells(facts)
        binder.promote_linked(facts)
        binder.bind_hyperlinks()
        binder.bind_col_dimensions()
        binder.bind_row_dimensions()
        binder.bind_tables()
        binder.bind_properties()
        for r in rels.find(COMMENTS_NS):    # a cell with a note exists, as openpyxl binds the note
            data = reader.archive.read(r.target)
            refs = _noted_refs(data)
            if refs is None:                # openpyxl's own reading, and whatever it raises
                refs = [ref for ref, _comment in CommentSheet.from_tree(fromstring(data)).comments]
            for ref in refs:
                ws[ref]
        for t in binder.tables:
            ws.add_table(Table.from_tree(fromstring(reader.archive.read(t))))
        ws.sheet_state = sheet.state


class _PayloadWorksheet(Worksheet):
    """openpyxl's Worksheet as ``Worksheet(wb, title)`` makes it, each of the defaults in
    ``_LAZY`` (a page setup, margins, header and footer, views, protection, …) made when first
    read rather than with the sheet: a payload reads few of them, a sheet's file part sets
    some (``bind_properties``), and making all of them was most of a sheet's cost beside its
    cells (0.75 ms a sheet, 4,389 sheets in test_error_cells; perf-110). A default read is
    made by the same call as ``Worksheet._setup``'s, so it is the same as a normal load's;
    test_payload_book holds every attribute of a plain Worksheet to this one's."""

    from openpyxl.formatting.formatting import ConditionalFormattingList
    from openpyxl.workbook.defined_name import DefinedNameDict
    from openpyxl.worksheet.cell_range import MultiCellRange
    from openpyxl.worksheet.datavalidation import DataValidationList
    from openpyxl.worksheet.dimensions import SheetFormatProperties
    from openpyxl.worksheet.filters import AutoFilter
    from openpyxl.worksheet.header_footer import HeaderFooter
    from openpyxl.worksheet.page import PageMargins, PrintOptions, PrintPageSetup
    from openpyxl.worksheet.pagebreak import ColBreak, RowBreak
    from openpyxl.worksheet.print_settings import PrintArea
    from openpyxl.worksheet.properties import WorksheetProperties
    from openpyxl.worksheet.protection import SheetProtection
    from openpyxl.worksheet.scenario import ScenarioList
    from openpyxl.worksheet.views import SheetViewList
    _LAZY = {"HeaderFooter": lambda ws, make=HeaderFooter: make(),
             "row_breaks": lambda ws, make=RowBreak: make(),
             "col_breaks": lambda ws, make=ColBreak: make(),
             "merged_cells": lambda ws, make=MultiCellRange: make(),
             "data_validations": lambda ws, make=DataValidationList: make(),
             "page_setup": lambda ws, make=PrintPageSetup: make(worksheet=ws),
             "print_options": lambda ws, make=PrintOptions: make(),
             "_print_area": lambda ws, make=PrintArea: make(),
             "page_margins": lambda ws, make=PageMargins: make(),
             "views": lambda ws, make=SheetViewList: make(),
             "protection": lambda ws, make=SheetProtection: make(),
             "defined_names": lambda ws, make=DefinedNameDict: make(),
             "auto_filter": lambda ws, make=AutoFilter: make(),
             "conditional_formatting": lambda ws, make=ConditionalFormattingList: make(),
             "sheet_properties": lambda ws, make=WorksheetProperties: make(),
             "sheet_format": lambda ws, make=SheetFormatProperties: make(),
             "scenarios": lambda ws, make=ScenarioList: make()}
    del (ConditionalFormattingList, DefinedNameDict, MultiCellRange, DataValidationList, SheetFormatProperties,
         AutoFilter, HeaderFooter, PageMargins, PrintOptions, PrintPageSetup, ColBreak, RowBreak, PrintArea,
         WorksheetProperties, SheetProtection, ScenarioList, SheetViewList)

    def __init__(self, parent, title: str):
        from openpyxl.packaging.relationship import RelationshipList
        from openpyxl.worksheet.dimensions import DimensionHolder
        from openpyxl.worksheet.table import TableList

        self._parent = parent
        self.title = title or self._default_title      # _WorkbookChild's setter: a duplicate renamed
        self.row_dimensions = DimensionHolder(worksheet=self, default_factory=self._add_row)
        self.column_dimensions = DimensionHolder(worksheet=self, default_factory=self._add_column)
        self._cells, self._charts, self._images, self._comments, self._pivots, self._hyperlinks = {}, [], [], [], [], []
        self._rels, self._drawing, self._tables = RelationshipList(), None, TableList()
        self.sheet_state, self._current_row, self.legacy_drawing = "visible", 0, None
        self._print_rows = self._print_cols = None

    def __getattr__(self, name: str):
        """A default of ``_LAZY`` not yet read (only names the instance lacks come here)."""
        make = type(self)._LAZY.get(name)
        if make is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        value = make(self)
        setattr(self, name, value)
        return value


# The attributes CommentRecord takes (openpyxl.comments.comment_sheet): another one makes
# its from_tree raise, which _noted_refs leaves to it (from_tree drops namespaced ones,
# Excel's xr:uid say).
_NOTE_ATTRIBUTES = frozenset(("ref", "authorId", "guid", "shapeId"))


def _noted_refs(data: bytes) -> Optional[list[str]]:
    """The cells a comments part gives notes to, in its order, as
    ``CommentSheet.from_tree(fromstring(data)).comments`` yields their refs, without the
    openpyxl objects it makes of each note (its descriptors were nearly all of reading a
    sheet of 32,767 notes, test_buttons' Shapes.Count case). As from_tree: elements by
    their local name, every child of the last commentList a record whatever its tag, the
    last authors' author list, a record's authorId an index into it (0 where absent),
    namespaced attributes dropped.
    None where openpyxl's reading could raise or read otherwise (no authors, no
    commentList, an unnamespaced attribute on the root, one CommentRecord does not take,
    an authorId that is not a plain index of an author; a declaration, comment or CDATA
    section, ``<!``, which openpyxl's defused parser may refuse; a NUL byte, UTF-16 say):
    the caller reads it openpyxl's way then."""
    if b"<!" in data or b"\0" in data:
        return None
    root = ET.fromstring(data)
    if any(k[0] != "{" for k in root.attrib):       # CommentSheet(**attributes) would refuse it
        return None
    authors = records = None
    for el in root:
        name = el.tag.rpartition("}")[2]
        if name == "authors":
            authors = sum(1 for a in el if a.tag.rpartition("}")[2] == "author")
        elif name == "commentList":
            records = list(el)
    if authors is None or records is None:
        return None
    refs = []
    for record in records:
        attrib = record.attrib
        author = attrib.get("authorId", "0")
        if (not _NOTE_ATTRIBUTES.issuperset(k for k in attrib if k[0] != "{") or "ref" not in attrib
                or not (author.isascii() and author.isdigit()) or int(author) >= authors):
            return None
        refs.append(attrib["ref"])
    return refs


class _StyleFacts:
    """(has_style, number_format, protection, the style array as a tuple) of a cell styled
    so, asked of a real openpyxl cell once per style of the book."""

    def __init__(self, wb):
        from openpyxl.worksheet.worksheet import Worksheet

        self.wb, self.ws = wb, Worksheet(wb)
        self.by_array: dict[tuple, tuple] = {}
        self.by_id: dict[int, tuple] = {}
        self.merged: dict[tuple, tuple] = {}     # _merged_looks, per kind of merged area
        self.signs: dict = {}                    # ``sign``, per style id

    def of_array(self, array) -> tuple:
        from openpyxl.cell import Cell
        from openpyxl.styles.cell_style import StyleArray

        key = tuple(array)
        held = self.by_array.get(key)
        if held is None:
            cell = Cell(self.ws, row=1, column=1, style_array=StyleArray(key))
            held = self.by_array[key] = (cell.has_style, cell.number_format, cell.protection, key)
        return held

    def of_id(self, style_id: int) -> tuple:
        held = self.by_id.get(style_id)
        if held is None:
            held = self.by_id[style_id] = self.of_array(self.wb._cell_styles[style_id])
        return held

    def sign(self, style_id) -> tuple:
        """What a ``_Held`` of this style id holds, as a key that books can share: its style
        array, number format and protection (``of_id``'s facts, the protection as values:
        openpyxl's StyleProxy has no hash)."""
        signed = self.signs.get(style_id)
        if signed is None:
            _has_style, number_format, protection, array = self.by_id.get(style_id) or self.of_id(style_id)
            signed = self.signs[style_id] = (array, number_format, protection.locked, protection.hidden)
        return signed

    def real(self, held, ws, row: int, col: int):
        """The openpyxl cell a ``_Held`` stands for, in ``ws`` at (row, col)."""
        from openpyxl.cell import Cell, MergedCell
        from openpyxl.styles.cell_style import StyleArray

        if not isinstance(held, _Held):
            return held
        if isinstance(held, _HeldMerged):
            cell = MergedCell(ws, row, col)
            cell._style = StyleArray(held.facts[3])
            return cell
        cell = Cell(ws, row=row, column=col, style_array=StyleArray(held.facts[3]))
        cell._value, cell.data_type = held.value, held.data_type
        return cell


@functools.lru_cache(maxsize=None)
def _column_numbers() -> dict[str, int]:
    """Column letters (upper case, as far as openpyxl's column_index_from_string reads
    them: ZZZ) -> their number."""
    from openpyxl.utils import get_column_letter

    return {get_column_letter(n): n for n in range(1, 18_279)}


_COLS_TAG = _MAIN + "cols"


def _sheet_of(data: bytes, strings: list, date_formats: set, facts: _StyleFacts, strings_digest: Optional[bytes]):
    """What openpyxl's WorkSheetParser (data_only, its from_excel as DateSerial) reads of a
    sheet's part that a payload needs: every <c> as parse_cell reads it (position, value,
    type, style), the rows' and columns' attributes, protection, views, merged areas,
    hyperlinks and table parts (openpyxl's own classes for these).

    Read in two steps, each kept: the part's parse per its content alone (``_RAW``, by
    ``_sheet_read``: each cell's style id and shared-string index as written), and its cells
    bound to a book (``_SHEETS``, by ``_sheet_bound``: ``_Held`` cells with the style facts,
    strings and dates of the book), kept per the part's digest and what binding used of the
    book: the strings part's digest (``strings_digest``) where a cell refers to it, the facts of
    each style id the cells carry and which of them are date formats. Most payloads are of a
    master a test changed in a cell or two of one sheet, and reading the other sheets again
    was most of building a payload (perf-105 in docs/performance.md); a click that writes a
    look writes a new styles part, which leaves the facts of the ids a sheet uses as they
    were (perf-108). Each call gets its own dicts and openpyxl objects, which binding the
    sheet changes (``_sheet_parsed``); the ``_Held`` cells are shared, never changed."""
    digest = hashlib.sha256(data).digest()
    raw = _RAW.get(digest)
    if raw is None:
        raw = _sheet_read(data)
        _RAW.keep(digest, raw, len(raw[0]))
    else:
        _RAW.touch(digest)
    cells, row_dimensions, column_dimensions, parts, style_ids, indexed = raw
    key = (digest, strings_digest if indexed else None, tuple(facts.sign(i) for i in style_ids),
           frozenset(i for i in style_ids if i in date_formats))
    held = _SHEETS.get(key)
    if held is None:
        held = (_sheet_bound(cells, strings, date_formats, facts), row_dimensions, column_dimensions, parts)
        _SHEETS.keep(key, held, len(held[0]))
    else:
        _SHEETS.touch(key)
    return _sheet_parsed(*held)


class _KeptSheets(dict):
    """``_sheet_of``'s parses (``_RAW``) or bound cells (``_SHEETS``), each a tuple whose
    first item is the cells, the least recently used dropped past ``COUNT`` of them or
    ``CELLS`` cells among them (a master's 20 sheets are a few thousand cells; a test's
    2,000 × 40 sheet 80,000): one worker's memory stays bounded however many books it reads."""

    COUNT, CELLS = 160, 1_000_000

    def __init__(self):
        super().__init__()
        self.cells = 0

    def keep(self, key, held: tuple, cells: int) -> None:
        if cells > self.CELLS:
            return
        while self and (len(self) >= self.COUNT or self.cells + cells > self.CELLS):
            self.cells -= len(self.pop(next(iter(self)))[0])
        self[key] = held
        self.cells += cells

    def touch(self, key) -> None:
        self[key] = self.pop(key)      # the most recently used last


_RAW = _KeptSheets()        # sheet part's digest -> _sheet_read's parse
_SHEETS = _KeptSheets()     # (digest, strings, style facts, date ids) -> _sheet_bound's cells, with the parse's rest


def _sheet_parsed(cells: dict, row_dimensions: dict, column_dimensions: dict, parts: list):
    """A sheet's parse as openpyxl's WorkSheetParser holds it, made of what ``_sheet_read``
    kept: dicts of its own (binding the sheet changes them: the merged areas its cells, the
    rows' and columns' style ids into styles) and openpyxl's objects made anew from the
    elements kept (a hyperlink is bound to its cell as it is)."""
    from types import SimpleNamespace

    from openpyxl.worksheet import _reader as r
    from openpyxl.worksheet.hyperlink import HyperlinkList
    from openpyxl.worksheet.merge import MergeCells
    from openpyxl.worksheet.protection import SheetProtection
    from openpyxl.worksheet.table import TablePartList
    from openpyxl.worksheet.views import SheetViewList

    parsed = SimpleNamespace(cells=dict(cells), row_dimensions={k: dict(v) for k, v in row_dimensions.items()},
                             column_dimensions={k: dict(v) for k, v in column_dimensions.items()},
                             hyperlinks=HyperlinkList(), tables=TablePartList(), merged_cells=None)
    for tag, part in parts:
        if tag == r.PROT_TAG:
            parsed.protection = SheetProtection.from_tree(part)
            if part.get("password") is not None:
                parsed.protection.set_password(part.get("password"), True)
        elif tag == r.VIEWS_TAG:
            parsed.views = SheetViewList.from_tree(part)
        elif tag == r.MERGE_TAG:
            parsed.merged_cells = MergeCells.from_tree(part)
        elif tag == r.HYPERLINK_TAG:
            parsed.hyperlinks = HyperlinkList.from_tree(part)
        elif tag == r.TABLE_TAG:
            parsed.tables = TablePartList.from_tree(part)
    return parsed


# A cell of ``_sheet_read`` whose value is an index into the book's shared strings (its
# own object: a file's t attribute is any text).
_INDEXED = object()


def _sheet_read(data: bytes) -> tuple:
    """The part read for ``_sheet_parsed``, nothing of the book in it: (cells as (value,
    type, style id as written), rows' attributes, columns' attributes, [(tag, element)] of
    the parts openpyxl makes objects of in the file's order, the cells' style ids in order
    of first use, whether a cell refers to the shared strings). A cell's value is what
    parse_cell makes of it without the book: a shared string's index (type ``_INDEXED``),
    a number not yet a date (``_sheet_bound`` makes those)."""
    from openpyxl.utils import coordinate_to_tuple, get_column_letter
    from openpyxl.utils.datetime import from_ISO8601
    from openpyxl.worksheet import _reader as r

    cells, row_dimensions, column_dimensions, parts = {}, {}, {}, []
    style_ids, indexed, cast = {}, False, r._cast_number
    columns = _column_numbers()
    value_tag, inline = r.VALUE_TAG, r.INLINE_STRING
    kept_tags = (r.PROT_TAG, r.VIEWS_TAG, r.MERGE_TAG, r.HYPERLINK_TAG, r.TABLE_TAG)
    root = ET.fromstring(data)
    data_parts = []
    for part in root:
        tag = part.tag
        if tag == r.DATA_TAG:
            data_parts.append(part)
        elif tag == _COLS_TAG:
            for col in part:
                if col.tag == r.COL_TAG:
                    attrs = dict(col.attrib)
                    attrs["index"] = get_column_letter(int(attrs["min"]))
                    column_dimensions[attrs["index"]] = attrs
        elif tag in kept_tags:
            parts.append((tag, part))
    row_counter = 0
    for data_part in data_parts:
        for row_el in data_part:
            if row_el.tag != r.ROW_TAG:
                continue
            attrs = row_el.attrib
            if "r" in attrs:
                try:
                    row_counter = int(attrs["r"])
                except ValueError:
                    val = float(attrs["r"])
                    if not val.is_integer():
                        raise ValueError(f"{attrs['r']} is not a valid row number")
                    row_counter = int(val)
            else:
                row_counter += 1
            col_counter = 0
            if {k for k in attrs if not k.startswith("{")} - {"r", "spans"}:
                row_dimensions[str(row_counter)] = dict(attrs)
            digits = attrs.get("r", "")
            digits = digits if digits.isdigit() and digits.isascii() else None
            for el in row_el:
                get = el.get
                data_type, coordinate, style_id = get("t", "n"), get("r"), get("s", 0)
                if style_id:
                    style_id = int(style_id)
                value = None if data_type == "inlineStr" else (el.findtext(value_tag, None) or None)
                if coordinate:
                    # coordinate_to_tuple's reading, its letters looked up directly where the
                    # cell's row is its row's (the row counted from the same digits)
                    col = digits and coordinate.endswith(digits) and columns.get(coordinate[:-len(digits)])
                    if col:
                        row = row_counter
                    else:
                        row, col = coordinate_to_tuple(coordinate)
                    col_counter = col
                else:
                    col_counter += 1
                    row, col = row_counter, col_counter
                if value is not None:
                    if data_type == "n":
                        value = cast(value)
                    elif data_type == "s":
                        data_type, value, indexed = _INDEXED, int(value), True
                    elif data_type == "b":
                        value = bool(int(value))
                    elif data_type == "str":
                        data_type, value = "s", excel_text(value)
                    elif data_type == "d":
                        value = from_ISO8601(value)
                elif data_type == "inlineStr":
                    child = el.find(inline)
                    if child is not None:
                        data_type, value = "s", excel_text(_text_content(child))
                cells[(row, col)] = (value, data_type, style_id)
                style_ids[style_id] = None
    return cells, row_dimensions, column_dimensions, parts, tuple(style_ids), indexed


def _sheet_bound(raw: dict, strings: list, date_formats: set, facts: _StyleFacts) -> dict:
    """``_sheet_read``'s cells bound to a book as openpyxl's parse_cell binds them: each a
    ``_Held`` with its style's facts, a shared string's text, a number in a date format a
    DateSerial (an error value where it is none)."""
    cells, by_id, of_id = {}, facts.by_id, facts.of_id
    for at, (value, data_type, style_id) in raw.items():
        if data_type is _INDEXED:
            data_type, value = "s", strings[value]
        elif value is not None and data_type == "n" and style_id in date_formats:
            data_type = "d"
            try:
                value = DateSerial(value)
            except (OverflowError, ValueError):
                data_type, value = "e", "#VALUE!"
        cells[at] = _Held(value, data_type, by_id.get(style_id) or of_id(style_id))
    return cells


def _merged_looks(facts: _StyleFacts, start, end, h: int, w: int):
    """openpyxl's MergedCellRange on an area of h × w cells whose top-left and bottom-right
    cells are ``start`` and ``end`` (None: not in the file): the kind (_Held, _HeldMerged)
    and facts of its top-left cell afterwards, and a _HeldMerged per other cell."""
    from openpyxl.cell import MergedCell
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.merge import MergedCellRange

    scratch = facts.ws
    scratch._cells = {}
    for held, at in ((start, (1, 1)), (end, (h, w))):
        if held is not None:
            scratch._cells[at] = facts.real(held, scratch, *at)
    scratch._clean_merge_range(MergedCellRange(scratch, f"A1:{get_column_letter(w)}{h}"))
    top_left = scratch._cells[(1, 1)]
    followers = {at: _HeldMerged(None, "n", facts.of_array(cell._style))
                 for at, cell in scratch._cells.items() if at != (1, 1)}
    return (_HeldMerged if isinstance(top_left, MergedCell) else _Held), facts.of_array(top_left._style), followers


class _PayloadSheetBinder:
    """openpyxl's WorksheetReader binding a parsed sheet (``_sheet_of``) to its worksheet:
    its own code for the hyperlinks, rows, columns, tables and properties; the merged areas
    through ``bind_merged_cells`` below."""

    from openpyxl.worksheet._reader import WorksheetReader as _reader
    bind_hyperlinks = _reader.bind_hyperlinks
    normalize_merged_cell_link = _reader.normalize_merged_cell_link
    bind_col_dimensions = _reader.bind_col_dimensions
    bind_row_dimensions = _reader.bind_row_dimensions
    bind_tables = _reader.bind_tables
    bind_properties = _reader.bind_properties
    del _reader

    def __init__(self, ws, parsed):
        self.ws, self.parser, self.tables = ws, parsed, []

    def bind_merged_cells(self, facts: _StyleFacts) -> None:
        """WorksheetReader.bind_merged_cells as it leaves the cells: every cell of a merged
        area there (its top-left one made if the file has none), the others openpyxl's
        MergedCell, their looks (borders from the top-left cell, its protection) as
        openpyxl's MergedCellRange gives them. Those cost a few style look-ups per cell
        (a fifth of a normal load), so openpyxl's own code runs on the area folded to at
        most 3 × 3 cells (first, inner and last row and column: the cells of a class get
        the same look), once per kind of area (its fold, its top-left and bottom-right
        cells' styles), and the looks are copied out.

        What openpyxl drops there, a value the file holds under an area's hidden part, is
        kept aside as ``ws._under_merges`` (cell -> its ``_Held``): Excel keeps it, and its
        clients send it (``file_under_merges``)."""
        from openpyxl.worksheet.cell_range import CellRange, MultiCellRange

        under = self.ws._under_merges = {}
        if not self.parser.merged_cells:
            return
        cells, ranges = self.ws._cells, []
        for cr in self.parser.merged_cells.mergeCell:
            area = CellRange(cr.ref)
            r1, c1, r2, c2 = area.min_row, area.min_col, area.max_row, area.max_col
            h, w = 1 + (r2 > r1) + (r2 > r1 + 1), 1 + (c2 > c1) + (c2 > c1 + 1)
            start = cells.get((r1, c1))
            end = cells.get((r2, c2)) if (r2, c2) != (r1, c1) else None
            key = (h, w) + tuple(held and (type(held), held.facts[3]) for held in (start, end))
            if key not in facts.merged:
                facts.merged[key] = _merged_looks(facts, start, end, h, w)
            kind, start_facts, followers = facts.merged[key]
            for r in range(r1, r2 + 1):
                for c in range(c1, c2 + 1):
                    held = cells.get((r, c)) if (r, c) != (r1, c1) else None
                    if held is not None and held.value is not None:
                        under[(r, c)] = held
            if kind is _Held and start is not None:
                cells[(r1, c1)] = _Held(start.value, start.data_type, start_facts)
            else:
                cells[(r1, c1)] = kind(None, "n", start_facts)
            for r in range(r1, r2 + 1):
                sr = 1 if r == r1 else h if r == r2 else 2
                for c in range(c1, c2 + 1):
                    if r != r1 or c != c1:
                        cells[(r, c)] = followers[(sr, 1 if c == c1 else w if c == c2 else 2)]
            ranges.append(area)
        self.ws.merged_cells = MultiCellRange(ranges)

    def promote_linked(self, facts: _StyleFacts) -> None:
        """Make the cells a hyperlink lands on openpyxl's own again (a Cell takes the link's
        target as its value when empty; a MergedCell refuses the link, its area's top-left
        cell takes it), so that bind_hyperlinks does to them what it does in a normal load."""
        from openpyxl.utils import range_boundaries

        cells = self.ws._cells
        for link in self.parser.hyperlinks.hyperlink:
            min_col, min_row, max_col, max_row = range_boundaries(link.ref)
            for r in range(min_row, max_row + 1):
                for c in range(min_col, max_col + 1):
                    held = cells.get((r, c))
                    if isinstance(held, _HeldMerged) and ":" not in link.ref:
                        for area in self.ws.merged_cells.ranges:
                            start = (area.min_row, area.min_col)
                            if (area.min_row <= r <= area.max_row and area.min_col <= c <= area.max_col
                                    and isinstance(cells.get(start), _Held)):
                                cells[start] = facts.real(cells[start], self.ws, *start)
                    if isinstance(held, _Held):
                        cells[(r, c)] = facts.real(held, self.ws, r, c)


def _rgb(color) -> Optional[str]:
    if color is None or getattr(color, "type", None) != "rgb" or not isinstance(color.rgb, str):
        return None
    return color.rgb[-6:].upper()


def file_looks(path: Path, sheet: str) -> dict[tuple[int, int], dict]:
    """The look attributes of every styled cell of a saved sheet, as ``applied_looks``."""
    ws = saved_book(path, merged_styles=True)[sheet]
    out = {}
    for (r, col), cell in ws._cells.items():
        if not cell.has_style:
            continue
        font, fill, border, al = cell.font, cell.fill, cell.border, cell.alignment
        out[(r, col)] = {
            "font_name": font.name,
            "font_size": None if font.sz is None else float(font.sz),
            "bold": bool(font.b),
            "font_color": _rgb(font.color),
            "underline": font.u not in (None, "none"),
            "fill": _rgb(fill.fgColor) if fill.fill_type == "solid" else None,
            "border": all(getattr(border, s).style is not None for s in SIDES),
            "h_align": None if al.horizontal in (None, "general") else al.horizontal,
            "v_align": None if al.vertical in (None, "bottom") else al.vertical,
            "wrap": bool(al.wrap_text),
            "number_format": None if cell.number_format == "General" else cell.number_format,
            "border_color": _border_colour(border),
            "locked": cell.protection.locked is not False,
        }
    return out


def _border_colour(border) -> Optional[str]:
    """The colour of a border on all four sides (None: no such border; "mixed": sides differ)."""
    if not all(getattr(border, s).style is not None for s in SIDES):
        return None
    colours = {_rgb(getattr(border, s).color) for s in SIDES}
    return colours.pop() if len(colours) == 1 else "mixed"


def file_merged_areas(wb) -> dict[str, list[list[int]]]:
    """Sheet -> its merged areas [r1, c1, r2, c2] in a loaded workbook (sheets without any left out)."""
    return {ws.title: sorted([m.min_row, m.min_col, m.max_row, m.max_col] for m in ws.merged_cells.ranges)
            for ws in wb.worksheets if ws.merged_cells.ranges}


# An array formula's <f t="array" ref="...">, in any quoting or prefix: a sheet without this
# text has none, whatever openpyxl would make of it.
_ARRAY_FORMULA = re.compile(rb"""\bt\s*=\s*["'](?:array|dataTable)["']""")   # a data table's too


def file_array_formulas(path: Path) -> dict[str, list[list[int]]]:
    """Sheet -> the ranges of its array formulas (CSE, {=...}) in a saved file, as openpyxl
    reads them with the formulas: Excel refuses a write into part of one (1004, "You can't
    change part of an array").

    Only a file with the text of one in a sheet's part is loaded with its formulas: that
    load, beside the values-only one every payload needs, was a third of what building a
    payload cost, and the masters have no array formula."""
    from openpyxl.worksheet.formula import ArrayFormula

    return _formula_areas(path, ArrayFormula)


def file_data_tables(path: Path) -> dict[str, list[list[int]]]:
    """Sheet -> the result ranges of its What-If data tables (「データ テーブル」, <f
    t="dataTable" ref=...> on the results' first cell, shown as {=TABLE(…)}) in a saved file:
    Excel refuses a value into any of their cells, or a clear or merge over part of them
    (1004, "Cannot change part of a data table"). Loaded with the formulas only where a
    sheet's part holds the word (``_may_hold_array_formulas``)."""
    from openpyxl.worksheet.formula import DataTableFormula

    return _formula_areas(path, DataTableFormula)


def _formula_areas(path: Path, kind: type) -> dict[str, list[list[int]]]:
    """Sheet -> the ranges [r1, c1, r2, c2] of the formulas of openpyxl's ``kind`` (an array
    formula, a data table: each keeps its range in ``ref``) in a saved file, loaded with the
    formulas only where a sheet's part may hold one (``_may_hold_array_formulas``)."""
    if _VBA_WITHIN_PAYLOAD.get("path") == str(path):     # asked twice per payload: once read
        if "arrays" not in _VBA_WITHIN_PAYLOAD:
            _VBA_WITHIN_PAYLOAD["arrays"] = _may_hold_array_formulas(path)
        may_hold = _VBA_WITHIN_PAYLOAD["arrays"]
    else:
        may_hold = _may_hold_array_formulas(path)
    if not may_hold:
        return {}
    out: dict[str, list[list[int]]] = {}
    for ws in saved_book(path).worksheets:
        for cell in ws._cells.values():
            if isinstance(cell.value, kind) and cell.value.ref:
                first, _, last = str(cell.value.ref).replace("$", "").partition(":")
                (r1, c1), (r2, c2) = parse_ref(first), parse_ref(last or first)
                out.setdefault(ws.title, []).append([r1, c1, r2, c2])
    return out


def _may_hold_array_formulas(path: Path) -> bool:
    """False only when no sheet part of the workbook holds an array formula's text; a package
    laid out otherwise than xl/workbook.xml and its sheets is left to openpyxl."""
    try:
        with zipfile.ZipFile(path) as z:
            parts = set(z.namelist())
            book_rels = _rels(z, "xl/workbook.xml")
            sheets = [book_rels.get(sheet.get(f"{{{_NS['r']}}}id"))
                      for sheet in ET.fromstring(z.read("xl/workbook.xml")).find("m:sheets", _NS)]
            return not sheets or any(part not in parts or _holds_array_formula(z.read(part)) for part in sheets)
    except (KeyError, TypeError, ET.ParseError):
        return True


def _holds_array_formula(xml: bytes) -> bool:
    """_ARRAY_FORMULA found in the part (its word looked for first: a search of every sheet
    for the pattern was a tenth of building a payload)."""
    return (b"array" in xml or b"dataTable" in xml) and _ARRAY_FORMULA.search(xml) is not None


TEXT_FORMAT = "@"    # 文字列: builtin numFmtId 49, or a custom format exactly "@" (openpyxl reads both so)


def file_text_formats(wb) -> dict[str, dict]:
    """Sheet -> where its number format is Text ("@") in a loaded workbook, as Excel resolves
    a cell's format: the cell's own where the file has the cell, else its row's (a row
    formatted whole), else its column's. {"cells": [[r, c, is_text], ...] (cells whose own
    format decides: every Text one, and the others inside a Text row or column), "rows":
    [r, ...], "cols": [[first, last], ...]}; sheets without any Text left out."""
    from openpyxl.utils import column_index_from_string

    out: dict[str, dict] = {}
    for ws in wb.worksheets:
        cols = []
        for key, d in ws.column_dimensions.items():
            if d.has_style and d.number_format == TEXT_FORMAT:
                lo = d.min or column_index_from_string(key)
                cols.append([lo, d.max or lo])
        rows = sorted(r for r, d in ws.row_dimensions.items() if d.has_style and d.number_format == TEXT_FORMAT)
        text_rows = set(rows)
        in_text = (lambda r, col: r in text_rows or any(lo <= col <= hi for lo, hi in cols))
        # openpyxl adds an empty cell without a style wherever a reader iterates over rows
        # (the workbook is shared): such a cell is taken as one the file does not hold.
        cells = sorted([r, col, cell.number_format == TEXT_FORMAT] for (r, col), cell in ws._cells.items()
                       if cell.number_format == TEXT_FORMAT
                       or ((rows or cols) and in_text(r, col) and (cell.has_style or cell.value is not None)))
        if cells or rows or cols:
            out[ws.title] = {"cells": cells, "rows": rows, "cols": sorted(cols)}
    return out


def file_merges(path: Path, sheet: str) -> set[Rect]:
    ws = saved_book(path)[sheet]
    return {(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges}


def file_links(path: Path, sheet: str) -> dict[tuple[int, int], str]:
    """Internal links: cell -> "'sheet'!A1" (external targets as they are)."""
    ws = saved_book(path)[sheet]
    out = {}
    for row in ws.iter_rows():
        for cell in row:
            if cell.hyperlink is not None:
                h = cell.hyperlink
                out[(cell.row, cell.column)] = h.location if h.location else h.target
    return out


def file_heights(path: Path, sheet: str) -> dict[int, float]:
    ws = saved_book(path)[sheet]
    return {r: round(d.height, 1) for r, d in ws.row_dimensions.items() if d.height is not None}


def file_widths(path: Path, sheet: str) -> dict[int, float]:
    return _widths_of(saved_book(path)[sheet])


def _widths_of(ws) -> dict[int, float]:
    """A loaded sheet's custom column widths (characters), each column's."""
    from openpyxl.utils import column_index_from_string

    out = {}
    for key, d in ws.column_dimensions.items():
        if d.width is None or not d.customWidth:
            continue
        lo = d.min or column_index_from_string(key)
        hi = d.max or lo
        for col in range(lo, hi + 1):
            out[col] = round(d.width, 1)
    return out


def file_hidden_cols(path: Path, sheet: str) -> set[int]:
    return _hidden_cols_of(saved_book(path)[sheet])


def _hidden_cols_of(ws) -> set[int]:
    from openpyxl.utils import column_index_from_string

    out = set()
    for key, d in ws.column_dimensions.items():
        if d.hidden:
            lo = d.min or column_index_from_string(key)
            out.update(range(lo, (d.max or lo) + 1))
    return out


def file_freeze(path: Path, sheet: str) -> Optional[tuple[int, int]]:
    """The first cell that scrolls (None: no frozen panes)."""
    ws = saved_book(path)[sheet]
    return parse_ref(ws.freeze_panes) if ws.freeze_panes else None


def file_shown_index(path: Path) -> int:
    """The shown sheet's place among every tab (workbook.xml's activeTab, 0 without it), as
    Remote.bas sends it (ActiveSheet.Index - 1, chart sheets counted)."""
    with zipfile.ZipFile(path) as z:
        book = z.read("xl/workbook.xml").decode("utf-8")
    view = re.search(r"<(?:\w+:)?workbookView\b[^>]*>", book)
    tab = re.search(r'\bactiveTab="(\d+)"', view.group(0)) if view else None
    return int(tab.group(1)) if tab else 0


def file_shown(path: Path) -> str:
    """The name of the sheet a saved book opens on (file_shown_index)."""
    with zipfile.ZipFile(path) as z:
        book = z.read("xl/workbook.xml").decode("utf-8")
    names = re.findall(r'<(?:\w+:)?sheet\b[^>]*?\bname="([^"]*)"', book)
    return html.unescape(names[file_shown_index(path)])


def file_print_area(path: Path, sheet: str) -> Optional[str]:
    """"A1:K90" (no sheet name, no $)."""
    ws = saved_book(path)[sheet]
    area = ws.print_area
    if not area:
        return None
    return area.split("!")[-1].replace("$", "")


def file_conditional(path: Path, sheet: str) -> list[tuple[str, str, str, str]]:
    """(kind, range, text, colour): ("equal", "H4:H83", "◎", "C6EFCE"), ("databar", ..., "", colour)."""
    ws = saved_book(path)[sheet]
    out = []
    for cf in ws.conditional_formatting:
        ref = str(cf.sqref)
        for rule in cf.rules:
            if rule.type == "cellIs" and rule.operator == "equal":
                fill = rule.dxf.fill if rule.dxf is not None else None
                colour = None
                if fill is not None:
                    colour = _rgb(fill.bgColor) if _rgb(fill.bgColor) not in (None, "000000") else _rgb(fill.fgColor)
                out.append(("equal", ref, _formula_text(rule.formula[0]), colour))
            elif rule.type == "dataBar":
                out.append(("databar", ref, "", _rgb(rule.dataBar.color)))
            else:
                out.append((rule.type, ref, "", None))
    return sorted(out)


_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
       "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
       "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
       "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
       "c": "http://schemas.openxmlformats.org/drawingml/2006/chart"}


def _rels(z: zipfile.ZipFile, part: str) -> dict[str, str]:
    """Relationship id -> target part of ``part``."""
    base, name = posixpath.split(part)
    rels_part = posixpath.join(base, "_rels", name + ".rels")
    if rels_part not in z.namelist():
        return {}
    out = {}
    for rel in ET.fromstring(z.read(rels_part)).findall("rel:Relationship", _NS):
        target = rel.get("Target")
        out[rel.get("Id")] = (target.lstrip("/") if target.startswith("/")
                              else posixpath.normpath(posixpath.join(base, target)))
    return out


_ANCHOR = re.compile(rb"<(?:\w+:)?(?:twoCellAnchor|oneCellAnchor|absoluteAnchor)[\s>]")
_VML_SHAPE = re.compile(rb"<(?:\w+:)?shape[\s>]")   # VML elements: a prefix of any name


def file_shape_counts(path: Path) -> dict[str, int]:
    """Worksheet.Shapes.Count per sheet, as the package tells it: the drawing's anchors
    (pictures, charts, text boxes) and the legacy drawing's shapes (notes, form controls).
    A form control that Excel 2010 also writes as an anchor (inside mc:AlternateContent) is
    counted twice: more, never fewer, than Excel counts."""
    out: dict[str, int] = {}
    with zipfile.ZipFile(path) as z:
        parts = set(z.namelist())
        book_rels = _rels(z, "xl/workbook.xml")
        for sheet in ET.fromstring(z.read("xl/workbook.xml")).find("m:sheets", _NS):
            part = book_rels.get(sheet.get(f"{{{_NS['r']}}}id"))
            count = 0
            for target in (_rels(z, part) if part else {}).values():
                if target in parts and "/drawings/" in target:
                    count += len((_VML_SHAPE if target.endswith(".vml") else _ANCHOR).findall(z.read(target)))
            out[sheet.get("name")] = count
    return out


_FOOTER_SECTION = re.compile(r"&([LCR])")


def footer_sections(footer: str) -> dict[str, str]:
    """A header's or footer's text as its sections {"L": …, "C": …, "R": …} (ECMA-376 Part 1,
    18.3.1.39: &L, &C, &R start one; text before any is the centre's; "&&" is a literal &)."""
    out, key, i, start = {}, "C", 0, 0
    while i < len(footer):
        if footer.startswith("&&", i):
            i += 2
            continue
        m = _FOOTER_SECTION.match(footer, i)
        if m:
            out[key] = out.get(key, "") + footer[start:i]
            key, i = m.group(1), m.end()
            start = i
            continue
        i += 1
    out[key] = out.get(key, "") + footer[start:]
    return {k: v for k, v in out.items() if v}


def file_footers(path: Path) -> dict[str, dict[str, str]]:
    """Each worksheet's odd pages' footer as its sections (footer_sections), read from the
    sheet's XML: what PageSetup.LeftFooter / CenterFooter / RightFooter hold when the book opens."""
    out: dict[str, dict[str, str]] = {}
    with zipfile.ZipFile(path) as z:
        parts = set(z.namelist())
        book_rels = _rels(z, "xl/workbook.xml")
        for sheet in ET.fromstring(z.read("xl/workbook.xml")).find("m:sheets", _NS):
            part = book_rels.get(sheet.get(f"{{{_NS['r']}}}id"))
            if part not in parts:
                continue
            data = z.read(part)
            text = _recalled(_FOOTERS, hashlib.sha256(data).digest(), lambda: _odd_footer(data), limit=160)
            if text:
                out[sheet.get("name")] = footer_sections(text)
    return out


def _odd_footer(data: bytes) -> Optional[str]:
    """The text of a sheet part's oddFooter (None: none). Kept per part's content
    (``_FOOTERS``): parsing every sheet of a master again for its footer was a tenth of
    building a VBA client's payload, and most sheets are as in the last payload."""
    node = ET.fromstring(data).find("m:headerFooter/m:oddFooter", _NS)
    return None if node is None else node.text


_FOOTERS: dict[bytes, Optional[str]] = {}


def file_charts(path: Path) -> dict[str, list[str]]:
    """Chart names per sheet, from the package (openpyxl does not read charts)."""
    out: dict[str, list[str]] = {}
    with zipfile.ZipFile(path) as z:
        book_rels = _rels(z, "xl/workbook.xml")
        for sheet in ET.fromstring(z.read("xl/workbook.xml")).find("m:sheets", _NS):
            part = book_rels.get(sheet.get(f"{{{_NS['r']}}}id"))
            names = []
            for target in (_rels(z, part) if part else {}).values():
                if "/drawings/" not in target or target not in z.namelist():
                    continue
                for frame in ET.fromstring(z.read(target)).iter(f"{{{_NS['xdr']}}}graphicFrame"):
                    if frame.find(".//c:chart", _NS) is not None:
                        props = frame.find(".//xdr:cNvPr", _NS)
                        names.append(props.get("name") if props is not None else "Chart")
            out[sheet.get("name")] = names
    return out


def file_chart_looks(path: Path, sheet: str) -> list[dict]:
    """The charts the file face wrote on ``sheet``, in the shape the model records a replayed
    renkeiAddChart (Excel's terms: an address without $ on the sheet, points for the size)."""
    from renkei_xl.excel.book import CM_TO_POINTS
    from renkei_xl.package.chart import EMU_PER_CM

    out = []
    a = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
    with zipfile.ZipFile(path) as z:
        book_rels = _rels(z, "xl/workbook.xml")
        entry = next(e for e in ET.fromstring(z.read("xl/workbook.xml")).find("m:sheets", _NS) if e.get("name") == sheet)
        part = book_rels[entry.get(f"{{{_NS['r']}}}id")]
        for target in _rels(z, part).values():
            if "/drawings/" not in target:
                continue
            drawing_rels = _rels(z, target)
            for anchor in ET.fromstring(z.read(target)):
                frame = anchor.find("xdr:graphicFrame", _NS)
                chart = frame.find(".//c:chart", _NS) if frame is not None else None
                if chart is None:
                    continue
                space = ET.fromstring(z.read(drawing_rels[chart.get(f"{{{_NS['r']}}}id")]))
                bar = space.find(".//c:barChart", _NS)
                kind = (bar.find("c:barDir", _NS).get("val"), bar.find("c:grouping", _NS).get("val"))
                sers = bar.findall("c:ser", _NS)
                start, ext = anchor.find("xdr:from", _NS), anchor.find("xdr:ext", _NS)
                col, row = int(start.find("xdr:col", _NS).text), int(start.find("xdr:row", _NS).text)
                out.append({"name": frame.find(".//xdr:cNvPr", _NS).get("name"),
                            "title": "".join(t.text or "" for t in space.find(".//c:title", _NS).iter(f"{a}t")),
                            "chart_type": {("col", "clustered"): "ColumnClustered"}[kind],
                            # one series of one row of values: Excel's SetSourceData by rows
                            "plot_by": "Rows" if len(sers) == 1 and _ref_rows(sers[0], "c:val") == 1 else "?",
                            "source": _ref_of(sers[0], "c:val"), "categories": _ref_of(sers[0], "c:cat"),
                            "anchor": f"{column_letter(col + 1)}{row + 1}",
                            "width": int(ext.get("cx")) / EMU_PER_CM * CM_TO_POINTS,
                            "height": int(ext.get("cy")) / EMU_PER_CM * CM_TO_POINTS,
                            "legend_visible": space.find(".//c:legend", _NS) is not None})
    return out


def _ref_of(series, tag: str) -> tuple[str, str]:
    """A series' reference (「'集計'!$B$3:$F$3」) as (sheet, "B3:F3")."""
    text = series.find(f"{tag}//c:f", _NS).text
    sheet, _, address = text.rpartition("!")
    first, _, last = address.replace("$", "").partition(":")
    return sheet.strip("'").replace("''", "'"), first if last in ("", first) else f"{first}:{last}"


def _ref_rows(series, tag: str) -> int:
    r1, _c1, r2, _c2 = _rect_of(_ref_of(series, tag)[1])
    return r2 - r1 + 1


def file_rows(path: Path, sheet: str) -> list[list[object]]:
    """A sheet of a saved file as rows from A1, trailing empty rows and columns dropped
    (read with ``payload_book``: a test reads the rows of the file whose payload it built;
    with ``PAYLOAD_BOTH_WAYS``, checked against openpyxl's normal load as the payload is)."""
    rows = _rows_of(payload_book(path), sheet)
    if os.environ.get(PAYLOAD_BOTH_WAYS):
        difference = _first_difference(rows, _rows_of(saved_book(path, data_only=True), sheet))
        assert difference is None, f"{path}: payload_book and saved_book differ at {sheet}{difference}"
    return rows


def file_error_cells(path: Path, sheet: str) -> set[tuple[int, int]]:
    """(row, column) of each cell of a saved file's sheet that holds an error value (type
    "e"), not a text that looks like one (``Applied.error_cells`` on the buttons' side)."""
    return {k for k, cell in payload_book(path)[sheet]._cells.items()
            if cell.value is not None and cell.data_type == "e"}


def file_grid(path: Path, sheet: str) -> list[list[object]]:
    """A sheet of a saved file as ``iter_rows(values_only=True)`` gives it on openpyxl's
    ``load_workbook(data_only=True)``: rows from A1 to the last row and column of every cell
    the load holds (styled empty ones, merged areas and linked cells too), None where there
    is no cell, dates as openpyxl reads them. Read with ``payload_book`` (a test's own value
    readers loaded the file again, a third of some modules' time: docs/performance.md)
    without making a cell, as iter_rows would: the book is every payload's of that content.
    With ``PAYLOAD_BOTH_WAYS``, checked against that load."""
    grid = _grid_of(payload_book(path), sheet)
    if os.environ.get(PAYLOAD_BOTH_WAYS):
        loaded = [list(row) for row in values_load(path)[sheet].iter_rows(values_only=True)]
        difference = _first_difference(grid, loaded)
        assert difference is None, f"{path}: payload_book and load_workbook differ at {sheet}{difference}"
    return grid


def values_load(path: Path):
    """openpyxl's ``load_workbook(data_only=True)`` with its texts as Excel holds them
    (excel_text: openpyxl leaves Excel's _xHHHH_ escapes as written): what ``file_grid``
    stands for. A fresh workbook each call, never shared."""
    return _decoded(load_workbook(path, data_only=True))


def read_both_ways(fast, loaded, where: str):
    """``fast()``, a test's reading of values through ``file_grid``; with ``PAYLOAD_BOTH_WAYS``,
    ``loaded()`` too, the same reading of openpyxl's load it stands in for (a normal load
    shows a formula as its text: only what the test reads is compared), types included."""
    value = fast()
    if os.environ.get(PAYLOAD_BOTH_WAYS):
        difference = _first_difference(value, loaded())
        assert difference is None, f"{where}: file_grid and openpyxl's load differ at {difference}"
    return value


def _grid_of(wb, sheet: str) -> list[list[object]]:
    ws = wb[sheet]
    cells = ws._cells
    if not cells:
        return []
    height, width = max(r for r, _ in cells), max(c for _, c in cells)
    epoch = wb.epoch
    grid: list[list[object]] = [[None] * width for _ in range(height)]
    for (r, c), cell in cells.items():
        if cell.value is not None:
            grid[r - 1][c - 1] = _openpyxl_date(cell, epoch)
    return grid


def _rows_of(wb, sheet: str) -> list[list[object]]:
    cells = {key: _openpyxl_date(cell, wb.epoch) for key, cell in wb[sheet]._cells.items() if cell.value is not None}
    if not cells:
        return []
    height = max(r for r, _ in cells)
    width = max(c for _, c in cells)
    return [[cells.get((r, c)) for c in range(1, width + 1)] for r in range(1, height + 1)]


def _openpyxl_date(cell, epoch) -> object:
    """A cell's value as openpyxl reads it, a DateSerial (``saved_book``) as its date."""
    value = cell.value
    if not isinstance(value, DateSerial):
        return value
    from openpyxl.styles.numbers import is_timedelta_format
    from openpyxl.utils.datetime import from_excel

    try:
        return from_excel(float(value), epoch, timedelta=is_timedelta_format(cell.number_format))
    except (OverflowError, ValueError):
        return "#VALUE!"    # as openpyxl reads a date cell outside the dates

"""The master's own VBA replays real server answers in LibreOffice's VBA engine.

The renkei-xl server (a real uvicorn process, tests/test_server.py's fixture) answers
入力チェック and 評価を再計算 for the FY2023 sample master. Headless LibreOffice opens a copy
of that master with its own vbaProject (Remote, RenkeiServer and Renkei kept; the modules
LibreOffice cannot compile removed from the loaded copy, since one of them silently blocks
the whole library), a generated harness module turns the answer into VBA Collections the
way VBA-Web's JSON parser hands them to Remote.bas (objects keyed by name, arrays 1-based,
numbers as Double, null as Null) and runs every action through ``Application.Run
action("func"), wb, action``, as Remote.bas does. What LibreOffice then holds, read back
through UNO, must be what the Python model of the client (tests/remote_payload.py) says:
values, fonts, fills, borders, alignment, wrapping, number formats, merges, row heights,
column widths, hidden columns and the print area. This catches wrong argument indices,
arithmetic and Sub names in RenkeiServer.bas and in xlwings' Remote.bas.

LibreOffice is not Excel; where it cannot stand in, the actions are listed in LO_GAPS and
are checked by the model only (tests/remote_payload.py and the protection model).
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from conftest import require_soffice
from realbooks import STAFF_PAGE_SHEETS, _run_uno_job, staff_page
from remote_payload import EXCEL_KEY, VBA, Applied, ExcelError, _address, _rect_of, apply_actions, payload_from_file
from test_buttons import licensed  # noqa: F401  (the remote engine's licence fixture)
from test_server import server  # noqa: F401  (a real renkei-xl server on 127.0.0.1)
from renkei_xl.excel.buttons import SAID_BY_CLICK
from renkei_xl.excel.book import width_to_points
from renkei_xl.excel.client import exact_parts, long_number
from renkei_xl.vba.sources import BUTTONS, MACROS_DIR, button_entries

HARNESS_MODULE = "RenkeiHarness"
HARNESS_ENTRY = "RenkeiHarnessReplay"
# Modules of the master that LibreOffice 7.4 cannot compile (../shared/FACTS.md, "LibreOffice
# as a VBA host"); any one of them left in blocks every module of the library.
NOT_COMPILING = ("xlwings", "Dictionary", "WebRequest", "WebHelpers")
KEPT = ("Remote", "RenkeiServer", "Renkei")

# What LibreOffice cannot do as Excel does, as data: these actions are not replayed there,
# and the model of Excel (tests/remote_payload.py) is what checks them.
LO_GAPS = {
    "addConditionalFormat": "Range.FormatConditions does not exist in LibreOffice (error 423); before that, "
                            "its entry is declared As Dictionary, xlwings' class that does not compile there (425)",
    "clearConditionalFormats": "Range.FormatConditions does not exist in LibreOffice (error 423)",
    "alert": "Remote.bas' alert uses VBA.vbOKOnly, not defined in LibreOffice; a MsgBox waits for a person",
    "renkeiAddChart": "LibreOffice 7.4 has no Chart.SeriesCollection (sc/source/ui/vba/vbachart.cxx returns "
                      "nothing; .Count, (i) and .NewSeries stop with error 91, Object variable not set; ChartWizard "
                      "is 423): renkeiAddChart's last statement, each series' XValues (the categories), stops "
                      "there. What comes before it runs and is read back (\"gap: chart\", twice: name, title, "
                      "data, type, legend, rectangle, one chart after a second click); the categories are "
                      "checked by the model and against the file face's chart (tests/test_buttons.py, CHART_LOOKS)",
}
# Known differences that do not stop a replay, also as data.
LO_NOTES = {
    "protection": "LibreOffice does not enforce sheet protection on macros but silently drops their "
                  "format changes; it has no Worksheet.Protection and no Allow* arguments of Protect "
                  "(RenkeiServer.bas keeps Excel's default Allow* options there): the answer's own "
                  "renkeiUnprotectSheets lifts it, the harness restores it as RenkeiCallServer does, and "
                  "which sheets Excel refuses to write is modelled in Python",
    "dates": "WebHelpers (ParseIso) does not compile: an ISO date string stays text, as in the model; "
             "a text like 2026-12-02 17:19:22 becomes a date serial, in Excel too",
    "#If": "LibreOffice runs both branches of #If Mac; the harness keeps the Windows branches",
    "border colour": "LibreOffice drops a border colour set on a multi-cell range before the line exists "
                     "(xlwings sends colour, weight, then style; Excel draws the line in that colour): there "
                     "LibreOffice's black is accepted, single cells must match",
    "line styles": "LibreOffice's VBA draws dashed and dotted borders solid: only that a line is there is compared",
    "catalogue": "not in the catalogue, as LibreOffice ignores them: vertical Justify, Merge Across:=True, "
                 "hairline borders",
    "freezePanes": "panes belong to a window: replayed, not read back",
    "autofit": "row heights after setAutofit are LibreOffice's own: replayed, not compared",
    "print titles": "LibreOffice's PageSetup.PrintTitleRows does nothing (sc/source/ui/vba/vbapagesetup.cxx: "
                    "an empty setter): renkeiPageSetup's titles are checked by the model, which reads the "
                    "Sub's argument of each property from the master's VBA",
    "chart data": "LibreOffice's Chart.SetSourceData finds no header row or column in a range of numbers "
                  "and then names the series through the old chart API, which turns the chart's data into "
                  "a copy of the cells' values (no cell ranges left): renkeiAddChart's chart is compared "
                  "with the values the replay wrote, not with its range",
    "top and bottom margins": "LibreOffice's page puts the header inside its top margin (VbaPageSetupBase turns "
                              "TopMargin and HeaderMargin into its own margins and header height): replayed, "
                              "the left and right margins compared",
}
# The paper sizes of Excel's PaperSize codes the tool uses (and Letter, a page staff may set),
# in 1/100 mm, short side first; LibreOffice keeps its own rounding of a size, within 2.
PAPER_SIZES = {8: (29700, 42000), 9: (21000, 29700), 1: (21590, 27940)}
PAPER_TOLERANCE = 2

HARNESS = """Option VBASupport 1
Option Explicit
' Generated by tests/test_vba_libreoffice.py: replays xlwings actions as Remote.bas does.
Const HARNESS_URL As String = "http://192.0.2.10:8000/buttons/recalc"

Function RenkeiHarnessReplay(tokens As Variant) As String
    Dim pos As Long, i As Long, number As Long, unprotected As Long
    Dim actions As Variant, action As Variant
    Dim description As String, before As String
    ' RenkeiCallServer readies the master before it sends anything (RenkeiUnready: "" here,
    ' where a hidden document has no window to bring forward or group), for the button that
    ' writes (recalc, as RenkeiFailure below names it).
    description = RenkeiUnready(ThisWorkbook, "recalc")
    If description = "" Then description = RenkeiUncountable(ThisWorkbook)
    If description <> "" Then
        RenkeiHarnessReplay = "UNREADY " & description
        Exit Function
    End If
    before = RenkeiBookState(ActiveWorkbook)
    On Error GoTo Failed
    pos = LBound(tokens)
    Set actions = RenkeiHarnessValue(tokens, pos)
    For i = 1 To actions.Count
        Set action = actions(i)
        Application.Run action("func"), ActiveWorkbook, action
    Next i
    RenkeiRestoreProtection ActiveWorkbook, unprotected
    ' Then, on a line of its own, what RenkeiCallServer sends as X-Renkei-Book before and after.
    RenkeiHarnessReplay = "OK " & actions.Count & vbLf & before & " | " & RenkeiBookState(ActiveWorkbook)
    Exit Function
Failed:
    ' Then, on a line of its own, what RenkeiCallServer shows staff.
    number = Err.Number
    description = Err.Description
    RenkeiHarnessReplay = "ERR " & i & " " & number & " " & description & vbLf & _
        RenkeiFailure("recalc", number, description)
    ' RenkeiCallServer restores protection after a failed replay too
    RenkeiRestoreProtection ActiveWorkbook, unprotected
End Function

' The JSON value at tokens(pos): objects become Collections keyed by name and arrays
' 1-based Collections, as VBA-Web's ParseJson gives them to Remote.bas.
Function RenkeiHarnessValue(tokens As Variant, pos As Long) As Variant
    Dim tag As String, n As Long, k As Long, key As String
    Dim c As Collection
    tag = tokens(pos)
    pos = pos + 1
    Select Case tag
    Case "d", "a"
        n = CLng(tokens(pos))
        pos = pos + 1
        Set c = New Collection
        For k = 1 To n
            If tag = "d" Then
                key = tokens(pos)
                pos = pos + 1
                c.Add RenkeiHarnessValue(tokens, pos), key
            Else
                c.Add RenkeiHarnessValue(tokens, pos)
            End If
        Next k
        Set RenkeiHarnessValue = c
    Case "z"
        pos = pos + 1
        RenkeiHarnessValue = Null
    Case Else
        RenkeiHarnessValue = tokens(pos)
        pos = pos + 1
    End Select
End Function

' What stops a click before any replay, as staff read it: each text Python wrote to stderr
' (tokens' first list) in RunPython's box (Renkei.bas), then an answer VBA-Web could not read (Data left
' Nothing, as Remote.bas then reads it) in RenkeiCallServer's box. Chr(30) between them.
' Then, after Chr(29), what RenkeiCallServer sends as X-Renkei-Chart-Sheets and X-Renkei-Tabs for
' the book, and that X-Renkei-Tabs with each list of names of tokens' second added (RenkeiTabsAdd),
' Chr(31) between them.
Function RenkeiHarnessTexts(tokens As Variant) As String
    Dim pos As Long, written As Variant, out As String, data As Object, stage As String
    Dim parts As Collection, tabs As String, added As String, names As Variant, tabbed As String
    On Error GoTo Broken
    pos = LBound(tokens)
    Set parts = RenkeiHarnessValue(tokens, pos)
    tabbed = RenkeiChartSheets(ThisWorkbook, tabs) & Chr(31) & tabs
    For Each names In parts(2)
        added = tabs
        For Each written In names
            added = RenkeiTabsAdd(added, CStr(written))
        Next written
        tabbed = tabbed & Chr(31) & added
    Next names
    For Each written In parts(1)
        out = out & RenkeiPythonFailed(CStr(written)) & Chr(30)
    Next written
    ' Answers that are not 200, as Remote.bas' boxes show them: the server's refusal, a proxy's
    ' page, a status without text.
    out = out & RenkeiServerSaid(HARNESS_URL, 503, "Service Unavailable", RenkeiHarnessHeaders("text/plain; charset=utf-8"), _
        "refused") & Chr(30)
    out = out & RenkeiServerSaid(HARNESS_URL, 502, "Bad Gateway", RenkeiHarnessHeaders("text/html"), _
        "<html>Bad Gateway</html>") & Chr(30)
    out = out & RenkeiNoAnswer(HARNESS_URL, 502, "Bad Gateway") & Chr(30)
    ' xlwings.conf rows that leave sheets out of what Remote.bas sends: none, EXCLUDE, both.
    out = out & RenkeiLeftOut("", "") & Chr(30) & RenkeiLeftOut("", "Sheet1") & Chr(30) & RenkeiLeftOut("a", "b") & Chr(30)
    ' A run-time error of xlwings' VBA under each button (RenkeiRun's handler, tokens' third list
    ' the entries), Chr(31) between them.
    For Each written In parts(3)
        out = out & RenkeiMacroFailed(457, "This key is already associated with an element of this collection", _
            CStr(written)) & Chr(31)
    Next written
    out = out & Chr(30)
    stage = "unreadable"
    out = out & CStr(data.Item("actions").Count)
    RenkeiHarnessTexts = out
    Exit Function
Broken:
    If stage = "unreadable" Then
        RenkeiHarnessTexts = out & RenkeiFailure("recalc", Err.Number, Err.Description) & Chr(29) & tabbed
    Else
        RenkeiHarnessTexts = "HARNESS " & Err.Number & " " & Err.Description & " after: " & out
    End If
End Function

' What RenkeiCallServer sends as X-Renkei-Percents for the book (RenkeiPercents), and on a line
' of its own what the same walk gives as X-Renkei-Currency.
Function RenkeiHarnessPercents(tokens As Variant) As String
    Dim exact As String
    On Error GoTo Failed
    RenkeiHarnessPercents = RenkeiPercents(ThisWorkbook, exact)
    RenkeiHarnessPercents = RenkeiHarnessPercents & vbLf & exact
    Exit Function
Failed:
    RenkeiHarnessPercents = "HARNESS " & Err.Number & " " & Err.Description
End Function

' What staff read when sheets cannot be protected again (RenkeiRestoreProtection, which
' RenkeiCallServer shows and reports): tokens, the answer's renkeiUnprotectSheets naming sheets
' to protect with options Protect refuses. Then the error number, and RenkeiFormat filling a
' value that holds a later mark. Chr(30) between them.
Function RenkeiHarnessRestore(tokens As Variant) As String
    Dim pos As Long, number As Long, shown As String
    On Error GoTo Failed
    pos = LBound(tokens)
    renkeiUnprotectSheets ThisWorkbook, RenkeiHarnessValue(tokens, pos)
    shown = RenkeiRestoreProtection(ThisWorkbook, number)
    RenkeiHarnessRestore = shown & Chr(30) & number & Chr(30) & RenkeiFormat("{0}|{1}|{0}", "{1}", "x")
    Exit Function
Failed:
    RenkeiHarnessRestore = "HARNESS " & Err.Number & " " & Err.Description
End Function

' What staff read when RunServerPython stopped before it sent the book (Remote.bas called
' RenkeiPreparing, not yet RenkeiSending), then RenkeiRefuse's refusal for a reason the answer's
' refusals lack, for an answer without refusals, and for a reason they hold: for each, the error
' raised, its text and RenkeiFailure's box, Chr(31) between them. Chr(30) between the cases.
Function RenkeiHarnessStages(tokens As Variant) As String
    Dim out As String, refusals As New Collection
    ' By name, as Remote.bas calls it (test_master_macros): a module without it fails this case alone.
    On Error Resume Next
    Application.Run "RenkeiPreparing"
    If Err.Number <> 0 Then out = "NO STAGE " & Err.Number Else out = RenkeiFailure("recalc", 424, "Object required")
    On Error GoTo Failed
    out = out & Chr(30)
    refusals.Add "{0} known", "password"
    out = out & RenkeiHarnessRefused(refusals, "merged_run") & Chr(30)
    out = out & RenkeiHarnessRefused(Nothing, "structure") & Chr(30)
    out = out & RenkeiHarnessRefused(refusals, "password")
    RenkeiHarnessStages = out
    Exit Function
Failed:
    RenkeiHarnessStages = "HARNESS " & Err.Number & " " & Err.Description & " after: " & out
End Function

Function RenkeiHarnessRefused(refusals As Object, ByVal reason As String) As String
    On Error GoTo Refused
    RenkeiRefuse refusals, reason, "Sheet1!C10"
    RenkeiHarnessRefused = "NOT REFUSED"
    Exit Function
Refused:
    RenkeiHarnessRefused = Err.Number & Chr(31) & Err.Description & Chr(31) & _
        RenkeiFailure("recalc", Err.Number, Err.Description)
End Function

' VBA-Web's headers of an answer as WebResponse holds them: Key/Value pairs (a WebResponse
' itself cannot be made in LibreOffice: its Class_Initialize fails there, error 12).
Function RenkeiHarnessHeaders(ByVal contentType As String) As Collection
    Dim headers As New Collection, header As New Collection
    header.Add "content-type", "Key"
    header.Add contentType, "Value"
    headers.Add header
    Set RenkeiHarnessHeaders = headers
End Function
"""

# LibreOffice's CellHoriJustify / CellVertJustify names as the model's alignment names.
H_ALIGN = {"standard": None, "left": "left", "center": "center", "right": "right", "block": "justify",
           "repeat": "fill"}
V_ALIGN = {"standard": None, "bottom": None, "top": "top", "center": "center", "block": "justify"}
# BorderLineStyle.SOLID; the width LibreOffice gives each VBA weight (1/100 mm, measured).
SOLID = 0
WEIGHTS = {"thin": 26, "medium": 88, "thick": 141}
WIDTH_TOLERANCE_POINTS = 0.75   # one pixel at 96 dpi
HEIGHT_TOLERANCE_POINTS = 0.05  # LibreOffice keeps sizes in 1/100 mm
EXCEL_EPOCH = dt.datetime(1899, 12, 30)


CATALOGUE_SHEET = "検証結果"   # an empty area below its header row
# Numbers of 16 characters or more of JSON, sent as renkeiSetNumbers' exact parts: a sum, a rate,
# negatives, a large amount, the smallest normal double and a subnormal one.
# What Python writes to stderr when a desktop click cannot run, as xlwings' RunPython shows it
# (its log of the click): the kind of each, as Renkei.bas' RenkeiPythonFailed should name it.
PYTHON_STDERR = {
    "no renkei_xl": 'Traceback (most recent call last):\n  File "<string>", line 1, in <module>\n'
                    "ModuleNotFoundError: No module named 'renkei_xl'\n",
    "no xlwings": "ModuleNotFoundError: No module named 'xlwings'\n",
    "cmd (Japanese)": "'python' は、内部コマンドまたは外部コマンド、\n操作可能なプログラムまたはバッチ ファイルとして認識されていません。\n",
    "store alias": "Python was not found; run without arguments to install from the Microsoft Store, "
                   "or disable this shortcut from Settings > Manage App Execution Aliases.\n",
    "other": 'Traceback (most recent call last):\n  File "<string>", line 1, in <module>\nMemoryError\n',
    # A sentence of the click's own that no box could show (buttons.SAID_BY_CLICK), alone and
    # after a warning Python wrote first: shown as the click said it, under no lead.
    "the click's own": SAID_BY_CLICK + "「評価を再計算」が終わりました。\n",
    "the click's own, after a warning": "DeprecationWarning: old\n" + SAID_BY_CLICK
                                        + "Excel のブックに接続できませんでした。…「renkei-xl upgrade-macros」でマクロを更新してください（…）\n",
}
TEXTS = "texts before any replay"
RESTORE = "sheets not protected again"
TABS = "X-Renkei-Tabs"
STAGES = "stopped before sending, refused without the servers words"
# Names of tabs that are not worksheets, for RenkeiTabsAdd (X-Renkei-Tabs): kanji, half-width
# katakana, a space, a character beyond the BMP (two UTF-16 units) and Excel's longest name;
# then nine of the longest, past TABS_MAX characters (its overflow mark).
TAB_NAMES = [["集計", "ｼｭｳｹｲ", "Chart 1", "𠮷田町グラフ", "あ" * 31], ["い" * 31] * 9]
EXACT = [0.1 + 0.2, 1025 / 14, -2 / 3, 12345678.901234567, 2.2250738585072014e-308, -1.2345678901234e-310]


def _action(func: str, args: list, sheet: int, row: int, col: int, rows: int = 1, cols: int = 1) -> dict:
    """An action as xlwings' remote engine shapes it (0-based start, counts)."""
    return {"func": func, "args": args, "values": None, "sheet_position": sheet, "start_row": row - 1,
            "start_column": col - 1, "row_count": rows, "column_count": cols}


def _action_of(func: str, args: list) -> dict:
    """An action of the server's own that names no range (renkeiUnprotectSheets)."""
    return {"func": func, "args": args, "values": None, "sheet_position": None, "start_row": None,
            "start_column": None, "row_count": None, "column_count": None}


def _catalogue(payload: dict) -> list[dict]:
    """The arguments of RenkeiServer's Subs that the real answers do not use (italic,
    underline styles, font colours, dashed and heavy borders, other alignments, merge
    across, unwrapping, hidden columns, clearing the print area, a portrait page fitted to
    pages both ways and not centred, taking a fill away, filter
    buttons over a range, a date-shaped text kept as text in a Text cell and in a cell that is not
    Text, numbers VBA-Web would
    hand over as text, put together from their parts): one cell each."""
    s = [sh["name"] for sh in payload["sheets"]].index(CATALOGUE_SHEET)
    assert all(map(long_number, EXACT))
    out = [_action("setFontProperty", ["color", "#C00000"], s, 30, 1),
           _action("setFontProperty", ["italic", True], s, 30, 2),
           _action("setFontProperty", ["underline", "Single"], s, 30, 3),
           _action("setFontProperty", ["underline", "Double"], s, 30, 4),
           _action("setFontProperty", ["underline", "Single"], s, 30, 5),
           _action("setFontProperty", ["underline", "None"], s, 30, 5),
           _action("setFontProperty", ["size", 13.5], s, 31, 1),
           _action("setFontProperty", ["name", "Arial"], s, 31, 2),
           _action("setFontProperty", ["bold", True], s, 31, 3),
           _action("setFontProperty", ["bold", False], s, 31, 3),
           _action("setHorizontalAlignment", ["Left"], s, 32, 1),
           _action("setHorizontalAlignment", ["Right"], s, 32, 2),
           _action("setHorizontalAlignment", ["Justify"], s, 32, 3),
           _action("setHorizontalAlignment", ["General"], s, 32, 4),
           _action("setVerticalAlignment", ["Top"], s, 33, 1),
           _action("setVerticalAlignment", ["Bottom"], s, 33, 3),
           _action("setWrapText", [True], s, 34, 1),
           _action("setWrapText", [False], s, 34, 1),
           _action("setRangeColor", ["#FFEB9C"], s, 34, 2),
           _action("setRangeColor", ["#FFEB9C"], s, 35, 2, rows=2),
           _action("renkeiClearFill", [], s, 35, 2, rows=2),
           _action("setNumberFormat", ["0.00"], s, 34, 3),
           _action("setNumberFormat", ["@"], s, 36, 1),
           _action("renkeiSetText", ["2024-3-31"], s, 36, 1),
           _action("renkeiSetText", ["3/5"], s, 36, 2),     # not Text: the prefix (qa-client63)
           {**_action("setValues", [], s, 37, 1, cols=len(EXACT)), "values": [[0] * len(EXACT)]},
           _action("renkeiSetNumbers", [[[0, j, *exact_parts(v)] for j, v in enumerate(EXACT)]], s, 37, 1,
                   cols=len(EXACT)),
           _action("setRowHeight", [30.75], s, 38, 1),
           _action("setColumnWidth", [60.0], s, 1, 12),
           _action("setColumnHidden", [True], s, 1, 13),
           _action("setPrintArea", [None], s, 0, 0),
           _action("renkeiPageSetup", ["$1:$2", 1, 9, 2, 3, False, 50.4, 43.2, 57.6, 64.8, 14.4, 18.0, "&11&P"], s, 1, 1),
           _action("renkeiAutoFilter", ["$A$30:$E$35"], s, 1, 1)]
    for i, (side, style, weight) in enumerate([("edge_top", "continuous", "medium"), ("edge_bottom", "dash", "thin"),
                                               ("edge_left", "continuous", "thick"), ("edge_right", "dot", "thin")]):
        for attribute, value in (("line_style", style), ("weight", weight), ("color", "#2F5597")):
            out.append(_action("setBorderProperty", [side, attribute, value], s, 40, 1 + 2 * i))
    for a in out:
        if a["func"] == "setPrintArea":
            a.update(start_row=None, start_column=None, row_count=None, column_count=None)
    return out


def _replayed(actions: list[dict]) -> list[dict]:
    return [a for a in actions if a["func"] not in LO_GAPS]


def _read_request(applied: Applied) -> dict:
    """Which cells, rows and columns to read back: every cell the model has a value or a
    look for on the sheets the actions wrote, and a margin around the values so a value
    the model does not expect shows up too."""
    out: dict[str, dict] = {}
    for sheet in applied.order:
        looks = applied.cell_looks.get(sheet, {})
        borders = applied.borders.get(sheet, {})
        merges = applied.merges.get(sheet, set())
        if not (looks or borders or merges or sheet in applied.heights or sheet in applied.widths
                or sheet in applied.print_area or sheet in applied.page_setup):
            continue
        cells = set(looks) | set(borders) | set(applied.grids[sheet])
        rows = applied.rows(sheet)
        width = max((len(r) for r in rows), default=0)
        cells |= {(r, c) for r in range(1, len(rows) + 3) for c in range(1, width + 3)}
        cells |= {(m[0], m[1]) for m in merges}
        out[sheet] = {"cells": sorted(cells), "rows": sorted(applied.heights.get(sheet, {})),
                      "cols": sorted(set(applied.widths.get(sheet, {})) | applied.hidden_cols.get(sheet, set())),
                      }
    return out


def _lo_value(cell: dict):
    return cell["value"]


def _model_value(value, lo_value):
    """The model's value as LibreOffice holds it: numbers as doubles; a text that reads as a
    date and time becomes its serial number when assigned through Range.Value (in Excel too;
    the model keeps the text)."""
    if isinstance(value, (bool, int, float)):
        return float(value)
    if isinstance(value, str) and isinstance(lo_value, float):
        try:
            when = dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            return value
        serial = (when - EXCEL_EPOCH) / dt.timedelta(days=1)
        return lo_value if abs(serial - lo_value) < 1e-6 else serial
    return value


def _range_colours(actions: list[dict], order: list[str]) -> set[tuple[str, int, int]]:
    """(sheet, row, column) of the cells whose border colour came from a multi-cell range."""
    out = set()
    sheets = list(order)
    for a in actions:
        if a["func"] == "addSheet":
            sheets.insert(a["args"][0], a["args"][1])
        if a["func"] == "setBorderProperty" and a["args"][1] == "color" and a["row_count"] * a["column_count"] > 1:
            r0, c0 = a["start_row"] + 1, a["start_column"] + 1
            out |= {(sheets[a["sheet_position"]], r, c) for r in range(r0, r0 + a["row_count"])
                    for c in range(c0, c0 + a["column_count"])}
    return out


def _differences(applied: Applied, read: dict, loose_colours: set = frozenset()) -> list[str]:
    """Every way LibreOffice's sheets differ from the model, as readable lines."""
    out = []
    for sheet, got in read.items():
        if got is None:
            out.append(f"{sheet}: the sheet is missing in LibreOffice")
            continue
        grid = applied.grids[sheet]
        looks = applied.cell_looks.get(sheet, {})
        borders = applied.borders.get(sheet, {})
        for key, cell in got["cells"].items():
            r, c = map(int, key.split(","))
            want = _model_value(grid.get((r, c)), _lo_value(cell))
            if _lo_value(cell) != want:
                out.append(f"{sheet}!R{r}C{c} value: LibreOffice {_lo_value(cell)!r}, model {want!r}")
            for look, value in looks.get((r, c), {}).items():
                have = _lo_look(cell, look)
                if not _same_look(look, have, value):
                    out.append(f"{sheet}!R{r}C{c} {look}: LibreOffice {have!r}, model {value!r}")
            for side, attrs in borders.get((r, c), {}).items():
                line = cell["borders"][side]
                style = attrs.get("line_style")
                if style not in (None, "none") and (line["width"] == 0
                                                     or (style == "continuous" and line["style"] != SOLID)):
                    out.append(f"{sheet}!R{r}C{c} border {side}: LibreOffice {line}, model {attrs}")
                if style == "none" and line["width"] != 0:
                    out.append(f"{sheet}!R{r}C{c} border {side}: LibreOffice {line}, model none")
                colours = {attrs.get("color")} | ({"000000"} if (sheet, r, c) in loose_colours else set())
                if attrs.get("color") and line["width"] and line["color"] not in colours:
                    out.append(f"{sheet}!R{r}C{c} border {side} colour: LibreOffice {line['color']}, model {attrs['color']}")
                weight = attrs.get("weight")
                if weight and line["width"] and abs(line["width"] - WEIGHTS[weight]) > 1:
                    out.append(f"{sheet}!R{r}C{c} border {side} weight: LibreOffice {line['width']}, model {weight}")
        for r, points in got["rows"].items():
            want = applied.heights[sheet].get(int(r))
            if want is not None and abs(points - want) > HEIGHT_TOLERANCE_POINTS:
                out.append(f"{sheet} row {r} height: LibreOffice {points:.2f} pt, model {want} pt")
        for c, col in got["cols"].items():
            chars = applied.widths.get(sheet, {}).get(int(c))
            if chars is not None and abs(col["points"] - width_to_points(chars)) > WIDTH_TOLERANCE_POINTS:
                out.append(f"{sheet} column {c} width: LibreOffice {col['points']:.2f} pt, "
                           f"model {width_to_points(chars):.2f} pt ({chars:.2f} characters)")
            if col["hidden"] != (int(c) in applied.hidden_cols.get(sheet, set())):
                out.append(f"{sheet} column {c} hidden: LibreOffice {col['hidden']}")
        if sheet in applied.merges:
            want = {tuple(m) for m in applied.merges[sheet]}
            have = {tuple(cell["merged"]) for cell in got["cells"].values() if cell["merged"]}
            if have != want:
                out.append(f"{sheet} merges: only LibreOffice {sorted(have - want)}, only model {sorted(want - have)}")
        if sheet in applied.page_setup:
            out += _page_differences(sheet, applied.page_setup[sheet], got["page"])
        if sheet in applied.print_area:
            area = applied.sheet_print_area(sheet)
            want_areas = [list(_rect_of(area))] if area else []
            if got["print_areas"] != want_areas:
                out.append(f"{sheet} print area: LibreOffice {got['print_areas']}, model {want_areas}")
    return out


def _page_differences(sheet: str, props: dict, page: dict) -> list[str]:
    """What LibreOffice's page of ``sheet`` holds against renkeiPageSetup's properties in the
    model (LO_NOTES: not the titles, not the top and bottom margins)."""
    want = {"landscape": props["Orientation"] == 2,
            "fit": [int(props["FitToPagesWide"] or 0), int(props["FitToPagesTall"] or 0)],
            "centred": bool(props["CenterHorizontally"]), "footer": props["CenterFooter"] or None}
    out = [f"{sheet} page {k}: LibreOffice {page[k]!r}, model {v!r}" for k, v in want.items() if page[k] != v]
    size = PAPER_SIZES[int(props["PaperSize"])]
    if any(abs(a - b) > PAPER_TOLERANCE for a, b in zip(page["size"], size)):
        out.append(f"{sheet} paper: LibreOffice {page['size']}, model {size} (PaperSize {props['PaperSize']})")
    for i, name in enumerate(("LeftMargin", "RightMargin")):
        if abs(page["margins"][i] - float(props[name]) * 2540 / 72) > PAPER_TOLERANCE:
            out.append(f"{sheet} {name}: LibreOffice {page['margins'][i]} (1/100 mm), model {props[name]} pt")
    return out


def _lo_look(cell: dict, look: str):
    if look == "h_align":
        return H_ALIGN.get(cell["h_align"], cell["h_align"])
    if look == "v_align":
        return V_ALIGN.get(cell["v_align"], cell["v_align"])
    if look == "underline":
        return cell["underline"] != 0
    return cell[look]


def _same_look(look: str, have, want) -> bool:
    if look == "number_format":
        return (have or "General").lower() == (want or "General").lower()
    if look == "font_size":
        return abs(have - float(want)) < 0.01
    return have == want


def _edited(master: Path, path: Path, edit) -> Path:
    """A copy of the master changed by ``edit(workbook)`` as staff would (openpyxl saves it),
    named as the master, which the server asks for."""
    from openpyxl import load_workbook

    wb = load_workbook(master, keep_vba=True)
    edit(wb)
    path.parent.mkdir()
    wb.save(path)
    return path


def _protected_sheets(path: Path) -> list[str]:
    from openpyxl import load_workbook

    return [ws.title for ws in load_workbook(path, read_only=False, keep_vba=True).worksheets if ws.protection.sheet]


def _without_summary(wb) -> None:
    del wb["集計"]


def _list_hidden(wb) -> None:
    wb["一覧"].sheet_state = "hidden"


# A print area staff set on sheets the tool rebuilds (集計 has one page setup and no area).
STAFF_PRINT_AREAS = {"集計": "A1:B3", "検証結果": "A1:C2"}
_staff_page = staff_page


def _staff_print_areas(wb) -> None:
    for sheet, area in STAFF_PRINT_AREAS.items():
        wb[sheet].print_area = area


# Three things staff did to the tool's sheets, in one master: print areas on 集計 and 検証結果
# (STAFF_PRINT_AREAS), a page of their own on 一覧 and 集計 (staff_page), and 一覧 hidden. Each
# test reads what its own edit is about, and the print-area test compares every sheet the
# answer wrote with the model, so none hides another's outcome. One LibreOffice load and
# recalc replay for the three: about 8 CPU-s of soffice's fewer than a master each.
STAFF_SHEET_EDITS = "print areas, a page and 一覧 hidden"


def _staff_sheet_edits(wb) -> None:
    _staff_print_areas(wb)
    _staff_page(wb)
    _list_hidden(wb)


PERCENTS = "X-Renkei-Percents"
# Cells staff gave a percent format (札幌市, a sheet name the header carries as hex): a block of
# one format, a column of mixed formats, a percent sign in quotes (the client sends it, the
# server's core decides it shows no percent), a text and an empty cell in 0% (no number: not
# named), and 指標's 基準値 in 0.0%.
STAFF_PERCENTS = {("札幌市", r, 5): (0.5, "0%") for r in range(10, 14)} | {
    ("札幌市", 14, 5): (0.25, "0.0%"), ("札幌市", 15, 5): (15, "0%"), ("札幌市", 16, 5): ("68%", "0%"),
    ("札幌市", 17, 5): (None, "0%"), ("札幌市", 18, 5): (7, '0"%"'), ("札幌市", 19, 5): (0.3, "0%"),
    ("札幌市", 12, 6): (2, "0.00%"), ("指標", 5, 7): (0.6, "0.0%")}


PERCENTS_OVERFLOW = "X-Renkei-Percents past its limit"
PERCENTS_UNKNOWN = "X-Renkei-Percents with a sheet past its bound"
CURRENCY = "X-Renkei-Currency's doubles bits"
# A sheet protected as staff may protect a municipality sheet (the tool's sheets are protected
# by init --server): Excel is widely reported to refuse SpecialCells there (1004).
PROTECTED_MUNICIPALITY = "札幌市"
# A municipality sheet given a percent cell beside the one past RenkeiPercents' bound.
OTHER_MUNICIPALITY, OTHER_PERCENT = "小樽市", ((12, 5), 0.4, "0%")


def _too_many_percents(wb) -> None:
    """Four columns of 札幌市 in two percent formats taking turns down 1,000 rows: each cell a
    block of its own, 4,000 of them, past the header's 8,000 characters."""
    for row in range(100, 1100):
        for col in range(8, 12):
            cell = wb["札幌市"].cell(row, col)
            cell.value, cell.number_format = 0.5, ("0%" if (row + col) % 2 else "0.0%")


def _staff_percents(wb) -> None:
    for (sheet, row, col), (value, fmt) in STAFF_PERCENTS.items():
        cell = wb[sheet].cell(row, col)
        cell.value, cell.number_format = value, fmt
    wb[PROTECTED_MUNICIPALITY].protection.sheet = True


def _percents_past_the_walk(wb) -> None:
    """STAFF_PERCENTS, and four columns of 札幌市 whose numbers take turns in two formats down
    1,300 rows (5,200 cells to read one by one, past RenkeiPercents' 5,000 a sheet, in few
    characters: no percent among them), and a percent cell on 小樽市."""
    from remote_payload import PERCENTS_WALK_SHEET

    _staff_percents(wb)
    rows = PERCENTS_WALK_SHEET // 4 + 50
    for row in range(100, 100 + rows):
        for col in range(8, 12):
            cell = wb["札幌市"].cell(row, col)
            cell.value, cell.number_format = 1, ("0" if (row + col) % 2 else "0.0")
    (row, col), value, fmt = OTHER_PERCENT
    cell = wb[OTHER_MUNICIPALITY].cell(row, col)
    cell.value, cell.number_format = value, fmt


def _percent_cells(header: str, payload: dict) -> dict[tuple[str, int, int], str]:
    """(sheet, row, col) -> format of the cells holding a number that the header names, as the
    server takes them (excel.remote.RemoteBook._said_percents): what the header means."""
    from renkei_xl.server.percent_header import percent_header

    said = percent_header(header)
    assert said is not None, header
    out = {}
    for sheet in payload["sheets"]:
        values = sheet["values"]
        for fmt, blocks in said.get(sheet["name"]) or ():      # None: a sheet sent as not known
            for top, left, bottom, right in blocks:
                for r in range(top, min(bottom, len(values)) + 1):
                    for col in range(left, min(right, len(values[r - 1])) + 1):
                        if type(values[r - 1][col - 1]) in (int, float):
                            out[(sheet["name"], r, col)] = fmt
    return out


SINCE_SAVED = ("merge since save over a written cell", "merge since save from a written cell",
               "array since save over a written cell", "merge since save from a cell written with its row")
# The last: 小樽市!E4:G4 written as one range (the button face's own _apply of a plan of three
# cells), E4:E5 merged since the save.
ROW_WRITTEN = ("小樽市", 4, ((5, 7), (6, 8), (7, "維持")), (4, 5, 5, 5))


def _row_answer(payload: dict) -> list[dict]:
    """The actions the button face sends for a plan writing ROW_WRITTEN's cells."""
    from remote_payload import remote_book

    from renkei_xl.core.plan_types import CellEdit, WritePlan
    from renkei_xl.excel.buttons import _apply
    from renkei_xl.excel.engines import live_book

    sheet, row, cells, _ = ROW_WRITTEN
    book = remote_book(copy.deepcopy(payload))
    _apply(live_book(book), WritePlan(cells=[CellEdit(sheet, row, col, value) for col, value in cells]))
    return book.json()["actions"]


def _since_saved(actions: list[dict]) -> dict[str, tuple[dict, object]]:
    """Name -> (the after_save edits of uno_vba, the same edit of the model's facts) for
    SINCE_SAVED, around the first cell (r, c) of the answer's written ranges (メニュー's status,
    written one cell at a time): the cell above merged with it (its hidden part), it merged with
    the cell to its right (its first cell), an array formula entered over it and the cell below."""
    unprotect = next(a for a in actions if a["func"] == "renkeiUnprotectSheets")
    sheet, addresses = unprotect["args"][4][0]
    r, c = _rect_of(addresses[0])[:2]
    areas = {SINCE_SAVED[0]: ("merge", (r - 1, c, r, c)), SINCE_SAVED[1]: ("merge", (r, c, r, c + 1)),
             SINCE_SAVED[2]: ("array", (r, c, r + 1, c))}
    out = {}
    for name, (kind, area) in areas.items():
        address = _address(area)
        edits = {kind: [[sheet, address, "=A1:A2"] if kind == "array" else [sheet, address]]}
        key = "merges" if kind == "merge" else "arrays"
        out[name] = (edits, lambda facts, key=key, area=area: facts[key].setdefault(sheet, []).append(list(area)))
    return out


# 集計's first chart of the real answer replayed a second time in the book the first left:
# renkeiAddChart stops at its last statement (LO_GAPS), after drawing the chart.
CHART_AGAIN = "gap: chart, clicked again"


# Cases replayed in the book the case before left open (uno_vba's same_book): the gaps of
# conditional formats and the missing Sub stop on their first action, a method LibreOffice
# lacks, before anything is changed, so the next case meets the book as loaded; one load of
# the master (about half a CPU-second of LibreOffice) for the three. The chart's two clicks go
# on in the book the recalc replay wrote, as the real answer draws after writing.
SAME_BOOK = ("gap: add", "missing Sub", "gap: chart", CHART_AGAIN)


@pytest.fixture(scope="module")
def replays(server, tmp_path_factory):  # noqa: F811
    """The server's answers and one LibreOffice start replaying all of them."""
    require_soffice()
    root = tmp_path_factory.mktemp("lo_vba")
    payload = payload_from_file(server.master, client=VBA)
    cases = {}
    for entry in ("check", "recalc"):
        response = server.post(entry, payload)
        assert response.status_code == 200, response.text
        actions = response.json()["actions"]
        cases[entry] = (actions, apply_actions(payload, actions))
    # 集計's first chart of the real answer, in the book the recalc replay left (its values
    # written), clicked twice: LibreOffice stops it at its last statement (LO_GAPS)
    cases["gap: chart"] = ([next(a for a in cases["recalc"][0] if a["func"] == "renkeiAddChart")], None)
    cases[CHART_AGAIN] = cases["gap: chart"]
    chart = cases["gap: chart"][0][0]
    chart_read = {payload["sheets"][chart["sheet_position"]]["name"]: {"charts": [chart["args"][4]]}}
    catalogue = [_action("renkeiUnprotectSheets", [[CATALOGUE_SHEET], []], 0, 1, 1), *_catalogue(payload)]
    catalogue[0].update(sheet_position=None, start_row=None, start_column=None, row_count=None, column_count=None)
    cases["catalogue"] = (catalogue, apply_actions(payload, catalogue))
    for func, name in (("clearConditionalFormats", "gap: clear"), ("addConditionalFormat", "gap: add")):
        cases[name] = ([next(a for a in cases["recalc"][0] if a["func"] == func)], None)
    cases["missing Sub"] = ([catalogue[0], {"func": "renkeiNoSuchAction", "args": [], "values": None, "sheet_position": 0,
                              "start_row": 0, "start_column": 0, "row_count": 1, "column_count": 1}], None)
    # A master whose 集計 staff deleted: the click adds it, and the VBA protects it as the answer says.
    # And one with STAFF_SHEET_EDITS (一覧 hidden among them: the click cannot activate it to
    # freeze its panes).
    sources = {"added sheet": _edited(server.master, root / "no_summary" / server.master.name, _without_summary),
               STAFF_SHEET_EDITS: _edited(server.master, root / "staff_sheet_edits" / server.master.name,
                                          _staff_sheet_edits)}
    for name, source in sources.items():
        edited_payload = payload_from_file(source, client=VBA)
        response = server.post("recalc", edited_payload)
        assert response.status_code == 200, response.text
        actions = response.json()["actions"]
        cases[name] = (actions, apply_actions(edited_payload, actions))
    # Protection staff set in the open book after its last save, which the server cannot know:
    # the last protected sheet the recalc answer lifts gets a password (the ones before it are
    # lifted first and must be protected again), and the book without 集計 a protected structure.
    lifted = next(a for a in cases["recalc"][0] if a["func"] == "renkeiUnprotectSheets")["args"][0]
    protected_in_master = _protected_sheets(server.master)
    last = [s for s in lifted if s in protected_in_master][-1]
    after_save = {"password after save": ("recalc", {"password": {last: "staff-only"}}),
                  "structure after save": ("added sheet", {"structure": True})}
    for name, (of, _) in after_save.items():
        cases[name] = (cases[of][0], None)
        sources[name] = sources.get(of, server.master)
    # A merge or an array formula staff made in the open book since its last save, over メニュー's
    # status cells the recalc answer writes (its renkeiUnprotectSheets names them): the model
    # replays the answer on the book as it is now, and so does LibreOffice (since_saved).
    since = {}
    for name, (edits, facts) in _since_saved(cases["recalc"][0]).items():
        after_save[name] = ("recalc", edits)
        now = copy.deepcopy(payload)
        facts(now[EXCEL_KEY])
        try:
            since[name] = apply_actions(now, cases["recalc"][0])
        except ExcelError as refused:
            since[name] = refused
        cases[name] = (cases["recalc"][0], since[name] if isinstance(since[name], Applied) else None)
    name, (sheet, _, _, area) = SINCE_SAVED[3], ROW_WRITTEN
    row_actions = _row_answer(payload)
    after_save[name] = ("recalc", {"merge": [[sheet, _address(area)]]})
    now = copy.deepcopy(payload)
    now[EXCEL_KEY]["merges"].setdefault(sheet, []).append(list(area))
    try:
        since[name] = apply_actions(now, row_actions)
    except ExcelError as refused:
        since[name] = refused
    cases[name] = (row_actions, None)
    runs = []
    for i, (name, (actions, applied)) in enumerate(cases.items()):
        book = root / f"master{i}.xlsm"
        shutil.copyfile(sources.get(name, server.master), book)
        runs.append({"book": str(book), "actions": actions if name.startswith("gap") else _replayed(actions),
                     "read": chart_read if name in ("gap: chart", CHART_AGAIN)
                     else _read_request(applied) if applied is not None else {},
                     "after_save": after_save[name][1] if name in after_save else {},
                     "same_book": name in SAME_BOOK})
    book = root / "texts.xlsm"
    shutil.copyfile(server.master, book)
    runs.append({"book": str(book), "entry": "RenkeiHarnessTexts", "actions": [list(PYTHON_STDERR.values()), TAB_NAMES,
                                                                               list(button_entries().values())],
                 "read": {}})
    # In the same book: two of staff's unprotected sheets, which an answer says to protect with
    # options Protect refuses (RenkeiNamedProtection's CBool: error 13).
    open_sheets = [s["name"] for s in payload["sheets"] if s["name"] not in protected_in_master][:2]
    runs.append({"book": str(book), "entry": "RenkeiHarnessRestore", "same_book": True, "read": {},
                 "actions": _action_of("renkeiUnprotectSheets", [[], open_sheets, {"DrawingObjects": "x"}])})
    runs.append({"book": str(book), "entry": "RenkeiHarnessStages", "same_book": True, "read": {}, "actions": []})
    book = percents_book = _edited(server.master, root / "percents" / server.master.name, _staff_percents)
    percents_payload = payload_from_file(book, client=VBA)
    runs.append({"book": str(book), "entry": "RenkeiHarnessPercents", "actions": [], "read": {}})
    book = _edited(server.master, root / "percents_overflow" / server.master.name, _too_many_percents)
    overflow_payload = payload_from_file(book, client=VBA)
    runs.append({"book": str(book), "entry": "RenkeiHarnessPercents", "actions": [], "read": {}})
    book = _edited(server.master, root / "percents_unknown" / server.master.name, _percents_past_the_walk)
    unknown_payload = payload_from_file(book, client=VBA)
    runs.append({"book": str(book), "entry": "RenkeiHarnessPercents", "actions": [], "read": {}})
    # RenkeiServer.bas' X-Renkei-Currency pieces, in a master init writes for a server, under their own harness
    from renkei_xl.cli import main as cli_main

    book = root / "currency" / "master.xlsm"
    book.parent.mkdir()
    assert cli_main(["init", str(book), "--sample", "fy2023", "--server", "http://127.0.0.1:1"]) == 0
    runs.append({"book": str(book), "harness": CURRENCY_HARNESS, "entry": "RenkeiHarnessBits", "actions": DOUBLE_BITS,
                 "read": {}})
    # tests/uno_vba.py's runs in the office this process keeps (realbooks' UNO jobs), its VBA
    # options set for the job and restored after: no LibreOffice start of its own.
    results = _run_uno_job({"kind": "vba", "drop": list(NOT_COMPILING), "module": HARNESS_MODULE,
                            "entry": HARNESS_ENTRY, "harness": HARNESS, "runs": runs}, timeout=600)["runs"]
    replayed = {name: (case[0], case[1], result) for (name, case), result in zip(cases.items(), results)}
    for name, outcome in since.items():
        replayed[name] = (replayed[name][0], outcome, replayed[name][2])
    texts, _, tabs = results[-7]["result"].partition("\x1d")      # RenkeiHarnessTexts' two parts
    return {**replayed, TEXTS: (None, None, {**results[-7], "result": texts}), TABS: (None, None, tabs),
            RESTORE: (open_sheets, None, results[-6]), STAGES: (None, None, results[-5]), PERCENTS: (percents_book, percents_payload, results[-4]),
            PERCENTS_OVERFLOW: (None, overflow_payload, results[-3]), PERCENTS_UNKNOWN: (None, unknown_payload, results[-2]),
            CURRENCY: (None, None, results[-1])}


def _replay_outcome(result: dict) -> str:
    return result["result"].split("\n")[0]


def test_the_book_state_the_vba_sends_is_what_the_host_knows(replays):
    """RenkeiBookState (X-Renkei-Book, renkei_xl.server.book_state) runs in a VBA engine:
    a book just opened is saved and one the replay wrote is not; LibreOffice has no
    Workbook.ReadOnly, so that flag goes empty and the server gives both steps for it."""
    from renkei_xl.server.book_state import BookState, book_state

    _actions, _applied, result = replays["recalc"]
    before, after = result["result"].split("\n")[1].split(" | ")
    assert (before, after) == ("saved=1; read-only=", "saved=0; read-only="), result["result"]
    assert (book_state(before), book_state(after)) == (BookState(True, None), BookState(False, None))


def test_the_percent_formats_the_vba_sends_are_what_the_model_sends(replays):
    """RenkeiPercents (X-Renkei-Percents, renkei_xl.server.percent_header) runs in a VBA engine
    on a real workbook with percent-formatted cells, the tool's sheets protected as init --server
    protects them and the municipality sheet holding them protected too (Excel is widely
    reported to refuse SpecialCells on a protected sheet, which made the whole header its
    overflow marker): the header it sends names, as the server reads it, the cells holding a
    number in a format with a percent sign, each with its format, the protected sheet's
    included, and is the very header the model of the client (remote_payload.percent_header_of)
    writes."""
    from remote_payload import currency_header_of, percent_header_of
    from renkei_xl.server.percent_header import percent_header

    book, payload, result = replays[PERCENTS]
    assert {"一覧", "集計", PROTECTED_MUNICIPALITY} <= set(_protected_sheets(book))
    sent, exact = result["result"].split("\n")
    assert sent.startswith("2;") and not sent.startswith("HARNESS"), sent
    # LibreOffice's Range.Value gives a Double in a Currency format (measured): no cell is sent
    assert exact == "1" == currency_header_of(payload), exact
    modelled = percent_header_of(payload)
    expected = {(sheet, r, col): fmt for (sheet, r, col), (value, fmt) in STAFF_PERCENTS.items()
                if type(value) in (int, float)}
    cells = _percent_cells(modelled, payload)
    assert expected.items() <= cells.items() and ("設定", 5, 2) in cells      # 概ね達成閾値 0.0%, sent too
    assert not {key for key in STAFF_PERCENTS if key not in expected} & set(cells)
    assert None not in percent_header(sent).values(), sent       # no sheet left not known
    assert sent == modelled
    assert len(sent) <= 8000


def test_a_sheet_past_the_cells_read_one_by_one_is_not_known_alone(replays):
    """A sheet whose numbers in mixed formats pass RenkeiPercents' bound of cells read one by
    one is sent as not known, that sheet alone: the other sheets' percent cells (小樽市's,
    指標's) are still named, as the model writes it, and the server reads that sheet as before."""
    from remote_payload import percent_header_of
    from renkei_xl.server.percent_header import percent_header

    _, payload, result = replays[PERCENTS_UNKNOWN]
    sent = result["result"].split("\n")[0]
    assert sent == percent_header_of(payload), sent[:300]
    said = percent_header(sent)
    assert said is not None and said["札幌市"] is None, sent[:300]
    (row, col), _, fmt = OTHER_PERCENT
    cells = _percent_cells(sent, payload)
    assert cells[(OTHER_MUNICIPALITY, row, col)] == fmt and cells[("指標", 5, 7)] == "0.0%"
    assert not any(sheet == "札幌市" for sheet, _, _ in cells)


def test_a_percent_list_too_long_for_a_header_is_sent_as_its_overflow_marker(replays):
    """Past PERCENTS_MAX characters RenkeiPercents sends its overflow marker, as the model does,
    and the server reads it as no header (the saved master's formats, as before client 7)."""
    from remote_payload import percent_header_of
    from renkei_xl.server.percent_header import OVERFLOW, percent_header

    _, payload, result = replays[PERCENTS_OVERFLOW]
    sent, exact = result["result"].split("\n")
    assert sent == OVERFLOW == percent_header_of(payload), result["result"][:300]
    assert percent_header(sent) is None
    assert exact == "1", exact      # the walk went on for the Currency cells, none in LibreOffice


@pytest.mark.parametrize("entry", ["check", "recalc", "catalogue"])
def test_the_masters_vba_writes_what_the_model_says(replays, entry):
    actions, applied, result = replays[entry]
    assert set(KEPT) <= set(result["modules"]), result["modules"]
    assert not set(NOT_COMPILING) & set(result["modules"])
    replayed = _replayed(actions)
    assert _replay_outcome(result) == f"OK {len(replayed)}", result["result"]
    assert result["sheets"] == applied.order
    assert result["read"], "nothing to read back"
    order = list(applied.order)
    for a in actions:   # the sheets as the payload had them, before addSheet
        if a["func"] == "addSheet":
            order.remove(a["args"][1])
    differences = _differences(applied, result["read"], _range_colours(actions, order))
    assert not differences, "\n".join(differences)


def test_a_print_area_staff_set_on_a_rebuilt_sheet_goes_on_both_faces(replays, server, tmp_path):  # noqa: F811
    """The plan gives 集計 and 検証結果 no print area: the file face's rebuild leaves none, and
    the buttons kept the staff's (a part of a sheet whose rows change every run printed)."""
    from renkei_xl.workbook.session import recalc_file
    from remote_payload import file_print_area

    actions, applied, result = replays[STAFF_SHEET_EDITS]
    assert _replay_outcome(result) == f"OK {len(_replayed(actions))}", result["result"]
    for sheet in STAFF_PRINT_AREAS:
        assert result["read"][sheet]["print_areas"] == [], (sheet, result["read"][sheet]["print_areas"])
    differences = _differences(applied, result["read"], _range_colours(actions, list(applied.order)))
    assert not differences, "\n".join(differences)
    master = _edited(server.master, tmp_path / "file" / server.master.name, _staff_print_areas)
    assert [file_print_area(master, s) for s in STAFF_PRINT_AREAS] == list(STAFF_PRINT_AREAS.values())
    recalc_file(master)
    assert [file_print_area(master, s) for s in STAFF_PRINT_AREAS] == [None, None]


def test_a_missing_sub_stops_the_replay_loudly(replays):
    _, _, result = replays["missing Sub"]
    assert result["result"].startswith("ERR 2 "), result["result"]   # after lifting 検証結果


def test_the_gaps_are_the_only_actions_left_out(replays):
    """Everything the server sent ran in LibreOffice but what LO_GAPS names."""
    for entry in ("check", "recalc"):
        actions, _, _ = replays[entry]
        left_out = {a["func"] for a in actions} - {a["func"] for a in _replayed(actions)}
        assert left_out <= set(LO_GAPS)


@pytest.mark.parametrize("entry", ["check", "recalc", "catalogue", "missing Sub"])
def test_the_sheets_the_replay_lifted_are_protected_again(replays, entry):
    """RenkeiServer.bas' own lifting and restoring, run in LibreOffice: the tool's sheets are
    protected before, written (the looks above prove they were lifted), protected after,
    also when the replay stopped at a missing Sub."""
    actions, _applied, result = replays[entry]
    assert {"一覧", "検証結果", "メニュー"} <= set(result["protected"])
    assert set(result["protected"]) <= set(result["protected_after"]), result
    if entry == "missing Sub":
        assert result["result"].startswith("ERR 2 ") and CATALOGUE_SHEET in result["protected_after"]


def test_a_sheet_the_click_added_is_protected_as_the_answer_says(replays):
    """RenkeiServer.bas holds no protection options of its own: the answer's
    renkeiUnprotectSheets says how the sheets a click adds are protected, and the VBA reads
    them by Protect's argument names (LibreOffice then protects with DrawingObjects and
    Scenarios only: it has no Allow* arguments)."""
    actions, applied, result = replays["added sheet"]
    unprotect = actions[[a["func"] for a in actions].index("renkeiUnprotectSheets")]
    assert "集計" in unprotect["args"][1] and unprotect["args"][2]["AllowFiltering"] is True
    assert _replay_outcome(result) == f"OK {len(_replayed(actions))}", result["result"]
    assert "集計" not in result["protected"] and "集計" in result["protected_after"], result
    assert "集計" in applied.protection


def test_the_listed_gaps_are_real_gaps_of_libreoffice(replays):
    """The conditional formats of the real answer, replayed alone, stop on the errors
    LO_GAPS names: when a LibreOffice release implements them, this fails and LO_GAPS shrinks."""
    assert replays["gap: clear"][2]["result"].startswith("ERR 1 423 "), replays["gap: clear"][2]["result"]
    assert replays["gap: add"][2]["result"].startswith(("ERR 1 423 ", "ERR 1 425 ")), replays["gap: add"][2]["result"]
    assert replays["gap: chart"][2]["result"].startswith("ERR 1 91 "), replays["gap: chart"][2]["result"]
    for gap in ("gap: clear", "gap: add"):     # stopped before any change: SAME_BOOK's next case meets the book as loaded
        assert replays[gap][2]["protected_after"] == replays[gap][2]["protected"], replays[gap][2]


@pytest.mark.parametrize("case", ["gap: chart", CHART_AGAIN])
def test_the_chart_renkeiaddchart_draws_is_the_models_once(replays, case):
    """RenkeiServer.bas' renkeiAddChart, run in LibreOffice up to the statement it lacks
    (LO_GAPS): the chart is there under the tool's name, with the model's title, data range,
    type, rows, legend, size and anchor cell, and a second click leaves one such chart (the
    first is found by its name among the sheet's Shapes and deleted, not a second one added)."""
    actions, _, result = replays[case]
    assert result["result"].startswith("ERR 1 91 "), result["result"]
    _, applied, _ = replays["recalc"]
    sheet = applied.order[actions[0]["sheet_position"]]
    model = next(ch for ch in applied.charts[sheet] if ch["name"] == actions[0]["args"][0])
    read = result["read"][sheet]["charts"]
    assert [ch["name"] for ch in read["objects"]] == [model["name"]], read["objects"]
    drawn = read["objects"][0]
    assert model["chart_type"] == "ColumnClustered" and model["plot_by"] == "Rows"
    assert (drawn["title"], drawn["diagram"], drawn["vertical"], drawn["plot_by"], drawn["legend"]) == (
        model["title"], "com.sun.star.chart.BarDiagram", True, "ROWS", model["legend_visible"])
    # LibreOffice's SetSourceData, finding no headers in the range, copies its values into the
    # chart (LO_NOTES): the copy is the values the replay wrote there
    r1, c1, r2, c2 = _rect_of(model["source"][1])
    written = replays["recalc"][2]["read"][sheet]["cells"]
    assert drawn["data"] == [[written[f"{r},{c}"]["value"] for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]
    assert any(v is not None for row in drawn["data"] for v in row), drawn["data"]
    expected = [*read["cells"][model["anchor"]], model["width"] * 2540 / 72, model["height"] * 2540 / 72]
    assert all(abs(got - want) <= 2 for got, want in zip(drawn["rect"], expected, strict=True)), (drawn["rect"], expected)


def test_a_hidden_sheets_panes_are_left_and_the_replay_goes_on(replays):
    """RenkeiServer.bas' RenkeiFreeze leaves a sheet staff hid (Excel cannot activate it:
    1004 in the middle of the replay); the rest of the answer runs."""
    actions, applied, result = replays[STAFF_SHEET_EDITS]
    frozen = [a for a in _replayed(actions) if a["func"] == "freezePaneAtRange"
              and applied.order[a["sheet_position"]] == "一覧"]
    assert frozen, "the answer freezes 一覧's panes"
    assert _replay_outcome(result) == f"OK {len(_replayed(actions))}", result["result"]
    assert "一覧" not in applied.freeze


@pytest.mark.parametrize("case", ["password after save", "structure after save"])
def test_protection_set_after_the_last_save_stops_the_click_before_anything_is_written(replays, case):
    """RenkeiServer.bas' renkeiUnprotectSheets, run in LibreOffice on a book where staff
    protected a sheet with a password, or the structure, after saving: the replay stops at
    that action with the refusal the answer carries, which is all staff read; the sheets
    lifted before it are protected again, and no sheet was added."""
    from renkei_xl.excel.book import locked_sheet_message, locked_structure_message

    actions, _, result = replays[case]
    replayed = _replayed(actions)
    at = [a["func"] for a in replayed].index("renkeiUnprotectSheets") + 1
    head, _, shown = result["result"].partition("\n")
    assert head.startswith(f"ERR {at} "), result["result"]
    if case == "password after save":
        sheet = [s for s in replayed[at - 1]["args"][0] if s in result["protected"]][-1]
        expected = locked_sheet_message([sheet])
    else:
        expected = locked_structure_message([a["args"][1] for a in replayed if a["func"] == "addSheet"])
        assert "集計" not in result["sheets"]
    assert shown.startswith(expected) and "（受付番号" in shown, shown
    assert set(result["protected"]) <= set(result["protected_after"]), result



@pytest.mark.parametrize("case", SINCE_SAVED)
def test_a_merge_or_array_made_since_the_save_is_met_as_the_model_says(replays, case):
    """RenkeiServer.bas' renkeiUnprotectSheets, run in LibreOffice on a book where staff merged
    cells or entered an array formula over a cell the click writes after the last save (the
    server read the saved master, which has none): a value into the merge's hidden part or the
    array stops the replay at that action with the refusal the answer carries, the one the
    model of Excel gives (read from the same VBA), nothing written and the sheets protected
    again; a merge whose first cell is the one written takes the value, as in the model.
    (LibreOffice reads MergeCells, MergeArea, HasFormula and HasArray as the check needs.)"""
    from remote_payload import RENKEI_REFUSED

    actions, model, result = replays[case]
    replayed = _replayed(actions)
    head, _, shown = result["result"].partition("\n")
    if isinstance(model, ExcelError):
        assert model.number == RENKEI_REFUSED and model.action["func"] == "renkeiUnprotectSheets", model
        at = [a["func"] for a in replayed].index("renkeiUnprotectSheets") + 1
        assert head.startswith(f"ERR {at} {RENKEI_REFUSED} "), result["result"]
        assert shown.startswith(model.text) and "（受付番号" in shown, (shown, model.text)
        assert set(result["protected"]) <= set(result["protected_after"]), result
    else:
        assert head == f"OK {len(replayed)}", result["result"]
        differences = _differences(model, result["read"], _range_colours(actions, list(model.order)))
        assert not differences, "\n".join(differences)


def test_a_page_staff_set_on_a_tool_sheet_is_the_plans_again_after_the_server(replays):
    """Paper, orientation, fit, centring, margins and footer staff changed on 一覧 and 集計:
    the command line and desktop Excel put the plan's page back at every recalc; the
    server's answer set the breaks and the print area only, so the staff's page stayed.
    The master's renkeiPageSetup, replayed, puts the plan's (what the model says, read back
    through UNO; the titles LibreOffice cannot set are the model's, LO_NOTES)."""
    _actions, applied, result = replays[STAFF_SHEET_EDITS]
    assert _replay_outcome(result).startswith("OK"), result["result"]
    for sheet in STAFF_PAGE_SHEETS:     # the staff's was portrait Letter, 3 x 2 pages, footer "staff"
        page = result["read"][sheet]["page"]
        assert (page["landscape"], page["fit"], page["footer"]) == (True, [1, 0], "&9&P / &N"), (sheet, page)
        assert not _page_differences(sheet, applied.page_setup[sheet], page)
    assert {s: applied.page_setup[s]["PrintTitleRows"] for s in STAFF_PAGE_SHEETS} == {"一覧": "$3:$3", "集計": ""}


def _renkei_text(name: str) -> str:
    """A text of macros/Renkei.bas or RenkeiServer.bas, as RenkeiText decodes it."""
    for module in ("Renkei.bas", "RenkeiServer.bas"):
        found = re.search(rf'^Private Const {name} As String = "([0-9A-F]+)"', (MACROS_DIR / module).read_text("ascii"),
                          re.MULTILINE)
        if found:
            return bytes.fromhex(found[1]).decode("utf-16-be")
    raise KeyError(name)


def test_what_stops_a_click_before_any_replay_is_said_in_japanese(replays):
    """In LibreOffice's VBA: each stderr of a Python that could not run the button, as the
    master's RunPython box shows it (Renkei.bas' RenkeiPythonFailed; xlwings showed it bare
    under "Error"), leads with what to do and keeps the text for IT. An answer that is not the
    server's JSON (a proxy's page, a cut answer) stopped on error 91 and read as 「ブックの一部だけが
    書き換えられた可能性」 with an empty 受付番号; before any action ran, it now says the book is unchanged."""
    result = replays[TEXTS][2]["result"]
    assert not result.startswith("HARNESS "), result
    *shown, refused, proxy, bare, _, _, _, _, unreadable = result.split("\x1e")
    leads = {"no renkei_xl": _renkei_text("MSG_NO_TOOL"), "no xlwings": _renkei_text("MSG_NO_TOOL"),
             "cmd (Japanese)": _renkei_text("MSG_NO_PYTHON").replace("{0}", "python"),
             "store alias": _renkei_text("MSG_NO_PYTHON").replace("{0}", "python"),
             "other": _renkei_text("MSG_PYTHON_FAILED")}
    assert len(shown) == len(PYTHON_STDERR)
    for (kind, written), text in zip(PYTHON_STDERR.items(), shown):
        if kind not in leads:   # the click's own sentence: it ran, or said what to do; no lead says it stopped
            assert text.replace("\r\n", "\n") == written.partition(SAID_BY_CLICK)[2], (kind, text)
            continue
        lead, _, rest = text.replace("\r\n", "\n").partition("\n\n")
        assert lead == leads[kind] and rest == written, (kind, text)
    assert unreadable.startswith("「評価を再計算」は、サーバーの答えを書き込む前に止まりました（エラー番号 91: "), unreadable
    assert "ブックは変更していません" in unreadable and "一部だけが" not in unreadable


def test_a_click_stopped_before_the_book_was_sent_names_excels_error(replays):
    """In LibreOffice's VBA: Remote.bas stopped between RenkeiPreparing and RenkeiSending (its
    payload code met a table whose style is none: TableStyle.Name, error 424). Staff read
    MSG_UNREADABLE, which blames the server's answer or a proxy, for a request never sent; now
    the button, Excel's error and that nothing was sent (test_master_macros: nothing reported)."""
    result = replays[STAGES][2]["result"]
    assert not result.startswith("HARNESS "), result
    shown = result.split("\x1e")[0]
    assert shown == _renkei_text("MSG_NOT_PREPARED").replace("{0}", "評価を再計算").replace("{1}", "424").replace(
        "{2}", "Object required"), shown
    assert "サーバーには何も送っていない" in shown and "ブックは変更していません" in shown and "テーブル" in shown
    assert "プロキシ" not in shown and "一部だけ" not in shown


def test_a_refusal_the_answer_has_no_words_for_is_said_not_left_empty(replays):
    """RenkeiRefuse, in LibreOffice's VBA, for a reason the answer's refusals lack (a server older
    than the master's macros: merged_run came after client 8's first answers) and for an answer
    with no refusals: it raised an empty text (Scripting.Dictionary's Empty for a missing key),
    which RenkeiFailure showed as an Excel error that may have half-written the book. Now the
    places and the reason in the module's own words, nothing written; the server's words where
    it sent them, as they are."""
    from remote_payload import RENKEI_REFUSED

    result = replays[STAGES][2]["result"]
    _, missing, none, known = result.split("\x1e")
    plain = _renkei_text("MSG_REFUSED_PLAIN").replace("{0}", "Sheet1!C10")
    for case, reason in ((missing, "merged_run"), (none, "structure")):
        number, text, shown = case.split("\x1f")
        assert (number, text) == (str(RENKEI_REFUSED), plain.replace("{1}", reason)), case
        assert shown.startswith(text + "（受付番号") and "一部だけ" not in shown, shown
    assert "ブックは変更していません" in plain and "サーバーの更新" in plain
    number, text, shown = known.split("\x1f")
    assert (number, text) == (str(RENKEI_REFUSED), "Sheet1!C10 known") and shown.startswith(text), known


def test_an_answer_that_is_not_the_servers_is_said_in_japanese(replays):
    """In LibreOffice's VBA, Remote.bas' boxes for an answer that is not 200: the server's own
    refusal (its plain text) as it is; a proxy's or gateway's page (HTML, a 502 without text),
    which Remote.bas showed raw or as 「Bad Gateway (502)」, in Japanese naming the URL and status."""
    *_, refused, proxy, bare, _, _, _, _, _ = replays[TEXTS][2]["result"].split("\x1e")
    assert refused == "refused"
    expected = _renkei_text("MSG_NOT_OURS").replace("{0}", "http://192.0.2.10:8000/buttons/recalc").replace(
        "{1}", "502").replace("{2}", "Bad Gateway")
    assert proxy == expected and bare == expected
    assert "RENKEI_SERVER" in expected and "ブックは変更していません" in expected


def test_xlwings_conf_rows_that_leave_sheets_out_are_refused_in_japanese(replays):
    """Remote.bas sends an empty sheet for each sheet xlwings.conf's INCLUDE leaves out or
    EXCLUDE names, which the server would compute as empty; with both rows it showed English
    (「Either use 'include' or 'exclude', but not both!」). RenkeiLeftOut, run in LibreOffice's VBA,
    refuses either row in Japanese; RenkeiCallServer asks it before anything is sent."""
    *_, none, exclude, both, _, _ = replays[TEXTS][2]["result"].split("\x1e")
    text = _renkei_text("MSG_LEFT_OUT")
    assert none == ""
    assert exclude == text.replace("{0}", "EXCLUDE") and both == text.replace("{0}", "INCLUDE・EXCLUDE")
    assert "ブックは変更していません" in text
    source = (MACROS_DIR / "RenkeiServer.bas").read_text("ascii").replace("\r\n", "\n")
    call = source.index('    problem = RenkeiLeftOut(GetConfig("INCLUDE", ""), GetConfig("EXCLUDE", ""))\n')
    assert call < source.index("    RunServerPython url, headers:=headers\n")


def test_the_tabs_the_vba_names_are_what_the_model_sends_and_the_server_reads(replays, server):  # noqa: F811
    """X-Renkei-Tabs (client 10): RenkeiChartSheets, run in LibreOffice's VBA on the master,
    names no tab there (every LibreOffice sheet is a worksheet) beside no position, and
    RenkeiTabsAdd writes each list of names as the model of the client does (tabs_header_of:
    UTF-16 hex, a character beyond the BMP as its two units) and as the server reads them back
    (server.sheet_positions.other_tabs), the list past TABS_MAX as its overflow mark, which the
    server reads as no header (the saved master's tabs, as before). The master sends it beside
    X-Renkei-Chart-Sheets (sends_tabs)."""
    from remote_payload import TABS_OVERFLOW, sends_tabs, tabs_header_of
    from renkei_xl.server.sheet_positions import other_tabs

    charts, book, *added = replays[TABS][2].split("\x1f")
    assert (charts, book) == ("", "1"), replays[TABS][2]
    assert added == [tabs_header_of({EXCEL_KEY: {"tabs_sent": True, "other_tabs": names}}) for names in TAB_NAMES]
    assert other_tabs(added[0]) == TAB_NAMES[0] and "D842DFB7" in added[0]       # 𠮷, two units
    assert added[1] == TABS_OVERFLOW and other_tabs(added[1]) is None
    assert sends_tabs(server.master)


def test_a_run_time_error_under_a_button_is_a_japanese_box_not_the_debug_dialog(replays):
    """A name written twice in column A of the xlwings.conf sheet (staff add an AUTH or
    Interpreter_Win row that is already there) stops xlwings' GetConfig with error 457, and
    Excel showed its run-time error dialog with the Debug button. Renkei.bas' RenkeiRun now
    catches every error under a button and shows RenkeiMacroFailed (run here in LibreOffice's
    VBA), naming the error and the xlwings.conf rows to check."""
    *_, boxes, _ = replays[TEXTS][2]["result"].split("\x1e")
    *boxes, _ = boxes.split("\x1f")
    # Each button's box names it by its caption (RenkeiServer.bas' RenkeiCaption, a copy in hex of
    # core.contract.BUTTONS: ran only for 評価を再計算 before).
    captions = dict(BUTTONS)
    expected = [_renkei_text("MSG_MACRO_FAILED").replace("{0}", captions[macro]).replace("{1}", "457").replace(
        "{2}", "This key is already associated with an element of this collection") for macro in button_entries()]
    assert boxes == expected and len(boxes) == len(BUTTONS)
    shown = boxes[list(button_entries().values()).index("recalc")]
    assert shown.startswith("「評価を再計算」") and "xlwings.conf" in shown and "A 列に同じ名前の行" in shown
    source = (MACROS_DIR / "Renkei.bas").read_text("ascii").replace("\r\n", "\n")
    run = re.search(r"^Private Sub RenkeiRun\(entry As String\)\n(.*?)^End Sub", source, re.MULTILINE | re.DOTALL)[1]
    code = [line.strip() for line in run.splitlines() if line.strip() and not line.strip().startswith("'")]
    assert code[1] == "On Error GoTo Failed" and code[2].startswith("server = GetConfig(")
    assert code[-2:] == ["Failed:", "MsgBox RenkeiMacroFailed(Err.Number, Err.Description, entry), vbCritical, RenkeiTitle()"]


def test_sheets_not_protected_again_are_named_each_and_reported(replays):
    """RenkeiRestoreProtection, run in LibreOffice, on two sheets an answer says to protect
    with options Protect refuses: staff read each sheet in its own brackets (they read
    「シート「札幌市 小樽市」」, one sheet of a name no book has), and RenkeiCallServer gets the
    error to report, so the server's log says what staff read (it said only 完了). RenkeiFormat
    fills each mark once: a sheet staff named "{1}" stayed no sheet of another name."""
    open_sheets, _, result = replays[RESTORE]
    assert len(open_sheets) == 2
    shown, number, formatted = result["result"].split("\x1e")
    assert shown == _renkei_text("MSG_RESTORE").replace("{0}", "」「".join(open_sheets)), shown
    assert number == "13" and formatted == "{1}|x|{1}", result["result"]
    source = (MACROS_DIR / "RenkeiServer.bas").read_text("ascii").replace("\r\n", "\n")
    replayed = source[source.index("    RunServerPython url, headers:=headers\n"):source.index("\nFailed:\n")]
    assert "RenkeiReport url, unprotected, unguarded\n" in replayed and "MsgBox unguarded" in replayed


# Doubles RenkeiDoubleHex must give the bits of: figures past four decimal places (the ones
# X-Renkei-Currency carries), a sum that is no decimal, negatives, Currency's bounds and past
# them, the largest and the smallest normal and subnormal doubles, and integers around 2^53.
DOUBLE_BITS = [0.0, 1.0, -1.0, 0.5, 0.1 + 0.2, 12.00005, -12.00005, 0.123456, 1 / 3, 45021.00005, 1234.56789,
               0.00001, 922337203685477.5807, -922337203685477.5808, 1e15, -1e15, 1.7976931348623157e308,
               2.2250738585072014e-308, -2.2250738585072014e-308, 5e-324, -5e-324, 2.0 ** 52, 2.0 ** 53 + 2,
               1025 / 14, -2 / 3]
CURRENCY_HARNESS = """Option VBASupport 1
Option Explicit
' Generated by tests/test_vba_libreoffice.py: RenkeiServer.bas' X-Renkei-Currency pieces.
Function RenkeiHarnessBits(tokens As Variant) As String
    Dim i As Long, out As String
    On Error GoTo Failed
    ' tokens: "a", n, then a tag and a value each (a long number as its text: tests/uno_vba.py)
    For i = LBound(tokens) + 3 To UBound(tokens) Step 2
        out = out & RenkeiDoubleHex(CDbl(tokens(i))) & ","
    Next i
    ' Value as VBA's Currency beside Value2: another number, the same number, no Double
    out = out & "|" & RenkeiCurrencyEntry("E12", CCur(12.00005), CDbl(12.00005)) _
        & "|" & RenkeiCurrencyEntry("F3", CCur(12.5), CDbl(12.5)) & "|" & RenkeiCurrencyEntry("G4", CCur(1), "x") _
        & "|" & RenkeiCurrencyEntry("AB70", CCur(0.1235), CDbl(0.123456))
    RenkeiHarnessBits = out
    Exit Function
Failed:
    RenkeiHarnessBits = "HARNESS " & Err.Number & " " & Err.Description & " after: " & out
End Function
"""


def test_the_exact_numbers_the_vba_sends_are_the_doubles_bits(replays):
    """X-Renkei-Currency (client 9) carries each Currency cell's Value2 as its IEEE 754 bits,
    found by RenkeiDoubleHex with VBA arithmetic alone (CStr gives 15 significant digits, not
    the Double): run in LibreOffice's VBA, every double here comes back as Python's struct
    packs it, and the server's reader (server.currency_header.double_of) gives the very number.
    RenkeiCurrencyEntry names a cell only where Value (VBA's Currency) is another number than
    Value2. LibreOffice's Range.Value is never a Currency and it has no Value2 (measured), so
    the walk's Value2 read is Excel's alone: RenkeiPercents' walk runs here in the other tests.
    (Run by the module's one LibreOffice start, `replays`, in its own master and harness.)"""
    import struct

    from remote_payload import double_hex
    from renkei_xl.server.currency_header import double_of

    result = replays[CURRENCY][2]["result"]
    assert result and not result.startswith("HARNESS"), result
    bits, *entries = result.split("|")
    sent = bits.split(",")[:-1]
    assert sent == [struct.pack(">d", x).hex().upper() for x in DOUBLE_BITS] == [double_hex(x) for x in DOUBLE_BITS]
    assert [double_of(b) for b in sent] == DOUBLE_BITS
    assert entries == [f"E12={double_hex(12.00005)}", "", "", f"AB70={double_hex(0.123456)}"]

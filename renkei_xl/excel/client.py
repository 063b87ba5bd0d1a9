"""An answer fitted to the VBA client that will replay it.

xlwings' VBA client replays every action with ``Application.Run``; an action with no Sub
of that name stops the replay halfway (renkei_xl.vba.read). What the client can run is
read from the master's own VBA; here the answer is cut to it, in one place, by one rule:

- a *look* (fonts, borders, alignment, merges, sizes, panes, conditional formats, print
  area, page breaks, page setup, filter buttons, fills, links, charts) the client cannot draw is left out, together with the
  other actions of its group (a chart's title is no use without the chart, an unmerge
  without its merge would leave old merges over new values);
- anything else (values, sheets, clearing, names, the message, the lifting of
  protection) is what the click is for: without it the answer is refused as a whole,
  before Excel has changed anything.

README (サーバーで動かす) lists the looks a master's shipped VBA cannot draw.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Optional, Sequence

# The action that lifts the protection of the sheets a click writes (RenkeiServer.bas).
UNPROTECT = "renkeiUnprotectSheets"
# renkeiUnprotectSheets' fifth argument (RenkeiServer.bas from client 8): the cells the click
# writes values into on staff's sheets, [[sheet, [address, ...]], ...], one address a rectangle
# (written_ranges). The server knows merges, arrays and data tables from the master as last
# saved (excel.buttons._apply refuses those before anything is written); one staff made since
# the save is met by the VBA, which reads each range's MergeCells and HasFormula (property
# reads: Excel allows them on a protected sheet, where SpecialCells is refused) and walks only a
# range where either is not False. Older VBA reads args(1) to args(4) by index and never
# the fifth: the argument is harmless to it, which then meets Excel's 1004 as before.
# At most WRITTEN_MOST rectangles a click: a plan past it (no button writes that many runs)
# has the rest unchecked, as before, rather than a first action of unbounded size.
WRITTEN_MOST = 2000


def written_ranges(cells: Iterable[tuple[str, int, int]]) -> list[list]:
    """The cells (sheet, row, col) as renkeiUnprotectSheets' fifth argument: per sheet, in the
    order first written, its cells as few rectangles (excel.apply.rectangles), each one A1
    address ("E4" or "E4:G9", far below Range()'s 255 characters). One address a Range() call:
    what MergeCells or HasFormula says of a range of several areas is not documented (Excel
    answers many properties for the first area alone)."""
    from ..core.refs import cell_ref
    from .apply import rectangles

    by_sheet: dict[str, list[tuple[int, int]]] = {}
    for sheet, row, col in cells:
        by_sheet.setdefault(sheet, []).append((row, col))
    out, room = [], WRITTEN_MOST
    for sheet, held in by_sheet.items():
        addresses = []
        for r1, c1, r2, c2 in rectangles(held)[:room]:
            first, last = cell_ref(r1, c1), cell_ref(r2, c2)
            addresses.append(first if first == last else f"{first}:{last}")
        room -= len(addresses)
        if addresses:
            out.append([sheet, addresses])
    return out


# The action that tells the client the request number, which it shows to staff and sends
# back with Excel's error when the replay fails (the server logs what staff saw). A
# client without it still works: it is left out like a look.
REQUEST = "renkeiRequest"

# The action that takes a range's fill away (RenkeiServer.bas): xlwings sends "no fill" as
# setRangeColor with null, which Remote.bas' setRangeColor passes to HexToRgb, a String
# parameter, and Excel stops the replay there (run-time error 94, Invalid use of Null).
CLEAR_FILL = "renkeiClearFill"

# The action that puts the plan's page breaks on a sheet (RenkeiServer.bas): no action of
# xlwings sets them, and without them a merged 役割 or 事業概要 running over a break that
# the application chose shows its text on the first page only (renkei_xl.core.pages).
PAGE_BREAKS = "renkeiPageBreaks"

# The action that puts the plan's page on a sheet (RenkeiServer.bas): print titles, paper,
# orientation, fit, centring, margins and footer, as the desktop buttons set them through COM
# (excel.desktop.com_page_setup, whose names these are, in the order of the action's
# arguments; Zoom, always False there, is the Sub's own). No action of xlwings sets them: a
# title row or paper staff set on a tool sheet stayed after a server click, where the command
# line and desktop Excel put the plan's back. One action a sheet: each PageSetup property
# costs Excel a round trip to the printer driver.
PAGE_SETUP = "renkeiPageSetup"
PAGE_SETUP_PROPERTIES = ("PrintTitleRows", "Orientation", "PaperSize", "FitToPagesWide", "FitToPagesTall",
                         "CenterHorizontally", "LeftMargin", "RightMargin", "TopMargin", "BottomMargin",
                         "HeaderMargin", "FooterMargin", "CenterFooter")

# The action that puts a sheet's filter buttons (RenkeiServer.bas), as the desktop faces do
# (excel.desktop): a filter staff set on 検証結果 (allowed on the protected sheet) hid rows,
# and without it those rows stayed hidden under the next run's findings.
AUTOFILTER = "renkeiAutoFilter"

# The action that writes a string as it is (RenkeiServer.bas): Remote.bas' setValues hands
# every value to VBA-Web's ParseIso first and writes a date wherever that succeeds, so a
# text of a date's shape ("2024-3-31", "05-1-2") written without the text prefix, into a cell
# staff formatted as Text (excel.book.as_excel_text), would become a date in Excel.
SET_TEXT = "renkeiSetText"
# What ParseIso takes for a date: the part before the first "T", split at "-", whose first three
# pieces VBA's CInt reads as whole numbers (spaces, a sign, a decimal point, thousands
# separators, an exponent or a &H/&O prefix included; full-width digits counted too). Wider
# than ParseIso: a string it would leave as text costs one more action, never a wrong value.
# Spaces after a sign only after one: an optional sign between two runs of spaces tried every
# split of a run of spaces, over 2 s for 8,000 spaces before two 「-」 in a text the server
# writes (test_pattern_costs).
_CINT_PIECE = re.compile(r"\s*(?:[+-]\s*)?(?:(?:\d[\d,]*(?:\.\d*)?|\.\d+)(?:[eEdD][+-]?\d+)?|&[hHoO][0-9a-fA-F]+)\s*")


def parsed_as_date(text: str) -> bool:
    """Whether Remote.bas' setValues could write ``text`` as a date (WebHelpers.ParseIso)."""
    pieces = text.split("T", 1)[0].split("-")
    return len(pieces) >= 3 and all(_CINT_PIECE.fullmatch(p) for p in pieces[:3])


# The first characters that make Excel read an entry as a formula, a signed number or an error
# (「=…」 「+…」 「-…」 「@…」 「#N/A」), in either width, or take the first one for its text
# prefix (「'実施」 is stored as 「実施」 in a cell that is not Text).
_ENTRY_SIGNS = tuple("=+-@#＝＋－＠＃")
_TEXT_PREFIX = "'"


def read_as_typed(text: str) -> bool:
    """Whether Excel may store ``text``, assigned as it is to a cell that is not formatted as
    Text, as anything but that text: Range.Value reads a string there as if typed (「3/5」 a
    date, 「73.2%」 0.732, 「(5)」 -5, 「R6.4.1」 a date in a Japanese Excel, 「=…」 a formula,
    TRUE a boolean). The server knows only the saved master's Text cells, so such a string
    for one is sent with the text prefix and again through renkeiSetText, which asks the open
    book (RemoteBook.text_value, keep_text). Wider than Excel's parser on purpose: any digit,
    any leading sign, TRUE/FALSE, and whatever ParseIso could take for a date; and a leading
    apostrophe, which Excel takes for the text prefix and drops (「'実施」 arrived 「実施」)."""
    import unicodedata

    return (parsed_as_date(text) or any(ch.isdecimal() for ch in text)
            or text.lstrip().startswith(_ENTRY_SIGNS) or text.startswith(_TEXT_PREFIX)
            or unicodedata.normalize("NFKC", text).strip().upper() in ("TRUE", "FALSE"))


# The action that writes numbers exactly (RenkeiServer.bas): VBA-Web's JSON parser
# (WebHelpers.json_ParseNumber) keeps a number whose text is 16 characters or more (17 with
# a decimal point) as a String, 0.30000000000000004 or 73.21428571428571, and Remote.bas'
# setValues assigns that String: Excel reads it as typed, 15 significant digits where the
# command line stores the double, text in a 文字列 cell, a percentage entered anew in a %
# cell. Such a number is sent instead as integers that the parser reads as Doubles and VBA
# puts together without rounding, (high * 2^26 + low) * 2^exponent, and assigned as a Double.
SET_NUMBERS = "renkeiSetNumbers"
_HALF = 1 << 26


def long_number(value: object) -> bool:
    """Whether VBA-Web's parser gives the client ``value`` as a String (json_ParseNumber: the
    number's JSON text, as the server writes it, from 16 characters, 17 with a point)."""
    if type(value) not in (int, float):     # a bool is JSON true/false
        return False
    text = repr(value)
    return len(text) >= (17 if "." in text else 16)


def exact_parts(value: float) -> list[int]:
    """``value`` as [high, low, exponent]: value == (high * 2**26 + low) * 2**exponent, each
    integer at most 10 characters of JSON (a Double to the parser), high and low of its sign."""
    mantissa, exponent = math.frexp(value)
    whole = int(mantissa * (1 << 53))
    high, low = divmod(abs(whole), _HALF)
    sign = -1 if whole < 0 else 1
    return [sign * high, sign * low, exponent - 53]


def exact_numbers(actions: list[dict]) -> list[dict]:
    """The answer for xlwings' VBA client, each long number (``long_number``) of a setValues
    sent by SET_NUMBERS after it: 0 in its place (a short number: no String, no date, no
    format Excel would choose for a typed entry), then the number at its offset in the range.
    A number past a double (an int over 1.8e308, never read from Excel) is left as it was."""
    out = []
    for a in actions:
        if a.get("func") != "setValues" or not a.get("values"):
            out.append(a)
            continue
        exact, values = [], []
        for i, row in enumerate(a["values"]):
            values.append(list(row))
            for j, v in enumerate(row):
                if long_number(v) and math.isfinite(number := _as_double(v)):
                    exact.append([i, j, *exact_parts(number)])
                    values[i][j] = 0
        if not exact:
            out.append(a)
            continue
        out += [{**a, "values": values}, {**a, "func": SET_NUMBERS, "args": [exact], "values": None}]
    return out


def _as_double(value: object) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf


# The action that draws one of the tool's charts (RenkeiServer.bas): Remote.bas has no chart
# action and its payload lists no charts, so the server could not delete the last run's and
# drew none. The client deletes the sheet's charts of the tool's name (core.contract.
# tool_chart_name) and of the older names sent, never another, and draws the chart as the
# desktop's xlwings Charts.add does (excel.book.LiveBook.add_chart); the arguments, in order:
CHART_ARGUMENTS = ("name", "title", "source", "categories", "anchor", "width", "height", "legend",
                   "chart_type", "plot_by", "style", "older")
ADD_CHART = "renkeiAddChart"


# Actions a client without them does without, told to no one: the request number, and the
# sheet shown again after a click added one (core.plan_types.WritePlan.added).
SKIPPABLE = frozenset({REQUEST, "activateSheet"})

# Look groups: all of a group's actions go, or none.
LOOK_GROUPS: dict[str, frozenset[str]] = {
    "font": frozenset({"setFontProperty"}),
    "border": frozenset({"setBorderProperty"}),
    "alignment": frozenset({"setHorizontalAlignment", "setVerticalAlignment"}),
    "wrap": frozenset({"setWrapText"}),
    "number_format": frozenset({"setNumberFormat"}),
    "fill": frozenset({"setRangeColor", CLEAR_FILL}),
    "link": frozenset({"addHyperlink"}),
    "merge": frozenset({"rangeMerge", "rangeUnmerge"}),
    "size": frozenset({"setColumnWidth", "setRowHeight", "setAutofit"}),
    "hidden_columns": frozenset({"setColumnHidden"}),
    "panes": frozenset({"freezePaneAtRange", "freezePaneUnfreeze"}),
    "conditional_format": frozenset({"addConditionalFormat", "clearConditionalFormats"}),
    "print_area": frozenset({"setPrintArea"}),
    "page_breaks": frozenset({PAGE_BREAKS}),
    "page_setup": frozenset({PAGE_SETUP}),
    "autofilter": frozenset({AUTOFILTER}),
    "chart": frozenset({ADD_CHART}),
}
# What staff read when a look is left out (README lists the same).
LOOK_NAMES = {"font": "文字の書式", "border": "罫線", "alignment": "文字の配置", "wrap": "折り返し",
              "number_format": "表示形式", "fill": "塗りつぶし", "link": "リンク", "merge": "セルの結合",
              "size": "行の高さ・列の幅", "hidden_columns": "列の非表示", "panes": "ウィンドウ枠の固定",
              "conditional_format": "条件付き書式", "print_area": "印刷範囲", "page_breaks": "改ページ",
              "page_setup": "ページ設定",
              "autofilter": "フィルター", "chart": "グラフ"}
_GROUP_OF = {func: group for group, funcs in LOOK_GROUPS.items() for func in funcs}


class ClientCannotReplay(Exception):
    """The client lacks an action the click cannot do without (``missing``)."""

    def __init__(self, missing: Iterable[str]):
        self.missing = tuple(sorted(set(missing)))
        super().__init__(", ".join(self.missing))


@dataclass(frozen=True)
class Fitted:
    actions: list[dict]
    left_out: tuple[str, ...]     # look groups left out, in LOOK_GROUPS order


def fit_actions(actions: list[dict], replayable: Optional[frozenset[str]]) -> Fitted:
    """The actions ``replayable`` can run (None: every action, a client that has them all)."""
    if replayable is None:
        return Fitted(list(actions), ())
    actions = [a for a in actions if a["func"] not in SKIPPABLE or a["func"] in replayable]
    funcs = {a["func"] for a in actions}
    missing_essential = {f for f in funcs - replayable if f not in _GROUP_OF}
    if missing_essential:
        raise ClientCannotReplay(missing_essential)
    dropped = {group for group, members in LOOK_GROUPS.items() if (members & funcs) - replayable}
    if not dropped:
        return Fitted(list(actions), ())
    kept = [a for a in actions if _GROUP_OF.get(a["func"]) not in dropped]
    return Fitted(kept, tuple(g for g in LOOK_GROUPS if g in dropped))


def upgrade_note(left_out: Iterable[str], shipped: frozenset[str], clashes: Optional[Mapping[str, Sequence[str]]] = None) -> str:
    """What staff read when a look was left out that the macros of this installation draw
    (``shipped``): the master's VBA is older, and upgrade-macros brings the look back.
    Looks that no shipped VBA draws are not repeated at every click.
    With a name two of the master's modules make public (``clashes``, vba.read.name_clashes)
    the macros are not old: Excel cannot run a Sub of that name, or any of a module that
    uses it, and upgrade-macros carries staff's module as it is; staff read that instead."""
    fixable = [g for g in left_out if LOOK_GROUPS[g] <= shipped]
    if not fixable:
        return ""
    if clashes:
        return clash_text(clashes, "見た目の一部を付けていません")
    return (f"このマスターのマクロが古いため、{'・'.join(LOOK_NAMES[g] for g in fixable)}は付けていません。"
            "IT 担当者にマクロの更新（upgrade-macros、docs/staff-setup.md）を依頼してください。")


_NAME_SHOWN, _MODULE_SHOWN = 30, 20


def clash_text(clashes: Mapping[str, Sequence[str]], what: str) -> str:
    """The first of ``clashes`` (a name -> the modules declaring it), that ``what`` came of it,
    and what IT does: rename one (Excel's "Ambiguous name detected"); within the server's
    room for a note (core.alerts.SERVER_NOTE_CHARS) whatever the names' lengths."""
    name, modules = sorted(clashes.items())[0]
    from ..core.values import more_text
    more = f"（{more_text(len(clashes) - 1)}）" if len(clashes) > 1 else ""
    return (f"マクロの名前「{_short(name, _NAME_SHOWN)}」{more}が複数のモジュール"
            f"（{'・'.join(_short(m, _MODULE_SHOWN) for m in modules[:2])}）にあり、{what}。"
            "IT 担当者に名前の重なりを直すよう依頼してください（マクロの更新では直りません）。")


def _short(text: str, most: int) -> str:
    return text if len(text) <= most else text[:most - 1] + "…"


def with_note(actions: list[dict], note: str) -> list[dict]:
    """``actions`` with ``note`` added to the message the click ends with (its last alert)."""
    if not note:
        return actions
    last = max((i for i, a in enumerate(actions) if a["func"] == "alert"), default=None)
    if last is None:
        return actions
    alert = actions[last]
    args = list(alert["args"])
    args[0] = f"{args[0]}\n\n{note}"
    return [*actions[:last], {**alert, "args": args}, *actions[last + 1:]]


def request_action(request_id: str, entry: str) -> dict:
    """The first action of an answer: the request number, in xlwings' action shape."""
    return {"func": REQUEST, "args": [request_id, entry], "values": None, "sheet_position": None,
            "start_row": None, "start_column": None, "row_count": None, "column_count": None}

"""Where xlwings' VBA client puts a defined name's sheet when the book has chart sheets.

Remote.bas sends the worksheets only (``wb.Worksheets``), but each name's sheet as
``RefersToRange.Parent.Index - 1``, and a worksheet's Index is its tab position among all
sheets, chart sheets included. With a chart sheet before 設定, every 設定 name pointed one
sheet too far: the buttons read 対象年度 from 指標 and stopped on a cell staff could not
fix. RenkeiServer.bas sends the tab positions of the sheets that are not worksheets
(CHART_SHEETS_HEADER); the indexes are brought back to the worksheets sent here, before
anything reads them. A master whose VBA predates the header sends none, and is read as
before.

Beside it (client version 10 on) RenkeiServer.bas names the same tabs (TABS_HEADER, its
RenkeiChartSheets' walk): sheet names are one set over every tab, and the server knew only the
saved master's chart sheets. One staff named 「集計」 in the open book since the save met Excel's
refusal of that name (1004) after Sheets.Add had added a sheet, halfway through the replay;
the plan now refuses it before anything is written (WritePlan.refuse_taken, the remote
engine's LiveBook.other_tabs). An absent header (a master whose VBA predates it), its
overflow mark or one not as the client writes it is None: the saved master's tabs stand in,
as before, never a guess.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from typing import Optional

from .refusals import Refusal
from .sheet_headers import sheet_parts

CHART_SHEETS_HEADER = "x-renkei-chart-sheets"
# Excel holds at most 255 sheets in a book the tool serves (limits.MAX_SHEETS): positions of
# three digits and their commas.
MAX_HEADER = 255 * 4

TABS_HEADER = "x-renkei-tabs"
# RenkeiServer.bas' TABS_OVERFLOW: the names would have passed its TABS_MAX (1,000) characters,
# beside X-Renkei-Percents' 8,000 and X-Renkei-Currency's 4,000 within h11's 16 KiB.
TABS_OVERFLOW = "+"
# The most characters read: RenkeiTabsAdd sends its overflow mark for a longer list.
TABS_MAX = 1000
_TABS_VERSION = "1"
# A sheet name of at most 31 characters (Excel's limit) as UTF-16 hex (RenkeiHex).
_TAB = re.compile(r"((?:[0-9A-F]{4}){1,31})")


def positions(header: str) -> list[int]:
    """The 0-based tab positions the header lists, or a Refusal for anything else."""
    header = header.strip()
    if not header:
        return []
    from ..core.digits import whole_number

    numbers = [whole_number(p.strip()) for p in header.split(",")] if len(header) <= MAX_HEADER else [None]
    if None in numbers:
        raise Refusal(400, "送信データを読めません（グラフシートの位置の形が違います）。", "形式の誤り")
    return sorted(set(numbers))


def to_worksheets(payload: dict, charts: list[int]) -> None:
    """Each name's sheet index (and scope) counted among the worksheets sent, in place."""
    if not charts:
        return
    for name in payload.get("names", []):
        if not isinstance(name, dict):
            continue
        for key in ("sheet_index", "scope_sheet_index"):
            index = name.get(key)
            if type(index) is int:
                name[key] = index - bisect_left(charts, index)


def other_tabs(header: Optional[str]) -> Optional[list[str]]:
    """The names of the open book's tabs that are not worksheets, as RenkeiChartSheets sent them
    in TABS_HEADER, or None: absent, its overflow mark, or not as the client writes it."""
    parts = sheet_parts(header, max_chars=TABS_MAX, overflow=TABS_OVERFLOW, version=_TABS_VERSION, part=_TAB)
    return None if parts is None else [name for name, _ in parts]

"""Where xlwings' VBA client puts a defined name's sheet when the book has chart sheets.

Remote.bas sends the worksheets only (``wb.Worksheets``), but each name's sheet as
``RefersToRange.Parent.Index - 1``, and a worksheet's Index is its tab position among all
sheets, chart sheets included. With a chart sheet before 設定, every 設定 name pointed one
sheet too far: the buttons read 対象年度 from 指標 and stopped on a cell staff could not
fix. RenkeiServer.bas sends the tab positions of the sheets that are not worksheets
(CHART_SHEETS_HEADER); the indexes are brought back to the worksheets sent here, before
anything reads them. A master whose VBA predates the header sends none, and is read as
before.
"""

from __future__ import annotations

from bisect import bisect_left

from .refusals import Refusal

CHART_SHEETS_HEADER = "x-renkei-chart-sheets"
# Excel holds at most 255 sheets in a book the tool serves (limits.MAX_SHEETS): positions of
# three digits and their commas.
MAX_HEADER = 255 * 4


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

"""A municipality sheet whose answers are another's, row for row: the mark of a sheet copied
in Excel for a new partner (or a renamed one) and not emptied.

Staff add a partner the way Excel makes easy: copy a municipality's sheet, rename the copy,
add the 設定 row. The copy keeps the other partner's 実績値, 分母 and 実施状況, and every
total then counts them twice, once as the new partner's. The tool cannot know who typed a
value, and two small partners can truly report the same one or two figures (the FY2023
sample has pairs with two rows alike), so this is a warning naming both sheets, never a
refusal and never a value changed: staff look, and empty the copy or leave it.

Only sheets with at least ``MIN_ROWS`` answered rows, every one the same as another sheet's
in the same order (a copy keeps the order; 前年度実績 counts as a value), are named. Comparing starts from each sheet's
first answered row, so a master with no two sheets alike costs one short look per sheet.
"""

from __future__ import annotations

from itertools import groupby, zip_longest
from operator import attrgetter, eq
from typing import Iterator, Sequence

from . import findings as F
from .model import Entry, Finding, Settings

# Fewer rows alike than this happen between real partners (FY2023: two rows).
MIN_ROWS = 3


def copied_sheets(settings: Settings, entries: Sequence[Entry]) -> list[Finding]:
    """One warning per pair, at the first answered row of the sheet later in 設定's order.
    Which of the two is the copy the workbook cannot say (Excel puts a copy wherever staff
    ask), so the warning names both alike."""
    # A sheet's rows come together as the reader reads them, so this is one group each (in C);
    # rows in any other order are gathered all the same.
    rows: dict[str, list[Entry]] = {}
    for name, group in groupby(entries, key=attrgetter("municipality")):
        rows.setdefault(name, []).extend(group)
    firsts: dict[tuple, list[str]] = {}
    out: list[Finding] = []
    for muni in settings.municipalities:
        mine = rows.get(muni.name, ())
        first = next(_answers(mine), None)
        if first is None:
            continue
        for earlier in firsts.get(first, ()):
            count = _same_answers(rows[earlier], mine)
            if count >= MIN_ROWS:
                at = next(e for e in mine if _answered(e))
                out.append(F.COPIED_SHEET.at(muni.name, at.cell("value"), at.indicator_id, name=muni.name,
                                             other=earlier, count=count))
                break
        firsts.setdefault(first, []).append(muni.name)
    return out


def _answered(e: Entry) -> bool:
    """A row with a value the copy carries: this year's answers, or last year's figure that
    rollover wrote beside it (前年度実績). A sheet copied early in the year, before any
    answer, still carries the other partner's last year, which split sends as the new one's."""
    return bool(e.value or e.denominator or e.status or e.previous)


def _answers(rows: Sequence[Entry]) -> Iterator[tuple[str, str, str, str, str]]:
    return ((e.indicator_id, e.value, e.denominator, e.status, e.previous) for e in rows if _answered(e))


# What a row carries, compared in C first: two sheets whose rows are all alike (unanswered
# ones too) need no walk in Python, which a 20,000-row pair would take.
_CARRIED = attrgetter("indicator_id", "value", "denominator", "status", "previous")


def _same_answers(a: Sequence[Entry], b: Sequence[Entry]) -> int:
    """How many answered rows ``a`` and ``b`` share, if every one is the same; else 0."""
    if len(a) == len(b) and all(map(eq, map(_CARRIED, a), map(_CARRIED, b))):
        return sum(map(_answered, b))
    count = 0
    for x, y in zip_longest(_answers(a), _answers(b)):
        if x != y:
            return 0
        count += 1
    return count

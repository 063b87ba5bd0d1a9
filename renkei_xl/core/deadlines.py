"""Targets that name a year (「2023年度まで」「120名（2023年度までの毎年度）」) and the years
that pass them.

A master rolled over to the next year carries every target as it was; one whose year is
already past is still judged by it (a deadline passed and not met is ×), and is reported
on 検証結果 as needing review on every check, so it cannot be forgotten.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Optional, Sequence

from .findings import PAST_TARGET
from .model import Finding, Indicator, Settings
from .values import DEADLINE, ValueParseError, parse_value

def target_year(target: str) -> Optional[int]:
    """The 年度 a target names as its deadline (「2023年度まで」「120名（2023年度までの毎年度）」)."""
    if type(target) is str:
        return _text_year(target)
    return _year_of(target)


@lru_cache(maxsize=1 << 12)
def _text_year(target: str) -> Optional[int]:
    """``target_year`` of a text, cached: a large master repeats its targets, and every
    check reads each one (~5 ms at 20,000 indicators)."""
    return _year_of(target)


def _year_of(target: object) -> Optional[int]:
    try:
        v = parse_value(target)
    except ValueParseError:
        return None
    if v.kind == DEADLINE:
        return v.deadline
    # A calendar year (「15社（2023年）」, a note values reads) too: its December is in the 年度
    # of its number, so from the next 年度 the target is as past as 「15社（2023年度）」. Left
    # out, such a target was judged year after year as this year's, never listed for review.
    return v.note_year("until", "annual-until", "asof", "calendar")


def past_targets(settings: Settings, indicators: Sequence[Indicator]) -> list[Finding]:
    """Targets whose year is before 対象年度: carried over as they were, and reported for
    review (the row is still judged by them: a deadline passed and not met is ×)."""
    out = []
    for ind in indicators:
        if ind.is_kpi:
            continue
        year = target_year(ind.target)
        if year is not None and year < settings.fiscal_year:
            out.append(PAST_TARGET.at(ind.sheet, ind.cell("target"), ind.id, target=ind.target, year=year,
                                            fiscal_year=settings.fiscal_year))
    return out

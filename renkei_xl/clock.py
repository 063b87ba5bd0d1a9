"""The tool's one clock: the time a run records (メニュー's 最終実行, 取込履歴, an issue time),
to the second, as staff read it in a cell. Tests set it where a module reads it."""

from __future__ import annotations

import datetime as dt


def now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def local(when: dt.datetime) -> dt.datetime | None:
    """An aware time from a file (a save time in UTC, a stamp typed with a zone) as the naive
    local time the tool records, so the two compare (aware against naive raises); a naive
    one is taken as local already. None where the platform cannot convert it: a year at
    either end of the range overflows, and Windows refuses times before 1970."""
    if when.tzinfo is None:
        return when
    try:
        return when.astimezone().replace(tzinfo=None)
    except (OverflowError, ValueError, OSError):
        return None

"""The tool's one clock: the time a run records (メニュー's 最終実行, 取込履歴, an issue time,
a backup's name, a log record) and the day it judges by (today's deadline check), to the
second, as staff read it in a cell. Tests set it where a module reads it.

Every such time is Japan time (UTC+09:00), whatever zone the machine keeps. The staff are
all in Japan, and `renkei-xl serve` runs on a server IT may keep in UTC (most Linux
servers, containers) or any other zone: a click at 10:15 recorded 01:15 as 最終実行, a
backup named 01:15, and a click at 08:00 on 1 April judged the day as 31 March (a deadline
of 31 March passed as today's, an issue time in the fiscal year before). Japan has kept no
daylight saving since 1951, so one fixed offset is its time for every date the tool meets;
no setting (the product is for Japanese municipalities only, and a setting could only be
set wrong).

Left to the machine, on purpose: elapsed times (time.monotonic, a file's age as time.time()
minus its mtime), which no zone changes, and the UTC a file format stores (a workbook's
docProps, an SMTP Date header carries its offset)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Optional

JAPAN = dt.timezone(dt.timedelta(hours=9), "JST")

# The instant now, in POSIX seconds: a seam for tests that need a given instant (1 April at
# 08:00 JST under TZ=UTC); the zone it is read in is this module's, never the machine's.
_instant = time.time


def now() -> dt.datetime:
    """Japan's time now, naive (as cells and the 取込履歴 hold it), to the second."""
    return dt.datetime.fromtimestamp(_instant(), JAPAN).replace(tzinfo=None, microsecond=0)


def aware(created: Optional[float] = None) -> dt.datetime:
    """A POSIX time (now when None) as Japan time with its offset, to the second: a log
    record's time (errorlog.stamp), which IT reads beside other logs kept in UTC."""
    moment = _instant() if created is None else created
    return dt.datetime.fromtimestamp(moment, JAPAN).replace(microsecond=0)


def japan(when: dt.datetime) -> dt.datetime:
    """``when`` made aware: a naive time is the tool's, so Japan's (the mail's Date header)."""
    return when.replace(tzinfo=JAPAN) if when.tzinfo is None else when


def utc(when: dt.datetime) -> dt.datetime:
    """A naive time of the tool's (Japan time) as the naive UTC a file format stores (an
    input file's docProps created/modified, which XlsxWriter writes with a 「Z」): the issue
    time went in as it was, and was read back (returned.ReturnedBook._modified) nine hours
    late, a save time in the future that outranked every real return saved within them."""
    return japan(when).astimezone(dt.timezone.utc).replace(tzinfo=None)


def local(when: dt.datetime) -> dt.datetime | None:
    """An aware time from a file (a save time in UTC, a stamp typed with a zone) as the naive
    Japan time the tool records, so the two compare (aware against naive raises); a naive
    one is taken as Japan time already (the tool wrote it, or staff typed it). None where it
    cannot be converted: a year at either end of the range overflows."""
    if when.tzinfo is None:
        return when
    try:
        return when.astimezone(JAPAN).replace(tzinfo=None)
    except (OverflowError, ValueError, OSError):
        return None

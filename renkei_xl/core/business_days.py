"""Reply deadlines on business days, as Japanese offices count them.

A request letter that asks for an answer 「日曜日までに」 is read as careless: municipal
offices are closed on weekends, on national holidays (振替休日 and 国民の休日 included)
and over the year-end closure (12/29–1/3, 行政機関の休日に関する法律). The holidays come from
jpholiday, a kept library that follows the 祝日法 and its changes (the moved holidays of
2020–2021 included), rather than from a list someone must remember to update.

Both faces (the command line and the 配布用ファイル作成 button) reach a deadline through
``reply_deadline``, so the date in a request letter and in the input workbook is the same
whichever face made it.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple, Optional

DEFAULT_DAYS = 14          # the default deadline: two weeks after the files are made
WEEKDAYS = "月火水木金土日"


def closed_reason(day: dt.date) -> Optional[str]:
    """Why offices are closed on ``day`` (None: a business day), in the words of a letter."""
    import jpholiday

    if (day.month, day.day) >= (12, 29) or (day.month, day.day) <= (1, 3):
        return "年末年始の休み"
    name = jpholiday.is_holiday_name(day)
    if name:
        return name
    if day.weekday() >= 5:
        return WEEKDAYS[day.weekday()] + "曜日"
    return None


def is_business_day(day: dt.date) -> bool:
    return closed_reason(day) is None


def next_business_day(day: dt.date) -> dt.date:
    """``day`` itself when offices are open, else the first day after it when they are."""
    while not is_business_day(day):
        day += dt.timedelta(days=1)
    return day


def japanese_date(day: dt.date) -> str:
    """2024年4月19日（金）: how a letter states a date."""
    return f"{day.year}年{day.month}月{day.day}日（{WEEKDAYS[day.weekday()]}）"


class Deadline(NamedTuple):
    day: dt.date
    moved_from: Optional[dt.date] = None    # the chosen day, when it was not a business day
    reason: str = ""                         # why offices are closed on moved_from
    chosen: bool = False                     # the staff gave the date (else the default)

    def note(self, hint: str = "") -> str:
        """The sentence that tells the staff what date the requests carry, and why;
        ``hint`` says how to choose another date (the command line's option)."""
        if self.moved_from is not None:
            what = "指定の回答期限" if self.chosen else "回答期限（既定: 2週間後）"
            return (f"{what} {japanese_date(self.moved_from)} は{self.reason}のため、"
                    f"次の開庁日 {japanese_date(self.day)} にしました{hint}")
        if self.chosen:
            return f"回答期限は {japanese_date(self.day)} です"
        return f"回答期限は {japanese_date(self.day)} にしました{hint}"


def reply_deadline(today: dt.date, chosen: Optional[dt.date] = None) -> Deadline:
    """The deadline a request carries: the chosen date, or ``DEFAULT_DAYS`` after ``today``,
    moved to the next business day when offices are closed on it."""
    if chosen is not None and chosen < today:
        # A date already past on every letter and input file (a typo of the year, a date
        # copied from last year's run): nothing would tell staff, so it is refused here.
        from .errors import UserError

        raise UserError(f"回答期限 {japanese_date(chosen)} は今日（{japanese_date(today)}）より前の日付です。"
                        "今日以降の日付を指定してください。何も作っていません")
    wanted = chosen if chosen is not None else today + dt.timedelta(days=DEFAULT_DAYS)
    day = next_business_day(wanted)
    if day == wanted:
        return Deadline(day, chosen=chosen is not None)
    return Deadline(day, wanted, closed_reason(wanted) or "", chosen is not None)

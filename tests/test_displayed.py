"""core.displayed's shown text (number_shown, percent_shown) against what a cell shows. The
expected texts are LibreOffice's (UNO getString, through a CSV saved 「as shown」) for the same
value and format, measured once: the table is kept here, not LibreOffice started per test."""

import pytest

from renkei_xl.core.displayed import number_shown, percent_shown


@pytest.mark.parametrize("value, number_format, seen", [
    (1.5, "[h]:mm", "36:00"),             # hours past a day: elapsed time, no date in it
    (2.75, "[h]:mm:ss", "66:00:00"),
    (1.5, "[mm]:ss", "2160:00"),
    (1.5, "h:mm", "12:00"),               # a time of a serial past its first day
    (0.0451388888888889, "h:mm:ss", "1:05:00"),
    (45000, "yyyy/m/d", "2023/3/15"),
])
def test_a_time_is_shown_whatever_the_day_it_falls_on(value, number_format, seen):
    """Excel's 1900 count has a fictitious 29 February, so no date is made before 1900-03-01;
    but 36:00 typed into [h]:mm is 1.5, a serial in that range, and was not made either (the
    finding quoted 「1.5」, a number the cell does not show)."""
    assert number_shown(value, number_format) == seen


def test_a_date_before_march_1900_is_still_not_made():
    """Serial 30 is 1900/1/30 in Excel and 1900/1/29 counted from 1899-12-30: not made."""
    assert number_shown(30, "yyyy/m/d") is None
    assert number_shown(30, "h:mm") == "0:00"        # its time has no such day to get wrong


def test_a_book_counting_from_1904_shows_its_own_date_for_a_serial():
    """A book saved with 「1904 年から計算する」 (workbookPr date1904) shows 45000 as 2027/3/16
    (calamine reads the same cell so), four years and a day after the 1900 count's date."""
    assert number_shown(45000, "yyyy/m/d", date1904=True) == "2027/3/16"
    assert number_shown(45000, "yyyy/m/d") == "2023/3/15"
    assert number_shown(0.75, "h:mm", date1904=True) == "18:00"


@pytest.mark.parametrize("value, number_format, seen", [
    (0.85, "0%", "85%"), (0.855, "0%", "86%"), (-0.85, "0%", "-85%"), (0.8555, "0.0%", "85.6%"),
    (-0.85, "0%;▲0%", "▲85%"),              # the negative section's own sign
    (0.85, '0%" 達成"', "85% 達成"),
    (0, '0%;-0%;"－"', None),               # zero shown by a section that is no percentage
    (1234.5, '#,##0"件"', None),
])
def test_a_percentage_is_quoted_as_the_cell_shows_it(value, number_format, seen):
    """percent_shown is number_shown where the section the number is shown by is a
    percentage: one rule. It read the first or second section's digits alone, so a 実施状況
    of -0.85 in 「0%;▲0%」 was quoted 「85%」 beside a cell showing ▲85%."""
    assert percent_shown(value, number_format) == seen
    assert seen is None or number_shown(value, number_format) == seen

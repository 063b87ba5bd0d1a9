"""core.displayed's shown text (number_shown, percent_shown) against what a cell shows. The
expected texts are LibreOffice's (UNO getString, through a CSV saved 「as shown」) for the same
value and format, measured once: the table is kept here, not LibreOffice started per test."""

import pytest

from renkei_xl.core.displayed import number_read, number_shown, percent_shown


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


@pytest.mark.parametrize("value, number_format, read, parsed", [
    (1234, '#,##0"人"', "1234人", ("1234", "人")),
    (1234, '#,##0"千円"', "1234千円", ("1234000", "円")),          # a literal multiplier: as shown
    (1234000, '#,##0,"千円"', "1234千円", ("1234000", "円")),      # a scaling comma: not counted twice
    (1234.5, '#,##0"人"', "1234.5人", ("1234.5", "人")),           # every digit, not the 1,235 shown
    (0.855, "0.0%", "85.5%", ("85.5", "%")),
    (-5, '#,##0"人";"▲"#,##0"人"', "▲5人", ("-5", "人")),
    (-5, '#,##0;"▲"#,##0', None, None),                            # a sign mark alone adds no word
    (-5, "#,##0;(#,##0)", None, None),
    (1234, "#,##0", None, None),
    (1234.5, "0.0", None, None),
    (0, '#,##0;-#,##0;"-"', None, None),                           # no digits shown: the number kept
    (45000, "yyyy/m/d", None, None),
    (1234, '#,##0"名様"', "1234名様", "unparseable")])              # words the rules do not know
def test_a_number_is_read_with_the_words_and_scale_of_its_format(value, number_format, read, parsed):
    """A returned cell's number was taken alone, whatever its format added: 「1,234人」 on a
    件 row was 1234 件, 「1,234千円」 on a 円 row a thousandth of what was shown. It is read
    with the format's words and scale, every digit kept, so the rules of units judge it as
    typed (words they do not know are refused there, which holds the row)."""
    from renkei_xl.core.values import ValueParseError, parse_input

    assert number_read(value, number_format) == read
    if parsed == "unparseable":
        with pytest.raises(ValueParseError):
            parse_input(read)
    elif parsed is not None:
        v = parse_input(read)
        assert (f"{v.number.normalize():f}", v.unit) == parsed

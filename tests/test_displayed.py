"""core.displayed's shown text (number_shown, percent_shown) against what a cell shows. The
expected texts are LibreOffice's (UNO getString, through a CSV saved 「as shown」) for the same
value and format, measured once: the table is kept here, not LibreOffice started per test."""

import pytest

from renkei_xl.core.displayed import (as_displayed, number_read, number_shown, percent_shown, shows_date, shows_digits,
                                      shown_without_digits)


def shows_nothing(value: object, number_format: str) -> bool:
    """Whether a cell of ``number_format`` shows the number ``value`` as nothing at all (「;;;」,
    0.4 in 「#」): shown_without_digits, where not even words are left."""
    return shown_without_digits(value, number_format) == ""


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
    (1234, '#,##0"名様"', "1234名様", "unparseable"),               # words the rules do not know
    # qa-values64c: a red negative section is the sign (Japanese Excel's 「[赤]1234」): the
    # number keeps its minus (a red 12件 for -12 was read 「12件」, +12; a red 50% for -0.5, 50%)
    (-12, '0"件";[Red]0"件"', "-12件", ("-12", "件")), (-0.5, "0%;[赤]0%", "-50%", ("-50", "%"))])
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


# Measured once in LibreOffice 7 through UNO: a new Calc document, cell.setValue(value), the
# format added with NumberFormats.addNew(format, Locale("ja", "JP", "")) and set as the
# cell's NumberFormat, then cell.getString(). The sixth column says where Excel shows the
# minus sign otherwise (reported with Excel's screens in SheetJS issues 2573 and 2586 and in
# Apache POI pull 229; Microsoft documents no sign for a conditional section): the text
# expected here is Excel's, LibreOffice's is in the comment.
@pytest.mark.parametrize("value, number_format, seen", [
    (5, '[<10]"10未満";0', "10未満"), (9.99, '[<10]"10未満";0', "10未満"), (10, '[<10]"10未満";0', "10"),
    (12, '[<10]"10未満";0', "12"), (0, '[<10]"10未満";0', "10未満"), (-3, '[<10]"10未満";0', "10未満"),
    (1234.5, '[<10]"10未満";0', "1235"),
    (999, '[>=1000]#,##0,"千";0', "999"), (1000, '[>=1000]#,##0,"千";0', "1千"),
    (12345, '[>=1000]#,##0,"千";0', "12千"), (1234567, '[>=1000]#,##0,"千";0', "1,235千"),
    (0, '[>=1000]#,##0,"千";0', "0"),
    (-5000, '[>=1000]#,##0,"千";0', "-5000"),            # LibreOffice: 5000
    (1234, '[>=1000]#,##0.0,"千";0.0', "1.2千"), (12.34, '[>=1000]#,##0.0,"千";0.0', "12.3"),
    (5000, '[>=1E3]0,"k";0', "5k"),
    (-5, '[<0]"▲"0;0', "▲5"), (-0.4, '[<0]"▲"0;0', "▲0"), (5, '[<0]"▲"0;0', "5"), (0, '[<0]"▲"0;0', "0"),
    (12.6, '[<0]"▲"0;0', "13"), (-1234, '[<0]"▲"#,##0;#,##0', "▲1,234"), (-5, '[<0]-0;0', "-5"),
    (-5, '[<0]"(マイナス)"0;0', "(マイナス)5"), (-5, '[>=0]0;"▲"0', "▲5"),
    (0, '[=0]"－";0', "－"), (5, '[=0]"－";0', "5"), (0.4, '[=0]"－";0', "0"),
    (-5, '[=0]"－";0', "-5"),                            # LibreOffice: 5
    (50, "[Red][<=100]0;[Blue][>100]0", "50"), (100, "[Red][<=100]0;[Blue][>100]0", "100"),
    (101, "[Red][<=100]0;[Blue][>100]0", "101"), (0, "[Red][<=100]0;[Blue][>100]0", "0"),
    (-500, "[Red][<=100]0;[Blue][>100]0", "-500"),
    (150, '[>=100]"多";[>=10]"中";"少"', "多"), (10, '[>=100]"多";[>=10]"中";"少"', "中"),
    (5, '[>=100]"多";[>=10]"中";"少"', "少"), (0, '[>=100]"多";[>=10]"中";"少"', "少"),
    (-5, '[>=100]"多";[>=10]"中";"少"', "少"),
    (150, '[>=100]0"件";[>=10]0.0;0.00', "150件"), (50, '[>=100]0"件";[>=10]0.0;0.00', "50.0"),
    (5, '[>=100]0"件";[>=10]0.0;0.00', "5.00"), (0, '[>=100]0"件";[>=10]0.0;0.00', "0.00"),
    (-5, '[>=100]0"件";[>=10]0.0;0.00', "-5.00"),       # LibreOffice: 5.00
    (5, '[<10]"10未満";[>=100]"100以上";0', "10未満"), (150, '[<10]"10未満";[>=100]"100以上";0', "100以上"),
    (50, '[<10]"10未満";[>=100]"100以上";0', "50"), (-5, '[<10]"10未満";[>=100]"100以上";0', "10未満"),
    (10, '[<10]"10未満";[=10]"十";0', "十"), (11, '[<10]"10未満";[=10]"十";0', "11"),
    (-150, '[>100]"多";[<-100]"負多";0', "負多"), (50, '[>100]"多";[<-100]"負多";0', "50"),
    (-50, '[>100]"多";[<-100]"負多";0', "-50"),         # LibreOffice: 50
    (-5, '[<0]0;[=0]"ゼロ";0', "5"), (0, '[<0]0;[=0]"ゼロ";0', "ゼロ"),
    (-5, "[<10]0;0", "-5"), (15, "[<10]0;0", "15"),
    (-5, "[>10]0;0", "-5"),                              # LibreOffice: 5
    (-15, "[<-10]0;0", "15"),                            # LibreOffice: -15 (Excel: TEXT(-20,"[<-10]#") is 20)
    (-5, '[<=-1]"▲"0;[>=1]0;"ゼロ付近"', "▲5"),            # LibreOffice: -▲5
    (0.5, '[<=-1]"▲"0;[>=1]0;"ゼロ付近"', "ゼロ付近"), (-0.5, '[<=-1]"▲"0;[>=1]0;"ゼロ付近"', "ゼロ付近"),
    (-5, '[<10]0"件";0', "-5件"),
    (12, '[<10]"10未満";0;"zero"', "zero"),              # one condition and a third section: the second
    (0, '[<10]"10未満";0;"zero"', "10未満"),             # takes the negative numbers, the third the rest
    (12, '[<10]"10未満";0;"zero";@', "zero"),
    (5, '[>=10]0;"neg";"other"', "other"), (-5, '[>=10]0;"neg";"other"', "neg"),
    (15, '[>=10]0;[<0]"負";"その他"', "15"), (5, '[>=10]0;[<0]"負";"その他"', "その他"),
    (-5, '[>=10]0;[<0]"負";"その他"', "負"),
    (3, '[>5]0;"x"', "x"), (-3, '[>5]0;"x"', "x"),
    (5, '[<10]"10未満"', "10未満"),
    (12, '[<10]"10未満"', None),                          # no section left: 標準, the number as it is (12)
    (0.85, "[<1]0%;0", "85%"), (-0.2, "[<1]0%;0", "-20%"), (0, "[<1]0%;0", "0%"), (1.5, "[<1]0%;0", "2"),
    (0.855, "[<1]0%;0.0", "86%"), (2.25, "[<1]0%;0.0", "2.3"),
    (0.123, "[<0.5]0.00;0", "0.12"), (0.7, "[<0.5]0.00;0", "1"),
])
def test_a_section_chosen_by_a_condition_is_the_one_quoted(value, number_format, seen):
    """A format with a condition was not read at all: 5 in 「[<10]"10未満";0」, a cell showing
    「10未満」, was read as 5 (a 実施状況 imported as 「5」, a 実績値 as 5 where 「10未満」 typed is
    a bound the master refuses). The section is chosen as Excel chooses it (core.displayed.
    _section_for), and its text made as any section's."""
    assert number_shown(value, number_format) == seen


@pytest.mark.parametrize("value, number_format, read", [
    (5, '[<10]"10未満";0', "10未満"), (-3, '[<10]"10未満";0', "10未満"),   # words alone: read as the words
    (12, '[<10]"10未満";0', None),                       # a plain section: the number as it is
    (0, '[<10]"10未満";0', None),                        # zero's words: still 0, as 「0;-0;"－"」's
    (12345, '[>=1000]#,##0,"千";0', "12.345千"),        # scaled: every digit, with the section's words
    (999, '[>=1000]#,##0,"千";0', None),
    (-5, '[<0]"▲"0;0', None),                            # its own sign mark: no word added
    (-5, '[<10]0"件";0', "-5件"),                        # a section that shows the sign reads it
    (-15, '[<-10]0"件";0"件"', "15件"),                  # one that shows none (Excel) reads without
    (0.855, "[<1]0%;0.0", "85.5%"), (2.25, "[<1]0%;0.0", None),
    (150, '[>=100]"多";[>=10]"中";"少"', "多"),
])
def test_a_number_in_a_conditional_section_is_read_by_that_section(value, number_format, read):
    """number_read reads by the section the condition chose, as number_shown quotes it."""
    assert number_read(value, number_format) == read


@pytest.mark.parametrize("value, number_format, kept", [
    (12.345, "[<100]0.0;0", 12.3), (123.45, "[<100]0.0;0", 123),
    (12345, '[>=1000]#,##0,"千";0', 12000), (1234, '[>=1000]#,##0.0,"千";0.0', 1200),
    (0.855, "[<1]0%;0.0", 0.86), (5, '[<10]"10未満";0', 5), (12.5, '[<10]"10未満"', 12.5),
])
def test_precision_as_displayed_rounds_by_the_section_a_condition_chose(value, number_format, kept):
    """A master set to 表示桁数で計算する kept a number written into a conditional format as it
    came (「sections chosen by a condition」 were not modelled), where Excel rounds it by the
    section it is shown by: the same choice (_section_for) rounds it."""
    assert as_displayed(value, number_format) == kept


@pytest.mark.parametrize("value, number_format, seen", [
    (45000, '[$-411]ggge"年"m"月"d"日"', "令和5年3月15日"), (45000, 'ggge"年"m"月"d"日"', "令和5年3月15日"),
    (45000, '[$-411]gggee"年"m"月"d"日"', "令和05年3月15日"), (45000, '[$-411]gge"年"', "令5年"),
    (45000, '[$-411]ge"年"', "R5年"), (43585, '[$-411]ggge"年"', "平成31年"), (43586, '[$-411]ggge"年"', "令和1年"),
    (32515, '[$-411]ggge"年"', "昭和64年"), (32516, '[$-411]ggge"年"', "平成1年"),
    (9497, '[$-411]ggge"年"', "大正14年"), (4594, '[$-411]ggge"年"', "明治45年"), (4595, '[$-411]ggge"年"', "大正1年"),
    (12, '[$-411]ggge"年"m"月"d"日"', None),          # 明治33年1月11日 in LibreOffice: before March 1900
])
def test_a_japanese_era_date_is_made_as_the_cell_shows_it(value, number_format, seen):
    """「[$-411]ggge"年"m"月"d"日"」 (和暦) is a date format a Japanese Excel offers: the era was
    not made, so a 実施状況 typed 「令和5年3月15日」 into such a cell (Excel keeps the serial
    45000) was imported as 「45000」, and 「ggge"年"」 alone quoted as the text 「ggge年」. Measured
    as the table above (LibreOffice, ja-JP)."""
    assert number_shown(value, number_format) == seen
    assert shows_date(number_format)
    assert number_read(value, number_format) is None


@pytest.mark.parametrize("value, number_format, seen, read", [
    (12, '[DBNum1]0"件"', "12件", "12件"),      # LibreOffice shows 十二件: the same number, in kanji
    (12, '[DBNum2]0"件"', "12件", "12件"),      # 拾弐件
    (12, '[DBNum3]0"件"', "12件", "12件"),      # １２件
    (12345, "0.00E+00", None, None),          # 1.23E+04
    (1.5, "# ?/?", None, None),               # 1 1/2
    (12000, '0.0E+0"千円"', None, "12000千円"),  # 1.2E+4千円: its words read with the stored number
    (12000, '# ?/?"千円"', None, "12000 千円"),  # 12000    千円
    (-12000, '0.00E+00"人"', None, "-12000人"), (12000, "0.0E-0", None, None),   # the exponent's sign is no word
    (12, "*-0", "12", None), (12, "_(0_)", "12", None),   # a fill, a space's width: the number alone
    (12, "@", None, None), (12, '"件数"@', None, None),    # a text section: a number is shown as 標準 (12)
    (12, ";;;", None, None), (-5, "0;;", None, None),      # shows nothing
    (0, "0;-0;;@", None, None),                           # zero shown as nothing
])
def test_other_formats_that_change_what_a_cell_shows_are_read_as_decided(value, number_format, seen, read):
    """The rest of the class, as decided (LibreOffice's text, ja-JP, in the comment):
    kanji numerals (DBNum) show the same number, so 12 in 「[DBNum1]0"件"」 is read 「12件」 and
    its unit judged (the quote shows digits, not 十二); scientific and fractions show the
    number rounded, so it is read as stored (as 0.0's rounding is), with its words where the
    section has any (12000 shown 「1.2E+4千円」 is 「12000千円」, not 12000件); fill and padding add no
    word; a text section is not used for a number; a section that shows nothing leaves the
    number as it is (number_shown None: no text to quote, nothing read from the format)."""
    assert number_shown(value, number_format) == seen
    assert number_read(value, number_format) == read


@pytest.mark.parametrize("value, number_format, digits", [
    (5, '[<10]"10未満";0', False), (12, '[<10]"10未満";0', True), (1, '"実施";"未実施"', False),
    (12, '0"件"', True), (12, "General", True), (150, '[>=100]"多";[>=10]"中";"少"', False),
])
def test_a_section_of_words_alone_shows_no_digits(value, number_format, digits):
    """A 実施状況 is taken as its shown text only where that shows the number (12 → 「12件」):
    「10未満」 for 5 shows none of it, and was taken as the text (_same_digits compared the
    words with themselves)."""
    assert shows_digits(value, number_format) is digits


@pytest.mark.parametrize("value, number_format, nothing", [
    (12, ";;;", True), (0, ";;;", True), (-5, ";;;", True),            # LibreOffice: 「」 each
    (12, "0;;;", False), (0, "0;;;", True), (-5, "0;;;", True),
    (-5, "0;;", True), (12, ";0", True), (-5, ";0", False), (0, "0;-0;;@", True), (-5, "0;-0;;@", False),
    (5, '[<10]"";0', True), (12, '[<10]"";0', False), (12, "_-", True),
    (12, "General", False), (12, "@", False), (12, '"件数"@', False),    # a text section: 12 shown
    (12, "[Red]", False), (150, "[Red][<=100];[Blue][>100]", False), (5, "[Red][<=100];[Blue][>100]", False),
    (12, "[$-411]", False), (12, "[Red];;;", False), (-5, "[Red];;;", True),
])
def test_a_number_a_section_shows_as_nothing(value, number_format, nothing):
    """A number whose section is empty shows an empty cell (collect holds it: findings.
    HIDDEN_NUMBER); the text section of 「"件数"@」 is not a number's, which shows as 標準.
    A section of a colour or a condition alone shows the number as 標準 (Microsoft's
    guidelines: 「[Red][<=100];[Blue][>100]」 shows numbers red and blue; LibreOffice shows
    nothing): held as hidden, a number Excel showed was refused."""
    assert shows_nothing(value, number_format) is nothing


# Measured as the tables above (LibreOffice, ja-JP, getString), except 0.04 in 「#.#」: Calc
# shows 「」, Excel 「.」 (microsoft/Power-Fx issue 1779: Excel's TEXT(0,"#.#") is 「.」 and
# TEXT(12,"#.#") 「12.」). 「#」 shows a digit or nothing, no leading zero (Microsoft's
# user-defined numeric formats of VBA's Format, the same placeholders), so a number that
# rounds to zero shows none. (-0.3 in 「#」: 「」 in Calc; Excel's text not measured here.)
@pytest.mark.parametrize("value, number_format, seen", [
    (0.3, '#"千円"', "千円"), (0.4, "#", ""), (0.4, "#,###", ""), (0.04, "#.#", "."), (300, "#,###,", ""),
    (0.001, "#%", "%"), (0.4, "?", ""), (0.4, '[DBNum1][$-411]#"件"', "件"), (-0.3, "#;▲#", "▲"),
    (-0.3, "#", ""), (0.3, "[Red]#", ""), (12, ";;;", ""), (-5, "0;;", ""), (5, '[<10]"";0', ""),
    (0, "#", ""),                                           # zero: collect reads it as 0 (_hidden)
    # digits shown, fewer: ordinary rounding, as precision as displayed keeps it
    (0.3, "0", None), (300, "#,##0,", None), (0.04, "0.#", None), (0.3, "#.0", None), (0.5, "#", None),
    (-0.3, "0", None), (0.3, '#,##0"千円"', None), (0.4, '[DBNum1][$-411]0"件"', None),
    # words alone (read as the words), 標準 with words, scientific and fractions: not this class
    (1, '"実施";"未実施"', None), (5, '[<10]"10未満";0', None), (0.3, 'General"千円"', None),
    (0.3, "# ?/?", None), (0.3, "#E+0", None), (12, '"件数"@', None),
])
def test_a_number_shown_without_any_of_its_digits(value, number_format, seen):
    """0.3 in 「#"千円"」 shows 「千円」 alone, yet collect read it with its words as 「0.3千円」
    and imported 300 円 nobody at the municipality could see; 0.4 in 「#」 showed nothing and
    was imported as 0.4. A cell that shows no digit of its number is the class of 「;;;」
    (shown_without_digits, collect's findings.HIDDEN_NUMBER); one that shows a digit rounded
    (「0」 for 0.3 in 「0」) is ordinary rounding and stays read as before."""
    assert shown_without_digits(value, number_format) == seen
    assert shows_nothing(value, number_format) is (seen == "")
    if seen:
        assert number_shown(value, number_format) == seen


# Measured as the tables above (LibreOffice 7.4, ja-JP, getString); Excel agrees: the minus
# sign is the first character of a negative number's text, before the section's words
# (Excel's 「"$"0」 shows -$5, Japanese Excel's 「\¥#,##0」 -¥1,234).
@pytest.mark.parametrize("value, number_format, seen", [
    (-5, '"人"0', "-人5"), (-5, '"("0")"', "-(5)"), (-5, "\\¥#,##0", "-¥5"), (-1234, "\\¥#,##0", "-¥1,234"),
    (-5, '[<10]"▲"0', "-▲5"), (-5, '[Red]"人"0', "-人5"), (-12.5, '"約"0.0"件"', "-約12.5件"),
    (-1234567, '"("#,##0,")""千円"', "-(1,235)千円"), (-0.85, '"達成率"0%', "-達成率85%"),
])
def test_a_minus_sign_stands_before_the_words_of_its_section(value, number_format, seen):
    """The sign was put with the digits (「人-5」, 「(-5)」, 「¥-1,234」): a finding quoted a text
    the municipality's cell does not show. (tests/fuzz/formats_diff.py found it.)"""
    assert number_shown(value, number_format) == seen


@pytest.mark.parametrize("value, number_format, seen", [
    (0.0451388888888889, "mm:ss", "05:00"), (0.0451388888888889, "m:ss", "5:00"), (838.2, "mm:ss", "48:00"),
    (45000.75, 'h "時" mm "分"', "18 時 00 分"), (0.0451388888888889, 'h"時"mm"分"ss"秒"', "1時05分00秒"),
    (0.0451388888888889, 'mm"分"ss"秒"', "05分00秒"), (0.0451388888888889, "hh mm", "01 05"),
    (0.5, '[h]"時間"mm"分"', "12時間00分"),
    (45000.5, "yyyy/m/d h:mm", "2023/3/15 12:00"), (45000, "yyyy/mm", "2023/03"),    # months still
])
def test_minutes_are_the_m_after_an_hour_or_before_seconds_whatever_stands_between(value, number_format, seen):
    """「m」 is minutes right after an hour part or right before a seconds part (Excel's rule),
    with any text between: 「mm:ss」 read the month (838.2 showed 04:00, not 48:00) or made
    nothing for a serial before March 1900 (5:00 in 「m:ss」, so a 実施状況 typed 5:00 was
    imported as its bare serial), and 「h "時" mm "分"」 showed the month as the minutes."""
    assert number_shown(value, number_format) == seen


# Measured as the tables above (LibreOffice 7.4, the format added converted from en-US as a
# file's import adds it; Japanese Excel's screen writes 「G/標準"千円"」, its file General"千円").
@pytest.mark.parametrize("value, number_format, seen, read", [
    (12000, 'General"千円"', "12000千円", "12000千円"), (5, 'General"件"', "5件", "5件"),
    (10, 'General"以上"', "10以上", "10以上"), (1808.93, '"("General")"', "(1808.93)", "(1808.93)"),
    (-32516, 'General"名"_ ', "-32516名", "-32516名"), (-999, '[<10]\\万\\円General', "-万円999", "万円-999"),
    (-44561.25, 'General;"△"General', "△44561.25", None),     # its own sign mark: no word added
    (12, "General", None, None), (12, "[Red]General", None, None),   # 標準 alone: the number as it is
])
def test_general_with_words_is_read_with_them(value, number_format, seen, read):
    """「G/標準"千円"」 (標準 among words) showed 「12000千円」 and was read as the bare 12000:
    collect imported 12000 on a 件 row, and 12000 on a 円 row a thousandth of what the cell
    shows, without a word, where 「#,##0"千円"」 holds the row. (tests/fuzz/formats_diff.py
    found it.) Its letters are no date either (shows_date)."""
    assert number_shown(value, number_format) == seen
    assert number_read(value, number_format) == read
    assert not shows_date(number_format) and shows_digits(value, number_format)


@pytest.mark.parametrize("value, number_format, seen", [
    (61, '0.0?"件"', "61.0 件"), (0, '0.0?\\以\\上', "0.0 以上"), (-99, '"("0.0?")"', "-(99.0 )"),
    (12.5, '0.??"人"', "12.5 人"), (12.25, '0.0?"人"', "12.25人"), (1.5, '0.0#"件"', "1.5件"),
    # Excel shows a decimal point no digit follows (Calc does not: 「5」): microsoft/Power-Fx
    # issue 1779 (「Unlike Excel ..., Text(12, "#.#") does not return "12."」), nissl-lab/npoi
    # issue 1682 (Excel's 0.## shows 15 as 「15.」), PHPOffice/PHPExcel pull 746. Kept.
    (5, "#.##", "5."), (15, "0.##", "15."), (12, '#.#"件"', "12.件"),
    (-1e-05, '0.0?"円"', "0.0 円"),          # rounded to zero: no sign, as in 0.0 (the space is no digit)
])
def test_a_question_mark_no_digit_fills_is_a_space(value, number_format, seen):
    """「?」 keeps a digit's width (a space) where the number has no digit for it, so words
    after it stand apart: 61 in 0.0?"件" was quoted 「61.0件」 beside a cell showing 「61.0 件」.
    Measured as the tables above (LibreOffice 7.4, ja-JP); Excel's ? is the same space."""
    assert number_shown(value, number_format) == seen


# Measured as the tables above (LibreOffice, ja-JP, getString; the ends' spaces are stripped
# as number_shown strips them). Excel's 「?」 is the same space on either side of the point.
@pytest.mark.parametrize("value, number_format, seen", [
    (-1, '??.??\\件', "- 1.  件"), (-5, '??"件"', "- 5件"), (12, '"約"???"人"', "約 12人"),
    (5, '"x"?0', "x 5"), (5, '"x"?,??0', "x    5"), (123, '??"件"', "123件"),
    (5, "0,000", "0,005"), (12, "00,000.0", "00,012.0"), (5, "#,#00", "05"), (5, "000", "005"),
    (1234, "??,??0", "1,234"), (1000, "#,###", "1,000"),
])
def test_a_question_mark_before_the_point_is_a_space_too(value, number_format, seen):
    """「?」 before the decimal point keeps a digit's width as it does after it: -1 in
    「??.??\\件」 shows 「- 1.  件」 and was quoted 「-1.  件」, and 12 in 「"約"???"人"」 「約 12人」
    where 「約12人」 was quoted; zeros added to a grouped number were not grouped (5 in
    「0,000」: 0005 for 0,005). (tests/fuzz/formats_diff.py, seed 8801, found it.)"""
    assert number_shown(value, number_format) == seen


# LibreOffice 7.4, ja-JP (getString), as the tables above: each negative section carries the
# sign itself, so its marks are the sign and the digits have none.
@pytest.mark.parametrize("value, number_format, read, parsed", [
    (-12000, '0.00E+00;"▲"0.00E+00', None, None),              # ▲1.20E+04: the number as stored
    (-12000, '0.0E+0"件";"▲"0.0E+0"件"', "▲12000件", "-12000"),   # ▲1.2E+4件
    (-12000, '[<0]"△"0.00E+00"千円";0.00E+00"千円"', "△12000千円", "-12000000"),   # △1.20E+04千円
    (-12000, '0.0E+0"件";-0.0E+0"件"', "-12000件", "-12000"),     # -1.2E+4件
    (-1.5, "# ?/?;(# ?/?)", None, None),                        # (1 1/2)
    (-1.5, '# ?/?"件";"▲"# ?/?"件"', "▲1.5 件", "-1.5"),          # ▲1 1/2件
])
def test_a_negative_scientific_or_fraction_section_reads_its_own_sign_once(value, number_format, read, parsed):
    """A scientific or fraction section with words is read with the stored number
    (_read_with_words), but that number kept its minus where the section shows its own sign:
    -12000 shown 「▲1.20E+04」 was read 「▲-12000」 and -1.5 shown 「(1 1/2)」 「(-1.5 )」, texts the
    cell does not show and the rules of values refuse, so collect held a row it imported as
    -12000 before scientific sections were read with their words. The section's sign marks
    are the sign, as in number_read's other sections."""
    from renkei_xl.core.values import parse_input

    assert number_read(value, number_format) == read
    if read is not None:
        assert str(parse_input(read).number) == parsed


@pytest.mark.parametrize("value, number_format, seen, read", [
    (45000, "G/標準", None, None), (100, "G/標準", None, None),        # 標準 alone: the number as it is
    (12000, 'G/標準"千円"', "12000千円", "12000千円"), (5, '[Red]G/標準"件"', "5件", "5件"),
])
def test_general_by_its_japanese_name_is_general_not_an_era(value, number_format, seen, read):
    """「G/標準」 is Japanese Excel's name of 標準 (General), the code its screen shows and a
    Japanese Excel writes where it writes the localized code (a chart's formatCode="G/標準").
    Since eras were made, its 「G」 was an era letter: 45000 in such a cell was quoted
    「R/標準」 and shown as a date (shows_date), so a number in its 実施状況 was held as a date
    (findings.STATUS_DATE) quoting a text no cell shows; before, no finding."""
    assert number_shown(value, number_format) == seen
    assert number_read(value, number_format) == read
    assert not shows_date(number_format) and shows_digits(value, number_format)


@pytest.mark.parametrize("fmt, value, seen", [('"約"0', 17, "約17"), ('0"以上"', 17, "17以上"),
                                              ('[<100]"100未満";0', 17, "100未満"), (";;;", 17, ""),
                                              ("0,", 17, "0"), ("#,##0,", 1234567, "1,235"),
                                              ('#,##0"人"', 1234, "1,234人"), ("yyyy/mm/dd", 3e6, "#####"),
                                              ('#"千円"', 0.3, "千円"),
                                              # qa-values64: a sign the number has not
                                              ('"▲"0', 17, "▲17"), ("▲0", 17, "▲17"), ("-0", 17, "-17"),
                                              ("(0)", 17, "(17)"), ('"▲"0', -17, "-▲17"), ("0;0", -17, "17"),
                                              ('"▲"0;0', -17, "17"),
                                              # qa-values64b: scientific, as Excel shows it (no text
                                              # was made for it, so no sign seen: judged on +12)
                                              ('"▲"0.00E+00', 12, "▲1.20E+01"), ("0.00E+00;0.00E+00", -12, "1.20E+01"),
                                              ('"▲"0.0E-0', 0.0012, "▲1.2E-3"), ('"▲"0.00E+00', 9.996, "▲1.00E+01"),
                                              ('"▲"#.##E+00"件"', 12, "▲1.2E+01件"),
                                              # qa-values64c: a percentage too (it was read as the
                                              # 50% shown, where the cell holds -50%)
                                              ("0%;0%", -0.5, "50%"), ('"▲"0%', 0.5, "▲50%"),
                                              ("-0.0%", 0.125, "-12.5%"),
                                              # qa-values64c: engineering notation (the exponent a
                                              # multiple of the whole holders) and fractions
                                              ('"▲"##0.0E+0', 12345, "▲12.3E+3"), ('"▲"##0.0E+0', 0.012, "▲12.0E-3"),
                                              ('"▲"##0.0E+0', 999.96, "▲1.0E+3"), ("##0.0E+0;##0.0E+0", -12, "12.0E+0"),
                                              ('"▲"# ?/?', 1.5, "▲1 1/2"), ("# ?/?;# ?/?", -1.5, "1 1/2"),
                                              ('"▲"?/?', 1.5, "▲3/2"), ('"▲"# ?/8', 1.3, "▲1 2/8"),
                                              ('"▲"# ?/?', 0.5, "▲1/2"), ('"▲"# ?/?', 1.99, "▲2"),
                                              ('# ???/???"件";# ???/???"件"', -1.25, "1 1/4件")])
def test_a_number_a_format_shows_otherwise_says_what_it_shows(fmt, value, seen):
    """shown63: the master's number shown with words, without digits, scaled or as #####;
    qa-values64: or with another sign (17 shown ▲17 was judged on +17 in silence), scientific
    too (qa-values64b: 12 in 「"▲"0.00E+00」 shows ▲1.20E+01), a percentage too (qa-values64c:
    not read as the percent it shows)."""
    from renkei_xl.core.displayed import plain_format, shown_otherwise
    from renkei_xl.core.percent_cells import percent_read

    assert not plain_format(fmt)
    assert shown_otherwise(value, fmt) == seen
    assert percent_read(value, fmt) is None


@pytest.mark.parametrize("fmt, value, hashes, seen", [
    # the section the number takes shows no date: the cell shows what that section makes
    ("[mm]:ss;[Red]#", -61, False, "61"), ('d-mmm-yy;[Color10]0.0%"万円"', -99.95, False, "9995.0%万円"),
    ('[$-411]ge.m.d;0.00;"名"#,##0.0;@"様"', -1804.7, False, "1804.70"),
    ('yyyy/m/d h:mm;"100以上";"△"0.00"名"', -1294.634, False, "100以上"), ("yyyy/m/d;0.00", -5, False, "5.00"),
    # a date or time section and a number it has no date for: #####, whichever section it is
    ("h:mm", -0.5, True, None), ("yyyy/m/d;yyyy/m/d", -5, True, None), ("0.00;yyyy/m/d", -5, True, None),
    ("yyyy/m/d;0.00", 3e6, True, None), ("yyyy/m/d", 45000, False, "2023/3/15"),
    # a text section is no number's: Japanese Excel's own date formats end in one
    ('yyyy"年"m"月"d"日";@', -5, True, None), ('[$-411]ggge"年"m"月"d"日";@', -1, True, None),
    ("h:mm;@", -0.5, True, None), ('0.00;"▲"0.00;@', -5, False, "▲5.00")])
def test_hashes_are_said_by_the_section_a_number_takes(fmt, value, hashes, seen):
    """tests/fuzz/formats_diff.py, seed 7123: ##### was said of every number below 0 in a
    format whose first section is a date (shows_date), whichever section showed it, so collect
    held -61 in 「[mm]:ss;[Red]#」 as a number shown nowhere while the cell showed a red 61.
    The section the number takes decides (shows_date_for), as it does for number_shown."""
    from renkei_xl.core.displayed import shows_date_for, shows_hashes, shown_without_digits

    assert shows_hashes(value, fmt) is hashes
    assert (shown_without_digits(value, fmt) == "#####") is hashes
    assert number_shown(value, fmt) == seen
    assert shows_date_for(value, fmt) is (hashes or seen == "2023/3/15")


@pytest.mark.parametrize("fmt, value, seen", [
    # measured in LibreOffice 7 (tests/fuzz/formats_diff.py's Calc, ja-JP)
    ("000-00", 1234, "012-34"), ("000-0000", 45017, "004-5017"), ("000-00", 123456789, "1234567-89"),
    ("[<=999]000;[<=9999]000-00;000-0000", 1234, "012-34"), ("####-####", 1234, "-1234"),
    ("(00) ####-####", 12345678, "(00) 1234-5678"), ("(00) ####-####", 1234567, "(00) 123-4567"), ("0 0", 1234, "123 4"), ('0"件"0', 5, "0件5"),
    ("0.0-0", 12.25, "12.2-5"), ("0-0.0", 1234.5, "123-4.5"), ('0-0;"▲"0-0', -1234, "▲123-4"), ("#-#", 0, "-")])
def test_words_between_digit_holders_stand_between_the_digits(fmt, value, seen):
    """Japanese Excel's 郵便番号 (「[<=999]000;[<=9999]000-00;000-0000」) and 電話番号 formats put
    words between digit holders: each holder shows its own digit. The number was put whole at
    the first holder, and a finding quoted 「01234-」 for a cell showing 012-34."""
    assert number_shown(value, fmt) == seen


@pytest.mark.parametrize("fmt, value, seen", [
    # measured in LibreOffice (tests/fuzz/formats_diff.py), as SheetJS's choose_fmt has Excel
    ("0.00;@", -5, "-5.00"), ('0"件";@', -5, "-5件"), ('#,##0"人";@"様"', -1234, "-1,234人"),
    ('0;"負";@', -5, "負"), ('0;"負";@', 0, "0"), ("0;0;@", 0, "0"), ("0.0;@", 0, "0.0"),
    ('"件数"@', -5, None), ("@", 12, None)])
def test_a_last_text_section_shows_no_number(fmt, value, seen):
    """A last section holding 「@」 (of fewer than four) is the text section: every number is
    shown by the ones before it, a negative by the first where it is alone (-5 in 「0.00;@」
    shows -5.00), zero by the first where no third is left. It was taken for the negative
    numbers' (or zero's) section, so -5 was said to show nothing and 0 in 「0;"負";@」 the
    text section's nothing. A format of a text section alone shows a number as 標準 does."""
    from renkei_xl.core.displayed import plain_format

    assert number_shown(value, fmt) == seen
    assert plain_format("0.00;@") and plain_format("#,##0;[Red]-#,##0;0;@") and not plain_format('0;"負";@')


def test_an_era_date_is_made_only_where_the_section_shown_is_the_era():
    """150 in 「[<100]ggge"年";0」 shows 150, not a date: era_date gave the return's reader
    令和… for a number the cell shows as it is (the same first-section rule as shows_hashes)."""
    import datetime as dt

    from renkei_xl.core.displayed import date_shown

    fmt = '[<100]ggge"年";0'
    assert date_shown(150, fmt) is None and number_shown(150, fmt) == "150"
    assert date_shown(45017, 'ggge"年"') == dt.date(2023, 4, 1)
    # as python-calamine hands a date cell over below 1900-03-01 (Excel shows 1900/2/19 for 50;
    # it was made 02-18, OLE's count), and a time of day below 1
    assert date_shown(50, fmt) == dt.date(1900, 2, 19) and date_shown(60, fmt) == dt.date(1900, 2, 28)
    assert date_shown(61, fmt) == dt.date(1900, 3, 1) and date_shown(0.5, fmt) == dt.time(12)
    # a format showing some numbers as dates by their condition (5: the second section's date)
    assert date_shown(5, "[>=100]0;yyyy/m/d") == dt.date(1900, 1, 5) and date_shown(150, "[>=100]0;yyyy/m/d") is None


@pytest.mark.parametrize("fmt", ["0", "#,##0", "0.0", "#,##0.00", "General", "G/標準", "@", "#,##0;[Red]-#,##0",
                                 "0_);(0)", "0;▲0", "[Red]0", ""])
def test_a_plain_number_format_is_plain_and_shows_no_number_otherwise(fmt):
    from renkei_xl.core.displayed import plain_format, shown_otherwise

    assert plain_format(fmt)
    assert all(shown_otherwise(v, fmt) is None for v in (17, 0, -3, 0.5, 12345.678))


@pytest.mark.parametrize("fmt, value", [("0%", 0.17), ("0.0%", 1), ("0;-0;;@", 0), ("0,", 0), ('"約"0;-0;;@', 0),
                                        ("\\¥#,##0", 17), ('#,##0;"▲"#,##0', -5), ("0.00E+00", 17),
                                        ("yyyy/mm/dd", 45000), ("yyyy/mm/dd", -1),
                                        ('"¥"#,##0.00;[Red]"¥"\\-#,##0.00', -12.5),
                                        # a negative in red (Japanese Excel's 「[赤]1234」), a zero or a
                                        # number shown as 0 beside ▲: the sign they have
                                        ("#,##0;[Red]#,##0", -5), ("#,##0;[赤]#,##0", -5), ('"▲"0', 0),
                                        ('"▲"0', 0.2), ("0_);(0)", -5),
                                        # scientific with the sign it has (the exponent's is none)
                                        ("0.00E+00", -12), ('0.00E+00;"▲"0.00E+00', -12000), ("0.0E-0", 0.0012),
                                        # a percentage with the sign it has: read as shown
                                        ("0%;▲0%", -0.5), ("0%;[Red]0%", -0.5), ("0%", -0.5),
                                        # engineering and fractions with the sign they have, or shown
                                        # as 0 (no sign to show)
                                        ("##0.0E+0", -12345), ('##0.0E+0;"▲"##0.0E+0', -0.0012), ("# ?/?", -1.5),
                                        ('# ?/?;"▲"# ?/?', -1.5), ('"▲"# ?/?', 0.01)])
def test_a_percent_a_hidden_zero_or_a_date_is_not_shown_otherwise(fmt, value):
    """A percent is read as it shows (core.percent_cells); a zero hidden is 0; a currency sign,
    a negative section's own sign mark, scientific without words, a date are the number."""
    from renkei_xl.core.displayed import shown_otherwise

    assert shown_otherwise(value, fmt) is None


@pytest.mark.parametrize("field, value, fmt, seen", [
    ("status", -12, "0;0", "12"), ("status_manual", 12, '"▲"0', "▲12"), ("status", -0.5, "0%;0%", "50%"),
    # a status's other formats are left as read (no figure): words, a percentage, its own sign
    ("status", 17, '"約"0', None), ("status", 0.5, "0%", None), ("status", -12, "0;▲0", None),
    ("value", -12, "0;0", "12")])
def test_a_status_number_is_asked_only_the_sign_it_shows(field, value, fmt, seen):
    """qa-values64c: a 実施状況 of -12 in 「0;0」 (shown 12) was read as the text 「-12」 on the
    master; the one sign rule refuses it, and only it (core.percent_cells.SIGN_ONLY)."""
    from renkei_xl.core.percent_cells import PercentFormats

    assert PercentFormats.otherwise(value, fmt, field) == seen
    assert field != "status" or PercentFormats.read(value, fmt, field) is None

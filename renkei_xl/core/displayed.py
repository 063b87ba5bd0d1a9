"""A number as Excel keeps it in a book set to 「表示桁数で計算する」 (precision as displayed:
workbook.xml's calcPr fullPrecision="0", VBA's Workbook.PrecisionAsDisplayed).

Excel then stores every number entered into a cell rounded to what the cell's number format
shows (「12.345」 into a cell of 0.0 is kept as 12.3), so a value the buttons write is
rounded by Excel itself as it arrives. The file face writes the number into the file, where
nothing rounds it: the same 回収 gave 12.345 on the command line and 12.3 through a button,
and each judged its own. So the file face stores what Excel would keep (``as_displayed``),
by the format the cell has as the number arrives (workbook.apply._as_displayed).

Hand-written because no kept Python library rounds by an Excel number format; it reads the
part of a format that decides the shown digits: the section the number is shown by (chosen
by its sign or by a condition, 「[<10]"10未満";0」: _section_for, the one choice of a section
for every reading here), its decimals, its percent signs (×100 each) and the thousands commas
after the last digit (÷1000 each). Formats it does not model (General, which shows a number
as it is; dates and times, Japanese eras among them; scientific; fractions; text; a section
of words alone) leave the number as it is. Rounding is half away from zero, as Excel's,
from the shortest repr (1.005 → 1.01, as shown).

The same module makes the text a returned cell shows (number_shown, percent_shown) and reads
its number with the format's words and scale (number_read), by the same section. What each
other feature that changes a cell's text is taken for (tests/test_displayed.py pins each):
kanji numerals (「[DBNum1]0"件"」: 十二件) are the same number, read 「12件」 and quoted in
digits; scientific (1.23E+04) and fractions (1 1/2) show the number rounded, read as stored
(with the section's words, where it has any: 「12000千円」 for 1.2E+4千円) and not made; 標準 among words (「G/標準"千円"」, General"千円" in the file) shows the number as
the tool writes one, with the words, and is read with them; a fill (*) or a space's width (_)
adds no word; a text section (@) is not a
number's; a section that shows nothing (「;;;」) leaves no text (shown_without_digits is 「」:
collect holds such a number unless it is 0), and so is one its 「#」 digits round to none of
(0.3 in 「#"千円"」 shows 「千円」: shown_without_digits).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

from .lazy_pattern import LazyPattern
from .values import MINUS_SIGNS

# Quoted text, an escaped or repeated/padding character, and [colour]/[condition]/[locale].
_LITERALS = LazyPattern(r'"[^"]*"|\\.|[_*].|\[[^\]]*\]')
_UNMODELLED = LazyPattern(r"[yYmMdDhHsSeEgGaA/@]|午前|午後")
_EVERY_DIGIT = Context(prec=320)
# Excel's longest number format: a longer one (only a file not saved by Excel has it) is
# none Excel rounds by, and 100,000 unclosed 「[」 took seconds to strip (each read to the end).
FORMAT_CHARS = 255


def _sections(number_format: str) -> list[str]:
    """The format's sections (positive; negative; zero; text), split outside quotes."""
    out, current, quoted = [], [], False
    for ch in number_format:
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            out.append("".join(current))
            current = []
        else:
            current.append(ch)
    out.append("".join(current))
    return out


def _rounded(number: Decimal, code: str) -> "tuple[Decimal, Decimal] | None":
    """``number`` scaled as a section's number part (``code``, literals left out) shows it,
    rounded to its decimals, with the scale (×100 a percent sign, ÷1000 a comma after the
    last digit); None past _EVERY_DIGIT. The one rule of the shown digits: the number the
    master keeps (as_displayed) and the text a finding quotes (number_shown) both use it."""
    whole, _, fraction = code.partition(".")
    decimals = len(re.findall(r"[0#?]", fraction))
    scale = Decimal(100) ** code.count("%") / Decimal(1000) ** _thousands(code)
    try:
        return (number * scale).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP,
                                         context=_EVERY_DIGIT), scale
    except InvalidOperation:
        return None


def _thousands(code: str) -> int:
    """How many thousands a section's number part (``code``, with a digit holder) divides
    its number by: the commas right after its last digit holder (「#,##0,」 1, 「0,,」 2; a
    comma between digits groups them). The one reading of that scale: the shown digits
    (_rounded) and the scale without words (scaled_without_words), which read it apart."""
    last_digit = max(code.rfind(ch) for ch in "0#?")
    return len(re.match(r",*", code[last_digit + 1:]).group(0))


# A section's condition (「[<10]」, 「[>=1E3]」); Excel allows one in each of the first two.
_CONDITION = LazyPattern(r"\[(<>|<=|>=|<|>|=)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\]")
_COMPARE = {"<": lambda v, c: v < c, "<=": lambda v, c: v <= c, ">": lambda v, c: v > c,
            ">=": lambda v, c: v >= c, "=": lambda v, c: v == c, "<>": lambda v, c: v != c}
# The section a number no condition takes is shown by in a book whose format has none left:
# 標準 (LibreOffice appends 「;General」 to 「[<=100]0;[>100]0」 and to 「[<10]"10未満"」).
_GENERAL = "General"
# 標準 as a file may spell it: Excel's code, and Japanese Excel's own name (its screen's
# 「G/標準」, written where Excel writes the localized code), whose 「G」 is no era letter.
_GENERAL_NAMES = ("general", "g/標準")


def _condition(section: str) -> "tuple[str, float] | None":
    """A section's condition as (operator, limit), found outside its quoted text."""
    m = _CONDITION.search(re.sub(r'"[^"]*"|\\.', "", section))
    return (m.group(1), float(m.group(2))) if m else None


def _only_not_positive(conditions: list) -> bool:
    """Whether no positive number meets every one of ``conditions`` ((operator, limit, met):
    ``met`` False for one the number must fail). Such a set is a run of intervals whose ends
    are the limits, so a positive number in it is a limit, a point between two of them (or
    between 0 and the least), or one past the greatest."""
    ends = sorted({0.0, *(c for _op, c, _met in conditions if c > 0)})
    points = ends[1:] + [(a + b) / 2 for a, b in zip(ends, ends[1:])] + [ends[-1] + 1]
    return not any(all(_COMPARE[op](p, c) == met for op, c, met in conditions) for p in points)


def _section_for(value: float, sections: list[str]) -> "tuple[str, bool] | None":
    """The section a cell shows ``value`` by and whether it shows the number's minus sign
    itself; None for a format whose choice is not made here (a condition in the second
    section alone, which LibreOffice refuses). The one choice for number_shown, number_read,
    percent_shown and as_displayed.

    Without a condition: the second section for a negative number, the third for zero,
    where the format has them; the first otherwise. With one (Microsoft's 「Review guidelines
    for customizing a number format」: 「[Red][<=100];[Blue][>100]」): the first section takes
    the numbers its condition meets, the second those its own meets, the third the rest
    (「[<10]"10未満";[>=100]"100以上";0」 shows 50 by 0). With a condition on the first alone,
    the second takes the rest where it is the last (「[<10]"10未満";0」: 12 shows 12, -3 shows
    10未満); followed by a third, it takes the negative numbers and the third the rest, as
    LibreOffice does (「[>=10]0;"負";"他"」: 5 shows 他; Microsoft does not say). A number no
    section takes is shown as 標準 shows it (two conditions and no third, or one section).

    The minus sign: Excel shows it unless every number the chosen section can take is zero or
    less, so the section's own marks are the sign (「[<0]"▲"0;0」: -5 shows ▲5, as in a plain
    「0;▲0」; 「[<-10]#」: -20 shows 20), and shows it in a section a condition did not choose
    (「[=0]"－";0」: -5 shows -5). That is Excel as reported with its screens (SheetJS issues
    2573 and 2586, Apache POI pull 229); Microsoft does not document it. LibreOffice differs
    for a negative number outside the first section (it shows 「[=0]"－";0」's -5 as 5) and in a
    first section of a limit below zero (「[<=-1]"▲"0;0」: -▲5). The returned file is Excel's,
    and a number read with its sign where its section carries none is the stored number.

    A text section is none of a number's (_number_sections): -5 in Japanese Excel's own
    「yyyy"年"m"月"d"日";@」 is shown by the date (#####), not by 「@」."""
    sections = _number_sections(sections)
    conditions = [_condition(s) for s in sections[:2]]
    if not any(conditions):
        if len(sections) > 2:
            conditions = [(">", 0.0), ("<", 0.0)]
        elif len(sections) == 2:
            conditions = [(">=", 0.0), None]
    elif conditions[0] is None:
        return None
    elif len(conditions) == 2 and conditions[1] is None and len(sections) > 2:
        conditions[1] = ("<", 0.0)
    first = conditions[0]
    second = conditions[1] if len(conditions) > 1 else None
    if first is None:                                   # one section without a condition
        return _or_general(sections[0]), value < 0
    if _COMPARE[first[0]](value, first[1]):
        chosen, reach = sections[0], [(*first, True)]
    elif len(sections) == 2 and second is None:
        chosen, reach = sections[1], [(*first, False)]
    elif second is not None and _COMPARE[second[0]](value, second[1]):
        chosen, reach = sections[1], [(*first, False), (*second, True)]
    elif len(sections) > 2:
        chosen, reach = sections[2], [(*first, False), (*second, False)]
    else:
        return _GENERAL, value < 0
    return _or_general(chosen), value < 0 and not _only_not_positive(reach)


def _number_sections(sections: list[str]) -> list[str]:
    """The sections a number is shown by: all but the text section, which is the fourth, or
    the last of fewer where it holds the text placeholder 「@」 outside quotes. Japanese Excel's
    date formats end in one (「yyyy"年"m"月"d"日";@」, 「[$-411]ggge"年"m"月"d"日";@」): every number
    is shown by the date, and -5 shows #####, where the second section was taken for it (the
    cell was said to show nothing and its -5 read as typed). Excel (SheetJS's choose_fmt,
    which follows it) and LibreOffice (measured: -5 in 「0.00;@」 shows -5.00) read it so. A
    format of 「@」 alone shows a number as 標準 does."""
    # 「@」 looked for in the text first: _section_for asks this of every number shown, and
    # cutting the section into pieces each time tripled its cost
    if len(sections) < 4 and "@" in sections[-1] and "@" in _joined(_pieces(sections[-1]), "code"):
        return sections[:-1] or [_GENERAL]
    return sections[:3]


def _or_general(section: str) -> str:
    """A section of a colour, a condition or a locale alone (「[Red]」, Microsoft's own
    「[Red][<=100];[Blue][>100]」) shows the number as 標準 does, in its colour: Microsoft's
    guidelines give that format for numbers shown red or blue. LibreOffice shows nothing,
    and collect held such a number as hidden (findings.HIDDEN_NUMBER). A section empty
    without brackets (「;;;」) still shows nothing."""
    return _GENERAL if _BRACKETS_ALONE.fullmatch(section) else section


_BRACKETS_ALONE = LazyPattern(r"(?:\s*\[[^\]]*\])+\s*")


def as_displayed(value: float, number_format: str) -> float:
    """``value`` rounded as Excel keeps it under precision as displayed in a cell of
    ``number_format``; the value itself where the format is not a plain number format."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return value
    if len(number_format or "") > FORMAT_CHARS:
        return value
    chosen = _section_for(value, _sections(number_format or "General"))
    if chosen is None:
        return value
    bare = _LITERALS.sub("", chosen[0])
    if not bare.strip() or _UNMODELLED.search(bare) or not re.search(r"[0#?]", bare):
        return value
    rounded = _rounded(Decimal(repr(value)), bare)
    if rounded is None:
        # More digits than _EVERY_DIGIT (1e300 under 30 decimals, 200 percent signs): the
        # place rounded is far below a float's 17 digits, so Excel keeps the value as it is.
        return value
    shown, scale = rounded
    out = float(_EVERY_DIGIT.divide(shown, scale)) or 0.0      # never −0.0
    return int(out) if isinstance(value, int) and out == int(out) else out


def percent_shown(value: object, number_format: str, date1904: bool = False) -> "str | None":
    """What number_shown makes, where the section the number is shown by is a percentage
    (「0%」: 0.855 shows 86%), else None. Excel and Calc store 85% typed into a 標準 cell as
    0.85 and give the cell such a format, so a text read from the value alone (「0.85」) is
    not what the municipality typed or saw. One rule of the shown text (number_shown): a
    percentage with a sign or words of its own (「0%;▲0%」) is quoted as the cell shows it."""
    seen = number_shown(value, number_format, date1904)
    if seen is None:
        return None
    section, _signed = _section_for(value, _sections(number_format))   # type: ignore[arg-type, misc]
    return seen if "%" in _joined(_pieces(section), "code") else None


# An era part of a date format, letter by letter (「ggge」: g its name, up to three; e its
# year, one or two): the parts a date is cut into (_DATE_PART) and the letters that make a
# format an era one (is_era_format, ERA_LETTERS), which were typed apart as g{1,3}|ee? and
# [ge], where a letter added to one would have left the other without it.
ERA_PARTS = ("g{1,3}", "ee?")
ERA_LETTERS = "".join(part[0] for part in ERA_PARTS)
# A date or time part of a format (longest first, an era 「ggge」 among them), and the parts
# no text is made for here: names of months and days, AM/PM (their words depend on the
# application's language).
_DATE_PART = LazyPattern(r"\[h+\]|\[m+\]|\[s+\]|yyyy|yy|hh|h|mm|m|dd|d|ss|s|" + "|".join(ERA_PARTS) + r"|\.0+", re.I)
_DATE_WORDS = LazyPattern(r"mmm|ddd|[ab]|午前|午後", re.I)
# Japan's eras from their first day, as a Japanese Excel shows them (「ggge"年"」 令和5年, 「gge」
# 令5, 「ge」 R5; the first year is 1, 元年 only under the locale 「[$-ja-JP-x-gannen]」, not
# made here). Dates before 1900-03-01 are not made, so 明治 is the first needed.
_ERAS = (("2019-05-01", "令和", "R"), ("1989-01-08", "平成", "H"), ("1926-12-25", "昭和", "S"),
         ("1912-07-30", "大正", "T"), ("1868-10-23", "明治", "M"))


def _is_date_code(code: str) -> bool:
    """Whether a section's number part (``code``) is a date or a time: a part of one, an era
    (「ggge」) among them, and no text (@); 「E」 among digits is scientific, not an era year."""
    code = code.replace(_GENERAL, "")
    if "@" in code:
        return False
    return bool(re.search(r"[ymdhsg]", code, re.I) or "e" in code.lower() and not re.search(r"[0#?]", code))


def _joined(pieces: "list[tuple[str, str]]", kind: str) -> str:
    """The text of a section's pieces (_pieces) of one ``kind``: "code", the characters that
    stand for the number, or "lit", the words shown as they are: the one spelling of the join
    for every reader of a format here, each of which had typed its own."""
    return "".join(t for k, t in pieces if k == kind)


def _pieces(section: str) -> list[tuple[str, str]]:
    """A format section as (kind, text): "lit" for text the cell shows as it is (quoted,
    escaped, or a plain character), "code" for the characters that stand for the number
    (「General」 one piece: its letters are no era or day)."""
    out, i = [], 0
    while i < len(section):
        ch = section[i]
        if ch == '"':
            end = section.find('"', i + 1)
            end = len(section) if end < 0 else end
            out.append(("lit", section[i + 1:end]))
            i = end + 1
        elif ch == "\\" and i + 1 < len(section):
            out.append(("lit", section[i + 1]))
            i += 2
        elif ch in "_*" and i + 1 < len(section):
            out.append(("lit", " " if ch == "_" else ""))   # padding: a space's width, a fill
            i += 2
        elif name := next((n for n in _GENERAL_NAMES if section[i:i + len(n)].lower() == n), ""):
            out.append(("code", _GENERAL))               # 標準 among words: 「G/標準"千円"」
            i += len(name)
        elif ch == "[" and not re.match(r"\[[hms]+\]", section[i:], re.I):
            end = section.find("]", i)
            i = len(section) if end < 0 else end + 1       # [colour], [$-411], [DBNum1]: no text
        else:
            out.append(("code" if ch in "0#?.,%" or ch.lower() in "ymdhs[]eg/@" else "lit", ch))
            i += 1
    return out


def _number_text(value: float, code: str) -> "str | None":
    """``value`` as the digits of one section's number part (「#,##0.0」), or None. A decimal
    point no digit follows is shown (5 in 「#.##」: 「5.」), as Excel shows it (microsoft/Power-Fx
    issue 1779, nissl-lab/npoi issue 1682); LibreOffice drops it (「5」)."""
    if re.search(r"[eE/@]", code):      # scientific, fractions, text: not made here
        return None
    rounded = _rounded(abs(Decimal(repr(float(value)))), code)
    if rounded is None:
        return None
    number = rounded[0]
    whole, _, fraction = code.partition(".")
    decimals = len(re.findall(r"[0#?]", fraction))
    grouped = "," in whole[:max(whole.rfind(ch) for ch in "0#?")]
    head, _, tail = f"{number:f}".partition(".")
    # A whole-number holder no digit fills shows as its holder says, as a decimal's does:
    # 「0」 a zero, 「?」 a space (「??.??」: -1 shows 「- 1.」 in Excel and Calc), 「#」 nothing;
    # grouped, the separator between two spaces is a space (5 in 「"x"?,??0」: x    5, Calc).
    holders = re.findall(r"[0#?]", whole)
    if head == "0" and "0" not in holders:
        head = ""
    missing = len(holders) - len(head)
    head = "".join({"0": "0", "?": " ", "#": ""}[h] for h in holders[:max(missing, 0)]) + head
    if grouped:
        out = []
        for i, ch in enumerate(reversed(head)):
            out.append(ch if not i or i % 3 else ch + ("," if ch.isdigit() else " "))
        head = "".join(reversed(out))
    # A decimal no digit fills shows as its holder says: 「0」 a zero, 「?」 a space (「0.0?"件"」:
    # 61.0 件, so the words stand where they do in the cell), 「#」 nothing.
    kept = tail.rstrip("0")
    holders = re.findall(r"[0#?]", fraction)[len(kept):]
    tail = kept + "".join({"0": "0", "?": " ", "#": ""}[h] for h in holders) if decimals else ""
    return head + ("." + tail if tail or "0" in fraction else ("." if fraction and decimals else ""))


def _era_part(part: str, when) -> str:
    """An era part of a format (「ggg」 令和, 「gg」 令, 「g」 R, 「e」 5, 「ee」 05) for the day ``when``."""
    start, name, letter = next(e for e in _ERAS if when.date().isoformat() >= e[0])
    if part[0] == "e":
        return str(when.year - int(start[:4]) + 1).zfill(len(part))
    return letter if part == "g" else name[0] if part == "gg" else name


def _moment(value: float, date1904: bool) -> "tuple[int, object] | None":
    """A serial of the book's count (from 1904 when ``date1904``) as (its seconds, the
    date-time they make), None where it is no date Excel shows (it shows #####): below 0,
    or past the last second of 9999-12-31 by that count once rounded to the second. A 1904
    book's last serial is 1,462 days short of the 1900 count's, whose bound was used for
    both: 2957100 in a date cell of a return saved so ended collect in OverflowError
    (qa-fuzz62), and so did 2958465.999995 in either count, whose second is in year 10000."""
    import datetime as dt

    from .contract_read import EXCEL_DAY_ZERO

    if not 0 <= value < 2958466:
        return None
    seconds = round(value * 86400)
    first = dt.datetime(1904, 1, 1) if date1904 else EXCEL_DAY_ZERO
    if seconds > (dt.datetime(9999, 12, 31, 23, 59, 59) - first).total_seconds():
        return None
    return seconds, first + dt.timedelta(seconds=seconds)


def _date_text(value: float, section: list[tuple[str, str]], date1904: bool) -> "str | None":
    """``value`` (a serial of the book's count: from 1904 when ``date1904``) as a date or time
    section shows it. No date before 1900-03-01 in the 1900 count (its fictitious 29 February);
    a time, or hours past a day (「[h]:mm」: 36:00), has no date and is made whatever the day."""
    code = _joined(section, "code")
    moment = None if _DATE_WORDS.search(code) else _moment(value, date1904)
    if moment is None:
        return None
    seconds, when = moment
    dated = date1904 or value >= 61
    out, previous = [], ""
    flat = "".join(t if kind == "code" else "\0" * len(t) for kind, t in section)
    lits = iter(t for kind, t in section if kind == "lit" and t)
    i = 0
    while i < len(flat):
        if flat[i] == "\0":
            lit = next(lits)
            out.append(lit)
            i += len(lit)
            continue
        m = _DATE_PART.match(flat, i)
        if m is None:
            out.append(flat[i])
            i += 1
            continue
        low = m.group(0).lower()
        if low.startswith("["):            # elapsed hours, minutes or seconds
            out.append(str(seconds // {"h": 3600, "m": 60, "s": 1}[low[1]]).zfill(len(low) - 2))
        elif low in ("yyyy", "yy", "d", "dd") and not dated:
            return None
        elif low in ("yyyy", "yy"):
            out.append(str(when.year) if low == "yyyy" else f"{when.year % 100:02d}")
        elif low[0] in "ge":
            if not dated:
                return None
            out.append(_era_part(low, when))
        elif low in ("h", "hh"):
            out.append(str(when.hour).zfill(len(low)))
        elif low in ("m", "mm"):
            # Minutes where the part before is an hour or the part after seconds, whatever
            # text stands between (「mm:ss」, 「h"時"mm"分"」), else the month.
            following = _DATE_PART.search(flat, m.end())
            minute = previous.lstrip("[")[:1] == "h" or bool(following) and following.group(0).lower().lstrip("[")[:1] == "s"
            if not minute and not dated:
                return None
            out.append(str(when.minute if minute else when.month).zfill(len(low)))
        elif low in ("d", "dd"):
            out.append(str(when.day).zfill(len(low)))
        elif low in ("s", "ss"):
            out.append(str(when.second).zfill(len(low)))
        else:
            return None          # fractions of a second: not made here
        previous = low
        i = m.end()
    return "".join(out).strip()


def _made_format(value: object, number_format: str) -> "str | None":
    """The format a number's shown text is made for here, or None: not a number, 標準 or
    文字列 (the number as it is), or longer than a format can be. One gate for number_shown
    and number_read."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return None
    fmt = number_format or "General"
    if len(fmt) > FORMAT_CHARS or fmt.strip().lower() in (*_GENERAL_NAMES, "@", "標準"):
        return None
    return fmt


def _shown_by(value: object, number_format: str) -> "tuple[bool, list[tuple[str, str]]] | None":
    """Whether a cell shows the number ``value``'s minus sign, and the pieces of the section
    it is shown by; None where no text is made (_made_format) or no section chosen (_section_for).
    The one start of number_shown, number_read, shows_digits and shown_without_digits."""
    fmt = _made_format(value, number_format)
    chosen = _section_for(value, _sections(fmt)) if fmt is not None else None   # type: ignore[arg-type]
    return None if chosen is None else (chosen[1], _pieces(chosen[0]))


def _with_number(pieces: list[tuple[str, str]], number: str, holders: "str | tuple[str, ...]", sign: str = "") -> str:
    """A section's text with ``number`` where its first digit holder (one of ``holders``)
    stands, its words and percent signs where they stand, and ``sign`` (the minus sign the
    cell shows) first, before the section's words: -5 in 「"人"0」 shows -人5 and in 「"("0")"」
    -(5), in Excel and in LibreOffice (it was quoted 人-5, a text the cell does not show)."""
    out, placed = [], False
    for kind, t in pieces:
        if kind == "lit" or t == "%":
            out.append(t)
        elif not placed and t in holders:
            out.append(number)
            placed = True
    return (sign + "".join(out)).strip()


def number_shown(value: object, number_format: str, date1904: bool = False) -> "str | None":
    """The text a cell of ``number_format`` shows for the number ``value``, where the format
    shows more than the number alone: a percentage, thousands separators, a fixed number of
    decimals, text around it (0"件"), a date or a time (an era's: 令和5年), by the section
    its sign or a condition chose (5 in 「[<10]"10未満";0」 shows 10未満); None for a format
    that shows the number as it is (標準, 文字列), shows nothing (「;;;」) or one not made
    here (scientific, fractions, names of months, AM/PM). A returned file holds the number
    alone, and a message quoting it (「0.85」 for a cell showing 85%, 「0.0451388888888889」
    for 1:05:00) named a value the municipality cannot find in its cell. ``date1904``: the
    book counts its dates from 1904 (its workbookPr date1904)."""
    shown_by = _shown_by(value, number_format)
    if shown_by is None:
        return None
    signed, pieces = shown_by
    code = _joined(pieces, "code")
    if _GENERAL in code:
        # 標準 with words (「G/標準"千円"」 shows 12000千円): the number as the tool writes one
        # (contract_read.text: 15 digits; Excel's 標準 shows fewer where the column is narrow,
        # 1.2E+11 from 12 digits), with the words. 標準 alone shows the number as it is.
        if "%" in code or not _joined(pieces, "lit").strip():
            return None
        from .contract_read import text
        return _with_number(pieces, text(abs(float(value))), (_GENERAL,), "-" if signed and value else "")
    if _is_date_code(code):
        return _date_text(float(value), pieces, date1904)
    if not re.search(r"[0#?]", code):
        return None if "@" in code else "".join(t for _k, t in pieces).strip() or None
    number = _number_text(value, code.replace("[", "").replace("]", ""))
    if number is None:
        return None
    sign = "-" if signed and number.strip("0., ") else ""
    spread = _spread_digits(pieces, number)
    if spread is not None:
        return (sign + spread).strip() or None
    return _with_number(pieces, number, "0#?.,", sign) or None     # 0.4 in 「#」: nothing, as 「;;;」


# What a digit holder no digit fills shows (as _number_text pads a whole part).
_PADDED = {"0": "0", "?": " ", "#": ""}


def _spread_digits(pieces: list[tuple[str, str]], number: str) -> "str | None":
    """A section's text where words stand between the digit holders of its whole part or of
    its decimals (Japanese Excel's 郵便番号 「000-0000」 and 電話番号 「####-####」): each holder
    shows its own digit, the whole part's filled from the right (the first holder takes the
    digits left over), the decimals' from the left, as Excel and LibreOffice show them
    (1234 in 「000-00」 shows 012-34, measured in LibreOffice). None for any other section
    (the number stands where its first holder does: _with_number), and for one whose whole
    part is grouped as well (「#,##0-0」: not made here, the number placed whole)."""
    point = next((i for i, (kind, t) in enumerate(pieces) if kind == "code" and t == "."), len(pieces))
    whole = [i for i, (kind, t) in enumerate(pieces[:point]) if kind == "code" and t in "0#?"]
    decimals = [i for i, (kind, t) in enumerate(pieces) if i > point and kind == "code" and t in "0#?"]
    if not any(kind == "lit" for part in (whole, decimals) if len(part) > 1
               for kind, _t in pieces[part[0]:part[-1]]):
        return None
    head, dot, tail = number.partition(".")
    if "," in head:
        return None
    digits, shown = head.lstrip("0 "), {}      # without the holders' padding (_number_text's)
    for n, i in enumerate(reversed(whole)):
        pad = _PADDED[pieces[i][1]]
        shown[i], digits = (digits or pad, "") if n == len(whole) - 1 else (digits[-1:] or pad, digits[:-1])
    for n, i in enumerate(decimals):
        shown[i] = tail[n:n + 1]
    out = []
    for i, (kind, t) in enumerate(pieces):
        if kind == "lit" or t == "%":
            out.append(t)
        elif i in shown:
            out.append(shown[i])
        elif t == ".":
            out.append(dot)
    return "".join(out)


# What a negative section may show besides the number without adding a word: its sign.
_SIGN_MARKS = frozenset("()▲△+ ") | MINUS_SIGNS   # a minus as the value reader reads one
# Literal characters that change nothing a person reads from the number: a plus sign, a
# currency sign, spaces (「+0」 shows +12, 「\¥#,##0」 ¥12,000: the number is still 12, 12000).
_NO_WORDS = " \u3000+¥￥$"


def number_read(value: object, number_format: str) -> "str | None":
    """The text a returned cell's number is read as where its format shows it scaled or with
    words: the stored number times the section's scale (×100 a percent sign, ÷1000 a comma
    after the last digit), every digit kept (never the rounded digits shown), with the
    section's literal text where it stands (0.85 in 0% → 「85%」, 1234 in #,##0"人" →
    「1234人」, 1234000 in #,##0,"千円" → 「1234千円」). The file's format is the municipality's
    evidence of what the number counts: read alone, 「1,234人」 on a 件 row was 1234 件 and
    「1,234千円」 on a 円 row a thousandth of what was shown; read with its words, the rules of
    units (values.parse_input) judge them as they judge a typed 「1234人」, and words they do
    not know hold the row. A section of words alone is read as its words (1 in
    「"実施";"未実施"」 → 「実施」), except zero's (「0;-0;"－"」 is still 0). None where the number
    is read as it is: no scale and no words (a negative section's own sign marks, a plus or a
    currency sign are none), and the formats number_shown leaves alone, dates and times
    among them."""
    shown_by = _shown_by(value, number_format)
    if shown_by is None:
        return None
    signed, pieces = shown_by
    code = _joined(pieces, "code")
    words = _joined(pieces, "lit")
    # a negative section in red with no mark of its own shows the sign by its colour: the
    # number keeps its minus (-12 in 「0"件";[赤]0"件"」, shown a red 12件, was read 「12件」: +12)
    own_sign = value < 0 and not signed and not _red_minus(value, number_format, words)
    stored = Decimal(repr(float(value)))
    stored = abs(stored) if own_sign else stored    # the section's own marks are its sign
    if _rounded_away(code):
        return _read_with_words(stored, pieces, own_sign)
    if _holds_other_parts(code) or _GENERAL in code and "%" in code:
        return None
    if not re.search(r"[0#?]", code) and _GENERAL not in code:     # a section of words alone: 1 in "実施";"未実施" shows 実施
        shown_words = words.strip()
        return shown_words if value != 0 and "%" not in code and shown_words.strip(_NO_WORDS) else None
    if _sign_marks_only(words, own_sign):
        words = ""
    rounded = _rounded(Decimal(repr(float(value))), code)
    if rounded is None:
        return None
    scale = rounded[1]
    if scale == 1 and not words.strip(_NO_WORDS):
        return None
    number = stored * scale
    digits = f"{number.normalize(_EVERY_DIGIT):f}"
    return _with_number(pieces, digits, ("0", "#", "?", _GENERAL))


def _holds_other_parts(code: str) -> bool:
    """Whether a section's code (its literals left out) holds more than a number's digits,
    separators, percent signs and 標準: a date or time part, a text's @, a bracket (a
    condition, an elapsed time) or an exponent or fraction's letter. No number is read from
    it as scaled (number_read, scaled_without_words: the one test of both)."""
    return re.search(r"[ymdhseg/@\[\]]", code.replace(_GENERAL, ""), re.I) is not None


def _rounded_away(code: str) -> bool:
    """Whether a section's number part is scientific (「0.0E+0」) or a fraction (「# ?/?」):
    shown rounded, as text number_shown does not make, with digits (an era's 「e」 has none)
    and no date part."""
    return bool(re.search(r"[0#?]", code) and re.search(r"[eE/]", code)
                and not re.search(r"[ymdhsg@]", code.replace("E", "").replace("e", ""), re.I))


def _sign_marks_only(words: str, own_sign: bool) -> bool:
    """Whether a section's words are only the sign of a negative number it shows without a
    minus sign (「▲」, 「(」 「)」 of 「0;▲0」, 「(0)」): the sign, read as the number's minus
    (number_read takes the number's size), no word."""
    return own_sign and not set(words) - _SIGN_MARKS


def _read_with_words(stored: Decimal, pieces: list[tuple[str, str]], own_sign: bool) -> "str | None":
    """A scientific or fraction section's number read with its words: the stored number
    (``stored``: its size where the section shows the sign itself, ``own_sign``), every
    digit, where its first digit holder stands (12000 in 「0.0E+0"千円"」 → 「12000千円」), None
    where it has no words. Its words were dropped with its text, so 12000 shown 「1.2E+4千円」
    on a 件 row was imported as 12000件 without a word, where 「#,##0"千円"」 was held. The
    exponent's own sign (「E+」), the space of 「# ?/?」 and a negative section's own sign marks
    are no words (-12000 in 「0.00E+00;"▲"0.00E+00」, shown ▲1.20E+04, is the number as
    stored; it was read 「▲-12000」, refused, and the row held)."""
    kept = [(kind, t) for i, (kind, t) in enumerate(pieces)
            if not (kind == "lit" and t in "+-" and i and pieces[i - 1][1] in "eE")]
    words = _joined(kept, "lit")
    if not words.strip(_NO_WORDS + "-") or _sign_marks_only(words, own_sign):
        return None
    return _with_number(kept, f"{stored.normalize(_EVERY_DIGIT):f}", "0#?")


def shows_digits(value: object, number_format: str) -> bool:
    """Whether the section a cell of ``number_format`` shows the number ``value`` by shows
    its digits: not a section of words alone (5 in 「[<10]"10未満";0」 shows 10未満, 1 in
    「"実施";"未実施"」 実施), whose text says nothing of the number stored."""
    shown_by = _shown_by(value, number_format)
    code = _joined(shown_by[1], "code") if shown_by is not None else ""
    return shown_by is None or bool(re.search(r"[0#?]", code)) or _GENERAL in code


def scaled_without_words(value: object, number_format: str) -> "str | None":
    """What a cell shows where the section its number ``value`` (not 0) is shown by scales it
    down by commas after the last digit (「#,##0,」: a thousandth, 「#,##0,,」: a millionth)
    and says so in no word (no 「千」, 「千円」, no percent sign), else None. 12000 in 「#,##0,」
    shows 「12」: number_read takes the shown scale, 「12」, and collect imported 12 on a 件 row
    where the cell holds 12000 (qa-fuzz63), while with its word (「#,##0,"千件"」: 「12千件」) the
    rules of units read 12000 again. Without one, 12 and 12000 are each a guess (SPEC §3), as
    85 in a 0% cell is (findings.PERCENT_FORMATTED_AFTER): collect holds the row
    (findings.SCALED_WITHOUT_WORDS)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value == 0:
        return None
    shown_by = _shown_by(value, number_format or "")
    if shown_by is None:
        return None
    _signed, pieces = shown_by
    code = _joined(pieces, "code")
    words = _joined(pieces, "lit")
    if not re.search(r"[0#?]", code) or "%" in code or _rounded_away(code) or words.strip(_NO_WORDS + "".join(_SIGN_MARKS)):
        return None
    if _holds_other_parts(code) or not _thousands(code):
        return None
    return number_shown(value, number_format)


def shown_without_digits(value: object, number_format: str, date1904: bool = False) -> "str | None":
    """The text a cell of ``number_format`` shows for the number ``value`` where it shows no
    digit of it, else None. Two ways: the section it is shown by (by sign or condition) is
    empty or blank (「;;;」 for any number, 「0;;」 for a negative one, 「0;-0;;@」 for zero:
    「」), or its digit holders are all 「#」 or 「?」 and the number rounds to none of them
    (0.3 in 「#"千円"」 shows 「千円」, 0.4 in 「#」 or 「#,###」 「」, 0.04 in 「#.#」 「.」, 300 in
    「#,###,」 「」, 0.001 in 「#%」 「%」). The file holds a number the form does not show: read
    as 「0.3千円」 it was imported as 300 円 that nobody at the municipality could see.

    Not this class (None): a section that shows a digit, even one rounded to 「0」 (0.3 in
    「0」, 300 in 「#,##0,」, 0.04 in 「0.#」 「0.」): ordinary rounding, as precision as
    displayed keeps it; a section of words alone (「"実施";"未実施"」, 「[<10]"10未満";0」), which
    is read as its words (number_read); 標準, dates and times, scientific and fractions.
    A date or time format shows 「#####」 for a number Excel has no date for (shows_hashes:
    -0.5 in h:mm, a 実施状況 that arrived as 「-0.5」 where the municipality saw no value).
    The one rule of a number nobody sees (collect's findings.HIDDEN_NUMBER); ``date1904``:
    the book counts its dates from 1904."""
    if shows_hashes(value, number_format, date1904):
        return "#####"
    shown_by = _shown_by(value, number_format)
    if shown_by is None:
        return None
    _signed, pieces = shown_by
    code = _joined(pieces, "code")
    if not re.search(r"[0#?]", code) and _GENERAL not in code:
        return None if "".join(t for _kind, t in pieces).strip() else ""
    if _GENERAL in code or _is_date_code(code) or _rounded_away(code):
        return None
    number = _number_text(value, code.replace("[", "").replace("]", ""))     # type: ignore[arg-type]
    if number is None or re.search(r"\d", number):
        return None
    return number_shown(value, number_format) or ""


def date_shown(value: object, number_format: str, date1904: bool = False) -> "object | None":
    """The date (or date and time) a number python-calamine handed over as a number shows in
    a cell of an era format (「ggge"年"」 令和5年 for 45017, 「ge」, 「[$-ja-JP]ggge"年"」) or of
    a format that shows some numbers as dates and others not (shows_date_by_number: 5 in
    「[>=100]0;yyyy/m/d」), as python-calamine hands over a date-formatted cell (a date, or a
    date-time where the day has a time); None for another format, a number another section
    shows (150 in 「[<100]ggge"年";0」 shows 150: shows_date_for) or one Excel has no date for
    (it shows #####: shows_hashes). python-calamine knows no era part and converts a number
    by the first section alone: a 実績値 showing 令和5年 was imported as 45017, where a cell
    showing 2023/4/1 is refused as a date. The return's reader gives the date, and the cell
    is judged as every date-formatted cell is."""
    import datetime as dt

    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not is_era_format(number_format) and not shows_date_by_number(number_format):
        return None
    if not shows_date_for(value, number_format):
        return None
    moment = _moment(float(value), date1904)
    if moment is None:
        return None
    when = moment[1]
    if not date1904 and value < 60:
        # python-calamine's count below Excel's fictitious 1900-02-29 (serial 60, which it
        # reads as the 28th, as this count does): a time of day below 1, and serials 1-59
        # from 1899-12-31, the dates Excel shows (excel.book.as_file_reads reads so too)
        if value < 1:
            return when.time()
        when += dt.timedelta(days=1)
    return when.date() if when.time() == dt.time() else when


def shows_date_by_number(number_format: str) -> bool:
    """Whether a cell of ``number_format`` shows some numbers as dates or times and others
    not, by their sign or a condition (「[<100]yyyy/m/d;0」, 「yyyy/m/d;;0」, 「[>=100]0;yyyy/m/d」).
    python-calamine converts every number of a cell by the format's first section (150 in
    「[<100]yyyy/m/d;0」, shown 150, arrives as 1900-05-29; 5 in 「[>=100]0;yyyy/m/d」, shown
    1900/1/5, as 5): the return's reader asks shows_date_for of each number such a cell holds."""
    fmt = number_format or ""
    if len(fmt) > FORMAT_CHARS or ";" not in fmt and "[" not in fmt:
        return False
    sections = _number_sections(_sections(fmt))
    dated = {_is_date_code(_joined(_pieces(section), "code")) for section in sections}
    return True in dated and (False in dated or any(_condition(section) for section in sections[:2]))


def is_era_format(number_format: str) -> bool:
    """Whether a date format shows an era (g, e: 「ggge"年"」), which python-calamine does not
    read as a date (date_shown)."""
    if not shows_date(number_format):
        return False
    code = _joined(_pieces(_sections(number_format)[0]), "code")
    return re.search(f"[{ERA_LETTERS}]", code, re.I) is not None


def shows_hashes(value: object, number_format: str, date1904: bool = False) -> bool:
    """Whether Excel shows ##### for the number ``value`` in a cell of ``number_format``: the
    section it is shown by is a date or a time (shows_date_for) and the number one it has no
    date for (below 0, or past 9999-12-31 by the book's count: _moment). The municipality
    saw no value there; the file holds the number (python-calamine's reading is put back to
    it: workbook.sheet_form.note_negative). A 1904 book shows a negative time with its sign,
    so only the far end counts there."""
    if not shows_date_for(value, number_format):
        return False
    if date1904 and value < 0:
        return False
    return _moment(float(value), date1904) is None   # type: ignore[arg-type]


def shows_date_for(value: object, number_format: str) -> bool:
    """Whether a cell of ``number_format`` shows the number ``value`` as a date or a time: the
    section its sign or a condition chose is one (_section_for, as number_shown chooses).
    shows_date asks the first section, which says what kind of cell it is; a number another
    section takes is shown by that one: -61 in 「[mm]:ss;[Red]#」 shows a red 61 and -5 in
    「yyyy/m/d;0.00」 5.00, where the first section's ##### was said (collect held such a number
    as shown nowhere), and -5 in 「0.00;yyyy/m/d」 has no date to show. A format whose section
    is not chosen here (a condition on the second alone) is judged by its first section."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return False
    shown_by = _shown_by(value, number_format)
    if shown_by is None:
        return shows_date(number_format)
    return _is_date_code(_joined(shown_by[1], "code"))


def shows_date(number_format: str) -> bool:
    """Whether a cell of ``number_format`` shows a number as a date or a time (「1:05:00」
    typed is the serial 0.0451388888888889 in such a cell)."""
    fmt = number_format or ""
    if len(fmt) > FORMAT_CHARS:
        return False
    section = _sections(fmt)[0]
    code = _joined(_pieces(section), "code")
    return _is_date_code(code) and fmt.strip().lower() not in _GENERAL_NAMES


# A section that shows a number as the number it is, rounded at most: digit holders with
# thousands separators inside them and decimals, a sign or parentheses, a colour, a space's
# width (「_)」). 「#,##0」, 「0.0」, 「#,##0;[Red]-#,##0」, 「0_);(0)」 are such; a comma after the last
# digit (「0,」: ÷1000), quoted words, a condition, a section without a digit are not.
_PLAIN_SECTION = LazyPattern(r"(?:\[(?:black|blue|cyan|green|magenta|red|white|yellow|color\s*\d+)\]|_.)*"
                             r"[-+()▲△ ]*(?:_.)*[#,]*0+(?:\.[0#]*)?(?:_.|[ )])*", re.I)


def plain_format(number_format: "str | None") -> bool:
    """Whether every number a cell of ``number_format`` holds is shown as that number,
    rounded at most (標準, 文字列, 「#,##0」, 「0.0」, 「0;▲0」 ...): then shown_otherwise and
    percent_shown say nothing of it, whatever the number. The faces ask this of each cell
    format once (workbook.sheet_checks.shown_styles, the saved master's on the server, the
    desktop's answers from Excel), so that only the cells of the other formats are looked at
    one by one: a master of plain formats costs a look at its styles part, as before. Wrong
    only one way: a format counted here as not plain that shows numbers as they are costs a
    look at its cells, no finding."""
    fmt = (number_format or "").strip()
    if not fmt or fmt.lower() in (*_GENERAL_NAMES, "@", "標準"):
        return True
    if len(fmt) > FORMAT_CHARS:
        return False
    sections = _sections(fmt)
    if len(sections) > 4:
        return False
    numbers = _number_sections(sections)
    return all(s.strip() == "@" for s in sections[len(numbers):]) and all(
        (_PLAIN_SECTION.fullmatch(s) or (i == 1 and _PLAIN_SECTION.fullmatch(s.replace("▲", "").replace("△", ""))))
        and _keeps_sign(i, s, len(numbers))
        for i, s in enumerate(numbers))


# The marks a cell shows a number's minus sign by (the value reader reads each as one:
# values.parse_input), a pair of parentheses counting once.
_MINUS_MARKS = frozenset("▲△") | MINUS_SIGNS
_RED = LazyPattern(r"\[(?:red|赤)\]", re.I)


def _keeps_sign(i: int, section: str, count: int) -> bool:
    """Whether a plain section (plain_format) shows its numbers with the sign they have: the
    first section (the one for every number of a format of one section) with no minus mark
    or parenthesis, a negative section (the second) with one or in red (Japanese Excel's
    「[赤]1234」 choice for negatives). 「▲0」 showed 12 as ▲12, and 「0;0」 -12 as 12."""
    bare = _PADDING.sub("", section)
    if i == 0:
        return _MINUS_MARKS.isdisjoint(bare) and "(" not in bare
    if i == 1 and count > 1:
        return not _MINUS_MARKS.isdisjoint(bare) or "(" in bare or _RED.search(section) is not None
    return True


_PADDING = LazyPattern(r"_.|\[[^\]]*\]")


def sign_shown_otherwise(value: object, number_format: str) -> "str | None":
    """What a cell of ``number_format`` shows for the nonzero number ``value`` where it shows
    it with another sign than the number has, else None: a minus mark the section adds to a
    positive number (12 in 「"▲"0」 or 「▲0」 shows ▲12, in 「-0」 -12, in 「(0)」 (12)), two of them
    on a negative one (-12 in 「"▲"0」 shows -▲12), none on a negative one (-12 in 「0;0」 shows
    12; a red section is Japanese Excel's own choice for a negative, 「[赤]12」). A number shown
    as zero has no sign to show; the marks of an exponent (「1.2E-03」) are none.

    Why: staff read ▲12 as minus twelve and the cell was judged on +12 in silence (the sign
    marks were taken for no words, whatever the number's sign; qa-values64). The one rule of
    the sign shown: shown_otherwise refuses such a cell, and plain_format does not call a
    format plain that may show one (_keeps_sign)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value or value != value:
        return None
    fmt = _made_format(value, number_format)
    chosen = _section_for(value, _sections(fmt)) if fmt is not None else None
    if chosen is None:
        return None
    code = _joined(_pieces(chosen[0]), "code")
    if _is_date_code(code) or not re.search(r"[0#?]", code):
        return None
    shown = number_shown(value, number_format)
    if shown is None and _rounded_away(code):
        pieces = _pieces(chosen[0])
        shown = _scientific_text(value, pieces, chosen[1])
        shown = _fraction_text(value, pieces, chosen[1]) if shown is None else shown
    if shown is None or not re.search(r"[1-9]", shown):
        return None
    marks = re.sub(r"[eE][-+]", "", shown)
    count = sum(ch in _MINUS_MARKS for ch in marks) + ("(" in marks and ")" in marks)
    if not count and _red_minus(value, number_format, marks):
        count = 1
    return shown if count != (value < 0) else None


def _red_minus(value: float, number_format: str, shown: str) -> bool:
    """Whether a cell shows the negative number ``value`` with its sign by colour alone: the
    section it is shown by is red (Japanese Excel's 「[赤]1234」 choice for negatives) and
    ``shown`` (its text, or its words) carries no minus mark or parenthesis. The one reading
    of a red sign: sign_shown_otherwise counts it as the number's sign, and number_read keeps
    the number's minus for it (a red 12件 for -12 was read 「12件」, +12)."""
    if not isinstance(value, (int, float)) or value >= 0 or not _MINUS_MARKS.isdisjoint(shown) or "(" in shown:
        return False
    fmt = _made_format(value, number_format)
    chosen = _section_for(value, _sections(fmt)) if fmt is not None else None
    return chosen is not None and _RED.search(chosen[0]) is not None


def _scientific_text(value: float, pieces: list[tuple[str, str]], signed: bool) -> "str | None":
    """The text Excel shows for the nonzero number ``value`` by a scientific section (its
    ``pieces``; ``signed``: the section shows the number's minus sign): the mantissa's whole
    digits, as many as it has whole digit holders at most, its decimals as its holders say
    (_number_text), then E, the exponent's sign (「E+」 shows + or -, 「E-」 only -) and its
    digits, at least as many as its 0s (12 in 「"▲"0.00E+00」 shows ▲1.20E+01, 0.0012 in
    「0.0E-0」 1.2E-3). With more than one whole holder the exponent is a multiple of their
    count (「##0.0E+0」, engineering notation, ECMA-376's built-in format 48: 12345 shows
    12.3E+3, 0.0012 1.2E-3), as OpenOffice's number formatter documents it (issue 5930:
    "###.0E+00", "##0.0E+00" and "000.0E+00" all force multiples of 3) and ICU's engineering
    notation does. Microsoft documents no rule; one report of Excel (xaprb.com, 2005) saw
    「00.00E+00」 keep multiples of four, so the digits quoted of a mantissa of 0s alone may
    differ from Excel's; its sign, all this text is asked for, does not. None for what is
    not made here: a fraction, or a mantissa scaled (「%」, a trailing comma).

    Why only for sign_shown_otherwise: 12 in 「"▲"0.00E+00」 shows ▲1.20E+01 and was judged on
    +12 (no text was made, so no sign was seen; qa-values64b), and 12 in 「"▲"##0.0E+0」 still
    was (qa-values64c). number_shown leaves scientific alone, and its readers read such a
    cell with its words (number_read) every digit kept."""
    at = next((i for i, (kind, t) in enumerate(pieces) if kind == "code" and t in "eE"), None)
    if at is None:
        return None
    mantissa = _joined(pieces[:at], "code")
    exponent = _joined(pieces[at + 1:], "code")
    plus = at + 1 < len(pieces) and pieces[at + 1] == ("lit", "+")
    whole = mantissa.partition(".")[0]
    step = len(re.findall(r"[0#?]", whole))
    if (not step or re.search(r"[^0#?.]", mantissa)
            or not exponent or re.search(r"[^0#?]", exponent)):
        return None
    size = abs(Decimal(repr(float(value))))
    power = size.adjusted() // step * step              # 12345 in 「##0.0E+0」: 12.3E+3
    rounded = _rounded(size.scaleb(-power), mantissa)
    if rounded is not None and rounded[0] >= 10 ** step:     # 9.996 in 「0.00E+00」: 1.00E+01
        power += step
        rounded = _rounded(size.scaleb(-power), mantissa)
    digits = _number_text(float(size.scaleb(-power)), mantissa) if rounded is not None else None
    if digits is None:
        return None
    power_text = ("-" if power < 0 else "+" if plus else "") + str(abs(power)).zfill(exponent.count("0"))
    out, placed = [], False
    for i, (kind, t) in enumerate(pieces):
        if i == at:
            out.append(t + power_text)
        elif kind == "lit" and not (i == at + 1 and t in "+-"):
            out.append(t)
        elif kind == "code" and i < at and not placed and t in "0#?":
            out.append(digits)
            placed = True
    return (("-" if signed else "") + "".join(out)).strip()


def _fraction_text(value: float, pieces: list[tuple[str, str]], signed: bool) -> "str | None":
    """The text Excel shows for the number ``value`` by a fraction section (its ``pieces``;
    ``signed``: the section shows the number's minus sign): the whole number where the
    section has a digit holder before the numerator's (「# ?/?」: 1.5 shows 1 1/2; 「?/?」 3/2),
    then the nearest fraction whose denominator has at most as many digits as its holders
    (「?/?」 up to 9, 「??/??」 99), or the fixed one written (「# ?/8」: 1.3 shows 1 2/8); a
    fraction rounded to nothing beside a whole number is not shown. Microsoft's 「Number
    format codes」 gives 「# ???/???」 showing 1.25 as 1 1/4 and 「# ?/?」 for fractions; the
    padding spaces ? holders add are left out (the sign is what this text is asked for).
    None for a section of another shape (a scale, several slashes).

    Why: 1.5 in 「"▲"# ?/?」 shows ▲1 1/2 and was judged on +1.5 (no text was made, so no
    sign was seen; qa-values64c). Only sign_shown_otherwise asks it, as _scientific_text."""
    import math
    from fractions import Fraction

    at = next((i for i, (kind, t) in enumerate(pieces) if kind == "code" and t == "/"), None)
    codes = _joined(pieces, "code")
    if at is None or codes.count("/") != 1 or re.search(r"[^0#? /]", codes):
        return None
    after, k = pieces[at + 1:], 0
    while k < len(after) and after[k][0] == "code" and after[k][1] in "0#?":
        k += 1
    if k:
        fixed, tail = None, after[k:]
    else:
        while k < len(after) and after[k][0] == "lit" and after[k][1].isdigit():
            k += 1
        fixed, tail = (int("".join(t for _kind, t in after[:k])) if k else None), after[k:]
        if not fixed:
            return None
    start = at
    while start and pieces[start - 1][0] == "code" and pieces[start - 1][1] in "0#?":
        start -= 1
    if start == at:
        return None
    head = pieces[:start]
    first = next((i for i, (kind, t) in enumerate(head) if kind == "code" and t in "0#?"), None)
    size = Fraction(Decimal(repr(abs(float(value)))))
    whole = math.floor(size) if first is not None else 0
    rest = size - whole
    if fixed is None:
        near = rest.limit_denominator(10 ** k - 1)
    else:
        near = Fraction(math.floor(rest * fixed + Fraction(1, 2)), fixed)
    if first is not None and near == 1:
        whole, near = whole + 1, Fraction(0)
    if first is None:
        number = f"{near.numerator}/{near.denominator if fixed is None else fixed}"
        lead = head
    else:
        holders = _joined(head[first:], "code")
        whole_text = str(whole) if whole or "0" in holders else ""
        fraction = (f"{near.numerator * (fixed or near.denominator) // near.denominator}/{fixed or near.denominator}"
                    if near else "")
        number = " ".join(t for t in (whole_text, fraction) if t) or "0"
        lead = head[:first]
    return (("-" if signed else "") + _joined(lead, "lit") + number + _joined(tail, "lit")).strip()


def shown_otherwise(value: object, number_format: str, date1904: bool = False) -> "str | None":
    """What a cell of ``number_format`` shows for the number ``value`` where a reader of the
    stored number alone would take another value than the one the cell shows, and no reading
    of it as shown is made: words around it (17 in 「"約"0」 shows 約17, in 「0"以上"」 17以上),
    a section of words alone (17 in 「[<100]"100未満";0」: 100未満), a scale (17 in 「0,」: 0),
    no digit at all (「;;;」: 「」, as shown_without_digits; a 0 so hidden is 0), or ##### (a
    number Excel has no date for), another sign than it has (sign_shown_otherwise, a
    percentage's too). None where it shows the number (rounded at most: 「0.0」,
    「#,##0」), a percentage (read as it shows: core.percent_cells), a date or time, a
    scientific or fraction section without words, or a sign mark of its own (「0;▲0」).

    Why: the master's readers read the stored number, and a 実績値 of 17 shown 約17 or
    100未満 or nothing was judged on 17 without a word (qa-values63). A returned file is read
    with its words (number_read) because the rules of units judge a municipality's typed
    text; on the master the staff's own cell is refused, naming what it shows, so that the
    staff decide (findings.SHOWN_OTHERWISE). One rule for every face: each supplies only the
    format of the cells asked (core.percent_cells.PercentFormats)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return None
    if shows_hashes(value, number_format, date1904):
        # a negative one is refused as negative, naming the number (values.parse_input)
        return "#####" if value >= 0 else None
    if plain_format(number_format) or shows_date_for(value, number_format):
        return None
    if value != 0 and (hidden := shown_without_digits(value, number_format, date1904)) is not None:
        return hidden
    if (signed := sign_shown_otherwise(value, number_format)) is not None:
        # before the percentage: -0.5 in 「0%;0%」 shows 50% and was read so, as 50%; which
        # the staff meant, the -50% held or the 50% shown, is a guess as for -12 in 「0;0」
        # (core.percent_cells.percent_read does not read it: qa-values64c)
        return signed
    if percent_shown(value, number_format, date1904) is not None:
        return None
    words = number_read(value, number_format)
    if words is None:
        return None
    # the number itself, with a currency sign or a sign mark at most (「"¥"#,##0;"¥"\-#,##0」),
    # or a scale that leaves it as it is (0 in 「0,」): no other value is read from it
    bare = "".join(ch for ch in words if ch not in _NO_WORDS and ch not in _SIGN_MARKS and ch != ",")
    try:
        if Decimal(bare) == abs(Decimal(repr(float(value)))):
            return None
    except InvalidOperation:
        pass
    return number_shown(value, number_format, date1904) or words

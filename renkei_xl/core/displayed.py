"""A number as Excel keeps it in a book set to 「表示桁数で計算する」 (precision as displayed:
workbook.xml's calcPr fullPrecision="0", VBA's Workbook.PrecisionAsDisplayed).

Excel then stores every number entered into a cell rounded to what the cell's number format
shows (「12.345」 into a cell of 0.0 is kept as 12.3), so a value the buttons write is
rounded by Excel itself as it arrives. The file face writes the number into the file, where
nothing rounds it: the same 回収 gave 12.345 on the command line and 12.3 through a button,
and each judged its own. So the file face stores what Excel would keep (``as_displayed``),
by the format the cell has as the number arrives (workbook.apply._as_displayed).

Hand-written because no kept Python library rounds by an Excel number format; it reads the
part of a format that decides the shown digits: the section for the sign, its decimals, its
percent signs (×100 each) and the thousands commas after the last digit (÷1000 each).
Formats it does not model (General, which shows a number as it is; dates and times;
scientific; fractions; text; sections chosen by a condition) leave the number as it is. Rounding is half away from zero,
as Excel's, from the shortest repr (1.005 → 1.01, as shown).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

# Quoted text, an escaped or repeated/padding character, and [colour]/[condition]/[locale].
_LITERALS = re.compile(r'"[^"]*"|\\.|[_*].|\[[^\]]*\]')
_UNMODELLED = re.compile(r"[yYmMdDhHsSeEgGaA/@]|午前|午後")
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


def as_displayed(value: float, number_format: str) -> float:
    """``value`` rounded as Excel keeps it under precision as displayed in a cell of
    ``number_format``; the value itself where the format is not a plain number format."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return value
    if len(number_format or "") > FORMAT_CHARS:
        return value
    if re.search(r"\[[<>=]", number_format or ""):     # sections chosen by condition, not sign
        return value
    sections = _sections(number_format or "General")
    section = sections[1] if value < 0 and len(sections) > 1 else sections[0]
    bare = _LITERALS.sub("", section)
    if not bare.strip() or _UNMODELLED.search(bare) or not re.search(r"[0#?]", bare):
        return value
    whole, _, fraction = bare.partition(".")
    decimals = len(re.findall(r"[0#?]", fraction))
    last_digit = max(bare.rfind(ch) for ch in "0#?")
    thousands = len(re.match(r",*", bare[last_digit + 1:]).group(0))
    scale = Decimal(100) ** bare.count("%") / Decimal(1000) ** thousands
    try:
        shown = (Decimal(repr(value)) * scale).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP,
                                                         context=_EVERY_DIGIT)
    except InvalidOperation:
        # More digits than _EVERY_DIGIT (1e300 under 30 decimals, 200 percent signs): the
        # place rounded is far below a float's 17 digits, so Excel keeps the value as it is.
        return value
    out = float(_EVERY_DIGIT.divide(shown, scale)) or 0.0      # never −0.0
    return int(out) if isinstance(value, int) and out == int(out) else out


def percent_shown(value: object, number_format: str) -> "str | None":
    """The text a cell of ``number_format`` shows for the number ``value`` when the format
    shows it as a percentage (「0%」: 0.855 shows 86%), else None. Excel and Calc store 85%
    typed into a 標準 cell as 0.85 and give the cell such a format, so a text read from the
    value alone (「0.85」) is not what the municipality typed or saw."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return None
    if len(number_format or "") > FORMAT_CHARS or re.search(r"\[[<>=]", number_format or ""):
        return None
    sections = _sections(number_format or "General")
    section = sections[1] if value < 0 and len(sections) > 1 else sections[0]
    bare = _LITERALS.sub("", section)
    if "%" not in bare or _UNMODELLED.search(bare) or not re.search(r"[0#?]", bare):
        return None
    decimals = len(re.findall(r"[0#?]", bare.partition(".")[2]))
    try:
        scaled = (Decimal(repr(float(value))) * Decimal(100) ** bare.count("%")).quantize(
            Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP, context=_EVERY_DIGIT)
    except InvalidOperation:     # more digits than _EVERY_DIGIT: no text Excel shows whole
        return None
    sign = "-" if scaled < 0 and len(sections) < 2 else ""
    return f"{sign}{abs(scaled)}%"

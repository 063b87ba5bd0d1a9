"""Fiscal years (年度, April–March) and Japanese era dates.

Staff write dates in several forms inside the list: 和暦 abbreviations (R5.10/10, R6.1.20,
R6.2月, Ｒ５), spelled-out eras (令和5年度, 令和元年), and Western forms (2024-03-31,
2024/3/31). python-dateutil handles the Western forms; it knows no Japanese eras and
japanera does not read the abbreviated ``R5.10/10`` form, so the era part is done here
with one small table.
"""

# No ``from __future__ import annotations``: typing.NamedTuple compiles each string
# annotation (a ForwardRef) when the module is imported, at every command's start.

import datetime as dt
import re
import unicodedata
from typing import NamedTuple, Optional

# First Gregorian year of each era (year 1 = 元年).
ERAS = {"令和": 2019, "平成": 1989, "昭和": 1926, "R": 2019, "H": 1989, "S": 1926}

FISCAL_YEAR_START_MONTH = 4


class DateParseError(ValueError):
    """The text is not a date we can read; the message says why, in Japanese."""


class PartialDate(NamedTuple):
    """A date that may lack its day (R6.2月) or its month (令和5年)."""
    year: int
    month: Optional[int] = None
    day: Optional[int] = None

    def to_date(self) -> dt.date:
        """The last day the partial date can mean, so deadlines are generous."""
        if self.month is None:
            return dt.date(self.year, 12, 31)
        if self.day is None:
            nxt = dt.date(self.year + (self.month == 12), self.month % 12 + 1, 1)
            return nxt - dt.timedelta(days=1)
        return dt.date(self.year, self.month, self.day)

    @property
    def fiscal_year(self) -> int:
        if self.month is None:
            raise DateParseError(f"{self.year}年の月が分からないため年度を決められません")
        return fiscal_year_of(dt.date(self.year, self.month, 1))


def fiscal_year_of(day: dt.date) -> int:
    """年度 of a date: April 2023 – March 2024 is 2023年度."""
    return day.year if day.month >= FISCAL_YEAR_START_MONTH else day.year - 1


def fiscal_year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 4, 1), dt.date(year + 1, 3, 31)


def status_date(year: int, base_date: Optional[dt.date]) -> dt.date:
    """The day a year's figures are as of: 設定's 基準日, or the 年度's last day when it has
    none, as 一覧's 「（３月末時点）」 header says (contract.status_head). A deadline written to
    the month is judged against it (rules), and a new master's 設定 is filled with it."""
    return base_date or fiscal_year_bounds(year)[1]


def era_year(era: str, year_text: str) -> int:
    n = 1 if year_text == "元" else int(year_text)
    if n < 1:
        raise DateParseError(f"{era}{year_text}年は存在しません")
    return ERAS[era] + n - 1


_ERA_NAMES = "|".join(ERAS)        # 令和|平成|昭和|R|H|S
_ERA = rf"(?P<era>{_ERA_NAMES})\s*(?P<y>元|\d{{1,2}})"
# A year in an era as it starts a text already normalised (values: where a deadline starts).
ERA_YEAR = rf"(?:{_ERA_NAMES})(?:元|\d{{1,2}})"
# The era forms are compiled on first use (re's own cache), not at import: most masters
# never write an era, and the three cost 0.7 ms of every command's start.
_ERA_FY = rf"^{_ERA}\s*年度$"
_ERA_FULL = rf"^{_ERA}\s*年(?:\s*(?P<m>\d{{1,2}})\s*月(?:\s*(?P<d>\d{{1,2}})\s*日)?)?$"
# R5.10/10, R6.1.20, R6.2月, R6.2
_ERA_ABBR = rf"^{_ERA}\s*[.．](?P<m>\d{{1,2}})(?:\s*月|[./](?P<d>\d{{1,2}}))?$"
_WESTERN_FY = re.compile(r"^(?P<y>\d{4})\s*年度$")


def _quoted(text: str) -> str:
    """``text`` as a refusal quotes it: on one line (line_breaks.one_line, values.shown's rule;
    values imports this module, so not shown itself)."""
    from .line_breaks import one_line

    return one_line(text)


def _nfkc(text: str) -> str:
    """The text normalised for the patterns, its digits checked first: every pattern here
    reads ``\\d``, which takes any script's digits, and NFKC folds 「𝟮」 or 「²」 into 2, so
    「٢٠٢٣年度」 or 「R٥.3.31」 was read as a year or a date in silence (core.digits:
    the one rule of which characters are digits)."""
    if not text.isascii():
        from .digits import odd_digit

        odd = odd_digit(text)
        if odd is not None:
            raise DateParseError(f"「{_quoted(text.strip())}」の「{odd}」（U+{ord(odd):04X}）は数字として読めません。"
                                 "半角か全角の数字（0～9、０～９）で入力してください")
    return unicodedata.normalize("NFKC", text).strip()


def parse_fiscal_year(text: str) -> int:
    """「令和５年度」「R5年度」「2023年度」 → 2023."""
    t = _nfkc(text)
    m = _WESTERN_FY.match(t)
    if m:
        return int(m.group("y"))
    m = re.match(_ERA_FY, t)
    if m:
        return era_year(m.group("era"), m.group("y"))
    raise DateParseError(f"「{_quoted(text)}」を年度として読めません（例: 2023年度、令和5年度）")


YEAR_EXAMPLES = "2023、2023年度、令和5年度、R5"


def staff_year(text: str) -> int:
    """A 年度 standing alone as staff write one, in a --year option, a history CSV's 年度
    column or a 経年 header: four digits (「2023」「２０２３」), 「2023年度」, 「令和5年度」「令和5」
    「R5」「Ｒ５年度」 (元 too). One rule for every such reader: the command line took 「𝟮𝟬𝟮𝟯」
    as 2023 and 「+2023」 as a year while a history CSV refused both, so one spelling was a year
    in one place and not in the other. A number of other length is no year (「5」 may mean
    令和5 or nothing; a 経年 header 「5 実績値」 is staff's own column); the range is the caller's.
    Raises DateParseError, its message naming the text and the forms."""
    t = _nfkc(text)        # 「٢٠٢٣」「𝟮𝟬𝟮𝟯」 refused here, naming the character
    if re.fullmatch(r"[0-9]{4}", t):
        return int(t)
    try:
        return parse_fiscal_year(t if t.endswith("年度") else f"{t}年度")
    except DateParseError:
        raise DateParseError(f"「{_quoted(text.strip())}」を年度として読めません（例: {YEAR_EXAMPLES}）") from None


# A year as staff write it inside a name (a file, a folder): 2023, ２０２３, 令和5, 令和元, R5, Ｒ５,
# 平成31. The era letters stand alone (not inside a word such as 「MASTER5」), and the digits
# end where the digits end, so 「120231」 holds no 2023.
_YEAR_IN_NAME = (r"(?P<era>令和|平成|昭和|(?<![A-Za-zＡ-Ｚａ-ｚ])[RHSＲＨＳ])(?P<sep>[ 　]?)"
                 r"(?P<n>元|[0-9０-９]{1,2})(?![0-9０-９])"
                 r"|(?<![0-9０-９])(?P<western>[0-9０-９]{4})(?![0-9０-９])")
_FULL_WIDTH = 0xFEE0          # ｒ − r: the distance from ASCII to its full-width form


def era_of(year: int) -> tuple[str, str, int]:
    """(era, its letter, the year in it) of a Gregorian year, from ERAS: 2024 → (令和, R, 6).
    A fiscal year takes the era of its April, so 2019 is 令和元年度, not 平成31年度."""
    name = max((n for n in ERAS if len(n) > 1 and ERAS[n] <= year), key=ERAS.get)
    letter = next(n for n in ERAS if len(n) == 1 and ERAS[n] == ERAS[name])
    return name, letter, year - ERAS[name] + 1


def moved_year(text: str, old: int, new: int) -> str:
    """``text`` with every year that means ``old`` written as ``new`` in the same form:
    「令和5年度」 → 「令和6年度」, 「R5」 → 「R6」, 「Ｒ５」 → 「Ｒ６」, 「２０２３」 → 「２０２４」,
    「2023」 → 「2024」. Why: staff name their files and folders the way they write the year, and
    a next year's name that still carries the old year (「令和5年度_…_2024年度」) is taken for the
    old master. The era is the new year's own: 「平成31年度」 (2019) → 「令和2年度」, 「H30」 → 「R1」;
    a spelled-out era writes its first year 元 (「令和元年度」), a letter writes 1. Years meaning
    anything else are left as they are (「H5」 in a 2023 name is 1993, not this year), and so
    are the ends of a period (_ranged: 「2022〜2026年度」 is a plan's, whose 2022 the FY2022
    master's next name and work folder made 「2023〜2026年度」)."""
    found = list(re.finditer(_YEAR_IN_NAME, text))
    period = {k for i in range(1, len(found)) if _ranged(text, found[i - 1], found[i]) for k in (i - 1, i)}
    out, at = [], 0
    for i, m in enumerate(found):
        out += [text[at:m.start()], m.group(0) if i in period else _moved(m, old, new)]
        at = m.end()
    return "".join(out) + text[at:]


def _moved(m: "re.Match[str]", old: int, new: int) -> str:
    """One year of moved_year's text, moved from ``old`` to ``new`` in the form it has."""
    western = m.group("western")
    if western is not None:
        return _like(str(new), western) if int(_nfkc(western)) == old else western
    era, n = m.group("era"), m.group("n")
    try:
        if era_year(_nfkc(era), _nfkc(n)) != old:
            return m.group(0)
    except DateParseError:
        return m.group(0)
    name, letter, number = era_of(new)
    if len(era) > 1:
        return name + m.group("sep") + ("元" if number == 1 else _like(str(number), n))
    if era != _nfkc(era):
        letter = chr(ord(letter) + _FULL_WIDTH)
    return letter + m.group("sep") + _like(str(number), n)


def named_fiscal_years(text: str) -> set[int]:
    """The fiscal years ``text`` names as such (「2024年度」「令和6年度」「Ｒ６年度」): a file
    name's year as staff read it. A year without 年度 after it is left out (「R6.3.31時点」
    is a day of FY2023, 「2025年3月修正」 a month), unless it opens a range whose end has it:
    「2022〜2026年度」 (a plan's period) names two years, not 2026 alone."""
    years: set[int] = set()
    before = None          # the year just before, and its match
    for m in re.finditer(_YEAR_IN_NAME, text):
        year = _named_year(m)
        if _nfkc(text[m.end():]).lstrip(" ").startswith("年度") and year is not None:
            years.add(year)
            if before is not None and _ranged(text, before[1], m):
                years.add(before[0])
        before = (year, m) if year is not None else None
    return years


def named_year(file_name: str) -> Optional[int]:
    """The one fiscal year a file's name gives (「さっぽろ圏_R6年度_マスター.xlsx」: 2024), None
    when it gives none or several (a plan's period: 「第2期_2022年度〜2026年度_マスター」). The
    one reading of it: init takes it for a new master's 対象年度, and every command and
    button refuses a master whose 対象年度 it contradicts (contract_read.year_name_refusal)."""
    stem = file_name.rpartition(".")[0] or file_name
    named = named_fiscal_years(stem)
    return next(iter(named)) if len(named) == 1 else None


def _ranged(text: str, start: "re.Match[str]", end: "re.Match[str]") -> bool:
    """Whether two years found one after the other in ``text`` are the ends of a period
    (「2022〜2026年度」「令和4年度～令和8年度」): only a range mark between them, 年度 after the
    second. One rule for the years a name names (named_fiscal_years) and those moved on."""
    return (_nfkc(text[start.end():end.start()]).strip(" ").removeprefix("年度") in _RANGE_MARKS
            and _nfkc(text[end.end():]).lstrip(" ").startswith("年度"))


# What stands between the two years of a range (after NFKC: 「～」 is "~", 「－」 "-").
_RANGE_MARKS = frozenset({"〜", "~", "-", "ー", "‐", "–", "—", "から"})


def _named_year(m: re.Match) -> Optional[int]:
    western = m.group("western")
    try:
        return int(_nfkc(western)) if western is not None else era_year(_nfkc(m.group("era")), _nfkc(m.group("n")))
    except DateParseError:
        return None


def _like(digits: str, written: str) -> str:
    """``digits`` in full width when the year they replace was written so, and as wide when
    it was written with a leading zero (「R05」 → 「R06」, not 「R6」: staff who pad their years
    sort their files and folders by them)."""
    if written[:1] in ("0", "０"):
        digits = digits.zfill(len(written))
    if any("０" <= ch <= "９" for ch in written):
        return "".join(chr(ord(d) + _FULL_WIDTH) for d in digits)
    return digits


def parse_date(text: str) -> PartialDate:
    """Read one date written the way staff write them; raise DateParseError otherwise."""
    t = _nfkc(text)
    if not t:
        raise DateParseError("日付が空です")
    for pattern in (_ERA_ABBR, _ERA_FULL):
        m = re.match(pattern, t)
        if m:
            year = era_year(m.group("era"), m.group("y"))
            month = int(m.group("m")) if m.group("m") else None
            day = int(m.group("d")) if m.groupdict().get("d") else None
            return _checked(text, year, month, day)
    if re.match(r"^\d{4}\s*年(\s*\d{1,2}\s*月(\s*\d{1,2}\s*日)?)?$", t):
        nums = [int(n) for n in re.findall(r"\d+", t)] + [None, None]
        return _checked(text, nums[0], nums[1], nums[2])
    if re.match(r"^\d{4}[-/.]\d{1,2}([-/.]\d{1,2})?$", t):
        from dateutil import parser as du  # Western forms; only imported when needed

        # Separators made hyphens first: dateutil reads 「2024.12」 as a decimal number, whose
        # month came out 1 (「2024.12まで」 a deadline in January, 「2024.3」 refused).
        try:
            parsed = du.parse(re.sub(r"[/.]", "-", t), yearfirst=True, default=dt.datetime(2000, 1, 1))
        except (ValueError, OverflowError) as exc:
            raise DateParseError(f"「{_quoted(text)}」は日付として正しくありません") from exc
        has_day = len(re.split(r"[-/.]", t)) == 3
        return PartialDate(parsed.year, parsed.month, parsed.day if has_day else None)
    raise DateParseError(
        f"「{_quoted(text)}」を日付として読めません（例: R5.10/10、R6.2月、令和5年10月10日、2024-03-31）")


def _checked(text: str, year: int, month: Optional[int], day: Optional[int]) -> PartialDate:
    try:
        if month is not None:
            dt.date(year, month, day or 1)
    except ValueError as exc:
        raise DateParseError(f"「{_quoted(text)}」は存在しない日付です") from exc
    return PartialDate(year, month, day)

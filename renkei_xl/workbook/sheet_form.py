"""A worksheet's XML in the one form the byte scanners of the readers expect.

The readers look for error values, formulas without a saved result and the sheet's extent
in the XML's bytes (``sheet_checks.cached_errors``, ``uncached_formulas``, ``check_extent``),
because parsing a 10 MB sheet a second time would double a read. Those scans read the form
every spreadsheet application writes: each ``<row>`` and ``<c>`` with its ``r`` first,
attributes in double quotes. XML allows more: ``r`` may be left out (the cell is then the
one after the previous), and attributes may be quoted with ``'`` or spaced around ``=``.
A file in that form (a script's, a foreign generator's, or doctored) must not let an error
value or a formula without a result pass for an empty cell, nor a far cell slip past the
extent check. So such a sheet is first rewritten, once, into the usual form, and both the
scans and python-calamine read the rewrite. Excel's own files never take this path; telling
the forms apart costs about 1 ms a megabyte of sheet (0.1 s of the 20,000 × 12 master's
55 MB, measured); the rewrite takes about 0.3 s a megabyte, so a sheet over
``REWRITE_LIMIT`` in the other form is refused instead (Excel's save gives the usual form).

The rewrite uses expat (the C parser behind ElementTree) rather than ElementTree itself:
element names, their prefixes and the order of attributes stay as they were, and no tree
is built. It runs after the DTD check (``sheet_checks.check_sheet_xml``), so expat never expands
an entity of the file's own.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Mapping, Optional

from ..core.lazy_pattern import LazyPattern
from ..core.errors import UnreadableSheet
from ..core.refs import COLUMN_LETTERS, ROW_DIGITS, column_letter, parse_ref
from ..package.xml import UNSIGNED_DIGITS, odd_markup, unsigned_number

_ATTR_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", '"': "&quot;", "\t": "&#9;", "\n": "&#10;",
                               "\r": "&#13;"})
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ERROR_TYPE = b' t="e"'
# The largest sheet rewritten (a few seconds); the tool's own masters and input files are
# always in the usual form, so only a foreign or doctored file can come near it.
REWRITE_LIMIT = 10_000_000


def survey(raw: bytes, prefix: bytes) -> tuple[bool, Optional[int], bool]:
    """(whether the sheet is in the usual form, where its first cell tag that is not short
    and usual starts, whether it may hold an error value), in one pass over its cell tags
    and one look for ``"e"``, which the error scans then need not repeat.

    Usual: every cell tag starts with ``r="`` and a place in capitals and digits (「G20」,
    not 「g20」 nor 「G020」, _cell_without_plain_r), its format, after r as every
    application writes it or after another attribute, as ``s="N"`` (not 「09」, not
    spaced: _PLAIN_S), no tab or line break inside a cell tag (_cell_spaced_otherwise),
    and no attribute the scans read is quoted
    with ``'`` or spaced around ``=`` (a cell's place is its r, so rows may do as they
    like). Short: a column of one letter and a row under 100,000, as every cell of a
    master of 13 columns is. Where every cell tag is short and usual, none can be past
    column Z or far down, so the extent check need not look at every cell again
    (``check_extent``); one search serves three questions (≈ 0.1 s of the 20,000 × 12
    master's 55 MB of sheets). A far cell matters wherever it is, as python-calamine places
    a cell by its own r, also out of order. ``'`` is looked for with memchr, the tags with a
    pattern that starts with a literal (searched for as a string), and ``"e"`` (an error
    value's type, however spaced) costs a count only where there is one.

    A comment, a CDATA section or a processing instruction past the declaration
    (package.xml.odd_markup, two searches) is the other form too: a comment may hold
    ``<``, and 「<!-- <c r="G20" t="e"><v>#N/A</v></c> -->」, text to Excel, was an error
    cell to the scans (and to the range check a far cell); a comment of many ``<c`` cost
    a pattern over ``<c…>…</c>`` the square of their number (patterns62). The rewrite
    drops comments and processing instructions and writes a CDATA section's text escaped."""
    odd = _odd_cell(prefix).search(raw)
    odd_at = odd.start() if odd is not None else None
    without_r = odd_at is not None and _cell_without_plain_r(prefix).search(raw, odd_at) is not None
    without_r = without_r or _cell_spaced_otherwise(raw, prefix)
    errors = _holds_quoted_e(raw)   # an error value's type, however spaced, holds it
    usual = not without_r and not (b"'" in raw and _quoted_attribute(raw)) and (
        not errors or raw.count(b'"e"') == raw.count(_ERROR_TYPE)) and odd_markup(raw) is None
    return usual, odd_at, errors


# ``e"`` is rare in a sheet's cells; ``"`` is in every one of them, so a search for ``"e"``
# (``in`` or a pattern) stops at each: 6.3 ms for 10 MB, against 2.4 for this one.
_E_QUOTE = re.compile(rb'e"')


def _holds_quoted_e(raw: bytes) -> bool:
    """``b'"e"' in raw``, faster (_E_QUOTE)."""
    return any(m.start() and raw[m.start() - 1] == 0x22 for m in _E_QUOTE.finditer(raw))


_PREFIXED_CELL = re.compile(rb":c[\s/>]")


def foreign_cell(raw: bytes, prefix: bytes) -> Optional[str]:
    """The prefix of a cell tag other than the sheet's own (``"y:"``, or ``""`` for an
    unprefixed one in a prefixed sheet), or None. python-calamine reads ``<y:c r="XFD9">``
    as a cell whatever its prefix, while the extent check and the form survey look for the
    sheet's own: such a cell would slip past them. No application writes two prefixes in
    one sheet. Unprefixed sheets (every application's) pay one search for ``:c``."""
    if not prefix:
        for m in _PREFIXED_CELL.finditer(raw):     # also in a text ("memo:c 1"): is it a tag?
            start = raw.rfind(b"<", max(0, m.start() - 64), m.start())
            if start >= 0 and re.fullmatch(rb"[\w.-]+", raw[start + 1:m.start()]):
                return raw[start + 1:m.start() + 1].decode("ascii", "replace")
        return None
    m = re.search(b"<(?!" + re.escape(prefix) + rb"c[\s/>])((?:[\w.-]+:)?)c[\s/>]", raw)
    return m.group(1).decode("ascii", "replace") if m else None


def _quoted_attribute(raw: bytes) -> bool:
    """Whether an attribute is quoted with ``'``: ``='`` inside a tag. A formula's text may
    hold ``='`` too (``=A1='他のシート'!B1``), and that is no reason to rewrite a sheet."""
    at = raw.find(b"='")
    while at >= 0:
        if raw.rfind(b"<", 0, at) > raw.rfind(b">", 0, at):
            return True
        at = raw.find(b"='", at + 2)
    return False


def far_rows(name: str, raw: bytes, prefix: bytes, start: int) -> int:
    """The furthest row any cell from ``start`` on names, where one may be past 99,999.
    Searched a window at a time (in_windows): one list of every far cell of
    a sheet of a million rows held hundreds of MB."""
    return max((_furthest(name, found) for found in in_windows(_far_cell(prefix), raw, start) if found), default=0)


def _furthest(name: str, rows: list[bytes]) -> int:
    """The largest of a window's row numbers: int() at C speed where each is within an
    unsignedInt's digits (a window may hold a million), row_number's reading past that."""
    if max(map(len, rows)) <= UNSIGNED_DIGITS:
        return max(map(int, rows))
    return max(row_number(name, row.decode("ascii")) for row in rows)


# What in_windows searches at a time; the first window from the end of a sheet is far
# smaller (sheet_checks._last_filled_row), as the last filled cell is nearly always near it.
WINDOW = 4 * 2**20


def in_windows(pattern: "re.Pattern", raw: bytes, start: int = 0):
    """``pattern.findall(raw, start)`` as one list per window of about ``WINDOW`` bytes.
    Each window ends just after a ``>``, and a pattern given here holds no ``>`` but as its
    last character (a cell tag's attributes hold none), so no match crosses into the next
    window: the lists together are the one search's matches, in bounded memory."""
    end = len(raw)
    while start < end:
        cut = raw.find(b">", start + WINDOW)
        cut = end if cut < 0 else cut + 1
        yield pattern.findall(raw, start, cut)
        start = cut


# After a cell's r, its s as every application writes it, if any (``s="`` and a digit from 1,
# or ``s="0"``): not ``s="09"``, ``s=" 9"`` or ``s ="9"``; and an s spelt so after another
# attribute (``t="n" s="09"``, which no application writes) is no plainer: it read as 0.5
# where Excel shows 50% (styles_named looks for `` s="9"``, review63). A plain s and a t as
# Excel writes them are taken in stride; any other rest of the tag is looked through for an
# s. Checked at the cell tags the survey visits anyway: with the look through the rest, the
# cell-tag search costs about 30 % more (wall time on 22 MB of 13-column rows, 36 to 48 ms);
# the survey's own search of ``s="0`` cost 40 to 110 ms on the 20,000 × 12 master's 55 MB.
# The t taken in stride is any run of letters, ``t="inlineStr"`` too (capitals): each cell
# of the tool's own 一覧 and 次の一歩 (inline texts) otherwise went through the look for an s,
# which accepts the same tags (a tag ending in ``t="…">`` holds no space before an s), and
# the survey of a 20,000-row 一覧 at every later recalc took 157 ms instead of 47.
_PLAIN_S = (rb'(?: s="(?:[1-9][0-9]*+|0)")?+'
            rb'(?:>| t="[A-Za-z]++">|(?![^<>]*?\ss(?!="[1-9])(?!="0")))')


@lru_cache(maxsize=4)
def _odd_cell(prefix: bytes) -> re.Pattern:
    """A cell tag that is not ``<c r="`` with one letter and at most five digits (no
    leading zero), and its s, if it follows, plain (_PLAIN_S)."""
    return re.compile(b"<" + re.escape(prefix) + rb'c(?! r="[A-Z][1-9][0-9]{0,4}"' + _PLAIN_S + rb')[\s/>]')


@lru_cache(maxsize=4)
def _cell_without_plain_r(prefix: bytes) -> re.Pattern:
    """A cell tag whose r is missing or not spelt as every application writes it: capital
    letters and digits alone, the row without leading zeros; or whose s is spelt otherwise
    (_PLAIN_S). The scans read that spelling only, and python-calamine reads 「g20」 as G20:
    an error value so placed was left out of cached_errors and came through as an empty
    cell, imported over the master's value (qa-fuzz62). A row 「B030」 was B30 to calamine
    and Excel, row 30 to the range check, and a damaged part to the reader of percent cells
    (package.cells._cell_place); a percent cell whose s was 「09」 was read as its stored
    number (0.5, not 50%) where the book had few percent formats (package.cells.styles_named
    looks for `` s="9"``), as 50% where it had many (review62). The rewrite spells each
    place and format anew (parse_ref reads 「g20」, 「$G$20」 and 「B030」, which calamine
    refused as a whole, unsigned_number 「09」)."""
    return re.compile(b"<" + re.escape(prefix) + rb'c(?! r="[A-Z]{1,%d}[1-9][0-9]*"' % COLUMN_LETTERS + _PLAIN_S + rb')[\s/>]')


# A tab or line break followed, within the same tag, by its end: inside a tag, not a text.
# Only the last one before the end is matched: from every one, a text of line breaks (an
# inline string's) was read to its end again, 2.6 s for one cell of 32,767.
_SPACE_IN_TAG = LazyPattern(rb"[\t\r\n][^<>\t\r\n]*>")


def _cell_spaced_otherwise(raw: bytes, prefix: bytes) -> bool:
    """Whether a cell tag holds a tab or a line break (``<c r="G20"\\ts="9">``): the scans
    look for an attribute after a space (`` s="9"``, `` t="e"``), as every application
    writes it. Excel's own sheets hold none past the XML declaration, which three memchr
    calls find (≈ 2 ms for 55 MB); only a sheet holding one is searched further."""
    head = max(raw.find(b"<", raw.find(b">")), 0)    # past the declaration and its line break
    if all(raw.find(ch, head) < 0 for ch in (b"\t", b"\n", b"\r")):
        return False
    tag = b"<" + prefix + b"c"
    for m in _SPACE_IN_TAG.finditer(raw, head):
        start = raw.rfind(b"<", 0, m.start())
        if raw.startswith(tag, start) and raw[start + len(tag):start + len(tag) + 1] in (b" ", b"\t", b"\n", b"\r"):
            return True
    return False


@lru_cache(maxsize=4)
def _far_cell(prefix: bytes) -> re.Pattern:
    return re.compile(b"<" + re.escape(prefix) + rb'c r="[A-Z]{1,%d}([0-9]{6,})"' % COLUMN_LETTERS)


def in_usual_form(name: str, raw: bytes) -> bytes:
    """The sheet rewritten so that each row and cell names its place in ``r`` (first) and
    every attribute is double-quoted; everything else as it was, but comments and processing
    instructions (whose text the scans took for tags: survey), and CDATA text escaped."""
    from xml.parsers import expat

    if len(raw) > REWRITE_LIMIT:
        raise UnreadableSheet(f"シート「{name}」は Excel 以外の書き方で保存されていて、この大きさ"
                              f"（{len(raw) / 1e6:.0f} MB）では読み直せません。Excel で開いて保存し直してください")

    out: list[str] = []
    pending: list[Optional[str]] = [None]   # a start tag not yet closed with ">" or "/>"
    row, col = [0], [0]

    def flush() -> None:
        if pending[0] is not None:
            out.append(pending[0] + ">")
            pending[0] = None

    def start(tag: str, attrs: list[str]) -> None:
        flush()
        local = tag.rpartition(":")[2]
        pairs = dict(zip(attrs[::2], attrs[1::2]))
        if local == "row":
            row[0] = row_number(name, pairs.get("r"), row[0] + 1)
            col[0] = 0
            pairs = {"r": str(row[0]), **{k: v for k, v in pairs.items() if k != "r"}}
        elif local == "c":
            ref = pairs.get("r")
            if ref and not _is_ref(ref):
                raise UnreadableSheet(unreadable_place(name, ref))
            col[0] = parse_ref(ref)[1] if ref else col[0] + 1
            pairs = {"r": f"{column_letter(col[0])}{max(row[0], 1)}",
                     **{k: v for k, v in pairs.items() if k != "r"}}
            style = unsigned_number(pairs["s"]) if "s" in pairs else None
            if style is not None:       # 「09」, 「 9」: the format 9, as every scan reads s="9"
                pairs["s"] = str(style)
        pending[0] = "<" + tag + "".join(f' {k}="{v.translate(_ATTR_ESCAPES)}"' for k, v in pairs.items())

    def end(tag: str) -> None:
        if pending[0] is not None:
            out.append(pending[0] + "/>")
            pending[0] = None
        else:
            out.append(f"</{tag}>")

    def text(data: str) -> None:
        flush()
        out.append(data.translate(_TEXT_ESCAPES))

    parser = expat.ParserCreate("utf-8")
    parser.ordered_attributes = True
    parser.buffer_text = True
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text
    try:
        parser.Parse(raw, True)
    except expat.ExpatError as exc:
        raise UnreadableSheet(f"シート「{name}」の XML が壊れています（{exc.lineno} 行 {exc.offset} 文字目付近）。"
                              "Excel で開いて保存し直してください") from None
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + "".join(out)).encode("utf-8")


def unreadable_place(name: str, ref: str) -> str:
    """A cell of sheet ``name`` whose r (``ref``) is no cell of Excel's grid, said."""
    return f"シート「{name}」のセルの位置「{ref[:20]}」が読めません（ファイルが壊れています）。Excel で開いて保存し直してください"


def _is_ref(ref: str) -> bool:
    try:
        parse_ref(ref)
    except ValueError:
        return False
    return True


def row_number(name: str, text: Optional[str], default: int = 0) -> int:
    """A row's number as a sheet spells it (a row tag's r, a cell reference's digits), or a
    damaged sheet said so, naming it. One reading for every finder of rows: a cell numbered
    with 5,000 digits stopped validate, recalc and collect with 「予期しないエラー」 where
    the used range was measured (int() refuses past 4,300 digits, qa-132). Read by the
    format's rule for an unsignedInt (package.xml.unsigned_number), as the writer reads a
    row's r: a copy of it here took 「　1」 (Python's strip) for the row the writer refused."""
    if text is None:
        return default
    number = unsigned_number(text)
    if number is None:
        raise UnreadableSheet(f"シート「{name}」の行番号「{text[:20]}」が読めません（ファイルが壊れています）。"
                              "Excel で開いて保存し直してください")
    return number


class Undated(dict):
    """Numbers of a sheet Excel has no date for (negative ones, and with a duration format
    in the book, large ones), row → column → number (0-based), and where in the XML those
    lie that python-calamine cannot read in a date, time or duration cell (``unsafe``:
    spans of their text)."""

    def __init__(self):
        super().__init__()
        self.unsafe: list[tuple[int, int]] = []


# From about ±10^9 days calamine's conversions overflow (a duration) or panic (-10^12, any
# date or time format); a number this far from 0 is read from a copy holding 0 in its place.
UNSAFE_FOR_CALAMINE = 1e8


class CellTags:
    """The start tag of the cell a place in a sheet lies in, for places asked in increasing
    order. Each search goes back only to the place asked before: searched back to the head
    every time, a cell doctored to hold 40,000 values took seconds, and a part may be 256 MB
    (the time grew with the square of the values)."""

    def __init__(self, raw: bytes, prefix: bytes):
        self._raw, self._tag = raw, b"<" + prefix + b"c "
        self._asked, self._start = 0, -1

    def attrs(self, at: int) -> bytes:
        """The attributes of the last cell tag that starts before ``at`` (b"": none)."""
        raw, tag = self._raw, self._tag
        low = max(0, self._asked - len(tag) + 1) if at >= self._asked else 0
        found = raw.rfind(tag, low, at)
        if found >= 0 or low == 0:
            self._start = found
        self._asked, start = at, self._start
        return raw[start:raw.find(b">", start)] if start >= 0 else b""


# A number as a sheet stores it (<v>-0.25</v>, <v>-1E+15</v>), nothing around it.
_STORED_NUMBER = LazyPattern(rb"-[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?")


def note_negative(out: Undated, attrs: bytes, raw: bytes, at: int) -> None:
    """The number at ``at`` (just past a value tag's ``>``) into ``out`` when its cell is a
    number cell (no ``t``, or ``t="n"``) with a place.

    Why: python-calamine reads a negative number in a cell formatted as a date or a time
    as a time of day (-0.25 as 18:00, -1 as 00:00) or, from about -10^8, as the number, and
    panics in Rust from -10^12 (an exception no ``except Exception`` catches). Excel has no
    date before serial 0: it shows ##### and hands its clients the number. Both faces read
    the number (excel.book.as_file_reads on the live one): the reader puts it back."""
    place = _number_cell(attrs)
    number = _STORED_NUMBER.match(raw, at)
    if place is None or number is None or raw[number.end():number.end() + 1] != b"<":
        return
    value = float(number.group(0))   # the pattern admits only a plain or exponent number
    if value < 0 and math.isfinite(value):
        out.setdefault(place[0], {})[place[1]] = value
        if value <= -UNSAFE_FOR_CALAMINE:
            out.unsafe.append(number.span())


# A cell tag's type (t="e"), its first t as the readers take it: asked of every value
# check_stored_values passes on (each error value of a sheet: a column of #N/A pasted down
# is hundreds of thousands), so compiled once rather than looked up in re's cache each time.
CELL_TYPE = LazyPattern(rb'\st="([^"]*)"')
# A cell's address with its row's digits, leading zeros aside (int() counts them too), within
# the grid's (refs.ROW_DIGITS): a longer row is none of the grid's, which parse_ref refused
# after this pattern took up to an unsignedInt's ten digits; check_extent names it.
_NUMBER_CELL_REF = LazyPattern(rb'\sr="([A-Z]{1,%d})0*([0-9]{1,%d})"' % (COLUMN_LETTERS, ROW_DIGITS))


def _number_cell(attrs: bytes) -> Optional[tuple[int, int]]:
    """(row, column), 0-based, of a cell tag's attributes when it is a number cell (no
    ``t``, or ``t="n"``) with a place; None for a text, an error, a boolean or no r, and for
    a row of more than the grid's seven digits: no row of the grid, and int() refuses past 4,300 (a
    negative number so placed stopped validate, recalc and collect with 「予期しないエラー」
    before check_extent, which then refuses the sheet naming its row)."""
    kind = CELL_TYPE.search(attrs)
    ref = _NUMBER_CELL_REF.search(attrs)
    if (kind is not None and kind.group(1) != b"n") or ref is None:
        return None
    try:        # a row or column past Excel's grid (parse_ref's rule): check_extent names it
        row, col = parse_ref((ref.group(1) + ref.group(2)).decode("ascii"))
    except ValueError:
        return None
    return row - 1, col - 1


# A stored number of ten digits or more before its point, or with an exponent: from 10^9.
_LARGE_NUMBER = rb'v(?:\s[^<>]*)?>([0-9]{10,}(?:\.[0-9]*)?(?:[eE]\+?[0-9]+)?|[0-9](?:\.[0-9]*)?[eE]\+?[0-9]+)<'
_LARGE = 1e9


def note_large_numbers(out: Undated, raw: bytes, prefix: bytes, styles: frozenset = frozenset({b""})) -> None:
    """Numbers from 10^9 up in cells of ``styles`` (sheet_checks.duration_styles: b' s="5"',
    or b"" for every cell) into ``out`` (and its ``unsafe``): python-calamine reads such a
    cell as a duration and raises OverflowError from 10^9 days on, for the whole sheet.
    Excel shows the cell as ##### and hands its clients the number, which both faces then
    read. A full search of the sheet (about 0.4 s for 40 MB), made only where the sheet
    names a duration style."""
    cells = CellTags(raw, prefix)
    for m in re.finditer(_LARGE_NUMBER, raw):
        value = float(m.group(1))
        if not (_LARGE <= value < math.inf):
            continue
        attrs = cells.attrs(m.start())
        place = _number_cell(attrs)
        if place is None or (b"" not in styles and not any(style in attrs for style in styles)):
            continue
        out.setdefault(place[0], {})[place[1]] = value
        out.unsafe.append(m.span(1))


_WORKSHEET_ROOT = LazyPattern(rb"<(\w+:)?worksheet[\s>]")


def worksheet_prefix(raw: bytes) -> Optional[bytes]:
    """The namespace prefix of a sheet part's root (b"ws:", b"" for none), or None where its
    first 4 KiB hold no worksheet: a sheet is read, its cells' tags sought, with that prefix."""
    root = _WORKSHEET_ROOT.search(raw[:4096])
    return None if root is None else root.group(1) or b""


# A number cell's stored value from 0 up (a negative one is note_negative's), to its end, and
# a cell tag's style (in the usual form: s="12").
_NUMBER_VALUE = LazyPattern(rb'(?<=[<:])v(?:\s[^<>]*)?>([0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?)<')
_STYLE = LazyPattern(rb'\ss="([0-9]{1,9})"')


def note_numbers_shown(out: Undated, raw: bytes, prefix: bytes, formats: Mapping[int, str]) -> None:
    """Numbers from 0 up of cells whose cell format is one of ``formats`` (its index → its
    number format, each one that shows some numbers as dates and others not:
    core.displayed.shows_date_by_number) where their format shows them by a section that is
    no date, into ``out``.

    Why: python-calamine converts every number of a cell whose format's first section is a
    date: 150 in 「[<100]yyyy/m/d;0」, which Excel shows as 150, arrived as 1900-05-29, 0 in
    「yyyy/m/d;;0」 (shown 0) as 00:00, 150 in 「[<100][h]:mm;0」 as 150 days; a return's 150
    was held as a date nobody typed or saw. The section the number takes decides, as it does
    for every reader of a format (core.displayed.shows_date_for); the reader puts it back."""
    from ..core.displayed import shows_date_for

    cells = CellTags(raw, prefix)
    for m in _NUMBER_VALUE.finditer(raw):
        attrs = cells.attrs(m.start())
        style = _STYLE.search(attrs)
        number_format = formats.get(int(style.group(1)) if style else 0)
        if number_format is None:
            continue
        place, value = _number_cell(attrs), float(m.group(1))
        if place is not None and math.isfinite(value) and not shows_date_for(value, number_format):
            out.setdefault(place[0], {})[place[1]] = value


def calamine_safe_numbers(raw: bytes, negatives: Undated) -> Optional[bytes]:
    """The sheet with each number calamine cannot read as a date (``Undated.unsafe``)
    as 0, or None when there is none: calamine reads the copy, and the number is put back."""
    if not negatives.unsafe:
        return None
    parts, last = [], 0
    for start, end in sorted(negatives.unsafe):
        parts += [raw[last:start], b"0"]
        last = end
    parts.append(raw[last:])
    return b"".join(parts)

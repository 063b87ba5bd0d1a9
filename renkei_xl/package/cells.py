"""Cells of a worksheet part: written whole for the tool's sheets, edited one by one in
staff sheets.

An edit changes the ``<c>`` element of the cells it names (or inserts one in column
order, inserting its ``<row>`` in row order when needed) and the ``<dimension>`` when the
used range grows. Every other byte of the part stays as the application saved it.
Strings are written inline (``t="inlineStr"``): the shared-strings part, which every
sheet shares, is then never touched, and a string is always text, never a formula.
"""

# No ``from __future__ import annotations``: typing.NamedTuple compiles each string
# annotation (a ForwardRef) when the module is imported, at every command's start.

import bisect

import datetime as dt
import math
import re
from functools import lru_cache
from decimal import Decimal
from typing import Callable, Mapping, NamedTuple, Optional

from ..core.face import again
from ..core.lazy_pattern import LazyPattern
from ..core.refs import COLUMN_DIGITS, COLUMN_LETTERS, ROW_DIGITS, column_letter, column_number, parse_ref
from ..core.values import ErrorValue
from .xml import PREFIXES_KEPT, UNSIGNED_DIGITS, PackageError, cell_text, element_span, index_text

KEEP = object()     # the cell keeps its value (a fill or number format changes only)


@lru_cache(maxsize=65536)
def _column_of_ref(ref: str) -> int:
    """The column of a cell reference ("AB12" -> 28); ValueError past Excel's grid
    (refs.parse_ref's rule)."""
    return parse_ref(ref)[1]


def excel_serial(value: dt.date) -> float:
    """Excel's serial of a date (core.contract_read.excel_serial: the reading's count, in one place)."""
    from ..core.contract_read import excel_serial as serial

    return serial(value)


@lru_cache(maxsize=1 << 16)
def _text_xml(text: str, p: str) -> tuple[str, str]:
    """A text's cell XML, kept: a split writes the same indicator texts into 40 files."""
    space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
    return ' t="inlineStr"', f"<{p}is><{p}t{space}>{cell_text(text)}</{p}t></{p}is>"


def value_xml(value: object, p: str = "") -> tuple[str, str]:
    """(type attribute, inner XML) of a cell value. Text first: most cells of 一覧 and
    次の一歩 are text (320,000 on a 20,000-row list)."""
    if type(value) is str:
        space = ' xml:space="preserve"' if "\n" in value or value != value.strip() else ""
        return ' t="inlineStr"', f"<{p}is><{p}t{space}>{cell_text(value)}</{p}t></{p}is>"
    if value is None:
        return "", ""
    if value.__class__ is str:
        return _text_xml(value, p)
    if isinstance(value, bool):
        return ' t="b"', f"<{p}v>{int(value)}</{p}v>"
    if isinstance(value, (int, Decimal)) or (isinstance(value, float) and math.isfinite(value)):
        return "", f"<{p}v>{value!r}</{p}v>" if isinstance(value, float) else f"<{p}v>{value}</{p}v>"
    if isinstance(value, (dt.datetime, dt.date)):
        return "", f"<{p}v>{excel_serial(value)!r}</{p}v>"
    if isinstance(value, ErrorValue):      # the error itself, as Excel saves one typed
        return ' t="e"', f"<{p}v>{value}</{p}v>"
    return _text_xml(str(value), p)


def cell_xml(ref: str, value: object, style: int, p: str = "") -> str:
    t, inner = value_xml(value, p)
    s = f' s="{style}"' if style else ""
    return f'<{p}c r="{ref}"{s}{t}>{inner}</{p}c>' if inner else f'<{p}c r="{ref}"{s}{t}/>'


@lru_cache(maxsize=2 * PREFIXES_KEPT)
def _pattern(prefix: str, tag: str) -> "re.Pattern[str]":
    """The opening tag of ``tag`` (with the part's prefix), compiled once (rows and columns
    are asked for: two patterns a prefix)."""
    return re.compile(r"<" + re.escape(prefix) + tag + r"\b([^<>]*?)(/?)>")


class _Row(NamedTuple):
    r: int
    start: int
    open_end: int       # end of the opening tag
    content_end: int    # start of </row> (== open_end for <row/>)
    end: int


_ATTR_R = re.compile(r'\sr="([^"]*)"')
# A cell tag's r: a cell's address, its row's leading zeros aside, as parse_ref, python-calamine
# and Excel read them (「B030」 is B30, and so is a row padded with 5,000 zeros, which int()
# counts: parse_ref reads the digits after them). One reading for every reader of a part:
# the range check and sheet_form._number_cell read B000…030000 as row 30,000, and this
# pattern refused it as a damaged part (forms62).
_CELL_REF = re.compile(f"[A-Z]{{1,{COLUMN_LETTERS}}}0*[0-9]{{1,{ROW_DIGITS}}}")


def _row_number(text: str, part: str) -> int:
    """A row tag's r, read as every index of the format is (xml.index_text): 「s」 stopped the
    write with a traceback in int() (a sheet the reader never reads, as メニュー), as 5,000
    digits did past int()'s limit; Excel calls either part damaged."""
    return index_text(text, "r", part)


def _cell_column(ref: str, part: str) -> int:
    """A cell tag's column. Read as letters before digits, 「$A$1」 or 「a1」 became another
    column, and an edit landed beside the cell it meant: a damaged part is refused, as is a
    cell past Excel's grid (「ZZZ1」, 「B0」, parse_ref's rule), which Excel calls damaged."""
    if _CELL_REF.fullmatch(ref):
        try:
            return _column_of_ref(ref)
        except ValueError:
            pass
    raise _damaged_address(ref, part)


def _cell_place(ref: str, part: str) -> tuple[int, int]:
    """A cell tag's (row, column), by _cell_column's rule: a percent or Currency cell whose
    r was 「abc」, or a row of 5,000 digits (int() refuses past 4,300, leading zeros
    counted), stopped validate and recalc with 「予期しないエラー」 in parse_ref."""
    if _CELL_REF.fullmatch(ref):
        try:
            return parse_ref(ref)
        except ValueError:
            pass
    raise _damaged_address(ref, part)


def _damaged_address(ref: str, part: str) -> PackageError:
    return PackageError(f"シートの部品「{part}」が壊れています（セル番地「{ref[:20]}」）")


# Found as any text and read by xml.index_text: 「٣」 matched \\d and was read as 3 (another
# cell's format), 5,000 digits stopped the write in int(), and 「-1」 was read as no format.
_ATTR_S = re.compile(r'\ss="([^"]*)"')
_ATTR_CUSTOM_FORMAT = LazyPattern(r'\scustomFormat="(?:1|true)"')
_ATTR_MIN, _ATTR_MAX = LazyPattern(r'\smin="([^"]*)"'), LazyPattern(r'\smax="([^"]*)"')
_ATTR_STYLE = LazyPattern(r'\sstyle="([^"]*)"')
_ATTR_T = LazyPattern(r'\st="([^"]*)"')


class SheetCells:
    """One worksheet part's text with an index of its rows, for reads and edits of cells."""

    def __init__(self, text: str, part: str, prefix: str):
        self.text = text
        self.part = part
        self.p = prefix
        span = element_span(text, prefix + "sheetData")
        if span is None:
            raise PackageError(f"シートの部品「{part}」にセルの領域（sheetData）がありません")
        self._data = span
        self._rows: Optional[dict[int, _Row]] = None     # every row, once read to the end
        # The rows read so far (_read_rows), where the next read goes on, the last row's number
        # and whether every row so far came after the one before.
        self._seen: dict[int, _Row] = {}
        self._next, self._last, self._ascending = span[1], 0, True
        self._col_styles: Optional[list[tuple[int, int, int]]] = None
        # Excel and XlsxWriter leave out s="0"; LibreOffice writes it on every cell. Cells
        # the writer adds or gives the default format back follow the part's own habit,
        # so lifting a mark restores the cell's bytes either way.
        self.explicit_zero = re.search(r"<" + re.escape(prefix) + r'c\b[^<>]*\ss="0"', text) is not None

    def rows(self) -> dict[int, _Row]:
        """Every row element of the part by its number (the last of a number written twice)."""
        if self._rows is None:
            self._read_rows()
        return self._rows

    def row(self, r: int) -> Optional[_Row]:
        """Row ``r``'s element, None where the part holds none. Rows are read from the top only
        as far as ``r``: Excel writes them in ascending order (it calls a part that does not
        damaged and repairs it), so a row past ``r`` ends the search while every row before it
        ascended. A return whose staff formatted whole columns holds a row element for each of
        the grid's 1,048,576 rows; indexing all of them to find the formats of the input cells
        near the top took collect 9 of its 13 s and 430 MB (qa-returns64b). Where a row came
        out of order the whole part is read, as rows() reads it."""
        if self._rows is None and self._ascending and self._last < r:
            self._read_rows(until=r)
        if self._rows is None and not self._ascending:
            self._read_rows()
        return (self._seen if self._rows is None else self._rows).get(r)

    def _read_rows(self, until: Optional[int] = None) -> None:
        """Reads rows on from where the last read stopped: to the end (then ``_rows``), or
        with ``until`` to the first row past it while the rows ascend."""
        o, cs, ce, e = self._data
        pattern = _pattern(self.p, "row")
        close = f"</{self.p}row>"
        out, pos, last = self._seen, self._next, self._last
        while True:
            m = pattern.search(self.text, pos, ce)
            if m is None:
                self._rows = out
                break
            rm = _ATTR_R.search(m.group(1))
            r = _row_number(rm.group(1), self.part) if rm else last + 1
            if m.group(2) == "/":
                row = _Row(r, m.start(), m.end(), m.end(), m.end())
            else:
                end = self.text.find(close, m.end(), ce)
                if end < 0:
                    raise PackageError(f"シートの部品「{self.part}」の行 {r} が閉じていません")
                row = _Row(r, m.start(), m.end(), end, end + len(close))
            out[r] = row
            self._ascending = self._ascending and r > last
            last, pos = r, row.end
            if until is not None and (r > until or not self._ascending):
                break
        self._next, self._last = pos, last

    def _cells(self, row: _Row, upto: Optional[int] = None) -> list[tuple[int, int, int, str]]:
        """(col, start, end, opening-tag attributes) of each cell in a row; with ``upto``,
        up to the first cell right of that column (all an edit there needs). One match per
        whole cell (a rollover reads the 300,000 cells of 40,000 rows)."""
        out = []
        last = 0
        for m in _whole_cell(self.p).finditer(self.text, row.open_end, row.content_end):
            attrs = m.group(1)
            at = attrs.find(' r="')       # as every writer puts it; else any whitespace
            if at >= 0:
                col = _cell_column(attrs[at + 4:attrs.find('"', at + 4)], self.part)
            else:
                rm = _ATTR_R.search(attrs)
                col = _cell_column(rm.group(1), self.part) if rm else last + 1
            out.append((col, m.start(), m.end(), attrs))
            if upto is not None and col > upto:
                break
            last = col
        return out

    def _own_style(self, row: int, col: int) -> Optional[int]:
        """The cell's own s= (0 when it has none); None where the part holds no such cell."""
        r = self.row(row)
        return None if r is None else self._own_in(self._cells(r), col)

    def _own_in(self, cells: list, col: int) -> Optional[int]:
        """_own_style among a row's ``cells`` (_cells of the whole row), the first of ``col``."""
        for c_, _s, _e, attrs in cells:
            if c_ == col:
                m = _ATTR_S.search(attrs)
                return index_text(m.group(1), "s", self.part) if m else 0
        return None

    def style_of(self, row: int, col: int) -> int:
        """The cell format Excel gives the cell: its own where the part holds the cell, else
        its row's (a row formatted whole: customFormat), else its column's (<col style>),
        else the default. Excel shows a cell the file does not hold so, and a value written
        there takes that format (a column staff formatted as 文字列, or coloured)."""
        return self._style_beside(row, col, self._own_style(row, col))

    def _style_beside(self, row: int, col: int, own: Optional[int]) -> int:
        """style_of with the cell's own format already found (``own``; None: no such cell)."""
        if own is not None:
            return own
        r = self.row(row)
        if r is not None:
            opening = self.text[r.start:r.open_end]
            if _ATTR_CUSTOM_FORMAT.search(opening):
                m = _ATTR_S.search(opening)
                return index_text(m.group(1), "s", self.part) if m else 0
        for first, last, style in self.column_styles():
            if first <= col <= last:
                return style
        return 0

    def numbers_styled(self, styles: frozenset) -> dict[tuple[int, int], float]:
        """``numbers_styled`` of this part."""
        return numbers_styled(self.text, self.p, self.part, styles, self)

    def _numbers_by_row(self, styles: frozenset) -> list:
        """``numbers_styled``'s cells found row by row, as every edit finds them."""
        out = []
        for r, row in self.rows().items():
            for col, start, end, attrs in self._cells(row):
                m = _ATTR_S.search(attrs)
                if (index_text(m.group(1), "s", self.part) if m else 0) in styles:
                    element = self.text[start:end]
                    close = element.find(">")
                    inner = None if element[close - 1] == "/" else element[close + 1:]
                    out.append(((r, col), attrs, inner))
        return out

    def column_styles(self) -> list[tuple[int, int, int]]:
        """(first col, last col, style) of each <col> that gives its columns a format."""
        if self._col_styles is None:
            out = []
            for m in _pattern(self.p, "col").finditer(self.text, 0, self._data[0]):
                attrs = m.group(1)
                lo, hi, s = (_ATTR_MIN.search(attrs), _ATTR_MAX.search(attrs), _ATTR_STYLE.search(attrs))
                if lo and s:
                    first = index_text(lo.group(1), "min", self.part)
                    last = index_text(hi.group(1), "max", self.part) if hi else first
                    out.append((first, last, index_text(s.group(1), "style", self.part)))
            self._col_styles = out
        return self._col_styles

    def edit(self, changes: Mapping[tuple[int, int], tuple[object, Optional[Callable[[int], int]]]]) -> str:
        """The part's text with each (row, col) given (value or KEEP, style mapper or None)."""
        o, cs, ce, e = self._data
        if cs == ce:  # <sheetData/>: opened so rows can go inside
            self.text = self.text[:o] + f"<{self.p}sheetData></{self.p}sheetData>" + self.text[e:]
            inner = o + len(f"<{self.p}sheetData>")
            self._data = (o, inner, inner, inner + len(f"</{self.p}sheetData>"))
            self._rows = {}
        by_row: dict[int, dict[int, tuple]] = {}
        for (row, col), change in changes.items():
            by_row.setdefault(row, {})[col] = change
        rows = self.rows()
        pieces: list[tuple[int, int, str]] = []       # (start, end, replacement)
        ce = self._data[2]
        ordered = sorted(rows.values(), key=lambda x: x.r)
        numbers = [x.r for x in ordered]
        for r, cols in sorted(by_row.items()):
            row = rows.get(r)
            if row is None:
                new_cells = "".join(self._new_cell(r, col, ch, self._own_style(r, col))
                                     for col, ch in sorted(cols.items()))
                later = bisect.bisect_right(numbers, r)
                at = ordered[later].start if later < len(ordered) else ce
                pieces.append((at, at, f'<{self.p}row r="{r}">{new_cells}</{self.p}row>'))
                continue
            pieces.extend(self._edit_row(row, cols))
        # One pass over the text: replacing piece by piece would copy the whole part per
        # edited cell (a rollover clears tens of thousands of cells).
        out, pos = [], 0
        for start, end, replacement in sorted(pieces, key=lambda x: (x[0], x[1])):
            out.append(self.text[pos:start])
            out.append(replacement)
            pos = end
        out.append(self.text[pos:])
        return _grow_dimension("".join(out), self.p, changes.keys())

    def _new_cell(self, row: int, col: int, change, own: Optional[int] = None) -> str:
        """``own``: the cell's own format where the part holds it, found by the caller."""
        value, style = change
        base = self._style_beside(row, col, own)   # the row's or column's format, as Excel gives a new cell
        s = style(base) if style else base
        element = cell_xml(f"{column_letter(col)}{row}", None if value is KEEP else value, s, self.p)
        if s == 0 and self.explicit_zero:
            ref_end = element.index('"', element.index('r="') + 3) + 1
            element = element[:ref_end] + ' s="0"' + element[ref_end:]
        return element

    def _edit_row(self, row: _Row, cols: dict[int, tuple]) -> list[tuple[int, int, str]]:
        pieces = []
        cells = self._cells(row, max(cols))
        existing = {c_: (s, e, a) for c_, s, e, a in cells}
        if row.open_end == row.content_end and row.end == row.open_end:   # <row …/>
            inner = "".join(self._new_cell(row.r, col, ch, self._own_style(row.r, col))
                            for col, ch in sorted(cols.items()))
            opening = self.text[row.start:row.end][:-2].rstrip() + ">"
            return [(row.start, row.end, _widen_spans(opening, cols) + inner + f"</{self.p}row>")]
        # A cell the scan did not find is in the row only where the scan stopped short of the
        # row's end and the row is out of column order: the row is then read whole once for
        # the formats of its new cells (style_of read it whole again for each one: a third of
        # a rollover's edits).
        whole = cells if not cells or cells[-1][0] <= max(cols) else None
        for col, change in sorted(cols.items()):
            if col in existing:
                start, end, attrs = existing[col]
                pieces.append((start, end, self._edited(self.text[start:end], attrs, row.r, col, change)))
            else:
                at = next((s for c_, s, _e, _a in cells if c_ > col), row.content_end)
                if whole is None:
                    whole = self._cells(row)
                pieces.append((at, at, self._new_cell(row.r, col, change, self._own_in(whole, col))))
        if any(col not in existing for col in cols):
            opening = self.text[row.start:row.open_end]
            widened = _widen_spans(opening, cols)
            if widened != opening:
                pieces.append((row.start, row.open_end, widened))
        return pieces

    def _edited(self, element: str, attrs: str, row: int, col: int, change) -> str:
        value, style = change
        m = _ATTR_S.search(attrs)
        s = index_text(m.group(1), "s", self.part) if m else 0
        new_s = style(s) if style else s
        if value is KEEP:
            if new_s == s:
                return element
            opening_end = element.find(">")
            opening = element[:opening_end]
            if m and new_s == 0 and not self.explicit_zero:
                opening = _ATTR_S.sub("", opening, count=1)
            elif m:
                opening = _ATTR_S.sub(f' s="{new_s}"', opening, count=1)
            else:
                opening = opening.rstrip("/") + f' s="{new_s}"' + ("/" if opening.endswith("/") else "")
            return opening + element[opening_end:]
        if _shared_formula(self.p).search(element):
            raise PackageError(f"{column_letter(col)}{row} は共有数式の基になるセルのため書き換えられません。"
                               f"数式を値に変えてからもう一度{again()}ください")
        ref = f"{column_letter(col)}{row}"
        # Attributes the application keeps about the cell itself (e.g. ph: show furigana)
        # stay; t, s, and the metadata of a value that is replaced (vm, cm) do not.
        kept = "".join(f" {k}={v}" for k, v in _ATTRS.findall(attrs) if k not in ("r", "s", "t", "vm", "cm"))
        t, inner = value_xml(value, self.p)
        s_attr = f' s="{new_s}"' if new_s else ""
        if inner:
            return f'<{self.p}c r="{ref}"{s_attr}{t}{kept}>{inner}</{self.p}c>'
        return f'<{self.p}c r="{ref}"{s_attr}{kept}/>'


# Past this many cell formats sought, a part's s attributes are read in one pass (styles_named).
_FEW_STYLES = 32
# A cell's format index as index_text reads it: leading zeros aside, an unsignedInt's digits.
_S_VALUE = LazyPattern(rf'\ss="0*([0-9]{{1,{UNSIGNED_DIGITS}}})"')
_S_VALUE_BYTES = LazyPattern(_S_VALUE.pattern.encode("ascii"))


@lru_cache(maxsize=64)
def _named_search(styles: "frozenset[int]", as_text: bool):
    """The search of a part's text for a cell of any of a few ``styles`` as Excel writes it
    (styles_named), compiled once per set: the sets are a book's formats, asked per sheet."""
    pattern = ' s="(?:' + "|".join(str(i) for i in sorted(styles)) + ')"'
    return re.compile(pattern if as_text else pattern.encode("ascii")).search


def styles_named(text, styles: "frozenset[int]") -> "frozenset[int]":
    """Those of the cell formats ``styles`` whose cells a worksheet part's ``text`` (str or
    bytes) may hold, as far as its bytes say: empty where it names none of them, so its cells
    need not be read (the default format 0, which a cell without s has, is always kept).
    Never fewer than the cells name as Excel writes them (s="12" after a space); a few more
    do no harm. Up to _FEW_STYLES formats it looks for that spelling only: the reader's
    sheets come here in the usual form (workbook.sheet_form.survey rewrites a sheet whose
    cell has s="09", s=" 9", s ="9" or a tab before s, which read as 0.5 here and as 50%
    past _FEW_STYLES, review62); the live face's saved copies are Excel's own.

    Why: each format was searched for in the text one by one, and a master whose staff's
    pasted formats piled up near Excel's limit holds thousands of percent and Currency
    formats (a format of its own for every colour and indent): a click read the saved
    master's 20 sheets for them in a second, and every read of the book searched its
    sheets so again. Past a few formats, the text's s attributes are read once instead,
    and only the formats found there are sought in its cells."""
    if 0 in styles:
        return styles
    if len(styles) <= _FEW_STYLES:
        if len(styles) == 1:
            marker = ' s="%d"' if isinstance(text, str) else b' s="%d"'
            return styles if marker % next(iter(styles)) in text else frozenset()
        # one pass for them all: a search per format read a sheet without any of them once
        # for each (a percent and a date format: twice the bytes of a 10 MB 指標, shown63)
        return styles if _named_search(styles, isinstance(text, str))(text) else frozenset()
    pattern = _S_VALUE if isinstance(text, str) else _S_VALUE_BYTES
    return frozenset(i for i in {int(v) for v in set(pattern.findall(text))} if i in styles)


def numbers_styled(text: str, prefix: str, part: str, styles: frozenset,
                   cells: "Optional[SheetCells]" = None, empty: bool = False
                   ) -> dict[tuple[int, int], Optional[float]]:
    """The numbers stored in the cells of a worksheet part's ``text`` whose own format is one
    of ``styles`` (a formula's cached result too), by (row, col): a text, a boolean or an
    error is no number. A part with no cell of those formats is found so by a search of its
    text for the attribute, and the cells of those formats by one pattern, not cell by cell
    (the server asks of every sheet a click reads, 20,000 rows of them). A cell of them
    without its address (the format allows it; no application here writes one) has the
    part read row by row (``cells``: the part's SheetCells, made then where not given).
    ``empty``: a cell of them holding nothing is given too, as None (numbers_formatted)."""
    sought = styles_named(text, styles)
    if not sought:
        return {}
    p = re.escape(prefix)
    # The value tag may carry attributes (<v xml:space="preserve">, as other writers spell it):
    # a 0.5 in a 0% cell so saved was read as 0.5 where Excel shows 50%.
    value = re.compile(r"<" + p + r"v(?:\s[^<>/]*)?>([^<]*)</" + p + "v>")
    found, by_row = [], 0 in styles
    if not by_row:
        wanted = "|".join(str(i) for i in sorted(sought))
        pattern = re.compile(r"<" + p + r'c(?=[\s/>])([^<>]*?\ss="0*(?:' + wanted + r')"[^<>]*?)(?:/>|>(.*?)</' + p + r"c>)", re.S)
        for m in pattern.finditer(text):
            address = _ATTR_R.search(m.group(1))
            if address is None:
                by_row = True
                break
            found.append((_cell_place(address.group(1), part), m.group(1), m.group(2)))
    if by_row:
        found = (cells if cells is not None else SheetCells(text, part, prefix))._numbers_by_row(styles)
    out: dict[tuple[int, int], Optional[float]] = {}
    for (row, col), attrs, inner in found:
        t = _ATTR_T.search(attrs)
        if empty and (inner is None or not re.search(r"<" + p + r"(?:v|f|is)\b", inner)):
            out[row, col] = None
            continue
        if inner is None or (t is not None and t.group(1) != "n"):
            continue
        v = value.search(inner)
        try:
            number = float(v.group(1)) if v is not None else None
        except ValueError:
            number = None
        if number is not None and math.isfinite(number):
            out[row, col] = number
    return out


def numbers_formatted(text: str, prefix: str, part: str, xfs: Mapping[int, str]
                      ) -> dict[tuple[int, int], tuple[str, Optional[float]]]:
    """(row, col) → (number format, number) of the cells of a worksheet part's ``text``
    holding a number whose own cell format is one of ``xfs`` (cell format → its number
    format): numbers_styled once for each number format, so a part naming none of them is
    not read at all. An empty cell of them is given too, its number None: a number the tool
    writes there is shown by the format as much as one read there (core.percent_cells.
    written_format; a rolled-over 0% cell is emptied with its format kept)."""
    by_code: dict[str, set[int]] = {}
    for xf in styles_named(text, frozenset(xfs)):
        by_code.setdefault(xfs[xf], set()).add(xf)
    out: dict[tuple[int, int], tuple[str, Optional[float]]] = {}
    for code, styles in by_code.items():
        found = numbers_styled(text, prefix, part, frozenset(styles), empty=True)
        out.update((cell, (code, number)) for cell, number in found.items())
    return out


@lru_cache(maxsize=PREFIXES_KEPT)
def _whole_cell(prefix: str) -> "re.Pattern[str]":
    """A whole ``<c>`` element: its opening tag's attributes, then ``/>`` or its content
    and closing tag (a cell's content holds no ``</c>``: its text is escaped)."""
    c = re.escape(prefix) + "c"
    # The name ends at whitespace, / or >: \b took 「<c.x>」 and 「<c-x>」 for a cell too, each
    # match then running to the part's end for a </c> (qa-fuzz62-1).
    return re.compile(r"<" + c + r"(?=[\s/>])([^<>]*?)(?:/>|>.*?</" + c + r">)", re.S)


_ATTRS = re.compile(r'\s([\w:]+)=("[^"]*")')
# A row's spans and a sheet's dimension as the grid can hold them (columns to 16,384, rows
# to 1,048,576): a hint spelt otherwise (a row of 5,000 digits, which int() refuses past
# 4,300, stopped collect with 予期しないエラー after its checks, qa-fuzz61) is not read, and
# is left as the file had it: each is a hint Excel recomputes, no value of the sheet.
_SPANS = LazyPattern(rf'\sspans="(\d{{1,{COLUMN_DIGITS}}}):(\d{{1,{COLUMN_DIGITS}}})"')


@lru_cache(maxsize=PREFIXES_KEPT)
def _shared_formula(prefix: str) -> "re.Pattern[str]":
    """The formula element of a shared formula's base cell: t="shared" and a ref, in either
    order, each looked for ahead once from the tag's start (「[^<>]*\bt="shared"[^<>]*\bref=」
    tried the rest of the tag from every 「t="shared"」 in it: 16 s for a tag of 100 kB)."""
    return re.compile(r"<" + re.escape(prefix) + r'f\b(?=[^<>]*?\bt="shared")(?=[^<>]*?\bref=)')


def _widen_spans(opening: str, cols) -> str:
    m = _SPANS.search(opening)
    if not m:
        return opening
    lo, hi = min(int(m.group(1)), *cols), max(int(m.group(2)), *cols)
    return opening[:m.start()] + f' spans="{lo}:{hi}"' + opening[m.end():]


# A dimension's ends (「A1:C5」), each within the grid's letters and digits.
_END = rf"([A-Z]{{1,{COLUMN_LETTERS}}})(\d{{1,{ROW_DIGITS}}})"
_DIMENSION_ENDS = _END + "(?::" + _END + ')?"'


def _grow_dimension(text: str, p: str, cells) -> str:
    m = re.search(r"<" + re.escape(p) + r'dimension\s+ref="' + _DIMENSION_ENDS, text)
    if not m or not cells:
        return text
    c1, r1 = column_number(m.group(1)), int(m.group(2))
    c2, r2 = (column_number(m.group(3)), int(m.group(4))) if m.group(3) else (c1, r1)
    rows = [r for r, _ in cells]
    cols = [c for _, c in cells]
    n1, n2 = min(r1, *rows), max(r2, *rows)
    k1, k2 = min(c1, *cols), max(c2, *cols)
    if (n1, n2, k1, k2) == (r1, r2, c1, c2):
        return text
    ref = f"{column_letter(k1)}{n1}:{column_letter(k2)}{n2}"
    return text[:m.start(1)] + ref + text[m.end(4 if m.group(3) else 2):]


# An area's ref as a part spells it (「H2」「H2:H3」, either case; ref_area reads it), its
# column's letters as many as the grid's (XFD).
_AREA_COLUMN = f"[A-Za-z]{{1,{COLUMN_LETTERS}}}"
_AREA = rf"{_AREA_COLUMN}\d+(?::{_AREA_COLUMN}\d+)?"

# <f t="array" ref="H2:H3"> under whatever prefix the sheet's XML gives its namespace (an
# array's ref may be one cell); the attributes in any order and with either quote.
_ARRAY_REF = LazyPattern(r"<(?:[\w.-]+:)?f\b(?=[^<>]*\bt=[\"']array[\"'])[^<>]*?\bref=[\"']"
                        rf"({_AREA})[\"']")


def array_areas(text: str) -> list[tuple[int, int, int, int]]:
    """The ranges of a sheet part's array formulas (Excel's {=…}), as (first row, first col,
    last row, last col): both faces refuse a value written into one (the buttons because
    Excel stops the write with 1004; the file because the formula would be dropped with its
    first cell, or would overwrite the value at Excel's next calculation)."""
    if "array" not in text:
        return []
    return [a for a in map(ref_area, _ARRAY_REF.findall(text)) if a]


# <f t="dataTable" ref="E4:E5" dt2D="0" dtr="0" r1="H1"/>: a What-If data table's results,
# the formula on their first cell, under any prefix, the attributes in any order.
_DATA_TABLE_REF = LazyPattern(r"<(?:[\w.-]+:)?f\b(?=[^<>]*\bt=[\"']dataTable[\"'])[^<>]*?\bref=[\"']"
                             rf"({_AREA})[\"']")


def data_table_areas(text: str) -> list[tuple[int, int, int, int]]:
    """The result ranges of a sheet part's What-If data tables (「データ テーブル」, shown as
    {=TABLE(…)}), as (first row, first col, last row, last col): both faces refuse a value
    written into one (core.plan_types.WritePlan.refuse_data_tables says why)."""
    if "dataTable" not in text:
        return []
    return [a for a in map(ref_area, _DATA_TABLE_REF.findall(text)) if a]


# <mergeCell ref="G2:H2"/>, under whatever prefix the sheet's XML gives its namespace.
_MERGE_REF = LazyPattern(rf"<(?:[\w.-]+:)?mergeCell\b[^<>]*?\bref=[\"']({_AREA_COLUMN}\d+:{_AREA_COLUMN}\d+)[\"']")


def merged_areas(text: str) -> list[tuple[int, int, int, int]]:
    """A sheet part's merged areas, (first row, first col, last row, last col)."""
    if "mergeCell" not in text:
        return []
    return [a for a in map(ref_area, _MERGE_REF.findall(text)) if a]


_ROW_TAG = LazyPattern(r"<(?:[\w.-]+:)?row\b[^<>]*>")
# hidden= as an attribute (a word of its own, checked by hidden_rows): a pattern that begins
# with its letters is searched for as a string, one that begins with \b a character at a time.
_HIDDEN = LazyPattern(r"hidden=[\"'](?:1|true)[\"']")
# ASCII digits, at most a row of the grid's seven (leading zeros aside): a row numbered
# otherwise hides nothing staff could type in, and 5,000 digits stopped collect with
# 「予期しないエラー」 in int() (its limit is 4,300); 「٣」 matched \\d and hid row 3.
_ROW_NUMBER = LazyPattern(rf"\br=[\"']0*([0-9]{{1,{ROW_DIGITS}}})[\"']")


def hidden_rows(text: str) -> set[int]:
    """The rows a sheet part hides (``<row r="21" hidden="1">``: hidden by hand, or by a
    filter), 1-based. A row element without ``r`` is read in the form sheet_form rewrites."""
    if "hidden" not in text:
        return set()
    # From each hidden= to the tag it is in, not from each row tag to its hidden=: a sheet
    # formatted down to the grid's last row holds a million row tags, and taking each out to
    # look in it cost collect 2 s where no row was hidden (qa-returns64b).
    out = set()
    for found in _HIDDEN.finditer(text):
        before = text[found.start() - 1]
        if before.isalnum() or before == "_":       # not hidden= but, say, xhidden=
            continue
        tag = _ROW_TAG.match(text, text.rfind("<", 0, found.start()))
        if tag is not None and tag.end() >= found.end() and (m := _ROW_NUMBER.search(tag.group(0))):
            out.add(int(m.group(1)))
    return out


def ref_area(ref: str) -> Optional[tuple[int, int, int, int]]:
    """「H2:H3」 or 「H2」 as (first row, first col, last row, last col); None if not a range."""
    first, _, last = ref.upper().partition(":")
    ends = [_AREA_END.fullmatch(end) for end in (first, last or first)]
    if None in ends:
        return None
    (r1, c1), (r2, c2) = ((int(m.group(2)), column_number(m.group(1))) for m in ends)
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


# An end of an area as a part spells it. Not refs.parse_ref's cell of the grid: a merge that
# reaches past the grid (「G20:G99999999999」) is kept as written, so that the input cell under
# it is named with it (collect.inspect._merged_inputs); its digits are bounded (int() refuses
# past 4,300, leading zeros counted) and it is never walked.
_AREA_END = LazyPattern(rf"\$?([A-Z]{{1,{COLUMN_LETTERS}}})\$?0*([0-9]{{1,15}})")

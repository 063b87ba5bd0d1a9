"""Read the master workbook contract from plain grids of cell values.

Both adapters hand over the same thing: each sheet as a list of rows of values (from A1)
and each defined name as (sheet, cell). The file reader (renkei_xl.workbook.state, with
python-calamine) produces it from a file, xlwings from the open workbook. Reading the contract once, here, is what keeps the command line and the
buttons from ever disagreeing about which cell holds what.

Columns are located by header text within the first rows of each sheet, so staff may
insert, reorder and add columns. Structural problems that make the workbook unreadable
(no 指標 sheet, a missing required header, a missing defined name) are UserErrors; problems
in single cells become findings, so one bad cell never hides the others. An error value
(「#REF!」, as both readers hand it over) is never read as empty: in 設定 it refuses the run,
elsewhere validation reports it (values.error_value classifies it, once).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import sys
import unicodedata
from itertools import compress, groupby, islice, repeat
from operator import attrgetter, is_not, itemgetter
from decimal import Decimal
from typing import Callable, Iterator, Mapping, Optional, Sequence

from . import contract as c
from .errors import UserError
from .face import again
from .choices import CENTRAL_CITY, KINDS, PARTNER
from .copied_sheets import copied_sheets
from .model import Entry, Finding, Indicator, Municipality, Settings
from .refs import LAST_COLUMN, LAST_ROW, areas_holding, cell_ref, column_letter, named_cell, named_past_the_grid, named_span, parse_ref
from . import findings as F
from .validate import may_feed
from .values import (CELL_TEXT_LIMIT, EXCEL_CELL_SAID, NO_RESULT_VALUE, boolean_value, cell_length, error_named,
                     error_value, format_percent, listed, may_be_unread, odd_digit, unseen_char, unseen_kind, shown, unread_value)
from .digits import whole_number

Grid = Sequence[Sequence[object]]


class MasterData:
    """The contract read from a workbook; ``findings`` are the reader's own (bad cells).

    ``headers``: each readable municipality sheet's header row as text, columns staff added
    included: split copies every one of them into the input file, so collect can tell a
    column a municipality added to its return (a note it would lose) from one it was sent."""

    __slots__ = ("settings", "indicators", "entries", "findings", "headers")

    def __init__(self, settings: Settings, indicators: list[Indicator], entries: list[Entry],
                 findings: Optional[list[Finding]] = None, headers: Optional[dict[str, tuple[str, ...]]] = None):
        self.settings = settings
        self.indicators = indicators
        self.entries = entries
        self.findings = findings if findings is not None else []
        self.headers = headers if headers is not None else {}


# From here on a float has more digits than Excel's 15 (it shows 1.23456789012346E+15).
EXCEL_DIGITS_LIMIT = 1e15
_LARGEST_DOUBLE = int(sys.float_info.max)


# What a cell's text is stripped of: the spaces staff type around a value, not the control
# characters str.strip() also removes (NEL U+0085, U+001C–U+001F), which the value checks
# must see to name: 「10\x85」 was read as 10 in silence. One ``strip(_SPACES)`` per cell: a
# ``strip()`` with a second strip where it removed a control character took twice as long
# over the million cells of a 20,000 × 12 master, and gives the same text.
_SPACES = " \t\n\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
          "\u2028\u2029\u202f\u205f\u3000"


def text(value: object) -> str:
    """A cell as the text staff see: 17.0 → "17", dates → ISO, None → ""."""
    if type(value) is str:   # most cells, first: a 20,000-row master asks 1.4 million times
        return value.strip(_SPACES)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and -EXCEL_DIGITS_LIMIT < value < EXCEL_DIGITS_LIMIT:
            return str(int(value))
        if value != value or value in (math.inf, -math.inf):
            return format(Decimal(repr(value)), "f")
        # Excel keeps and shows 15 significant digits, and xlwings' VBA client sends a number
        # as CStr does (15 digits): a formula's 20.999999999999996 is 21 on every face.
        return format(Decimal(format(value, ".15g")), "f")
    if isinstance(value, dt.datetime):
        # to the second, as every reader of a cell reads one (to_whole_second): the contract
        # reader's loose rows hand calamine's datetime here unconverted, and a 目標値 of 16.32186
        # in a 和暦 date was 「1900-01-16 07:43:28.704000」 on the file and 「…07:43:29」 on a button
        value = to_whole_second(value)
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):        # a time of day (under one day's serial), as read
        return text(time_of_day_as_read(value))
    if isinstance(value, dt.timedelta):   # a duration, as the same serial in a date format
        return text(duration_as_read(value))
    if type(value) is int and not -EXCEL_DIGITS_LIMIT < value < EXCEL_DIGITS_LIMIT:
        # A whole Double past 15 digits reaches the live face as a JSON int (Office.js writes
        # 123456789012345680 for Excel's 1.23456789012346E+17): shown as Excel keeps it, as
        # the file face shows the same cell's float. One past a Double's range no client
        # sends (Excel holds none): its digits, which the value reader refuses as too many,
        # rather than OverflowError ending the click as an unexpected error.
        return text(float(value)) if abs(value) <= _LARGEST_DOUBLE else str(value)
    return str(value).strip()


_DAY = dt.timedelta(days=1)
_LAST_SECOND = dt.datetime(9999, 12, 31, 23, 59, 59)
# The first serial past Excel's last date (9999-12-31 is serial 2958465).
_PAST_LAST_DATE = dt.timedelta(days=2958466)


def to_whole_second(value: dt.datetime) -> dt.datetime:
    """A date-time to the nearest second, as xlwings' VBA client sends every date (VBA's
    Date keeps no fraction of a second): =NOW() saved as 10:30:00.6 read 「10:30:00.600000」
    from the file and 「10:30:01」 from the button, and the server's saved-workbook check
    could never find the two equal. Both faces read a cell through this."""
    if not value.microsecond:
        return value
    whole = value.replace(microsecond=0)
    if value.microsecond < 500_000 or whole == _LAST_SECOND:   # 9999-12-31 23:59:59.6 has no next second
        return whole
    return whole + dt.timedelta(seconds=1)


def time_of_day_as_read(value: dt.time) -> "str | dt.date":
    """A time of day (calamine's for a serial under 1 in a date or time format) as both faces
    read it: its text to the second (to_whole_second), 23:59:59.6 being the next day, serial 1
    (1900-01-01 as Excel counts). Read through workbook.sheet_rows.as_read and ``text`` alike."""
    if not value.microsecond:
        return value.isoformat()
    when = to_whole_second(dt.datetime.combine(EXCEL_DAY_ZERO.date(), value))
    return when.time().isoformat() if when.day == EXCEL_DAY_ZERO.day else EXCEL_FIRST_DAY.date()


# Excel's day count (the 1900 system): serial 1 is 1900-01-01, and 1900 counts as a leap year
# (serial 60 its 29 February), so from 1900-03-01 a day's serial is its days since 1899-12-30
# (OLE Automation's day 0, which every client of Excel counts from) and before it one more.
# Each reader and writer of a serial, on either face, counts from these.
EXCEL_DAY_ZERO = dt.datetime(1899, 12, 30)
EXCEL_FIRST_DAY, LEAP_1900_END = dt.datetime(1900, 1, 1), dt.datetime(1900, 3, 1)


def duration_as_read(value: dt.timedelta) -> object:
    """A duration (「25:30」 typed into a cell Excel formats [h]:mm) read as calamine reads the
    same serial in a date format: under a day a time of day, else a date of Excel's day
    count (1-59 from 1899-12-31, 60 Excel's fictitious 29 February as 1900-02-28). It was
    its days, 1.0625, which a 実績値 took as a number without a word; the value parser says
    what a time or a date is. And it is what the live face reads: no engine says a cell's
    format, every client hands a duration over as a date (excel.book.as_file_reads; workbook.sheet_rows.as_read
    gives a sheet's rows through this, ``text`` a loose cell), so
    both faces read the cell alike and the server's saved-workbook check can agree."""
    if value < dt.timedelta(0) or value >= _PAST_LAST_DATE:
        # No date of Excel's (serials 0 to 9999-12-31): Excel shows #####, and hands its
        # clients the number, which both faces read (workbook.stored_values.check_stored_values);
        # a date past year 9999 raised OverflowError here.
        return value / _DAY
    # to_whole_second's rounding, never past the last second of 9999-12-31
    value = min(dt.timedelta(seconds=round(value.total_seconds())), _PAST_LAST_DATE - dt.timedelta(seconds=1))
    if value < _DAY:
        return (dt.datetime.min + value % _DAY).time().isoformat()
    if value < 60 * _DAY:
        when = EXCEL_DAY_ZERO + _DAY + value
    elif value < 61 * _DAY:
        when = LEAP_1900_END - _DAY + (value - 60 * _DAY)
    else:
        when = EXCEL_DAY_ZERO + value
    return when.date() if when.time() == dt.time() else when


_FIRST_DAY_1904 = dt.datetime(1904, 1, 1)


def excel_serial(value: "dt.date | dt.time", date1904: bool = False) -> float:
    """The serial Excel stores for a date, a date-time or a time of day (the fraction of a
    day, whatever the book counts from; calamine gives a time cell as one): duration_as_read's
    count the other way.
    Excel counts 1900 as a leap year (serial 60 its 29 February), so a day from 1900-03-01 is
    its days since 1899-12-30 and one before since 1899-12-31: counted from 1899-12-30 alone,
    the file face wrote a staff cell's 1900-01-15 (a 15 typed into a date cell) as 16, a day
    later at every write, while the buttons' Excel kept it. Excel has no date before
    1900-01-01: no read gives one and no plan makes one (基準日 and 対象年度 are bounded by
    YEAR_RANGE), so one is a ValueError here, never a serial Excel shows as another date.
    ``date1904``: a book that counts from 1904-01-01 (Excel's 「1904 年から計算する」, workbookPr
    date1904), which has no leap 1900 and no date before its first day."""
    if isinstance(value, dt.time):
        return (value.hour * 3600 + value.minute * 60 + value.second) / 86400 + value.microsecond / 86400e6
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    value = value.replace(tzinfo=None)
    first = _FIRST_DAY_1904 if date1904 else EXCEL_FIRST_DAY
    if value < first:
        raise ValueError(f"no Excel date before {first:%Y-%m-%d}: {value}")
    delta = value - (first if date1904 else EXCEL_DAY_ZERO if value >= LEAP_1900_END else EXCEL_DAY_ZERO + _DAY)
    return delta.days + delta.seconds / 86400 + delta.microseconds / 86400e6


class _NumberTexts(dict):
    """float → its text, each distinct number turned once: the 実績値 of a large master are
    numbers, mostly a few small counts (「0」…「12」) on 200,000 rows. Bounded: a sheet of
    distinct numbers gains nothing from it."""

    def __missing__(self, value: float) -> str:
        if len(self) >= 4096:
            self.clear()
        shown = self[value] = text(value)
        return shown


def _at(grid: Grid, row: int, col: int) -> object:
    if row - 1 < len(grid) and col - 1 < len(grid[row - 1]):
        return grid[row - 1][col - 1]
    return None


class RowCells(Mapping[str, str]):
    """field → cell reference ("G5") of one row, computed when asked.

    A 20,000-indicator master has 200,000 entry rows; a dict of seven reference strings
    for each took more memory than all the values together.
    """

    __slots__ = ("_cols", "_row")

    def __init__(self, cols: Mapping[str, int], row: int):
        self._cols = cols
        self._row = row

    def __getitem__(self, field_name: str) -> str:
        return f"{column_letter(self._cols[field_name])}{self._row}"

    def get(self, field_name: str, default=None):
        col = self._cols.get(field_name)
        return default if col is None else f"{column_letter(col)}{self._row}"

    def __iter__(self):
        return iter(self._cols)

    def __len__(self) -> int:
        return len(self._cols)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self.items()) == dict(other.items())

    def __hash__(self) -> int:
        return hash((self._row, tuple(self._cols.items())))

    def __repr__(self) -> str:
        return repr(dict(self.items()))


class Book:
    """The grids and names of one workbook, with the lookups the contract needs."""

    def __init__(self, sheets: Mapping[str, Grid], names: Mapping[str, tuple[str, str]],
                 formats=None):
        """``formats``: the cells whose number format may show a percent, as the face knows
        them, and how they are read (read_contract)."""
        self.sheets = sheets
        self.names = names
        self.formats = formats
        # (sheet, row, col, number, format, field) of each number read as the percent it
        # shows: read_contract's findings on them.
        self.percents: list[tuple[str, int, int, object, str, str]] = []
        # (sheet, row, col, number, format, field, what it shows) of each number whose format
        # shows it otherwise and is not read so (core.displayed.shown_otherwise): refused.
        self.otherwise: list[tuple[str, int, int, object, str, str, str]] = []

    def broken(self, name: str) -> Optional[str]:
        """What to say of ``name`` when the workbook defines it but not as one range (「設定!#REF!」
        after the row it pointed at was deleted): its formula, and where staff mend it. None
        when it is not so, or the face cannot tell (the buttons' client leaves such a name out)."""
        formula = getattr(self.names, "unresolved", {}).get(name)
        if formula is None:
            return None
        why = (f"は Excel のシートの範囲（{cell_ref(LAST_ROW, LAST_COLUMN)} まで）の外で、セルを指していません"
               "（ファイルが壊れています）" if named_past_the_grid(formula) else
               "がセルを指していません（参照先が壊れています。参照先の行や列を削除するとこうなります）")
        return (f"名前の定義「{name}」の参照先「{shown(formula)[:60]}」{why}。［数式］タブの［名前の管理］で"
                f"「{name}」の参照先を、その値を入れたセルに直してください")

    def named(self, name: str) -> tuple[str, str, object]:
        scoped = getattr(self.names, "scoped", {}).get(name, [])
        if name not in self.names:
            broken = self.broken(name)
            if broken is not None:
                raise UserError(broken)
            if scoped:
                sheet, formula = scoped[0]
                raise UserError(f"名前の定義「{name}」は、シート「{sheet}」だけの名前です（参照先「{shown(formula)[:60]}」）。"
                                f"［数式］タブの［名前の管理］で「{name}」を、範囲を「ブック」にして定義し直してください")
            # The buttons' client leaves out a name whose reference is broken, so here a
            # missing name may be a broken one: the message says both.
            raise UserError(f"名前の定義「{name}」がないか、参照先が壊れています（#REF! など。参照先のセルを削除すると"
                            f"こうなります）。設定シートの値のセルに名前「{name}」を付け直してください")
        sheet, ref = self.names[name]
        for scope, formula in scoped:
            if scope != sheet:
                # Another sheet's own name is read on that sheet alone: a copy of 設定 made in
                # Excel or Calc (［移動またはコピー］) gets its own 対象年度 pointing into the copy
                # ('設定 (2)'!$B$3), and every command was refused until staff deleted it; 設定
                # shows staff the workbook's, which the tool reads.
                continue
            if named_cell(formula) != (sheet, ref) or named_span(formula) != getattr(self.names, "spans", {}).get(name):
                # Excel reads the sheet's own on that sheet (=対象年度 typed in 設定) and the
                # workbook's elsewhere: which one staff mean by the setting is a guess.
                raise UserError(f"名前の定義「{name}」が、ブック全体の名前（参照先「{sheet}!{ref}」）と、シート「{scope}」"
                                f"だけの名前（参照先「{shown(formula)[:60]}」）の 2 つあり、参照先が違います。どちらを読むか"
                                f"決められないため、［数式］タブの［名前の管理］で、範囲がシート「{scope}」の「{name}」を"
                                "削除してください")
        if sheet not in self.sheets:
            # A name refers to a sheet the workbook has (Excel makes one to a deleted sheet
            # #REF!): here, one the tool does not read (メニュー, 経年, a sheet of the staff's
            # own). 「参照先シート「経年」がありません」 sent staff looking for a sheet in front of them.
            raise UserError(f"名前の定義「{name}」の参照先「{sheet}!{ref.split(':')[0]}」は、このツールが読まないシートの"
                            f"セルです。［数式］タブの［名前の管理］で「{name}」の参照先を、シート「{c.SETTINGS}」の"
                            "値のセルに直してください")
        row, col = parse_ref(ref.split(":")[0])
        span = getattr(self.names, "spans", {}).get(name)
        if span is not None:
            self._one_value(name, sheet, span)
        return sheet, cell_ref(row, col), _at(self.sheets[sheet], row, col)

    def _one_value(self, name: str, sheet: str, span: str) -> None:
        """A setting's name over several cells is read from its first cell only when the
        others are empty (a merged cell named as Excel names it: 「$B$3:$C$3」). Otherwise which
        cell holds the setting is a guess: 圏域名 over 「B2:B3」 was the region, and over
        「B3:B4」 the year read as the region, in every title, without a word."""
        first, last = (parse_ref(r) for r in span.split(":"))
        grid = self.sheets[sheet]
        top, bottom = min(first[0], last[0]), max(first[0], last[0])
        left, right = min(first[1], last[1]), max(first[1], last[1])
        for r in range(top, min(bottom, len(grid)) + 1):
            cells = grid[r - 1]
            for k in range(left, min(right, len(cells)) + 1):
                if (r, k) != (top, left) and text(cells[k - 1]) != "":
                    where = cell_ref(r, k)
                    raise UserError(f"名前の定義「{name}」の参照先「{sheet}!{span}」は複数のセルで、先頭の "
                                    f"{cell_ref(top, left)} のほかに {where} にも値があります。どのセルを読むか決められないため、"
                                    f"［数式］タブの［名前の管理］で「{name}」の参照先を、その値を入れたセル 1 つに直してください")

    def _unsaved_marked(self, sheet: str, row_no: int, row: Sequence[object]) -> Sequence[object]:
        """``row`` (the header row ``row_no`` of ``sheet``) with each cell holding a formula
        saved without its result as NO_RESULT_VALUE, where the face can tell (the file face's
        sheets answer ``unsaved_in_row``; Excel calculates before its clients send a book).
        Such a cell reads as empty: a header there was refused as 「空欄…書き換えられています」,
        staff told to type back the header Excel shows in it, and one over an empty column was
        read as no column without a word, where an error value in its place is named. Asked
        only of a row missing one of its headers, so a whole master pays nothing."""
        unsaved = getattr(self.sheets, "unsaved_in_row", None)
        cols = unsaved(sheet, row_no) if unsaved is not None else ()
        if not cols:
            return row
        marked = list(row) + [None] * (max(cols) - len(row))
        for col in cols:
            marked[col - 1] = NO_RESULT_VALUE
        return marked

    def header(self, sheet: str, headers: Mapping[str, str], required: Sequence[str], *, table_top: bool = False,
               laid_out: bool = False, rows: int = c.HEADER_SEARCH_ROWS) -> tuple[int, dict[str, int]]:
        """(header row, field → column) located by header text. ``table_top``: the header
        heads a table that starts at it (指標, a municipality's sheet), so a row of that
        table above it is refused (_rows_above). ``laid_out``: the tool made the row with
        ``headers`` side by side in their order (設定, 指標, a municipality's sheet), so one
        of them missing where its place holds something else was typed over (refuse_typed_over).
        ``rows``: how far down it is looked for; further only where the caller knows the row
        (a returned file's header moved down, told by its hidden columns: collect.inspect)."""
        grid = self.sheets[sheet]
        wanted = {h: f for f, h in headers.items()}
        best: tuple[int, dict[str, int]] = (0, {})
        for r in range(1, min(len(grid), rows) + 1):
            found: dict[str, int] = {}
            for col, value in enumerate(grid[r - 1], start=1):
                key = text(value)
                if key in wanted and wanted[key] not in found:
                    found[wanted[key]] = col
            if len(found) > len(best[1]):
                best = (r, found)
        row_no, cols = best
        row = grid[row_no - 1] if row_no else ()
        _refuse_repeated_header(sheet, row_no, row, wanted)
        if row_no and len(cols) < len(headers):
            row = self._unsaved_marked(sheet, row_no, row)
        missing = [headers[f] for f in required if f not in cols]
        broken = _broken_header(row, cols)
        if broken:
            ref = cell_ref(row_no, broken[0])
            why = f"のため、見出し「{'」「'.join(missing)}」が見つかりません" if missing else \
                "です（どの列の見出しか分からないため、その列を空欄としては扱いません）"
            mend = (f"このファイルを Excel で開いて保存し直すか、{ref} に見出しを入力し直してください"
                    if broken[1] == NO_RESULT_VALUE else f"{ref} に見出しを入力し直してください")
            raise HeaderError(f"シート「{sheet}」の見出しのセル {ref} が{error_named(broken[1])}{why}。{mend}", ref)
        if laid_out and cols:
            refuse_typed_over(sheet, grid, row_no, headers, cols)
        if missing:
            shown_missing = "」「".join(missing)
            raise HeaderError(f"シート「{sheet}」に見出し「{shown_missing}」が見つかりません"
                              f"（{c.HEADER_SEARCH_ROWS}行目までに見出し行が必要です）")
        if table_top:
            _rows_above(sheet, grid, row_no, cols, required[0])
        return row_no, cols

    def rows(self, sheet: str, header_row: int, cols: Mapping[str, int]):
        """(row number, field → text, field → cell) for each non-empty row below the header."""
        fields = tuple(cols)
        for r, texts in self.texts(sheet, header_row, cols, fields):
            yield r, dict(zip(fields, texts)), RowCells(cols, r)

    def texts(self, sheet: str, header_row: int, cols: Mapping[str, int], fields: Sequence[str]):
        """(row number, the texts of ``fields`` in that order) for each row below the header
        with any located column filled; a field without a column reads "".

        The hot loop of a large master (200,000 entry rows): the grid is walked by its
        iterator (a streamed sheet converts each row once), text cells, nearly all of them,
        are stripped without a call to ``text``, and a row is a list, not a dict (the
        entries reader unpacks it straight into an Entry: 0.3 s of a 20,000-indicator run)."""
        grid = self.sheets[sheet]
        present = [f for f in fields if f in cols]
        columns = [cols[f] - 1 for f in present]
        if not columns:
            return
        pick = itemgetter(*columns) if len(columns) > 1 else (lambda row: (row[columns[0]],))
        need = max(columns) + 1
        fill = [i for i, f in enumerate(fields) if f not in cols]   # fields without a column: ""
        others = [col - 1 for f, col in cols.items() if f not in fields]
        r = header_row
        numbers = _NumberTexts()
        spaces = _SPACES
        shown = self._shown_cells(sheet, present, columns)
        for row in islice(grid, header_row, None):
            r += 1
            got = pick(row) if len(row) >= need else [row[i] if i < len(row) else None for i in columns]
            values = [v.strip(spaces) if type(v) is str else numbers[v] if type(v) is float else text(v) for v in got]
            if shown and r in shown[1]:
                self._read_as_shown(sheet, r, got, values, shown)
            for i in fill:
                values.insert(i, "")
            if any(values) or any(text(row[i]) for i in others if i < len(row)):
                yield r, values


    def _shown_cells(self, sheet: str, present: Sequence[str], columns: Sequence[int]):
        """For ``texts``: (position, column, field) of the read columns a percent format is
        read on, the rows holding a cell of such a format, and the formats; None where the
        sheet has none (the hot loop then asks nothing more of a row)."""
        if self.formats is None:
            return None
        fields = self.formats.FIELDS
        wanted = [(i, col + 1, f) for i, (f, col) in enumerate(zip(present, columns)) if f in fields]
        formats = self.formats.cells(sheet) if wanted else None
        return (wanted, {row for row, _col in formats}, formats) if formats else None

    def _read_as_shown(self, sheet: str, r: int, got: Sequence[object], values: list[str], shown) -> None:
        """Row ``r``'s numbers read as the percent their format shows (core.percent_cells),
        in place in ``values``."""
        percent_read = self.formats.read
        wanted, _rows, formats = shown
        for i, col, field in wanted:
            fmt = formats.get((r, col))
            read = percent_read(got[i], fmt, field) if fmt else None
            if read is not None:
                values[i] = read
                self.percents.append((sheet, r, col, got[i], fmt, field))
            elif fmt and (seen := self.formats.otherwise(got[i], fmt, field)) is not None:
                self.otherwise.append((sheet, r, col, got[i], fmt, field, seen))


YEAR_RANGE = (2000, 2100)      # 対象年度, both ends included (the builder's validation too)
# 概ね達成閾値 as a ratio: above the first, at most the second. SPEC sets no floor beyond
# "a ratio" (□ is 「閾値以上」), so the builder's validation states this rule too, not 50%.
THRESHOLD_RANGE = (0, 1)
# The longest 圏域名 read: every title made from it (一覧's with 【確定版】, 集計's, 次の一歩's, an
# input file's) is one cell, which holds CELL_TEXT_LIMIT characters; TITLE_WORDS is the room
# kept for a title's other words (the year and its name: 32 characters at most today).
# A 圏域名 of Excel's 32,767 characters (a report pasted into 設定!B2) made titles of 32,786
# characters: the command line wrote cells Excel cannot hold, and the buttons met error 1004
# halfway through their write-back (Excel specifications and limits: 32,767 per cell).
TITLE_WORDS = 64
REGION_MAX = CELL_TEXT_LIMIT - TITLE_WORDS


def _broken_header(row: Sequence[object], cols: Mapping[str, int]) -> Optional[tuple[int, str]]:
    """(column, error) of the first header cell of the table holding an error value (a
    broken reference pasted over it) or a TRUE/FALSE (a check box linked to it, a comparison
    formula: values.unread_value, as 経年's header), or None. It may be any column's header, an optional
    one's too (分母, 実施状況, メールアドレス): read as no header, that whole column was read
    as empty. The table is the run of filled cells around the headers found: 設定's header
    row also holds the choice lists further right, which are no headers."""
    filled = [v is not None and text(v) != "" for v in row]
    first = min(cols.values(), default=0)
    if not first:
        return next(((col, e) for col, v in enumerate(row, start=1) if (e := unread_value(v))), None)
    lo, hi = first - 1, max(cols.values()) - 1
    while lo > 0 and filled[lo - 1]:
        lo -= 1
    while hi + 1 < len(row) and filled[hi + 1]:
        hi += 1
    return next(((col, e) for col, v in enumerate(row[lo:hi + 1], start=lo + 1) if (e := unread_value(v))), None)


def refuse_typed_over(sheet: str, grid: Sequence[Sequence[object]], row_no: int, headers: Mapping[str, str],
                      cols: Mapping[str, int], ours: Optional[Callable[[str], bool]] = None) -> None:
    """Refuses a header of ``headers`` missing from the row where its place holds something
    else: the cell between the headers before and after it (the one after the header
    before it, for the last), every master the tool made having them side by side in this
    order. Read as no such column, a 「実績値（手入力）」 typed over 「実績値(手入力)」 lost every
    typed 実績値 and a 「基本KPI」 typed over made the KPI rows indicators, without a word
    (qa-131). A column deleted (its neighbours side by side, or the place holding another
    header of ours) was never there and reads as before; so does a place blank over an
    empty column, which reads the same either way, and one with columns staff inserted
    around it (which cell was it?). ``ours``: whether a header text is another of the tool's
    in that row (経年's years beside its fixed headers); by default one of ``headers``."""
    order = [headers[f] for f in headers]
    if ours is None:
        ours = set(order).__contains__
    found = {headers[f]: col for f, col in cols.items()}
    for field in headers:
        if field in cols or (place := typed_over_place(grid, row_no, order, found, headers[field], ours)) is None:
            continue
        held = text(grid[row_no - 1][place - 1]) if place <= len(grid[row_no - 1]) else ""
        ref = cell_ref(row_no, place)
        # quoted as a cell's text is (values.shown): a 32,767-character text typed over a
        # header was copied into the refusal whole, and a control character raw (qa-132)
        now = f"「{shown(held)}」" if held else "空欄（その下の列には値があります）"
        raise HeaderError(f"シート「{sheet}」の見出し「{headers[field]}」が見つかりません（その見出しのあるはずのセル {ref} は"
                          f"{now}です。見出しが書き換えられています）。{ref} を「{headers[field]}」に戻してから、もう一度"
                          f"{again()}ください（見出しがないと、その列を空欄として読んでしまいます）", ref)


def typed_over_place(grid: Sequence[Sequence[object]], row_no: int, order: Sequence[str], found: Mapping[str, int],
                     header: str, ours: Callable[[str], bool]) -> Optional[int]:
    """The column where ``header``, missing from row ``row_no``, stood when the tool wrote
    ``order`` side by side, if that place now holds something else (a text not ``ours``, or
    a blank over values); None when it was never there or cannot be told (refuse_typed_over).
    ``found``: header → column of those in the row."""
    k = list(order).index(header)
    before = found.get(order[k - 1]) if k else None
    after = found.get(order[k + 1]) if k + 1 < len(order) else None
    if before is not None and after is not None:
        place = before + 1 if after - before == 2 else None
    else:
        place = before + 1 if before is not None else after - 1 if after is not None else None
    if not place or place < 1:
        return None
    row = grid[row_no - 1]
    held = text(row[place - 1]) if place <= len(row) else ""
    if ours(held) or (not held and not any(text(r[place - 1]) for r in grid[row_no:] if place <= len(r))):
        return None
    return place


class HeaderError(UserError):
    """A header row that cannot be read, with the cell staff should look at."""

    def __init__(self, message: str, cell: str = "A1"):
        super().__init__(message)
        self.cell = cell


def _rows_above(sheet: str, grid: Grid, row_no: int, cols: Mapping[str, int], key: str) -> None:
    """A row of the table above its header row: Calc's 並べ替え without 「範囲に列見出しを含む」
    (or Excel's with 「先頭行をデータの見出しとして使用する」 off) sorts the header in among
    the rows, 「指標ID」 after every 「04-1」, and only the rows below it were read: a
    municipality's figures left out of every total with a warning that its rows were
    missing. A row counts as the table's when its key (指標ID) and another located column
    are filled; a title line above the header is not."""
    key_col = cols[key]
    others = [col for field, col in cols.items() if field != key]
    for r, row in enumerate(islice(grid, row_no - 1), start=1):
        if key_col <= len(row) and text(row[key_col - 1]) and any(col <= len(row) and text(row[col - 1])
                                                                  for col in others):
            ref, header = cell_ref(r, key_col), cell_ref(row_no, key_col)
            raise HeaderError(f"{sheet}!{ref} の「{shown(text(row[key_col - 1]))[:40]}」の行は、見出し行（{sheet}!{header}）"
                              "より上にあるため読まれず、どこにも集計されません（並べ替えで見出し行が表の途中に"
                              "移ったときなど）。見出し行を表の一番上に戻してください", ref)


def _refuse_repeated_header(sheet: str, row_no: int, row: Sequence[object], wanted: Mapping[str, str]) -> None:
    """A header that appears twice in the header row: which column holds the values cannot
    be told, and reading either one would be a guess (the other's values ignored)."""
    seen: dict[str, int] = {}
    for col, value in enumerate(row, start=1):
        key = text(value)
        if key not in wanted:
            continue
        if key in seen:
            first, again = cell_ref(row_no, seen[key]), cell_ref(row_no, col)
            raise HeaderError(f"シート「{sheet}」の見出し「{key}」が {first} と {again} の 2 か所にあります。"
                              "どちらの列を読むか決められないため、一方の見出しを変えるか列を削除してください", again)
        seen[key] = col


def read_settings(book: Book) -> Settings:
    """設定: region, 対象年度 (a plausible western year), 基準日, 概ね達成閾値 (0 < t ≤ 100%)
    and a non-empty municipality table. A bad setting is a UserError naming its cell:
    every symbol depends on these, so nothing is computed from a guess."""
    if c.SETTINGS not in book.sheets:
        raise UserError(no_sheet(c.SETTINGS, book.sheets))
    sheet, ref, value = _setting(book, c.N_REGION, as_text=True)
    region = text(value)
    if not region:
        # Every title (一覧, 集計, 次の一歩, each input file, the 確定版) and the 確定版's file name
        # open with it: left empty (or spaces), 入力チェック passed, recalc titled 一覧
        # 「 2023年度 …」 and export wrote 「_2023年度_連携事業実施状況等一覧.xlsx」, while only the
        # mail refused it, naming no cell. One refusal here, on every command and face.
        raise UserError(f"{sheet}!{ref}: 圏域名が空です。一覧・集計・確定版の表題とファイル名、メールの件名に入るため、"
                        "入力してください（例: さっぽろ連携中枢都市圏）")
    # Half of a surrogate pair is let through: Excel holds it (a 圏域名 cut inside an emoji by
    # =LEFT) and the server sends it back as it came (test_server).
    if (bad := unseen_char(region, ("Cc", "Cf"))) is not None:
        # Every title of 一覧, 集計 and 次の一歩 carries it: a line break pasted from Word (U+000B)
        # or a control character Excel saved as 「_x0007_」 was published there without a word.
        # Named by place and code point, as the mail's check of 圏域名 names a line break: it
        # shows as nothing. So does a zero-width space, a BOM or a Hangul filler (unseen_char):
        # one alone made a 圏域名 that looks empty in its cell, titled every sheet and mail with
        # it, and passed 入力チェック on both faces (qa-103).
        shown_as = "".join(ch for ch in region if ch.isprintable() and ch != bad)
        raise UserError(f"{sheet}!{ref}: 圏域名「{shown_as}」の{region.index(bad) + 1}文字目に{unseen_kind(bad)} U+{ord(bad):04X} が"
                        "入っています。一覧などの表題に載るため、その文字を消して入力し直してください")
    if (n := cell_length(region)) > REGION_MAX:
        raise UserError(f"{sheet}!{ref}: 圏域名が{n:,}文字あります。一覧・集計などの表題（それぞれ 1 つのセル）に載るため、"
                        f"{REGION_MAX:,}文字以内にしてください（{EXCEL_CELL_SAID}。"
                        "何も書き込んでいません）")
    sheet, ref, value = _setting(book, c.N_YEAR)
    year = _year(f"{sheet}!{ref}", value)
    sheet, ref, base = _setting(book, c.N_BASE_DATE)
    base = _base_date(f"{sheet}!{ref}", base, year)
    sheet, ref, value = _setting(book, c.N_THRESHOLD)
    threshold = _threshold(f"{sheet}!{ref}", value)
    return Settings(region, year, base, threshold, tuple(_municipalities(book)))


def base_date_bounds(year: int) -> tuple[dt.date, dt.date]:
    """The 基準日 a master of ``year`` takes: from the year's first day to a year after its
    end (the builder's validation takes the envelope over YEAR_RANGE)."""
    return dt.date(year, 4, 1), dt.date(year + 2, 3, 31)


def _base_date(where: str, base: object, year: int) -> Optional[dt.date]:
    """基準日 as a date in 対象年度 or the year after it (the date the figures are as of,
    written into every input file: 「2024年3月31日時点」), or None when empty (then 年度末).
    A 0 or a time (what a cleared date cell or 「=IF(…,"",0)」 leaves) is no date: the file
    reader gets it as a time and the buttons as the serial 0, so both are refused alike."""
    if isinstance(base, (dt.time, dt.timedelta)) or (
            isinstance(base, (int, float)) and not isinstance(base, bool) and base < 1):
        # a negative number too: Excel has no date before serial 0 (the cell shows #####)
        raise UserError(f"{where}: 基準日が日付ではありません（0 以下の数か時刻が入っています）。"
                        "2024/03/31 のように日付を入力してください")
    if isinstance(base, dt.datetime):
        base = base.date()
    elif isinstance(base, (int, float)) and not isinstance(base, bool):
        try:
            base = EXCEL_DAY_ZERO.date() + dt.timedelta(days=int(base))  # an Excel serial date
        except (OverflowError, ValueError):
            raise UserError(f"{where}: 基準日「{shown(text(base))}」を日付として読めません"
                            "（例: 2024/03/31）") from None
    elif base is not None and not isinstance(base, dt.date):
        from .fiscal import DateParseError, parse_date
        try:
            typed = parse_date(text(base)) if text(base) else None
        except DateParseError as exc:
            raise UserError(f"{where}: 基準日を読めません（{exc}）") from None
        if typed is not None and typed.month is None:
            # 「2024年」「令和6年」 name no day: read as the year's last day (a target's deadline is
            # read so, generously), it went into every input file as 「2024年12月31日時点」 and
            # 一覧's header as 「（１２月末時点）」 without a word. A month alone (「R6.3月」) is its end.
            raise UserError(f"{where}: 基準日「{shown(text(base))}」には月と日がありません。"
                            "2024/03/31 のように日付を入力してください")
        base = typed.to_date() if typed is not None else None
    first, last = base_date_bounds(year)
    if base is not None and not first <= base <= last:
        raise UserError(f"{where}: 基準日 {base:%Y/%m/%d} が対象年度（{year}年度）と合いません。"
                        f"{first:%Y/%m/%d} から {last:%Y/%m/%d}（年度末の1年後）までの日付にしてください")
    return base


def refuse_cell_error(where: str, label: str, value: object, *, as_text: bool = True) -> None:
    """A setting holding an error value (「#REF!」) is refused, never read as empty: every
    symbol depends on 設定, so nothing is computed around it. So is a text setting holding
    TRUE/FALSE (values.boolean_value: a check box's linked cell, TRUE typed into a 標準 cell):
    read as the text 「FALSE」 it was a municipality whose sheet was missing (the finding
    named the place 「FALSE」, not the cell), an address 入力チェック passed, a 圏域名 in every
    title. A number or a date setting (``as_text`` False) refuses one in its own words.
    Said as the finding of such a cell is (findings.unread_found), on every face."""
    held = error_value(value) or (boolean_value(value) if as_text else None)
    if held is not None:
        found = F.unread_found("", "", "", label, held)
        raise UserError(f"{where}: {found.message}。{found.hint}")


def _setting(book: Book, name: str, as_text: bool = False) -> tuple[str, str, object]:
    sheet, ref, value = book.named(name)
    refuse_cell_error(f"{sheet}!{ref}", name, value, as_text=as_text)
    return sheet, ref, value


def server_folder(book: Book) -> tuple[str, str]:
    """設定's サーバー作業フォルダー as typed and where it is ("設定!B6"); ("", "") when the
    master has no such name (it is optional: only the server needs it). A name the workbook
    defines with a broken reference (「設定!#REF!」) is refused, never taken for no name: the
    server said 「…が空です」 of it, sending staff to a cell that held the folder all along.
    Where the face cannot tell a broken name from none (the buttons' client leaves it out),
    the caller's message says both (server.place)."""
    if c.N_SERVER_FOLDER not in book.names:
        if (broken := book.broken(c.N_SERVER_FOLDER)) is not None:
            raise UserError(broken)
        return "", ""
    sheet, ref, value = _setting(book, c.N_SERVER_FOLDER, as_text=True)
    return text(value), f"{sheet}!{ref}"


def _year(where: str, value: object) -> int:
    """対象年度: a western year within YEAR_RANGE (2023, 2023.0, 「２０２３」)."""
    lo, hi = YEAR_RANGE
    raw = "" if value is None else text(value)
    digits = unicodedata.normalize("NFKC", raw).strip()
    if isinstance(value, bool) or not re.fullmatch(r"[0-9]{1,6}", digits) or odd_digit(raw):   # 「٢٠٢٣」 too
        hint = ""
        if raw and len(raw) <= 20:
            from .fiscal import DateParseError, staff_year
            try:
                hint = f"（{shown(raw)} なら「{staff_year(raw)}」）"     # the one reading of 「令和5年度」「R5」
            except DateParseError:
                pass
        raise UserError(f"{where}: 対象年度「{shown(raw)}」は西暦の整数で入力してください{hint}（例: 2023）")
    year = int(digits)
    if not lo <= year <= hi:
        raise UserError(f"{where}: 対象年度「{shown(raw)}」は西暦4桁の年度（{lo}～{hi}）で入力してください（例: 2023）")
    return year


def year_name_refusal(file_name: str, year: Optional[int]) -> str:
    """Why a master named for another 年度 than its 対象年度 ``year`` is not used, "" when its
    name gives no single year or gives ``year`` (None: 設定 did not read, and the command's own
    read says why). Every output carries the year: a 2023 master copied by hand to
    「…_2024年度_…」, 設定 left as it was, made 12 「2023年度」 input files and a 2023 確定版
    (exit 0) that staff would have sent as 2024's, and rollover closed it as 2023 into a
    「…_2024年度_マスター_2024年度」 master. One rule, said alike by every command (the file
    face's workbook.session.opened), every button (excel.buttons._run: the open book's name)
    and the server's admission (the master's file in its folder)."""
    from .fiscal import named_year

    other = named_year(file_name)
    if year is None or other is None or other == year:
        return ""
    return (f"マスター「{file_name}」の名前は{other}年度ですが、「{c.SETTINGS}」の対象年度は {year}年度です"
            f"（何も作っていません）。{other}年度のマスターなら「{c.SETTINGS}」の対象年度を {other} に直し、"
            f"{year}年度のマスターなら名前を{year}年度に直してから、もう一度{again()}ください")


def check_fiscal_year(year: int, what: str) -> None:
    """A 対象年度 the tool is asked to write (init --year, rollover): within YEAR_RANGE, as
    the reader will take it (``_year``), so nothing is made that every later command refuses."""
    lo, hi = YEAR_RANGE
    if not lo <= year <= hi:
        raise UserError(f"{what}（{year}）は西暦の年度 {lo}～{hi} にしてください。何も作っていません")


def _threshold(where: str, value: object) -> float:
    """概ね達成閾値 as a fraction in THRESHOLD_RANGE, (0, 1].

    A number in (0, 1] is a fraction (0.85, or 85% formatted as a percentage); a whole
    number in (1, 100] is a percentage typed without the % format (85 → 85%); text may
    end in % (「85%」「８５％」). Anything else is refused: 1.5 is 150% (a cell formatted
    as a percentage showing 150%), 150, 0, negatives, text.
    """
    raw = "" if value is None else text(value)
    example = "（例: 85% または 0.85）"
    if isinstance(value, bool) or raw == "":
        raise UserError(f"{where}: 概ね達成閾値を割合で入力してください{example}")
    percent = False
    if isinstance(value, str):
        t = unicodedata.normalize("NFKC", value).strip()
        if t.endswith("%"):
            percent, t = True, t[:-1].strip()
        if not re.fullmatch(r"[+-]?[0-9]{1,15}(\.[0-9]{1,15})?", t) or odd_digit(value):   # 「٠.٨٥」 too
            raise UserError(f"{where}: 概ね達成閾値「{shown(raw)}」を割合として読めません{example}")
        number = Decimal(t)
    elif isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):   # an int past a Double: no isfinite
        # A float as Excel keeps and shows it (15 significant digits, as ``text`` reads every
        # number): 「=0.8+0.05」 is 0.8500000000000001, shown 85%, and the bands are drawn exactly
        # (values.below), so 17／20 was × against it on the file face and □ on a VBA client's.
        number = Decimal(format(value, ".15g")) if isinstance(value, float) else Decimal(value)
    else:
        raise UserError(f"{where}: 概ね達成閾値「{shown(raw)}」を割合として読めません{example}")
    if percent:
        ratio = number / 100
    elif 0 < number <= 1:
        ratio = number
    elif 1 < number <= 100 and number == number.to_integral_value():
        ratio = number / 100  # typed as 85 rather than 85%
    elif 1 < number <= 100:
        raise UserError(f"{where}: 概ね達成閾値「{shown(raw)}」は割合 {_pct(number)} を表し、100% を超えています。"
                        f"百分率のつもりなら「{number.normalize():f}%」のように % を付けて入力してください{example}")
    else:
        ratio = number / 100 if number > 100 else number
    lo, hi = THRESHOLD_RANGE
    if not lo < ratio <= hi:
        raise UserError(f"{where}: 概ね達成閾値「{shown(raw)}」（{_pct(ratio)}）は {format_percent(lo, None)} より大きく "
                        f"{format_percent(hi, None)} 以下にしてください{example}")
    return float(ratio)


def _pct(ratio: Decimal) -> str:
    return format_percent(float(ratio), None)


def _municipalities(book: Book) -> list[Municipality]:
    row_no, cols = book.header(c.SETTINGS, c.MUNI_HEADERS, ("name", "kind"), laid_out=True)
    out: list[Municipality] = []
    # The names above, as Excel compares sheet names and as name_key folds them: looked up,
    # not compared with every row above (2,000 rows took 4 million name_key calls, 18 s
    # before 入力チェック said a word).
    lowered: set[str] = set()
    keyed: dict[str, str] = {}
    for r, v, cells in book.rows(c.SETTINGS, row_no, cols):
        for field, value in v.items():
            refuse_cell_error(f"{c.SETTINGS}!{cells[field]}", c.MUNI_HEADERS[field], value)
        where = f"{c.SETTINGS}!{cells['name']}"
        problem = c.municipality_name_problem(v["name"])
        if problem:
            raise UserError(f"{where}: {problem}")
        if v["name"].lower() in lowered:   # as Excel compares sheet names
            raise UserError(f"{where}: 市町村名「{v['name']}」が重複しています")
        # Two rows for one municipality typed two ways (「南幌町」, 「南幌　町」): the second
        # would want a sheet of its own, and the missing-sheet finding would point it at the
        # first one's sheet as 「名前が違います」, inviting staff to rename the wrong sheet.
        same = keyed.get(key := name_key(v["name"]))
        lowered.add(v["name"].lower())
        keyed.setdefault(key, v["name"])
        if same is not None:
            raise UserError(f"{where}: 市町村名「{shown(v['name'])}」は、上の行の「{same}」と全角・半角やスペースだけが違う"
                            f"同じ名前です（{names_differ(v['name'], same)}）。重複した行を削除するか、名前を直してください")
        kind = v.get("kind") or PARTNER
        if kind not in KINDS:
            raise UserError(f"{c.SETTINGS}!{cells['kind']}: 区分「{shown(kind)}」は{'か'.join(f'「{k}」' for k in KINDS)}にしてください")
        out.append(Municipality(v["name"], kind, v.get("department", ""), v.get("email", ""), cells))
    if not out:
        first = cell_ref(row_no + 1, cols["name"])
        raise UserError(f"シート「{c.SETTINGS}」の市町村の一覧が空です（{c.SETTINGS}!{first} から下）。"
                        "見出し「市町村名」「区分」の下に、中心市と連携市町村を1行に1つずつ入力してください"
                        "（一覧が空のままでは、どの市町村シートも集計されません）")
    central = [m for m in out if m.kind == CENTRAL_CITY]
    if len(central) > 1:
        # Named by cell, as every other refusal of 設定 is: 「シート「設定」: …1つだけに」 left staff
        # to find the second 中心市 down the table (a row copied from 札幌市's and renamed).
        cells = listed((f"{c.SETTINGS}!{m.cell('kind')}（{shown(m.name)}）" for m in central), "か所")
        raise UserError(f"{c.SETTINGS}!{central[1].cell('kind')}: 区分「中心市」が {len(central)} つあります: {cells}。"
                        "中心市は1つだけにしてください（ほかは「連携市町村」）")
    if not any(m.kind == CENTRAL_CITY for m in out):
        # The central city's row deleted, sorted away or its 区分 cleared (a blank 区分 reads as
        # 連携市町村): every 中心市のみ row would then go ― 未集計 and a 確定版 be written with
        # them, though the city's sheet holds the figures. A 連携中枢都市圏 has one by definition.
        first = cell_ref(row_no + 1, cols["kind"])
        raise UserError(f"{c.SETTINGS}!{first}: 市町村の一覧に区分「中心市」の市町村がありません"
                        f"（{c.SETTINGS}!{first} から下）。中心市の行を戻すか、その区分を「中心市」にしてください"
                        "（中心市がないと、集計方法「中心市のみ」の指標が集計されません）")
    return out


# 指標's columns the reader turns into something other than text: an error value there
# would become None or False, so it is reported here (validate sees the texts).
CONVERTED = ("project_no", "is_kpi")
# The columns read_indicators reads, in the order of Indicator's first fields: each row is
# unpacked from a list and made with tuple.__new__ (a dict per row and typing.NamedTuple's
# keyword __new__ were half of reading 20,000 indicators, while the parse thread waited).
_INDICATOR_FIELDS = tuple(c.INDICATOR_HEADERS)
assert _INDICATOR_FIELDS == Indicator._fields[:len(_INDICATOR_FIELDS)] and len(Indicator._fields) == 16


def read_indicators(book: Book, findings: Optional[list[Finding]] = None) -> list[Indicator]:
    if c.INDICATORS not in book.sheets:
        raise UserError(no_sheet(c.INDICATORS, book.sheets))
    row_no, cols = book.header(c.INDICATORS, c.INDICATOR_HEADERS, c.INDICATOR_REQUIRED, table_top=True, laid_out=True)
    out = []
    one = sys.intern   # the texts a project's indicators share, and the few roles, methods, rules
    make = tuple.__new__
    for r, values in book.texts(c.INDICATORS, row_no, cols, _INDICATOR_FIELDS):
        (ind_id, role, typed_no, project_name, summary, name, baseline, target, method, rule, actual_manual,
         status_manual, typed_kpi) = values
        cells = RowCells(cols, r)
        if findings is not None:
            _converted_errors(typed_no, typed_kpi, ind_id, cells, findings)
        kpi = typed_kpi if typed_kpi.isascii() else unicodedata.normalize("NFKC", typed_kpi)   # 「１」 「ＫＰＩ」 as 「1」 「KPI」
        if kpi not in c.KPI_TRUE and kpi not in c.KPI_FALSE and error_value(kpi) is None and findings is not None:
            findings.append(F.UNKNOWN_KPI_MARK.at(c.INDICATORS, cells["is_kpi"], ind_id, value=shown(typed_kpi),
                                                  mark=c.KPI_MARK, marks="、".join(c.KPI_MARKS_SHOWN)))
        no, problem = project_number(typed_no)
        if problem is not None and findings is not None:
            findings.append(F.PROJECT_NO.at(c.INDICATORS, cells["project_no"], ind_id, **problem))
        out.append(make(Indicator, (ind_id, one(role), no, one(project_name), one(summary), name, baseline, target,
                                    one(method), one(rule), actual_manual, status_manual, kpi in c.KPI_TRUE,
                                    c.INDICATORS, r, cells)))
    if not out and findings is not None:
        first = RowCells(cols, row_no + 1)["id"]
        findings.append(F.NO_INDICATORS.at(c.INDICATORS, first, name=c.INDICATORS, first=first))
    return out


def _converted_errors(typed_no: str, typed_kpi: str, ind_id: str, cells: RowCells, findings: list[Finding]) -> None:
    """An error value in a column read as something else than text (CONVERTED), named."""
    for field, raw in zip(CONVERTED, (typed_no, typed_kpi)):
        error = error_value(raw)
        if error is not None:
            findings.append(F.unread_found(c.INDICATORS, cells[field], ind_id, c.INDICATOR_HEADERS[field], error))


def project_number(raw: str) -> tuple[Optional[int], Optional[dict[str, str]]]:
    """事業No as 一覧 prints it before 連携事業名: a whole number from 1 in ASCII or full-width
    digits (what Excel's own rule on the column, 1 以上の整数, lets through typed; a paste
    skips it). Anything else is (None, the finding's words), never a guess: 「①」 and 「٣」 are
    digits to str.isdigit() (int() then raised on 「①」 and read 「٣」 as 3, core.digits), and
    「No.3」 「三」 「3-1」 left the row without its number in silence. An error value is
    reported as one where it is read (CONVERTED)."""
    if not raw or error_value(raw) is not None:
        return None, None
    number = whole_number(raw)      # 「０1」 too
    if number is not None and number >= 1:
        return number, None
    odd = odd_digit(raw)
    why = (f"（「{odd}」は 0～9 の数字ではありません）" if odd is not None else
           "（0 は番号に使えません）" if raw.strip("0０") == "" else "")
    folded = unicodedata.normalize("NFKC", raw)
    number = whole_number(folded) if folded.isascii() else None     # int() raised past 4,300 digits (qa-132)
    instead = f"（「{shown(raw)}」なら「{number}」）" if number else ""
    return None, {"value": shown(raw), "why": why, "instead": instead}


# What an Entry holds of its row, in the order read_entries unpacks it.
_ENTRY_FIELDS = ("indicator_id", "value", "denominator", "status", "unit")
# read_entries makes each Entry with tuple.__new__, which takes no defaults: all ten fields.
assert len(Entry._fields) == 10


def read_entries(book: Book, settings: Settings, headers: Optional[dict[str, tuple[str, ...]]] = None
                 ) -> tuple[list[Entry], list[Finding]]:
    """``headers``, when given, receives each read sheet's header row (MasterData.headers)."""
    entries: list[Entry] = []
    findings: list[Finding] = []
    # One string object for each distinct 指標ID, 実績値 and 単位 (sys.intern): each ID recurs
    # on every municipality's sheet, units and small counts on every row, and each cell read
    # is a new string otherwise (20,000 × 12: 25 MB of a 200 MB peak).
    one = sys.intern
    # Every field given, so the tuple is made in C (typing.NamedTuple's __new__ is a Python
    # function: 0.1 s of the 240,000 rows of a 20,000 × 12 master).
    make = tuple.__new__
    for muni in settings.municipalities:
        if muni.name not in book.sheets:
            findings.append(F.missing_sheet(muni, near_sheet(muni.name, book.sheets)))
            continue
        try:
            row_no, cols = book.header(muni.name, c.ENTRY_HEADERS, c.ENTRY_REQUIRED, table_top=True, laid_out=True)
        except HeaderError as exc:
            findings.append(F.MISSING_HEADER.at(muni.name, exc.cell, reason=exc))
            continue
        name = muni.name
        if headers is not None:
            headers[name] = tuple(text(v) for v in book.sheets[name][row_no - 1])
        previous = _previous_column(book, name, row_no, settings.fiscal_year)
        if previous is None:
            for r, (ind_id, value, denominator, status, unit) in book.texts(name, row_no, cols, _ENTRY_FIELDS):
                entries.append(make(Entry, (name, one(ind_id), one(value), denominator, status, one(unit), name, r,
                                            RowCells(cols, r), "")))
            continue
        fields = {**cols, "previous": previous}
        for r, (ind_id, value, denominator, status, unit, before) in book.texts(name, row_no, fields,
                                                                                _ENTRY_FIELDS + ("previous",)):
            if ind_id or value or denominator or status or unit:    # not a row of 前年度実績 alone
                entries.append(make(Entry, (name, one(ind_id), one(value), denominator, status, one(unit), name,
                                            r, RowCells(cols, r), before)))
            if before and may_be_unread(before) and (held := unread_value(before)):
                findings.append(_unread_previous(name, cell_ref(r, previous), ind_id, settings.fiscal_year, held))
    return entries, findings


def _unread_previous(sheet: str, cell: str, ind_id: str, fiscal_year: int, held: str) -> Finding:
    """An error value (or a TRUE/FALSE) in the 「前年度実績（前年度）」 column: named, as a warning
    (this year's evaluation reads no figure of last year's), never read as no figure. 入力チェック
    passed it in silence, the jump check (validate._previous_jump) took it for none, and split
    then refused the master for it (distribute: a text 「#N/A」 handed to the municipality)."""
    return F.unread_found(sheet, cell, ind_id, c.last_years_header(fiscal_year), held, as_value=True,
                          level=F.WARNING)


def _previous_column(book: Book, sheet: str, header_row: int, fiscal_year: int) -> Optional[int]:
    """The column rollover headed 「前年度実績（前年度）」 on a municipality sheet, if any: read
    so that 入力チェック can compare this year's 実績値 with last year's (validate). A column
    of an older year (a master not rolled over since) says nothing of last year."""
    label = c.last_years_header(fiscal_year)
    grid = book.sheets[sheet]
    row = grid[header_row - 1] if 0 < header_row <= len(grid) else ()
    return next((col for col, v in enumerate(row, start=1) if type(v) is str and v.strip() == label), None)


def near_sheet(name: str, sheets) -> str:
    """A sheet named like ``name`` but for width or spaces (「長沼町 」, 「長沼町」 in
    half-width kana …), said in the finding: staff renamed it by accident. A municipality
    named after a tool sheet never gets here: the 設定 reader refuses it (c.municipality_name_problem)."""
    key = name_key(name)
    near = next((s for s in sheets if name_key(s) == key), None)
    return f"（シート「{shown(near)}」は名前が違います。{names_differ(near, name)}）" if near else ""


def no_sheet(name: str, sheets) -> str:
    """Why a master without the sheet ``name`` (設定, 指標) is not read, on every face: a tab
    renamed by a slip (「設定 」 with a space, 「設定」 in another width) was told only
    「シート「設定」がありません」 on the command line and 「このブックは連携事業のマスターでは
    ありません…renkei-xl で作ったマスターから」 by the server's buttons, sending staff to rebuild
    a master whose sheet was in front of them. The look-alike tab is named (near_sheet)."""
    near = near_sheet(name, sheets)
    if not near:
        return f"シート「{name}」がありません"
    return f"シート「{name}」がありません{near}。シートの名前を「{name}」に戻してください"


def names_differ(typed: str, listed: str) -> str:
    """Where two names that name_key takes for one part, with the code points: a sheet or a
    設定 row renamed on a Mac (「びたか」 as 「ひ」 and 「゙」), a zero-width space or an IVS pasted
    in, 「神」 as its compatibility ideograph look exactly like the name they are not, and a
    message quoting both said 「シート「しんびたか町」は名前が違います」 of 「しんびたか町」."""
    from .lookalike import first_difference

    return f"違う文字: {first_difference(typed, listed)}"


def name_key(name: str) -> str:
    """A name as staff mean it, whatever its width, spaces, case, composition (NFKC: a Mac's
    「ひ」+「゙」 is 「び」) or the characters that show as nothing in it (a zero-width space,
    a variation selector: values.unseen_char): 「南幌 町」, 「ｶﾅ」 and 「南幌町」 are one
    municipality typed two ways, never two municipalities."""
    folded = unicodedata.normalize("NFKC", name)
    if not folded.isascii():
        folded = "".join(ch for ch in folded if unseen_char(ch) is None)
    return "".join(folded.split()).lower()


def unlisted_sheets(book: Book, settings: Settings) -> list[Finding]:
    """Sheets shaped like a municipality's that 設定 does not list. Staff change the
    partnership by hand: a partner leaves and its 設定 row goes while its sheet stays, or a
    name is typed differently in 設定 (「新篠津町」 for 「新篠津村」). Only listed sheets are
    read, so such a sheet's numbers would be in no total without a word; each is a warning
    naming the sheet."""
    return [F.UNLISTED_SHEET.at(sheet, cell, name=sheet, filled=filled)
            for sheet, cell, filled in unlisted_tables(book, settings)]


def unlisted_tables(book: Book, settings: Settings) -> list[tuple[str, str, int]]:
    """(sheet, its 指標ID header cell, rows with an input) of each sheet laid out as a
    municipality's that 設定 does not list: what 入力チェック warns of, and what rollover
    leaves as it is (not a municipality's sheet, so not emptied). A sheet the missing-sheet
    finding already names as 「名前が違います」 (width or spaces) is not said twice."""
    listed = {m.name.lower() for m in settings.municipalities}
    near = {name_key(m.name) for m in settings.municipalities if m.name not in book.sheets}
    out: list[tuple[str, str, int]] = []
    for sheet in book.sheets:
        if (sheet in (c.SETTINGS, c.INDICATORS) or c.is_tool_owned(sheet) or sheet.lower() in listed
                or name_key(sheet) in near):
            continue
        try:
            row_no, cols = book.header(sheet, c.ENTRY_HEADERS, c.ENTRY_REQUIRED)
        except UserError:
            continue                     # not laid out as a municipality's: a staff sheet
        fields = ("value", "denominator", "status")
        filled = sum(1 for _, values in book.texts(sheet, row_no, cols, fields) if any(values))
        out.append((sheet, cell_ref(row_no, cols["indicator_id"]), filled))
    return out


def read_contract(sheets: Mapping[str, Grid], names: Mapping[str, tuple[str, str]],
                  read_ahead: Optional[Callable[[Sequence[str]], None]] = None,
                  formats=None) -> MasterData:
    """``read_ahead`` is told, once 設定 is read, which sheets follow and in what order: a
    reader that parses sheets off the main thread (the file face) then has the next one
    ready while this one is being read.

    ``formats``: a core.percent_cells.PercentFormats, the cells whose format may show a
    percent as the face knows them (sheet → {(row, col): number format}): a number input
    cell of such a format is read as the percent it shows (1 in 0% is 100%), as a returned
    file's is. Handed in, not imported: core.displayed, which reads it, uses this module's
    ``text``. A face that cannot tell some cells' formats refuses those a percent would read
    otherwise (core.percent_cells.unknown_format_findings)."""
    book = Book(sheets, names, formats)
    settings = read_settings(book)
    if read_ahead is not None:
        read_ahead([c.INDICATORS, *(m.name for m in settings.municipalities)])
    findings: list[Finding] = []
    indicators = read_indicators(book, findings)
    headers: dict[str, tuple[str, ...]] = {}
    entries, entry_findings = read_entries(book, settings, headers)
    entry_findings += missing_rows(settings, indicators, entries, entry_findings)
    entry_findings += unlisted_sheets(book, settings)
    entry_findings += copied_sheets(settings, entries)
    if book.percents:
        entry_findings += formats.findings(book.percents, indicators, entries)
    if book.otherwise:
        entry_findings += formats.otherwise_findings(book.otherwise, indicators, entries)
    return MasterData(settings, indicators, entries, findings + entry_findings, headers)


def missing_rows(settings: Settings, indicators: Sequence[Indicator], entries: Sequence[Entry],
                 found: Sequence[Finding]) -> list[Finding]:
    """An indicator a municipality reports (its method says who does) without a row on that
    municipality's sheet: an indicator added to 指標 and not to the sheets, a row deleted.
    Nothing is lost that was there (a missing row adds what an empty one adds: nothing),
    but the municipality cannot answer it, as split sends a form without the row; so each
    is a warning naming where to add it, never silence. Staff who add an indicator only to
    the sheets of the municipalities taking part see it and may leave it so (a warning
    does not make the row －). Not said for a sheet that could not be read
    (its own finding says so), nor on a sheet with a row no indicator claims (an ID that
    is an error value, 「０４－１」, a value beside no ID): that row may be the missing one,
    and pipeline.unattributed already makes each indicator it may feed － naming its cell.
    Nor of an indicator whose own 指標ID is an error value or a TRUE/FALSE: staff were told
    to add a row 「#N/A」 to each sheet, and split listed 「#N/A」 as the row its files lack;
    its cell on 指標 is named by its own finding."""
    from .methods import reported_ids

    unread = F.unread_sheets(settings.municipalities, found)
    names = {i.id: i.name for i in indicators}
    known = set(names)
    ids_of: dict[str, set[str]] = {}
    last: dict[str, Entry] = {}
    stray: set[str] = set()
    # The entries come a sheet at a time: each run's IDs are taken in C, and its rows are
    # looked at one by one only when an ID in it is unknown (two Python passes over the
    # 240,000 rows of a 20,000 × 12 master were 45 ms).
    for muni, run in groupby(entries, key=_MUNICIPALITY):
        run = list(run)
        ids = set(map(_INDICATOR_ID, run))
        ids_of.setdefault(muni, set()).update(ids)
        last[muni] = run[-1]
        if not ids <= known and any(e.indicator_id not in known and may_feed(e) for e in run):
            stray.add(muni)
    reported: dict[bool, list[str]] = {}   # reported_ids depends only on being the central city
    out: list[Finding] = []
    for muni in settings.municipalities:
        if muni.name in unread or muni.name in stray:
            continue
        have = ids_of.get(muni.name, set())
        central = settings.central is not None and muni.name == settings.central.name
        if central not in reported:
            reported[central] = reported_ids(settings, indicators, muni.name)
        for ind_id in reported[central]:
            if ind_id in have or not ind_id or unread_value(ind_id):
                continue
            after = last.get(muni.name)      # the cell where the row would go: below the table
            cell = ""
            if after is not None and after.cell("indicator_id"):
                row, col = parse_ref(after.cell("indicator_id"))
                cell = cell_ref(row + 1, col)
            out.append(F.MISSING_ROW.at(muni.name, cell, ind_id, municipality=muni.name, id=ind_id,
                                        name=shown(names.get(ind_id, ""))))
    return out


_MUNICIPALITY = attrgetter("municipality")
_INDICATOR_ID = attrgetter("indicator_id")


def needed_sheets(sheetnames: Sequence[str]) -> list[str]:
    """Every sheet the contract reads: 設定, 指標 and whatever could be a municipality."""
    return [s for s in sheetnames if not c.is_tool_owned(s)]


# 指標's cells that decide a row's symbol: a merged area over them is named as a municipality
# sheet's inputs are (役割, 事業No, 連携事業名 and 事業概要 merged over a project's rows, as the
# official list prints them, decide nothing and are left as staff made them).
JUDGED_INDICATOR_FIELDS = ("baseline", "target", "method", "rule", "actual_manual", "status_manual")


def merged_inputs(entries: Sequence[Entry], merged_of: Callable[[str], Sequence[tuple[int, int, int, int]]],
                  indicators: Sequence[Indicator] = ()) -> list[Finding]:
    """Each input cell (実績値, 分母, 実施状況) of a municipality sheet's row, and each of 指標's
    cells that decide a symbol (JUDGED_INDICATOR_FIELDS), inside a merged area of more than
    one cell (findings.MASTER_MERGED_INPUT), on every face: the sheet shows only the area's
    first cell, so the value under its hidden part (read all the same: the file keeps it,
    Range.Value sends it) would be evaluated unseen, and the first cell's value shows on rows
    it is not theirs. ``merged_of(sheet)``: the sheet's merged areas, (first row, first col,
    last row, last col), of which only those over ``merged_input_cells`` matter (a face that
    asks Excel asks about those cells alone). The finding is an error with the row's 指標ID,
    so the row is not evaluated (－) from a value staff cannot see; writes there are refused
    by the plan (plan_types.WritePlan.refuse_merged)."""
    # Each sheet's areas asked first, in the order they were asked before: the rows of a
    # sheet are gathered only where it has one (nearly never). Gathering the rows of every
    # sheet first was 40 ms of a 20,000 × 12 read that found no merged area (perf-114).
    areas_of: dict[str, list[tuple[int, int, int, int]]] = {}
    for sheet in _judged_sheets(entries, indicators):
        areas = [a for a in merged_of(sheet) if a[:2] != a[2:]]
        if areas:
            areas_of[sheet] = areas
    out: list[Finding] = []
    if not areas_of:
        return out
    for sheet, rows in _judged_rows(entries, indicators).items():
        areas = areas_of.get(sheet)
        if not areas:
            continue
        cells = [(*parse_ref(ref), item, ind_id, field, label, ref) for item, ind_id, field, label, ref in _cells_of(rows)]
        holding = areas_holding([cell[:2] for cell in cells], areas)
        for row, col, item, ind_id, field, label, ref in cells:
            area = holding.get((row, col))
            if area is None:
                continue
            top = cell_ref(area[0], area[1])
            value = getattr(item, field)          # the fields are the row type's own names
            # quoted as a cell's text is (shown): a 32,767-character value was copied into the
            # finding whole (the button's list had no room for it) and a zero-width space raw (qa-132)
            held = f"「{shown(value)}」" if value else "（空欄）"
            if (row, col) == area[:2]:
                seen = f"このセルの値{held}が結合したセル全体に表示され、ほかの行・列の値のように見えます"
            else:
                seen = (f"画面には左上のセル{top}の値だけが表示され、このセルに残っている値{held}は見えません"
                        "（見えない値では評価しません）")
            out.append(F.MASTER_MERGED_INPUT.at(sheet, ref, ind_id, label=label,
                                                area=f"{top}:{cell_ref(area[2], area[3])}", seen=seen))
    return out


def merged_input_cells(entries: Sequence[Entry], indicators: Sequence[Indicator] = ()) -> list[tuple[str, int, int]]:
    """The cells (sheet, row, col) ``merged_inputs`` looks for a merged area over: a face that
    asks the open book about merges (the desktop's Excel, a round trip a question) asks about
    these and no others, so that the cells that matter are said in this one place."""
    return [(sheet, *parse_ref(ref)) for sheet, rows in _judged_rows(entries, indicators).items()
            for *_rest, ref in _cells_of(rows)]


_JudgedRow = tuple[object, str, Sequence[str], Mapping[str, str]]
_SHEET = attrgetter("sheet")
_ROW = attrgetter("row")


def _judged_sheets(entries: Sequence[Entry], indicators: Sequence[Indicator]) -> list[str]:
    """The sheets ``_judged_rows`` gives rows of, in its order, found in C (a Python pass
    over the 240,000 rows of a 20,000 × 12 master made a tuple for each)."""
    def sheets_with_rows(records) -> dict:
        return dict.fromkeys(compress(map(_SHEET, records), map(is_not, map(_ROW, records), repeat(None))))

    sheets = sheets_with_rows(entries)
    sheets.pop("", None)                 # an entry names its sheet to be judged there
    sheets.update(sheets_with_rows(indicators))
    return list(sheets)


def _judged_rows(entries: Sequence[Entry], indicators: Sequence[Indicator]) -> dict[str, list[_JudgedRow]]:
    """sheet → (row record, its 指標ID, the fields that decide a symbol, their headers) of each
    municipality sheet's row (c.INPUT_FIELDS) and each of 指標's (JUDGED_INDICATOR_FIELDS).
    The rows only: their cells are made per sheet where asked (``_cells_of``), since on the
    command line a sheet without merged areas needs none (a 20,000-row master: 720,000 cells
    made for nothing cost 50 MB and a tenth of recalc's limit)."""
    rows: dict[str, list[_JudgedRow]] = {}
    for e in entries:
        if e.sheet and e.row is not None:
            rows.setdefault(e.sheet, []).append((e, e.indicator_id, c.INPUT_FIELDS, c.ENTRY_HEADERS))
    for ind in indicators:
        if ind.row is not None:
            rows.setdefault(ind.sheet, []).append((ind, ind.id, JUDGED_INDICATOR_FIELDS, c.INDICATOR_HEADERS))
    return rows


def _cells_of(rows: Sequence[_JudgedRow]) -> Iterator[tuple[object, str, str, str, str]]:
    """(row record, 指標ID, field, the field's header, ref) of each judged cell the record has."""
    for item, ind_id, fields, labels in rows:
        for field in fields:
            if ref := item.cell(field):
                yield item, ind_id, field, labels[field], ref

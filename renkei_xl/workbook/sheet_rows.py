"""A sheet's rows as python-calamine gives them, streamed from A1: converted for readers that
need Python values, or loose for the contract reader, with the error values calamine hides
put back (renkei_xl.workbook.sheet_checks.cached_errors)."""

from __future__ import annotations

import datetime as dt
from itertools import chain, islice
from typing import Mapping, Optional, Sequence

from ..core.contract_read import duration_as_read, time_of_day_as_read, to_whole_second

# Kept as calamine gives them; a datetime goes through as_read (to the second, as the live
# face reads it: contract_read.to_whole_second), a rare type in a master.
_PLAIN = frozenset({str, float, int, bool, dt.date})


def as_read(value: object) -> object:
    """A value python-calamine gives as the readers get it: "" for an empty cell is None, as
    the contract reader expects; a time of day its text. The live face reads a cell through
    this too (renkei_xl.excel.book.as_file_reads), so that both faces read a saved cell alike."""
    if value == "":
        return None
    if isinstance(value, dt.time):
        return time_of_day_as_read(value)
    if isinstance(value, dt.timedelta):
        return duration_as_read(value)
    if type(value) is dt.datetime and value.microsecond:
        return to_whole_second(value)
    return value


def with_errors(row: list, errors: Optional[Mapping[int, str]]) -> list:
    """A grid row with the sheet's error values in place of calamine's empty cells."""
    if errors:
        for col, text in errors.items():
            if col >= len(row):
                row.extend([None] * (col + 1 - len(row)))
            row[col] = text
    return row


class SheetRows(Sequence[list]):
    """Rows of one sheet from A1 (calamine drops the empty columns left of the data; they
    are put back), the first rows kept for header searches, the rest read forward."""

    HEAD = 64

    def __init__(self, sheet, errors: Optional[Mapping[int, Mapping[int, str]]] = None):
        self._sheet = sheet
        self._errors = errors or {}   # row → column → error text (0-based), see cached_errors
        self._read = sheet.end[0] + 1 if sheet.height else 0   # end: the last cell, 0-based
        # An error cell calamine holds nothing for (<c t="e"/>) may lie below its last row:
        # the rows reach it, so an error value is never a row that is not there.
        self._len = max(self._read, max(self._errors, default=-1) + 1)
        self._pad = [None] * (sheet.start[1] if sheet.start else 0)
        self._head: list[list] = []
        self._it = None
        self._pos = 0            # index of the row the iterator gives next
        self._last: tuple[int, list] = (-1, [])

    def _convert(self, row, index: int) -> list:
        # text first, most cells; "" (calamine's empty cell) becomes None as in as_read
        out = self._pad + [(v or None) if type(v) is str else v if type(v) in _PLAIN else as_read(v)
                           for v in row]
        return with_errors(out, self._errors.get(index))

    def __len__(self) -> int:
        return self._len

    def __iter__(self):
        """Every row from the first, on an iterator of its own (the contract reader walks
        a sheet down once; going through ``__getitem__`` cost a call and its checks per row)."""
        head = self._head
        for i, row in enumerate(self._sheet.iter_rows()):
            yield head[i] if i < len(head) else self._convert(row, i)
        yield from self._beyond()

    def _beyond(self):
        """The rows below calamine's last that hold only error values (see __init__)."""
        for i in range(self._read, self._len):
            yield with_errors(self._pad[:], self._errors.get(i))

    def loose(self) -> "LooseRows":
        """These rows for a reader to whom "" and None are alike (see LooseRows)."""
        return LooseRows(self)

    def _loose_iter(self):
        """The first rows as converted, then calamine's own rows. In the usual sheet (data
        from column A, no error values) the rest is calamine's iterator itself, chained in
        C: a Python step per row cost about 0.1 s of CPU over the 240,000 entry rows of a
        20,000 × 12 read, on the main thread."""
        head = self._head[:]   # as it is now: a lookup meanwhile may add to it
        rest = islice(self._sheet.iter_rows(), len(head), None)
        if not self._pad and not self._errors:
            return chain(head, rest)
        return chain(head, self._put_back(rest, len(head)), self._beyond())

    def _put_back(self, rows, first: int):
        """``rows`` (the first of them the sheet's row ``first``, 0-based) with the columns
        left of the data and the error values put back."""
        pad, errors = self._pad, self._errors
        for i, row in enumerate(rows, start=first):
            if pad:
                row = pad + row
            found = errors.get(i)
            yield with_errors(row, found) if found else row

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._len))]
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError(index)
        if index < len(self._head):
            return self._head[index]
        if index == self._last[0]:
            return self._last[1]
        if index >= self._read:
            return with_errors(self._pad[:], self._errors.get(index))
        if self._it is None or index < self._pos:
            self._it, self._pos = iter(self._sheet.iter_rows()), 0
        row = None
        while self._pos <= index:
            row = self._convert(next(self._it), self._pos)
            if self._pos < self.HEAD and self._pos == len(self._head):
                self._head.append(row)
            self._pos += 1
        self._last = (index, row)
        return row


class LooseRows(Sequence[list]):
    """A sheet's rows as calamine gives them below the first rows: "" for an empty cell,
    times and durations not yet converted, the error values and the columns left of the
    data put back. The contract reader turns every cell into text (contract_read.text),
    which reads "" as None and the rest as as_read would, so converting each cell first
    only cost time: 0.1 s of a 20,000 × 12 master's read, all of it holding the GIL that
    the sheet read ahead needs."""

    def __init__(self, rows: SheetRows):
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index):
        return self._rows[index]

    def __iter__(self):
        return self._rows._loose_iter()

"""Where the saved master's cells are in the workbook sent to the server.

The server learns the looks of the open workbook only from the saved master (fills for a
mark's 元の塗り, Text formats, merged areas, array formulas: excel.remote.SavedFills), by
cell address. Staff who inserted or deleted rows or columns, or sorted, and have not saved
yet have moved the cells: the saved master's address then names another row's cell, whose
fill would be recorded and given back, whose merge or array would be missed. So, per sheet,
the rows and columns are located in both books by what the one contract reader locates them
by: each row's 指標ID and each column's header (a field's, and on a municipality sheet every
header text of its header row, staff's own columns included). A sheet on which every 指標ID
both books hold is on the same row, and every header in the same column, is in place: values
typed since the save move nothing, and the saved addresses hold. On any other sheet a cell
is followed by its row's 指標ID and its column's header; a cell neither locates (a row
without an ID or with one used twice, a column without a header or with one used twice) is
not known, and the callers take what they take where the file cannot say.
"""

from __future__ import annotations

from itertools import chain
from typing import Iterable, Mapping, Optional

from . import contract as c
from .contract_read import MasterData
from .refs import parse_ref

Area = tuple[int, int, int, int]      # first row, first col, last row, last col
HEADER = "見出し"                      # a column known by its header text, not as a field


class SheetPlaces:
    """A moved sheet's rows and columns, sent → saved, as far as they can be followed."""

    def __init__(self, rows: Mapping[int, int], cols: Mapping[int, int]) -> None:
        self.rows, self.cols = rows, cols
        # saved → sent, made once: a sheet's merges and arrays are each placed through them
        # (made again for each area, 2,000 merges on a 20,000-row sheet took a second of a click).
        self._back = ({saved: sent for sent, saved in rows.items()}, {saved: sent for sent, saved in cols.items()})

    def saved_cell(self, row: int, col: int) -> Optional[tuple[int, int]]:
        """The sent cell's place in the saved master, None where it cannot be followed."""
        r, col_ = self.rows.get(row), self.cols.get(col)
        return None if r is None or col_ is None else (r, col_)

    def sent_cell(self, row: int, col: int) -> Optional[tuple[int, int]]:
        """Where the saved cell is in the workbook sent, None where it cannot be followed."""
        r, col_ = self._back[0].get(row), self._back[1].get(col)
        return None if r is None or col_ is None else (r, col_)

    def sent_col(self, col: int) -> Optional[int]:
        """Where the saved column is in the workbook sent (None: it cannot be followed)."""
        return self._back[1].get(col)

    def sent_area(self, area: Area) -> Optional[Area]:
        """A saved area (a merge, an array) where it is in the workbook sent; None where one
        of its rows or columns cannot be followed or they no longer adjoin in order."""
        r1, c1, r2, c2 = area
        rows, cols = _followed(self._back[0], r1, r2), _followed(self._back[1], c1, c2)
        if rows is None or cols is None:
            return None
        return rows[0], cols[0], rows[1], cols[1]


def _followed(back: Mapping[int, int], first: int, last: int) -> Optional[tuple[int, int]]:
    """Where the saved rows (or columns) ``first``..``last`` are sent, if they all are, in
    order and adjoining. An area longer than what is followed cannot be (a whole column's
    array is not walked through its million rows)."""
    if last - first + 1 > len(back):
        return None
    got = [back.get(i) for i in range(first, last + 1)]
    if None in got or got != list(range(got[0], got[0] + len(got))):
        return None
    return got[0], got[-1]


def moved_sheets(saved: Optional[MasterData], sent: MasterData) -> dict[str, SheetPlaces]:
    """The contract sheets of the workbook ``sent`` whose cells are not where the ``saved``
    master has them, each with what can be followed; a sheet not named is where it was saved.
    ``saved`` None: the saved master could not be read, so no sheet's place can be checked
    (every contract sheet is named, and nothing on it can be followed)."""
    now = _located(sent)
    then = _located(saved) if saved is not None else {}
    out: dict[str, SheetPlaces] = {}
    for sheet, (rows, cols) in now.items():
        old_rows, old_cols = then.get(sheet, ({}, {}))
        row_map = {row: old_rows[ind_id] for ind_id, row in rows.items() if ind_id in old_rows}
        col_map = {col: old_cols[field] for field, col in cols.items() if field in old_cols}
        if sheet in then and all(a == b for a, b in chain(row_map.items(), col_map.items())):
            continue
        out[sheet] = SheetPlaces(row_map, col_map)
    return out


def _located(data: MasterData) -> dict[str, tuple[dict[str, int], dict[object, int]]]:
    """sheet → ({指標ID: row} for the IDs on one row only, {field or (HEADER, header text): column})."""
    out: dict[str, tuple[dict[str, int], dict[object, int]]] = {}
    twice: set[tuple[str, str]] = set()
    records: Iterable = chain(((i.sheet or c.INDICATORS, i.id, i.row, i.cells) for i in data.indicators),
                              ((e.sheet, e.indicator_id, e.row, e.cells) for e in data.entries))
    for sheet, ind_id, row, cells in records:
        if sheet not in out:
            out[sheet] = ({}, {field: parse_ref(ref)[1] for field, ref in cells.items() if ref})
        if not ind_id or row is None:
            continue
        rows = out[sheet][0]
        if ind_id in rows or (sheet, ind_id) in twice:
            rows.pop(ind_id, None)
            twice.add((sheet, ind_id))
        else:
            rows[ind_id] = row
    for sheet, texts in data.headers.items():
        if sheet in out:
            out[sheet][1].update({(HEADER, t): col for col, t in enumerate(texts, start=1)
                                  if t and texts.count(t) == 1})
    return out


def moved_message(sheet: str, step: str) -> str:
    """Why a click that would write into a moved sheet holding merged cells or array
    formulas is refused: where they are now cannot be told, and a write into part of one
    stops Excel halfway (1004)."""
    return (f"シート「{sheet}」の行や列が、保存されているマスターと違う位置にあります（行や列の挿入・削除、並べ替え"
            "など）。このシートの結合したセルや配列数式が、いまどこにあるかわからないため、書き込めません。ブックは"
            f"変更していません。\n{step}")

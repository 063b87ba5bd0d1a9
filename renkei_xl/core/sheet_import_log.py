"""取込履歴 (the import log): the rows collect adds, one per changed or refused cell."""

from __future__ import annotations

import datetime as dt
from typing import Optional, Sequence

from . import contract as c
from .contract_read import Book
from .errors import UserError
from .plan_types import Cell, CellEdit, SheetPlan


IMPORT_LOG_WIDTHS = (34, 10, 20, 10, 66, 20, 60, 40)


def import_log_writes(grid: Optional[Sequence[Sequence[object]]], columns: Sequence[str],
                   records: Sequence[Sequence[object]]) -> tuple[Optional[SheetPlan], list[CellEdit]]:
    """取込履歴 rows: appended below the last used row, columns found by header text.

    Without the sheet (or with an empty one) the tool creates it whole; once it exists it
    belongs to the staff too (they may add columns), so rows are added cell by cell.
    """
    if not grid or not any(v not in (None, "") for row in grid for v in row):
        rows: list[list[Optional[Cell]]] = [[(h, "header") for h in columns]]
        for rec in records:
            rows.append([(v, "datetime" if isinstance(v, dt.datetime) else "body") for v in rec])
        sheet = SheetPlan(c.IMPORT_LOG, rows, widths={i: float(w) for i, w in enumerate(IMPORT_LOG_WIDTHS, 1)},
                          freeze=(2, 1), protect=False)
        return sheet, []
    fields = {str(i): h for i, h in enumerate(columns)}
    try:
        header_row, cols = Book({c.IMPORT_LOG: grid}, {}).header(c.IMPORT_LOG, fields, ("0",))
    except UserError:
        raise UserError(f"シート「{c.IMPORT_LOG}」に見出し「{'」「'.join(columns)}」がありません"
                        "（見出しを元に戻すか、シートを削除してください）") from None
    last = max((r for r, row in enumerate(grid, start=1) if any(v not in (None, "") for v in row)),
               default=header_row)
    edits = []
    # A column added since the sheet was made (取り込まなかったセル, 取込時のマスターの値) gets its
    # header after the last column used on any row, so what it records is never dropped, and
    # never lands over notes staff wrote beside the log without a header of their own.
    free = max([_last_used(grid), *cols.values()]) + 1
    for k, header in enumerate(columns):
        if str(k) not in cols:
            cols[str(k)] = free
            edits.append(CellEdit(c.IMPORT_LOG, header_row, free, header, None))
            free += 1
    for i, rec in enumerate(records):
        row = max(last, header_row) + 1 + i
        for k, value in enumerate(rec):
            col = cols.get(str(k))
            if col is not None:
                edits.append(CellEdit(c.IMPORT_LOG, row, col, value,
                                      c.DATETIME_FORMAT if isinstance(value, dt.datetime) else None))
    return None, edits


def _last_used(grid: Sequence[Sequence[object]]) -> int:
    """The rightmost column holding a value on any row (0 for none)."""
    last = 0
    for row in grid:
        for k in range(len(row), last, -1):
            if row[k - 1] not in (None, ""):
                last = k
                break
    return last

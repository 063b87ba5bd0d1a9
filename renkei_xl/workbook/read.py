"""openpyxl → plain grids → the contract reader (renkei_xl.contract_read).

Formula cells: openpyxl gives the formula text unless the file is loaded with
data_only=True, which in turn would lose the formulas on save. The caller therefore passes
a loader of a cached-values twin, used only when a read cell holds a formula.
"""

from __future__ import annotations

from typing import Callable

from openpyxl.workbook import Workbook

from ..contract_read import MasterData, needed_sheets, read_contract


def defined_names(wb: Workbook) -> dict[str, tuple[str, str]]:
    out = {}
    for name, dn in wb.defined_names.items():
        try:
            dests = list(dn.destinations)
        except Exception:  # a name holding a constant or a formula, not a range
            continue
        if len(dests) == 1:
            sheet, ref = dests[0]
            out[name] = (sheet, ref.replace("$", ""))
    return out


def defined_cell(wb: Workbook, name: str):
    """(worksheet, cell) of a workbook-scope defined name, for writing."""
    from ..contract_read import Book

    sheet, ref, _ = Book({s: [] for s in wb.sheetnames}, defined_names(wb)).named(name)
    ws = wb[sheet]
    return ws, ws[ref]


def sheet_grid(wb: Workbook, name: str, cached: Callable[[], Workbook]) -> list[list[object]]:
    rows = [list(r) for r in wb[name].iter_rows(values_only=True)]
    for r, row in enumerate(rows):
        for col, value in enumerate(row):
            if isinstance(value, str) and value.startswith("="):
                row[col] = cached()[name].cell(r + 1, col + 1).value
    return rows


def read_master(wb: Workbook, cached: Callable[[], Workbook]) -> MasterData:
    """``cached`` gives the same file loaded with data_only=True; it is only called when a
    read sheet holds a formula, so most runs load the file once."""
    sheets = {name: sheet_grid(wb, name, cached) for name in needed_sheets(wb.sheetnames)}
    return read_contract(sheets, defined_names(wb))

"""The xlwings.conf sheet of a master: one row set in place (upgrade-macros --server).

xlwings' VBA reads the rows from A1 down to the first empty cell of column A
(GetConfigFromSheet) and fails on a key that appears twice, so a key is set where it
already is, or in the first empty row of that block; nothing else of the sheet moves.
The sheet is not part of the contract (the state reader skips it), so it is read here on
its own (workbook.grids).
"""

from __future__ import annotations

from pathlib import Path

from ..core import contract as c
from ..core.face import again
from ..core.errors import UserError


def conf_rows(path: Path) -> list[list[object]]:
    """The xlwings.conf sheet's values from A1 (empty when the master has no such sheet),
    read as every contract sheet is (workbook.grids): an error value is its text, never the
    empty cell python-calamine gives for it, and a number calamine cannot read as a date
    neither stops the read (a Rust panic, which no ``except Exception`` catches) nor reads
    as a time."""
    from ..package.workbook import WorkbookXml
    from ..package.zipped import Package
    from .grids import Grids

    with Package(Path(path)) as pkg:
        workbook = WorkbookXml(pkg)
        if workbook.sheet(c.XLWINGS_CONF) is None:
            return []
        grids = Grids(pkg, [c.XLWINGS_CONF], workbook)
        try:
            return [list(row) for row in grids.rows(c.XLWINGS_CONF)]
        finally:
            grids.close()


def conf_row_plan(path: Path, key: str, value: str):
    """The plan that sets ``key`` to ``value`` on xlwings.conf, and the row it lands on.

    Only the plan: the caller writes it (renkei_xl.workbook.session.write_planned), so
    this module, which the file applier reads the server's URL with, imports no writer."""
    from ..core.plan_types import CellEdit, WritePlan

    rows = conf_rows(path)
    if not rows and c.XLWINGS_CONF not in _sheet_names(path):
        raise UserError(f"「{Path(path).name}」にシート「{c.XLWINGS_CONF}」がありません"
                        "（renkei-xl init で作ったマスターに使ってください）")
    block = 0
    while block < len(rows) and rows[block] and str(rows[block][0] or "").strip():
        _refuse_error(rows[block], block + 1)
        block += 1
    found = next((r for r in range(block) if str(rows[r][0]).strip().upper() == key.upper()), None)
    row = (found if found is not None else block) + 1
    edits = [CellEdit(c.XLWINGS_CONF, row, 2, value)]
    if found is None:
        edits.insert(0, CellEdit(c.XLWINGS_CONF, row, 1, key))
    return WritePlan(cells=edits), row


def _refuse_error(row: list, row_no: int) -> None:
    """An error value in the table xlwings' VBA reads (GetConfigFromSheet takes each cell's
    text, which an error value has not): the keys below it, ours included, would never be
    read, so the row is named rather than written after."""
    from ..core.refs import cell_ref
    from ..core.values import error_named, error_value

    for col, value in enumerate(row[:2], start=1):
        error = error_value(value)
        if error is not None:
            raise UserError(f"シート「{c.XLWINGS_CONF}」の {cell_ref(row_no, col)} が{error_named(error)}です。"
                            f"xlwings はこの表を上から読むため、その下の設定が読まれません。値を直してから、もう一度{again()}ください")


def _sheet_names(path: Path) -> list[str]:
    """The tabs as the workbook part lists them, not as python-calamine does: calamine refuses
    a whole book holding an Excel 4.0 macro sheet, and 「upgrade-macros --server」 on such a
    master without this sheet ended in 予期しないエラー (CalamineError) instead of naming it."""
    from ..package.workbook import WorkbookXml
    from ..package.zipped import Package

    with Package(Path(path)) as pkg:
        return WorkbookXml(pkg).sheetnames

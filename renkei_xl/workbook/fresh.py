"""New workbooks holding only tool sheets (確定版, the PDF source), rendered by the same
file applier as the master, so the emailed 一覧 looks exactly like the master's.

openpyxl writes the smallest valid empty workbook with the sheets named (and no personal
document properties); the plan's sheets are then applied to it part by part.

Its default font stays openpyxl's Calibri 11 rather than core.looks.NORMAL: every cell of
the plan has a named look, so the default font only sets the unit of column widths, and
Calibri 11's digit is the 7 px text_fit assumes in Excel, and the LibreOffice that makes the
PDF on a server has no Meiryo UI: with Meiryo UI 10 as the default font, its substitute's
digits made the FY2023 一覧 print on 8 pages instead of the 5 the plan breaks it into.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Sequence

from ..core.plan_types import SheetPlan, WritePlan


def write_new_book(target: Path, sheets: Sequence[SheetPlan], title: str) -> None:
    import zipfile

    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    target = Path(target)
    blank = target.with_name(target.stem + ".blank" + target.suffix)
    wb = Workbook()
    wb.active.title = sheets[0].name
    for sheet in sheets[1:]:
        wb.create_sheet(sheet.name)
    props = wb.properties
    props.creator = None            # openpyxl writes "openpyxl" by default
    props.lastModifiedBy = None
    props.title = title
    # UTC, not the tool's Japan time (clock): docProps hold UTC, which Excel shows in its PC's zone.
    props.created = props.modified = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    try:    # a save that fails halfway (a full disk) leaves no part-written blank behind either
        # Not wb.save: openpyxl leaves its archive open when a write fails, and the archive's
        # finaliser tried again at exit, printing a traceback (「Exception ignored … No space
        # left on device」) under the Japanese sentence; on Windows its open handle would also
        # stop the blank's removal below. Closed here, whatever happens.
        with zipfile.ZipFile(blank, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
            ExcelWriter(wb, archive).save()
        applied(blank, target, WritePlan(list(sheets)))
    finally:
        blank.unlink(missing_ok=True)


def applied(source: Path, target: Path, plan: WritePlan) -> None:
    """``target`` written as ``source`` with ``plan`` applied by the master's own file
    applier. Both are files the tool has just made and nobody else holds: no lock, no
    backup (the caller's safe write renames the result into place)."""
    from ..package.workbook import WorkbookXml
    from ..package.zipped import Package
    from .apply import apply_plan
    from .state import StyleReader

    with Package(source) as pkg:
        workbook = WorkbookXml(pkg)
        apply_plan(pkg, workbook, StyleReader(pkg, workbook), plan)
        pkg.save(target)

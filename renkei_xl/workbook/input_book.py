"""A municipality's input workbook as a package: a small skeleton, then its sheet's plan
rendered by the file applier, as every tool sheet of a master is.

The skeleton is what XlsxWriter writes in about 3 ms: the document properties (title,
the identifier as custom properties, no author), the sheet's name in every part that
lists it, and the hidden, protected 選択肢 sheet behind the defined name the state
lists point at. It is written per file rather than once per split and patched, because
the parts that differ per municipality (docProps/custom.xml, core.xml, app.xml and
workbook.xml) are exactly the ones XlsxWriter already writes and escapes correctly.

The large sheet is not written by XlsxWriter: through its cell-by-cell API a 2,000-row
sheet cost about 0.4 s per file (40 files: most of a split's 17 s, issue 17), while the
package writer renders the same plan in tens of milliseconds, with the same looks as the
master's sheets (renkei_xl.core.looks).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Mapping

from ..core import book_kind, contract as c
from ..core.input_sheet import LOCKED_STRUCTURE
from ..core.plan_types import SheetPlan, WritePlan
from ..core.refs import quote_sheet

CHOICES_SHEET = book_kind.CHOICES_SHEET
# zlib's fastest level: a 2,000-row file is about 100 KB instead of 75 KB, and 40 files
# deflate in a third of the time.
FILE_COMPRESSION = 1


def skeleton(sheet_name: str, title: str, properties: Mapping[str, str], created=None) -> bytes:
    """The workbook without its sheet's content: properties, an empty sheet named
    ``sheet_name`` (active), and the list of state words. ``created``: the issue time, so
    one issue is written byte for byte the same (split backs up only a file that differs)."""
    import xlsxwriter

    from ..clock import utc
    from .xlsx import protect, workbook_options

    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, workbook_options())
    wb.set_properties({"title": title, "author": "", "company": "",
                       **({"created": utc(created)} if created is not None else {})})
    for name, value in properties.items():
        wb.set_custom_property(name, value)
    sheet = wb.add_worksheet(sheet_name)
    choices = wb.add_worksheet(CHOICES_SHEET)
    # The list source lives in this file behind a defined name: a validation pointing at
    # another workbook breaks when the file travels, and one pointing straight at another
    # sheet is an Excel 2010 (x14) rule that openpyxl would drop.
    choices.write_string(0, 0, book_kind.CHOICES_HEAD)
    for r, choice in enumerate(c.STATE_CHOICES, start=1):
        choices.write_string(r, 0, choice)
    wb.define_name(c.N_STATES, f"={quote_sheet(CHOICES_SHEET)}!$A$2:$A${1 + len(c.STATE_CHOICES)}")
    protect(choices)
    choices.hide()
    sheet.activate()
    wb.close()
    return buffer.getvalue()


def write_input_book(target: Path, sheet: SheetPlan, title: str, properties: Mapping[str, str],
                     created=None) -> None:
    """``target`` written whole: the skeleton with ``sheet`` applied (the caller's safe
    write puts it in place)."""
    from ..package.workbook import WorkbookXml
    from ..package.zipped import Package
    from .apply import apply_plan
    from .state import StyleReader

    with Package(Path(target), skeleton(sheet.name, title, properties, created), FILE_COMPRESSION) as pkg:
        workbook = WorkbookXml(pkg)
        if LOCKED_STRUCTURE:    # XlsxWriter has no call for it: set in workbook.xml here
            workbook.lock_structure()
        apply_plan(pkg, workbook, StyleReader(pkg, workbook), WritePlan([sheet]))
        pkg.save(Path(target))

"""Open a municipality's input workbook in headless LibreOffice, report what a partner
meets there, type into it as a partner would, and save it as .xlsx.

Run with Debian's /usr/bin/python3 (it carries the UNO bridge), not the venv:

    /usr/bin/python3 tests/uno_input_probe.py BOOK.xlsx SHEET PROFILE_DIR OUT.xlsx EDITS_JSON

EDITS_JSON: [[row, col, value], ...] (1-based), typed into SHEET before the save; a value
{"value": 0.85, "format": "0%"} is what Calc's input line stores for 「85%」.
Prints one JSON object: {"sheets": {name: {"visible", "protected"}}, "cells": {"row,col":
{"locked", "string", "validation": {...} or null}}, "title_rows": [first, last] or null,
"hidden_columns": [col, ...], "names": {name: content}, "typed": [[row, col, value shown after typing]]}.
The tests call `probe` through realbooks.lo_probe instead, in the soffice their process keeps.
"""

import json
import os
import sys

sys.path.append("/usr/lib/python3/dist-packages")
import uno  # noqa: E402

from uno_common import office_document, prop  # noqa: E402

def _name(enum) -> str:
    """A UNO enum's name (pyuno gives an Enum whose value is the name)."""
    return str(getattr(enum, "value", enum))


def _validation(cell):
    v = cell.Validation
    if _name(v.Type) == "ANY":
        return None
    return {"type": _name(v.Type), "operator": _name(v.getOperator()), "formula1": v.getFormula1(),
            "input_title": v.InputTitle, "input_message": v.InputMessage, "show_input": bool(v.ShowInputMessage),
            "error_title": v.ErrorTitle, "error_message": v.ErrorMessage, "show_error": bool(v.ShowErrorMessage),
            "alert": _name(v.ErrorAlertStyle), "ignore_blank": bool(v.IgnoreBlankCells),
            "source": [v.getSourcePosition().Row + 1, v.getSourcePosition().Column + 1]}


SCRATCH = "probe_scratch"


def _scratch(doc):
    """A sheet of our own (the probed one is protected), removed before the file is saved."""
    if not doc.Sheets.hasByName(SCRATCH):
        doc.Sheets.insertNewByName(SCRATCH, doc.Sheets.getCount())
    return doc.Sheets.getByName(SCRATCH)


def _valid(doc, cell):
    """Whether LibreOffice's own formula engine finds the typed value valid under a custom
    rule (its formula, evaluated on the scratch sheet with the value at the rule's source
    cell, which the formula names: at any other cell of the area the references shift
    alike); None for any other rule.
    Typing through the API does not apply validation, so the formula is asked directly."""
    v = cell.Validation
    if _name(v.Type) != "CUSTOM":
        return None
    source = v.getSourcePosition()     # the cell the formula is written for; others shift from it
    typed = cell.getValue() if cell.getType().value == "VALUE" else None
    base = _scratch(doc).getCellByPosition(source.Column, source.Row)
    if typed is None:
        base.setString(cell.getString())
    else:
        base.setValue(typed)
    probe = _scratch(doc).getCellByPosition(200, 0)
    probe.setFormula("=" + v.getFormula1())
    return bool(probe.getValue())


def _format_key(doc, code):
    from com.sun.star.lang import Locale
    formats = doc.NumberFormats
    key = formats.queryKey(code, Locale(), False)
    return key if key != -1 else formats.addNew(code, Locale())


def probe(doc, sheet_name, out, edits) -> dict:
    """What the module docstring says is printed, of a document opened for editing; it is
    saved as ``out`` and left modified (the caller closes it)."""
    result = {"sheets": {}, "cells": {}, "names": {}, "typed": []}
    for sheet in doc.Sheets:
        result["sheets"][sheet.Name] = {"visible": bool(sheet.IsVisible), "protected": bool(sheet.isProtected())}
    sheet = doc.Sheets.getByName(sheet_name)
    cursor = sheet.createCursor()
    cursor.gotoEndOfUsedArea(False)
    last_row, last_col = cursor.RangeAddress.EndRow, cursor.RangeAddress.EndColumn
    for r in range(last_row + 1):
        for c in range(last_col + 1):
            cell = sheet.getCellByPosition(c, r)
            result["cells"][f"{r + 1},{c + 1}"] = {
                "locked": bool(cell.CellProtection.IsLocked), "string": cell.getString(),
                "validation": _validation(cell)}
    result["hidden_columns"] = [c + 1 for c in range(last_col + 1)
                                if not sheet.getColumns().getByIndex(c).IsVisible]
    titles = sheet.getTitleRows() if sheet.getPrintTitleRows() else None
    result["title_rows"] = [titles.StartRow + 1, titles.EndRow + 1] if titles else None
    for name in doc.NamedRanges.getElementNames():
        result["names"][name] = doc.NamedRanges.getByName(name).getContent()
    for r, c, value in edits:
        cell = sheet.getCellByPosition(c - 1, r - 1)
        if isinstance(value, str):
            cell.setString(value)
        elif isinstance(value, dict):    # what Calc's input line stores for 85%: 0.85, formatted 0%
            cell.setValue(value["value"])
            cell.NumberFormat = _format_key(doc, value["format"])
        else:
            cell.setValue(value)
        result["typed"].append([r, c, cell.getString(), _valid(doc, cell)])
    if doc.Sheets.hasByName(SCRATCH):
        doc.Sheets.removeByName(SCRATCH)
    doc.storeToURL(uno.systemPathToFileUrl(os.path.abspath(out)),
                   (prop("FilterName", "Calc MS Excel 2007 XML"),))
    return result


def main(book, sheet_name, profile, out, edits_json):
    with office_document(book, profile) as doc:
        result = probe(doc, sheet_name, out, json.loads(edits_json))
    sys.stdout.write(json.dumps(result, ensure_ascii=False))   # the C encoder: dump's is Python's


if __name__ == "__main__":
    main(*sys.argv[1:6])

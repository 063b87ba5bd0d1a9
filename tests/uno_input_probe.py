"""Open a municipality's input workbook in headless LibreOffice, report what a partner
meets there, type into it as a partner would, and save it as .xlsx.

Run with Debian's /usr/bin/python3 (it carries the UNO bridge), not the venv:

    /usr/bin/python3 tests/uno_input_probe.py BOOK.xlsx SHEET PROFILE_DIR OUT.xlsx EDITS_JSON

EDITS_JSON: [[row, col, value], ...] (1-based), typed into SHEET before the save.
Prints one JSON object: {"sheets": {name: {"visible", "protected"}}, "cells": {"row,col":
{"locked", "string", "validation": {...} or null}}, "title_rows": [first, last] or null,
"hidden_columns": [col, ...], "names": {name: content}, "typed": [[row, col, value shown after typing]]}.
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
            "alert": _name(v.ErrorAlertStyle), "ignore_blank": bool(v.IgnoreBlankCells)}


def main(book, sheet_name, profile, out, edits_json):
    edits = json.loads(edits_json)
    with office_document(book, profile) as doc:
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
            else:
                cell.setValue(value)
            result["typed"].append([r, c, cell.getString()])
        doc.storeToURL(uno.systemPathToFileUrl(os.path.abspath(out)),
                       (prop("FilterName", "Calc MS Excel 2007 XML"),))
    json.dump(result, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main(*sys.argv[1:6])

"""Replay xlwings actions through a master's own VBA inside headless LibreOffice, read back.

The tests run it as a "vba" job of tests/realbooks.py (tests/uno_job.py's ``_uno_vba``: `_run`
for each run in the soffice each pytest process keeps, the profile's VBA options below set for
the job and restored after). By hand, with Debian's /usr/bin/python3 (it carries the UNO
bridge), in a soffice of its own:

    /usr/bin/python3 tests/uno_vba.py JOB.json PROFILE_DIR

JOB.json: {"drop": [module, ...], "harness": "<Basic source>", "module": "<harness name>",
"runs": [{"book": path, "actions": [...], "read": {sheet: {"cells": [[r, c], ...],
"rows": [r, ...], "cols": [c, ...], "merges": [[r1, c1, r2, c2], ...], "charts": [A1 address, ...]
(optional: the sheet's chart objects read back, and where those cells start)}}, "after_save":
{"password": {sheet: password}, "structure": bool, "merge": [[sheet, address]], "array": [[sheet,
address, formula]]} (optional: the open book changed since its last save), "harness" and
"entry" (optional: this run's own harness module and its function, else the job's), "same_book"
(optional: true to go on in the book the run before left open, see _runs)}]}. One soffice
serves every run (starting it is the expensive part); each run opens its own copy of a
master, removes the modules named in "drop" from the document's VBAProject library (one
module that does not compile blocks the whole library, silently), inserts the harness
module, calls the harness with the actions and reads the cells back through UNO. Sheet
protection is left to the master's VBA, as in Excel: the answer's renkeiUnprotectSheets
lifts it and the harness restores it as RenkeiCallServer does (LibreOffice does not enforce
protection on macros but drops their format changes silently, so a sheet the VBA failed to
lift shows as missing looks). Rows and columns are 1-based.

Prints one JSON object: {"runs": [{"result": str, "protected": [sheet, ...] (before),
"protected_after": [sheet, ...],
"sheets": [name, ...], "read": {sheet: {"cells": {"r,c": {...}}, "rows": {r: pt},
"cols": {c: {"points": pt, "hidden": bool}}, "merges": {"r,c": [r1, c1, r2, c2] or
null}, "charts": {"objects": [...], "cells": {...}} (_charts)}}}]}.
"""

import json
import os
import re
import sys
import time

sys.path.append("/usr/lib/python3/dist-packages")
import uno  # noqa: E402

from uno_common import connect, prop, quit_office, reap, start_office  # noqa: E402
HUNDREDTH_MM_PER_POINT = 2540 / 72
CELL_PROPS = ("CharFontName", "CharHeight", "CharWeight", "CharColor", "CharUnderline", "CharPosture",
              "CellBackColor", "IsCellBackgroundTransparent", "HoriJustify", "VertJustify", "IsTextWrapped",
              "TopBorder", "BottomBorder", "LeftBorder", "RightBorder", "NumberFormat")
# com.sun.star.table.CellHoriJustify / CellVertJustify values, as names
HORI = {0: "standard", 1: "left", 2: "center", 3: "right", 4: "block", 5: "repeat"}
VERT = {0: "standard", 1: "top", 2: "center", 3: "bottom", 4: "block"}


def _write_profile(profile):
    """A fresh profile that loads, runs and keeps VBA and trusts every macro (measured,
    ../shared/FACTS.md "LibreOffice as a VBA host")."""
    user = os.path.join(profile, "user")
    os.makedirs(user, exist_ok=True)
    items = [("org.openoffice.Office.Calc/Filter/Import/VBA", name, "true") for name in ("Load", "Executable", "Save")]
    items.append(("org.openoffice.Office.Common/Security/Scripting", "MacroSecurityLevel", "0"))
    body = "".join(f'<item oor:path="/{path}"><prop oor:name="{name}" oor:op="fuse"><value>{value}</value></prop></item>\n'
                   for path, name, value in items)
    with open(os.path.join(user, "registrymodifications.xcu"), "w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
                'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
                + body + "</oor:items>\n")


# VBA's conditional-compilation constants as Excel for Windows (64-bit) has them.
WINDOWS_CONSTANTS = {"mac": False, "win16": False, "win32": True, "win64": True, "vba6": True, "vba7": True}
_DIRECTIVE = re.compile(r"\s*#(If|ElseIf|Else|End\s+If)\b(.*?)(\bThen)?\s*(?:'.*)?$", re.IGNORECASE)


def _condition(text):
    words = re.findall(r"\w+", text)
    allowed = {"not": "not", "and": "and", "or": "or"}
    out = []
    for w in words:
        if w.lower() in allowed:
            out.append(allowed[w.lower()])
        elif w.lower() in WINDOWS_CONSTANTS:
            out.append(str(WINDOWS_CONSTANTS[w.lower()]))
        else:
            raise ValueError(f"conditional compilation on {w!r}: the harness knows only {sorted(WINDOWS_CONSTANTS)}")
    return eval(" ".join(out), {"__builtins__": {}})  # only True/False/not/and/or reach here


def _windows_branches(source):
    """The module as VBA for Windows compiles it: LibreOffice compiles and runs both
    branches of ``#If Mac Then ... #Else`` (Remote.bas' setValues then converts every
    string character by character through a worksheet function, 0.1 s a cell); the lines
    of the branches Windows skips become blank, so line numbers stay."""
    lines = source.split("\n")
    stack = []   # (this branch taken, some branch of this #If already taken)
    out = []
    for line in lines:
        m = _DIRECTIVE.match(line)
        if m:
            kind = m.group(1).lower().replace(" ", "")
            if kind == "if":
                outer = all(t for t, _ in stack)
                taken = outer and _condition(m.group(2))
                stack.append((taken, taken))
            elif kind == "elseif":
                _, done = stack.pop()
                outer = all(t for t, _ in stack)
                taken = outer and not done and _condition(m.group(2))
                stack.append((taken, done or taken))
            elif kind == "else":
                _, done = stack.pop()
                outer = all(t for t, _ in stack)
                stack.append((outer and not done, True))
            else:
                stack.pop()
            out.append("")
        elif re.match(r"\s*#Const\b", line, re.IGNORECASE):
            raise ValueError(f"#Const in a kept module: {line.strip()}")
        else:
            out.append(line if all(t for t, _ in stack) else "")
    if stack:
        raise ValueError("#If without #End If")
    return "\n".join(out)


def _tokens(value, out):
    """A JSON value as a flat (tag, payload) stream the harness turns back into VBA
    Collections, as VBA-Web's JSON parser gives them (json_ParseNumber): numbers as doubles,
    but one whose JSON text is 16 characters or more (17 with a point) as that text."""
    if isinstance(value, dict):
        out += ["d", float(len(value))]
        for key, item in value.items():
            out.append(key)
            _tokens(item, out)
    elif isinstance(value, list):
        out += ["a", float(len(value))]
        for item in value:
            _tokens(item, out)
    elif value is None:
        out += ["z", ""]
    elif isinstance(value, bool):
        out += ["b", value]
    elif isinstance(value, (int, float)):
        text = json.dumps(value)
        out += ["s", text] if len(text) >= (17 if "." in text else 16) else ["n", float(value)]
    else:
        out += ["s", str(value)]
    return out


def _border(line):
    return {"style": int(line.LineStyle), "width": int(line.OuterLineWidth) + int(line.InnerLineWidth)
            + int(line.LineDistance), "color": f"{line.Color & 0xFFFFFF:06X}"}


def _looks(props, format_strings):
    """A cell's looks from its CELL_PROPS values."""
    p = dict(zip(CELL_PROPS, props))
    return {
        "font_name": p["CharFontName"], "font_size": round(p["CharHeight"], 2),
        "bold": p["CharWeight"] >= 150, "italic": p["CharPosture"].value != "NONE",
        "font_color": None if p["CharColor"] == -1 else f"{p['CharColor'] & 0xFFFFFF:06X}",
        "underline": int(p["CharUnderline"]),
        "fill": None if p["IsCellBackgroundTransparent"] else f"{p['CellBackColor'] & 0xFFFFFF:06X}",
        "h_align": _enum_index(p["HoriJustify"], HORI),
        "v_align": _enum_index(p["VertJustify"], VERT),
        "wrap": bool(p["IsTextWrapped"]),
        "borders": {"top": _border(p["TopBorder"]), "bottom": _border(p["BottomBorder"]),
                    "left": _border(p["LeftBorder"]), "right": _border(p["RightBorder"])},
        "number_format": format_strings(p["NumberFormat"]),
    }


def _read_cells(sheet, format_strings, cells):
    """The looks and values of ``cells`` ((row, column), 1-based), a few UNO calls a sheet
    (each call is a round trip to soffice; three a cell took half of the replay's time).
    LibreOffice keeps one pooled pattern per distinct set of cell attributes (fonts, fill,
    alignment, borders, number format, merge), and getUniqueCellFormatRanges groups the
    range's cells by it: one cell of a group answers for all of them. Only a merged cell's
    area is asked of that cell itself."""
    height = max(r for r, _ in cells)
    width = max(c for _, c in cells)
    whole = sheet.getCellRangeByPosition(0, 0, width - 1, height - 1)
    data = whole.getDataArray()
    wanted = set(cells)
    looks = {}
    for group in whole.getUniqueCellFormatRanges():
        addresses = group.getRangeAddresses()
        first = sheet.getCellByPosition(addresses[0].StartColumn, addresses[0].StartRow)
        shared = _looks(first.getPropertyValues(CELL_PROPS), format_strings)
        merged = first.getIsMerged()
        for a in addresses:
            for r in range(a.StartRow + 1, a.EndRow + 2):
                for c in range(a.StartColumn + 1, a.EndColumn + 2):
                    if (r, c) in wanted:
                        looks[(r, c)] = (shared, merged)
    out = {}
    for r, c in cells:
        shared, merged = looks[(r, c)]     # every cell of the range is in one group
        cell = dict(shared)
        cell["merged"] = _merged_area(sheet, sheet.getCellByPosition(c - 1, r - 1)) if merged else None
        value = data[r - 1][c - 1]
        cell["value"] = None if value == "" else value
        out[f"{r},{c}"] = cell
    return out


def _enum_index(value, names):
    """A UNO enum (CellHoriJustify.CENTER) or a plain int (VertJustify is a long) as a name."""
    if isinstance(value, int):
        return names.get(value, str(value))
    return value.value.lower()


def _merged_area(sheet, cell):
    cursor = sheet.createCursorByRange(cell)
    cursor.collapseToMergedArea()
    a = cursor.getRangeAddress()
    area = [a.StartRow + 1, a.StartColumn + 1, a.EndRow + 1, a.EndColumn + 1]
    return None if area[:2] == area[2:] else area


def _read(doc, what):
    formats = doc.getNumberFormats()
    known = {}

    def format_string(key):
        if key not in known:
            known[key] = formats.getByKey(key).FormatString
        return known[key]

    out = {}
    for name, wanted in what.items():
        if not doc.Sheets.hasByName(name):
            out[name] = None
            continue
        sheet = doc.Sheets.getByName(name)
        rows, cols = sheet.getRows(), sheet.getColumns()
        got = {"cells": {}, "rows": {}, "cols": {}}
        cells = [tuple(cell) for cell in wanted.get("cells", [])]
        if cells:
            got["cells"] = _read_cells(sheet, format_string, cells)
        for r in wanted.get("rows", []):
            got["rows"][str(r)] = rows.getByIndex(r - 1).Height / HUNDREDTH_MM_PER_POINT
        for c in wanted.get("cols", []):
            col = cols.getByIndex(c - 1)
            got["cols"][str(c)] = {"points": col.Width / HUNDREDTH_MM_PER_POINT, "hidden": not col.IsVisible}
        got["print_areas"] = [[a.StartRow + 1, a.StartColumn + 1, a.EndRow + 1, a.EndColumn + 1]
                              for a in sheet.getPrintAreas()]
        got["page"] = _page(doc, sheet)
        if "charts" in wanted:
            got["charts"] = _charts(sheet, wanted["charts"])
        out[name] = got
    return out


def _charts(sheet, cells):
    """The sheet's chart objects as LibreOffice holds them (lengths in 1/100 mm): each shape's
    name (what VBA's ChartObject.Name and Shape.Name set), title, data ranges, whether it holds
    a copy of its data (internal) and that data (cell layout, None where empty), type, plot-by,
    legend and rectangle; and where each of ``cells`` (A1 addresses) starts, for anchors."""
    charts = sheet.getCharts()
    page = sheet.getDrawPage()
    objects = []
    for i in range(page.getCount()):
        shape = page.getByIndex(i)
        if shape.getShapeType() != "com.sun.star.drawing.OLE2Shape" or not charts.hasByName(shape.PersistName):
            continue
        table_chart = charts.getByName(shape.PersistName)
        chart = table_chart.getEmbeddedObject()
        diagram = chart.getDiagram()
        ranges = [sheet.getCellRangeByPosition(r.StartColumn, r.StartRow, r.EndColumn, r.EndRow).AbsoluteName
                  for r in table_chart.getRanges()]
        pos, size = shape.getPosition(), shape.getSize()
        missing = chart.getData().getNotANumber()
        objects.append({"name": shape.Name, "title": chart.getTitle().String if chart.HasMainTitle else None,
                        "ranges": [r.split(".", 1)[1].replace("$", "") for r in ranges],
                        "diagram": diagram.getDiagramType(), "vertical": bool(diagram.Vertical),
                        "plot_by": diagram.DataRowSource.value, "legend": bool(chart.HasLegend),
                        "internal": bool(chart.hasInternalDataProvider()),
                        "data": [[None if v == missing else v for v in row] for row in chart.getData().getData()],
                        "rect": [pos.X, pos.Y, size.Width, size.Height]})
    starts = {}
    for address in cells:
        where = sheet.getCellRangeByName(address).Position
        starts[address] = [where.X, where.Y]
    return {"objects": objects, "cells": starts}


def _page(doc, sheet):
    """The sheet's page as LibreOffice holds it (its page style; lengths in 1/100 mm; the top
    and bottom margins as Excel counts them, to the body: LibreOffice's run to the header and
    footer, which have their own heights), and its print title rows (1-based, or null)."""
    style = doc.StyleFamilies.getByName("PageStyles").getByName(sheet.PageStyle)
    titles = sheet.getTitleRows() if sheet.getPrintTitleRows() else None
    content = style.RightPageFooterContent     # held: its texts read through it
    footer = content.getCenterText().getString() if style.FooterIsOn else None
    return {"landscape": bool(style.IsLandscape), "size": sorted([style.Size.Width, style.Size.Height]),
            "fit": [style.ScaleToPagesX, style.ScaleToPagesY], "centred": bool(style.CenterHorizontally),
            "margins": [style.LeftMargin, style.RightMargin,
                        style.TopMargin + (style.HeaderHeight if style.HeaderIsOn else 0),
                        style.BottomMargin + (style.FooterHeight if style.FooterIsOn else 0)],
            "footer": footer, "title_rows": [titles.StartRow + 1, titles.EndRow + 1] if titles else None}


def _protect_after_save(doc, after):
    """Protection staff set in the open book after its last save, which the server cannot
    know: {"password": {sheet: password}} (a protection without one is replaced) and
    {"structure": true} (the book's structure, no password); and cells staff merged or gave
    an array formula since: {"merge": [[sheet, "C10:C11"], ...], "array": [[sheet, "C12:C13",
    "=A1:A2"], ...]} (made through the API with the sheet's protection lifted and put back)."""
    for kind in ("merge", "array"):
        for name, address, *formula in after.get(kind, ()):
            sheet = doc.Sheets.getByName(name)
            protected = sheet.isProtected()
            if protected:
                sheet.unprotect("")
            cells = sheet.getCellRangeByName(address)
            if kind == "merge":
                cells.merge(True)
            else:
                cells.setArrayFormula(formula[0])
            if protected:
                sheet.protect("")
    for name, password in after.get("password", {}).items():
        sheet = doc.Sheets.getByName(name)
        if sheet.isProtected():
            sheet.unprotect("")
        sheet.protect(password)
    if after.get("structure"):
        doc.protect("")


def _runs(desktop, job):
    """Each run's answer, in order. A run with "same_book": true goes on in the book the run
    before it left open (that run's harness; no after_save of its own): cases whose actions
    stop before they change what the next one reads share one load of the master, about half
    a CPU-second of LibreOffice each."""
    out, doc = [], None
    try:
        for run in job["runs"]:
            if run.get("same_book"):
                if doc is None or run.get("after_save") or "harness" in run:
                    raise ValueError("a same_book run goes on in the previous run's book, as it is")
            else:
                if doc is not None:
                    doc.close(True)
                    doc = None
                doc = _opened(desktop, job, run)
            out.append(_replay(doc, job, run))
    finally:
        if doc is not None:
            doc.close(True)
    return out


def _opened(desktop, job, run):
    """The run's copy of a master open, its VBA project ready for the harness and the open
    book changed since its last save as the run says."""
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(run["book"])), "_blank", 0,
                                       (prop("Hidden", True), prop("MacroExecutionMode", 4)))
    if doc is None:
        raise RuntimeError(f"LibreOffice could not open {run['book']}")
    try:
        libs = doc.BasicLibraries
        libs.loadLibrary("VBAProject")
        lib = libs.getByName("VBAProject")
        modules = set(lib.getElementNames())
        for name in job["drop"]:
            if name in modules:
                lib.removeByName(name)
        for name in lib.getElementNames():
            source = lib.getByName(name)
            resolved = _windows_branches(source)
            if resolved != source:
                lib.replaceByName(name, resolved)
        lib.insertByName(job["module"], run.get("harness", job["harness"]))
        _protect_after_save(doc, run.get("after_save", {}))
    except BaseException:
        doc.close(True)
        raise
    return doc


def _replay(doc, job, run):
    lib = doc.BasicLibraries.getByName("VBAProject")
    protected = [sheet.Name for sheet in doc.Sheets if sheet.isProtected()]
    script = doc.getScriptProvider().getScript(
        f"vnd.sun.star.script:VBAProject.{job['module']}.{run.get('entry', job['entry'])}"
        "?language=Basic&location=document")
    start = time.monotonic()
    result, _, _ = script.invoke((tuple(_tokens(run["actions"], [])),), (), ())
    seconds = time.monotonic() - start
    return {"result": result, "seconds": seconds, "protected": protected,
            "protected_after": [sheet.Name for sheet in doc.Sheets if sheet.isProtected()],
            "modules": sorted(lib.getElementNames()),
            "sheets": list(doc.Sheets.getElementNames()), "read": _read(doc, run["read"])}


def main(job_path, profile):
    with open(job_path, encoding="utf-8") as f:
        job = json.load(f)
    _write_profile(profile)
    soffice, port = start_office(profile)
    try:
        ctx = connect(port, soffice)
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        runs = _runs(desktop, job)
        quit_office(desktop)
        # json.dumps, not json.dump: dump encodes in Python, chunk by chunk (3 s for the
        # replays' 6 MB of cells read back); dumps' C encoder writes the same text at once.
        sys.stdout.write(json.dumps({"runs": runs}, ensure_ascii=False))
    finally:
        reap(soffice)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

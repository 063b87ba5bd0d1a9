"""The UNO side of tests/realbooks.py's LibreOffice jobs: the child process each job runs.

realbooks (in the pytest process) starts this file as a script with the venv's Python, the
job as JSON on its standard input; it connects to the headless soffice realbooks keeps, does
the job, closes what it opened and answers JSON on standard output (realbooks' docstring says
why in a child). A module of its own, importing the standard library's few modules it needs
and ``uno``: run as realbooks itself, each job's child imported pytest, defusedxml and the rest
of realbooks first, 0.14 CPU s a start against about 0.02 for the interpreter with ``uno``
(perf-108 in docs/performance.md). tests/test_uno_office.py checks what a child imports.

What the jobs add to a book (the names and texts below) is defined here, where the jobs write
them; realbooks offers them to the tests under the same names.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import struct
import sys
import time
import zlib
from pathlib import Path

UNO_PATH = "/usr/lib/python3/dist-packages"
READY_EXIT = 3       # the child's exit code when the office was unusable before the job began

# What lo_staff_edit adds; tests check for these.
STAFF_SHEET = "メモ"
STAFF_NAME = "担当者メモ"
STAFF_NAME_REF = "$メモ.$A$1"
COMMENT_SHEET = "小樽市"
COMMENT_CELL = "B2"
COMMENT_TEXT = "担当者確認済み（小樽市 産業振興課）"
SHAPE_SHEET = "指標"
SHAPE_TEXT = "職員メモ: 目標値は来年度見直し"
IMAGE_SHEET = "設定"
CF_SHEET = "小樽市"
CF_RANGE = "D2:D8"  # the 単位 column: not an input column (実績値/分母/実施状況)
CHART_NAME = "件数グラフ"

# What lo_tool_sheet_edit adds: staff comments on sheets the tool owns, a chart of their own on 集計,
# a picture on 一覧 (a logo for the printed list) and a text box on 集計 (beside the tool's charts).
TOOL_SHEET_COMMENTS = (("一覧", "B2"), ("集計", "A1"), ("検証結果", "A1"))
TOOL_CHART_SHEET = "集計"
TOOL_CHART_NAME = "職員のグラフ"
TOOL_PICTURE_SHEET = "一覧"
TOOL_PICTURE_NAME = "職員のロゴ"
TOOL_TEXT_BOX_SHEET = "集計"
TOOL_TEXT_BOX_NAME = "職員の注記"
TOOL_TEXT_BOX_TEXT = "速報値を含みます"


def tiny_png(width: int = 16, height: int = 12, rgb: tuple = (0x2E, 0x7D, 0x32)) -> bytes:
    """A small solid-colour PNG written with zlib + struct (no imaging library needed)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(rgb) * width
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * height))
            + chunk(b"IEND", b""))


def _uno_child() -> None:
    sys.path.append(UNO_PATH)
    import uno
    from com.sun.star.beans import PropertyValue
    from com.sun.star.connection import NoConnectException

    job = json.loads(sys.stdin.read())

    def prop(name, value):
        p = PropertyValue()
        p.Name, p.Value = name, value
        return p

    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + 60
    while True:
        try:
            ctx = resolver.resolve(f"uno:pipe,name={job['pipe']};urp;StarOffice.ComponentContext")
            break
        except NoConnectException:
            if not _alive(job["soffice_pid"]):
                _unusable("soffice exited before accepting connections")
            if time.monotonic() > deadline:
                _unusable("soffice did not accept connections within 60 s")
            time.sleep(0.1)
    smgr = ctx.ServiceManager
    desktop = smgr.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    left = _open_documents(desktop)
    if left:
        _unusable(f"LibreOffice already holds documents before the job: {left}")
    Path(job["ready"]).touch()      # the office answers: from here on, a failure is the job's
    failed = True
    try:
        if job["kind"] == "staff_edit":
            answer = _uno_staff_edit(uno, prop, ctx, desktop, job)
        elif job["kind"] == "tool_sheets":
            answer = _uno_tool_sheets(uno, prop, ctx, desktop, job)
        elif job["kind"] == "form_control":
            answer = _uno_form_control(uno, prop, desktop, job)
        elif job["kind"] == "rows":
            answer = _uno_rows(uno, prop, desktop, job)
        elif job["kind"] == "formulas":
            answer = _uno_formulas(uno, prop, desktop, job)
        elif job["kind"] == "cell_values":
            answer = _uno_cell_values(uno, prop, ctx, desktop, job)
        elif job["kind"] == "convert":
            answer = _uno_convert(uno, prop, desktop, job)
        elif job["kind"] == "inspect":
            answer = {"books": [_uno_inspect(uno, prop, desktop, p, job.get("pdfs", {}).get(p), job.get("pdf_filter"))
                                for p in job["paths"]]}
        elif job["kind"] == "probe":
            answer = _uno_probe(uno, prop, desktop, job)
        elif job["kind"] == "vba":
            answer = _uno_vba(prop, ctx, desktop, job)
        elif job["kind"] == "test_open":       # tests of the sharing: a job that forgets to close
            _uno_load(uno, prop, desktop, job["path"], True)
            answer = {}
        elif job["kind"] == "test_options":    # tests of the sharing: the options a vba job sets
            answer = {"options": _options(prop, ctx)}
        elif job["kind"] == "test_modules":    # tests of the child's start: what it imported
            answer = {"modules": sorted(sys.modules)}
        elif job["kind"] == "test_crash":      # tests of the sharing: LibreOffice dies mid-job
            os.killpg(job["soffice_pid"], signal.SIGKILL)
            desktop.getComponents()
            answer = {}
        else:
            raise ValueError(job["kind"])
        failed = False
    finally:
        try:
            left = _open_documents(desktop, close=True)
        except Exception:
            if not failed:
                raise
            left = []   # the job's own error says more; the parent replaces this office anyway
    if left:
        raise RuntimeError(f"the job left documents open in LibreOffice: {left}")
    sys.stdout.write(json.dumps(answer, ensure_ascii=False))   # the C encoder: dump's is Python's


def _unusable(reason: str) -> None:
    """The office cannot take the job (before it began): the parent replaces it."""
    print(reason, file=sys.stderr)
    sys.exit(READY_EXIT)


def _open_documents(desktop, close: bool = False) -> list[str]:
    """The URLs (or titles) of the documents LibreOffice holds; with ``close``, each is closed
    too (unmodified first, so no save is asked for), and the list says what had been left."""
    found = []
    components = desktop.getComponents().createEnumeration()
    while components.hasMoreElements():
        doc = components.nextElement()
        found.append(getattr(doc, "URL", "") or getattr(doc, "Title", "") or repr(doc))
        if close:
            try:
                doc.setModified(False)
            except Exception:
                pass
            doc.close(True)
    return found


def _alive(pid: int) -> bool:
    """Whether a process runs (not gone, not a zombie waiting for its parent)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _uno_probe(uno, prop, desktop, job):
    """A test's probe (tests/uno_probe.py, tests/uno_input_probe.py: ``probe(doc, *args)``) on
    the document ``job["path"]`` opened in this office, then closed unsaved."""
    import importlib

    doc = _uno_load(uno, prop, desktop, job["path"], job["read_only"])
    if doc is None:
        raise RuntimeError(f"LibreOffice could not open {job['path']}")
    try:
        return importlib.import_module(job["probe"]).probe(doc, *job["args"])
    finally:
        doc.setModified(False)
        doc.close(True)


def _uno_load(uno, prop, desktop, path, read_only):
    return desktop.loadComponentFromURL(
        uno.systemPathToFileUrl(path), "_blank", 0,
        (prop("Hidden", True), prop("ReadOnly", read_only), prop("MacroExecutionMode", 0)))


@contextlib.contextmanager
def _uno_editing(uno, prop, desktop, job):
    """The document ``job["src"]`` opened for a job's edits, saved as ``job["dst"]`` in
    ``job["filter"]`` (or as each [dst, filter] of ``job["saves"]``) when they end, and closed
    whatever happens."""
    doc = _uno_load(uno, prop, desktop, job["src"], False)
    if doc is None:
        raise RuntimeError(f"LibreOffice could not open {job['src']}")
    try:
        yield doc
        options = (prop("FilterOptions", job["options"]),) if job.get("options") else ()
        for dst, filter in job.get("saves") or [[job["dst"], job["filter"]]]:   # storeToURL leaves doc as it was
            doc.storeToURL(uno.systemPathToFileUrl(dst), (prop("FilterName", filter), prop("Overwrite", True), *options))
        doc.setModified(False)
    finally:
        doc.close(True)


def _uno_staff_edit(uno, prop, ctx, desktop, job):
    from com.sun.star.awt import Point, Rectangle, Size
    from com.sun.star.table import CellAddress, CellRangeAddress

    doc = _uno_load(uno, prop, desktop, job["src"], False)
    if doc is None:
        raise RuntimeError(f"LibreOffice could not open {job['src']}")
    try:
        sheets = doc.Sheets

        # a comment (annotation) on a municipality sheet
        sheet = sheets.getByName(COMMENT_SHEET)
        cell = sheet.getCellRangeByName(COMMENT_CELL).CellAddress
        sheet.Annotations.insertNew(cell, COMMENT_TEXT)

        # a rectangle with text on 指標
        sheet = sheets.getByName(SHAPE_SHEET)
        rect = doc.createInstance("com.sun.star.drawing.RectangleShape")
        rect.Position, rect.Size = Point(3000, 4000), Size(6000, 2000)
        sheet.DrawPage.add(rect)
        rect.String = SHAPE_TEXT
        rect.Name = "職員メモ図形"

        # a staff sheet with numbers and a chart of them
        sheets.insertNewByName(STAFF_SHEET, sheets.Count)
        memo = sheets.getByName(STAFF_SHEET)
        memo.getCellRangeByName("A1:B5").DataArray = (
            ("月", "件数"), ("4月", 3.0), ("5月", 5.0), ("6月", 2.0), ("7月", 7.0))
        index = sheets.Count - 1
        area = CellRangeAddress(index, 0, 0, 1, 4)
        memo.Charts.addNewByName(CHART_NAME, Rectangle(500, 3000, 10000, 6000), (area,), True, True)

        # a picture on 設定
        png = Path(job["tmp"]) / "staff.png"
        png.write_bytes(tiny_png())
        provider = ctx.ServiceManager.createInstanceWithContext("com.sun.star.graphic.GraphicProvider", ctx)
        graphic = provider.queryGraphic((prop("URL", uno.systemPathToFileUrl(str(png))),))
        picture = doc.createInstance("com.sun.star.drawing.GraphicObjectShape")
        sheet = sheets.getByName(IMAGE_SHEET)
        sheet.DrawPage.add(picture)
        picture.Graphic = graphic
        picture.Position, picture.Size = Point(14000, 9000), Size(1600, 1200)
        picture.Name = "職員の画像"

        # a workbook-scope defined name of the staff's own
        doc.NamedRanges.addNewByName(STAFF_NAME, STAFF_NAME_REF, CellAddress(0, 0, 0), 0)

        # a cell-value conditional format on 小樽市 (単位 column)
        sheet = sheets.getByName(CF_SHEET)
        target = sheet.getCellRangeByName(CF_RANGE)
        entries = target.ConditionalFormat
        entries.addNew((prop("Operator", uno.Enum("com.sun.star.sheet.ConditionOperator", "EQUAL")),
                        prop("Formula1", '"件"'), prop("StyleName", "Good")))
        target.ConditionalFormat = entries

        for dst, filter in job["saves"]:
            doc.storeToURL(uno.systemPathToFileUrl(dst), (prop("FilterName", filter), prop("Overwrite", True)))
        doc.setModified(False)
    finally:
        doc.close(True)
    return {"saved": [dst for dst, _ in job["saves"]]}


def _uno_tool_sheets(uno, prop, ctx, desktop, job):
    from com.sun.star.awt import Point, Rectangle, Size
    from com.sun.star.table import CellRangeAddress

    with _uno_editing(uno, prop, desktop, job) as doc:
        sheets = doc.Sheets
        names = list(sheets.ElementNames)
        for name, ref in TOOL_SHEET_COMMENTS:
            sheet = sheets.getByName(name)
            sheet.Annotations.insertNew(sheet.getCellRangeByName(ref).CellAddress, f"職員のコメント（{name}）")
        sheet = sheets.getByName(TOOL_CHART_SHEET)
        area = CellRangeAddress(names.index(TOOL_CHART_SHEET), 0, 0, 1, 4)
        sheet.Charts.addNewByName(TOOL_CHART_NAME, Rectangle(20000, 3000, 8000, 5000), (area,), True, True)

        sheet = sheets.getByName(TOOL_PICTURE_SHEET)
        png = Path(job["tmp"]) / "tool_sheet_logo.png"
        png.write_bytes(tiny_png(rgb=(0xC6, 0x28, 0x28)))
        provider = ctx.ServiceManager.createInstanceWithContext("com.sun.star.graphic.GraphicProvider", ctx)
        picture = doc.createInstance("com.sun.star.drawing.GraphicObjectShape")
        sheet.DrawPage.add(picture)
        picture.Graphic = provider.queryGraphic((prop("URL", uno.systemPathToFileUrl(str(png))),))
        picture.Position, picture.Size = Point(30000, 500), Size(1600, 1200)
        picture.Name = TOOL_PICTURE_NAME
        box = doc.createInstance("com.sun.star.drawing.TextShape")
        sheets.getByName(TOOL_TEXT_BOX_SHEET).DrawPage.add(box)
        box.Position, box.Size = Point(30000, 2500), Size(5000, 1000)
        box.String = TOOL_TEXT_BOX_TEXT
        box.Name = TOOL_TEXT_BOX_NAME
    return {"saved": [dst for dst, _ in job["saves"]]}


def _uno_form_control(uno, prop, desktop, job):
    from com.sun.star.awt import Point, Size

    with _uno_editing(uno, prop, desktop, job) as doc:
        model = doc.createInstance("com.sun.star.form.component.CheckBox")
        model.Label = job["label"]
        shape = doc.createInstance("com.sun.star.drawing.ControlShape")
        shape.Size, shape.Position = Size(3000, 800), Point(30000, 4000)
        shape.Control = model
        doc.Sheets.getByName(job["sheet"]).DrawPage.add(shape)
    return {"saved": [job["dst"]]}


def _uno_rows(uno, prop, desktop, job):
    from com.sun.star.table import TableSortField

    with _uno_editing(uno, prop, desktop, job) as doc:
        sheet = doc.Sheets.getByName(job["sheet"])
        if job.get("unprotect"):
            sheet.unprotect("")
        if job["sort"]:
            area = sheet.getCellRangeByName(job["sort"])
            field = TableSortField()
            field.Field, field.IsAscending = 0, not job["sort_header"]
            descriptor = area.createSortDescriptor()
            for p in descriptor:
                if p.Name == "SortFields":
                    p.Value = uno.Any("[]com.sun.star.table.TableSortField", (field,))
                elif p.Name == "ContainsHeader":
                    p.Value = job["sort_header"]
            area.sort(descriptor)
        if job["remove_row"]:
            sheet.Rows.removeByIndex(job["remove_row"] - 1, 1)
        if job["insert_row"]:
            sheet.Rows.insertByIndex(job["insert_row"] - 1, 1)
    return {"saved": job["dst"]}


def _uno_formulas(uno, prop, desktop, job):
    with _uno_editing(uno, prop, desktop, job) as doc:
        for sheet, ref, formula in job["formulas"]:
            doc.Sheets.getByName(sheet).getCellRangeByName(ref).setFormula(formula)
        doc.calculateAll()
    return {"saved": job["dst"]}


def _uno_convert(uno, prop, desktop, job):
    """``job["src"]`` stored as ``job["dst"]``; or, with ``job["sheets"]`` ([[sheet, dst], ...]),
    each sheet's pages alone (FilterData Selection: the sheet printed as Calc prints it, the
    other sheets not laid out) stored as its own ``dst``, from the one load of ``src``."""
    doc = _uno_load(uno, prop, desktop, job["src"], True)
    if doc is None:
        raise RuntimeError(f"LibreOffice could not open {job['src']}")
    try:
        base = (prop("FilterOptions", job["options"]),) if job.get("options") else ()
        for sheet, dst in job.get("sheets") or [["", job["dst"]]]:
            options = base
            if sheet:
                if not doc.Sheets.hasByName(sheet):
                    raise RuntimeError(f"no sheet {sheet!r} in {job['src']}")
                data = (prop("Selection", doc.Sheets.getByName(sheet)),)
                options += (prop("FilterData", uno.Any("[]com.sun.star.beans.PropertyValue", data)),)
            doc.storeToURL(uno.systemPathToFileUrl(dst), (prop("FilterName", job["filter"]), prop("Overwrite", True),
                                                          *options))
    finally:
        doc.close(True)
    return {"saved": job.get("dst")}


def _uno_cell_values(uno, prop, ctx, desktop, job):
    provider = ctx.ServiceManager.createInstanceWithContext("com.sun.star.configuration.ConfigurationProvider", ctx)
    load = provider.createInstanceWithArguments("com.sun.star.configuration.ConfigurationUpdateAccess",
                                                (prop("nodepath", "/org.openoffice.Office.Calc/Formula/Load"),))
    before = load.getPropertyValue("OOXMLRecalcMode")
    out = {}
    try:
        for mode, number in job["modes"].items():   # read again at every import (WorkbookFragment::recalcFormulaCells)
            load.setPropertyValue("OOXMLRecalcMode", number)
            load.commitChanges()
            doc = _uno_load(uno, prop, desktop, job["path"], True)
            if doc is None:
                raise RuntimeError(f"LibreOffice could not open {job['path']}")
            try:
                out[mode] = [doc.Sheets.getByName(sheet).getCellRangeByName(ref).getValue()
                             for sheet, ref in job["cells"]]
            finally:
                doc.close(True)
    finally:   # the office serves later jobs: they open files as LibreOffice does by default
        load.setPropertyValue("OOXMLRecalcMode", before)
        load.commitChanges()
    return {"values": out}


# What tests/uno_vba.py's profile sets for a VBA host (../shared/FACTS.md, "LibreOffice as a VBA
# host"): a master's vbaProject loaded, executable and kept, and every macro trusted.
VBA_OPTIONS = (("/org.openoffice.Office.Calc/Filter/Import/VBA", (("Load", True), ("Executable", True), ("Save", True))),
               ("/org.openoffice.Office.Common/Security/Scripting", (("MacroSecurityLevel", 0),)))


def _options(prop, ctx) -> dict:
    """VBA_OPTIONS' values as this office holds them now: {"path/name": value}."""
    provider = ctx.ServiceManager.createInstanceWithContext("com.sun.star.configuration.ConfigurationProvider", ctx)
    out = {}
    for path, values in VBA_OPTIONS:
        node = provider.createInstanceWithArguments("com.sun.star.configuration.ConfigurationAccess",
                                                    (prop("nodepath", path),))
        out.update({f"{path}/{name}": node.getPropertyValue(name) for name, _ in values})
    return out


def _uno_vba(prop, ctx, desktop, job):
    """tests/uno_vba.py's runs (its job format) in this office: its VBA options set for the
    job (read again at every import, as a fresh profile of uno_vba's has them) and restored
    after, so later jobs open files as LibreOffice does by default. A private soffice with
    that profile was a LibreOffice start (about 1.3 CPU s) for the module's one job."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import uno_vba

    provider = ctx.ServiceManager.createInstanceWithContext("com.sun.star.configuration.ConfigurationProvider", ctx)
    nodes = [(provider.createInstanceWithArguments("com.sun.star.configuration.ConfigurationUpdateAccess",
                                                   (prop("nodepath", path),)), values) for path, values in VBA_OPTIONS]
    before = [(node, [(name, node.getPropertyValue(name)) for name, _ in values]) for node, values in nodes]
    try:
        for node, values in nodes:
            for name, value in values:
                node.setPropertyValue(name, value)
            node.commitChanges()
        return {"runs": uno_vba._runs(desktop, job), "options": _options(prop, ctx)}
    finally:
        for node, values in before:
            for name, value in values:
                node.setPropertyValue(name, value)
            node.commitChanges()


def _uno_inspect(uno, prop, desktop, path, pdf=None, pdf_filter=None):
    """What Calc sees in ``path``; with ``pdf``, the document is first stored there with
    ``pdf_filter`` as _uno_convert stores it (the same load: one open of the bytes for both)."""
    try:
        doc = _uno_load(uno, prop, desktop, path, True)
    except Exception as exc:  # an IllegalArgumentException or IOException: not loadable
        return {"path": path, "loaded": False, "error": repr(exc)}
    if doc is None:
        return {"path": path, "loaded": False, "error": "loadComponentFromURL returned None"}
    try:
        if pdf is not None:
            doc.storeToURL(uno.systemPathToFileUrl(pdf), (prop("FilterName", pdf_filter), prop("Overwrite", True)))
        out = {}
        for sheet in doc.Sheets:
            cursor = sheet.createCursor()
            cursor.gotoEndOfUsedArea(False)
            end = cursor.RangeAddress
            data = sheet.getCellRangeByPosition(0, 0, min(end.EndColumn, 49), min(end.EndRow, 199)).DataArray
            strings = [v for row in data for v in row if isinstance(v, str) and v]
            page = sheet.DrawPage
            # The form's models, not each ControlShape's Control: LibreOffice links a shape to its
            # model lazily, and Control was found None now and then on the same file.
            forms = page.Forms
            controls = [form.getByIndex(j) for i in range(forms.Count) for form in [forms.getByIndex(i)]
                        for j in range(form.Count)]
            out[sheet.Name] = {"shapes": page.Count, "annotations": sheet.Annotations.Count,
                               "charts": sheet.Charts.Count, "strings": strings,
                               "controls": [c.getPropertyValue("Label") if c.getPropertySetInfo().hasPropertyByName("Label")
                                            else "" for c in controls]}
        names = list(doc.NamedRanges.ElementNames)
    finally:
        doc.close(True)
    return {"path": path, "loaded": True, "sheets": out, "names": names}


if __name__ == "__main__":
    _uno_child()
    # The answer is out: end without the interpreter's finalization, where pyuno's bridge objects
    # are torn down in no set order. Run this light (no pytest, no realbooks imported first),
    # the child died of SIGSEGV there about once in 40 jobs (exit -11 after a whole answer);
    # as realbooks' script it never did in 80.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)

"""The part-by-part package writer keeps what the application saved.

Each case builds a real file with a feature a whole-book rewrite (openpyxl load+save)
would lose: made by XlsxWriter or LibreOffice, or an XlsxWriter file with the part added
the way Excel stores it. The writer then applies a plan that does everything a write
does: it replaces the tool-owned sheet 集計 (cells with looks, a merge, conditional
formats, a chart) and edits the staff sheet 指標 (a value in a far cell, a mark fill on
A1). Afterwards

- the feature is still there;
- every part but the ones the plan may change is byte-identical to the original;
- the staff sheet part differs only in the edited cells (and the row and dimension the
  writer had to add or grow for them);
- the result opens in openpyxl, and LibreOffice prints it;
- lifting the mark gives A1 its original bytes back.

The files the writer must refuse (encrypted, not a zip, not OOXML, a DTD, Strict OOXML)
are refused with a Japanese message, the file left as it was.
"""

from __future__ import annotations

import importlib.util
import posixpath
import re
import shutil
import struct
import subprocess
import warnings
import zipfile
import zlib
from pathlib import Path
from xml.etree import ElementTree as ET

import openpyxl
import pytest
import xlsxwriter

from conftest import require_soffice
from renkei_xl.core import contract as c
from renkei_xl.core.errors import UserError
from renkei_xl.package.workbook import WorkbookXml
from renkei_xl.package.xml import PackageError
from renkei_xl.package.zipped import Package
from renkei_xl.core.plan_types import CellEdit, Chart, CondFormat, FillEdit, SheetPlan, WritePlan
from renkei_xl.workbook.apply import apply_plan
from renkei_xl.safety import writer_lock_file
from renkei_xl.workbook.state import StyleReader

STAFF, OWNED = "指標", "集計"
FAR = (40, 10)                      # J40: a cell far outside the staff sheet's used range
FAR_VALUE = "追加"

# ----------------------------------------------------------------- builders


def make_png(path: Path) -> Path:
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 4 for _ in range(4))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return path


def vba_project() -> bytes:
    """A real VBA project (xlwings ships one) so .xlsm files are genuine."""
    base = Path(importlib.util.find_spec("xlwings").submodule_search_locations[0])
    with zipfile.ZipFile(base / "quickstart_standalone.xlsm") as zf:
        return zf.read("xl/vbaProject.bin")


def make_book(path: Path, build=None) -> Path:
    """An XlsxWriter workbook with a staff sheet 指標 and a tool-owned sheet 集計."""
    wb = xlsxwriter.Workbook(str(path))
    if path.suffix == ".xlsm":
        bin_path = path.with_name("vbaProject.bin")
        bin_path.write_bytes(vba_project())
        wb.add_vba_project(str(bin_path))
    staff = wb.add_worksheet(STAFF)
    owned = wb.add_worksheet(OWNED)
    for row in range(5):
        staff.write_row(row, 0, [row + 1, (row + 1) * 2, "◎"])
        owned.write_row(row, 0, [row + 1, (row + 1) * 3])
    if build:
        build(wb, staff, owned)
    wb.close()
    return path


def read(path: Path, member: str) -> str:
    with zipfile.ZipFile(path) as zf:
        return zf.read(member).decode("utf-8") if member in zf.namelist() else ""


def read_bytes(path: Path, member: str) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read(member)


def members(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return [n for n in zf.namelist() if not n.endswith("/")]


def all_text(path: Path, prefix: str) -> str:
    return "".join(read(path, m) for m in members(path) if m.startswith(prefix))


def rewrite(path: Path, changes: dict[str, bytes | str | None]) -> Path:
    """Replace, add (or with None remove) zip members, the way Excel would store a part."""
    tmp = path.with_name("rewrite_" + path.name)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename not in changes:
                dst.writestr(item, src.read(item.filename))
        for name, data in changes.items():
            if data is not None:
                dst.writestr(name, data.encode("utf-8") if isinstance(data, str) else data)
    tmp.replace(path)
    return path


def add_part(path: Path, *, part: str, data: str, content_type: str, source: str, rel_type: str) -> Path:
    """Add a part and the relationship from ``source`` to it (content types too)."""
    folder, name = source.rsplit("/", 1) if "/" in source else ("", source)
    rels_name = f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"
    rels = read(path, rels_name) or (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>')
    rels = rels.replace("</Relationships>",
                        f'<Relationship Id="rIdAdded" Type="{rel_type}" Target="/{part}"/></Relationships>')
    types = read(path, "[Content_Types].xml").replace(
        "</Types>", f'<Override PartName="/{part}" ContentType="{content_type}"/></Types>')
    return rewrite(path, {part: data, rels_name: rels, "[Content_Types].xml": types})


# ------------------------------------------------ cases: what a rewrite would lose
#
# Each case returns (path, kept): ``kept(file)`` is true while the file still has the
# feature. The staff sheet 指標 is xl/worksheets/sheet1.xml in every case.

SHEET1 = "xl/worksheets/sheet1.xml"


def _chart(sheet_name):
    def build(wb, staff, owned):
        chart = wb.add_chart({"type": "column"})
        chart.add_series({"values": "=指標!$A$1:$A$5", "name": "実績"})
        chart.set_style(26)
        (staff if sheet_name == STAFF else owned).insert_chart("E2", chart)
    return build


X14_DV = ('<extLst><ext uri="{CCE6A557-97BC-4B89-ADB6-D9C93CAAB3DF}" '
          'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
          '<x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
          '<x14:dataValidation type="list" allowBlank="1" showInputMessage="1" showErrorMessage="1">'
          '<x14:formula1><xm:f>集計!$A$1:$A$5</xm:f></x14:formula1><xm:sqref>C1:C5</xm:sqref>'
          '</x14:dataValidation></x14:dataValidations></ext></extLst></worksheet>')


def case_x14_conditional_format(tmp_path):
    path = make_book(tmp_path / "cf.xlsx", lambda wb, s, o: s.conditional_format(
        "A1:A5", {"type": "data_bar", "data_bar_2010": True}))
    return path, lambda out: ("x14:conditionalFormatting" in read(out, SHEET1)
                              and "x14:dataBar" in read(out, SHEET1))


def case_x14_data_validation(tmp_path):
    path = make_book(tmp_path / "dv.xlsx")
    sheet = read(path, SHEET1).replace("</worksheet>", X14_DV)
    rewrite(path, {SHEET1: sheet})
    return path, lambda out: "<xm:f>集計!$A$1:$A$5</xm:f>" in read(out, SHEET1)


def case_sparkline(tmp_path):
    path = make_book(tmp_path / "spark.xlsx", lambda wb, s, o: s.add_sparkline("E1", {"range": "指標!A1:B1"}))
    return path, lambda out: "<x14:sparkline>" in read(out, SHEET1)


def case_image(tmp_path):
    png = make_png(tmp_path / "red.png")
    path = make_book(tmp_path / "image.xlsm", lambda wb, s, o: s.insert_image("E2", str(png)))
    return path, lambda out: (read_bytes(out, "xl/media/image1.png") == png.read_bytes()
                              and "xl/vbaProject.bin" in members(out))


def case_shape(tmp_path):
    path = make_book(tmp_path / "textbox.xlsx", lambda wb, s, o: s.insert_textbox("E2", "担当者メモ"))
    return path, lambda out: "担当者メモ" in all_text(out, "xl/drawings/")


def case_chart(tmp_path):
    path = make_book(tmp_path / "chart.xlsx", _chart(STAFF))
    return path, lambda out: '<c:style val="26"/>' in read(out, "xl/charts/chart1.xml")


def case_comment_format(tmp_path):
    path = make_book(tmp_path / "comment.xlsm", lambda wb, s, o: s.write_comment(
        "A1", "確認してください", {"x_scale": 2, "color": "#CCFFCC", "visible": True}))

    def kept(out):
        vml = all_text(out, "xl/drawings/")
        return ("確認してください" in all_text(out, "xl/comments")
                and 'fillcolor="#ccffcc"' in vml.lower() and "visibility:visible" in vml
                and "width:192pt" in vml)
    return path, kept


def case_form_control(tmp_path):
    path = make_book(tmp_path / "button.xlsx", lambda wb, s, o: s.insert_button(
        "E2", {"macro": "run", "caption": "実行"}))
    return path, lambda out: ('ObjectType="Button"' in all_text(out, "xl/drawings/")
                              and "実行" in all_text(out, "xl/drawings/"))


def case_background(tmp_path):
    png = make_png(tmp_path / "bg.png")
    path = make_book(tmp_path / "bg.xlsx", lambda wb, s, o: s.set_background(str(png)))
    return path, lambda out: "<picture" in read(out, SHEET1) and [
        m for m in members(out) if m.startswith("xl/media/")]


def case_header_footer_image(tmp_path):
    png = make_png(tmp_path / "logo.png")
    path = make_book(tmp_path / "hf.xlsx", lambda wb, s, o: s.set_header("&L&G", {"image_left": str(png)}))
    return path, lambda out: ("legacyDrawingHF" in read(out, SHEET1)
                              and [m for m in members(out) if m.startswith("xl/media/")])


def case_rich_text(tmp_path):
    path = make_book(tmp_path / "rich.xlsx", lambda wb, s, o: s.write_rich_string(
        "D1", "札幌市", wb.add_format({"bold": True, "font_color": "red"}), "（要確認）"))

    def kept(out):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = openpyxl.load_workbook(out, rich_text=True)[STAFF]["D1"].value
        return str(value) == "札幌市（要確認）" and not isinstance(value, str)
    return path, kept


def case_phonetic(tmp_path):
    path = make_book(tmp_path / "furigana.xlsx", lambda wb, s, o: s.write("D1", "当別町"))
    strings = read(path, "xl/sharedStrings.xml").replace(
        "<t>当別町</t></si>",
        '<t>当別町</t><rPh sb="0" eb="3"><t>トウベツチョウ</t></rPh><phoneticPr fontId="1"/></si>')
    rewrite(path, {"xl/sharedStrings.xml": strings})
    return path, lambda out: "<t>トウベツチョウ</t>" in read(out, "xl/sharedStrings.xml")


def case_threaded_comment(tmp_path):
    path = make_book(tmp_path / "threaded.xlsx")
    add_part(path, part="xl/threadedComments/threadedComment1.xml",
             data='<ThreadedComments xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments">'
                  '<threadedComment ref="A1" dT="2024-03-31T09:00:00.00" personId="{00000000-0000-0000-0000-000000000001}" '
                  'id="{00000000-0000-0000-0000-000000000002}"><text>スレッド</text></threadedComment></ThreadedComments>',
             content_type="application/vnd.ms-excel.threadedcomments+xml",
             source=SHEET1,
             rel_type="http://schemas.microsoft.com/office/2017/10/relationships/threadedComment")
    return path, lambda out: ("スレッド" in read(out, "xl/threadedComments/threadedComment1.xml")
                              and "threadedComment" in read(out, "xl/worksheets/_rels/sheet1.xml.rels"))


def case_custom_xml(tmp_path):
    path = make_book(tmp_path / "customxml.xlsx")
    add_part(path, part="customXml/item1.xml", data="<root><文書番号>R6-001</文書番号></root>",
             content_type="application/xml", source="xl/workbook.xml",
             rel_type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/customXml")
    return path, lambda out: ("customXml/item1.xml" in members(out)
                              and "customXml/item1.xml" in read(out, "xl/_rels/workbook.xml.rels"))


def case_slicer(tmp_path):
    path = make_book(tmp_path / "slicer.xlsx")
    add_part(path, part="xl/slicers/slicer1.xml",
             data='<slicers xmlns="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
                  '<slicer name="役割" cache="Slicer_役割" caption="役割" rowHeight="241300"/></slicers>',
             content_type="application/vnd.ms-excel.slicer+xml", source=SHEET1,
             rel_type="http://schemas.microsoft.com/office/2007/relationships/slicer")
    return path, lambda out: ("xl/slicers/slicer1.xml" in members(out)
                              and "slicer" in read(out, "[Content_Types].xml"))


# ------------------------------------------------- LibreOffice-made form controls

def libreoffice_checkbox(tmp_path: Path) -> Path:
    """A checkbox (2010 form control) as LibreOffice stores it, on 指標; 集計 beside it: a book of
    the two sheets opened in the office this process keeps, given the check box and saved there
    (realbooks.lo_form_control). A soffice of its own, with a fresh profile, was a LibreOffice
    start (~1.3 CPU-s) for it."""
    from realbooks import lo_form_control

    require_soffice()
    plain = tmp_path / "plain.xlsx"
    wb = xlsxwriter.Workbook(str(plain))
    wb.add_worksheet(STAFF).write_number(0, 0, 1)
    wb.add_worksheet(OWNED).write_number(0, 0, 2)
    wb.close()
    return lo_form_control(plain, tmp_path / "checkbox.xlsx", STAFF, "確認済み")


def case_libreoffice_checkbox(tmp_path):
    path = libreoffice_checkbox(tmp_path)

    def kept(out):
        rels = read(out, "xl/worksheets/_rels/sheet1.xml.rels")
        return ("<controls>" in read(out, SHEET1) and "ctrlProp" in rels
                and [m for m in members(out) if m.startswith("xl/ctrlProps/")])
    return path, kept


CASES = {
    "x14_conditional_format": case_x14_conditional_format,
    "x14_data_validation": case_x14_data_validation,
    "sparkline": case_sparkline,
    "image": case_image,
    "shape": case_shape,
    "chart": case_chart,
    "comment_format": case_comment_format,
    "form_control": case_form_control,
    "background": case_background,
    "header_footer_image": case_header_footer_image,
    "rich_text": case_rich_text,
    "phonetic": case_phonetic,
    "threaded_comment": case_threaded_comment,
    "custom_xml": case_custom_xml,
    "slicer": case_slicer,
    "libreoffice_checkbox": case_libreoffice_checkbox,
}
PRINTED = {"image", "chart", "form_control", "comment_format", "x14_conditional_format"}


# ----------------------------------------------------------------- the package

REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def rels_of(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def targets(path: Path, part: str) -> list[str]:
    """Parts ``part`` refers to through its relationships (external ones left out)."""
    data = read(path, rels_of(part))
    if not data:
        return []
    out = []
    for rel in ET.fromstring(data).iter(REL_NS + "Relationship"):
        if rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target", "")
        out.append(target.lstrip("/") if target.startswith("/")
                   else posixpath.normpath(posixpath.join(posixpath.dirname(part), target)))
    return out


def reach(path: Path, start: str, avoid: str = "") -> set[str]:
    """Parts reachable from ``start`` ("" is the package root) not passing through ``avoid``."""
    names = set(members(path))
    seen, todo = set(), [start]
    while todo:
        cur = todo.pop()
        if cur in seen or cur == avoid:
            continue
        seen.add(cur)
        todo.extend(t for t in targets(path, cur) if t in names)
    return seen


def only_reached_from(path: Path, part: str) -> set[str]:
    """``part``, the parts only it reaches, and the relationships parts of all of them."""
    mine = reach(path, part) - reach(path, "", avoid=part)
    return mine | {part} | {rels_of(p) for p in mine | {part}}


def sheet_parts(path: Path) -> dict[str, str]:
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rid = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    rels = {rel.get("Id"): posixpath.normpath(posixpath.join("xl", rel.get("Target")))
            for rel in ET.fromstring(read(path, "xl/_rels/workbook.xml.rels")).iter(REL_NS + "Relationship")}
    return {s.get("name"): rels[s.get(rid)]
            for s in ET.fromstring(read(path, "xl/workbook.xml")).iter(main + "sheet")}


def content_types(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(part → content type of its Override, extension → content type of its Default)."""
    ns = "{http://schemas.openxmlformats.org/package/2006/content-types}"
    root = ET.fromstring(read(path, "[Content_Types].xml"))
    return ({el.get("PartName").lstrip("/"): el.get("ContentType") for el in root.iter(ns + "Override")},
            {el.get("Extension").lower(): el.get("ContentType") for el in root.iter(ns + "Default")})


def apply_to(path: Path, plan: WritePlan, out: Path) -> Path:
    """The writer alone: open the package, apply the plan part by part, save."""
    with Package(path) as pkg:
        workbook = WorkbookXml(pkg)
        apply_plan(pkg, workbook, StyleReader(pkg, workbook), plan)
        pkg.save(out)
    return out


def fill_of(path: Path, sheet: str, ref: str):
    with Package(path) as pkg:
        return StyleReader(pkg, WorkbookXml(pkg)).fill_of(sheet, ref)


def owned_sheet() -> SheetPlan:
    """A small 集計: header and body looks, a merged note, both conditional formats, a chart."""
    rows = [
        [("区分", "header"), ("◎", "header"), ("○", "header"), ("△", "header")],
        [("全体", "body"), (3, "body"), (2, "body"), (1, "body")],
        [("注記：見本の集計", "body"), (None, "body"), (None, "body"), (None, "body")],
    ]
    return SheetPlan(
        OWNED, rows, widths={1: 20.0, 2: 10.0, 3: 10.0, 4: 10.0}, merges=[(3, 1, 3, 4)],
        conditional=[CondFormat("equal", (1, 2, 1, 4), "C6EFCE", "◎"),
                     CondFormat("databar", (2, 2, 2, 4), "638EC6")],
        chart=Chart("評価の内訳", categories=(1, 2, 1, 4), values=(2, 2, 2, 4), anchor=(5, 1)))


def full_plan() -> WritePlan:
    return WritePlan([owned_sheet()], [CellEdit(STAFF, *FAR, FAR_VALUE)],
                     [FillEdit(STAFF, 1, 1, c.MARK_FILL)])


# ------------------------------------------------------- staff sheet comparison


def cell_element(text: str, ref: str) -> str:
    """The ``<c>`` element of ``ref`` exactly as it is written ("" when there is none)."""
    m = re.search(r'<(?:\w+:)?c\b(?=[^>]*\sr="' + re.escape(ref) + r'")[^>]*?(?:/>|>.*?</(?:\w+:)?c>)',
                  text, re.S)
    return m.group(0) if m else ""


def without_cells(text: str, refs) -> str:
    """A worksheet part with the ``<c>`` elements of ``refs``, the rows they leave empty
    and the ``<dimension>`` taken out: what must be equal before and after a cell edit."""
    text = re.sub(r"<(?:\w+:)?dimension\b[^>]*/>", "", text, count=1)
    rows = set()
    for ref in refs:
        element = cell_element(text, ref)
        if element:
            text = text.replace(element, "", 1)
        rows.add(re.sub(r"[A-Z]", "", ref))
    for row in rows:
        text = re.sub(r'<(?:\w+:)?row\b(?=[^>]*\sr="' + row + r'")[^>]*>\s*</(?:\w+:)?row>', "", text, count=1)
    return text


def test_without_cells_removes_only_the_edited_cells():
    before = ('<worksheet><dimension ref="A1:C2"/><sheetData>'
              '<row r="1" spans="1:3"><c r="A1"><v>1</v></c><c r="B1" s="2"/><c r="C1" t="s"><v>0</v></c></row>'
              '<row r="2" spans="1:3"><c r="A2"><v>2</v></c></row>'
              '</sheetData><conditionalFormatting sqref="A1"/></worksheet>')
    after = ('<worksheet><dimension ref="A1:J40"/><sheetData>'
             '<row r="1" spans="1:3"><c r="A1" s="7"><v>1</v></c><c r="B1" s="2"/><c r="C1" t="s"><v>0</v></c></row>'
             '<row r="2" spans="1:3"><c r="A2"><v>2</v></c></row>'
             '<row r="40"><c r="J40" t="inlineStr"><is><t>追加</t></is></c></row>'
             '</sheetData><conditionalFormatting sqref="A1"/></worksheet>')
    refs = {"A1", "J40"}
    assert without_cells(before, refs) == without_cells(after, refs)
    assert "<c r=\"B1\" s=\"2\"/>" in without_cells(after, refs)
    assert 'sqref="A1"' in without_cells(after, refs)
    assert cell_element(after, "A1") == '<c r="A1" s="7"><v>1</v></c>'
    assert cell_element(after, "B1") == '<c r="B1" s="2"/>'
    assert cell_element(after, "A4") == ""
    # Anything else that changed is still seen: another cell, a row's attributes, a row
    # the edit did not need, an element outside the cells.
    for changed in (after.replace('<c r="B1" s="2"/>', '<c r="B1" s="3"/>'),
                    after.replace('<row r="2" spans="1:3">', '<row r="2" spans="1:9">'),
                    after.replace("</sheetData>", '<row r="41"/></sheetData>'),
                    after.replace('<conditionalFormatting sqref="A1"/>', "")):
        assert without_cells(before, refs) != without_cells(changed, refs)
    # A row of the edit that had other cells stays.
    assert '<row r="1" spans="1:3">' in without_cells(after, refs)


# --------------------------------------------------------------------- the proofs


def pdf_text(book: Path, tmp_path: Path) -> str:
    from realbooks import lo_convert

    require_soffice()
    pdf = lo_convert(book, tmp_path / "pdf" / (book.stem + ".pdf"))
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext") is None:
        return ""
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True, timeout=60).stdout


@pytest.mark.parametrize("kind", sorted(CASES))
def test_writer_keeps_the_feature(tmp_path, kind):
    path, kept = CASES[kind](tmp_path)
    assert kept(path), "the proof must see the feature in the original file"
    sheets = sheet_parts(path)
    staff_part, owned_part = sheets[STAFF], sheets[OWNED]
    recorded = fill_of(path, STAFF, "A1")
    assert recorded != c.MARK_FILL

    out = apply_to(path, full_plan(), tmp_path / ("out_" + path.name))

    # (a) the feature is still there
    assert kept(out), f"the writer lost the {kind}"

    # (b) every part the plan has no business with is byte-identical
    may_change = (only_reached_from(path, owned_part) | only_reached_from(out, owned_part)
                  | {"xl/styles.xml", "[Content_Types].xml", "xl/workbook.xml", staff_part})
    before, after = members(path), members(out)
    gone = [m for m in before if m not in after and m not in may_change]
    assert not gone, f"parts removed: {gone}"
    added = [m for m in after if m not in before and m not in may_change]
    assert not added, f"parts added outside 集計: {added}"
    differ = [m for m in before if m in after and m not in may_change
              and read_bytes(path, m) != read_bytes(out, m)]
    assert not differ, f"parts changed: {differ}"
    assert [m for m in after if m in before] == [m for m in before if m in after], "part order changed"
    assert sheet_parts(out) == sheets
    overrides, defaults = content_types(path)
    new_overrides, new_defaults = content_types(out)
    assert new_defaults == defaults
    assert {p: t for p, t in overrides.items() if p not in may_change} == {
        p: t for p, t in new_overrides.items() if p not in may_change}
    untyped = [m for m in after if m != "[Content_Types].xml" and m not in new_overrides
               and m.rsplit(".", 1)[-1].lower() not in new_defaults]
    assert not untyped, f"parts without a content type: {untyped}"

    # (c) the staff sheet differs in the edited cells only
    refs = {"A1", "J40"}
    original_staff, written_staff = read(path, staff_part), read(out, staff_part)
    assert without_cells(written_staff, refs) == without_cells(original_staff, refs)
    assert FAR_VALUE in cell_element(written_staff, "J40")
    assert fill_of(out, STAFF, "A1") == c.MARK_FILL

    # (d) the result opens in openpyxl, with what the plan wrote
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(out)
        assert wb.sheetnames == openpyxl.load_workbook(path).sheetnames
    assert wb[STAFF].cell(*FAR).value == FAR_VALUE
    owned = wb[OWNED]
    assert [[cell.value for cell in row] for row in owned.iter_rows(min_row=1, max_row=3, max_col=4)] == [
        ["区分", "◎", "○", "△"], ["全体", 3, 2, 1], ["注記：見本の集計", None, None, None]]
    assert [str(r) for r in owned.merged_cells.ranges] == ["A3:D3"]
    assert sorted(str(cf.sqref) for cf in owned.conditional_formatting) == ["B1:D1", "B2:D2"]
    assert owned["A1"].font.b and owned["A1"].fill.fgColor.rgb[-6:] == c.HEADER_FILL
    assert len(owned._charts) == 1

    if kind in PRINTED:
        text = pdf_text(out, tmp_path)
        if text:
            assert FAR_VALUE in text and "注記：見本の集計" in text

    # Lifting the mark gives A1 its bytes back (the owned sheet is replaced once more).
    lifted = apply_to(out, WritePlan([owned_sheet()], [], [FillEdit(STAFF, 1, 1, recorded, only_if=c.MARK_FILL)]),
                      tmp_path / ("lifted_" + path.name))
    assert cell_element(read(lifted, staff_part), "A1") == cell_element(original_staff, "A1")
    assert without_cells(read(lifted, staff_part), {"J40"}) == without_cells(original_staff, {"J40"})
    assert kept(lifted)
    may_change = (only_reached_from(out, owned_part) | only_reached_from(lifted, owned_part)
                  | {"xl/styles.xml", "[Content_Types].xml", "xl/workbook.xml", staff_part})
    assert [m for m in members(lifted) if m not in may_change] == [m for m in members(out) if m not in may_change]
    assert [m for m in members(lifted) if m not in may_change
            and read_bytes(lifted, m) != read_bytes(out, m)] == []


def test_mark_is_not_lifted_from_a_cell_staff_coloured_since(tmp_path):
    path = make_book(tmp_path / "plain.xlsx")
    out = apply_to(path, WritePlan([], [], [FillEdit(STAFF, 1, 1, "FFFF00")]), tmp_path / "yellow.xlsx")
    again = apply_to(out, WritePlan([], [], [FillEdit(STAFF, 1, 1, None, only_if=c.MARK_FILL)]),
                     tmp_path / "again.xlsx")
    assert fill_of(again, STAFF, "A1") == "FFFF00"
    assert read_bytes(again, SHEET1) == read_bytes(out, SHEET1)


# ----------------------------------------------------------------- refused files

STRICT = {
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main": "http://purl.oclc.org/ooxml/spreadsheetml/main",
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships":
        "http://purl.oclc.org/ooxml/officeDocument/relationships",
    "http://schemas.openxmlformats.org/drawingml/2006/main": "http://purl.oclc.org/ooxml/drawingml/main",
}

LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                    for i in range(1, 10))
          + "]>")


def bad_encrypted(tmp_path):
    path = tmp_path / "encrypted.xlsx"
    path.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 504)
    return path, "暗号化"


def bad_not_zip(tmp_path):
    path = tmp_path / "text.xlsx"
    path.write_text("これはブックではありません", encoding="utf-8")
    return path, "ブックとして開けません"


def bad_no_content_types(tmp_path):
    path = make_book(tmp_path / "no_types.xlsx")
    rewrite(path, {"[Content_Types].xml": None})
    return path, "Office Open XML のブックではありません"


def bad_billion_laughs(tmp_path):
    path = make_book(tmp_path / "laughs.xlsx")
    text = read(path, "xl/workbook.xml")
    head, rest = text.split("?>", 1)
    text = head + "?>" + LAUGHS + rest.replace("</workbook>", "<definedNames><definedName name=\"笑\">"
                                                              "&lol9;</definedName></definedNames></workbook>")
    rewrite(path, {"xl/workbook.xml": text})
    return path, "DTD"


def bad_strict(tmp_path):
    path = make_book(tmp_path / "strict.xlsx")
    changes = {}
    for name in members(path):
        if name.endswith((".xml", ".rels")):
            text = read(path, name)
            for old, new in STRICT.items():
                text = text.replace(old, new)
            changes[name] = text
    rewrite(path, changes)
    assert "purl.oclc.org/ooxml/spreadsheetml/main" in read(path, "xl/workbook.xml")
    return path, "Strict Open XML"


BAD = {
    "encrypted": bad_encrypted,
    "not_zip": bad_not_zip,
    "no_content_types": bad_no_content_types,
    "billion_laughs": bad_billion_laughs,
    "strict": bad_strict,
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_unreadable_book_is_refused_with_a_japanese_message(tmp_path, kind, capsys):
    from renkei_xl.cli import main

    path, expected = BAD[kind](tmp_path)
    original = path.read_bytes()
    with pytest.raises(UserError) as info:
        apply_to(path, full_plan(), tmp_path / "never.xlsx")
    assert isinstance(info.value, PackageError)
    message = str(info.value)
    assert expected in message and re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", message), message
    assert info.value.__suppress_context__ or info.value.__context__ is None   # no chained traceback
    assert not (tmp_path / "never.xlsx").exists()

    # Through the command line: one sentence, no traceback (--debug would show one for
    # anything but a UserError), the file as it was, no backup, no temporary file.
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["--debug", "validate", str(path)]) == 2
    err = capsys.readouterr().err
    # the master's gate says what a file that is no ZIP holds (workbook.session.not_a_package)
    expected = {"not_zip": "はマスターブックではありません（中身は文字のファイル（CSV など）です）"}.get(kind, expected)
    assert err.startswith("エラー: ") and expected in err and "Traceback" not in err, err
    assert path.read_bytes() == original
    after = sorted(p.name for p in tmp_path.iterdir() if p != writer_lock_file(path))
    assert after == before


def _sheet_part(path: Path, sheet: str) -> bytes:
    with Package(path) as pkg:
        part = next(s.part for s in WorkbookXml(pkg).sheets if s.name == sheet)
        return pkg.read(part)


def test_a_sheet_protected_with_a_password_is_named_and_its_protection_kept(tmp_path):
    """package.protection finds a password in both forms Excel writes (the legacy hash and
    Excel 2013's hashValue) and not on a sheet protected without one; the file face marks
    a bad cell on such a sheet and leaves its protection, password and all, as it was."""
    from renkei_xl.cli import main as cli_main
    from renkei_xl.package.protection import password_sheets

    master = tmp_path / "m.xlsx"
    assert cli_main(["init", str(master), "--sample", "fy2023"]) == 0
    wb = openpyxl.load_workbook(master)
    wb["小樽市"].protection.sheet = True
    wb["小樽市"].protection.password = "staff-only"
    ws = wb["千歳市"]
    ws.protection.sheet = True
    ws.protection.algorithmName, ws.protection.spinCount = "SHA-512", 100000
    ws.protection.hashValue, ws.protection.saltValue = "bm90IGEgcmVhbCBoYXNo", "c2FsdA=="
    wb["札幌市"].protection.sheet = True                       # no password: the tool lifts it
    row = next(r for r in range(2, 40) if wb["小樽市"].cell(r, 1).value and wb["小樽市"].cell(r, 5).value)
    wb["小樽市"].cell(row, 5).value = "約10件"
    wb.save(master)
    with Package(master) as pkg:
        assert password_sheets(pkg, WorkbookXml(pkg)) == {"小樽市", "千歳市"}
    before = re.search(rb"<sheetProtection\b[^>]*>", _sheet_part(master, "小樽市")).group(0)
    assert cli_main(["validate", str(master)]) == 1
    after = _sheet_part(master, "小樽市")
    assert re.search(rb"<sheetProtection\b[^>]*>", after).group(0) == before
    assert openpyxl.load_workbook(master)["小樽市"].cell(row, 5).fill.fgColor.rgb.endswith(c.MARK_FILL)


# ------------------------------------------------- a slicer on the rebuilt sheet

X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
SLICER_FRAME = (
    '<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
    '<mc:Choice xmlns:sle15="http://schemas.microsoft.com/office/drawing/2012/slicer" Requires="sle15">'
    '<xdr:twoCellAnchor editAs="oneCell"><xdr:from><xdr:col>8</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>1</xdr:row>'
    '<xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:to><xdr:col>11</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>12</xdr:row>'
    '<xdr:rowOff>0</xdr:rowOff></xdr:to><xdr:graphicFrame macro=""><xdr:nvGraphicFramePr>'
    '<xdr:cNvPr id="90" name="区分"/><xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr>'
    '<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm><a:graphic>'
    '<a:graphicData uri="http://schemas.microsoft.com/office/drawing/2010/slicer">'
    '<sle:slicer xmlns:sle="http://schemas.microsoft.com/office/drawing/2010/slicer" name="区分"/>'
    '</a:graphicData></a:graphic></xdr:graphicFrame><xdr:clientData/></xdr:twoCellAnchor></mc:Choice>'
    '<mc:Fallback/></mc:AlternateContent>')


def slicer_on_owned_sheet(tmp_path: Path) -> Path:
    """A table on 指標 (XlsxWriter) and a slicer of it on 集計, beside a picture, stored as
    Excel stores one: the cache the workbook's, the slicer part and the sheet's slicerList
    the sheet's, the frame in the sheet's drawing."""
    png = make_png(tmp_path / "logo.png")

    def build(wb, staff, owned):
        staff.add_table("A1:C5", {"name": "職員表", "header_row": False})
        owned.insert_image("H20", str(png))

    path = make_book(tmp_path / "slicer_owned.xlsx", build)
    add_part(path, part="xl/slicerCaches/slicerCache1.xml",
             data=f'<slicerCacheDefinition xmlns="{X14}" name="スライサー_区分" sourceName="Column1">'
                  '<extLst><ext uri="{2F2917AC-EB37-4324-AD4E-5DD8C200BD13}" '
                  'xmlns:x15="http://schemas.microsoft.com/office/spreadsheetml/2010/11/main">'
                  '<x15:tableSlicerCache tableId="1" column="1"/></ext></extLst></slicerCacheDefinition>',
             content_type="application/vnd.ms-excel.slicerCache+xml", source="xl/workbook.xml",
             rel_type="http://schemas.microsoft.com/office/2007/relationships/slicerCache")
    book = read(path, "xl/workbook.xml").replace(
        "</workbook>", '<extLst><ext uri="{46BE6895-7355-4a93-B00E-2C351335B9C9}" '
        'xmlns:x15="http://schemas.microsoft.com/office/spreadsheetml/2010/11/main">'
        f'<x15:slicerCaches xmlns:x14="{X14}"><x14:slicerCache r:id="rIdAdded"/></x15:slicerCaches>'
        '</ext></extLst></workbook>')
    rewrite(path, {"xl/workbook.xml": book})
    add_part(path, part="xl/slicers/slicer1.xml",
             data=f'<slicers xmlns="{X14}"><slicer name="区分" cache="スライサー_区分" caption="区分" '
                  'rowHeight="241300"/></slicers>',
             content_type="application/vnd.ms-excel.slicer+xml", source="xl/worksheets/sheet2.xml",
             rel_type="http://schemas.microsoft.com/office/2007/relationships/slicer")
    sheet = read(path, "xl/worksheets/sheet2.xml").replace(
        "</worksheet>", '<extLst><ext uri="{3A4CF648-6AED-40f4-86FF-DC5316D8AED3}" '
        f'xmlns:x14="{X14}"><x14:slicerList><x14:slicer r:id="rIdAdded"/></x14:slicerList></ext></extLst></worksheet>')
    drawing = read(path, "xl/drawings/drawing1.xml").replace("</xdr:wsDr>", SLICER_FRAME + "</xdr:wsDr>")
    return rewrite(path, {"xl/worksheets/sheet2.xml": sheet, "xl/drawings/drawing1.xml": drawing})


def test_a_slicer_on_a_rebuilt_sheet_keeps_its_part_and_its_list(tmp_path):
    """The buttons' Clear All leaves a slicer on 集計; the file face kept its frame in the
    drawing but dropped the sheet's slicerList and the slicer part, leaving a drawing that
    names a slicer the book no longer has (package.slicers)."""
    from realbooks import lo_inspect, package_problems

    path = slicer_on_owned_sheet(tmp_path)
    out = apply_to(path, full_plan(), tmp_path / "out.xlsx")
    assert read_bytes(out, "xl/slicers/slicer1.xml") == read_bytes(path, "xl/slicers/slicer1.xml")
    assert read_bytes(out, "xl/slicerCaches/slicerCache1.xml") == read_bytes(path, "xl/slicerCaches/slicerCache1.xml")
    sheet = read(out, "xl/worksheets/sheet2.xml")
    listed = re.findall(r'<x14:slicerList\b.*?<x14:slicer r:id="([^"]+)"/>', sheet, re.S)
    assert listed, sheet
    rels = {rel.get("Id"): rel.get("Target") for rel in ET.fromstring(read(out, rels_of("xl/worksheets/sheet2.xml"))).iter(REL_NS + "Relationship")}
    assert rels[listed[0]].endswith("slicers/slicer1.xml")
    assert sheet.index("<drawing ") < sheet.index("<extLst>") and sheet.endswith("</extLst></worksheet>")
    drawing = read(out, "xl/drawings/drawing1.xml")
    assert SLICER_FRAME in drawing and "<xdr:pic>" in drawing
    assert content_types(out)[0].get("xl/slicers/slicer1.xml") == "application/vnd.ms-excel.slicer+xml"
    assert package_problems(out) == []
    openpyxl.load_workbook(out).close()
    (book,) = lo_inspect([out])
    assert book["loaded"], book

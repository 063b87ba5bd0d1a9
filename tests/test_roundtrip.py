"""What the staff built survives recalc, in place: the master itself is written, and the parts
the tool does not own keep their bytes.

Checked in the file's parts (zip members and XML), not through openpyxl's own view.
"""

import hashlib
import re
import zipfile
from pathlib import Path

import pytest
from defusedxml import ElementTree
from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from renkei_xl.core import contract as c
from renkei_xl.cli.workbook import init_master
from renkei_xl.vba.inject import sheet_code_names
from renkei_xl.vba.sources import master_project
from renkei_xl.workbook.session import recalc_file

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
      "p": "http://schemas.openxmlformats.org/package/2006/relationships"}


def sheet_parts(path: Path) -> dict:
    """Japanese sheet name → its worksheet part, from workbook.xml and its rels."""
    with zipfile.ZipFile(path) as z:
        wb = ElementTree.fromstring(z.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels.findall("p:Relationship", NS)}
    out = {}
    for s in wb.find("m:sheets", NS):
        t = targets[s.get(f"{{{NS['r']}}}id")].lstrip("/")
        out[s.get("name")] = t if t.startswith("xl/") else f"xl/{t}"
    return out


def part(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(name).decode("utf-8")


def rels_of(path: Path, sheet_part: str) -> list:
    folder, file = sheet_part.rsplit("/", 1)
    with zipfile.ZipFile(path) as z:
        name = f"{folder}/_rels/{file}.rels"
        if name not in z.namelist():
            return []
        rels = ElementTree.fromstring(z.read(name))
    return [(r.get("Type").rsplit("/", 1)[-1], r.get("Target")) for r in rels.findall("p:Relationship", NS)]


def resolve(sheet_part: str, target: str) -> str:
    import posixpath
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(sheet_part), target))


def shared_strings(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read("xl/sharedStrings.xml").decode("utf-8") if "xl/sharedStrings.xml" in z.namelist() else ""


@pytest.fixture
def staff_master(tmp_path):
    """An .xlsm master that the staff have worked in."""
    path = tmp_path / "連携事業" / "さっぽろ圏_2023年度_マスター.xlsm"
    init_master(path, sample="fy2023")
    wb = load_workbook(path, keep_vba=True)
    ws = wb[c.INDICATORS]
    extra_col = ws.max_column + 1
    ws.cell(1, extra_col, "担当者メモ")
    ws.cell(2, extra_col, "4月に確認済み")
    ws.conditional_formatting.add("H2:H81", CellIsRule(operator="equal", formula=['"常時"'],
                                                        fill=PatternFill("solid", bgColor="BDD7EE")))
    dv = DataValidation(type="list", formula1='"済,未"', allow_blank=True)
    dv.add(f"{ws.cell(2, extra_col).column_letter}2:{ws.cell(2, extra_col).column_letter}81")
    ws.add_data_validation(dv)
    memo = wb.create_sheet("メモ")
    memo["A1"] = "会議日程"
    memo["A1"].comment = Comment("次回は5月", "事務局")
    wb.save(path)
    return path


def test_staff_work_survives_recalc(staff_master):
    path = staff_master
    vba_before = hashlib.sha256(zipfile.ZipFile(path).read("xl/vbaProject.bin")).hexdigest()
    result, written = recalc_file(path)
    assert written.path == path
    assert result.summary.fraction_text == "52／71"
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        vba_after = z.read("xl/vbaProject.bin")
    # The tool's own project gains the document module of 次の一歩, the sheet recalc adds;
    # nothing else of it changes (renkei_xl.vba.sources.own_project_with).
    assert hashlib.sha256(vba_after).hexdigest() != vba_before
    codes = sheet_code_names(path)
    assert codes[-1] == "shNextSteps"
    assert vba_after == master_project(codes)
    assert hashlib.sha256(master_project(codes[:-1])).hexdigest() == vba_before
    parts = sheet_parts(path)
    assert "メモ" in parts
    # the form buttons of メニュー, still bound to their macros
    vml = [t for kind, t in rels_of(path, parts[c.MENU]) if kind == "vmlDrawing"]
    assert vml
    vml_text = part(path, resolve(parts[c.MENU], vml[0]))
    macros = re.findall(r"<x:FmlaMacro>\[0\]!([\w.]+)</x:FmlaMacro>", vml_text)
    assert sorted(macros) == sorted(m for _, m, _ in c.BUTTONS)
    for caption, _, _ in c.BUTTONS:
        assert caption in vml_text
    # the staff's conditional format, validation and column on 指標
    ind_xml = part(path, parts[c.INDICATORS])
    assert '<formula>"常時"</formula>' in ind_xml
    assert '<formula1>"済,未"</formula1>' in ind_xml
    strings = shared_strings(path) + ind_xml  # shared or inline strings
    assert "担当者メモ" in strings and "4月に確認済み" in strings
    # the comment on the staff's own sheet
    comments = [t for kind, t in rels_of(path, parts["メモ"]) if kind == "comments"]
    assert comments and "次回は5月" in part(path, resolve(parts["メモ"], comments[0]))
    # code names stay, so the VBA document modules still match their sheets
    assert 'codeName="' in part(path, parts[c.LIST])
    assert any(n.startswith("xl/charts/") for n in names)


def _add_x14_validation(path: Path, sheet: str) -> None:
    """An Excel-2010 list validation whose source is another sheet (openpyxl drops it)."""
    target = sheet_parts(path)[sheet]
    ext = ('<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
           'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
           '<x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
           '<x14:dataValidation type="list" allowBlank="1"><x14:formula1><xm:f>設定!$A$1:$A$5</xm:f>'
           '</x14:formula1><xm:sqref>B2:B5</xm:sqref></x14:dataValidation></x14:dataValidations>'
           '</ext></extLst></worksheet>')
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == target:
                data = data.decode("utf-8").replace("</worksheet>", ext).encode("utf-8")
            dst.writestr(info, data)
    tmp.replace(path)


def test_parts_openpyxl_would_drop_are_kept_in_place(staff_master):
    """An x14 validation (openpyxl drops it) no longer sends results to a side file: the
    master is written, and the staff sheet holding it keeps every byte."""
    path = staff_master
    _add_x14_validation(path, "メモ")
    memo = sheet_parts(path)["メモ"]
    before = part(path, memo)
    result, written = recalc_file(path)
    assert written.path == path
    assert sorted(p.name for p in path.parent.iterdir() if p.is_file()) == [path.name] or all(
        "_結果_" not in p.name for p in path.parent.iterdir())
    assert part(path, memo) == before
    assert "設定!$A$1:$A$5" in part(path, memo)
    assert load_workbook(path, keep_vba=True)[c.LIST]["H4"].value == "－"
    result, written = recalc_file(path)
    assert part(path, memo) == before


@pytest.mark.parametrize("written", ["a\rb", "a\r\nb", "_x0041_", "x_x000D_y", "_x005F_", "__x0041__", "bell\x07",
                                     "line\nfeed"])
def test_a_text_the_tool_writes_reads_back_as_written(tmp_path, written):
    """A cell's text is ST_Xstring: a reader decodes 「_x0041_」 to 「A」 and XML's end-of-line
    rule turns a carriage return into a line feed. Written as it was, a 実施状況 holding
    either read back otherwise, and collect then took a returned file's untouched cell for
    an edit (「マスターの値のまま」). Written as Excel writes them (_x005F_, _x000D_), each
    reads back as written, through the reader both faces share."""
    from renkei_xl.core.plan_types import CellEdit, WritePlan
    from renkei_xl.package.zipped import Package
    from renkei_xl.workbook.grids import Grids
    from renkei_xl.workbook.session import write_planned

    master = init_master(tmp_path / "m.xlsx", sample="fy2023")
    write_planned(master, lambda fs: (WritePlan(cells=[CellEdit("小樽市", 60, 12, written)]), None))
    with Package(master) as pkg:
        grids = Grids(pkg, ["小樽市"])
        rows = [list(r) for r in grids.rows("小樽市")]
        grids.close()
    assert rows[59][11] == written

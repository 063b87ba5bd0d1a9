"""A table (Excel's ListObject) staff made on a sheet the tool rebuilds is named as it goes.

Excel stores a table as a part of its own (xl/tables/tableN.xml), a ``table`` relationship of
the sheet, its content type and <tableParts> in the sheet. The file face writes a rebuilt sheet
anew and removes the parts only it used, so the table went without a word; the buttons' Clear
All of every cell deletes it in Excel too (excel.book.LiveBook.clear_sheet). Each face now names
it in 検証結果 (and the command line) by the name Excel shows, where it was and what to do; what
referred to it (a staff formula, a defined name) is #REF!, as Excel leaves it, not a formula
naming a table the book lacks, which Excel repairs away.

The master is the FY2023 sample after 評価を再計算, a sheet メモ of the staff's own with formulas
on the table and a defined name of a column of it, and the table 「予算表」 on 集計!B30:C33
stored as Excel stores one (the part as Excel wrote tests/data/excel_made/table04.xlsx's).
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.table import Table, TableFormula

from realbooks import lo_inspect, package_problems
from renkei_xl.cli.workbook import init_master
from renkei_xl.core import contract as c
from renkei_xl.package.tables import sheet_tables, without_table_refs
from renkei_xl.package.workbook import WorkbookXml
from renkei_xl.package.zipped import Package
from renkei_xl.workbook.session import recalc_file
from test_tool_sheet_drawings import _run

TABLE_NAME, TABLE_RANGE = "予算表", "B30:C33"
TABLE_PART = "xl/tables/table9.xml"   # openpyxl writes メモ表 as table1.xml
TABLE = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         '<table xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" id="9" name="テーブル9" '
         f'displayName="{TABLE_NAME}" ref="{TABLE_RANGE}" totalsRowShown="0"><autoFilter ref="{TABLE_RANGE}"/>'
         '<tableColumns count="2"><tableColumn id="1" name="項目"/><tableColumn id="2" name="金額"/></tableColumns>'
         '<tableStyleInfo name="TableStyleMedium9" showFirstColumn="0" showLastColumn="0" showRowStripes="1" '
         'showColumnStripes="0"/></table>')
STAFF_FORMULAS = {"A1": "SUM(予算表[金額])", "A2": '予算表[[#Headers],[項目]]&"計"', "A3": 'LEN("予算表[金額]")',
                  "A4": "集計!B3"}    # reads what 評価を再計算 writes: the write asks Excel to calculate (core.calc_on_load)
CALCULATED = "SUM(予算表[金額])*2"     # メモ表's calculated column, on the table on 集計
SAID = f"{c.SUMMARY}の {TABLE_RANGE} に作ったテーブル「{TABLE_NAME}」は、{c.RECALC}で{c.SUMMARY}を作り直したため消えました"


def with_table(clean: Path, out: Path, sheet_name: str = c.SUMMARY, slicer: bool = False) -> Path:
    """``clean`` (a master as init writes it) with the staff's sheet メモ and name 予算合計
    referring to the table, recalculated, then the table put on ``sheet_name`` as Excel
    stores it (``slicer``: with a slicer of its 項目 column beside it, as Excel stores one:
    the workbook's cache, its list entry and name, the sheet's slicer part and list, the
    frame in the sheet's drawing)."""
    shutil.copyfile(clean, out)
    wb = openpyxl.load_workbook(out, keep_vba=True)
    memo = wb.create_sheet("メモ")
    for ref, formula in STAFF_FORMULAS.items():
        memo[ref] = "=" + formula
    wb.defined_names["予算合計"] = DefinedName("予算合計", attr_text="予算表[金額]")
    memo["C1"], memo["C2"] = "差", "=" + CALCULATED
    table = Table(displayName="メモ表", ref="C1:C2")
    table._initialise_columns()
    table.tableColumns[0].name = "差"
    table.tableColumns[0].calculatedColumnFormula = TableFormula(attr_text=CALCULATED)
    memo.add_table(table)
    wb.save(out)
    recalc_file(out)
    part = WorkbookXml(Package(out)).sheet(sheet_name).part
    with zipfile.ZipFile(out) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    cells = ('<row r="30"><c r="B30" t="inlineStr"><is><t>項目</t></is></c><c r="C30" t="inlineStr"><is><t>金額</t></is></c></row>'
             + "".join(f'<row r="{r}"><c r="B{r}" t="inlineStr"><is><t>費目{r}</t></is></c><c r="C{r}"><v>{r * 100}</v></c></row>'
                       for r in (31, 32, 33)))
    sheet = parts[part].decode()
    assert "</sheetData>" in sheet and "<tableParts" not in sheet and sheet.count('<row r="') < 30
    end = sheet.find("<extLst") if "<extLst" in sheet else sheet.rindex("</worksheet>")   # CT_Worksheet's order
    sheet = sheet.replace("</sheetData>", cells + "</sheetData>")
    end += len(cells)
    sheet = sheet[:end] + '<tableParts count="1"><tablePart r:id="rIdTable1"/></tableParts>' + sheet[end:]
    rels = part.replace("worksheets/", "worksheets/_rels/") + ".rels"
    parts[rels] = parts.get(rels, (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>'))
    parts[rels] = parts[rels].decode().replace("</Relationships>", (
        '<Relationship Id="rIdTable1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/table" '
        'Target="../tables/table9.xml"/></Relationships>')).encode()
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].decode().replace("</Types>", (
        f'<Override PartName="/{TABLE_PART}" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"/></Types>')).encode()
    parts.update({part: sheet.encode(), TABLE_PART: TABLE.encode()})
    # Saved by Excel, which calculated on opening and clears the flag openpyxl's save set.
    parts["xl/workbook.xml"] = re.sub(rb'\sfullCalcOnLoad="1"', b"", parts["xl/workbook.xml"])
    if slicer:
        _add_slicer(parts, part, rels)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return out


X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
X15 = "http://schemas.microsoft.com/office/spreadsheetml/2010/11/main"
SLICER_PARTS = ("xl/slicers/slicer1.xml", "xl/slicerCaches/slicerCache1.xml")


def _add_slicer(parts: dict[str, bytes], sheet_part: str, sheet_rels: str) -> None:
    from test_package_keeps import SLICER_FRAME

    def text(name):
        return parts[name].decode()

    cache, slicer = "xl/slicerCaches/slicerCache1.xml", "xl/slicers/slicer1.xml"
    parts[cache] = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<slicerCacheDefinition xmlns="{X14}" '
                    'name="スライサー_項目" sourceName="項目"><extLst><ext uri="{2F2917AC-EB37-4324-AD4E-5DD8C200BD13}" '
                    f'xmlns:x15="{X15}"><x15:tableSlicerCache tableId="9" column="1"/></ext></extLst>'
                    '</slicerCacheDefinition>').encode()
    parts[slicer] = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<slicers xmlns="{X14}">'
                     '<slicer name="区分" cache="スライサー_項目" caption="項目" rowHeight="241300"/></slicers>').encode()
    parts["[Content_Types].xml"] = text("[Content_Types].xml").replace("</Types>", (
        f'<Override PartName="/{cache}" ContentType="application/vnd.ms-excel.slicerCache+xml"/>'
        f'<Override PartName="/{slicer}" ContentType="application/vnd.ms-excel.slicer+xml"/></Types>')).encode()
    parts["xl/_rels/workbook.xml.rels"] = text("xl/_rels/workbook.xml.rels").replace("</Relationships>", (
        '<Relationship Id="rIdCache1" Type="http://schemas.microsoft.com/office/2007/relationships/slicerCache" '
        'Target="slicerCaches/slicerCache1.xml"/></Relationships>')).encode()
    book = text("xl/workbook.xml")
    assert "<extLst" not in book and "</definedNames>" in book
    parts["xl/workbook.xml"] = book.replace(
        "</definedNames>", '<definedName name="スライサー_項目">#N/A</definedName></definedNames>').replace(
        "</workbook>", '<extLst><ext uri="{46BE6895-7355-4a93-B00E-2C351335B9C9}" '
        f'xmlns:x15="{X15}"><x15:slicerCaches xmlns:x14="{X14}"><x14:slicerCache r:id="rIdCache1"/></x15:slicerCaches>'
        '</ext></extLst></workbook>').encode()
    parts[sheet_rels] = text(sheet_rels).replace("</Relationships>", (
        '<Relationship Id="rIdSlicer1" Type="http://schemas.microsoft.com/office/2007/relationships/slicer" '
        'Target="../slicers/slicer1.xml"/></Relationships>')).encode()
    parts[sheet_part] = text(sheet_part).replace("</worksheet>", (
        f'<extLst><ext uri="{{3A4CF648-6AED-40f4-86FF-DC5316D8AED3}}" xmlns:x14="{X14}"><x14:slicerList>'
        '<x14:slicer r:id="rIdSlicer1"/></x14:slicerList></ext></extLst></worksheet>')).encode()
    drawing_rel = re.search(r'Target="\.\./drawings/(drawing\d+\.xml)"', text(sheet_rels)).group(1)
    drawing = f"xl/drawings/{drawing_rel}"
    parts[drawing] = text(drawing).replace("</xdr:wsDr>", SLICER_FRAME + "</xdr:wsDr>").encode()


@pytest.fixture(scope="module")
def tabled(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tables")
    return with_table(init_master(folder / "clean.xlsm", sample="fy2023"), folder / "tabled.xlsm")


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _formulas(path: Path, sheet: str) -> dict[str, str]:
    wb = openpyxl.load_workbook(path, keep_vba=True)
    try:
        return {ref: wb[sheet][ref].value for ref in STAFF_FORMULAS} | {"予算合計": wb.defined_names["予算合計"].attr_text}
    finally:
        wb.close()


def test_the_table_is_read_as_excel_shows_it(tabled):
    """Both faces that read the saved file (the command line, Excel's buttons on the PC via
    excel.desktop._saved) read the table by its displayName and range; a sheet without one
    has none."""
    from renkei_xl.excel.desktop import _saved

    assert _saved(sheet_tables, tabled, c.SUMMARY) == [(TABLE_NAME, TABLE_RANGE)]
    assert _saved(sheet_tables, tabled, c.LIST) == []
    assert package_problems(tabled) == []


def test_a_table_excel_saved_is_read_with_its_name_and_range():
    from realbooks import excel_made_books

    book = next(b for b in excel_made_books() if b.stem == "table04")
    pkg = Package(book)
    workbook = WorkbookXml(pkg)
    assert sheet_tables(pkg, workbook, workbook.sheetnames[0]) == [("Table1", "C3:F13")]


def test_recalc_names_the_table_it_drops_and_leaves_nothing_excel_repairs(tabled, tmp_path):
    """評価を再計算 rebuilds 集計: the table went without a word, and the staff's formulas and
    name kept naming a table the book no longer had (Excel repairs such a file by removing
    them). Now it is named once on the command line and in 検証結果 at its corner cell, and
    what referred to it is #REF!, with Excel asked to calculate on load."""
    master = tmp_path / "master.xlsm"
    shutil.copyfile(tabled, master)
    said = _run("recalc", str(master))
    assert said.count(SAID) == 1, said
    parts = _parts(master)
    assert TABLE_PART not in parts and b"tableParts" not in parts[WorkbookXml(Package(master)).sheet(c.SUMMARY).part]
    assert f'PartName="/{TABLE_PART}"'.encode() not in parts["[Content_Types].xml"]
    # Excel calculates them on load, and メモ is recorded among the sheets whose results are
    # stale until then (core.calc_on_load), with those 評価を再計算 rebuilt
    assert re.search(rb"<calcPr\b[^>]*fullCalcOnLoad=\"1\"", parts["xl/workbook.xml"])
    [record] = re.findall(r'<definedName name="_renkei_uncalculated"[^>]*>"([^<]*)"</definedName>',
                          parts["xl/workbook.xml"].decode())
    assert "メモ" in record.split("/") and c.SUMMARY in record.split("/"), record
    assert _formulas(master, "メモ") == {"A1": "=SUM(#REF!)", "A2": '=#REF!&"計"', "A3": '=LEN("予算表[金額]")',
                                         "A4": "=集計!B3", "予算合計": "#REF!"}
    assert re.search(rb"<calculatedColumnFormula>SUM\(#REF!\)\*2</calculatedColumnFormula>", parts["xl/tables/table1.xml"])
    assert package_problems(master) == []
    wb = openpyxl.load_workbook(master, read_only=True)
    found = [[v for v in row] for row in wb[c.FINDINGS].iter_rows(values_only=True)]
    wb.close()
    [row] = [r for r in found if any(SAID in str(v) for v in r)]
    assert (row[1], row[2]) == (c.SUMMARY, "B30") and "#REF!" in " ".join(str(v) for v in row), row
    (book,) = lo_inspect([master])
    assert book["loaded"] and any(SAID in s for s in book["sheets"][c.FINDINGS]["strings"]), book
    # The next run has no table to name.
    assert "テーブル" not in _run("recalc", str(master))


def test_a_check_leaves_the_table_on_the_summary_and_names_one_on_the_findings(tabled, tmp_path):
    """入力チェック (validate) rebuilds 検証結果 only: the table on 集計 stays, byte for byte,
    unnamed, and nothing that refers to it changes; one on 検証結果 is named, by the check."""
    master = tmp_path / "master.xlsm"
    shutil.copyfile(tabled, master)
    said = _run("validate", str(master))
    assert "テーブル" not in said, said
    assert _parts(master)[TABLE_PART] == TABLE.encode()
    assert _formulas(master, "メモ") == {ref: "=" + f for ref, f in STAFF_FORMULAS.items()} | {"予算合計": "予算表[金額]"}
    assert package_problems(master) == []

    on_findings = with_table(init_master(tmp_path / "clean.xlsm", sample="fy2023"), tmp_path / "f.xlsm", c.FINDINGS)
    said = _run("validate", str(on_findings))
    line = f"{c.FINDINGS}の {TABLE_RANGE} に作ったテーブル「{TABLE_NAME}」は、{c.CHECK}で{c.FINDINGS}を作り直したため消えました"
    assert said.count(line) == 1, said
    assert TABLE_PART not in _parts(on_findings) and package_problems(on_findings) == []
    assert _formulas(on_findings, "メモ")["A1"] == "=SUM(#REF!)"


@pytest.mark.parametrize("formula, expected", [
    ("SUM(予算表[金額])", "SUM(#REF!)"),
    ("SUM(予算表[])+COUNT(予算表[[#This Row],[a']b]])", "SUM(#REF!)+COUNT(#REF!)"),
    ("SUM(ＹＯＳＡＮ[a])+sum(yosan[a])", "SUM(ＹＯＳＡＮ[a])+sum(#REF!)"),   # Excel's names ignore case
    ('"予算表[x]"&旧予算表[a]&[1]!予算表[a]', '"予算表[x]"&旧予算表[a]&[1]!予算表[a]'),
    ("'予算表['!A1+予算表2[a]", "'予算表['!A1+予算表2[a]"),
])
def test_only_a_reference_to_the_dropped_table_is_made_ref(formula, expected):
    assert without_table_refs(formula, ["予算表", "YOSAN"]) == expected


def test_a_slicer_of_the_dropped_table_goes_with_it(tmp_path):
    """A slicer of the table beside it on 集計: Excel deletes a table's slicers with the table,
    but the file face kept the slicer (its part, the sheet's list, the frame: package.slicers)
    and the workbook's cache, which named a table the book no longer had. Now they go with the
    table: cache, its list entry and name, the slicer part and list, the frame; the rest of
    the drawing (the tool's charts) stays."""
    master = with_table(init_master(tmp_path / "clean.xlsm", sample="fy2023"), tmp_path / "s.xlsm", slicer=True)
    assert package_problems(master) == []
    said = _run("recalc", str(master))
    assert said.count(SAID) == 1, said
    parts = _parts(master)
    assert not [p for p in parts if p in SLICER_PARTS or p.startswith("xl/slicer") or p == TABLE_PART], sorted(parts)
    book = parts["xl/workbook.xml"].decode()
    assert "slicerCache" not in book and "スライサー_項目" not in book and "<extLst" not in book
    assert b"slicerCache" not in parts["xl/_rels/workbook.xml.rels"] and b"slicer" not in parts["[Content_Types].xml"]
    sheet_part = WorkbookXml(Package(master)).sheet(c.SUMMARY).part
    assert b"slicer" not in parts[sheet_part] and b"slicer" not in parts[sheet_part.replace("worksheets/", "worksheets/_rels/") + ".rels"]
    drawings = b"".join(v for k, v in parts.items() if k.startswith("xl/drawings/drawing"))
    assert b"slicer" not in drawings and drawings.count(b"<c:chart ") == 2, drawings[:400]
    assert package_problems(master) == []
    (book_seen,) = lo_inspect([master])
    assert book_seen["loaded"] and book_seen["sheets"][c.SUMMARY]["charts"] == 2, book_seen["sheets"][c.SUMMARY]

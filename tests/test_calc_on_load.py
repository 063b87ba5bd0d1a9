"""Staff formulas after the command line writes a master (core.calc_on_load).

A master Excel saved says in calcPr that Excel's own engine calculated it, so Excel shows
each formula's saved result on opening without calculating again. The command line
rewrites 一覧 and 集計 in place; a staff formula reading them (=COUNTIF(一覧!H:H,"◎"))
kept the count of the last Excel save, shown, printed and mailed as if right. The write now
sets calcPr's fullCalcOnLoad, so that Excel calculates every formula on opening, and records
in the tool's hidden name _renkei_uncalculated the sheets it changed (which the file face
reads to tell a stale result: tests/test_stale_results.py), and changes nothing else.

LibreOffice cannot show the flag at work: its oox import reads no fullCalcOnLoad, and its
own setting (「Recalculation on file load」, by default never) decides. It shows the rest:
with its default the file's saved result (what Excel shows without the flag), and with
"always" what the formula gives from the cells as written (what Excel calculates with it).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import require_soffice, rewrite_cells
from realbooks import lo_cell_values, parts, sheet_parts
from renkei_xl.core.calc_on_load import full_calc_on_load
from renkei_xl.core.plan_types import CellEdit, FillEdit, NameEdit, SheetPlan, WritePlan
from renkei_xl.package.workbook import WorkbookXml
from renkei_xl.package.zipped import Package
from renkei_xl.workbook.session import recalc_file

# calcPr as Excel 365 saves a workbook: its own engine's id, no request to calculate.
EXCEL_CALC = '<calcPr calcId="191029"/>'
FLAGGED = '<calcPr calcId="191029" fullCalcOnLoad="1"/>'
# The tool's record of the sheets its writes changed while the flag stands, and the sheets
# a recalc changes values on (it rebuilds four, and writes メニュー's last-run cells).
RECORD = '<definedName name="_renkei_uncalculated" hidden="1">"{}"</definedName>'
RECALC_WROTE = "一覧/集計/検証結果/次の一歩/メニュー"
STAFF = "職員集計"
# A staff sheet's formulas on the tool's sheets, with the results the last Excel save gave
# them: 52 ◎ in 一覧's 評価 column (H), 集計's overall ◎ count doubled.
FORMULAS = {"A1": ('COUNTIF(一覧!H:H,"◎")', 52), "B1": ("集計!B4*2", 104)}
WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
REL_WORKSHEET = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"


def excel_saved(src: Path, dst: Path, *, formulas: bool = True) -> Path:
    """``src`` (a master with its 一覧) as Excel saves it after staff added a sheet of their
    own (with FORMULAS and their saved results, or the same numbers typed as values) and
    typed 0回 over 札幌市's 02-1 (３回, which made it ◎): calcPr as Excel writes it, and the
    tool's sheets as the last run left them, since no one has recalculated yet."""
    with zipfile.ZipFile(src) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    book = members["xl/workbook.xml"].decode()
    book, n = re.subn(r"<calcPr\b[^>]*/>", EXCEL_CALC, book)
    assert n == 1
    book = book.replace("</sheets>", f'<sheet name="{STAFF}" sheetId="90" r:id="rId90"/></sheets>')
    members["xl/workbook.xml"] = book.encode()
    members["xl/_rels/workbook.xml.rels"] = members["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", f'<Relationship Id="rId90" Type="{REL_WORKSHEET}" '
                             'Target="worksheets/sheet90.xml"/></Relationships>'.encode())
    members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(
        b"</Types>", f'<Override PartName="/xl/worksheets/sheet90.xml" ContentType="{WORKSHEET}"/></Types>'.encode())
    cells = "".join(f'<c r="{ref}"><f>{f.replace("&", "&amp;").replace("<", "&lt;")}</f><v>{v}</v></c>' if formulas
                    else f'<c r="{ref}"><v>{v}</v></c>' for ref, (f, v) in FORMULAS.items())
    members["xl/worksheets/sheet90.xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<sheetData><row r="1">{cells}</row></sheetData></worksheet>').encode()
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in members.items():
            out.writestr(name, data)
    sapporo = sheet_parts(parts(dst))["札幌市"]
    rewrite_cells(dst, sapporo, {"E2": '<c r="E2" s="{s}" t="inlineStr"><is><t>0回</t></is></c>'})
    return dst


@pytest.fixture(scope="module")
def recalculated(sample_master_xlsm, tmp_path_factory) -> Path:
    """The sample master once through 評価を再計算 (its 一覧: 52 ◎), to be 'saved by Excel'."""
    folder = tmp_path_factory.mktemp("calc_on_load")
    master = folder / "recalculated.xlsm"
    shutil.copyfile(sample_master_xlsm, master)
    recalc_file(master)
    return master


def flagged_and_recorded(workbook_xml, sheets: str = RECALC_WROTE):
    """workbook.xml as Excel saved it, with the two edits a write that sets the flag makes:
    the flag, and the record of ``sheets`` (added last among the defined names)."""
    text = workbook_xml if isinstance(workbook_xml, str) else workbook_xml.decode()
    assert "_renkei_uncalculated" not in text
    out = text.replace(EXCEL_CALC, FLAGGED).replace("</definedNames>", RECORD.format(sheets) + "</definedNames>", 1)
    return out if isinstance(workbook_xml, str) else out.encode()


def _recalc_cli(master: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "renkei_xl.cli", "recalc", str(master)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "51／71" in run.stdout, run.stdout     # 02-1 is no longer ◎


def test_the_command_line_has_excel_recalculate_staff_formulas_on_opening(recalculated, tmp_path):
    require_soffice()
    master = excel_saved(recalculated, tmp_path / "マスター.xlsm")
    before = parts(master)
    _recalc_cli(master)
    after = parts(master)

    # workbook.xml: the one attribute added to calcPr and the tool's record of the sheets
    # the write changed, every other byte as Excel wrote it
    assert after["xl/workbook.xml"].decode() == flagged_and_recorded(before["xl/workbook.xml"].decode())
    # the staff sheet itself untouched: its saved results stay what the last Excel save gave
    staff = sheet_parts(before)[STAFF]
    assert after[staff] == before[staff]

    cells = [(STAFF, ref) for ref in FORMULAS]
    seen = lo_cell_values(master, cells)
    assert seen["never"] == [52, 104]     # the saved results: stale after the write
    assert seen["always"] == [51, 102]    # what a calculation on opening shows


def test_a_master_without_formulas_is_not_asked_to_recalculate(recalculated, tmp_path):
    """No formula outside the sheets the tool rebuilds: workbook.xml stays byte-identical
    (Excel then opens the master saved, and asks nothing on closing). The same write on a
    master whose staff sheet holds formulas sets the flag: the rule, both ways."""
    plain = excel_saved(recalculated, tmp_path / "plain.xlsm", formulas=False)
    with_formulas = excel_saved(recalculated, tmp_path / "formulas.xlsm")
    books = {p: parts(p)["xl/workbook.xml"] for p in (plain, with_formulas)}
    for path in books:
        recalc_file(path)
    assert parts(plain)["xl/workbook.xml"] == books[plain]
    assert parts(with_formulas)["xl/workbook.xml"] == flagged_and_recorded(books[with_formulas])


def test_a_formula_on_a_municipality_sheet_counts_and_a_second_run_changes_nothing_more(recalculated, tmp_path):
    """A formula the contract reads itself (a municipality's 実績値 as =6+11): the sheet the
    read already scanned is known to hold one. The flag once set, the next write of the same
    sheets leaves workbook.xml as it is (the record already names them)."""
    master = excel_saved(recalculated, tmp_path / "muni.xlsm", formulas=False)
    sapporo = sheet_parts(parts(master))["札幌市"]
    rewrite_cells(master, sapporo, {"E3": '<c r="E3" s="{s}"><f>6+11</f><v>17</v></c>'})
    book = parts(master)["xl/workbook.xml"]
    recalc_file(master)
    flagged = parts(master)["xl/workbook.xml"]
    assert flagged == flagged_and_recorded(book)
    recalc_file(master)
    assert parts(master)["xl/workbook.xml"] == flagged


# ------------------------------------------------------------------ the rule

def _sheets_with(*names):
    return lambda name: name in names


def test_the_rule_asks_for_a_calculation_only_when_a_value_changes_and_a_formula_remains():
    rebuilt = WritePlan([SheetPlan("一覧")])
    assert full_calc_on_load(rebuilt, ["一覧", STAFF], _sheets_with(STAFF))
    assert not full_calc_on_load(rebuilt, ["一覧", STAFF], _sheets_with())
    # a formula staff typed into a sheet the write rebuilds is not there after it
    assert not full_calc_on_load(rebuilt, ["一覧", STAFF], _sheets_with("一覧"))
    assert full_calc_on_load(WritePlan(cells=[CellEdit("小樽市", 2, 5, 3)]), ["小樽市", STAFF], _sheets_with(STAFF))
    assert full_calc_on_load(WritePlan(names=[NameEdit("_renkei_master_id", '"x"')]), [STAFF], _sheets_with(STAFF))
    # marks only: a fill changes no value a formula reads
    marks = WritePlan(fills=[FillEdit("小樽市", 2, 5, "FFC7CE")])
    assert not full_calc_on_load(marks, ["小樽市", STAFF], _sheets_with(STAFF))
    assert not full_calc_on_load(WritePlan(), [STAFF], _sheets_with(STAFF))


def test_the_rule_stops_at_the_first_sheet_with_a_formula():
    asked = []

    def holds(name):
        asked.append(name)
        return name == "b"

    assert full_calc_on_load(WritePlan(cells=[CellEdit("a", 1, 1, 1)]), ["a", "b", "c"], holds)
    assert asked == ["a", "b"]


# ------------------------------------------------------------------ the calcPr edit

@pytest.mark.parametrize("calc, edited", [
    (EXCEL_CALC, FLAGGED),
    ('<calcPr calcId="191029" />', '<calcPr calcId="191029" fullCalcOnLoad="1" />'),
    ('<calcPr calcId="191029" calcMode="manual" calcOnSave="0"/>',
     '<calcPr calcId="191029" calcMode="manual" calcOnSave="0" fullCalcOnLoad="1"/>'),
    ('<calcPr calcId="191029" fullCalcOnLoad="0"/>', FLAGGED),
    ("<calcPr fullCalcOnLoad='false' calcId='191029'/>", "<calcPr fullCalcOnLoad='1' calcId='191029'/>"),
    ('<calcPr iterateCount="100" refMode="A1" iterate="false" iterateDelta="0.001"/>',   # LibreOffice's
     '<calcPr iterateCount="100" refMode="A1" iterate="false" iterateDelta="0.001" fullCalcOnLoad="1"/>'),
    ("", '<calcPr fullCalcOnLoad="1"/>'),          # none: after definedNames, as CT_Workbook orders it
])
def test_full_calc_on_load_is_set_and_nothing_else_changes(sample_master_xlsm, tmp_path, calc, edited):
    text = _workbook_with_calc(sample_master_xlsm, tmp_path, calc)
    with Package(tmp_path / "m.xlsm") as pkg:
        book = WorkbookXml(pkg)
        assert not book.full_calc_on_load
        book.ask_full_calc_on_load()
        assert book.dirty and book.full_calc_on_load
        if calc:
            assert book.text == text.replace(calc, edited)
        else:
            assert book.text == text.replace("</definedNames>", "</definedNames>" + edited)


@pytest.mark.parametrize("calc", ['<calcPr calcId="124519" fullCalcOnLoad="1"/>',
                                  '<calcPr fullCalcOnLoad="true" calcId="191029"/>'])
def test_a_workbook_already_asking_is_left_as_it_is(sample_master_xlsm, tmp_path, calc):
    text = _workbook_with_calc(sample_master_xlsm, tmp_path, calc)
    with Package(tmp_path / "m.xlsm") as pkg:
        book = WorkbookXml(pkg)
        assert book.full_calc_on_load
        book.ask_full_calc_on_load()
        assert not book.dirty and book.text == text


def _workbook_with_calc(src: Path, tmp_path: Path, calc: str) -> str:
    """A copy of ``src`` at tmp_path/m.xlsm whose calcPr is ``calc`` (none when empty);
    returns its workbook.xml."""
    with zipfile.ZipFile(src) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    text, n = re.subn(r"<calcPr\b[^>]*/>", calc, members["xl/workbook.xml"].decode())
    assert n == 1
    members["xl/workbook.xml"] = text.encode()
    with zipfile.ZipFile(tmp_path / "m.xlsm", "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in members.items():
            out.writestr(name, data)
    return text


def test_a_staff_sheet_the_write_cannot_read_is_still_copied_and_taken_to_hold_a_formula(recalculated, tmp_path):
    """A character XML forbids in a sheet no one reads (it was copied as it is before): the
    write goes through, the sheet stays byte for byte, and Excel is asked to calculate."""
    master = excel_saved(recalculated, tmp_path / "odd.xlsm", formulas=False)
    staff = sheet_parts(parts(master))[STAFF]
    rewrite_cells(master, staff, {"A1": '<c r="A1" t="inlineStr"><is><t>memo&#1;</t></is></c>'})
    before = parts(master)
    recalc_file(master)
    after = parts(master)
    assert after[staff] == before[staff]
    assert after["xl/workbook.xml"] == flagged_and_recorded(before["xl/workbook.xml"])

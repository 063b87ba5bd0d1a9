"""The validations, ignored-error flags and sparklines staff set on a tool sheet's cells go with
its rebuild on both faces, and each face says so (renkei_xl.package.cell_settings,
core.list_notes.dropped_cell_settings), as for a table (tests/test_tool_sheet_tables.py).

The master is the FY2023 sample after 評価を再計算 and 入力チェック with, on 集計, what Excel saves
for each: a data validation on H2:H20 (<dataValidations>), a 2010 one naming another sheet's
list on J2 (x14:dataValidation in the extLst, with its xm:sqref), an error flagged as ignored
in A5 (<ignoredErrors>) and a sparkline in H3 (x14:sparklineGroups). 評価を再計算 rebuilds 集計;
the buttons' Clear All removes them with the cells, the file face writes the part without them
(docs/excel-model.md check 20); before this neither face said a word.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from realbooks import package_problems, parts, sample_master_xlsm, sheet_parts  # noqa: F401
from remote_payload import click_payload, remote_book
from test_buttons import licensed  # noqa: F401  (the remote engine's licence fixture)
from test_tool_sheet_drawings import _run, written_copy
from test_tool_sheet_settings import _insert

from renkei_xl.core import contract as c

X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
XM = "http://schemas.microsoft.com/office/excel/2006/main"
VALIDATION = ('<dataValidations count="1"><dataValidation type="whole" operator="greaterThanOrEqual" '
              'allowBlank="1" showErrorMessage="1" sqref="H2:H20"><formula1>0</formula1></dataValidation>'
              '</dataValidations>')
IGNORED = '<ignoredErrors><ignoredError sqref="A5" numberStoredAsText="1"/></ignoredErrors>'
EXTENSIONS = (f'<extLst><ext uri="{{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}}" xmlns:x14="{X14}">'
              f'<x14:dataValidations count="1" xmlns:xm="{XM}"><x14:dataValidation type="list" allowBlank="1">'
              '<x14:formula1><xm:f>メモ!$A$1:$A$3</xm:f></x14:formula1><xm:sqref>J2</xm:sqref>'
              '</x14:dataValidation></x14:dataValidations></ext>'
              f'<ext uri="{{05C60535-1F16-4fd2-B633-F4F36F0B64E0}}" xmlns:x14="{X14}">'
              f'<x14:sparklineGroups xmlns:xm="{XM}"><x14:sparklineGroup displayEmptyCellsAs="gap">'
              '<x14:colorSeries rgb="FF376092"/><x14:sparklines><x14:sparkline><xm:f>集計!B3:G3</xm:f>'
              '<xm:sqref>H3</xm:sqref></x14:sparkline></x14:sparklines></x14:sparklineGroup>'
              '</x14:sparklineGroups></ext></extLst>')
SAID = [f"{c.SUMMARY}の H2:H20 に設定した入力規則は、{c.RECALC}で{c.SUMMARY}を作り直したため消えました",
        f"{c.SUMMARY}の J2 に設定した入力規則は、{c.RECALC}で{c.SUMMARY}を作り直したため消えました",
        f"{c.SUMMARY}の A5 に設定したエラーの無視（エラー チェック）は、{c.RECALC}で{c.SUMMARY}を作り直したため消えました",
        f"{c.SUMMARY}の H3 に設定したスパークラインは、{c.RECALC}で{c.SUMMARY}を作り直したため消えました"]


@pytest.fixture(scope="module")
def arranged(sample_master_xlsm, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tool_cell_settings")
    master = written_copy(sample_master_xlsm, folder / "written.xlsm", "recalc", "validate")
    members = parts(master)
    summary = sheet_parts(members)[c.SUMMARY]
    text = members[summary].decode("utf-8")
    assert "<extLst>" not in text
    for element in (VALIDATION, IGNORED):
        text = _insert(text, element)
    members[summary] = text.replace("</worksheet>", EXTENSIONS + "</worksheet>").encode("utf-8")
    out = folder / "arranged.xlsm"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    assert package_problems(out) == []
    return out


def test_the_settings_are_read_as_excel_saved_them(arranged):
    from renkei_xl.package.cell_settings import sheet_cell_settings
    from renkei_xl.package.workbook import WorkbookXml
    from renkei_xl.package.zipped import Package

    pkg = Package(arranged)
    assert sheet_cell_settings(pkg, WorkbookXml(pkg), c.SUMMARY) == [
        ("validation", "H2:H20"), ("ignored_error", "A5"), ("validation", "J2"), ("sparkline", "H3")]
    assert sheet_cell_settings(pkg, WorkbookXml(pkg), c.LIST) == []


def test_recalc_names_each_setting_it_drops(arranged, tmp_path):
    master = shutil.copyfile(arranged, tmp_path / "master.xlsm")
    said = _run("recalc", str(master))
    for line in SAID:
        assert said.count(line) == 1, (line, said)
    summary = parts(master)[sheet_parts(parts(master))[c.SUMMARY]]
    assert b"dataValidation" not in summary and b"ignoredError" not in summary and b"sparkline" not in summary
    import openpyxl

    wb = openpyxl.load_workbook(master, read_only=True)
    found = [str(v) for row in wb[c.FINDINGS].iter_rows(values_only=True) for v in row if v]
    wb.close()
    for line in SAID:
        assert any(line in v for v in found), line
    assert "消えました" not in _run("recalc", str(master))      # nothing left to name


def test_the_buttons_name_the_same_settings(arranged, licensed):
    """The server's click reads them from the saved master its admission names, as it reads
    notes (the payload carries none), and says them in 検証結果 as the command line does."""
    from renkei_xl.excel import buttons

    payload = click_payload(arranged)
    book = remote_book(payload)
    buttons.recalc(book)
    actions = book.json()["actions"]
    written = json.dumps([a for a in actions if a["func"] != "alert"], ensure_ascii=False)
    said = json.dumps([a for a in actions if a["func"] == "alert"], ensure_ascii=False)
    for line in SAID:
        assert written.count(line) == 1, line       # one row of 検証結果 each
        assert line in said, said                   # and listed in the message, as the command line lists it


def test_empty_extended_validations_by_the_thousand_cost_recalc_no_time(arranged, tmp_path):
    """64,000 empty 2010 validations (「<x14:dataValidation />」, a few kB zipped) after the
    one that names J2: a pattern read each to a validation's end tag, and with none after
    them it searched the rest of the part from every one: recalc ran for over a quarter of
    an hour (qa-fuzz62). Read in one pass now (package.xml.closed_elements): the same
    settings named."""
    from forked_cli import cli_run

    members = parts(arranged)
    summary = sheet_parts(members)[c.SUMMARY]
    members[summary] = members[summary].replace(
        b"</x14:dataValidations>", b"<x14:dataValidation />" * 64_000 + b"</x14:dataValidations>", 1)
    master = tmp_path / "master.xlsm"
    with zipfile.ZipFile(master, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    done = cli_run(["recalc", str(master)], timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    for line in SAID:
        assert done.stdout.count(line) == 1, (line, done.stdout)

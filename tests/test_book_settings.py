"""Workbook-level settings staff's Excel saves in workbook.xml, and what the file face does
with each: a protected structure (「ブックの保護」, workbookProtection lockStructure) refuses a
sheet added, as Excel does; a book set to manual calculation that Excel saved without
calculating (calcPr calcMode="manual" calcOnSave="0") holds formula results that may be
stale. Each setting is written into the FY2023 sample master as Excel writes it."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest

from renkei_xl.cli.workbook import init_master
from renkei_xl.core import contract as c
from renkei_xl.core.errors import UserError
from renkei_xl.workbook.session import recalc_file, validate_file

from conftest import write_members
from test_buttons import licensed  # noqa: F401  (the remote engine, with its test key)


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    """The sample master as init writes it: 次の一歩 is not there yet (the first 評価を再計算
    adds it)."""
    return init_master(tmp_path_factory.mktemp("settings") / "sample.xlsm", sample="fy2023")


def edit_workbook_xml(path: Path, edit) -> None:
    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    members["xl/workbook.xml"] = edit(members["xl/workbook.xml"].decode("utf-8")).encode("utf-8")
    write_members(path, members)


def sheet_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        return re.findall(r'<sheet name="([^"]*)"', z.read("xl/workbook.xml").decode("utf-8"))


# ------------------------------------------------------------------ structure protected

# As Excel 365 writes 「ブックの保護」 (構成) without a password, with one (SHA-512, since
# 2013), and as Excel 2007/2010 wrote a password (the legacy 16-bit hash).
LOCKS = {
    "no password": '<workbookProtection lockStructure="1"/>',
    "password": '<workbookProtection workbookAlgorithmName="SHA-512" workbookHashValue="x7Qk3yQ0bKg=" '
                'workbookSaltValue="c2FsdA==" workbookSpinCount="100000" lockStructure="1"/>',
    "legacy password": '<workbookProtection workbookPassword="CC3D" lockStructure="1"/>',
}


def locked(sample: Path, tmp_path: Path, element: str) -> Path:
    path = tmp_path / "マスター.xlsm"
    shutil.copyfile(sample, path)
    edit_workbook_xml(path, lambda t: t.replace("<bookViews>", element + "<bookViews>", 1))
    return path


def _recalc_refused_saying(path: Path, *said: str) -> None:
    """評価を再計算 on the command line refuses ``path`` with a message holding each of
    ``said``, and the file is as it was."""
    before = path.read_bytes()
    with pytest.raises(UserError) as caught:
        recalc_file(path)
    assert all(part in str(caught.value) for part in said), str(caught.value)
    assert path.read_bytes() == before


@pytest.mark.parametrize("lock", LOCKS)
def test_a_write_that_must_add_a_sheet_to_a_protected_structure_is_refused_and_changes_nothing(sample, tmp_path, lock):
    """Excel adds no sheet to a book whose structure is protected (1004), and the buttons
    refuse before writing; the command line added 次の一歩 into the file all the same, so
    the book held a sheet its own protection forbids, which no Excel user could have made."""
    path = locked(sample, tmp_path, LOCKS[lock])
    _recalc_refused_saying(path, f"「{c.NEXT_STEPS}」", "ブックの構成が保護", "もう一度実行して")
    assert not (tmp_path / "マスター_バックアップ").exists() or not any((tmp_path / "マスター_バックアップ").iterdir())


def test_a_write_that_adds_no_sheet_goes_through_a_protected_structure(sample, tmp_path):
    """入力チェック writes 検証結果 and メニュー, which are there: the protection stays as it was."""
    path = locked(sample, tmp_path, LOCKS["password"])
    validate_file(path)
    assert c.NEXT_STEPS not in sheet_names(path)
    with zipfile.ZipFile(path) as z:
        assert LOCKS["password"] in z.read("xl/workbook.xml").decode("utf-8")


def test_without_the_protection_the_sheet_is_added(sample, tmp_path):
    """The same write where the structure is not protected: the refusal above is the lock's."""
    path = tmp_path / "マスター.xlsm"
    shutil.copyfile(sample, path)
    assert c.NEXT_STEPS not in sheet_names(path)
    recalc_file(path)
    assert c.NEXT_STEPS in sheet_names(path)


# ------------------------------------------------------------------ manual calculation

FORMULA = "SUM(札幌市!E5,小樽市!E5)"      # 17 + 3 in the sample
CELL = "K2"                               # 指標's 実績値（手入力） of KPI1-1 (empty in the sample)


def excel_saved_with(sample: Path, tmp_path: Path, calc_pr: str, total: int = 20) -> Path:
    """The sample master as Excel saves it with ``calc_pr`` and a staff formula whose saved
    result is ``total`` (what Excel last calculated)."""
    from conftest import rewrite_cells
    from realbooks import parts, sheet_parts

    path = tmp_path / "マスター.xlsm"
    shutil.copyfile(sample, path)
    edit_workbook_xml(path, lambda t: re.sub(r"<calcPr\b[^>]*/>", calc_pr, t, count=1))
    part = sheet_parts(parts(path))[c.INDICATORS]
    rewrite_cells(path, part, {CELL: f'<c r="{CELL}" s="{{s}}"><f>{FORMULA}</f><v>{total}</v></c>'})
    return path


MANUAL_UNSAVED = '<calcPr calcId="191029" calcMode="manual" calcOnSave="0"/>'


def uncalculated(path: Path) -> list[str]:
    from renkei_xl.core.findings import STALE_MANUAL
    from renkei_xl.workbook.session import load_master

    return [f.place for f in load_master(path).findings if f.type == STALE_MANUAL.code]


@pytest.mark.parametrize("calc_pr", [MANUAL_UNSAVED, "<calcPr calcId='191029' calcOnSave='false' calcMode='manual'/>"])
def test_a_formula_saved_uncalculated_in_manual_mode_is_not_read_as_current(sample, tmp_path, calc_pr):
    """Excel set to 「手動」 with 「ブックの保存前に再計算を行う」 off saves each formula's last
    result, however old: staff typed 札幌市's value, saved, and the command line judged and
    published the sum from before as current, without a word. Now 入力チェック lists the cell
    naming the setting, and 評価を再計算 stops before writing anything."""
    path = excel_saved_with(sample, tmp_path, calc_pr)
    assert uncalculated(path) == [f"{c.INDICATORS}!{CELL}"]
    _recalc_refused_saying(path, f"{c.INDICATORS}!{CELL}", "「手動」", "ブックの保存前に再計算を行う")


@pytest.mark.parametrize("calc_pr", ['<calcPr calcId="191029"/>', '<calcPr calcId="191029" calcMode="manual"/>',
                                     '<calcPr calcId="191029" calcMode="auto" calcOnSave="0"/>'])
def test_a_book_excel_calculated_at_its_save_is_read_as_it_is(sample, tmp_path, calc_pr):
    """Automatic calculation, or manual with Excel's default (calculate before saving): the
    saved result is what Excel calculated at the save, and the command goes through."""
    path = excel_saved_with(sample, tmp_path, calc_pr)
    assert uncalculated(path) == []
    recalc_file(path)


# ------------------------------------------------------------------ legacy shared workbook

REVISION_HEADERS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    '<headers xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
                    'guid="{5E2D2A2B-7C1D-4C59-9D0B-1F1B2E9C0A01}" lastGuid="{5E2D2A2B-7C1D-4C59-9D0B-1F1B2E9C0A01}" '
                    'shared="1" diskRevisions="1" revisionId="1" version="2"><header '
                    'guid="{5E2D2A2B-7C1D-4C59-9D0B-1F1B2E9C0A01}" dateTime="2026-11-30T10:00:00" maxSheetId="21" '
                    'userName="職員" r:id="rId1"><sheetIdMap count="1"><sheetId val="1"/></sheetIdMap></header></headers>')
USER_NAMES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              '<users xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1">'
              '<userInfo guid="{0D7C4A8E-3B9A-4F6B-8F0E-3C2A1B0D9E11}" name="職員" id="123" '
              'dateTime="2026-11-30T10:00:00"/></users>')
REVISION_LOG = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<revisions xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>')
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml."


def shared(sample: Path, tmp_path: Path) -> Path:
    """The sample master as Excel saves it after 「ブックの共有（レガシ）」: the revision headers,
    a revision log and the user names, related from the workbook part."""
    path = tmp_path / "マスター.xlsm"
    with zipfile.ZipFile(sample) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    rels = members["xl/_rels/workbook.xml.rels"].decode("utf-8")
    rels = rels.replace("</Relationships>",
                        f'<Relationship Id="rId901" Type="{_REL}revisionHeaders" Target="revisions/revisionHeaders.xml"/>'
                        f'<Relationship Id="rId902" Type="{_REL}usernames" Target="revisions/userNames.xml"/>'
                        "</Relationships>")
    members["xl/_rels/workbook.xml.rels"] = rels.encode("utf-8")
    types = members["[Content_Types].xml"].decode("utf-8").replace(
        "</Types>",
        f'<Override PartName="/xl/revisions/revisionHeaders.xml" ContentType="{_CT}revisionHeaders+xml"/>'
        f'<Override PartName="/xl/revisions/revisionLog1.xml" ContentType="{_CT}revisionLog+xml"/>'
        f'<Override PartName="/xl/revisions/userNames.xml" ContentType="{_CT}userNames+xml"/></Types>')
    members["[Content_Types].xml"] = types.encode("utf-8")
    members["xl/revisions/revisionHeaders.xml"] = REVISION_HEADERS.encode("utf-8")
    members["xl/revisions/_rels/revisionHeaders.xml.rels"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships '
        'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{_REL}revisionLog" Target="revisionLog1.xml"/></Relationships>').encode()
    members["xl/revisions/revisionLog1.xml"] = REVISION_LOG.encode("utf-8")
    members["xl/revisions/userNames.xml"] = USER_NAMES.encode("utf-8")
    write_members(path, members)
    return path


@pytest.mark.parametrize("command", ["validate", "recalc"])
def test_a_rebuild_of_a_tool_sheet_in_a_shared_workbook_is_refused_and_changes_nothing(sample, tmp_path, command):
    """In a legacy shared workbook Excel merges no cells, adds no conditional format or
    hyperlink and lifts no protection, so the buttons that write into the book stop there;
    the command line rebuilt 検証結果 and 一覧 in the file all the same, changes the book's
    revision log knows nothing of."""
    path = shared(sample, tmp_path)
    before = path.read_bytes()
    with pytest.raises(UserError) as caught:
        (validate_file if command == "validate" else recalc_file)(path)
    assert "ブックの共有（レガシ）" in str(caught.value) and "もう一度実行して" in str(caught.value)
    assert path.read_bytes() == before


def test_values_alone_go_into_a_shared_workbook_and_its_revisions_stay(sample, tmp_path):
    """A write of values only (what staff may type into a shared workbook) goes through,
    and the revision parts stay byte-identical."""
    from renkei_xl.core.plan_types import CellEdit, WritePlan
    from renkei_xl.workbook.session import write_planned

    path = shared(sample, tmp_path)
    with zipfile.ZipFile(path) as z:
        kept = {n: z.read(n) for n in z.namelist() if n.startswith("xl/revisions/")}
    write_planned(path, lambda fs: (WritePlan(cells=[CellEdit("札幌市", 30, 12, "メモ")]), None))
    with zipfile.ZipFile(path) as z:
        assert {n: z.read(n) for n in kept} == kept


# ------------------------------------------------------------------ precision as displayed

@pytest.mark.parametrize("value, number_format, kept", [
    (12.345, "0.0", 12.3), (0.73239, "0.0%", 0.732), (0.123, "0%", 0.12), (1234567.8, "#,##0", 1234568),
    (1234567.8, '#,##0,"千円"', 1235000), (12.3456, '#,##0.0"件"', 12.3), (-2.345, '0.00;[Red]"▲"0.0', -2.3),
    (2.5, "0", 3), (-2.5, "0", -3), (1.005, "0.00", 1.01), (-0.04, "0.0", 0.0), (3, "0.0", 3),
    # what the rounding does not model leaves the number as it is
    (12.5, "General", 12.5), (45566.6, "yyyy/mm/dd", 45566.6), (12345.6, "0.0E+00", 12345.6), (0.5, "# ?/?", 0.5),
    (7.25, "@", 7.25),
    (1500.5, '[>=1000]#,##0,"千";0', 2000)])      # shown 2千: rounded by the section its condition chose
def test_a_number_is_kept_as_its_format_shows_it(value, number_format, kept):
    from renkei_xl.core.displayed import as_displayed

    assert as_displayed(value, number_format) == kept
    assert str(as_displayed(value, number_format)) != "-0.0"


def stored(path: Path, sheet: str, ref: str):
    import openpyxl

    return openpyxl.load_workbook(path, read_only=True)[sheet][ref].value


@pytest.mark.parametrize("full_precision", [False, True])
def test_a_number_the_file_face_writes_is_what_excel_keeps_in_a_book_set_to_precision_as_displayed(
        sample, tmp_path, full_precision):
    """Excel set to 「表示桁数で計算する」 keeps every number entered rounded as its cell shows
    it, so a button's write of 12.345 into a staff cell of 0.0 is kept as 12.3; the command
    line stored 12.345, and the two faces then read and judged different numbers. A cell
    staff formatted (0.0, given here by a first write) and 設定's 概ね達成閾値 (0.0%)."""
    from renkei_xl.core.plan_types import CellEdit, WritePlan
    from renkei_xl.workbook.session import write_planned

    path = tmp_path / "マスター.xlsm"
    shutil.copyfile(sample, path)
    if not full_precision:
        edit_workbook_xml(path, lambda t: re.sub(r"<calcPr\b", '<calcPr fullPrecision="0"', t, count=1))
    write_planned(path, lambda fs: (WritePlan(cells=[CellEdit("札幌市", 30, 12, "", number_format="0.0")]), None))
    threshold = _threshold_cell(path)
    edits = [CellEdit("札幌市", 30, 12, 12.345), CellEdit(c.SETTINGS, *threshold, 0.85678)]
    write_planned(path, lambda fs: (WritePlan(cells=edits), None))
    assert stored(path, "札幌市", "L30") == (12.345 if full_precision else 12.3)
    assert stored(path, c.SETTINGS, "%s%d" % (chr(64 + threshold[1]), threshold[0])) == (0.85678 if full_precision
                                                                                      else 0.857)


def _threshold_cell(path: Path) -> tuple[int, int]:
    """(row, column) of 設定's 概ね達成閾値 (its defined name), a cell of 0.0%."""
    import openpyxl
    from renkei_xl.core.refs import parse_ref

    wb = openpyxl.load_workbook(path, read_only=True, keep_links=False)
    dest = next(iter(wb.defined_names[c.N_THRESHOLD].destinations))
    assert dest[0] == c.SETTINGS
    return parse_ref(dest[1].replace("$", ""))


# ------------------------------------------------------------------ read-only, final, labels

FILE_SHARING = ('<fileSharing readOnlyRecommended="1" userName="企画課" algorithmName="SHA-512" '
                'hashValue="x7Qk3yQ0bKg=" saltValue="c2FsdA==" spinCount="100000"/>')
CUSTOM = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties xmlns="http://schemas.openxmlformats.org/'
          'officeDocument/2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
          'docPropsVTypes"><property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="_MarkAsFinal">'
          '<vt:bool>true</vt:bool></property></Properties>')
LABEL = ('<?xml version="1.0" encoding="utf-8" standalone="yes"?>\n<clbl:labelList xmlns:clbl="http://schemas.microsoft.'
         'com/office/2020/mipLabelMetadata"><clbl:label id="{11111111-2222-3333-4444-555555555555}" enabled="1" '
         'method="Standard" siteId="{66666666-7777-8888-9999-000000000000}" removed="0"/></clbl:labelList>')


def test_read_only_recommended_a_password_to_modify_final_and_a_label_stay_as_excel_saved_them(sample, tmp_path):
    """What Excel saves for 「読み取り専用を推奨する」 and 「書き込みパスワード」 (fileSharing), 「最終版にする」
    (_MarkAsFinal) and a sensitivity label (docMetadata/LabelInfo.xml) goes through a write
    that changes workbook.xml (次の一歩 added) byte for byte."""
    path = tmp_path / "マスター.xlsm"
    with zipfile.ZipFile(sample) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    members["xl/workbook.xml"] = members["xl/workbook.xml"].decode().replace(
        "<workbookPr", FILE_SHARING + "<workbookPr", 1).encode()
    members["docProps/custom.xml"] = CUSTOM.encode()
    members["docMetadata/LabelInfo.xml"] = LABEL.encode()
    members["_rels/.rels"] = members["_rels/.rels"].decode().replace(
        "</Relationships>", f'<Relationship Id="rIdc1" Type="{_REL}custom-properties" Target="docProps/custom.xml"/>'
        '<Relationship Id="rIdl1" Type="http://schemas.microsoft.com/office/2020/02/relationships/classificationlabels" '
        'Target="docMetadata/LabelInfo.xml"/></Relationships>').encode()
    members["[Content_Types].xml"] = members["[Content_Types].xml"].decode().replace(
        "</Types>", '<Override PartName="/docProps/custom.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'custom-properties+xml"/><Override PartName="/docMetadata/LabelInfo.xml" ContentType="application/vnd.ms-office.'
        'classificationlabels+xml"/></Types>').encode()
    write_members(path, members)
    recalc_file(path)
    assert c.NEXT_STEPS in sheet_names(path)
    with zipfile.ZipFile(path) as z:
        for name in ("docProps/custom.xml", "docMetadata/LabelInfo.xml", "_rels/.rels"):
            assert z.read(name) == members[name], name
        assert FILE_SHARING + "<workbookPr" in z.read("xl/workbook.xml").decode()


# ------------------------------------------------------------------ a chart sheet holding a tool sheet's name

def test_a_chart_sheet_named_as_a_tool_sheet_is_named_on_every_face_before_anything_is_written(sample, tmp_path,
                                                                                               licensed):
    """Staff moved 集計's chart to a sheet of its own (「グラフの移動」→「新しいシート」) and named
    that chart sheet 「集計」 in place of the tool's sheet. Sheet names are one set over every
    tab: Excel names no added sheet 「集計」 (1004 after Sheets.Add had added one, halfway through
    a server click; the model of Excel let it through, as it knew the worksheets alone), and the
    command line took the chart sheet for the tool's sheet and stopped on its missing grid
    (「予期しないエラー（TypeError）」). Both faces refuse, naming the sheet, and write nothing."""
    from openpyxl import load_workbook
    from openpyxl.chart import BarChart, Reference

    from remote_payload import EXCEL_KEY, UNPROTECT, VBA, ExcelError, apply_actions, payload_from_file, remote_book
    from renkei_xl.excel import buttons
    from renkei_xl.excel.book import RENKEI_CLIENT_KEY, SAVED_MASTER_KEY

    path = tmp_path / "マスター.xlsm"
    wb = load_workbook(sample, keep_vba=True)
    del wb[c.SUMMARY]
    chart = BarChart()
    chart.add_data(Reference(wb[c.INDICATORS], min_col=1, min_row=1, max_row=3))
    wb.create_chartsheet(c.SUMMARY).add_chart(chart)
    wb.save(path)

    said = ("「集計」はグラフシートなど", "ブックは変更していません")
    _recalc_refused_saying(path, *said, "もう一度実行して")

    payload = payload_from_file(path, client=VBA)
    assert payload[EXCEL_KEY]["other_tabs"] == [c.SUMMARY]
    # the model: Excel's answer to the name (what a server click met before the refusal)
    added = [{"func": UNPROTECT, "args": [[], [c.SUMMARY]]}, {"func": "addSheet", "args": [19, c.SUMMARY]}]
    with pytest.raises(ExcelError, match="not valid for a sheet"):
        apply_actions(payload, added)
    payload.update({RENKEI_CLIENT_KEY: True, SAVED_MASTER_KEY: str(path)})
    book = remote_book(payload)
    buttons.recalc(book)
    actions = book.json()["actions"]
    assert [a["func"] for a in actions] == ["alert"]
    assert all(part in actions[0]["args"][0] for part in (*said, "ボタンを押して")), actions[0]["args"][0]


# ------------------------------------------------------------------ staff's event procedures

def test_staffs_event_procedures_do_not_run_in_the_middle_of_a_server_click(sample, tmp_path, licensed):
    """A master carrying staff's Workbook_SheetChange (upgrade-macros keeps it, vba.carry):
    Excel runs it at every value a macro writes, so a server click's replay ran staff's code
    at each of its writes (a date stamped beside each, or the replay stopped halfway by an
    error in it); the model of Excel did not know. RenkeiCallServer turns events off while the
    answer is replayed and puts them back; the replay runs none of staff's procedures."""
    from conftest import replace_vba_project
    from remote_payload import STAFF_EVENT, VBA, ExcelError, apply_actions, events_off, payload_from_file, remote_book
    from renkei_xl.excel import buttons
    from renkei_xl.vba.inject import sheet_code_names
    from renkei_xl.vba.project import Module, build_vba_project
    from renkei_xl.vba.sources import our_modules, remote_modules, xlwings_modules

    path = tmp_path / "マスター.xlsm"
    shutil.copyfile(sample, path)
    stamp = Module("ThisWorkbook", "document", "Private Sub Workbook_SheetChange(ByVal Sh As Object, ByVal Target As Range)"
                                               "\r\n    Target.Offset(0, 1).Value = Now\r\nEnd Sub\r\n")
    documents = [stamp] + [Module(n, "document", "") for n in sheet_code_names(path)]
    replace_vba_project(path, path, build_vba_project([*documents, *our_modules(), *xlwings_modules(), *remote_modules()],
                                                      codepage=932))
    payload = payload_from_file(path, client=VBA)
    assert events_off(path)
    book = remote_book(payload)
    buttons.check(book)
    actions = book.json()["actions"]
    assert apply_actions(payload, actions).alerts      # events off: the replay runs to its message
    payload["_excel"]["events_off"] = False            # a RenkeiCallServer that leaves them on
    with pytest.raises(ExcelError) as met:
        apply_actions(payload, actions)
    assert met.value.number == STAFF_EVENT and "Workbook_SheetChange" in met.value.text

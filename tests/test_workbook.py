"""The master workbook from the command line: init, validate, recalc, on real files."""

import datetime as dt
import hashlib
import os
import shutil
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from renkei_xl.core import contract as c
from renkei_xl.core.looks import SYMBOL_FILLS
from renkei_xl.core.errors import UserError
from renkei_xl.cli.workbook import init_master
from renkei_xl.workbook.session import recalc_file


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "renkei_xl.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def list_rows(path: Path) -> dict:
    """指標ID → row values of 一覧, read back from the written file."""
    ws = load_workbook(path)[c.LIST]
    header = [cell.value for cell in ws[3]]
    assert tuple(header) == c.LIST_COLUMNS
    out = {}
    for row in ws.iter_rows(min_row=4, values_only=True):
        if row[c.LIST_ID_COL]:
            out[row[c.LIST_ID_COL]] = dict(zip(c.LIST_COLUMNS, row))
    return out


@pytest.fixture(scope="module")
def sample_xlsx(tmp_path_factory):
    path = tmp_path_factory.mktemp("sample") / "m.xlsx"
    init_master(path, sample="fy2023")
    out = cli("recalc", path)
    assert out.returncode == 0, out.stderr
    assert "◎52 □7 ×12 ―5 －4  達成割合 52／71 = 73.2%" in out.stdout
    return path


def test_recalculated_sample_reproduces_the_official_list(sample_xlsx, fy2023):
    rows = list_rows(sample_xlsx)
    assert len(rows) == 80
    assert {i: r["評価"] for i, r in rows.items()} == dict(fy2023.official)
    n = lambda s: unicodedata.normalize("NFKC", s or "")
    for ind_id, breakdown in [("04-1", "（札幌市17件、小樽市2件、千歳市1件、恵庭市1件）"),
                              ("08-1", "（札幌市11件、小樽市3件、千歳市2件、恵庭市1件）"),
                              ("06-1", "（札幌市8件、小樽市1件）")]:
        assert n(rows[ind_id]["実績値"]) == n(fy2023.official_actual[ind_id])
        assert n(breakdown) in n(rows[ind_id]["連携事業実施状況等（３月末時点）"])
    assert rows["28-1"]["実績値"] == "11市町村"


def test_summary_sheet(sample_xlsx):
    ws = load_workbook(sample_xlsx)[c.SUMMARY]
    values = [v for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    assert "達成済み・達成見込み52／評価可能71" in values
    assert "73.2%" in values
    total = next(row for row in ws.iter_rows(values_only=True) if row[0] == "全体")
    assert list(total[1:7]) == [52, 7, 12, 5, 4, 80]
    with zipfile.ZipFile(sample_xlsx) as z:
        assert any(n.startswith("xl/charts/chart") for n in z.namelist())


def test_menu_shows_last_run(sample_xlsx):
    wb = load_workbook(sample_xlsx)

    def named(name):
        (sheet, ref), = wb.defined_names[name].destinations
        return wb[sheet][ref.replace("$", "")]

    assert "52／71" in named(c.N_LAST_RESULT).value
    assert isinstance(named(c.N_LAST_RUN).value, dt.datetime)
    assert named(c.N_LAST_RUN).number_format == c.DATETIME_FORMAT


def test_list_sheet_print_setup_and_formats(sample_xlsx):
    ws = load_workbook(sample_xlsx)[c.LIST]
    assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A3
    assert ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    assert ws.print_title_rows == "$3:$3"
    assert "&P" in ws.oddFooter.center.text
    assert ws.protection.sheet
    rules = [r for cf in ws.conditional_formatting for r in cf.rules]
    assert {r.formula[0] for r in rules if r.type == "cellIs"} == {f'"{s}"' for s in SYMBOL_FILLS}
    assert any(r.type == "dataBar" for r in rules)
    # 役割 over its rows (4-20), cut where a page ends so each page shows it
    breaks = {b.id for b in ws.row_breaks.brk}
    first_role = sorted((m.min_row, m.max_row) for m in ws.merged_cells.ranges if m.min_col == m.max_col == 1
                        and 4 <= m.min_row <= 20)
    assert first_role[0][0] == 4 and first_role[-1][1] == 20, first_role
    assert all(a[1] + 1 == b[0] and a[1] in breaks for a, b in zip(first_role, first_role[1:])), (first_role, breaks)
    assert len(first_role) == 1 + len([r for r in breaks if 4 <= r < 20])


def _set_value(path: Path, sheet: str, ind_id: str, value):
    wb = load_workbook(path)
    ws = wb[sheet]
    head = [cell.value for cell in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[head.index("指標ID")].value == ind_id:
            row[head.index("実績値")].value = value
            break
    else:
        raise AssertionError(ind_id)
    wb.save(path)


def test_changing_one_municipality_changes_everything_downstream(sample_xlsx, tmp_path):
    path = tmp_path / "m.xlsx"
    shutil.copy(sample_xlsx, path)
    _set_value(path, "小樽市", "08-1", 12)  # 17件 → 26件: × becomes ◎
    result, written = recalc_file(path)
    rows = list_rows(path)
    assert rows["08-1"]["実績値"] == "26件" and rows["08-1"]["評価"] == "◎"
    assert "小樽市12件" in rows["08-1"]["連携事業実施状況等（３月末時点）"]
    assert result.summary.fraction_text == "53／71"
    ws = load_workbook(path)[c.SUMMARY]
    total = next(row for row in ws.iter_rows(values_only=True) if row[0] == "全体")
    assert list(total[1:4]) == [53, 7, 11]
    assert written.backup and written.backup.exists()


def test_master_filled_by_hand_through_the_contract(tmp_path, capsys):
    """A new master checked before its 指標 is filled said 「エラー 0 件、警告 0 件」 (exit 0), as if
    ready: now a warning, on 検証結果 too, says what to fill in. Filled by hand, it is gone."""
    from renkei_xl.cli import main as cli_main

    path = tmp_path / "hand.xlsx"
    init_master(path, year=2024)
    assert cli_main(["validate", str(path)]) == 0
    said = "シート「指標」に指標が 1 つもありません。A2 の行から 1 行に 1 指標ずつ、指標ID・役割・評価指標・目標値・集計方法を入力"
    assert "警告 1 件" in (out := capsys.readouterr().out) and f"[警告] 指標!A2: {said}" in out, out
    assert [r[:3] for r in load_workbook(path, read_only=True)[c.FINDINGS].iter_rows(min_row=2, values_only=True)
            if r[4] and said in r[4]] == [("警告", c.INDICATORS, "A2")]
    wb = load_workbook(path)
    ws = wb[c.INDICATORS]
    head = [cell.value for cell in ws[1]]
    rows = [
        {"指標ID": "X-1", "役割": "試験", "事業No": 1, "連携事業名": "手入力の事業", "評価指標": "会議の回数",
         "目標値": "２回（毎年度）", "集計方法": "手入力", "実績値（手入力）": "１回"},
        {"指標ID": "X-2", "役割": "試験", "事業No": 2, "連携事業名": "合計の事業", "評価指標": "支援件数",
         "目標値": "10件（毎年度）", "集計方法": "合計"},
        {"指標ID": "X-3", "役割": "試験", "事業No": 3, "連携事業名": "期限の事業", "評価指標": "計画の策定",
         "目標値": "2026年度まで", "集計方法": "中心市のみ"},
    ]
    for r, data in enumerate(rows, start=2):
        for key, value in data.items():
            ws.cell(r, head.index(key) + 1, value)
    for muni, value in (("札幌市", "７"), ("江別市", 4)):
        ms = wb[muni]
        mh = [cell.value for cell in ms[1]]
        r = ms.max_row + 1
        ms.cell(r, mh.index("指標ID") + 1, "X-2")
        ms.cell(r, mh.index("実績値") + 1, value)
    wb.save(path)
    out = cli("recalc", path)
    assert out.returncode == 0, out.stderr
    assert "指標が 1 つもありません" not in out.stdout, out.stdout
    got = list_rows(path)
    assert got["X-1"]["評価"] == "×" and got["X-1"]["実績値"] == "１回"
    assert got["X-2"]["実績値"] == "11件" and got["X-2"]["評価"] == "◎"
    assert "（札幌市7件、江別市4件）" in got["X-2"]["連携事業実施状況等（３月末時点）"]
    assert got["X-3"]["評価"] == "―"
    assert "2024年度 連携事業実施状況等一覧" in load_workbook(path)[c.LIST]["A1"].value


def test_deadlines_as_staff_write_them_are_judged_in_the_list(sample_xlsx, tmp_path):
    """The FY2023 master (基準日 2024-03-31) with four targets rewritten: a month reached
    (×), a month ahead (―), a 年度 in other words (―), and a calendar year, refused on
    検証結果 at its cell with what to type (the row 「－」 as any input error)."""
    path = tmp_path / "期限.xlsx"
    shutil.copy(sample_xlsx, path)
    targets = {"14-1": "2024年3月末まで", "35-1": "令和6年9月末まで", "51-1": "2025年度中", "49-1": "2025年まで"}
    wb = load_workbook(path)
    ws = wb[c.INDICATORS]
    head = [cell.value for cell in ws[1]]
    cells = {}
    for row in ws.iter_rows(min_row=2):
        ind_id = row[head.index("指標ID")].value
        if ind_id in targets:
            row[head.index("目標値")].value = targets[ind_id]
            cells[ind_id] = row[head.index("目標値")].coordinate
    wb.save(path)
    out = cli("recalc", path)
    assert out.returncode == 1, out.stdout + out.stderr     # the input error of 49-1
    assert "◎52 □7 ×11 ―5 －5" in out.stdout, out.stdout
    rows = list_rows(path)
    assert {i: (rows[i]["目標値"], rows[i]["評価"]) for i in targets} == {
        "14-1": ("2024年3月末まで", "×"), "35-1": ("令和6年9月末まで", "―"), "51-1": ("2025年度中", "―"),
        "49-1": ("2025年まで", "－")}
    found = [r for r in load_workbook(path)[c.FINDINGS].iter_rows(values_only=True) if r[3] == "49-1"]
    assert [(r[0], r[1], r[2]) for r in found] == [("エラー", c.INDICATORS, cells["49-1"])]
    assert "「2025年度まで」または「2025年12月まで」のように書いてください" in found[0][4]
    assert "単位" not in found[0][4]


def test_validate_finds_each_kind_of_bad_input(sample_xlsx, tmp_path):
    path = tmp_path / "bad.xlsx"
    shutil.copy(sample_xlsx, path)
    wb = load_workbook(path)
    ws = wb[c.INDICATORS]
    head = [cell.value for cell in ws[1]]
    col = lambda name: head.index(name) + 1
    ws.cell(2, col("指標ID")).value = ws.cell(3, col("指標ID")).value          # duplicate ID
    ws.cell(5, col("目標値")).value = "#REF!"                                  # formula error
    ws.cell(6, col("評価指標")).value = None                                   # empty required
    ms = wb["小樽市"]
    mh = [cell.value for cell in ms[1]]
    ms.cell(2, mh.index("実績値") + 1).value = "約10件"                        # text in number
    ms.cell(3, mh.index("実績値") + 1).value = "3人"                           # unit mismatch
    ms.cell(ms.max_row + 1, mh.index("指標ID") + 1).value = "99-9"             # unknown ID
    unknown_row = ms.max_row
    ms.cell(unknown_row, mh.index("実績値") + 1).value = 1
    wb.save(path)
    out = cli("validate", path)
    assert out.returncode == 1, out.stdout + out.stderr
    wb = load_workbook(path)
    found = {(row[1], row[2]) for row in wb[c.FINDINGS].iter_rows(min_row=2, values_only=True)}
    L = lambda name: chr(64 + col(name))
    ML = lambda name: chr(65 + mh.index(name))
    expected = {(c.INDICATORS, f"{L('指標ID')}3"), (c.INDICATORS, f"{L('目標値')}5"),
                (c.INDICATORS, f"{L('評価指標')}6"), ("小樽市", f"{ML('実績値')}2"),
                ("小樽市", f"{ML('実績値')}3"), ("小樽市", f"{ML('指標ID')}{unknown_row}")}
    assert expected <= found
    link = wb[c.FINDINGS]["C2"].hyperlink
    assert link is not None and link.location.startswith("'")
    assert wb["小樽市"][f"{ML('実績値')}2"].fill.fgColor.rgb.endswith(c.MARK_FILL)
    assert "エラー" in out.stdout and "小樽市!" in out.stdout


def test_marks_are_lifted_when_fixed(sample_xlsx, tmp_path):
    path = tmp_path / "fix.xlsx"
    shutil.copy(sample_xlsx, path)
    _set_value(path, "小樽市", "04-1", "約2件")
    assert cli("validate", path).returncode == 1
    _set_value(path, "小樽市", "04-1", 2)
    assert cli("validate", path).returncode == 0
    ws = load_workbook(path)["小樽市"]
    assert not any(cell.fill.fgColor.rgb and str(cell.fill.fgColor.rgb).endswith(c.MARK_FILL)
                   for row in ws.iter_rows() for cell in row)
    head = [cell.value for cell in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[head.index("指標ID")].value == "04-1")
    assert str(row[head.index("実績値")].fill.fgColor.rgb).endswith(c.INPUT_FILL)  # input fill back


def test_failure_before_rename_leaves_master_identical(sample_xlsx, tmp_path, monkeypatch):
    path = tmp_path / "m.xlsx"
    shutil.copy(sample_xlsx, path)
    before = digest(path)

    def boom(src, dst, *, src_dir_fd=None, dst_dir_fd=None):
        src = Path(src) if src_dir_fd is None else Path(os.readlink(f"/proc/self/fd/{src_dir_fd}")) / src
        assert src.exists() and src.stat().st_size > 0  # the temp file is complete
        raise OSError("injected failure between write and rename")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(Exception):
        recalc_file(path)
    monkeypatch.undo()
    assert digest(path) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".~renkei-")]


def test_lock_file_makes_recalc_refuse(sample_xlsx, tmp_path):
    path = tmp_path / "m.xlsx"
    shutil.copy(sample_xlsx, path)
    before = digest(path)
    (tmp_path / "~$m.xlsx").write_bytes(b"lock")
    out = cli("recalc", path)
    assert out.returncode == 2
    assert "Excel で開かれています" in out.stderr and "Traceback" not in out.stderr
    assert digest(path) == before
    assert not (tmp_path / "m_バックアップ").exists()


def test_errors_are_japanese_messages(tmp_path):
    bad = tmp_path / "壊れた.xlsx"
    bad.write_bytes(b"not a zip")
    out = cli("recalc", bad)
    assert out.returncode == 2 and "壊れた.xlsx" in out.stderr and "Traceback" not in out.stderr
    with pytest.raises(UserError):
        recalc_file(tmp_path / "ない.xlsx")


def _workbook_only(workbook_xml: str) -> bytes:
    """A package of a workbook part alone (its content type and relationships), in memory."""
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument'
                   '.spreadsheetml.sheet.main+xml"/></Types>')
        z.writestr("_rels/.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                   'officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", workbook_xml)
        # Its sheets' relationships (rId1 to rId3): a sheet whose r:id names none is a damaged part.
        z.writestr("xl/_rels/workbook.xml.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                   'relationships">' + "".join(
                       f'<Relationship Id="rId{k}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                       f'relationships/worksheet" Target="worksheets/sheet{k}.xml"/>' for k in (1, 2, 3)) + "</Relationships>")
    return buffer.getvalue()


def test_a_sheet_renders_the_same_whatever_the_bound_of_its_text_memo(sample_master_xlsm, monkeypatch):
    """apply._sheet_data keeps each text's XML once per sheet, up to a bound: past it, the
    memo starts again, and the part is the same text either way (escaping, spaces kept)."""
    from renkei_xl.core.plan_types import SheetPlan
    from renkei_xl.package.styles import Styles
    from renkei_xl.workbook import apply

    with zipfile.ZipFile(sample_master_xlsm) as z:
        text = z.read("xl/styles.xml").decode("utf-8")
    texts = ["◎", "札幌市", "◎", "a & b < c", " 前後に空白 ", "◎", "改行\nあり", "札幌市", 12, None, "◎"]
    rows = [[(t, "body") if t is not None else None for t in texts] for _ in range(3)]

    def rendered() -> str:
        return "".join(apply.render_sheet(SheetPlan("x", rows), Styles(text, "xl/styles.xml"), None, False, None))

    whole = rendered()
    monkeypatch.setattr(apply, "_KNOWN_TEXTS", 2)
    assert rendered() == whole
    assert whole.count("<is><t>◎</t></is>") == 12 and "a &amp; b &lt; c" in whole
    assert '<t xml:space="preserve"> 前後に空白 </t>' in whole and "<v>12</v>" in whole


@pytest.mark.parametrize("before,after", [
    # where Excel puts it: after workbookPr, before bookViews
    ('<workbookPr/><bookViews/>', '<workbookPr/><workbookProtection lockStructure="1"/><bookViews/>'),
    # no workbookPr: before bookViews
    ('<bookViews/>', '<workbookProtection lockStructure="1"/><bookViews/>'),
    # one already there (a password, windows locked): replaced by the tool's own
    ('<workbookPr/><workbookProtection workbookPassword="CC3D" lockWindows="1"/><bookViews/>',
     '<workbookPr/><workbookProtection lockStructure="1"/><bookViews/>'),
])
def test_the_structure_lock_goes_where_the_schema_puts_it(tmp_path, before, after):

    from renkei_xl.package.workbook import WorkbookXml
    from renkei_xl.package.zipped import Package

    head = ('<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">')
    sheets = '<sheets><sheet name="A" sheetId="1" r:id="rId1"/></sheets></workbook>'
    with Package(tmp_path / "b.xlsx", _workbook_only(head + before + sheets)) as pkg:
        workbook = WorkbookXml(pkg)
        workbook.lock_structure()
        assert workbook.text == head + after + sheets


def test_a_new_sheet_is_numbered_past_the_ids_that_are_numbers(tmp_path):
    """A sheetId written by another tool in digits Unicode has but XML's unsignedInt has not
    (「²」): str.isdigit() took it and int() raised, an unexpected error where the tool adds a
    sheet (a tool sheet staff deleted, written again by recalc); 「٣」 was read as 3."""
    from renkei_xl.package.rels import ContentTypes
    from renkei_xl.package.workbook import WorkbookXml
    from renkei_xl.package.zipped import Package

    sheets = ('<sheets><sheet name="A" sheetId="²" r:id="rId1"/><sheet name="B" sheetId="٣٣" r:id="rId2"/>'
              '<sheet name="C" sheetId="4" r:id="rId3"/></sheets></workbook>')
    with Package(tmp_path / "b.xlsx", _workbook_only(
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">' + sheets)) as pkg:
        workbook = WorkbookXml(pkg)
        assert workbook.add_sheet("D", ContentTypes(pkg)).sheet_id == "5"

"""A staff formula in a cell the command line reads, after the command line wrote its inputs
(core.calc_on_load.stale_results, refuse_stale).

The command line reads each formula's saved result. 回収ファイル取込 writes 札幌市's 実績値 and,
as 指標 holds a formula, asks Excel to calculate on opening (fullCalcOnLoad); a 実績値（手入力）
typed as =SUM(札幌市!E5,小樽市!E5) still holds the sum from before. 評価を再計算 on the command
line then judged and published that old sum as current. Now it stops naming the cell and the
step (open in Excel, save), and 入力チェック lists the cell; once Excel has saved the master
(the flag dropped, the result calculated) the same commands go through with the new sum.

Only a write that could have changed what the formula reads counts: each write that sets the
flag records the sheets it changed (the hidden name _renkei_uncalculated, added to while the
flag stands), so 入力チェック (検証結果, メニュー) followed by 評価を再計算 goes through with that
same sum, while a formula whose text cannot say what it reads (a defined name, INDIRECT, a
3-D or structured reference) still stops, as does a flagged master without the record.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Callable, Optional

import openpyxl
import pytest

from conftest import rewrite_cells, saved_by_excel, shared_build
from forked_cli import cli_run
from realbooks import parts, sheet_parts
from remote_payload import click_payload
from test_buttons import licensed  # noqa: F401  (the remote engine's licence fixture)
from renkei_xl.core import contract as c
from renkei_xl.core.calc_on_load import read_record, record_after, refuse_stale, stale_results
from renkei_xl.core.formula_refs import sheets_read
from renkei_xl.core.plan_types import CellEdit, FillEdit, NameEdit, SheetPlan, WritePlan
from renkei_xl.core.errors import UserError
from renkei_xl.core.findings import STALE_RESULT
from renkei_xl.core.model import Finding
from renkei_xl.workbook.session import load_master

FORMULA = "SUM(札幌市!E5,小樽市!E5)"      # 17 (札幌市 04-1) and 3 (小樽市 08-1) in the sample
CELL = "K2"                               # 指標's 実績値（手入力） of KPI1-1 (手入力, empty in the sample)


def cli(*args: str) -> subprocess.CompletedProcess:
    """The command in a child forked from a process that has imported the tool
    (tests/forked_cli.py): what is checked here is what a command reads and says, not its start."""
    return cli_run(list(args))


def refused(*args: str, made: Path, words: str, cell: str = f"{c.INDICATORS}!{CELL}") -> None:
    """The command stopped at the stale ``cell``, said ``words``, and made nothing at ``made``."""
    run = cli(*args)
    said = run.stdout + run.stderr
    assert run.returncode != 0 and not made.exists(), said
    assert cell in said and words in said and "Traceback" not in said, said


def excel_saves(master: Path, total: int) -> None:
    """What Excel's save leaves: calcPr with no request to calculate (conftest.saved_by_excel),
    and the staff formula with the result it calculated (``total``)."""
    saved_by_excel(master)
    indicators = sheet_parts(parts(master))[c.INDICATORS]
    rewrite_cells(master, indicators, {CELL: f'<c r="{CELL}" s="{{s}}"><f>{FORMULA}</f><v>{total}</v></c>'})


def flagged(master: Path) -> bool:
    return 'fullCalcOnLoad="1"' in parts(master)["xl/workbook.xml"].decode()


def listed_actual(master: Path, ind_id: str):
    ws = openpyxl.load_workbook(master, read_only=True)[c.LIST]
    rows = list(ws.iter_rows(values_only=True))
    top = next(i for i, r in enumerate(rows) if "指標ID" in r and "実績値" in r)
    i_id, i_actual = rows[top].index("指標ID"), rows[top].index("実績値")
    return next(r[i_actual] for r in rows[top + 1:] if r[i_id] == ind_id)


def record(master: Path) -> Optional[str]:
    """The tool's record of the sheets its writes changed since Excel calculated (None: none)."""
    m = re.search(r'<definedName name="_renkei_uncalculated" hidden="1">"([^<"]*)"</definedName>',
                  parts(master)["xl/workbook.xml"].decode())
    return m and m.group(1)


def collect_sapporo(master: Path, tmp_path: Path, staff: Callable[[Path], None] = lambda m: None) -> Path:
    """``master`` as Excel saves it with the staff formula (sum 20) and what ``staff`` adds,
    then 札幌市's return (04-1: 17 → 25) collected through the command line."""
    split = cli("split", str(master), "--outdir", str(tmp_path / "配布"))
    assert split.returncode == 0, split.stdout + split.stderr
    excel_saves(master, 20)
    staff(master)
    assert not flagged(master)
    returned = next((tmp_path / "配布").glob("*札幌市*.xlsx"))
    wb = openpyxl.load_workbook(returned)
    ws = wb["札幌市"]
    row = next(r for r in ws.iter_rows() if r[0].value == "04-1")
    value = next(cell for cell in row if cell.value in (17, "17", "17件"))
    value.value = 25
    wb.save(returned)
    done = cli("collect", str(master), str(returned))
    assert done.returncode == 0, done.stdout + done.stderr
    assert flagged(master)            # collect asked Excel to calculate (calc_on_load)
    return master


def _collected_build(folder: Path, sample: Path) -> Path:
    master = folder / "マスター.xlsm"
    shutil.copyfile(sample, master)
    return collect_sapporo(master, folder)


@pytest.fixture
def collected(sample_master_xlsm, tmp_path, tmp_path_factory) -> Path:
    """The sample master after ``collect_sapporo``, in the test's own folder with the split
    and the return beside it: made once per run (conftest.shared_build: a split and a collect
    in two forked commands, about 1 s of each of 7 tests) and copied whole, so a test may
    write it as it likes."""
    built = shared_build(tmp_path_factory, "stale-results-collected", lambda f: _collected_build(f, sample_master_xlsm))
    shutil.copytree(built.parent, tmp_path, dirs_exist_ok=True)
    return tmp_path / built.name


@pytest.fixture
def excel_saved(sample_master_xlsm, tmp_path) -> Path:
    """The sample master as Excel saves it with the staff formula (its sum, 20, calculated)."""
    master = tmp_path / "マスター.xlsm"
    shutil.copyfile(sample_master_xlsm, master)
    excel_saves(master, 20)
    return master


def stale(master: Path) -> list[str]:
    return sorted(f.place for f in load_master(master).findings if f.type == STALE_RESULT.code)


def without_record(src: Path, dst: Path) -> Path:
    """``src`` as a version before the record leaves it: flagged, no _renkei_uncalculated."""
    with zipfile.ZipFile(src) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    book, n = re.subn(r'<definedName name="_renkei_uncalculated"[^>]*>[^<]*</definedName>', "",
                      members["xl/workbook.xml"].decode())
    assert n == 1
    members["xl/workbook.xml"] = book.encode()
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in members.items():
            out.writestr(name, data)
    return dst


def add_staff_sheet(master: Path, name: str, cells: str) -> None:
    """A worksheet of staff's own added at the end, as Excel saves one (``cells``: row 1)."""
    with zipfile.ZipFile(master) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    book = members["xl/workbook.xml"].decode()
    quoted = name.replace("&", "&amp;").replace('"', "&quot;")
    book = book.replace("</sheets>", f'<sheet name="{quoted}" sheetId="90" r:id="rId90"/></sheets>')
    members["xl/workbook.xml"] = book.encode()
    members["xl/_rels/workbook.xml.rels"] = members["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rId90" Type="http://schemas.openxmlformats.org/officeDocument/'
                             b'2006/relationships/worksheet" Target="worksheets/sheet90.xml"/></Relationships>')
    members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/worksheets/sheet90.xml" ContentType="application/'
                     b'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
    members["xl/worksheets/sheet90.xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<sheetData><row r="1">{cells}</row></sheetData></worksheet>').encode()
    with zipfile.ZipFile(master, "w", zipfile.ZIP_DEFLATED) as out:
        for part, data in members.items():
            out.writestr(part, data)


def test_recalc_after_collect_stops_at_a_read_formula_and_goes_through_once_excel_saved(collected):
    before = collected.read_bytes()
    run = cli("recalc", str(collected))
    said = run.stdout + run.stderr
    assert run.returncode != 0, said
    assert f"{c.INDICATORS}!{CELL}" in said, said
    assert "Excel でマスターを開いて上書き保存してから" in said, said
    assert "Traceback" not in said
    assert collected.read_bytes() == before      # nothing written: 一覧 keeps no stale sum

    excel_saves(collected, 28)                   # Excel calculated 25 + 3 and dropped the flag
    assert not [f for f in load_master(collected).findings if f.type == STALE_RESULT.code]
    run = cli("recalc", str(collected))
    assert run.returncode == 0, run.stdout + run.stderr
    assert str(listed_actual(collected, "KPI1-1")).startswith("28"), listed_actual(collected, "KPI1-1")


def test_validate_and_export_name_the_cell_the_same_way(collected, tmp_path):
    findings = [f for f in load_master(collected).findings if f.type == STALE_RESULT.code]
    assert [(f.place, f.indicator_id, f.severity) for f in findings] == [(f"{c.INDICATORS}!{CELL}", "KPI1-1", "エラー")]
    assert "実績値（手入力）" in findings[0].message

    run = cli("validate", str(collected))
    assert f"{c.INDICATORS}!{CELL}" in run.stdout + run.stderr, run.stdout + run.stderr
    assert "実績値（手入力）は数式" in run.stdout + run.stderr

    out = tmp_path / "確定版.xlsx"
    refused("export", str(collected), "-o", str(out), made=out, words="上書き保存してから")


def test_rollover_stops_too_and_makes_no_new_master(collected, tmp_path):
    """Next year's master carries this year's 実績値 as 前年度実績: not from a stale sum."""
    target = tmp_path / "2024年度_マスター.xlsm"
    refused("rollover", str(collected), "-o", str(target), made=target, words="次年度のマスターを作ることはしません")


def test_validate_then_recalc_goes_through_with_the_sum_validate_did_not_change(excel_saved, tmp_path):
    """Staff run 入力チェック and then 評価を再計算 (the demo does). 入力チェック writes 検証結果 and
    メニュー and flags the master; the sum reads 札幌市 and 小樽市, which it did not write, so
    its saved result is current and recalc publishes it. The same master as a version before
    the record leaves it (flagged, nothing said of what changed) still stops."""
    run = cli("validate", str(excel_saved))
    assert run.returncode == 0, run.stdout + run.stderr
    assert flagged(excel_saved) and record(excel_saved) == f"{c.FINDINGS}/{c.MENU}"
    assert stale(excel_saved) == []
    older = without_record(excel_saved, tmp_path / "旧版.xlsm")

    run = cli("recalc", str(excel_saved))
    assert run.returncode == 0, run.stdout + run.stderr
    assert str(listed_actual(excel_saved, "KPI1-1")).startswith("20"), listed_actual(excel_saved, "KPI1-1")

    assert stale(older) == [f"{c.INDICATORS}!{CELL}"]
    run = cli("recalc", str(older))
    said = run.stdout + run.stderr
    assert run.returncode != 0 and f"{c.INDICATORS}!{CELL}" in said and "上書き保存してから" in said, said


def test_after_collect_the_record_names_the_municipality_and_after_excel_saves_it_starts_afresh(collected):
    assert "札幌市" in record(collected).split("/")
    assert stale(collected) == [f"{c.INDICATORS}!{CELL}"]

    excel_saves(collected, 28)            # the flag dropped; Excel leaves the tool's name as it is
    assert record(collected) is not None and stale(collected) == []
    run = cli("validate", str(collected))
    assert run.returncode == 0, run.stdout + run.stderr
    assert record(collected) == f"{c.FINDINGS}/{c.MENU}"        # 札幌市 was calculated by Excel
    run = cli("recalc", str(collected))
    assert run.returncode == 0, run.stdout + run.stderr
    assert str(listed_actual(collected, "KPI1-1")).startswith("28"), listed_actual(collected, "KPI1-1")


# Formulas whose text cannot say which sheets they read (in 指標's 実績値（手入力）, next to
# the sum in K2, which can): each may read what 入力チェック wrote.
UNTOLD = {"K3": "INDIRECT(&quot;札幌市!E5&quot;)",       # a reference made from text
          "K4": f"{c.N_THRESHOLD}*100",                  # a defined name
          "K5": "SUM('札幌市:小樽市'!E5)",                # a 3-D reference
          "K6": "SUM(実績表[実績値])",                    # a structured reference
          "K7": "MyTotal(札幌市!E5)"}                    # a function staff wrote in VBA


def test_a_formula_whose_text_cannot_tell_what_it_reads_stops_after_validate(excel_saved):
    indicators = sheet_parts(parts(excel_saved))[c.INDICATORS]
    rewrite_cells(excel_saved, indicators, {ref: f'<c r="{ref}" s="{{s}}"><f>{f}</f><v>1</v></c>'
                                            for ref, f in UNTOLD.items()})
    run = cli("validate", str(excel_saved))
    assert run.returncode == 0, run.stdout + run.stderr
    assert stale(excel_saved) == sorted(f"{c.INDICATORS}!{ref}" for ref in UNTOLD)     # K2 not among them
    run = cli("recalc", str(excel_saved))
    said = run.stdout + run.stderr
    assert run.returncode != 0 and f"{c.INDICATORS}!K3" in said and f"{c.INDICATORS}!{CELL}" not in said, said


STAFF = "it's 集計"        # a name Excel quotes, with a quote in it: 'it''s 集計'!A1


def test_a_formula_reading_a_staff_sheet_whose_formula_reads_a_collected_sheet_stops(sample_master_xlsm, tmp_path):
    """K2 sums a staff sheet whose own formula adds 札幌市 and 小樽市: after collect wrote
    札幌市, Excel's calculation changes the staff sheet and then K2, so K2 is stale though
    its own text names neither. After 入力チェック alone it is not."""
    def staff(master: Path) -> None:
        add_staff_sheet(master, STAFF, '<c r="A1"><f>札幌市!E5+小樽市!E5</f><v>20</v></c>')
        indicators = sheet_parts(parts(master))[c.INDICATORS]
        rewrite_cells(master, indicators, {CELL: f'<c r="{CELL}" s="{{s}}"><f>SUM(\'it\'\'s 集計\'!A1)</f><v>20</v></c>'})

    validated = tmp_path / "入力チェック" / "m.xlsm"
    validated.parent.mkdir()
    shutil.copyfile(sample_master_xlsm, validated)
    excel_saves(validated, 20)
    staff(validated)
    run = cli("validate", str(validated))
    assert run.returncode == 0 and stale(validated) == [], run.stdout + run.stderr

    master = tmp_path / "マスター.xlsm"
    shutil.copyfile(sample_master_xlsm, master)
    collect_sapporo(master, tmp_path, staff)
    assert stale(master) == [f"{c.INDICATORS}!{CELL}"]


def test_the_buttons_face_reads_the_open_book_and_says_nothing(collected, licensed):  # noqa: F811
    """In Excel the open book is calculated as values are written: the live reader (the
    remote engine, as the server runs a click) never asks whether a result is stale."""
    import xlwings as xw
    from xlwings.pro._xlremote import App

    from renkei_xl.excel.engines import live_book

    assert [f.place for f in load_master(collected).findings if f.type == STALE_RESULT.code] == [f"{c.INDICATORS}!{CELL}"]
    live = live_book(xw.Book(impl=App(apps=None, add_book=False).books.open(json=click_payload(collected))))
    assert not [f for f in live.read().findings if f.type == STALE_RESULT.code]


def test_a_master_the_tool_built_carries_the_flag_but_no_formula(sample_master_xlsm):
    assert flagged(sample_master_xlsm)
    assert not [f for f in load_master(sample_master_xlsm).findings if f.type == STALE_RESULT.code]


def test_a_setting_and_a_municipality_value_are_named_too(sample_master_xlsm, tmp_path):
    """A formula in 設定's 概ね達成閾値 and in a municipality's 実績値, on a master asking to be
    calculated: each named with what it is read as. A formula of numbers alone (=6+11, a sum
    typed in a cell) refers to nothing a write could change: not named."""
    master = tmp_path / "m.xlsm"
    shutil.copyfile(sample_master_xlsm, master)
    sheets = sheet_parts(parts(master))
    names = dict(load_master_names(master))
    threshold = names[c.N_THRESHOLD]
    rewrite_cells(master, sheets[c.SETTINGS], {threshold: f'<c r="{threshold}" s="{{s}}"><f>ROUND(0.85,2)</f><v>0.85</v></c>'})
    rewrite_cells(master, sheets["小樽市"], {"E5": '<c r="E5" s="{s}"><f>SUM(1,2)</f><v>3</v></c>',
                                             "E6": '<c r="E6" s="{s}"><f>6+11</f><v>17</v></c>'})
    found = {(f.place, f.indicator_id) for f in load_master(master).findings if f.type == STALE_RESULT.code}
    assert found == {(f"{c.SETTINGS}!{threshold}", ""), ("小樽市!E5", "08-1")}
    with pytest.raises(UserError, match="上書き保存してから"):
        from renkei_xl.workbook.session import recalc_file
        recalc_file(master)


def load_master_names(master: Path):
    from renkei_xl.package.workbook import WorkbookXml
    from renkei_xl.package.zipped import Package

    with Package(master) as pkg:
        for name, (sheet, ref) in WorkbookXml(pkg).workbook_names().items():
            if sheet == c.SETTINGS:
                yield name, ref.replace("$", "").split(":")[0]


# ------------------------------------------------------------------ the rule

def _read(sheet, ref):
    return {("指標", "K2"): ("KPI1-1", "実績値（手入力）"), ("設定", "C5"): ("", "概ね達成閾値")}.get((sheet, ref))


def test_the_rule_needs_the_flag_and_a_read_cell():
    formulas = {"指標": ["K2", "Z9"], "設定": ["C5"], "職員": ["A1"]}
    assert stale_results(False, formulas, _read) == []
    found = stale_results(True, formulas, _read)
    assert [(f.place, f.indicator_id, f.severity) for f in found] == [("指標!K2", "KPI1-1", "エラー"),
                                                                       ("設定!C5", "", "エラー")]


def test_the_refusal_names_five_cells_and_counts_the_rest():
    found = [STALE_RESULT.at("指標", f"K{r}", "x", label="目標値") for r in range(2, 10)]
    refuse_stale([Finding("other", "エラー", "指標", "K1", "x", "")], "確定版を書き出す")   # no stale: nothing
    with pytest.raises(UserError) as exc:
        refuse_stale(found, "確定版を書き出す")
    text = str(exc.value)
    assert "指標!K2、指標!K3、指標!K4、指標!K5、指標!K6 ほか 3 セル" in text
    assert "確定版を書き出すことはしません" in text


READS = [   # (formula as the file stores it, the sheets it reads from 指標; None: cannot tell)
    ("SUM(札幌市!E5,小樽市!E5)", {"札幌市", "小樽市"}),
    ("SUM('札幌 市'!E5:E9)", {"札幌 市"}),
    ("'it''s'!A1+1", {"it's"}),
    ("SUM(小樽市!E5:E9,E2)", {"小樽市", "指標"}),          # a reference without a sheet: its own
    ("K3+1", {"指標"}),
    ("COUNTIF(一覧!H:H,\"◎\")", {"一覧"}),
    ("SUM(札幌市!5:5)", {"札幌市"}),
    ("SUM($1:$3)", {"指標"}),
    ("_xlfn.XLOOKUP(A2,札幌市!A:A,札幌市!E:E)", {"札幌市", "指標"}),
    ("OFFSET(札幌市!A1,1,1)", {"札幌市"}),
    ("IF(TRUE,\"it's 集計!A1\",0)", set()),                 # a sheet's name inside a text reads nothing
    ("'Sheet1'!A1&\"x\"", {"sheet1"}),
    ("LOG10(札幌市!E5)", {"札幌市"}),
    ("'Sheet1:Sheet3'!A1", None),                            # 3-D
    ("SUM(Sheet1:Sheet3!A1)", None),
    ("[1]Sheet1!A1", None),                                  # another workbook
    ("'[1]Sheet 1'!A1", None),
    ("SUM(Table1[Col])", None),                              # structured
    ("INDIRECT(\"札幌市!E5\")", None),
    ("概ね達成閾値*2", None),                                  # a defined name
    ("ABCD1+1", None),                                       # a name, not a cell (past XFD)
    ("_xlfn.LET(_xlpm.x,札幌市!E5,_xlpm.x)", None),
    ("TODAY()-1", None),                                     # a function outside the list
    ("MyTotal(札幌市!E5)", None),
]


@pytest.mark.parametrize("formula, sheets", READS)
def test_which_sheets_a_formula_reads(formula, sheets):
    found = sheets_read(formula, "指標")
    assert found == (None if sheets is None else {s.casefold() for s in sheets})


@pytest.mark.parametrize("formula", [f for f, _ in READS])
def test_the_operands_are_openpyxls(formula):
    """What is read as a reference, a name or a function is what openpyxl's tokenizer makes
    of the same text: each of its range operands gives a sheet (or "cannot tell") here."""
    from openpyxl.formula.tokenizer import Token, Tokenizer

    tokens = Tokenizer("=" + formula).items
    ranges = [t.value for t in tokens if t.type == Token.OPERAND and t.subtype == Token.RANGE]
    told = [sheets_read(r, "指標") for r in ranges if r.upper() not in ("TRUE", "FALSE")]
    functions = [t.value[:-1] for t in tokens if t.type == Token.FUNC and t.subtype == Token.OPEN]
    untold = any(f is None for f in told) or any(sheets_read(f + "(1)", "指標") is None for f in functions)
    whole = sheets_read(formula, "指標")
    assert (whole is None) == untold, (ranges, functions)
    if whole is not None:
        assert whole == frozenset().union(*told), ranges


def _plan(*sheets, cells=()):
    return WritePlan([SheetPlan(s) for s in sheets], [CellEdit(s, 2, 5, 1) for s in cells])


def test_the_record_starts_with_the_flag_and_grows_while_it_stands():
    # the write that sets the flag starts afresh, whatever an earlier one left
    assert record_after(_plan("検証結果", cells=["メニュー"]), False, True, '"札幌市"') == (True, '"検証結果/メニュー"')
    # on a flagged master: added to, case as Excel compares names; the same sheets change nothing
    assert record_after(_plan("一覧", cells=["札幌市"]), True, False, '"検証結果/メニュー"') == \
        (True, '"検証結果/メニュー/一覧/札幌市"')
    assert record_after(_plan("Sheet1"), True, False, '"sheet1"') == (False, '"sheet1"')
    # unknown stays unknown; no flag before or after: left alone
    assert record_after(_plan("一覧"), True, False, None) == (False, None)
    assert record_after(_plan("一覧"), False, False, '"x"') == (False, None)
    # a quote in a sheet's name is doubled, as in any string constant
    assert record_after(_plan('a"b'), False, True, None) == (True, '"a""b"')
    assert read_record('"a""b/c"') == {'a"b', "c"}
    # marks and names change no sheet's values
    assert record_after(WritePlan(fills=[FillEdit("小樽市", 2, 5, "FFC7CE")], names=[NameEdit("x", '"1"')]),
                        False, True, None) == (True, '""')
    assert read_record('""') == frozenset()
    # longer than a string constant Excel takes: dropped, which leaves "unknown"
    long = _plan(*[f"シート{i:02d}の名前はとても長いので" for i in range(20)])
    assert record_after(long, True, False, '"一覧"') == (True, None)
    assert record_after(long, False, True, '"一覧"') == (True, None)        # not a record left from before
    assert record_after(long, False, True, None) == (False, None)
    # counted as Excel counts, in UTF-16 units: 10 names of 13 characters, 𠮷 two units each,
    # are 139 characters but 259 units; one name fewer (233 units) is recorded
    astral = [f"{i}" + "𠮷" * 12 for i in range(10)]
    assert len("/".join(astral)) <= 255
    assert record_after(_plan(*astral), False, True, None) == (False, None)
    assert record_after(_plan(*astral[:9]), False, True, None) == (True, '"' + "/".join(astral[:9]) + '"')
    for odd in (None, "一覧!A1", '"a"b"', "="):
        assert read_record(odd) is None


def test_the_rule_with_a_record_counts_what_may_read_a_changed_sheet():
    formulas = {"指標": ["K2", "K3"], "設定": ["C5"]}
    cell_reads = {("指標", "K2"): frozenset({"札幌市"}), ("指標", "K3"): None, ("設定", "C5"): frozenset({"職員"})}
    sheet_reads = {"札幌市": frozenset(), "職員": frozenset({"小樽市"}), "小樽市": frozenset({"職員"})}

    def found(changed):
        return [f.place for f in stale_results(True, formulas, _read_all, changed,
                                               lambda s, r: cell_reads[(s, r)], sheet_reads.get)]
    assert found(None) == ["指標!K2", "指標!K3", "設定!C5"]               # unknown: every one
    assert found(frozenset({"検証結果"})) == ["指標!K3"]                  # only what cannot tell
    assert found(frozenset({"札幌市"})) == ["指標!K2", "指標!K3"]
    assert found(frozenset({"小樽市"})) == ["指標!K3", "設定!C5"]         # through 職員 (a cycle too)
    assert stale_results(False, formulas, _read_all, None) == []


def _read_all(sheet, ref):
    return ("", "x")


def test_formula_texts_as_excel_stores_them():
    """A shared formula's other cells hold no text: they read the sheets of the first cell's.
    A data table holds none at all (may read anything); entities are the formula's own text."""
    from renkei_xl.workbook.sheet_checks import formula_texts

    xml = ('<worksheet><sheetData><row r="2">'
           '<c r="K2"><f t="shared" ref="K2:K4" si="0">札幌市!E5&amp;"&lt;"</f><v>1</v></c>'
           '<c r="K3"><f t="shared" si="0"/><v>2</v></c>'
           '<c r="K4"><x:f t="shared" si="7"/><v>2</v></c>'
           '<c r="K5"><f t="dataTable" ref="K5:K6" dt2D="0" r1="A1"/><v>3</v></c>'
           '<c r="K7"><v>4</v></c></row></sheetData></worksheet>').encode()
    assert formula_texts(xml) == {"K2": '札幌市!E5&"<"', "K3": '札幌市!E5&"<"', "K4": None, "K5": None}


def test_split_stops_at_a_municipalitys_stale_answer_and_not_at_one_it_does_not_hand_out(
        sample_master_xlsm, collected, tmp_path):
    """A 実績値 of 小樽市 that is a formula, on a master a write flagged: split handed its old
    result to 小樽市 as the figure issued, and a file returned unchanged brought it back as
    theirs. Split now stops as 評価を再計算 does, naming the cell, and makes no file. A stale
    result split does not hand out (指標's 実績値（手入力）, ``collected``) does not stop it."""
    master = tmp_path / "m.xlsm"
    shutil.copyfile(sample_master_xlsm, master)
    rewrite_cells(master, sheet_parts(parts(master))["小樽市"], {"E5": '<c r="E5" s="{s}"><f>SUM(1,2)</f><v>3</v></c>'})
    outdir = tmp_path / "小樽市へ"
    refused("split", str(master), "--outdir", str(outdir), made=outdir, words="入力用ファイルを作ることはしません",
            cell="小樽市!E5")
    assert stale(collected) == [f"{c.INDICATORS}!{CELL}"]
    run = cli("split", str(collected), "--outdir", str(tmp_path / "再配布"))
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_other_cells_of_an_array_formula_are_its_own(sample_master_xlsm, tmp_path):
    """An array formula over 小樽市!E5:E6 reading 札幌市 (Excel's {=…} over two cells, or an
    Excel 365 formula spilling down): only E5 holds the formula, E6 its second result. After
    札幌市's return was collected, E6's old result was read as current. Now every cell of the
    array counts as its formula, and reads what it reads: the same array over 岩見沢市!E5:E6
    reading 江別市, which nothing changed, is not named."""
    def arrays(master: Path) -> None:
        sheets = sheet_parts(parts(master))
        for sheet, source in (("小樽市", "札幌市"), ("岩見沢市", "江別市")):
            rewrite_cells(master, sheets[sheet], {
                "E5": f'<c r="E5" s="{{s}}"><f t="array" ref="E5:E6">{source}!E5:E6</f><v>1</v></c>',
                "E6": '<c r="E6" s="{s}"><v>2</v></c>'})

    master = tmp_path / "マスター.xlsm"
    shutil.copyfile(sample_master_xlsm, master)
    collect_sapporo(master, tmp_path, arrays)
    assert stale(master) == sorted([f"{c.INDICATORS}!{CELL}", "小樽市!E5", "小樽市!E6"])


def test_an_array_area_is_looked_up_only_until_the_scan_has_passed_it(monkeypatch):
    """Every cell without a formula was looked up in the sheet's array areas while one was
    known, down to the sheet's last row: one 2×2 array at the top of a 20,000-row 指標 tripled
    the scan of every read of the master. The cells are in row order, so an area is dropped
    once the scan is below it; the cells of a later, longer area are still its own.
    Counted by the lookups made (parse_ref), not timed."""
    from renkei_xl.core import refs
    from renkei_xl.workbook.sheet_checks import formula_cells, formula_texts

    rows = ['<row r="1"><c r="A1"><f t="array" ref="A1:B2">X!A1:B2</f><v>1</v></c><c r="B1"><v>2</v></c>'
            '<c r="D1"><f t="array" ref="D1:D6">Y!A1:A6</f><v>1</v></c></row>']
    rows += [f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}"><v>{r}</v></c><c r="C{r}"><v>{r}</v></c>'
             f'<c r="D{r}"><v>{r}</v></c></row>' for r in range(2, 2001)]
    xml = ("<worksheet><sheetData>" + "".join(rows) + "</sheetData></worksheet>").encode()
    calls = []
    real = refs.parse_ref
    monkeypatch.setattr(refs, "parse_ref", lambda ref: calls.append(ref) or real(ref))
    cells = formula_cells({"s": xml}, saved_too=True)["s"]
    assert sorted(cells) == ["A1", "A2", "B1", "B2", "D1", "D2", "D3", "D4", "D5", "D6"]
    assert len(calls) < 40, len(calls)      # the rows of the areas and the first below them, not 2,000
    calls.clear()
    texts = formula_texts(xml)
    assert texts == {"A1": "X!A1:B2", "B1": "X!A1:B2", "A2": "X!A1:B2", "B2": "X!A1:B2",
                     "D1": "Y!A1:A6", **{f"D{r}": "Y!A1:A6" for r in range(2, 7)}}
    assert len(calls) < 40, len(calls)


def test_history_import_of_a_stale_older_master_names_that_master(collected, tmp_path):
    """``history import LATER OLDER``: the stale cell is the older master's, and the refusal
    says so by its name. It said 「このマスターは…Excel でマスターを開いて上書き保存して」 with no
    name, of a command given two masters, and staff opened and saved the later one (qa-128)."""
    later = tmp_path / "2024年度_マスター.xlsm"
    shutil.copyfile(collected, tmp_path / "前.xlsm")
    excel_saves(tmp_path / "前.xlsm", 28)              # a copy Excel saved: rolled over as it is
    done = cli("rollover", str(tmp_path / "前.xlsm"), "-o", str(later))
    assert done.returncode == 0, done.stdout + done.stderr
    before = later.read_bytes()
    run = cli("history", "import", str(later), str(collected))
    said = run.stdout + run.stderr
    assert run.returncode == 2 and later.read_bytes() == before, said
    assert f"「{collected.name}」: 数式のセル {c.INDICATORS}!{CELL} " in said and later.name not in said, said

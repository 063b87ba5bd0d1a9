"""A staff formula in a cell the command line reads, after the command line wrote its inputs
(core.calc_on_load.stale_results, refuse_stale).

The command line reads each formula's saved result. 回収ファイル取込 writes 札幌市's 実績値 and,
as 指標 holds a formula, asks Excel to calculate on opening (fullCalcOnLoad); a 実績値（手入力）
typed as =SUM(札幌市!E5,小樽市!E5) still holds the sum from before. 評価を再計算 on the command
line then judged and published that old sum as current. Now it stops naming the cell and the
step (open in Excel, save), and 入力チェック lists the cell; once Excel has saved the master
(the flag dropped, the result calculated) the same commands go through with the new sum.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from conftest import rewrite_cells, saved_by_excel
from realbooks import parts, sheet_parts
from remote_payload import payload_from_file
from test_buttons import licensed  # noqa: F401  (the remote engine's licence fixture)
from renkei_xl.core import contract as c
from renkei_xl.core.calc_on_load import refuse_stale, stale_results
from renkei_xl.core.errors import UserError
from renkei_xl.core.findings import STALE_RESULT
from renkei_xl.core.model import Finding
from renkei_xl.workbook.session import load_master

FORMULA = "SUM(札幌市!E5,小樽市!E5)"      # 17 (札幌市 04-1) and 3 (小樽市 08-1) in the sample
CELL = "K2"                               # 指標's 実績値（手入力） of KPI1-1 (手入力, empty in the sample)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "renkei_xl.cli", *args], capture_output=True, text=True,
                          timeout=300)


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


@pytest.fixture
def collected(sample_master_xlsm, tmp_path) -> Path:
    """The sample master as Excel saves it with the staff formula (sum 20), then 札幌市's
    return (04-1: 17 → 25) collected through the command line."""
    master = tmp_path / "マスター.xlsm"
    shutil.copyfile(sample_master_xlsm, master)
    split = cli("split", str(master), "--outdir", str(tmp_path / "配布"))
    assert split.returncode == 0, split.stdout + split.stderr
    excel_saves(master, 20)
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
    run = cli("export", str(collected), "-o", str(out))
    said = run.stdout + run.stderr
    assert run.returncode != 0 and not out.exists(), said
    assert f"{c.INDICATORS}!{CELL}" in said and "上書き保存してから" in said, said


def test_rollover_stops_too_and_makes_no_new_master(collected, tmp_path):
    """Next year's master carries this year's 実績値 as 前年度実績: not from a stale sum."""
    target = tmp_path / "2024年度_マスター.xlsm"
    run = cli("rollover", str(collected), "-o", str(target))
    said = run.stdout + run.stderr
    assert run.returncode != 0 and not target.exists(), said
    assert f"{c.INDICATORS}!{CELL}" in said and "次年度のマスターを作ることはしません" in said, said


def test_the_buttons_face_reads_the_open_book_and_says_nothing(collected, licensed):  # noqa: F811
    """In Excel the open book is calculated as values are written: the live reader (the
    remote engine, as the server runs a click) never asks whether a result is stale."""
    import xlwings as xw
    from xlwings.pro._xlremote import App

    from renkei_xl.excel.engines import live_book

    assert [f.place for f in load_master(collected).findings if f.type == STALE_RESULT.code] == [f"{c.INDICATORS}!{CELL}"]
    live = live_book(xw.Book(impl=App(apps=None, add_book=False).books.open(json=payload_from_file(collected))))
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

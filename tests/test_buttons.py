"""The buttons' Python side, driven through xlwings' remote engine on real master files.

Each test builds a real master (.xlsm), turns the saved file into the payload an xlwings
client would send, runs an entry point of renkei_xl.excel.buttons on
``xw.Book(json=payload)``, replays the emitted actions on a model of the workbook and
compares the result with what the command line writes into the same workbook, and with
what renkei_xl.core.plan says the sheets hold and how they look.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Optional, Sequence

import pytest
from openpyxl import load_workbook

from conftest import rewrite_cells, saved_by_excel, saved_once, value_key
from remote_payload import (CLIENT_ACTIONS, EXCEL_KEY, KNOWN_ACTIONS, LICENSE_ENV, OFFICE_JS, UNPROTECT, VBA,
                            ClientRefused, ExcelError, apply_actions, applied_looks, click_payload, file_merged_areas,
                            file_protection, file_rows, file_grid, look_attrs, payload_after, payload_from_file,
                            read_both_ways, remote_book, payload_book, saved_book)
from renkei_xl.core import contract as c
from renkei_xl.core.alerts import BUTTON_CHARS, ELLIPSIS
from renkei_xl.core.errors import out_of_memory as memory_run_out
from renkei_xl.cli import main as cli_main
from renkei_xl.cycle.distribute import file_name
from renkei_xl.excel import buttons
from renkei_xl.excel.client import fit_actions
from renkei_xl.excel.book import width_to_points
from renkei_xl.cycle.export import default_name
from renkei_xl.core.layout import findings_grid
from renkei_xl.core.looks import BORDER_COLOR, LOOKS
from renkei_xl.core.model import ACHIEVED, MISSED, NEARLY
from renkei_xl.core.refs import column_letter
from renkei_xl.cli.workbook import init_master
from renkei_xl.workbook.session import recalc_file, validate_file

REPO = Path(__file__).resolve().parents[1]
JAPANESE_MASTER = Path("連携事業") / "さっぽろ圏_2023年度_マスター.xlsm"
BAD_VALUE = "約10件"
BAD_MUNICIPALITY = "小樽市"
# 実績値 a return sends that collect holds (not imported): a rough figure, and a long text
# whose quote in 取込履歴 and in the messages is cut (𠮷: two UTF-16 units, as MsgBox counts).
HELD_TEXTS = (BAD_VALUE, "約" + "𠮷" * 120 + "件", "10件程度" * 40)


@pytest.fixture(scope="module")
def licensed():
    """The remote engine, with the noncommercial key set for these tests only.

    xlwings registers its remote engine when it is imported and the key is present; the
    test session imported it before this fixture ran, so the engine is added here.
    """
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(*LICENSE_ENV)
        import xlwings as xw

        if "remote" not in [e.name for e in xw.engines]:
            from xlwings.main import Engine
            from xlwings.pro import _xlremote

            xw.engines.add(Engine(impl=_xlremote.engine))
        yield


@pytest.fixture(scope="module")
def master(tmp_path_factory, licensed) -> Path:
    return init_master(tmp_path_factory.mktemp("master") / "master.xlsm", sample="fy2023")


def _copy(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    return dst


def _run(entry, payload: dict):
    book = remote_book(payload)
    entry(book)
    actions = book.json()["actions"]
    return apply_actions(payload, actions), actions


def _only_alert(applied) -> dict:
    assert len(applied.alerts) == 1, applied.alerts
    return applied.alerts[0]


def _entry_cell(path: Path, municipality: str, header: str = "実績値") -> tuple[str, int]:
    """(cell, row) of the first filled ``header`` cell on a municipality sheet (``file_grid``;
    with ``PAYLOAD_BOTH_WAYS`` against openpyxl's normal load, which the test read before)."""
    def read(rows):
        for top, row in enumerate(rows[:c.HEADER_SEARCH_ROWS], start=1):
            for col, value in enumerate(row, start=1):
                if value == header:
                    for r in range(top + 1, len(rows) + 1):
                        if rows[r - 1][col - 1] not in (None, ""):
                            return f"{column_letter(col)}{r}", r
        raise AssertionError(f"no {header} on {municipality}")
    return read_both_ways(lambda: read(file_grid(path, municipality)),
                          lambda: read([list(r) for r in saved_book(path)[municipality].iter_rows(values_only=True)]),
                          f"{path} {municipality}")


def _put(path: Path, sheet: str, ref: str, value) -> None:
    """``value`` typed into ``sheet``!``ref`` and saved by openpyxl, once per content and edit
    (conftest.saved_once: most tests put the same bad value into a copy of the module's master)."""
    saved_once(path, ("_put", sheet, ref, value_key(value)), lambda p: _put_now(p, sheet, ref, value))


def _put_now(path: Path, sheet: str, ref: str, value) -> None:
    _put_cells_now(path, sheet, {ref: value})


def _put_cells(path: Path, sheet: str, cells: dict) -> None:
    """``_put`` of several cells of one sheet in one load and save: what staff type before
    they save once, and the same parts as a save after each (a rolled-over master's load
    and save is 0.3 s)."""
    saved_once(path, ("_put_cells", sheet, tuple((ref, value_key(v)) for ref, v in cells.items())),
               lambda p: _put_cells_now(p, sheet, cells))


def _put_cells_now(path: Path, sheet: str, cells: dict) -> None:
    wb = load_workbook(path, keep_vba=True)
    for ref, value in cells.items():
        wb[sheet][ref] = value
    wb.save(path)


def _findings_rows(findings) -> list[list[object]]:
    rows = findings_grid(findings).padded()
    return [[v for v in row] for row in rows]


def _cli_rows(path: Path, sheet: str) -> list[list[object]]:
    """A sheet the command line wrote, as rows; an empty string as an empty cell.

    The package writer keeps "" (e.g. an empty 実施状況) as an empty inline string, while
    Excel leaves a cell empty when Range.Value is set to "": the same blank either way.
    """
    return _trim([[None if v == "" else v for v in row] for row in file_rows(path, sheet)])


def _plan_for(entry, payload: dict):
    """The plan the button builds for this payload (the メニュー time aside)."""
    import datetime as dt

    from renkei_xl.excel.apply import master_state
    from renkei_xl.excel.engines import live_book
    from renkei_xl.core.pipeline import recalculate
    from renkei_xl.core.plan import recalc_plan, validate_plan

    live = live_book(remote_book(payload))
    data = live.read()
    result = recalculate(data.settings, data.indicators, data.entries, data.findings)
    make = recalc_plan if entry is buttons.recalc else validate_plan
    return make(master_state(live), data, result, "", dt.datetime(2024, 4, 1))


def _plan_rows(sheet_plan) -> list[list[object]]:
    return _trim([[None if cell is None or cell[0] == "" else cell[0] for cell in row]
                  for row in sheet_plan.rows])


def _address(rect) -> str:
    from renkei_xl.core.refs import cell_ref

    r1, c1, r2, c2 = rect
    return cell_ref(r1, c1) if (r1, c1) == (r2, c2) else f"{cell_ref(r1, c1)}:{cell_ref(r2, c2)}"


def _trim(rows: list[list[object]]) -> list[list[object]]:
    width = max((i + 1 for row in rows for i, v in enumerate(row) if v is not None), default=0)
    rows = [row[:width] + [None] * (width - len(row[:width])) for row in rows]
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    return rows


# -------------------------------------------------------------------- recalc, check

def test_masters_of_one_project_have_its_streams_read_once_for_their_first_recalc(master, tmp_path, monkeypatch):
    """Every master built for the same sheets holds the same VBA project: their first recalc
    adds the same document module (apply._document_modules). Each read every stream of the
    project again in Python first (vba.read.stored_streams), a server's worker paying it for
    each master; now the rebuilt project is kept per project (sources.own_project_with), and
    each copy still gets it."""
    import zipfile as zf

    from renkei_xl.vba import read

    calls: list[int] = []
    real = read.stored_streams
    monkeypatch.setattr(read, "stored_streams", lambda data: calls.append(len(data)) or real(data))
    with zf.ZipFile(master) as z:
        built = z.read("xl/vbaProject.bin")
    projects = []
    for name in ("a.xlsm", "b.xlsm"):
        recalc_file(_copy(master, tmp_path / name))
        with zf.ZipFile(tmp_path / name) as z:
            projects.append(z.read("xl/vbaProject.bin"))
    assert projects[0] == projects[1] != built      # the document module added to both
    assert len(calls) <= 1, calls


def test_recalc_writes_the_same_list_summary_and_findings_as_the_command_line(master, tmp_path, fy2023):
    cli = _copy(master, tmp_path / "cli.xlsm")
    result, written = recalc_file(cli)
    payload = click_payload(_copy(master, tmp_path / "button.xlsm"))
    applied, actions = _run(buttons.recalc, payload)

    for sheet in (c.LIST, c.SUMMARY, c.FINDINGS):
        assert applied.rows(sheet) == _cli_rows(written.path, sheet), sheet

    # 評価 per 指標ID as the official FY2023 list prints them
    rows = applied.rows(c.LIST)
    header = rows.index(list(c.LIST_COLUMNS))
    symbols = {r[c.LIST_ID_COL]: r[c.LIST_SYMBOL_COL] for r in rows[header + 1:]}
    assert symbols == dict(fy2023.official)

    # 集計: 達成割合 from the official symbols (the meta row counts itself)
    official = list(fy2023.official.values())
    achieved = official.count(ACHIEVED)
    evaluable = sum(official.count(s) for s in (ACHIEVED, NEARLY, MISSED))
    assert f"{achieved}／{evaluable}" == "52／71"  # as printed in the FY2023 list
    summary = applied.rows(c.SUMMARY)
    rate_row = next(r for r in summary if r[0] == "達成割合")
    assert f"達成済み・達成見込み{achieved}／評価可能{evaluable}" in rate_row
    assert f"{achieved / evaluable * 100:.1f}%" == "73.2%"
    assert "73.2%" in rate_row

    # メニュー: the same status line as the command line's
    written_book = load_workbook(written.path, data_only=True)      # its names are a normal load's
    menu_cli, wb_names = written_book[c.MENU], written_book.defined_names
    sheet, ref = next(iter(wb_names[c.N_LAST_RESULT].destinations))
    assert applied.value(sheet, ref.replace("$", "")) == menu_cli[ref.replace("$", "")].value

    # formats the file path sets: 達成率 and the 達成割合 cell as percentages
    rate_col = chr(ord("A") + c.LIST_RATE_COL)
    assert applied.formats[(c.LIST, f"{rate_col}{header + 2}")] == "0.0%"

    alert = _only_alert(applied)
    assert alert["mode"] == "info"
    assert f"{achieved}／{evaluable}" in alert["prompt"] and "73.2%" in alert["prompt"]
    assert f"◎ {achieved}件" in alert["prompt"]
    assert result.summary.achieved == achieved


def test_an_indicator_added_at_the_bottom_of_indicators_is_listed_with_its_project_on_both_faces(master, tmp_path):
    """Staff add 「05-4」 for project 5 in the first empty row of 指標, under 54-1 (how a row is
    added to a list in Excel). 一覧 listed it after 10-2, the last project of its role, with
    project 5's 連携事業名 and 事業概要 printed a second time there and its other three rows
    left unmerged: the published list showed project 5 twice and out of its place, and
    入力チェック said nothing. It is listed after 05-3, under one merged project 5, alike on
    both faces (the official list gives each project's indicators together, by 事業No)."""
    from renkei_xl.core.plan_types import CellEdit, WritePlan
    from renkei_xl.workbook.session import write_planned

    added = _copy(master, tmp_path / "added.xlsm")
    ws = load_workbook(added, read_only=True)[c.INDICATORS]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(rows) if "指標ID" in r)
    heads = rows[header]
    model = dict(zip(heads, next(r for r in rows if r[heads.index("指標ID")] == "05-3")))
    model.update({"指標ID": "05-4", "評価指標": "ｘＲ技術のマッチング件数", "基準値": "－", "目標値": "10件（毎年度）",
                  "集計方法": "手入力", "評価方法": None, "実績値（手入力）": "12件", "実施状況（手入力）": "・マッチング12件"})
    last = max(i for i, r in enumerate(rows) if any(v not in (None, "") for v in r)) + 1   # 1-based row of 54-1
    edits = [CellEdit(c.INDICATORS, last + 1, col, v) for col, h in enumerate(heads, start=1)
             if h and (v := model.get(h)) not in (None, "")]
    write_planned(added, lambda fs: (WritePlan(cells=edits), None))

    cli = _copy(added, tmp_path / "cli.xlsm")
    _result, written = recalc_file(cli)
    applied, _ = _run(buttons.recalc, click_payload(_copy(added, tmp_path / "button.xlsm")))
    listed = applied.rows(c.LIST)
    assert listed == _cli_rows(written.path, c.LIST)

    top = listed.index(list(c.LIST_COLUMNS))
    ids = [r[c.LIST_ID_COL] for r in listed[top + 1:]]
    assert ids[ids.index("05-3") + 1] == "05-4" and ids[ids.index("10-2") + 1] == "KPI2-1"
    first, fourth = (top + 2 + ids.index(i) for i in ("05-1", "05-4"))   # 1-based sheet rows
    project = listed[first - 1][1]
    assert project.startswith("5") and [r[1] for r in listed[first:fourth]] == [None] * 3
    for merges in (file_merged_areas(load_workbook(written.path))[c.LIST], applied.merges[c.LIST]):
        assert [first, 2, fourth, 2] in [list(m) for m in merges], merges


def test_the_lists_status_header_names_the_base_date_of_settings_on_both_faces(master, tmp_path):
    """設定's 基準日 moved to 2023-09-30 for a mid-year list: the input files asked for the figures
    「2023年9月30日時点」, while 一覧 (and the 確定版 made from it) still headed them
    「連携事業実施状況等（３月末時点）」 as the FY2023 list printed for 2024-03-31. The header
    says 「（９月末時点）」 on both faces, and a note staff wrote beside the list under the old
    header stays with its row."""
    import datetime as dt

    moved = _copy(master, tmp_path / "moved.xlsm")
    recalc_file(moved)                                 # 一覧 as of 2024-03-31, then a staff note beside 04-1
    listed = file_rows(moved, c.LIST)
    top = next(i for i, r in enumerate(listed) if "指標ID" in r)
    assert listed[top][c.LIST_STATUS_COL] == "連携事業実施状況等（３月末時点）"
    row = next(i for i, r in enumerate(listed) if r[c.LIST_ID_COL] == "04-1") + 1
    _put(moved, c.LIST, f"L{row}", "要確認")
    sheet, ref = next(iter(payload_book(moved).defined_names[c.N_BASE_DATE].destinations))     # read once per content
    _put(moved, sheet, ref.replace("$", ""), dt.datetime(2023, 9, 30))

    _result, written = recalc_file(_copy(moved, tmp_path / "cli.xlsm"))
    applied, _ = _run(buttons.recalc, click_payload(_copy(moved, tmp_path / "button.xlsm")))
    rows = applied.rows(c.LIST)
    assert rows == _cli_rows(written.path, c.LIST)
    assert rows[top][c.LIST_STATUS_COL] == "連携事業実施状況等（９月末時点）"
    noted = next(r for r in rows if r[c.LIST_ID_COL] == "04-1")
    assert noted[len(c.LIST_COLUMNS)] == "要確認"


def test_a_deadline_to_the_month_is_judged_against_the_base_date_alike_on_both_faces(master, tmp_path):
    """A mid-year list (基準日 2023-09-30) with deadlines written to the month: 「2023年9月末まで」
    has come (×), 「令和5年10月まで」 has not (―), on the button as on the command line; the
    button reads 基準日 from the date the client sends."""
    import datetime as dt

    moved = _copy(master, tmp_path / "moved.xlsm")
    sheet, ref = next(iter(payload_book(moved).defined_names[c.N_BASE_DATE].destinations))     # read once per content
    _put(moved, sheet, ref.replace("$", ""), dt.datetime(2023, 9, 30))
    targets = {"14-1": "2023年9月末まで", "49-1": "令和5年10月まで", "10-1": "2023年度上期まで", "31-2": "R5年度下期迄"}
    wb = load_workbook(moved, keep_vba=True)
    ws = wb[c.INDICATORS]
    head = next(r for r in ws.iter_rows(max_row=c.HEADER_SEARCH_ROWS) if any(x.value == "指標ID" for x in r))
    col = {x.value: x.column for x in head}
    for r in range(head[0].row + 1, ws.max_row + 1):
        if ws.cell(r, col["指標ID"]).value in targets:
            ws.cell(r, col["目標値"]).value = targets[ws.cell(r, col["指標ID"]).value]
    wb.save(moved)

    _result, written = recalc_file(_copy(moved, tmp_path / "cli.xlsm"))
    applied, _ = _run(buttons.recalc, click_payload(_copy(moved, tmp_path / "button.xlsm")))
    rows = applied.rows(c.LIST)
    assert rows == _cli_rows(written.path, c.LIST)
    got = {r[c.LIST_ID_COL]: (r[c.LIST_COLUMNS.index("目標値")], r[c.LIST_SYMBOL_COL]) for r in rows
           if r[c.LIST_ID_COL] in targets}
    assert got == {"14-1": ("2023年9月末まで", "×"), "49-1": ("令和5年10月まで", "―"),
                   "10-1": ("2023年度上期まで", "×"), "31-2": ("R5年度下期迄", "―")}


def test_strings_are_written_as_text_so_excel_does_not_convert_them(master, tmp_path):
    """「73.2%」 typed into a cell would become 0.732; the writer marks strings as text."""
    payload = click_payload(_copy(master, tmp_path / "button.xlsm"))
    _applied, actions = _run(buttons.recalc, payload)
    list_pos = [s["name"] for s in payload["sheets"]].index(c.LIST)
    written = [v for a in actions if a["func"] == "setValues" and a["sheet_position"] == list_pos
               for row in a["values"] for v in row]
    strings = [v for v in written if isinstance(v, str) and v]
    assert strings and all(v.startswith("'") for v in strings)
    assert "'73.2%" in written


def test_check_gives_the_findings_of_validate_file(master, tmp_path):
    bad = _copy(master, tmp_path / "bad.xlsm")
    cell, _row = _entry_cell(bad, BAD_MUNICIPALITY)
    _put(bad, BAD_MUNICIPALITY, cell, BAD_VALUE)
    cli = _copy(bad, tmp_path / "cli.xlsm")
    result, written = validate_file(cli)
    assert result.errors

    payload = click_payload(bad)
    applied, _ = _run(buttons.check, payload)
    rows = applied.rows(c.FINDINGS)
    # the findings, and the fill each marked cell had (元の塗り, a hidden last column)
    assert [r[:len(c.FINDING_COLUMNS)] for r in rows] == _trim(_findings_rows(result.findings))
    assert rows[0] == [*c.FINDING_COLUMNS, c.FINDING_BEFORE_COLUMN]
    assert rows == _cli_rows(written.path, c.FINDINGS)
    # every finding with a cell is linked to it, every error cell is marked
    for r, f in enumerate(result.findings, start=2):
        if f.cell:
            assert applied.links[(c.FINDINGS, f"C{r}")] == (f"#'{f.sheet}'!{f.cell}", f.cell)
    marked = {k for k, v in applied.colors.items() if v == "#" + c.MARK_FILL}
    assert marked == {(f.sheet, f.cell) for f in result.errors if f.cell and f.sheet not in c.TOOL_SHEETS}


def test_a_value_ten_times_last_years_is_warned_alike_on_both_faces(master, tmp_path):
    """A rolled-over master shows 「前年度実績（2023年度）」 beside each row; a 実績値 ten times
    that or a tenth of it (a digit or 千/万 typed wrong) passed 入力チェック in silence. Now
    it is a 警告 at the 実績値 cell, the same from the command line and the button; a value
    within the band, the same number without its unit, a ratio, and a master without the
    column say nothing."""
    from renkei_xl.core import findings as F
    from renkei_xl.cycle.rollover import rollover_file

    later = rollover_file(_copy(master, tmp_path / "さっぽろ圏_2023年度_マスター.xlsm")).path
    grid = file_rows(later, "札幌市")
    header = grid[0]
    ref = {row[0]: f"{'ABCDEFGHIJ'[header.index('実績値')]}{r}" for r, row in enumerate(grid, start=1)}
    previous = {row[0]: row[header.index(c.PREVIOUS_HEADER.format(year=2023))] for row in grid}
    assert previous["02-2"] == "30社" and previous["03-1"] == "3,676名" and previous["02-1"] == "３回"
    _put_cells(later, "札幌市", {ref[ind_id]: value for ind_id, value in       # 04-1: 150 beside 17件, 8.8 times
                                {"02-2": 300, "03-1": "367名", "02-1": "3", "04-1": "150"}.items()})
    result, _written = validate_file(_copy(later, tmp_path / "cli.xlsm"))
    jumps = [f for f in result.findings if f.type == F.PREVIOUS_JUMP.code]
    assert [(f.sheet, f.cell, f.indicator_id, f.severity) for f in jumps] == [
        ("札幌市", ref["02-2"], "02-2", "警告"), ("札幌市", ref["03-1"], "03-1", "警告")], jumps
    assert "約10倍" in jumps[0].message and "30社" in jumps[0].message
    assert "約10分の1" in jumps[1].message
    applied, _ = _run(buttons.check, click_payload(later))
    assert applied.rows(c.FINDINGS) == _cli_rows(_written.path, c.FINDINGS)
    # the 2023 master itself has no such column: the same values there warn of nothing
    plain = _copy(master, tmp_path / "plain.xlsm")
    _put(plain, "札幌市", ref["02-2"], 300)
    assert not [f for f in validate_file(plain)[0].findings if f.type == F.PREVIOUS_JUMP.code]


def test_a_bad_cell_gets_an_alert_naming_sheet_and_cell(master, tmp_path):
    bad = _copy(master, tmp_path / "bad.xlsm")
    cell, _row = _entry_cell(bad, BAD_MUNICIPALITY)
    _put(bad, BAD_MUNICIPALITY, cell, BAD_VALUE)
    payload = click_payload(bad)
    for entry in (buttons.check, buttons.recalc):
        applied, _ = _run(entry, payload)
        alert = _only_alert(applied)
        assert f"{BAD_MUNICIPALITY}!{cell}" in alert["prompt"], alert["prompt"]
        assert BAD_VALUE in alert["prompt"]
        assert "Traceback" not in alert["prompt"]
        rows = applied.rows(c.FINDINGS)
        assert [BAD_MUNICIPALITY, cell] in [r[1:3] for r in rows[1:]]
        assert applied.colors[(BAD_MUNICIPALITY, cell)] == "#" + c.MARK_FILL


def test_every_button_names_a_bad_cell_of_a_master_under_a_long_japanese_folder(master, tmp_path, monkeypatch):
    """A master saved under a long folder and file name of Japanese, full-width, a space, 「'」
    and 「&」: each button that reads the inputs names the bad cell in its message. 次年度の
    マスターを作成 said 「入力エラーが 1 件ありました: …ほか 1 件」, the cell given up to fit the
    box, while the paths and a target's finding were shown whole (core.alerts' vital list)."""
    from renkei_xl.workbook.session import recalc_file

    folder = tmp_path / "令和５年度 さっぽろ連携中枢都市圏 連携事業 評価作業フォルダ（企画課＆政策課 共有）"
    book = _copy(master, folder / "さっぽろ圏 ２０２３年度 'マスター'＆控え.xlsm")
    recalc_file(book)
    cell, _row = _entry_cell(book, BAD_MUNICIPALITY)
    _put(book, BAD_MUNICIPALITY, cell, BAD_VALUE)
    recalc_file(book)
    monkeypatch.chdir(folder)
    for caption in (c.CHECK, c.RECALC, c.EXPORT, c.ROLLOVER):
        alert = _only_alert(_run(ENTRIES[caption], click_payload(book))[0])
        assert f"{BAD_MUNICIPALITY}!{cell}" in alert["prompt"] and BAD_VALUE in alert["prompt"], (caption, alert)
        assert "Traceback" not in alert["prompt"] and "予期しない" not in alert["prompt"], (caption, alert)


def test_a_cached_error_value_is_read_by_the_button_as_by_the_command_line(master, tmp_path):
    """札幌市's 04-1 実績値 `=#REF!+1` with Excel's cached #REF! (issue 19): the client sends
    「#REF!」, the button finds it and writes 一覧 and 集計 as the command line does."""
    saved = _copy(master, tmp_path / "ref.xlsm")
    rewrite_cells(saved, "xl/worksheets/sheet4.xml", {"E5": '<c r="E5" s="{s}" t="e"><f>#REF!+1</f><v>#REF!</v></c>'})
    saved_by_excel(saved)     # the cached #REF! is Excel's, as it saves: not stale (core.calc_on_load)
    cli = _copy(saved, tmp_path / "cli.xlsm")
    _result, written = recalc_file(cli)
    applied, _ = _run(buttons.recalc, click_payload(saved))
    prompt = _only_alert(applied)["prompt"]
    assert "札幌市!E5" in prompt and "#REF!" in prompt, prompt
    assert "（入力エラーで評価不可の1件を除く）" in prompt, prompt
    for sheet in (c.LIST, c.SUMMARY, c.FINDINGS):
        assert applied.rows(sheet) == _cli_rows(written.path, sheet), sheet
    rows = applied.rows(c.LIST)
    row = next(r for r in rows if r[c.LIST_ID_COL] == "04-1")
    assert row[c.LIST_SYMBOL_COL] == "－" and row[c.LIST_STATUS_COL].startswith("※入力エラーのため評価不可（札幌市!E5")
    assert any("入力エラーで評価不可の1件を除く" in str(v) for r in applied.rows(c.SUMMARY) for v in r)


def test_a_status_past_a_cells_limit_is_written_cut_as_the_command_line_cuts_it(master, tmp_path):
    """40,000 characters of 実施状況（手入力）: an error on its cell, and 一覧 shows it cut to the
    tool's limit on both faces. The button writes text with Excel's prefix, which counts
    against Excel's 32,767: a text cut to that limit itself stopped the replay with 1004."""
    from openpyxl import load_workbook

    from renkei_xl.core.values import CELL_TEXT_LIMIT, EXCEL_CELL_TEXT, cell_length

    saved = _copy(master, tmp_path / "long.xlsm")
    wb = load_workbook(saved, keep_vba=True)
    ws = wb[c.INDICATORS]
    head = next(r for r in range(1, 10) if ws.cell(r, 1).value == c.INDICATOR_HEADERS["id"])
    col = next(cell.column for cell in ws[head] if cell.value == c.INDICATOR_HEADERS["status_manual"])
    row = next(r for r in range(head + 1, ws.max_row + 1) if ws.cell(r, 1).value == "01-1")
    ws.cell(row, col).value = "あ" * 40_000
    wb.save(saved)
    cli = _copy(saved, tmp_path / "cli.xlsm")
    _result, written = recalc_file(cli)
    applied, _ = _run(buttons.recalc, payload_from_file(saved, client=VBA))   # 1004 would raise here
    assert applied.rows(c.LIST) == _cli_rows(written.path, c.LIST)
    shown = next(r for r in applied.rows(c.LIST) if r[c.LIST_ID_COL] == "01-1")[c.LIST_STATUS_COL]
    assert cell_length(shown) == CELL_TEXT_LIMIT == EXCEL_CELL_TEXT - 1


@pytest.mark.parametrize("length", [32_766, 32_767, 32_768])
def test_a_status_of_excels_full_cell_is_no_error_on_either_face(master, tmp_path, length):
    """Excel's cell holds 32,767 characters. A 実施状況 of exactly that was an エラー (exit 1)
    claiming a cell holds 32,766: that limit is the tool's own writes (the buttons' text
    prefix counts against Excel's), so such a cell is a warning that 一覧 shows it cut; only
    a longer text (a file another tool wrote) is an error. Both faces list the same."""
    from renkei_xl.core.values import EXCEL_CELL_TEXT

    saved = _copy(master, tmp_path / "full.xlsm")
    _value_cell, row = _entry_cell(saved, BAD_MUNICIPALITY)
    ws = load_workbook(saved)[BAD_MUNICIPALITY]
    col = next(x.column for r in ws.iter_rows(max_row=c.HEADER_SEARCH_ROWS) for x in r if x.value == "実施状況")
    cell = ws.cell(row, col).coordinate
    _put(saved, BAD_MUNICIPALITY, cell, "あ" * min(length, EXCEL_CELL_TEXT))
    if length > EXCEL_CELL_TEXT:     # openpyxl stops at Excel's limit: another tool wrote this one
        import zipfile

        full = ("あ" * EXCEL_CELL_TEXT).encode()
        raw = tmp_path / "raw.xlsm"
        with zipfile.ZipFile(saved) as zin, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                zout.writestr(info, zin.read(info.filename).replace(full, ("あ" * length).encode()))
        raw.replace(saved)
    cli = _copy(saved, tmp_path / "cli.xlsm")
    applied, _ = _run(buttons.check, click_payload(saved))
    code = cli_main(["validate", str(cli)])
    assert applied.rows(c.FINDINGS)[1:] == _cli_rows(cli, c.FINDINGS)[1:]
    listed = [r for r in applied.rows(c.FINDINGS)
              if r and r[1] == BAD_MUNICIPALITY and r[2] == cell and f"{length:,}文字あり" in str(r[4])]
    if length < EXCEL_CELL_TEXT:
        assert listed == [] and code == 0
    elif length == EXCEL_CELL_TEXT:
        assert [r[0] for r in listed] == ["警告"] and code == 0, listed
        assert "32,767文字あり、Excel のセルには入ります" in listed[0][4]
    else:
        assert [r[0] for r in listed] == ["エラー"] and code == 1, listed
        assert "Excel の1つのセルに書ける32,767文字を超えています" in listed[0][4]


# Each 指標 text column on a row of its own, in one master: one recalc on each face.
LONG_TEXT_ROWS = {"summary": "04-1", "project_name": "06-1", "name": "08-1", "baseline": "10-1",
                  "target": "12-1", "role": "14-1"}


def test_a_text_of_a_cells_length_in_indicators_is_cut_on_every_tool_sheet_on_both_faces(master, tmp_path):
    """A 指標 text of Excel's 32,767 characters (a report pasted into 事業概要) goes into 一覧,
    集計 and 次の一歩: written whole (or with 連携事業名's number before it) it was over Excel's
    limit in the file and a 1004 halfway through the button's write-back."""
    from openpyxl import load_workbook

    from renkei_xl.core.values import CELL_TEXT_LIMIT, EXCEL_CELL_TEXT, cell_length

    saved = _copy(master, tmp_path / "long.xlsm")
    wb = load_workbook(saved, keep_vba=True)
    ws = wb[c.INDICATORS]
    head = next(r for r in range(1, 10) if ws.cell(r, 1).value == c.INDICATOR_HEADERS["id"])
    rows = {ws.cell(r, 1).value: r for r in range(head + 1, ws.max_row + 1)}
    for field, ind_id in LONG_TEXT_ROWS.items():
        col = next(cell.column for cell in ws[head] if cell.value == c.INDICATOR_HEADERS[field])
        ws.cell(rows[ind_id], col).value = field[0] * EXCEL_CELL_TEXT
    wb.save(saved)
    cli = _copy(saved, tmp_path / "cli.xlsm")
    _result, written = recalc_file(cli)
    applied, _ = _run(buttons.recalc, click_payload(saved))   # 1004 would raise here
    _alike_and_within_a_cell(applied, written.path, (c.LIST, c.SUMMARY, c.NEXT_STEPS))
    cut = [v for r in applied.rows(c.LIST) for v in r if isinstance(v, str) and cell_length(v) == CELL_TEXT_LIMIT]
    assert all(any(f[0] * 100 in v for v in cut) for f in LONG_TEXT_ROWS), [v[:3] for v in cut]   # each one cut


def test_a_text_of_a_cells_length_in_a_municipality_sheet_is_cut_on_every_tool_sheet_on_both_faces(master, tmp_path):
    """A municipality sheet's 指標ID or 単位 of Excel's 32,767 characters (a report pasted into
    the wrong column) is quoted by 検証結果, 一覧's reason and 次の一歩. 検証結果 wrote the 指標ID
    whole, which the buttons write after Excel's text prefix: 32,768 characters, a 1004
    halfway through the write-back; 一覧's reason quoted the 単位 whole and 次の一歩 put
    「評価できません: 」 before that reason, cut to the limit already. Found by
    tests/fuzz/faces_fuzz.py (Office.js, seeds 12098 and 12100)."""
    from renkei_xl.core.values import EXCEL_CELL_TEXT

    saved = _copy(master, tmp_path / "long.xlsm")
    wb = load_workbook(saved, keep_vba=True)
    ind_id = "04-1"          # 合計 of 件 against 「20件（毎年度）」
    long_unit = ("長い説明の文章です。" * 3300)[:EXCEL_CELL_TEXT]    # one unit on every sheet: judged
    edits = [(m, "unit", long_unit) for m in wb.sheetnames
             if m != c.INDICATORS and wb[m].cell(1, 1).value == c.ENTRY_HEADERS["indicator_id"]]
    for sheet, field, text in [*edits, ("江別市", "indicator_id", "x" * EXCEL_CELL_TEXT)]:
        ws = wb[sheet]
        top = next(r for r in range(1, 10) if ws.cell(r, 1).value == c.ENTRY_HEADERS["indicator_id"])
        at = next(cell.column for cell in ws[top] if cell.value == c.ENTRY_HEADERS[field])
        for row in [r for r in range(top + 1, ws.max_row + 1) if ws.cell(r, 1).value == ind_id][:1]:
            ws.cell(row, at).value = text
    wb.save(saved)
    for entry, sheets in ((buttons.check, (c.FINDINGS,)), (buttons.recalc, (c.FINDINGS, c.LIST, c.NEXT_STEPS))):
        cli = _copy(saved, tmp_path / entry.__name__ / "cli.xlsm")
        if entry is buttons.check:
            cli_main(["validate", str(cli)])
        else:
            recalc_file(cli)
        applied, _ = _run(entry, click_payload(saved))   # 1004 would raise here
        _alike_and_within_a_cell(applied, cli, sheets)


def _alike_and_within_a_cell(applied, cli: Path, sheets) -> None:
    """Each of ``sheets`` as the button wrote it (``applied``) and as the command line wrote
    it (``cli``) alike, and no text in it longer than the tool writes (values.CELL_TEXT_LIMIT)."""
    from renkei_xl.core.values import CELL_TEXT_LIMIT, cell_length

    for sheet in sheets:
        rows_of = applied.rows(sheet)
        assert rows_of == _cli_rows(cli, sheet), sheet
        longest = max(cell_length(v) for r in rows_of for v in r if isinstance(v, str))
        assert longest <= CELL_TEXT_LIMIT, (sheet, longest)


def test_a_broken_defined_name_is_said_as_possibly_broken_on_the_button(master, tmp_path):
    """Remote.bas leaves out a name whose RefersToRange fails (対象年度 after its cell was
    deleted: =設定!#REF!), so the button cannot tell it from a missing one; it said only
    「ありません」 and sent staff to add a name that is there."""
    from openpyxl import load_workbook

    saved = _copy(master, tmp_path / "broken.xlsm")
    wb = load_workbook(saved, keep_vba=True)
    wb.defined_names[c.N_YEAR].attr_text = "設定!#REF!"
    wb.save(saved)
    applied, _ = _run(buttons.check, click_payload(saved))
    prompt = _only_alert(applied)["prompt"]
    assert f"名前の定義「{c.N_YEAR}」がないか、参照先が壊れています" in prompt, prompt
    code = cli_main(["validate", str(saved)])
    assert code != 0


ENTRIES = {c.CHECK: buttons.check, c.RECALC: buttons.recalc, c.SPLIT: buttons.split,
           c.COLLECT: buttons.collect, c.EXPORT: buttons.export, c.ROLLOVER: buttons.rollover}


@pytest.fixture(scope="module")
def broken_year_name(master, tmp_path_factory) -> Path:
    """The master with its year's defined name broken (設定!#REF!), saved once for every
    button's case below (they only read it)."""
    saved = _copy(master, tmp_path_factory.mktemp("broken") / "broken.xlsm")
    wb = load_workbook(saved, keep_vba=True)
    wb.defined_names[c.N_YEAR].attr_text = "設定!#REF!"
    wb.save(saved)
    return saved


@pytest.mark.parametrize("caption", [caption for caption, _macro, _what in c.BUTTONS])
def test_every_button_says_it_stopped_in_one_japanese_sentence_naming_its_caption(broken_year_name, caption):
    """A stopped click read 「評価を再計算を中止しました」 and 「次年度のマスターを作成を中止しました」:
    two captions end in を + verb, so the caption cannot stand bare before を. One helper
    (contract.stopped) quotes it for every caption, on the button and on the server alike."""
    import re

    assert set(ENTRIES) == {caption for caption, _macro, _what in c.BUTTONS}
    said = c.stopped(caption)
    assert said == f"「{caption}」を中止しました。"
    assert not re.search(r"を[^「」]*を中止", said), said
    alert = _only_alert(_run(ENTRIES[caption], click_payload(broken_year_name))[0])
    assert alert["mode"] == "critical" and alert["prompt"].startswith(said + "\n"), alert["prompt"]


@pytest.fixture(scope="module")
def misnamed(master, tmp_path_factory) -> tuple[Path, dict]:
    """The 2023 master copied by hand to 「…_2024年度_マスター.xlsm」, 設定 left at 2023, and
    its payload, built once for every button's case below (a refused click only reads it)."""
    from test_cli_japanese import MISNAMED

    saved = _copy(master, tmp_path_factory.mktemp("misnamed") / MISNAMED)
    return saved, click_payload(saved)


# Rollover's button refused it before (cycle.rollover.check_named_year); the others did not.
@pytest.mark.parametrize("caption", [c.CHECK, c.RECALC, c.SPLIT, c.COLLECT, c.EXPORT])
def test_a_master_named_for_another_year_is_refused_by_every_button(misnamed, monkeypatch, caption):
    """The open book's name against its 設定 (excel.buttons._run), before anything is read or
    written: 入力チェック and 評価を再計算 rebuilt 一覧 as 2023年度's, 配布用ファイル作成 made 12
    「2023年度」 input files and 確定版を書き出し a 2023 確定版 from a book named for 2024."""
    from test_cli_japanese import MISNAMED_SAID

    saved, payload = misnamed
    monkeypatch.chdir(saved.parent)          # where the remote engine's book is found by its name
    before = sorted(p.name for p in saved.parent.rglob("*")), saved.read_bytes()
    applied, actions = _run(ENTRIES[caption], payload)
    alert = _only_alert(applied)
    assert alert["mode"] == "critical" and alert["prompt"].startswith(c.stopped(caption) + "\n"), alert["prompt"]
    assert MISNAMED_SAID in alert["prompt"], alert["prompt"]
    assert [a["func"] for a in actions] == ["alert"], actions          # nothing written into the book
    assert (sorted(p.name for p in saved.parent.rglob("*")), saved.read_bytes()) == before


def test_marks_of_the_last_check_are_lifted_once_the_cell_is_fixed(master, tmp_path):
    book = _copy(master, tmp_path / "book.xlsm")
    cell, _row = _entry_cell(book, BAD_MUNICIPALITY)
    good = load_workbook(book)[BAD_MUNICIPALITY][cell].value
    _put(book, BAD_MUNICIPALITY, cell, BAD_VALUE)
    validate_file(book)                      # lists and marks the cell in the file
    assert [BAD_MUNICIPALITY, cell] in [r[1:3] for r in file_rows(book, c.FINDINGS)]
    _put(book, BAD_MUNICIPALITY, cell, good)  # the staff fix it
    applied, _ = _run(buttons.check, click_payload(book))
    # the mark is lifted to the fill 検証結果 recorded for it: an input cell's cream
    assert applied.colors[(BAD_MUNICIPALITY, cell)] == "#" + c.INPUT_FILL
    assert applied.rows(c.FINDINGS) == [[*c.FINDING_COLUMNS, c.FINDING_BEFORE_COLUMN]]


def _check_twice(master: Path, tmp_path: Path, recorded: str | None):
    """A bad cell checked (marked), fixed, checked again; ``recorded`` replaces its 元の塗り
    in between, as if the cell had had that fill before its mark."""
    book = _copy(master, tmp_path / "book.xlsm")
    cell, _row = _entry_cell(book, BAD_MUNICIPALITY)
    good = load_workbook(book)[BAD_MUNICIPALITY][cell].value
    _put(book, BAD_MUNICIPALITY, cell, BAD_VALUE)
    payload = click_payload(book)
    first, _ = _run(buttons.check, payload)
    after = payload_after(payload, first)
    sheets = {s["name"]: s for s in after["sheets"]}
    from renkei_xl.core.refs import parse_ref

    r, col = parse_ref(cell)
    sheets[BAD_MUNICIPALITY]["values"][r - 1][col - 1] = good       # the staff fix it
    findings = sheets[c.FINDINGS]["values"]
    before = findings[0].index(c.FINDING_BEFORE_COLUMN)
    row = next(row for row in findings[1:] if row[1:3] == [BAD_MUNICIPALITY, cell])
    if recorded is not None:
        row[before] = recorded
    second, _ = _run(buttons.check, after)
    return cell, first, second


def test_a_mark_records_the_fill_it_covers_and_gives_it_back(master, tmp_path):
    cell, first, second = _check_twice(master, tmp_path, None)
    assert first.colors[(BAD_MUNICIPALITY, cell)] == "#" + c.MARK_FILL
    rows = first.rows(c.FINDINGS)
    before = rows[0].index(c.FINDING_BEFORE_COLUMN)
    row = next(r for r in rows[1:] if r[1:3] == [BAD_MUNICIPALITY, cell])
    # the remote engine cannot read colours: an input cell is taken to have the input fill
    assert row[before] == c.INPUT_FILL
    assert applied_looks(first, c.FINDINGS)[(rows.index(row) + 1, before + 1)] == look_attrs(LOOKS["body"])
    assert second.colors[(BAD_MUNICIPALITY, cell)] == "#" + c.INPUT_FILL
    assert applied_looks(second, BAD_MUNICIPALITY)[_cell(cell)]["fill"] == c.INPUT_FILL
    assert second.rows(c.FINDINGS) == [[*c.FINDING_COLUMNS, c.FINDING_BEFORE_COLUMN]]


@pytest.mark.parametrize("recorded, fill", [("ABCDEF", "#ABCDEF"), (c.NO_FILL, None)])
def test_a_lifted_mark_gets_the_recorded_fill(master, tmp_path, recorded, fill):
    cell, _first, second = _check_twice(master, tmp_path, recorded)
    assert second.colors[(BAD_MUNICIPALITY, cell)] == fill


def _cell(ref: str) -> tuple[int, int]:
    from renkei_xl.core.refs import parse_ref

    return parse_ref(ref)


# ------------------------------------------------------------- looks, from the plan

def test_rectangles_cover_each_cell_once():
    import random

    from renkei_xl.excel.apply import rectangles

    assert rectangles([(2, 1), (2, 2), (3, 1), (3, 2), (5, 1)]) == [(2, 1, 3, 2), (5, 1, 5, 1)]
    rng = random.Random(7)
    for _ in range(500):
        cells = {(rng.randint(1, 8), rng.randint(1, 6)) for _ in range(rng.randint(1, 30))}
        covered = [(r, col) for r1, c1, r2, c2 in rectangles(cells)
                   for r in range(r1, r2 + 1) for col in range(c1, c2 + 1)]
        assert sorted(covered) == sorted(cells)


def _assert_sheet_is_the_plan(applied, sp) -> None:
    """Values, looks, merges, sizes, links, conditional formats, panes, hidden columns and
    print area of one sheet are what the plan says, nothing more."""
    name = sp.name
    assert applied.rows(name) == _plan_rows(sp), name
    expected = {(r, col): look_attrs(LOOKS[cell[1]]) for r, row in enumerate(sp.rows, start=1)
                for col, cell in enumerate(row, start=1) if cell is not None and cell[1] is not None}
    looks = applied_looks(applied, name)
    assert looks.keys() == expected.keys(), name
    wrong = {cell: (looks[cell], expected[cell]) for cell in expected if looks[cell] != expected[cell]}
    assert not wrong, (name, list(wrong.items())[:3])
    for sides in applied.borders.get(name, {}).values():
        for attrs in sides.values():
            assert attrs == {"line_style": "continuous", "weight": "thin", "color": BORDER_COLOR}
    assert applied.merges.get(name, set()) == set(sp.merges), name
    assert applied.sheet_heights(name) == {r: round(h, 1) for r, h in sp.heights.items()}, name
    assert applied.sheet_widths(name) == {col: round(w, 1) for col, w in sp.widths.items()}, name
    assert applied.sheet_links(name) == sp.links, name
    assert applied.sheet_conditional(name) == sorted(
        (cf.kind, _address(cf.rect), cf.text, cf.color) for cf in sp.conditional), name
    assert applied.freeze.get(name) == sp.freeze, name
    assert applied.hidden_cols.get(name, set()) == sp.hidden_cols, name
    area = sp.print_setup.area if sp.print_setup else None
    assert applied.sheet_print_area(name) == (_address(area) if area else None), name


# What both faces must draw alike, attribute by attribute (the model's record of a replayed
# renkeiAddChart and remote_payload.file_chart_looks of the file face's chart part).
CHART_LOOKS = ("name", "title", "chart_type", "plot_by", "source", "categories", "anchor", "width", "height",
               "legend_visible")


def _assert_chart_is_the_plans(applied, sp, file_face: Optional[Path] = None) -> None:
    """The VBA client draws the plan's charts (RenkeiServer.bas' renkeiAddChart, each under the
    tool's name) as the desktop's xlwings Charts.add does, and as the command line writes them
    to the file (``file_face``: a master the command line wrote with the same plan)."""
    from renkei_xl.core.contract import tool_chart_name
    from renkei_xl.excel.book import CM_TO_POINTS

    charts = applied.charts.get(sp.name, [])
    assert [ch["name"] for ch in charts] == [tool_chart_name(p.title) for p in sp.charts], (sp.name, charts)
    for chart, plan in zip(charts, sp.charts):
        assert (chart["chart_type"], chart["plot_by"], chart["title"]) == ("ColumnClustered", "Rows", plan.title)
        assert chart["source"] == (sp.name, sp_address(plan.values).replace("$", ""))
        assert chart["categories"] == (sp.name, sp_address(plan.categories).replace("$", ""))
        assert chart["anchor"] == sp_address((*plan.anchor, *plan.anchor)).replace("$", "")
        assert (chart["width"], chart["height"]) == (plan.width_cm * CM_TO_POINTS, plan.height_cm * CM_TO_POINTS)
        assert chart["legend_visible"] is plan.legend
    if file_face is not None:
        from remote_payload import file_chart_looks

        def looks(chart: dict) -> dict:
            return {k: round(chart[k], 2) if k in ("width", "height") else chart[k] for k in CHART_LOOKS}

        assert [looks(ch) for ch in file_chart_looks(file_face, sp.name)] == [looks(ch) for ch in charts]


def sp_address(rect) -> str:
    """xlwings' absolute address of a rectangle ("$B$3:$F$3")."""
    from renkei_xl.core.refs import column_letter

    r1, c1, r2, c2 = rect
    first = f"${column_letter(c1)}${r1}"
    return first if (r1, c1) == (r2, c2) else f"{first}:${column_letter(c2)}${r2}"


@pytest.mark.parametrize("entry", [buttons.check, buttons.recalc], ids=["check", "recalc"])
def test_the_sheets_the_buttons_write_look_as_the_plan_says(master, tmp_path, entry):
    bad = _copy(master, tmp_path / "bad.xlsm")
    cell, _row = _entry_cell(bad, BAD_MUNICIPALITY)
    _put(bad, BAD_MUNICIPALITY, cell, BAD_VALUE)
    payload = click_payload(bad)
    plan, result = _plan_for(entry, payload)
    assert result.errors and plan.sheets
    applied, _ = _run(entry, payload)
    file_face = None
    if any(sp.charts for sp in plan.sheets):     # the command line's charts, compared look by look
        file_face = _copy(bad, tmp_path / "cli.xlsm")
        recalc_file(file_face)
    for sp in plan.sheets:
        _assert_sheet_is_the_plan(applied, sp)
        _assert_chart_is_the_plans(applied, sp, file_face)
    for edit in plan.fills:
        assert applied.colors[(edit.sheet, edit.ref)] == (None if edit.fill is None else "#" + edit.fill)

    # Again, on the workbook as the first run left it: the same sheets, no leftovers (one chart
    # each, a second click deleting the first's by its name).
    again, _ = _run(entry, payload_after(payload, applied))
    for sp in plan.sheets:
        _assert_sheet_is_the_plan(again, sp)
        _assert_chart_is_the_plans(again, sp)


def test_fewer_findings_leave_no_stale_rows(master, tmp_path):
    """Rows the last 検証結果 sized, linked or styled are plain again when there are fewer
    findings: both runs replayed on one model of the workbook."""
    bad = _copy(master, tmp_path / "bad.xlsm")
    cell, _row = _entry_cell(bad, BAD_MUNICIPALITY)
    _put(bad, BAD_MUNICIPALITY, cell, BAD_VALUE)
    payload = click_payload(bad)
    first, first_actions = _run(buttons.check, payload)
    assert len(first.rows(c.FINDINGS)) > 1 and first.sheet_links(c.FINDINGS)
    # the staff fix the cell: the next payload has the good value and the last 検証結果
    good = click_payload(_copy(master, tmp_path / "good.xlsm"))
    after = payload_after(payload, first)
    after["sheets"] = [s if s["name"] == c.FINDINGS else next(t for t in good["sheets"] if t["name"] == s["name"])
                       for s in after["sheets"]]
    plan, result = _plan_for(buttons.check, after)
    assert len(plan.sheets[0].rows) < len(first.rows(c.FINDINGS))
    _second, second_actions = _run(buttons.check, after)
    both = apply_actions(payload, [*first_actions, *second_actions])
    for sp in plan.sheets:
        _assert_sheet_is_the_plan(both, sp)


def test_the_fy2023_list_and_summary_show_the_official_result(master, tmp_path, fy2023):
    payload = click_payload(_copy(master, tmp_path / "book.xlsm"))
    applied, _ = _run(buttons.recalc, payload)
    rows = applied.rows(c.LIST)
    header = rows.index(list(c.LIST_COLUMNS))
    symbols = {r[c.LIST_ID_COL]: r[c.LIST_SYMBOL_COL] for r in rows[header + 1:]}
    assert len(symbols) == len(fy2023.official) == 80
    assert symbols == dict(fy2023.official)
    rate_row = next(r for r in applied.rows(c.SUMMARY) if r[0] == "達成割合")
    assert "達成済み・達成見込み52／評価可能71" in rate_row and "73.2%" in rate_row


def test_a_vba_client_payload_still_runs_every_write(master, tmp_path):
    """A VBA client (Remote.bas, with the master's RenkeiServer.bas) runs only the Subs the
    master carries: the model refuses any other action (apply_actions). Without the
    X-Renkei-Client header xlwings refuses alignment for it, and its payload lists no
    charts, so those are not sent."""
    path = _copy(master, tmp_path / "book.xlsm")
    payload = payload_from_file(path, client=VBA)
    assert set(payload[EXCEL_KEY]["subs"]) >= CLIENT_ACTIONS | {UNPROTECT}
    for entry in (buttons.check, buttons.recalc):
        applied, actions = _run(entry, payload)
        assert _only_alert(applied)["mode"] == "info", applied.alerts
        funcs = {a["func"] for a in actions}
        assert funcs <= KNOWN_ACTIONS
        assert not funcs & {"setHorizontalAlignment", "setVerticalAlignment", "addChart"}
        before = file_protection(path)
        assert {k: applied.protection.get(k) for k in before} == before


def test_a_vba_client_gets_the_page_breaks_the_command_line_writes(master, tmp_path):
    """一覧's breaks are the plan's, and its merges are split at them: the server's answer
    set only the print area, so a master recalculated by a button kept the breaks of an
    earlier run (or none), and a 役割 or 事業概要 running over a page end showed its text on
    one page only. Now RenkeiServer.bas' renkeiPageBreaks puts the plan's breaks."""
    from renkei_xl.excel.client import PAGE_BREAKS

    path = _copy(master, tmp_path / "book.xlsm")
    payload = payload_from_file(path, client=VBA)
    assert PAGE_BREAKS in payload[EXCEL_KEY]["subs"]
    applied, _actions = _run(buttons.recalc, payload)
    _result, written = recalc_file(_copy(master, tmp_path / "cli.xlsm"))
    breaks = [b.id for b in load_workbook(written.path)[c.LIST].row_breaks.brk]
    assert len(breaks) >= 2 and applied.page_breaks[c.LIST] == breaks
    # An Office.js client has no such action: the server refuses its click before anything runs
    # (test_server: test_a_client_the_server_cannot_answer_is_refused_before_anything_runs).


def test_a_vba_client_gets_the_findings_filter_the_command_line_writes_a_staff_filter_taken_off(master, tmp_path):
    """検証結果 carries filter buttons, which its protection lets staff use (重大度 = エラー,
    one sheet's rows). The desktop faces take the last run's filter off and put the buttons
    over the new list; the server's answer did nothing, so in Excel the rows staff had
    filtered out stayed hidden under the next run's findings, and the buttons stayed over the
    old rows. Now RenkeiServer.bas' renkeiAutoFilter does what the desktop does."""
    from renkei_xl.excel.client import AUTOFILTER

    path = _copy(master, tmp_path / "book.xlsm")
    cell, _row = _entry_cell(path, "小樽市")
    wb = load_workbook(path, keep_vba=True)
    wb["小樽市"][cell] = "約10件"
    wb.save(path)
    payload = payload_from_file(path, client=VBA)
    assert AUTOFILTER in payload[EXCEL_KEY]["subs"]
    applied, _actions = _run(buttons.check, payload)
    cli = _copy(path, tmp_path / "cli.xlsm")
    validate_file(cli)
    ref = load_workbook(cli)[c.FINDINGS].auto_filter.ref
    assert ref and applied.autofilter[c.FINDINGS].replace("$", "") == ref
    # no finding: the filter goes, none is put
    applied, _actions = _run(buttons.check, payload_from_file(master, client=VBA))
    assert applied.autofilter[c.FINDINGS] == ""
    # An Office.js client has no such action: the server refuses its click before anything runs
    # (test_server: test_a_client_the_server_cannot_answer_is_refused_before_anything_runs).


@pytest.mark.parametrize("entry", [buttons.check, buttons.recalc, buttons.collect])
def test_protected_tool_sheets_are_lifted_first_and_protected_again(master, tmp_path, entry, monkeypatch):
    """The master protects its tool sheets; Excel refuses every write on them (1004). The
    answer lifts them first, and the client protects them again with their own options."""
    path = _copy(master, tmp_path / "book.xlsm")
    monkeypatch.chdir(tmp_path)
    before = file_protection(path)
    assert {c.MENU, c.LIST, c.SUMMARY, c.FINDINGS} <= set(before)
    payload = payload_from_file(path, client=VBA)
    applied, actions = _run(entry, payload)
    assert _only_alert(applied)["mode"] == "info", applied.alerts
    writes = [a for a in actions if a["func"] not in ("alert", UNPROTECT)]
    if writes:
        assert actions[0]["func"] == UNPROTECT, actions[0]
        lifted = set(actions[0]["args"][0])
        written = {applied.order[a["sheet_position"]] for a in writes if a.get("sheet_position") is not None}
        assert written & set(before) <= lifted
        # Without the lifting, Excel stops at the first write on a protected sheet.
        with pytest.raises(ExcelError) as refused:
            apply_actions(payload, actions[1:])
        assert refused.value.number == 1004 and "protected" in refused.value.text
    assert {k: applied.protection.get(k) for k in before} == before   # their own options again


def test_the_model_refuses_what_excel_refuses(master, tmp_path):
    """Each rule of the stricter model, on an answer of the real buttons changed by one action."""
    path = _copy(master, tmp_path / "book.xlsm")
    payload = payload_from_file(path, client=VBA)
    _applied, actions = _run(buttons.recalc, payload)
    pos = [s["name"] for s in payload["sheets"]].index(c.LIST)
    cell = {"sheet_position": pos, "start_row": 0, "start_column": 0, "row_count": 1, "column_count": 1,
            "values": None}
    blank = {"func": "sheetClearContents", "args": [], "sheet_position": pos}
    two = {**cell, "func": "setValues", "args": [], "row_count": 2, "values": [["x"], ["y"]]}
    cases = {   # name: (actions, what Excel says)
        "no Sub": ([{"func": "addChart", "args": [], **cell}], "Cannot run the macro"),
        "long sheet name": ([{"func": "addSheet", "args": [0, "あ" * 32]}], "not valid for a sheet"),
        "sheet name with a colon": ([{"func": "addSheet", "args": [0, "a:b"]}], "not valid for a sheet"),
        # U+0000, which Excel 2010 and 2016 refuse in a sheet name (RelaxTools, measured over the BMP)
        "sheet name with U+0000": ([{"func": "addSheet", "args": [0, "札幌\x00市"]}], "not valid for a sheet"),
        "long text": ([{**cell, "func": "setValues", "args": [], "values": [["x" * 32_768]]}], "32,767|32767"),
        # Excel counts UTF-16 units: 16,384 characters outside the BMP are 32,768
        "long text of astral characters": ([{**cell, "func": "setValues", "args": [], "values": [["𠮷" * 16_384]]}],
                                           "32,767|32767"),
        "long formula": ([{**cell, "func": "setValues", "args": [], "values": [["=" + "1+" * 4_096 + "1"]]}],
                         "8192"),
        "row 0": ([{**cell, "func": "setValues", "args": [], "start_row": -1, "values": [["x"]]}], "no such cells"),
        "past the last column": ([{**cell, "func": "setRowHeight", "args": [20], "start_column": 16_384}],
                                 "no such cells"),
        "wide column": ([{**cell, "func": "setColumnWidth", "args": [width_to_points(256)]}], "ColumnWidth"),
        "sheet named History": ([{"func": "addSheet", "args": [0, "履歴"]}], "not valid for a sheet"),
        "sheet name in quotes": ([{"func": "addSheet", "args": [0, "'一覧'"]}], "not valid for a sheet"),
        # Japanese Excel folds width before it compares or checks a sheet name
        "sheet name with a full-width colon": ([{"func": "addSheet", "args": [0, "a：b"]}], "not valid for a sheet"),
        "sheet name after a full-width apostrophe": ([{"func": "addSheet", "args": [0, "’一覧"]}],
                                                     "not valid for a sheet"),
        "sheet there in half width": ([{"func": "addSheet", "args": [0, "ﾒﾆｭｰ"]}], "not valid for a sheet"),
        "History in full width": ([{"func": "addSheet", "args": [0, "ＨＩＳＴＯＲＹ"]}], "not valid for a sheet"),
        "long link address": ([{**cell, "func": "addHyperlink", "args": ["#'一覧'!A" + "1" * 250, "x", "tip"]}],
                              "255"),
        "null fill": ([{**cell, "func": "setRangeColor", "args": [None]}], "Invalid use of Null"),
        "message past MsgBox": ([{"func": "alert", "args": ["あ" * 1_024, "t", "ok", "info", ""]}], "MsgBox"),
        "tall row": ([{**cell, "func": "setRowHeight", "args": [410]}], "RowHeight"),
        "font past 409 points": ([{**cell, "func": "setFontProperty", "args": ["size", 410]}], "Size property"),
        "font under a point": ([{**cell, "func": "setFontProperty", "args": ["size", 0.5]}], "Size property"),
        "a tab past the last": ([{"func": "activateSheet", "args": [len(payload["sheets"])]}], "Subscript"),
        "more page breaks than a sheet holds": (
            [{"func": "renkeiPageBreaks", "args": [list(range(2, 2_052, 2))], "sheet_position": pos}], "HPageBreaks"),
        "part of a merge": ([blank, {**cell, "func": "rangeMerge", "args": [False], "start_row": 0, "row_count": 2},
                             {**cell, "func": "rangeMerge", "args": [False], "start_row": 1, "row_count": 2}],
                            "merged cell"),
        "merge over two values": ([blank, two, {**cell, "func": "rangeMerge", "args": [False], "row_count": 2}],
                                  "upper-left value"),
        "merge across, two values in a row": (
            [blank, {**two, "row_count": 1, "column_count": 2, "values": [["x", "y"]]},
             {**cell, "func": "rangeMerge", "args": [True], "row_count": 2, "column_count": 2}], "upper-left value"),
    }
    lift = actions[:1]
    assert lift[0]["func"] == UNPROTECT
    for name, (extra, says) in cases.items():
        with pytest.raises(ExcelError, match=says):
            apply_actions(payload, lift + extra)
    # one value in the top left, or one in each row merged across: merged without a word
    for fine in ([blank, {**two, "values": [["x"], [""]]}, {**cell, "func": "rangeMerge", "args": [False], "row_count": 2}],
                 [blank, two, {**cell, "func": "rangeMerge", "args": [True], "row_count": 2, "column_count": 2}]):
        assert apply_actions(payload, lift + fine).merges
    with pytest.raises(ExcelError, match="protected"):
        apply_actions(payload, [{**cell, "func": "setValues", "args": [], "values": [["x"]]}])
    # Remote.bas' activateSheet cannot show a sheet staff hid (1004), as RenkeiFreeze cannot
    show = {"func": "activateSheet", "args": [pos]}
    assert apply_actions(payload, [show]).shown == c.LIST
    with pytest.raises(ExcelError, match="Activate method"):
        apply_actions({**payload, EXCEL_KEY: {**payload[EXCEL_KEY], "hidden": [c.LIST]}}, [show])


def test_the_model_knows_the_merges_the_saved_file_has_as_excel_does(master, tmp_path):
    """The replay starts from the merged areas the saved master has (メニュー's status cells
    are merged), not from none, so a write into one is checked. As in Excel: one value into
    a merged area's top-left cell is the merged cell's value; a range covering whole areas
    is written; a 2-D array over part of one is 1004 ("Cannot change part of a merged cell"),
    and so is a value into a cell of one that is not its top-left."""
    from remote_payload import file_merges
    from renkei_xl.core.refs import column_letter

    path = _copy(master, tmp_path / "book.xlsm")
    payload = payload_from_file(path, client=VBA)
    r1, c1, r2, c2 = min(m for m in file_merges(path, c.MENU) if m[1] < m[3])    # merged across columns
    pos = [s["name"] for s in payload["sheets"]].index(c.MENU)
    lift = {"func": UNPROTECT, "args": [[c.MENU], []], "sheet_position": None}

    def write(row, col, values):
        return [lift, {"func": "setValues", "args": [], "sheet_position": pos, "start_row": row - 1,
                       "start_column": col - 1, "row_count": len(values), "column_count": len(values[0]),
                       "values": values}]

    assert apply_actions(payload, []).merges[c.MENU] == file_merges(path, c.MENU)
    assert apply_actions(payload, write(r1, c1, [["x"]])).value(c.MENU, f"{column_letter(c1)}{r1}") == "x"
    whole = [["x"] + [""] * (c2 - c1)] * (r2 - r1 + 1)
    assert apply_actions(payload, write(r1, c1, whole)).value(c.MENU, f"{column_letter(c1)}{r1}") == "x"
    for row, col, values in ((r1, c1, [["x"]] * (r2 - r1 + 2)),            # down from the top-left, past it
                             (r1, c1 + 1, [["x"]]),                       # inside, not the top-left
                             (r1, c1 - 1, [["x", "y"]])):                 # across its left edge
        with pytest.raises(ExcelError, match="Cannot change part of a merged cell"):
            apply_actions(payload, write(row, col, values))
    # the next payload carries the merges the replay left
    applied = apply_actions(payload, [lift, {"func": "rangeUnmerge", "args": [], "sheet_position": pos,
                                             "start_row": r1 - 1, "start_column": c1 - 1, "row_count": 1,
                                             "column_count": 1, "values": None}])
    after = apply_actions(payload_after(payload, applied), [])
    assert after.merges[c.MENU] == file_merges(path, c.MENU) - {(r1, c1, r2, c2)}


@pytest.mark.parametrize("last_row", [32_767, 32_768])
def test_a_sheet_the_vba_client_cannot_count_is_refused_before_sending(tmp_path, last_row):
    """Remote.bas adds the used range's first row to its row count in Integer: a range
    ending at row 32,767 overflows (1 + 32,767), not only one past it."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "小樽市"
    wb.active.cell(last_row, 1, "x")
    wb.save(tmp_path / "big.xlsx")
    with pytest.raises(ClientRefused) as refused:
        payload_from_file(tmp_path / "big.xlsx", client=VBA)
    assert refused.value.sheet == "小樽市" and refused.value.rows == last_row


@pytest.mark.parametrize("names", [32_766, 32_767])
def test_a_book_with_more_names_than_the_vba_client_walks_is_refused_before_sending(tmp_path, names):
    """Remote.bas walks the book's names with For iName = 1 To nNames, both Integer: the step
    past 32,767 overflows (names copied along with sheets from other books, hidden ones too)."""
    import zipfile

    from openpyxl import Workbook
    from openpyxl.workbook.defined_name import DefinedName

    from conftest import write_members

    wb = Workbook()
    wb.active.title = "小樽市"
    wb.defined_names["n0"] = DefinedName("n0", attr_text="'小樽市'!$A$1", hidden=True)
    wb.save(tmp_path / "names.xlsx")
    # the rest as openpyxl writes the first (adding 32,766 names through openpyxl took 0.9 s)
    with zipfile.ZipFile(tmp_path / "names.xlsx") as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    one = re.search(rb"<definedName [^>]*>[^<]*</definedName>", members["xl/workbook.xml"]).group(0)
    assert b'name="n0"' in one and b'hidden="1"' in one, one
    members["xl/workbook.xml"] = members["xl/workbook.xml"].replace(
        one, b"".join(one.replace(b'"n0"', b'"n%d"' % k) for k in range(names)))
    write_members(tmp_path / "names.xlsx", members)
    if names < 32_767:
        assert payload_from_file(tmp_path / "names.xlsx", client=VBA)["sheets"][0]["name"] == "小樽市"
        return
    with pytest.raises(ClientRefused) as refused:
        payload_from_file(tmp_path / "names.xlsx", client=VBA)
    assert refused.value.names == names and refused.value.sheet == ""


def _notes_book(path: Path, notes: int, per_row: int = 200) -> None:
    """A book whose sheet 小樽市 holds ``notes`` notes, ``per_row`` to a row from A1, the
    parts byte for byte as XlsxWriter's ``write_comment`` of each writes them (its
    docProps' clock aside): XlsxWriter writes the first note, and the others are its
    <comment> and VML <v:shape> with each note's cell, shape id, z-index and position as
    XlsxWriter computes them for the default row height and column width. XlsxWriter's own
    writing of 32,767 notes was 1.4 s of CPU (the VML's XML, element by element)."""
    import xlsxwriter

    from conftest import write_members

    wb = xlsxwriter.Workbook(path)
    wb.add_worksheet("小樽市").write_comment(0, 0, "x", {"author": "y"})
    wb.close()
    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    sheet, comments, vml = (members[p] for p in ("xl/worksheets/sheet1.xml", "xl/comments1.xml",
                                                 "xl/drawings/vmlDrawing1.vml"))
    note = re.search(rb'<comment ref="A1".*?</comment>', comments).group(0)
    shape = re.search(rb'<v:shape id="_x0000_s1025".*?</v:shape>', vml).group(0)
    first = (b"margin-left:59.25pt;margin-top:1.5pt;", b"<x:Anchor>1, 15, 0, 2, 3, 15, 3, 16</x:Anchor>")
    assert all(part in shape for part in first) and b'<o:idmap v:ext="edit" data="1"/>' in vml, vml
    assert b'<dimension ref="A1"/>' in sheet and b'<row r="1" spans="1:1"/>' in sheet, sheet
    notes_xml, shapes_xml = [], []
    for k in range(notes):
        r, col = divmod(k, per_row)
        top = 1.5 if r == 0 else 7.5 + 15 * (r - 1)     # a note sits from the row above its cell
        anchor = (f"{col + 1}, 15, 0, 2, {col + 3}, 15, 3, 16" if r == 0
                  else f"{col + 1}, 15, {r - 1}, 10, {col + 3}, 15, {r + 3}, 4")
        notes_xml.append(note.replace(b'"A1"', f'"{column_letter(col + 1)}{r + 1}"'.encode()))
        shapes_xml.append(shape.replace(b"_x0000_s1025", b"_x0000_s%d" % (1025 + k))
                          .replace(first[0], f"margin-left:{59.25 + 48 * col}pt;margin-top:{top}pt;".encode())
                          .replace(b"z-index:1;", b"z-index:%d;" % (k + 1))
                          .replace(first[1], f"<x:Anchor>{anchor}</x:Anchor>".encode())
                          .replace(b"<x:Row>0</x:Row><x:Column>0</x:Column>",
                                   b"<x:Row>%d</x:Row><x:Column>%d</x:Column>" % (r, col)))
    rows = -(-notes // per_row)
    members["xl/worksheets/sheet1.xml"] = sheet.replace(
        b'<dimension ref="A1"/>', f'<dimension ref="A1:{column_letter(per_row)}{rows}"/>'.encode()).replace(
        b'<row r="1" spans="1:1"/>', b"".join(b'<row r="%d" spans="1:%d"/>' % (r, per_row) for r in range(1, rows + 1)))
    members["xl/comments1.xml"] = comments.replace(note, b"".join(notes_xml))
    members["xl/drawings/vmlDrawing1.vml"] = vml.replace(shape, b"".join(shapes_xml)).replace(     # a block of 1,024 ids each
        b'data="1"', b'data="%s"' % b",".join(b"%d" % i for i in range(1, (1024 + notes) // 1024 + 1)))
    write_members(path, members)


def test_the_notes_book_is_the_book_xlsxwriter_writes(tmp_path):
    """``_notes_book``'s parts are XlsxWriter's own for the same notes (past one row and one
    block of 1,024 shape ids), but for docProps/core.xml's clock."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(tmp_path / "xlsxwriter.xlsx")
    ws = wb.add_worksheet("小樽市")
    for k in range(1_030):
        ws.write_comment(k // 200, k % 200, "x", {"author": "y"})
    wb.close()
    _notes_book(tmp_path / "model.xlsx", 1_030)
    with zipfile.ZipFile(tmp_path / "xlsxwriter.xlsx") as a, zipfile.ZipFile(tmp_path / "model.xlsx") as b:
        assert a.namelist() == b.namelist()
        assert {n for n in a.namelist() if a.read(n) != b.read(n)} <= {"docProps/core.xml"}


def test_a_sheet_with_more_shapes_than_the_vba_client_walks_is_refused_before_sending(tmp_path):
    """Shapes.Count counts notes: Remote.bas walks them with an Integer too. (32,767 notes,
    the parts as XlsxWriter writes them: ``_notes_book``.)"""
    _notes_book(tmp_path / "notes.xlsx", 32_767)
    with pytest.raises(ClientRefused) as refused:
        payload_from_file(tmp_path / "notes.xlsx", client=VBA)
    assert refused.value.sheet == "小樽市" and refused.value.shapes == 32_767


def test_the_shapes_the_model_counts_on_a_master(master):
    """The buttons of メニュー are shapes (form controls), a handful, not thousands."""
    from remote_payload import file_shape_counts

    counts = file_shape_counts(master)
    assert 1 <= counts[c.MENU] <= 2 * len(c.BUTTONS) and max(counts.values()) < 100, counts


def test_a_sheet_the_vba_client_counts_is_sent(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "小樽市"
    wb.active.cell(32_766, 1, "x")
    wb.save(tmp_path / "big.xlsx")
    assert len(payload_from_file(tmp_path / "big.xlsx", client=VBA)["sheets"][0]["values"]) == 32_766


def test_a_user_error_becomes_one_alert_and_changes_nothing(master, tmp_path, monkeypatch):
    payload = click_payload(_copy(master, tmp_path / "book.xlsm"))
    monkeypatch.chdir(tmp_path)
    payload["names"] = [n for n in payload["names"] if n["name"] != c.N_REGION]
    for entry in (buttons.check, buttons.recalc, buttons.export):
        applied, actions = _run(entry, payload)
        assert [a["func"] for a in actions] == ["alert"]
        alert = _only_alert(applied)
        assert alert["mode"] == "critical"
        assert f"名前の定義「{c.N_REGION}」がないか、参照先が壊れています" in alert["prompt"]


def test_an_unexpected_error_becomes_an_alert_with_a_log(master, tmp_path, monkeypatch):
    log = tmp_path / "error.log"
    monkeypatch.setattr(buttons, "ERROR_LOG", log)
    payload = click_payload(_copy(master, tmp_path / "book.xlsm"))
    # a broken payload: a name pointing at a sheet that is not there
    payload["names"][0]["sheet_index"] = len(payload["sheets"]) + 5
    applied, actions = _run(buttons.recalc, payload)
    alert = _only_alert(applied)
    assert alert["mode"] == "critical" and "予期しないエラー" in alert["prompt"]
    assert str(log) in alert["prompt"]
    assert "Traceback" in log.read_text(encoding="utf-8")
    assert [a["func"] for a in actions] == ["alert"]



def test_memory_run_out_in_a_click_is_said_so_and_what_filled_it_is_freed_before_the_log(master, tmp_path, monkeypatch):
    """A click whose memory ran out: what the failed work held is let go (core.errors.released)
    before the guard writes its record, which needs memory of its own (on the command line
    the record then raised MemoryError again and Python printed a traceback,
    test_cli_japanese); the alert says what staff can do, not 「MemoryError: 」."""
    from conftest import memory_filler

    out_of_memory, alive = memory_filler()
    alive_at_the_log: list = []
    logged = buttons.log_error

    def log_error(path, title):
        alive_at_the_log.append(alive())
        return logged(path, title)

    log = tmp_path / "error.log"
    monkeypatch.setattr(buttons, "ERROR_LOG", log)
    monkeypatch.setattr(buttons, "log_error", log_error)
    monkeypatch.setattr(buttons, "_evaluate", out_of_memory)
    applied, actions = _run(buttons.recalc, click_payload(_copy(master, tmp_path / "book.xlsm")))
    alert = _only_alert(applied)
    assert alive_at_the_log == [False]
    said = memory_run_out().replace("もう一度実行して", "もう一度ボタンを押して")     # in the button's words
    assert alert["mode"] == "critical" and said in alert["prompt"] and str(log) in alert["prompt"]
    assert "MemoryError" in log.read_text(encoding="utf-8") and [a["func"] for a in actions] == ["alert"]

# ---------------------------------------------------------- Japanese file and folder

def test_a_japanese_master_builds_recalculates_and_runs_every_button(tmp_path, licensed, monkeypatch):
    path = tmp_path / JAPANESE_MASTER
    assert cli_main(["init", str(path), "--sample", "fy2023"]) == 0
    assert cli_main(["recalc", str(path)]) == 0
    payload = click_payload(path)
    assert payload["book"]["name"] == JAPANESE_MASTER.name
    monkeypatch.chdir(path.parent)  # the remote engine knows the book by name only
    for entry in (buttons.check, buttons.recalc, buttons.split, buttons.export, buttons.collect):
        applied, _ = _run(entry, payload)
        alert = _only_alert(applied)
        assert alert["mode"] == "info", (entry.__name__, alert["prompt"])
    assert (path.parent / c.SPLIT_DIR).is_dir()
    assert (path.parent / c.EXPORT_DIR).is_dir()
    assert (path.parent / c.COLLECT_DIR).is_dir()


# ------------------------------------------------------- split, export, collect

def test_split_writes_one_file_per_municipality_beside_the_master(master, tmp_path, monkeypatch, fy2023):
    book = _copy(master, tmp_path / "work" / "master.xlsm")
    monkeypatch.chdir(book.parent)
    applied, actions = _run(buttons.split, click_payload(book))
    outdir = book.parent / c.SPLIT_DIR
    expected = sorted(file_name(m.name, fy2023.settings.fiscal_year) for m in fy2023.settings.municipalities)
    assert sorted(p.name for p in outdir.iterdir()) == expected
    prompt = _only_alert(applied)["prompt"]
    assert str(outdir) in prompt and f"{len(expected)} 件" in prompt
    assert [a["func"] for a in actions] == ["alert"]  # the master itself is not written


def test_export_writes_the_list_the_command_line_writes(master, tmp_path, monkeypatch, fy2023):
    book = _copy(master, tmp_path / "work" / "master.xlsm")
    _result, written = recalc_file(_copy(master, tmp_path / "cli.xlsm"))
    monkeypatch.chdir(book.parent)
    before = book.read_bytes()
    applied, actions = _run(buttons.export, click_payload(book))
    outdir = book.parent / c.EXPORT_DIR
    files = list(outdir.iterdir())
    assert [f.name for f in files] == [default_name(fy2023.settings)]
    wb = load_workbook(files[0])
    assert wb.sheetnames == [c.LIST, c.SUMMARY]
    # the same list, titled as the published 確定版 is
    confirmed, listed = file_rows(files[0], c.LIST), file_rows(written.path, c.LIST)
    assert confirmed[1:] == listed[1:] and confirmed[0][0] == listed[0][0] + c.CONFIRMED_MARK
    # 集計 of the 確定版 is this year's; the master's also carries the years of 経年 below it
    summary = file_rows(written.path, c.SUMMARY)
    years_at = next(i for i, r in enumerate(summary) if r[0] == "年度別の達成割合")
    assert file_rows(files[0], c.SUMMARY) == [r[:len(file_rows(files[0], c.SUMMARY)[0])]
                                              for r in summary[:years_at - 1]]
    assert files[0].name in _only_alert(applied)["prompt"]
    assert [a["func"] for a in actions] == ["alert"]
    assert book.read_bytes() == before  # the master file is untouched


def test_the_export_button_waits_for_another_export_of_the_same_confirmed_list(master, tmp_path, monkeypatch):
    """The button writes the .xlsx and then the PDF: another export (the command line, a
    colleague's click) between the two left one's .xlsx beside the other's PDF. The button
    holds the pair's lock (export_lock) over both; as the command line does
    (tests/test_hostile_writes.py), it waits while another export holds it."""
    from lock_holder import waited_for_lock
    from renkei_xl.workbook.session import load_master

    book = _copy(master, tmp_path / "work" / "master.xlsm")
    monkeypatch.chdir(book.parent)
    outdir = book.parent / c.EXPORT_DIR
    outdir.mkdir()
    target = outdir / default_name(load_master(book).settings)
    payload = click_payload(book)
    applied, _actions = waited_for_lock(target, tmp_path, lambda: _run(buttons.export, payload))
    assert target.exists() and target.name in _only_alert(applied)["prompt"]


def test_export_on_the_desktop_refuses_a_read_only_pdf_before_writing_anything(master, tmp_path, monkeypatch):
    """With Excel behind the book the click also makes the PDF; a read-only PDF in 確定版 was
    found only after the new 確定版 was written, and the alert said 「何も書き込んでいません」
    beside it. Now it is refused first, and the folder stays as it was."""
    import os

    import renkei_xl.cycle.export as export
    from renkei_xl.excel.remote import RemoteBook
    from renkei_xl.workbook.session import load_master

    book = _copy(master, tmp_path / "work" / "master.xlsm")
    recalc_file(book)
    monkeypatch.chdir(book.parent)
    outdir = book.parent / c.EXPORT_DIR
    outdir.mkdir()
    payload = click_payload(book)
    monkeypatch.setattr(export, "soffice_pdf", lambda *_a: pytest.fail("converted although the PDF is read-only"))
    monkeypatch.setattr(RemoteBook, "is_desktop", True)     # as if Excel were behind the book,
    monkeypatch.setattr(buttons, "master_path", lambda _live: book)     # which knows the path
    pdf = (outdir / default_name(load_master(book).settings)).with_suffix(".pdf")
    pdf.write_bytes(b"mailed pdf")
    os.chmod(pdf, 0o444)
    applied, _actions = _run(buttons.export, payload)
    assert "読み取り専用" in _only_alert(applied)["prompt"]
    assert sorted(p.name for p in outdir.iterdir()) == [pdf.name] and pdf.read_bytes() == b"mailed pdf"


def _sapporo_04_1_made_zero(book: Path) -> None:
    """札幌市's 04-1 実績値 typed as 0 and saved: a change that moves 一覧's symbols."""
    wb = load_workbook(book, keep_vba=True)
    ws = wb["札幌市"]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "04-1")
    ws.cell(row, 5).value = 0
    wb.save(book)


def test_export_names_the_rows_the_master_list_shows_otherwise(master, tmp_path, monkeypatch):
    """The 確定版 is computed from the inputs; when the open book's 一覧 shows otherwise (not
    recalculated since a value changed), the alert names the rows, as the command line does."""

    book = _copy(master, tmp_path / "work" / "master.xlsm")
    recalc_file(book)
    monkeypatch.chdir(book.parent)
    applied, _actions = _run(buttons.export, click_payload(book))
    assert "【注意】" not in _only_alert(applied)["prompt"]
    _sapporo_04_1_made_zero(book)
    applied, _actions = _run(buttons.export, click_payload(book))
    prompt = _only_alert(applied)["prompt"]
    assert "【注意】マスターの「一覧」は、確定版（今の入力から計算した評価）と 2 指標で違います" in prompt, prompt
    assert "01-1、04-1" in prompt


def test_export_on_the_server_names_the_earlier_pdf_left_beside_a_changed_confirmed_list(master, tmp_path, monkeypatch):
    """The server makes no PDF: a 確定版 written again after a change kept the earlier .xlsx in
    its backup folder and left the PDF made of it beside the new one (by `export --pdf`, or a
    desktop click) without a word; the alert names it, as the command line does
    (tests/test_confirmed_pdf.py; cycle.export.replaced_note)."""
    from renkei_xl.workbook.session import load_master

    book = _copy(master, tmp_path / "work" / "master.xlsm")
    recalc_file(book)
    monkeypatch.chdir(book.parent)
    _run(buttons.export, click_payload(book))
    pdf = (book.parent / c.EXPORT_DIR / default_name(load_master(book).settings)).with_suffix(".pdf")
    pdf.write_bytes(b"%PDF-1.4 earlier list")
    _sapporo_04_1_made_zero(book)
    applied, _actions = _run(buttons.export, click_payload(book))
    prompt = _only_alert(applied)["prompt"]
    assert f"「{pdf.name}」は前の確定版の PDF のままで、今の確定版と内容が違います" in prompt, prompt


def test_export_on_the_desktop_does_not_call_the_pdf_it_just_made_old(master, tmp_path, monkeypatch):
    """With Excel behind the book the click makes the PDF after the .xlsx (export_data makes
    none): a changed 確定版's new PDF is the one beside it, and is not named as the earlier
    list's (replaced_note reads the PDF the click made).

    The two PDFs are printed by this process's running LibreOffice (realbooks.lo_convert),
    not by a LibreOffice started with a profile of its own for each (~1.5 CPU-s a PDF): what
    the alert names does not depend on which office printed them; export's own start of
    LibreOffice is held by test_print.py and test_cycle.py's exported master."""
    from conftest import require_soffice
    from realbooks import lo_convert
    import renkei_xl.cycle.export as export
    from renkei_xl.excel.remote import RemoteBook

    require_soffice()
    printed = []
    monkeypatch.setattr(export, "soffice_pdf", lambda _soffice, source, outdir: printed.append(source) or
                        lo_convert(source, outdir / (source.stem + ".pdf")))
    book = _copy(master, tmp_path / "work" / "master.xlsm")
    recalc_file(book)
    monkeypatch.chdir(book.parent)
    monkeypatch.setattr(RemoteBook, "is_desktop", True)     # as if Excel were behind the book,
    monkeypatch.setattr(buttons, "master_path", lambda _live: book)     # which knows the path
    _run(buttons.export, click_payload(book))
    _sapporo_04_1_made_zero(book)
    applied, _actions = _run(buttons.export, click_payload(book))
    prompt = _only_alert(applied)["prompt"]
    assert "前に書き出した内容の違う確定版は" in prompt and ".pdf" in prompt, prompt
    assert "前の確定版の PDF のまま" not in prompt, prompt
    assert len(printed) == 2, printed


def test_export_after_a_partial_collect_names_the_municipalities_not_yet_collected(master, tmp_path, monkeypatch):
    """確定版を書き出し once 取込履歴 holds one return: the alert names the municipalities whose
    return is not in yet, as the command line does; before any collect it says nothing of them.
    The return had cells collect held: the alert names them too (core.held), in the button's
    words, where only the command line was tested."""
    from renkei_xl.workbook.session import load_master

    book = _copy(master, tmp_path / "work" / "master.xlsm")
    recalc_file(book)
    monkeypatch.chdir(book.parent)
    applied, _actions = _run(buttons.export, click_payload(book))
    assert "取り込みがない市町村" not in _only_alert(applied)["prompt"]
    returned, _ind_id, _new = _returned_file(book, tmp_path, BAD_MUNICIPALITY, 3, held=HELD_TEXTS)
    assert cli_main(["collect", str(book), str(returned)]) == 1
    recalc_file(book)
    applied, _actions = _run(buttons.export, click_payload(book))
    prompt = _only_alert(applied)["prompt"]
    rest = [m for m in load_master(book).settings.names if m != BAD_MUNICIPALITY]
    # as many names as the box holds beside the held cells (all eleven without them)
    assert (f"【注意】シート「取込履歴」に回収ファイルの取り込みがない市町村があります（{len(rest)} 市町村）: "
            f"{rest[0]}") in prompt, prompt
    assert len(prompt) <= BUTTON_CHARS, len(prompt)
    assert ("\n【注意】「回収ファイル取込」で取り込まなかったセルが 3 か所、まだマスターに入力されていません（その市町村は"
            f"取り込み済みです）:\n・{BAD_MUNICIPALITY}!") in prompt and "「約10件」は" in prompt, prompt
    # the step in the button's words; on a longer temporary folder (the 保存先 lines) the box
    # cuts it in its middle, its start and end kept, or leaves it out (a plain line)
    steps = [line for line in prompt.split("\n") if line.startswith("　マスターのそのセルに値を入力するか")]
    assert all(step.endswith("もう一度書き出してください。") and ("「回収ファイル取込」を押して" in step or ELLIPSIS in step)
               for step in steps), steps
    assert "renkei-xl" not in prompt, prompt


def test_rollover_after_a_partial_collect_names_the_municipalities_not_yet_collected(master, tmp_path, monkeypatch, capsys):
    """次年度のマスターを作成 once 取込履歴 holds one return: 経年's closed year and the
    前年度実績 columns were taken from eleven municipality sheets no return ever reached, and
    neither face said so, where 確定版を書き出し names them (qa-140). Both faces now name them,
    with the way a late return reaches the new master; before any collect, nothing."""
    from renkei_xl.workbook.session import load_master

    book = _copy(master, tmp_path / "work" / "さっぽろ圏_2023年度_マスター.xlsm")
    monkeypatch.chdir(book.parent)
    later = book.with_name("さっぽろ圏_2024年度_マスター.xlsm")
    applied, _actions = _run(buttons.rollover, click_payload(book))
    assert "取り込みがない市町村" not in _only_alert(applied)["prompt"]
    later.unlink()
    returned, _ind_id, _new = _returned_file(book, tmp_path, BAD_MUNICIPALITY, 3)
    assert cli_main(["collect", str(book), str(returned)]) == 0
    recalc_file(book)
    rest = [m for m in load_master(book).settings.names if m != BAD_MUNICIPALITY]
    head = f"【注意】シート「取込履歴」に回収ファイルの取り込みがない市町村があります（{len(rest)} 市町村）: "
    capsys.readouterr()
    assert cli_main(["rollover", str(book)]) == 0
    out = capsys.readouterr().out
    assert head + "、".join(rest) + "\n" in out, out
    assert f"renkei-xl history import {later.name} {book.name} で" in out, out
    # the return collected as the command line does it (it said 「2023年度のマスターで取り込み」)
    assert f"　回答が届いたら、2023年度のマスターで renkei-xl collect {book.name} 回収 を実行し、" in out, out
    later.unlink()
    applied, _actions = _run(buttons.rollover, click_payload(book))
    prompt = _only_alert(applied)["prompt"]      # as many names as the message box holds
    assert head + rest[0] in prompt, prompt
    assert f"renkei-xl history import {later.name} {book.name} で" in prompt, prompt
    assert "　回答が届いたら、2023年度のマスターで「回収ファイル取込」を押し、" in prompt, prompt


def test_rollover_with_an_input_error_gives_the_command_line_its_command_on_every_face(master, tmp_path, monkeypatch,
                                                                                       capsys):
    """次年度のマスターを作成 of a year with an input error says how the corrected year reaches
    the new master: ``renkei-xl history import`` run in the closed year's folder, both masters
    by their names, as the command line and the partial-collect caution say it. The button
    named the new master by the path it shows (on the server the share's:
    「\\\\fs\\renkei\\2023年度\\さっぽろ圏_2024年度_マスター.xlsm」) and the old one by its
    name, a command for no one folder, long enough that the message box cut it in its middle
    (qa-143, a year by the buttons with a municipality added to 設定 without its sheet)."""
    import openpyxl

    book = _copy(master, tmp_path / "work" / "さっぽろ圏_2023年度_マスター.xlsm")
    wb = openpyxl.load_workbook(book, keep_vba=True)
    wb["札幌市"]["E2"] = "約10件"
    wb.save(book)
    later, command, out = _rolled_over_on_the_command_line(book, monkeypatch, capsys)
    assert "入力エラーが 1 件ありました" in out and command in out, out
    later.unlink()
    applied, _actions = _run(buttons.rollover, click_payload(book))
    prompt = _only_alert(applied)["prompt"]
    assert "入力エラーが 1 件ありました" in prompt and command in prompt, prompt


def _rolled_over_on_the_command_line(book: Path, monkeypatch, capsys) -> tuple[Path, str, str]:
    """(the 2024 master, the catch-up command as both faces should give it, what the command
    line printed) of `renkei-xl rollover` run in ``book``'s folder, as staff run it."""
    monkeypatch.chdir(book.parent)
    later = book.with_name("さっぽろ圏_2024年度_マスター.xlsm")
    capsys.readouterr()
    assert cli_main(["rollover", str(book)]) == 0
    return later, f"renkei-xl history import {later.name} {book.name} で", capsys.readouterr().out


def test_a_rollover_of_the_fy2023_sample_keeps_where_the_new_master_is_and_what_to_do(master, tmp_path, monkeypatch,
                                                                                      capsys):
    """次年度のマスターを作成 on the FY2023 sample, a worst realistic case: one input error, the
    13 targets past, eleven municipalities not collected, 一覧 never recalculated, the master
    in a deep folder. The message was over the box's budget by its fixed lines alone, and its
    first line, where the new master is, was cut in its middle (client-146; on the server, to
    「20」: qa-149). Now what was carried gives way first; the new master's place, the cell to
    mend and the command stay whole, the step said once and how to save first (a button's
    collect writes the open book). The command line, without a budget, says all of it.
    The one return collected has cells collect held: their 【注意】 (core.held) took the box
    past its budget by its floor alone, and the command was cut in its middle again
    (「renke…（中略）…績」); now their first cell and step give way (取込履歴 lists them), the
    heading stays, in the button's words."""
    book = _copy(master, tmp_path / "さっぽろ連携中枢都市圏" / "連携事業実施状況等一覧" / "2023年度"
                 / "さっぽろ圏_2023年度_マスター.xlsm")
    returned, _ind_id, _new = _returned_file(book, tmp_path, BAD_MUNICIPALITY, 3, held=HELD_TEXTS)
    assert cli_main(["collect", str(book), str(returned)]) == 1
    _put_now(book, "札幌市", "E2", BAD_VALUE)
    later, command, out = _rolled_over_on_the_command_line(book, monkeypatch, capsys)
    assert out.startswith(f"2024年度のマスターを作成しました: {later}\n"), out
    assert "・指標 80 件" in out and "目標の年度が過ぎている指標 13 件" in out and "…ほか 3 件" in out, out
    assert "80 指標で違います（すべての指標です" in out and "札幌市!E2 " in out and "上書き保存" not in out, out
    assert out.count(command) == 1 and "上と同じ手順で" in out, out
    held = "【注意】「回収ファイル取込」で取り込まなかったセルが 3 か所、まだ2023年度のマスターに入力されていません"
    assert held in out and f"renkei-xl collect {book.name} 回収 を実行して取り込んでから、上と同じ手順で" in out, out
    assert "【注意】2023年度の「一覧」は、今の入力から計算した評価と 80 指標で違います" in out, out
    later.unlink()
    applied, _actions = _run(buttons.rollover, click_payload(book))
    prompt = _only_alert(applied)["prompt"]
    assert len(prompt) <= BUTTON_CHARS, len(prompt)
    assert prompt.startswith(f"2024年度のマスターを作成しました: {later}\n"), prompt
    assert "札幌市!E2 " in prompt and "取り込みがない市町村があります（11 市町村）: 札幌市" in prompt, prompt
    assert "上書き保存してから、" + command + "、2024年度のマスターの" in prompt, prompt
    assert held in prompt and "（シート「取込履歴」の「取り込まなかったセル」にあります）" in prompt, prompt
    assert "renkei-xl collect" not in prompt, prompt
    assert "・指標 80 件" not in prompt and prompt.count(ELLIPSIS) <= 1, prompt
    assert prompt.endswith("新しいマスターを開き、「配布用ファイル作成」から新しい年度の作業を始めてください。"), prompt


def test_export_and_split_say_what_the_command_line_says(master, tmp_path, monkeypatch):
    """確定版を書き出し on a master with input errors: a clear line with their count (the
    command exits 1). 配布用ファイル作成 over a different file of the same name: kept, and said."""
    import openpyxl

    book = _copy(master, tmp_path / "work" / "master.xlsm")
    wb = openpyxl.load_workbook(book, keep_vba=True)
    wb["札幌市"]["E2"] = "約10件"
    wb.save(book)
    monkeypatch.chdir(book.parent)
    applied, _actions = _run(buttons.export, click_payload(book))
    assert "【注意】入力エラーが 1 件あります" in _only_alert(applied)["prompt"]
    outdir = book.parent / c.SPLIT_DIR
    outdir.mkdir()
    (outdir / file_name("小樽市", 2023)).write_bytes(b"a returned file")
    applied, _actions = _run(buttons.split, click_payload(book))
    prompt = _only_alert(applied)["prompt"]
    assert "上書きする前に" in prompt and file_name("小樽市", 2023) in prompt, prompt
    kept = list((outdir / (Path(file_name("小樽市", 2023)).stem + "_バックアップ")).iterdir())
    assert [k.read_bytes() for k in kept] == [b"a returned file"]



def test_export_names_a_status_the_printed_list_cuts_off(master, tmp_path, monkeypatch):
    """A 連携事業実施状況等 longer than Excel's tallest row shows is cut in the 確定版 and its
    PDF; the click said nothing of it. Now its alert names the 指標 cell, as the command does."""
    import openpyxl

    from renkei_xl.cycle.export import cut_note, export_master

    book = _copy(master, tmp_path / "work" / "master.xlsm")
    monkeypatch.chdir(book.parent)
    applied, _actions = _run(buttons.export, click_payload(book))
    assert "途中までしか" not in _only_alert(applied)["prompt"]
    wb = openpyxl.load_workbook(book, keep_vba=True)
    ws = wb[c.INDICATORS]
    head = next(r for r in ws.iter_rows(max_row=c.HEADER_SEARCH_ROWS) if any(x.value == "指標ID" for x in r))
    col = {x.value: x.column for x in head}
    row = next(r for r in range(head[0].row + 1, ws.max_row + 1) if ws.cell(r, col["指標ID"]).value == "03-1")
    cell = ws.cell(row, col["実施状況（手入力）"])
    cell.value = cell.value * 10
    wb.save(book)
    applied, _actions = _run(buttons.export, click_payload(book))
    prompt = _only_alert(applied)["prompt"]
    assert f"{c.INDICATORS}!{cell.coordinate}（03-1）" in prompt and "途中までしか" in prompt, prompt
    assert cut_note(export_master(book, tmp_path / "cli.xlsx").result) in prompt

def _returned_file(master_copy: Path, tmp_path: Path, municipality: str, delta: int,
                   held: Sequence[str] = ()) -> tuple[Path, str, object]:
    """A municipality's input file as it comes back: one 実績値 changed by ``delta``; with
    ``held``, the numeric 実績値 after it typed as these texts, which collect holds."""
    from renkei_xl.cycle.distribute import split_master

    outdir = tmp_path / "issued"
    issued = {p.name: p for p in split_master(master_copy, outdir)}
    src = issued[file_name(municipality, 2023)]
    wb = load_workbook(src)
    ws = wb[municipality]
    cols = {cell.value: cell.column for row in ws.iter_rows(max_row=c.HEADER_SEARCH_ROWS)
            for cell in row if cell.value in ("指標ID", "実績値")}
    first = next(cell.row for row in ws.iter_rows(max_row=c.HEADER_SEARCH_ROWS)
                 for cell in row if cell.value == "実績値") + 1
    for r in range(first, ws.max_row + 1):
        value = ws.cell(r, cols["実績値"]).value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            new = value + delta
            ws.cell(r, cols["実績値"]).value = new
            ind_id = ws.cell(r, cols["指標ID"]).value
            break
    else:
        raise AssertionError("no numeric 実績値 to change")
    later = [row for row in range(r + 1, ws.max_row + 1) if isinstance(ws.cell(row, cols["実績値"]).value, (int, float))]
    assert len(later) >= len(held), (municipality, len(later))
    for row, text in zip(later, held):
        ws.cell(row, cols["実績値"]).value = text
    wb.save(src)
    return src, str(ind_id), new


def test_collect_applies_returned_values_and_logs_them_through_excel(master, tmp_path, monkeypatch):
    book = _copy(master, tmp_path / "work" / "master.xlsm")
    monkeypatch.chdir(book.parent)
    returned, ind_id, new = _returned_file(book, tmp_path, BAD_MUNICIPALITY, 3)
    inbox = book.parent / c.COLLECT_DIR
    _copy(returned, inbox / returned.name)

    payload = click_payload(book)
    before = book.read_bytes()
    applied, actions = _run(buttons.collect, payload)
    prompt = _only_alert(applied)["prompt"]
    assert applied.alerts[0]["mode"] == "info", prompt
    assert book.read_bytes() == before  # the button writes through Excel, never the file

    # the changed cell, found the way the reader finds it
    from renkei_xl.excel.engines import live_book

    data = live_book(remote_book(payload)).read()
    entry = next(e for e in data.entries if e.municipality == BAD_MUNICIPALITY and e.indicator_id == ind_id)
    assert applied.value(BAD_MUNICIPALITY, entry.cell("value")) == new
    assert f"{BAD_MUNICIPALITY}!{entry.cell('value')}" in prompt and returned.name in prompt

    from renkei_xl.cycle.collect import LOG_COLUMNS, read_import_log

    log = applied.rows(c.IMPORT_LOG)
    assert log[0] == list(LOG_COLUMNS)
    history = read_import_log(log)
    assert [(h.file_name, h.municipality, h.changed_cells) for h in history] == [
        (returned.name, BAD_MUNICIPALITY, 1)]

    # The same file again, from the workbook as it now is: already imported, nothing written.
    after = json.loads(json.dumps(payload, ensure_ascii=False))
    after["sheets"] = [{"name": s, "values": [["" if v is None else v for v in row]
                                              for row in applied.rows(s)] or [[]],
                        "pictures": [], "tables": []} for s in applied.order]
    again, actions = _run(buttons.collect, after)
    assert [a["func"] for a in actions] == ["alert"]
    assert returned.name in _only_alert(again)["prompt"] and "取り込み済み" in again.alerts[0]["prompt"]


def test_collect_fits_many_refused_files_into_the_message_box_and_keeps_its_closing_lines(master, tmp_path,
                                                                                         monkeypatch):
    """24 refused files (PDFs of the answers, old .xls copies) made the alert 2,396 characters;
    xlwings' VBA client shows it with MsgBox, which shows about 1,024 and drops the rest
    without a sign: the end of the list, 「続けて「評価を再計算」を押してください」 and where the
    record is. Every list now gives way to fit (core.alerts), each counting what it leaves
    out and saying where to find it; the closing lines stay."""
    from renkei_xl.core.alerts import BUTTON_CHARS

    book = _copy(master, tmp_path / "work" / "master.xlsm")
    monkeypatch.chdir(book.parent)
    inbox = book.parent / c.COLLECT_DIR
    returned, _ind_id, _new = _returned_file(book, tmp_path, BAD_MUNICIPALITY, 3)
    _copy(returned, inbox / returned.name)
    refused = {f"{municipality}_回答_{i}.pdf" for i, municipality in enumerate(["札幌市", "江別市", "千歳市"] * 8)}
    for name in refused:
        (inbox / name).write_bytes(b"%PDF-1.4")
    applied, _actions = _run(buttons.collect, click_payload(book))
    prompt = _only_alert(applied)["prompt"]
    assert len(prompt) <= BUTTON_CHARS, len(prompt)
    assert prompt.endswith("続けて「評価を再計算」を押してください。\n取り込みの記録はシート「取込履歴」にあります。"), prompt
    lines = prompt.split("\n")
    listed = [line for line in lines if line.startswith("・") and line[1:].split(": ")[0] in refused]
    more = re.search(r"…ほか (\d+) 件（上のファイルを直すか回収フォルダーから移してから、もう一度「回収ファイル取込」を押すと",
                     prompt)
    assert listed and more and len(listed) + int(more.group(1)) == len(refused) == 24, prompt
    assert "取り込めないファイル 24 件" in prompt and f"・{BAD_MUNICIPALITY}!" in prompt and returned.name in prompt

    # The next click, the files shown moved away (the one imported is not imported again),
    # lists the rest.
    for line in listed:
        (inbox / line[1:].split(": ")[0]).unlink()
    again, _actions = _run(buttons.collect, payload_after(click_payload(book), applied))
    prompt = _only_alert(again)["prompt"]
    assert f"取り込めないファイル {24 - len(listed)} 件" in prompt and "取り込み済みのファイル 1 件" in prompt, prompt
    assert len(prompt) <= BUTTON_CHARS


def test_split_for_forty_municipalities_fits_the_message_box(tmp_path, licensed, monkeypatch):
    """The files split writes were all listed: 40 municipalities (the most the server serves)
    gave over 1,100 characters. The list gives way and says where the files are."""
    import sys

    from renkei_xl.core.alerts import BUTTON_CHARS
    from renkei_xl.workbook.build import build_master

    sys.path.insert(0, str(REPO / "benchmarks"))
    from run import synthetic

    book = build_master(tmp_path / "forty.xlsm", *synthetic(14, 40))     # a master with buttons
    monkeypatch.chdir(tmp_path)
    applied, _actions = _run(buttons.split, click_payload(book))
    prompt = _only_alert(applied)["prompt"]
    assert applied.alerts[0]["mode"] == "info" and len(prompt) <= BUTTON_CHARS, (len(prompt), prompt)
    assert prompt.startswith("市町村ごとの入力用ファイルを 40 件作りました。")
    assert prompt.endswith("それぞれの市町村にメールで送ってください。")
    listed = [line for line in prompt.split("\n") if line.startswith("・") and line.endswith(".xlsx")]
    more = re.search(r"…ほか (\d+) 件（保存先のフォルダーにあります）", prompt)
    assert listed and more and len(listed) + int(more.group(1)) == 40, prompt


def test_collect_history_is_created_with_its_looks_then_appended_by_header(master, tmp_path, monkeypatch):
    from renkei_xl.cycle.collect import LOG_COLUMNS

    book = _copy(master, tmp_path / "work" / "master.xlsm")
    monkeypatch.chdir(book.parent)
    inbox = book.parent / c.COLLECT_DIR
    returned, _ind, _new = _returned_file(book, tmp_path / "a", BAD_MUNICIPALITY, 3)
    _copy(returned, inbox / returned.name)
    payload = click_payload(book)
    assert c.IMPORT_LOG not in [s["name"] for s in payload["sheets"]]
    first, _ = _run(buttons.collect, payload)
    assert _only_alert(first)["mode"] == "info"
    looks = applied_looks(first, c.IMPORT_LOG)
    stamp = LOG_COLUMNS.index("取込日時") + 1
    assert all(looks[(1, col)] == look_attrs(LOOKS["header"]) for col in range(1, len(LOG_COLUMNS) + 1))
    assert looks[(2, stamp)] == look_attrs(LOOKS["datetime"])
    assert first.freeze[c.IMPORT_LOG] == (2, 1)

    # staff move a column: the next record still goes under its header, with its format
    after = payload_after(payload, first)
    log = next(s for s in after["sheets"] if s["name"] == c.IMPORT_LOG)
    log["values"] = [list(reversed(row)) for row in log["values"]]
    other = "江別市"
    returned, _ind, _new = _returned_file(book, tmp_path / "b", other, 5)
    _copy(returned, inbox / returned.name)
    second, _ = _run(buttons.collect, after)
    assert _only_alert(second)["mode"] == "info", second.alerts[0]["prompt"]
    rows = second.rows(c.IMPORT_LOG)
    header = [v for v in rows[0]]
    assert header == list(reversed(LOG_COLUMNS))
    assert rows[2][header.index("市町村")] == other
    assert second.formats[(c.IMPORT_LOG, f"{chr(ord('A') + header.index('取込日時'))}3")] == c.DATETIME_FORMAT


def test_collect_refuses_a_broken_file_and_changes_nothing(master, tmp_path, monkeypatch):
    book = _copy(master, tmp_path / "work" / "master.xlsm")
    monkeypatch.chdir(book.parent)
    inbox = book.parent / c.COLLECT_DIR
    inbox.mkdir()
    (inbox / "小樽市_2023年度_入力.xlsx").write_bytes(b"PK\x03\x04 truncated")
    applied, actions = _run(buttons.collect, click_payload(book))
    assert [a["func"] for a in actions] == ["alert"]
    prompt = _only_alert(applied)["prompt"]
    assert "小樽市_2023年度_入力.xlsx" in prompt and "取り込めない" in prompt


def test_collect_refuses_a_return_named_for_another_municipality_as_the_command_line_does(
        master, tmp_path, monkeypatch):
    """岩見沢市 filled in 恵庭市's file and sent it back as its own: the alert names it refused,
    with what to do, and the open master is not written (plan_collect, both faces)."""
    book = _copy(master, tmp_path / "work" / "master.xlsm")
    monkeypatch.chdir(book.parent)
    returned, _ind, _new = _returned_file(book, tmp_path, "恵庭市", 3)
    misnamed = _copy(returned, book.parent / c.COLLECT_DIR / file_name("岩見沢市", 2023))
    applied, actions = _run(buttons.collect, click_payload(book))
    assert [a["func"] for a in actions] == ["alert"]
    prompt = _only_alert(applied)["prompt"]
    assert (f"・{misnamed.name}: ファイル名は岩見沢市を指していますが、中身は恵庭市の入力用ファイルです" in prompt), prompt
    assert "ファイル名を「恵庭市_2023年度_入力.xlsx」に変えてから" in prompt


def test_collect_imports_one_attachment_saved_twice_once_and_names_the_copy_as_the_command_line_does(
        master, tmp_path, monkeypatch):
    """The same return saved twice (「… (1).xlsx」): one is imported, the copy is named as the
    same content, not among the files that could not be taken."""
    book = _copy(master, tmp_path / "work" / "master.xlsm")
    monkeypatch.chdir(book.parent)
    returned, _ind, _new = _returned_file(book, tmp_path, "恵庭市", 3)
    first = _copy(returned, book.parent / c.COLLECT_DIR / file_name("恵庭市", 2023))
    twin = _copy(returned, first.with_name(f"{first.stem} (1).xlsx"))
    applied, _actions = _run(buttons.collect, click_payload(book))
    prompt = _only_alert(applied)["prompt"]
    assert "取り込めないファイル" not in prompt, prompt
    assert f"同じ内容のファイル 1 件（1 つだけ取り込みます）:\n・{twin.name}: 「{first.name}」と同じ内容のファイルです" in prompt
    assert f"1 件のファイルを取り込みました: {first.name}（恵庭市）" in prompt, prompt


def test_collect_after_rollover_warns_that_next_years_master_lacks_the_values(master, tmp_path, monkeypatch, capsys):
    """A late return collected into the 2023 master when the 2024 master is made beside it:
    imported, and the alert says (as the command line does) that the 2024 master's 経年 and
    前年度実績 do not hold it yet, and the command that brings the year in."""
    from renkei_xl.cycle.rollover import rollover_file

    book = _copy(master, tmp_path / "work" / "master.xlsm")
    monkeypatch.chdir(book.parent)
    later = rollover_file(book).path
    returned, ind_id, _new = _returned_file(book, tmp_path, BAD_MUNICIPALITY, 3)
    _copy(returned, book.parent / c.COLLECT_DIR / returned.name)
    applied, _actions = _run(buttons.collect, click_payload(book))
    prompt = _only_alert(applied)["prompt"]
    assert f"{len([returned])} 件のファイルを取り込みました" in prompt, prompt
    assert (f"【注意】2024年度のマスター「{later}」が、すでに作られています。" in prompt
            and f"（{BAD_MUNICIPALITY} {ind_id}）" in prompt), prompt
    assert f"renkei-xl history import {later.name} {book.name} で" in prompt
    # The button wrote the import into the open book, and the command reads the saved file:
    # the step says to save it first (client-146). The command line's collect wrote the file.
    assert "一覧を確かめ、上書き保存してから、renkei-xl history import" in prompt, prompt
    # Each face says the recalc its own way (core.face.step): the button's caption on the
    # button; the command line was told 「「評価を再計算」を押して」 right after its own
    # 「renkei-xl recalc …」, and has no button.
    assert "2023年度のマスターで「評価を再計算」を押して一覧を確かめ" in prompt, prompt
    capsys.readouterr()
    assert cli_main(["collect", str(book), str(book.parent / c.COLLECT_DIR)]) == 1
    out = capsys.readouterr().out
    assert (f"2023年度のマスターで renkei-xl recalc {book.name} を実行して一覧を確かめてから、"
            f"renkei-xl history import {later.name} {book.name} で") in out, out
    assert "上書き保存" not in out and "押して" not in out, out


def test_collect_leaves_a_row_with_an_error_value_as_the_command_line_does(master, tmp_path, monkeypatch):
    """Both faces: the row holding #REF! keeps the master's value, the other rows come in,
    the cell is named in the alert and on 取込履歴 (issue 19)."""
    from renkei_xl.cycle.distribute import split_master
    from renkei_xl.excel.engines import live_book

    book = _copy(master, tmp_path / "work" / "master.xlsm")
    monkeypatch.chdir(book.parent)
    issued = {p.name: p for p in split_master(book, tmp_path / "issued")}
    returned = _copy(issued[file_name(BAD_MUNICIPALITY, 2023)],
                     book.parent / c.COLLECT_DIR / file_name(BAD_MUNICIPALITY, 2023))
    # 小樽市's file: G20 is 04-1's 実績値, G22 is 06-1's (see test_hostile_files.RETURNED)
    rewrite_cells(returned, "xl/worksheets/sheet1.xml", {
        "G20": '<c r="G20" t="e"><f>#REF!+1</f><v>#REF!</v></c>', "G22": '<c r="G22"><v>5</v></c>'})

    payload = click_payload(book)
    data = live_book(remote_book(payload)).read()
    cell = {e.indicator_id: e.cell("value") for e in data.entries if e.municipality == BAD_MUNICIPALITY}
    applied, _actions = _run(buttons.collect, payload)
    prompt = _only_alert(applied)["prompt"]
    assert f"{BAD_MUNICIPALITY}!G20 04-1: 実績値がエラー値「#REF!」です" in prompt, prompt
    assert "取り込まなかったセル 1 か所" in prompt, prompt
    assert applied.value(BAD_MUNICIPALITY, cell["04-1"]) == 2     # the master's value, kept
    assert applied.value(BAD_MUNICIPALITY, cell["06-1"]) == 5     # the rest came in
    log = applied.rows(c.IMPORT_LOG)
    assert log[0][-2:] == ["取り込まなかったセル", "取込時のマスターの値"], log
    assert log[1][-2].startswith(f"{BAD_MUNICIPALITY}!G20（"), log
    assert log[1][-1] == f"{BAD_MUNICIPALITY}!G20（04-1 実績値）: 「2」", log     # the master's value, kept

    # The command line on the same master and file: the same cells, the same record.
    code = cli_main(["collect", str(book), str(returned)])
    assert code == 1
    wb = load_workbook(book)
    assert wb[BAD_MUNICIPALITY][cell["04-1"]].value == 2 and wb[BAD_MUNICIPALITY][cell["06-1"]].value == 5
    rows = list(wb[c.IMPORT_LOG].iter_rows(values_only=True))
    assert rows[1][-1] == log[1][-1]


def _split_and_returned_with_06_1(master, tmp_path, monkeypatch):
    """A working copy of ``master`` split, and BAD_MUNICIPALITY's file returned into its
    collect folder with 5 typed as 06-1's 実績値."""
    from renkei_xl.cycle.distribute import split_master

    book = _copy(master, tmp_path / "work" / "master.xlsm")
    monkeypatch.chdir(book.parent)
    issued = {p.name: p for p in split_master(book, tmp_path / "issued")}
    returned = _copy(issued[file_name(BAD_MUNICIPALITY, 2023)],
                     book.parent / c.COLLECT_DIR / file_name(BAD_MUNICIPALITY, 2023))
    rewrite_cells(returned, "xl/worksheets/sheet1.xml", {"G22": '<c r="G22"><v>5</v></c>'})   # 06-1's 実績値
    return book, returned


def test_collect_takes_a_return_without_a_row_added_since_the_split_and_names_it_as_the_command_line_does(
        master, tmp_path, monkeypatch):
    """Staff add 03-1's row to 小樽市's sheet after the split: the return is taken for its rows
    and 03-1 named as not in it, by the button as by the command line, and in 取込履歴 alike."""
    from renkei_xl.excel.engines import live_book

    book, returned = _split_and_returned_with_06_1(master, tmp_path, monkeypatch)
    wb = load_workbook(book, keep_vba=True)
    ws = wb[BAD_MUNICIPALITY]
    ws.append(["03-1"])
    added_at = f"{BAD_MUNICIPALITY}!A{ws.max_row}"
    wb.save(book)

    payload = click_payload(book)
    data = live_book(remote_book(payload)).read()
    cell = {e.indicator_id: e.cell("value") for e in data.entries if e.municipality == BAD_MUNICIPALITY}
    applied, _actions = _run(buttons.collect, payload)
    prompt = _only_alert(applied)["prompt"]
    assert f"{added_at} 03-1: 配布した後でマスターの市町村シートに加わった行です" in prompt, prompt
    assert "取り込めないファイル" not in prompt, prompt
    assert applied.value(BAD_MUNICIPALITY, cell["06-1"]) == 5
    log = applied.rows(c.IMPORT_LOG)
    assert log[1][6].startswith(f"{added_at}（配布した後でマスターの市町村シートに加わった行です"), log

    code = cli_main(["collect", str(book), str(returned)])
    assert code == 1
    wb = load_workbook(book)
    assert wb[BAD_MUNICIPALITY][cell["06-1"]].value == 5
    assert list(wb[c.IMPORT_LOG].iter_rows(values_only=True))[1][6] == log[1][6]


def test_collect_keeps_a_correction_made_after_split_and_holds_a_cell_changed_on_both_sides(
        master, tmp_path, monkeypatch):
    """R-D6 on the button face: staff corrected 04-1 and 06-1 in the open master after the
    split; the municipality left 04-1 as issued and typed 5 into 06-1."""
    from renkei_xl.core.refs import parse_ref
    from renkei_xl.excel.engines import live_book

    book, returned = _split_and_returned_with_06_1(master, tmp_path, monkeypatch)

    payload = click_payload(book)
    data = live_book(remote_book(payload)).read()
    cell = {e.indicator_id: e.cell("value") for e in data.entries if e.municipality == BAD_MUNICIPALITY}
    values = next(s for s in payload["sheets"] if s["name"] == BAD_MUNICIPALITY)["values"]
    for ind_id, corrected in (("04-1", 9), ("06-1", 7)):
        row, col = parse_ref(cell[ind_id])
        values[row - 1][col - 1] = corrected
    applied, _actions = _run(buttons.collect, payload)
    prompt = _only_alert(applied)["prompt"]
    assert (f"マスターの値のまま: {returned.name}: {BAD_MUNICIPALITY}!{cell['04-1']} 04-1: 配布した後でマスターで"
            "直した実績値「9」を残しました（回答ではこのセルは配布時の「2」のままでした）") in prompt, prompt
    assert (f"{BAD_MUNICIPALITY}!G22 06-1: 配布した後でマスターの実績値が「1」から「7」に直され、回答でも「5」に"
            "変わっています") in prompt, prompt
    assert "取り込まなかったセル 1 か所" in prompt and "値はマスターと同じでした" not in prompt
    assert applied.value(BAD_MUNICIPALITY, cell["04-1"]) == 9    # not written over
    assert applied.value(BAD_MUNICIPALITY, cell["06-1"]) == 7    # held


# ----------------------------------------------- every button at its worst realistic size

# A master as deep as staff keep it on a department's share (Excel's 218 characters for a
# file's path leave room for it): the folder and file lines alone take a quarter of the box.
DEEP_FOLDER = Path("企画政策部") / "地域連携課" / "連携中枢都市圏担当" / "さっぽろ連携中枢都市圏" / "2023年度"


# Where the worst cases are built: a folder whose path is always this long, whatever pytest
# names its own (its tmp_path grows by 「popen-gw1/」 under xdist, and a number of digits
# with the runs), since these messages sit near the box's edge and each character of the
# path is said two or three times. 62: pytest's own path for these tests run alone.
WORST_ROOT_CHARS = 62


@pytest.fixture
def worst_root():
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="renkei-worst-"))
    pad = WORST_ROOT_CHARS - len(str(base)) - 1
    assert pad >= 6, f"the temporary folder {base} is too long for these tests"
    root = base / ("share" + "_" * (pad - 5))
    root.mkdir()
    assert len(str(root)) == WORST_ROOT_CHARS
    yield root
    shutil.rmtree(base, ignore_errors=True)


def _deep(master: Path, root: Path) -> Path:
    return _copy(master, root / DEEP_FOLDER / "さっぽろ圏_2023年度_マスター.xlsm")


def _fits(applied) -> str:
    prompt = _only_alert(applied)["prompt"]
    assert len(prompt) <= BUTTON_CHARS, (len(prompt), prompt)
    return prompt


def test_check_and_recalc_with_every_answer_wrong_name_the_first_cell_and_where_the_rest_are(master, worst_root,
                                                                                          monkeypatch):
    """入力チェック and 評価を再計算 with 152 実績値 typed as 「約10件」 (and their 分母 as words)
    across all 12 municipalities: 165 errors and 150 warnings. The box holds the first cells
    to mend, how many more and where they are (検証結果), and the closing line."""
    book = _deep(master, worst_root)
    wb = load_workbook(book, keep_vba=True)
    for name in load_master_names(book):
        ws = wb[name]
        for r in range(2, ws.max_row + 1):
            if ws.cell(r, 1).value:
                ws.cell(r, 5).value, ws.cell(r, 6).value = BAD_VALUE, "たくさん"
    wb.save(book)
    monkeypatch.chdir(book.parent)
    payload = click_payload(book)
    for entry, closing in ((buttons.check, "結果はシート「検証結果」にあります（セル欄をクリックすると該当のセルへ移動します）。"),
                           (buttons.recalc, "シート「一覧」「集計」「次の一歩」「検証結果」を作り直しました。")):
        prompt = _fits(_run(entry, payload)[0])
        assert "検証: エラー 165 件、警告 150 件\n・[エラー] 札幌市!E2 02-1: 実績値: 「約10件」は" in prompt, prompt
        assert re.search(r"…ほか \d+ 件（シート「検証結果」を見てください）", prompt) and prompt.endswith(closing), prompt


def load_master_names(book: Path) -> list[str]:
    from renkei_xl.workbook.session import load_master

    return list(load_master(book).settings.names)


def test_split_again_after_changes_keeps_where_the_backups_are_and_each_cautions_heading(master, worst_root,
                                                                                       monkeypatch):
    """配布用ファイル作成 a second time, after every municipality sheet changed and 26 評価指標
    were renamed in 指標: twelve files backed up, 26 × sheets stale. The message was over
    the box, and gave way by lines: the line saying where the backups are was left out while
    「バックアップを「回収」フォルダーに移して」 stayed, and the 【注意】 heading went while its
    cells 「札幌市!C2（02-1）「…」→ 指標では「…」」 stood alone (qa-150). Now the folder, the
    backups' place and each heading stay whole; the lists give way."""
    book = _deep(master, worst_root)
    monkeypatch.chdir(book.parent)
    _fits(_run(buttons.split, click_payload(book))[0])
    wb = load_workbook(book, keep_vba=True)
    for i, name in enumerate(load_master_names(book)):
        wb[name].cell(2, 5).value = 700 + i
    for r in range(4, 30):
        wb[c.INDICATORS].cell(r, 6).value = f"{wb[c.INDICATORS].cell(r, 6).value or ''}（改）"
    wb.save(book)
    prompt = _fits(_run(buttons.split, click_payload(book))[0])
    outdir = book.parent / c.SPLIT_DIR
    first = next((outdir / "札幌市_2023年度_入力_バックアップ").iterdir())
    assert f"\n保存先: {outdir}\n" in prompt, prompt
    assert ("同じ名前で内容の違うファイルが 12 件あったため、上書きする前にそれぞれ「（ファイル名）_バックアップ」フォルダーに"
            f"残しました（例: {first}）\n") in prompt, prompt
    assert "\n　市町村が入力したファイルだった場合は、バックアップを「回収」フォルダーに移して取り込んでください。\n" in prompt
    assert ("\n【注意】市町村のシートの連携事業名・評価指標が指標シートと違うため、入力用ファイルには市町村のシートの"
            "言葉のまま載っています（") in prompt, prompt
    assert ELLIPSIS not in prompt and prompt.endswith("\nそれぞれの市町村にメールで送ってください。"), prompt


def test_collect_of_twelve_returns_after_rollover_keeps_each_heading_the_next_masters_place_and_the_command(
        master, tmp_path, worst_root, monkeypatch):
    """回収ファイル取込 of the twelve returns, the 2024 master already made beside: files
    refused, rows held (the master corrected after the split and the return changed too),
    cells rewritten, the late-year step. Over the box by its fixed lines, the 【注意】 naming
    where the 2024 master is was cut through its path, and next the heading of the held
    cells, which says what to do with them (qa-150). Now the headings are their lists'
    heads, the 2024 master's place and the command whole."""
    from types import SimpleNamespace

    from renkei_xl.cycle.collect.records import held_summary
    from renkei_xl.cycle.distribute import split_master

    book = _copy(master, worst_root / "さっぽろ連携中枢都市圏" / "2023年度" / "さっぽろ圏_2023年度_マスター.xlsm")
    monkeypatch.chdir(book.parent)
    inbox = book.parent / c.COLLECT_DIR
    inbox.mkdir()
    towns = load_master_names(book)
    for issued in split_master(book, tmp_path / "issued"):
        wb = load_workbook(issued)
        for ws in wb.worksheets:
            head = next((cell for row in ws.iter_rows(max_row=c.HEADER_SEARCH_ROWS) for cell in row
                         if cell.value == "実績値"), None)
            for r in range(head.row + 1, ws.max_row + 1) if head is not None else ():
                if isinstance(ws.cell(r, head.column).value, (int, float)):
                    ws.cell(r, head.column).value += 5
        wb.save(inbox / issued.name)
    wb = load_workbook(book, keep_vba=True)
    for name in towns[::2]:          # corrected in the master after the split: those rows are held
        ws = wb[name]
        for r in range(2, ws.max_row + 1):
            if isinstance(ws.cell(r, 5).value, (int, float)):
                ws.cell(r, 5).value += 1
    wb.save(book)
    for town in towns[:5]:
        (inbox / f"{town}_回答_最終版（差し替え）.pdf").write_bytes(b"%PDF-1.4")
    assert cli_main(["rollover", str(book)]) == 0
    later = book.with_name("さっぽろ圏_2024年度_マスター.xlsm")
    applied, _actions = _run(buttons.collect, click_payload(book))
    prompt = _fits(applied)
    held = re.search(r"\n取り込まなかったセル (\d+) か所: ", prompt)
    cells = [("f", SimpleNamespace(place=i)) for i in range(int(held.group(1)))] if held else []
    assert held and f"\n{held_summary(cells)}\n" in prompt, prompt    # whole, over its list
    assert f"回収フォルダー: {inbox}\n" in prompt, prompt
    assert "\n取り込めないファイル 5 件（このファイルからは何も取り込んでいません）:\n" in prompt, prompt
    assert f"\n【注意】2024年度のマスター「{later}」が、すでに作られています。\n" in prompt, prompt
    assert (f"上書き保存してから、renkei-xl history import {later.name} {book.name} で、2024年度のマスターの"
            "「経年」と「前年度実績（2023年度）」の列に取り込んでください（2023年度の記録を置き換えます）。") in prompt
    assert "\n続けて「評価を再計算」を押してください。\n" in prompt, prompt


def test_export_with_errors_and_eleven_towns_not_collected_keeps_the_files_places_and_whom_to_ask(
        master, tmp_path, worst_root, monkeypatch):
    """確定版を書き出し a second time with three input errors, 一覧 never recalculated and one
    return of twelve collected. Over the box, the 【注意】 naming the eleven towns not
    collected, its longest plain line, was left out whole, and on a deeper folder the 保存先
    line was next (qa-150). Now the towns are a list that gives way name by name (the first
    kept), the step stays, and the 確定版's folder, its file and where the earlier one is
    stay whole."""
    book = _deep(master, worst_root)
    monkeypatch.chdir(book.parent)
    returned, _ind_id, _new = _returned_file(book, tmp_path, BAD_MUNICIPALITY, 3)
    assert cli_main(["collect", str(book), str(returned)]) == 0
    _fits(_run(buttons.export, click_payload(book))[0])
    wb = load_workbook(book, keep_vba=True)
    for name, ref in (("札幌市", "E2"), ("江別市", "E3"), ("千歳市", "E2")):
        wb[name][ref] = BAD_VALUE
    wb.save(book)
    prompt = _fits(_run(buttons.export, click_payload(book))[0])
    outdir = book.parent / c.EXPORT_DIR
    target = next(outdir.glob("*.xlsx"))
    kept = next(p for p in outdir.iterdir() if p.is_dir())
    assert "【注意】入力エラーが 3 件あります。" in prompt and "\n・[エラー] 札幌市!E2 02-1: 実績値: 「約10件」は" in prompt, prompt
    assert "取り込みがない市町村があります（11 市町村）: 札幌市" in prompt, prompt
    assert "\n　回答が届いていれば「回収ファイル取込」を押してから、もう一度書き出してください（" in prompt, prompt
    assert f"\n保存先: {outdir}\n・{target.name}\n前に書き出した内容の違う確定版は「{kept}」に残しました（" in prompt, prompt
    assert prompt.count(ELLIPSIS) <= 1, prompt


# ------------------------------------------------------------- process and imports

def _python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, LICENSE_ENV[0]: LICENSE_ENV[1],
           "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300)


def test_check_and_recalc_load_no_file_library(master, tmp_path):
    """A click starts a new process: openpyxl and xlsxwriter stay out of check/recalc."""
    saved = tmp_path / "payload.json"
    saved.write_text(json.dumps(click_payload(master), ensure_ascii=False), encoding="utf-8")
    code = (
        "import json, sys, xlwings as xw\n"
        "import renkei_xl.excel.buttons as m\n"
        f"payload = json.loads(open({str(saved)!r}, encoding='utf-8').read())\n"
        "for f in (m.check, m.recalc):\n"
        "    book = xw.Book(json=payload)\n"
        "    f(book)\n"
        "    assert book.json()['actions'][-1]['args'][3] == 'info', book.json()['actions'][-1]\n"
        "print(sorted(x for x in ('openpyxl', 'xlsxwriter') if x in sys.modules))\n")
    run = _python(code, tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_importing_the_buttons_module_loads_no_excel_library(tmp_path):
    code = ("import sys, renkei_xl.excel.buttons\n"
            "print(sorted(x for x in ('openpyxl', 'xlsxwriter', 'pandas', 'xlwings') if x in sys.modules))\n")
    run = _python(code, tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_every_macro_in_renkei_bas_has_its_entry_point():
    import re

    from renkei_xl.vba.sources import MACROS_DIR

    bas = (MACROS_DIR / "Renkei.bas").read_text(encoding="ascii")
    called = re.findall(r'RenkeiRun "(\w+)"', bas)
    assert called == ["check", "recalc", "split", "collect", "export", "rollover"]
    for name in called:
        assert callable(getattr(buttons, name))


def test_a_tool_sheet_added_by_a_click_is_protected_as_the_built_ones(master, tmp_path):
    """The answer tells the master's VBA how (RenkeiServer.bas keeps no copy of the options);
    the model of the client protects with what the answer said, and Excel's defaults
    (everything protected) without it."""
    built = file_protection(master)[c.LIST]["options"]
    assert not built["formatColumns"] and not built["autoFilter"]    # what staff may still do
    path = _copy(master, tmp_path / "book.xlsm")
    wb = load_workbook(path, keep_vba=True)
    del wb[c.SUMMARY]
    wb.save(path)
    payload = payload_from_file(path, client=VBA)
    book = remote_book(payload)
    buttons.recalc(book)
    # as the server answers: cut to the master's Subs (its VBA draws the charts too)
    fitted = fit_actions(book.json()["actions"], frozenset(payload[EXCEL_KEY]["subs"]))
    assert fitted.left_out == ()
    applied = apply_actions(payload, fitted.actions)
    assert applied.protection[c.SUMMARY]["options"] == built
    # drawn on the sheet the click added, before its protection (which Excel would refuse them)
    assert [ch["name"] for ch in applied.charts[c.SUMMARY]] == [c.tool_chart_name(t) for t in c.TOOL_CHART_TITLES]
    unsaid = [dict(a, args=a["args"][:2]) if a["func"] == UNPROTECT else a for a in fitted.actions]
    assert apply_actions(payload, unsaid).protection[c.SUMMARY]["options"] == {k: True for k in built}


def test_a_sheet_name_with_an_apostrophe_is_linked_as_excel_reads_it():
    """「'」 inside a quoted sheet name is doubled, or Excel finds no sheet behind the link;
    both faces take the link from the plan (core.plan.findings_sheet)."""
    from renkei_xl.core.refs import quote_sheet
    from renkei_xl.core.model import ERROR, Finding
    from renkei_xl.core.sheet_findings import findings_sheet

    finding = Finding("not-a-number", ERROR, "O'Brien町", "G5", "04-1", "数値ではありません")
    sheet = findings_sheet([finding], ["O'Brien町"], {})
    assert list(sheet.links.values()) == ["'O''Brien町'!G5"]
    assert quote_sheet("小樽市") == "'小樽市'"


def test_a_hidden_sheets_panes_are_left_by_the_masters_vba(master, tmp_path):
    """Excel cannot activate a sheet staff hid, and the VBA client's freeze activates it:
    RenkeiServer.bas' RenkeiFreeze returns first (read from the master's VBA by the model),
    so the answer replays; a VBA without that test meets 1004 halfway."""
    from remote_payload import EXCEL_KEY, freeze_leaves_hidden_sheets

    path = _copy(master, tmp_path / "hidden.xlsm")
    wb = load_workbook(path, keep_vba=True)
    wb[c.LIST].sheet_state = "hidden"
    wb.save(path)
    assert freeze_leaves_hidden_sheets(path)
    payload = payload_from_file(path, client=VBA)
    book = remote_book(payload)
    buttons.recalc(book)
    actions = fit_actions(book.json()["actions"], frozenset(payload[EXCEL_KEY]["subs"])).actions
    order = [s["name"] for s in payload["sheets"]]
    assert any(a["func"] == "freezePaneAtRange" and order[a["sheet_position"]] == c.LIST for a in actions)
    applied = apply_actions(payload, actions)
    assert c.LIST not in applied.freeze and applied.freeze      # the visible sheets' panes are set
    older = dict(payload, **{EXCEL_KEY: dict(payload[EXCEL_KEY], freeze_leaves_hidden=False)})
    with pytest.raises(ExcelError, match="Activate"):
        apply_actions(older, actions)


def test_values_written_beside_a_merged_area_staff_made_do_not_cover_part_of_it(master, tmp_path):
    """Staff merge 小樽市's 実施状況 with the column beside it (G2:H2, a wider box) and
    down a project's rows (G3:G4). Collect's values along a row went as one write, E2:G2,
    which covers part of G2:H2: Excel's 1004 (「結合したセルの一部を変更することはできません」)
    halfway through the replay. The merges are read from the saved master (the payload has
    none), and a row's values are written around them."""
    from openpyxl import load_workbook

    from renkei_xl.core.plan_types import CellEdit, WritePlan
    from renkei_xl.excel.apply import apply_plan
    from renkei_xl.excel.book import RENKEI_CLIENT_KEY, SAVED_MASTER_KEY
    from renkei_xl.excel.engines import live_book

    path = _copy(master, tmp_path / "merged.xlsm")
    wb = load_workbook(path, keep_vba=True)
    wb["小樽市"].merge_cells("G2:H2")
    wb["小樽市"].merge_cells("G3:G4")
    wb.save(path)
    payload = payload_from_file(path, client=VBA)
    payload.update({RENKEI_CLIENT_KEY: True, SAVED_MASTER_KEY: str(path)})
    book = remote_book(payload)
    live = live_book(book)
    edits = [CellEdit("小樽市", 2, col, v) for col, v in ((5, 12), (6, 30), (7, "実施"))]
    edits += [CellEdit("小樽市", 3, col, v) for col, v in ((5, 4), (6, 8), (7, "開催"))]
    with live.writable(["小樽市"]):
        apply_plan(live, WritePlan(cells=edits))
    applied = apply_actions(payload, book.json()["actions"])
    assert [applied.value("小樽市", ref) for ref in ("E2", "F2", "G2", "E3", "F3", "G3")] == [
        12, 30, "実施", 4, 8, "開催"]


def test_the_model_refuses_a_write_into_part_of_an_array_formula(master, tmp_path):
    """An array formula staff entered over 小樽市!H2:H3 (Ctrl+Shift+Enter): Excel refuses a
    value into one of its cells, or a row of values over part of it ("You can't change part
    of an array", 1004); a sheet cleared whole it takes. Values over the whole array are
    refused too (the model does not claim to know that Excel takes them)."""
    from openpyxl import load_workbook
    from openpyxl.worksheet.formula import ArrayFormula

    path = _copy(master, tmp_path / "array.xlsm")
    wb = load_workbook(path, keep_vba=True)
    wb["小樽市"]["H2"] = ArrayFormula("H2:H3", "=E2:E3*2")
    wb.save(path)
    payload = payload_from_file(path, client=VBA)
    pos = [s["name"] for s in payload["sheets"]].index("小樽市")
    lift = {"func": UNPROTECT, "args": [["小樽市"], []], "sheet_position": None}

    def write(row, col, values):
        return [lift, {"func": "setValues", "args": [], "sheet_position": pos, "start_row": row - 1,
                       "start_column": col - 1, "row_count": len(values), "column_count": len(values[0]),
                       "values": values}]

    for row, col, values in ((3, 8, [["x"]]), (2, 7, [["x", "y"]]), (1, 8, [["x"], ["y"]]), (2, 8, [["x"], ["y"]])):
        with pytest.raises(ExcelError, match="part of an array"):
            apply_actions(payload, write(row, col, values))
    assert apply_actions(payload, write(4, 8, [["x"]])).value("小樽市", "H4") == "x"
    cleared = apply_actions(payload, [lift, {"func": "sheetClearContents", "args": [], "sheet_position": pos}])
    assert not cleared.arrays.get("小樽市")


def test_a_cell_under_an_array_formula_is_refused_before_anything_is_written(master, tmp_path):
    """Collect's value for a cell staff covered with an array formula (小樽市!H2:H3) met
    Excel's 1004 ("You can't change part of an array") halfway through the replay. The
    button now names the cell and stops before Excel changes anything."""
    from openpyxl import load_workbook
    from openpyxl.worksheet.formula import ArrayFormula

    from renkei_xl.core.errors import UserError
    from renkei_xl.core.plan_types import CellEdit, WritePlan
    from renkei_xl.excel.book import RENKEI_CLIENT_KEY, SAVED_MASTER_KEY
    from renkei_xl.excel.engines import live_book

    path = _copy(master, tmp_path / "array.xlsm")
    wb = load_workbook(path, keep_vba=True)
    wb["小樽市"]["H2"] = ArrayFormula("H2:H3", "=E2:E3*2")
    wb.save(path)
    payload = payload_from_file(path, client=VBA)
    payload.update({RENKEI_CLIENT_KEY: True, SAVED_MASTER_KEY: str(path)})
    book = remote_book(payload)
    plan = WritePlan(cells=[CellEdit("小樽市", 2, 5, 12), CellEdit("小樽市", 3, 8, "実施")])
    with pytest.raises(UserError, match="小樽市!H3.*配列数式"):
        buttons._apply(live_book(book), plan)
    assert book.json()["actions"] == []
    fine = remote_book(payload)
    buttons._apply(live_book(fine), WritePlan(cells=[CellEdit("小樽市", 2, 5, 12)]))
    assert apply_actions(payload, fine.json()["actions"]).value("小樽市", "E2") == 12

    # The file face refuses the same write in the same words (it dropped the formula with
    # its first cell, or left the value for Excel's next calculation to overwrite), and
    # writes nothing; the cell beside the array is written.
    from renkei_xl.workbook.session import write_planned

    with pytest.raises(UserError) as button_said:
        buttons._apply(live_book(remote_book(payload)), plan)
    before = path.read_bytes()
    with pytest.raises(UserError) as file_said:
        write_planned(path, lambda fs: (plan, None))
    assert path.read_bytes() == before
    said = str(file_said.value)
    assert said.startswith(f"「{path.name}」: 小樽市!H3 は配列数式（{{=…}}）の範囲にあるため、値を書き込めません。"), said
    assert said.split("もう一度")[0] == f"「{path.name}」: " + str(button_said.value).split("もう一度")[0]
    write_planned(path, lambda fs: (WritePlan(cells=[CellEdit("小樽市", 2, 5, 12)]), None))
    assert load_workbook(path)["小樽市"]["E2"].value == 12


def _text_formatted(path: Path, sheet: str, column: str, drop_rows: tuple[int, ...] = ()) -> None:
    """Staff set 小樽市's ``column`` to 文字列 (Text, "@") in Excel and saved: the column's
    format and every cell of it the file holds; the cells of ``drop_rows`` are taken out of
    the file, so that only the column's format is theirs (a cell Excel never wrote)."""
    from openpyxl.utils import column_index_from_string

    wb = load_workbook(path, keep_vba=True)
    ws = wb[sheet]
    ws.column_dimensions[column].number_format = "@"
    col = column_index_from_string(column)
    for (r, k), cell in list(ws._cells.items()):
        if k == col:
            if r in drop_rows:
                del ws._cells[(r, k)]
            else:
                cell.number_format = "@"
    wb.save(path)


def _returned_texts(master_copy: Path, tmp_path: Path, municipality: str, header: str,
                    texts: list[str]) -> tuple[Path, list[str]]:
    """A municipality's input file as it comes back with ``texts`` typed into the first
    rows' ``header`` cells; returns the file and those rows' 指標ID."""
    from renkei_xl.cycle.distribute import split_master

    issued = {p.name: p for p in split_master(master_copy, tmp_path / "issued")}
    src = issued[file_name(municipality, 2023)]
    wb = load_workbook(src)
    ws = wb[municipality]
    cols = {cell.value: (cell.row, cell.column) for row in ws.iter_rows(max_row=c.HEADER_SEARCH_ROWS)
            for cell in row if cell.value in ("指標ID", header)}
    first = cols[header][0] + 1
    ids = []
    for k, text in enumerate(texts):
        ws.cell(first + k, cols[header][1]).value = text
        ids.append(str(ws.cell(first + k, cols["指標ID"][1]).value))
    wb.save(src)
    return src, ids


def test_collect_writes_text_into_a_text_formatted_column_as_the_command_line_does(master, tmp_path, monkeypatch):
    """Staff formatted 小樽市's 実施状況 column as 文字列 ("@"). The button wrote every text
    with Excel's text prefix, which a Text cell is assumed to keep as part of the value:
    「'実施済み」 in the master, read back so by every later click. The server now knows the
    saved master's formats and sends no prefix into a Text cell (its own format, or its
    column's where the file has no cell), and the value is the command line's."""
    from renkei_xl.excel.book import RENKEI_CLIENT_KEY, SAVED_MASTER_KEY
    from renkei_xl.excel.engines import live_book

    book = _copy(master, tmp_path / "work" / "master.xlsm")
    monkeypatch.chdir(book.parent)
    texts = ["実施済み", "1-1", "73.2%"]       # Excel would make a date and a number of the last two
    returned, ids = _returned_texts(book, tmp_path, BAD_MUNICIPALITY, "実施状況", texts)
    _copy(returned, book.parent / c.COLLECT_DIR / returned.name)
    payload = payload_from_file(book, client=VBA)
    data = live_book(remote_book(payload)).read()
    cells = [next(e.cell("status") for e in data.entries
                  if e.municipality == BAD_MUNICIPALITY and e.indicator_id == i) for i in ids]
    from renkei_xl.core.refs import parse_ref

    column = re.match(r"[A-Z]+", cells[0]).group(0)
    _text_formatted(book, BAD_MUNICIPALITY, column, drop_rows=(parse_ref(cells[1])[0],))
    payload = payload_from_file(book, client=VBA)
    payload.update({RENKEI_CLIENT_KEY: True, SAVED_MASTER_KEY: str(book)})
    applied, _actions = _run(buttons.collect, payload)
    assert applied.alerts[0]["mode"] == "info", applied.alerts
    assert [applied.value(BAD_MUNICIPALITY, ref) for ref in cells] == texts

    assert cli_main(["collect", str(book), str(returned)]) == 0
    ws = load_workbook(book)[BAD_MUNICIPALITY]
    assert [ws[ref].value for ref in cells] == texts
    # the cell the file did not hold takes its column's format, as Excel gives it
    assert [ws[ref].number_format for ref in cells] == ["@"] * len(cells)


def test_collect_keeps_a_date_shaped_text_in_a_text_formatted_column(master, tmp_path, monkeypatch):
    """Staff formatted 小樽市's 実施状況 column as 文字列 and a municipality typed 「2024-3-31」 and
    「05-1-2」 there. The server sent them without the text prefix, and xlwings' VBA client
    (Remote.bas' setValues) hands every value to VBA-Web's ParseIso first: Excel wrote two
    dates (2024-03-31, 2005-01-02) where the command line keeps the texts. The answer now
    writes them again through RenkeiServer.bas' renkeiSetText, which assigns them as they are;
    a master whose VBA lacks it is refused before anything is written."""
    from renkei_xl.core.refs import parse_ref
    from renkei_xl.excel.book import RENKEI_CLIENT_KEY, SAVED_MASTER_KEY
    from renkei_xl.excel.engines import live_book

    book = _copy(master, tmp_path / "work" / "master.xlsm")
    monkeypatch.chdir(book.parent)
    texts = ["2024-3-31", "05-1-2", "1-1"]
    returned, ids = _returned_texts(book, tmp_path, BAD_MUNICIPALITY, "実施状況", texts)
    _copy(returned, book.parent / c.COLLECT_DIR / returned.name)
    data = live_book(remote_book(payload_from_file(book, client=VBA))).read()
    cells = [next(e.cell("status") for e in data.entries
                  if e.municipality == BAD_MUNICIPALITY and e.indicator_id == i) for i in ids]
    _text_formatted(book, BAD_MUNICIPALITY, re.match(r"[A-Z]+", cells[0]).group(0),
                    drop_rows=(parse_ref(cells[1])[0],))
    payload = payload_from_file(book, client=VBA)
    payload.update({RENKEI_CLIENT_KEY: True, SAVED_MASTER_KEY: str(book)})
    applied, actions = _run(buttons.collect, payload)
    assert applied.alerts[0]["mode"] == "info", applied.alerts
    assert [applied.value(BAD_MUNICIPALITY, ref) for ref in cells] == texts
    # every string Excel could read as typed (「1-1」 too: the cell may be 標準 in the open book)
    assert sorted(a["args"][0] for a in actions if a["func"] == "renkeiSetText") == sorted(texts)

    assert cli_main(["collect", str(book), str(returned)]) == 0
    ws = load_workbook(book)[BAD_MUNICIPALITY]
    assert [ws[ref].value for ref in cells] == texts


def test_the_model_writes_what_parse_iso_reads_as_a_date():
    """Remote.bas' setValues writes the date WebHelpers.ParseIso reads (CInt pieces into
    DateSerial); a string it cannot read stays a string."""
    import datetime as dt

    from remote_payload import parse_iso

    assert parse_iso("2024-3-31") == dt.datetime(2024, 3, 31)
    assert parse_iso("05-1-2") == dt.datetime(2005, 1, 2)
    assert parse_iso("2024-03-31T10:30:00Z") == dt.datetime(2024, 3, 31, 10, 30)
    assert parse_iso("1-13-1") == dt.datetime(2002, 1, 1)
    assert [parse_iso(t) for t in ("1-1", "'2024-3-31", "実施", "-1-2-3", "2024/3/31", "1-2-3a",
                                   "2026-12-02 17:19:22", "")] == [None] * 8


def test_the_model_keeps_the_apostrophe_in_a_text_formatted_cell(master, tmp_path):
    """Excel takes a leading apostrophe as the text prefix in a cell of General or a number
    format; in a cell formatted as 文字列 ("@") it is assumed to stay part of the value (the
    stricter behaviour; Excel cannot run here). The model knows the saved file's Text cells,
    rows and columns, the formats a replay sets, and that Clear All takes them away."""

    path = _copy(master, tmp_path / "text.xlsm")
    _text_formatted(path, BAD_MUNICIPALITY, "G", drop_rows=(3,))
    wb = load_workbook(path, keep_vba=True)
    wb[BAD_MUNICIPALITY].row_dimensions[40].number_format = "@"
    wb.save(path)
    payload = payload_from_file(path, client=VBA)
    pos = [s["name"] for s in payload["sheets"]].index(BAD_MUNICIPALITY)
    lift = {"func": UNPROTECT, "args": [[BAD_MUNICIPALITY], []], "sheet_position": None}

    def action(func, row, col, values=None, args=()):
        return {"func": func, "args": list(args), "sheet_position": pos, "start_row": row - 1,
                "start_column": col - 1, "row_count": 1, "column_count": 1, "values": values}

    writes = [action("setValues", r, col, [["'x"]]) for r, col in ((2, 7), (3, 7), (40, 2), (2, 6))]
    applied = apply_actions(payload, [lift, *writes])
    # own format, the column's (no cell in the file), the row's: kept; General (F2): the prefix
    assert [applied.value(BAD_MUNICIPALITY, ref) for ref in ("G2", "G3", "B40", "F2")] == ["'x", "'x", "'x", "x"]
    formatted = apply_actions(payload, [lift, action("setNumberFormat", 2, 6, args=["@"]), writes[-1]])
    assert formatted.value(BAD_MUNICIPALITY, "F2") == "'x"
    cleared = apply_actions(payload, [lift, {"func": "sheetClear", "args": [], "sheet_position": pos}, writes[0]])
    assert cleared.value(BAD_MUNICIPALITY, "G2") == "x"
    # the next payload carries the formats the replay left
    after = apply_actions(payload_after(payload, formatted), [lift, writes[-1]])
    assert after.value(BAD_MUNICIPALITY, "F2") == "'x"


def test_the_model_refuses_a_string_excel_reads_as_typed_in_a_cell_not_text(master, tmp_path):
    """Excel reads a string assigned as it is (no text prefix) to a cell not formatted as Text as
    if typed: 「3/5」 becomes 5 March, 「73.2%」 0.732, 「(5)」 -5, 「=1+1」 a formula. The model
    stored each as the text (it converted plain decimals only), so a click that sent one there
    passed where Excel wrote a date (qa-client63). It now refuses what it cannot say
    (TYPED_ENTRY); a prefixed string, a plain decimal, a plain text and any string in a Text
    cell go through as before."""
    from remote_payload import TYPED_ENTRY

    path = _copy(master, tmp_path / "typed.xlsm")
    _text_formatted(path, BAD_MUNICIPALITY, "G")
    payload = payload_from_file(path, client=VBA)
    pos = [s["name"] for s in payload["sheets"]].index(BAD_MUNICIPALITY)
    lift = {"func": UNPROTECT, "args": [[BAD_MUNICIPALITY], []], "sheet_position": None}

    def write(text, col=6, func="setValues"):
        return {"func": func, "args": [text] if func != "setValues" else [], "sheet_position": pos,
                "start_row": 1, "start_column": col - 1, "row_count": 1, "column_count": 1,
                "values": [[text]] if func == "setValues" else None}

    for text in ("3/5", "73.2%", "(5)", "=1+1", "R6.4.1", "TRUE", "#SPILL!", "#n/a", "＃Ｎ／Ａ", "実施（3回）"):
        with pytest.raises(ExcelError) as stopped:
            apply_actions(payload, [lift, write(text)])
        assert stopped.value.number == TYPED_ENTRY, text
    kept = apply_actions(payload, [lift, write("'3/5"), write("3/5", col=7), write("実施済み", col=8)])
    assert [kept.value(BAD_MUNICIPALITY, ref) for ref in ("F2", "G2", "H2")] == ["3/5", "3/5", "実施済み"]
    # An error's code as Excel types it is the error itself (「#N/A」 typed: the NA function's
    # page), never its text; in a Text cell, and with the prefix, the text (a staff column's
    # #N/A carried beside 一覧 goes so: core.values.ErrorValue).
    errors = apply_actions(payload, [lift, write("#N/A"), write("#N/A", col=7), write("'#REF!", col=8)])
    assert [errors.value(BAD_MUNICIPALITY, ref) for ref in ("F2", "G2", "H2")] == ["#N/A", "#N/A", "#REF!"]
    assert errors.error_cells(BAD_MUNICIPALITY) == {(2, 6)}
    assert apply_actions(payload, [lift, write("12.5")]).value(BAD_MUNICIPALITY, "F2") == 12.5


def test_collect_into_a_column_set_back_to_general_since_the_save(master, tmp_path, monkeypatch):
    """小樽市's 実施状況 column was 文字列 when the master was saved and staff set it back to 標準
    since (the click's book differs from the saved master the server reads). The server sent the
    municipality's texts without the text prefix, as into Text cells, and Excel read them as
    typed: 「3/5」 a date, 「(5)」 -5 (qa-client63). Now a string Excel could read
    as other than text goes with the prefix and again through renkeiSetText, which asks the open
    book for the cell's format: the texts are the command line's whichever format the cell has.
    「'実施」: Excel takes its apostrophe for the text prefix in a cell set back to 標準, and
    staff saw 「実施」 (qa-inject66)."""
    from renkei_xl.excel.book import RENKEI_CLIENT_KEY, SAVED_MASTER_KEY
    from renkei_xl.excel.engines import live_book

    book = _copy(master, tmp_path / "work" / "master.xlsm")
    monkeypatch.chdir(book.parent)
    texts = ["3/5", "実施済み", "(5)", "4/1開設", "'実施"]
    returned, ids = _returned_texts(book, tmp_path, BAD_MUNICIPALITY, "実施状況", texts)
    _copy(returned, book.parent / c.COLLECT_DIR / returned.name)
    data = live_book(remote_book(payload_from_file(book, client=VBA))).read()
    cells = [next(e.cell("status") for e in data.entries
                  if e.municipality == BAD_MUNICIPALITY and e.indicator_id == i) for i in ids]
    live = _copy(book, tmp_path / "open" / "master.xlsm")       # 標準, as staff set it since the save
    _text_formatted(book, BAD_MUNICIPALITY, re.match(r"[A-Z]+", cells[0]).group(0))
    for path, text_cells in ((live, False), (book, True)):
        payload = payload_from_file(path, client=VBA)
        payload.update({RENKEI_CLIENT_KEY: True, SAVED_MASTER_KEY: str(book)})
        applied, actions = _run(buttons.collect, payload)
        assert applied.alerts[0]["mode"] == "info", (text_cells, applied.alerts)
        assert [applied.value(BAD_MUNICIPALITY, ref) for ref in cells] == texts, text_cells
    assert sorted(a["args"][0] for a in actions if a["func"] == "renkeiSetText") == ["'実施", "(5)", "3/5", "4/1開設"]

    assert cli_main(["collect", str(book), str(returned)]) == 0
    ws = load_workbook(book)[BAD_MUNICIPALITY]
    assert [ws[ref].value for ref in cells] == texts


def test_the_menu_status_goes_into_a_text_formatted_cell_as_the_command_line_writes_it(master, tmp_path):
    """メニュー's 最終実行結果 cell, formatted as 文字列 by staff: 入力チェック on the server wrote
    its line with the text prefix, kept there as part of the value (「'入力チェック: …」)."""
    from renkei_xl.excel.book import RENKEI_CLIENT_KEY, SAVED_MASTER_KEY

    path = _copy(master, tmp_path / "work" / "master.xlsm")
    wb = load_workbook(path, keep_vba=True)
    sheet, ref = next(iter(wb.defined_names[c.N_LAST_RESULT].destinations))
    wb[sheet][ref.replace("$", "")].number_format = "@"
    wb.save(path)
    ref = ref.replace("$", "").split(":")[0]
    payload = payload_from_file(path, client=VBA)
    payload.update({RENKEI_CLIENT_KEY: True, SAVED_MASTER_KEY: str(path)})
    applied, _actions = _run(buttons.check, payload)
    assert applied.alerts[0]["mode"] == "info", applied.alerts
    assert cli_main(["validate", str(path)]) == 0
    written = load_workbook(path)[sheet][ref].value
    assert written.startswith("入力チェック") and applied.value(sheet, ref) == written


def _settings_row(path: Path, name: str, new_name: Optional[str]) -> None:
    """Edit 設定's municipality table as staff do: retype a name, or empty its row."""
    wb = load_workbook(path, keep_vba=True)
    ws = wb[c.SETTINGS]
    (row,) = [r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == name]
    if new_name is None:
        for col in range(1, 5):
            ws.cell(row, col).value = None
    else:
        ws.cell(row, 1).value = new_name
    wb.save(path)


@pytest.mark.parametrize("new_name", [None, "新篠津町"], ids=["row-removed", "typo"])
def test_a_municipality_sheet_settings_does_not_list_is_warned_alike_on_both_faces(master, tmp_path, new_name):
    """A partner leaves and its 設定 row goes while its sheet stays, or 「新篠津村」 is retyped
    「新篠津町」 in 設定: only listed sheets are read, so that sheet's numbers were in no total
    and 入力チェック said nothing of them (「エラー 0 件、警告 0 件」 with 長沼町's 実績値 left
    out). Now each face warns, naming the sheet, its header cell and how many rows it holds."""
    from renkei_xl.core import findings as F

    gone = "長沼町" if new_name is None else "新篠津村"
    book = _copy(master, tmp_path / "book.xlsm")
    _settings_row(book, gone, new_name)
    filled = sum(1 for row in file_rows(book, gone)[1:] if any(v not in (None, "") for v in row[4:7]))
    result, written = validate_file(_copy(book, tmp_path / "cli.xlsm"))
    (f,) = [f for f in result.findings if f.type == F.UNLISTED_SHEET.code]
    assert (f.sheet, f.cell, f.severity) == (gone, "A1", "警告"), f
    assert f"シート「{gone}」" in f.message and "集計されません" in f.message and f"{filled} 件" in f.message
    assert "設定の市町村一覧" in f.hint
    if new_name is not None:    # and the 設定 row without a sheet says how to take a partner out
        (missing,) = [f for f in result.findings if f.type == F.MISSING_SHEET.code]
        ws = load_workbook(book, read_only=True)[c.SETTINGS]
        row = next(r for r, (name,) in enumerate(ws.iter_rows(max_col=1, values_only=True), 1) if name == new_name)
        assert missing.place == f"{c.SETTINGS}!A{row}", missing     # its cell, not the sheet that is not there (qa-133)
        assert f"市町村「{new_name}」" in missing.message and "連携から外れた市町村なら、設定の市町村一覧から" in missing.hint
    applied, _ = _run(buttons.check, click_payload(book))
    assert applied.rows(c.FINDINGS) == _cli_rows(written.path, c.FINDINGS)
    # the sample master as built lists every sheet: nothing to say
    assert not [f for f in validate_file(_copy(master, tmp_path / "plain.xlsm"))[0].findings
                if f.type == F.UNLISTED_SHEET.code]


def _partner_from_copy(path: Path, source: str, name: str, *, emptied: bool = False) -> None:
    """What staff do in Excel for a new partner: copy a municipality's sheet, rename the copy,
    add the 設定 row below the last one (and, if they read the README, empty the copy)."""
    wb = load_workbook(path, keep_vba=True)
    copy = wb.copy_worksheet(wb[source])
    copy.title = name
    if emptied:
        for row in copy.iter_rows(min_row=2, min_col=5, max_col=7):
            for cell in row:
                cell.value = None
    ws = wb[c.SETTINGS]
    last = max(r for r in range(1, ws.max_row + 1) if ws.cell(r, 2).value == "連携市町村")
    for col, value in enumerate((name, "連携市町村", "企画課", "renkei@new.example"), start=1):
        ws.cell(last + 1, col).value = value
    wb.save(path)


@pytest.mark.parametrize("source", ["小樽市", "札幌市"])
def test_a_sheet_copied_for_a_new_partner_and_not_emptied_is_warned_alike_on_both_faces(
        master, tmp_path, source, monkeypatch, capsys):
    """A partner joins and staff copy 小樽市's sheet for it, as Excel makes easy, and forget
    to empty it: 入力チェック said 「エラー 0 件」, 一覧 counted 小樽市's figures twice, once
    as the new partner's, and split sent them to the new partner. Each face now warns,
    naming both sheets, at the copy's first answered row, and split says so before the files
    go out; an emptied copy, and the sample's partners who share a figure or two, are not
    named."""
    from renkei_xl.core import findings as F

    book = _copy(master, tmp_path / "work" / "book.xlsm")
    _partner_from_copy(book, source, "新町")
    answered = [row for row in file_rows(book, source)[1:] if any(v not in (None, "") for v in row[4:7])]
    assert len(answered) >= 3
    result, written = validate_file(_copy(book, tmp_path / "cli.xlsm"))
    (f,) = [f for f in result.findings if f.type == F.COPIED_SHEET.code]
    first = next(r for r, row in enumerate(file_rows(book, "新町"), start=1)
                 if r > 1 and any(v not in (None, "") for v in row[4:7]))
    assert (f.sheet, f.cell, f.severity) == ("新町", f"E{first}", "警告"), f
    assert f"シート「新町」とシート「{source}」" in f.message and f"{len(answered)} 行" in f.message
    applied, _ = _run(buttons.check, click_payload(book))
    assert applied.rows(c.FINDINGS) == _cli_rows(written.path, c.FINDINGS)
    caution = f"　シート「新町」とシート「{source}」は、入力のある {len(answered)} 行がすべて同じです（新町!E{first} から）"
    assert cli_main(["split", str(book), "--outdir", str(tmp_path / "配布")]) == 0
    out = capsys.readouterr().out
    assert "【注意】入力のある行がすべてほかの市町村のシートと同じ市町村のシートがあり" in out and caution in out, out
    monkeypatch.chdir(book.parent)
    applied, _ = _run(buttons.split, click_payload(book))
    assert caution in _only_alert(applied)["prompt"]
    # an emptied copy, and the sample as built, say nothing of copies
    emptied = _copy(master, tmp_path / "emptied.xlsm")
    _partner_from_copy(emptied, source, "新町", emptied=True)
    for path in (emptied, _copy(master, tmp_path / "plain.xlsm")):
        assert not [f for f in validate_file(path)[0].findings if f.type == F.COPIED_SHEET.code]


def test_a_message_no_box_can_show_goes_where_runpython_shows_it(capsys):
    """When even Excel's alert fails (no live book, Excel refusing the call), the click's
    sentence was printed to stdout and the process ended well: xlwings' RunPython reads only
    stderr, and on Windows only after an exit code other than 0, so staff saw nothing. It now
    goes to stderr with exit code 1, which the master's RunPython shows in Japanese
    (Renkei.bas' RenkeiPythonFailed)."""
    class App:
        def alert(self, *args, **kwargs):
            raise RuntimeError("Excel is busy")

    class Book:
        app = App()

    with pytest.raises(SystemExit) as stopped:
        buttons._alert(Book(), None, "「入力チェック」を中止しました")
    assert stopped.value.code == 1
    said = capsys.readouterr()
    # After SAID_BY_CLICK, which RenkeiPythonFailed shows as it is: without it the box led with
    # 「Python が途中で止まった…」 over a sentence that may say the click ran (test_vba_libreoffice).
    assert said.err == buttons.SAID_BY_CLICK + "「入力チェック」を中止しました\n" and said.out == ""


def test_a_book_xlwings_cannot_reach_is_one_japanese_sentence_in_runpythons_box(monkeypatch, capsys):
    """Book.caller() fails when the master's xlwings VBA and the Python xlwings differ: the
    click raised a RuntimeError, and RunPython's box showed its whole traceback with the
    Japanese sentence on the last line. Now the sentence alone goes to stderr, exit code 1."""
    def caller():
        raise ValueError("version mismatch")

    monkeypatch.setattr(buttons, "_caller", caller)
    with pytest.raises(SystemExit) as stopped:
        buttons.check()
    assert stopped.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith(buttons.SAID_BY_CLICK + "Excel のブックに接続できませんでした。")
    assert "「renkei-xl upgrade-macros」" in err and "ValueError: version mismatch" in err
    assert "Traceback" not in err


def test_a_sentence_for_runpythons_box_is_in_the_code_page_windows_reads_it_in(monkeypatch, capsysbinary):
    """On Windows xlwings' RunPython reads Python's stderr with VBA's Line Input, in the ANSI
    code page (932 on a Japanese Windows), lines ending in CR LF. Python's UTF-8 mode, the
    default from Python 3.15 (PEP 686) and PYTHONUTF8=1 before it, wrote the sentence in
    UTF-8: staff read it garbled. Written here in that code page, whatever the mode."""
    import locale

    from renkei_xl.core import alerts  # noqa: F401  (imported before the platform is changed)
    from renkei_xl.excel import book  # noqa: F401

    class App:
        def alert(self, *args, **kwargs):
            raise RuntimeError("Excel is busy")

    class Book:
        app = App()

    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(locale, "getencoding", lambda: "cp932")
    with pytest.raises(SystemExit):
        buttons._alert(Book(), None, "「入力チェック」を中止しました\n検証結果シートを見てください")
    assert capsysbinary.readouterr().err == (buttons.SAID_BY_CLICK + "「入力チェック」を中止しました\r\n"
                                             "検証結果シートを見てください\r\n").encode("cp932")


def test_a_server_click_draws_the_charts_once_after_lifting_and_never_touches_the_staffs(master, tmp_path):
    """RenkeiServer.bas' renkeiAddChart: after renkeiUnprotectSheets (Excel refuses a chart
    object on a sheet protected with DrawingObjects, 1004), deleting only the charts of the
    tool's name, so a second click leaves one of each and a staff chart beside them stays; a
    master whose VBA predates the Sub gets no chart and the note naming upgrade-macros."""
    from renkei_xl.excel.client import ADD_CHART, upgrade_note
    from renkei_xl.vba.sources import shipped_replayable

    payload = payload_from_file(_copy(master, tmp_path / "book.xlsm"), client=VBA)
    payload[EXCEL_KEY]["charts"] = {c.SUMMARY: [{"name": "グラフ 3", "title": "職員の表"}]}
    applied, actions = _run(buttons.recalc, payload)
    funcs = [a["func"] for a in actions]
    assert funcs.count(ADD_CHART) == 2 and funcs.index(UNPROTECT) < funcs.index(ADD_CHART)
    again, _ = _run(buttons.recalc, payload_after(payload, applied))    # the second click
    mine = [c.tool_chart_name(t) for t in c.TOOL_CHART_TITLES]
    assert [ch["name"] for ch in again.charts[c.SUMMARY]] == ["グラフ 3", *mine]
    early = [a for a in actions if a["func"] != UNPROTECT]      # the chart before the lifting
    with pytest.raises(ExcelError, match="DrawingObjects"):
        apply_actions(payload, [a for a in early if a["func"] in (ADD_CHART, "renkeiRequest")])
    older = frozenset(payload[EXCEL_KEY]["subs"]) - {ADD_CHART}
    fitted = fit_actions(actions, older)
    assert fitted.left_out == ("chart",) and ADD_CHART not in {a["func"] for a in fitted.actions}
    note = upgrade_note(fitted.left_out, shipped_replayable())
    assert "グラフ" in note and "upgrade-macros" in note
    payload[EXCEL_KEY]["subs"] = sorted(older)
    assert not apply_actions(payload, fitted.actions).charts[c.SUMMARY][1:]   # the staff's alone

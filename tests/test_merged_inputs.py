"""Merged cells over the master's own input cells, on both faces (qa-104).

A returned file's merged inputs were refused (findings.MERGED_INPUT), but on the master a
merged area over 実績値 cells of two rows (小樽市 E4:E5: 08-1's 「3」 under 06-1's cell) was
used in silence: the tool evaluated a value staff cannot see, and a write into the area's
hidden part (collect, the buttons) met Excel's 1004 「結合したセルの一部を変更することは
できません」 halfway through a click. Now each input cell in a merged area is named
(findings.MASTER_MERGED_INPUT, its row －), and a write into a hidden part is refused before
anything is written (WritePlan.refuse_merged), on the file face and the button face alike.

Each master is the FY2023 sample edited in the sheet XML (a <mergeCell> added, every value
under it kept, as Excel keeps it: test_error_cells.merged_over).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pytest

from conftest import returned_input
from remote_payload import VBA, apply_actions, payload_from_file, remote_book
from test_buttons import licensed  # noqa: F401  (the remote engine, with its test key)
from test_error_cells import checked, file_face, merged_over

from renkei_xl.core import contract as c
from renkei_xl.core.errors import UserError
from renkei_xl.excel.book import RENKEI_CLIENT_KEY, SAVED_MASTER_KEY


@pytest.fixture(scope="module")
def sample(sample_master_xlsm, licensed) -> Path:  # noqa: F811
    """The FY2023 sample master as init writes it: the suite's shared one (built once per run,
    across workers), where this module ran init again. Read-only: copy it before a write."""
    return sample_master_xlsm


def served(path: Path) -> dict:
    """The payload xlwings' VBA client sends for ``path``, as the server passes it on: with the
    saved master's path (server.admission), where the merges are read from."""
    payload = payload_from_file(path, client=VBA)
    payload.update({RENKEI_CLIENT_KEY: True, SAVED_MASTER_KEY: str(path)})
    return payload


FACES = {"file": file_face, "button": lambda path: checked(served(path))}


def _copy(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    return dst


# (sheet, merged area, the input cell named, its 指標ID, what the finding says of it)
CASES = [
    # 実績値 of two rows: 08-1's 「3」 hidden under 06-1's cell
    ("小樽市", "E4:E5", "E5", "08-1", "実績値のセルが結合されています（E4:E5）。画面には左上のセルE4の値だけが表示され、"
                                      "このセルに残っている値「3」は見えません"),
    ("小樽市", "E4:E5", "E4", "06-1", "実績値のセルが結合されています（E4:E5）。このセルの値「1」が結合したセル全体に表示され"),
    # a header over the first row's input: 04-1's 「2」 under the header 実績値
    ("小樽市", "E1:E2", "E2", "04-1", "実績値のセルが結合されています（E1:E2）。画面には左上のセルE1の値だけが表示され、"
                                      "このセルに残っている値「2」は見えません"),
    # 分母 and 実施状況 across two rows
    ("札幌市", "F5:F6", "F6", "04-1", "分母のセルが結合されています（F5:F6）"),
    ("札幌市", "G5:G6", "G6", "04-1", "実施状況のセルが結合されています（G5:G6）"),
    # 単位 and 実績値 of one row: the value hidden under the unit
    ("札幌市", "D5:E5", "E5", "04-1", "実績値のセルが結合されています（D5:E5）。画面には左上のセルD5の値だけが表示され"),
    # 指標's cells that decide a symbol: 04-1's 目標値 and 集計方法 hidden under 03-1's
    (c.INDICATORS, "H7:H8", "H8", "04-1", "目標値のセルが結合されています（H7:H8）。画面には左上のセルH7の値だけが表示され、"
                                          "このセルに残っている値「20件（毎年度）」は見えません"),
    (c.INDICATORS, "I7:I8", "I8", "04-1", "集計方法のセルが結合されています（I7:I8）。画面には左上のセルI7の値だけが表示され"),
]
FACE_CASES = [(*case, face) for case in CASES for face in FACES]
# What collect's 08-1 = 4 into 小樽市 E5 is refused with, on every face (the command line,
# the server's click, the desktop's click: the core's words, contract.merged_cells_message and
# data_table_message).
MERGED_SAID = "小樽市!E5（E4:E5） は結合したセルの左上以外のセルのため、値を書き込めません。ブックは変更していません。"
TABLE_SAID = "小樽市!E5 はデータ テーブル（{=TABLE(…)}）の範囲にあるため、値を書き込めません。ブックは変更していません。"


@pytest.mark.parametrize("sheet,area,ref,ind_id,said,face", FACE_CASES,
                         ids=[f"{s}!{a}-{r}-{f}" for s, a, r, _i, _m, f in FACE_CASES])
def test_an_input_cell_under_a_merged_area_is_named_on_both_faces(sample, tmp_path, sheet, area, ref, ind_id, said,
                                                                 face):
    path = merged_over(_copy(sample, tmp_path / "master.xlsm"), sheet, area)
    out = FACES[face](path)
    line = next((line for line in out.split("\n") if f"{sheet}!{ref}" in line and "結合" in line), "")
    assert said in line, out


@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize("typed,quoted", [("あ" * 32_767, f"「{'あ' * 40}…（全32,767文字）」"), ("\u200b", "「[U+200B]」")])
def test_a_hidden_value_is_quoted_as_shown_never_whole(sample, tmp_path, typed, quoted, face):
    """The value under a merged area's hidden part, quoted as a cell's text is (values.shown):
    a 32,767-character text was copied into the finding whole, and the button's list of
    findings, given it, left it out (「…ほか 1 件」); a zero-width space was quoted raw (qa-132)."""
    from test_error_cells import with_error

    path = merged_over(with_error(sample, tmp_path / "master.xlsm", "小樽市", "E5", "",
                                  cell=f'<c r="E5" t="inlineStr"><is><t>{typed}</t></is></c>'), "小樽市", "E4:E5")
    out = FACES[face](path)
    said = f"実績値のセルが結合されています（E4:E5）。画面には左上のセルE4の値だけが表示され、このセルに残っている値{quoted}は見えません"
    line = next((line for line in out.split("\n") if "小樽市!E5" in line and "結合" in line), "")
    assert said in line and len(out) < 3_000, out[:3_000]


@pytest.mark.parametrize("face", ["file", "button"])
def test_a_project_merged_over_its_rows_on_the_indicator_sheet_is_left_as_staff_made_it(sample, tmp_path, face):
    """役割, 事業No, 連携事業名 and 事業概要 merged over a project's rows, as the official list
    prints them, decide no symbol: nothing is said of them."""
    path = _copy(sample, tmp_path / "master.xlsm")
    for area in ("B8:B9", "C8:C9", "D8:D9", "E8:E9"):
        merged_over(path, c.INDICATORS, area)
    assert "結合されています" not in FACES[face](path)


def test_the_finding_carries_the_rows_indicator_and_makes_the_row_not_evaluated(sample, tmp_path):
    """The row whose value no one sees is not evaluated from it: 08-1 is －, as a row with an
    unreadable cell is, and 検証結果 names 08-1 beside the cell (recalc, the file face)."""
    from renkei_xl.core.findings import MASTER_MERGED_INPUT
    from renkei_xl.core.pipeline import recalculate
    from renkei_xl.workbook.session import load_master

    data = load_master(merged_over(_copy(sample, tmp_path / "master.xlsm"), "小樽市", "E4:E5"))
    found = {(f.sheet, f.cell, f.indicator_id) for f in data.findings if f.type == MASTER_MERGED_INPUT.code}
    assert found == {("小樽市", "E4", "06-1"), ("小樽市", "E5", "08-1")}
    result = recalculate(data.settings, data.indicators, data.entries, data.findings)
    symbols = {ind_id: e.symbol for ind_id, e in result.evaluations.items()}
    assert symbols["08-1"] == "－" and symbols["06-1"] == "－", symbols


def test_collect_into_a_merged_areas_hidden_part_is_refused_before_anything_is_written(sample, tmp_path):
    """The file face: 小樽市 returns 08-1 = 4 while the master has E4:E5 merged (staff merged
    it after the split): refused naming the cell and the area, the master unchanged."""
    said = _collect_said(sample, tmp_path, lambda m: merged_over(m, "小樽市", "E4:E5"))
    assert MERGED_SAID in said, said


def _collect_said(sample: Path, tmp_path: Path, staff_edit) -> str:
    """The refusal collect gives when 小樽市 returns 08-1 = 4 to a master that ``staff_edit``
    changed after the split; the master's bytes are checked unchanged."""
    from renkei_xl.cycle.collect import collect

    master = _copy(sample, tmp_path / "work" / "master.xlsm")
    folder = returned_input(master, tmp_path, "小樽市", 4, ind_id="08-1")
    staff_edit(master)
    before = master.read_bytes()
    with pytest.raises(UserError) as caught:
        collect(master, [folder])
    assert master.read_bytes() == before
    return str(caught.value)


def test_a_click_of_collect_into_a_merged_areas_hidden_part_is_refused_before_any_write(sample, tmp_path,
                                                                                       monkeypatch):
    """The button face: the same, through xlwings' VBA client as the model of Excel replays it:
    one alert with the same sentence, no cell written (Excel's 1004 came halfway before)."""
    prompt = _collect_click_said(sample, tmp_path, monkeypatch, lambda m: merged_over(m, "小樽市", "E4:E5"))
    assert MERGED_SAID in prompt, prompt


def _otaru_returns_4(master: Path, tmp_path: Path, monkeypatch) -> None:
    """小樽市's return of 08-1 = 4 waiting in the master's collect folder, the click run there."""
    monkeypatch.chdir(master.parent)
    folder = returned_input(master, tmp_path, "小樽市", 4, ind_id="08-1")
    inbox = master.parent / c.COLLECT_DIR
    inbox.mkdir()
    for f in folder.iterdir():
        shutil.copyfile(f, inbox / f.name)


def _collect_click_said(sample: Path, tmp_path: Path, monkeypatch, staff_edit) -> str:
    """The one alert a collect click sends when 小樽市 returns 08-1 = 4 to a master that
    ``staff_edit`` changed after the split (replayed on the model of Excel, which raises
    where Excel would): the refusal, and no write before it."""
    from renkei_xl.excel import buttons

    master = _copy(sample, tmp_path / "work" / "master.xlsm")
    _otaru_returns_4(master, tmp_path, monkeypatch)
    staff_edit(master)
    payload = served(master)
    book = remote_book(payload)
    buttons.collect(book)
    actions = book.json()["actions"]
    applied = apply_actions(payload, actions)          # raises ExcelError where Excel would
    assert [a["func"] for a in actions] == ["alert"], actions
    return applied.alerts[0]["prompt"]


# ------------------------------------------------------------------ What-If data tables
# A data table (「データ」→「What-If 分析」→「データ テーブル」) staff built over a municipality
# sheet's input cells: its results are one formula ({=TABLE(…)}, <f t="dataTable" ref=…> on
# the first cell), into which Excel takes no value (1004 「データ テーブルの一部を変更すること
# はできません」). collect's value went into it halfway through a click; in the file the table
# was dropped with its first cell. Refused before any write on both faces, as array formulas are.

def data_table_over(path: Path, sheet: str, first: str, area: str, input_cell: str = "H1") -> Path:
    """``path`` with ``area`` of ``sheet`` made a What-If data table's results (a one-variable
    table: the formula on ``first``, its values kept as cached results), as Excel saves one."""
    import re
    import zipfile

    from conftest import write_members
    from test_error_cells import _parts

    part = _parts(path)[sheet]
    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    xml = members[part].decode("utf-8")
    cell = re.search(rf'<c r="{first}"[^>]*?(?:/>|>.*?</c>)', xml)
    value = re.search(r"<v>([^<]*)</v>", cell.group(0))
    number = value.group(1) if value and 't="s"' not in cell.group(0) else "0"
    table = (f'<c r="{first}"><f t="dataTable" ref="{area}" dt2D="0" dtr="0" r1="{input_cell}"/>'
             f'<v>{number}</v></c>')
    members[part] = (xml[:cell.start()] + table + xml[cell.end():]).encode("utf-8")
    write_members(path, members)
    return path


def test_the_model_refuses_a_value_into_a_data_table_as_excel_does(sample, tmp_path):
    """tests/remote_payload: a value into a data table's results is Excel's 1004, whole or part."""
    from remote_payload import ExcelError

    master = data_table_over(_copy(sample, tmp_path / "master.xlsm"), "小樽市", "E4", "E4:E5")
    payload = served(master)
    position = [s["name"] for s in payload["sheets"]].index("小樽市")
    for start, count in ((5, 1), (4, 2), (3, 3)):
        action = {"func": "setValues", "args": [None], "values": [[1]] * count, "sheet_position": position,
                  "start_row": start - 1, "start_column": 4, "row_count": count, "column_count": 1}
        with pytest.raises(ExcelError, match="Cannot change part of a data table"):
            apply_actions(payload, [action])


def test_collect_into_a_data_table_is_refused_before_anything_is_written(sample, tmp_path):
    said = _collect_said(sample, tmp_path, lambda m: data_table_over(m, "小樽市", "E4", "E4:E5"))
    assert TABLE_SAID in said, said


def test_a_click_of_collect_into_a_data_table_is_refused_before_any_write(sample, tmp_path, monkeypatch):
    prompt = _collect_click_said(sample, tmp_path, monkeypatch, lambda m: data_table_over(m, "小樽市", "E4", "E4:E5"))
    assert TABLE_SAID in prompt, prompt


def test_rollover_of_a_master_with_a_merged_input_is_refused_and_makes_no_master(sample, tmp_path):
    """次年度のマスターを作成 (the button runs the same, on the saved file) clears each 実績値
    and writes 前年度実績 into next year's master: a merged area's hidden part among them
    is refused, naming it, and no new master is made."""
    from renkei_xl.cycle.rollover import rollover_file

    master = merged_over(_copy(sample, tmp_path / "さっぽろ_2023.xlsm"), "小樽市", "E4:E5")
    with pytest.raises(UserError, match="小樽市!E5（E4:E5） は結合したセルの左上以外のセルのため"):
        rollover_file(master)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["さっぽろ_2023.xlsm"]


@pytest.mark.parametrize("face", ["file", "button"])
def test_recalc_names_the_hidden_value_in_the_findings_sheet_with_its_indicator(sample, tmp_path, face):
    """評価を再計算 lists the finding on 検証結果 with 08-1 beside it, on both faces."""
    master = merged_over(_copy(sample, tmp_path / "master.xlsm"), "小樽市", "E4:E5")
    if face == "file":
        from renkei_xl.workbook.session import recalc_file

        recalc_file(master)
        rows = [list(r) for r in openpyxl.load_workbook(master)[c.FINDINGS].iter_rows(values_only=True)]
    else:
        from renkei_xl.excel import buttons

        payload = served(master)
        book = remote_book(payload)
        buttons.recalc(book)
        rows = apply_actions(payload, book.json()["actions"]).rows(c.FINDINGS)
    hits = [r for r in rows if "E5" in map(str, r) and "08-1" in r and any("「3」は見えません" in str(v) for v in r)]
    assert hits, rows


# ------------------------------------------------------------------ made since the last save
# The server knows merges, arrays and data tables from the master as last saved (the refusals
# above). One staff made in the open book since that save met Excel's 1004 halfway through the
# replay (Remote.bas stops at the first failing action: MSG_FAILED_1/2, a half-written book).
# From client 8 the answer's first action, renkeiUnprotectSheets, carries the cells the click
# writes values into (excel.client.written_ranges), and the master's RenkeiServer.bas checks
# them in the open book (RenkeiCheckWritten) and refuses the click in the same words before
# anything is written. The model of Excel reads that check from the master's VBA
# (remote_payload.written_check) and holds the book as it is now (the payload's merges).

def _since_save_click(sample: Path, tmp_path: Path, monkeypatch, since_save, master: Path = None):
    """(payload, actions) of a collect click when 小樽市 returns 08-1 = 4 (its 実績値 E5) to a
    master saved as it is, the open book changed by ``since_save(excel facts)`` after the save."""
    from remote_payload import EXCEL_KEY

    from renkei_xl.excel import buttons

    master = master or _copy(sample, tmp_path / "work" / "master.xlsm")
    _otaru_returns_4(master, tmp_path, monkeypatch)
    payload = served(master)
    since_save(payload[EXCEL_KEY])
    book = remote_book(payload)
    buttons.collect(book)
    return payload, book.json()["actions"]


SINCE_SAVE = {
    "merge over the written cell": (lambda x: x["merges"].setdefault("小樽市", []).append([4, 5, 5, 5]),
                                    "merged", ["小樽市!E5（E4:E5）"]),
    "array entered over it": (lambda x: x["arrays"].setdefault("小樽市", []).append([5, 5, 6, 5]),
                              "array", ["小樽市!E5"]),
    "data table over it": (lambda x: x["data_tables"].setdefault("小樽市", []).append([4, 5, 5, 5]),
                           "data_table", ["小樽市!E5"]),
}


@pytest.mark.parametrize("case", list(SINCE_SAVE))
def test_a_merge_array_or_data_table_made_since_the_save_stops_the_click_before_any_write(sample, tmp_path,
                                                                                         monkeypatch, case):
    """The master's renkeiUnprotectSheets refuses the click with the saved master's words for
    that reason (RenkeiRefuse), at the first action after the request number: nothing written,
    protection put back. A master whose VBA lacks the check (before client 8) meets Excel's
    1004 at the value, as before."""
    from remote_payload import EXCEL_KEY, RENKEI_REFUSED, UNPROTECT, ExcelError

    from renkei_xl.core.contract import data_table_message, merged_cells_message
    from renkei_xl.excel.book import array_cells_message

    since_save, reason, places = SINCE_SAVE[case]
    payload, actions = _since_save_click(sample, tmp_path, monkeypatch, since_save)
    assert payload[EXCEL_KEY]["written_check"] is not None      # the shipped VBA checks
    unprotect = next(a for a in actions if a["func"] == UNPROTECT)
    assert ["小樽市", ["E5"]] in unprotect["args"][4], unprotect["args"][4]
    with pytest.raises(ExcelError) as refused:
        apply_actions(payload, actions)
    expected = {"merged": merged_cells_message(places, "ボタンを押して"),
                "data_table": data_table_message(places, "ボタンを押して"),
                "array": array_cells_message(places)}[reason]
    assert refused.value.number == RENKEI_REFUSED and refused.value.text == expected, refused.value.text
    assert refused.value.action["func"] == UNPROTECT
    assert not [a for a in actions[:actions.index(unprotect)] if a["func"] != "renkeiRequest"]   # nothing written
    older = dict(payload, **{EXCEL_KEY: dict(payload[EXCEL_KEY], written_check=None)})
    with pytest.raises(ExcelError) as met:
        apply_actions(older, actions)
    assert met.value.number == 1004 and met.value.action["func"] != UNPROTECT


def test_a_merge_made_since_the_save_whose_first_cell_is_written_takes_the_value(sample, tmp_path, monkeypatch):
    """E5:E6 merged since the save: E5 is the merged cell, and Excel takes its value; the check
    lets the click through. So does a book with none of these (the range read, nothing walked)."""
    for name, since_save in (("first cell", lambda x: x["merges"].setdefault("小樽市", []).append([5, 5, 6, 5])),
                             ("none", lambda x: None)):
        payload, actions = _since_save_click(sample, tmp_path / name, monkeypatch, since_save)
        applied = apply_actions(payload, actions)
        assert applied.value("小樽市", "E5") == 4, name


def test_a_master_whose_vba_predates_the_check_meets_excels_1004_as_before(sample, tmp_path, monkeypatch):
    """A master built before client 8: its renkeiUnprotectSheets reads arguments by index and
    never the fifth, so the same answer is harmless to it; the model reads no check from its
    VBA, and a merge made since the save meets Excel's 1004 at the value, as it did."""
    import dataclasses

    from conftest import replace_vba_project
    from remote_payload import EXCEL_KEY, ExcelError, written_check

    from renkei_xl.vba.inject import sheet_code_names
    from renkei_xl.vba.project import Module, build_vba_project
    from renkei_xl.vba.sources import our_modules, remote_modules, with_server, xlwings_modules

    master = _copy(sample, tmp_path / "work" / "master.xlsm")
    line = '    If action("args").Count >= 5 Then RenkeiCheckWritten wb, action("args")(5), refusals\r\n'

    def older(m: Module) -> Module:
        if m.name != "RenkeiServer":
            return m
        assert line in m.source
        return dataclasses.replace(m, source=m.source.replace(line, ""))

    url = "http://renkei-server:8000"
    project = build_vba_project([Module("ThisWorkbook", "document", ""),
                                 *(Module(n, "document", "") for n in sheet_code_names(master)),
                                 *map(older, with_server(our_modules(), url)), *xlwings_modules(), *remote_modules()])
    replace_vba_project(master, master, project)
    assert written_check(master) is None
    payload, actions = _since_save_click(sample, tmp_path, monkeypatch,
                                         lambda x: x["merges"].setdefault("小樽市", []).append([4, 5, 5, 5]), master)
    assert payload[EXCEL_KEY]["written_check"] is None
    with pytest.raises(ExcelError) as met:
        apply_actions(payload, actions)
    assert met.value.number == 1004 and "merged" in met.value.text


def _row_written(sample: Path, tmp_path: Path, merges: list):
    """(payload, actions) of a plan writing 小樽市!E4:G4 (one row, one range: excel.apply) through
    the button face's own _apply, into a master saved as it is whose open book has ``merges``."""
    from remote_payload import EXCEL_KEY

    from renkei_xl.core.plan_types import CellEdit, WritePlan
    from renkei_xl.excel.buttons import _apply
    from renkei_xl.excel.engines import live_book

    master = _copy(sample, tmp_path / "row" / "master.xlsm")
    payload = served(master)
    payload[EXCEL_KEY]["merges"].setdefault("小樽市", []).extend(merges)
    book = remote_book(payload)
    _apply(live_book(book), WritePlan(cells=[CellEdit("小樽市", 4, col, value) for col, value in ((5, 7), (6, 8), (7, "維持"))]))
    return payload, book.json()["actions"]


@pytest.mark.parametrize("area,first", [([4, 5, 5, 5], "E4"), ([4, 7, 4, 8], "G4")], ids=["reaching below", "reaching past"])
def test_a_merge_made_since_the_save_from_a_cell_written_with_its_neighbours_stops_the_click(sample, tmp_path, area,
                                                                                          first):
    """E4 (G4) is the first cell of a merge staff made since the save, written with F4 and G4 in one
    range: Excel refuses a range covering part of a merged area (1004) halfway through the click
    (the server writes around a merge it knows, cell by cell). The check refuses it before any
    write, naming the cell and the area and saying that a save is enough (merged_run_message);
    a merge the range holds whole, E4 alone, takes the values."""
    from remote_payload import RENKEI_REFUSED, UNPROTECT, ExcelError, _address

    from renkei_xl.core.contract import merged_run_message

    payload, actions = _row_written(sample, tmp_path, [area])
    assert [a["func"] for a in actions if a["func"] == "setValues"] == ["setValues"]      # one range
    with pytest.raises(ExcelError) as refused:
        apply_actions(payload, actions)
    assert refused.value.number == RENKEI_REFUSED and refused.value.action["func"] == UNPROTECT, refused.value
    assert refused.value.text == merged_run_message([f"小樽市!{first}（{_address(tuple(area))}）"], "ボタンを押して")
    held, actions = _row_written(sample, tmp_path / "whole", [[4, 5, 4, 5]])
    assert apply_actions(held, actions).value("小樽市", "E4") == 7


# ------------------------------------------------------------------ the desktop face
# Desktop Excel (COM on Windows, AppleScript on a Mac) is the open book itself: a merge or a
# data table staff made, saved or not, is there to be asked. The desktop face asked nothing
# (LiveBook's default: none), so a value into a merge's hidden part or a data table met
# Excel's 1004 partway through a click (PartlyWritten). Now it asks about the cells written
# (DesktopBook.merges_over, data_tables_over) and the core's rule refuses before any write,
# in the words of the command line and the server (MERGED_SAID, TABLE_SAID, as above).
# No Excel runs here: the stand-in answers xlwings' cross-engine Range properties as Excel
# does, counts every question, and raises Excel's 1004 where Excel would at a write.


class _Excel1004(Exception):
    """Excel's COM error 1004 at a write (「結合したセルの一部を変更することはできません」 and the like)."""


def _rect(address: str) -> tuple[int, int, int, int]:
    from renkei_xl.core.refs import parse_ref

    first, _, last = address.partition(":")
    return (*parse_ref(first), *parse_ref(last or first))


class _DesktopExcelSheet:
    """A municipality sheet open in desktop Excel, with the merges and data tables staff made
    (``tables``: each result range's cells read "=TABLE(,H1)"). ``asked`` logs each question
    and each write in order; ``rows_of_lists``: a Mac's AppleScript answer shape (COM's: tuples)."""

    def __init__(self, name: str, merges=(), tables=(), rows_of_lists: bool = False):
        self.name, self.rows_of_lists = name, rows_of_lists
        self.merges, self.tables = [_rect(a) for a in merges], [_rect(a) for a in tables]
        self.values: dict[tuple[int, int], object] = {}
        self.asked: list[str] = []

    @property
    def api(self):                    # LiveBook.writable asks it first: the checks before it are done
        self.asked.append("lift")
        return SimpleNamespace(ProtectContents=False, protect_contents=SimpleNamespace(get=lambda: False))

    def range(self, first, last=None):
        return _DesktopExcelRange(self, (*first, *(last or first)))

    def questions(self, what: str) -> int:
        """How many ``what`` questions the checks asked, before the protection is lifted to write."""
        before = self.asked[:self.asked.index("lift")] if "lift" in self.asked else self.asked
        return before.count(what)


class _DesktopExcelRange:
    def __init__(self, sheet: _DesktopExcelSheet, rect: tuple[int, int, int, int]):
        self.sheet, self.rect = sheet, rect
        r1, c1, r2, c2 = rect
        self.cells = [(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]

    def _merge_of(self, cell):
        return next((m for m in self.sheet.merges if m[0] <= cell[0] <= m[2] and m[1] <= cell[1] <= m[3]), None)

    @property
    def merge_cells(self):                 # COM's MergeCells: False, True, or Null (None) for mixed
        self.sheet.asked.append("merge_cells")
        merged = [self._merge_of(cell) is not None for cell in self.cells]
        return True if all(merged) else None if any(merged) else False

    @property
    def merge_area(self):
        self.sheet.asked.append("merge_area")
        (cell,) = self.cells
        return _DesktopExcelRange(self.sheet, self._merge_of(cell) or (*cell, *cell))

    @property
    def address(self):
        from renkei_xl.core.refs import cell_ref

        self.sheet.asked.append("address")
        r1, c1, r2, c2 = self.rect
        first, last = (re.sub(r"([A-Z]+)", r"$\1$", cell_ref(r, c)) for r, c in ((r1, c1), (r2, c2)))
        return first if first == last else f"{first}:{last}"       # 「$E$4:$E$5」, as Excel says it

    @property
    def formula(self):
        self.sheet.asked.append("formula")
        r1, c1, r2, c2 = self.rect
        shown = [["=TABLE(,H1)" if any(t[0] <= r <= t[2] and t[1] <= c <= t[3] for t in self.sheet.tables)
                  else str(self.sheet.values.get((r, c), "")) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]
        if len(self.cells) == 1:
            return shown[0][0]
        if getattr(self.sheet, "answers_cells_only", False):   # a Mac giving a range no list, perhaps
            return None
        return shown if self.sheet.rows_of_lists else tuple(map(tuple, shown))

    @property
    def has_array(self):
        self.sheet.asked.append("has_array")
        return False

    @property
    def number_format(self):
        return "General"

    @property
    def value(self):
        raise AssertionError("not read")

    @value.setter
    def value(self, value):
        self.sheet.asked.append("write")
        r1, c1, r2, c2 = self.rect
        for t in self.sheet.tables:
            if not (t[2] < r1 or r2 < t[0] or t[3] < c1 or c2 < t[1]):
                raise _Excel1004("データ テーブルの一部を変更することはできません")
        for m in self.sheet.merges:
            overlaps = not (m[2] < r1 or r2 < m[0] or m[3] < c1 or c2 < m[1])
            whole = r1 <= m[0] and c1 <= m[1] and m[2] <= r2 and m[3] <= c2
            if overlaps and not whole and (r1, c1, r2, c2) != (m[0], m[1], m[0], m[1]):
                raise _Excel1004("結合したセルの一部を変更することはできません")
        rows = value if isinstance(value, list) else [[value]]
        for (r, c), v in zip(self.cells, [v for row in rows for v in row]):
            self.sheet.values[(r, c)] = v


class _SheetList(list):
    def __getitem__(self, key):
        return next(s for s in self if s.name == key) if isinstance(key, str) else super().__getitem__(key)


class _Tabs:
    """COM's Worksheets or Sheets: Count, and a tab by its 1-based index."""
    def __init__(self, names: list[str]):
        self.names, self.Count = names, len(names)

    def __call__(self, i: int):
        return SimpleNamespace(Name=self.names[i - 1])


class _App:
    """xlwings' App as the desktop buttons set it: what enable_events was set to, in order."""
    screen_updating = True

    def __init__(self):
        self.events: list[bool] = []

    @property
    def enable_events(self) -> bool:
        return self.events[-1] if self.events else True

    @enable_events.setter
    def enable_events(self, value: bool) -> None:
        self.events.append(value)


def _desktop(cls, *sheets: _DesktopExcelSheet):
    names = [s.name for s in sheets]
    book = SimpleNamespace(sheets=_SheetList(sheets), app=_App(),
                           api=SimpleNamespace(ProtectStructure=False, Worksheets=_Tabs(names), Sheets=_Tabs(names)))
    return cls(book)


DESKTOPS = pytest.mark.parametrize("engine", ["windows", "mac"])


def _engine(engine: str):
    from renkei_xl.excel.desktop import MacBook, WindowsBook

    return (WindowsBook, False) if engine == "windows" else (MacBook, True)


def _values(sheet: str, cells, value=4):
    from renkei_xl.core.plan_types import CellEdit, WritePlan

    return WritePlan(cells=[CellEdit(sheet, *_rect(ref)[:2], value) for ref in cells])


@DESKTOPS
@pytest.mark.parametrize("made,said", [
    ({"merges": ["E4:E5"]}, (MERGED_SAID, c.merged_cells_message(["小樽市!E5（E4:E5）"], "ボタンを押して"))),
    ({"tables": ["E4:E5"]}, (TABLE_SAID, c.data_table_message(["小樽市!E5"], "ボタンを押して"))),
], ids=["merged", "data_table"])
def test_a_desktop_click_into_a_merges_hidden_part_or_a_data_table_is_refused_before_any_write(engine, made, said):
    """小樽市 E4:E5 merged, or a What-If data table over it (its results read "=TABLE(,H1)"),
    saved or not (Excel is asked); collect writing E2, E3, E5, E6: the click is refused naming
    E5 (and the merged area) in the command line's and the server's words, and nothing is
    written (Excel's 1004 came at E5 with E2, E3 written before: PartlyWritten)."""
    from renkei_xl.core.face import BY_BUTTON
    from renkei_xl.excel import buttons

    cls, mac = _engine(engine)
    sheet = _DesktopExcelSheet("小樽市", rows_of_lists=mac, **made)
    as_click = BY_BUTTON.set(True)      # as buttons._as_button marks a click: the refusal in its words
    try:
        with pytest.raises(UserError) as caught:
            buttons._apply(_desktop(cls, sheet), _values("小樽市", ["E2", "E3", "E5", "E6"]))
    finally:
        BY_BUTTON.reset(as_click)
    words, message = said
    assert words in str(caught.value) and str(caught.value) == message, str(caught.value)
    assert "write" not in sheet.asked and sheet.values == {}


@DESKTOPS
def test_a_desktop_click_writes_a_merges_first_cell(engine):
    """The merge's first cell (E4 of E4:E5, 06-1's 実績値) takes its value with its row's
    neighbours (the run is written cell by cell where it holds a merge: covers_part_of_merge),
    as on the other faces: the core's rule refuses only the hidden part."""
    from renkei_xl.excel import buttons

    cls, mac = _engine(engine)
    sheet = _DesktopExcelSheet("小樽市", merges=["E4:E5", "H9:I9"], rows_of_lists=mac)
    live = _desktop(cls, sheet)
    buttons._apply(live, _values("小樽市", ["D4", "E4", "F4", "E6", "H9"]))
    assert sheet.values == {(4, 4): 4, (4, 5): 4, (4, 6): 4, (6, 5): 4, (9, 8): 4}
    # Windows: staff's event procedures off while writing, then as they were (qa-client64)
    assert live.book.app.events == ([] if mac else [False, True])


@DESKTOPS
def test_a_desktop_click_asks_excel_once_per_rectangle_where_there_is_no_merge_or_table(engine):
    """No merge, no table: one MergeCells question per sheet (its cells' bounding range) and
    one Formula question per rectangle of cells written, before any write (each is a round
    trip); a long column with one merge far down is halved to it, a few dozen questions,
    never one per cell."""
    from renkei_xl.excel import buttons

    cls, mac = _engine(engine)
    otaru = _DesktopExcelSheet("小樽市", rows_of_lists=mac)
    sapporo = _DesktopExcelSheet("札幌市", merges=["B1500:C1500"], rows_of_lists=mac)
    plan = _values("小樽市", [f"{col}{row}" for row in range(2, 11) for col in "EFG"] + ["E12", "E13"])
    plan.cells += _values("札幌市", [f"E{row}" for row in range(2, 2002)]).cells
    buttons._apply(_desktop(cls, otaru, sapporo), plan)
    assert (otaru.questions("merge_cells"), otaru.questions("formula"), otaru.questions("merge_area")) == (1, 2, 0)
    assert sapporo.questions("formula") == 1 and sapporo.questions("merge_area") == 0
    assert sapporo.questions("merge_cells") == 1          # the merge is beside the column, not in it
    assert len(otaru.values) == 29 and len(sapporo.values) == 2000


@DESKTOPS
def test_a_desktop_click_finds_a_merge_far_down_a_long_column_in_a_few_questions(engine):
    from renkei_xl.excel import buttons

    cls, mac = _engine(engine)
    sheet = _DesktopExcelSheet("小樽市", merges=["E1500:E1501"], rows_of_lists=mac)
    with pytest.raises(UserError, match="小樽市!E1501（E1500:E1501）"):
        buttons._apply(_desktop(cls, sheet), _values("小樽市", [f"E{row}" for row in range(2, 2002)]))
    asked = sum(sheet.questions(q) for q in ("merge_cells", "merge_area", "address"))
    assert asked <= 60 and "write" not in sheet.asked, asked


def test_a_mac_answering_a_ranges_formulas_in_another_shape_is_asked_cell_by_cell():
    """Whether Excel for Mac answers a range's ``formula`` as rows only a Mac can say: an answer
    that is not one formula a cell is not read as none, the cells are asked one by one."""
    from renkei_xl.excel import buttons
    from renkei_xl.excel.desktop import MacBook

    sheet = _DesktopExcelSheet("小樽市", tables=["E4:E5"], rows_of_lists=True)
    sheet.answers_cells_only = True
    with pytest.raises(UserError) as caught:
        buttons._apply(_desktop(MacBook, sheet), _values("小樽市", ["E2", "E3", "E5", "E6"]))
    assert TABLE_SAID in str(caught.value) and sheet.values == {}
    assert sheet.questions("formula") == 2 + 4        # each rectangle, then its cells


# ------------------------------------------------------------------ the desktop's read
# 入力チェック and 評価を再計算 on the desktop read the merges over the input cells from Excel
# (DesktopBook.merges_over, asked by LiveBook._with_merged of contract_read.merged_input_cells):
# the desktop named none (LiveBook's default), where the command line and the server named
# each one, so one master gave two answers. The stand-in of tests/test_engines.py shows the
# saved master as desktop Excel would (its merges the file's), each question counted.

def _desktop_read(path: Path, engine: str):
    """(the desktop LiveBook of ``path`` open in Excel, its stand-in book) for ``engine``."""
    from test_engines import _desktop_of

    cls, mac = _engine(engine)
    book = _desktop_of(path, mac=mac)
    return cls(book), book


def _merged_named(data) -> list[tuple[str, str, str]]:
    from renkei_xl.core.findings import MASTER_MERGED_INPUT

    return [(f.place, f.indicator_id, f.message) for f in data.findings if f.type == MASTER_MERGED_INPUT.code]


DESKTOP_CASES = [(*case, engine) for case in CASES for engine in ("windows", "mac")]


@pytest.mark.parametrize("sheet,area,ref,ind_id,said,engine", DESKTOP_CASES,
                         ids=[f"{s}!{a}-{r}-{e}" for s, a, r, _i, _m, e in DESKTOP_CASES])
def test_a_merged_input_cell_is_named_alike_by_the_desktop_the_command_line_and_the_server(sample, tmp_path, sheet,
                                                                                         area, ref, ind_id, said,
                                                                                         engine):
    from renkei_xl.excel.engines import live_book
    from renkei_xl.workbook.session import load_master

    path = merged_over(_copy(sample, tmp_path / "master.xlsm"), sheet, area)
    desktop = _merged_named(_desktop_read(path, engine)[0].read())
    assert any(place == f"{sheet}!{ref}" and said in message for place, _id, message in desktop), desktop
    assert desktop == _merged_named(load_master(path)) == _merged_named(live_book(remote_book(served(path))).read())


@DESKTOPS
def test_a_desktop_read_asks_excel_once_a_sheet_where_no_input_is_merged(sample, tmp_path, engine):
    """The sample master, 役割 to 事業概要 of a project merged over its rows on 指標 (no input):
    one MergeCells question per sheet read (each municipality sheet, 指標), for the read and
    for the comparison with the saved master alike (a click asks once), and nothing named."""
    path = _copy(sample, tmp_path / "master.xlsm")
    for area in ("B8:B9", "C8:C9", "D8:D9", "E8:E9"):
        merged_over(path, c.INDICATORS, area)
    live, book = _desktop_read(path, engine)
    data = live.read()
    assert _merged_named(live.read()) == [] and _merged_named(data) == []
    read = {e.sheet for e in data.entries} | {c.INDICATORS}
    assert {s.name: s.merges for s in book.sheets if s.merges} == {name: ["merge_cells"] for name in read}


@DESKTOPS
def test_a_desktop_read_finds_a_merged_input_in_a_few_questions(sample, tmp_path, engine):
    """小樽市 E4:E5 merged: that sheet is halved down to the two cells (a few questions), every
    other sheet asked once."""
    path = merged_over(_copy(sample, tmp_path / "master.xlsm"), "小樽市", "E4:E5")
    live, book = _desktop_read(path, engine)
    assert [place for place, *_ in _merged_named(live.read())] == ["小樽市!E4", "小樽市!E5"]
    asked = {s.name: len(s.merges) for s in book.sheets if s.merges}
    assert 2 < asked.pop("小樽市") <= 30 and set(asked.values()) == {1}, asked


def _long_read(engine: str, merges=()):
    """(the desktop LiveBook, the stand-in sheet) of 小樽市 with 2,000 rows of inputs (E, F, G)
    in two blocks (row 1001 a blank row staff left between them), the contract's records
    given and Excel asked of the merges alone."""
    from renkei_xl.core.contract_read import MasterData
    from renkei_xl.core.model import Entry

    cls, mac = _engine(engine)
    sheet = _DesktopExcelSheet("小樽市", merges=merges, rows_of_lists=mac)
    live = _desktop(cls, sheet)
    entries = [Entry("小樽市", f"{row:04d}-1", value="1", sheet="小樽市", row=row,
                     cells={"value": f"E{row}", "denominator": f"F{row}", "status": f"G{row}"})
               for row in range(2, 2003) if row != 1001]
    live._contract = lambda: MasterData(None, [], entries)
    return live, sheet


@DESKTOPS
def test_a_desktop_read_of_a_long_sheet_asks_few_questions(engine):
    """No merge over 6,000 input cells in two blocks: one question (their bounding range). One
    merge far down (E1500:E1501): halved to it in a few dozen questions, never one per cell,
    and named as the other faces name it; a merge beside the inputs (B7:C7) costs nothing
    more than the question that meets it."""
    live, sheet = _long_read(engine)
    assert _merged_named(live.read()) == [] and sheet.asked == ["merge_cells"]
    live, sheet = _long_read(engine, merges=["E1500:E1501", "B7:C7"])
    named = _merged_named(live.read())
    assert [(place, ind_id) for place, ind_id, _ in named] == [("小樽市!E1500", "1500-1"), ("小樽市!E1501", "1501-1")]
    assert "（E1500:E1501）" in named[1][2]
    assert len(sheet.asked) <= 60, sheet.asked


@DESKTOPS
def test_a_desktop_click_asks_again_once_it_has_written(engine):
    """A click's reads ask Excel once (the book does not change while it reads); once it has
    written (``writable``), what Excel said is not taken for the book as it is now."""
    live, sheet = _long_read(engine)
    live.read()
    live.read()
    assert sheet.asked == ["merge_cells"]
    with live.writable(["小樽市"]):
        pass
    live.read()
    assert sheet.asked == ["merge_cells", "lift", "merge_cells"]

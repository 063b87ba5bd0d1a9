"""Hostile values read on both faces: the same saved master read by the file reader
(python-calamine) and by the live face (xlwings' remote engine, fed what its VBA and
Office.js clients send: tests/remote_payload) gives the same cells, the same findings, and
never a traceback.

Each case writes its values into 小樽市's input cells with the tool's own writer (the cells
as Excel saves them: numbers with their number format, texts as texts), then reads the
grid and recalculates on each face. 小樽市 row 2 is 04-1 (合計): E2 実績値, G2 実施状況.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import rewrite_cells, typed_cells
from remote_payload import OFFICE_JS, VBA, admitted_percents, payload_from_file, typed_since_save
from test_buttons import licensed  # noqa: F401  (the remote engine's licence fixture)
from renkei_xl.cli.workbook import init_master
from renkei_xl.core.contract_read import text
from renkei_xl.core.pipeline import recalculate
from renkei_xl.core.plan_types import CellEdit, WritePlan
from renkei_xl.excel.engines import live_book

MUNI, ROW, VALUE_COL, STATUS_COL = "小樽市", 2, 5, 7


@pytest.fixture(scope="module")
def master(sample_master_xlsm, licensed) -> Path:  # noqa: F811  (the remote engine, for the module)
    """The FY2023 sample master as init writes it: the suite's shared one (built once per run,
    across workers), where this module ran init again. Read-only: copy it before a write."""
    return sample_master_xlsm


def _with_cells(master: Path, path: Path, edits: list[CellEdit]) -> Path:
    """``master`` with ``edits`` written by the tool's writer, as ``path``: conftest's
    ``typed_cells``, the bytes write_planned writes there with ``out`` or into a copy in place
    (test_the_cells_are_written_as_a_copy_written_in_place_has_them), without its read of the
    shared master's whole contract before each write (a fifth of this module's CPU, the same
    master every time). No edits: the master's bytes (an empty plan writes nothing)."""
    if not edits:
        return shutil.copyfile(master, path)
    return typed_cells(master, path, edits)


def test_the_cells_are_written_as_a_copy_written_in_place_has_them(master, tmp_path):
    """_with_cells writes the bytes the tool's write of the same cells writes, into a copy in
    place (what the cases here were read from before) and with ``out`` (the shared master
    only read), whatever the cells hold (a text with its format, a number, a date format, a
    percent, TRUE, an error text, a control character); the master unchanged."""
    from renkei_xl.workbook.session import write_planned

    cases = [[CellEdit(MUNI, ROW, VALUE_COL, "10-20", number_format="@"), CellEdit(MUNI, ROW, STATUS_COL, 12.5)],
             [CellEdit(MUNI, ROW, VALUE_COL, 45017, number_format="yyyy/m/d h:mm"), CellEdit(MUNI, ROW, STATUS_COL, True)],
             [CellEdit(sheet, row, col, 0.6, number_format="0.0%") for sheet, row, col, _i, _f in PERCENT_INPUTS],
             [CellEdit(CENTRE, CENTRE_ROW, VALUE_COL, 12.345678, number_format=CURRENCY_FORMATS[0]),
              CellEdit(MUNI, ROW, STATUS_COL, "#N/A\u200b"), CellEdit("設定", 10, 1, "a\x07b")]]
    before = master.read_bytes()
    for n, edits in enumerate(cases):
        (tmp_path / f"copy{n}").mkdir()
        in_place = shutil.copyfile(master, tmp_path / f"copy{n}" / "book.xlsm")
        write_planned(in_place, lambda fs: (WritePlan(cells=edits), None))
        write_planned(master, lambda fs: (WritePlan(cells=edits), None), out=tmp_path / f"out{n}.xlsm")
        ours = _with_cells(master, tmp_path / f"book{n}.xlsm", edits).read_bytes()
        assert ours == in_place.read_bytes() == (tmp_path / f"out{n}.xlsm").read_bytes(), n
    assert master.read_bytes() == before


def _file_face(path: Path):
    return _file_grid(path), _read_file(path)


def _file_grid(path: Path) -> list:
    """小樽市's rows as the command line's reader reads them."""
    from renkei_xl.package.zipped import Package
    from renkei_xl.workbook.grids import Grids

    with Package(path) as pkg:
        grids = Grids(pkg, [MUNI])
        grid = [list(row) for row in grids.rows(MUNI)]
        grids.close()
    return grid


def _read_file(path: Path):
    """What the command line reads of ``path`` (``_file_face`` without 小樽市's grid, for a
    case that compares no cell of it)."""
    from renkei_xl.workbook.session import load_master

    return load_master(path)


def _live_face(path: Path, client: str):
    """On a remote-engine App of its own, as the server runs each click (server.app):
    xw.Book(json=...) on xlwings' default App opens a second payload of the same book name
    into the first one's book, where a cell equal to the first's (False and 0) kept the
    first's value. The saved master's path is added as the server's admission adds it
    (what the payload cannot say, merges and formats, is read from it)."""
    import xlwings as xw
    from xlwings.pro._xlremote import App

    from renkei_xl.excel.book import SAVED_MASTER_KEY

    payload = {**admitted_percents(payload_from_file(path, client=client)), SAVED_MASTER_KEY: str(path)}
    live = live_book(xw.Book(impl=App(apps=None, add_book=False).books.open(json=payload)))
    return live.grid(MUNI), live.read()


def _said(data) -> dict[str, tuple[str, str, str]]:
    result = recalculate(data.settings, data.indicators, data.entries, data.findings)
    return {f.place: (f.severity, f.type, f.message) for f in result.findings}


def _assert_faces_agree(path: Path, cells: list[tuple[int, int]], clients=(VBA, OFFICE_JS)) -> dict:
    grid, on_disk = _file_face(path)
    said = _said(on_disk)
    for client in clients:
        live_grid, sent = _live_face(path, client)
        for r, c in cells:
            assert live_grid[r - 1][c - 1] == grid[r - 1][c - 1], (client, r, c, live_grid[r - 1][c - 1])
            # a whole number arrives in JSON as an int (VBA-Web writes CStr of the Double)
            kinds = {type(live_grid[r - 1][c - 1]), type(grid[r - 1][c - 1])}
            assert len(kinds) == 1 or kinds == {int, float}, (client, r, c, kinds)
        assert (sent.indicators, sent.entries, sent.findings) == (on_disk.indicators, on_disk.entries,
                                                                  on_disk.findings), client
        # recalculate is pure (core; tests/test_purity.py): given every one of its arguments
        # equal to the file's, its findings are the file's, and it is run again only on
        # settings read otherwise (two of this module's three runs per case, ~10 % of its CPU).
        assert (said if sent.settings == on_disk.settings else _said(sent)) == said, client
    return said


# Texts a staff member may type or paste that look like the dates xlwings' clients send:
# the remote engine's own conversion raised ValueError on each (it cuts the last character
# as if it were the client's "Z"), so the click failed without a word on the cell.
DATE_LIKE_TEXTS = ("2023-04-01T10:30:00", "2023-04-01T10:30:00+09:00", "0000-01-01T00:00:00Z",
                   "-0001-01-01T00:00:00Z", "10000-01-01T00:00:00Z", "2023-02-30T00:00:00.000Z")


@pytest.mark.parametrize("text", DATE_LIKE_TEXTS)
def test_a_text_shaped_like_a_date_is_read_as_typed_on_both_faces(master, tmp_path, text):
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(MUNI, ROW, VALUE_COL, text),
                                                        CellEdit(MUNI, ROW, STATUS_COL, text)])
    said = _assert_faces_agree(path, [(ROW, VALUE_COL), (ROW, STATUS_COL)])
    severity, kind, message = said[f"{MUNI}!E{ROW}"]
    assert severity == "エラー" and f"「{text}」" in message, said[f"{MUNI}!E{ROW}"]


def test_a_text_in_the_shape_of_a_clients_date_is_a_date_on_both_faces(master, tmp_path):
    """「2023-04-01T00:00:00.000Z」 is what a client sends for a date cell, so the live face
    cannot tell the text from one; the file face says the same of the text (a date where a
    number belongs), not that 「-04-01T00:00:00.000Z」 is an unknown unit."""
    text = "2023-04-01T00:00:00.000Z"
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(MUNI, ROW, VALUE_COL, text)])
    grid, on_disk = _file_face(path)
    file_said = _said(on_disk)[f"{MUNI}!E{ROW}"]
    for client in (VBA, OFFICE_JS):
        live_said = _said(_live_face(path, client)[1])[f"{MUNI}!E{ROW}"]
        assert file_said[:2] == live_said[:2] and "日付として入力されています" in live_said[2]
    assert "日付として入力されています" in file_said[2], file_said


# A range typed with a dash (「10-20」「１０－２０件」「10ー20」) and a date kept as text
# (「2024/3/31」 in a cell of the Text format): refused on its cell for what it is, the same
# on both faces. They read 「単位「-20」を認識できません」 and 「単位「/3/31」…」.
TYPED_NOT_ONE_NUMBER = [("10-20", "範囲の表記（「-」）"), ("１０－２０件", "範囲の表記（「－」）"),
                        ("10ー20", "範囲の表記（「ー」）"), ("2024/3/31", "日付として入力されています"),
                        # a range of 万 and a dashed date with its time: 「単位「~20万円」」, 「数字の間に空白」 (qa-118)
                        ("10～20万円", "範囲の表記（「～」）"), ("2024-3-31 10:00", "日付として入力されています")]


@pytest.mark.parametrize("typed, words", TYPED_NOT_ONE_NUMBER)
def test_a_dashed_range_or_a_date_as_text_is_named_for_what_it_is_on_both_faces(master, tmp_path, typed, words):
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(MUNI, ROW, VALUE_COL, typed, number_format="@")])
    said = _assert_faces_agree(path, [(ROW, VALUE_COL)])
    severity, _kind, message = said[f"{MUNI}!E{ROW}"]
    assert severity == "エラー" and f"「{typed}」" in message and words in message, message
    assert "単位" not in message, message


# A number Excel has no date for, in a cell formatted as a time, a date or a duration: Excel
# shows ##### and hands its clients the number. python-calamine read -0.25 as 18:00 (the
# VBA client's Date as 06:00), -1 as 00:00, raised OverflowError on a duration past
# 9999-12-31 or from 10^9 days, and panicked in Rust from -10^12 (no ``except Exception``
# catches that): the command stopped with 「予期しないエラー」 or a traceback.
UNDATED = [(-1, "yyyy/m/d", "negative"), (-0.25, "h:mm", "negative"), (-1.25, "h:mm", "negative"),
           (-1.5, "yyyy/m/d h:mm", "negative"), (-5, "[h]:mm", "negative"), (-1e9, "[h]:mm", "negative"),
           (-1e13, "h:mm", "negative"), (-1e13, "yyyy/m/d", "negative"),
           # past 9999-12-31 Excel shows #####: refused, naming it (core.displayed.shown_otherwise)
           (2958466, "[h]:mm", "shown-otherwise"), (3e6, "yyyy/m/d", "shown-otherwise"),
           (1e10, "[h]:mm", "shown-otherwise"), (1e15, "[h]:mm:ss", "shown-otherwise"),
           # no whole second: Office.js' date (milliseconds) was rounded to the second before it
           # was found negative, and read -9.78577546296296 (faces walker 122706, qa-122)
           (-9.78578, "[h]:mm", "negative"), (-0.3, "h:mm", "negative")]


@pytest.mark.parametrize("fmt", ["yyyy/m/d h:mm", "h:mm", "[h]:mm:ss"])
def test_the_last_half_second_of_excels_calendar_is_no_crash_on_either_face(master, tmp_path, fmt):
    """9999-12-31 23:59:59.6 (serial 2958465.999995): rounded to the second, as both faces
    read a date-time, it was year 10000, and the read raised OverflowError (「予期しないエラー」)."""
    path = _with_cells(master, tmp_path / "book.xlsm",
                       [CellEdit(MUNI, ROW, VALUE_COL, 2958465.999995, number_format=fmt)])
    said = _assert_faces_agree(path, [(ROW, VALUE_COL)])
    assert "「9999-12-31 23:59:59」は日付として入力されています" in said[f"{MUNI}!E{ROW}"][2]


@pytest.mark.parametrize("value, fmt, kind", UNDATED)
def test_a_number_excel_has_no_date_for_reads_as_the_number_on_both_faces(master, tmp_path, value, fmt, kind):
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(MUNI, ROW, VALUE_COL, value, number_format=fmt)])
    grid = _file_grid(path)
    assert grid[ROW - 1][VALUE_COL - 1] == value
    said = _assert_faces_agree(path, [(ROW, VALUE_COL)])
    found = said.get(f"{MUNI}!E{ROW}")
    assert (found and found[1]) == kind, found


def test_a_returned_file_holding_a_number_excel_has_no_date_for_is_read_as_the_number(tmp_path):
    """The returned input files are read by their own reader (workbook.returned): the same
    numbers put back, no overflow and no panic out of python-calamine."""
    import openpyxl

    from renkei_xl.workbook.returned import ReturnedBook

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = MUNI
    cases = [(-0.25, "h:mm"), (-1, "yyyy/m/d"), (-1e13, "h:mm"), (-1e9, "[h]:mm"), (1e10, "[h]:mm:ss"),
             (2958466, "[h]:mm"), (0.4375, "h:mm")]
    for r, (value, fmt) in enumerate(cases, start=1):
        ws.cell(r, 1, value).number_format = fmt
    path = tmp_path / "returned.xlsx"
    wb.save(path)
    with ReturnedBook(path.read_bytes(), path.name) as book:
        got = [text(row[0]) for row in book.grid(MUNI)]     # as collect reads each cell
    assert got == [text(value) for value, _fmt in cases[:-1]] + ["10:30:00"], got


# A dash alone typed as a figure: the list's own marks for "none" (－ 評価不可, ― 未集計) and
# the other dashes staff type for one. 「－」 「―」 「ー」 「-」 were read as an empty cell in
# silence, 「–」 「−」 「－－」 were unreadable (an error, the row －): one class now, read as an
# empty cell (never 0, never a word) with a warning on the cell, on both faces.
# The half-width 「ｰ」 (a half-width kana IME's), Word's non-breaking hyphen 「‑」 and 「⁃」 were
# unreadable while 「ー」 and 「‐」 were read as empty (values.DASH_CHARS, the one class).
DASHES = ("－", "―", "ー", "-", "‐", "—", "–", "−", "－－", " － ", "ｰ", "‑", "⁃", "ｰｰ")


@pytest.mark.parametrize("dash", DASHES)
def test_a_dash_as_a_figure_is_an_empty_cell_said_on_both_faces(master, tmp_path, dash):
    from renkei_xl.workbook.session import load_master

    empty = _with_cells(master, tmp_path / "empty.xlsm", [CellEdit(MUNI, ROW, VALUE_COL, None)])
    as_empty = load_master(empty)
    baseline = recalculate(as_empty.settings, as_empty.indicators, as_empty.entries, as_empty.findings)
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(MUNI, ROW, VALUE_COL, dash)])
    said = _assert_faces_agree(path, [(ROW, VALUE_COL)])
    assert said[f"{MUNI}!E{ROW}"] == ("警告", "dash-as-empty",
                                     f"実績値「{dash.strip()}」は値がないことを表す記号のため、空欄（報告なし）として扱います")
    data = load_master(path)
    result = recalculate(data.settings, data.indicators, data.entries, data.findings)
    assert result.evaluations["04-1"] == baseline.evaluations["04-1"]
    assert result.consolidated["04-1"] == baseline.consolidated["04-1"]


def test_a_dash_as_a_judged_rows_manual_figure_is_said_and_a_kpis_is_not(master, tmp_path):
    """指標's 実績値（手入力）: 02-1 (中心市のみ) is judged, so its 「－」 is said; KPI1-1's 「－」 is
    what the FY2023 list prints for a 基本KPI that cannot be measured, and says nothing."""
    from renkei_xl.workbook.session import load_master

    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit("指標", 5, 11, "－"), CellEdit("指標", 2, 11, "－")])
    said = _assert_faces_agree(path, [])
    assert said["指標!K5"][:2] == ("警告", "dash-as-empty"), said.get("指標!K5")
    kpi = next(i for i in load_master(path).indicators if i.id == "KPI1-1")
    assert kpi.actual_manual == "－" and f"指標!{kpi.cell('actual_manual')}" not in said


def test_a_dash_as_a_ratios_numerator_and_denominator_is_one_warning_each(fy2023):
    """比率: 「－」 in both cells is nothing reported (it was an error, 分母 missing); a number
    over a 「－」 分母 is still the error it is (a numerator needs its denominator)."""
    from renkei_xl.core.validate import entry_value_findings

    ind = next(i for i in fy2023.indicators if i.id == "04-1")._replace(method="比率")
    entry = next(e for e in fy2023.entries if e.indicator_id == "04-1")._replace(
        value="－", denominator="―", sheet=MUNI, row=ROW,
        cells={"indicator_id": "A2", "value": "E2", "denominator": "F2", "status": "G2"})
    found = {(f.cell, f.type, f.severity) for f in entry_value_findings(ind, entry)}
    assert found == {("E2", "dash-as-empty", "警告"), ("F2", "dash-as-empty", "警告")}, found
    found = {(f.cell, f.type) for f in entry_value_findings(ind, entry._replace(value="3"))}
    assert ("F2", "missing-denominator") in found, found


@pytest.mark.parametrize("before, after", [(False, 0), (True, 1), (1, True)])
def test_a_cell_is_read_as_sent_after_a_sheet_equal_to_it_was_read(master, tmp_path, before, after):
    """xlwings' remote Range slices a sheet through an lru_cache keyed by the whole sheet's
    values, and False == 0: a worker that had read a sheet with FALSE in a cell read 0 in
    that cell of an otherwise equal sheet, sent by another click, as 「FALSE」."""
    first = _with_cells(master, tmp_path / "first.xlsm", [CellEdit(MUNI, ROW, VALUE_COL, before)])
    second = _with_cells(master, tmp_path / "second.xlsm", [CellEdit(MUNI, ROW, VALUE_COL, after)])
    for client in (VBA, OFFICE_JS):
        _live_face(first, client)
        live_grid, sent = _live_face(second, client)
        got = live_grid[ROW - 1][VALUE_COL - 1]
        assert got == after and (type(got) is bool) == (type(after) is bool), (client, got)
    _assert_faces_agree(second, [(ROW, VALUE_COL)])


def test_a_click_on_the_server_leaves_nothing_of_its_workbook_in_xlwings_cache(master, tmp_path):
    """The writes still go through xlwings' Ranges (and its unbounded cache of whole sheets):
    what a click cached is dropped with it, so a worker's memory does not grow click by
    click with every workbook it served."""
    from xlwings.pro._xlremote import get_range_api

    from renkei_xl.excel.book import RENKEI_CLIENT_KEY
    from renkei_xl.server.app import run_button
    from renkei_xl.server.place import Place

    for k, value in enumerate((3, 4)):
        path = _with_cells(master, tmp_path / f"book{k}.xlsm", [CellEdit(MUNI, ROW, VALUE_COL, value)])
        payload = {**payload_from_file(path, client=VBA), RENKEI_CLIENT_KEY: True}
        answer = run_button("recalc", payload, Place(tmp_path, "", "test"))
        assert answer["actions"] and get_range_api.cache_info().currsize == 0


def test_a_whole_number_past_excels_15_digits_reads_alike_on_both_faces(master, tmp_path):
    """Excel keeps 15 significant digits; a whole Double past them reaches the live face as
    a JSON int with all its digits (Office.js writes 123456789012345680), the file face as a
    float shown to 15: the finding quoted two different numbers for one cell."""
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(MUNI, ROW, VALUE_COL, 123456789012345678)])
    said = _assert_faces_agree(path, [])     # the cells differ as sent; what is read of them does not
    assert "「123456789012346000」は大きすぎます" in said[f"{MUNI}!E{ROW}"][2], said[f"{MUNI}!E{ROW}"]


@pytest.mark.parametrize("count", ["inf", "Infinity", "-inf", "1e400", "nan", "#N/A", "１２"])
def test_a_count_typed_into_the_import_log_is_no_crash(count):
    """取込履歴 is staff's sheet: a 変更セル数 that float() reads as infinity raised
    OverflowError out of int() and collect stopped with 「予期しないエラー」. What is no count is
    None, never 0: an import logged as changing no cell is passed over when a return is
    compared with the issued values (since_issue.first_since_issue). An error value there is
    no count either, and is named (import_log.RULE_COLUMNS), never read as some cells changed."""
    from renkei_xl.core.errors import UserError
    from renkei_xl.cycle.collect import LOG_COLUMNS, read_import_log

    grid = [list(LOG_COLUMNS), ["前.xlsx", "小樽市", None, count, "0" * 64, None, None]]
    if count == "#N/A":
        with pytest.raises(UserError, match="取込履歴!D2「#N/A」 はエラー値です"):
            read_import_log(grid)
        return
    logged = read_import_log(grid)
    assert logged[0].changed_cells == (12 if count == "１２" else None), logged


def test_a_submission_time_at_midnight_in_the_import_log_is_a_time():
    """A date-time cell at 00:00:00 reaches both faces as its date (calamine, and the live
    face's as_file_reads): it was read as no time, and the rule that an older submission
    does not overwrite a newer one passed that record over in silence."""
    import datetime as dt

    from renkei_xl.cycle.collect import LOG_COLUMNS, read_import_log

    logged = read_import_log([list(LOG_COLUMNS), ["前.xlsx", "小樽市", dt.date(2024, 4, 1), 1, "0" * 64,
                                                  dt.date(2024, 4, 1), None]])
    assert logged[0].submitted_at == logged[0].imported_at == dt.datetime(2024, 4, 1), logged


@pytest.mark.parametrize("value, fmt, what", [(45017, "m/d", "日付・時刻"), (0.5, "h:mm", "日付・時刻"),
                                              ("－", None, "値がないことを表す記号"), ("ー", None, "値がないことを表す記号"),
                                              (False, None, "論理値"), (True, None, "論理値")])
def test_an_indicator_id_that_is_a_date_or_a_dash_is_named_on_its_cell(master, tmp_path, value, fmt, what):
    """「4-1」 typed into 指標ID is a date to Excel (4月1日): the tool took 「2023-04-01」 as the
    ID, and only the municipalities' rows of 02-1 said they were 「not on 指標」; the cause
    (and a dash standing for no ID, or a boolean, read as the ID 「FALSE」) was named nowhere.
    Both faces say it on 指標!A5."""
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit("指標", 5, 1, value, number_format=fmt)])
    said = _assert_faces_agree(path, [(5, 1)])
    assert said["指標!A5"][:2] == ("エラー", "odd-id") and what in said["指標!A5"][2], said.get("指標!A5")


@pytest.mark.parametrize("value, fmt, what", [(45017, "m/d", "「4-1」"), ("－", None, "値がないことを表す記号"),
                                              ("–", None, "値がないことを表す記号"), (True, None, "論理値")])
def test_a_municipality_rows_id_saved_as_a_date_or_a_dash_says_so(master, tmp_path, value, fmt, what):
    """As on 指標: a dash alone in a municipality row's 指標ID said only 「指標シートにありません」."""
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(MUNI, ROW, 1, value, number_format=fmt)])
    said = _assert_faces_agree(path, [(ROW, 1)])
    assert said[f"{MUNI}!A{ROW}"][:2] == ("エラー", "odd-id") and what in said[f"{MUNI}!A{ROW}"][2], said[f"{MUNI}!A{ROW}"]


def _conf_part(path: Path) -> str:
    from renkei_xl.package.workbook import WorkbookXml
    from renkei_xl.package.zipped import Package

    with Package(path) as pkg:
        return WorkbookXml(pkg).sheet("xlwings.conf").part


def test_an_error_value_in_xlwings_conf_is_named_not_written_over(master, tmp_path):
    """xlwings.conf was read with python-calamine alone, which gives an error cell as empty:
    upgrade-macros --server took A1 holding #REF! for the end of the table and wrote its
    key over it. It is named instead (xlwings' VBA cannot read the rows below it either)."""
    from renkei_xl.core.errors import UserError
    from renkei_xl.workbook.conf import conf_row_plan

    path = tmp_path / "book.xlsm"
    shutil.copyfile(master, path)
    rewrite_cells(path, _conf_part(path), {"A1": '<c r="A1" t="e"><f>#REF!</f><v>#REF!</v></c>'})
    with pytest.raises(UserError, match=r"xlwings.conf」の A1 がエラー値「#REF!」"):
        conf_row_plan(path, "RENKEI_SERVER", "http://renkei-server:8000")


def test_a_number_calamine_panics_on_in_xlwings_conf_is_no_crash(master, tmp_path):
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit("xlwings.conf", 1, 2, -1e13, number_format="h:mm")])
    from renkei_xl.workbook.conf import conf_rows

    assert conf_rows(path)[0][:2] == ["Show Console", -1e13]


@pytest.mark.parametrize("sheet_name, row, col, words", [(MUNI, ROW, VALUE_COL, "大きすぎる"),
                                                        ("設定", 5, 2, "概ね達成閾値")])
def test_a_whole_number_past_a_doubles_range_in_a_payload_is_refused_on_its_cell(master, tmp_path, sheet_name, row,
                                                                                  col, words):
    """No client sends an int past a Double's range (Excel holds none), but a request may:
    float() of it (text(), and math.isfinite for 概ね達成閾値) raised OverflowError and the
    click ended as 「予期しないエラー」, not a message on the cell."""
    from renkei_xl.core.refs import cell_ref
    from renkei_xl.excel.book import RENKEI_CLIENT_KEY
    from renkei_xl.server.app import run_button
    from renkei_xl.server.place import Place

    payload = {**payload_from_file(master, client=OFFICE_JS), RENKEI_CLIENT_KEY: True}
    sheet = next(s for s in payload["sheets"] if s["name"] == sheet_name)
    sheet["values"][row - 1][col - 1] = 10 ** 400
    answer = run_button("check", payload, Place(tmp_path, "", "test"))
    said = json.dumps(answer, ensure_ascii=False)
    assert "予期しない" not in said and words in said and f"{sheet_name}!{cell_ref(row, col)}" in said, said[:2000]


@pytest.mark.parametrize("swap", [r'<numFmt formatCode="\2" numFmtId="\1"', r"<numFmt numFmtId='\1' formatCode='\2'"])
def test_a_duration_format_written_in_another_attribute_order_still_guards_the_read(master, tmp_path, swap):
    """XML lets a numFmt give formatCode before numFmtId, or single quotes: the search for
    duration styles missed either, and a large number in an [h]:mm cell made calamine raise
    OverflowError for the whole book (「予期しないエラー」 on the command line)."""
    import io
    import re
    import zipfile

    from renkei_xl.workbook.session import load_master

    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(MUNI, ROW, VALUE_COL, 1e10, number_format="[h]:mm")])
    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    styles, n = re.subn(r'<numFmt numFmtId="(\d+)" formatCode="([^"]*)"', swap, members["xl/styles.xml"].decode())
    assert n and "[h]" in styles
    members["xl/styles.xml"] = styles.encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    path.write_bytes(buf.getvalue())
    data = load_master(path)
    assert [e.value for e in data.entries if e.sheet == MUNI and e.row == ROW] == ["10000000000"]


# A check box put over a cell (フォームコントロールのチェックボックス: its linked cell holds
# TRUE/FALSE), TRUE typed into a 標準 cell (Excel reads 「true」 and 「ＴＲＵＥ」 so too) or a
# comparison formula leaves a boolean: python-calamine and the file reader give a bool, the
# VBA client sends JSON true/false (VBA-Web's ConvertToJson), Office.js its boolean. Where the
# contract reads a text or a value it was read as the text 「TRUE」: printed in 一覧 as a
# 役割, a 評価指標 or a 実施状況, or refused as 「「TRUE」を…読めません」. 指標 row 8 is 04-1.
BOOLEAN_CELLS = [("指標", 8, col) for col in (2, 4, 5, 6, 7, 8, 9, 10, 11, 12)] + [(MUNI, ROW, 4), (MUNI, ROW, 5)]


@pytest.mark.parametrize("sheet_name, row, col", BOOLEAN_CELLS)
def test_a_true_or_false_where_a_text_or_a_value_is_read_is_named_on_its_cell(master, tmp_path, sheet_name, row, col):
    from renkei_xl.core.refs import cell_ref

    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(sheet_name, row, col, True)])
    said = _assert_faces_agree(path, [(row, col)] if sheet_name == MUNI else [])
    place = f"{sheet_name}!{cell_ref(row, col)}"
    assert said[place][:2] == ("エラー", "boolean-value") and "TRUE/FALSE（論理値）の「TRUE」" in said[place][2], said.get(place)


# TRUE or FALSE typed as text in another case or width (a 文字列 cell keeps what was typed;
# a 標準 cell makes each the boolean): 「TRUE」 was named as a TRUE/FALSE while 「ＴＲＵＥ」 was
# published as a 役割 or a 実施状況 and 「true」 in a 実績値 was only 「読めません」.
TYPED_BOOLEANS = ("true", "ＴＲＵＥ", "ｆａｌｓｅ", "False", "ＴｒＵｅ")
TYPED_BOOLEAN_CELLS = [("指標", 8, 2), ("指標", 8, 6), (MUNI, ROW, 4), (MUNI, ROW, 5), (MUNI, ROW, STATUS_COL)]


@pytest.mark.parametrize("typed", TYPED_BOOLEANS)
def test_true_or_false_typed_in_any_case_or_width_is_named_as_one(master, tmp_path, typed):
    from renkei_xl.core.refs import cell_ref

    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit("指標", 8, 12, None)]
                       + [CellEdit(sheet_name, row, col, typed) for sheet_name, row, col in TYPED_BOOLEAN_CELLS])
    said = _assert_faces_agree(path, [(ROW, 4), (ROW, 5), (ROW, STATUS_COL)])
    meant = "TRUE" if typed.strip()[0] in "TtＴｔ" else "FALSE"
    for sheet_name, row, col in TYPED_BOOLEAN_CELLS:
        place = f"{sheet_name}!{cell_ref(row, col)}"
        assert said[place][:2] == ("エラー", "boolean-value") and f"TRUE/FALSE（論理値）の「{meant}」" in said[place][2], \
            (place, said.get(place))


@pytest.mark.parametrize("typed", ["ｆａｌｓｅ", "true"])
def test_true_or_false_typed_in_another_case_or_width_in_settings_is_refused(master, tmp_path, typed):
    from renkei_xl.core.errors import UserError

    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit("設定", 2, 2, typed)])
    for face in [lambda: _file_face(path)] + [lambda client=client: _live_face(path, client) for client in (VBA, OFFICE_JS)]:
        with pytest.raises(UserError) as said:
            face()
        assert "設定!B2: " in str(said.value) and "TRUE/FALSE（論理値）" in str(said.value), str(said.value)


def test_a_check_box_in_the_kpi_column_is_a_mark_not_a_finding(master, tmp_path):
    """基本KPI is the one column a TRUE says something in (c.KPI_TRUE): a check box there marks
    the row 基本KPI, on both faces, without a word."""
    from renkei_xl.workbook.session import load_master

    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit("指標", 8, 13, True)])
    said = _assert_faces_agree(path, [])
    assert "指標!M8" not in said
    assert next(i for i in load_master(path).indicators if i.id == "04-1").is_kpi


@pytest.mark.parametrize("value", [True, False])
def test_a_check_box_over_a_status_is_named_and_never_printed_as_true(master, tmp_path, value):
    """小樽市's 実施状況 a check box's linked cell, on a row whose 実施状況 一覧 shows (指標's
    実施状況（手入力） L8 emptied): 一覧 printed 「TRUE」 as the status, and nothing said why.
    An error on the cell on both faces; the row is －（入力エラー） naming it, as for an error
    value, and 「TRUE」 is no line of the status."""
    from renkei_xl.workbook.session import load_master

    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit("指標", 8, 12, None),
                                                        CellEdit(MUNI, ROW, STATUS_COL, value)])
    said = _assert_faces_agree(path, [(ROW, STATUS_COL)])
    typed = "TRUE" if value else "FALSE"
    assert said[f"{MUNI}!G{ROW}"][:2] == ("エラー", "boolean-value"), said.get(f"{MUNI}!G{ROW}")
    assert f"実施状況が TRUE/FALSE（論理値）の「{typed}」です。チェックボックス" in said[f"{MUNI}!G{ROW}"][2]
    data = load_master(path)
    result = recalculate(data.settings, data.indicators, data.entries, data.findings)
    assert result.evaluations["04-1"].symbol == "－" and f"{MUNI}!G{ROW}" in result.evaluations["04-1"].reason
    assert typed not in result.consolidated["04-1"].status_text.splitlines(), result.consolidated["04-1"]


def test_a_check_box_over_a_status_the_indicators_sheet_replaces_is_a_warning(master, tmp_path):
    """Where 指標's 実施状況（手入力） is shown instead (the sample's L8), the municipality's
    TRUE is published nowhere: a warning naming it as a TRUE/FALSE (it said only that the
    status 「TRUE」 would not be shown), and the row is judged as before."""
    from renkei_xl.workbook.session import load_master

    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(MUNI, ROW, STATUS_COL, True)])
    said = _assert_faces_agree(path, [(ROW, STATUS_COL)])
    assert said[f"{MUNI}!G{ROW}"][:2] == ("警告", "boolean-value"), said.get(f"{MUNI}!G{ROW}")
    data = load_master(path)
    assert recalculate(data.settings, data.indicators, data.entries, data.findings).evaluations["04-1"].symbol == "◎"


@pytest.mark.parametrize("row, col", [(10, 1), (11, 2), (11, 3), (11, 4), (2, 2)])
def test_a_true_or_false_in_a_text_of_settings_is_refused_naming_its_cell(master, tmp_path, row, col):
    """設定's 市町村名 FALSE was a municipality 「FALSE」 whose sheet was missing (the finding's
    place 「FALSE」, not 設定!A10), a メールアドレス TRUE passed 入力チェック, a 圏域名 TRUE
    titled 一覧. Every face refuses it naming the cell, as it refuses an error value there."""
    from renkei_xl.core.errors import UserError
    from renkei_xl.core.refs import cell_ref

    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit("設定", row, col, False)])
    faces = [lambda: _file_face(path)] + [lambda client=client: _live_face(path, client) for client in (VBA, OFFICE_JS)]
    for face in faces:
        with pytest.raises(UserError) as said:
            face()
        assert f"設定!{cell_ref(row, col)}: " in str(said.value) and "TRUE/FALSE（論理値）の「FALSE」" in str(said.value)


def test_no_list_the_tool_writes_shows_a_true_or_false_of_the_indicators_sheet(master, tmp_path):
    """TRUE/FALSE in 04-1's 役割, 連携事業名, 評価指標 and 目標値 (and 05-1's 評価指標): 一覧 and
    集計 printed 「TRUE」 as a 役割 of its own, a 連携事業名 and an 評価指標 beside the row's
    note, where an error value there shows 「（入力エラー）」 (values.published)."""
    import python_calamine

    from renkei_xl.core import contract as c
    from renkei_xl.core.values import INPUT_ERROR
    from renkei_xl.workbook.session import recalc_file

    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit("指標", 8, col, True) for col in (2, 4, 6, 8)]
                       + [CellEdit("指標", 9, 6, False), CellEdit("指標", 8, 12, None),
                          CellEdit(MUNI, ROW, STATUS_COL, True)])
    recalc_file(path)
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    shown = {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names
             if name not in ("指標", "xlwings.conf") and not name.endswith(("市", "町", "村"))}
    assert {c.LIST, c.SUMMARY} <= set(shown), list(shown)
    found = [(name, r, col, v) for name, rows in shown.items() for r, row in enumerate(rows, start=1)
             for col, v in enumerate(row, start=1)
             if type(v) is bool or (type(v) is str and {"TRUE", "FALSE"} & {line.strip() for line in v.split("\n")})]
    assert not found, found
    row = next(row for row in shown[c.LIST] if "04-1" in row)
    assert row[0] == row[1] == row[3] == INPUT_ERROR, row


def test_an_unknown_method_beside_a_status_replaced_by_the_indicators_sheet_is_no_crash(master, tmp_path):
    """集計方法 「ほげ」 on 04-1 (which 指標's 実施状況（手入力） L8 replaces the statuses of) and a
    実施状況 on 小樽市's row: the row was taken as feeding nothing and 入力チェック raised
    AttributeError (「予期しないエラー」) on both faces. The method is named on its cell."""
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit("指標", 8, 9, "ほげ"),
                                                        CellEdit(MUNI, ROW, STATUS_COL, "実施した")])
    said = _assert_faces_agree(path, [(ROW, STATUS_COL)])
    assert said["指標!I8"][:2] == ("エラー", "unknown-method"), said.get("指標!I8")


UNIT_COL = 4    # 小樽市's 単位 (D)


# A control character in a municipality row's 単位 (typed or pasted: Excel saves it as
# 「_x0007_」; a line break from Word is U+000B): the same in 連携事業名 or 実施状況 was an
# error on its cell, in 単位 nothing on either face, and the button model sent 「件_x0007_」
# where Excel sends the character (it read the file with openpyxl, which decodes no
# _xHHHH_). The finding says what it does to a 単位, not 「一覧では取り除きます」. qa-94.
@pytest.mark.parametrize("code", [0x07, 0x0B])
def test_a_control_character_in_a_unit_is_named_on_its_cell_on_both_faces(master, tmp_path, code):
    from renkei_xl.workbook.session import load_master

    unit = next(e.unit for e in load_master(master).entries if e.sheet == MUNI and e.row == ROW)
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(MUNI, ROW, UNIT_COL, f"{unit}{chr(code)}")])
    grid = _file_grid(path)
    assert grid[ROW - 1][UNIT_COL - 1] == f"{unit}{chr(code)}"
    said = _assert_faces_agree(path, [(ROW, UNIT_COL)])
    severity, kind, message = said[f"{MUNI}!D{ROW}"]
    assert (severity, kind) == ("エラー", "control-character") and f"単位: 制御文字（U+{code:04X}）" in message, message
    assert "一覧" not in message and "目標値の単位" in message, message
    assert not [p for p in said if p.startswith("指標!")], said   # the target is not judged against 「件\x07」


# Texts that read like an escape, or hold one escaped, as the tool's writer saves them
# (its underscore written _x005F_): Excel shows each as typed, and so must the model.
@pytest.mark.parametrize("typed", ["記号_x0041_の説明", "_x005F_", "a_x0007_b", "一行目\r\n二行目"])
def test_a_text_that_reads_like_an_escape_reads_as_typed_on_both_faces(master, tmp_path, typed):
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(MUNI, ROW, STATUS_COL, typed)])
    grid = _file_grid(path)
    assert grid[ROW - 1][STATUS_COL - 1] == typed
    _assert_faces_agree(path, [(ROW, STATUS_COL)])


# An error value with something staff cannot see around or inside it: a zero-width space
# or a BOM pasted with it, a line break inside (a cell without 折り返し shows it on one
# line), no-break spaces. Excel shows 「#N/A」, so it is the error, named on its cell in
# 単位, 実績値 and 実施状況 alike, never a number, an empty cell or a text to publish. qa-94.
LOOKALIKE_ERRORS = [("\u200b#N/A", "#N/A"), ("#DIV/\n0!", "#DIV/0!"), ("\u00a0#REF!\u00a0", "#REF!"),
                    ("#N/A\ufeff", "#N/A"), ("#VALUE!\u2060", "#VALUE!"), ("\u3164#NULL!", "#NULL!")]


@pytest.mark.parametrize("typed, error", LOOKALIKE_ERRORS)
def test_an_error_value_with_an_invisible_character_is_the_error_on_both_faces(master, tmp_path, typed, error):
    cells = [(ROW, UNIT_COL), (ROW, VALUE_COL), (ROW, STATUS_COL)]
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(MUNI, r, col, typed) for r, col in cells])
    said = _assert_faces_agree(path, cells)
    for place in (f"{MUNI}!D{ROW}", f"{MUNI}!E{ROW}", f"{MUNI}!G{ROW}"):
        assert said[place][:2] == ("エラー", "formula-error") and f"エラー値「{error}」" in said[place][2], \
            (place, said.get(place))


@pytest.mark.parametrize("area", ["E2:E3", "D3:E3"])
def test_a_number_under_a_merged_cells_hidden_part_reads_alike_on_both_faces(master, tmp_path, area):
    """Excel keeps a value under a merged area's hidden part and its clients send it
    (Range.Value, every cell's own): 小樽市's 05-1 実績値 under E2:E3 (or under 単位's D3:E3)
    is read by the file reader, and was "" in the button model's payload."""
    from test_error_cells import merged_over

    path = merged_over(_with_cells(master, tmp_path / "book.xlsm", [CellEdit(MUNI, ROW + 1, VALUE_COL, 7)]), MUNI,
                       area)
    _assert_faces_agree(path, [(ROW + 1, VALUE_COL)])
    grid = _file_grid(path)
    assert grid[ROW][VALUE_COL - 1] == 7


def test_a_master_counting_from_1904_sends_its_dates_as_excel_shows_them(master, tmp_path):
    """「1904 年から計算する」 (workbookPr date1904): 基準日 2024-03-31 is stored as 43555 days
    from 1904-01-01. Range.Value is the date Excel shows, so the VBA client sends 2024-03-31;
    the model counted the serial from 1899-12-30 and sent 2020-03-30, four years early, and
    the button judged every deadline against that year while the command line did not."""
    import datetime as dt
    import re
    import zipfile

    from conftest import write_members
    from test_error_cells import _parts

    path = tmp_path / "mac.xlsm"
    with zipfile.ZipFile(master) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    book, n = re.subn(r"<workbookPr\b", '<workbookPr date1904="1"', members["xl/workbook.xml"].decode("utf-8"), count=1)
    assert n == 1
    members["xl/workbook.xml"] = book.encode("utf-8")
    part = _parts(master)["設定"]
    days = (dt.date(2024, 3, 31) - dt.date(1904, 1, 1)).days
    sheet, n = re.subn(r'(<c r="B4"[^>]*>)<v>[^<]*</v>', rf"\g<1><v>{days}</v>", members[part].decode("utf-8"), count=1)
    assert n == 1
    members[part] = sheet.encode("utf-8")
    write_members(path, members)
    on_disk = _read_file(path)
    assert on_disk.settings.base_date == dt.date(2024, 3, 31)
    assert payload_from_file(path, client=VBA)["sheets"][1]["values"][3][1] == "2024-03-31T00:00:00.000Z"
    _assert_faces_agree(path, [], clients=(VBA,))


# A number past four decimal places in a Currency- or Accounting-formatted input cell: Excel's
# Range.Value is a VBA Currency there (Range.Value2's documentation), so xlwings' VBA client
# sent 12 for the 12.00005 the file holds; the command line said 「件数・人数なのに小数です」
# and the button nothing, and 一覧's rates were of two numbers. The server reads the saved
# master's number where it rounds to the one sent (core.currency). qa-107.
CURRENCY_FORMATS = ["[$¥-411]#,##0.00", '"¥"#,##0.00;[Red]"¥"\\-#,##0.00',
                    '_ "¥"* #,##0.00_ ;_ "¥"* \\-#,##0.00_ ;_ "¥"* "-"??_ ;_ @_ ']
CURRENCY_CELLS = [(MUNI, ROW, VALUE_COL), (MUNI, ROW, 6), ("指標", 8, 7), ("指標", 8, 8), ("指標", 5, 11)]


@pytest.mark.parametrize("fmt", CURRENCY_FORMATS)
# 12.345678 is sent as 12.3457, which times 10,000 is no whole number in binary (qa-135)
@pytest.mark.parametrize("value", [12.00005, -12.00005, 3.00004, 12.345678, -12.345678])
def test_a_currency_formatted_figure_past_four_decimals_reads_alike_on_both_faces(master, tmp_path, value, fmt):
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(MUNI, ROW, VALUE_COL, value, number_format=fmt)])
    said = _assert_faces_agree(path, [(ROW, VALUE_COL)])
    severity, kind, message = said[f"{MUNI}!E{ROW}"]
    assert severity == "エラー" and f"「{text(value)}」" in message, message
    assert kind == ("negative" if value < 0 else "fractional-count"), said[f"{MUNI}!E{ROW}"]


@pytest.mark.parametrize("sheet_name, row, col", CURRENCY_CELLS)
def test_every_input_in_a_currency_format_reads_as_saved_on_both_faces(master, tmp_path, sheet_name, row, col):
    """実績値 and 分母 of a municipality, 基準値, 目標値 and 実績値（手入力） of 指標: the same
    number on both faces, whichever finding it makes (分母 on a row that is no 比率 is a warning)."""
    path = _with_cells(master, tmp_path / "book.xlsm",
                       [CellEdit(sheet_name, row, col, 12.00005, number_format=CURRENCY_FORMATS[0])])
    assert _sheet_values(payload_from_file(path, client=VBA), sheet_name)[row - 1][col - 1] == 12.0  # as Excel sends it
    _assert_faces_agree(path, [(row, col)] if sheet_name == MUNI else [])


def _vba_live(path: Path, payload: dict):
    import xlwings as xw
    from xlwings.pro._xlremote import App

    from renkei_xl.excel.book import SAVED_MASTER_KEY

    payload = {**payload, SAVED_MASTER_KEY: str(path)}
    return live_book(xw.Book(impl=App(apps=None, add_book=False).books.open(json=payload)))


def _sheet_values(payload: dict, name: str) -> list:
    return next(s for s in payload["sheets"] if s["name"] == name)["values"]


def test_a_currency_figure_is_read_from_where_its_row_was_saved_after_an_unsaved_insert(master, tmp_path):
    """Staff inserted a row above 小樽市's 04-1 and clicked without saving: the saved number is
    the one of the row's saved place (core.saved_places), not the saved cell now at its address."""
    path = _with_cells(master, tmp_path / "book.xlsm",
                       [CellEdit(MUNI, ROW, VALUE_COL, 12.00005, number_format=CURRENCY_FORMATS[0]),
                        CellEdit(MUNI, ROW + 1, VALUE_COL, 7, number_format=CURRENCY_FORMATS[0])])
    on_disk = _read_file(path)
    payload = payload_from_file(path, client=VBA)
    rows = _sheet_values(payload, MUNI)
    rows.insert(ROW - 1, [None] * len(rows[0]))
    sent = _vba_live(path, payload).read()

    def figures(data):
        return {e.indicator_id: e.value for e in data.entries if e.sheet == MUNI}

    assert figures(sent) == figures(on_disk) and figures(sent)["04-1"] == "12.00005", figures(sent)


def test_a_currency_figure_changed_since_the_save_is_read_as_sent(master, tmp_path):
    """The saved number is read only where it is the one sent, rounded: a figure staff typed
    since the save (3 over a saved 12.00005) is theirs."""
    path = _with_cells(master, tmp_path / "book.xlsm",
                       [CellEdit(MUNI, ROW, VALUE_COL, 12.00005, number_format=CURRENCY_FORMATS[0])])
    payload = payload_from_file(path, client=VBA)
    _sheet_values(payload, MUNI)[ROW - 1][VALUE_COL - 1] = 3
    live = _vba_live(path, payload)
    assert live.grid(MUNI)[ROW - 1][VALUE_COL - 1] == 3
    assert next(e.value for e in live.read().entries if e.sheet == MUNI and e.row == ROW) == "3"


def test_a_saved_currency_figure_lets_the_file_buttons_run(tmp_path, licensed):  # noqa: F811
    """配布用ファイル作成 compares the workbook sent with the saved master (server.admission):
    read without the saved master's numbers, 12 against 12.00005 was an unsaved edit that no
    save could remove, and the button was refused (409) however often staff saved."""
    from renkei_xl.core import contract as c
    from renkei_xl.core.seal import master_id
    from renkei_xl.cycle.distribute import master_key_of_file
    from renkei_xl.server.admission import admit
    from renkei_xl.server.place import Place
    from renkei_xl.workbook.session import write_planned

    folder = "通貨"
    path = init_master(tmp_path / "work" / folder / "master.xlsm", sample="fy2023", server="http://127.0.0.1:1",
                       server_folder=folder)
    write_planned(path, lambda fs: (WritePlan(cells=[CellEdit(MUNI, ROW, VALUE_COL, 12.00005,
                                                              number_format=CURRENCY_FORMATS[0])]), None))
    payload = payload_from_file(path, client=VBA)
    assert admit(Place(tmp_path / "work"), c.SPLIT, payload, master_id(master_key_of_file(path))) == path.parent


def _as_builtin(path: Path, code: str, builtin: int) -> Path:
    """The saved file with the custom number format ``code`` given as the builtin ``builtin``
    instead, an id on the xf and no <numFmt>, as Excel saves its builtin formats."""
    import re
    import zipfile

    from conftest import write_members

    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    styles = members["xl/styles.xml"].decode("utf-8")
    custom = re.search(r'<numFmt numFmtId="(\d+)" formatCode="' + re.escape(code.replace('"', "&quot;")) + '"/>', styles)
    styles = styles.replace(custom.group(0), "").replace(f'numFmtId="{custom.group(1)}"', f'numFmtId="{builtin}"')
    members["xl/styles.xml"] = styles.encode("utf-8")
    write_members(path, members)
    return path


def test_a_japanese_builtin_date_format_is_a_date_on_both_faces(master, tmp_path):
    """numFmtId 57 with no <numFmt> (ISO/IEC 29500-1 §18.8.30's ja-jp 「[$-411]ggge"年"m"月"d"日"」
    family, 27-36 and 50-58): Japanese Excel shows a date, hands VBA a Date, and python-calamine
    reads a date; the button model sent the serial as a number (openpyxl knows no such format)."""
    code = '[$-411]ggge"年"m"月"d"日"'
    path = _as_builtin(_with_cells(master, tmp_path / "book.xlsm",
                                   [CellEdit(MUNI, ROW, VALUE_COL, 45352, number_format=code)]), code, 57)
    said = _assert_faces_agree(path, [(ROW, VALUE_COL)])
    assert "「2024-03-01」は日付として入力されています" in said[f"{MUNI}!E{ROW}"][2], said[f"{MUNI}!E{ROW}"]


@pytest.mark.parametrize("builtin", [7, 44])
def test_a_builtin_currency_format_reads_as_saved_on_both_faces(master, tmp_path, builtin):
    """The builtin Currency (5-8) and Accounting (42, 44) formats, which Excel may save as an id
    alone: styles.xml then names no symbol, and the server knows them by their ids."""
    code = "[$¥-411]#,##0.00"
    path = _as_builtin(_with_cells(master, tmp_path / "book.xlsm",
                                   [CellEdit(MUNI, ROW, VALUE_COL, 12.00005, number_format=code)]), code, builtin)
    assert _sheet_values(payload_from_file(path, client=VBA), MUNI)[ROW - 1][VALUE_COL - 1] == 12.0
    said = _assert_faces_agree(path, [(ROW, VALUE_COL)])
    assert said[f"{MUNI}!E{ROW}"][:2] == ("エラー", "fractional-count"), said[f"{MUNI}!E{ROW}"]


def test_the_saved_currency_numbers_are_found_with_or_without_a_cells_address():
    """package.cells.numbers_styled: a Currency cell's number, a formula's cached one; a text,
    an empty cell and another format's number are none. A cell without r= (the format allows
    it) is placed by its row, as every edit places it, not dropped or put in another column."""
    from renkei_xl.package.cells import numbers_styled

    part = ('<worksheet><sheetData><row r="2"><c r="A2" s="5"><v>1.00005</v></c><c r="B2" s="3"><v>2</v></c>'
            '<c r="C2" s="5" t="s"><v>0</v></c><c r="D2" s="5"/><c r="E2" s="5"><f>A2</f><v>7.5</v></c></row>'
            '</sheetData></worksheet>')
    found = {(2, 1): 1.00005, (2, 5): 7.5}
    assert numbers_styled(part, "", "sheet1.xml", frozenset({5})) == found
    assert numbers_styled(part.replace('<c r="A2" s="5">', '<c s="5">'), "", "sheet1.xml", frozenset({5})) == found
    assert numbers_styled(part.replace('<c r="B2" s="3">', '<c s="3">'), "", "sheet1.xml", frozenset({5, 0})) == found
    assert numbers_styled(part, "", "sheet1.xml", frozenset({9})) == {}


# A number past whole seconds in a date or time format on 指標 (基準値, 目標値, 実績値（手入力）),
# below the first rows (the reader's header search converts those; the rest reach
# contract_read.text as calamine gives them): the file face quoted calamine's
# microseconds (「1900-01-16 07:43:28.704000」, 「07:43:28.704000」) where the button, fed the
# VBA client's whole seconds, said 「…07:43:29」 (qa-112, faces walker seed 112003 case 112028).
FRACTIONAL_DATES = [(16.32186, '[$-411]ggge"年"m"月"d"日"', "1900-01-16 07:43:29"),
                    (48122.00005, "yyyy/m/d h:mm", "2031-10-01 00:00:04"), (0.32186, "h:mm:ss", "07:43:29")]


@pytest.mark.parametrize("value, fmt, read", FRACTIONAL_DATES)
@pytest.mark.parametrize("row, col", [(61, 7), (61, 8), (70, 11)])
def test_a_date_or_time_past_whole_seconds_on_the_indicators_sheet_reads_alike_on_both_faces(master, tmp_path, value,
                                                                                           fmt, read, row, col):
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit("指標", row, col, value, number_format=fmt)])
    said = _assert_faces_agree(path, [])
    assert any(f"「{read}」" in message for _severity, _kind, message in said.values()), said


# 札幌市 row 63 is 42-2 (中心市のみ, 目標 75%（毎年度）): Excel stores 「100%」 typed into a 標準
# cell as 1 and gives it the format 0%, and 85 typed into a 0% cell as 0.85. Read without the
# format, 1 was 1% × on both faces, in silence (qa-114). The number is read as the percent its
# format shows (core.percent_cells), on the file face from the file's styles and on the
# server from the saved master's. qa-116.
CENTRE, CENTRE_ROW = "札幌市", 63
CENTRE_CELL = f"{CENTRE}!E{CENTRE_ROW}"


def _centre_value(data) -> str:
    return next(e.value for e in data.entries if e.sheet == CENTRE and e.row == CENTRE_ROW)


def _symbol(data, ind_id: str = "42-2") -> str:
    result = recalculate(data.settings, data.indicators, data.entries, data.findings)
    return result.evaluations[ind_id].symbol


@pytest.mark.parametrize("value, fmt, read, symbol", [(1, "0%", "100%", "◎"), (1.05, "0%", "105%", "◎"),
                                                      (0.85, "0.0%", "85%", "◎"), (100, "General", "100", "◎"),
                                                      (0.6, "0%", "60%", "×")])
def test_a_number_in_a_percent_format_on_the_master_is_read_as_the_percent_it_shows(master, tmp_path, value, fmt,
                                                                                   read, symbol):
    path = _with_cells(master, tmp_path / "book.xlsm",
                       [CellEdit(CENTRE, CENTRE_ROW, VALUE_COL, value, number_format=fmt)])
    on_disk = _read_file(path)
    assert _centre_value(on_disk) == read
    said = _assert_faces_agree(path, [])
    assert CENTRE_CELL not in said, said[CENTRE_CELL]
    assert _symbol(on_disk) == symbol


def test_a_percent_cells_number_in_a_value_tag_with_attributes_is_read_as_the_percent_it_shows(master, tmp_path):
    """0.6 in a 0% cell saved as <v xml:space="preserve">0.6</v> (as other writers spell a
    value): Excel shows 60%, and the reader of a sheet's percent cells (package.cells.
    numbers_styled) found no number there, so 0.6 was read as 0.6 on both faces, without a
    word (qa-values63)."""
    import re
    import zipfile

    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(CENTRE, CENTRE_ROW, VALUE_COL, 0.6, number_format="0%")])
    with zipfile.ZipFile(path) as z:
        part = next(n for n in z.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)
                    and re.search(rb'<c r="E63"[^>]*><v>0\.6</v>', z.read(n)))
    rewrite_cells(path, part, {"E63": '<c r="E63" s="{s}"><v xml:space="preserve">0.6</v></c>'})
    on_disk = _read_file(path)
    assert _centre_value(on_disk) == "60%"
    said = _assert_faces_agree(path, [])
    assert CENTRE_CELL not in said, said[CENTRE_CELL]
    assert _symbol(on_disk) == "×"


def test_a_whole_number_given_a_percent_format_after_is_refused_on_both_faces(master, tmp_path):
    """85 in a 0% cell shows 8500%: as on a returned file, neither 85 nor 8500 is taken."""
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(CENTRE, CENTRE_ROW, VALUE_COL, 85, number_format="0%")])
    said = _assert_faces_agree(path, [])
    assert said[CENTRE_CELL][:2] == ("エラー", "percent-formatted-after"), said[CENTRE_CELL]
    assert "8500%" in said[CENTRE_CELL][2]


def _unsaved(path: Path, value) -> dict:
    """What the VBA client sends of ``path`` with 札幌市!E63 changed to ``value`` since the save,
    and the book saying it is unsaved (X-Renkei-Book saved=0, as the admission passes it)."""
    from renkei_xl.excel.book import BOOK_STATE_KEY

    payload = payload_from_file(path, client=VBA)
    _sheet_values(payload, CENTRE)[CENTRE_ROW - 1][VALUE_COL - 1] = value
    payload[BOOK_STATE_KEY] = [False, False]
    return payload


@pytest.mark.parametrize("saved, fmt, sent", [(80, "General", 1), (1, "0%", 1.05), (80, "General", 1.05),
                                               (80, "General", 2.5), (80, "General", 9),
                                               # 85 typed into the saved 「100%」 cell (Excel's percent
                                               # entry stores 0.85), 「85%」 typed into a 標準 one
                                               (1, "0%", 0.85), (80, "General", 0.85)])
def test_a_number_typed_since_the_save_whose_format_the_server_cannot_tell_is_refused(master, tmp_path, saved, fmt,
                                                                                   sent):
    """「100%」 typed into an unsaved book reaches the server as 1, its format not sent: 1% or
    100% is a guess, so the cell is refused, asking staff to save and click again. 0.85 too:
    refused as 0.85% or 85% (PERCENT_AS_FRACTION) its advice, 85, typed into a 0% cell is
    stored as 0.85 again (qa-122)."""
    path = _with_cells(master, tmp_path / "book.xlsm",
                       [CellEdit(CENTRE, CENTRE_ROW, VALUE_COL, saved, number_format=fmt)])
    data = _vba_live(path, _unsaved(path, sent)).read()
    said = _said(data)
    assert said[CENTRE_CELL][:2] == ("エラー", "percent-format-unsaved"), said.get(CENTRE_CELL)
    found = next(f for f in data.findings if f.place == CENTRE_CELL)
    assert "上書き保存してから、もう一度ボタンを押して" in found.hint, found
    assert _symbol(data) == "－"


TARGET_ROW = 68        # 指標 row of 42-2 (目標値 「75%（毎年度）」), whose 札幌市 row shows 単位 %


@pytest.mark.parametrize("row, sent", [(TARGET_ROW, 1.05), (TARGET_ROW, 0.8), (TARGET_ROW, 2.5),
                                       # 01-1 (自動, 達成割合) and 40-4 (比率): a share by their 集計方法;
                                       # 「80%」 typed as 01-1's was 0.8, and 74.6% judged ◎ against it
                                       (4, 0.8), (63, 0.7)])
def test_a_target_typed_since_the_save_on_a_percent_row_is_refused_on_that_cell(master, tmp_path, row, sent):
    """「105%」 typed as 42-2's 目標値 into an unsaved book reaches the server as 1.05, its 0%
    not sent: read as typed it was a target of 1.05 with no unit, and 札幌市's 68%, which no
    one changed, was the cell named (「単位が目標値「1.05」（単位なし）と違います」). The target
    is the cell refused, as a 実績値 is (qa-122)."""
    path = _with_cells(master, tmp_path / "book.xlsm", [])
    payload = payload_from_file(path, client=VBA)
    _sheet_values(payload, "指標")[row - 1][7] = sent
    from renkei_xl.excel.book import BOOK_STATE_KEY

    payload[BOOK_STATE_KEY] = [False, False]
    said = _said(_vba_live(path, payload).read())
    assert said.get(f"指標!H{row}", ())[:2] == ("エラー", "percent-format-unsaved"), said.get(f"指標!H{row}")
    unchanged = payload_from_file(path, client=VBA)      # the saved target, unsaved book: read as saved
    unchanged[BOOK_STATE_KEY] = [False, False]
    assert f"指標!H{row}" not in _said(_vba_live(path, unchanged).read())


def _typed(path: Path, edits: list[tuple[str, str, object]], said: bool = True, unknown=()) -> dict:
    """What the VBA client of ``path``'s master (client 7: X-Renkei-Percents) sends after staff
    typed each (sheet, cell, what) since the save, as Excel stores it (typed_since_save), the
    book unsaved (X-Renkei-Book saved=0), as the server's admission passes it on; ``said``
    False: without the header, as a master before client 7 (or a list too long for it) sends;
    ``unknown``: the sheets the header sends as not known (RenkeiPercents past its bounds)."""
    from renkei_xl.excel.book import BOOK_STATE_KEY

    payload = payload_from_file(path, client=VBA)
    for sheet, ref, what in edits:
        typed_since_save(payload, sheet, ref, what)
    payload = admitted_percents(payload, unknown) if said else payload
    payload[BOOK_STATE_KEY] = [False, False]
    return payload


@pytest.mark.parametrize("unknown", [CENTRE, "指標"])
def test_a_sheet_the_header_sends_as_not_known_is_read_as_before_and_the_others_by_the_header(master, tmp_path,
                                                                                              unknown):
    """client-124: one sheet RenkeiPercents cannot read (Excel refusing SpecialCells on a
    protected sheet made the whole header its overflow marker) is sent as not known, that sheet
    alone: its number in doubt (「150%」 typed since the save, stored 1.5) is refused until
    saved, as for a master before client 7, and the other sheet's (「105%」 typed as 42-2's
    目標値 on 指標, 1.05) is read by the header, as it shows."""
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(CENTRE, CENTRE_ROW, VALUE_COL, 80)])
    target = f"指標!H{TARGET_ROW}"
    data = _vba_live(path, _typed(path, [(CENTRE, f"E{CENTRE_ROW}", "150%"), ("指標", f"H{TARGET_ROW}", "105%")],
                                  unknown=[unknown])).read()
    said = _said(data)
    refused, read = (CENTRE_CELL, target) if unknown == CENTRE else (target, CENTRE_CELL)
    assert said.get(refused, (None, None))[1] == "percent-format-unsaved", said.get(refused)
    assert said.get(read, (None, None))[1] != "percent-format-unsaved", said.get(read)
    if unknown != CENTRE:
        assert _centre_value(data) == "150%"
    else:
        assert next(i.target for i in data.indicators if i.row == TARGET_ROW) == "105%"


@pytest.mark.parametrize("typed, read, kind", [("150%", "150%", None), ("100%", "100%", None),
                                                ("85%", "85%", None),
                                                # 15 in 0%: at 200% and over, refused as the command
                                                # line refuses the same book saved (PERCENT_AFTER)
                                                ("1500%", "1500%", "percent-formatted-after")])
def test_a_percent_typed_since_the_save_is_read_as_it_shows_with_the_formats_the_client_sends(master, tmp_path,
                                                                                           typed, read, kind):
    """client-123: 「1500%」 typed into an unsaved book (Excel stores 15 and gives the cell 0%)
    reached the server as 15, its format not sent, and was read as 15 % without a word; 「150%」
    (1.5) was refused until staff saved. With X-Renkei-Percents the cell is read with the
    format Excel has, as the command line reads the same book once saved."""
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(CENTRE, CENTRE_ROW, VALUE_COL, 80)])
    data = _vba_live(path, _typed(path, [(CENTRE, f"E{CENTRE_ROW}", typed)])).read()
    assert _centre_value(data) == read
    said = _said(data)
    assert said.get(CENTRE_CELL, (None, None))[1] == kind, said.get(CENTRE_CELL)
    saved = _with_cells(master, tmp_path / "saved.xlsm",
                        [CellEdit(CENTRE, CENTRE_ROW, VALUE_COL, _sheet_values(_typed(path, [(CENTRE, f"E{CENTRE_ROW}", typed)]),
                                                                              CENTRE)[CENTRE_ROW - 1][VALUE_COL - 1],
                                  number_format="0%")])
    on_disk = _read_file(saved)                   # the command line, the same book saved
    assert _centre_value(on_disk) == read and _said(on_disk).get(CENTRE_CELL) == said.get(CENTRE_CELL)
    assert _symbol(on_disk) == _symbol(data)


def test_a_percent_typed_since_the_save_without_the_header_is_refused_or_read_as_before(master, tmp_path):
    """An older master (no X-Renkei-Percents) keeps today's reading: 「150%」 (1.5) is refused
    until saved, 「1500%」 (15) read as typed (a number of 10 or more is not in doubt then)."""
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(CENTRE, CENTRE_ROW, VALUE_COL, 80)])
    data = _vba_live(path, _typed(path, [(CENTRE, f"E{CENTRE_ROW}", "150%")], said=False)).read()
    assert _said(data)[CENTRE_CELL][1] == "percent-format-unsaved"
    data = _vba_live(path, _typed(path, [(CENTRE, f"E{CENTRE_ROW}", "1500%")], said=False)).read()
    assert _centre_value(data) == "15" and CENTRE_CELL not in _said(data)


def test_85_typed_into_a_percent_cell_or_a_cell_given_a_percent_since_the_save_reads_as_excel_shows_it(master,
                                                                                                    tmp_path):
    """85 typed since the save into the saved 「100%」 cell is stored 0.85 (Excel's percent
    entry): 85 %, not refused until a save. 85 saved in 標準 and formatted 0% since (it shows
    「8500%」) is refused as the command line refuses it; read by the saved format it was 85 %."""
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(CENTRE, CENTRE_ROW, VALUE_COL, 1, number_format="0%")])
    data = _vba_live(path, _typed(path, [(CENTRE, f"E{CENTRE_ROW}", 85)])).read()
    assert _centre_value(data) == "85%" and CENTRE_CELL not in _said(data)
    path = _with_cells(master, tmp_path / "general.xlsm", [CellEdit(CENTRE, CENTRE_ROW, VALUE_COL, 85)])
    payload = payload_from_file(path, client=VBA)
    payload["_excel"]["percent_formats"].setdefault(CENTRE, {})[f"E{CENTRE_ROW}"] = "0%"   # ホーム > %
    from renkei_xl.excel.book import BOOK_STATE_KEY

    payload = admitted_percents(payload)
    payload[BOOK_STATE_KEY] = [False, False]
    said = _said(_vba_live(path, payload).read())
    assert said[CENTRE_CELL][:2] == ("エラー", "percent-formatted-after") and "8500%" in said[CENTRE_CELL][2], said
    formatted = _with_cells(master, tmp_path / "formatted.xlsm",
                            [CellEdit(CENTRE, CENTRE_ROW, VALUE_COL, 85, number_format="0%")])
    assert _said(_read_file(formatted))[CENTRE_CELL] == said[CENTRE_CELL]


@pytest.mark.parametrize("col, typed, read", [(7, "60%", "60%"), (7, "1500%", "1500%"), (8, "80%", "80%"),
                                              (11, "150%", "150%")])
def test_a_percent_typed_since_the_save_on_the_indicators_sheet_is_read_as_it_shows(master, tmp_path, col, typed,
                                                                                  read):
    """基準値 (G), 目標値 (H) and 実績値（手入力） (K) of 指標 typed with % since the save: read as
    they show with the client's formats. 基準値 typed since the save was not checked at all
    without them (「60%」 read as 0.6)."""
    path = _with_cells(master, tmp_path / "book.xlsm", [])
    ref = f"{'ABCDEFGHIJK'[col - 1]}{TARGET_ROW}"
    data = _vba_live(path, _typed(path, [("指標", ref, typed)])).read()
    field = {7: "baseline", 8: "target", 11: "actual_manual"}[col]
    assert getattr(next(i for i in data.indicators if i.row == TARGET_ROW), field) == read
    old = _vba_live(path, _typed(path, [("指標", ref, typed)], said=False)).read()
    assert getattr(next(i for i in old.indicators if i.row == TARGET_ROW), field) != read


def test_a_number_unchanged_since_the_save_is_read_by_its_saved_format_in_an_unsaved_book(master, tmp_path):
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(CENTRE, CENTRE_ROW, VALUE_COL, 1, number_format="0%")])
    payload = _unsaved(path, 1)
    _sheet_values(payload, MUNI)[ROW - 1][VALUE_COL - 1] = 3000    # another cell edited since the save
    data = _vba_live(path, payload).read()
    assert _centre_value(data) == "100%" and CENTRE_CELL not in _said(data)


def test_a_number_typed_since_the_save_in_a_saved_book_or_off_a_percent_row_is_read(master, tmp_path):
    """Saved (X-Renkei-Book saved=1), the saved master's format is the cell's; on a row counted
    in 件, 1 is 1件 whatever the format could be (a percent there is refused as a unit)."""
    from renkei_xl.excel.book import BOOK_STATE_KEY

    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(CENTRE, CENTRE_ROW, VALUE_COL, 80)])
    payload = _unsaved(path, 1)
    payload[BOOK_STATE_KEY] = [True, False]
    assert _centre_value(_vba_live(path, payload).read()) == "1"
    payload = payload_from_file(path, client=VBA)
    _sheet_values(payload, MUNI)[ROW - 1][VALUE_COL - 1] = 1
    payload[BOOK_STATE_KEY] = [False, False]
    assert f"{MUNI}!E{ROW}" not in _said(_vba_live(path, payload).read())
    payload = _unsaved(path, 12)        # from 10, a bare number on a % row is read as typed: 12%
    payload[BOOK_STATE_KEY] = [False, False]
    assert _centre_value(_vba_live(path, payload).read()) == "12"


@pytest.mark.parametrize("field, col, value, fmt, read", [("actual_manual", 11, 1, "0%", "100%"),
                                                         ("target", 8, 0.75, "0%", "75%"),
                                                         ("baseline", 7, 0.6, "0.0%", "60%")])
def test_a_percent_formatted_number_on_the_indicators_sheet_is_read_as_it_shows(master, tmp_path, field, col,
                                                                               value, fmt, read):
    """指標's 実績値（手入力）, 目標値 and 基準値 by the same rule (core.percent_cells.READ_AS_SHOWN)."""
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit("指標", 5, col, value, number_format=fmt)])
    on_disk = _read_file(path)
    assert getattr(next(i for i in on_disk.indicators if i.row == 5), field) == read
    _assert_faces_agree(path, [])


def test_collect_gives_standard_to_a_cell_the_client_says_is_a_percent_though_saved_otherwise(master, tmp_path):
    """percent_source (the cells collect's write gives 標準): a number saved in 標準 and given 0%
    since the save is one of them where the client says its format; the saved master's word
    alone left it out, and a return's 85 written there showed 「8500%」."""
    from renkei_xl.excel.book import BOOK_STATE_KEY

    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(CENTRE, CENTRE_ROW, VALUE_COL, 0.5)])
    payload = payload_from_file(path, client=VBA)
    payload["_excel"]["percent_formats"].setdefault(CENTRE, {})[f"E{CENTRE_ROW}"] = "0%"   # ホーム > %
    for said in (True, False):
        sent = admitted_percents(payload) if said else dict(payload)
        sent[BOOK_STATE_KEY] = [False, False]
        cells = _vba_live(path, sent).percent_source()(CENTRE)
        assert ((CENTRE_ROW, VALUE_COL) in cells) is said, (said, cells.get((CENTRE_ROW, VALUE_COL)))


def _named_to(master: Path, path: Path, name: str, target: str) -> Path:
    """``master`` with the workbook's defined name ``name`` referring to ``target`` instead, as
    staff set it in 名前の管理 (workbook.xml rewritten; every other part as saved)."""
    import re
    import zipfile

    with zipfile.ZipFile(master) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/workbook.xml":
                data, n = re.subn(rf'(<definedName name="{name}"[^>]*>)[^<]*(</definedName>)'.encode(),
                                  rb"\g<1>" + target.encode() + rb"\g<2>", data)
                assert n == 1, name
            dst.writestr(item, data)
    return path


@pytest.mark.parametrize("target", ["メニュー!$B$3", "経年!$B$3", "一覧!$B$3"])
def test_a_setting_named_on_a_sheet_the_tool_does_not_read_names_that_sheet_as_there(master, tmp_path, target):
    """対象年度 pointed at メニュー or 経年 (名前の管理: a sheet the workbook has, which the tool
    does not read settings from): both faces said 「参照先シート「経年」がありません」, sending staff
    to look for a sheet in front of them. Refused alike, naming the cell and where the setting goes."""
    from renkei_xl.core import contract as c
    from renkei_xl.core.errors import UserError
    from renkei_xl.workbook.session import load_master

    path = _named_to(master, tmp_path / "book.xlsm", c.N_YEAR, target)
    sheet = target.split("!")[0]
    with pytest.raises(UserError) as on_disk:
        load_master(path)
    with pytest.raises(UserError) as live:
        _vba_live(path, payload_from_file(path, client=VBA)).read()
    said = str(live.value)
    assert str(on_disk.value) == f"「{path.name}」: {said}"     # the command line names the file first
    assert f"「{sheet}!B3」は、このツールが読まないシートのセルです" in said and "がありません" not in said, said
    assert f"シート「{c.SETTINGS}」の値のセルに直してください" in said, said


# Every number input cell kind a percent is read on (core.percent_cells.READ_AS_SHOWN): (sheet,
# row, column, 指標ID, field). 札幌市 63 is 42-2 (% row), 58 is 40-4 (比率: 実績値 and 分母);
# 指標 68 is 42-2's 基準値 and 目標値, 指標 5 a 手入力 row's 実績値（手入力）.
PERCENT_INPUTS = [(CENTRE, CENTRE_ROW, 5, "42-2", "value"), (CENTRE, 58, 5, "40-4", "value"),
                  (CENTRE, 58, 6, "40-4", "denominator"), ("指標", TARGET_ROW, 7, "42-2", "baseline"),
                  ("指標", TARGET_ROW, 8, "42-2", "target"), ("指標", 5, 11, None, "actual_manual")]


@pytest.fixture(scope="module")
def master_vba_payload(master) -> str:
    """The VBA client's payload of the unchanged master, as JSON: built once, where each of
    the 44 books of the test below built the same one again (payload_from_file, about 0.05
    CPU s each). ``json.loads`` gives each its own copy to type into."""
    return json.dumps(payload_from_file(master, client=VBA))


@pytest.mark.parametrize("fmt", ["0%", "0.0%", "0.00%", "0%;[Red]-0%", '0"%"', "[$-411]0%", '"%"0', '0%"%"', "0\\%",
                                 '0.0%;;"ゼロ"', '#,##0;"%"'])
def test_a_number_and_its_format_typed_since_the_save_read_with_the_header_as_the_command_line_reads_them(
        master, master_vba_payload, tmp_path, fmt):
    """X-Renkei-Percents on the faces: a number typed into an unsaved book with a format that
    holds a percent sign (a percent, a literal 「"%"」 or 「\\%」 that is none, one section's, a
    locale's), on every number input cell kind, reads on the button (the header naming its
    format, the saved master knowing neither) as the command line reads the same book saved:
    the cell's value, every finding and the row's judgement (qa-123: 780 such cases walked)."""
    from renkei_xl.core.refs import cell_ref
    from renkei_xl.excel.book import BOOK_STATE_KEY

    def read(data):
        """Each input cell's value and row judgement, and every finding, as this face reads them."""
        result = recalculate(data.settings, data.indicators, data.entries, data.findings)
        cells = []
        for sheet, row, _col, ind, field in PERCENT_INPUTS:
            records = data.indicators if sheet == "指標" else [e for e in data.entries if e.sheet == sheet]
            cells.append((getattr(next(r for r in records if r.row == row), field),
                          result.evaluations[ind].symbol if ind else None))
        return cells, sorted((f.place, f.type, f.message) for f in result.findings)

    # The six cells typed at once, a book per value (each cell is read by its own field; one
    # book a cell was six times the work for the same comparisons).
    for n, value in enumerate((1, 0.6, -0.5, 85)):
        saved = _with_cells(master, tmp_path / f"saved{n}.xlsm",
                            [CellEdit(sheet, row, col, value, number_format=fmt) for sheet, row, col, _i, _f in PERCENT_INPUTS])
        on_disk = _read_file(saved)
        payload = json.loads(master_vba_payload)                 # the book as last saved: neither
        for sheet, row, col, _ind, _field in PERCENT_INPUTS:
            _sheet_values(payload, sheet)[row - 1][col - 1] = value
            payload["_excel"]["percent_formats"].setdefault(sheet, {})[cell_ref(row, col)] = fmt
        payload = admitted_percents(payload)
        payload[BOOK_STATE_KEY] = [False, False]
        (live_cells, live_findings), (disk_cells, disk_findings) = read(_vba_live(master, payload).read()), read(on_disk)
        for cell, live, disk in zip(PERCENT_INPUTS, live_cells, disk_cells):
            assert live == disk, (cell, value, live, disk)
        assert live_findings == disk_findings, value


@pytest.mark.parametrize("value, fmt", [(89 / 143, "0.0%"), (0.12345678901234568, "0%"), (1.0000000000000002, "0%")])
def test_a_percent_of_more_digits_than_the_client_sends_unchanged_since_the_save_is_read_in_an_unsaved_book(
        master, tmp_path, value, fmt):
    """A ratio pasted as a value (89/143, 0.6223776223776224) into a 0.0% cell and saved reaches
    the server from xlwings' VBA client as CStr writes it, 0.622377622377622: compared exactly
    with the saved 0.6223776223776224, the cell was a number typed since the save in every
    unsaved book (a master without X-Renkei-Percents), and refused as one 「保存していない
    変更」 though nobody had touched it. Read as the same book saved reads it."""
    import json

    from remote_payload import client_body
    from renkei_xl.excel.book import BOOK_STATE_KEY

    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(CENTRE, CENTRE_ROW, VALUE_COL, value, number_format=fmt)])
    sent = json.loads(client_body(payload_from_file(path, client=VBA)))    # as VBA-Web writes it
    assert _sheet_values(sent, CENTRE)[CENTRE_ROW - 1][VALUE_COL - 1] != value
    read = {}
    for saved in (True, False):
        data = _vba_live(path, {**sent, BOOK_STATE_KEY: [saved, False]}).read()
        read[saved] = (_centre_value(data), _said(data).get(CENTRE_CELL), _symbol(data))
    assert read[False] == read[True] and read[True][1] is None and read[True][0].endswith("%"), read


def test_a_saved_copy_older_than_the_master_is_not_read_by_the_formats_of_the_newer_save(master, tmp_path):
    """Staff A opened the master (札幌市!E63 1.5 in 標準: 1.5 %), colleague B since gave that cell
    「100%」 (1 in 0%) and saved. A's copy says it is saved (X-Renkei-Book saved=1) and sends 1.5:
    read by B's 0% it was 150 % and judged ◎, without a word, on a master without X-Renkei-Percents
    (a saved book's cells were all taken to have the saved formats). A saved format is a cell's
    only where the cell holds the number saved: 1.5 is read as A's copy shows it, as the command
    line reads A's copy."""
    from renkei_xl.excel.book import BOOK_STATE_KEY

    opened = _with_cells(master, tmp_path / "opened.xlsm", [CellEdit(CENTRE, CENTRE_ROW, VALUE_COL, 1.5)])
    newer = _with_cells(master, tmp_path / "newer.xlsm",
                        [CellEdit(CENTRE, CENTRE_ROW, VALUE_COL, 1, number_format="0%")])
    on_disk = _read_file(opened)
    for read_only in (True, False, None):
        data = _vba_live(newer, {**payload_from_file(opened, client=VBA), BOOK_STATE_KEY: [True, read_only]}).read()
        assert (_centre_value(data), _symbol(data)) == (_centre_value(on_disk), _symbol(on_disk)) == ("1.5", "×")
    data = _vba_live(newer, {**payload_from_file(newer, client=VBA), BOOK_STATE_KEY: [True, False]}).read()
    assert _centre_value(data) == "100%"        # B's own book, saved: its 0% is the cell's


# 札幌市 row 5's 実績値 (E5) in a number format that shows it otherwise than the number stored:
# read alone it was judged on 17 without a word, on both faces (qa-values63, shown63). Refused,
# naming what Excel shows (core.displayed.shown_otherwise), with the same finding on each face.
SHOWN_ROW = 5
SHOWN_CELL = f"{CENTRE}!E{SHOWN_ROW}"


@pytest.mark.parametrize("fmt, seen", [('"約"0', "「約17」と表示"), ('0"以上"', "「17以上」と表示"),
                                       ('[<100]"100未満";0', "「100未満」と表示"), (";;;", "何も表示されていません"),
                                       ("0,", "「0」と表示"), ('#,##0"人"', "「17人」と表示"),
                                       ("yyyy/mm/dd", "「#####」と表示"),
                                       # qa-values64: 17 shown as a negative was judged on +17
                                       ('"▲"0', "「▲17」と表示"), ("-0", "「-17」と表示"),
                                       # qa-values64c: -0.5 shown 50% was read as the 50% shown
                                       ("0%;0%", "「50%」と表示"),
                                       # qa-values64c: engineering notation was judged as stored
                                       ('"▲"##0.0E+0', "「▲17.0E+0」と表示")])
def test_a_master_number_whose_format_shows_it_otherwise_is_refused_alike_on_both_faces(master, tmp_path, fmt, seen):
    value = 3_000_000 if "yyyy" in fmt else -0.5 if "%" in fmt else 17        # past 9999-12-31: #####
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(CENTRE, SHOWN_ROW, VALUE_COL, value, number_format=fmt)])
    said = _assert_faces_agree(path, [])
    assert said.get(SHOWN_CELL, ())[:2] == ("エラー", "shown-otherwise"), said.get(SHOWN_CELL)
    assert seen in said[SHOWN_CELL][2] and f"数値 {value} " in said[SHOWN_CELL][2], said[SHOWN_CELL]
    data = _read_file(path)
    ind = next(e.indicator_id for e in data.entries if e.sheet == CENTRE and e.row == SHOWN_ROW)
    assert _symbol(data, ind) == "－"


def test_a_master_status_number_shown_with_another_sign_is_refused_alike_on_both_faces(master, tmp_path):
    """A 実施状況 of -12 in 「0;0」 shows 12 and was read as the text 「-12」 on every face
    (qa-values64c): refused by the one sign rule, naming what the cell shows."""
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(MUNI, ROW, STATUS_COL, -12, number_format="0;0")])
    said = _assert_faces_agree(path, [])
    place = f"{MUNI}!G{ROW}"
    assert said.get(place, ())[:2] == ("エラー", "shown-otherwise"), said.get(place)
    assert "実施状況のセルには数値 -12 " in said[place][2] and "「12」と表示" in said[place][2], said[place]


@pytest.mark.parametrize("value, fmt, read", [(17, "0", "17"), (17, "#,##0", "17"), (17, "0.0", "17"),
                                              (17, "General", "17"), (0.17, "0%", "17%"), (0, '0;-0;;@', "0"),
                                              # qa-values64c: a red negative is the sign (was 50%)
                                              (-0.5, "0%;[Red]0%", "-50%")])
def test_a_master_number_in_a_plain_format_is_read_as_before(master, tmp_path, value, fmt, read):
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(CENTRE, SHOWN_ROW, VALUE_COL, value, number_format=fmt)])
    said = _assert_faces_agree(path, [])
    # E5 counts 件: 17% is refused for its unit, as before, and -50% as negative, not for its format
    assert SHOWN_CELL not in said or "%" in fmt and said[SHOWN_CELL][1] in ("unit-mismatch", "negative"), said[SHOWN_CELL]
    assert next(e.value for e in _read_file(path).entries if e.sheet == CENTRE and e.row == SHOWN_ROW) == read


@pytest.mark.parametrize("sheet_name, row, col", [("指標", 8, 7), ("指標", 8, 8), ("指標", 5, 11), (MUNI, ROW, 6)])
def test_an_indicators_or_a_denominators_number_shown_with_words_is_refused_alike_on_both_faces(master, tmp_path,
                                                                                                sheet_name, row, col):
    """基準値, 目標値, 実績値（手入力） and 分母 are read as the 実績値 is (shown63)."""
    from renkei_xl.core.refs import cell_ref

    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(sheet_name, row, col, 17, number_format='"約"0')])
    said = _assert_faces_agree(path, [])
    place = f"{sheet_name}!{cell_ref(row, col)}"
    assert said.get(place, ())[:2] == ("エラー", "shown-otherwise"), said.get(place)
    assert "「約17」と表示" in said[place][2], said[place]

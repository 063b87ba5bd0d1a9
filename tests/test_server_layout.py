"""The server's buttons on a workbook whose rows staff moved and did not save.

The payload carries values only, so the server takes fills (a mark's 元の塗り), Text formats,
merges and array formulas from the saved master, by address. Staff who inserted or deleted
a row or sorted a sheet in Excel, and pressed 入力チェック before saving, had every address
pointing at another row's cell: the mark recorded and later gave back another row's fill,
and a value went into an array formula Excel refuses (1004) while a free cell was refused.
Each open workbook here is the saved master as LibreOffice leaves it after the same edit
(tests/realbooks.lo_rows_edit), sent as xlwings' VBA client sends it; the saved master stays
on disk unchanged (core.saved_places).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.styles import PatternFill

from conftest import require_soffice
from remote_payload import VBA, applied_looks, apply_actions, payload_after, payload_from_file, remote_book
from test_buttons import licensed  # noqa: F401  (the remote engine's licence fixture)
from test_server import MASTER_NAME, _master_id, _master_in, server  # noqa: F401  (the running server)
from renkei_xl.cli import main as cli_main
from renkei_xl.core import contract as c
from renkei_xl.core.refs import cell_ref

HIGHLIGHT = "FFFF00"
# sheet → (the column of the cell marked, what makes it an error); the cell's row is row 2
# of the saved master, or row 3 where row 2 is deleted.
MARKED = {"小樽市": (5, "約10件"), c.INDICATORS: (9, "その他")}
EDITS = {
    "小樽市, a row inserted above": ("小樽市", {"insert_row": 2}, 2),
    "小樽市, the row above deleted": ("小樽市", {"remove_row": 2}, 3),
    "小樽市, sorted": ("小樽市", {"sort": "A1:G8"}, 2),
    "指標, a row inserted above": (c.INDICATORS, {"insert_row": 2}, 2),
    "指標, sorted": (c.INDICATORS, {"sort": "A1:M81"}, 2),
}


def _opened_after(master: Path, folder: Path, sheet: str, edit: dict) -> Path:
    """The master as staff have it open after the edit (saved elsewhere: the master on disk
    stays as it was)."""
    from realbooks import lo_rows_edit

    require_soffice()
    return lo_rows_edit(master, folder / MASTER_NAME, sheet, **edit)


def _highlighted(server, folder: str):
    """A server master in ``folder`` whose 小樽市!E3 carries a staff highlight, saved; the
    headers of a click from its open copy with edits not saved; 小樽市 as saved."""
    master = _master_in(server, folder)
    wb = load_workbook(master, keep_vba=True)
    ws = wb["小樽市"]
    ws["E3"].fill = PatternFill("solid", fgColor=HIGHLIGHT)
    wb.save(master)
    return master, {**server.headers, "X-Renkei-Master": _master_id(master), "X-Renkei-Book": "saved=0; read-only=0"}, ws


def _row_of(payload: dict, sheet: str, ind_id: str) -> int:
    values = next(s for s in payload["sheets"] if s["name"] == sheet)["values"]
    return next(i for i, row in enumerate(values, start=1) if row and row[0] == ind_id)


def _set(payload: dict, sheet: str, row: int, col: int, value) -> None:
    next(s for s in payload["sheets"] if s["name"] == sheet)["values"][row - 1][col - 1] = value


@pytest.mark.parametrize("case", list(EDITS))
def test_a_marks_own_fill_follows_its_row_when_rows_moved_since_the_save(server, case, tmp_path):  # noqa: F811
    """A cell with a staff highlight gets an error after staff moved its row (not saved):
    入力チェック records the cell's own fill as 元の塗り, and once the value is fixed gives
    that fill back to the cell where it is now. Before, the saved master's cell at the new
    address (another row's, with the input fill or none) was recorded and given back."""
    sheet, edit, saved_row = EDITS[case]
    col, bad = MARKED[sheet]
    master = _master_in(server, f"行の移動/{list(EDITS).index(case)}")
    wb = load_workbook(master, keep_vba=True)
    ws = wb[sheet]
    ind_id, good = ws.cell(saved_row, 1).value, ws.cell(saved_row, col).value
    ws.cell(saved_row, col).fill = PatternFill("solid", fgColor=HIGHLIGHT)
    wb.save(master)
    headers = {**server.headers, "X-Renkei-Master": _master_id(master), "X-Renkei-Book": "saved=0; read-only=0"}

    first = payload_from_file(_opened_after(master, tmp_path, sheet, edit), client=VBA)
    row = _row_of(first, sheet, ind_id)
    assert row != saved_row                                     # the edit moved the row
    _set(first, sheet, row, col, bad)
    response = server.post("check", first, headers=headers)
    assert response.status_code == 200, response.text
    applied = apply_actions(first, response.json()["actions"])
    ref = cell_ref(row, col)
    recorded = next(r for r in applied.rows(c.FINDINGS) if r and r[1] == sheet and r[2] == ref)
    assert recorded[-1] == HIGHLIGHT, recorded
    assert applied_looks(applied, sheet)[(row, col)]["fill"] == c.MARK_FILL

    second = payload_after(first, applied)
    _set(second, sheet, row, col, good)
    response = server.post("check", second, headers=headers)
    given_back = apply_actions(second, response.json()["actions"])
    assert not [r for r in given_back.rows(c.FINDINGS) if r and r[1] == sheet and r[2] == ref]
    assert applied_looks(given_back, sheet)[(row, col)]["fill"] == HIGHLIGHT


def test_a_saved_mark_moved_by_an_unsaved_insert_is_lifted_where_it_is_and_nowhere_else(server, tmp_path):  # noqa: F811
    """入力チェック marked 小樽市!E3 (a staff highlight under it) and the master was saved; staff
    then insert a row at 2 (the mark moves to E4) and fix the value, without saving. The
    click gave E4 its highlight back and also painted the highlight on E3, the row that now
    sits at the recorded place and never had it: the server cannot read the open book's
    colours, so every recorded place was lifted unconditionally."""
    master = _master_in(server, "行の移動/保存した印")
    wb = load_workbook(master, keep_vba=True)
    ws = wb["小樽市"]
    good = ws["E3"].value
    ws["E3"] = "約10件"
    ws["E3"].fill = PatternFill("solid", fgColor=HIGHLIGHT)
    wb.save(master)
    assert cli_main(["validate", str(master)]) == 1          # marked and saved: 元の塗り FFFF00
    headers = {**server.headers, "X-Renkei-Master": _master_id(master), "X-Renkei-Book": "saved=0; read-only=0"}

    payload = payload_from_file(_opened_after(master, tmp_path, "小樽市", {"insert_row": 2}), client=VBA)
    _set(payload, "小樽市", 4, 5, good)
    response = server.post("check", payload, headers=headers)
    looks = applied_looks(apply_actions(payload, response.json()["actions"]), "小樽市")
    assert looks[(4, 5)]["fill"] == HIGHLIGHT
    assert looks.get((3, 5), {}).get("fill") != HIGHLIGHT, looks.get((3, 5))


def test_a_mark_made_since_the_save_moves_with_its_row_as_excel_moves_it(server, tmp_path):  # noqa: F811
    """入力チェック marks 小樽市!E3 (a staff highlight under it) and nobody saves; staff then
    insert a row at 2 and fix the value. Excel moved the mark with its row to E4. The server
    sees neither the open book's colours nor, in the saved master, the mark: it lifted E3,
    now the row above's cell, giving it the highlight, and left E4 red for good under
    「エラー 0 件」. The row that held the mark is known by the 指標ID 検証結果 recorded."""
    master, headers, ws = _highlighted(server, "行の移動/保存していない印")
    ind_id, good = ws["A3"].value, ws["E3"].value

    first = payload_from_file(master, client=VBA)
    _set(first, "小樽市", 3, 5, "約10件")
    applied = apply_actions(first, server.post("check", first, headers=headers).json()["actions"])
    assert applied_looks(applied, "小樽市")[(3, 5)]["fill"] == c.MARK_FILL

    second = payload_after(first, applied)
    values = next(s for s in second["sheets"] if s["name"] == "小樽市")["values"]
    values.insert(1, [""] * len(values[0]))                 # the row inserted at 2
    assert _row_of(second, "小樽市", ind_id) == 4
    _set(second, "小樽市", 4, 5, good)
    response = server.post("check", second, headers=headers)
    looks = applied_looks(apply_actions(second, response.json()["actions"]), "小樽市")
    assert looks[(4, 5)]["fill"] == HIGHLIGHT
    assert (3, 5) not in looks or looks[(3, 5)].get("fill") is None, looks.get((3, 5))


def _remote(open_book: Path, master: Path, state: list | None = None):
    from renkei_xl.excel.book import BOOK_STATE_KEY, RENKEI_CLIENT_KEY, SAVED_MASTER_KEY

    payload = payload_from_file(open_book, client=VBA)
    payload.update({RENKEI_CLIENT_KEY: True, SAVED_MASTER_KEY: str(master)})
    if state is not None:
        payload[BOOK_STATE_KEY] = state
    return payload, remote_book(payload)


@pytest.fixture
def saved_master(tmp_path, sample_master_xlsm, licensed):  # noqa: F811
    """The sample master as `init --sample fy2023` writes it: the run's shared build,
    copied (each test edits and saves its own)."""
    path = tmp_path / "saved" / MASTER_NAME
    path.parent.mkdir()
    shutil.copyfile(sample_master_xlsm, path)
    return path


def test_an_array_and_a_text_cell_are_found_where_the_moved_row_is_now(saved_master, tmp_path):
    """小樽市's 実施状況 holds an array formula on rows 3-4 and is formatted as Text on row 5
    in the saved master; staff insert a row at 2 and do not save. A value for G3 (the saved
    G2) was refused as 「配列数式の範囲」 (the saved G3), one for G5 was sent into the array
    (Excel's 1004 halfway), and G6 got the text prefix, which Excel keeps in a Text cell."""
    from openpyxl.worksheet.formula import ArrayFormula

    from renkei_xl.core.errors import UserError
    from renkei_xl.core.plan_types import CellEdit, WritePlan
    from renkei_xl.excel import buttons
    from renkei_xl.excel.engines import live_book

    wb = load_workbook(saved_master, keep_vba=True)
    ws = wb["小樽市"]
    ws["G3"] = ArrayFormula("G3:G4", "=C3:C4")
    ws["G5"].number_format = "@"
    wb.save(saved_master)
    open_book = _opened_after(saved_master, tmp_path / "open", "小樽市", {"insert_row": 2})

    payload, book = _remote(open_book, saved_master)
    with pytest.raises(UserError, match="小樽市!G5.*配列数式"):
        buttons._apply(live_book(book), WritePlan(cells=[CellEdit("小樽市", 5, 7, "実施")]))
    assert book.json()["actions"] == []

    payload, book = _remote(open_book, saved_master)
    buttons._apply(live_book(book), WritePlan(cells=[CellEdit("小樽市", 3, 7, "実施"),
                                                     CellEdit("小樽市", 6, 7, "実施")]))
    applied = apply_actions(payload, book.json()["actions"])     # ExcelError where Excel refuses
    assert applied.value("小樽市", "G3") == "実施" and applied.value("小樽市", "G6") == "実施"


def test_a_moved_sheet_whose_saved_merges_cannot_be_placed_is_refused_with_the_step(saved_master, tmp_path):
    """A merge staff made in a column of their own (no header the tool reads, so its rows
    and column cannot be followed) on a sheet whose rows were then sorted: where it is now
    cannot be told, so a click that writes into that sheet stops before anything is written,
    naming the sheet and the step its book state allows. Before, the saved address was taken
    and a write over part of the merge met Excel's 1004 halfway through the replay."""
    from renkei_xl.core.errors import UserError
    from renkei_xl.core.plan_types import CellEdit, WritePlan
    from renkei_xl.excel import buttons
    from renkei_xl.excel.engines import live_book

    wb = load_workbook(saved_master, keep_vba=True)
    wb["小樽市"].merge_cells("H5:I5")
    wb.save(saved_master)
    open_book = _opened_after(saved_master, tmp_path / "open", "小樽市", {"insert_row": 3})
    plan = WritePlan(cells=[CellEdit("小樽市", 6, 9, "済")])     # part of the merge, now H6:I6

    for state, step in (([False, False], "上書き保存してから"), ([True, False], "上書き保存はしないでください")):
        payload, book = _remote(open_book, saved_master, state)
        with pytest.raises(UserError) as said:
            buttons._apply(live_book(book), plan)
        assert "シート「小樽市」の行や列が、保存されているマスターと違う位置" in str(said.value)
        assert step in str(said.value), str(said.value)
        assert book.json()["actions"] == []

    shutil.copyfile(open_book, saved_master)          # saved: the merge is where the master says
    payload, book = _remote(open_book, saved_master)
    buttons._apply(live_book(book), WritePlan(cells=[CellEdit("小樽市", 6, 7, "実施")]))
    assert apply_actions(payload, book.json()["actions"]).value("小樽市", "G6") == "実施"


def test_a_sheet_is_in_place_until_a_row_or_a_column_moves(saved_master, tmp_path):
    """The one rule (core.saved_places), on the contract as the one reader reads both books:
    values typed since the save leave a sheet in place; a column inserted left of staff's own
    column moves that column (followed by its header, as the fields are), and only the
    sheet it was inserted in."""
    from renkei_xl.core.saved_places import moved_sheets
    from renkei_xl.workbook.session import load_master

    wb = load_workbook(saved_master, keep_vba=True)
    wb["小樽市"]["H1"], wb["小樽市"]["H2"] = "備考", "確認済み"
    wb.save(saved_master)
    typed = tmp_path / "typed.xlsm"
    wb["小樽市"]["E2"], wb[c.INDICATORS]["K3"] = 99, "12人"
    wb.save(typed)
    assert moved_sheets(load_master(saved_master), load_master(typed)) == {}
    wb["小樽市"].insert_cols(8)             # staff's own column H moves to I
    wb.save(typed)
    moved = moved_sheets(load_master(saved_master), load_master(typed))
    assert list(moved) == ["小樽市"]
    assert moved["小樽市"].saved_cell(2, 9) == (2, 8) and moved["小樽市"].saved_cell(2, 8) is None
    assert moved["小樽市"].saved_cell(2, 5) == (2, 5)
    assert moved["小樽市"].sent_area((2, 8, 3, 8)) == (2, 9, 3, 9)
    assert moved_sheets(None, load_master(saved_master)).keys() >= {c.INDICATORS, "小樽市"}


def _check(server, payload, headers):  # noqa: F811
    response = server.post("check", payload, headers=headers)
    assert response.status_code == 200, response.text
    return apply_actions(payload, response.json()["actions"])


def _lost(applied, sheet: str) -> list:
    return [r for r in applied.rows(c.FINDINGS) if r and r[1] == sheet and "いまどのセルにあるかわかりません" in str(r[4])]


def test_a_saved_mark_whose_row_staff_deleted_gives_its_fill_to_no_other_row(server, tmp_path):  # noqa: F811
    """入力チェック marked 小樽市!E3 (a staff highlight under it), the master was saved; staff
    delete row 3 and press 入力チェック without saving. The mark was lifted at E3, now the
    next indicator's cell, which got the deleted row's highlight. Its row is gone: nothing
    is given back, and 検証結果 says so."""
    master = _master_in(server, "行の移動/削除した印")
    wb = load_workbook(master, keep_vba=True)
    ws = wb["小樽市"]
    ind_id, next_id, next_fill = ws["A3"].value, ws["A4"].value, ws["E4"].fill.fgColor.rgb[-6:]
    ws["E3"] = "約10件"
    ws["E3"].fill = PatternFill("solid", fgColor=HIGHLIGHT)
    wb.save(master)
    assert cli_main(["validate", str(master)]) == 1          # marked and saved: 元の塗り FFFF00
    headers = {**server.headers, "X-Renkei-Master": _master_id(master), "X-Renkei-Book": "saved=0; read-only=0"}

    payload = payload_from_file(_opened_after(master, tmp_path, "小樽市", {"remove_row": 3}), client=VBA)
    assert _row_of(payload, "小樽市", next_id) == 3
    applied = _check(server, payload, headers)
    assert applied_looks(applied, "小樽市").get((3, 5), {}).get("fill") in (None, next_fill)
    assert [r[3] for r in _lost(applied, "小樽市")] == [ind_id]


def test_an_unsaved_mark_whose_row_staff_deleted_gives_its_fill_to_no_other_row(server, tmp_path):  # noqa: F811
    """As above with the mark made since the save: the server sees it nowhere, and the
    row now at E3 (an error too) was recorded with the deleted row's highlight as its own
    元の塗り, or given it when the mark was lifted."""
    master, headers, ws = _highlighted(server, "行の移動/削除した保存していない印")
    ind_id, next_id = ws["A3"].value, ws["A4"].value

    first = payload_from_file(master, client=VBA)
    _set(first, "小樽市", 3, 5, "約10件")
    applied = _check(server, first, headers)
    assert applied_looks(applied, "小樽市")[(3, 5)]["fill"] == c.MARK_FILL

    for next_bad in (False, True):
        second = payload_after(first, applied)
        del next(s for s in second["sheets"] if s["name"] == "小樽市")["values"][2]     # row 3 deleted
        assert _row_of(second, "小樽市", next_id) == 3
        if next_bad:
            _set(second, "小樽市", 3, 5, "約20件")
        after = _check(server, second, headers)
        looks = applied_looks(after, "小樽市")
        assert looks.get((3, 5), {}).get("fill") != HIGHLIGHT, looks.get((3, 5))
        if next_bad:
            recorded = next(r for r in after.rows(c.FINDINGS) if r and r[1] == "小樽市" and r[2] == "E3")
            assert recorded[-1] != HIGHLIGHT, recorded
        assert [r[3] for r in _lost(after, "小樽市")] == [ind_id]


def test_an_unknown_id_fixed_in_place_without_saving_gets_its_fill_back(server, tmp_path):  # noqa: F811
    """The common case the rule must keep: an unknown 指標ID marked, retyped right and
    checked again, nothing saved. The row did not move: the mark is lifted where it is."""
    master = _master_in(server, "行の移動/指標IDの修正")
    wb = load_workbook(master, keep_vba=True)
    ws = wb["小樽市"]
    good = ws["A3"].value
    ws["A3"].fill = PatternFill("solid", fgColor=HIGHLIGHT)
    wb.save(master)
    headers = {**server.headers, "X-Renkei-Master": _master_id(master), "X-Renkei-Book": "saved=0; read-only=0"}

    first = payload_from_file(master, client=VBA)
    _set(first, "小樽市", 3, 1, "Z-999")
    applied = _check(server, first, headers)
    assert applied_looks(applied, "小樽市")[(3, 1)]["fill"] == c.MARK_FILL
    second = payload_after(first, applied)
    _set(second, "小樽市", 3, 1, good)
    after = _check(server, second, headers)
    assert applied_looks(after, "小樽市")[(3, 1)]["fill"] == HIGHLIGHT
    assert not _lost(after, "小樽市")


def test_an_unsaved_mark_after_a_column_inserted_paints_no_other_cell(server, tmp_path):  # noqa: F811
    """入力チェック marks 小樽市!E3 (not saved); staff insert a column at B and fix the value.
    The mark is now at F3 and E3 holds 単位: the server lifted E3, giving 単位 the
    highlight. Whether the mark was made before or after the insert cannot be told from
    values (E3 or F3): the cell is left alone, and 検証結果 says so."""
    master, headers, ws = _highlighted(server, "行の移動/列の挿入")
    ind_id, good = ws["A3"].value, ws["E3"].value

    first = payload_from_file(master, client=VBA)
    _set(first, "小樽市", 3, 5, "約10件")
    applied = _check(server, first, headers)
    second = payload_after(first, applied)
    for row in next(s for s in second["sheets"] if s["name"] == "小樽市")["values"]:
        row.insert(1, "")
    _set(second, "小樽市", 3, 6, good)
    after = _check(server, second, headers)
    looks = applied_looks(after, "小樽市")
    assert looks.get((3, 5), {}).get("fill") != HIGHLIGHT, looks.get((3, 5))
    assert [r[3] for r in _lost(after, "小樽市")] == [ind_id]


def test_a_mark_on_a_renamed_sheet_is_said_not_guessed(server, tmp_path):  # noqa: F811
    """The sheet of a recorded mark is gone from the book sent (renamed or deleted): the
    mark is left alone and 検証結果 says so (before, nothing was said and the cell, on a
    renamed sheet, stayed red)."""
    master = _master_in(server, "行の移動/シート名")
    headers = {**server.headers, "X-Renkei-Master": _master_id(master), "X-Renkei-Book": "saved=0; read-only=0"}
    first = payload_from_file(master, client=VBA)
    _set(first, "小樽市", 3, 5, "約10件")
    applied = _check(server, first, headers)
    second = payload_after(first, applied)
    next(s for s in second["sheets"] if s["name"] == "小樽市")["name"] = "小樽市（旧）"
    after = _check(server, second, headers)
    assert [r[1] for r in _lost(after, "小樽市")] == ["小樽市"]


def test_a_face_that_reads_colours_agrees_when_the_marked_row_is_deleted(saved_master, tmp_path):
    """The command line reads the book's own colours, as the desktop buttons do: 小樽市!E3
    marked over a highlight and saved, row 3 deleted, and the row now at E3 in error too.
    That cell was recorded with the deleted row's highlight as its own 元の塗り (given to
    it once fixed); now with its own fill, and 検証結果 says where the lost mark was."""
    wb = load_workbook(saved_master, keep_vba=True)
    ws = wb["小樽市"]
    ind_id, next_fill = ws["A3"].value, ws["E4"].fill.fgColor.rgb[-6:]
    ws["E3"], ws["E4"] = "約10件", "約20件"
    ws["E3"].fill = PatternFill("solid", fgColor=HIGHLIGHT)
    wb.save(saved_master)
    assert cli_main(["validate", str(saved_master)]) == 1
    book = _opened_after(saved_master, tmp_path / "open", "小樽市", {"remove_row": 3})
    assert cli_main(["validate", str(book)]) == 1
    grid = [list(r) for r in load_workbook(book)[c.FINDINGS].iter_rows(values_only=True)]
    recorded = next(r for r in grid if r[1] == "小樽市" and r[2] == "E3")
    assert recorded[-1] == next_fill, recorded
    assert [r[3] for r in grid if r[1] == "小樽市" and "いまどのセルにあるかわかりません" in str(r[4])] == [ind_id]


def test_a_warnings_cell_keeps_its_own_fill_on_the_server(server, tmp_path):  # noqa: F811
    """A warning's cell is never marked, yet its 検証結果 row (no 元の塗り) was read as a
    mark from before the 元の塗り column: the next click on the server, which cannot see
    the cell's colour, "gave back" the contract's fill and took the staff highlight away."""
    master = _master_in(server, "行の移動/警告のセル")
    wb = load_workbook(master, keep_vba=True)
    ws = wb[c.INDICATORS]
    header = [cell.value for cell in ws[1]]
    method, manual = header.index("集計方法") + 1, header.index("実績値（手入力）") + 1
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, method).value == "自動")
    ws.cell(row, manual).value = "50%"            # 「集計方法が自動のため、実績値（手入力）は使われません」
    ws.cell(row, manual).fill = PatternFill("solid", fgColor=HIGHLIGHT)
    wb.save(master)
    headers = {**server.headers, "X-Renkei-Master": _master_id(master), "X-Renkei-Book": "saved=0; read-only=0"}

    first = payload_from_file(master, client=VBA)
    applied = _check(server, first, headers)
    ref = cell_ref(row, manual)
    assert [r[0] for r in applied.rows(c.FINDINGS) if r and r[1] == c.INDICATORS and r[2] == ref] == ["警告"]
    second = payload_after(first, applied)
    response = server.post("check", second, headers=headers)
    looks = applied_looks(apply_actions(second, response.json()["actions"]), c.INDICATORS)
    assert (row, manual) not in looks, looks[(row, manual)]


def test_a_findings_row_whose_id_staff_retyped_paints_no_other_row(server, tmp_path):  # noqa: F811
    """検証結果 itself edited: the 指標ID of the mark on 小樽市!E3 retyped to the ID of row 5
    (nothing moved, nothing saved). The mark was followed to that ID's row and E5, a cell
    never marked, got E3's highlight. The record names a row that never held its ID: it
    cannot be told which cell is meant, so nothing is painted and 検証結果 says so."""
    master, headers, ws = _highlighted(server, "行の移動/検証結果の指標ID")
    good, other = ws["E3"].value, ws["A5"].value

    first = payload_from_file(master, client=VBA)
    _set(first, "小樽市", 3, 5, "約10件")
    applied = _check(server, first, headers)
    second = payload_after(first, applied)
    findings = next(s for s in second["sheets"] if s["name"] == c.FINDINGS)["values"]
    next(r for r in findings if r[1] == "小樽市" and r[2] == "E3")[3] = other
    _set(second, "小樽市", 3, 5, good)
    after = _check(server, second, headers)
    assert applied_looks(after, "小樽市").get((5, 5), {}).get("fill") != HIGHLIGHT
    assert [r[3] for r in _lost(after, "小樽市")] == [other]


def test_a_face_that_reads_colours_agrees_on_a_findings_row_whose_id_staff_retyped(saved_master):
    """The command line (colours read, as on the desktop): the 指標ID of the mark on
    小樽市!E3 retyped on 検証結果 to row 5's, and row 5 in error now. E5 was recorded
    with E3's highlight as its own 元の塗り (given to it once fixed); now with its own."""
    wb = load_workbook(saved_master, keep_vba=True)
    ws = wb["小樽市"]
    other, own = ws["A5"].value, ws["E5"].fill.fgColor.rgb[-6:]
    ws["E3"] = "約10件"
    ws["E3"].fill = PatternFill("solid", fgColor=HIGHLIGHT)
    wb.save(saved_master)
    assert cli_main(["validate", str(saved_master)]) == 1
    wb = load_workbook(saved_master, keep_vba=True)
    row = next(r for r in wb[c.FINDINGS].iter_rows() if r[1].value == "小樽市" and r[2].value == "E3")
    row[3].value = other
    wb["小樽市"]["E5"] = "約20件"
    wb.save(saved_master)
    assert cli_main(["validate", str(saved_master)]) == 1
    grid = [list(r) for r in load_workbook(saved_master)[c.FINDINGS].iter_rows(values_only=True)]
    assert next(r for r in grid if r[1] == "小樽市" and r[2] == "E5")[-1] == own
    assert [r[3] for r in grid if r[1] == "小樽市" and "いまどのセルにあるかわかりません" in str(r[4])] == [other]

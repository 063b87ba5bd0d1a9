"""A picture placed in a cell, or a linked data type (株価, 地理), is named as what it is.

Excel 365 saves such a cell as a rich value: ``<c t="e" vm="1"><v>#VALUE!</v></c>``, with
xl/metadata.xml and xl/richData/* holding the picture or the record; older Excel and
LibreOffice show #VALUE!. Each case is the real FY2023 sample master (or a file split from
it) with Excel's own parts carried in from tests/data/excel_made/embed_image01.xlsx
(tests/realbooks.graft_rich_value_cell) and one input cell made that picture. The message
said 「エラー値「#VALUE!」」 while staff saw a picture in the cell.
"""

from __future__ import annotations

import io
import re
import shutil
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from conftest import require_soffice, with_members
from realbooks import (excel_made_books, graft_rich_value_cell, lo_inspect, package_problems, parts,
                       relationships, resolve_target, sheet_parts, walk_parts, workbook_part)
from remote_payload import VBA, apply_actions, payload_from_file, remote_book
from test_buttons import licensed  # noqa: F401  (the remote engine, with its test key)
from test_error_cells import file_face, with_error

from renkei_xl.cli import main
from renkei_xl.core import contract as c
from renkei_xl.core.values import UNKNOWN_ERROR

PICTURE = "画像（または株価・地理などのデータの種類）が入っています"
# What the hint on a plain #VALUE! adds: the buttons cannot tell a picture from it.
VALUE_HINT = "セルに画像（または株価・地理などのデータの種類）を入れた場合も"
# The cells a picture is put into: a municipality sheet's 実績値, 分母 and 実施状況, and
# 指標's 基準値, 目標値 and 実績値（手入力）.
CELLS = [("小樽市", "E2", "実績値"), ("札幌市", "F58", "分母"), ("小樽市", "G2", "実施状況"),
         (c.INDICATORS, "G8", "基準値"), (c.INDICATORS, "H8", "目標値"), (c.INDICATORS, "K8", "実績値（手入力）")]


@pytest.fixture(scope="module")
def donor() -> Path:
    return next(b for b in excel_made_books() if b.stem == "embed_image01")


@pytest.fixture(scope="module")
def pictured(sample_master_xlsm, donor, tmp_path_factory) -> Path:
    """The sample master with a picture in 小樽市's first 実績値 (E2, 指標 04-1)."""
    return graft_rich_value_cell(sample_master_xlsm, donor, tmp_path_factory.mktemp("rich") / "master.xlsm",
                                 "小樽市", "E2")


def _rich_parts(path: Path) -> dict[str, bytes]:
    """The rich-value store of a package: the workbook's metadata and richData parts and
    every part they reach (the picture), by name."""
    pkg = parts(path)
    wb = workbook_part(pkg)
    starts = [resolve_target(wb, r["Target"]) for r in relationships(pkg, wb)
              if r["Type"].endswith("/sheetMetadata") or "/richData/" in "/" + resolve_target(wb, r["Target"])]
    return {p: pkg[p] for p in walk_parts(pkg, starts)}


def _cell_xml(path: Path, sheet: str, ref: str) -> str:
    pkg = parts(path)
    return re.search(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', pkg[sheet_parts(pkg)[sheet]].decode()).group(0)


def _run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(out):
        code = main(list(args))
    return code, out.getvalue()


def test_the_master_carries_excels_own_parts(pictured, donor):
    """The reproduction is Excel's picture, whole and valid; calamine reads the cell as
    empty, which is why the reader puts it back."""
    assert package_problems(pictured) == []
    mine, excels = _rich_parts(pictured), _rich_parts(donor)
    assert sorted(mine) == sorted(excels) and all(mine[p] == excels[p] for p in mine)
    assert _cell_xml(pictured, "小樽市", "E2") == '<c r="E2" s="12" t="e" vm="1"><v>#VALUE!</v></c>'
    rows = CalamineWorkbook.from_path(str(pictured)).get_sheet_by_name("小樽市").to_python()
    assert rows[1][4] == ""


@pytest.mark.parametrize("sheet,ref,label", CELLS, ids=[f"{s}!{r}" for s, r, _ in CELLS])
def test_a_picture_in_an_input_cell_is_named_as_one(sample_master_xlsm, donor, tmp_path, sheet, ref, label):
    path = graft_rich_value_cell(sample_master_xlsm, donor, tmp_path / "master.xlsm", sheet, ref)
    said = file_face(path)
    line = next((s for s in said.splitlines() if s.startswith(f"{sheet}!{ref} ")), "")
    assert f"{label}のセルに{PICTURE}" in line, said
    assert "エラー値" not in line and "値を文字で入力してください" not in line   # the hint is apart


# Excel 365 saves #SPILL!, #CALC!, #FIELD! … as the same <c t="e" vm="1"><v>#VALUE!</v></c>, the
# error a rich value of the structure _error (its errorType the code, as Excel 16 saved a blocked
# spill: colOffset, errorType, rwOffset, subType). Named as a picture in the cell while staff saw
# #SPILL!; an errorType not known here is an error of an unknown kind, never a picture.
RICH_ERRORS = [(8, "#SPILL!"), (13, "#CALC!"), (12, "#FIELD!"), (9, "#CONNECT!"), (11, "#UNKNOWN!"), (99, UNKNOWN_ERROR)]
RICH_ERROR_CASES = [(sheet, ref, label, et, error) for (sheet, ref, label), (et, error) in zip(CELLS, RICH_ERRORS)]


def error_donor(donor: Path, dst: Path, error_type: int) -> Path:
    """The donor with its one rich value made an error of ``error_type``, as Excel 365 saves one."""
    ns = "http://schemas.microsoft.com/office/spreadsheetml/2017/richdata"
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    with_members(donor, dst, {
        "xl/richData/rdrichvaluestructure.xml": (head + f'<rvStructures xmlns="{ns}" count="1"><s t="_error">'
                                                 '<k n="colOffset" t="i"/><k n="errorType" t="i"/><k n="rwOffset" t="i"/>'
                                                 '<k n="subType" t="i"/></s></rvStructures>').encode(),
        "xl/richData/rdrichvalue.xml": (head + f'<rvData xmlns="{ns}" count="1"><rv s="0"><v>0</v><v>{error_type}</v>'
                                        '<v>2</v><v>1</v></rv></rvData>').encode()})
    return dst


@pytest.mark.parametrize("sheet,ref,label,error_type,error", RICH_ERROR_CASES,
                         ids=[f"{s}!{r}-{e}" for s, r, _l, _t, e in RICH_ERROR_CASES])
def test_an_error_excel_saves_as_a_rich_value_is_named_as_that_error(sample_master_xlsm, donor, tmp_path, sheet, ref,
                                                                    label, error_type, error):
    errors = error_donor(donor, tmp_path / "donor.xlsx", error_type)
    path = graft_rich_value_cell(sample_master_xlsm, errors, tmp_path / "master.xlsm", sheet, ref)
    said = file_face(path)
    line = next((s for s in said.splitlines() if s.startswith(f"{sheet}!{ref} ")), "")
    assert f"{label}がエラー値「{error}」" in line and PICTURE not in line, said


def test_every_command_names_the_picture_alike(pictured, donor, sample_master_xlsm, tmp_path):
    """validate, recalc, rollover, history import and collect's returns: one finding, the
    rich-value parts kept byte-identical by every write, the master never refused whole."""
    work = tmp_path / "work"
    work.mkdir()
    master = work / "master.xlsm"
    shutil.copyfile(pictured, master)
    expected = f"小樽市!E2 04-1: 実績値のセルに{PICTURE}"
    kept = _rich_parts(pictured)

    code, said = _run("validate", str(master))
    assert expected in said and "書き込み先" in said, said
    assert _rich_parts(master) == kept
    before = master.read_bytes()
    code, said = _run("recalc", str(master))   # exit 1: an input error was found, and 一覧 written
    assert expected in said and "書き込み先" in said and master.read_bytes() != before, said
    assert _rich_parts(master) == kept
    assert re.fullmatch(r'<c r="E2" s="\d+" t="e" vm="1"><v>#VALUE!</v></c>', _cell_xml(master, "小樽市", "E2"))
    assert package_problems(master) == []

    code, said = _run("rollover", str(master), "-o", str(work / "next.xlsm"))
    assert code == 0 and expected in said, said
    assert _rich_parts(work / "next.xlsm") == kept and package_problems(work / "next.xlsm") == []
    code, said = _run("history", "import", str(work / "next.xlsm"), str(master))
    assert code == 0 and expected in said, said
    assert _rich_parts(master) == kept

    # a returned input file with a picture in 04-1's 実績値 and a figure in 05-1's: the
    # picture's row is held, named alike; the other imported into the master, picture kept
    issued_dir = tmp_path / "issued"
    assert _run("split", str(sample_master_xlsm), "--outdir", str(issued_dir))[0] == 0
    issued = next(issued_dir.glob("小樽市_*.xlsx"))
    typed = tmp_path / "typed.xlsx"
    book = load_workbook(issued)
    assert [book["小樽市"][ref].value for ref in ("G19", "A20", "A21")] == ["実績値", "04-1", "05-1"]
    book["小樽市"]["G21"] = "3件"
    book.save(typed)
    returned = graft_rich_value_cell(typed, donor, tmp_path / "returns" / issued.name, "小樽市", "G20")
    code, said = _run("collect", str(master), str(returned))
    assert f"小樽市!G20 04-1: 実績値のセルに{PICTURE}" in said and "1 ファイル、1 セルを取り込みました" in said, said
    assert _rich_parts(master) == kept and package_problems(master) == []
    assert re.fullmatch(r'<c r="E2" s="\d+" t="e" vm="1"><v>#VALUE!</v></c>', _cell_xml(master, "小樽市", "E2"))


def test_libreoffice_opens_the_master_before_and_after_a_write(pictured, tmp_path):
    require_soffice()
    master = tmp_path / "master.xlsm"
    shutil.copyfile(pictured, master)
    _run("recalc", str(master))
    for book in lo_inspect([pictured, master]):
        assert book["loaded"], book


def test_other_errors_with_value_metadata_are_the_errors_they_show(sample_master_xlsm, donor, tmp_path):
    """Excel 365 keeps the details of #FIELD!, #SPILL!, #CALC! … as a rich *error* value (vm
    too): such a cell shows that error, and is named by it."""
    path = graft_rich_value_cell(sample_master_xlsm, donor, tmp_path / "master.xlsm", "小樽市", "E2",
                                 cached="#FIELD!")
    line = next(s for s in file_face(path).splitlines() if s.startswith("小樽市!E2 "))
    assert "実績値がエラー値「#FIELD!」です" in line and PICTURE not in line


@pytest.mark.parametrize("face", ["file", "button"])
def test_a_plain_value_error_hints_at_a_picture_on_both_faces(sample_master_xlsm, tmp_path, licensed, face):  # noqa: F811
    """The buttons get a picture as #VALUE! (xlwings' VBA client sends the text of Error 2015,
    COM the code itself): #VALUE!'s hint says a picture shows so, the same on every face."""
    path = with_error(sample_master_xlsm, tmp_path / "master.xlsm", "小樽市", "E2", "#VALUE!")
    if face == "file":
        from renkei_xl.core.validate import validate
        from renkei_xl.workbook.session import load_master

        data = load_master(path)
        hints = [f"{f.message} {f.hint}" for f in validate(data.settings, data.indicators, data.entries)
                 if f.place == "小樽市!E2"]
    else:
        from renkei_xl.excel import buttons

        payload = payload_from_file(path, client=VBA)
        book = remote_book(payload)
        buttons.check(book)
        applied = apply_actions(payload, book.json()["actions"])
        rows: dict[int, list] = {}
        for (r, _col), v in sorted(applied.grids[c.FINDINGS].items()):
            rows.setdefault(r, []).append(str(v))
        hints = [" ".join(row) for row in rows.values() if "小樽市" in row and "E2" in row]
    assert len(hints) == 1 and "実績値がエラー値「#VALUE!」です" in hints[0], hints
    assert VALUE_HINT in hints[0], hints


def test_a_picture_in_a_setting_or_a_header_is_named_as_one(sample_master_xlsm, donor, tmp_path):
    """設定 and the headers are refused whole (nothing is computed around them): named alike."""
    said = file_face(graft_rich_value_cell(sample_master_xlsm, donor, tmp_path / "s.xlsm", c.SETTINGS, "B4"))
    assert f"設定!B4: 基準日のセルに{PICTURE}（値としては読めません。空欄や 0 としては扱いません。" in said, said
    assert "。値を文字で入力してください（画像を残すなら" in said and "エラー値" not in said, said
    said = file_face(graft_rich_value_cell(sample_master_xlsm, donor, tmp_path / "h.xlsm", "小樽市", "E1"))
    assert "見出しのセル E1 が画像（または株価・地理などのデータの種類）のため、見出し「実績値」が見つかりません" in said, said


@pytest.mark.parametrize("sheet,ref,command,said", [
    (c.HISTORY, "E4", "recalc", "シート「経年」の 経年!E4 は画像（または株価・地理などのデータの種類）です"),
    (c.HISTORY, "A5", "rollover", "シート「経年」の 経年!A5 は画像（または株価・地理などのデータの種類）です"),
    (c.INDICATORS, "F8", "rollover", "指標!F8が画像（または株価・地理などのデータの種類）のため、「経年」に記録できません"),
    ("小樽市", "B2", "split", "小樽市!B2が画像（または株価・地理などのデータの種類）のため、入力用ファイルを作成しませんでした"),
    (c.INDICATORS, "H8", "split", "指標!H8が画像（または株価・地理などのデータの種類）のため、入力用ファイルを作成しませんでした"),
], ids=["経年's year", "経年's ID", "a recorded cell", "a split's contract cell", "a split's target"])
def test_a_picture_in_a_refused_list_is_named_as_one(sample_master_xlsm, donor, tmp_path, sheet, ref, command, said):
    """The refusals that list cells (経年, the cells 経年 records, the cells split hands out)
    quoted RICH_VALUE's placeholder in a sentence that said エラー値: 「経年!E4「#（セル内の画像・
    データの種類）」 はエラー値です」."""
    master = graft_rich_value_cell(sample_master_xlsm, donor, tmp_path / "master.xlsm", sheet, ref)
    before = master.read_bytes()
    out = {"rollover": ["-o", str(tmp_path / "next.xlsm")], "split": ["--outdir", str(tmp_path / "issued")]}
    code, text = _run(command, str(master), *out.get(command, []))
    assert code == 2 and said in text, text
    assert "画像を選んで「セルの上に配置」" in text and "#（" not in text and "エラー値" not in text, text
    assert master.read_bytes() == before and not (tmp_path / "next.xlsm").exists()


def test_a_picture_in_a_locked_cell_of_a_returned_file_is_named_as_one(sample_master_xlsm, donor, tmp_path):
    """A returned file's 指標ID made a picture (its protection lifted): refused, naming it as a
    picture, not as the placeholder in a sentence saying エラー値."""
    issued_dir = tmp_path / "issued"
    assert _run("split", str(sample_master_xlsm), "--outdir", str(issued_dir))[0] == 0
    issued = next(issued_dir.glob("小樽市_*.xlsx"))
    returned = graft_rich_value_cell(issued, donor, tmp_path / "returns" / issued.name, "小樽市", "A20")
    master = tmp_path / "master.xlsm"
    shutil.copyfile(sample_master_xlsm, master)
    code, said = _run("collect", str(master), str(returned))
    assert ("入力欄（実績値・分母・実施状況）ではないセルが画像（または株価・地理などのデータの種類）です（小樽市!A20）"
            in said), said
    assert "#（" not in said, said


def test_a_picture_in_xlwings_conf_is_named_as_one(sample_master_xlsm, donor, tmp_path):
    """upgrade-macros --server names a picture in xlwings.conf's table as one (it quoted the
    placeholder as an error value: 「エラー値「#（セル内の画像・データの種類）」」)."""
    from renkei_xl.core.errors import UserError
    from renkei_xl.workbook.conf import conf_row_plan

    path = graft_rich_value_cell(sample_master_xlsm, donor, tmp_path / "master.xlsm", c.XLWINGS_CONF, "A1")
    with pytest.raises(UserError, match=r"xlwings.conf」の A1 が画像（または株価・地理などのデータの種類）です。"):
        conf_row_plan(path, "RENKEI_SERVER", "http://renkei-server:8000")


def test_a_returned_figure_over_a_picture_in_the_master_is_shown_over_a_picture(sample_master_xlsm, donor, tmp_path):
    """The change line before an import named the master's picture by the reader's
    placeholder: 「実績値: #（セル内の画像・データの種類） → 5」."""
    issued_dir = tmp_path / "issued"
    assert _run("split", str(sample_master_xlsm), "--outdir", str(issued_dir))[0] == 0
    issued = next(issued_dir.glob("小樽市_*.xlsx"))
    book = load_workbook(issued)
    assert [book["小樽市"][ref].value for ref in ("G19", "A20")] == ["実績値", "04-1"]
    book["小樽市"]["G20"] = "5件"
    (tmp_path / "returns").mkdir()
    book.save(tmp_path / "returns" / issued.name)
    master = graft_rich_value_cell(sample_master_xlsm, donor, tmp_path / "master.xlsm", "小樽市", "E2")
    code, said = _run("collect", str(master), str(tmp_path / "returns" / issued.name), "--dry-run")
    assert "小樽市!E2 04-1 実績値: 画像（または株価・地理などのデータの種類） → 5" in said and "#（" not in said, said


def _list_row(grid, ind_id: str) -> list:
    return next(row for row in grid if ind_id in row)


@pytest.mark.parametrize("sheet,ref", [("小樽市", "G2"), (c.INDICATORS, "L8")])
@pytest.mark.parametrize("held", ["picture", "#N/A"])
def test_a_status_that_holds_no_text_is_printed_nowhere_in_the_list(sample_master_xlsm, donor, tmp_path, licensed,  # noqa: F811
                                                                     sheet, ref, held):
    """04-1's 実施状況 on 小樽市 (指標's 実施状況（手入力） L8 emptied, so the rows' are shown) or
    L8 itself holding a picture or an error value: the row is －, its note names the cell, and
    一覧's 連携事業実施状況等 printed the cell's text below it as a status, 「#N/A」 or the
    reader's placeholder 「#（セル内の画像・データの種類）」, as a TRUE/FALSE no longer was.
    The buttons (which get a picture as #VALUE!) print neither."""
    import python_calamine

    from renkei_xl.core.plan_types import CellEdit, WritePlan
    from renkei_xl.excel import buttons
    from renkei_xl.workbook.session import write_planned

    base = tmp_path / "base.xlsm"
    shutil.copyfile(sample_master_xlsm, base)
    if sheet != c.INDICATORS:
        write_planned(base, lambda _fs: (WritePlan(cells=[CellEdit(c.INDICATORS, 8, 12, None)]), None))
    master = (graft_rich_value_cell(base, donor, tmp_path / "master.xlsm", sheet, ref) if held == "picture"
              else with_error(base, tmp_path / "master.xlsm", sheet, ref, held))
    button = tmp_path / "button.xlsm"
    shutil.copyfile(master, button)
    _run("recalc", str(master))
    file_row = _list_row(python_calamine.CalamineWorkbook.from_path(str(master)).get_sheet_by_name(c.LIST).to_python(),
                         "04-1")
    payload = payload_from_file(button, client=VBA)
    book = remote_book(payload)
    buttons.recalc(book)
    grid = apply_actions(payload, book.json()["actions"]).grids[c.LIST]
    rows: dict[int, list] = {}
    for (r, _col), v in sorted(grid.items()):
        rows.setdefault(r, []).append(v)
    button_row = _list_row(rows.values(), "04-1")
    for row in (file_row, button_row):
        status = next(v for v in row if isinstance(v, str) and v.startswith("※入力エラーのため評価不可"))
        assert f"{sheet}!{ref}" in status and "#（" not in status, row
        assert len(status.splitlines()) == 1, status    # the note alone: no line of status below it

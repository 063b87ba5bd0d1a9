"""Characters that look right but are not, on the FY2023 sample master, on both faces.

Staff paste from the official document (Word, PDF) and type on Japanese IMEs: 「①」 for 1,
「サ－ビス」 with the full-width hyphen where 「サービス」 has the long vowel mark. Each case
writes the look-alike into the sample master with the tool's own writer, then reads it on
the file face (python-calamine) and on the live face (xlwings' remote engine, as the
buttons' clients send it): the same findings, each naming its cell, and never a traceback
nor a silent reading.
"""

from __future__ import annotations

import shutil

import pytest

from test_buttons import licensed  # noqa: F401  (the remote engine's licence fixture)
from test_faces_values import _assert_faces_agree, _with_cells, master  # noqa: F401  (the module's master)
from renkei_xl.core.pipeline import recalculate
from renkei_xl.core.plan_types import CellEdit

INDICATORS = "指標"
# 指標 of the sample: row 4 is 01-1 (事業No 1), row 40 an indicator of the third 役割,
# 「圏域全体の生活関連機能サービスの向上」, in the middle of its rows.
PROJECT_NO_COL, ROLE_COL = 3, 2


@pytest.mark.parametrize("typed, number", [("①", "1"), ("²", ""), ("٣", ""), ("No.1", ""), ("一", ""),
                                           ("1-1", ""), ("0", ""), ("1.5", "")])
def test_a_project_number_that_is_no_whole_number_is_named_on_its_cell(master, tmp_path, typed, number):
    """「①」 ended every command with 「予期しないエラー」 (str.isdigit() takes it, int() does
    not); 「٣」 was read as 3 and the others dropped the number from 一覧 without a word."""
    from renkei_xl.workbook.session import load_master

    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(INDICATORS, 4, PROJECT_NO_COL, typed)])
    said = _assert_faces_agree(path, [])
    severity, kind, message = said[f"{INDICATORS}!C4"]
    assert (severity, kind) == ("エラー", "project-no") and f"事業No「{typed}」" in message, said[f"{INDICATORS}!C4"]
    data = load_master(path)        # one read for both questions
    found = next(f for f in data.findings if f.place == f"{INDICATORS}!C4")
    assert (f"なら「{number}」" in found.hint) == bool(number), found.hint
    ind = next(i for i in data.indicators if i.id == "01-1")
    assert ind.project_no is None


@pytest.mark.parametrize("typed", ["１", 1, "1", "０1", "0１"])
def test_a_project_number_typed_in_full_width_is_read(master, tmp_path, typed):
    """Digits half-width, full-width or both (an IME switched in the middle of the number):
    「０1」 was refused, its hint 「（「０1」なら「1」）」 asking for what staff saw they had typed."""
    from renkei_xl.workbook.session import load_master

    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(INDICATORS, 4, PROJECT_NO_COL, typed)])
    data = load_master(path)
    assert next(i for i in data.indicators if i.id == "01-1").project_no == 1
    assert not [f for f in data.findings if f.place == f"{INDICATORS}!C4"]


THIRD_ROLE = "圏域全体の生活関連機能サービスの向上"


@pytest.mark.parametrize("dash", ["－", "-", "―", "ｰ", "─", "‐"])
def test_a_role_spelled_with_a_look_alike_of_the_long_vowel_mark_is_named_on_its_cell(master, tmp_path, dash):
    """「サ－ビス」 for 「サービス」 on one row: 一覧 moved the row under a role of its own and 集計
    printed a fourth line reading like the third, its counts split off, without a word."""
    typed = THIRD_ROLE.replace("ー", dash)
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(INDICATORS, 40, ROLE_COL, typed)])
    said = _assert_faces_agree(path, [])
    severity, kind, message = said[f"{INDICATORS}!B40"]
    assert (severity, kind) == ("エラー", "lookalike-text"), said[f"{INDICATORS}!B40"]
    assert f"役割「{typed}」は 指標!B24 の「{THIRD_ROLE}」" in message and f"U+{ord(dash):04X}" in message, message
    assert [p for p, (_s, k, _m) in said.items() if k == "lookalike-text"] == [f"{INDICATORS}!B40"]


@pytest.mark.parametrize("cells, named", [
    ({40: "圏域全体の生活関連機能サービス の向上"}, ["B40"]),                       # an inner space
    ({20: "高次の都市機能の集積･強化", 21: "高次の都市機能の集積·強化"}, ["B20", "B21"]),   # half-width ･, Latin ·
    # the look-alike on most of a role's rows: the one row left is named, not the many
    ({r: "高次の都市機能の集積·強化" for r in (20, 21, 22, 23)}, ["B19"]),
])
def test_a_role_spelled_apart_is_named_where_fewer_rows_spell_it_so(master, tmp_path, cells, named):
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(INDICATORS, r, ROLE_COL, v) for r, v in cells.items()])
    said = _assert_faces_agree(path, [])
    assert [p for p, (_s, k, _m) in said.items() if k == "lookalike-text"] == [f"{INDICATORS}!{c}" for c in named]


def test_a_project_name_spelled_with_a_look_alike_under_its_number_is_named(master, tmp_path):
    """18-1 and 18-2 share 事業No 18: 「保育サ－ビス…」 on 18-2 split the project on 一覧 into
    two unmerged cells reading alike."""
    path = _with_cells(master, tmp_path / "book.xlsm",
                       [CellEdit(INDICATORS, 31, 4, "保育サ－ビスの向上に向けた取組の推進")])
    said = _assert_faces_agree(path, [])
    severity, kind, message = said[f"{INDICATORS}!D31"]
    assert (severity, kind) == ("エラー", "lookalike-text") and "連携事業名" in message and "指標!D30" in message


def test_the_sample_master_has_no_look_alikes(master):
    from renkei_xl.workbook.session import load_master

    data = load_master(master)
    result = recalculate(data.settings, data.indicators, data.entries, data.findings)
    assert not [f for f in result.findings if f.type == "lookalike-text"]


MUNI, ROW, VALUE_COL = "小樽市", 2, 5     # 04-1 (合計), 小樽市 reports 2件


@pytest.mark.parametrize("typed, says", [
    ("ー2", "「ー」（U+30FC）はマイナスの記号ではありません"),        # a kana IME's key for "-"
    ("ｰ2", "「ｰ」（U+FF70）はマイナスの記号ではありません"),
    ("―2件", "負の数なら「▲2件」か半角の「-2件」、負の数でなければ「2件」"),
    ("‐2", "「‐」（U+2010）"),
    ("＋2", "「＋」は付けずに「2」と入力"),
    ("'2", "「'」を消して「2」と入力"),
    ("（2）", "負の数なら「▲2」、負の数でなければ括弧を外して「2」"),   # the accountant's negative
    ("(2件)", "括弧を外して「2件」"),
    ("1、234", "「、」は桁区切りに使えません"),
    ("2余件", "概数・見込みの表記（「余」）"),
    ("2強", "概数・見込みの表記（「強」）"),
])
def test_a_number_in_a_form_no_report_takes_says_what_to_type(master, tmp_path, typed, says):
    """Each was an error on its cell already, but one that said only 「読めません」 (or that a
    note 「2」 or a unit 「余件」 was unknown): staff were left to guess what the cell wants."""
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(MUNI, ROW, VALUE_COL, typed)])
    said = _assert_faces_agree(path, [(ROW, VALUE_COL)])
    severity, kind, message = said[f"{MUNI}!E{ROW}"]
    assert severity == "エラー" and says in message, said[f"{MUNI}!E{ROW}"]


@pytest.mark.parametrize("typed, number", [("▲2", -2), ("△2", -2), ("－2", -2), ("-2", -2), ("−2", -2), ("２件", 2),
                                           ("1,234", 1234), ("１，２３４", 1234)])
def test_the_negative_marks_and_widths_staff_use_are_read(typed, number):
    from renkei_xl.core.values import parse_input

    assert parse_input(typed).number == number


STATUS_COL = 7


@pytest.mark.parametrize("status", ["2", "２件", "2 件", "2件（把握可能分）"])
def test_a_figure_typed_into_the_status_beside_an_empty_value_makes_the_row_an_input_error(master, tmp_path, status):
    """小樽市's 2件 of 04-1 typed one column to the right: 「2」 was an error on the cell yet the
    row was judged on the others' 19件 (□, where the list's 21件 is ◎), and 「２件」 was only a
    warning that the status would not show on 一覧. The row is 「－」（入力エラー） naming the cell."""
    from renkei_xl.core.model import NOT_EVALUABLE
    from renkei_xl.workbook.session import load_master

    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(MUNI, ROW, VALUE_COL, None),
                                                        CellEdit(MUNI, ROW, STATUS_COL, status)])
    said = _assert_faces_agree(path, [(ROW, STATUS_COL)])
    assert said[f"{MUNI}!G{ROW}"][:2] == ("エラー", "status-number-only"), said[f"{MUNI}!G{ROW}"]
    data = load_master(path)
    evaluation = recalculate(data.settings, data.indicators, data.entries, data.findings).evaluations["04-1"]
    assert evaluation.symbol == NOT_EVALUABLE and f"{MUNI}!G{ROW}" in evaluation.reason, evaluation


@pytest.mark.parametrize("typed", ["０４－１", "04‐1", "04ー1", "04 -1"])
def test_an_indicator_id_typed_like_another_is_named_as_that_id(master, tmp_path, typed):
    """05-1's ID retyped as a look-alike of 04-1 (row 8): each was an indicator of its own and
    the new one was said to be missing from every municipality sheet, never that it repeats
    04-1; the row is 「－」 with the cell named beside the ID it looks like."""
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(INDICATORS, 9, 1, typed)])
    said = _assert_faces_agree(path, [])
    severity, kind, message = said[f"{INDICATORS}!A9"]
    assert (severity, kind) == ("エラー", "lookalike-id") and "指標!A8 の「04-1」" in message, message


@pytest.mark.parametrize("typed, differ", [("０４－１", "「０４－１」（U+FF10 U+FF14 U+FF0D U+FF11）"),
                                           ("04‐1", "「‐」（U+2010） と 「-」（U+002D）"), ("04ー1", "U+30FC"),
                                           ("04−1", "U+2212"), ("04－1", "U+FF0D"),
                                           ("04　1", "「　」（U+3000） と 「-」（U+002D）"), ("04 1", "U+0020"),
                                           ("04_1", "「_」（U+005F）"), ("04.1", "「.」（U+002E）"),
                                           ("04・1", "U+30FB")])
def test_an_indicator_id_on_a_municipality_row_typed_like_one_of_indicators_names_it(master, tmp_path, typed, differ):
    """小樽市's 04-1 retyped with an IME's hyphen or in full width: the row was said to hold an
    指標ID 「04‐1」 that 指標 lacks, of a cell that shows 04-1, and staff looked on 指標 for a row
    that is there. The ID it looks like is named, with the characters that differ."""
    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(MUNI, ROW, 1, typed)])
    said = _assert_faces_agree(path, [])
    severity, kind, message = said[f"{MUNI}!A{ROW}"]
    assert (severity, kind) == ("エラー", "unknown-id"), message
    assert "指標シートの「04-1」と同じに見えますが" in message and differ in message, message


def test_a_look_alike_of_a_symbol_in_a_history_csv_says_which_it_looks_like(master, tmp_path):
    """「-」 typed for a symbol was refused with 「評価「-」は ◎ □ × － ― のどれかに」, which reads
    as if 「-」 were among them; 「○」 likewise beside ◎. Each is refused naming what it is not:
    a dash is never read as － or ―, which mean different things."""
    from test_years import _csv_imported

    written = shutil.copyfile(master, tmp_path / "m.xlsm")      # the module's master, copied to write
    _path, done, reasons = _csv_imported(written, tmp_path, ["08-1,2022,－,-", "06-1,2022,10件,○", "05-2,2022,1件,Ｘ"],
                                         "cp932")
    assert done.imported == 0
    assert "「-」は「－」（評価不可）にも「―」（評価時期前・未集計）にも見えますが、どちらでもありません" in reasons[2], reasons
    assert "「○」（U+25CB）は「◎」（U+25CE）とは別の文字です" in reasons[3], reasons
    assert "「Ｘ」（U+FF38）は「×」（U+00D7）とは別の文字です" in reasons[4], reasons


def test_a_look_alike_of_a_symbol_on_the_history_sheet_says_which_it_looks_like():
    from renkei_xl.core.errors import UserError
    from renkei_xl.core.history import read_history

    grid = [["指標ID", "連携事業名", "評価指標", "目標値", "2022年度 実績値", "2022年度 評価"],
            ["04-1", "", "", "", "19件", "ー"]]
    with pytest.raises(UserError, match="「ー」は「－」（評価不可）にも「―」（評価時期前・未集計）にも見えます"):
        read_history(grid)


KPI_COL = 13


@pytest.mark.parametrize("row, typed, kpi", [(2, "１", True), (2, "ＫＰＩ", True), (2, "ＴＲＵＥ", True),
                                            (8, "０", False), (8, "ＦＡＬＳＥ", False)])
def test_a_kpi_mark_in_full_width_is_read_as_in_half_width(master, tmp_path, row, typed, kpi):
    """「1」 「KPI」 「0」 were read; 「１」 「ＫＰＩ」 「０」 were an error on the cell, and 「０」 made
    a judged row (04-1, row 8) 「－」 with it."""
    from renkei_xl.workbook.session import load_master

    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(INDICATORS, row, KPI_COL, typed)])
    said = _assert_faces_agree(path, [])
    assert f"{INDICATORS}!M{row}" not in said, said[f"{INDICATORS}!M{row}"]
    data = load_master(path)
    ind = next(i for i in data.indicators if i.row == row)
    assert ind.is_kpi is kpi
    if not kpi:
        assert recalculate(data.settings, data.indicators, data.entries, data.findings).evaluations[ind.id].symbol == "◎"


@pytest.mark.parametrize("unit", ["ヶ所", "ケ所", "カ所", "ヵ所", "ｹ所", "個所", "箇所"])
def test_the_spellings_of_kasho_count_one_unit(fy2023, unit):
    """「5ヶ所」 against a target of 「5か所（毎年度）」 was an error (単位「ヶ所」を認識できません)
    and the row 「－」: ヶ, ケ, カ, ヵ and 箇 are one word, かしょ, as IMEs offer it."""
    from renkei_xl.core.rules import context_of, evaluate

    ind = next(i for i in fy2023.indicators if i.id == "02-2")._replace(target="5か所（毎年度）")
    assert evaluate(ind, f"5{unit}", context_of(fy2023.settings)).symbol == "◎"


@pytest.mark.parametrize("typed", ["(2023年度)", "（2023年）", "（毎年度）"])
def test_a_note_alone_is_still_said_to_be_a_note_alone(typed):
    """The accountant's 「(12)」 is told apart from a note typed without its value."""
    from renkei_xl.core.values import ValueParseError, parse_value

    with pytest.raises(ValueParseError, match="値がありません（注記だけです）"):
        parse_value(typed)

"""Characters that look right but are not, on the FY2023 sample master, on both faces.

Staff paste from the official document (Word, PDF) and type on Japanese IMEs: 「①」 for 1,
「サ－ビス」 with the full-width hyphen where 「サービス」 has the long vowel mark. Each case
writes the look-alike into the sample master with the tool's own writer, then reads it on
the file face (python-calamine) and on the live face (xlwings' remote engine, as the
buttons' clients send it): the same findings, each naming its cell, and never a traceback
nor a silent reading.
"""

from __future__ import annotations

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
    found = next(f for f in load_master(path).findings if f.place == f"{INDICATORS}!C4")
    assert (f"なら「{number}」" in found.hint) == bool(number), found.hint
    ind = next(i for i in load_master(path).indicators if i.id == "01-1")
    assert ind.project_no is None


@pytest.mark.parametrize("typed", ["１", 1, "1"])
def test_a_project_number_typed_in_full_width_is_read(master, tmp_path, typed):
    from renkei_xl.workbook.session import load_master

    path = _with_cells(master, tmp_path / "book.xlsm", [CellEdit(INDICATORS, 4, PROJECT_NO_COL, typed)])
    data = load_master(path)
    assert next(i for i in data.indicators if i.id == "01-1").project_no == 1
    assert not [f for f in data.findings if f.place == f"{INDICATORS}!C4"]

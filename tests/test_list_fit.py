"""一覧's rows stop at Excel's tallest (409 pt): a text that needs more is said, not hidden.

The heights are estimated by renkei_xl.core.text_fit (13.5 pt a line at 9 pt, 4 pt of
padding: 30 lines are 409 pt exactly). ``sheet_grid.fitted`` returns the cells its capped
heights cannot show whole; 一覧 turns them into findings at the 指標 cell each text comes
from, on 再計算 (``list_layout``) and on 入力チェック (``list_cuts``) alike. The faces test
(tests/test_faces.py) writes such a master through both faces.
"""

from __future__ import annotations

import pytest

from renkei_xl.core import contract as c
from renkei_xl.core import text_fit
from renkei_xl.core.findings import LIST_TEXT_CUT
from renkei_xl.core.layout import INDICATOR, Grid
from renkei_xl.core.model import Consolidated
from renkei_xl.core.pipeline import recalculate
from renkei_xl.core.reference import load_reference
from renkei_xl.core.sheet_grid import fitted
from renkei_xl.core.sheet_list import list_cuts, list_layout

WIDTHS = (20, 20)


def _lines(n: int) -> str:
    return "\n".join(["あ"] * n)


def _grid(rows, merges=()) -> Grid:
    g = Grid()
    for row in rows:
        g.add(INDICATOR, row)
    g.merges = list(merges)
    return g


def test_thirty_lines_fill_the_tallest_row_and_thirty_one_are_cut():
    assert text_fit.height(30) == text_fit.MAX_ROW_HEIGHT
    heights, cut = fitted(_grid([[_lines(30), "x"]]), WIDTHS)
    assert heights == {1: 409.0} and cut == []
    heights, cut = fitted(_grid([["x", "y"], ["z", _lines(31)]]), WIDTHS)
    assert heights[2] == 409.0 and cut == [(1, 1, 31)]


def test_a_merged_block_is_cut_only_when_its_rows_cannot_hold_it():
    # rows of one line each (17.5 pt); the block's extra goes on its last row, up to 409
    holds = _grid([[_lines(31), "a"], [None, "b"]], merges=[(0, 0, 1, 0)])
    heights, cut = fitted(holds, WIDTHS)
    assert cut == [] and sum(heights.values()) == pytest.approx(text_fit.height(31))
    over = _grid([[_lines(32), "a"], [None, "b"]], merges=[(0, 0, 1, 0)])
    heights, cut = fitted(over, WIDTHS)
    assert heights[2] == 409.0 and cut == [(0, 0, 32)]
    # a long cell inside a merge is the block's, not a cell of its own
    assert all(col == 0 for _, col, _ in cut)


def _with_long_status(result, ind_id: str, text: str):
    consolidated = dict(result.consolidated)
    consolidated[ind_id] = Consolidated(ind_id, consolidated[ind_id].actual, "", text)
    return result._replace(consolidated=consolidated)


@pytest.fixture(scope="module")
def fy2023():
    ref = load_reference()
    return ref, recalculate(ref.settings, ref.indicators, ref.entries)


def test_the_fy2023_list_has_no_cut_text(fy2023):
    ref, result = fy2023
    sheet, cut = list_layout(result, ref.settings)
    assert cut == [] and list_cuts(result, ref.settings) == []
    assert max(sheet.heights.values()) < text_fit.MAX_ROW_HEIGHT


@pytest.mark.parametrize("chars, is_cut", [(900, False), (1_100, True)])
def test_a_long_status_is_said_at_its_indicators_manual_cell_on_both_commands(fy2023, chars, is_cut):
    """連携事業実施状況等 is 60 wide: 34 full-width characters a line, so 1,020 fill 30 lines."""
    ref, result = fy2023
    ind = next(i for i in ref.indicators if i.status_manual == "" and not i.is_kpi)
    long = _with_long_status(result, ind.id, "実" * chars)
    sheet, cut = list_layout(long, ref.settings)
    assert list_cuts(long, ref.settings) == cut
    assert max(sheet.heights.values()) <= text_fit.MAX_ROW_HEIGHT
    if not is_cut:
        assert cut == []
        return
    (found,) = cut
    assert found.type == LIST_TEXT_CUT.code and not found.is_error
    assert (found.sheet, found.cell, found.indicator_id) == (c.INDICATORS, ind.cell("status_manual"), ind.id)
    row = next(r for r, cells in enumerate(sheet.rows, start=1) if len(cells) > c.LIST_ID_COL
               and cells[c.LIST_ID_COL] and cells[c.LIST_ID_COL][0] == ind.id)
    assert sheet.heights[row] == text_fit.MAX_ROW_HEIGHT
    assert f"一覧 {row}行目の" in found.message and "409pt" in found.message
    assert "実施状況（手入力）に要約" in found.hint


@pytest.mark.parametrize("chars", range(500, 2_000, 150))
def test_entering_only_where_a_text_alone_is_too_tall_finds_what_the_whole_layout_finds(fy2023, chars):
    """The 事業概要 of a project of two indicators (a merged block 40 wide: 23 full-width
    characters a line), from inside one row to past both rows at their tallest: 入力チェック's
    shortcut and 再計算's whole layout (page breaks may split the block) agree at every length."""
    ref, result = fy2023
    keys = [(i.project_no, i.project_name) for i in result.indicators if not i.is_kpi]
    key = next(k for k in dict.fromkeys(keys) if keys.count(k) == 2)
    text = "概" * chars
    long = result._replace(indicators=tuple(i._replace(summary=text) if (i.project_no, i.project_name) == key
                                            else i for i in result.indicators))
    sheet, cut = list_layout(long, ref.settings)
    assert list_cuts(long, ref.settings) == cut
    assert all(f.type == LIST_TEXT_CUT.code and "事業概要" in f.message for f in cut)
    lines = -(-chars // 23)
    if text_fit.height(lines) <= text_fit.MAX_ROW_HEIGHT:
        assert cut == []                  # one row at its tallest holds it
    if text_fit.height(lines) > 2 * text_fit.MAX_ROW_HEIGHT:
        assert len(cut) >= 1              # two rows at their tallest do not


def test_every_page_of_the_fy2023_list_holds_no_more_than_the_paper_at_full_size(fy2023):
    """The breaks are placed for a page at 100 % (renkei_xl.core.pages): fit to width only
    shrinks, so no application adds a break of its own. The paper's sizes were landscape
    where portrait was meant, so an A3 landscape page was given the rows of a portrait one
    (1,118 pt rather than 770): Excel, which shrinks to about 90 %, and LibreOffice on the
    master (75 %) broke pages again in the middle, leaving a page with one row and a
    project's 事業概要 cut at the top."""
    from renkei_xl.core import pages
    from renkei_xl.core.looks import print_setup

    ref, result = fy2023
    sheet = list_layout(result, ref.settings)[0]
    setup = sheet.print_setup
    a3 = print_setup("a3")
    page = pages.body_height(a3.paper, a3.landscape, a3.margins)
    assert page == pytest.approx(841.89 - (0.5 + 0.5) * 72)
    height = lambda r: sheet.heights.get(r, 15.0)
    header = setup.title_rows[0]
    starts = [1, *(b + 1 for b in setup.row_breaks)]
    ends = [*setup.row_breaks, setup.area[2]]
    for n, (first, last) in enumerate(zip(starts, ends), start=1):
        rows = sum(height(r) for r in range(first, last + 1)) + (height(header) if n > 1 else 0)
        assert rows <= page, (n, first, last, rows)


def test_a_cut_status_is_named_by_the_header_the_list_prints(fy2023):
    """設定's 基準日 2023-09-30: 一覧 heads the column 「連携事業実施状況等（９月末時点）」, and the
    finding on a status cut off named it 「（３月末時点）」, a column staff could not find."""
    import datetime as dt

    ref, result = fy2023
    settings = ref.settings._replace(base_date=dt.date(2023, 9, 30))
    ind = next(i for i in ref.indicators if i.status_manual == "" and not i.is_kpi)
    (found,) = list_cuts(_with_long_status(result, ind.id, "実" * 1_100), settings)
    assert "「連携事業実施状況等（９月末時点）」" in found.message, found.message


def test_no_more_page_breaks_than_excel_takes():
    """A 20,000-indicator 一覧 needed 1,250 manual breaks: a file Excel reports as damaged,
    and HPageBreaks.Add refuses the server's replay halfway. The pages past the limit are
    left to Excel's own breaks; the ones placed are those of the uncapped pagination."""
    from renkei_xl.core import pages

    rows = 3_000
    heights = {r: 300.0 for r in range(1, rows + 1)}       # two rows to an A3 page
    capacity = 700.0
    breaks = pages.paginate(heights, 1, rows, capacity)
    assert len(breaks) <= 1_024
    assert len(breaks) == pages.MAX_MANUAL_BREAKS
    assert breaks == list(range(2, 2 * pages.MAX_MANUAL_BREAKS + 1, 2))
    assert pages.paginate(heights, 1, 100, capacity) == list(range(2, 100, 2))


@pytest.mark.parametrize("chars", ["①②③④⑤", "※○→●△", "“…×―", "ΑΒΓαβ"])
def test_characters_unicode_calls_ambiguous_take_a_full_width_each(chars):
    """Japanese fonts draw ① ※ ○ → and Greek full-width; measured as narrow Latin, a status
    of them was given half its lines and printed cut (tests/test_print.py renders one)."""
    for n in (10, 40, 200):
        text = (chars * n)[:n]
        assert text_fit.lines(text, 20) == text_fit.lines("漢" * n, 20), (text, n)


def test_capitals_are_measured_wider_than_small_letters():
    assert text_fit.lines("W" * 100, 20) == text_fit.lines("漢" * 100, 20)
    assert text_fit.lines("ABCDEFGHIJ" * 10, 20) > text_fit.lines("abcdefghij" * 10, 20)


def test_a_long_role_on_the_summary_gets_the_lines_it_needs(fy2023):
    """集計 set no row heights: a 役割 longer than 区分's line printed its first two lines only
    (LibreOffice) or one (Excel's default row). Its rows are fitted as 一覧's are."""
    from renkei_xl.core.sheet_summary import SUMMARY_WIDTHS, summary_sheet

    ref, _result = fy2023
    role = "高次の都市機能の集積・強化" * 8
    indicators = [i._replace(role=role) if i.role == ref.indicators[-1].role else i for i in ref.indicators]
    result = recalculate(ref.settings, indicators, ref.entries)
    sheet = summary_sheet(result, ref.settings)
    (row,) = [r for r, cells in enumerate(sheet.rows, start=1) if cells and cells[0] and cells[0][0] == role]
    assert sheet.heights[row] >= text_fit.height(text_fit.lines(role, SUMMARY_WIDTHS[0])) > text_fit.height(2)


def test_the_characters_no_font_draws_are_named_once_each_and_only_those(fy2023):
    """What LibreOffice prints as a box is named by the export (cycle.export.undrawn_note);
    what prints nothing anyway (spaces, line breaks, ZWJ, an IVS's selector) is not, nor is
    a character some font has. Only the cells holding one are named, by 一覧's header."""
    from renkei_xl.core.sheet_list import list_undrawn

    ref, result = fy2023
    has = lambda ch: ch not in "🎉✅\ue000"      # a machine without emoji fonts and 外字
    assert text_fit.undrawn("葛\U000E0100飾\u200d\u3000\n🎉開催🎉✅\ue000", has) == "🎉✅\ue000"
    ind = next(i for i in ref.indicators if i.status_manual == "" and not i.is_kpi)
    sheet, _cut = list_layout(_with_long_status(result, ind.id, "開催🎉👍"), ref.settings)
    assert list_undrawn(sheet, has) == [(next(r for r, row in enumerate(sheet.rows, start=1)
                                              if len(row) > c.LIST_ID_COL and row[c.LIST_ID_COL]
                                              and row[c.LIST_ID_COL][0] == ind.id),
                                         "連携事業実施状況等（３月末時点）", ind.id, "🎉")]
    assert list_undrawn(list_layout(result, ref.settings)[0], has) == []

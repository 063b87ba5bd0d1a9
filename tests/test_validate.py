"""入力チェック finds each kind of bad input with its sheet and cell."""

import pytest

from renkei_xl.core.model import ERROR, WARNING, Entry
from renkei_xl.core.validate import validate


def _ind(fy2023, ind_id, **changes):
    ind = next(i for i in fy2023.indicators if i.id == ind_id)
    cells = {"id": "A9", "target": "H9", "actual_manual": "K9", "method": "I9", "name": "F9",
             "baseline": "G9", "rule": "J9", "role": "B9"}
    return ind._replace(cells=cells, **changes)


def _run(fy2023, indicators=None, entries=None):
    return validate(fy2023.settings, indicators or list(fy2023.indicators),
                    list(fy2023.entries) if entries is None else entries)


def test_the_reference_list_has_no_errors(fy2023):
    assert _run(fy2023) == []


def _types(findings):
    return {(f.type, f.sheet, f.cell) for f in findings}


def test_text_in_numeric_cell(fy2023):
    e = Entry("小樽市", "04-1", "約10件", sheet="小樽市", cells={"value": "E5"})
    findings = _run(fy2023, entries=[e])
    assert ("approximate-value", "小樽市", "E5") in _types(findings)
    f = next(f for f in findings if f.cell == "E5")
    assert f.severity == ERROR and "約10件" in f.message and f.hint


@pytest.mark.parametrize("status, flagged", [("2023-10-10", True), ("10:30:00", True),
                                              ("10/10 開催", False), ("2023年10月10日に開催", False)])
def test_a_status_saved_as_a_date_is_a_warning_naming_its_cell(fy2023, status, flagged):
    """「10/10」 typed into a 標準 cell is a date of the year it was typed in: 一覧 would print
    「2024-10-10」 for a 2023 event. A warning (staff see the cell); collect holds such a row."""
    e = Entry("小樽市", "04-1", "3", status=status, sheet="小樽市", cells={"value": "E5", "status": "G5"})
    found = [f for f in _run(fy2023, entries=[e]) if f.type == "status-date"]
    assert [(f.sheet, f.cell, f.severity) for f in found] == ([("小樽市", "G5", WARNING)] if flagged else [])


@pytest.mark.parametrize("value, flagged", [("５件（毎年度）", True), ("5件（2025年度まで）", True), ("5件", False),
                                            ("5件（2023年度）", False)])
def test_a_figure_worded_as_a_target_is_a_warning_naming_its_cell(fy2023, value, flagged):
    """「５件（毎年度）」 is how 05-1's target is written, never how a figure is reported (no
    actual of the official list carries such a note): the target copied into 実績値 was read
    as 5, silently. A warning on the master; collect holds the row."""
    e = Entry("小樽市", "05-1", value, sheet="小樽市", cells={"value": "E5"})
    found = [f for f in _run(fy2023, entries=[e]) if f.type == "actual-target-note"]
    assert [(f.sheet, f.cell, f.severity) for f in found] == ([("小樽市", "E5", WARNING)] if flagged else [])


def test_a_status_worded_as_a_target_is_not_called_a_figure(fy2023):
    """25-1's target 「開設（毎年度）」 copied into 実績値: the warning said the tool judges 「the
    figure without the note」 and asked for 「数値だけ」, where the actual is a word (開設)."""
    e = Entry("札幌市", "25-1", "開設（毎年度）", sheet="札幌市", cells={"value": "E5"})
    [found] = [f for f in _run(fy2023, entries=[e]) if f.type == "actual-target-note"]
    assert "数値" not in found.message + found.hint, found
    assert "注記を除いた値" in found.message and "「開設（毎年度）」" in found.message


@pytest.mark.parametrize("ind_id, muni, word, words", [
    ("14-1", "札幌市", "整備完了", ("「完了」", "「未実施」")),       # 2030年度まで (中心市のみ)
    ("23-1", "小樽市", "継続", ("「維持」", "「未実施」")),           # 維持 (状態)
])
def test_a_word_no_reading_takes_is_hinted_with_the_words_that_answer_its_target(fy2023, ind_id, muni, word, words):
    """「整備完了」 reported for 14-1's 「2030年度まで」: the hint of any unreadable value,
    「例: 20件、1,500人、43.9万人、常時、2025年度まで」, offered counts and a deadline as the
    result. The hint names the words that answer the target, as a word read but not
    answering it is told (deadline-unanswered, state-unanswered)."""
    e = Entry(muni, ind_id, word, sheet=muni, cells={"value": "E5"})
    [found] = [f for f in _run(fy2023, entries=[e]) if f.cell == "E5"]
    assert found.type == "unparseable" and f"「{word}」" in found.message
    assert all(w in found.hint for w in words) and "43.9万人" not in found.hint, found.hint
    manual = _ind(fy2023, ind_id, method="手入力", actual_manual=word)
    [found] = [f for f in _run(fy2023, indicators=[manual], entries=[]) if f.cell == "K9"]
    assert all(w in found.hint for w in words), found.hint


def test_a_word_no_reading_takes_on_a_numeric_row_keeps_the_examples_of_values(fy2023):
    e = Entry("小樽市", "04-1", "たくさん", sheet="小樽市", cells={"value": "E5"})
    [found] = [f for f in _run(fy2023, entries=[e]) if f.cell == "E5"]
    assert "20件" in found.hint


def test_word_in_numeric_cell(fy2023):
    e = Entry("小樽市", "04-1", "実施", sheet="小樽市", cells={"value": "E5"})
    assert ("not-a-number", "小樽市", "E5") in _types(_run(fy2023, entries=[e]))


def test_unit_mismatch(fy2023):
    e = Entry("小樽市", "04-1", "3人", sheet="小樽市", cells={"value": "E5"})
    assert ("unit-mismatch", "小樽市", "E5") in _types(_run(fy2023, entries=[e]))
    inds = [_ind(fy2023, "06-1", method="手入力", actual_manual="9人")]
    assert ("unit-mismatch", "指標", "K9") in _types(_run(fy2023, inds, []))


def test_an_empty_target_is_the_one_error_of_its_row_not_one_on_each_reported_cell(fy2023):
    """Staff clear a 目標値 by mistake: 入力チェック said 「目標値が空です」 and then called each
    municipality's sound answer wrong, 「実績値「３回」の単位が目標値「」と違います」 (41 cells of the
    FY2023 rows) or 「数値を入力するセルに「検討完了」と入力されています」 (24). Every row, emptied
    in turn, gets the one error on its 目標値 and nothing on the cells that answer it."""
    by_id = {i.id: i for i in fy2023.indicators}
    for ind in fy2023.indicators:
        inds = [i._replace(target="") if i.id == ind.id else i for i in fy2023.indicators]
        found = {(f.type, f.sheet, f.cell) for f in _run(fy2023, inds) if f.indicator_id == ind.id}
        assert found <= {("missing-field", "指標", by_id[ind.id].cell("target"))}, (ind.id, found)
        assert ind.is_kpi or found, ind.id


def test_unknown_and_duplicate_ids(fy2023):
    e = Entry("小樽市", "99-9", "3件", sheet="小樽市", cells={"indicator_id": "A7", "value": "E7"})
    assert ("unknown-id", "小樽市", "A7") in _types(_run(fy2023, entries=[e]))
    inds = [_ind(fy2023, "06-1"), _ind(fy2023, "06-1")._replace(cells={"id": "A12"})]
    found = [f for f in _run(fy2023, inds, []) if f.type == "duplicate-id"]
    assert [(f.cell, f.indicator_id) for f in found] == [("A12", "06-1")]
    assert "A9" in found[0].message


def test_formula_error_and_missing_field(fy2023):
    inds = [_ind(fy2023, "06-1", target="#REF!"), _ind(fy2023, "04-1", name="")]
    types = _types(_run(fy2023, inds, []))
    assert ("formula-error", "指標", "H9") in types
    assert ("missing-field", "指標", "F9") in types
    e = Entry("小樽市", "04-1", "#DIV/0!", sheet="小樽市", cells={"value": "E5"})
    assert ("formula-error", "小樽市", "E5") in _types(_run(fy2023, entries=[e]))


def test_negative_fractional_and_unknown_method(fy2023):
    entries = [Entry("小樽市", "04-1", "-2", sheet="小樽市", cells={"value": "E5"}),
               Entry("千歳市", "04-1", "1.5件", sheet="千歳市", cells={"value": "E6"})]
    types = _types(_run(fy2023, entries=entries))
    assert ("negative", "小樽市", "E5") in types
    assert ("fractional-count", "千歳市", "E6") in types
    inds = [_ind(fy2023, "06-1", method="平均")]
    assert ("unknown-method", "指標", "I9") in _types(_run(fy2023, inds, []))


def test_breakdown_that_does_not_add_up(fy2023):
    inds = [_ind(fy2023, "04-1", actual_manual="22件")] + [
        i for i in fy2023.indicators if i.id != "04-1"]
    found = [f for f in _run(fy2023, inds) if f.type == "breakdown-mismatch"]
    assert len(found) == 1 and found[0].cell == "K9" and "21" in found[0].message


def test_bounds_in_inputs_are_errors_but_not_in_targets(fy2023):
    e = Entry("小樽市", "04-1", "10件以上", sheet="小樽市", cells={"value": "E5"})
    f = next(f for f in _run(fy2023, entries=[e]) if f.cell == "E5")
    assert (f.type, f.severity) == ("range-value", ERROR) and "以上" in f.message and f.hint
    inds = [_ind(fy2023, "53-1", target="15社以上", actual_manual="")]
    assert not [f for f in _run(fy2023, inds, []) if f.is_error]
    inds = [_ind(fy2023, "06-1", method="手入力", actual_manual="約9件")]
    assert ("approximate-value", "指標", "K9") in _types(_run(fy2023, inds, []))


def test_central_and_manual_numbers_are_checked_like_sums(fy2023):
    central = [Entry("札幌市", "53-1", v, sheet="札幌市", cells={"value": "E5"}) for v in ("-2", "1.5人")]
    assert ("negative", "札幌市", "E5") in _types(_run(fy2023, entries=central[:1]))
    assert ("fractional-count", "札幌市", "E5") in _types(_run(fy2023, entries=central[1:]))
    # A quantity that itself goes below zero (KPI3-1: ▲2,805人 → ▲1,400人) may be negative.
    kpi = [_ind(fy2023, "KPI3-1", actual_manual="▲2,000人")]
    assert not [f for f in _run(fy2023, kpi, []) if f.is_error]


def test_no_breakdown_check_while_a_municipality_value_is_wrong(fy2023):
    inds = [_ind(fy2023, "04-1", actual_manual="22件")] + [
        i for i in fy2023.indicators if i.id != "04-1"]
    entries = [e._replace(value="-3", sheet="小樽市", cells={"value": "E5"})
               if e.indicator_id == "04-1" and e.municipality == "小樽市" else e for e in fy2023.entries]
    types = {f.type for f in _run(fy2023, inds, entries)}
    assert "negative" in types and "breakdown-mismatch" not in types


def test_a_denominator_on_a_row_without_one_is_never_passed_over(fy2023):
    """04-1 is a 合計 row: its 分母 feeds nothing. A number or text there is a warning that it
    is not used; an error value is the cell error it is anywhere, never an empty cell, and
    the 04-1 total then waits for it; a blank cell says nothing."""
    from renkei_xl.core.model import NOT_EVALUABLE, WARNING
    from renkei_xl.core.pipeline import recalculate
    from renkei_xl.core.values import CELL_ERROR

    cells = {"indicator_id": "A7", "value": "E7", "denominator": "F7"}
    rows = [e for e in fy2023.entries if not (e.municipality == "小樽市" and e.indicator_id == "04-1")]

    def run(den):
        e = Entry("小樽市", "04-1", "3件", den, sheet="小樽市", cells=cells)
        return [f for f in _run(fy2023, entries=[*rows, e]) if f.cell == "F7"], [*rows, e]

    found, _ = run("12")
    assert [(f.type, f.severity) for f in found] == [("ignored-denominator", WARNING)]
    assert "合計" in found[0].message and "12" in found[0].message and found[0].hint
    found, entries = run("#DIV/0!")
    assert [(f.type, f.severity) for f in found] == [(CELL_ERROR, ERROR)]
    assert "#DIV/0!" in found[0].message
    result = recalculate(fy2023.settings, fy2023.indicators, entries)
    assert result.evaluations["04-1"].symbol == NOT_EVALUABLE
    assert run("")[0] == [] and run("  ")[0] == []


def test_a_row_whose_values_feed_nothing_is_a_warning_on_its_cells(fy2023):
    """手入力 (KPI1-1) and 自動 (01-1) take no 実績値 from a municipality's sheet, and
    中心市のみ (02-1) takes only the central city's row, 実施状況 too: what a municipality typed
    there is named, not dropped in silence. A cell with a finding of its own keeps that one."""
    from renkei_xl.core.model import WARNING
    from renkei_xl.core.values import CELL_ERROR

    cells = {"indicator_id": "A99", "value": "E99", "status": "G99"}

    def found(muni, ind_id, value, status=""):
        e = Entry(muni, ind_id, value, status=status, sheet=muni, cells=cells)
        return {(f.type, f.severity, f.cell) for f in _run(fy2023, entries=[*fy2023.entries, e])
                if f.cell in cells.values()}

    ignored = "ignored-entry", WARNING
    assert found("小樽市", "KPI1-1", "3件", "実施した") == {(*ignored, "E99")}      # 実施状況 is shown
    assert found("札幌市", "01-1", "3件") == {(*ignored, "E99")}
    assert found("小樽市", "02-1", "3回", "実施した") == {(*ignored, "E99"), (*ignored, "G99")}
    assert found("小樽市", "02-1", "2回以上") == {("range-value", ERROR, "E99")}
    assert found("小樽市", "02-1", "#REF!") == {(CELL_ERROR, ERROR, "E99")}
    assert found("小樽市", "02-1", "") == set()
    message = next(f.message for f in _run(fy2023, entries=[*fy2023.entries, Entry(
        "小樽市", "02-1", "3回", sheet="小樽市", cells=cells)]) if f.cell == "E99")
    assert "中心市のみ" in message and "小樽市" in message and "3回" in message


def test_a_status_the_manual_status_replaces_in_the_list_is_a_warning_on_its_cell(fy2023):
    """指標's 実施状況（手入力） is what 一覧 shows; a municipality's 実施状況 for that row was
    dropped without a word, though its input file says the text goes to 一覧."""
    from renkei_xl.core.model import WARNING

    ind = _ind(fy2023, "04-1", status_manual="事務局でまとめた状況")._replace(
        cells={"id": "A9", "status_manual": "L9"})
    e = Entry("小樽市", "04-1", "2", status="商談会を 2 回開催", sheet="小樽市", cells={"value": "E5", "status": "G5"})
    found = [f for f in _run(fy2023, [ind], [e]) if f.type == "replaced-status"]
    assert [(f.severity, f.place) for f in found] == [(WARNING, "小樽市!G5")]
    assert "商談会を 2 回開催" in found[0].message and "指標!L9" in found[0].message
    assert not [f for f in _run(fy2023, [ind._replace(status_manual="")], [e]) if f.type == "replaced-status"]


def test_a_typed_total_with_no_municipality_value_yet_is_said_unused(fy2023):
    """合計's 実績値（手入力） is checked against the municipalities' sum; with none yet the
    row is 未集計 and the typed 21件 fed nothing without a word."""
    from renkei_xl.core.model import WARNING

    ind = _ind(fy2023, "04-1", actual_manual="21件")
    found = [f for f in _run(fy2023, [ind], []) if f.type == "unused-total"]
    assert [(f.severity, f.place) for f in found] == [(WARNING, "指標!K9")] and "21件" in found[0].message
    entries = [e for e in fy2023.entries if e.indicator_id == "04-1"]
    assert not [f for f in _run(fy2023, [ind], entries) if f.type == "unused-total"]


def _status_number_findings(fy2023, ind_id, value, status, inds=None):
    e = Entry("小樽市", ind_id, value, "", status, sheet="小樽市", cells={"value": "G5", "status": "I5"})
    return [f for f in _run(fy2023, inds, entries=[e]) if f.type == "status-number-only"]


@pytest.mark.parametrize("status", ["7", "１，２００", "▲3", "4.5", "2件", "２件", "2 件", "▲3件", "1.2万件",
                                    "2件（把握可能分）"])
def test_a_bare_number_in_status_beside_an_empty_value_is_an_error_on_the_status(fy2023, status):
    """The answer typed one column to the right: taken as a status, 小樽市's number was left
    out of 04-1's total and the indicator judged on the others' alone, without a word."""
    found = _status_number_findings(fy2023, "04-1", "", status)
    assert [(f.cell, f.severity, f.indicator_id) for f in found] == [("I5", ERROR, "04-1")]
    assert f"実施状況に数値「{status}」だけ" in found[0].message and "小樽市の実績値は集計されません" in found[0].message


@pytest.mark.parametrize("status", ["約3件", "約10", "3件程度", "概ね3件", "3件以上", "10未満", "3件（見込み）", "約1.2万人"])
def test_a_hedged_figure_in_status_beside_an_empty_value_is_the_same_error(fy2023, status):
    """「約3件」 in 実施状況 beside an empty 実績値 was taken as a status (a rough figure, not
    one to sum), and 04-1's total was judged without 小樽市, where 「3件」 was held: the same
    answer one column right, with a word the 実績値 cell would refuse (「見込みしかない場合は
    「（未集計）」と」). A returned 10 formatted 「"約"0」 arrives so too. The error names it, and
    the 実績値 cell then says what to do with a rough figure."""
    found = _status_number_findings(fy2023, "04-1", "", status)
    assert [(f.cell, f.severity, f.indicator_id) for f in found] == [("I5", ERROR, "04-1")]
    assert f"実施状況に数値「{status}」だけ" in found[0].message


@pytest.mark.parametrize("ind_id, value, status", [
    ("04-1", "", "3回開催"),      # words: a status
    ("04-1", "", "約3回開催"),    # a hedged figure with words: a status
    ("04-1", "", "R6.2月"),       # a date
    ("04-1", "", "2023年度"),     # a year
    ("04-1", "2", "7"),           # the value is there
    ("23-1", "", "7"),            # a 状態 row: its value is no number to sum (its own findings say the rest)
    ("KPI1-1", "", "7")])         # a 手入力 基本KPI: no municipality's value is summed
def test_a_status_that_is_no_misplaced_number_is_no_such_error(fy2023, ind_id, value, status):
    assert _status_number_findings(fy2023, ind_id, value, status) == []


@pytest.mark.parametrize("central, typed, warned", [
    ("2回", "3回", True),       # 2回 published; the 3回 typed in 指標 was dropped without a word
    ("3", "３回", False),       # the same number: nothing is set aside
    ("", "3回", False),         # the central city's cell is empty: 実績値（手入力） is used
    ("－", "3回", False),       # a dash is read as that empty cell
])
def test_a_manual_value_a_central_value_sets_aside_is_said(fy2023, central, typed, warned):
    from renkei_xl.core.validate import validate

    inds = [i._replace(actual_manual=typed, sheet="指標", cells={"actual_manual": "K5"}) if i.id == "02-1" else i
            for i in fy2023.indicators]
    entries = [e for e in fy2023.entries if e.indicator_id != "02-1"]
    entries.append(Entry("札幌市", "02-1", central, sheet="札幌市", cells={"value": "E2"}))
    found = [f for f in validate(fy2023.settings, inds, entries) if f.type == "set-aside-actual"]
    assert [(f.place, f.severity) for f in found] == ([("指標!K5", "警告")] if warned else []), found
    if warned:
        assert "「2回」" in found[0].message and "札幌市!E2" in found[0].message

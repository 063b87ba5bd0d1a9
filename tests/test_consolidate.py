"""Consolidating the municipalities' values reproduces the official 実績値 and breakdowns."""


import pytest

from renkei_xl.core.consolidate import ConsolidationError, consolidate
from renkei_xl.core.methods import agreed_state, participants, ratio, sum_with_breakdown
from renkei_xl.core.model import Entry


def _ind(fy2023, ind_id):
    return next(i for i in fy2023.indicators if i.id == ind_id)


def _entries(fy2023, ind_id):
    return [e for e in fy2023.entries if e.indicator_id == ind_id]


@pytest.mark.parametrize("ind_id,actual,breakdown", [
    ("04-1", "21件", "（札幌市17件、小樽市2件、千歳市1件、恵庭市1件）"),
    ("08-1", "17件", "（札幌市11件、小樽市3件、千歳市2件、恵庭市1件）"),
    ("06-1", "9件", "（札幌市8件、小樽市1件）"),
    ("05-1", "6件", "（札幌市6件）"),
    ("28-1", "11市町村", "（札幌市、小樽市、岩見沢市、江別市、千歳市、恵庭市、北広島市、石狩市、当別町、南幌町、長沼町）"),
    ("23-1", "維持", "（札幌市、江別市、千歳市、恵庭市、北広島市、石狩市、当別町）"),
])
def test_breakdown_indicators(fy2023, ind_id, actual, breakdown):
    c = consolidate(_ind(fy2023, ind_id), _entries(fy2023, ind_id), fy2023.settings)
    assert c.actual == actual
    assert c.breakdown == breakdown


def test_breakdown_is_added_to_the_status_once(fy2023):
    c4 = consolidate(_ind(fy2023, "04-1"), _entries(fy2023, "04-1"), fy2023.settings)
    assert c4.status_text.startswith("・ものづくり開発")
    assert c4.status_text.endswith("（札幌市17件、小樽市2件、千歳市1件、恵庭市1件）")
    # 6's official text already ends with 「（札幌市８件、小樽市１件）」: not repeated.
    c6 = consolidate(_ind(fy2023, "06-1"), _entries(fy2023, "06-1"), fy2023.settings)
    assert c6.status_text == fy2023.official_status["06-1"]


def test_ratio_from_real_numbers(fy2023):
    # 40-4: 第１期 49／71 (69.0%), 第２期 41／72 (56.9%): 90／143 = 62.9%.
    c = consolidate(_ind(fy2023, "40-4"), _entries(fy2023, "40-4"), fy2023.settings)
    assert c.actual == "62.9%"
    two = [Entry("札幌市", "40-4", "49", "71"), Entry("小樽市", "40-4", "41", "72")]
    assert ratio(two).actual == "62.9%"


def test_changing_one_value_changes_actual_and_breakdown(fy2023):
    entries = [e._replace(value="5件") if e.municipality == "小樽市" else e
               for e in _entries(fy2023, "04-1")]
    c = consolidate(_ind(fy2023, "04-1"), entries, fy2023.settings)
    assert c.actual == "24件"
    assert "小樽市5件" in c.breakdown


def test_central_only_and_manual(fy2023):
    c = consolidate(_ind(fy2023, "13-1"), _entries(fy2023, "13-1"), fy2023.settings)
    assert c.actual == "43.9万人"
    kpi = _ind(fy2023, "KPI1-2")
    assert consolidate(kpi, [], fy2023.settings).actual == "30,273千人（2022年度）"
    assert consolidate(_ind(fy2023, "14-1"), [], fy2023.settings).actual == "－"


def test_order_follows_settings_not_input(fy2023):
    entries = list(reversed(_entries(fy2023, "04-1")))
    assert sum_with_breakdown(sorted(entries, key=lambda e: e.municipality))[1] != ""
    c = consolidate(_ind(fy2023, "04-1"), entries, fy2023.settings)
    assert c.breakdown.startswith("（札幌市17件")


def test_conflicts_are_reported():
    with pytest.raises(ConsolidationError, match="単位"):
        sum_with_breakdown([Entry("札幌市", "x", "3件"), Entry("小樽市", "x", "2人")])
    with pytest.raises(ConsolidationError, match="一致しません"):
        agreed_state([Entry("札幌市", "x", "維持"), Entry("小樽市", "x", "未実施")])
    with pytest.raises(ConsolidationError, match="分母"):
        ratio([Entry("札幌市", "x", "3")])
    assert participants([Entry("札幌市", "x", "0"), Entry("小樽市", "x", "2")]) [:2] == ("1市町村", "（小樽市）")


def test_an_input_error_stops_the_roll_up(fy2023):
    from renkei_xl.core.consolidate import rollup
    from renkei_xl.core.values import INPUT_ERROR
    entries = [e._replace(value="2.5", sheet="小樽市", cells={"value": "E5"})
               if e.municipality == "小樽市" else e for e in _entries(fy2023, "04-1")]
    r = rollup(_ind(fy2023, "04-1"), entries, fy2023.settings)
    assert r.consolidated.actual == INPUT_ERROR and r.consolidated.breakdown == ""
    assert [(f.type, f.place) for f in r.input_errors] == [("fractional-count", "小樽市!E5")]
    # The note: the reason, then the staff's text, without a breakdown built from the bad value.
    note, _, rest = r.consolidated.status_text.partition("\n")
    assert note.startswith("※入力エラーのため評価不可（小樽市!E5: ")
    assert rest == _ind(fy2023, "04-1").status_manual.strip()


def test_sub_functions_refuse_bounds():
    with pytest.raises(ConsolidationError, match="範囲"):
        sum_with_breakdown([Entry("札幌市", "x", "3件以上")])


def _rolled(fy2023, ind_id, changed: dict):
    """The roll-up of ``ind_id`` with some municipalities' rows changed (municipality → fields)."""
    from renkei_xl.core.consolidate import rollup

    rows = {e.municipality: e for e in _entries(fy2023, ind_id)}
    for muni, fields in changed.items():
        row = rows.get(muni, Entry(muni, ind_id, ""))
        rows[muni] = row._replace(sheet=muni, cells={"value": "E9", "denominator": "F9"}, **fields)
    return rollup(_ind(fy2023, ind_id), list(rows.values()), fy2023.settings)


@pytest.mark.parametrize("ind_id, typed, actual, symbol", [
    ("40-2", "7000", "7,000人", "◎"),              # the README's 「数値だけを入力してください」
    ("40-2", "5974", "5,974人", "□"),
    ("40-2", "5000", "5,000人", "×"),
    ("46-1", "104080000", "104,080,000円", "◎"),
    ("40-2", "5,974人", "5,974人", "□"),           # typed with its unit: as typed
    ("46-1", "1億408万円", "1億408万円", "◎"),
])
def test_a_bare_number_for_the_central_city_counts_in_the_targets_unit(fy2023, ind_id, typed, actual, symbol):
    from renkei_xl.core.rules import Context, evaluate

    r = _rolled(fy2023, ind_id, {"札幌市": {"value": typed}})
    assert not r.input_errors and r.consolidated.actual == actual
    assert evaluate(_ind(fy2023, ind_id), r.consolidated.actual, Context(2023, 0.85, 12)).symbol == symbol


def test_a_bare_number_typed_for_a_manual_row_counts_in_the_targets_unit(fy2023):
    from renkei_xl.core.methods import roll_up

    ind = _ind(fy2023, "40-2")._replace(method="手入力", actual_manual="7000")
    assert roll_up(ind, [], fy2023.settings)[0] == "7,000人"


def test_participants_with_nobody_reporting_yet_is_not_a_count_of_none(fy2023):
    """参加市町村数 with every row empty is 未集計 (―), as an empty 合計 is; rows of 0 are a count."""
    from renkei_xl.core.methods import NO_VALUE

    empty = {e.municipality: {"value": ""} for e in _entries(fy2023, "28-1")}
    assert _rolled(fy2023, "28-1", empty).consolidated.actual == NO_VALUE
    zeros = {e.municipality: {"value": "0"} for e in _entries(fy2023, "28-1")}
    assert _rolled(fy2023, "28-1", zeros).consolidated.actual == "0市町村"


def test_a_denominator_without_its_numerator_is_an_error_on_the_numerators_cell(fy2023):
    """A 分母 alone would count a numerator of 0 into the ratio (60.8% □ instead of 62.9%):
    it is named on the empty 実績値 cell, and the row is － rather than judged."""
    from renkei_xl.core.values import INPUT_ERROR

    r = _rolled(fy2023, "40-4", {"小樽市": {"value": "", "denominator": "5"}})
    assert [(f.type, f.place) for f in r.input_errors] == [("missing-numerator", "小樽市!E9")]
    assert r.consolidated.actual == INPUT_ERROR
    with pytest.raises(ConsolidationError, match="分子"):
        ratio([Entry("札幌市", "x", "3", "10"), Entry("小樽市", "x", "", "5")])


@pytest.mark.parametrize("ind_id, fields, actual", [
    ("42-2", {"value": "68"}, "68%"),             # a bare number in a % row: the % it counts
    ("42-2", {"value": "68%"}, "68%"),
    ("42-2", {"value": "0.68"}, None),             # Excel's 68% (or 0.68%?): not guessed
    ("40-4", {"value": "62.9%", "denominator": "143"}, None),   # a 比率's numerator is a count
    ("40-4", {"value": "0.72", "denominator": "100"}, None),
    ("40-4", {"value": "90", "denominator": "143"}, "62.9%"),
])
def test_a_fraction_where_a_percent_or_a_count_is_counted_is_not_guessed(fy2023, ind_id, fields, actual):
    """「68%」 typed into a General cell is stored as 0.68 with a percent format, which
    neither face reads: 0.68 in a cell that counts in % (or in a 比率's numerator, a
    count) is 68% or 0.68%, so it is an error on its cell and the row is －."""
    from renkei_xl.core.values import INPUT_ERROR

    r = _rolled(fy2023, ind_id, {"札幌市": fields})
    if actual is not None:
        assert not r.input_errors and r.consolidated.actual == actual
        return
    assert [f.place for f in r.input_errors] == ["札幌市!E9"] and r.consolidated.actual == INPUT_ERROR
    f = r.input_errors[0]
    assert f.type == ("percent-as-fraction" if ind_id == "42-2" else "ratio-numerator"), f
    if ind_id == "42-2":
        assert "68%" in f.message and "68%なら68" in f.hint.replace(" ", ""), f


@pytest.mark.parametrize("ind_id, fields", [
    ("40-2", {"value": "7,000人（2022年度）"}),     # last year's figure passed off as this year's
    ("04-1", {"value": "17件（2022年度）"}),
    ("04-1", {"value": "17件（2022年）"}),
])
def test_an_actual_labelled_with_another_year_is_not_this_years_result(fy2023, ind_id, fields):
    from renkei_xl.core.values import INPUT_ERROR

    r = _rolled(fy2023, ind_id, {"札幌市": fields})
    assert [(f.type, f.place) for f in r.input_errors] == [("actual-other-year", "札幌市!E9")]
    assert "対象年度は 2023年度" in r.input_errors[0].message and r.consolidated.actual == INPUT_ERROR


def test_an_actual_of_this_year_or_a_kpis_latest_figure_is_taken_as_it_is(fy2023):
    from renkei_xl.core.consolidate import rollup
    from renkei_xl.core.validate import validate

    assert not _rolled(fy2023, "40-2", {"札幌市": {"value": "7,000人（2023年度）"}}).input_errors
    kpi = _ind(fy2023, "KPI1-2")            # the official list prints 「30,273千人（2022年度）」
    assert kpi.is_kpi and "2022年度" in kpi.actual_manual
    assert not rollup(kpi, [], fy2023.settings).input_errors
    assert not [f for f in validate(fy2023.settings, fy2023.indicators, fy2023.entries) if f.type == "actual-other-year"]


def test_a_completion_after_the_deadline_year_is_not_taken_for_this_years(fy2023):
    """「構築（2024年度）」 against 「2023年度まで」 in FY2023 was ◎."""
    from renkei_xl.core.consolidate import rollup

    ind = _ind(fy2023, "06-1")._replace(method="手入力", target="2023年度まで", actual_manual="構築（2024年度）",
                                        sheet="指標", cells={"actual_manual": "K9"})
    assert [(f.type, f.place) for f in rollup(ind, [], fy2023.settings).input_errors] == [
        ("actual-other-year", "指標!K9")]


@pytest.mark.parametrize("typed, shown", [("3676名", "3,676名"), ("３６７６名", "3,676名"), ("３６７６", "3,676名"),
                                          ("3,676名", "3,676名"), ("3676人", "3,676人"),
                                          ("43.9万名", "43.9万名"), ("116,346名（把握可能分）", "116,346名（把握可能分）")])
def test_a_central_citys_value_is_shown_as_a_sum_shows_it(fy2023, typed, shown):
    """札幌市's 「3676名」 for a 中心市のみ row showed as typed in 一覧, beside 合計 rows that
    show 「3,676名」; a number written with 万 or with a note stays as written (the office's
    own 「43.9万人」 in the official list)."""
    ind = _ind(fy2023, "03-1")
    assert ind.method == "中心市のみ"
    central = fy2023.settings.central.name
    got = consolidate(ind, [Entry(central, "03-1", typed)], fy2023.settings).actual
    assert got == shown
    if "万" not in typed and "（" not in typed:
        assert got == sum_with_breakdown([Entry(central, "03-1", typed)], "名").actual


@pytest.mark.parametrize("ind_id, muni, typed", [
    ("04-1", "小樽市", "（未集計）"),     # 合計: 19件 of 20 was □, a total without 小樽市's count
    ("28-1", "新篠津村", "未集計"),       # 参加市町村数: 11 of 全12市町村 was □
    ("40-4", "小樽市", "（未集計）"),     # 比率: 62.9% was × without 小樽市's numerator
    ("23-1", "小樽市", "（未集計）"),     # 状態: 「（未集計）」 is a choice of 状態一覧; 維持 was ◎
])
def test_a_municipality_not_yet_counted_leaves_the_row_not_yet_counted(fy2023, ind_id, muni, typed):
    """「（未集計）」 is what staff are told to enter when a figure is not counted yet (the
    hint of dash-as-empty, 状態一覧's last choice), yet a roll-up read it as an empty cell
    and published the others' total, judged, in silence. The row is 未集計 (―), and its
    実施状況 says whose figure it waits for."""
    from renkei_xl.core.model import NOT_YET
    from renkei_xl.core.pipeline import recalculate

    entries = [e for e in fy2023.entries if (e.indicator_id, e.municipality) != (ind_id, muni)]
    entries.append(Entry(muni, ind_id, typed, sheet=muni, cells={"value": "E9"}))
    result = recalculate(fy2023.settings, fy2023.indicators, entries)
    assert result.evaluations[ind_id].symbol == NOT_YET, result.evaluations[ind_id]
    assert result.consolidated[ind_id].actual == "（未集計）"
    assert f"（{muni}は未集計）" in result.consolidated[ind_id].status_text
    assert not [f for f in result.findings if f.indicator_id == ind_id and f.is_error]


@pytest.mark.parametrize("ind_id, typed, actual, symbol", [
    ("40-2", "7000", "7,000人", "◎"),
    ("42-2", "68", "68%", "□"),
    ("13-1", "253300", "253,300人", "□"),     # 29.8万人: the unit, not the way it is written
])
def test_a_bare_number_in_a_manual_rows_cell_is_judged_without_an_error(fy2023, ind_id, typed, actual, symbol):
    """The roll-up reads a bare 実績値（手入力） in its target's unit (「7000」 is 7,000人, as
    the central city's sheet reads it), but validation called it a unit mismatch: the row
    was －（入力エラー） and left out of the 達成割合, for a number typed as asked (an Excel
    number cell holds no unit at all)."""
    from renkei_xl.core.pipeline import recalculate

    inds = [i._replace(method="手入力", actual_manual=typed) if i.id == ind_id else i for i in fy2023.indicators]
    entries = [e for e in fy2023.entries if e.indicator_id != ind_id]
    result = recalculate(fy2023.settings, inds, entries)
    assert not [f for f in result.findings if f.indicator_id == ind_id and f.is_error], result.evaluations[ind_id]
    assert (result.consolidated[ind_id].actual, result.evaluations[ind_id].symbol) == (actual, symbol)


def test_a_dash_from_the_central_city_falls_back_to_the_manual_value_as_a_blank_does(fy2023):
    """中心市のみ takes 実績値（手入力） when the central city's cell is empty. Its 「－」 is said to
    be read as a blank cell (dash-as-empty), but it was taken as the value: 「－」 ―, and the
    3回 staff typed in 実績値（手入力） was dropped without a word."""
    from renkei_xl.core.pipeline import recalculate

    inds = [i._replace(actual_manual="3回") if i.id == "02-1" else i for i in fy2023.indicators]
    entries = [e for e in fy2023.entries if e.indicator_id != "02-1"]
    entries.append(Entry("札幌市", "02-1", "－", sheet="札幌市", cells={"value": "E2"}))
    result = recalculate(fy2023.settings, inds, entries)
    assert (result.consolidated["02-1"].actual, result.evaluations["02-1"].symbol) == ("3回", "◎")
    assert [f.type for f in result.findings if f.indicator_id == "02-1"] == ["dash-as-empty"]


def test_spellings_of_one_state_agree(fy2023):
    """「実施済み」「実施済」 are spellings of 実施 (the rules read them so: choices.canonical_state),
    but 状態's roll-up compared the texts: 「市町村の状態が一致しません」, the row －. One state
    typed alike keeps its spelling; spellings mixed show the word."""
    rows = [Entry("札幌市", "x", "実施済み"), Entry("小樽市", "x", "実施"), Entry("江別市", "x", "実施済")]
    assert agreed_state(rows) == ("実施", "（札幌市、小樽市、江別市）", False, None)
    assert agreed_state(rows[:1]).actual == "実施済み"
    opened = [Entry("札幌市", "x", "開設済み"), Entry("小樽市", "x", "開設")]    # any state reached, not 実施 alone
    assert agreed_state(opened).actual == "開設"
    with pytest.raises(ConsolidationError, match="一致しません"):
        agreed_state([Entry("札幌市", "x", "実施済み"), Entry("小樽市", "x", "未実施")])


@pytest.mark.parametrize("fields", [{"value": "40", "denominator": "（未集計）"},
                                    {"value": "（未集計）", "denominator": "50"}])
def test_a_ratios_part_not_yet_counted_leaves_it_not_yet_counted(fy2023, fields):
    """A 比率's 分母 「（未集計）」 was 「0 より大きい分母が必要です」, and a numerator 「（未集計）」
    beside its 分母 「実績値（分子）が空です」: both errors, the row －. Either says the figure is
    not counted yet: the row is 未集計 (―), as for a 実績値."""
    from renkei_xl.core.model import NOT_YET
    from renkei_xl.core.pipeline import recalculate

    entries = [e for e in fy2023.entries if (e.indicator_id, e.municipality) != ("40-4", "小樽市")]
    entries.append(Entry("小樽市", "40-4", sheet="小樽市", cells={"value": "E9", "denominator": "F9"}, **fields))
    result = recalculate(fy2023.settings, fy2023.indicators, entries)
    assert (result.evaluations["40-4"].symbol, result.consolidated["40-4"].actual) == (NOT_YET, "（未集計）")
    assert not [f for f in result.findings if f.indicator_id == "40-4" and f.is_error]


@pytest.mark.parametrize("pasted", ["・達成済み・達成見込み50／評価可能70", "達成済み・達成見込み５０／評価可能７０"])
def test_a_count_pasted_into_the_rate_rows_status_is_not_printed_beside_the_tools_own(fy2023, pasted):
    """Staff paste last year's published 実施状況 of 01-1 into 実施状況（手入力）, its first line
    the count of that year. The tool writes its own count above the text, so the list printed
    two counts, 52／71 and the stale 50／70, without a word. The stale line is left out of the
    list and named on its cell as a warning; the rest of the text is printed as typed."""
    from renkei_xl.core.pipeline import recalculate

    rate = next(i for i in fy2023.indicators if i.method == "自動")
    inds = [i._replace(status_manual=f"{pasted}\n{i.status_manual}") if i is rate else i for i in fy2023.indicators]
    result = recalculate(fy2023.settings, inds, list(fy2023.entries))
    lines = result.consolidated[rate.id].status_text.splitlines()
    assert lines == ["・達成済み・達成見込み52／評価可能71", *rate.status_manual.splitlines()], lines
    [found] = [f for f in result.findings if f.indicator_id == rate.id]
    assert (found.type, found.is_error, pasted in found.message) == ("typed-rate-line", False, True)
    assert result.evaluations[rate.id].symbol == "×"


@pytest.mark.parametrize("rows,field,blamed", [
    ([("札幌市", "49件", "71"), ("小樽市", "41人", "72")], "value", {"札幌市", "小樽市"}),     # 件 + 人 added
    ([("札幌市", "49", "71件"), ("小樽市", "41", "72人")], "denominator", {"札幌市", "小樽市"}),
    ([("札幌市", "49件", "71人"), ("小樽市", "41件", "72人")], "denominator", {"札幌市", "小樽市"}),   # 件 ／ 人
])
def test_a_ratios_units_that_do_not_divide_are_named_on_their_cells(fy2023, rows, field, blamed):
    """A 比率 added its numerators and its denominators and divided them whatever their units
    said (49件 + 41人, or 件 over 人), where a 合計 refuses units of different families. Now
    the rows are named on the cells at fault (a denominator's on its 分母 cell) and the row is
    －, on every face (the rule is the core's)."""
    from renkei_xl.core.model import NOT_EVALUABLE
    from renkei_xl.core.pipeline import recalculate

    others = [e for e in fy2023.entries if e.indicator_id != "40-4"]
    made = [Entry(m, "40-4", value, denominator, sheet=m, cells={"value": "E9", "denominator": "F9"})
            for m, value, denominator in rows]
    result = recalculate(fy2023.settings, fy2023.indicators, others + made)
    found = [f for f in result.findings if f.indicator_id == "40-4"]
    cell = "F9" if field == "denominator" else "E9"
    assert {f.place for f in found} == {f"{m}!{cell}" for m in blamed}, found
    assert all(f.type == "units-differ" and f.is_error for f in found), found
    assert result.evaluations["40-4"].symbol == NOT_EVALUABLE


@pytest.mark.parametrize("rows,actual", [
    ([("札幌市", "49件", "71件"), ("小樽市", "41", "72")], "62.9%"),    # a row without a unit agrees with any
    ([("札幌市", "49名", "71人"), ("小樽市", "41人", "72名")], "62.9%"),  # 名 and 人 count the same
])
def test_a_ratios_units_of_one_family_divide(rows, actual):
    assert ratio([Entry(m, "x", value, denominator) for m, value, denominator in rows]).actual == actual

"""The FY2023 official list is the test: every symbol from targets and actuals alone."""

import unicodedata

import pytest

from renkei_xl.core.model import ACHIEVED, MISSED, NEARLY, NOT_EVALUABLE, NOT_YET
from renkei_xl.core.pipeline import recalculate
from renkei_xl.core.rules import Context, evaluate


@pytest.fixture(scope="module")
def result(fy2023):
    # Official symbols live in a separate mapping the pipeline never sees.
    assert not any("official" in f for f in fy2023.indicators[0]._fields)
    return recalculate(fy2023.settings, fy2023.indicators, fy2023.entries)


def test_all_80_rows_reproduce_the_official_symbols(fy2023, result):
    assert len(fy2023.indicators) == 80
    assert sum(i.is_kpi for i in fy2023.indicators) == 4
    got = {i: e.symbol for i, e in result.evaluations.items()}
    diff = {i: (got[i], fy2023.official[i]) for i in got if got[i] != fy2023.official[i]}
    assert diff == {}


def test_summary_is_52_of_71(result):
    s = result.summary
    assert dict(s.counts) == {ACHIEVED: 52, NEARLY: 7, MISSED: 12, NOT_YET: 5, NOT_EVALUABLE: 4}
    assert (s.achieved, s.evaluable) == (52, 71)
    assert s.rate_text == "73.2%"
    assert s.fraction_text == "52／71"


def test_meta_row_is_a_fixed_point_and_missed(result):
    meta = result.evaluations["01-1"]
    assert meta.symbol == MISSED
    assert "52／評価可能71" in meta.reason
    assert result.consolidated["01-1"].actual == "73.2%"
    assert result.consolidated["01-1"].status_text.startswith("・達成済み・達成見込み52／評価可能71")


def test_every_consolidated_actual_is_the_printed_one(fy2023, result):
    # Consolidation formats sums in half-width digits; the printed list mixes widths
    # (「６件」), so both sides are compared after NFKC.
    def n(s):
        return unicodedata.normalize("NFKC", s)
    diff = {i: (c.actual, fy2023.official_actual[i]) for i, c in result.consolidated.items()
            if n(c.actual) != n(fy2023.official_actual[i])}
    assert diff == {}


def test_reasons_are_japanese_and_specific(result):
    assert result.evaluations["06-1"].reason == "9件／10件 = 90.0%（85%以上）"
    assert result.evaluations["28-1"].reason == "11市町村／全12市町村 = 91.7%（85%以上）"
    assert "期限 2023年度" in result.evaluations["10-1"].reason
    assert "2030年度" in result.evaluations["14-1"].reason


def _with(fy2023, ind_id, **changes):
    ind = next(i for i in fy2023.indicators if i.id == ind_id)
    return ind._replace(**changes)


CTX = Context(2023, 0.85, 12)


@pytest.mark.parametrize("target,actual,symbol", [
    ("10件（毎年度）", "8件", MISSED),
    ("10件（毎年度）", "9件", NEARLY),
    ("10件（毎年度）", "10件", ACHIEVED),
    ("2,000万円（毎年度）", "1億円", ACHIEVED),
    ("2,000万円（毎年度）", "1,600万円", MISSED),
    ("2,000万円（毎年度）", "1,700万円", NEARLY),
    ("31千人（2023年度）", "31,000人", ACHIEVED),
    ("29.8万人（2023年度）", "26万人", NEARLY),
    ("29.8万人（2023年度）", "25万人", MISSED),
    ("全市町村（毎年度）", "12市町村", ACHIEVED),
    ("全市町村（毎年度）", "10市町村", MISSED),
    ("２人以上（毎年度）", "１人", MISSED),
    ("１回／年（毎年度）", "１回", ACHIEVED),
    ("１回（毎年度）", "実施なし", MISSED),
    ("常時", "常時", ACHIEVED),
    ("維持", "未実施", MISSED),
    ("毎年度", "実施", ACHIEVED),
    ("各１回以上（毎年度）", "各１回以上実施", ACHIEVED),
    ("2023年度まで", "策定", ACHIEVED),
    ("2023年度まで", "未構築", MISSED),
    ("2023年度まで", "", MISSED),
    ("2025年度", "", NOT_YET),
    ("2025年度", "未構築", NOT_YET),
    ("4,225人（2025年度まで）", "4,000人", NOT_YET),
    ("4,225人（2025年度まで）", "5,000人", ACHIEVED),
    ("124校（毎年度）", "（未集計）", NOT_YET),
    ("10件（毎年度）", "10人", NOT_EVALUABLE),
    ("常時", "開設", NOT_EVALUABLE),
])
def test_changed_inputs_change_the_result(fy2023, target, actual, symbol):
    # A state word alone is a 状態 row's target (23-1): on a row that sums numbers (06-1,
    # 合計) it can judge no 実績値, and is a finding on its 目標値 (rules.unjudgeable).
    # A deadline, likewise, is a row whose 実績値 can say 完了 (10-1, 中心市のみ), not a sum.
    state_target = target in ("常時", "維持", "毎年度")
    deadline = target in ("2023年度まで", "2025年度")
    ind = _with(fy2023, "23-1" if state_target else "10-1" if deadline else "06-1", target=target)
    assert evaluate(ind, actual, CTX).symbol == symbol


def test_threshold_is_a_setting(fy2023):
    ind = _with(fy2023, "06-1")
    assert evaluate(ind, "9件", Context(2023, 0.85, 12)).symbol == NEARLY
    assert evaluate(ind, "9件", Context(2023, 0.95, 12)).symbol == MISSED
    assert "95%未満" in evaluate(ind, "9件", Context(2023, 0.95, 12)).reason


def test_deadline_depends_on_the_target_year(fy2023):
    ind = _with(fy2023, "35-1")  # 2023年度, nothing reported
    assert evaluate(ind, "", Context(2023, 0.85, 12)).symbol == MISSED
    assert evaluate(ind, "", Context(2022, 0.85, 12)).symbol == NOT_YET


@pytest.mark.parametrize("target, actual, fiscal_year, symbol", [
    ("2023年度中", "", 2023, MISSED), ("2023年度内", "未構築", 2023, MISSED), ("2023年度までに", "策定", 2023, ACHIEVED),
    ("2024年度中", "", 2023, NOT_YET), ("令和6年度内", "未構築", 2023, NOT_YET), ("R5年度末までに", "", 2023, MISSED),
    ("2025年度中に", "", 2025, MISSED), ("令和7年度中", "構築", 2024, ACHIEVED),
])
def test_the_words_staff_use_for_a_year_deadline_are_judged_as_it(fy2023, target, actual, fiscal_year, symbol):
    """「2025年度中」「2025年度内」「2025年度までに」 are 「2025年度まで」: they were a unit error,
    and the row －."""
    ind = _with(fy2023, "10-1", target=target)
    assert evaluate(ind, actual, Context(fiscal_year, 0.85, 12)).symbol == symbol


@pytest.mark.parametrize("target, actual, base_date, symbol", [
    ("2024年3月末まで", "", "2024-03-30", NOT_YET), ("2024年3月末まで", "", "2024-03-31", MISSED),
    ("2024年3月末まで", "策定", "2024-03-31", ACHIEVED), ("2024年3月まで", "未構築", "2024-03-30", NOT_YET),
    ("令和6年3月末まで", "未構築", "2024-03-31", MISSED), ("R6.3月まで", "", "2025-03-31", MISSED),
    ("2024年9月まで", "", "2024-03-31", NOT_YET), ("2024年9月まで", "構築", "2024-03-31", ACHIEVED),
    ("令和6年9月末まで", "", "2024-09-29", NOT_YET), ("令和6年9月末まで", "未構築", "2024-09-30", MISSED),
    ("令和6年9月末まで", "", "2025-03-31", MISSED),
    ("2024/3/31まで", "", "2024-03-30", NOT_YET), ("2024/3/31まで", "", "2024-03-31", MISSED),
    ("2024/3/31まで", "完了", "2024-03-31", ACHIEVED),
])
def test_a_deadline_to_the_month_is_judged_against_the_status_date(fy2023, target, actual, base_date, symbol):
    """「2024年3月末まで」: ― before its last day, × from it (as 「2023年度まで」 is at its own
    year's 「３月末時点」), ◎ once completed; against 設定's 基準日, and shown as typed."""
    import datetime as dt

    from renkei_xl.core.fiscal import fiscal_year_of

    day = dt.date.fromisoformat(base_date)
    ind = _with(fy2023, "10-1", target=target)
    ev = evaluate(ind, actual, Context(fiscal_year_of(day), 0.85, 12, day))
    assert ev.symbol == symbol, ev.reason
    assert f"期限 「{target}」" in ev.reason
    if symbol != ACHIEVED:
        assert f"基準日 {day.year}年{day.month}月{day.day}日" in ev.reason


def test_a_month_deadline_without_a_status_date_is_judged_at_the_years_end(fy2023):
    """No 基準日 in 設定 means the 対象年度's end, as 一覧's header says (「（３月末時点）」)."""
    ind = _with(fy2023, "10-1", target="2024年3月末まで")
    assert evaluate(ind, "", Context(2023, 0.85, 12)).symbol == MISSED
    assert evaluate(ind, "", Context(2022, 0.85, 12)).symbol == NOT_YET
    month, year = _with(fy2023, "10-1", target="2024年3月末まで"), _with(fy2023, "10-1", target="2023年度まで")
    for fiscal_year in (2022, 2023, 2024):
        ctx = Context(fiscal_year, 0.85, 12)
        assert evaluate(month, "", ctx).symbol == evaluate(year, "", ctx).symbol


def test_municipality_count_comes_from_settings(fy2023):
    ind = _with(fy2023, "28-1")
    assert evaluate(ind, "11市町村", Context(2023, 0.85, 12)).symbol == NEARLY
    assert evaluate(ind, "11市町村", Context(2023, 0.85, 11)).symbol == ACHIEVED


def test_progress_rule(fy2023):
    ind = _with(fy2023, "37-1", rule="進捗率")  # 152 → 238
    ev = evaluate(ind, "230", CTX)
    assert ev.symbol == NEARLY and ev.ratio == 0.907     # (230 − 152)／(238 − 152) = 0.90697…, as printed
    assert "進捗率" in ev.reason
    assert evaluate(ind, "160", CTX).symbol == MISSED


def test_a_progress_reason_shows_the_baseline_as_typed(fy2023):
    """13-1 (25.1万人 → 29.8万人) under 進捗率: the reason printed the 基準値 normalised and
    without its unit, 「(43.9万人 − 251,000)／(29.8万人 − 251,000)」, beside the actual and the
    target as typed; staff check it against 指標's cells. KPI3-1's 「▲2,805」 lost its 人 too."""
    ev = evaluate(_with(fy2023, "13-1", rule="進捗率"), "43.9万人", CTX)
    assert ev.reason == "進捗率 (43.9万人 − 25.1万人)／(29.8万人 − 25.1万人) = 400.0%（100%以上）"
    kpi = evaluate(_with(fy2023, "KPI3-1", is_kpi=False, rule="進捗率"), "▲2,588人", CTX)
    assert kpi.reason.startswith("進捗率 (▲2,588人 − ▲2,805人)／(▲1,400人 − ▲2,805人) = ")


@pytest.mark.parametrize("actual", ["30件", "30.001件"])
def test_no_progress_to_reduce_is_printed_as_none_not_below_zero(fy2023, actual):
    """A target to reduce (30件 → 10件) under 進捗率, the actual still at its 基準値: (30 − 30)／
    (10 − 30) is −0, and 一覧 printed 「= -0.0%」 beside × (a share just short of 0 as well)."""
    import math

    ev = evaluate(_with(fy2023, "04-1", rule="進捗率", baseline="30件", target="10件"), actual, CTX)
    assert ev.symbol == MISSED and ev.reason.endswith("= 0.0%（85%未満）"), ev.reason
    assert ev.ratio == 0 and math.copysign(1, ev.ratio) == 1


def test_a_target_below_zero_is_judged_by_progress_when_chosen(fy2023):
    kpi = _with(fy2023, "KPI3-1", is_kpi=False, rule="進捗率")  # ▲2,805 → ▲1,400
    assert evaluate(kpi, "▲1,300人", CTX).symbol == ACHIEVED
    assert evaluate(kpi, "▲2,588人", CTX).symbol == MISSED


def test_a_target_below_zero_is_not_judged_by_a_rule_the_tool_chose(fy2023):
    """No ratio reaches ▲1,400人, and no official row judged needs the rule inferred: with 評価方法
    blank the row is －, the finding on its 目標値 saying to choose 進捗率 (it was 進捗率 in silence)."""
    kpi = _with(fy2023, "KPI3-1", is_kpi=False)
    ev = evaluate(kpi, "▲1,300人", CTX)
    assert ev.symbol == NOT_EVALUABLE and "0 以下" in ev.reason


def test_a_value_below_zero_is_short_of_a_target_above_zero(fy2023):
    """▲100人 → 50人 with 評価方法 blank is a ratio (no rule inferred from the 基準値); ▲20人,
    which validation accepts as the quantity goes below zero, was － 「負の値のため達成率を
    計算できません」 with no finding. It is short of 50人: ×."""
    ind = _with(fy2023, "26-1", baseline="▲100人（2017年度）", target="50人（毎年度）")
    assert evaluate(ind, "▲20人", CTX).symbol == MISSED
    assert evaluate(ind, "50人", CTX).symbol == ACHIEVED


@pytest.mark.parametrize("actual, symbol", [("78,000人", ACHIEVED), ("90,000人", ACHIEVED), ("70,000人", NEARLY),
                                            ("60,000人", MISSED)])
def test_a_target_below_its_baseline_is_a_ratio_unless_progress_is_chosen(fy2023, actual, symbol):
    """80,000人 (基準値) → 75,000人: a population target lowered since the base year or a number
    to reduce, which the numbers cannot tell. With 評価方法 blank it is SPEC's ratio (78,000人 was
    × at a progress of 40%, 90,000人 × at −200%), with a 警告 on 評価方法 (test_judgeable);
    「進捗率」 chosen judges the reduction."""
    ind = _with(fy2023, "26-1", baseline="80,000人（2017年度）", target="75,000人（毎年度）")
    assert evaluate(ind, actual, CTX).symbol == symbol
    assert evaluate(ind._replace(rule="比率"), actual, CTX).symbol == symbol
    progress = evaluate(ind._replace(rule="進捗率"), actual, CTX)
    assert "進捗率" in progress.reason and progress.symbol == (ACHIEVED if actual in ("70,000人", "60,000人") else MISSED)


def test_kpi_and_reference_rows_are_not_evaluated(fy2023):
    assert evaluate(_with(fy2023, "KPI1-2"), "50,000千人", CTX).symbol == NOT_EVALUABLE
    assert evaluate(_with(fy2023, "06-1", rule="参考"), "9件", CTX).symbol == NOT_EVALUABLE


def test_meta_row_reacts_to_other_rows(fy2023):
    # Take the 11 × rows other than the meta row out of the count (評価方法 参考):
    # 52／60 = 86.7%, so the meta row itself becomes □ (85% or more), still counted.
    entries = list(fy2023.entries)
    inds = []
    for ind in fy2023.indicators:
        if fy2023.official[ind.id] == MISSED and ind.id != "01-1":
            ind = ind._replace(rule="参考")
        inds.append(ind)
    res = recalculate(fy2023.settings, inds, entries)
    assert res.summary.fraction_text == "52／60"
    assert res.evaluations["01-1"].symbol == NEARLY
    assert res.consolidated["01-1"].actual == "86.7%"


@pytest.mark.parametrize("kept", [(), ("23-1",)])
def test_the_rate_row_is_not_judged_on_itself_alone(fy2023, kept):
    """A year's master before anything is collected (FY2022: every deadline still ahead, no
    実績値): every row is ―, and the 達成割合 row counted itself alone, 「1／1 = 100.0%」 ◎ on
    一覧 and 集計 for the whole vision (0／1 × counts itself as well). With no other row
    ◎□× there is no rate; one row judged (23-1 維持) gives one again."""
    import datetime as dt

    settings = fy2023.settings._replace(fiscal_year=2022, base_date=dt.date(2023, 3, 31))
    inds = [i._replace(actual_manual="") for i in fy2023.indicators]
    entries = [e if e.indicator_id in kept else e._replace(value="", denominator="") for e in fy2023.entries]
    res = recalculate(settings, inds, entries)
    assert not [f for f in res.findings if f.is_error]
    meta = res.evaluations["01-1"]
    if kept:
        assert (meta.symbol, res.summary.fraction_text, res.consolidated["01-1"].actual) == (ACHIEVED, "2／2", "100.0%")
        return
    assert {e.symbol for i, e in res.evaluations.items() if not i.startswith("KPI")} == {NOT_YET}, meta
    assert meta.ratio is None and "計算しません" in meta.reason
    assert res.consolidated["01-1"].actual == "－"
    assert (res.summary.achieved, res.summary.evaluable, res.summary.rate) == (0, 0, None)
    assert res.summary.rate_line == "達成割合: 評価できる指標がありません"
    from renkei_xl.core.gaps import step_rows     # 次の一歩 says when the row will be counted
    step = next(r for r in step_rows(res, entries, settings, {}) if r[0] == "01-1")
    assert step[3] == NOT_YET and "評価" in step[6] and "出てから" in step[6], step


def _recalculated(fy2023, changed: dict, extra=()):
    """FY2023 with some 指標 rows changed (指標ID → fields) and rows added after them."""
    cells = {f: f"{col}{{row}}" for f, col in (("id", "A"), ("target", "H"), ("baseline", "G"),
                                              ("method", "I"), ("rule", "J"), ("is_kpi", "M"))}
    inds = []
    for row, ind in enumerate([*fy2023.indicators, *extra], start=2):
        ind = ind._replace(sheet="指標", cells={f: ref.format(row=row) for f, ref in cells.items()})
        inds.append(ind._replace(**changed.get(ind.id, {})) if row - 2 < len(fy2023.indicators) else ind)
    return recalculate(fy2023.settings, inds, list(fy2023.entries))


@pytest.mark.parametrize("ind_id, changes, finding", [
    ("04-1", {"rule": "比較"}, "unknown-rule"),              # was judged by the inferred rule: ◎
    ("04-1", {"target": ""}, "missing-field"),
    ("04-1", {"target": "約20件"}, "approximate-value"),
])
def test_a_row_whose_definition_validation_refuses_is_not_judged_by_a_guess(fy2023, ind_id, changes, finding):
    """validate calls the row's 評価方法 or 目標値 an error: the row is － naming the cell, and
    達成割合 leaves it out and says so (before, a rule guessed without it gave ◎)."""
    res = _recalculated(fy2023, {ind_id: changes})
    ev = res.evaluations[ind_id]
    assert ev.symbol == NOT_EVALUABLE and "指標!" in ev.reason, ev
    assert any(f.type == finding and f.indicator_id == ind_id for f in res.findings)
    assert res.summary.fraction_text == "51／70" and res.summary.left_out == 1


def test_a_repeated_indicator_id_is_counted_once_and_said(fy2023):
    """04-1 pasted twice: both copies ◎ made 53／72. Which copy holds the real target cannot
    be told, so neither is judged, and 達成割合 says the rows it leaves out."""
    again = next(i for i in fy2023.indicators if i.id == "04-1")
    res = _recalculated(fy2023, {}, extra=[again])
    assert res.evaluations["04-1"].symbol == NOT_EVALUABLE and "重複" in res.evaluations["04-1"].reason
    assert res.summary.fraction_text == "51／70" and res.summary.left_out == 2


@pytest.mark.parametrize("changes", [{"target": ""}, {"target": "#N/A"}, {"id": "#N/A"}, {"method": "#N/A"}])
def test_a_rate_row_an_error_makes_unjudged_is_said_left_out_as_any_row(fy2023, changes):
    """An error on the 達成割合 row's own 目標値 or 指標ID made it － and the rate 52／70 without
    「（入力エラーで評価不可の1件を除く）」, which an error in its 集計方法 did say."""
    res = _recalculated(fy2023, {"01-1": changes})
    assert res.summary.fraction_text == "52／70" and res.summary.left_out == 1, res.summary
    assert "評価不可の1件を除く" in res.summary.line()


@pytest.mark.parametrize("changes", [{"is_kpi": True}, {"rule": "参考"}])
def test_a_rate_row_marked_kpi_or_reference_is_not_judged_nor_counts_itself(fy2023, changes):
    res = _recalculated(fy2023, {"01-1": changes})
    assert res.evaluations["01-1"].symbol == NOT_EVALUABLE
    assert res.summary.fraction_text == "52／70"


def test_a_second_rate_row_or_a_rate_target_that_is_no_share_is_an_error_and_not_judged(fy2023):
    meta = next(i for i in fy2023.indicators if i.id == "01-1")
    res = _recalculated(fy2023, {}, extra=[meta._replace(id="01-9")])
    assert [f.type for f in res.findings if f.indicator_id == "01-9"] == ["second-rate-row"]
    assert res.evaluations["01-9"].symbol == NOT_EVALUABLE and res.evaluations["01-1"].symbol == MISSED
    assert res.summary.fraction_text == "52／71"
    res = _recalculated(fy2023, {"01-1": {"target": "60件（毎年度）"}})
    assert [f.type for f in res.findings if f.indicator_id == "01-1"] == ["rate-target"]
    assert res.evaluations["01-1"].symbol == NOT_EVALUABLE and res.summary.fraction_text == "52／70"


@pytest.mark.parametrize("target, share", [("80%", 0.8), ("100％（毎年度）", 1.0), ("0.8", 0.8), ("150%", 1.5),
                                           ("5", None), ("60件（毎年度）", None), ("0%", None)])
def test_the_rate_rows_target_is_read_as_a_share_once(fy2023, target, share):
    """What RATE_TARGET refuses as no share is what the row's own target (rules.rate_target)
    leaves at 100 %: each read 目標値 its own way, and 「5」 was refused while the row's
    printed edges (shown_ratio) were put at 500 %."""
    from renkei_xl.core.rules import rate_target

    res = _recalculated(fy2023, {"01-1": {"target": target}})
    refused = [f.type for f in res.findings if f.indicator_id == "01-1"] == ["rate-target"]
    assert refused == (share is None)
    meta = next(i for i in res.indicators if i.id == "01-1")
    assert rate_target(meta) == (1.0 if share is None else share)


@pytest.mark.parametrize("actual, symbol, shown", [
    ("253,299人", MISSED, "84.9%"),      # 84.9996 %: 「85.0%」 beside a × read as 概ね達成
    ("253,300人", NEARLY, "85.0%"),      # exactly 85 %
    ("297,990人", NEARLY, "99.9%"),      # 99.9966 %: never 「100.0%」 beside a □
    ("272,800人", NEARLY, "91.5%"),      # 91.54 %: to nearest elsewhere
    ("272,950人", NEARLY, "91.6%"),      # 91.5940 %
])
def test_a_ratio_is_never_printed_at_a_band_it_does_not_reach(fy2023, actual, symbol, shown):
    """The symbol is judged on the exact ratio; the 達成率 printed beside it (reason, and
    the 達成率 cell: Evaluation.ratio) is to 0.1 %, and rounded down where rounding would
    reach 100 % or the threshold the ratio is below (13-1's target is 29.8万人)."""
    ind = next(i for i in fy2023.indicators if i.id == "13-1")
    ev = evaluate(ind, actual, Context(2023, 0.85, 12))
    assert ev.symbol == symbol
    assert f"= {shown}（" in ev.reason, ev.reason
    assert f"{ev.ratio * 100:.1f}%" == shown


def test_every_printed_ratio_shows_as_its_reason_says(result):
    """One number per 達成率: the cell Excel shows with 「0.0%」 and the reason's text agree
    (0.74648 was stored as 0.7465, which Excel shows as 74.7%, beside a text of 74.6%)."""
    from decimal import ROUND_HALF_UP, Decimal

    for ind_id, ev in result.evaluations.items():
        if ev.ratio is None:
            continue
        excel = Decimal(repr(ev.ratio * 100)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        assert f"= {excel}%" in ev.reason or f"= {excel}%".replace(".0%", "%") in ev.reason, (ind_id, ev)
    assert result.evaluations["01-1"].ratio == 0.732


def test_the_rate_row_is_never_printed_at_a_band_it_does_not_reach(fy2023):
    """概ね達成閾値 85.5 %, 47／55 = 85.45 %: × (the rate counts itself), and every place that
    prints the 達成割合 said 「85.5%」 while its 達成率 cell held 85.4 %. The share's edges are
    its target's (100 %, 85.5 %): it prints 「85.4%」 everywhere, as a ratio does."""
    from renkei_xl.core.model import EVALUABLE

    settings = fy2023.settings._replace(threshold=0.855)
    base = recalculate(settings, fy2023.indicators, fy2023.entries)
    done = [i for i, e in base.evaluations.items() if i != "01-1" and e.symbol == ACHIEVED]
    other = [i for i, e in base.evaluations.items() if i != "01-1" and e.symbol in EVALUABLE and e.symbol != ACHIEVED]
    drop = set(done[: len(done) - 47]) | set(other[: len(other) - 7])     # 47 ◎ and 7 others left
    result = recalculate(settings, [i._replace(rule="参考") if i.id in drop else i for i in fy2023.indicators],
                         fy2023.entries)
    ev = result.evaluations["01-1"]
    assert ev.symbol == MISSED and result.summary.fraction_text == "47／55"
    assert "= 85.4%（" in ev.reason and result.consolidated["01-1"].actual == "85.4%"
    assert ev.ratio == 0.854 and result.summary.rate_text == "85.4%"


@pytest.mark.parametrize("target, rule, numerator, denominator, symbol, actual", [
    ("70%（毎年度）", "", "5949", "10000", MISSED, "59.4%"),      # 84.99 % of 70 %: 「59.5%」 is exactly 85 %
    ("70%（毎年度）", "", "5950", "10000", NEARLY, "59.5%"),
    ("70%（毎年度）", "", "69996", "100000", NEARLY, "69.9%"),   # 69.996 %: 「70.0%」 would be ◎
    ("70%（毎年度）", "", "7", "10", ACHIEVED, "70.0%"),
    ("73.3%（毎年度）", "", "6231", "10000", NEARLY, "62.4%"),   # 85.007 % of 73.3 %: 「62.3%」 is 84.99 %
    ("80%（毎年度）", "進捗率", "7549", "10000", MISSED, "75.4%"),   # from 50 %: 「75.5%」 is 85 % of the way
    ("80%（毎年度）", "進捗率", "7996", "10000", NEARLY, "79.9%"),
])
def test_a_ratio_rows_rate_is_judged_as_it_is_printed(fy2023, target, rule, numerator, denominator, symbol, actual):
    """A 比率 row's 実績値 is Σ実績値／Σ分母 printed to 0.1 %, and the row is judged on that
    text: 5,949／10,000 printed 「59.5%」 against 「70%」 was □ at 85.0 %, 69,996／100,000
    printed 「70.0%」 was ◎, though neither reaches the band. The rate is printed on the side
    of each band's edge that the exact rate is on, so the text, the 達成率 and the symbol
    agree with the exact rate."""
    from renkei_xl.core.values import parse_value

    entries = [e._replace(value=numerator, denominator=denominator) if (e.indicator_id, e.municipality) == ("40-4", "札幌市")
               else e for e in fy2023.entries]
    changes = {"target": target, "rule": rule, "baseline": "50%" if rule else "－"}
    inds = [i._replace(**changes) if i.id == "40-4" else i for i in fy2023.indicators]
    result = recalculate(fy2023.settings, inds, entries)
    ev, shown = result.evaluations["40-4"], result.consolidated["40-4"].actual
    assert (ev.symbol, shown) == (symbol, actual), ev
    assert not [f for f in result.findings if f.indicator_id == "40-4"]
    assert parse_value(shown).number * 10 % 1 == 0   # still to 0.1 %


def test_a_rate_past_28_digits_is_judged_and_printed(fy2023):
    """999,999,999,999円 against 0.000000000000000001円 (both values the parser reads) is a
    rate of 10^32: rounding it to 0.1 % in Decimal's default 28 digits raised
    InvalidOperation, and recalc ended in 「予期しないエラー」."""
    ind = next(i for i in fy2023.indicators if i.id == "46-1")._replace(target="0.000000000000000001円")
    ev = evaluate(ind, "999,999,999,999円", Context(2023, 0.85, 12))
    assert ev.symbol == ACHIEVED and ev.ratio > 1e29 and "%（100%以上）" in ev.reason

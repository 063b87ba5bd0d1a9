"""SPEC 3's evaluation rules written again from the SPEC's words, as an oracle independent
of renkei_xl.core.rules, and compared with the whole pure recalculation on generated
indicators: another year's targets, thresholds, 集計方法 and municipalities.

The oracle works in exact fractions (SPEC: 「◎ ≥ 100 %, □ ≥ 概ね達成閾値, × below」), so a
value one step either side of an edge is judged by which side it is on."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, example, given, settings as hsettings, strategies as st

from renkei_xl.core.model import ACHIEVED, MISSED, NEARLY, NOT_YET, Entry, Indicator, Municipality, Settings
from renkei_xl.core.pipeline import recalculate

NAMES = ("札幌市", "小樽市", "岩見沢市", "江別市", "千歳市", "恵庭市", "北広島市", "石狩市", "当別町", "新篠津村",
         "南幌町", "長沼町")
FAST = hsettings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- the oracle: SPEC 3, from its text ----------------------------------------------------

def band(ratio: Fraction, threshold: Fraction) -> str:
    """numeric target: ◎ ≥ 100 %, □ ≥ 概ね達成閾値, × below."""
    if ratio >= 1:
        return ACHIEVED
    return NEARLY if ratio >= threshold else MISSED


def numeric(actual: Fraction, target: Fraction, threshold: Fraction) -> str:
    return band(actual / target, threshold)


def progress(actual: Fraction, base: Fraction, target: Fraction, threshold: Fraction) -> str:
    """進捗率 = (実績−基準)/(目標−基準)."""
    return band((actual - base) / (target - base), threshold)


def deadline(done: bool, empty: bool, year: int, fiscal_year: int) -> str:
    """◎ once completed; before the deadline year and not completed ―; in or after it ×."""
    if done:
        return ACHIEVED
    return NOT_YET if fiscal_year < year else MISSED


def meta(others: list[str], threshold: Fraction, target: Fraction = Fraction(1)) -> tuple[str, int, int]:
    """達成割合 = ◎ / (◎ + □ + ×), counting itself: the symbol s with s == band(rate(s)),
    the rate judged as a numeric target's ratio against the row's own 目標値."""
    a = others.count(ACHIEVED)
    n = sum(s in (ACHIEVED, NEARLY, MISSED) for s in others) + 1
    for s in (ACHIEVED, NEARLY, MISSED):
        if band(Fraction(a + (s == ACHIEVED), n) / target, threshold) == s:
            return s, a + (s == ACHIEVED), n
    raise AssertionError("no fixed point")


# --- the product ----------------------------------------------------------------------------

def _settings(threshold: Decimal, count: int = 12, year: int = 2023) -> Settings:
    towns = tuple(Municipality(n, "中心市" if i == 0 else "連携市町村") for i, n in enumerate(NAMES[:count]))
    return Settings("さっぽろ連携中枢都市圏", year, None, float(threshold), towns)


def _row(target: str, *, method: str = "手入力", actual: str = "", baseline: str = "", rule: str = "",
         ind_id: str = "01-1") -> Indicator:
    return Indicator(ind_id, "役割", 1, "事業", "概要", "指標", baseline, target, method, rule, actual)


def _judged(settings: Settings, rows, entries=()):
    result = recalculate(settings, rows, list(entries))
    errors = [f for f in result.findings if f.is_error]
    assert not errors, errors
    return result


def _dec(x: Fraction | Decimal) -> str:
    return format(Decimal(x.numerator) / Decimal(x.denominator) if isinstance(x, Fraction) else x, "f")


# 設定's 概ね達成閾値 to 0.1 % (SPEC: 0.85): a 達成率 is printed to 0.1 %, so a threshold of
# 99.95 % leaves no printed rate between it and 100 % (SPEC is silent on the digits).
thresholds = st.decimals(min_value=Decimal("0.5"), max_value=Decimal("1"), places=3)
amounts = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("10000000"), places=3)


@st.composite
def on_edges(draw, target: Decimal, threshold: Decimal, places: int = 12) -> Decimal:
    """An actual on a band edge (100 %, the threshold), one step either side, or anywhere."""
    edge = draw(st.sampled_from([target, target * threshold]))
    step = Decimal(1).scaleb(-draw(st.integers(0, places)))
    kind = draw(st.sampled_from(["on", "below", "above", "free"]))
    if kind == "free":
        return draw(st.decimals(min_value=Decimal(0), max_value=target * 2, places=3))
    return edge + {"on": 0, "below": -step, "above": step}[kind]


def _printed_ok(ratio: float, exact: Fraction, symbol: str, threshold: Fraction) -> None:
    """The 達成率 printed beside the symbol is within 0.1 % of the exact ratio and reads as
    the symbol's band (no 「85.0%」 beside ×, no 「100.0%」 beside □)."""
    shown = Fraction(Decimal(repr(ratio)))
    assert abs(shown - exact) <= Fraction(1, 1000) + Fraction(1, 10**9), (ratio, float(exact))
    assert band(shown, threshold) == symbol, (ratio, float(exact), symbol)


@FAST
@given(st.data(), thresholds, amounts, st.sampled_from(["円", "人", "%"]))
def test_a_numeric_target_is_judged_by_its_exact_ratio(data, threshold, target, unit):
    if unit == "人":
        target = target.to_integral_value() or Decimal(1)
    actual = data.draw(on_edges(target, threshold, 0 if unit == "人" else 12))
    assume(actual >= 0 and (unit != "人" or actual == actual.to_integral_value()))
    row = _row(f"{_dec(target)}{unit}", actual=f"{_dec(actual)}{unit}")
    ev = _judged(_settings(threshold), [row]).evaluations["01-1"]
    exact, t = Fraction(actual) / Fraction(target), Fraction(threshold)
    assert ev.symbol == numeric(Fraction(actual), Fraction(target), t), (row.target, row.actual_manual, ev)
    _printed_ok(ev.ratio, exact, ev.symbol, t)


@FAST
@given(st.data(), thresholds, st.integers(1, 12), st.integers(1, 5000))
def test_a_sum_over_the_municipalities_is_judged_against_its_target(data, threshold, count, target):
    values = data.draw(st.lists(st.integers(0, 600), min_size=count, max_size=count))
    settings = _settings(threshold, count)
    row = _row(f"{target}件", method="合計")
    entries = [Entry(n, "01-1", f"{v}") for n, v in zip(settings.names, values)]
    result = _judged(settings, [row], entries)
    ev = result.evaluations["01-1"]
    assert result.consolidated["01-1"].actual == f"{sum(values):,}件"
    assert ev.symbol == numeric(Fraction(sum(values)), Fraction(target), Fraction(threshold))


@FAST
@given(st.data(), thresholds, st.integers(1, 12))
def test_a_share_over_the_municipalities_is_judged_on_the_exact_share(data, threshold, count):
    settings = _settings(threshold, count)
    dens = data.draw(st.lists(st.integers(1, 100000), min_size=count, max_size=count))
    nums = [data.draw(st.integers(0, d)) for d in dens]
    target = data.draw(st.decimals(min_value=Decimal("0.1"), max_value=Decimal(100), places=2))
    percent = data.draw(st.booleans())
    row = _row(f"{_dec(target)}%" if percent else f"{_dec(target)}％", method="比率")
    entries = [Entry(n, "01-1", str(v), str(d)) for n, v, d in zip(settings.names, nums, dens)]
    ev = _judged(settings, [row], entries).evaluations["01-1"]
    share = Fraction(sum(nums), sum(dens)) * 100
    assert ev.symbol == numeric(share, Fraction(target), Fraction(threshold)), (sum(nums), sum(dens), target, ev)


@FAST
@given(st.data(), thresholds, st.integers(-5000, 5000), st.integers(-5000, 5000))
def test_a_progress_rate_is_judged_either_way_it_goes(data, threshold, base, target):
    assume(base != target)
    low, high = sorted((base, target))
    actual = data.draw(st.integers(low - 100 if low < 0 else 0, high + 100))   # a count goes below 0 only
    # where its 基準値 or 目標値 does (validate: 負の値)
    t = Fraction(threshold)
    edge = base + (target - base) * t   # the threshold's edge, hit when it is a whole number
    if edge.denominator == 1 and data.draw(st.booleans()):
        actual = int(edge) + data.draw(st.sampled_from([-1, 0, 1]))
    row = _row(f"{target}人", actual=f"{actual}人", baseline=f"{base}人", rule="進捗率")
    ev = _judged(_settings(threshold), [row]).evaluations["01-1"]
    assert ev.symbol == progress(Fraction(actual), Fraction(base), Fraction(target), t), (row, ev)


@FAST
@given(thresholds, st.integers(2015, 2035), st.integers(2015, 2035), st.sampled_from(["策定", "未完了", ""]),
       st.sampled_from(["{y}年度まで", "{y}年度"]))
def test_a_deadline_is_judged_against_the_year(threshold, year, fiscal_year, actual, form):
    target = form.format(y=year)
    row = _row(target, actual=actual, rule="期限")
    ev = _judged(_settings(threshold, year=fiscal_year), [row]).evaluations["01-1"]
    expected = deadline(actual == "策定", actual == "", year, fiscal_year)
    if actual == "" and expected == MISSED:
        return   # SPEC says ― for an empty actual before the deadline only; after it, it is silent
    assert ev.symbol == expected, (target, actual, fiscal_year, ev)


@FAST
@given(thresholds, st.lists(st.sampled_from([ACHIEVED, NEARLY, MISSED]), min_size=1, max_size=80),
       st.sampled_from([("100％（毎年度）", Fraction(1)), ("80%", Fraction(4, 5)), ("0.7", Fraction(7, 10)),
                        ("66.67％", Fraction(6667, 10000))]))
def test_the_achievement_rate_counts_itself(threshold, symbols, meta_target):
    t = Fraction(threshold)
    # one row per wanted symbol: 10件 of 10件 ◎, the threshold's share of 10000件 □, 0件 ×
    nearly = -(-Fraction(threshold) * 10000 // 1)
    assume(nearly < 10000 or NEARLY not in symbols)
    actual = {ACHIEVED: "10件", NEARLY: f"{nearly}件", MISSED: "0件"}
    target = {ACHIEVED: "10件", NEARLY: "10000件", MISSED: "10件"}
    rows = [_row(target[s], actual=actual[s], ind_id=f"{i + 2:02d}-1") for i, s in enumerate(symbols)]
    rows.append(_row(meta_target[0], method="自動", ind_id="01-1"))
    result = _judged(_settings(threshold), rows)
    symbol, achieved, evaluable = meta(symbols, t, meta_target[1])
    ev = result.evaluations["01-1"]
    assert (ev.symbol, result.summary.achieved, result.summary.evaluable) == (symbol, achieved, evaluable)
    _printed_ok(ev.ratio, Fraction(achieved, evaluable) / meta_target[1], symbol, t)


@pytest.mark.parametrize("target, actual, symbol, printed", [
    ("27兆９千億円", "27兆8999億9999万9990円", NEARLY, 0.999),     # 10円 short of 100 %
    ("27兆９千億円", "27兆9千億円", ACHIEVED, 1.0),
    ("1円", "0.999999999999円", NEARLY, 0.999),
    ("1兆円", "8499億9999万9999円", MISSED, 0.849),               # 1円 short of 85 %
    ("1兆円", "8500億円", NEARLY, 0.85),
])
def test_a_value_a_hair_under_an_edge_is_under_it(target, actual, symbol, printed):
    """SPEC 3: ◎ ≥ 100 %, □ ≥ 概ね達成閾値. The bands were drawn on a float ratio with a
    tolerance of 1e-12, so an actual 10円 short of 27兆9千億円 was ◎ at 「100.0%」."""
    ev = _judged(_settings(Decimal("0.85")), [_row(target, actual=actual)]).evaluations["01-1"]
    assert (ev.symbol, ev.ratio) == (symbol, printed), ev


@pytest.mark.parametrize("target, numerator, denominator, symbol, shown", [
    ("70%", 594_999_999_999, 10**12, MISSED, "59.4%"),      # a hair under 70 % × 0.85
    ("70%", 595, 1000, NEARLY, "59.5%"),
    ("70%", 699_999_999_999, 10**12, NEARLY, "69.9%"),      # a hair under 70 %
    ("70%", 7, 10, ACHIEVED, "70.0%"),
    # no 0.1 % step between 0.085 % and 0.1 %: printed with the decimals the share needs
    ("0.10%", 1, 1001, NEARLY, "0.09%"),        # 0.0999 %: 「0.1%」 would read ◎, 「0.0%」 ×
    ("0.10%", 1, 1177, MISSED, "0.0%"),         # 0.0849 %: one decimal is enough
    ("0.10%", 1, 1000, ACHIEVED, "0.1%"),
    ("0.5%", 1, 201, NEARLY, "0.49%"),
])
def test_a_share_a_hair_under_an_edge_is_printed_and_judged_under_it(target, numerator, denominator, symbol, shown):
    """A 比率 row is judged on its printed 実績値 (SPEC 3: ◎ ≥ 100 %, □ ≥ 概ね達成閾値 of the
    exact Σ実績値／Σ分母)."""
    settings = _settings(Decimal("0.85"), 2)
    half = numerator // 2, denominator // 2
    entries = [Entry("札幌市", "01-1", str(half[0]), str(half[1])),
               Entry("小樽市", "01-1", str(numerator - half[0]), str(denominator - half[1]))]
    result = _judged(settings, [_row(target, method="比率")], entries)
    assert (result.evaluations["01-1"].symbol, result.consolidated["01-1"].actual) == (symbol, shown)


@FAST
@given(st.data(), thresholds, st.integers(1, 12))
def test_every_municipality_is_the_count_in_settings(data, threshold, count):
    """全市町村: the denominator is the number of municipalities in 設定 (11／12 → □)."""
    settings = _settings(threshold, count)
    values = data.draw(st.lists(st.integers(0, 3), min_size=count, max_size=count))
    entries = [Entry(n, "01-1", str(v)) for n, v in zip(settings.names, values)]
    ev = _judged(settings, [_row("全市町村", method="参加市町村数")], entries).evaluations["01-1"]
    taking = sum(v > 0 for v in values)
    assert ev.symbol == numeric(Fraction(taking), Fraction(count), Fraction(threshold)), (values, ev)


@FAST
@given(st.data(), thresholds, st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=2),
       st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=2))
def test_a_progress_rate_in_percent_is_judged_on_its_exact_rate(data, threshold, base, target):
    assume(base != target)
    t = Fraction(threshold)
    edge = Fraction(base) + (Fraction(target) - Fraction(base)) * t
    step = Fraction(1, 10 ** data.draw(st.integers(2, 10)))
    actual = data.draw(st.sampled_from([edge, edge - step, edge + step, Fraction(target), Fraction(target) - step]))
    assume(0 <= actual <= 100 and (actual * 10**10).denominator == 1)
    row = _row(f"{_dec(target)}%", actual=f"{_dec(actual)}%", baseline=f"{_dec(base)}%", rule="進捗率")
    ev = _judged(_settings(threshold), [row]).evaluations["01-1"]
    exact = (actual - Fraction(base)) / (Fraction(target) - Fraction(base))
    assert ev.symbol == band(exact, t), (row.baseline, row.target, row.actual_manual, ev)
    _printed_ok(ev.ratio, exact, ev.symbol, t)


def test_a_threshold_a_formula_computed_is_the_one_excel_shows():
    """「=0.8+0.05」 in 設定 is 0.8500000000000001 in the file, 85% on screen (Excel keeps 15
    significant digits): 17件 of 20件 is □ (SPEC 3: □ ≥ 概ね達成閾値), as at 0.85 typed."""
    from test_hostile_values import _book
    from renkei_xl.core.contract_read import read_settings

    read = read_settings(_book(threshold=0.8 + 0.05))
    assert read.threshold == 0.85
    settings = _settings(Decimal("0.85"))._replace(threshold=read.threshold)
    assert _judged(settings, [_row("20件", actual="17件")]).evaluations["01-1"].symbol == NEARLY


@pytest.mark.parametrize("target, actual, baseline, rule, fiscal_year, symbol", [
    # a state reached by a later year: SPEC 3's deadline, not completed before its year ―, in it ×
    ("開設（2025年度まで）", "未開設", "", "", 2023, NOT_YET),
    ("開設（2025年度まで）", "未開設", "", "", 2025, MISSED),
    ("開設（2025年度）", "未開設", "", "", 2024, NOT_YET),
    # a number by a later year: 「未実施」 is short of it as 0件 is (― before the year)
    ("10件（2025年度まで）", "未実施", "", "", 2023, NOT_YET),
    ("10件（2025年度まで）", "未実施", "", "", 2025, MISSED),
    ("各2回（2025年度まで）", "1回", "", "", 2023, NOT_YET),
    ("各１回（2025年度まで）", "各0回", "", "", 2023, NOT_YET),
    ("各１回（2025年度まで）", "各0回", "", "", 2026, MISSED),
    # a progress rate towards a later year's target, as a ratio towards it
    ("120人（2025年度まで）", "110人", "100人", "進捗率", 2023, NOT_YET),
    ("120人（2025年度まで）", "110人", "100人", "進捗率", 2025, MISSED),
    ("120人（2025年度まで）", "120人", "100人", "進捗率", 2023, ACHIEVED),
    # a state kept through a year is failed the year it is not kept
    ("維持（2025年度まで）", "未達成", "", "", 2023, MISSED),
    ("常時（2030年度まで）", "なし", "", "", 2023, MISSED),
    # met every year up to a year: each year is judged by itself (100／120 = 83.3 %)
    ("120名（2025年度までの毎年度）", "100名", "", "", 2023, MISSED),
    ("120名（2025年度までの毎年度）", "103名", "", "", 2023, NEARLY),
    ("120名（2025年度までの毎年度）", "未実施", "", "", 2023, MISSED),
    ("開設（2025年度までの毎年度）", "未開設", "", "", 2023, MISSED),
    # a calendar year's figure, in the 年度 of its number (deadlines.past_targets reads it so)
    ("15社（2025年）", "10社", "", "", 2023, NOT_YET),
    ("15社（2025年）", "10社", "", "", 2025, MISSED),
    ("▲1,400人（2025年）", "▲700人", "0人", "進捗率", 2024, NOT_YET),
])
def test_a_target_is_judged_in_the_year_it_names_whatever_the_rule(target, actual, baseline, rule, fiscal_year,
                                                                   symbol):
    """SPEC 3: a target to reach by a year is ― before that year while not reached (as
    「2025年度まで」 is, and a ratio to 「10件（2025年度まで）」 was at 5件), × in or after it.
    Only the ratio said so: 「未開設」 for 「開設（2025年度まで）」, 「未実施」 for 「10件（2025年度
    まで）」 and a 進捗率 at 50 % were × two years early, and 「120名（2025年度までの毎年度）」,
    due every year, was ― as if due in 2025年度."""
    row = _row(target, actual=actual, baseline=baseline, rule=rule)
    ev = _judged(_settings(Decimal("0.85"), year=fiscal_year), [row]).evaluations["01-1"]
    assert ev.symbol == symbol, (target, actual, fiscal_year, ev)


@pytest.mark.parametrize("target, actual", [
    ("開設", "開設済み"), ("開設", "開設済"), ("開催（毎年度）", "開催済み"), ("2025年度まで", "完了済み"),
    ("実施", "達成済み"), ("毎年度", "開始済み"), ("2023年度まで", "検討完了済み"), ("実施", "実施済み"),
])
def test_a_state_spelt_with_zumi_is_the_state(target, actual):
    """「開設済み」 reports 開設 as 「実施済み」 reports 実施 (choices.STATE_SPELLINGS), and
    「達成済み」 is the legend's own word for ◎: only 実施・策定・構築 were read so, the others
    「読めません」, an input error and the row －."""
    ev = _judged(_settings(Decimal("0.85")), [_row(target, actual=actual)]).evaluations["01-1"]
    assert ev.symbol == ACHIEVED, ev

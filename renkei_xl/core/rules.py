"""The evaluation rules: from a target and an actual to ◎ □ × － ― with a reason.

Every result carries its reason in Japanese (「9件／10件 = 90.0%（85%以上）」) so staff can
check a symbol without reading code. The rule is inferred from the target's shape unless
評価方法 overrides it. The meta row 「達成割合」 is not decided here but in
``achievement_rate`` below, because it depends on every other row and on itself.
"""

# No ``from __future__ import annotations``: typing.NamedTuple compiles each string
# annotation (a ForwardRef) when the module is imported, at every command's start.

from decimal import Decimal
from typing import Iterable, NamedTuple, Optional

from .choices import RULE_DEADLINE, RULE_PROGRESS, RULE_RATIO, RULE_REFERENCE, RULE_STATE
from .model import ACHIEVED, EVALUABLE, MISSED, NEARLY, NOT_EVALUABLE, NOT_YET, Evaluation, Indicator, Settings
from .methods import PARTICIPANT_UNIT
from .values import (DEADLINE, INPUT_ERROR, NUMBER, STATUS, UNCOUNTED, Value, ValueParseError,
                     format_number, format_percent, parse_value)

ALL_MUNICIPALITIES = "全市町村"
# Actual words that confirm any status or annual target ("did it this year").
GENERIC_DONE = {"実施", "実施済", "実施済み", "開催", "達成", "完了"}


class Context(NamedTuple):
    """What a judgement needs beyond the row: the year, 設定's threshold and how many
    municipalities 「全市町村」 means (all three come from 設定; none is guessed)."""
    fiscal_year: int
    threshold: float
    municipality_count: int


def context_of(settings: Settings) -> Context:
    return Context(settings.fiscal_year, settings.threshold, max(len(settings.municipalities), 1))


def threshold_text(threshold: float) -> str:
    return format_percent(threshold, None)


# A ratio is printed to one decimal; compare with a tolerance so 85.0% really is 85%.
RATIO_TOLERANCE = 1e-12


def symbol_for_ratio(ratio: float, threshold: float) -> str:
    """◎ at 100% and above, □ at the threshold and above, × below: the one place the bands
    are drawn (ratios, progress rates and the 達成割合 row all come here)."""
    if ratio >= 1 - RATIO_TOLERANCE:
        return ACHIEVED
    if ratio >= threshold - RATIO_TOLERANCE:
        return NEARLY
    return MISSED


def band_text(symbol: str, threshold: float) -> str:
    """The band a symbol stands for, as the reasons print it: 100%以上 / 85%以上 / 85%未満."""
    if symbol == ACHIEVED:
        return "100%以上"
    return threshold_text(threshold) + ("以上" if symbol == NEARLY else "未満")


def _ratio_reason(actual: str, target: str, ratio: float, threshold: float) -> str:
    return f"{actual}／{target} = {format_percent(ratio)}（{band_text(symbol_for_ratio(ratio, threshold), threshold)}）"


def evaluate(ind: Indicator, actual_text: str, ctx: Context) -> Evaluation:
    """Evaluate one indicator from its target and the (consolidated) actual."""
    def result(symbol: str, reason: str, ratio: Optional[float] = None) -> Evaluation:
        return Evaluation(ind.id, symbol, reason, ratio)

    if actual_text == INPUT_ERROR:
        # Consolidation refused the inputs; the pipeline names the bad cell in the reason.
        return result(NOT_EVALUABLE, "実績値に入力エラーがあるため評価不可（検証結果を確認してください）")
    if ind.is_kpi:
        return result(NOT_EVALUABLE, "基本KPI（参考指標のため評価しない）")
    if ind.rule == RULE_REFERENCE:
        return result(NOT_EVALUABLE, "評価方法「参考」のため評価しない")
    try:
        target = parse_value(ind.target)
    except ValueParseError as exc:
        return result(NOT_EVALUABLE, f"目標値を解釈できません: {exc}")
    try:
        actual = parse_value(actual_text)
    except ValueParseError as exc:
        return result(NOT_EVALUABLE, f"実績値を解釈できません: {exc}")
    if target.is_empty:
        return result(NOT_EVALUABLE, "目標値がありません")

    rule = ind.rule or _infer_rule(target)
    if rule == RULE_DEADLINE:
        return _deadline(ind, target, actual, ctx, result)
    if actual.kind == UNCOUNTED:
        return result(NOT_YET, "実績値が未集計")
    if actual.is_empty:
        return _empty_actual(target, ctx, result)
    if actual.kind == STATUS and actual.negative:
        return result(MISSED, f"実績「{actual.core}」（目標「{target.core}」）")
    if rule == RULE_STATE:
        return _state(target, actual, result)
    if rule == RULE_PROGRESS:
        return _progress(ind, target, actual, ctx, result)
    return _ratio(target, actual, ctx, result, ind)


def _infer_rule(target: Value) -> str:
    if target.kind == DEADLINE:
        return RULE_DEADLINE
    if target.kind == STATUS and target.status != ALL_MUNICIPALITIES:
        return RULE_STATE
    return RULE_RATIO


def _target_year(target: Value, ctx: Context) -> int:
    if target.kind == DEADLINE:
        return target.deadline  # type: ignore[return-value]
    year = target.deadline_year
    return year if year is not None else ctx.fiscal_year


def _empty_actual(target: Value, ctx: Context, result):
    year = _target_year(target, ctx)
    if year > ctx.fiscal_year:
        return result(NOT_YET, f"実績値なし（目標は{year}年度、対象年度は{ctx.fiscal_year}年度）")
    return result(NOT_YET, "実績値が未入力（未集計）")


def _deadline(ind: Indicator, target: Value, actual: Value, ctx: Context, result):
    year = target.deadline if target.kind == DEADLINE else _target_year(target, ctx)
    if actual.kind == STATUS and not actual.negative:
        return result(ACHIEVED, f"「{actual.core}」（期限 {year}年度）")
    if actual.kind == NUMBER and target.kind == NUMBER:
        return _ratio(target, actual, ctx, result, ind)
    if actual.kind == UNCOUNTED:
        return result(NOT_YET, "実績値が未集計")
    what = f"「{actual.core}」" if not actual.is_empty else "未完了"
    if ctx.fiscal_year < year:
        return result(NOT_YET, f"{what}、期限 {year}年度の前（対象年度 {ctx.fiscal_year}年度）")
    return result(MISSED, f"{what}、期限 {year}年度を迎えて未完了（対象年度 {ctx.fiscal_year}年度）")


def _canonical_status(v: Value) -> str:
    if v.each:
        return f"各{v.number}回" + ("以上" if v.at_least else "")
    s = v.status
    for suffix in ("済み", "済"):
        if s.endswith(suffix) and len(s) > len(suffix):
            s = s[: -len(suffix)]
    return s


def _state(target: Value, actual: Value, result):
    if actual.kind == STATUS:
        if _canonical_status(actual) == _canonical_status(target):
            return result(ACHIEVED, f"{actual.core}／{target.core}")
        if target.status == "毎年度" or actual.status in GENERIC_DONE or (
                actual.each and target.each and actual.number >= target.number):
            return result(ACHIEVED, f"{actual.core}（目標「{target.core}」）")
    if actual.kind == NUMBER and target.each and actual.number is not None:
        return result(ACHIEVED if actual.number >= target.number else MISSED,
                      f"{actual.core}／{target.core}")
    return result(NOT_EVALUABLE, f"目標「{target.core}」に対して実績「{actual.core}」を判定できません")


def _numbers(target: Value, actual: Value, ctx: Context, ind: Indicator
             ) -> tuple[Optional[Decimal], Optional[Decimal], str, Optional[str]]:
    """(target, actual, target label, problem) after unit normalisation."""
    if target.kind == STATUS and target.status == ALL_MUNICIPALITIES:
        t_num, t_label, t_family = Decimal(ctx.municipality_count), f"全{ctx.municipality_count}{PARTICIPANT_UNIT}", PARTICIPANT_UNIT
    elif target.kind == NUMBER or (target.kind == STATUS and target.each):
        t_num, t_label, t_family = target.number, target.core, target.family
    else:
        return None, None, "", f"目標「{target.core}」は数値ではありません"
    if actual.kind == STATUS and actual.each:
        a_family = "回"
    elif actual.kind != NUMBER:
        return None, None, "", f"実績「{actual.core}」は数値ではありません（目標「{target.core}」）"
    else:
        a_family = actual.family
    if a_family != t_family:
        return None, None, "", (f"単位が目標と実績で違います（目標「{target.core}」、実績「{actual.core}」）")
    return t_num, actual.number, t_label, None


def _ratio(target: Value, actual: Value, ctx: Context, result, ind: Indicator):
    t_num, a_num, t_label, problem = _numbers(target, actual, ctx, ind)
    if problem:
        return result(NOT_EVALUABLE, problem)
    baseline = _baseline_number(ind)
    if baseline is not None and (t_num < baseline or t_num < 0 or baseline < 0):
        # A reduction target or one below zero (▲2,805人 → ▲1,400人): a plain ratio would
        # reward moving the wrong way, so progress from the baseline is the sound measure.
        return _progress(ind, target, actual, ctx, result)
    if t_num == 0 or t_num < 0 or a_num < 0:
        return result(NOT_EVALUABLE, f"目標「{target.core}」では達成率を計算できません（評価方法に「進捗率」を指定してください）")
    ratio = float(a_num / t_num)
    symbol = symbol_for_ratio(ratio, ctx.threshold)
    year = _target_year(target, ctx)
    if symbol != ACHIEVED and year > ctx.fiscal_year:
        return result(NOT_YET, f"{actual.core}／{t_label}（目標は{year}年度、対象年度は{ctx.fiscal_year}年度）", ratio)
    return result(symbol, _ratio_reason(actual.core, t_label, ratio, ctx.threshold), ratio)


def _baseline_number(ind: Indicator) -> Optional[Decimal]:
    try:
        b = parse_value(ind.baseline)
    except ValueParseError:
        return None
    return b.number if b.kind == NUMBER else None


def _progress(ind: Indicator, target: Value, actual: Value, ctx: Context, result):
    baseline = _baseline_number(ind)
    if baseline is None:
        return result(NOT_EVALUABLE, "進捗率の計算には数値の基準値が必要です")
    t_num, a_num, t_label, problem = _numbers(target, actual, ctx, ind)
    if problem:
        return result(NOT_EVALUABLE, problem)
    if t_num == baseline:
        return result(NOT_EVALUABLE, "目標値と基準値が同じため進捗率を計算できません")
    ratio = float((a_num - baseline) / (t_num - baseline))
    symbol = symbol_for_ratio(ratio, ctx.threshold)
    base = format_number(baseline)
    reason = (f"進捗率 ({actual.core} − {base})／({t_label} − {base}) = {format_percent(ratio)}"
              f"（{band_text(symbol, ctx.threshold)}）")
    return result(symbol, reason, ratio)


# --- the meta row ----------------------------------------------------------------------

def achievement_rate(others: Iterable[str], meta_target: float, ctx: Context
                     ) -> tuple[str, int, int, float]:
    """The 達成割合 row counts itself: find the symbol s with s == judge(rate(s)).

    Returns (symbol, achieved, evaluable, rate). Tries ◎, □, × in that order and takes the
    first consistent one; with no consistent choice (impossible for a monotone judge, kept
    for safety) it falls back to ×.
    """
    symbols = list(others)
    base_achieved = sum(s == ACHIEVED for s in symbols)
    base_evaluable = sum(s in EVALUABLE for s in symbols)
    for candidate in EVALUABLE:
        achieved = base_achieved + (candidate == ACHIEVED)
        evaluable = base_evaluable + 1
        rate = achieved / evaluable
        if symbol_for_ratio(rate / meta_target, ctx.threshold) == candidate:
            return candidate, achieved, evaluable, rate
    achieved, evaluable = base_achieved, base_evaluable + 1
    return MISSED, achieved, evaluable, achieved / evaluable

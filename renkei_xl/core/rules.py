"""The evaluation rules: from a target and an actual to ◎ □ × － ― with a reason.

Every result carries its reason in Japanese (「9件／10件 = 90.0%（85%以上）」) so staff can
check a symbol without reading code. The rule is inferred from the target's shape unless
評価方法 overrides it. The meta row 「達成割合」 is not decided here but in
``achievement_rate`` below, because it depends on every other row and on itself.
"""

# No ``from __future__ import annotations``: typing.NamedTuple compiles each string
# annotation (a ForwardRef) when the module is imported, at every command's start.

import datetime as _dt
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Collection, Iterable, NamedTuple, Optional

from . import contract as c
from . import findings as F
from .choices import (KEPT_STATES, RULE_DEADLINE, RULE_PROGRESS, RULE_RATIO, RULE_REFERENCE, RULE_STATE, RULES,
                      TARGET_STATES, canonical_state)
from . import fiscal
from .model import (ACHIEVED, EVALUABLE, MISSED, NEARLY, NOT_EVALUABLE, NOT_YET, Evaluation, Finding, Indicator,
                    Settings)
from .methods import PARTICIPANT_UNIT, method_of
from .values import (DEADLINE, INPUT_ERROR, NOTE_ASOF, NOTE_CALENDAR, NOTE_UNTIL, NUMBER, STATUS, UNCOUNTED, Value,
                     ValueParseError,
                     Quotient, Rate, below, error_value, exact, quotient, format_number, format_percent, parse_value, shown, shown_within,
                     typed_percent, unit_family)

ALL_MUNICIPALITIES = "全市町村"
INCREASE = "現状値からの増加"   # a 基本KPI's target (choices.TARGET_STATES): nothing to judge a row by
# Actual words that confirm any status or annual target ("did it this year").
GENERIC_DONE = {"実施", "実施済", "実施済み", "開催", "達成", "完了"}
# A state target met by another word than its own (SPEC 3): 「維持・改善」 by keeping or by
# improving, and 「維持」 by a report of 「維持・改善」 (kept, and improved besides). Any other
# pair of different words (「常時」 for 「維持」, 「維持」 for 「開設」) is not read as either:
# it is a finding on the cell that reported it (``unanswered``), never a silent －.
ALSO_MEETS = {"維持・改善": frozenset({"維持", "改善"}), "維持": frozenset({"維持・改善"})}


class Context(NamedTuple):
    """What a judgement needs beyond the row: the year, 設定's threshold, how many
    municipalities 「全市町村」 means and 基準日 (all from 設定; none is guessed)."""
    fiscal_year: int
    threshold: float
    municipality_count: int
    base_date: Optional[_dt.date] = None

    @property
    def status_date(self) -> _dt.date:
        return fiscal.status_date(self.fiscal_year, self.base_date)


def context_of(settings: Settings) -> Context:
    return Context(settings.fiscal_year, settings.threshold, max(len(settings.municipalities), 1), settings.base_date)


def threshold_text(threshold: float) -> str:
    return format_percent(threshold, None)


def symbol_for_ratio(ratio: Rate, threshold: float) -> str:
    """◎ at 100% and above, □ at the threshold and above, × below: the one place the bands
    are drawn (ratios, progress rates and the 達成割合 row all come here), on the exact
    ratio (values.below): a ratio a hair under an edge is under it (SPEC 3: ◎ ≥ 100 %)."""
    if not below(ratio, 1):
        return ACHIEVED
    if not below(ratio, threshold):
        return NEARLY
    return MISSED


def shown_ratio(ratio: Rate, threshold: float, target: float = 1.0) -> float:
    """A 達成率 as printed beside its symbol and stored in its cell: to 0.1 % (values.
    rounded_rate), except that a ratio below a band's edge (100 %, the threshold) is never
    printed at that edge: 253,299人／298,000人 is 84.9996 %, ×, and 「85.0%」 beside a × reads
    as 概ね達成; it prints 「84.9%」. The symbol is judged on the exact ratio. ``target``: a
    達成割合 is printed as a share whose edges are its target and target × threshold
    (47／55 = 85.45 % against 100 % at a threshold of 85.5 % prints 「85.4%」 beside ×)."""
    return shown_within(ratio, _edges(threshold, target))


@lru_cache(maxsize=16)
def _edges(threshold: float, target: float) -> tuple[Quotient, Quotient]:
    """The two edges of a band as exact numbers (values.exact): 100 % of the target and the
    threshold's part of it (a float product is off by an ulp: 0.8 × 0.85 ≠ 0.68)."""
    return Quotient.of(exact(target)), Quotient.of(exact(target) * exact(threshold))


def band_text(symbol: str, threshold: float) -> str:
    """The band a symbol stands for, as the reasons print it: 100%以上 / 85%以上 / 85%未満."""
    if symbol == ACHIEVED:
        return "100%以上"
    return threshold_text(threshold) + ("以上" if symbol == NEARLY else "未満")


def _ratio_reason(actual: str, target: str, shown: float, symbol: str, threshold: float) -> str:
    return f"{actual}／{target} = {format_percent(shown)}（{band_text(symbol, threshold)}）"


def evaluate(ind: Indicator, actual_text: str, ctx: Context) -> Evaluation:
    """Evaluate one indicator from its target and the (consolidated) actual.

    A symbol ◎ □ × ― is remembered with its reason and 達成率 by what decides it
    (_evaluated_by): its reason quotes only the row's values, never its cell. A － is worked
    out for each row, as its reason may name the row's cell (unjudgeable's finding). Rows
    share targets and sums: 20,000 evaluations of a 20,000 × 12 master were ~0.15 s."""
    key = _evaluated_by(ind, actual_text, ctx)
    if key is not None:
        known = _EVALUATED.get(key)
        if known is not None:
            return Evaluation(ind.id, *known)
    evaluation = _evaluate(ind, actual_text, ctx)
    if key is not None and evaluation.symbol != NOT_EVALUABLE:
        _remember(_EVALUATED, key, evaluation[1:])
    return evaluation


# (symbol, reason, 達成率) of evaluations other than －, by _evaluated_by's key.
_EVALUATED: "dict[tuple, tuple]" = {}
# Answers each of these caches keeps at most: far more than the distinct rows of a
# 20,000-indicator master share, and bounded for a server that serves many masters.
_REMEMBERED_MAX = 1 << 16


def _remember(cache: dict, key: tuple, answer: object) -> None:
    """``answer`` kept under ``key``, the cache emptied first when full. Not
    functools.lru_cache: each cache here keeps only some answers (a － or a finding names its
    own row's cell and is always worked out again)."""
    if len(cache) >= _REMEMBERED_MAX:
        cache.clear()
    cache[key] = answer


def _evaluated_by(ind: Indicator, actual_text: str, ctx: Context) -> Optional[tuple]:
    """Everything _evaluate reads for a symbol other than － (unjudgeable's key, the actual
    and the context), or None where a value is no text (as _judged_by)."""
    judged_by = _judged_by(ind, ())
    if judged_by is None or type(actual_text) is not str:
        return None
    return judged_by, actual_text, ctx


def _evaluate(ind: Indicator, actual_text: str, ctx: Context) -> Evaluation:
    """``evaluate``'s answer, worked out."""
    def result(symbol: str, reason: str, shown: Optional[float] = None) -> Evaluation:
        """``shown``: the 達成率 as printed (shown_ratio), asked once for the reason and the cell."""
        return Evaluation(ind.id, symbol, reason, shown)

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
    problem = unjudgeable(ind)
    if problem is not None:
        return result(NOT_EVALUABLE, f"{problem.place}: {problem.message}")
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
        return _short(target, ctx, result, MISSED, f"実績「{actual.core}」（目標「{target.core}」）", f"実績「{actual.core}」")
    if rule == RULE_STATE:
        return _state(ind, target, actual, ctx, result)
    if rule == RULE_PROGRESS:
        return _progress(ind, target, actual, ctx, result)
    return _ratio(target, actual, ctx, result, ind)


def unjudgeable(ind: Indicator, sheet_units: Collection[str] = ()) -> Optional[Finding]:
    """Why 目標値, 基準値 or 評価方法 leave the row nothing to judge any 実績値 by, as the finding
    on the 指標 cell to change; None when they do not.

    The one place these reasons are decided: validation reports the finding (so the row is
    「－（入力エラー）」 and counted out of the 達成割合, as any input error), and ``evaluate``
    gives it as the reason of its －, so the command that only evaluates agrees. Before,
    the reasons lived only in the evaluation's branches: 入力チェック said 「エラー 0 件」 while
    the row silently turned －. ``sheet_units``: the 単位 the municipality sheets show for
    the row (written from the target when they were made); a target changed to another
    unit since would relabel the counts they report (「21件」 summed and shown 「21%」).

    A row found judgeable is remembered by what decides it (_judged_by): validation and the
    evaluation each ask for every row, and rows share their targets, methods and 基準値."""
    key = _judged_by(ind, sheet_units)
    if key is not None and key in _JUDGEABLE:
        return None
    problem = _unjudgeable(ind, sheet_units)
    if problem is None and key is not None:
        _remember(_JUDGEABLE, key, True)
    return problem


# Rows unjudgeable found judgeable, by _judged_by's key: a None answer only, so a finding
# always names its own row's cell.
_JUDGEABLE: "dict[tuple, bool]" = {}


def _judged_by(ind: Indicator, sheet_units: Collection[str]) -> Optional[tuple]:
    """Everything _unjudgeable's answer reads (not the row's place, which only a finding
    names), or None where a cell is no text: 1, 1.0 and True are one key and not one
    value (a 基準値 True is unreadable, 1 is not), so only texts are remembered. The
    units as the caller's collection holds them: two orders of one set are two keys, and
    a key never stands for another set."""
    if type(ind.target) is not str or type(ind.baseline) is not str or type(ind.rule) is not str \
            or type(ind.method) is not str:
        return None
    return not ind.is_kpi, ind.rule, ind.method, ind.target, ind.baseline, tuple(sheet_units)


def _unjudgeable(ind: Indicator, sheet_units: Collection[str]) -> Optional[Finding]:
    """``unjudgeable``'s answer, worked out."""
    if ind.is_kpi or ind.rule == RULE_REFERENCE or (ind.rule and ind.rule not in RULES):
        return None   # not judged, or its 評価方法 has its own finding
    method = method_of(ind)
    if method is None or method.rates_others or type(ind.target) is not str or error_value(ind.target):
        return None   # the 集計方法's (or the cell's) own finding; the 達成割合 row's is RATE_TARGET's
    try:
        target = parse_value(ind.target)
    except ValueParseError:
        return None   # unreadable: its own finding
    # The target as shown only when a finding is made: this runs for every row on every
    # check and recalculation, and nearly every row is judgeable.
    at = lambda kind, field, **values: kind.at(ind.sheet, ind.cell(field), ind.id, **values)   # noqa: E731
    if target.is_empty:   # 「－」「（未集計）」 say there is none (a blank cell: MISSING_FIELD's own)
        return at(F.MISSING_FIELD, "target", label=c.INDICATOR_HEADERS["target"], where=f"（「{shown(ind.target)}」は値がないことを表します）",
                  or_else="") if ind.target.strip() else None
    if target.kind == STATUS and target.negative:
        return at(F.TARGET_NEGATIVE, "target", value=shown(ind.target))
    if target.kind == STATUS and target.status == INCREASE:
        return at(F.TARGET_INCREASE, "target", value=shown(ind.target))
    rule = ind.rule or _infer_rule(target)
    numeric = target.kind == NUMBER or target.each or (target.kind == STATUS and target.status == ALL_MUNICIPALITIES)
    if rule == RULE_DEADLINE:
        problem = _deadline_problem(ind, target, method)
        if problem is not None or target.kind != NUMBER:
            return problem
        # A number with its year (「4,225人（2025年度まで）」): checked as any numeric target.
    if rule == RULE_STATE:
        if target.kind == NUMBER:
            return at(F.RULE_MISFIT, "rule", rule=rule, why=f"目標値「{shown(ind.target)}」は状態ではなく数値です",
                      fix="目標値を状態（維持・常時など）にしてください")
        if method.numeric and not target.each:
            return at(F.TARGET_NOT_A_NUMBER, "target", value=shown(ind.target), method=ind.method)
        # 「各１回」 counts 回: the numbers a 参加市町村数 or the sheets' 「件」 give are not its
        return _unit_problem(ind, target, sheet_units) if target.each else None
    if not numeric:
        if ind.rule:
            return at(F.RULE_MISFIT, "rule", rule=rule, why=f"目標値「{shown(ind.target)}」が数値ではありません",
                      fix="数値の目標値を入力してください")
        return None
    if method.state:
        return at(F.RULE_MISFIT if ind.rule else F.TARGET_NOT_A_NUMBER, "rule" if ind.rule else "target",
                  rule=rule, why=f"集計方法「{ind.method}」の実績値は状態です", fix="集計方法を確かめてください",
                  value=shown(ind.target), method=ind.method)
    return (_unit_problem(ind, target, sheet_units) or _shares_summed(ind, target, method)
            or _baseline_problem(ind, target) or _target_problem(ind, target, rule))


def _shares_summed(ind: Indicator, target: Value, method) -> Optional[Finding]:
    """A target in % on a row whose municipalities' own numbers add up (合計: 40% + 45% was
    85%, ◎ against 70%, without a word): a share of the region is Σ分子／Σ分母 (比率).
    (unjudgeable's: 参加市町村数 counts in 市町村, so its % target is a unit error first.)"""
    if not method.adds_up or target.kind != NUMBER or target.family != "%":
        return None
    return F.SHARES_SUMMED.at(ind.sheet, ind.cell("method"), ind.id, method=shown(ind.method), value=shown(ind.target))


def _deadline_problem(ind: Indicator, target: Value, method) -> Optional[Finding]:
    """A deadline needs a year to judge by and a report that can say 「完了」: 評価方法「期限」
    on 「31千人」 or 「20件（毎年度）」 judged against a year nobody gave (the 対象年度's),
    and a 合計's numbers never complete 「2025年度まで」 (unjudgeable's)."""
    at = lambda kind, field, **values: kind.at(ind.sheet, ind.cell(field), ind.id, **values)   # noqa: E731
    if target.kind != DEADLINE and target.deadline_year is None:
        return at(F.RULE_MISFIT, "rule", rule=RULE_DEADLINE, why=f"目標値「{shown(ind.target)}」に期限の年度がありません",
                  fix="目標値を「2025年度まで」のように期限の年度にしてください")
    if target.kind == DEADLINE and method.numeric:
        return at(F.RULE_MISFIT if ind.rule else F.TARGET_NOT_A_NUMBER, "rule" if ind.rule else "target",
                  rule=RULE_DEADLINE, why=f"集計方法「{ind.method}」の実績値は数値で、完了を表せません",
                  fix="集計方法を確かめてください", value=shown(ind.target), method=ind.method)
    return None


def _unit_problem(ind: Indicator, target: Value, sheet_units: Iterable[str]) -> Optional[Finding]:
    """A numeric target in another unit than the row's 実績値 come in (unjudgeable's)."""
    family = counted_in(target)
    method = method_of(ind)
    unit = method.yields if method is not None else None   # 比率's %, 参加市町村数's 市町村
    where = None   # said only in a finding: this runs for every row on every check
    if unit is None and sheet_units:
        units = sorted({u for u in sheet_units if u})
        # A target without a unit counts in whatever the sheets count in (the sum keeps its
        # unit), but for a share: 0.75 under sheets that count in % is what Excel keeps of a
        # typed 「75%」. 「各１回」 and 「全市町村」 count in 回 and 市町村 (counted_in): the sheets'
        # 「21件」 was read as 21 of them, ◎ 「21／全12市町村 = 175.0%」.
        fraction = target.kind == NUMBER and not target.unit and target.number is not None and 0 < target.number < 1
        if len({unit_family(u) for u in units}) == 1 and (family or (fraction and unit_family(units[0]) == "%")):
            unit = units[0]
            where = f"市町村シートの単位「{shown(unit)}」"     # staff's text: quoted as every value is
    if unit is not None and family != unit_family(unit):
        where = where or f"集計方法「{ind.method}」の実績値の単位「{unit}」"
        number = target.number      # None for 「全市町村」「各１回」: the example then shows no number
        why = ""
        if unit == "%" and not target.unit and number is not None and 0 < number < 1:   # Excel's 「70%」
            example = typed_percent(number)
            why = f"（「{example}」と入力したときに Excel が保存する値です）"
        else:
            example = f"{format_number(number) if number is not None else '（数値）'}{unit}"
        return F.TARGET_UNIT.at(ind.sheet, ind.cell("target"), ind.id, value=shown(ind.target), expected=where,
                                why=why, example=example,
                                note=F.TARGET_PERCENT_NOTE.format(example=example) if unit == "%" else "")
    return None


def counted_in(target: Value) -> str:
    """The unit family a target counts in ("" for a number without a unit): a number's own,
    「各１回」's 回 and 「全市町村」's 市町村. The one answer for the target's unit checks
    (_unit_problem) and the comparison (_numbers, a number against 「各N回」)."""
    if target.kind == STATUS and target.status == ALL_MUNICIPALITIES:
        return unit_family(PARTICIPANT_UNIT)
    return target.family


def _target_problem(ind: Indicator, target: Value, rule: str) -> Optional[Finding]:
    """The finding when a numeric target gives no measure: a ratio to a target of 0 or
    below (▲1,400人: 評価方法「進捗率」 judges it from its 基準値), a progress rate without a
    numeric 基準値 or with the target equal to it."""
    t_num = target.number
    if t_num is None:
        return None
    baseline = _baseline_number(ind)
    at = lambda kind, field, **values: kind.at(ind.sheet, ind.cell(field), ind.id, **values)   # noqa: E731
    if rule == RULE_PROGRESS:
        if baseline is None:
            return at(F.RULE_MISFIT, "rule", rule=RULE_PROGRESS,
                      why=f"進捗率の計算には数値の基準値が必要です（基準値「{shown(ind.baseline)}」）",
                      fix="数値の基準値を入力してください")
        if t_num == baseline:
            return at(F.TARGET_IS_BASELINE, "target", value=shown(ind.target), baseline=shown(ind.baseline))
        return None
    if t_num <= 0:
        return at(F.TARGET_NO_RATIO, "target", value=shown(ind.target))
    return None


def _baseline_problem(ind: Indicator, target: Value) -> Optional[Finding]:
    """A 基準値 that counts another thing than its target (「1億円」 against 「12件」): one of
    the two is mistyped and which cannot be told, and a progress rate or the direction of the
    target (``rule_warning``) would be read from it. An error on 基準値 (unjudgeable's); a
    基準値 without a unit (「152」) counts in the target's."""
    if target.kind != NUMBER or not target.unit:
        return None
    try:
        baseline = parse_value(ind.baseline)
    except ValueParseError:
        return None   # unreadable: its own finding
    if baseline.kind != NUMBER or not baseline.unit or baseline.family == target.family:
        return None
    return F.UNIT_MISMATCH.at(ind.sheet, ind.cell("baseline"), ind.id, label=c.INDICATOR_HEADERS["baseline"], value=shown(ind.baseline),
                              expected=f"目標値「{target.core}」")


def rule_warning(ind: Indicator) -> Optional[Finding]:
    """The 警告 on 評価方法 when it is blank and the 基準値 leaves the rule open: a numeric
    target below its 基準値 is judged by 比率 (実績値／目標値, SPEC 3's rule for a numeric
    target), but it may be a target to reduce (ごみの量), which 進捗率 judges; a target
    lowered since the base year (人口) is not. The numbers cannot tell them apart, so the
    rule used is said with how to choose it. (It was 進捗率, inferred in silence: 78,000人
    against 75,000人 from 80,000人 was × at 40%. No FY2023 row judged needs it.)
    For a row ``unjudgeable`` lets through (validation asks after it)."""
    if ind.rule or ind.is_kpi or type(ind.target) is not str or not ind.baseline:
        return None
    method = method_of(ind)
    if method is None or method.rates_others:
        return None
    try:
        target = parse_value(ind.target)
    except ValueParseError:
        return None
    baseline = _baseline_number(ind)
    if target.kind != NUMBER or baseline is None or not target.number < baseline:
        return None
    return F.RULE_INFERRED.at(ind.sheet, ind.cell("rule"), ind.id, target=shown(target.core),
                              baseline=shown(parse_value(ind.baseline).core))


def _infer_rule(target: Value) -> str:
    if target.kind == DEADLINE:
        return RULE_DEADLINE
    if target.kind == STATUS and target.status != ALL_MUNICIPALITIES:
        return RULE_STATE
    return RULE_RATIO


def _target_year(target: Value, ctx: Context) -> int:
    """The 年度 a target is to be met in: a deadline's, a note's (「2025年度まで」「2025年度」, and
    「2025年」 in the 年度 of its number, as deadlines.past_targets reads it: 「15社（2025年）」 was ×
    in 2023年度 where 「15社（2025年度）」 was ―), else 対象年度. Not 「2025年度までの毎年度」's:
    met every year up to it, each year is judged by itself (120名 a year: 100名 in 2023年度 is
    short of it then, not 「目標は2025年度」)."""
    if target.kind == DEADLINE:
        return target.deadline  # type: ignore[return-value]
    year = target.note_year(NOTE_UNTIL, NOTE_ASOF, NOTE_CALENDAR)
    return year if year is not None else ctx.fiscal_year


def _short(target: Value, ctx: Context, result, symbol: str, reason: str, what: str, shown: Optional[float] = None):
    """□ or × for a report short of its target, but ― (評価時期前) while the year the target is
    to be reached by is to come (SPEC 3: a deadline before its year and not completed is ―):
    the one place that says so for every rule that judges a target with a year. A ratio said
    it and the others did not: 「10件（2025年度まで）」 was ― at 5件 and × at 「未実施」,
    「開設（2025年度まで）」 × at 「未開設」 where 「2025年度まで」 was ―, and a 進捗率 × at 50 %.
    A state kept (KEPT_STATES: 「維持（2025年度まで）」) is failed the year it is not kept, and a
    bare deadline (「2024年9月末まで」) is _deadline's, judged by its day."""
    if symbol in (NEARLY, MISSED) and target.kind != DEADLINE \
            and not (target.kind == STATUS and not target.each and target.status in KEPT_STATES):
        year = _target_year(target, ctx)
        if year > ctx.fiscal_year:
            return result(NOT_YET, f"{what}（目標は{year}年度、対象年度は{ctx.fiscal_year}年度）", shown)
    return result(symbol, reason, shown)


def _empty_actual(target: Value, ctx: Context, result):
    year = _target_year(target, ctx)
    if year > ctx.fiscal_year:
        return result(NOT_YET, f"実績値なし（目標は{year}年度、対象年度は{ctx.fiscal_year}年度）")
    return result(NOT_YET, "実績値が未入力（未集計）")


def _deadline(ind: Indicator, target: Value, actual: Value, ctx: Context, result):
    """SPEC 3's deadline: ◎ once completed; not completed, ― before the deadline and × once
    it has come. A 年度 deadline comes with its year (対象年度 ≥ the year). One written to the
    month or the day (values: ``Value.due``, its last day) comes on that day: 基準日 on or
    after it is ×, before it ―. The day itself counts as come, as a 年度 deadline has come at
    its own year's 「３月末時点」: 「2024年3月末まで」 and 「2023年度まで」 are one deadline and are
    judged alike at 基準日 2024-03-31. Both are shown as typed in the reason."""
    year = target.deadline if target.kind == DEADLINE else _target_year(target, ctx)
    due = target.due if target.kind == DEADLINE else None
    when = f"{year}年度" if due is None else f"「{target.core}」"
    if actual.kind == STATUS and completed(actual):
        return result(ACHIEVED, f"「{actual.core}」（期限 {when}）")
    if actual.kind == NUMBER and target.kind == NUMBER:
        return _ratio(target, actual, ctx, result, ind)
    if actual.kind == UNCOUNTED:
        return result(NOT_YET, "実績値が未集計")
    if not actual.is_empty and not actual.negative:    # 「維持」, 「3」: neither done nor not
        return _not_answered(ind, target, actual, result)
    what = f"「{actual.core}」" if not actual.is_empty else "未完了"
    if due is None:
        come, now = ctx.fiscal_year >= year, f"対象年度 {ctx.fiscal_year}年度"
    else:
        day = ctx.status_date
        come, now = day >= due, f"基準日 {day.year}年{day.month}月{day.day}日"
    if not come:
        return result(NOT_YET, f"{what}、期限 {when}の前（{now}）")
    return result(MISSED, f"{what}、期限 {when}を迎えて未完了（{now}）")


# The words that report a deadline target done (SPEC 3: 策定, 検討完了, 構築…), as
# _canonical_status gives them (「策定済み」 is 策定). A state kept (「維持」「常時」) or a
# number says nothing of whether the thing was finished: ``unanswered``'s finding.
COMPLETIONS = frozenset({"開設", "実施", "開催", "策定", "検討完了", "構築", "完了", "達成", "開始"})


def completed(actual: Value) -> bool:
    """Whether a state word reports a deadline target done."""
    return actual.kind == STATUS and not actual.negative and _canonical_status(actual) in COMPLETIONS


def _canonical_status(v: Value) -> str:
    if v.each:
        return f"各{v.number}回" + ("以上" if v.at_least else "")
    return canonical_state(v.status)


def state_verdict(target: Value, actual: Value) -> Optional[bool]:
    """Whether a state word ``actual`` meets the state target: True (◎) when it reports the
    target's state, a completion (GENERIC_DONE) or any state for 「毎年度」, False (×) when
    it reports the negative or fewer rounds of a 「各N回」, None when the words say neither
    (「常時」 reported for 「維持」). The one place a state is judged: ``_state`` gives the
    symbol, ``unanswered`` the finding for None."""
    if actual.negative:
        return False
    if actual.each and target.each:
        return actual.number >= target.number
    reported, wanted = _canonical_status(actual), _canonical_status(target)
    # By the word, not its spelling (「達成済み」 is 達成, as 「実施済み」 is 実施).
    if reported == wanted or target.status == "毎年度" or reported in GENERIC_DONE:
        return True
    if reported in ALSO_MEETS.get(wanted, ()):
        return True
    return None


def _state(ind: Indicator, target: Value, actual: Value, ctx: Context, result):
    if actual.kind == STATUS:
        verdict = state_verdict(target, actual)
        if verdict and _canonical_status(actual) == _canonical_status(target):
            return result(ACHIEVED, f"{actual.core}／{target.core}")
        if verdict is not None:
            return _short(target, ctx, result, ACHIEVED if verdict else MISSED, f"{actual.core}（目標「{target.core}」）",
                          actual.core)
    if _counts_each(target, actual):
        return _short(target, ctx, result, ACHIEVED if actual.number >= target.number else MISSED,
                      f"{actual.core}／{target.core}", f"{actual.core}／{target.core}")
    return _not_answered(ind, target, actual, result)


def _counts_each(target: Value, actual: Value) -> bool:
    """Whether a number is a count of 「各N回」's rounds: in 回 or without a unit. 「3人」 was
    ◎ against 「各１回」 (3 ≥ 1), and a 参加市町村数's 「11市町村」 too, with no finding."""
    return (actual.kind == NUMBER and target.each and actual.number is not None
            and (not actual.unit or actual.family == counted_in(target)))


def _not_answered(ind: Indicator, target: Value, actual: Value, result):
    """The － of a value the target cannot judge, with ``unanswered``'s message as its reason
    (validation reports the same finding on the value's cell)."""
    problem = unanswered(ind, actual)
    why = problem.message if problem is not None else f"目標「{target.core}」に対して実績「{actual.core}」を判定できません"
    return result(NOT_EVALUABLE, why)


def unanswered(ind: Indicator, actual: Value, sheet: str = "", cell: str = "", label: str = c.ENTRY_HEADERS["value"]
               ) -> Optional[Finding]:
    """The finding on a reported value (a municipality's 実績値, 実績値（手入力）) the row's
    target cannot judge, at ``sheet``!``cell``; None when it can, or when the row is not
    judged or its definition has a finding of its own (``unjudgeable``, an unknown 評価方法
    or 集計方法).

    Validation reports it, so the row is 「－（入力エラー）」 and counted out of the 達成割合
    like any input error, and ``evaluate`` gives its message as the reason of its －. Before,
    「維持」 reported for a 「維持・改善」 or 「常時」 target was － with no finding, and the
    達成割合 silently counted one row fewer; 「維持」 for 「2025年度まで」 was ◎. Each branch
    asks the test the evaluation itself makes: a state target, ``state_verdict`` (or a number
    for 「各N回」); a deadline, ``completed`` (a number only against a numeric target with a
    year); a numeric target, ``_numbers``. A negative word (「実施なし」) is judged against any."""
    if actual.is_empty or actual.negative or ind.is_kpi or ind.rule == RULE_REFERENCE:
        return None
    if (ind.rule and ind.rule not in RULES) or method_of(ind) is None or method_of(ind).rates_others:
        return None
    if type(ind.target) is not str or unjudgeable(ind) is not None or (read := _target_rule(ind)) is None:
        return None
    target, rule = read
    # The value is quoted (values.shown, a test per character) only in a finding: nearly every
    # value validation asks about is answered, and quoting each was 2 % of a recalculation.
    if rule == RULE_STATE:
        if actual.kind == STATUS and state_verdict(target, actual) is None:
            return F.STATE_UNANSWERED.at(sheet, cell, ind.id, label=label, value=shown(actual.raw), target=target.core)
        if actual.kind == NUMBER and target.each and not _counts_each(target, actual):
            return F.UNIT_MISMATCH.at(sheet, cell, ind.id, label=label, value=shown(actual.raw),
                                      expected=f"目標値「{target.core}」")
        if actual.kind != STATUS and not (actual.kind == NUMBER and target.each):
            return F.NOT_A_STATE.at(sheet, cell, ind.id, value=shown(actual.raw))
        return None
    if rule == RULE_DEADLINE and not (actual.kind == NUMBER and target.kind == NUMBER):
        if completed(actual):
            return None
        return F.DEADLINE_UNANSWERED.at(sheet, cell, ind.id, label=label, value=shown(actual.raw), target=target.core)
    if actual.kind == NUMBER and not actual.unit:
        return None     # counted in the unit of the target (methods.with_unit: 「7000」 is 7,000人)
    if _numbers(target, actual, _NO_CONTEXT, ind)[3] is not None:
        if actual.kind != NUMBER:
            return F.NOT_A_NUMBER.at(sheet, cell, ind.id, value=shown(actual.raw))
        return F.UNIT_MISMATCH.at(sheet, cell, ind.id, label=label, value=shown(actual.raw), expected=f"目標値「{target.core}」")
    return None


def _target_rule(ind: Indicator) -> Optional[tuple[Value, str]]:
    """The 目標値 read and the 評価方法 it is judged by (given, or inferred from it); None when
    the target cannot be read or is empty (its own finding says so: 「目標値が空です」). An empty
    target judged every reported value against nothing: 「３回」 was 「単位が目標値「」と違います」
    and 「検討完了」 「数値を入力するセルに…」, errors on a municipality's sound cell."""
    try:
        target = parse_value(ind.target)
    except ValueParseError:
        return None
    if target.is_empty:
        return None
    return target, ind.rule or _infer_rule(target)


def answer_hint(ind: Indicator) -> Optional[str]:
    """The 修正のヒント for a reported word no reading takes (「整備完了」「継続」) on a row whose
    target a word answers: a deadline's (「2030年度まで」) or a state's (「維持」), as
    DEADLINE_UNANSWERED and STATE_UNANSWERED say which words answer it. The hint of any
    unreadable value, 「例: 20件、1,500人、43.9万人、常時、2025年度まで」, offered counts and a
    deadline, a target's own form, as the result of 14-1's 「2030年度まで」. None for a row
    that a number answers (the generic hint's examples fit it) or that is not judged."""
    if ind.is_kpi or ind.rule == RULE_REFERENCE or type(ind.target) is not str or (read := _target_rule(ind)) is None:
        return None
    target, rule = read
    if rule == RULE_DEADLINE and target.kind == DEADLINE:
        return F.DEADLINE_UNANSWERED.hint
    if rule == RULE_STATE and target.kind == STATUS and not target.each and target.status not in TARGET_STATES:
        return F.STATE_UNANSWERED.hint.format(target=target.core)
    return None


# ``_numbers`` asked only whether it can compare (unanswered): the count of 全市町村 is not read.
_NO_CONTEXT = Context(0, 1.0, 1)


def _numbers(target: Value, actual: Value, ctx: Context, ind: Indicator
             ) -> tuple[Optional[Decimal], Optional[Decimal], str, Optional[str]]:
    """(target, actual, target label, problem) after unit normalisation."""
    if target.kind == STATUS and target.status == ALL_MUNICIPALITIES:
        t_num, t_family = Decimal(ctx.municipality_count), counted_in(target)
        t_label = f"全{ctx.municipality_count}{PARTICIPANT_UNIT}"
    elif target.kind == NUMBER or (target.kind == STATUS and target.each):
        t_num, t_label, t_family = target.number, target.core, counted_in(target)
    else:
        return None, None, "", f"目標「{target.core}」は数値ではありません"
    if actual.kind == NUMBER:
        a_num, a_family = actual.number, actual.family
        if not actual.unit and target.status == ALL_MUNICIPALITIES:
            a_family = PARTICIPANT_UNIT   # 「3」 typed for 全市町村 (README: 単位は不要) counts municipalities
    else:
        counted = _count_of(actual, target, ctx.municipality_count)
        if counted is None:
            return None, None, "", f"実績「{actual.core}」は数値ではありません（目標「{target.core}」）"
        a_num, a_family = counted
    if a_family != t_family:
        return None, None, "", (f"単位が目標と実績で違います（目標「{target.core}」、実績「{actual.core}」）")
    return t_num, a_num, t_label, None


def _count_of(actual: Value, target: Value, municipalities: int = 0) -> Optional[tuple[Decimal, str]]:
    """(number, unit family) a state word counts against a numeric target: 「各１回」 a number
    of 回 (against 「１回（毎年度）」), 「全市町村」 every municipality (against 「全市町村」);
    None for any other word, which says no number (``unanswered``)."""
    if actual.kind != STATUS:
        return None
    if actual.each and target.family == "回":
        return actual.number, "回"
    if actual.status == ALL_MUNICIPALITIES and target.status == ALL_MUNICIPALITIES:
        return Decimal(municipalities), PARTICIPANT_UNIT
    return None


def _ratio(target: Value, actual: Value, ctx: Context, result, ind: Indicator):
    t_num, a_num, t_label, problem = _numbers(target, actual, ctx, ind)
    if problem:
        return result(NOT_EVALUABLE, problem)
    problem = _target_problem(ind, target, RULE_RATIO)
    if problem is not None:
        return result(NOT_EVALUABLE, f"{problem.place}: {problem.message}")
    # A value below zero reaches here only where the quantity goes below zero (its 基準値 is:
    # validation refuses it elsewhere): below a target above zero, it is short of it (×).
    ratio = quotient(a_num, t_num)
    symbol = symbol_for_ratio(ratio, ctx.threshold)
    shown = shown_ratio(ratio, ctx.threshold)
    return _short(target, ctx, result, symbol, _ratio_reason(actual.core, t_label, shown, symbol, ctx.threshold),
                  f"{actual.core}／{t_label}", shown)


def _baseline_number(ind: Indicator) -> Optional[Decimal]:
    try:
        b = parse_value(ind.baseline)
    except ValueParseError:
        return None
    return b.number if b.kind == NUMBER else None


def _progress(ind: Indicator, target: Value, actual: Value, ctx: Context, result):
    baseline = _baseline_number(ind)
    t_num, a_num, t_label, problem = _numbers(target, actual, ctx, ind)
    if problem:
        return result(NOT_EVALUABLE, problem)
    found = _target_problem(ind, target._replace(number=t_num), RULE_PROGRESS)
    if found is not None:
        return result(NOT_EVALUABLE, f"{found.place}: {found.message}")
    ratio = quotient(a_num - baseline, t_num - baseline)
    symbol = symbol_for_ratio(ratio, ctx.threshold)
    # 基準値 as typed, as the actual and the target are (「25.1万人」, not 「251,000」 between
    # 「43.9万人」 and 「29.8万人」, which staff could not check against 指標's cell).
    base = parse_value(ind.baseline).core
    shown = shown_ratio(ratio, ctx.threshold)
    progress = f"進捗率 ({actual.core} − {base})／({t_label} − {base})"
    return _short(target, ctx, result, symbol, f"{progress} = {format_percent(shown)}（{band_text(symbol, ctx.threshold)}）",
                  progress, shown)


# --- the meta row ----------------------------------------------------------------------

def rate_share(target: str) -> Optional[float]:
    """The share a 達成割合 row's 目標値 names (「100％（毎年度）」 → 1.0, 「80%」 → 0.8, Excel's
    0.8 for a typed 80%), or None when it names none (「5」, 「2件」). One reading for
    validate's RATE_TARGET and for rate_target: they read the cell each their own way, and
    「5」 was refused as no share while the row's printed edges were put at 500 %. Raises
    ValueParseError for a text that is no value (validate names it where it reads 目標値)."""
    v = parse_value(target)
    if v.kind != NUMBER or v.number is None or v.number <= 0:
        return None
    if v.unit == "%":
        return float(v.number / 100)    # 66.67% is the float nearest 0.6667, as typed (values.exact)
    return float(v.number) if not v.unit and v.number <= 1 else None


def rate_target(ind: Indicator) -> float:
    """The share the 達成割合 row aims at (rate_share), 1.0 when its 目標値 gives none
    (validate's RATE_TARGET names it). One reading for the row's symbol, its printed edges
    and 次の一歩's 「◎まであとN指標」."""
    try:
        share = rate_share(ind.target)
    except ValueParseError:
        return 1.0
    return 1.0 if share is None else share


def achievement_rate(others: Iterable[str], meta_target: float, ctx: Context
                     ) -> tuple[str, int, int, Optional[float]]:
    """The 達成割合 row counts itself: find the symbol s with s == judge(rate(s)).

    Returns (symbol, achieved, evaluable, rate). Tries ◎, □, × in that order and takes the
    first consistent one; with no consistent choice (impossible for a monotone judge, kept
    for safety) it falls back to ×.

    With no other row ◎□× there is no rate: counting itself alone, ◎ (1／1 = 100%) and ×
    (0／1) are both consistent, and a new year's master where nothing was collected yet
    published 「1／1 = 100.0%」 ◎ for the whole vision. The row is then ― while other rows
    wait (未集計), － when none ever will be judged, with no rate (None) and no count.
    """
    symbols = list(others)
    base_achieved = sum(s == ACHIEVED for s in symbols)
    base_evaluable = sum(s in EVALUABLE for s in symbols)
    if not base_evaluable:
        return (NOT_YET if NOT_YET in symbols else NOT_EVALUABLE), 0, 0, None
    for candidate in EVALUABLE:
        achieved = base_achieved + (candidate == ACHIEVED)
        evaluable = base_evaluable + 1
        rate = achieved / evaluable
        if symbol_for_ratio(Fraction(achieved, evaluable) / exact(meta_target), ctx.threshold) == candidate:
            return candidate, achieved, evaluable, rate
    achieved, evaluable = base_achieved, base_evaluable + 1
    return MISSED, achieved, evaluable, achieved / evaluable

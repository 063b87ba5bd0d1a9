"""One recalculation: validate → consolidate → evaluate → summarise.

Both faces (the command line on a file, the buttons in a live workbook) call
``recalculate`` with the same plain records and get the same Result, so a symbol can
never depend on which face computed it.
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from .consolidate import ConsolidationError, consolidate
from .model import (ACHIEVED, ERROR, METHOD_AUTO, MISSED, NEARLY, NOT_EVALUABLE, SYMBOLS,
                    Consolidated, Entry, Evaluation, Finding, Indicator, Result, Settings,
                    Summary)
from .rules import Context, achievement_rate, evaluate
from .validate import validate
from .values import ValueParseError, parse_value

AUTO_STATUS_PREFIX = "・達成済み・達成見込み"


def context_of(settings: Settings) -> Context:
    return Context(settings.fiscal_year, settings.threshold, max(len(settings.municipalities), 1))


def recalculate(settings: Settings, indicators: Sequence[Indicator], entries: Sequence[Entry],
                extra_findings: Sequence[Finding] = ()) -> Result:
    findings = list(extra_findings) + validate(settings, indicators, entries)
    by_id: dict[str, list[Entry]] = {}
    for e in entries:
        by_id.setdefault(e.indicator_id, []).append(e)
    ctx = context_of(settings)
    consolidated: dict[str, Consolidated] = {}
    evaluations: dict[str, Evaluation] = {}
    for ind in indicators:
        try:
            consolidated[ind.id] = consolidate(ind, by_id.get(ind.id, ()), settings)
        except ConsolidationError as exc:
            findings.append(Finding("consolidation", ERROR, ind.sheet, ind.cell("method"), ind.id,
                                    f"集計できません: {exc}", "市町村シートの値を確認してください"))
            consolidated[ind.id] = Consolidated(ind.id, "－", "", ind.status_manual)
            evaluations[ind.id] = Evaluation(ind.id, NOT_EVALUABLE, f"集計できません: {exc}")
            continue
        if ind.method != METHOD_AUTO:
            evaluations.setdefault(ind.id, evaluate(ind, consolidated[ind.id].actual, ctx))

    plain = [evaluations[i.id].symbol for i in indicators if i.method != METHOD_AUTO]
    achieved = sum(s == ACHIEVED for s in plain)
    evaluable = sum(s in (ACHIEVED, NEARLY, MISSED) for s in plain)
    for ind in (i for i in indicators if i.method == METHOD_AUTO):
        symbol, achieved, evaluable, rate = achievement_rate(plain, _meta_target(ind), ctx)
        line = f"{AUTO_STATUS_PREFIX}{achieved}／評価可能{evaluable}"
        rest = consolidated[ind.id].status_text
        consolidated[ind.id] = Consolidated(ind.id, f"{rate * 100:.1f}%", "",
                                            "\n".join(p for p in (line, rest) if p))
        target = _meta_target(ind)
        evaluations[ind.id] = Evaluation(
            ind.id, symbol,
            f"達成済み・達成見込み{achieved}／評価可能{evaluable} = {rate * 100:.1f}%"
            f"（目標 {target * 100:g}%、この行自身を含む）", rate / target)

    ordered = {i.id: evaluations[i.id] for i in indicators}
    summary = summarize(indicators, ordered, achieved, evaluable)
    return Result(tuple(indicators), consolidated, ordered, tuple(findings), summary)


def _meta_target(ind: Indicator) -> float:
    try:
        v = parse_value(ind.target)
    except ValueParseError:
        return 1.0
    if v.number is None or v.number <= 0:
        return 1.0
    return float(v.number) / 100 if v.unit == "%" else float(v.number)


def summarize(indicators: Sequence[Indicator], evaluations: dict[str, Evaluation],
              achieved: int, evaluable: int) -> Summary:
    counts = Counter(evaluations[i.id].symbol for i in indicators)
    by_role: dict[str, Counter] = {}
    for ind in indicators:
        by_role.setdefault(ind.role, Counter())[evaluations[ind.id].symbol] += 1
    full = {s: counts.get(s, 0) for s in SYMBOLS}
    roles = {r: {s: c.get(s, 0) for s in SYMBOLS} for r, c in by_role.items()}
    rate = achieved / evaluable if evaluable else None
    return Summary(full, roles, achieved, evaluable, rate)

"""入力チェック: findings about 指標 and the municipality sheets, each pointing at one cell.

A finding is a record (type, severity, sheet, cell, 指標ID, message, hint), the way
frictionless-py reports errors, so the workbook adapter can list it on 検証結果, link the
cell and colour it, and the command line can print it, from the same object.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable, Sequence

from .model import (ERROR, METHOD_AUTO, METHOD_MANUAL, METHOD_PARTICIPANTS, METHOD_RATIO,
                    METHOD_STATE, METHOD_SUM, METHODS, RULES, WARNING, Entry, Finding,
                    Indicator, Settings)
from .values import (COUNT_FAMILIES, NUMBER, STATUS, UNIT_FAMILY, Value, ValueParseError,
                     parse_value)

FORMULA_ERRORS = {"#REF!", "#DIV/0!", "#N/A", "#VALUE!", "#NAME?", "#NUM!", "#NULL!",
                  "#SPILL!", "#CALC!", "#GETTING_DATA"}
NUMERIC_METHODS = (METHOD_SUM, METHOD_RATIO, METHOD_PARTICIPANTS)

# (field, Japanese header) of 指標 that must not be empty.
REQUIRED = (("id", "指標ID"), ("role", "役割"), ("name", "評価指標"), ("target", "目標値"),
            ("method", "集計方法"))
VALUE_FIELDS = (("baseline", "基準値"), ("target", "目標値"), ("actual_manual", "実績値（手入力）"))


def is_formula_error(value: object) -> bool:
    return isinstance(value, str) and value.strip().upper() in FORMULA_ERRORS


def validate(settings: Settings, indicators: Sequence[Indicator], entries: Sequence[Entry]
             ) -> list[Finding]:
    findings: list[Finding] = []
    findings += _indicator_findings(indicators)
    known = {i.id: i for i in indicators if i.id}
    findings += _entry_findings(settings, known, entries)
    findings += _breakdown_findings(known, entries)
    return findings


def _f(kind: str, severity: str, sheet: str, cell: str, ind_id: str, message: str, hint: str = ""
       ) -> Finding:
    return Finding(kind, severity, sheet, cell, ind_id, message, hint)


def _parse(raw: str, sheet: str, cell: str, ind_id: str, label: str, out: list[Finding]):
    if is_formula_error(raw):
        out.append(_f("formula-error", ERROR, sheet, cell, ind_id,
                      f"{label}が数式のエラー値「{raw}」です", "数式の参照先を確認するか、値を直接入力してください"))
        return None
    try:
        return parse_value(raw)
    except ValueParseError as exc:
        out.append(_f("unparseable", ERROR, sheet, cell, ind_id, f"{label}: {exc}",
                      "例: 20件、1,500人、43.9万人、常時、2025年度まで"))
        return None


def _indicator_findings(indicators: Sequence[Indicator]) -> list[Finding]:
    out: list[Finding] = []
    seen: dict[str, Indicator] = {}
    for ind in indicators:
        sheet = ind.sheet
        for field, label in REQUIRED:
            if field == "target" and ind.is_kpi:
                continue
            if not str(getattr(ind, field) or "").strip():
                out.append(_f("missing-field", ERROR, sheet, ind.cell(field), ind.id,
                              f"{label}が空です", f"{label}を入力してください"))
        if ind.id:
            if ind.id in seen:
                first = seen[ind.id]
                out.append(_f("duplicate-id", ERROR, sheet, ind.cell("id"), ind.id,
                              f"指標ID「{ind.id}」が重複しています（{first.sheet}!{first.cell('id')} と同じ）",
                              "指標IDは指標ごとに一意にしてください"))
            else:
                seen[ind.id] = ind
        if ind.method and ind.method not in METHODS:
            out.append(_f("unknown-method", ERROR, sheet, ind.cell("method"), ind.id,
                          f"集計方法「{ind.method}」は使えません", f"次から選んでください: {'、'.join(METHODS)}"))
        if ind.rule and ind.rule not in RULES:
            out.append(_f("unknown-rule", ERROR, sheet, ind.cell("rule"), ind.id,
                          f"評価方法「{ind.rule}」は使えません", f"空欄（自動判定）か次から選んでください: {'、'.join(RULES)}"))
        parsed = {f: _parse(getattr(ind, f), sheet, ind.cell(f), ind.id, label, out)
                  for f, label in VALUE_FIELDS}
        target, actual = parsed["target"], parsed["actual_manual"]
        if target is not None and actual is not None and _unit_clash(target, actual):
            out.append(_f("unit-mismatch", WARNING if ind.is_kpi else ERROR, sheet,
                          ind.cell("actual_manual"), ind.id,
                          f"実績値「{actual.core}」の単位が目標値「{target.core}」と違います",
                          "目標値と同じ単位で入力してください"))
        if (ind.method == METHOD_MANUAL and not ind.is_kpi and actual is not None
                and actual.kind == "empty"):
            out.append(_f("missing-actual", WARNING, sheet, ind.cell("actual_manual"), ind.id,
                          "集計方法が手入力ですが実績値（手入力）が空です",
                          "実績値を入力するか、未集計なら「（未集計）」と入力してください"))
        if ind.method == METHOD_AUTO and ind.actual_manual.strip():
            out.append(_f("ignored-actual", WARNING, sheet, ind.cell("actual_manual"), ind.id,
                          "集計方法が自動のため、実績値（手入力）は使われません", "実績値（手入力）を空にしてください"))
    return out


def _unit_clash(target: Value, actual: Value) -> bool:
    if target.kind != NUMBER or actual.kind != NUMBER:
        return False
    return UNIT_FAMILY.get(target.unit, target.unit) != UNIT_FAMILY.get(actual.unit, actual.unit)


def _entry_findings(settings: Settings, known: dict[str, Indicator], entries: Sequence[Entry]
                    ) -> list[Finding]:
    out: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for e in entries:
        sheet = e.sheet or e.municipality
        if not e.indicator_id:
            if e.value or e.status:
                out.append(_f("missing-field", ERROR, sheet, e.cell("indicator_id"), "",
                              "指標IDが空の行に値があります", "指標IDを入力するか、行を削除してください"))
            continue
        ind = known.get(e.indicator_id)
        if ind is None:
            out.append(_f("unknown-id", ERROR, sheet, e.cell("indicator_id"), e.indicator_id,
                          f"指標ID「{e.indicator_id}」は指標シートにありません",
                          "指標シートの指標IDと同じにしてください"))
            continue
        key = (e.municipality, e.indicator_id)
        if key in seen:
            out.append(_f("duplicate-id", ERROR, sheet, e.cell("indicator_id"), e.indicator_id,
                          f"指標ID「{e.indicator_id}」がこのシートに2回以上あります", "重複した行を削除してください"))
        seen.add(key)
        value = _parse(e.value, sheet, e.cell("value"), e.indicator_id, "実績値", out)
        if value is None or value.is_empty:
            continue
        if ind.method in (METHOD_MANUAL, METHOD_AUTO):
            continue
        if ind.method in NUMERIC_METHODS:
            _check_number(ind, e, value, sheet, out)
        if ind.method == METHOD_STATE and value.kind != STATUS:
            out.append(_f("not-a-state", ERROR, sheet, e.cell("value"), e.indicator_id,
                          f"「{e.value}」は状態（維持・常時など）ではありません", "維持、常時、実施 などの状態を入力してください"))
        if ind.method == METHOD_RATIO:
            den = _parse(e.denominator, sheet, e.cell("denominator"), e.indicator_id, "分母", out)
            if den is not None and (den.kind != NUMBER or den.number <= 0):
                out.append(_f("missing-denominator", ERROR, sheet, e.cell("denominator"), e.indicator_id,
                              "比率の指標には 0 より大きい分母が必要です", "分母の数値を入力してください"))
    return out


def _check_number(ind: Indicator, e: Entry, value: Value, sheet: str, out: list[Finding]) -> None:
    cell = e.cell("value")
    if value.kind != NUMBER:
        out.append(_f("not-a-number", ERROR, sheet, cell, e.indicator_id,
                      f"数値を入力するセルに「{e.value}」と入力されています", "数値だけを入力してください（例: 12 または 12件）"))
        return
    target_unit = _target_unit(ind)
    family = UNIT_FAMILY.get(value.unit, value.unit)
    if value.unit and target_unit is not None and family != target_unit and ind.method != METHOD_PARTICIPANTS:
        out.append(_f("unit-mismatch", ERROR, sheet, cell, e.indicator_id,
                      f"「{e.value}」の単位が目標値「{ind.target}」と違います", "目標値と同じ単位で入力してください"))
    count_like = family in COUNT_FAMILIES or (not value.unit and target_unit in COUNT_FAMILIES)
    if value.number < 0:
        out.append(_f("negative", ERROR, sheet, cell, e.indicator_id,
                      f"「{e.value}」は負の値です", "0 以上の値を入力してください"))
    elif count_like and ind.method != METHOD_RATIO and value.number != value.number.to_integral_value():
        out.append(_f("fractional-count", ERROR, sheet, cell, e.indicator_id,
                      f"「{e.value}」は件数・人数なのに小数です", "整数で入力してください"))


def _target_unit(ind: Indicator):
    try:
        t = parse_value(ind.target)
    except ValueParseError:
        return None
    return t.family if t.kind == NUMBER else None


def _breakdown_findings(known: dict[str, Indicator], entries: Iterable[Entry]) -> list[Finding]:
    """A typed 実績値（手入力） next to municipality values must equal their sum."""
    out: list[Finding] = []
    sums: dict[str, Decimal] = {}
    for e in entries:
        ind = known.get(e.indicator_id)
        if ind is None or ind.method != METHOD_SUM:
            continue
        try:
            v = parse_value(e.value)
        except ValueParseError:
            continue
        if v.kind == NUMBER:
            sums[ind.id] = sums.get(ind.id, Decimal(0)) + v.number
    for ind_id, total in sums.items():
        ind = known[ind_id]
        try:
            typed = parse_value(ind.actual_manual)
        except ValueParseError:
            continue
        if typed.kind == NUMBER and typed.number != total:
            out.append(_f("breakdown-mismatch", ERROR, ind.sheet, ind.cell("actual_manual"), ind_id,
                          f"実績値（手入力）「{ind.actual_manual}」が市町村シートの合計 {total:,} と一致しません",
                          "実績値（手入力）を空にする（市町村の合計を使う）か、市町村シートの値を直してください"))
    return out

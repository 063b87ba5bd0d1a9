"""集計方法: how the municipality sheets roll up into one 実績値 (SPEC §2).

Pure functions over plain records. Municipalities are listed in the order of 設定 so the
breakdown text reads the way the office always wrote it:
「（札幌市17件、小樽市2件、千歳市1件、恵庭市1件）」.

Two things are decided here for every face (document, file, live workbook):

- An input error never feeds a total. When a cell that feeds the indicator (a municipality
  実績値 or 分母, or 実績値（手入力） where that is what is used) has an error finding
  (「10件以上」, 「約10件」, -3, 2.5件, ▲3件 …), nothing is summed: 実績値 shows
  「（入力エラー）」 (values.INPUT_ERROR), the breakdown is empty (it would list the bad
  numbers), and 実施状況 is the staff's text as usual, without the breakdown. The pipeline
  then evaluates the row as － (評価不可) with the bad cell in the reason; it is never a
  number computed from the other municipalities, and － is outside ◎+□+× so the 達成割合 row
  leaves it out like any other －.
- Every text 一覧 shows must fit one cell. Characters a cell cannot hold are dropped and a
  text over Excel's 32,767 characters is cut to the limit ending in 「…（以下省略）」
  (values.fit_cell); each cut is also an エラー finding on the 指標 row, so it is never
  silent. A single input cell that is itself too long is reported on that cell by
  validation instead (one finding per cause).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable, NamedTuple, Sequence

from .model import (ERROR, METHOD_AUTO, METHOD_CENTRAL, METHOD_MANUAL, METHOD_PARTICIPANTS,
                    METHOD_RATIO, METHOD_STATE, METHOD_SUM, Consolidated, Entry, Finding,
                    Indicator, Settings)
from .validate import TEXT_TOO_LONG, input_errors
from .values import (CELL_TEXT_LIMIT, INPUT_ERROR, NUMBER, STATUS, TRUNCATION_MARK,
                     ValueParseError, cell_length, fit_cell, format_number, normalize,
                     parse_input, parse_value)

NO_VALUE = "－"


class ConsolidationError(ValueError):
    """The entries cannot be combined (mixed units, disagreeing states); Japanese reason."""


def _ordered(entries: Iterable[Entry], settings: Settings) -> list[Entry]:
    order = {name: i for i, name in enumerate(settings.names)}
    return sorted(entries, key=lambda e: order.get(e.municipality, len(order)))


def _joined_status(entries: Sequence[Entry]) -> str:
    return "\n".join(e.status.strip() for e in entries if e.status and e.status.strip())


def _with(base: str, extra: str) -> str:
    """Append the breakdown unless the text already says it (as 6's status does)."""
    if extra and normalize(extra) in normalize(base):
        return base.strip()
    return "\n".join(p for p in (base.strip(), extra) if p)


class Rollup(NamedTuple):
    """One indicator rolled up: what 一覧 shows, the input errors that stopped the
    roll-up (already reported by validation; the pipeline puts them in the reason), and
    new findings about the texts (cut to fit a cell)."""
    consolidated: Consolidated
    input_errors: tuple[Finding, ...] = ()
    findings: tuple[Finding, ...] = ()


def consolidate(ind: Indicator, entries: Sequence[Entry], settings: Settings) -> Consolidated:
    """Roll up one indicator. ``entries`` are that indicator's rows on municipality sheets."""
    return rollup(ind, entries, settings).consolidated


def rollup(ind: Indicator, entries: Sequence[Entry], settings: Settings, *,
           may_have_errors: bool = True, known_errors: Sequence[Finding] = ()) -> Rollup:
    """``consolidate`` with its reasons: see the module docstring for input errors and
    over-long texts. Raises ConsolidationError when valid values cannot be combined.

    ``may_have_errors=False``: validation found no error on this indicator, so its inputs
    are not checked again (a recalculation would otherwise validate every value twice).
    ``known_errors``: errors found on this indicator's cells while reading the workbook
    (a formula without a saved result), which make the row an input error too."""
    entries = _ordered((e for e in entries if e.indicator_id == ind.id), settings)
    errors = (input_errors(ind, entries, settings) if may_have_errors else []) + list(known_errors)
    if errors:
        raw = Consolidated(ind.id, INPUT_ERROR, "", _plain_status(ind, entries, settings))
    else:
        raw = _consolidate(ind, entries, settings)
    fitted, findings = fit_texts(ind, raw, [ind.status_manual] + [e.status for e in entries])
    return Rollup(fitted, tuple(errors), tuple(findings))


def _plain_status(ind: Indicator, entries: Sequence[Entry], settings: Settings) -> str:
    """実施状況 as consolidation would show it, without a breakdown."""
    if ind.method == METHOD_CENTRAL:
        central = settings.central
        entries = [e for e in entries if central and e.municipality == central.name]
    return ind.status_manual.strip() or _joined_status(entries)


# (field of Consolidated, 指標 field whose cell a finding names, label)
_TEXTS = (("actual", "actual_manual", "実績値"), ("breakdown", "status_manual", "内訳"),
          ("status_text", "status_manual", "連携事業実施状況等"))


def fit_texts(ind: Indicator, c: Consolidated, sources: Iterable[str] = ()
              ) -> tuple[Consolidated, list[Finding]]:
    """``c`` with every text fitted to one cell, and a finding for each text that was cut.
    No finding when one of ``sources`` (the input texts) is over the limit by itself:
    validation already names that cell."""
    changes: dict[str, str] = {}
    findings: list[Finding] = []
    source_too_long = any(cell_length(t) > CELL_TEXT_LIMIT for t in sources if t)
    for field_name, cell_field, label in _TEXTS:
        text = getattr(c, field_name)
        fitted = fit_cell(text)
        if fitted == text:
            continue
        changes[field_name] = fitted
        n = cell_length(text)
        if n > CELL_TEXT_LIMIT and not source_too_long:
            findings.append(Finding(
                TEXT_TOO_LONG, ERROR, ind.sheet, ind.cell(cell_field), ind.id,
                f"一覧の{label}が{n:,}文字になり（市町村の実施状況と内訳を合わせた長さ）、Excelの1つのセルに入る"
                f"{CELL_TEXT_LIMIT:,}文字を超えるため、{CELL_TEXT_LIMIT:,}文字で切り、末尾を「{TRUNCATION_MARK}」"
                "としました",
                "実施状況（手入力）に要約を入力するか、市町村シートの実施状況を短くしてください"))
    if not changes:
        return c, findings
    return Consolidated(c.indicator_id, changes.get("actual", c.actual),
                        changes.get("breakdown", c.breakdown),
                        changes.get("status_text", c.status_text)), findings


def _consolidate(ind: Indicator, entries: Sequence[Entry], settings: Settings) -> Consolidated:
    method = ind.method
    status = ind.status_manual.strip() or _joined_status(entries)
    if method == METHOD_MANUAL or method == METHOD_AUTO:
        return Consolidated(ind.id, ind.actual_manual.strip() or NO_VALUE, "", status)
    if method == METHOD_CENTRAL:
        central = settings.central
        own = [e for e in entries if central and e.municipality == central.name]
        value = own[0].value.strip() if own and own[0].value else ""
        status = ind.status_manual.strip() or _joined_status(own)
        return Consolidated(ind.id, value or ind.actual_manual.strip() or NO_VALUE, "", status)
    if method == METHOD_SUM:
        actual, breakdown = sum_with_breakdown(entries, target_unit(ind))
        return Consolidated(ind.id, actual, breakdown, _with(status, breakdown))
    if method == METHOD_PARTICIPANTS:
        actual, breakdown = participants(entries)
        return Consolidated(ind.id, actual, breakdown, _with(status, breakdown))
    if method == METHOD_RATIO:
        return Consolidated(ind.id, ratio(entries), "", status)
    if method == METHOD_STATE:
        actual, breakdown = agreed_state(entries)
        return Consolidated(ind.id, actual, breakdown, status)
    raise ConsolidationError(f"集計方法「{method}」は使えません")


def _reported(entries: Sequence[Entry], kind: str, what: str, field: str = "value"):
    """(entry, parsed value) for each entry that reports something of the given kind."""
    for e in entries:
        raw = getattr(e, field)
        try:
            v = parse_input(raw)
        except ValueParseError as exc:
            raise ConsolidationError(f"{e.municipality}: {exc}") from exc
        if v.is_empty:
            continue
        if v.kind != kind:
            raise ConsolidationError(f"{e.municipality}の「{raw}」は{what}ではありません")
        yield e, v


def _numbers(entries: Sequence[Entry], field: str = "value") -> list[tuple[Entry, Decimal, str]]:
    return [(e, v.number, v.unit) for e, v in _reported(entries, NUMBER, "数値", field)]


def target_unit(ind: Indicator) -> str:
    """The unit staff leave out when they type plain numbers (the sheet has a 単位 column)."""
    try:
        v = parse_value(ind.target)
    except ValueParseError:
        return ""
    return v.unit if v.kind == NUMBER else ""


def sum_with_breakdown(entries: Sequence[Entry], default_unit: str = "") -> tuple[str, str]:
    """合計: 「21件」 and 「（札幌市17件、小樽市2件、千歳市1件、恵庭市1件）」."""
    rows = _numbers(entries)
    if not rows:
        return NO_VALUE, ""
    units = {u for _, _, u in rows if u}
    if len(units) > 1:
        raise ConsolidationError(f"市町村によって単位が違います（{'、'.join(sorted(units))}）")
    unit = units.pop() if units else default_unit
    total = sum((n for _, n, _ in rows), Decimal(0))
    parts = [f"{e.municipality}{format_number(n, unit)}" for e, n, _ in rows if n != 0]
    breakdown = f"（{'、'.join(parts)}）" if parts else ""
    return format_number(total, unit), breakdown


def participants(entries: Sequence[Entry]) -> tuple[str, str]:
    """参加市町村数: municipalities reporting a value above zero."""
    names = [e.municipality for e, n, _ in _numbers(entries) if n > 0]
    if not names:
        return "0市町村", ""
    return f"{len(names)}市町村", f"（{'、'.join(names)}）"


def ratio(entries: Sequence[Entry]) -> str:
    """比率: Σ実績値 ／ Σ分母 as a percentage with one decimal."""
    nums = _numbers(entries)
    dens = {e.municipality: n for e, n, _ in _numbers(entries, "denominator")}
    if not nums:
        return NO_VALUE
    missing = [e.municipality for e, _, _ in nums if e.municipality not in dens]
    if missing:
        raise ConsolidationError(f"分母がありません（{'、'.join(missing)}）")
    numerator = sum((n for _, n, _ in nums), Decimal(0))
    denominator = sum(dens.values(), Decimal(0))
    if denominator <= 0:
        raise ConsolidationError("分母の合計が 0 です")
    return f"{float(numerator / denominator) * 100:.1f}%"


def agreed_state(entries: Sequence[Entry]) -> tuple[str, str]:
    """状態: every reporting municipality must report the same state."""
    states: dict[str, list[str]] = {}
    for e, v in _reported(entries, STATUS, "状態（維持・常時など）"):
        states.setdefault(v.core, []).append(e.municipality)
    if not states:
        return NO_VALUE, ""
    if len(states) > 1:
        detail = "、".join(f"{s}: {'・'.join(ms)}" for s, ms in states.items())
        raise ConsolidationError(f"市町村の状態が一致しません（{detail}）")
    (state, names), = states.items()
    return state, f"（{'、'.join(names)}）"

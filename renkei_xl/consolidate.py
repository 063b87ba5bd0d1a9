"""集計方法: how the municipality sheets roll up into one 実績値 (SPEC §2).

Pure functions over plain records. Municipalities are listed in the order of 設定 so the
breakdown text reads the way the office always wrote it:
「（札幌市17件、小樽市2件、千歳市1件、恵庭市1件）」.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable, Sequence

from .model import (METHOD_AUTO, METHOD_CENTRAL, METHOD_MANUAL, METHOD_PARTICIPANTS,
                    METHOD_RATIO, METHOD_STATE, METHOD_SUM, Consolidated, Entry, Indicator,
                    Settings)
from .values import NUMBER, STATUS, ValueParseError, format_number, normalize, parse_value

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


def consolidate(ind: Indicator, entries: Sequence[Entry], settings: Settings) -> Consolidated:
    """Roll up one indicator. ``entries`` are that indicator's rows on municipality sheets."""
    entries = _ordered((e for e in entries if e.indicator_id == ind.id), settings)
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
            v = parse_value(raw)
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

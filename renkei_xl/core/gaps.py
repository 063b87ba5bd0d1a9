"""What each indicator still needs: the tool-owned sheet 次の一歩.

The coordinator's questions in March, answered per row that is not ◎: how far is it
from the target, in the row's own unit (「◎まであと8件（17件／25件）」); how many years are
left before a deadline; which municipalities have not reported a 合計 or 参加市町村数 row
yet; and is it better or worse than last year (↑ ↓ →). Below, one line per municipality:
how many of its rows are still empty.

A sheet of its own rather than columns on 一覧, so the printed 一覧 stays the official
layout. Computed here, once, from the recalculation's Result, the master's entries and
経年; both faces write the SheetPlan as they write 一覧.
"""

from __future__ import annotations

import datetime as _dt
from decimal import ROUND_CEILING, Decimal
from functools import lru_cache
from typing import Mapping, Optional, Sequence

from . import contract as c
from .history import History, labels_of
from .layout import HEADER, INDICATOR, Grid, PublishedTexts, project_key, project_shown
from .methods import NO_VALUE, NOBODY, method_of, rates_others
from .choices import RULE_DEADLINE, RULE_PROGRESS, RULE_REFERENCE
from .fiscal import status_date
from .looks import print_setup
from .model import ACHIEVED, EVALUABLE, MISSED, NEARLY, NOT_EVALUABLE, Entry, Indicator, Result, Settings
from .symbols import EVALUABLE_SAID
from .sheet_grid import fitted_heights, symbol_colours
from .plan_types import Cell, SheetPlan
from .rules import ALL_MUNICIPALITIES
from .values import (COUNT_FAMILIES, fit_cell, listed, published, DEADLINE, NUMBER, STATUS, UNCOUNTED, Value, ValueParseError,
                     format_number, parse_value)

# The columns it shares with 指標 and 一覧 take their headers from there (core.contract).
_SYMBOL_HEAD = c.LIST_COLUMNS[c.LIST_SYMBOL_COL]
COLUMNS = (*(c.INDICATOR_HEADERS[f] for f in ("id", "project_name", "name")), _SYMBOL_HEAD,
           c.INDICATOR_HEADERS["target"], c.LIST_COLUMNS[c.LIST_ACTUAL_COL], "目標までの差", "期限",
           "未入力の市町村", "前年度との比較")
MUNI_COLUMNS = (c.MUNI_HEADERS["name"], "入力する行", "未入力の行", "未入力の指標ID")
WIDTHS = (9, 26, 34, 6, 20, 16, 40, 22, 30, 22)
SHOWN_IDS = 12
_RANK = {ACHIEVED: 3, NEARLY: 2, MISSED: 1}
_OTHER = "other"          # a row kind of no table look (title, note, blank)
_LARGE = ((Decimal(10) ** 12, "兆"), (Decimal(10) ** 8, "億"), (Decimal(10) ** 4, "万"))


# ----------------------------------------------------------------------- amounts

def amount(number: Decimal, unit: str, family: str) -> str:
    """A gap in the row's own unit: counts rounded up to whole ones (half a 件 does not
    exist), percentages in ポイント, 1万 and over in 万 (億, 兆) with one decimal rounded
    up, so a gap is never shown smaller than it is."""
    if family == "%":
        return f"{format_number(_up(number, 1))}ポイント"
    if family in COUNT_FAMILIES:
        number = number.to_integral_value(rounding=ROUND_CEILING)
    for size, word in _LARGE:
        if abs(number) >= size:
            return f"{format_number(_up(number / size, 1))}{word}{unit}"
    return f"{format_number(_up(number, 1) if number != number.to_integral_value() else number)}{unit}"


def _up(number: Decimal, digits: int) -> Decimal:
    q = Decimal(1).scaleb(-digits)
    return number.quantize(q, rounding=ROUND_CEILING).normalize()


@lru_cache(maxsize=16, typed=True)     # typed: 1 and 1.0 print differently
def _decimal(number: float) -> Decimal:
    return Decimal(str(number))


def _parse(text: str) -> Optional[Value]:
    try:
        return parse_value(text)
    except ValueParseError:
        return None


# -------------------------------------------------------------------- one row

def gap_text(ind: Indicator, actual_text: str, symbol: str, reason: str, settings: Settings,
             symbols: Sequence[str] = ()) -> str:
    """What the row still needs to reach □ and ◎ (empty for ◎)."""
    if symbol == ACHIEVED:
        return ""
    if ind.is_kpi:
        return "基本KPI（参考指標のため目標との差は出しません）"
    if ind.rule == RULE_REFERENCE:
        return "評価方法「参考」のため目標との差は出しません"
    if rates_others(ind):
        return _meta_gap(ind, symbols, settings)
    target, actual = _parse(ind.target), _parse(actual_text)
    if target is None or actual is None:
        return f"評価できません: {reason}"
    if symbol == NOT_EVALUABLE:
        return f"評価できません: {reason}"
    if ind.rule == RULE_DEADLINE or target.kind == DEADLINE:
        if actual.kind == NUMBER and target.kind == NUMBER:
            return _numeric_gap(ind, target, actual, settings) or ""
        now = f"実績「{actual.core}」" if not actual.is_empty else "実績値は未入力"
        return f"◎には完了（策定・構築・実施など）の報告が必要です（{now}）"
    if actual.kind == UNCOUNTED:    # 「（未集計）」 typed, by the row or by one of its municipalities
        return f"実績値が未集計です（{_UNCOUNTED_WHERE}）"
    if actual.is_empty:
        return "実績値が未入力です（市町村シート・指標シートに入力してください）"
    if actual.kind == STATUS and actual.negative:
        return f"◎には目標「{target.core}」の実績が必要です（実績「{actual.core}」）"
    numeric = _numeric_gap(ind, target, actual, settings)
    if numeric is not None:
        return numeric
    if target.kind == STATUS:
        return f"◎には目標「{target.core}」の実績が必要です（実績「{actual.core}」）"
    return f"目標「{target.core}」と実績「{actual.core}」を比べられません"


_UNCOUNTED_WHERE = ("集計できたら、「（未集計）」と入力したセルに実績値を入力してください。"
                    "合計などの行では、連携事業実施状況等にその市町村を示しています")


def _numeric_gap(ind: Indicator, target: Value, actual: Value, settings: Settings) -> Optional[str]:
    if target.kind == STATUS and target.status == ALL_MUNICIPALITIES:
        t, t_label, unit, family = Decimal(len(settings.municipalities)), f"全{len(settings.municipalities)}市町村", "市町村", "市町村"
    elif target.kind == NUMBER:
        t, t_label, unit, family = target.number, target.core, target.unit, target.family
    else:
        return None
    if actual.kind != NUMBER or actual.number is None or (actual.family != family and actual.unit):
        return None
    a = actual.number
    base = Decimal(0)
    b = _parse(ind.baseline)
    if ind.rule == RULE_PROGRESS:    # the only rule that measures from the 基準値 (rules._progress)
        base = b.number if b is not None and b.kind == NUMBER and b.number is not None else Decimal(0)
    sign = 1 if t >= base else -1
    nearly_level = base + _decimal(settings.threshold) * (t - base)
    if family in COUNT_FAMILIES and sign > 0:
        nearly_level = nearly_level.to_integral_value(rounding=ROUND_CEILING)
    need_full = (t - a) * sign
    need_nearly = (nearly_level - a) * sign
    word = "" if sign > 0 else "の減少"
    shown = f"（{actual.core}／{t_label}）"
    if need_full <= 0:
        return f"数値は目標に届いています{shown}"
    parts = []
    if need_nearly > 0:
        parts.append(f"□まであと{amount(need_nearly, unit, family)}{word}")
    parts.append(f"◎まであと{amount(need_full, unit, family)}{word}")
    return "、".join(parts) + shown


def _meta_gap(ind: Indicator, symbols: Sequence[str], settings: Settings) -> str:
    """The 達成割合 row: how many more rows must turn ◎ (it counts itself, so this is
    found by trying, like the row's own symbol), against the row's own 目標値 (「80%」 was
    counted against 100 %: 「□まであと8指標」 beside a row already □)."""
    from .rules import achievement_rate, context_of, rate_target

    ctx = context_of(settings)
    target = rate_target(ind)
    others = list(symbols)
    open_rows = [i for i, s in enumerate(others) if s in (NEARLY, MISSED)]
    achieved = sum(s == ACHIEVED for s in others)
    evaluable = sum(s in EVALUABLE for s in others)
    if not evaluable:     # no rate yet (rules.achievement_rate)
        return f"ほかの指標に評価（{EVALUABLE_SAID}）が出てから計算します"

    def symbol_with(k: int) -> str:
        trial = list(others)
        for i in open_rows[:k]:
            trial[i] = ACHIEVED
        return achievement_rate(trial, target, ctx)[0]

    needs = {}
    for k in range(len(open_rows) + 1):
        sym = symbol_with(k)
        for want in (NEARLY, ACHIEVED):
            if want not in needs and _RANK[sym] >= _RANK[want]:
                needs[want] = k
    parts = [f"{s}まであと{needs[s]}指標" for s in (NEARLY, ACHIEVED) if needs.get(s)]
    text = "、".join(parts) if parts else "◎にできる指標が足りません"
    return f"{text}が◎になる必要があります（◎{achieved}／評価可能{evaluable}、この行を除く）"


def deadline_text(ind: Indicator, fiscal_year: int, as_of: Optional[_dt.date] = None) -> str:
    """How far the row's deadline is from this year: 「2025年度まであと2年度」. A deadline to the
    month or the day is also held to ``as_of`` (fiscal.status_date: 基準日 or the year's end),
    as rules._deadline judges it: one in this 年度 but before 基準日 has passed, and saying
    「今年度が期限」 beside its × sent staff looking for time they did not have."""
    target = _parse(ind.target)
    if target is None or ind.is_kpi:
        return ""
    year = target.deadline if target.kind == DEADLINE else target.note_year("until", "annual-until", "asof")
    if year is None:
        return "毎年度" if target.annual else ""
    left = year - fiscal_year
    due = target.due if target.kind == DEADLINE else None
    # A deadline to the month or the day (「2024年9月末まで」) is named by its day and its 年度.
    when = f"{year}年度" if due is None else f"{due.year}年{due.month}月{due.day}日（{year}年度）"
    # 基準日 may fall in the next 年度 (up to a year after this one's end: figures as of 5月末),
    # and a day there on or before it has come (rules._deadline: ×) though its 年度 is later.
    come = due is not None and as_of is not None and due <= as_of
    if come and left > 0:
        return (f"{when}、期限を過ぎています（基準日 {as_of.year}年{as_of.month}月{as_of.day}日）。目標の見直しが必要です"
                if due < as_of else f"{when}、基準日が期限")
    if left > 0:
        return f"{when}まであと{left}年度"
    if left == 0 and not (come and due < as_of):
        return f"{when}（今年度が期限）" if due is None else f"{when}、今年度が期限"
    return f"{when}（期限を過ぎています。目標の見直しが必要です）" if due is None else \
        f"{when}、期限を過ぎています。目標の見直しが必要です"


def _adds_up(ind: Indicator) -> bool:
    method = method_of(ind)
    return method is not None and method.adds_up


def _missing_text(filled: set[str], names: Sequence[str]) -> str:
    """未入力の市町村: the names, cut as every text the tool writes (values.fit_cell): 設定 may
    list more municipalities than a cell holds the names of (1,100 of a sheet name's 31
    characters, one filled, made 35,167 characters)."""
    missing = [m for m in names if m not in filled]
    if not missing:
        return ""
    if len(missing) == len(names):
        return f"全市町村（{len(missing)}）"
    return fit_cell("、".join(missing))


def _filled_by_id(ids: set[str], entries: Sequence[Entry]) -> dict[str, set[str]]:
    """Per 指標ID in ``ids``, the municipalities that have a value on it: one pass over
    the entries (200,000 on a large master) for every row of the sheet."""
    filled: dict[str, set[str]] = {i: set() for i in ids}
    for e in entries:
        have = filled.get(e.indicator_id)
        if have is not None and e.value.strip():
            have.add(e.municipality)
    return filled


def trend_text(ind_id: str, actual_text: str, symbol: str, history: History, fiscal_year: int,
               name: str = "", recorded: str = "") -> str:
    """↑ ↓ → against last year's 実績値 (same unit family), else against its symbol. Not
    against a year 経年 shows for another 評価指標 (``recorded``, not the row's ``name``): an
    ID reused or renumbered for another indicator since, whose 「↑（前年度 17件 ◎）」 compared
    two indicators (history.renamed says it at the next rollover, a year later)."""
    last = history.get(ind_id, {}).get(fiscal_year - 1)
    if last is None:
        return "前年度の記録なし"
    if recorded and name and recorded != name:
        return f"比べません（「{c.HISTORY}」の前年度の記録は、評価指標「{recorded}」のものです）"
    now_v, then_v = _parse(actual_text), _parse(last.actual)
    shown = last.actual or "（未入力）"
    if (now_v is not None and then_v is not None and now_v.kind == NUMBER and then_v.kind == NUMBER
            and now_v.number is not None and then_v.number is not None
            and (now_v.family == then_v.family or not now_v.unit or not then_v.unit)):
        arrow = "↑" if now_v.number > then_v.number else ("↓" if now_v.number < then_v.number else "→")
        return f"{arrow}（前年度 {shown} {last.symbol}）".replace(" ）", "）")
    if symbol in _RANK and last.symbol in _RANK:
        arrow = "↑" if _RANK[symbol] > _RANK[last.symbol] else ("↓" if _RANK[symbol] < _RANK[last.symbol] else "→")
        return f"{arrow}（前年度 {last.symbol}）"
    return f"前年度 {shown} {last.symbol}".strip()


# ------------------------------------------------------------------ the sheet

def step_rows(result: Result, entries: Sequence[Entry], settings: Settings,
              history: History, recorded: Mapping[str, str] = {}) -> list[list[object]]:
    """One row per indicator that is not ◎, in 指標 order, as COLUMNS (``recorded``: 指標ID →
    the 評価指標 経年 shows, history.recorded_names)."""

    evaluations, consolidated = result.evaluations, result.consolidated
    plain = [evaluations[i.id].symbol for i in result.indicators if not rates_others(i)]
    open_rows = [(ind, evaluations[ind.id]) for ind in result.indicators
                 if evaluations[ind.id].symbol != ACHIEVED]
    filled = _filled_by_id({ind.id for ind, _ev in open_rows if _adds_up(ind)}, entries)
    names = settings.names
    # Each text made once per distinct input (all that gap_text and deadline_text read of
    # the row): a large master repeats its targets and values down the sheet, 133 distinct
    # gaps over 9,906 rows of the 20,000-indicator benchmark (0.08 s).
    gaps: dict[tuple, str] = {}
    deadlines: dict[tuple[str, bool], str] = {}
    # A project's 連携事業名 and a 目標値 published once each (layout.list_grid's way).
    projects: dict[tuple, str] = {}
    targets = PublishedTexts()
    out = []
    for ind, ev in open_rows:
        actual = consolidated[ind.id].actual if ind.id in consolidated else ""
        key = (ind.is_kpi, ind.rule, ind.method, ind.target, ind.baseline, actual, ev.symbol, ev.reason)
        gap = gaps.get(key)
        # Each text that quotes staff's own (a reason quoting a cell, a target of 32,767
        # characters) cut as every text the tool writes (values.fit_cell): 「評価できません: 」
        # before 一覧's reason, already cut to the limit, made a text the buttons could not write.
        if gap is None:
            gap = gaps[key] = fit_cell(gap_text(ind, actual, ev.symbol, ev.reason, settings, plain))
        deadline = deadlines.get((ind.target, ind.is_kpi))
        if deadline is None:
            deadline = deadlines[(ind.target, ind.is_kpi)] = fit_cell(
                deadline_text(ind, settings.fiscal_year, status_date(settings.fiscal_year, settings.base_date)))
        project = projects.get(pkey := project_key(ind))
        if project is None:
            project = projects[pkey] = project_shown(ind)
        out.append([published(ind.id), project, published(ind.name), ev.symbol,
                    targets[ind.target] or NO_VALUE, actual or NO_VALUE,
                    gap, deadline,
                    _missing_text(filled[ind.id], names) if _adds_up(ind) else "",
                    fit_cell(trend_text(ind.id, actual, ev.symbol, history, settings.fiscal_year, labels_of(ind)[1],
                                        recorded.get(ind.id, "")))])
    return out


def municipality_rows(indicators: Sequence[Indicator], entries: Sequence[Entry],
                      settings: Settings) -> list[list[object]]:
    """Per municipality: rows it reports on its sheet, how many are still empty, which."""
    reported = {i.id for i in indicators if (m := method_of(i)) is not None and m.reporters != NOBODY}
    by_muni: dict[str, list[Entry]] = {}
    for e in entries:                       # one pass: a large master has 200,000 entry rows
        if e.indicator_id in reported:
            by_muni.setdefault(e.municipality, []).append(e)
    out = []
    for name in settings.names:
        own = by_muni.get(name, [])
        empty = [e.indicator_id for e in own if not e.value.strip()]
        ids = listed(empty, limit=SHOWN_IDS)
        out.append([name, len(own), len(empty), ids or ("すべて入力済み" if own else "")])
    return out


class _Sheet:
    """The sheet's cells and, beside them, its values by row kind (HEADER, INDICATOR or
    other), from which its row heights are fitted (wrapped text shows whole: neither
    application sizes rows written into a file)."""

    def __init__(self) -> None:
        self.rows: list[list[Optional[Cell]]] = []
        self.grid = Grid()

    def add(self, kind: str, values: Sequence[object], looks: Sequence[str]) -> None:
        """A row of ``values`` in ``looks``; an empty text is an empty cell. (The pairs
        made by zip, in C: 100,000 cells on a large master.)"""
        if "" in values:
            cells: list[Optional[Cell]] = [(None if v == "" else v, look) for v, look in zip(values, looks)]
        else:
            cells = list(zip(values, looks))
        self.rows.append(cells)
        self.grid.add(kind, values)

    def heights(self) -> dict[int, float]:
        return fitted_heights(self.grid, WIDTHS)


def next_steps_title(settings: Settings) -> str:
    return f"{settings.region} {settings.fiscal_year}年度 次の一歩（{ACHIEVED}でない指標と未入力の行）"


def next_steps_sheet(result: Result, entries: Sequence[Entry], settings: Settings,
                     history: History, recorded: Mapping[str, str] = {}) -> SheetPlan:
    steps = step_rows(result, entries, settings, history, recorded)
    munis = municipality_rows(result.indicators, entries, settings)
    title = next_steps_title(settings)
    note = ("◎でない指標ごとに、目標までの差（その行の単位）・期限までの年数・まだ入力のない市町村・"
            "前年度との比較を示します。評価を再計算するたびに作り直します。")
    out = _Sheet()
    out.add(_OTHER, [title], ["title"])
    out.add(_OTHER, [note], ["legend"])
    out.add(HEADER, COLUMNS, ["header"] * len(COLUMNS))
    header = len(out.rows)
    sym_col = COLUMNS.index(_SYMBOL_HEAD) + 1
    looks = ["symbol" if k == sym_col else "body" for k in range(1, len(COLUMNS) + 1)]
    for values in steps:
        out.add(INDICATOR, values, looks)
    first, last = 4, len(out.rows)
    if not steps:
        out.add(INDICATOR, ["◎でない指標はありません。"], ["body"])
    out.add(_OTHER, [], [])
    summary_line = sum(r[2] for r in munis)
    out.add(_OTHER, [f"市町村ごとの未入力（合計 {summary_line} 行）"], ["title"])
    out.add(HEADER, MUNI_COLUMNS, ["header"] * len(MUNI_COLUMNS))
    for values in munis:
        out.add(INDICATOR, values, ["body"] * len(MUNI_COLUMNS))
    rows = out.rows
    sheet = SheetPlan(c.NEXT_STEPS, rows, widths={i: float(w) for i, w in enumerate(WIDTHS, start=1)},
                      freeze=(4, 2))
    # Printed as every other working sheet: one page wide, its header row on every page. It
    # had no page setup: its ten columns went over three portrait pages, the header row
    # only on the first, so most pages were rows of gaps and years without 指標ID or heads.
    sheet.print_setup = print_setup("a4", title_rows=(header, header))
    sheet.heights = out.heights()
    if steps:
        sheet.conditional = symbol_colours((first, sym_col, last, sym_col))
    return sheet

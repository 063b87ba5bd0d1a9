"""What 一覧, 集計 and 検証結果 contain, as plain grids.

The sheet builders (sheet_list, sheet_summary, sheet_findings) turn these grids into sheet
plans, a named look per cell by its row kind, which both appliers write alike: part by
part into a file (renkei_xl.workbook.apply) and through xlwings into the open workbook
(renkei_xl.excel.apply). Building the content once here is what makes "the buttons and
the command line give the same 一覧" true by construction.
"""

from __future__ import annotations

from typing import Optional, Sequence

from .methods import NO_VALUE
from .model import SYMBOLS, SYMBOL_LABELS, Finding, Indicator, Result, Settings
from .contract import (FINDING_COLUMNS, LIST_COLUMNS, legend, list_columns, list_title)
from .values import INPUT_ERROR, fit_cell, published

# Row kinds: renkei_xl.core.sheet_grid picks each cell's look by them.
TITLE, LEGEND, HEADER, ROLE_KPI, INDICATOR, BLANK, TOTAL = (
    "title", "legend", "header", "kpi", "indicator", "blank", "total")


class Grid:
    """Rows of values with a kind each. (Plain classes rather than dataclasses on the path
    every command takes: importing dataclasses and generating their methods costs about a
    fifth of a command's run on the FY2023 master; benchmarks/run.py.)"""

    __slots__ = ("rows", "kinds", "merges", "header_row")

    def __init__(self) -> None:
        self.rows: list[list[object]] = []
        self.kinds: list[str] = []
        # (first_row, first_col, last_row, last_col), 0-based and inclusive
        self.merges: list[tuple[int, int, int, int]] = []
        self.header_row: Optional[int] = None

    def add(self, kind: str, values: Sequence[object]) -> int:
        self.rows.append(list(values))
        self.kinds.append(kind)
        return len(self.rows) - 1

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)

    def padded(self) -> list[list[object]]:
        w = self.width
        return [r + [None] * (w - len(r)) for r in self.rows]


def list_grid(result: Result, settings: Settings, confirmed: bool = False) -> Grid:
    """一覧 laid out like the official document: per 役割, its 【基本KPI】 rows, then its projects
    (``confirmed``: the 確定版's, titled as the published one is)."""
    g = Grid()
    g.add(TITLE, [list_title(settings.region, settings.fiscal_year, confirmed)])
    g.add(LEGEND, [legend(settings.threshold)])
    g.header_row = g.add(HEADER, list_columns(settings.base_date))
    width = len(LIST_COLUMNS)
    by_role = _by_role(result.indicators)
    evaluations, consolidated = result.evaluations, result.consolidated
    status = _status_of(confirmed)
    grid_rows, kinds = g.rows, g.kinds     # appended to directly: 20,000 rows on a large master
    # 指標's texts as a cell can hold them (values.fit_cell; 入力チェック warns of each cut):
    # a 事業概要 pasted whole would be refused by Excel on the buttons and over its limit in a
    # file. An error value is never published as its text (values.published).
    fit = published
    # The texts a project's rows or a large master's rows share (連携事業名, 事業概要, 基準値,
    # 目標値: 20,000 rows hold about 7,000 distinct) published once each, looked up in C after
    # (perf-112); 評価指標 and 指標ID, distinct on nearly every row, are published as they come.
    shared = PublishedTexts()
    projects: dict[tuple, str] = {}
    for role, members in by_role.items():
        shown_role = fit(role)
        ordered = [i for i in members if i.is_kpi] + _by_project([i for i in members if not i.is_kpi])
        first_row = len(grid_rows)
        groups: dict[tuple, list[int]] = {}
        for ind in ordered:
            ev = evaluations[ind.id]
            c = consolidated[ind.id]
            key = project_key(ind)
            project = projects.get(key)
            if project is None:     # project_shown reads only what project_key holds
                project = projects[key] = project_shown(ind)
            summary = "" if ind.is_kpi else shared[ind.summary]
            groups.setdefault(key, []).append(len(grid_rows))
            kinds.append(ROLE_KPI if ind.is_kpi else INDICATOR)
            grid_rows.append([shown_role if _has_role(ind) else "", project, summary, fit(ind.name),
                              shared[ind.baseline] or NO_VALUE, shared[ind.target] or NO_VALUE, c.actual or NO_VALUE,
                              ev.symbol, status(c, ev), fit(ind.id), ev.ratio])
        # The role's cell over each run of its rows, broken by a row without a role: that
        # row keeps an empty cell of its own instead of reading as the role above it.
        run = first_row
        for r in range(first_row, len(grid_rows) + 1):
            if r == len(grid_rows) or not _has_role(ordered[r - first_row]):
                if r - 1 > run:
                    g.merges.append((run, 0, r - 1, 0))
                run = r + 1
        for key, rows in groups.items():
            if key == ("kpi",):
                for r in rows:  # 【基本KPI】 spans 連携事業名 and 事業概要, row by row
                    g.merges.append((r, 1, r, 2))
                if len(rows) > 1:
                    # one label over all KPI rows, as printed
                    g.merges[-len(rows):] = [(rows[0], 1, rows[-1], 2)]
            elif len(rows) > 1 and rows == list(range(rows[0], rows[-1] + 1)):
                g.merges.append((rows[0], 1, rows[-1], 1))
                g.merges.append((rows[0], 2, rows[-1], 2))
    assert all(len(r) <= width for r in g.rows)
    return g


def _status_of(confirmed: bool):
    """How a row's 連携事業実施状況等 is shown: the 確定版 publishes an input error's row
    without its cells (consolidate.published_status), the master's 一覧 names them."""
    if confirmed:
        from .consolidate import published_status

        return published_status
    return lambda consolidated, _evaluation: consolidated.status_text


class PublishedTexts(dict):
    """text → values.published(text), each distinct text published once: kept for one list
    only (一覧's, 次の一歩's), so it holds no more than the list's own texts, and only while it
    is made."""

    def __missing__(self, text: str) -> str:
        shown = self[text] = published(text)
        return shown


def project_shown(ind: Indicator) -> str:
    """連携事業名 as the lists show it (「4　名前」): published, its 連携事業名 an error value too
    (「4　#N/A」 is no error value's text, yet holds one)."""
    return published(ind.project_name if not ind.is_kpi and published(ind.project_name) == INPUT_ERROR
                     else ind.project_label)


def _has_role(ind: Indicator) -> bool:
    return bool(ind.role) and bool(str(ind.role).strip())


def project_key(ind: Indicator) -> tuple:
    """The project a row belongs to on 一覧: the rows merged under one 連携事業名 cell."""
    return ("kpi",) if ind.is_kpi else ("p", ind.project_no, ind.project_name)


def _by_project(members: Sequence[Indicator]) -> list[Indicator]:
    """A role's project rows with each project's indicators together, the projects in the
    order they first appear and each project's rows in 指標's order. An indicator added at
    the bottom of 指標 (「05-4」 under 54-1) was listed after the role's last project, its
    連携事業名 and 事業概要 printed a second time, and project 5's cells left unmerged: the
    published list showed project 5 twice and out of its place, with no finding."""
    groups: dict[tuple, list[Indicator]] = {}
    for ind in members:
        groups.setdefault(project_key(ind), []).append(ind)
    return [ind for rows in groups.values() for ind in rows]


def _by_role(indicators: Sequence[Indicator]) -> dict[str, list[Indicator]]:
    """役割 → its indicators in 指標's order, the roles in the order they first appear. A row
    without a role (入力チェック's error) stays where 指標 has it, after the row before it,
    with its role cell empty and not merged into that role's (layout): grouped under 「」 it
    moved to the end of 一覧, below the last role's merged cell, as if that were its role.
    (A row without a role first of all stands alone at the top.)"""
    by_role: dict[str, list[Indicator]] = {}
    current: Optional[str] = None
    for ind in indicators:
        if _has_role(ind) or current is None:
            current = ind.role
        by_role.setdefault(current, []).append(ind)
    return by_role


def summary_title(settings: Settings) -> str:
    return f"{settings.region} {settings.fiscal_year}年度 評価の集計"


def summary_grid(result: Result, settings: Settings) -> Grid:
    """集計: counts per symbol overall and per 役割, and the 達成割合 line."""
    s = result.summary
    g = Grid()
    g.add(TITLE, [summary_title(settings)])
    g.add(BLANK, [])
    g.header_row = g.add(HEADER, ["区分", *(f"{sym} {SYMBOL_LABELS[sym]}" for sym in SYMBOLS), "計"])
    g.add(TOTAL, ["全体", *(s.counts.get(sym, 0) for sym in SYMBOLS), sum(s.counts.values())])
    for role, counts in s.by_role.items():
        g.add(INDICATOR, [published(role), *(counts.get(sym, 0) for sym in SYMBOLS), sum(counts.values())])
    g.add(BLANK, [])
    r = g.add(TOTAL, ["達成割合", s.rate_text or NO_VALUE,
                      f"達成済み・達成見込み{s.achieved}／評価可能{s.evaluable}{s.left_out_text}"])
    g.merges.append((r, 2, r, len(SYMBOLS) + 1))
    return g


def findings_grid(findings: Sequence[Finding]) -> Grid:
    """検証結果's rows. A finding's 指標ID is the text staff typed, as long as Excel let them
    (32,767 characters in a municipality sheet's 指標ID): cut as every text the tool writes
    (values.fit_cell), or the buttons, which write it after Excel's text prefix, asked Excel
    for 32,768 characters (error 1004; found by tests/fuzz/faces_fuzz.py, seed 12098)."""
    g = Grid()
    g.header_row = g.add(HEADER, FINDING_COLUMNS)
    for f in findings:
        g.add(INDICATOR, [f.severity, f.sheet, f.cell, fit_cell(f.indicator_id), fit_cell(f.message),
                          fit_cell(f.hint)])
    return g


def status_line(what: str, result: Result) -> str:
    """The メニュー status after a run; both faces write exactly this."""
    return f"{what}: {result.summary.line()}  {result.report.counts(spaced=False)}"

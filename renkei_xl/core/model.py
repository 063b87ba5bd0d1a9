"""Plain records shared by the core and every adapter.

The core (values, rules, consolidation, validation) only ever sees these dataclasses,
never a worksheet: the same rule then serves a file on disk read by python-calamine, a live
workbook read through xlwings, and a test. Each record remembers where it came from
(sheet and cell) so that a finding can point the staff at the exact cell.
"""

# No ``from __future__ import annotations`` here: typing.NamedTuple compiles each string
# annotation (a ForwardRef), and this module's ten records are made at every command's start.

import datetime as _dt
from types import MappingProxyType
from typing import Mapping, NamedTuple, Optional

# The names staff pick from (区分, 集計方法, 評価方法) are defined in choices.py.
from . import contract as c
from .choices import CENTRAL_CITY, METHOD_MANUAL, PARTNER
# The five evaluation symbols are typed in core.symbols; the package names them from here.
from .symbols import ACHIEVED, EVALUABLE, MISSED, NEARLY, NOT_EVALUABLE, NOT_YET, SYMBOLS  # noqa: F401
from .values import count_text, format_rate, one_line

SYMBOL_LABELS = {
    ACHIEVED: "達成済み",
    NEARLY: "概ね達成",
    MISSED: "達成不可",
    NOT_YET: "評価時期前・未集計",
    NOT_EVALUABLE: "評価不可",
}

ERROR = "エラー"
WARNING = "警告"

DEFAULT_THRESHOLD = 0.85   # 概ね達成閾値 a new master gets (init); an emptied cell is refused, not guessed


# Records built without cell references (the reference list, tests) share this empty one.
NO_CELLS: Mapping[str, str] = MappingProxyType({})


class Municipality(NamedTuple):
    """One row of 設定's municipality table. ``cells`` (field → "D11" on 設定, as the reader
    found the row) lets a refusal about the row name the cell staff put right: 「設定!A11」 for
    a name with no sheet, 「設定!D11」 for an address, where the place was the missing sheet or
    「シート「設定」の小樽市」 alone (qa-133)."""
    name: str
    kind: str = PARTNER           # 中心市 / 連携市町村
    department: str = ""          # 担当部署
    email: str = ""               # メールアドレス
    cells: Mapping[str, str] = NO_CELLS

    def cell(self, field_name: str) -> str:
        return self.cells.get(field_name, "")

    def place(self, field_name: str) -> str:
        """「設定!D11」, or "" for a record built without cells (the reference list, tests)."""
        cell = self.cells.get(field_name, "")
        return f"{c.SETTINGS}!{cell}" if cell else ""


class Settings(NamedTuple):
    region: str                   # 圏域名
    fiscal_year: int              # 対象年度 (年度 runs April–March)
    base_date: Optional[_dt.date] = None   # 基準日
    threshold: float = DEFAULT_THRESHOLD   # 概ね達成閾値
    municipalities: tuple[Municipality, ...] = ()

    @property
    def central(self) -> Optional[Municipality]:
        # A loop, not next() over a generator: asked for every 中心市のみ row's roll-up
        # (methods._feeding), where making the generator cost more than the look.
        for m in self.municipalities:
            if m.kind == CENTRAL_CITY:
                return m
        return None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.municipalities)


KPI_LABEL = "【基本KPI】"     # what stands for the project on a 基本KPI row


class Indicator(NamedTuple):
    """One row of 指標 (or one 基本KPI row). Values stay the strings staff typed."""
    id: str                       # 指標ID
    role: str                     # 役割
    project_no: Optional[int]     # 事業No (None for 基本KPI)
    project_name: str             # 連携事業名
    summary: str                  # 事業概要
    name: str                     # 評価指標
    baseline: str = ""            # 基準値
    target: str = ""              # 目標値
    method: str = METHOD_MANUAL   # 集計方法
    rule: str = ""                # 評価方法 (empty: inferred)
    actual_manual: str = ""       # 実績値（手入力）
    status_manual: str = ""       # 実施状況（手入力）
    is_kpi: bool = False          # 基本KPI
    sheet: str = c.INDICATORS
    row: Optional[int] = None
    cells: Mapping[str, str] = NO_CELLS  # field name -> "G5"

    def cell(self, field_name: str) -> str:
        return self.cells.get(field_name, "")

    @property
    def project_label(self) -> str:
        """The 連携事業名 column of 一覧, 次の一歩 and 経年: 「3　名前」, or 【基本KPI】."""
        if self.is_kpi:
            return KPI_LABEL
        return f"{self.project_no}　{self.project_name}" if self.project_no is not None else self.project_name


class Entry(NamedTuple):
    """One row of a municipality sheet: what that municipality reports for one indicator."""
    municipality: str
    indicator_id: str
    value: str = ""               # 実績値
    denominator: str = ""         # 分母 (比率 only)
    status: str = ""              # 実施状況
    unit: str = ""                # 単位 (informational, from the sheet)
    sheet: str = ""
    row: Optional[int] = None
    cells: Mapping[str, str] = NO_CELLS
    previous: str = ""            # 「前年度実績（前年度）」 beside the row, as rollover wrote it

    def cell(self, field_name: str) -> str:
        return self.cells.get(field_name, "")


class Consolidated(NamedTuple):
    """What the municipality sheets add up to for one indicator."""
    indicator_id: str
    actual: str                   # 実績値 as printed, e.g. "21件"
    breakdown: str = ""           # 「（札幌市17件、小樽市2件、千歳市1件、恵庭市1件）」
    status_text: str = ""         # 連携事業実施状況等, breakdown appended where it applies


class Evaluation(NamedTuple):
    indicator_id: str
    symbol: str
    reason: str                   # Japanese, e.g. 「9件／10件 = 90.0%（85%以上）」
    ratio: Optional[float] = None  # 達成率 where one exists, as printed (rules.shown_ratio)


class Finding(NamedTuple):
    """A validation finding, modelled on frictionless-py's errors: a record, not a string."""
    type: str                     # machine-readable code, e.g. "unit-mismatch"
    severity: str                 # エラー / 警告
    sheet: str
    cell: str                     # "G5" ("" when the finding is about a whole sheet)
    indicator_id: str
    message: str                  # 内容 (Japanese)
    hint: str = ""                # 修正のヒント (Japanese)

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    @property
    def place(self) -> str:
        return f"{self.sheet}!{self.cell}" if self.cell else self.sheet

    @property
    def said(self) -> str:
        """内容 on the one line a listing gives each finding (the command's printout, a
        button's message, a report): a value quoted with its line break (「約10件⏎2行目」)
        ended the line there, and its rest read as a line of its own, not as that finding's."""
        return one_line(self.message)


class Report(NamedTuple):
    """The findings of one run with their counts: what every face reports in one sentence."""
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.is_error)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.is_error)

    @property
    def ok(self) -> bool:
        """No error (warnings do not stop anything)."""
        return not any(f.is_error for f in self.findings)

    def counts(self, spaced: bool = True) -> str:
        """「エラー 2 件、警告 1 件」 (or 「エラー2件 警告1件」 for the one-line status)."""
        e, w = count_text(len(self.errors)), count_text(len(self.warnings))
        return f"エラー {e} 件、警告 {w} 件" if spaced else f"エラー{e}件 警告{w}件"


def left_out_text(count: int) -> str:
    """What the 達成割合 says of the rows an input error keeps out of it ("" if none)."""
    return f"（入力エラーで評価不可の{count}件を除く）" if count else ""


class Summary(NamedTuple):
    counts: Mapping[str, int]                    # symbol -> count, all rows
    by_role: Mapping[str, Mapping[str, int]]     # 役割 -> symbol -> count
    achieved: int                                # ◎
    evaluable: int                               # ◎ + □ + ×
    rate: Optional[float]                        # achieved / evaluable
    left_out: int = 0                            # － because an input holds an error

    @property
    def left_out_text(self) -> str:
        return left_out_text(self.left_out)

    @property
    def rate_text(self) -> str:
        return "" if self.rate is None else format_rate(self.rate)

    @property
    def fraction_text(self) -> str:
        return f"{self.achieved}／{self.evaluable}"

    @property
    def rate_line(self) -> str:
        """The 達成割合 as both faces print it; with nothing evaluable, said so (「0／0 = 」 said nothing)."""
        if self.rate is None:
            return "達成割合: 評価できる指標がありません"
        return f"達成割合 {self.fraction_text} = {self.rate_text}{self.left_out_text}"

    def line(self) -> str:
        parts = " ".join(f"{s}{self.counts.get(s, 0)}" for s in SYMBOLS)
        return f"{parts}  {self.rate_line}"


class Result(NamedTuple):
    """One recalculation: consolidated values, evaluations, findings and the summary."""
    indicators: tuple[Indicator, ...]
    consolidated: Mapping[str, Consolidated]
    evaluations: Mapping[str, Evaluation]
    findings: tuple[Finding, ...]
    summary: Summary

    @property
    def report(self) -> Report:
        return Report(tuple(self.findings))

    @property
    def errors(self) -> tuple[Finding, ...]:
        return self.report.errors

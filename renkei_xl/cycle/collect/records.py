"""What a collect reports: the cell changes, the refusals with their reasons, the 取込履歴
rows, and one checked returned file (a Submission)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import NamedTuple, Optional, Sequence

from ...core.contract_read import text
from ..distribute import KEY_NAME

INPUT_FIELDS = ("value", "denominator", "status")
LOG_COLUMNS = ("ファイル名", "市町村", "取込日時", "変更セル数", "SHA-256", "提出日時")
ALREADY = "already"   # Refusal.kind of a file imported before: not an error, nothing to do
REFUSED = "refused"
# Said once per collect when the master has no key (plan_collect was given key=None).
UNKEYED_NOTE = (f"注意: このマスターには照合用の鍵（非表示の名前「{KEY_NAME}」）がありません（鍵を持たない古い版で"
                "作ったマスターです）。回収ファイルは指標の確認コードだけで確認しました。"
                "市町村名などを書き換えたファイルは見分けられません")


class Change(NamedTuple):
    sheet: str
    cell: str
    indicator_id: str
    field: str          # the column's header text: 実績値, 分母, 実施状況
    old: object         # the master's value as text ("" when empty)
    new: object         # the value to write: a number, a string or None

    def line(self) -> str:
        return f"{self.sheet}!{self.cell} {self.indicator_id} {self.field}: {_shown(self.old)} → {_shown(self.new)}"


class Refusal(NamedTuple):
    path: Path
    reason: str
    kind: str = REFUSED

    def line(self) -> str:
        mark = "取込済み" if self.kind == ALREADY else "取り込みません"
        return f"{mark}: {self.path.name}: {self.reason}"


class ImportRecord(NamedTuple):
    file_name: str
    municipality: str
    imported_at: dt.datetime
    changed_cells: int
    sha256: str
    submitted_at: Optional[dt.datetime]


class CollectReport:
    __slots__ = ("changes", "refusals", "records", "dry_run", "written")

    def __init__(self, changes: list[Change], refusals: list[Refusal], records: list[ImportRecord],
                 dry_run: bool = False, written: object = None):
        self.changes, self.refusals, self.records = changes, refusals, records
        self.dry_run = dry_run
        self.written = written                  # session.Written when the master was written

    @property
    def refused(self) -> list[Refusal]:
        return [r for r in self.refusals if r.kind == REFUSED]

    @property
    def already(self) -> list[Refusal]:
        return [r for r in self.refusals if r.kind == ALREADY]

    def lines(self) -> list[str]:
        out = [ch.line() for ch in self.changes]
        out += [r.line() for r in self.refusals]
        for rec in self.records:
            out.append(f"取込{'予定' if self.dry_run else ''}: {rec.file_name}（{rec.municipality}、"
                       f"変更 {rec.changed_cells} セル）")
        return out


def _shown(value: object) -> str:
    t = text(value)
    return t if t else "（空欄）"


class Refused(Exception):
    """One file refused, with the Japanese reason the report shows."""
    def __init__(self, reason: str, kind: str = REFUSED):
        super().__init__(reason)
        self.reason, self.kind = reason, kind


class Submission(NamedTuple):
    path: Path
    sha256: str
    municipality: str
    modified: Optional[dt.datetime]
    values: dict[str, dict[str, object]]   # 指標ID -> field -> value to import


def cell_at(row: Sequence[object], col: int) -> object:
    """The value in 1-based column ``col`` of a grid row (rows end at their last value)."""
    return row[col - 1] if col - 1 < len(row) else None

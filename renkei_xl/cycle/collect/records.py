"""What a collect reports: the cell changes, the refusals with their reasons, the 取込履歴
rows, and one checked returned file (a Submission)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Mapping, NamedTuple, Optional, Sequence

from ...core.contract import COLLECT, IMPORT_LOG, INPUT_FIELDS  # noqa: F401  (INPUT_FIELDS: read here by inspect and collect)
from ...core.contract_read import text
from ...core.held import WAS_COLUMN
from ...core.model import NO_CELLS, Finding
from ...core.seal import KEY_NAME
from ...core.values import RICH_VALUE, RICH_VALUE_NAMED, count_text, one_line

# The column where 取込履歴 lists the cells a file had that were left out (held_cells): every
# one of them, as the message's 「…ほか n か所」 says. It listed 20 and counted the rest, so
# 30 cells of a return with 50 held were recorded nowhere (入力チェック names none of them:
# the master keeps its value, empty or earlier, which its rules accept), and a second
# collect of the same file says it was imported already.
HELD_COLUMN = "取り込まなかったセル"
# WAS_COLUMN (what the master's held cells held at the import: core.held) came after it, added
# the same way to an older log.
LOG_COLUMNS = ("ファイル名", "市町村", "取込日時", "変更セル数", "SHA-256", "提出日時", HELD_COLUMN, WAS_COLUMN)
# The head of a 取り込まなかったセル too long to give each cell its reason within one cell
# (values.CELL_TEXT_LIMIT): the places alone, all of them. The reasons are in the return, which
# stays in the folder: the message lists said.SHOWN_CELLS of them and points here for the rest, so
# 「理由は取込時のメッセージのとおり」 sent staff round in a circle past the tenth cell.
PLACES_ONLY = "{n} か所（多いため場所だけを記録。理由は回答ファイルのそれぞれのセルで確かめてください）: "
ALREADY = "already"   # Refusal.kind of a file imported before: not an error, nothing to do
SAME = "same"         # Refusal.kind of a byte-identical copy of a file imported in this run: not an error
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

    @property
    def name(self) -> str:
        """The file's name as both faces show it (printable: shown_file_name)."""
        return shown_file_name(self.path)


def readable_name(path: Path) -> bool:
    """Whether the file's name is text (on Linux, a name in bytes that are not UTF-8, such
    as Shift_JIS from a Windows ZIP unpacked on the server, comes as surrogate escapes,
    which neither a terminal nor the workbook's XML can hold)."""
    try:
        path.name.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def shown_file_name(path: Path) -> str:
    """``path``'s name, printable: as it is, else its bytes read as Windows' Japanese
    (cp932) when they are that, else with the bytes that are not text as \\xNN."""
    if readable_name(path):
        return path.name
    raw = os.fsencode(path.name)
    try:
        return raw.decode("cp932")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "backslashreplace")


class ImportRecord(NamedTuple):
    file_name: str
    municipality: str
    imported_at: dt.datetime
    changed_cells: Optional[int]   # None: a record read back whose 変更セル数 is no count
    sha256: str
    submitted_at: Optional[dt.datetime]
    held_cells: str = ""          # the bad cells left out, 「小樽市!E7（エラー値「#REF!」）、…」
    held_was: str = ""            # what the master's cells of them held then (core.held.was_text)
    # LOG_COLUMNS' position (as text: "5") → the cell on 取込履歴 (「F2」) of a record read back
    # from the log, so that a refusal over it names the cell (qa-133); none for a record of this
    # run. No column: the writer takes the first len(LOG_COLUMNS) fields alone.
    cells: Mapping[str, str] = NO_CELLS

    def place(self, column: int) -> str:
        """「取込履歴!F2」 for LOG_COLUMNS[column] of a record read back, else ""."""
        cell = self.cells.get(str(column), "")
        return f"{IMPORT_LOG}!{cell}" if cell else ""


class CollectReport:
    __slots__ = ("changes", "refusals", "records", "dry_run", "written", "held_by_file", "kept_by_file",
                 "noted_by_file", "year", "later", "master")

    def __init__(self, changes: list[Change], refusals: list[Refusal], records: list[ImportRecord],
                 dry_run: bool = False, written: object = None,
                 held_by_file: Sequence[tuple[str, Sequence[Finding]]] = (),
                 kept_by_file: Sequence[tuple[str, Sequence[Finding]]] = (),
                 noted_by_file: Sequence[tuple[str, Sequence[Finding]]] = ()):
        self.changes, self.refusals, self.records = changes, refusals, records
        self.held_by_file = [(name, tuple(found)) for name, found in held_by_file if found]
        self.kept_by_file = [(name, tuple(found)) for name, found in kept_by_file if found]
        self.noted_by_file = [(name, tuple(found)) for name, found in noted_by_file if found]
        self.dry_run = dry_run
        self.written = written                  # session.Written when the master was written
        self.year: Optional[int] = None         # the master's 対象年度
        self.later: Optional[Path] = None       # next year's master beside it (later_year.next_master)
        self.master: Optional[Path] = None      # this year's, as collect was given it (with ``later``)

    @property
    def refused(self) -> list[Refusal]:
        return [r for r in self.refusals if r.kind == REFUSED]

    @property
    def already(self) -> list[Refusal]:
        return [r for r in self.refusals if r.kind == ALREADY]

    @property
    def same(self) -> list[Refusal]:
        """Copies of a file this run imports (an attachment saved twice): named, not refused."""
        return [r for r in self.refusals if r.kind == SAME]

    @property
    def held(self) -> list[tuple[str, Finding]]:
        """(file name, finding) of each cell not imported from a file otherwise imported."""
        return [(name, f) for name, found in self.held_by_file for f in found]

    @property
    def kept(self) -> list[tuple[str, Finding]]:
        """(file name, finding) of each master cell changed after the split that the file
        returned as issued: the master's value was kept."""
        return [(name, f) for name, found in self.kept_by_file for f in found]

    @property
    def noted(self) -> list[tuple[str, Finding]]:
        """(file name, finding) of each warning the master's 入力チェック gives on a cell the
        file's municipality typed, imported all the same (inspect._holds), and of each label
        typed over since the split (inspect._labels_since_issue)."""
        return [(name, f) for name, found in self.noted_by_file for f in found]

    def imported_line(self) -> str:
        """What was imported, in the words the command line and メニュー's status share."""
        return f"{len(self.records)} ファイル、{len(self.changes)} セルを取り込みました"

    def status_line(self) -> str:
        """メニュー's 最終実行結果 after an import, on every face (core.plan.collect_plan): the
        button marks it under way first and writes this last, so an import Excel stopped
        halfway is told by the book as a stopped 再計算 is (client-126), and one that finished
        replaces the mark with what it did."""
        held = held_count(self.held)
        return f"{COLLECT}: {self.imported_line()}" + (f"（取り込まなかったセル {held} か所）" if held else "")


def recalc_next(master: str = "") -> str:
    """The step after cells were imported: 一覧 and 集計 still show the old values until
    評価を再計算. The button said it; the command line said nothing, and staff exported a
    確定版 that export then flagged as differing from 一覧. Said as every other step is
    (core.carry.recalc_step, ``master`` the file the command line was given): its own
    spelling left a master named 「受付 2024年度.xlsm」 unquoted, a command that failed as copied."""
    from ...core.carry import recalc_step

    return f"続けて{recalc_step(master, 0, 'てください')}。"


def held_line(file_name: str, f: Finding) -> str:
    """One cell not imported, as the report shows it."""
    return (f"取り込みません: {file_name}: {f.place} {f.indicator_id}: {f.said}"
            "（この行は取り込まず、マスターの値のままです）")


def kept_line(file_name: str, f: Finding) -> str:
    """One master cell kept against an untouched returned cell, as the report shows it."""
    return f"マスターの値のまま: {file_name}: {f.place} {f.indicator_id}: {f.said}"


def noted_line(file_name: str, f: Finding) -> str:
    """One warning on an imported cell, in 入力チェック's words (the same finding) with the
    file it came in."""
    return f"{f.severity}: {file_name}: {f.place} {f.indicator_id}: {f.said}"


def held_summary(held: Sequence[tuple[str, Finding]], done: bool = True) -> str:
    """What both faces say when cells were left out (README: 回収ファイル取込), of ``held``
    (file name, finding): counted by cell, as it says, not by reason (a formula's #REF! in
    a file no application calculated is two reasons for one cell, and was 「2 か所」). ``done``
    False: nothing was written (a dry run, an import cancelled), and it is said of what the
    import would do, not of what 取込履歴 holds. Every cell is there (held_cells), its
    reason with it unless they are too many for one cell: 「場所と理由は…にもあります」 was
    said of a record that named 20 and counted the rest."""
    count = held_count(held)
    if not done:
        return (f"取り込まないセル {count} か所: 誤りのあるセルを含む行は取り込まず、マスターの値のままにします"
                f"（ほかの行は取り込みます）。取り込むと、どのセルもシート「{IMPORT_LOG}」の「{HELD_COLUMN}」に"
                "記録されます。市町村に直したファイルを送ってもらうか、マスターに直接入力してください")
    return (f"取り込まなかったセル {count} か所: 誤りのあるセルを含む行は取り込まず、マスターの値のままにしました"
            f"（ほかの行は取り込みました）。どのセルもシート「{IMPORT_LOG}」の「{HELD_COLUMN}」に記録しました。"
            "市町村に直したファイルを送ってもらうか、マスターに直接入力してください")


def held_count(held: Sequence[tuple[str, Finding]]) -> int:
    """The cells left out, counted by cell (file name, place), not by reason."""
    return len({(name, f.place) for name, f in held})


def held_cells(found: Sequence[Finding]) -> str:
    """The cells left out, as 取込履歴 lists them, every one in the row's one cell (the log
    is a row per file: a row more would be read as an import of its own): place and what
    was wrong, in short; the places alone where that is longer than a cell holds
    (values.CELL_TEXT_LIMIT: about 400 cells with their reasons, 2,900 by place). A file
    holding more than that is refused whole (Refused), not imported with cells no record
    names: nothing of it is taken, and it stays in the folder, its reason said."""
    from ...core.values import CELL_TEXT_LIMIT, cell_length

    places = list(dict.fromkeys(f.place for f in found))       # a cell held for two reasons is one cell
    said = "、".join(dict.fromkeys(f"{f.place}（{_short(f)}）" for f in found))
    if cell_length(said) <= CELL_TEXT_LIMIT:
        return said
    said = PLACES_ONLY.format(n=count_text(len(places))) + "、".join(places)
    if cell_length(said) <= CELL_TEXT_LIMIT:
        return said
    raise Refused(f"誤りのあるセルが {count_text(len(places))} か所あり、シート「{IMPORT_LOG}」の「{HELD_COLUMN}」の"
                  "1 つのセルに記録しきれないため、このファイルからは何も取り込みません。市町村に直したファイルを"
                  "送ってもらい、もう一度取り込んでください")


def held_was(sub: "Submission", found: Sequence[Finding], entries: Mapping) -> str:
    """取込履歴's WAS_COLUMN for the held cells ``found`` of ``sub``: what the master's cell of
    each held input held at this import (core.held), so that 確定版を書き出し and the rollover
    can tell a cell staff typed in since from one still outstanding. ``entries``:
    (municipality, 指標ID) → the master's Entry. A cell of no input column (a row added since
    the split: its 指標ID) is no answer the municipality sent, and is left out."""
    from ...core.contract import ENTRY_HEADERS
    from ...core.held import was_text
    from ...core.values import CELL_TEXT_LIMIT, cell_length

    cells = []
    for f in found:
        fields = {cell: name for name, cell in sub.cells.get(f.indicator_id, {}).items() if name in INPUT_FIELDS}
        entry = entries.get((sub.municipality, f.indicator_id))
        if f.cell in fields and entry is not None and entry.cell(fields[f.cell]):
            cells.append((f.place, f.indicator_id, ENTRY_HEADERS[fields[f.cell]], text(getattr(entry, fields[f.cell]))))
    said = was_text(list(dict.fromkeys(cells)))
    if cell_length(said) > CELL_TEXT_LIMIT:
        raise Refused(f"誤りのあるセルが多く、シート「{IMPORT_LOG}」の「{WAS_COLUMN}」の 1 つのセルに記録しきれないため、"
                      "このファイルからは何も取り込みません。市町村に直したファイルを送ってもらい、もう一度取り込んでください")
    return said


def _short(f: Finding) -> str:
    """The message's first clause: up to its first 「（」 or 「。」 outside a quoted 「value」, so
    a returned 「12（見込み）」 is not cut inside its quotes; at most 60 characters."""
    depth = 0
    for i, ch in enumerate(f.message):
        depth += (ch == "「") - (ch == "」")
        if depth <= 0 and ch in "（。":
            return f.message[:i][:60]
    return f.message[:60]


def _shown(value: object) -> str:
    """A cell's value in a change line: 「（空欄）」 for nothing, a picture in the master's
    cell (values.RICH_VALUE) as what staff see there, not the reader's placeholder, and a
    text on the line's one line (values.one_line): staff confirm the changes by these lines
    before the import, and a returned 実施状況 with a line break could add one of its own."""
    t = text(value)
    return RICH_VALUE_NAMED if t == RICH_VALUE else one_line(t) if t else "（空欄）"


class Refused(Exception):
    """One file refused, with the Japanese reason the report shows."""
    def __init__(self, reason: str, kind: str = REFUSED):
        super().__init__(reason)
        self.reason, self.kind = reason, kind
        self.attribution = None     # inspect.Attribution, where inspect_file opened the book


class Submission(NamedTuple):
    path: Path
    sha256: str
    municipality: str
    modified: Optional[dt.datetime]
    values: dict[str, dict[str, object]]   # 指標ID -> field -> value to import
    held: tuple[Finding, ...] = ()         # bad cells: their rows are not among ``values``
    issued: dict[str, dict[str, str]] = {}  # 指標ID -> field -> the cell's text as issued (if kept)
    issued_at: Optional[dt.datetime] = None  # when split issued the file (RenkeiIssued)
    cells: dict[str, Mapping[str, str]] = {}  # 指標ID -> field -> the file's cell
    noted: tuple[Finding, ...] = ()        # warnings on cells typed (the master's rules, labels), imported all the same


def cell_at(row: Sequence[object], col: int) -> object:
    """The value in 1-based column ``col`` of a grid row (rows end at their last value)."""
    return row[col - 1] if col - 1 < len(row) else None

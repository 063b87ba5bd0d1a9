"""回収ファイル取込: returned input workbooks checked, diffed against the master and imported.

Every file is judged on its own and either yields cell changes or one refusal line; a
refused file changes nothing. Only the accepted files are applied, all in one write of
the master (one backup, one atomic rename). The planning half (``plan_collect``) works on
plain records, so the xlwings button can show the same changes and apply them through
Excel itself.

What is refused, and why it matters to the office:
- not a workbook, a truncated zip, a password-encrypted file (an OLE compound file:
  Excel stores encrypted .xlsx that way), a file with a VBA project: nothing in it can be
  read safely, or it must not enter the master (LGWAN strips macros; SPEC §4);
- no identifier, another municipality or year, another template version, a changed
  indicator list (fingerprint): the answers would land on the wrong questions;
- a seal that does not match the master's key (renkei_xl.cycle.distribute.master_key), or none
  when the master has a key: a file relabelled as another municipality's, forged, or
  issued by another master. A master without a key (built before keys existed) can only
  check the plain fingerprint (UNKEYED_NOTE);
- rows deleted or added, headers renamed: the cells no longer mean what the master thinks;
- values the master's own validation (renkei_xl.core.validate) calls errors;
- a submission older than one already imported (core ``modified``), unless ``force``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from pathlib import Path
from typing import Callable, Iterable, NamedTuple, Optional, Sequence

from ..core import contract as c
from ..core.book_kind import MASTER, not_a_return, recognise
from ..core.contract_read import Book, MasterData, text
from .distribute import (ID_LABELS, KEY_NAME, L_SEAL, P_FINGERPRINT, P_ISSUED, P_MUNICIPALITY, P_SEAL,
                         P_VERSION, P_YEAR, TEMPLATE_VERSION, municipality_fingerprint, municipality_seal,
                         seal_matches)
from ..core.errors import UserError
from ..core.model import Entry, Indicator
from ..core.validate import NUMERIC_METHODS, validate
from ..core.values import NUMBER, ValueParseError, bare_number, parse_value

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
INPUT_FIELDS = ("value", "denominator", "status")
LOG_COLUMNS = ("ファイル名", "市町村", "取込日時", "変更セル数", "SHA-256", "提出日時")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
# A returned input file is a few tens of kilobytes; anything that unpacks to more is not
# one of ours, and refusing it keeps a zip bomb from reaching openpyxl.
MAX_UNPACKED = 64 * 1024 * 1024
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


class _Refused(Exception):
    def __init__(self, reason: str, kind: str = REFUSED):
        super().__init__(reason)
        self.reason, self.kind = reason, kind


class Submission(NamedTuple):
    path: Path
    sha256: str
    municipality: str
    modified: Optional[dt.datetime]
    values: dict[str, dict[str, object]]   # 指標ID -> field -> value to import


# ----------------------------------------------------------------------------- paths

def expand_paths(paths: Iterable[Path], exclude: Iterable[Path] = ()) -> tuple[list[Path], list[Refusal]]:
    """Files as given, folders as the workbooks directly inside them (Excel lock files skipped)."""
    skip = {Path(p).resolve() for p in exclude}
    files: list[Path] = []
    refusals: list[Refusal] = []
    for p in map(Path, paths):
        if p.is_dir():
            inside = sorted(q for q in p.iterdir() if q.is_file()
                            and q.suffix.lower() in WORKBOOK_SUFFIXES and not _is_temporary(q))
            files += [q for q in inside if q.resolve() not in skip]
        elif p.is_file():
            if p.resolve() in skip:
                refusals.append(Refusal(p, "マスターブック自身は取り込めません"))
            elif _is_temporary(p):
                refusals.append(Refusal(p, "Excel の一時ファイル（~$ で始まるファイル）です"))
            else:
                files.append(p)
        else:
            refusals.append(Refusal(p, "ファイルまたはフォルダーが見つかりません"))
    return list(dict.fromkeys(files)), refusals


def _is_temporary(p: Path) -> bool:
    return p.name.startswith(("~$", ".~lock.", ".~renkei-"))


# ------------------------------------------------------------------------------ plan

def plan_collect(data: MasterData, paths: Sequence[Path], history: Sequence[ImportRecord] = (), *,
                 force: bool = False, exclude: Sequence[Path] = (),
                 now: Optional[dt.datetime] = None, key: Optional[bytes] = None
                 ) -> tuple[list[Change], list[Refusal], list[ImportRecord]]:
    """What importing ``paths`` into ``data`` would change, which files are refused and why,
    and the 取込履歴 rows to add. Pure with respect to the master: nothing is written.

    ``key``: the master's key (distribute.master_key); None only for a master that has
    none, and then each file's seal goes unchecked (say UNKEYED_NOTE)."""
    now = (now or dt.datetime.now()).replace(microsecond=0)
    files, refusals = expand_paths(paths, exclude)
    submissions: list[Submission] = []
    for path in files:
        try:
            submissions.append(inspect_file(path, data, key))
        except _Refused as exc:
            refusals.append(Refusal(path, exc.reason, exc.kind))
    # Oldest first, so a batch holding two submissions of one municipality ends with the newer.
    submissions.sort(key=lambda s: (s.modified or dt.datetime.min, s.path.name))

    entries = {(e.municipality, e.indicator_id): e for e in data.entries}
    current: dict[tuple[str, str], str] = {}
    known = list(history)
    changes: list[Change] = []
    records: list[ImportRecord] = []
    for sub in submissions:
        try:
            _check_history(sub, known, force)
        except _Refused as exc:
            refusals.append(Refusal(sub.path, exc.reason, exc.kind))
            continue
        mine = []
        for ind_id, fields in sub.values.items():
            entry = entries[(sub.municipality, ind_id)]
            for f, new in fields.items():
                cell = entry.cell(f)
                if not cell:
                    continue
                key = (sub.municipality, cell)
                old = current.get(key, getattr(entry, f))
                if text(new) != old:
                    mine.append(Change(sub.municipality, cell, ind_id, c.ENTRY_HEADERS[f], old, new))
                    current[key] = text(new)
        changes += mine
        record = ImportRecord(sub.path.name, sub.municipality, now, len(mine), sub.sha256, sub.modified)
        records.append(record)
        known.append(record)
    return changes, refusals, records


def _check_history(sub: Submission, known: Sequence[ImportRecord], force: bool) -> None:
    if any(r.sha256 == sub.sha256 for r in known):
        raise _Refused("同じファイルをすでに取り込んでいます（変更はありません）", ALREADY)
    if force or sub.modified is None:
        return
    newer = [r for r in known if r.municipality == sub.municipality and r.submitted_at
             and r.submitted_at > sub.modified]
    if newer:
        latest = max(newer, key=lambda r: r.submitted_at)
        raise _Refused(f"{sub.municipality}の提出（保存日時 {_when(sub.modified)}）は、取り込み済みの"
                       f"「{latest.file_name}」（保存日時 {_when(latest.submitted_at)}）より古いファイルです"
                       "（古い提出で上書きする場合は --force を付けてください）")


def _when(value: Optional[dt.datetime]) -> str:
    return value.strftime("%Y/%m/%d %H:%M:%S") if value else "不明"


# ------------------------------------------------------------------- one returned file

def inspect_file(path: Path, data: MasterData, key: Optional[bytes] = None) -> Submission:
    """Read and check one returned file; raises _Refused with the reason.

    With ``key`` the file must carry the seal this master gave it when it was issued;
    without (a master that has no key) only the plain fingerprint is checked."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _Refused(f"ファイルを読めません（{exc.strerror or exc}）") from None
    _check_container(path, raw)
    with _load(raw, path.name) as wb:
        return _inspect(path, raw, wb, data, key)


def _inspect(path: Path, raw: bytes, wb, data: MasterData, key: Optional[bytes]) -> Submission:
    ident = identifier(wb)
    settings = data.settings
    muni = ident.get(P_MUNICIPALITY, "")
    if not muni:
        raise _Refused(not_a_return(recognise(wb.sheetnames))
                       or "配布した入力用ファイルの識別情報がありません（renkei-xl split で作ったファイルを使ってください）")
    if muni not in settings.names:
        raise _Refused(f"市町村「{muni}」は設定シートの市町村一覧にありません")
    year = ident.get(P_YEAR, "")
    if year != str(settings.fiscal_year):
        raise _Refused(f"{year or '不明'}年度のファイルです（マスターの対象年度は {settings.fiscal_year}年度）")
    if ident.get(P_VERSION, "") != TEMPLATE_VERSION:
        raise _Refused(f"様式の版「{ident.get(P_VERSION, '')}」はこのツールの版（{TEMPLATE_VERSION}）と違います。"
                       "新しい入力用ファイルを配布し直してください")
    if muni not in wb.sheetnames:
        raise _Refused(f"シート「{muni}」がありません（シート名が変更されています）")
    try:
        grid = wb.grid(muni)
    except UserError as exc:
        raise _Refused(str(exc)) from None
    book = Book({muni: grid}, {})
    try:
        header_row, cols = book.header(muni, c.ENTRY_HEADERS, c.ENTRY_REQUIRED)
    except UserError as exc:
        raise _Refused(f"見出しが変更されています: {exc}") from None
    master_entries = [e for e in data.entries if e.municipality == muni and e.indicator_id]
    wanted = {f for e in master_entries for f in e.cells} or set(c.ENTRY_REQUIRED)
    renamed = [c.ENTRY_HEADERS[f] for f in c.ENTRY_HEADERS if f in wanted and f not in cols]
    if renamed:
        raise _Refused(f"シート「{muni}」に見出し「{'」「'.join(renamed)}」がありません（見出しが変更されています）")

    rows = list(book.rows(muni, header_row, cols))
    _check_rows(muni, [v["indicator_id"] for _r, v, _cells in rows if v["indicator_id"]],
                [e.indicator_id for e in master_entries])
    if ident.get(P_FINGERPRINT, "") != municipality_fingerprint(data, muni):
        raise _Refused("配布した後でマスターの指標（指標ID・目標値）が変わったため、このファイルは古い様式です。"
                       "入力用ファイルを配布し直してください")
    _check_seal(ident, data, muni, key)

    by_id = {i.id: i for i in data.indicators}
    raw_rows = {r: grid[r - 1] for r, _v, _cells in rows}
    file_entries, values = [], {}
    for r, v, cells in rows:
        ind_id = v["indicator_id"]
        if not ind_id:
            continue
        native = {f: _at(raw_rows[r], cols[f]) for f in INPUT_FIELDS if f in cols}
        file_entries.append(Entry(muni, ind_id, v.get("value", ""), v.get("denominator", ""),
                                  v.get("status", ""), v.get("unit", ""), muni, r, cells))
        values[ind_id] = {f: import_value(by_id.get(ind_id), f, val) for f, val in native.items()}
    errors = [f for f in validate(settings, data.indicators, file_entries)
              if f.is_error and f.sheet == muni]
    if errors:
        first = errors[0]
        more = f"（ほか {len(errors) - 1} 件）" if len(errors) > 1 else ""
        raise _Refused(f"入力値の誤り: {first.place} {first.indicator_id}: {first.message}{more}")
    return Submission(path, hashlib.sha256(raw).hexdigest(), muni, wb.modified, values)


def _check_seal(ident: dict[str, str], data: MasterData, muni: str, key: Optional[bytes]) -> None:
    """The seal against this master's key. Checked after the plain fingerprint, so a
    genuine file made stale by a changed master still gets the "配布し直して" reason."""
    if key is None:
        return
    got = ident.get(P_SEAL, "")
    if not got:
        raise _Refused(f"{L_SEAL}がありません。このマスターが{muni}に配布した入力用ファイルであることを確認できません"
                       "（照合コードを付ける前に配布したファイルか、識別情報が消されています）。"
                       "新しく配布した入力用ファイルで提出してもらってください")
    if not seal_matches(municipality_seal(key, data, muni, ident.get(P_ISSUED, "")), got):
        raise _Refused(f"{L_SEAL}が一致しません。このマスターが{muni}に配布した入力用ファイルではありません"
                       "（別のマスターから配布したファイルか、市町村名・指標などの識別情報が書き換えられています）。"
                       "配布した入力用ファイルで提出してもらってください")


def _at(row: Sequence[object], col: int) -> object:
    return row[col - 1] if col - 1 < len(row) else None


def _check_container(path: Path, raw: bytes) -> None:
    if raw.startswith(OLE_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in raw:
            raise _Refused("パスワードで暗号化されています。パスワードを解除して保存し直したファイルを送ってもらってください")
        raise _Refused("暗号化されたファイルか、古い Excel 形式（.xls）です。"
                       "パスワードを解除し、Excel ブック（.xlsx）で保存し直したファイルを送ってもらってください")
    if not raw.startswith(ZIP_MAGIC):
        raise _Refused("Excel ブック（.xlsx）ではありません")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            infos = zf.infolist()
            if sum(i.file_size for i in infos) > MAX_UNPACKED:
                raise _Refused("展開後の大きさが大きすぎます（配布した入力用ファイルではありません）")
            bad = zf.testzip()
            names = [i.filename for i in infos]
            content_types = zf.read("[Content_Types].xml") if "[Content_Types].xml" in names else b""
            sheet_names = _sheet_names(zf, names)
    except _Refused:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError):
        raise _Refused("ファイルが壊れています（途中で切れているか、ZIP 形式として読めません）。"
                       "もう一度保存して送ってもらってください") from None
    if bad is not None:
        raise _Refused(f"ファイルが壊れています（部品「{bad}」が読めません）。もう一度保存して送ってもらってください")
    if (path.suffix.lower() == ".xlsm" or any(n.lower().endswith("vbaproject.bin") for n in names)
            or b"macroEnabled" in content_types):
        if recognise(sheet_names).kind == MASTER:
            raise _Refused(not_a_return(recognise(sheet_names)))
        raise _Refused("マクロ（VBA）を含むブックです。マクロを含まない Excel ブック（.xlsx）で"
                       "保存し直したファイルを送ってもらってください")
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise _Refused("Excel ブック（.xlsx）ではありません（ブック本体がありません）")


def _sheet_names(zf: zipfile.ZipFile, names: list[str]) -> list[str]:
    """Sheet names from workbook.xml, only to say what a refused file is (a pattern, not a
    parser: the file is untrusted and nothing else is taken from it here)."""
    import html
    import re

    info = zf.getinfo("xl/workbook.xml") if "xl/workbook.xml" in names else None
    if info is None or info.file_size > 1024 * 1024:
        return []
    xml = zf.read(info).decode("utf-8", "replace")
    return [html.unescape(n) for n in re.findall(r'<(?:\w+:)?sheet\b[^>]*?\bname="([^"]*)"', xml)]


def _load(raw: bytes, name: str):
    """The returned file's package and values (a formula counts with the value Excel saved)."""
    from ..workbook.returned import ReturnedBook

    try:
        return ReturnedBook(raw, name)
    except UserError as exc:
        raise _Refused(f"ブックとして開けません: {exc}") from None


def identifier(wb) -> dict[str, str]:
    """The identifier from the custom properties, else from the visible header block."""
    found = {name: value for name, value in wb.custom.items() if name in ID_LABELS.values()}
    if found.get(P_MUNICIPALITY):
        return found
    if not wb.sheetnames:
        return {}
    try:
        first = wb.grid(wb.sheetnames[0])
    except UserError:
        return {}
    for row in first[:c.HEADER_SEARCH_ROWS]:
        cells = [text(v) for v in row]
        for i, v in enumerate(cells):
            if v in ID_LABELS:
                rest = [x for x in cells[i + 1:] if x]
                if rest:
                    found.setdefault(ID_LABELS[v], rest[0])
    return found


def _check_rows(muni: str, got: list[str], want: list[str]) -> None:
    missing = [i for i in want if i not in got]
    extra = [i for i in got if i not in want]
    doubled = sorted({i for i in got if got.count(i) > 1})
    if missing:
        raise _Refused(f"シート「{muni}」の行が削除されています（指標ID {_few(missing)}）")
    if extra:
        raise _Refused(f"シート「{muni}」に配布時になかった行があります（指標ID {_few(extra)}）")
    if doubled:
        raise _Refused(f"シート「{muni}」で指標ID {_few(doubled)} の行が重複しています")


def _few(ids: list[str], limit: int = 5) -> str:
    shown = "、".join(ids[:limit])
    return shown + (f" ほか {len(ids) - limit} 件" if len(ids) > limit else "")


def import_value(ind: Optional[Indicator], field_name: str, value: object) -> object:
    """What goes into the master cell: numbers stay numbers, and on numeric rows a typed
    「１７」 or 「17件」 (the target's unit) becomes the number 17, as the master's builder
    stores them, so the cell keeps satisfying its numeric data validation."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, str) or ind is None:
        return value
    numeric = (field_name == "value" and ind.method in NUMERIC_METHODS) or field_name == "denominator"
    if not numeric:
        return value
    unit = None  # 分母: any unit
    if field_name == "value":  # the target's unit, or none at all when the target has none
        try:
            target = parse_value(ind.target)
        except ValueParseError:
            target = None
        unit = target.unit if target is not None and target.kind == NUMBER else ""
    number = bare_number(value, unit)
    return value if number is None else number


# --------------------------------------------------------------------------- history

def read_history(grid: Sequence[Sequence[object]]) -> list[ImportRecord]:
    """取込履歴 rows (a grid from A1) as records; an empty or foreign sheet gives none."""
    if not grid:
        return []
    fields = {str(i): h for i, h in enumerate(LOG_COLUMNS)}
    book = Book({c.IMPORT_LOG: grid}, {})
    try:
        header_row, cols = book.header(c.IMPORT_LOG, fields, ("0", "1", "4"))
    except UserError:
        return []
    out = []
    for _r, _v, _cells in book.rows(c.IMPORT_LOG, header_row, cols):
        row = grid[_r - 1]
        get = lambda i: _at(row, cols[str(i)]) if str(i) in cols else None  # noqa: E731
        out.append(ImportRecord(text(get(0)), text(get(1)), _as_datetime(get(2)),
                                _as_int(get(3)), text(get(4)).lower(), _as_datetime(get(5))))
    return out


def _as_datetime(value: object) -> Optional[dt.datetime]:
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0)
    if isinstance(value, str) and value.strip():
        try:
            return dt.datetime.fromisoformat(value.strip().replace("/", "-"))
        except ValueError:
            return None
    return None


def _as_int(value: object) -> int:
    try:
        return int(float(text(value)))
    except ValueError:
        return 0


def plan_import(data: MasterData, state, paths: Sequence[Path], *, force: bool = False,
                exclude: Sequence[Path] = (), key: Optional[bytes] = None):
    """What importing ``paths`` does, for either face: the report and the write plan.

    The plan is empty when nothing is to be imported (every file refused or already in);
    it is built before anyone is asked, so a 取込履歴 without its headers stops here.
    """
    from ..core.plan import WritePlan, collect_plan

    log = state.grids.get(c.IMPORT_LOG)
    history = read_history(log) if log else []
    changes, refusals, records = plan_collect(data, paths, history, force=force, exclude=exclude, key=key)
    report = CollectReport(changes, refusals, records)
    plan = collect_plan(state, changes, LOG_COLUMNS, [tuple(r) for r in records]) if records else WritePlan()
    return report, plan


def collect(master: Path, paths: Sequence[Path], *, dry_run: bool = False, force: bool = False,
            echo: Optional[Callable[[str], None]] = None) -> CollectReport:
    """Plan, show (``echo``) and apply in one atomic write; refused files change nothing.

    When nothing is to be written (every file refused or already imported, or a dry run)
    the master is not written at all, so it stays byte-identical.
    """
    from ..core.plan import WritePlan
    from ..workbook.session import check_path, opened, write_planned

    master = check_path(Path(master))

    def make(fs):
        from .distribute import master_key

        key = master_key(fs.workbook)
        report, plan = plan_import(fs.data, fs.state, paths, force=force, exclude=[master], key=key)
        report.dry_run = dry_run
        if echo and key is None:
            echo(UNKEYED_NOTE)
        if echo:
            for line in report.lines():
                echo(line)
        return (WritePlan() if dry_run else plan), report

    if dry_run:
        with opened(master) as fs:
            return make(fs)[1]
    report, written = write_planned(master, make)
    report.written = written
    return report

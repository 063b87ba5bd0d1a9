"""One returned file, checked from its container to its values: it becomes a Submission
or raises Refused with the reason (the list of what is refused is in the package docstring)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import unicodedata
import zipfile
from collections import Counter
from itertools import islice
from pathlib import Path
from typing import NamedTuple, Optional, Sequence

from ...core import contract as c
from ...core.face import on_face
from ...core.book_kind import CHOICES_HEAD, CHOICES_SHEET, CONFIRMED, MASTER, not_a_return, recognise
from ...core.contract_read import Book, MasterData, text
from ...core.refs import areas_holding, cell_ref, parse_ref
from ...core.errors import UserError
from ...safety import OutsideFolder, read_confined, system_reason
from ...core.filenames import named_in
from ...core.input_sheet import REFERENCES
from ...core.methods import cell_value
from ...core.findings import (ACTUAL_TARGET_NOTE, as_shown, BOOLEAN_CELL, held_as, CLOSED_DENOMINATOR, hidden_number,
                              IGNORED_DENOMINATOR, MERGED_INPUT, MISSING_DENOMINATOR, PERCENT_FORMATTED_AFTER,
                              label_changed, QUOTES_DENOMINATOR, ROW_ADDED_SINCE_SPLIT, SCALED_WITHOUT_WORDS,
                              shown_otherwise, STALE_FLAGGED_RETURN, STALE_RETURN, STATUS_DATE, STATUS_PERCENT, STATUS_WORDS, TEXT_CUT,
                              unread_sheets)
from ...core.model import ERROR, Entry
from ...core.validate import uncached_formula_finding, validate
from ...core.values import LISTED, NO_RESULT_VALUE, error_value, listed, more_text, shown, unread_kind, unread_places, unread_value
from ..distribute import ID_LABELS, L_SEAL, file_name, input_tail, P_FINGERPRINT, P_ISSUED, P_MUNICIPALITY, P_SEAL, P_VERSION, P_YEAR
from ...core.seal import READ_VERSIONS, SEALED_FIELDS, TEMPLATE_VERSION, fingerprint, municipality_seal, seal_matches
from .import_log import as_datetime
from .paths import RESAVE_AS_XLSX, unpack_into
from ...package.content import (archived as _archived, content_of, EMPTY, HEAD, MAX_NAMES, member_name as _member_name,
                               members_refusal, OLE_MAGIC, WEB, ZEROS, ZIP_DAMAGE, ZIP_MAGIC)
from .records import cell_at as _at, INPUT_FIELDS, Refused, Submission, shown_file_name

# Warnings on the master that hold a returned row, on both faces alike: a text of Excel's
# full 32,767 is only a warning on the master (一覧 shows it cut), but importing it means the
# tool writes it into the master's cell, one more than it can (findings.TEXT_CUT); a 実施状況
# Excel saved as a date (findings.STATUS_DATE) carries a year nobody typed, and was written
# into the master as its serial number (45209) by the file face and as a date by the buttons;
# a 実績値 worded as a target (findings.ACTUAL_TARGET_NOTE) is most likely the target copied;
# a TRUE/FALSE (findings.BOOLEAN_CELL: a check box's linked cell, TRUE typed) is only a
# warning where the master does not publish it (a 実施状況 指標 replaces), but it is no
# answer, and imported it became the master's boolean.
STRICT_ON_RETURN = (TEXT_CUT.code, STATUS_DATE.code, ACTUAL_TARGET_NOTE.code, BOOLEAN_CELL.code)
# Warnings on the master that hold a returned row only where the municipality typed the
# cell since the split: a 分母 on a row whose 集計方法 takes none (findings.IGNORED_DENOMINATOR).
# Files issued before split locked 分母 on rows that read none left it open on every row,
# and staff may lift the protection, so a figure typed one column right of 実績値 (05-1's
# 「7」, 実績値 left empty) was imported as a 分母 nothing reads, the municipality's answer
# out of every total, and collect said nothing. One the master held when the file was
# issued and that comes back as it went is staff's own (入力チェック warns of it there): held,
# it would hold every return of that municipality for good.
STRICT_WHEN_TYPED = (IGNORED_DENOMINATOR.code,)
# The grey column of an input file that shows each row's target as issued (core.input_sheet).
INPUT_TARGET = next(head for attr, head, _width in REFERENCES if attr == "target")
# A returned input file is a few tens of kilobytes; anything that unpacks to more is not
# one of ours, and refusing it keeps a zip bomb from reaching the reader (python-calamine).
MAX_UNPACKED = 64 * 1024 * 1024
# A returned input file is a dozen parts, a few more once Excel saved it (a theme, a calc
# chain, printer settings); a package of 300,000 empty members (27 MB) took 9 s and 380 MB
# to import, every part listed, checked and opened by each reader, and one at the size
# limit below about three times that. Refused before any reader opens it (qa-returns64).
MAX_PARTS = 10_000
# How far down a returned sheet's header row is looked for once it is not in the first
# HEADER_SEARCH_ROWS (rows inserted above the table: inspect._moved_header). Bounded, as every
# read of an untrusted file is: a return of 150,000 rows without a header is walked this far.
MOVED_HEADER_ROWS = 1000
# The file itself can be no larger than what it unpacks to: looked at before it is read, so
# a file of gigabytes dropped in the folder costs a stat, not its size in memory.
MAX_FILE = MAX_UNPACKED


def inspect_file(path: Path, data: MasterData, key: Optional[bytes] = None,
                 split_folder: Optional[Path] = None, master: Optional[Path] = None) -> Submission:
    """Read and check one returned file; raises Refused with the reason.

    With ``key`` the file must carry the seal this master gave it when it was issued;
    without (a master that has no key) only the plain fingerprint is checked.
    ``split_folder``: where split made the files (issued_name); ``master``: the master's
    file, which a refusal of another year's file names in the command it gives."""
    raw = _read(path)
    _check_container(path, raw)
    with _load(raw, path.name) as wb:
        try:
            return _inspect(path, raw, wb, data, key, split_folder, master)
        except Refused as exc:
            # whose it may be, from the book as read (returned_by): read again for that, a
            # return of a million formula cells took as long again to refuse
            exc.attribution = returned_by(path, data, (raw, wb))
            raise


def _read(path: Path) -> bytes:
    """The file's bytes; on the server only a file in the clicking master's folder, judged
    as it is opened (safety.read_confined), not as it was listed."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE:
            raise Refused(f"ファイルが大きすぎます（{size / 1e6:,.0f} MB）。配布した入力用ファイルではありません")
        raw = read_confined(path)
    except OutsideFolder:
        raise Refused("このマスターのフォルダーの外を指すリンクです（読みません）") from None
    except OSError as exc:
        raise Refused(f"ファイルを読めません（{system_reason(exc)}）") from None
    # Counted in the bytes (a member's central directory header), before zipfile lists them:
    # its listing is what cost the time and memory, and collect lists a file several times.
    if raw.startswith(ZIP_MAGIC) and (parts := raw.count(b"PK\x01\x02")) > MAX_PARTS:
        raise Refused(f"ブックの部品が多すぎます（{parts:,} 個。配布した入力用ファイルは十数個です）。"
                      "配布した入力用ファイルではありません")
    return raw


class Attribution(NamedTuple):
    """Whose return a refused file may be (``municipalities``) and when it was saved.

    ``municipalities`` is None when it may be anyone's (nothing in it can be read and its
    name names no municipality), empty when it is no return at all (a master, a 確定版, a
    readable workbook that carries no identity and names none)."""
    municipalities: Optional[frozenset[str]]
    modified: Optional[dt.datetime] = None


def returned_by(path: Path, data: MasterData, read: Optional[tuple[bytes, object]] = None) -> Attribution:
    """Whose return a file that collect refused may be, so that an older return of a
    municipality is never imported in place of a newer one that could not be taken
    (README: 回収ファイル取込). Every sign counts, none is preferred: the identity in the
    properties, the visible block and the sheet split wrote, and the municipality names in
    the file name; a file whose identity was typed over may be either municipality's.
    ``read``: the file's bytes and its book as inspect_file opened them, asked again
    (each sheet is read once: workbook.returned.ReturnedBook.grid), not read anew."""
    from ...package.zipped import content_suffix

    names, tail = set(data.settings.names), input_tail(data.settings.fiscal_year)
    # A FIFO is never opened; a workbook under a mangled name (「ATT00001.dat」) is read for
    # whose it is: by its name alone it was anyone's, and held every municipality's return.
    if not path.is_file() or (path.suffix.lower() not in c.MASTER_SUFFIXES
                              and content_suffix(path) not in c.MASTER_SUFFIXES):
        return _named_by(path, names, tail)
    found = set(named_in(shown_file_name(path), names, tail=tail))
    raw = b""
    try:
        raw = read[0] if read is not None else _read(path)
        if _kind_of(raw) in (MASTER, CONFIRMED):
            return Attribution(frozenset())
        if read is not None:
            return _named_inside(read[1], found, names)
        _check_container(path, raw)
        with _load(raw, path.name) as wb:
            return _named_inside(wb, found, names)
    except (Refused, UserError):
        # A ZIP of the return renamed .xlsx names whose it is by the files in it, as a .zip does
        # (_named_by): read as anyone's, it held every municipality's return (「回答.xlsx」 holding
        # 小樽市_2023年度_入力.xlsx kept 札幌市's own return out).
        found |= {m for label in _archived_in(raw) for m in named_in(label, names, tail=tail)}
        return Attribution(frozenset(found) if found else None)


def _named_inside(wb, found: set[str], names: set[str]) -> Attribution:
    """returned_by of a book it opened, ``found`` named by the file's name."""
    ident = identifier(wb)
    kind = recognise(wb.sheetnames, ident.get(P_MUNICIPALITY, ""))
    shown_as = visible_identifier(wb).get(P_MUNICIPALITY, "")
    found |= {m for m in (ident.get(P_MUNICIPALITY, ""), shown_as, kind.municipality) if m in names}
    return Attribution(frozenset(found), wb.modified)


def _named_by(path: Path, names: set[str], tail: str) -> Attribution:
    """Whose return a file collect does not read may be, by the names it carries: its own
    and, for a ZIP, those of the files in it (kept in clear even in a password ZIP), for
    a folder, those of the files directly in it. A name that names no municipality may be
    anyone's (None), as an unreadable .xlsx would be. No save time is known, so it holds
    the municipalities it names until it is moved out of the folder (README: 回収ファイル取込)."""
    labels = [shown_file_name(path)]
    if path.is_dir():
        try:
            labels += [shown_file_name(q) for q in islice(path.iterdir(), MAX_NAMES)]
        except OSError:
            pass
    elif path.suffix.lower() == ".zip" and path.is_file():     # a FIFO named .zip is never opened
        labels += _zip_names(path)
    found = {m for label in labels for m in named_in(label, names, tail=tail)}
    return Attribution(frozenset(found) if found else None)


def _zip_names(path: Path) -> list[str]:
    """The names of the files in a ZIP as Windows wrote them: without the UTF-8 flag they
    are Shift_JIS, which zipfile hands over read as cp437. Only the central directory is
    read (bounded by MAX_FILE and MAX_NAMES), never a member."""
    try:
        if path.stat().st_size > MAX_FILE:
            return []
        with zipfile.ZipFile(path) as zf:
            infos = list(islice(zf.infolist(), MAX_NAMES))
    except (*ZIP_DAMAGE, ValueError):
        return []
    return [_member_name(info) for info in infos]


def _archived_in(raw: bytes) -> list[str]:
    """_archived of ``raw``'s members, [] when it is no ZIP that can be listed."""
    if not raw.startswith(ZIP_MAGIC):
        return []
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            return _archived(zf.infolist())
    except (*ZIP_DAMAGE, ValueError):
        return []


def _kind_of(raw: bytes) -> Optional[str]:
    """The kind of book a zip package is, from its sheet names alone (None when unreadable)."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            return recognise(_sheet_names(zf, _book_in(zf, zf.namelist()))).kind
    except (*ZIP_DAMAGE, ValueError, KeyError):
        return None


def _municipality_of(wb, ident: dict[str, str], settings, master: Optional[Path] = None) -> str:
    """Whose file it is, for which year and template, or Refused saying what does not fit."""
    _check_identifier_errors(wb)
    muni = ident.get(P_MUNICIPALITY, "")
    if not muni:
        raise Refused(not_a_return(recognise(wb.sheetnames))
                      or "配布した入力用ファイルの識別情報がありません（"
                      f"{on_face(f'「{c.SPLIT}」', 'renkei-xl split ')}で作ったファイルを使ってください）")
    if muni not in settings.names:
        raise Refused(_not_listed(muni, settings))
    year = ident.get(P_YEAR, "")
    if year != str(settings.fiscal_year):
        from .later_year import other_year

        raise Refused(other_year(year, settings.fiscal_year, master))
    if ident.get(P_VERSION, "") not in READ_VERSIONS:
        raise Refused(f"様式の版「{shown(ident.get(P_VERSION, ''))}」はこのツールの版（{TEMPLATE_VERSION}）と違います。"
                       "新しい入力用ファイルを配布し直してください")
    _check_shown_identity(wb, ident)
    return muni


def _not_listed(muni: str, settings) -> str:
    """A return whose municipality 設定 no longer lists: the partnership changed after the
    file was issued (a name corrected or merged, a partner gone), or 設定 was mistyped.
    Its values are never written to another municipality's sheet (whose they are is
    exactly what is in doubt), so the refusal says which step puts them in."""
    from ...core.contract_read import name_key

    # quoted as a cell's text is (shown): read from the visible block of a file without its
    # properties, a 32,767-character text was quoted whole, and the button's list of refused
    # files had no room left for this one's reason; a zero-width space showed as 「」 (qa-132)
    said = f"市町村「{shown(muni)}」は設定シートの市町村一覧にありません"
    near = next((m.name for m in settings.municipalities if name_key(m.name) == name_key(muni)), None)
    if near is not None:
        return (f"{said}（設定では「{near}」と書かれています）。設定の市町村名をシート名・ファイルの市町村名と"
                "同じに直して保存してから、もう一度取り込んでください")
    return (f"{said}。市町村名を変えた（合併・表記の訂正）なら、新しい名前の入力用ファイルを「配布用ファイル作成」で"
            "作り直して、この市町村に入力し直してもらってください。連携から外れた市町村のファイルなら、取り込む必要は"
            "ありません")


_AT_FAULT = "このファイルではなく、マスターの側の問題です。マスターを直して保存してから、もう一度取り込んでください"


def _check_master_sheet(data: MasterData, muni: str) -> None:
    """The returned file is not at fault when the master's own sheet of ``muni`` cannot be
    compared with it: missing, its header unreadable, or a 指標ID on it twice (each return
    would otherwise be refused for rows "added" or a template "changed")."""
    found = unread_sheets(data.settings.municipalities, data.findings).get(muni)
    if found is not None:
        raise Refused(f"マスターの市町村シート「{muni}」を読めません（{found.place}）: {found.message}。{_AT_FAULT}")
    first: dict[str, Entry] = {}
    for e in data.entries:
        if e.municipality != muni or not e.indicator_id:
            continue
        if e.indicator_id in first:
            raise Refused(f"マスターの市町村シート「{muni}」で指標ID「{shown(e.indicator_id)}」が重複しています"
                          f"（{muni}!{first[e.indicator_id].cell('indicator_id')} と {muni}!{e.cell('indicator_id')}）。"
                          f"{_AT_FAULT}")
        first[e.indicator_id] = e


class _ReturnedSheet(dict):
    """The returned sheet's grid as the contract's reader takes it, telling a header row's
    formulas saved without their result (contract_read.Book._unsaved_marked) from empty
    cells: 「指標ID」 or 「実績値」 as such a formula was refused as a header not found within
    20 rows, the cell unnamed, where an error value in its place is named."""

    def __init__(self, name: str, grid: list, uncached: Sequence[str]):
        super().__init__({name: grid})
        self._uncached = uncached

    def unsaved_in_row(self, name: str, row_no: int) -> frozenset[int]:
        return frozenset(col for ref in self._uncached for row, col in (parse_ref(ref),) if row == row_no)


def _municipality_table(wb, muni: str, data: MasterData) -> tuple[list[list[object]], Book, int, dict[str, int]]:
    """The returned sheet, its header row and columns, once the file holds no other sheet
    with values, no note on a cell and no error value in a cell staff cannot type in."""
    if muni not in wb.sheetnames:
        raise Refused(f"シート「{muni}」がありません（シート名が変更されています）")
    try:
        grid = wb.grid(muni)
    except UserError as exc:
        raise Refused(str(exc)) from None
    _check_other_sheets(wb, muni)
    _check_notes(wb)
    at = _headers_as_issued(grid, data, muni)
    book = Book(_ReturnedSheet(muni, grid, wb.uncached(muni)), {})
    try:
        header_row, cols = book.header(muni, c.ENTRY_HEADERS, c.ENTRY_REQUIRED)
    except UserError as exc:
        if at is None or at <= c.HEADER_SEARCH_ROWS:
            raise Refused(f"見出しが変更されています: {exc}") from None
        header_row, cols = _moved_header(book, grid, muni, at)
    _check_locked_errors(muni, grid, header_row, [cols[f] for f in INPUT_FIELDS if f in cols], wb.uncached(muni))
    return grid, book, header_row, cols


def _headers_as_issued(grid: list[list[object]], data: MasterData, muni: str) -> Optional[int]:
    """The first row holding 指標ID and 実績値, width aside (None where none does); down to
    it, in place, each text that is a header split writes but for its width (NFKC: 「指標ＩＤ」,
    「実績値」 typed with the IME's full-width letters, a half-width 「ｶﾅ」) made that header. Such
    a header was refused as changed, 「見出し「指標ID」が見つかりません」, for a difference no one
    can see; read as it is, its column was a column 配布時になかった to the checks after. A
    width variant that two headers share is left as typed (which one it was is not told)."""
    known = {*c.ENTRY_HEADERS.values(), *(h for _a, h, _w in REFERENCES), *c.ISSUED_HEADERS.values(),
             *data.headers.get(muni, ()), c.last_years_header(data.settings.fiscal_year)}
    folded: dict[str, set[str]] = {}
    for head in known:
        folded.setdefault(unicodedata.normalize("NFKC", head), set()).add(head)
    issued = {key: next(iter(heads)) for key, heads in folded.items() if len(heads) == 1}
    required = {unicodedata.normalize("NFKC", c.ENTRY_HEADERS[f]) for f in c.ENTRY_REQUIRED}
    for r, row in enumerate(grid[:MOVED_HEADER_ROWS], start=1):
        keys = [unicodedata.normalize("NFKC", v.strip()) if isinstance(v, str) else None for v in row]
        for k, key in enumerate(keys):
            if key in issued and row[k].strip() != issued[key]:
                row[k] = issued[key]
        if required.issubset(keys):
            return r
    return None


def _moved_header(book: Book, grid: list[list[object]], muni: str, at: int) -> tuple[int, dict[str, int]]:
    """The header row found below the rows it is looked for in (rows inserted above the
    table): taken where it holds every hidden 配布時の… header, which only split's header
    row does (and whose values the seal covers), else refused naming what happened. It was
    「見出しが変更されています…20行目までに見出し行が必要です」, of a header no one changed."""
    heads = {text(v) for v in grid[at - 1]}
    if not {c.ISSUED_HEADERS[f] for f in INPUT_FIELDS}.issubset(heads):     # every version's hidden columns
        raise Refused(f"シート「{muni}」の表の上に行が挿入され、見出しの行が {at} 行目に移っています（見出しの行は"
                      f"{c.HEADER_SEARCH_ROWS}行目までにあるはずです）。表の上に挿入した行を削除して保存したファイルを"
                      "送ってもらってください（挿入した行が空なら、その行を削除して保存してから取り込めます）")
    try:
        return book.header(muni, c.ENTRY_HEADERS, c.ENTRY_REQUIRED, rows=at)
    except UserError as exc:
        raise Refused(f"見出しが変更されています: {exc}") from None


def _inspect(path: Path, raw: bytes, wb, data: MasterData, key: Optional[bytes],
             split_folder: Optional[Path] = None, master: Optional[Path] = None) -> Submission:
    ident = identifier(wb)
    settings = data.settings
    muni = _municipality_of(wb, ident, settings, master)
    _check_master_sheet(data, muni)
    grid, book, header_row, cols = _municipality_table(wb, muni, data)
    master_entries = [e for e in data.entries if e.municipality == muni and e.indicator_id]
    wanted = {f for e in master_entries for f in e.cells} or set(c.ENTRY_REQUIRED)
    renamed = [c.ENTRY_HEADERS[f] for f in c.ENTRY_HEADERS if f in wanted and f not in cols]
    if renamed:
        raise Refused(f"シート「{muni}」に見出し「{'」「'.join(renamed)}」がありません（見出しが変更されています）")

    rows = list(book.rows(muni, header_row, cols))
    _check_ids_typed_over(muni, rows, [e.indicator_id for e in master_entries], data, ident)
    _check_unlabelled(muni, grid, header_row, cols["indicator_id"])
    _check_above_header(muni, grid, header_row)
    as_returned, added = _check_questions(muni, rows, master_entries, data, ident, (grid, header_row))
    raw_rows = {r: grid[r - 1] for r, _v, _cells in rows}
    row_ids = {r: v["indicator_id"] for r, v, _cells in rows if v["indicator_id"]}
    version = ident.get(P_VERSION, TEMPLATE_VERSION)
    issued = issued_values(grid[header_row - 1], raw_rows, row_ids, SEALED_FIELDS.get(version) or INPUT_FIELDS)
    _check_seal(ident, data, muni, key, issued, as_returned)
    _check_named(path, muni, settings, split_folder)
    _check_outside_input(muni, grid[header_row - 1], raw_rows, row_ids, data)
    if not wb.protected(muni):
        _check_labels_typed_over(muni, grid[header_row - 1], raw_rows, row_ids, data)
    _check_previous_typed_over(muni, grid[header_row - 1], raw_rows, row_ids, cols.get("value"), data)
    _check_hidden_rows(muni, wb.hidden_rows(muni), raw_rows, row_ids, cols, issued)

    by_id = {i.id: i for i in data.indicators}
    seen = _shown_inputs(wb, muni, cols, raw_rows, row_ids)
    file_entries, values = [], {}
    for r, v, cells in rows:
        ind_id = v["indicator_id"]
        if not ind_id:
            continue
        native = {f: _at(raw_rows[r], cols[f]) for f in INPUT_FIELDS if f in cols}
        _read_as_shown(r, v, native, cols, seen)
        file_entries.append(Entry(muni, ind_id, v.get("value", ""), v.get("denominator", ""),
                                  v.get("status", ""), v.get("unit", ""), muni, r, cells))
        values[ind_id] = {f: cell_value(by_id.get(ind_id), f, val) for f, val in native.items()}
    errors = _cell_errors(wb, muni, cols, raw_rows, row_ids)
    typed = _typed_since_issue(muni, (raw_rows, row_ids, cols), issued, master_entries)
    judged = [f for f in validate(settings, data.indicators, file_entries) if f.sheet == muni]
    errors += [f if f.is_error else f._replace(severity=ERROR) for f in judged if _holds(f, typed)]
    errors = _closed_denominators(wb, muni, errors, cols.get("denominator"))
    errors = [_as_shown(f, seen, muni, cols) for f in errors]
    held = _held_rows(errors, row_ids)
    noted = tuple(_as_shown(f, seen, muni, cols) for f in judged
                  if not _holds(f, typed) and f.cell in typed and row_ids.get(parse_ref(f.cell)[0]) not in held)
    noted += tuple(_labels_since_issue(muni, raw_rows, row_ids, cols, issued))
    for ind_id in held:
        values.pop(ind_id, None)
    errors += [ROW_ADDED_SINCE_SPLIT.at(muni, e.cell("indicator_id"), e.indicator_id,
                                        master_cell=f"{muni}!{e.cell('indicator_id')}", municipality=muni)
               for e in master_entries if e.indicator_id in added]
    return Submission(path, hashlib.sha256(raw).hexdigest(), muni, wb.modified, values, tuple(errors),
                      issued, as_datetime(ident.get(P_ISSUED, "")), {e.indicator_id: e.cells for e in file_entries},
                      noted)


def _cell_errors(wb, muni: str, cols: dict[str, int], raw_rows: dict[int, list], row_ids: dict[int, str]) -> list:
    """The returned input cells held for what the file says of them beyond their values
    (formula, merge, number format), before the master's rules judge the values."""
    errors = _formula_inputs(wb, muni, cols, row_ids)
    errors += _merged_inputs(muni, wb.merged(muni), cols, row_ids)
    errors += _percent_statuses(wb, muni, cols.get("status"), raw_rows, row_ids)
    errors += _percents_formatted_after(wb, muni, cols, raw_rows, row_ids)
    return errors + _hidden_numbers(wb, muni, cols, raw_rows, row_ids) + _signs_shown_otherwise(wb, muni, cols, raw_rows,
                                                                                               row_ids)


def _holds(found, typed: set[str]) -> bool:
    """Whether a finding of the master's own rules on a returned cell holds its row: an
    error, a warning STRICT_ON_RETURN, or one STRICT_WHEN_TYPED on a cell typed since the
    split. Any other warning on a cell the municipality typed is said, not held (noted):
    「－」 typed as 実績値 was imported as 「報告なし」 with no word from collect, while
    入力チェック on the master warned of it (findings.DASH_AS_EMPTY), the same rule."""
    return found.is_error or found.type in STRICT_ON_RETURN or (found.type in STRICT_WHEN_TYPED and found.cell in typed)


def _closed_denominators(wb, muni: str, errors: list, col: Optional[int]) -> list:
    """``errors`` with a missing 分母 the file issued locked named as such (CLOSED_DENOMINATOR):
    split opens 分母 only on a 比率's row, so a row made 比率 after the split asked the
    municipality for a figure its file refuses, and the answer is to issue the file again."""
    out = []
    for f in errors:
        if f.type == MISSING_DENOMINATOR.code and f.sheet == muni and col is not None:
            row, at = parse_ref(f.cell)
            if at == col and wb.locked(muni, row, col):
                f = CLOSED_DENOMINATOR.at(muni, f.cell, f.indicator_id)
        out.append(f)
    return out


def _typed_since_issue(muni: str, table: tuple[dict[int, list], dict[int, str], dict[str, int]],
                       issued: dict[str, dict[str, str]], master_entries: Sequence[Entry]) -> set[str]:
    """The input cells of the returned sheet (as its cells are named) whose text differs from
    what split issued: the hidden 配布時の… columns, or the master's cell for a file issued
    without them (the nearest to what went out that is known)."""
    raw_rows, row_ids, cols = table
    master = {e.indicator_id: e for e in master_entries}
    out: set[str] = set()
    for r, ind_id in row_ids.items():
        for f in INPUT_FIELDS:
            if f not in cols:
                continue
            went = (issued.get(ind_id, {}).get(f) if issued else
                    text(getattr(master[ind_id], f)) if ind_id in master else None)
            if text(_at(raw_rows[r], cols[f])) != (went or ""):
                out.add(cell_ref(r, cols[f]))
    return out


def issued_values(header: list, raw_rows: dict[int, list], row_ids: dict[int, str],
                  fields: Sequence[str] = c.ISSUED_FIELDS) -> dict[str, dict[str, str]]:
    """指標ID → field → the input cell's (or label's) text as split issued it
    (c.ISSUED_HEADERS), for those of ``fields`` (what the file's version keeps: seal.SEALED_FIELDS)
    whose hidden column is in the header row; empty for a file issued before those columns
    existed, which then imports as it always did (every cell that differs)."""
    at = {text(v): col for col, v in enumerate(header, start=1)}
    found = {f: at[c.ISSUED_HEADERS[f]] for f in fields if c.ISSUED_HEADERS[f] in at}
    if not found:
        return {}
    return {ind_id: {f: text(_at(raw_rows[r], col)) for f, col in found.items()} for r, ind_id in row_ids.items()}


def _formula_inputs(wb, muni: str, cols: dict[str, int], row_ids: dict[int, str]) -> list:
    """The input cells whose formula gives no answer to take: one saved without its result
    (read as empty), or with a result the municipality's Excel may not have calculated since
    (ReturnedBook.stale: saved in manual calculation, or by no application that calculates);
    either row is held, not imported."""
    heads = {col: c.ENTRY_HEADERS[f] for f, col in cols.items()}
    out = [uncached_formula_finding(muni, ref, row_ids.get(parse_ref(ref)[0], ""))
           for ref in wb.uncached(muni) if _is_input(ref, cols, row_ids)]
    kind = STALE_FLAGGED_RETURN if wb.flagged else STALE_RETURN
    return out + [kind.at(muni, ref, row_ids.get(parse_ref(ref)[0], ""), label=heads[parse_ref(ref)[1]])
                  for ref in wb.stale(muni) if _is_input(ref, cols, row_ids)]


def _is_input(ref: str, cols: dict[str, int], row_ids: dict[int, str]) -> bool:
    row, col = parse_ref(ref)
    return row in row_ids and col in {cols[f] for f in ("indicator_id", *INPUT_FIELDS) if f in cols}


def _merged_inputs(muni: str, areas, cols: dict[str, int], row_ids: dict[int, str]) -> list:
    """Each input cell of an indicator's row inside a merged area: Excel keeps only the
    first cell's value when it merges, so 「7」 shown across 05-1 and 06-1 read as 7 and an
    empty 06-1, imported over its value without a word. The rows are held, as a bad cell's.

    Asked of the input cells (the first area holding each, refs.areas_holding), as the
    master's merged_inputs asks, never walking an area's own rows. Walking each area's
    rows, a returned sheet's one <mergeCell ref="C30:C99999999999"/> (rows past Excel's
    grid, which nothing before the merges bounds) kept collect in a loop without end
    (qa-fuzz61), and a thousand whole-column merges took a minute."""
    inputs = {cols[f]: c.ENTRY_HEADERS[f] for f in INPUT_FIELDS if f in cols}
    areas = [a for a in areas if a[:2] != a[2:]]
    cells = [(r, col) for r in (row_ids if areas else ()) for col in inputs]
    held = areas_holding(cells, areas)
    return [MERGED_INPUT.at(muni, cell_ref(r, col), row_ids[r], label=inputs[col],
                            area=f"{cell_ref(a[0], a[1])}:{cell_ref(a[2], a[3])}")
            for r, col in cells if (a := held.get((r, col))) is not None]


def _percent_statuses(wb, muni: str, col: Optional[int], raw_rows: dict[int, list],
                      row_ids: dict[int, str]) -> list:
    """Each 実施状況 the file holds as a number shown as a percentage (findings.STATUS_PERCENT)
    or as a date or time (findings.STATUS_DATE, 「1:05:00」 kept as 0.0451388888888889):
    the number alone is not the text typed; the row is held, naming the cell and what it shows."""
    from ...core.displayed import number_read, number_shown, percent_shown, shows_date_for

    out = []
    for r, ind_id in (row_ids.items() if col is not None else ()):
        value = _at(raw_rows[r], col)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number_format = wb.number_format(muni, r, col)
            if _hidden(value, number_format, wb.date1904) is not None or _sign_shown(value, number_format) is not None:
                continue            # no digit shown, another sign: held as hidden or so (_hidden_numbers,
                                    # _signs_shown_otherwise), once
            seen = percent_shown(value, number_format, wb.date1904)
            if seen is not None:
                out.append(STATUS_PERCENT.at(muni, cell_ref(r, col), ind_id, value=shown(value), shown=seen))
            elif shows_date_for(value, number_format) and (seen := number_shown(value, number_format, wb.date1904)):
                out.append(STATUS_DATE.at(muni, cell_ref(r, col), ind_id, level=ERROR, value=shown(seen)))
            elif ((words := number_read(value, number_format)) is not None
                  and (not (seen := number_shown(value, number_format, wb.date1904))
                       or not _same_digits(seen, words, value, number_format))):
                # no shown text made (a scientific or fraction section with words shows the
                # number rounded): it cannot show every digit, and is quoted as read
                out.append(STATUS_WORDS.at(muni, cell_ref(r, col), ind_id, shown=shown(seen or words),
                                           value=shown(text(value))))
    return out


def _percents_formatted_after(wb, muni: str, cols: dict[str, int], raw_rows: dict[int, list],
                              row_ids: dict[int, str]) -> list:
    """Each 実績値 or 分母 whose percentage format shows it as 200% or more
    (findings.PERCENT_FORMATTED_AFTER): Excel and Calc store 85% typed as 0.85, so 85 in a 0%
    cell (「8500%」) is most likely 85 typed before the cell was given the format. Read as
    shown it was imported as 8500 without a word, read alone it would be 85: either is a
    guess (SPEC §3), so the row is held, naming the cell, what it shows and the number. So
    is a number a format shows scaled down with no word for the scale (12000 in 「#,##0,」
    shows 「12」, imported as 12: findings.SCALED_WITHOUT_WORDS)."""
    from ...core.displayed import scaled_without_words
    from ...core.percent_cells import formatted_after

    out = []
    for r, ind_id in row_ids.items():
        for f in ("value", "denominator"):
            value = _at(raw_rows[r], cols[f]) if f in cols else None
            number_format = wb.number_format(muni, r, cols[f]) if f in cols else None
            if seen := formatted_after(value, number_format):
                out.append(PERCENT_FORMATTED_AFTER.at(muni, cell_ref(r, cols[f]), ind_id, label=c.ENTRY_HEADERS[f],
                                                      shown=shown(seen), value=shown(text(value))))
            elif number_format and (seen := scaled_without_words(value, number_format)) is not None:
                # 12000 in 「#,##0,」 shows 「12」 (core.displayed.scaled_without_words)
                out.append(SCALED_WITHOUT_WORDS.at(muni, cell_ref(r, cols[f]), ind_id, label=c.ENTRY_HEADERS[f],
                                                   shown=shown(seen), value=shown(text(value)),
                                                   format=shown(number_format)))
    return out


def _hidden_numbers(wb, muni: str, cols: dict[str, int], raw_rows: dict[int, list],
                    row_ids: dict[int, str]) -> list:
    """Each input cell holding a number other than 0 whose format shows no digit of it
    (findings.HIDDEN_NUMBER, _hidden: 「;;;」, 0.3 in 「#"千円"」 showing 「千円」): the
    municipality's form shows no number, the file one, and either reading is a guess
    (SPEC §3), so the row is held. A zero shown blank (「0;-0;;@」, 「#,###」) is the common way
    to hide zeros: read as 0."""
    return [hidden_number(muni, cell_ref(r, cols[f]), ind_id, label=c.ENTRY_HEADERS[f], value=text(value),
                          number_format=number_format, seen=seen)
            for r, f, ind_id, value, number_format in _formatted(wb, muni, cols, raw_rows, row_ids, INPUT_FIELDS)
            if (seen := _hidden(value, number_format, wb.date1904)) is not None]


def _formatted(wb, muni: str, cols: dict[str, int], raw_rows: dict[int, list], row_ids: dict[int, str],
               fields: Sequence[str]):
    """(row, field, 指標ID, value, number format) of each cell of ``fields`` on the rows read:
    what the checks of a number its format shows otherwise look at."""
    for r, ind_id in row_ids.items():
        for f in fields:
            if f in cols:
                yield r, f, ind_id, _at(raw_rows[r], cols[f]), wb.number_format(muni, r, cols[f])


def _signs_shown_otherwise(wb, muni: str, cols: dict[str, int], raw_rows: dict[int, list],
                           row_ids: dict[int, str]) -> list:
    """Each input cell whose format shows its number with another sign than it has
    (_sign_shown: -12 in 「0;0」 shows 12, 12 in 「"▲"0」 ▲12): held, naming what the cell
    shows (findings.SHOWN_OTHERWISE), as the master refuses its own such cell (qa-values64).

    Why: -12 shown 12 was read as stored (「実績値「12」は負の値です」, a message of a number
    the cell shows positive) and -12 in 「0"件";0"件"」 imported as 12 without a word: the cell
    holds -12 and shows 12件, and which the municipality meant is a guess (SPEC §3). A
    実施状況 too (qa-values64c): -12 in 「0;0」 was taken as the text 「-12」, and in
    「0"件";0"件"」 as the 「12件」 shown, each without a word."""
    return [shown_otherwise(muni, cell_ref(r, cols[f]), ind_id, label=c.ENTRY_HEADERS[f], value=text(value),
                            number_format=number_format, seen=seen)
            for r, f, ind_id, value, number_format in _formatted(wb, muni, cols, raw_rows, row_ids, INPUT_FIELDS)
            if (seen := _sign_shown(value, number_format, wb.date1904)) is not None]


def _sign_shown(value: object, number_format: str, date1904: bool = False) -> Optional[str]:
    """What a cell shows for the number ``value`` where it shows it with another sign than
    it has (core.displayed.sign_shown_otherwise, the one rule of the master's cells too),
    else None. A percentage too (-0.5 in 「0%;0%」 shows 50%: it was read as the 50% shown,
    where the cell holds -50%; core.displayed.shown_otherwise asks the sign first too). A
    number shown without a digit is held as hidden (_hidden), once; a plain format
    (「#,##0」, 「0;▲0」) shows every number with its sign, and is passed at once. The one test
    of _signs_shown_otherwise and of _shown_inputs, which leaves such a cell's number as
    stored (its words are not read)."""
    from ...core.displayed import plain_format, sign_shown_otherwise

    if (not isinstance(value, (int, float)) or isinstance(value, bool) or plain_format(number_format)
            or (seen := sign_shown_otherwise(value, number_format)) is None):
        return None         # the common case, asked first: the one below is as costly, and rarely asked
    if _hidden(value, number_format, date1904) is not None:
        return None
    return seen


def _hidden(value: object, number_format: str, date1904: bool = False) -> Optional[str]:
    """What a cell shows for the number ``value`` other than 0 where it shows no digit of it
    (core.displayed.shown_without_digits), else None. The one test of _hidden_numbers, and of
    the readers that leave such a cell to it: read with its words (「0.3千円」) or as its text
    (a 実施状況 「千円」), it would also be quoted by a finding as a figure the cell shows."""
    from ...core.displayed import shown_without_digits

    if not isinstance(value, (int, float)) or isinstance(value, bool) or value == 0:
        return None
    return shown_without_digits(value, number_format, date1904)


def _shown_inputs(wb, muni: str, cols: dict[str, int], raw_rows: dict[int, list],
                  row_ids: dict[int, str]) -> dict[str, tuple[str, str, str, str]]:
    """Input cell → (the text read from it, the text it shows, the number stored) for each
    number the file's format shows otherwise (core.displayed.number_shown): 85% is 0.85 in a
    0% cell, 1:05:00 is 0.0451388888888889, 1,235件 is 1234.5 in #,##0"件". Findings quote
    what the cell shows (findings.as_shown). A 実績値 or 分母 in a percentage format is read
    as the percentage it shows (0.85 → 「85%」, 0.855 → 「85.5%」, every digit kept): the
    file's own format settles what 0.85 was, which on the master (whose readers know no
    format) is undecidable (findings.PERCENT_AS_FRACTION). That is evidence, not a guess,
    and only a returned file's reader has it. So are the words a format adds: a 実績値 or
    分母 is read with them (core.displayed.number_read: 1234 in #,##0"人" → 「1234人」, 1234
    in #,##0"千円" → 「1234千円」), and the rules of units judge it as typed. A 実施状況 is a
    text: a number shown with words is taken as the text shown where that shows the stored
    number's every digit (12 in 0"件" → 「12件」); else it is held (_percent_statuses)."""
    from ...core.displayed import number_read, number_shown, percent_shown

    out = {}
    for r in row_ids:
        for f in INPUT_FIELDS:
            if f not in cols:
                continue
            value = _at(raw_rows[r], cols[f])
            if isinstance(value, (dt.date, dt.time)):
                if (seen := _date_shown(value, wb.number_format(muni, r, cols[f]), wb.date1904)) not in (None, text(value)):
                    out[cell_ref(r, cols[f])] = (text(value), seen, text(value), held_as(value))
                continue
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            number_format = wb.number_format(muni, r, cols[f])
            seen, words = number_shown(value, number_format, wb.date1904), number_read(value, number_format)
            if seen is None and words is None or _hidden(value, number_format, wb.date1904) is not None:
                continue        # a number shown without a digit (「千円」 for 0.3) is held, not read
            if _sign_shown(value, number_format, wb.date1904) is not None:
                continue        # shown with another sign (12 for -12): held as stored (_signs_shown_otherwise)
            # with its words: 「0.3千円」 was imported as 300 円 no one at the municipality saw
            # Scientific or a fraction with words (1.2E+4千円): no shown text is made, so the
            # finding quotes the number read with its words; a 実施状況 so shown is held
            # (_percent_statuses), whatever is read here.
            seen = words if seen is None else seen
            read = text(value)
            if f != "status":
                read = words or read
            elif (words is not None and _same_digits(seen, words, value, number_format)
                  and not percent_shown(value, number_format)):
                read = seen
            if seen != read or read != text(value):
                out[cell_ref(r, cols[f])] = (read, seen, text(value), held_as(value))
    return out


def _date_shown(value: "dt.date | dt.time", number_format: str, date1904: bool) -> Optional[str]:
    """The text a date or time cell shows (「10月10日」, 「R5.10.10」, 「10時30分」) where the
    reader hands the date or time over: its finding quoted 「2023-10-10」 or 「10:30:00」, and a
    number in a time format (12000 in mm:ss, shown 00:00) 「1932-11-07」, none of which the
    cell shows. The value is read as before; only the quote changes (findings.as_shown)."""
    from ...core.contract_read import excel_serial
    from ...core.displayed import number_shown

    try:
        return number_shown(excel_serial(value, date1904), number_format, date1904)
    except (ValueError, OverflowError):
        return None


def _same_digits(seen: str, words: str, value: float, number_format: str) -> bool:
    """Whether a cell's shown text (「1,234件」) shows the stored number's every digit with
    the format's words (number_read's 「1234件」): thousands separators aside, nothing rounded
    or scaled away, and digits shown at all (a section of words alone, 「10未満」 for 5 in
    「[<10]"10未満";0」, shows none of the number: core.displayed.shows_digits)."""
    from ...core.displayed import shows_digits

    return seen.replace(",", "") == words.replace(",", "") and shows_digits(value, number_format)


def _read_as_shown(r: int, texts: dict, native: dict, cols: dict[str, int],
                          seen: dict[str, tuple[str, str, str, str]]) -> None:
    """An input cell of row ``r`` read, and imported, as _shown_inputs reads it: with the
    percentage or the words the file's format shows (0.85 in a 0% cell → 「85%」, 1234 in
    #,##0"人" → 「1234人」, a 実施状況 12 in 0"件" → 「12件」)."""
    for f in INPUT_FIELDS:
        ref = cell_ref(r, cols[f]) if f in cols else None
        if ref in seen and seen[ref][0] != seen[ref][2]:
            texts[f] = native[f] = seen[ref][0]


def _as_shown(found, seen: dict[str, tuple[str, str, str, str]], muni: str, cols: dict[str, int]):
    """``found`` quoting what the cells it quotes show (_shown_inputs): its own cell, and the
    分母 beside a 比率's 実績値 for the findings that quote it (findings.QUOTES_DENOMINATOR).
    Not every cell of its row: the quote is found by its text, and a 分母 of 2.5 shown 2.50
    made a 実績値 of 2.5 quoted 「2.50」, which its cell does not show."""
    if found.sheet != muni or not found.cell:
        return found
    refs = [found.cell]
    if found.type in QUOTES_DENOMINATOR and "denominator" in cols:
        refs.append(cell_ref(parse_ref(found.cell)[0], cols["denominator"]))
    for ref in refs:
        if ref in seen:
            found = as_shown(found, *seen[ref])
    return found


def _held_rows(errors: list, row_ids: dict[int, str]) -> set[str]:
    """The rows not imported: every row holding a bad cell, whole, so that a 実績値 never
    lands without its 分母 (or a status without its value). The master keeps those rows'
    values; the other rows of the file are imported. A bad cell outside the rows (none
    is expected: rows are checked above) refuses the file, as nothing says what it meant."""
    held: set[str] = set()
    for f in errors:
        ind_id = row_ids.get(parse_ref(f.cell)[0]) if f.cell else None
        if not ind_id:
            raise Refused(f"入力値の誤り: {f.place}: {f.message}")
        held.add(ind_id)
    return held


def _check_questions(muni: str, rows: list, master_entries: list[Entry], data: MasterData,
                     ident: dict[str, str], sheet: tuple[list, int]) -> tuple[list[tuple[str, str]], list[str]]:
    """The file's rows still ask what the master's sheet asks (the same 指標IDs, each row its
    own 評価指標, the same targets); returns its (指標ID, 目標値) pairs (``returned_rows``) and
    the 指標IDs of rows staff added to the master's sheet since the split (_check_rows).
    ``sheet``: the file's grid and header row, whose grey 目標値 column shows each target as issued."""
    got = [v["indicator_id"] for _r, v, _cells in rows if v["indicator_id"]]
    as_returned = returned_rows(data, got)
    as_issued = ident.get(P_FINGERPRINT, "") == fingerprint(as_returned)
    at: dict[str, list[str]] = {}
    for _r, v, cells in rows:
        if v["indicator_id"]:
            at.setdefault(v["indicator_id"], []).append(f"{muni}!{cells['indicator_id']}")
    added = _check_rows(muni, got, [e.indicator_id for e in master_entries], as_issued=as_issued, at=at)
    _check_row_labels(muni, rows, data.indicators)
    if not as_issued:
        _check_order(muni, rows, [e.indicator_id for e in master_entries], data, ident)
        changed = _changed_targets(rows, *sheet, data)
        raise Refused("配布した後でマスターの指標（指標ID・目標値）が変わったため、このファイルは古い様式です"
                      + (f"（目標値を変えた指標: {_few(changed, 3)}）" if changed else "")
                      + "。入力用ファイルを配布し直してください")
    return as_returned, added


def _check_order(muni: str, rows: list, want: list[str], data: MasterData, ident: dict[str, str]) -> None:
    """Rows the municipality sorted (データ → 並べ替え, a usual act once the protection is
    lifted): the same rows as issued, in another order. The fingerprint is of the rows in
    order, so this was told 「マスターの指標が変わった…配布し直してください」, sending staff to
    issue the file again for what the municipality did."""
    got = [(cells["indicator_id"], v["indicator_id"]) for _r, v, cells in rows if v["indicator_id"]]
    ids = [i for _cell, i in got]
    if ids == want or sorted(ids) != sorted(want):
        return
    if ident.get(P_FINGERPRINT, "") != fingerprint(returned_rows(data, want)):
        return
    cell, moved = next((cell, i) for (cell, i), w in zip(got, want) if i != w)
    raise Refused(f"シート「{muni}」の行の順番が配布したときと変わっています（並べ替えられています。{muni}!{cell} に"
                  f"指標ID {moved} の行があります）。配布したときの順番（指標ID {_few(want)}）に並べ直して保存したファイルを"
                  "送ってもらってください")


def _changed_targets(rows: list, grid: list, header_row: int, data: MasterData) -> list[str]:
    """Which targets staff changed since the split, read from the file's grey 目標値 column
    (each target as issued) against 指標: 「04-1（指標!H6）「20件」→「25件」」 each. Staff were
    told only that something changed, and had to look through every indicator for it."""
    heads = [text(v) for v in grid[header_row - 1]]
    if INPUT_TARGET not in heads:
        return []
    col = heads.index(INPUT_TARGET)
    by_id = {i.id: i for i in data.indicators}
    out = []
    for r, v, _cells in rows:
        ind = by_id.get(v["indicator_id"])
        issued = text(_at(grid[r - 1], col + 1))
        if ind is not None and issued != text(ind.target):
            out.append(f"{ind.id}（{c.INDICATORS}!{ind.cell('target')}）「{shown(issued)}」→「{shown(ind.target)}」")
    return out


def returned_rows(data: MasterData, ids: list[str]) -> list[tuple[str, str]]:
    """The (指標ID, 目標値) pairs the fingerprint and the seal are over, in the order of the
    returned file's rows (the order split issued them in) with the master's targets: staff
    who sort their municipality sheet after the split change no question a file answers,
    yet in the master's order every file out with the municipalities read as stale
    (「指標ID・目標値が変わった」) and had to be issued again. A target changed since
    still changes the code."""
    targets = {i.id: i.target for i in data.indicators}
    return [(ind_id, targets.get(ind_id, "")) for ind_id in ids]


def _check_outside_input(muni: str, header: list, raw_rows: dict[int, list], row_ids: dict[int, str],
                         data: MasterData) -> None:
    """A value on an indicator's row that collect does not read: in a column split did not
    write (a note typed beside the table, a column inserted, with a header of its own or
    none) or typed over the grey 目標値 (the answer put one column to the left, the
    protection lifted). Taking the file would log it as imported, that value lost without
    a word, so it is refused whole, naming the cells, as values in rows without 指標ID are
    (_check_unlabelled). The target is compared only once the fingerprint has shown that
    the master still asks the targets the file was issued with, and only where split filled
    the column from 指標 (a 目標値 column of the master's own sheet is copied as it is)."""
    heads = [text(v) for v in header]
    sent = set(data.headers.get(muni, ())) | {h for _a, h, _w in REFERENCES} | set(c.ISSUED_HEADERS.values())
    sent |= renamed_since_split(heads, data.headers.get(muni, ()))
    added = {col for col, h in enumerate(heads, start=1) if not h or (muni in data.headers and h not in sent)}
    from_indicators = muni in data.headers and INPUT_TARGET not in data.headers[muni]   # else the sheet's own
    target_col = heads.index(INPUT_TARGET) + 1 if INPUT_TARGET in heads and from_indicators else 0
    targets = {i.id: text(i.target) for i in data.indicators}
    outside: list[str] = []
    typed_over: list[str] = []
    for r, ind_id in row_ids.items():
        row = raw_rows[r]
        outside += [f"{muni}!{cell_ref(r, col)}" for col, v in enumerate(row, start=1)
                    if text(v) and (col > len(heads) or col in added)]
        got = text(_at(row, target_col)) if target_col else ""
        if target_col and got != targets.get(ind_id, got):
            typed_over.append(f"{muni}!{cell_ref(r, target_col)}「{shown(got)}」（配布時は「{shown(targets[ind_id])}」）")
    if outside:
        raise Refused(f"シート「{muni}」の配布時になかった列に値があります（{_few(outside)}）。取り込むのは実績値・分母・"
                      "実施状況の列だけのため、このファイルは取り込みません（取り込むと、その値は黙って捨てられます）。"
                      "その内容を実績値・分母・実施状況の列に入力し直して送ってもらってください（取り込まなくてよい"
                      "メモなら、そのセルを消して保存してから取り込んでください。配布した後でマスターの市町村シートの列を"
                      "削除・改名したときは、その列を戻してから取り込んでください）")
    if typed_over:
        raise Refused(f"シート「{muni}」の目標値（確認用の灰色の列）が配布時と違います（{_few(typed_over, 3)}）。"
                      "実績値を目標値の列に入力した可能性があり、目標値の列は取り込まないため、このファイルは取り込みません。"
                      "実績値の列に入力し直して送ってもらってください")


def _labels_since_issue(muni: str, raw_rows: dict[int, list], row_ids: dict[int, str], cols: dict[str, int],
                        issued: dict[str, dict[str, str]]) -> list:
    """A warning (findings.LABEL_CHANGED) for each 連携事業名 or 評価指標 of a returned row whose
    text differs from the one split issued (the hidden 配布時の… columns, sealed from version
    "3" on; a file issued before keeps none, and is read as before): typed into once the
    protection was lifted (「…（うち2件は見込み）」), corrected or cleared. collect imports the
    input cells only, so the text was lost without a word.

    A warning, not a refusal. Refused, the municipality's answers (their own cells, read as
    issued questions: a label is no part of what a row's values mean, as a 単位 is) would stay
    out of the master for words beside them, and staff would have to ask for the file again;
    taken with the typed text quoted, file and cell named, on both faces (CollectReport.noted),
    nothing is accepted unseen. 指標's text is no reference: staff may reword an indicator after
    the split, and a genuine return would be warned of falsely."""
    labels = {f: cols[f] for f in c.LABEL_FIELDS if f in cols}
    out = []
    for r, ind_id in row_ids.items():
        was = issued.get(ind_id, {})
        for f, col in labels.items():
            got = text(_at(raw_rows[r], col))
            if f in was and got != was[f]:
                out.append(label_changed(muni, cell_ref(r, col), ind_id, label=c.ENTRY_HEADERS[f], issued=was[f],
                                         returned=got))
    return out


def _check_labels_typed_over(muni: str, header: list, raw_rows: dict[int, list], row_ids: dict[int, str],
                             data: MasterData) -> None:
    """A locked cell of an indicator's row typed over once the sheet's protection was lifted
    (it has no password): 単位 「件」 made 「社」, a 基準値 corrected. collect reads neither, so
    the file was taken and the edit lost without a word (4 read as 4件, not 4社). Each is
    compared with what split copied it from: the master sheet's 単位, 指標's 基準値 (where the
    sheet has none of its own). Only on a sheet no longer protected: on a protected one
    nobody could type there, and a difference is the master's, edited since. 連携事業名 and
    評価指標 are compared with their text as issued, which the file keeps (_labels_since_issue;
    _check_row_labels sees a row relabelled as another indicator)."""
    heads = [text(v) for v in header]
    own = set(data.headers.get(muni, ()))
    labels = {c.ENTRY_HEADERS["unit"]: "unit"}
    labels.update({head: attr for attr, head, _w in REFERENCES if attr == "baseline" and head not in own})
    cols = {col: labels[h] for col, h in enumerate(heads, start=1) if h in labels}
    by_id = {i.id: i for i in data.indicators}
    entries = {e.indicator_id: e for e in data.entries if e.municipality == muni}
    found: list[str] = []
    for r, ind_id in row_ids.items():
        ind, entry = by_id.get(ind_id), entries.get(ind_id)
        for col, f in cols.items():
            source = entry if f == "unit" else ind
            want = text(getattr(source, f)) if source is not None else None
            got = text(_at(raw_rows[r], col))
            if want is not None and got != want:
                found.append(f"{muni}!{cell_ref(r, col)}「{shown(got)}」（マスターは「{shown(want)}」）")
    if found:
        raise Refused(f"シート「{muni}」の保護が外され、入力欄ではないセルが書き換えられています（{_few(found, 3)}）。"
                      "取り込むのは実績値・分母・実施状況の列だけのため、このファイルは取り込みません（取り込むと、その内容は"
                      "黙って捨てられます）。市町村に内容を確かめ、必要なことは実績値・分母・実施状況の列に入力し直して送って"
                      "もらってください（配布した後でマスターのそのセルを直したときは、ファイルのそのセルをマスターと同じに"
                      "直して保存してから取り込んでください）")


def renamed_since_split(heads: list[str], master: Sequence[str]) -> set[str]:
    """The file's headers of staff's own columns that the master's sheet has renamed since
    the split: every return then showed 「配布時になかった列に値があります」 for the values
    split itself copied there, and was refused. Told apart by place, not by name: the file's
    headers, less those split adds (基準値・目標値, the issued columns) and last year's
    column (which split moves), line up one to one with the master's; a header the file has
    where the master has another staff header the file lacks is that column, renamed. Any
    other difference (a column added or deleted on either side) lines up nothing, and the
    values there are refused as before."""
    if not master:
        return set()
    own = set(master)
    added_by_split = {h for _a, h, _w in REFERENCES if h not in own} | set(c.ISSUED_HEADERS.values())
    contract = set(c.ENTRY_HEADERS.values())

    def kept(seq) -> list[str]:
        return [h for h in seq if h and h not in added_by_split and not h.startswith(c.PREVIOUS_HEADER_PREFIX)]
    got, want = kept(heads), kept(master)
    in_file = set(heads)
    if len(got) != len(want):
        return set()
    pairs = [(g, w) for g, w in zip(got, want) if g != w]
    if any(g in own or g in contract or w in in_file or w in contract for g, w in pairs):
        return set()
    return {g for g, _w in pairs}


def _check_previous_typed_over(muni: str, header: list, raw_rows: dict[int, list], row_ids: dict[int, str],
                               value_col: Optional[int], data: MasterData) -> None:
    """An answer typed over the grey 「前年度実績（前年度）」 column, the one just left of 実績値
    from the second year on, with 実績値 left empty: collect reads neither that column nor a
    guess, so the answer was lost without a word. Compared with the master's column
    (Entry.previous) only on rows whose 実績値 is empty: where 実績値 holds the answer, a
    differing 前年度実績 is a year corrected since the split (history import), not an answer."""
    label = c.last_years_header(data.settings.fiscal_year)
    heads = [text(v) for v in header]
    if label not in heads or value_col is None:
        return
    col = heads.index(label) + 1
    shown_before = {e.indicator_id: e.previous for e in data.entries if e.municipality == muni and e.indicator_id}
    typed_over = [f"{muni}!{cell_ref(r, col)}「{shown(got)}」（配布時は「{shown(shown_before.get(ind_id, ''))}」）"
                  for r, ind_id in row_ids.items()
                  if not text(_at(raw_rows[r], value_col))
                  and (got := text(_at(raw_rows[r], col))) != shown_before.get(ind_id, got)]
    if typed_over:
        raise Refused(f"シート「{muni}」の{label}（確認用の灰色の列）が配布時と違い、その行の実績値が空です"
                      f"（{_few(typed_over, 3)}）。実績値を{label}の列に入力した可能性があり、その列は取り込まないため、"
                      "このファイルは取り込みません。実績値の列に入力し直して送ってもらってください")


def _check_hidden_rows(muni: str, hidden: set[int], raw_rows: dict[int, list], row_ids: dict[int, str],
                       cols: dict[str, int], issued: dict[str, dict[str, str]]) -> None:
    """An answer on a hidden row (the sheet lets rows be hidden; a filter hides them too):
    Excel pastes a copied block into the hidden rows as well, so a column of answers pasted
    over rows some of which were hidden put a value the municipality never saw into each
    hidden row and moved every answer below it one indicator down. Nothing in the file can
    tell the misplaced answers from good ones, so the file is refused whole, naming the
    hidden cells that changed since the split (every filled one, in a file issued without
    the issued values). Once the rows are shown and checked, the same file is taken."""
    if not hidden:
        return
    inputs = {f: cols[f] for f in INPUT_FIELDS if f in cols}
    changed = [f"{muni}!{cell_ref(r, col)}（{ind_id}）" for r, ind_id in row_ids.items() if r in hidden
               for f, col in inputs.items() if text(_at(raw_rows[r], col)) != issued.get(ind_id, {}).get(f, "")]
    if changed:
        rows = sorted({r for r in hidden if r in row_ids})
        raise Refused(f"シート「{muni}」の非表示の行（{_few([str(r) for r in rows])} 行目）に、配布時から変わった値があります"
                      f"（{_few(changed, 3)}）。Excel では、非表示の行にも貼り付けた値が入り、その下の行の値が1行ずつずれる"
                      "ことがあるため、このファイルは取り込みません。行を再表示して（行番号を選んで右クリック→「再表示」）、"
                      "すべての行の値を確かめてもらい、直したファイルを送ってもらってください（値が正しいと確かめたときは、"
                      "行を再表示して保存してから取り込んでください）")


def _check_notes(wb) -> None:
    """A note (comment) the municipality put on a cell once the protection was lifted
    (右クリック → 「メモの挿入」 / 「新しいコメント」, LibreOffice's 「コメント」): 「暫定値です。
    確定値は5月に送ります」 on 06-1's 実績値, 「集計中のため空欄」 on 05-1's. collect reads cell
    values only, so the file was imported and logged and the note never seen by staff, where
    a note typed into a cell beside the table is named (_check_outside_input). Split writes
    no note: every one is the municipality's, on any sheet, and the file is refused naming
    each, as that note would be."""
    from ...core.values import one_line

    found = [f"{name}!{ref or '（場所不明）'}「{shown(one_line(note), 30)}」"
             for name in wb.sheetnames for ref, note in wb.notes(name) if note]
    if found:
        raise Refused(f"セルにメモ（コメント）があります（{_few(found, 3)}）。取り込むのはセルの値だけのため、このファイルは"
                      "取り込みません（取り込むと、メモの内容は黙って捨てられます）。メモの内容を確かめ、回答なら実績値・分母・"
                      "実施状況の列に入力し直して送ってもらってください（確かめた後で取り込まなくてよいメモなら、メモを削除して"
                      "保存してから取り込んでください）")


def _check_seal(ident: dict[str, str], data: MasterData, muni: str, key: Optional[bytes],
                issued: dict[str, dict[str, str]], rows: list[tuple[str, str]]) -> None:
    """The seal against this master's key. Checked after the plain fingerprint, so a
    genuine file made stale by a changed master still gets the "配布し直して" reason.

    ``issued``: the hidden columns as read (issued_values), which the seal of a file of
    version 2 on covers: collect trusts them to tell what the municipality changed
    (since_issue), so one rewritten with its answer is refused as any doctored file is. A
    file of version 1 is checked the way it was sealed, without them (core.seal)."""
    if key is None:
        return
    got = ident.get(P_SEAL, "")
    if not got:
        raise Refused(f"{L_SEAL}がありません。このマスターが{muni}に配布した入力用ファイルであることを確認できません"
                       "（照合コードを付ける前に配布したファイルか、識別情報が消されています）。"
                       "新しく配布した入力用ファイルで提出してもらってください")
    expected = municipality_seal(key, data, muni, ident.get(P_ISSUED, ""), rows, cells=issued,
                                 version=ident.get(P_VERSION, TEMPLATE_VERSION))
    if not seal_matches(expected, got) and not issued and ident.get(P_VERSION) != "1":
        hidden = "・".join(c.ISSUED_HEADERS[f] for f in SEALED_FIELDS.get(ident.get(P_VERSION, ""), INPUT_FIELDS))
        raise Refused(f"非表示の列（{hidden}）が削除されています（Excel の「ドキュメント検査」で「非表示の行と列」を"
                      "削除したときなど）。市町村が変えたセルと、配布した入力用ファイルであることを確かめられないため、"
                      "取り込みません。配布した入力用ファイルに入力し、非表示の列を削除せずに送ってもらってください")
    if not seal_matches(expected, got):
        raise Refused(f"{L_SEAL}が一致しません。このマスターが{muni}に配布した入力用ファイルではありません"
                       "（別のマスターから配布したファイルか、市町村名・指標などの識別情報や、非表示の列の"
                       "配布時の値が書き換えられています）。"
                       "配布した入力用ファイルで提出してもらってください")


def _check_named(path: Path, muni: str, settings, split_folder: Optional[Path] = None) -> None:
    """A return whose file name names municipalities of 設定, none of them its own: 岩見沢市
    filled in 恵庭市's file (the wrong attachment of the request mail) and sent it back under
    its own name. The file is genuinely 恵庭市's (its identity and seal say so), so it would
    be imported into 恵庭市's sheet with 岩見沢市's numbers, and 岩見沢市's answer never
    arrive. Which of the two it is, only a person can tell: refused, and both ways on are
    named. A name that names no municipality (「回答.xlsx」), or its own among others, is no
    such sign. Checked after the seal, so a file whose identity was rewritten is refused
    for that. Being refused, it holds each municipality it names (returned_by)."""
    year = settings.fiscal_year
    named = named_in(shown_file_name(path), settings.names, tail=input_tail(year))
    if not named or muni in named:
        return
    others = [m for m in settings.names if m in named]
    said = "・".join(others)
    split_folder = split_folder or path.parent      # the folder split made them in, else this one
    own_files = "」「".join(issued_name(m, year, split_folder) for m in others)
    raise Refused(f"ファイル名は{said}を指していますが、中身は{muni}の入力用ファイルです（ファイルの識別情報は{muni}"
                  f"のものです）。{said}が{muni}のファイルに入力して送った可能性があるため、取り込みません。"
                  f"{said}には、自分の市町村のファイル（「{own_files}」）に入力して送り直してもらってください。"
                  f"本当に{muni}の回答なら、ファイル名を「{issued_name(muni, year, split_folder, path.parent)}」に変えてから、"
                  "もう一度取り込んでください")


def issued_name(muni: str, year: int, split_folder: Path, there: Optional[Path] = None) -> str:
    """The name split gave ``muni``'s file in ``split_folder`` (distribute.file_name: cut
    to fit a deep folder, never the uncut name split did not make). ``there``: the folder
    the file is to be renamed in; where split's name is too long for Excel there (a
    deeper folder than split's), the name the same rule makes there, which collect knows
    by the same hash (core.filenames.named_in)."""
    from ...core.filenames import ExcelPathTooLong, excel_path_problem
    from ...safety import shown_path

    try:
        name = file_name(muni, year, shown_path(split_folder))
    except ExcelPathTooLong:    # no readable name fits there: the uncut one, as staff would say it
        name = file_name(muni, year)
    if there is None or not excel_path_problem(shown_path(there), name):
        return name
    try:
        return file_name(muni, year, shown_path(there))
    except ExcelPathTooLong:
        return name


def _check_container(path: Path, raw: bytes) -> None:
    if raw.startswith(OLE_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in raw:
            raise Refused("パスワードで暗号化されています。パスワードを解除して保存し直したファイルを送ってもらってください")
        raise Refused("暗号化されたファイルか、古い Excel 形式（.xls）です。"
                       "パスワードを解除し、Excel ブック（.xlsx）で保存し直したファイルを送ってもらってください")
    if not raw.startswith(ZIP_MAGIC):
        raise Refused(_not_a_package(raw))
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            infos = zf.infolist()
            if sum(i.file_size for i in infos) > MAX_UNPACKED:
                raise Refused("展開後の大きさが大きすぎます（配布した入力用ファイルではありません）")
            if (why := members_refusal(infos)) is not None:
                raise Refused(f"ファイルが壊れています: {why}。もう一度保存して送ってもらってください")
            bad = zf.testzip()
            names = [i.filename for i in infos]
            content_types = zf.read("[Content_Types].xml") if "[Content_Types].xml" in names else b""
            mimetype = zf.read("mimetype")[:100] if "mimetype" in names else b""
            # Unless a part is damaged (said first, below): where the reader finds the workbook part.
            book = _book_in(zf, names) if bad is None else None
            sheet_names = _sheet_names(zf, book)
    except Refused:
        raise
    except (*ZIP_DAMAGE, ValueError):
        # zlib.error: a member whose deflate stream is damaged (an attachment mangled on the
        # way) is not zipfile's BadZipFile, and testzip lets it through: collect stopped with
        # 「予期しないエラー」 and no return in the folder was imported.
        raise Refused("ファイルが壊れています（途中で切れているか、ZIP 形式として読めません）。"
                       "もう一度保存して送ってもらってください") from None
    if bad is not None:
        raise Refused(f"ファイルが壊れています（部品「{bad}」が読めません）。もう一度保存して送ってもらってください")
    if inside := _archived(infos):
        # Not 「開いて保存し直して」: no application opens a ZIP named .xlsx as a workbook.
        more = more_text(len(inside) - 1, "個") if len(inside) > 1 else ""
        raise Refused(f"Excel ブック（.xlsx）ではなく、「{shown(inside[0])}」{more}を入れた圧縮ファイル（ZIP）です。"
                      f"名前の最後の「{path.suffix}」を「.zip」に変えてから、"
                      + unpack_into(path.parent.resolve().name or str(path.parent.resolve())))
    # Before the macros: every .xlsb's main type is 「sheet.binary.macroEnabled.main」, and one
    # renamed .xlsx was told it was a マクロ有効ブック to be renamed .xlsm.
    if (refusal := _no_book(names, mimetype, book)) is not None:
        raise Refused(refusal)
    _check_macros(path, names, content_types, sheet_names)


_ANEW = "入力用ファイルに入力して Excel で上書き保存したファイル（.xlsx）を、もう一度送ってもらってください"


def _not_a_package(raw: bytes) -> str:
    """Why a returned file that is neither a ZIP package nor an OLE file is refused, saying
    what it is as far as its first bytes tell (package.content.content_of, the master's rule
    too). Only 「Excel ブック（.xlsx）ではありません」 was said, with nothing to do: a file of
    0 bytes and one of only zero bytes are no other format but an empty save; a PDF or a CSV
    named .xlsx carries none of the file's identity, so 「開いて保存し直して」 would not make
    it importable (qa-returns64)."""
    found = content_of(raw[:HEAD], len(raw), not raw.strip(b"\0"))
    if found.kind == EMPTY:
        return ("空のファイル（0 バイト）です。保存やコピーが途中で止まった可能性があります。" + _ANEW)
    if found.kind == ZEROS:
        return (f"中身がすべて 0 のファイル（{len(raw):,} バイト）で、Excel ブックではありません。保存やコピー、同期が途中で"
                "止まった可能性があります。" + _ANEW)
    if found.kind == WEB:
        return ("Excel ブック（.xlsx）ではありません（中身は Web ページ（HTML）か XML スプレッドシートです）。"
                + RESAVE_AS_XLSX)
    if found.what:
        return f"Excel ブック（.xlsx）ではありません（中身は{found.what}です）。配布した" + _ANEW
    return "Excel ブック（.xlsx）ではありません。配布した" + _ANEW


def _check_macros(path: Path, names: list[str], content_types: bytes, sheet_names: list[str]) -> None:
    """A return holding a macro (a VBA project, an Excel 4.0 macro sheet) is refused, as is
    one whose name's extension disagrees with its content (Excel opens neither). A
    マクロ有効ブック (.xlsm) holding no macro is read as any return: Excel saves one so when
    the municipality picks that type in 「名前を付けて保存」, and nothing in it runs; it was
    refused as 「マクロ（VBA）を含むブック」, which the municipality could not find."""
    macro_enabled = b"macroEnabled" in content_types
    macro_suffix = path.suffix.lower() == c.MACRO_SUFFIX
    macros = _macro_parts(names, content_types)
    if not (macros or macro_enabled or macro_suffix):
        return
    if recognise(sheet_names).kind == MASTER:
        raise Refused(not_a_return(recognise(sheet_names)))
    if macros:
        raise Refused("マクロ（VBA）を含むブックです。マクロを含まない Excel ブック（.xlsx）で"
                      "保存し直したファイルを送ってもらってください")
    if macro_enabled != macro_suffix:     # renamed by hand: Excel itself refuses a name that disagrees with the content
        content, back = ("マクロ有効ブック（.xlsm）", ".xlsm") if macro_enabled else ("マクロのない Excel ブック（.xlsx）", ".xlsx")
        raise Refused(f"名前の拡張子が {path.suffix} ですが、中身は{content}です。"
                      f"名前の拡張子を {back} に戻してから取り込んでください")


# The content types of a VBA project and of an Excel 4.0 macro sheet (international too).
_MACRO_TYPES = ("application/vnd.ms-office.vbaproject", "application/vnd.ms-excel.macrosheet+xml",
                "application/vnd.ms-excel.intlmacrosheet+xml")


def _macro_parts(names: list[str], content_types: bytes) -> bool:
    """Whether the package holds a VBA project or a macro sheet, by each part's content
    type as well as its usual name: a package's parts are found by relationship and typed
    by [Content_Types].xml, their names are the writer's choice (ECMA-376 Part 2), and once
    a マクロ有効ブック's main content type no longer counted as a macro, a project kept as
    xl/code.bin was let through. A pattern, not a parser (as _sheet_names); a type only
    declared (a Default for ``.bin`` with no such part) is no macro."""
    import re

    defaults, overrides = {}, {}
    for kind, attrs in re.findall(r"<(?:\w+:)?(Default|Override)\b([^<>]*)>", content_types.decode("utf-8", "replace")):
        found = dict(re.findall(r'\b(ContentType|Extension|PartName)\s*=\s*["\']([^"\']*)', attrs))
        content = found.get("ContentType", "").strip().lower()
        if kind == "Default":
            defaults[found.get("Extension", "").lower()] = content
        else:
            overrides[found.get("PartName", "").lstrip("/").lower()] = content
    for name in names:
        lower = name.lower()
        content = overrides.get(lower, defaults.get(lower.rsplit(".", 1)[-1]) if "." in lower else None)
        if content in _MACRO_TYPES or lower.endswith("vbaproject.bin") or lower.startswith("xl/macrosheets/"):
            return True
    return False


# _book_in's answer where _rels/.rels cannot be read: the package reader says how (_load).
_UNREAD_RELS = ""


def _book_in(zf: zipfile.ZipFile, names: list[str]) -> Optional[str]:
    """The member that is the workbook part, found as the package reader finds it (where
    _rels/.rels names it, else at Excel's place: package.zipped.workbook_member); None where
    there is none. Only Excel's place was looked at here, and _rels/.rels read again from a
    second opening of the package to say where a book elsewhere was."""
    from ...package.xml import PackageError
    from ...package.zipped import workbook_member

    try:
        return workbook_member(zf, set(names))
    except PackageError:
        return _UNREAD_RELS


def _no_book(names: list[str], mimetype: bytes, book: Optional[str]) -> Optional[str]:
    """Why a ZIP package whose workbook part (``book``: _book_in) is not at xl/workbook.xml is
    refused: another format renamed .xlsx, or a workbook part elsewhere (OPC lets a writer put
    it anywhere, python-calamine reads only Excel's place), said as the master's reader says it
    (workbook.sheet_checks.check_calamine_places), or no workbook part at all."""
    from ...package.part_names import part_key
    from ...package.zipped import BOOK_PLACE

    has_types = "[Content_Types].xml" in names
    if has_types and (book == _UNREAD_RELS or (book is not None and part_key(book) == BOOK_PLACE)):
        return None
    other = _other_package(names, mimetype)
    if other is None and has_types and book is not None:
        from ...workbook.sheet_checks import book_elsewhere_refusal

        return book_elsewhere_refusal(book)
    return f"Excel ブック（.xlsx）ではありません（{other or 'ブック本体がありません'}）。{RESAVE_AS_XLSX}"


def _other_package(names: list[str], mimetype: bytes) -> Optional[str]:
    """What a ZIP package that is no .xlsx is, as far as its parts say: a return saved as
    .ods or .xlsb and then renamed .xlsx (by hand, or by a mail client keeping the name)."""
    if mimetype.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
        return "中身は OpenDocument 形式（.ods）です"
    if "xl/workbook.bin" in names:
        return "中身は Excel バイナリ ブック（.xlsb）です"
    return None


def _sheet_names(zf: zipfile.ZipFile, book: Optional[str]) -> list[str]:
    """Sheet names from the workbook part ``book`` (_book_in), only to say what a refused file
    is (a pattern, not a parser: the file is untrusted and nothing else is taken from it here)."""
    import re

    from ...package.xml import unescape

    info = zf.getinfo(book) if book else None
    if info is None or info.file_size > 1024 * 1024:
        return []
    xml = zf.read(info).decode("utf-8", "replace")
    return [unescape(n) for n in re.findall(r'<(?:\w+:)?sheet\b[^<>]*?\bname="([^"]*)"', xml)]


def _load(raw: bytes, name: str):
    """The returned file's package and values (a formula counts with the value Excel saved)."""
    from ...workbook.returned import ReturnedBook

    try:
        return ReturnedBook(raw, name)
    except UserError as exc:
        raise Refused(f"ブックとして開けません: {exc}") from None


def identifier(wb) -> dict[str, str]:
    """The identifier from the custom properties, else from the visible header block."""
    found = {name: value for name, value in wb.custom.items() if name in ID_LABELS.values()}
    if found.get(P_MUNICIPALITY):
        return found
    return {**visible_identifier(wb), **found}


def visible_identifier(wb) -> dict[str, str]:
    """The identifier block at the top of the first sheet (市町村, 対象年度 …), as shown."""
    return {prop: value for prop, (_ref, value) in _visible_cells(wb).items()}


def _visible_cells(wb) -> dict[str, tuple[str, str]]:
    """visible_identifier with the cell each value is in (property → (ref, text))."""
    found: dict[str, tuple[str, str]] = {}
    if not wb.sheetnames:
        return found
    try:
        first = wb.grid(wb.sheetnames[0])
    except UserError:
        return found
    for r, row in enumerate(first[:c.HEADER_SEARCH_ROWS], start=1):
        cells = [text(v) for v in row]
        for i, v in enumerate(cells):
            if v in ID_LABELS:
                rest = [(k, x) for k, x in enumerate(cells[i + 1:], start=i + 2) if x]
                if rest:
                    found.setdefault(ID_LABELS[v], (cell_ref(r, rest[0][0]), rest[0][1]))
    return found


def _check_identifier_errors(wb) -> None:
    """An error value in the visible identifier block, refused as the error it is in its cell,
    before the block is read as whose file it is: 「#N/A」 as 市町村 was 「市町村「#N/A」は設定
    シートの市町村一覧にありません」 (a file without the properties, which Excel's ドキュメント検査
    removes), or 「識別情報が書き換えられています（市町村: シートには「#N/A」…）ほかの市町村の
    ファイルに入力した可能性があります」 (with them); as 年度, 「#SPILL!年度のファイルです」. So is a
    TRUE/FALSE (unread_value, the one test of the readers that refuse both): it was quoted as
    the municipality 「TRUE」, a name, where the cell holds a check box's link (qa-132)."""
    cells = _visible_cells(wb)
    found = [(f"{wb.sheetnames[0]}!{ref}", e) for ref, value in cells.values() if (e := unread_value(value))]
    if found:
        raise Refused(_outside_inputs(wb.sheetnames[0], found))


# What the visible block must agree on with the properties: who and which year. A
# municipality that filled in a neighbour's file and typed its own name over the block
# would otherwise have its numbers imported as the neighbour's (the seal is the
# neighbour's, and right).
_SHOWN_AND_STORED = (P_MUNICIPALITY, P_YEAR)


def _check_shown_identity(wb, ident: dict[str, str]) -> None:
    visible = visible_identifier(wb)
    labels = {prop: label for label, prop in ID_LABELS.items()}
    for prop in _SHOWN_AND_STORED:
        if prop in visible and ident.get(prop) and visible[prop] != ident[prop]:
            raise Refused(f"ファイルの識別情報が書き換えられています（{labels[prop]}: シートには「{shown(visible[prop])}」、"
                           f"ファイルの情報には「{shown(ident[prop])}」）。ほかの市町村のファイルに入力した可能性があります。"
                           "配布したそのファイル（自分の市町村のもの）に入力して送ってもらってください")


def _check_ids_typed_over(muni: str, rows: list, want: list[str], data: MasterData, ident: dict[str, str]) -> None:
    """A 指標ID typed over or cleared (the protection lifted): the issued ID gone from the file
    was told 「行が削除されています」, the cell unnamed, and a cleared one 「指標IDのない行に値が
    あります…配布時になかった行」, of a row split wrote. What each such cell held when issued is
    told without guessing, or not told at all: by the row's locked 評価指標, which names one of
    the IDs gone and not the row's own, or by the IDs gone put back in the order of the cells
    that lost them, where the file's fingerprint (its IDs in order) then matches as issued."""
    got = [v["indicator_id"] for _r, v, _cells in rows if v["indicator_id"]]
    code = ident.get(P_FINGERPRINT, "")
    have, wanted = set(got), set(want)     # asked per row: as lists, a return of 60,000 rows took 40 s
    missing = [i for i in want if i not in have]
    if not missing or code == fingerprint(returned_rows(data, got)):
        return          # none gone, or the file's IDs are as issued (the master's rows changed: _check_rows)
    names = {i.id: i.name.strip() for i in data.indicators}
    table = [(cells["indicator_id"], v["indicator_id"], v.get("name", "").strip()) for _r, v, cells in rows
             if v["indicator_id"] or v.get("name", "").strip()]
    owned: dict[str, list[str]] = {}
    for m in missing:
        owned.setdefault(names.get(m), []).append(m)
    issued: dict[int, str] = {}
    for k, (_cell, ind_id, name) in enumerate(table):
        owners = owned.get(name, []) if name else []
        if len(owners) == 1 and names.get(ind_id) != name:
            issued[k] = owners[0]
    if len(set(issued.values())) != len(issued):
        issued = {}     # two rows named as one indicator: no telling which
    lost = [k for k, (_cell, ind_id, _name) in enumerate(table) if ind_id not in wanted]
    if len(issued) < len(missing) and len(lost) == len(missing):
        back = dict(zip(lost, missing))
        if code and code == fingerprint(returned_rows(data, [back.get(k, row[1]) for k, row in enumerate(table)])):
            issued = back
    if not issued:
        return          # not told: _check_rows names the IDs gone and the ones added
    found = [f"{muni}!{table[k][0]}「{shown(table[k][1]) if table[k][1] else '（空欄）'}」（配布時は「{m}」）"
             for k, m in sorted(issued.items())]
    raise Refused(f"シート「{muni}」の指標IDが書き換えられています（{_few(found, 3)}）。指標IDで回答を入れるマスターの行を"
                  "決めるため、このファイルは取り込みません。市町村に確かめ、その指標IDを配布時に戻して保存したファイルを"
                  "送ってもらってください（確かめた後なら、そのセルを配布時の指標IDに戻して保存してから取り込めます）")


def _check_row_labels(muni: str, rows, indicators) -> None:
    """A row whose 指標ID was changed by hand (the sheet's protection lifted, the ID column
    sorted alone or typed over) keeps its locked 評価指標, which then names another of the
    indicators: its answers would land on that one. A 評価指標 like none (renamed in 指標
    since split) is no swap."""
    by_id = {i.id: i for i in indicators}
    owners: dict[str, list[str]] = {}
    for ind in indicators:
        owners.setdefault(ind.name.strip(), []).append(ind.id)
    for r, v, _cells in rows:
        ind_id, name = v["indicator_id"], v.get("name", "").strip()
        own = by_id.get(ind_id)
        if own is None or not name or name == own.name.strip() or name not in owners:
            continue
        raise Refused(f"シート「{muni}」の {r} 行目: 指標ID「{ind_id}」の行の評価指標「{shown(name)}」は"
                       f"指標ID「{owners[name][0]}」のものです（指標IDが書き換えられたか、指標IDの列だけが並べ替え"
                       "られています）。配布したファイルに入力し直して送ってもらってください")


def _check_other_sheets(wb, muni: str) -> None:
    """Split writes the municipality's sheet and the hidden 選択肢 only. A value on any
    other sheet (Excel's シートの移動またはコピー makes 「小樽市 (2)」, and answers typed
    there) is never read: importing the file would drop those answers without a word and
    log the file as imported. An added sheet left empty is no answer and does no harm. A
    sheet that is no copy of the table (a sheet of sums the input cells' formulas read) is
    told apart in the reason: 「コピーして入力」 sent staff looking for answers that were not there."""
    for name in wb.sheetnames:
        if name == muni:
            continue
        try:
            if name == CHOICES_SHEET and not _choices_may_hold_more(wb.sheet_xml(name)):
                continue
            grid = wb.grid(name)
        except UserError as exc:
            if name == CHOICES_SHEET:
                raise Refused(f"非表示のシート「{name}」（状態の選択肢の一覧）を読めません（{exc}）") from None
            raise Refused(f"配布時になかったシート「{name}」があり、読めません（{exc}）") from None
        if name == CHOICES_SHEET:
            _check_choices(muni, grid)
            continue
        if not any(text(v) for row in grid for v in row):
            continue
        copied = any(text(v) == c.ENTRY_HEADERS["indicator_id"] for row in grid[:c.HEADER_SEARCH_ROWS] for v in row)
        again = f"配布したシート「{muni}」に入力し直して送ってもらってください"
        what = (f"シートをコピーして入力した可能性があります。{again}" if copied else
                f"計算や下書きに使ったシートなら、シート「{muni}」の入力欄に値として貼り付け直してから、このシートを"
                f"削除して送ってもらってください。回答を書いたシートなら、{again}")
        raise Refused(f"配布時になかったシート「{name}」に値があります。このシートは取り込まないため、ファイルごと"
                      f"取り込みません。{what}")


# A cell tag whose place is not one split writes on 選択肢 (A1, the header, and a row for
# each state word below it), or that gives no place.
_NOT_IN_THE_LIST = re.compile(rb'<(?:[\w.-]+:)?c(?=[\s/>])(?![^<>]*\sr="A(?:%s)")'
                              % "|".join(str(r) for r in range(1 + len(c.STATE_CHOICES), 0, -1)).encode())


def _choices_may_hold_more(xml: bytes) -> bool:
    """Whether 選択肢's part may hold a value _check_choices names: a cell not in the list's
    places (or one giving no place). A sheet without one, as split writes it and as Excel
    and LibreOffice save it, is passed over unread: a read costs about a millisecond per
    return, and no note can be in it."""
    return _NOT_IN_THE_LIST.search(xml) is not None


def _check_choices(muni: str, grid: list[list[object]]) -> None:
    """The hidden 選択肢 split writes holds the list of state words in column A
    (workbook.input_book) and nothing else. A value anywhere else on it (the sheet shown
    again and a note typed there, 「04-1 の実績は暫定値です」) is never read: the file was
    imported and the note dropped without a word, where a note beside the table is named
    (_check_outside_input). The words in column A are left alone, past rows too (files of
    an older template listed other words); an edited word only changes the drop-down, and
    a 実施状況 picked from it is judged as any typed one."""
    words = {CHOICES_HEAD, *c.STATE_CHOICES}
    found = [f"{CHOICES_SHEET}!{cell_ref(r, col)}「{shown(text(v))}」"
             for r, row in enumerate(grid, start=1) for col, v in enumerate(row, start=1)
             if text(v) and (col > 1 or (r > 1 + len(c.STATE_CHOICES) and text(v) not in words))]
    if found:
        raise Refused(f"非表示のシート「{CHOICES_SHEET}」（状態の選択肢の一覧）に、配布時になかった値があります"
                      f"（{_few(found, 3)}）。このシートの値は取り込まないため、このファイルは取り込みません（取り込むと、"
                      f"その値は黙って捨てられます）。回答ならシート「{muni}」の実績値・分母・実施状況の列に入力し直して、"
                      "そのセルを消して送ってもらってください（取り込まなくてよいメモなら、そのセルを消して保存してから"
                      "取り込んでください）")


def _check_unlabelled(muni: str, grid: list[list[object]], header_row: int, id_col: int) -> None:
    """A value in a row without 指標ID (a row inserted inside the table, rows added below
    it), in any column: it answers no indicator the master knows, so taking the other rows
    and dropping it would lose an answer without a word. The file is refused whole, as a
    file whose rows were changed is (README: 回収ファイル取込), naming the cells."""
    found: list[str] = []
    count = 0
    for r, row in enumerate(grid[header_row:], start=header_row + 1):
        if id_col - 1 < len(row) and text(row[id_col - 1]):
            continue
        filled = [col for col, v in enumerate(row, start=1) if text(v)]
        count += len(filled)
        found += [f"{muni}!{cell_ref(r, col)}" for col in filled[:LISTED - len(found)]]
    if count:
        raise Refused(f"シート「{muni}」の指標IDのない行に値があります（{listed(found, 'か所', total=count)}）。"
                      "配布時になかった行に入力されているため、このファイルは取り込みません。"
                      "配布したファイルの表の行に入力し直して送ってもらってください")


def _check_above_header(muni: str, grid: list[list[object]], header_row: int) -> None:
    """A note typed above the table (the protection lifted): collect reads nothing there,
    so it was dropped without a word while the file was logged as imported. Split writes
    that block in column A (title, instructions, the identifier's labels) and C (the
    identifier's values, on the labels' rows) only: a value anywhere else is refused, naming
    the cells, as a note beside the table is (_check_outside_input). A value typed over
    column A's own lines is not told apart from them; the identifier is checked elsewhere."""
    found: list[str] = []
    for r, row in enumerate(grid[:header_row - 1], start=1):
        labelled = bool(row) and text(row[0]) in ID_LABELS
        found += [f"{muni}!{cell_ref(r, col)}" for col, v in enumerate(row, start=1)
                  if text(v) and col != 1 and not (col == 3 and labelled)]
    if found:
        raise Refused(f"シート「{muni}」の表の上（見出しの行より上）の、配布時に空だったセルに値があります（{_few(found)}）。"
                      "取り込むのは実績値・分母・実施状況の列だけのため、このファイルは取り込みません（取り込むと、その値は"
                      "黙って捨てられます）。その内容を実績値・分母・実施状況の列に入力し直して送ってもらってください"
                      "（取り込まなくてよいメモなら、そのセルを消して保存してから取り込んでください）")


def _check_rows(muni: str, got: list[str], want: list[str], *, as_issued: bool,
                at: Optional[dict[str, list[str]]] = None) -> list[str]:
    """The file's rows (``got``) against the master sheet's (``want``); returns the rows
    staff added to the master since the split. ``as_issued``: the file's rows are those it
    was issued with (its fingerprint and seal say so), so a difference is the master's,
    made after the split, said so instead of telling staff the municipality deleted or
    added a row. Rows added alone (a new indicator) leave every question the file answers
    as it was: the file is taken for its rows and the new ones are named as unanswered,
    where every return out was refused and had to be issued again. A row the master lost
    still refuses the file, whose answer on it would have nowhere to go. ``at``: the cells
    each 指標ID of the file is in, named for a row added or doubled: 「メモ」 typed into A150000
    was 「配布時になかった行があります（指標ID メモ）」, to be looked for among 150,000 rows."""
    def cells_of(ids: list[str]) -> str:
        return _few([cell for i in ids for cell in (at or {}).get(i, ())], 3)

    # Sets and a count, not a list searched per row: got.count(i) for each row made a return of
    # 60,000 rows (a column of figures pasted below the table, into 指標ID) take 40 s, 20,000 4 s.
    have, wanted, times = set(got), set(want), Counter(got)
    missing = [i for i in want if i not in have]
    # Each 指標ID once: two rows added under one new ID (「04-2」 for two sub-items) were named
    # 「04-2、04-2: 小樽市!A27、小樽市!A28、小樽市!A27 ほか 1 件」, every cell once per row holding it.
    extra = list(dict.fromkeys(i for i in got if i not in wanted))
    doubled = sorted(i for i, n in times.items() if n > 1)
    if as_issued and missing and not extra and not doubled:
        return missing
    if as_issued and (missing or extra):
        changes = ([f"指標ID {_few(missing)} の行が加わりました"] if missing else []) + (
            [f"指標ID {_few(extra)} の行がなくなりました"] if extra else [])
        raise Refused(f"配布した後で、マスターの市町村シート「{muni}」の{'。'.join(changes)}（このファイルの行は配布した"
                      "ときのままです）。このファイルは古い様式です。行を消した・加えたのが誤りならマスターを元に戻して"
                      "から取り込み、そうでなければ入力用ファイルを配布し直してください")
    if missing:
        raise Refused(f"シート「{muni}」の行が削除されています（指標ID {_few(missing)}）")
    if extra:
        where = f": {cells_of(extra)}" if cells_of(extra) else ""
        raise Refused(f"シート「{muni}」に配布時になかった行があります（指標ID {_few(extra)}{where}）")
    if doubled:
        where = f"（{cells_of(doubled)}）" if cells_of(doubled) else ""
        raise Refused(f"シート「{muni}」で指標ID {_few(doubled)} の行が重複しています{where}")
    return []


def _check_locked_errors(muni: str, grid: list[list[object]], header_row: int, input_cols: list[int],
                         uncached: Sequence[str] = ()) -> None:
    """An error value in any cell but an input cell (an 指標ID, a 評価指標, a grey column, a
    hidden 配布時 value, the identifier above the table): split wrote none there, and none
    of them is read as empty, as a label or as the text it shows. The row's check then gave
    a wrong reason (「行が削除されています」) or none (a 評価指標 「#N/A」 passed the swap check,
    a visible identifier was not compared). An input cell's error holds only its row
    (validate, as in the master). A formula saved without its result (``uncached``: a tool
    other than Excel saved the file) is refused there as an error value is: read as empty,
    a 評価指標, a 基準値 or the 照合コード above the table passed unseen and the file was
    imported, where 「#N/A」 in the same cell refused it."""
    found = [(f"{muni}!{cell_ref(r, col)}", e) for r, row in enumerate(grid, start=1) for col, v in enumerate(row, start=1)
             if (r <= header_row or col not in input_cols) and (e := error_value(v))]
    found += [(f"{muni}!{ref}", NO_RESULT_VALUE) for ref in sorted(uncached, key=parse_ref)
              if parse_ref(ref)[0] <= header_row or parse_ref(ref)[1] not in input_cols]
    if found:
        raise Refused(_outside_inputs(muni, found))


def _outside_inputs(muni: str, found: list[tuple[str, str]]) -> str:
    """Why a return holding ``found`` (place, error) outside its input cells is not imported."""
    what = unread_kind(e for _where, e in found)
    return (f"シート「{muni}」の入力欄（実績値・分母・実施状況）ではないセルが{what}です（{unread_places(found)}）。"
            f"配布したファイルに{what}はなく、保護を外して書き換えられているため、このファイルは取り込みません。"
            "配布したファイルに入力し直して送ってもらってください")


def _few(ids: list[str], limit: Optional[int] = None) -> str:
    """The first of ``ids`` and how many more (values.listed); ``limit`` 3 where each item
    quotes a cell's value and five would not fit a message box."""
    return listed(ids, limit=limit)

"""配布用ファイル作成: one fresh input workbook per municipality, and its request mail.

Each file is written from scratch by XlsxWriter (never a copy of the master): a copy would
carry the master's VBA project, the other municipalities' sheets and the staff's notes.
The file holds that municipality's sheet with the master's headers and current values,
instructions above the header (the reader searches the first HEADER_SEARCH_ROWS rows),
input cells unlocked and validated, everything else protected without a password, and
an identifier written twice: as custom document properties (what collect reads) and as
visible text in the header block (what a person reads, and collect's fallback when a
mail client or an office suite drops the properties).

Part of the identifier is a seal: an HMAC-SHA256 keyed with a secret that only the
master holds (see ``master_key``), over the municipality, year, template version, issue
time and the indicators the file was issued for. Everything else in a file can be
recomputed by whoever holds it (the plain ``fingerprint`` is a hash of public data), so
without the seal a 小樽市 file relabelled consistently as 江別市 would be taken for
江別市's; with it, collect refuses any return this master did not issue for that
municipality (renkei_xl.cycle.collect.inspect).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import sys
from pathlib import Path
from typing import Callable, Iterable, NamedTuple, Optional, Sequence

from ..core import book_kind, contract as c
from ..core.business_days import DEFAULT_DAYS, reply_deadline
from ..core.contract_read import Book, MasterData, text
from ..core.errors import UserError
from ..core.model import Municipality

TEMPLATE_VERSION = "1"

# Custom document properties: ASCII names, so no office suite mangles them.
P_MUNICIPALITY = book_kind.MUNICIPALITY_PROPERTY   # also how any face recognises an input file
P_YEAR = "RenkeiFiscalYear"
P_VERSION = "RenkeiTemplateVersion"
P_FINGERPRINT = "RenkeiFingerprint"
P_ISSUED = "RenkeiIssued"
P_SEAL = "RenkeiSeal"

# The same identifier as visible labels (label cell, value in the next non-empty cell).
L_MUNICIPALITY = "市町村"
L_YEAR = "年度"
L_VERSION = "様式の版"
L_FINGERPRINT = "指標の確認コード"
L_ISSUED = "発行日時"
L_SEAL = "照合コード"
ID_LABELS = {L_MUNICIPALITY: P_MUNICIPALITY, L_YEAR: P_YEAR, L_VERSION: P_VERSION,
             L_FINGERPRINT: P_FINGERPRINT, L_ISSUED: P_ISSUED, L_SEAL: P_SEAL}

# The master's key for sealing returns: a hidden workbook-scope name holding a string
# constant (see master_key for why there).
KEY_NAME = "_renkei_key"
KEY_BYTES = 32
# The master's identity for the server: not the key (which must never leave the master)
# but an HMAC of it, kept in a second hidden name that RenkeiServer.bas reads and sends
# (the xlwings payload lists no constant names). The server recomputes it from the key
# of the master saved in the folder a click names, so a click reaches only its own folder.
ID_NAME = "_renkei_master_id"
ID_TAG = b"renkei-master-id"
ID_CHARS = 32
SEAL_TAG = "renkei-xl return seal 1"   # changes only if the sealed payload changes
SEAL_CHARS = 32                        # 128 bits of the HMAC, in hex
UNKEYED_SPLIT = ("注意: このマスターには照合用の鍵（非表示の名前「" + KEY_NAME + "」）がありません"
                 "（鍵を持たない古い版で作ったマスターです）。入力用ファイルに照合コードを付けずに作成しました。"
                 "回収時は指標の確認コードだけで確認するため、書き換えられたファイルを見分けられません")

DEFAULT_DEADLINE_DAYS = DEFAULT_DAYS

def fingerprint(rows: Sequence[tuple[str, str]]) -> str:
    """Hash of the ordered (指標ID, 目標値) pairs a file was issued for.

    A returned file is only diffed against the master when the master still asks the
    same questions: a target changed or a row added after the split changes this code.
    """
    payload = "\n".join(f"{ind_id}\t{target}" for ind_id, target in rows)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def issued_rows(data: MasterData, municipality: Optional[str] = None) -> dict[str, list[tuple[str, str]]]:
    """Municipality → the (指標ID, 目標値) pairs of its file, in its sheet's order: what the
    fingerprint and the seal are over. One pass over the entries for every municipality
    (a split of 40 files would otherwise pass over all 80,000 entries per file)."""
    targets = {i.id: i.target for i in data.indicators}
    out: dict[str, list[tuple[str, str]]] = {}
    for e in data.entries:
        if e.indicator_id and (municipality is None or e.municipality == municipality):
            out.setdefault(e.municipality, []).append((e.indicator_id, targets.get(e.indicator_id, "")))
    return out


def municipality_fingerprint(data: MasterData, municipality: str) -> str:
    return fingerprint(issued_rows(data, municipality).get(municipality, []))


# ------------------------------------------------------------------------ the key, the seal

def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def key_formula(key: bytes) -> str:
    """The name's definition: a string constant, as Excel's 名前の定義 would take it."""
    return '="' + key.hex() + '"'


_KEY_VALUE = re.compile(r'\s*=?\s*"([0-9A-Fa-f]{%d})"\s*' % (2 * KEY_BYTES))


def master_key(workbook) -> Optional[bytes]:
    """The master's key, or None for a master built before keys existed.

    ``workbook``: anything with ``.names`` (renkei_xl.package.workbook.WorkbookXml, as
    ``read_state`` gives it in ``fs.workbook``) or an iterable of its DefinedName.

    Where the key lives, and why: a workbook-scope defined name marked hidden, whose
    definition is a string constant (``<definedName name="_renkei_key" hidden="1">
    "…64 hex…"</definedName>``).
    - It survives every save the master goes through: Excel keeps hidden names, openpyxl
      and LibreOffice (7.4) write them back (LibreOffice drops the hidden flag, so there
      the name becomes visible in 名前の管理, but keeps its value).
    - Nobody sees it in normal use: Excel lists no hidden name in 名前の管理 and it refers
      to no cell, so no formula, print area or validation can pick it up.
    - It cannot travel with what the tool sends: split and export write brand-new
      workbooks (nothing is copied from the master). A sheet a person copies out of the
      master takes the names that refer to it or that its formulas use; this one refers
      to no cell and no formula uses it.
    - The file face already reads the names (``WorkbookXml.names``) and the writer
      already edits them (``WorkbookXml.set_name``), so no new part is parsed.
    Rejected: a custom document property is shown to anyone under ファイル → プロパティ and
    in Explorer's file details, and Excel's ドキュメント検査 removes custom properties with
    the personal information; a very hidden sheet cell adds a sheet, which the VBA project
    needs a document module for and every sheet list of the tool would have to skip.

    A malformed key is an error, not "no key": silently falling back would accept
    returns the key is there to refuse.
    """
    names = getattr(workbook, "names", workbook)
    for n in names:
        if n.name.lower() == KEY_NAME.lower() and n.local_sheet is None:
            m = _KEY_VALUE.fullmatch(n.value or "")
            if m is None:
                raise UserError(f"マスターの照合用の鍵（非表示の名前「{KEY_NAME}」）が壊れています。"
                                "バックアップのマスターから戻してください")
            return bytes.fromhex(m.group(1))
    return None


def master_id(key: bytes) -> str:
    """The non-secret identity derived from the key (32 hex characters, 128 bits)."""
    return hmac.new(key, ID_TAG, hashlib.sha256).hexdigest()[:ID_CHARS]


def identity_names(key: bytes) -> list:
    """The hidden names a master carries for ``key``: the key and its identity."""
    from ..core.plan import NameEdit

    return [NameEdit(KEY_NAME, key_formula(key)[1:], hidden=True),
            NameEdit(ID_NAME, f'"{master_id(key)}"', hidden=True)]


def stored_master_id(workbook) -> Optional[str]:
    """The identity name's value as saved (None when the master has none yet)."""
    names = getattr(workbook, "names", workbook)
    for n in names:
        if n.name.lower() == ID_NAME.lower() and n.local_sheet is None:
            return (n.value or "").strip().lstrip("=").strip('"')
    return None


def master_key_of_file(master: Path) -> Optional[bytes]:
    """The key as saved in a master file: what the button face uses (the xlwings remote
    payload lists only names that refer to a range, so the live book cannot give it)."""
    from ..package.workbook import WorkbookXml
    from ..package.zipped import Package

    with Package(Path(master)) as pkg:
        return master_key(WorkbookXml(pkg))


def seal(key: bytes, municipality: str, year: str, version: str, issued: str,
         indicator_ids: Iterable[str], code: str) -> str:
    """HMAC-SHA256 under the master's key over what identifies an issued file.

    The payload is a JSON array, so no two different identifiers encode alike (a
    municipality name cannot borrow characters from the year). ``code`` is the plain
    fingerprint, which brings the targets in as well.
    """
    payload = json.dumps([SEAL_TAG, municipality, year, version, issued, list(indicator_ids), code],
                         ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, payload.encode("utf-8"), hashlib.sha256).hexdigest()[:SEAL_CHARS]


def municipality_seal(key: bytes, data: MasterData, municipality: str, issued: str,
                      rows: Optional[list[tuple[str, str]]] = None) -> str:
    """The seal of ``municipality``'s file issued at ``issued`` (the text of RenkeiIssued);
    ``rows``: its ``issued_rows``, when the caller has them."""
    if rows is None:
        rows = issued_rows(data, municipality).get(municipality, [])
    return seal(key, municipality, str(data.settings.fiscal_year), TEMPLATE_VERSION, issued,
                [ind_id for ind_id, _target in rows], fingerprint(rows))


def seal_matches(expected: str, got: str) -> bool:
    return hmac.compare_digest(expected.encode("ascii"), got.strip().lower().encode("ascii", "replace"))


def file_name(municipality: str, year: int) -> str:
    """Short on purpose: old Outlook shows long Unicode attachment names as ATT0000.dat.
    The municipality's name is 設定's text: made safe by the one rule (core.filenames)."""
    from ..core.filenames import safe_file_name

    return safe_file_name(f"{municipality}_{year}年度_入力", ".xlsx")


def eml_path(workbook: Path) -> Path:
    from ..core.filenames import safe_file_name

    return workbook.with_name(safe_file_name(workbook.stem + "依頼", ".eml"))


class SheetCopy(NamedTuple):
    """A municipality sheet as the master holds it: header texts and rows of values."""
    headers: list[tuple[int, str]]        # (column, header text) of every non-empty header cell
    fields: dict[str, int]                # contract field -> column
    rows: list[list[object]]              # values from column 1, one list per data row
    ids: list[str]


def read_master_grids(master: Path):
    """(MasterData, sheets as grids, names, key) of a master file, read once."""
    from ..workbook.session import check_path, opened

    with opened(check_path(master), keep_grids=True) as fs:
        return fs.data, dict(fs.sheets), dict(fs.state.names), master_key(fs.workbook)


def sheet_copy(sheets, names, municipality: str) -> SheetCopy:
    book = Book(sheets, names)
    header_row, fields = book.header(municipality, c.ENTRY_HEADERS, c.ENTRY_REQUIRED)
    grid = sheets[municipality]
    header = list(grid[header_row - 1])
    headers = [(col, text(v)) for col, v in enumerate(header, start=1) if text(v)]
    width = max(col for col, _ in headers)
    rows, ids = [], []
    for r, values, _cells in book.rows(municipality, header_row, fields):
        if not values["indicator_id"]:
            continue
        row = list(grid[r - 1][:width])
        rows.append(row + [None] * (width - len(row)))
        ids.append(values["indicator_id"])
    return SheetCopy(headers, fields, rows, ids)


def give_key(master: Path) -> Optional[bytes]:
    """A master built before keys existed gets one before its first sealed split (only
    workbook.xml changes: the hidden key and identity names; a keyed master without its
    identity gets the identity). None when the master cannot be written now
    (open in Excel, read-only): the split then goes out unsealed, as before."""
    from ..core.plan import WritePlan
    from ..workbook.session import write_planned

    fresh = new_key()

    def make(fs):
        have = master_key(fs.workbook)
        if have is not None:          # another run gave it one meanwhile
            if stored_master_id(fs.workbook) == master_id(have):
                return WritePlan(), have
            return WritePlan(names=identity_names(have)[1:]), have
        return WritePlan(names=identity_names(fresh)), fresh

    try:
        key, _written = write_planned(master, make)
    except UserError:
        return None
    return key


def split_master(master: Path, outdir: Path, *, eml: bool = False,
                 deadline: Optional[dt.date] = None, sender: Optional[str] = None,
                 issued: Optional[dt.datetime] = None,
                 echo: Optional[Callable[[str], None]] = None) -> list[Path]:
    """One input workbook per municipality (and a draft beside it with ``eml``).

    Each file is sealed with the master's key. A master without one (built before keys
    existed) gets one first (``give_key``); if it cannot be written now, the files go out
    unsealed and ``echo`` (standard error when not given) says so, since collect can then
    only check the plain fingerprint.
    """
    master, outdir = Path(master), Path(outdir)
    data, sheets, names, key = read_master_grids(master)
    if not data.settings.municipalities:
        raise UserError(f"シート「{c.SETTINGS}」の市町村一覧が空です。配布する市町村がありません")
    missing = [m.name for m in data.settings.municipalities if m.name not in sheets]
    if missing:
        raise UserError(f"市町村「{'、'.join(missing)}」のシートがマスターにありません"
                        "（設定の市町村名とシート名を同じにしてください）")
    if eml:
        from .letters import check_mail_settings

        check_mail_settings(data.settings)
    if key is None:
        key = give_key(master)
    if key is None:
        (echo or (lambda line: print(line, file=sys.stderr)))(UNKEYED_SPLIT)
    issued = (issued or now()).replace(microsecond=0)
    due = reply_deadline(issued.date(), deadline).day
    from ..workbook.safety import check_confined

    check_confined(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    shared = _Shared(data)
    for muni in data.settings.municipalities:
        copy = sheet_copy(sheets, names, muni.name)
        path = outdir / file_name(muni.name, data.settings.fiscal_year)
        write_input_workbook(path, data, muni, copy, issued, key, deadline=due, shared=shared)
        written.append(path)
        if eml:
            from .letters import request_message
            from .mail import save_draft

            save_draft(request_message(data.settings, muni, path, due, sender), eml_path(path))
    return written


def default_deadline(issued: dt.datetime) -> dt.date:
    return reply_deadline(issued.date()).day


def now() -> dt.datetime:
    """The clock split reads (issue time, default deadline); tests set it."""
    return dt.datetime.now()


class _Shared:
    """What every file of one split shares, worked out once: the indicators by 指標ID,
    their input rules, and each municipality's issued rows."""

    def __init__(self, data: MasterData):
        from ..core.input_sheet import input_rules

        self.by_id = {i.id: i for i in data.indicators}
        self.rules = input_rules(self.by_id.values())
        self.rows = issued_rows(data)


def write_input_workbook(path: Path, data: MasterData, muni: Municipality, copy: SheetCopy,
                         issued: dt.datetime, key: Optional[bytes] = None, *,
                         deadline: Optional[dt.date] = None, shared: Optional[_Shared] = None) -> Path:
    """The file; sealed when ``key`` is given. The key itself is never written to it.
    Its sheet is laid out by renkei_xl.core.input_sheet; ``deadline`` is stated at its top."""
    from ..core.input_sheet import input_sheet_plan
    from ..workbook.input_book import write_input_book
    from ..workbook.safety import safe_write

    settings = data.settings
    shared = shared or _Shared(data)
    rows = shared.rows.get(muni.name, [])
    ident = {P_MUNICIPALITY: muni.name, P_YEAR: str(settings.fiscal_year),
             P_VERSION: TEMPLATE_VERSION, P_FINGERPRINT: fingerprint(rows),
             P_ISSUED: issued.isoformat(sep=" ")}
    if key is not None:
        ident[P_SEAL] = municipality_seal(key, data, muni.name, ident[P_ISSUED], rows)
    labelled = [(label, ident.get(prop, "")) for label, prop in ID_LABELS.items()]
    sheet = input_sheet_plan(settings, muni, copy, shared.by_id, labelled, deadline, shared.rules)
    title = f"{settings.region} {settings.fiscal_year}年度 入力用ファイル（{muni.name}）"
    safe_write(path, lambda tmp: write_input_book(tmp, sheet, title, ident), keep_backup=False, lock=False)
    return path


# ------------------------------------------------------------------------------ mail


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
time, the indicators the file was issued for and its input cells and labels as issued (the hidden
columns collect tells a municipality's changes by). Everything else in a file can be
recomputed by whoever holds it (the plain ``fingerprint`` is a hash of public data), so
without the seal a 小樽市 file relabelled consistently as 江別市 would be taken for
江別市's; with it, collect refuses any return this master did not issue for that
municipality (renkei_xl.cycle.collect.inspect).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Callable, NamedTuple, Optional, Sequence

from ..clock import now  # split's clock (issue time, default deadline); tests set it here
from ..core import book_kind, contract as c
from ..core.alerts import Listing, Whole
from ..core.face import again
from ..core.business_days import reply_deadline
from ..core.contract_read import Book, MasterData, text
from ..core.errors import UserError
from ..core.findings import COPIED_SHEET, COPIED_SHEET_WHY, MISSING_ROW
from ..core.input_sheet import stale_labels
from ..core.values import LISTED, MUNICIPALITIES, count_text, listed, listed_limit, shown
from ..core.model import Municipality
from ..safety import BACKUP_FOLDER_SUFFIX
from ..core.seal import (KEY_NAME, TEMPLATE_VERSION, fingerprint, identity_names, issued_rows, master_id, master_key,
                         municipality_seal, new_key, stored_master_id)

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

UNKEYED_SPLIT = ("注意: このマスターには照合用の鍵（非表示の名前「" + KEY_NAME + "」）がありません"
                 "（鍵を持たない古い版で作ったマスターです）。入力用ファイルに照合コードを付けずに作成しました。"
                 "回収時は指標の確認コードだけで確認するため、書き換えられたファイルを見分けられません")


def master_key_of_file(master: Path) -> Optional[bytes]:
    """The key as saved in a master file: what the button face uses (the xlwings remote
    payload lists only names that refer to a range, so the live book cannot give it)."""
    from ..package.workbook import WorkbookXml
    from ..package.zipped import Package

    with Package(Path(master)) as pkg:
        return master_key(WorkbookXml(pkg))


def file_name(municipality: str, year: int, folder: Optional[str] = None) -> str:
    """Short on purpose: old Outlook shows long Unicode attachment names as ATT0000.dat.
    The municipality's name is 設定's text: made safe by the one rule (core.filenames),
    and short enough for Excel to open it in ``folder`` (as staff name it) when given."""
    from ..core.filenames import safe_file_name

    return safe_file_name(municipality, ".xlsx", tail=input_tail(year), folder=folder)


def input_tail(year: int) -> str:
    """What file_name adds after the municipality's name: collect recognises a return's
    name by it when split cut the name (core.filenames.named_in's ``tail``)."""
    return f"_{year}年度_入力"


DRAFT_TAIL = "依頼"


def eml_path(workbook: Path) -> Path:
    """The request draft beside its input file: the file's name with 「依頼」 and .eml.
    The budget grows by what the draft's name adds, so a name that fit as an .xlsx is
    never cut again (a 31-character municipality's draft lost 「入力依頼」 to a 120-byte cut)."""
    from ..core.filenames import DEFAULT_MAX_BYTES, safe_file_name

    grown = len((DRAFT_TAIL + ".eml").encode("utf-8")) - len(workbook.suffix.encode("utf-8"))
    return workbook.with_name(safe_file_name(workbook.stem, ".eml", tail=DRAFT_TAIL,
                                             max_bytes=DEFAULT_MAX_BYTES + max(grown, 0)))


class SheetCopy(NamedTuple):
    """A municipality sheet as the master holds it: header texts and rows of values."""
    headers: list[tuple[int, str]]        # (column, header text) of every non-empty header cell
    fields: dict[str, int]                # contract field -> column
    rows: list[list[object]]              # values from column 1, one list per data row
    ids: list[str]
    row_numbers: list[int]                # each row's number on the master sheet


def read_master_grids(master: Path, *, as_named: bool = True):
    """(MasterData, sheets as grids, names, key) of a master file, read once (``as_named``:
    workbook.session.opened).

    Only the sheets split lays out (the municipalities' and 取込履歴) are read whole; every
    other sheet is there by name alone, as an empty grid, so that a missing municipality's
    look-alike tab is still named (near_sheet). Every sheet was read whole: a staff sheet of
    1,000,000 formatted rows, 16,384 columns or a DTD, which 入力チェック, 再計算 and the
    rest pass over, stopped 配布用ファイル作成 with that sheet's refusal."""
    from ..workbook.session import check_path, opened

    with opened(check_path(master), keep_grids=True, as_named=as_named) as fs:
        laid_out = {m.name for m in fs.data.settings.municipalities} | {c.IMPORT_LOG}
        sheets = {name: fs.sheets[name] if name in laid_out else [] for name in fs.sheets}
        return fs.data, sheets, dict(fs.state.names), master_key(fs.workbook)


def sheet_copy(sheets, names, municipality: str, entries: Sequence = ()) -> SheetCopy:
    """``entries``: the master's entries as read (MasterData.entries): a number the reader read
    as the percent its cell's format shows (core.percent_cells: 1 in 「0%」 is 「100%」) goes out
    as read. The stored 1 went out bare, and the municipality read 1% on a row counted in %;
    its return unchanged was then refused as a master 「1」 corrected to 「100%」 since issue."""
    book = Book(sheets, names)
    header_row, fields = book.header(municipality, c.ENTRY_HEADERS, c.ENTRY_REQUIRED, table_top=True)
    grid = sheets[municipality]
    header = list(grid[header_row - 1])
    headers = [(col, text(v)) for col, v in enumerate(header, start=1) if text(v)]
    width = max(col for col, _ in headers)
    rows, ids, numbers = [], [], []
    read = {e.row: e for e in entries if (e.sheet or e.municipality) == municipality}
    for r, values, _cells in book.rows(municipality, header_row, fields):
        if not values["indicator_id"]:
            continue
        row = list(grid[r - 1][:width])
        row += [None] * (width - len(row))
        if (entry := read.get(r)) is not None:
            for field in ("value", "denominator"):
                col = fields.get(field)
                if col is not None and _read_as_percent(row[col - 1], getattr(entry, field)):
                    row[col - 1] = getattr(entry, field)
        rows.append(row)
        ids.append(values["indicator_id"])
        numbers.append(r)
    return SheetCopy(headers, fields, rows, ids, numbers)


def _read_as_percent(stored: object, read: str) -> bool:
    """Whether the reader read the number ``stored`` as a percent its format shows, not as
    the number's own text (the one reading that differs: core.percent_cells)."""
    return type(stored) in (int, float) and read.endswith("%") and read != text(stored)


def give_key(master: Path) -> Optional[bytes]:
    """A master built before keys existed gets one before its first sealed split (only
    workbook.xml changes: the hidden key and identity names; a keyed master without its
    identity gets the identity). None when the master cannot be written now
    (open in Excel, read-only): the split then goes out unsealed, as before."""
    from ..core.plan_types import WritePlan
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
                 echo: Optional[Callable[[str], None]] = None, read: Optional[tuple] = None) -> "SplitFiles":
    """One input workbook per municipality (and a draft beside it with ``eml``).

    Each file is sealed with the master's key. A master without one (built before keys
    existed) gets one first (``give_key``); if it cannot be written now, the files go out
    unsealed and ``echo`` (standard error when not given) says so, since collect can then
    only check the plain fingerprint. ``read``: ``read_master_grids(master)`` already made
    (the server's admission reads the saved master before the button runs).
    """
    master, outdir = Path(master), Path(outdir)
    data, sheets, names, key = read if read is not None else read_master_grids(master)
    if not data.settings.municipalities:
        raise UserError(f"シート「{c.SETTINGS}」の市町村一覧が空です。配布する市町村がありません")
    # Each named with its 設定 cell (qa-133): a number or a date typed as a name (「45382」)
    # is put right there, not by looking for its sheet.
    # A sheet named but for width or spaces (「小樽市 」) is said, as 入力チェック says it (near_sheet).
    from ..core.contract_read import near_sheet

    missing = [f"「{m.name}」" + (f"（{m.place('name')}）" if m.place("name") else "") + near_sheet(m.name, sheets)
               for m in data.settings.municipalities if m.name not in sheets]
    if missing:
        raise UserError(f"市町村{listed(missing, '市町村')}のシートがマスターにありません"
                        "（設定の市町村名とシート名を同じにしてください。連携から外れた市町村なら、設定の市町村一覧から"
                        "その行を削除してください）")
    if eml:
        from .letters import check_mail_settings

        check_mail_settings(data.settings, sender)
    if key is None:
        key = give_key(master)
    if key is None:
        (echo or (lambda line: print(line, file=sys.stderr)))(UNKEYED_SPLIT)
    from .collect.since_issue import issued_after_imports

    issued = issued_after_imports((issued or now()).replace(microsecond=0), sheets.get(c.IMPORT_LOG))
    due = reply_deadline(issued.date(), deadline).day
    # Every sheet read and every name settled before the first file is written: a sheet
    # that cannot be read, or two names that make one file, leave no half-made folder.
    from ..safety import shown_path

    shown = shown_path(outdir)
    planned = [(muni, sheet_copy(sheets, names, muni.name, data.entries),
                outdir / file_name(muni.name, data.settings.fiscal_year, shown))
               for muni in data.settings.municipalities]
    _check_distinct_files([(muni.name, path) for muni, _copy, path in planned])
    _check_no_unread_cells(planned, data)
    _check_long_texts(planned, data)
    _check_fresh_results(data)
    _check_targets([p for _m, _c, path in planned for p in ((path, eml_path(path)) if eml else (path,))])
    from ..safety import check_confined, make_folder, writer_lock

    check_confined(outdir)
    make_folder(outdir, "入力用ファイルの作成先")
    # One split into a folder at a time (two staff, or the command line and a button): two
    # at once left 配布用 with files of both issues, each run reporting its own deadline.
    with writer_lock(outdir):
        return _write_files(planned, data, issued, key, due, eml, sender)


def _write_files(planned: list, data, issued: dt.datetime, key: Optional[bytes], due: dt.date,
                 eml: bool, sender: Optional[str]) -> "SplitFiles":
    """Every input file (and its draft with ``eml``), in the order planned."""
    written = SplitFiles()
    written.missing = [f for f in data.findings if f.type == MISSING_ROW.code]
    written.copied = [f for f in data.findings if f.type == COPIED_SHEET.code]
    written.stale = [(muni.name, *hit) for muni, copy, _path in planned for hit in stale_labels(copy, data.indicators)]
    if eml:
        from .letters import borrowed_addresses, placeholder_addresses

        written.borrowed = borrowed_addresses(data.settings)
        written.placeholders = placeholder_addresses(data.settings, sender=sender)
    shared = _Shared(data)
    for muni, copy, path in planned:
        try:
            saved = write_input_workbook(path, data, muni, copy, issued, key, deadline=due, shared=shared,
                                         cut=written.cut)
        except UserError as exc:   # a full disk, a file open elsewhere: say what is there and what is not
            raise _split_stopped(exc, written, [p for _m, _c, p in planned[len(written):]]) from None
        written.append(path)
        if saved is not None:
            written.backups[path] = saved
        if eml:
            from .letters import request_message
            from .mail import save_draft

            draft = eml_path(path)
            try:
                save_draft(request_message(data.settings, muni, path, due, sender), draft,
                           kept=lambda saved, draft=draft: written.backups.__setitem__(draft, saved))
            except UserError as exc:   # the input files made so far stay: said, as for an input file
                raise _split_stopped(exc, written, [p for _m, _c, p in planned[len(written):]], draft) from None
    return written


class SplitFiles(list):
    """The files a split made (a list of paths, as before), and ``backups``: for each file
    that replaced a different one already there, where that one was kept (safety.backup).
    A municipality's filled-in file saved into 配布用 under the issued name is never lost
    to the next split; each face names the backups (backups_lines)."""

    def __init__(self, *args):
        super().__init__(*args)
        self.backups: dict[Path, Path] = {}
        self.missing: list = []     # core.findings.MISSING_ROW findings: rows no file carries
        self.copied: list = []      # core.findings.COPIED_SHEET findings: a file carrying another's answers
        self.stale: list = []       # (sheet, cell, 指標ID, its text, 指標's): core.input_sheet.stale_labels
        self.cut: list = []         # core.input_sheet.Cut: a cell no row of the file shows whole
        self.borrowed = None        # with drafts: letters.borrowed_addresses, a request addressed to another office
        self.placeholders = None    # with drafts: letters.placeholder_addresses, addresses no mail reaches


def written_listing(files: Sequence[Path], eml: bool = False) -> Listing:
    """The input files a split made, as both faces list them: one a municipality, named in
    full up to a region's size (values.listed_limit), the rest counted with where they are.
    The command line printed 「作成: …」 (and its draft) for every file, 2,000 lines for a
    設定 of 2,000 municipalities, while the button listed as many as its box held.
    ``eml``: each file's request draft named beside it (--eml)."""
    return Listing([f"・{p.name}" + (f"（メール下書き: {eml_path(p).name}）" if eml else "") for p in files],
                   "　…ほか {n} 件（保存先のフォルダーにあります）", cap=listed_limit(MUNICIPALITIES))


def written_lines(files: Sequence[Path], outdir: Path, eml: bool = False) -> list[str]:
    """What the command line says of the files a split made: where they are, then
    written_listing at its cap (core.alerts.printed), as the button lists them."""
    from ..core.alerts import printed

    return [f"保存先: {outdir}", *printed([written_listing(files, eml)])]


def split_cautions(files: "SplitFiles") -> list[str]:
    """Every 【注意】 of a split, in the order both faces print them (the command line's lines)."""
    return [line for listing in caution_listings(files) for line in _lines(listing)]


def caution_listings(files: "SplitFiles") -> list[Listing]:
    """Every 【注意】 of a split as a list under its heading (the heading is the Listing's
    head): a button's message gives way item by item and keeps the heading, which says what
    the cells are and what to do. As separate lines, the heading was the longest plain line
    and left out first, and 「札幌市!C2（02-1）「…」→ 指標では「…」」 stood alone (qa-150)."""
    return [x for x in (_missing_rows(files), _stale(files), _copied(files), _cut(files),
                        getattr(files, "borrowed", None), getattr(files, "placeholders", None)) if x is not None]


def _lines(listing: Listing) -> list[str]:
    """A caution as the command line prints it: every line, up to its cap."""
    return listing.render(listing.most).split("\n")


def _cut(files: "SplitFiles") -> Optional[Listing]:
    """A cell too long for Excel's tallest row in an input file: the partner's screen and
    print stop part way through it (the cell holds it whole), so it is named at the master
    cell to shorten, once however many files carry it (指標's 目標値)."""
    cut = list({(k.place, k.header): k for k in getattr(files, "cut", None) or ()}.values())
    if not cut:
        return None
    from ..core.text_fit import MAX_ROW_HEIGHT

    return Listing([f"　{k.place}（{k.indicator_id}）の{k.header}: {k.lines} 行" for k in cut], "　…ほか {n} 件",
                   cap=SHOWN_CAUTIONS,
                   head=f"【注意】入力用ファイルに、長すぎて画面と印刷では途中までしか出ない文章が {len(cut)} 件あります"
                        f"（Excel の行の高さの上限 {MAX_ROW_HEIGHT:g}pt を超えます。セルには全文が入っています）。"
                        "市町村が読めるように、次のセルを短くしてからもう一度作成してください:\n")


def _copied(files: "SplitFiles") -> Optional[Listing]:
    """A municipality sheet whose answers are all another's (a sheet copied for a new
    partner and not emptied): its input file carries the other partner's figures to the
    new one, who may send them back as its own."""
    copied = getattr(files, "copied", None)
    if not copied:
        return None
    return Listing([f"　{f.message.removesuffix(COPIED_SHEET_WHY)}（{f.sheet}!{f.cell} から）" for f in copied],
                   "　…ほか {n} 件（入力チェックで示します）", cap=SHOWN_CAUTIONS,
                   head="【注意】入力のある行がすべてほかの市町村のシートと同じ市町村のシートがあり、その入力用ファイルにも"
                        "ほかの市町村の値が載っています（シートをコピーして作ったなら、値を消してからもう一度作成してください）:\n")


def _missing_rows(files: "SplitFiles") -> Optional[Listing]:
    """A municipality sheet lacking a row its indicators need: the file goes out without
    it, so that municipality cannot answer it (an indicator added to 指標 and not to the
    sheets). Said before the files are mailed; 入力チェック names the cells."""
    missing = getattr(files, "missing", None)
    if not missing:
        return None
    by_muni: dict[str, list[str]] = {}
    for f in missing:
        by_muni.setdefault(f.sheet, []).append(f.indicator_id)
    return Listing([f"　{muni}: {listed(ids)}" for muni, ids in by_muni.items()],
                   "　…ほか {n} 市町村（入力チェックでセルを示します）", cap=listed_limit(MUNICIPALITIES),
                   head=f"【注意】次の市町村のシートに指標の行がないため、その入力用ファイルにも行がありません"
                        f"（{count_text(len(missing))} 件。その市町村も報告する指標なら、行を追加してからもう一度作成してください。"
                        "参加しない市町村なら、このままで構いません。入力チェックでセルを示します）:\n")


def _stale(files: "SplitFiles") -> Optional[Listing]:
    """A municipality sheet showing a 連携事業名 or 評価指標 other than 指標's (renamed in
    指標 since): the input files ask with the sheet's words."""
    stale = getattr(files, "stale", None)
    if not stale:
        return None
    return Listing([f"　{sheet}!{cell}（{ind_id}）「{shown(got)}」→ 指標では「{shown(want)}」"
                    for sheet, cell, ind_id, got, want in stale], "　…ほか {n} 件", cap=SHOWN_CAUTIONS,
                   head=f"【注意】市町村のシートの連携事業名・評価指標が指標シートと違うため、入力用ファイルには市町村のシートの"
                        f"言葉のまま載っています（{len(stale)} 件。指標シートで名前を変えたなら、市町村のシートも直してから"
                        "もう一度作成してください）:\n")


# The most cells a split's caution lists (the command line's; a button's message fewer where it has no room).
SHOWN_CAUTIONS = LISTED


def backups_lines(files: "SplitFiles", shown: Callable[[Path], str] = str) -> list[str]:
    """What the command line says of the files a split replaced (backups_parts), the names
    on the line that says where the backups are."""
    parts = backups_parts(files, shown)
    if not parts:
        return []
    place, names, *rest = parts
    return [f"{place}: {names.render(names.most).removeprefix(names.head)}", *rest]


def backups_parts(files: "SplitFiles", shown: Callable[[Path], str] = str) -> list:
    """What both faces say of the files a split replaced (nothing when it replaced none):
    how many and where they are kept (Whole: a button's message cut it in its middle, or
    left it out and kept 「バックアップを「回収」フォルダーに移して」 alone, qa-150), then a few
    names (an alert has no scroll bar)."""
    saved = getattr(files, "backups", None)
    if not saved:
        return []
    first = next(iter(saved.values()))
    parts: list = [Whole(f"同じ名前で内容の違うファイルが {len(saved)} 件あったため、上書きする前にそれぞれ"
                         f"「（ファイル名）{BACKUP_FOLDER_SUFFIX}」フォルダーに残しました（例: {shown(first)}）"),
                   Listing([p.name for p in saved], "ほか {n} 件", cap=LISTED, head="　", sep="、", more_sep=" ")]
    if any(p.suffix.lower() == ".xlsx" for p in saved):   # not for drafts alone: nothing to collect
        parts.append("　市町村が入力したファイルだった場合は、バックアップを「回収」フォルダーに移して取り込んでください。")
    return parts


def _split_stopped(exc: UserError, written: list[Path], left: list[Path],
                   refused: Optional[Path] = None) -> UserError:
    """A split that stopped partway: the files already made are complete and stay (each was
    written whole, then renamed), so the message names them and the ones not made.
    ``refused``: the file the refusal is of where it is not the next input file (a draft,
    --eml: its refusal ended the split saying nothing of the input files already made)."""
    if not written:
        return exc
    from ..safety import of_one_file, shown_path

    made, rest = listed(p.name for p in written), listed(p.name for p in left)
    # The write's own refusal says 「何も書き込んでいません」 or 「元のファイルは変更していません」
    # of its one file (a backup folder in the way, a full disk): read beside 「2 件…は作成済み
    # です」 it said the opposite, or left staff to guess which 元のファイル. It names that file.
    refused = refused if refused is not None else (left[0] if left else None)
    said = of_one_file(str(exc), refused) if refused is not None else str(exc)
    # What the folder holds under the names not made: a file of an earlier split stays there,
    # and would be mailed as this one's unless said.
    earlier = sum(1 for p in left if p.is_file())
    kept = (f"（そのうち {earlier} 件は、前に作成した同じ名前のファイルが変更されずに残っています。今回の内容ではありません）"
            if earlier else "")
    return UserError(f"{said}\nフォルダー「{shown_path(written[0].parent)}」の入力用ファイルのうち、{len(written)} 件（{made}）は"
                     f"作成済みです。{f'{len(left)} 件（{rest}）は作成していません{kept}。' if left else ''}"
                     f"原因を取り除いてから、もう一度{again()}ください（作成済みのファイルは作り直します）")


def _check_no_unread_cells(planned: list, data: MasterData) -> None:
    """Before the first file: a cell the files would show holding an error value, a picture
    or a TRUE/FALSE (input_sheet.unread_cells) stops the split, naming it. Written out it is a
    text (「#N/A」 as a 目標値, or pre-filled in an input cell and kept as issued), never an
    empty cell: the municipalities would answer it."""
    from ..core.input_sheet import unread_cells, unread_ids
    from ..core.values import unread_advice, unread_kind, unread_places

    from ..core.findings import uncached_places
    from ..core.values import NO_RESULT_VALUE

    by_id = {i.id: i for i in data.indicators}
    uncached = uncached_places(data.findings)
    found = unread_ids(data.indicators, uncached)
    found += [p for muni, copy, _path in planned for p in unread_cells(copy, muni.name, by_id, uncached)]
    # A row whose 指標ID is such a formula is read without an ID and left out of the copy: its
    # municipality's file lacked the row, where 「#N/A」 there stopped the split.
    sheets = {muni.name for muni, _copy, _path in planned}
    found = list(dict.fromkeys(found + [(p, NO_RESULT_VALUE) for p in sorted(uncached) if p.partition("!")[0] in sheets]))
    if found:
        held = [e for _where, e in found]
        what = unread_kind(held)
        arrives = "空欄" if set(held) == {NO_RESULT_VALUE} else "文字"
        raise UserError(f"{unread_places(found)}が{what}のため、入力用ファイルを作成しませんでした"
                        f"（配れば、そのセルは{arrives}に変わって市町村に届きます）。数式の参照先を直して Excel で保存し直すか、"
                        "値を直接入力してから、もう一度作成してください。" + unread_advice(held))


def _check_long_texts(planned: list, data: MasterData) -> None:
    """Before the first file: a master cell whose text no input file can hold
    (input_sheet.long_cells) stops the split, naming that cell on the master. The writer
    refused it only at the file carrying it, with the other files half made, and named the
    input file's cell, which is not the master's."""
    from ..core.contract import long_sources_message
    from ..core.input_sheet import long_cells

    by_id = {i.id: i for i in data.indicators}
    found = list(dict.fromkeys(p for muni, copy, _path in planned for p in long_cells(copy, muni.name, by_id)))
    if found:
        raise UserError(long_sources_message(found, "作成して"))


def _check_fresh_results(data: MasterData) -> None:
    """Before the first file: a municipality's answer that is a formula's stale result
    (core.calc_on_load) stops the split, as it stops 評価を再計算. Handed out, it is the
    municipality's figure as issued, and a file returned unchanged brings it back as theirs."""
    from ..core.calc_on_load import refuse_stale

    sheets = {m.name for m in data.settings.municipalities}
    refuse_stale([f for f in data.findings if f.sheet in sheets], "入力用ファイルを作る")


def _check_targets(paths: list[Path]) -> None:
    """Every file before the first is written: one found at the seventh file left 配布用
    with files of two issues."""
    from ..safety import check_targets

    check_targets(paths)


def _check_distinct_files(named: list[tuple[str, Path]]) -> None:
    """Two municipalities whose names make one file name (「小樽|市」 and 「小樽_市」: a character
    a file name cannot hold becomes _; Windows ignores case) would have the second file
    written over the first, and one municipality would get nothing. Refused, naming both."""
    import unicodedata

    first: dict[str, str] = {}
    for name, path in named:
        key = unicodedata.normalize("NFC", path.name).casefold()
        if key in first:
            raise UserError(f"市町村「{first[key]}」と「{name}」の入力用ファイルが、同じ名前「{path.name}」になります"
                            "（ファイル名に使えない文字は置き換えます。大文字と小文字は区別されません）。"
                            "設定の市町村名を、ファイル名でも区別できる名前にしてください。何も作っていません")
        first[key] = name


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
                         deadline: Optional[dt.date] = None, shared: Optional[_Shared] = None,
                         cut: Optional[list] = None) -> Optional[Path]:
    """The file; sealed when ``key`` is given. The key itself is never written to it.
    Its sheet is laid out by renkei_xl.core.input_sheet; ``deadline`` is stated at its top;
    ``cut`` gets the cells no row of it shows whole (input_sheet.Cut).
    Returns the backup of a different file it replaced (SplitFiles), else None."""
    from ..core.input_sheet import input_sheet_plan
    from ..workbook.input_book import write_input_book
    from ..safety import IF_CHANGED, safe_write

    settings = data.settings
    shared = shared or _Shared(data)
    rows = shared.rows.get(muni.name, [])
    ident = {P_MUNICIPALITY: muni.name, P_YEAR: str(settings.fiscal_year),
             P_VERSION: TEMPLATE_VERSION, P_FINGERPRINT: fingerprint(rows),
             P_ISSUED: issued.isoformat(sep=" ")}
    if key is not None:
        from ..core.input_sheet import issued_texts

        ident[P_SEAL] = municipality_seal(key, data, muni.name, ident[P_ISSUED], rows, cells=issued_texts(copy))
    labelled = [(label, ident.get(prop, "")) for label, prop in ID_LABELS.items()]
    sheet = input_sheet_plan(settings, muni, copy, shared.by_id, labelled, deadline, shared.rules, cut)
    title = f"{settings.region} {settings.fiscal_year}年度 入力用ファイル（{muni.name}）"
    return safe_write(path, lambda tmp: write_input_book(tmp, sheet, title, ident, issued), keep_backup=IF_CHANGED,
                      lock=False, same=same_but_issue)


# What each split stamps anew into the same file: the issue time and the seal made with it.
_STAMPED = (P_ISSUED, P_SEAL)


def same_but_issue(new: Path, old: Path) -> bool:
    """Whether the input file ``old`` is ``new`` as an earlier split issued it: every part the
    same once the earlier issue time and seal read as the new ones (and the document dates
    are left out). Nothing anyone made is in it, so it is replaced without a backup:
    re-running split once left a backup of every file in 配布用. A file a municipality
    filled in, or one issued from other values or with another deadline, differs and is
    kept. Compared part by part, without writing the file again (the server's split of a
    large master has a time budget)."""
    from ..package.xml import PackageError
    from ..package.zipped import Package, same_book
    from ..workbook.kind import custom_properties

    try:
        with Package(new) as a, Package(old) as b:
            now_, then = custom_properties(a), custom_properties(b)
    except (PackageError, UserError, OSError):
        return False
    swaps = [(then.get(p, "").encode("utf-8"), now_.get(p, "").encode("utf-8")) for p in _STAMPED
             if p in then or p in now_]
    if not then.get(P_ISSUED) or not all(was and len(was) == len(is_) for was, is_ in swaps):
        return False      # not a file the tool issued alike (unsealed then, sealed now): kept

    def restamped(data: bytes) -> bytes:
        for was, is_ in swaps:
            data = data.replace(was, is_)
        return data

    return same_book(new, old, transform=restamped)


# ------------------------------------------------------------------------------ mail


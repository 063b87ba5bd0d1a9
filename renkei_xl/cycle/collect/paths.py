"""Which files a collect looks at: files as given, folders as the workbooks inside them."""

from __future__ import annotations

import stat
import unicodedata
from pathlib import Path
from typing import Iterable

from ...core import contract as c
from ...core.face import again
from ...core.errors import UserError
from ...safety import LOCK_SUFFIX, TEMP_PREFIX, backup_folder, check_regular_file, find_lock, is_confined, opened_by, path_mode
from ...package.content import APPLE_DOUBLE
from .records import Refusal, readable_name

RETURNED = "回収した入力用ファイル（.xlsx）"
# Spreadsheets in a folder that are not Excel books: named as refused, never passed over, so
# a municipality that saved its return as .xls or .csv is told, not silently left out.
OTHER_SPREADSHEETS = c.OTHER_SPREADSHEETS
# How a return in another format is mended, for a municipality with Excel or with LibreOffice
# (whose own format, .ods, is what it saves unless told otherwise).
RESAVE_AS_XLSX = ("そのファイルを開き、Excel では「Excel ブック（.xlsx）」として（LibreOffice では「名前を付けて保存」で"
                  "「Excel 2007-365 (.xlsx)」を選んで）保存し直したファイルを送ってもらってください")
# Returns often come zipped (PPAP: a password ZIP, its password in a second mail).
ARCHIVES = (".zip", ".7z", ".lzh", ".rar")
# What the systems keep in any folder on their own: no one sent them, so they are not named.
SYSTEM_FILES = ("thumbs.db", "desktop.ini", ".ds_store")
# What macOS adds: a ``._`` twin of each file (package.content.APPLE_DOUBLE), and the
# ``__MACOSX`` folder holding those twins when such a ZIP is unpacked on Windows.
MAC_ZIP_FOLDER = "__macosx"


def unpack_into(folder: str) -> str:
    """What to do with a return that came as an archive (a .zip, or a ZIP a mail client or a
    hand renamed .xlsx: inspect._check_container), ``folder`` the one collect reads."""
    return f"ZIP を展開して、中の .xlsx をこのフォルダー（{folder}）に置いてから、もう一度取り込んでください"


def _listed(folder: Path) -> list[Path]:
    """The folder's entries, or a Japanese refusal naming it when this account may not read
    it (rights set by staff on the share): PermissionError stopped the command, or the server's
    click as 「予期しないエラー」."""
    try:
        return list(folder.iterdir())
    except PermissionError:
        raise UserError(f"フォルダー「{folder}」の中を読めません（アクセス権がありません）。フォルダーの権限を確かめてから、"
                        f"もう一度{again()}ください（サーバーで動かしているときは IT 担当者に伝えてください）") from None


def expand_paths(paths: Iterable[Path], exclude: Iterable[Path] = ()) -> tuple[list[Path], list[Refusal]]:
    """Files as given, folders as the workbooks directly inside them (Excel lock files skipped).
    What is not a readable file (a folder or a FIFO named .xlsx, a device, a file without
    read permission) is refused on its own, never opened (a FIFO would wait for a writer):
    it stopped the whole run, so one odd entry kept every municipality's return out."""
    skip = {Path(p).resolve() for p in exclude}
    own = {backup_folder(p).resolve() for p in skip}
    files: list[Path] = []
    refusals: list[Refusal] = []
    for p in map(Path, paths):
        if not readable_name(p):
            refusals.append(Refusal(p, _UNREADABLE_NAME))
            continue
        mode = path_mode(p)     # a folder on the way this account may not look into: said, naming it
        if stat.S_ISDIR(mode):
            listed = _listed(p)
            backups = own | _backups_beside(listed)
            entries = sorted(q for q in listed if not _is_temporary(q) and not _is_system(q)
                             and not (q.is_dir() and q.resolve() in backups))
            refusals += [Refusal(q, _UNREADABLE_NAME) for q in entries if not readable_name(q)]
            entries = [q for q in entries if readable_name(q)]
            inside = [q for q in entries if q.suffix.lower() in c.MASTER_SUFFIXES]
            outside = [q for q in inside if not is_confined(q)]   # a server click's link elsewhere: never read
            refusals += [Refusal(q, "このマスターのフォルダーの外を指すリンクです（読みません）") for q in outside]
            inside = [q for q in inside if q not in outside]
            odd = [r for q in inside if (r := _not_a_file(q)) is not None]
            refusals += odd
            odd_paths = {r.path for r in odd}
            inside = [q for q in inside if q not in odd_paths]
            files += [q for q in inside if q.resolve() not in skip]
            refusals += _passed_over(p, [q for q in entries if q not in inside and q not in odd_paths])
        elif mode and not is_confined(p):
            refusals.append(Refusal(p, "このマスターのフォルダーの外を指すリンクです（読みません）"))
        elif mode:
            if (odd := _not_a_file(p)) is not None:
                refusals.append(odd)
            elif p.resolve() in skip:
                refusals.append(Refusal(p, "マスターブック自身は取り込めません"))
            elif _is_temporary(p):
                refusals.append(Refusal(p, "Excel の一時ファイル（~$ で始まるファイル）です"))
            else:
                files.append(p)
        else:
            refusals.append(Refusal(p, "ファイルまたはフォルダーが見つかりません"))
    return list(dict.fromkeys(files)), refusals


# A name whose bytes are not UTF-8 (shown by records.shown_file_name): it could be neither
# printed nor kept in 取込履歴, so the file is refused, named, and the others go on.
_UNREADABLE_NAME = ("ファイル名の文字コードが読めません（Windows で作った ZIP をこのサーバーで展開したときなど）。"
                    "ファイル名を付け直してから、もう一度取り込んでください")


def _not_a_file(path: Path) -> "Refusal | None":
    """Why ``path`` cannot be read as a file (safety.check_regular_file's words), or None."""
    try:
        check_regular_file(path, RETURNED)
    except UserError as exc:
        return Refusal(path, str(exc))
    return None


def _passed_over(folder: Path, others: list[Path]) -> list[Refusal]:
    """What in the folder is not read, each file named with the reason (a return sent as a
    ZIP, a PDF or another format must not pass as "nothing to import"), and a folder
    holding workbooks (only the folder's own files are read). What the systems keep in
    every folder (_is_system) never gets here: it is passed over in silence."""
    shown = folder.resolve().name or str(folder.resolve())     # 「.」 names no folder
    out = []
    for q in others:
        suffix = q.suffix.lower()
        if not is_confined(q):          # a server click's link elsewhere: not even listed
            continue
        if q.is_dir():
            if _holds_workbooks(q):
                out.append(Refusal(q, f"フォルダーの中のフォルダーは見ません。取り込むファイルは「{shown}」の"
                                      "直下に置いてください"))
        elif _wide_suffix(q) != suffix and _wide_suffix(q) in (*c.MASTER_SUFFIXES, *OTHER_SPREADSHEETS, *ARCHIVES):
            out.append(Refusal(q, f"名前の拡張子「{q.suffix}」が全角です（Windows も Excel もこの名前では Excel のファイルと"
                                  f"見ません）。名前の最後を半角の「{_wide_suffix(q)}」に直してから、もう一度取り込んでください"))
        elif suffix in ARCHIVES:
            out.append(Refusal(q, f"圧縮ファイル（{q.suffix}）です。{unpack_into(shown)}"))
        elif said := _renamed(q):
            out.append(Refusal(q, said))
        elif suffix in OTHER_SPREADSHEETS:
            out.append(Refusal(q, f"Excel ブック（.xlsx）ではありません（{q.suffix} 形式）。{RESAVE_AS_XLSX}"))
        else:
            out.append(Refusal(q, "Excel ブック（.xlsx）ではないため、取り込みません（回収した入力用ファイルでなければ、"
                                  "このフォルダーから移してください）"))
    return out


def _renamed(path: Path) -> str:
    """Why a workbook whose name's extension is not what its bytes are is not read, saying
    what it is and how to name it (core.contract.renamed_book), or "". Not only a return
    renamed .xls or .csv: a mail system that loses an attachment's Japanese name delivers
    the return as 「ATT00001.dat」 (old Outlook), 「=_UTF-8_B_…=」 (an encoded name left
    undecoded) or with no extension, and each was told 「Excel ブック（.xlsx）ではない」 and to
    be moved out of the folder: the municipality's answer, thrown away on the tool's word."""
    from ...package.zipped import content_suffix

    return c.renamed_book(path.name, content_suffix(path), "もう一度取り込んでください",
                          f"Excel ブック（.xlsx）ではありません。{RESAVE_AS_XLSX}")


def _wide_suffix(p: Path) -> str:
    """``p``'s extension read in half-width (「.ｘｌｓｘ」 typed with the IME on is 「.xlsx」)."""
    return unicodedata.normalize("NFKC", p.suffix).lower()


def may_be_a_return(path: Path) -> bool:
    """Whether a file collect did not read may still be a municipality's return (and so
    its newest: cycle.collect holds that municipality). An .xlsx it refused, a workbook in
    another format, an archive, a folder holding workbooks, a workbook under a name a mail
    system mangled (_renamed); not a file that is not there,
    a link out of the folder, Excel's own temporary files, or a PDF or a letter."""
    if not path.exists() or not is_confined(path) or _is_temporary(path):
        return False
    if path.is_dir():
        return _holds_workbooks(path)
    if not path.is_file():      # a FIFO or a device: no one's return, whatever its name
        return False
    return _wide_suffix(path) in (*c.MASTER_SUFFIXES, *OTHER_SPREADSHEETS, *ARCHIVES) or bool(_renamed(path))


def _holds_workbooks(folder: Path) -> bool:
    try:
        return any(_wide_suffix(q) in (*c.MASTER_SUFFIXES, *OTHER_SPREADSHEETS, *ARCHIVES) and not _is_system(q)
                   for q in folder.iterdir())
    except OSError:
        return False


def _backups_beside(listed: Iterable[Path]) -> set[Path]:
    """The tool's own backup folders among ``listed`` (safety.backup_folder of a workbook
    listed beside it), passed over as the tool's, never read as a folder of returns.
    Staff who keep the master among the returns (``collect マスター.xlsm .``) keep next year's
    there too, as rollover makes it beside the closed year's; its backups (a rollover
    --force, a collect of a late return, any write) were read as a folder of workbooks no
    municipality could be told for, and held every return of the year out: 「どの市町村の
    ファイルか分からないファイル「…_2024年度_マスター_バックアップ」を取り込めないため、…どれも取り込みません」.
    qa-140 passed over only the collecting master's own (the ``exclude`` of expand_paths);
    any book's is the tool's alike (qa-148)."""
    return {backup_folder(q).resolve() for q in listed if q.suffix.lower() in c.MASTER_SUFFIXES}


def _is_system(p: Path) -> bool:
    """What a system put in the folder (SYSTEM_FILES, macOS' ``._`` twins and ``__MACOSX``):
    passed over in silence. A ``._`` twin of a return is named like it and ends in .xlsx,
    so it was read, refused as no workbook, and held that municipality's real return."""
    name = p.name.lower()
    return name in SYSTEM_FILES or name.startswith(APPLE_DOUBLE) or (name == MAC_ZIP_FOLDER and p.is_dir())


def _is_temporary(p: Path) -> bool:
    """Lock and temporary files: Excel's and LibreOffice's, and the tool's own (TEMP_PREFIX,
    and the writer lock held beside the master while it is written, safety.writer_lock_file).
    A master kept in the folder it collects from (``collect マスター.xlsm .``) listed its own
    lock, taken during that very collect, as 「取り込みません: .マスター.xlsm.renkei-lock:
    Excel ブック（.xlsx）ではない」 and exited 1 (qa-140)."""
    name = p.name
    return name.startswith(("~$", ".~lock.", TEMP_PREFIX)) or (name.startswith(".") and name.endswith(LOCK_SUFFIX))


def open_in_excel(path: Path) -> Refusal | None:
    """A return someone has open (Excel's ``~$`` or LibreOffice's lock beside it) is refused:
    the file read is the last saved one, and staff who opened it to look may have changed a
    value and not saved. Importing the saved version would be a silent guess at which one
    they meant; closing it and collecting again costs a click."""
    lock = find_lock(path)
    if lock is None:
        return None
    return Refusal(path, f"{opened_by(lock).lstrip()}（ロックファイル {lock.name} があります）。保存していない変更が"
                         "取り込まれないため、このファイルは取り込みません。保存して閉じてから、もう一度取り込んで"
                         f"ください（閉じてもこの表示が出るときは、隠しファイル {lock.name} を削除してください）")

"""Operations on a master workbook file: read, plan, apply part by part, write back safely.

Every write takes the same steps: one writer at a time (a lock held from reading to renaming),
refuse while Excel holds the file, keep a timestamped backup, write a temporary file and
rename it over the master. The master itself is written, always: only the tool's own
sheets and the cells the plan names change (renkei_xl.workbook.apply), so there is
nothing a spreadsheet application saved that the write could lose.
"""

# No ``from __future__ import annotations``: typing.NamedTuple compiles each string
# annotation (a ForwardRef), and the first compile() of a process builds the ast module's
# types, about 3 ms of every command (docs/performance.md).

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, NamedTuple, Optional, TypeVar

from ..core import contract as c
from ..core.errors import UserError
from ..core.model import Result
from ..core.contract_read import MasterData
from ..core.plan_types import WritePlan
from ..clock import now
from ..collector import collector_paused
from ..safety import (check_excel_path, check_regular_file, ensure_not_open, ensure_unchanged, refuse_not_file,
                      remove_stale_temps, replace_file, same_file, writer_lock)

if TYPE_CHECKING:
    from .state import FileState

T = TypeVar("T")


class Written(NamedTuple):
    path: Path
    backup: Optional[Path] = None


def check_path(path: Path) -> Path:
    import stat

    from ..safety import path_mode

    path = Path(path)
    if stat.S_ISDIR(path_mode(path)):   # a folder first: its name has no extension to blame
        check_regular_file(path, "マスターブックのファイル")
    from ..package.zipped import content_suffix

    # What it is, when its content says: a master renamed to .xls is no .xls.
    content = content_suffix(path) if path.is_file() else ""
    if c.not_a_book(path.name):
        raise UserError(c.not_a_book(path.name, content))
    check_regular_file(path, "マスターブックのファイル")
    # An .xls, .xlsb or .ods renamed .xlsm, or an .xlsx and an .xlsm swapped: said what it is.
    if said := c.renamed_book(path.name, content):
        raise UserError(said)
    if not content and (said := not_a_package(path)):
        raise UserError(said)
    return path


def not_a_package(path: Path) -> str:
    """Why the file given as the master is no workbook, saying what it is as far as its first
    bytes or its ZIP's names tell (package.content, the returns' rule too) and what to do;
    "" for a ZIP package or an OLE file (Package and content_suffix say those), or when it
    cannot be read. A CSV, a PDF, Excel's Unicode text, a file of 0 bytes or of zeros named
    .xlsm, and a ZIP of the master named .xlsm, were all 「ブックとして開けません（壊れているか、
    Excel のファイルではありません）」, with nothing to do (qa-returns64b)."""
    import os
    import zipfile

    from ..package.content import (archived, content_of, EMPTY, HEAD, MAX_NAMES, OLE_MAGIC, TEXT, WEB, ZEROS,
                                   ZIP_MAGIC)
    from ..safety import backup_folder

    name = path.name
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD)
            if head.startswith(OLE_MAGIC):
                return ""
            if head.startswith(ZIP_MAGIC):
                f.seek(0)
                with zipfile.ZipFile(f) as zf:
                    inside = archived(zf.infolist()[:MAX_NAMES + 1])
                if not inside:
                    return ""
                from ..core.values import more_text
                more = more_text(len(inside) - 1, "個") if len(inside) > 1 else ""
                return (f"「{name}」はマスターブックではなく、「{inside[0]}」{more}を入れた圧縮ファイル（ZIP）です。"
                        f"名前の最後の「{path.suffix}」を「.zip」に変えてから展開し、中のマスターブックを指定してください")
            size = os.fstat(f.fileno()).st_size
            zeros = not head.strip(b"\0")
            while zeros and (chunk := f.read(1 << 20)):     # a sync client's placeholder: zeros to its end
                zeros = not chunk.strip(b"\0")
    except (OSError, zipfile.BadZipFile, EOFError, ValueError, NotImplementedError):
        return ""
    found = content_of(head, size, zeros)
    if found.kind == EMPTY:
        said = f"「{name}」は空のファイル（0 バイト）で、マスターブックではありません。保存やコピーが途中で止まった可能性があります。"
    elif found.kind == ZEROS:
        said = (f"「{name}」は中身がすべて 0 のファイル（{size:,} バイト）で、マスターブックではありません。"
                "保存やコピー、同期が途中で止まった可能性があります。")
    elif found.kind == WEB:
        said = f"「{name}」はマスターブックではありません（中身は Web ページ（HTML）か XML スプレッドシートです）。"
    elif found.kind == TEXT:
        said = f"「{name}」はマスターブックではありません（中身は{found.what}です）。"
    else:
        said = f"「{name}」はマスターブックではありません（Excel のブックの形式ではありません。壊れている可能性があります）。"
    said += "マスターブックのファイルを指定し直してください"
    folder = backup_folder(path)
    if folder.is_dir():
        said += (f"。マスターが壊れたのなら、「{folder.name}」フォルダーのいちばん新しいバックアップ（名前の日時が最新のもの）を"
                 f"コピーして「{name}」の名前にし、それを使ってください")
    return said


@contextmanager
def opened(path: Path, keep_grids: bool = False, *, as_named: bool = True) -> "Iterator[FileState]":
    """The master's package and state, read once (``keep_grids``: see read_state).

    A master whose file name gives another 年度 than its 対象年度 is refused here, for every
    command that reads one (core.contract_read.year_name_refusal: every output carries the
    year). ``as_named`` False only where the read is no command's but a comparison or a
    look (the server's saved master against the workbook sent, whose own name was judged)."""
    from ..package.xml import PackageError
    from ..package.zipped import Package
    from .kind import check_master
    from .state import read_state

    try:
        pkg = Package(path)
    except PackageError as exc:
        raise file_named(path, exc) from None
    except OSError:
        # Moved, deleted or locked away since it was checked (a write waits for the writer
        # lock up to 30 s first): said in Japanese, as before the wait, not an English errno.
        check_regular_file(path, "マスターブックのファイル")
        raise
    with pkg:
        try:
            fs = read_state(pkg, keep_grids, check_master(pkg, path.name))
        except UserError as exc:
            ensure_unchanged(path, pkg.read_as)
            raise file_named(path, exc) from None
        try:
            if as_named:
                _refuse_named_year(path, fs)
            yield fs
        except UserError:
            # A file copied over the master while it is read is read half old, half new:
            # what failed is the save meanwhile, not the master (which "壊れています" said).
            ensure_unchanged(path, pkg.read_as)
            raise
        finally:
            fs.close()


def _refuse_named_year(path: Path, fs: "FileState") -> None:
    from ..core.contract_read import year_name_refusal

    if said := year_name_refusal(path.name, fs.data.settings.fiscal_year):
        raise UserError(said)


def file_named(path: Path, exc: Exception) -> UserError:
    """A package problem with the file's name in front, unless the message has it. A
    refusal of a kind of its own (TargetExists: each face answers it its own way) is kept
    as it is: it names its own file."""
    text = str(exc)
    if path.name in text or type(exc).__init__ is not UserError.__init__:
        return exc
    return type(exc)(f"「{path.name}」: {text}")


def _save_and_let_go(fs: "FileState", tmp: Path) -> None:
    """The package written to ``tmp``, then the handles on the master (the package's,
    calamine's) closed before the rename: Windows refuses to replace a file any handle
    holds open (Python opens files without FILE_SHARE_DELETE), this process's own
    included, so every write of a master from a Windows PC failed as 「他のプログラムが使用中」."""
    fs.pkg.save(tmp)
    fs.close()
    fs.pkg.close()


def load_master(path: Path, *, as_named: bool = True) -> MasterData:
    path = check_path(path)
    with opened(path, as_named=as_named) as fs:
        return fs.data


def saved_list(fs: "FileState") -> "Optional[list]":
    """The master's 一覧 as saved (None when staff deleted it), to tell whether it was
    recalculated since the inputs last changed (core.rollover.stale_rows: rollover and
    export say so) and which notes staff wrote beside it (core.list_notes.staff_notes): a
    formula saved without its result is NO_RESULT_VALUE there, as read_state puts it, never
    an empty cell."""
    from .grids import Grids
    from .sheet_checks import uncached_formulas
    from .state import mark_unsaved

    if c.LIST not in fs.state.sheetnames:
        return None
    grids = Grids(fs.pkg, [c.LIST], fs.workbook)
    try:
        grid = grids[c.LIST]
        raw = grids.with_formulas.get(c.LIST)
        if raw is not None:
            mark_unsaved(grid, uncached_formulas({c.LIST: raw}).get(c.LIST, ()))
        return grid
    finally:
        grids.close()


def write_planned(path: Path, make: "Callable[[FileState], tuple[WritePlan, T]]",
                  out: Optional[Path] = None, *, keep_grids: bool = False) -> tuple[T, Optional[Written]]:
    """Read → plan → apply → replace, under the writer lock.

    ``make`` returns the plan and whatever the command reports; an empty plan writes
    nothing (the master stays byte-identical, no backup is made). ``out`` writes the
    result to another file instead, the master only read (its last saved state, so it
    may be open in Excel meanwhile: rollover's button runs from the open book).
    ``keep_grids``: ``make`` reads every sheet again (see read_state).
    """
    from ..package.protection import shared_workbook, structure_locked
    from .apply import apply_plan

    path = check_path(path)
    target = Path(out) if out else path
    refuse_not_file(target)
    if c.suffix_problem(target.name, "出力先"):
        raise UserError(c.suffix_problem(target.name, "出力先"))
    if target.suffix.lower() != c.MACRO_SUFFIX and path.suffix.lower() == c.MACRO_SUFFIX:
        raise UserError("マクロ付きブック（.xlsm）の結果を .xlsx に書き出すとマクロが失われます。"
                        "出力先も .xlsm にしてください（配布用は renkei-xl export を使ってください）")
    # The master itself however it is named (-o with 「..」, a link, another case on Windows):
    # compared as text, it was "another file", written without the look at the version read.
    itself = same_file(target, path)
    if not itself:      # a new master staff name (-o): Excel must open it, as rollover's (its own path)
        check_excel_path(target, backups=False)
    with writer_lock(target), collector_paused():
        if itself:   # with another target the master is only read, and may stay open
            ensure_not_open(path)
        ensure_not_open(target)
        remove_stale_temps(target)
        with opened(path, keep_grids) as fs:
            try:
                plan, report = make(fs)
            except UserError as exc:
                raise file_named(path, exc) from None
            if plan.empty:
                return report, None
            fs.data = None   # a large master's rows are not needed to apply the plan
            fs.sheets.drop()
            try:
                # Excel adds no sheet to a book whose structure is protected, and rebuilds none
                # in a shared workbook in place; nor does the file face.
                plan.refuse_taken(fs.workbook.other_tabs)
                plan.refuse_added(fs.workbook.sheetnames, structure_locked(fs.workbook))
                if itself:
                    plan.refuse_shared(shared_workbook(fs.pkg, fs.workbook), "結果")
                apply_plan(fs.pkg, fs.workbook, fs.styles, plan, fs.sheets.formulas)
            except UserError as exc:
                raise file_named(path, exc) from None
            saved = replace_file(target, lambda tmp: _save_and_let_go(fs, tmp),
                                 read_as=fs.pkg.read_as if itself else None)
    return report, Written(target, saved)


def validate_file(path: Path, *, write: bool = True) -> tuple[Result, Optional[Written]]:
    """入力チェック: findings written to 検証結果 and marked in the sheets.

    ``write=False`` only looks, as evaluate does: no writer lock and no refusal of a
    workbook open in Excel, so it works in a folder staff may only read and beside an open
    book (it reads the last saved state; the command says so)."""
    from ..core.pipeline import recalculate
    from ..core.plan import checked_result, validate_plan

    if not write:   # the findings 入力チェック would write, 一覧's included
        with collector_paused(), opened(check_path(path)) as fs:
            d = fs.data
            result = recalculate(d.settings, d.indicators, d.entries, d.findings)
            return checked_result(result, d.settings), None

    def make(fs):
        d = fs.data
        result = recalculate(d.settings, d.indicators, d.entries, d.findings)
        return validate_plan(fs.state, d, result, c.CHECK, now())

    return write_planned(path, make)


def recalc_file(path: Path, out: Optional[Path] = None) -> tuple[Result, Written]:
    """評価を再計算: validate, consolidate, evaluate, write 一覧/集計/検証結果 and メニュー."""
    from ..core.calc_on_load import refuse_stale
    from ..core.pipeline import recalculate
    from ..core.plan import recalc_plan

    def make(fs):
        d = fs.data
        refuse_stale(d.findings, f"{c.LIST}と{c.SUMMARY}を作り直す")
        result = recalculate(d.settings, d.indicators, d.entries, d.findings)
        return recalc_plan(fs.state, d, result, c.RECALC, now())

    return write_planned(path, make, out)


"""Writes that lose nothing: atomic replace, backups, Excel's lock files.

Every write of a workbook goes to a temporary file in the same folder and is renamed over
the target, after a timestamped backup, and never while Excel holds the file; the tool's
own writers take one lock across read → write (writer_lock).

A foundation, beside the package writer and the VBA writer (it was workbook/safety.py):
everything that writes a file, from the VBA project to a mail draft, writes through it,
so it imports nothing of ours but the core's errors.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import os
import re
import shutil
import stat
from contextvars import ContextVar
from pathlib import Path
from typing import Callable, Iterator, Optional

from renkei_xl.core.errors import UserError

# ------------------------------------------------------------------ what is given

_NOT_FILES = ((stat.S_ISDIR, "フォルダー"), (stat.S_ISFIFO, "名前付きパイプ（FIFO）"),
              (stat.S_ISCHR, "デバイス"), (stat.S_ISBLK, "デバイス"), (stat.S_ISSOCK, "ソケット"))


def check_regular_file(path: Path, what: str = "Excel のブックのファイル") -> None:
    """Refuse, in Japanese and naming the path, what is not a file the tool can read.

    Opening a FIFO or a device for reading waits for a writer or never ends, and a folder
    or an unreadable file would surface as an English OSError and an error log. The mode is
    read without opening; a regular file is then opened once, as the user (root reads any
    file, so permission bits alone would not tell)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise UserError(f"ファイル「{path}」が見つかりません") from None
    except OSError:
        raise UserError(f"「{path}」を読めません（場所を確認できません）。{what}を指定してください") from None
    for test, kind in _NOT_FILES:
        if test(mode):
            raise UserError(f"「{path}」は{kind}で、ファイルではありません。{what}を指定してください")
    if not stat.S_ISREG(mode):
        raise UserError(f"「{path}」は通常のファイルではありません。{what}を指定してください")
    try:
        with open(path, "rb"):
            pass
    except PermissionError:
        raise UserError(f"「{path}」を読む権限がありません。ファイルのアクセス権を確認するか、"
                        f"読めるところにコピーしてから指定してください") from None
    except OSError:
        raise UserError(f"「{path}」を開けません。{what}を指定してください") from None


# ---------------------------------------------------------------------- confinement

# While the server runs a button, every file the tool writes must land in that request's
# folder under the work folder, whatever names the workbook supplied. The check sits here,
# at the write points every writer goes through (atomic_path, writer_lock, safe_write's
# folder), so a name a later change forgets to clean is still stopped. Unset (the command
# line, the local buttons), nothing is confined: the user's own rights decide there.
WRITE_ROOT: ContextVar[Optional[Path]] = ContextVar("renkei_write_root", default=None)


class OutsideFolder(UserError):
    """A write the request's folder does not contain."""


@contextlib.contextmanager
def confined(root: os.PathLike | str) -> Iterator[Path]:
    """Every write inside the block must resolve (symlinks followed) under ``root``."""
    resolved = Path(os.path.realpath(root))
    token = WRITE_ROOT.set(resolved)
    try:
        yield resolved
    finally:
        WRITE_ROOT.reset(token)


def is_confined(path: os.PathLike | str) -> bool:
    """Whether ``path`` may be read where a confinement is set (always where none is): the
    server reads as it writes, only in the folder of the master that clicked."""
    try:
        check_confined(path)
    except OutsideFolder:
        return False
    return True


def check_confined(path: os.PathLike | str) -> None:
    """Refuse ``path`` when a confinement is set and ``path`` is not under it.

    Resolved with symlinks followed (a link in the folder to elsewhere is elsewhere). A
    name that is a path on Windows (a drive ``C:``, a UNC ``\\server``, a backslash) is
    refused even on POSIX, where it would be one odd file name: the same folder is a
    Windows share for the staff, and the tool never makes such names itself."""
    root = WRITE_ROOT.get()
    if root is None:
        return
    text = os.fspath(path)
    resolved = Path(os.path.realpath(text))
    inside = resolved == root or root in resolved.parents
    windowsy = os.name != "nt" and ("\\" in text or re.search(r"(^|[\\/])[A-Za-z]:", text) is not None)
    if not inside or windowsy:
        raise OutsideFolder(f"「{Path(text).name}」の書き込み先がこのマスターのフォルダーの外です。"
                            "書き込みは行っていません。IT 担当者に連絡してください")

# --------------------------------------------------------------------------- locks

# Excel keeps an "owner file" beside an open workbook: "~$" + the full file name
# (Book1.xlsx -> ~$Book1.xlsx), the name VBA code that reads the owner's user name from
# it builds too. The truncated form (document.docx -> ~$cument.docx, the first two
# characters replaced) is Word's, not Excel's, and it is not harmless to check: with
# さっぽろ圏_2023年度_マスター.xlsm open, "旧_" + that name would be reported open, and staff
# told to delete the owner file of the workbook that really is open. So only the forms
# the applications that open our workbooks write are checked: Excel's, and LibreOffice's
# ".~lock.<name>#".
LOCK_PREFIX = "~$"


def lock_file(path: os.PathLike | str) -> Path:
    """The owner file Excel writes beside an open workbook (the exact ``~$`` + name form)."""
    path = Path(path)
    return path.with_name(LOCK_PREFIX + path.name)


def lock_candidates(path: os.PathLike | str) -> list[Path]:
    """The names under which Excel or LibreOffice lock ``path`` while it is open, Excel's
    first: each belongs to ``path`` alone, never to another workbook of the folder."""
    path = Path(path)
    return [lock_file(path), path.with_name(f".~lock.{path.name}#")]


def find_lock(path: os.PathLike | str) -> Optional[Path]:
    """The lock file that shows ``path`` is open, if any."""
    for candidate in lock_candidates(path):
        if candidate.exists():
            return candidate
    return None


def open_note(path: os.PathLike | str) -> str:
    """For a command that only reads ``path``: one line saying what it read when the
    workbook is open (its last saved state), or "" when it is not. Reading is safe then;
    only writing would be overwritten by Excel's next save."""
    lock = find_lock(path)
    if lock is None:
        return ""
    return (f"「{Path(path).name}」は Excel で開かれています（{lock.name} があります）。"
            "最後に保存された内容を読みました（保存していない変更は含みません）")


def ensure_not_open(path: os.PathLike | str) -> None:
    """Refuse to touch a workbook someone has open: Excel would overwrite our result on save."""
    path = Path(path)
    lock = find_lock(path)
    if lock is not None:
        raise UserError(
            f"「{path.name}」は Excel で開かれています（ロックファイル {lock.name} があります）。"
            "Excel で閉じてからもう一度実行してください。"
            "Excel を閉じてもこのメッセージが出る場合は、同じフォルダーの"
            f"隠しファイル {lock.name} を削除してください。"
        )


# The tool's own writers exclude each other across read → write: two imports at once
# would otherwise both read the same master and the second rename would undo the first.
# Excel's ~$ file says only that Excel has the file open; this is our own lock: an OS lock
# on a file beside the master (flock on POSIX, LockFileEx via msvcrt on Windows), which
# the OS frees when a process dies, so a killed run leaves nothing locked.
#
# Why not filelock (the kept library for this): importing filelock 4 costs ~17 ms here
# (it brings logging, threading and platform along), a sixth of the whole budget of a
# command on the FY2023 master (benchmarks/run.py); what is needed is the two calls below.
WRITER_WAIT_SECONDS = 30.0
_POLL_SECONDS = 0.05


def _try_lock(fd: int) -> bool:
    if os.name == "nt":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _unlock(fd: int) -> None:
    if os.name == "nt":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)


def refuse_folder(target: Path) -> None:
    """A file is to be written at ``target``: a folder there is said in Japanese (the backup
    would otherwise report the file missing)."""
    if target.is_dir():
        raise UserError(f"「{target}」はフォルダーです。保存するファイルの名前まで指定してください")


def same_file(a: os.PathLike | str, b: os.PathLike | str) -> bool:
    """Whether two names are one file: the same path once resolved, or, where both exist,
    one file by the file system's own answer (a name differing in case on Windows' and
    macOS' file systems, a hard link), which comparing texts cannot tell."""
    a, b = Path(a), Path(b)
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def make_folder(folder: Path, what: str) -> None:
    """``folder`` made where it is missing, or a Japanese refusal naming it: a file of that
    name, no permission, a name too long (before anything else is written)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        why = "同じ名前のファイルがあります" if folder.exists() and not folder.is_dir() else (exc.strerror or str(exc))
        raise UserError(f"{what}のフォルダー「{folder}」を作れません（{why}）。何も書き込んでいません。"
                        "そのファイルの名前を変えるか、書き込める場所にしてから、もう一度実行してください") from None


def writer_lock_file(path: os.PathLike | str) -> Path:
    path = Path(os.path.realpath(path))   # two links to one master share one lock
    return path.with_name(f".{path.name}.renkei-lock")


@contextlib.contextmanager
def writer_lock(path: os.PathLike | str, timeout: float = WRITER_WAIT_SECONDS) -> Iterator[None]:
    """Held from reading the master to renaming the result over it; a second writer waits
    up to ``timeout`` seconds, then is refused with a message."""
    import time

    path = Path(path)
    lock_path = writer_lock_file(path)
    check_confined(lock_path)
    deadline = time.monotonic() + timeout
    while True:
        fd = _open_lock(path, lock_path)
        try:
            while not _try_lock(fd):
                if time.monotonic() >= deadline:
                    raise UserError(f"「{path.name}」は別の renkei-xl の処理が書き込み中です（{timeout:g} 秒待ちました）。"
                                    "その処理が終わってからもう一度実行してください。") from None
                time.sleep(_POLL_SECONDS)
        except BaseException:
            os.close(fd)
            raise
        if _still_named(fd, lock_path):
            break
        _unlock(fd)              # a writer that made nothing removed the file meanwhile: lock the new one
        os.close(fd)
    try:
        yield
    finally:
        try:
            if not path.exists():
                # Nothing was made (a refused rollover, export or split): no lock beside a
                # file that is not there. Removed while held, so a waiter that got the old
                # file sees it unnamed (_still_named) and locks a new one instead.
                with contextlib.suppress(OSError):   # Windows: an open file cannot go
                    os.unlink(lock_path)
        finally:
            _unlock(fd)
            os.close(fd)


def _open_lock(path: Path, lock_path: Path) -> int:
    try:
        return os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise UserError(f"「{path.name}」のフォルダーに書き込めません（{exc.strerror}）。"
                        "書き込みできるフォルダーに置いてから実行してください。") from None


def _still_named(fd: int, lock_path: Path) -> bool:
    """Whether the file locked through ``fd`` is still the one named ``lock_path``."""
    try:
        named, held = os.stat(lock_path), os.fstat(fd)
    except OSError:
        return False
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


# --------------------------------------------------------------------- atomic writes

TEMP_PREFIX = ".~renkei-"
STALE_AFTER_SECONDS = 600


def temp_prefix(target: Path) -> str:
    """Temporary files are named after their target, so a later run can tell its own."""
    return f"{TEMP_PREFIX}{target.name}."


def remove_stale_temps(target: os.PathLike | str) -> list[Path]:
    """Temporary files a killed run left beside ``target``. Called under the writer lock,
    so no live writer of this target owns one; the age limit spares a run of an older
    version that did not take the lock."""
    import time

    target = Path(os.path.realpath(target))
    gone = []
    for p in target.parent.glob(temp_prefix(target) + "*" + target.suffix):
        try:
            if time.time() - p.stat().st_mtime > STALE_AFTER_SECONDS:
                p.unlink()
                gone.append(p)
        except OSError:
            pass
    return gone


def _new_temp_file(folder: Path, prefix: str, suffix: str) -> Path:
    """An empty file of a new name in ``folder``, created exclusively (mode 0600), as
    ``tempfile.mkstemp`` makes it. Not tempfile itself: its import, with ``random``, is
    about 1.5 ms of every command and click, and this is the one thing used of it."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        path = folder / f"{prefix}{os.urandom(6).hex()}{suffix}"
        try:
            os.close(os.open(path, flags, 0o600))
        except FileExistsError:
            continue
        except OSError as exc:   # a folder one may not write, a name too long: nothing written yet
            raise UserError(f"フォルダー「{folder}」に書き込めません（{exc.strerror or exc}）。何も書き込んでいません。"
                            "書き込めるフォルダーを指定してから実行してください") from None
        return path
    raise FileExistsError(errno.EEXIST, "no unused temporary name", str(folder))


def _default_mode() -> int:
    """Permission bits a plain new file would get (mkstemp would give 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as fh:
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable; a no-op where directories cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(target: os.PathLike | str, *, check_lock: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on a clean exit it replaces ``target``.

    The temporary file sits in the same folder (same filesystem, so the rename is
    atomic) and has the same suffix (openpyxl and Excel decide the format by it). On
    any exception the target is untouched and the temporary file is removed.
    """
    link = Path(target)
    check_confined(link)
    if check_lock:
        ensure_not_open(link)
    # Through a symlink to its file: replacing the link itself would leave the real master
    # behind unchanged and the link turned into a plain copy.
    target = Path(os.path.realpath(link))
    if check_lock and target != link:
        ensure_not_open(target)
    tmp = _new_temp_file(target.parent, temp_prefix(target), target.suffix)
    try:
        try:
            yield tmp
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise UserError(f"ディスクの空き容量が足りないため「{target.name}」を書き込めませんでした。"
                                "元のファイルは変更していません。空き容量を増やしてからもう一度実行してください。") from None
            raise
        if not tmp.exists() or tmp.stat().st_size == 0:
            raise RuntimeError(f"nothing was written to the temporary file for {target}")
        _fsync_file(tmp)
        mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else _default_mode()
        os.chmod(tmp, mode)
        try:
            os.replace(tmp, target)
        except PermissionError as exc:
            raise UserError(
                f"「{target.name}」に書き込めません（他のプログラムが使用中か、書き込み権限がありません）。"
                "ファイルを閉じてからもう一度実行してください。"
            ) from exc
        _fsync_dir(target.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def atomic_write(target: os.PathLike | str, write_fn: Callable[[Path], object], *,
                 check_lock: bool = True) -> Path:
    """Run ``write_fn(tmp_path)`` and rename the result over ``target``; returns ``target``."""
    with atomic_path(target, check_lock=check_lock) as tmp:
        write_fn(tmp)
    return Path(target)


def replace_file(target: os.PathLike | str, write_fn: Callable[[Path], object], *,
                 keep_backup: bool = True) -> Optional[Path]:
    """Refuse while Excel has ``target`` open, back the old file up, write the new one
    beside it and rename it over: the steps every write of the tool takes, in this order
    (a caller that reads first holds ``writer_lock`` around both). Returns the backup."""
    target = Path(target)
    refuse_folder(target)
    ensure_not_open(target)
    saved = backup(target) if keep_backup and target.exists() else None
    atomic_write(target, write_fn)
    return saved


def safe_write(target: os.PathLike | str, write_fn: Callable[[Path], object], *,
               keep_backup: bool = True, lock: bool = True) -> Optional[Path]:
    """``replace_file`` as one writer at a time. ``lock=False`` for files the tool hands
    out (input files, drafts, PDFs): nothing reads them back, so a lock file beside each
    one would only be clutter in the folder staff open. Returns the backup, if any."""
    target = Path(target)
    check_confined(target)
    make_folder(target.parent, f"「{target.name}」の保存先")
    if not lock:
        return replace_file(target, write_fn, keep_backup=keep_backup)
    with writer_lock(target):
        return replace_file(target, write_fn, keep_backup=keep_backup)


# --------------------------------------------------------------------------- backups

BACKUP_FOLDER_SUFFIX = "_バックアップ"
_STAMP = "%Y%m%d-%H%M%S"


def backup_folder(path: os.PathLike | str) -> Path:
    path = Path(path)
    return path.with_name(path.stem + BACKUP_FOLDER_SUFFIX)


def _backup_pattern(path: Path) -> re.Pattern:
    return re.compile(re.escape(path.stem) + r"_\d{8}-\d{6}(?:_\d{3})?" + re.escape(path.suffix) + r"\Z")


def list_backups(path: os.PathLike | str) -> list[Path]:
    """The backups of ``path``, oldest first (the names sort by time)."""
    path = Path(path)
    folder = backup_folder(path)
    if not folder.is_dir():
        return []
    pattern = _backup_pattern(path)
    return sorted(p for p in folder.iterdir() if pattern.match(p.name))


def backup(path: os.PathLike | str, keep: int = 10) -> Path:
    """Copy ``path`` into ``{stem}_バックアップ`` under a time-stamped name; keep the newest ``keep``.

    Names are ``{stem}_YYYYMMDD-HHMMSS{suffix}``, then ``_001``, ``_002``… for further
    backups within the same second, so sorting the names sorts them by time.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"バックアップを作れません: 「{path}」が見つかりません。")
    folder = backup_folder(path)
    make_folder(folder, "バックアップ用")     # a file of that name: said before anything is written
    stamp = _dt.datetime.now().strftime(_STAMP)
    existing = list_backups(path)
    newest = existing[-1].name if existing else ""
    candidate = folder / f"{path.stem}_{stamp}{path.suffix}"
    counter = 0
    # Never sort before an existing backup, even if the clock went back a little.
    while candidate.exists() or candidate.name < newest:
        counter += 1
        if counter > 999:
            stamp = (_dt.datetime.strptime(stamp, _STAMP) + _dt.timedelta(seconds=1)).strftime(_STAMP)
            counter = 0
            candidate = folder / f"{path.stem}_{stamp}{path.suffix}"
            continue
        candidate = folder / f"{path.stem}_{stamp}_{counter:03d}{path.suffix}"
    atomic_write(candidate, lambda tmp: shutil.copy2(path, tmp), check_lock=False)
    backups = list_backups(path)
    for old in backups[:max(len(backups) - keep, 0)]:
        old.unlink()
    return candidate

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
from typing import BinaryIO, Callable, Iterable, Iterator, Optional, Sequence

from renkei_xl import clock
from renkei_xl.core.face import again
from renkei_xl.core.backup_names import BACKUP_FOLDER_SUFFIX, LONGEST_STAMP
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
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG and name_too_long(Path(path).name):
            raise UserError(name_too_long(Path(path).name)) from None
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
        raise UserError(f"「{path}」を読む権限がありません。" + _rights_remedy(
            "ファイルのアクセス権を確認するか、読めるところにコピーしてから指定してください", "このファイルを読める")) from None
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
def confined(root: os.PathLike | str, *, checked: bool = False) -> Iterator[Path]:
    """Every write inside the block must resolve (symlinks followed) under ``root``.

    ``checked``: ``root`` is a real path as it was resolved when it was checked (the
    server's year folder, server.place), taken as it is. Resolved again here, a folder
    swapped for a link to another region's folder since the check moved the confinement
    there with it, and the click read that region's master as its own."""
    resolved = Path(root) if checked else Path(os.path.realpath(root))
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


def open_confined(path: os.PathLike | str) -> BinaryIO:
    """``path`` open for reading, refused (OutsideFolder) when the file opened is not one
    under the confinement. A check made before the open is stale by the time of the read:
    a return listed seconds before, or a year folder swapped for a link to another region's
    while a click ran, was read there. So the file is opened first and then judged: the name
    resolved now must lead, inside the confinement, to the very file open (a link swapped
    back in between leads to another). Every read of a package goes through it
    (package.zipped.Package), so a server click reads only its own folder's files."""
    fh = open(path, "rb")
    try:
        if WRITE_ROOT.get() is not None:
            opened = os.fstat(fh.fileno())
            real = os.path.realpath(path)
            try:
                now = os.stat(real)
                same = (now.st_dev, now.st_ino) == (opened.st_dev, opened.st_ino)
            except OSError:
                same = False
            if not same or not is_confined(real):
                raise OutsideFolder(f"「{Path(path).name}」は、このマスターのフォルダーの外を指すリンクです（読んでいません）")
    except BaseException:
        fh.close()
        raise
    return fh


def read_confined(path: os.PathLike | str) -> bytes:
    """The bytes of ``path``, as open_confined opens it."""
    with open_confined(path) as fh:
        return fh.read()


def judged_folder(folder: os.PathLike | str) -> Optional[int]:
    """``folder`` opened (a descriptor to make or remove names in, through ``dir_fd``) and
    judged as open_confined judges a file: its name resolved now must lead, inside the
    confinement, to the very folder open. None where no confinement is set or the system
    takes no ``dir_fd`` (Windows): names are then used as they are. A name checked and then
    used is stale by the use: a folder swapped for a link to another region's folder (or out
    of the work folder) between the two had the server make 確定版 there, or remove another
    writer's lock file there. Opened first, judged, then used through the descriptor, the
    name made or removed lies in the folder judged, whatever its name leads to by then."""
    if WRITE_ROOT.get() is None or os.mkdir not in os.supports_dir_fd:
        return None
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        real = os.path.realpath(folder)
        try:
            now = os.stat(real)
            held = os.fstat(fd)
            same = (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino)
        except OSError:
            same = False
        if not same or not is_confined(real):
            raise OutsideFolder(f"フォルダー「{Path(folder).name}」が、このマスターのフォルダーの外を指すリンクなどに"
                                "置き換えられています。書き込みは行っていません。IT 担当者に連絡してください")
    except BaseException:
        os.close(fd)
        raise
    return fd


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
    """The lock file that shows ``path`` is open, if any. A lock name the file system cannot
    hold (a master's name of 254 bytes, which "~$" takes past 255) is no lock: no
    application can have made it. Path.exists raised ENAMETOOLONG there, and every command
    on such a master was refused as 「「~$…」は名前が長すぎて使えません…何も書き込んでいません」,
    a name staff never gave, after split and export had already written their files."""
    for candidate in lock_candidates(path):
        if os.path.exists(candidate):
            return candidate
    return None


def opened_in(lock: Path) -> str:
    """The application a lock file says has the workbook open: a master opened in
    LibreOffice was reported open in Excel, and staff told to close Excel, which they had
    not started."""
    return "LibreOffice" if lock.name.startswith(".~lock.") else "Excel"


# What an owner file holds, read without following a link or waiting on a pipe: Excel's is
# 165 bytes (the user name's length, the name in the ANSI code page padded with spaces to
# byte 55, the length again as 2 bytes, the name in UTF-16LE from byte 57); LibreOffice's is
# one line of comma-separated fields (its user name, the system's, the host, the time, the
# profile), "\\" escaping "," and ";". Anything larger is not an owner file.
_OWNER_FILE_MAX = 4096
_EXCEL_WIDE_AT = 55


def lock_owner(lock: os.PathLike | str) -> str:
    """The user a lock file names as having the workbook open, "" when it names none or
    cannot be read. Staff on a shared master were told only 「Excel で開かれています」 and
    went round the office asking who; Excel itself says who. Never raises: a lock that
    cannot be read still refuses the write, without the name."""
    try:
        fd = os.open(lock, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_BINARY", 0))
    except OSError:
        return ""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        data = os.read(fd, _OWNER_FILE_MAX + 1)
    except OSError:
        return ""
    finally:
        os.close(fd)
    if len(data) > _OWNER_FILE_MAX:
        return ""
    name = _libreoffice_owner(data) if Path(lock).name.startswith(".~lock.") else _excel_owner(data)
    return name if name.isprintable() and len(name) <= 64 else ""


def _excel_owner(data: bytes) -> str:
    """The user name in Excel's owner file: the UTF-16 copy (any script), else the ANSI one
    (Windows-31J on a Japanese PC). A file shorter than the layout is not read at all: Excel
    writes all of it at once, and a fragment is no one's name to tell staff."""
    at = _EXCEL_WIDE_AT
    if len(data) < at + 2:
        return ""
    wide = int.from_bytes(data[at:at + 2], "little")
    if 0 < wide <= 54 and len(data) >= at + 2 + 2 * wide:
        with contextlib.suppress(UnicodeDecodeError):
            if name := data[at + 2:at + 2 + 2 * wide].decode("utf-16-le").strip():
                return name
    narrow = data[0] if data else 0
    if 0 < narrow < len(data) and narrow <= 54:
        with contextlib.suppress(UnicodeDecodeError):
            return data[1:1 + narrow].decode("cp932").strip()
    return ""


def _libreoffice_owner(data: bytes) -> str:
    """The user name in LibreOffice's lock file: its own user name, else the system's."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return ""
    fields, field, escaped = [], "", False
    for ch in text:
        if escaped:
            field, escaped = field + ch, False
        elif ch == "\\":
            escaped = True
        elif ch in ",;":
            fields.append(field.strip())
            field = ""
            if ch == ";" or len(fields) >= 2:
                break
        else:
            field += ch
    return next((f for f in fields[:2] if f), "")


def opened_by(lock: Path) -> str:
    """What follows 「「name」は」 in a message of a workbook open: who has it open where the
    lock says (lock_owner), in which application (opened_in); the one wording of it."""
    return _opened_by(opened_in(lock), lock_owner(lock))


def _opened_by(app: str, owner: str) -> str:
    return f" {owner} さんが {app} で開いています" if owner else f" {app} で開かれています"


def open_note(path: os.PathLike | str) -> str:
    """For a command that only reads ``path``: one line saying what it read when the
    workbook is open (its last saved state), or "" when it is not. Reading is safe then;
    only writing would be overwritten by Excel's next save."""
    lock = find_lock(path)
    if lock is None:
        return ""
    return (f"「{Path(path).name}」は{opened_by(lock)}（{lock.name} があります）。"
            "最後に保存された内容を読みました（保存していない変更は含みません）")


def ensure_not_open(path: os.PathLike | str) -> None:
    """Refuse to touch a workbook someone has open: Excel would overwrite our result on save."""
    path = Path(path)
    lock = find_lock(path)
    if lock is not None:
        # the owner file read once: read again for the second sentence, a lock Excel
        # rewrote meanwhile named one user as having it open and asked to close another
        app, owner = opened_in(lock), lock_owner(lock)
        close = f"{owner} さんに {app} で閉じてもらってから" if owner else f"{app} で閉じてから"
        raise UserError(
            f"「{path.name}」は{_opened_by(app, owner)}（ロックファイル {lock.name} があります）。"
            f"{close}もう一度{again()}ください。"
            f"{app} を閉じてもこのメッセージが出る場合は、同じフォルダーの"
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

# A writer that must be done by a time (a server click: Excel gives up on its answer after
# its timeout, server.turns) waits for a lock no longer than that. The server's turns bound
# only the wait for a worker: a click meeting a lock held elsewhere (the command line's
# export writing its PDF, another worker's click) waited the lock's 30 s on top, past
# Excel's timeout, so staff read 「答えが届きませんでした」 instead of the reason, and a lock
# freed after 25 s had the click write files nobody was told of. None: no such time.
WAIT_UNTIL: ContextVar[Optional[float]] = ContextVar("renkei_wait_until", default=None)
# The seconds each writer lock inside a ``waiting_until`` block waited (the server's log line
# says how long a click waited: for its turn, and for a lock held elsewhere).
_LOCK_WAITS: ContextVar[Optional[list]] = ContextVar("renkei_lock_waits", default=None)


# What a writer must still find true once its lock is had, checked before anything is
# written under it (a server click: that the master in its folder is still the one admitted,
# server.admission.still_admitted). The click may wait for the lock up to its turn's budget,
# and what admission judged before the wait is stale after it. None: nothing to check.
WHILE_LOCKED: ContextVar[Optional[Callable[[], None]]] = ContextVar("renkei_while_locked", default=None)


@contextlib.contextmanager
def checked_while_locked(check: Callable[[], None]) -> Iterator[None]:
    """Every writer lock had inside the block runs ``check`` (raising to refuse) before its
    writer writes."""
    token = WHILE_LOCKED.set(check)
    try:
        yield
    finally:
        WHILE_LOCKED.reset(token)


@contextlib.contextmanager
def waiting_until(deadline: Optional[float]) -> Iterator[list]:
    """Every writer lock inside the block waits at most until ``deadline`` (time.monotonic());
    yields the list of the seconds each one waited, taken or not."""
    waits: list = []
    token, noted = WAIT_UNTIL.set(deadline), _LOCK_WAITS.set(waits)
    try:
        yield waits
    finally:
        _LOCK_WAITS.reset(noted)
        WAIT_UNTIL.reset(token)


def held_new_file(path: Path) -> Optional[int]:
    """A new file at ``path`` (never one there, never through a link), locked for as long as
    the returned descriptor stays open, however the process ends: how a running worker
    (server.running) and a run's temporary folder (scratch) say they are alive. None where it
    cannot be made or locked, a share without locks among them: there nobody could tell the
    file was held, and the caller goes by its age (the file made is removed again)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError:
        return None
    try:
        if try_lock(fd, Path(path)):
            return fd
    except UserError:
        pass
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(path)
    return None


def try_lock(fd: int, path: Path) -> bool:
    """Whether the OS lock on ``fd`` (the lock file ``path``) was taken. A share without
    locks is said naming the folder the lock file is in: for a folder's own writer lock
    (split's 配布用) that is the folder above it, and 「「配布用」のフォルダー」 sent staff
    and IT to the wrong one."""
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
    except OSError as exc:     # a share mounted without locks (NFS without its lock service)
        raise UserError(f"フォルダー「{path.parent}」ではファイルのロックが使えないため（{system_reason(exc)}）、"
                        "ほかの処理と同時に書き込まないことを確かめられません。何も書き込んでいません。"
                        "ロックの使える場所（共有フォルダーの設定）について IT 担当者に相談してください") from None


def unlock(fd: int) -> None:
    if os.name == "nt":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)


def ensure_writable(target: os.PathLike | str) -> None:
    """Refuse a target marked read-only, before anything (a backup included) is written.

    Windows' 読み取り専用 attribute is what staff set to say "do not change this file"
    (a 確定版 after it was mailed, a master kept for the record); Python reads it as a mode
    without write bits, as it reads a POSIX file of mode 0444. Replacing such a file fails
    on Windows and would succeed on a POSIX folder: refused on both, by the mode, so the
    answer is the same for root and for a user, and the file is never replaced behind
    the attribute."""
    try:
        mode = os.stat(target).st_mode
    except OSError:
        return                      # nothing there yet: a new file is not read-only
    if stat.S_ISREG(mode) and not mode & stat.S_IWUSR:
        raise UserError(f"「{Path(target).name}」は読み取り専用です。エクスプローラーでファイルのプロパティを開き、"
                        f"「読み取り専用」を外してからもう一度{again()}ください。何も書き込んでいません")


# ``read_as`` of a file that was not there when the write began (replace_file): one that
# appears meanwhile (a colleague's save under the same name) is not replaced either.
ABSENT = os.stat_result((0,) * 10)


def ensure_unchanged(target: os.PathLike | str, read_as: Optional[os.stat_result]) -> None:
    """Refuse to write over ``target`` when it is no longer the version read (``read_as``,
    the read's own os.fstat; ABSENT: there was none; None: nothing to compare).

    The writer lock keeps out only the tool's own writers: a colleague who saves the
    master in Excel, or copies a file over it, between this run's read and its rename
    would otherwise see their save silently undone, the result built from the older
    version written over it (their version only in a backup no one is told of). Excel
    saves by writing a new file and renaming it (a new file ID); a copy over the file
    changes its size or time."""
    if read_as is None:
        return
    try:
        now_st = os.stat(target)
    except OSError:
        now_st = None
    if read_as is ABSENT:
        if now_st is not None:
            raise UserError(f"「{Path(target).name}」は、この処理が書き込む間に、別の人またはプログラムが同じ名前で"
                            "保存しました。その内容を上書きしないよう、書き込みは行っていません。"
                            f"そのファイルを確かめてから、もう一度{again()}ください")
        return
    seen = lambda st: (st.st_ino, st.st_size, st.st_mtime_ns)   # noqa: E731
    if now_st is None or seen(now_st) != seen(read_as):
        raise UserError(f"「{Path(target).name}」は、この処理が読み込んだ後に別の人またはプログラムが保存しました"
                        "（または移動・削除されました）。その内容を上書きしないよう、書き込みは行っていません。"
                        f"ほかの人が開いていないことを確かめてから、もう一度{again()}ください")


# The longest file name the file systems the tool meets accept: 255 bytes on ext4 and
# for a Samba share, 255 UTF-16 units on NTFS. The tool's own working files beside a file
# (writer lock, temporary files, the backup folder and backups) add to its name, so their
# names are cut, with a hash of the whole (core.filenames.shortened), to stay within it:
# any name the file system accepts for a master can be written.
NAME_MAX = 255


def _fit(name: str, *beside: str) -> str:
    """``name``, cut if need be so that it and ``beside`` make one name within NAME_MAX
    bytes of UTF-8 (the stricter measure on both systems). The import is late: hashing is
    needed only for names that long, and every command pays for an import."""
    budget = NAME_MAX - sum(len(b.encode("utf-8", "surrogateescape")) for b in beside)
    if len(name.encode("utf-8", "surrogateescape")) <= budget:
        return name
    from renkei_xl.core.filenames import shortened

    return shortened(name, budget)


def _native_length(name: str) -> int:
    """A name's length as the file system counts it: UTF-16 units on Windows, bytes on POSIX."""
    if os.name == "nt":
        return len(name.encode("utf-16-le", "surrogatepass")) // 2
    return len(os.fsencode(name))


def name_too_long(name: str) -> str:
    """Why ``name`` cannot be a file name here, in Japanese with how long it may be; ""
    when it can. Said before anything is written: otherwise the error comes from
    whichever file is made first, in English and blaming the folder."""
    if _native_length(name) <= NAME_MAX:
        return ""
    suffix = Path(name).suffix
    if os.name == "nt":
        limit = f"{NAME_MAX} 文字まで"
    else:   # POSIX counts bytes: a full-width character is 3 of them
        room = (NAME_MAX - _native_length(suffix)) // 3
        limit = f"{NAME_MAX} バイトまで（全角の文字なら{f'「{suffix}」' if suffix else '拡張子'}のほかに {room} 文字まで）"
    return (f"「{name}」は名前が長すぎて使えません。ファイル名は拡張子を含めて {limit}に"
            "してください。何も書き込んでいません")


# How staff name a path of the tool's, for what Excel can open there: on the server the
# share's path (\\fileserver\…) of a folder in its work folder, set for a click by the server
# (server.app.run_button, Place.shown); elsewhere the path itself, made absolute (not
# resolved: a mapped drive stays the drive staff use).
SHOWN_AS: ContextVar[Optional[Callable[[Path], str]]] = ContextVar("renkei_shown_as", default=None)


def shown_path(path: os.PathLike | str) -> str:
    show = SHOWN_AS.get()
    return show(Path(path)) if show is not None else os.path.abspath(path)


def check_excel_path(target: os.PathLike | str, *, backups: bool = True) -> None:
    """Refuse a file, named by staff, that Excel could not open where it goes, or (with
    ``backups``) whose backups it could not open (core.filenames.EXCEL_PATH_MAX), before
    anything is written. Names the tool makes are cut to fit instead (safe_file_name's
    ``folder``)."""
    from renkei_xl.core.filenames import ExcelPathTooLong, excel_path_problem

    target = Path(target)
    check_name_length(target)       # a name no file system takes is said so first, as it was
    if problem := excel_path_problem(shown_path(target.parent), target.name, backups=backups):
        raise ExcelPathTooLong(problem)


def check_name_length(target: os.PathLike | str) -> None:
    """Refuse a file name the file system cannot hold (name_too_long)."""
    if problem := name_too_long(Path(target).name):
        raise UserError(problem)


# What a refusal of one write says of its file; where others were written before it (a split
# stopped partway) it is said of that file by name (of_one_file), not of the whole command.
NOTHING_WRITTEN = "何も書き込んでいません"
ORIGINAL_KEPT = "元のファイルは変更していません"


def of_one_file(said: str, path: Path) -> str:
    """``said``, a write's refusal of ``path``, read beside files already written: its
    「何も書き込んでいません」 and 「元のファイルは変更していません」 are of that one file (beside
    「2 件は作成済みです」 they said nothing was written, or left staff to guess which 元のファイル),
    and say so by its name; the latter only where a file of that name is there."""
    kept = f"前からある「{path.name}」は変更していません" if path.is_file() else ""
    return said.replace(NOTHING_WRITTEN, f"「{path.name}」は書き込んでいません").replace(
        ORIGINAL_KEPT + "。", kept and kept + "。").replace(ORIGINAL_KEPT, kept)


def _full_remedy() -> str:
    """What to do about a full disk or quota: free room, or, from a server click, ask IT (staff
    cannot free the server's disk), ending the sentence."""
    return _remedy(f"ディスクの空き容量（または割り当て）を増やしてから、もう一度{again()}ください",
                   "IT 担当者に、サーバーのディスクの空き容量と割り当てを確かめてもらってください")


def _write_remedy(elsewhere: str, folder: Optional[str] = None, exc: Optional[BaseException] = None) -> str:
    """What to do about a folder the tool may not write in (``folder``; None: the one the
    message names, 「このフォルダー」): on the command line and the local buttons its rights
    first, then ``elsewhere`` (what staff can do instead: name another folder, move the
    file), ending the sentence. The rights first, because not every folder refused is one
    staff chose: the backup folder beside a master, the folder a writer lock goes in, were
    met with 「書き込めるフォルダーを指定してから」 though no command names them. On the server
    (a confinement set) the folder is the master's own, which staff neither choose nor give
    rights to, so they are sent to IT, who can. ``exc``: what refused; a read-only volume
    (EROFS) is no right to look at: only ``elsewhere``, and IT asked about the volume."""
    this = "このフォルダー" if folder is None else f"フォルダー「{folder}」"
    if getattr(exc, "errno", None) == errno.EROFS:
        return _read_only_remedy(elsewhere, this)
    return _rights_remedy(f"{this}のアクセス権（書き込めるか）を確かめるか、{elsewhere}", f"{this}に書き込める")


def _read_only_remedy(elsewhere: str, this: str = "この場所") -> str:
    """What to do where the volume itself is read-only (EROFS: a share or disk mounted so):
    rights cannot mend it, and 「アクセス権を確かめて」 sent staff and IT to rights that were
    fine."""
    return _remedy(elsewhere, f"IT 担当者に、{this}が読み取り専用の場所（読み取り専用で接続された共有やディスク）"
                              "になっていないか確かめてもらってください")


def _rights_remedy(elsewhere: str, can: str) -> str:
    """``elsewhere`` off the server; on it, IT asked to see that the service's account ``can``
    (what it lacked the rights for): staff cannot name another file or folder from a button."""
    return _remedy(elsewhere, f"IT 担当者に、サーバーのアカウントが{can}か確かめてもらってください")


def _remedy(here: str, on_server: str) -> str:
    """What the reader can do: ``here`` on the command line and the local buttons (staff, at
    the folder), ``on_server`` in a server click (staff, who pass it to IT). Not a face's
    words (core.face.on_face): what differs is what staff can do, not how they run the
    tool. A server's staff see neither its disk nor its rights, nor name another folder
    from a button, while the PC's button runs where staff stand, as the command line does;
    each ``here`` asks for the run again in the face's words (core.face.again)."""
    return here if WRITE_ROOT.get() is None else on_server


def _reason(exc: OSError) -> str:
    """Why the system refused a write, in Japanese (its own text is English)."""
    return {errno.EACCES: "書き込む権限がありません", errno.EPERM: "書き込む権限がありません",
            errno.ENOENT: "フォルダーが見つかりません"}.get(exc.errno) or system_reason(exc)


def may_be_held(exc: BaseException) -> bool:
    """Whether ``exc`` may mean that another program has the file open: the one place that
    reads a refusal so. On Windows a file open elsewhere is refused with PermissionError,
    the error of a right not given (a sharing violation, and a rename over a file open
    without delete sharing), so both readings stand there. POSIX has no such locks: a
    PermissionError is a right only (the folder's, or a sticky folder's rule on a file of
    another account), and 「ファイルを閉じてから」 sent staff to close a file nobody had open."""
    return os.name == "nt" and isinstance(exc, PermissionError)


def refused_why(exc: BaseException, doing: str = "書き込む") -> str:
    """Why the system refused ``doing`` (書き込む, 読む) to a file, in Japanese, by its errno
    read once (may_be_held): a program holding it only where that can be the cause."""
    if may_be_held(exc):
        return f"ほかのプログラムが開いているか、{doing}権限がありません"
    if getattr(exc, "errno", None) in (errno.EACCES, errno.EPERM):
        return f"{doing}権限がありません"
    return system_reason(exc)


def refused_remedy(exc: BaseException, rights: str, can: str, held_by: str = "Excel など") -> str:
    """What to do about a refused file, by what refused it (its errno, read once: disk_full,
    may_be_held), ending the sentence without its 「。」. ``rights``: what staff at the
    folder do about a right not given (see the rights, or go elsewhere); ``can``: what IT is
    to see that the server's account can; ``held_by``: the programs that may hold the file
    open (Windows). A full disk, a read-only volume and a folder gone each get their own:
    a single fixed remedy (「閉じてから」) fitted one of them and misled on the others."""
    code = getattr(exc, "errno", None)
    if isinstance(exc, OSError) and disk_full(exc):
        return _full_remedy()
    if may_be_held(exc):
        return _remedy(f"{held_by}でそのファイルを開いていれば閉じてから、もう一度{again()}ください。閉じても同じときは、{rights}",
                       "そのファイルを開いている人がいれば閉じてもらってから、もう一度ボタンを押してください。閉じても同じときは"
                       f" IT 担当者に、サーバーのアカウントが{can}か確かめてもらってください")
    if code in (errno.EACCES, errno.EPERM):
        return _rights_remedy(rights, can)
    if code == errno.EROFS:
        return _read_only_remedy(f"書き込める場所（読み取り専用でない場所）にしてから、もう一度{again()}ください")
    if code in (errno.ENOENT, errno.ENOTDIR):
        return _remedy(f"フォルダーが移動・削除されていないか確かめてから、もう一度{again()}ください",
                       "もう一度ボタンを押してください。同じときは IT 担当者に、サーバー作業フォルダーを確かめてもらってください")
    return _remedy(f"もう一度{again()}ください。同じときは IT 担当者に伝えてください",
                   "もう一度ボタンを押してください。同じときは IT 担当者に伝えてください")


def system_reason(exc: BaseException) -> str:
    """Why the system refused any file or network call, in Japanese: its strerror is English
    (「No such file or directory」), and was shown so inside Japanese messages."""
    code = getattr(exc, "errno", None)
    return {errno.EACCES: "アクセス権がありません", errno.EPERM: "アクセス権がありません",
            errno.ENOENT: "見つかりません", errno.EISDIR: "フォルダーです", errno.ESPIPE: "名前付きパイプなどで、通常のファイルではありません", errno.ELOOP: "シンボリックリンクです（たどりません）", errno.ENOTDIR: "途中がフォルダーではありません",
            errno.EROFS: "読み取り専用の場所です", errno.ENAMETOOLONG: "名前が長すぎます",
            errno.ENOSPC: "ディスクの空き容量が足りません", errno.EDQUOT: "ディスクの割り当てが足りません",
            errno.EFBIG: "ファイルの大きさの上限を超えます", errno.EADDRINUSE: "ほかのプログラムが使っています", errno.ENOLCK: "ロックを使えません", errno.EADDRNOTAVAIL: "このサーバーのアドレスではありません"}.get(
                code, f"システムのエラー {errno.errorcode.get(code, code)}" if isinstance(code, int) else "システムのエラー")


# The system's refusals whose cause is the place, not the tool: rights, a read-only
# volume, no room. Each write and read the tool expects to meet one says it itself, naming
# its file (safe_write, list_backups, path_mode, _disk_full_said); place_refusal is for the
# rest, at the last guards of the command line, the buttons and the server, where such an
# error was 「予期しないエラー」 with the system's English (「PermissionError: [Errno 13]
# Permission denied」): a cause staff or IT can mend, said as one (qa-141 walked it).
_PLACE_CAUSES = frozenset({errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def place_refusal(exc: BaseException) -> Optional[str]:
    """What to tell staff of ``exc`` when the place refused it (None: not such an error), naming
    the file the system names, with the remedy of the face (the server sends staff to IT)."""
    if not isinstance(exc, OSError) or exc.errno not in _PLACE_CAUSES:
        return None
    named = exc.filename if isinstance(exc.filename, (str, bytes)) and exc.filename else None
    where = f"「{shown_path(os.fsdecode(named))}」" if named is not None else "ファイルまたはフォルダー"
    if disk_full(exc):
        remedy = _full_remedy()
    else:
        remedy = _rights_remedy(f"ファイルとフォルダーのアクセス権（読み取り専用でないか）を確かめてから、もう一度{again()}ください",
                                "ここを読み書きできる")
    return f"{where}を読み書きできませんでした（{system_reason(exc)}）。{remedy}。"


def refuse_not_file(target: Path) -> None:
    """A file is to be written at ``target``: anything there that is not a file is said in
    Japanese by its kind. The backup of what is replaced would otherwise report it missing
    (Path.is_file is False for it): a named pipe, a device or a link to one (/dev/null)
    under a name split, export or rollover write was 「バックアップを作れません: … が見つかりません」,
    staff told a file they could see was not there."""
    mode = path_mode(target)
    if stat.S_ISDIR(mode):
        # The name may be the tool's own (split's input files, the next year's master), so
        # "give a file name" alone would ask staff for a name they never gave (walkers62).
        raise UserError(f"「{target}」はフォルダーです。何も書き込んでいません。" + _remedy(
            f"保存するファイルの名前まで指定するか、そのフォルダーの名前を変えてから、もう一度{again()}ください",
            "IT 担当者に、そのフォルダーの名前を変えてもらってから、もう一度ボタンを押してください"))
    if mode and not stat.S_ISREG(mode):
        kind = next((kind for test, kind in _NOT_FILES if test(mode)), "特殊なもの")
        raise UserError(f"「{target}」は{kind}で、ファイルではありません。何も書き込んでいません。" + _remedy(
            f"それを削除するか別の名前に変えてから、もう一度{again()}ください",
            "IT 担当者に、それを削除するか別の名前に変えてもらってから、もう一度ボタンを押してください"))


def check_targets(paths: Iterable[os.PathLike | str]) -> None:
    """What would stop a file's write (open in Excel, read-only, a folder of its name, a
    name too long), asked of every file before the first is written, so that files meant
    to go together (split's input files, a 確定版 and its PDF) are all written or none
    (safe_write asks again, at the write)."""
    for path in map(Path, paths):
        refuse_not_file(path)
        check_name_length(path)
        ensure_not_open(path)
        ensure_writable(path)


def path_mode(path: Path) -> int:
    """``path``'s st_mode, 0 where nothing is there. A folder on the way that this account
    may not look into is refused in Japanese, naming it: Path.is_dir and Path.exists raise
    PermissionError there (a share's folder whose rights staff set), which ended split,
    export or a server click as an unexpected error."""
    try:
        return os.stat(path).st_mode
    except PermissionError:
        raise UserError(f"フォルダー「{_unreadable_parent(path)}」の中を読めません（アクセス権がありません）。何も書き込んでいません。"
                        + _rights_remedy("フォルダーの権限を確かめるか、別の場所を指定してください",
                                         "このフォルダーの中を読める")) from None
    except (OSError, ValueError):      # not there, a name the file system refuses
        return 0


def _unreadable_parent(path: Path) -> Path:
    """The first folder on ``path``'s way that cannot be looked into (the one to name): the
    folder of the first name whose stat it refuses. Nothing is listed (a share's root may
    hold thousands of entries)."""
    path = Path(path)
    for step in [*reversed(path.parents), path]:
        try:
            os.stat(step)
        except PermissionError:
            return step.parent
        except OSError:
            break
    return path.parent


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


# A link (a symbolic link, a junction) of the folder's name whose target is gone: stat sees
# nothing there and mkdir finds the name taken, which was said as 「システムのエラー EEXIST」.
_LINK_TO_NOTHING = "同じ名前のリンク（ショートカット）があり、そのリンク先のフォルダーがありません"


def make_folder(folder: Path, what: str) -> None:
    """``folder`` made where it is missing, or a Japanese refusal naming it: a file of that
    name, no permission, a name too long (before anything else is written). A write point as
    atomic_path is: on the server a folder out of the click's folder is not made, even
    where every caller checked its own target first (parents are made too)."""
    check_confined(folder)
    made = not os.path.isdir(folder)     # False on any error: mkdir then says why, in Japanese
    try:
        _make_folders(folder)
    except OSError as exc:
        mode = path_mode(folder)
        if disk_full(exc) and not mode:      # not 「そのファイルの名前を変えるか」: there is no such file
            raise UserError(f"ディスクの空き容量が足りないため{what}のフォルダー「{folder}」を作れませんでした。"
                            f"{ORIGINAL_KEPT}。{_full_remedy()}。") from None
        a_file = bool(mode) and not stat.S_ISDIR(mode)
        # Refused for its rights or its place, it is the folder above (the nearest there) that
        # refused: named, with its remedy. 「このフォルダー」 beside the missing one's name sent
        # IT to look at rights of a folder that did not exist.
        above = _nearest_folder(folder) if exc.errno in _PLACE_CAUSES and not a_file else None
        why = ("同じ名前のファイルがあります" if a_file
               else _LINK_TO_NOTHING if not mode and os.path.islink(folder)
               else f"フォルダー「{shown_path(above)}」に{_reason(exc)}" if above is not None and exc.errno != errno.EROFS
               else _reason(exc))
        # 「そのファイル」 only where there is one: a folder refused for its rights or its place
        # (a read-only share) was told to rename a file that does not exist.
        if a_file:
            remedy = f"そのファイルの名前を変えるか、書き込める場所にしてから、もう一度{again()}ください"
        elif above is not None:
            remedy = _write_remedy(f"書き込める場所を指定してから、もう一度{again()}ください", shown_path(above), exc)
        else:       # not a right (a link to nothing, a file on the way): no rights to look at
            remedy = _remedy(f"書き込める場所にしてから、もう一度{again()}ください",
                             "IT 担当者に、このフォルダーの場所を確かめてもらってください")
        raise UserError(f"{what}のフォルダー「{shown_path(folder)}」を作れません（{why}）。{NOTHING_WRITTEN}。" + remedy) from None
    if made:
        _note_written(folder)


def _make_folders(folder: Path) -> None:
    """``folder`` and the folders missing above it made (mkdir -p), each inside the folder
    above it as opened and judged (judged_folder) where a confinement is set: checked by
    name and then made by name, a parent swapped for a link between the two had the server
    make an empty folder out of the work folder."""
    missing: list[str] = []
    there = Path(folder)
    while not os.path.isdir(there) and there.parent != there:
        missing.append(there.name)
        there = there.parent
    if not missing:
        return
    fd = judged_folder(there)
    if fd is None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return
    try:
        for name in reversed(missing):
            try:
                os.mkdir(name, dir_fd=fd)
            except FileExistsError:      # made meanwhile: a folder (not a link) is as good
                if not stat.S_ISDIR(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode):
                    raise
            made = os.open(name, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NO_LINK, dir_fd=fd)
            os.close(fd)
            fd = made
    finally:
        os.close(fd)


def _nearest_folder(path: Path) -> Optional[Path]:
    """The nearest folder above ``path`` that is there (where making ``path`` was refused)."""
    for parent in Path(path).parents:
        if stat.S_ISDIR(path_mode(parent)):
            return parent
    return None


LOCK_SUFFIX = ".renkei-lock"


def writer_lock_file(path: os.PathLike | str) -> Path:
    """The file the writers of ``path`` lock, beside it (a long name cut: see NAME_MAX)."""
    path = Path(os.path.realpath(path))   # two links to one master share one lock
    return path.with_name(f".{_fit(path.name, '.', LOCK_SUFFIX)}{LOCK_SUFFIX}")


@contextlib.contextmanager
def writer_lock(path: os.PathLike | str, timeout: float = WRITER_WAIT_SECONDS) -> Iterator[None]:
    """Held from reading the master to renaming the result over it; a second writer waits
    up to ``timeout`` seconds, then is refused with a message.

    The lock file goes when the writer is done, so none is left beside a master, nor
    beside a file that was refused (not a master, empty, an input file). It is removed
    only while its OS lock is still held, and every writer, once it holds a lock, checks
    that the name still leads to the file it locked (still_named) and otherwise locks the
    new one: a waiter that opened the old file before it was removed gets a file no name
    leads to, notices, and queues on the new file with everyone who came later, so two
    writers never hold "the" lock at once. Removing it after the release instead would
    race: another writer may have locked that file meanwhile, and a third would then
    create a new file and get in beside it.

    On Windows a file open in any process cannot be removed (Python opens files without
    FILE_SHARE_DELETE, the holder's own handle included), so there the removal fails
    quietly and the file stays, marked hidden (_hide) so Explorer does not show it. A
    version of the tool older than still_named would not see the removal; every version
    that removes the file checks it."""
    import time

    path = Path(path)
    check_name_length(path)
    lock_path = writer_lock_file(path)
    check_confined(lock_path)
    begun = time.monotonic()
    deadline = begun + timeout
    until = WAIT_UNTIL.get()
    if until is not None and until < deadline:
        deadline = until
    waits = _LOCK_WAITS.get()
    try:
        fd = _locked(path, lock_path, deadline, timeout, begun)
    finally:
        if waits is not None:
            waits.append(time.monotonic() - begun)
    try:
        if (check := WHILE_LOCKED.get()) is not None:
            check()         # after the wait, before the first write under the lock
        yield
    finally:
        try:
            # Removed while held (see above); a waiter that got the old file sees it
            # unnamed (still_named) and locks a new one instead. Only while its name still
            # leads to the file held, in the confinement: a folder swapped for a link since
            # (another region's 確定版) has another writer's lock file under that name.
            if still_named(fd, lock_path):
                remove_confined(lock_path)      # Windows: an open file cannot go
        finally:
            unlock(fd)
            os.close(fd)


def _locked(path: Path, lock_path: Path, deadline: float, timeout: float, begun: float) -> int:
    """The descriptor of ``path``'s lock file, its OS lock held, once had by ``deadline``
    (else a UserError); writer_lock says why a file no name leads to any more is left."""
    import time

    fd = -1
    try:
        while True:
            if fd >= 0:             # a writer that made nothing removed the file meanwhile: lock the new one
                unlock(fd)
                os.close(fd)
                fd = -1
                _lock_confined(path, lock_path)     # before a new file is made
            fd, created = _open_lock(path, lock_path)
            while not _try_lock_made(fd, lock_path, created):
                if time.monotonic() >= deadline:
                    raise UserError(_lock_busy(path, timeout, deadline - begun)) from None
                time.sleep(_POLL_SECONDS)
            _lock_confined(path, lock_path)         # again once it is had, after the wait
            if still_named(fd, lock_path):
                return fd
    except BaseException:
        if fd >= 0:
            os.close(fd)
        raise


def _lock_confined(path: Path, lock_path: Path) -> None:
    """Refuse a lock file the confinement no longer contains, checked again after a wait.
    Checked once, before the wait: a click waiting for a lock held elsewhere (the command
    line exporting) while someone on the share swapped its folder (確定版, the year's
    folder) for a link to another folder then made or opened the lock file there, locked
    it, and at its end removed that folder's lock file (another writer's, maybe in use)."""
    if not is_confined(lock_path):
        raise OutsideFolder(f"「{path.name}」の書き込み先がこのマスターのフォルダーの外です（書き込みを待つ間に、フォルダーが"
                            "別の場所へのリンクなどに置き換えられました）。書き込みは行っていません。IT 担当者に連絡してください")


def remove_confined(path: os.PathLike | str) -> bool:
    """``path`` removed when the confinement contains it (where one is set), quietly left
    otherwise or when it cannot go; whether it went. Every file the tool tidies away by a
    name it did not make now (a lock file, a stale temporary file, a backup rotated out) is
    removed here: a removal is a write, and a folder swapped for a link between a write and
    the tidying after it led the removal out of the click's folder. (A failed write's own
    temporary file goes by its name wherever it was written: atomic_path.)"""
    if not is_confined(path):
        return False
    try:
        folder = judged_folder(Path(path).parent)       # removed in the folder judged (make_folder's window)
    except (OSError, OutsideFolder):
        return False
    try:
        os.unlink(path if folder is None else Path(path).name, dir_fd=folder)
    except OSError:
        return False
    finally:
        if folder is not None:
            os.close(folder)
    return True


def _try_lock_made(fd: int, lock_path: Path, created: bool) -> bool:
    """try_lock, with the lock file this run ``created`` removed when the place refuses
    locks altogether (a share without them: try_lock's refusal). That refusal says
    「何も書き込んでいません」, and the empty hidden file just made beside the master stayed
    for good, in a folder staff open. Removed only then: nobody can hold a lock on a file
    where none can be had, so nobody is queued on it; a file that was there before is left
    (another run's). Not on a wait given up (another writer holds that very file)."""
    try:
        return try_lock(fd, lock_path)
    except UserError:
        if created and still_named(fd, lock_path):
            remove_confined(lock_path)
        raise


def _lock_busy(path: Path, timeout: float, waited: float) -> str:
    """Why a writer gave up on ``path``'s lock after ``waited`` seconds (its ``timeout``, or
    less where it had to answer by a time: WAIT_UNTIL)."""
    if waited >= timeout:
        return (f"「{path.name}」は別の renkei-xl の処理が書き込み中です（{timeout:g} 秒待ちました）。"
                f"その処理が終わってからもう一度{again()}ください。")
    return (f"「{path.name}」は別の renkei-xl の処理が書き込み中で、Excel がサーバーの答えを待てる時間のうちに"
            f"終わりませんでした（{max(waited, 0):.0f} 秒待ちました）。その処理が終わってから、もう一度ボタンを押してください。")


_NO_LINK = getattr(os, "O_NOFOLLOW", 0)


def _open_lock(path: Path, lock_path: Path) -> tuple[int, bool]:
    """The lock file opened, made if missing, and whether this call made it (only a file
    made here may be removed by a refusal that says nothing was written: _try_lock_made).
    Never with O_TRUNC: Windows refuses to truncate a hidden file, and the hidden
    attribute is what it gets there.

    One left by another account (a killed run's on POSIX; on Windows every run's, made
    through a share whose create mask gives others no write) is opened for reading: the
    lock needs no more (flock, and LockFile on Windows, take a read-only handle), and
    asking to write it refused every other account for good, blaming the folder.

    No link followed at its name (POSIX): writer_lock checked the name, and a link put there
    by someone on the share before this open had the server make (and lock) a file where it
    led, out of the click's folder."""
    created = True
    try:
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_EXCL | _NO_LINK, 0o666)
        except FileExistsError:
            created = False
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | _NO_LINK, 0o666)
    except OSError as exc:
        if _NO_LINK and exc.errno == errno.ELOOP:
            raise OutsideFolder(f"「{path.name}」の書き込み用の隠しファイル {lock_path.name} が、ほかの場所を指すリンクに"
                                "置き換えられています。何も書き込んでいません。IT 担当者に連絡してください") from None
        if isinstance(exc, PermissionError) and os.path.isfile(lock_path):
            try:
                fd = os.open(lock_path, os.O_RDONLY | _NO_LINK)
            except OSError as refused:
                raise UserError(f"「{path.name}」の書き込み用の隠しファイル {lock_path.name} を開けません"
                                f"（{system_reason(refused)}）。何も書き込んでいません。ほかの renkei-xl の処理が"
                                f"動いていないことを確かめてから {lock_path.name} を削除し、もう一度{again()}ください") from None
            if os.name == "nt":
                _hide(lock_path)
            return fd, False
        if exc.errno == errno.ENAMETOOLONG and name_too_long(path.name):
            raise UserError(name_too_long(path.name)) from None
        if disk_full(exc):     # not 「書き込みできるフォルダーに置いて」: the folder is fine, the disk is full
            raise _full_said(exc, f"「{path.name}」") from None
        # The folder the lock file goes in is named: for a folder's own lock (split's 配布用)
        # it is the folder above, and 「「配布用」のフォルダーに書き込めません」 named neither.
        made = f"「{path.name}」の書き込み用の隠しファイル {lock_path.name} を"
        if stat.S_ISDIR(path_mode(lock_path)):     # 「書き込めません（フォルダーです）」 said nothing staff could act on
            raise UserError(f"フォルダー「{lock_path.parent}」に、{made.removesuffix('を')}と同じ名前のフォルダーが"
                            "あるため、その隠しファイルを作れません。何も書き込んでいません。" + _remedy(
                                f"そのフォルダー {lock_path.name} の名前を変えるか削除してから、もう一度{again()}ください",
                                f"IT 担当者に、そのフォルダー {lock_path.name} を移すか削除してもらってください")) from None
        raise UserError(f"フォルダー「{lock_path.parent}」に{made}作れません（{_reason(exc)}）。何も書き込んでいません。"
                        + _write_remedy(f"書き込めるフォルダーに置いてから、もう一度{again()}ください", None, exc) + "。") from None
    if os.name == "nt":
        _hide(lock_path)
    return fd, created


_FILE_ATTRIBUTE_HIDDEN = 0x2
_FILE_ATTRIBUTE_NORMAL = 0x80          # valid only alone: dropped when another is set
_INVALID_FILE_ATTRIBUTES = 0xFFFFFFFF


def hide(path: Path) -> bool:
    """``path`` hidden from Explorer (Windows' hidden attribute, _hide); elsewhere its
    leading dot hides it already (and Samba's 「hide dot files」 hides it on the share)."""
    return os.name != "nt" or _hide(path)


def _hide(path: Path, kernel32=None) -> bool:
    """Give ``path`` Windows' hidden attribute (Explorer shows dot-files); whether it has
    it now. Windows only: ``kernel32`` is ctypes' there, a stand-in in the tests."""
    if kernel32 is None:
        import ctypes

        kernel32 = ctypes.windll.kernel32     # type: ignore[attr-defined]
    attrs = kernel32.GetFileAttributesW(str(path)) & 0xFFFFFFFF
    if attrs == _INVALID_FILE_ATTRIBUTES:
        return False
    if attrs & _FILE_ATTRIBUTE_HIDDEN:
        return True
    return bool(kernel32.SetFileAttributesW(str(path), (attrs & ~_FILE_ATTRIBUTE_NORMAL) | _FILE_ATTRIBUTE_HIDDEN))


def still_named(fd: int, lock_path: Path) -> bool:
    """Whether the file locked through ``fd`` is still the one named ``lock_path``."""
    try:
        named, held = os.stat(lock_path), os.fstat(fd)
    except OSError:
        return False
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


# --------------------------------------------------------------------- atomic writes

TEMP_PREFIX = ".~renkei-"
STALE_AFTER_SECONDS = 600


_TEMP_RANDOM = "0" * 12                # os.urandom(6).hex(), as _new_temp_file names them


def temp_prefix(target: Path) -> str:
    """Temporary files are named after their target, so a later run can tell its own (a
    long name cut so that prefix, random part and suffix stay within NAME_MAX)."""
    return f"{TEMP_PREFIX}{_fit(target.name, TEMP_PREFIX, '.', _TEMP_RANDOM, target.suffix)}."


def remove_stale_temps(target: os.PathLike | str) -> list[Path]:
    """Temporary files a killed run left in the folder ``target`` is written to and in the
    backup folders directly inside it (a run killed while it copied the backup left a
    master-sized file there), whatever file they were for: every write sweeps its folder as
    the server sweeps its folders before a click (remove_stale_temps_in, the one rule), so
    that a command line's write also removes what a killed rollover or split left for a
    target nobody writes again. Only files past the age limit: a live writer's stay, this
    target's (the caller holds its writer lock) and any other's."""
    given = Path(target)
    return remove_stale_temps_in(dict.fromkeys([given.parent, Path(os.path.realpath(given)).parent]))


def remove_stale_temps_in(folders: Iterable[Path]) -> list[Path]:
    """Temporary files a killed run left in ``folders`` and in the backup folders directly
    inside them, whatever file they were for (every write sweeps its own folder so:
    remove_stale_temps). A killed write may never be tried again: a rollover
    killed halfway (the server stopped, the machine restarted) left a master-sized
    「.~renkei-…_マスター.xlsm….xlsm」 beside the masters for good, shown by Explorer, once a
    second click had made the next master. Only files past the age limit (a live writer's stay)."""
    left = []
    for folder in folders:
        for entry in _entries(folder):
            if entry.name.startswith(TEMP_PREFIX):
                left.append(Path(entry.path))
            elif entry.name.endswith(BACKUP_FOLDER_SUFFIX) and entry.is_dir(follow_symlinks=False):
                left += [Path(e.path) for e in _entries(Path(entry.path)) if e.name.startswith(TEMP_PREFIX)]
    return _remove_stale(left)


def _entries(folder: Path) -> list:
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except OSError:
        return []


def _remove_stale(paths: Iterable[Path]) -> list[Path]:
    """The regular files of ``paths`` untouched for STALE_AFTER_SECONDS and no live write's
    (_still_written), removed. Untouched either way of the clock: one modified more than that
    ahead of the clock now was written before the clock stepped back (NTP correcting a server
    that ran ahead), and waited for the clock to catch up, a master-sized file a killed write
    a day, for as long as the clock had been ahead."""
    import time

    gone = []
    for p in paths:
        try:
            st = os.lstat(p)
            if (stat.S_ISREG(st.st_mode) and abs(time.time() - st.st_mtime) > STALE_AFTER_SECONDS
                    and not _still_written(p, st) and remove_confined(p)):
                gone.append(p)
        except OSError:
            pass
    return gone


def _hold_temp(fd: int) -> None:
    """A live write's temporary file marked as such for as long as it is written (POSIX: a
    lock on it, released when its descriptor closes, however the process ends). Age alone
    told a killed write's file from a live one, and age is read off the wall clock: the
    clock set forward by ten minutes (NTP correcting a server that booted with a wrong one)
    made every write in progress look killed, and the next click's sweep removed its file
    under it. Windows needs nothing: a file open in a process cannot be removed there."""
    import fcntl

    with contextlib.suppress(OSError):     # a share without locks: age decides, as before
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)


def _still_written(path: Path, seen: os.stat_result) -> bool:
    """Whether a write in progress holds ``path`` (_hold_temp), whatever its age says."""
    if os.name == "nt":
        return False
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) != (seen.st_dev, seen.st_ino):
            return True                         # renamed and made anew meanwhile: not the file judged
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _chosen() -> tuple[str, str]:
    """A folder staff chose, as a refusal of it names it and what they can do instead: made
    as it is said, since the run asked for again is said in the face's words (core.face.again:
    a constant said 「もう一度実行してください」 on the PC's buttons)."""
    return "フォルダー", f"書き込める別のフォルダーを指定してから、もう一度{again()}ください"


def _new_temp_file(folder: Path, prefix: str, suffix: str,
                   said: Optional[tuple[str, str]] = None) -> tuple[Path, int]:
    """An empty file of a new name in ``folder``, created exclusively (mode 0600), as
    ``tempfile.mkstemp`` makes it, with a descriptor holding it as a live write's
    (_hold_temp) until the caller closes it (-1 on Windows). Not tempfile itself: its
    import, with ``random``, is about 1.5 ms of every command and click, and this is the
    one thing used of it. ``said``: (what the folder is, what staff can do instead of
    giving it rights) for a folder that refuses, a folder staff chose by default."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        path = folder / f"{prefix}{os.urandom(6).hex()}{suffix}"
        try:
            fd = os.open(path, flags, 0o600)
        except FileExistsError:
            continue
        except OSError as exc:   # a folder one may not write, a name too long: nothing written yet
            if disk_full(exc):       # said by the caller as a full disk, naming its file (_disk_full_said)
                raise
            said = said or _chosen()
            raise UserError(f"{said[0]}「{folder}」に書き込めません（{_reason(exc)}）。何も書き込んでいません。"
                            + _write_remedy(said[1], None, exc)) from None
        if os.name == "nt":      # held open there, the file could not be renamed over the target
            os.close(fd)
            return path, -1
        _hold_temp(fd)
        return path, fd
    raise FileExistsError(errno.EEXIST, "no unused temporary name", str(folder))


def _default_mode() -> int:
    """Permission bits a plain new file would get (mkstemp would give 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_file(path: "Path | int") -> None:
    """The file's content made durable; ``path`` a path or a descriptor already open."""
    if isinstance(path, int):
        os.fsync(path)
        return
    with open(path, "rb+") as fh:
        fh.flush()
        os.fsync(fh.fileno())


def _keep_owner(tmp: "Path | int", old: os.stat_result) -> None:
    """The replaced file's owner and group, as far as this account may give them (POSIX).

    A new file belongs to whoever wrote it: on a share served from Linux, the master
    written by the server's account, or by a command run as root, lost the office's group
    (or owner), and with it the colleagues' right to save it, though its mode was kept.
    A user may give a file any group they belong to, not another owner: then the group
    alone, and where even that is refused, what the write made."""
    if os.name == "nt" or not hasattr(os, "chown"):
        return
    here = os.stat(tmp)         # a descriptor or a path
    if (here.st_uid, here.st_gid) == (old.st_uid, old.st_gid):
        return
    for uid in (old.st_uid, -1):
        try:
            os.chown(tmp, uid, old.st_gid)
            return
        except OSError:
            continue


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
def atomic_path(target: os.PathLike | str, *, check_lock: bool = True,
                read_as: Optional[os.stat_result] = None, what: str = "",
                folder_said: Optional[tuple[str, str]] = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on a clean exit it replaces ``target``.

    The temporary file sits in the same folder (same filesystem, so the rename is
    atomic) and has the same suffix (openpyxl and Excel decide the format by it). On
    any exception the target is untouched and the temporary file is removed.
    ``read_as``: the version of ``target`` the content was made from (ensure_unchanged),
    checked once more just before the rename, after the long part (writing) is done.
    ``what``: the file as a message names it (「…」 and the target's name when not given);
    ``folder_said``: its folder, as a refusal of it names it and what staff can do instead
    (_new_temp_file).
    """
    link = Path(target)
    check_confined(link)
    check_name_length(link)
    if check_lock:
        ensure_not_open(link)
    ensure_writable(link)
    # Through a symlink to its file: replacing the link itself would leave the real master
    # behind unchanged and the link turned into a plain copy.
    target = Path(os.path.realpath(link))
    if check_lock and target != link:
        ensure_not_open(target)
    with _disk_full_said(what or f"「{target.name}」"):
        # Made inside: a disk that the backup just filled refuses even an empty file's
        # entry (ext4, a quota counting files), and that is a full disk, not a folder
        # 「書き込めません … 何も書き込んでいません」 with a backup just written into it.
        tmp, held = _new_temp_file(target.parent, temp_prefix(target), target.suffix, folder_said)
        folder = None
        try:
            folder = _hold_folder(target.parent)
            yield tmp
            if check_lock:      # again: writing a large master takes seconds, in which Excel may open it
                ensure_not_open(link)
                ensure_not_open(target)
            _finish(tmp, target, read_as, folder)
        finally:
            # Renamed (gone), or not to be removed: a folder turned read-only while the file
            # was written (IT changing the share's rights). Raised here, that replaced the
            # write's own refusal by 「Permission denied」 (予期しないエラー on a button) and
            # skipped the closes below: two descriptors a click kept for the life of the
            # server, the one on the file holding it as a live write's, never swept. Left,
            # it is released, and a later write's sweep takes it (remove_stale_temps).
            with contextlib.suppress(OSError):
                tmp.unlink()
            if folder is not None:
                os.close(folder)
            if held >= 0:
                os.close(held)


@contextlib.contextmanager
def _disk_full_said(what: str) -> Iterator[None]:
    """A full disk or quota, or a file-size limit, in Japanese, wherever the write meets it:
    while the file is written, or only when it is flushed (a share reports a delayed write
    there). A size limit was an unexpected error, 「File too large」 in English."""
    try:
        yield
    except OSError as exc:
        if disk_full(exc):
            raise _full_said(exc, what) from None
        raise


def disk_full(exc: OSError) -> bool:
    """Whether the system refused for want of room: the disk, a quota, a file-size limit."""
    return exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def _full_said(exc: OSError, what: str) -> UserError:
    """A full disk or quota, or a file-size limit, in Japanese, naming ``what``."""
    if exc.errno == errno.EFBIG:     # a file-size limit of the volume (FAT32: 4 GB) or of the account
        return UserError(f"{what}が、この場所に書き込めるファイルの大きさの上限を超えたため、書き込めませんでした。"
                         "元のファイルは変更していません。IT 担当者に、この場所（またはこのアカウント）のファイルの"
                         "大きさの上限を確認してもらってください。")
    return UserError(f"ディスクの空き容量が足りないため{what}を書き込めませんでした。{ORIGINAL_KEPT}。{_full_remedy()}。")


def _hold_folder(folder: Path) -> Optional[int]:
    """The folder a write goes to, held open (POSIX) from the temporary file's making to the
    rename, so that the rename lands in the folder that was checked, whatever its name leads
    to by then; None where folders cannot be opened (Windows)."""
    if os.name == "nt":
        return None
    try:
        return os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return None


def _still_the_folder(folder: Optional[int], tmp: Path, target: Path) -> None:
    """Refuse the rename when the folder's name no longer leads to the folder held: while a
    button wrote (seconds, LibreOffice's recalculation), someone on the share replaced the
    folder (配布用, 確定版, the year's folder) by a link elsewhere. The writer then wrote the
    temporary file by its name through the link, and renaming it by its name would have put
    the result out of the click's folder (out of the work folder), the check at the start of
    the write long passed. Said in Japanese, naming the folder; the result is not kept."""
    if folder is None:
        return
    held = os.fstat(folder)
    try:
        now = os.stat(target.parent)
        same = (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino) and os.path.realpath(tmp.parent) == str(target.parent)
    except OSError:
        same = False
    if not same or not is_confined(target.parent):
        raise OutsideFolder(f"書き込みの途中で、書き込み先のフォルダー「{target.parent.name}」が別の場所（リンクなど）に"
                            f"置き換えられたか、移動されました。「{target.name}」は書き込んでいません。IT 担当者に連絡してください")


def _finish(tmp: Path, target: Path, read_as: Optional[os.stat_result], folder: Optional[int] = None) -> None:
    """The written temporary file made durable, given the target's mode, renamed over it.
    ``folder``: the target's folder held open (_hold_folder): the file is then checked, given
    its mode and owner through its own descriptor (never a link put in its name) and renamed
    inside that folder (_still_the_folder before and after)."""
    _still_the_folder(folder, tmp, target)
    if folder is None:
        if not tmp.exists() or tmp.stat().st_size == 0:
            raise RuntimeError(f"nothing was written to the temporary file for {target}")
        _fsync_file(tmp)
        _give_mode_and_owner(tmp, _stat_or_none(target))
        _keep_attributes(tmp, str(target))
    else:
        try:
            fd = os.open(tmp.name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0), dir_fd=folder)
        except OSError:
            raise RuntimeError(f"nothing was written to the temporary file for {target}") from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode) or os.fstat(fd).st_size == 0:
                raise RuntimeError(f"nothing was written to the temporary file for {target}")
            _fsync_file(fd)
            _give_mode_and_owner(fd, _stat_or_none(target.name, folder))
            _keep_attributes(fd, target.name, folder)
        finally:
            os.close(fd)
    ensure_unchanged(target, read_as)
    _still_the_folder(folder, tmp, target)
    try:
        if folder is None:
            os.replace(tmp, target)
        else:
            os.replace(tmp.name, target.name, src_dir_fd=folder, dst_dir_fd=folder)
    except OSError as exc:
        if disk_full(exc):
            raise           # said naming the file by the write around this (_disk_full_said)
        raise _replace_refused(exc, target) from exc
    if folder is None:
        _fsync_dir(target.parent)
    else:
        with contextlib.suppress(OSError):
            os.fsync(folder)
    _note_written(target)


def _replace_refused(exc: OSError, target: Path) -> UserError:
    """The rename over ``target`` refused, said by what refused it (refused_why,
    refused_remedy). A rename is the folder's business on POSIX: its rights, or a sticky
    folder (mode 1777, a shared drop folder) where a file of another account may be
    replaced only by that account, said so, since the file's own rights look fine there."""
    where = shown_path(target.parent)
    why = refused_why(exc)
    if not may_be_held(exc) and exc.errno in (errno.EACCES, errno.EPERM) and _sticky_for_us(target):
        why = (f"フォルダー「{where}」は、ほかのアカウントのファイルを置き換えられない設定（スティッキービット）で、"
               "このファイルはほかのアカウントのものです")
    remedy = refused_remedy(exc, f"フォルダー「{where}」のアクセス権（書き込めるか）を確かめるか、"
                                 f"書き込めるフォルダーに移してから、もう一度{again()}ください",
                            f"フォルダー「{where}」のこのファイルを置き換えられる")
    return UserError(f"「{target.name}」に書き込めません（{why}）。{ORIGINAL_KEPT}。{remedy}。")


def _sticky_for_us(target: Path) -> bool:
    """Whether ``target``'s folder is sticky and neither it nor the file is this account's
    (POSIX: Windows has neither the bit nor os.geteuid)."""
    if os.name == "nt":
        return False
    try:
        folder, file = os.stat(target.parent), os.lstat(target)
    except OSError:
        return False
    me = os.geteuid()
    return bool(folder.st_mode & stat.S_ISVTX) and me not in (folder.st_uid, file.st_uid)


def _stat_or_none(path: "Path | str", folder: Optional[int] = None) -> Optional[os.stat_result]:
    try:
        return os.stat(path, dir_fd=folder)
    except OSError:
        return None


def _give_mode_and_owner(tmp: "Path | int", old: Optional[os.stat_result]) -> None:
    """The replaced file's mode (or a new file's default) and owner; ``tmp`` a path or a
    descriptor."""
    mode = stat.S_IMODE(old.st_mode) if old is not None else _default_mode()
    if isinstance(tmp, int):
        os.fchmod(tmp, mode)
    else:
        os.chmod(tmp, mode)
    if old is not None:
        _keep_owner(tmp, old)


def _keep_attributes(tmp: "Path | int", name: str, folder: Optional[int] = None) -> None:
    """The replaced file's extended attributes, its access-control list among them (Linux),
    given to ``tmp`` after its mode and owner (an ACL set last is the one that holds).

    A share served from Linux keeps the rights IT gives a file beyond its mode there (a
    POSIX ACL: Samba maps the Windows permissions onto it, or keeps them beside it) and its
    DOS attributes: the new file had only the folder's defaults, so a colleague given the
    right to save the master by its ACL could no longer save it after the tool's first
    write. As far as this account may set them (security.* and trusted.* need privileges):
    the rest stays as the write made it. Read from the file now named (``name`` in the held
    ``folder``), not followed through a link."""
    if not hasattr(os, "listxattr"):
        return
    try:
        old = os.open(name, os.O_RDONLY | _NO_LINK | getattr(os, "O_NONBLOCK", 0), dir_fd=folder)
    except OSError:
        return
    try:
        for key in os.listxattr(old):
            with contextlib.suppress(OSError):
                os.setxattr(tmp, key, os.getxattr(old, key))
    except OSError:
        pass
    finally:
        os.close(old)


# How many files this process has replaced, and the last one: the command line's last guard
# (renkei_xl.cli) tells staff whether a file had already been written when an unexpected
# error came, instead of claiming nothing changed. A count, so a long-lived process keeps
# nothing that grows.
_replaced_count = 0
_last_replaced: Optional[Path] = None
_last_backed_up = False          # whether the last replaced file's old content went to a backup
# The members of a set of files one command writes together (replace_file's ``partners``: a
# 確定版, its PDF, its draft) not renamed into place yet. A Ctrl+C or kill between two renames
# leaves the new 確定版 beside the old PDF; the command line says so (unfinished_set).
_set_pending: tuple[Path, ...] = ()


# Everything written inside a ``noting_replaced`` block (one server click): every file the
# write point finished (a backup, a lock-free input file, a new master) and every folder
# made. The server's log line says how many, and a click stopped after writing tells staff
# (renkei_xl.server.app): what the log says was written is what the folder gained.
_REPLACED_HERE: ContextVar[Optional[list]] = ContextVar("renkei_replaced_here", default=None)


def _note_replaced(target: Path, backed_up: bool = False) -> None:
    global _replaced_count, _last_replaced, _last_backed_up, _set_pending
    _replaced_count += 1
    _last_replaced, _last_backed_up = target, backed_up
    _set_pending = tuple(p for p in _set_pending if p != target)


def unfinished_set() -> tuple[Path, ...]:
    """The members of the set being written (replace_file's ``partners``) still holding the
    previous version: a command stopped between two renames left its set half new, half old."""
    return _set_pending


def _note_written(path: Path) -> None:
    here = _REPLACED_HERE.get()
    if here is not None:
        here.append(Path(path))


@contextlib.contextmanager
def noting_replaced(into: list) -> Iterator[list]:
    """Every file written and folder made inside the block (in this context) is appended to ``into``."""
    token = _REPLACED_HERE.set(into)
    try:
        yield into
    finally:
        _REPLACED_HERE.reset(token)


def replaced() -> tuple[int, Optional[Path], bool]:
    """(files replaced so far by this process, the last of them, whether its old content
    went to a backup: a new file, or one written without a backup such as the 送信記録,
    has none, and 「前の内容はバックアップにあります」 sent staff looking for it)."""
    return _replaced_count, _last_replaced, _last_backed_up


def atomic_write(target: os.PathLike | str, write_fn: Callable[[Path], object], *,
                 check_lock: bool = True, read_as: Optional[os.stat_result] = None, what: str = "",
                 folder_said: Optional[tuple[str, str]] = None) -> Path:
    """Run ``write_fn(tmp_path)`` and rename the result over ``target``; returns ``target``."""
    with atomic_path(target, check_lock=check_lock, read_as=read_as, what=what, folder_said=folder_said) as tmp:
        write_fn(tmp)
    return Path(target)


# keep_backup=IF_CHANGED: the old file is backed up only when the new one differs from it.
IF_CHANGED = "if-changed"


def replace_file(target: os.PathLike | str, write_fn: Callable[[Path], object], *,
                 keep_backup: bool | str = True,
                 same: Optional[Callable[[Path, Path], bool]] = None,
                 read_as: Optional[os.stat_result] = None,
                 partners: Sequence[os.PathLike | str] = ()) -> Optional[Path]:
    """Refuse while Excel has ``target`` open, back the old file up, write the new one
    beside it and rename it over: the steps every write of the tool takes, in this order
    (a caller that reads first holds ``writer_lock`` around both). Returns the backup.

    ``keep_backup=IF_CHANGED`` is for files the tool hands out into a folder staff also save
    into (split's input files): a file there may be a municipality's filled-in return saved
    under the issued name, so what is replaced is kept unless it is byte for byte what is
    written now (the backup is then made after the new file is written, before the rename);
    ``same`` says what "the same" is for a file whose bytes carry the time it was made
    (the 確定版's document dates), byte for byte when not given. ``read_as``: the version
    of ``target`` the new content was made from (ensure_unchanged), checked before the
    backup and again before the rename.

    ``partners``: the files written after this one as a set with it (the 確定版's PDF and
    draft), each by its own write. When this one changes, every partner there is backed up
    too, before this one's rename: renamed one after the other, a kill between two renames
    left the new 確定版 beside the old PDF, and the run again found the 確定版 unchanged and
    replaced that PDF without a backup, though the 確定版 it went with had one. Until each
    partner is written, the set is said unfinished (unfinished_set)."""
    global _set_pending
    target = Path(target)
    partners = tuple(Path(p) for p in partners)
    refuse_not_file(target)
    check_name_length(target)
    ensure_not_open(target)
    ensure_writable(target)
    ensure_unchanged(target, read_as)
    if read_as is None:
        # What is replaced is what was there when the write began, the version the backup
        # holds: a save that landed while the new file was made (init --force builds a
        # master for seconds) was replaced, kept neither in the file nor in the backup.
        try:
            read_as = os.stat(target)
        except FileNotFoundError:
            read_as = ABSENT
        except OSError:
            pass
    if keep_backup == IF_CHANGED:
        with atomic_path(target, read_as=read_as) as tmp:
            write_fn(tmp)
            alike = target.is_file() and (same or _same_content)(tmp, target)
            saved = backup(target) if target.exists() and not alike else None
            _back_up_partners(partners, changed=not alike)
            _set_pending = partners or _set_pending
    else:
        saved = backup(target) if keep_backup and target.exists() else None
        _back_up_partners(partners, changed=bool(keep_backup))
        _set_pending = partners or _set_pending    # a partner's own write leaves the set as it is
        atomic_write(target, write_fn, read_as=read_as)
    _note_replaced(target, saved is not None)
    return saved


def _back_up_partners(partners: Sequence[Path], *, changed: bool) -> None:
    """Every partner there backed up when the file they go with changed (replace_file):
    each backup is taken before any of the set is renamed, so whatever stops the command
    between the renames, the previous set is whole in the backups (backup keeps no second
    copy of what the newest backup holds, so a run again adds none)."""
    if changed:
        for partner in partners:
            if partner.is_file():
                backup(partner)


def safe_write(target: os.PathLike | str, write_fn: Callable[[Path], object], *,
               keep_backup: bool | str = True, lock: bool = True,
               same: Optional[Callable[[Path, Path], bool]] = None,
               partners: Sequence[os.PathLike | str] = ()) -> Optional[Path]:
    """``replace_file`` as one writer at a time. ``lock=False`` for files the tool hands
    out (input files, drafts, PDFs): nothing reads them back, so a lock file beside each
    one would only be clutter in the folder staff open. Returns the backup, if any."""
    target = Path(target)
    check_confined(target)
    check_name_length(target)
    make_folder(target.parent, f"「{target.name}」の保存先")
    # A killed split or export left its half-written file in 配布用 or 確定版, the folders
    # staff attach files from: removed here as write_planned removes the master's.
    remove_stale_temps(target)
    if not lock:
        return replace_file(target, write_fn, keep_backup=keep_backup, same=same, partners=partners)
    with writer_lock(target):
        return replace_file(target, write_fn, keep_backup=keep_backup, same=same, partners=partners)


# --------------------------------------------------------------------------- backups

_STAMP = "%Y%m%d-%H%M%S"


def backup_folder(path: os.PathLike | str) -> Path:
    """``{stem}_バックアップ`` beside ``path`` (a long stem cut: see NAME_MAX)."""
    path = Path(path)
    return path.with_name(_fit(path.stem, BACKUP_FOLDER_SUFFIX) + BACKUP_FOLDER_SUFFIX)


def backup_stem(path: Path) -> str:
    """The stem every backup of ``path`` is named by: cut for the longest stamp, so all of
    them share it and sorting their names still sorts them by time."""
    return _fit(path.stem, LONGEST_STAMP, path.suffix)


def _backup_pattern(path: Path) -> re.Pattern:
    return re.compile(re.escape(backup_stem(path)) + r"_\d{8}-\d{6}(?:_\d{3})?" + re.escape(path.suffix) + r"\Z")


def list_backups(path: os.PathLike | str) -> list[Path]:
    """The backups of ``path``, oldest first (the names sort by time). Files only: a folder
    under a backup's name (a zip of one unpacked there) counted as a backup, the newest
    where its stamp was later, and the kept count held one real backup less for it."""
    path = Path(path)
    folder = backup_folder(path)
    if not stat.S_ISDIR(path_mode(folder)):
        return []
    pattern = _backup_pattern(path)
    try:
        with os.scandir(folder) as entries:
            names = [e.name for e in entries if pattern.match(e.name) and not e.is_dir()]
    except OSError as exc:
        # A backup folder the account may look through but not list (mode 0311, mode 000,
        # an ACL staff or IT set on the share): PermissionError ended recalc, collect or a
        # click as 「予期しないエラー」, though nothing had been written and the cause was a right.
        raise UserError(f"バックアップ用のフォルダー「{folder}」の中を読めません（{system_reason(exc)}）。"
                        "何も書き込んでいません。" + _rights_remedy(
                            f"フォルダーのアクセス権を確かめてから、もう一度{again()}ください",
                            "このフォルダーの中を読める")) from None
    return sorted(folder / name for name in names)


# Besides the newest KEEP_BACKUPS, the last backup of each of the KEEP_DAYS days before them
# that have one: 再計算 rewrites the master at every click (its time stamps), so ten clicks
# in an afternoon pushed out every backup of the days before, the state before last week's
# import included. Bounded all the same: at most KEEP_BACKUPS + KEEP_DAYS files.
KEEP_BACKUPS = 10
KEEP_DAYS = 30


def backup(path: os.PathLike | str, keep: int = KEEP_BACKUPS, days: int = KEEP_DAYS) -> Path:
    """Copy ``path`` into ``{stem}_バックアップ`` under a time-stamped name; keep the newest
    ``keep`` and the last of each of the ``days`` days before them (_rotated).

    Names are ``{stem}_YYYYMMDD-HHMMSS{suffix}``, then ``_001``, ``_002``… for further
    backups within the same second, so sorting the names sorts them by time.

    A file the newest backup already holds is not copied again (that backup is returned):
    a write that fails after its backup (a full disk, a save meanwhile, an error) and is
    tried again and again would otherwise fill the ``keep`` places with copies of one
    version and push out every older one.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"バックアップを作れません: 「{path}」が見つかりません。")
    folder = backup_folder(path)
    make_folder(folder, "バックアップ用")     # a file of that name: said before anything is written
    existing = list_backups(path)
    if existing and _same_content(path, existing[-1]):
        return existing[-1]
    candidate = folder / _backup_name(backup_stem(path), path.suffix, existing[-1].name if existing else "",
                                      lambda name: (folder / name).exists())
    # Its folder refusing is said as the backup folder, which no command names: staff give it
    # rights, or move the file to a folder they may write in (a new backup folder comes with it).
    atomic_write(candidate, lambda tmp: shutil.copyfile(path, tmp), check_lock=False,
                 what=f"「{path.name}」のバックアップ（フォルダー「{folder.name}」の「{candidate.name}」）",
                 folder_said=("バックアップ用のフォルダー",
                              f"「{path.name}」を書き込めるフォルダーに移してから、もう一度{again()}ください"))
    _keep_times(path, candidate)
    for old in _rotated(list_backups(path), keep, days):
        remove_confined(old)     # one staff made read-only (Windows) stays, extra
    return candidate


def _backup_name(stem: str, suffix: str, newest: str, taken: Callable[[str], bool]) -> str:
    """A new backup's name, after ``newest``: never sorting before an existing backup, even
    when the clock is behind it. From ``newest``'s own stamp then, not a second at a time:
    one backup stamped a year ahead (a PC on the share whose clock was wrong) made every
    later write of the master count 999 names per second up to it, hanging for days."""
    stamp, counter = clock.now().strftime(_STAMP), 0    # Japan time, as staff read the names (clock)
    name = f"{stem}_{stamp}{suffix}"
    if name < newest:
        ahead = re.search(r"_(\d{8}-\d{6})(?:_(\d{3}))?(?:\.[^.]*)?\Z", newest)
        stamp, counter = ahead.group(1), int(ahead.group(2) or 0)
    while name <= newest or taken(name):
        counter += 1
        if counter > 999:
            stamp = (_dt.datetime.strptime(stamp, _STAMP) + _dt.timedelta(seconds=1)).strftime(_STAMP)
            counter = 0
            name = f"{stem}_{stamp}{suffix}"
            continue
        name = f"{stem}_{stamp}_{counter:03d}{suffix}"
    return name


def _rotated(backups: list[Path], keep: int, days: int) -> list[Path]:
    """The backups (oldest first) to remove: all but the newest ``keep`` and, of the older
    ones, the last of each of the ``days`` latest days the newest do not reach into (a
    backup's day: ``_backup_day``). The newest ``keep`` by name are never removed."""
    split = max(len(backups) - keep, 0)
    day = _backup_day
    older, covered = backups[:split], {day(p) for p in backups[split:]}
    last_of_day = {day(p): p for p in older if day(p) not in covered}   # oldest first: each day's last wins
    kept = {last_of_day[d] for d in sorted(last_of_day)[-days:]} if days > 0 else set()
    return [p for p in older if p not in kept]


def _backup_day(p: Path) -> str:
    """The day (YYYYMMDD, Japan time) a backup counts for in the one-per-day retention: its
    name's, except for a name with a counter (``_001``…) on a file saved on an earlier day.
    Such names are what the clock behind the newest backup gives (``_backup_name``: the
    newest's stamp and a counter, until the clock catches up, possibly for weeks); their
    own day is the one their version was saved on (the backup keeps the file's times,
    ``_keep_times``). By the name alone, a month of them was one day, and retention kept
    the last of it: every backup before the newest ``keep``, each the only copy of a real
    earlier day, removed. A counter given within one real second changes nothing: the
    version it holds was saved within that second (the one before it was backed up then)."""
    found = re.search(r"_(\d{8})-\d{6}(?:_(\d{3}))?(?:\.[^.]*)?\Z", p.name)
    if not found:
        return p.name
    named = found.group(1)
    if found.group(2) is None:
        return named
    try:
        saved = clock.aware(os.stat(p).st_mtime).strftime("%Y%m%d")
    except (OSError, OverflowError, ValueError):
        return named
    return min(named, saved)


def _same_content(a: Path, b: Path) -> bool:
    """Byte for byte, read only when the sizes agree (a write that changed the master
    almost always changed its size: most backups cost a stat). Not filecmp: it keeps every
    answer in a module-level cache, which grows for as long as the server runs."""
    try:
        if os.stat(a).st_size != os.stat(b).st_size:
            return False
        with open(a, "rb") as fa, open(b, "rb") as fb:
            while True:
                chunk = fa.read(1 << 20)
                if chunk != fb.read(1 << 20):
                    return False
                if not chunk:
                    return True
    except OSError:
        return False


def _keep_times(source: Path, made: Path) -> None:
    """The backup takes ``source``'s times, not its mode (shutil.copy2 copies that too: a
    backup of a file marked read-only must not be read-only itself, or the temporary file
    could not be finished, and the backup could not be rotated away on Windows). Given once
    the backup has its name: a temporary file with the master's times looked as old as the
    master, and another click's sweep (remove_stale_temps_in) removed it while it was being
    finished. A time that cannot be set leaves the backup as written."""
    with contextlib.suppress(OSError):
        st = os.stat(source)
        os.utime(made, ns=(st.st_atime_ns, st.st_mtime_ns))

"""Where a request's files are: the master and 配布用, 回収, 確定版 beside it, in the folder
設定 names (サーバー作業フォルダー), inside the server's work folder and nowhere else.

Names come from the payload, so from whoever sent it: the folder in 設定 and the book's
name are taken as relative names, refused when absolute or climbing out (``..``), and the
resolved path (symlinks followed) must still be under the work folder. The folder must
exist: IT or staff create it on the share; a typo does not create folders on the server.
"""

from __future__ import annotations

import os
import re
import stat
from functools import lru_cache
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Optional

from ..core import contract as c
from ..core.errors import UserError
from ..core.filenames import path_chars
from ..vba.read import LARGEST_SHOWN, VbaProjectError, VbaProjectTooLarge, name_clashes, project_modules, replayable_actions, workbook_project

_SEPARATORS = re.compile(r"[\\/]+")
_FORBIDDEN = re.compile(r'[\x00-\x1f<>:"|?*]')


# A name staff chose (the book, a folder in 設定) in UTF-8 bytes: ext4 allows 255, and the
# tool adds up to ~35 beside it (backups' stamps, temporary and lock files).
MAX_NAME_BYTES = 200


class NameTooLong(UserError):
    """A name past MAX_NAME_BYTES: 422 on the server, before any file system call."""


# Windows' MAX_PATH less its NUL: Explorer and Excel on the staff's PCs open nothing past it
# on the share, nor does Python on a Windows server without long paths enabled; a folder
# past Linux's PATH_MAX (4,096 bytes) ended the click in 「予期しないエラー」.
MAX_PATH_CHARS = 259
# The longest the tool writes below a master's folder besides the master's backups:
# 配布用\ and a file name of core.filenames.DEFAULT_MAX_BYTES bytes (as many characters at most).
BELOW_FOLDER = 1 + 3 + 1 + 120


def path_problem(paths: list[str], below: int) -> str:
    """Why files ``below`` characters deeper than each of ``paths`` (the server's and the
    staff's name of one folder) cannot be written and opened, in Japanese; "" when they can."""
    longest = max(paths, key=path_chars)
    room = MAX_PATH_CHARS - below
    if path_chars(longest) <= room:
        return ""
    return (f"フォルダーまでのパスが長すぎます（{path_chars(longest)} 文字）。Windows で開けるパスは {MAX_PATH_CHARS} 文字"
            f"までで、この中に作るファイルの分を除くと、フォルダーまでは {max(room, 0)} 文字までです。"
            "フォルダー名（とマスターの名前）を短くしてください")


def _name_problem(name: str) -> str:
    from ..core.filenames import name_problem, visible

    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise NameTooLong(f"名前「{visible(name[:40])}…」が長すぎます（{len(name)} 文字）。もっと短い名前にしてください"
                          f"（日本語でおよそ {MAX_NAME_BYTES // 3} 文字まで）")
    return name_problem(name, max_bytes=MAX_NAME_BYTES)


def safe_book_name(name: object) -> str:
    """The book's name as a plain file name of a master, or a UserError saying why not."""
    if not isinstance(name, str) or not name.strip():
        raise UserError("送信されたブックの名前がありません")
    problem = _name_problem(name)
    if problem:
        from ..core.filenames import visible

        raise UserError(f"ブックの名前「{visible(name[:80])}」はファイル名として使えません（{problem}）")
    if c.not_a_book(name):
        raise UserError(c.not_a_book(name))
    return name


_LOOKED_AT = 10_000      # entries of a folder compared at most: a huge folder is not read whole


def _lookalike_note(path: Path) -> str:
    """A sentence naming the entry beside ``path`` that staff would read as its name (another
    width, case or composition of the same characters: the name typed in 設定 or Excel's
    and the one on disk look alike and are not the same), or ""."""
    from itertools import islice

    from ..core.filenames import lookalike_key, visible

    key = lookalike_key(path.name)
    try:
        with os.scandir(path.parent) as entries:
            near = next((e.name for e in islice(entries, _LOOKED_AT) if lookalike_key(e.name) == key), None)
    except OSError:
        return ""
    if near is None or near == path.name:
        return ""
    return (f"よく似た名前の「{visible(near)}」はあります（全角と半角、大文字と小文字、濁点の表し方などが違います）。"
            "名前をそろえてください。")


def replayable_of(path: Path) -> tuple[frozenset[str], dict[str, tuple[str, ...]]]:
    """What the saved master's VBA can replay, and the public names two of its modules
    declare (renkei_xl.vba.read): what a left-out action is to be put down to."""
    stat = path.stat()
    return _replayable(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _replayable(path: str, _mtime_ns: int, _size: int) -> tuple[frozenset[str], dict[str, tuple[str, ...]]]:
    """Cached per file version: the project is read once per save, not once per click."""
    try:
        return _project_replayable(workbook_project(path))
    except VbaProjectTooLarge:
        raise UserError(f"マスター「{Path(path).name}」のマクロ（VBA プロジェクト）は、展開すると {LARGEST_SHOWN} を超え、"
                        "大きすぎて読めません。IT 担当者に、職員が書いたマクロを減らしてもらってから、もう一度"
                        "ボタンを押してください") from None
    except VbaProjectError:
        from ..vba.missing import missing_macros, missing_said

        # LibreOffice's .ods round trip leaves a project with no module at all: saving it
        # again as .xlsm (what the sentence below asks) keeps it empty; upgrade-macros mends it.
        if (missing := missing_macros(Path(path))) and missing.modules:
            raise UserError(f"{missing_said(Path(path).name, missing)}（IT 担当者に依頼してください）") from None
        raise UserError(f"マスター「{Path(path).name}」のマクロ（VBA プロジェクト）を読めません。"
                        "マクロ有効ブック（.xlsm）として保存し直してから、もう一度ボタンを押してください") from None


@lru_cache(maxsize=16)
def _project_replayable(data: bytes) -> tuple[frozenset[str], dict[str, tuple[str, ...]]]:
    """What a project's VBA can replay, by the project's bytes: a save changes the file's
    version but seldom its macros (staff's edits of cells, a copy of the master in another
    folder), and reading the modules (MS-OVBA's decompression in Python, 50 ms) was about
    half of an admission's work once per file version. The project stored is unpacked from
    the package (1 ms) and its modules read only for a project not among the last few
    (functools keeps those bytes, a few hundred KB each, and is safe across the clicks'
    threads: at worst two threads read one new project both)."""
    modules = project_modules(data)
    return replayable_actions(modules), name_clashes(modules)


def protection_of(path: Path) -> tuple[frozenset[str], bool]:
    stat = path.stat()
    return _protection(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _protection(path: str, _mtime_ns: int, _size: int) -> tuple[frozenset[str], bool]:
    """(the saved master's sheets protected with a password, whether its structure is
    protected) (renkei_xl.package.protection), once per file version."""
    from ..package.protection import password_sheets, structure_locked
    from ..package.workbook import WorkbookXml
    from ..package.xml import PackageError
    from ..package.zipped import Package

    try:
        with Package(Path(path)) as pkg:
            workbook = WorkbookXml(pkg)
            return password_sheets(pkg, workbook), structure_locked(workbook)
    except (PackageError, OSError) as exc:
        from ..safety import refused_why

        # An OSError in the system's English (「[Errno 2] No such file or directory: '/srv/…'」,
        # the server's own path) inside the Japanese sentence: said in Japanese, by its errno.
        why = refused_why(exc, "読む") if isinstance(exc, OSError) else exc
        raise UserError(f"マスター「{Path(path).name}」を読めません（{why}）") from None


def master_key_of(path: Path) -> Optional[bytes]:
    """The key saved in the master at ``path`` (cycle.distribute.master_key_of_file), read
    once per version of the file. Why: admission checks every click's master identity
    against it, and opening the package and parsing its workbook.xml each time was a tenth
    of an 入力チェック's CPU on the server. A version is the file's device, inode, size,
    modification and change times: a save, a copy over it or a file renamed into its place
    changes one of them (the change time, set by the system, even when the modification time
    is set back), and is read again, inside the click's folder as before."""
    stat = path.stat()
    return _master_key(str(path), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


@lru_cache(maxsize=64)
def _master_key(path: str, *_version: int) -> Optional[bytes]:
    from ..cycle.distribute import master_key_of_file

    return master_key_of_file(Path(path))


def _signature(path: Path) -> tuple[int, int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


class Place:
    """One request's view of the work folder (buttons.REMOTE_PLACE holds it while the button runs)."""

    def __init__(self, workdir: Path, share: str = "", request_id: str = ""):
        self.workdir = Path(workdir).resolve()
        self.share = share.rstrip("\\/")
        self.request_id = request_id
        # The actions the clicking master's VBA can replay (renkei_xl.server.admission reads
        # them from the saved master before the button runs; None: every action).
        self.replayable: Optional[frozenset[str]] = None
        # The public names two of its standard modules declare (vba.read.name_clashes): then
        # what it cannot replay is down to them, not to the macros' age.
        self.clashes: dict[str, tuple[str, ...]] = {}
        # What admission read to hold a file-making button to the saved master: that
        # master's read (cycle.distribute.read_master_grids, for split) and the sent
        # workbook's data (for export). The button takes them rather than reading the same
        # again, about 0.55 s each at 2,000 × 40 (benchmarks/server.py --sizes).
        self._saved: Optional[tuple[tuple[int, int, int], Path, tuple]] = None
        self.sent_data = None
        # The folder 設定 names, its parts under the work folder as typed (links not followed):
        # where Excel must have opened the master from (admission._opened_here).
        self.parts: list[str] = []
        # The master admitted and the identity the click sent for it (admission.still_admitted
        # judges the master again under each writer lock of the click).
        self.admitted: Optional[tuple[Path, str]] = None

    def keep_saved_read(self, master: Path, saved_read: tuple) -> None:
        self._saved = (_signature(master), master, saved_read)

    def saved_read(self, master: Path) -> Optional[tuple]:
        """Admission's read of ``master``, while the file is still the one it read."""
        if self._saved is None:
            return None
        signature, path, read = self._saved
        return read if path == master and _signature(master) == signature else None

    # ------------------------------------------------------------ what buttons ask

    def master(self, live) -> Path:
        """The master's file: the book's name in the folder 設定 names."""
        folder = self.folder(live)
        path = folder / safe_book_name(live.book.name)
        from ..core.backup_names import LONGEST_STAMP
        from ..safety import backup_stem, backup_folder

        # In UTF-16 units, as path_problem counts the folder: a character past the BMP is two.
        backups = (1 + path_chars(backup_folder(path).name)
                   + 1 + path_chars(backup_stem(path) + LONGEST_STAMP + path.suffix))
        if problem := path_problem(self._names_of(list(folder.relative_to(self.workdir).parts)), backups):
            raise NameTooLong(f"マスター「{path.name}」のバックアップ: {problem}")
        if not self._is(path, stat.S_ISREG):
            raise UserError(f"マスター「{path.name}」がサーバー作業フォルダー「{self.shown(folder)}」にありません。"
                            f"{_lookalike_note(path)}"
                            "マスターをこのフォルダーに保存し、そこから開いてから、もう一度ボタンを押してください")

        # The master and its 配布用, 回収 and 確定版 are this folder's own: a link to another
        # master's folder, or out of the work folder, would read (and answer with) another
        # region's files (SPEC: only in the folder of the master that clicked).
        self._inside(path, f"{self.shown(folder)} の {path.name}", folder)
        for sub in (c.SPLIT_DIR, c.COLLECT_DIR, c.EXPORT_DIR):
            self._inside(folder / sub, f"{self.shown(folder)} の {sub}", folder)
        self._readable(path, folder)
        return path

    def folder(self, live) -> Path:
        from ..core.contract_read import Book, server_folder

        # The sheet the name points at, 設定 or another (staff may keep it elsewhere): given
        # 設定 alone, a name on another sheet was refused as pointing at a sheet that is not there.
        target = live.names.get(c.N_SERVER_FOLDER, (c.SETTINGS, ""))[0]
        sheets = {s: live.grid(s) for s in {c.SETTINGS, target} if s in live.sheetnames}
        value, where = server_folder(Book(sheets, live.names))
        if not where:
            # The buttons' client sends no name whose reference is broken (「設定!#REF!」 after
            # its row was deleted): here a missing name may be a broken one, so both are said.
            raise UserError(
                f"名前の定義「{c.N_SERVER_FOLDER}」がないか、参照先が壊れています（#REF! など。参照先の行や列を"
                "削除するとこうなります）。サーバーは、この名前のセルに書いたフォルダーでマスターを探すため、"
                "ボタンを実行できません。［数式］タブの［名前の管理］で"
                f"「{c.N_SERVER_FOLDER}」の参照先を、フォルダー名（例: 2023年度）を書いたセル（例: ={c.SETTINGS}!$B$6）"
                "に直すか、その名前を付け直して保存してください")
        if not value:
            raise UserError(
                f"「{c.N_SERVER_FOLDER}」のセル（{where}）が空です。"
                "ボタンがサーバーで動くときは、配布用・回収・確定版を置くフォルダーを、サーバーの作業フォルダー"
                f"{('（' + self.share + '）') if self.share else ''}の中のフォルダー名で書いてください（例: 2023年度）。"
                "マスターもそのフォルダーに保存します")
        return self.resolve(value, where)

    def resolve(self, value: str, where: str = "") -> Path:
        from ..core.filenames import as_windows_compares, visible

        text, value = value.strip(), visible(value)
        n = len(self.share)
        # The share as Windows matches its name: 「\\FS\RENKEI」 is it, 「\\fs\renKei」 with the
        # Kelvin sign (which str.lower made 「k」) is another share, not this work folder.
        if (self.share and as_windows_compares(text[:n]) == as_windows_compares(self.share)
                and text[n:n + 1] in ("", "\\", "/")):
            text = text[n:]     # the share itself, then a separator: 「\\fs\renkei2023年度」 is another share
        elif PureWindowsPath(text).anchor or PurePosixPath(text).is_absolute():
            raise UserError(f"{where}: 「{value}」はサーバーの作業フォルダーの外です。作業フォルダーの中のフォルダー名"
                            "（例: 2023年度）で書いてください")
        parts = [p for p in _SEPARATORS.split(text) if p not in ("", ".")]
        if not parts:       # the share or 「.」: the work folder itself holds no master
            raise UserError(f"{where}: 「{value}」はサーバーの作業フォルダーそのものです。その中のフォルダー名"
                            "（例: 2023年度）で書いてください")
        if problem := next((q for q in map(_name_problem, (p for p in parts if p != "..")) if q), ""):
            raise UserError(f"{where}: 「{value}」はフォルダー名として使えません（{problem}）")
        if any(p == ".." or _FORBIDDEN.search(p) for p in parts):
            raise UserError(f"{where}: 「{value}」はフォルダー名として使えません（「..」や記号を含みます）")
        if problem := path_problem(self._names_of(parts), BELOW_FOLDER):
            raise NameTooLong(f"{where}: {problem}")
        self.parts = parts
        path = self._inside(self.workdir.joinpath(*parts), value)
        if not self._is(path, stat.S_ISDIR) and not self._is(self.workdir, stat.S_ISDIR):
            # The work folder itself gone while serving (renamed, deleted, its share
            # unmounted): staff were told to create their year's folder, which they cannot
            # do where the server looks, nor is it theirs to fix.
            raise UserError(f"サーバーの作業フォルダー「{self.shown(self.workdir)}」が見つかりません（サーバーが起動した後で"
                            "移動・削除されたか、共有フォルダーへの接続が切れています）。ボタンは何もしていません。"
                            "IT 担当者に連絡してください")
        if not self._is(path, stat.S_ISDIR):
            missing = next((self.workdir.joinpath(*parts[:n]) for n in range(1, len(parts) + 1)
                            if not self._is(self.workdir.joinpath(*parts[:n]), stat.S_ISDIR)), path)
            raise UserError(f"サーバー作業フォルダー「{self.shown(path)}」がありません。{_lookalike_note(missing)}"
                            f"フォルダーを作成するか、{where} の名前を確かめてください")
        return path

    def _names_of(self, parts: list[str]) -> list[str]:
        """The server's and the staff's name of the folder ``parts`` under the work folder."""
        names = [str(self.workdir.joinpath(*parts))]
        if self.share:
            names.append("\\".join([self.share, *parts]))
        return names

    def shown(self, path: Path) -> str:
        """A path as staff find it: under the share name when the server has one."""
        try:
            rel = Path(path).resolve().relative_to(self.workdir)
        except ValueError:
            return str(path)
        if not self.share:
            return str(self.workdir.joinpath(rel))
        sep = "\\" if self.share.startswith("\\\\") or re.match(r"[A-Za-z]:", self.share) else "/"
        return sep.join([self.share, *rel.parts])

    def command_path(self, path: Path) -> str:
        """A path as a command IT runs in the work folder names it: from there, with 「/」,
        which Python takes on a Windows server as on Linux (cycle.rollover.BY_IT). A path out
        of the work folder is said as staff find it."""
        try:
            return Path(path).resolve().relative_to(self.workdir).as_posix()
        except ValueError:
            return self.shown(path)

    def shown_text(self, text: str) -> str:
        """A message with every server path under the work folder written as the share
        names it (a message from deep inside may quote a full path)."""
        root = str(self.workdir)
        pattern = re.escape(root) + r"(?:[\\/][^\\/「」（）()\s、。]+)*"
        return re.sub(pattern, lambda m: self.shown(Path(m.group(0))), text)

    # ------------------------------------------------------------------ helpers

    def _is(self, path: Path, kind) -> bool:
        """Whether ``path`` is there as ``kind`` (stat.S_ISDIR, S_ISREG); a folder the service's
        account may not look into is said so in Japanese (Path.is_file raised PermissionError
        out of the click: 「予期しないエラー」)."""
        try:
            return kind(os.stat(path).st_mode)
        except PermissionError:
            raise UserError(f"サーバー作業フォルダー「{self.shown(path.parent)}」の中を、サーバーのアカウントが読めません"
                            "（アクセス権がありません）。IT 担当者に、このフォルダーの権限を確かめてもらってください") from None
        except OSError:          # not there, or a name the file system refuses
            return False

    def _readable(self, master: Path, folder: Path) -> None:
        """``master`` opened once for reading, or refused in Japanese: a master the service's
        account may not read (saved by staff with rights of their own, a Windows ACL, a file
        another program holds without sharing) failed in the first read of admission, a
        PermissionError out of the click: 「予期しないエラー」 on every button, and the cause
        only in the error log."""
        try:
            with open(master, "rb"):
                pass
        except OSError as exc:
            from ..safety import refused_why

            # 「ほかのプログラムが使用中」 only where a program can hold a file so (Windows):
            # on a Linux server it sent IT looking for a program that was not there.
            why = refused_why(exc, "読む")
            raise UserError(f"マスター「{master.name}」を、サーバーのアカウントが読めません（{why}）。ブックは変更して"
                            f"いません。IT 担当者に、サーバー作業フォルダー「{self.shown(folder)}」のこのファイルの権限を"
                            "確かめてもらってください") from None

    def _inside(self, path: Path, shown: str, root: Optional[Path] = None) -> Path:
        """``path`` resolved (links followed), refused unless it lies under ``root`` (the
        work folder when not given)."""
        root = self.workdir if root is None else root.resolve()
        resolved = path.resolve()
        if resolved != root and root not in resolved.parents:
            where = "サーバーの作業フォルダー" if root == self.workdir else "このマスターのフォルダー"
            raise UserError(f"「{shown}」は{where}の外を指しています。IT 担当者に確認してください")
        return resolved

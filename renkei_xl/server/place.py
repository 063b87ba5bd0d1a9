"""Where a request's files are: the master and 配布用, 回収, 確定版 beside it, in the folder
設定 names (サーバー作業フォルダー), inside the server's work folder and nowhere else.

Names come from the payload, so from whoever sent it: the folder in 設定 and the book's
name are taken as relative names, refused when absolute or climbing out (``..``), and the
resolved path (symlinks followed) must still be under the work folder. The folder must
exist: IT or staff create it on the share; a typo does not create folders on the server.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from functools import lru_cache
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Optional

from ..core import contract as c
from ..core.errors import UserError
from ..vba.read import VbaProjectError, replayable_actions, workbook_modules

log = logging.getLogger("renkei_xl.server")

_SEPARATORS = re.compile(r"[\\/]+")
_FORBIDDEN = re.compile(r'[\x00-\x1f<>:"|?*]')


def safe_book_name(name: object) -> str:
    """The book's name as a plain file name of a master, or a UserError saying why not."""
    if not isinstance(name, str) or not name.strip():
        raise UserError("送信されたブックの名前がありません")
    if _SEPARATORS.search(name) or name.strip() in (".", "..") or _FORBIDDEN.search(name):
        raise UserError(f"ブックの名前「{name[:80]}」はファイル名として使えません（フォルダーの区切りや記号を含みます）")
    if c.suffix_problem(name):
        raise UserError(c.suffix_problem(name))
    return name


def replayable_of(path: Path) -> frozenset[str]:
    stat = path.stat()
    return _replayable(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _replayable(path: str, _mtime_ns: int, _size: int) -> frozenset[str]:
    """Cached per file version: the project is read once per save, not once per click."""
    try:
        return replayable_actions(workbook_modules(path))
    except VbaProjectError:
        raise UserError(f"マスター「{Path(path).name}」のマクロ（VBA プロジェクト）を読めません。"
                        "マクロ有効ブック（.xlsm）として保存し直してから、もう一度ボタンを押してください") from None


class Place:
    """One request's view of the work folder (buttons.REMOTE_PLACE holds it while the button runs)."""

    def __init__(self, workdir: Path, share: str = "", request_id: str = ""):
        self.workdir = Path(workdir).resolve()
        self.share = share.rstrip("\\/")
        self.request_id = request_id
        # The actions the clicking master's VBA can replay (None until read: a click that
        # stopped before reading it answers with only its message, which every client shows).
        self.replayable: Optional[frozenset[str]] = None

    def read_client(self, live) -> None:
        """What the master that clicked can replay, from its saved VBA project in its folder.

        The payload says nothing of the client's Subs, and a VBA client cannot list them
        without the trust setting staff do not have; the saved master is the same file."""
        path = self.master(live)
        self.replayable = replayable_of(path)

    # ------------------------------------------------------------ what buttons ask

    def master(self, live) -> Path:
        """The master's file: the book's name in the folder 設定 names."""
        folder = self.folder(live)
        path = folder / safe_book_name(live.book.name)
        if not path.is_file():
            raise UserError(f"マスター「{path.name}」がサーバー作業フォルダー「{self.shown(folder)}」にありません。"
                            "マスターをこのフォルダーに保存し、そこから開いてから、もう一度ボタンを押してください")
        from ..excel.buttons import COLLECT_DIR, EXPORT_DIR, SPLIT_DIR

        for sub in (SPLIT_DIR, COLLECT_DIR, EXPORT_DIR):
            self._inside(folder / sub, f"{self.shown(folder)} の {sub}")
        return path

    def folder(self, live) -> Path:
        from ..core.contract_read import Book, server_folder

        sheets = {c.SETTINGS: live.grid(c.SETTINGS)} if c.SETTINGS in live.sheetnames else {}
        value, where = server_folder(Book(sheets, live.names))
        if not value:
            raise UserError(
                f"シート「{c.SETTINGS}」の「{c.N_SERVER_FOLDER}」{('（' + where + '）') if where else ''}が空です。"
                "ボタンがサーバーで動くときは、配布用・回収・確定版を置くフォルダーを、サーバーの作業フォルダー"
                f"{('（' + self.share + '）') if self.share else ''}の中のフォルダー名で書いてください（例: 2023年度）。"
                "マスターもそのフォルダーに保存します")
        return self.resolve(value, where)

    def resolve(self, value: str, where: str = "") -> Path:
        text = value.strip()
        if self.share and text.lower().startswith(self.share.lower()):
            text = text[len(self.share):]
        elif PureWindowsPath(text).anchor or PurePosixPath(text).is_absolute():
            raise UserError(f"{where}: 「{value}」はサーバーの作業フォルダーの外です。作業フォルダーの中のフォルダー名"
                            "（例: 2023年度）で書いてください")
        parts = [p for p in _SEPARATORS.split(text) if p not in ("", ".")]
        if not parts or any(p == ".." or _FORBIDDEN.search(p) for p in parts):
            raise UserError(f"{where}: 「{value}」はフォルダー名として使えません（「..」や記号を含みます）")
        path = self._inside(self.workdir.joinpath(*parts), value)
        if not path.is_dir():
            raise UserError(f"サーバー作業フォルダー「{self.shown(path)}」がありません。フォルダーを作成するか、"
                            f"{where} の名前を確かめてください")
        return path

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

    def log_error(self, title: str) -> str:
        """An unexpected error: its type and where in the code, never its message or values
        (they may quote the workbook); the staff get the request number to give IT."""
        exc_type, exc, tb = sys.exc_info()
        frames = "; ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in traceback.extract_tb(tb))
        log.error("request=%s button=%s unexpected %s at %s", self.request_id, title,
                  exc_type.__name__ if exc_type else "?", frames)
        return f"サーバーの記録（受付番号 {self.request_id}）"

    # ------------------------------------------------------------------ helpers

    def _inside(self, path: Path, shown: str) -> Path:
        resolved = path.resolve()
        if resolved != self.workdir and self.workdir not in resolved.parents:
            raise UserError(f"「{shown}」はサーバーの作業フォルダーの外を指しています。IT 担当者に確認してください")
        return resolved

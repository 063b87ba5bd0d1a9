"""Before a button runs: which folder it may touch, whether the workbook sent is the master
saved there (as it is saved, for the buttons that make files from it), and what that
master's VBA can replay.

One folder, one master. Anyone with the server's key can type any folder into 設定's
サーバー作業フォルダー, so the folder's name proves nothing. The master does: its hidden
key (core.seal.master_key, the one that seals returns) never leaves it, and an
identity derived from it (core.seal.master_id) is sent by RenkeiServer.bas with each
click (X-Renkei-Master). The server derives the same from the master *saved in that
folder* (workbook.xml only) and refuses when they differ: a click reaches only the folder
of the master it came from.

One rule for unsaved edits (README「保存していない変更」): what a button writes into a
file comes from the saved master; what it writes into the open workbook comes from the
open workbook. So 配布用ファイル作成, 確定版を書き出し and 次年度のマスターを作成 are refused
while the data the tool reads (設定, 指標, the municipality sheets, as read by the one
contract reader) differs between the workbook sent and the file saved, naming the sheets
and the step for the reason it differs (edits not saved, or a newer save by someone else:
renkei_xl.core.unsaved);
入力チェック, 評価を再計算 and 回収ファイル取込 change only the open workbook and take it as it is;
the looks they take from the saved master (excel.remote.SavedFills) are followed to where
staff moved the rows and columns since the save (core.saved_places), and a click that would
write where they cannot be followed is refused with the step for the book's state.
"""

from __future__ import annotations

import hmac
import os
import re
from pathlib import Path
from typing import Optional

from ..core import contract as c
from ..core.errors import UserError
from ..core.unsaved import BookState, differing_sheets, steps
from ..safety import confined
from .place import Place, protection_of, replayable_of
from .refusals import Refusal

MASTER_HEADER = "x-renkei-master"     # core.seal.master_id of the master clicked
PLACE_HEADER = "x-renkei-place"       # Workbook.FullName as UTF-16 hex (RenkeiServer.bas, client 6 on)
SAVED_BUTTONS = frozenset(caption for caption, _macro, _what in c.BUTTONS) - c.BOOK_WRITERS
_ID = re.compile(r"[0-9a-f]{32}")


def admit(place: Place, caption: str, payload: dict, sent_id: str, state: BookState = BookState(),
          opened: Optional[str] = None) -> Path:
    """The folder this click may write in (the master's own), or a Refusal.

    Every button is admitted this way, 入力チェック and 評価を再計算 too: besides the folder,
    the saved master tells what its VBA can replay (place.replayable, renkei_xl.vba.read),
    and only the master's own file can say that (renkei_xl.excel.client). It also says which
    sheets are protected with a password, which the clients cannot lift, and whether the
    structure is protected, which refuses a sheet added: the payload carries both
    (PASSWORD_SHEETS_KEY, STRUCTURE_KEY), and a click that would meet either is refused
    before anything is written (renkei_xl.excel.remote). A refusal names server paths as the
    share does, whatever reason it quotes (a master moved on the share while the click was
    admitted was named by its path on the server). ``opened``: where Excel opened the book
    from (PLACE_HEADER, decoded; None when the client did not say: masters before client 6)."""
    try:
        return _admit(place, caption, payload, sent_id, state, opened)
    except Refusal as refusal:
        refusal.text = place.shown_text(refusal.text)
        raise


def _admit(place: Place, caption: str, payload: dict, sent_id: str, state: BookState,
           opened: Optional[str] = None) -> Path:
    with remote_book(payload) as live:
        try:
            master = place.master(live)
        except UserError as exc:
            raise Refusal(422, f"{c.stopped(caption)}\n\n{exc}。", "フォルダーの誤り") from None
        # Its reads judged as opened, as the click's are (safety.open_confined), against the
        # folder place.master resolved: it may be a link to another region's by the time of a read.
        with confined(master.parent, checked=True):
            _same_master(place, master, sent_id)
            place.admitted = (master, sent_id.strip().lower())
            _opened_here(place, master, opened)
            if said := live.year_name_refusal(master.name):   # every output carries the year
                raise Refusal(422, f"{c.stopped(caption)}\n\n{said}。", "年度の食い違い")
            if caption in SAVED_BUTTONS:
                live.knows_saved(str(master))     # read as the click reads it (excel.remote)
                _saved(place, caption, master, live, state)
            try:
                place.replayable, place.clashes = replayable_of(master)
                locked, structure = protection_of(master)
            except UserError as exc:
                raise Refusal(422, f"{c.stopped(caption)}\n\n{exc}。", "マスターを読めない") from None
    from ..excel.book import BOOK_STATE_KEY, PASSWORD_SHEETS_KEY, SAVED_MASTER_KEY, STRUCTURE_KEY

    payload[SAVED_MASTER_KEY] = str(master)     # fills, merges, arrays, Text formats (excel.remote.SavedFills)
    # The step, where the open book's layout is not the saved one; and a read-only book's rule
    # for the buttons that write into it (core.unsaved.read_only_click, applied by excel.buttons._run)
    payload[BOOK_STATE_KEY] = list(state)
    if locked or structure:
        payload[PASSWORD_SHEETS_KEY], payload[STRUCTURE_KEY] = sorted(locked), structure
    return master.parent


def _same_master(place: Place, master: Path, sent_id: str) -> None:
    from ..core.seal import master_id
    from .place import master_key_of

    shown = place.shown(master.parent)
    try:
        key = master_key_of(master)
    except UserError as exc:
        raise Refusal(422, f"サーバー作業フォルダー「{shown}」のマスターを読めません。{exc}。", "マスターを読めない") from None
    if key is None:
        raise Refusal(409, (f"サーバー作業フォルダー「{shown}」のマスターには照合用の鍵がありません（鍵のない古い版で"
                            "作ったマスターです）。IT 担当者にマクロの更新（upgrade-macros）を依頼し、更新したマスターを"
                            "開いてからもう一度ボタンを押してください。"), "鍵のないマスター")
    sent = sent_id.strip().lower()
    if not _ID.fullmatch(sent):
        raise Refusal(403, ("このマスターのマクロは、サーバーにマスターを知らせない古い版です。IT 担当者にマクロの更新"
                            "（upgrade-macros）を依頼し、更新したマスターを開いてからもう一度ボタンを押してください。"),
                      "マスター不明")
    if not hmac.compare_digest(sent.encode("ascii"), master_id(key).encode("ascii")):
        raise Refusal(403, (f"このブックは、サーバー作業フォルダー「{shown}」に保存されているマスターではありません。"
                            f"ボタンは、そのフォルダーに保存したマスター自身を開いて押してください。別のフォルダーを使う"
                            f"ときは、シート「{c.SETTINGS}」の「{c.N_SERVER_FOLDER}」を、このマスターを保存したフォルダー"
                            "にしてください。"), "別のマスター")


def still_admitted(place: Place) -> None:
    """Refused (UserError) unless the master in the click's folder is still the one admitted,
    judged by its key as admission judged it: run under each writer lock of the click
    (safety.checked_while_locked), after the wait for it, before anything is written under it.
    確定版を書き出し, 配布用ファイル作成 and 次年度のマスターを作成 write beside the master, from the
    workbook as admitted; a click waiting for a lock held elsewhere (the command line's export,
    another worker's click) while someone on the share put another master in its place
    (another region's, a rolled-over one) wrote one master's 確定版 or input files beside
    another, or the next year of a master it never clicked."""
    if place.admitted is None:
        return
    from ..core.seal import master_id
    from .place import master_key_of

    master, sent = place.admitted
    try:
        key = master_key_of(master)
    except (UserError, OSError):
        key = None
    if key is not None and hmac.compare_digest(sent.encode("ascii"), master_id(key).encode("ascii")):
        return
    what = ("別のマスター（押したブックとは鍵の違うマスター）に置き換えられました" if os.path.lexists(master)
            else "移動または削除されました")
    raise UserError(f"ボタンを押した後、書き込む前に、サーバー作業フォルダー「{place.shown(master.parent)}」のマスター"
                    f"「{master.name}」が{what}。ファイルは何も書き込んでいません。フォルダーのマスターを確かめてから、"
                    "そこに保存したマスターを開いて、もう一度ボタンを押してください")


def _opened_here(place: Place, master: Path, opened: Optional[str]) -> None:
    """Refused unless Excel opened the book from the folder 設定 names. The identity alone
    cannot tell a master from a copy of its file: Explorer's copy of a year's folder
    (「2023年度 - コピー」), a folder copied for practice, keeps the master's name and key,
    so a click from the copy (設定 still naming 2023年度) wrote 2023年度's 配布用, and the
    original with 設定 changed to the copy's folder, unsaved, wrote the copy's 確定版, against
    「設定を書き換えて別のフォルダーのファイルを読み書きすることはできません」 (docs/staff-setup.md).

    Judged from the end of the path, as far as it goes below its root (a drive, a share, a
    Mac's mount, a URL's host): the folder's parts as 設定 names them, then the book. Staff
    reach the work folder by the share's name, a drive letter or a synced URL, which the
    server cannot know, and a drive or a share may stand for the year's folder itself
    (Z: mapped to \\\\fs\\renkei\\2023年度: 「Z:\\マスター.xlsm」 is served). Each name is
    matched as Windows matches it (core.filenames.as_windows_compares): case and a Mac's
    decomposed 濁点 do not count; width, 「ß」 against 「SS」 and the like do."""
    if opened is None:
        return
    from ..core.filenames import as_windows_compares, visible

    below = _below_root(opened)
    want = [*place.parts, master.name]
    k = min(len(below), len(want))
    if k and list(map(as_windows_compares, below[-k:])) == list(map(as_windows_compares, want[-k:])):
        return
    where = re.split(r"[\\/]+(?=[^\\/]*$)", opened)[0] if re.search(r"[\\/]", opened) else ""
    raise Refusal(403, (f"このブックは{f'「{visible(where)}」から' if where else '保存されていない状態で'}開かれていますが、"
                        f"シート「{c.SETTINGS}」の「{c.N_SERVER_FOLDER}」は「{place.shown(master.parent)}」です。"
                        "マスターのコピーから押すと、ほかのフォルダーのファイルを読み書きしてしまうため、ボタンを実行しませんでした。"
                        "ブックは変更していません。サーバー作業フォルダーに保存したマスターを開いて押すか、このブックを使うときは"
                        f"「{c.N_SERVER_FOLDER}」をこのブックのあるフォルダーにして保存してください。"), "別の場所のブック")


def _below_root(path: str) -> list[str]:
    """The names of ``path`` (Workbook.FullName) below its root: a drive (「Z:」), a share
    (「\\\\fs\\renkei」), a Mac's mount (「/Volumes/renkei」), a URL's host (OneDrive,
    SharePoint: its names unquoted)."""
    from urllib.parse import unquote

    if re.match(r"https?://", path, re.IGNORECASE):
        return [unquote(p) for p in re.split(r"/+", path.split("://", 1)[1]) if p][1:]
    parts = [p for p in re.split(r"[\\/]+", path) if p]
    if parts and re.fullmatch(r"[A-Za-z]:", parts[0]):
        return parts[1:]
    if path.startswith(("\\\\", "//")) or path.startswith("/Volumes/"):
        return parts[2:]
    return parts


def _saved(place: Place, caption: str, master: Path, live, state: BookState) -> None:
    """Refused unless the workbook sent reads as the saved master. What the button reads
    next is kept for it (renkei_xl.server.place): split lays out the saved master's sheets, so
    its read is made with the grids; export takes the sent data. Rollover writes from a
    read of its own (the package too), so nothing is held for it. ``state``: what the
    client said of the open book, which decides the step staff are given (core.unsaved)."""
    from ..cycle.distribute import read_master_grids
    from ..workbook.session import load_master

    try:
        # The name judged against the year sent (_admit): a 設定 mended and not saved is said
        # to differ from the saved master, not refused as a master named for another year.
        saved_read = read_master_grids(master, as_named=False) if caption == c.SPLIT else None
        saved = saved_read[0] if saved_read is not None else load_master(master, as_named=False)
    except UserError as exc:
        raise Refusal(422, f"保存されているマスター「{place.shown(master)}」を読めません。{exc}。", "マスターを読めない") from None
    try:
        sent = live.read()
    except UserError as exc:   # the saved master reads: the open book's own content is wrong
        step, outcome = steps(state, "直して")
        raise Refusal(422, (f"{c.named(caption)}は、保存されているマスターから作ります。開いているブックには、保存されている"
                            f"マスターにない誤りがあります（{exc}）。ブックは変更していません。\n"
                            f"{step}"), outcome) from None
    differ = differing_sheets(saved, sent)
    if differ is not None:
        step, outcome = steps(state)
        raise Refusal(409, (f"{c.named(caption)}は、保存されているマスターから作ります。開いているブックの"
                            f"{differ}が、"
                            f"保存されているマスター「{place.shown(master)}」と違います。ブックは変更していません。\n"
                            f"{step}"), outcome)
    if saved_read is not None:
        place.keep_saved_read(master, saved_read)
    elif caption == c.EXPORT:
        place.sent_data = sent


class remote_book:
    """The payload as a LiveBook of xlwings' remote engine, closed afterwards."""

    def __init__(self, payload: dict):
        self.payload = payload
        self.impl: Optional[object] = None

    def __enter__(self):
        import xlwings as xw
        from xlwings.pro._xlremote import App

        from ..excel.engines import live_book

        self.impl = App(apps=None, add_book=False).books.open(json=self.payload)
        return live_book(xw.Book(impl=self.impl))

    def __exit__(self, *exc) -> None:
        self.impl.close()

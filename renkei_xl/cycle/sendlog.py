"""The 送信記録 file beside a 確定版: read, and appended to after each send (the text and
the rule are core.send_record).

「（確定版の名前）_送信記録.txt」: beside the 確定版 and sorted next to it in Explorer, named
after it so that each 確定版 (each year, each -o) has its own, and a .txt that a double
click opens in Notepad. UTF-8 with a BOM and CRLF: Notepad before Windows 10 1903 reads
a file without the BOM as ANSI (Shift_JIS), and the Japanese would be garbled.
"""

from __future__ import annotations

from pathlib import Path

from ..core.errors import UserError
from ..core.send_record import HEADER, Attempt, RecordError, format_attempt, parse

SUFFIX = "_送信記録.txt"
_ENCODING = "utf-8-sig"


def record_path(confirmed: Path) -> Path:
    return confirmed.with_name(confirmed.stem + SUFFIX)


def read_record(path: Path) -> list[Attempt]:
    """The attempts recorded so far; none when there is no record yet. A file that is not
    a record, or one changed by hand, is refused (RecordError), never read as empty."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        from ..safety import system_reason

        raise RecordError(f"送信記録「{path.name}」を読めません（{system_reason(exc)}）。メールは送信していません") from None
    try:
        text = data.decode(_ENCODING)
    except UnicodeDecodeError:
        raise RecordError(f"送信記録「{path.name}」の文字コードが UTF-8 ではありません（メモ帳などで別の形式で"
                          "保存された可能性があります）。メールは送信していません。ファイルを別の名前に変えてから、"
                          "もう一度実行してください（そのときは全員に送ります）") from None
    return parse(text, path.name)


def append_attempt(path: Path, attempt: Attempt) -> None:
    """The record with ``attempt`` added, written whole through the tool's atomic write:
    a crash or a full disk leaves the earlier record, never half a line. The caller holds
    the record's writer lock (send_lock) from reading it to this write."""
    from ..safety import replace_file

    try:
        old = path.read_bytes().decode(_ENCODING)
    except FileNotFoundError:
        old = HEADER
    text = old + ("" if old.endswith(("\n", "\r")) else "\n") + format_attempt(attempt)
    data = text.replace("\r\n", "\n").replace("\n", "\r\n").encode(_ENCODING)
    replace_file(path, lambda tmp: tmp.write_bytes(data), keep_backup=False)


def send_lock(path: Path):
    """One send of a 確定版 at a time, from reading its record to writing it: two runs at
    once would both read "not sent yet" and both send."""
    from ..safety import writer_lock

    return writer_lock(path)


def unsaved_note(path: Path, exc: BaseException) -> UserError:
    return UserError(f"メールは送りましたが、送信記録「{path.name}」を保存できませんでした（{exc}）。"
                     "この送信は記録されていないため、次に同じコマンドを実行すると、送信済みの宛先にも送ります")

"""The 送信記録 file beside a 確定版: read, and appended to after each send (the text and
the rule are core.send_record).

「（確定版の名前）_送信記録.txt」: beside the 確定版 and sorted next to it in Explorer, named
after it so that each 確定版 (each year, each -o) has its own, and a .txt that a double
click opens in Notepad. UTF-8 with a BOM and CRLF: Notepad before Windows 10 1903 reads
a file without the BOM as ANSI (Shift_JIS), and the Japanese would be garbled.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional

from ..core.errors import UserError
from ..core.send_record import HEADER, UNKNOWN, Attempt, RecordError, Recipient, format_attempt, parse

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


def recorded_text(path: Path) -> str:
    """The record's text as it stands (its header alone where there is none yet): what an
    attempt is added after (append_attempt's ``after``)."""
    try:
        return path.read_bytes().decode(_ENCODING)
    except FileNotFoundError:
        return HEADER


def append_attempt(path: Path, attempt: Attempt, after: Optional[str] = None) -> None:
    """The record with ``attempt`` added, written whole through the tool's atomic write:
    a crash or a full disk leaves the earlier record, never half a line. The caller holds
    the record's writer lock (send_lock) from reading it to this write. ``after``: the
    text to add it after (recorded_text, read before the send), so that the outcome of a
    send replaces the 不明 lines written as its message went (going_attempt)."""
    from ..safety import replace_file

    old = recorded_text(path) if after is None else after
    text = old + ("" if old.endswith(("\n", "\r")) else "\n") + format_attempt(attempt)
    data = text.replace("\r\n", "\n").replace("\n", "\r\n").encode(_ENCODING)
    replace_file(path, lambda tmp: tmp.write_bytes(data), keep_backup=False)


# What the record says of a send while its message goes: replaced by the outcome once known;
# left only where the run was stopped (Ctrl+C, killed, the PC shut down) after the message left.
GOING_REASON = "送信の途中で止まり、届いたか分かりません"
GOING_NOTE = "送信の途中で止まりました（メールサーバーに送った後、結果を書く前）"


def going_attempt(attempt: Attempt, took: list[str], shown: dict[str, str]) -> Attempt:
    """``attempt`` as recorded while its message goes: every recipient the server ``took``
    as 不明 (it may have the mail from here on, and a rerun must not send it a second
    copy), written before the message leaves; nothing is claimed as 受付."""
    entries = tuple(Recipient(UNKNOWN, shown.get(a, a), GOING_REASON) for a in took)
    return dataclasses.replace(attempt, entries=entries, note=GOING_NOTE)


def send_lock(path: Path):
    """One send of a 確定版 at a time, from reading its record to writing it: two runs at
    once would both read "not sent yet" and both send."""
    from ..safety import writer_lock

    return writer_lock(path)


def unsaved_note(path: Path, exc: BaseException) -> UserError:
    return UserError(f"メールは送りましたが、送信記録「{path.name}」を保存できませんでした（{exc}）。"
                     "この送信は記録されていないため、次に同じコマンドを実行すると、送信済みの宛先にも送ります")

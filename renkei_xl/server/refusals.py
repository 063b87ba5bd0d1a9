"""What the server answers instead of running a button: a status and one Japanese text.

xlwings' VBA client shows a non-200 body in a message box as it is, so each text is for
staff: what happened and what to do in Excel, never a server path, a command-line option
or a request to send a file. The log gets the short outcome word.
"""

from __future__ import annotations

import json
import math
import sys

from ..core.alerts import ALERT_CHARS, cut
from .limits import LONE_SURROGATE

TEXT = "text/plain; charset=utf-8"

# xlwings' payload is an object → sheets → sheet → values → row → cell, with names and
# tables a level or two more: 6 deep; 10 leaves room for what a later xlwings adds. Far
# below anything the C parser's recursion limit or a worker thread's stack could meet.
MAX_DEPTH = 10
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_SQUARE = bytes.maketrans(b"{}", b"[]")


class Refusal(Exception):
    def __init__(self, status: int, text: str, outcome: str):
        super().__init__(text)
        self.status, self.text, self.outcome = status, text, outcome


UNREADABLE = "送信データを読めません（xlwings の送信データ（JSON）ではありません）。"
UNSENDABLE_OUTCOME = "送れないエラー値"
NOT_FOUND = ("このボタンはサーバーにありません。マスターのマクロとサーバーの版が合っていない可能性があります。"
             "IT 担当者に連絡してください。")


def numbered(text: str, request_id: str) -> str:
    """A refusal with its request number, which staff can quote and the log line carries.
    xlwings' VBA client shows it with MsgBox, so it keeps to the message box's budget
    (core.alerts.ALERT_CHARS; a text quoting much is cut in its middle), the number kept."""
    # A lone surrogate (limits.LONE_SURROGATE) quoted, a sheet's name: UTF-8 has no byte for it, and
    # staff read starlette's English 「Internal Server Error」 instead of the refusal.
    text = LONE_SURROGATE.sub(lambda m: f"〔U+{ord(m.group(0)):04X}〕", text)
    if "受付番号" in text:
        return cut(text, ALERT_CHARS)
    number = f"（受付番号 {request_id}）"
    return cut(text, ALERT_CHARS - len(number)) + number


# How a refusal that staff cannot mend ends: nothing was written, and the number goes to IT.
NUMBER_TO_IT = "ブックは変更していません。IT 担当者に受付番号を伝えてください。"


def unexpected(request_id: str) -> str:
    return f"サーバーで予期しないエラーが発生しました（受付番号 {request_id}）。{NUMBER_TO_IT}"


def nesting_too_deep(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """True when ``body``'s brackets nest deeper than ``limit`` (or do not pair up), decided
    before parsing and in C-speed passes only (bytes.replace, split, translate, find), so
    the time is a few passes over the body and the memory a copy or two of it:
    - strings removed: escaped backslashes and quotes dropped first, then every second
      piece between quotes is a string's inside;
    - everything but brackets dropped, ``{}`` read as ``[]`` (the parser checks the kinds);
    - then innermost pairs removed, at most ``limit`` times; a run of ``limit + 1`` opening
      brackets, or anything left after ``limit`` passes, is too deep."""
    outside = b"".join(body.replace(b"\\\\", b"").replace(b'\\"', b"").split(b'"')[0::2])
    brackets = outside.translate(_SQUARE, _NOT_BRACKETS)
    run = b"[" * (limit + 1)
    for _ in range(limit):
        if not brackets:
            return False
        if run in brackets:
            return True
        shorter = brackets.replace(b"[]", b"")
        if len(shorter) == len(brackets):
            return True        # unpaired: the parser would refuse it anyway
        brackets = shorter
    return bool(brackets)


def parse_payload(body: bytes) -> object:
    """The JSON body, or a Refusal (400) for anything that is not plain, shallow JSON."""
    if nesting_too_deep(body):
        raise Refusal(400, "送信データを読めません（入れ子が深すぎるか、括弧が対応していません。xlwings の送信データではありません）。",
                      "形式の誤り")
    try:
        text = body.decode("utf-8")
        return _json(text)
    except UnicodeDecodeError:
        raise Refusal(400, UNREADABLE, "形式の誤り") from None
    except (ValueError, RecursionError):
        from .unsendable import message, quoted_large_numbers, unsendable_cells

        requoted = quoted_large_numbers(text)
        if requoted is not None:
            try:
                return _json(requoted)
            except (ValueError, RecursionError):
                text = requoted      # a hole as well: named below
        cells = unsendable_cells(text)
        if cells:
            raise Refusal(400, message(cells), UNSENDABLE_OUTCOME) from None
        raise Refusal(400, UNREADABLE, "形式の誤り") from None


def _json(text: str) -> object:
    """``text`` parsed as JSON, and only JSON: Python's parser also takes NaN, Infinity and
    -Infinity, and reads 1e400 as infinity, and 1 followed by 400 zeros as a whole number no
    double holds. No xlwings client sends them (Excel holds no such number; its largest is
    9.99999999999999E+307), so a body with one was made by hand, and a NaN in 連携事業名 was
    taken without a finding."""
    return json.loads(text, parse_constant=_not_json, parse_float=_finite, parse_int=_whole)


def _not_json(token: str) -> object:
    raise ValueError(f"{token} is not JSON")


def _whole(token: str) -> int:
    """A JSON integer within a double. Only a token of more than 308 digits can be past
    one (the largest double is 1.8e308), so the others skip the comparison."""
    value = int(token)
    if len(token) > 308 and abs(value) > sys.float_info.max:
        raise ValueError(f"{token[:20]}… is past a double")
    return value


def _finite(token: str) -> float:
    value = float(token)
    if math.isinf(value):
        raise ValueError(f"{token} is past a double")
    return value

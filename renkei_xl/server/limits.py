"""The largest master the server serves, and the refusal of anything larger.

Every click must answer before xlwings' VBA client gives up (30 s by default, the TIMEOUT
row of xlwings.conf) with actions it can replay. Up to the size served here, a master of
2,000 indicators × 40 municipalities, docs/performance.md measures every answer under
5 MB and every button within 10 s except split (about 17 s on two cores; see there).
Anything larger is refused before the remote engine reads a cell, in Japanese, naming the
sheet, instead of a timeout.

What is counted is what the client sent, so the server decides before parsing anything:
- the rows of each sheet: xlwings' Remote.bas counts a used range's rows and columns in
  VBA Integer and adds its first row to its row count, so a sheet used to row 32,767 or
  past it cannot be sent from Excel at all (the master's RenkeiServer.bas refuses it
  first); another client that sends one is refused the same;
- the rows of 指標: the answer of 評価を再計算 (一覧, 次の一歩) grows with the indicators;
- the cells of the whole payload (rows × columns of each sheet's values): reading, checking
  and the files split and rollover write grow with them;
- the sheets: the remote engine's reading grows with their square.
The two numbers are the 2,000 × 40 master's own, with a little room for staff's own
columns and sheets (see the constants).
"""

from __future__ import annotations

import re
from typing import Optional

from ..core import contract as c

# Remote.bas' Integer: the last row (or column) of a used range it can count. It adds the
# range's first row to its row count (startRow + nRows - 1), both Integer, and the sum
# overflows when it reaches 32,768: a range ending at row 32,767 already stops the client.
VBA_MAX_ROWS = 32_766
# 2,000 indicators take 2,001 rows of 指標 in a built master (one header row); the rest
# is room for a few blank or note rows.
MAX_INDICATOR_ROWS = 2_050
# A built 2,000 × 40 master sends 402,790 cells (benchmarks/server.py prints it); the
# rest (about 12 %) is room for staff's own columns and sheets. Not more: split and
# rollover write files that grow with the cells, and their time is what is nearest 10 s.
MAX_CELLS = 450_000
SERVED = f"指標 {c.SERVED_INDICATORS:,} 件・市町村 {c.SERVED_MUNICIPALITIES} のマスター"
# A 2,000 × 40 master has 40 municipality sheets and about ten of the tool's; the rest is
# room for staff's own. Not more: xlwings' remote engine finds each sheet by name through
# the list of all of them, so reading a book costs the square of its sheets (20,000 empty
# sheets, 1.4 MB of JSON, took 40 s: past the client's timeout with no refusal).
MAX_SHEETS = 255

Refusal = tuple[int, str, str]      # (status, text for staff, outcome for the log)

# The largest answer the project holds xlwings' VBA client to take (docs/performance.md:
# every answer of the master served is under it, 評価を再計算's 2,000 rows 1.7 MB). The
# counts above do not bound text: 10,000-character texts in three 指標 columns of the
# FY2023 master made a 7.8 MB answer. So the answer itself is measured before it is sent.
MAX_ANSWER_BYTES = 5 * 1024 * 1024
# Room for what is added after the measure (the 受付番号 on a stopped click's message).
_ANSWER_NOTE_ROOM = 1024


# A UTF-16 code unit of a pair that lost its other half: Excel holds such a text (=LEFT of a text
# cut inside an emoji) and xlwings' VBA client sends it as 「\\ud83d」, which Python reads as a
# lone surrogate. UTF-8 has no byte for it: the answer quoting it (a 圏域名 on 一覧) raised in
# encoding, and staff read starlette's English 「Internal Server Error」.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


# An escape in JSON text: a backslash and the character after it, matched left to right, so
# that in ``\\n`` the two backslashes are one escape and the n a plain n (``\u000a`` is ``\u``
# and four digits). The escape for a line feed, ``\n``, xlwings' VBA client (VBA-Web's
# WebHelpers.json_ParseString, ``Case "n"``) reads as vbCrLf, and Excel stores both characters: each line break of 一覧's 実施状況
# reached the cell as CR LF (Alt+Enter types LF alone), one unit more against the cell's 32,767, so a
# status cut to the limit with a line break in it stopped 評価を再計算 halfway with 1004.
# ``\u000a`` is LF to every parser (VBA-Web: ChrW(Val("&h000a"))).
JSON_ESCAPE = re.compile(r"\\(.)")


def answer_json(answer: dict) -> bytes:
    """The answer as sent: UTF-8 JSON, a lone surrogate written as the \\u escape it came in,
    so that Excel gets back the very text it sent, and a line feed as ``\\u000a``, so that
    xlwings' VBA client writes LF, not CR LF (JSON_ESCAPE)."""
    import json

    text = json.dumps(answer, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))
    text = LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)
    if "\\n" in text:
        text = JSON_ESCAPE.sub(lambda m: "\\u000a" if m.group(1) == "n" else m.group(0), text)
    return text.encode("utf-8")


def answer_refusal(caption: str, size: int) -> Optional[Refusal]:
    """Why an answer is not sent (None: send it): past what the client can take, staff get a
    Japanese reason and what to do instead of an answer Excel cannot replay."""
    if size + _ANSWER_NOTE_ROOM <= MAX_ANSWER_BYTES:
        return None
    return 413, (f"{c.named(caption)}の結果（ブックに書き込む内容）が {size / 1024 / 1024:.1f} MB になり、Excel がサーバーから"
                 f"受け取れる大きさ（{MAX_ANSWER_BYTES // 1024 // 1024} MB）を超えるため、サーバーからは書き込めません。"
                 "ブックは変更していません。指標シートの長い文章（事業概要・評価指標・実施状況など）を短くするか、"
                 "パソコンの Python か renkei-xl コマンドで実行してください（こちらはサーバーの答えを通さずにブックに書き込みます）。"), "大きすぎる"


# Values a body can hold before it is parsed: every JSON value in an array but the last is
# followed by a comma, so the commas bound the cells from above (and the names, a few
# hundred). Twice the cells served leaves a full master room; a body of 30 MB of short
# texts under the byte limit (8 million values, 500 MB once parsed) is refused unparsed.
# Only the commas between values count: a comma inside a text (a pasted CSV line) is part
# of one value, so the texts are blanked first (value_commas).
MAX_COMMAS = 2 * MAX_CELLS
_PLAIN_STRING = re.compile(rb'"[^"]*"')


def value_commas(body: bytes) -> int:
    """How many values the body holds, at least, told without parsing it: the commas
    outside its strings (each separates two values), or, when that many strings alone are
    over the limit, the strings (each one value). All in C, in passes over the bytes and
    at most two copies of the body; nearly every body is answered by the first count.

    Escapes are neutralised left to right as JSON pairs them (``\\\\`` first, then ``\\"``),
    so every quote left delimits a string. Outside strings valid JSON has no backslash; an
    invalid body is refused by the parse after, and a string left open only counts more."""
    commas = body.count(b",")
    # Quotes are counted too: a body of strings and no commas (32 MB of 「"」) is no JSON, and
    # the searches for what the client could not send (server.unsendable) then took 9 s and
    # 1.4 GB on its 16 million strings.
    if commas <= MAX_COMMAS and body.count(b'"') <= 2 * MAX_COMMAS:
        return commas
    plain = body.replace(b"\\\\", b"__").replace(b'\\"', b"__")
    strings = plain.count(b'"') // 2
    if strings > MAX_COMMAS:        # bounds the matches below, and is already a true count
        return strings
    return _PLAIN_STRING.sub(b'""', plain).count(b",")


def body_refusal(body: bytes) -> Optional[Refusal]:
    """Why a body is too large to parse (None: parse it), told from its bytes in C speed."""
    if value_commas(body) > MAX_COMMAS:
        return 413, (f"ブックが大きすぎてサーバーで処理できません（送られた値が {MAX_COMMAS:,} 個を超えています。上限は"
                     f"{SERVED}に当たる {MAX_CELLS:,} セルです）。使っていない行や列、不要なシートを削除して上書き保存して"
                     "からもう一度ボタンを押すか、パソコンの Python か renkei-xl コマンドで実行してください。"), "大きすぎる"
    return None


def sheets_refusal(payload: object) -> Optional[Refusal]:
    """Why this payload holds more sheets than the server serves (None: it does not, or it
    is no object with a list of sheets, which the shape check refuses). Asked as soon as the
    body is parsed, before anything goes through the sheets one by one: asked only after the
    shape check, a body of 250,000 empty sheets (9 MB, within the commas) held the worker's
    turn for 3 s of checks on each sheet before it was refused, about 11 s at the 32 MB taken."""
    sheets = payload.get("sheets") if isinstance(payload, dict) else None
    if not isinstance(sheets, list) or len(sheets) <= MAX_SHEETS:
        return None
    return 413, (f"ブックのシートが {len(sheets):,} 枚あり、サーバーで処理できる数（{MAX_SHEETS} 枚まで）を"
                 "超えています。不要なシートを削除して上書き保存してからもう一度ボタンを押すか、"
                 "パソコンの Python か renkei-xl コマンドで実行してください。"), "大きすぎる"


def refusal(payload: dict) -> Optional[Refusal]:
    """Why this payload is larger than the server serves (None: it is not)."""
    if (refused := sheets_refusal(payload)) is not None:
        return refused
    sizes = []
    for sheet in payload["sheets"]:
        values = sheet["values"]
        rows = len(values) if any(values) else 0
        cols = max((len(r) for r in values), default=0)
        sizes.append((sheet["name"], rows, cols))
    for name, rows, cols in sizes:
        if rows > VBA_MAX_ROWS or cols > VBA_MAX_ROWS:
            what = f"{rows:,} 行" if rows > VBA_MAX_ROWS else f"{cols:,} 列"
            return 413, (f"シート「{name}」は {what}まで使われていて、Excel からサーバーに送れる大きさ"
                         f"（{VBA_MAX_ROWS:,} 行・{VBA_MAX_ROWS:,} 列）を超えています。"
                         f"シート「{name}」の使っていない行や列を選んで削除し（Delete キーではなく"
                         "「行の削除」）、上書き保存してからもう一度ボタンを押してください。"), "大きすぎる"
    for name, rows, _cols in sizes:
        if name == c.INDICATORS and rows > MAX_INDICATOR_ROWS:
            return 413, (f"シート「{name}」が {rows:,} 行あり、サーバーで処理できる大きさ（{SERVED}、"
                         f"{MAX_INDICATOR_ROWS:,} 行まで）を超えています。使っていない行を削除するか、"
                         "パソコンの Python か renkei-xl コマンドで実行してください。"), "大きすぎる"
    total = sum(rows * cols for _name, rows, cols in sizes)
    if total > MAX_CELLS:
        largest = sorted(sizes, key=lambda s: -(s[1] * s[2]))[:3]
        named = "、".join(f"「{n}」{r:,} 行 × {k:,} 列" for n, r, k in largest)
        return 413, (f"ブックが大きすぎてサーバーで処理できません（送られたセルは合わせて {total:,} 個、"
                     f"上限は {SERVED}に当たる {MAX_CELLS:,} 個です）。大きいシート: {named}。"
                     "使っていない行や列、不要なシートを削除して上書き保存してからもう一度ボタンを押すか、"
                     "パソコンの Python か renkei-xl コマンドで実行してください。"), "大きすぎる"
    return None

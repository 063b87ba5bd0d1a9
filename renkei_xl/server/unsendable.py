"""Cells xlwings' VBA client cannot send: Excel's newer error values.

Remote.bas sends each sheet's values through VBA-Web's ``ConvertToJson``, which knows
seven error values (#DIV/0!, #N/A, #NAME?, #NULL!, #NUM!, #REF!, #VALUE!) and writes
nothing at all for any other: #SPILL!, #CALC!, #GETTING_DATA, #FIELD!, #BLOCKED!,
#CONNECT!, #BUSY!, #UNKNOWN! leave a hole in the array (``[1,,3]``). The body is then not
JSON, and an honest answer names the cell rather than calling the data unreadable.

In a one-column sheet the hole is the whole row (``[[1],[],[3]]``), which parses: Remote.bas
always sends a rectangle, so a row shorter than the others is the same hole (for a
one-cell used range, ``[[]]``, nothing can tell it from an empty sheet; the tool reads no
such sheet).

VBA-Web also writes a text cell of 16 to 100 characters made only of ``0-9 . E e`` without
quotes (``json_StringIsLargeNumber``: it takes such a text for a number too large for a
Double): 「0000000000000001」, a row of dots, 「2024.04.01.10.30.00」. Most of them are not
JSON numbers, so one such cell on any sheet made every button's body unreadable. Such a
token can only be a text the client wrote bare (a Double goes through CStr, 15 digits, an
exponent with its sign), so ``quoted_large_numbers`` puts the quotes back and the cell is
read as the text it holds.

The search runs only after a body failed to parse, so its cost (one regular-expression
pass, then one parse) is never paid by a good click.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Iterator, Optional

from ..core.refs import cell_ref
from ..core.values import LISTED, listed

# A JSON string, skipped by both searches below; one left open runs to the end of the body, as
# refusals.nesting_too_deep reads it. Required to close, an open string failed at its quote
# and the search went on inside it, where every escaped quote opened another that ran to the
# end: 「[]"」 and 40,000 「\\"」 (a body of 80 KB) held the worker's turn for 100 s.
_STRING = r'"(?:[^"\\]|\\.)*"?'
# A JSON string (skipped), or a place where an array element is missing: a comma followed
# by a comma or a closing bracket, or an opening bracket followed by a comma.
_TOKEN = re.compile(_STRING + r'|(,)\s*(?=[,\]])|(\[)\s*(?=,)')
# What a hole is replaced with before the body is parsed again: a number no client writes
# (VBA's CStr gives an exponent of at most three digits), which the parser hands to
# parse_float, and which becomes one object for every hole. A text marker made a text per
# hole, and every hole's cell was named: 900,000 holes (a body of 0.9 MB within the bound on
# values) held 400 MiB for a message that names five.
_MARK = "-0.0E-4040"
_HOLE = object()
SHOWN = LISTED                      # cells named in the message; the rest are counted


class Holes(list):
    """The first SHOWN cells with holes, and how many there are in all (``total``)."""

    def __init__(self, cells, total: int):
        super().__init__(cells)
        self.total = total


# A JSON string (skipped), or a bare run of what json_StringIsLargeNumber lets through,
# between the separators an array element sits in.
_LARGE = re.compile(_STRING + r'|(?<=[\[,])\s*([.0-9Ee]{16,100})\s*(?=[,\]])')


def quoted_large_numbers(text: str) -> Optional[str]:
    """``text`` with each bare large-number token quoted again, or None when it has none."""
    found = False

    def quote(m: re.Match) -> str:
        nonlocal found
        if m.group(1) is None:
            return m.group(0)
        found = True
        return json.dumps(m.group(1))

    out = _LARGE.sub(quote, text)
    return out if found else None


def _holes(text: str) -> Iterator[int]:
    """Offsets in ``text`` where an array element is missing, one at a time."""
    return (m.end(1) if m.group(1) else m.end(2) for m in _TOKEN.finditer(text) if m.group(1) or m.group(2))


def unsendable_cells(text: str) -> Optional[Holes]:
    """The cells whose values left holes in a body that did not parse, or None when the
    body fails for another reason (or the holes are not in a sheet's values)."""
    pieces, last = [], 0
    for pos in _holes(text):         # one at a time: a list of 900,000 offsets was 32 MiB
        pieces += [text[last:pos], _MARK]         # a comma or a bracket: one shared string
        last = pos
    holes = len(pieces) // 2
    if not holes:
        return None
    pieces.append(text[last:])
    text = "".join(pieces)
    del pieces
    try:
        payload = json.loads(text, parse_float=lambda s: _HOLE if s == _MARK else float(s))
    except (ValueError, RecursionError):
        return None
    del text
    total = sum(1 for _ in _marked(payload))
    shown = [(sheet, cell_ref(r, c)) for sheet, r, c in itertools.islice(_marked(payload), SHOWN)]
    return Holes(shown, total) if total == holes else None


def short_rows(payload: dict) -> list[tuple[str, str]]:
    """The cells of a parsed payload's one-column sheets that came as empty rows."""
    out = []
    for sheet in payload.get("sheets", []):
        rows = sheet.get("values") if isinstance(sheet, dict) else None
        if not isinstance(rows, list) or len(rows) < 2:
            continue
        widths = {len(row) for row in rows if isinstance(row, list)}
        if widths == {0, 1}:
            out += [(str(sheet.get("name", "")), cell_ref(r, 1))
                    for r, row in enumerate(rows, start=1) if row == []]
    return out


def message(cells: list[tuple[str, str]]) -> str:
    named = listed((f"シート「{sheet}」のセル {ref}" for sheet, ref in cells), "か所",
                   total=getattr(cells, "total", len(cells)))
    return (f"{named}に、サーバーへ送れない Excel のエラー値（#SPILL!、#CALC! など）があります。"
            "数式を直すか値を消してから、もう一度ボタンを押してください。ブックは変更していません。")


def _marked(payload) -> Iterator[tuple[str, int, int]]:
    """(sheet, row, column) of each hole in a sheet's values, in order, one at a time."""
    sheets = payload.get("sheets") if isinstance(payload, dict) else None
    for sheet in sheets if isinstance(sheets, list) else []:
        rows = sheet.get("values") if isinstance(sheet, dict) else None
        for r, row in enumerate(rows if isinstance(rows, list) else [], start=1):
            if isinstance(row, list):
                yield from ((str(sheet.get("name", "")), r, c) for c, v in enumerate(row, start=1) if v is _HOLE)

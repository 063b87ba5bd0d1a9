"""RenkeiServer.bas' word on the numbers Excel hands xlwings as VBA's Currency (client version 9
on): X-Renkei-Currency gives, per sheet, the exact number (Range.Value2, a Double) of each cell
whose Range.Value is a Currency that is another number (a fifth decimal place or more).

Why: xlwings' VBA client (Remote.bas) sends Range.Value, and for a cell formatted as Currency or
Accounting that is VBA's Currency, four decimal places (core.currency): 0.123456 typed since the
last save reached the server as 0.1235, silently, while the command line reads the saved file's
exact number. The saved master gives back only the numbers saved (excel.remote.SavedFills); this
header gives back the open book's own, unsaved edits included.

Each number is sent as the 16 hexadecimal digits of its IEEE 754 bits (RenkeiDoubleHex): a
decimal text in VBA (CStr, Str, Format) carries 15 significant digits, not the Double. One
sheet whose part would pass the client's bound is named as not known (UNKNOWN): that sheet alone
is read as before (the saved master's numbers), the others by the header.

What is read here is only what the header says; where a number said is taken (only where it
rounds to the number the payload holds there: a doctored header changes no other number) is
decided where the payload is read (excel.remote.RemoteBook, core.currency.saved_number). A
header that is absent (a master whose macros predate it), that says the list was too long
(OVERFLOW), or that does not read as RenkeiCurrency writes it (a hand-made request) is None: the
server then reads as it did before, never from a guess.
"""

from __future__ import annotations

import math
import re
import struct
from typing import Optional

from ..core.refs import CELL_ADDRESS, parse_ref
from .sheet_headers import sheet_parts

CURRENCY_HEADER = "x-renkei-currency"
# RenkeiServer.bas' CURRENCY_OVERFLOW: the whole would have passed its CURRENCY_MAX (4,000)
# characters, beside X-Renkei-Percents' 8,000 within h11's 16 KiB of request line and headers.
OVERFLOW = "+"
# The most characters read: CURRENCY_MAX and what RenkeiCurrency may add past it at once.
MAX_CHARS = 4500
_VERSION = "1"
# RenkeiServer.bas' CURRENCY_UNKNOWN in place of a sheet's cells: its numbers are not known.
UNKNOWN = "+"
_PART = re.compile(r"((?:[0-9A-F]{4}){1,31})/(\+|[A-Z0-9=,]+)")
_CELL = re.compile(f"({CELL_ADDRESS})=([0-9A-F]{{16}})")

# sheet -> [[row, col, number], ...] (lists: the payload carries it to the remote engine), or
# None for a sheet the client sent as not known (UNKNOWN)
Exact = dict[str, Optional[list[list]]]


def double_of(bits: str) -> Optional[float]:
    """The Double whose IEEE 754 bits RenkeiDoubleHex wrote (16 hex digits, sign first); None
    for an infinity or a NaN, which no cell holds."""
    value = struct.unpack(">d", bytes.fromhex(bits))[0]
    return value if math.isfinite(value) else None


def currency_header(header: Optional[str]) -> Optional[Exact]:
    """The header as sent, or None: absent, OVERFLOW, or not as RenkeiCurrency writes it (a
    cell twice, a sheet twice, a sheet not known and listed)."""
    parts = sheet_parts(header, max_chars=MAX_CHARS, overflow=OVERFLOW, version=_VERSION, part=_PART)
    if parts is None:
        return None
    out: Exact = {}
    for sheet, m in parts:
        if sheet in out:
            return None
        if m.group(2) == UNKNOWN:
            out[sheet] = None
            continue
        cells, seen = [], set()
        for entry in m.group(2).split(","):
            c = _CELL.fullmatch(entry)
            if c is None:
                return None
            try:        # parse_ref refuses a cell past Excel's grid (「ZZZ1」「B0」)
                row, col = parse_ref(c.group(1))
            except ValueError:
                return None
            number = double_of(c.group(2))
            if number is None or (row, col) in seen:
                return None
            seen.add((row, col))
            cells.append([row, col, number])
        out[sheet] = cells
    return out

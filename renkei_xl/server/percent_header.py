"""RenkeiServer.bas' word on the number formats that hold a percent sign (client version 7 on):
X-Renkei-Percents names, per sheet and format, the cells holding a number in it, because
xlwings' payload carries values only. Without it the server takes the formats from the saved
master, which cannot tell the format of a number typed since the save: 「1500%」 typed into an
unsaved book (Excel stores 15 and gives the cell 0%) read as 15 %, and 1 or 0.85 typed since
the save was refused until staff saved (core.percent_cells.unknown_format_findings).

One sheet whose formats the client could not read (past its bound on cells read one by one,
or an error on that sheet) is named as not known (UNKNOWN, header version 2): that sheet alone
is read as before, the others by the header. Version 1 (client 7 before this, never released)
sent the whole book as OVERFLOW for one such sheet; it is no longer read (as absent).

What is read here is only what the header says; which of the cells named hold a number, and
what a format shows, is decided where the payload is read (excel.remote.RemoteBook,
core.percent_cells). A header that is absent (a master whose macros predate it), that says the
list was too long for a header (OVERFLOW), or that does not read as RenkeiPercents writes it (a
hand-made request) is None: the server then reads as it did before, never from a guess.
"""

from __future__ import annotations

import re
from typing import Optional

from ..core.refs import CELL_ADDRESS, parse_ref
from .sheet_headers import hex_text, sheet_parts

PERCENTS_HEADER = "x-renkei-percents"
# RenkeiServer.bas' PERCENTS_OVERFLOW: the list would have passed its PERCENTS_MAX (8,000)
# characters; h11, the server's HTTP reader, takes 16 KiB of request line and headers together.
OVERFLOW = "+"
# The most characters read: RenkeiPercents' PERCENTS_MAX and what it may add past it at once.
MAX_CHARS = 9000
_VERSION = "2"
# RenkeiServer.bas' PERCENTS_UNKNOWN in place of a format: that sheet's formats are not known.
UNKNOWN = "+"
# A sheet name of at most 31 characters and a number format of at most 255 (Excel's limits),
# each as UTF-16 hex (RenkeiHex), and its blocks of cells.
_PART = re.compile(r"((?:[0-9A-F]{4}){1,31})/(?:((?:[0-9A-F]{4}){1,255})/([A-Z0-9:,]+)|\+)")
_BLOCK = re.compile(f"({CELL_ADDRESS})(?::({CELL_ADDRESS}))?")

# sheet -> [(number format, [(first row, first col, last row, last col), ...]), ...], or None
# for a sheet the client sent as not known (UNKNOWN)
Percents = dict[str, Optional[list[tuple[str, list[tuple[int, int, int, int]]]]]]


def percent_header(header: Optional[str]) -> Optional[Percents]:
    """The header as sent, or None: absent, OVERFLOW, or not as RenkeiPercents writes it. A
    sheet sent as not known maps to None; a sheet both not known and listed is not as
    RenkeiPercents writes it."""
    parts = sheet_parts(header, max_chars=MAX_CHARS, overflow=OVERFLOW, version=_VERSION, part=_PART)
    if parts is None:
        return None
    out: Percents = {}
    for sheet, m in parts:
        number_format = hex_text(m.group(2)) if m.group(2) else None
        if m.group(2) and number_format is None:    # a lone surrogate: no format Excel holds
            return None
        if number_format is None or out.get(sheet, ()) is None:
            if sheet in out:    # not known and listed, or not known twice
                return None
            out[sheet] = None
            continue
        blocks = []
        for ref in m.group(3).split(","):
            b = _BLOCK.fullmatch(ref)
            if b is None:
                return None
            try:        # parse_ref refuses a cell past Excel's grid (「ZZZ1」「B0」)
                first = parse_ref(b.group(1))
                last = parse_ref(b.group(2)) if b.group(2) else first
            except ValueError:
                return None
            top, bottom = sorted((first[0], last[0]))
            left, right = sorted((first[1], last[1]))
            blocks.append((top, left, bottom, right))
        out.setdefault(sheet, []).append((number_format, blocks))
    return out

"""RenkeiServer.bas' word on the open workbook (client version 5 on): X-Renkei-Book carries
Workbook.Saved and Workbook.ReadOnly, which xlwings' payload does not, so that a refusal of a
workbook that differs from the saved master gives the one step that fits (core.unsaved).
Masters whose macros predate it send nothing; a host without one of the properties
(LibreOffice has no Workbook.ReadOnly) sends it empty.
"""

from __future__ import annotations

from ..core.unsaved import BookState

BOOK_STATE_HEADER = "x-renkei-book"     # "saved=1; read-only=0" (RenkeiServer.bas' RenkeiBookState)
_FLAGS = {"1": True, "0": False}


def book_state(header: str) -> BookState:
    """The header as sent; anything other than 0 or 1 for a flag is not known (a hand-made
    request, or a host that could not read the property). Four fields at most are read."""
    fields = {}
    for part in (header or "").split(";")[:4]:
        key, _, value = part.partition("=")
        fields[key.strip().lower()] = _FLAGS.get(value.strip())
    return BookState(fields.get("saved"), fields.get("read-only"))

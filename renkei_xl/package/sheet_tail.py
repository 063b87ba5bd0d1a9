"""What follows a worksheet's cells, and its root tag, read once per run.

Everything staff place for a sheet as a whole lies after its <sheetData>: form controls,
slicers, custom views, cell watches (package.controls, .slicers, .sheet_settings), which a
rebuild of a tool sheet keeps. The rebuilt sheets are large: after one recalc a 20,000-row
一覧 is 20 MB of cells, about 60 ms to inflate on every later recalc for the few hundred bytes
after them. Its reader inflates the sheet whole anyway, to check it before python-calamine
parses it (workbook.grids), so the tail it saw is remembered with the package and a write
takes it from here. A tail is used only while the package still holds the part as read.
"""

import re
from typing import Optional
from weakref import WeakKeyDictionary

from .zipped import Package

WORKSHEET_ROOT = re.compile(rb'<(?:[\w.-]+:)?worksheet\b[^<>]*>')
_TAG_BEFORE = re.compile(rb'</?(?:[\w.-]+:)?$')
# The root tag sits after the XML declaration: Excel's is in the first 300 bytes.
_HEAD_BYTES = 16_384
# A tail is remembered up to this size (a sheet's hyperlinks and conditional formats lie
# there too: thousands of links on a large 検証結果); a longer one is read again if asked.
_TAIL_BYTES = 4 * 1024 * 1024

_TAILS: "WeakKeyDictionary[Package, dict[str, bytes]]" = WeakKeyDictionary()


def after_cells(data: bytes) -> int:
    """Where the sheet part's cells end (its elements after <sheetData> follow): searched from
    the end, as a tag (a cell's text holds no raw "<")."""
    at = len(data)
    while True:
        at = data.rfind(b"sheetData", 0, at)
        if at < 0:
            return 0
        if _TAG_BEFORE.search(data, max(0, at - 64), at):
            return data.index(b">", at) + 1


def _tail_of(data: bytes) -> bytes:
    """The elements between the cells and the root's end tag."""
    return data[after_cells(data):data.rfind(b"</")]


def remember(pkg: Package, part: str, data: bytes) -> None:
    """Keep the tail of ``part`` for ``sheet_tail``: ``data`` is the part as read from the
    package, whole. Safe from the reader's threads (one dict assignment)."""
    tail = _tail_of(data)
    if len(tail) <= _TAIL_BYTES and pkg.as_read(part):
        _TAILS.setdefault(pkg, {})[part] = tail


def sheet_tail(pkg: Package, part: str) -> bytes:
    """The elements after the cells of worksheet ``part``: remembered when its reader saw
    them, else read."""
    kept = _TAILS.get(pkg, {}).get(part)
    if kept is not None and pkg.as_read(part):
        return kept
    return _tail_of(pkg.read(part))


def sheet_root(pkg: Package, part: str) -> bytes:
    """The worksheet's root start tag, with the namespaces it declares (b"" if none): from
    the part's head, the whole part only when the head does not hold it; neither with its
    comments or processing instructions (Package.top), where a root may be written as text."""
    head, cut = pkg.top(part, _HEAD_BYTES)
    found: Optional[re.Match] = WORKSHEET_ROOT.search(head)
    if found is None and cut:   # past the head, or cut by it (no ">" yet)
        found = WORKSHEET_ROOT.search(pkg.top(part)[0])
    return found.group(0) if found else b""

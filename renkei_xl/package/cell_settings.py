"""The settings staff gave the cells of a sheet that a rebuild loses on every face: data
validations (入力規則, the 2010 form in the sheet's extLst included), ignored-error flags
(エラーを無視する) and sparklines, as the saved package has them.

The buttons' Clear All of a tool sheet's cells removes them with the cells and the file face
writes the sheet part anew without them (package.sheet_settings, docs/excel-model.md check 20),
so both faces lose them alike; here they are read, for core.list_notes.dropped_cell_settings to
name each one as it goes, as tables are (package.tables). The tool writes none of them on the
sheets it rebuilds, so every one found is the staff's.

Read with regular expressions from the part's tail (package.sheet_tail), not parsed: only
where each element lies and the range it names are wanted, and the tail's prefixes (x14, xm)
are declared on the root, outside it.
"""

from __future__ import annotations

import re

from ..core.lazy_pattern import LazyPattern
from .sheet_tail import sheet_tail
from .xml import closed_elements
from .zipped import Package

VALIDATION, IGNORED_ERROR, SPARKLINE = "validation", "ignored_error", "sparkline"
_ANY = re.compile(rb"<(?:[\w.-]+:)?(?:dataValidation|ignoredError|sparkline)[\s>]")
# The main namespace's elements name their range in an attribute.
_WITH_SQREF = LazyPattern(rb'<(?:[\w.-]+:)?(dataValidation|ignoredError)\s[^<>]*?\bsqref="([^"]*)"')
# The 2010 extensions' (x14:dataValidation, x14:sparkline) in an xm:sqref child.
_EXTENDED = LazyPattern(rb"<(?P<name>[\w.-]+:(dataValidation|sparkline))[\s>/]")
_XM_SQREF = LazyPattern(rb"<(?:[\w.-]+:)?sqref>([^<]*)<")
_KINDS = {b"dataValidation": VALIDATION, b"ignoredError": IGNORED_ERROR, b"sparkline": SPARKLINE}


def sheet_cell_settings(pkg: Package, workbook, sheet: str) -> list[tuple[str, str]]:
    """(kind, range) of each validation, ignored-error flag and sparkline on ``sheet`` (a
    WorkbookXml's sheet), in the part's order; the range as the part says it ("H2:H20", areas
    space-separated). None found where the sheet has no part."""
    entry = workbook.sheet(sheet)
    if entry is None or not entry.part or entry.part not in pkg:
        return []
    tail = sheet_tail(pkg, entry.part)
    if not _ANY.search(tail):
        return []
    found = [(m.start(), _KINDS[m.group(1)], m.group(2)) for m in _WITH_SQREF.finditer(tail)]
    for start, end in closed_elements(tail, _EXTENDED):     # linear: see there
        element = tail[start:end]
        if _WITH_SQREF.match(element):
            continue            # a prefixed main-namespace element, found above
        ref = _XM_SQREF.search(element)
        found.append((start, _KINDS[_EXTENDED.match(element).group(2)], ref.group(1) if ref else b""))
    return [(kind, ref.decode("utf-8").replace("$", "").strip()) for _at, kind, ref in sorted(found)]

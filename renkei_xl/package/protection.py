"""Which sheets of a saved workbook are protected with a password, and whether its
structure is protected.

Excel refuses every write, format or merge on a protected sheet (1004), and lifting the
protection of one that has a password needs the password, which the tool never has and
never asks for. The server's clients lift protection themselves (RenkeiServer.bas), so the
server reads from the saved master which sheets they could not lift, before a click writes
anything (renkei_xl.server.admission). Excel writes the password as a legacy 16-bit hash
(``password``) or, since 2013, as ``algorithmName``/``hashValue``/``saltValue``; either
means a password. A protected structure (「ブックの構成」) refuses a sheet added, with or
without a password; a legacy shared workbook refuses merges, conditional formats,
hyperlinks and protection changes (core.plan_types.WritePlan.refuse_shared).
"""

import re

from ..core.lazy_pattern import LazyPattern
from .rels import read_rels
from .workbook import WorkbookXml
from .zipped import Package

# The workbook part's relationship to the revision headers, which a legacy shared workbook
# (and only one) has ([MS-XLSB] 2.1.7.43; ECMA-376 Part 1, 12.3.17).
T_REVISION_HEADERS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/revisionHeaders"

_PROTECTION = re.compile(rb"<(?:\w+:)?sheetProtection\b([^<>]*)>")
_STRUCTURE = re.compile(r'<(?:\w+:)?workbookProtection\b[^<>]*\slockStructure="(?:1|true)"')
_ON = re.compile(rb'\ssheet="(?:1|true)"')
_PASSWORD = LazyPattern(rb'\s(?:password|hashValue)="[^"]+"')


def _protected_with_password(attrs: bytes) -> bool:
    """A sheetProtection element's attributes: the sheet is protected and has a password."""
    return bool(_ON.search(attrs)) and bool(_PASSWORD.search(attrs))


def sheet_protected(data: bytes) -> bool:
    """Whether a sheet part's sheetProtection is on (with or without a password)."""
    at = data.rfind(b"sheetProtection")
    m = _PROTECTION.search(data, max(0, data.rfind(b"<", 0, at))) if at >= 0 else None
    return bool(m and _ON.search(m.group(1)))


def structure_locked(workbook: WorkbookXml) -> bool:
    return bool(_STRUCTURE.search(workbook.text))


def shared_workbook(pkg: Package, workbook: WorkbookXml) -> bool:
    """Whether the book is a legacy shared workbook (「ブックの共有（レガシ）」)."""
    return any(rel.type == T_REVISION_HEADERS for rel in read_rels(pkg, workbook.part))


def password_sheets(pkg: Package, workbook: WorkbookXml) -> frozenset[str]:
    """The names of the sheets protected with a password. sheetProtection follows
    sheetData, so each part is searched from its end."""
    out = set()
    for sheet in workbook.sheets:
        if sheet.part is None or sheet.part not in pkg:
            continue
        data = pkg.read(sheet.part)
        at = data.rfind(b"sheetProtection")
        if at < 0:
            continue
        m = _PROTECTION.search(data, max(0, data.rfind(b"<", 0, at)))
        if m and _protected_with_password(m.group(1)):
            out.add(sheet.name)
    return frozenset(out)

"""The kind of a workbook file (renkei_xl.core.book_kind), read from its package: the
sheet names of workbook.xml and the custom document properties, nothing of the cells."""

from __future__ import annotations

from ..core.book_kind import MASTER, MUNICIPALITY_PROPERTY, BookKind, not_a_master, recognise
from ..core.errors import UserError
from ..package.workbook import WorkbookXml
from ..package.xml import parse
from ..package.zipped import Package

CUSTOM = "docProps/custom.xml"


def custom_properties(pkg: Package) -> dict[str, str]:
    data = pkg.get(CUSTOM, parser_read=True)
    if data is None:
        return {}
    out = {}
    for prop in parse(data, CUSTOM):
        value = next(iter(prop), None)
        if prop.get("name") and value is not None:
            out[prop.get("name")] = (value.text or "").strip()
    return out


def kind_of(pkg: Package, workbook: WorkbookXml) -> BookKind:
    return recognise([s.name for s in workbook.sheets], custom_properties(pkg).get(MUNICIPALITY_PROPERTY, ""))


def check_master(pkg: Package, file_name: str) -> WorkbookXml:
    """Refuse, saying what the file is and which command takes it, unless it is a master.
    Returns its workbook.xml as read, for the reader that follows (read_state)."""
    workbook = WorkbookXml(pkg)
    kind = kind_of(pkg, workbook)
    if kind.kind != MASTER:
        raise UserError(not_a_master(kind, file_name))
    return workbook


def check_master_file(path) -> None:
    """check_master on a file (a damaged one is left to the command's own reading)."""
    from ..package.xml import PackageError

    try:
        pkg = Package(path)
    except PackageError:
        return
    with pkg:
        try:
            workbook = WorkbookXml(pkg)
        except (PackageError, UserError):
            return
        kind = kind_of(pkg, workbook)
    if kind.kind != MASTER:
        raise UserError(not_a_master(kind, path.name))

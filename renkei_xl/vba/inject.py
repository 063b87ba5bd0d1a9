"""Reading code names from a workbook and swapping its VBA project in place.

``renkei-xl upgrade-macros`` replaces only ``xl/vbaProject.bin`` (and puts back on メニュー
the tool's buttons a LibreOffice save lost, workbook.menu_buttons): every other part is
copied unchanged, so whatever the staff built in the workbook stays as it was, but for the
old project's digital signatures, which no longer sign it (renkei_xl.package.vba_signature).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

from ..core.errors import UserError
from . import VBA_PART

if TYPE_CHECKING:
    from ..package.zipped import Package

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def sheet_code_names(xlsm_path: str | Path) -> list[str]:
    """Code names of the worksheets, in the workbook's sheet order; sheets without one are
    left out (Excel only creates their document modules when it next saves)."""
    return _code_names(xlsm_path, "worksheet")


def chart_code_names(xlsm_path: str | Path) -> list[str]:
    """Code names of the chart sheets (a chart moved to a sheet of its own, 「グラフ1」):
    Excel gives each a document module as it gives a worksheet (Chart1), where staff may
    have written a Chart_Activate."""
    return _code_names(xlsm_path, "chartsheet")


def _code_names(xlsm_path: str | Path, kind: str) -> list[str]:
    """Read through the package reader every other command reads through: this reader's
    own ZipFile and ElementTree stopped ``upgrade-macros`` with a traceback (ParseError,
    KeyError) on a sheet part a damaged master could not parse or did not have, where
    validate and recalc named the part. A sheet's ``kind`` is its relationship's
    (package.workbook.sheet_kind), as Excel knows it: by folder, a worksheet stored outside
    xl/worksheets/ lost its document module and staff's code in it."""
    from ..package.workbook import WorkbookXml, sheet_kind
    from ..package.xml import child_attributes

    with _open_package(xlsm_path) as pkg:
        workbook = WorkbookXml(pkg)
        names = []
        for sheet in workbook.sheets:
            rel = workbook.rels.get(sheet.rid)
            if rel is None or not rel.part or sheet_kind(rel.type) != kind:
                continue  # dialog and macro sheets get no document module
            part = rel.part
            sheet_pr = child_attributes(pkg.read(part, parser_read=True), part, f"{_MAIN}sheetPr")   # a sheet may be a million tags
            if sheet_pr is not None and sheet_pr.get("codeName"):
                names.append(sheet_pr["codeName"])
        return names


def workbook_code_name(xlsm_path: str | Path) -> str:
    """The workbook's code name (workbookPr's codeName), whose document module the project
    holds: Excel's default when the workbook names none; another language's Excel names it
    in its own words (DieseArbeitsmappe)."""
    from ..package.workbook import workbook_part
    from ..package.xml import parse

    with _open_package(xlsm_path) as pkg:
        part = workbook_part(pkg)
        found = parse(pkg.read(part, parser_read=True), part).find(f"{_MAIN}workbookPr")
    return (found.get("codeName") if found is not None else None) or "ThisWorkbook"


def write_with_project(src_path: str | Path, dst_path: str | Path, data: bytes,
                       also: Optional[Callable[[Package], None]] = None) -> list[str]:
    """Write the new file ``dst_path`` as ``src_path`` with ``xl/vbaProject.bin`` replaced
    by ``data``. Every other entry keeps its name, order, content and zip metadata, but the
    signatures of a project replaced by another, which are removed; returns those removed.
    ``also``: a further edit of the package in the same write (the buttons a master lost,
    workbook.menu_buttons: one backup, one rename)."""
    from ..package.rels import ContentTypes
    from ..package.vba_signature import drop_signatures
    from ..package.zipped import Package

    with Package(Path(src_path)) as pkg:
        if VBA_PART not in pkg:
            raise UserError(f"「{Path(src_path).name}」にマクロ（{VBA_PART}）がありません。"
                            "マクロ有効ブック（.xlsm）を指定してください。")
        dropped = []
        if pkg.read(VBA_PART) != data:      # the same project keeps its signatures valid
            pkg.write(VBA_PART, data)
            types = ContentTypes(pkg)
            dropped = drop_signatures(pkg, VBA_PART, types)
            types.save()
        if also is not None:
            also(pkg)
        pkg.save(Path(dst_path))
    return dropped


def _open_package(path: str | Path):
    from ..package.zipped import Package

    if not Path(path).exists():
        raise UserError(f"ブック「{path}」が見つかりません。")
    return Package(Path(path))

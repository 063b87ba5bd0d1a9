"""What the file face knows of a master before a write: its contract data and state.

Values come from python-calamine, which reads every sheet fast and sees the cached result
of each formula (openpyxl gives either the formula or, loaded a second time, its value).
Names, sheets and cell formats come from the package itself (renkei_xl.package), which the
file applier then edits; so reader and writer agree about which part is which sheet.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Optional, Sequence

from .. import contract as c
from ..contract_read import MasterData, needed_sheets, parse_ref, read_contract
from ..errors import UserError
from ..model import ERROR, Finding
from ..package.cells import SheetCells
from ..package.rels import T_STYLES, read_rels
from ..package.styles import Styles
from ..package.workbook import WorkbookXml
from ..package.xml import prefix_of
from ..package.zipped import Package
from ..plan import MasterState


def _cell(value: object) -> object:
    """calamine's "" for an empty cell is None, as the contract reader expects."""
    if value == "":
        return None
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds() / 86400
    return value


def read_grids(pkg: Package, names: Sequence[str]) -> dict[str, list[list[object]]]:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(pkg.path))
        out = {}
        for name in names:
            rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            out[name] = [[_cell(v) for v in row] for row in rows]
        book.close()
    except CalamineError as exc:
        raise UserError(f"「{pkg.path.name}」の値を読めません（{exc}）") from None
    return out


@dataclass
class FileState:
    pkg: Package
    workbook: WorkbookXml
    data: MasterData
    state: MasterState
    styles: "StyleReader"
    sheets: dict[str, list[list[object]]]     # every sheet the contract reads, as grids


class StyleReader:
    """Cell fills read lazily from styles.xml and the sheet parts (only marked cells ask)."""

    def __init__(self, pkg: Package, workbook: WorkbookXml):
        self.pkg = pkg
        self.workbook = workbook
        self.part = next((r.part for r in read_rels(pkg, workbook.part) if r.type == T_STYLES), None)
        self._styles: Optional[Styles] = None
        self._sheets: dict[str, SheetCells] = {}

    @property
    def styles(self) -> Styles:
        if self._styles is None:
            if self.part is None or self.part not in self.pkg:
                raise UserError(f"「{self.pkg.path.name}」に書式の部品（styles.xml）がありません")
            self._styles = Styles(self.pkg.text(self.part), self.part)
        return self._styles

    def sheet(self, name: str) -> SheetCells:
        if name not in self._sheets:
            entry = self.workbook.sheet(name)
            if entry is None or entry.part is None:
                raise UserError(f"シート「{name}」の部品が見つかりません")
            text = self.pkg.text(entry.part)
            self._sheets[name] = SheetCells(text, entry.part, prefix_of(text))
        return self._sheets[name]

    def fill_of(self, sheet: str, ref: str) -> Optional[str]:
        row, col = parse_ref(ref)
        return self.styles.fill_of(self.sheet(sheet).style_of(row, col))


_CELL = re.compile(r"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_REF = re.compile(r'\sr="([A-Z]{1,3}\d+)"')
_FORMULA = re.compile(r"<(?:\w+:)?f[\s>/]")
# A saved result: <v>17</v>; openpyxl writes <v /> (nothing saved). Excel writes an empty
# text result as t="str" with <v></v>, which counts as saved.
_VALUE = re.compile(r"<(?:\w+:)?v>[^<]+</(?:\w+:)?v>")
_TEXT_RESULT = re.compile(r'\st="str"')


def uncached_formulas(pkg: Package, workbook: WorkbookXml, sheets: Sequence[str]) -> dict[str, list[str]]:
    """Cells holding a formula without a saved result, per sheet.

    Excel and LibreOffice save each formula's last result; a file written by a library
    (openpyxl, for one) may not. calamine then reads the cell as empty, which must never
    pass for "nothing reported": such cells become findings. Parts without a formula are
    skipped after a byte search.
    """
    out: dict[str, list[str]] = {}
    for name in sheets:
        entry = workbook.sheet(name)
        if entry is None or entry.part is None:
            continue
        raw = pkg.read(entry.part)
        if b"<f" not in raw and b":f>" not in raw and b":f " not in raw:
            continue
        for m in _CELL.finditer(raw.decode("utf-8")):
            inner = m.group(2) or ""
            if _FORMULA.search(inner) and not _VALUE.search(inner) and not (
                    _TEXT_RESULT.search(m.group(1)) and re.search(r"<(?:\w+:)?v>", inner)):
                ref = _REF.search(m.group(1))
                if ref:
                    out.setdefault(name, []).append(ref.group(1))
    return out


def _formula_findings(data: MasterData, missing: dict[str, list[str]]) -> list[Finding]:
    """Only cells the contract reads matter: a formula in a staff memo column is theirs."""
    read = {(e.sheet, ref) for e in data.entries for ref in e.cells.values()}
    read |= {(i.sheet, ref) for i in data.indicators for ref in i.cells.values()}
    out = []
    for sheet, refs in missing.items():
        for ref in refs:
            if (sheet, ref) in read:
                out.append(Finding("formula-without-result", ERROR, sheet, ref, "",
                                   f"{sheet}!{ref} の数式に計算結果が保存されていません（空として扱えません）",
                                   "Excel で開いて保存し直すか、数式を値に変えてください"))
    return out


def read_state(pkg: Package) -> FileState:
    workbook = WorkbookXml(pkg)
    sheetnames = [s.name for s in workbook.sheets if s.part is not None]
    names = workbook.workbook_names()
    wanted = needed_sheets(sheetnames)
    extra = [n for n in (c.FINDINGS, c.IMPORT_LOG) if n in sheetnames]
    grids = read_grids(pkg, [*wanted, *extra])
    data = read_contract({n: grids[n] for n in wanted}, names)
    data.findings.extend(_formula_findings(data, uncached_formulas(pkg, workbook, wanted)))
    styles = StyleReader(pkg, workbook)
    state = MasterState(sheetnames, names, {n: grids[n] for n in extra}, styles.fill_of)
    return FileState(pkg, workbook, data, state, styles, {n: grids[n] for n in wanted})

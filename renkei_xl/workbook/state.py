"""What the file face knows of a master before a write: its contract data and state.

Values come from python-calamine, which reads every sheet fast and sees the cached result
of each formula (openpyxl gives either the formula or, loaded a second time, its value).
Names, sheets and cell formats come from the package itself (renkei_xl.package), which the
file applier then edits; so reader and writer agree about which part is which sheet.
"""

from __future__ import annotations

from functools import partial
from typing import Callable, Mapping, Optional, Sequence

from ..core import contract as c
from ..core.calc_on_load import UNCALCULATED_NAME, read_record, saved_uncalculated, stale_results
from ..core.contract_read import Book, MasterData, merged_inputs, needed_sheets, read_contract
from ..core.percent_cells import PercentFormats
from ..core.refs import parse_ref
from ..core.errors import UserError
from ..core.findings import MISSING_HEADER
from ..core.model import Finding
from ..core.validate import uncached_formula_finding
from ..core.values import NO_RESULT_NAMED, NO_RESULT_VALUE
from ..package.cells import SheetCells
from ..package.comments import sheet_comments
from ..package.drawing import sheet_charts
from ..package.rels import T_STYLES, T_TABLE, has_rel, read_rels
from ..package.styles import Styles, read_styles
from ..package.workbook import WorkbookXml
from ..package.xml import prefix_of
from ..package.zipped import Package
from ..core.plan_types import MasterState
from .grids import Grids, SheetMapping
from .sheet_checks import (check_shared_strings, formula_cells, formula_refs, formula_texts, holds_formula,
                           uncached_formulas, unsaved_in_row)


class FileState:
    """The master as one write sees it; ``data`` is dropped once the plan is made."""

    __slots__ = ("pkg", "workbook", "data", "state", "styles", "sheets")

    def __init__(self, pkg: Package, workbook: WorkbookXml, data: Optional[MasterData],
                 state: MasterState, styles: "StyleReader", sheets: Grids):
        self.pkg, self.workbook, self.data, self.state = pkg, workbook, data, state
        self.styles = styles
        self.sheets = sheets     # every sheet the contract reads (read again when asked)

    def close(self) -> None:
        self.sheets.close()


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
            self._styles = read_styles(self.pkg.read(self.part), self.part)
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

    def number_format_at(self, sheet: str, row: int, col: int) -> str:
        """The number format Excel applies to a value written into the cell (its own, its
        row's or its column's: SheetCells.style_of)."""
        return self.styles.number_format_of(self.sheet(sheet).style_of(row, col))

    def locked_at(self, sheet: str, row: int, col: int) -> bool:
        """Whether Excel keeps the cell from being typed into while its sheet is protected."""
        return self.styles.locked_of(self.sheet(sheet).style_of(row, col))


def _formula_findings(data: MasterData, missing: dict[str, list[str]]) -> list[Finding]:
    """Only cells the contract reads matter: a formula in a staff memo column is theirs."""
    if not missing:
        return []
    wanted = {(sheet, ref) for sheet, refs in missing.items() for ref in refs}
    read = {(r.sheet, ref): getattr(r, "indicator_id", None) or getattr(r, "id", "")
            for r in [*data.entries, *data.indicators] if r.sheet in missing
            for ref in r.cells.values() if (r.sheet, ref) in wanted}
    out = []
    for sheet, refs in missing.items():
        for ref in refs:
            if (sheet, ref) in read:
                out.append(uncached_formula_finding(sheet, ref, read[(sheet, ref)]))
    return out


def _name_header_formulas(data: MasterData, missing: dict[str, list[str]]) -> None:
    """A header that is a formula saved without its result reads as empty, so the sheet's
    header is not found: the finding names that cell and why, not A1 (a file written by a
    tool other than Excel; Excel's save mends it). One the reader named already (a header
    row missing a header: contract_read.Book._unsaved_marked) is left as it is."""
    for i, f in enumerate(data.findings):
        refs = missing.get(f.sheet, ()) if f.type == MISSING_HEADER.code and NO_RESULT_NAMED not in f.message else ()
        near = sorted((ref for ref in refs if parse_ref(ref)[0] <= c.HEADER_SEARCH_ROWS), key=parse_ref)
        if near:
            data.findings[i] = f._replace(cell=near[0], message=f"{f.message}（見出しのセル {near[0]} は数式で、"
                                          "計算結果が保存されていません。Excel で開いて保存し直してください）")


def _mark_record_formulas(own: dict, missing: Mapping[str, Sequence[str]]) -> None:
    """経年's formulas saved without their result are put in the grid as NO_RESULT_VALUE:
    calamine gives them as empty, and core.history read them so (a year's record gone, an
    評価 not counted in 集計's year rate, the header not found). 経年 is read by the readers
    of core.history, which refuse by values.unread_value, not by findings: the placeholder
    makes them name the cell as they name an error value, only in the cells they read.
    取込履歴 alike (cycle.collect.import_log): a 提出日時 read as none let an older return
    overwrite the newer one. 一覧 too: staff's columns beside it are carried through 評価を
    再計算 (core.list_notes), and a note read as empty vanished without a word."""
    for sheet in (c.HISTORY, c.IMPORT_LOG, c.LIST):
        if missing.get(sheet) and own.get(sheet) is not None:
            mark_unsaved(own[sheet], missing[sheet])


def mark_unsaved(grid: list, refs: Sequence[str]) -> None:
    """Puts NO_RESULT_VALUE into ``grid`` (rows from A1, as Grids reads them) at each of
    ``refs``, the cells holding a formula saved without its result (sheet_checks.uncached_formulas)."""
    for ref in refs:
        row, col = parse_ref(ref)
        while len(grid) < row:
            grid.append([])
        cells = grid[row - 1] = list(grid[row - 1])
        cells.extend([""] * (col - len(cells)))
        cells[col - 1] = NO_RESULT_VALUE


def _settings_formulas(grids: "Grids", names: Mapping[str, tuple[str, str]]) -> None:
    """A setting whose formula has no saved result is refused before 設定 is read: calamine
    gives it as empty, and 設定 is never read around a gap (contract_read.read_settings)."""
    if c.SETTINGS not in grids:
        return
    grids.rows(c.SETTINGS)
    raw = grids.with_formulas.get(c.SETTINGS)
    refs = set(uncached_formulas({c.SETTINGS: raw}).get(c.SETTINGS, ())) if raw else set()
    if not refs:
        return
    label_of = _settings_labels(grids, names)
    for ref in sorted(refs, key=parse_ref):
        label = label_of(ref)
        if label is not None:
            f = uncached_formula_finding(c.SETTINGS, ref, "")
            raise UserError(f"{f.place}: {label}の{f.message}")


def _settings_labels(grids: "Grids", names: Mapping[str, tuple[str, str]]) -> Callable[[str], Optional[str]]:
    """What a cell of 設定 is read as (a setting's name, a column of the municipality
    table), or None for a cell the contract does not read."""
    read = {ref.replace("$", "").split(":")[0]: name for name, (sheet, ref) in names.items()
            if sheet == c.SETTINGS and name in (*c.SETTING_NAMES, c.N_SERVER_FOLDER)}
    book = Book({c.SETTINGS: grids.rows(c.SETTINGS)}, {})
    try:
        header_row, cols = book.header(c.SETTINGS, c.MUNI_HEADERS, ("name",))
    except UserError:
        header_row, cols = 0, {}

    def label(ref: str) -> Optional[str]:
        row, col = parse_ref(ref)
        return read.get(ref) or next((c.MUNI_HEADERS[f] for f, k in cols.items() if k == col and row > header_row),
                                     None)
    return label


def _read_cells(data: MasterData, formulas: Mapping[str, object], settings: Callable[[str], Optional[str]]
                ) -> Callable[[str, str], Optional[tuple[str, str]]]:
    """(指標ID, the column's header) of each cell the contract reads on the sheets in
    ``formulas`` (設定's: its label, no 指標ID), for core.calc_on_load.stale_results."""
    read: dict[tuple[str, str], tuple[str, str]] = {}
    for records, headers, key in ((data.indicators, c.INDICATOR_HEADERS, "id"),
                                  (data.entries, c.ENTRY_HEADERS, "indicator_id")):
        for r in records:
            if r.sheet in formulas:
                for field, ref in r.cells.items():
                    read[(r.sheet, ref)] = (getattr(r, key), headers.get(field, field))

    def found(sheet: str, ref: str) -> Optional[tuple[str, str]]:
        if sheet == c.SETTINGS:
            label = settings(ref)
            return None if label is None else ("", label)
        return read.get((sheet, ref))
    return found


def read_state(pkg: Package, keep_grids: bool = False, workbook: Optional[WorkbookXml] = None) -> FileState:
    """``keep_grids``: the contract reads whole grids and keeps them (see Grids).
    ``workbook``: workbook.xml already read (kind.check_master), not parsed again."""
    workbook = workbook or WorkbookXml(pkg)
    check_shared_strings(pkg, workbook)
    sheetnames = [s.name for s in workbook.sheets if s.part is not None]
    names = workbook.workbook_names()
    wanted = needed_sheets(sheetnames)
    extra = [n for n in c.STATE_SHEETS if n in sheetnames]
    grids = Grids(pkg, [*wanted, *extra], workbook, keep=None if keep_grids else Grids.KEEP,
                  checked_first=[c.INDICATORS])
    try:
        grids.read_ahead([*extra, c.SETTINGS, c.INDICATORS])   # 指標 parsed once checked (checked_first)
        own = {n: grids[n] for n in extra}
        _settings_formulas(grids, names)
        data = read_contract(ContractView(grids, wanted, whole=keep_grids), names, grids.read_ahead,
                             PercentFormats(grids.formats))
    except BaseException:
        grids.close()
        raise
    # A master asking to be calculated on opening: the saved results are looked at too
    # (core.calc_on_load.stale_results), in the same scan as the missing ones.
    manual = saved_uncalculated(workbook.calc_setting("calcMode"), workbook.calc_setting("calcOnSave"))
    flagged = workbook.full_calc_on_load
    formulas = formula_cells(grids.with_formulas, saved_too=flagged or manual)
    uncached = {name: [ref for ref, saved in cells.items() if not saved]
                for name, cells in formulas.items() if not all(cells.values())}
    _name_header_formulas(data, uncached)
    _mark_record_formulas(own, uncached)
    data.findings.extend(_formula_findings(data, uncached))
    saved = {name: [ref for ref, kept in cells.items() if kept] for name, cells in formulas.items() if any(cells.values())}
    if saved:
        settings = _settings_labels(grids, names) if c.SETTINGS in saved else (lambda ref: None)
        changed = _recorded(workbook) if flagged and not manual else None
        refs = None if changed is None else FormulaReferences(pkg, workbook, dict(grids.with_formulas))
        data.findings.extend(stale_results(flagged, saved, _read_cells(data, saved, settings), changed,
                                           refs and refs.cell, refs and refs.sheet, manual))
    grids.with_formulas.clear()
    data.findings.extend(merged_inputs(data.entries, partial(_sheet_merges, pkg, workbook), data.indicators))
    styles = StyleReader(pkg, workbook)
    state = MasterState(sheetnames, names, own, styles.fill_of, partial(sheet_comments, pkg, workbook),
                        charts=partial(sheet_charts, pkg, workbook), tables=partial(_sheet_tables, pkg, workbook),
                        cell_settings=partial(_sheet_cell_settings, pkg, workbook),
                        formulas=partial(_sheet_formulas, pkg, workbook), percents=grids.formats,
                        hidden_cols=partial(_sheet_hidden_cols, pkg, workbook))
    return FileState(pkg, workbook, data, state, styles, grids)


def _sheet_tables(pkg: Package, workbook: WorkbookXml, sheet: str) -> list:
    """package.tables.sheet_tables, imported only for a sheet that has a table."""
    entry = workbook.sheet(sheet)
    if entry is None or not entry.part or not has_rel(pkg, entry.part, T_TABLE):
        return []
    from ..package.tables import sheet_tables

    return sheet_tables(pkg, workbook, sheet)


def _sheet_merges(pkg: Package, workbook: WorkbookXml, sheet: str) -> list[tuple[int, int, int, int]]:
    """package.cells.merged_areas of a sheet as saved (none where its part is missing), from
    the elements after its cells that the grid's read remembered (package.sheet_tail): the
    part is not inflated a second time (a tenth of a 20,000-row master's read)."""
    from ..package.cells import merged_areas
    from ..package.sheet_tail import sheet_tail

    entry = workbook.sheet(sheet)
    if entry is None or not entry.part or entry.part not in pkg:
        return []
    tail = sheet_tail(pkg, entry.part)
    return merged_areas(tail.decode("utf-8", "replace")) if b"mergeCell" in tail else []


def _sheet_formulas(pkg: Package, workbook: WorkbookXml, sheet: str) -> frozenset:
    """sheet_checks.formula_refs of a sheet as saved, read when a plan first asks."""
    entry = workbook.sheet(sheet)
    if entry is None or not entry.part or entry.part not in pkg:
        return frozenset()
    return formula_refs(pkg.read(entry.part))


def _sheet_hidden_cols(pkg: Package, workbook: WorkbookXml, sheet: str) -> tuple:
    """package.sheet_window.hidden_columns of a sheet as saved, read when a plan first asks."""
    from ..package.sheet_window import hidden_columns, sheet_top

    entry = workbook.sheet(sheet)
    if entry is None or not entry.part or entry.part not in pkg:
        return ()
    return hidden_columns(sheet_top(pkg, entry.part))


def _sheet_cell_settings(pkg: Package, workbook: WorkbookXml, sheet: str) -> list:
    """package.cell_settings.sheet_cell_settings, imported when a rebuild first asks."""
    from ..package.cell_settings import sheet_cell_settings

    return sheet_cell_settings(pkg, workbook, sheet)


def _recorded(workbook: WorkbookXml) -> "Optional[frozenset]":
    """The sheets the tool's writes changed since Excel last calculated, or None: unknown."""
    definition = next((n.value for n in workbook.names
                       if n.name.lower() == UNCALCULATED_NAME.lower() and n.local_sheet is None), None)
    return read_record(definition)


class FormulaReferences:
    """Which sheets the formulas of a flagged master read (core.formula_refs), for
    core.calc_on_load.stale_results. Asked only for a formula in a cell the contract reads,
    and for the sheets such formulas read: each sheet's formulas are parsed once, when first
    asked (its XML as the read kept it, or else from the package)."""

    def __init__(self, pkg: Package, workbook: WorkbookXml, kept: Mapping[str, bytes]):
        self.pkg, self.kept = pkg, kept
        self.by_folded = {s.name.casefold(): s for s in workbook.sheets}
        self._texts: dict[str, Optional[dict]] = {}

    def _formulas(self, name: str) -> "Optional[dict[str, Optional[str]]]":
        """{cell: text} of a sheet (empty for a sheet without formulas, a chart sheet or a
        name no sheet has: a formula naming one shows #REF!); None when the part cannot be
        read, so it may read anything."""
        from ..package.xml import PackageError

        folded = name.casefold()
        if folded not in self._texts:
            entry = self.by_folded.get(folded)
            raw = None if entry is None else self.kept.get(entry.name)
            try:
                if raw is None and entry is not None and entry.part is not None and entry.part in self.pkg:
                    raw = self.pkg.read(entry.part)
                self._texts[folded] = formula_texts(raw) if raw is not None and holds_formula(raw) else {}
            except (PackageError, UnicodeDecodeError):
                self._texts[folded] = None
        return self._texts[folded]

    def cell(self, sheet: str, ref: str) -> "Optional[frozenset]":
        from ..core.formula_refs import sheets_read

        texts = self._formulas(sheet)
        text = None if texts is None else texts.get(ref)
        return None if text is None else sheets_read(text, sheet)

    def sheet(self, folded: str) -> "Optional[frozenset]":
        from ..core.formula_refs import sheets_read

        texts = self._formulas(folded)
        if texts is None:
            return None
        own = self.by_folded[folded].name if folded in self.by_folded else folded
        out: set = set()
        for text in texts.values():
            found = None if text is None else sheets_read(text, own)
            if found is None:
                return None
            out |= found
        return frozenset(out)


class ContractView(SheetMapping):
    """The sheets the contract reads, out of all the grids: streamed, or ``whole`` grids."""

    def __init__(self, grids: Grids, names: Sequence[str], whole: bool = False):
        self._grids, self._names, self._whole = grids, list(names), whole

    def __getitem__(self, name: str) -> Sequence[list]:
        if name not in self._names:
            raise KeyError(name)
        return self._grids[name] if self._whole else self._grids.rows(name).loose()

    def unsaved_in_row(self, name: str, row_no: int) -> frozenset[int]:
        """The columns of row ``row_no`` of sheet ``name`` (read already) holding a formula
        saved without its result, which calamine reads as empty: asked of a header row
        missing a header (contract_read.Book._unsaved_marked)."""
        raw = self._grids.with_formulas.get(name)
        return unsaved_in_row(raw, row_no) if raw is not None else frozenset()

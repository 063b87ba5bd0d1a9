"""Apply a write plan to a master's package, part by part; decide nothing.

- Each planned sheet replaces the worksheet part of that name (same part name, same code
  name, so the VBA document module still belongs to it), its relationships and the
  chart and comment parts only it used; the pictures, shapes, form controls and slicers
  staff placed on it, its tab colour and window settings stay, as Excel's Clear All
  leaves them (renkei_xl.package.drawing, .controls, .slicers, .sheet_window), and so do its
  custom views, cell watches, editable ranges and background picture with the parts they
  name (.sheet_settings); its headers, footers, header pictures and printer settings are
  merged with the plan's page (.page_kept). A sheet staff deleted is added at the end.
- A table (ListObject) staff made on a rebuilt sheet goes with it, as the buttons' Clear All
  deletes it in Excel: its slicers go too, and what refers to it is made #REF!
  (renkei_xl.package.tables, .slicers.drop_table_slicers).
- Print titles, print areas and filter ranges of those sheets are their defined names in
  workbook.xml; only those elements change.
- Staff-sheet cells named by the plan are edited in place (renkei_xl.package.cells), and
  so are the column widths it names (renkei_xl.package.columns); every other byte of those
  parts stays.
- Formats are found in or appended to styles.xml (renkei_xl.package.styles).
- In a macro book, a planned sheet without a code name (経年, 次の一歩 and 取込履歴 when first
  written, a tool sheet staff deleted) gets one, and the VBA project its document module
  when the project is the one this installation wrote (renkei_xl.vba.sources.own_project_with);
  otherwise Excel adds the module when it next saves the book.
- When a staff formula could read what the plan writes (core.calc_on_load decides),
  workbook.xml's calcPr gets fullCalcOnLoad="1", its other bytes kept, and the hidden name
  _renkei_uncalculated records the sheets this write changed values on (started with the
  flag, added to while it stands: core.calc_on_load.record_after).
- In a book set to precision as displayed (calcPr fullPrecision="0"), each number written
  into a staff cell is stored as Excel keeps it there, rounded to the cell's format
  (core.displayed).
- When the write puts a value where Excel's calculation chain names a formula, the chain
  (xl/calcChain.xml) is dropped, for Excel to rebuild (renkei_xl.package.calc_chain).
Every other part of the package is left as it is.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Callable, Iterable, Iterator, Mapping, Optional, Sequence

from ..core.looks import LOOKS, PAPER_CODES, PrintSetup, Protection, too_many_formats
from ..package.calc_chain import drop_if_replaced
from ..package.cells import KEEP, column_letter, value_xml
from ..package.chart import chart_anchors, column_chart_xml, drawing_xml_many
from ..package.controls import T_VML, kept_controls
from ..package.controls import kept_parts as controls_parts
from ..package.drawing import KeptDrawing, drawing_of, kept_drawing, kept_parts, write_kept
from ..package.rels import (CT_CHART, CT_DRAWING, T_CHART, T_DRAWING, T_SLICER, T_TABLE, T_TIMELINE, ContentTypes,
                            add_rel, has_rel, read_rels, rels_part, write_rels)
from ..package.sheet_window import SheetWindow, sheet_top, sheet_window
from ..package.styles import Styles
from ..core.calc_on_load import UNCALCULATED_NAME, full_calc_on_load, record_after
from ..core import contract as c
from ..core.contract import tool_chart_name
from ..core.errors import UserError
from ..core.refs import cell_ref, quote_sheet
from ..package.workbook import WorkbookXml
from ..package.xml import MAIN_NS, REL_NS, attr, escape
from ..package.zipped import Package, fresh_name, relative
from ..core.methods import error_title
from ..core.plan_types import CONDITIONAL_KINDS, DATABAR, EQUAL, CondFormat, SheetPlan, Validation, WritePlan
from .state import StyleReader

XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def apply_plan(pkg: Package, workbook: WorkbookXml, reader: StyleReader, plan: WritePlan,
               formulas: Optional[Mapping[str, bool]] = None) -> None:
    """``formulas``: whether a sheet holds a formula, for the sheets the read already
    scanned (Grids.formulas); any other is looked at here, and only while it matters."""
    from ..vba import VBA_PART

    if plan.under_way:
        # A file is replaced whole or not at all: the plan marks no click under way for it
        # (MasterState.stops_halfway), and a plan made for Excel is not one for the file.
        raise ValueError("a plan marked under way is for a face that writes one cell at a time")
    plan.refuse_missing(workbook.sheetnames)
    plan.refuse_long_texts()   # as a button's
    plan.refuse_past_the_extent()
    if not workbook.full_precision:
        _as_displayed(plan, reader)
    if workbook.date1904:
        _as_1904_serials(plan)
    flagged = workbook.full_calc_on_load
    recalc = not flagged and full_calc_on_load(
        plan, [s.name for s in workbook.sheets if s.part], _formula_check(pkg, workbook, formulas or {}))
    current = next((n.value for n in workbook.names
                    if n.name.lower() == UNCALCULATED_NAME.lower() and n.local_sheet is None), None)
    record, recorded = record_after(plan, flagged, recalc, current)
    types = ContentTypes(pkg)
    styles = reader.styles
    macros = VBA_PART in pkg
    before = _code_names(pkg, workbook) if macros else []
    # The tables staff made on the sheets rebuilt go with them (package.tables): what
    # refers to them is made #REF!, as Excel does when the buttons' Clear deletes them.
    dropped, dropped_ids = _staff_tables(pkg, workbook, plan)
    for sheet in plan.sheets:
        _replace_sheet(pkg, workbook, types, styles, sheet, macros)
    sheets, names = _drop_staff_tables(pkg, workbook, types, plan, dropped, dropped_ids)
    if sheets or names:
        # Their cached results are stale now, on sheets the plan does not name: Excel
        # calculates on load, and the record names those sheets too.
        recalc = recalc or not flagged
        record, recorded = record_after(plan, flagged, recalc, current, sheets)
    if macros:
        _document_modules(pkg, before, _code_names(pkg, workbook))
    _edit_staff_cells(pkg, reader, styles, plan)
    for n in plan.names:
        workbook.set_name(n.name, None, n.value, n.hidden)
    if recalc:
        workbook.ask_full_calc_on_load()
    if record:
        workbook.set_name(UNCALCULATED_NAME, None, recorded, hidden=True)
    if styles.dirty:
        if (problem := too_many_formats(*styles.cell_formats())) is not None:
            raise UserError(problem)
        pkg.write(reader.part, styles.render())
    ids = {s.name: s.sheet_id for s in workbook.sheets}
    drop_if_replaced(pkg, workbook.part, types, [ids[s.name] for s in plan.sheets if s.name in ids],
                     [(ids.get(e.sheet, ""), cell_ref(e.row, e.col)) for e in plan.cells if e.value is not KEEP])
    workbook.save()
    types.save()


def _formula_check(pkg: Package, workbook: WorkbookXml, known: Mapping[str, bool]) -> Callable[[str], bool]:
    """Whether a sheet holds a formula as the master was read, before anything is written.
    A staff sheet the write cannot read (a part the package refuses) is copied as it is, as
    before; it is taken to hold one, the safe side."""
    from ..package.xml import PackageError
    from .sheet_checks import holds_formula

    def check(name: str) -> bool:
        if name in known:
            return known[name]
        entry = workbook.sheet(name)
        if entry is None or entry.part is None or entry.part not in pkg:
            return False
        try:
            return holds_formula(pkg.read(entry.part))
        except PackageError:
            return True

    return check


# ------------------------------------------------------------------ owned sheets

def _replace_sheet(pkg: Package, workbook: WorkbookXml, types: ContentTypes, styles: Styles,
                   sheet: SheetPlan, macros: bool) -> None:
    entry = workbook.sheet(sheet.name) or workbook.add_sheet(sheet.name, types)
    part = entry.part
    old = sheet_top(pkg, part) if part in pkg else ""
    code_name = _attr_of(old, "sheetPr", "codeName")
    if code_name is None and macros:
        code_name = _new_code_name(sheet.name, _code_names(pkg, workbook))
    selected = _attr_of(old, "sheetView", "tabSelected") in ("1", "true")
    window = sheet_window(old)
    gone = _only_reachable_from(pkg, workbook, part)
    controls, kept, slicers, settings = _staff_kept(pkg, part, gone)
    # Their relationships go with them: 集計's old drawing.xml.rels, left when the sheet was
    # rebuilt without a chart (rollover), pointed at charts no longer in the file.
    gone |= {rels_part(pkg, name) for name in gone if rels_part(pkg, name) in pkg}
    for name in gone:
        pkg.remove(name)
    # The controls', slicers' and settings' relationships keep their ids, which they name.
    rels: list[tuple[str, str, str]] = [*(controls.rels if controls else ()), *(slicers.rels if slicers else ()),
                                        *(settings.rels if settings else ())]
    free = (f"rId{n}" for n in range(1, len(rels) + 3) if f"rId{n}" not in {r[0] for r in rels})
    drawing_rid = legacy_rid = None
    drawing = _write_drawing(pkg, types, sheet, kept)
    if drawing:
        drawing_rid = next(free)
        rels.append((drawing_rid, T_DRAWING, relative(part, drawing)))
    if controls:
        pkg.write(controls.vml_part, controls.vml)
        legacy_rid = next(free)
        rels.append((legacy_rid, T_VML, relative(part, controls.vml_part)))
    pkg.write_pieces(part, render_sheet(sheet, styles, code_name, selected, drawing_rid,
                                        legacy_rid, controls.controls if controls else b"", window,
                                        slicers.exts if slicers else b"", settings.elements if settings else None))
    write_rels(pkg, part, rels)
    # Content types last: a part written again under its old name keeps its Override where
    # it was, so a second identical run leaves [Content_Types].xml byte-identical. The sheet's
    # own .rels too: LibreOffice gives every .rels an Override, and a sheet rebuilt without a
    # chart (rollover's 集計) loses its .rels; an Override of an absent part makes Excel repair.
    for name in gone | {rels_part(pkg, part)}:
        if name not in pkg:
            types.remove(name)
    index = workbook.index(sheet.name)
    q = quote_sheet(sheet.name)
    ps = sheet.print_setup
    workbook.set_name("_xlnm.Print_Titles", index,
                      f"{q}!${ps.title_rows[0]}:${ps.title_rows[1]}" if ps and ps.title_rows else None)
    workbook.set_name("_xlnm.Print_Area", index, f"{q}!{_abs(ps.area)}" if ps and ps.area else None)
    workbook.set_name("_xlnm._FilterDatabase", index,
                      f"{q}!{_abs(sheet.autofilter)}" if sheet.autofilter else None, hidden=True)


def _staff_kept(pkg: Package, part: str, gone: set[str]) -> tuple:
    """What staff placed on the old sheet that its rebuild keeps, as the buttons' Clear All
    leaves it: form controls, the drawing's pictures and shapes, slicers and the sheet-level
    settings (package.controls, .drawing, .slicers, .sheet_settings); the parts they need are
    taken out of ``gone``."""
    old_drawing = drawing_of(pkg, part) if part in pkg else None
    controls = kept_controls(pkg, part) if part in pkg else None
    if controls and controls.vml_part not in gone:
        controls = None         # a legacy drawing another part shares: not the tool's to rewrite
    kept = kept_drawing(pkg, old_drawing, controls is not None) if old_drawing in gone else None
    if kept:
        gone -= kept_parts(pkg, kept)
    if controls:
        gone -= controls_parts(pkg, controls, part)
    slicers, slicer_parts = _kept_slicers(pkg, part)
    gone -= slicer_parts
    from ..package.sheet_settings import kept_settings
    from ..package.sheet_settings import kept_parts as settings_parts

    settings = kept_settings(pkg, part)
    if settings:
        gone -= settings_parts(pkg, settings, part)
    return controls, kept, slicers, settings


def _code_names(pkg: Package, workbook: WorkbookXml) -> list[str]:
    """The worksheets' code names in sheet order (sheets without one left out), as
    renkei_xl.vba.inject.sheet_code_names reads them from a file."""
    out = []
    for name in workbook.sheetnames:
        entry = workbook.sheet(name)
        if entry is not None and entry.part and entry.part.startswith("xl/worksheets/") and entry.part in pkg:
            code = _attr_of(sheet_top(pkg, entry.part), "sheetPr", "codeName")
            if code:
                out.append(code)
    return out


def _new_code_name(sheet_name: str, taken: Iterable[str]) -> str:
    """The tool's code name for its sheet (core.contract.CODE_NAMES), numbered
    when taken; ASCII, as VBA needs."""
    base = c.CODE_NAMES.get(sheet_name, "shSheet")
    used = {t.lower() for t in taken}
    name, n = base, 1
    while name.lower() in used:
        n += 1
        name = f"{base}{n}"
    return name


def _document_modules(pkg: Package, before: list[str], after: list[str]) -> None:
    if after == before:
        return
    from ..package.vba_signature import signature_parts
    from ..vba import VBA_PART
    from ..vba.sources import own_project_with

    if signature_parts(pkg, VBA_PART):
        # A signed project stays as it was signed: rebuilt, its signature would sign code no
        # longer there (package.vba_signature), and the buttons of a book signed to run them
        # would stop. Excel adds the document module when it next saves the book.
        return
    # Built for a server (its URL is the xlwings.conf row init wrote) or not: the servers
    # first, so a server's master builds the project to compare once, not twice (each
    # build compresses ~120 KB in Python: vba.sources._master_project).
    data = own_project_with(pkg.read(VBA_PART), before, after, [*_conf_servers(pkg), None])
    if data is not None:
        pkg.write(VBA_PART, data)


def _conf_servers(pkg: Package) -> list[Optional[str]]:
    from .conf import conf_rows

    try:
        rows = conf_rows(pkg.path)
    except Exception:   # an unreadable xlwings.conf only means: no server to try
        return []
    return [str(row[1]).strip() for row in rows
            if len(row) > 1 and str(row[0] or "").strip().upper() == c.SERVER_KEY and row[1]]


def _write_drawing(pkg: Package, types: ContentTypes, sheet: SheetPlan, kept: Optional[KeptDrawing]) -> Optional[str]:
    """The sheet's drawing part, if it has one: the planned charts, after what staff placed
    there (``kept``: package.drawing), in a part of its own otherwise."""
    if not (sheet.charts or kept):
        return None
    drawing = kept.part if kept else fresh_name(pkg.names(), "xl/drawings/drawing%d.xml")
    taken = {rel.id for rel in read_rels(pkg, drawing) if rel.id in kept.rel_ids} if kept else set()
    free = (f"rId{n}" for n in range(1, len(taken) + len(sheet.charts) + 2) if f"rId{n}" not in taken)
    anchors, chart_rels = [], []
    for ch in sheet.charts:
        chart = fresh_name(pkg.names(), "xl/charts/chart%d.xml")
        cats = [_value_at(sheet, ch.categories[0], col) for col in range(ch.categories[1], ch.categories[3] + 1)]
        vals = [_value_at(sheet, ch.values[0], col) for col in range(ch.values[1], ch.values[3] + 1)]
        pkg.write(chart, column_chart_xml(sheet.name, ch.title, ch.categories, ch.values, cats, vals, ch.legend))
        types.add(chart, CT_CHART)
        rid = next(free)
        anchors.append((ch.anchor, ch.width_cm, ch.height_cm, rid, tool_chart_name(ch.title)))
        chart_rels.append((rid, T_CHART, relative(drawing, chart)))
    if kept:
        write_kept(pkg, kept, chart_anchors(anchors, kept.next_id, declare=kept.foreign_prefixes))
        for rid, type_, target in chart_rels:
            add_rel(pkg, drawing, type_, target, rid)
    else:
        pkg.write(drawing, drawing_xml_many(anchors))
        write_rels(pkg, drawing, chart_rels)
        types.add(drawing, CT_DRAWING)
    return drawing


def _value_at(sheet: SheetPlan, row: int, col: int) -> object:
    cell = sheet.cell(row, col)
    return cell[0] if cell else None


def _only_reachable_from(pkg: Package, workbook: WorkbookXml, part: str) -> set[str]:
    """Parts reachable from ``part`` and from nothing else: the old drawings, charts,
    comments of a tool sheet, which go with it."""
    def walk(start: Iterable[str], skip: str) -> set[str]:
        seen: set[str] = set()
        todo = [s for s in start if s != skip]
        while todo:
            cur = todo.pop()
            if cur in seen:
                continue
            seen.add(cur)
            for rel in read_rels(pkg, cur):
                if rel.part and rel.part != skip and rel.part in pkg:
                    todo.append(rel.part)
        return seen

    if part not in pkg:
        return set()
    kept = walk([""], part)
    mine = walk([part], "") - {part}
    return {p for p in mine - kept if p in pkg}


def _attr_of(text: str, tag: str, name: str) -> Optional[str]:
    m = re.search(r"<(?:\w+:)?" + tag + r'\b[^<>]*\s' + name + r'="([^"]*)"', text)
    return m.group(1) if m else None


def _abs(rect) -> str:
    r1, c1, r2, c2 = rect
    return f"${column_letter(c1)}${r1}:${column_letter(c2)}${r2}"


def _ref(rect) -> str:
    r1, c1, r2, c2 = rect
    a, b = f"{column_letter(c1)}{r1}", f"{column_letter(c2)}{r2}"
    return a if a == b else f"{a}:{b}"


def _kept_slicers(pkg: Package, part: str) -> tuple:
    """package.slicers.kept_slicers and the parts they keep, imported only for a sheet with a
    slicer or a timeline (its patterns would cost every write)."""
    if not has_rel(pkg, part, T_SLICER, T_TIMELINE):
        return None, set()
    from ..package.slicers import kept_parts, kept_slicers

    slicers = kept_slicers(pkg, part)
    return slicers, (kept_parts(pkg, slicers, part) if slicers else set())


def _staff_tables(pkg: Package, workbook: WorkbookXml, plan: WritePlan) -> "tuple[list[str], set[str]]":
    """The names and ids of the tables staff made on the sheets the plan rebuilds (read
    before the rebuild removes them; package.tables only where a sheet has one)."""
    on = [s.name for s in plan.sheets if (e := workbook.sheet(s.name)) is not None and e.part
          and has_rel(pkg, e.part, T_TABLE)]
    if not on:
        return [], set()
    from ..package.tables import sheet_tables, table_ids

    return ([name for sheet in on for name, _ref in sheet_tables(pkg, workbook, sheet)],
            {i for sheet in on for i in table_ids(pkg, workbook, sheet)})


def _drop_staff_tables(pkg: Package, workbook: WorkbookXml, types: ContentTypes, plan: WritePlan,
                       dropped: list, dropped_ids: set) -> "tuple[set[str], bool]":
    """Their slicers removed and what refers to them made #REF!: the sheets whose formulas
    changed, and whether a defined name did."""
    if not dropped:
        return set(), False
    from ..package.slicers import drop_table_slicers
    from ..package.tables import drop_table_refs

    if dropped_ids:         # and their slicers, as Excel deletes them with the table
        drop_table_slicers(pkg, workbook, types, dropped_ids)
    return drop_table_refs(pkg, workbook, dropped, {s.name for s in plan.sheets})


def render_sheet(sheet: SheetPlan, styles: Styles, code_name: Optional[str], selected: bool,
                 drawing_rid: Optional[str], legacy_rid: Optional[str] = None,
                 controls: bytes = b"", window: SheetWindow = SheetWindow(),
                 extensions: bytes = b"", settings: Optional[Mapping[str, bytes]] = None) -> Iterator[str]:
    """A worksheet part from its plan, in pieces, elements in the order CT_Worksheet
    requires. In pieces because a 20,000-row 一覧 is 15 million characters: the package
    compresses each piece as it comes, and the whole text never exists at once (50 MB of
    a run's peak memory)."""
    yield "".join((XML_HEAD, f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">',
                   _sheet_pr(sheet, code_name, window.tab_color),
                   f'<dimension ref="{_ref((1, 1, max(len(sheet.rows), 1), max(sheet.width, 1)))}"/>',
                   _sheet_views(sheet, selected, window.view), '<sheetFormatPr defaultRowHeight="15"/>', _cols(sheet, window.widths)))
    yield from _sheet_data(sheet, styles)
    # The staff's sheet-level settings (package.sheet_settings), each where CT_Worksheet puts it.
    kept = {name: element.decode("utf-8") for name, element in (settings or {}).items()}
    out: list[str] = []
    if own := kept.get("sheetProtection"):      # protected already: as it was (package.sheet_settings)
        out.append(own)
    elif sheet.protect:
        out.append(_sheet_protection(sheet.protection))
    out += [kept.get("protectedRanges", ""), kept.get("scenarios", "")]
    if sheet.autofilter:
        out.append(f'<autoFilter ref="{_ref(sheet.autofilter)}"/>')
    out += [kept.get("dataConsolidate", ""), kept.get("customSheetViews", "")]
    if sheet.merges:
        out.append(f'<mergeCells count="{len(sheet.merges)}">'
                   + "".join(f'<mergeCell ref="{_ref(m)}"/>' for m in sheet.merges) + "</mergeCells>")
    out += [_conditional(cf, priority, styles) for priority, cf in enumerate(sheet.conditional, start=1)]
    if sheet.validations:
        out.append(f'<dataValidations count="{len(sheet.validations)}">'
                   + "".join(_validation_xml(v) for v in sheet.validations) + "</dataValidations>")
    out.append(_hyperlinks(sheet))
    if sheet.print_setup is not None:
        out.append(_page(sheet.print_setup, kept.get("pageSetup"), kept.get("headerFooter"), sheet.name))
    else:                       # the staff's page, as the buttons leave it
        out += [kept.get("pageSetup", ""), kept.get("headerFooter", "")]
    out += [kept.get("customProperties", ""), kept.get("cellWatches", "")]
    if drawing_rid:
        out.append(f'<drawing r:id="{drawing_rid}"/>')
    if legacy_rid:
        out.append(f'<legacyDrawing r:id="{legacy_rid}"/>')
    out += [kept.get("legacyDrawingHF", ""), kept.get("drawingHF", ""), kept.get("picture", "")]
    if controls:                # the staff's form controls, as they were (package.controls)
        out.append(controls.decode("utf-8"))
    out.append(kept.get("webPublishItems", ""))
    if extensions:              # the staff's slicer lists, as they were (package.slicers)
        out.append("<extLst>" + extensions.decode("utf-8") + "</extLst>")
    out.append("</worksheet>")
    yield "".join(out)


def _sheet_pr(sheet: SheetPlan, code_name: Optional[str], tab_color: str = "") -> str:
    ps = sheet.print_setup
    fit = ps is not None and (ps.fit_width or ps.fit_height)
    pr = f' codeName="{attr(code_name)}"' if code_name else ""
    return f"<sheetPr{pr}>" + tab_color + ('<pageSetUpPr fitToPage="1"/>' if fit else "") + "</sheetPr>"


def _sheet_views(sheet: SheetPlan, selected: bool, kept: str = "") -> str:
    """``kept``: the staff's window settings (package.sheet_window), before the attributes
    the renderer decides, in CT_SheetView's order."""
    view = f'<sheetView{kept} tabSelected="1" workbookViewId="0">' if selected else f'<sheetView{kept} workbookViewId="0">'
    if sheet.freeze:
        row, col = sheet.freeze
        top_left = f"{column_letter(col)}{row}"
        pane = "bottomRight" if row > 1 and col > 1 else ("bottomLeft" if row > 1 else "topRight")
        split = (f' xSplit="{col - 1}"' if col > 1 else "") + (f' ySplit="{row - 1}"' if row > 1 else "")
        view += (f'<pane{split} topLeftCell="{top_left}" activePane="{pane}" state="frozen"/>'
                 f'<selection pane="{pane}" activeCell="{top_left}" sqref="{top_left}"/>')
    return f"<sheetViews>{view}</sheetView></sheetViews>"


def _cols(sheet: SheetPlan, old: Sequence[tuple[int, int, float]] = ()) -> str:
    """The plan's columns, and the widths staff gave the others (``old``: the sheet's widths
    before the write, package.sheet_window), which the buttons' Clear All leaves
    (SheetPlan.kept_widths)."""
    runs = [(col, col, f"{sheet.widths.get(col, 9.0):g}", col in sheet.hidden_cols)
            for col in set(sheet.widths) | sheet.hidden_cols]
    runs += [(first, last, repr(width), False) for first, last, width in sheet.kept_widths(old)]  # as read
    if not runs:
        return ""
    return "<cols>" + "".join(
        f'<col min="{first}" max="{last}" width="{width}" customWidth="1"' + (' hidden="1"' if hidden else "") + "/>"
        for first, last, width, hidden in sorted(runs)) + "</cols>"


_KNOWN_TEXTS = 1 << 16


def _sheet_data(sheet: SheetPlan, styles: Styles, rows_per_piece: int = 500) -> Iterator[str]:
    out = ["<sheetData>"]
    # The loop below runs for every cell of a sheet (80,000 in a split's 40 files of 2,000
    # rows): column letters and style attributes are made once, cell_xml's work inlined.
    letters = [column_letter(col) for col in range(1, sheet.width + 1)]
    style = _StyleAttrs(_Formats(styles))
    # A text's XML once per sheet: 一覧 of 20,000 indicators holds 181,000 texts, 47,000 of
    # them distinct (a project's name and 事業概要 on each of its rows, the symbols, units).
    # Bounded, as a sheet of distinct texts gains nothing from it.
    # Kept as the cell tag's end (type attribute, content, closing), so a known text's cell is
    # one lookup and one join (perf-112).
    known: dict[str, str] = {}
    for r, row in enumerate(sheet.rows, start=1):
        cells = []
        number = f'{r}"'
        for col, cell in enumerate(row):
            if cell is None:
                continue
            value, look = cell
            if type(value) is str:
                end = known.get(value)
                if end is None:
                    if len(known) >= _KNOWN_TEXTS:
                        known.clear()
                    end = known[value] = _cell_end(*value_xml(value))
            else:
                t, inner = value_xml(value)
                if look is None and (shown := shown_as_date(value)):
                    cells.append(f'<c r="{letters[col]}{number} s="{styles.derive(0, number_format=shown)}"{t}>{inner}</c>')
                    continue
                end = _cell_end(t, inner)
            cells.append(f'<c r="{letters[col]}{number}{style[look]}{end}')
        ht = sheet.heights.get(r)
        ht_attr = f' ht="{ht:g}" customHeight="1"' if ht else ""
        if cells or ht_attr:
            out.append(f'<row r="{r}"{ht_attr}>' + "".join(cells) + "</row>")
        if len(out) >= rows_per_piece:
            yield "".join(out)
            out = []
    out.append("</sheetData>")
    yield "".join(out)


def _cell_end(t: str, inner: str) -> str:
    """A cell tag after its reference and style: the type attribute, then the content and
    the closing tag, or an empty tag's end."""
    return f"{t}>{inner}</c>" if inner else f"{t}/>"


# Protection's fields as CT_SheetProtection's attributes: what is protected is "1"; an
# allowed action is "0" (the schema's default for each is the other way round).
_PROTECTED = (("drawing_objects", "objects"), ("scenarios", "scenarios"))
_ALLOWED = (("format_cells", "formatCells"), ("format_columns", "formatColumns"),
            ("format_rows", "formatRows"), ("insert_columns", "insertColumns"),
            ("insert_rows", "insertRows"), ("insert_hyperlinks", "insertHyperlinks"),
            ("delete_columns", "deleteColumns"), ("delete_rows", "deleteRows"), ("sort", "sort"),
            ("autofilter", "autoFilter"), ("pivot_tables", "pivotTables"))


def _sheet_protection(p: Protection) -> str:
    attrs = "".join(f' {name}="1"' for field, name in _PROTECTED if getattr(p, field))
    attrs += "".join(f' {name}="0"' for field, name in _ALLOWED if getattr(p, field))
    return f'<sheetProtection sheet="1"{attrs}/>'


def _equal_rule(cf: CondFormat, priority: int, styles: Styles) -> str:
    formula = '"' + cf.text.replace('"', '""') + '"'
    return (f'<cfRule type="cellIs" dxfId="{styles.dxf_fill(cf.color)}" priority="{priority}" '
            f'operator="equal"><formula>{attr(formula)}</formula></cfRule>')


def _databar_rule(cf: CondFormat, priority: int, styles: Styles) -> str:
    low = f'type="num" val="{cf.minimum:g}"' if cf.minimum is not None else 'type="min"'
    high = f'type="num" val="{cf.maximum:g}"' if cf.maximum is not None else 'type="max"'
    return (f'<cfRule type="dataBar" priority="{priority}"><dataBar><cfvo {low}/><cfvo {high}/>'
            f'<color rgb="FF{cf.color}"/></dataBar></cfRule>')


_CF_RULES = {EQUAL: _equal_rule, DATABAR: _databar_rule}
assert set(_CF_RULES) == set(CONDITIONAL_KINDS)


def _conditional(cf: CondFormat, priority: int, styles: Styles) -> str:
    rule = _CF_RULES.get(cf.kind)
    if rule is None:
        raise ValueError(f"unknown conditional format: {cf.kind}")
    return f'<conditionalFormatting sqref="{_ref(cf.rect)}">{rule(cf, priority, styles)}</conditionalFormatting>'


def _hyperlinks(sheet: SheetPlan) -> str:
    if not sheet.links:
        return ""
    return "<hyperlinks>" + "".join(
        f'<hyperlink ref="{column_letter(col)}{row}" location="{attr(target)}" '
        f'display="{attr(str(_value_at(sheet, row, col) or ""))}"/>'
        for (row, col), target in sorted(sheet.links.items())) + "</hyperlinks>"


def _page(ps: PrintSetup, kept_setup: Optional[str] = None, kept_hf: Optional[str] = None, sheet: str = "") -> str:
    """printOptions to rowBreaks: the package's one translation of a PrintSetup (its titles
    and area are defined names, set by _replace_sheet), merged with the old part's pageSetup
    and headerFooter (``kept_*``: the staff's printer settings, headers and other footers
    stay, as the buttons leave them; package.page_kept). A merged footer past Excel's limit
    is refused (core.pages.footer_problem)."""
    from ..core.pages import footer_problem
    from ..package.page_kept import header_footer, odd_footer, page_setup_attributes

    out = ['<printOptions horizontalCentered="1"/>' if ps.center_horizontally else ""]
    left, right, top, bottom = ps.margins
    out.append(f'<pageMargins left="{left}" right="{right}" top="{top}" bottom="{bottom}" '
               f'header="{ps.header_margin}" footer="{ps.footer_margin}"/>')
    out.append(f'<pageSetup paperSize="{PAPER_CODES[ps.paper]}" orientation="{"landscape" if ps.landscape else "portrait"}"'
               f' fitToWidth="{ps.fit_width}" fitToHeight="{ps.fit_height}"{page_setup_attributes(kept_setup)}/>')
    centre = ps.centre_footer
    problem = footer_problem(sheet, odd_footer(kept_hf, centre))
    if problem:
        raise UserError(problem)
    out.append(header_footer(kept_hf, centre))
    if ps.row_breaks:
        n = len(ps.row_breaks)
        out.append(f'<rowBreaks count="{n}" manualBreakCount="{n}">'
                   + "".join(f'<brk id="{r}" max="16383" man="1"/>' for r in ps.row_breaks) + "</rowBreaks>")
    return "".join(out)


class _Formats(dict):
    """Look name -> cell format, appended to styles.xml when a sheet first uses it (a
    master's styles.xml does not collect the looks of sheets it never holds)."""

    def __init__(self, styles: Styles):
        super().__init__()
        self.styles = styles

    def __missing__(self, name: str) -> int:
        self[name] = at = self.styles.xf_for(LOOKS[name])
        return at


class _StyleAttrs(dict):
    """Look name (or None) -> the cell's ``s`` attribute, as cell_xml writes it."""

    def __init__(self, formats: "_Formats"):
        super().__init__()
        self.formats = formats

    def __missing__(self, name: Optional[str]) -> str:
        at = self.formats[name] if name else 0
        self[name] = text = f' s="{at}"' if at else ""
        return text


_OPERATORS = {">=": "greaterThanOrEqual", ">": "greaterThan", "<=": "lessThanOrEqual", "<": "lessThan"}


def _validation_xml(v: Validation) -> str:
    """A ``<dataValidation>`` of a core InputRule, with the attributes XlsxWriter writes
    for the same rule in a new master (renkei_xl.workbook.xlsx.validation)."""
    rule = v.rule
    if rule.kind == "list":
        kind, formula = ' type="list"', rule.list_name
    elif rule.also:     # related to the first area's first cell, as XlsxWriter writes it
        r1, c1 = v.areas[0][:2]
        kind, formula = ' type="custom"', rule.formula(f"{column_letter(c1)}{r1}")
    else:
        kind = f' type="{rule.kind}" operator="{_OPERATORS[rule.criteria]}"'
        formula = f"{rule.minimum:g}"
    sqref = " ".join(_ref(rect) for rect in v.areas)
    return (f'<dataValidation{kind}' + (' errorStyle="warning"' if rule.warning_only else "")
            + f' allowBlank="1" showInputMessage="1" showErrorMessage="1" errorTitle="{attr(error_title(rule.warning_only))}"'
            f' error="{attr(rule.error)}" promptTitle="{attr(rule.title)}" prompt="{attr(rule.prompt)}"'
            f' sqref="{sqref}"><formula1>{escape(formula)}</formula1></dataValidation>')


# ------------------------------------------------------------------ staff cells

class _BookDate(float):
    """A date as a 1904 book's serial (_as_1904_serials), still known for a date (shown_as_date)."""
    shown = ""


# What Excel gives a cell of 標準 (General) when the buttons assign a Date to it: its short
# date, or date and time (built-in formats 14 and 22, yyyy/m/d in a Japanese Excel).
DATE_SHOWN, DATE_TIME_SHOWN = "yyyy/m/d", "yyyy/m/d h:mm"


def shown_as_date(value: object) -> str:
    """The format a date written into a 標準 cell gets, "" for any other value: as Excel formats
    it on the buttons' side, so a staff date carried beside 一覧 (or imported into a 標準 cell)
    is a date on the command line too, not its serial (「45566」)."""
    if isinstance(value, _BookDate):
        return value.shown
    if isinstance(value, dt.datetime):
        return DATE_SHOWN if value.time() == dt.time() else DATE_TIME_SHOWN
    return DATE_SHOWN if isinstance(value, dt.date) else ""


def _as_displayed(plan: WritePlan, reader: StyleReader) -> None:
    """The plan's numbers for staff cells as Excel keeps them in a book set to precision as
    displayed (calcPr fullPrecision="0", 「表示桁数で計算する」; core.displayed says why): each
    rounded to the format the cell has as the number arrives, its own, since the buttons
    write a cell's value before any format the edit gives it (excel.apply._apply_cells). A
    rebuilt sheet is left as it is: the buttons write its numbers into cleared (General)
    cells, which round nothing, and its looks after. Before any part is written."""
    from ..core.displayed import as_displayed

    styles = reader.styles
    plan.cells = [e._replace(value=as_displayed(e.value, styles.number_format_of(
                      reader.sheet(e.sheet).style_of(e.row, e.col))))
                  if isinstance(e.value, (int, float)) and not isinstance(e.value, bool) else e
                  for e in plan.cells]


def _as_1904_serials(plan: WritePlan) -> None:
    """The plan's dates as the numbers a book counting from 1904 stores (workbookPr date1904,
    Excel's 「1904 年から計算する」): package.cells counts from 1900, four years and a day
    apart, so a rolled-over 基準日 2025-03-31 stood as 2029-04-01 (and the new master was
    refused for it) and 取込履歴's times four years late, while the buttons, whose Dates Excel
    converts, wrote them right. Before any part is written, so one date Excel has none for
    (before 1904) refuses nothing half done."""
    from ..core.contract_read import excel_serial

    def serial(value: object) -> object:
        if not isinstance(value, dt.date):
            return value
        out = _BookDate(excel_serial(value, date1904=True))
        out.shown = shown_as_date(value)
        return out

    for sheet in plan.sheets:
        sheet.rows = [[cell if cell is None or not isinstance(cell[0], dt.date) else (serial(cell[0]), cell[1])
                       for cell in row] for row in sheet.rows]
    plan.cells = [e._replace(value=serial(e.value)) if isinstance(e.value, dt.date) else e for e in plan.cells]


def _edit_staff_cells(pkg: Package, reader: StyleReader, styles: Styles, plan: WritePlan) -> None:
    from ..package.cells import data_table_areas, merged_areas

    plan.refuse_merged(lambda sheet: merged_areas(reader.sheet(sheet).text))   # as a button's
    plan.refuse_data_tables(lambda sheet: data_table_areas(reader.sheet(sheet).text))
    changes = _staff_changes(reader, styles, plan)
    _refuse_array_cells(reader, changes)
    widths: dict[str, dict[int, float]] = {}
    for w in plan.widths:
        widths.setdefault(w.sheet, {})[w.col] = w.width
    for sheet in dict.fromkeys([*changes, *widths]):
        cells = reader.sheet(sheet)
        text = cells.edit(changes[sheet]) if sheet in changes else cells.text
        for col, width in widths.get(sheet, {}).items():
            from ..package.columns import with_column_width   # only a rollover's plan sets a width

            text = with_column_width(text, cells.p, col, width, cells.part)
        if text != cells.text:
            pkg.write(cells.part, text)


def _staff_changes(reader: StyleReader, styles: Styles, plan: WritePlan
                   ) -> dict[str, dict[tuple[int, int], tuple[object, Optional[Callable[[int], int]]]]]:
    """The plan's staff cells as package.cells edits them: per sheet, cell -> (value, the
    mapper from the cell's format to the one it gets, None to keep it)."""
    changes: dict[str, dict[tuple[int, int], tuple[object, Optional[Callable[[int], int]]]]] = {}
    for e in plan.cells:
        mapper = (lambda s, fmt=e.number_format: styles.derive(s, number_format=fmt)) if e.number_format else None
        if mapper is None and (shown := shown_as_date(e.value)):
            mapper = (lambda s, fmt=shown: styles.derive(s, number_format=fmt)
                      if styles.number_format_of(s) == "General" else s)
        changes.setdefault(e.sheet, {})[(e.row, e.col)] = (e.value, mapper)
    for f in plan.fills:
        cells = reader.sheet(f.sheet)
        if f.only_if is not None and styles.fill_of(cells.style_of(f.row, f.col)) != f.only_if:
            continue   # staff have given the cell a colour of their own since
        value, mapper = changes.setdefault(f.sheet, {}).get((f.row, f.col), (KEEP, None))

        def fill_mapper(s, fill=f.fill, inner=mapper):
            return styles.derive(inner(s) if inner else s, fill=fill)

        changes[f.sheet][(f.row, f.col)] = (value, fill_mapper)
    return changes


def cell_formats_problem(reader: StyleReader, plan: WritePlan,
                         on_the_way: Optional[Callable[[WritePlan], int]] = None) -> Optional[str]:
    """What a write of ``plan`` into the book ``reader`` reads says when the cell formats it
    adds take the book past Excel's limit (core.looks.too_many_formats), None when they fit:
    the formats the command line's write would append to styles.xml, counted on a copy of
    it without writing anything.

    Why: the buttons ask Excel for the same looks, number formats and marks, and Excel adds
    a cell format for each new combination as the file face does; past its limit it stops
    the click halfway (run-time error 1004, 「セルの書式が多すぎます」). The command line
    refused such a write (apply_plan) while a click on the same master wrote 一覧 and met
    the error further on. The buttons read the saved master (staff's formats since the save
    are not known) and refuse before anything is written, by this one count.

    Counted only near the limit: a plan adds at most one format per look (core.looks.LOOKS)
    and per staff cell it formats or paints, and two date formats, so a book far below is let
    through without the copy or a look at the plan's sheets. ``on_the_way``: the formats a
    button's write makes besides (excel.apply.formats_on_the_way: Excel's look by look, at
    most core.looks.MOST_ON_THE_WAY); the command line's write appends the final ones only."""
    from ..core.looks import MAX_CELL_FORMATS, MOST_ON_THE_WAY

    have, _ = reader.styles.cell_formats()
    bound = (MOST_ON_THE_WAY if on_the_way else 0) + len(LOOKS) + 2 + len(plan.fills) + sum(1 for e in plan.cells if e.number_format or shown_as_date(e.value))
    if have + bound <= MAX_CELL_FORMATS:
        return None
    styles = reader.styles.copy()
    formats = _Formats(styles)
    for sheet in plan.sheets:
        for row in sheet.rows:
            for cell in row:
                if cell is None:
                    continue
                if cell[1] is not None:
                    formats[cell[1]]                                # noqa: B018 (appends the look's format)
                elif shown := shown_as_date(cell[0]):
                    styles.derive(0, number_format=shown)
    for sheet, edits in _staff_changes(reader, styles, plan).items():
        cells = reader.sheet(sheet)
        for (row, col), (_value, mapper) in edits.items():
            if mapper is not None:
                mapper(cells.style_of(row, col))
    have, adding = styles.cell_formats()
    return too_many_formats(have, adding + (on_the_way(plan) if on_the_way else 0))


def _refuse_array_cells(reader: StyleReader, changes) -> None:
    """A value for a cell of an array formula (Excel's {=…}) stops the write before any part
    is touched, as a button's does (package.cells.array_areas says why)."""
    from ..core.face import again
    from ..core.contract import array_cells_message
    from ..package.cells import array_areas

    hits = []
    for sheet, edits in changes.items():
        written = [(r, c) for (r, c), (value, _mapper) in edits.items() if value is not KEEP]
        areas = array_areas(reader.sheet(sheet).text) if written else []
        hits += [f"{sheet}!{cell_ref(r, c)}" for r, c in sorted(written)
                 if any(r1 <= r <= r2 and c1 <= c <= c2 for r1, c1, r2, c2 in areas)]
    if hits:
        raise UserError(array_cells_message(hits, again()))


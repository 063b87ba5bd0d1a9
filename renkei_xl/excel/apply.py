"""The live face of a write plan: renkei_xl.core.plan's WritePlan applied through xlwings.

The file face applies the same plan to the package; neither decides anything. This module
only translates: a SheetPlan becomes "clear the sheet, one bulk write of the values, then
the looks, merges, sizes, links and the rest", a CellEdit one write, a FillEdit one fill.
Engine differences (what COM, AppleScript and the remote engine can each express) are
asked of the LiveBook interface (renkei_xl.excel.book); each engine's class answers for
its engine, and renkei_xl.excel.engines alone picks the class.

Looks are written by attribute, not by look: each attribute value (bold, a fill colour,
the border, a number format, ...) goes to as few rectangles as hold it, so 20,000 rows
that share a handful of looks cost a few dozen calls, each a round trip to Excel (COM,
Apple events) or an action the remote client replays. The sheet has just been cleared,
so an attribute at Excel's default (not bold, no fill, general alignment) is not written.

What an engine cannot express (see the LiveBook classes): on the remote engine, alignment
needs a client that replays it (RemoteClient.aligns); Excel for Mac is given the print
titles alone of the page setup (MacBook._page_setup). The server's VBA client draws charts,
the page and the filter buttons through RenkeiServer.bas' own actions (excel.remote).
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from typing import Hashable, Iterable, Optional

from ..core import contract as c
from ..core.looks import LOOKS, MOST_ON_THE_WAY, PROTECTION, Look
from ..core.refs import LAST_COLUMN
from ..core.plan_types import (CONDITIONAL_KINDS, DATABAR, EQUAL, CellEdit, CondFormat, FillEdit, MasterState, Rect,
                               SheetPlan, WritePlan)
from .book import LINK_TIP, LiveBook, as_excel_text

def master_state(live: LiveBook) -> MasterState:
    """What a plan needs of the open master besides its contract data. Every engine writes
    one call or one replayed action at a time, which Excel can stop partway (stops_halfway)."""
    grids = {name: live.grid(name) for name in c.STATE_SHEETS if name in live.sheetnames}
    return MasterState(list(live.sheetnames), dict(live.names), grids, live.fill_source(), live.comment_source(),
                       live.moved_source(), live.chart_source(), live.table_source(),
                       live.cell_settings_source(), percents=live.percent_source(), stops_halfway=True)


def apply_plan(live: LiveBook, plan: WritePlan) -> None:
    """Write the plan into the open workbook (the caller lifts protection: LiveBook.writable):
    the under-way mark first (WritePlan.under_way), so that Excel stopping anywhere after it
    leaves メニュー saying so, then the sheets, the cells, the fills and the names, and last
    the status that replaces the mark: a stop in the fills or the names, the status written
    before them, left a book that looked finished with its marks half painted."""
    if plan.widths:
        # Only rollover and a year carried into a later master size staff columns, and every
        # face writes those to a file (cycle.rollover): a plan holding them is not one for Excel.
        raise ValueError("a plan that sizes staff columns is for the file face")
    plan.refuse_missing(live.sheetnames)
    for sp in plan.sheets:
        if sp.protect and sp.protection != PROTECTION:
            # LiveBook.writable protects a sheet a click added with the built options
            # only (the VBA client knows no others): other options are for files.
            raise ValueError(f"{sp.name}: only the built protection can be applied to an open workbook")
    marked = {(e.sheet, e.row, e.col) for e in plan.under_way}
    _apply_cells(live, plan.under_way)
    shown = live.shown_sheet() if plan.added(live.sheetnames) else None
    for sheet_plan in plan.sheets:
        _apply_sheet(live, sheet_plan)
    if shown is not None:      # Excel showed each sheet it added: the one staff had, again
        live.show_sheet(shown)
    _apply_cells(live, [e for e in plan.cells if (e.sheet, e.row, e.col) not in marked])
    _apply_fills(live, plan.fills)
    for n in plan.names:   # Excel keeps the name; xlwings cannot mark it hidden
        live.book.names.add(n.name, "=" + n.value)
    _apply_cells(live, [e for e in plan.cells if (e.sheet, e.row, e.col) in marked])


# --------------------------------------------------------------------- rectangles

def rectangles(cells: Iterable[tuple[int, int]]) -> list[Rect]:
    """Cells as few rectangles: runs of columns per row, stacked while the next row has
    the same run (first row, first col, last row, last col; 1-based)."""
    by_row: dict[int, list[int]] = defaultdict(list)
    for r, col in cells:
        by_row[r].append(col)
    out: list[Rect] = []
    open_: dict[tuple[int, int], int] = {}     # (first col, last col) -> first row
    previous = None
    for r in sorted(by_row):
        cols = sorted(set(by_row[r]))
        spans = []
        start = cols[0]
        for a, b in zip(cols, cols[1:] + [None]):
            if b != a + 1:
                spans.append((start, a))
                start = b
        still = {}
        for span in spans:
            if span in open_ and previous == r - 1:
                still[span] = open_.pop(span)
            else:
                still[span] = r
        for (c1, c2), r1 in open_.items():
            out.append((r1, c1, previous, c2))
        open_ = still
        previous = r
    for (c1, c2), r1 in open_.items():
        out.append((r1, c1, previous, c2))
    return sorted(out)


def _runs(values: dict[int, Hashable]) -> list[tuple[int, int, Hashable]]:
    """Consecutive keys with the same value: (first, last, value)."""
    out: list[tuple[int, int, Hashable]] = []
    for key in sorted(values):
        if out and out[-1][1] == key - 1 and out[-1][2] == values[key]:
            out[-1] = (out[-1][0], key, values[key])
        else:
            out.append((key, key, values[key]))
    return out


def _range(sheet, rect: Rect):
    r1, c1, r2, c2 = rect
    return sheet.range((r1, c1), (r2, c2))


# ----------------------------------------------------------------------- a sheet

def _apply_sheet(live: LiveBook, sp: SheetPlan) -> None:
    old_rows, _old_cols = live.extent(sp.name)
    sheet = live.sheet(sp.name)
    live.clear_sheet(sheet)

    width = sp.width
    if sp.rows and width:
        # Clear All has just given every cell General: each string takes the text prefix.
        sheet.range("A1").value = [
            [as_excel_text(cell[0]) if cell is not None else None for cell in row]
            + [None] * (width - len(row)) for row in sp.rows]

    # Links before looks: COM gives a linked cell Excel's Hyperlink style (its font).
    for (r, col), location in sorted(sp.links.items()):
        cell = sp.cell(r, col)
        shown = str(cell[0]) if cell is not None and cell[0] is not None else location
        sheet.range((r, col)).add_hyperlink(f"#{location}", shown, LINK_TIP)

    for rect in sp.merges:
        _range(sheet, rect).merge()

    _apply_looks(live, sheet, {(r, col): LOOKS[cell[1]]
                               for r, row in enumerate(sp.rows, start=1)
                               for col, cell in enumerate(row, start=1)
                               if cell is not None and cell[1] is not None})

    for first, last, w in _runs(sp.widths):
        live.set_column_width(sheet.range((1, first), (1, last)), w)
    last_row = max(old_rows, len(sp.rows), max(sp.heights, default=0))
    for first, last, h in _runs(sp.heights):
        sheet.range((first, 1), (last, 1)).row_height = h
    # Rows the plan gives no height get Excel's own again (a longer last run's heights).
    unsized = {r: True for r in range(1, last_row + 1) if r not in sp.heights}
    for first, last, _ in _runs(unsized):
        sheet.range((first, 1), (last, 1)).rows.autofit()

    # Every column shows but the plan's hidden ones (SheetPlan.kept_widths: the rule of every
    # face), those staff hid past the old cells too (unused columns hidden for a tidy sheet):
    # one call for the whole row of columns, Clear All having left each its width.
    sheet.range((1, 1), (1, LAST_COLUMN)).columns.hidden = False
    for first, last, _ in _runs({col: True for col in sp.hidden_cols}):
        sheet.range((1, first), (1, last)).columns.hidden = True

    live.freeze(sheet, sp.freeze)

    for cf in sp.conditional:
        draw = _CF_DRAW.get(cf.kind)
        if draw is None:
            raise ValueError(f"unknown conditional format: {cf.kind}")
        draw(_range(sheet, cf.rect).conditional_formats, cf)

    if sp.print_setup is not None:
        live.print_setup(sheet, sp.print_setup)
    live.autofilter(sheet, sp.autofilter)
    for chart in sp.charts:
        live.add_chart(sheet, chart)


def _equal(formats, cf: CondFormat) -> None:
    text = cf.text.replace('"', '""')
    formats.add_cell_value("equal_to", f'="{text}"', fill_color="#" + cf.color)


def _databar(formats, cf: CondFormat) -> None:
    formats.add_data_bar("#" + cf.color, minimum=cf.minimum, maximum=cf.maximum)


_CF_DRAW = {EQUAL: _equal, DATABAR: _databar}
assert set(_CF_DRAW) == set(CONDITIONAL_KINDS)


# The order _apply_looks writes a look's attributes in, each one call or replayed action per
# rectangle, with the value at which it is not written (Clear All has just left it): Excel
# gives a cell a format for every combination it passes through on the way to its look
# (formats_on_the_way counts them), not only for the last one.
_WRITE_ORDER = {"font_name": None, "font_size": None, "bold": False, "font_color": None, "underline": False,
                "fill": None, "border": False, "h_align": None, "v_align": None, "wrap": False,
                "number_format": None}
assert set(_WRITE_ORDER) | {"border_color", "locked"} == set(Look._fields)


def _set_attribute(live: LiveBook, rng, attribute: str, value) -> None:
    """One attribute of a look on a range (the border: _border_sides)."""
    if attribute == "font_name":
        rng.font.name = value
    elif attribute == "font_size":
        rng.font.size = value
    elif attribute == "bold":
        rng.font.bold = True
    elif attribute == "font_color":
        rng.font.color = "#" + value
    elif attribute == "underline":
        live.underline(rng)
    elif attribute == "fill":
        rng.color = "#" + value
    elif attribute in ("h_align", "v_align"):
        live.align(rng, value if attribute == "h_align" else None, value if attribute == "v_align" else None)
    elif attribute == "wrap":
        rng.wrap_text = True
    else:
        rng.number_format = value


def _border_sides(rect: Rect) -> list[str]:
    """The sides a bordered rectangle is given, in order: one call or action each."""
    r1, c1, r2, c2 = rect
    return ["edge_top", "edge_bottom", "edge_left", "edge_right",
            *(["inside_horizontal"] if r2 > r1 else []), *(["inside_vertical"] if c2 > c1 else [])]


def _bordered_rects(by_look: dict[Look, list[tuple[int, int]]]) -> Iterable[tuple[str, Rect]]:
    """(colour, rectangle) of each border call, the looks of one colour drawn together."""
    bordered = {look: cells for look, cells in by_look.items() if look.border}
    for colour in dict.fromkeys(look.border_color for look in bordered):
        cells = [cell for look, held in bordered.items() if look.border_color == colour for cell in held]
        for rect in rectangles(cells):
            yield colour, rect


def _by_look(looks: dict[tuple[int, int], Look]) -> dict[Look, list[tuple[int, int]]]:
    by_look: dict[Look, list[tuple[int, int]]] = defaultdict(list)
    for cell, look in looks.items():       # a sheet has thousands of cells, a few dozen looks
        by_look[look].append(cell)
    return by_look


def _apply_looks(live: LiveBook, sheet, looks: dict[tuple[int, int], Look]) -> None:
    """Each attribute value to the rectangles that hold it (defaults are not written)."""
    by_look = _by_look(looks)
    if not all(look.locked for look in by_look):
        # No engine's bulk calls unlock a cell (the remote one has no action for it): the
        # tool writes unlocked looks only into files (new masters, input workbooks).
        raise ValueError("an unlocked look cannot be applied to an open workbook")
    for attribute, default in _WRITE_ORDER.items():
        if attribute == "border":
            for colour, rect in _bordered_rects(by_look):
                _range(sheet, rect).borders.set(_border_sides(rect), line_style="continuous", weight="thin",
                                                color="#" + colour)
            continue
        held: dict[object, list[tuple[int, int]]] = defaultdict(list)
        for look, cells in by_look.items():
            if (value := getattr(look, attribute)) != default:
                held[value].extend(cells)
        for value, cells in held.items():
            for rect in rectangles(cells):
                _set_attribute(live, _range(sheet, rect), attribute, value)


def formats_on_the_way(plan: WritePlan) -> int:
    """The cell formats Excel makes for combinations the plan's sheets pass through on the
    way to their looks (beside their final looks, which workbook.apply.cell_formats_problem
    counts on the book), for the buttons' count of the formats a click adds.

    Why: every engine writes a look attribute by attribute, a border side by side
    (_apply_looks), and Excel gives each new combination a cell passes through a format of its
    own; a master a few formats under its limit let the click through by the final looks'
    count and met 1004 (「セルの書式が多すぎます」) at a border side, 一覧 half written. Each
    combination on the way is counted as new (none is taken as one the book holds already),
    a linked cell's apart (the Hyperlink style under its looks): an upper bound, by the
    order and the rectangles the write itself takes."""
    passed: set[tuple] = set()
    finals: set[tuple] = set()
    for sp in plan.sheets:
        looks = {(r, col): LOOKS[cell[1]] for r, row in enumerate(sp.rows, start=1)
                 for col, cell in enumerate(row, start=1) if cell is not None and cell[1] is not None}
        edges: dict[tuple[int, int], tuple[frozenset, ...]] = {}
        for _colour, rect in _bordered_rects(_by_look(looks)):
            edges.update(_sides_passed(rect))
        for key in {(look, cell in sp.links, edges.get(cell, ())) for cell, look in looks.items()}:
            _passed_by(*key, passed, finals)
    on_the_way = len(passed - finals)
    assert on_the_way <= MOST_ON_THE_WAY, on_the_way
    return on_the_way


def _passed_by(look: Look, linked: bool, edges: tuple, passed: set, finals: set) -> None:
    """The combinations one cell of ``look`` passes through, into ``passed``; its last into
    ``finals``. ``edges``: the sides it has after each border call that changes them."""
    done: tuple = ("link",) if linked else ()
    state: tuple = (done, frozenset())
    for attribute, default in _WRITE_ORDER.items():
        if attribute == "border":
            for sides in edges:
                state = (done, sides)
                passed.add(state)
            done = (*done, ("border", look.border_color)) if look.border else done
        elif (value := getattr(look, attribute)) != default:
            done = (*done, (attribute, value))
        else:
            continue
        state = (done, frozenset())
        passed.add(state)
    finals.add(state)


def _sides_passed(rect: Rect) -> dict[tuple[int, int], tuple[frozenset, ...]]:
    """Each cell of a bordered rectangle -> the sides it has after each border call of it
    that changes them, short of all four (_border_sides: the inside lines give inner cells
    theirs)."""
    r1, c1, r2, c2 = rect
    return {(r, col): _sides_at(r == r1, r == r2, col == c1, col == c2, r2 > r1, c2 > c1)
            for r in range(r1, r2 + 1) for col in range(c1, c2 + 1)}


@lru_cache(maxsize=64)    # 2 ** 6 combinations of its flags: all of them
def _sides_at(top: bool, bottom: bool, left: bool, right: bool, rows: bool, cols: bool) -> tuple[frozenset, ...]:
    calls = [{"top"} if top else set(), {"bottom"} if bottom else set(), {"left"} if left else set(),
             {"right"} if right else set()]
    if rows:
        calls.append(({"top"} if not top else set()) | ({"bottom"} if not bottom else set()))
    if cols:
        calls.append(({"left"} if not left else set()) | ({"right"} if not right else set()))
    has: set[str] = set()
    seen = []
    for gets in calls:
        if not gets <= has:
            has |= gets
            seen.append(frozenset(has))
    return tuple(seen[:-1])     # all four: the look's border, counted as the next combination


# -------------------------------------------------------------- cells and fills

def _apply_cells(live: LiveBook, edits: list[CellEdit]) -> None:
    """Values in runs along a row (one write each), then their number formats. A run that
    would cover part of a merged area staff made (Excel's 1004, 「結合したセルの一部を変更する
    ことはできません」) is written cell by cell."""
    by_row: dict[tuple[str, int], dict[int, object]] = defaultdict(dict)
    formats: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for e in edits:
        by_row[(e.sheet, e.row)][e.col] = e.value
        if e.number_format:
            formats[(e.sheet, e.number_format)].append((e.row, e.col))
    for (sheet_name, row), values in by_row.items():
        sheet = live.book.sheets[sheet_name]
        cols = sorted(values)
        run: list[int] = []
        for col in cols + [None]:
            if run and (col is None or col != run[-1] + 1):
                _write_run(live, sheet, sheet_name, row, run, values)
                run = []
            if col is not None:
                run.append(col)
    for (sheet_name, fmt), cells in formats.items():
        sheet = live.book.sheets[sheet_name]
        for rect in rectangles(cells):
            _range(sheet, rect).number_format = fmt


def _write_run(live: LiveBook, sheet, sheet_name: str, row: int, run: list[int], values: dict[int, object]) -> None:
    """A staff cell's string goes without the text prefix where staff formatted the cell as
    Text (LiveBook.text_cols: asked only for a run that holds a string), and is kept as it
    is where the engine's client would convert it there (LiveBook.keep_text)."""
    strings = [col for col in run if isinstance(values[col], str) and values[col]]
    text = live.text_cols(sheet_name, row, strings) if strings else set()

    def value(col: int) -> object:
        return live.text_value(values[col]) if col in text else as_excel_text(values[col])

    if len(run) > 1 and live.covers_part_of_merge(sheet_name, (row, run[0], row, run[-1])):
        for col in run:
            sheet.range((row, col)).value = value(col)
    else:
        sheet.range((row, run[0]), (row, run[-1])).value = [[value(k) for k in run]]
    for col in sorted(text):
        live.keep_text(sheet.range((row, col)), values[col])


def _apply_fills(live: LiveBook, edits: list[FillEdit]) -> None:
    """Fills grouped by colour; a conditional one (``only_if``) is skipped where the engine
    can read the cell's fill and it is no longer the expected one."""
    groups: dict[tuple[str, Optional[str]], list[tuple[int, int]]] = defaultdict(list)
    for e in edits:
        if e.only_if is not None and live.reads_colours and live.fill_of(e.sheet, e.ref) != e.only_if:
            continue
        groups[(e.sheet, e.fill)].append((e.row, e.col))
    for (sheet_name, fill), cells in groups.items():
        sheet = live.book.sheets[sheet_name]
        for rect in rectangles(cells):
            live.set_fill(_range(sheet, rect), fill)

"""The marks on staff cells: which error cells get the mark fill, which last run's marks
are lifted, and what fill each marked cell had before (recorded on 検証結果's hidden 元の塗り
column, because the remote engine cannot read colours).
"""

# No ``from __future__ import annotations``: typing.NamedTuple compiles each string
# annotation (a ForwardRef) when the module is imported, at every command's start.

from typing import Callable, Mapping, NamedTuple, Optional, Sequence

from . import contract as c
from .contract_read import MasterData, text
from .model import WARNING, Finding
from .plan_types import FillEdit, MasterState
from .refs import cell_ref, parse_ref
from .values import error_value, unread_value


class PreviousMark(NamedTuple):
    sheet: str
    ref: str
    before: Optional[str]       # the fill the cell had before it was marked
    recorded: bool = True       # False: a 検証結果 from before the 元の塗り column existed
    indicator_id: str = ""      # the row's 指標ID, where 検証結果 names one


def previous_marks(grid: Optional[Sequence[Sequence[object]]]) -> list[PreviousMark]:
    """The marks the current 検証結果 lists, with the fill each cell had before its mark
    (columns found by header text)."""
    if not grid:
        return []
    header = [text(v) for v in grid[0]]
    try:
        s_col, c_col = header.index(c.FINDING_COLUMNS[1]), header.index(c.FINDING_COLUMNS[2])
    except ValueError:
        return []
    b_col = header.index(c.FINDING_BEFORE_COLUMN) if c.FINDING_BEFORE_COLUMN in header else None
    i_col = header.index(c.FINDING_COLUMNS[3]) if c.FINDING_COLUMNS[3] in header else None
    w_col = header.index(c.FINDING_COLUMNS[0]) if c.FINDING_COLUMNS[0] in header else None
    out = []
    for row in grid[1:]:
        if w_col is not None and w_col < len(row) and text(row[w_col]) == WARNING:
            # Only errors are marked (_markable): a warning's cell was never given the mark,
            # and lifting it where colours cannot be read took away the cell's own fill.
            continue
        sheet = text(row[s_col]) if s_col < len(row) else ""
        ref = text(row[c_col]) if c_col < len(row) else ""
        if not sheet or not ref or error_value(sheet) or error_value(ref):
            # A place that is an error value names no cell: the file face went looking for
            # sheet 「#N/A」 and stopped every run with 「シート「#N/A」の部品が見つかりません」.
            continue
        held = row[b_col] if b_col is not None and b_col < len(row) else None
        # An error value there (a formula of staff's, a #REF! since) records no fill: read as
        # the text 「#N/A」 it was 「no fill」, and the lifted mark left an input cell white.
        before = "" if unread_value(held) else text(held)
        ind_id = text(row[i_col]) if i_col is not None and i_col < len(row) else ""
        out.append(PreviousMark(sheet, ref, _fill_from_text(before) if before else None, bool(before), ind_id))
    return out


def is_rgb(fill: str) -> bool:
    return len(fill) == 6 and all(ch in "0123456789ABCDEFabcdef" for ch in fill)


def _fill_from_text(value: str) -> Optional[str]:
    """元の塗り as recorded; anything but "なし" or a colour (a hand-edited cell) is taken as
    no fill, so a bad record never stops a run."""
    if value == c.NO_FILL:
        return None
    fill = value.lstrip("#").upper()
    return fill if is_rgb(fill) else None


def fill_text(fill: Optional[str]) -> str:
    """元の塗り as recorded on 検証結果 (read back by _fill_from_text)."""
    return c.NO_FILL if fill is None else fill


def input_cells(data: MasterData) -> set[tuple[str, str]]:
    """Cells the builder and the input workbooks give the input fill: a municipality's
    実績値, 分母 and 実施状況 on each of its rows."""
    out = set()
    for e in data.entries:
        for f in c.INPUT_FIELDS:
            ref = e.cell(f)
            if ref:
                out.add((e.sheet, ref))
    return out


class _Lazy:
    """A set (or a mapping) computed on the first look into it."""

    def __init__(self, make: Callable[[], set]):
        self._make, self._value = make, None

    def __contains__(self, item: object) -> bool:
        return item in self._made()

    def get(self, key: object) -> list:
        return self._made().get(key, [])

    def _made(self):
        if self._value is None:
            self._value = self._make()
        return self._value


def expected_fill(sheet: str, ref: str, inputs) -> Optional[str]:
    """What an unmarked cell looks like by the contract, for faces that cannot read colours."""
    return c.INPUT_FILL if (sheet, ref) in inputs else None


def _markable(f: Finding, sheetnames: Sequence[str]) -> bool:
    return bool(f.is_error and f.cell and f.sheet in sheetnames and not c.is_tool_owned(f.sheet))


def marks(findings: Sequence[Finding], state: MasterState, data: MasterData
          ) -> tuple[list[FillEdit], dict[tuple[str, str], Optional[str]], list[Finding]]:
    """The fills that mark this run's error cells and lift the last run's marks.

    Returns the edits; for each marked cell, the fill it had before its mark (written to
    検証結果 so the next run can give it back); and a warning for each last-run mark whose
    cell cannot be found now (``placed_marks``). A cell marked last time and again now
    keeps its recorded fill; a lifted cell gets its recorded fill back, only while it still
    shows the mark.
    """
    inputs = _Lazy(lambda: input_cells(data))   # only asked when a colour cannot be read

    def read_or_expected(sheet: str, ref: str) -> Optional[str]:
        if state.fill_of is not None:
            now = state.fill_of(sheet, ref)
            # A theme colour or a pattern (the file face reads them as tokens) is not a
            # colour both faces can give back: the contract's expectation is used instead.
            if now is None or (now != c.MARK_FILL and is_rgb(now)):
                return now
        return expected_fill(sheet, ref, inputs)

    records: dict[tuple[str, str], PreviousMark] = {}
    for m in previous_marks(state.grids.get(c.FINDINGS)):
        key = (m.sheet, normal_ref(m.ref))
        if key[1] and key not in records:
            before = m.before if m.recorded else expected_fill(m.sheet, key[1], inputs)
            records[key] = m._replace(ref=key[1], before=before)
    placed, lost = placed_marks(list(records.values()), state, data)
    current: dict[tuple[str, str], Optional[str]] = {}
    for f in findings:
        if not _markable(f, state.sheetnames):
            continue
        key = (f.sheet, normal_ref(f.cell))
        if key[1] and key not in current:
            current[key] = placed[key] if key in placed else read_or_expected(*key)
    edits: list[FillEdit] = []
    for (sheet, ref), before in placed.items():
        if (sheet, ref) in current:
            continue
        row, col = parse_ref(ref)
        edits.append(FillEdit(sheet, row, col, before, only_if=c.MARK_FILL))
    for sheet, ref in sorted(current):
        row, col = parse_ref(ref)
        edits.append(FillEdit(sheet, row, col, c.MARK_FILL))
    return edits, current, [lost_mark(m) for m in lost]


def placed_marks(records: Sequence[PreviousMark], state: MasterState, data: MasterData
                 ) -> tuple[dict[tuple[str, str], Optional[str]], list[PreviousMark]]:
    """Where each mark 検証結果 records is now, with its recorded fill; and the marks whose
    cell cannot be told, which are left alone.

    Staff may have moved rows or columns since the last run (inserted, deleted, sorted), or
    retyped a 指標ID, renamed a sheet, edited 検証結果. A mark lifted at a recorded place
    that now holds another row's cell gave that cell the marked cell's 元の塗り (a deleted
    marked row: the next indicator's cell got a highlight it never had), and a mark that
    moved stayed red for good under 「エラー 0 件」. So a mark is followed by what locates
    its cell, the 指標ID of its row first: Excel moves a cell's fill with it.

    - Its 指標ID is on one row now (or still on its recorded row): that row, in the
      recorded column; where columns moved since the save (the server, ``state.moved``)
      the column is taken only if the layouts before and after the move agree on it, or
      the saved mark shows which.
    - Its 指標ID is gone (the row deleted, or the ID retyped) or it names none: the
      recorded place, only where that is still the same row: on the server, a sheet whose
      rows have not moved since the save with an ID on that row (the unknown ID fixed in
      place) or the saved master's mark on that cell (the ID cleared); on a face that reads
      the open book's colours, a cell that shows the mark.
    - Anything else (its sheet gone or renamed, a place another mark's row now holds, a
      row that cannot be told): left alone, and said (``lost_mark``).
    """
    layout = _Lazy(lambda: _layout(data))
    placed: dict[tuple[str, str], Optional[str]] = {}
    lost: list[PreviousMark] = []
    found, rest = [], []
    for m in records:
        if m.sheet not in state.sheetnames:
            lost.append(m)
        elif not c.is_tool_owned(m.sheet):
            (found if m.indicator_id and layout.get((m.sheet, m.indicator_id)) else rest).append(m)
    recorded_cols = {(m.sheet, m.indicator_id, _column(m.ref)) for m in found}
    # Marks still on their 指標ID's row first: they are certain, and a place one of them
    # holds is not another's (a 検証結果 row whose ID staff retyped names another row).
    found.sort(key=lambda m: m.indicator_id not in layout.get((m.sheet, parse_ref(m.ref)[0])))
    for m in found:
        now = _by_id(m, state, layout, placed, recorded_cols)
        if now is _NOT_ITS_ROW:
            rest.append(m)
        elif now is None:
            lost.append(m)
        else:
            placed[(m.sheet, now)] = m.before
    for m in rest:
        if (m.sheet, m.ref) not in placed and _still_there(m, state, layout):
            placed[(m.sheet, m.ref)] = m.before
        else:
            lost.append(m)
    return placed, lost


_NOT_ITS_ROW = object()      # _by_id: the recorded cell is not on its 指標ID's row


def _shows(state: MasterState, sheet: str, ref: str) -> bool:
    return state.fill_of is not None and state.fill_of(sheet, ref) == c.MARK_FILL


def _by_id(m: PreviousMark, state: MasterState, layout: _Lazy, placed: Mapping, recorded_cols: set) -> object:
    """The cell a mark whose 指標ID the book holds is on now (placed_marks); None where it
    cannot be told; _NOT_ITS_ROW where the mark was not on that ID's row."""
    places = state.moved(m.sheet) if state.moved is not None else None
    row, col = parse_ref(m.ref)
    cells = layout.get((m.sheet, m.indicator_id))
    rows = sorted({parse_ref(r)[0] for r in cells})
    now_row = rows[0] if len(rows) == 1 else row if row in rows else None
    cols = {col}
    if places is not None and places.sent_col(col) is not None:
        cols.add(places.sent_col(col))
    if now_row is not None and now_row != row and not cols & {_col_no(r) for r in cells}:
        return _NOT_ITS_ROW
    if now_row != row and state.moved is not None and places is None:
        # On the server, rows that have not moved since the save: the ID was on another row
        # when the mark was made than the one recorded (検証結果 edited), or rows moved and
        # moved back; which cell is meant cannot be told.
        return None
    cands = [cell_ref(now_row, k) for k in sorted(cols)] if now_row is not None else []
    cands = [r for r in cands if (m.sheet, r) not in placed]
    if len(cands) > 1:
        cands = [r for r in cands if _shows(state, m.sheet, r)]
    if len(cands) == 1 and state.moved is None and not _shows(state, m.sheet, cands[0]):
        # The open book's own colours (not the server's saved ones, where a mark lifted
        # since the save still shows): the mark went with a column staff moved.
        shown = [r for r in cells if (m.sheet, r) not in placed and _shows(state, m.sheet, r)
                 and (m.sheet, m.indicator_id, _column(r)) not in recorded_cols]
        if len(shown) == 1:
            cands = shown
    if len(cands) == 1 and now_row != row and state.moved is None and not _shows(state, m.sheet, cands[0]):
        return None     # the open book's colours: the mark is not on that row (検証結果 edited)
    return cands[0] if len(cands) == 1 else None


def _still_there(m: PreviousMark, state: MasterState, layout: _Lazy) -> bool:
    """Whether a mark whose 指標ID the book does not hold (the row deleted or the ID
    retyped) or that names none is still at its recorded place (placed_marks).

    On the server, in a sheet whose rows have not moved since the save, an ID on that row
    says the row is still there; so does the saved master showing the mark there, as the
    open book's colour says it on the other faces: an unknown ID staff cleared leaves no ID
    on its row, and the server left that mark red where the command line lifted it. (The
    saved colour can miss a mark a click made since the save, never show one on a cell that
    another row moved into: rows moved since the save are the other branch.)"""
    if state.moved is not None:
        row = parse_ref(m.ref)[0]
        return state.moved(m.sheet) is None and (not m.indicator_id or bool(layout.get((m.sheet, row)))
                                                 or _shows(state, m.sheet, m.ref))
    return state.fill_of is None or _shows(state, m.sheet, m.ref)


def lost_mark(m: PreviousMark) -> Finding:
    """What 検証結果 says of a mark whose cell cannot be found (placed_marks)."""
    from .findings import MARK_LOST

    where = f"シート「{m.sheet}」のセル {m.ref}" + (f"（指標ID {m.indicator_id}）" if m.indicator_id else "")
    return MARK_LOST.at(m.sheet, "", m.indicator_id, where=where, before=fill_text(m.before))


def _col_no(ref: str) -> int:
    return parse_ref(ref)[1]


def _column(ref: str) -> str:
    return ref.rstrip("0123456789")


def _layout(data: MasterData) -> dict[tuple[str, object], list]:
    """(sheet, 指標ID) → the cells the contract reads on that ID's rows of 指標 or a
    municipality sheet; (sheet, row) → the 指標IDs on that row."""
    out: dict[tuple[str, object], list] = {}
    for record, sheet, ind_id in ([(i, i.sheet or c.INDICATORS, i.id) for i in data.indicators]
                                  + [(e, e.sheet, e.indicator_id) for e in data.entries]):
        if ind_id:
            out.setdefault((sheet, ind_id), []).extend(normal_ref(r) for r in record.cells.values() if r)
            if record.row is not None:
                out.setdefault((sheet, record.row), []).append(ind_id)
    return out


def normal_ref(ref: str) -> str:
    try:
        return cell_ref(*parse_ref(ref.split(":")[0]))
    except ValueError:
        return ""

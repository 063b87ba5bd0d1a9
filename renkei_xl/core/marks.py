"""The marks on staff cells: which error cells get the mark fill, which last run's marks
are lifted, and what fill each marked cell had before (recorded on 検証結果's hidden 元の塗り
column, because the remote engine cannot read colours).
"""

# No ``from __future__ import annotations``: typing.NamedTuple compiles each string
# annotation (a ForwardRef) when the module is imported, at every command's start.

from typing import Callable, NamedTuple, Optional, Sequence

from . import contract as c
from .contract_read import MasterData, text
from .model import Finding
from .plan_types import FillEdit, MasterState
from .refs import cell_ref, parse_ref
from .values import error_value


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
    out = []
    for row in grid[1:]:
        sheet = text(row[s_col]) if s_col < len(row) else ""
        ref = text(row[c_col]) if c_col < len(row) else ""
        if not sheet or not ref or error_value(sheet) or error_value(ref):
            # A place that is an error value names no cell: the file face went looking for
            # sheet 「#N/A」 and stopped every run with 「シート「#N/A」の部品が見つかりません」.
            continue
        before = text(row[b_col]) if b_col is not None and b_col < len(row) else ""
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
          ) -> tuple[list[FillEdit], dict[tuple[str, str], Optional[str]]]:
    """The fills that mark this run's error cells and lift the last run's marks.

    Returns the edits and, for each marked cell, the fill it had before its mark (written
    to 検証結果 so the next run can give it back). A cell marked last time and again now
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

    previous: dict[tuple[str, str], Optional[str]] = {}
    ids: dict[tuple[str, str], str] = {}
    for m in previous_marks(state.grids.get(c.FINDINGS)):
        key = (m.sheet, normal_ref(m.ref))
        if key[1] and key not in previous:
            previous[key] = m.before if m.recorded else expected_fill(m.sheet, key[1], inputs)
            ids[key] = m.indicator_id
    current: dict[tuple[str, str], Optional[str]] = {}
    for f in findings:
        if not _markable(f, state.sheetnames):
            continue
        key = (f.sheet, normal_ref(f.cell))
        if key[1] and key not in current:
            current[key] = previous[key] if key in previous else read_or_expected(*key)
    edits: list[FillEdit] = []
    moved, left = moved_marks(previous, ids, current, state, data)
    for (sheet, ref), before in {**previous, **moved}.items():
        if (sheet, ref) in current or (sheet, ref) in left or sheet not in state.sheetnames or c.is_tool_owned(sheet):
            continue
        row, col = parse_ref(ref)
        edits.append(FillEdit(sheet, row, col, before, only_if=c.MARK_FILL))
    for sheet, ref in sorted(current):
        row, col = parse_ref(ref)
        edits.append(FillEdit(sheet, row, col, c.MARK_FILL))
    return edits, current


def moved_marks(previous: dict[tuple[str, str], Optional[str]], ids: dict[tuple[str, str], str],
                current: dict[tuple[str, str], Optional[str]], state: MasterState, data: MasterData
                ) -> tuple[dict[tuple[str, str], Optional[str]], set[tuple[str, str]]]:
    """Marks staff moved with their row or column (a row or column inserted or deleted above
    or left of them, rows sorted) since the last run, each with its recorded fill. Lifted
    only at the recorded place, such a mark stayed red for good on a cell with nothing wrong
    (入力チェック said エラー 0 件). A mark has moved when the recorded cell no longer shows it
    and a cell of the same 指標ID on that sheet does, which no mark of this run or the last
    claims (where the face reads colours: ``state.fill_of``); or, where the colours cannot
    say (the server sees only the saved master's, and a mark made since the save is not
    there), when the recorded cell's row no longer holds that 指標ID and the ID's row has
    one cell in the recorded column: Excel moves a cell's fill with its row. That second
    rule changes nothing where colours are read, as every lift is only where the mark shows.

    Returns those cells with their recorded fills, and the recorded places they moved from:
    not lifted, as the mark is no longer there (the row now there never had it; the server,
    which cannot read the open book's colours, lifted it unconditionally and gave that
    row's cell the moved cell's fill)."""
    cells_of = _Lazy(lambda: _cells_by_id(data))
    out: dict[tuple[str, str], Optional[str]] = {}
    left: set[tuple[str, str]] = set()

    def free(key: tuple[str, str]) -> bool:
        return key not in current and key not in previous and key not in out

    for (sheet, ref), before in previous.items():
        ind_id = ids.get((sheet, ref), "")
        if not ind_id or (sheet, ref) in current:
            continue
        if state.fill_of is not None:
            if state.fill_of(sheet, ref) == c.MARK_FILL:
                continue
            shown = [(sheet, m) for m in cells_of.get((sheet, ind_id))
                     if free((sheet, m)) and state.fill_of(sheet, m) == c.MARK_FILL]
            if shown:
                out.update(dict.fromkeys(shown, before))
                left.add((sheet, ref))
                continue
        cells = cells_of.get((sheet, ind_id))
        if ref in cells:
            continue
        column = _column(ref)
        same = [m for m in cells if _column(m) == column]
        if len(same) == 1 and free((sheet, same[0])):
            out[(sheet, same[0])] = before
            left.add((sheet, ref))
    return out, left


def _column(ref: str) -> str:
    return ref.rstrip("0123456789")


def _cells_by_id(data: MasterData) -> dict[tuple[str, str], list[str]]:
    """(sheet, 指標ID) → the cells the contract reads on that row of 指標 or a municipality sheet."""
    out: dict[tuple[str, str], list[str]] = {}
    for record, sheet, ind_id in ([(i, c.INDICATORS, i.id) for i in data.indicators]
                                  + [(e, e.sheet, e.indicator_id) for e in data.entries]):
        if ind_id:
            out.setdefault((sheet, ind_id), []).extend(normal_ref(r) for r in record.cells.values() if r)
    return out


def normal_ref(ref: str) -> str:
    try:
        return cell_ref(*parse_ref(ref.split(":")[0]))
    except ValueError:
        return ""

"""Staff's own columns on 一覧, kept through 評価を再計算.

一覧 is the tool's sheet, rebuilt whole by every recalculation, but staff lift its
protection and write notes beside the list (「備考」 after 達成率: 「要確認」 on a row), or
insert a column of their own at the left or in the middle of it.
Rebuilt from the result alone, those notes vanished without a word at the next run, on
both faces. So the values in the columns after the tool's go with the row they were
written on: a row of an indicator goes to that 指標ID's row wherever the new list puts it
(the list follows 指標, so rows move when indicators are added or sorted), the rows above
the list (title, legend, header) stay where they are. A note whose indicator is no longer
listed has no row to go to: it is named, with its text, as a warning (the next run of 検証結果
keeps it), never dropped silently.

What is kept is the cell's value as the face reads it: a formula staff wrote there comes
back as its result (the buttons' payload carries no formulas), and the colours are the tool's
defaults; the widths staff gave the columns stay on every face, and a column staff hid shows
(SheetPlan.kept_widths). A formula saved without its result (a master last saved by
openpyxl or LibreOffice) has no value the file face can read, where the buttons carry
Excel's: the file reader puts NO_RESULT_VALUE in its place (workbook.state), and the cell
is named as a warning (LIST_NOTE_UNSAVED), never carried as empty; the other notes go on.
The 確定版 (export) builds its own 一覧 without them: notes are not published.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

from . import contract as c
from .contract_read import text
from .findings import (LIST_HEADER_UNSAVED, LIST_NOTE_DROPPED, LIST_NOTE_UNSAVED, TOOL_CHART_DROPPED,
                       TOOL_NOTE_DROPPED, TOOL_SETTING_DROPPED, TOOL_TABLE_DROPPED)
from .model import Finding
from .plan_types import MasterState, SheetPlan
from .refs import cell_ref, parse_ref
from .values import NO_RESULT_NAMED, NO_RESULT_VALUE, kept_cell_value, shown

_TOOL_COLS = len(c.LIST_COLUMNS)
# How much of a dropped note its finding quotes. Its message is a cell of 検証結果: a note
# of Excel's full 32,767 characters quoted whole went past what a cell holds (the file was
# written over Excel's limit; the buttons' write of 検証結果 was refused). 2,000 characters
# (control characters shown as [U+0001], eight each at most) leave room for the rest.
_QUOTED = 2_000


def keep_staff_columns(sheet: SheetPlan, old: Optional[Sequence[Sequence[object]]]) -> list[Finding]:
    """Put the staff's columns of the old 一覧 (``old``: its grid from A1, None when there is
    none) into ``sheet``, the new 一覧, beside the same rows; the findings name what has no
    row now. The old sheet's columns are told apart by the header row: the tool's are those
    headed by its texts (LIST_COLUMNS, wherever staff's inserted columns moved them), every
    other column holding a value is staff's, and goes after the tool's columns in the order
    it had (a column inserted at the left or in the middle too: the tool's columns are
    fixed). A sheet called 一覧 without the tool's header row is not the tool's list: nothing
    is carried from it."""
    found = _old_header(old or ())
    new_header = _header_index([[cell[0] if cell else None for cell in r[:_TOOL_COLS]]
                                for r in sheet.rows[:c.HEADER_SEARCH_ROWS]])   # not 20,000 rows for a header
    if found is None or new_header is None:
        return _unsaved_header(old or ()) if found is None else []
    old_header, tool_cols = found
    id_col = tool_cols[c.LIST_COLUMNS[c.LIST_ID_COL]]
    staff_cols = [j for j in range(max(map(len, old), default=0)) if j not in tool_cols.values()
                  and any(j < len(row) and text(row[j]) for row in old)]
    new_rows = {text(r[c.LIST_ID_COL][0]): i for i, r in enumerate(sheet.rows)
                if i > new_header and len(r) > c.LIST_ID_COL and r[c.LIST_ID_COL] and text(r[c.LIST_ID_COL][0])}
    dropped: list[Finding] = []
    for i, row in enumerate(old):
        notes = [(_TOOL_COLS + k, j, row[j]) for k, j in enumerate(staff_cols) if j < len(row) and text(row[j])]
        if not notes:
            continue
        held = row[id_col] if i > old_header and id_col < len(row) else ""
        ind_id = text(held) if held != NO_RESULT_VALUE else ""    # a formula without its result is no 指標ID
        said = f"指標ID {ind_id}" if ind_id else "指標IDのない行" if i > old_header else "見出しの行" if i == old_header \
            else "一覧の上の行"
        dropped += [LIST_NOTE_UNSAVED.at(c.LIST, cell_ref(i + 1, j + 1), ind_id, ref=cell_ref(i + 1, j + 1), row=said)
                    for _col, j, v in notes if v == NO_RESULT_VALUE]
        notes = [note for note in notes if note[2] != NO_RESULT_VALUE]
        to = new_rows.get(ind_id) if i > old_header else i - old_header + new_header
        if to is None or to < 0:
            dropped += [LIST_NOTE_DROPPED.at(c.LIST, cell_ref(i + 1, j + 1), ind_id, value=shown(text(v), _QUOTED),
                                             row=said) for _col, j, v in notes]
        elif notes:
            _put(sheet, to, [(col, v) for col, _j, v in notes])
    return dropped


def _unsaved_header(rows: Sequence[Sequence[object]]) -> list[Finding]:
    """The cells of a header row of 一覧 not found only because they hold a formula saved
    without its result (the file face reads it as NO_RESULT_VALUE): the row holds the tool's
    other headers, and as many of those cells as headers it lacks. Nothing is carried without
    the header row, and the staff's columns went unseen; a 一覧 that is no tool's list has no
    such row, and is left as it is."""
    for i, row in enumerate(rows[:c.HEADER_SEARCH_ROWS]):
        unsaved = [j for j, v in enumerate(row) if v == NO_RESULT_VALUE]
        heads = {h for v in row if (h := c.list_head(text(v))) in c.LIST_COLUMNS}
        if unsaved and len(heads) + len(unsaved) >= _TOOL_COLS:
            return [LIST_HEADER_UNSAVED.at(c.LIST, cell_ref(i + 1, j + 1), ref=cell_ref(i + 1, j + 1)) for j in unsaved]
    return []


def dropped_by_rebuild(state: MasterState, old: Optional[Sequence[Sequence[object]]], sheets: Sequence[str],
                       what: str) -> list[Finding]:
    """What staff placed on ``sheets`` that ``what`` (the command) loses by rebuilding them
    whole: their notes (comments), their own charts, their tables and the validations,
    ignored-error flags and sparklines of their cells. Pictures and shapes stay
    (package.drawing), values beside 一覧 go with their rows (keep_staff_columns)."""
    return [*dropped_notes(state.comments, old, sheets, what), *dropped_charts(state.charts, sheets, what),
            *dropped_tables(state.tables, sheets, what), *dropped_cell_settings(state.cell_settings, sheets, what)]


# What package.cell_settings' kinds are called in Excel's Japanese menus.
SETTING_KINDS = {"validation": "入力規則", "ignored_error": "エラーの無視（エラー チェック）", "sparkline": "スパークライン"}


def dropped_cell_settings(settings: Optional[Callable[[str], Sequence[tuple[str, str]]]], sheets: Sequence[str],
                          what: str) -> list[Finding]:
    """The validations, ignored-error flags and sparklines on ``sheets``' cells, each at the
    first cell of its range. The tool sets none on the sheets it rebuilds, so every one is the
    staff's. ``settings``: MasterState.cell_settings (None: the face cannot say them)."""
    if settings is None:
        return []
    out = []
    for sheet in sheets:
        for kind, ref in settings(sheet):
            first = ref.split()[0].split(":")[0] if ref else ""
            out.append(TOOL_SETTING_DROPPED.at(sheet, first, tool_sheet=sheet, what=what,
                                               kind=SETTING_KINDS.get(kind, kind), where=shown(ref, _QUOTED) or "セル"))
    return out


def dropped_tables(tables: Optional[Callable[[str], Sequence[tuple[str, str]]]], sheets: Sequence[str],
                   what: str) -> list[Finding]:
    """The tables on ``sheets``, each by the name Excel shows at the cell of its top left
    corner, with the range it had. The tool makes no table, so every one is the staff's.
    ``tables``: MasterState.tables (None: the face cannot say them)."""
    if tables is None:
        return []
    return [TOOL_TABLE_DROPPED.at(sheet, ref.split(":")[0], tool_sheet=sheet, what=what,
                                  table=shown(name, _QUOTED), where=f"の {ref} " if ref else "")
            for sheet in sheets for name, ref in tables(sheet)]


def dropped_charts(charts: Optional[Callable[[str], Sequence[tuple[str, str, str]]]], sheets: Sequence[str],
                   what: str) -> list[Finding]:
    """The charts on ``sheets`` other than the tool's own (by title, c.TOOL_CHART_TITLES),
    each at the cell of its top left corner, by its title or, untitled, by its name.
    ``charts``: MasterState.charts."""
    if charts is None:
        return []
    return [TOOL_CHART_DROPPED.at(sheet, ref, tool_sheet=sheet, what=what,
                                  chart=f"「{shown(title or name, _QUOTED)}」" if title or name else "",
                                  where=f"の {ref} " if ref else "")
            for sheet in sheets for name, title, ref in charts(sheet) if title not in c.TOOL_CHART_TITLES]


def dropped_notes(comments: Optional[Callable[[str], Sequence[tuple[str, str]]]],
                  old: Optional[Sequence[Sequence[object]]], sheets: Sequence[str], what: str) -> list[Finding]:
    """The notes (comments) on the cells of ``sheets``, which ``what`` (the command) rebuilds
    whole: each named with its text and, on 一覧, the 指標ID of its row (``old``: the old
    一覧's grid). ``comments``: MasterState.comments (None: the face cannot read them)."""
    if comments is None:
        return []
    found = _old_header(old or ())
    out: list[Finding] = []
    for sheet in sheets:
        for ref, note in comments(sheet):
            ind_id = ""
            if sheet == c.LIST and found is not None and ref:
                row, _col = parse_ref(ref)
                id_col = found[1][c.LIST_COLUMNS[c.LIST_ID_COL]]
                grid_row = (old or ())[row - 1] if row - 1 < len(old or ()) else ()
                ind_id = text(grid_row[id_col]) if row - 1 > found[0] and id_col < len(grid_row) else ""
            out.append(TOOL_NOTE_DROPPED.at(sheet, ref, ind_id, tool_sheet=sheet, value=shown(note, _QUOTED),
                                            what=what,
                                            row=f"指標ID {ind_id} の行" if ind_id else f"{sheet}!{ref}" if ref else sheet))
    return out


def staff_notes(old: Optional[Sequence[Sequence[object]]]) -> list[str]:
    """The cells of staff's own columns on a 一覧 (``old``: its grid from A1) that hold a
    value, as 「一覧!L12」: what a rollover leaves behind. Next year's 一覧 starts empty, and
    a note about this year's figure (「要確認」) carried to the new year's row would speak of
    a figure that is not there; the notes stay in this year's master, and the rollover's
    report names them instead of dropping them without a word. A staff column's own header
    (「備考」 in the header row) names the column, it says nothing of a figure: it is not a
    note (staff_headers names it)."""
    found = _old_header(old or ())
    if found is None:
        return []
    header, cols = found[0], set(found[1].values())
    return [f"{c.LIST}!{cell_ref(i + 1, j + 1)}" for i, row in enumerate(old or ()) if i != header
            for j, v in enumerate(row) if j not in cols and text(v)]


def staff_headers(old: Optional[Sequence[Sequence[object]]]) -> list[str]:
    """The headers of staff's own columns on a 一覧 (「備考」), in column order. Next year's
    一覧 starts as a note until its first 評価を再計算, so the columns are not there to carry
    a header to: the rollover's report names them, as it names the notes, so that staff
    head them again (keep_staff_columns keeps them from one 評価を再計算 to the next)."""
    found = _old_header(old or ())
    if found is None:
        return []
    row, cols = (old or ())[found[0]], set(found[1].values())
    return [_head_said(found[0], j, v) for j, v in enumerate(row) if j not in cols and text(v)]


def _head_said(i: int, j: int, value: object) -> str:
    """A staff column's header as the rollover's report names it: its text, or, for a formula
    saved without its result (NO_RESULT_VALUE: no text the file face can read), its cell."""
    return f"{c.LIST}!{cell_ref(i + 1, j + 1)}（{NO_RESULT_NAMED}）" if value == NO_RESULT_VALUE else text(value)


def _old_header(rows: Sequence[Sequence[object]]) -> Optional[tuple[int, dict[str, int]]]:
    """The old 一覧's header row (0-based) and the 0-based column of each of the tool's
    header texts in it (the first, when staff repeated one), None without all of them."""
    for i, row in enumerate(rows[:c.HEADER_SEARCH_ROWS]):
        cols: dict[str, int] = {}
        for j, v in enumerate(row):
            cols.setdefault(c.list_head(text(v)), j)
        tool = {head: cols[head] for head in c.LIST_COLUMNS if head in cols}
        if len(tool) == _TOOL_COLS:
            return i, tool
    return None


def _header_index(rows: Sequence[Sequence[object]]) -> Optional[int]:
    """The 0-based index of the new 一覧's header row (the LIST_COLUMNS texts), None if absent."""
    for i, row in enumerate(rows[:c.HEADER_SEARCH_ROWS]):
        if tuple(c.list_head(text(v)) for v in row) == c.LIST_COLUMNS:
            return i
    return None


def _put(sheet: SheetPlan, index: int, notes: Sequence[tuple[int, object]]) -> None:
    while len(sheet.rows) <= index:
        sheet.rows.append([])
    row = sheet.rows[index]
    width = max(col for col, _v in notes) + 1
    if len(row) < width:
        row.extend([None] * (width - len(row)))
    for col, value in notes:
        row[col] = (kept_cell_value(value), None)     # an error value stays one on every face

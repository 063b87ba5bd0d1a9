"""Each command's whole write plan, composed from the builders of the sheets it touches.

Both faces apply the same plan: the file applier (renkei_xl.workbook.apply) edits the
package part by part, the live applier (renkei_xl.excel.apply) calls Excel through
xlwings. Neither decides anything: which cells a sheet holds and how they look, which
staff cells change, which marks are added or lifted and what a lifted cell gets back, and
where 取込履歴 rows go are all computed in the core from the recalculation's Result and the
master's current state (plain grids and names). So the buttons and the command line give
the same values and the same looks by construction, and one test module states what both
must show.

Where each part is made: the plan's types in plan_types; 一覧 in sheet_list, 集計 in
sheet_summary (its past years' rates in history), 検証結果 in sheet_findings, the marks
in marks, 次の一歩 in gaps, 経年 in history, 取込履歴 in sheet_import_log; the メニュー
status cells here, with the mark a click writes before anything else (under_way_cells).
"""

from __future__ import annotations

import datetime as dt
from typing import Sequence

from . import contract as c
from .contract_read import MasterData
from .layout import status_line
from .marks import marks
from .model import Finding, Result
from .plan_types import CellEdit, MasterState, WritePlan
from .refs import parse_ref
from .sheet_findings import findings_sheet, shown_findings
from .list_notes import dropped_by_rebuild, keep_staff_columns
from .sheet_list import list_cuts, list_layout
from .sheet_summary import summary_sheet


# The sheets 評価を再計算 writes anew, whole (入力チェック: 検証結果 alone).
REBUILT_BY_RECALC = (c.LIST, c.SUMMARY, c.NEXT_STEPS, c.FINDINGS)


def menu_cells(state: MasterState, line: str, when: dt.datetime) -> list[CellEdit]:
    """The two status cells of メニュー (by their defined names); an older master without
    the names gets none. Optional writes: a click is not refused for them (CellEdit)."""
    return [CellEdit(*cell, value, fmt, optional=True)
            for name, value, fmt in ((c.N_LAST_RUN, when, c.DATETIME_FORMAT), (c.N_LAST_RESULT, line, None))
            if (cell := _menu_cell(state, name)) is not None]


def under_way_cells(state: MasterState, what: str) -> list[CellEdit]:
    """The mark a click writes first where its writes can stop partway (state.stops_halfway:
    the buttons): メニュー's 最終実行結果 says the click is under way and, should it stay, that
    the book is not to be saved (contract.under_way_line). The click's own status replaces it
    last (menu_cells, the same cell), so only a stopped click leaves it; the message box said
    so once, and a book saved after it looked finished (qa-126). One cell, one small write.
    None on the file face (all or nothing), nor without the status cell (menu_cells)."""
    cell = _menu_cell(state, c.N_LAST_RESULT) if state.stops_halfway else None
    return [] if cell is None else [CellEdit(*cell, c.under_way_line(what), optional=True)]


def _menu_cell(state: MasterState, name: str) -> "tuple[str, int, int] | None":
    """The sheet, row and column a status name points at; None without the name or its sheet."""
    if name not in state.names:
        return None
    sheet, ref = state.names[name]
    if sheet not in state.sheetnames:
        return None
    row, col = parse_ref(ref.split(":")[0])
    return sheet, row, col


def validate_plan(state: MasterState, data: MasterData, result: Result, what: str,
                  when: dt.datetime) -> tuple[WritePlan, Result]:
    """入力チェック: 検証結果 rebuilt, marks added and lifted, メニュー status (``what``: the
    command's name in it). Only the findings 検証結果 lists are marked (shown_findings).

    Returns the result with what the layout found added (the 一覧 texts Excel's rows cannot
    show whole, sheet_list.list_cuts), so 入力チェック and 再計算 report the same findings
    and every face prints, counts and writes them alike."""
    result = with_findings(checked_result(result, data.settings),
                           dropped_by_rebuild(state, None, (c.FINDINGS,), what))
    return _checked(state, data, result, what, when)


def checked_result(result: Result, settings) -> Result:
    """The result as 入力チェック reports it: with the 一覧 texts the tallest row cannot show
    (for a check that writes nothing, as for one that writes 検証結果)."""
    return with_findings(result, list_cuts(result, settings))


def recalc_plan(state: MasterState, data: MasterData, result: Result, what: str,
                when: dt.datetime) -> tuple[WritePlan, Result]:
    """評価を再計算: 一覧 and 集計 too (集計 with the 達成割合 of every year in 経年), and
    次の一歩 (what each row that is not ◎ still needs); staff's columns beside 一覧 go with
    their rows (core.list_notes). Returns the result as
    ``validate_plan`` does, its 一覧 findings from the 一覧 written."""
    from .gaps import next_steps_sheet        # here: 入力チェック starts without them
    from .history import read_history, recorded_names, with_year_rates

    listed, cut = list_layout(result, data.settings)
    old = state.grids.get(c.LIST)
    result = with_findings(result, [*cut, *keep_staff_columns(listed, old),
                                    *dropped_by_rebuild(state, old, REBUILT_BY_RECALC, what)])
    plan, result = _checked(state, data, result, what, when)
    grid = state.grids.get(c.HISTORY)
    history = read_history(grid, data.indicators, data.settings.fiscal_year)
    summary = with_year_rates(summary_sheet(result, data.settings), history, data.settings.fiscal_year, result)
    plan.sheets[:0] = [listed, summary]
    plan.sheets.append(next_steps_sheet(result, data.entries, data.settings, history, recorded_names(grid)))
    return plan, result


def with_findings(result: Result, found: Sequence[Finding]) -> Result:
    """``result`` with the findings only a sheet's layout can make (Result is frozen)."""
    return result._replace(findings=(*result.findings, *found)) if found else result


def _checked(state: MasterState, data: MasterData, result: Result, what: str, when: dt.datetime
             ) -> tuple[WritePlan, Result]:
    """検証結果 and the marks; the result with a warning for each last-run mark whose cell cannot be
    found (core.marks.placed_marks), so every face reports it as it reports the findings."""
    fills, before, lost = marks(shown_findings(result.findings).findings, state, data)
    result = with_findings(result, lost)
    return WritePlan([findings_sheet(result.findings, state.sheetnames, before)],
                     menu_cells(state, status_line(what, result), when), fills,
                     under_way=under_way_cells(state, what)), result


def collect_plan(state: MasterState, changes: Sequence, columns: Sequence[str],
                 records: Sequence[Sequence[object]], line: str, when: dt.datetime) -> WritePlan:
    """回収ファイル取込: the changed cells (``changes`` carry sheet, cell, new), 取込履歴 rows
    and メニュー's status (``line``), marked under way first on a face Excel can stop halfway:
    values written without their 取込履歴 rows, saved, were taken for staff's own edits by the
    next import, and nothing in the book said the import had stopped.
    A number written into a cell whose format shows it as a percent is given the format 標準
    (core.percent_cells.written_format, by the cells the face's reader found: state.percents),
    so the cell shows and reads what the return showed, not 85 as 「8500%」."""
    from .percent_cells import written_format
    from .sheet_import_log import import_log_writes    # here: recalc and 入力チェック need none of it

    cells = []
    for ch in changes:
        row, col = parse_ref(ch.cell)
        fmt = state.percents(ch.sheet).get((row, col)) if state.percents is not None else None
        cells.append(CellEdit(ch.sheet, row, col, ch.new, written_format(ch.new, fmt)))
    new_sheet, logged = import_log_writes(state.grids.get(c.IMPORT_LOG), columns, records)
    return WritePlan([new_sheet] if new_sheet else [], cells + logged + menu_cells(state, line, when), [],
                     under_way=under_way_cells(state, c.COLLECT))


def owned_sheets(plan: WritePlan) -> list[str]:
    return [s.name for s in plan.sheets]

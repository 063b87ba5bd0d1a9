"""Next year's master, as a write plan on a copy of this year's (pure).

A new year is this year's master with its inputs emptied, not a new workbook: the staff's
macros, buttons, xlwings.conf, sheets, columns, names, validations and formats all carry
over because the file applier copies every part and edits only what this plan names:

- 設定: 対象年度 and 基準日 (a year later; the named cells);
- every input cell emptied: 実績値, 分母 and 実施状況 on the municipality sheets, 実績値（手入力）
  and 実施状況（手入力） on 指標 (each keeps its format and validation);
- beside each row, after the staff's columns, 「前年度実績（YYYY年度）」: what that row held,
  for reference, in a column as wide as its texts (the column of an earlier rollover is
  reused, at the width staff see it);
- the marks of the last 入力チェック lifted (their cells are emptied anyway);
- 一覧 and 集計 empty until the first 評価を再計算; 検証結果 lists the targets that name a year
  already past; 取込履歴 empty; 次の一歩 empty; 経年 with the closed year appended;
- メニュー's status line.

The indicators themselves (project, indicator, target, 集計方法, 評価方法) are not touched.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Callable, Collection, Mapping, NamedTuple, Optional, Sequence

from . import contract as c
from .alerts import Listing, Part
from .contract_read import Book, MasterData, check_fiscal_year, server_folder, text, unlisted_tables
from .refs import parse_ref
from .errors import UserError
from .gaps import next_steps_title
from .history import (YearRecord, history_sheet, overwritten, read_history, read_kept, refuse_unrecordable,
                      renamed, with_year)
from .findings import uncached_places
from .layout import summary_title
from .list_notes import dropped_by_rebuild, staff_headers, staff_notes
from .deadlines import past_targets
from .model import Finding, Indicator, Result, Settings
from .marks import marks
from .plan import menu_cells
from .sheet_findings import findings_sheet
from .sheet_list import list_sheet
from .plan_types import CellEdit, FillEdit, MasterState, SheetPlan, WidthEdit, WritePlan
from .values import INPUT_ERROR, fit_cell, unread_value

REFERENCE_FILL = c.REFERENCE_FILL
_PREVIOUS = re.compile(r"^" + re.escape(c.PREVIOUS_HEADER_PREFIX) + r"(\d{4})年度）$")
LIST_NOTE = "「評価を再計算」を押すと、この年度の一覧を作ります。"
SUMMARY_NOTE = "「評価を再計算」を押すと、この年度の集計を作ります。"
STEPS_NOTE = "「評価を再計算」を押すと、◎でない指標ごとに次の一歩を示します。"


# ---------------------------------------------------------------------- dates

def shifted(day: Optional[dt.date], years: int) -> Optional[dt.date]:
    """The same day ``years`` later, a month's last day staying its last (28 February 2023 →
    29 February 2024, and back to the 28th): 一覧 heads a month-end 基準日 「（２月末時点）」
    (contract.status_head), and the next year's 2024/2/28 headed it 「（２月２８日時点）」."""
    if day is None:
        return None
    month_end = (day + dt.timedelta(days=1)).day == 1
    if month_end:
        first_after = dt.date(day.year + years + (day.month == 12), day.month % 12 + 1, 1)
        return first_after - dt.timedelta(days=1)
    return day.replace(year=day.year + years)


def next_folder(folder: str, old: int, new: int) -> str:
    """「2023年度」 → 「2024年度」, 「\\\\fs\\renkei\\2023」 → 「…\\2024」, 「令和5年度」 → 「令和6年度」:
    the year in the last part of サーバー作業フォルダー moved on in the form it is written
    (core.fiscal.moved_year, as for the master's name); a folder naming no year stays."""
    from .fiscal import moved_year

    _head, _sep, last = folder.rstrip("\\/").replace("/", "\\").rpartition("\\")
    moved = moved_year(last, old, new)
    if not last or moved == last:
        return folder
    rest = folder.rstrip("\\/")
    return rest[:len(rest) - len(last)] + moved


def next_name(name: str, old: int, new: int) -> str:
    """「さっぽろ圏_2023年度_マスター.xlsm」 → 「さっぽろ圏_2024年度_マスター.xlsm」, and the year
    in the form staff wrote it (「令和5年度」 → 「令和6年度」, 「R5」 → 「R6」, 「２０２３」 → 「２０２４」:
    core.fiscal.moved_year), so the new name never still carries the old year; a name
    without the year gets it appended. The result goes through the one rule for names
    made of content (core.filenames): a long name with a longer year stays in bounds."""
    from .filenames import DEFAULT_MAX_BYTES, NAME_MAX_BYTES, safe_file_name
    from .fiscal import moved_year

    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    moved = moved_year(stem, old, new)
    stem = moved if moved != stem else f"{stem}_{new}年度"
    # As long as the name staff gave this year's master (it is on the disk: the file system
    # takes it, and the tool's working files beside it are cut to fit, safety._fit): a
    # 43-character name lost its end to the 120-byte budget of names made of content.
    grown = max(DEFAULT_MAX_BYTES, len(f"{stem}.{suffix}".encode("utf-8", "surrogateescape")))
    return safe_file_name(stem, f".{suffix}" if suffix else "", max_bytes=min(grown, NAME_MAX_BYTES))


# ----------------------------------------------------------------- the plan

class RolloverReport(NamedTuple):
    old_year: int
    new_year: int
    indicators: int
    emptied: int                 # input cells emptied
    past: list[Finding]          # targets naming a past year
    recorded: int                # rows of 経年 written for the closed year
    errors: tuple[Finding, ...]  # input errors in the closed year's evaluation (their rows went in as －)
    folder: tuple[str, str] = ("", "")   # サーバー作業フォルダー (old, new) when it named the year
    stale: tuple[str, ...] = ()  # 指標IDs whose row on this year's 一覧 is not what the inputs give
    unrecorded: bool = False     # nothing was entered this year: the year was not put into 経年
    states_added: tuple[str, ...] = ()   # words 状態一覧 gained (an older master's list)
    renamed: tuple[tuple[str, str, str], ...] = ()   # (指標ID, 経年's 評価指標, 指標's): history.renamed
    missing: Optional[int] = None   # the year this master was made from, which 経年 lacks (_missing_year)
    list_notes: tuple[str, ...] = ()   # cells of staff's notes beside this year's 一覧 (list_notes.staff_notes)
    unlisted: tuple[tuple[str, int], ...] = ()   # (sheet, rows with an input) 設定 does not list: left as they are
    notes: tuple[Finding, ...] = ()   # notes (comments) on the tool's sheets the new master rebuilds (経年 too)
    list_heads: tuple[str, ...] = ()   # headers of staff's columns beside this year's 一覧 (list_notes.staff_headers)
    folder_problem: str = ""   # why サーバー作業フォルダー was not moved on (_next_folder_cells)
    # (指標ID, 経年's record of the closed year, the evaluation's) where they differed (history.overwritten)
    overwritten: tuple[tuple[str, str, YearRecord, YearRecord], ...] = ()
    hidden: tuple[str, ...] = ()   # 「「小樽市」の H 列」: 前年度実績 columns written where staff hid columns (hidden_previous)

    @property
    def skipped(self) -> tuple[int, ...]:
        """The years between the closed one and the new one (--year two or more after it):
        no master of theirs went into 経年, and 「前年度実績」 shows the closed year."""
        return tuple(range(self.old_year + 1, self.new_year))

    @property
    def warned(self) -> bool:
        """A year was left out of 経年 (the closed one, or one skipped): the command exits 1,
        as recalc does on errors (a batch must not take the rollover as a clean one). A stale
        一覧 alone is said, not counted: what 経年 records is worked out from the inputs, as
        recalc and export do."""
        return self.unrecorded or bool(self.skipped)


def rollover_plan(state: MasterState, sheets: Mapping[str, Sequence[Sequence[object]]], data: MasterData,
                  closed: Result, new_year: int, when: dt.datetime,
                  listed: Optional[Sequence[Sequence[object]]] = None) -> tuple[WritePlan, RolloverReport]:
    """The plan that turns a copy of this year's master into next year's.

    ``listed``: this year's 一覧 as read (None: the sheet is gone). The closed year goes into
    経年 as the inputs evaluate it, whatever 一覧 shows; two things are told apart for staff:

    - nothing entered at all (no 実績値, 分母 or 実施状況 anywhere, as in a master rolled over
      again by mistake, or one never filled in): the new master is made, but the year is not
      recorded in 経年 and 指標's 前年度実績 stays empty. A year of ― and × with 0.0% would
      stand in 集計's chart and beside every row next year as if it were the year's result;
      staff expect an empty year to leave no trace, and to be told (the command exits 1);
    - a 一覧 that differs from what the inputs give (never recalculated, or inputs changed
      since): recorded from the inputs, which is what 評価を再計算 and 確定版を書き出し give
      too, and the rows that differ are named so staff can recalculate and check them.
    """
    old = data.settings
    check_new_year(old.fiscal_year, new_year)
    refuse_unrecordable(data.indicators, uncached_places(data.findings))
    book = Book(sheets, state.names)
    new_settings = old._replace(fiscal_year=new_year, base_date=shifted(old.base_date, new_year - old.fiscal_year))
    cells = _settings_cells(book, new_settings)
    emptied = emptied_inputs(data)
    cells += emptied
    unrecorded = not emptied
    stale = () if unrecorded else tuple(stale_rows(listed, closed, old))
    previous_cells, fills, widths = previous_year_columns(book, data, data, None if unrecorded else closed,
                                                          state.formulas, state.fill_of)
    cells += previous_cells
    lifted, _, _ = marks((), state, data)    # the marks of the last check
    fills += lifted
    owned, past, replaced = _owned_sheets(state, data, None if unrecorded else closed, new_settings)
    line = (f"次年度のマスター: {old.fiscal_year}年度のマスターから{new_year}年度を作成しました"
            f"（入力 {len(emptied)} セルを空に、目標の見直し {len(past)} 件）")
    cells += menu_cells(state, line, when)
    folder_cells, folder, folder_problem = _next_folder_cells(book, old.fiscal_year, new_year)
    cells += folder_cells
    state_cells, state_names, added = _state_list(book, state.formulas or _no_formulas)
    cells += state_cells
    report = RolloverReport(old.fiscal_year, new_year, len(data.indicators), len(emptied), past,
                            0 if unrecorded else len(closed.indicators), tuple(closed.errors), folder,
                            stale, unrecorded, added, _renamed(state, data), _missing_year(book, state),
                            tuple(staff_notes(listed)),
                            tuple((sheet, n) for sheet, _cell, n in unlisted_tables(book, old) if n),
                            tuple(dropped_by_rebuild(state, listed, [s.name for s in owned], c.ROLLOVER)),
                            tuple(staff_headers(listed)), folder_problem, tuple(replaced),
                            hidden_previous(previous_cells, old.fiscal_year, state.hidden_cols))
    return WritePlan(owned, cells, fills, state_names, widths=widths), report


def hidden_previous(cells: Sequence[CellEdit], year: int,
                    hidden_cols: Optional[Callable[[str], Sequence[tuple[int, int]]]]) -> tuple[str, ...]:
    """「「小樽市」の H 列」 for each 「前年度実績（``year``年度）」 column of ``cells`` that stands where the
    sheet hides its columns (MasterState.hidden_cols; None: a face that cannot say). Staff
    hide the unused columns after a table (H:XFD): the first free column is one of them, and
    the new master said 「各行の横に前年度実績を表示しました」 of a column nobody saw."""
    from .refs import column_letter

    label = c.PREVIOUS_HEADER.format(year=year)
    if hidden_cols is None:
        return ()
    return tuple(f"「{e.sheet}」の {column_letter(e.col)} 列" for e in cells
                 if e.value == label and any(a <= e.col <= b for a, b in hidden_cols(e.sheet)))


def _missing_year(book: Book, state: MasterState) -> Optional[int]:
    """The year this master was made from (its 「前年度実績（YYYY年度）」 on 指標) when 経年 has
    no record of it: the sheet deleted or emptied by hand, or that year rolled over with
    nothing entered. The new 経年 would go on without it, and nothing said so."""
    _row, header = _header_texts(book, c.INDICATORS, c.INDICATOR_HEADERS, c.INDICATOR_REQUIRED)
    made_from = [int(m.group(1)) for h in header if (m := _PREVIOUS.match(h))]
    history = read_history(state.grids.get(c.HISTORY))
    if made_from and not any(made_from[0] in per_year for per_year in history.values()):
        return made_from[0]
    return None


def _renamed(state: MasterState, data: MasterData) -> tuple[tuple[str, str, str], ...]:
    grid = state.grids.get(c.HISTORY)
    return tuple(renamed(read_history(grid), read_kept(grid), data.indicators))


def _no_formulas(_sheet: str) -> Collection[str]:
    """A master whose formula cells are not known (a caller that reads none)."""
    return ()


def _state_list(book: Book, formulas: Callable[[str], Collection[str]] = _no_formulas
                ) -> tuple[list[CellEdit], list, tuple[str, ...]]:
    """状態一覧 as this version offers it (choices.STATE_CHOICES, the words the rules read),
    in next year's master of one built when the list was shorter: 「改善」 and others were
    read by the rules but not offered, and a master is built once and rolled over for
    years. Only the tool's own list is rewritten (words of STATE_CHOICES in its order, the
    cells below it empty); a list staff changed is left as it is, and so is one with a
    formula among the cells it would take (``formulas``: MasterState.formulas): a formula
    showing nothing read as an empty cell below the list, and the new master had
    「（未集計）」 in place of staff's formula."""
    from .choices import STATE_CHOICES
    from .plan_types import NameEdit
    from .refs import cell_ref, column_letter, quote_sheet

    where = book.names.get(c.N_STATES)
    if where is None or where[0] not in book.sheets:
        return [], [], ()
    sheet, first = where
    top, col = parse_ref(first)
    grid = book.sheets[sheet]

    def at(row: int) -> str:
        cells = grid[row - 1] if row <= len(grid) else ()
        return text(cells[col - 1]) if col <= len(cells) else ""

    have, row = [], top
    while at(row):
        have.append(at(row))
        row += 1
    wanted = list(STATE_CHOICES)
    if not have or have == wanted or have != [w for w in wanted if w in have]:
        return [], [], ()
    if any(at(top + i) for i in range(len(have), len(wanted) + 1)):
        return [], [], ()
    held = formulas(sheet)
    if any(cell_ref(top + i, col) in held for i in range(len(wanted) + 1)):
        return [], [], ()
    letter = column_letter(col)
    cells = [CellEdit(sheet, top + i, col, w) for i, w in enumerate(wanted) if at(top + i) != w]
    name = NameEdit(c.N_STATES, f"{quote_sheet(sheet)}!${letter}${top}:${letter}${top + len(wanted) - 1}")
    return cells, [name], tuple(w for w in wanted if w not in have)


def stale_rows(listed: Optional[Sequence[Sequence[object]]], closed: Result, settings: Settings) -> list[str]:
    """The 指標IDs whose 実績値 or 評価 on this year's 一覧 differ from what 評価を再計算 would
    write now (core.layout.list_grid, the one layout of 一覧), or that 一覧 lacks: every one
    when 一覧 was never made. A 一覧 without its header row counts as never made.

    The 実績値 are compared as figures are printed whatever the digits' width: a 一覧 made by
    an earlier version echoed staff's 「３回」 where this one prints 「3回」, and every master
    recalculated by it was said to differ in 12 indicators (export, rollover, history import
    sent staff to recalculate last year's closed master for the width of a digit)."""
    from .digits import narrow_digits
    from .layout import INDICATOR, ROLE_KPI, list_grid

    grid = list_grid(closed, settings)
    wanted = {row[c.LIST_ID_COL]: (narrow_digits(text(row[c.LIST_ACTUAL_COL])), text(row[c.LIST_SYMBOL_COL]))
              for row, kind in zip(grid.rows, grid.kinds) if kind in (INDICATOR, ROLE_KPI)}
    shown: dict[str, tuple[str, str]] = {}
    rows = list(listed or ())
    top = next((i for i, r in enumerate(rows) if len(r) > c.LIST_ID_COL
                and text(r[c.LIST_ID_COL]) == c.LIST_COLUMNS[c.LIST_ID_COL]
                and text(r[c.LIST_SYMBOL_COL]) == c.LIST_COLUMNS[c.LIST_SYMBOL_COL]), None)
    for r in rows[top + 1:] if top is not None else ():
        if len(r) > c.LIST_ID_COL and text(r[c.LIST_ID_COL]) in wanted:
            shown[text(r[c.LIST_ID_COL])] = (narrow_digits(text(r[c.LIST_ACTUAL_COL])), text(r[c.LIST_SYMBOL_COL]))
    return [i for i, printed in wanted.items() if shown.get(i) != printed]


# How many 指標IDs of 一覧's rows that differ from the evaluation (stale_rows) a message names
# before it counts the rest, on every face (rollover, the year carried, 確定版を書き出し).
STALE_LISTED = 10
# What a 一覧 is compared with where the evaluation is recorded, not mailed (rollover, history import).
EVALUATED_NOW = "今の入力から計算した評価"


def stale_parts(stale: Sequence[str], total: int, whose: str, against: str, step: str) -> list[Part]:
    """The 【注意】 of 一覧's rows that differ from the evaluation computed now (stale_rows), said
    alike by every command that finds them (確定版を書き出し, 次年度のマスターを作成, history
    import) on both faces: staff read the 一覧 and mail or record the evaluation, so the rows
    are named, as many as a button's message has room for, then what to do. Every one of the
    ``total`` indicators differing (一覧 never recalculated) is said in one line: a list of all
    80 IDs, 「: ほか 80 件」 on a button, said nothing (qa-149). Export and rollover each built this
    and worded it apart. ``whose``: the master whose 一覧 it is (「マスターの」, 「2023年度の」);
    ``against``: what it was compared with; ``step``: what staff do next, which the command's
    situation decides."""
    if not stale:
        return []
    differ = f"【注意】{whose}「{c.LIST}」は、{against}と {len(stale)} 指標で違います"
    if total and len(stale) >= total:
        return [f"{differ}（すべての指標です。評価を再計算していないようです）。{step}"]
    return [Listing(list(stale), "ほか {n} 件", cap=STALE_LISTED, sep="、", more_sep=" ",
                    head=f"{differ}（評価を再計算していないか、その後に入力が変わっています）: "), f"　{step}"]


def check_new_year(old_year: int, new_year: int) -> None:
    """The year a rollover may make: after this one, not far after, and one the reader takes
    (asked before anything is made or locked: cycle.rollover, and the plan again)."""
    check_fiscal_year(new_year, "新しい対象年度")
    if new_year <= old_year:
        raise UserError(f"新しい対象年度（{new_year}年度）は、このマスターの対象年度（{old_year}年度）より"
                        "後にしてください")
    if new_year > old_year + 10:
        raise UserError(f"新しい対象年度（{new_year}年度）が離れすぎています（{old_year}年度の次は"
                        f"{old_year + 1}年度）")


def _settings_cells(book: Book, new: Settings) -> list[CellEdit]:
    """設定's year and base date, as the new year has them. A 基準日 the reader took from a
    text (「2024年3月31日」 pasted, a cell formatted as 文字列) is written as a date with the
    date format the builder gives the cell: written into its 標準 or 文字列 cell, the date
    stood on the new master's 設定 as the serial 「45747」."""
    from .looks import look

    cells = []
    for name, value in ((c.N_YEAR, new.fiscal_year), (c.N_BASE_DATE, new.base_date)):
        if value is None:
            continue
        sheet, ref, old = book.named(name)
        row, col = parse_ref(ref)
        as_text = name == c.N_BASE_DATE and isinstance(old, str)
        cells.append(CellEdit(sheet, row, col, value, look("setting_date").number_format if as_text else None))
    return cells


def emptied_inputs(data: MasterData) -> list[CellEdit]:
    """What staff and municipalities type, each year anew: every filled input cell emptied,
    its format kept (a 0% staff gave it too: the tool's own writes give a number 標準 where it
    writes, core.percent_cells.written_format says why the rule is there and not here)."""
    cells = []
    inputs = [(e, c.INPUT_FIELDS) for e in data.entries]
    inputs += [(ind, ("actual_manual", "status_manual")) for ind in data.indicators]
    for record, fields in inputs:
        for f in fields:
            ref = record.cell(f)
            if ref and getattr(record, f):
                row, col = parse_ref(ref)
                cells.append(CellEdit(record.sheet, row, col, None))
    return cells


def unmatched_sheets(data: MasterData, source: MasterData) -> tuple[str, ...]:
    """``data``'s municipality sheets that ``source``'s year has no municipality for.

    A partner renamed since (its sheet and 設定 row both changed) or one that joined: the
    year cannot be matched to its rows by name, and a name is the only key a municipality
    has. Their 前年度実績 column is left as it stands (rollover wrote it from the renamed
    sheet; a new partner's is empty), and both are named: emptying it lost a renamed
    partner's last year, and guessing which old name it was would be a silent guess."""
    known = set(source.settings.names) | {e.sheet for e in source.entries}
    return tuple(dict.fromkeys(e.sheet for e in data.entries if e.row is not None and e.sheet not in known))


def previous_year_columns(book: Book, data: MasterData, source: MasterData, closed: Optional[Result],
                          formulas: Optional[Callable[[str], Collection[str]]] = None,
                          fill_of: Optional[Callable[[str, str], Optional[str]]] = None
                          ) -> tuple[list[CellEdit], list[FillEdit], list[WidthEdit]]:
    """``source``'s year beside each row of ``data``'s master (``book``): on each municipality
    sheet, and on 指標 (empty there when the year was not recorded: ``closed`` None).

    Rows are matched by sheet and 指標ID, the n-th row of an ID to its n-th: rollover shows a
    master its own year (``source`` is ``data``, every row its own value), and core.carry
    shows next year's master the year again after a late return, when rows may have moved
    or been added since; a row the year did not have is emptied, never given a neighbour's.
    A sheet whose municipality the year did not have is left alone (unmatched_sheets).
    ``formulas``: MasterState.formulas, the cells holding a formula, which a new column is
    never put over (_free_column); None where the face cannot say them. ``fill_of``:
    MasterState.fill_of, which tells the tool's earlier values below the table from staff's
    notes there (_left_by_the_tool). The widths: those of the columns made here (_previous_column)."""
    formulas = formulas or _no_formulas
    label = c.PREVIOUS_HEADER.format(year=source.settings.fiscal_year)
    cells: list[CellEdit] = []
    fills: list[FillEdit] = []
    widths: list[WidthEdit] = []
    held = _queued(((e.sheet, e.indicator_id), _entry_shown(e)) for e in source.entries if e.row is not None)
    shown_entries: dict[str, list[tuple[int, object]]] = {}
    skipped = set(unmatched_sheets(data, source))
    for e in data.entries:
        if e.row is not None and e.sheet not in skipped:
            shown_entries.setdefault(e.sheet, []).append((e.row, _next(held, (e.sheet, e.indicator_id))))
    for sheet, rows in shown_entries.items():
        c1, f1, w1 = _previous_column(book, sheet, c.ENTRY_HEADERS, c.ENTRY_REQUIRED, label, rows, formulas,
                                      fill_of)
        cells += c1
        fills += f1
        widths += w1
    ind_rows = [(ind.row, None if closed is None else _indicator_shown(ind, closed))
                for ind in data.indicators if ind.row is not None]
    if ind_rows:
        c1, f1, w1 = _previous_column(book, c.INDICATORS, c.INDICATOR_HEADERS, c.INDICATOR_REQUIRED, label,
                                      ind_rows, formulas, fill_of)
        cells += c1
        fills += f1
        widths += w1
    return cells, fills, widths


def previous_from_records(book: Book, data: MasterData, year: int,
                          records: Mapping[str, YearRecord]) -> tuple[list[CellEdit], list[str]]:
    """指標's 「前年度実績（``year``年度）」 cells of the indicators a history CSV corrected,
    shown as rollover shows them (実績値 and symbol); and the municipality sheets whose
    column of that year the CSV cannot correct (it has no municipality's value).

    A correction of last year imported from a CSV went into 経年 while the column beside each
    row still showed the figure staff had found wrong. Only the rows the CSV names change,
    and only where rollover made the column: a master without it never showed that year."""
    label = c.PREVIOUS_HEADER.format(year=year)
    cells: list[CellEdit] = []
    rows = [(ind.row, records[ind.id]) for ind in data.indicators if ind.row is not None and ind.id in records]
    if rows and c.INDICATORS in book.sheets:
        header_row, header = _header_texts(book, c.INDICATORS, c.INDICATOR_HEADERS, c.INDICATOR_REQUIRED)
        if label in header:
            col = header.index(label) + 1
            cells = [CellEdit(c.INDICATORS, r, col, _with_symbol(rec.actual, rec.symbol)) for r, rec in rows]
    untouched = []
    for sheet in dict.fromkeys(e.sheet for e in data.entries if e.row is not None and e.indicator_id in records):
        if label in _header_texts(book, sheet, c.ENTRY_HEADERS, c.ENTRY_REQUIRED)[1]:
            untouched.append(sheet)
    return cells, untouched


def _queued(pairs) -> dict:
    out: dict = {}
    for key, value in pairs:
        out.setdefault(key, []).append(value)
    for values in out.values():
        values.reverse()
    return out


def _next(queued: dict, key) -> object:
    values = queued.get(key)
    return values.pop() if values else None


def _owned_sheets(state: MasterState, data: MasterData, closed: Optional[Result],
                  new_settings: Settings) -> tuple[list[SheetPlan], list, list]:
    """The tool's sheets of the new year (empty, or placeholders until its first recalc),
    with the closed year added to 経年 (unless ``closed`` is None); the targets past their
    year; and the closed year's records 経年 held that its evaluation replaced (history.overwritten)."""
    indicators = [i for i in data.indicators]
    past = past_targets(new_settings, indicators)
    grid = state.grids.get(c.HISTORY)
    history, kept = read_history(grid, indicators, data.settings.fiscal_year), read_kept(grid)
    replaced = []
    if closed is not None:
        history = with_year(history, data.settings.fiscal_year, closed)
        replaced = overwritten(grid, history, data.settings.fiscal_year)
        kept = kept.judged(data.settings.fiscal_year, closed.indicators)
    owned = [_note_sheet(list_sheet(_empty(), new_settings), LIST_NOTE),
             _summary_placeholder(new_settings),
             findings_sheet(past, state.sheetnames, {}),
             history_sheet(history, indicators, kept),
             _steps_placeholder(new_settings)]
    if c.IMPORT_LOG in state.sheetnames:
        owned.append(SheetPlan(c.IMPORT_LOG, [], protect=False))
    return owned, past, replaced


def _next_folder_cells(book: Book, old_year: int, new_year: int
                       ) -> tuple[list[CellEdit], tuple[str, str], str]:
    """One folder per year: the new master names its own (and (old, new) for the report).

    A broken サーバー作業フォルダー (its name 「設定!#REF!」, its cell an error value) does not
    stop rollover: the name is optional and only the server reads it, which refuses every
    click in its own words until it is mended, and nothing of the new year depends on it.
    Nor is it passed over in silence, as it was (read as no name): the third value is what
    the report says of it, and the new master keeps it as it was."""
    try:
        old_folder, where = server_folder(book)
    except UserError as exc:
        return [], ("", ""), str(exc)
    if not where:
        return [], ("", ""), ""
    new_folder = next_folder(old_folder, old_year, new_year)
    if new_folder == old_folder:
        return [], ("", ""), ""
    sheet, ref = where.rsplit("!", 1)     # a sheet's name may hold a 「!」
    row, col = parse_ref(ref)
    return [CellEdit(sheet, row, col, new_folder)], (old_folder, new_folder), ""


def _entry_shown(e) -> object:
    """What a municipality row held: its value with the unit shown beside it (比率: 値／分母).
    A row with an error value there shows what 一覧 and 経年 show for it, never the error's
    text as last year's figure (「#N/A」, 「17#N/A」, 「17件／#REF!」), nor a TRUE/FALSE's
    (a check box's linked cell: 「TRUE」, 「17TRUE」). Fitted to a cell (fit_cell, cut with its
    mark): a value of Excel's 32,767 characters (or one near it, with its unit and 分母) was
    past what the tool writes into a cell, and rollover and history import refused naming the
    new column's cell (「札幌市!H5（32,767文字）」), which staff could not shorten (qa-132)."""
    value = e.value.strip()
    if not value:
        return None
    if any(unread_value(v) for v in (value, e.unit, e.denominator)):
        return INPUT_ERROR
    unit = e.unit.strip() if e.unit else ""
    shown = value if (not unit or not _bare(value)) else f"{value}{unit}"
    if e.denominator.strip():
        shown = f"{shown}／{e.denominator.strip()}"
    return fit_cell(shown)


def _bare(value: str) -> bool:
    return re.fullmatch(r"[\d,.]+", value) is not None


def _indicator_shown(ind: Indicator, closed: Result) -> object:
    """What 指標's row came to last year: the consolidated 実績値 and its symbol."""
    cons = closed.consolidated.get(ind.id)
    ev = closed.evaluations.get(ind.id)
    return _with_symbol(cons.actual if cons is not None else "", ev.symbol if ev is not None else "")


def _with_symbol(actual: str, symbol: str) -> Optional[str]:
    """指標's 前年度実績 cell: 「30,273千人（2022年度） －」, whichever source the year came from."""
    return " ".join(p for p in (actual, symbol) if p) or None


def _previous_column(book: Book, sheet: str, headers, required, label: str, rows: Sequence[tuple[int, object]],
                     formulas: Callable[[str], Collection[str]] = _no_formulas,
                     fill_of: Optional[Callable[[str, str], Optional[str]]] = None
                     ) -> tuple[list[CellEdit], list[FillEdit], list[WidthEdit]]:
    """The 前年度実績 column of a staff sheet: an earlier one (found by its header) reused,
    else a free column after the header row's last filled cell (_free_column).

    A new column is made as wide as its header and values (text_fit.text_width, in the
    workbook's default font, which its cells take): at the default width 「前年度実績（2023年度）」
    and 指標's 「30,273千人（2022年度） －」 were cut at the next filled cell. A column reused
    keeps its width: staff have seen it a year, and may have sized it."""
    from .looks import NORMAL_FONT_SIZE
    from .text_fit import text_width

    header_row, header = _header_texts(book, sheet, headers, required)
    grid = book.sheets[sheet]
    col = next((i for i, h in enumerate(header, start=1) if _PREVIOUS.match(h)), None)
    widths = []
    if col is None:
        col = _free_column(grid, header_row, header, formulas(sheet))
        widths.append(WidthEdit(sheet, col, text_width([label, *(v for _r, v in rows)], NORMAL_FONT_SIZE)))
    cells = [CellEdit(sheet, header_row, col, label)]
    fills = [FillEdit(sheet, header_row, col, c.HEADER_FILL)]
    wanted = dict(rows)
    last = max([len(grid), *wanted])
    held = formulas(sheet)
    for r in range(header_row + 1, last + 1):
        now = grid[r - 1][col - 1] if r - 1 < len(grid) and col - 1 < len(grid[r - 1]) else None
        value = wanted.get(r)
        if value is None and now in (None, ""):
            continue
        if r not in wanted and not _left_by_the_tool(sheet, grid[r - 1], r, col, held, fill_of):
            continue
        cells.append(CellEdit(sheet, r, col, value))
        if r in wanted:
            fills.append(FillEdit(sheet, r, col, REFERENCE_FILL))
    return cells, fills, widths


def _left_by_the_tool(sheet: str, row: Sequence[object], r: int, col: int, held: Collection[str],
                      fill_of: Optional[Callable[[str, str], Optional[str]]]) -> bool:
    """Whether a filled cell of a reused 前年度実績 column, on a row no indicator has now, is
    an earlier year's value the tool wrote (emptied, never shown under the new year's
    header) rather than staff's: a note under the table (「※2023年度は速報値」) or a formula.
    The next rollover and a carried year emptied the whole column to the sheet's last row,
    and staff's notes were gone from the new master without a word. The tool's values
    bear REFERENCE_FILL; where the face cannot read fills, a row holding nothing else is
    staff's (the reader takes a row of 前年度実績 alone for no row of the table either)."""
    from .refs import cell_ref

    if cell_ref(r, col) in held:
        return False
    if fill_of is not None:
        return fill_of(sheet, cell_ref(r, col)) == REFERENCE_FILL
    return any(text(v) for k, v in enumerate(row, start=1) if k != col)


def _free_column(grid: Sequence[Sequence[object]], header_row: int, header: Sequence[str],
                 formulas: Collection[str] = ()) -> int:
    """The first column after the header row's last filled cell that holds nothing from the
    header row down. Staff write beside the table without a header (「要確認」 next to a row,
    a footnote under it): the column right after the last header took those cells for
    前年度実績, and the new master had the values in place of the notes, or empty cells.

    A cell holding a formula (``formulas``) is used whatever it shows: one showing nothing
    (=IF(E5="","要確認",""), or saved without its result) read as empty, and the new master
    had 前年度実績 in place of staff's formulas."""
    col = max((i for i, h in enumerate(header, start=1) if h), default=0) + 1
    used = {k for row in grid[header_row - 1:] for k, v in enumerate(row[col - 1:], start=col) if text(v)}
    for ref in formulas:
        row, k = parse_ref(ref)
        if row >= header_row and k >= col:
            used.add(k)
    while col in used:
        col += 1
    return col


def _header_texts(book: Book, sheet: str, headers, required) -> tuple[int, list[str]]:
    """A staff sheet's header row and its texts."""
    header_row, _cols = book.header(sheet, headers, required)
    grid = book.sheets[sheet]
    return header_row, [text(v) for v in grid[header_row - 1]] if header_row - 1 < len(grid) else []


def _empty() -> Result:
    from .pipeline import summarize

    return Result((), {}, {}, (), summarize((), {}, 0, 0))


def _note_sheet(sheet: SheetPlan, note: str) -> SheetPlan:
    sheet.rows.append([(note, "legend")])
    return sheet


def _summary_placeholder(settings: Settings) -> SheetPlan:
    return SheetPlan(c.SUMMARY, [[(summary_title(settings), "title")], [],
                                 [(SUMMARY_NOTE, "legend")]], widths={1: 30.0})


def _steps_placeholder(settings: Settings) -> SheetPlan:
    return SheetPlan(c.NEXT_STEPS, [[(next_steps_title(settings), "title")], [],
                                    [(STEPS_NOTE, "legend")]], widths={1: 30.0})

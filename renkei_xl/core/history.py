"""The history of every indicator, year after year: the tool-owned sheet 経年.

The master holds one year; 経年 keeps the years before it, one row per 指標ID and, per
year, the 実績値 as printed and the 評価 symbol. Rollover appends the year it closes,
``renkei-xl history import`` back-fills earlier years from a CSV, and 集計 draws the
達成割合 of every year from it. Plain dicts and lists, not pandas: a button starts a new
Python process per click and a table of 80 rows × a few years needs no data-frame library.

The sheet is read back by header text (「2023年度 実績値」「2023年度 評価」), so a year's
columns are found wherever they are, and nothing staff typed into the sheet's known
columns is lost when it is written again.
"""

# No ``from __future__ import annotations``: typing.NamedTuple compiles each string
# annotation (a ForwardRef), and the first compile() of a process builds the ast module's
# types, about 3 ms of every command (docs/performance.md).

import re
import unicodedata
from typing import Iterable, Mapping, NamedTuple, Optional, Sequence

from .lazy_pattern import LazyPattern
from . import contract as c
from .face import again
from .contract_read import YEAR_RANGE, refuse_typed_over, text
from .errors import UserError
from .fiscal import DateParseError, staff_year
from .methods import NO_VALUE, rates_others
from .model import ACHIEVED, EVALUABLE, NOT_EVALUABLE, NOT_YET, SYMBOLS, Indicator, Result
from .plan_types import Cell, Chart, SheetPlan
from .refs import cell_ref
from .looks import print_setup
from .lookalike import symbol_hint
from .symbols import SYMBOLS_SAID
from .sheet_grid import fitted_cells, symbol_colours
from .values import (NO_RESULT_VALUE, boolean_value, error_value, fit_cell, rounded_rate, shown, unread_advice,
                     listed, more_text, unread_kind, unread_places, unread_value)

# 経年's headers are those of the sheets its columns come from (core.contract): 指標's 指標ID,
# 連携事業名, 評価指標 and 目標値, then a pair per year of 一覧's 実績値 and 評価 (and that year's
# 目標値 where it differs), so a header renamed there is renamed here.
ID_HEADER = c.INDICATOR_HEADERS["id"]
FIXED_HEADERS = tuple(c.INDICATOR_HEADERS[f] for f in ("id", "project_name", "name", "target"))
ACTUAL_KIND = c.LIST_COLUMNS[c.LIST_ACTUAL_COL]
SYMBOL_KIND = c.LIST_COLUMNS[c.LIST_SYMBOL_COL]
TARGET_KIND = c.INDICATOR_HEADERS["target"]
ACTUAL_SUFFIX = f"年度 {ACTUAL_KIND}"
SYMBOL_SUFFIX = f"年度 {SYMBOL_KIND}"
# Matched on the header as staff may retype it (header_key): 「２０２３年度　実績値」,
# 「2023年度実績値」 or 「令和5年度 実績値」 is the year the tool wrote, not a column of staff's
# own beside it (year_of_header reads the year as a history CSV's 年度 is read: 「R5 実績値」
# and 「2023 評価」 too).
_YEAR_COLUMN = LazyPattern(r"^(.{1,12}?)(%s)$" % "|".join(map(re.escape, (ACTUAL_KIND, SYMBOL_KIND, TARGET_KIND))))
TARGET_SUFFIX = f"年度 {TARGET_KIND}"
HISTORY_WIDTHS = (9, 30, 40, 22)
YEAR_WIDTHS = (16, 7)
TITLE = "経年（年度ごとの実績値と評価）"
GONE = "（指標シートにない指標）"     # before the 評価指標 of an ID 指標 no longer has
NOTE = ("このシートはツールが作ります（次年度のマスターを作成したとき・経年の取り込みのときに更新）。"
        "評価は各年度の基準で計算したものです（目標値が今と違った年度は「○○年度 目標値」の列にその年度の目標値を示します）。")


class YearRecord(NamedTuple):
    actual: str      # 実績値 as printed that year ("" when nothing was reported)
    symbol: str      # ◎ □ × － ―


# 指標ID -> year -> record
History = dict[str, dict[int, YearRecord]]


def read_history(grid: Optional[Sequence[Sequence[object]]], indicators: Sequence[Indicator] = (),
                 fiscal_year: Optional[int] = None) -> History:
    """経年 as the sheet holds it (an absent or empty sheet: no history).

    The header row is the first row of the first 20 holding 「指標ID」; year columns are
    those whose header reads 「YYYY年度 実績値」 or 「YYYY年度 評価」. 経年 is the tool's, but
    staff can type in it: a year headed twice, an indicator's row twice, an 評価 that is no symbol, or an
    error value in what is read here (a #REF! from a formula staff put there: an 指標ID, a
    year's 実績値 or 評価, any header, as an error there may hide a year's) is refused naming
    the cells (UserError), never read as empty, as one of the two or left out of that year's
    達成割合. An error in a label or a column of staff's own is read_kept's to refuse: only
    the writers of 経年 (rollover, the imports) keep those, and 評価を再計算, which reads the
    years alone, is not stopped by a cell it never reads.

    ``indicators``: the master's, given by the readers that compare or record a year's 実績値
    (評価を再計算's 次の一歩, the rollover, the imports), which then hold each 実績値 to the
    history CSV's rule in its words (actual_refusal): 「約10件」 or 0.732 on a row counted in %
    typed into the sheet was kept as a figure the CSV refuses (0.732 read as 0.732%, ↑ in 次の一歩). ``fiscal_year``: the master's 対象年度 (no year after it: future_year)."""
    out: History = {}
    header_at = _header_at(grid)
    if header_at is None:
        return out
    header = [text(v) for v in grid[header_at]]
    id_col = header.index(ID_HEADER)
    errors = [(f"{c.HISTORY}!{cell_ref(header_at + 1, k + 1)}", e) for k, h in enumerate(header)
              if (e := unread_value(h))]
    actual_cols, symbol_cols = _year_columns(header, header_at + 1, fiscal_year)
    year_cols = sorted({*actual_cols.values(), *symbol_cols.values()})
    bad: list[str] = []
    refused: list[tuple[str, str]] = []
    by_id = {i.id: i for i in indicators}
    first_row: dict[str, int] = {}
    for r, row in enumerate(grid[header_at + 1:], start=header_at + 2):
        ind_id = text(row[id_col]) if id_col < len(row) else ""
        if not ind_id:
            continue
        if e := unread_value(ind_id):     # 「#REF!」 (or 「TRUE」) is no 指標ID: its years would be kept under it
            errors.append((f"{c.HISTORY}!{cell_ref(r, id_col + 1)}", e))
            continue
        errors += [(f"{c.HISTORY}!{cell_ref(r, col + 1)}", e) for col in year_cols
                   if col < len(row) and (e := unread_value(_at(row, col)))]
        if ind_id in first_row:
            where = [f"{c.HISTORY}!{cell_ref(k, id_col + 1)}" for k in (first_row[ind_id], r)]
            raise UserError(f"シート「{c.HISTORY}」に指標ID「{shown(ind_id)}」の行が 2 つ（{' と '.join(where)}）あります。"
                            f"どちらがその指標の記録か決められないため、正しくない方の行を削除してからもう一度{again()}ください")
        first_row[ind_id] = r
        for year in sorted(set(actual_cols) | set(symbol_cols)):
            actual = _at(row, actual_cols.get(year))
            symbol = _at(row, symbol_cols.get(year))
            if symbol and symbol not in SYMBOLS:   # compared as typed: NFKC would turn － into "-"
                bad.append(f"{c.HISTORY}!{cell_ref(r, symbol_cols[year] + 1)}「{shown(symbol)}」{symbol_hint(symbol)}")
            elif actual or symbol:
                out.setdefault(ind_id, {})[year] = YearRecord(actual, symbol)
                if actual and indicators and (why := actual_refusal(by_id.get(ind_id), actual, symbol,
                                                                    SHEET_FRACTION_MEND, units=False)):
                    refused.append((f"{c.HISTORY}!{cell_ref(r, actual_cols[year] + 1)}", why))
    refuse_unread(errors)
    _refuse_actuals(refused)
    _refuse_symbols(bad)
    return out


def _refuse_symbols(bad: Sequence[str]) -> None:
    """Refuses 経年 for the 評価 cells read_history found to hold no symbol (the first five)."""
    if bad:
        raise UserError(f"シート「{c.HISTORY}」の評価 {listed(bad, 'か所')} は {SYMBOLS_SAID} のどれかにしてください"
                        "（その年度の達成割合に数えられません）")


# How a bare fraction of a % is mended in 経年's cell: typed as 「73.2%」 Excel stores 0.732
# again (with a format no face reads there), so the text is typed as text.
# ({again}: the run asked for again in the face's words, core.face.again, given when it is said.)
SHEET_FRACTION_MEND = ("「'{percent}」のように先頭に ' を付けて入力し直してから、もう一度{again}ください"
                       "（' がないと、Excel は {percent} と入力しても {fraction} として保存します）")
CSV_FRACTION_MEND = "% を付けて「{percent}」のように書いてください"


def _refuse_actuals(refused: Sequence[tuple[str, str]]) -> None:
    """Refuses 経年 for the 実績値 cells (place, why) read_history found to be no year's record
    by the history CSV's rule (actual_refusal): the first named in full (which cell, why, how
    to mend it), the next places named and the rest counted."""
    if refused:
        (where, why), places = refused[0], [place for place, _why in refused[1:]]
        also = f"（{listed(places, 'か所')} の実績値も直してください）" if places else ""
        raise UserError(f"{where} の{why}{also}")


def refuse_unread(errors: list[tuple[str, str]], sheet: str = c.HISTORY) -> None:
    """Refuses 経年 naming the cells (place, values.unread_value) that hold no record: an error
    value, a picture, or a TRUE/FALSE (a check box's linked cell, a comparison formula staff
    put there), which was kept as the year's 実績値 「TRUE」, or as the 指標ID 「FALSE」 with its
    years, as an error value was before it was refused. ``sheet``: the record read (取込履歴
    too: cycle.collect.import_log), which says so in the same words."""
    if errors:
        held = [e for _where, e in errors]
        what = unread_kind(held)
        raise UserError(f"シート「{sheet}」の {unread_places(errors)} は{what}です。値を入力し直すかセルを空にしてから、"
                        f"もう一度{again()}ください（{what}のまま記録として読むことはしません）。{unread_advice(held)}")


def _header_at(grid: Optional[Sequence[Sequence[object]]]) -> Optional[int]:
    """The index of 経年's header row: the first of the first 20 holding 「指標ID」."""
    for r, row in enumerate((grid or ())[:c.HEADER_SEARCH_ROWS]):
        if any(text(v) == ID_HEADER for v in row):
            return r
    # A formula without its saved result may be the 「指標ID」 header itself: 経年 would read
    # as no history at all, every year's record gone without a word. So may an error value
    # or a TRUE/FALSE (「#REF!」 over A3): 評価を再計算 drew 集計 without a year, and
    # 次年度のマスターを作成 wrote 経年 anew without any (qa-128).
    top = (grid or ())[:c.HEADER_SEARCH_ROWS]
    refuse_unread([(f"{c.HISTORY}!{cell_ref(r, k + 1)}", e) for r, row in enumerate(top, start=1)
                   for k, v in enumerate(row) if (e := NO_RESULT_VALUE if v == NO_RESULT_VALUE else unread_value(v))])
    # Or typed over with another word: the year columns are there, the records under them.
    for r, row in enumerate(top, start=1):
        year = next((k for k, v in enumerate(row) if year_of_header(text(v), ACTUAL_KIND) or year_of_header(text(v), SYMBOL_KIND)),
                    None)
        if year is not None:
            raise UserError(f"シート「{c.HISTORY}」の {r} 行目に年度の列の見出し（{c.HISTORY}!{cell_ref(r, year + 1)}"
                            f"「{shown(text(row[year]))}」）がありますが、見出し「{ID_HEADER}」がありません"
                            f"{_id_place(top, r)}。指標IDの列の見出しを「{ID_HEADER}」に戻してから、もう一度{again()}ください"
                            "（見出しがないと、どの行がどの指標の記録か読めません）")
    return None


class Kept(NamedTuple):
    """What 経年 shows beside the records, read back (read_kept) so that writing the sheet
    again keeps it: ``labels``, 連携事業名, 評価指標 and 目標値 per 指標ID (what an indicator
    no longer on 指標 was); ``targets``, 指標ID → year → the 目標値 that year was judged
    against (a year's 「YYYY年度 目標値」 column, else the 目標値 column it was shown beside)."""
    labels: dict[str, tuple[str, str, str]] = {}
    targets: dict[str, dict[int, str]] = {}
    # Columns staff added to 経年 (「職員メモ」 beside the years): header → 指標ID → value,
    # in their order. 経年 is written anew by every rollover and history import, and they
    # were dropped there without a word; written after the years, each on its 指標ID's row.
    staff: tuple[tuple[str, dict[str, object]], ...] = ()

    def judged(self, year: int, indicators: Sequence[Indicator]) -> "Kept":
        """With ``year`` judged against these indicators' targets (the year's own master)."""
        targets = {i: dict(per_year) for i, per_year in self.targets.items()}
        for ind in indicators:
            targets.setdefault(ind.id, {})[year] = fit_cell(ind.target)
        return self._replace(targets=targets)


def read_kept(grid: Optional[Sequence[Sequence[object]]]) -> Kept:
    """経年's texts beside its records (Kept). They came from 指標 while it had the row and
    from each year's own master: 経年 is then the only place in the master that says what
    an old year's 「04-1 21件 ◎」 measured, and against which target it was ◎. Written back
    by rollover and the imports, an error value in one of them would be kept as its text
    over the formula: refused naming the cells, as read_history refuses one in the years."""
    header_at = _header_at(grid)
    if header_at is None:
        return Kept({}, {})
    header = [text(v) for v in grid[header_at]]
    cols = [header.index(h) if h in header else None for h in FIXED_HEADERS]
    actual_cols, symbol_cols = _year_columns(header, header_at + 1)
    # A fixed header typed over (「目標値」 retyped 「目標」) was read as a column of staff's own,
    # written again after the years, and the targets it showed were no label (qa-131).
    refuse_typed_over(c.HISTORY, grid, header_at + 1, {h: h for h in FIXED_HEADERS},
                      {h: k + 1 for h, k in zip(FIXED_HEADERS, cols) if k is not None}, _ours)
    target_cols = {year: k for k, h in enumerate(header) if (year := year_of_header(h, TARGET_KIND)) is not None}
    labels: dict[str, tuple[str, str, str]] = {}
    targets: dict[str, dict[int, str]] = {}
    ours = {*cols, *actual_cols.values(), *symbol_cols.values(), *target_cols.values()}
    staff = [(k, h, {}) for k, h in enumerate(header) if k not in ours
             and (h or any(_at(row, k) for row in grid[header_at + 1:]))]
    years = {*actual_cols.values(), *symbol_cols.values()}
    staff_cols = {k for k, _h, _v in staff}
    errors = [(f"{c.HISTORY}!{cell_ref(r, k + 1)}", e)
              for r, row in enumerate(grid[header_at + 1:], start=header_at + 2) if _at(row, cols[0])
              for k in range(len(row)) if k != cols[0] and k not in years and (e := _unread_label(row, k, staff_cols))]
    refuse_unread(errors)
    _refuse_unkeyed(grid, header_at, cols[0], sorted(years | staff_cols))
    for row in grid[header_at + 1:]:
        ind_id = _at(row, cols[0])
        if not ind_id or ind_id in labels:
            continue
        for k, _h, values in staff:
            if _at(row, k):
                values[ind_id] = row[k]
        project, name, target = (_at(row, col) for col in cols[1:])
        labels[ind_id] = (project, name.removeprefix(GONE), target)
        for year in set(actual_cols) | set(symbol_cols):
            if _at(row, actual_cols.get(year)) or _at(row, symbol_cols.get(year)):
                own = _at(row, target_cols.get(year))
                if own or target:
                    targets.setdefault(ind_id, {})[year] = own or target
    return Kept(labels, targets, tuple((h, values) for _k, h, values in staff))


def _refuse_unkeyed(grid: Sequence[Sequence[object]], header_at: int, id_col: Optional[int],
                    cols: Sequence[int]) -> None:
    """Refuses a year's record or a note in a column of staff's own on a row of 経年 whose
    指標ID is empty (cleared by a Delete on the wrong cell, a note typed under the table):
    every writer of 経年 keys what it keeps by 指標ID, so 次年度のマスターを作成 and the imports
    wrote the sheet anew without it, and that indicator's 2023年度 was gone from its row
    without a word. Which indicator it belongs to is not a guess to make. Read by the writers
    alone (read_kept): 評価を再計算 rewrites no 経年 and loses nothing."""
    if id_col is None:
        return
    found = []
    for r, row in enumerate(grid[header_at + 1:], start=header_at + 2):
        if _at(row, id_col):
            continue
        held = next((k for k in cols if _at(row, k)), None)
        if held is not None:
            found.append(f"{c.HISTORY}!{cell_ref(r, held + 1)}「{shown(_at(row, held))}」"
                         f"（{c.HISTORY}!{cell_ref(r, id_col + 1)} が空欄）")
    if found:
        raise UserError(f"シート「{c.HISTORY}」の {listed(found, '行')} は、「{ID_HEADER}」が空欄の行にあります。"
                        "経年は指標IDの行ごとに書き直すため、このままではこの値が消えます。指標IDを入力し直すか、"
                        f"値を別のシートに移してその行を空にしてから、もう一度{again()}ください")


def _id_place(grid: Sequence[Sequence[object]], r: int) -> str:
    """Where 「指標ID」 stood in row ``r``, said as 「（経年!A3 は「ID」です）」: the place
    contract_read.typed_over_place finds before 「連携事業名」, every version having written the
    fixed headers side by side. The refusal named the row and a year's header, not the cell to
    put right (qa-132). "" when it cannot be told (連携事業名 typed over too)."""
    from .contract_read import typed_over_place

    row = grid[r - 1]
    found = {h: k for k, v in enumerate(row, start=1) if (h := text(v)) in FIXED_HEADERS}
    place = typed_over_place(grid, r, FIXED_HEADERS, found, ID_HEADER, _ours)
    if place is None:
        return ""
    held = text(row[place - 1]) if place <= len(row) else ""
    return f"（{c.HISTORY}!{cell_ref(r, place)} は{f'「{shown(held)}」' if held else '空欄'}です）"


def _ours(header: str) -> bool:
    """Whether ``header`` is one the tool writes in 経年's header row."""
    return header in FIXED_HEADERS or any(year_of_header(header, kind) is not None for kind in (ACTUAL_KIND, SYMBOL_KIND, TARGET_KIND))


def _unread_label(row: Sequence[object], k: int, staff_cols: set[int]) -> Optional[str]:
    """What read_kept refuses in a cell beside the records: an error value anywhere, and a
    TRUE/FALSE in the labels it writes back as texts (連携事業名, 評価指標, 目標値); a column
    of staff's own keeps its TRUE/FALSE as the value it is (a check box of theirs)."""
    cell = _at(row, k)
    return error_value(cell) or (boolean_value(cell) if k not in staff_cols else None)


def recorded_names(grid: Optional[Sequence[Sequence[object]]]) -> dict[str, str]:
    """指標ID → the 評価指標 経年 shows beside its years, read quietly for 次の一歩 (評価を再計算
    reads the years alone, and is not stopped by a cell it never reads: read_kept): a cell
    holding no text (an error value, a TRUE/FALSE) says nothing of what the years measured."""
    header_at = _header_at(grid)
    if header_at is None:
        return {}
    header = [text(v) for v in grid[header_at]]
    id_col, name_col = (header.index(h) if h in header else None for h in (ID_HEADER, FIXED_HEADERS[2]))
    out: dict[str, str] = {}
    for row in grid[header_at + 1:]:
        ind_id, name = _at(row, id_col), _at(row, name_col)
        if ind_id and name and ind_id not in out and not unread_value(name):
            out[ind_id] = name.removeprefix(GONE)
    return out


def renamed(history: History, kept: Kept, indicators: Sequence[Indicator]) -> list[tuple[str, str, str]]:
    """(指標ID, 評価指標 in 経年, 評価指標 on 指標) of the indicators with years in 経年 whose
    評価指標 is not the one 経年 shows: reworded, or the ID given to another indicator (a
    dropped 04-1 reused), whose years would then stand as the new one's. 経年 is written
    with 指標's texts, so after the write only the old master says what those years were."""
    out = []
    for ind in indicators:
        old = kept.labels.get(ind.id, ("", "", ""))[1]
        if history.get(ind.id) and old and old != labels_of(ind)[1]:
            out.append((ind.id, old, labels_of(ind)[1]))
    return out


def labels_of(indicator: Indicator) -> tuple[str, str, str]:
    """連携事業名, 評価指標 and 目標値 of an indicator as 経年 shows them."""
    return fit_cell(indicator.project_label), fit_cell(indicator.name), fit_cell(indicator.target)


def _year_columns(header: Sequence[str], row: int, fiscal_year: Optional[int] = None
                  ) -> tuple[dict[int, int], dict[int, int]]:
    """Year → column of 「YYYY年度 実績値」 and of 「YYYY年度 評価」 in 経年's header (at ``row``);
    a year headed twice is refused naming both cells (which one is that year's record?), and
    a year after ``fiscal_year`` (future_year) before its pair is asked for: 「2025年度 実績値」
    typed over 2023's is a slip of the year, not a year without its 評価."""
    actual_cols: dict[int, int] = {}
    symbol_cols: dict[int, int] = {}
    for col, h in enumerate(header):
        found = [(kind, year) for kind in (ACTUAL_KIND, SYMBOL_KIND) if (year := year_of_header(h, kind)) is not None]
        if found:
            kind, year = found[0]
            cols = actual_cols if kind == ACTUAL_KIND else symbol_cols
            if year in cols:
                where = [f"{c.HISTORY}!{cell_ref(row, k + 1)}" for k in (cols[year], col)]
                raise UserError(f"シート「{c.HISTORY}」の見出し「{h}」が 2 か所（{' と '.join(where)}）にあります。"
                                "どちらがその年度の記録か決められないため、正しくない方の見出しを直してから"
                                f"もう一度{again()}ください")
            cols[year] = col
    _refuse_future(header, row, {**symbol_cols, **actual_cols}, fiscal_year)
    _refuse_unpaired(header, row, actual_cols, symbol_cols)
    return actual_cols, symbol_cols


def _refuse_unpaired(header: Sequence[str], row: int, actual_cols: dict[int, int], symbol_cols: dict[int, int]) -> None:
    """Refuses a year with its 「YYYY年度 実績値」 but not its 「YYYY年度 評価」 (or the reverse),
    naming the cell beside it where the other stands: every version wrote a year as the two
    side by side (history_sheet, since aba0dda), so the other was typed over (「評価」, a typo)
    or cleared. Read so, that year's 評価 (or 実績値) was no record: 集計 drew the year without
    its 達成割合, and 次年度のマスターを作成 kept the column as staff's own text beside the years."""
    for year in sorted({*actual_cols, *symbol_cols}):
        if year in actual_cols and year in symbol_cols:
            continue
        if year in actual_cols:
            have, want, col, beside = ACTUAL_SUFFIX, SYMBOL_SUFFIX, actual_cols[year], actual_cols[year] + 1
        else:
            have, want, col, beside = SYMBOL_SUFFIX, ACTUAL_SUFFIX, symbol_cols[year], symbol_cols[year] - 1
        held = header[beside] if 0 <= beside < len(header) else ""
        if unread_value(held):
            continue        # an error value over it: refuse_unread names that cell as the error it is
        where = (f"{c.HISTORY}!{cell_ref(row, beside + 1)} は{f'「{shown(held)}」' if held else '空欄'}です。"
                 if beside >= 0 else "")
        raise UserError(f"シート「{c.HISTORY}」に見出し「{year}{have}」（{c.HISTORY}!{cell_ref(row, col + 1)}）"
                        f"がありますが、「{year}{want}」がありません（{where}ツールは年度ごとにこの 2 つの見出しを"
                        f"並べて書きます）。見出しを「{year}{want}」に戻してから、もう一度{again()}ください"
                        f"（見出しがないと、その年度の{want.removeprefix('年度 ')}を記録として読めません）")


def future_year(year: int, fiscal_year: Optional[int]) -> str:
    """Why ``year`` is no year 経年 can hold ("" when it can): one after the master's 対象年度
    has not been reached, so a value for it is a slip (「2025」 for 「2023」), never a record.
    The one rule of the sheet (read_history, which every writer of 経年 reads through: the
    rollover, both imports) and of a history CSV (_record_refusal): the sheet took such a
    column as a year, 集計 drew a 達成割合 for it and the rollover carried it on. (The year
    itself may stand in 経年, where the rollover replaces it and says so; a CSV brings only
    the years before it: _record_refusal.)"""
    if fiscal_year is None or year <= fiscal_year:
        return ""
    return (f"{year}年度は対象年度（{fiscal_year}年度）より後の年度です（まだ来ていない年度の記録はありません。"
            "年度の打ち間違いではないか確かめてください）")


def _refuse_future(header: Sequence[str], row: int, years: Mapping[int, int], fiscal_year: Optional[int]) -> None:
    """Refuses 経年 at the first header whose year is after the 対象年度 (future_year)."""
    for year, col in sorted(years.items()):
        if why := future_year(year, fiscal_year):
            raise UserError(f"シート「{c.HISTORY}」の見出し「{shown(header[col])}」（{c.HISTORY}!{cell_ref(row, col + 1)}）: "
                            f"{why}。見出しの年度を直してから、もう一度{again()}ください")


def year_of_header(header: str, kind: str) -> Optional[int]:
    """The 年度 of a 経年 header 「YYYY年度 <kind>」 as staff may retype it (header_key, 和暦
    too: 「令和5年度 実績値」 kept 2023 out of the years, its records as text beside them), or
    None for any other header. The year is read as a history CSV's 年度 column is (_year):
    「R5 実績値」「2023 評価」, typed without 年度, were a column of staff's own, moved after
    the next year by 次年度のマスターを作成, 2023 left out of 集計's 年度別の達成割合, and a
    rollover a year later said nothing of it. A 目標値 keeps its 年度: 「2030目標値」 is
    staff's own long-term target, not the target a year was judged against."""
    m = _YEAR_COLUMN.match(header_key(header))
    if m is None or m.group(2) != kind:
        return None
    if kind == TARGET_KIND and not m.group(1).endswith("年度"):
        return None
    return _year(m.group(1))


def header_key(header: str) -> str:
    """A 経年 header as the year columns are known by, whatever its width and spaces: staff
    who retyped 「2023年度 実績値」 in full width or without the space had that year read as a
    column of their own, and its records kept as text beside the years, never as that year's."""
    return "".join(unicodedata.normalize("NFKC", header).split())


def _at(row: Sequence[object], col: Optional[int]) -> str:
    return text(row[col]) if col is not None and col < len(row) else ""


def years_of(history: History) -> list[int]:
    return sorted({y for per_year in history.values() for y in per_year})


# What 経年 shows of an indicator (labels_of) and keys its years by: an error value in one
# of these 指標 cells would be written into 経年 as its text, 「#N/A」 as an 指標ID (which
# every later read of 経年 refuses) or as what a year measured.
RECORDED_FIELDS = ("id", "project_name", "name", "target")


def refuse_unrecordable(indicators: Sequence[Indicator], uncached: frozenset = frozenset()) -> None:
    """Refuses (UserError, naming the cells) to write 経年 from indicators whose recorded
    cells hold an error value. Checked by the two writers of 経年 (with_year, history_sheet).
    ``uncached``: the places whose formula has no saved result (findings.NO_RESULT), which the
    reader hands over as empty: refused alike, or the closed year was recorded with an empty
    目標値, 評価指標 or 指標ID (the masters that write 経年 pass them: uncached_places)."""
    found = [(f"{i.sheet}!{i.cell(f)}", e) for i in indicators for f in RECORDED_FIELDS
             if i.cell(f) and (e := unread_value(getattr(i, f))
                               or (f"{i.sheet}!{i.cell(f)}" in uncached and NO_RESULT_VALUE))]
    if found:
        held = [e for _where, e in found]
        what = unread_kind(held)
        kept_as = ("指標ID・連携事業名・評価指標・目標値を空欄として" if set(held) == {NO_RESULT_VALUE}
                   else f"{what}を指標ID・連携事業名・評価指標・目標値の文字として")
        raise UserError(f"{unread_places(found)}が{what}のため、「{c.HISTORY}」に記録できません（{kept_as}"
                        "残すことはしません。何も変更していません）。"
                        f"数式の参照先を直して Excel で保存し直すか、値を直接入力してから、もう一度{again()}ください。"
                        + unread_advice(held))


def with_year(history: History, year: int, result: Result) -> History:
    """The history with ``year`` set from a recalculation (replacing what was there: the
    master's own evaluation of its year is the source of truth for that year)."""
    refuse_unrecordable(result.indicators)
    out = {i: dict(per_year) for i, per_year in history.items()}
    for ind in result.indicators:
        ev = result.evaluations[ind.id]
        actual = result.consolidated[ind.id].actual if ind.id in result.consolidated else ""
        out.setdefault(ind.id, {})[year] = YearRecord("" if actual in (NO_VALUE, "") else actual, ev.symbol)
    return out


def overwritten(grid: Optional[Sequence[Sequence[object]]], after: History, year: int
                ) -> list[tuple[str, str, YearRecord, YearRecord]]:
    """(its cell, 指標ID, what 経年 (``grid``) held, what replaces it) for each record of
    ``year`` that ``after`` changes: a closed year's record typed into 経年 by staff (a 基本KPI's
    figure the inputs do not give, a corrected 評価) was replaced by the year's own evaluation
    (with_year) without a word. Compared as 一覧 prints them (NFKC: the official 「３回」 is
    「3回」; a dash is no value), so the sample's official year, evaluated again, changes nothing."""
    def key(rec: YearRecord) -> tuple[str, str]:
        actual = "" if rec.actual in (NO_VALUE, NOT_YET) else unicodedata.normalize("NFKC", rec.actual).strip()
        return actual, rec.symbol

    before = read_history(grid)
    header_at = _header_at(grid)
    if header_at is None or not any(year in per_year for per_year in before.values()):
        return []
    header = [text(v) for v in grid[header_at]]
    id_col = header.index(ID_HEADER)
    actual_cols, _symbols = _year_columns(header, header_at + 1)
    rows = {text(row[id_col]): r for r, row in enumerate(grid[header_at + 1:], start=header_at + 2)
            if id_col < len(row)}
    out = []
    for ind_id, per_year in before.items():
        old, new = per_year.get(year), after.get(ind_id, {}).get(year)
        if old is not None and new is not None and key(old) != key(new):
            out.append((f"{c.HISTORY}!{cell_ref(rows[ind_id], actual_cols[year] + 1)}", ind_id, old, new))
    return out


def merged(history: History, records: Iterable[tuple[str, int, YearRecord]]) -> History:
    out = {i: dict(per_year) for i, per_year in history.items()}
    for ind_id, year, rec in records:
        out.setdefault(ind_id, {})[year] = rec
    return out


def history_sheet(history: History, indicators: Sequence[Indicator], kept: Kept = Kept({}, {})) -> SheetPlan:
    """経年: the master's indicators in 指標 order, then any 指標ID only the history knows
    (an indicator dropped since: its years are kept, never silently lost), with the
    連携事業名, 評価指標 and 目標値 the sheet showed for it (``kept``: read_kept of the sheet
    written over; the first rollover after the row left 指標 blanked them).

    A year judged against another 目標値 than the one shown now has its own 「YYYY年度 目標値」
    column, filled where the two differ: the 目標値 column is this master's, and 「30社 ◎」
    of a year whose target was 15社 stood beside 「40社（毎年度）」 with nothing saying why."""
    refuse_unrecordable(indicators)
    years = years_of(history)
    known = {i.id for i in indicators}
    ordered: list[tuple[str, str, str, str]] = [(i.id, *labels_of(i)) for i in indicators]
    for i in history:
        if i not in known:
            project, name, target = kept.labels.get(i, ("", "", ""))
            ordered.append((i, fit_cell(project), fit_cell(GONE + name), fit_cell(target)))
    own = {y: any(kept.targets.get(i, {}).get(y, t) != t for i, _p, _n, t in ordered if y in history.get(i, {}))
           for y in years}
    header = [*FIXED_HEADERS]
    for y in years:
        header += [f"{y}{ACTUAL_SUFFIX}", f"{y}{SYMBOL_SUFFIX}"] + ([f"{y}{TARGET_SUFFIX}"] if own[y] else [])
    header += [h for h, _values in kept.staff]
    rows: list[list[Optional[Cell]]] = [[(TITLE, "title")], [(NOTE, "legend")],
                                        [(h, "header") for h in header]]
    for ind_id, project, name, target in ordered:
        row: list[Optional[Cell]] = [(fit_cell(ind_id), "body"), (project or None, "body"), (name or None, "body"),
                                     (target or None, "body")]
        for y in years:
            rec = history.get(ind_id, {}).get(y)
            row += [(rec.actual if rec and rec.actual else None, "body"),
                    (rec.symbol if rec and rec.symbol else None, "symbol")]
            if own[y]:      # only where it differs: an empty cell is the 目標値 column's (read_kept)
                judged = kept.targets.get(ind_id, {}).get(y, target) if rec else target
                row.append((judged if judged != target else None, "body"))
        row += [(values.get(ind_id), "body") for _h, values in kept.staff]
        rows.append(row)
    return _history_look(SheetPlan(c.HISTORY, rows, freeze=(4, 2),
                                   print_setup=print_setup("a4", title_rows=(3, 3))), header)


def _history_look(sheet: SheetPlan, header: Sequence[str]) -> SheetPlan:
    """Widths and the symbols' colours by column header. Printed one page wide with its
    header on every page (history_sheet): the years grow to the right (five years are 14
    columns or more), and Excel's default page cut 経年 into pages across whose later ones
    showed 実績値 and 評価 without the 指標ID they belong to."""
    sheet.widths = {i: float(w) for i, w in enumerate(HISTORY_WIDTHS, start=1)}
    first, last = 4, len(sheet.rows)
    for col, h in enumerate(header, start=1):
        if h.endswith(ACTUAL_SUFFIX) or h.endswith(TARGET_SUFFIX):
            sheet.widths[col] = float(YEAR_WIDTHS[0])
        elif h.endswith(SYMBOL_SUFFIX):
            sheet.widths[col] = float(YEAR_WIDTHS[1])
            if last >= first:
                sheet.conditional += symbol_colours((first, col, last, col))
    sheet.heights = fitted_cells(sheet.rows, sheet.widths, first - 1)     # the header row and below
    return sheet


# ------------------------------------------------------------------ 達成割合 per year

class YearRate(NamedTuple):
    year: int
    achieved: int
    evaluable: int
    shown: Optional[float] = None     # this year's, as the summary prints it (rules.shown_ratio)

    @property
    def rate(self) -> Optional[float]:
        if self.shown is not None:
            return self.shown
        return self.achieved / self.evaluable if self.evaluable else None


def year_rates(history: History, current_year: int, result: Optional[Result] = None) -> list[YearRate]:
    """達成割合 (◎ / ◎□×, the meta row's own symbol included, as printed) per year of the
    history, the current year from ``result`` where given (it replaces a recorded one)."""
    counts: dict[int, list[int]] = {}
    for per_year in history.values():
        for year, rec in per_year.items():
            if result is not None and year == current_year:
                continue
            n = counts.setdefault(year, [0, 0])
            n[0] += rec.symbol == ACHIEVED
            n[1] += rec.symbol in EVALUABLE
    shown: dict[int, Optional[float]] = {}
    if result is not None:
        counts[current_year] = [result.summary.achieved, result.summary.evaluable]
        shown = _printed_rates(history, result, counts)
        shown[current_year] = result.summary.rate
    return [YearRate(y, a, e, shown.get(y)) for y, (a, e) in sorted(counts.items())]


_PRINTED_RATE = LazyPattern(r"(\d{1,3}(?:\.\d{1,3})?)%")


def _printed_rates(history: History, result: Result, counts: Mapping[int, list[int]]) -> dict[int, float]:
    """Each past year's 達成割合 as its own 一覧 printed it: the 実績値 its 達成割合 row
    recorded. That year's threshold and target kept the printed rate on the side of each edge
    (rules.shown_ratio), and neither is in 経年: 52／71 at a threshold of 73.235 % printed
    「73.3%」 beside □, and the next year's 集計 rounded the count again to 73.2 %. Taken only
    where it is a printing of the counted ratio (within the 0.1 % step it may be moved)."""
    meta = [i.id for i in result.indicators if rates_others(i)]
    out: dict[int, float] = {}
    for year, (achieved, evaluable) in counts.items():
        records = [history.get(i, {}).get(year) for i in meta]
        for rec in filter(None, records):
            m = _PRINTED_RATE.fullmatch(rec.actual)
            if m and evaluable and abs(float(m.group(1)) / 100 - achieved / evaluable) < 0.001:
                out[year] = float(m.group(1)) / 100
                break
    return out


# ------------------------------------------------------------------------ CSV import

CSV_HEADERS = (ID_HEADER, "年度", ACTUAL_KIND, SYMBOL_KIND)
MAX_CSV_BYTES = 5 * 1024 * 1024
MAX_CSV_ROWS = 100_000
# A line wider than Excel's sheet (16,384 columns) is no table Excel saved: one line of 5 MB
# of commas was 5 million fields, 125 MiB and seconds of header search, before 「見出しがありません」.
MAX_CSV_COLUMNS = 16_384
# Records (one indicator's one year) a file of 経年's layout may give: every year of the
# range (core.contract_read.YEAR_RANGE, 101 years) of the 2,050 indicators a served master
# may hold, rounded up. Each line of that layout gives one per filled year column, so 5 MB
# of 「1,」 under a header of 16,000 years were 2.3 million records: 51 s, 1.3 GB, and as
# many lines of refusals printed.
MAX_CSV_RECORDS = 210_000


class Refusal(NamedTuple):
    line: int          # line of the CSV file (1 = the header)
    reason: str        # Japanese

    def text(self) -> str:
        return f"{self.line}行目: {self.reason}"


class CsvImport(NamedTuple):
    records: list[tuple[str, int, YearRecord]]
    refusals: list[Refusal]
    replaced: int      # records that replace a year already in 経年


def decode_csv(raw: bytes, name: str) -> str:
    """UTF-8 (with or without BOM), Shift_JIS (what Excel writes for 「CSV（コンマ区切り）」
    on a Japanese Windows) or UTF-16 with its BOM (Excel's 「Unicode テキスト」, tab-separated,
    and メモ帳's 「Unicode」: refused as 「CSV ではありません」 for the zero bytes UTF-16 holds);
    anything else is refused, never guessed."""
    from .text_bytes import split_bom

    if len(raw) > MAX_CSV_BYTES:
        raise UserError(f"「{name}」は大きすぎます（{MAX_CSV_BYTES // 1024 // 1024} MB まで）")
    body, encoding = split_bom(raw)
    if encoding is not None and encoding != "utf-8":
        try:
            return body.decode(encoding)
        except UnicodeDecodeError:
            raise UserError(f"「{name}」を {encoding.upper()} の文字として読めません。"
                            "UTF-8 か Shift_JIS の CSV で保存し直してください") from None
    if b"\x00" in raw:
        raise UserError(f"「{name}」は CSV（文字のファイル）ではありません。前の年度のマスター（.xlsm か .xlsx）か、"
                        "指標ID,年度,実績値,評価 の CSV を指定してください")
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UserError(f"「{name}」の文字コードを読めません。UTF-8 か Shift_JIS の CSV で保存してください")


class CsvRow(NamedTuple):
    line: int                               # line of the file (1 = its first)
    fields: tuple[str, str, str, str]       # 指標ID, 年度, 実績値, 評価 (stripped)
    extra: str = ""                         # why the row cannot be read as it stands ("" when it can)
    where: str = ""                         # 「2023年度の列: 」 for a year of 経年's own layout


def csv_rows(content: str, name: str = "CSV") -> list[CsvRow]:
    """The records of a history file, one per 指標ID and year, in either layout it comes in:
    指標ID,年度,実績値,評価 (one record a line), or 経年's own, as Excel saves the sheet as
    CSV (its title above, one line per 指標ID, 「2023年度 実績値」「2023年度 評価」 per year:
    _layout_rows). Staff who kept last year's 経年 as a CSV had it refused for a header 「年度」
    it never has, and were left to retype every year of every indicator one a line."""
    rows, lines = _read_csv(content, name)
    header = [unicodedata.normalize("NFKC", h).strip() for h in rows[0]]
    if all(h in header for h in CSV_HEADERS):
        cols = [header.index(h) for h in CSV_HEADERS]
        return [CsvRow(line, tuple(row[i].strip() if i < len(row) else "" for i in cols),
                       _extra_fields(row, len(rows[0])))
                for line, row in zip(lines[1:], rows[1:]) if any(v.strip() for v in row)]
    laid_out = _layout_rows(rows, lines, name)
    if laid_out is not None:
        return laid_out
    missing = next(h for h in CSV_HEADERS if h not in header)
    raise UserError(f"「{name}」の1行目に見出し「{missing}」がありません（必要な見出し: {','.join(CSV_HEADERS)}。"
                    f"「{c.HISTORY}」シートをそのまま CSV で保存したものも読めます）")


def _layout_rows(rows: Sequence[Sequence[str]], lines: Sequence[int], name: str) -> Optional[list[CsvRow]]:
    """The records of a file laid out as 経年 is (None when it is not): the header is the
    first of the first 20 lines holding 「指標ID」 and a year's 実績値 or 評価, read as 経年's
    own headers are (year_of_header: 「令和5年度 実績値」「R5年度 評価」 too). A year whose
    cells are both empty is no record (an indicator added later has none for it); a line
    with records and no 指標ID is one to refuse, never dropped without a word."""
    for at, raw in enumerate(rows[:c.HEADER_SEARCH_ROWS]):
        header = [header_key(h) for h in raw]
        cols: dict[tuple[int, str], int] = {}
        for k, h in enumerate(header):
            for kind in (ACTUAL_KIND, SYMBOL_KIND):
                if (year := year_of_header(h, kind)) is not None:
                    if (year, kind) in cols:
                        raise UserError(f"「{name}」の{lines[at]}行目に{year}年度の{kind}の見出しが 2 つあります"
                                        f"（{cols[year, kind] + 1}列目と{k + 1}列目）。どちらがその年度の記録か"
                                        f"決められないため、正しくない方の列を削除してからもう一度{again()}ください")
                    cols[year, kind] = k
        if ID_HEADER not in header or not cols:
            continue
        _refuse_unread_header(raw, lines[at], name)
        return _laid_out_records(rows[at + 1:], lines[at + 1:], header.index(ID_HEADER), cols, name)
    return None


def _laid_out_records(rows: Sequence[Sequence[str]], lines: Sequence[int], id_col: int,
                      cols: Mapping[tuple[int, str], int], name: str = "CSV") -> list[CsvRow]:
    """The records of 経年's layout below its header, each line read by the cells it holds:
    going through every year of the header for every line took 72 s for a file of 0.2 MB
    (2,000 year columns over 99,000 short lines), a wait with no end for 9,000 years.
    At most MAX_CSV_RECORDS of them, refused naming the line that passes it."""
    year_at = {k: year for (year, _kind), k in cols.items()}
    out = []
    for line, row in zip(lines, rows):
        ind_id = row[id_col].strip() if id_col < len(row) else ""
        for year in sorted({year_at[k] for k, v in enumerate(row) if k in year_at and v.strip()}):
            actual, symbol = (row[k].strip() if (k := cols.get((year, kind))) is not None and k < len(row) else ""
                              for kind in (ACTUAL_KIND, SYMBOL_KIND))
            out.append(CsvRow(line, (ind_id, str(year), actual, symbol), where=f"{year}年度の列: "))
        if len(out) > MAX_CSV_RECORDS:
            raise UserError(f"「{name}」の記録（指標ごと・年度ごとの実績値と評価）が多すぎます（{MAX_CSV_RECORDS:,} 件まで。"
                            f"{line}行目で超えました）。取り込む年度の列と指標の行だけを残して保存し直してください")
    return out


def _refuse_unread_header(raw: Sequence[str], line: int, name: str) -> None:
    """Refuses a header of 経年's layout with a cell Excel wrote as an error (「#REF!」 where
    「2023年度 実績値」 was) or a TRUE/FALSE, as read_history refuses one on the sheet. Read as
    a column of no year, the 評価 beside it was imported with an empty 実績値: every
    indicator's 2023 「3回」 became nothing in 経年 and in 指標's 前年度実績, exit 1 for the
    rows of other years alone."""
    errors = [(f"{line}行目{k + 1}列目", held) for k, h in enumerate(raw) if (held := unread_value(h.strip()))]
    if errors:
        held = [h for _where, h in errors]
        raise UserError(f"「{name}」の見出し {unread_places(errors)} は{unread_kind(held)}です。その列がどの年度の"
                        "何の記録か決められないため、何も取り込みません。元の表の見出しを直してから CSV を作り直してください。"
                        f"{unread_advice(held)}")


def _read_csv(content: str, name: str) -> tuple[list[list[str]], list[int]]:
    """The rows of a CSV (tab-separated when its first line is), at most MAX_CSV_ROWS, and the
    line of the file each starts on (a refusal names it as staff see the file in メモ帳)."""
    import csv      # here: 評価を再計算 imports this module and never reads a CSV
    import io

    # Excel's テキスト（タブ区切り） and Unicode テキスト saves separate by tabs: a first line
    # with tabs and no comma is read that way (csv.Sniffer guesses from the data rows too,
    # and a comma inside a 実績値 such as 1,234 misleads it).
    import itertools

    first = content.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    lines: list[int] = []    # the line each row starts on: a cell of two lines (Alt+Enter) is one row
    last = 0
    try:
        # One row past the limit is enough to refuse: 5 MB of empty lines read whole were
        # five million rows, 340 MiB, before 「行が多すぎます」.
        for row in itertools.islice(reader, MAX_CSV_ROWS + 1):
            if len(row) > MAX_CSV_COLUMNS:
                raise UserError(f"「{name}」の{last + 1}行目の欄が多すぎます（{len(row):,} 個。Excel の列数の"
                                f" {MAX_CSV_COLUMNS:,} 個まで）。区切りのコンマ（,）が続いていないか確かめてください")
            rows.append(row)
            lines.append(last + 1)
            last = reader.line_num
    except csv.Error as exc:
        raise UserError(f"「{name}」の{reader.line_num}行目を CSV として読めません（{_csv_reason(exc)}）") from None
    if len(rows) > MAX_CSV_ROWS:
        empty = sum(1 for row in rows if not any(cell.strip() for cell in row))
        hint = (f"。読んだ {len(rows):,} 行のうち {empty:,} 行は空の行です。空の行も1行と数えるため、"
                "表の下の空の行を削除して保存し直してください") if empty * 2 > len(rows) else ""
        raise UserError(f"「{name}」の行が多すぎます（{MAX_CSV_ROWS:,} 行まで）{hint}")
    if not rows:
        raise UserError(f"「{name}」が空です（1行目に 指標ID,年度,実績値,評価 の見出しが必要です）")
    return rows, lines


def _csv_reason(exc: Exception) -> str:
    """The csv module's refusal in staff's words: it says them in English (「field larger
    than field limit (131072)」 was shown as it was)."""
    import csv

    said = str(exc)
    if said.startswith("field larger than field limit"):
        return f"1 つの欄が {csv.field_size_limit():,} 文字を超えています"
    return "引用符（\"）や区切りの並びが正しくありません"


def parse_history_csv(content: str, indicators: Sequence[Indicator], current_year: int,
                      history: Mapping[str, Mapping[int, YearRecord]] = {}) -> CsvImport:
    """Every row checked on its own; a bad row is refused with its line and a Japanese
    reason and the others still count. Columns are found by header text. An 指標ID 経年
    keeps though 指標 no longer has it is taken: a year corrected afterwards is one of its
    past years, and refusing it left the figure staff had found wrong in the record."""
    known = {i.id for i in indicators} | set(history)
    by_id = {i.id: i for i in indicators}
    first: dict[tuple[str, int], tuple[int, YearRecord, str]] = {}
    clashes: dict[tuple[str, int], list[tuple[int, str]]] = {}
    refusals: list[Refusal] = []
    for line, (ind_id, year_text, actual, symbol), extra, where in csv_rows(content):
        year = _year(year_text)
        reason = extra or _unread_field((ind_id, year_text, actual, symbol)) or _id_refusal(ind_id, known) \
            or _record_refusal(year, year_text, symbol, current_year) \
            or actual_refusal(by_id.get(ind_id), actual, symbol, CSV_FRACTION_MEND)
        if reason:
            refusals.append(Refusal(line, where + reason))
            continue
        # either dash the list prints (実績値's －, the symbol ―) is no value
        record = YearRecord("" if actual in (NO_VALUE, NOT_YET) else actual, symbol)
        key = (ind_id, year)
        if key not in first:
            first[key] = (line, record, where)
        elif first[key][1] == record:
            refusals.append(Refusal(line, where + f"{ind_id} の {year}年度は {first[key][0]}行目と同じです（1 行だけ取り込みます）"))
        else:
            first_line, _record, first_where = first[key]
            clashes.setdefault(key, [(first_line, first_where)]).append((line, where))
    refusals += _clashing(clashes)
    records = [(ind_id, year, record) for (ind_id, year), (_line, record, _where) in first.items()
               if (ind_id, year) not in clashes]
    replaced = sum(year in history.get(ind_id, {}) for ind_id, year, _record in records)
    return CsvImport(records, sorted(refusals), replaced)


CLASH_LINES_SHOWN = 5


def _clashing(clashes: Mapping[tuple[str, int], Sequence[tuple[int, str]]]) -> list[Refusal]:
    """One year of one indicator given twice with different figures: which line is right
    cannot be told, so none is taken (taking the first was a guess, said but still made:
    a corrected line added below the old one lost to it). Each line's refusal names the
    first CLASH_LINES_SHOWN of them and counts the rest: every line named on every line was
    quadratic, a file of 20,000 lines of one year took 6 GB and one of 100,000 more memory
    than any PC has, before a word was said."""
    out = []
    for (ind_id, year), lines in clashes.items():
        shown_lines = "・".join(f"{n}行目" for n, _where in lines[:CLASH_LINES_SHOWN])
        if len(lines) > CLASH_LINES_SHOWN:
            shown_lines += f" {more_text(len(lines) - CLASH_LINES_SHOWN, '行')}（全 {len(lines):,} 行）"
        out += [Refusal(n, where + f"{ind_id} の {year}年度が {shown_lines} にあり、実績値か評価が違います"
                           "（どちらが正しいか分からないため、どの行も取り込みません。正しい 1 行だけにしてください）")
                for n, where in lines]
    return out


def _record_refusal(year: Optional[int], year_text: str, symbol: str, current_year: int) -> str:
    """Why a record's year or 評価 cannot go into 経年 ("" when they can; its 実績値 is
    actual_refusal's)."""
    lo, _hi = YEAR_RANGE
    if year is None:
        return f"年度「{shown(year_text)}」を読めません（例: 2022 または 2022年度、令和4年度）"
    if why := future_year(year, current_year):
        return why
    if year >= current_year:
        return (f"{year}年度は対象年度（{current_year}年度）より前ではありません"
                "（取り込めるのは過去の年度だけです。今年度の実績は市町村シートに入力してください）")
    if year < lo:
        return f"{year}年度は古すぎます（{lo}年度以降）"
    if symbol not in SYMBOLS:   # compared as typed: NFKC would turn － into "-"
        return f"評価「{shown(symbol)}」は {SYMBOLS_SAID} のどれかにしてください{symbol_hint(symbol)}"
    return ""


def _extra_fields(row: Sequence[str], width: int) -> str:
    """Why a row with more filled fields than the header has is not imported ("" when it has
    none): 「1,015件」 typed without quotes is two fields, and the 実績値 was read as 「1」 (the
    rest dropped without a word) when 評価 came before it, or its 評価 as 「015件」 when after."""
    extra = [v for v in row[width:] if v.strip()]
    if not extra:
        return ""
    return (f"見出しは {width} 列なのに、この行には {width + len(extra)} 列あります（余分な「{shown(extra[0].strip())}」）。"
            "「1,015件」のようにコンマを含む値は \"1,015件\" のように \" で囲むか、コンマを取ってください")


def _unread_field(fields: Sequence[str]) -> str:
    """Why a record is refused for a field holding what Excel writes into a CSV for an error
    cell (「#N/A」, 「#DIV/0!」, 「#VALUE!」) or a TRUE/FALSE one (values.unread_value), named
    as such in any of the four fields ("" when none does). Only the 実績値 was: an error in
    the 評価 or the 指標ID was refused as a symbol to choose or an ID 指標 lacks, which is not
    what staff have to mend."""
    for label, value in zip(CSV_HEADERS, fields):
        held = unread_value(value)
        if held is not None and boolean_value(held):    # a check box's linked cell, a comparison
            return f"{label}が TRUE/FALSE（論理値）の「{held}」です（元の表のそのセルに{label}を入力してから CSV を作り直してください）"
        if held is not None:
            return f"{label}がエラー値「{held}」です（元の表の数式や参照先を直してから CSV を作り直してください）"
    return ""


def _id_refusal(ind_id: str, known: set[str]) -> str:
    if not ind_id:
        return "指標ID が空です"
    if ind_id not in known:
        return (f"指標ID「{shown(ind_id)}」は指標シートにも「{c.HISTORY}」シートにもありません"
                + _dated_id_hint(ind_id, known))
    return ""


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# What Excel shows an ID like 「02-1」 as once it opened the CSV and took it for a date (2月1日,
# 1-Feb, 2023/2/1, 2/1), saved so: (month, day) in whichever order the form gives them.
# A month's English name as Excel abbreviates it: the twelve, not any three letters (which
# the grid's guard would take for a column's).
_MONTH_NAME = "|".join(_MONTHS)
_DATED = LazyPattern(r"^(?:(?:\d{4}[/.-])?(?P<m1>\d{1,2})[/月](?P<d1>\d{1,2})日?(?:\s.*)?"
                     rf"|(?P<d2>\d{{1,2}})[- ](?P<mon2>{_MONTH_NAME})|(?P<mon3>{_MONTH_NAME})[- ](?P<d3>\d{{1,2}}))$", re.I)
_ID_AS_DATE = LazyPattern(r"^0?(?P<m>\d{1,2})-0?(?P<d>\d{1,2})$")


def _dated_id_hint(ind_id: str, known: set[str]) -> str:
    """Why an unknown 指標ID may be one Excel changed: a CSV opened in Excel (to add a year)
    has 「02-1」 turned into the date 「2月1日」 (or 「1-Feb」), saved as such, and the line was
    refused as an ID no sheet has, which told staff nothing of where it came from."""
    m = _DATED.match(unicodedata.normalize("NFKC", ind_id).strip())
    if m is None:
        return ""
    month = m.group("m1") or (m.group("mon2") or m.group("mon3") or "").lower()
    day = int(m.group("d1") or m.group("d2") or m.group("d3"))
    month = _MONTHS.index(month) + 1 if month in _MONTHS else (int(month) if month.isdigit() else 0)
    ids = sorted(k for k in known if (i := _ID_AS_DATE.match(k)) and (int(i.group("m")), int(i.group("d"))) == (month, day))
    if not ids:
        return ""
    return (f"（Excel で CSV を開くと、指標ID「{ids[0]}」は日付に変わります。メモ帳などで「{ids[0]}」に直すか、"
            "Excel の「データ」→「テキストまたは CSV から」で指標IDの列を文字列として読み込んでから保存してください）")


def actual_refusal(ind: Optional[Indicator], actual: str, symbol: str, mend: str, *,
                   units: bool = True) -> str:
    """Why a past year's 実績値 cannot be recorded in 経年 ("" when it can): the one rule for a
    year's figure whichever way it arrives, a history CSV's line (parse_history_csv) or a cell
    typed into the sheet (read_history), in the same words. ``ind``: the row's indicator (None
    when 指標 no longer has it: its unit cannot be compared); ``mend``: how a bare fraction of
    a % is written in the place it came from (CSV_FRACTION_MEND, SHEET_FRACTION_MEND).
    ``units``: whether its unit is held to today's target. A line being imported is (a figure
    on the wrong line); a figure 経年 already records is not: it was recorded under its own
    year's target, and a target whose unit staff changed since (30社 → 27兆円) refused every
    評価を再計算 over years nobody could correct. A bare fraction of a % is refused either way."""
    if why := _actual_refusal(actual, symbol):
        return why
    if units:
        return _unit_refusal(ind, actual, mend)
    return _fraction_refusal(ind, actual, mend) if ind is not None else ""


def _actual_refusal(actual: str, symbol: str) -> str:
    """Why a CSV's 実績値 cannot be imported ("" when it can). 「（入力エラー）」 is what 一覧
    and 経年 print for a row an input error made － (core.values.INPUT_ERROR): 経年 exported
    to a CSV came back refused for it; beside any other symbol it contradicts itself, and
    which of the two is right is not a guess to make. An error value is _unread_field's.
    A year's 実績値 is what was reported that year, so it is read by the rule of a report
    (values.parse_input): 「10件以上」 is a floor under the figure, not the figure, as the
    master refuses it in 実績値 and 一覧 never prints it."""
    from .values import INPUT_ERROR, ValueParseError, parse_input

    if actual == INPUT_ERROR:
        return "" if symbol == NOT_EVALUABLE else (
            f"実績値が「{INPUT_ERROR}」なのに評価が「{shown(symbol)}」です（入力エラーの行の評価は「{NOT_EVALUABLE}」です）")
    try:
        parse_input(actual)
    except ValueParseError as exc:
        return f"実績値「{shown(actual)}」は経年の記録にできません（{exc}）"
    return ""


def _unit_refusal(ind: Optional[Indicator], actual: str, mend: str = CSV_FRACTION_MEND) -> str:
    """Why a CSV's 実績値 counts another thing than its indicator does ("" when it does not,
    or when that cannot be told): 「5件」 on the row of an indicator counted in 名 is a
    figure typed on the wrong line or in the wrong unit, and 経年 would print it beside the
    other years' 名 as if they compared. Only two units are compared (a figure without
    one counts in the target's, and a target without one says nothing), as
    validate._unit_clash compares a typed 実績値（手入力）; the 一覧's own 実績値 read back
    from 経年's CSV always agree, as 一覧 prints in the target's unit. A bare fraction on a row
    counted in % (0.732 beside 「100％」, a CSV made from the stored cells) is refused as the
    master's input is (validate.fraction_of_percent): recorded, 次の一歩 compared it with this
    year's 73.2% as 0.732% and showed ↑ for a year that had not changed."""
    from .methods import target_of
    from .values import NUMBER, ValueParseError, parse_value

    target = target_of(ind) if ind is not None else None
    if target is None or target.kind != NUMBER or not target.unit:
        return ""
    try:
        value = parse_value(actual)
    except ValueParseError:
        return ""   # _actual_refusal's
    if fraction := _fraction_refusal(ind, actual, mend):
        return fraction
    if value.kind != NUMBER or not value.unit or value.family == target.family:
        return ""
    return (f"実績値「{shown(actual)}」の単位「{value.unit}」が、指標 {ind.id} の目標値「{shown(ind.target)}」の"
            f"単位「{target.unit}」と違います（指標ID の行を間違えていないか、単位を確かめてください）")


def _fraction_refusal(ind: Indicator, actual: str, mend: str) -> str:
    """Why a past year's 実績値 on ``ind``'s row cannot be recorded as it stands ("" when it
    can): a bare fraction where the target counts in % (validate.fraction_of_percent, the rule
    the master's own input is checked by), 0.732 beside 「100％」, 73.2% as Excel stores it
    or 0.732%. One text for a history CSV's row and a 経年 cell (read_history); ``mend``
    says how to write it in each ({percent}: 「73.2%」, {fraction}: 「0.732」)."""
    from .methods import target_of
    from .validate import fraction_as_percent, fraction_of_percent
    from .values import NUMBER, ValueParseError, parse_value

    if "." not in actual and "．" not in actual:     # most records (「12件」「◎」 years): no fraction, nothing parsed
        return ""
    try:
        value = parse_value(actual)
    except ValueParseError:
        return ""
    if value.kind != NUMBER or not fraction_of_percent(value, target_of(ind)):
        return ""
    percent = fraction_as_percent(value)
    return (f"実績値「{shown(actual)}」は、「{percent}」を Excel が保存する値と同じです（指標 {ind.id} は目標値"
            f"「{shown(ind.target)}」のとおり % で数えます。{shown(actual)}% なのか {percent} なのか決められません）。"
            + mend.format(percent=percent, fraction=shown(actual), again=again()))


def _year(value: str) -> Optional[int]:
    """The 年度 of a history CSV's 年度 field or a 経年 header's, None for no year: the rule
    the command line's --year is read by too (fiscal.staff_year)."""
    try:
        return staff_year(value)
    except DateParseError:
        return None


YEAR_RATE_TITLE = "年度別の達成割合"
YEAR_CHART_TITLE = c.YEAR_CHART_TITLE
NO_RECORD = "記録なし"


def with_year_rates(summary: SheetPlan, history: History, current_year: int,
                    result: Optional[Result] = None) -> SheetPlan:
    """集計 with the 達成割合 of every year below its own lines, years across (a chart plots
    a row of values), and a chart of them beside the chart of this year's symbols. A year
    経年 lacks between two it has (no master of it carried, a rollover past it) stands as
    「記録なし」 and a gap in the chart: its years are labels, evenly spaced, and 2021
    beside 2023 read as one year apart."""

    recorded = {r.year: r for r in year_rates(history, current_year, result)}
    if not recorded:
        return summary
    years = range(min(recorded), max(recorded) + 1)
    rows = summary.rows
    rows.append([])
    top = len(rows) + 1
    rows.append([(YEAR_RATE_TITLE, "header"), *((f"{y}年度", "header") for y in years)])
    rates = [recorded.get(y) for y in years]
    rows.append([("達成割合", "total"),
                 *((None if r is None or r.rate is None else rounded_rate(r.rate), "rate") for r in rates)])
    rows.append([("達成済み・達成見込み／評価可能", "body"),
                 *((f"{r.achieved}／{r.evaluable}" if r else NO_RECORD, "body") for r in rates)])
    last_col = 1 + len(years)
    for col in range(2, last_col + 1):
        summary.widths.setdefault(col, 14.0)
    anchor_row = len(rows) + 3
    if summary.chart is not None:
        summary.chart = summary.chart._replace(anchor=(anchor_row, 1))
    summary.more_charts.append(Chart(YEAR_CHART_TITLE, categories=(top, 2, top, last_col),
                                     values=(top + 1, 2, top + 1, last_col),
                                     anchor=(anchor_row + 17, 1)))
    return summary

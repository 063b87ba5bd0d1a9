"""A closed year carried again from its own master into a later year's (pure).

Rollover writes the closed year into the new master as it stood that day: its columns of
経年 and, beside each row, 「前年度実績（YYYY年度）」. A return collected late into the old
master changes that year afterwards (cycle.collect.later_year says so). Staff then name
the old master to ``renkei-xl history import``, and this plan brings the year over as
rollover would have, had the return come in time:

- 経年: the year's record replaced by the old master's inputs evaluated as recalc
  evaluates them (core.history.with_year, what rollover writes);
- the 前年度実績 column of every municipality sheet and of 指標, when the year is the one
  just before the later master's (an older year has no such column): rewritten by
  core.rollover.previous_year_columns, row matched to row by 指標ID, since the later
  master may have gained or moved rows since.

Nothing else changes: that year's inputs, 一覧 and 集計 are its own (集計's year rates
follow at its next 評価を再計算, as after a CSV import). A hand-made CSV (指標ID,年度,実績値,
評価) stays the way to bring in years no master of this tool holds.
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

from . import contract as c
from .face import step
from .contract_read import Book, MasterData
from .errors import UserError
from .list_notes import dropped_by_rebuild
from .history import (YearRecord, history_sheet, labels_of, overwritten, read_history, read_kept, refuse_unrecordable,
                      renamed, with_year)
from .findings import uncached_places
from .model import Finding, Result
from .plan_types import MasterState, WritePlan
from .rollover import emptied_inputs, previous_year_columns, stale_rows, unmatched_sheets


class CarryReport(NamedTuple):
    year: int                    # the year carried
    recorded: int                # indicators recorded in 経年 for it
    replaced: bool               # 経年 held the year already (rollover's record, or an import's)
    previous: int                # rows given their 前年度実績 (0: the year is not the one before)
    emptied: int                 # rows the year did not have (a row added since): their 前年度実績 emptied
    errors: tuple[Finding, ...]  # input errors in that year's evaluation (those rows are －)
    stale: tuple[str, ...]       # 指標IDs whose row on that year's 一覧 is not what the inputs give
    notes: tuple[Finding, ...] = ()   # notes and charts on 経年, which the carry rebuilds (list_notes.dropped_by_rebuild)
    unmatched: tuple[str, ...] = ()   # municipality sheets the year had no municipality for: column left as it was
    later_year: Optional[int] = None  # the 対象年度 of the master carried into (catch_up names it)
    # (its cell, 指標ID, 経年's record of the year, the carried one) where they differed (history.overwritten)
    overwritten: tuple[tuple[str, str, YearRecord, YearRecord], ...] = ()
    renamed: tuple[tuple[str, str, str], ...] = ()   # (指標ID, 評価指標 its years were of, 指標's): history.renamed


def carry_plan(state: MasterState, sheets, data: MasterData, source: MasterData, closed: Result,
               listed: Optional[Sequence[Sequence[object]]]) -> tuple[WritePlan, CarryReport]:
    """The plan that carries ``source``'s year (``closed``: its inputs evaluated; ``listed``:
    its 一覧 as saved) into the master of ``state``/``sheets``/``data``."""
    year, later = source.settings.fiscal_year, data.settings.fiscal_year
    if year >= later:
        raise UserError(f"取り込むマスターは {year}年度のものです。{later}年度のマスターには、それより前の年度の"
                        "マスターだけを取り込めます")
    for read in (source, data):     # as rollover_plan: a formula without result, as an error value, is recorded by no one
        refuse_unrecordable(read.indicators, uncached_places(read.findings))
    if not emptied_inputs(source):
        # Said of the master read, by what it is: the command's refusal starts with the name
        # of the master written, and 「…_2023年度_マスター.xlsm: 2022年度のマスターには…」
        # read as a complaint about the 2023 one.
        raise UserError(f"取り込むマスター（{year}年度）には、実績値・分母・実施状況が 1 つも入力されていません。"
                        "取り込むマスターを確かめてください（何も変更していません）")
    grid = state.grids.get(c.HISTORY)
    history = read_history(grid, data.indicators, data.settings.fiscal_year)
    replaced = any(year in per_year for per_year in history.values())
    kept = read_kept(grid)
    kept = kept._replace(labels={**kept.labels, **{i.id: labels_of(i) for i in source.indicators}})
    after = with_year(history, year, closed)
    plan = WritePlan([history_sheet(after, data.indicators, kept.judged(year, closed.indicators))])
    previous = emptied = 0
    unmatched: tuple[str, ...] = ()
    if year == later - 1:
        plan.cells, plan.fills, plan.widths = previous_year_columns(Book(sheets, state.names), data, source,
                                                                    closed, state.formulas, state.fill_of)
        unmatched = unmatched_sheets(data, source)
        previous, emptied = _rows_given(data, source, unmatched)
    report = CarryReport(year, len(closed.indicators), replaced, previous, emptied, tuple(closed.errors),
                         tuple(stale_rows(listed, closed, source.settings)),
                         tuple(dropped_by_rebuild(state, None, (c.HISTORY,), c.HISTORY_IMPORT)), unmatched, later,
                         # What 経年 held that the carry writes over, said as a rollover says it: a record
                         # staff typed into the later master's 経年 (a 基本KPI's figure) was replaced without
                         # a word, and only the backup kept it; and an ID whose carried year was of another
                         # 評価指標 than 指標's now (reused): 経年 then showed the old year under the new
                         # wording, and neither 次の一歩 nor the next rollover could tell any more.
                         tuple(overwritten(grid, after, year)), tuple(renamed(after, kept, data.indicators)))
    return plan, report


# What a Windows command prompt (or a POSIX shell) splits or acts on: a name holding any of
# these is quoted, so that the command staff copy from a message runs as written.
_SHELL_SPECIAL = frozenset(' \t&()^|<>;,=!%\'"`$\u3000')


def command_arg(text: str) -> str:
    """``text`` as one argument of a command staff copy from a message: as it is when it is
    plain, else in double quotes. Why: 「受付 2024年度.xlsm」 split at its space became two
    arguments, and a command that fails as copied is worse than none."""
    if text and not any(ch in _SHELL_SPECIAL for ch in text):
        return text
    return '"' + text.replace('"', '') + '"'


def import_command(later: str, source: str, year: int) -> str:
    """``renkei-xl history import LATER SOURCE``: the one spelling of the command that carries
    ``year`` from its own master ``source`` into ``later``. A name not known ("") is said as
    the placeholder 「（YYYY年度のマスター）」, which the message then says where to find."""
    shown = command_arg(source) if source else f"（{year}年度のマスター）"
    return f"renkei-xl history import {command_arg(later) if later else '（このマスター）'} {shown}"


def recalc_command(book: str, year: int) -> str:
    """``renkei-xl recalc BOOK``: the command line's 評価を再計算 of ``year``'s master ``book``
    as a command staff copy (its name quoted as import_command's are; "" said as the
    placeholder 「（YYYY年度のマスター）」, or 「（マスター）」 with no year)."""
    return f"renkei-xl recalc {command_arg(book) if book else f'（{year}年度のマスター）' if year else '（マスター）'}"


def recalc_step(book: str, year: int, then: str = "て") -> str:
    """評価を再計算 of ``year``'s master ``book`` as the face reading the message does it
    (core.face.step): 「「評価を再計算」を押し…」 on a button, 「renkei-xl recalc BOOK を実行し…」
    on the command line."""
    return step(c.RECALC, recalc_command(book, year), then)


def catch_up(year: int, later: str, source: str = "", later_year: Optional[int] = None, where: str = "",
             save: bool = False) -> str:
    """How ``year``'s values collected late reach the later master ``later`` (as the command
    line names it; ``later_year``: its 対象年度, the next year when not given) from ``source``,
    the year's own master ("" when it was not found: the caller says where to look): one
    sentence, said by both faces and both masters, and by a rollover that recorded input
    errors. The import is carry_plan: 経年, and the 前年度実績 columns only in the master of
    the year just after. A master two years on (made with --year, or a return two years
    late) was told 「2025年度のマスターの「経年」と「前年度実績（2024年度）」の列に」 for the 2026
    master the command named, whose columns the import does not touch (qa-140).

    ``where``: the server's work folder as staff see it (its share), when the message is a
    server button's. Staff there have buttons only, and no button imports history
    (contract.HISTORY_IMPORT): they were told to run the command 「in the closed year's
    folder」, with no command line to run it in (client-146). There IT runs it, in the work
    folder, ``later`` and ``source`` named from there; the year's master is read as saved, so
    staff save it first (a button's collect writes the open book, not the file).

    ``save``: said by a button on the PC's Python (BY_BUTTON), where staff run
    the command themselves: the same holds there (回収ファイル取込 writes the open book, and the
    command reads the saved file), and they were told only to recalc and check 一覧 (client-146).
    The command line's collect writes the file: its wording stays as it was."""
    target = year + 1 if later_year is None else later_year
    columns = f"と「{c.PREVIOUS_HEADER.format(year=year)}」の列" if target == year + 1 else ""
    if where:
        return (f"{year}年度のマスターで「評価を再計算」を押して上書き保存してから、"
                f"{by_it(where, import_command(later, source, year))}してもらい、"
                f"{target}年度のマスターの「{c.HISTORY}」{columns}に取り込んでください")
    return (f"{year}年度のマスターで{recalc_step(source, year)}一覧を確かめ{'、上書き保存し' if save else ''}てから、"
            f"{import_command(later, source, year)} で、"
            f"{target}年度のマスターの「{c.HISTORY}」{columns}に"
            f"取り込んでください（{year}年度の記録を置き換えます）")


def by_it(where: str, command: str) -> str:
    """The server's step for a command staff have no way to run (catch_up's ``where``):
    IT runs it in the work folder, named as staff see it (``where``, the share: IT knows it as
    the server's work folder); the caller ends the sentence (「…を実行してもらい」 what IT is
    asked, 「…を実行してもらうと」 what it gives). Short: a rollover's message with its input
    errors, targets past and the next folder's step keeps to a message box (core.alerts)."""
    return f"IT 担当者に {where} で {command} を実行"


def _rows_given(data: MasterData, source: MasterData, unmatched: Sequence[str] = ()) -> tuple[int, int]:
    """How many of ``data``'s rows the year had (by sheet and 指標ID, as previous_year_columns
    matches them) and how many it did not, for the report: a row added since is emptied,
    and saying it was "given" the year's value would overstate what was carried."""
    held: dict = {}
    for e in source.entries:
        if e.row is not None:
            held[(e.sheet, e.indicator_id)] = held.get((e.sheet, e.indicator_id), 0) + 1
    for i in source.indicators:
        if i.row is not None:
            held[("", i.id)] = held.get(("", i.id), 0) + 1
    given = missing = 0
    rows = [(e.sheet, e.indicator_id) for e in data.entries if e.row is not None and e.sheet not in unmatched]
    rows += [("", i.id) for i in data.indicators if i.row is not None]
    for key in rows:
        if held.get(key, 0) > 0:
            held[key] -= 1
            given += 1
        else:
            missing += 1
    return given, missing

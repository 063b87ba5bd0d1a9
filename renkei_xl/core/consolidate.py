"""One indicator rolled up for 一覧: the method's roll-up (methods.py), guarded and fitted.

Pure functions over plain records. Municipalities are listed in the order of 設定 so the
breakdown text reads the way the office always wrote it:
「（札幌市17件、小樽市2件、千歳市1件、恵庭市1件）」.

Two things are decided here for every face (document, file, live workbook):

- An input error never feeds a total. When a cell that feeds the indicator (a municipality
  実績値 or 分母, or 実績値（手入力） where that is what is used) has an error finding
  (「10件以上」, 「約10件」, -3, 2.5件, ▲3件 …), nothing is summed: 実績値 shows
  「（入力エラー）」 (values.INPUT_ERROR), the breakdown is empty (it would list the bad
  numbers), and 実施状況 is the staff's text as usual, without the breakdown. The pipeline
  then evaluates the row as － (評価不可) with the bad cell in the reason; it is never a
  number computed from the other municipalities, and － is outside ◎+□+× so the 達成割合 row
  leaves it out like any other －.
- Every text 一覧 shows must fit one cell. Characters a cell cannot hold are dropped and a
  text over values.CELL_TEXT_LIMIT (Excel's 32,767 less the buttons' text prefix) is cut to it, ending in 「…（以下省略）」
  (values.fit_cell); each cut is also an エラー finding on the 指標 row, so it is never
  silent. A single input cell that is itself too long is reported on that cell by
  validation instead (one finding per cause).
"""

# No ``from __future__ import annotations``: typing.NamedTuple compiles each string
# annotation (a ForwardRef) when the module is imported, at every command's start.

from functools import lru_cache
from itertools import chain
from typing import Iterable, NamedTuple, Sequence

from .methods import NO_VALUE, ConsolidationError, plain_status, roll_up
from .contract import LIST_ACTUAL_COL, LIST_COLUMNS
from .findings import IN_TOOL_CELL, TEXT_TOO_LONG
from .model import Consolidated, Entry, Evaluation, Finding, Indicator, Settings
from .validate import INPUT_ERROR_SAID, input_error_reason, input_errors
from .values import CELL_TEXT_LIMIT, INPUT_ERROR, cell_length, fit_cell

__all__ = ["NO_VALUE", "ConsolidationError", "Rollup", "by_indicator", "consolidate", "fit_texts", "published_status",
           "rollup", "rollup_rows"]


def _ordered(entries: Iterable[Entry], settings: Settings) -> list[Entry]:
    order = _order(settings.names)
    last = len(order)
    return sorted(entries, key=lambda e: order.get(e.municipality, last))


def by_indicator(entries: Iterable[Entry], settings: Settings) -> dict[str, list[Entry]]:
    """指標ID → its rows in 設定's order, as ``rollup`` would order them (a stable sort by
    設定's order, the rows of a municipality 設定 does not name last): every row put in its
    municipality's bucket, then the buckets read in order, so that no key is computed twice
    and nothing sorted (~5 ms of 45 at 200,000 rows)."""
    order = _order(settings.names)
    buckets: list[list[Entry]] = [[] for _ in range(len(order) + 1)]
    last = len(order)
    for e in entries:
        buckets[order.get(e.municipality, last)].append(e)
    out: dict[str, list[Entry]] = {}
    for bucket in buckets:
        for e in bucket:
            rows = out.get(e.indicator_id)
            if rows is None:
                out[e.indicator_id] = [e]
            else:
                rows.append(e)
    return out


@lru_cache(maxsize=8)
def _order(names: tuple[str, ...]) -> dict[str, int]:
    """設定's order, made once per run, not once per indicator (20,000 on a large master)."""
    return {name: i for i, name in enumerate(names)}


class Rollup(NamedTuple):
    """One indicator rolled up: what 一覧 shows, the input errors that stopped the
    roll-up (already reported by validation; the pipeline puts them in the reason), and
    new findings about the texts (cut to fit a cell)."""
    consolidated: Consolidated
    input_errors: tuple[Finding, ...] = ()
    findings: tuple[Finding, ...] = ()


def consolidate(ind: Indicator, entries: Sequence[Entry], settings: Settings) -> Consolidated:
    """Roll up one indicator. ``entries`` are that indicator's rows on municipality sheets."""
    return rollup(ind, entries, settings).consolidated


# Marks the reason a row with an input error shows in 一覧's 連携事業実施状況等 column.
ERROR_NOTE = "※"


def rollup(ind: Indicator, entries: Sequence[Entry], settings: Settings, *,
           may_have_errors: bool = True, known_errors: Sequence[Finding] = ()) -> Rollup:
    """``consolidate`` with its reasons: see the module docstring for input errors and
    over-long texts. Raises ConsolidationError when valid values cannot be combined.

    ``may_have_errors=False``: validation found no error on this indicator, so its inputs
    are not checked again (a recalculation would otherwise validate every value twice).
    ``known_errors``: errors found on this indicator's cells while reading the workbook
    (a formula without a saved result), which make the row an input error too."""
    return rollup_rows(ind, _ordered((e for e in entries if e.indicator_id == ind.id), settings), settings,
                       may_have_errors=may_have_errors, known_errors=known_errors)


def rollup_rows(ind: Indicator, entries: Sequence[Entry], settings: Settings, *,
                may_have_errors: bool = True, known_errors: Sequence[Finding] = ()) -> Rollup:
    """``rollup`` of rows that are already ``ind``'s own, in 設定's order: the pipeline
    groups and orders all rows once (by_indicator) instead of filtering and sorting the
    whole list again for each of 20,000 indicators (~0.13 s of a 2.1 s recalculation)."""
    errors = input_errors(ind, entries, settings) if may_have_errors else []
    if known_errors:
        errors += known_errors
    if not errors:
        raw = Consolidated(ind.id, *roll_up(ind, entries, settings))
        if _fits(raw):   # nearly always: fit_texts and its sources are not needed
            return Rollup(raw)
    else:
        # The reason first, in the row's own note column, so 一覧 says why the row is －
        # and a long status cannot push it out of the cell.
        status = "\n".join(t for t in (ERROR_NOTE + input_error_reason(errors),
                                        plain_status(ind, entries, settings)) if t)
        raw = Consolidated(ind.id, INPUT_ERROR, "", status)
    # The sources are read only when a text was cut (nearly never): not listed for each row.
    fitted, findings = fit_texts(ind, raw, chain((ind.status_manual,), (e.status for e in entries)))
    return Rollup(fitted, tuple(errors), tuple(findings))


def published_status(c: Consolidated, ev: Evaluation) -> str:
    """The 連携事業実施状況等 the 確定版 publishes for ``c`` (evaluated as ``ev``).

    A row with an input error shows its reason first (rollup): the bad cell's place and its
    message, which quotes the cell. That is for staff, on the master's 一覧; the 確定版 is
    mailed to every municipality and published, and carried it too: 「小樽市!E2: 実績値:
    「確認中（担当 鈴木 090-…）」の…」, a sheet address and whatever was typed in the cell, a
    name or a phone number as often as a number. Published, the row says only that it is －
    for an input error (the legend's 評価不可), then its status as usual; staff are told the
    cells by the export itself (cycle.export.errors_note). A status cut inside the reason
    (a bad cell of some 30,000 characters) keeps the word alone."""
    if c.actual != INPUT_ERROR:
        return c.status_text
    said = ERROR_NOTE + ev.reason
    rest = c.status_text[len(said):] if c.status_text.startswith(said) else ""
    return ERROR_NOTE + INPUT_ERROR_SAID + rest


def _fits(c: Consolidated) -> bool:
    """Whether fit_texts would leave ``c`` as it is, told without the sources it takes
    (a generator over the rows made for every indicator: ~1 µs each)."""
    return fit_cell(c.actual) == c.actual and fit_cell(c.breakdown) == c.breakdown and \
        fit_cell(c.status_text) == c.status_text


# (field of Consolidated, 指標 field whose cell a finding names, label: what a finding calls the text, 一覧's header for 実績値)
_TEXTS = (("actual", "actual_manual", LIST_COLUMNS[LIST_ACTUAL_COL]), ("breakdown", "status_manual", "内訳"),
          ("status_text", "status_manual", "連携事業実施状況等"))


def fit_texts(ind: Indicator, c: Consolidated, sources: Iterable[str] = ()
              ) -> tuple[Consolidated, list[Finding]]:
    """``c`` with every text fitted to one cell, and a finding for each text that was cut.
    No finding when one of ``sources`` (the input texts) is over the limit by itself:
    validation already names that cell."""
    changes: dict[str, str] = {}
    findings: list[Finding] = []
    source_too_long = None   # measured only when a text was cut: nearly never
    for field_name, cell_field, label in _TEXTS:
        text = getattr(c, field_name)
        fitted = fit_cell(text)
        if fitted == text:
            continue
        changes[field_name] = fitted
        n = cell_length(text)
        if source_too_long is None:
            source_too_long = any(cell_length(t) > CELL_TEXT_LIMIT for t in sources if t)
        if n > CELL_TEXT_LIMIT and not source_too_long:
            findings.append(TEXT_TOO_LONG.at(ind.sheet, ind.cell(cell_field), ind.id, length=n,
                                             where=IN_TOOL_CELL, limit=CELL_TEXT_LIMIT,
                                             label=f"一覧の{label}（市町村の実施状況と内訳を合わせた長さ）"))
    if not changes:
        return c, findings
    return Consolidated(c.indicator_id, changes.get("actual", c.actual),
                        changes.get("breakdown", c.breakdown),
                        changes.get("status_text", c.status_text)), findings

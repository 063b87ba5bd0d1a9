"""Whether a write to a master file must have its formulas recalculated when it is next opened.

A formula keeps in the file the result of the last calculation, and Excel shows that
result on opening without calculating again when the file says Excel's own calculation
engine made it (workbook.xml's calcPr calcId, as every Excel save writes it). The file face
writes only the tool's sheets and the cells a plan names; a staff formula elsewhere that
reads them (=COUNTIF(一覧!H:H,"◎"), =集計!B4*2, a total over a municipality sheet after
回収ファイル取込) was then shown, printed and mailed with its old result after a command-line
write, until something made Excel calculate. On the buttons' face nothing of this arises:
Excel calculates as the values are written into the open book.

So the plan's write also sets calcPr's fullCalcOnLoad (ECMA-376 Part 1, 18.2.2: a full
calculation when the workbook is opened). Excel calculates every formula on opening and
drops the flag when it next saves, which also leaves the book unsaved as it opens (Excel
asks to save on closing though nothing was typed: README 「コマンドで書き込んだマスター」,
docs/excel-model.md check 5). LibreOffice ignores the flag (its oox import reads no
fullCalcOnLoad; its own setting 「Recalculation on file load」, by default never, decides).

The rule: a plan that changes any value (a sheet rebuilt, a cell, a defined name), on a
master where a sheet the plan does not rebuild holds any formula. Any formula, not only one
that reads the tool's cells: telling which do would mean parsing formulas (names, INDIRECT,
whole columns, other sheets in between), and a needless calculation costs only Excel's
question on closing, where a missed one shows a wrong number as right. The sheets the tool
rebuilds hold no formula after the write (it writes values only).
"""

from __future__ import annotations

from typing import Callable, Iterable

from .plan_types import WritePlan


def full_calc_on_load(plan: WritePlan, sheetnames: Iterable[str], holds_formula: Callable[[str], bool]) -> bool:
    """``sheetnames``: the master's worksheets; ``holds_formula(name)``: whether that sheet
    holds a formula now (asked lazily, the first sheet that does ends the search)."""
    if not plan.changes_values:
        return False
    rebuilt = {s.name for s in plan.sheets}
    return any(holds_formula(name) for name in sheetnames if name not in rebuilt)

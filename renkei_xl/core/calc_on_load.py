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

The same flag tells the file face, when it next reads the master, that the saved results
may be stale: the command line reads each formula's saved result (python-calamine), and
after 回収ファイル取込 a 実績値（手入力） typed as =SUM(札幌市!E5,小樽市!E5) still held the sum
from before it, judged and published as current. ``stale_results`` is that rule; the
buttons' face never asks it (Excel calculates the open book as values are written).
"""

from __future__ import annotations

from typing import Callable, Iterable, Mapping

from .errors import UserError
from .findings import STALE_RESULT
from .model import Finding
from .plan_types import WritePlan


def full_calc_on_load(plan: WritePlan, sheetnames: Iterable[str], holds_formula: Callable[[str], bool]) -> bool:
    """``sheetnames``: the master's worksheets; ``holds_formula(name)``: whether that sheet
    holds a formula now (asked lazily, the first sheet that does ends the search)."""
    if not plan.changes_values:
        return False
    rebuilt = {s.name for s in plan.sheets}
    return any(holds_formula(name) for name in sheetnames if name not in rebuilt)


def stale_results(flagged: bool, formulas: Mapping[str, Iterable[str]],
                  read: Callable[[str, str], "tuple[str, str] | None"]) -> list[Finding]:
    """The cells the contract reads whose formula's saved result may be stale.

    ``flagged``: the master's calcPr asks for a full calculation on opening (fullCalcOnLoad:
    our write set it, or XlsxWriter or openpyxl wrote the file), so no calculation has
    happened since something asked for one; Excel's save drops the flag. ``formulas``:
    the cells holding a formula with a saved result, per sheet (the reader leaves out a
    formula of numbers alone, =6+11: no write changes its result). ``read(sheet, cell)``:
    (指標ID, what the cell is read as) for a cell the contract reads, else None: a formula
    in a staff column is theirs. A master the tool built carries the flag, but its cells
    hold values: nothing to say.

    Which formulas read what the write changed is not told, for calc_on_load's reason
    (telling would mean parsing formulas): any formula in a read cell counts, so a write
    that changed only 一覧 counts too. One save in Excel mends every cell at once.

    Each is an error (エラー), as a formula saved without its result is: the number is not
    known, so it is never judged or published as if it were (its row is －, the reader's
    findings say so: pipeline._read_errors). The commands that publish stop instead
    (``refuse_stale``)."""
    if not flagged:
        return []
    out = []
    for sheet, refs in formulas.items():
        for ref in refs:
            found = read(sheet, ref)
            if found is not None:
                out.append(STALE_RESULT.at(sheet, ref, found[0], label=found[1]))
    return out


# How many cells the refusal names; the rest are counted (validate lists them all).
_NAMED = 5


def refuse_stale(findings: Iterable[Finding], what: str) -> None:
    """A command that publishes values read from the master (評価を再計算 writes 一覧 and
    集計, 確定版を書き出し the 確定版 that is mailed, 次年度のマスターを作成 and the 経年
    import carry them into another master) stops before writing anything while a cell it
    reads holds a stale result. Writing with those rows as － would publish a 一覧 (and a
    達成割合 counting fewer rows) that is wrong until the one step below, which mends every
    cell at once; a stopped run changes nothing and says that step. 入力チェック is not
    stopped: it lists each cell (stale_results). ``what``: what would have been made from
    the stale values (「一覧と集計を作り直す」)."""
    stale = [f for f in findings if f.type == STALE_RESULT.code]
    if not stale:
        return
    places = "、".join(f.place for f in stale[:_NAMED])
    more = f" ほか {len(stale) - _NAMED} セル" if len(stale) > _NAMED else ""
    raise UserError(f"数式のセル {places}{more} の計算結果は古いかもしれません。このマスターは最後に Excel で保存した後に"
                    "書き込まれ（回収ファイル取込・次年度のマスターの作成など）、数式がまだ計算し直されていません。"
                    f"古い計算結果で{what}ことはしません（何も書き込んでいません）。Excel でマスターを開いて上書き保存"
                    "してから（開くと数式が計算し直されます）、もう一度実行してください")

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
that reads the tool's cells: telling which do would mean parsing every formula of every
sheet at every write (names, INDIRECT, other sheets in between), and a needless calculation costs only Excel's
question on closing, where a missed one shows a wrong number as right. The sheets the tool
rebuilds hold no formula after the write (it writes values only).

The same flag tells the file face, when it next reads the master, that the saved results
may be stale: the command line reads each formula's saved result (python-calamine), and
after 回収ファイル取込 a 実績値（手入力） typed as =SUM(札幌市!E5,小樽市!E5) still held the sum
from before it, judged and published as current. ``stale_results`` is that rule; the
buttons' face never asks it (Excel calculates the open book as values are written).

The flag alone says that something changed, not what: every command-line write sets it
again, so 入力チェック (which writes 検証結果 and メニュー) followed by 評価を再計算 stopped at
that same =SUM(札幌市!E5,小樽市!E5), which reads nothing 入力チェック wrote. So the write that
sets the flag also records the sheets it changed values on, and each later write while the
flag stands adds its own (``record_after``): a hidden defined name the tool owns,
``UNCALCULATED_NAME``, as it owns _renkei_master_id. A formula in a cell the contract reads
is stale only when it may read one of them, directly or through formulas on the sheets it
reads (core.formula_refs tells which sheets a formula reads, or that its text cannot tell).
The record means something only while the flag stands: a write that finds the flag gone
(Excel saved since, and calculated) starts it afresh. A flagged master without it (built by
XlsxWriter or openpyxl, or flagged by a version before the record) is "unknown": every
sheet may have changed.
"""

from __future__ import annotations

from typing import Callable, Collection, Iterable, Mapping, Optional

from .errors import UserError
from .face import again
from .findings import CALCULATE_AT_SAVE, OPEN_AND_SAVE, SAVED_UNCALCULATED, STALE_MANUAL, STALE_RESULT
from .model import Finding
from .plan_types import WritePlan
from .values import cell_length, listed

# The hidden workbook-scope name holding, while the flag stands, the sheets the tool's
# writes changed values on since Excel last calculated: a string constant (as
# _renkei_master_id is one), the names joined by ``_SEPARATOR``, which no sheet name holds.
UNCALCULATED_NAME = "_renkei_uncalculated"
_SEPARATOR = "/"
# Excel takes no string constant longer than this in a formula (a name's definition is
# one), counted as Excel counts, in UTF-16 units (values.cell_length: a sheet name's 𠮷 is
# two); a longer record is dropped, which leaves "unknown", the safe side.
_MAX_TEXT = 255


def full_calc_on_load(plan: WritePlan, sheetnames: Iterable[str], holds_formula: Callable[[str], bool]) -> bool:
    """``sheetnames``: the master's worksheets; ``holds_formula(name)``: whether that sheet
    holds a formula now (asked lazily, the first sheet that does ends the search)."""
    if not plan.changes_values:
        return False
    rebuilt = {s.name for s in plan.sheets}
    return any(holds_formula(name) for name in sheetnames if name not in rebuilt)


def saved_uncalculated(calc_mode: Optional[str], calc_on_save: Optional[str]) -> bool:
    """Whether the application saved the book without calculating it first: calculation set
    to manual (calcPr calcMode="manual", Excel's 「手動」) with 「ブックの保存前に再計算を行う」
    off (calcOnSave="0"; ECMA-376 Part 1, 18.2.2; VBA's Application.CalculateBeforeSave).
    Every saved result may then predate the values it reads (typed since the last F9), and
    nothing in the file says which, so ``stale_results`` takes such a master as flagged with
    no record; Excel's default (calcOnSave on) calculates at the save, and then the saved
    results are current."""
    return (calc_mode or "").strip() == "manual" and (calc_on_save or "").strip() in ("0", "false")


def changed_sheets(plan: WritePlan) -> list[str]:
    """The sheets a plan changes values on: those it rebuilds and those it writes cells of.
    Fills change no value; a defined name is not a sheet, and a formula that reads a name
    is taken to read anything (core.formula_refs)."""
    return list(dict.fromkeys([s.name for s in plan.sheets] + [e.sheet for e in plan.cells]))


def read_record(definition: Optional[str]) -> Optional[frozenset]:
    """The recorded sheets (case-folded, as Excel compares sheet names) from the name's
    definition; None for no name, or one this version cannot read ("unknown")."""
    names = _recorded_names(definition)
    return None if names is None else frozenset(n.casefold() for n in names)


def _recorded_names(definition: Optional[str]) -> Optional[list]:
    if definition is None:
        return None
    text = definition.strip()
    if text.startswith("="):
        text = text[1:].strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"' or '"' in text[1:-1].replace('""', ""):
        return None
    return [n for n in text[1:-1].replace('""', '"').split(_SEPARATOR) if n]


def record_after(plan: WritePlan, flagged: bool, flags_now: bool, current: Optional[str],
                 also: Iterable[str] = ()) -> "tuple[bool, Optional[str]]":
    """(whether the name changes, its new definition or None to remove it) for a write.

    ``flagged``: the master asked for a calculation before this write; ``flags_now``: this
    write sets the flag (``full_calc_on_load``); ``current``: the name's definition, None
    when there is none. A write that sets the flag starts the record (any one left from
    before Excel's last save meant nothing since); one on a flagged master adds its sheets
    to it, or leaves "unknown" (no record) as it is; one that neither finds nor sets the
    flag leaves the name alone (meaningless without the flag, and replaced when one is set).
    ``also``: sheets the write changed besides the plan's (a staff formula made #REF! where
    the table it read went with a rebuilt sheet: package.tables.drop_table_refs)."""
    if flags_now:
        names: Optional[list] = []
    elif flagged:
        names = _recorded_names(current)
        if names is None:
            return False, None
    else:
        return False, None
    known = {n.casefold() for n in names}
    for sheet in [*changed_sheets(plan), *also]:
        if sheet.casefold() not in known:
            names.append(sheet)
            known.add(sheet.casefold())
    joined = _SEPARATOR.join(names)
    if cell_length(joined) > _MAX_TEXT:
        return current is not None, None
    text = '"' + joined.replace('"', '""') + '"'
    return text != current, text


def stale_results(flagged: bool, formulas: Mapping[str, Iterable[str]],
                  read: Callable[[str, str], "tuple[str, str] | None"],
                  changed: Optional[Collection[str]] = None,
                  reads: Optional[Callable[[str, str], Optional[frozenset]]] = None,
                  sheet_reads: Optional[Callable[[str], Optional[frozenset]]] = None,
                  manual: bool = False) -> list[Finding]:
    """The cells the contract reads whose formula's saved result may be stale.

    ``flagged``: the master's calcPr asks for a full calculation on opening (fullCalcOnLoad:
    our write set it, or XlsxWriter or openpyxl wrote the file), so no calculation has
    happened since something asked for one; Excel's save drops the flag. ``formulas``:
    the cells holding a formula with a saved result, per sheet (the reader leaves out a
    formula of numbers alone, =6+11: no write changes its result). ``read(sheet, cell)``:
    (指標ID, what the cell is read as) for a cell the contract reads, else None: a formula
    in a staff column is theirs. A master the tool built carries the flag, but its cells
    hold values: nothing to say.

    ``changed``: the recorded sheets (case-folded, ``read_record``), None when unknown: then
    every formula in a read cell counts, as before the record. Otherwise a formula counts
    when it may read a changed sheet: ``reads(sheet, cell)`` gives the sheets its text
    refers to (None: cannot tell, so it counts), and ``sheet_reads(sheet)`` those that any
    formula on a sheet refers to (an empty set for a sheet without one), so that a formula
    reading a sheet whose own formulas read a changed one counts too (Excel recalculates
    them in turn). Sheets, not cells: a staff sum beside a changed cell counts, which costs
    an Excel save, never a stale number taken as current.

    Each is an error (エラー), as a formula saved without its result is: the number is not
    known, so it is never judged or published as if it were (its row is －, the reader's
    findings say so: pipeline._read_errors). The commands that publish stop instead
    (``refuse_stale``).

    ``manual``: the master was saved uncalculated (``saved_uncalculated``): every formula
    in a read cell counts, whatever the record says, and the finding says that setting."""
    if not flagged and not manual:
        return []
    kind = STALE_MANUAL if manual else STALE_RESULT
    if manual:
        changed = None
    may_have_changed = None if changed is None else _may_have_changed(frozenset(changed), sheet_reads)
    out = []
    for sheet, refs in formulas.items():
        for ref in refs:
            found = read(sheet, ref)
            if found is None:
                continue
            if may_have_changed is not None and reads is not None:
                sheets = reads(sheet, ref)
                if sheets is not None and not any(may_have_changed(s) for s in sheets):
                    continue
            out.append(kind.at(sheet, ref, found[0], label=found[1]))
    return out


def _may_have_changed(changed: frozenset, sheet_reads: Optional[Callable[[str], Optional[frozenset]]]
                      ) -> Callable[[str], bool]:
    """Whether a sheet's values may differ once Excel calculates: it was written, or a
    formula on it reads (through any chain of sheets) one that was, or reads what its text
    cannot tell. A walk over the sheets' references; each sheet is asked once."""
    known: dict[str, bool] = {}

    def walk(start: str) -> bool:
        if start in known:
            return known[start]
        seen, todo, hit = {start}, [start], False
        while todo and not hit:
            sheet = todo.pop()
            if sheet in changed or known.get(sheet):
                hit = True
                break
            refs = sheet_reads(sheet) if sheet_reads is not None else None
            if refs is None:
                hit = True
                break
            for nxt in refs:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        if hit:
            known[start] = True
        else:
            for sheet in seen:       # nothing reachable changed: none of them changed
                known[sheet] = False
        return known[start]
    return walk


def refuse_stale(findings: Iterable[Finding], what: str) -> None:
    """A command that publishes values read from the master (評価を再計算 writes 一覧 and
    集計, 確定版を書き出し the 確定版 that is mailed, 次年度のマスターを作成 and the 経年
    import carry them into another master) stops before writing anything while a cell it
    reads holds a stale result. Writing with those rows as － would publish a 一覧 (and a
    達成割合 counting fewer rows) that is wrong until the one step below, which mends every
    cell at once; a stopped run changes nothing and says that step. 入力チェック is not
    stopped: it lists each cell (stale_results). ``what``: what would have been made from
    the stale values (「一覧と集計を作り直す」)."""
    stale = [f for f in findings if f.type in (STALE_RESULT.code, STALE_MANUAL.code)]
    if not stale:
        return
    places = listed((f.place for f in stale), "セル")
    if any(f.type == STALE_MANUAL.code for f in stale):
        why, step = SAVED_UNCALCULATED, CALCULATE_AT_SAVE
    else:
        why = ("このマスターは最後に Excel で保存した後に書き込まれ（回収ファイル取込・次年度のマスターの作成など）、"
               "数式がまだ計算し直されていません")
        step = OPEN_AND_SAVE
    raise UserError(f"数式のセル {places} の計算結果は古いかもしれません。{why}。"
                    f"古い計算結果で{what}ことはしません（何も書き込んでいません）。{step}、もう一度{again()}ください")

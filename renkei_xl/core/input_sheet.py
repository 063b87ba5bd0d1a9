"""The sheet of a municipality's input workbook, as a plan: what a partner reads before
typing a number.

A partner checks a number against what was asked (目標値), where the indicator started
(基準値) and, where the master keeps it, what was reported last year, so those travel
beside the input cells as grey read-only columns, just before 実績値. Every cell wraps and
every row is as tall as its longest text (renkei_xl.core.text_fit), because neither
Excel nor LibreOffice sizes rows for text written into a new file; printed, the sheet fits
the width of an A4 landscape page and repeats its header row.

Nothing here changes what collect reads: the input columns keep their header texts, the
identifier block and the header row stay within the first HEADER_SEARCH_ROWS rows, and
the reference columns have headers the contract does not know, so collect ignores them.

The sheet is decided here, whole (values, named looks, validations, print setup), and
rendered by the file applier (renkei_xl.workbook.input_book) like every other tool sheet.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable, Mapping, NamedTuple, Optional, Sequence, Union

from . import contract as c
from . import text_fit
from .business_days import japanese_date
from .contract_read import text
from .looks import PROTECTION, look, print_setup
from .methods import InputRule, input_rule, status_listed
from .model import Indicator, Municipality, Settings
from .refs import cell_ref
from .values import NO_RESULT_VALUE, error_value, fit_cell, more_text, unread_value
from .plan_types import Rect, SheetPlan, Validation

# What a municipality types (unlocked and validated) and the widths of its columns: the
# contract's, one definition for the master's sheet and the file.
INPUT_FIELDS = c.INPUT_FIELDS
WIDTHS = c.ENTRY_WIDTHS
# Last year's value, where the master's municipality sheet has such a column (a next-year
# master made from this one adds 「前年度実績（2023年度）」): its header starts so.
PREVIOUS_PREFIX = c.PREVIOUS_HEADER_PREFIX
# The input workbook's structure is locked, without a password: a municipality cannot copy,
# add, rename or unhide a sheet by accident. Answers typed into a copied sheet would never
# be imported (collect refuses a return whose other sheets hold values); this keeps them
# from being typed there. Staff who must can lift it (校閲 → ブックの保護), as for the sheet.
LOCKED_STRUCTURE = True
# (field, header as 指標 names it, width) of the columns shown for reference.
REFERENCES = tuple((f, c.INDICATOR_HEADERS[f], width) for f, width in (("baseline", 16), ("target", 18)))
# An input field a row may take nothing in: 分母 on a row whose 集計方法 reads none (every
# row but a 比率's). Left yellow and open, it asked for a figure the roll-up never reads, and
# collect then held the whole row back (a 分母 nothing reads); locked and plain, Excel refuses
# it as it is typed, as the instructions (「比率の指標の行だけ」) already say.
CLOSED_WITHOUT_RULE = frozenset({"denominator"})
CLOSED_LOOK = "body"
PREVIOUS_WIDTH = 14
ISSUED_WIDTH = 14
HEADER_MIN_HEIGHT = 30.0
ID_TITLE = "識別情報（提出されたファイルの確認に使います。変更しないでください）"
# Areas per validation: a rule that covers more runs of rows starts another validation
# (one sqref of thousands of areas is slow for Excel to open).
MAX_AREAS = 500


class Column(NamedTuple):
    header: str
    source: Union[int, str]   # the master sheet's column (1-based), or an Indicator field
    field: str                # the contract field of an input or master column, else ""
    width: float
    reference: bool = False   # grey and locked: for reading only


def added_references(copy) -> list[tuple[str, str, float]]:
    """The REFERENCES (attribute, heading, width) an input file adds from 指標 beside the
    copied rows: those the master sheet has no column of (a reference it has is not doubled).
    The one choice of ``columns``, which places them, and of the two checks of what an input
    file would show (unread_cells, long_cells)."""
    heads = {head for _col, head in copy.headers}
    return [ref for ref in REFERENCES if ref[1] not in heads]


def _reference_cells(ind: Optional[Indicator], added: list[tuple[str, str, float]]) -> list[tuple[str, object]]:
    """(「指標!H9」, value) of ``ind``'s cells among the ``added`` references (none for a row
    whose 指標ID 指標 does not hold)."""
    if ind is None:
        return []
    return [(f"{ind.sheet}!{ind.cell(attr)}", getattr(ind, attr)) for attr, _head, _width in added if ind.cell(attr)]


def columns(copy, widths: dict[str, float] = WIDTHS) -> list[Column]:
    """The master sheet's columns in their order, with 基準値, 目標値 and last year's value
    placed just before 実績値 (a reference the master sheet already has is not doubled)."""
    by_col = {col: f for f, col in copy.fields.items()}
    previous = [(col, head) for col, head in copy.headers if head.startswith(PREVIOUS_PREFIX)]
    refs = [Column(head, attr, "", width, True) for attr, head, width in added_references(copy)]
    refs += [Column(head, col, "", PREVIOUS_WIDTH, True) for col, head in previous]
    out: list[Column] = []
    for col, head in copy.headers:
        if (col, head) in previous:
            continue
        field = by_col.get(col, "")
        if field == "value":
            out += refs
            refs = []
        out.append(Column(head, col, field, widths.get(field, 14)))
    return out + refs


# The labels a municipality sheet repeats from 指標, which its input file shows beside each row.
LABEL_FIELDS = c.LABEL_FIELDS


def stale_labels(copy, indicators) -> list[tuple[str, str, str, str]]:
    """(cell, 指標ID, the sheet's text, 指標's text) for each 連携事業名 or 評価指標 a
    municipality sheet still shows differently from 指標: renamed in 指標 after the sheets
    were made, the input file would ask the municipality with the old words while 一覧
    publishes the new ones. Split says so before the files go out (distribute._stale)."""
    by_id = {i.id: i for i in indicators}
    out = []
    for r, (row, ind_id) in enumerate(zip(copy.rows, copy.ids)):
        ind = by_id.get(ind_id)
        for field in (f for f in LABEL_FIELDS if f in copy.fields and ind is not None):
            col = copy.fields[field]
            got, want = text(row[col - 1]) if col <= len(row) else "", text(getattr(ind, field))
            if got and got != want:
                out.append((cell_ref(copy.row_numbers[r], col), ind_id, got, want))
    return out


def unread_cells(copy, sheet: str, by_id: dict[str, Indicator], uncached: frozenset = frozenset()
                 ) -> list[tuple[str, str]]:
    """(「sheet!cell」, what it holds: values.unread_value) for each cell an input file would
    show that holds an error value (a picture too): the master sheet's rows as copied (IDs, labels, 単位, the inputs as issued, 前年度実績,
    staff's columns) and 指標's 基準値 and 目標値 beside them. The file would carry it as a
    text (an ID 「#N/A」, a target 「#REF!」, an input cell pre-filled with 「#N/A」): a
    municipality reads it and answers it, and the hidden issued columns would keep it. So
    would a TRUE/FALSE in a column of the contract (a check box's linked cell, TRUE typed:
    values.boolean_value) or in 基準値 and 目標値: the file showed 「TRUE」 as a 実施状況 to
    answer. A column of staff's own keeps its check box. ``uncached``: the places (「札幌市!B5」)
    whose formula has no saved result, which the reader hands over as empty: each is one too
    (NO_RESULT_VALUE), or the file would show an empty 連携事業名, 単位 or 基準値 to answer by."""
    out = []
    added = added_references(copy)
    contract_cols = set(copy.fields.values())
    labels = [f for f in LABEL_FIELDS if f in copy.fields]
    for row, ind_id, r in zip(copy.rows, copy.ids, copy.row_numbers):
        out += [(f"{sheet}!{cell_ref(r, col)}", e) for col, v in enumerate(row, start=1)
                if (e := unread_value(v) if col in contract_cols else error_value(v))]
        if uncached:
            out += [(place, NO_RESULT_VALUE) for col in range(1, len(row) + 1)
                    if (place := f"{sheet}!{cell_ref(r, col)}") in uncached]
        ind = by_id.get(ind_id)
        out += [(place, e) for place, v in _reference_cells(ind, added) + _label_cells(ind, labels)
                if (e := unread_value(v) or (place in uncached and NO_RESULT_VALUE))]
    return list(dict.fromkeys(out))


def _label_cells(ind: Optional[Indicator], labels: list[str]) -> list[tuple[str, object]]:
    """(「指標!F8」, value) of ``ind``'s labels that stale_labels holds the sheet's against:
    an error there was quoted as 指標's words (「→ 指標では「#N/A」」), and a formula without its
    result as 「」, while the files went out."""
    if ind is None:
        return []
    return [(f"{ind.sheet}!{ind.cell(f)}", getattr(ind, f)) for f in labels if ind.cell(f)]


def unread_ids(indicators: Sequence[Indicator], uncached: frozenset = frozenset()) -> list[tuple[str, str]]:
    """(「指標!A8」, what it holds) for each 指標ID on 指標 that is an error value, a
    TRUE/FALSE or a formula without its result (``uncached``, as unread_cells). No row of a
    municipality sheet matches it: split handed those rows out with 基準値 and 目標値 empty
    and listed 「#N/A」 as the row the other files lack. Asked of every indicator, as which
    municipalities report it cannot be told."""
    out = []
    for ind in indicators:
        place = f"{ind.sheet}!{ind.cell('id')}" if ind.cell("id") else ind.sheet
        if (e := unread_value(ind.id) or (place in uncached and NO_RESULT_VALUE)):
            out.append((place, e))
    return out


def long_cells(copy, sheet: str, by_id: dict[str, Indicator]) -> list[str]:
    """「sheet!cell（n文字）」 for each master cell whose text an input file would show (or keep
    in its hidden issued columns) and the tool writes in no cell (values.over_cell: Excel's
    32,767 less the buttons' text prefix): the master sheet's rows as copied and 指標's
    基準値 and 目標値 beside them, as ``unread_cells`` walks them. The writer's own rule
    (WritePlan.refuse_long_texts) stopped the split only at the file holding it, after the
    files before it were made, and named the file's cell (「小樽市!I20」, the input file's
    grey column and 「L20」 its hidden one), which on the master's 小樽市 sheet is nothing:
    staff could not find what to shorten (a 32,767-character 実施状況 is only a warning
    on the master, as Excel holds it)."""
    from .values import over_cell

    out = []
    added = added_references(copy)
    for row, ind_id, r in zip(copy.rows, copy.ids, copy.row_numbers):
        out += [f"{sheet}!{cell_ref(r, col)}（{n:,}文字）" for col, v in enumerate(row, start=1) if (n := over_cell(v))]
        out += [f"{place}（{n:,}文字）" for place, v in _reference_cells(by_id.get(ind_id), added) if (n := over_cell(v))]
    return list(dict.fromkeys(out))


def issued_columns(copy) -> list[Column]:
    """The hidden, locked columns after the table that keep each input cell's value, and
    each label (連携事業名, 評価指標), as issued (c.ISSUED_HEADERS), as text: collect
    compares the returned cell with it to tell what the municipality changed. Hidden so
    nobody reads them as something to fill in, outside the print area, and not measured
    for row heights."""
    return [Column(c.ISSUED_HEADERS[f], copy.fields[f], "", ISSUED_WIDTH, True)
            for f in c.ISSUED_FIELDS if f in copy.fields]


def issued_texts(copy) -> dict[str, dict[str, str]]:
    """指標ID → field → the text an issued column holds for that input cell or label ("" for
    an empty one), for the fields the file has a column of: what the seal covers
    (core.seal.issued_payload), read from ``copy`` by the same rule (``_issued_row``) as
    the hidden columns are written, so the two cannot differ."""
    fields = [f for f in c.ISSUED_FIELDS if f in copy.fields]
    return {ind_id: dict(zip(fields, _issued_row(copy, row))) for row, ind_id in zip(copy.rows, copy.ids)}


def _issued_row(copy, row: Sequence[object]) -> list[str]:
    """One master row's input cells and labels as text, in the order of ``issued_columns``."""
    return [text(row[col - 1]) if col <= len(row) else "" for col in
            (copy.fields[f] for f in c.ISSUED_FIELDS if f in copy.fields)]


# The input cells as the file and the request mail both name them (the look is looks.py's
# "input"): the mail once said 「色の付いたセル」, and the grey columns are coloured too.
INPUT_CELLS = "薄い黄色のセル"


def instructions(settings: Settings, fields: set[str], reference_heads: list[str],
                 status_ids: tuple[Sequence[str], Sequence[str]] = ((), ())) -> list[str]:
    """What each coloured column wants, in the order a partner meets them. ``status_ids``:
    the file's 指標IDs whose 実施状況 一覧 prints, and those it does not (status_rows)."""
    as_of = (f"{settings.base_date.year}年{settings.base_date.month}月{settings.base_date.day}日時点"
             if settings.base_date else f"{settings.fiscal_year}年度末時点")
    lines = ["入力のしかた", f"1. {INPUT_CELLS}だけに入力してください。その他のセルは保護されていて、変更できません。"]
    if "value" in fields:
        lines.append(f"　・実績値: {as_of}の実績を、数値だけで入力してください（単位は「単位」列・目標値のとおりで、"
                     "入力は不要です）。状態の行（維持・実施など）は一覧から選んでください。")
    if "denominator" in fields:
        lines.append("　・分母: 比率の指標の行だけ、実績値の分母（全体の数）を入力してください。")
    if "status" in fields:
        lines.append(fit_cell(status_instruction(*status_ids)))
    number = 2
    if reference_heads:
        # The heads are the sheet's (a 前年度… column staff named): cut as every text the tool writes.
        lines.append(fit_cell(f"{number}. 灰色の列（{'・'.join(reference_heads)}）は確認用です。入力の前に見比べてください。"))
        number += 1
    lines.append(f"{number}. 行・列・シートの追加や削除、見出しやシート名の変更はしないでください。"
                 "入力が終わったら上書き保存してください。")
    return lines


# The 指標IDs status_instruction names before 「ほか n 行」.
SHOWN_IDS = 8


def status_instruction(listed: Sequence[str], unlisted: Sequence[str]) -> str:
    """The 実施状況 line: where the row's text goes, said by the rule recalc warns by
    (methods.status_listed). The file said every 実施状況 went to 一覧; for a row whose 指標 has
    実施状況（手入力）, recalc then warned that the municipality's was not shown (in the FY2023
    sample, every partner's row). The fewer kind of row is named by its 指標IDs."""
    ask = "　・実施状況: 取組の内容・回数・時期などを文章で入力してください"
    goes = "一覧の「連携事業実施状況等」に載ります"
    not_listed = "入力した文は一覧の「連携事業実施状況等」にそのままは載りません（事務局が確認します）"
    if not unlisted:
        return f"{ask}（{goes}）。"
    if not listed:
        return f"{ask}。このファイルの指標では、{not_listed}。"
    fewer = unlisted if len(unlisted) <= len(listed) else listed
    ids = "、".join(fewer[:SHOWN_IDS]) + (f"（{more_text(len(fewer) - SHOWN_IDS, '行')}）" if len(fewer) > SHOWN_IDS else "")
    if fewer is unlisted:
        return f"{ask}（{goes}）。ただし、指標ID {ids} の行は、{not_listed}。"
    return f"{ask}。このファイルの指標の多くでは、{not_listed}。指標ID {ids} の行は{goes}。"


def status_rows(muni: Municipality, settings: Settings, ids: Sequence[str], by_id: Mapping[str, Indicator]
                ) -> tuple[list[str], list[str]]:
    """The 指標IDs among ``ids`` (each once) whose 実施状況 from ``muni`` 一覧 prints, and those it does not."""
    central = settings.central
    is_central = central is not None and central.name == muni.name
    listed, unlisted = [], []
    for i in dict.fromkeys(ids):
        ind = by_id.get(i)
        if ind is not None:
            (listed if status_listed(ind, is_central) else unlisted).append(i)
    return listed, unlisted


def shown(value: object) -> object:
    """A master cell's value as the input file holds it: dates as the text the master
    shows (a partner reads them, nobody computes with them), text always as text."""
    if value == "":
        return None
    if isinstance(value, dt.datetime):
        return text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def input_rules(indicators: Iterable[Indicator]) -> dict[tuple[str, str], InputRule]:
    """(指標ID, field) → the rule of that input cell, decided once for a whole split: every
    municipality's file asks the same row the same thing."""
    out = {}
    for ind in indicators:
        for field in INPUT_FIELDS:
            rule = input_rule(ind, field)
            if rule is not None:
                out[(ind.id, field)] = rule
    return out


def input_title(settings: Settings, municipality: str) -> str:
    """An input file's title (its first cell; contract_read.REGION_MAX keeps it in a cell)."""
    return f"{settings.region} {settings.fiscal_year}年度 連携事業実施状況等 入力用ファイル（{municipality}）"


def input_sheet_plan(settings: Settings, muni: Municipality, copy, by_id: dict[str, Indicator],
                     identity: Sequence[tuple[str, str]], deadline: Optional[dt.date],
                     rules: Optional[Mapping[tuple[str, str], InputRule]] = None,
                     cut: Optional[list[Cut]] = None) -> SheetPlan:
    """The whole sheet. ``copy``: the master sheet's headers and rows
    (renkei_xl.cycle.distribute.SheetCopy); ``identity``: the (label, value) pairs of the
    file's identifier, shown as a block above the table; ``rules``: ``input_rules`` of
    ``by_id``'s indicators (made here when not given); ``cut``: where to add each cell the
    tallest row cannot show whole (``Cut``)."""
    if rules is None:
        rules = input_rules(by_id.values())
    cols = columns(copy)
    rows: list[list] = [[(input_title(settings, muni.name), "title")]]
    rows.append([(f"回答期限: {japanese_date(deadline)}までに、入力したこのファイルをメールに添付して"
                  "返信してください。", "input_due")] if deadline is not None else [])
    lines = instructions(settings, set(copy.fields) & set(INPUT_FIELDS), [k.header for k in cols if k.reference],
                         status_rows(muni, settings, copy.ids, by_id))
    rows += [[(line, "input_strong" if i == 0 else "legend")] for i, line in enumerate(lines)]
    rows += [[], [(ID_TITLE, "input_strong")]]
    merges: list[Rect] = []
    for label, value in identity:
        rows.append([(label, "input_label"), (None, "input_label"), (value, "input_id")])
        merges.append((len(rows), 1, len(rows), 2))
    rows.append([])
    header = len(rows) + 1
    assert header <= c.HEADER_SEARCH_ROWS
    rows.append([(k.header, "header") for k in cols])
    size = look("body").font_size
    heights = {header: max(HEADER_MIN_HEIGHT, text_fit.row_height(
        max(text_fit.lines(k.header, k.width, size) for k in cols), size))}
    over: list[tuple[int, int, int]] = []
    body, validated = _body(cols, copy, by_id, rules, header + 1, size, heights, over)
    if cut is not None:
        cut += [_cut(muni.name, cols[k], copy, i, by_id.get(copy.ids[i]), n) for i, k, n in over]
    issued = issued_columns(copy)
    rows[-1] += [(k.header, "header") for k in issued]
    for row, master_row in zip(body, copy.rows):
        row += [(value or None, "body") for value in _issued_row(copy, master_row)]
    rows += body
    last = len(rows)
    widths = {i: float(k.width) for i, k in enumerate(cols + issued, start=1)}
    sheet = SheetPlan(muni.name, rows, widths=widths, heights=heights, merges=merges, freeze=(header + 1, 2),
                      print_setup=print_setup("a4", title_rows=(header, header), area=(1, 1, last, len(cols))),
                      hidden_cols=set(range(len(cols) + 1, len(cols) + len(issued) + 1)), protection=PROTECTION)
    sheet.validations = validation_runs(validated)
    return sheet


def _body(cols: list[Column], copy, by_id: dict[str, Indicator], rules: Mapping[tuple[str, str], InputRule],
          first: int, size: float, heights: dict[int, float], over: list[tuple[int, int, int]]
          ) -> tuple[list[list], list[tuple[int, int, object]]]:
    """The table's rows from ``first`` on, their fitted heights (into ``heights``) and the
    (row, column, rule) of every validated input cell; into ``over``, the (row of ``copy``,
    column, lines) of each cell more lines long than the tallest row shows. Written for
    speed (a split lays out 40 × 2,000 rows): each column's source, look and rule field
    are decided once."""
    most = text_fit.most_lines(size)
    inputs = {k.field for k in cols if k.field in INPUT_FIELDS}
    plan = [(k.source - 1 if isinstance(k.source, int) else k.source,
             "input_entry_wrap" if k.field == "status" else "input_entry" if k.field in inputs
             else "input_reference" if k.reference else "body",
             k.width, k.field if k.field in inputs else None) for k in cols]
    rows, validated = [], []
    lines = text_fit.lines
    for r, (row, ind_id) in enumerate(zip(copy.rows, copy.ids), start=first):
        ind = by_id.get(ind_id)
        cells, need = [], 1
        for i, (source, name, width, field) in enumerate(plan):
            if source.__class__ is int:
                value = row[source] if source < len(row) else None
            else:
                value = getattr(ind, source, "") if ind else ""
            if value is not None and (value.__class__ is not str or not value):
                value = shown(value)
            if field is not None and ind is not None:
                rule = rules.get((ind_id, field))
                if rule is not None:
                    validated.append((r, i + 1, rule))
                elif field in CLOSED_WITHOUT_RULE:
                    name = CLOSED_LOOK
            cells.append((value, name))
            if value is not None:
                n = lines(text(value), width, size)
                if n > need:
                    need = n
                if n > most:
                    over.append((r - first, i, n))
        rows.append(cells)
        heights[r] = text_fit.row_height(need, size)
    return rows, validated


class Cut(NamedTuple):
    """A cell of an input file whose text Excel's tallest row cannot show whole, named at the
    master cell it comes from: printed, the partner's file stops part way through it."""
    place: str          # 「小樽市!G2」 or 「指標!H8」
    indicator_id: str
    header: str         # the input file's column
    lines: int


def _cut(sheet: str, col: Column, copy, i: int, ind: Optional[Indicator], n: int) -> Cut:
    if isinstance(col.source, int):
        place = f"{sheet}!{cell_ref(copy.row_numbers[i], col.source)}"
    else:
        place = f"{ind.sheet}!{ind.cell(col.source)}" if ind is not None and ind.cell(col.source) else sheet
    return Cut(place, copy.ids[i], col.header, n)


def validation_runs(cells: Iterable[tuple[int, int, object]]) -> list[Validation]:
    """One validation per rule and column, over every run of rows that has it (as Excel
    keeps a rule copied down a column), not one per cell: a 2,000-row sheet otherwise
    carries thousands of rules, which Excel is slow to open."""
    runs: dict[tuple[int, object], list[list[int]]] = {}
    for r, col, rule in sorted(cells, key=lambda x: (x[1], x[0])):
        spans = runs.setdefault((col, rule), [])
        if spans and spans[-1][1] == r - 1:
            spans[-1][1] = r
        else:
            spans.append([r, r])
    out = []
    for (col, rule), spans in runs.items():
        for i in range(0, len(spans), MAX_AREAS):
            out.append(Validation(rule, tuple((a, col, b, col) for a, b in spans[i:i + MAX_AREAS])))
    return out

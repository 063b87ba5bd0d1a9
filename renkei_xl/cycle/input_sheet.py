"""The sheet of a municipality's input workbook: what a partner reads before typing a number.

A partner checks a number against what was asked (目標値), where the indicator started
(基準値) and, where the master keeps it, what was reported last year, so those travel
beside the input cells as grey read-only columns, just before 実績値. Every cell wraps and
every row is as tall as its longest text (renkei_xl.core.text_fit), because neither
Excel nor LibreOffice sizes rows for text written into a new file; printed, the sheet fits
the width of an A4 landscape page and repeats its header row.

Nothing here changes what collect reads: the input columns keep their header texts, the
identifier block and the header row stay within the first HEADER_SEARCH_ROWS rows, and
the reference columns have headers the contract does not know, so collect ignores them.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple, Optional, Union

from ..core import contract as c
from ..core import text_fit
from ..core.business_days import japanese_date
from ..core.contract_read import text
from ..core.model import Indicator, Municipality, Settings
from ..workbook import xlsx

REFERENCE_FILL = c.REFERENCE_FILL
# Last year's value, where the master's municipality sheet has such a column (a next-year
# master made from this one adds 「前年度実績（2023年度）」): its header starts so.
PREVIOUS_PREFIX = c.PREVIOUS_HEADER_PREFIX
REFERENCES = (("baseline", "基準値", 16), ("target", "目標値", 18))
PREVIOUS_WIDTH = 14
FONT_SIZE = float(xlsx.FONT["font_size"])   # what rows are fitted for
DEADLINE_COLOR = c.ERROR_COLOR   # the red of what must not be missed


class Column(NamedTuple):
    header: str
    source: Union[int, str]   # the master sheet's column (1-based), or an Indicator field
    field: str                # the contract field of an input or master column, else ""
    width: float
    reference: bool = False   # grey and locked: for reading only


def columns(copy, widths: dict[str, float]) -> list[Column]:
    """The master sheet's columns in their order, with 基準値, 目標値 and last year's value
    placed just before 実績値 (a reference the master sheet already has is not doubled)."""
    by_col = {col: f for f, col in copy.fields.items()}
    heads = {head for _col, head in copy.headers}
    previous = [(col, head) for col, head in copy.headers if head.startswith(PREVIOUS_PREFIX)]
    refs = [Column(head, attr, "", width, True) for attr, head, width in REFERENCES if head not in heads]
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


def instructions(settings: Settings, fields: set[str], reference_heads: list[str]) -> list[str]:
    """What each coloured column wants, in the order a partner meets them."""
    as_of = (f"{settings.base_date.year}年{settings.base_date.month}月{settings.base_date.day}日時点"
             if settings.base_date else f"{settings.fiscal_year}年度末時点")
    lines = ["入力のしかた", "1. 薄い黄色のセルだけに入力してください。その他のセルは保護されていて、変更できません。"]
    if "value" in fields:
        lines.append(f"　・実績値: {as_of}の実績を、数値だけで入力してください（単位は「単位」列・目標値のとおりで、"
                     "入力は不要です）。状態の行（維持・実施など）は一覧から選んでください。")
    if "denominator" in fields:
        lines.append("　・分母: 比率の指標の行だけ、実績値の分母（全体の数）を入力してください。")
    if "status" in fields:
        lines.append("　・実施状況: 取組の内容・回数・時期などを文章で入力してください（一覧の「連携事業実施状況等」に載ります）。")
    number = 2
    if reference_heads:
        lines.append(f"{number}. 灰色の列（{'・'.join(reference_heads)}）は確認用です。入力の前に見比べてください。")
        number += 1
    lines.append(f"{number}. 行・列・シートの追加や削除、見出しやシート名の変更はしないでください。"
                 "入力が終わったら上書き保存してください。")
    return lines


def fill_sheet(wb, settings: Settings, muni: Municipality, copy, by_id: dict[str, Indicator],
               ident: dict[str, str], deadline: Optional[dt.date]) -> None:
    from .distribute import CHOICES_SHEET, ID_LABELS, INPUT_FIELDS, WIDTHS

    ws = wb.add_worksheet(muni.name)
    choices = wb.add_worksheet(CHOICES_SHEET)
    title = wb.add_format({"bold": True, "font_size": 14})
    bold = wb.add_format({"bold": True})
    due_fmt = wb.add_format({"bold": True, "font_color": "#" + DEADLINE_COLOR})
    label = wb.add_format(xlsx.LABEL)
    value_fmt = wb.add_format({"border": 1, "align": "left"})
    header = wb.add_format(xlsx.HEADER)
    plain = wb.add_format({"valign": "top", "text_wrap": True, "border": 1})
    reference = wb.add_format({"valign": "top", "text_wrap": True, "border": 1, "bg_color": REFERENCE_FILL})
    entry = wb.add_format({**xlsx.INPUT, "border": 1})
    entry_wrap = wb.add_format({**xlsx.INPUT, "border": 1, "text_wrap": True})

    # The list source lives in this file behind a defined name: a validation pointing at
    # another workbook breaks when the file travels, and one pointing straight at another
    # sheet is an Excel 2010 (x14) rule that openpyxl would drop.
    choices.write_string(0, 0, "状態の選択肢")
    for r, choice in enumerate(c.STATE_CHOICES, start=1):
        choices.write_string(r, 0, choice)
    wb.define_name(c.N_STATES, f"='{CHOICES_SHEET}'!$A$2:$A${1 + len(c.STATE_CHOICES)}")
    choices.protect()
    choices.hide()

    cols = columns(copy, WIDTHS)
    ws.write_string(0, 0, f"{settings.region} {settings.fiscal_year}年度 連携事業実施状況等 入力用ファイル（{muni.name}）", title)
    if deadline is not None:
        ws.write_string(1, 0, f"回答期限: {japanese_date(deadline)}までに、入力したこのファイルをメールに添付して"
                              "返信してください。", due_fmt)
    lines = instructions(settings, set(copy.fields) & set(INPUT_FIELDS), [k.header for k in cols if k.reference])
    for r, line in enumerate(lines, start=2):
        ws.write_string(r, 0, line, bold if r == 2 else None)
    top = 2 + len(lines) + 1
    ws.write_string(top, 0, "識別情報（提出されたファイルの確認に使います。変更しないでください）", bold)
    for i, (lab, prop) in enumerate(ID_LABELS.items(), start=1):
        ws.merge_range(top + i, 0, top + i, 1, lab, label)
        ws.write_string(top + i, 2, ident.get(prop, ""), value_fmt)
    header_row = top + len(ID_LABELS) + 2      # 0-based
    assert header_row < c.HEADER_SEARCH_ROWS

    for i, k in enumerate(cols):
        ws.write_string(header_row, i, k.header, header)
        ws.set_column(i, i, k.width)
    ws.set_row(header_row, max(30.0, text_fit.height(max(text_fit.lines(k.header, k.width, FONT_SIZE)
                                                         for k in cols), FONT_SIZE)))
    inputs = {k.field for k in cols if k.field in INPUT_FIELDS}
    last = header_row
    rules = xlsx.ValidationRuns(ws)
    for n, (row, ind_id) in enumerate(zip(copy.rows, copy.ids)):
        r = header_row + 1 + n
        last = r
        ind = by_id.get(ind_id)
        need = 1
        for i, k in enumerate(cols):
            if isinstance(k.source, int):
                value = row[k.source - 1] if k.source - 1 < len(row) else None
            else:
                value = getattr(ind, k.source, "") if ind else ""
            if k.field in inputs:
                fmt = entry_wrap if k.field == "status" else entry
            else:
                fmt = reference if k.reference else plain
            xlsx.write_value(ws, r, i, value, fmt)
            need = max(need, text_fit.lines(text(value), k.width, FONT_SIZE))
            rule = xlsx.rule_of(ind, k.field) if k.field in inputs and ind is not None else None
            if rule:
                rules.add(r, i, rule)
        ws.set_row(r, text_fit.height(need, FONT_SIZE))
    rules.close()
    ws.freeze_panes(header_row + 1, 1)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.center_horizontally()
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.set_footer("&C&P / &N")
    ws.repeat_rows(header_row)
    ws.print_area(0, 0, last, len(cols) - 1)
    ws.protect("", {"format_columns": True, "format_rows": True})
    ws.activate()

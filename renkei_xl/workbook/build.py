"""A new master workbook, written by XlsxWriter.

XlsxWriter is the only Python library that writes form buttons and embeds a
vbaProject.bin. After that the master is only ever edited part by part (renkei_xl.package),
so the buttons and the VBA project stay as written.
Everything here follows renkei_xl.core.contract: sheet names, header texts,
defined names and choice lists are taken from it, never retyped, so the reader finds
what the builder wrote. Data validation list sources are workbook-scope defined names,
because a list pointing straight at another sheet is an Excel 2010 x14 rule that
other tools staff may save the master with (openpyxl among them) drop.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Sequence

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from ..core import contract as c
from ..core.errors import UserError
from ..safety import disk_full, system_reason
from ..core.contract_read import THRESHOLD_RANGE, YEAR_RANGE, base_date_bounds
from ..core.fiscal import status_date
from ..core.layout import findings_grid, list_grid, summary_grid
from ..core.methods import NAMES as METHOD_NAMES, cell_value, input_rule, reported_by, shown_unit
from ..core.choices import KINDS, RULES
from ..core.model import Entry, Indicator, Municipality, Result, Settings
from ..core.pipeline import summarize
from ..core.looks import print_setup
from ..core.refs import quote_sheet
from ..core.values import format_percent, listed
from .xlsx import (Formats, ValidationRuns, print_setup as _print_setup, prompt as _validation, workbook_options,
                   protect as _protect, validation, write_value)

# What a button does, on the command line; shown on メニュー of a macro-free .xlsx.
# Whole commands, as a .xlsx master's メニュー shows them in place of the buttons: 「renkei-xl
# split ブック名.xlsx」 stopped at its missing --outdir, and collect at its missing folder.
# The folders are the buttons' own (配布用, 回収), beside the master.
CLI_EQUIVALENTS = {
    "Renkei.RenkeiCheck": "renkei-xl validate {book}",
    "Renkei.RenkeiRecalc": "renkei-xl recalc {book}",
    "Renkei.RenkeiSplit": "renkei-xl split {book} --outdir 配布用",
    "Renkei.RenkeiCollect": "renkei-xl collect {book} 回収",
    "Renkei.RenkeiExport": "renkei-xl export {book}",
    "Renkei.RenkeiRollover": "renkei-xl rollover {book}",
}
CLI_BOOK = "ブック名.xlsx"
# Empty validated rows below 指標 and below the municipality table for staff additions; at
# least as many as the server serves (c.SERVED_*), whatever the sample holds.
SPARE_ROWS = 200
SPARE_MUNICIPALITIES = 20

INDICATOR_WIDTHS = {"id": 9, "role": 16, "project_no": 7, "project_name": 26, "summary": 50,
                    "name": 36, "baseline": 14, "target": 16, "method": 12, "rule": 10,
                    "actual_manual": 16, "status_manual": 50, "is_kpi": 8}
INDICATOR_WRAPPED = {"role", "project_name", "summary", "name", "baseline", "target",
                     "actual_manual", "status_manual"}


def sheet_names(settings: Settings, *, macros: bool = True) -> list[str]:
    return [c.MENU, c.SETTINGS, c.INDICATORS, *settings.names, c.LIST, c.SUMMARY, c.FINDINGS,
            *([c.XLWINGS_CONF] if macros else [])]


def code_names(settings: Settings, *, macros: bool = True) -> list[str]:
    """Sheet code names in sheet order: the document modules the VBA project must hold."""
    munis = {name: f"shMuni{i:02d}" for i, name in enumerate(settings.names, start=1)}
    return [c.CODE_NAMES.get(name) or munis[name] for name in sheet_names(settings, macros=macros)]


def build_master(path: str | Path, settings: Settings, indicators: Sequence[Indicator] = (),
                 entries: Sequence[Entry] = (), *, interpreter: Optional[str] = None,
                 server: Optional[str] = None, server_folder: str = "") -> Path:
    """Write a new master at ``path``; its suffix decides whether it carries macros.
    ``server``: the renkei-xl server its buttons call (the RENKEI_SERVER row of
    xlwings.conf); without it they run Python on the PC."""
    path = Path(path)
    if c.suffix_problem(path.name):
        raise UserError(c.suffix_problem(path.name, "マスターブック"))
    macros = path.suffix.lower() == c.MACRO_SUFFIX
    _check_settings(settings, entries)
    names = code_names(settings, macros=macros)
    vba = None
    if macros:  # before the workbook exists: XlsxWriter complains about one left unclosed
        from ..vba.sources import master_project

        vba = master_project(names, server=server)
    # Built in memory, written below: XlsxWriter leaves its archive open on the file when
    # a write fails, and the archive's finaliser failed again at exit (a traceback under
    # the Japanese sentence on a full disk; on Windows a handle on the file to remove).
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, workbook_options())
    st = _Styles.of(wb)
    wb.set_vba_name(c.WORKBOOK_CODE_NAME)
    if vba is not None:
        wb.add_vba_project(io.BytesIO(vba), is_stream=True)
    sheets = {name: wb.add_worksheet(name) for name in sheet_names(settings, macros=macros)}
    for ws, code in zip(sheets.values(), names):
        ws.set_vba_name(code)

    _menu(wb, sheets[c.MENU], st, settings, macros)
    _settings_sheet(wb, sheets[c.SETTINGS], st, settings, server_folder)
    _indicators_sheet(sheets[c.INDICATORS], st, indicators)
    central = settings.central.name if settings.central else None
    for muni in settings.municipalities:
        _municipality_sheet(sheets[muni.name], st, muni.name == central, muni, indicators, entries)
    _output_sheets(sheets, st, settings)
    if macros:
        _xlwings_conf(sheets[c.XLWINGS_CONF], st, interpreter, server)
    _return_key(wb)
    wb.close()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(buffer.getbuffer())
    except OSError as exc:
        if disk_full(exc):
            raise      # a full disk: said by the safe write around this one, naming the master
        raise UserError(f"ファイル「{path}」を書き込めません（{system_reason(exc)}）。フォルダーの書き込み権限と、"
                        "同じ名前のファイルが開かれていないかを確認してください") from exc
    return path


def _return_key(wb) -> None:
    """A new master's key for sealing the files split writes: a hidden workbook-scope
    name holding a string constant (renkei_xl.core.seal.master_key says why there).
    XlsxWriter's define_name has no hidden option; its name records are
    [name, sheet index, formula, hidden], so the flag is set on the record."""
    from ..core.seal import identity_names, new_key

    edits = identity_names(new_key())     # the key, and the identity the server checks
    for edit in edits:
        if wb.define_name(edit.name, "=" + edit.value) != 0:
            raise UserError("照合用の鍵を書き込めません")
    hidden = {edit.name for edit in edits}
    for record in wb.defined_names:
        if record[0] in hidden:
            record[3] = 1


# ------------------------------------------------------------------------------ checks

def _check_settings(settings: Settings, entries: Iterable[Entry]) -> None:
    """Municipality names become sheet names: refuse what Excel would refuse, in Japanese
    (c.municipality_name_problem, the rule the 設定 reader applies too), and two that Excel
    takes for one sheet name (c.sheet_name_key: 「ﾐﾅﾐ町」 is 「ミナミ町」) are one twice."""
    seen: set[str] = set()
    for muni in settings.municipalities:
        problem = c.municipality_name_problem(muni.name)
        if problem:
            raise UserError(f"設定シートの{problem}")
        if c.sheet_name_key(muni.name) in seen:
            raise UserError(f"設定シートに市町村名「{muni.name}」が2回以上あります")
        seen.add(c.sheet_name_key(muni.name))
    unknown = sorted({e.municipality for e in entries} - set(settings.names))
    if unknown:
        raise UserError(f"市町村「{listed(unknown, '市町村')}」の入力値がありますが、設定シートの市町村一覧にありません")


# ------------------------------------------------------------------------------ styles

@dataclass(frozen=True)
class _Styles:
    """The named looks (renkei_xl.core.looks) each sheet of a new master uses, as
    XlsxWriter formats (renkei_xl.workbook.xlsx.format_of): the builder has none of its own."""
    title: object
    bold: object
    header: object
    text: object
    wrap: object
    label: object
    date: object
    percent: object
    integer: object
    input: object
    input_wrap: object
    unlocked: object
    note: object

    @classmethod
    def of(cls, wb: xlsxwriter.Workbook) -> "_Styles":
        f = Formats(wb)
        return cls(title=f["title"], bold=f["heading"], header=f["header"], text=f["text"],
                   wrap=f["text_wrap"], label=f["label"], date=f["setting_date"], percent=f["setting_rate"],
                   integer=f["setting_integer"], input=f["input"], input_wrap=f["input_wrap"],
                   unlocked=f["setting"], note=f["hint"])


def _ref(sheet: str, first_row: int, first_col: int, last_row: Optional[int] = None) -> str:
    """「='設定'!$B$2」, or down one column to ``last_row`` (「='設定'!$C$2:$C$9」)."""
    cell = xl_rowcol_to_cell(first_row, first_col, row_abs=True, col_abs=True)
    if last_row is not None:
        cell += ":" + xl_rowcol_to_cell(last_row, first_col, row_abs=True, col_abs=True)
    return f"={quote_sheet(sheet)}!{cell}"


# ------------------------------------------------------------------------------ sheets

# メニュー's columns A-D (widths) and where its buttons go: the first under 「操作」, one a row.
# The build places them, and upgrade-macros puts back the ones a master lost
# (workbook.menu_buttons) at the same places, through the same two functions.
MENU_WIDTHS = (2, 26, 30, 70)
FIRST_BUTTON_ROW = 14


def menu_columns(ws) -> None:
    for col, width in enumerate(MENU_WIDTHS):
        ws.set_column(col, col, width)


def menu_button(ws, i: int) -> int:
    """The ``i``-th button of core.contract.BUTTONS on メニュー ``ws`` (an XlsxWriter sheet),
    in its row, made as tall as the button needs; returns the row."""
    caption, macro, _what = c.BUTTONS[i]
    r = FIRST_BUTTON_ROW + i
    ws.set_row(r, 36)
    ws.insert_button(r, 1, {"macro": macro, "caption": caption, "width": 180,
                            "height": 40, "x_offset": 4, "y_offset": 4})
    return r


def _menu(wb, ws, st: _Styles, settings: Settings, macros: bool) -> None:
    ws.hide_gridlines(2)
    menu_columns(ws)
    ws.write(1, 1, f"{settings.region} 連携事業 マスターブック", st.title)
    ws.write(3, 1, "手順", st.bold)
    # The year as README's 担当者の方へ walks it, by the buttons' own captions: the steps
    # once began with typing into 「回収した入力用ファイル」 and left split and collect out.
    steps = (f"1. {c.named(c.SPLIT)}で市町村ごとの入力用ファイルを「配布用」フォルダーに作り、市町村に送ります",
             f"2. 戻ったファイルを「回収」フォルダーに入れ、{c.named(c.COLLECT)}で取り込みます"
             "（市町村シートへの直接入力も可）",
             f"3. {c.named(c.CHECK)}で誤りを確かめて直し、{c.named(c.RECALC)}で一覧・集計を作り直します",
             f"4. {c.named(c.EXPORT)}で公表用の確定版を作ります。"
             f"年度が終わったら{c.named(c.ROLLOVER)}を押します",
             f"※ {c.SETTINGS}・{c.INDICATORS}・市町村シートは自由に編集できます。"
             f"{'・'.join((c.LIST, c.SUMMARY, c.FINDINGS, *c.YEAR_SHEETS))}はツールが書き換えます")
    for i, step in enumerate(steps):
        ws.write(4 + i, 1, step)
    row = 10
    ws.write(row, 1, "最終実行日時", st.label)
    ws.write_blank(row, 2, None, st.unlocked)
    ws.write(row + 1, 1, "最終実行結果", st.label)
    ws.write_blank(row + 1, 2, None, st.unlocked)
    wb.define_name(c.N_LAST_RUN, _ref(c.MENU, row, 2))
    wb.define_name(c.N_LAST_RESULT, _ref(c.MENU, row + 1, 2))
    row = FIRST_BUTTON_ROW - 1     # 「操作」, the buttons below it (menu_button)
    if macros:
        ws.write(row, 1, "操作", st.bold)
        for i, (_caption, _macro, what) in enumerate(c.BUTTONS):
            r = menu_button(ws, i)
            ws.merge_range(r, 2, r, 3, what, st.note)
    else:
        ws.write(row, 1, "このブックにはボタンがありません（ボタンはマクロ有効ブック .xlsm でのみ使えます）。", st.bold)
        ws.write(row + 1, 1, f"同じ操作はコマンドラインで実行できます（{CLI_BOOK} はこのファイルの名前に置き換えてください）:")
        for i, (caption, macro, what) in enumerate(c.BUTTONS):
            r = row + 2 + i
            ws.write(r, 1, caption, st.label)
            ws.write(r, 2, CLI_EQUIVALENTS[macro].format(book=CLI_BOOK))
            ws.write(r, 3, what, st.note)
    # The button path writes 最終実行日時/結果 through Excel, which refuses locked cells on
    # a protected sheet: those two cells are unlocked, the rest is protected.
    _protect(ws)
    ws.activate()
    _print_setup(ws, print_setup("a4_one_page"))


def _settings_sheet(wb, ws, st: _Styles, settings: Settings, server_folder: str = "") -> None:
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 28)
    ws.set_column(2, 2, 32)
    ws.set_column(3, 3, 34)
    ws.set_column(4, 4, 3)
    ws.write(0, 0, "基本設定", st.bold)
    base = status_date(settings.fiscal_year, settings.base_date)
    rows = (
        (c.N_REGION, settings.region, None, "一覧の表題に使われます"),
        (c.N_YEAR, settings.fiscal_year, st.integer, "西暦の年度（例: 2023）"),
        (c.N_BASE_DATE, base, st.date, "評価の基準日（通常は年度末の3月31日）"),
        (c.N_THRESHOLD, settings.threshold, st.percent, "この達成率以上を「□ 概ね達成」とします（例: 85%）"),
        (c.N_SERVER_FOLDER, server_folder, None,
         "ボタンがサーバーで動くときだけ使います: 配布用・回収・確定版を置く、サーバーの作業フォルダー内の"
         "フォルダー名（例: 2023年度）。マスターもこのフォルダーに保存してください"),
    )
    for i, (name, value, fmt, note) in enumerate(rows, start=1):
        ws.write(i, 0, name, st.label)
        if isinstance(value, dt.date):
            ws.write_datetime(i, 1, value, fmt)
        else:
            ws.write(i, 1, value, fmt or st.unlocked)
        ws.write(i, 2, note, st.note)
        wb.define_name(name, _ref(c.SETTINGS, i, 1))
    _settings_validations(ws)
    _municipality_table(ws, st, settings)
    _choice_lists(wb, ws, st)
    ws.freeze_panes(1, 0)
    _print_setup(ws, print_setup("a4"))


def _settings_validations(ws) -> None:
    """対象年度, 基準日 and 概ね達成閾値 take what the reader takes (YEAR_RANGE, THRESHOLD_RANGE)."""
    first, last = YEAR_RANGE
    ws.data_validation(2, 1, 2, 1, _validation(
        "integer", "対象年度", "西暦の年度を半角数字で入力してください（例: 2023）",
        f"対象年度は {first}～{last} の整数で入力してください", criteria="between", minimum=first, maximum=last))
    ws.data_validation(3, 1, 3, 1, _validation(
        "date", "基準日", "日付を入力してください（例: 2024/03/31）",
        "基準日は日付（例: 2024/03/31）で入力してください", criteria="between",
        # what the reader takes of the first and the last year: 12/31 of the last refused
        # the 基準日 init --year 2100 writes itself (2101/03/31), and a rollover's
        minimum=base_date_bounds(first)[0], maximum=base_date_bounds(last)[1]))
    lo, hi = THRESHOLD_RANGE          # the reader's rule: above lo, at most hi
    cell = xl_rowcol_to_cell(4, 1)
    ws.data_validation(4, 1, 4, 1, _validation(
        "custom", "概ね達成閾値", "割合で入力してください（85% なら 85% または 0.85）",
        f"概ね達成閾値は {format_percent(lo, None)} より大きく {format_percent(hi, None)} 以下で入力してください",
        value=f"=AND(ISNUMBER({cell}),{cell}>{lo},{cell}<={hi})"))


def _municipality_table(ws, st: _Styles, settings: Settings) -> None:
    top = 7
    ws.write(top, 0, "市町村一覧", st.bold)
    for col, header in enumerate(c.MUNI_HEADERS.values()):
        ws.write(top + 1, col, header, st.header)
    for r, muni in enumerate(settings.municipalities, start=top + 2):
        for col, field_name in enumerate(c.MUNI_HEADERS):
            ws.write(r, col, getattr(muni, field_name), st.unlocked)
    last = top + 1 + max(len(settings.municipalities) + SPARE_MUNICIPALITIES, c.SERVED_MUNICIPALITIES)
    kind_col = list(c.MUNI_HEADERS).index("kind")
    ws.data_validation(top + 2, kind_col, last, kind_col, _validation(
        "list", c.MUNI_HEADERS["kind"], f"{' または '.join(KINDS)} を選んでください",
        f"区分は一覧から選んでください（{'・'.join(KINDS)}）", source="=" + c.N_KINDS))


def _choice_lists(wb, ws, st: _Styles) -> None:
    """The sources of every list validation, each behind a defined name."""
    first_col = 5
    ws.write(0, first_col, "選択肢（入力規則の元データ。項目を増やすときは定義された名前の範囲も広げてください）", st.bold)
    lists = ((c.N_METHODS, METHOD_NAMES), (c.N_RULES, RULES), (c.N_KINDS, KINDS),
             (c.N_STATES, c.STATE_CHOICES), (c.N_KPI_MARKS, (c.KPI_MARK,)))
    for i, (name, choices) in enumerate(lists):
        col = first_col + i
        ws.set_column(col, col, 14)
        ws.write(1, col, name, st.header)
        for r, choice in enumerate(choices, start=2):
            ws.write(r, col, choice, st.unlocked)
        wb.define_name(name, _ref(c.SETTINGS, 2, col, 1 + len(choices)))


def _indicators_sheet(ws, st: _Styles, indicators: Sequence[Indicator]) -> None:
    fields = list(c.INDICATOR_HEADERS)
    formats = {f: (st.wrap if f in INDICATOR_WRAPPED else st.text) for f in fields}
    for col, f in enumerate(fields):
        ws.set_column(col, col, INDICATOR_WIDTHS[f], formats[f])
        ws.write(0, col, c.INDICATOR_HEADERS[f], st.header)
    for r, ind in enumerate(indicators, start=1):
        for col, f in enumerate(fields):
            value = getattr(ind, f)
            if f == "is_kpi":
                value = c.KPI_MARK if value else ""
            if value is None or value == "":
                ws.write_blank(r, col, None, formats[f])
            else:
                ws.write(r, col, value, formats[f])
    last = max(len(indicators) + SPARE_ROWS, c.SERVED_INDICATORS)
    col = fields.index
    ws.data_validation(1, col("method"), last, col("method"), _validation(
        "list", c.INDICATOR_HEADERS["method"], "市町村シートの値のまとめ方を一覧から選んでください",
        f"集計方法は一覧（{'・'.join(METHOD_NAMES)}）から選んでください",
        source="=" + c.N_METHODS))
    ws.data_validation(1, col("rule"), last, col("rule"), _validation(
        "list", c.INDICATOR_HEADERS["rule"], "空欄なら目標値から自動で判断します。変えるときだけ一覧から選んでください",
        f"評価方法は空欄にするか、一覧（{'・'.join(RULES)}）から選んでください",
        source="=" + c.N_RULES, ignore_blank=True))
    # A warning, not a stop: the rules read every mark of KPI_TRUE (README lists them), and
    # a stop refused 「◯」 or 「はい」 typed in Excel while the rules would have read it.
    others = " ".join(c.KPI_MARKS_SHOWN[1:])
    ws.data_validation(1, col("is_kpi"), last, col("is_kpi"), _validation(
        "list", c.INDICATOR_HEADERS["is_kpi"], f"基本KPI の行だけ「{c.KPI_MARK}」を選んでください",
        f"基本KPI の行は「{c.KPI_MARK}」（{others} も読めます）、それ以外は空欄にしてください。"
        "このまま入力してよければ「はい」を押してください", source="=" + c.N_KPI_MARKS, error_type="warning"))
    ws.data_validation(1, col("project_no"), last, col("project_no"), _validation(
        "integer", c.INDICATOR_HEADERS["project_no"], "連携事業の番号を 1 以上の整数で入力してください（基本KPI は空欄）",
        "事業No は 1 以上の整数で入力してください", criteria=">=", value=1))
    ws.freeze_panes(1, 1)
    ws.autofilter(0, 0, max(len(indicators), 1), len(fields) - 1)
    ws.set_row(0, 30)
    _print_setup(ws, print_setup("a3", title_rows=(1, 1)))  # A3, like the official list


def _municipality_sheet(ws, st: _Styles, is_central: bool, muni: Municipality,
                        indicators: Sequence[Indicator], entries: Sequence[Entry]) -> None:
    fields = list(c.ENTRY_HEADERS)
    col = fields.index
    for i, f in enumerate(fields):
        ws.set_column(i, i, c.ENTRY_WIDTHS[f])
        ws.write(0, i, c.ENTRY_HEADERS[f], st.header)
    r = 0
    rules = ValidationRuns(ws)
    for ind, entry in _rows_of(muni.name, is_central, indicators, entries):
        r += 1
        ws.write(r, col("indicator_id"), ind.id if ind else entry.indicator_id, st.text)
        ws.write(r, col("project_name"), ind.project_name if ind else "", st.wrap)
        ws.write(r, col("name"), ind.name if ind else "", st.wrap)
        ws.write(r, col("unit"), shown_unit(ind) if ind else "", st.text)
        for field in ("value", "denominator"):
            write_value(ws, r, col(field), cell_value(ind, field, getattr(entry, field) if entry else ""),
                         st.input)
            rule = validation(input_rule(ind, field))
            if rule:
                rules.add(r, col(field), rule)
        write_value(ws, r, col("status"), entry.status if entry else "", st.input_wrap)
    rules.close()
    ws.freeze_panes(1, 1)
    ws.set_row(0, 30)
    _print_setup(ws, print_setup("a4", title_rows=(1, 1)))


def _rows_of(name: str, is_central: bool, indicators: Sequence[Indicator], entries: Sequence[Entry]):
    """(indicator, entry) per row: the indicators this municipality reports, in 指標 order,
    plus any row an entry asks for (nothing given is dropped). Either side may be None."""
    own: dict[str, list[Entry]] = {}
    for e in entries:
        if e.municipality == name:
            own.setdefault(e.indicator_id, []).append(e)
    for ind in indicators:
        if reported_by(ind, is_central) or ind.id in own:
            for entry in own.pop(ind.id, None) or [None]:
                yield ind, entry
    for rest in own.values():       # entries for IDs 指標 does not know: kept for validation
        for entry in rest:
            yield None, entry


def _output_sheets(sheets: dict, st: _Styles, settings: Settings) -> None:
    """一覧, 集計, 検証結果: the rows above the data, from the same grids `recalc` renders."""
    from ..core.sheet_findings import findings_sheet
    from ..core.sheet_list import list_sheet
    from ..core.sheet_summary import summary_sheet

    empty = Result((), {}, {}, (), summarize((), {}, 0, 0))
    grids = {c.LIST: list_grid(empty, settings), c.SUMMARY: summary_grid(empty, settings),
             c.FINDINGS: findings_grid(())}
    # The page each is printed on, from the plan 再計算 writes, in place from the start: a face
    # that cannot set the page (the server's VBA client sets only the print area, Excel on a
    # Mac only the titles) left 一覧 on the printer's default paper at 100 %, no page numbers.
    pages = {c.LIST: list_sheet(empty, settings).print_setup, c.SUMMARY: summary_sheet(empty, settings).print_setup,
             c.FINDINGS: findings_sheet((), (), {}).print_setup}
    for name, grid in grids.items():
        ws = sheets[name]
        if pages.get(name) is not None:
            _print_setup(ws, pages[name]._replace(area=None, row_breaks=()))
        for r, values in enumerate(grid.rows[: grid.header_row + 1]):
            fmt = st.header if r == grid.header_row else (st.title if r == 0 else None)
            for col, value in enumerate(values):
                ws.write(r, col, value, fmt)
        width = len(grid.rows[grid.header_row])
        ws.set_column(0, width - 1, 16)
        ws.freeze_panes(grid.header_row + 1, 0)
        _protect(ws)


_WINDOWS_PATH = re.compile(r"[A-Za-z]:[\\/]|\\\\|.*\\")    # C:\..., \\server\..., any backslash


def interpreter_rows(interpreter: Optional[str]) -> list[tuple[str, str]]:
    """The xlwings.conf rows for ``--interpreter``. xlwings' RunPython reads Interpreter_Win
    on Windows and Interpreter_Mac on a Mac (xlwings.bas, RunPython), and a row on the sheet
    wins over the user's own setting: a Windows path written as Interpreter_Mac too (or a
    Mac's path as Interpreter_Win) stopped every button of that master on the other system.
    A path goes to the row of the system it names; a bare command ("python3") to both."""
    if not interpreter:
        return []
    if _WINDOWS_PATH.match(interpreter):
        return [("Interpreter_Win", interpreter)]
    if interpreter.startswith(("/", "~", "$HOME")):
        return [("Interpreter_Mac", interpreter)]
    return [("Interpreter_Win", interpreter), ("Interpreter_Mac", interpreter)]


def _xlwings_conf(ws, st: _Styles, interpreter: Optional[str], server: Optional[str] = None) -> None:
    """The rows xlwings' VBA reads from A1 down to the first empty cell (GetConfigFromSheet).

    A key present with an empty value overrides the user's own xlwings.conf, so keys are
    only written when they have a value: without --interpreter the add-in's setting applies,
    and without --server the buttons run Python on the PC (macros/Renkei.bas).
    """
    rows: list[tuple[str, object]] = []
    if server:
        rows += [(c.SERVER_KEY, server)]
    rows += interpreter_rows(interpreter)
    rows += [("Show Console", False)]
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 60)
    for r, (key, value) in enumerate(rows):
        ws.write_string(r, 0, key)
        ws.write(r, 1, value)
    notes = ("このシートは xlwings（ボタンから Python を動かす仕組み）の設定です。A 列がキー、B 列が値で、"
             "1 行目から最初の空行までが読まれます。",
             "Interpreter_Win / Interpreter_Mac: renkei-xl を入れた Python の場所"
             "（例: C:\\renkei\\.venv\\Scripts\\pythonw.exe）。renkei-xl init --interpreter でも指定できます"
             "（Windows の場所は Interpreter_Win に、Mac の場所は Interpreter_Mac に書かれます）。",
             "行を削除すると、xlwings アドインまたは利用者の xlwings.conf の設定が使われます。",
             f"{c.SERVER_KEY}: renkei-xl サーバーの URL（例: http://renkei-server:8000）。この行があると、ボタンは"
             "パソコンの Python ではなくサーバーで動きます（Python は不要）。行を削除するか値を空にすると、"
             "パソコンの Python で動きます。",
             "AUTH: サーバーの鍵。TIMEOUT: サーバーの答えを待つ時間（ミリ秒、既定 30000）。どちらも上の表の"
             "最後の行のすぐ下（空行より上）に足してください。空行より下に書いた行は読まれません"
             "（docs/staff-setup.md 0 章）。")
    for i, note in enumerate(notes):
        ws.write_string(len(rows) + 2 + i, 0, note)

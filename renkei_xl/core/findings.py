"""Every kind of finding the tool reports, once: its code, its level, and its Japanese
message and 修正のヒント as templates.

As frictionless keeps one catalogue of error types, each with its template, the places
that find something (validation, the contract reader, consolidation, the deadlines, the
file reader) only say where (sheet, cell, 指標ID) and fill in the values; what a finding
says, and how serious it is, is read here. A new kind of finding is one more entry here.

A template's slots are named (``{label}``, ``{value}``); a level given at the call
overrides the type's own only where the rule says so (a 基本KPI's unit mismatch warns).
"""

# No ``from __future__ import annotations``: typing.NamedTuple compiles each string
# annotation (a ForwardRef) when the module is imported, at every command's start.

from typing import NamedTuple, Optional, Sequence

from .contract import INDICATOR_HEADERS, INDICATOR_REQUIRED, SETTINGS
from .model import ERROR, WARNING, Finding, Municipality
from .values import (APPROXIMATE, BOOLEAN, BOOLEAN_TEXTS, CELL_ERROR, CELL_TEXT_LIMIT, CONTROL, DEADLINE_EXAMPLES,
                     DEADLINE_FORM, EXCEL_CELL_TEXT, RANGE, RICH_VALUE, RICH_VALUE_ERROR, TOO_LARGE, TOO_LONG,
                     TRUNCATION_MARK, UNPARSEABLE, error_hint, error_said, shown)


class FindingType(NamedTuple):
    code: str                 # Finding.type, e.g. "unit-mismatch"
    level: str                # エラー / 警告
    message: str              # 内容, a template
    hint: str = ""            # 修正のヒント, a template

    def at(self, sheet: str, cell: str, indicator_id: str = "", *, level: Optional[str] = None,
           **values: object) -> Finding:
        """The finding of this type at one place, its templates filled with ``values``. Its
        words do not follow the face (core.face): a finding is written into 検証結果, which
        both faces write alike, and its text may not differ by who checked last."""
        return Finding(self.code, level or self.level, sheet, cell, indicator_id,
                       self.message.format(**values), self.hint.format(**values))


def _type(code: str, level: str, message: str, hint: str = "") -> FindingType:
    found = FindingType(code, level, message, hint)
    if code in CATALOGUE:
        raise ValueError(f"finding type {code!r} defined twice")
    CATALOGUE[code] = found
    return found


CATALOGUE: dict[str, FindingType] = {}

# ------------------------------------------------------------------- cells that cannot be read

# ``also``: what values.ERROR_SAID adds for this error (#VALUE!: a picture in the cell).
CELL_ERROR_FOUND = _type(
    CELL_ERROR, ERROR, "{label}がエラー値「{error}」です（空欄や 0 としては扱いません）",
    "数式の参照先（削除したシート・セル、0 での割り算など）を直して Excel で保存し直すか、"
    "数式をやめて値を直接入力してください{also}")
# A boolean (values.boolean_value) where the contract reads a text or a value: a check box's
# linked cell (フォームコントロールのチェックボックス), TRUE typed into a 標準 cell, a comparison
# formula. Read as the text 「TRUE」 it was printed in 一覧 as a 実施状況 or a 評価指標, taken
# for a 役割, or refused as an unknown unit; never said for what it is. ``what``: a text
# (文章) or a value (値); ``how``: what to put there instead.
BOOLEAN_CELL = _type(
    BOOLEAN, ERROR,
    "{label}が TRUE/FALSE（論理値）の「{value}」です。チェックボックスのリンク先のセルや、TRUE・FALSE の入力、"
    "比較の数式の結果は、{what}として使えません（「{value}」の文字としては扱いません）",
    "{how}")
BOOLEAN_AS_TEXT = ("文章", "チェックボックスなどの TRUE/FALSE は使えません。チェックボックスのリンク先をこのセル以外に"
                           "するか数式をやめて、文章で入力してください")
BOOLEAN_AS_VALUE = ("値", "数値か状態（実施・維持など）を入力してください（チェックボックスのリンク先のセルなら、"
                         "リンク先をこのセル以外にしてください）")
# A rich value (values.RICH_VALUE): what staff see in the cell, not the #VALUE! older
# applications show for it.
RICH_VALUE_FOUND = _type(
    RICH_VALUE_ERROR, ERROR,
    error_said("{label}", RICH_VALUE) + "（値としては読めません。空欄や 0 としては扱いません。"
    "Excel 365 以外では #VALUE! と表示されます）",
    error_hint(RICH_VALUE))


def unread_found(sheet: str, cell: str, indicator_id: str, label: str, held: str, *, as_value: bool = False,
                 boolean_level: Optional[str] = None, level: Optional[str] = None) -> Finding:
    """The one finding of a cell holding no value (``held``: values.unread_value), whichever
    command reads it: a picture named as one, any other error by its code, a TRUE/FALSE as
    what it is where a text (``as_value``: a value) is read, at ``boolean_level`` where a
    reader says so (a 実施状況 一覧 does not show), each at ``level`` where the cell feeds no
    evaluation (前年度実績: 警告)."""
    if held in BOOLEAN_TEXTS:
        what, how = BOOLEAN_AS_VALUE if as_value else BOOLEAN_AS_TEXT
        return BOOLEAN_CELL.at(sheet, cell, indicator_id, level=boolean_level or level, label=label, value=held,
                               what=what, how=how)
    if held == RICH_VALUE:
        return RICH_VALUE_FOUND.at(sheet, cell, indicator_id, level=level, label=label)
    also = error_hint(held)
    return CELL_ERROR_FOUND.at(sheet, cell, indicator_id, level=level, label=label, error=held,
                               also=f"。{also}" if also else "")


def held_as(value: object) -> str:
    """What a cell's value is, in the words staff use for it: 日付 (a date: 2023-10-10), 時刻
    (a time of day: 10:30:00), 日時 (both), else 数値. 「10月10日」（セルの数値は 2023-10-10） called a
    date a number; the quote of as_shown names it by this."""
    import datetime as dt

    if isinstance(value, dt.timedelta):        # a duration, read as the time or date-time it is
        return "時刻" if value < dt.timedelta(days=1) else "日時"
    if isinstance(value, dt.datetime):
        return "日付" if value.time() == dt.time() else "日時"
    if isinstance(value, dt.date):
        return "日付"
    return "時刻" if isinstance(value, dt.time) else "数値"


def as_shown(found: Finding, read: str, seen: str, stored: str, held: str = "数値") -> Finding:
    """``found`` quoting what its cell shows (``seen``: 「85%」, 「1:05:00」, 「1,235件」) where it
    quoted the text read from the value under it (``read``), that value added as what it is
    (``held``: held_as, 「セルの日付は 2023-10-10」): a returned file holds the number or date
    alone (``stored``), and 「実績値「0.85」は…」 sent the municipality looking for a 0.85 its cell
    does not show. Every finding quotes a cell's value as 「value」 (values.shown), so the
    quote is found by that form, whichever finding it is."""
    quoted = f"「{shown(read)}」"
    if seen == read or quoted not in found.message:
        return found
    number = f"（セルの{held}は {shown(stored)}）" if stored != seen else ""
    return found._replace(message=found.message.replace(quoted, f"「{shown(seen)}」{number}"),
                          hint=found.hint.replace(quoted, f"「{shown(seen)}」"))


NO_RESULT = _type(
    "formula-without-result", ERROR,
    "数式に計算結果が保存されていません（空欄としては扱いません）。"
    "このファイルを Excel で開いて保存し直すと、計算結果が保存されます",
    "Excel で開いて保存し直してください（Excel 以外の道具で作ったファイルで起きます）。"
    "または数式をやめて値を直接入力してください")


def uncached_places(findings) -> frozenset:
    """「指標!H8」 for each cell the reader found to be a formula without a saved result (NO_RESULT),
    which it hands over as empty: the writers that copy cells on (split, 経年) refuse them."""
    return frozenset(f.place for f in findings if f.type == NO_RESULT.code)


# The step that mends a flagged master's results, and why a manual-calculation master's may be
# stale with the step that ends it: the findings below and the commands that stop on them
# (core.calc_on_load.refuse_stale) say the same words.
OPEN_AND_SAVE = "Excel でマスターを開いて上書き保存してから（開くと数式が計算し直されます）"
SAVED_UNCALCULATED = "このマスターは計算方法が「手動」で、「ブックの保存前に再計算を行う」をオフにして保存されています"
CALCULATE_AT_SAVE = ("Excel でマスターを開き、「ファイル」→「オプション」→「数式」で計算方法を「自動」にするか"
                     "「ブックの保存前に再計算を行う」をオンにして上書き保存してから")

# A formula's saved result in a cell the contract reads, on a master that asks for a full
# calculation on opening (core.calc_on_load.stale_results): the result may predate the
# values the tool wrote since. ``label``: the column or setting the cell is read as.
STALE_RESULT = _type(
    "formula-result-stale", ERROR,
    "{label}は数式で、保存されている計算結果は古いかもしれません（今の値としては扱いません）。"
    "このマスターは最後に Excel で保存した後にコマンドなどで書き込まれ、数式がまだ計算し直されていません",
    f"{OPEN_AND_SAVE}、もう一度実行してください")

# The same, on a master Excel saved set to manual calculation without calculating before
# the save (core.calc_on_load.saved_uncalculated): any saved result may predate what it reads,
# and the file cannot say which, so only the setting changed makes the next save a calculated one.
STALE_MANUAL = _type(
    "formula-result-uncalculated", ERROR,
    "{label}は数式で、保存されている計算結果は古いかもしれません（今の値としては扱いません）。" + SAVED_UNCALCULATED,
    f"{CALCULATE_AT_SAVE}、もう一度実行してください")

# The same, in a municipality's returned file its Excel saved that way: an input cell's
# formula (=G23*2) may hold a result from before what it reads was typed.
STALE_RETURN = _type(
    "returned-formula-uncalculated", ERROR,
    "{label}は数式で、保存されている計算結果は古いかもしれません（今の値としては取り込みません）。"
    "このファイルは計算方法が「手動」で、「ブックの保存前に再計算を行う」をオフにして保存されています",
    "市町村に、このファイルを Excel で開いて F9 キーで再計算してから（または「数式」タブの「計算方法の設定」を"
    "「自動」にして）上書き保存し、送り直してもらってください。数式をやめて値を直接入力してもらってもかまいません")

# The same, in a returned file that still asks to be calculated on opening (calcPr
# fullCalcOnLoad, as XlsxWriter and openpyxl write every book, split's input files among
# them): Excel's save and LibreOffice's drop it, so no application that calculates saved the
# file, and a formula's saved result is what its writer put there (XlsxWriter: 0). Excel shows
# the calculated value once it opens the file; the import would have taken the placeholder.
STALE_FLAGGED_RETURN = _type(
    "returned-formula-not-calculated", ERROR,
    "{label}は数式で、保存されている計算結果は計算されたものではないかもしれません（今の値としては取り込みません）。"
    "このファイルは Excel でも LibreOffice でも保存されていません（Excel 以外の道具で書いたファイルです）",
    "市町村に、このファイルを Excel で開いて（開くと数式が計算し直されます）上書き保存し、送り直してもらってください。"
    "数式をやめて値を直接入力してもらってもかまいません")

MERGED_INPUT = _type(
    "merged-input", ERROR,
    "{label}のセルが結合されています（{area}）。結合したセルは左上のセルの値しか持たず、ほかのセルは空欄として"
    "読まれます",
    "セルの結合を解除し、行ごと・列ごとに値を入力し直して保存してください")

# The same on the master's own municipality sheets (contract_read.merged_inputs): a merged
# area over input cells shows only its first cell's value, while the tool reads (and would
# evaluate) the value kept under its hidden part, which no one sees, and a write there is
# refused by Excel (1004) halfway through a click. The row is not evaluated (－) until unmerged.
MASTER_MERGED_INPUT = _type(
    "master-merged-input", ERROR,
    "{label}のセルが結合されています（{area}）。{seen}",
    "セルの結合を解除し（「ホーム」→「セルを結合して中央揃え」の▼→「セル結合の解除」）、行ごと・列ごとの値を確かめて"
    "入力し直してください")

# A value that cannot be read (values.ValueParseError): ``reason`` is the parser's sentence.
PARSE_HINTS = {
    APPROXIMATE: "確定した数値だけを入力してください（例: 10件）。見込みしかない場合は「（未集計）」と入力し、"
                 "説明は実施状況に書いてください",
    RANGE: "1つの数値だけを入力してください（例: 10件）。範囲の表記で使えるのは、目標値の「以上」"
           "（「15社以上」）だけです",
    TOO_LARGE: "桁を確認し、単位（万・億）を使って入力してください（例: 43.9万人）",
    TOO_LONG: "値の欄には数値か状態だけを入力し、説明は実施状況の欄に書いてください",
    CONTROL: "セルを選んで値を入力し直してください（コピーした文字に見えない文字が含まれています）",
    UNPARSEABLE: "例: 20件、1,500人、43.9万人、常時、2025年度まで",
    # A year, month or date that is no deadline (「2025年まで」「2024年3月」): the forms that are.
    DEADLINE_FORM: f"期限は{DEADLINE_EXAMPLES}のように書いてください（月や日付の期限は基準日と比べて判定します）",
}
UNREADABLE = {code: _type(code, ERROR, "{label}: {reason}", hint) for code, hint in PARSE_HINTS.items()}

# Two limits (values.EXCEL_CELL_TEXT, CELL_TEXT_LIMIT): a staff cell holds Excel's 32,767,
# the tool writes at most one less (the buttons' text prefix counts against Excel's limit).
# ``where``/``limit``: which of the two a text is over, said truly at each call.
TEXT_TOO_LONG = _type(
    "text-too-long", ERROR,
    f"{{label}}が{{length:,}}文字あり、{{where}}に書ける{{limit:,}}文字を超えています"
    f"（一覧には{CELL_TEXT_LIMIT:,}文字で切り、末尾に「{TRUNCATION_MARK}」と表示します）",
    f"{CELL_TEXT_LIMIT:,}文字以内に要約してください（市町村の実施状況を合わせた長さなら、"
    "実施状況（手入力）に要約を入力してください）")
IN_EXCEL_CELL, IN_TOOL_CELL = "Excel の1つのセル", "ツールが書く1つのセル"
# A staff text of exactly Excel's limit: nothing is wrong with the cell, but the tool can
# write one character less (一覧, or the master's cell on import), so 一覧 shows it cut.
TEXT_CUT = _type(
    "text-cut", WARNING,
    f"{{label}}が{{length:,}}文字あり、Excel のセルには入りますが、ツールが書き込めるのは{CELL_TEXT_LIMIT:,}文字"
    f"までです（ボタンは文字列の印「'」を付けて書き、それも Excel の上限{EXCEL_CELL_TEXT:,}文字に数えられます）。"
    f"一覧には{CELL_TEXT_LIMIT:,}文字で切り、末尾に「{TRUNCATION_MARK}」と表示します",
    "1文字以上短くすると、一覧に全文が載ります")

# 一覧's rows stop at Excel's tallest (text_fit.MAX_ROW_HEIGHT): a text that needs more is
# whole in its cell but cut on the screen and in print, so staff hear of it before they
# publish. ``label`` is the 一覧 column, ``source`` the 指標 column its text comes from.
LIST_TEXT_CUT = _type(
    "list-text-cut", WARNING,
    "一覧 {row}行目の「{label}」は文章が{lines}行になり、Excel の行の高さの上限（{limit}pt）を超えるため、"
    "画面と印刷では途中までしか表示されません（セルには全文が入っています）",
    "{source}の文章を短くするか、改行を減らしてください{or_else}")
# The 一覧 text made of every municipality's 実施状況 has a shorter source staff can type.
LIST_STATUS_OR_ELSE = "（市町村の実施状況を合わせた文章なら、実施状況（手入力）に要約を入力してください）"
# A note (comment) staff put on a cell of a sheet the tool rebuilds whole (一覧, 集計 and
# 次の一歩 by 評価を再計算, 検証結果 by both checks): the file face writes new parts, the
# buttons' Clear All clears notes with the cells, and a note cannot follow its row as a
# value beside the list does (list_notes). Named with its text, so the next 検証結果 keeps
# it, never lost unseen. ``what``: the command that rebuilt the sheet.
TOOL_NOTE_DROPPED = _type(
    "tool-note-dropped", WARNING,
    "{tool_sheet}のセルに付けたコメント「{value}」（{row}）は、{what}で{tool_sheet}を作り直したため消えました",
    "残しておくメモは、ツールが作り直さないシート（指標シートなど）にコメントとして付けるか、一覧の右の空いた列に"
    "入力してください（一覧の右の列は、同じ指標IDの行に付いて残ります）")
# A chart of the staff's own (not one the tool draws: c.TOOL_CHART_TITLES) on a sheet the tool
# rebuilds whole: the file face writes the sheet's drawing anew, and the buttons delete the
# sheet's charts with its cells (the pictures and shapes beside it stay: package.drawing).
TOOL_CHART_DROPPED = _type(
    "tool-chart-dropped", WARNING,
    "{tool_sheet}{where}に作ったグラフ{chart}は、{what}で{tool_sheet}を作り直したため消えました",
    "グラフは、ツールが作り直さないシート（自分で作ったシートなど）に作ってください"
    "（そのシートから{tool_sheet}のセルを参照できます）")
# A table (Excel's ListObject) staff made on a sheet the tool rebuilds whole: the file face
# writes the sheet part anew without it, and the buttons' Clear All of every cell deletes it
# as Excel's Clear All of a table's whole range does (package.tables). Named by the name Excel
# shows and the range it had.
TOOL_TABLE_DROPPED = _type(
    "tool-table-dropped", WARNING,
    "{tool_sheet}{where}に作ったテーブル「{table}」は、{what}で{tool_sheet}を作り直したため消えました",
    "テーブルは、ツールが作り直さないシート（自分で作ったシートなど）に作ってください"
    "（{tool_sheet}は実行のたびに作り直されます）。このテーブルのスライサーも消え、このテーブルを参照していた数式と名前は"
    " #REF! になります")
# A data validation, an ignored-error flag or a sparkline staff set on the cells of a sheet the
# tool rebuilds whole: the buttons' Clear All removes it with the cells and the file face writes
# the sheet part anew without it (package.cell_settings; docs/excel-model.md check 20). Named by
# what it was and the range it had. ``kind``: one of SETTING_KINDS' texts.
TOOL_SETTING_DROPPED = _type(
    "tool-setting-dropped", WARNING,
    "{tool_sheet}の {where} に設定した{kind}は、{what}で{tool_sheet}を作り直したため消えました",
    "{kind}は、ツールが作り直さないシート（自分で作ったシートなど）に設定してください"
    "（{tool_sheet}は実行のたびに作り直されます）")
# A mark the last 入力チェック recorded on 検証結果 whose cell cannot be found now (rows or
# columns moved, a 指標ID retyped, a sheet renamed: core.marks.placed_marks): left alone
# rather than give its 元の塗り to another row's cell. Named by sheet only: a cell named
# would be taken for a mark by the next run.
MARK_LOST = _type(
    "mark-lost", WARNING,
    "前回の入力チェックで{where}に付けた印（赤い塗り）が、いまどのセルにあるかわかりません"
    "（行や列の削除・並べ替え、指標IDやシート名の変更など）。ほかのセルを塗らないよう、元の塗りには戻していません",
    "その行が残っていて赤いままなら、塗りを手で戻してください（元の塗り: {before}）。"
    "行やシートを削除した場合は、このままで構いません")
# A value staff wrote beside 一覧 (after its 達成率 column) on a row whose indicator the
# rebuilt list no longer has (core.list_notes): it has no row to go to.
LIST_NOTE_DROPPED = _type(
    "list-note-dropped", WARNING,
    "一覧の列の外に入力された「{value}」は、その行（{row}）が作り直した一覧にないため、一覧から消えました",
    "必要なら、一覧の該当する行の同じ列に入力し直してください（メモは指標シートに自分の列を作って書くと、"
    "一覧を作り直しても影響を受けません）")

# A value staff wrote beside 一覧 that is a formula saved without its result (a master last
# saved by a tool other than Excel): the file face cannot read what Excel shows there, where
# the buttons carry Excel's value; the rebuilt 一覧 has no formula, so the note would vanish
# unseen (core.list_notes). ``ref``: its place on the old 一覧; ``row``: its row.
LIST_NOTE_UNSAVED = _type(
    "list-note-unsaved", WARNING,
    "一覧の列の外の {ref}（{row}）は数式ですが、計算結果が保存されていないため値が読めず、作り直した一覧に"
    "引き継げませんでした（空欄としては扱いません）",
    "マスターを Excel で開いて保存し直すと計算結果が保存され、評価を再計算で数式の結果が引き継がれます（Excel 以外の"
    "道具で保存したファイルで起きます）。この数式は、評価を再計算する前のマスター（バックアップ）に残っています。"
    "必要なら、一覧の該当する行の同じ列に入力し直してください")
# The same in 一覧's header row, where it stood over one of the tool's headers: the header row
# is not found, and no column of staff's own is carried at all.
LIST_HEADER_UNSAVED = _type(
    "list-header-unsaved", WARNING,
    "一覧の見出しの行の {ref} は数式ですが、計算結果が保存されていないため見出しが読めず、一覧の右に入力した列を"
    "作り直した一覧に引き継げませんでした",
    "マスターを Excel で開いて保存し直すと計算結果が保存され、評価を再計算で一覧の右の列が引き継がれます（Excel 以外の"
    "道具で保存したファイルで起きます）。列の値は、評価を再計算する前のマスター（バックアップ）に残っています")

# ----------------------------------------------------------------------------------- 指標

MISSING_FIELD = _type("missing-field", ERROR, "{label}が空です{where}", "{label}を入力してください{or_else}")
DUPLICATE_ID = _type("duplicate-id", ERROR, "指標ID「{id}」が重複しています（{first} と同じ）",
                     "指標IDは1つの指標に1つにしてください（重複した行は削除してください）")
# Two 指標IDs that read alike (「04-1」 and 「０４－１」): each was an indicator of its own, the
# municipality rows fed the one they match by character, and the other was said to be
# missing from every sheet, never that it repeats an ID.
LOOKALIKE_ID = _type("lookalike-id", ERROR,
                     "指標ID「{id}」は {first} の「{other}」と同じに見えますが、違う文字が入っています: {difference}",
                     "指標IDは1つの指標に1つです。同じ指標なら重複した行を削除し、別の指標なら見分けられる番号にしてください"
                     "（市町村シートの行は、見た目ではなく文字で指標に結び付きます）")
UNKNOWN_METHOD = _type("unknown-method", ERROR, "集計方法「{value}」は使えません", "次から選んでください: {choices}")
UNKNOWN_RULE = _type("unknown-rule", ERROR, "評価方法「{value}」は使えません",
                     "空欄（自動判定）か次から選んでください: {choices}")
SECOND_RATE_ROW = _type("second-rate-row", ERROR, "達成割合（集計方法「{method}」）の行が 2 つあります（{first} と同じ）",
                        "達成割合の行は 1 つにしてください（どちらの割合も自分の行を数えるため、集計と合いません）")
RATE_TARGET = _type("rate-target", ERROR, "達成割合の行の目標値「{value}」は割合ではありません",
                    "目標値を割合で入力してください（例: 80%）")
UNIT_MISMATCH = _type("unit-mismatch", ERROR, "{label}「{value}」の単位が{expected}と違います",
                      "{expected}と同じ単位で入力してください（単位は省略できます）")
# The 達成割合 computed without the rows input errors make －, when those rows could move
# its symbol: a rate on a small remainder is not published as if it were the whole.
RATE_UNDECIDED = _type(
    "rate-undecided", ERROR,
    "達成割合 {fraction} は入力エラーで評価不可の{left_out}件を除いた値です。除いた行の評価しだいで"
    "{low}から{high}まで変わるため、この行は評価しません（－）",
    "検証結果のほかのエラーを直してから、もう一度評価を再計算してください")
# 目標値・基準値・評価方法 that leave a row nothing to judge by (rules.unjudgeable): the row is
# － with the finding as its reason, said on the cell to change, never a silent －.
TARGET_NO_RATIO = _type(
    "target-no-ratio", ERROR, "目標値「{value}」は 0 以下のため、達成率（実績値／目標値）を計算できません",
    "目標値を直すか、数値の基準値を入力して評価方法を「進捗率」にしてください")
# 「200件以下」「5件未満」: a target to reduce. Dropping the word (as a report's bound is
# dropped) would judge it as one to raise, 150件 against 200件 ×; 進捗率 from a 基準値 judges
# it (SPEC 3). 「10件超」: a target is written with 以上.
TARGET_BOUND = _type(
    "target-bound", ERROR, "目標値「{value}」の「{word}」は使えません（{why}）", "{fix}")
TARGET_BOUND_BELOW = ("少ないほど良い目標は、基準値からどれだけ減らせたか（進捗率）で評価します",
                      "目標値は数値だけ（「{word}」を付けない）にし、基準値を入力して、評価方法を「進捗率」にしてください"
                      "（「{word}」を外すだけでは、多いほど良い目標として実績値／目標値で評価されます）")
TARGET_BOUND_ABOVE = ("目標は「以上」で書きます", "「以上」で書き直してください（例: 「10件超」は「11件以上」）")
# 「前年度以上」「以上10件」: 以上 where no number stands before it.
TARGET_AT_LEAST = _type(
    "target-at-least", ERROR, "目標値「{value}」を「数値＋以上」として読めません",
    "「以上」は数値の後に付けます（例: 「15社以上」）。前年度の実績と比べる目標なら、前年度の実績値を数値で"
    "書いてください（例: 前年度が120件なら「120件以上」）")
# 「現状値からの増加」: the FY2023 list's wording for a 基本KPI, which is not judged. On a judged
# row no report answers it but the phrase itself: a number was an error on the municipality's cell.
TARGET_INCREASE = _type(
    "target-increase", ERROR, "目標値「{value}」では評価できません（増えたかどうかを数値で判定する目標値がありません）",
    "目標値を数値にしてください（例: 現状値が75,000人なら「75,001人以上」）。評価しない指標は、評価方法を「参考」に"
    "するか基本KPIにしてください")
TARGET_IS_BASELINE = _type(
    "target-is-baseline", ERROR, "目標値「{value}」と基準値「{baseline}」が同じため、進捗率を計算できません",
    "目標値か基準値を直してください")
TARGET_NOT_A_NUMBER = _type(
    "target-not-a-number", ERROR, "目標値「{value}」は数値ではありません（集計方法「{method}」の実績値は数値です）",
    "数値の目標値（例: 20件）を入力するか、集計方法・評価方法を確かめてください")
# 合計 of shares: 40% and 45% add up to 85%, a number of no municipality's nor the region's.
SHARES_SUMMED = _type(
    "shares-summed", ERROR,
    "集計方法「{method}」の目標値「{value}」は割合です。市町村の割合を足した数は、圏域の割合になりません",
    "集計方法を「比率」（市町村が分子と分母を入力します）にするか、圏域の割合を「中心市のみ」か「手入力」で"
    "入力してください")
TARGET_UNIT = _type(
    "target-unit", ERROR, "目標値「{value}」の単位が{expected}と違います{why}",
    "目標値を「{example}」のように単位を付けて入力してください{note}。単位を変えるときは、市町村シートの単位と値も"
    "直してください")
# How to type a % target so that Excel keeps it as typed.
TARGET_PERCENT_NOTE = "（Excel が 0.7 のような数に変えないよう、先頭に ' を付けて「'{example}」と入力します）"
DEADLINE_UNANSWERED = _type(
    "deadline-unanswered", ERROR, "{label}「{value}」からは、期限の目標「{target}」を達成した（完了した）かどうかが分かりません",
    "完了したなら「完了」「策定」「構築」など、まだなら「未構築」「未実施」などを入力してください"
    "（まだ何も報告することがなければ空欄のままにします）")
TARGET_NEGATIVE = _type(
    "target-negative", ERROR, "目標値「{value}」は、できていないことを表す言葉のため目標になりません",
    "目標とする状態（維持・常時・開設など）か数値を入力してください")
# 評価方法 left blank where the numbers leave the rule open (rules.rule_warning): the row is
# judged by the rule SPEC gives a numeric target, and the warning says which and how to choose.
RULE_INFERRED = _type(
    "rule-inferred", WARNING,
    "評価方法が空欄のため、比率（実績値／目標値）で評価しています。目標値「{target}」が基準値「{baseline}」より"
    "小さく、基準値から減らす目標なら進捗率で評価します（どちらなのか、数値からは決められません）",
    "目標値以上を目指す指標（基準年より目標を下げた人数など）なら評価方法を「比率」に、基準値から目標値まで減らす"
    "指標（ごみの量など）なら「進捗率」にしてください。どちらかを選ぶと、この警告は出なくなります")
RULE_MISFIT = _type(
    "rule-misfit", ERROR, "評価方法「{rule}」はこの行に使えません: {why}",
    "評価方法を空欄（目標値の形から自動で決まります）にするか、{fix}")
UNKNOWN_KPI_MARK = _type("unknown-kpi-mark", ERROR, "基本KPI の欄の「{value}」は、基本KPI かどうか決められません",
                         "基本KPI の行は「{mark}」、それ以外は空欄にしてください（使える印: {marks}）")
# 事業No as pasted from a document: 「①」 (a circled digit) ended every command with
# 「予期しないエラー」 (str.isdigit() takes it, int() does not), and 「No.3」 「三」 「3-1」 or 0
# dropped the number from 一覧's 連携事業名 without a word (core.contract_read.project_number).
PROJECT_NO = _type("project-no", ERROR, "事業No「{value}」を番号として読めません{why}",
                   "事業No は 1 以上の整数を、半角か全角の数字だけで入力してください{instead}（基本KPI の行は空欄）")
# A 役割 or 連携事業名 that looks like another row's but is spelled with other characters
# (「サ－ビス」 for 「サービス」): a group of its own on 一覧 and a line of its own on 集計
# (core.lookalike).
LOOKALIKE_TEXT = _type(
    "lookalike-text", ERROR,
    "{label}「{value}」は {first} の「{other}」と同じに見えますが、違う文字が入っています: {difference}",
    "一覧と集計では別の{label}として分かれて数えられます。{first} と同じ文字にそろえてください（{first} をコピーして貼り付けると確実です）")
MISSING_ACTUAL = _type("missing-actual", WARNING, "集計方法が手入力ですが実績値（手入力）が空です",
                       "実績値を入力するか、未集計なら「（未集計）」と入力してください")
IGNORED_ACTUAL = _type("ignored-actual", WARNING, "集計方法が自動のため、実績値（手入力）は使われません",
                       "実績値（手入力）を空にしてください")
TYPED_RATE_LINE = _type("typed-rate-line", WARNING,
                       "実施状況（手入力）の「{value}」は一覧に載せません（達成割合の行の実施状況の先頭には、"
                       "ツールが今の評価から数えた「・達成済み・達成見込み○／評価可能○」を付けます）",
                       "この行を実施状況（手入力）から消してください（前の年度の一覧の文章を貼り付けたときなど）")
SET_ASIDE_ACTUAL = _type("set-aside-actual", WARNING,
                        "実績値（手入力）「{value}」は使われません（集計方法「{method}」は、{central}のシートに値があるときは"
                        "その値「{used}」を使います: {place}）",
                        "一覧に載せる値を{central}のシートに入力し、実績値（手入力）を空にしてください")
# A 分母 on a row whose 集計方法 takes none: a warning on the master; collect holds such a row
# where the municipality typed it since the split (collect.inspect.STRICT_WHEN_TYPED).
IGNORED_DENOMINATOR = _type("ignored-denominator", WARNING,
                            "集計方法「{method}」の指標は分母を使わないため、分母「{value}」は使われません",
                            "分母を空にしてください（分母を使うのは比率の指標だけです）")
IGNORED_ENTRY = _type("ignored-entry", WARNING,
                      "集計方法「{method}」の指標では、{municipality}の{label}「{value}」は使われません（{how}）",
                      "{label}を空にするか、指標IDを確かめてください")
STATUS_NUMBER_ONLY = _type(
    "status-number-only", ERROR,
    "実績値が空欄で、実施状況に数値「{value}」だけが入力されています（実績値を実施状況の列に入力した可能性が"
    "あります。このままでは{municipality}の実績値は集計されません）",
    "数値は実績値の列に入力し、実施状況には取組の内容・回数・時期などを文章で入力してください")
# A 実施状況 Excel saved as a date or a time: 「10/10」 or 「10月10日」 typed into a 標準 cell is
# stored as a date of the year it was typed in (R6.4 for a 2023 return), and 一覧 would show
# 「2024-10-10」. A warning on the master (staff see the cell); collect holds such a row
# (STRICT_ON_RETURN), as the file face wrote its serial (45209) and the buttons a date.
STATUS_DATE = _type(
    "status-date", WARNING,
    "実施状況「{value}」が日付・時刻として保存されています（Excel は「10/10」「10月10日」のような入力を、"
    "入力した日の年の日付にします）",
    "実施状況は文章で入力してください。日付だけを書くときは、先頭に「'」を付けて「'10月10日」のように入力してください")
# A 実施状況 Excel or Calc saved as a percentage: 「85%」 typed into a 標準 cell is stored as
# 0.85 with a % format, so the master took 「0.85」 (「0.5%」: 0.005, shown 1%) and 一覧 would
# show a number nobody typed. Found on a returned file only (the format is the file's, the
# master's entries hold the number alone): an error there, so collect holds the row, as it
# holds a 実施状況 saved as a date.
STATUS_PERCENT = _type(
    "status-percent", ERROR,
    "実施状況「{shown}」が割合の数値（{value}）として保存されています（Excel は「85%」のような入力を、"
    "0.85 という数値にします）",
    "実施状況は文章で入力してください。割合だけを書くときは、先頭に「'」を付けて「'85%」のように入力してください")
# A 実施状況 saved as a number whose format adds words but shows other digits than the
# number's own (12.5 in 0"件" shows 「13件」, 1234000 in #,##0,"千円" 「1,234千円」): neither
# the number alone nor the text shown is what was typed. Found on a returned file only
# (cycle.collect.inspect); one that shows its number's every digit is taken as shown.
STATUS_WORDS = _type(
    "status-words", ERROR,
    "実施状況「{shown}」が数値（{value}）に表示形式で文字を付けて保存されており、表示と数値の桁が違います",
    "実施状況は文章で入力してください（セルの表示形式を「文字列」にしてから入力し直してください）")
# A number in a returned input cell whose format shows no digit of it
# (core.displayed.shown_without_digits): 「;;;」 hides every number, 「0;;」 a negative one,
# 「[<10]"";0」 one below 10, and a section of 「#」 alone one that rounds to none of its
# digits (0.4 in 「#」; 0.3 in 「#"千円"」 shows 「千円」 alone). The municipality's form shows
# no number where the file holds one: importing it, or reading it as empty, is a guess
# (SPEC §3). Zero hidden (「0;-0;;@」, 「#,###」: the common ways to show zeros as blank) is still
# 0 and imported. Found on a returned file only (cycle.collect.inspect), which holds the row.
HIDDEN_NUMBER = _type(
    "hidden-number", ERROR,
    "{label}のセルに数値 {value} が入っていますが、表示形式「{format}」のため{shows}",
    "セルの表示形式を「標準」に戻して数値を確かめてください（空欄にするなら数値を消してください）")


def hidden_number(sheet: str, cell: str, indicator_id: str, *, label: str, value: str, number_format: str,
                  seen: str) -> Finding:
    """HIDDEN_NUMBER for a cell that shows ``seen`` (「」: nothing; 「千円」: its words alone), in
    the words a staff member checks against the cell: 「何も表示されていません」 beside a cell
    showing 「千円」 would send them looking for an empty one."""
    shows = (f"「{shown(seen)}」とだけ表示され、数値の桁が表示されていません" if seen
             else "何も表示されていません")
    return HIDDEN_NUMBER.at(sheet, cell, indicator_id, label=label, value=shown(value), format=shown(number_format),
                            shows=shows)
# A 実績値 or 分母 of a returned file or of the master (core.percent_cells) that a percentage
# format shows as 200% or more: 85 typed and then given the format 0% shows 「8500%」 (Excel
# and Calc store 85% typed as 0.85). A returned file's row is held (cycle.collect.inspect),
# the master's row is －.
PERCENT_FORMATTED_AFTER = _type(
    "percent-formatted-after", ERROR,
    "{label}「{shown}」は、セルの数値 {value} が割合の表示形式で表示されたものです（「{value}%」のつもりで"
    "入力した数値に、後から % の表示形式が付いた可能性があります）",
    "割合なら「85%」のように % を付けて入力し直してください。数値 {value} のままなら、セルの表示形式を"
    "「標準」に戻してください")
# A 実績値 or 分母 of a returned file whose format shows its number scaled down by a comma
# after the last digit with no word for the scale (core.displayed.scaled_without_words):
# 12000 in 「#,##0,」 shows 「12」. The row is held (cycle.collect.inspect).
SCALED_WITHOUT_WORDS = _type(
    "scaled-without-words", ERROR,
    "{label}「{shown}」は、セルの数値 {value} が表示形式「{format}」で桁を縮めて表示されたものです"
    "（「千」などの単位が表示されないため、{shown} と {value} のどちらのつもりか決められません）",
    "数値 {value} のままなら、セルの表示形式を「標準」に戻してください。千単位の数なら「12千」のように"
    "単位を付けて入力し直してください")
# A number typed since the save into an unsaved master, on a row counted in %, that a percent
# format would read otherwise (1: 1% or 100%): the server reads the formats from the saved
# master (excel.remote), which cannot say this cell's (core.percent_cells).
PERCENT_FORMAT_UNSAVED = _type(
    "percent-format-unsaved", ERROR,
    "{label}「{value}」は保存していない変更で、セルの表示形式が % かどうか分かりません（「{percent}」と"
    "入力すると Excel は {value} と保存します。{value}% なのか {percent} なのか決められません）",
    "上書き保存してから、もう一度ボタンを押してください（保存したマスターの表示形式で読みます）")
# A number input cell of the master (実績値, 分母, 実績値（手入力）, 基準値, 目標値) whose number
# format shows it otherwise than the number stored (core.displayed.shown_otherwise: 17 in
# 「"約"0」 shows 約17, in 「;;;」 nothing, in 「0,」 0): read alone it was judged on 17 without a
# word. Refused, the row －, naming what the cell shows (core.percent_cells), on every face.
SHOWN_OTHERWISE = _type(
    "shown-otherwise", ERROR,
    "{label}のセルには数値 {value} が入っていますが、表示形式「{format}」のため Excel では{shows}"
    "（表示と違う数値のまま評価には使いません）",
    "数値 {value} のとおりなら、セルの表示形式を「標準」に戻してください。表示のとおりの値なら、"
    "その値を数値で入力し直してください")


def shown_otherwise(sheet: str, cell: str, indicator_id: str, *, label: str, value: str, number_format: str,
                    seen: str) -> Finding:
    """SHOWN_OTHERWISE for a cell that shows ``seen`` (「」: nothing), in the words a staff
    member checks against the cell (as hidden_number says it)."""
    shows = f"「{shown(seen)}」と表示されています" if seen else "何も表示されていません"
    return SHOWN_OTHERWISE.at(sheet, cell, indicator_id, label=label, value=shown(value),
                              format=shown(number_format), shows=shows)


# A reported figure carrying a target's wording: 「５件（毎年度）」, 「20件（2025年度まで）」. No
# actual of the official list has one; it is the grey 目標値 copied into 実績値 (a whole column
# pasted one to the right makes every row ◎), and was read as the figure, silently. A warning
# on the master (staff see the cell); collect holds such a row (STRICT_ON_RETURN).
ACTUAL_TARGET_NOTE = _type(
    "actual-target-note", WARNING,
    "実績値「{value}」に、目標の書き方の注記「（{note}）」が付いています（目標値を写した可能性があります。"
    "このままでは、注記を除いた値を実績値として評価します）",
    "実績値には、実際の実績だけを、目標の注記（毎年度・何年度までなど）を付けずに入力してください")
ACTUAL_OTHER_YEAR = _type("actual-other-year", ERROR, "実績値「{value}」は{year}の値です（対象年度は {fiscal_year}年度）",
                          "対象年度の実績値を入力してください。まだ集計されていなければ「（未集計）」と入力してください")
UNUSED_TOTAL = _type("unused-total", WARNING,
                     "実績値（手入力）「{value}」は使われません（集計方法「{method}」は市町村シートの値から計算します。"
                     "市町村シートにまだ値がないため未集計です）",
                     "市町村シートに値を入力してください。手入力の値で評価するときは、集計方法を「手入力」にしてください")
REPLACED_STATUS = _type("replaced-status", WARNING,
                        "{municipality}の実施状況「{value}」は一覧に載りません（指標シートの実施状況（手入力）"
                        "{manual} が代わりに載ります）",
                        "一覧に載せるときは、{manual} を空にするか、その文に含めてください")
BREAKDOWN_MISMATCH = _type(
    "breakdown-mismatch", ERROR, "実績値（手入力）「{value}」が市町村シートの合計 {total:,} と一致しません",
    "実績値（手入力）を空にする（市町村の合計を使う）か、市町村シートの値を直してください")
# A master whose 指標 has no indicator row (a new one from `renkei-xl init`): 入力チェック said
# 「エラー 0 件、警告 0 件」 and 評価を再計算 「評価できる指標がありません」, exit 0, as if done.
NO_INDICATORS = _type(
    "no-indicators", WARNING,
    "シート「{name}」に指標が 1 つもありません。{first} の行から 1 行に 1 指標ずつ、"
    + "・".join(INDICATOR_HEADERS[f] for f in INDICATOR_REQUIRED) + "を入力してください（入力するまで、評価できる指標がありません）",
    "事業No・連携事業名・事業概要・基準値・評価方法も入れると一覧が整います。市町村シートには、その市町村が報告する"
    "指標ID の行を入力します")
PAST_TARGET = _type(
    "target-year-past", WARNING,
    "目標値「{target}」の年度（{year}年度）は対象年度（{fiscal_year}年度）より前です。目標の見直しが必要です",
    "新しい目標値（と期限）を入力してください。評価しない場合は評価方法を「参考」にしてください")

# ------------------------------------------------------------------------ municipality sheets

# A 指標ID that is no ID: a date or time (Excel turns 「4-1」 typed into a 標準 cell into 4月1日)
# or a dash alone. It was taken as the ID, so the municipalities' rows of the real ID were
# 「not on 指標」 and the cause was named nowhere.
ODD_ID = _type("odd-id", ERROR, "指標ID「{id}」は{what}", "{how}")
ODD_ID_DATE = ("日付・時刻として保存されています（Excel は「4-1」のような入力を日付にします）",
               "セルの表示形式を「文字列」にしてから入力し直すか、先頭に「'」を付けて「'04-1」のように入力してください")
ODD_ID_DASH = ("値がないことを表す記号です", "指標IDを入力してください（この行を使わないときは行を削除してください）")
# A boolean (TRUE/FALSE typed into a 標準 cell, a comparison formula's result, a checkbox's
# linked cell) was taken as the ID 「FALSE」 the same way.
ODD_ID_BOOL = ("論理値（TRUE/FALSE）です（Excel は TRUE・FALSE の入力や比較の数式の結果を論理値にします）",
               "指標IDを入力してください（数式のセルなら、その数式が指標IDを返すように直してください）")
UNKNOWN_ID = _type("unknown-id", ERROR, "指標ID「{id}」は指標シートにありません{like}", "指標シートの指標IDと同じにしてください")
# A dash alone (「－」 「―」 「ー」 …, values.dash_mark) where a figure is reported: the list's
# own marks for "none", so read as an empty cell, never as 0 nor as a word; but whether the
# municipality meant 0, not yet counted or nothing to report is theirs to say, so it is said.
DASH_AS_EMPTY = _type(
    "dash-as-empty", WARNING,
    "{label}「{value}」は値がないことを表す記号のため、空欄（報告なし）として扱います",
    "実績が 0 のときは 0 を、まだ集計できていないときは「（未集計）」を入力してください。"
    "報告することがないときは、空欄のままにしてください")
MISSING_DENOMINATOR = _type("missing-denominator", ERROR, "比率の指標には 0 より大きい分母が必要です",
                            "分母の数値を入力してください")
# A 比率 row's 分母 that its input file issued locked: the row was another 集計方法's at the
# split (a 分母 is open only on a 比率's), so MISSING_DENOMINATOR's 「分母の数値を入力して
# ください」 sent the municipality to a cell Excel refuses to take.
CLOSED_DENOMINATOR = _type("closed-denominator", ERROR,
                           "配布した後で集計方法が「比率」に変わった指標です。このファイルでは分母のセルが保護されていて、"
                           "分母を入力できません",
                           "入力用ファイルを配布し直して送ってもらうか、市町村に分母を確かめてマスターに直接入力してください")
PERCENT_AS_FRACTION = _type("percent-as-fraction", ERROR,
                            "「{value}」は、「{percent}」と入力したときに Excel が保存する値と同じです"
                            "（この欄は % の数で数えます。{value}% なのか {percent} なのか決められません）",
                            "% の数だけを入力してください（{percent} なら {number}）")
# 比率 is a share (就職者数／参加者数: the 分子 are counted among the 分母), so neither cell is
# itself a share and the 分子 cannot exceed the 分母 of its row.
RATIO_OVER_WHOLE = _type("ratio-over-whole", ERROR,
                         "比率の実績値（分子）「{value}」が分母「{denominator}」より大きく、割合が 100% を超えます",
                         "分子は分母の中の数です（例: 参加者 143 人のうち就職者 90 人）。実績値と分母を確かめてください")
# This year's 実績値 ten times last year's or more, or a tenth or less: most often a digit
# or a unit typed wrong (3,676 as 36,760; 千人 as 人). A warning: a new event can grow so.
PREVIOUS_JUMP = _type(
    "previous-year-jump", WARNING,
    "実績値「{value}」は前年度の実績（{previous}）の{times}です",
    "桁（0 の数）や単位（千・万）を確かめてください。誤りでなければ、このままで構いません")
RATIO_DENOMINATOR = _type("ratio-denominator", ERROR,
                          "比率の分母には数（人数・件数など）を入力します。「{value}」は{what}",
                          "分母の数を整数で入力してください（割合は、市町村ごとの分子と分母から計算します）")
RATIO_NUMERATOR = _type("ratio-numerator", ERROR,
                        "比率の実績値には分子の数（人数・件数など）を入力します。「{value}」は割合のようです",
                        "分子の数を入力してください（割合は、市町村ごとの分子と分母から計算します）")
MISSING_NUMERATOR = _type("missing-numerator", ERROR, "比率の指標で、分母「{value}」はありますが実績値（分子）が空です",
                          "実績値（分子の数）を入力してください（該当がなければ 0）。報告しない場合は分母も空にしてください")
# The findings at a 比率's 実績値 cell that quote the 分母 beside it: the one place that knows
# a finding quotes a cell other than its own (collect's as_shown gives each quote what its
# own cell shows, and a 分母 of 2.50 must not lend its look to a 実績値 of 2.5).
QUOTES_DENOMINATOR = frozenset({RATIO_OVER_WHOLE.code, MISSING_NUMERATOR.code})
NOT_A_STATE = _type("not-a-state", ERROR, "「{value}」は状態（維持・常時など）ではありません",
                    "維持、常時、実施 などの状態を入力してください")
NOT_A_NUMBER = _type("not-a-number", ERROR, "数値を入力するセルに「{value}」と入力されています",
                     "数値だけを入力してください（例: 12 または 12件）")
# A state word that is another state than the target's (「常時」 for 「維持」): whether it meets
# the target the words do not say (rules.unanswered), so the row is not judged by a guess.
STATE_UNANSWERED = _type(
    "state-unanswered", ERROR, "{label}「{value}」が目標「{target}」を満たしたかどうか、言葉からは決められません",
    "満たしたなら「{target}」、満たさなかったなら「未実施」「実施なし」などを入力してください"
    "（目標のほうが違うときは、指標シートの目標値を直してください）")
NEGATIVE = _type("negative", ERROR, "{label}「{value}」は負の値です", "0 以上の値を入力してください（▲・△・－ は負の数を表します）")
FRACTIONAL_COUNT = _type("fractional-count", ERROR, "{label}「{value}」は件数・人数なのに小数です", "整数で入力してください")
# A municipality's rows that cannot be read (its sheet missing, its header unreadable) make
# every indicator it reports －: which municipality each is of, unread_sheets says
# (pipeline.unread_municipalities, contract_read.missing_rows, collect).
MISSING_SHEET = _type("missing-sheet", ERROR, "市町村「{municipality}」のシートがありません{near}",
                      "設定の市町村名とシート名を同じにしてください（連携から外れた市町村なら、設定の市町村一覧から"
                      "その行を削除してください）")


def missing_sheet(muni: Municipality, near: str) -> Finding:
    """MISSING_SHEET placed on 設定's 市町村名 cell of ``muni``, the cell staff put right (or
    the sheet they rename, which the hint says): placed on the sheet that is not there, it had
    no cell to link to, and a number or a date typed as the name (「45382」) sent staff looking
    for a sheet rather than at 設定!A11 (qa-133). A record without cells keeps the old place."""
    cell = muni.cell("name")
    return MISSING_SHEET.at(SETTINGS if cell else muni.name, cell, municipality=muni.name, near=near)


def unread_sheets(municipalities: Sequence[Municipality], findings: Sequence[Finding]) -> dict[str, Finding]:
    """Municipality name → the error finding that its sheet cannot be read: MISSING_SHEET
    where ``missing_sheet`` puts it, MISSING_HEADER on the municipality's own sheet."""
    missing = {(f.sheet, f.cell): f for f in findings if f.is_error and f.type == MISSING_SHEET.code}
    header = {f.sheet: f for f in findings if f.is_error and f.type == MISSING_HEADER.code}
    out: dict[str, Finding] = {}
    for muni in municipalities:
        cell = muni.cell("name")
        found = missing.get((SETTINGS, cell) if cell else (muni.name, "")) or header.get(muni.name)
        if found is not None:
            out[muni.name] = found
    return out
# A sheet laid out as a municipality's (指標ID and 実績値 headers) that 設定 does not list:
# a partner whose 設定 row was removed, or whose name was typed differently there. Its
# numbers are in no total, so 入力チェック says so rather than leave them out in silence.
UNLISTED_SHEET = _type("unlisted-sheet", WARNING,
                       "シート「{name}」は市町村シートの形ですが、設定の市町村一覧にないため集計されません"
                       "（入力のある行 {filled} 件）",
                       "この市町村を集計するなら、設定の市町村一覧に「{name}」をシート名と同じ名前で追加してください。"
                       "連携から外れた市町村なら、シートを削除してください。設定で名前を変えた（合併・表記の訂正）なら、"
                       "シート名も同じ名前に変えてください")
# A municipality sheet whose every answer is an earlier sheet's (core.copied_sheets): a sheet
# copied in Excel for a new partner and not emptied publishes the other's numbers as its own.
# The sentence after the pair: split's caution names the pair without it (distribute._copied).
COPIED_SHEET_WHY = "（一方のシートをコピーして作ったなら、コピー元の市町村の値がもう一方の値としても集計されます）"
COPIED_SHEET = _type("copied-sheet", WARNING,
                     "シート「{name}」とシート「{other}」は、入力のある {count} 行がすべて同じです" + COPIED_SHEET_WHY,
                     "一方のシートを他方からコピーして作ったなら、その市町村の実績値・分母・実施状況（と前年度実績）を消してから、"
                     "その市町村の値を入力してください。本当に同じ値なら、この警告はそのままで構いません")
MISSING_ROW = _type("missing-row", WARNING, "{municipality}のシートに指標「{id}」（{name}）の行がありません",
                    "{municipality}も報告する指標なら、シートの表に行を追加して指標ID「{id}」を入力してください（行がないと"
                    "{municipality}の値は入らず、配布する入力用ファイルにもその行がありません）")
MISSING_HEADER = _type("missing-header", ERROR, "{reason}", "見出し行（指標ID、実績値 など）を元に戻してください")

# ---------------------------------------------------------------------------- returned files
# A returned cell against the value split issued and the master's value now
# (renkei_xl.cycle.collect.since_issue.changed_since_issue).

CHANGED_ON_BOTH_SIDES = _type(
    "changed-on-both-sides", ERROR,
    "配布した後でマスターの{label}が{issued}から{master}に直され、回答でも{returned}に変わっています。"
    "どちらが正しいか、このツールには決められません",
    "市町村に確かめて、正しい値をマスターに入力してください")
# A row staff added to a municipality sheet after the split (a new indicator): the return,
# issued without it, is taken for the rows it holds, and the new row named as not answered.
ROW_ADDED_SINCE_SPLIT = _type(
    "row-added-since-split", WARNING,
    "配布した後でマスターの市町村シートに加わった行です（マスターの {master_cell}）。このファイルにはこの行がないため、"
    "{municipality}の値は入っていません（ほかの行は取り込みました）",
    "入力用ファイルを配布し直して送ってもらうか、{municipality}に確かめてマスターに直接入力してください")
KEPT_CORRECTION = _type(
    "kept-master-correction", WARNING,
    "配布した後でマスターで直した{label}{master}を残しました（回答ではこのセルは配布時の{issued}のままでした）")
# A label of a returned row (連携事業名, 評価指標) that differs from the text split issued it
# with (the hidden 配布時の… column, sealed from template version "3" on): typed into once
# the protection was lifted (it has no password), a note (「…（うち2件は見込み）」), a
# correction or a cleared cell. collect imports the input cells only, so the file was taken
# and the text lost without a word; 指標 is no reference (staff may reword an indicator after
# the split). A warning, not a refusal: the answers of the row are the municipality's and are
# taken, and the typed text is said here, quoted, so nothing is lost unseen (label_changed).
LABEL_CHANGED = _type(
    "returned-label-changed", WARNING,
    "{label}が配布時と違います: {edit}。取り込むのは実績値・分母・実施状況だけで、{label}の文は取り込みません"
    "（マスターは変わりません）。市町村のメモなら内容を確かめ、回答に関わること（見込みの値など）は市町村に確かめて"
    "マスターに直接入力してください",
    "{label}を直すときは、指標シートの{label}を直してください（配布した文は市町村の側では変えられません）")
# How much of a label's typed text LABEL_CHANGED quotes: a note is short, and the line names
# the file and cell where the whole text stays.
LABEL_QUOTED = 100


def label_changed(sheet: str, cell: str, indicator_id: str, *, label: str, issued: str, returned: str) -> Finding:
    """LABEL_CHANGED, quoting what was typed: only what was added where the issued text is kept
    whole before or after it (a note appended to a long 評価指標 was cut off in a quote of the
    whole text), else the new text with the issued one."""
    if not returned:
        edit = f"空欄にされています（配布時は「{shown(issued)}」）"
    elif not issued:
        edit = f"「{shown(returned, LABEL_QUOTED)}」と入力されています（配布時は空欄）"
    elif returned.startswith(issued):
        edit = f"配布時の文の後に「{shown(returned[len(issued):], LABEL_QUOTED)}」が書き足されています"
    elif returned.endswith(issued):
        edit = f"配布時の文の前に「{shown(returned[:-len(issued)], LABEL_QUOTED)}」が書き足されています"
    else:
        edit = f"「{shown(returned, LABEL_QUOTED)}」に書き換えられています（配布時は「{shown(issued)}」）"
    return LABEL_CHANGED.at(sheet, cell, indicator_id, label=label, edit=edit)

# ------------------------------------------------------------------------------ consolidation

# A 状態 row's state that differs from the other municipalities' (methods.agreed_state): on
# the municipality's cell, which is where the difference is to be settled.
STATE_DISAGREES = _type("state-disagrees", ERROR,
                        "{municipality}の状態「{value}」がほかの市町村と違います。{reason}",
                        "市町村に確かめて、同じ状態にそろえてください（状態の指標は、全市町村が同じ状態のときに評価します）")
STATE_SPACE = _type("state-space", ERROR, "状態「{value}」の中に空白があります",
                    "空白を除いて「{joined}」のように入力してください（空白のある言葉は別の状態として扱われ、"
                    "ほかの市町村と一致しません）")
UNITS_DIFFER = _type("units-differ", ERROR, "{municipality}の「{value}」: {reason}",
                     "市町村に確かめて、同じ単位で入力してください（合計は同じものを数える単位の数だけを足し、比率は同じものを数える単位どうしで割ります）")
CONSOLIDATION = _type("consolidation", ERROR, "集計できません: {reason}", "市町村シートの値を確認してください")

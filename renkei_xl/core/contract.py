"""The master workbook contract: sheet names, header texts and defined names.

Columns are found by their header text, never by position, so staff can insert and
reorder columns; the only positions fixed here are those of sheets the tool owns. This
module is plain data with no Excel library, shared by the builder, the reader, the
writers and the xlwings entry points.
"""

from __future__ import annotations

MENU = "メニュー"
SETTINGS = "設定"
INDICATORS = "指標"
LIST = "一覧"
SUMMARY = "集計"
# The titles of the charts the tool draws on 集計 (core.sheet_summary, core.history): a chart
# with another title on a sheet the tool rebuilds is the staff's own, named when the rebuild
# drops it (core.list_notes.dropped_charts).
SUMMARY_CHART_TITLE = "評価の内訳（全体）"
YEAR_CHART_TITLE = "達成割合の推移"
TOOL_CHART_TITLES = (SUMMARY_CHART_TITLE, YEAR_CHART_TITLE)
# The name every face gives the chart titled ``title`` (the drawing's shape name, Excel's
# ChartObject.Name): the server's VBA client finds the last run's chart by it and deletes that
# one alone (RenkeiServer.bas' renkeiAddChart), so a click draws it once and never touches a
# chart of the staff's; a chart an older version drew under Excel's own name is known by its title.
TOOL_CHART_PREFIX = "renkei-xl "


def tool_chart_name(title: str) -> str:
    """One name per tool chart, the same whichever face drew it (a second click finds it)."""
    return TOOL_CHART_PREFIX + title


FINDINGS = "検証結果"
IMPORT_LOG = "取込履歴"
XLWINGS_CONF = "xlwings.conf"

# A master is an .xlsx, or an .xlsm when it carries the buttons.
MASTER_SUFFIXES = (".xlsx", ".xlsm")
MACRO_SUFFIX = ".xlsm"
# The folders beside the master the buttons (and the server) use, and the menu's commands
# (split --outdir 配布用): collect names a return as split named it in SPLIT_DIR.
SPLIT_DIR = "配布用"
COLLECT_DIR = "回収"
EXPORT_DIR = "確定版"


def suffix_problem(name: str, what: str = "ブック") -> str:
    """The Japanese sentence for a file name a master cannot have, or "" when it can."""
    if name.lower().endswith(MASTER_SUFFIXES):
        return ""
    return f"{what}「{name}」の拡張子は .xlsx（マクロなし）か .xlsm（ボタン付き）にしてください"


# Spreadsheets that are not an Excel book (.xlsx/.xlsm): collect names a return saved in one,
# and a command given one as its master says what it is.
OTHER_SPREADSHEETS = (".xls", ".xlsb", ".xltx", ".xltm", ".csv", ".ods", ".numbers", ".et")
TEXT_TABLES = (".csv", ".tsv", ".txt")


# What a file is by its content (package.zipped.content_suffix tells it by the bytes), as staff
# know the kinds from Excel's 「ファイルの種類」.
CONTENT_KINDS = {".xlsm": "Excel マクロ有効ブック", ".xlsx": "Excel ブック", ".xlsb": "Excel バイナリ ブック",
                 ".xls": "古い形式（Excel 97-2003）のブック", ".ods": "OpenDocument スプレッドシート"}


def renamed_book(name: str, content: str, again: str = "もう一度指定してください", resave: str = "") -> str:
    """The Japanese sentence for a file whose content (``content``: the extension its bytes
    say, "" when they say nothing known) is not what its name's extension says, or "". Why:
    a master renamed .xls was told 「拡張子を変えるだけでは読めません」, untrue of it, and
    one renamed between .xlsm and .xlsx opens in neither Excel nor as the master it is.
    ``again``: what follows the renaming back (a return is 「取り込んで」); ``resave``: what
    to do with a content the tool cannot read (a master's by default)."""
    suffix = name[name.rfind("."):].lower() if "." in name else ""
    if not content or content == suffix or content not in CONTENT_KINDS:
        return ""
    kind = CONTENT_KINDS[content]
    said = f"「{name}」は名前の拡張子が「{suffix or '（なし）'}」ですが、中身は{' ' if kind.isascii() or kind[0].isascii() else ''}{kind}（{content}）です。"
    if content in MASTER_SUFFIXES:
        swapped = "（.xlsx と .xlsm を取り違えたままでは、Excel でも開けません）" if suffix in MASTER_SUFFIXES else ""
        # A name with no extension (a mail system's 「ATT00001」) has nothing to change back.
        fix = f"名前の最後の「{suffix}」を「{content}」に戻して" if suffix else f"名前の最後に「{content}」を付けて"
        return said + f"{fix}から、{again}{swapped}"
    return said + (resave or "このツールは読めません。" + resave_as_master(content))


def resave_as_master(content: str) -> str:
    """How staff turn a book of another format (``content``: its extension, .xls, .ods, …)
    into a master the tool reads, in Excel and in LibreOffice Calc: staff without Excel were
    told only 「Excel で開き」. A master LibreOffice saved as .ods and then as .xlsm again
    carries an empty VBA project (measured, LibreOffice 7.4; from .xls the macros come
    through), which no command notices until a button does nothing in Excel: said here,
    with the command that puts the macros back."""
    said = ("マスターブックなら Excel で開き、「名前を付けて保存」で「Excel マクロ有効ブック（.xlsm）」として保存した"
            "ファイルを指定してください（LibreOffice Calc では「ファイル」→「名前を付けて保存」で、ファイルの種類"
            "「Excel 2007-365 (マクロ有効)（.xlsm）」を選んで保存します）")
    if content == ".ods":
        said += ("。.ods で保存したときにマクロ（ボタンの動き）はなくなっているため、保存した .xlsm に"
                 "「renkei-xl upgrade-macros マスター.xlsm」でマクロを入れ直してください")
    return said


def not_a_book(name: str, content: str = "") -> str:
    """The Japanese sentence for an existing file given where a master is read, or "" when its
    name is a master's and its content (``content``, as renamed_book) agrees. Not
    suffix_problem's 「拡張子は…にしてください」: renaming an .xls or a CSV to .xlsm makes no
    workbook of it, it only turns the refusal into 「壊れています」; and a master renamed to
    .xls is no .xls file: renamed_book says what it is."""
    if said := renamed_book(name, content):
        return said
    if not suffix_problem(name):
        return ""
    suffix = name[name.rfind("."):].lower() if "." in name else ""
    if suffix in TEXT_TABLES:
        return (f"「{name}」は CSV などの文字のファイルで、マスターブックではありません。マスターブック（.xlsm か .xlsx）"
                "を指定してください（経年の CSV は renkei-xl history import マスター.xlsm 経年.csv で取り込みます）")
    if suffix in OTHER_SPREADSHEETS:
        return (f"「{name}」は {suffix} 形式のファイルで、このツールは読めません（拡張子を変えるだけでは読めません）。"
                + resave_as_master(suffix))
    return f"「{name}」はマスターブック（.xlsm か .xlsx）ではありません。マスターブックのファイルを指定してください"

# Sheets the tool writes from scratch; everything else belongs to the staff.
TOOL_SHEETS = (MENU, LIST, SUMMARY, FINDINGS)

# Defined names (workbook scope).
N_REGION = "圏域名"
N_YEAR = "対象年度"
N_BASE_DATE = "基準日"
N_THRESHOLD = "概ね達成閾値"
N_LAST_RUN = "最終実行日時"
N_LAST_RESULT = "最終実行結果"
N_METHODS = "集計方法一覧"
N_RULES = "評価方法一覧"
N_KINDS = "区分一覧"
N_STATES = "状態一覧"
N_KPI_MARKS = "基本KPI記号"
SETTING_NAMES = (N_REGION, N_YEAR, N_BASE_DATE, N_THRESHOLD)

# 設定: the municipality table, found by its header row.
MUNI_HEADERS = {"name": "市町村名", "kind": "区分", "department": "担当部署", "email": "メールアドレス"}

# 指標: field -> header.
INDICATOR_HEADERS = {
    "id": "指標ID",
    "role": "役割",
    "project_no": "事業No",
    "project_name": "連携事業名",
    "summary": "事業概要",
    "name": "評価指標",
    "baseline": "基準値",
    "target": "目標値",
    "method": "集計方法",
    "rule": "評価方法",
    "actual_manual": "実績値（手入力）",
    "status_manual": "実施状況（手入力）",
    "is_kpi": "基本KPI",
}
INDICATOR_REQUIRED = ("id", "role", "name", "target", "method")

# Municipality sheets: field -> header.
ENTRY_HEADERS = {
    "indicator_id": "指標ID",
    "project_name": "連携事業名",
    "name": "評価指標",
    "unit": "単位",
    "value": "実績値",
    "denominator": "分母",
    "status": "実施状況",
}
ENTRY_REQUIRED = ("indicator_id", "value")
# The cells a municipality fills in (the rest of its row is the master's): unlocked and
# filled in the files split writes, read back by collect, marked with the input fill.
INPUT_FIELDS = ("value", "denominator", "status")
# The labels a municipality sheet repeats from 指標 beside each row (locked in the files split
# writes): the question's words, never read back as an answer.
LABEL_FIELDS = ("project_name", "name")
# What each input cell held when split issued the file, as text, in hidden locked columns
# after the table: collect imports only the cells the municipality changed, so a value
# staff corrected in the master after the split is not put back by an untouched row, and
# a cell both sides changed is shown, not decided (renkei_xl.cycle.collect.inspect). Files
# of template version "3" on keep the labels as issued too, after the input cells: a note
# typed into a label once the protection was lifted is then told from a label staff
# reworded in 指標 since (collect warns of it, quoting it: inspect._labels_since_issue).
ISSUED_HEADERS = {"value": "配布時の実績値", "denominator": "配布時の分母", "status": "配布時の実施状況",
                  "project_name": "配布時の連携事業名", "name": "配布時の評価指標"}
ISSUED_FIELDS = INPUT_FIELDS + LABEL_FIELDS
# Column widths of a municipality sheet, in the master and in the files split writes.
ENTRY_WIDTHS = {"indicator_id": 9, "project_name": 28, "name": 40, "unit": 8, "value": 14,
                "denominator": 10, "status": 50}

# The 基本KPI column's marks, both ways (README lists them): anything else is a finding on
# its cell, never a guess either way (「済」「o」「いいえ」 were read as not KPI). Compared after
# NFKC (contract_read.read_indicators): 「１」 「ＫＰＩ」 「０」 are 「1」 「KPI」 「0」 in full width,
# and 「０」 on a judged row made it 「－」 with an error; no mark here changes under NFKC.
KPI_MARK = "○"
KPI_MARKS_SHOWN = (KPI_MARK, "◯", "〇", "●", "✓", "はい", "1", "TRUE", "KPI", "基本KPI")   # in messages, in this order
KPI_TRUE = frozenset(KPI_MARKS_SHOWN + ("True", "true"))
KPI_FALSE = {"", "FALSE", "False", "false", "0"}

# Header rows are searched for in the first rows, so a sheet may carry instructions above.
HEADER_SEARCH_ROWS = 20

# 一覧 columns (tool-owned, so fixed): header texts in order.
LIST_COLUMNS = ("役割", "連携事業名", "事業概要", "評価指標", "基準値", "目標値", "実績値", "評価",
                "連携事業実施状況等（３月末時点）", "指標ID", "達成率")
LIST_SYMBOL_COL = LIST_COLUMNS.index("評価")      # 0-based
LIST_ACTUAL_COL = LIST_COLUMNS.index("実績値")
LIST_RATE_COL = LIST_COLUMNS.index("達成率")
LIST_ID_COL = LIST_COLUMNS.index("指標ID")
LIST_STATUS_COL = LIST_COLUMNS.index("連携事業実施状況等（３月末時点）")

_STATUS_HEAD = ("連携事業実施状況等（", "時点）")
_WIDE_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


def status_head(base_date=None) -> str:
    """The 連携事業実施状況等 header as of 設定's 基準日, worded as the printed list words it:
    「（３月末時点）」 for 2024-03-31 (and for no 基準日: 年度末), 「（９月末時点）」 for a
    mid-year list as of 2023-09-30, 「（１２月１５日時点）」 for a day that ends no month. It
    was always 「（３月末時点）」, while the input files sent for the same figures said
    「2023年9月30日時点」: a list published mid-year was dated the end of the year."""
    if base_date is None:
        return LIST_COLUMNS[LIST_STATUS_COL]
    import datetime as _dt   # here: everything imports this module, it imports nothing

    wide = lambda n: str(n).translate(_WIDE_DIGITS)   # noqa: E731
    day = "末" if (base_date + _dt.timedelta(days=1)).day == 1 else f"{wide(base_date.day)}日"
    return f"{_STATUS_HEAD[0]}{wide(base_date.month)}月{day}{_STATUS_HEAD[1]}"


def list_columns(base_date=None) -> tuple[str, ...]:
    """一覧's header texts for 設定's 基準日 (``status_head``); LIST_COLUMNS for the year's end."""
    head = status_head(base_date)
    return LIST_COLUMNS[:LIST_STATUS_COL] + (head,) + LIST_COLUMNS[LIST_STATUS_COL + 1:]


def list_head(value: str) -> str:
    """A header text of an 一覧 as LIST_COLUMNS names it: the status header of any 基準日
    is the one column (an 一覧 written before 基準日 moved is still the tool's)."""
    if value.startswith(_STATUS_HEAD[0]) and value.endswith(_STATUS_HEAD[1]):
        return LIST_COLUMNS[LIST_STATUS_COL]
    return value


FINDING_COLUMNS = ("重大度", "シート", "セル", "指標ID", "内容", "修正のヒント")

INPUT_FILL = "FFFBE5"  # pale cream on unlocked input cells: "type here", unlike □'s FFEB9C (looks.SYMBOL_FILLS)
MARK_FILL = "FF9999"   # cells named by 検証結果; a colour staff are unlikely to use themselves
HEADER_FILL = "DDEBF7"  # pale blue header rows: far from the symbol fills and MARK_FILL
KPI_FILL = "F2F2F2"     # 【基本KPI】 rows of 一覧
REFERENCE_FILL = "F2F2F2"  # cells shown for reference, not typed into (基準値, 目標値, 前年度実績)
DATA_BAR = "63BE7B"     # 達成率 data bar on 一覧
LINK_COLOR = "0563C1"
ERROR_COLOR = "C00000"
DATETIME_FORMAT = "yyyy/mm/dd hh:mm:ss"
RATE_FORMAT = "0.0%"

# 検証結果's last column: the fill each marked cell had before the mark, so that the next
# run can give it back. Kept in the tool's own sheet because the live face (the remote
# engine) cannot read colours, and a file written by Excel may renumber its styles.
FINDING_BEFORE_COLUMN = "元の塗り"
NO_FILL = "なし"

# What each button is called: its caption, the title of its messages and of the メニュー status.
CHECK = "入力チェック"
RECALC = "評価を再計算"
SPLIT = "配布用ファイル作成"
COLLECT = "回収ファイル取込"
EXPORT = "確定版を書き出し"
ROLLOVER = "次年度のマスターを作成"
# No button: `renkei-xl history import` (a CSV, or an earlier year's master), named in messages.
HISTORY_IMPORT = "経年の取り込み"
BUTTONS = (  # (caption, VBA macro, what it does)
    (CHECK, "Renkei.RenkeiCheck", "指標と市町村シートの入力を確認し、検証結果に一覧にします"),
    (RECALC, "Renkei.RenkeiRecalc", "市町村シートを集約し、評価を計算して一覧・集計を作り直します"),
    (SPLIT, "Renkei.RenkeiSplit", "市町村ごとの入力用ファイルを作ります"),
    (COLLECT, "Renkei.RenkeiCollect", "市町村から戻ったファイルを確認して取り込みます"),
    (EXPORT, "Renkei.RenkeiExport", "一覧と集計を値だけのファイル（と PDF）に書き出します"),
    (ROLLOVER, "Renkei.RenkeiRollover", "次の年度のマスターを別のファイルに作ります（このブックは変更しません）"),
)
# The buttons that write into the open workbook (検証結果, 一覧, 集計, the imported cells). The
# others make files from the saved master and leave the book as it is (README「保存していない
# 変更」): the server holds them to the saved file (server.admission), and a legacy shared
# workbook, where Excel lifts no protection and merges no cells, refuses only these (both
# faces: excel.buttons._run, RenkeiServer.bas' BOOK_WRITERS by their Renkei.bas entries).
BOOK_WRITERS = frozenset({CHECK, RECALC, COLLECT})


def named(caption: str) -> str:
    """A caption inside a sentence, in 「」: two captions end in を + verb (評価を再計算,
    次年度のマスターを作成), so a bare caption before を/は reads 「評価を再計算を中止しました」.
    Quoted, every caption is a name and every sentence stays Japanese."""
    return f"「{caption}」"


# What staff read when Excel stopped a click partway through its writes: the same words as
# the start of RenkeiServer.bas' MSG_FAILED_2 on the server's buttons (tests/test_excel_limits.py
# holds them so), so that neither face's half-written book is saved as if it were finished.
PARTLY_WRITTEN = ("ブックの一部だけが書き換えられた可能性があります。ブックを保存せずに閉じて開き直し、"
                  "もう一度ボタンを押してください。")


def under_way_line(caption: str) -> str:
    """メニュー's 最終実行結果 while a click writes, on a face whose writes reach the book one
    at a time (core.plan.under_way_cells): the click's last write replaces it with the run's
    status, so a book that still shows it was stopped partway, and says so to whoever opens
    it, after the click's message box is gone (qa-126, client-126)."""
    return (f"{named(caption)}を実行中：この表示が残っている場合、処理は途中で止まっています。"
            "ブックを保存せずに閉じて開き直し、もう一度ボタンを押してください。")


def stopped(caption: str) -> str:
    """The one sentence a stopped click starts with, for every caption and every face."""
    return f"{named(caption)}を中止しました。"


def _places_listed(places: list[str]) -> str:
    """The cells a write refusal names: the first ten, then how many more (a plan over a
    20,000-row sheet may meet thousands; the message stays a message). Ten, not values.LISTED:
    the master's own macros list the cells they refuse the same way (RenkeiServer.bas'
    WRITTEN_SHOWN, held equal by tests/test_vba_static.py), and a master's macros are not
    changed by a new version of the tool."""
    from .values import listed
    return listed(places, "か所", limit=10)


def array_cells_message(places: list[str], again: str) -> str:
    """Why a write into an array formula's cells (Excel's {=…}) stops, on both faces:
    Excel refuses it from a button (1004, 「配列の一部を変更することはできません」), and in the
    file the formula would be dropped with its first cell or overwrite the value at Excel's
    next calculation. The formula is staff's to take away; ``again``: how to run it again."""
    shown = _places_listed(places)
    return (f"{shown} は配列数式（{{=…}}）の範囲にあるため、値を書き込めません。ブックは変更していません。"
            f"配列数式の範囲を選んで Delete キーで数式を消してから、もう一度{again}ください")


def long_texts_message(places: list[str], again: str) -> str:
    """Why a write of a text longer than the tool writes in a cell stops, on both faces
    (WritePlan.refuse_long_texts). ``places``: 「一覧!A1（32,786文字）」."""
    from .values import CELL_TEXT_LIMIT, EXCEL_CELL_SAID

    shown = _places_listed(places)
    return (f"{shown} に書き込む文字列が、ツールが 1 つのセルに書き込める {CELL_TEXT_LIMIT:,} 文字を超えるため、"
            f"ブックは変更していません（{EXCEL_CELL_SAID}）。その文字列のもとになった"
            f"セル（設定・指標・市町村のシートの長い文字列）を短くしてから、もう一度{again}ください")


def long_sources_message(places: list[str], again: str) -> str:
    """Why a split stops on a master cell whose text no input file can hold
    (distribute._check_long_texts): the rule of ``long_texts_message``, said of the master's
    cells themselves, which are the ones to shorten. ``places``: 「指標!H9（32,767文字）」."""
    from .values import CELL_TEXT_LIMIT, EXCEL_CELL_SAID

    return (f"{_places_listed(places)} の文字列が、ツールが入力用ファイルの 1 つのセルに書き込める {CELL_TEXT_LIMIT:,} 文字を"
            f"超えるため、入力用ファイルを作成しませんでした（{EXCEL_CELL_SAID}）。"
            f"そのセルを短くしてから、もう一度{again}ください")


def merged_cells_message(places: list[str], again: str) -> str:
    """Why a write into the hidden part of a merged area (any cell of it but the first) stops,
    on both faces: Excel refuses it from a button (1004, 「結合したセルの一部を変更することは
    できません」) halfway through a click, and in the file it would put a value no one sees
    under the area (findings.MASTER_MERGED_INPUT). ``places``: 「小樽市!E5（E4:E5）」;
    ``again``: how to run it again. Unmerging is staff's (which row's value the area means)."""
    shown = _places_listed(places)
    return (f"{shown} は結合したセルの左上以外のセルのため、値を書き込めません。ブックは変更していません。"
            "「ホーム」→「セルを結合して中央揃え」の▼→「セル結合の解除」で結合を解除し、行ごとの値を確かめてから、"
            f"もう一度{again}ください")


def merged_run_message(places: list[str], again: str) -> str:
    """Why a click stops where a value goes into the first cell of an area staff merged after
    the last save, written with its neighbours in one range (RenkeiServer.bas' check of the
    cells written, excel.client.written_ranges): Excel refuses a range covering part of a merged
    area (1004) halfway through the click. The server writes around a merge it knows (the saved
    master's, cell by cell: excel.apply._write_run), so saving is enough; unmerging is too.
    ``places``: 「小樽市!E4（E4:E5）」; ``again``: how to run it again."""
    shown = _places_listed(places)
    return (f"{shown} は保存した後に結合したセルのため、となりのセルとまとめて値を書き込めません"
            "（Excel は結合したセルの一部だけを含む範囲には書き込めません）。ブックは変更していません。"
            f"ブックを上書き保存してから（または「セル結合の解除」で結合を解除してから）、もう一度{again}ください")


def data_table_message(places: list[str], again: str) -> str:
    """Why a write into a What-If data table's results (「データ テーブル」, {=TABLE(…)}) stops,
    on both faces: Excel refuses it from a button (1004, 「データ テーブルの一部を変更することは
    できません」), and in the file the table would be dropped with its first cell or overwrite
    the value at Excel's next calculation. The table is staff's to take away; ``again``: how
    to run it again."""
    shown = _places_listed(places)
    return (f"{shown} はデータ テーブル（{{=TABLE(…)}}）の範囲にあるため、値を書き込めません。ブックは変更していません。"
            f"データ テーブルの計算結果のセルをすべて選んで Delete キーで消すか、表を別の場所に移してから、もう一度{again}ください")


def locked_structure_message(names: list[str], again: str) -> str:
    """Why a write that must add a tool's sheet (one staff deleted, or 次の一歩, 経年, 取込履歴
    written for the first time) stops where the book's structure is protected (「ブックの保護」,
    lockStructure, with or without a password): Excel adds no sheet there (1004), so neither
    face does, and the file face does not do in the file what Excel's user could not.
    ``again``: how to run it again."""
    shown = "」「".join(names)
    return (f"シート「{shown}」がないため作り直す必要がありますが、ブックの構成が保護されていてシートを追加できません。"
            "ブックは変更していません。「校閲」→「ブックの保護」で構成の保護を外してから、もう一度"
            f"{again}ください（作り終えたら、また保護してかまいません）")


def tab_taken_message(names: list[str], again: str) -> str:
    """Why a write stops where a tool's sheet must be made and a tab that is not a worksheet
    (a chart sheet, a dialog or Excel 4.0 macro sheet) already holds its name (WritePlan.
    refuse_taken): a book holds one sheet of a name, and the tool's sheet needs cells.
    ``again``: how to run it again."""
    shown, suffix = "」「".join(names), "グラフ"
    renamed = names[0][:SHEET_NAME_MAX - len(suffix)] + suffix     # a name Excel takes (31 at most)
    return (f"シート「{shown}」はグラフシートなど、セルのないシートです。ツールはこの名前のシートに一覧や集計を"
            "書き込むため、同じ名前のシートを作れません。ブックは変更していません。そのシートの名前を変えてから"
            f"（例:「{renamed}」）、もう一度{again}ください")


def shared_book_message(result: str, again: str) -> str:
    """Why a write that rebuilds a tool's sheet stops on a legacy shared workbook (「ブックの共有
    （レガシ）」, which 「変更履歴の記録」 also turns on): Excel lets no sheet be unprotected and no
    cells be merged, no conditional format or hyperlink be added there (Microsoft's list of
    what a shared workbook does not support), so a click's write would stop with 1004, and the
    file face does not write into the file what Excel's user could not (and what the book's
    revision log, which merges each user's changes at their save, knows nothing of).
    ``result``: what is not written; ``again``: how to run it again."""
    return ("このブックは「ブックの共有（レガシ）」で共有されているため、Excel がシートの保護の解除やセルの結合を"
            f"受け付けず、{result}を書き込めません。ブックは変更していません。「校閲」→「ブックの共有の解除」で共有を"
            f"やめて保存してから、もう一度{again}ください")


# The choices of 集計方法, 評価方法 and 区分 are core.methods.NAMES, choices.RULES and choices.KINDS;
# the state words, with the rules that read them, choices.STATE_CHOICES.
from .choices import STATE_CHOICES  # noqa: E402  (choices imports nothing)


def legend(threshold: float) -> str:
    """The official legend: its ％ is full-width, as the printed list has it."""
    from .values import format_percent   # here: everything imports this module, it imports nothing

    shown = format_percent(threshold, None).replace("%", "％")
    return (f"＜評価凡例＞◎：達成済み　□：概ね達成（{shown}以上）　×：達成不可　"
            "－：評価不可　―：評価時期前・未集計")


# What the official confirmed list's title ends with (the FY2023 PDF: 「…連携事業実施状況等一覧【確定版】」);
# the master's own 一覧 is the working list and goes without it.
CONFIRMED_MARK = "【確定版】"


def list_title(region: str, year: int, confirmed: bool = False) -> str:
    return f"{region} {year}年度 連携事業実施状況等一覧" + (CONFIRMED_MARK if confirmed else "")


# ------------------------------------------------------------ year after year (issue #11)
# Tool-owned sheets of the yearly cycle: 経年 (per 指標ID and year, the 実績値 and 評価) and
# 次の一歩 (what each row that is not ◎ still needs). Neither is read as a municipality sheet.
HISTORY = "経年"
NEXT_STEPS = "次の一歩"
YEAR_SHEETS = (HISTORY, NEXT_STEPS)

# The largest master the server serves (server.limits refuses more); a built master's
# dropdowns reach that far, so a row staff add below the sample still gets its list.
SERVED_INDICATORS, SERVED_MUNICIPALITIES = 2_000, 40

# Which sheets are the tool's, said once: none of them is read as a municipality sheet or
# gets a mark, and no municipality may be named like one of them or like 設定 and 指標
# (the builder refuses it, case as Excel ignores it).
TOOL_OWNED = (*TOOL_SHEETS, *YEAR_SHEETS, IMPORT_LOG, XLWINGS_CONF)
RESERVED_SHEET_NAMES = (SETTINGS, INDICATORS, *TOOL_OWNED)
# The tool's sheets whose current content a plan carries forward (検証結果's staff notes,
# 取込履歴's rows, 経年's years, the notes staff wrote beside 一覧): both faces read them
# into MasterState.
STATE_SHEETS = (FINDINGS, IMPORT_LOG, HISTORY, LIST)

# The VBA code names of the workbook and of the tool's sheets, whichever writer adds them: the
# builder (workbook.build) and the in-place writer, which adds 経年, 次の一歩 and 取込履歴 when a
# plan first writes them (workbook.apply). Here, not in the builder: a first recalc needs them
# and need not import XlsxWriter for them.
WORKBOOK_CODE_NAME = "ThisWorkbook"
# ASCII code names: VBA binds document modules to them, and a Japanese sheet name
# cannot serve as one. Municipality sheets are numbered in 設定 order (shMuni01…).
CODE_NAMES = {
    MENU: "shMenu",
    SETTINGS: "shSettings",
    INDICATORS: "shIndicators",
    LIST: "shList",
    SUMMARY: "shSummary",
    FINDINGS: "shFindings",
    XLWINGS_CONF: "shXlConf",
    # added by the file writer when a plan first writes them (renkei_xl/workbook/apply.py)
    HISTORY: "shHistory",
    NEXT_STEPS: "shNextSteps",
    IMPORT_LOG: "shImportLog",
}
# The xlwings.conf row that names the renkei-xl server (read by Renkei.bas' RenkeiRun).
SERVER_KEY = "RENKEI_SERVER"


def is_tool_owned(sheet: str) -> bool:
    return sheet in TOOL_OWNED


# Excel's rules for a sheet name (Excel specifications and limits): a municipality's name is
# its sheet's name, so a name Excel cannot give a sheet can never be read, split or filled.
# Japanese Excel, the staff's, folds width before it applies them: over every BMP character
# (Excel 2010 and 2016, RelaxTools on Qiita, 「Excel のシート名に使えない文字について再考2017」)
# it refused the full-width ［］：＊？／＼ and ￥ (its 0x5C) as the half-width ones, and ’ ＇
# as it refuses ' at a name's ends; it reserves 履歴 as it reserves History.
SHEET_NAME_MAX, SHEET_NAME_FORBIDDEN = 31, "[]:*?/\\［］：＊？／＼￥"
SHEET_NAME_APOSTROPHES = "'’＇"
# The list sheet every input workbook carries beside its municipality's sheet (the states
# of its dropdown): a municipality of that name would make split write two sheets of one name.
INPUT_CHOICES = "選択肢"


def sheet_name_key(name: str) -> str:
    """A sheet name as Excel compares two: case and width ignored (「ﾒﾆｭｰ」 is 「メニュー」,
    「ＨＩＳＴＯＲＹ」 is 「History」), so a name that Excel takes for a sheet already there
    is never planned as another."""
    import unicodedata

    def narrow(ch: str) -> str:
        form = unicodedata.decomposition(ch)
        if form.startswith(("<wide>", "<narrow>")):
            return "".join(chr(int(code, 16)) for code in form.split()[1:])
        return ch

    return unicodedata.normalize("NFC", "".join(map(narrow, name))).lower()


# Excel keeps these for a shared book's change history (履歴 in Japanese Excel).
EXCEL_RESERVED_SHEET_NAMES = ("History", "履歴")
_TAKEN: dict = {}


def _taken() -> dict:
    """The names no municipality may have, as Excel compares them, each with whose it is
    (made on first use: the startup of a command needs none of it)."""
    if not _TAKEN:
        _TAKEN.update({sheet_name_key(n): "ツール" for n in (*RESERVED_SHEET_NAMES, INPUT_CHOICES)})
        _TAKEN.update({sheet_name_key(n): "Excel" for n in EXCEL_RESERVED_SHEET_NAMES})
    return _TAKEN


def municipality_name_problem(name: str) -> str:
    """Why ``name`` cannot be a municipality's (and its sheet's) name, "" when it can; said
    by the 設定 reader and by the builder, so no command meets such a name halfway."""
    from .values import cell_length, shown   # Excel counts a sheet name as a cell text: UTF-16 units

    if not name.strip():
        return "市町村名が空です"
    if (cell_length(name) > SHEET_NAME_MAX or any(ch in name for ch in SHEET_NAME_FORBIDDEN)
            or name[0] in SHEET_NAME_APOSTROPHES or name[-1] in SHEET_NAME_APOSTROPHES):
        # Quoted as every cell's text is (values.shown): a 32,767-character name was copied
        # into the message whole, a screenful on the command line (qa-132).
        return (f"市町村名「{shown(name)}」はシート名に使えません（Excel のシート名は {SHEET_NAME_MAX} 文字まで、"
                f"{' '.join(SHEET_NAME_FORBIDDEN)} を含まず、' ’ で始まり・終わらないこと）")
    whose = _taken().get(sheet_name_key(name))
    if whose:
        return f"市町村名「{name}」は{whose}が使うシート名と同じです。別の名前にしてください"
    return _unseen_in_name(name)


def _unseen_in_name(name: str) -> str:
    """Why ``name`` holds a character that shows as nothing, "" when it holds none. 「長沼町」
    with a zero-width space or a BOM pasted into it (or 「長沼」 Alt+Enter 「町」, which a cell
    without 折り返し shows on one line) looks like the 長沼町 whose sheet is there: 入力チェック
    said 「市町村「長沼町」のシートがありません」 beside 「シート「長沼町」は…市町村一覧にない」, and
    split refused naming no cell. The name also goes into sheet, file and mail subject names."""
    import unicodedata

    from .values import SELECTORS, unseen_char, unseen_kind

    for k, ch in enumerate(name, start=1):
        if ch in "\t\n\r" or unicodedata.category(ch) in ("Zl", "Zp"):
            what = "改行（Alt+Enter）" if ch in "\r\n" else f"改行・タブにあたる見えない文字（U+{ord(ch):04X}）"
        elif unseen_char(ch) and ch not in SELECTORS:
            what = f"{unseen_kind(ch)}（U+{ord(ch):04X}）"
        else:
            continue
        seen = "".join(x for x in name if not (x in "\t\n\r" or unseen_char(x) or unicodedata.category(x) in ("Zl", "Zp")))
        return (f"市町村名「{seen}」の {k} 文字目に{what}が入っています。画面では同じに見えても、シート名・"
                "ファイル名とは別の名前になります。セルを選んで市町村名を入力し直してください")
    return ""


# The column rollover adds after the staff's columns of 指標 and each municipality sheet:
# last year's value beside each row, for reference (e.g. 「前年度実績（2023年度）」).
PREVIOUS_HEADER = "前年度実績（{year}年度）"
PREVIOUS_HEADER_PREFIX = "前年度実績（"


def last_years_header(fiscal_year: int) -> str:
    """The 前年度実績 column a master of ``fiscal_year`` shows when rollover made it: what
    入力チェック compares 実績値 with, and what collect keeps a return from writing over."""
    return PREVIOUS_HEADER.format(year=fiscal_year - 1)

# 設定: the folder the renkei-xl server works in for this master (配布用, 回収 and 確定版
# beside the master there), relative to the server's work folder. Optional: only masters
# whose buttons call a server need it (renkei_xl.server.place).
N_SERVER_FOLDER = "サーバー作業フォルダー"

"""Japanese 基準値／目標値／実績値 strings as staff type them, parsed into plain values.

A value is a number with unit and multiplier (「1億408万円」, 「31千人」, 「▲2,805人」,
「１回／年」), a status word (常時, 維持, 未構築, 各１回以上 …), a bare deadline
(「2023年度まで」「2025年度中」「令和6年3月末まで」「2024/3/31まで」「2025年度上期まで」) or nothing (「－」, 「（未集計）」), followed by bracketed notes
(「（毎年度）」「（2023年度まで）」「（2017年度）」「（把握可能分）」).

Parsing never guesses: text we cannot read raises ValueParseError with a Japanese
reason (and a finding type in ``code``) that validation shows next to the cell.

Two strictnesses. ``parse_value`` reads every column (基準値, 目標値, 実績値) and refuses
approximations (「約10件」「10件程度」「10件（見込み）」), open ranges other than 以上
(「10件以下」「5未満」「10超」「10以内」), control characters, values longer than
MAX_VALUE_CHARS and numbers of more than MAX_DIGITS digits. A target may say 「15社以上」
or 「２人以上（毎年度）」: that is how targets are written. ``parse_input`` is for what staff
report (municipality 実績値／分母, 指標's 実績値（手入力）): a report is one figure, so it also
refuses 「10件以上」 and numbers from 1,000兆 (10^15, past Excel's 15 exact digits) up.
「各１回以上実施」 stays readable as an input: it is a status phrase ("each held at least
once") answering the target 「各１回以上」, not a bound on a number.

Every check is linear in the text and the text is capped first, so hostile cells
(100,000 digits, thousands of brackets) cost nothing. The kanji-multiplier arithmetic is written
here rather than taken from kanjize because kanjize rejects units, commas, ▲, decimals
like 「43.9万」 and full-width digits, which is exactly what the list contains.
"""

# No ``from __future__ import annotations``: typing.NamedTuple compiles each string
# annotation (a ForwardRef) when the module is imported, at every command's start.

import datetime as dt
import math
import re
import unicodedata
from functools import lru_cache
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Context as DecimalContext, Decimal, InvalidOperation
from fractions import Fraction
from typing import Iterable, NamedTuple, Optional, Union

from .lazy_pattern import LazyPattern
from .line_breaks import one_line
from .symbols import ACHIEVED, MISSED, NEARLY, SYMBOLS_SAID
from .choices import DONE_STATES, NOT_DONE_STATES, STATE_SPELLINGS, TARGET_STATES
from .digits import odd_digit
from .fiscal import ERA_YEAR, DateParseError, PartialDate, fiscal_year_of, parse_date, parse_fiscal_year

EMPTY = "empty"          # 「」「－」: nothing reported
UNCOUNTED = "uncounted"  # 「（未集計）」
NUMBER = "number"
STATUS = "status"
DEADLINE = "deadline"    # 「2023年度まで」 as the whole target

# Symbols that mean "no value" in a value column: a dash alone, any of those staff type
# for one (the list's － and ―, the hyphen-minus, ー, the other dashes and the minus sign),
# one or more of them. Classified on the raw text, before any normalisation (NFKC turns
# － U+FF0D into "-"). 「–」 「−」 「－－」 were unreadable values (an error) while 「－」 「—」 were
# read as empty, in silence: one class now, read as empty and said so where a report is
# read (validate: findings.DASH_AS_EMPTY). The half-width 「ｰ」 (a half-width kana IME's key
# for ー), Word's non-breaking hyphen 「‑」 and the hyphen bullet 「⁃」 were unreadable while
# 「ー」 and 「‐」 were read as empty. The one class of dash look-alikes: an 指標ID's hyphen
# (validate.id_key) and a 役割's long vowel mark (lookalike.text_key) are compared by it too.
DASH_CHARS = "－―-‐‑‒–—−ーｰ─━⁃﹣﹘⸺⸻"
DASH_MARKS = frozenset(DASH_CHARS)


# What staff type for a symbol of the list the tool computes (◎ □ ×), by the symbol it looks
# like: the one table of them. 「〇」 is also the kanji zero (it was named as one); 「Ｘ」 「ｘ」
# (the full-width letters), 「⭕」 「❌」 (what an IME offers for まる and ばつ) and the other
# white squares were 「読めません」 where 「x」 and 「☐」 said what they are. 経年 names each
# with the symbol it looks like (lookalike.symbol_hint); a value cell refuses it as a symbol.
SYMBOL_LOOKALIKES = {ACHIEVED: "○〇◯⭕●◉", NEARLY: "☐▢■◻⬜", MISSED: "✕✖✗✘☓╳❌❎☒xXｘＸ"}
# A mark alone in a value cell is a symbol, not a value: the symbols, their look-alikes and
# 「△」 alone (before a number it is the minus sign).
EVALUATION_MARKS = frozenset("".join(SYMBOL_LOOKALIKES) + "".join(SYMBOL_LOOKALIKES.values()) + "△")


def dash_mark(text: object) -> bool:
    """Whether a cell's text is a dash alone (「－」 「―」 「ー」 「--」): a mark that there is
    no value, never the number or the word it stands beside."""
    if type(text) is not str:
        return False
    t = text.strip()
    return bool(t) and DASH_MARKS.issuperset(t)

# Status words. Positive ones report that the thing is in place or done; negative ones
# report that it is not. Keys are NFKC-normalised without spaces.
# The words are choices.py's: the same ones 状態一覧 offers (with their spellings and the
# words only targets state), so the list and the rules cannot part.
POSITIVE_STATUS = frozenset(DONE_STATES + STATE_SPELLINGS + TARGET_STATES)
NEGATIVE_STATUS = frozenset(NOT_DONE_STATES)
# 「各１回」「各１回以上」「各１回以上実施」 are status words: "each programme at least once".
_EACH = re.compile(r"^各(\d+)回(以上)?(実施)?(/年度?)?$")

# Units: display form -> family. Values compare only within one family; 人 and 名 are
# both head counts and 回/年 is a yearly count of 回.
UNIT_FAMILY = {
    "": "", "件": "件", "名": "人", "人": "人", "社": "社", "校": "校", "回": "回",
    "市町村": "市町村", "%": "%", "円": "円", "人/日": "人/日", "団体": "団体", "冊": "冊",
    "園": "園", "組": "組", "か所": "か所", "箇所": "か所", "施設": "施設", "本": "本",
    # 「ヶ所」 「カ所」 「ケ所」 「ヵ所」 「個所」: one word in the spellings IMEs offer for かしょ (ヶ is
    # the abbreviation of 箇); 「5ヶ所」 against 「5か所」 was 「単位「ヶ所」を認識できません」.
    "ヶ所": "か所", "カ所": "か所", "ケ所": "か所", "ヵ所": "か所", "個所": "か所",
    "台": "台", "事業": "事業", "講座": "講座", "公演": "公演", "企業": "社", "法人": "法人",
    "店舗": "店舗", "機関": "機関", "世帯": "世帯", "戸": "戸", "t": "t", "kg": "kg",
    "ha": "ha", "km": "km", "時間": "時間", "日": "日", "ポイント": "ポイント",
    "データセット": "", "セット": "",
}


def unit_family(unit: str) -> str:
    """Units that count the same thing (人 and 名, か所 and 箇所 …) compare equal by family.
    A unit as a sheet's 単位 column holds it is folded as values are (NFKC): 「％」 and
    「人／日」, both in SPEC's list, are 「%」 and 「人/日」 (a target of 95% against a sheet
    counting in ％ was a unit error and the row －)."""
    family = UNIT_FAMILY.get(unit)
    if family is None:
        folded = unicodedata.normalize("NFKC", unit)
        family = UNIT_FAMILY.get(folded, folded)
    return family


# The note of a target met every year: 「（毎年度）」.
NOTE_ANNUAL = "annual"
# Note kinds that give a target its year: 「2025年度まで」, 「毎年度2025年度まで」, 「2023年度時点」.
NOTE_UNTIL = "until"
NOTE_ANNUAL_UNTIL = "annual-until"
NOTE_ASOF = "asof"
# 「（2023年）」: a calendar year's figure, in the 年度 of its number (its December is there).
NOTE_CALENDAR = "calendar"
DEADLINE_NOTES = (NOTE_UNTIL, NOTE_ANNUAL_UNTIL, NOTE_ASOF)

COUNT_FAMILIES = {"件", "人", "社", "校", "回", "市町村", "団体", "冊", "園", "組", "か所",
                  "施設", "本", "台", "事業", "講座", "公演", "法人", "店舗", "機関", "世帯", "戸"}

_SMALL = {"十": 10, "百": 100, "千": 1000}
_KANJI_DIGITS = "〇一二三四五六七八九"   # not read as digits (「一万」): said, rather than 「読めません」
_BIG = {"万": 10**4, "億": 10**8, "兆": 10**12}
_NUMBER = re.compile(r"^(?P<sign>[▲△-])?(?P<num>[\d,.十百千万億兆]*\d[\d,.十百千万億兆]*)(?P<rest>.*)$")
_APPROX = ("約", "およそ", "概ね", "おおむね", "程度", "前後", "見込", "ほど", "くらい", "ぐらい")
# Words that bound a number instead of stating it. 以上 is legitimate in a target only.
_BOUNDS = ("以上", "以下", "未満", "超", "以内")
_TARGET_BOUND = "以上"
# 「10～12」: two numbers, not one (after NFKC ～ is ~; 〜, the wave dash Japanese IMEs also
# give, stays itself). Read as a unit, it said 「単位「~12」を認識できません」.
_RANGE_MARKS = "～〜~"     # as typed: ～ (full width), 〜 (the wave dash), ~; NFKC leaves 〜 and ~

MAX_VALUE_CHARS = 100      # longest FY2023 value is 24 characters
MAX_DIGITS = 20            # digits in one number (27兆９千億 has 3)
INPUT_LIMIT = Decimal(10) ** 15   # 1,000兆: Excel keeps 15 significant digits
_NUMERIC_LIMIT = Decimal(10) ** MAX_DIGITS

# Excel's limit for the text of one cell, and the tool's, one less: the buttons write each
# text with Excel's text prefix (excel.book.as_excel_text), and a value assigned with it may
# hold no more than Excel's limit in all (tests/remote_payload.py holds Excel to that), so
# a text the tool writes is at most CELL_TEXT_LIMIT on both faces alike. Longer text is cut
# to it, ending with TRUNCATION_MARK so the reader sees that something is missing (never a
# silent cut), and an input longer than it is an error.
EXCEL_CELL_TEXT = 32_767
# Excel's limit as staff are told it, beside the tool's own in a refusal (one sentence).
EXCEL_CELL_SAID = f"Excel のセルには {EXCEL_CELL_TEXT:,} 文字までしか入りません"
# The number format 文字列 (Text): builtin numFmtId 49, or a custom format exactly "@". Excel
# converts nothing typed or assigned into such a cell, so the buttons write text into it
# without the text prefix (excel.book.as_excel_text), which it might keep as part of the value.
TEXT_FORMAT = "@"


def is_text_format(code: Optional[str]) -> bool:
    """Whether a cell's number format (as Excel's NumberFormat or a file's formatCode gives
    it) is Text: then a leading apostrophe is no prefix but part of the value."""
    return code == TEXT_FORMAT


CELL_TEXT_LIMIT = EXCEL_CELL_TEXT - 1
TRUNCATION_MARK = "…（以下省略）"
# What 一覧's 実績値 shows when an input that feeds it has an error (the row is
# then 評価不可 －, with the bad cell named in the reason).
INPUT_ERROR = "（入力エラー）"

# Excel's error values, as a cell shows them and as both readers hand them over: the file
# reader puts a cached error (<c t="e"><v>#REF!</v>) into its grid as this text, and xlwings
# reads them so (err_to_str). Typed as text they mean the same to staff, so both are
# classified here, once, and never read as empty or zero. After the classic seven, Excel
# 365's (Office.js' ErrorCellValueType lists #EXTERNAL! too; _ERROR_SHAPE takes any later one).
ERROR_VALUES = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
                "#SPILL!", "#CALC!", "#BLOCKED!", "#BUSY!", "#CONNECT!", "#FIELD!", "#PYTHON!", "#UNKNOWN!",
                "#EXTERNAL!")
# A cell stored as an error (<c t="e">) whose value names none (<v></v>, or no <v>, or a
# text not shaped like an error): still an error, never an empty cell nor a text. The file
# reader puts this in its grid in that cell's place (workbook.sheet_checks.cached_errors).
UNKNOWN_ERROR = "#（種類の分からないエラー値）"
# A cell holding an Excel 365 rich value: a picture placed in the cell (挿入 > 画像 >
# セルに配置, =IMAGE()) or a linked data type (株価, 地理). Saved as <c t="e" vm="1"><v>#VALUE!</v>,
# #VALUE! being what older Excel and LibreOffice show. The file reader, which sees the vm,
# puts this in its grid in that cell's place (workbook.sheet_checks.cached_errors): an error
# as any other (never empty, never zero), but named as what staff see in the cell.
RICH_VALUE = "#（セル内の画像・データの種類）"
# A formula saved without its result (a file written by openpyxl, by our own writer, by
# LibreOffice with some settings): calamine reads it as empty. Where a reader refuses cells
# by unread_value rather than by findings (経年), the file face puts this in the cell's place
# (workbook.state), so it is named as findings.NO_RESULT names it elsewhere, never read as
# a year's record gone or as nothing in 集計's year rate.
NO_RESULT_VALUE = "#（計算結果のない数式）"
_ERROR_SET = frozenset((*ERROR_VALUES, UNKNOWN_ERROR, RICH_VALUE, NO_RESULT_VALUE))
# Excel's error codes all take this shape (#N/A and #GETTING_DATA are in the list above):
# a code Excel adds later (#TIMEOUT!) is an error too, not a text to import.
_ERROR_SHAPE = LazyPattern(r"#[A-Z][A-Z0-9_./]*[!?]")
# LibreOffice Calc's own errors, as Calc shows them (「Err:502」 invalid argument, 「Err:522」 a
# circular reference, 「Err:520」 …): saved into an .xlsx as the nearest of Excel's codes, but
# written as this text into a CSV Calc saves (経年's CSV import) and pasted so from Calc. It
# was refused as a 実績値 「を数値・状態・期限のいずれとしても読めません」 or an 評価 to choose, and
# taken as a 役割 or an 評価指標, where 「#N/A」 beside it was named as the error it is.
_CALC_ERROR = LazyPattern(r"ERR:\d{3}")
_CALC_MARK = "Err:"
CELL_ERROR = "formula-error"   # Finding.type of a cell holding an error value
BOOLEAN = "boolean-value"      # Finding.type of a cell holding TRUE/FALSE where a text or value is read
RICH_VALUE_ERROR = "rich-value"   # Finding.type of a cell holding a RICH_VALUE


def error_value(value: object) -> Optional[str]:
    """The error a cell holds (「#REF!」), or None. Only text can be one: a number or a
    date never is, and an error is never mistaken for a number nor for an empty cell.
    A code not on Excel's list today but in its shape counts (Excel adds new ones), and so
    does LibreOffice's own 「Err:502」 (_CALC_ERROR), named as Calc shows it."""
    if type(value) is not str or ("#" not in value and "＃" not in value):   # most cells
        return _calc_error(value) if type(value) is str and _CALC_MARK in value else None
    if len(value) > 40:
        # The spaces around are no part of what the cell shows: 「#N/A」 padded past the bound
        # (to line a column up, or an IME's full-width spaces) was taken as the 圏域名. So are
        # characters that show as nothing (a zero-width space pasted with it), within reason.
        value = value.strip()
        if len(value) > 40 and (value.isprintable() or len(value) > _UNSEEN_BOUND
                                or len(_typed_error_key(value)) > 40):
            return None
    key = value.strip().upper()
    if key in _ERROR_SET:
        return key
    if not key.isascii() or " " in key or not key.isprintable():
        key = _typed_error_key(key)
    return key if key in _ERROR_SET or _ERROR_SHAPE.fullmatch(key) else None


# The error values Excel's entry parser takes as typed: the text 「#N/A」 given to a cell of
# 標準 makes it hold the error #N/A (documented for #N/A: "You can also type the value #N/A
# directly into a cell"; the other six are the formula grammar's error constants, ECMA-376
# §18.17.2, assumed to be taken alike). The later codes (#SPILL!, #CALC! …) are saved by
# Excel 365 as a rich value over #VALUE!, what every older application shows there
# (package.rich_errors), and xlwings' VBA client cannot even send them.
TYPED_ERRORS = ERROR_VALUES[:7]


class ErrorValue(str):
    """An error value a plan writes into a cell, as Excel holds it: never the text that looks
    like it. Both appliers write it as one (the file face ``<c t="e">``, the buttons the code
    without the text prefix, which Excel reads as the error). A str, so that every measure
    of a cell's text (widths, heights, quotes) takes it as the code it shows."""

    __slots__ = ()


def kept_cell_value(value: object) -> object:
    """What a cell the tool read back and writes again (staff's columns beside 一覧) holds in
    the plan: an error value stays an error value, as the cell showed it, on every face. Both
    readers give an error cell as its code's text (the file reader from ``<c t="e">``, the
    buttons as xlwings' VBA client sends it), which the appliers wrote back as text: 「#N/A」
    that looked like the error, but that ISERROR, COUNTIF and a sort took as a text. A code
    the faces cannot type (Excel 365's later ones, a picture or data type in the cell, an
    error naming none) is written as #VALUE!, the value Excel saves for every application
    that knows no more. A text only like one (「＃Ｎ／Ａ」, padded, lower case, or a code Excel
    has none of: 「#TODO!」, which error_value's shape takes for a later code) is what staff
    typed as text, never a cell's error: it stays the text."""
    if type(value) is not str or not value.startswith("#"):
        return value
    if value in TYPED_ERRORS:
        return ErrorValue(value)
    if value in ERROR_VALUES or value in (RICH_VALUE, UNKNOWN_ERROR):
        return ErrorValue("#VALUE!")
    return value


def _calc_error(value: str) -> Optional[str]:
    """「Err:502」 as Calc shows it, for a text that is one with spaces around, else None."""
    key = value.strip().upper()
    return _CALC_MARK + key[4:] if len(key) == 7 and _CALC_ERROR.fullmatch(key) else None


# How long a text with a 「#」 may be and still be looked at for an error padded with
# characters that show as nothing (error_value): far past any padding staff would paste.
_UNSEEN_BOUND = 400


def _typed_error_key(text: str) -> str:
    """An error as staff type it in full width or spaced (「＃Ｎ／Ａ」「＃ＲＥＦ！」「# DIV/0!」), as
    Excel shows it: a Japanese IME in full-width mode gives 「＃Ｎ／Ａ」, and a 文字列 cell keeps
    it as typed. It means the same to staff as 「#N/A」, which was named as an error while
    「＃Ｎ／Ａ」 was published as a 役割, read as a 単位 or taken as 圏域名.

    So does one with a line break inside (「#DIV/」 Alt+Enter 「0!」: a cell without 折り返し
    shows it on one line) or a character that shows as nothing before, after or inside it
    (a zero-width space, a BOM, a soft hyphen, a variation selector pasted from a web page or
    a chat): Excel shows 「#N/A」, and it was published as a 実施状況 or a 単位 (qa-94). A
    line break, tab or space is removed by the split; a control or format character (Cc,
    Cf) or one of _INVISIBLE by the filter."""
    key = "".join(unicodedata.normalize("NFKC", text).upper().split())
    if not key.isprintable() or not _INVISIBLE.isdisjoint(key):
        key = "".join(ch for ch in key if ch not in _INVISIBLE and unicodedata.category(ch) not in ("Cc", "Cf"))
    return key


# A boolean cell as every face hands it over and reads it: python-calamine and the file
# reader (<c t="b">) give Python's bool, xlwings' clients send JSON true/false (VBA-Web's
# ConvertToJson; Office.js' booleans), COM gives a VARIANT_BOOL, and contract_read.text
# makes each 「TRUE」 or 「FALSE」. What staff leave there: TRUE typed into a 標準 cell (Excel
# reads 「true」 and 「ＴＲＵＥ」 as the boolean too), a check box's linked cell, a comparison
# formula. A text typed as 「TRUE」 into a 文字列 cell is classed with them: no value, status,
# name or address of the contract is spelt so, and the faces could not tell them apart.
# So is the same text in any case or width (「true」「ＴＲＵＥ」「ｆａｌｓｅ」 in a 文字列 cell), which
# a 標準 cell would have made the boolean: 「TRUE」 was refused as one while 「ＴＲＵＥ」 was
# published as a 実施状況 or a 役割, and 「true」 in a 実績値 was 「読めません」.
BOOLEAN_TEXTS = frozenset(("TRUE", "FALSE"))
# The first letters of those texts in either case and width: the one test most texts take.
BOOLEAN_FIRST = frozenset("TFtfＴＦｔｆ")


def may_be_unread(text: str) -> bool:
    """Whether a text may hold what unread_value finds (an error value, LibreOffice's 「Err:502」,
    a TRUE/FALSE), by the first tests of error_value and boolean_value alone: the one cheap
    test the hot readers ask before calling it (validate, contract_read). Those tests were
    copied into each reader, and 「Err:502」 passed them as a 役割 to publish.

    padded's test is spelt out at the end rather than called: this is asked of every text
    validated and published (676,000 times in a 20,000 × 12 recalc), and the call was a third
    of its cost (perf-112). test_values holds the two to the same answer."""
    return ("#" in text or "＃" in text or _CALC_MARK in text or (len(text) <= 7 and text[:1] in BOOLEAN_FIRST)
            or text[:1].isspace() or text[-1:].isspace())


def padded(text: str) -> bool:
    """Whether a text starts or ends with a space of any width: the one test, cheap, before
    a length bound of error_value's or boolean_value's is trusted."""
    return text[:1].isspace() or text[-1:].isspace()


def boolean_value(value: object) -> Optional[str]:
    """「TRUE」 or 「FALSE」 for a cell holding a boolean (as a bool, or as its text once
    read), else None: never a text to publish, a value to judge, a name or an address.
    Of the cells the contract reads, only 基本KPI takes one (a check box there says 「基本KPI」),
    and reads it itself; columns of staff's own (beside 経年, a split's sheet) keep theirs."""
    if type(value) is bool:
        return "TRUE" if value else "FALSE"
    if type(value) is str and len(value) > 7 and padded(value):
        value = value.strip()     # 「TRUE」 and spaces, past the length bound below: a boolean's text all the same
    if type(value) is str and len(value) <= 7 and (key := value.strip()) in BOOLEAN_TEXTS:
        return key
    if type(value) is str and len(value) <= 7 and key[:1] in BOOLEAN_FIRST:
        key = unicodedata.normalize("NFKC", key).upper()
        return key if key in BOOLEAN_TEXTS else None
    return None


# What is said for what: how a sentence names a cell holding the error (ERROR_SAID[error][0],
# a template with {label}; else 「{label}がエラー値「#REF!」です」) and what the 修正のヒント
# adds (ERROR_SAID[error][1]). A picture placed in a cell reaches the buttons as a plain
# #VALUE! (xlwings' VBA client sends the text of Error 2015, COM the code: neither sees the
# rich value), so #VALUE!'s hint names it too, the same on every face; the file reader tells
# it apart (RICH_VALUE) and names it outright.
RICH_VALUE_NAMED = "画像（または株価・地理などのデータの種類）"
NO_RESULT_NAMED = "計算結果が保存されていない数式"
# unread_kind's words for each kind, in the order it names them.
_KIND_NAMES = (("error", "エラー値"), ("boolean", "TRUE/FALSE（論理値）"), ("rich", RICH_VALUE_NAMED),
               ("formula", NO_RESULT_NAMED))
ERROR_SAID: dict[str, tuple[str, str]] = {
    NO_RESULT_VALUE: (f"{{label}}は{NO_RESULT_NAMED}です",
                      "このファイルを Excel で開いて保存し直すと、計算結果が保存されます（Excel 以外の道具で"
                      "作ったファイルで起きます）。または数式をやめて値を直接入力してください"),
    RICH_VALUE: (f"{{label}}のセルに{RICH_VALUE_NAMED}が入っています",
                 "値を文字で入力してください（画像を残すなら、画像を選んで「セルの上に配置」にしてから、"
                 "セルに値を入力してください）"),
    "#VALUE!": ("", f"セルに{RICH_VALUE_NAMED}を入れた場合も、Excel 365 以外では #VALUE! と表示されます。"
                    "その場合は値を文字で入力してください"),
}


def error_said(label: str, error: str) -> str:
    """The sentence naming a cell (``label``) that holds ``error``: 「目標値がエラー値「#REF!」
    です」, or what the cell holds when that is no error a formula gave (ERROR_SAID)."""
    said = ERROR_SAID.get(error, ("", ""))[0]
    return said.format(label=label) if said else f"{label}がエラー値「{error}」です"


def error_named(error: str) -> str:
    """An error value (or what unread_value gives) as a message names it in passing:
    「エラー値「#REF!」」, 「TRUE/FALSE（論理値）「TRUE」」, 「画像（…）」, or
    「計算結果が保存されていない数式」."""
    return (RICH_VALUE_NAMED if error == RICH_VALUE else NO_RESULT_NAMED if error == NO_RESULT_VALUE
            else f"TRUE/FALSE（論理値）「{error}」" if error in BOOLEAN_TEXTS else f"エラー値「{error}」")


def error_hint(error: str) -> str:
    """What a hint on an error value adds for this one ("" for most)."""
    return ERROR_SAID.get(error, ("", ""))[1]


def unread_value(value: object) -> Optional[str]:
    """What a cell holds that is no value, text or name (error_value, RICH_VALUE included, or
    boolean_value), or None: the one test of the readers that refuse both alike (経年, the
    cells 経年 records, the files split hands out, the lists the tool publishes)."""
    return error_value(value) or boolean_value(value)


def unread_kind(held: Iterable[str]) -> str:
    """What the cells a refusal lists hold (``held``: each one's unread_value), in its words:
    「エラー値」, 「TRUE/FALSE（論理値）」, 「画像（…）」, or two or three of them. A picture is no
    error value to staff: it was named by RICH_VALUE's placeholder in a sentence that said
    エラー値."""
    kinds = {_kind(h) for h in held}
    names = [name for kind, name in _KIND_NAMES if kind in kinds] or [_KIND_NAMES[0][1]]
    said = names[0]
    for k, name in enumerate(names[1:], start=1):   # 「エラー値、TRUE/FALSE（論理値）か画像（…）」
        said += (("か " if name[0].isascii() else "か") if k == len(names) - 1 else "、") + name
    return said


def unread_places(found: Iterable[tuple[str, str]]) -> str:
    """The cells a refusal lists (``found``: place, unread_value), as ``listed`` names them:
    「経年!E4「#REF!」、経年!E5「TRUE」 ほか 3 か所」, a picture as its place alone (unread_kind
    says what it holds: there is no text to quote, and RICH_VALUE's placeholder is none)."""
    return listed((where if held in _PLACEHOLDERS else f"{where}「{held}」" for where, held in found), "か所")


def unread_advice(held: Iterable[str]) -> str:
    """What a refusal adds for the kinds it lists ("" for error values alone: its own sentence
    says to mend the formula): the finding's hint of a picture and of #VALUE! (ERROR_SAID), a
    check box's link for TRUE/FALSE."""
    said = [BOOLEAN_ADVICE if h in BOOLEAN_TEXTS else error_hint(h) for h in held]
    return "".join(f"{a}。" for a in dict.fromkeys(a for a in said if a))


def _kind(held: str) -> str:
    return ("rich" if held == RICH_VALUE else "formula" if held == NO_RESULT_VALUE
            else "boolean" if held in BOOLEAN_TEXTS else "error")


# The reader's placeholders: no text staff see in the cell, so a place is named alone.
_PLACEHOLDERS = frozenset((RICH_VALUE, NO_RESULT_VALUE))


BOOLEAN_ADVICE = "チェックボックスなら、リンク先をこのセル以外にしてください"


# Finding types of the parse errors (Finding.type).
UNPARSEABLE = "unparseable"
APPROXIMATE = "approximate-value"
RANGE = "range-value"
TOO_LONG = "too-long"
TOO_LARGE = "too-large"
CONTROL = "control-character"
DEADLINE_FORM = "deadline-form"   # a year, month or date that is no deadline we can judge by


class ValueParseError(ValueError):
    """Raised with a Japanese reason; validation turns it into a finding of type ``code``."""

    def __init__(self, message: str, code: str = UNPARSEABLE):
        super().__init__(message)
        self.code = code


# Tab, line breaks and the spaces Japanese text uses: removed before the quick test below.
_HARMLESS = "\t\n\r\u3000\u00a0"   # (and " ", which is printable)


# Characters that show as nothing (or as a blank) but are no control or format character to
# Unicode: variation selectors, the combining grapheme joiner, Hangul fillers, the Khmer
# inherent vowels, the Mongolian selectors, the blank Braille pattern. A value is refused
# naming them, as for a control character (they were read as a unit 「️」 before).
# A set, not a regular expression: every command parses values, and compiling the class
# cost more than the few hundred characters take to list.
_INVISIBLE = frozenset("\u034f\u115f\u1160\u3164\uffa0\u17b4\u17b5\u2800").union(
    *(map(chr, range(first, last + 1)) for first, last in ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF), (0x180B, 0x180F))))
# What looks_empty and unseen_char count as unseen although printable, for a hot caller's
# first test without a call (validate._indicator_findings, perf-112).
INVISIBLE = _INVISIBLE
# Variation selectors choose a kanji's form (an IVS after 辻 or 葛): seen with their base
# character, so a name keeps them. The rest of INVISIBLE, printable to Python, shows as nothing
# or as a blank of its own in a name, a message and a log line alike (core.filenames,
# server.log.escape): 設定's folder 「2023年度」 with a Hangul filler pasted after it was
# answered 「サーバー作業フォルダー「…2023年度」がありません」, naming a folder staff could see was there.
SELECTORS = frozenset(map(chr, range(0xFE00, 0xFE0F + 1))).union(
    map(chr, range(0xE0100, 0xE01EF + 1)), map(chr, range(0x180B, 0x180F + 1)))
UNSEEN_IN_NAMES = _INVISIBLE - SELECTORS
# A time of day as the readers give a cell Excel holds as one (「10:00:00」); compiled on first
# use (re's own cache), only for a value with a colon in it.
_CLOCK = r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?"


def _bad_char(text: str, categories: tuple[str, ...] = ("Cc", "Cf", "Cs")) -> Optional[str]:
    """The first control or invisible format character (tab and line breaks are fine)."""
    # Quick path: printable text has no character of Cc, Cf or Cs (nor Cn: U+FFFE/U+FFFF).
    if text.isprintable() or _without_harmless(text).isprintable():
        return None
    for ch in text:
        if ch in "\t\n\r":
            continue
        if unicodedata.category(ch) in categories or ch in "\ufffe\uffff":
            return ch
    return None


def _without_harmless(text: str) -> str:
    """``text`` without _HARMLESS: one C-speed search per character (and a copy only for
    those present) instead of str.translate, which maps non-ASCII text character by
    character; every status of 一覧 has line breaks, so every one took that path (~0.05 s
    of a 20,000-indicator recalculation)."""
    for ch in _HARMLESS:
        if ch in text:
            text = text.replace(ch, "")
    return text


def unseen_char(text: str, categories: tuple[str, ...] = ("Cc", "Cf", "Cs")) -> Optional[str]:
    """The first character of ``text`` that shows as nothing and is no space: a control or
    format character (_bad_char: a zero-width space, a BOM, a soft hyphen, Word's U+000B),
    half of a surrogate pair, or one of _INVISIBLE (a Hangul filler, the blank Braille
    pattern), else None. One test for a value (_refuse_odd_characters), 設定's 圏域名 (which
    passes ``categories`` without "Cs") and a 単位; unseen_kind says what it is."""
    if not may_be_unseen(text):
        return None
    bad = _bad_char(text, categories)
    if bad is None and not _INVISIBLE.isdisjoint(text):
        bad = next(ch for ch in text if ch in _INVISIBLE)
    return bad


def unseen_kind(ch: str) -> str:
    """What staff are told a character unseen_char or illegal_char found is: a half of a
    surrogate pair (a cell Excel's =LEFT cut inside an emoji) was called 「制御文字」, which
    it is not, and a zero-width space is no control character either."""
    kind = unicodedata.category(ch)
    if kind == "Cc":
        return "制御文字"
    if ch in BIDI_CONTROLS:
        return "文字の向きを変える見えない文字"
    return "対になっていない文字（絵文字などの半分）" if kind == "Cs" else "見えない文字"


def may_be_unseen(text: str) -> bool:
    """Whether ``text`` may hold what unseen_char finds: its one cheap test, for the hot
    readers (a 単位 of every municipality row). 「ㅤ」 (a Hangul filler) is printable."""
    return not text.isprintable() or not _INVISIBLE.isdisjoint(text)


def looks_empty(text: str) -> Optional[str]:
    """For a text that shows as an empty cell and is none (nothing but spaces and what
    unseen_char finds: a zero-width space pasted from a web page, 「ㅤ」), its first unseen
    character; else None. Such a 役割 had a group of its own on 一覧 and such a 評価指標 was
    published as a row without a name, where an empty cell is named (qa-103)."""
    first = None
    for ch in text:        # a visible character ends it: nearly every text at its first
        if ch.isspace():
            continue
        if ch in _INVISIBLE or unicodedata.category(ch) in ("Cc", "Cf", "Cs"):
            first = first or ch
            continue
        return None
    return first


def illegal_char(text: str) -> Optional[str]:
    """The first character a cell of an .xlsx file cannot hold (control characters other
    than tab and line breaks, lone surrogates, U+FFFE/U+FFFF), or None."""
    return _bad_char(text, ("Cc", "Cs"))


# Bidirectional embeddings, overrides and isolates: they show as nothing and reorder the text
# after them (U+202E shows 「達成済み」 typed after it as 「み済成達」), so a published 一覧 could
# read other than what was typed, and the cell looks right only where the override is seen.
# No Japanese text needs one: 一覧 drops them as it drops control characters, and the cell is
# named (dropped_char). The marks U+200E/U+200F, which pasted web text carries and which move
# nothing in a left-to-right text, are left.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def dropped_char(text: str) -> Optional[str]:
    """The first character a list the tool writes drops from a text (fit_cell): one a cell
    cannot hold (illegal_char), else a bidirectional control (BIDI_CONTROLS), or None."""
    bad = illegal_char(text)
    if bad is None and (found := _BIDI_CONTROL.search(text)) is not None:
        bad = found.group()
    return bad


# BIDI_CONTROLS as one character class: a search in C. ``isdisjoint`` made a one-character
# string of every character of the text to hash it, and every status with a line break is
# asked here by fit_cell and validation (~7 % of a FY2023 recalculation).
_BIDI_CONTROL = LazyPattern("[" + "".join(sorted(BIDI_CONTROLS)) + "]")


def count_text(n: int) -> str:
    """A count as staff read it, on every face: 「1,234」 with thousands separators, as 検証結果
    prints it. The command line said 「ほか 1234 件」 where the sheet said 「ほか 1,234 件」."""
    return f"{n:,}"


def more_text(n: int, unit: str = "件") -> str:
    """「ほか 1,234 件」: the one spelling of what a cut list did not show (a Listing's ``more``
    (core.alerts) is formatted with count_text too). 「ほか3か所」 and 「ほか 3 か所」 were both said."""
    return f"ほか {count_text(n)} {unit}"


# How many names a message lists before it counts the rest (``listed``): chosen once, so that
# every refusal and note reads alike and stays a message whatever 設定 or a folder holds.
LISTED = 5
# Municipalities are named in full up to a region's size (さっぽろ圏: 12): staff act on each
# one named (whose return is missing, whose address is empty), and a name is a few
# characters; 「小樽市、千歳市、… ほか 7 市町村」 left them to find the other seven.
MUNICIPALITIES_LISTED = 20
MUNICIPALITIES = "市町村"


def listed_limit(unit: str) -> int:
    """How many of a list of ``unit`` a message names before it counts the rest: the one rule
    of ``listed`` and of a button's list of the same names (core.alerts.listed_names)."""
    return MUNICIPALITIES_LISTED if unit == MUNICIPALITIES else LISTED


def listed(items: Iterable[str], unit: str = "件", *, total: Optional[int] = None,
           limit: Optional[int] = None, sep: str = "、") -> str:
    """「小樽市、千歳市、… ほか 1,995 市町村」: the first ``limit`` of ``items``, then how many
    more (more_text). The one way a message names a list that grows with the input
    (municipalities, indicators, cells, files, sheets): split's refusal of a 設定 of 2,000
    municipalities without sheets named all 2,000 in one line of tens of kilobytes, which a
    button's message box (about 1,024 characters) showed cut in its middle, the count lost.
    ``total``: how many there are when ``items`` holds only the first of them (a scan that
    stops naming). ``limit``: where a cell or a sheet row lists them, or where the caller says
    why its message names another number (contract._places_listed: the macros' own count)."""
    if limit is None:
        limit = listed_limit(unit)
    items = list(items)
    count = len(items) if total is None else total
    shown = sep.join(items[:limit])
    rest = count - min(len(items), limit)
    return shown + (f" {more_text(rest, unit)}" if rest > 0 else "")


def shown(text: object, limit: int = 40) -> str:
    """Text as quoted in a message: control characters made visible, long text cut.

    Messages land in cells of 検証結果 and in reasons, so a 100,000-character value must
    not be copied into them whole, and a control character would make the file unwritable.
    A line break is shown as LINE_BREAK_SHOWN (one_line): 「約10件⏎2行目」 quoted as typed
    split a refusal (the history CSV's, a button's message) across two lines, its rest read
    as a line of its own.
    """
    t = one_line(str(text))
    out = "".join(f"[U+{ord(c):04X}]" if _bad_char(c) is not None else c
                  for c in (t if len(t) <= limit else t[:limit]))
    return out if len(t) <= limit else f"{out}…（全{len(t):,}文字）"


def cell_length(text: str) -> int:
    """Length as Excel counts it: UTF-16 code units (an emoji outside the BMP counts 2).
    Measured by encoding, which runs in C: every text of 一覧 is measured on every click."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def over_cell(value: object) -> int:
    """Excel's length of ``value`` (cell_length) when it is a text longer than the tool writes
    in a cell (CELL_TEXT_LIMIT), else 0: the one test of plan_types.long_texts and of split's
    check of the master's cells (core.input_sheet.long_cells). No character is wider than two
    UTF-16 units, so only a text of more than half the limit is measured."""
    if type(value) is not str or len(value) <= CELL_TEXT_LIMIT // 2:
        return 0
    n = cell_length(value)
    return n if n > CELL_TEXT_LIMIT else 0


def fit_cell(text: str) -> str:
    """Text that fits one Excel cell: characters a cell cannot hold dropped, and text over
    CELL_TEXT_LIMIT cut so that it ends with TRUNCATION_MARK within the limit."""
    if len(text) <= CELL_TEXT_LIMIT // 2 and text.isprintable():   # most texts: illegal_char's first test
        return text
    if dropped_char(text) is not None:
        text = "".join(c for c in text if dropped_char(c) is None)
    if len(text) <= CELL_TEXT_LIMIT // 2 or cell_length(text) <= CELL_TEXT_LIMIT:   # ≤ 2 units a character
        return text
    room = CELL_TEXT_LIMIT - len(TRUNCATION_MARK)
    end = used = 0
    for end, c in enumerate(text):
        used += 2 if ord(c) > 0xFFFF else 1
        if used > room:
            break
    return text[:end] + TRUNCATION_MARK


def published(text: str) -> str:
    """An 指標 text as a list the tool writes shows it (一覧, 集計, 次の一歩, and so the
    確定版): fit_cell's, or INPUT_ERROR for an error value, a picture or a TRUE/FALSE (unread_value).
    「#N/A」 was published as a 役割 (its own group on 一覧 and its own line on 集計), an
    評価指標 or a 目標値, and a check box's 「TRUE」 still was; the row is 「－」 with the bad
    cell named in its note, as a row whose 実績値 is an error is."""
    # may_be_unread first: every text of 一覧 passes here
    return INPUT_ERROR if may_be_unread(text) and unread_value(text) else fit_cell(text)


# The words that hedge a figure (approximate or bounding it), longest first, 見込み before 見込.
_HEDGES = LazyPattern("|".join(sorted({*_APPROX, *_BOUNDS, "見込み"}, key=len, reverse=True)))


def hedged_figure(text: str) -> bool:
    """Whether ``text`` is one figure once the words that hedge it are taken off (「約10」
    「10件程度」 「概ね10件」 「10以上」). parse_input refuses it for those words, so the 実施状況
    check that catches a figure typed one column right (validate._number_only) passed 「約10」
    beside an empty 実績値, where it caught 「10」 and 「10件」: the municipality's number was
    left out of the total without a word. A text that is more than a hedged figure (「約10回
    開催」) stays a status."""
    t = normalize(text.strip())
    bare = re.sub(r"\(\s*\)", "", _HEDGES.sub("", t))        # 「10件(見込み)」: its brackets emptied
    if bare == t or not bare:
        return False
    try:
        return parse_input(bare).kind == NUMBER
    except ValueParseError:
        return False


def _approx_error(text: str, word: str) -> ValueParseError:
    return ValueParseError(
        f"「{shown(text)}」は概数・見込みの表記（「{word}」）です。"
        "「約」「程度」「見込み」などを付けず、確定した数値だけを入力してください", APPROXIMATE)


# A number of a range as _NUMBER reads one, its 万/千/億 included: 「10～20万円」「10万-20万」 were
# read as a number and the unit 「~20万円」 (「単位を認識できません」), as a dash range was before.
_RANGE_NUMBER = r"\d[\d,.十百千万億兆]*"
_RANGE = LazyPattern(rf"([▲△-]?{_RANGE_NUMBER})([^\d~〜]*)[~〜]\s*([▲△-]?{_RANGE_NUMBER})([^\d~〜]*)")


def _is_range(core: str) -> bool:
    """「10～12」「10件~12件」: a number (and a unit) on both sides of the mark; 「100～」
    「～100件」: an open range, a number on one side only (it read 「単位「~」を認識できません」).
    「維持～改善」 and 「4月～3月に実施」 are words with a mark, read (or refused) as words."""
    m = _RANGE.fullmatch(core.replace(" ", ""))
    if m is not None:
        return all(u in UNIT_FAMILY for u in (m.group(2), m.group(4)))
    m = _OPEN_RANGE.fullmatch(core.replace(" ", ""))
    return m is not None and (m.group(2) or m.group(4) or "") in UNIT_FAMILY


_OPEN_RANGE = LazyPattern(rf"[~〜]([▲△-]?{_RANGE_NUMBER})([^\d~〜]*)|([▲△-]?{_RANGE_NUMBER})([^\d~〜]*)[~〜]")


def _range_error(text: str, word: str, actual: bool = False) -> ValueParseError:
    what = "実績値は1つの数値です。" if actual else ""
    how = ("範囲ではなく、1つの数値だけを入力してください" if word in _RANGE_MARKS or word in DASH_MARKS
           else "「以上」「以下」「未満」「超」などを付けず、数値だけを入力してください")
    return ValueParseError(f"「{shown(text)}」は範囲の表記（「{word}」）です。{what}{how}", RANGE)


class Note(NamedTuple):
    """One bracketed note. kind: annual, until, asof, calendar, partial, uncounted."""
    kind: str
    text: str
    year: Optional[int] = None


class Value(NamedTuple):
    raw: str
    kind: str
    number: Optional[Decimal] = None
    unit: str = ""                 # display form, e.g. "件", "%", "人/日"
    per_year: bool = False         # 「１回／年」
    each: bool = False             # 「各１回」
    at_least: bool = False         # 「２人以上」
    status: str = ""               # canonical status word
    negative: bool = False         # a negative status (未構築, 実施なし …)
    deadline: Optional[int] = None  # 年度 of a bare deadline or an until/asof note
    notes: tuple[Note, ...] = ()
    # The last day a bare deadline written to the month or the day allows (「2024年3月末まで」 is
    # 2024-03-31, in 2023年度); None for one written as a 年度, which is judged by its year.
    due: Optional[dt.date] = None

    @property
    def core(self) -> str:
        """The value without its bracketed notes, as shown in reasons."""
        return _core(self.raw)

    @property
    def family(self) -> str:
        return unit_family(self.unit)

    @property
    def deadline_year(self) -> Optional[int]:
        """The 年度 a note gives the target (「2025年度まで」「2023年度時点」), if any."""
        return _note_deadline(self.notes) if self.notes else None   # most values: no note

    @property
    def is_empty(self) -> bool:
        return self.kind in (EMPTY, UNCOUNTED)

    @property
    def annual(self) -> bool:
        return any(n.kind == NOTE_ANNUAL for n in self.notes)

    @property
    def partial(self) -> bool:
        return any(n.kind == "partial" for n in self.notes)

    def note_year(self, *kinds: str) -> Optional[int]:
        return next((n.year for n in self.notes if n.kind in kinds and n.year), None)


_SPACES = re.compile(r"\s+")
_TRAILING_NOTE = re.compile(r"[（(][^（）()]*[）)]\s*$")


def normalize(text: str) -> str:
    """NFKC plus the Japanese punctuation NFKC leaves alone. Callers classify symbols first."""
    t = unicodedata.normalize("NFKC", text)
    # − (U+2212, the minus sign a Mac IME gives for 「ー」's key in numbers) is a minus, as
    # － is after NFKC: 「−5」 was unreadable where 「－5」 is the negative number it says.
    t = t.replace("／", "/").replace("〜", "~").replace("～", "~").replace("−", "-")
    return _SPACES.sub("", t)


# The dashes the reader takes for a minus before a number (normalize makes each "-": the
# hyphen-minus, − U+2212, － U+FF0D, ﹣ U+FE63): the one set of them. A number format's sign
# marks are read by it (core.displayed): 「－12」 and 「﹣12」 shown by 「#,##0,;"－"#,##0,」 for
# -12000 were imported as -12 where 「-12」 and 「▲12」 were held as scaled (stop 63).
MINUS_SIGNS = frozenset(ch for ch in DASH_CHARS if normalize(ch) == "-")


@lru_cache(maxsize=256)
def normalized(text: str) -> str:
    """``normalize``, cached for a text read again and again (a status many indicators
    share, which each compares its breakdown against). Small: a status may be long."""
    return normalize(text)


def normalize_list(text: str) -> str:
    """``normalize`` of a list joined with 「、」 (a breakdown 「（札幌市17件、小樽市2件）」), made
    piece by piece from a cache: the same 「小樽市2件」 recurs across thousands of indicators.
    Exact, because NFKC never involves 「、」 with a neighbour: no composition has it, and as a
    starter it stops reordering. Saves ~10 µs of NFKC per breakdown (~0.1 s at 20,000 × 12)."""
    return "、".join(map(_normalized_piece, text.split("、")))


def listed_in(text: str, normalized_text: str) -> bool:
    """Whether ``normalize_list(text)`` is in ``normalized_text``. Its first piece starts it:
    where that is missing (nearly always: a status seldom repeats its breakdown) the
    others are not normalised or joined."""
    first, sep, rest = text.partition("、")
    head = _normalized_piece(first)
    if head not in normalized_text:
        return False
    return (head + sep + normalize_list(rest) if sep else head) in normalized_text


@lru_cache(maxsize=1 << 12)
def _normalized_piece(text: str) -> str:
    return normalize(text)


def _strip_notes(text: str) -> str:
    return _TRAILING_NOTE.sub("", text).strip() if text else text


@lru_cache(maxsize=1 << 16)
def _core(raw: str) -> str:
    """Value.core, cached: reasons quote a target's core once for each of thousands of rows."""
    return _strip_notes(raw.strip())


def parse_value(raw: object) -> Value:
    """Parse one cell's text. Numbers from Excel (int/float) are accepted as they are,
    except NaN, infinities and numbers of more than MAX_DIGITS digits."""
    if type(raw) is str:   # typed text, the common case, first
        return _parse_text(raw)
    if raw is None:
        return Value("", EMPTY)
    if isinstance(raw, bool):
        raise ValueParseError("TRUE/FALSE は値として使えません")
    if isinstance(raw, int):
        if abs(raw) >= 10 ** MAX_DIGITS:  # before str(): huge ints do not even print
            raise ValueParseError(f"数値の桁数が多すぎます（{MAX_DIGITS}桁まで）", TOO_LARGE)
        return Value(str(raw), NUMBER, number=Decimal(raw))
    if isinstance(raw, float) and not math.isfinite(raw):
        raise ValueParseError(f"「{shown(raw)}」は数値として使えません（NaN・無限大）")
    if isinstance(raw, Decimal) and not raw.is_finite():
        raise ValueParseError(f"「{shown(raw)}」は数値として使えません（NaN・無限大）")
    if isinstance(raw, (float, Decimal)):
        number = Decimal(str(raw))
        if abs(number) >= _NUMERIC_LIMIT:
            raise ValueParseError(f"「{shown(raw)}」は大きすぎます（{MAX_DIGITS}桁まで）", TOO_LARGE)
        return Value(str(raw), NUMBER, number=number)
    return _parse_text(str(raw))


def parse_input(raw: object) -> Value:
    """Parse a reported value (実績値, 分母): ``parse_value`` plus what a report may not be.

    Refuses a bound (「10件以上」: the report is the figure, not a floor under it) and
    numbers from INPUT_LIMIT (10^15) up. Status phrases such as 「各１回以上実施」 pass.
    """
    if type(raw) is str:   # typed text, the common case: cached whole
        return _input_text(raw)
    return _checked_input(parse_value(raw), raw)


@lru_cache(maxsize=1 << 16)
def _input_text(text: str) -> Value:
    """``parse_input`` of a text, cached like ``_parse_text``: a recalculation reads each
    municipality value three times (validation, roll-up, the breakdown) and a 20,000-indicator
    master has hundreds of thousands; one cache hit instead of the checks saves ~0.1 s."""
    return _checked_input(_parse_text(text), text)


def _checked_input(v: Value, raw: object) -> Value:
    if v.kind == NUMBER:
        if v.at_least:
            raise _range_error(str(raw), _TARGET_BOUND, actual=True)
        if abs(v.number) >= INPUT_LIMIT:
            raise ValueParseError(
                f"「{shown(raw)}」は大きすぎます（Excelが正確に扱える15桁を超えています）", TOO_LARGE)
    return v


_PLAIN_NUMBER = LazyPattern(r"-?\d+(\.\d+)?")


@lru_cache(maxsize=1 << 16)
def _parse_text(text: str) -> Value:
    """Cached: one recalc parses the same target or 「0件」 thousands of times, and Value
    is frozen, so sharing the result is safe (exceptions are not cached and re-raise)."""
    stripped = text.strip()
    if DASH_MARKS.issuperset(stripped):       # 「」 too: the empty set is in every set
        return Value(text, EMPTY)
    if len(stripped) > MAX_VALUE_CHARS:
        if _PLAIN_NUMBER.fullmatch(stripped):     # 1e308 or 5e-324 as a cell holds them: a number
            raise ValueParseError(f"「{shown(stripped)}」は数値として大きすぎるか、小数の桁が多すぎます"
                                  f"（{MAX_DIGITS}桁まで）", TOO_LARGE)
        raise ValueParseError(f"「{shown(stripped)}」は値として長すぎます（{MAX_VALUE_CHARS}文字まで）。"
                              "説明は実施状況の欄に書いてください", TOO_LONG)
    _refuse_odd_characters(text, stripped)
    t = normalize(stripped)
    # Checked on the whole text, notes included: 「10件（見込み）」 is as approximate as 「約10件」.
    word = next((w for w in _APPROX if w in t), None)
    if word is not None:
        raise _approx_error(text, word)
    # 「2025年度以内」 is a deadline (_BY), not a bound on a number.
    word = next((w for w in _BOUNDS if w != _TARGET_BOUND and w in t
                 and not (w == "以内" and _YEAR_HEAD.match(t))), None)
    if word is not None:
        raise _range_error(text, word)
    if t.startswith("(") and (m := re.fullmatch(_ACCOUNTING, t)) and m.group(1) in UNIT_FAMILY:   # not 「(2023年度)」
        raise _accounting_error(text, t[1:-1])
    core, notes = _split_notes(t, text)
    if any(w in core for w in _RANGE_MARKS) and _is_range(core):
        raise _range_error(text, next((w for w in _RANGE_MARKS if w in text), "～"))
    if not core:
        if any(n.kind == "uncounted" for n in notes):
            return Value(text, UNCOUNTED, notes=notes)
        raise ValueParseError(f"「{shown(text)}」には値がありません（注記だけです）")
    if core in ("未集計",):
        return Value(text, UNCOUNTED, notes=notes)
    deadline_year = _note_deadline(notes)
    m = _EACH.match(core)
    if m:
        return Value(text, STATUS, status=core, each=True, number=Decimal(m.group(1)),
                     unit="回", at_least=bool(m.group(2)), notes=notes, deadline=deadline_year)
    if core in POSITIVE_STATUS:
        return Value(text, STATUS, status=core, notes=notes, deadline=deadline_year)
    if core in NEGATIVE_STATUS:
        return Value(text, STATUS, status=core, negative=True, notes=notes)
    deadline = _bare_deadline(core, text)
    if deadline is not None:
        return Value(text, DEADLINE, deadline=deadline[0], due=deadline[1], notes=notes)
    m = _NUMBER.match(core)
    if not m:
        raise _unreadable(text, core)
    number = _japanese_number(m.group("num"), text)
    if m.group("sign"):
        number = -number
    unit, per_year, at_least = _unit(m.group("rest"), text)
    return Value(text, NUMBER, number=number, unit=unit, per_year=per_year,
                 at_least=at_least, notes=notes, deadline=deadline_year)


# 「策定中」「完了予定」: a thing under way or planned, neither done nor not done. Not 「開設中」
# or 「実施中」: a state kept now may meet its target (常時, 開設).
_UNDER_WAY = tuple(f"{w}中" for w in ("策定", "検討", "構築", "準備", "調整", "作成", "整備", "協議", "計画", "設計",
                                      "建設", "工事", "交渉", "選定", "改修")) + ("予定",)
# 「集計中」「確認中」: a figure not counted yet, which 「（未集計）」 says.
_COUNTING = ("集計中", "調査中", "確認中", "精査中", "照会中", "未確定")


# 「(12)」 「（1,234人）」: a number in brackets, the accountant's negative. Read as a note it
# said 「括弧内の注記「12」を解釈できません」, as if a note were missing a value.
_ACCOUNTING = r"\([▲△-]?\d[\d,.十百千万億兆]*([^()\d]*)\)"
# What stands before a number and was said to be 「読めません」 only: a dash that is no minus
# sign (「ー12」: the long vowel mark a kana IME gives for the "-" key, 「―」, 「–」), a plus
# sign, and the apostrophe a Text cell keeps as part of the value (「'12」).
_PLUS = "+"
_APOSTROPHES = "'’‘`"


def _accounting_error(text: str, inner: str) -> ValueParseError:
    said = f"「{shown(text)}」は括弧で囲んだ数です。括弧で負の数を表す書き方は読みません。"
    if inner[:1] in "▲△-":
        return ValueParseError(f"{said}括弧を外して「{shown(inner)}」と入力してください")
    return ValueParseError(f"{said}負の数なら「▲{shown(inner)}」、負の数でなければ括弧を外して「{shown(inner)}」と入力してください")


def _lead_error(text: str, core: str) -> Optional[ValueParseError]:
    """A mark before a number that the number cannot carry, said with what to type."""
    lead, rest = core[:1], core[1:]
    m = _NUMBER.match(rest) if rest else None
    if m is None or m.group("sign"):
        return None
    typed = text.strip()[:1]
    typed = typed if unicodedata.normalize("NFKC", typed) == lead else lead
    if lead in DASH_MARKS:
        return ValueParseError(f"「{shown(text)}」の先頭の「{typed}」（U+{ord(typed):04X}）はマイナスの記号ではありません"
                               "（長音記号「ー」やダッシュは負の数を表しません）。負の数なら"
                               f"「▲{shown(rest)}」か半角の「-{shown(rest)}」、負の数でなければ「{shown(rest)}」と入力してください")
    if lead == _PLUS:
        return ValueParseError(f"「{shown(text)}」の先頭の「{typed}」は付けずに「{shown(rest)}」と入力してください"
                               "（増えた数も、負でなければそのまま数値だけを入力します）")
    if lead in _APOSTROPHES:
        return ValueParseError(f"「{shown(text)}」の先頭の「{typed}」が値の一部になっています（表示形式が文字列のセルでは、"
                               f"先頭の ' も文字として残ります）。「{typed}」を消して「{shown(rest)}」と入力してください")
    return None


def _unreadable(text: str, core: str) -> ValueParseError:
    """Why a text is neither a number, a state nor a deadline, as closely as it can be said."""
    if _TARGET_BOUND in core:
        return _range_error(text, _TARGET_BOUND)
    lead = _lead_error(text, core)
    if lead is not None:
        return lead
    m = re.fullmatch(r"([〇一二三四五六七八九十百千万億兆]+)(.*)", core)
    kanji = next((ch for ch in m.group(1) if ch in _KANJI_DIGITS), None) if m else None
    if kanji is not None and m.group(2) in UNIT_FAMILY:   # 「一万」「二十件」, not 「一部実施」
        return ValueParseError(f"「{shown(text)}」の「{kanji}」は漢数字です。数字は半角か全角の 0～9 で入力してください"
                               "（「1万」「31千」のような万・千は使えます）")
    if (roman := _roman_numeral(text)) is not None:
        return roman
    if core in _COUNTING:
        return ValueParseError(f"「{shown(text)}」はまだ数が決まっていないことを表す言葉です。集計できていないときは"
                               "「（未集計）」と入力してください")
    if core.endswith(_UNDER_WAY):
        return ValueParseError(f"「{shown(text)}」は途中・予定を表す言葉のため、実績として読めません。完了していなければ"
                               "「未完了」（状態の目標なら「未実施」など）を入力し、状況は実施状況の欄に書いてください")
    return ValueParseError(f"「{shown(text)}」を数値・状態・期限のいずれとしても読めません")


def _roman_numeral(text: str) -> Optional[ValueParseError]:
    """A count typed in the Roman numerals of a Japanese font (「Ⅻ」「ⅲ件」: one character each,
    U+2160–U+2188), said as what it is, as a kanji numeral is: it met the generic 「読めません」,
    and NFKC folds 「Ⅻ」 into the letters 「XII」, no number. The value is offered only for a
    single numeral: two (「ⅠⅤ」) are no sum the tool can read for staff."""
    typed = text.strip()
    lead = typed[:1]
    if not "\u2160" <= lead <= "\u2188":
        return None
    end = 1
    while end < len(typed) and "\u2160" <= typed[end] <= "\u2188":
        end += 1
    numerals = typed[:end]
    if normalize(typed[len(numerals):]) not in UNIT_FAMILY:
        return None
    value = unicodedata.numeric(lead, None) if len(numerals) == 1 else None
    instead = f"（「{numerals}」なら「{int(value)}」）" if value is not None else ""
    return ValueParseError(f"「{shown(text)}」の「{numerals}」はローマ数字です。数字は半角か全角の 0～9 で入力してください"
                           + instead)


def _refuse_odd_characters(text: str, stripped: str) -> None:
    """Characters that would be read as something else once normalized: control and
    invisible characters, a symbol of the list alone (「〇」 is no kanji zero here), a time of
    day, digits that are not 0-9 (², ①), a gap inside a number. Each is refused naming what it is, before normalize() could hide it."""
    # The text as read, not stripped: str.strip() removes NEL (U+0085) and the Cc separators
    # U+001C–U+001F, so 「10\x85」 read as 10 without a word.
    bad = unseen_char(text)
    if bad is not None:
        raise ValueParseError(f"「{shown(text.strip(' '))}」に制御文字・見えない文字（U+{ord(bad):04X}）が"
                              "含まれています", CONTROL)
    if stripped in EVALUATION_MARKS:
        raise ValueParseError(f"「{shown(stripped)}」は評価の記号のようです。評価（{SYMBOLS_SAID}）は目標値と実績値から計算するため、"
                              "値の欄には数値か状態（実施・維持など）を入力してください")
    if ":" in stripped and re.fullmatch(_CLOCK, stripped):   # (a date, with or without a time, has its own reason)
        raise ValueParseError(f"「{shown(stripped)}」は時刻です（数値のセルの表示形式が時刻になっているか、"
                              "時刻が入力されています）。セルの表示形式を「標準」にして数値を入力し直してください")
    odd = odd_digit(stripped)
    if odd is not None:
        raise ValueParseError(f"「{shown(stripped)}」の「{odd}」（U+{ord(odd):04X}）は数字として読めません"
                              "（上付き・下付き・丸数字や、ほかの文字の数字は、読み替えると別の数になります）。"
                              "半角か全角の数字（0～9、０～９）で入力してください")
    if len(stripped.split()) > 1:   # whitespace inside (rare): the one case normalize would hide
        _refuse_digit_gap(stripped)


def _refuse_digit_gap(text: str) -> None:
    """「1 7」 or 「1⏎7」 (Alt+Enter) is two numbers or a slip, never 17: ``normalize`` drops
    spaces (「維持 ・ 改善」 is 「維持・改善」), so a space between digits is refused first. A
    date with its time (a date cell read as text) is left to the date message."""
    if re.fullmatch(_ISO_DATE, text) or text_date(text):
        return
    gap = re.search(r"\d(\s+)\d", unicodedata.normalize("NFKC", text))
    if gap:
        what = "改行" if "\n" in gap.group(1) or "\r" in gap.group(1) else "空白"
        raise ValueParseError(f"「{shown(text)}」は数字の間に{what}があります。1つの数値として、"
                              "空白や改行を入れずに入力してください")


# A date cell read as text (ISO, as both readers give it), perhaps with its time; and a
# text in the very shape xlwings' clients send a date in (「2023-04-01T00:00:00.000Z」), which
# the live face cannot tell from a date cell and reads as one (excel.remote.client_value):
# the file face says the same of it.
_ISO_DATE = r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z?)?"


def date_text(text: str) -> bool:
    """Whether a cell's text is a date or a time as both readers give a date or time cell
    (「2023-04-01」, 「2023-04-01 10:30:00」, 「10:30:00」): what Excel makes of 「4-1」 or
    「4:1」 typed into a cell of the 標準 format."""
    t = text.strip()
    return bool(t) and t[0].isdigit() and (_ISO_DATE_TEXT.fullmatch(t) is not None or
                                            _CLOCK_TEXT.fullmatch(t) is not None)


# Compiled once (on first use), not looked up in re's cache at each call: every 指標ID of
# 指標 is asked on every recalculation (validate._odd_id, ~3 % of FY2023's).
_ISO_DATE_TEXT = LazyPattern(_ISO_DATE)
_CLOCK_TEXT = LazyPattern(_CLOCK)


def _split_notes(t: str, original: str) -> tuple[str, tuple[Note, ...]]:
    notes: list[Note] = []
    while True:
        m = re.search(r"\(([^()]*)\)$", t)
        if not m:
            break
        notes.insert(0, _note(m.group(1), original))
        t = t[: m.start()]
    if "(" in t or ")" in t:
        raise ValueParseError(f"「{shown(original)}」の括弧の対応が取れていません")
    return t, tuple(notes)


def _note(inner: str, original: str) -> Note:
    if inner == "毎年度":
        return Note(NOTE_ANNUAL, inner)
    if inner in ("把握可能分",):
        return Note("partial", inner)
    if inner == "未集計":
        return Note("uncounted", inner)
    # 「2025年度まで」 and its synonyms (_BY): 「2025年度中」「2025年度内」「2025年度末までに」「2025年度迄」.
    m = re.match(rf"^(.+年度)(?:末日?)?(?:{_BY})(の毎年度)?$", inner)
    if m:
        year = _fy(m.group(1), original)
        return Note(NOTE_ANNUAL_UNTIL if m.group(2) else NOTE_UNTIL, inner, year)
    # 「2025年度」「2025年度末」「2025年度末時点」「2025年度現在」: the figure as of that year
    # (「年度末」 was refused while 「年度末まで」 was read).
    m = re.match(r"^(.+年度)末?(?:時点|現在)?$", inner)
    if m:
        return Note(NOTE_ASOF, inner, _fy(m.group(1), original))
    m = re.match(r"^(\d{4})年$", inner)
    if m:
        return Note(NOTE_CALENDAR, inner, int(m.group(1)))
    if _TARGET_BOUND in inner:
        raise _range_error(original, _TARGET_BOUND)
    # 「2025年度までの累計」「2025年度の累計」: a 年度 read, then words no note has. They were
    # called 「月・日付・半期・暦年」, which they are not; the words are what cannot be read.
    m = re.match(rf"^.+?年度(?:末日?)?(?:{_BY})?(の.+)$", inner)
    if m and _DUE_START.match(inner):
        raise ValueParseError(f"「{shown(original)}」の括弧内の注記「{shown(inner)}」の「{shown(m.group(1))}」を"
                              f"解釈できません（使える注記: {USABLE_NOTES}）")
    try:
        dated = _bare_deadline(inner, original) is not None
    except ValueParseError:
        dated = True
    if dated:
        # A note gives a number its 年度 and is judged by the year (rules._ratio): a month in
        # it would be judged to the year only, and a calendar year is either of two 年度.
        raise ValueParseError(f"「{shown(original)}」の括弧内の期限「{shown(inner)}」は年度ではなく月・日付・半期・暦年です。"
                              "括弧内の期限は年度で判定するため、「（2025年度まで）」のように年度で書いてください",
                              DEADLINE_FORM)
    raise ValueParseError(f"「{shown(original)}」の括弧内の注記「{shown(inner)}」を解釈できません"
                          f"（使える注記: {USABLE_NOTES}）")


USABLE_NOTES = "毎年度、2023年度まで、2017年度、2017年度末、2017年、把握可能分、未集計"


def _fy(text: str, original: str) -> int:
    try:
        return parse_fiscal_year(text)
    except DateParseError as exc:
        raise ValueParseError(f"「{shown(original)}」の注記「{shown(text)}」の年度を読めません"
                              "（例: 2023年度、令和5年度。元号は省けません）") from exc


def _note_deadline(notes: tuple[Note, ...]) -> Optional[int]:
    return next((n.year for n in notes if n.kind in DEADLINE_NOTES and n.year), None)


# A deadline as staff write one: a 年度, a month or a day, then the words that say "by": 「まで」
# and its synonyms (「2025年度中」「2025年度内」「2025年度までに」「2025年度末までに」「令和6年3月末日まで」).
# Read here, once, so every reader of a target (validate, recalc, collect, split's hints, gaps'
# 「あと何年度」, the past-target warning) takes the same deadline from it.
# 「迄」 is 「まで」 as official documents write it (「令和7年度迄」); 「以内」 is 「内」 (「2025年度以内」).
_BY = r"(?:まで|迄)に?|中に?|以?内に?"
_DUE = re.compile(rf"(?P<when>.+?)(?P<end>末日?)?(?P<by>{_BY})?")
# A 年度 without its era (「5年度まで」, in a 令和 office): which era is not written, so not guessed.
_NO_ERA = re.compile(rf"(?P<n>元|\d{{1,2}})年度(?:末日?)?(?:{_BY})?")
# A part of a 年度 (「2025年度上期まで」「令和7年度第2四半期中」): how many of its months, from
# April, it spans. 上期/上半期 is April–September, 下期/下半期 October–March, as every 年度
# report halves it; a quarter is three months.
_PART = LazyPattern(r"(?P<fy>.+年度)(?P<part>上半?期|下半?期|第(?P<q>[1-4])四半期)")
_PART_MONTHS = {"上期": 6, "上半期": 6, "下期": 12, "下半期": 12}
# Where a deadline's year starts: a Western year or an era (令和6年, R6.3月).
_DUE_START = re.compile(rf"(?:\d{{4}}|{ERA_YEAR})")
# A value that starts with a year (「2025年…」「令和7年…」): a time, read as a deadline or refused as one.
_YEAR_HEAD = LazyPattern(rf"(?:\d{{4}}|{ERA_YEAR})年")
DEADLINE_EXAMPLES = "「2025年度まで」「令和7年度中」「2025年12月まで」「令和6年3月末まで」「2024/3/31まで」"


def _bare_deadline(core: str, text: str) -> Optional[tuple[int, Optional[dt.date]]]:
    """(年度, last day allowed) of a bare deadline, the day None for a 年度; None for a text that
    is no deadline. Raises DEADLINE_FORM for one that names a time but no deadline to judge by.

    A month or a day is judged as written, against 設定's 基準日 (rules): Japan's 年度 runs
    April–March, so a month names its 年度 without a guess (2024年3月 is in 2023年度) and its
    last day is the deadline's. A calendar year (「2025年まで」) is refused: it ends three months
    before the 年度 of the same number, and which one staff meant cannot be told."""
    if not _DUE_START.match(core):     # most values: a number, a word
        if (m := _NO_ERA.fullmatch(core)) is not None:
            raise ValueParseError(f"「{shown(text)}」は年度に元号がなく、どの年度か決められません。"
                                  f"「令和{m.group('n')}年度まで」のように元号を付けるか、「2025年度まで」のように"
                                  "西暦で書いてください", DEADLINE_FORM)
        return None
    m = _DUE.fullmatch(core)
    when, end, by = m.group("when"), m.group("end"), m.group("by")
    by = by and by.replace("迄", "まで")
    try:
        if when.endswith("年度"):
            return parse_fiscal_year(when), None
        if (part := _PART.fullmatch(when)) is not None:
            return _part_deadline(parse_fiscal_year(part.group("fy")), part)
        day = parse_date(when)
    except DateParseError:
        # A time that is none we read: 「令和6年度3月まで」「2024年13月まで」「2025年度末頃」「R0年度」.
        if _YEAR_HEAD.match(when) or ((end or by) and any(ch in when for ch in "年月/.")):
            raise _deadline_form(text, "を期限として読めません") from None
        return None
    if day.month is None:
        raise ValueParseError(f"「{shown(text)}」は暦年（1～12月）の期限です。年度（4月～翌年3月）とは3か月ずれるため、"
                              f"どちらの期限か決められません。期限は「{when}度まで」または「{when}12月まで」のように"
                              "書いてください", DEADLINE_FORM)
    if not (end or by):
        if "年" in when:                 # 「2024年3月」 typed into a Text cell (another cell makes it a date)
            raise ValueParseError(f"「{shown(text)}」は年月（日）だけで、期限かどうか分かりません。期限なら"
                                  f"「{when}まで」のように「まで」を付けて書いてください", DEADLINE_FORM)
        return None                      # 「2024.3」: a number, read (or refused) as one
    if day.day is not None and (end or by not in ("まで", "までに")):
        raise _deadline_form(text, "を期限として読めません（日付の後に付けられるのは「まで」「までに」です）")
    due = day.to_date()
    return fiscal_year_of(due), due


def _part_deadline(year: int, part: re.Match) -> tuple[int, dt.date]:
    """(年度, last day) of a part of the 年度 ``year``: its last month's last day."""
    months = 3 * int(part.group("q")) if part.group("q") else _PART_MONTHS[part.group("part")]
    last = 3 + months                    # April is month 4 of the 年度's first calendar year
    return year, PartialDate(year + (last - 1) // 12, (last - 1) % 12 + 1).to_date()


def _deadline_form(text: str, why: str) -> ValueParseError:
    return ValueParseError(f"「{shown(text)}」{why}。期限は{DEADLINE_EXAMPLES}のように書いてください", DEADLINE_FORM)


def _japanese_number(num: str, original: str) -> Decimal:
    """Sum 「27兆9千億」 as 27×10¹² + 9×10³×10⁸; 「31千」 = 31×10³; commas only between digits."""
    if sum(ch.isdigit() for ch in num) > MAX_DIGITS:
        raise ValueParseError(f"「{shown(original)}」は数値の桁数が多すぎます（{MAX_DIGITS}桁まで）", TOO_LARGE)
    tokens = re.findall(r"[\d,.]+|[十百千万億兆]", num)
    if not _LONE_POINT.fullmatch(num):      # 「10.」「.5」: the whole number, read as Excel reads them
        for tok in tokens:
            if tok not in _SMALL and tok not in _BIG and not _DIGIT_RUN.fullmatch(tok):
                raise _digit_run_error(tok, original)
    total = Decimal(0)
    section = Decimal(0)
    current: Optional[Decimal] = None
    last_big = None
    for tok in tokens:
        if tok in _SMALL:
            section += (current if current is not None else Decimal(1)) * _SMALL[tok]
            current = None
        elif tok in _BIG:
            if last_big is not None and _BIG[tok] >= last_big:
                raise ValueParseError(f"「{shown(original)}」の万・億・兆の順序が正しくありません")
            if current is None and section == 0:
                raise ValueParseError(f"「{shown(original)}」の「{tok}」の前に数字がありません")
            total += (section + (current or 0)) * _BIG[tok]
            section, current, last_big = Decimal(0), None, _BIG[tok]
        else:
            if current is not None:
                raise ValueParseError(f"「{shown(original)}」の数字の並びを読めません")
            try:
                current = Decimal(tok.replace(",", ""))
            except InvalidOperation as exc:
                raise ValueParseError(f"「{shown(original)}」の数字「{shown(tok)}」を読めません") from exc
    return total + section + (current or 0)


# One run of digits as a number holds it: plain (「1234」「12.5」), or grouped by commas in
# threes after a first group of one to three digits that does not start with 0 (「1,234.5」).
# 「1.234,5」 (a decimal comma), 「0,123」, 「1,234.5,6」 and 「1万.5」 were read as 1.2345, 123,
# 1234.56 and 10000.5: a guess at what was meant, where the checks looked at commas alone.
_DIGIT_RUN = re.compile(r"(?:[1-9]\d{0,2}(?:,\d{3})+|\d+)(?:\.\d+)?")
_LONE_POINT = re.compile(r"\d+\.|\.\d+")


def _digit_run_error(run: str, original: str) -> ValueParseError:
    """Why a run of digits, commas and points is no number, with the spelling to use."""
    example = "小数点は「.」、桁区切りは「,」で入力してください（例: 1,234.5）"
    if "," in run and "." in run and run.rindex(",") > run.index("."):
        return ValueParseError(f"「{shown(original)}」は小数点「.」の後にカンマがあります。{example}")
    if "," in run:
        return ValueParseError(f"「{shown(original)}」の桁区切りのカンマの位置が正しくありません。{example}")
    return ValueParseError(f"「{shown(original)}」の数字「{shown(run)}」を読めません。{example}")


def _unit(rest: str, original: str) -> tuple[str, bool, bool]:
    at_least = rest.endswith("以上")
    if at_least:
        rest = rest[: -len("以上")]
    per_year = False
    m = re.match(r"^(.*)/年度?$", rest)
    if m and m.group(1) != "人":
        rest, per_year = m.group(1), True
    if re.match(r"^、\d", rest):   # 「1、234」: 、 (or the half-width ､) typed as the thousands separator
        raise ValueParseError(f"「{shown(original)}」の「、」は桁区切りに使えません。桁区切りは「,」で入力してください"
                              "（例: 1,234）")
    if rest and rest[0] in _ROUGHLY:    # 「120余人」「120強」: more or less than the figure
        raise _approx_error(original, rest[:1])
    if re.match(r"^[eE][+-]?\d", rest):
        raise ValueParseError(f"「{shown(original)}」は指数表記です。普通の数字で入力してください（例: 1,500）")
    if rest not in UNIT_FAMILY:
        if re.fullmatch(_ISO_DATE, original.strip()) or text_date(original):
            raise ValueParseError(f"「{shown(original)}」は日付として入力されています。数値を入力してください"
                                  "（セルの表示形式が日付になっているときは「標準」に戻してください）。期限の目標なら"
                                  "「2024年3月まで」「2024/3/31まで」のように「まで」を付けて入力してください"
                                  "（Excel は「まで」の付いた値を日付に変えません）")
        dashed = _DASHED_RANGE.fullmatch(rest)
        if dashed and dashed.group(1) in UNIT_FAMILY and dashed.group(3) in UNIT_FAMILY \
                and not _YEAR_MONTH.fullmatch(normalize(original)):
            mark = re.search(rf"[{_DASHES}]", original.strip()[1:])
            raise _range_error(original, mark.group() if mark else dashed.group(2))
        raise ValueParseError(f"「{shown(original)}」の単位「{shown(rest)}」を認識できません"
                              "（使える単位の例: 件、名、人、社、校、回、市町村、%、円、人/日）")
    return rest, per_year, at_least


# 「10-20」「10件－20件」「10ー20」: a range written with a dash (or a long vowel mark) between
# two numbers, as 「10～20」 is with a wave. It read 「単位「-20」を認識できません」, as if the
# second number were a unit; a range it is, refused as one (``_range_error``). 「2024-3」, a
# year and a month, is left to the unit's words; a date has its own (_ISO_DATE, _TEXT_DATE).
_DASHES = re.escape(DASH_CHARS)
_DASHED_RANGE = LazyPattern(rf"([^\d{_DASHES}]*)([{_DASHES}]){_RANGE_NUMBER}([^\d]*)")
_YEAR_MONTH = LazyPattern(r"\d{4}-\d{1,2}")
# 「2024/3/31」 as text (a cell of the Text format keeps it; a 標準 cell makes it a date): a
# date, said so, not 「単位「/3/31」を認識できません」. 「2024-3-31」 as well (a 標準 cell makes
# that a date too; it read 「単位「-3-31」」), and either with its time (「2024/3/31 10:00」
# read 「数字の間に空白があります」).
_TEXT_DATE = LazyPattern(rf"\d{{4}}([/-])\d{{1,2}}\1\d{{1,2}}(?:\s*{_CLOCK})?")


def text_date(text: str) -> bool:
    """Whether ``text`` is a date (perhaps with its time) as staff type one, with 「/」 or
    「-」, half or full width: what a cell of the Text format keeps of 「2024/3/31」."""
    return _TEXT_DATE.fullmatch(unicodedata.normalize("NFKC", text.strip())) is not None


# 「120余人」 (over 120), 「120強」, 「120弱」: a rough figure, said so rather than 「単位「余」」.
_ROUGHLY = "余強弱"


def bare_number(text: str, unit: Optional[str] = None):
    """The plain number in 「17件」「１７」 (int or float), or None when a bare number would
    change what was typed: another unit than ``unit`` (None accepts any), bracketed notes,
    以上, ／年, 各, or anything ``parse_input`` refuses. Used where a numeric input cell must
    hold a number (build, collect)."""
    try:
        v = parse_input(text)
    except ValueParseError:
        return None
    if v.kind != NUMBER or v.notes or v.per_year or v.at_least or v.each:
        return None
    if unit is not None and v.unit and v.family != unit_family(unit):
        return None
    number: Decimal = v.number
    return int(number) if number == number.to_integral_value() else float(number)


def format_number(number: Decimal, unit: str = "") -> str:
    """3676 → 「3,676」; keeps decimals that are there (62.9)."""
    if type(number) is Decimal:
        # Cached by the exact text of the number (Decimal(str(d)) is d, digits and exponent:
        # 2.5 and 2.50 print differently, so the number itself would not do as a key). A
        # breakdown prints one for each municipality: 0.2 µs instead of 0.7 (~0.05 s at 20,000 × 12).
        return _formatted(str(number)) + unit
    return _format(number) + unit


@lru_cache(maxsize=1 << 12)
def _formatted(number_text: str) -> str:
    return _format(Decimal(number_text))


def _format(number: Decimal) -> str:
    # A whole number prints as its int (what normalize() then int() gave, with one test
    # instead of two and no normalize).
    text = f"{int(number):,}" if number == number.to_integral_value() else f"{number:,f}"
    if text.startswith("-"):
        text = "▲" + text[1:]
    return text


class Quotient(float):
    """a／b as the float nearest it, keeping a and b: ``exact`` makes the Fraction only where
    a comparison is near an edge (``below``). A Fraction for every ratio (its gcd on
    construction, its hash in a cache, its float() in each comparison) cost the 20,000-row
    evaluation a tenth of its time; a float subclass costs a float's. Compared and hashed
    as its float, so it is never a cache key where two exact values could meet."""
    __slots__ = ("a", "b")

    @classmethod
    def of(cls, fraction: Fraction) -> "Quotient":
        """An edge drawn once and compared with every row's rate: a float to compare fast."""
        return quotient(Decimal(fraction.numerator), Decimal(fraction.denominator))


Rate = Union[float, Fraction, Quotient]


def exact(rate: Rate) -> Fraction:
    """A rate or a share as the exact number it stands for: a float by its shortest repr
    (設定's 0.85 is the 0.85 staff typed, not the binary 0.8499999999999999778), a Fraction
    as it is. The bands are drawn on these (``below``), with no tolerance: 0.999999999999円
    of 1円, or 27兆8999億9999万9990円 of 27兆9千億円, is short of 100 % and was ◎ at
    「100.0%」 within the 1e-12 a float comparison allowed."""
    kind = type(rate)
    if kind is Fraction:
        return rate
    if kind is Quotient:
        return Fraction(*_parts(rate))
    return _float_exact(rate) if kind is float else Fraction(rate)


def _parts(rate: Quotient) -> tuple[int, int]:
    """(numerator, denominator) of a／b in integers, the denominator above zero."""
    n1, d1 = rate.a.as_integer_ratio()
    n2, d2 = rate.b.as_integer_ratio()
    n, d = n1 * d2, d1 * n2
    return (-n, -d) if d < 0 else (n, d)


def quotient(a: Decimal, b: Decimal) -> Quotient:
    """a／b, to judge by ``below`` and print by ``shown_within``, exactly. Made here, not by a
    ``__new__`` of Quotient's: a Python-level constructor doubled its cost (one per row)."""
    rate = _new_float(Quotient, a / b)     # 28 digits, then the float nearest: within 1e-15
    rate.a, rate.b = a, b
    return rate


_new_float = float.__new__


@lru_cache(maxsize=64)
def _float_exact(rate: float) -> Fraction:
    return Fraction(Decimal(repr(rate)))


# Two rates farther apart than this (relative) compare as their floats do: a float is
# within 1.2e-16 of the number it stands for. Nearer, they are compared exactly.
_FAR = 1e-9


def below(rate: Rate, edge: Rate) -> bool:
    """Whether ``rate`` is under ``edge``, exactly (``exact``): the one comparison the bands
    and the printed rates use. Floats decide when the two are far apart (a Fraction's
    arithmetic for every row doubled the evaluation's time)."""
    a, b = float(rate), float(edge)
    if abs(a - b) > _FAR * max(1.0, abs(b)):
        return a < b
    return exact(rate) < exact(edge)


def _to_step(rate: Rate, rounding: str, places: int = 3) -> float:
    """``rate`` to 0.1 % as ``rounding`` says: a float from its shortest repr (0.85 stays
    0.850; 0.85 × 1000 in binary is 849.999…), a Fraction exactly, never through a float.
    A rate that rounds to zero is 0.0, not −0.0 (``or`` turns −0.0, which is false)."""
    kind = type(rate)
    if kind is float:
        step = _RATE_STEP if places == 3 else Decimal(1).scaleb(-places)
        return float(Decimal(repr(rate)).quantize(step, rounding=rounding, context=_EVERY_DIGIT)) or 0.0
    if kind is Quotient:
        n, d = _parts(rate)
    else:
        rate = exact(rate)
        n, d = rate.numerator, rate.denominator
    n *= 10 ** places       # in integers: a Fraction's operators cost
    if rounding == ROUND_FLOOR:
        steps = n // d
    elif rounding == ROUND_CEILING:
        steps = -(-n // d)
    else:   # ROUND_HALF_UP: halves away from zero, as Decimal's
        steps = (2 * abs(n) + d) // (2 * d) * (-1 if n < 0 else 1)
    return steps / 10 ** places or 0.0     # int / int is correctly rounded, however large


def rounded_rate(fraction: Rate) -> float:
    """A rate as printed: to 0.1 %, halves up (``_to_step``). The cells that hold a rate
    (達成率, 集計's 年度別 達成割合) store this, not the rate to four places: 0.74648 stored
    as 0.7465 showed 「74.7%」 in Excel beside a text that said 「74.6%」; a 進捗率 still at
    its 基準値 printed 「-0.0%」."""
    return _to_step(fraction, ROUND_HALF_UP)


def floored_rate(fraction: Rate, rounding: str = ROUND_FLOOR, places: int = 3) -> float:
    """``rounded_rate`` rounded down instead, or as ``rounding`` says (``shown_within``)."""
    return _to_step(fraction, rounding, places)


_RATE_STEP = Decimal("0.001")
# Digits enough for any float to 0.001 (1.8e308 has 309 before the point): the default 28
# raised InvalidOperation for a rate from 10^25 up (999,999,999,999円 against a target of
# 0.000000000000000001円), which ended the recalculation as an unexpected error.
_EVERY_DIGIT = DecimalContext(prec=320)


def shown_within(fraction: Rate, edges: Iterable[Rate], places: int = 3) -> float:
    """A rate as printed (``rounded_rate``), kept on the side of each of ``edges`` (where a
    symbol changes: 100 %, the threshold) that the rate itself is on, as the bands compare
    (rules.symbol_for_ratio: both by ``below``). A rate below an edge that rounds onto it
    is rounded down (84.9996 % beside × prints 「84.9%」, not 「85.0%」), one at an edge that
    rounds below it is rounded up (an edge off the 0.1 % steps: 62.31 % against 62.305 %).
    A printed rate that is judged again (a 比率's 実績値 「59.5%」 against 「70%」) thus gets
    the symbol of the exact rate. ``places``: decimals of the fraction (3: 0.1 %)."""
    shown = _to_step(fraction, ROUND_HALF_UP, places)
    near = 10.0 ** -places      # printing moves a rate by half a step at most
    rate = float(fraction)
    for edge in edges:
        if abs(rate - float(edge)) > near:      # the printed rate is on the rate's side: nothing to keep
            continue
        under, printed_under = below(fraction, edge), below(shown, edge)
        if under and not printed_under:
            return floored_rate(fraction, ROUND_FLOOR, places)
        if printed_under and not under:
            return floored_rate(fraction, ROUND_CEILING, places)
    return shown


def shown_share(fraction: Rate, edges: tuple[Rate, ...]) -> str:
    """A share printed to judge by (a 比率 row's 実績値): to 0.1 %, on the side of each edge
    that the share is on (``shown_within``), with more decimals where one decimal has no
    step between two edges: against 「0.10%」 at 85 %, 1／1001 (0.0999 %, □) printed 「0.0%」
    (below 0.085 %, ×) or 「0.1%」 (◎); it prints 「0.09%」. Edges closer than 10^-12 of the
    whole are printed at that step, on the side of the last edge."""
    for digits in range(1, 11):
        shown = shown_within(fraction, edges, digits + 2)
        if all(below(shown, edge) == below(fraction, edge) for edge in edges):
            break
    return format_percent(shown, digits)


def format_rate(fraction: float) -> str:
    """``rounded_rate`` as text: 0.74648 → 「74.6%」, 11/12 → 「91.7%」."""
    return format_percent(rounded_rate(fraction))


def format_percent(fraction: float, digits: Optional[int] = 1) -> str:
    """A fraction as staff read it: 0.629 → 「62.9%」 (a rate, as 一覧 prints it); with
    ``digits=None`` as few digits as it needs, 0.85 → 「85%」 (a threshold or a target)."""
    if digits is None:
        return f"{fraction * 100:g}%"
    return f"{fraction * 100:.{digits}f}%"


def typed_percent(fraction: Decimal) -> str:
    """The percent that, typed into a cell, Excel stores as ``fraction``, every digit kept:
    0.732 → 「73.2%」, 0.85 → 「85%」 (format_percent rounds: it prints rates). What a message
    proposes for a bare fraction staff may have meant as a percent (validate, rules and
    percent_cells each worked it out themselves)."""
    return format_number((fraction * 100).normalize()) + "%"

"""The tool's look system: named looks, print setups and the sheet protection, as plain data.

Every workbook the tool writes takes its appearance from here: sheets written in place
(一覧, 集計, 検証結果, … through either applier), new masters and the emailed input files
(XlsxWriter), the 確定版 and the PDF source (the file applier on a new book). Each writer
has one translation of these records (renkei_xl.package.styles and workbook.apply for the
package, excel.apply and excel.desktop's com_page_setup and com_protection for xlwings, which
the server's VBA client is sent too, workbook.xlsx for XlsxWriter) and no literals of its
own, so a change of colour, size or page here shows in every file.

A look is everything a cell's appearance needs, in terms all writers can express. Looks
are named so that a plan stays small (20,000 rows share a handful of looks) and a test can
say "this cell has the header look". A new look belongs in ``LOOKS``; a new field of Look
gets a default, so every look written before it keeps meaning what it meant.

The font: **Meiryo UI, 9 pt** for every look but titles, and the rows are fitted for it
(renkei_xl.core.text_fit).

- It is on every Japanese Windows since Vista, so on every municipal PC without
  installing anything, and the PDF made through Excel uses it too; it prints as it shows.
- 游ゴシック, the Office default since 2016, changes its metrics between Windows versions
  and between screen and printer: text that fits a cell on screen is often clipped on
  paper, and a row fitted for it in advance (which is all the tool can do: neither Excel
  nor LibreOffice sizes rows for text written into a file) cannot be trusted.
- text_fit's metrics hold for it: a full-width character is 1 em (12 px at 9 pt), and its
  line is no taller than the 1.5 em text_fit allows (Meiryo UI is Meiryo with the line
  spacing cut down), so the estimate errs on the tall side; LibreOffice, which renders
  Noto Sans CJK in its place, needs 13.0 pt a line at 9 pt, also below 13.5.
- 9 pt keeps the official 一覧's eleven columns readable on A3 landscape.

The workbook's default font (``NORMAL``: the Normal style of a new master or input file) is
the same family at 10 pt, because Excel measures column widths in digits of the default
font: Meiryo UI 10's digit is about 7 px, as Calibri 11's, and text_fit's characters per
width unit assume it (the 確定版 keeps Calibri 11: renkei_xl.workbook.fresh says why).
"""

# No ``from __future__ import annotations`` here: typing.NamedTuple compiles each string
# annotation (a ForwardRef), and Look's thirteen are made at every command's start.

from typing import NamedTuple, Optional

from . import contract as c
from .face import again
from .plan_types import PrintSetup, Protection
from .symbols import ACHIEVED, MISSED, NEARLY, NOT_EVALUABLE, NOT_YET

__all__ = ["BORDER_COLOR", "FONT_NAME", "FONT_SIZE", "LOOKS", "NORMAL", "NORMAL_FONT_SIZE", "PAPER_CODES",
           "PRINTS", "PROTECTION", "SYMBOL_FILLS", "Look", "PrintSetup", "Protection", "look", "print_setup"]

FONT_NAME = "Meiryo UI"
FONT_SIZE = 9.0                 # every body look; what text_fit fits rows for
NORMAL_FONT_SIZE = 10.0         # the default font of a new workbook: the unit of column widths
BORDER_COLOR = "808080"         # thin grey: visible in print, quieter than black on screen
# Each evaluation symbol's fill, drawn by conditional formats (core.sheet_grid.symbol_colours), so a
# symbol typed by hand is coloured too. In this order the formats are written on every face.
SYMBOL_FILLS = {ACHIEVED: "C6EFCE", NEARLY: "FFEB9C", MISSED: "FFC7CE", NOT_EVALUABLE: "D9D9D9", NOT_YET: "D9D9D9"}
# Paper codes: OOXML's ST_PaperSize, Excel's XlPaperSize and XlsxWriter's set_paper agree.
PAPER_CODES = {"A3": 8, "A4": 9}


class Look(NamedTuple):
    font_size: float = FONT_SIZE
    bold: bool = False
    font_color: Optional[str] = None        # "RRGGBB"; None: automatic
    underline: bool = False
    fill: Optional[str] = None              # solid fill "RRGGBB"; None: no fill
    border: bool = False                    # thin, ``border_color``, on all four sides
    h_align: Optional[str] = None           # "left" / "center" / "right"; None: general
    v_align: Optional[str] = None           # "top" / "center"; None: bottom (Excel's default)
    wrap: bool = False
    number_format: Optional[str] = None     # None: General
    font_name: str = FONT_NAME
    border_color: str = BORDER_COLOR        # "RRGGBB" of the border (when ``border``)
    locked: bool = True                     # False: typed into on a protected sheet


NORMAL = Look(font_size=NORMAL_FONT_SIZE)

_BODY = Look(border=True, v_align="top", wrap=True)
_HEADER = Look(bold=True, fill=c.HEADER_FILL, border=True, h_align="center", v_align="center", wrap=True)
_SYMBOL = Look(font_size=12, bold=True, border=True, h_align="center", v_align="center", wrap=True)

LOOKS: dict[str, Look] = {
    "title": Look(font_size=14, bold=True),
    "legend": Look(),
    "header": _HEADER,
    "body": _BODY,
    "kpi": _BODY._replace(fill=c.KPI_FILL),
    "total": _BODY._replace(bold=True),
    "total_right": _BODY._replace(bold=True, h_align="right"),
    "symbol": _SYMBOL,
    "symbol_kpi": _SYMBOL._replace(fill=c.KPI_FILL),
    "rate": _BODY._replace(number_format=c.RATE_FORMAT),
    "rate_kpi": _BODY._replace(fill=c.KPI_FILL, number_format=c.RATE_FORMAT),
    "link": _BODY._replace(font_color=c.LINK_COLOR, underline=True),
    "error": _BODY._replace(bold=True, font_color=c.ERROR_COLOR),
    "datetime": _BODY._replace(number_format=c.DATETIME_FORMAT),
    # 検証結果's count row: one line of text running on over the empty cells to its right.
    "note": Look(bold=True, font_color=c.ERROR_COLOR),
    # --- the sheets a new master is built with (renkei_xl.workbook.build)
    "heading": Look(font_size=12, bold=True),                 # a block's name above it
    "label": Look(bold=True, fill=c.HEADER_FILL, border=True),  # a name beside its value
    "text": Look(v_align="top"),
    "text_wrap": Look(v_align="top", wrap=True),
    "hint": Look(font_color="595959", v_align="center"),      # grey explanation beside a cell
    "setting": Look(border=True, locked=False),               # a value staff set on 設定
    "setting_date": Look(border=True, h_align="left", number_format="yyyy/mm/dd", locked=False),
    "setting_rate": Look(border=True, h_align="left", number_format=c.RATE_FORMAT, locked=False),
    "setting_integer": Look(border=True, h_align="left", number_format="0", locked=False),
    "input": Look(fill=c.INPUT_FILL, v_align="top", locked=False),
    "input_wrap": Look(fill=c.INPUT_FILL, v_align="top", wrap=True, locked=False),
    # A municipality's input workbook (renkei_xl.core.input_sheet): the lines above the
    # table, the identifier block, the grey columns to read and the cream cells to type in.
    "input_strong": Look(bold=True),
    "input_due": Look(bold=True, font_color=c.ERROR_COLOR),
    "input_label": Look(bold=True, fill=c.HEADER_FILL, border=True),
    "input_id": Look(border=True, h_align="left"),
    "input_reference": _BODY._replace(fill=c.REFERENCE_FILL),
    "input_entry": Look(border=True, v_align="top", fill=c.INPUT_FILL, locked=False),
    "input_entry_wrap": _BODY._replace(fill=c.INPUT_FILL, locked=False),
}


def look(name: str) -> Look:
    return LOOKS[name]


# ------------------------------------------------------------------ print setups

# Named print setups; a sheet's own titles, area and breaks are added with _replace.
PRINTS: dict[str, PrintSetup] = {
    "a3": PrintSetup("A3"),              # the official 一覧's page, and 指標 like it
    "a4": PrintSetup("A4"),              # every other sheet, one page wide
    "a4_one_page": PrintSetup("A4", fit_height=1),   # メニュー: one page whole
}


def print_setup(name: str, **sheet_own) -> PrintSetup:
    return PRINTS[name]._replace(**sheet_own)


# -------------------------------------------------------------------- protection

# One protection for every protected sheet the tool writes, whoever writes it: staff may
# widen a column, heighten a row to read a long text, and filter 検証結果, but not change
# what the tool wrote (input cells are unlocked looks instead). A sheet a click added is
# protected with the same options: the server's answer sends them to the master's VBA
# (renkei_xl.excel.remote.RemoteBook.writable), which keeps no copy.
PROTECTION = Protection()


# ------------------------------------------------------------------ cell formats

# The most cell formats a book holds: Microsoft's [MS-OI29500] (2.1.727, cellXfs) has Office
# require the cell formats and the non-built-in cell style formats together to be at most
# 65,430 (its "Excel specifications and limits" says 65,490 unique cell formats/cell styles;
# the lower number is the file's). A master whose staff pasted formats from many books
# (Excel's 「セルの書式が多すぎます」) can stand just under it, and the looks and marks a
# write adds take it past: Excel then reports the file damaged and repairs it by dropping
# formats. Each write adds at most a few dozen (7 to a fresh master's first 再計算, a
# derived format per distinct staff format a mark paints), so the write is refused, never
# trimmed: which staff formats to drop is staff's to choose.
MAX_CELL_FORMATS = 65_430
# The most formats the buttons' write can make on the way to its looks besides the final ones
# (excel.apply.formats_on_the_way): per look, linked or not, one combination per attribute
# and the 14 borders of some but not all four sides. Below it a book far from the limit is
# let through without counting them.
MOST_ON_THE_WAY = 2 * len(LOOKS) * (len(Look._fields) + 14)


def too_many_formats(have: int, adding: int) -> Optional[str]:
    """What a write says when the formats it adds (``adding``) take a book that has ``have``
    past MAX_CELL_FORMATS; None when they fit (or it adds none: a book past the limit
    already, which Excel would not have saved, is written as the writes before)."""
    if adding <= 0 or have + adding <= MAX_CELL_FORMATS:
        return None
    return (f"このブックにはセルの書式が {have:,} 個あり、ツールが書式を {adding:,} 個加えると Excel の上限 "
            f"{MAX_CELL_FORMATS:,} 個を超えるため、書き込みませんでした（超えたブックは、Excel が開くときに"
            "「問題が見つかりました」として書式を削ります）。使っていないセルのスタイル（ホーム → セルのスタイルで"
            "右クリックして削除）や、ほかのブックから貼り付けた書式を減らして上書き保存してから、"
            f"もう一度{again()}ください")

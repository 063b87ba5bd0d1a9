"""The named looks of the tool's sheets: one definition that both appliers render.

A look is everything a cell's appearance needs, in terms both faces can express: the file
applier turns it into a ``<xf>`` of styles.xml, the live applier into xlwings font, fill,
border, alignment and number-format calls. Looks are named so that a plan stays small
(20,000 rows share a handful of looks) and a test can say "this cell has the header look".
"""

from __future__ import annotations

from typing import NamedTuple, Optional

from . import contract as c

FONT_NAME = "游ゴシック"
BORDER_COLOR = "808080"


class Look(NamedTuple):
    font_size: float = 9.0
    bold: bool = False
    font_color: Optional[str] = None        # "RRGGBB"; None: automatic
    underline: bool = False
    fill: Optional[str] = None              # solid fill "RRGGBB"; None: no fill
    border: bool = False                    # thin grey on all four sides
    h_align: Optional[str] = None           # "left" / "center" / "right"; None: general
    v_align: Optional[str] = None           # "top" / "center"; None: bottom (Excel's default)
    wrap: bool = False
    number_format: Optional[str] = None     # None: General
    font_name: str = FONT_NAME
    locked: bool = True                     # False: open for typing on a protected sheet


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

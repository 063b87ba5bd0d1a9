"""Excel's error values as Windows COM hands them over, turned into their text.

Through COM a cell holding an error is a VT_ERROR variant, which pywin32 turns into a
plain ``int``: the SCODE ``0x800A0000 | code`` with Excel's ``XlCVError`` code (2042 for
#N/A). xlwings' ``err_to_str`` knows the seven classic codes only (``_xlwindows.cell_errors``)
and hands every other one over as that int, so a #SPILL! in 実績値 would read as the number
-2146826243. Numbers never come as ``int`` through COM (Excel's numbers are doubles, VT_R8),
so an int in this range is an error value, and any code Excel adds later is still one.
"""

from __future__ import annotations

from typing import Optional

from ..core.values import UNKNOWN_ERROR

_FACILITY = -2146828288          # 0x800A0000 as a signed 32-bit SCODE
# XlCVError (learn.microsoft.com/office/vba/api/excel.xlcverror) and the error values of
# Excel 365 (dynamic arrays, linked data types, Python in Excel).
CODES = {2000: "#NULL!", 2007: "#DIV/0!", 2015: "#VALUE!", 2023: "#REF!", 2029: "#NAME?", 2036: "#NUM!",
         2042: "#N/A", 2043: "#GETTING_DATA", 2045: "#SPILL!", 2046: "#CONNECT!", 2047: "#BLOCKED!",
         2048: "#UNKNOWN!", 2049: "#FIELD!", 2050: "#CALC!", 2051: "#BUSY!", 2222: "#PYTHON!"}
# Codes Excel may add (#EXTERNAL!'s is not documented): read as UNKNOWN_ERROR, the file
# face's word for an error of a kind it cannot name, never as a number, and never as
# 「#UNKNOWN!」, which is a kind of its own (2048) and not what the cell shows.
_LOW, _HIGH = 2000, 2999


def error_text(value: object) -> Optional[str]:
    """The error value a COM cell value stands for, or None when it is not one."""
    if type(value) is not int:
        return None
    code = value - _FACILITY
    if not _LOW <= code <= _HIGH:
        return None
    return CODES.get(code, UNKNOWN_ERROR)


def clean_grid(rows: list[list[object]]) -> list[list[object]]:
    """``rows`` with every COM error int replaced by its text (in place; returned)."""
    for row in rows:
        for i, value in enumerate(row):
            if type(value) is int and error_text(value) is not None:
                row[i] = error_text(value)
    return rows

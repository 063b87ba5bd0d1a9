"""Which sheets a formula may read, told from its text alone (core.calc_on_load asks).

A command-line write asks Excel to calculate on opening, and until Excel has, a formula's
saved result may be stale. It is stale only if the formula reads, directly or through
other formulas, a sheet the tool's writes changed. The text answers that for the formulas
staff type into a cell the contract reads (=SUM(札幌市!E5,小樽市!E5), =小樽市!E5*2, =K3+1)
and not for everything else, which is then taken to read any sheet:
- a defined name (概ね達成閾値, a LET or LAMBDA parameter _xlpm.x): its definition is elsewhere;
- INDIRECT and any function outside ``_READS_ARGUMENTS_ONLY`` (a staff VBA function, a
  volatile TODAY(), GETPIVOTDATA): what it reads is not in the text;
- an external or 3-D reference ([1]Sheet1!A1, 'Sheet1:Sheet3'!A1) and a structured
  reference (Table1[Col]): brackets, or a range of sheets this text does not list.
So an answer errs only towards "may read a changed sheet", which costs staff an Excel
save, never a stale number published as current.

Hand-written rather than openpyxl's ``openpyxl.formula.tokenizer.Tokenizer``: importing
openpyxl costs about 0.26 s, twice a whole FY2023 recalc (docs/performance.md), and the
tokenizer's operands would still have to be told apart here (a sheet prefix, a cell, a
column range, a name). Formulas are read as Excel stores them in the file (A1 style,
English function names, no leading "=", ``_xlfn.`` before newer functions);
tests/test_stale_results.py checks the operands against openpyxl's tokenizer.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Optional

from .refs import COLUMN_LETTERS, LAST_COLUMN, column_number

# Functions whose result depends on their arguments alone (the references among them are
# in the text). Anything else may read what the text does not show. As stored in the
# file: newer functions carry _xlfn. (and _xlws.), taken off before the look-up.
_READS_ARGUMENTS_ONLY = frozenset("""
ABS ACOS AGGREGATE ANCHORARRAY AND ASIN ATAN ATAN2 AVERAGE AVERAGEA AVERAGEIF AVERAGEIFS CEILING
CEILING.MATH CHAR CHOOSE CLEAN CODE COLUMN COLUMNS CONCAT CONCATENATE COS COUNT COUNTA
COUNTBLANK COUNTIF COUNTIFS DATE DATEDIF DATEVALUE DAY DAYS EDATE EOMONTH EXACT EXP FIND
FILTER FLOOR FLOOR.MATH HLOOKUP HOUR IF IFERROR IFNA IFS INDEX INT ISBLANK ISERR ISERROR
ISEVEN ISLOGICAL ISNA ISNONTEXT ISNUMBER ISODD ISTEXT JIS LARGE LEFT LEFTB LEN LENB LN LOG
LOG10 LOOKUP LOWER MATCH MAX MAXA MAXIFS MEDIAN MID MIDB MIN MINA MINIFS MINUTE MOD MONTH
MROUND N NETWORKDAYS NOT NUMBERVALUE OFFSET OR PERCENTILE PI POWER PRODUCT PROPER QUOTIENT
RANK RANK.EQ REPLACE REPT RIGHT RIGHTB ROUND ROUNDDOWN ROUNDUP ROW ROWS SEARCH SECOND SIGN
SIN SMALL SORT SQRT STDEV STDEV.P STDEV.S SUBSTITUTE SUBTOTAL SUM SUMIF SUMIFS SUMPRODUCT
SINGLE SWITCH T TAN TEXT TEXTJOIN TIME TRIM TRUNC UNIQUE UPPER VALUE VLOOKUP WEEKDAY WORKDAY
XLOOKUP XMATCH XOR YEAR
""".split())

_SHEET_CHARS = r"""[^\s'"!(){},;:+\-*/^&=<>%\[\]#$@]"""
_NOT_AFTER_REF = r"(?![\w.(\u0080-\U0010ffff])"
# A column's letters in either case, as many as the grid's (XFD): four (ABCD1) spell a name.
_COLUMN = f"[A-Za-z]{{1,{COLUMN_LETTERS}}}"
# Compiled when first asked (about 10 ms: the character classes span all of Unicode), which
# only a flagged master with a formula in a cell the contract reads does.
_TOKEN_PATTERN = (
    r'(?P<string>"(?:[^"]|"")*")'
    r"|(?P<quoted>'(?P<qname>(?:[^']|'')*)'!)"
    r"|(?P<sheet>(?P<sname>" + _SHEET_CHARS + r"+(?::" + _SHEET_CHARS + r"+)?)!)"
    r"|(?P<error>#(?:N/A|[A-Z0-9/]+[!?]))"
    r"|(?P<rows>\$?\d+:\$?\d+)" + _NOT_AFTER_REF +                  # 5:5, $1:$3
    r"|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    rf"|(?P<cell>\$?{_COLUMN}\$?\d+)" + _NOT_AFTER_REF +          # E5, $E$5
    rf"|(?P<columns>\$?{_COLUMN}:\$?{_COLUMN})" + _NOT_AFTER_REF +   # H:H
    r"|(?P<function>[A-Za-z_\\\u0080-\U0010ffff][\w.\\\u0080-\U0010ffff]*)\("
    r"|(?P<name>[A-Za-z_\\\u0080-\U0010ffff][\w.\\?\u0080-\U0010ffff]*)"
    r"|(?P<other>.)")
_FUTURE = re.compile(r"^(?:_xlfn\.)?(?:_xlws\.)?")
_BOOLEANS = ("TRUE", "FALSE")


def sheets_read(formula: str, own: str) -> Optional[frozenset]:
    """The sheets ``formula`` (on sheet ``own``) refers to, case-folded as Excel compares
    sheet names; None when the text cannot tell (see the module's docstring)."""
    out = set()
    prefixed_to = -1      # where the last reference after a sheet prefix ends (札幌市!E5|:E9)
    for m in _token().finditer(formula):
        kind = m.lastgroup
        if kind in ("quoted", "sheet"):
            name = m.group("qname").replace("''", "'") if kind == "quoted" else m.group("sname")
            if ":" in name or name.startswith("["):      # 3-D, or another workbook
                return None
            out.add(name.casefold())
            prefixed_to = m.end()
        elif kind in ("cell", "columns", "rows"):
            if kind != "rows" and not _in_grid(m.group(0)):
                return None
            if m.start() == prefixed_to or (m.start() == prefixed_to + 1 and formula[prefixed_to] == ":"):
                prefixed_to = m.end()                    # the prefix's sheet, counted above
            else:
                out.add(own.casefold())
        elif kind == "function":
            if _FUTURE.sub("", m.group("function")).upper() not in _READS_ARGUMENTS_ONLY:
                return None
        elif kind == "name":
            if m.group(0).upper() not in _BOOLEANS:
                return None
        elif kind == "other" and m.group(0) in "['":
            return None                                  # a structured reference, an odd quote
    return frozenset(out)


@lru_cache(maxsize=None)
def _token() -> "re.Pattern[str]":
    return re.compile(_TOKEN_PATTERN, re.S)


def _in_grid(ref: str) -> bool:
    """Columns A … XFD: beyond them the same letters and digits (XFE1) are a name's."""
    return all(column_number(letters.upper()) <= LAST_COLUMN for letters in re.findall(r"[A-Za-z]+", ref))


"""What every workbook XlsxWriter writes for the tool shares: font, strings kept as
strings, the header and input looks, and data validations rendered from the core's rules.

New masters (build) take these from here, and the skeleton of a municipality's input
file (renkei_xl.workbook.input_book) its workbook options; the input sheet itself is a
plan rendered by the package writer, with the same rules (core.methods) and colours
(core.contract), so a partner sees the master's colours and rules in the file they fill.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Optional

from ..core import contract as c
from ..core.contract_read import text
from ..core.methods import INPUT_ERROR_TITLE, InputRule

# Meiryo UI: on every Windows since Vista, compact enough for the long Japanese texts
# of 事業概要 and 実施状況, and it prints as it shows. 游ゴシック (the Office default)
# changes its metrics between Windows versions and often clips text when printed.
# charset 128 (SHIFTJIS_CHARSET) is what Excel writes for Japanese fonts.
FONT = {"font_name": "Meiryo UI", "font_size": 10, "font_charset": 128, "font_family": 3}
# XlsxWriter's write() turns a string starting with "=" into a live formula and a URL into a
# link by default; what staff or a municipality typed must arrive as the text it was.
TEXT_STAYS_TEXT = {"strings_to_formulas": False, "strings_to_urls": False}
# in_memory: the parts are assembled in memory and zipped once, not written to temporary
# files and read back (a split of 40 files otherwise creates and removes hundreds).
WORKBOOK_OPTIONS = {"default_format_properties": dict(FONT), **TEXT_STAYS_TEXT, "in_memory": True}

HEADER = {"bold": True, "bg_color": c.HEADER_FILL, "border": 1, "text_wrap": True,
          "valign": "vcenter", "align": "center"}
LABEL = {"bold": True, "bg_color": c.HEADER_FILL, "border": 1}
INPUT = {"valign": "top", "bg_color": c.INPUT_FILL, "locked": False}


def write_value(ws, row: int, col: int, value, fmt=None) -> None:
    """One cell, typed by its Python value: text is always written as text ("=…", "0012"
    and URLs arrive as typed), numbers as numbers, dates as the text the master shows."""
    if value is None or value == "":
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, (int, float, Decimal)):
        ws.write_number(row, col, float(value), fmt)
    elif isinstance(value, dt.datetime):
        ws.write_string(row, col, text(value), fmt)
    elif isinstance(value, dt.date):
        ws.write_string(row, col, value.isoformat(), fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def validation(rule: Optional[InputRule]) -> Optional[dict]:
    """XlsxWriter's data_validation options for a core InputRule (None stays None)."""
    if rule is None:
        return None
    options = {"validate": rule.kind, "input_title": rule.title, "input_message": rule.prompt,
               "error_title": INPUT_ERROR_TITLE, "error_message": rule.error, "ignore_blank": True}
    if rule.kind == "list":
        options["source"] = "=" + rule.list_name
    else:
        options.update(criteria=rule.criteria, value=rule.minimum)
    if rule.warning_only:
        options["error_type"] = "warning"
    return options


def prompt(kind: str, title: str, message: str, error: str, **rule) -> dict:
    """A data validation the builder states itself (設定, 指標), in the same shape."""
    return {"validate": kind, "input_title": title, "input_message": message,
            "error_title": INPUT_ERROR_TITLE, "error_message": error, **rule}


class ValidationRuns:
    """Data validations of one sheet, one per rule and column, over every run of rows that
    has it (a multi-area sqref, as Excel itself keeps a rule copied down a column), not
    one per cell: a 2,000-row sheet otherwise carries thousands of rules, which XlsxWriter
    is slow to write (it scans each list formula for ~150 function names) and Excel slow
    to open (benchmarks/server.py: split of a 2,000 × 40 master). ``close`` writes them."""

    MAX_AREAS = 500                             # per validation; more start another

    def __init__(self, ws) -> None:
        self.ws = ws
        self._runs: dict[tuple[int, tuple], list[list[int]]] = {}   # (col, rule key) -> [first, last] rows
        self._rules: dict[tuple, dict] = {}

    def add(self, row: int, col: int, rule: Optional[dict]) -> None:
        if not rule:
            return
        key = tuple(sorted(rule.items()))
        self._rules[key] = rule
        runs = self._runs.setdefault((col, key), [])
        if runs and runs[-1][1] == row - 1:
            runs[-1][1] = row
        else:
            runs.append([row, row])

    def close(self) -> None:
        from xlsxwriter.utility import xl_range

        for (col, key), runs in self._runs.items():
            rule = self._rules[key]
            for i in range(0, len(runs), self.MAX_AREAS):
                chunk = runs[i:i + self.MAX_AREAS]
                options = dict(rule)
                if len(chunk) > 1:
                    options["multi_range"] = " ".join(xl_range(a, col, b, col) for a, b in chunk)
                self.ws.data_validation(chunk[0][0], col, chunk[0][1], col, options)
        self._runs.clear()

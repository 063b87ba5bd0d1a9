"""What every workbook XlsxWriter writes for the tool shares: the core's looks, print setups
and protection translated once for XlsxWriter, strings kept as strings, and data
validations rendered from the core's rules.

New masters (build) and the skeleton of a municipality's input file (split; its sheet is a
core plan the package writer renders) take these from here, so a decision is made once (the rules in core.methods, the looks, pages and protection in
core.looks, the colours in core.contract). Nothing here has a look of its own.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Optional

from ..core.contract_read import text
from ..core.looks import LOOKS, NORMAL, PAPER_CODES, PROTECTION, Look, PrintSetup, Protection
from ..core.methods import InputRule, error_title

# charset 128 (SHIFTJIS_CHARSET) and family 3 (modern) are what Excel writes for Japanese
# fonts, and what the package writer writes (renkei_xl.package.styles).
_FONT_EXTRAS = {"font_charset": 128, "font_family": 3}


def _points(size: float):
    """A font size as Excel writes it: 10, not the 10.0 XlsxWriter would write for a float."""
    return int(size) if float(size).is_integer() else size


# The workbook's default font (the Normal style): core.looks says why it is what it is.
FONT = {"font_name": NORMAL.font_name, "font_size": _points(NORMAL.font_size), **_FONT_EXTRAS}
# XlsxWriter's write() turns a string starting with "=" into a live formula and a URL into a
# link by default; what staff or a municipality typed must arrive as the text it was.
TEXT_STAYS_TEXT = {"strings_to_formulas": False, "strings_to_urls": False}


def workbook_options() -> dict:
    """XlsxWriter's Workbook options, made anew for each workbook. XlsxWriter keeps the
    ``default_format_properties`` dict it is given and adds its theme font to it: one dict
    shared by every workbook of a process made the first workbook's Normal font differ from
    all later ones' (no ``<scheme val="minor"/>``), so split wrote 札幌市's file, the first of
    a process, differently on each server worker, and backed up an untouched file (qa-105).
    in_memory: the parts are assembled in memory and zipped once, not written to temporary
    files and read back (a split of 40 files otherwise creates and removes hundreds)."""
    return {"default_format_properties": dict(FONT), **TEXT_STAYS_TEXT, "in_memory": True}
_V_ALIGN = {"center": "vcenter"}


def format_of(look: Look) -> dict:
    """XlsxWriter's format properties for a core Look: XlsxWriter's one translation of it."""
    props: dict = {"font_name": look.font_name, "font_size": _points(look.font_size), **_FONT_EXTRAS}
    if look.bold:
        props["bold"] = True
    if look.font_color:
        props["font_color"] = "#" + look.font_color
    if look.underline:
        props["underline"] = 1
    if look.fill:
        props["bg_color"] = "#" + look.fill
    if look.border:
        props.update(border=1, border_color="#" + look.border_color)
    if look.h_align:
        props["align"] = look.h_align
    if look.v_align:
        props["valign"] = _V_ALIGN.get(look.v_align, look.v_align)
    if look.wrap:
        props["text_wrap"] = True
    if look.number_format:
        props["num_format"] = look.number_format
    if not look.locked:
        props["locked"] = False
    return props


class Formats:
    """The XlsxWriter formats of one workbook, one per named look, made when first asked
    (``formats["header"]``)."""

    def __init__(self, wb) -> None:
        self.wb = wb
        self._made: dict[str, object] = {}

    def __getitem__(self, name: str):
        made = self._made.get(name)
        if made is None:
            made = self._made[name] = self.wb.add_format(format_of(LOOKS[name]))
        return made


def print_setup(ws, setup: PrintSetup) -> None:
    """A core PrintSetup on an XlsxWriter worksheet (rows 1-based in the setup)."""
    if setup.landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_paper(PAPER_CODES[setup.paper])
    ws.fit_to_pages(setup.fit_width, setup.fit_height)
    if setup.center_horizontally:
        ws.center_horizontally()
    left, right, top, bottom = setup.margins
    ws.set_margins(left=left, right=right, top=top, bottom=bottom)
    ws.set_header("", {"margin": setup.header_margin})
    ws.set_footer(f"&C{setup.centre_footer}" if setup.footer else "",
                  {"margin": setup.footer_margin})
    if setup.title_rows:
        ws.repeat_rows(setup.title_rows[0] - 1, setup.title_rows[1] - 1)
    if setup.area:
        r1, c1, r2, c2 = setup.area
        ws.print_area(r1 - 1, c1 - 1, r2 - 1, c2 - 1)
    if setup.row_breaks:
        ws.set_h_pagebreaks(list(setup.row_breaks))


def protect(ws, protection: Protection = PROTECTION) -> None:
    """A core Protection on an XlsxWriter worksheet, without a password (XlsxWriter's
    "objects"/"scenarios" say what stays editable, the core's what is protected)."""
    p = protection
    ws.protect("", {"objects": not p.drawing_objects, "scenarios": not p.scenarios,
                    "format_cells": p.format_cells, "format_columns": p.format_columns,
                    "format_rows": p.format_rows, "insert_columns": p.insert_columns,
                    "insert_rows": p.insert_rows, "insert_hyperlinks": p.insert_hyperlinks,
                    "delete_columns": p.delete_columns, "delete_rows": p.delete_rows, "sort": p.sort,
                    "autofilter": p.autofilter, "pivot_tables": p.pivot_tables})




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
               "error_title": error_title(rule.warning_only), "error_message": rule.error, "ignore_blank": True}
    if rule.kind == "list":
        options["source"] = "=" + rule.list_name
    elif rule.also:    # its formula names the area's first cell: written by ValidationRuns.close
        options.update(validate="custom", formula_of=rule)
    else:
        options.update(criteria=rule.criteria, value=rule.minimum)
    if rule.warning_only:
        options["error_type"] = "warning"
    return options


def prompt(kind: str, title: str, message: str, error: str, **rule) -> dict:
    """A data validation the builder states itself (設定, 指標), in the same shape."""
    return {"validate": kind, "input_title": title, "input_message": message,
            "error_title": error_title(rule.get("error_type") == "warning"), "error_message": error, **rule}


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
        from xlsxwriter.utility import xl_range, xl_rowcol_to_cell

        for (col, key), runs in self._runs.items():
            rule = self._rules[key]
            for i in range(0, len(runs), self.MAX_AREAS):
                chunk = runs[i:i + self.MAX_AREAS]
                options = dict(rule)
                if "formula_of" in options:
                    options["value"] = "=" + options.pop("formula_of").formula(xl_rowcol_to_cell(chunk[0][0], col))
                if len(chunk) > 1:
                    options["multi_range"] = " ".join(xl_range(a, col, b, col) for a, b in chunk)
                self.ws.data_validation(chunk[0][0], col, chunk[0][1], col, options)
        self._runs.clear()

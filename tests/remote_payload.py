"""The xlwings remote engine as a stand-in for Excel: payloads from real files, actions replayed.

``payload_from_file`` builds what xlwings' VBA client (Remote.bas, RunRemotePython) sends
for a workbook: every worksheet's values from A1 to the used range's last cell, dates as
the ISO strings its JSON converter writes, and the names that refer to one range.
``apply_actions`` replays the actions the Python side emits on a copy of those grids, the
way the client would, so tests compare cell values and not action lists.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import xlwings as xw
from openpyxl import load_workbook

from renkei_xl.contract_read import column_letter, parse_ref

LICENSE_ENV = ("XLWINGS_LICENSE_KEY", "noncommercial")

# What the VBA remote client (Remote.bas) implements, of what our entry points emit.
CLIENT_ACTIONS = {"setValues", "sheetClearContents", "setRangeColor", "addHyperlink",
                  "setNumberFormat", "alert", "addSheet"}


def _json_value(value):
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%dT00:00:00.000Z")
    if isinstance(value, dt.time):
        return value.isoformat()
    return value


def payload_from_file(path: Path, *, name: str | None = None) -> dict:
    """The payload the VBA client would send for the workbook ``path`` (saved values)."""
    path = Path(path)
    wb = load_workbook(path, data_only=True)  # cached formula results, as Excel shows them
    sheets = []
    for ws in wb.worksheets:
        if ws.max_row == 1 and ws.max_column == 1 and ws.cell(1, 1).value is None:
            values = [[]]
        else:
            values = [[_json_value(v) for v in row] for row in ws.iter_rows(
                min_row=1, min_col=1, max_row=ws.max_row, max_col=ws.max_column, values_only=True)]
        sheets.append({"name": ws.title, "values": values, "pictures": [], "tables": []})
    names = []

    def add(defined, book_scope, scope_ws=None):
        try:
            dests = list(defined.destinations)
        except Exception:
            return
        if len(dests) != 1:
            return
        sheet, ref = dests[0]
        if sheet not in wb.sheetnames:
            return
        names.append({"name": defined.name, "sheet_index": wb.sheetnames.index(sheet),
                      "address": ref.replace("$", ""), "book_scope": book_scope,
                      "scope_sheet_name": scope_ws.title if scope_ws else None,
                      "scope_sheet_index": wb.sheetnames.index(scope_ws.title) if scope_ws else None})

    for defined in wb.defined_names.values():
        add(defined, True)
    for ws in wb.worksheets:
        for defined in ws.defined_names.values():
            add(defined, False, ws)
    payload = {"client": "VBA", "version": xw.__version__,
               "book": {"name": name or path.name, "active_sheet_index": 0, "selection": "A1"},
               "names": names, "sheets": sheets}
    return json.loads(json.dumps(payload, ensure_ascii=False))  # what arrives is JSON


def remote_book(payload: dict):
    return xw.Book(json=copy.deepcopy(payload))


@dataclass
class Applied:
    """The workbook after the client replayed the actions: values, colours, links, alerts."""
    grids: dict[str, dict[tuple[int, int], object]]
    order: list[str]
    colors: dict[tuple[str, str], object] = field(default_factory=dict)
    links: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    formats: dict[tuple[str, str], str] = field(default_factory=dict)
    alerts: list[dict] = field(default_factory=list)

    def rows(self, sheet: str) -> list[list[object]]:
        """The sheet as rows from A1, trailing empty rows and columns dropped."""
        cells = {k: v for k, v in self.grids[sheet].items() if v is not None}
        if not cells:
            return []
        height = max(r for r, _ in cells)
        width = max(c for _, c in cells)
        return [[cells.get((r, c)) for c in range(1, width + 1)] for r in range(1, height + 1)]

    def value(self, sheet: str, ref: str):
        row, col = parse_ref(ref)
        return self.grids[sheet].get((row, col))


def _excel_value(v):
    """What Excel stores for a value the client assigns: "" is empty, a leading ' is the text prefix."""
    if v == "" or v is None:
        return None
    if isinstance(v, str) and v.startswith("'"):
        return v[1:]
    return v


def apply_actions(payload: dict, actions: list[dict]) -> Applied:
    order = [s["name"] for s in payload["sheets"]]
    grids = {}
    for s in payload["sheets"]:
        g = {}
        for r, row in enumerate(s["values"], start=1):
            for col, v in enumerate(row, start=1):
                v = _excel_value(v)
                if v is not None:
                    g[(r, col)] = v
        grids[s["name"]] = g
    out = Applied(grids, order)
    for a in actions:
        func = a["func"]
        assert func in CLIENT_ACTIONS, f"action the VBA remote client does not implement: {func}"
        if func == "alert":
            prompt, title, buttons, mode, _callback = a["args"]
            out.alerts.append({"prompt": prompt, "title": title, "buttons": buttons, "mode": mode})
            continue
        if func == "addSheet":
            index, name = a["args"]
            out.order.insert(index, name)
            grids[name] = {}
            continue
        sheet = out.order[a["sheet_position"]]
        if func == "sheetClearContents":
            grids[sheet] = {}
            continue
        r0, c0 = a["start_row"] + 1, a["start_column"] + 1
        cells = [(r0 + i, c0 + j) for i in range(a["row_count"]) for j in range(a["column_count"])]
        if func == "setValues":
            for i, row in enumerate(a["values"]):
                for j, v in enumerate(row):
                    v = _excel_value(v)
                    if v is None:
                        grids[sheet].pop((r0 + i, c0 + j), None)
                    else:
                        grids[sheet][(r0 + i, c0 + j)] = v
        elif func == "setRangeColor":
            for r, col in cells:
                out.colors[(sheet, f"{column_letter(col)}{r}")] = a["args"][0]
        elif func == "addHyperlink":
            for r, col in cells:
                out.links[(sheet, f"{column_letter(col)}{r}")] = (a["args"][0], a["args"][1])
        elif func == "setNumberFormat":
            for r, col in cells:
                out.formats[(sheet, f"{column_letter(col)}{r}")] = a["args"][0]
    return out


def file_rows(path: Path, sheet: str) -> list[list[object]]:
    """A sheet of a saved file as rows from A1, trailing empty rows and columns dropped."""
    ws = load_workbook(path, data_only=True)[sheet]
    cells = {(cell.row, cell.column): cell.value for row in ws.iter_rows() for cell in row
             if cell.value is not None}
    if not cells:
        return []
    height = max(r for r, _ in cells)
    width = max(c for _, c in cells)
    return [[cells.get((r, c)) for c in range(1, width + 1)] for r in range(1, height + 1)]

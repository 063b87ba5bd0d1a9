"""The master workbook builder, judged by real readers: openpyxl, the zip parts, olevba,
xlwings' own VBA (which config keys it reads) and LibreOffice headless."""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import subprocess
import warnings
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest
import xlwings
from oletools.olevba import VBA_Parser

from conftest import require_soffice
from renkei_xl.core import contract as c
from renkei_xl.core.errors import UserError
from renkei_xl.core import choices, methods
from renkei_xl.core.model import Entry, Municipality, Settings
from renkei_xl.vba.inject import sheet_code_names
from renkei_xl.workbook.build import build_master, code_names

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
INTERPRETER = r"C:\renkei\.venv\Scripts\pythonw.exe"
SHARED = ("合計", "参加市町村数", "比率", "状態")


@pytest.fixture(scope="module")
def books(tmp_path_factory, fy2023):
    folder = tmp_path_factory.mktemp("books")
    return {
        "xlsm": build_master(folder / "master.xlsm", fy2023.settings, fy2023.indicators,
                             fy2023.entries, interpreter=INTERPRETER),
        "xlsx": build_master(folder / "master.xlsx", fy2023.settings, fy2023.indicators, fy2023.entries),
    }


def _load(path: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(path, keep_vba=path.suffix == ".xlsm")


def _resolve(folder: str, target: str) -> str:
    """A relationship target: absolute ("/xl/...", as openpyxl writes) or relative."""
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))


def _parts(path: Path) -> dict[str, str]:
    """Sheet name -> worksheet part, resolved through workbook.xml and its relationships."""
    with zipfile.ZipFile(path) as z:
        book = ElementTree.fromstring(z.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels.iter(f"{PKG_REL}Relationship")}
    return {s.get("name"): _resolve("xl", targets[s.get(f"{REL}id")])
            for s in book.iter(f"{MAIN}sheet")}


def _sheet_xml(path: Path, sheet: str) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(_parts(path)[sheet]).decode("utf-8")


def _headers(ws, row: int = 1) -> dict[str, int]:
    return {cell.value: cell.column for cell in ws[row] if cell.value}


def _records(ws) -> list[dict]:
    """Data rows as header text -> cell, found by header text as the reader does."""
    cols = _headers(ws)
    out = []
    for r in range(2, ws.max_row + 1):
        record = {h: ws.cell(r, col) for h, col in cols.items()}
        if record[c.ENTRY_HEADERS["indicator_id"]].value not in (None, ""):
            out.append(record)
    return out


def _validations_at(ws, coordinate: str) -> list:
    return [dv for dv in ws.data_validations.dataValidation if coordinate in dv.sqref]


def _defined_cell(wb, name: str):
    (sheet, ref), = wb.defined_names[name].destinations
    return sheet, ref


def _defined_values(wb, name: str) -> list:
    sheet, ref = _defined_cell(wb, name)
    return [row[0].value for row in wb[sheet][ref.replace("$", "")]] if ":" in ref \
        else [wb[sheet][ref.replace("$", "")].value]


def _expected_sheets(settings: Settings, macros: bool) -> list[str]:
    return [c.MENU, c.SETTINGS, c.INDICATORS, *(m.name for m in settings.municipalities),
            c.LIST, c.SUMMARY, c.FINDINGS, *([c.XLWINGS_CONF] if macros else [])]


def _reported_ids(fy2023, muni: str) -> list[str]:
    central = fy2023.settings.central.name
    return [i.id for i in fy2023.indicators
            if i.method in SHARED or (i.method == "中心市のみ" and muni == central)]


# ------------------------------------------------------------------------------ structure

@pytest.mark.parametrize("kind", ["xlsx", "xlsm"])
def test_sheets_in_order_with_the_municipality_names(books, fy2023, kind):
    wb = _load(books[kind])
    assert wb.sheetnames == _expected_sheets(fy2023.settings, kind == "xlsm")
    assert wb.active.title == c.MENU


@pytest.mark.parametrize("kind", ["xlsx", "xlsm"])
def test_setting_names_point_at_their_value_cells(books, fy2023, kind):
    wb = _load(books[kind])
    s = fy2023.settings
    expected = {c.N_REGION: s.region, c.N_YEAR: s.fiscal_year, c.N_BASE_DATE: s.base_date,
                c.N_THRESHOLD: s.threshold}
    for name in c.SETTING_NAMES:
        sheet, ref = _defined_cell(wb, name)
        assert sheet == c.SETTINGS and ":" not in ref, (name, ref)
        value = wb[sheet][ref.replace("$", "")].value
        if name == c.N_BASE_DATE:
            assert isinstance(value, dt.datetime) and value.date() == expected[name]
            assert wb[sheet][ref.replace("$", "")].number_format == "yyyy/mm/dd"
        else:
            assert value == expected[name], name
    assert "%" in wb[c.SETTINGS][_defined_cell(wb, c.N_THRESHOLD)[1].replace("$", "")].number_format
    assert isinstance(wb[c.SETTINGS][_defined_cell(wb, c.N_YEAR)[1].replace("$", "")].value, int)
    for name in (c.N_LAST_RUN, c.N_LAST_RESULT):
        sheet, ref = _defined_cell(wb, name)
        assert sheet == c.MENU and wb[sheet][ref.replace("$", "")].value is None


def test_choice_lists_are_defined_names_holding_the_contract_choices(books):
    wb = _load(books["xlsm"])
    assert _defined_values(wb, c.N_METHODS) == list(methods.NAMES)
    assert _defined_values(wb, c.N_RULES) == list(choices.RULES)
    assert _defined_values(wb, c.N_KINDS) == list(choices.KINDS)
    assert _defined_values(wb, c.N_STATES) == list(c.STATE_CHOICES)
    assert _defined_values(wb, c.N_KPI_MARKS) == [c.KPI_MARK]


def test_the_dropdowns_reach_as_far_as_the_server_serves(tmp_path, fy2023):
    """A master built from few indicators (or none) had its 集計方法・評価方法 lists end at
    指標 row 201 and 区分 at 32 municipalities, while the server serves 2,000 × 40: a row
    staff added below got no list. Built from one indicator, they reach the served size."""
    settings = fy2023.settings
    path = build_master(tmp_path / "small.xlsx", settings, fy2023.indicators[:1], [])
    wb = openpyxl.load_workbook(path)
    ind = wb[c.INDICATORS]
    method_col = openpyxl.utils.get_column_letter(list(c.INDICATOR_HEADERS).index("method") + 1)
    assert _validations_at(ind, f"{method_col}{c.SERVED_INDICATORS + 1}")
    settings_ws = wb[c.SETTINGS]
    kinds = next(dv for dv in settings_ws.data_validations.dataValidation if "区分" in (dv.promptTitle or ""))
    first = min(cr.min_row for cr in kinds.sqref.ranges)
    last = max(cr.max_row for cr in kinds.sqref.ranges)
    assert last - first + 1 >= c.SERVED_MUNICIPALITIES, (first, last)


def test_municipality_table_found_by_its_headers(books, fy2023):
    ws = _load(books["xlsx"])[c.SETTINGS]
    header_row = next(r for r in range(1, c.HEADER_SEARCH_ROWS + 1)
                      if ws.cell(r, 1).value == c.MUNI_HEADERS["name"])
    cols = _headers(ws, header_row)
    rows = []
    for r in range(header_row + 1, ws.max_row + 1):
        name = ws.cell(r, cols[c.MUNI_HEADERS["name"]]).value
        if name:
            rows.append(Municipality(*(ws.cell(r, cols[h]).value for h in c.MUNI_HEADERS.values())))
    assert tuple(rows) == fy2023.settings.municipalities


def test_default_base_date_is_the_end_of_the_fiscal_year(tmp_path, fy2023):
    settings = fy2023.settings._replace(base_date=None, fiscal_year=2025)
    wb = _load(build_master(tmp_path / "m.xlsx", settings))
    sheet, ref = _defined_cell(wb, c.N_BASE_DATE)
    assert wb[sheet][ref.replace("$", "")].value == dt.datetime(2026, 3, 31)
    assert wb[sheet][_defined_cell(wb, c.N_YEAR)[1].replace("$", "")].value == 2025


def test_indicators_sheet_holds_every_row(books, fy2023):
    ws = _load(books["xlsm"])[c.INDICATORS]
    cols = _headers(ws)
    assert list(cols) == list(c.INDICATOR_HEADERS.values())
    ids = [ws.cell(r, cols["指標ID"]).value for r in range(2, ws.max_row + 1)]
    ids = [i for i in ids if i]
    assert len(ids) == 80 and ids == [i.id for i in fy2023.indicators]
    for r, ind in enumerate(fy2023.indicators, start=2):
        no = ws.cell(r, cols[c.INDICATOR_HEADERS["project_no"]]).value
        assert no == ind.project_no and (no is None or isinstance(no, int))
        mark = ws.cell(r, cols[c.INDICATOR_HEADERS["is_kpi"]]).value
        assert mark == (c.KPI_MARK if ind.is_kpi else None)
        assert ws.cell(r, cols[c.INDICATOR_HEADERS["target"]]).value == ind.target
        assert (ws.cell(r, cols[c.INDICATOR_HEADERS["method"]]).value or "") == ind.method
        assert ws.cell(r, cols[c.INDICATOR_HEADERS["summary"]]).alignment.wrap_text
    assert ws.freeze_panes == "B2"
    assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:")


@pytest.mark.parametrize("muni", ["札幌市", "小樽市"])
def test_municipality_sheets_list_what_the_municipality_reports(books, fy2023, muni):
    ws = _load(books["xlsx"])[muni]
    assert list(_headers(ws)) == list(c.ENTRY_HEADERS.values())
    rows = _records(ws)
    assert [r["指標ID"].value for r in rows] == _reported_ids(fy2023, muni)
    by_id = {r["指標ID"].value: r for r in rows}
    indicators = {i.id: i for i in fy2023.indicators}
    for ind_id, row in by_id.items():
        assert row["評価指標"].value == indicators[ind_id].name
        assert row["実績値"].protection.locked is False
        assert row["実施状況"].protection.locked is False
        assert row["指標ID"].protection.locked is True
    assert ws.freeze_panes is not None and ws.freeze_panes.endswith("2")
    assert ws.protection.sheet is False


def test_entries_become_numbers_where_the_method_sums(books, fy2023):
    wb = _load(books["xlsx"])
    otaru = {r["指標ID"].value: r for r in _records(wb["小樽市"])}
    assert otaru["04-1"]["実績値"].value == 2 and otaru["04-1"]["単位"].value == "件"
    assert otaru["08-1"]["実績値"].value == 3
    assert otaru["05-1"]["実績値"].value is None          # nothing reported
    assert otaru["28-1"]["単位"].value == "市町村"
    sapporo = {r["指標ID"].value: r for r in _records(wb["札幌市"])}
    assert sapporo["40-4"]["実績値"].value == 90 and sapporo["40-4"]["分母"].value == 143
    assert sapporo["23-1"]["実績値"].value == "維持"
    # 中心市のみ values stay the text the staff typed
    assert sapporo["03-1"]["実績値"].value == "3,676名"
    assert sapporo["26-1"]["実績値"].value == "116,346人（把握可能分）"


def test_values_that_a_number_would_change_stay_text(tmp_path, fy2023):
    ind = next(i for i in fy2023.indicators if i.id == "04-1")
    entries = [Entry("小樽市", "04-1", value="2.5件"), Entry("千歳市", "04-1", value="3人"),
               Entry("恵庭市", "04-1", value="2件（見込み）")]
    wb = _load(build_master(tmp_path / "m.xlsx", fy2023.settings, [ind], entries))
    value = {m: _records(wb[m])[0]["実績値"].value for m in ("小樽市", "千歳市", "恵庭市")}
    assert value == {"小樽市": 2.5, "千歳市": "3人", "恵庭市": "2件（見込み）"}


def test_entries_outside_the_usual_rows_are_kept(tmp_path, fy2023):
    central_only = next(i for i in fy2023.indicators if i.method == "中心市のみ")
    entries = [Entry("小樽市", central_only.id, value="1回"), Entry("小樽市", "99-9", value="5")]
    wb = _load(build_master(tmp_path / "m.xlsx", fy2023.settings, fy2023.indicators, entries))
    ids = [r["指標ID"].value for r in _records(wb["小樽市"])]
    assert central_only.id in ids and ids[-1] == "99-9"


# ------------------------------------------------------------------------------ validation

def test_indicator_validations_use_defined_names(books, fy2023):
    ws = _load(books["xlsm"])[c.INDICATORS]
    cols = _headers(ws)
    last = len(fy2023.indicators) + 1 + 200
    letter = {h: openpyxl.utils.get_column_letter(col) for h, col in cols.items()}
    expected = {c.INDICATOR_HEADERS["method"]: ("list", c.N_METHODS),
                c.INDICATOR_HEADERS["rule"]: ("list", c.N_RULES),
                c.INDICATOR_HEADERS["is_kpi"]: ("list", c.N_KPI_MARKS),
                c.INDICATOR_HEADERS["project_no"]: ("whole", "1")}
    for header, (kind, formula) in expected.items():
        for coordinate in (f"{letter[header]}2", f"{letter[header]}{last}"):
            (dv,) = _validations_at(ws, coordinate)
            assert dv.type == kind and dv.formula1 == formula, header
            assert dv.prompt and dv.error and re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", dv.error)
    (rule,) = _validations_at(ws, f"{letter['評価方法']}2")
    assert rule.allow_blank
    (no,) = _validations_at(ws, f"{letter['事業No']}2")
    assert no.operator == "greaterThanOrEqual"


def test_municipality_and_settings_validations(books):
    wb = _load(books["xlsm"])
    otaru = {r["指標ID"].value: r for r in _records(wb["小樽市"])}
    (dv,) = _validations_at(wb["小樽市"], otaru["04-1"]["実績値"].coordinate)
    # a number of at least 0, or 「（未集計）」 (staff are told to enter it): related to the first cell
    first = str(dv.sqref).split()[0].split(":")[0]
    assert (dv.type, dv.formula1) == ("custom", f'OR(AND(ISNUMBER({first}),{first}>=0),{first}="（未集計）",'
                                                f'{first}="(未集計)",{first}="未集計")')
    assert dv.error == "0以上の数値を入力してください（単位は不要です）。まだ集計できていないときは「（未集計）」と入力できます"
    (dv,) = _validations_at(wb["小樽市"], otaru["23-1"]["実績値"].coordinate)
    assert (dv.type, dv.formula1, dv.errorStyle) == ("list", c.N_STATES, "warning")
    sapporo = {r["指標ID"].value: r for r in _records(wb["札幌市"])}
    (dv,) = _validations_at(wb["札幌市"], sapporo["40-4"]["分母"].coordinate)
    first = str(dv.sqref).split()[0].split(":")[0]
    assert dv.type == "custom" and dv.formula1.startswith(f"OR(AND(ISNUMBER({first}),{first}>0),")
    assert _validations_at(wb["札幌市"], sapporo["03-1"]["実績値"].coordinate) == []
    assert _validations_at(wb["札幌市"], sapporo["04-1"]["分母"].coordinate) == []

    ws = wb[c.SETTINGS]
    year = _defined_cell(wb, c.N_YEAR)[1].replace("$", "")
    (dv,) = _validations_at(ws, year)
    assert (dv.type, dv.formula1, dv.formula2) == ("whole", "2000", "2100")
    (dv,) = _validations_at(ws, _defined_cell(wb, c.N_THRESHOLD)[1].replace("$", ""))
    assert (dv.type, dv.formula1) == ("custom", "AND(ISNUMBER(B5),B5>0,B5<=1)")   # THRESHOLD_RANGE
    (dv,) = _validations_at(ws, _defined_cell(wb, c.N_BASE_DATE)[1].replace("$", ""))
    assert dv.type == "date"
    header = next(row for row in ws.iter_rows() if row[0].value == c.MUNI_HEADERS["name"])
    kind = next(cell for cell in header if cell.value == c.MUNI_HEADERS["kind"])
    for offset in (1, 12, 20):   # the municipalities and the empty rows below them
        (dv,) = _validations_at(ws, ws.cell(kind.row + offset, kind.column).coordinate)
        assert (dv.type, dv.formula1) == ("list", c.N_KINDS)


@pytest.mark.parametrize("kind", ["xlsx", "xlsm"])
def test_nothing_openpyxl_would_drop(books, kind):
    with zipfile.ZipFile(books[kind]) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert "x14:" not in z.read(name).decode("utf-8"), name
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _load(books[kind])
    assert [str(w.message) for w in caught] == []


@pytest.mark.parametrize("kind", ["xlsx", "xlsm"])
def test_tool_sheets_protected_without_password(books, fy2023, kind):
    for sheet in _expected_sheets(fy2023.settings, kind == "xlsm"):
        xml = _sheet_xml(books[kind], sheet)
        protected = re.search(r"<sheetProtection\b[^>]*>", xml)
        if sheet in c.TOOL_SHEETS:
            assert protected, sheet
            assert not re.search(r"password|hashValue", protected.group(0)), sheet
        else:
            assert protected is None, sheet
    wb = _load(books[kind])
    for name in (c.N_LAST_RUN, c.N_LAST_RESULT):   # written by the buttons through Excel
        sheet, ref = _defined_cell(wb, name)
        assert wb[sheet][ref.replace("$", "")].protection.locked is False


def test_output_sheets_carry_their_headers(books, fy2023):
    wb = _load(books["xlsx"])
    rows = lambda ws: [[v for v in row if v is not None] for row in ws.iter_rows(values_only=True)]
    assert list(c.LIST_COLUMNS) in rows(wb[c.LIST])
    assert rows(wb[c.FINDINGS]) == [list(c.FINDING_COLUMNS)]
    assert any(fy2023.settings.region in str(v) and "集計" in str(v)
               for row in rows(wb[c.SUMMARY]) for v in row)
    for sheet in (c.LIST, c.SUMMARY, c.FINDINGS):
        assert wb[sheet].freeze_panes is not None


# ------------------------------------------------------------------------------ macros

def _buttons(path: Path) -> list[tuple[str, str]]:
    """(macro, caption) of every VML button on メニュー."""
    part = _parts(path)[c.MENU]
    rels_name = posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")
    with zipfile.ZipFile(path) as z:
        if rels_name not in z.namelist():
            return []
        rels = ElementTree.fromstring(z.read(rels_name))
        vml_parts = [_resolve(posixpath.dirname(part), r.get("Target"))
                     for r in rels.iter(f"{PKG_REL}Relationship") if r.get("Type").endswith("/vmlDrawing")]
        out = []
        for vml in vml_parts:
            text = z.read(vml).decode("utf-8")
            for shape in re.findall(r"<v:shape\b.*?</v:shape>", text, re.S):
                if 'ObjectType="Button"' in shape:
                    macro = re.search(r"<x:FmlaMacro>(.*?)</x:FmlaMacro>", shape).group(1)
                    caption = re.sub(r"<[^>]+>", "", re.search(r"<v:textbox\b.*?</v:textbox>", shape, re.S).group(0))
                    out.append((macro, caption.strip()))
        return out


def test_xlsm_has_a_vba_project_and_one_button_per_macro(books):
    with zipfile.ZipFile(books["xlsm"]) as z:
        assert "xl/vbaProject.bin" in z.namelist()
        assert "macroEnabled" in z.read("[Content_Types].xml").decode()
    buttons = _buttons(books["xlsm"])
    assert len(buttons) == len(c.BUTTONS)
    assert [(m.split("!")[-1], cap) for m, cap in buttons] == [(m, cap) for cap, m, _ in c.BUTTONS]
    menu = _load(books["xlsm"])[c.MENU]
    texts = [str(v) for row in menu.iter_rows(values_only=True) for v in row if v]
    for _, _, what in c.BUTTONS:
        assert what in texts


def test_code_names_match_the_vba_document_modules(books, fy2023):
    munis = [f"shMuni{i:02d}" for i in range(1, len(fy2023.settings.municipalities) + 1)]
    expected = ["shMenu", "shSettings", "shIndicators", *munis, "shList", "shSummary",
                "shFindings", "shXlConf"]
    assert sheet_code_names(books["xlsm"]) == expected == code_names(fy2023.settings)
    with zipfile.ZipFile(books["xlsm"]) as z:
        assert re.search(r'<workbookPr\b[^>]*codeName="ThisWorkbook"', z.read("xl/workbook.xml").decode())
    parser = VBA_Parser(str(books["xlsm"]))
    try:
        modules = {Path(stream).name for _, stream, _, _ in parser.extract_macros()}
    finally:
        parser.close()
    assert {"ThisWorkbook", *expected, "Renkei"} <= modules


def test_xlwings_conf_uses_keys_xlwings_reads(books):
    bas = (Path(xlwings.__file__).parent / "xlwings.bas").read_text(encoding="cp1252")
    known = set(re.findall(r'GetConfig\("([^"]+)"', bas))
    ws = _load(books["xlsm"])[c.XLWINGS_CONF]
    conf = {}
    for key, value in ws.iter_rows(min_row=1, max_col=2, values_only=True):
        if key is None:        # xlwings reads from A1 down to the first empty cell
            break
        conf[key] = value
    assert {k.upper() for k in conf} <= known
    assert conf["Interpreter_Win"] == INTERPRETER and "Interpreter_Mac" not in conf


@pytest.mark.parametrize("interpreter, keys", [
    (INTERPRETER, ["Interpreter_Win"]), (r"\\renkei-server\python\pythonw.exe", ["Interpreter_Win"]),
    ("D:/renkei/python.exe", ["Interpreter_Win"]),
    ("/Library/Frameworks/Python.framework/Versions/3.11/bin/python3", ["Interpreter_Mac"]),
    ("$HOME/renkei/.venv/bin/python", ["Interpreter_Mac"]),
    ("python3", ["Interpreter_Win", "Interpreter_Mac"]), (None, [])])
def test_an_interpreter_goes_to_the_row_of_the_system_its_path_names(interpreter, keys):
    """xlwings' RunPython reads Interpreter_Win on Windows and Interpreter_Mac on a Mac, and the
    sheet's row wins over the user's setting: a Windows path as Interpreter_Mac stopped every
    button of the master on a Mac (and a Mac's path every button on Windows)."""
    from renkei_xl.workbook.build import interpreter_rows

    assert interpreter_rows(interpreter) == [(key, interpreter) for key in keys]


def test_xlwings_conf_without_interpreter_leaves_the_users_setting(tmp_path, fy2023):
    ws = _load(build_master(tmp_path / "m.xlsm", fy2023.settings))[c.XLWINGS_CONF]
    keys = []
    for (key,) in ws.iter_rows(min_row=1, max_col=1, values_only=True):
        if key is None:
            break
        keys.append(key.upper())
    assert keys and "INTERPRETER_WIN" not in keys and "INTERPRETER_MAC" not in keys


def test_xlsx_has_no_macros_and_points_at_the_command_line(books):
    with zipfile.ZipFile(books["xlsx"]) as z:
        names = z.namelist()
        assert "xl/vbaProject.bin" not in names
        assert not any("FmlaMacro" in z.read(n).decode("utf-8", "replace") for n in names if n.endswith(".vml"))
        assert "macroEnabled" not in z.read("[Content_Types].xml").decode()
    assert _buttons(books["xlsx"]) == []
    menu = _load(books["xlsx"])[c.MENU]
    texts = " ".join(str(v) for row in menu.iter_rows(values_only=True) for v in row if v)
    assert ".xlsm" in texts and texts.count("renkei-xl ") == len(c.BUTTONS)


# ------------------------------------------------------------------------------ edges

def test_japanese_path(tmp_path, fy2023):
    target = tmp_path / "連携事業" / "さっぽろ圏_2023年度_マスター.xlsm"
    assert build_master(target, fy2023.settings, fy2023.indicators, fy2023.entries) == target
    wb = _load(target)
    assert wb.sheetnames == _expected_sheets(fy2023.settings, True)
    assert len(_buttons(target)) == len(c.BUTTONS)


@pytest.mark.parametrize("suffix", [".xlsx", ".xlsm"])
def test_empty_master(tmp_path, fy2023, suffix):
    path = build_master(tmp_path / f"empty{suffix}", fy2023.settings)
    wb = _load(path)
    assert wb.sheetnames == _expected_sheets(fy2023.settings, suffix == ".xlsm")
    assert list(_headers(wb[c.INDICATORS])) == list(c.INDICATOR_HEADERS.values())
    assert wb[c.INDICATORS].max_row == 1
    assert _records(wb["札幌市"]) == []
    assert _validations_at(wb[c.INDICATORS], "I2")   # ready for the first row staff type


def test_settings_without_municipalities(tmp_path):
    wb = _load(build_master(tmp_path / "m.xlsm", Settings("テスト圏", 2024)))
    assert wb.sheetnames == [c.MENU, c.SETTINGS, c.INDICATORS, c.LIST, c.SUMMARY, c.FINDINGS, c.XLWINGS_CONF]


@pytest.mark.parametrize("name, words", [
    ("設定", "ツールが使うシート名"), ("札幌/市", "シート名に使えません"), ("", "市町村名が空"),
    ("あ" * 32, "シート名に使えません"), ("札幌／市", "シート名に使えません"),
    ("ﾒﾆｭｰ", "ツールが使うシート名"), ("履歴", "Excelが使うシート名"),
    ("札幌\u200b市", "3 文字目に見えない文字"), ("札幌\r\n市", "3 文字目に改行")])
def test_unusable_municipality_names_are_refused(tmp_path, name, words):
    settings = Settings("テスト圏", 2024, municipalities=(Municipality("札幌市", "中心市"), Municipality(name)))
    with pytest.raises(UserError, match=words):
        build_master(tmp_path / "m.xlsx", settings)


@pytest.mark.parametrize("name", [*c.RESERVED_SHEET_NAMES, "XLWINGS.CONF", "History"])
def test_no_municipality_is_named_like_a_sheet_of_the_tool(tmp_path, name):
    """経年, 次の一歩, 取込履歴 and the rest: the reader would never read such a sheet."""
    settings = Settings("テスト圏", 2024, municipalities=(Municipality("札幌市", "中心市"), Municipality(name)))
    with pytest.raises(UserError, match="(ツール|Excel)が使うシート名"):
        build_master(tmp_path / "m.xlsx", settings)
    assert c.HISTORY in c.RESERVED_SHEET_NAMES and c.IMPORT_LOG in c.RESERVED_SHEET_NAMES


@pytest.mark.parametrize("first, second", [("ミナミ町", "ﾐﾅﾐ町"), ("ABC町", "ＡＢＣ町"), ("Abc町", "ａＢＣ町")])
def test_two_municipalities_excel_takes_for_one_sheet_name_are_refused(tmp_path, first, second):
    """Japanese Excel compares sheet names with width and case folded (core.contract.sheet_name_key):
    two municipalities typed in two widths were built as two sheets Excel holds as one name."""
    settings = Settings("テスト圏", 2024, municipalities=(Municipality("札幌市", "中心市"), Municipality(first),
                                                         Municipality(second)))
    with pytest.raises(UserError, match=f"「{second}」が2回以上"):
        build_master(tmp_path / "m.xlsx", settings)
    assert not any(tmp_path.iterdir())


def test_refusals(tmp_path, fy2023):
    with pytest.raises(UserError, match=r"\.xlsx（マクロなし）か \.xlsm"):
        build_master(tmp_path / "m.xls", fy2023.settings)
    twice = fy2023.settings._replace(municipalities=fy2023.settings.municipalities[:2] * 2)
    with pytest.raises(UserError, match="2回以上"):
        build_master(tmp_path / "m.xlsx", twice)
    with pytest.raises(UserError, match="札幌村"):
        build_master(tmp_path / "m.xlsx", fy2023.settings, fy2023.indicators, [Entry("札幌村", "04-1", "1")])
    assert not any(tmp_path.iterdir())


def test_libreoffice_opens_the_master(books, tmp_path, fy2023):
    """LibreOffice opens the built .xlsm and prints it: メニュー's title, and 指標 with its
    municipalities and indicator IDs. Those two sheets' pages alone, from one load
    (realbooks.lo_convert_sheets): every sheet was drawn for these (1.6 of 3.1 office CPU-s)."""
    from realbooks import lo_convert_sheets

    require_soffice()
    pdfs = lo_convert_sheets(books["xlsm"], {sheet: tmp_path / f"{sheet}.pdf" for sheet in (c.MENU, c.INDICATORS)})
    text = "".join(subprocess.run(["pdftotext", str(pdf), "-"], check=True,
                                  capture_output=True, text=True).stdout for pdf in pdfs.values())
    assert f"{fy2023.settings.region} 連携事業 マスターブック" in text
    assert "小樽市" in text and "04-1" in text


def test_openpyxl_round_trip_keeps_macros_and_buttons(books, tmp_path):
    """What `recalc` on the file does: load with keep_vba, save. The master must survive it."""
    out = tmp_path / "saved.xlsm"
    _load(books["xlsm"]).save(out)
    with zipfile.ZipFile(books["xlsm"]) as a, zipfile.ZipFile(out) as b:
        assert a.read("xl/vbaProject.bin") == b.read("xl/vbaProject.bin")
    assert _buttons(out) == _buttons(books["xlsm"])
    assert sheet_code_names(out) == sheet_code_names(books["xlsm"])
    wb = _load(out)
    assert _defined_values(wb, c.N_STATES) == list(c.STATE_CHOICES)
    assert [dv.formula1 for dv in wb[c.INDICATORS].data_validations.dataValidation
            if dv.type == "list"] == [c.N_METHODS, c.N_RULES, c.N_KPI_MARKS]


def test_unwritable_target_is_a_japanese_message(tmp_path, fy2023):
    (tmp_path / "m.xlsx").mkdir()          # a folder where the file should go
    with pytest.raises(UserError, match="書き込めません"):
        build_master(tmp_path / "m.xlsx", fy2023.settings)
    (tmp_path / "file").write_text("x")    # a file where a folder should be
    with pytest.raises(UserError, match="書き込めません"):
        build_master(tmp_path / "file" / "m.xlsm", fy2023.settings)


def test_the_menus_steps_walk_the_year_by_the_buttons_captions(books):
    """The steps began with typing into 「回収した入力用ファイル」 and never named 配布用ファイル作成,
    回収ファイル取込 or 次年度のマスターを作成: every button appears, in the order of the year."""
    ws = _load(books["xlsm"])[c.MENU]
    steps = "\n".join(str(ws.cell(r, 2).value or "") for r in range(5, 10))
    at = [steps.find(c.named(caption)) for caption in (c.SPLIT, c.COLLECT, c.CHECK, c.RECALC, c.EXPORT, c.ROLLOVER)]
    assert -1 not in at and at == sorted(at), steps
    assert "回収した入力用ファイル" not in steps and all(s in steps for s in (c.NEXT_STEPS, c.HISTORY))


def test_every_kpi_mark_the_rules_read_can_be_typed(books):
    """The 基本KPI column's list stopped 「◯」 「はい」 「1」 typed in Excel, though the rules read
    them as 基本KPI (README lists them): the list offers ○ and warns on the others, naming them."""
    ws = _load(books["xlsm"])[c.INDICATORS]
    column = openpyxl.utils.get_column_letter(_headers(ws)[c.INDICATOR_HEADERS["is_kpi"]])
    [dv] = [dv for dv in ws.data_validations.dataValidation if str(dv.sqref).startswith(column)]
    assert dv.formula1 == c.N_KPI_MARKS and dv.errorStyle == "warning"
    from renkei_xl.core.methods import INPUT_WARNING_TITLE

    assert dv.errorTitle == INPUT_WARNING_TITLE      # not 「入力できない値です」 over 「はい」 to go on
    assert all(mark in dv.error for mark in c.KPI_MARKS_SHOWN) and set(c.KPI_MARKS_SHOWN) <= c.KPI_TRUE


def test_a_macro_free_masters_menu_gives_commands_that_run(books):
    """An .xlsx master's メニュー listed 「renkei-xl split ブック名.xlsx」 and 「renkei-xl collect
    ブック名.xlsx」: typed as shown, both stop at a missing argument. Every command it shows
    parses as it stands, and each names the caption's command."""
    import shlex

    from renkei_xl.cli import build_parser

    ws = _load(books["xlsx"])[c.MENU]
    shown = {str(ws.cell(r, 2).value): str(ws.cell(r, 3).value or "") for r in range(1, ws.max_row + 1)
             if ws.cell(r, 2).value in [caption for caption, _m, _w in c.BUTTONS]}
    assert set(shown) == {caption for caption, _m, _w in c.BUTTONS}
    for caption, command in shown.items():
        words = shlex.split(command)
        assert words[0] == "renkei-xl", command
        build_parser().parse_args(words[1:])      # SystemExit on a missing argument


# ------------------------------------------------------------------------------- the page

def _page(ws) -> tuple:
    ps, m = ws.page_setup, ws.page_margins
    fit = ws.sheet_properties.pageSetUpPr
    return (ps.paperSize, ps.orientation, fit.fitToPage if fit else None, ps.fitToWidth or 1, ps.fitToHeight,
            (m.left, m.right, m.top, m.bottom, m.header, m.footer), ws.oddFooter.center.text,
            ws.print_title_rows, ws.print_options.horizontalCentered)


def test_a_new_master_prints_its_list_and_summary_as_recalc_sets_them(tmp_path, fy2023):
    """A new master's 一覧 and 集計 had no page setup at all, and a face that cannot set it
    (the server's VBA client sets only the print area, Excel on a Mac only the titles)
    left 一覧 printed on the printer's default paper at 100 %, without page numbers."""
    from renkei_xl.workbook.session import recalc_file

    built = build_master(tmp_path / "master.xlsx", fy2023.settings, fy2023.indicators, fy2023.entries)
    before = openpyxl.load_workbook(built)
    recalc_file(built)
    after = openpyxl.load_workbook(built)
    for name, paper in ((c.LIST, "8"), (c.SUMMARY, "9"), (c.FINDINGS, "9")):
        assert _page(before[name]) == _page(after[name]), name
        assert str(_page(before[name])[0]) == paper and _page(before[name])[1] == "landscape", name


@pytest.mark.parametrize("option", [["--interpreter", r"C:\Program Files\Python 3.12\python.exe"],
                                    ["--server", "http://renkei-server:8000"]])
def test_init_refuses_the_buttons_options_for_a_book_without_buttons(tmp_path, option, capsys):
    """--interpreter on a .xlsx was taken, the book built without xlwings.conf, exit 0."""
    from renkei_xl.cli import main

    path = tmp_path / "マスター.xlsx"
    assert main(["init", str(path), *option]) == 2
    assert f"{option[0]} はボタン付きのマスター（.xlsm）" in capsys.readouterr().err
    assert not path.exists()


def test_a_kanji_variation_selector_is_part_of_a_municipality_name():
    """An IVS (辻 with U+E0100) chooses the form the name is printed in: seen, so not refused as
    a character that shows as nothing (the rule for those: qa-128)."""
    assert c.municipality_name_problem("辻\U000E0100町") == ""
    assert c.municipality_name_problem("辻\u200b町") != ""

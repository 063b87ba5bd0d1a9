"""The button model's reading of a saved workbook (remote_payload.payload_book) against
openpyxl's normal load (saved_book(data_only=True)), which it stands in for.

payload_book reads the cells itself, as openpyxl's WorkSheetParser does, and leaves out
what no payload reads; a payload built from it must be the one built from openpyxl's own
load, types included (a DateSerial is not a float). Checked here on masters the project
writes and on a book with what openpyxl makes something of beside the cells: merged areas
(their looks and protection), hyperlinks on empty cells, notes past the data, styled empty
cells, Text-formatted rows and columns, dates outside Excel's, error values, inline and rich
strings, cells without a reference, tables, names of a sheet, a chart sheet.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.styles import Border, Font, PatternFill, Protection, Side
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.table import Table
from openpyxl.worksheet.worksheet import Worksheet

import remote_payload
from conftest import write_members
from remote_payload import (OFFICE_JS, PAYLOAD_BOTH_WAYS, VBA, DateSerial, _first_difference, _KeptSheets, _recalled,
                            file_grid, file_protection, file_rows, payload_book, payload_from_file, read_both_ways,
                            saved_book, values_load)
from test_buttons import licensed  # noqa: F401  (the remote engine's licence fixture)


def _hostile(path: Path) -> Path:
    """A book with every thing openpyxl's load makes cells of, or reads otherwise than as
    the value in the file (see the module's docstring)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "日付"
    for row, serial in enumerate([0, 1, 59, 60, 61, -1, 0.5, 2958465.999, 2958466, 1e300], start=1):
        ws.cell(row, 1, serial).number_format = "yyyy-mm-dd"
        ws.cell(row, 2, serial).number_format = "[h]:mm:ss"
        ws.cell(row, 3, serial)
    ws["D1"], ws["D2"], ws["D3"] = "#N/A", True, "=1/0"
    ws["D4"] = CellRichText(["太字", TextBlock(InlineFont(b=True), "と細字")])
    ws["D5"] = "件_x0007_"                         # a shared string as Excel escapes U+0007
    ws.cell(40, 30).fill = PatternFill("solid", fgColor="FFFF00")    # styled, empty: the extent
    ws.cell(41, 2).font = Font(b=True)

    merged = wb.create_sheet("結合")
    merged.column_dimensions["C"].number_format = "@"
    merged.row_dimensions[7].number_format = "@"
    thick = Side(style="thick", color="FF0000")
    for area, unlocked in (("A1:D3", True), ("B6:C9", False), ("F2:F2", True), ("H1:J1", False)):
        first = area.split(":")[0]
        merged[first] = f"{area} の先頭"
        merged[first].border = Border(top=thick, left=thick, right=thick, bottom=thick)
        merged[first].protection = Protection(locked=not unlocked)
        merged.merge_cells(area)
    merged["E12"].protection = Protection(locked=False)
    merged["E13"].number_format = "@"
    merged.protection.sheet = True
    merged.protection.password = "secret"
    merged["L20"].hyperlink = "#'日付'!A1"                         # an empty cell: takes the link
    merged["M21"] = "残る"
    merged["M21"].hyperlink = "https://example.invalid/"
    merged["P30"].comment = Comment("メモ", "職員")                # past the data: the extent
    merged.sheet_state = "hidden"

    tabled = wb.create_sheet("表")
    tabled.append(["名前", "値"])
    for n in range(1, 6):
        tabled.append([f"項目{n}", n * 1.5])
    tabled.add_table(Table(displayName="一覧表", ref="A1:B6"))
    tabled.defined_names["局所"] = DefinedName("局所", attr_text="'表'!$A$2:$B$3")
    wb.defined_names["全体"] = DefinedName("全体", attr_text="'日付'!$A$1")
    chart = BarChart()
    chart.add_data(Reference(tabled, min_col=2, min_row=1, max_row=6), titles_from_data=True)
    wb.create_chartsheet("グラフ").add_chart(chart)
    wb.save(path)

    # What openpyxl never writes: a cached text result, an error value beside Excel's seven,
    # cells and a row without a reference, a row numbered "12.0".
    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    sheet = members["xl/worksheets/sheet1.xml"].decode("utf-8")
    sheet = sheet.replace("</sheetData>", '<row r="12.0"><c t="str"><v>式の結果</v></c><c t="e"><v>#SPILL!</v></c>'
                                          '<c><v>1e3</v></c><c t="inlineStr"><is><t>_x005F_x0041_</t></is></c>'
                                          '<c t="str"><v>式_x0041_</v></c></row><row><c r="A13" t="b"><v>0</v></c></row>'
                                          "</sheetData>")
    members["xl/worksheets/sheet1.xml"] = sheet.encode("utf-8")
    # Links and a note on cells the file does not hold (openpyxl writes the cells it made
    # for them): one in a merged area, one over part of one, one over four missing cells.
    sheet = members["xl/worksheets/sheet2.xml"].decode("utf-8")
    sheet, n = re.subn(r'<row r="(20|30)">.*?</row>', "", sheet)
    assert n == 2
    sheet = sheet.replace("</hyperlinks>", '<hyperlink ref="C8" location="\'日付\'!A2"/><hyperlink ref="N22:O23" '
                          'location="\'日付\'!A3"/><hyperlink ref="A2:B3" location="\'日付\'!A4"/></hyperlinks>')
    members["xl/worksheets/sheet2.xml"] = sheet.encode("utf-8")
    write_members(path, members)
    return path


def _cells(wb) -> dict:
    """Every cell each sheet holds, in the order it holds them, as the payload reads them."""
    return {ws.title: [(key, cell.value, type(cell.value), cell.data_type, cell.has_style, cell.number_format,
                        cell.protection.locked, cell.protection.hidden) for key, cell in ws._cells.items()]
            for ws in wb.worksheets}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    return _hostile(tmp_path_factory.mktemp("hostile") / "hostile.xlsx")


def test_the_hostile_book_holds_what_it_is_for(hostile):
    """The book is what the comparisons below need it to be, read by openpyxl itself."""
    wb = saved_book(hostile, data_only=True)
    dates = wb["日付"]
    assert [type(dates.cell(r, 1).value) for r in (3, 4)] == [DateSerial, DateSerial]
    assert (dates.max_row, dates.max_column) == (41, 30)
    assert dates["D1"].data_type == "e" and dates["A12"].value == "式の結果" and dates["C12"].value == 1000.0
    # ST_Xstring escapes as Excel decodes them, in a shared, an inline and a formula's text
    assert (dates["D5"].value, dates["D12"].value, dates["E12"].value) == ("件\x07", "_x0041_", "式A")
    merged = wb["結合"]
    assert (merged.max_row, merged.max_column) == (30, 16) and merged["L20"].value == "#'日付'!A1"
    assert merged["N23"].value == "'日付'!A3" and merged["B7"].value is None and merged["B6"].value == "B6:C9 の先頭"
    assert merged["B2"].protection.locked is False and merged["C7"].has_style
    assert wb.sheetnames[-1] == "グラフ" and len(wb.worksheets) == 3


@pytest.mark.parametrize("book", ["hostile", "sample_master_xlsm", "grafted_lo_master"])
def test_a_payload_book_holds_the_cells_openpyxl_loads(book, request):
    """Same sheets, same cells in the same order (extent), each with the same value of the
    same type, data type, style, number format and protection."""
    path = request.getfixturevalue(book)
    fast, normal = payload_book(path), saved_book(path, data_only=True)
    assert fast.sheetnames == normal.sheetnames
    assert _first_difference(_cells(fast), _cells(normal)) is None
    assert [(ws.max_row, ws.max_column) for ws in fast.worksheets] == \
        [(ws.max_row, ws.max_column) for ws in normal.worksheets]


@pytest.mark.parametrize("book", ["hostile", "sample_master_xlsm", "grafted_lo_master"])
def test_a_files_protection_read_from_its_protected_sheets_alone_is_the_whole_books(book, request):
    """file_protection of a file alone reads its protected sheets (the others' parts, which
    have no <sheetProtection>, read as empty sheets: the largest master's 402,000 cells took
    2 s for four small protected sheets): the same answer as from payload_book of the whole
    file and from openpyxl's normal load, a protected sheet's unlocked cells (merged ones,
    one under a note) included."""
    path = request.getfixturevalue(book)
    reduced = remote_payload._reduced_book(path, path.read_bytes())
    alone = file_protection(path, reduced)
    assert alone == file_protection(path) == file_protection(path, payload_book(path)) == \
        file_protection(path, saved_book(path))
    assert alone and any(sheet["unlocked"] for sheet in alone.values()), alone
    assert reduced.sheetnames == payload_book(path).sheetnames
    assert sum(len(ws._cells) for ws in reduced.worksheets) < sum(len(ws._cells) for ws in payload_book(path).worksheets)
    assert remote_payload._protected_sheets_book(path) is payload_book(path)     # a book loaded already


def test_a_package_with_parts_changed_holds_the_parts_write_members_writes(sample_master_xlsm, tmp_path):
    """conftest.with_members (a test's master with one sheet changed: the other parts copied
    as their compressed bytes) writes the parts write_members writes, in the same order, the
    unchanged ones as they were compressed, a file openpyxl and payload_book read alike; onto
    the source file too."""
    from conftest import calc_pr_as_excel_saves, with_members

    with zipfile.ZipFile(sample_master_xlsm) as z:
        infos = {i.filename: i for i in z.infolist()}
        members = {name: z.read(name) for name in infos}
    part = "xl/worksheets/sheet2.xml"
    changed = {part: members[part].replace(b"</sheetData>", b'<row r="900"><c r="A900" t="e"><v>#N/A</v></c></row>'
                                                           b"</sheetData>", 1),
               "xl/workbook.xml": members["xl/workbook.xml"]}
    calc_pr_as_excel_saves(changed)
    assert all(changed[name] != members[name] for name in changed)
    written, raw = tmp_path / "written.xlsm", tmp_path / "raw.xlsm"
    write_members(written, {**members, **changed})
    with_members(sample_master_xlsm, raw, changed)
    with zipfile.ZipFile(written) as a, zipfile.ZipFile(raw) as b:
        assert a.namelist() == b.namelist() == list(members)
        assert all(a.read(name) == b.read(name) for name in members)
        for info in b.infolist():
            if info.filename not in changed:
                assert (info.CRC, info.compress_size) == (infos[info.filename].CRC, infos[info.filename].compress_size)
    assert _cells(payload_book(raw)) == _cells(payload_book(written))
    assert _first_difference(_cells(saved_book(raw, data_only=True)), _cells(payload_book(raw))) is None
    in_place = tmp_path / "in_place.xlsm"
    in_place.write_bytes(sample_master_xlsm.read_bytes())
    with_members(in_place, in_place, changed)
    assert in_place.read_bytes() == raw.read_bytes()


@pytest.mark.parametrize("client", [OFFICE_JS, VBA])
@pytest.mark.parametrize("book", ["hostile", "sample_master_xlsm", "lo_master_xlsm"])
def test_a_payload_is_the_same_from_either_reading(book, client, request, monkeypatch, licensed):  # noqa: F811
    """payload_from_file and file_rows check the two readings against each other when asked to.
    (Not grafted_lo_master: a grafted sheet's note at XFD1048576 makes its used range the
    whole sheet, a payload no client could send, in either reading.)"""
    monkeypatch.setenv(PAYLOAD_BOTH_WAYS, "1")
    path = request.getfixturevalue(book)
    payload = payload_from_file(path, client=client)
    assert payload["sheets"]
    for sheet in payload["sheets"]:
        file_rows(path, sheet["name"])     # the rows a test reads beside it, checked the same way


def test_the_comparison_tells_a_date_from_its_number():
    """A DateSerial read as a plain float is a different payload (the client sends a date)."""
    assert _first_difference({"v": [DateSerial(60)]}, {"v": [60.0]}) is not None
    assert _first_difference({"v": [True]}, {"v": [1]}) is not None
    assert _first_difference({"v": [DateSerial(60), "x"]}, {"v": [DateSerial(60), "x"]}) is None


@pytest.mark.parametrize("book", ["hostile", "sample_master_xlsm", "lo_master_xlsm"])
def test_a_file_grid_is_what_iter_rows_gives_on_a_values_load(book, request):
    """The tests' value readers (test_cycle.cell_of, test_years._grid, ...) read file_grid for
    openpyxl's load_workbook(data_only=True): the same rows, extent (styled empty cells,
    merged areas, links, notes) and values, dates as openpyxl's, types included; and reading
    it makes no cell in the book every payload of that content is built from. (Not
    grafted_lo_master: its note at XFD1048576 makes a grid of the whole sheet either way.)"""
    path = request.getfixturevalue(book)
    loaded = values_load(path)
    before = {ws.title: list(ws._cells) for ws in payload_book(path).worksheets}
    for ws in loaded.worksheets:
        grid = file_grid(path, ws.title)
        assert _first_difference(grid, [list(row) for row in ws.iter_rows(values_only=True)]) is None, ws.title
    assert {ws.title: list(ws._cells) for ws in payload_book(path).worksheets} == before


def test_a_reading_both_ways_fails_where_they_differ(hostile, monkeypatch):
    """With PAYLOAD_BOTH_WAYS a test's reading is compared with the load it stands in for, and
    only then: a normal load shows D3's formula as its text, file_grid its (absent) result."""
    monkeypatch.delenv(PAYLOAD_BOTH_WAYS, raising=False)     # the suite may run with it set

    def fast():
        return file_grid(hostile, "日付")[2][3]

    def loaded():
        return load_workbook(hostile)["日付"]["D3"].value
    assert read_both_ways(fast, loaded, "without the switch") is None
    monkeypatch.setenv(PAYLOAD_BOTH_WAYS, "1")
    with pytest.raises(AssertionError, match="file_grid and openpyxl's load differ at .: NoneType None != str '=1/0'"):
        read_both_ways(fast, loaded, "日付!D3")


def _under_merges(path: Path) -> Path:
    """A book whose merged areas hold values under their hidden part, as Excel keeps them
    (a file written by another tool, or cells merged with the format painter): openpyxl
    cannot write that (merge_cells empties the cells), so the areas are added to the XML."""
    wb = Workbook()
    ws = wb.active
    ws.title = "結合"
    ws["A1"], ws["A2"], ws["B1"], ws["B2"] = "見出し", 7, "#N/A", "下の文字"
    ws["C1"], ws["C2"] = 1, 45383
    ws["C2"].number_format = "yyyy-mm-dd"
    ws["D1"], ws["D3"] = "左上", 3
    wb.save(path)
    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    sheet = members["xl/worksheets/sheet1.xml"].decode("utf-8")
    sheet = re.sub(r'<c r="B1"[^>]*>.*?</c>', '<c r="B1" t="e"><v>#N/A</v></c>', sheet, count=1)
    sheet = sheet.replace("</sheetData>", '<row r="4"><c r="A4"><v>1</v></c><c r="B4" t="e"><v>#SPILL!</v></c>'
                                          "</row></sheetData>")
    sheet = sheet.replace("<pageMargins", '<mergeCells count="3"><mergeCell ref="A1:B2"/><mergeCell ref="C1:C2"/>'
                                          '<mergeCell ref="A4:B4"/></mergeCells><pageMargins')
    members["xl/worksheets/sheet1.xml"] = sheet.encode("utf-8")
    write_members(path, members)
    return path


@pytest.mark.parametrize("both_ways", [False, True])
@pytest.mark.parametrize("client", [OFFICE_JS, VBA])
def test_a_value_under_a_merged_areas_hidden_part_is_sent_as_excel_keeps_it(tmp_path, client, both_ways, monkeypatch):
    """openpyxl blanks a merged area's cells but its top-left one (MergedCell), so the
    model sent "" where Excel keeps the file's value: Remote.bas sends the Range.Value of
    A1 to the used range's last cell, every cell's own value, and an error value there was
    named on the file face (which reads every cell) and unseen on the button face.
    The file readers of the tests (file_grid, openpyxl's view) still leave them out."""
    if both_ways:
        monkeypatch.setenv(PAYLOAD_BOTH_WAYS, "1")
    path = _under_merges(tmp_path / "結合.xlsx")
    payload = payload_from_file(path, client=client)
    date, blank = "2024-04-01T00:00:00.000Z", None if client == VBA else ""
    assert payload["sheets"][0]["values"] == [["見出し", "#N/A", 1, "左上"], [7, "下の文字", date, blank],
                                              [blank, blank, blank, 3], [1, "#SPILL!", blank, blank]]
    # #SPILL! under A4:B4's hidden part is no value VBA-Web writes: the VBA client leaves a hole
    assert payload["_excel"]["unsendable"] == ([[0, 4, 2]] if client == VBA else [])
    assert file_grid(path, "結合")[:2] == [["見出し", None, 1, "左上"], [None, None, None, None]]


@pytest.mark.parametrize("client", [OFFICE_JS, VBA])
def test_a_used_range_of_one_empty_cell_is_sent_as_remote_bas_sends_it(tmp_path, client):
    """Remote.bas sends Array(Array()) where IsEmpty(UsedRange.Value): a used range of one
    empty cell, a styled C5 as well as A1 (the model sent C5's 5 × 3 empty cells). Its
    empty cells are null (VBA-Web writes Empty so); Office.js' Range.values gives ""."""
    wb = Workbook()
    wb.active["C5"].fill = PatternFill("solid", fgColor="FFFF00")
    wb.create_sheet("二")["B2"] = 1
    wb.save(tmp_path / "one.xlsx")
    sheets = payload_from_file(tmp_path / "one.xlsx", client=client)["sheets"]
    blank = None if client == VBA else ""
    assert sheets[0]["values"] == ([[]] if client == VBA else [[""] * 3] * 5)
    assert sheets[1]["values"] == [[blank, blank], [blank, 1]]


@pytest.mark.parametrize("client", [OFFICE_JS, VBA])
def test_a_number_in_a_currency_formatted_cell_is_sent_as_range_value_gives_it(tmp_path, client):
    """Range.Value of a cell in Excel's Currency or Accounting format is a VBA Currency, four
    decimal places (Range.Value2's documentation: Value uses the Currency and Date types),
    which VBA-Web writes as it is; the model sent the stored Double. Office.js' Range.values
    is the Double. A 円 written after the number is no currency symbol, nor a [$-411] tag."""
    wb = Workbook()
    ws = wb.active
    formats = ['"¥"#,##0', '_ "¥"* #,##0.00_ ;_ "¥"* \\-#,##0.00_ ;_ "¥"* "-"??_ ;_ @_ ', "[$€-2] #,##0.00",
               "[Red]\\$#,##0", "#,##0円", "[$-411]#,##0", "0.00000"]
    for col, fmt in enumerate(formats, start=1):
        ws.cell(1, col, 1234.56789).number_format = fmt
        ws.cell(2, col, 0.00001).number_format = fmt
    wb.save(tmp_path / "yen.xlsx")
    rows = payload_from_file(tmp_path / "yen.xlsx", client=client)["sheets"][0]["values"]
    currency = client == VBA
    assert rows[0] == ([1234.5679] * 4 + [1234.56789] * 3 if currency else [1234.56789] * 7)
    assert rows[1] == ([0.0] * 4 + [0.00001] * 3 if currency else [0.00001] * 7)


def _with_number(path: Path, number: str, out: Path) -> Path:
    """A copy of the hostile book at ``out`` whose 表!B2 (1.5 in its XML) holds ``number``,
    every other part byte for byte as it was: a master a test changed in one cell."""
    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    part = "xl/worksheets/sheet3.xml"
    assert members[part].count(b"<v>1.5</v>") == 1
    members[part] = members[part].replace(b"<v>1.5</v>", f"<v>{number}</v>".encode())
    write_members(out, members)
    return out


def test_a_sheet_as_in_the_last_book_read_is_not_parsed_again(hostile, tmp_path):
    """payload_book keeps each sheet's parse per content (perf-105): in a book that differs
    from the last one read in one sheet, the other sheets' cells are those read before, and
    the changed sheet's are read anew."""
    first = payload_book(_with_number(hostile, "3.5", tmp_path / "first.xlsx"))
    changed = payload_book(_with_number(hostile, "2.5", tmp_path / "changed.xlsx"))
    assert (first["表"]._cells[(2, 2)].value, changed["表"]._cells[(2, 2)].value) == (3.5, 2.5)
    dates = first["日付"]._cells
    assert dates and all(changed["日付"]._cells[key] is held for key, held in dates.items())
    assert changed["表"]._cells[(1, 1)] is not first["表"]._cells[(1, 1)]


@pytest.mark.parametrize("client", [OFFICE_JS, VBA])
def test_a_sheet_parse_kept_is_bound_anew_for_each_book(hostile, tmp_path, client, monkeypatch, licensed):  # noqa: F811
    """A kept parse bound to a second book gives the payload and cells openpyxl's own load
    gives (merged areas, links, Text rows and columns of 結合 bound again), and leaves the
    first book as it was: binding changes the parse's dicts (the merged areas' cells, the
    rows' and columns' styles), and a link is bound to its cell as it is."""
    monkeypatch.setenv(PAYLOAD_BOTH_WAYS, "1")
    first_path = _with_number(hostile, "3.5", tmp_path / "first.xlsx")
    first = payload_book(first_path)
    payload_from_file(first_path, client=client)
    before = _cells(first)
    changed_path = _with_number(hostile, "2.5", tmp_path / "changed.xlsx")
    changed = payload_book(changed_path)
    assert changed["結合"]._cells[(6, 2)] is not first["結合"]._cells[(6, 2)]
    assert _first_difference(_cells(changed), _cells(saved_book(changed_path, data_only=True))) is None
    payload = payload_from_file(changed_path, client=client)      # checked against openpyxl's load
    assert payload["sheets"][2]["values"][1] == ["項目1", 2.5]
    for ws in changed.worksheets:
        file_rows(changed_path, ws.title)
    assert _first_difference(_cells(first), before) is None
    link = first["結合"]._cells[(20, 12)].hyperlink
    assert link is not None and changed["結合"]._cells[(20, 12)].hyperlink is not link
    assert changed["結合"].column_dimensions["C"].number_format == "@"
    assert changed["結合"].row_dimensions[7].number_format == "@"


def _with_styles(path: Path, out: Path, *edits: tuple[str, str]) -> Path:
    """A copy of ``path`` at ``out`` whose styles part has each (old, new) of ``edits`` made
    wherever ``old`` is, every other part byte for byte as it was: a book a click wrote a
    look into."""
    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    styles = members["xl/styles.xml"].decode("utf-8")
    for old, new in edits:
        assert old in styles, old
        styles = styles.replace(old, new)
    members["xl/styles.xml"] = styles.encode("utf-8")
    write_members(out, members)
    return out


def _counting_reads(monkeypatch) -> list:
    """The sheet parts ``payload_book`` parses from here on (one item a parse)."""
    reads, read = [], remote_payload._sheet_read
    monkeypatch.setattr(remote_payload, "_sheet_read", lambda *args: reads.append(1) or read(*args))
    return reads


def test_a_new_look_in_the_styles_part_leaves_the_sheets_parses_and_cells_kept(hostile, tmp_path, monkeypatch):
    """A click that writes a look writes a new styles part (a font and a cell format added)
    and leaves the sheets' parts as they were: their parses are kept per the part alone, and
    a sheet whose style ids mean what they meant keeps its cells (perf-108), the payload's
    cells still openpyxl's own load's."""
    first = payload_book(hostile)
    reads = _counting_reads(monkeypatch)
    styled = _with_styles(hostile, tmp_path / "styled.xlsx",
                          ('<fonts count="2">', '<fonts count="3">'),
                          ("</fonts>", '<font><i val="1" /></font></fonts>'),
                          ('<cellXfs count="23">', '<cellXfs count="24">'),
                          ("</cellXfs>", '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" /></cellXfs>'))
    changed = payload_book(styled)
    assert reads == []
    for sheet in ("日付", "表"):
        cells = first[sheet]._cells
        assert cells and all(changed[sheet]._cells[key] is held for key, held in cells.items())
    assert _first_difference(_cells(changed), _cells(saved_book(styled, data_only=True))) is None


def test_a_style_id_that_means_another_look_binds_the_kept_parse_anew(hostile, tmp_path, monkeypatch):
    """Where the new styles part gives a style id the cells use another number format (a
    date's format now General) or another protection (the same protection id in openpyxl's
    array: its list of protections is in the order the part gives them), the sheet is not
    parsed again but its cells are bound anew: numbers where dates were, the protection as
    the part says, as openpyxl's own load reads them."""
    first = payload_book(hostile)
    reads = _counting_reads(monkeypatch)
    restyled = _with_styles(hostile, tmp_path / "restyled.xlsx",
                            ('<xf numFmtId="164" ', '<xf numFmtId="0" '),
                            ('<protection locked="0" hidden="0" />', '<protection locked="0" hidden="1" />'))
    changed = payload_book(restyled)
    assert reads == []
    assert type(first["日付"]._cells[(3, 1)].value) is DateSerial
    held = changed["日付"]._cells[(3, 1)]
    assert (held.value, type(held.value), held.data_type) == (59, int, "n")
    for at in ((1, 1), (12, 5)):        # a merged area's first cell, and a cell of its own
        assert (first["結合"]._cells[at].protection.hidden, changed["結合"]._cells[at].protection.hidden) == (False, True)
    assert _first_difference(_cells(changed), _cells(saved_book(restyled, data_only=True))) is None


def _sheets_of(path: Path, sizes: list[int], book: int) -> Path:
    """A book with a sheet of ``n`` numbers (one column) per size, no two books' alike."""
    wb = Workbook()
    wb.remove(wb.active)
    for i, n in enumerate(sizes):
        ws = wb.create_sheet(f"s{i}")
        for r in range(1, n + 1):
            ws.cell(r, 1, book * 100_000 + i * 1_000 + r)
    wb.save(path)
    return path


def test_the_sheet_parses_kept_are_bounded_by_count_and_by_cells(tmp_path, monkeypatch):
    """However many books a worker reads, the parses kept and the cells bound from them each
    stay within COUNT sheets and CELLS cells, the least recently used dropped first; a sheet
    of more cells than CELLS is not kept."""
    monkeypatch.setattr(_KeptSheets, "COUNT", 4)
    monkeypatch.setattr(_KeptSheets, "CELLS", 100)
    raw, bound = _KeptSheets(), _KeptSheets()      # the parses, and their cells bound to books
    monkeypatch.setattr(remote_payload, "_RAW", raw)
    monkeypatch.setattr(remote_payload, "_SHEETS", bound)
    books = [_sheets_of(tmp_path / f"b{i}.xlsx", [10, 20, 500], i) for i in range(3)]
    for i, path in enumerate(books):
        payload_book(path)
        for kept in (raw, bound):
            assert len(kept) <= 4 and kept.cells <= 100
            assert kept.cells == sum(len(held[0]) for held in kept.values())
            assert max(len(held[0]) for held in kept.values()) == 20     # never the 500
    for kept in (raw, bound):
        assert len(kept) == 4 and kept.cells == 60      # the last two books' small sheets


def test_a_recalled_entry_is_kept_as_the_most_recently_used():
    """_recalled makes an entry once, keeps at most ``limit``, and drops the least recently used."""
    cache: dict = {}
    for key in "abc":
        assert _recalled(cache, key, key.upper, limit=2) == key.upper()
    assert list(cache) == ["b", "c"]
    assert _recalled(cache, "b", lambda: pytest.fail("made again"), limit=2) == "B"
    _recalled(cache, "d", "D".lower, limit=2)
    assert list(cache) == ["b", "d"]


def _noted(path: Path, notes: dict[str, str]) -> Path:
    """A book of one sheet whose cells in ``notes`` carry a note, written by XlsxWriter (as
    test_buttons' Shapes.Count case writes 32,767 of them; openpyxl's own are in ``hostile``)."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("メモ")
    ws.write("A1", "値")
    for ref, text in notes.items():
        ws.write_comment(ref, text, {"author": "職員"})
    wb.close()
    return path


_NOTES_XML = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
              '<comments xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
              ' xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision"{root}>'
              '<authors><author>甲</author><author>乙</author></authors><commentList>{records}</commentList></comments>')
_NOTE = '<{tag} ref="{ref}"{attrs}><text><t>メモ</t></text></{tag}>'


@pytest.mark.parametrize("root, records, refs", [
    ("", [("comment", "B2", ' authorId="1"'), ("comment", "A1", "")], ["B2", "A1"]),
    ("", [("comment", "C3", ' authorId="0" shapeId="0" xr:uid="{00000000-0001-0000-0000-000000000000}"')], ["C3"]),
    ("", [("x:note", "D4", ' xmlns:x="urn:other" authorId="1"')], ["D4"]),       # any child is a record
    ("", [], []),
    ("", [("comment", "E5", ' authorId="2"')], IndexError),                          # past the authors
    ("", [("comment", "E5", ' authorId="1" colour="red"')], TypeError),               # not CommentRecord's
    (' mystery="1"', [("comment", "E5", "")], TypeError),                              # not CommentSheet's
])
def test_the_notes_cells_are_those_openpyxl_reads_from_the_comments_part(root, records, refs):
    """payload_book reads a comments part's refs itself (_noted_refs, perf-109): the cells,
    in order, that CommentSheet.from_tree's notes name, Excel's namespaced attributes and
    a record of another tag included; where openpyxl's reading raises, it leaves the part
    to openpyxl (None), so the model raises as a normal load does."""
    from openpyxl.comments.comment_sheet import CommentSheet
    from openpyxl.xml.functions import fromstring

    data = _NOTES_XML.format(root=root, records="".join(_NOTE.format(tag=t, ref=r, attrs=a) for t, r, a in records))
    data = data.encode("utf-8")
    if isinstance(refs, list):
        assert [ref for ref, _ in CommentSheet.from_tree(fromstring(data)).comments] == refs
        assert remote_payload._noted_refs(data) == refs
    else:
        with pytest.raises(refs):
            list(CommentSheet.from_tree(fromstring(data)).comments)
        assert remote_payload._noted_refs(data) is None


def test_a_notes_part_openpyxls_defused_parser_may_refuse_is_left_to_it():
    """An entity declared in the part (a billion laughs, say): openpyxl's load refuses it, and
    so does the model's, through openpyxl; in UTF-16 too."""
    from defusedxml import DefusedXmlException
    from openpyxl.comments.comment_sheet import CommentSheet
    from openpyxl.xml.functions import fromstring

    plain = _NOTES_XML.format(root="", records=_NOTE.format(tag="comment", ref="A1", attrs=""))
    declared = plain.replace("<comments ", '<!DOCTYPE comments [<!ENTITY e "x">]><comments ', 1).encode("utf-8")
    with pytest.raises(DefusedXmlException):
        CommentSheet.from_tree(fromstring(declared))
    assert remote_payload._noted_refs(declared) is None
    assert remote_payload._noted_refs(plain.encode("utf-8")) == ["A1"]
    assert remote_payload._noted_refs(plain.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")) is None


def test_a_book_with_notes_is_read_without_openpyxls_note_objects(hostile, tmp_path, monkeypatch):
    """The cells that carry notes exist in payload_book's sheets as in openpyxl's own load
    (a note past the data is the extent), with no CommentSheet made: openpyxl's objects
    were 2–3 CPU s of test_buttons' 32,767 notes (perf-109)."""
    from openpyxl.comments.comment_sheet import CommentSheet

    made = []
    original = CommentSheet.from_tree.__func__
    monkeypatch.setattr(CommentSheet, "from_tree", classmethod(lambda cls, node: made.append(1) or original(cls, node)))
    noted = _noted(tmp_path / "noted.xlsx", {"C9": "下", "F2": "右", "B1": "上"})
    assert sorted(payload_book(noted)["メモ"]._cells) == [(1, 1), (1, 2), (2, 6), (9, 3)]
    assert made == []
    for path in (hostile, noted):
        book, loaded = payload_book(path), saved_book(path, data_only=True)
        for ws in loaded.worksheets:
            assert sorted(book[ws.title]._cells) == sorted(ws._cells), ws.title
            assert (book[ws.title].max_row, book[ws.title].max_column) == (ws.max_row, ws.max_column)
    monkeypatch.setenv(PAYLOAD_BOTH_WAYS, "1")
    for client in (OFFICE_JS, VBA):
        payload_from_file(noted, client=client)


def test_a_vba_project_differing_in_one_module_decompresses_that_module_alone(tmp_path):
    """The model reads a master's modules with oletools (remote_payload._vba_codes_of), each
    compressed stream decompressed once per process (perf-109): a master for another server
    differs in Renkei's stream only, which is the one stream decompressed anew, and the
    modules read are oletools' own reading of each file."""
    from oletools.olevba import VBA_Parser

    from renkei_xl.cli.workbook import init_master

    masters = [init_master(tmp_path / f"{host}.xlsm", year=2023, server=f"http://{host}:8000") for host in ("a", "b")]
    first = remote_payload._vba_codes_of(masters[0])
    streams = len(remote_payload._STREAMS)
    second = remote_payload._vba_codes_of(masters[1])
    assert len(remote_payload._STREAMS) == streams + 1
    for path, codes in zip(masters, (first, second)):
        parser = VBA_Parser(str(path))
        try:
            assert codes == tuple(code for _, _, _, code in parser.extract_macros())
        finally:
            parser.close()
    assert first != second and len(first) == len(second) > 20


def _alike(a, b, pairs: dict) -> bool:
    """``a`` and ``b`` hold the same, attribute by attribute; ``pairs``: id of an object of
    ``a``'s side -> the object standing for it on ``b``'s (its worksheet, its workbook)."""
    if id(a) in pairs:
        return b is pairs[id(a)]
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_alike(x, y, pairs) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_alike(a[k], b[k], pairs) for k in a)
    if hasattr(a, "__dict__") and not callable(a):
        return _alike(vars(a), vars(b), pairs)
    if callable(a) and hasattr(a, "__self__"):       # a bound method: its function, its object
        return a.__func__ is b.__func__ and _alike(a.__self__, b.__self__, pairs)
    return a == b


def test_a_payload_sheet_reads_every_default_of_openpyxls_worksheet():
    """payload_book's sheets make their defaults when read (remote_payload._PayloadWorksheet,
    perf-110): each attribute a plain openpyxl Worksheet holds after ``Worksheet(wb, title)``,
    read from one, is what the plain one holds (an openpyxl that adds one fails here)."""
    real_book, lazy_book = Workbook(), Workbook()
    real, lazy = Worksheet(real_book, "表"), remote_payload._PayloadWorksheet(lazy_book, "表")
    pairs = {id(real): lazy, id(real_book): lazy_book}
    for name, value in vars(real).items():
        assert _alike(value, getattr(lazy, name), pairs), name
    assert set(vars(lazy)) == set(vars(real))
    with pytest.raises(AttributeError):
        lazy.no_such_attribute
    lazy_book._add_sheet(lazy)
    lazy_book._add_sheet(remote_payload._PayloadWorksheet(lazy_book, "表"))
    assert lazy_book.sheetnames[-2:] == ["表", "表1"]          # a duplicate title renamed, as openpyxl does


def test_a_payload_books_sheets_make_no_default_the_payload_does_not_read(tmp_path, monkeypatch, licensed):  # noqa: F811
    """A sheet of payload_book has no header and footer, margins or page setup made until one
    is read (they were about 0.75 ms a sheet, perf-110), and what is read then is a normal
    load's: the sheet's views and protection from the file, the defaults as openpyxl makes them."""
    path = _hostile(tmp_path / "lazy.xlsx")
    book, loaded = payload_book(path), saved_book(path, data_only=True)
    for ws in book.worksheets:
        assert not {"HeaderFooter", "page_margins", "page_setup", "print_options", "scenarios"} & set(vars(ws)), ws.title
    for ws in loaded.worksheets:
        fast = book[ws.title]
        pairs = {id(ws): fast, id(loaded): book}
        for name in ("views", "protection", "HeaderFooter", "page_margins", "page_setup", "print_options",
                     "sheet_properties", "sheet_format", "auto_filter", "data_validations"):
            assert _alike(getattr(ws, name), getattr(fast, name), pairs), (ws.title, name)
    assert book["結合"].protection.sheet and book["結合"].protection.password == loaded["結合"].protection.password
    monkeypatch.setenv(PAYLOAD_BOTH_WAYS, "1")
    for client in (OFFICE_JS, VBA):
        payload_from_file(path, client=client)


def test_books_of_one_styles_part_share_openpyxls_stylesheet_of_it(tmp_path, monkeypatch, licensed):  # noqa: F811
    """payload_book makes openpyxl's Stylesheet once per styles part content
    (remote_payload._apply_stylesheet, perf-110): a second book with the same part, another
    cell changed, makes none, and both books' cells and payloads are a normal load's. A
    styles part of other content is read anew; the kept ones are bounded by count."""
    from openpyxl.styles.stylesheet import Stylesheet

    monkeypatch.setattr(remote_payload, "_STYLESHEETS", {})
    made = []
    original = Stylesheet.from_tree.__func__
    monkeypatch.setattr(Stylesheet, "from_tree", classmethod(lambda cls, node: made.append(1) or original(cls, node)))
    first = _hostile(tmp_path / "first.xlsx")
    second = tmp_path / "second.xlsx"
    with zipfile.ZipFile(first) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    members["xl/worksheets/sheet1.xml"] = members["xl/worksheets/sheet1.xml"].replace("式の結果".encode(), "別の結果".encode())
    write_members(second, members)
    books = [payload_book(first), payload_book(second)]
    assert made == [1]
    for path, book in zip((first, second), books):
        assert _first_difference(_cells(book), _cells(saved_book(path, data_only=True))) is None
    assert books[1]["日付"]["A12"].value == "別の結果"
    made.clear()
    monkeypatch.setenv(PAYLOAD_BOTH_WAYS, "1")
    for path in (first, second):
        for client in (OFFICE_JS, VBA):
            payload_from_file(path, client=client)
    monkeypatch.setattr(remote_payload, "_STYLESHEETS_KEPT", 2)
    for n in range(3):
        wb = Workbook()
        wb.active["A1"] = n
        wb.active["A1"].font = Font(size=10 + n)
        wb.save(tmp_path / f"styled{n}.xlsx")
        assert payload_book(tmp_path / f"styled{n}.xlsx").active["A1"].value == n
    assert made == [1, 1, 1] and len(remote_payload._STYLESHEETS) == 2


def _styles_part(tmp_path: Path, formats: int) -> bytes:
    """A styles part openpyxl writes for ``formats`` cells, each of its own look: alignments,
    protections, custom and built-in number formats, dates and times among them."""
    from openpyxl.styles import Alignment

    wb = Workbook()
    ws = wb.active
    kinds = ("0.000", "yyyy/m/d", "h:mm", "[h]:mm:ss", "#,##0円", "General", "0%")
    for i in range(formats):
        cell = ws.cell(row=i + 1, column=1, value=i)
        # the last formats bring looks of their own: a cut must leave their alignments and
        # custom number formats out, as openpyxl's reading of the smaller part never meets them
        cell.number_format = kinds[i % len(kinds)] if i % 3 else f'#,##0"件{i}"'
        cell.alignment = Alignment(horizontal=("left", "center", "right")[i % 3], indent=i, wrap_text=bool(i % 2))
        cell.protection = Protection(locked=bool(i % 5), hidden=bool(i % 7 == 0))
        cell.font = Font(size=8 + i % 5)
    path = tmp_path / f"styles{formats}.xlsx"
    wb.save(path)
    with zipfile.ZipFile(path) as z:
        return z.read("xl/styles.xml")


def _cut(whole: bytes, dropped: int) -> bytes:
    """``whole`` with its last ``dropped`` cell formats left out, as test_excel_limits' near-limit
    masters differ from its largest one."""
    head, tail = whole.split(b"</cellXfs>", 1)
    xfs = list(re.finditer(rb"<xf\b[^>]*?(?:/>|>.*?</xf>)", head.split(b"<cellXfs", 1)[1], re.S))
    cut_at = head.index(b"<cellXfs") + len(b"<cellXfs") + xfs[-dropped].start()
    kept = head[:cut_at]
    kept = re.sub(rb'(<cellXfs count=")\d+', lambda m: m.group(1) + str(len(xfs) - dropped).encode(), kept, count=1)
    return kept + b"</cellXfs>" + tail


@pytest.mark.parametrize("dropped", [1, 7, 23])
def test_a_stylesheet_cut_from_a_larger_one_is_the_one_openpyxl_reads(tmp_path, dropped):
    """remote_payload.styles_within lets the model take a near-limit master's styles from the
    largest one's, cut (test_excel_limits: 3 s of openpyxl a book). The cut must be what
    openpyxl reads from the smaller part itself, in everything a payload's book reads."""
    from openpyxl.styles.stylesheet import Stylesheet
    from openpyxl.xml.functions import fromstring

    whole = _styles_part(tmp_path, 60)
    part = _cut(whole, dropped)
    remote_payload.styles_within(part, whole)
    cut = remote_payload._stylesheet_of(part)
    read = Stylesheet.from_tree(fromstring(part))
    assert len(cut.cell_styles) == len(read.cell_styles) == 60 + 1 - dropped    # openpyxl's default first
    for field in ("cell_styles", "alignments", "protections", "number_formats", "fonts", "fills", "borders",
                  "named_styles"):
        assert list(getattr(cut, field)) == list(getattr(read, field)), field
    assert (cut.date_formats, cut.timedelta_formats) == (read.date_formats, read.timedelta_formats)

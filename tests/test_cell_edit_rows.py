"""package.cells.SheetCells.edit: the format a new cell in an existing row starts from is
found from the row as the edit read it, not by reading the whole row again per new cell
(perf-106: a rollover writes thousands of new cells into rows of staff sheets).

The format is what it was: the cell's own where the part holds it (a row out of column
order, which only a damaged or hand-made part has), else the row's, else the column's.
"""

from __future__ import annotations

import pytest

from renkei_xl.package import cells as cells_module
from renkei_xl.package.cells import SheetCells

HEAD = '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
COLS = '<cols><col min="4" max="4" width="9" style="7" customWidth="1"/></cols>'


def _sheet(rows: str) -> SheetCells:
    return SheetCells(f"{HEAD}{COLS}<sheetData>{rows}</sheetData></worksheet>", "xl/worksheets/sheet1.xml", "")


# Each row, and the edit below as it was written before perf-106 (read from that code), when
# every new cell's format was found by reading its whole row again (style_of).
_NEW = ('<c r="B2"{b} t="inlineStr"><is><t>新</t></is></c><c r="C2"{c}><v>3.5</v></c>'
        '<c r="D2" s="{d}" t="inlineStr"><is><t>列</t></is></c><c r="E2"{e}/>')
ROWS = {
    "in order, cells beyond": ('<row r="2"><c r="A2" s="3"><v>1</v></c><c r="F2" s="4"><v>2</v></c></row>',
                               '<row r="2"><c r="A2" s="3"><v>1</v></c>' + _NEW.format(b="", c="", d=107, e="")
                               + '<c r="F2" s="4"><v>2</v></c></row>'),
    "in order, none beyond": ('<row r="2"><c r="A2" s="3"><v>1</v></c></row>',
                              '<row r="2"><c r="A2" s="3"><v>1</v></c>' + _NEW.format(b="", c="", d=107, e="")
                              + '</row>'),
    "row formatted whole": ('<row r="2" s="5" customFormat="1"><c r="A2"><v>1</v></c><c r="H2"/></row>',
                            '<row r="2" s="5" customFormat="1"><c r="A2"><v>1</v></c>'
                            + _NEW.format(b=' s="5"', c=' s="5"', d=105, e=' s="5"') + '<c r="H2"/></row>'),
    # B2 after F2: the scan up to the edited columns stops at F2 and never meets it; its own
    # format is still the base of the B2 written (the part keeps both, as it did)
    "out of order": ('<row r="2"><c r="A2"><v>1</v></c><c r="F2" s="4"/><c r="B2" s="9"><v>5</v></c></row>',
                     '<row r="2"><c r="A2"><v>1</v></c>' + _NEW.format(b=' s="9"', c="", d=107, e="")
                     + '<c r="F2" s="4"/><c r="B2" s="9"><v>5</v></c></row>'),
    "self-closing row": ('<row r="2"/>', '<row r="2">' + _NEW.format(b="", c="", d=107, e="") + '</row>'),
    "no such row": ('<row r="1"><c r="A1"/></row>',
                    '<row r="1"><c r="A1"/></row><row r="2">' + _NEW.format(b="", c="", d=107, e="") + '</row>'),
}


@pytest.mark.parametrize("rows, expected", ROWS.values(), ids=ROWS.keys())
def test_a_new_cells_format_is_the_one_the_whole_row_gives(rows, expected):
    changes = {(2, 2): ("新", None), (2, 3): (3.5, None), (2, 4): ("列", lambda s: s + 100), (2, 5): (None, None)}
    edited = _sheet(rows).edit(changes)
    assert edited[edited.index("<sheetData>") + len("<sheetData>"):edited.index("</sheetData>")] == expected


def test_the_out_of_order_cell_keeps_its_own_format_as_the_base():
    sheet = _sheet(ROWS["out of order"][0])
    edited = sheet.edit({(2, 2): ("新", lambda s: s * 10)})
    assert '<c r="B2" s="90" t="inlineStr">' in edited


def test_a_row_is_read_whole_at_most_once_for_its_new_cells(monkeypatch):
    whole = []
    scan = cells_module.SheetCells._cells

    def counted(self, row, upto=None):
        if upto is None:
            whole.append(row.r)
        return scan(self, row, upto)

    monkeypatch.setattr(cells_module.SheetCells, "_cells", counted)
    new = {(2, col): ("x", None) for col in (2, 3, 4, 5)}
    _sheet(ROWS["in order, cells beyond"][0]).edit(new)
    assert whole == [2]          # the scan stopped at F2: the rest of the row read once
    whole.clear()
    _sheet(ROWS["in order, none beyond"][0]).edit(new)
    assert whole == []           # the scan reached the row's end: nothing read again


# Rows as every writer writes them (ascending, a gap, a row without r: the one after the
# last, self-closed ones), and as a damaged part may (out of order, a row written twice).
ROW_ORDERS = {
    "in order": '<row r="2" s="5" customFormat="1"/><row r="4"><c r="A4" s="3"/></row><row r="9"/>',
    "without r": '<row r="2" s="5" customFormat="1"/><row><c r="A3" s="3"/></row><row r="9"/>',
    "out of order": '<row r="4"><c r="A4" s="3"/></row><row r="9"/><row r="2" s="5" customFormat="1"/>',
    "twice": '<row r="2" s="5" customFormat="1"/><row r="4"/><row r="2" s="6" customFormat="1"/><row r="9"/>',
}
DAMAGED = {"out of order", "twice"}


@pytest.mark.parametrize("order", sorted(ROW_ORDERS))
def test_a_row_found_near_the_top_is_the_row_the_whole_index_holds(order):
    """SheetCells.row reads rows only as far as the one asked (qa-returns64b) and finds what
    rows() finds, asked in any order, before and after rows(). In a part whose rows do not
    ascend (Excel calls it damaged) a row met after the disorder was read is still found so;
    one asked before it (row 2 of "out of order" asked first) is what the rows read so far say."""
    asks = ([1, 2, 3, 4, 5, 9, 10], [10, 2, 4], [4, 2, 1], [9, 3], [4, 9, 2])
    for asked in asks if order not in DAMAGED else ([10, 2, 4], [9, 4, 2, 1]):
        sheet, indexed = _sheet(ROW_ORDERS[order]), _sheet(ROW_ORDERS[order])
        whole = indexed.rows()
        assert [sheet.row(r) for r in asked] == [whole.get(r) for r in asked]
        assert [sheet.style_of(r, 1) for r in asked] == [indexed.style_of(r, 1) for r in asked]
        assert sheet.rows() == whole and [sheet.row(r) for r in asked] == [whole.get(r) for r in asked]

"""The file face's reader: calamine rows streamed from A1 give exactly what a full read gives."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import Workbook

from renkei_xl.package.zipped import Package
from renkei_xl.workbook.grids import Grids


def _book(tmp_path, cells: dict) -> Package:
    wb = Workbook()
    ws = wb.active
    ws.title = "s"
    for ref, value in cells.items():
        ws[ref] = value
    path = tmp_path / "b.xlsx"
    wb.save(path)
    return Package(path)


SHAPES = {
    "empty": {},
    "one cell at A1": {"A1": "x"},
    "offset block": {"C3": "x", "D5": 5, "E9": dt.datetime(2024, 3, 31)},
    "last row only": {"B7": "末尾"},
    "wide and long": {f"{col}{row}": f"{col}{row}" for col in "ABCDEFGH" for row in range(1, 200, 7)},
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_streamed_rows_equal_a_full_read_from_a1(tmp_path, shape):
    from python_calamine import CalamineWorkbook

    cells = SHAPES[shape]
    with _book(tmp_path, cells) as pkg:
        grids = Grids(pkg, ["s"])
        streamed = grids.rows("s")
        full = CalamineWorkbook.from_path(str(pkg.path)).get_sheet_by_name("s").to_python(skip_empty_area=False)
        expected = [[None if v == "" else v for v in row] for row in full]
        assert len(streamed) == len(expected)
        assert list(streamed) == expected
        # forward, backward and random access give the same rows
        for i in list(range(len(expected)))[::-1] + ([0, len(expected) // 2] if expected else []):
            assert streamed[i] == expected[i]
        assert grids["s"] == expected
        last = max((int(ref[1:]) for ref in cells), default=0)
        assert len(streamed) == last     # the last row is there (calamine's end is 0-based)
        grids.close()


LOOSE = {**SHAPES,
         "times and durations": {"B2": dt.time(12, 30), "C3": dt.timedelta(hours=36), "D4": 0.25, "A5": "x"},
         "error values": {"A1": "#N/A", "B3": "#DIV/0!", "B70": "#REF!", "A71": 3},
         "offset with an error": {"C2": "x", "D66": "#VALUE!", "E80": 7}}


@pytest.mark.parametrize("looked_up", [(), (0, 1), (5, 2, 63)], ids=["walked", "header looked up", "head read"])
@pytest.mark.parametrize("shape", sorted(LOOSE))
def test_loose_rows_read_as_the_same_texts(tmp_path, shape, looked_up):
    """The contract reader walks loose rows (calamine's own "" and durations); every cell
    reads as the same text as from the converted rows, error values and the columns left of
    the data included, whether or not the header search looked at the first rows before
    (they are kept converted, and the walk must neither repeat nor skip a row after them)."""
    from renkei_xl.core.contract_read import text

    with _book(tmp_path, LOOSE[shape]) as pkg:
        grids = Grids(pkg, ["s"])
        converted = [[text(v) for v in row] for row in grids.rows("s")]
        grids.close()
        grids = Grids(pkg, ["s"])
        rows = grids.rows("s")
        for i in looked_up:
            if i < len(rows):
                rows[i]
        loose = [[text(v) for v in row] for row in rows.loose()]
        grids.close()
    assert loose == converted
    if shape == "error values":
        assert converted[0][0] == "#N/A" and converted[69][1] == "#REF!" and len(converted) == 71
    elif shape == "times and durations":
        assert converted[1][1] == "12:30:00" and converted[2][2] == "1900-01-01 12:00:00"   # 36 h: a day and a half


def test_number_cells_read_as_text_does_whatever_the_memo_holds():
    """Book.texts turns each distinct float once (_NumberTexts, bounded): past the bound and
    across types that compare equal (True == 1 == 1.0, -0.0 == 0.0) every cell reads as
    text() reads it alone."""
    from renkei_xl.core.contract_read import Book, text

    cells = [True, 1.0, 1, -0.0, 0.0, 2.5, 1e15, 1.23456789012345678, float("inf"), float("nan"), False, 0,
             *(i / 7 for i in range(5000)), *(float(i % 13) for i in range(300)), 20.999999999999996]
    grid = [["h"], *([v] for v in cells)]
    got = [values[0] for _, values in Book({"s": grid}, {}).texts("s", 1, {"v": 1}, ("v",))]
    assert got == [text(v) for v in cells if text(v)]
    assert got[:6] == ["TRUE", "1", "1", "0", "0", "2.5"] and "FALSE" in got and got[-1] == "21"


def _with_raw_cell(pkg_path, row: int, cell_xml: str) -> None:
    """Put ``cell_xml`` as the only cell of a new last row of sheet "s" (openpyxl cannot
    write a self-closing error cell)."""
    import shutil
    import zipfile

    tmp = pkg_path.with_suffix(".tmp")
    with zipfile.ZipFile(pkg_path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", f'<row r="{row}">{cell_xml}</row></sheetData>'.encode())
                data = data.replace(b'<dimension ref="A1:B2"/>', f'<dimension ref="A1:B{row}"/>'.encode())
            dst.writestr(info, data)
    shutil.move(tmp, pkg_path)


@pytest.mark.parametrize("cell", ['<c r="B6" t="e"/>', '<c r="B6" t="e"><v>#N/A</v></c>'])
@pytest.mark.parametrize("looked_up", [(), (5,)], ids=["walked", "looked up"])
def test_an_error_cell_below_the_last_row_calamine_holds_is_read(tmp_path, cell, looked_up):
    """Alone in its row and holding no value, calamine gives no row for it: the rows must
    still reach it, every way they are read (an error value never counts as empty)."""
    from renkei_xl.core.contract_read import text

    wb = Workbook()
    ws = wb.active
    ws.title = "s"
    ws["A1"], ws["B2"] = "x", 2
    path = tmp_path / "b.xlsx"
    wb.save(path)
    _with_raw_cell(path, 6, cell)
    with Package(path) as pkg:
        grids = Grids(pkg, ["s"])
        rows = grids.rows("s")
        for i in looked_up:
            assert rows[i][1].startswith("#")
        assert len(rows) == 6 and rows[5][1].startswith("#") and list(rows)[5][1].startswith("#")
        assert [text(v) for v in list(rows.loose())[5]][1].startswith("#")
        grids.close()

"""A municipality's returned input file saved by its own Excel with workbook-level settings
(workbook.xml), collected: what lands in the master is what the municipality meant, or the
row is held, naming the cell. Each setting is written into 小樽市's filled return as Excel
writes it (tests/test_book_settings.py does the same for the master)."""

from __future__ import annotations

import re
import shutil
import zipfile

import openpyxl
import pytest

from renkei_xl.cli import main
from test_buttons import licensed  # noqa: F401  (the remote engine, with its test key: sample's)
from test_error_cells import issued, sample  # noqa: F401  (FY2023's .xlsm master and 小樽市's file split issued)
from test_cycle import cell_of, cycle, header_row, rewrite_zip, set_cell  # noqa: F401  (cycle: the fixture)
from conftest import taken

MUNI = "小樽市"


def _ref(path, ind_id: str, header: str) -> str:
    ws = openpyxl.load_workbook(path)[MUNI]
    top, cols = header_row(ws)
    row = next(r for r in range(top + 1, ws.max_row + 1) if ws.cell(r, cols["指標ID"]).value == ind_id)
    return ws.cell(row, cols[header]).coordinate


def _saved_with_formula(path, calc_pr: str, cached: int, typed: str = "{read}*2") -> tuple[str, str]:
    """06-1's 実績値 typed as =(08-1's 実績値)*2 (or ``typed``) and saved by Excel with
    ``calc_pr``, the formula's saved result ``cached``; (06-1's cell, the cell it reads)."""
    cell, read = _ref(path, "06-1", "実績値"), _ref(path, "08-1", "実績値")

    def sheet(data: bytes) -> bytes:
        def formula(m: re.Match) -> str:
            style = re.search(r'\ss="\d+"', m.group(1))
            return f'<c r="{cell}"{style.group(0) if style else ""}><f>{typed.format(read=read)}</f><v>{cached}</v></c>'

        text, n = re.subn(rf'<c r="{cell}"([^>]*?)(?:\s*/>|>.*?</c>)', formula, data.decode("utf-8"), count=1)
        assert n == 1
        return text.encode("utf-8")

    def workbook(data: bytes) -> bytes:
        return re.sub(r"<calcPr\b[^>]*/>", calc_pr, data.decode("utf-8"), count=1).encode("utf-8")

    rewrite_zip(path, path, replace={"xl/worksheets/sheet1.xml": sheet, "xl/workbook.xml": workbook})
    return cell, read


@pytest.mark.parametrize("calc_pr", ['<calcPr calcId="191029" calcMode="manual" calcOnSave="0"/>',
                                     "<calcPr calcId='191029' calcOnSave='false' calcMode='manual'/>"])
def test_a_formula_saved_uncalculated_in_a_return_is_held_not_imported(cycle, capsys, calc_pr):
    """The municipality typed =G23*2 (08-1's 3, so 6) with its Excel set to 「手動」 and
    「ブックの保存前に再計算を行う」 off: the saved result is the 1 from before. collect
    imported that 1 as 06-1's answer, exit 0, without a word."""
    cell, out = _held_on_the_command_line(cycle, capsys, calc_pr, cached=1)
    assert f"{MUNI}!{cell} 06-1: 実績値は数式で、保存されている計算結果は古いかもしれません" in out, out
    assert "計算方法が「手動」" in out and "この行は取り込まず" in out, out


def _held_on_the_command_line(cycle, capsys, calc_pr: str, **formula) -> tuple[str, str]:
    """(the cell, what collect said) of 06-1's 実績値 saved as a formula (``formula``: its
    saved result, what was typed) under ``calc_pr`` in 小樽市's return: held, the rest of the
    file imported, exit 1."""
    master, _by_muni, filled = cycle
    cell, _read = _saved_with_formula(filled[MUNI], calc_pr, **formula)
    code = main(["collect", str(master), str(filled[MUNI])])
    out = capsys.readouterr().out
    assert code == 1, out
    assert cell_of(master, MUNI, "06-1", "実績値") is None       # held: the master's value as it was
    assert cell_of(master, MUNI, "08-1", "実績値") == 3           # the rest of the file went in
    return cell, out


# calcPr as XlsxWriter and openpyxl write it (and as split issues the file): calculate every
# formula on opening. Excel's save and LibreOffice's drop the flag, so a return still carrying
# it was saved by neither, and a formula's saved result in it is whatever its writer put there
# (XlsxWriter: 0, whatever the formula). Found by qa-109.
FLAGGED = '<calcPr calcId="124519" fullCalcOnLoad="1"/>'


@pytest.mark.parametrize("formula", ["{read}*2", "6+15"])
def test_a_formula_result_no_application_calculated_in_a_return_is_held_not_imported(cycle, capsys, formula):
    """06-1's 実績値 =G23*2 (or =6+15) saved as XlsxWriter saves every formula, result 0, in a
    book that asks to be calculated on opening: Excel shows 6 (21), and collect imported the 0
    as 06-1's answer, exit 0, without a word (the master's reader takes the same flag as
    stale: core.calc_on_load.stale_results). A formula of numbers alone is held too: nothing
    calculated it either."""
    cell, out = _held_on_the_command_line(cycle, capsys, FLAGGED, cached=0, typed=formula)
    assert f"{MUNI}!{cell} 06-1: 実績値は数式で、保存されている計算結果は計算されたものではないかもしれません" in out, out
    assert "Excel でも LibreOffice でも保存されていません" in out and "この行は取り込まず" in out, out


def test_a_click_of_collect_holds_a_formula_result_no_application_calculated(sample, issued, tmp_path, monkeypatch):
    """The button face (xlwings' VBA client, replayed on the model of Excel) reads the returned
    file as the command line does: split's own file (it carries the flag) with 04-1's 実績値
    made =6+15, result 0, by a tool that does not calculate: the row held, the same sentence."""
    from remote_payload import click_said
    from renkei_xl.core import contract as c
    from renkei_xl.excel import buttons

    master = tmp_path / "work" / "master.xlsm"
    master.parent.mkdir()
    shutil.copyfile(sample, master)
    inbox = master.parent / c.COLLECT_DIR
    inbox.mkdir()
    cell = _ref(issued, "04-1", "実績値")

    def sheet(data: bytes) -> bytes:
        text, n = re.subn(rf'<c r="{cell}"([^>]*?)(?:\s*/>|>.*?</c>)', rf'<c r="{cell}"\1><f>6+15</f><v>0</v></c>',
                          data.decode("utf-8"), count=1)
        assert n == 1
        return text.encode("utf-8")

    rewrite_zip(issued, inbox / issued.name, replace={"xl/worksheets/sheet1.xml": sheet})
    assert FLAGGED.encode() in zipfile.ZipFile(inbox / issued.name).read("xl/workbook.xml")    # as split issued it
    monkeypatch.chdir(master.parent)
    said = click_said(master, buttons.collect)
    assert f"{MUNI}!{cell} 04-1: 実績値は数式で、保存されている計算結果は計算されたものではないかもしれません" in said, said
    assert "（この行は取り込まず、マスターの値のままです）" in said and "書き換えたセルはありません" in said, said


@pytest.mark.parametrize("calc_pr", ['<calcPr calcId="191029"/>', '<calcPr calcId="191029" calcMode="manual"/>',
                                     '<calcPr iterateCount="100" refMode="A1" iterate="false" iterateDelta="0.0001"/>'])
def test_a_formula_excel_calculated_at_the_save_is_imported(cycle, capsys, calc_pr):
    """Excel's default (calculated at the save, manual or not): the saved result is current."""
    master, _by_muni, filled = cycle
    _saved_with_formula(filled[MUNI], calc_pr, cached=6)
    code = main(["collect", str(master), str(filled[MUNI])])
    out = capsys.readouterr().out
    assert code == 0, out
    assert cell_of(master, MUNI, "06-1", "実績値") == 6


@pytest.mark.parametrize("full_precision, imported", [(False, 12.3), (True, 12.345)])
def test_a_number_in_a_return_set_to_precision_as_displayed_is_read_as_its_excel_shows_it(
        cycle, capsys, full_precision, imported):
    """40-4's 実績値 12.345 in a cell the municipality formatted 0.0, its Excel set to
    「表示桁数で計算する」 (calcPr fullPrecision="0"): that Excel shows and calculates 12.3,
    and collect imported 12.345. Without the setting the number is read as it is."""
    master, _by_muni, filled = cycle
    path = filled[MUNI]
    set_cell(path, MUNI, "40-4", "実績値", 12.345)
    set_cell(path, MUNI, "40-4", "分母", 100)
    wb = openpyxl.load_workbook(path)
    wb[MUNI][_ref(path, "40-4", "実績値")].number_format = "0.0"
    wb.save(path)
    if not full_precision:
        rewrite_zip(path, path, replace={"xl/workbook.xml": lambda d: re.sub(
            r"<calcPr\b[^>]*/>", '<calcPr calcId="191029" fullPrecision="0"/>', d.decode("utf-8"), count=1).encode("utf-8")})
    code = main(["collect", str(master), str(path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"40-4 実績値: （空欄） → {imported}\n" in out, out
    assert cell_of(master, MUNI, "40-4", "実績値") == imported


def _as_macro_enabled(path, suffix: str, add=None, types: bytes = b""):
    """The return as Excel saves it with 「Excel マクロ有効ブック (*.xlsm)」 chosen: the main
    part's content type is macroEnabled, with no VBA project unless one was written
    (``add``, its content types ``types``)."""
    out = path.with_suffix(suffix)
    rewrite_zip(path, out, {"[Content_Types].xml": lambda d: d.replace(
        b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml").replace(b"</Types>", types + b"</Types>")},
        add)
    if out != path:
        path.unlink()
    return out


def test_a_return_saved_as_a_macro_enabled_book_without_a_macro_is_imported(cycle, capsys):
    """It was refused as 「マクロ（VBA）を含むブックです」, a macro the municipality could not find."""
    master, _by_muni, filled = cycle
    # Content types as a book that lost its macros may keep them: a type declared, no such part.
    path = _as_macro_enabled(filled[MUNI], ".xlsm", types=b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>')
    code = main(["collect", str(master), str(path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert taken(out) == {"小樽市_2023年度_入力.xlsm": "小樽市"} and "1 ファイル、4 セルを取り込みました" in out, out
    assert cell_of(master, MUNI, "08-1", "実績値") == 3


@pytest.mark.parametrize("suffix, add, types, said", [
    (".xlsm", {"xl/macrosheets/sheet1.xml": b"<xm:macrosheet xmlns:xm='http://schemas.microsoft.com/office/excel/2006/main'/>"},
     b"", "マクロ（VBA）を含むブックです"),
    # A part is typed by [Content_Types].xml, whatever its name.
    (".xlsm", {"xl/code.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"},
     b'<Override PartName="/xl/code.bin" ContentType="application/vnd.ms-office.vbaProject"/>',
     "マクロ（VBA）を含むブックです"),
    (".xlsx", None, b"", "名前の拡張子が .xlsx ですが、中身はマクロ有効ブック（.xlsm）です。名前の拡張子を .xlsm に戻して")])
def test_a_macro_enabled_return_with_a_macro_or_misnamed_is_refused(cycle, capsys, suffix, add, types, said):
    """An Excel 4.0 macro sheet is a macro as a VBA project is; a .xlsm renamed .xlsx Excel
    itself does not open."""
    master, _by_muni, filled = cycle
    before = master.read_bytes()
    path = _as_macro_enabled(filled[MUNI], suffix, add, types)
    code = main(["collect", str(master), str(path)])
    out = capsys.readouterr().out
    assert code == 1 and said in out, out
    assert master.read_bytes() == before


def test_a_date_in_a_return_counting_from_1904_is_read_as_typed(cycle, capsys):
    """「1904 年から計算する」 (workbookPr date1904, the old Mac default): 2023-10-10 is stored
    as 43747, which counted from 1900 is 2019-10-09; the held row names the date typed."""
    import datetime as dt

    master, _by_muni, filled = cycle
    path = filled[MUNI]
    rewrite_zip(path, path, replace={"xl/workbook.xml": lambda d: re.sub(
        rb"<workbookPr\b[^>]*/>", b'<workbookPr date1904="1"/>', d, count=1)})
    set_cell(path, MUNI, "04-1", "実施状況", dt.datetime(2023, 10, 10))     # openpyxl counts by the book's system
    code = main(["collect", str(master), str(path)])
    out = capsys.readouterr().out
    assert code == 1, out
    assert (f"{MUNI}!{_ref(path, '04-1', '実施状況')} 04-1: 実施状況「2023-10-10 0:00:00」（セルの日付は 2023-10-10）"
            "が日付・時刻として保存されています") in out, out


@pytest.mark.parametrize("date1904, number_format, serial", [
    (True, "yyyy/m/d", 2957100),            # 9999-12-31 is 2957003 counted from 1904
    (True, "ge", 2958000),                  # an era format, which calamine hands over as a number
    (False, 'ggge"年"', 2958465.999995),    # under 2958466, but its second rounds into year 10000
])
@pytest.mark.parametrize("header", ["実績値", "実施状況"])
def test_a_date_serial_past_9999_in_a_return_is_no_unexpected_error(cycle, capsys, date1904, number_format,
                                                                     serial, header):
    """A number in a date-formatted cell past Excel's last date by the book's own count (Excel
    shows #####): the shown date was made counting from 1904 with the 1900 count's bound, and
    collect ended in 「予期しないエラー（OverflowError）」 (qa-fuzz62). Now it is read as Excel
    hands its clients such a cell, the number (contract_read.duration_as_read), and judged as one."""
    import openpyxl

    master, _by_muni, filled = cycle
    path = filled[MUNI]
    if date1904:
        rewrite_zip(path, path, replace={"xl/workbook.xml": lambda d: re.sub(
            rb"<workbookPr\b[^>]*/>", b'<workbookPr date1904="1"/>', d, count=1)})
    ref = _ref(path, "04-1", header)
    wb = openpyxl.load_workbook(path)
    wb[MUNI][ref].value = serial
    wb[MUNI][ref].number_format = number_format
    wb.save(path)
    code = main(["collect", str(master), str(path), "--dry-run"])
    out = capsys.readouterr().out
    assert code in (0, 1) and "予期しないエラー" not in out, out
    assert "小樽市" in out, out


@pytest.mark.parametrize("number_format, serial, seen, held", [
    ('ggge"年"', 45017, "令和5年", "日付は 2023-04-01"),
    ('[$-ja-JP]ggge"年"', 45017.5, "令和5年", "日時は 2023-04-01 12:00:00"),
    ("ge", 45017, "R5", "日付は 2023-04-01"),
])
def test_a_value_in_an_era_format_is_refused_as_the_date_it_shows(cycle, capsys, number_format, serial, seen, held):
    """A 実績値 showing 令和5年: python-calamine knows no era part and handed the cell over as
    45017, imported as a number nobody typed (forms62). The return's reader gives the date it
    shows (core.displayed.date_shown), and the row is held as a date in a numeric field is."""
    ref, out = _held_when_typed(cycle, capsys, "実績値", serial, number_format)
    assert f"{MUNI}!{ref} 04-1: 実績値: 「{seen}」（セルの{held}）は日付として入力されています" in out, out


@pytest.mark.parametrize("number_format, serial", [("hh:mm", -0.5), ("[h]:mm", -1), ("yyyy/m/d", 2958466),
                                                   ('ggge"年"', -3),
                                                   # Excel's built-in time formats (numFmtId 18-21,
                                                   # 45-47), written with no numFmt of their own
                                                   ("h:mm", -0.5), ("h:mm:ss", -0.25), ("h:mm AM/PM", -0.5),
                                                   ("h:mm:ss AM/PM", -0.5), ("mm:ss", -0.01),
                                                   ("[h]:mm:ss", -1), ("mmss.0", -0.01),
                                                   # Japanese Excel's own, ending in a text section
                                                   ('yyyy"年"m"月"d"日";@', -3)])
@pytest.mark.parametrize("header", ["実施状況", "実績値"])
def test_a_number_excel_shows_as_hashes_is_held_naming_the_cell(cycle, capsys, number_format, serial, header):
    """A number in a date or time format that Excel has no date for (below 0, past
    9999-12-31) shows 「#####」: the municipality saw no value. A 実施状況 of -0.5 in hh:mm
    arrived as 「-0.5」 (forms62). Now held as a number its cell does not show
    (findings.HIDDEN_NUMBER, core.displayed.shows_hashes), as 0.3 in 「#"千円"」 is."""
    ref, out = _held_when_typed(cycle, capsys, header, serial, number_format)
    shown = {"mmss.0": "mm:ss.0"}.get(number_format, number_format)   # id 47 as Excel names it
    assert (f"{MUNI}!{ref} 04-1: {header}のセルに数値 {serial} が入っていますが、表示形式「{shown}」のため"
            "「#####」とだけ表示され") in out, out


def test_a_negative_number_a_date_formats_other_section_shows_is_read_as_shown(cycle, capsys):
    """-61 in 「[mm]:ss;[Red]#」 shows a red 61: its section for negative numbers has no date.
    It was held as 「#####」とだけ表示され (the first section's date said so: formats_diff seed
    7123); it is refused as the negative number it is, quoting the 61 the cell shows."""
    ref, out = _held_when_typed(cycle, capsys, "実績値", -61, "[mm]:ss;[Red]#")
    assert f"{MUNI}!{ref} 04-1: 実績値「61」（セルの数値は -61）は負の値です" in out, out
    assert "#####" not in out, out


@pytest.mark.parametrize("number_format, value", [("[<100]yyyy/m/d;0", 150), ("yyyy/m/d;;0", 0),
                                                   ("[<100][h]:mm;0", 150), ("[<10]yyyy/m/d;#,##0", 1200)])
def test_a_number_a_date_formats_other_section_shows_is_imported_as_shown(cycle, capsys, number_format, value):
    """150 in 「[<100]yyyy/m/d;0」 shows 150 (the first section takes numbers below 100 only),
    0 in 「yyyy/m/d;;0」 0: python-calamine converted both by the first section, and collect
    held the row quoting 1900-05-29 or 00:00 as a date or time nobody typed. The section the
    number takes decides (sheet_form.note_numbers_shown): the number the cell shows is taken."""
    ref, out, code, master = _collected_when_typed(cycle, capsys, "実績値", value, number_format)
    assert code == 0 and "日付" not in out and "時刻" not in out, out
    assert cell_of(master, MUNI, "04-1", "実績値") == value, out


def test_a_number_a_later_date_section_shows_is_held_as_the_date(cycle, capsys):
    """45017 in 「[>=100000]0;yyyy/m/d」 shows 2023/4/1 (the second section takes the numbers
    below 100,000): python-calamine handed it over as 45017, the first section being no date,
    and collect imported a number the cell showed as a date. It is held as a date in a
    numeric field is, quoting what the cell shows."""
    ref, out, code, _master = _collected_when_typed(cycle, capsys, "実績値", 45017, "[>=100000]0;yyyy/m/d")
    assert code == 1 and f"{MUNI}!{ref} 04-1: 実績値: 「2023/4/1」（セルの日付は 2023-04-01）は日付" in out, out


def _held_when_typed(cycle, capsys, header: str, value, number_format: str):
    """_collected_when_typed, whose row must be held (exit 1) and the master's cell left as it
    was. (cell, collect's output) for the words."""
    master, *_ = cycle
    before = cell_of(master, MUNI, "04-1", header)
    ref, out, code, master = _collected_when_typed(cycle, capsys, header, value, number_format)
    assert code == 1, out
    assert cell_of(master, MUNI, "04-1", header) == before
    return ref, out


def _collected_when_typed(cycle, capsys, header: str, value, number_format: str):
    """The return of MUNI with ``value`` in ``number_format`` typed into its 04-1 ``header`` cell
    (openpyxl, as a municipality's Excel saves it), collected. (cell, collect's output, its
    exit code, the master)."""
    import openpyxl

    master, _by_muni, filled = cycle
    path = filled[MUNI]
    ref = _ref(path, "04-1", header)
    wb = openpyxl.load_workbook(path)
    wb[MUNI][ref].value = value
    wb[MUNI][ref].number_format = number_format
    wb.save(path)
    code = main(["collect", str(master), str(path)])
    return ref, capsys.readouterr().out, code, master

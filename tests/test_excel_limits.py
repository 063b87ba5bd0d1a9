"""Excel's own limits (Microsoft's 「Excel の仕様と制限」 / "Excel specifications and limits")
on what the tool writes from staff's input, on both faces: the command line's file and the
buttons' actions replayed on the model of Excel's client (tests/remote_payload.py, which
refuses what Excel refuses: text over 32,767 characters in a cell is error 1004)."""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import shutil
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook

from remote_payload import apply_actions, click_payload, file_rows, payload_book, payload_from_file, remote_book
from renkei_xl.cli import main as cli_main
from renkei_xl.core import contract as c
from renkei_xl.core.contract_read import REGION_MAX
from renkei_xl.core.looks import MAX_CELL_FORMATS
from renkei_xl.core.refs import column_letter, parse_ref
from renkei_xl.core.values import CELL_TEXT_LIMIT, EXCEL_CELL_TEXT, cell_length
from test_buttons import licensed, master  # noqa: F401  (the remote engine; the FY2023 master, once a module)


def _with_region(master: Path, target: Path, region: str) -> Path:
    """A copy of ``master`` whose 圏域名 cell holds ``region``."""
    shutil.copyfile(master, target)
    wb = load_workbook(target, keep_vba=True)
    sheet, ref = next(iter(wb.defined_names[c.N_REGION].destinations))
    wb[sheet][ref.replace("$", "")].value = region
    wb.save(target)
    return target


def _run(entry, payload: dict):
    book = remote_book(payload)
    entry(book)
    return apply_actions(payload, book.json()["actions"])


def test_every_title_of_the_longest_region_read_fits_a_cell():
    """Each title made from 圏域名 is one cell: with the longest 圏域名 read (REGION_MAX) and
    the longest municipality name (a sheet name's 31 characters), every one fits."""
    from renkei_xl.core.gaps import next_steps_title
    from renkei_xl.core.input_sheet import input_title
    from renkei_xl.core.layout import summary_title
    from renkei_xl.core.model import Settings

    settings = Settings("圏" * REGION_MAX, 2023)
    titles = [c.list_title(settings.region, 2023, confirmed=True), c.list_title(settings.region, 2023),
              summary_title(settings), next_steps_title(settings),
              input_title(settings, "市" * c.SHEET_NAME_MAX)]
    assert max(map(cell_length, titles)) <= CELL_TEXT_LIMIT, [cell_length(t) - REGION_MAX for t in titles]


def test_a_region_too_long_for_a_title_is_refused_naming_its_cell_on_both_faces(master, tmp_path):
    """A 圏域名 of a cell's 32,767 characters (a report pasted into 設定!B2) titles 一覧, 集計
    and 次の一歩: the command line wrote titles of 32,786 characters, which no Excel cell
    holds, and the buttons met 1004 halfway through their write-back. Both refuse it before
    writing anything, naming the cell; the longest 圏域名 read still writes on both faces."""
    from renkei_xl.excel import buttons

    from test_buttons import _alike_and_within_a_cell

    saved = _with_region(master, tmp_path / "long.xlsm", "圏" * EXCEL_CELL_TEXT)
    before = saved.read_bytes()
    assert cli_main(["recalc", str(saved)]) != 0
    assert saved.read_bytes() == before
    applied = _run(buttons.recalc, click_payload(saved))      # 1004 would raise here
    prompt = applied.alerts[-1]["prompt"]
    assert "設定!B2: 圏域名が32,767文字あります" in prompt and f"{REGION_MAX:,}文字以内" in prompt, prompt
    assert applied.rows(c.LIST) == file_rows(master, c.LIST)

    longest = _with_region(master, tmp_path / "longest.xlsm", "圏" * REGION_MAX)
    cli = shutil.copyfile(longest, tmp_path / "cli.xlsm")
    assert cli_main(["recalc", str(cli)]) == 0
    applied = _run(buttons.recalc, click_payload(longest))
    _alike_and_within_a_cell(applied, cli, (c.LIST, c.SUMMARY, c.NEXT_STEPS))


def _with_cell_formats(master: Path, target: Path, total: int) -> Path:
    """A copy of ``master`` whose styles hold ``total`` cell formats as Excel counts them (its
    own, and distinct ones appended as staff's pasted formats pile up).

    Built once per master's content and ``total`` (``_NEAR_LIMIT``), its bytes written to
    each test's own ``target``: five tests take the master six formats short of the limit,
    and each build parsed its 65,000 formats twice; the same bytes also let the model's
    readers (remote_payload's, kept per content) read it once for all of them, its count
    of the formats the build's own (remote_payload.styles_cell_formats)."""
    import hashlib

    key = (hashlib.sha256(master.read_bytes()).digest(), total)
    if key in _NEAR_LIMIT:
        target.write_bytes(_NEAR_LIMIT[key])
    else:
        _NEAR_LIMIT[key] = _write_cell_formats(master, target, total)
    return target


_NEAR_LIMIT: dict[tuple[bytes, int], bytes] = {}


def _write_cell_formats(master: Path, target: Path, total: int) -> bytes:
    """``_with_cell_formats`` built: ``target`` written, its bytes returned. openpyxl's reading
    of its styles (the model's, remote_payload) is taken from the largest such master's
    (``_LARGEST``) where it has fewer: its styles are that one's cut short."""
    import zipfile

    from conftest import write_members
    from remote_payload import styles_cell_formats, styles_within

    with zipfile.ZipFile(master) as z:
        members = {name: z.read(name) for name in z.namelist()}
    own = members["xl/styles.xml"]
    members["xl/styles.xml"] = _near_limit_styles(own, total)
    # package.styles' count, kept for the model's payloads of the book (remote_payload)
    assert styles_cell_formats(members["xl/styles.xml"]) == total
    if total < _LARGEST:
        styles_within(members["xl/styles.xml"], _near_limit_styles(own, _LARGEST))
    write_members(target, members)
    return target.read_bytes()


@functools.lru_cache(maxsize=2)
def _near_limit_styles(own: bytes, total: int) -> bytes:
    """The styles part ``own`` with distinct cell formats appended up to ``total``, as staff's
    pasted formats pile up: a smaller ``total``'s is a larger one's cut short. (Kept: the
    largest one's 8 MB, which styles_within holds, is one object for every smaller one.)"""
    from renkei_xl.package.styles import read_styles

    text = own.decode("utf-8")
    have = read_styles(own, "xl/styles.xml").cell_formats()[0]
    # distinct by rotation, built-in number format and indent, each within what openpyxl (which
    # the model of Excel reads the book with) and Excel take
    more = "".join(f'<xf numFmtId="{i // 180 % 40}" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
                   f'<alignment textRotation="{i % 180}" indent="{i // 7200}"/></xf>' for i in range(total - have))
    count = int(re.search(r'<cellXfs count="(\d+)"', text).group(1))
    text = text.replace(f'<cellXfs count="{count}"', f'<cellXfs count="{count + total - have}"', 1)
    return text.replace("</cellXfs>", more + "</cellXfs>", 1).encode("utf-8")


_LARGEST = MAX_CELL_FORMATS - 6       # the most cell formats a master of this file's holds


def test_a_write_that_would_take_the_cell_formats_past_excels_limit_is_refused(master, tmp_path):
    """A master whose cell formats stand just under Excel's limit (MS-OI29500: 65,430 cell
    formats and staff's cell style formats) took the 7 looks a first 再計算 adds past it, and
    the command line wrote it (exit 0): Excel reports such a file damaged and drops formats.
    Refused before anything is written, saying the count and what to do; one format fewer
    in the book, and the same 再計算 writes."""
    from renkei_xl.core.looks import MAX_CELL_FORMATS

    full = _with_cell_formats(master, tmp_path / "full.xlsm", MAX_CELL_FORMATS - 6)
    before = full.read_bytes()
    assert cli_main(["recalc", str(full)]) != 0
    assert full.read_bytes() == before
    fits = _with_cell_formats(master, tmp_path / "fits.xlsm", MAX_CELL_FORMATS - 7)
    assert cli_main(["recalc", str(fits)]) == 0
    import zipfile

    from renkei_xl.package.styles import read_styles

    with zipfile.ZipFile(fits) as z:
        assert read_styles(z.read("xl/styles.xml"), "xl/styles.xml").cell_formats()[0] == MAX_CELL_FORMATS


def _styles_xml(xfs: list[str]) -> str:
    """A styles.xml holding ``xfs`` as its cell formats (one font, the two fills Excel
    writes first, one border, the Normal style)."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    return (f'<styleSheet xmlns="{main}"><fonts count="1"><font><sz val="11"/><name val="游ゴシック"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
            '</fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="標準" xfId="0" builtinId="0"/></cellStyles></styleSheet>')


def test_a_staff_cells_format_is_found_among_the_books_by_one_look_at_them(monkeypatch):
    """A plan painting ten colours on a master near Excel's limit asked, for each colour,
    whether one of the book's 65,000 formats was already the one wanted, comparing every one
    of them (package.styles.Styles.derive): tens of seconds for the buttons' count and the
    write. Each format of the book is now described once for all questions; the first equal
    one is still the one found, also after the write added a number format an existing
    format named without defining it."""
    from renkei_xl.package.styles import Styles

    xfs = [f'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
           f'<alignment textRotation="{i % 180}"/></xf>' for i in range(200)]
    xfs[0] = '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    xfs[150] = xfs[3]                                             # an equal format, later in the list
    xfs[199] = '<xf xfId="0" borderId="0" fillId="0" fontId="0" numFmtId="164"/>'   # Excel's order is another
    styles = Styles(_styles_xml(xfs), "xl/styles.xml")
    described = []
    key = Styles._key
    monkeypatch.setattr(Styles, "_key", lambda self, attrs, el: described.append(1) or key(self, attrs, el))
    painted = [styles.derive(i, fill=f"{i + 1:02d}3456") for i in range(10)]
    assert painted == list(range(200, 210)) and len(described) <= len(xfs) + 10, len(described)
    assert styles.derive(150, fill=None) == 3
    # 164 was named by the last format and defined nowhere; the write's first new number
    # format takes that id, and the format naming it is now the equal one
    assert styles.derive(0, number_format="0.000") == 199


def test_a_format_differing_in_any_attribute_or_child_is_not_the_equal_one():
    """The formats' keys are made of what each names as written (kept per text, Styles._key):
    formats that differ only in a font, a border, an attribute's value or their children's
    are each their own, in either order of attributes, and one equal to an earlier is that one."""
    from renkei_xl.package.styles import Styles

    xfs = ['<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>',
           '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0"/>',
           '<xf numFmtId="0" fontId="0" fillId="0" borderId="1" xfId="0"/>',
           '<xf borderId="1" xfId="0" fillId="0" fontId="1" numFmtId="0"/>',
           '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1"><alignment indent="1"/></xf>',
           '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1"><alignment indent="2"/></xf>',
           '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
           '<alignment indent="2"/><protection locked="0"/></xf>',
           '<xf numFmtId="0" fontId="0" fillId="1" borderId="0" xfId="0" applyFill="1"/>',
           '<xf xfId="0" borderId="1" fillId="1" fontId="1" numFmtId="0" applyFill="1"/>']
    styles = Styles(_styles_xml(xfs), "xl/styles.xml")
    assert [styles.derive(i, fill=None) for i in range(7)] == list(range(7))
    assert styles.derive(7, fill=None) == 0 and styles.derive(8, fill=None) == 3


def test_counting_a_writes_formats_leaves_the_books_own_styles_as_read():
    """The buttons count the formats a plan would add on a copy of the saved master's styles
    (workbook.apply.cell_formats_problem), which parsed styles.xml a second time; the copy
    (Styles.copy) shares the parse, and what it appends is its own: the styles it was made
    from still count and render as read, and a second count is the same."""
    from renkei_xl.package.styles import Styles

    xfs = [f'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
           f'<alignment textRotation="{i}"/></xf>' for i in range(20)]
    text = _styles_xml(xfs)
    read = Styles(text, "xl/styles.xml")

    def count(styles: Styles) -> tuple[int, int]:
        for i in range(5):
            styles.derive(i, fill=f"{i + 1:02d}3456", number_format="0.0")
        return styles.cell_formats()

    assert count(read.copy()) == count(read.copy()) == count(Styles(text, "xl/styles.xml")) == (20, 5)
    assert not read.dirty and read.cell_formats() == (20, 0) and read.render() == text
    assert count(read) == (20, 5)
    assert count(read.copy()) == (20, 5) and read.cell_formats() == (20, 5)      # written to: parsed again


def test_a_styles_part_read_again_is_not_parsed_again_and_each_reader_has_its_own(monkeypatch, tmp_path):
    """Every reader of a saved master parsed styles.xml again and described its formats again
    (0.4 + 0.3 s near Excel's limit): the server's second click on the same master, a command
    reading the book twice. The parse is kept per the part's bytes (package.styles.read_styles,
    which workbook.state.StyleReader reads through): a second reader of the same bytes parses
    nothing and describes nothing, and what one reader's write appended (a look, a derived
    format, a number format) the next reader never sees."""
    from collections import OrderedDict

    from renkei_xl.package import styles as styles_mod
    from renkei_xl.package.styles import Styles, read_styles
    from renkei_xl.package.zipped import Package
    from renkei_xl.package.workbook import WorkbookXml
    from renkei_xl.workbook.state import StyleReader

    monkeypatch.setattr(styles_mod, "_PARSED", OrderedDict())
    parsed, described = [], []
    init, key = Styles.__init__, Styles._key
    monkeypatch.setattr(Styles, "__init__", lambda self, *a: parsed.append(1) or init(self, *a))
    monkeypatch.setattr(Styles, "_key", lambda self, attrs, el: described.append(1) or key(self, attrs, el))
    xfs = [f'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
           f'<alignment textRotation="{i}"/></xf>' for i in range(20)]
    text = _styles_xml(xfs)
    data = text.encode("utf-8")

    def write(styles: Styles) -> list[int]:
        return [styles.derive(3, fill="123456"), styles.derive(4, number_format="0.000"),
                styles.derive(5, fill="AB3456", number_format="0.0000"), styles.dxf_fill("123456")]

    first = read_styles(data, "xl/styles.xml")
    assert len(parsed) == 1 and write(first) == [20, 21, 22, 0] and first.dirty and len(described) == 21 + 2 * 21
    again = read_styles(data, "xl/styles.xml")
    assert len(parsed) == 1 and not again.dirty and again.cell_formats() == (20, 0) and again.render() == text
    assert again.numfmts == {} and again.number_format_of(3) == "General"
    assert first.render() != text and first.numfmts == {164: "0.000", 165: "0.0000"}
    described.clear()
    assert write(again) == [20, 21, 22, 0] and len(parsed) == 1
    assert len(described) == 2 * 21 + 1, len(described)     # the book's own 20 not described again
    # what the second reader's derives compared is its own, never added to the kept parse,
    # which lives as long as the process (Styles.copy: _rests)
    (kept, _size), = styles_mod._PARSED.values()
    assert kept._rests == {} and again._rests is not kept._rests
    assert again.render() == first.render()
    assert read_styles(data, "xl/styles.xml").copy().render() == text and len(parsed) == 1
    twin = first.copy()                  # a copy of a reader's written styles: the part as read
    assert twin.numfmts == {} and not twin.dirty and write(twin) == [20, 21, 22, 0] and len(parsed) == 1

    # the product's reader of a saved book, twice: parsed once
    book = _saved_book(tmp_path / "book.xlsx", data)
    readers = []
    for _ in range(2):
        pkg = Package(book)
        readers.append(StyleReader(pkg, WorkbookXml(pkg)).styles)
    assert len(parsed) == 1 and readers[0] is not readers[1] and readers[0].index is not readers[1].index


def _saved_book(path: Path, styles: bytes) -> Path:
    """A minimal saved workbook at ``path`` (one sheet) whose styles part holds ``styles``."""
    import zipfile

    from conftest import write_members

    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pr = "http://schemas.openxmlformats.org/package/2006/relationships"
    members = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.styles+xml"/></Types>').encode(),
        "_rels/.rels": (f'<Relationships xmlns="{pr}"><Relationship Id="rId1" Type="{rel}/officeDocument" '
                        'Target="xl/workbook.xml"/></Relationships>').encode(),
        "xl/workbook.xml": (f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets><sheet name="S" sheetId="1" '
                            'r:id="rId1"/></sheets></workbook>').encode(),
        "xl/_rels/workbook.xml.rels": (f'<Relationships xmlns="{pr}"><Relationship Id="rId1" Type="{rel}/worksheet" '
                                       'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" '
                                       f'Type="{rel}/styles" Target="styles.xml"/></Relationships>').encode(),
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{main}"><sheetData/></worksheet>'.encode(),
        "xl/styles.xml": styles,
    }
    write_members(path, members)
    assert zipfile.ZipFile(path).read("xl/styles.xml") == styles
    return path


def test_a_changed_styles_part_is_parsed_again_and_few_parts_are_kept(monkeypatch):
    """The kept parse answers only the same bytes: a styles part that changed (a write
    appended formats, staff saved the master again) is parsed anew, and only the latest
    parts are kept (package.styles._PARSED_KEPT, and fewer of large ones: _PARSED_BYTES), so
    that a server worker reading many masters does not grow; one dropped is parsed again when
    read again, and the latest is kept whatever its size."""
    from collections import OrderedDict

    from renkei_xl.package import styles as styles_mod
    from renkei_xl.package.styles import Styles, read_styles

    monkeypatch.setattr(styles_mod, "_PARSED", OrderedDict())
    parsed = []
    init = Styles.__init__
    monkeypatch.setattr(Styles, "__init__", lambda self, *a: parsed.append(a[0]) or init(self, *a))
    xfs = ['<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>']
    parts = [_styles_xml(xfs * n).encode("utf-8") for n in (1, 2, 3)]
    assert read_styles(parts[0], "xl/styles.xml").cell_formats() == (1, 0) and len(parsed) == 1
    written = read_styles(parts[0], "xl/styles.xml")
    written.derive(0, fill="123456")
    changed = written.render().encode("utf-8")
    assert read_styles(changed, "xl/styles.xml").cell_formats() == (2, 0) and len(parsed) == 2
    assert read_styles(parts[0], "xl/styles.xml").cell_formats() == (1, 0) and len(parsed) == 2
    assert read_styles(parts[0], "xl/other.xml").part == "xl/other.xml" and len(parsed) == 3
    assert len(styles_mod._PARSED) == styles_mod._PARSED_KEPT == 2
    assert read_styles(changed, "xl/styles.xml").cell_formats() == (2, 0) and len(parsed) == 4   # dropped
    for part in parts:
        read_styles(part, "xl/styles.xml")
    assert len(styles_mod._PARSED) == 2 and len(parsed) == 7     # each parsed again, all three
    # large parts (one near Excel's limit is 100 MB parsed): the latest alone is kept
    monkeypatch.setattr(styles_mod, "_PARSED_BYTES", len(parts[2]) + len(parts[0]) - 1)
    read_styles(parts[0], "xl/styles.xml")
    assert len(styles_mod._PARSED) == 1 and len(parsed) == 8
    read_styles(parts[2], "xl/styles.xml")
    assert read_styles(parts[2], "xl/styles.xml").cell_formats() == (3, 0) and len(parsed) == 9
    monkeypatch.setattr(styles_mod, "_PARSED_BYTES", 1)
    assert read_styles(parts[1], "xl/styles.xml").cell_formats() == (2, 0) and len(parsed) == 10
    assert read_styles(parts[1], "xl/styles.xml").cell_formats() == (2, 0) and len(parsed) == 10
    assert list(styles_mod._PARSED.values())[0][1] == len(parts[1]) and len(styles_mod._PARSED) == 1


def test_what_a_write_too_many_formats_says():
    from renkei_xl.core.looks import MAX_CELL_FORMATS, too_many_formats

    assert too_many_formats(MAX_CELL_FORMATS - 7, 7) is None and too_many_formats(MAX_CELL_FORMATS + 5, 0) is None
    said = too_many_formats(MAX_CELL_FORMATS - 6, 7)
    assert f"{MAX_CELL_FORMATS - 6:,} 個" in said and "7 個" in said and f"上限 {MAX_CELL_FORMATS:,} 個" in said


def test_the_municipalities_not_yet_reported_are_cut_to_a_cell():
    """次の一歩's 未入力の市町村 joined every name: 1,100 municipalities of a sheet name's 31
    characters, one of them reported, made 35,167 characters, more than a cell holds."""
    from renkei_xl.core.gaps import _missing_text
    from renkei_xl.core.values import TRUNCATION_MARK

    names = [f"{i:04d}" + "市" * (c.SHEET_NAME_MAX - 4) for i in range(1_100)]
    text = _missing_text({names[0]}, names)
    assert cell_length(text) <= CELL_TEXT_LIMIT and text.endswith(TRUNCATION_MARK) and text.startswith(names[1])


def test_an_input_files_instructions_quote_the_grey_columns_within_a_cell():
    """An input file's instructions name its grey columns, a 前年度… column among them by the
    header staff gave it on the municipality sheet (up to a cell's 32,767 characters): the
    line quoting it was longer than any cell holds."""
    from renkei_xl.core.input_sheet import instructions
    from renkei_xl.core.model import Settings
    from renkei_xl.core.values import TRUNCATION_MARK

    lines = instructions(Settings("圏", 2023), {"value"}, ["目標値", "前年度" + "実" * (EXCEL_CELL_TEXT - 3)])
    assert max(map(cell_length, lines)) <= CELL_TEXT_LIMIT
    assert any(line.endswith(TRUNCATION_MARK) for line in lines)


def _too_long_plan():
    """A plan holding a text one longer than the tool writes, in a rebuilt sheet and in a
    staff cell: what a builder that forgot values.fit_cell would hand the appliers."""
    from renkei_xl.core.plan_types import CellEdit, SheetPlan, WritePlan

    return WritePlan([SheetPlan(c.FINDINGS, [[("見出し", "header")], [None, ("x" * (CELL_TEXT_LIMIT + 1), "body")]])],
                     [CellEdit("小樽市", 5, 9, "あ" * EXCEL_CELL_TEXT)])


def test_a_text_longer_than_a_cell_in_any_plan_is_refused_naming_its_cells_on_both_faces(master, tmp_path):
    """The rule behind every builder's cut (WritePlan.refuse_long_texts): a text over
    values.CELL_TEXT_LIMIT stops the write before anything is written, naming the cells, on
    the command line's file (which wrote it, a cell Excel does not open whole) and on the
    buttons (which met 1004 halfway through their write-back)."""
    from renkei_xl.core.errors import UserError
    from renkei_xl.excel import buttons
    from renkei_xl.excel.engines import live_book
    from renkei_xl.workbook.session import write_planned

    said = f"{c.FINDINGS}!B2（{CELL_TEXT_LIMIT + 1:,}文字）、小樽市!I5（{EXCEL_CELL_TEXT:,}文字）"
    book = shutil.copyfile(master, tmp_path / "m.xlsm")
    before = book.read_bytes()
    with pytest.raises(UserError, match=re.escape(said)):
        write_planned(book, lambda _state: (_too_long_plan(), None))
    assert book.read_bytes() == before
    remote = remote_book(click_payload(book))
    with pytest.raises(UserError, match=re.escape(said)):
        buttons._apply(live_book(remote), _too_long_plan())
    assert remote.json()["actions"] == []


def test_the_longest_text_the_tool_writes_passes_the_rule():
    from renkei_xl.core.plan_types import CellEdit, SheetPlan, WritePlan, long_texts

    longest = "𠮷" * (CELL_TEXT_LIMIT // 2)          # two UTF-16 units each, as Excel counts
    plan = WritePlan([SheetPlan(c.FINDINGS, [[(longest, "body"), (1.5, "body")]])], [CellEdit("小樽市", 5, 9, longest)])
    plan.refuse_long_texts()
    assert long_texts(plan.sheets, [CellEdit("小樽市", 5, 9, longest + "x")]) == [("小樽市", 5, 9, CELL_TEXT_LIMIT + 1)]


def test_every_input_rule_is_within_excels_data_validation_limits():
    """A data validation's title holds 32 characters, its message and its error 255, its
    formula 255 (Excel's dialog; a longer one in a file is 「問題が見つかりました」 at open). The
    texts are the tool's own but for the unit a number cell's prompt names (values.UNIT_FAMILY,
    a closed list): each rule as split and the builder write it, with every unit."""
    from types import SimpleNamespace

    from renkei_xl.core.methods import METHODS, error_title, input_rule
    from renkei_xl.core.values import UNIT_FAMILY

    seen = 0
    for method in METHODS:
        for unit in ("", *UNIT_FAMILY):
            ind = SimpleNamespace(method=method.name, target=f"10{unit}", rule="", is_kpi=False)
            for field in ("value", "denominator"):
                rule = input_rule(ind, field)
                if rule is None:
                    continue
                seen += 1
                assert len(rule.title) <= 32 and len(error_title(rule.warning_only)) <= 32, rule
                assert len(rule.prompt) <= 255 and len(rule.error) <= 255, rule
                assert rule.kind == "list" or len(rule.formula("XFD1048576")) <= 255, rule
    assert seen > len(UNIT_FAMILY), seen


def test_a_click_that_would_take_the_cell_formats_past_excels_limit_is_refused_before_writing(master, tmp_path,
                                                                                            monkeypatch):
    """The command line refused a write whose looks took a master just under Excel's cell
    formats limit past it (above); a click on the same master sent 一覧's values, then its looks,
    and Excel stopped the replay halfway (1004, 「セルの書式が多すぎます」), 一覧 rewritten and 検証結果
    and メニュー not. The buttons count the formats on the saved master as the command line does
    (workbook.apply.cell_formats_problem), with those Excel makes on the way to the looks, and
    refuse in the same words before anything is written; a master with room for them is
    written as before."""
    from remote_payload import VBA, ExcelError
    from renkei_xl.core.looks import MAX_CELL_FORMATS
    from renkei_xl.excel import buttons
    from renkei_xl.excel.book import RENKEI_CLIENT_KEY, SAVED_MASTER_KEY
    from renkei_xl.excel.client import fit_actions

    def click(path: Path):
        payload = payload_from_file(path, client=VBA)
        payload.update({RENKEI_CLIENT_KEY: True, SAVED_MASTER_KEY: str(path)})
        book = remote_book(payload)
        buttons.recalc(book)
        actions = fit_actions(book.json()["actions"], frozenset(payload[EXCEL_KEY]["subs"])).actions
        return payload, actions

    from remote_payload import EXCEL_KEY

    # Room for the final looks (the command line writes this master: the test above) but not
    # for the combinations Excel makes on the way to them, a look attribute by attribute and
    # a border side by side: the click was let through and met 1004 at a setBorderProperty,
    # 一覧 half written. Counted with them (excel.apply.formats_on_the_way), refused.
    tight = _with_cell_formats(master, tmp_path / "tight.xlsm", MAX_CELL_FORMATS - 7)
    payload, actions = click(tight)
    assert [a["func"] for a in actions if a["func"] not in ("alert", "renkeiRequest")] == []
    applied = apply_actions(payload, actions)
    prompt = applied.alerts[-1]["prompt"]
    assert f"セルの書式が {MAX_CELL_FORMATS - 7:,} 個あり" in prompt and "書き込みませんでした" in prompt, prompt
    assert applied.rows(c.LIST) == file_rows(tight, c.LIST)

    # the model meets Excel's refusal where the click is not stopped first (the check taken out)
    from renkei_xl.excel.remote import RemoteBook

    with monkeypatch.context() as m:
        m.setattr(RemoteBook, "formats_problem", lambda self, plan: "")
        payload, actions = click(tight)
    with pytest.raises(ExcelError, match="Too many different cell formats"):
        apply_actions(payload, actions)

    # the click's count is 60 (its final looks and every combination on the way, each partial
    # border too, taken as new): a master with exactly that room is written
    fits = _with_cell_formats(master, tmp_path / "fits.xlsm", MAX_CELL_FORMATS - 60)
    payload, actions = click(fits)
    applied = apply_actions(payload, actions)
    assert "書き込みませんでした" not in applied.alerts[-1]["prompt"]
    assert applied.rows(c.LIST) != file_rows(fits, c.LIST)


def test_every_face_counts_the_formats_a_plan_adds_by_the_one_rule(master, tmp_path):
    """Desktop Excel and the server count on the saved master what the command line counts
    as it writes (workbook.apply.cell_formats_problem): a plan painting ten new colours on a
    master six formats short of the limit is refused alike, in the same words, before anything
    is written; on a master with room each face lets it through."""
    from types import SimpleNamespace

    from renkei_xl.core.errors import UserError
    from renkei_xl.core.looks import MAX_CELL_FORMATS
    from renkei_xl.core.plan_types import FillEdit, WritePlan
    from renkei_xl.excel.desktop import MacBook, WindowsBook
    from renkei_xl.excel.remote import SavedFills
    from renkei_xl.workbook.session import write_planned

    def plan():
        return WritePlan(fills=[FillEdit("小樽市", 5, 5 + i, f"{i + 1:02d}3456") for i in range(10)])

    full = _with_cell_formats(master, tmp_path / "full.xlsm", MAX_CELL_FORMATS - 6)
    before = full.read_bytes()
    with pytest.raises(UserError) as said:
        write_planned(full, lambda _state: (plan(), None))
    assert full.read_bytes() == before
    faces = [cls(SimpleNamespace(fullname=str(full), sheets=[])).formats_problem(plan()) for cls in (WindowsBook, MacBook)]
    assert faces == [SavedFills(str(full)).formats_problem(plan())] * 2 and str(said.value).endswith(faces[0])
    assert f"{MAX_CELL_FORMATS - 6:,} 個" in faces[0] and "10 個" in faces[0], faces[0]

    roomy = _with_cell_formats(master, tmp_path / "roomy.xlsm", MAX_CELL_FORMATS - 10)
    assert WindowsBook(SimpleNamespace(fullname=str(roomy), sheets=[])).formats_problem(plan()) == ""
    assert SavedFills(str(roomy)).formats_problem(plan()) == ""
    write_planned(roomy, lambda _state: (plan(), None))


def test_a_sheet_is_searched_once_for_the_thousands_of_formats_of_a_master_near_the_limit():
    """A master whose staff's pasted formats piled up near Excel's limit holds thousands of
    percent and Currency formats (the one of ``_with_cell_formats``: 3,241 and 6,480). Each
    sheet's text was searched for each of them, one by one, before its cells were read (the
    server's click asks of every sheet, every read of the book again): a second of a click.
    The text's s attributes are read once instead, and the cells found are those the search
    for each format finds (package.cells.styles_named), in str and in bytes."""
    from renkei_xl.package.cells import numbers_formatted, numbers_styled, styles_named

    searched = []

    class Counted(str):
        def __contains__(self, part):
            searched.append(part)
            return super().__contains__(part)

    class CountedBytes(bytes):
        def __contains__(self, part):
            searched.append(part)
            return super().__contains__(part)

    part = ('<worksheet><sheetData><row r="2"><c r="A2" s="5"><v>1.5</v></c><c r="B2" s="3"><v>2</v></c>'
            '<c r="C2" s="0004000"><v>0.25</v></c><c r="D2" s="4000"/><c r="E2" s="7"><v>9</v></c></row>'
            '</sheetData></worksheet>')
    many = frozenset(range(1, 6_000)) - {7}
    found = {(2, 1): 1.5, (2, 2): 2.0, (2, 3): 0.25}
    assert numbers_styled(Counted(part), "", "sheet1.xml", many) == found and len(searched) <= 2, len(searched)
    assert numbers_styled(part, "", "sheet1.xml", frozenset({3, 4000, 5})) == found       # sought one by one
    assert numbers_styled(part, "", "sheet1.xml", many - {3, 4000, 5}) == {}
    searched.clear()
    assert styles_named(CountedBytes(part.encode()), many) == {3, 5, 4000} and len(searched) <= 2, len(searched)
    assert styles_named(part.encode(), frozenset({3, 8})) == {3, 8} and styles_named(part, frozenset({8, 9})) == set()
    searched.clear()
    percents = {xf: "0%" if xf % 2 else "0.00%" for xf in many}
    assert numbers_formatted(Counted(part), "", "sheet1.xml", percents) == {
        (2, 1): ("0%", 1.5), (2, 2): ("0%", 2.0), (2, 3): ("0.00%", 0.25), (2, 4): ("0.00%", None)}
    assert len(searched) <= 4, len(searched)


def test_a_cell_formats_number_format_is_read_by_a_pattern_compiled_once(monkeypatch):
    """workbook.sheet_checks.shown_styles and duration_styles read the numFmtId of each of
    a book's cell formats, 65,000 near Excel's limit on every read of such a master; each
    read went through re.search, its cache lookup and the pattern's bytes built again (about
    0.07 s of a read). The pattern is compiled once per attribute, and reads as before: either
    quote, any order, spaces around "=", not a longer name's tail."""
    import re as re_module

    from renkei_xl.workbook import sheet_checks

    searched = []
    search = re_module.search
    monkeypatch.setattr(re_module, "search", lambda *a, **k: searched.append(a[0]) or search(*a, **k))
    forms = {b' numFmtId="9" fontId="0"': b"9", b" fontId='0' numFmtId = ' 10 '": b"10",
             b' x:numFmtId="9" fontId="0"': None, b' applyNumFmtId="1"': None, b' fontId="0"': None}
    for _ in range(100):
        assert {attrs: sheet_checks._attr(attrs, b"numFmtId") for attrs in forms} == forms
    assert searched == []


def test_every_number_format_the_tool_writes_is_within_excels_code_length():
    """Excel takes a number format code of at most 255 characters (the model refuses a longer
    one, 1004): every format a plan gives is one of the tool's own (the looks, 最終実行日時 and
    取込履歴's date and time, 標準 for collect's percent cells, the dates of 標準 cells)."""
    from remote_payload import MAX_NUMBER_FORMAT, ExcelError, _excel_refuses, Applied
    from renkei_xl.core.looks import LOOKS
    from renkei_xl.core.percent_cells import GENERAL
    from renkei_xl.core.values import TEXT_FORMAT
    from renkei_xl.workbook.apply import DATE_SHOWN, DATE_TIME_SHOWN

    formats = {look.number_format for look in LOOKS.values() if look.number_format}
    formats |= {c.DATETIME_FORMAT, GENERAL, TEXT_FORMAT, DATE_SHOWN, DATE_TIME_SHOWN, c.RATE_FORMAT}
    assert max(map(cell_length, formats)) <= MAX_NUMBER_FORMAT
    action = {"func": "setNumberFormat", "args": ["0" * (MAX_NUMBER_FORMAT + 1)], "values": None,
              "sheet_position": 0, "start_row": 0, "start_column": 0, "row_count": 1, "column_count": 1}
    with pytest.raises(ExcelError, match="NumberFormat"):
        _excel_refuses(Applied({"a": {}}, ["a"]), action)
    _excel_refuses(Applied({"a": {}}, ["a"]), {**action, "args": ["0" * MAX_NUMBER_FORMAT]})


class _AsksNothing:
    """What a desktop stand-in answers before a click writes: nothing protected, merged or
    arrayed, no calculation to wait for, the book opened writable; the alert kept in ``said``."""

    def book_state(self):
        from renkei_xl.core.unsaved import BookState

        return BookState(saved=True, read_only=False)

    def calculate(self): pass
    def prepare(self): pass
    def status(self, text): pass
    def password_sheets(self, names): return []
    def structure_locked(self): return False
    def other_tabs(self): return []
    def merges_over(self, cells): return lambda name: []
    def data_tables_over(self, cells): return lambda name: []
    def array_cells(self, cells): return []
    def extent(self, name): return (0, 0)

    def alert(self, text, *, critical=False, buttons="ok"):
        self.said.append(text)

    @contextmanager
    def quiet(self):
        yield


def test_a_desktop_click_excel_stops_partway_tells_staff_not_to_save_as_the_servers_does(monkeypatch, tmp_path):
    """Past every check made before writing, Excel can still stop a click with an error of its
    own. The server's VBA then says that the book may be partly rewritten and must be closed
    without saving (RenkeiServer.bas' MSG_FAILED_2); desktop Excel (COM) said only
    「予期しないエラーが発生しました」 with Excel's words, and a save kept 一覧 new beside the last
    run's 検証結果. It says the same sentence now (contract.PARTLY_WRITTEN), Excel's error and the
    log still named. COM cannot run here: the book stands in for Excel failing at the first write."""
    from contextlib import contextmanager
    from types import SimpleNamespace

    from renkei_xl.core.plan_types import SheetPlan, WritePlan
    from renkei_xl.excel import buttons
    from renkei_xl.excel.desktop import WindowsBook

    class ExcelStops(_AsksNothing, WindowsBook):
        def __init__(self):
            self.book, self.sheetnames, self.said = SimpleNamespace(sheets=[], name="マスター.xlsm"), [c.FINDINGS], []

        def sheet(self, name): return SimpleNamespace(name=name)

        @contextmanager
        def writable(self, names, protect=(), written=()):
            yield

        def clear_sheet(self, sheet):
            raise RuntimeError("(-2147352567, '例外が発生しました。', (0, 'Microsoft Excel', '1004'))")

    live = ExcelStops()
    monkeypatch.setattr(buttons, "live_book", lambda book: live)
    monkeypatch.setattr(buttons, "ERROR_LOG", tmp_path / "error.log")
    plan = WritePlan([SheetPlan(c.FINDINGS, [[("見出し", "header")]])])
    buttons._run(c.CHECK, lambda lb, title: buttons._apply(lb, plan) and "", object())
    said = live.said[-1]
    assert c.PARTLY_WRITTEN in said and "RuntimeError: (-2147352567" in said and "error.log" in said, said
    assert "PartlyWritten" not in said

    # the words are the server's VBA's (which then asks to report a repeat; here the log is named)
    bas = (Path(__file__).parents[1] / "macros" / "RenkeiServer.bas").read_text(encoding="latin-1")
    hexed = re.search(r'^Private Const MSG_FAILED_2 As String = "([0-9A-F]+)"', bas, re.MULTILINE).group(1)
    assert "".join(chr(int(hexed[i:i + 4], 16)) for i in range(0, len(hexed), 4)).startswith(c.PARTLY_WRITTEN)


def test_the_longest_link_findings_can_make_is_within_excels_hyperlink_address():
    """検証結果 links each listed cell as 「#'sheet'!cell」 (Remote.bas' Hyperlinks.Add, COM's
    add_hyperlink): with the longest sheet name Excel takes, every apostrophe in it doubled, and
    the widest range, the address stays within the 255 the model of Excel allows."""
    from remote_payload import MAX_LINK_TEXT
    from renkei_xl.core.model import ERROR, Finding
    from renkei_xl.core.sheet_findings import findings_sheet

    name = "a" + "'" * (c.SHEET_NAME_MAX - 2) + "a"
    finding = Finding("not-a-number", ERROR, name, "XFA1048570:XFD1048576", "04-1", "数値ではありません")
    (link,) = findings_sheet([finding], [name], {}).links.values()
    assert cell_length("#" + link) <= MAX_LINK_TEXT, cell_length(link)


# ------------------------------------------- a click Excel stops halfway (client-126)

def _recalc_click(path: Path, monkeypatch, *, marked: bool = True):
    """A 評価を再計算 click on the saved ``path`` through the server's VBA client: the payload
    and the actions as the master's VBA replays them, at a fixed time. ``marked`` False: the
    same click planned as if its writes could not stop partway (MasterState.stops_halfway),
    today's actions before the mark."""
    from remote_payload import EXCEL_KEY, VBA
    from renkei_xl import clock
    from renkei_xl.excel import apply as live_apply, buttons
    from renkei_xl.excel.book import RENKEI_CLIENT_KEY, SAVED_MASTER_KEY
    from renkei_xl.excel.client import fit_actions

    payload = payload_from_file(path, client=VBA)
    payload.update({RENKEI_CLIENT_KEY: True, SAVED_MASTER_KEY: str(path)})
    book = remote_book(payload)
    with monkeypatch.context() as m:
        m.setattr(clock, "_instant", lambda: 1_711_846_800.0)      # 2024-03-31 10:00 JST
        if not marked:
            state_of = live_apply.master_state
            m.setattr(live_apply, "master_state", lambda live: state_of(live)._replace(stops_halfway=False))
        buttons.recalc(book)
    return payload, fit_actions(book.json()["actions"], frozenset(payload[EXCEL_KEY]["subs"])).actions


def _status_cell(path: Path) -> tuple[str, str]:
    """メニュー's 最終実行結果 (its defined name), as openpyxl's workbook reader reads the name:
    ``payload_book``, kept per content, which the click's payload reads too (a full load of
    a master near the cell formats limit applied its 65,000 formats for one name)."""
    wb = payload_book(path)
    sheet, ref = next(iter(wb.defined_names[c.N_LAST_RESULT].destinations))
    return sheet, ref.replace("$", "")


def test_a_click_excel_stops_halfway_leaves_menu_saying_so(master, tmp_path, monkeypatch):
    """Excel can stop the replay at an error no check before writing knows (qa-126): the
    model's 1004 「セルの書式が多すぎます」 on a master at the cell formats limit, the check that
    stops it first taken out. 一覧 was rewritten, and メニュー still showed the last run as if
    the click had finished; only the message box said not to save. The click's first write
    now marks メニュー's 最終実行結果 as under way, and the stop leaves that mark in the book."""
    from remote_payload import ExcelError, file_protection
    from renkei_xl.core.looks import MAX_CELL_FORMATS
    from renkei_xl.excel.remote import RemoteBook

    full = _with_cell_formats(master, tmp_path / "full.xlsm", MAX_CELL_FORMATS - 6)
    sheet, ref = _status_cell(full)
    monkeypatch.setattr(RemoteBook, "formats_problem", lambda self, plan: "")
    payload, actions = _recalc_click(full, monkeypatch)
    with pytest.raises(ExcelError, match="Too many different cell formats") as stop:
        apply_actions(payload, actions)
    book = stop.value.applied
    assert book.rows(c.LIST) != file_rows(full, c.LIST)          # halfway: 一覧 written, the rest not
    assert book.value(sheet, ref) == c.under_way_line(c.RECALC)
    assert "保存せずに閉じて" in book.value(sheet, ref)
    # RenkeiCallServer put it back (read as the payload reads it: a full load applied 65,000 formats)
    assert book.protection == file_protection(full, payload_book(full))


def test_a_click_that_finishes_gives_todays_actions_after_one_mark_and_leaves_no_mark(master, tmp_path,
                                                                                     monkeypatch):
    """The mark is one small write before all of today's (after renkeiUnprotectSheets lifts
    メニュー), the same cell the click's status is written to last: a click that finishes
    leaves the status, as before, and every other action is today's."""
    from remote_payload import UNPROTECT

    path = shutil.copyfile(master, tmp_path / "book.xlsm")
    sheet, ref = _status_cell(path)
    payload, actions = _recalc_click(path, monkeypatch)
    _, today = _recalc_click(path, monkeypatch, marked=False)
    assert actions[0]["func"] == UNPROTECT and sheet in actions[0]["args"][0]
    mark = actions[1]
    assert mark["func"] == "setValues" and mark["values"] == [["'" + c.under_way_line(c.RECALC)]], mark
    assert (mark["start_row"] + 1, mark["start_column"] + 1, mark["row_count"], mark["column_count"]) == (
        *parse_ref(ref), 1, 1)
    rest = actions[:1] + actions[2:]
    assert sorted(map(json.dumps, rest)) == sorted(map(json.dumps, today))
    # Today's actions, the status moved last of the book's writes (only the message after it).
    last = [a for a in rest if a["func"] != "alert"][-1]
    assert last["func"] == "setValues" and (last["start_row"] + 1, last["start_column"] + 1) == parse_ref(ref), last
    assert len(json.dumps(mark, ensure_ascii=False).encode("utf-8")) < 1_000
    status = apply_actions(payload, actions).value(sheet, ref)
    assert status == apply_actions(payload, today).value(sheet, ref) and status.startswith(f"{c.RECALC}: "), status


class _WrittenRange:
    def __init__(self, done: list, sheet: str, first, last=None):
        self.done, self.sheet, self.first, self.last = done, sheet, first, last or first

    number_format = "General"           # no cell of this book is Text: every string takes the prefix

    @property
    def value(self):
        raise AssertionError("the click reads nothing while it writes")

    @value.setter
    def value(self, values):
        self.done.append(("write", self.sheet, self.first, self.last, values))


class _WrittenSheet:
    def __init__(self, done: list, name: str):
        self.done, self.name = done, name

    def range(self, first, last=None):
        return _WrittenRange(self.done, self.name, first, last)


class _DesktopExcel(_AsksNothing):
    """Desktop Excel as a click's writes reach it through COM (COM cannot run here): each
    write and each lifting of protection recorded in order, and Excel stopping the click
    with a 1004 of its own when the first rebuilt sheet is cleared. A mixin over WindowsBook,
    so the click runs the desktop's own code between the calls COM answers."""

    def __init__(self, path: Path):
        from renkei_xl.workbook.session import opened

        with opened(path) as fs:
            self.sheetnames, self._names = list(fs.state.sheetnames), dict(fs.state.names)
        self.done: list = []
        self.said: list[str] = []
        self.book = SimpleNamespace(sheets=_SheetsWritten(self.done), fullname="", name="マスター.xlsm")

    def grid(self, name): return []
    def fill_of(self, sheet_name, ref): return None
    def percent_source(self): return None

    @contextmanager
    def writable(self, names, protect=(), written=()):
        self.done.append(("lifted", tuple(names)))
        yield

    def clear_sheet(self, sheet):
        raise RuntimeError("(-2147352567, '例外が発生しました。', (0, 'Microsoft Excel', '1004'))")


class _SheetsWritten(dict):
    def __init__(self, done: list):
        super().__init__()
        self.done = done

    def __missing__(self, name: str):
        return _WrittenSheet(self.done, name)


def test_a_desktop_click_marks_itself_under_way_first_and_excel_stopping_leaves_the_mark(master, monkeypatch,
                                                                                       tmp_path):
    """Desktop Excel (COM) writes a click one call at a time, and an error of its own stops it
    there (qa-126: the box says the book may be partly rewritten). The desktop plans as the
    server does (excel.apply.master_state): its first write, once protection is lifted, is the
    mark in メニュー's 最終実行結果, before the first sheet is cleared; Excel stopping there leaves
    it, and the box says what it said."""
    from renkei_xl.core.pipeline import recalculate
    from renkei_xl.core.plan import validate_plan
    from renkei_xl.excel import buttons
    from renkei_xl.excel.apply import master_state
    from renkei_xl.excel.book import as_excel_text
    from renkei_xl.excel.desktop import WindowsBook
    from renkei_xl.workbook.session import load_master

    class Stops(_DesktopExcel, WindowsBook):
        pass

    live = Stops(master)
    sheet, ref = _status_cell(master)
    data = load_master(master)
    result = recalculate(data.settings, data.indicators, data.entries, data.findings)
    plan, _ = validate_plan(master_state(live), data, result, c.CHECK, dt.datetime(2024, 3, 31))
    monkeypatch.setattr(buttons, "live_book", lambda book: live)
    monkeypatch.setattr(buttons, "ERROR_LOG", tmp_path / "error.log")
    buttons._run(c.CHECK, lambda lb, title: buttons._apply(lb, plan) and "", object())
    row, col = parse_ref(ref)
    assert live.done[0][0] == "lifted" and sheet in live.done[0][1]
    assert live.done[1:] == [("write", sheet, (row, col), (row, col), [[as_excel_text(c.under_way_line(c.CHECK))]])]
    assert c.PARTLY_WRITTEN in live.said[-1], live.said


def test_the_command_line_plans_no_mark_and_a_file_never_takes_one(master, tmp_path):
    """The command line's write replaces the file whole or not at all, so nothing is half
    written for a mark to say: its plan (the file face's MasterState) holds none, and the file
    written is what it was before marks existed (the status alone in 最終実行結果). A plan made
    for Excel, mark and all, is refused by the file's applier with the file unchanged."""
    from renkei_xl.core.pipeline import recalculate
    from renkei_xl.core.plan import recalc_plan
    from renkei_xl.workbook.session import opened, write_planned

    path = shutil.copyfile(master, tmp_path / "book.xlsm")
    sheet, ref = _status_cell(path)
    with opened(path) as fs:
        data = fs.data
        result = recalculate(data.settings, data.indicators, data.entries, data.findings)
        plan, _ = recalc_plan(fs.state, data, result, c.RECALC, dt.datetime(2024, 3, 31))
        live, _ = recalc_plan(fs.state._replace(stops_halfway=True), data, result, c.RECALC, dt.datetime(2024, 3, 31))
    assert not fs.state.stops_halfway and plan.under_way == []
    assert [(e.sheet, e.ref, e.value) for e in live.under_way] == [(sheet, ref, c.under_way_line(c.RECALC))]
    before = path.read_bytes()
    with pytest.raises(ValueError, match="under way"):
        write_planned(path, lambda _fs: (live, None))
    assert path.read_bytes() == before
    assert cli_main(["recalc", str(path)]) == 0
    said = load_workbook(path)[sheet][ref].value
    assert said.startswith(f"{c.RECALC}: ") and "実行中" not in said, said


def test_a_status_left_out_is_not_marked_either():
    """メニュー protected with a password: a click leaves its status out and says so
    (WritePlan.leave_out), and the mark goes with it, so the click writes nothing there."""
    from renkei_xl.core.plan import menu_cells, under_way_cells
    from renkei_xl.core.plan_types import MasterState, WritePlan

    state = MasterState([c.MENU, "小樽市"], {c.N_LAST_RUN: (c.MENU, "$C$11"), c.N_LAST_RESULT: (c.MENU, "$C$12")},
                        stops_halfway=True)
    plan = WritePlan([], menu_cells(state, "入力チェック: …", dt.datetime(2024, 3, 31)),
                     under_way=under_way_cells(state, c.CHECK))
    assert [(e.sheet, e.ref) for e in plan.under_way] == [(c.MENU, "C12")]
    assert plan.leave_out(["小樽市"]) == [] and len(plan.under_way) == 1
    assert [e.ref for e in plan.leave_out([c.MENU])] == ["C11", "C12"]
    assert plan.under_way == [] and plan.cells == [] and plan.staff_sheets == []


def test_an_import_marks_itself_under_way_and_both_faces_end_with_its_status(master, tmp_path, monkeypatch):
    """回収ファイル取込 writes into the open book as 再計算 does, and Excel can stop it halfway as
    well; it wrote no status, so the under-way mark had nothing to stand in (stop 55's note):
    values saved without their 取込履歴 rows were later taken for staff's own edits. Now its
    first write after lifting protection is the mark, its last the status, and the command
    line writes the same status and time into the file."""
    from conftest import collect_click, returned_input
    from remote_payload import UNPROTECT

    button = shutil.copyfile(master, tmp_path / "button.xlsm")
    sheet, ref = _status_cell(button)
    folder = returned_input(button, tmp_path / "r", "小樽市", 12345)
    payload, actions = collect_click(button, folder, monkeypatch)
    assert actions[0]["func"] == UNPROTECT and sheet in actions[0]["args"][0]
    mark = actions[1]
    assert mark["func"] == "setValues" and mark["values"] == [["'" + c.under_way_line(c.COLLECT)]], mark
    last = [a for a in actions if a["func"] != "alert"][-1]
    assert last["func"] == "setValues" and (last["start_row"] + 1, last["start_column"] + 1) == parse_ref(ref), last
    said = apply_actions(payload, actions).value(sheet, ref)
    assert said == f"{c.COLLECT}: 1 ファイル、1 セルを取り込みました", said

    on_file = tmp_path / "file" / "master.xlsm"
    on_file.parent.mkdir()
    shutil.copyfile(master, on_file)
    monkeypatch.setattr("renkei_xl.clock._instant", lambda: 1_711_846_800.0)
    assert cli_main(["collect", str(on_file), str(folder)]) == 0
    wb = load_workbook(on_file)
    assert wb[sheet][ref].value == said
    when_sheet, when_ref = next(iter(wb.defined_names[c.N_LAST_RUN].destinations))
    assert wb[when_sheet][when_ref.replace("$", "")].value == dt.datetime(2024, 3, 31, 10, 0)


def test_an_import_excel_stops_halfway_leaves_menu_saying_so(master, tmp_path, monkeypatch):
    """The model's 1004 「セルの書式が多すぎます」 on a master at the cell formats limit (the check
    before writing taken out), met when the import adds 取込履歴: the mark written first stays,
    and メニュー says the import stopped, not the last 再計算's result."""
    from conftest import collect_click, returned_input
    from remote_payload import ExcelError
    from renkei_xl.core.looks import MAX_CELL_FORMATS
    from renkei_xl.excel.remote import RemoteBook

    (tmp_path / "full").mkdir()
    full = _with_cell_formats(master, tmp_path / "full" / "master.xlsm", MAX_CELL_FORMATS - 6)
    assert c.IMPORT_LOG not in payload_book(full).sheetnames
    sheet, ref = _status_cell(full)
    folder = returned_input(full, tmp_path / "r", "小樽市", 12345)
    monkeypatch.setattr(RemoteBook, "formats_problem", lambda self, plan: "")
    payload, actions = collect_click(full, folder, monkeypatch)
    with pytest.raises(ExcelError, match="Too many different cell formats") as stop:
        apply_actions(payload, actions)
    assert stop.value.applied.value(sheet, ref) == c.under_way_line(c.COLLECT)


# ------------------------------------------- hyperlinks a worksheet holds (qa-138)

def test_the_model_refuses_a_hyperlink_past_a_worksheets_limit():
    """Excel's specifications: a worksheet holds 65,530 hyperlinks. The model counts the ones
    the sent sheet held (file_link_counts) and those added, and takes Hyperlinks.Add past the
    limit as 1004; Clear All (sheetClear, how every face clears a rebuilt sheet) removes them."""
    from remote_payload import MAX_HYPERLINKS, Applied, ExcelError, _excel_refuses, _replay

    def link(rows: int) -> dict:
        return {"func": "addHyperlink", "args": ["#'a'!A1", "A1", None], "values": None, "sheet_position": 0,
                "start_row": 0, "start_column": 0, "row_count": rows, "column_count": 1}

    full = Applied({"a": {}, "b": {}}, ["a", "b"], file_links={"a": MAX_HYPERLINKS - 2})
    _excel_refuses(full, link(2))
    with pytest.raises(ExcelError, match="65,531 hyperlinks on a"):
        _excel_refuses(full, link(3))
    _replay(full, link(2))                                     # the sheet full now
    with pytest.raises(ExcelError, match="hyperlinks on a"):
        _excel_refuses(full, {**link(1), "start_row": 5})
    _excel_refuses(full, {**link(1), "sheet_position": 1})     # another sheet's count is its own
    _replay(full, {"func": "sheetClear", "args": [], "values": None, "sheet_position": 0})
    _excel_refuses(full, link(MAX_HYPERLINKS))
    with pytest.raises(ExcelError, match="hyperlinks on a"):
        _excel_refuses(full, link(MAX_HYPERLINKS + 1))


def _sheet_part(book: Path, sheet: str) -> str:
    """The package part holding ``sheet``'s XML."""
    import zipfile

    from remote_payload import _rels

    with zipfile.ZipFile(book) as z:
        return next(_rels(z, "xl/workbook.xml")[m.group(2)] for m in re.finditer(
            r'<sheet [^>]*name="([^"]+)"[^>]*r:id="([^"]+)"', z.read("xl/workbook.xml").decode("utf-8"))
            if m.group(1) == sheet)


def _with_links(master: Path, target: Path, sheet: str, count: int) -> Path:
    """A copy of ``master`` whose ``sheet`` holds ``count`` internal hyperlinks (staff's, each
    to A1 of 一覧), written into the sheet's XML as Excel saves them: down J2 and the columns
    after it, 30,000 a column, so that the used range stays within the rows Remote.bas counts
    (a sheet past row 32,766 is refused before sending: RenkeiUncountable)."""
    import zipfile

    from conftest import write_members

    with zipfile.ZipFile(master) as z:
        members = {name: z.read(name) for name in z.namelist()}
    part = _sheet_part(master, sheet)
    text = members[part].decode("utf-8")
    assert "<hyperlinks>" not in text
    links = "".join(f'<hyperlink ref="{column_letter(10 + i // 30_000)}{2 + i % 30_000}" location="\'{c.LIST}\'!A1" '
                    'display="x"/>' for i in range(count))
    at = min(text.index(tag) for tag in ("<printOptions", "<pageMargins") if tag in text)
    members[part] = (text[:at] + f"<hyperlinks>{links}</hyperlinks>" + text[at:]).encode("utf-8")
    write_members(target, members)
    return target


def test_a_findings_sheet_full_of_staff_links_is_rewritten_within_the_limit(master, tmp_path, monkeypatch):
    """検証結果 lists at most SHOWN_FINDING_ROWS findings, one link each, well within the 65,530
    hyperlinks a worksheet holds; links staff added there (a sheet the tool rebuilds) are
    removed with it by Clear All before the tool's own are added, so a click on a 検証結果
    already holding the limit replays whole. Taken the other way (the sheet's contents cleared
    and its links left), the model meets Excel's limit: the count rests on Clear All."""
    from remote_payload import MAX_HYPERLINKS, ExcelError, file_link_counts
    from renkei_xl.core.sheet_findings import SHOWN_FINDING_ROWS
    from renkei_xl.excel import buttons

    from test_buttons import BAD_MUNICIPALITY, BAD_VALUE, _entry_cell, _put

    assert SHOWN_FINDING_ROWS + 1 <= MAX_HYPERLINKS
    bad = shutil.copyfile(master, tmp_path / "bad.xlsm")
    _put(bad, BAD_MUNICIPALITY, _entry_cell(bad, BAD_MUNICIPALITY)[0], BAD_VALUE)
    full = _with_links(bad, tmp_path / "links.xlsm", c.FINDINGS, MAX_HYPERLINKS)
    assert file_link_counts(full) == {c.FINDINGS: MAX_HYPERLINKS}
    assert file_link_counts(master) == {}
    payload = click_payload(full)
    book = remote_book(payload)
    buttons.check(book)
    actions = book.json()["actions"]
    position = [s["name"] for s in payload["sheets"]].index(c.FINDINGS)
    links = [a for a in actions if a["func"] == "addHyperlink" and a["sheet_position"] == position]
    assert links, "the sample's findings link their cells"
    applied = apply_actions(payload, actions)
    assert len(applied.sheet_links(c.FINDINGS)) == len(links)
    kept = [{**a, "func": "sheetClearContents"} if a["func"] == "sheetClear" and a["sheet_position"] == position
            else a for a in actions]
    with pytest.raises(ExcelError, match="hyperlinks on " + c.FINDINGS):
        apply_actions(payload, kept)
    # the command line rebuilds the sheet's XML without them, its own links alone
    import zipfile

    assert cli_main(["validate", str(full)]) != 0            # the finding (exit 1), written
    written = zipfile.ZipFile(full).read(_sheet_part(full, c.FINDINGS))
    assert 0 < len(re.findall(rb"<hyperlink[\s/>]", written)) <= SHOWN_FINDING_ROWS


@pytest.mark.parametrize("ref, place", [("A1", (1, 1)), ("$XFD$1048576", (1_048_576, 16_384)),
                                        ("B" + "0" * 5000 + "30", (30, 2)), ("b3", (3, 2))])
def test_a_cell_of_excels_grid_is_read_as_its_place(ref, place):
    assert parse_ref(ref) == place


@pytest.mark.parametrize("ref", ["B0", "B1048577", "B" + "9" * 4000, "B" + "9" * 5000, "XFE1", "ZZZ1",
                                 "ABCDE1", "B12345678", "abc", ""])
def test_no_cell_of_excels_grid_is_refused_by_the_one_reader_of_addresses(ref):
    """refs.parse_ref is the grid's one rule: a row of 4,000 digits came back as an int of
    4,000 digits to every caller (one of 5,000 raised int()'s own error deep in whichever
    caller read it), a column past XFD as a number Excel has no column for."""
    with pytest.raises(ValueError) as raised:
        parse_ref(ref)
    assert len(str(raised.value)) < 60


def test_a_plan_past_the_columns_the_tool_reads_is_refused_naming_the_sheet():
    """経年 grows by two columns a year, and any plan may set a cell: past refs.MAX_COLUMNS
    (what the tool reads of a sheet) the plan is refused before anything is written."""
    from renkei_xl.core.errors import UserError
    from renkei_xl.core.plan_types import CellEdit, SheetPlan, WritePlan
    from renkei_xl.core.refs import MAX_COLUMNS

    WritePlan([SheetPlan("経年", [[("x", "body")] * MAX_COLUMNS])], [CellEdit("取込履歴", 2, MAX_COLUMNS, "x", None)]
              ).refuse_past_the_extent()
    with pytest.raises(UserError, match=f"シート「経年」に書き込むと {MAX_COLUMNS + 1:,} 列目まで"):
        WritePlan([SheetPlan("経年", [[("x", "body")] * (MAX_COLUMNS + 1)])]).refuse_past_the_extent()
    with pytest.raises(UserError, match="シート「取込履歴」に書き込むと 200,001 行目まで"):
        WritePlan([], [CellEdit("取込履歴", 200_001, 1, "x", None)]).refuse_past_the_extent()


def test_a_split_stops_on_a_master_text_no_input_file_holds_naming_the_master_cell(master, tmp_path):
    """A 実施状況 or a 目標値 of Excel's full 32,767 characters is only a warning on the master
    (Excel holds it), but one more than the tool writes in a cell. The split wrote the files
    before the one carrying it and then stopped naming that file's cells (「小樽市!I20、
    小樽市!L20」: its grey column and hidden issued column), which on the master's sheet hold
    nothing. It now stops before the first file, naming the master's cells to shorten."""
    from renkei_xl.core.errors import UserError
    from renkei_xl.cycle.distribute import split_master
    from renkei_xl.workbook.session import load_master

    data = load_master(master)
    status = next(e for e in data.entries if e.municipality == "小樽市" and e.indicator_id).cell("status")
    ind = next(i for i in data.indicators if i.cell("target") and i.id == "05-1")
    book = shutil.copyfile(master, tmp_path / "long.xlsm")
    wb = load_workbook(book, keep_vba=True)
    wb["小樽市"][status].value = "実" * EXCEL_CELL_TEXT
    wb[ind.sheet][ind.cell("target")].value = "20件" + "あ" * (EXCEL_CELL_TEXT - 3)
    wb.save(book)
    with pytest.raises(UserError) as refused:
        split_master(book, tmp_path / "配布用", echo=lambda _line: None)
    said = str(refused.value)
    places = said.partition(" の文字列が")[0].split("、")
    assert sorted(places) == sorted([f"小樽市!{status}（32,767文字）", f"{ind.sheet}!{ind.cell('target')}（32,767文字）"]), said
    assert "入力用ファイルを作成しませんでした" in said and "そのセルを短くして" in said, said
    assert not (tmp_path / "配布用").exists() or not any((tmp_path / "配布用").iterdir())

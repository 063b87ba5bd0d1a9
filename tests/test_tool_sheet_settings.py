"""The settings staff made for a tool sheet as a whole stay, as Excel's Clear All of its cells
leaves them on the buttons' face (renkei_xl.package.sheet_settings).

The master is the FY2023 sample after 評価を再計算 and 入力チェック, with, on 集計, a custom view
whose page setup names a printer-settings part (as Excel saves a view made with 「印刷設定」
checked, the workbook's customWorkbookViews naming it), a cell watch and a range users may
edit under protection; on 一覧, a background picture (Excel's own shape: the
tests/data/excel_made background02.xlsx). 評価を再計算 rebuilds both sheets on the file face;
the buttons' face (the remote engine, as tests/test_faces.py drives it) clears the same
sheets' cells and never deletes the sheets that hold them.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from xml.etree import ElementTree
from pathlib import Path

import pytest

from conftest import with_default_types, write_members
from realbooks import package_problems, parts, sample_master_xlsm, sheet_parts  # noqa: F401
from remote_payload import click_payload, remote_book
from test_buttons import licensed  # noqa: F401  (the remote engine's licence fixture)
from test_tool_sheet_drawings import _run, arranged_copy, sheets_libreoffice_opens_after_a_recalc

from renkei_xl.core import contract as c
from renkei_xl.package.integrity import write_problems

HERE = Path(__file__).resolve().parent
GUID = "{6F1E2A0B-3C4D-4E5F-8A9B-0C1D2E3F4A5B}"
VIEW = (f'<customSheetView guid="{GUID}" scale="85" showGridLines="0" fitToPage="1" topLeftCell="A1">'
        '<selection activeCell="B4" sqref="B4"/>'
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        '<pageSetup paperSize="9" orientation="landscape" r:id="rId91"/><headerFooter/></customSheetView>')
WATCH = '<cellWatch r="B4"/>'
RANGE = '<protectedRange sqref="H2:H20" name="メモ欄"/>'
PICTURE = '<picture r:id="rId92"/>'
T_PRINTER = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/printerSettings"
T_IMAGE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"
PRINTER_PART = "xl/printerSettings/printerSettings91.bin"
# CT_Worksheet's children after sheetData, in the schema's order (ECMA-376 Part 1, 18.3.1.99).
ORDER = ("sheetCalcPr", "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState",
         "dataConsolidate", "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting",
         "dataValidations", "hyperlinks", "printOptions", "pageMargins", "pageSetup", "headerFooter",
         "rowBreaks", "colBreaks", "customProperties", "cellWatches", "ignoredErrors", "smartTags",
         "drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
         "webPublishItems", "tableParts", "extLst")
CHILD = re.compile(r"<(\w+)[\s/>]")


def _insert(text: str, element: str) -> str:
    """``text`` (a worksheet part) with ``element`` put where CT_Worksheet's order puts it."""
    name = CHILD.match(element).group(1)
    later = ORDER[ORDER.index(name) + 1:]
    m = re.compile(r"<(?:" + "|".join(later) + r")[\s/>]").search(text, text.index("</sheetData>"))
    at = m.start() if m else text.rindex("</worksheet>")
    return text[:at] + element + text[at:]


def _rels_with(text: str, *rels: tuple[str, str, str]) -> str:
    body = "".join(f'<Relationship Id="{i}" Type="{t}" Target="{target}"/>' for i, t, target in rels)
    if not text:
        return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships '
                f'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{body}</Relationships>')
    return text.replace("</Relationships>", body + "</Relationships>")


def _as_staff_left_it(src: Path, dst: Path) -> Path:
    members = parts(src)
    where = sheet_parts(members)
    summary, listed = where[c.SUMMARY], where[c.LIST]
    text = members[summary].decode("utf-8")
    for element in (f"<customSheetViews>{VIEW}</customSheetViews>", f"<cellWatches>{WATCH}</cellWatches>",
                    f"<protectedRanges>{RANGE}</protectedRanges>"):
        text = _insert(text, element)
    members[summary] = text.encode("utf-8")
    members[listed] = _insert(members[listed].decode("utf-8"), PICTURE).encode("utf-8")
    for part, rel in ((summary, ("rId91", T_PRINTER, "../printerSettings/printerSettings91.bin")),
                      (listed, ("rId92", T_IMAGE, "../media/background91.jpeg"))):
        name = f"{part.rsplit('/', 1)[0]}/_rels/{part.rsplit('/', 1)[1]}.rels"
        members[name] = _rels_with(members.get(name, b"").decode("utf-8"), rel).encode("utf-8")
    members[PRINTER_PART] = b"\x00" * 220        # a DEVMODE's size; its bytes are the driver's
    with zipfile.ZipFile(HERE / "data" / "excel_made" / "background02.xlsx") as z:
        members["xl/media/background91.jpeg"] = z.read("xl/media/image1.jpeg")
    with_default_types(members, (("bin", "application/vnd.openxmlformats-officedocument.spreadsheetml.printerSettings"),
                                 ("jpeg", "image/jpeg")))
    book = members["xl/workbook.xml"].decode("utf-8")
    view = (f'<customWorkbookViews><customWorkbookView name="印刷用" guid="{GUID}" maximized="1" '
            'windowWidth="1920" windowHeight="1000" activeSheetId="1"/></customWorkbookViews>')
    members["xl/workbook.xml"] = re.sub(r"(<calcPr\b[^>]*/>)", lambda m: m.group(1) + view, book, count=1).encode("utf-8")
    write_members(dst, members)
    return dst


@pytest.fixture(scope="module")
def arranged(sample_master_xlsm, tmp_path_factory) -> Path:
    return arranged_copy(sample_master_xlsm, tmp_path_factory, "tool_settings", _as_staff_left_it)


def _sheet(path: Path, name: str) -> tuple[str, dict[str, str]]:
    """The sheet part's text and its relationships, id → (type, target)."""
    members = parts(path)
    part = sheet_parts(members)[name]
    rels = members.get(f"{part.rsplit('/', 1)[0]}/_rels/{part.rsplit('/', 1)[1]}.rels", b"").decode("utf-8")
    found = {m.group(1): m.group(2) for m in re.finditer(r'Id="([^"]+)"[^>]*Target="([^"]+)"', rels)}
    return members[part].decode("utf-8"), found


def test_the_master_carries_the_staffs_settings(arranged):
    summary, rels = _sheet(arranged, c.SUMMARY)
    assert VIEW in summary and WATCH in summary and RANGE in summary and "rId91" in rels
    assert package_problems(arranged) == []


def test_a_rebuild_keeps_views_watches_ranges_and_background(arranged, tmp_path):
    master = shutil.copyfile(arranged, tmp_path / "master.xlsm")
    _run("recalc", str(master))
    _run("recalc", str(master))         # and a second run keeps what the first kept
    summary, rels = _sheet(master, c.SUMMARY)
    for element in (VIEW, WATCH, RANGE):
        assert element in summary, element
    assert rels["rId91"] == "../printerSettings/printerSettings91.bin"
    listed, rels = _sheet(master, c.LIST)
    assert PICTURE in listed and rels["rId92"] == "../media/background91.jpeg"
    members = parts(master)
    assert members[PRINTER_PART] == b"\x00" * 220
    order = [child.tag.rsplit("}", 1)[-1] for child in ElementTree.fromstring(summary.encode("utf-8"))]
    order = order[order.index("sheetData") + 1:]
    assert [ORDER.index(n) for n in order] == sorted(ORDER.index(n) for n in order), order
    assert package_problems(master) == []
    assert write_problems(list(members), list(members), list(members), members.__getitem__) == []


def test_the_old_list_is_inflated_once_for_its_check_and_its_kept_settings(arranged, tmp_path, monkeypatch):
    """The write takes what follows 一覧's cells from what its reader saw (package.sheet_tail):
    after one recalc a 20,000-row 一覧 is 20 MB of cells, inflated a second time on every later
    recalc for the few hundred bytes after them. The background kept shows it was found."""
    from renkei_xl.package.zipped import Package
    from renkei_xl.workbook.session import recalc_file

    master = shutil.copyfile(arranged, tmp_path / "master.xlsm")
    list_part = sheet_parts(parts(master))[c.LIST]
    reads: list[str] = []
    whole = Package.read

    def counted(self, name, *args, **kwargs):
        reads.append(name)
        return whole(self, name, *args, **kwargs)

    monkeypatch.setattr(Package, "read", counted)
    recalc_file(master)
    assert reads.count(list_part) == 1, reads.count(list_part)
    listed, rels = _sheet(master, c.LIST)
    assert PICTURE in listed and rels["rId92"] == "../media/background91.jpeg"


def test_a_tail_remembered_is_not_used_once_its_part_is_written(arranged):
    from renkei_xl.package.sheet_tail import remember, sheet_tail
    from renkei_xl.package.zipped import Package

    part = sheet_parts(parts(arranged))[c.LIST]
    with Package(arranged) as pkg:
        remember(pkg, part, pkg.read(part))
        assert PICTURE.encode() in sheet_tail(pkg, part)
        pkg.write(part, b'<worksheet xmlns="x"><sheetData/><pageMargins left="1"/></worksheet>')
        assert sheet_tail(pkg, part) == b'<pageMargins left="1"/>'


def test_what_was_kept_opens_in_libreoffice(arranged, tmp_path):
    assert {c.LIST, c.SUMMARY} <= sheets_libreoffice_opens_after_a_recalc(arranged, tmp_path)


def test_the_buttons_clear_the_same_sheets_cells_and_keep_the_sheets(arranged, licensed):
    """The buttons' face keeps the settings by never deleting a sheet that holds them: its
    rebuild clears the sheet's cells (the VBA client's sheetClear, Cells.Clear) and writes
    them again. What Clear All leaves is the assumption (docs/excel-model.md check 20)."""
    from renkei_xl.excel import buttons

    payload = click_payload(arranged)
    book = remote_book(payload)
    buttons.recalc(book)
    actions = book.json()["actions"]
    sheets = [s["name"] for s in payload["sheets"]]
    touched = {sheets[a["sheet_position"]] for a in actions if a.get("sheet_position") is not None}
    assert {c.LIST, c.SUMMARY} <= touched
    assert not [a for a in actions if "delete" in a["func"].lower() and "sheet" in a["func"].lower()]
    assert [a for a in actions if a["func"] in ("sheetClear", "sheetClearContents")
            and sheets[a["sheet_position"]] == c.SUMMARY]

"""Pictures and shapes staff put on a sheet the tool rebuilds stay, as Excel's Clear All leaves
them on the buttons' face (renkei_xl.package.drawing).

The master is the FY2023 sample after 評価を再計算, edited in LibreOffice: a logo on 一覧, a
text box on 集計 beside the tool's two charts, and a chart of the staff's own there
(realbooks.lo_tool_sheet_edit). Each rebuilding command then runs on the file face, and
LibreOffice opens what it wrote.
"""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from conftest import require_soffice
from realbooks import (TOOL_PICTURE_NAME, TOOL_PICTURE_SHEET, TOOL_TEXT_BOX_NAME, TOOL_TEXT_BOX_SHEET,  # noqa: F401
                       lo_inspect, lo_tool_sheet_edit, package_problems, sample_master_xlsm)

from renkei_xl.cli import main
from renkei_xl.package.zipped import Package

ANCHOR = re.compile(rb"<xdr:(twoCellAnchor|oneCellAnchor)\b.*?</xdr:\1>", re.S)


def _run(*args: str) -> str:
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(out):
        code = main(list(args))
    assert code == 0, out.getvalue()
    return out.getvalue()


def _drawing(path: Path, sheet: str) -> tuple[bytes, dict[str, bytes]]:
    """The drawing part ``sheet`` shows, and every part of the package by name."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    workbook = parts["xl/workbook.xml"].decode()
    rid = re.search(r'<sheet [^>]*name="' + sheet + r'"[^>]*r:id="([^"]+)"', workbook).group(1)
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    target = re.search(r'Id="' + rid + r'"[^>]*Target="([^"]+)"|Target="([^"]+)"[^>]*Id="' + rid + '"', rels)
    sheet_part = "xl/" + (target.group(1) or target.group(2)).removeprefix("/xl/")
    sheet_rels = parts.get(sheet_part.replace("worksheets/", "worksheets/_rels/") + ".rels", b"").decode()
    m = re.search(r'Target="\.\./drawings/(drawing\d+\.xml)"', sheet_rels)
    return (parts[f"xl/drawings/{m.group(1)}"] if m else b""), parts


def _findings_rows(path: Path) -> list[str]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    try:
        return [" ".join(str(v) for v in row if v is not None) for row in wb["検証結果"].iter_rows(values_only=True)]
    finally:
        wb.close()


def _anchor_named(drawing: bytes, name: str) -> bytes:
    found = [m.group(0) for m in ANCHOR.finditer(drawing) if f'name="{name}"'.encode() in m.group(0)]
    assert len(found) == 1, drawing
    return found[0]


@pytest.fixture(scope="module")
def edited(sample_master_xlsm, tmp_path_factory) -> Path:
    require_soffice()
    folder = tmp_path_factory.mktemp("tool_drawings")
    return lo_tool_sheet_edit(written_copy(sample_master_xlsm, folder / "recalced.xlsm", "recalc"),
                              folder / "edited.xlsm")


def written_copy(master: Path, copy: Path, *commands: str) -> Path:
    """``master`` copied to ``copy`` and each command run on the copy, as staff's clicks leave it."""
    shutil.copyfile(master, copy)
    for command in commands:
        _run(command, str(copy))
    return copy


def arranged_copy(sample: Path, tmp_path_factory, name: str, arrange) -> Path:
    """The sample recalculated and checked as staff's clicks leave it, then changed by
    ``arrange(master, copy)`` as staff would in Excel (the tool-sheet fixtures' master)."""
    folder = tmp_path_factory.mktemp(name)
    master = written_copy(sample, folder / "written.xlsm", "recalc", "validate")
    return arrange(master, folder / "arranged.xlsm")


def sheets_libreoffice_opens_after_a_recalc(arranged: Path, tmp_path: Path) -> set:
    """The sheets LibreOffice shows of ``arranged`` recalculated on the command line (it must
    open it, without a repair)."""
    from conftest import require_soffice
    from realbooks import lo_inspect

    require_soffice()
    master = shutil.copyfile(arranged, tmp_path / "master.xlsm")
    _run("recalc", str(master))
    (book,) = lo_inspect([master])
    assert book["loaded"], book
    return set(book["sheets"])


def test_the_master_carries_what_staff_placed(edited):
    drawing, _ = _drawing(edited, TOOL_PICTURE_SHEET)
    assert b"<xdr:pic>" in _anchor_named(drawing, TOOL_PICTURE_NAME)
    drawing, _ = _drawing(edited, TOOL_TEXT_BOX_SHEET)
    assert b"<xdr:sp>" in _anchor_named(drawing, TOOL_TEXT_BOX_NAME)


@pytest.mark.parametrize("command", ["recalc", "rollover"])
def test_a_rebuild_keeps_pictures_and_shapes_byte_for_byte(edited, tmp_path, command):
    master = tmp_path / "master.xlsm"
    shutil.copyfile(edited, master)
    written = master
    if command == "rollover":
        written = tmp_path / "next.xlsm"
        _run("rollover", "-o", str(written), str(master))
    else:
        _run(command, str(master))

    before_picture, before_parts = _drawing(edited, TOOL_PICTURE_SHEET)
    after_picture, after_parts = _drawing(written, TOOL_PICTURE_SHEET)
    anchor = _anchor_named(before_picture, TOOL_PICTURE_NAME)
    assert anchor in after_picture
    media = [n for n in before_parts if n.startswith("xl/media/")]
    assert media and all(after_parts.get(n) == before_parts[n] for n in media)

    before_box, _ = _drawing(edited, TOOL_TEXT_BOX_SHEET)
    after_box, _ = _drawing(written, TOOL_TEXT_BOX_SHEET)
    assert _anchor_named(before_box, TOOL_TEXT_BOX_NAME) in after_box
    assert package_problems(written) == []

    book, = lo_inspect([written])
    assert book["loaded"], book
    assert book["sheets"][TOOL_PICTURE_SHEET]["shapes"] == 1
    # 集計: the text box, and the tool's charts where this command draws them (rollover leaves
    # 集計 for the new year's 評価を再計算); the staff's own chart goes, as the buttons delete it.
    charts = 2 if command == "recalc" else 0
    assert book["sheets"][TOOL_TEXT_BOX_SHEET]["charts"] == charts
    assert book["sheets"][TOOL_TEXT_BOX_SHEET]["shapes"] == 1 + charts


def test_a_second_recalc_leaves_the_drawings_as_the_first_wrote_them(edited, tmp_path):
    master = tmp_path / "master.xlsm"
    shutil.copyfile(edited, master)
    said = _run("recalc", str(master))
    first = {s: _drawing(master, s)[0] for s in (TOOL_PICTURE_SHEET, TOOL_TEXT_BOX_SHEET)}
    # The staff's chart was named as it went; the tool's own charts, drawn again, are not.
    assert said.count("に作ったグラフ") == 1, said
    said = _run("recalc", str(master))
    assert {s: _drawing(master, s)[0] for s in first} == first
    assert "グラフ" not in said, said


@pytest.mark.parametrize("command", ["recalc", "rollover"])
def test_the_staffs_own_chart_is_named_where_it_was_as_it_goes(edited, tmp_path, command):
    """The buttons delete a rebuilt sheet's charts (excel.book.LiveBook.clear_sheet) and the
    file face writes its drawing anew: a chart of the staff's own on 集計 went without a word.
    Named in 検証結果 (and on the command line) at the cell of its corner, the tool's own two
    charts not; the buttons on the PC read the same saved file (excel.desktop)."""
    from renkei_xl.excel.desktop import _saved
    from renkei_xl.package.drawing import sheet_charts

    master = tmp_path / "master.xlsm"
    shutil.copyfile(edited, master)
    charts = _saved(sheet_charts, master, TOOL_TEXT_BOX_SHEET)
    assert len(charts) == 3
    staff = [(name, title, ref) for name, title, ref in charts if title not in ("評価の内訳（全体）", "達成割合の推移")]
    assert len(staff) == 1 and staff[0][2], charts
    written = master if command == "recalc" else tmp_path / "next.xlsm"
    said = _run(command, str(master)) if command == "recalc" else _run("rollover", "-o", str(written), str(master))
    line = f"{TOOL_TEXT_BOX_SHEET}の {staff[0][2]} に作ったグラフは、"
    assert said.count(line) == 1, said
    assert "評価の内訳" not in said and "達成割合の推移" not in said
    if command == "recalc":
        found = _findings_rows(written)
        assert sum(line in row for row in found) == 1, found



@pytest.mark.parametrize("stem, kept_kinds", [("image01", [b"<xdr:pic>"]), ("textbox01", [b"<xdr:sp>"]),
                                              ("chart_bar01", None)])
def test_excels_own_drawings_keep_all_but_their_charts(stem, kept_kinds):
    """Drawings Excel saved: its pictures and text boxes are kept with the relationships they
    use (r:embed), a drawing of charts alone leaves nothing."""
    from realbooks import excel_made_books
    from renkei_xl.package.drawing import drawing_of, kept_drawing, kept_parts
    from renkei_xl.package.zipped import Package

    book = next(b for b in excel_made_books() if b.stem == stem)
    pkg = Package(book)
    drawing = drawing_of(pkg, "xl/worksheets/sheet1.xml")
    assert drawing is not None
    kept = kept_drawing(pkg, drawing)
    if kept_kinds is None:
        assert kept is None
        return
    anchors = [m.group(0) for m in ANCHOR.finditer(kept.anchors)]
    assert [re.search(rb"<xdr:(pic|sp)[\s>]", a).group(0)[:-1] + b">" for a in anchors] == kept_kinds
    assert kept.head + kept.anchors + kept.tail == pkg.read(drawing)
    embeds = set(re.findall(rb'r:embed="([^"]+)"', kept.anchors))
    assert {e.decode() for e in embeds} == set(kept.rel_ids)
    media = {p for p in kept_parts(pkg, kept) if p.startswith("xl/media/")}
    assert len(media) == (len(embeds) if embeds else 0) and all(p in pkg for p in media)
    assert kept.next_id > max(int(i) for i in re.findall(rb'cNvPr id="(\d+)"', kept.anchors))


_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_RELS = '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{}</Relationships>'


def _chart_graphic(rid: str) -> str:
    return ('<a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/chart">'
            f'<c:chart xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" xmlns:r="{_R}" '
            f'r:id="{rid}"/></a:graphicData>')


def _one_drawing_book(book: Path, anchors: str, rels: tuple[tuple[str, str, str], ...]) -> Path:
    """A package of one sheet whose drawing holds ``anchors``, its relationships ``rels`` and
    each part they name (empty): what package.drawing reads, no more."""
    drawing = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               '<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" '
               f'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">{anchors}</xdr:wsDr>')
    rels_xml = ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                + "".join(f'<Relationship Id="{i}" Type="{t}" Target="{g}"/>' for i, t, g in rels)
                + '</Relationships>')
    parts = {"[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
             "_rels/.rels": _RELS.format('<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                                          'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'),
             "xl/workbook.xml": '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                                f'xmlns:r="{_R}"><sheets><sheet name="集計" sheetId="1" r:id="rId1"/></sheets></workbook>',
             "xl/_rels/workbook.xml.rels": _RELS.format(
                 '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                 'worksheet" Target="worksheets/sheet1.xml"/>'),
             "xl/worksheets/sheet1.xml": "<worksheet/>",
             "xl/worksheets/_rels/sheet1.xml.rels":
                 '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                 '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                 'drawing" Target="../drawings/drawing1.xml"/></Relationships>',
             "xl/drawings/drawing1.xml": drawing, "xl/drawings/_rels/drawing1.xml.rels": rels_xml,
             **{f"xl/{g[3:]}": "<x/>" for _, _, g in rels}}
    with zipfile.ZipFile(book, "w") as z:
        for name, text in parts.items():
            z.writestr(name, text)
    return book


_DGM_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/diagram"
_SMARTART_RELS = (("rId1", "http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart", "../charts/chart1.xml"),
                  ("rId2", _DGM_REL + "Data", "../diagrams/data1.xml"),
                  ("rId3", _DGM_REL + "Layout", "../diagrams/layout1.xml"),
                  ("rId4", _DGM_REL + "QuickStyle", "../diagrams/quickStyle1.xml"),
                  ("rId5", _DGM_REL + "Colors", "../diagrams/colors1.xml"),
                  ("rId6", "http://schemas.microsoft.com/office/2007/relationships/diagramDrawing",
                   "../diagrams/drawing1.xml"))


def _frame(shape_id: int, graphic: str) -> str:
    return ('<xdr:twoCellAnchor><xdr:from><xdr:col>0</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>0</xdr:row>'
            '<xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:to><xdr:col>4</xdr:col><xdr:colOff>0</xdr:colOff>'
            '<xdr:row>9</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to><xdr:graphicFrame macro="">'
            f'<xdr:nvGraphicFramePr><xdr:cNvPr id="{shape_id}" name="Frame {shape_id}"/><xdr:cNvGraphicFramePr/>'
            '</xdr:nvGraphicFramePr><xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm>'
            f'<a:graphic>{graphic}</a:graphic></xdr:graphicFrame><xdr:clientData/></xdr:twoCellAnchor>')


def test_smartart_keeps_its_cached_drawing(tmp_path):
    """SmartArt as Excel saves it: the graphic frame names its data, layout, style and colour
    parts (r:dm …); the drawing LibreOffice draws it from is named only by the data part's
    dsp:dataModelExt relId, through the sheet drawing's relationships. It stays, as the
    other four do; the chart beside it goes with its relationship."""
    from renkei_xl.package.drawing import drawing_of, kept_drawing, kept_parts, write_kept
    from renkei_xl.package.rels import read_rels

    drawing = (_frame(2, _chart_graphic("rId1"))
               + _frame(3, '<a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/diagram">'
                           f'<dgm:relIds xmlns:dgm="http://schemas.openxmlformats.org/drawingml/2006/diagram" '
                           f'xmlns:r="{_R}" r:dm="rId2" r:lo="rId3" r:qs="rId4" r:cs="rId5"/></a:graphicData>'))
    book = _one_drawing_book(tmp_path / "smartart.xlsx", drawing, _SMARTART_RELS)

    pkg = Package(book)
    kept = kept_drawing(pkg, drawing_of(pkg, "xl/worksheets/sheet1.xml"))
    assert kept.anchors.count(b"<xdr:twoCellAnchor>") == 1 and b"dgm:relIds" in kept.anchors
    assert kept_parts(pkg, kept) == {"xl/drawings/drawing1.xml", *(f"xl/{g[3:]}" for _, _, g in _SMARTART_RELS[1:])}
    write_kept(pkg, kept, "")
    assert [rel.id for rel in read_rels(pkg, kept.part)] == ["rId2", "rId3", "rId4", "rId5", "rId6"]


def test_a_group_holding_a_chart_stays_whole(tmp_path):
    """Excel's ChartObjects, through which the buttons delete a sheet's charts, does not hold
    a chart grouped with other shapes: Clear All leaves the group, its chart included. The
    file face keeps it too, and drops only the chart standing alone."""
    from renkei_xl.package.drawing import drawing_of, kept_drawing, kept_parts, sheet_charts
    from renkei_xl.package.workbook import WorkbookXml

    chart = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart"
    group = ('<xdr:twoCellAnchor><xdr:from><xdr:col>5</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>0</xdr:row>'
             '<xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:to><xdr:col>9</xdr:col><xdr:colOff>0</xdr:colOff>'
             '<xdr:row>9</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to><xdr:grpSp><xdr:nvGrpSpPr>'
             '<xdr:cNvPr id="4" name="グループ 4"/><xdr:cNvGrpSpPr/></xdr:nvGrpSpPr><xdr:grpSpPr/>'
             '<xdr:sp macro="" textlink=""><xdr:nvSpPr><xdr:cNvPr id="5" name="注記"/><xdr:cNvSpPr txBox="1"/>'
             '</xdr:nvSpPr><xdr:spPr/></xdr:sp><xdr:graphicFrame macro=""><xdr:nvGraphicFramePr>'
             '<xdr:cNvPr id="6" name="職員のグラフ"/><xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr>'
             '<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm>'
             f'<a:graphic>{_chart_graphic("rId2")}</a:graphic></xdr:graphicFrame></xdr:grpSp>'
             '<xdr:clientData/></xdr:twoCellAnchor>')
    book = _one_drawing_book(tmp_path / "group.xlsx", _frame(2, _chart_graphic("rId1")) + group,
                             (("rId1", chart, "../charts/chart1.xml"), ("rId2", chart, "../charts/chart2.xml")))

    pkg = Package(book)
    kept = kept_drawing(pkg, drawing_of(pkg, "xl/worksheets/sheet1.xml"))
    assert kept is not None and kept.anchors == group.encode()
    assert kept.rel_ids == {"rId2"} and kept.next_id == 7
    assert kept_parts(pkg, kept) == {"xl/drawings/drawing1.xml", "xl/charts/chart2.xml"}
    # and the rebuild names only the chart it drops (core.list_notes.dropped_charts)
    assert [name for name, _title, _ref in sheet_charts(pkg, WorkbookXml(pkg), "集計")] == ["Frame 2"]


def test_a_drawing_in_another_encoding_keeps_its_shapes_in_utf8(tmp_path):
    """A drawing declared ISO-8859-1 (no application the tool knows writes one, but the format
    allows it) was left out whole, its text box lost in silence; it is kept, made UTF-8,
    since the tool's charts are appended as UTF-8."""
    from renkei_xl.package.drawing import drawing_of, kept_drawing, write_kept

    box = ('<xdr:twoCellAnchor><xdr:from><xdr:col>5</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>0</xdr:row>'
           '<xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:to><xdr:col>9</xdr:col><xdr:colOff>0</xdr:colOff>'
           '<xdr:row>9</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to><xdr:sp macro="" textlink=""><xdr:nvSpPr>'
           '<xdr:cNvPr id="3" name="Note"/><xdr:cNvSpPr txBox="1"/></xdr:nvSpPr><xdr:spPr/><xdr:txBody>'
           '<a:bodyPr/><a:p><a:r><a:t>données à vérifier</a:t></a:r></a:p></xdr:txBody></xdr:sp>'
           '<xdr:clientData/></xdr:twoCellAnchor>')
    book = _one_drawing_book(tmp_path / "latin1.xlsx", _frame(2, _chart_graphic("rId1")) + box,
                             (("rId1", "http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart",
                               "../charts/chart1.xml"),))
    latin1 = tmp_path / "latin1b.xlsx"
    with zipfile.ZipFile(book) as z, zipfile.ZipFile(latin1, "w") as out:
        for name in z.namelist():
            data = z.read(name)
            if name == "xl/drawings/drawing1.xml":
                data = data.decode().replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').encode("latin-1")
            out.writestr(name, data)

    pkg = Package(latin1)
    kept = kept_drawing(pkg, drawing_of(pkg, "xl/worksheets/sheet1.xml"))
    assert kept is not None and kept.anchors == box.encode("utf-8")
    write_kept(pkg, kept, "")
    written = pkg.read(kept.part)
    assert written.startswith(b'<?xml version="1.0" encoding="UTF-8"')
    assert "données à vérifier".encode("utf-8") in written


def test_a_chart_excel_saved_is_read_with_its_name_and_corner():
    from realbooks import excel_made_books
    from renkei_xl.package.drawing import sheet_charts
    from renkei_xl.package.workbook import WorkbookXml
    from renkei_xl.package.zipped import Package

    book = next(b for b in excel_made_books() if b.stem == "chart_bar01")
    pkg = Package(book)
    workbook = WorkbookXml(pkg)
    [(name, title, ref)] = sheet_charts(pkg, workbook, workbook.sheetnames[0])
    drawing = pkg.read("xl/drawings/drawing1.xml").decode()
    assert f'name="{name}"' in drawing and name
    col, row = re.search(r"<xdr:from><xdr:col>(\d+)</xdr:col>.*?<xdr:row>(\d+)</xdr:row>", drawing).groups()
    from renkei_xl.core.refs import cell_ref
    assert ref == cell_ref(int(row) + 1, int(col) + 1)


def test_the_drawingml_copy_of_a_form_control_goes_with_the_control(tmp_path):
    """Excel saves a form control (a button staff placed) in the sheet's VML drawing and
    <controls>, and a copy in the DrawingML drawing for newer readers, in mc:AlternateContent
    naming the VML shape (a14:compatExt spid). The rebuilt sheet part carries no VML drawing:
    the copy kept alone named a shape that was no longer there. It goes with the control;
    the text box beside it stays."""
    from renkei_xl.package.drawing import drawing_of, kept_drawing

    button = ('<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
              '<mc:Choice xmlns:a14="http://schemas.microsoft.com/office/drawing/2010/main" Requires="a14">'
              '<xdr:twoCellAnchor editAs="oneCell"><xdr:from><xdr:col>1</xdr:col><xdr:colOff>0</xdr:colOff>'
              '<xdr:row>1</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:to><xdr:col>3</xdr:col>'
              '<xdr:colOff>0</xdr:colOff><xdr:row>3</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to>'
              '<xdr:sp macro="" textlink=""><xdr:nvSpPr><xdr:cNvPr id="1025" name="Button 1" hidden="1"><a:extLst>'
              '<a:ext uri="{63B3BB69-23CF-44E3-9099-C40C66FF867C}"><a14:compatExt spid="_x0000_s1025"/></a:ext>'
              '</a:extLst></xdr:cNvPr><xdr:cNvSpPr/></xdr:nvSpPr><xdr:spPr/></xdr:sp><xdr:clientData fPrintsWithSheet="0"/>'
              '</xdr:twoCellAnchor></mc:Choice><mc:Fallback/></mc:AlternateContent>')
    box = ('<xdr:twoCellAnchor><xdr:from><xdr:col>5</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>0</xdr:row>'
           '<xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:to><xdr:col>9</xdr:col><xdr:colOff>0</xdr:colOff>'
           '<xdr:row>9</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to><xdr:sp macro="" textlink=""><xdr:nvSpPr>'
           '<xdr:cNvPr id="3" name="注記"/><xdr:cNvSpPr txBox="1"/></xdr:nvSpPr><xdr:spPr/></xdr:sp>'
           '<xdr:clientData/></xdr:twoCellAnchor>')
    pkg = Package(_one_drawing_book(tmp_path / "button.xlsx", button + box, ()))
    kept = kept_drawing(pkg, drawing_of(pkg, "xl/worksheets/sheet1.xml"))
    assert kept is not None and kept.anchors == box.encode()
    assert kept.next_id == 4
    # kept with the control where the control stays (package.controls), byte for byte
    kept = kept_drawing(pkg, drawing_of(pkg, "xl/worksheets/sheet1.xml"), controls=True)
    assert kept is not None and kept.anchors == (button + box).encode()
    assert kept.next_id == 1026


@pytest.mark.parametrize("written, read", [
    ("グラフ 1", "グラフ 1"),
    ("売上&amp;件数 &lt;2023&gt; &quot;案&quot; &apos;A&apos;", "売上&件数 <2023> \"案\" 'A'"),
    ("一行目&#10;二行目&#x9;&#x20BB7;", "一行目\n二行目\t𠮷"),
    ("&amp;lt;", "&lt;"),            # one pass: an escaped ampersand is not read twice
    ("&#x110000;", "&#x110000;"),    # beyond Unicode: left as written, never a traceback
])
def test_a_name_in_a_part_is_read_back_as_excel_shows_it(written, read):
    from renkei_xl.package.xml import unescape

    assert unescape(written) == read

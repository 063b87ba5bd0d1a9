"""Form controls staff put on a sheet the tool rebuilds stay, as Excel's Clear All leaves them
on the buttons' face (renkei_xl.package.controls).

Two masters, both the FY2023 sample after 評価を再計算 with something placed on 一覧:
- Excel's button (button07.xlsm in tests/data/excel_made, bound to the staff's macro) put
  in 一覧's legacy drawing beside a note on B2, the note's shape in the same VML part: the
  rebuild keeps the button, byte for byte, drops the note and names it in 検証結果.
- A check box LibreOffice placed (a 2010 form control: <controls>, xl/ctrlProps, a DrawingML
  copy): the entry, its properties and its copy are carried into the new sheet part.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest

from conftest import require_soffice
from realbooks import (EXCEL_MADE, lo_form_control, lo_inspect, package_problems, parts, relationships,  # noqa: F401
                       resolve_target, sample_master_xlsm, sheet_parts)

from test_tool_sheet_drawings import _run

LIST = "一覧"
NOTE_TEXT = "職員のメモ（一覧）"
CHECKBOX_LABEL = "職員の確認欄"
T_VML = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/vmlDrawing"
T_COMMENTS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments"
VML_SHAPE = re.compile(rb"<v:shape\b.*?</v:shape>", re.S)




def _excel_button() -> tuple[bytes, bytes]:
    """The shape type and the button shape of button07.xlsm's VML, as Excel wrote them,
    moved to shape block 5 (ids 5120…) so that no shape id of the master's own VML repeats."""
    with zipfile.ZipFile(EXCEL_MADE / "button07.xlsm") as z:
        vml = z.read("xl/drawings/vmlDrawing1.vml")
    shapetype = re.search(rb"<v:shapetype\b.*?</v:shapetype>", vml, re.S).group(0)
    [button] = VML_SHAPE.findall(vml)
    return shapetype, button.replace(b'id="_x0000_s1025"', b'id="_x0000_s5121"')


def _excel_note() -> tuple[bytes, bytes]:
    """A note's shape type and shape from comment03.xlsx, moved to B2 and to id 5122."""
    with zipfile.ZipFile(EXCEL_MADE / "comment03.xlsx") as z:
        vml = z.read("xl/drawings/vmlDrawing1.vml")
    shapetype = re.search(rb"<v:shapetype\b.*?</v:shapetype>", vml, re.S).group(0)
    note = VML_SHAPE.findall(vml)[0].replace(b'id="_x0000_s1025"', b'id="_x0000_s5122"')
    note = note.replace(b"<x:Row>0</x:Row>", b"<x:Row>1</x:Row>").replace(b"<x:Column>0</x:Column>",
                                                                          b"<x:Column>1</x:Column>")
    return shapetype, note


def place_button_and_note(master: Path, dst: Path) -> Path:
    """``master`` with Excel's button and a note on 一覧!B2 in one legacy drawing, as Excel
    keeps them (the notes' and the controls' shapes share the sheet's VML part)."""
    pkg = parts(master)
    sheet = sheet_parts(pkg)[LIST]
    rels_part = sheet.replace("worksheets/", "worksheets/_rels/") + ".rels"
    button_type, button = _excel_button()
    note_type, note = _excel_note()
    vml = (b'<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
           b'xmlns:x="urn:schemas-microsoft-com:office:excel">\n <o:shapelayout v:ext="edit">\n  '
           b'<o:idmap v:ext="edit" data="5"/>\n </o:shapelayout>'
           + note_type + button_type + note + button + b"</xml>")
    comments = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<comments xmlns="http://schemas.'
                'openxmlformats.org/spreadsheetml/2006/main"><authors><author>職員</author></authors><commentList>'
                f'<comment ref="B2" authorId="0"><text><t>{NOTE_TEXT}</t></text></comment></commentList></comments>')
    vml_part, comments_part = "xl/drawings/vmlDrawing90.vml", "xl/comments90.xml"
    assert vml_part not in pkg and comments_part not in pkg
    rels = pkg.get(rels_part, b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships '
                   b'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>').decode()
    assert 'Id="rId90"' not in rels and "legacyDrawing" not in pkg[sheet].decode()
    rels = rels.replace("</Relationships>",
                        f'<Relationship Id="rId90" Type="{T_VML}" Target="../drawings/vmlDrawing90.vml"/>'
                        f'<Relationship Id="rId91" Type="{T_COMMENTS}" Target="../comments90.xml"/></Relationships>')
    xml = pkg[sheet].decode()
    at = xml.find("<extLst") if "<extLst" in xml else xml.rindex("</worksheet>")
    xml = xml[:at] + '<legacyDrawing r:id="rId90"/>' + xml[at:]
    types = pkg["[Content_Types].xml"].decode()
    if 'Extension="vml"' not in types:
        types = types.replace("</Types>", '<Default Extension="vml" ContentType="application/vnd.'
                                          'openxmlformats-officedocument.vmlDrawing"/></Types>')
    types = types.replace("</Types>", '<Override PartName="/xl/comments90.xml" ContentType="application/vnd.'
                                      'openxmlformats-officedocument.spreadsheetml.comments+xml"/></Types>')
    pkg.update({sheet: xml.encode(), rels_part: rels.encode(), vml_part: vml,
                comments_part: comments.encode(), "[Content_Types].xml": types.encode()})
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in pkg.items():
            z.writestr(name, data)
    return dst


def _legacy(pkg: dict[str, bytes], sheet: str) -> tuple[bytes, bytes]:
    """The sheet part of ``sheet`` and the VML part its legacyDrawing names (b"": none)."""
    part = sheet_parts(pkg)[sheet]
    m = re.search(rb'<legacyDrawing\b[^>]*\sr:id="([^"]*)"', pkg[part])
    if not m:
        return pkg[part], b""
    [rel] = [r for r in relationships(pkg, part) if r["Id"] == m.group(1).decode()]
    assert rel["Type"] == T_VML
    return pkg[part], pkg[resolve_target(part, rel["Target"])]


def _drawing(pkg: dict[str, bytes], part: str) -> bytes:
    [rel] = [r for r in relationships(pkg, part) if r["Type"].endswith("/drawing")]
    return pkg[resolve_target(part, rel["Target"])]


def _findings_text(path: Path) -> str:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    try:
        return "\n".join(" ".join(str(v) for v in row if v is not None)
                         for row in wb["検証結果"].iter_rows(values_only=True))
    finally:
        wb.close()


@pytest.fixture(scope="module")
def recalced(sample_master_xlsm, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tool_controls") / "recalced.xlsm"
    shutil.copyfile(sample_master_xlsm, path)
    _run("recalc", str(path))
    return path


def test_recalc_keeps_excels_button_on_the_list_and_drops_the_note_beside_it(recalced, tmp_path):
    require_soffice()
    master = place_button_and_note(recalced, tmp_path / "button.xlsm")
    assert package_problems(master) == []
    _type, button = _excel_button()
    before = lo_inspect([master])[0]["sheets"][LIST]
    assert before["controls"] == ["Hello"] and before["annotations"] == 1     # LibreOffice sees both

    _run("recalc", str(master))
    pkg = parts(master)
    sheet, vml = _legacy(pkg, LIST)
    assert button in vml                                      # byte for byte
    assert b'ObjectType="Note"' not in vml                    # the note goes with the rebuilt cells
    assert not [n for n in pkg if n.startswith("xl/comments")]
    assert package_problems(master) == []
    assert NOTE_TEXT in _findings_text(master)                # and is named (core.list_notes)
    after = lo_inspect([master])[0]
    assert after["loaded"]
    assert after["sheets"][LIST]["controls"] == ["Hello"]
    assert after["sheets"][LIST]["annotations"] == 0

    _run("recalc", str(master))                               # a second rebuild keeps it as well
    assert _legacy(parts(master), LIST)[1] == vml
    assert package_problems(master) == []


def test_recalc_carries_a_2010_check_box_with_its_properties_and_drawing_copy(recalced, tmp_path):
    require_soffice()
    master = lo_form_control(recalced, tmp_path / "checkbox.xlsm", LIST, CHECKBOX_LABEL)
    old = parts(master)
    old_sheet, old_vml = _legacy(old, LIST)
    controls = re.search(rb"<mc:AlternateContent\b(?:(?!<mc:AlternateContent).)*?<controls>.*?</controls>"
                         rb"</mc:Choice></mc:AlternateContent>", old_sheet, re.S)
    assert controls, old_sheet[-1500:]
    part = sheet_parts(old)[LIST]
    props = {r["Id"]: resolve_target(part, r["Target"]) for r in relationships(old, part)
             if r["Type"].endswith("/ctrlProp")}
    assert props and old_vml.count(b"<x:ClientData") == 1

    _run("recalc", str(master))
    new = parts(master)
    sheet, vml = _legacy(new, LIST)
    assert vml == old_vml                                     # no note on it: the part as it was
    # the entry as it was, the old root's namespace declarations (mc, x14, xdr, …) added to it
    kept = re.search(rb"<mc:AlternateContent\b[^>]*>(<mc:Choice Requires=\"x14\"><controls>.*?</controls>"
                     rb"</mc:Choice></mc:AlternateContent>)", sheet, re.S)
    assert kept and kept.group(1) == controls.group(0)[controls.group(0).index(b">") + 1:]
    assert b"<legacyDrawing " in sheet and sheet.index(b"<legacyDrawing ") < kept.start()
    rels = {r["Id"]: resolve_target(part, r["Target"]) for r in relationships(new, part)
            if r["Type"].endswith("/ctrlProp")}
    assert rels == props and all(new[p] == old[p] for p in props.values())
    # LibreOffice's DrawingML copy of the check box (mc:AlternateContent, no a14:compatExt), verbatim
    [copy] = re.findall(rb"<mc:AlternateContent\b.*?</mc:AlternateContent>", _drawing(old, part), re.S)
    assert CHECKBOX_LABEL.encode() in copy and copy in _drawing(new, part)
    assert package_problems(master) == []
    assert lo_inspect([master])[0]["loaded"]


def _vml_shape(n: int, kind: str) -> str:
    data = f"<x:ClientData ObjectType=\"{kind}\"><x:Anchor>1, 0, 1, 0, 2, 0, 2, 0</x:Anchor></x:ClientData>" if kind else ""
    return f'<v:shape id="_x0000_s{n}" type="#_x0000_t201"><v:textbox><div>{kind}<br></div></v:textbox>{data}</v:shape>'


def test_only_the_controls_shapes_and_entries_are_kept(tmp_path):
    """Of a legacy drawing the notes' shapes go (named with the notes), and an OLE object's
    picture (its <oleObjects> is not carried); a header's picture (legacyDrawingHF) is another
    part, not read. The <controls> entry is found past the cells ("sheetData" in a header's
    text is no tag) and gets the old root's declarations it uses."""
    from renkei_xl.package.controls import kept_controls
    from renkei_xl.package.zipped import Package

    vml_head = ('<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
                'xmlns:x="urn:schemas-microsoft-com:office:excel">')
    shapes = {kind: _vml_shape(n, kind) for n, kind in ((1025, "Note"), (1026, "Button"), (1027, "Pict"),
                                                         (1028, "Checkbox"))}
    vml = vml_head + "".join(shapes.values()) + "</xml>"
    controls = ('<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
                '<mc:Choice Requires="x14"><controls><control shapeId="1028" r:id="rId3" name="Check Box 4">'
                '<controlPr><anchor><from><xdr:col>1</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>1</xdr:row>'
                '<xdr:rowOff>0</xdr:rowOff></from><to><xdr:col>2</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>2</xdr:row>'
                '<xdr:rowOff>0</xdr:rowOff></to></anchor></controlPr></control></controls></mc:Choice>'
                '</mc:AlternateContent>')
    declarations = (' xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"'
                    ' xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"')
    sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.'
             'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
             f'officeDocument/2006/relationships"{declarations}><sheetData><row r="1"><c r="A1" t="inlineStr"><is>'
             '<t>&lt;/sheetData&gt;</t></is></c></row></sheetData><headerFooter><oddHeader>sheetData&amp;G'
             '</oddHeader></headerFooter><legacyDrawing r:id="rId1"/><legacyDrawingHF r:id="rId2"/>'
             f'{controls}</worksheet>')
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}vmlDrawing" Target="../drawings/vmlDrawing1.vml"/>'
            f'<Relationship Id="rId2" Type="{rel}vmlDrawing" Target="../drawings/vmlDrawing2.vml"/>'
            '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'ctrlProp" Target="../ctrlProps/ctrlProp1.xml"/></Relationships>')
    path = tmp_path / "controls.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?>\n<Types xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType='
                   '"application/xml"/></Types>')
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        z.writestr("xl/worksheets/_rels/sheet1.xml.rels", rels)
        z.writestr("xl/drawings/vmlDrawing1.vml", vml)
        z.writestr("xl/drawings/vmlDrawing2.vml", vml_head + _vml_shape(2049, "") + "</xml>")
        z.writestr("xl/ctrlProps/ctrlProp1.xml", '<formControlPr objectType="CheckBox"/>')
    kept = kept_controls(Package(path, path.read_bytes()), "xl/worksheets/sheet1.xml")
    assert kept is not None and kept.vml_part == "xl/drawings/vmlDrawing1.vml"
    # a VML shape whose note holds <br> unclosed: cut as bytes, not parsed
    assert kept.vml.decode() == vml_head + shapes["Button"] + shapes["Pict"] + shapes["Checkbox"] + "</xml>"
    assert kept.controls.decode() == controls.replace(
        '2006">', '2006" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
        + declarations + ">", 1)     # the old start tag's bytes, then the declarations
    assert kept.rels == (("rId3", rel + "ctrlProp", "../ctrlProps/ctrlProp1.xml"),)


def test_recalc_names_the_notes_of_a_comments_part_too_large_to_be_a_tree(recalced, tmp_path):
    """A comments part of more than package.xml.MAX_TREE_TAGS tags (about 36,000 Excel notes
    on one sheet; here one note of 260,000 runs): read as a tree it was refused, and 評価を
    再計算 rebuilt 一覧 over its notes without naming one. Read streamed, each is named."""
    from renkei_xl.package.xml import MAX_TREE_TAGS

    master = place_button_and_note(recalced, tmp_path / "notes.xlsm")
    pkg = parts(master)
    runs = "<r><t>x</t></r>" * (MAX_TREE_TAGS // 4 + 10_000)
    pkg["xl/comments90.xml"] = pkg["xl/comments90.xml"].replace(
        b"</commentList>", f'<comment ref="C3" authorId="0"><text>{runs}</text></comment></commentList>'.encode())
    assert pkg["xl/comments90.xml"].count(b"<") > MAX_TREE_TAGS
    with zipfile.ZipFile(master, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, data in pkg.items():
            z.writestr(name, data)
    _run("recalc", str(master))
    assert NOTE_TEXT in _findings_text(master)


def test_empty_shapes_by_the_thousand_in_a_legacy_drawing_cost_recalc_no_time(recalced, tmp_path):
    """64,000 empty shapes (「<v:shape id="e1"/>」, a few kB zipped) after the button and the
    note in 一覧's legacy drawing: each shape was read by a pattern to the next shape's end tag,
    and with none after them it searched the rest of the part from every one, over a quarter
    of an hour of recalc (qa-fuzz62). Read in one pass now (package.xml.closed_elements):
    the button kept byte for byte, the empty shapes gone with the note."""
    from forked_cli import cli_run

    master = place_button_and_note(recalced, tmp_path / "button.xlsm")
    pkg = parts(master)
    vml_part = "xl/drawings/vmlDrawing90.vml"
    empty = b"".join(b'<v:shape id="e%d"/>' % i for i in range(64_000))
    pkg[vml_part] = pkg[vml_part].replace(b"</xml>", empty + b"</xml>")
    with zipfile.ZipFile(master, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in pkg.items():
            z.writestr(name, data)
    done = cli_run(["recalc", str(master)], timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    _type, button = _excel_button()
    _sheet, vml = _legacy(parts(master), LIST)
    assert button in vml and b'<v:shape id="e' not in vml and b'ObjectType="Note"' not in vml

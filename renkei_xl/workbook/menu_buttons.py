"""The tool's buttons put back on メニュー of a master that lost them (upgrade-macros).

LibreOffice 7.4 reads the form buttons it saved itself back as nothing: a master saved twice
in Calc has none left (vba.missing says so on every command). The buttons are made where the
build makes them, by the build's own functions (workbook.build.menu_columns, menu_button) on a
throwaway XlsxWriter sheet of メニュー's widths, whose legacy (VML) drawing is then taken into
the master: a drawing of the buttons alone when メニュー has none, else the buttons' shapes
added to the drawing it has (its notes and staff's controls kept). The sheet part gets the
<legacyDrawing> that names the drawing, where CT_Worksheet has it; every other part and byte
stays as it was.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Sequence

from ..core import contract as c
from ..package.controls import T_VML
from ..package.rels import ContentTypes, add_rel, read_rels
from ..package.workbook import WorkbookXml
from ..package.zipped import Package, fresh_name, relative

CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
_IDMAP = re.compile(rb'(<o:idmap\b[^<>]*?\sdata=")([^"]*)(")')
_SHAPE_ID = re.compile(rb'id="_x0000_s(\d+)"')
_SHAPES = re.compile(rb'<v:shapetype\b.*?</v:shapetype>|<v:shape\b.*?</v:shape>', re.DOTALL)
_LEGACY = re.compile(rb'<(?:[\w.-]+:)?legacyDrawing\b[^<>]*?\s[\w.-]+:id="([^"]*)"')
# CT_Worksheet's children after <legacyDrawing> (an mc:AlternateContent there holds controls
# or OLE objects): the new element goes before the first of them, else before the root's end.
_AFTER_LEGACY = frozenset((b"legacyDrawingHF", b"drawingHF", b"picture", b"oleObjects", b"controls",
                           b"webPublishItems", b"tableParts", b"extLst", b"AlternateContent"))


def put_back_buttons(pkg: Package, captions: Sequence[str]) -> list[str]:
    """The tool's buttons of ``captions`` added to メニュー of ``pkg``; returns those added
    (none where the book has no メニュー: said by the caller, vba.missing)."""
    entry = WorkbookXml(pkg).sheet(c.MENU)
    if entry is None or not entry.part or entry.part not in pkg or not captions:
        return []
    order = [i for i, (caption, _m, _w) in enumerate(c.BUTTONS) if caption in captions]
    block = 1 + max((n for part in pkg.names() if part.lower().endswith(".vml")
                     for n in _blocks(pkg.read(part))), default=0)
    vml = _buttons_vml(order, block)
    part, data = entry.part, pkg.read(entry.part)
    legacy = _LEGACY.search(data, _tail_start(data))
    rels = {r.id: r.part for r in read_rels(pkg, part) if r.type == T_VML}
    drawing = rels.get(legacy.group(1).decode("utf-8")) if legacy else None
    if drawing is not None and drawing in pkg:
        pkg.write(drawing, _merged(pkg.read(drawing), vml, block))
    else:
        drawing = fresh_name(pkg.names(), "xl/drawings/vmlDrawing%d.vml")
        pkg.write(drawing, vml)
        types = ContentTypes(pkg)
        if types.of(drawing) != CT_VML:
            types.add(drawing, CT_VML)
            types.save()
        rid = add_rel(pkg, part, T_VML, relative(part, drawing))
        pkg.write(part, _with_legacy(pkg, data, rid, part))
    return [c.BUTTONS[i][0] for i in order]


def _buttons_vml(order: Sequence[int], block: int) -> bytes:
    """The VML XlsxWriter writes for the buttons ``order`` (indexes of core.contract.BUTTONS)
    on a sheet of メニュー's widths, its shapes numbered in the id block ``block`` (1024 ids a
    block, as Excel numbers them: a block another drawing of the book uses would give two
    shapes one id)."""
    import xlsxwriter

    from .build import menu_button, menu_columns

    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    ws = wb.add_worksheet()
    menu_columns(ws)
    for i in order:
        menu_button(ws, i)
    wb.close()
    with zipfile.ZipFile(buffer) as z:
        vml = z.read("xl/drawings/vmlDrawing1.vml")
    vml = _IDMAP.sub(lambda m: m.group(1) + str(block).encode() + m.group(3), vml, count=1)
    return _SHAPE_ID.sub(lambda m: b'id="_x0000_s%d"' % (int(m.group(1)) - 1024 + 1024 * block), vml)


def _blocks(vml: bytes) -> list[int]:
    found = _IDMAP.search(vml)
    return [int(n) for n in re.findall(rb"\d+", found.group(2))] if found else []


def _merged(old: bytes, new: bytes, block: int) -> bytes:
    """The drawing ``old`` with the buttons' shapes of ``new`` added at its end (the button
    shape type too when ``old`` has none), and their id block declared in its idmap."""
    shapes = [s for s in _SHAPES.findall(new)
              if not (s.startswith(b"<v:shapetype") and b'id="_x0000_t201"' in old)]
    old = _IDMAP.sub(lambda m: m.group(1) + m.group(2) + b"," + str(block).encode() + m.group(3), old, count=1)
    end = old.rfind(b"</xml>")
    return old[:end] + b"".join(shapes) + old[end:]


def _tail_start(data: bytes) -> int:
    from ..package.sheet_tail import after_cells

    return after_cells(data)


def _with_legacy(pkg: Package, data: bytes, rid: str, part: str) -> bytes:
    """The sheet part ``data`` with <legacyDrawing r:id=``rid``> where CT_Worksheet has it."""
    from ..package.drawing import top_level_children
    from ..package.sheet_tail import sheet_root
    from ..package.xml import REL_NS, prefix_of

    start, end = _tail_start(data), data.rfind(b"</")
    tail = data[start:end]
    at = end
    for s, e in top_level_children(b"<r>" + tail + b"</r>", part):
        name = re.match(rb"<([\w.:-]+)", tail[s - 3:e - 3]).group(1).split(b":")[-1]
        if name in _AFTER_LEGACY:
            at = start + s - 3
            break
    root = sheet_root(pkg, part).decode("utf-8", "replace")
    prefix = prefix_of(root).encode()
    r = re.search(r'\sxmlns:([\w.-]+)="' + re.escape(REL_NS) + '"', root)
    if r:
        element = b'<%slegacyDrawing %s:id="%s"/>' % (prefix, r.group(1).encode(), rid.encode())
    else:
        element = b'<%slegacyDrawing xmlns:r="%s" r:id="%s"/>' % (prefix, REL_NS.encode(), rid.encode())
    return data[:at] + element + data[at:]

"""What a rebuilt tool sheet keeps of its form controls: a button staff assigned to their own
macro, a check box, as Excel's Clear All leaves them on the buttons' face
(excel.book.LiveBook.clear_sheet).

A form control lives in three places: its shape in the sheet's legacy (VML) drawing, which it
shares with the cells' notes; in a 2010-or-later book, an entry in the sheet part's
<controls> with its properties in xl/ctrlProps (one relationship each); and a DrawingML copy
in the sheet's drawing (package.drawing keeps it with the control). The file face writes the
sheet part anew, so without this the control went with the old part, in silence. Here the
VML part is written again under its name with the notes' shapes cut out (the rebuild drops
the notes and names them, core.list_notes.dropped_notes) and any other shape but the
controls', every other byte kept, and the
<controls> element and its relationships are carried verbatim into the new sheet part.
A regular expression, not a parser, cuts the VML: Excel's VML is not always well-formed XML
(a note's text holds <br> unclosed), and the shapes never nest.
"""

# No ``from __future__ import annotations``: see package.drawing (NamedTuple at import).

import re
from typing import NamedTuple, Optional

from ..core.lazy_pattern import LazyPattern
from .rels import reachable, read_rels
from .sheet_tail import sheet_root, sheet_tail
from .xml import closed_elements
from .zipped import Package

T_VML = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/vmlDrawing"

_LEGACY = LazyPattern(rb'<(?:[\w.-]+:)?legacyDrawing\b[^<>]*?\s[\w.-]+:id="([^"]*)"')
# A shape's start tag, its name with its prefix; each shape is read whole by closed_elements.
_VML_SHAPE = LazyPattern(rb'<(?P<name>[\w.-]+:shape)\b')
_OBJECT_TYPE = LazyPattern(rb'<(?:[\w.-]+:)?ClientData\b[^<>]*?\sObjectType="([^"]*)"')
_CONTROLS = LazyPattern(rb'<(?:[\w.-]+:)?controls[\s>]')
_XMLNS = re.compile(rb'\sxmlns:([\w.-]+)="[^"]*"')
# The form controls' shapes (x:ClientData ObjectType): what Clear All leaves and the rebuild
# keeps. The rest of a legacy drawing goes: the notes' shapes (ObjectType="Note", dropped and
# named with the notes, core.list_notes.dropped_notes) and any shape of something the new
# sheet part does not carry.
_CONTROL_TYPES = frozenset((b"Button", b"Checkbox", b"Drop", b"List", b"Spin", b"Scroll", b"Label", b"GBox",
                            b"Radio", b"Dialog", b"EditBox"))


class KeptControls(NamedTuple):
    vml_part: str        # the sheet's legacy drawing, kept under its name
    vml: bytes           # its content with only the controls' shapes (_CONTROL_TYPES) left
    controls: bytes      # the sheet part's <controls> (in its mc:AlternateContent), verbatim but
                         # for the namespace declarations it used from the old root; b"" for none
    rels: tuple          # (id, type, target) of the sheet's relationships ``controls`` names


def kept_controls(pkg: Package, sheet_part: str) -> Optional[KeptControls]:
    """The form controls of ``sheet_part`` that outlive its rebuild: None when its legacy
    drawing holds none (notes only, or no legacy drawing). The sheet part, 15 MB for a
    20,000-row 一覧, is read only when a VML part of the sheet holds a control, and only the
    part of it past <sheetData> is parsed (package.sheet_tail: what its reader saw)."""
    from .drawing import relationship_ids, top_level_children   # (its import is 25 ms: not at every command's start, vba.missing)
    from .xml import PackageError

    rels = read_rels(pkg, sheet_part)
    vmls = {r.id: r.part for r in rels if r.type == T_VML and r.part and r.part in pkg
            and any(_object_type(shape) in _CONTROL_TYPES for shape in _shapes(pkg.read(r.part)))}
    if not vmls:
        return None
    tail = sheet_tail(pkg, sheet_part)
    legacy = _LEGACY.search(tail)
    vml_part = vmls.get(legacy.group(1).decode("utf-8")) if legacy else None
    if vml_part is None:
        return None
    old_root = sheet_root(pkg, sheet_part)
    controls = b""
    try:
        spans = top_level_children(b"<r>" + tail + b"</r>", sheet_part)
    except PackageError:
        spans = []
    for s, e in spans:
        if _CONTROLS.search(tail, s - 3, e - 3):
            controls = declared(tail[s - 3:e - 3], old_root)
            break
    vml = pkg.read(vml_part)
    pict = controls != b""      # an ActiveX control's shape; an OLE object's (no <oleObjects> kept) goes
    cut = [(s, e) for s, e in closed_elements(vml, _VML_SHAPE, empty_too=True)
           if not (_object_type(vml[s:e]) in _CONTROL_TYPES or pict and _object_type(vml[s:e]) == b"Pict")]
    kept_vml, at = [], 0
    for s, e in cut:
        kept_vml.append(vml[at:s])
        at = e
    kept_vml.append(vml[at:])
    ids = relationship_ids(old_root, controls) if controls else set()
    return KeptControls(vml_part, b"".join(kept_vml), controls,
                        tuple((r.id, r.type, r.target) for r in rels if r.id in ids))


_FMLA_MACRO = LazyPattern(rb'<(?:[\w.-]+:)?FmlaMacro\b[^<>]*>([^<]*)<')


def button_macros(pkg: Package, sheet_part: str) -> set[str]:
    """The macros the form buttons of ``sheet_part`` run, as Excel names them without the
    book (「[0]!Renkei.RenkeiCheck」 → 「Renkei.RenkeiCheck」; a LibreOffice save writes no
    「[0]!」), from the sheet's legacy drawings, where Excel and LibreOffice both store a
    button. A button whose shape LibreOffice 7.4 did not read back is in none of them, which
    is what vba.missing asks."""
    out = set()
    for rel in read_rels(pkg, sheet_part):
        if rel.type != T_VML or not rel.part or rel.part not in pkg:
            continue
        for shape in _shapes(pkg.read(rel.part)):
            if _object_type(shape) == b"Button" and (found := _FMLA_MACRO.search(shape)):
                macro = found.group(1).decode("utf-8", "replace").strip()
                out.add(macro.rsplit("!", 1)[-1])
    return out


def kept_parts(pkg: Package, kept: KeptControls, sheet_part: str) -> set[str]:
    """The legacy drawing, the controls' properties and every part they reach, which the
    sheet's rebuild must not remove."""
    return reachable(pkg, {kept.vml_part} | {r.part for r in read_rels(pkg, sheet_part)
                                             if r.id in {rel[0] for rel in kept.rels} and r.part})


def _shapes(vml: bytes):
    """Each shape of a legacy drawing, whole (an empty <v:shape/> too). Found in one pass
    (package.xml.closed_elements): a pattern read an empty shape to the next shape's end tag,
    and with none after, searched the rest of the part from each (qa-fuzz62)."""
    return (vml[s:e] for s, e in closed_elements(vml, _VML_SHAPE, empty_too=True))


def _object_type(shape: bytes) -> Optional[bytes]:
    m = _OBJECT_TYPE.search(shape)
    return m.group(1) if m else None


def declared(element: bytes, old_root: bytes) -> bytes:
    """``element`` with the old root's prefixed namespace declarations (mc, x14, xdr, r, …)
    it does not make itself added to its start tag: the new root declares only the tool's,
    and a declaration repeated on a child means the same."""
    from .drawing import START_TAG

    end = START_TAG.match(element).end()        # the start tag's own end, past its attributes
    end -= element[end - 2:end] == b"/>"
    own = set(_XMLNS.findall(element[:end]))
    extra = b"".join(m.group(0) for m in _XMLNS.finditer(old_root) if m.group(1) not in own)
    return element[:end - 1] + extra + element[end - 1:]

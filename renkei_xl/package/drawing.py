"""What a rebuilt tool sheet keeps of its drawing: the pictures, shapes and text boxes staff
placed on it (a logo on 一覧 for the printed list, a note in a text box), byte for byte.

The buttons clear a tool sheet with Excel's Clear All, which empties the cells and leaves
the sheet's pictures and shapes where they are; they delete the sheet's charts themselves
(excel.book.LiveBook.clear_sheet). The file face replaces the sheet part whole, so without
this it dropped every picture with the old drawing, in silence, and the two faces gave
different sheets. Here the file face keeps the same: each anchor of the old drawing but the
charts standing alone, verbatim, with every relationship but those charts'; the tool's new
charts are added after them (workbook.apply).
"""

# No ``from __future__ import annotations``: typing.NamedTuple compiles each string
# annotation (a ForwardRef) when the module is imported, at every command's start.

import re
from typing import NamedTuple, Optional
from xml.parsers import expat

from ..core.lazy_pattern import LazyPattern
from .chart import A, C, XDR
from .rels import T_DRAWING, reachable, read_rels, remove_rel
from .xml import DECLARED_ENCODING, UNSIGNED_DIGITS, PackageError, parse, unescape
from .zipped import Package

# Excel's charts (c:chart) and its newer chart types (cx:chart: waterfall, treemap, …), each
# in a graphic frame: what the buttons delete with the sheet's charts.
_CHART_URI = LazyPattern(rb'graphicData\b[^<>]*\buri="http://schemas\.(?:openxmlformats\.org/drawingml/2006/chart|'
                        rb'microsoft\.com/office/drawing/2014/chartex)"')
# A group: Excel's ChartObjects, the buttons' chart list, does not hold a chart inside one,
# so Clear All leaves the group, its charts included, and the file face keeps it too.
_GROUP = LazyPattern(rb'<(?:[\w.-]+:)?grpSp[\s>]')
# A form or ActiveX control's copy in DrawingML (in mc:AlternateContent, a14:compatExt naming
# its VML shape): the control itself is the sheet's VML drawing and <controls>, which the
# rebuilt sheet part does not carry, so kept alone it would name a shape that is not there.
_CONTROL_COPY = LazyPattern(rb'<(?:[\w.-]+:)?compatExt\b')
_NAME = LazyPattern(r'<(?:[\w.-]+:)?cNvPr\b[^<>]*?\sname="([^"]*)"')
_FROM = LazyPattern(r'<(?:[\w.-]+:)?from>\s*<(?:[\w.-]+:)?col>(\d+)</(?:[\w.-]+:)?col>.*?'
                   r'<(?:[\w.-]+:)?row>(\d+)</(?:[\w.-]+:)?row>', re.S)
_CHART_RID = LazyPattern(r'<(?:[\w.-]+:)?chart\b[^<>]*?\s[\w.-]+:id="([^"]*)"')
# A shape's id, an unsignedInt (ten digits past leading zeros): an id spelt with 5,000 digits
# stopped recalc with 「予期しないエラー」 in int() (its limit is 4,300) as the charts' new ids
# were counted past the kept shapes'; such an id is no number a new one could meet.
_SHAPE_ID = LazyPattern(rb'<(?:[\w.-]+:)?cNvPr\b[^<>]*?\sid="0*([0-9]{1,%d})"' % UNSIGNED_DIGITS)
_REL_NS = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"
# A start tag (or an empty element) to its ">", past quoted attribute values: a picture's alt
# text may hold a ">". Here and in package.controls.
START_TAG = re.compile(rb'<[^\s/<>]+(?:\s+[^\s=/<>]+\s*=\s*(?:"[^"]*"|\'[^\']*\'))*\s*/?>')
# The anchors are kept as bytes and the charts' appended as UTF-8: a part declared in another
# encoding (no application the tool knows writes one; UTF-16 is refused on reading, see
# package.xml.check_xml_chars) is made UTF-8 first (its declaration: package.xml.DECLARED_ENCODING),
# its pictures kept all the same.


def _a_chart(data: bytes, start: int, end: int) -> bool:
    """Whether the drawing's top-level child at ``data[start:end]`` is a chart the buttons
    delete: what a rebuild drops (kept_drawing) and what it names (sheet_charts) alike."""
    return _CHART_URI.search(data, start, end) is not None and _GROUP.search(data, start, end) is None


class KeptDrawing(NamedTuple):
    part: str           # the old drawing part, kept under its name
    head: bytes         # the XML declaration and the root's opening tag, as they were
    anchors: bytes      # the anchors kept, in their order, verbatim
    tail: bytes         # the root's closing tag
    rel_ids: frozenset  # the drawing's relationships that stay: all but those only its charts use
    next_id: int        # the first shape id none of them has
    foreign_prefixes: bool  # the root binds xdr and a otherwise than the tool's charts spell them


def sheet_charts(pkg: Package, workbook, sheet: str) -> list[tuple[str, str, str]]:
    """(name, title, cell) of each chart on ``sheet`` (a WorkbookXml's sheet), in the
    drawing's order, the cell its top left corner is on ("" for an absolute anchor): what a
    rebuild of the sheet drops, for core.list_notes.dropped_charts to name the staff's own.
    None found where the sheet, its drawing or a chart part cannot be read."""
    entry = workbook.sheet(sheet)
    drawing = drawing_of(pkg, entry.part) if entry is not None and entry.part in pkg else None
    if drawing is None:
        return []
    try:
        data = pkg.read(drawing)
        parse(data, drawing)
        spans = top_level_children(data, drawing)
        rels = {rel.id: rel.part for rel in read_rels(pkg, drawing)}
    except PackageError:
        return []
    out = []
    for s, e in spans:
        if not _a_chart(data, s, e):
            continue
        anchor = data[s:e].decode("utf-8", "replace")
        name = _NAME.search(anchor)
        rid = _CHART_RID.search(anchor)
        out.append((unescape(name.group(1)) if name else "", _chart_title(pkg, rels.get(rid.group(1)) if rid else None),
                    _top_left(anchor)))
    return out


def _top_left(anchor: str) -> str:
    """The cell of an anchor's top left corner; "" where it has none on Excel's grid (an
    absolute anchor, or a column or row past it: a <xdr:col> of 5,000 digits stopped recalc
    with 予期しないエラー, as int() refuses past 4,300 digits, qa-fuzz61)."""
    from ..core.refs import COLUMN_DIGITS, LAST_COLUMN, LAST_ROW, ROW_DIGITS, cell_ref

    m = _FROM.search(anchor)
    if m is None or len(m.group(1)) > COLUMN_DIGITS or len(m.group(2)) > ROW_DIGITS:
        return ""
    col, row = int(m.group(1)) + 1, int(m.group(2)) + 1
    return cell_ref(row, col) if col <= LAST_COLUMN and row <= LAST_ROW else ""


def _chart_title(pkg: Package, part: Optional[str]) -> str:
    """A chart part's title as shown (its runs joined); "" for none or a part not read."""
    from .xml import q

    if not part or part not in pkg:
        return ""
    try:
        root = parse(pkg.read(part), part)
    except PackageError:
        return ""
    title = root.find(f".//{q(C, 'title')}")
    if title is None:
        return ""
    return "".join(t.text or "" for t in title.iter(q(A, "t"))).strip()


def drawing_of(pkg: Package, sheet_part: str) -> Optional[str]:
    """The drawing part a worksheet shows (its one ``drawing`` relationship), if any."""
    for rel in read_rels(pkg, sheet_part):
        if rel.type == T_DRAWING and rel.part and rel.part in pkg:
            return rel.part
    return None


def kept_drawing(pkg: Package, drawing: str, controls: bool = False) -> Optional[KeptDrawing]:
    """What of ``drawing`` outlives its sheet's rebuild: None when it holds only charts (and
    copies of controls, _CONTROL_COPY, unless ``controls``: the sheet's form controls are
    kept with it, package.controls)."""
    data = pkg.read(drawing)
    parse(data, drawing)        # refuses a DTD or damaged XML before expat sees it
    declared = DECLARED_ENCODING.match(data)
    if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
        # Decodable: expat read it above, and knows no encoding Python lacks.
        data = (data[:declared.start(1)] + b"UTF-8" + data[declared.end(1):]).decode(
            declared.group(1).decode("ascii")).encode("utf-8")
    spans = top_level_children(data, drawing)
    if not spans:
        return None
    charts = [_a_chart(data, s, e) or (not controls and _CONTROL_COPY.search(data, s, e) is not None)
              for s, e in spans]
    if all(charts):
        return None
    anchors = b"".join(data[s:e] for (s, e), chart in zip(spans, charts) if not chart)
    ids = [int(m) for m in _SHAPE_ID.findall(anchors)]
    head = data[:spans[0][0]]
    foreign = not all(f'xmlns:{prefix}="{ns}"'.encode() in head for prefix, ns in (("xdr", XDR), ("a", A)))
    # Only what the charts alone use goes: a kept anchor's part may be reached through a
    # relationship no anchor names (SmartArt's cached drawing, named by its data part's
    # dsp:dataModelExt relId), which LibreOffice draws the SmartArt from.
    dropped = relationship_ids(head, b"".join(data[s:e] for (s, e), chart in zip(spans, charts) if chart)) \
        - relationship_ids(head, anchors)
    rel_ids = frozenset(rel.id for rel in read_rels(pkg, drawing) if rel.id not in dropped)
    return KeptDrawing(drawing, head, anchors, data[spans[-1][1]:], rel_ids, max(ids, default=0) + 1, foreign)


def top_level_children(data: bytes, part: str) -> list[tuple[int, int]]:
    """The byte spans of the root's children. expat, not a regular expression: anchors hold
    mc:AlternateContent and groups of their own, and only a parser knows the depth."""
    parser = expat.ParserCreate()
    spans: list[tuple[int, int]] = []
    depth, start = 0, 0

    def opened(name, attrs):
        nonlocal depth, start
        depth += 1
        if depth == 2:
            start = parser.CurrentByteIndex

    def closed(name):
        nonlocal depth
        if depth == 2:
            at = parser.CurrentByteIndex
            if data.startswith(b"</", at):
                spans.append((start, data.index(b">", at) + 1))
            else:                                   # <x/>: expat reports its end where it began
                spans.append((start, START_TAG.match(data, start).end()))
        depth -= 1

    parser.StartElementHandler, parser.EndElementHandler = opened, closed
    try:
        parser.Parse(data, True)
    except (expat.ExpatError, AttributeError):
        raise PackageError(f"ブックの部品「{part}」が壊れています（図形の並びを読めません）") from None
    return spans


def relationship_ids(head: bytes, anchors: bytes) -> set[str]:
    """Every value of an attribute in the relationships namespace (r:embed of a picture,
    r:id of a hyperlink or a chart, r:dm of SmartArt, …) that ``anchors`` carry."""
    prefixes = set(re.findall(rb'xmlns:([\w.-]+)="' + re.escape(_REL_NS) + b'"', head + anchors))
    if not prefixes:
        return set()
    attr = re.compile(rb'\s(?:' + b"|".join(re.escape(p) for p in prefixes) + rb'):[\w.-]+="([^"]*)"')
    return {m.decode("utf-8") for m in attr.findall(anchors)}


def kept_parts(pkg: Package, kept: KeptDrawing) -> set[str]:
    """The drawing and every part its kept relationships reach (the pictures' media,
    SmartArt's parts), which the sheet's rebuild must not remove."""
    return {kept.part} | reachable(pkg, [rel.part for rel in read_rels(pkg, kept.part)
                                         if rel.id in kept.rel_ids and rel.part])


def write_kept(pkg: Package, kept: KeptDrawing, charts: str) -> None:
    """The drawing written again: the kept anchors, then the tool's ``charts`` (anchors made
    by package.chart.chart_anchors, declaring their own prefixes where ``foreign_prefixes``);
    of its relationships, those in ``rel_ids`` stay byte for byte and the old charts' go."""
    for rel in read_rels(pkg, kept.part):
        if rel.id not in kept.rel_ids:
            remove_rel(pkg, kept.part, rel.id)
    pkg.write(kept.part, kept.head + kept.anchors + charts.encode("utf-8") + kept.tail)

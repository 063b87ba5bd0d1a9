"""What a rebuilt tool sheet keeps of its slicers and timelines: a slicer staff placed on 集計
to filter a table of their own, as Excel's Clear All leaves it on the buttons' face
(excel.book.LiveBook.clear_sheet).

A slicer lives in three places: a graphic frame in the sheet's drawing (package.drawing keeps
it, as it is no chart), the slicer's own part (xl/slicers, one relationship of the sheet part)
and the sheet part's list of them (an <ext> of its <extLst>: x14:slicerList, x15:timelineRefs
for a timeline). The file face writes the sheet part anew, so without this the list and the
slicer part went with the old sheet while the drawing kept the frame: a drawing naming a
slicer the book no longer has, which Excel repairs. Here the <ext> elements holding the lists
are carried verbatim into the new sheet part (their namespace declarations made on them) with
the relationships they name, and the slicer parts stay. The slicer caches are the workbook's
and never touched.
"""

# No ``from __future__ import annotations``: see package.drawing (NamedTuple at import).

import re
from typing import NamedTuple, Optional

from .controls import declared
from .sheet_tail import sheet_root, sheet_tail
from .drawing import relationship_ids, top_level_children
from .rels import T_SLICER, T_TIMELINE, reachable, read_rels
from .zipped import Package


_EXT_LST = re.compile(rb'<(?:[\w.-]+:)?extLst[\s>]')
_LISTS = re.compile(rb'<(?:[\w.-]+:)?(?:slicerList|timelineRefs)[\s>]')


class KeptSlicers(NamedTuple):
    exts: bytes     # the <ext> elements holding the lists, for the new part's <extLst>
    rels: tuple     # (id, type, target) of the sheet's relationships they name


def kept_slicers(pkg: Package, sheet_part: str) -> Optional[KeptSlicers]:
    """The slicer and timeline lists of ``sheet_part`` that outlive its rebuild: None when the
    sheet has no slicer or timeline relationship (the sheet part is then not read)."""
    from .xml import PackageError

    rels = read_rels(pkg, sheet_part)
    if not any(r.type in (T_SLICER, T_TIMELINE) for r in rels):
        return None
    old_root = sheet_root(pkg, sheet_part)
    tail = sheet_tail(pkg, sheet_part)
    try:
        spans = top_level_children(b"<r>" + tail + b"</r>", sheet_part)
        ext_lst = next((tail[s - 3:e - 3] for s, e in spans if _EXT_LST.match(tail, s - 3)), b"")
        children = top_level_children(ext_lst, sheet_part) if ext_lst else []
    except PackageError:
        return None
    exts = b"".join(declared(ext_lst[s:e], old_root) for s, e in children if _LISTS.search(ext_lst, s, e))
    if not exts:
        return None
    ids = relationship_ids(old_root, exts)
    return KeptSlicers(exts, tuple((r.id, r.type, r.target) for r in rels if r.id in ids))


def kept_parts(pkg: Package, kept: KeptSlicers, sheet_part: str) -> set[str]:
    """The slicer parts and what they reach, which the sheet's rebuild must not remove."""
    ids = {rel[0] for rel in kept.rels}
    return reachable(pkg, {r.part for r in read_rels(pkg, sheet_part) if r.id in ids and r.part})


T_SLICER_CACHE = "http://schemas.microsoft.com/office/2007/relationships/slicerCache"
_TABLE_ID = re.compile(r'<(?:[\w.-]+:)?tableSlicerCache\b[^<>]*?\stableId="([^"]*)"')
_CACHE_NAME = re.compile(r'<(?:[\w.-]+:)?slicerCacheDefinition\b[^<>]*?\sname="([^"]*)"')


def drop_table_slicers(pkg: Package, workbook, types, table_ids) -> list[str]:
    """The slicers of the tables ``table_ids`` (ids of the table parts a rebuild dropped,
    package.tables) taken out of the book, as Excel deletes a table's slicers with the table:
    a slicer cache naming a table the book no longer has is one Excel repairs away, and with
    it the slicers and their frames. Here go the workbook's slicer cache of each such table
    (its part, relationship, entry in the workbook's list and its defined name), each slicer
    of that cache (from its slicer part, or the part with the sheet's relationship and list
    entry when it held no other), and the slicer's frame in its sheet's drawing. Returns the
    names of the slicers removed."""
    from .drawing import drawing_of
    from .rels import remove_rel, rels_part

    caches = _caches_of(pkg, workbook, table_ids)
    if not caches:
        return []
    removed: list[str] = []
    for entry in workbook.sheets:
        if not entry.part or entry.part not in pkg:
            continue
        names_here: list[str] = []
        for rel in read_rels(pkg, entry.part):
            if rel.type != T_SLICER or not rel.part or rel.part not in pkg:
                continue
            text = pkg.text(rel.part)
            gone = [m for m in _SLICER.finditer(text) if _attr(m.group(0), "cache") in caches]
            if not gone:
                continue
            names_here += [_attr(m.group(0), "name") for m in gone]
            for m in reversed(gone):
                text = text[:m.start()] + text[m.end():]
            if _SLICER.search(text):
                pkg.write(rel.part, text)
                continue
            for name in (rel.part, rels_part(pkg, rel.part)):
                if name in pkg:
                    pkg.remove(name)
                    types.remove(name)
            remove_rel(pkg, entry.part, rel.id)
            pkg.write(entry.part, _without_list_entry(pkg.text(entry.part), rel.id, "slicerList"))
        drawing = drawing_of(pkg, entry.part) if names_here else None
        if drawing and drawing in pkg:
            _drop_frames(pkg, drawing, names_here)
        removed += names_here
    for name, (rid, part) in caches.items():
        for gone in (part, rels_part(pkg, part)):
            if gone in pkg:
                pkg.remove(gone)
                types.remove(gone)
        remove_rel(pkg, workbook.part, rid)
        workbook.text = _without_list_entry(workbook.text, rid, "slicerCaches")
        workbook.dirty = True
        for n in [n for n in workbook.names if n.name == name]:
            workbook.set_name(n.name, n.local_sheet, None)
    return removed


# The name ends at whitespace, / or >: with \b, 「<slicer.x>」 and 「<slicer-x>」 (other elements)
# began a match whose ``.*?`` ran to the part's end for each of them (qa-fuzz62-1).
_SLICER = re.compile(r'<(?:[\w.-]+:)?slicer(?=[\s/>])[^<>]*?(?:/>|>.*?</(?:[\w.-]+:)?slicer>)', re.S)


def _caches_of(pkg: Package, workbook, table_ids) -> "dict[str, tuple[str, str]]":
    """The workbook's slicer caches of the tables ``table_ids``: name → (relationship id, part)."""
    from .xml import unescape

    ids = {str(i) for i in table_ids}
    caches: dict[str, tuple[str, str]] = {}
    for rel in read_rels(pkg, workbook.part):
        if rel.type == T_SLICER_CACHE and rel.part and rel.part in pkg:
            text = pkg.text(rel.part)
            table, name = _TABLE_ID.search(text), _CACHE_NAME.search(text)
            if table and name and table.group(1) in ids:
                caches[unescape(name.group(1))] = (rel.id, rel.part)
    return caches


def _attr(element: str, name: str) -> str:
    from .xml import unescape

    m = re.search(r'\s' + name + r'="([^"]*)"', element)
    return unescape(m.group(1)) if m else ""


def _without_list_entry(text: str, rid: str, list_tag: str) -> str:
    """``text`` (a sheet or workbook part) without the list entry naming ``rid`` (a slicer in a
    slicerList, a cache in slicerCaches); a list left empty goes with the <ext> holding only
    it, an <extLst> left empty with that: an empty list is not valid, and Excel repairs it."""
    rid = re.escape(rid)
    text = re.sub(r'<(?:[\w.-]+:)?(?:slicerCache|slicer)\b[^<>]*?\sr:id="' + rid + r'"\s*/>', "", text, count=1)
    empty = re.search(r'<((?:[\w.-]+:)?' + list_tag + r')\b[^<>]*>\s*</\1>|<(?:[\w.-]+:)?' + list_tag + r'\b[^<>]*/>', text)
    if empty is None:
        return text
    opening = None
    for opening in re.finditer(r'<(?:[\w.-]+:)?ext\b[^<>]*>', text[:empty.start()]):
        pass
    closing = re.compile(r'\s*</(?:[\w.-]+:)?ext>').match(text, empty.end())
    if opening is None or closing is None or text[opening.end():empty.start()].strip():
        return text[:empty.start()] + text[empty.end():]
    text = text[:opening.start()] + text[closing.end():]
    return re.sub(r'<((?:[\w.-]+:)?extLst)\b[^<>]*>\s*</\1>', "", text, count=1)


def _drop_frames(pkg: Package, drawing: str, names) -> None:
    """The drawing without the top-level anchors of the slicers ``names``."""
    from .xml import PackageError, attr

    data = pkg.read(drawing)
    try:
        spans = top_level_children(data, drawing)
    except PackageError:
        return
    wanted = [re.compile(rb'<(?:[\w.-]+:)?slicer\b[^<>]*?\sname="' + re.escape(attr(n).encode())
                         + rb'"') for n in names]
    gone = [(s, e) for s, e in spans if any(w.search(data, s, e) for w in wanted)]
    for s, e in reversed(gone):
        data = data[:s] + data[e:]
    if gone:
        pkg.write(drawing, data)

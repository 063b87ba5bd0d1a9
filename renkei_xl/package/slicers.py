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

from .controls import WORKSHEET_ROOT, after_cells, declared
from .drawing import relationship_ids, top_level_children
from .rels import reachable, read_rels
from .zipped import Package

T_SLICER = "http://schemas.microsoft.com/office/2007/relationships/slicer"
T_TIMELINE = "http://schemas.microsoft.com/office/2011/relationships/timeline"

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
    data = pkg.read(sheet_part)
    root = WORKSHEET_ROOT.search(data)
    old_root = root.group(0) if root else b""
    tail = data[after_cells(data):data.rfind(b"</")]
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

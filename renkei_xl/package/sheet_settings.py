"""What a rebuilt tool sheet keeps of the settings staff made for the sheet as a whole: its
custom views (表示 > ユーザー設定のビュー) with the printer settings they name, cell watches
(ウォッチ ウィンドウ), ranges users may edit under protection (範囲の編集を許可), scenarios,
consolidation settings, custom properties, web publishing items and the background picture;
and of ページ設定, the headers and footers with their pictures (legacyDrawingHF) and the
sheet's printer settings, which the plan's page setup is merged with (package.page_kept).

The buttons clear a tool sheet with Excel's Clear All of its cells
(excel.book.LiveBook.clear_sheet). Microsoft documents Range.Clear as clearing "the entire
object", its example "the formulas and formatting" of the range; none of these belongs to a
cell, and Clear All is taken to leave them, as it leaves the sheet's tab and window
(package.sheet_window) — assumed, docs/excel-model.md check 20. The file face writes the sheet
part anew, so without this every one of them went with the old part while the buttons kept
them: a custom view or a watch lost on one face only, and a custom view whose pageSetup
named (r:id) a printer-settings part the rebuild removed.

The sheet's protection, while it is on, is carried the same way: the buttons lift it to
write and protect the sheet again with its own options (excel.book.LiveBook.writable), and
refuse a sheet with a password before anything is written; the file face, which needs no
lifting, kept neither before and wrote the tool's protection over both — staff's options
reset on one face only, and their password silently dropped.

What Clear All removes with the cells goes on both faces: data validations, ignored-error
flags, sparklines and staff's conditional formats (each a setting of cells; the buttons
also clear the conditional formats themselves), so the file face keeps none of them; every
face names the validations, ignored-error flags and sparklines as they go (package.cell_settings).

The elements are carried verbatim into the new part (the namespace declarations they used
from the old root made on them), with the sheet's relationships they name and the parts
those reach (a custom view's printerSettings*.bin, the background's image).
"""

# No ``from __future__ import annotations``: see package.drawing (NamedTuple at import).

import re
from typing import NamedTuple, Optional

from ..core.lazy_pattern import LazyPattern
from .controls import declared
from .protection import sheet_protected
from .sheet_tail import sheet_root, sheet_tail
from .drawing import relationship_ids, top_level_children
from .rels import reachable, read_rels
from .xml import REL_NS
from .zipped import Package

# CT_Worksheet's children that Clear All of the cells leaves, by local name: carried verbatim.
KEPT = ("protectedRanges", "scenarios", "dataConsolidate", "customSheetViews", "customProperties",
        "cellWatches", "legacyDrawingHF", "drawingHF", "picture", "webPublishItems")
# Those the plan's page setup changes in part, merged with it (package.page_kept).
MERGED = ("pageSetup", "headerFooter")
# The sheet's protection while it is on: every button lifts it to write and puts it back as
# it was (staff's options, and a password, which stops a click before it writes), so the
# rebuild carries it too; only a sheet left unprotected gets the plan's own protection
# (workbook.apply.render_sheet).
PROTECTION = "sheetProtection"
_ANY = re.compile(rb'<(?:[\w.-]+:)?(?:' + b"|".join(k.encode() for k in (*KEPT, PROTECTION)) + rb')[\s/>]')
# What the tool's own page never writes: a header, an even or first page's header or footer,
# a footer's left or right section, a switch of <headerFooter>, the printer settings' r:id.
# Any of them means staff's page settings (a tail without one is not parsed).
_STAFF_PAGE = LazyPattern(rb'<(?:[\w.-]+:)?(?:oddHeader|evenHeader|evenFooter|firstHeader|firstFooter)[\s>]'
                         rb'|<(?:[\w.-]+:)?headerFooter\s+\w|&amp;[LR]|<(?:[\w.-]+:)?pageSetup\b[^<>]*?\s[\w.-]+:id=')
_NAME = re.compile(rb'<(?:[\w.-]+:)?([\w.-]+)')
_R_DECLARED = b' xmlns:r="' + REL_NS.encode() + b'"'


class KeptSettings(NamedTuple):
    elements: dict      # local name -> the element, verbatim but for namespace declarations
    rels: tuple         # (id, type, target) of the sheet's relationships they name


def kept_settings(pkg: Package, sheet_part: str) -> Optional[KeptSettings]:
    """The sheet-level settings of ``sheet_part`` that outlive its rebuild: None when it has
    none. Only the part past <sheetData> is searched and parsed."""
    from .xml import PackageError

    if sheet_part not in pkg:
        return None
    tail = sheet_tail(pkg, sheet_part)
    if not (_ANY.search(tail) or _STAFF_PAGE.search(tail)):
        return None
    # The new root binds r as the old one did (workbook.apply.render_sheet): not repeated.
    old_root = sheet_root(pkg, sheet_part)
    others = old_root.replace(_R_DECLARED, b"")
    try:
        spans = top_level_children(b"<r>" + tail + b"</r>", sheet_part)
    except PackageError:
        return None
    elements: dict = {}
    for s, e in spans:
        element = tail[s - 3:e - 3]
        name = _NAME.match(element).group(1).decode("utf-8")
        if name in KEPT or name in MERGED or (name == PROTECTION and sheet_protected(element)):
            elements[name] = declared(element, others)
    if not elements:
        return None
    ids = relationship_ids(old_root, b"".join(elements.values()))
    return KeptSettings(elements, tuple((r.id, r.type, r.target) for r in read_rels(pkg, sheet_part)
                                        if r.id in ids))


def kept_parts(pkg: Package, kept: KeptSettings, sheet_part: str) -> set:
    """The parts the kept settings name and every part they reach, which the rebuild keeps."""
    ids = {rel[0] for rel in kept.rels}
    return reachable(pkg, {r.part for r in read_rels(pkg, sheet_part) if r.id in ids and r.part})

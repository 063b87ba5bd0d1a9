"""What a rebuilt tool sheet keeps of how staff see it: its tab colour, its window's
zoom, gridlines, headings, zero display, page view and the rest of sheetView's settings,
and the widths staff gave its columns (those the plan does not size: SheetPlan.kept_widths).

The buttons clear a tool sheet with Excel's Clear All, which empties the cells and leaves
the sheet's tab and window as they were (excel.book.LiveBook.clear_sheet). The file face
writes the sheet part anew, so without this a red tab on 一覧 or 集計 shown at 85% without
gridlines came back plain at 100% after every command-line run, and the two faces gave
different sheets. The plan decides none of these (core.plan_types.SheetPlan), so they are
the staff's; the plan's own window settings (the frozen pane and its selection) are written
by the sheet's renderer (workbook.apply) and never taken from here.

Kept as the attributes were written, values escaped as they are in the part. Only the
attributes CT_SheetView and CT_Color define are kept: an attribute of another namespace
(xr:uid) would need a declaration the new part does not make, and topLeftCell names a
scroll position in the old content.
"""

import re
from typing import NamedTuple

from .columns import ATTRIBUTE
from .zipped import Package

_VIEW = re.compile(r"<(?:[\w.-]+:)?sheetView\b([^<>]*?)/?>")
# Its content: anything but another sheetPr's start or end tag, taken whole (possessive): from
# thousands of 「<sheetPr-x>」 or 「<sheetPr>」 in a comment, ``.*?`` searched the rest of the
# part for an end tag from each (patterns62).
_PR = re.compile(r"<(?:[\w.-]+:)?sheetPr(?=[\s/>])[^<>]*?(?:/>|>((?:[^<]++|<(?!/?(?:[\w.-]+:)?sheetPr[\s/>]))*+)"
                 r"</(?:[\w.-]+:)?sheetPr>)", re.S)
_TAB = re.compile(r"<(?:[\w.-]+:)?tabColor\b([^<>]*?)/?>")
# <cols>' start and end tags, found one after the other (a lazy match of the content from
# each start tag searched the rest of a hostile part again from every 「<cols>」).
_COLS, _COLS_END = re.compile(r"<(?:[\w.-]+:)?cols\b[^<>]*>"), re.compile(r"</(?:[\w.-]+:)?cols>")
_COL = re.compile(r"<(?:[\w.-]+:)?col\b([^<>]*?)/?>")

# CT_SheetView's attributes but tabSelected (workbook.apply keeps it itself), workbookViewId
# (the renderer writes the one view, of window 0) and topLeftCell (see above), in its order.
VIEW_ATTRIBUTES = ("windowProtection", "showFormulas", "showGridLines", "showRowColHeaders", "showZeros",
                   "rightToLeft", "showRuler", "showOutlineSymbols", "defaultGridColor",
                   "showWhiteSpace", "view", "colorId", "zoomScale", "zoomScaleNormal",
                   "zoomScaleSheetLayoutView", "zoomScalePageLayoutView")
COLOR_ATTRIBUTES = ("auto", "indexed", "rgb", "theme", "tint")


class SheetWindow(NamedTuple):
    tab_color: str = ""     # a <tabColor/> element for sheetPr, or ""
    view: str = ""          # attributes for the <sheetView> start tag, each with its leading space
    widths: tuple = ()      # (first column, last column, width) of each column staff sized


def _kept(attrs: str, allowed: tuple) -> str:
    found = {name: value for name, value in ATTRIBUTE.findall(attrs)}
    return "".join(f" {name}={found[name]}" for name in allowed if name in found)


def sheet_window(top: str) -> SheetWindow:
    """The tab colour and first window's settings of a worksheet, from its text before the
    cells (sheet_top); nothing for a sheet that had none or no part."""
    tab = ""
    pr = _PR.search(top)
    if pr and pr.group(1):
        m = _TAB.search(pr.group(1))
        colour = _kept(m.group(1), COLOR_ATTRIBUTES) if m else ""
        tab = f"<tabColor{colour}/>" if colour else ""
    view = _VIEW.search(top)
    return SheetWindow(tab, _kept(view.group(1), VIEW_ATTRIBUTES) if view else "", column_widths(top))


def _col_runs(top: str) -> list[dict[str, str]]:
    """The attributes (name → value, unquoted) of each <col> run of <cols>, in a worksheet's
    text before its cells: what hidden_columns and column_widths each read of them."""
    start = _COLS.search(top)
    if start is None:
        return []
    end = _COLS_END.search(top, start.end())
    return [{name: value[1:-1] for name, value in ATTRIBUTE.findall(m.group(1))}
            for m in _COL.finditer(top, start.end(), end.start() if end else len(top))]


def hidden_columns(top: str) -> tuple:
    """(first, last) of each <col> that hides its columns (hidden, or a width of 0), from a
    worksheet's text before its cells: 「使わない列を非表示」 hides H:XFD after a table, and a
    column the tool writes there is one staff never see (core.rollover.hidden_previous)."""
    out = []
    for found in _col_runs(top):
        try:
            if found.get("hidden") in ("1", "true") or float(found.get("width", "1")) == 0:
                out.append((int(found["min"]), int(found["max"])))
        except (KeyError, ValueError):
            continue
    return tuple(out)


def column_widths(top: str) -> tuple:
    """The custom widths of <cols> (customWidth set): (min, max, width) each. Excel's Clear All
    leaves them (LiveBook.clear_sheet), so the rebuild writes those of the columns its plan
    does not size. A column whose numbers or width do not read is left out (its default)."""
    out = []
    for found in _col_runs(top):
        if found.get("customWidth") not in ("1", "true"):
            continue
        try:
            out.append((int(found["min"]), int(found["max"]), float(found["width"])))
        except (KeyError, ValueError):
            continue
    return tuple(out)


TOP_BYTES = 65_536
_SHEET_DATA = re.compile(rb"<(?:\w+:)?sheetData[\s/>]")


def sheet_top(pkg: Package, part: str) -> str:
    """A worksheet's text before its cells (sheetPr, sheetViews …): the code names and the
    selected tab are read from every sheet of a macro master, twice a write, and a large
    sheet (a municipality's, the 一覧 just written) need not be inflated whole for them.
    Comments and processing instructions are left out of it (Package.top): 「<!-- <sheetPr
    codeName="X"/> -->」 before the real one was read as the sheet's code name (comments62)."""
    head, cut = pkg.top(part, TOP_BYTES)
    m = _SHEET_DATA.search(head)
    if m:
        return head[:m.start()].decode("utf-8", "replace")
    return (pkg.top(part)[0] if cut else head).decode("utf-8", "replace")

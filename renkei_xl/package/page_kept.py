"""The staff's page settings a rebuilt tool sheet keeps, merged with the plan's page.

The buttons rebuild a tool sheet by clearing its cells (excel.book.LiveBook.clear_sheet) and
setting the plan's page through PageSetup's properties: on Windows only those of
excel.desktop.com_page_setup (CenterFooter of the header/footer), on the remote engine and
the Mac fewer still. Everything else staff set in ページ設定 stays there: their headers, the
left and right footers, the first-page and even-page ones with the switches that turn them on,
the pictures of a header (&G, kept in the sheet's legacyDrawingHF part) and the printer
settings Excel saves for the sheet (printerSettings*.bin, which pageSetup names by r:id).

The file face writes the sheet part anew, so without this it wrote the plan's centre footer
alone: a staff header or a page number on the right went on the command line only. Here the
old elements (package.sheet_settings finds them with the relationships they name) are merged:
the plan's footer takes the odd footer's centre section, as CenterFooter does, and every
other section, header and attribute is the staff's.

Hand-written rather than openpyxl's header/footer model: that one re-renders every section
from its own fields, and reading the workbook with openpyxl is not on the write path.
"""

from __future__ import annotations

from typing import Optional

from .xml import MAIN_NS, REL_NS, attr, escape, parse

# CT_HeaderFooter's children and attributes, in the schema's order (ECMA-376 Part 1, 18.3.1.46).
HF_CHILDREN = ("oddHeader", "oddFooter", "evenHeader", "evenFooter", "firstHeader", "firstFooter")
HF_ATTRIBUTES = ("differentOddEven", "differentFirst", "scaleWithDoc", "alignWithMargins")
# CT_PageSetup's attributes the plan does not decide (it writes paperSize, orientation and the
# fit, as com_page_setup sets them); the printer settings' r:id is kept besides.
SETUP_KEPT = ("firstPageNumber", "pageOrder", "blackAndWhite", "draft", "cellComments", "useFirstPageNumber",
              "errors", "horizontalDpi", "verticalDpi", "copies")
_WRAP = f'<w xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
SECTIONS = "LCR"


def _element(kept: Optional[str]):
    """The kept element parsed (it may rely on the old root's default namespace), or None."""
    if not kept:
        return None
    root = parse((_WRAP + kept + "</w>").encode("utf-8"), "headerFooter")
    return root[0] if len(root) else None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def sections(text: str) -> dict[str, str]:
    """A header or footer's left, centre and right sections (&L, &C, &R); text before any
    of them is the centre's, as Excel shows it. "&&" is a literal ampersand, not a code."""
    out = dict.fromkeys(SECTIONS, "")
    current, at, start = "C", 0, 0
    while at < len(text) - 1:
        if text[at] != "&":
            at += 1
        elif text[at + 1] in SECTIONS:
            out[current] += text[start:at]
            current, at = text[at + 1], at + 2
            start = at
        else:
            at += 2
    out[current] += text[start:]
    return out


def with_centre(text: str, centre: str) -> str:
    """``text`` with its centre section replaced by ``centre`` (none when ""), as PageSetup's
    CenterFooter sets it and leaves the left and right sections."""
    parts = sections(text)
    parts["C"] = centre
    return "".join(f"&{k}{parts[k]}" for k in SECTIONS if parts[k])


def odd_footer(kept: Optional[str], centre_footer: str) -> str:
    """The odd pages' footer header_footer writes: the staff's sections with the plan's centre."""
    old = _element(kept)
    child = next((c for c in old if _local(c.tag) == "oddFooter"), None) if old is not None else None
    return with_centre(child.text or "" if child is not None else "", centre_footer)


def header_footer(kept: Optional[str], centre_footer: str) -> str:
    """The new part's <headerFooter>: the staff's (``kept``, the old part's element, or
    None) with the plan's odd-page centre footer (``centre_footer``, codes and text after
    &C, or "" for none); "" when nothing is left."""
    old = _element(kept)
    texts = {name: "" for name in HF_CHILDREN}
    attrs = ""
    if old is not None:
        for child in old:
            if _local(child.tag) in texts:
                texts[_local(child.tag)] = child.text or ""
        attrs = "".join(f' {name}="{attr(old.get(name))}"' for name in HF_ATTRIBUTES if old.get(name) is not None)
    texts["oddFooter"] = with_centre(texts["oddFooter"], centre_footer)
    body = "".join(f"<{name}>{escape(texts[name])}</{name}>" for name in HF_CHILDREN if texts[name])
    return f"<headerFooter{attrs}>{body}</headerFooter>" if body or attrs else ""


def page_setup_attributes(kept: Optional[str]) -> str:
    """The attributes of the old part's <pageSetup> (``kept``) the new one carries after the
    plan's: the staff's print order, draft and the like, and the printer settings' r:id."""
    old = _element(kept)
    if old is None:
        return ""
    out = "".join(f' {name}="{attr(old.get(name))}"' for name in SETUP_KEPT if old.get(name) is not None)
    rid = old.get(f"{{{REL_NS}}}id")
    return out + (f' r:id="{attr(rid)}"' if rid else "")

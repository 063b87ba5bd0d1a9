"""A staff sheet's column given a width in its part's ``<cols>``, every other byte kept.

A ``<col min max>`` run holds every setting of its columns (width, format, hidden, outline):
the column asked for is cut out of the run that covers it, the run's other columns keep
the run as it was written (「使わない列を非表示」's H:XFD stays hidden from I on), and the
column keeps the run's other settings with the width set. A column no run covers gets a
run of its own, in column order, and a part without ``<cols>`` gets one before its cells,
where the format puts it.
"""

import re
from functools import lru_cache

from .xml import PackageError, element_span, index_text

# One attribute of a start tag's text (name, quoted value). A name starts where no name
# character stands before it: searched from every place in a run of name characters, each
# attempt read the run to its end, and a hostile <col> of 32,767 such characters took 9 s.
ATTRIBUTE = re.compile(r"""(?<![\w.:-])([\w.:-]+)\s*=\s*("[^"]*"|'[^']*')""")


@lru_cache(maxsize=8)
def _col_pattern(prefix: str) -> "re.Pattern[str]":
    """A <col> element with the part's prefix: empty (as applications write it) or with an
    end tag and nothing but white space before it."""
    p = re.escape(prefix)
    return re.compile(r"<" + p + r"col\b([^<>]*?)(?:/>|>\s*</" + p + r"col>)")


def with_column_width(text: str, prefix: str, col: int, width: float, part: str) -> str:
    """``text`` (a worksheet part) with column ``col`` ``width`` wide (Excel's unit)."""
    data = element_span(text, prefix + "sheetData")
    if data is None:
        raise PackageError(f"シートの部品「{part}」にセルの領域（sheetData）がありません")
    alone = _tag(prefix, [], col, col, width)
    cols = element_span(text[:data[0]], prefix + "cols")
    if cols is None:
        return f"{text[:data[0]]}<{prefix}cols>{alone}</{prefix}cols>{text[data[0]:]}"
    start, inner, inner_end, end = cols
    if inner == inner_end:      # <cols/>
        return f"{text[:start]}<{prefix}cols>{alone}</{prefix}cols>{text[end:]}"
    for m in _col_pattern(prefix).finditer(text, inner, inner_end):
        attrs = ATTRIBUTE.findall(m.group(1))
        found = dict(attrs)
        if "min" not in found:
            raise PackageError(f"シートの部品「{part}」が壊れています（列の範囲 min がありません）")
        first = index_text(found["min"][1:-1], "min", part)
        last = index_text(found["max"][1:-1], "max", part) if "max" in found else first
        if last < col:
            continue
        if first > col:         # the runs are in column order: none covers the column
            return text[:m.start()] + alone + text[m.start():]
        split = (_tag(prefix, attrs, first, col - 1) if first < col else "") + _tag(prefix, attrs, col, col, width) \
            + (_tag(prefix, attrs, col + 1, last) if col < last else "")
        return text[:m.start()] + split + text[m.end():]
    return text[:inner_end] + alone + text[inner_end:]


def _tag(prefix: str, attrs: list, first: int, last: int, width: float = 0.0) -> str:
    """A run of ``attrs`` (as written, in their order) over ``first``..``last``; with
    ``width``, that width as staff would set it (customWidth; an auto-fit mark dropped)."""
    set_to = {"min": str(first), "max": str(last)}
    if width:
        set_to.update(width=f"{width:g}", customWidth="1")
    out = []
    for name, quoted in attrs:
        if width and name == "bestFit":
            continue
        out.append(f'{name}="{set_to.pop(name)}"' if name in set_to else f"{name}={quoted}")
    out += [f'{name}="{value}"' for name, value in set_to.items()]
    return f"<{prefix}col {' '.join(out)}/>"

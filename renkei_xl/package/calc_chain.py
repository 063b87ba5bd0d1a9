"""xl/calcChain.xml: the order in which Excel last calculated the workbook's formulas.

Excel writes it whenever a workbook holds a formula, and meets a chain that names a cell
holding no formula with 「一部の内容に問題が見つかりました。修復しますか?」 ("Removed Records:
Formula from /xl/calcChain.xml part"). A write that puts a value where a formula was (a tool
sheet rebuilt, a staff cell filled) therefore drops the whole part, its relationship and its
Override: Excel rebuilds the chain when it next calculates (the Open XML SDK's maintainers
and openxlsx2 do the same; editing entries would have to follow the ``i`` attribute, which
an entry without one takes from the entry before). A write that replaces no chained cell
leaves the three parts as they were.
"""

from __future__ import annotations

from typing import Iterable, Optional

from .rels import ContentTypes, read_rels, remove_rel
from .xml import MAIN_NS, parse, q
from .zipped import Package

T_CALC_CHAIN = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/calcChain"


def chain_part(pkg: Package, workbook_part: str) -> Optional[tuple[str, str]]:
    """(relationship id, part name) of the workbook's calculation chain, if it has one."""
    for rel in read_rels(pkg, workbook_part):
        if rel.type == T_CALC_CHAIN and rel.part:
            return rel.id, rel.part
    return None


def chained_cells(pkg: Package, part: str) -> set[tuple[str, str]]:
    """(sheetId, cell reference) of each entry; an entry without ``i`` is on the sheet of
    the entry before it (ECMA-376 Part 1, 18.6.1)."""
    out, sheet_id = set(), None
    for el in parse(pkg.read(part, parser_read=True), part).iter(q(MAIN_NS, "c")):
        sheet_id = el.get("i", sheet_id)
        out.add((sheet_id or "", el.get("r", "").replace("$", "").upper()))
    return out


def drop_if_replaced(pkg: Package, workbook_part: str, types: ContentTypes, rebuilt_ids: Iterable[str],
                     written: Iterable[tuple[str, str]]) -> bool:
    """Drop the chain when it names a cell of a sheet rebuilt whole (``rebuilt_ids``, sheetIds)
    or a cell the write gave a value (``written``, (sheetId, reference)). Whether it did."""
    found = chain_part(pkg, workbook_part)
    if found is None:
        return False
    rid, part = found
    if part not in pkg:
        return False
    cells = chained_cells(pkg, part)
    rebuilt = set(rebuilt_ids)
    if not any(sheet in rebuilt for sheet, _ in cells) and not cells & set(written):
        return False
    pkg.remove(part)
    remove_rel(pkg, workbook_part, rid)
    types.remove(part)
    return True



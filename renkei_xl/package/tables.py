"""The tables (Excel's ListObjects) staff made on a sheet, as the saved package has them.

A table is a part of its own (xl/tables/tableN.xml, reached by a ``table`` relationship of
the sheet and listed in the sheet's <tableParts>). A sheet the tool rebuilds loses it on
every face: the file face writes the sheet part anew (workbook.apply removes the parts only
the old sheet used), and the buttons' Clear All of every cell deletes a table whose whole
range it covers, as Excel's Clear All of a table's whole range does (excel.book.clear_sheet;
the server's VBA client runs the same Cells.Clear). Here they are read, for
core.list_notes.dropped_tables to name each one as it goes.
"""

from __future__ import annotations

import re

from .rels import T_TABLE, read_rels
from .xml import PackageError, parse
from .zipped import Package



def sheet_tables(pkg: Package, workbook, sheet: str) -> list[tuple[str, str]]:
    """(name, range) of each table on ``sheet`` (a WorkbookXml's sheet), in the order of the
    sheet's relationships: the name as Excel shows it (``displayName``; ``name`` where a
    writer left that out), the range as the part says it ("B10:D14"). None found where the
    sheet cannot be read; a table part that cannot be read is left out."""
    return [(name, ref) for _id, name, ref in _tables(pkg, workbook, sheet)]


def table_ids(pkg: Package, workbook, sheet: str) -> set[str]:
    """The ids of the tables on ``sheet`` (unique in the book: a slicer cache names its table
    by it, package.slicers.drop_table_slicers)."""
    return {table_id for table_id, _name, _ref in _tables(pkg, workbook, sheet) if table_id}


def _tables(pkg: Package, workbook, sheet: str) -> list[tuple[str, str, str]]:
    entry = workbook.sheet(sheet)
    if entry is None or not entry.part or entry.part not in pkg:
        return []
    try:
        rels = read_rels(pkg, entry.part)
    except PackageError:
        return []
    out = []
    for rel in rels:
        if rel.type != T_TABLE or not rel.part or rel.part not in pkg:
            continue
        try:
            root = parse(pkg.read(rel.part, parser_read=True), rel.part)
        except PackageError:
            continue
        out.append((root.get("id") or "", root.get("displayName") or root.get("name") or "",
                    (root.get("ref") or "").replace("$", "")))
    return out


REF_ERROR = "#REF!"


def without_table_refs(formula: str, names) -> str:
    """``formula`` with each structured reference to one of the tables ``names``
    (「予算表[金額]」, 「予算表[[#Headers],[項目]]」, 「予算表[]」) made #REF!, as Excel makes
    them when the table is deleted: a reference to a table the book no longer has is
    one Excel cannot read, and it repairs the file by removing the formula."""
    wanted = {n.lower() for n in names if n}
    if not wanted or "[" not in formula:
        return formula
    out, last = [], 0
    for start, end, name in table_refs(formula):
        if name.lower() in wanted:
            out += [formula[last:start], REF_ERROR]
            last = end
    return "".join(out) + formula[last:] if out else formula


def table_refs(formula: str) -> list[tuple[int, int, str]]:
    """(start, end, table name) of each structured reference in ``formula``. Table names
    are case-insensitive; a name inside a text ("…") or a quoted sheet name is none, nor
    one ending another name (「旧予算表[」) or another book's (「[1]!予算表[」)."""
    found = []
    i, n = 0, len(formula)
    while i < n:
        ch = formula[i]
        if ch in "\"'":                         # a text or a quoted sheet name, doubled quotes inside
            j = i + 1
            while j < n:
                if formula[j] == ch:
                    if j + 1 < n and formula[j + 1] == ch:
                        j += 2
                        continue
                    break
                j += 1
            i = j + 1
            continue
        if _name_char(ch) and (i == 0 or not (_name_char(formula[i - 1]) or formula[i - 1] in "!]")):
            j = i
            while j < n and _name_char(formula[j]):
                j += 1
            end = _bracket_end(formula, j) if j < n and formula[j] == "[" else None
            if end is not None:
                found.append((i, end, formula[i:j]))
                i = end
                continue
            i = j
            continue
        i += 1
    return found


def _name_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_.\\"


def _bracket_end(formula: str, start: int) -> "int | None":
    """The index after the "]" closing the "[" at ``start`` (nested brackets, and the "'"
    that escapes a bracket, "#" or "'" in a column name, taken into account)."""
    depth, i = 0, start
    while i < len(formula):
        ch = formula[i]
        if ch == "'":
            i += 2
            continue
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


_FORMULA = re.compile(r"<((?:[\w.-]+:)?(?:f|formula|formula1|formula2|calculatedColumnFormula|totalsRowFormula))"
                      r"(\s[^<>]*)?>([^<]*)</\1>")


def drop_table_refs(pkg: Package, workbook, names, skip) -> "tuple[set[str], bool]":
    """Every formula of the book that refers to one of the dropped tables ``names`` (the
    cells', conditional formats' and validations' of each worksheet but those named in
    ``skip``, its tables' calculated columns and totals, and the defined names) with that
    reference made #REF!, as Excel leaves them when the buttons' Clear deletes the tables.
    Returns the sheets whose formulas changed and whether a defined name did: their cached
    results are stale now (the caller asks Excel to calculate on load, and records them)."""
    from .xml import escape, unescape

    wanted = [n.lower() for n in names if n]
    sheets: set[str] = set()
    changed_names = False
    if not wanted:
        return sheets, changed_names

    def edit(m: "re.Match[str]") -> str:
        formula = unescape(m.group(3))
        new = without_table_refs(formula, names)
        return m.group(0) if new == formula else f"<{m.group(1)}{m.group(2) or ''}>{escape(new)}</{m.group(1)}>"

    for entry in workbook.sheets:
        if entry.name in skip or not entry.part or not entry.part.startswith("xl/worksheets/") or entry.part not in pkg:
            continue
        tables = [r.part for r in read_rels(pkg, entry.part) if r.type == T_TABLE and r.part and r.part in pkg]
        for part in (entry.part, *tables):
            text = pkg.text(part)
            lowered = text.lower()
            if not any(n + "[" in lowered for n in wanted):
                continue
            new_text = _FORMULA.sub(edit, text)
            if new_text != text:
                pkg.write(part, new_text)
                sheets.add(entry.name)
    for name in list(workbook.names):
        value = without_table_refs(name.value, names)
        if value != name.value:
            workbook.set_name(name.name, name.local_sheet, value, name.hidden)
            changed_names = True
    return sheets, changed_names

"""What a write must not break in the package it writes, checked before the file is written.

Excel meets a package whose parts do not add up (ECMA-376 Part 2, OPC: a relationship to a
part that is not there, a part without a content type, an Override of an absent part, two
part names differing only in case) with 「一部の内容に問題が見つかりました。修復しますか?」, and
the repair drops what it cannot place: for staff, a broken master. So Package.save refuses to
write such a file, and the master stays as it was (the temporary file is never renamed).

Only what this write changed is checked: the parts it added, removed or rewrote, and every
relationship into a part it removed. A fault the file already had is not the write's, and
refusing every write over it would leave staff with no way to work; the tests' checker
(tests/realbooks.package_problems) looks at the whole package. Relationships parts are
small, so this costs a few milliseconds even when a write removes parts and all are read.
"""

from __future__ import annotations

import posixpath
from typing import Callable, Iterable, Optional
from .part_names import part_key, resolve, twin_words
from .xml import CT_NS, PKG_REL_NS, parse, q


def _rels_source(name: str) -> Optional[str]:
    """The part a relationships part belongs to ("xl/_rels/workbook.xml.rels" → "xl/workbook.xml",
    "_rels/.rels" → "" for the package), or None for a part that is not one."""
    folder, base = posixpath.split(name)
    if posixpath.basename(folder) != "_rels" or not base.endswith(".rels"):
        return None
    return posixpath.join(posixpath.dirname(folder), base[:-5])


def write_problems(names: list[str], original: Iterable[str], changed: Iterable[str],
                   read: Callable[[str], bytes]) -> list[str]:
    """The faults this write would leave: ``names`` the parts to be written, ``original`` those
    read, ``changed`` those rewritten (added ones too), ``read`` a part's bytes as written."""
    original = set(original)
    present = {part_key(n) for n in names}
    added = [n for n in names if n not in original]
    removed = {part_key(n) for n in original if n not in set(names)}
    touched = set(changed) | set(added)
    problems = []
    first: dict[str, str] = {}
    for name in names:
        if (seen := first.setdefault(part_key(name), name)) != name:
            problems.append(f"部品名「{part_key(seen)}」が{twin_words(seen, name)}違いで二つあります")

    types = parse(read("[Content_Types].xml"), "[Content_Types].xml")
    defaults = {el.get("Extension", "").lower() for el in types.iter(q(CT_NS, "Default"))}
    overrides = {part_key(el.get("PartName", "").lstrip("/")) for el in types.iter(q(CT_NS, "Override"))}
    types_changed = "[Content_Types].xml" in touched
    for name in names:
        if name == "[Content_Types].xml" or not (name in touched or types_changed):
            continue
        ext = posixpath.basename(name).rsplit(".", 1)[-1].lower() if "." in posixpath.basename(name) else ""
        if part_key(name) not in overrides and ext not in defaults:
            problems.append(f"部品「{name}」に種類（Content Type）がありません")
    if types_changed or removed:
        problems += [f"[Content_Types].xml が、ない部品「/{o}」を指しています"
                     for o in sorted(overrides - present) if types_changed or o in removed]

    for name in names:
        source = _rels_source(name)
        if source is None or not (name in touched or removed):
            continue
        for el in parse(read(name), name).iter(q(PKG_REL_NS, "Relationship")):
            if el.get("TargetMode") == "External":
                continue
            target = resolve(source, el.get("Target", ""))
            if part_key(target) in present:
                continue
            if name in touched or part_key(target) in removed:
                problems.append(f"「{name}」の関係 {el.get('Id', '')} が、ない部品「{target}」を指しています")
    return problems

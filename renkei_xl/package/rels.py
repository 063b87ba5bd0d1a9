"""Relationships parts and [Content_Types].xml: read, and edited by appending or removing
single entries so that every other entry keeps its bytes."""

# No ``from __future__ import annotations``: typing.NamedTuple compiles each string
# annotation (a ForwardRef) when the module is imported, at every command's start.

import re
from typing import NamedTuple, Optional

from .xml import CT_NS, PKG_REL_NS, PackageError, attr, parse, q
from .part_names import part_key, resolve
from .zipped import Package, rels_name

T_WORKSHEET = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
T_DRAWING = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/drawing"
T_CHART = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart"
T_STYLES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"
T_TABLE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/table"
T_SLICER = "http://schemas.microsoft.com/office/2007/relationships/slicer"
T_TIMELINE = "http://schemas.microsoft.com/office/2011/relationships/timeline"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"
CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"


class Rel(NamedTuple):
    id: str
    type: str
    target: str          # as written
    part: Optional[str]  # resolved part name; None for external targets


def rels_part(pkg: Package, part: str) -> str:
    """The relationships part of ``part`` as the package stores it (Package.member: OPC
    compares part names case-insensitively), so that it is read, edited and removed under
    its own name, never written beside it as a second part."""
    return pkg.member(rels_name(part))


def read_rels(pkg: Package, part: str) -> list[Rel]:
    """``part``'s relationships, each target resolved to the member it names
    (Package.member), so that every reader and the write path agree on the part."""
    name = rels_part(pkg, part)
    data = pkg.get(name)
    if data is None:
        return []
    cached = pkg.parsed.get(name)
    if cached is not None and cached[0] == data:
        return list(cached[1])
    out = []
    ids: set[str] = set()
    for el in parse(data, name).iter(q(PKG_REL_NS, "Relationship")):
        rid = el.get("Id", "")
        if rid in ids:   # OPC: unique in the part; a lookup by Id took one and lost the other
            raise PackageError(f"ブックの部品「{name}」に同じ Id（{rid[:40]}）の参照が二つあります（ファイルが壊れています）")
        ids.add(rid)
        target = el.get("Target", "")
        external = el.get("TargetMode") == "External"
        resolved = None if external else resolve(part, target)
        if resolved is not None and (resolved.startswith("../") or resolved == ".."):
            raise PackageError(f"ブックの部品「{name}」が外の場所（{target}）を指しています（ファイルが壊れています）")
        if resolved is not None:
            resolved = pkg.member(resolved)
        out.append(Rel(rid, el.get("Type", ""), target, resolved))
    pkg.parsed[name] = (data, tuple(out))
    return out


def has_rel(pkg: Package, part: str, *types: str) -> bool:
    """Whether ``part`` has a relationship of one of ``types``; True where its relationships
    cannot be read, so that the reader of that kind says why. Asked before a reader of a
    rare kind (a table, a slicer) is imported: most sheets have none, and each such module
    costs a command's start a few hundred microseconds of patterns."""
    if part not in pkg:
        return False
    try:
        return any(rel.type in types for rel in read_rels(pkg, part))
    except PackageError:
        return True


def reachable(pkg: Package, start) -> set[str]:
    """``start`` and every part they reach through relationships, as far as it goes: what a
    part kept by a rebuild still needs (package.drawing, package.controls)."""
    seen: set[str] = set()
    todo = list(start)
    while todo:
        part = todo.pop()
        if part in seen or part not in pkg:
            continue
        seen.add(part)
        todo.extend(rel.part for rel in read_rels(pkg, part) if rel.part)
    return seen


def write_rels(pkg: Package, part: str, rels: list[tuple[str, str, str]]) -> None:
    """A relationships part written whole, for parts the tool owns (id, type, target)."""
    name = rels_part(pkg, part)
    if not rels:
        pkg.remove(name)
        return
    body = "".join(f'<Relationship Id="{attr(i)}" Type="{attr(t)}" Target="{attr(tg)}"/>' for i, t, tg in rels)
    pkg.write(name, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    f'<Relationships xmlns="{PKG_REL_NS}">{body}</Relationships>')


def add_rel(pkg: Package, part: str, type_: str, target: str, rid: Optional[str] = None) -> str:
    """Append one relationship to ``part``'s relationships (made when it has none), under
    ``rid`` or the first free Id; returns its Id."""
    name = rels_part(pkg, part)
    if name not in pkg:
        rid = rid or "rId1"
        write_rels(pkg, part, [(rid, type_, target)])
        return rid
    text = pkg.text(name)
    taken = set(re.findall(r'\bId="([^"]*)"', text))
    if rid is None:
        n = 1
        while f"rId{n}" in taken:
            n += 1
        rid = f"rId{n}"
    elif rid in taken:
        raise ValueError(f"{name} already has {rid}")
    end = text.rfind("</Relationships>")
    pkg.write(name, text[:end] + f'<Relationship Id="{attr(rid)}" Type="{attr(type_)}" Target="{attr(target)}"/>' + text[end:])
    return rid


def remove_rel(pkg: Package, part: str, rid: str) -> None:
    """Remove one relationship of ``part`` by its Id; every other byte of the .rels stays."""
    name = rels_part(pkg, part)
    text = pkg.text(name)
    # The Id looked for ahead, once from the tag's start: 「[^<>]*\bId="…"[^<>]*?」 tried the rest
    # of the tag from every place the Id's text stood in it (a value quoted with ' may hold it
    # many times), 10 s for a tag of 100 kB.
    pattern = re.compile(r'<(?:\w+:)?Relationship(?=[\s/>])(?=[^<>]*?\bId="' + re.escape(attr(rid))
                         + r'")[^<>]*?(?:/>|>\s*</(?:\w+:)?Relationship>)')
    new, n = pattern.subn("", text, count=1)
    if n == 0:
        raise PackageError(f"ブックの部品「{name}」に関係 {rid} が見つかりません（ファイルが壊れています）")
    pkg.write(name, new)


class ContentTypes:
    """[Content_Types].xml, edited by single Override entries."""

    NAME = "[Content_Types].xml"

    def __init__(self, pkg: Package):
        self.pkg = pkg
        self.text = pkg.text(self.NAME)
        root = parse(self.text.encode("utf-8"), self.NAME)
        self.overrides = {el.get("PartName", "").lstrip("/"): el.get("ContentType", "")
                          for el in root.iter(q(CT_NS, "Override"))}
        self.defaults = {el.get("Extension", "").lower(): el.get("ContentType", "")
                         for el in root.iter(q(CT_NS, "Default"))}
        self.dirty = False

    def _written(self, part: str) -> str:
        """``part`` as an Override names it, whatever the case of its letters (OPC compares
        part names so: a writer's 「/xl/Worksheets/sheet1.xml」 types the member
        xl/worksheets/sheet1.xml), else ``part``."""
        if part in self.overrides:
            return part
        key = part_key(part)
        return next((name for name in self.overrides if part_key(name) == key), part)

    def of(self, part: str) -> Optional[str]:
        part = self._written(part)
        if part in self.overrides:
            return self.overrides[part]
        return self.defaults.get(part.rsplit(".", 1)[-1].lower())

    def add(self, part: str, content_type: str) -> None:
        part = self._written(part)
        if self.overrides.get(part) == content_type:
            return
        if part in self.overrides:
            self.remove(part)
        end = self.text.rfind("</Types>")
        self.text = (self.text[:end] + f'<Override PartName="/{attr(part)}" ContentType="{attr(content_type)}"/>'
                     + self.text[end:])
        self.overrides[part] = content_type
        self.dirty = True

    def remove(self, part: str) -> None:
        part = self._written(part)
        if part not in self.overrides:
            return
        # PartName anywhere in the tag, looked for ahead once from its start (as remove_rel)
        self.text = re.sub(r'<Override\b(?=[^<>]*?\bPartName="/' + re.escape(attr(part)) + r'")[^<>]*/>',
                           "", self.text, count=1)
        del self.overrides[part]
        self.dirty = True

    def save(self) -> None:
        if self.dirty:
            self.pkg.write(self.NAME, self.text)

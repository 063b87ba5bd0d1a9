"""What a saved workbook's VBA project carries: its modules' sources, and the Subs that
xlwings' VBA client can replay.

xlwings' ``Remote.bas`` replays each action of a server's answer with an unqualified
``Application.Run action("func"), wb, action``: Excel looks for a public Sub of that name
in the standard modules, and stops the whole replay with "Cannot run the macro" when
there is none, the book half-written. So what a VBA client can do is exactly the public
Subs of the shape ``(wb As Workbook, action As Dictionary)`` in the standard modules of
the master it clicked from, read here from the saved ``xl/vbaProject.bin`` (MS-OVBA:
a compound file whose ``VBA/dir`` stream lists the modules, each module stream holding
its compressed source after an offset), not from a list kept by hand.

olefile reads the compound file (a small, kept library); the ``dir`` records and the
decompression are the spec's own few lines (renkei_xl.vba.ovba).
"""

from __future__ import annotations

import io
import re
from functools import lru_cache
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from . import VBA_PART
from .ovba import MAX_DECOMPRESSED, TooLarge, decompress

STANDARD, OTHER = "standard", "other"   # procedural module; document or class module

# 2.3.4.2 dir Stream records used here
_PROJECTCODEPAGE, _PROJECTVERSION = 0x0003, 0x0009
_MODULENAME, _MODULENAMEUNICODE = 0x0019, 0x0047
_MODULESTREAMNAME, _MODULESTREAMNAMEUNICODE = 0x001A, 0x0032
_MODULEOFFSET, _MODULETYPE_PROCEDURAL, _MODULETYPE_OTHER = 0x0031, 0x0021, 0x0022
_MODULE_TERMINATOR = 0x002B
_PROJECTMODULES = 0x000F        # 2.3.4.2.3.1: how many modules follow, an unsigned 2-byte count

# A public Sub that Application.Run can call with (wb, action), matched on a logical line
# (continuations joined, comment and strings gone): "Private Sub" is not one. ``action`` is
# the class Dictionary the project carries (xlwings' Dictionary.cls, what VBA-Web's ParseJson
# makes): a Sub taking a Scripting.Dictionary gets run-time error 13 from Remote.bas' replay
# (and a project without the Scripting reference does not compile it).
_REPLAY_SUB = re.compile(
    r"^(?:Public\s+)?Sub\s+(\w+)\s*\(\s*(?:ByRef\s+|ByVal\s+)?\w+\s+As\s+(?:Excel\.)?Workbook"
    r"\s*,\s*(?:ByRef\s+|ByVal\s+)?\w+\s+As\s+Dictionary\s*\)\s*$", re.IGNORECASE)


class VbaProjectError(ValueError):
    """The workbook's VBA project cannot be read (absent, damaged, or not MS-OVBA)."""


class VbaProjectTooLarge(VbaProjectError):
    """The project's modules decompress past ovba.MAX_DECOMPRESSED together: read no further,
    and said as too large (its own words: saving it again does not help)."""


class VbaProjectEmpty(VbaProjectError):
    """A compound file with no ``VBA/dir`` stream: no module at all, as LibreOffice 7.4
    stores the project of a master it saved as .ods and then as .xlsm (vba.missing)."""


# How staff read the budget: 「4 MB」.
LARGEST_SHOWN = f"{MAX_DECOMPRESSED // (1024 * 1024)} MB"


@dataclass(frozen=True)
class VbaModule:
    name: str
    kind: str       # STANDARD or OTHER
    source: str


def workbook_project(path: str | Path) -> bytes:
    """The saved .xlsm's VBA project as stored, its modules not yet read (project_modules;
    the server knows them by these bytes once read, server.place); VbaProjectError when it
    has none or the book cannot be read."""
    from ..core.errors import UserError

    try:
        data = saved_project(path)
    except (OSError, UserError) as exc:
        raise VbaProjectError(f"cannot read the workbook: {exc}") from None
    if data is None:
        raise VbaProjectError("the workbook has no VBA project")
    return data


def saved_project(path: str | Path) -> "bytes | None":
    """The book's ``xl/vbaProject.bin`` (None: it has none), read as every part is, within
    the package's limits (package.zipped: MAX_PART_BYTES, MAX_RATIO): read with zipfile, a
    project that inflates to 600 MB was held whole, 1.2 GB at the peak, before anything
    refused it. A package that cannot be read raises its Japanese UserError."""
    from ..package.zipped import Package

    with Package(Path(path)) as pkg:
        return pkg.read(VBA_PART) if VBA_PART in pkg else None


def listed_modules(data: bytes) -> list[str]:
    """The names of the modules the project's ``dir`` stream lists, their sources not read:
    whether a saved master still has the buttons' modules (vba.missing) is asked by every
    command that opens one, and decompressing each module's source (read_project) cost
    tens of milliseconds for a question the list answers. VbaProjectError as read_project:
    LibreOffice's .ods round trip stores a compound file with no ``VBA/dir`` at all."""
    with _compound_file(data) as ole:
        storage = _vba_storage(ole)
        try:
            records = list(_records(decompress(ole.openstream(storage + ["dir"]).read(), MAX_DECOMPRESSED)))
        except TooLarge as exc:
            raise VbaProjectTooLarge(f"VBA project too large: {exc}") from None
        except (OSError, ValueError) as exc:
            raise VbaProjectError(f"damaged VBA project: {exc}") from None
    codepage = next((int.from_bytes(d, "little") for i, d in records if i == _PROJECTCODEPAGE), 1252)
    try:
        return [name for name, _stream, _offset, _kind in _module_entries(records, codepage)]
    except LookupError as exc:      # a code page with no codec here
        raise VbaProjectError(f"damaged VBA project: {exc}") from None


def project_modules(data: bytes) -> list[VbaModule]:
    return read_project(data).modules


@dataclass(frozen=True)
class SavedProject:
    """A saved project as far as one rebuilt from it needs: the code page its text is in,
    its modules, and what the PROJECT stream (2.3.1.3-2.3.1.6) declares each module to be,
    by name in lower case: "document", "standard", "class" or "designer" (a UserForm, whose
    form lives in a storage of its own beside the code)."""
    codepage: int
    modules: list[VbaModule]
    declared: dict[str, str]


_DECLARED = {"document": "document", "module": "standard", "class": "class", "baseclass": "designer"}


def _compound_file(data: bytes):
    """The project's compound file, opened (olefile.OleFileIO), for every reader here; its
    failures are VbaProjectError."""
    import olefile

    try:
        return olefile.OleFileIO(io.BytesIO(data))
    except (OSError, RecursionError) as exc:
        # RecursionError: olefile walks the directory's red-black tree by recursion, one call
        # a level; a tree written as a chain (3,000 streams, each the right child of the last)
        # raised it out of the click (「予期しないエラー」) and upgrade-macros (exit 3). A real
        # tree of the most entries a project holds is a few dozen levels deep.
        raise VbaProjectError(f"not a compound file: {type(exc).__name__}: {exc}") from None


def read_project(data: bytes) -> SavedProject:
    with _compound_file(data) as ole:
        storage = _vba_storage(ole)
        try:
            # One budget for the whole project (ovba.MAX_DECOMPRESSED): thirty modules each
            # within it would be thirty times what any project holds.
            budget = MAX_DECOMPRESSED
            dir_stream = decompress(ole.openstream(storage + ["dir"]).read(), budget)
            budget -= len(dir_stream)
            records = list(_records(dir_stream))
            codepage = next((int.from_bytes(d, "little") for i, d in records if i == _PROJECTCODEPAGE), 1252)
            out = []
            declared = next((int.from_bytes(d[:2], "little") for i, d in records if i == _PROJECTMODULES), 0xFFFF)
            for count, (name, stream, offset, kind) in enumerate(_module_entries(records, codepage), 1):
                # More modules than the project says it has: a dir stream of 8 MB listed 600,000
                # modules of one empty stream (a 195 KB project), read for 12 s of a click's turn.
                if count > declared:
                    raise ValueError(f"more modules than the {declared:,} PROJECTMODULES declares")
                raw = ole.openstream(storage + [stream]).read()
                source = decompress(raw[offset:], budget)
                budget -= len(source)
                out.append(VbaModule(name, kind, source.decode(_codec(codepage), "replace")))
            project = ole.openstream(storage[:-1] + ["PROJECT"]).read().decode(_codec(codepage), "replace")
        except TooLarge as exc:
            raise VbaProjectTooLarge(f"VBA project too large: {exc}") from None
        except (OSError, ValueError, LookupError) as exc:
            raise VbaProjectError(f"damaged VBA project: {exc}") from None
    return SavedProject(codepage, out, _declared(project))


def _declared(project: str) -> dict[str, str]:
    """Each module's kind as the PROJECT stream's properties name it, up to its first section."""
    out: dict[str, str] = {}
    for line in project.splitlines():
        if line.startswith("["):
            break
        key, _, value = line.partition("=")
        if key.strip().lower() in _DECLARED:
            out[value.split("/")[0].strip().lower()] = _DECLARED[key.strip().lower()]
    return out


def replayable_actions(modules: Iterable[VbaModule]) -> frozenset[str]:
    """The action names a VBA client replaying with Application.Run can run.

    Excel, not this reader, decides (each rule is one way the replay stopped halfway):
    - a name that is public in two standard modules is not one: an unqualified
      Application.Run cannot tell which to run. Any public name counts, not only a
      procedure's: a Public variable, Const, Declare, Property, Enum or Type of that name
      in another module is as ambiguous ("Ambiguous name detected");
    - a Sub inside ``#If`` ... ``#End If`` is not one: whether it is compiled depends on
      the client (Mac, VBA7, a #Const), and under ``#If False`` it does not exist;
    - a line a comment continues (``' note _``) is comment, not a Sub;
    - a Sub in a module that does not compile is not one: a module that uses, unqualified,
      a name two other modules make public stops at "Ambiguous name detected" (a staff
      module defining GetRange or RenkeiTitle breaks RenkeiServer or Remote);
    - a Sub named as a module (of any kind) is not one: a module's name is a project-level
      name too (the stricter reading; not verified in Excel).
    VBA names are not case-sensitive. ``Option Private Module`` hides a module only from
    other projects, so its Subs stay replayable."""
    modules = list(modules)
    shapes = [_shape(m.source) for m in modules if m.kind == STANDARD]
    clashes = clashing_names(shapes).keys()
    not_run = clashes | {m.name.lower() for m in modules}
    return frozenset(name for shape in shapes if not (shape.uses - shape.names) & clashes
                     for key, name in shape.replay.items() if key not in not_run)


def name_clashes(modules: Iterable[VbaModule], *, replay_only: bool = True) -> dict[str, tuple[str, ...]]:
    """The public names (lower case) two or more standard modules declare -> the modules
    declaring it, by name: what staff must rename. ``replay_only``: only those that cost the
    replay a Sub (a replayable Sub of that name, or a module holding such Subs that uses
    it); a clash between two of staff's own modules that no replay touches is not the
    replay's business."""
    shapes = [(m.name, _shape(m.source)) for m in modules if m.kind == STANDARD]
    clashes = clashing_names(shape for _, shape in shapes)
    costly = clashes.keys() if not replay_only else {
        name for _, shape in shapes if shape.replay for name in {*shape.replay, *(shape.uses - shape.names)}
        if name in clashes}
    return {name: tuple(module for module, shape in shapes if name in shape.public) for name in sorted(costly)}


@dataclass(frozen=True)
class _Shape:
    """What a standard module declares and uses, names in lower case: ``public`` (seen by
    other modules), ``names`` (any name it declares itself, which its own code finds first:
    module level, local, parameters), ``uses`` (identifiers its code refers to unqualified),
    ``replay`` (its replayable Subs outside any #If, lower case -> as spelled)."""
    public: frozenset[str]
    names: frozenset[str]
    uses: frozenset[str]
    replay: dict[str, str]


def clashing_names(shapes: "Iterable[_Shape]") -> dict[str, int]:
    counted: dict[str, int] = {}
    for shape in shapes:
        for name in shape.public:
            counted[name] = counted.get(name, 0) + 1
    return {name: n for name, n in counted.items() if n > 1}


_PROCEDURE = re.compile(r"^(?:(Public|Private|Friend|Global)\s+)?(?:Static\s+)?"
                        r"(?:Sub|Function|Property\s+(?:Get|Let|Set))\s+(\w+)\s*(?:\((.*?)\))?", re.IGNORECASE)
_DECLARE = re.compile(r"^(?:(Public|Private)\s+)?Declare\s+(?:PtrSafe\s+)?(?:Sub|Function)\s+(\w+)", re.IGNORECASE)
_BLOCK = re.compile(r"^(?:(Public|Private)\s+)?(Enum|Type)\s+(\w+)", re.IGNORECASE)
_VARIABLES = re.compile(r"^(Public|Global|Private|Dim|Static|Const|ReDim)\s+(?:(?:Const|WithEvents|Preserve)\s+)?(.*)",
                        re.IGNORECASE)
_END = re.compile(r"^End\s+(Sub|Function|Property|Enum|Type)\b", re.IGNORECASE)
_PARAMETER = re.compile(r"(?:^|,)\s*(?:Optional\s+)?(?:ByVal\s+|ByRef\s+)?(?:ParamArray\s+)?(\w+)", re.IGNORECASE)
_IDENTIFIER = re.compile(r"(?<![.\w])([A-Za-z]\w*)")


@lru_cache(maxsize=128)
def _shape(source: str) -> _Shape:
    """Cached by the module's text: a master carries xlwings' modules and ours unchanged from
    save to save and from master to master, and the server asks both replayable_actions and
    name_clashes of every new save (a pass over a master's 340,000 characters took 40 ms)."""
    public: set[str] = set()
    names: set[str] = set()
    uses: set[str] = set()
    replay: dict[str, str] = {}
    depth = 0               # #If nesting
    inside = None           # the block a line is in: "procedure", "enum" or "type"
    enum_public = False
    for line in _logical_lines(source):
        lower = line.lower()
        if lower.startswith("#"):
            if re.match(r"#if\b", lower):
                depth += 1
            elif re.match(r"#end\s*if\b", lower):
                depth = max(0, depth - 1)
            continue
        if lower.startswith("attribute ") or lower.startswith("option "):
            continue
        if _END.match(line):
            inside = None
            continue
        if inside in ("enum", "type"):
            member = re.match(r"(\w+)", line)
            if member and inside == "enum" and enum_public:     # a public Enum's members are public names
                public.add(member.group(1).lower())
            continue
        if inside is None and (proc := _PROCEDURE.match(line)) is not None:
            name = proc.group(2).lower()
            names.add(name)
            if (proc.group(1) or "").lower() != "private":
                public.add(name)
            names.update(p.lower() for p in _PARAMETER.findall(proc.group(3) or ""))
            if depth == 0 and (sub := _REPLAY_SUB.match(line)) is not None:
                replay[sub.group(1).lower()] = sub.group(1)
            inside = "procedure"
            uses.update(_uses(line[proc.end():]))
            continue
        if inside is None and (decl := _DECLARE.match(line)) is not None:
            names.add(decl.group(2).lower())
            if (decl.group(1) or "").lower() != "private":
                public.add(decl.group(2).lower())
            continue
        if inside is None and (block := _BLOCK.match(line)) is not None:
            names.add(block.group(3).lower())
            enum_public = (block.group(1) or "").lower() != "private"
            if enum_public:
                public.add(block.group(3).lower())
            inside = block.group(2).lower()
            continue
        if (var := _VARIABLES.match(line)) is not None:
            declared = [m.group(1).lower() for m in re.finditer(r"(?:^|,)\s*(\w+)", _top_level(var.group(2)))]
            names.update(declared)
            if inside is None and var.group(1).lower() in ("public", "global"):
                public.update(declared)
        uses.update(_uses(line))
    return _Shape(frozenset(public), frozenset(names), frozenset(uses), replay)


def _uses(code: str) -> set[str]:
    return {m.lower() for m in _IDENTIFIER.findall(code)}


def _top_level(text: str) -> str:
    """``text`` without what its brackets hold (array bounds, a Const's value is kept out too)."""
    out, depth = [], 0
    for ch in text:
        depth += ch == "("
        if depth == 0:
            out.append(ch)
        depth -= ch == ")" and depth > 0
    return re.sub(r"\bAs\s+(?:New\s+)?[\w.]+|=[^,]*", "", "".join(out), flags=re.IGNORECASE)


def _logical_lines(source: str) -> Iterator[str]:
    """The module's logical lines as VBA reads them: physical lines ending in `` _`` joined
    (a comment's too: the comment then goes on), comments and string literals removed,
    ``:``-separated statements apart."""
    pending = ""
    for physical in source.splitlines():
        if re.search(r"(?:^|[ \t])_[ \t]*$", physical):
            pending += re.sub(r"_[ \t]*$", " ", physical)
            continue
        line, pending = pending + physical, ""
        for statement in _code(line).split(":"):
            if statement.strip():
                yield statement.strip()


# A string literal (VBA doubles a quote inside one: two literals side by side read alike
# here) or a comment, whichever comes first: matched left to right, so an apostrophe inside a
# string is text and a quote inside a comment is comment.
_STRING_OR_COMMENT = re.compile(r'"[^"]*"?|\'.*')


def _code(line: str) -> str:
    """``line`` with each string literal emptied and its comment dropped."""
    if '"' in line or "'" in line:
        line = _STRING_OR_COMMENT.sub(lambda m: '""' if m.group().startswith('"') else "", line)
    rem = re.search(r"(?:^|:)\s*Rem\b", line, re.IGNORECASE)
    return line[:rem.start()] if rem else line


def stored_streams(data: bytes) -> dict[bytes, bytes]:
    """The compressed streams of the project ``data`` (its ``dir`` and module streams), each
    by the bytes it decompresses to; {} where ``data`` is no compound file. A rebuild of a
    project this installation wrote (vba.sources.own_project_with) takes its unchanged
    streams as they are stored instead of compressing every module again: MS-OVBA
    compression is Python here, about 0.2 s of CPU for the ~360 KB of our and xlwings'
    modules, which the first recalc, collect or rollover of every new master paid to add a
    sheet's document module (and the server for each master it recognised). A stream Excel
    saved holds p-code before its source and decompresses to nothing a rebuild asks for.
    Read within ovba.MAX_DECOMPRESSED in all, as read_project reads."""
    try:
        ole = _compound_file(data)
    except VbaProjectError:
        return {}
    out: dict[bytes, bytes] = {}
    budget = MAX_DECOMPRESSED
    with ole:
        for entry in ole.listdir(streams=True, storages=False):
            if len(entry) != 2 or entry[0].lower() != "vba" or entry[1].lower() == "_vba_project":
                continue
            try:
                stored = ole.openstream(entry).read()
                source = decompress(stored, budget)
            except (OSError, ValueError):     # TooLarge too: nothing more is taken as it is
                continue
            budget -= len(source)
            out[source] = stored
    return out


# ------------------------------------------------------------------------ the dir stream

def _vba_storage(ole) -> list[str]:
    """The storage holding ``dir``: "VBA" at the root of a vbaProject.bin."""
    for entry in ole.listdir(streams=True, storages=False):
        if entry[-1].lower() == "dir" and len(entry) >= 2 and entry[-2].lower() == "vba":
            return entry[:-1]
    raise VbaProjectEmpty("no VBA/dir stream")


def _records(data: bytes) -> Iterator[tuple[int, bytes]]:
    pos = 0
    while pos + 6 <= len(data):
        rid = int.from_bytes(data[pos:pos + 2], "little")
        size = int.from_bytes(data[pos + 2:pos + 6], "little")
        if rid == _PROJECTVERSION:      # its "size" is a reserved 4; the record holds 6 bytes
            size = 6
        yield rid, data[pos + 6:pos + 6 + size]
        pos += 6 + size


def _module_entries(records: list[tuple[int, bytes]], codepage: int) -> Iterator[tuple[str, str, int, str]]:
    name = stream = None
    offset, kind = 0, OTHER
    for rid, data in records:
        if rid == _MODULENAME:
            name, stream, offset, kind = data.decode(_codec(codepage), "replace"), None, 0, OTHER
        elif rid == _MODULENAMEUNICODE and data:
            name = data.decode("utf-16-le", "replace")
        elif rid == _MODULESTREAMNAME:
            stream = data.decode(_codec(codepage), "replace")
        elif rid == _MODULESTREAMNAMEUNICODE and data:
            stream = data.decode("utf-16-le", "replace")
        elif rid == _MODULEOFFSET:
            offset = int.from_bytes(data, "little")
        elif rid == _MODULETYPE_PROCEDURAL:
            kind = STANDARD
        elif rid == _MODULE_TERMINATOR and name is not None:
            yield name, stream or name, offset, kind
            name = None


def _codec(codepage: int) -> str:
    return {1200: "utf-16-le", 65001: "utf-8"}.get(codepage, f"cp{codepage}")

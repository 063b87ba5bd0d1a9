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
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from . import VBA_PART
from .ovba import decompress

STANDARD, OTHER = "standard", "other"   # procedural module; document or class module

# 2.3.4.2 dir Stream records used here
_PROJECTCODEPAGE, _PROJECTVERSION = 0x0003, 0x0009
_MODULENAME, _MODULENAMEUNICODE = 0x0019, 0x0047
_MODULESTREAMNAME, _MODULESTREAMNAMEUNICODE = 0x001A, 0x0032
_MODULEOFFSET, _MODULETYPE_PROCEDURAL, _MODULETYPE_OTHER = 0x0031, 0x0021, 0x0022
_MODULE_TERMINATOR = 0x002B

# A public Sub that Application.Run can call with (wb, action): "Private Sub" is not one.
_REPLAY_SUB = re.compile(
    r"^[ \t]*(?:Public[ \t]+)?Sub[ \t]+(\w+)[ \t]*\([ \t]*(?:ByRef[ \t]+|ByVal[ \t]+)?\w+[ \t]+As[ \t]+Workbook"
    r"[ \t]*,[ \t]*(?:ByRef[ \t]+|ByVal[ \t]+)?\w+[ \t]+As[ \t]+(?:\w+\.)?Dictionary[ \t]*\)",
    re.IGNORECASE | re.MULTILINE)


# Any procedure Application.Run could find by its name: a Sub or Function not declared Private.
_PUBLIC_PROCEDURE = re.compile(r"^[ \t]*(?:(?:Public|Friend)[ \t]+)?(?:Static[ \t]+)?(?:Sub|Function)[ \t]+(\w+)",
                               re.IGNORECASE | re.MULTILINE)


class VbaProjectError(ValueError):
    """The workbook's VBA project cannot be read (absent, damaged, or not MS-OVBA)."""


@dataclass(frozen=True)
class VbaModule:
    name: str
    kind: str       # STANDARD or OTHER
    source: str


def workbook_modules(path: str | Path) -> list[VbaModule]:
    """The modules of a saved .xlsm; VbaProjectError when it has no readable project."""
    from ..core.errors import UserError

    try:
        data = saved_project(path)
    except (OSError, UserError) as exc:
        raise VbaProjectError(f"cannot read the workbook: {exc}") from None
    if data is None:
        raise VbaProjectError("the workbook has no VBA project")
    return project_modules(data)


def saved_project(path: str | Path) -> "bytes | None":
    """The book's ``xl/vbaProject.bin`` (None: it has none), read as every part is, within
    the package's limits (package.zipped: MAX_PART_BYTES, MAX_RATIO): read with zipfile, a
    project that inflates to 600 MB was held whole, 1.2 GB at the peak, before anything
    refused it. A package that cannot be read raises its Japanese UserError."""
    from ..package.zipped import Package

    with Package(Path(path)) as pkg:
        return pkg.read(VBA_PART) if VBA_PART in pkg else None


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


def read_project(data: bytes) -> SavedProject:
    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except OSError as exc:
        raise VbaProjectError(f"not a compound file: {exc}") from None
    with ole:
        storage = _vba_storage(ole)
        try:
            records = list(_records(decompress(ole.openstream(storage + ["dir"]).read())))
            codepage = next((int.from_bytes(d, "little") for i, d in records if i == _PROJECTCODEPAGE), 1252)
            out = []
            for name, stream, offset, kind in _module_entries(records, codepage):
                raw = ole.openstream(storage + [stream]).read()
                out.append(VbaModule(name, kind, decompress(raw[offset:]).decode(_codec(codepage), "replace")))
            project = ole.openstream(storage[:-1] + ["PROJECT"]).read().decode(_codec(codepage), "replace")
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
    """The action names a VBA client replaying with Application.Run can run: a name that
    two standard modules define is not one (an unqualified Application.Run cannot tell
    which to run, and the replay stops there as for a missing Sub). VBA names are not
    case-sensitive."""
    standard = [m for m in modules if m.kind == STANDARD]
    declared: dict[str, int] = {}     # any public procedure, whatever its parameters
    for m in standard:
        for name in {n.lower() for n in _PUBLIC_PROCEDURE.findall(m.source)}:
            declared[name] = declared.get(name, 0) + 1
    return frozenset(name for m in standard for name in _REPLAY_SUB.findall(m.source)
                     if declared.get(name.lower(), 0) == 1)


# ------------------------------------------------------------------------ the dir stream

def _vba_storage(ole) -> list[str]:
    """The storage holding ``dir``: "VBA" at the root of a vbaProject.bin."""
    for entry in ole.listdir(streams=True, storages=False):
        if entry[-1].lower() == "dir" and len(entry) >= 2 and entry[-2].lower() == "vba":
            return entry[:-1]
    raise VbaProjectError("no VBA/dir stream")


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

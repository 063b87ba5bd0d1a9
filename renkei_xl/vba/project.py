"""A source-only VBA project (vbaProject.bin) written from module text, per MS-OVBA.

Excel compiles a project that has no performance cache from its source the first time it
opens the workbook, so the project needs only what MS-OVBA 2.3 calls mandatory: the
PROJECT and PROJECTwm streams, VBA/_VBA_PROJECT, VBA/dir and one stream per module.
"""

from __future__ import annotations

import functools
import re
import struct
import uuid
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, Mapping, Sequence

from .cfb import write_compound_file
from .ovba import compress

Kind = Literal["standard", "class", "document"]

CODEPAGE = 1252  # PROJECTCODEPAGE: module text and names are stored in this code page
LCID = 0x409
WORKBOOK_BASE = '"0{00020819-0000-0000-C000-000000000046}"'  # Excel's Workbook object
WORKSHEET_BASE = '"0{00020820-0000-0000-C000-000000000046}"'  # Excel's Worksheet object
CHART_BASE = '"0{00020821-0000-0000-C000-000000000046}"'  # Excel's Chart object (a chart sheet)
CLASS_BASE = '"0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"'  # a plain class module
# 2.3.4.1: Reserved1 0x61CC, Version 0xFFFF ("no performance cache: compile from source"),
# Reserved2 0x00, Reserved3 (ignored on read). Excel recompiles from source on open.
VBA_PROJECT_STREAM = b"\xCC\x61\xFF\xFF\x00\x00\x00"
# The references Excel gives every new project (OLE Automation and the Office library).
REFERENCES = (
    ("stdole", "*\\G{00020430-0000-0000-C000-000000000046}#2.0#0#"
               "C:\\Windows\\System32\\stdole2.tlb#OLE Automation"),
    ("Office", "*\\G{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0#"
               "C:\\Program Files\\Common Files\\Microsoft Shared\\OFFICE16\\MSO.DLL"
               "#Microsoft Office 16.0 Object Library"),
)
# A VBA identifier, 31 characters at most: a letter, then letters, digits and _. Letters of
# the code page count (a Japanese Excel names a module 「集計用」); the encoding checks them.
_IDENTIFIER = re.compile(r"[^\W\d_]\w{0,30}\Z")
_HEADER_ATTRIBUTE = re.compile(r"Attribute (VB_\w+) = (.*)\Z")
_ENCRYPT_SEED = 0x8D  # 2.4.3.2 allows any seed; a fixed one keeps builds reproducible
_NONE_STORED: Mapping[bytes, bytes] = MappingProxyType({})
# The name the project stands under in the VBA editor (PROJECTNAME, and the PROJECT stream's Name=).
PROJECT_NAME = "VBAProject"


@dataclass(frozen=True)
class Module:
    """One VBA module. ``source`` is the code as the VBA editor shows it, or as Excel
    exports it (.bas/.cls, with its ``Attribute VB_`` header and a class's VERSION block):
    the stored header is rebuilt from ``kind`` either way, keeping the exported values."""

    name: str
    kind: Kind
    source: str


def build_vba_project(modules: Sequence[Module], codepage: int = CODEPAGE,
                      stored: Mapping[bytes, bytes] = _NONE_STORED) -> bytes:
    """The bytes of a vbaProject.bin holding ``modules`` in this order. ``codepage``: the one
    the text is stored in; 1252 for our ASCII modules, the saved project's own (932 from a
    Japanese Excel) when staff's modules carried over hold Japanese. ``stored``: streams of
    a saved project by what they decompress to (vba.read.stored_streams), taken as they are
    where a stream of this one would hold the same bytes."""
    project_name = PROJECT_NAME
    _check_names(modules, project_name, codepage)
    # stable per project name, so a rebuild gives the same bytes
    project_id = "{%s}" % str(uuid.uuid5(uuid.NAMESPACE_URL, "renkei-xl:" + project_name)).upper()
    directory = _dir_stream(modules, project_name, codepage)
    vba = {"_VBA_PROJECT": VBA_PROJECT_STREAM, "dir": stored.get(directory) or compress(directory)}
    for module in modules:
        stream = _encode(stored_source(module), module.name, codepage)
        vba[module.name] = stored.get(stream) or _compressed(stream)
    return write_compound_file({
        "PROJECT": _project_stream(modules, project_name, project_id, codepage),
        "PROJECTwm": _projectwm_stream(modules, codepage),
        "VBA": vba,
    })


@functools.lru_cache(maxsize=64)
def _compressed(stream: bytes) -> bytes:
    """A module stream compressed once per process: the masters for other servers or sheet
    code names differ in one module or none, and compressing xlwings' ~100 KB again in
    Python took ~0.4 s a project (the server builds several to recognise a master's)."""
    return compress(stream)


def stored_source(module: Module) -> str:
    """The module text as the module stream holds it: the ``Attribute VB_`` header, then code."""
    lines = module.source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[0].startswith("VERSION ") and "BEGIN" in lines:  # .cls export header
        lines = lines[lines.index("END", lines.index("BEGIN")) + 1 :]
    given: dict[str, str] = {}
    while lines and (match := _HEADER_ATTRIBUTE.match(lines[0])):
        given[match[1]] = match[2]
        lines.pop(0)
    if given.get("VB_Name", f'"{module.name}"') != f'"{module.name}"':
        raise ValueError(f"module {module.name!r} has the header {given['VB_Name']}")
    header = _default_header(module) | given | {"VB_Name": f'"{module.name}"'}
    body = "\r\n".join(lines)
    if body and not body.endswith("\r\n"):
        body += "\r\n"
    return "".join(f"Attribute {key} = {value}\r\n" for key, value in header.items()) + body


def _default_header(module: Module) -> dict[str, str]:
    if module.kind == "standard":
        return {"VB_Name": ""}
    document = module.kind == "document"
    base = CLASS_BASE if not document else WORKBOOK_BASE if module.name == "ThisWorkbook" else WORKSHEET_BASE
    return {
        "VB_Name": "",
        "VB_Base": base,
        "VB_GlobalNameSpace": "False",
        "VB_Creatable": "False",
        "VB_PredeclaredId": "True" if document else "False",
        "VB_Exposed": "True" if document else "False",
        "VB_TemplateDerived": "False",
        "VB_Customizable": "True" if document else "False",
    }


def _check_names(modules: Sequence[Module], project_name: str, codepage: int) -> None:
    for name in [project_name, *(m.name for m in modules)]:
        if not is_identifier(name, codepage):
            raise ValueError(f"not a VBA identifier in code page {codepage} (31 characters at most): {name!r}")
    seen = [m.name.lower() for m in modules]  # VBA names are case-insensitive
    if len(set(seen)) != len(seen):
        raise ValueError(f"duplicate module names: {[m.name for m in modules]}")
    if any(m.kind not in ("standard", "class", "document") for m in modules):
        raise ValueError(f"unknown module kind in {[m.kind for m in modules]}")


def is_identifier(name: str, codepage: int = CODEPAGE) -> bool:
    """Whether ``name`` can name a module of a project stored in ``codepage``: a sheet's code
    name a Japanese Excel let staff type (「メニュー画面」) is one in 932, not in 1252."""
    return bool(_IDENTIFIER.match(name)) and fits(name, codepage)


def fits(text: str, codepage: int) -> bool:
    """Whether ``text`` can be stored in a project of ``codepage`` (an MBCS code page Python knows)."""
    try:
        text.encode(f"cp{codepage}")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _encode(text: str, where: str, codepage: int = CODEPAGE) -> bytes:
    try:
        return text.encode(f"cp{codepage}")
    except (UnicodeEncodeError, LookupError) as error:
        raise ValueError(f"{where}: not representable in code page {codepage}: {error}") from None


def _record(record_id: int, data: bytes) -> bytes:
    """2.3.4.2: most dir records are Id (2 bytes), Size (4 bytes), then Size bytes."""
    return struct.pack("<HI", record_id, len(data)) + data


def _text_records(record_id: int, unicode_id: int, text: str, codepage: int = CODEPAGE) -> bytes:
    """An MBCS record followed by its UTF-16 twin (names, doc strings, help files)."""
    return _record(record_id, _encode(text, "dir", codepage)) + _record(unicode_id, text.encode("utf-16-le"))


def _dir_stream(modules: Sequence[Module], project_name: str, codepage: int) -> bytes:
    """2.3.4.2 dir Stream: PROJECTINFORMATION, PROJECTREFERENCES, PROJECTMODULES."""
    u32 = lambda n: struct.pack("<I", n)  # noqa: E731
    u16 = lambda n: struct.pack("<H", n)  # noqa: E731
    out = bytearray()
    # 2.3.4.2.1 PROJECTINFORMATION
    out += _record(0x0001, u32(3))  # PROJECTSYSKIND: 64-bit Windows, as Office writes today
    out += _record(0x0002, u32(LCID))  # PROJECTLCID
    out += _record(0x0014, u32(LCID))  # PROJECTLCIDINVOKE
    out += _record(0x0003, u16(codepage))  # PROJECTCODEPAGE
    out += _record(0x0004, _encode(project_name, "project name"))  # PROJECTNAME
    out += _text_records(0x0005, 0x0040, "")  # PROJECTDOCSTRING
    out += _record(0x0006, b"") + _record(0x003D, b"")  # PROJECTHELPFILEPATH: two MBCS copies
    out += _record(0x0007, u32(0))  # PROJECTHELPCONTEXT
    out += _record(0x0008, u32(0))  # PROJECTLIBFLAGS
    out += struct.pack("<HIIH", 0x0009, 4, 1, 0)  # PROJECTVERSION: Reserved 4, major, minor
    out += _text_records(0x000C, 0x003C, "")  # PROJECTCONSTANTS
    # 2.3.4.2.2 PROJECTREFERENCES: REFERENCENAME + REFERENCEREGISTERED each
    for name, libid in REFERENCES:
        out += _text_records(0x0016, 0x003E, name)
        registered = u32(len(libid)) + _encode(libid, "libid") + u32(0) + u16(0)
        out += _record(0x000D, registered)
    # 2.3.4.2.3 PROJECTMODULES
    out += _record(0x000F, u16(len(modules)))
    out += _record(0x0013, u16(0xFFFF))  # PROJECTCOOKIE
    for module in modules:  # 2.3.4.2.3.2 MODULE Record
        out += _record(0x0019, _encode(module.name, "module name", codepage))  # MODULENAME
        out += _record(0x0047, module.name.encode("utf-16-le"))  # MODULENAMEUNICODE
        out += _text_records(0x001A, 0x0032, module.name, codepage)  # MODULESTREAMNAME
        out += _text_records(0x001C, 0x0048, "")  # MODULEDOCSTRING
        out += _record(0x0031, u32(0))  # MODULEOFFSET: the stream holds source only
        out += _record(0x001E, u32(0))  # MODULEHELPCONTEXT
        out += _record(0x002C, u16(0xFFFF))  # MODULECOOKIE
        out += _record(0x0021 if module.kind == "standard" else 0x0022, b"")  # MODULETYPE
        out += _record(0x002B, b"")  # Terminator
    out += _record(0x0010, b"")  # Terminator of PROJECTMODULES
    return bytes(out)


def _project_stream(modules: Sequence[Module], project_name: str, project_id: str, codepage: int) -> bytes:
    """2.3.1 PROJECT Stream: the project's text properties, in the order Excel writes them."""
    protection = encrypt(project_id, struct.pack("<I", 0))  # 2.3.1.15: not protected
    password = encrypt(project_id, bytes([0]))  # 2.3.1.16: no password
    visibility = encrypt(project_id, bytes([0xFF]))  # 2.3.1.17: visible
    lines = [f'ID="{project_id}"']
    for module in modules:
        lines.append({"document": f"Document={module.name}/&H00000000", "class": f"Class={module.name}",
                      "standard": f"Module={module.name}"}[module.kind])
    lines += [
        f'Name="{project_name}"',
        'HelpContextID="0"',
        'VersionCompatible32="393222000"',
        f'CMG="{protection}"',
        f'DPB="{password}"',
        f'GC="{visibility}"',
        "",
        "[Host Extender Info]",
        "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000",
        "",
        "[Workspace]",
        *(f"{module.name}=0, 0, 0, 0, C" for module in modules),
    ]
    return _encode("\r\n".join(lines) + "\r\n", "PROJECT", codepage)


def _projectwm_stream(modules: Sequence[Module], codepage: int) -> bytes:
    """2.3.3 PROJECTwm Stream: each module name in MBCS and UTF-16, then a terminator."""
    out = bytearray()
    for module in modules:
        out += _encode(module.name, "module name", codepage) + b"\x00"
        out += module.name.encode("utf-16-le") + b"\x00\x00"
    return bytes(out + b"\x00\x00")


def encrypt(project_id: str, data: bytes, seed: int = _ENCRYPT_SEED) -> str:
    """2.4.3.2 Data Encryption (the obfuscation of CMG, DPB and GC), hex-encoded (2.4.3)."""
    version = 2
    project_key = sum(project_id.encode("ascii")) & 0xFF
    out = [seed, seed ^ version, seed ^ project_key]
    unencrypted_1, encrypted_1, encrypted_2 = project_key, out[2], out[1]
    ignored = [0] * ((seed & 6) // 2)
    for byte in [*ignored, *struct.pack("<I", len(data)), *data]:
        encrypted = byte ^ ((encrypted_2 + unencrypted_1) & 0xFF)
        out.append(encrypted)
        encrypted_2, encrypted_1, unencrypted_1 = encrypted_1, encrypted, byte
    return bytes(out).hex().upper()

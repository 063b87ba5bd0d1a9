"""Damaged and foreign files, as staff could hand them to `renkei-xl`: a generated corpus.

Every case is made at run time from the real FY2023 sample master (or from the 小樽市 input
file that `split` makes from it) by rewriting zip members, so nothing binary is checked in.
Each case runs the real command line in a child process and holds it to the promise made
to staff (SPEC §5, renkei_xl.cli): one Japanese sentence (exit 2) or findings (exit 1),
never a traceback, in bounded time and memory, and a refused run leaves the master
byte-identical with no backup added.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import pytest

from conftest import calc_pr_as_excel_saves, taken, with_members
from forked_cli import run_forked
from renkei_xl.cycle.distribute import split_master
from renkei_xl.cli.workbook import init_master
from renkei_xl.safety import backup_folder

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 60                      # seconds per child run
MAX_RSS_KIB = 500 * 1024          # ru_maxrss is in KiB on Linux
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff01-\uff5e]")
MUNI = "小樽市"

SML = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT_SML = "http://purl.oclc.org/ooxml/spreadsheetml/main"
OFFICE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
STRICT_OFFICE_REL = "http://purl.oclc.org/ooxml/officeDocument/relationships"


# ----------------------------------------------------------------------------- the books

@dataclass(frozen=True)
class Book:
    """Where the damage goes in one kind of workbook."""
    sheet_part: str        # the 小樽市 sheet's part
    sheet_rel: str         # its target in xl/_rels/workbook.xml.rels
    number_cell: str       # a municipality cell holding a number (実績値)
    blank_cell: str        # an empty municipality cell (備考), exactly as written
    other_sheet: str       # another sheet's name in workbook.xml (renamed to 小樽市)


MASTER = Book("xl/worksheets/sheet5.xml", "worksheets/sheet5.xml", "E2", '<c r="G2" s="13"/>', "岩見沢市")
RETURNED = Book("xl/worksheets/sheet1.xml", "worksheets/sheet1.xml", "G20", '<c r="I20" s="11"/>', "選択肢")


def read_members(raw: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def write_members(members: dict[str, bytes]) -> bytes:
    """The package of ``members``, deflated fast: the module writes some 500 mutated packages
    and zlib's default level was a tenth of its CPU (perf-106); no case here depends on how
    tightly a part packs (the ratio cases build their own parts)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def edit_part(members: dict[str, bytes], part: str, fn: Callable[[str], str]) -> None:
    before = members[part].decode("utf-8")
    after = fn(before)
    assert after != before, f"the mutation did not change {part}"
    members[part] = after.encode("utf-8")


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1, f"{old!r} not found"
    return text.replace(old, new, 1)


def set_cell(xml: str, ref: str, cell: str) -> str:
    """Replace the <c r=ref> element (self-closed or not) by ``cell``."""
    pattern = re.compile(r'<c r="%s"(?:[^>]*?/>|[^>]*?>.*?</c>)' % re.escape(ref), re.S)
    out, n = pattern.subn(lambda _m: cell, xml, count=1)
    assert n == 1, f"cell {ref} not found"
    return out


def entity_dtd(root: str) -> str:
    """A billion-laughs style internal subset (defused parsers must refuse it)."""
    lines = ['<!ENTITY lol0 "lollollollollollollollollollol">']
    for i in range(1, 8):
        lines.append(f'<!ENTITY lol{i} "' + f"&lol{i - 1};" * 10 + '">')
    return f"<!DOCTYPE {root} [{''.join(lines)}]>"


def after_declaration(xml: str, insert: str) -> str:
    end = xml.index("?>") + 2 if xml.startswith("<?xml") else 0
    return xml[:end] + insert + xml[end:]


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b"")


def ole_file() -> bytes:
    """A compound file as Excel 97-2003 (.xls) or an encrypted .xlsx would arrive."""
    from renkei_xl.vba.cfb import write_compound_file

    return write_compound_file({"Workbook": b"\x09\x08\x10\x00\x00\x06\x05\x00" + b"\x00" * 5000,
                                "\x05SummaryInformation": b"\xfe\xff" + b"\x00" * 200})


# ----------------------------------------------------------------------------- mutations
# Each takes the original bytes and the Book, returns (damaged bytes, suffix or None).

Mutation = Callable[[bytes, Book], tuple[bytes, Optional[str]]]


def zipped(fn: Callable[[dict[str, bytes], Book], None]) -> Mutation:
    def mutate(raw: bytes, book: Book):
        members = read_members(raw)
        fn(members, book)
        return write_members(members), None
    mutate.__name__ = fn.__name__
    return mutate


@zipped
def sheet_cut(m, b):
    m[b.sheet_part] = m[b.sheet_part][: len(m[b.sheet_part]) // 2]


@zipped
def styles_cut(m, b):
    m["xl/styles.xml"] = m["xl/styles.xml"][: len(m["xl/styles.xml"]) // 2]


@zipped
def styles_without_cellxfs(m, b):
    edit_part(m, "xl/styles.xml", lambda x: re.sub(r"<cellXfs.*?</cellXfs>", "", x, flags=re.S))


@zipped
def shared_string_out_of_range(m, b):
    edit_part(m, b.sheet_part, lambda x: set_cell(x, b.number_cell,
                                                  f'<c r="{b.number_cell}" t="s"><v>99999</v></c>'))


def _text_cell(b: Book, text: str) -> str:
    ref = re.search(r'r="(\w+)"', b.blank_cell).group(1)
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


@zipped
def nul_byte_in_text(m, b):
    edit_part(m, b.sheet_part, lambda x: replace_once(x, b.blank_cell, _text_cell(b, "備考\x00です")))


@zipped
def control_byte_in_text(m, b):
    edit_part(m, b.sheet_part, lambda x: replace_once(x, b.blank_cell, _text_cell(b, "備考\x1bです\x0b")))


@zipped
def number_of_100000_digits(m, b):
    edit_part(m, b.sheet_part, lambda x: set_cell(x, b.number_cell,
                                                  f'<c r="{b.number_cell}"><v>{"9" * 100_000}</v></c>'))


@zipped
def doctype_in_sheet(m, b):
    def fn(x):
        x = after_declaration(x, entity_dtd("worksheet"))
        return replace_once(x, b.blank_cell, _text_cell(b, "&lol7;"))
    edit_part(m, b.sheet_part, fn)


@zipped
def doctype_in_shared_strings(m, b):
    edit_part(m, "xl/sharedStrings.xml",
              lambda x: replace_once(after_declaration(x, entity_dtd("sst")), "</t>", "&lol7;</t>"))


@zipped
def shared_strings_claiming_four_billion_texts(m, b):
    """The shared strings' root says 2**32 texts (returned:25721:154): python-calamine
    reserved room for them as it opened the book and the process was aborted (exit -6)."""
    edit_part(m, "xl/sharedStrings.xml", lambda x: re.sub(r'uniqueCount="[0-9]+"', 'uniqueCount="4294967296"', x, count=1))


@zipped
def workbook_xml_missing(m, b):
    del m["xl/workbook.xml"]


def retarget_sheet(m, b, target: str) -> None:
    """The 小樽市 sheet's relationship pointed somewhere else."""
    edit_part(m, "xl/_rels/workbook.xml.rels",
              lambda x: replace_once(x, f'Target="{b.sheet_rel}"', f'Target="{target}"'))


@zipped
def sheet_relationship_to_missing_part(m, b):
    retarget_sheet(m, b, "worksheets/sheet99.xml")


def _sheet_relationship(m, b, edit: Callable[[str, str], str]) -> None:
    """The 小樽市 sheet's relationship element rewritten by ``edit(element, rels part)``."""
    def change(x: str) -> str:
        el = re.search(rf'<Relationship [^>]*Target="{re.escape(b.sheet_rel)}"[^>]*/>', x).group(0)
        return replace_once(x, el, edit(el, x))
    edit_part(m, "xl/_rels/workbook.xml.rels", change)


# python-calamine refused these books whole, naming no sheet, part or Id (「Relationship not
# found」); the sheet had been taken for one without a grid and left unread before it.
@zipped
def sheet_relationship_id_twice(m, b):
    def taken(el: str, x: str) -> str:
        other = re.search(r'<Relationship [^>]*?Id="([^"]*)"', x.replace(el, "")).group(1)
        return re.sub(r'Id="[^"]*"', lambda _m: f'Id="{other}"', el)
    _sheet_relationship(m, b, taken)


@zipped
def sheet_relationship_of_another_type(m, b):
    _sheet_relationship(m, b, lambda el, x: re.sub(r'Type="[^"]*"', 'Type="http://schemas.microsoft.com/office/2006/'
                                                   'relationships/vbaProject"', el))


@zipped
def package_relationships_missing(m, b):
    del m["_rels/.rels"]


@zipped
def workbook_unnamed_in_package_relationships(m, b):
    edit_part(m, "_rels/.rels", lambda x: re.sub(r'<Relationship [^>]*officeDocument"[^>]*/>', "", x))


@zipped
def content_types_missing(m, b):
    del m["[Content_Types].xml"]


def zip_cut_at_60_percent(raw, b):
    return raw[: int(len(raw) * 0.6)], None


def empty_file(raw, b):
    return b"", None


def ole_xls(raw, b):
    return ole_file(), None


def csv_renamed_xlsx(raw, b):
    return "市町村,指標ID,実績値\r\n小樽市,1,2\r\n".encode("utf-8-sig"), ".xlsx"


def png_renamed_xlsm(raw, b):
    return tiny_png(), ".xlsm"


@zipped
def two_sheets_with_one_name(m, b):
    edit_part(m, "xl/workbook.xml", lambda x: replace_once(x, f'name="{b.other_sheet}"', f'name="{MUNI}"'))


@zipped
def defined_name_to_missing_sheet(m, b):
    def fn(x):
        missing = "<definedName name=\"対象年度\">'存在しないシート'!$B$3</definedName>"
        if '<definedName name="対象年度">' in x:
            return re.sub(r'<definedName name="対象年度">[^<]*</definedName>', lambda _m: missing, x)
        x = re.sub(r'(<definedName name="状態一覧">)[^<]*(</definedName>)',
                   lambda mm: mm.group(1) + "'存在しないシート'!$A$2:$A$14" + mm.group(2), x)
        return replace_once(x, "<definedNames>", "<definedNames>" + missing)
    edit_part(m, "xl/workbook.xml", fn)


@zipped
def sheet_root_not_worksheet(m, b):
    edit_part(m, b.sheet_part,
              lambda x: x.replace("<worksheet ", "<chartsheet ").replace("</worksheet>", "</chartsheet>"))


@zipped
def strict_ooxml_namespace(m, b):
    for name in list(m):
        if name.endswith((".xml", ".rels")):
            text = m[name].decode("utf-8")
            m[name] = text.replace(SML, STRICT_SML).replace(OFFICE_REL, STRICT_OFFICE_REL).encode("utf-8")
    assert STRICT_SML.encode() in m["xl/workbook.xml"]


@zipped
def dotdot_relationship_target(m, b):
    retarget_sheet(m, b, "../../../../../etc/passwd")


@zipped
def zip_bomb_member(m, b):
    m["xl/embeddings/zeros.bin"] = bytes(50 * 2**20)


@zipped
def sheet_padded_to_50_mb(m, b):
    """Well-formed XML (whitespace after the root is allowed) that inflates to 50 MB."""
    m[b.sheet_part] = m[b.sheet_part] + b" " * (50 * 2**20)


@zipped
def shared_strings_missing(m, b):
    del m["xl/sharedStrings.xml"]


def duplicate_zip_member(raw, b):
    """The sheet twice under one name, the copies disagreeing: which one is "the" sheet?"""
    members = read_members(raw)
    second = set_cell(members[b.sheet_part].decode("utf-8"), b.number_cell,
                      f'<c r="{b.number_cell}"><v>12345</v></c>').encode("utf-8")
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # zipfile warns "Duplicate name"
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in members.items():
                z.writestr(name, data)
            z.writestr(b.sheet_part, second)
    return buf.getvalue(), None


def sheet_twin_differing_in_case(raw, b):
    """The sheet again under its name in other letters' case, the copies disagreeing. OPC
    holds part names equal but for case to be one part, so which is "the" sheet? The tool's
    parser took the one the relationship names, python-calamine the other: collect imported
    the twin's 12345 in silence (qa-damaged66)."""
    members = read_members(raw)
    folder, _, base = b.sheet_part.rpartition("/")
    twin = f"{folder}/{base.capitalize()}"
    second = set_cell(members[b.sheet_part].decode("utf-8"), b.number_cell,
                      f'<c r="{b.number_cell}"><v>12345</v></c>').encode("utf-8")
    return write_members({**members, twin: second}), None


THEME = "xl/theme/theme1.xml"


def encrypted_zip_member(raw, b):
    """The theme marked encrypted by the ZIP's own password (general purpose flag bit 0 in
    both headers), a part no command reads. Excel encrypts a whole book as an OLE file,
    never a member: collect's testzip raised zipfile's RuntimeError (予期しないエラー), and a
    write copied the member raw without its flag, its cipher bytes taken for a part."""
    out = bytearray(raw)
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        info = z.getinfo(THEME)
    struct.pack_into("<H", out, info.header_offset + 6, info.flag_bits | 1)
    struct.pack_into("<H", out, _central_record(out, info) + 8, info.flag_bits | 1)
    return bytes(out), None


def _central_record(data: bytes, info: zipfile.ZipInfo) -> int:
    """Where ``info``'s record starts in the central directory, which follows its data."""
    at = data.index(b"PK\x01\x02", info.header_offset)
    while data[at + 46:at + 46 + struct.unpack_from("<H", data, at + 28)[0]] != info.filename.encode():
        at = data.index(b"PK\x01\x02", at + 46)
    return at


def overlapping_zip_members(raw, b):
    """Three more entries in the ZIP's directory, each pointing at the theme's data under a
    name of its own (xl/media/image1.png …): the bytes of one part held by four. A write
    copied each entry's bytes anew, so 200 such entries over a 1 MB member made a 1.2 MB
    master a 201 MB one, validate saying it went well; 60,000 would fill a disk."""
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        info, count = z.getinfo(THEME), len(z.infolist())
    at = _central_record(raw, info)
    record = bytearray(raw[at:at + 46])
    struct.pack_into("<3H", record, 30, 0, 0, 0)          # no extra field, no comment
    added = b""
    for k in range(1, 4):
        name = f"xl/media/image{k}.png".encode()
        struct.pack_into("<H", record, 28, len(name))
        added += bytes(record) + name
    end = raw.rindex(b"PK\x05\x06")
    _sig, _disk, _start, _here, _total, size, offset, _comment = struct.unpack_from("<4s4H2LH", raw, end)
    return raw[:end] + added + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count + 3, count + 3,
                                             size + len(added), offset, 0), None


def _damaged_member(raw: bytes, part: str, stored: bool, damage: Callable[[bytearray, int, int], None]) -> bytes:
    """The package with ``part`` (stored or deflated) damaged in place by ``damage``
    (the bytes, where the member's data starts, its length): the zip's directory intact."""
    members = read_members(raw)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data, compress_type=zipfile.ZIP_STORED if stored and name == part else None)
    out = bytearray(buf.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(out))) as z:
        info = z.getinfo(part)
    start = info.header_offset + 30 + len(info.filename.encode("utf-8")) + len(info.extra)
    damage(out, start, info.compress_size)
    return bytes(out)


def _other_digit(data: bytearray, start: int, size: int) -> None:
    """One digit of a value changed: the XML stays well-formed, only its CRC-32 tells."""
    k = data.index(b"<v>", start, start + size) + 3
    assert chr(data[k]).isdigit()
    data[k] = ord("7") if data[k] != ord("7") else ord("8")


def _scrambled(data: bytearray, start: int, size: int) -> None:
    for k in range(start + size // 2, start + size // 2 + 16):
        data[k] ^= 0x5A


def crc_mismatch_in_sheet(raw, b):
    return _damaged_member(raw, b.sheet_part, True, _other_digit), None


def deflate_stream_damaged_in_sheet(raw, b):
    return _damaged_member(raw, b.sheet_part, False, _scrambled), None


# Characters XML 1.0 forbids, in each kind of part the tool reads (issue 19).
@zipped
def control_byte_in_shared_strings(m, b):
    edit_part(m, "xl/sharedStrings.xml", lambda x: replace_once(x, "</t>", "\x01</t>"))


@zipped
def noncharacter_in_shared_strings(m, b):
    edit_part(m, "xl/sharedStrings.xml", lambda x: replace_once(x, "</t>", "\uffff</t>"))


@zipped
def control_reference_in_sheet(m, b):
    edit_part(m, b.sheet_part, lambda x: replace_once(x, b.blank_cell, _text_cell(b, "備考&#x1B;です")))


@zipped
def half_a_character_in_sheet(m, b):
    """A byte of a character without the rest (a part damaged in transit): the formula scan
    of a returned file's sheet decoded it as UTF-8 with a traceback (exit 3)."""
    ref = re.search(r'r="(\w+)"', b.blank_cell).group(1)
    cell = f'<c r="{ref}" t="str"><f>"備考"</f><v>備考'.encode() + b"\xa4" + "です</v></c>".encode()
    assert b.blank_cell.encode() in m[b.sheet_part]
    m[b.sheet_part] = m[b.sheet_part].replace(b.blank_cell.encode(), cell, 1)


@zipped
def control_byte_in_workbook(m, b):
    edit_part(m, "xl/workbook.xml", lambda x: replace_once(x, "<sheets>", "<sheets>\x02"))


@zipped
def sheet_state_excel_has_not(m, b):
    """Another sheet's state (visible, hidden, veryHidden) one Excel does not know: the
    values' reader refuses the whole book. upgrade-macros swapped the macros first and was
    refused only at the key's write after them, the master changed (schema:31375:578)."""
    def fn(x: str) -> str:
        el = re.search(rf'<sheet [^>]*name="{b.other_sheet}"[^>]*/>', x).group(0)
        return replace_once(x, el, re.sub(r' state="[^"]*"', "", el).replace("<sheet ", '<sheet state="x" '))
    edit_part(m, "xl/workbook.xml", fn)


@zipped
def control_byte_in_styles(m, b):
    edit_part(m, "xl/styles.xml", lambda x: replace_once(x, "<fonts", "<!-- \x03 --><fonts"))


@zipped
def control_byte_in_content_types(m, b):
    """The package's list of parts and their types (qa-94: a return's was accepted, where
    the master's is refused)."""
    edit_part(m, "[Content_Types].xml", lambda x: replace_once(x, "<Default", "\x04<Default"))


# Numbers the format types as unsigned indexes, doctored: int() alone raised a traceback on
# 「abc」, and 「-1」 took a list's last entry (another sheet's name, another look) in silence.
def _index_attribute(part: str, pattern: str, new: str, insert: Optional[tuple[str, str]] = None):
    def mutation(m, b):
        def fn(x):
            if insert and not re.search(pattern, x):
                x = replace_once(x, *insert)
            return re.sub(pattern, new, x, count=1)
        edit_part(m, part, fn)
    return mutation


_SCOPED_NAME = ("<definedNames>", '<definedNames><definedName name="範囲" localSheetId="0">$A$1</definedName>')
INDEX_ATTRIBUTES = {
    "defined_name_scope_not_a_number": ("xl/workbook.xml", r'localSheetId="\d+"', 'localSheetId="abc"', _SCOPED_NAME),
    "defined_name_scope_negative": ("xl/workbook.xml", r'localSheetId="\d+"', 'localSheetId="-1"', _SCOPED_NAME),
    # past int()'s 4,300-digit limit: isdigit() passed it and int() raised (a traceback)
    "defined_name_scope_of_5000_digits": ("xl/workbook.xml", r'localSheetId="\d+"', f'localSheetId="{"9" * 5000}"',
                                          _SCOPED_NAME),
    "number_format_id_not_a_number": ("xl/styles.xml", r'<numFmt numFmtId="\d+"', '<numFmt numFmtId="x1"',
                                      ("<fonts", '<numFmts count="1"><numFmt numFmtId="164" formatCode="0"/></numFmts><fonts')),
}


@zipped
def relationships_in_an_unknown_encoding(m, b):
    edit_part(m, "xl/_rels/workbook.xml.rels",
              lambda x: re.sub(r"^<\?xml[^>]*\?>", '<?xml version="1.0" encoding="x-unknown"?>', x))


# A value its cell's type cannot hold, as another tool may write one (Excel calls the file
# damaged and empties the cell in its repair). calamine read the number cell as the text
# 「1,000」 and the tool took 1000, a text's index 「1.5」 as the book's first text, in silence;
# a boolean of 7 or an unknown type refused the sheet without naming the cell.
def _stored(cell: Callable[[str], str]) -> Callable:
    def mutation(m, b):
        edit_part(m, b.sheet_part, lambda x: set_cell(x, b.number_cell, cell(b.number_cell)))
    return mutation


STORED_VALUES = {
    "number_cell_holding_1_comma_000": lambda ref: f'<c r="{ref}"><v>1,000</v></c>',
    "number_cell_holding_full_width_digits": lambda ref: f'<c r="{ref}" t="n"><v>２１</v></c>',
    "number_cell_holding_nan": lambda ref: f'<c r="{ref}"><v>NaN</v></c>',
    "number_cell_of_type_n_spaced": lambda ref: f'<c r="{ref}" t="n"><v> 21 </v></c>',
    "text_index_not_a_whole_number": lambda ref: f'<c r="{ref}" t="s"><v>1.5</v></c>',
    "text_index_padded": lambda ref: f'<c r="{ref}" t="s"><v> 2</v></c>',
    "boolean_cell_holding_7": lambda ref: f'<c r="{ref}" t="b"><v>7</v></c>',
    "cell_of_a_type_excel_has_not": lambda ref: f'<c r="{ref}" t="x"><v>21</v></c>',
    # int() refuses more than 4,300 digits: the walk after calamine's refusal raised ValueError.
    "text_index_of_5000_digits": lambda ref: f'<c r="{ref}" t="s"><v>{"1" * 5000}</v></c>',
    # calamine reads a value tag of any prefix as the value, in a sheet without one too.
    "text_index_in_a_value_tag_of_another_prefix": lambda ref: f'<c r="{ref}" t="s"><y:v>1.5</y:v></c>',
    "number_cell_holding_1_comma_000_in_a_value_tag_with_an_attribute":
        lambda ref: f'<c r="{ref}"><v xml:space="preserve">1,000</v></c>',
    "boolean_cell_holding_minus_1": lambda ref: f'<c r="{ref}" t="b"><v>-1</v></c>',
    "negative_text_index": lambda ref: f'<c r="{ref}" t="s"><v>-1</v></c>',
    # A decimal is passed unless a text cell holds it: its type is read however the cell
    # tag is spaced, and whatever comes before the value in the cell (calamine reads it).
    "text_index_not_a_whole_number_after_a_tab": lambda ref: f'<c r="{ref}"\tt="s"><v>1.5</v></c>',
    "text_index_not_a_whole_number_after_a_formula": lambda ref: f'<c r="{ref}" t="s"><f>1</f><v>1.5</v></c>',
}


CONTROL_IN_PARTS = {"control_byte_in_shared_strings": "xl/sharedStrings.xml",
                    "noncharacter_in_shared_strings": "xl/sharedStrings.xml",
                    "control_reference_in_sheet": None, "control_byte_in_workbook": "xl/workbook.xml",
                    "control_byte_in_styles": "xl/styles.xml",
                    "control_byte_in_content_types": "[Content_Types].xml"}


MUTATIONS: dict[str, Mutation] = {f.__name__: f for f in (
    control_byte_in_shared_strings, noncharacter_in_shared_strings, control_reference_in_sheet,
    control_byte_in_workbook, sheet_state_excel_has_not, control_byte_in_styles, control_byte_in_content_types, half_a_character_in_sheet,
    sheet_cut, styles_cut, styles_without_cellxfs, shared_string_out_of_range, nul_byte_in_text,
    control_byte_in_text, number_of_100000_digits, doctype_in_sheet, doctype_in_shared_strings,
    shared_strings_claiming_four_billion_texts,
    workbook_xml_missing, sheet_relationship_to_missing_part, content_types_missing,
    zip_cut_at_60_percent, empty_file, ole_xls, csv_renamed_xlsx, png_renamed_xlsm,
    two_sheets_with_one_name, defined_name_to_missing_sheet, sheet_root_not_worksheet,
    strict_ooxml_namespace, dotdot_relationship_target, zip_bomb_member, sheet_padded_to_50_mb,
    shared_strings_missing, duplicate_zip_member, crc_mismatch_in_sheet, deflate_stream_damaged_in_sheet,
    sheet_relationship_id_twice, sheet_relationship_of_another_type, package_relationships_missing,
    workbook_unnamed_in_package_relationships, sheet_twin_differing_in_case, encrypted_zip_member,
    overlapping_zip_members)}
MUTATIONS.update({name: zipped(_stored(cell)) for name, cell in STORED_VALUES.items()})
MUTATIONS.update({name: zipped(_index_attribute(*how)) for name, how in INDEX_ATTRIBUTES.items()})
MUTATIONS[relationships_in_an_unknown_encoding.__name__] = relationships_in_an_unknown_encoding


def mutated(name: str, src: Path, book: Book) -> tuple[bytes, Optional[str]]:
    """``MUTATIONS[name]`` of ``src``'s bytes, made once per process for the same mutation,
    book and content: the same damaged master was made again by each test that takes it
    (every mutation, the two commands, the read ahead, upgrade-macros), each rebuilding its
    package (a tenth of the module's CPU). The bytes are immutable and no mutation draws at
    random, so every test gets the bytes it made before."""
    raw = src.read_bytes()
    slot = (name, book, hashlib.sha256(raw).digest())
    if slot not in _MUTATED:
        _MUTATED[slot] = MUTATIONS[name](raw, book)
    return _MUTATED[slot]


_MUTATED: dict[tuple, tuple[bytes, Optional[str]]] = {}

# Damage to one cell: the message names the sheet and the cell.
CELL_LEVEL = {"shared_string_out_of_range", *STORED_VALUES}
# Damage inside one sheet: the message may name the sheet instead of the file.
SHEET_LEVEL = CELL_LEVEL | {"sheet_cut", "nul_byte_in_text", "control_byte_in_text",
               "control_reference_in_sheet", "half_a_character_in_sheet",
               "number_of_100000_digits", "doctype_in_sheet", "sheet_root_not_worksheet",
               "two_sheets_with_one_name", "sheet_relationship_to_missing_part",
               "dotdot_relationship_target", "sheet_padded_to_50_mb", "duplicate_zip_member",
               "crc_mismatch_in_sheet", "deflate_stream_damaged_in_sheet", "sheet_relationship_of_another_type"}
# Damage the message can only place by another name than the file's or the sheet's.
OTHER_NAMES = {"defined_name_to_missing_sheet": ["対象年度", "存在しないシート"],
               **{name: [how[0]] for name, how in INDEX_ATTRIBUTES.items()},
               "relationships_in_an_unknown_encoding": ["xl/_rels/workbook.xml.rels"],
               "sheet_relationship_id_twice": ["xl/_rels/workbook.xml.rels"],
               **{name: [part] for name, part in CONTROL_IN_PARTS.items() if part}}
# Damage whose refusal must say where it is, not only that the file is damaged.
SAID_WHERE = {"sheet_relationship_id_twice": "「xl/_rels/workbook.xml.rels」に同じ Id",
              "sheet_state_excel_has_not": f"シート「{MASTER.other_sheet}」の表示状態（xl/workbook.xml の state=\"x\"）",
              "shared_strings_claiming_four_billion_texts": "共有文字列の部品「xl/sharedStrings.xml」の文字列の数（uniqueCount）が 4,294,967,296",
              "half_a_character_in_sheet": f"シート「{MUNI}」（部品「xl/worksheets/",
              "sheet_relationship_of_another_type": f"シート「{MUNI}」の参照",
              **dict.fromkeys(["package_relationships_missing", "workbook_unnamed_in_package_relationships"],
                              "「_rels/.rels」にブック本体（workbook.xml）への参照がありません"),
              "sheet_twin_differing_in_case": "大文字・小文字だけが違う名前の部品「xl/worksheets/sheet5.xml」と"
                                              "「xl/worksheets/Sheet5.xml」",
              "encrypted_zip_member": f"パスワードで暗号化された部品「{THEME}」",
              "overlapping_zip_members": f"同じデータを ZIP の中で指す部品「{THEME}」と「xl/media/image",
              # which bound it passes: 「50 MB になります（上限 256 MB、圧縮率 200 倍まで）」 named both
              "zip_bomb_member": "「xl/embeddings/zeros.bin」は展開すると 50 MB になります（圧縮された大きさの "}
# The same, said of a returned file (collect names the file, then why).
SAID_IN_RETURNS = {"sheet_twin_differing_in_case": "大文字・小文字だけが違う名前の部品「xl/worksheets/sheet1.xml」と"
                                                   "「xl/worksheets/Sheet1.xml」",
                   "encrypted_zip_member": SAID_WHERE["encrypted_zip_member"]}
# Damage to one value, not to the file: the value is an error finding, its row shows the
# error (never a total), and recalc goes on with the rest, as for any bad cell.
VALUE_LEVEL = {"number_of_100000_digits"}
# Damage a returned file can carry without harm to what is imported: its values are read
# from the sheet alone (formats and the workbook's own names are not used).
HARMLESS_IN_RETURNS = {"styles_without_cellxfs", "defined_name_to_missing_sheet", "number_format_id_not_a_number"}


# ----------------------------------------------------------------------------- running

@dataclass
class Run:
    args: list[str]
    code: int
    out: str
    err: str
    seconds: float
    max_rss_kib: int
    timed_out: bool

    @property
    def text(self) -> str:
        return self.out + self.err

    def __str__(self) -> str:
        return (f"renkei-xl {' '.join(self.args)} -> exit {self.code} in {self.seconds:.1f} s, "
                f"{self.max_rss_kib // 1024} MiB\n--- stdout\n{self.out[-3000:]}\n--- stderr\n{self.err[-3000:]}")


# The child reports its own peak RSS (VmHWM of the process image after exec): wait4's
# ru_maxrss would also count the test process, whose pages a forked child starts with.
WRAPPER = """
import atexit, os, runpy, sys
def _hwm():
    try:
        with open("/proc/self/status") as f:
            kib = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
    except (OSError, StopIteration):
        import resource
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with open(os.environ["RENKEI_TEST_HWM"], "w") as f:
        f.write(str(kib))
atexit.register(_hwm)
sys.argv = ["renkei-xl"] + sys.argv[1:]
runpy.run_module("renkei_xl.cli", run_name="__main__", alter_sys=True)
"""


# root reads a file of mode 000; without these two capabilities it reads as a user does.
AS_A_USER = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
             "--bounding-set=-dac_override,-dac_read_search"]


def run_cli(args: list[str], cwd: Path, as_a_user: bool = False, fresh: bool = False) -> Run:
    """`python -m renkei_xl.cli ARGS` in a child process, with its peak memory and time
    (``as_a_user``: without root's right to read every file). The child is forked from a
    process that has imported the tool (tests/forked_cli.py says why) unless ``fresh`` or
    ``as_a_user`` asks for a new interpreter: a command's own imports and the whole memory
    of a process started for it."""
    tmp = cwd / "_tmp"
    tmp.mkdir(exist_ok=True)
    prefix = AS_A_USER if as_a_user and os.geteuid() == 0 else []
    hwm = tmp / "hwm.txt"
    env = dict(os.environ, PYTHONIOENCODING="utf-8", TMPDIR=str(tmp), RENKEI_TEST_HWM=str(hwm),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    with tempfile.NamedTemporaryFile() as out, tempfile.NamedTemporaryFile() as err:
        if fresh or as_a_user:
            code, maxrss, timed_out, seconds = _run_fresh([*prefix, sys.executable, "-c", WRAPPER, *args], cwd, env,
                                                          out, err)
        else:
            done = run_forked(args, str(cwd), env, out.name, err.name, WRAPPER, TIMEOUT)
            code, maxrss, timed_out, seconds = done["code"], done["maxrss"], done["timed_out"], done["seconds"]
        out.seek(0)
        err.seek(0)
        peak = int(hwm.read_text()) if hwm.exists() else maxrss
        return Run(args, code, out.read().decode("utf-8", "replace"),
                   err.read().decode("utf-8", "replace"), seconds, peak, timed_out)


def _run_fresh(argv: list[str], cwd: Path, env: dict, out, err) -> tuple[int, int, bool, float]:
    start = time.monotonic()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=err, env=env, start_new_session=True)
    # Woken by the child's end (a pidfd reads ready then), not a poll every 10 ms: 168
    # runs in this file slept 5 ms each past their end on average.
    pidfd = os.pidfd_open(proc.pid)
    try:
        ended, _, _ = select.select([pidfd], [], [], TIMEOUT)
    finally:
        os.close(pidfd)
    timed_out = not ended
    if timed_out:
        os.killpg(proc.pid, signal.SIGKILL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    return os.waitstatus_to_exitcode(status), usage.ru_maxrss, timed_out, time.monotonic() - start


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def backups(master: Path) -> list[str]:
    folder = backup_folder(master)
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def without_names(text: str, names: list[str]) -> str:
    """The output with paths and file/sheet names removed, so they cannot pass for Japanese."""
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, "")
    return text


# ----------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="session")
def sample(tmp_path_factory) -> Path:
    return init_master(tmp_path_factory.mktemp("hostile_files") / "sample.xlsm", sample="fy2023")


@pytest.fixture(scope="session")
def returned_sample(sample, tmp_path_factory) -> Path:
    files = split_master(sample, tmp_path_factory.mktemp("split"), echo=lambda _line: None)
    (otaru,) = [p for p in files if p.name.startswith(MUNI)]
    return otaru


def fresh_master(sample: Path, tmp_path: Path, name: str = "master.xlsm") -> Path:
    path = tmp_path / name
    shutil.copyfile(sample, path)
    return path


# A sheet no command reads but one writes (メニュー's last run): its rows and cells are found by
# their r alone. 「s」 as a row stopped validate with a traceback; 「$B$16」 or 「b16」 as a cell
# was read as another column, so the write went beside the cell it meant. Its cell formats (s=)
# are indices too: 「٣」 (Arabic-Indic three, which the regex's \d took and int() read as 3,
# another cell's format) or 5,000 digits (int() raised past its 4,300-digit limit, a traceback)
# is a damaged part, as 1571655 made numFmtId and fillId.
@pytest.mark.parametrize("pattern, doctored", [(r'<row r="\d+"', '<row r="s"'),
                                               (r'<row r="\d+"', f'<row r="{"9" * 5000}"'),   # int() raised
                                               (r'<c r="([A-Z]+)(\d+)"', r'<c r="$\1$\2"'),
                                               (r'<c r="B(\d+)"', r'<c r="b\1"'),
                                               *((r'(<c r="[A-Z]+\d+"[^>]*?) s="\d+"', rf'\1 s="{bad}"')
                                                 for bad in ("\u0663", "9" * 5000))])
def test_a_written_sheet_whose_rows_or_cells_are_misnumbered_is_refused_unchanged(sample, tmp_path, pattern, doctored):
    from renkei_xl.package.workbook import WorkbookXml
    from renkei_xl.package.zipped import Package

    master = fresh_master(sample, tmp_path)
    with Package(master) as pkg:
        part = WorkbookXml(pkg).sheet("メニュー").part
    members = read_members(master.read_bytes())
    edit_part(members, part, lambda x: re.sub(pattern, doctored, x))
    master.write_bytes(write_members(members))
    assert master.read_bytes() != sample.read_bytes()
    before, saved = digest(master), backups(master)
    run = run_cli(["validate", master.name], tmp_path)
    assert run.code == 2 and f"「{part}」が壊れています" in run.err, run
    assert digest(master) == before and backups(master) == saved, run


# ----------------------------------------------------------------------------- controls

def test_undamaged_master_validates(sample, tmp_path):
    master = fresh_master(sample, tmp_path)
    run = run_cli(["validate", master.name], tmp_path, fresh=True)
    assert run.code == 0 and "エラー 0 件" in run.out, run
    assert "Traceback" not in run.text, run


def test_undamaged_master_recalculates(sample, tmp_path):
    master = fresh_master(sample, tmp_path)
    run = run_cli(["recalc", master.name], tmp_path, fresh=True)
    assert run.code == 0 and "52／71" in run.out, run
    assert "Traceback" not in run.text, run
    assert run.max_rss_kib < MAX_RSS_KIB, run


def test_undamaged_returned_file_is_collected(sample, returned_sample, tmp_path):
    master = fresh_master(sample, tmp_path)
    folder = tmp_path / "returned"
    folder.mkdir()
    shutil.copyfile(returned_sample, folder / returned_sample.name)
    run = run_cli(["collect", master.name, folder.name], tmp_path, fresh=True)
    assert run.code == 0 and returned_sample.name in taken(run.out), run
    assert "Traceback" not in run.text, run


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_every_mutation_changes_the_file(sample, returned_sample, name):
    """The corpus is what it claims: each mutation yields bytes unlike the original."""
    for src, book in ((sample, MASTER), (returned_sample, RETURNED)):
        damaged, _suffix = mutated(name, src, book)
        assert damaged != src.read_bytes()


# ----------------------------------------------------------------------------- the corpus

# A run of two or more English words, as a library's own message would bring (names of
# formats the staff see in Excel are fine).
ENGLISH = re.compile(r"[A-Za-z][A-Za-z'`]*(?:[ :,.-]+[A-Za-z][A-Za-z'`]*)+")
PART_NAME = re.compile(r"[\w/\[\]]+\.(?:xml|rels|bin|xlsx|xlsm|xls)\b")
# Product names staff see on their own menus (the way to save a master again names Calc's).
ALLOWED_ENGLISH = ("Office Open XML", "Strict Open XML", "LibreOffice Calc")


def english_leaks(text: str) -> list[str]:
    for term in ALLOWED_ENGLISH:
        text = text.replace(term, "")
    text = PART_NAME.sub("", text)
    return ENGLISH.findall(text)


# The cases whose refusal is about memory (a part that inflates far, a sheet of 50 MB) run in
# a fresh interpreter, as staff start one; the others' children are forked (run_cli).
FRESH_CASES = {"zip_bomb_member", "sheet_padded_to_50_mb"}


def check_common(run: Run, names: list[str], must_name: list[str]) -> None:
    assert not run.timed_out, f"did not finish within {TIMEOUT} s\n{run}"
    assert "Traceback" not in run.text, run
    assert run.code != 3, f"unexpected-error path (exit 3)\n{run}"
    assert JAPANESE.search(without_names(run.text, names)), f"no Japanese beyond the names\n{run}"
    assert any(n in run.text for n in must_name), f"names none of {must_name}\n{run}"
    assert run.max_rss_kib < MAX_RSS_KIB, f"peak memory {run.max_rss_kib // 1024} MiB\n{run}"
    if run.code == 2:
        assert run.err.startswith("エラー: "), run
        assert len(run.err.strip().splitlines()) == 1, f"not one message\n{run}"


def check_no_english(run: Run, names: list[str]) -> None:
    """Last, so that a case fails for this only when it otherwise behaves."""
    leaks = english_leaks(without_names(run.text, names))
    assert not leaks, f"English text leaks to staff: {leaks}\n{run}"


@pytest.mark.parametrize("command", ["validate", "recalc"])
@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_damaged_master(sample, tmp_path, name, command):
    damaged, suffix = mutated(name, sample, MASTER)
    master = tmp_path / ("master" + (suffix or ".xlsm"))
    master.write_bytes(damaged)
    before, saved = digest(master), backups(master)
    run = run_cli([command, master.name], tmp_path, fresh=name in FRESH_CASES)
    names = [str(tmp_path), master.name, master.stem, MUNI]
    must_name = [master.name] + ([MUNI] if name in SHEET_LEVEL else []) + OTHER_NAMES.get(name, [])
    check_common(run, names, must_name)
    if name in CELL_LEVEL:
        assert run.code == 2 and f"シート「{MUNI}」のセル {MASTER.number_cell} が壊れています" in run.err, run
    if name in SAID_WHERE:
        assert run.code == 2 and SAID_WHERE[name] in run.err, run
    if name in CONTROL_IN_PARTS:
        assert run.code == 2 and "制御文字" in run.err and (CONTROL_IN_PARTS[name] or f"シート「{MUNI}」") in run.err, run
    # A value-level error is written and said: exit 1, as validate's (recalc writes its result too).
    allowed = {1, 2} if command == "validate" else ({1} if name in VALUE_LEVEL else {2})
    assert run.code in allowed, f"exit {run.code} (expected {sorted(allowed)})\n{run}"
    if run.code == 2:
        assert digest(master) == before, f"refused, yet the master changed\n{run}"
        assert backups(master) == saved, f"refused, yet a backup was added\n{run}"
    else:
        assert re.search(r"入力チェック: エラー [1-9]", run.out), run
        assert f"[エラー] {MUNI}!" in run.out, run
    check_no_english(run, names)


# upgrade-macros reads each sheet's code name before it writes: its reader of its own stopped
# with a traceback (ParseError, KeyError) where validate named the damaged part. The damage
# it reads past the master check: a sheet, a sheet's relationship, the workbook part. And
# what only the values' reader refuses (the key's write after the macros reads that way).
UPGRADE_READS = ["sheet_cut", "doctype_in_sheet", "control_reference_in_sheet", "sheet_relationship_to_missing_part",
                 "control_byte_in_workbook", "relationships_in_an_unknown_encoding", "sheet_state_excel_has_not"]


@pytest.mark.parametrize("name", UPGRADE_READS)
def test_damaged_master_refused_by_upgrade_macros_unchanged(sample, tmp_path, name):
    damaged, _suffix = mutated(name, sample, MASTER)
    master = tmp_path / "master.xlsm"
    master.write_bytes(damaged)
    before, saved = digest(master), backups(master)
    run = run_cli(["upgrade-macros", master.name], tmp_path, fresh=name == UPGRADE_READS[0])
    names = [str(tmp_path), master.name, master.stem, MUNI]
    check_common(run, names, [master.name, "xl/", f"シート「{MUNI}」", *OTHER_NAMES.get(name, [])])
    assert run.code == 2, run
    assert digest(master) == before and backups(master) == saved, run
    check_no_english(run, names)


def _read_outcome(master: Path):
    """What reading a master gives: its contract data, or the refusal's type and message."""
    from renkei_xl.core.errors import UserError
    from renkei_xl.workbook.session import opened

    try:
        with opened(master) as fs:
            d = fs.data
            return "read", d.settings, d.indicators, d.entries, d.findings
    except UserError as exc:
        return "refused", type(exc).__name__, str(exc)


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_a_sheet_read_ahead_reads_as_one_read_when_asked(sample, tmp_path, monkeypatch, name):
    """Sheets of a large master are parsed on a thread one ahead of the reader, and checked
    on another two ahead (workbook.grids.Grids.read_ahead): damage found there is raised where
    the reader asks for that sheet, the same refusal in the same words, and what is read is
    the same."""
    from renkei_xl.workbook.grids import Grids

    damaged, suffix = mutated(name, sample, MASTER)
    master = tmp_path / ("master" + (suffix or ".xlsm"))
    master.write_bytes(damaged)
    monkeypatch.setattr(Grids, "AHEAD_FROM_BYTES", 10 ** 12)
    when_asked = _read_outcome(master)
    ahead, real = [], Grids._submit
    monkeypatch.setattr(Grids, "AHEAD_FROM_BYTES", 0)
    monkeypatch.setattr(Grids, "_submit",
                        lambda grids, kind, call, name: ahead.append(kind) or real(grids, kind, call, name))
    assert _read_outcome(master) == when_asked
    assert set(ahead) == {0, 1} or when_asked[0] == "refused", f"not both parsed and checked ahead: {ahead}"


@pytest.mark.parametrize("ahead_from", [10 ** 12, 0])
def test_a_refusal_made_ahead_says_the_run_again_in_a_buttons_words(sample, tmp_path, monkeypatch, ahead_from):
    """A sheet's refusal made on a read-ahead thread (workbook.grids) asks a button's click for
    its run again as the click's own thread does (core.face.again): the threads had no
    BY_BUTTON, and a rollover click on a large master was told 「もう一度実行してください」."""
    from renkei_xl.core.face import AGAIN_BY_BUTTON, AGAIN_BY_COMMAND, BY_BUTTON
    from renkei_xl.workbook.grids import Grids

    sheet = read_members(sample.read_bytes())[MASTER.sheet_part].decode("utf-8")
    master = tmp_path / "master.xlsm"
    with_members(sample, master, {MASTER.sheet_part: sheet.replace('encoding="UTF-8"', 'encoding="UTF-16"',
                                                                   1).encode("utf-16")})
    monkeypatch.setattr(Grids, "AHEAD_FROM_BYTES", ahead_from)
    token = BY_BUTTON.set(True)
    try:
        outcome = _read_outcome(master)
    finally:
        BY_BUTTON.reset(token)
    assert outcome[0] == "refused" and "UTF-16" in outcome[2], outcome
    assert f"もう一度{AGAIN_BY_BUTTON}" in outcome[2] and f"もう一度{AGAIN_BY_COMMAND}" not in outcome[2], outcome


def test_a_read_that_stops_early_ends_what_it_read_ahead(sample, tmp_path, monkeypatch):
    """A read stopped before the sheets checked ahead were asked for (a refusal in 設定, an
    interrupted command): closing it cancels the checks still queued, lets the running ones
    end, and raises nothing of theirs (小樽市's damage here was found ahead, never asked
    for); its threads are gone."""
    import threading

    from renkei_xl.package.workbook import WorkbookXml
    from renkei_xl.package.zipped import Package
    from renkei_xl.workbook.grids import Grids

    damaged, _suffix = mutated("doctype_in_sheet", sample, MASTER)
    master = tmp_path / "master.xlsm"
    master.write_bytes(damaged)
    monkeypatch.setattr(Grids, "AHEAD_FROM_BYTES", 0)
    monkeypatch.setattr(Grids, "CHECK_AHEAD", 100)
    before = {t.ident for t in threading.enumerate()}
    with Package(master) as pkg:
        workbook = WorkbookXml(pkg)
        names = [s.name for s in workbook.sheets if s.part is not None]
        grids = Grids(pkg, names, workbook)
        grids.read_ahead([MUNI, *reversed(names)])
        queued = [*grids._pending.values(), *grids._prepared.values()]
        assert len(queued) == len(names), "every sheet parsed or checked ahead"
        grids.close()
    assert all(f.done() for f in queued)
    assert {t.ident for t in threading.enumerate()} <= before, "read-ahead threads left running"


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_damaged_returned_file(sample, returned_sample, tmp_path, name):
    master = fresh_master(sample, tmp_path)
    damaged, suffix = mutated(name, returned_sample, RETURNED)
    folder = tmp_path / "returned"
    folder.mkdir()
    returned = folder / (returned_sample.stem + (suffix or returned_sample.suffix))
    returned.write_bytes(damaged)
    before, saved = digest(master), backups(master)
    run = run_cli(["collect", master.name, folder.name], tmp_path, fresh=name in FRESH_CASES)
    names = [str(tmp_path), returned.name, returned.stem, master.name, folder.name, MUNI]
    if name in HARMLESS_IN_RETURNS:
        assert run.code == 0 and "取り込みました" in run.out, run
        return
    check_common(run, names, [returned.name])
    if name in CELL_LEVEL:
        assert f"シート「{MUNI}」のセル {RETURNED.number_cell} が壊れています" in run.out, run
    if name in CONTROL_IN_PARTS:
        assert "制御文字" in run.out and (CONTROL_IN_PARTS[name] or f"シート「{MUNI}」") in run.out, run
    if name in SAID_IN_RETURNS:
        assert SAID_IN_RETURNS[name] in run.out, run
    if name in VALUE_LEVEL:   # one bad cell: its row is not imported, the cell is named
        assert run.code == 1 and f"{MUNI}!{RETURNED.number_cell}" in run.out, run
        assert "この行は取り込まず、マスターの値のままです" in run.out, run
        check_no_english(run, names)
        return
    # collect exits 1 when it refused a file (cycle_commands.cmd_collect), 2 for an error.
    assert run.code in {1, 2}, f"exit {run.code}: the damaged file was not refused\n{run}"
    assert digest(master) == before, f"nothing was importable, yet the master changed\n{run}"
    assert backups(master) == saved, f"nothing was importable, yet a backup was added\n{run}"
    check_no_english(run, names)


def _place_twice(xml: str, how: str) -> str:
    """The return's 実績値 G20 given 12, then given again as 99: its own <c> a second time in
    its row, its whole row written a second time after it, or two values in its one <c>."""
    if how == "value":
        return set_cell(xml, "G20", '<c r="G20" s="10"><v>12</v><v>99</v></c>')
    if how == "inline text":
        return set_cell(xml, "G20", '<c r="G20" s="10" t="inlineStr"><v>99</v><is><t>12</t></is></c>')
    xml = set_cell(xml, "G20", '<c r="G20" s="10"><v>12</v></c>')
    if how == "cell":
        return replace_once(xml, '<c r="G20" s="10"><v>12</v></c>', '<c r="G20" s="10"><v>12</v></c><c r="G20" s="10"><v>99</v></c>')
    row = re.search(r'<row r="20"[^>]*>.*?</row>', xml, re.S).group(0)
    return replace_once(xml, row, row + row.replace("<v>12</v>", "<v>99</v>"))


@pytest.mark.parametrize("how, said", [("cell", "セル G20 がファイルの中に 2 度書かれています"),
                                       ("row", "セル A20 がファイルの中に 2 度書かれています"),
                                       ("value", "セル G20 に値が 2 つ保存されています"),
                                       ("inline text", "セル G20 の文字列が Excel と違う形で保存されていて")])
def test_a_returned_cell_given_twice_is_refused_not_guessed(sample, returned_sample, tmp_path, how, said):
    """A returned sheet that gives one place twice, or one cell two values (qa-fuzz63):
    python-calamine kept one without a word, so a G20 of 12 and then 99 was collected as 99
    (or as the inline text's 12), a guess between the file's two values, which Excel calls
    damaged. Refused naming the sheet and the first such cell
    (sheet_checks.check_places_once), the master unchanged."""
    master = fresh_master(sample, tmp_path)
    members = read_members(returned_sample.read_bytes())
    edit_part(members, RETURNED.sheet_part, lambda x: _place_twice(x, how))
    (tmp_path / "returned").mkdir()
    (tmp_path / "returned" / returned_sample.name).write_bytes(write_members(members))
    before = digest(master)
    run = run_cli(["collect", master.name, "returned"], tmp_path)
    check_common(run, [str(tmp_path), master.name, returned_sample.name, MUNI], [returned_sample.name])
    assert run.code == 1 and f"シート「{MUNI}」の{said}" in run.out, run
    assert "→ 99" not in run.out and "→ 12" not in run.out and digest(master) == before, run


def test_a_returned_sheet_refused_is_read_once(sample, returned_sample, tmp_path, monkeypatch):
    """A returned sheet the reader refuses was read again at each asking (the identifier
    block twice, then the table): a sheet of styled cells down to the grid's last row (47 MB)
    was measured four times, 1.4 s each, before collect refused it for its extent. The
    refusal is kept as a grid is (workbook.returned.ReturnedBook.grid)."""
    from renkei_xl.cycle.collect.inspect import inspect_file
    from renkei_xl.cycle.collect.records import Refused
    from renkei_xl.workbook.returned import ReturnedBook

    master = fresh_master(sample, tmp_path)
    members = read_members(returned_sample.read_bytes())
    edit_part(members, RETURNED.sheet_part, lambda x: _place_twice(x, "cell"))
    path = tmp_path / returned_sample.name
    path.write_bytes(write_members(members))
    reads, read_grid = [], ReturnedBook._read_grid
    monkeypatch.setattr(ReturnedBook, "_read_grid", lambda wb, name: reads.append(name) or read_grid(wb, name))
    with pytest.raises(Refused, match=f"シート「{MUNI}」のセル G20 がファイルの中に 2 度書かれています"):
        inspect_file(path, load_master(master), master_key_of_file(master))
    assert reads == [MUNI], reads

def test_a_refused_return_is_read_once_to_tell_whose_it_is(sample, returned_sample, tmp_path, monkeypatch):
    """collect read a return it refused a second time, from its bytes, to tell whose it may
    be (inspect.returned_by): a return of a million formula cells below its table took half
    its 12 CPU s there. The book as read tells it (Refused.attribution), and the refusal
    still holds the municipality's other returns as before."""
    from renkei_xl.cycle.collect import _read_returns
    from renkei_xl.workbook.returned import ReturnedBook

    master = fresh_master(sample, tmp_path)
    members = read_members(returned_sample.read_bytes())
    edit_part(members, RETURNED.sheet_part, lambda x: _place_twice(x, "cell"))
    folder = tmp_path / "returns"
    folder.mkdir()
    (folder / returned_sample.name).write_bytes(write_members(members))
    reads, read_grid = [], ReturnedBook._read_grid
    monkeypatch.setattr(ReturnedBook, "_read_grid", lambda wb, name: reads.append(name) or read_grid(wb, name))
    submissions, refusals = _read_returns(load_master(master), [folder], [], master_key_of_file(master), None)
    assert submissions == [] and [r.reason for r in refusals] == [
        f"シート「{MUNI}」のセル G20 がファイルの中に 2 度書かれています（どちらの値が正しいか分かりません。"
        "ファイルが壊れています）。Excel で開いて保存し直してください"], refusals
    assert reads == [MUNI], reads


def _number_cell_edited(sample, returned_sample, tmp_path, book: str, cell: str):
    """The master (``book`` "master": validate) or the sample return (collect) with its
    number cell replaced by ``cell`` (``{at}``: the cell's place); (master, where, arguments)."""
    master = fresh_master(sample, tmp_path)
    src, where = (sample, MASTER) if book == "master" else (returned_sample, RETURNED)
    members = read_members(src.read_bytes())
    edit_part(members, where.sheet_part, lambda x: set_cell(x, where.number_cell, cell.format(at=where.number_cell)))
    if book == "master":
        master.write_bytes(write_members(members))
        return master, where, ["validate", master.name]
    (tmp_path / "returned").mkdir()
    (tmp_path / "returned" / returned_sample.name).write_bytes(write_members(members))
    return master, where, ["collect", master.name, "returned"]



@pytest.mark.parametrize("cell", ['<c r="{at}" t="inlineStr"><v>5</v></c>',
                                  '<c r="{at}" t="inlineStr"><is><t>12</t></is><v>5</v></c>',
                                  '<c r="{at}" t="n"><is><t>12</t></is></c>',
                                  '<c r="{at}" t="s"><is><t>12</t></is></c>',
                                  '<c r="{at}"><is><t>12</t></is></c>',
                                  '<c r="{at}" t="inlineStr"><is><t>5</t><t>7</t></is></c>'])
@pytest.mark.parametrize("book", ["master", "returned"])
def test_an_inline_text_the_readers_part_on_is_refused_naming_its_cell(sample, returned_sample, tmp_path, book, cell):
    """A cell whose inline text is not the one thing its inlineStr cell holds (qa-cells63):
    <c t="inlineStr"><v>5</v></c> was read as empty (python-calamine, LibreOffice), so a
    return cleared the master's value without a word; an <is> in a t="n"/"s" cell is 12 to
    calamine and empty to LibreOffice and openpyxl; two <t> side by side are 「57」 or 「7」.
    Refused naming sheet and cell, on the master (validate) and on a return (collect),
    the master unchanged (sheet_checks.check_inline_texts)."""
    master, where, args = _number_cell_edited(sample, returned_sample, tmp_path, book, cell)
    before = digest(master)
    run = run_cli(args, tmp_path)
    assert run.code != 0, run
    assert f"シート「{MUNI}」のセル {where.number_cell} の文字列が Excel と違う形で保存されていて" in run.text, run
    assert digest(master) == before, run


@pytest.mark.parametrize("spelt, named", [(" #N/A", "#N/A"), ("#REF!\n", "#REF!"), ("\t#DIV/0!", "#DIV/0!")])
@pytest.mark.parametrize("book", ["master", "returned"])
def test_an_error_value_spaced_in_its_cell_is_named_on_its_cell(sample, returned_sample, tmp_path, book, spelt, named):
    """An error cell whose saved value has a space or a line break around its code
    (<c t="e"><v> #N/A</v>): python-calamine takes only the code as written, and the sheet
    was refused whole, 「Excel にないエラー値のセルがあります」 naming no cell, where 「#n/a」
    was named on its row (qa-fuzz63). Both readers give calamine a copy it reads
    (sheet_checks.calamine_readable) and name the error on its cell."""
    master, where, args = _number_cell_edited(sample, returned_sample, tmp_path, book,
                                              '<c r="{at}" t="e"><v>' + spelt.replace("{", "{{").replace("}", "}}") + '</v></c>')
    run = run_cli(args, tmp_path)
    check_common(run, [str(tmp_path), master.name, returned_sample.name, MUNI], [MUNI])
    assert "Excel にないエラー値" not in run.text, run
    assert f"{MUNI}!{where.number_cell}" in run.text and f"「{named}」" in run.text, run


@pytest.mark.parametrize("how", ["empty", "cut"])
@pytest.mark.parametrize("part", ["xl/styles.xml", "xl/sharedStrings.xml"])
@pytest.mark.parametrize("book", ["master", "returned"])
def test_a_part_calamine_opens_that_is_no_xml_is_named(sample, returned_sample, tmp_path, book, part, how):
    """A book whose styles or shared strings are no XML (empty, or cut in half): python-
    calamine refuses to open it, and collect said only 「壊れているか、Excel のブックでは
    ありません」, validate 「…の値を読めません（ファイルが壊れています）」, naming no part, where an
    empty docProps/custom.xml was named with its line (qa-fuzz63). Named now by both readers
    as every part the tool parses itself (sheet_checks.unopened_part)."""
    master = fresh_master(sample, tmp_path)
    members = read_members((sample if book == "master" else returned_sample).read_bytes())
    members[part] = b"" if how == "empty" else members[part][: len(members[part]) // 2]
    if book == "master":
        master.write_bytes(write_members(members))
        args, code = ["validate", master.name], 2
    else:
        (tmp_path / "returned").mkdir()
        (tmp_path / "returned" / returned_sample.name).write_bytes(write_members(members))
        args, code = ["collect", master.name, "returned"], 1
    before = digest(master)
    run = run_cli(args, tmp_path)
    check_common(run, [str(tmp_path), master.name, returned_sample.name, MUNI], [part])
    assert run.code == code and f"ブックの部品「{part}」が壊れています（XML の" in run.text, run
    assert digest(master) == before, run


MERGES_NOT_WALKED = {
    # one merge over 実績値 from its first row to rows past Excel's grid: collect walked its rows
    "rows past the grid": ('<mergeCell ref="G20:G99999999999"/>', 1, f"{MUNI}!G20 "),
    # five thousand whole-column merges beside the inputs: a million rows walked each
    "whole columns": ('<mergeCell ref="K1:K1048576"/>' * 5000, 0, "取り込みました"),
}


@pytest.mark.parametrize("case", sorted(MERGES_NOT_WALKED))
def test_a_returned_sheets_merged_areas_are_judged_in_bounded_time(sample, returned_sample, tmp_path, case):
    """A returned sheet's merged areas are asked about its input cells only (collect.inspect's
    _merged_inputs): walking each area's rows, <mergeCell ref="G20:G99999999999"/> kept
    collect in a loop without end, and whole-column merges took a minute per thousand. The
    input cells under an area are named with it; an area beside them changes nothing."""
    merges, code, said = MERGES_NOT_WALKED[case]
    master = fresh_master(sample, tmp_path)
    members = read_members(returned_sample.read_bytes())
    edit_part(members, RETURNED.sheet_part, lambda x: re.sub(r"<mergeCells\b[^>]*>", lambda m: m.group(0) + merges,
                                                               x, count=1))
    folder = tmp_path / "returned"
    folder.mkdir()
    (folder / returned_sample.name).write_bytes(write_members(members))
    run = run_cli(["collect", master.name, folder.name], tmp_path)
    assert not run.timed_out and run.code == code and said in run.out, run
    if code:
        assert "実績値のセルが結合されています（G20:G99999999999）" in run.out, run


def _rows_formatted_to(end: int, hidden: int) -> Callable[[bytes], bytes]:
    """Every row past the sheet's last one up to ``end`` formatted whole (<row s
    customFormat>, as staff colouring whole columns leaves), row ``hidden`` among them hidden."""
    def grow(xml: bytes) -> bytes:
        last = max(int(r) for r in re.findall(rb'<row r="(\d+)"', xml))
        rows = "".join(f'<row r="{r}" s="11" customFormat="1"/>' for r in range(last + 1, end + 1))
        rows = rows.replace(f'<row r="{hidden}" ', f'<row r="{hidden}" hidden="1" ', 1)
        return xml.replace(b"</sheetData>", rows.encode("ascii") + b"</sheetData>", 1)
    return grow


def test_a_return_formatted_down_to_far_rows_is_read_near_its_table(sample, returned_sample, tmp_path, monkeypatch):
    """A return whose sheet holds a row element for each of the grid's 1,048,576 rows: it was
    imported, but collect took 13 s and 430 MB, indexing every row (package.cells.SheetCells.
    rows) to find the formats of the input cells near the top. Rows are read only as far as
    the table's (SheetCells.row): counted here, as time and memory depend on the machine, on
    a sheet formatted to row 100,000 (all of the grid took the test 2 s; the count read
    without the fix is the rows', whatever their number). A row hidden far below still
    counts as hidden (cells.hidden_rows)."""
    from renkei_xl.cycle.collect.inspect import inspect_file
    from renkei_xl.package import cells

    master = fresh_master(sample, tmp_path)
    path = _grown_master(returned_sample, tmp_path / returned_sample.name, RETURNED.sheet_part,
                         _rows_formatted_to(100_000, hidden=99_000))
    data = load_master(master)
    read = []
    row_number = cells._row_number
    monkeypatch.setattr(cells, "_row_number", lambda text, part: read.append(text) or row_number(text, part))
    submission = inspect_file(path, data, master_key_of_file(master))
    assert submission.municipality == MUNI and submission.values and submission.held == (), submission.held
    assert 0 < len(read) < 1000, f"{len(read):,} rows read"
    from renkei_xl.workbook.returned import ReturnedBook

    with ReturnedBook(path.read_bytes(), path.name) as wb:
        wb.grid(MUNI)
        assert wb.hidden_rows(MUNI) == {99_000}


def _many_small_elements(xml: str, count: int) -> str:
    """``xml`` with ``count`` small elements, each its own attribute value (so that the part
    packs no better than a real one), in an extLst before the root's end."""
    end = xml.rindex("</")
    return xml[:end] + f'<extLst><ext uri="{{61}}">{_small_elements(count)}</ext></extLst>' + xml[end:]


@functools.lru_cache(maxsize=1)
def _small_elements(count: int) -> str:
    """``count`` small elements, the same each time (seeded): made once for both books of
    the test below, the master's and the return's (two million of them took a second)."""
    import random

    rng = random.Random(61)
    return "".join('<b c="%08x"/>' % rng.getrandbits(32) for _ in range(count))


@pytest.mark.parametrize("book", ["master", "returned"])
def test_a_part_of_millions_of_elements_is_refused_before_its_tree_is_built(sample, returned_sample, tmp_path, book):
    """A part read as an element tree (package.xml.parse) holding two million small
    elements: the tree took 350 bytes an element, so a 37 MB master whose styles.xml held
    six million went past 2 GiB and out with a MemoryError and a traceback, within the part
    limit and the packing ratio. Refused by its tags' count (MAX_TREE_TAGS), naming the part."""
    part = "xl/styles.xml" if book == "master" else "docProps/custom.xml"
    master = fresh_master(sample, tmp_path)
    src = sample if book == "master" else returned_sample
    members = read_members(src.read_bytes())
    edit_part(members, part, lambda x: _many_small_elements(x, 2_000_000))
    if book == "master":
        master.write_bytes(write_members(members))
        args, names = ["validate", master.name], [str(tmp_path), master.name, master.stem]
    else:
        (tmp_path / "returned").mkdir()
        (tmp_path / "returned" / returned_sample.name).write_bytes(write_members(members))
        args, names = ["collect", master.name, "returned"], [str(tmp_path), master.name, returned_sample.name]
    before = digest(master)
    run = run_cli(args, tmp_path)
    check_common(run, names, [part])
    assert run.code == (2 if book == "master" else 1) and f"「{part}」の XML のタグが多すぎます" in run.text, run
    assert digest(master) == before, run


@pytest.mark.parametrize("dimension", ["A1:G" + "9" * 5000, "A1:XFD99999999999"])
def test_a_dimension_past_the_grid_is_left_as_it_was_when_collect_writes_the_sheet(sample, returned_sample, tmp_path,
                                                                                    dimension):
    """小樽市's <dimension> in the master spelt with a row of 5,000 digits: every check passed,
    and collect stopped with 予期しないエラー (ValueError from int()) as it widened the hint
    to the cell it wrote. A hint the grid cannot hold is left as it was (package.cells)."""
    members = read_members(sample.read_bytes())
    edit_part(members, MASTER.sheet_part,
              lambda x: re.sub(r'<dimension ref="[^"]*"/>', lambda _m: f'<dimension ref="{dimension}"/>', x, count=1))
    master = tmp_path / "master.xlsm"
    master.write_bytes(write_members(members))
    returned = read_members(returned_sample.read_bytes())
    edit_part(returned, RETURNED.sheet_part, lambda x: re.sub(r'(<c r="G20"[^>]*>)<v>[^<]*</v>', r"\g<1><v>3</v>",
                                                               x, count=1))
    (tmp_path / "returned").mkdir()
    (tmp_path / "returned" / returned_sample.name).write_bytes(write_members(returned))
    run = run_cli(["collect", master.name, "returned"], tmp_path)
    check_common(run, [str(tmp_path), master.name, returned_sample.name], [master.name])
    assert run.code == 0 and "1 セルを取り込みました" in run.out, run
    assert f'<dimension ref="{dimension}"/>'.encode() in read_members(master.read_bytes())[MASTER.sheet_part], run


def test_a_chart_anchored_past_the_grid_does_not_stop_recalc(sample, tmp_path):
    """A chart's anchor on 集計 whose <xdr:col> is 5,000 digits (a hand-edited or hostile
    drawing): recalc, which names the charts a rebuild drops by their top left cell, stopped
    with 予期しないエラー (ValueError from int()). An anchor off the grid names no cell
    (package.drawing._top_left), as an absolute one."""
    master = fresh_master(sample, tmp_path)
    assert run_cli(["recalc", master.name], tmp_path).code == 0     # 集計 gets its charts
    members = read_members(master.read_bytes())
    (drawing,) = [p for p in members if p.startswith("xl/drawings/") and p.endswith(".xml")]
    edit_part(members, drawing, lambda x: re.sub(r"(<xdr:from>\s*<xdr:col>)\d+", lambda m: m.group(1) + "9" * 5000,
                                                 x, count=1))
    master.write_bytes(write_members(members))
    run = run_cli(["recalc", master.name], tmp_path)
    check_common(run, [str(tmp_path), master.name, master.stem], [master.name])
    assert run.code == 0, run


# A cell's row spelt with 5,000 digits, where the used range is measured: the last cell
# (read backwards from sheetData's end) or one out of order before it (sheet_form.far_rows),
# a plain cell or an error value. Every command stopped with 「予期しないエラー」 (int()
# refuses past 4,300 digits); the sheet is damaged, said so naming it (qa-walkers61).
_FAR = "9" * 5000
ROWS_PAST_INTS_DIGITS = {
    "last cell": lambda x: x.replace("</sheetData>", f'<row r="30000"><c r="A{_FAR}"><v>1</v></c></row></sheetData>'),
    "last error cell": lambda x: x.replace("</sheetData>",
                                           f'<row r="30000"><c r="B{_FAR}" t="e"><v>#N/A</v></c></row></sheetData>'),
    # a negative number is put back where calamine reads a time (sheet_form._number_cell),
    # before the range is measured
    "last negative number": lambda x: x.replace("</sheetData>",
                                                f'<row r="30000"><c r="B{_FAR}"><v>-5</v></c></row></sheetData>'),
    "cell out of order": lambda x: re.sub(r'(<c r="[A-Z]+\d+")', lambda m: f'<c r="Z{_FAR}"><v>1</v></c>' + m.group(1),
                                          x, count=1),
}


@pytest.mark.parametrize("where", sorted(ROWS_PAST_INTS_DIGITS))
@pytest.mark.parametrize("command", ["validate", "recalc"])
def test_a_master_cell_numbered_past_ints_digits_is_refused_naming_the_sheet(sample, tmp_path, where, command):
    _master_edited_is_refused(sample, tmp_path, command, ROWS_PAST_INTS_DIGITS[where],
                              f"シート「小樽市」の行番号「{'9' * 20}」が読めません（ファイルが壊れています）")


def _master_edited_is_refused(sample, tmp_path, command: str, edit, said: str) -> None:
    """``command`` on the sample master with its 小樽市 sheet part edited by ``edit``: exit 2
    saying ``said``, and the master left byte-identical."""
    members = read_members(sample.read_bytes())
    edit_part(members, MASTER.sheet_part, edit)
    master = tmp_path / "master.xlsm"
    master.write_bytes(write_members(members))
    before = digest(master)
    run = run_cli([command, master.name], tmp_path)
    check_common(run, [str(tmp_path), master.name], [master.name])
    assert run.code == 2 and said in run.text, run
    assert digest(master) == before, run


@pytest.mark.parametrize("where", sorted(ROWS_PAST_INTS_DIGITS))
def test_a_returned_cell_numbered_past_ints_digits_refuses_that_file_naming_it(sample, returned_sample, tmp_path,
                                                                               where):
    master = fresh_master(sample, tmp_path)
    members = read_members(returned_sample.read_bytes())
    edit_part(members, RETURNED.sheet_part, ROWS_PAST_INTS_DIGITS[where])
    (tmp_path / "returned").mkdir()
    (tmp_path / "returned" / returned_sample.name).write_bytes(write_members(members))
    before = digest(master)
    run = run_cli(["collect", master.name, "returned"], tmp_path)
    check_common(run, [str(tmp_path), master.name, returned_sample.name], [returned_sample.name])
    assert run.code == 1 and f"シート「小樽市」の行番号「{'9' * 20}」が読めません" in run.text, run
    assert digest(master) == before, run


def _percent_style(members: dict[str, bytes]) -> int:
    """The index of the sample's first cell format showing a percent (0.0%)."""
    styles = members["xl/styles.xml"].decode()
    percent = {m.group(1) for m in re.finditer(r'<numFmt numFmtId="(\d+)" formatCode="[^"]*%"', styles)} | {"9", "10"}
    xfs = re.findall(r"<xf\b[^>]*>", re.search(r"<cellXfs[^>]*>(.*?)</cellXfs>", styles, re.S).group(1))
    return next(i for i, xf in enumerate(xfs) if re.search(r'numFmtId="(\d+)"', xf).group(1) in percent)


@pytest.mark.parametrize("address", ["abc", "B0", "B" + "0" * 5000])
@pytest.mark.parametrize("command", ["validate", "recalc"])
def test_a_percent_cell_whose_address_is_no_cell_is_refused_naming_the_part(sample, tmp_path, address, command):
    """A cell in a percent format whose r is 「abc」 or row 0 (however many zeros): the
    reader of a sheet's percent and Currency cells (package.cells.numbers_styled) stopped
    with 「予期しないエラー」 (ValueError from refs.parse_ref). Small letters, and a row with
    a leading zero, make the sheet one in another form (sheet_form.survey), whose rewriting
    refuses the cell as no cell of the grid, naming the sheet and the address. (A row padded
    with zeros before its digits is that row: test_a_percent_cell_spelt_otherwise_….)"""
    style = _percent_style(read_members(sample.read_bytes()))
    said = f"シート「小樽市」のセルの位置「{address[:20]}」が読めません"
    _master_edited_is_refused(sample, tmp_path, command, lambda x: x.replace(
        "</sheetData>", f'<row r="30000"><c r="{address}" s="{style}"><v>0.5</v></c></row></sheetData>'), said)


# A percent cell's place and format as no application writes them, each read by Excel and
# python-calamine as E3 in format N (review62, forms62).
SPELT_OTHERWISE = {
    "s padded": lambda style: f'<c r="E3" s="0{style}">',
    "s padded with 5000 zeros": lambda style: f'<c r="E3" s="{"0" * 5000}{style}">',
    "s after a tab": lambda style: f'<c r="E3"\ts="{style}">',
    "s after a line break": lambda style: f'<c r="E3"\n s="{style}">',
    "s spaced": lambda style: f'<c r="E3" s = "{style}">',
    "s with a space inside": lambda style: f'<c r="E3" s=" {style}">',
    "row padded": lambda style: f'<c r="E03" s="{style}">',
    "row padded with 5000 zeros": lambda style: f'<c r="E{"0" * 5000}3" s="{style}">',
    # s after another attribute, in any spelling Excel reads (review63, leftalone63)
    "s padded after t": lambda style: f'<c r="E3" t="n" s="0{style}">',
    "s spaced after t": lambda style: f'<c r="E3" t="n" s = "{style}">',
    "s spaced before = after t": lambda style: f'<c r="E3" t="n" s ="{style}">',
    "s with a space inside after t": lambda style: f'<c r="E3" t="n" s=" {style}">',
    "s first and padded": lambda style: f'<c s="0{style}" r="E3">',
    "s padded after cm": lambda style: f'<c r="E3" cm="1" s="0{style}">',
    "s with a space inside after vm": lambda style: f'<c r="E3" vm="1" s=" {style}">',
}


@pytest.mark.parametrize("spelling", sorted(SPELT_OTHERWISE))
def test_a_percent_cell_spelt_otherwise_shows_its_percent_to_the_reader(sample, tmp_path, spelling):
    """A percent cell (0.0%) holding 0.5 at E3 of 小樽市, its s 「09」 or after a tab, or its
    r 「E03」: Excel shows 50.0%. The reader looked for `` s="9"`` where the book had few
    percent formats (package.cells.styles_named) and read 0.5, as a number of another
    meaning, without a word; a row padded with 5,000 zeros refused the master as damaged,
    while the range check and calamine read row 3. Rewritten in the usual form
    (sheet_form.survey), every scan reads one spelling: E3 shows 50%."""
    members = read_members(sample.read_bytes())
    style = _percent_style(members)
    edit_part(members, MASTER.sheet_part, lambda x: re.sub(r'<c r="E3"[^>]*?(?:/>|>.*?</c>)',
                                                          SPELT_OTHERWISE[spelling](style) + "<v>0.5</v></c>", x,
                                                          count=1))
    path = tmp_path / "m.xlsm"
    path.write_bytes(write_members(members))
    data = load_master(path)
    (entry,) = [e for e in data.entries if e.sheet == MUNI and e.cells["value"] == "E3"]
    assert entry.value == "50%", entry


@pytest.mark.parametrize("padded", ["0", "0" * 5000])
def test_a_percent_format_whose_number_is_padded_with_zeros_shows_a_percent_to_the_reader_too(sample, tmp_path, padded):
    """A cell format whose numFmtId is 「0165」 is format 165 (0.0%) to the writer's reader of
    styles (index_attribute, unsigned_number) as to Excel; the reader of a sheet's percent
    cells (sheet_checks.shown_styles, bytes) compared the id as written with 「165」 and
    read a cell showing 50% as 0.5. Read as the number it is, the cell is 50% again."""
    members = read_members(sample.read_bytes())
    style, styles = _percent_style(members), members["xl/styles.xml"].decode()
    block = re.search(r"<cellXfs[^>]*>(.*?)</cellXfs>", styles, re.S)
    xf = list(re.finditer(r"<xf\b[^>]*>", block.group(1)))[style]
    at = block.start(1) + xf.start()
    members["xl/styles.xml"] = (styles[:at] + re.sub(r'numFmtId="(\d+)"', rf'numFmtId="{padded}\1"', xf.group(0))
                                + styles[at + len(xf.group(0)):]).encode()
    edit_part(members, MASTER.sheet_part, lambda x: re.sub(r'<c r="E3"[^>]*?(?:/>|>.*?</c>)',
                                                          f'<c r="E3" s="{style}"><v>0.5</v></c>', x,
                                                          count=1))
    path = tmp_path / "m.xlsm"
    path.write_bytes(write_members(members))
    data = load_master(path)
    (entry,) = [e for e in data.entries if e.sheet == MUNI and e.cells["value"] == "E3"]
    assert entry.value == "50%", entry


def test_a_negative_number_whose_row_is_padded_with_5000_zeros_is_read_in_its_row(sample, tmp_path):
    """int() counts leading zeros toward its 4,300 digits: a negative number (put back where
    calamine reads a time, sheet_form._number_cell) in B000…030000 stopped validate with
    「予期しないエラー」. Its row is 30,000, as the range check and calamine read it."""
    members = read_members(sample.read_bytes())
    edit_part(members, MASTER.sheet_part, lambda x: x.replace(
        "</sheetData>", f'<row r="30000"><c r="B{"0" * 5000}30000"><v>-5</v></c></row></sheetData>'))
    master = tmp_path / "master.xlsm"
    master.write_bytes(write_members(members))
    run = run_cli(["validate", master.name], tmp_path)
    check_common(run, [str(tmp_path), master.name], [master.name])
    assert run.code in (0, 1), run


_PADDED = "B" + "0" * 5000 + "30000"   # row 30,000 with 5,000 leading zeros (int() counts them)
PADDED_ROWS = {
    "error value": f'<c r="{_PADDED}" t="e"><v>#N/A</v></c>',
    "text": f'<c r="{_PADDED}" t="inlineStr"><is><t>x</t></is></c>',
    "number": f'<c r="{_PADDED}"><v>5</v></c>',
    "formula": f'<c r="{_PADDED}"><f>1+1</f><v>2</v></c>',
    "shared formula": f'<c r="{_PADDED}"><f t="shared" ref="{_PADDED}:C{"0" * 5000}30000" si="9">1+1</f><v>2</v></c>',
    "error formula": f'<c r="{_PADDED}" t="e"><f>1/0</f><v>#DIV/0!</v></c>',
}


@pytest.mark.parametrize("cell", sorted(PADDED_ROWS))
def test_a_cell_whose_row_is_padded_with_5000_zeros_is_read_in_its_row(sample, tmp_path, cell):
    """The row of B000…030000 is 30,000, as the range check (sheet_form.row_number) and
    calamine read it. The reader of a sheet's error values (sheet_checks.cached_errors)
    handed its digits to int(), which counts the zeros toward its 4,300 digits: validate
    stopped with 「予期しないエラー」 (qa-walkers61 fixed the negative number's reader only).
    Texts, numbers and formulas are the cases read right before, kept beside it."""
    members = read_members(sample.read_bytes())
    edit_part(members, MASTER.sheet_part, lambda x: x.replace(
        "</sheetData>", f'<row r="30000">{PADDED_ROWS[cell]}</row></sheetData>'))
    master = tmp_path / "master.xlsm"
    master.write_bytes(write_members(members))
    run = run_cli(["validate", master.name], tmp_path)
    check_common(run, [str(tmp_path), master.name], [master.name])
    assert run.code in (0, 1) and "予期しない" not in run.text, run


def test_a_hidden_row_numbered_past_ints_digits_hides_nothing(sample, returned_sample, tmp_path):
    """A returned sheet's hidden row spelt with 5,000 digits (no cell in it): collect, which
    reads the rows a municipality hid, stopped with 「予期しないエラー」 (ValueError from
    int()). No row of the grid is numbered so: it hides nothing (package.cells.hidden_rows)."""
    master = fresh_master(sample, tmp_path)
    members = read_members(returned_sample.read_bytes())
    edit_part(members, RETURNED.sheet_part, lambda x: re.sub(r'(<c r="G20"[^>]*>)<v>[^<]*</v>', r"\g<1><v>3</v>",
                                                                  x.replace("</sheetData>", f'<row r="{_FAR}" hidden="1"/></sheetData>'),
                                                                  count=1))
    (tmp_path / "returned").mkdir()
    (tmp_path / "returned" / returned_sample.name).write_bytes(write_members(members))
    run = run_cli(["collect", master.name, "returned"], tmp_path)
    check_common(run, [str(tmp_path), master.name, returned_sample.name], [master.name])
    assert run.code == 0 and "1 セルを取り込みました" in run.out, run


def test_a_shape_whose_id_is_past_ints_digits_does_not_stop_recalc(sample, tmp_path):
    """A shape beside 集計's charts whose cNvPr id is 5,000 digits: recalc, which numbers the
    new charts after the kept shapes' ids, stopped with 予期しないエラー (ValueError from
    int()). Such an id is no unsignedInt, and no new id can meet it (package.drawing)."""
    master = fresh_master(sample, tmp_path)
    assert run_cli(["recalc", master.name], tmp_path).code == 0     # 集計 gets its charts
    members = read_members(master.read_bytes())
    (drawing,) = [p for p in members if p.startswith("xl/drawings/") and p.endswith(".xml")]
    place = "<xdr:col>{}</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>{}</xdr:row><xdr:rowOff>0</xdr:rowOff>"
    shape = (f'<xdr:twoCellAnchor><xdr:from>{place.format(1, 1)}</xdr:from><xdr:to>{place.format(3, 3)}</xdr:to>'
             f'<xdr:sp macro="" textlink=""><xdr:nvSpPr><xdr:cNvPr id="{_FAR}" name="メモ"/><xdr:cNvSpPr/></xdr:nvSpPr>'
             '<xdr:spPr><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr></xdr:sp><xdr:clientData/>'
             '</xdr:twoCellAnchor>')
    edit_part(members, drawing, lambda x: x.replace("</xdr:wsDr>", shape + "</xdr:wsDr>"))
    master.write_bytes(write_members(members))
    run = run_cli(["recalc", master.name], tmp_path)
    check_common(run, [str(tmp_path), master.name, master.stem], [master.name])
    assert run.code == 0, run


# ================================================================ error values (issue 19)
# Excel's error values, cached as a formula's result or typed as text, in every place an
# input is read, and formulas saved without a result. Each case is the real sample master
# (or the 小樽市 return split from it) with one cell rewritten, read by the real file reader
# in this process (fast), and held to: an error finding naming sheet!cell and the error,
# the row － with the reason in 一覧's note, 達成割合 leaving it out and saying so; a
# setting refused; a returned row not imported while the master keeps its value.

from renkei_xl.core.errors import UserError  # noqa: E402
from renkei_xl.core.model import NOT_EVALUABLE  # noqa: E402
from renkei_xl.core.pipeline import recalculate  # noqa: E402
from renkei_xl.core.values import ERROR_VALUES, INPUT_ERROR  # noqa: E402
from renkei_xl.cycle.collect import plan_collect  # noqa: E402
from renkei_xl.cycle.distribute import master_key_of_file  # noqa: E402
from renkei_xl.workbook.session import load_master, recalc_file  # noqa: E402

ISSUE_ERRORS = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
                "#SPILL!", "#CALC!")


def cached_error(ref: str, error: str) -> str:
    """What Excel saves for a formula whose result is an error (=#REF!+1, =1/0 …)."""
    return f'<c r="{ref}" t="e"><f>IFERROR(1,1)+0*NA()</f><v>{error}</v></c>'


def typed_text(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def uncached_formula(ref: str) -> str:
    """A formula saved without its result, as openpyxl and other libraries write it."""
    return f'<c r="{ref}"><f>10+7</f></c>'


FORMS = {"cached": cached_error, "typed": typed_text}


def with_cells(src: Path, dst: Path, part: str, cells: dict[str, str]) -> Path:
    """A formula among ``cells`` holds the result Excel saved with it: the master is then as
    Excel saves it, without the request to calculate on opening that the tool's build left
    (conftest.calc_pr_as_excel_saves), or the file face would take that result as stale.
    The parts changed are written anew, the others copied as they are packed
    (conftest.with_members: repacking every part was most of this helper's time)."""
    with zipfile.ZipFile(src) as z:
        members = {name: z.read(name) for name in (part, "xl/workbook.xml")}

    def fn(xml: str) -> str:
        for ref, cell in cells.items():
            xml = set_cell(xml, ref, cell)
        return xml
    edit_part(members, part, fn)
    if any(re.search(r"<f[\s>]", cell) for cell in cells.values()):
        calc_pr_as_excel_saves(members)
    else:
        del members["xl/workbook.xml"]
    with_members(src, dst, members)
    return dst


@pytest.fixture(scope="session")
def sample_data(sample):
    data = load_master(sample)
    return data, recalculate(data.settings, data.indicators, data.entries, data.findings)


@pytest.fixture(scope="session")
def places(sample_data):
    """Where each input place is in the sample: (sheet, part, cell, 指標ID, extra cells)."""
    data, base = sample_data
    parts = {"設定": "xl/worksheets/sheet2.xml", "指標": "xl/worksheets/sheet3.xml",
             "札幌市": "xl/worksheets/sheet4.xml"}
    sapporo = next(e for e in data.entries if e.municipality == "札幌市" and e.indicator_id == "04-1")
    # A 中心市のみ row, ◎ in the sample, made 手入力 so that its 実績値（手入力） is what counts.
    central = next(i for i in data.indicators if i.method == "中心市のみ" and not i.is_kpi
                   and base.evaluations[i.id].symbol == "◎" and i.cells.get("actual_manual"))
    status = next(i for i in data.indicators if i.id == "04-1")
    return {
        "municipality 実績値": ("札幌市", parts["札幌市"], sapporo.cell("value"), "04-1", {}),
        "指標 実績値（手入力）": ("指標", parts["指標"], central.cell("actual_manual"), central.id,
                             {central.cell("method"): typed_text(central.cell("method"), "手入力")}),
        "指標 実施状況（手入力）": ("指標", parts["指標"], status.cell("status_manual"), "04-1", {}),
    }


def _read_or_refusal(path: Path):
    try:
        data = load_master(path)
    except UserError as exc:
        return None, str(exc)
    return recalculate(data.settings, data.indicators, data.entries, data.findings), None


def assert_row_left_out(result, base, sheet: str, cell: str, ind_id: str, fragment: str) -> None:
    found = [f for f in result.findings if f.sheet == sheet and f.cell == cell]
    assert found and all(f.is_error for f in found), found
    assert any(fragment in f.message for f in found), found
    ev = result.evaluations[ind_id]
    assert ev.symbol == NOT_EVALUABLE and f"{sheet}!{cell}" in ev.reason, ev
    assert result.consolidated[ind_id].actual == INPUT_ERROR
    note = result.consolidated[ind_id].status_text.splitlines()[0]
    assert note.startswith("※入力エラーのため評価不可") and f"{sheet}!{cell}" in note, note
    # No other symbol moved: the row left the 達成割合, which says so.
    moved = {i for i, e in result.evaluations.items() if e.symbol != base.evaluations[i].symbol}
    assert moved <= {ind_id, "01-1"}, moved
    was = base.evaluations[ind_id].symbol
    assert result.summary.evaluable == base.summary.evaluable - (was in "◎□×")
    assert result.summary.left_out == 1
    assert "入力エラーで評価不可の1件を除く" in result.consolidated["01-1"].status_text


VALUE_CASES = [(place, form, error) for place in ("municipality 実績値", "指標 実績値（手入力）",
                                                  "指標 実施状況（手入力）")
               for form in FORMS for error in ISSUE_ERRORS]


def test_the_issue_names_the_error_values_the_core_knows():
    assert set(ISSUE_ERRORS) <= set(ERROR_VALUES)


@pytest.mark.parametrize("place,form,error", VALUE_CASES, ids=[f"{p}-{f}-{e}" for p, f, e in VALUE_CASES])
def test_an_error_value_in_an_input_is_a_finding_and_the_row_is_left_out(
        sample, sample_data, places, tmp_path, place, form, error):
    sheet, part, cell, ind_id, extra = places[place]
    path = with_cells(sample, tmp_path / "m.xlsm", part, {cell: FORMS[form](cell, error), **extra})
    result, refusal = _read_or_refusal(path)
    assert refusal is None, refusal
    assert_row_left_out(result, sample_data[1], sheet, cell, ind_id, f"エラー値「{error}」")


# Cells stored as an error (t="e") whatever they hold, and a text in an error's shape: an
# error value every time, never empty and never a text (a code Excel adds later included).
ODD_ERRORS = {
    "empty value": lambda ref: f'<c r="{ref}" t="e"><v></v></c>',
    "no value": lambda ref: f'<c r="{ref}" t="e"/>',
    "a code Excel may add": lambda ref: f'<c r="{ref}" t="e"><f>PY(0,0)</f><v>#TIMEOUT!</v></c>',
    "a text unlike an error": lambda ref: f'<c r="{ref}" t="e"><v>abc</v></c>',
    "typed new code": lambda ref: typed_text(ref, "#TIMEOUT!"),
    "no value, with a style": lambda ref: f'<c r="{ref}" s="1" t="e"></c>',
    # A <v> with attributes, as other writers spell it: a known code calamine reads, and one
    # it does not (which turned the whole sheet into "XML が壊れている").
    "#N/A, value with space kept": lambda ref: f'<c r="{ref}" t="e"><v xml:space="preserve">#N/A</v></c>',
    "#SPILL!, value with space kept": lambda ref: f'<c r="{ref}" t="e"><v xml:space="preserve">#SPILL!</v></c>',
}
ODD_SHOWN = {"#N/A, value with space kept": "#N/A」", "#SPILL!, value with space kept": "#SPILL!」"}
ODD_CASES = [(place, odd) for place in ("municipality 実績値", "指標 実施状況（手入力）") for odd in ODD_ERRORS]


@pytest.mark.parametrize("place,odd", ODD_CASES, ids=[f"{p}-{o}" for p, o in ODD_CASES])
def test_any_cell_stored_as_an_error_is_an_error_value_in_the_master(
        sample, sample_data, places, tmp_path, place, odd):
    sheet, part, cell, ind_id, extra = places[place]
    path = with_cells(sample, tmp_path / "m.xlsm", part, {cell: ODD_ERRORS[odd](cell), **extra})
    result, refusal = _read_or_refusal(path)
    assert refusal is None, refusal
    assert_row_left_out(result, sample_data[1], sheet, cell, ind_id, "エラー値「" + ODD_SHOWN.get(odd, "#"))


# The other spellings of a number SpreadsheetML allows, which calamine reads as Excel does:
# still read (the damage check refuses only what a number cell cannot hold). An empty value
# is an empty cell to every reader, Excel's too.
NUMBER_SPELLINGS = {"1e1": 10, "+10": 10, " 10 ": 10, "10.": 10, ".5E1": 5, "1.0E+1": 10, "": None}


@pytest.mark.parametrize("stored", list(NUMBER_SPELLINGS))
def test_a_number_stored_in_another_spelling_is_still_read(sample, tmp_path, stored):
    from renkei_xl.workbook.session import load_master as load

    path = with_cells(sample, tmp_path / "m.xlsm", MASTER.sheet_part,
                      {MASTER.number_cell: f'<c r="{MASTER.number_cell}"><v>{stored}</v></c>'})
    entry = next(e for e in load(path).entries if e.municipality == MUNI and e.cell("value") == MASTER.number_cell)
    assert entry.value == ("" if NUMBER_SPELLINGS[stored] is None else str(NUMBER_SPELLINGS[stored])), entry.value


SETTING_CELLS = {"対象年度": "B3", "概ね達成閾値": "B5", "区分": "B10"}
SETTING_CASES = [(name, form, error) for name in SETTING_CELLS for form in FORMS for error in ISSUE_ERRORS
                 if name == "対象年度" or error in ("#REF!", "#N/A")]


@pytest.mark.parametrize("name,form,error", SETTING_CASES, ids=[f"{n}-{f}-{e}" for n, f, e in SETTING_CASES])
def test_an_error_value_in_a_setting_refuses_the_run(sample, tmp_path, name, form, error):
    ref = SETTING_CELLS[name]
    path = with_cells(sample, tmp_path / "m.xlsm", "xl/worksheets/sheet2.xml", {ref: FORMS[form](ref, error)})
    result, refusal = _read_or_refusal(path)
    assert result is None
    assert f"設定!{ref}" in refusal and name in refusal and f"エラー値「{error}」" in refusal, refusal


def test_the_formula_error_of_the_issue_on_the_command_line(sample, tmp_path):
    """The issue's own case: 札幌市's 04-1 実績値 `=#REF!+1`, cached #REF!. Before, validate
    found nothing and recalc gave ◎51 with 04-1 ×; now it is an error finding, 04-1 is －
    with the reason in 一覧, and 達成割合 says one row was left out."""
    import openpyxl

    master = with_cells(sample, tmp_path / "master.xlsm", "xl/worksheets/sheet4.xml",
                        {"E5": '<c r="E5" s="12" t="e"><f>#REF!+1</f><v>#REF!</v></c>'})
    run = run_cli(["validate", master.name], tmp_path)
    assert run.code == 1 and "[エラー] 札幌市!E5 04-1: 実績値がエラー値「#REF!」です" in run.out, run
    # validate wrote 検証結果 and メニュー and, as 札幌市 holds a formula, asked Excel to
    # calculate on opening; =#REF!+1 reads neither, so recalc goes on without an Excel save
    # between (core.calc_on_load: the record of the sheets a write changed).
    run = run_cli(["recalc", master.name], tmp_path)
    assert run.code in (0, 1) and "◎51" in run.out and "－5" in run.out, run
    assert "51／70 = 72.9%（入力エラーで評価不可の1件を除く）" in run.out, run
    wb = openpyxl.load_workbook(master, read_only=True)
    rows = [r for r in wb["一覧"].iter_rows(values_only=True) if "04-1" in r or "01-1" in r]
    row = next(r for r in rows if "04-1" in r)
    assert "－" in row and INPUT_ERROR in row
    assert any(isinstance(v, str) and v.startswith("※入力エラーのため評価不可（札幌市!E5") for v in row), row
    meta = next(r for r in rows if "01-1" in r)
    assert any(isinstance(v, str) and "入力エラーで評価不可の1件を除く" in v for v in meta), meta
    summary = [v for r in wb["集計"].iter_rows(values_only=True) for v in r if isinstance(v, str)]
    assert any("入力エラーで評価不可の1件を除く" in v for v in summary), summary


# -------------------------------------------------------------------- formulas without result

UNCACHED_MASTER = {
    "municipality 実績値": ("札幌市", "xl/worksheets/sheet4.xml", "E5", "04-1"),
    "municipality 実施状況": ("札幌市", "xl/worksheets/sheet4.xml", "G5", "04-1"),
}


@pytest.mark.parametrize("place", ["municipality 実績値", "municipality 実施状況", "指標 実績値（手入力）",
                                   "指標 実施状況（手入力）"])
def test_a_formula_without_result_in_an_input_is_a_finding_saying_how_to_mend_it(
        sample, sample_data, places, tmp_path, place):
    if place in UNCACHED_MASTER:
        sheet, part, cell, ind_id = UNCACHED_MASTER[place]
        extra = {}
    else:
        sheet, part, cell, ind_id, extra = places[place]
    path = with_cells(sample, tmp_path / "m.xlsm", part, {cell: uncached_formula(cell), **extra})
    result, refusal = _read_or_refusal(path)
    assert refusal is None, refusal
    assert_row_left_out(result, sample_data[1], sheet, cell, ind_id, "Excel で開いて保存し直す")


def _unused_cells(data) -> dict[str, tuple[str, str, str, str]]:
    """Cells of an indicator's rows that its symbol does not use (sheet, part, cell, 指標ID):
    a 中心市のみ row's 実績値（手入力）, set aside while the central city reports a value, and
    the central city's 実施状況 on a row it leaves without a value, where 指標's 実施状況（手入力）
    is what 一覧 shows, and a municipality sheet's 評価指標, a label the contract does not read."""
    parts = {"指標": "xl/worksheets/sheet3.xml", "札幌市": "xl/worksheets/sheet4.xml"}
    sapporo = {e.indicator_id: e for e in data.entries if e.municipality == "札幌市"}
    set_aside = next(i for i in data.indicators if i.method == "中心市のみ" and not i.is_kpi
                     and i.id in sapporo and sapporo[i.id].value and not i.actual_manual)
    unshown = next(i for i in data.indicators if i.method == "中心市のみ" and i.status_manual
                   and i.id in sapporo and not sapporo[i.id].value and not sapporo[i.id].status)
    return {"set-aside 実績値（手入力）": ("指標", parts["指標"], set_aside.cell("actual_manual"), set_aside.id),
            "unshown 実施状況": ("札幌市", parts["札幌市"], sapporo[unshown.id].cell("status"), unshown.id),
            "municipality 評価指標 (a label)": ("札幌市", parts["札幌市"], sapporo["04-1"].cell("name"), "04-1")}


@pytest.mark.parametrize("place", ["set-aside 実績値（手入力）", "unshown 実施状況", "municipality 評価指標 (a label)"])
def test_a_formula_without_result_moves_no_symbol_an_error_value_there_would_not(sample, sample_data, tmp_path, place):
    """One rule for every cell that cannot be read: a row is － for a formula saved without
    its result exactly where it is － for an error value in the same cell (validate.
    input_errors). A cell the row does not use (test_hostile_values:
    test_a_bad_value_that_does_not_feed_the_row_does_not_stop_it) kept its symbol with 「#N/A」
    in it and turned ◎ into － with a formula whose result was not saved, taking the row out
    of the 達成割合 (52／71 became 51／70) for a value nothing reads. Found by qa-91."""
    data, base = sample_data
    sheet, part, cell, ind_id = _unused_cells(data)[place]
    said = {}
    for form, xml in (("cached", cached_error(cell, "#N/A")), ("uncached", uncached_formula(cell))):
        result, refusal = _read_or_refusal(with_cells(sample, tmp_path / f"{form}.xlsm", part, {cell: xml}))
        assert refusal is None, refusal
        assert form == "cached" or any(f.is_error for f in result.findings if f.place == f"{sheet}!{cell}"), \
            result.findings      # (a label's error value is split's to refuse: test_error_cells)
        said[form] = {i: (e.symbol, e.reason) for i, e in result.evaluations.items()}
    assert said["uncached"] == said["cached"] == {i: (e.symbol, e.reason) for i, e in base.evaluations.items()}, \
        (ind_id, said["uncached"][ind_id], said["uncached"]["01-1"])


@pytest.mark.parametrize("name", list(SETTING_CELLS))
def test_a_setting_without_result_refuses_the_run(sample, tmp_path, name):
    ref = SETTING_CELLS[name]
    path = with_cells(sample, tmp_path / "m.xlsm", "xl/worksheets/sheet2.xml", {ref: uncached_formula(ref)})
    result, refusal = _read_or_refusal(path)
    assert result is None and f"設定!{ref}" in refusal and name in refusal, refusal
    assert "Excel で開いて保存し直す" in refusal


# ------------------------------------------------------------------------------ returned files

RETURN_PART, RETURN_VALUE, RETURN_STATUS, RETURN_OTHER = "xl/worksheets/sheet1.xml", "G20", "I20", "G22"
RETURN_CASES = ([(form, error, RETURN_VALUE) for form in FORMS for error in ISSUE_ERRORS]
                + [("typed", "#N/A", RETURN_STATUS), ("cached", "#REF!", RETURN_STATUS),
                   ("uncached", "", RETURN_VALUE), ("uncached", "", RETURN_STATUS),
                   ("refused by the rules", "約10件", RETURN_VALUE)])


@pytest.mark.parametrize("form,error,cell", RETURN_CASES, ids=[f"{f}-{e}-{c}" for f, e, c in RETURN_CASES])
def test_a_bad_returned_cell_is_not_imported_and_is_listed(sample, returned_sample, tmp_path, form, error, cell):
    """The row with the bad cell keeps the master's values; the file's other rows come in;
    the cell is named in the report and on 取込履歴."""
    bad = (uncached_formula(cell) if form == "uncached" else
           typed_text(cell, error) if form in ("typed", "refused by the rules") else cached_error(cell, error))
    folder = tmp_path / "returned"
    folder.mkdir()
    path = with_cells(returned_sample, folder / returned_sample.name, RETURN_PART,
                      {cell: bad, RETURN_OTHER: f'<c r="{RETURN_OTHER}"><v>5</v></c>'})
    master = fresh_master(sample, tmp_path)
    data = load_master(master)
    report = plan_collect(data, [path], key=master_key_of_file(master))
    changes, refusals, records, held = report.changes, report.refusals, report.records, report.held_by_file
    assert refusals == [] and len(records) == 1
    (name, found), = held
    assert name == path.name and [f.place for f in found] == [f"{MUNI}!{cell}"], found
    assert all(f.is_error and f.indicator_id == "04-1" for f in found)
    if error:
        assert error in found[0].message
    assert not [ch for ch in changes if ch.indicator_id == "04-1"], changes   # the master's row stays
    assert [(ch.indicator_id, ch.new) for ch in changes] == [("06-1", 5)]      # the rest came in
    assert records[0].held_cells.startswith(f"{MUNI}!{cell}（")


@pytest.mark.parametrize("odd", list(ODD_ERRORS))
def test_a_returned_cell_stored_as_an_error_is_held_whatever_it_holds(sample, returned_sample, tmp_path, odd):
    """Before, <c t="e"/> and <v></v> read as empty (the master's 2 became 空欄) and an
    error code not on the tool's list was imported as text."""
    folder = tmp_path / "returned"
    folder.mkdir()
    path = with_cells(returned_sample, folder / returned_sample.name, RETURN_PART,
                      {RETURN_VALUE: ODD_ERRORS[odd](RETURN_VALUE), RETURN_OTHER: f'<c r="{RETURN_OTHER}"><v>5</v></c>'})
    master = fresh_master(sample, tmp_path)
    report = plan_collect(load_master(master), [path], key=master_key_of_file(master))
    assert report.refusals == [] and len(report.records) == 1
    (name, found), = report.held_by_file
    assert [f.place for f in found] == [f"{MUNI}!{RETURN_VALUE}"] and found[0].is_error, found
    assert "エラー値「#" in found[0].message, found
    assert [(ch.indicator_id, ch.new) for ch in report.changes] == [("06-1", 5)]


# A formula's saved result in a value tag with attributes (<v xml:space="preserve">, as the
# error cases above spell it for other writers): taken for a formula without its result, a
# returned 12 was held as 「数式に計算結果が保存されていません」 and a master's 17 refused
# its row (qa-values63). The error readers took the tag so already.
SPACED_RESULTS = {"number": ('<f>10+2</f><v xml:space="preserve">12</v>', 12),
                  "text": ('<f>"1"&amp;"2"</f><v xml:space="preserve">12</v>', 12)}


@pytest.mark.parametrize("kind", list(SPACED_RESULTS))
def test_a_returned_formulas_result_in_a_value_tag_with_attributes_is_its_result(sample, returned_sample, tmp_path,
                                                                                 kind):
    inner, new = SPACED_RESULTS[kind]
    t = ' t="str"' if kind == "text" else ""
    folder = tmp_path / "returned"
    folder.mkdir()
    path = with_cells(returned_sample, folder / returned_sample.name, RETURN_PART,
                      {RETURN_VALUE: f'<c r="{RETURN_VALUE}"{t}>{inner}</c>'})
    master = fresh_master(sample, tmp_path)
    report = plan_collect(load_master(master), [path], key=master_key_of_file(master))
    assert report.refusals == [] and report.held_by_file == [], (report.refusals, report.held_by_file)
    assert [(ch.indicator_id, ch.new) for ch in report.changes] == [("04-1", new)]


def test_a_masters_formula_result_in_a_value_tag_with_attributes_is_its_result(sample, tmp_path):
    path = with_cells(sample, tmp_path / "m.xlsm", "xl/worksheets/sheet4.xml",
                      {"E5": '<c r="E5"><f>10+7</f><v xml:space="preserve">17</v></c>'})
    result, refusal = _read_or_refusal(path)
    assert refusal is None, refusal
    assert not [f for f in result.findings if f.place == "札幌市!E5"], result.findings


def test_a_bad_returned_cell_on_the_command_line_keeps_the_masters_value(sample, returned_sample, tmp_path):
    import openpyxl

    folder = tmp_path / "returned"
    folder.mkdir()
    with_cells(returned_sample, folder / returned_sample.name, RETURN_PART,
               {RETURN_VALUE: cached_error(RETURN_VALUE, "#DIV/0!"), RETURN_OTHER: f'<c r="{RETURN_OTHER}"><v>5</v></c>'})
    master = fresh_master(sample, tmp_path)
    run = run_cli(["collect", master.name, folder.name], tmp_path)
    assert run.code == 1, run
    assert f"取り込みません: {returned_sample.name}: {MUNI}!{RETURN_VALUE} 04-1: 実績値がエラー値「#DIV/0!」" in run.out, run
    assert "取り込まなかったセル 1 か所" in run.out, run
    wb = openpyxl.load_workbook(master, read_only=True)
    otaru = {r[0]: r for r in wb[MUNI].iter_rows(values_only=True)}
    assert otaru["04-1"][4] == 2 and otaru["06-1"][4] == 5       # kept, imported
    log = list(wb["取込履歴"].iter_rows(values_only=True))
    assert log[0][6] == "取り込まなかったセル" and log[1][6].startswith(f"{MUNI}!{RETURN_VALUE}（"), log


@pytest.mark.parametrize("name", sorted(CONTROL_IN_PARTS))
def test_forbidden_characters_stop_split_before_any_file_is_made(sample, tmp_path, name):
    damaged, _suffix = mutated(name, sample, MASTER)
    master = tmp_path / "master.xlsm"
    master.write_bytes(damaged)
    before = digest(master)
    run = run_cli(["split", master.name, "--outdir", "out"], tmp_path, fresh=name == min(CONTROL_IN_PARTS))
    assert run.code == 2 and "制御文字" in run.err, run
    assert (CONTROL_IN_PARTS[name] or f"シート「{MUNI}」") in run.err, run
    assert digest(master) == before and backups(master) == []
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir()), run


# ------------------------------------------------------------------------------ not a file

def _not_a_file(kind: str, path: Path) -> None:
    if kind == "folder":
        path.mkdir()
    elif kind == "device":
        path.symlink_to("/dev/zero")       # reading it never ends
    elif kind == "fifo":
        os.mkfifo(path)                    # opening it waits for a writer
    else:
        path.write_bytes(b"PK\x03\x04")
        path.chmod(0)


NOT_A_FILE = ["folder", "device", "fifo", "unreadable"]


@pytest.mark.parametrize("kind", NOT_A_FILE)
@pytest.mark.parametrize("role", ["master", "return"])
def test_what_is_not_a_file_is_refused_in_japanese_naming_it(sample, tmp_path_factory, kind, role):
    work = tmp_path_factory.mktemp("not_a_file")
    master = fresh_master(sample, work)
    if role == "master":
        target = work / "bad.xlsm"
        _not_a_file(kind, target)
        args = ["validate", target.name]
    else:
        folder = work / "returned"
        folder.mkdir()
        target = folder / "小樽市_2023年度_入力.xlsx"
        _not_a_file(kind, target)
        args = ["collect", master.name, folder.name]
    before = digest(master)
    run = run_cli(args, work, as_a_user=kind == "unreadable")
    if role == "master":
        assert not run.timed_out and run.code == 2, run
        assert run.err.startswith("エラー: ") and len(run.err.strip().splitlines()) == 1, run
        assert target.name in run.err and JAPANESE.search(without_names(run.err, [target.name, str(work)])), run
    else:   # refused on its own, as any return that cannot be taken (the others would be imported)
        assert not run.timed_out and run.code == 1, run
        said = next(line for line in run.out.splitlines() if line.startswith(f"・{target.name}: "))
        assert JAPANESE.search(without_names(said, [target.name, str(work)])), run
    assert "予期しない" not in run.text and "Traceback" not in run.text, run
    assert not (work / "_tmp" / "renkei-xl-error.log").exists(), "an error log was written"
    assert digest(master) == before and backups(master) == []


def test_a_row_whose_indicator_id_is_an_error_leaves_no_partial_total(sample, sample_data, tmp_path):
    """小樽市's row of 04-1 with 指標ID #N/A (a broken lookup): its 2件 belong to an indicator
    nobody can name, so 04-1 (合計, which 小樽市 reports) is －, never a total without them."""
    otaru = next(e for e in sample_data[0].entries if e.municipality == MUNI and e.indicator_id == "04-1")
    ref = otaru.cell("indicator_id")
    path = with_cells(sample, tmp_path / "m.xlsm", MASTER.sheet_part, {ref: cached_error(ref, "#N/A")})
    result, refusal = _read_or_refusal(path)
    assert refusal is None, refusal
    assert [f.type for f in result.findings if f.place == f"{MUNI}!{ref}"] == ["formula-error"]
    moved = {i for i, e in result.evaluations.items() if e.symbol != sample_data[1].evaluations[i].symbol}
    ev = result.evaluations["04-1"]
    assert ev.symbol == NOT_EVALUABLE and f"{MUNI}!{ref}" in ev.reason and "#N/A" in ev.reason, ev
    # Only rows 小樽市 reports and has no other row for can move (none here but 04-1) and 達成割合.
    assert moved <= {"04-1", "01-1"}, moved


# ------------------------------------------------------------------ sheets in another XML form
# XML lets a writer leave out a row's or a cell's r (the next place is meant) and quote an
# attribute with ' or space it around =. Excel never does; a script or a foreign generator
# may. The reader's byte scans (error values, formulas without a result, the extent) must
# read such a sheet as the same sheet (renkei_xl.workbook.sheet_form).

def single_quoted(xml: str) -> str:
    def tag(m: re.Match) -> str:
        return re.sub(r'(\s[\w:]+)="([^"]*)"', lambda a: f"{a.group(1)}='{a.group(2).replace(chr(39), '&apos;')}'",
                      m.group(0))
    return re.sub(r"<[^?!/][^>]*>", tag, xml)


def spaced(xml: str) -> str:
    return re.sub(r"<[^?!/][^>]*>", lambda m: re.sub(r'(\s[\w:]+)="', r'\1 = "', m.group(0)), xml)


def without_positions(xml: str) -> str:
    """Every r left out, the places kept: an empty row for each row skipped, an empty cell
    for each column skipped, as a writer without r must write them."""
    out, last_row, pos = [], 0, 0
    for m in re.finditer(r'<row\b([^>]*?)(/>|>(.*?)</row>)', xml, re.S):
        r = int(re.search(r'\sr="(\d+)"', m.group(1)).group(1))
        out.append(xml[pos:m.start()] + "<row/>" * (r - last_row - 1))
        attrs = re.sub(r'\sr="\d+"', "", m.group(1))
        if m.group(2) == "/>":
            out.append(f"<row{attrs}/>")
        else:
            cells, last_col = [], 0
            for c in re.finditer(r'<c\b([^>]*?)(/>|>.*?</c>)', m.group(3), re.S):
                ref = re.search(r'\sr="([A-Z]+)\d+"', c.group(1)).group(1)
                col = sum((ord(ch) - 64) * 26 ** i for i, ch in enumerate(reversed(ref)))
                cells.append("<c/>" * (col - last_col - 1) + "<c" + re.sub(r'\sr="[A-Z]+\d+"', "", c.group(1))
                             + c.group(2))
                last_col = col
            out.append(f"<row{attrs}>" + "".join(cells) + "</row>")
        last_row, pos = r, m.end()
    out.append(xml[pos:])
    return "".join(out)


def lower_case_places(xml: str) -> str:
    """Every cell's place in small letters (「g20」), and a few absolute (「$G$20」): python-calamine
    reads both where the capitals stand, the scans read capitals only, so an error value so
    placed came through as an empty cell (qa-fuzz62)."""
    out = re.sub(r'(<c\b[^>]*?\sr=")([A-Z]+)(\d+)"', lambda m: f'{m.group(1)}{m.group(2).lower()}{m.group(3)}"', xml)
    return re.sub(r'(<row r="2\d"[^>]*>.*?<c\b[^>]*?\sr=")([a-z]+)(\d+)"',
                  lambda m: f'{m.group(1)}${m.group(2).upper()}${m.group(3)}"', out, flags=re.S)


OTHER_FORMS = {"single quotes": single_quoted, "spaced": spaced, "without r": without_positions,
               "lower-case places": lower_case_places}


def _in_form(path: Path, dst: Path, part: str, form) -> Path:
    with zipfile.ZipFile(path) as z:
        members = {part: z.read(part)}
    edit_part(members, part, form)
    with_members(path, dst, members)
    return dst


@pytest.mark.parametrize("form", sorted(OTHER_FORMS))
def test_a_master_sheet_in_another_xml_form_reads_as_the_same_sheet(sample, sample_data, places, tmp_path, form):
    """An error value and a formula without a result on 札幌市, and the 指標 sheet, written
    in the other form: the same findings, the same evaluations (never an empty cell)."""
    sheet, part, cell, ind_id, _ = places["municipality 実績値"]
    data = sample_data[0]
    other = next(e for e in data.entries if e.municipality == sheet and e.indicator_id != ind_id and e.value)
    usual = with_cells(sample, tmp_path / "usual.xlsm", part, {cell: cached_error(cell, "#REF!"),
                                                                other.cell("value"): uncached_formula(other.cell("value"))})
    formed = _in_form(usual, tmp_path / "formed.xlsm", part, OTHER_FORMS[form])
    formed = _in_form(formed, formed, "xl/worksheets/sheet3.xml", OTHER_FORMS[form])
    assert formed.read_bytes() != usual.read_bytes()
    want, refusal = _read_or_refusal(usual)
    assert refusal is None, refusal
    assert {f.place for f in want.findings} >= {f"{sheet}!{cell}", f"{sheet}!{other.cell('value')}"}
    got, refusal = _read_or_refusal(formed)
    assert refusal is None, refusal
    assert [(f.place, f.type, f.message) for f in got.findings] == [(f.place, f.type, f.message) for f in want.findings]
    assert got.evaluations == want.evaluations and got.consolidated == want.consolidated


@pytest.mark.parametrize("form", ["single quotes", "spaced"])
def test_a_sheet_in_another_xml_form_numbering_a_row_past_ints_digits_is_refused_in_japanese(sample, places, tmp_path,
                                                                                           form):
    """A row numbered with 5,000 digits in a sheet another writer saved (read by rewriting it
    in the usual form, sheet_form.in_usual_form): isdigit() passed it and int() raised past
    its 4,300-digit limit, 「予期しないエラー」 (qa-132). A damaged sheet, said so, as 「s」 is."""
    sheet, part, *_ = places["municipality 実績値"]
    doctored = _in_form(sample, tmp_path / "formed.xlsm", part,
                        lambda x: OTHER_FORMS[form](re.sub(r'<row r="\d+"', f'<row r="{"1" * 5000}"', x, count=1)))
    _data, refusal = _read_or_refusal(doctored)
    assert refusal is not None and f"シート「{sheet}」の行番号「{'1' * 20}」が読めません（ファイルが壊れています）" in refusal, refusal


@pytest.mark.parametrize("space", ["\u3000", "\xa0"])
def test_a_sheet_in_another_xml_form_reads_its_rows_as_the_writer_does(sample, places, tmp_path, space):
    """A row's r is an unsignedInt, read by one rule (package.xml.unsigned_number): the writer
    (package.cells) refused 「　1」 (an ideographic or no-break space before the digits) as a
    damaged part, while the reader of a sheet in another form (sheet_form.row_number, its own
    copy of the rule with Python's strip) read it as row 1, so the same file was read and
    then refused. Both refuse it now, the reader naming the sheet."""
    sheet, part, *_ = places["municipality 実績値"]
    doctored = _in_form(sample, tmp_path / "formed.xlsm", part,
                        lambda x: OTHER_FORMS["spaced"](re.sub(r'<row r="(\d+)"', rf'<row r="{space}\1"', x, count=1)))
    _data, refusal = _read_or_refusal(doctored)
    assert refusal is not None and f"シート「{sheet}」の行番号「{space}" in refusal, refusal


@pytest.mark.parametrize("form", sorted(OTHER_FORMS))
def test_a_returned_sheet_in_another_xml_form_is_held_as_the_same_sheet(sample, returned_sample, tmp_path, form):
    folder = tmp_path / "returned"
    folder.mkdir()
    path = with_cells(returned_sample, folder / returned_sample.name, RETURN_PART,
                      {RETURN_VALUE: cached_error(RETURN_VALUE, "#N/A"), RETURN_STATUS: uncached_formula(RETURN_STATUS),
                       RETURN_OTHER: f'<c r="{RETURN_OTHER}"><v>5</v></c>'})
    _in_form(path, path, RETURN_PART, OTHER_FORMS[form])
    master = fresh_master(sample, tmp_path)
    report = plan_collect(load_master(master), [path], key=master_key_of_file(master))
    changes, refusals, records, held = report.changes, report.refusals, report.records, report.held_by_file
    assert refusals == [], refusals
    (_, found), = held
    assert sorted(f.place for f in found) == [f"{MUNI}!{RETURN_VALUE}", f"{MUNI}!{RETURN_STATUS}"], found
    assert [(ch.indicator_id, ch.new) for ch in changes] == [("06-1", 5)]


def move_part(members: dict[str, bytes], old: str, new: str, target: Optional[str] = None) -> None:
    """``old`` stored as ``new`` (OPC lets a writer name its parts as it likes), the workbook's
    relationship to it written as ``target`` (``new`` relative to xl/ unless given) and its
    content type moved with it."""
    members[new] = members.pop(old)
    was, now = old.removeprefix("xl/"), target or new.removeprefix("xl/")
    edit_part(members, "xl/_rels/workbook.xml.rels", lambda x: replace_once(x, f'Target="{was}"', f'Target="{now}"'))
    if new != old:
        edit_part(members, "[Content_Types].xml", lambda x: x.replace(f'PartName="/{old}"', f'PartName="/{new}"'))


def _dated_value(members: dict[str, bytes], format_id: int = 14, value: str = "45382") -> None:
    """The return's 実績値 G20 typed as a date (2024/3/31 in a date format; or ``value`` in
    the built-in number format ``format_id``): held, never imported."""
    styles = members["xl/styles.xml"].decode("utf-8")
    count = int(re.search(r'<cellXfs count="(\d+)"', styles).group(1))
    styles = replace_once(styles, "</cellXfs>", f'<xf numFmtId="{format_id}" fontId="0" fillId="0" borderId="0" '
                                                'applyNumberFormat="1"/></cellXfs>')
    members["xl/styles.xml"] = re.sub(r'<cellXfs count="\d+"', f'<cellXfs count="{count + 1}"', styles, count=1).encode()
    edit_part(members, RETURN_PART, lambda x: set_cell(x, RETURN_VALUE, f'<c r="{RETURN_VALUE}" s="{count}"><v>{value}</v></c>'))


def _shared_status(members: dict[str, bytes]) -> None:
    """The return's 実施状況 I20 as a shared text, and an old xl/sharedStrings.xml left behind
    with other texts where Excel keeps the part."""
    sst = members["xl/sharedStrings.xml"].decode("utf-8")
    count = sst.count("<si>")
    members["xl/sharedStrings.xml"] = replace_once(sst, "</sst>", "<si><t>年2回開催</t></si></sst>").encode()
    edit_part(members, RETURN_PART, lambda x: set_cell(x, RETURN_STATUS, f'<c r="{RETURN_STATUS}" t="s"><v>{count}</v></c>'))
    move_part(members, "xl/sharedStrings.xml", "xl/strings.xml")
    members["xl/sharedStrings.xml"] = re.sub(rb"<t>[^<]*</t>", "<t>古い文字列</t>".encode(), members["xl/strings.xml"])


def rename_member(members: dict[str, bytes], old: str, new: str) -> None:
    """``old`` stored as ``new`` and typed so, its relationship left naming ``old``: OPC
    compares part names case-insensitively, so a ``new`` that differs only in case is the
    same part."""
    members[new] = members.pop(old)
    edit_part(members, "[Content_Types].xml", lambda x: replace_once(x, f'PartName="/{old}"', f'PartName="/{new}"'))


def _book_elsewhere(members: dict[str, bytes]) -> None:
    """The workbook part at xl/book.xml, where _rels/.rels names it."""
    rename_member(members, "xl/workbook.xml", "xl/book.xml")
    members["xl/_rels/book.xml.rels"] = members.pop("xl/_rels/workbook.xml.rels")
    edit_part(members, "_rels/.rels", lambda x: replace_once(x, 'Target="xl/workbook.xml"', 'Target="xl/book.xml"'))


# Parts where ECMA-376 Part 2 lets a writer put them and python-calamine does not look: it
# takes the styles and shared strings at Excel's names (xlrd #317: Microsoft Dynamics AX
# writes shared strings elsewhere) and a sheet at 「xl/」 + its target unresolved. Each was
# read wrong in silence (a date imported as 45382; the texts of an old part left behind)
# or refused as a broken sheet; now refused saying where the part is.
MISPLACED_PARTS = {
    "styles elsewhere": (lambda m: (_dated_value(m), move_part(m, "xl/styles.xml", "xl/styles1.xml")),
                         "書式の部品が「xl/styles1.xml」にあり、Excel が置く場所（xl/styles.xml）と違います"),
    "shared strings elsewhere, an old copy left": (_shared_status, "共有文字列の部品が「xl/strings.xml」にあり"),
    "sheet named by ./": (lambda m: move_part(m, RETURN_PART, RETURN_PART, "./worksheets/sheet1.xml"),
                          f"シート「{MUNI}」の部品「{RETURN_PART}」への参照が「./worksheets/sheet1.xml」と、Excel と違う書き方です"),
    # A target percent-encoded where the member's name is not (ECMA-376 Part 2: a part name is
    # a URI, 「%20」 a space, 「%31」 a 「1」, which Office decodes): the same part to the tool,
    # which refused it as missing (「部品がありません」); calamine looks for the text as written.
    "sheet stored with a space, named by %20": (
        lambda m: move_part(m, RETURN_PART, "xl/worksheets/sheet 1.xml", "worksheets/sheet%201.xml"),
        f"シート「{MUNI}」の部品「xl/worksheets/sheet 1.xml」への参照が「worksheets/sheet%201.xml」と、Excel と違う書き方です"),
    "sheet named with an encoded digit": (lambda m: move_part(m, RETURN_PART, RETURN_PART, "worksheets/sheet%31.xml"),
                                          f"シート「{MUNI}」の部品「{RETURN_PART}」への参照が「worksheets/sheet%31.xml」と"),
    # Was 「Excel ブック（.xlsx）ではありません（ブック本体がありません）」: it has one, elsewhere.
    "workbook elsewhere": (_book_elsewhere,
                           "ブック本体の部品が「xl/book.xml」にあり、Excel が置く場所（xl/workbook.xml）と違います"),
}


def _collect_members(sample, returned_sample, tmp_path, members: dict[str, bytes]):
    """plan_collect of the return ``members`` written under the sample return's name into a
    folder of its own, against a fresh master."""
    folder = tmp_path / "returned"
    folder.mkdir()
    path = folder / returned_sample.name
    path.write_bytes(write_members(members))
    master = fresh_master(sample, tmp_path)
    return plan_collect(load_master(master), [path], key=master_key_of_file(master))


@pytest.mark.parametrize("case", sorted(MISPLACED_PARTS))
def test_a_return_whose_parts_lie_where_calamine_does_not_look_is_refused_saying_where(sample, returned_sample,
                                                                                        tmp_path, case):
    move, said = MISPLACED_PARTS[case]
    members = read_members(returned_sample.read_bytes())
    move(members)
    report = _collect_members(sample, returned_sample, tmp_path, members)
    assert report.changes == [] and len(report.refusals) == 1, (report.changes, report.refusals)
    reason = report.refusals[0].reason
    assert said in reason and "ファイルが壊れているのではありません" in reason and "上書き保存" in reason, reason


def _cased_return_edits(members: dict[str, bytes]) -> None:
    """What the cased returns carry, each read from another part: a number (G22 → 06-1's
    実績値 5, the sheet), a shared text (I22 → its 実施状況, the shared strings) and 10^10
    in the duration format [h]:mm:ss (G20, held: the styles, which the tool reads to spare
    python-calamine a duration it cannot hold, sheet_checks.duration_styles; unread, the
    whole sheet was refused as broken)."""
    sst = members["xl/sharedStrings.xml"].decode("utf-8")
    members["xl/sharedStrings.xml"] = replace_once(sst, "</sst>", "<si><t>年2回開催</t></si></sst>").encode()
    edit_part(members, RETURN_PART, lambda x: set_cell(set_cell(x, RETURN_OTHER, f'<c r="{RETURN_OTHER}"><v>5</v></c>'),
                                                       "I22", f'<c r="I22" t="s"><v>{sst.count("<si>")}</v></c>'))
    _dated_value(members, 46, "10000000000")


# Part names whose letters differ in case from the relationship that names them, or from
# Excel's own names: ECMA-376 Part 2 compares part names case-insensitively, and writers make
# such files (xlrd #150: a target worksheets/Sheet1.xml; xlrd #169: xl/SharedStrings.xml).
# Excel and python-calamine (calamine #419) read them; the tool refused them as broken
# (「部品がありません」, 「共有文字列の部品（sharedStrings.xml）がありません」) or, for the
# styles, read none of its formats while calamine did.
CASED_PARTS = {
    "sheet's target in capitals": lambda m: move_part(m, RETURN_PART, RETURN_PART, "worksheets/Sheet1.xml"),
    "sheet's target absolute in capitals": lambda m: move_part(m, RETURN_PART, RETURN_PART, "/XL/Worksheets/SHEET1.XML"),
    "sheet stored in capitals": lambda m: rename_member(m, RETURN_PART, "xl/Worksheets/Sheet1.xml"),
    "shared strings stored as xl/SharedStrings.xml": lambda m: rename_member(m, "xl/sharedStrings.xml",
                                                                             "xl/SharedStrings.xml"),
    "styles stored as xl/Styles.xml": lambda m: rename_member(m, "xl/styles.xml", "xl/Styles.xml"),
    "workbook stored as XL/workbook.xml": lambda m: (rename_member(m, "xl/workbook.xml", "XL/workbook.xml"),
                                                     m.update({"XL/_rels/Workbook.xml.rels":
                                                               m.pop("xl/_rels/workbook.xml.rels")})),
}


@pytest.mark.parametrize("case", ["as Excel names them", *sorted(CASED_PARTS)])
def test_a_return_whose_part_names_differ_in_case_is_read_as_calamine_reads_it(sample, returned_sample, tmp_path,
                                                                                 case):
    members = read_members(returned_sample.read_bytes())
    _cased_return_edits(members)
    CASED_PARTS.get(case, lambda _m: None)(members)
    report = _collect_members(sample, returned_sample, tmp_path, members)
    assert report.refusals == [], report.refusals
    assert [(ch.indicator_id, ch.field, ch.new) for ch in report.changes] == [("06-1", "実績値", 5),
                                                                              ("06-1", "実施状況", "年2回開催")]
    (_, found), = report.held_by_file
    assert [f.place for f in found] == [f"{MUNI}!{RETURN_VALUE}"], found


def test_a_master_whose_part_names_differ_in_case_is_read_and_written_under_its_own_names(sample, sample_data,
                                                                                          tmp_path):
    """The FY2023 master with 小樽市's and 一覧's targets in capitals, メニュー's sheet stored as
    xl/worksheets/Sheet1.xml, the shared strings as xl/SharedStrings.xml and 集計's sheet as
    the standard names a part 「sheet 17.xml」 (a URI: xl/worksheets/sheet%2017.xml, stored
    so, as .NET's System.IO.Packaging writes it): read as the sample is, and recalc rewrites
    一覧 (and adds a sheet) under the names the zip has. A sheet added as
    xl/worksheets/sheet1.xml beside Sheet1.xml was a case twin, and the write was refused;
    so was every write on 集計's 「%20」, which the write check decoded and the readers did
    not (「ない部品「xl/worksheets/sheet 17.xml」を指しています」)."""
    members = read_members(sample.read_bytes())
    for n in (MASTER.sheet_part, "xl/worksheets/sheet16.xml"):
        move_part(members, n, n, n.removeprefix("xl/").replace("sheet", "Sheet"))
    move_part(members, "xl/worksheets/sheet17.xml", "xl/worksheets/sheet%2017.xml")
    rename_member(members, "xl/worksheets/sheet1.xml", "xl/worksheets/Sheet1.xml")
    rename_member(members, "xl/sharedStrings.xml", "xl/SharedStrings.xml")
    master = tmp_path / "master.xlsm"
    master.write_bytes(write_members(members))
    result, refusal = _read_or_refusal(master)
    assert refusal is None and result.evaluations == sample_data[1].evaluations, refusal
    before = read_members(master.read_bytes())
    recalc_file(master)
    after = read_members(master.read_bytes())
    assert set(before) <= set(after) and len({n.lower() for n in after}) == len(after), sorted(set(after) - set(before))
    assert after["xl/worksheets/sheet16.xml"] != before["xl/worksheets/sheet16.xml"]      # 一覧 rewritten in place
    assert after[MASTER.sheet_part] == before[MASTER.sheet_part]
    assert "xl/worksheets/sheet%2017.xml" in after and "xl/worksheets/sheet 17.xml" not in after
    assert _read_or_refusal(master)[0].evaluations == sample_data[1].evaluations


# Member names ECMA-376 Part 2 holds to be one part [M1.12: 「case-insensitive ASCII」; a
# part name is a URI, so 「%20」 is a space] or two (letters outside ASCII never fold).
# Python's lower() folded them all: 「Ａ」/「ａ」, the Kelvin sign/「k」 and 「İ」/「i̇」 were
# refused as one part, while Package.member, comparing ASCII only, held them two.
# (Two names in ASCII case only: sheet_twin_differing_in_case.)
MEMBER_TWINS = {("xl/media/a b.png", "xl/media/a%20b.png"): "書き方（「%20」と空白など）だけが違う",
                ("xl/media/\uff21.png", "xl/media/\uff41.png"): None,
                ("xl/media/\u212a.png", "xl/media/k.png"): None,
                ("xl/media/\u0130.png", "xl/media/i\u0307.png"): None}


@pytest.mark.parametrize("pair", list(MEMBER_TWINS))
def test_members_are_one_part_as_the_standard_compares_names(returned_sample, pair):
    from renkei_xl.package.xml import PackageError
    from renkei_xl.package.zipped import Package

    members = read_members(returned_sample.read_bytes())
    for name in pair:
        members[name] = name.encode("utf-8")
    said = MEMBER_TWINS[pair]
    try:
        with Package(returned_sample, data=write_members(members)) as pkg:
            assert said is None, "opened"
            assert [pkg.member(n) for n in pair] == list(pair)
            assert pkg.member(pair[0].replace("xl/media", "XL/Media")) == pair[0]
    except PackageError as exc:
        assert said is not None and f"{said}名前の部品「{pair[0]}」と「{pair[1]}」" in str(exc), str(exc)


def test_an_override_naming_its_part_in_other_capitals_types_it_and_goes_with_it(returned_sample):
    """[Content_Types].xml's 「/XL/Worksheets/SHEET1.XML」 types xl/worksheets/sheet1.xml (OPC
    compares part names case-insensitively). Unseen, a write that removed the part left
    the Override behind and was refused as one that Excel would repair."""
    from renkei_xl.package.rels import CT_WORKSHEET, ContentTypes
    from renkei_xl.package.zipped import Package

    members = read_members(returned_sample.read_bytes())
    edit_part(members, "[Content_Types].xml", lambda x: replace_once(x, f'PartName="/{RETURN_PART}"',
                                                                     'PartName="/XL/Worksheets/SHEET1.XML"'))
    with Package(returned_sample, data=write_members(members)) as pkg:
        types = ContentTypes(pkg)
        assert types.of(RETURN_PART) == CT_WORKSHEET
        types.remove(RETURN_PART)
        assert "SHEET1" not in types.text and types.of(RETURN_PART) != CT_WORKSHEET


def test_a_master_whose_shared_strings_lie_elsewhere_is_refused_saying_where(sample, tmp_path):
    """Was 「シート「検証結果」の値を読めません（文字列のセルの番号に当たる文字列がありません）」."""
    members = read_members(sample.read_bytes())
    move_part(members, "xl/sharedStrings.xml", "xl/sharedStrings/sharedStrings1.xml")
    path = tmp_path / "master.xlsm"
    path.write_bytes(write_members(members))
    result, refusal = _read_or_refusal(path)
    assert result is None and "共有文字列の部品が「xl/sharedStrings/sharedStrings1.xml」にあり" in refusal, refusal


# Text to Excel that reads like cells to a search of the bytes: XML allows a comment, a
# CDATA section or a processing instruction between a sheet's elements (no application
# writes one), and a comment may hold ``<``.
FAKE_CELLS = {"error in a comment": lambda ref: f'<!-- {cached_error(ref, "#N/A")} -->',
              "error in a processing instruction": lambda ref: f'<?renkei <c r="{ref}" t="e"><v>#REF!</v></c>?>',
              "far cell in a comment": lambda ref: '<!-- <c r="XFD1048576"><v>1</v></c> -->'}


def fake_cells_in_markup(ref: str, kinds=tuple(FAKE_CELLS)) -> Callable[[str], str]:
    return lambda xml: xml.replace("<sheetData>", "<sheetData>" + "".join(FAKE_CELLS[k](ref) for k in kinds), 1)


@pytest.mark.parametrize("kind", list(FAKE_CELLS))
def test_a_master_cell_written_in_an_xml_comment_is_no_cell(sample, places, tmp_path, kind):
    """An error cell and a far cell in XML comments and a processing instruction of 札幌市's
    sheet (text to Excel): the scans for error values read the comment's cell as the
    value's #N/A, a silent wrong read (comments62). The sheet is read as Excel reads it now
    (rewritten through the parser, sheet_form.survey): the same findings and evaluations."""
    sheet, part, cell, *_ = places["municipality 実績値"]
    doctored = _in_form(sample, tmp_path / "commented.xlsm", part, fake_cells_in_markup(cell, [kind]))
    want, refusal = _read_or_refusal(sample)
    assert refusal is None, refusal
    got, refusal = _read_or_refusal(doctored)
    assert refusal is None, refusal
    assert [(f.place, f.message) for f in got.findings] == [(f.place, f.message) for f in want.findings]
    assert got.evaluations == want.evaluations and got.consolidated == want.consolidated


def test_a_returned_cell_written_in_an_xml_comment_is_not_held(sample, returned_sample, tmp_path):
    """A return whose 実績値 G20 is fine and whose sheet holds 「<!-- <c r="G20" t="e">…#N/A -->」:
    the comment's cell was read as the value's error and the row held back (comments62)."""
    folder = tmp_path / "returned"
    folder.mkdir()
    path = with_cells(returned_sample, folder / returned_sample.name, RETURN_PART,
                      {RETURN_OTHER: f'<c r="{RETURN_OTHER}"><v>5</v></c>'})
    _in_form(path, path, RETURN_PART, fake_cells_in_markup(RETURN_VALUE, ["error in a comment"]))
    master = fresh_master(sample, tmp_path)
    report = plan_collect(load_master(master), [path], key=master_key_of_file(master))
    assert report.refusals == [] and len(report.records) == 1, report.refusals
    assert report.held_by_file == [], report.held_by_file
    assert ("06-1", 5) in [(ch.indicator_id, ch.new) for ch in report.changes]


@pytest.mark.parametrize("part,label", [("xl/styles.xml", "ブックの部品「xl/styles.xml」"),
                                        ("xl/workbook.xml", "ブックの部品「xl/workbook.xml」")])
def test_a_part_read_as_bytes_holding_an_xml_comment_is_refused_naming_it(sample, tmp_path, part, label):
    """A fake cell format in a comment of styles.xml, a fake defined name in one of
    workbook.xml: read by searches of the part's bytes, they were a format and a name the
    book does not have. Such a part is refused naming it, with what staff can do."""
    fake = {"xl/styles.xml": '<!-- <cellXfs count="1"><xf numFmtId="10"/></cellXfs> -->',
            "xl/workbook.xml": '<!-- <definedName name="偽の名前">設定!$A$1</definedName> -->'}[part]
    members = read_members(sample.read_bytes())
    edit_part(members, part, lambda x: x.replace("?>", "?>" + fake, 1))
    path = tmp_path / "commented.xlsm"
    path.write_bytes(write_members(members))
    result, refusal = _read_or_refusal(path)
    assert result is None and refusal is not None, refusal
    assert f"{label}に Excel が書かない形（XML のコメント）があります" in refusal, refusal
    assert "Excel で開いて保存し直す" in refusal, refusal


def test_a_far_cell_in_single_quotes_is_refused_before_calamine_allocates_it(sample, tmp_path):
    part = "xl/worksheets/sheet4.xml"
    members = read_members(sample.read_bytes())
    edit_part(members, part, lambda x: x.replace("</sheetData>", "<row r='1048576'><c r='XFD1048576'><v>1</v></c></row>"
                                                 "</sheetData>"))
    path = tmp_path / "far.xlsm"
    path.write_bytes(write_members(members))
    result, refusal = _read_or_refusal(path)
    assert result is None and "使用範囲が大きすぎます" in refusal and "XFD1048576" in refusal, refusal


@pytest.mark.parametrize("value", ["<v>-3</v>", "<y:v>-3</y:v>", '<v xml:space="preserve">-3</v>', "<v>- 3</v>"],
                         ids=["plain", "another prefix", "an attribute", "spaced"])
def test_a_negative_text_number_is_refused_naming_the_cell(sample, tmp_path, value):
    """A text cell's number in the shared strings, negative: calamine would read some
    other text of the book in its place, whatever prefix its value tag has (calamine reads
    ``<y:v>`` as the value) or whatever attribute."""
    path = with_cells(sample, tmp_path / "m.xlsm", "xl/worksheets/sheet3.xml", {"L8": f'<c r="L8" t="s">{value}</c>'})
    result, refusal = _read_or_refusal(path)
    assert result is None and "シート「指標」のセル L8 が壊れています" in refusal, refusal


# ------------------------------------------------- rows nobody can read: never a partial total
# A municipality's row the reader cannot attribute, or a municipality whose sheet it cannot
# read, would leave a total without that municipality: each indicator it reports is －,
# with the reader's finding as the reason, and 達成割合 leaves them out and says so.

def _reported_by(data, muni: str) -> set[str]:
    from renkei_xl.core.methods import method_of

    central = data.settings.central.name
    return {i.id for i in data.indicators if (m := method_of(i)) is not None and m.reported_by(muni == central)}


def _sheet_errors(result):
    """The errors but the 達成割合's own: 札幌市 unread leaves out most rows, and the rate of
    the rest is then not judged (rate-undecided, on 指標), which must say so too."""
    assert [f.type for f in result.findings if f.type == "rate-undecided"] == ["rate-undecided"]
    assert result.evaluations["01-1"].symbol == NOT_EVALUABLE
    return [f for f in result.findings if f.is_error and f.type != "rate-undecided"]


@pytest.mark.parametrize("typed", ["０４－１", "04‐1", "04-l", ""])
def test_a_row_whose_id_no_indicator_claims_makes_the_missing_indicator_not_evaluable(
        sample, sample_data, tmp_path, typed):
    """札幌市's 04-1 row with its 指標ID typed in full width, with another hyphen, mistyped
    or erased: its 17件 would otherwise drop out of 04-1's total (× on 4件 of the rest). (A
    space around it is no typo: cells are read stripped.)"""
    data, base = sample_data
    path = with_cells(sample, tmp_path / "m.xlsm", "xl/worksheets/sheet4.xml",
                      {"A5": typed_text("A5", typed) if typed else '<c r="A5" s="10"/>'})
    result, refusal = _read_or_refusal(path)
    assert refusal is None, refusal
    assert [f.place for f in result.findings if f.is_error] == ["札幌市!A5"], result.findings
    assert result.evaluations["04-1"].symbol == NOT_EVALUABLE and "札幌市!A5" in result.evaluations["04-1"].reason
    moved = {i for i, e in result.evaluations.items() if e.symbol != base.evaluations[i].symbol}
    assert moved - {"01-1"} == {"04-1"} and result.summary.left_out == 1


@pytest.mark.parametrize("typed, hits", [("０４－１", "04-1"), ("04ー1", "04-1"), ("99-9", "none")])
def test_an_extra_row_with_a_value_and_an_id_no_indicator_claims_leaves_no_partial_total(
        sample, sample_data, tmp_path, typed, hits):
    """小樽市 adds a row of its own below its rows (its 04-1 row is there too): 「０４－１」
    5件 is 04-1's by its likeness, so 04-1 is not judged on a total without it; an ID like
    none, with nothing missing either, is no indicator's: every indicator 小樽市 reports has
    its own row, so no total lacks it. It is an error on its cell and moves no symbol (it
    once made every indicator 小樽市 reports －, and one stray row took them out of 達成割合)."""
    import openpyxl

    data, base = sample_data
    path = tmp_path / "m.xlsm"
    wb = openpyxl.load_workbook(sample, keep_vba=True)
    ws = wb["小樽市"]
    row = ws.max_row + 1
    ws.cell(row, 1, typed)
    ws.cell(row, 5, 5)
    wb.save(path)
    result, refusal = _read_or_refusal(path)
    assert refusal is None, refusal
    assert [f.place for f in result.findings if f.is_error] == [f"小樽市!A{row}"], result.findings
    expected = {"04-1"} if hits == "04-1" else set()
    for ind_id in expected:
        assert result.evaluations[ind_id].symbol == NOT_EVALUABLE, (ind_id, result.evaluations[ind_id])
        assert f"小樽市!A{row}" in result.evaluations[ind_id].reason
    moved = {i for i, e in result.evaluations.items() if e.symbol != base.evaluations[i].symbol}
    assert moved - {"01-1"} == expected
    assert result.summary.left_out == len(expected)


def test_an_unknown_id_on_an_empty_row_changes_no_evaluation(sample, sample_data, tmp_path):
    data, base = sample_data
    empty = next(e for e in data.entries if e.municipality == "札幌市" and not e.value and not e.status)
    ref = empty.cell("indicator_id")
    path = with_cells(sample, tmp_path / "m.xlsm", "xl/worksheets/sheet4.xml", {ref: typed_text(ref, "99-9")})
    result, _ = _read_or_refusal(path)
    assert [f.place for f in result.findings if f.is_error] == [f"札幌市!{ref}"]
    assert {i: e.symbol for i, e in result.evaluations.items()} == {i: e.symbol for i, e in base.evaluations.items()}
    # The row's own indicator has no row on 札幌市's sheet now: a warning says so.
    assert [(f.type, f.indicator_id) for f in result.findings if f.type == "missing-row"] == [
        ("missing-row", empty.indicator_id)]


def test_an_error_value_over_a_header_is_named_and_the_municipality_is_left_out(sample, sample_data, tmp_path):
    data, base = sample_data
    path = with_cells(sample, tmp_path / "m.xlsm", "xl/worksheets/sheet4.xml", {"E1": cached_error("E1", "#REF!")})
    result, refusal = _read_or_refusal(path)
    assert refusal is None, refusal
    (f,) = _sheet_errors(result)
    assert f.place == "札幌市!E1" and "エラー値「#REF!」" in f.message and "実績値" in f.message, f
    reported = _reported_by(data, "札幌市")
    for ind_id in reported:
        assert result.evaluations[ind_id].symbol == NOT_EVALUABLE and "札幌市!E1" in result.evaluations[ind_id].reason
    assert not {i for i, e in result.evaluations.items() if e.symbol != base.evaluations[i].symbol} - reported - {"01-1"}


def test_a_header_twice_is_refused_naming_both_cells(sample, tmp_path):
    """Two 実績値 columns: which one holds the values cannot be told, and reading the first
    would ignore the other's numbers."""
    path = with_cells(sample, tmp_path / "m.xlsm", "xl/worksheets/sheet4.xml", {"F1": typed_text("F1", "実績値")})
    result, refusal = _read_or_refusal(path)
    assert refusal is None, refusal
    (f,) = _sheet_errors(result)
    assert f.place == "札幌市!F1" and "E1 と F1" in f.message and "実績値" in f.message, f
    assert result.evaluations["04-1"].symbol == NOT_EVALUABLE


# The sheet 長沼町 renamed by accident, and the character that tells it apart (said with its
# code point: a zero-width space, an IVS or a no-break space looks like nothing or a space).
_RENAMED = [("長沼町 ", "長沼町 ", "U+0020"), ("長沼町\u200b", "長沼町[U+200B]", "「\u200b」（U+200B） と （なし）"),
            ("長\U000e0100沼町", "長\U000e0100沼町", "U+E0100"), ("長沼町\u00a0", "長沼町\u00a0", "U+00A0")]


@pytest.mark.parametrize("renamed, quoted, differ", _RENAMED, ids=["space", "zwsp", "ivs", "nbsp"])
def test_a_municipality_sheet_renamed_by_accident_is_an_error_naming_the_near_sheet(sample, sample_data, tmp_path,
                                                                                     renamed, quoted, differ):
    """長沼町 renamed 「長沼町 」 (a trailing space): before, a warning without a place and 28-1
    □ → × on 10 of 12 municipalities. Placed on 設定's 市町村名 cell (qa-133: a cell that
    exists, where the finding was on the sheet that is not there), the near sheet named
    with the character that differs: a zero-width space or an IVS in the sheet's name was
    no near sheet at all (「シートがありません」 beside a warning that a sheet 「長沼町」 is not in
    設定), and the names quoted alike said nothing of what to retype (qa-text66)."""
    data, base = sample_data
    members = read_members(sample.read_bytes())
    edit_part(members, "xl/workbook.xml", lambda x: replace_once(x, 'name="長沼町"', f'name="{renamed}"'))
    path = tmp_path / "m.xlsm"
    path.write_bytes(write_members(members))
    result, refusal = _read_or_refusal(path)
    assert refusal is None, refusal
    (f,) = [f for f in result.findings if f.is_error]
    assert f.place == "設定!A21" and "市町村「長沼町」" in f.message and f"シート「{quoted}」は名前が違います" in f.message, f
    assert differ in f.message and not [w for w in result.findings if w.type == "unlisted-sheet"], result.findings
    reported = _reported_by(data, "長沼町")
    assert "28-1" in reported and result.evaluations["28-1"].symbol == NOT_EVALUABLE
    assert all(result.evaluations[i].symbol == NOT_EVALUABLE for i in reported)
    # split says it alike (it said only 「シートがマスターにありません」, qa-split64), before any file
    with pytest.raises(UserError) as refused:
        split_master(path, tmp_path / "配布")
    assert "市町村「長沼町」（設定!A21）" in str(refused.value) and f"シート「{quoted}」は名前が違います" in str(refused.value)
    assert differ in str(refused.value)
    assert not (tmp_path / "配布").exists() or not any((tmp_path / "配布").iterdir())


@pytest.mark.parametrize("cells", ['<c r="A1048576" s="1"/>', '<c r="XFD1"><v>1</v></c>'], ids=["rows", "columns"])
def test_split_lays_out_the_municipalities_and_reads_no_staff_sheet_whole(sample, tmp_path, cells):
    """A staff sheet of 1,048,576 formatted rows or 16,384 columns, which 入力チェック, 再計算,
    確定版 and rollover pass over, stopped 配布用ファイル作成 with 「シート「メモ」の使用範囲が
    大きすぎます」: split read every sheet whole, though it lays out only the municipalities'."""
    members = read_members(sample.read_bytes())
    edit_part(members, "xl/workbook.xml", lambda x: replace_once(x, "</sheets>", '<sheet name="メモ" sheetId="90" r:id="rId90"/></sheets>'))
    edit_part(members, "xl/_rels/workbook.xml.rels", lambda x: replace_once(x, "</Relationships>", (
        '<Relationship Id="rId90" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"'
        ' Target="worksheets/sheet90.xml"/></Relationships>')))
    edit_part(members, "[Content_Types].xml", lambda x: replace_once(x, "</Types>", (
        '<Override PartName="/xl/worksheets/sheet90.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')))
    row = re.match(r'<c r="[A-Z]+(\d+)"', cells).group(1)
    members["xl/worksheets/sheet90.xml"] = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        f'<row r="{row}">{cells}</row></sheetData></worksheet>').encode()
    path = tmp_path / "m.xlsm"
    path.write_bytes(write_members(members))
    files = split_master(path, tmp_path / "配布", echo=lambda _line: None)
    assert len(files) == 12


def test_a_large_sheet_in_another_form_is_refused_in_bounded_time(sample, tmp_path, monkeypatch):
    """The rewrite is for small foreign files; past REWRITE_LIMIT the answer is Excel's save."""
    from renkei_xl.workbook import sheet_form

    path = _in_form(sample, tmp_path / "m.xlsm", "xl/worksheets/sheet4.xml", single_quoted)
    monkeypatch.setattr(sheet_form, "REWRITE_LIMIT", 1000)
    result, refusal = _read_or_refusal(path)
    assert result is None and "シート「札幌市」は Excel 以外の書き方で保存されていて" in refusal, refusal
    assert "保存し直してください" in refusal


@pytest.mark.parametrize("where", ["a far row first", "a far cell in a near row", "a wide cell in a near row"])
def test_a_far_cell_out_of_order_is_refused_before_calamine_allocates_it(sample, tmp_path, where):
    """python-calamine places a cell by its own r: a row 1,048,576 written before the others,
    or a cell of that row inside row 5, made it allocate a million rows (2.6 s, 250 MB
    where the sample takes 20) while the extent was read from the last cell alone. A cell
    in column ZZZ inside row 5 is found by the same one search (sheet_form.survey)."""
    part = "xl/worksheets/sheet4.xml"
    members = read_members(sample.read_bytes())
    far = "1048576"
    if where == "a far row first":
        edit_part(members, part, lambda x: x.replace("<sheetData>", '<sheetData><row r="1048576"><c r="A1048576">'
                                                     "<v>1</v></c></row>", 1))
    elif where == "a far cell in a near row":
        edit_part(members, part, lambda x: re.sub(r'(<row r="5"[^>]*>)', r'\1<c r="A1048576"><v>1</v></c>', x, count=1))
    else:
        edit_part(members, part, lambda x: re.sub(r'(<row r="5"[^>]*>)', r'\1<c r="ZZZ5"><v>1</v></c>', x, count=1))
        far = "ZZZ"
    path = tmp_path / "far.xlsm"
    path.write_bytes(write_members(members))
    result, refusal = _read_or_refusal(path)
    assert result is None and "使用範囲が大きすぎます" in refusal and far in refusal, refusal


@pytest.mark.parametrize("cell", ["XFD1048576", "XFD5"])
def test_a_cell_under_another_namespace_prefix_is_refused_before_calamine_reads_it(sample, tmp_path, cell):
    """python-calamine reads <x:c r="XFD5"> as a cell whatever its prefix, and the extent
    check looks for the sheet's own cell tags: a column of 16,384 on 20,000 rows would be
    allocated at once. A sheet whose cells use another prefix is refused (sheet_form.foreign_cell)."""
    members = read_members(sample.read_bytes())
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    edit_part(members, "xl/worksheets/sheet4.xml", lambda x: re.sub(
        r'(<row r="5"[^>]*>)', rf'\1<x:c xmlns:x="{main}" r="{cell}"><x:v>1</x:v></x:c>', x, count=1))
    path = tmp_path / "prefixed.xlsm"
    path.write_bytes(write_members(members))
    result, refusal = _read_or_refusal(path)
    assert result is None and "シート「札幌市」は Excel 以外の書き方で保存されています" in refusal, refusal
    assert "接頭辞「x:」" in refusal and "保存し直してください" in refusal, refusal


def test_a_header_formula_without_result_is_named_by_its_cell(sample, sample_data, tmp_path):
    """実績値's header as a formula saved without its result (openpyxl writes them so): the
    header is not found, and the finding names E1 and why, not A1."""
    path = with_cells(sample, tmp_path / "m.xlsm", "xl/worksheets/sheet4.xml", {"E1": '<c r="E1"><f>"実績"&amp;"値"</f></c>'})
    result, refusal = _read_or_refusal(path)
    assert refusal is None, refusal
    (f,) = _sheet_errors(result)
    assert f.place == "札幌市!E1" and "見出しのセル E1 が計算結果が保存されていない数式" in f.message, f
    assert "Excel で開いて保存し直" in f.message and "空欄" not in f.message, f
    assert result.evaluations["04-1"].symbol == NOT_EVALUABLE and "札幌市!E1" in result.evaluations["04-1"].reason


@pytest.fixture(scope="module")
def settings_book(sample):
    """The sample master as openpyxl loads it (its macros kept) and its 設定 cells of 長沼町,
    札幌市 and 小樽市, loaded once: each case sets both cells it changes and saves the book as
    its own master (the load was half of a case's time), the same file a fresh load's save
    writes but for its time of saving."""
    import openpyxl

    wb = openpyxl.load_workbook(sample, keep_vba=True)
    ws = wb["設定"]
    return wb, {c.value: c for row in ws.iter_rows() for c in row if c.value in ("長沼町", "札幌市", "小樽市")}


@pytest.mark.parametrize("name, says", [
    ("一覧", "ツールが使うシート名"), ("指標", "ツールが使うシート名"), ("設定", "ツールが使うシート名"),
    ("経年", "ツールが使うシート名"), ("検証結果", "ツールが使うシート名"), ("history", "Excelが使うシート名"),
    ("選択肢", "ツールが使うシート名"),    # the input file's own list sheet: split crashed halfway
    # as Japanese Excel compares and refuses them, width folded: ﾒﾆｭｰ is メニュー, ： is :
    ("ﾒﾆｭｰ", "ツールが使うシート名"), ("ＨＩＳＴＯＲＹ", "Excelが使うシート名"), ("履歴", "Excelが使うシート名"),
    ("小樽：市", "シート名に使えません"), ("小樽￥市", "シート名に使えません"), ("’長沼町", "シート名に使えません"),
    ("小樽[市]", "シート名に使えません"), ("長沼町" * 11, "31 文字まで"), ("'長沼町'", "シート名に使えません"),
    ("札幌市", "重複"), ("Sapporo", "重複"),
    # A character that shows as nothing (qa-128): 「長沼町」 to the eye, beside the sheet 長沼町,
    # was 「市町村「長沼町」のシートがありません」 with no cell, and split's refusal named none.
    ("長沼\u200b町", "3 文字目に見えない文字（U+200B）"), ("\ufeff長沼町", "1 文字目に見えない文字（U+FEFF）"),
    ("長沼\n町", "3 文字目に改行（Alt+Enter）"), ("長沼\u2028町", "見えない文字（U+2028）"),
    ("長沼\u3164町", "見えない文字（U+3164）"), ("長沼町\u00ad", "見えない文字（U+00AD）")])
def test_a_municipality_name_no_sheet_can_have_is_refused_naming_its_cell(settings_book, tmp_path, name, says):
    """設定 naming a municipality after one of the tool's sheets (which is never read as its),
    with a character or a length Excel refuses in a sheet name, or twice (as Excel compares
    sheet names, case ignored): every command refuses the master naming the 設定 cell, before
    anything is read or written, instead of a misleading finding or a crash halfway."""
    path = tmp_path / "m.xlsm"
    wb, cells = settings_book
    cells["小樽市"].value = "SAPPORO" if name == "Sapporo" else "小樽市"     # both cells set in every case
    cells["長沼町"].value = name
    for ws in wb.worksheets:            # as loaded: a save sets it, and the next save then writes
        ws.column_dimensions.max_outline = None     # outlineLevelCol="0", which a fresh load's did not
    wb.save(path)
    result, refusal = _read_or_refusal(path)
    assert result is None and says in refusal, refusal
    assert f"設定!{cells['長沼町'].coordinate}" in refusal, refusal


def test_a_formula_holding_a_quote_after_an_equals_sign_is_not_another_form(sample, tmp_path, monkeypatch):
    """=A1='他のシート'!B1 in a formula is no attribute in ': the sheet is read as it is (with
    the rewrite limit at nothing, a rewrite would be a refusal)."""
    from renkei_xl.workbook import sheet_form

    path = with_cells(sample, tmp_path / "m.xlsm", "xl/worksheets/sheet4.xml",
                      {"G5": "<c r=\"G5\" t=\"str\"><f>IF(E5='札幌市'!E5,\"実施\",\"実施\")</f><v>実施</v></c>"})
    monkeypatch.setattr(sheet_form, "REWRITE_LIMIT", 0)
    result, refusal = _read_or_refusal(path)
    assert refusal is None and result is not None, refusal


def test_a_broken_name_is_told_apart_from_a_missing_one(sample, tmp_path):
    """対象年度's name left pointing at 設定!#REF! (its cell deleted): said so, not 「ありません」."""
    members = read_members(sample.read_bytes())
    edit_part(members, "xl/workbook.xml",
              lambda x: re.sub(r'(<definedName name="対象年度"[^>]*>)[^<]*', r"\1設定!#REF!", x, count=1))
    path = tmp_path / "m.xlsm"
    path.write_bytes(write_members(members))
    result, refusal = _read_or_refusal(path)
    assert result is None and "名前の定義「対象年度」の参照先「設定!#REF!」がセルを指していません" in refusal, refusal


@pytest.mark.parametrize("target", ["設定!$B$1048577", "設定!$ZZZ$3", "設定!$B$" + "9" * 5000, "設定!$B$3:$B$1048577"])
def test_a_name_past_excels_grid_is_a_broken_name_not_a_cell(sample, tmp_path, target):
    """対象年度 named past Excel's grid (a hand-edited or hostile workbook.xml): it was read as
    an empty cell staff were told to fill (「設定!B1048577: 対象年度「」は西暦の整数で…」), and a
    row of 5,000 digits stopped the command with a ValueError (exit 3). Now a broken name
    (refs.named_cell), said as past the grid."""
    members = read_members(sample.read_bytes())
    edit_part(members, "xl/workbook.xml",
              lambda x: re.sub(r'(<definedName name="対象年度"[^>]*>)[^<]*', lambda m: m.group(1) + target, x, count=1))
    path = tmp_path / "m.xlsm"
    path.write_bytes(write_members(members))
    result, refusal = _read_or_refusal(path)
    assert result is None and "名前の定義「対象年度」の参照先「設定!$" in refusal, refusal
    assert "Excel のシートの範囲（XFD1048576 まで）の外で、セルを指していません" in refusal, refusal


def test_a_name_whose_row_is_padded_with_zeros_names_that_row(sample, tmp_path):
    """対象年度 named 「設定!$B$00000003」 where the sample has 「設定!$B$3」: Excel reads row 3.
    refs.named_cell handed on 「B00000003」, a spelling of the place no other reader makes
    (forms62); now the same cell, spelt B3, and the same reading as the unpadded name."""
    from renkei_xl.core.refs import named_cell

    assert named_cell("設定!$B$00000003") == ("設定", "B3")
    assert named_cell("'設定'!$B$0003:$B$04") == ("設定", "B3")
    members = read_members(sample.read_bytes())
    target = re.search(r'<definedName name="対象年度"[^>]*>([^<]*)', members["xl/workbook.xml"].decode()).group(1)
    padded = re.sub(r"\$(\d+)$", lambda m: "$0000000" + m.group(1), target)
    assert padded != target
    edit_part(members, "xl/workbook.xml",
              lambda x: re.sub(r'(<definedName name="対象年度"[^>]*>)[^<]*', lambda m: m.group(1) + padded, x, count=1))
    path = tmp_path / "m.xlsm"
    path.write_bytes(write_members(members))
    want, refusal = _read_or_refusal(sample)
    got, refusal = _read_or_refusal(path)
    assert refusal is None and got.evaluations == want.evaluations, refusal


def test_a_status_name_past_excels_grid_is_never_written_there(sample, tmp_path):
    """最終実行日時 named at メニュー!$C$99999999999: validate wrote the run's time into that row,
    a file Excel calls damaged (and the tool's next read refuses as too large). A name past
    the grid names no cell (refs.named_cell): the time is not written, as for 「#REF!」."""
    members = read_members(sample.read_bytes())
    edit_part(members, "xl/workbook.xml", lambda x: re.sub(r'(<definedName name="最終実行日時"[^>]*>)[^<]*',
                                                           lambda m: m.group(1) + "メニュー!$C$99999999999", x, count=1))
    master = tmp_path / "m.xlsm"
    master.write_bytes(write_members(members))
    run = run_cli(["validate", master.name], tmp_path)
    check_common(run, [str(tmp_path), master.name, master.stem], [master.name])
    written = read_members(master.read_bytes())
    assert not any(b'r="99999999999"' in data for part, data in written.items() if part.startswith("xl/worksheets/")), run


@pytest.mark.parametrize("cell,said,not_said", [
    ("ZZ150000", "105,300,000 セル（上限 4,000,000 セル", ("上限 200,000 行", "上限 1,000 列")),
    ("A300000", "300,000 行（上限 200,000 行）", ("上限 1,000 列", "セル（上限")),
    ("ALZ5", "1,014 列（上限 1,000 列）", ("上限 200,000 行", "セル（上限")),
])
def test_an_oversized_sheet_is_refused_for_the_limit_it_is_over(cell, said, not_said):
    """Before, ZZ150000 (within 200,000 rows and 1,000 columns) was refused naming those
    two limits, while what it exceeds is the 4,000,000 cells."""
    from renkei_xl.core.errors import UnreadableSheet
    from renkei_xl.workbook.sheet_checks import check_extent
    from renkei_xl.workbook.sheet_form import survey

    row = int(re.sub(r"[A-Z]", "", cell))
    raw = (f'<worksheet><sheetData><row r="{row}"><c r="{cell}"><v>1</v></c></row></sheetData></worksheet>').encode()
    with pytest.raises(UnreadableSheet) as caught:
        check_extent("小樽市", raw, b"", survey(raw, b"")[1])
    message = str(caught.value)
    assert f"{cell} まで" in message and said in message, message
    assert not any(s in message for s in not_said), message


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_a_part_in_utf16_is_said_as_utf16_not_as_a_broken_file(sample, tmp_path, encoding):
    """XML allows a part in UTF-16 (with or without its byte-order mark); no application the
    tool knows writes one, and the tool reads UTF-8 only. Its NUL bytes were said as
    「制御文字（U+0000）…（ファイルが壊れています）」 of a part that is whole."""
    with zipfile.ZipFile(io.BytesIO(sample.read_bytes())) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    styles = members["xl/styles.xml"].decode("utf-8")
    members["xl/styles.xml"] = replace_once(styles, 'encoding="UTF-8"', 'encoding="UTF-16"').encode(encoding)
    master = tmp_path / "master.xlsm"
    with zipfile.ZipFile(master, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    before = digest(master)
    run = run_cli(["recalc", master.name], tmp_path)
    assert run.code == 2, run
    assert "「xl/styles.xml」は UTF-16 で書かれています" in run.err and "Excel で開いて上書き保存" in run.err, run
    assert "制御文字" not in run.err and "Traceback" not in run.err, run
    assert digest(master) == before and backups(master) == []


# ----------------------------------------------------------------------------- huge parts
# Parts within the part limit (256 MB unpacked, package.zipped) that once held the whole
# part and copies of it: each is answered within the corpus's memory bound.

def _grown_master(sample: Path, dst: Path, part: str, grow: Callable[[bytes], bytes]) -> Path:
    """The sample master with ``part`` grown, deflated fast (the test's time, not the tool's)."""
    with zipfile.ZipFile(sample) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    members[part] = grow(members[part])
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return dst


def _styled_empty_row(r: str) -> bytes:
    return (f'<row r="{r}"><c r="A{r}" s="13"/><c r="B{r}" s="13"/><c r="C{r}" s="13"/><c r="D{r}" s="13"/>'
            f'<c r="E{r}" s="13"/><c r="F{r}" s="13"/><c r="G{r}" s="13"/><c r="H{r}" s="13"/></row>').encode("ascii")


def _styled_empty_rows_to_the_last(xml: bytes) -> bytes:
    """Every row after the sheet's last down to 1,048,576, each of eight styled empty cells.
    The rows of a thousand (k000 to k999) are one text with k put in (bytes.replace), not a
    thousand rows formatted each: a row at a time was a second of the test's own time."""
    last = max(int(r) for r in re.findall(rb'<row r="(\d+)"', xml))
    first_block, end_block = -(-(last + 1) // 1000), 1_048_577 // 1000
    block = b"".join(_styled_empty_row(f"@{i:03d}") for i in range(1000))
    rows = [_styled_empty_row(str(r)) for r in range(last + 1, first_block * 1000)]
    rows += [block.replace(b"@", b"%d" % k) for k in range(first_block, end_block)]
    rows += [_styled_empty_row(str(r)) for r in range(end_block * 1000, 1_048_577)]
    return xml.replace(b"</sheetData>", b"".join(rows) + b"</sheetData>", 1)


def test_a_sheet_of_a_million_styled_rows_is_refused_within_the_memory_bound(sample, tmp_path):
    """A municipality sheet of 1,048,576 rows × 8 styled empty cells (207 MB unpacked, as
    formatting whole columns can leave): refused for its extent as before, but it peaked
    at 650 MiB after 7 s (the part inflated twice over, then lists of every cell of it)."""
    master = _grown_master(sample, tmp_path / "master.xlsm", MASTER.sheet_part, _styled_empty_rows_to_the_last)
    before = digest(master)
    run = run_cli(["validate", master.name], tmp_path, fresh=True)
    assert not run.timed_out and run.code == 2, run
    assert run.err.startswith(f"エラー: 「{master.name}」: シート「{MUNI}」の使用範囲が大きすぎます（H1048576 まで: "
                              "1,048,576 行（上限 200,000 行））"), run
    assert run.max_rss_kib < MAX_RSS_KIB, f"peak memory {run.max_rss_kib // 1024} MiB\n{run}"
    assert digest(master) == before and backups(master) == []


def _empty_texts(size: int, bits: bytes) -> Callable[[bytes], bytes]:
    """The shared strings grown to ``size`` bytes with empty texts, the k-th spelt <si />
    where bit k of ``bits`` is set and <si/> where it is not, as many as fit whole; uniqueCount
    is left as it was (no reader of the tool's trusts it). Made eight texts to a byte of
    ``bits`` and cut at the last whole one (a text at a time took a second)."""
    eights = [b"".join(b"<si />" if byte >> i & 1 else b"<si/>" for i in range(8)) for byte in range(256)]

    def grow(xml: bytes) -> bytes:
        room = size - len(xml)
        texts = b"".join(map(eights.__getitem__, bits))
        assert len(texts) >= room, "too few bits for the texts"
        end = room if texts[room:room + 1] in (b"<", b"") else texts.rindex(b"<", 0, room)
        return xml.replace(b"</sst>", texts[:end] + b"</sst>", 1)
    return grow


def test_shared_strings_over_their_limit_are_refused_saying_so(sample, tmp_path):
    """A shared-strings part of 257 MB (within the part limit) validated at 691 MiB: read
    twice over, then held whole again by python-calamine, whose strings of a few letters
    cost it several times their XML. Refused by the limit of its own, naming it."""
    from renkei_xl.workbook.sheet_checks import MAX_SHARED_STRINGS_BYTES

    # 1 MB of texts of 8 letters, repeated: a repeat lies beyond deflate's 32 KB window, so the
    # part packs no tighter than any text would (no zip bomb for the ratio check)
    noise = os.urandom(2**18).hex().encode("ascii")
    block = b"".join(b"<si><t>" + noise[k:k + 8] + b"</t></si>" for k in range(0, len(noise), 8))

    def grow(xml: bytes) -> bytes:
        texts = block * ((257_000_000 - len(xml)) // len(block))
        return xml.replace(b"</sst>", texts + b" " * (257_000_000 - len(xml) - len(texts)) + b"</sst>", 1)
    master = _grown_master(sample, tmp_path / "master.xlsm", "xl/sharedStrings.xml", grow)
    before = digest(master)
    run = run_cli(["validate", master.name], tmp_path, fresh=True)
    assert not run.timed_out and run.code == 2, run
    assert (f"共有文字列の部品（sharedStrings.xml）が大きすぎます（展開すると 245 MB、"
            f"上限 {MAX_SHARED_STRINGS_BYTES // 2**20} MB）") in run.err, run
    assert run.max_rss_kib < MAX_RSS_KIB, f"peak memory {run.max_rss_kib // 1024} MiB\n{run}"
    assert digest(master) == before and backups(master) == []


def test_shared_strings_at_their_limit_recalculate_within_the_memory_bound(sample, tmp_path):
    """The limit is what python-calamine can hold: empty texts (<si/>, the most strings a
    byte can make) up to it, spaced at random so that the part is no zip bomb. recalc opens
    the book twice at once (its 設定 and the xlwings.conf sheet), so both copies count."""
    from renkei_xl.workbook.sheet_checks import MAX_SHARED_STRINGS_BYTES

    bits = os.urandom(MAX_SHARED_STRINGS_BYTES // 40 + 1)
    texts = _empty_texts(MAX_SHARED_STRINGS_BYTES, bits)
    master = _grown_master(sample, tmp_path / "master.xlsm", "xl/sharedStrings.xml", texts)
    run = run_cli(["recalc", master.name], tmp_path, fresh=True)
    assert run.code == 0 and "52／71" in run.out, run
    assert run.max_rss_kib < MAX_RSS_KIB, f"peak memory {run.max_rss_kib // 1024} MiB\n{run}"


# The last filled row's search as it was, at once over the whole sheet: a cell calamine
# keeps is an opening <c> tag that is not self-closing (sheet_checks._filled_at).
_FILLED = re.compile(rb'<(?:\w+:)?c r="([A-Z]{1,3})([0-9]+)"[^>/]*>')


def test_the_extent_read_in_windows_is_the_extent_read_at_once(monkeypatch):
    """check_extent's searches run a window at a time (sheet_form.in_windows); with tiny
    windows, every cut falls among the cells, and the rows, columns and widest column
    found are those of one search over the whole sheet (the searches as they were)."""
    import random

    from renkei_xl.workbook import sheet_checks, sheet_form
    from renkei_xl.core.refs import column_letter

    rnd = random.Random(27)
    for _case in range(40):
        cells = []
        for r in sorted(rnd.sample(range(1, 300_000), 30)):
            for _ in range(rnd.randint(1, 4)):
                ref = f"{column_letter(rnd.choice([1, 2, 26, 27, 700, 1200]))}{r}"
                cells.append(f'<row r="{r}"><c r="{ref}" s="1"/>' if rnd.random() < 0.5 else
                             f'<row r="{r}"><c r="{ref}" s="1"><v>{r}</v></c>')
                cells.append("</row>")
        raw = ("<worksheet><sheetData>" + "".join(cells) + "</sheetData></worksheet>").encode()
        odd_at = sheet_form.survey(raw, b"")[1]
        at_once = [
            next((int(m.group(2)) for m in reversed(list(_FILLED.finditer(raw, 0, raw.rfind(b"sheetData>"))))), 0),
            max((int(m) for m in sheet_form._far_cell(b"").findall(raw, odd_at)), default=0) if odd_at is not None else 0,
            max((sheet_checks._column(x) for x in set(sheet_checks._WIDE_FILLED.findall(raw, odd_at))), default=26)
            if odd_at is not None else 26,
            max((sheet_checks._column(x) for x in set(re.findall(rb' r="([A-Z]{1,3})[0-9]+"', raw))), default=1)]
        for window in (1, 7, 64, 2**20):
            monkeypatch.setattr(sheet_form, "WINDOW", window)
            windowed = [
                sheet_checks._last_filled_row("S", raw, b""),
                sheet_form.far_rows("S", raw, b"", odd_at) if odd_at is not None else 0,
                max((sheet_checks._column(x) for found in sheet_form.in_windows(sheet_checks._WIDE_FILLED, raw, odd_at)
                     for x in set(found)), default=26) if odd_at is not None else 26,
                max((sheet_checks._column(x) for found in sheet_form.in_windows(sheet_checks._ANY_CELL_COLUMN, raw)
                     for x in set(found)), default=1)]
            assert windowed == at_once, (window, raw[:300])


def test_a_part_read_in_chunks_is_the_part_and_damage_in_it_is_still_said(sample, tmp_path, monkeypatch):
    """Package reads a large part a chunk at a time (its peak was twice the part read at
    once); with tiny chunks every part of the sample reads as zipfile reads it, and a
    changed digit (CRC-32, seen only at the end of the part) is still said in Japanese."""
    from renkei_xl.package.xml import PackageError
    from renkei_xl.package.zipped import Package

    monkeypatch.setattr(Package, "READ_CHUNK", 1000)
    with Package(sample) as pkg, zipfile.ZipFile(sample) as z:
        assert all(pkg.read(name) == z.read(name) for name in pkg.names())
    damaged = tmp_path / "crc.xlsm"
    damaged.write_bytes(crc_mismatch_in_sheet(sample.read_bytes(), MASTER)[0])
    with Package(damaged) as pkg:
        with pytest.raises(PackageError, match="を読めません（圧縮されたデータが壊れています）"):
            pkg.read(MASTER.sheet_part)


def test_missing_rows_do_not_depend_on_the_order_the_rows_come_in(sample_data):
    """missing_rows takes each municipality's rows a run at a time (the file face reads them a
    sheet at a time); rows in another order, as another face might give them, find the same
    missing rows, and a stray row still holds its municipality back. (The cell named is below
    the municipality's last row as given: in sheet order, below its table.)"""
    from renkei_xl.core.contract_read import missing_rows

    data, _ = sample_data
    kept = [e for e in data.entries if not (e.municipality in ("札幌市", "小樽市") and e.indicator_id in ("04-1", "05-1"))]
    stray = kept[5]._replace(municipality="江別市", indicator_id="99-9", value="3")
    for rows in (kept, kept[::2] + kept[1::2], sorted(kept, key=lambda e: e.indicator_id)):
        found = missing_rows(data.settings, data.indicators, rows, [])
        places = sorted((f.sheet, f.indicator_id) for f in found)
        assert places == sorted((f.sheet, f.indicator_id) for f in missing_rows(
            data.settings, data.indicators, kept, [])), places
        assert set(places) >= {("小樽市", "04-1"), ("小樽市", "05-1")}, places
        with_stray = missing_rows(data.settings, data.indicators, rows + [stray], [])
        assert "江別市" not in {f.sheet for f in with_stray}, with_stray


class _Searched(bytes):
    """A sheet's bytes that count how far back the cell-tag searches look."""
    looked = 0

    def rfind(self, sub, start=0, end=None):
        if sub.startswith(b"<c "):
            _Searched.looked += (len(self) if end is None else end) - start
        return bytes.rfind(self, sub, start, end)

    def find(self, sub, start=0, end=None):
        found = bytes.find(self, sub, start, end)
        if sub.startswith(b"</c>"):
            _Searched.looked += (len(self) if found < 0 else found) - start
        return found


def test_the_checks_of_a_cell_holding_many_values_look_at_each_byte_once():
    """A cell doctored to hold 10,000 values (text results, negative numbers): each value's
    cell was found by searching back to the sheet's head, the time the square of the values
    (1.2 s at 40,000, hours in a part of 256 MB). Each search now goes back only to the one
    before; the cells found are the same."""
    from renkei_xl.workbook.stored_values import check_stored_values

    head = f'<worksheet xmlns="{SML}"><sheetData><row r="1">'.encode()
    for cell in (b'<c r="A1" t="str">' + b"<v>x</v>" * 10_000 + b"</c>",
                 b'<c r="A1">' + b"<v>-1</v>" * 10_000 + b"</c>"):
        raw = _Searched(head + b'<c r="B1" t="s"><v>0</v></c>' + cell + b'<c r="C1"><v>-2</v></c></row></sheetData></worksheet>')
        _Searched.looked = 0
        negatives = check_stored_values("小樽市", raw, b"")
        assert _Searched.looked < 3 * len(raw), (_Searched.looked, len(raw))
        assert negatives == ({0: {0: -1.0, 2: -2.0}} if b"-1" in cell else {0: {2: -2.0}})


def test_the_walk_of_a_refused_sheet_of_unclosed_cells_names_the_cell():
    """calamine refuses a sheet whose cells are not closed; the walk naming the cell searched
    each cell's end and value from its start, the square of the cells (9 s for 0.7 MB)."""
    from renkei_xl.workbook.stored_values import unreadable_cell

    cells = b"".join(b'<c r="A%d"><v>1</v>' % r for r in range(1, 20_001)) + b'<c r="B1" t="b"><v>7</v></c>'
    raw = _Searched(f'<worksheet xmlns="{SML}"><sheetData><row r="1">'.encode() + cells + b"</row></sheetData></worksheet>")
    _Searched.looked = 0
    said = unreadable_cell("小樽市", raw, 10)
    assert _Searched.looked < 3 * len(raw), (_Searched.looked, len(raw))
    assert said is not None and said.startswith("シート「小樽市」のセル B1 が壊れています（論理値のセルに「7」"), said


@pytest.mark.parametrize("xml", [
    b'<c r="A1"><f>B1*2</f><v>4</v></c>', b'<c r="A1"><f t="shared" si="0"/><v>4</v></c>',
    b'<c r="A1"><f/></c>', b'<x:c r="A1"><x:f>B1</x:f><x:v>1</x:v></x:c>', b'<c r="A1"><y:f\n>B1</y:f></c>',
    b'<c r="A1" t="inlineStr"><is><t>if> a:f> b</t></is></c>', b'<c r="A1"><v>1</v></c>', b"f>", b"<f", b":f>",
    b'<sheetPr codeName="f"/><c r="A1"><v>1</v></c>', b'<autoFilter ref="A1:B2"/>'],
    ids=["plain", "shared", "empty", "own prefix", "another prefix spaced", "in a text", "none", "bare tail",
         "bare head", "prefix only", "attribute ending in f", "autofilter"])
def test_the_fast_scans_answer_as_their_plain_patterns_do(xml):
    """holds_formula and the survey's look for an error type search from a character rare
    in a sheet's cells rather than from ``<`` or ``"`` (each in every cell): they must find
    exactly what the plain search finds, in a sheet of each kind."""
    import re

    from renkei_xl.workbook.sheet_checks import ANY_FORMULA, holds_formula
    from renkei_xl.workbook.sheet_form import _holds_quoted_e

    for raw in (xml, b"<worksheet>" + xml + b"</worksheet>", xml.replace(b'r="A1"', b'r="A1" t="e"'),
                xml.replace(b'r="A1"', b't = "e" r="A1"'), b'"e"' + xml):
        assert holds_formula(raw) == bool(re.search(ANY_FORMULA, raw)), raw
        assert _holds_quoted_e(raw) == (b'"e"' in raw), raw


def test_a_negative_number_is_noted_once_in_a_sheet_holding_a_decimal():
    """A sheet holding a decimal is searched twice (the second time for text cells); a number
    cell the second search also meets (t="s" in another attribute of its tag) noted its
    negative number twice, and a number calamine cannot read as a date was zeroed twice."""
    from renkei_xl.workbook.sheet_checks import put_back
    from renkei_xl.workbook.stored_values import check_stored_values

    raw = (f'<worksheet xmlns="{SML}"><sheetData><row r="1"><c r="A1"><v>1.5</v></c>'
           '<c r="B1" x="t=&quot;s&quot;" a=\'t="s"\'><v>-1000000000</v></c></row></sheetData></worksheet>').encode()
    negatives = check_stored_values("小樽市", raw, b"")
    assert negatives == {0: {1: -1e9}} and len(negatives.unsafe) == 1, negatives.unsafe
    readable = put_back(raw, False, negatives)[1]
    assert b"<v>0</v>" in readable and b"<v>00</v>" not in readable


@pytest.mark.parametrize("last_row, refused", [(153_846, True), (153_844, False)])
def test_an_import_log_near_what_the_tool_reads_is_never_written_past_it(sample, returned_sample, tmp_path,
                                                                         last_row, refused):
    """取込履歴 gains a row for each file at every 回収ファイル取込, and nothing bounded it: a
    log that reached past what the tool reads of a sheet (153,846 rows of columns A … Z:
    4,000,000 cells, sheet_checks.check_extent) was written, and every later command
    refused the master as too large. The plan is refused first (WritePlan.
    refuse_past_the_extent), naming the sheet and what to do; the master unchanged. The row
    near the limit is a staff note in a column after the log's own (J)."""
    master = fresh_master(sample, tmp_path)
    (tmp_path / "first").mkdir()
    shutil.copyfile(returned_sample, tmp_path / "first" / returned_sample.name)
    assert run_cli(["collect", master.name, "first"], tmp_path).code == 0       # makes 取込履歴
    members = read_members(master.read_bytes())
    part = next(p for p in members if p.startswith("xl/worksheets/") and b'codeName="shImportLog"' in members[p])
    edit_part(members, part, lambda x: x.replace(
        "</sheetData>", f'<row r="{last_row}"><c r="J{last_row}" t="inlineStr"><is><t>メモ</t></is></c></row></sheetData>'))
    master.write_bytes(write_members(members))
    changed = read_members(returned_sample.read_bytes())
    edit_part(changed, RETURNED.sheet_part, lambda x: set_cell(x, RETURNED.number_cell,
                                                               f'<c r="{RETURNED.number_cell}" s="10"><v>3</v></c>'))
    (tmp_path / "returned").mkdir()
    (tmp_path / "returned" / returned_sample.name).write_bytes(write_members(changed))
    before = digest(master)
    run = run_cli(["collect", master.name, "returned"], tmp_path)
    check_common(run, [str(tmp_path), master.name, returned_sample.name], [master.name, "取込履歴"])
    if refused:
        assert run.code == 2, run
        assert "シート「取込履歴」に書き込むと 153,847 行目まで使うことになり、このツールが読める 153,846 行を超えます" in run.text
        assert "古い行を別のブックに移して" in run.text and digest(master) == before, run
    else:
        assert run.code == 0 and digest(master) != before, run
        assert run_cli(["validate", master.name], tmp_path).code == 0


@pytest.mark.parametrize("dimension", ["A1:", "A1:B2:C3"])
def test_a_damaged_dimension_is_said_as_such_not_as_xml_or_shared_strings(sample, returned_sample, tmp_path, dimension):
    """python-calamine refuses a sheet whose <dimension ref> (the used range Excel records) is
    no range, in English; staff read 「XML が壊れているか、共有文字列が見つかりません」 and looked
    for a missing text. The known reason is said (stored_values.calamine_refusal), on a master
    and on a returned file, the master unchanged."""
    said = "シート「小樽市」の値を読めません（シートの使用範囲の記録（dimension）の番地が壊れています）"
    dimensioned = lambda x: re.sub(r'<dimension ref="[^"]*"', f'<dimension ref="{dimension}"', x, count=1)
    _master_edited_is_refused(sample, tmp_path, "validate", dimensioned, said)
    master = fresh_master(sample, tmp_path, "collected.xlsm")
    members = read_members(returned_sample.read_bytes())
    edit_part(members, RETURNED.sheet_part, dimensioned)
    (tmp_path / "returned").mkdir()
    (tmp_path / "returned" / returned_sample.name).write_bytes(write_members(members))
    before = digest(master)
    run = run_cli(["collect", master.name, "returned"], tmp_path)
    check_common(run, [str(tmp_path), master.name, returned_sample.name], [returned_sample.name])
    assert run.code == 1 and said in run.text and "Range" not in run.text, run
    assert digest(master) == before, run


@pytest.mark.parametrize("address", ["ABCDE1", "AAAA30"])
def test_a_cell_whose_column_has_four_letters_or_more_is_refused_naming_it(sample, returned_sample, tmp_path, address):
    """No column of Excel's grid has four letters (AAAA is past XFD). A value at 「ABCDE1」
    on a master or a returned sheet went without a word: neither the measure of the used
    range (three letters) nor python-calamine saw it, and validate wrote the master on, a
    file Excel calls damaged. The sheet is refused naming the cell, the master unchanged."""
    said = f"シート「小樽市」のセルの位置「{address}」が読めません（ファイルが壊れています）"
    placed = lambda x: x.replace("</sheetData>", f'<row r="900"><c r="{address}"><v>5</v></c></row></sheetData>')
    _master_edited_is_refused(sample, tmp_path, "validate", placed, said)
    master = fresh_master(sample, tmp_path, "collected.xlsm")
    members = read_members(returned_sample.read_bytes())
    edit_part(members, RETURNED.sheet_part, placed)
    (tmp_path / "returned").mkdir()
    (tmp_path / "returned" / returned_sample.name).write_bytes(write_members(members))
    before = digest(master)
    run = run_cli(["collect", master.name, "returned"], tmp_path)
    check_common(run, [str(tmp_path), master.name, returned_sample.name], [returned_sample.name])
    assert run.code == 1 and said in run.text, run
    assert digest(master) == before, run


@pytest.mark.parametrize("name", ["c.x", "c-x", "c.", "slicer.x", "slicer-x"])
def test_an_element_whose_name_only_begins_as_a_cells_or_a_slicers_is_neither(name):
    """「<c.x>」 or 「<slicer-x>」 (an element of its own) matched ``<c\\b`` and ``<slicer\\b``:
    each began a match whose ``.*?`` looked to the part's end for a closing tag, a search
    that grows with the square of such elements (qa-fuzz62-1). The name now ends at
    whitespace, / or >, as a tag's name does."""
    from renkei_xl.package.cells import _whole_cell
    from renkei_xl.package.slicers import _SLICER

    pattern = _SLICER if name.startswith("slicer") else _whole_cell("")
    own = name.split(".")[0].split("-")[0]
    for text in (f"<{name} a=\"1\"/>", f"<{name}>x</{own}>"):
        assert pattern.match(text) is None, text
    for tag in (f"<{own} r=\"A1\"/>", f"<{own}>x</{own}>", f"<{own}\n r=\"A1\">x</{own}>"):
        assert pattern.fullmatch(tag), tag


@pytest.mark.parametrize("markup", ['<!-- <sheetPr codeName="Fake"/> -->', '<?renkei <sheetPr codeName="Fake"/>?>',
                                    '<![CDATA[<sheetPr codeName="Fake"/>]]>', '<!-- <sheetData/> -->'])
def test_a_sheet_setting_written_in_an_xml_comment_at_the_top_is_no_setting(sample, tmp_path, markup):
    """A comment or processing instruction before a sheet's real sheetPr, holding a fake one:
    the top of each sheet is read from its head (workbook.apply.sheet_top, the code names and
    selected tabs of a write), past Package.read's odd-markup check, and the comment's code
    name was taken for the sheet's. The top is read without its comments now; a CDATA
    section's fake was still taken, and a comment holding 「<sheetData/>」 hid the real
    sheetPr behind it (review63): each kind odd_markup finds is left out before the cells
    are looked for."""
    from renkei_xl.package.zipped import Package
    from renkei_xl.workbook.apply import _attr_of, sheet_top

    part = "xl/worksheets/sheet1.xml"
    real = _attr_of(sheet_top(Package(sample), part), "sheetPr", "codeName")
    assert real
    members = read_members(sample.read_bytes())
    members[part] = re.sub(rb"(<worksheet\b[^<>]*>)", lambda m: m.group(1) + markup.encode(), members[part], count=1)
    doctored = tmp_path / "commented.xlsm"
    doctored.write_bytes(write_members(members))
    assert markup.encode() in read_members(doctored.read_bytes())[part]
    assert _attr_of(sheet_top(Package(doctored), part), "sheetPr", "codeName") == real


def _xlsx_with_texts(path: Path, sst) -> Path:
    """An XlsxWriter book of two texts whose shared strings part is ``sst(part)``."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("S")
    sheet.write("A1", "text")
    sheet.write("A2", "more")
    book.close()
    members = read_members(path.read_bytes())
    members["xl/sharedStrings.xml"] = sst(members["xl/sharedStrings.xml"])
    path.write_bytes(write_members(members))
    return path


def _before_root(markup: bytes, count: bytes):
    return lambda part: re.sub(rb"<sst\b", lambda m: markup + m.group(0), part.replace(b'uniqueCount="2"', count), count=1)


@pytest.mark.parametrize("markup", [b'<!-- <sst uniqueCount="1"> -->', b'<?renkei <sst uniqueCount="1">?>'])
def test_a_count_of_texts_in_a_comment_before_the_shared_strings_is_not_theirs(tmp_path, markup):
    """A comment before the shared strings' root holding a root of 1 text, the real root
    claiming 2**32: the count was read from the part's head past Package.read's odd-markup
    check, the comment's root taken for the real one, and python-calamine, reading the real
    one as it opened the book, aborted the process with a Rust backtrace (no message). Every
    head read goes through Package.top now, without comments and processing instructions."""
    from renkei_xl.package.zipped import Package
    from renkei_xl.workbook.sheet_checks import check_unique_count

    book = _xlsx_with_texts(tmp_path / "book.xlsx", _before_root(markup, b'uniqueCount="4294967296"'))
    with pytest.raises(UserError, match="uniqueCount）が 4,294,967,296"):
        check_unique_count(Package(book), "xl/sharedStrings.xml")
    fine = _xlsx_with_texts(tmp_path / "fine.xlsx", _before_root(markup.replace(b'"1"', b'"4294967296"'),
                                                                 b'uniqueCount="2"'))
    check_unique_count(Package(fine), "xl/sharedStrings.xml")     # the comment's count is no refusal


def test_a_root_in_a_comment_before_a_sheets_root_is_not_its_root(tmp_path):
    """package.sheet_tail.sheet_root gives the root start tag a rewritten sheet keeps (its
    namespaces): a root written in a comment before it was taken for it."""
    from renkei_xl.package.sheet_tail import sheet_root
    from renkei_xl.package.zipped import Package

    book = _xlsx_with_texts(tmp_path / "book.xlsx", lambda part: part)
    members = read_members(book.read_bytes())
    part = "xl/worksheets/sheet1.xml"
    real = sheet_root(Package(book), part)
    assert real.startswith(b"<worksheet ")
    members[part] = re.sub(rb"<worksheet\b", lambda m: b'<!-- <worksheet xmlns:x="fake"> -->' + m.group(0), members[part], count=1)
    book.write_bytes(write_members(members))
    assert sheet_root(Package(book), part) == real

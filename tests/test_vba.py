"""The VBA project writer: compression, compound file, project streams, sources, injection.

Real readers judge the output: oletools' decompressor and olevba, olefile, and LibreOffice
headless through UNO. xlwings' own quickstart_standalone.xlsm (a project Excel opens) is
the reference for every layout detail.
"""

from __future__ import annotations

import ast
import io
import random
import re
import struct
import zipfile
from pathlib import Path

import olefile
import pytest
import xlsxwriter
import xlwings
from hypothesis import given, settings
from hypothesis import strategies as st
from oletools.olevba import decompress_stream

from conftest import require_soffice
from realbooks import lo_probe, olevba_read
from renkei_xl.core.errors import UserError
from renkei_xl.vba.cfb import write_compound_file
from conftest import replace_vba_project
from renkei_xl.vba.inject import VBA_PART, sheet_code_names
from renkei_xl.vba.ovba import compress
from renkei_xl.vba.project import Module, build_vba_project, stored_source
from renkei_xl.vba.sources import (BUTTONS, MACROS_DIR, REMOTE_MODULES, master_project, our_modules,
                                   remote_modules, xlwings_modules)

REPO = Path(__file__).resolve().parents[1]
XLWINGS_DIR = Path(xlwings.__file__).parent
REFERENCE_XLSM = XLWINGS_DIR / "quickstart_standalone.xlsm"
RENKEI_BAS = MACROS_DIR / "Renkei.bas"
RENKEI_SERVER_BAS = MACROS_DIR / "RenkeiServer.bas"
# Every code module of a master: ours, xlwings' standalone module and its client for a server.
CODE_MODULES = ["Renkei", "RenkeiServer", "xlwings", "Dictionary",
                "Remote", "IWebAuthenticator", "WebClient", "WebRequest", "WebResponse", "WebHelpers"]
SHEETS = (("メニュー", "Sheet1"), ("設定", "Sheet2"), ("札幌市", "Sheet3"))
HEADER_LINE = re.compile(r"Attribute VB_\w+ = .*")


# ------------------------------------------------------------------------------ helpers

def _decompress(data: bytes) -> bytes:
    return bytes(decompress_stream(bytearray(data)))


def _chunk_flags(container: bytes) -> list[int]:
    """CompressedChunkFlag of every chunk (1 compressed, 0 raw), walking the headers."""
    flags, at = [], 1
    while at < len(container):
        header = int.from_bytes(container[at : at + 2], "little")
        flags.append(header >> 15)
        at += (header & 0x0FFF) + 3
    return flags


def _assert_round_trip(data: bytes) -> None:
    container = compress(data)
    out = _decompress(container)
    # MS-OVBA 2.4.1.3.10 pads a raw chunk to 4096 bytes; only a raw last chunk may add zeros.
    padded = -len(data) % 4096 if data and _chunk_flags(container)[-1] == 0 else 0
    assert out == data + b"\x00" * padded


def _reference_ole() -> olefile.OleFileIO:
    with zipfile.ZipFile(REFERENCE_XLSM) as book:
        return olefile.OleFileIO(io.BytesIO(book.read(VBA_PART)))


def _dir_records(data: bytes) -> list[tuple[int, bytes]]:
    """MS-OVBA 2.3.4.2 records; PROJECTVERSION's Size field is a constant 4 for 6 bytes."""
    records, at = [], 0
    while at < len(data):
        record_id, size = struct.unpack_from("<HI", data, at)
        at += 6
        if record_id == 0x0009:
            size = 6
        records.append((record_id, data[at : at + size]))
        at += size
    return records


def _module_ids(records: list[tuple[int, bytes]]) -> list[list[int]]:
    """The record ids of each MODULE record (MODULENAME 0x19 .. Terminator 0x2B)."""
    modules, current = [], None
    for record_id, _ in records:
        if record_id == 0x0019:
            current = []
        if current is not None:
            current.append(record_id)
            if record_id == 0x002B:
                modules.append(current)
                current = None
    return modules


def _decrypt(hex_text: str) -> tuple[int, int, bytes]:
    """MS-OVBA 2.4.3.3 Decryption, written from the spec: (version, project key, data)."""
    raw = bytes.fromhex(hex_text)
    seed, version, project_key = raw[0], raw[0] ^ raw[1], raw[0] ^ raw[2]
    unencrypted_1, encrypted_1, encrypted_2 = project_key, raw[2], raw[1]
    plain = bytearray()
    for encrypted in raw[3:]:
        byte = encrypted ^ ((encrypted_2 + unencrypted_1) & 0xFF)
        plain.append(byte)
        encrypted_2, encrypted_1, unencrypted_1 = encrypted_1, encrypted, byte
    plain = plain[(seed & 6) // 2 :]
    length = int.from_bytes(plain[:4], "little")
    assert length == len(plain) - 4
    return version, project_key, bytes(plain[4:])


def _project_lines(ole: olefile.OleFileIO) -> list[str]:
    return ole.openstream("PROJECT").read().decode("cp1252").split("\r\n")


def _norm(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _split_header(text: str) -> tuple[list[str], str]:
    """Leading ``Attribute VB_`` lines (after a .cls VERSION block) and the code below them."""
    lines = _norm(text).split("\n")
    if lines[0].startswith("VERSION "):
        lines = lines[lines.index("END") + 1 :]
    header = []
    while lines and HEADER_LINE.fullmatch(lines[0]):
        header.append(lines.pop(0))
    return header, "\n".join(lines)


def _expected_modules() -> list[str]:
    return ["ThisWorkbook", *(code for _, code in SHEETS), *CODE_MODULES]


def _make_book(path: Path, project: bytes, sheets=SHEETS) -> Path:
    """A master-like .xlsm made the way the product makes it: XlsxWriter plus our project."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    book.set_vba_name("ThisWorkbook")
    for title, code_name in sheets:
        sheet = book.add_worksheet(title)
        sheet.set_vba_name(code_name)
        sheet.write("A1", f"{title}です")
    menu = book.get_worksheet_by_name(sheets[0][0])
    for row, (macro, caption) in enumerate(BUTTONS):
        menu.insert_button(row * 3 + 2, 1, {"macro": macro, "caption": caption, "width": 180, "height": 36})
    book.add_vba_project(io.BytesIO(project), is_stream=True)
    book.close()
    return path


def _olevba_modules(path: Path) -> dict[str, str]:
    """The modules olevba reads from the book, which must have VBA (realbooks.olevba_read)."""
    detected, modules = olevba_read(path)
    assert detected
    return modules


def _master(tmp_path: Path, name: str = "master.xlsm") -> Path:
    return _make_book(tmp_path / name, master_project([code for _, code in SHEETS]))


# ------------------------------------------------------------------- MS-OVBA compression

EDGE_CASES = {
    "empty": b"",
    "one byte": b"x",
    "exactly one chunk": random.Random(1).randbytes(4096),
    "one chunk and a byte": random.Random(2).randbytes(4097),
    "incompressible but fits": random.Random(3).randbytes(3640),
    "three random chunks": random.Random(4).randbytes(3 * 4096),
    "one repeated byte, 4096": b"a" * 4096,
    "one repeated byte, 4097": b"a" * 4097,
    "highly repetitive": b"RunPython \"m.check()\"\r\n" * 2000,
    # a compressible chunk whose last two bytes "ab" and the next chunk's "c" spell an
    # earlier key: a match must not reach into the next chunk
    "key across chunk edge": b"abc" + b"-" * 4081 + bytes(range(0xF0, 0xFA)) + b"abc" * 10,
}


@pytest.mark.parametrize("data", EDGE_CASES.values(), ids=EDGE_CASES.keys())
def test_compress_round_trips_through_oletools(data):
    container = compress(data)
    assert container[0] == 0x01
    assert _decompress(container) == data


def test_repetitive_input_shrinks_and_random_input_falls_back_to_raw_chunks():
    assert len(compress(b"a" * 4097)) < 20
    random_chunks = compress(EDGE_CASES["three random chunks"])
    assert _chunk_flags(random_chunks) == [0, 0, 0]
    assert len(random_chunks) == 1 + 3 * 4098


def test_incompressible_short_last_chunk_is_padded_as_the_spec_says():
    data = random.Random(6).randbytes(4096 + 3700)
    container = compress(data)
    assert _chunk_flags(container) == [0, 0]
    assert _decompress(container) == data + b"\x00" * (8192 - len(data))


@pytest.mark.parametrize("path", [XLWINGS_DIR / "xlwings.bas", XLWINGS_DIR / "addin" / "Dictionary.cls", RENKEI_SERVER_BAS],
                         ids=lambda p: p.name)
def test_real_sources_round_trip_and_compress(path):
    data = path.read_bytes()
    container = compress(data)
    assert _decompress(container) == data
    assert set(_chunk_flags(container)) == {1}
    assert len(container) < 0.6 * len(data)


@settings(max_examples=150, deadline=None, database=None)  # no .hypothesis/ in the repo
@given(st.binary(max_size=3 * 4096 + 100))
def test_compress_round_trips_random_bytes(data):
    _assert_round_trip(data)


@settings(max_examples=150, deadline=None, database=None)  # no .hypothesis/ in the repo
@given(st.lists(st.sampled_from([b"a", b"b", b"ab", b"Sub ", b"End Sub\r\n", b"\x00", b"\xff" * 7, b"xyz"]),
                max_size=2500).map(b"".join))
def test_compress_round_trips_repetitive_text(data):
    _assert_round_trip(data)


@settings(max_examples=150, deadline=None, database=None)  # no .hypothesis/ in the repo
@given(st.integers(4080, 4100), st.binary(min_size=1, max_size=8), st.integers(1, 8))
def test_compress_round_trips_repeats_around_the_chunk_edge(edge, motif, repeats):
    # a compressible run, then literals, so that a token starts right before the edge
    filler = b"-" * max(edge - len(motif) - 10, 0) + bytes(range(0xF0, 0xFA))
    _assert_round_trip(motif + filler + motif * repeats)


def _spec_compress(data: bytes) -> bytes:
    """The compressor as the spec reads (2.4.1.3.6-2.4.1.3.19): each position's key added
    after its token, each candidate compared byte by byte, latest first, the first of the
    longest kept. renkei_xl.vba.ovba finds its matches faster (keys indexed beforehand,
    candidates that cannot win passed over, matches extended a slice at a time, perf-106);
    the tests below hold its output to this one's, byte for byte, so that a rebuilt master's
    vbaProject.bin is the file it was."""
    out = bytearray(b"\x01")
    for start in range(0, len(data), 4096):
        end = min(start + 4096, len(data))
        body, heads, pos = bytearray(), {}, start
        while pos < end:
            flag_at = len(body)
            body.append(0)
            for bit in range(8):
                if pos >= end:
                    break
                offset = length = 0
                if end - pos >= 3 and heads.get(data[pos:pos + 3]):
                    bits = max((pos - start - 1).bit_length(), 4)
                    max_length = min((0xFFFF >> bits) + 3, end - pos)
                    best_at = best = 0
                    for cand in reversed(heads[data[pos:pos + 3]][-64:]):
                        n = 3
                        while n < max_length and data[cand + n] == data[pos + n]:
                            n += 1
                        if n > best:
                            best_at, best = cand, n
                            if n == max_length:
                                break
                    offset, length = pos - best_at, best
                if length:
                    bits = max((pos - start - 1).bit_length(), 4)
                    body += (((offset - 1) << (16 - bits)) | (length - 3)).to_bytes(2, "little")
                    body[flag_at] |= 1 << bit
                else:
                    body.append(data[pos])
                    length = 1
                for at in range(pos, min(pos + length, end - 2)):
                    heads.setdefault(data[at:at + 3], []).append(at)
                pos += length
        if len(body) <= 4096:
            out += (0xB000 | (len(body) - 1)).to_bytes(2, "little") + body
        else:
            out += (0x3000 | 4095).to_bytes(2, "little") + data[start:end].ljust(4096, b"\x00")
    return bytes(out)


def _real_sources() -> list[Path]:
    return sorted([*XLWINGS_DIR.rglob("*.bas"), *XLWINGS_DIR.rglob("*.cls"), *MACROS_DIR.glob("*.bas"),
                   *MACROS_DIR.glob("*.cls")])


@pytest.mark.parametrize("data", EDGE_CASES.values(), ids=EDGE_CASES.keys())
def test_compress_gives_the_specs_bytes_on_the_edge_cases(data):
    assert compress(data) == _spec_compress(data)


def test_compress_gives_the_specs_bytes_on_every_module_a_master_carries():
    sources = _real_sources()
    assert len(sources) >= 8 and RENKEI_SERVER_BAS in sources
    for path in sources:
        data = path.read_bytes()
        assert compress(data) == _spec_compress(data), path.name


@settings(max_examples=200, deadline=None, database=None)  # no .hypothesis/ in the repo
@given(st.one_of(st.binary(max_size=2 * 4096 + 100),
                 st.lists(st.sampled_from([b"a", b"b", b"ab", b"aab", b"Sub ", b"End Sub\r\n", b"\x00",
                                           b"\xff" * 7, b"xyz", b"abcabcabd", b" " * 17]),
                          max_size=2500).map(b"".join)))
def test_compress_gives_the_specs_bytes(data):
    assert compress(data) == _spec_compress(data)


# ------------------------------------------------------------------------ MS-CFB writer

def test_compound_file_streams_read_back_with_olefile():
    sizes = [0, 1, 63, 64, 65, 4095, 4096, 4097, 70_000]
    rng = random.Random(7)
    tree = {f"s{size}": rng.randbytes(size) for size in sizes}
    tree["Sub"] = {"inner": b"inner stream", "Deeper": {"x": rng.randbytes(5000)}}
    ole = olefile.OleFileIO(io.BytesIO(write_compound_file(tree)), raise_defects=olefile.DEFECT_INCORRECT)
    assert ole.sector_size == 512 and ole.dll_version == 3 and ole.mini_stream_cutoff_size == 4096
    expected = {(f"s{size}",): tree[f"s{size}"] for size in sizes}
    expected |= {("Sub", "inner"): b"inner stream", ("Sub", "Deeper", "x"): tree["Sub"]["Deeper"]["x"]}
    assert {tuple(p) for p in ole.listdir()} == set(expected)
    for path, data in expected.items():
        assert ole.openstream("/".join(path)).read() == data
    assert ole.get_type("Sub/Deeper") == olefile.STGTY_STORAGE


def _check_red_black(ole: olefile.OleFileIO, names: list[str]) -> None:
    entries = {e.sid: e for e in ole.direntries if e is not None}
    key = lambda name: (len(name), name.upper())  # noqa: E731  (MS-CFB 2.6.4)

    def walk(sid, parent_red):
        if sid == olefile.NOSTREAM:
            return [], 1
        e = entries[sid]
        red = e.color == 0
        assert not (red and parent_red), "red node with a red parent"
        left, black_left = walk(e.sid_left, red)
        right, black_right = walk(e.sid_right, red)
        assert black_left == black_right, "unequal black height"
        return left + [e.name] + right, black_left + (0 if red else 1)

    root = entries[0]
    if root.sid_child != olefile.NOSTREAM:
        assert entries[root.sid_child].color == 1, "tree root must be black"
    in_order, _ = walk(root.sid_child, False)
    assert in_order == sorted(names, key=key)


@pytest.mark.parametrize("count", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 33, 50])
def test_directory_is_an_ordered_red_black_tree(count):
    rng = random.Random(count)
    names = set()
    while len(names) < count:
        names.add("".join(rng.choice("abcXYZ_19") for _ in range(rng.randint(1, 12))))
    names = sorted(names, key=str.upper)
    if len({n.upper() for n in names}) < len(names):  # case-insensitive duplicates are refused
        names = list({n.upper(): n for n in names}.values())
    data = write_compound_file({name: b"" for name in names})
    _check_red_black(olefile.OleFileIO(io.BytesIO(data), raise_defects=olefile.DEFECT_INCORRECT), names)


def test_compound_file_refuses_case_insensitive_duplicates_and_oversize():
    with pytest.raises(ValueError, match="duplicate"):
        write_compound_file({"dir": b"", "DIR": b""})
    with pytest.raises(ValueError, match="too large"):
        write_compound_file({"big": bytes(110 * 128 * 512)})


# ------------------------------------------------------------------------ VBA project

def test_project_has_the_streams_of_a_source_only_project():
    ole = olefile.OleFileIO(io.BytesIO(master_project(["Sheet1", "Sheet2", "Sheet3"])),
                            raise_defects=olefile.DEFECT_INCORRECT)
    modules = _expected_modules()
    assert {"/".join(p) for p in ole.listdir()} == {
        "PROJECT", "PROJECTwm", "VBA/dir", "VBA/_VBA_PROJECT", *(f"VBA/{m}" for m in modules)}
    reference = _reference_ole()
    assert reference.get_size("VBA/_VBA_PROJECT") == 7
    vba_project = ole.openstream("VBA/_VBA_PROJECT").read()
    assert len(vba_project) == 7
    assert vba_project[:5] == reference.openstream("VBA/_VBA_PROJECT").read()[:5]  # 0x61CC, 0xFFFF, 0x00
    for module in modules:  # MODULEOFFSET is 0: the whole stream is the compressed source
        _decompress(ole.openstream(f"VBA/{module}").read()).decode("cp1252")


def test_dir_stream_matches_the_layout_excel_writes():
    ole = olefile.OleFileIO(io.BytesIO(master_project(["Sheet1", "Sheet2", "Sheet3"])))
    records = _dir_records(_decompress(ole.openstream("VBA/dir").read()))
    ref_records = _dir_records(_decompress(_reference_ole().openstream("VBA/dir").read()))
    info = [rid for rid, _ in records[: [rid for rid, _ in records].index(0x0016)]]
    ref_info = [rid for rid, _ in ref_records[: [rid for rid, _ in ref_records].index(0x0016)]]
    assert info == ref_info  # PROJECTINFORMATION: same records in the same order
    values = dict(records[: len(info)])
    assert struct.unpack("<I", values[0x0002])[0] == 0x409
    assert struct.unpack("<I", values[0x0014])[0] == 0x409
    assert struct.unpack("<H", values[0x0003])[0] == 1252
    assert values[0x0004] == b"VBAProject"
    # REFERENCES: stdole and Office, registered
    names = [data for rid, data in records if rid == 0x0016]
    libids = [data[4:] for rid, data in records if rid == 0x000D]
    assert names == [b"stdole", b"Office"]
    assert b"{00020430-0000-0000-C000-000000000046}" in libids[0]
    assert b"{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}" in libids[1]
    # MODULES: count, then one MODULE record per module with the reference's record layout
    assert struct.unpack("<H", dict(records)[0x000F])[0] == len(_expected_modules())
    ref_layouts = {tuple(ids[:-2]) for ids in _module_ids(ref_records)}
    kinds = {"ThisWorkbook": 0x22, "Sheet1": 0x22, "Sheet2": 0x22, "Sheet3": 0x22, "Renkei": 0x21,
             "RenkeiServer": 0x21, "xlwings": 0x21, "Dictionary": 0x22,
             **{m.name: 0x21 if m.kind == "standard" else 0x22 for m in remote_modules()}}
    module_names = [data.decode() for rid, data in records if rid == 0x0019]
    assert module_names == _expected_modules()
    for name, ids in zip(module_names, _module_ids(records)):
        assert tuple(ids[:-2]) in ref_layouts
        assert ids[-2:] == [kinds[name], 0x002B]
    assert [data for rid, data in records if rid == 0x0031] == [bytes(4)] * len(module_names)
    assert [data.decode("utf-16-le") for rid, data in records if rid == 0x0047] == module_names
    assert records[-1][0] == 0x0010


def test_project_stream_and_projectwm_follow_the_reference():
    ole = olefile.OleFileIO(io.BytesIO(master_project(["Sheet1", "Sheet2", "Sheet3"])))
    lines = _project_lines(ole)
    ref_lines = _project_lines(_reference_ole())
    assert lines[0].startswith('ID="{') and lines[0].endswith('}"')
    assert lines[1:5 + len(CODE_MODULES)] == [
        "Document=ThisWorkbook/&H00000000", "Document=Sheet1/&H00000000", "Document=Sheet2/&H00000000",
        "Document=Sheet3/&H00000000", "Module=Renkei", "Module=RenkeiServer", "Module=xlwings", "Class=Dictionary",
        "Module=Remote", "Class=IWebAuthenticator", "Class=WebClient", "Class=WebRequest", "Class=WebResponse",
        "Module=WebHelpers"]
    key = lambda line: line.split("=")[0]  # noqa: E731
    skip = ("Document", "Module", "Class")
    workspace = lines.index("[Workspace]")
    ref_workspace = ref_lines.index("[Workspace]")
    assert [key(x) for x in lines[:workspace] if key(x) not in skip] == \
           [key(x) for x in ref_lines[:ref_workspace] if key(x) not in skip]
    assert lines[lines.index("[Host Extender Info]") + 1] == ref_lines[ref_lines.index("[Host Extender Info]") + 1]
    assert [key(x) for x in lines[workspace + 1 :] if x] == _expected_modules()
    # CMG, DPB, GC: the decryptor is proved on the reference first, then reads ours
    for project in (ref_lines, lines):
        values = {key(x): x.split("=", 1)[1].strip('"') for x in project if "=" in x}
        project_key = sum(values["ID"].encode()) & 0xFF
        assert _decrypt(values["CMG"]) == (2, project_key, bytes(4))  # not protected
        assert _decrypt(values["DPB"]) == (2, project_key, b"\x00")  # no password
        assert _decrypt(values["GC"]) == (2, project_key, b"\xff")  # visible
    wm = ole.openstream("PROJECTwm").read()
    assert wm.endswith(b"\x00\x00")
    parts = re.findall(rb"([A-Za-z0-9_]+)\x00((?:[A-Za-z0-9_]\x00)+)\x00\x00", wm)
    assert [(a.decode(), b.decode("utf-16-le")) for a, b in parts] == [(m, m) for m in _expected_modules()]


def test_stored_headers_equal_those_excel_stored_in_the_reference():
    reference = {name: _norm(code) for name, code in _olevba_modules(REFERENCE_XLSM).items()}
    ours = {m.name: _norm(stored_source(m))
            for m in [Module("ThisWorkbook", "document", ""), Module("Sheet1", "document", ""),
                      *xlwings_modules()]}
    assert ours["ThisWorkbook"] == reference["ThisWorkbook"]
    assert ours["Sheet1"] == reference["Sheet1"]
    assert _split_header(ours["Dictionary"])[0] == _split_header(reference["Dictionary"])[0]


def test_stored_source_keeps_exported_attributes_and_code():
    cls = (XLWINGS_DIR / "addin" / "Dictionary.cls").read_bytes().decode("cp1252")
    header, body = _split_header(stored_source(Module("Dictionary", "class", cls)))
    cls_header, cls_body = _split_header(cls)
    assert body == cls_body
    assert set(cls_header) <= set(header)
    assert header[0] == 'Attribute VB_Name = "Dictionary"'
    plain = stored_source(Module("Plain", "standard", "Sub A()\nEnd Sub"))
    assert plain == 'Attribute VB_Name = "Plain"\r\nSub A()\r\nEnd Sub\r\n'


@pytest.mark.parametrize("modules, message", [
    ([Module("連携", "standard", "")], "identifier"),
    ([Module("A", "standard", ""), Module("a", "class", "")], "duplicate"),
    ([Module("A", "standard", "' 評価\r\n")], "code page"),
    ([Module("A", "standard", 'Attribute VB_Name = "B"\r\n')], "header"),
    ([Module("A" * 32, "standard", "")], "identifier"),
])
def test_build_refuses_what_vba_cannot_hold(modules, message):
    with pytest.raises(ValueError, match=message):
        build_vba_project(modules)


# ------------------------------------------------------------------------------ sources

def test_renkei_bas_is_thin_ascii_crlf_and_calls_explicit_modules():
    for path in (RENKEI_BAS, RENKEI_SERVER_BAS):
        raw = path.read_bytes()
        raw.decode("ascii")
        assert b"\n" not in raw.replace(b"\r\n", b"")
        assert b"\r" not in raw.replace(b"\r\n", b"")
    text = RENKEI_BAS.read_bytes().decode("ascii")
    assert text.startswith('Attribute VB_Name = "Renkei"\r\n')
    subs = re.findall(r'^Sub (\w+)\(\)\r\n    RenkeiRun "(\w+)"\r\nEnd Sub(?=\r\n|\Z)', text, re.MULTILINE)
    assert subs == [("RenkeiCheck", "check"), ("RenkeiRecalc", "recalc"), ("RenkeiSplit", "split"),
                    ("RenkeiCollect", "collect"), ("RenkeiExport", "export"), ("RenkeiRollover", "rollover")]
    # one way to Python on the PC, named explicitly, and one to the server the conf row names
    assert '        RunPython "import renkei_xl.excel.buttons as m; m." & entry & "()"\r\n' in text
    assert 'server = GetConfig("RENKEI_SERVER", BUILT_FOR_SERVER)' in text and "RenkeiCallServer server, entry" in text
    assert [macro for macro, _ in BUTTONS] == [f"Renkei.{sub}" for sub, _ in subs]
    assert [caption for _, caption in BUTTONS] == ["入力チェック", "評価を再計算", "配布用ファイル作成",
                                                   "回収ファイル取込", "確定版を書き出し", "次年度のマスターを作成"]


def test_button_functions_exist_in_the_python_module():
    buttons = REPO / "renkei_xl" / "excel" / "buttons.py"
    tree = ast.parse(buttons.read_text(encoding="utf-8"))
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    called = set(re.findall(r'RenkeiRun "(\w+)"', RENKEI_BAS.read_bytes().decode("ascii")))
    assert called and called <= defined


def test_xlwings_modules_come_from_the_installed_xlwings():
    modules = xlwings_modules()
    assert [(m.name, m.kind) for m in modules] == [("xlwings", "standard"), ("Dictionary", "class")]
    assert modules[0].name == "xlwings" and "Attribute VB_Name = \"xlwings\"" in modules[0].source
    assert modules[0].source != (XLWINGS_DIR / "xlwings.bas").read_bytes().decode("cp1252")   # boxes in Japanese
    assert modules[1].source == (XLWINGS_DIR / "addin" / "Dictionary.cls").read_bytes().decode("cp1252")
    assert f"'Version: {xlwings.__version__}" in modules[0].source


def test_our_modules_reads_every_bas_of_a_folder(tmp_path):
    (tmp_path / "Extra.bas").write_bytes(b'Attribute VB_Name = "Extra"\r\nSub X()\r\nEnd Sub\r\n')
    (tmp_path / "Other.bas").write_bytes(b"Sub Y()\r\nEnd Sub\r\n")
    (tmp_path / "notes.txt").write_text("not a module")
    assert [(m.name, m.kind) for m in our_modules(tmp_path)] == [("Extra", "standard"), ("Other", "standard")]
    assert [m.name for m in our_modules()] == ["Renkei", "RenkeiServer"]


@pytest.mark.parametrize("names, bad", [(["メニュー"], "メニュー"), (["Sheet1", "xlwings"], "xlwings"),
                                        (["Sheet1", "SHEET1"], "SHEET1")])
def test_master_project_refuses_code_names_vba_cannot_hold(names, bad):
    with pytest.raises(UserError, match=f"コード名「{bad}」"):
        master_project(names)


def test_master_project_is_reproducible():
    assert master_project(["Sheet1", "Sheet2"]) == master_project(["Sheet1", "Sheet2"])
    assert master_project(["Sheet1", "Sheet2"]) != master_project(["Sheet1", "Sheet3"])


# ---------------------------------------------------------------- workbooks and olevba

def _assert_olevba_sees_everything(path: Path) -> None:
    found = _olevba_modules(path)
    assert sorted(found) == sorted(_expected_modules())
    assert _norm(found["Renkei"]) == _norm(RENKEI_BAS.read_bytes().decode("ascii"))
    assert _norm(found["RenkeiServer"]) == _norm(RENKEI_SERVER_BAS.read_bytes().decode("ascii"))
    for module in remote_modules():   # xlwings' own, with the tool's box title (test_master_macros)
        assert _split_header(found[module.name])[1] == _split_header(module.source)[1], module.name
    assert [m.name for m in remote_modules()] == [name.split(".")[0] for name, _kind in REMOTE_MODULES]
    assert _norm(found["xlwings"]) == _norm(xlwings_modules()[0].source)   # test_master_macros
    cls = (XLWINGS_DIR / "addin" / "Dictionary.cls").read_bytes().decode("cp1252")
    header, body = _split_header(found["Dictionary"])
    assert body == _split_header(cls)[1]
    assert set(_split_header(cls)[0]) <= set(header)
    for name in ["ThisWorkbook", *(code for _, code in SHEETS)]:
        header, body = _split_header(found[name])
        assert header[0] == f'Attribute VB_Name = "{name}"' and body == ""
        base = "00020819" if name == "ThisWorkbook" else "00020820"
        assert f'Attribute VB_Base = "0{{{base}-0000-0000-C000-000000000046}}"' in header


def test_olevba_reads_every_module_of_an_xlsxwriter_workbook(tmp_path):
    _assert_olevba_sees_everything(_master(tmp_path))


def test_japanese_file_and_folder_names(tmp_path):
    path = _master(tmp_path / "連携事業", "さっぽろ圏_2023年度_マスター.xlsm")
    _assert_olevba_sees_everything(path)
    assert sheet_code_names(path) == [code for _, code in SHEETS]


def test_sheet_code_names_in_sheet_order(tmp_path):
    sheets = (("一覧", "Zeta"), ("集計", "Alpha"), ("検証結果", "Mid_1"))
    path = _make_book(tmp_path / "order.xlsm", master_project([c for _, c in sheets]), sheets)
    assert sheet_code_names(path) == ["Zeta", "Alpha", "Mid_1"]
    plain = tmp_path / "plain.xlsx"
    book = xlsxwriter.Workbook(str(plain))
    book.add_worksheet("一覧")
    book.close()
    assert sheet_code_names(plain) == []


def test_sheet_code_names_follow_the_relationship_not_the_folder(tmp_path):
    """A sheet is a worksheet by its relationship's type, as Excel and the package reader
    (WorkbookXml) take it, wherever its part is: the code names were read only under
    xl/worksheets/, so upgrade-macros left out the document module of a sheet stored elsewhere
    and refused staff's code in it as that of a sheet no longer in the book."""
    sheets = (("一覧", "Zeta"), ("集計", "Alpha"))
    src = _make_book(tmp_path / "order.xlsm", master_project([c for _, c in sheets]), sheets)
    moved = tmp_path / "moved.xlsm"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(moved, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename in ("xl/_rels/workbook.xml.rels", "[Content_Types].xml"):
                data = data.replace(b"worksheets/sheet2.xml", b"grids/sheet2.xml")
            name = item.filename.replace("xl/worksheets/sheet2.xml", "xl/grids/sheet2.xml")
            zout.writestr(name, data)
    with zipfile.ZipFile(moved) as z:
        assert "xl/grids/sheet2.xml" in z.namelist() and b"grids/sheet2.xml" in z.read("xl/_rels/workbook.xml.rels")
    assert sheet_code_names(moved) == ["Zeta", "Alpha"]


def test_sheet_code_names_of_a_large_sheet_excel_saved(tmp_path):
    """A sheet as large as a 20,000-indicator master's 一覧 after recalc (1.2 million tags,
    every cell one element and its value another): upgrade-macros read its code name from
    the whole part as an element tree, and the bound on a tree's tags (package.xml
    MAX_TREE_TAGS) refused that master as damaged or not saved by Excel. The code name is
    read as the part streams past, the part still checked whole."""
    from renkei_xl.package.xml import MAX_TREE_TAGS

    sheets = (("一覧", "Zeta"), ("集計", "Alpha"))
    src = _make_book(tmp_path / "small.xlsm", master_project([c for _, c in sheets]), sheets)
    rows = "".join(f'<row r="{r}">' + "".join(f'<c r="{col}{r}" t="n"><v>{r}</v></c>' for col in "ABCDEFGHIJKLMNOP")
                   + "</row>" for r in range(1, 20_001))
    large = tmp_path / "large.xlsm"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(large, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb"<sheetData>.*</sheetData>|<sheetData/>", f"<sheetData>{rows}</sheetData>".encode(),
                              data, flags=re.S)
                assert data.count(b"<") > MAX_TREE_TAGS
            zout.writestr(item, data)
    assert sheet_code_names(large) == ["Zeta", "Alpha"]


def test_replace_vba_project_changes_only_the_project(tmp_path):
    old_macros = tmp_path / "old_macros"
    old_macros.mkdir()
    (old_macros / "Renkei.bas").write_bytes(b'Attribute VB_Name = "Renkei"\r\nSub Old()\r\nEnd Sub\r\n')
    documents = [Module("ThisWorkbook", "document", ""), *(Module(c, "document", "") for _, c in SHEETS)]
    src = _make_book(tmp_path / "old.xlsm", build_vba_project([*documents, *our_modules(old_macros)]))
    assert "Sub Old()" in _olevba_modules(src)["Renkei"]
    new = master_project(sheet_code_names(src))
    dst = tmp_path / "連携" / "new.xlsm"
    dst.parent.mkdir()
    replace_vba_project(src, dst, new)
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst) as b:
        assert [i.filename for i in a.infolist()] == [i.filename for i in b.infolist()]
        for ia, ib in zip(a.infolist(), b.infolist()):
            assert (ia.date_time, ia.compress_type, ia.external_attr) == (ib.date_time, ib.compress_type,
                                                                          ib.external_attr)
            if ia.filename == VBA_PART:
                assert b.read(ib) == new != a.read(ia)
            else:
                assert a.read(ia) == b.read(ib), ia.filename
    _assert_olevba_sees_everything(dst)
    replace_vba_project(dst, dst, build_vba_project(documents))  # in place
    assert sorted(_olevba_modules(dst)) == sorted(m.name for m in documents)


def test_replace_vba_project_refuses_with_a_japanese_message(tmp_path):
    plain = tmp_path / "plain.xlsx"
    book = xlsxwriter.Workbook(str(plain))
    book.add_worksheet()
    book.close()
    with pytest.raises(UserError, match="マクロ"):
        replace_vba_project(plain, tmp_path / "out.xlsm", b"")
    broken = tmp_path / "壊れた.xlsm"
    broken.write_bytes(b"not a zip")
    with pytest.raises(UserError, match="壊れた.xlsm"):
        replace_vba_project(broken, tmp_path / "out.xlsm", b"")
    master = _master(tmp_path)
    before = master.read_bytes()
    (tmp_path / ("~$" + master.name)).write_bytes(b"owner")
    with pytest.raises(UserError, match="開かれています"):
        replace_vba_project(master, master, master_project(["Sheet1"]))
    assert master.read_bytes() == before
    assert not (tmp_path / "out.xlsm").exists()


# ------------------------------------------------------------------------- LibreOffice

def test_libreoffice_lists_every_module_and_binds_every_button(tmp_path):
    require_soffice()
    path = _master(tmp_path / "連携事業", "さっぽろ圏_2023年度_マスター.xlsm")
    probe = lo_probe("uno_probe", path)
    library = probe["libraries"]["VBAProject"]
    assert sorted(library) == sorted(_expected_modules())
    stored = {m.name: stored_source(m) for m in [*our_modules(), *xlwings_modules(), *remote_modules()]}
    stored |= {name: "" for name in ["ThisWorkbook", *(code for _, code in SHEETS)]}
    lo_header = re.compile(r"(Rem Attribute VBA_ModuleType=\w+|Option VBASupport 1|Option ClassModule)")
    for name, source in library.items():
        lines = _norm(source).split("\n")
        while lines and lo_header.fullmatch(lines[0]):
            lines.pop(0)
        code = [line for line in _norm(stored[name]).split("\n") if not line.startswith("Attribute ")]
        assert [line for line in lines if line] == [line for line in code if line], name
    buttons = probe["buttons"][SHEETS[0][0]]
    assert [(b["label"], [e["code"] for e in b["events"]]) for b in buttons] == [
        (caption, [f"vnd.sun.star.script:VBAProject.{macro}?language=Basic&location=document"])
        for macro, caption in BUTTONS]
    assert all(not probe["buttons"][title] for title, _ in SHEETS[1:])
    for macro, _ in BUTTONS:  # each bound macro exists in the library LibreOffice loaded
        module, sub = macro.split(".")
        assert re.search(rf"^Sub {sub}\(\)$", _norm(library[module]), re.MULTILINE), macro


def test_a_server_url_is_written_into_the_button_module_only_when_safe():
    from renkei_xl.vba.sources import with_server

    plain = our_modules()
    assert with_server(plain, None) == plain
    named = {m.name: m for m in with_server(plain, "http://renkei:8000")}
    assert 'Private Const BUILT_FOR_SERVER As String = "http://renkei:8000"' in named["Renkei"].source
    for bad in ('http://x" & Shell("calc") & "', "http://サーバー", "file:///c:/x", "http://a b"):
        with pytest.raises(UserError, match="URL"):
            with_server(plain, bad)


def test_a_rebuild_of_our_own_project_compresses_only_what_is_new(monkeypatch):
    """apply._document_modules adds a sheet's document module to a project this installation
    wrote (sources.own_project_with): its saved streams are taken as stored, so only the new
    module and the dir stream are compressed, not the ~360 KB of ours and xlwings' modules
    (about 0.2 s of Python on every first recalc, collect or rollover of a new master). The
    project is the one a fresh build gives, byte for byte; a project that is not ours is
    still not rebuilt."""
    from renkei_xl.vba import project, sources

    before, after = ["Sheet1", "Sheet2"], ["Sheet1", "Sheet2", "Sheet3"]
    saved = master_project(before)
    expected = master_project(after)
    sources._master_project.cache_clear()
    project._compressed.cache_clear()
    sizes: list[int] = []

    def counted(data: bytes) -> bytes:
        sizes.append(len(data))
        return compress(data)

    monkeypatch.setattr(project, "compress", counted)
    assert sources.own_project_with(saved, before, after, [None]) == expected
    assert len(sizes) <= 2 and sum(sizes) < 20_000, sizes      # Sheet3's module and the dir stream
    assert sources.own_project_with(master_project(before, server="http://x"), before, after, [None]) is None

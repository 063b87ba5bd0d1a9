"""Byte damage to a master's vbaProject.bin (bytes overwritten, a run deleted, the stream
cut, a sector pointer set to a sentinel), then a check or recalc click through the
server's ``handle()`` and ``validate`` on the command line. A defect is what the oracle
(fuzzlib.problem) calls one: the damaged project must get a message, not a crash."""

from __future__ import annotations

import time

from fuzzlib import Case, Outcome, problem, read_parts, run_cli, write_parts
from server_base import case_master, click, server_master

NAME = "vba"
STRUCTURE_SHARE = .25   # cases made by structure_damage(): the project shapes stop 62 found by hand
POINTERS = [b'\xff\xff\xff\xff', b'\xfe\xff\xff\xff', b'\x00\x00\x00\x80', b'\x01\x00\x00\x00', b'\xff\xff\xff\x7f']


def prepare(masters: dict, tmp):
    from remote_payload import client_body

    context = server_master(tmp)
    context["body"] = client_body(context["payload"])
    context["parts"] = read_parts(context["master"])
    context["vba"] = next(n for n in context["parts"] if n.endswith("vbaProject.bin"))
    return context


def damage(data: bytearray, rng) -> bytes:
    kind = rng.randrange(4)
    if kind == 0:
        for _ in range(rng.randrange(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif kind == 1:
        i = rng.randrange(len(data))
        data[i:i + rng.randrange(1, 4096)] = b''
    elif kind == 2:
        data = data[:rng.randrange(len(data))]
    else:
        i = rng.randrange(0, len(data) - 8)
        data[i:i + 4] = rng.choice(POINTERS)
    return bytes(data)


def _tree(data: bytes) -> dict:
    """The compound file's streams as a tree (storage name -> stream bytes or a storage)."""
    import io

    import olefile

    tree: dict = {}
    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        for path in ole.listdir(streams=True, storages=False):
            node = tree
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = ole.openstream(path).read()
    return tree


def stream_damage(data: bytes, rng) -> bytes:
    """Damage inside a well-formed compound file, past the parser of sectors to the ones of
    the project: a dir record's id or size, a module's offset past its stream, a compressed
    chunk's header, the PROJECT stream's text (module lines, code page, lock), a module's
    source (a Sub's signature, Japanese in a name, lines cut)."""
    from renkei_xl.vba.cfb import write_compound_file
    from renkei_xl.vba.ovba import compress, decompress

    tree = _tree(data)
    vba = tree["VBA"]
    kind = rng.randrange(5)
    if kind == 0:   # a dir record, decompressed, damaged, compressed again
        d = bytearray(decompress(vba["dir"]))
        i = rng.randrange(0, len(d) - 6)
        d[i:i + rng.choice([2, 4])] = rng.choice([b'\xff\xff', b'\x00\x00', b'\xff\xff\xff\x7f', b'\x31\x00', b'\x19\x00', b'\x2b\x00',
                                                 b'\xe4\x04', b'\x00\x00\x00\x80'])
        vba["dir"] = compress(bytes(d))
    elif kind == 1:   # a compressed chunk's header or signature byte
        name = rng.choice([n for n in vba if n not in ("dir", "_VBA_PROJECT") and isinstance(vba[n], bytes)] or ["dir"])
        d = bytearray(vba[name])
        i = rng.randrange(len(d))
        d[i] = rng.choice([0x00, 0x01, 0xb0, 0xff, 0x0f])
        vba[name] = bytes(d)
    elif kind == 2:   # the PROJECT stream's text lines
        lines = tree.get("PROJECT", b"").split(b"\r\n")
        i = rng.randrange(len(lines))
        lines[i] = rng.choice([b'', b'Module=\x8f\xac\x92\x4d', b'Module=' + b'x' * 300, b'CodePage=65001', b'CMG="00"', b'DPB="FFFF"',
                               b'GC="0"', b'Name="\x82\xa0"', b'Document=ThisWorkbook/&H00000000', lines[i] + b'\n', b'\x00', b'[Host Extender Info]'])
        tree["PROJECT"] = b"\r\n".join(lines)
    else:   # a module's source: its offset in dir is kept, its text changed
        name = rng.choice([n for n in vba if n not in ("dir", "_VBA_PROJECT") and isinstance(vba[n], bytes)] or ["dir"])
        raw = vba[name]
        found = [i for i in range(len(raw)) if raw[i] == 1 and i + 3 <= len(raw)]
        for at in found:   # the offset: the first place a container decompresses
            try:
                source = decompress(raw[at:])
                break
            except Exception:
                continue
        else:
            return write_compound_file(tree)
        source = source.replace(rng.choice([b"Sub ", b"As Workbook", b"As Dictionary", b"\r\n", b"Attribute VB_Name"]),
                                rng.choice([b"", b"Function ", b"As Object", b"\n", b"\x82\xa0", b"Sub \x93\xfa\x96\x7b "]), rng.choice([1, 5, 999]))
        vba[name] = raw[:at] + compress(source)
    return write_compound_file(tree)


# A CompressedChunk of 6 bytes that decompresses to 4,096: a literal, then one CopyToken of
# offset 1 and length 4,095 (tests/test_client_actions.py, qa-fuzz62-2).
FULL_CHUNK = (0xB000 | 3).to_bytes(2, "little") + bytes([0b10, ord("A")]) + (4095 - 3).to_bytes(2, "little")
# and one whose tokens go on past its 4,096 bytes (2.4.1.1.3)
_PAST = bytes([0b110, ord("A")]) + (4095 - 3).to_bytes(2, "little") + (5).to_bytes(2, "little")
PAST_CHUNK = (0xB000 | len(_PAST) - 1).to_bytes(2, "little") + _PAST
BOMB_CHUNKS = [100, 1_100, 2_100, 1_000_000]   # 400 KB; past 4 MB and 8 MB (the budgets); 4 GB
EXTRA_MODULES = [1, 1_000, 600_000]            # entries past PROJECTMODULES (600,000: 8 MB of dir)
CHAIN_STREAMS = [50, 3_000]                    # streams of a directory written as a chain


def _chained(nodes, _depth, _red_depth):
    """cfb._build_tree's stand-in: each entry the right child of the last, all black."""
    from renkei_xl.vba import cfb

    first = cfb.NOSTREAM
    for node in reversed(nodes):
        node.color, node.left, node.right, first = cfb.BLACK, cfb.NOSTREAM, first, node.sid
    return first


def structure_damage(data: bytes, rng) -> tuple[bytes, str]:
    """The project's shapes stop 62 found by hand (qa-fuzz62-2), as test_client_actions makes
    them: a module stream of repeated full chunks (a decompression bomb) or a chunk past its
    4,096 bytes; a dir stream listing more modules than PROJECTMODULES declares; a compound
    file whose directory is a chain (olefile walks it by recursion). The kind, for the finding."""
    from renkei_xl.vba import cfb
    from renkei_xl.vba.ovba import compress, decompress
    from renkei_xl.vba.read import _module_entries, _records

    tree = _tree(data)
    vba = tree["VBA"]
    dir_stream = decompress(vba["dir"])
    kind = rng.choice(["bomb", "bomb", "past-chunk", "modules", "chain"])
    if kind in ("bomb", "past-chunk"):
        entries = list(_module_entries(list(_records(dir_stream)), 1252))
        name, stream, offset, _kind = rng.choice(entries)
        count = rng.choice(BOMB_CHUNKS)
        body = FULL_CHUNK * count if kind == "bomb" else FULL_CHUNK * rng.randrange(3) + PAST_CHUNK
        vba[stream] = vba[stream][:offset] + b"\x01" + body
        return write_compound_file_of(tree), f"{kind} in module {name} ({count} chunks)"
    if kind == "modules":
        count = rng.choice(EXTRA_MODULES)
        terminator = (0x2B).to_bytes(2, "little") + bytes(4)
        end = dir_stream.rindex(terminator) + len(terminator)
        extra = (0x19).to_bytes(2, "little") + (1).to_bytes(4, "little") + b"Z" + terminator
        vba["dir"] = compress(dir_stream[:end] + extra * count + dir_stream[end:])
        vba["Z"] = b"\x01"
        return write_compound_file_of(tree), f"{count} modules past PROJECTMODULES"
    count = rng.choice(CHAIN_STREAMS)
    vba.update({f"z{i}": b"\x01" for i in range(count)})
    built, cfb._build_tree = cfb._build_tree, _chained
    try:
        return write_compound_file_of(tree), f"a directory of {count} streams written as a chain"
    finally:
        cfb._build_tree = built


def write_compound_file_of(tree: dict) -> bytes:
    from renkei_xl.vba.cfb import write_compound_file

    return write_compound_file(tree)


def timed_click(context: dict, case: Case, entry: str, caption: str) -> Outcome:
    """The click, held to the time the buttons answer in (server.turns.LONGEST_CLICK_SECONDS):
    one past it is timed again, and past it twice is a defect (a slow machine is not)."""
    from renkei_xl.server.turns import LONGEST_CLICK_SECONDS

    for _ in range(2):
        started = time.monotonic()
        o = click(context, case.folder, entry, caption, context["body"])
        took = time.monotonic() - started
        if problem(o) or took <= LONGEST_CLICK_SECONDS:
            return o
    o.note = f"the click answered in {took:.0f} s, past the {LONGEST_CLICK_SECONDS:.0f} s a button is held to"
    return o


def run_case(context: dict, case: Case) -> list:
    if (rng := case.rng_for("structure62")).random() < STRUCTURE_SHARE:   # its own draws: older cases replay as before
        master = case_master(context, case.folder)
        parts = dict(context["parts"])
        parts[context["vba"]], _what = structure_damage(parts[context["vba"]], rng)
        write_parts(master, parts)
        case.inputs.append(master)
        entry, caption = rng.choice([("check", "入力チェック"), ("recalc", "評価を再計算")])
        return [timed_click(context, case, entry, caption), run_cli(["validate", master], case.folder),
                run_cli(["upgrade-macros", master], case.folder)]

    master = case_master(context, case.folder)
    parts = dict(context["parts"])
    if case.rng.random() < .5:
        parts[context["vba"]] = stream_damage(parts[context["vba"]], case.rng)
    else:
        parts[context["vba"]] = damage(bytearray(parts[context["vba"]]), case.rng)
    write_parts(master, parts)
    case.inputs.append(master)
    entry, caption = case.rng.choice([("check", "入力チェック"), ("recalc", "評価を再計算")])
    return [click(context, case.folder, entry, caption, context["body"]),
            run_cli(["validate", master], case.folder)]

"""Byte damage to a master's vbaProject.bin (bytes overwritten, a run deleted, the stream
cut, a sector pointer set to a sentinel), then a check or recalc click through the
server's ``handle()`` and ``validate`` on the command line. A defect is what the oracle
(fuzzlib.problem) calls one: the damaged project must get a message, not a crash."""

from __future__ import annotations

from fuzzlib import Case, read_parts, run_cli, write_parts
from server_base import case_master, click, server_master

NAME = "vba"
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


def run_case(context: dict, case: Case) -> list:
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

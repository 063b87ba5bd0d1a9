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


def run_case(context: dict, case: Case) -> list:
    master = case_master(context, case.folder)
    parts = dict(context["parts"])
    parts[context["vba"]] = damage(bytearray(parts[context["vba"]]), case.rng)
    write_parts(master, parts)
    case.inputs.append(master)
    entry, caption = case.rng.choice([("check", "入力チェック"), ("recalc", "評価を再計算")])
    return [click(context, case.folder, entry, caption, context["body"]),
            run_cli(["validate", master], case.folder)]

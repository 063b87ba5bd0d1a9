"""Byte-level and attribute damage to a master's XML parts (a span replaced by a hostile
token, a <v> or an attribute value replaced, a part cut, a chunk doubled or dropped), then
the commands staff run on a master: validate, recalc, split, rollover, export.

A defect is whatever the oracle (fuzzlib.problem) calls one; a refusal must also leave the
master as it was."""

from __future__ import annotations

import re

from fuzzlib import Case, problem, read_parts, run_cli, write_parts

NAME = "parts"
TOKENS = [b'<v>1e400</v>', b'<v>NaN</v>', b'<v>-0</v>', b'<v></v>', b'<v>#N/A</v>', b' t="e"', b' t="b"', b' t="str"',
          b' t="inlineStr"', b' t="d"', b' t="n"', b' s="999"', b' r="XFD1048576"', b' r="A0"', b' r=""', b'<is><t>x</t></is>',
          b'<f>1/0</f>', b'<f t="shared" si="0"/>', b'&#0;', b'&#xD800;', b'\xef\xbf\xbe', b'\x00', b'<![CDATA[x]]>',
          b'<v>9999999999999999999999</v>', b'<v>1.5</v>', b'<v>-1</v>', b'<v>4294967296</v>', b'<c/>', b'<row/>',
          b'<row r="0"/>', b'<row r="1048577">', b'xml:space="preserve"', b'<rPh sb="0" eb="1"><t>\xe3\x82\xa2</t></rPh>',
          b'<r><t>a</t></r>', b' ', b'', b'"', b"'", b'<', b'>', b'&amp;', b'&bogus;']
VALUES = [b'', b'-1', b'1e308', b'abc', b'0x10', b'1,000', b'\xe2\x91\xa0', b'99999999', b'-0.0', b'inf', b' 5 ', b'5%']
ATTRIBUTE_VALUES = [b'', b'-1', b'abc', b'1e400', b'99999999999999999999', b'A1:A0', b'XFD1048577', b'$A$1', b'#REF!',
                    b"'x'!A1", b'true', b'TRUE', b'2', b' 1 ', b'&amp;', b'\xef\xbc\x91', b'0', b'1.5', b'A1 B2', b'A:A',
                    b'1:1', b'ZZ', b'x:y', b'-0', b'4294967296', b'999999', b'A1', b'XFD1', b'e', b's', b'1:1048576', b'ZZZ9']


def damage(data: bytes, rng) -> bytes:
    """One random damage of a part's bytes; the kinds found defects the hand-made corpus
    missed (index attributes typed 「abc」, cut parts, doubled rows)."""
    if not data:
        return data
    kind = rng.randrange(7)
    i = rng.randrange(len(data))
    if kind == 0:
        return data[:i] + rng.choice(TOKENS) + data[min(len(data), i + rng.randrange(1, 40)):]
    if kind == 1:
        return _replace_group(data, rb'<v>([^<]*)</v>', VALUES, rng)
    if kind in (2, 3):   # attribute values: the class most findings came from
        return _replace_group(data, rb'\w+="([^"]*)"', ATTRIBUTE_VALUES, rng)
    if kind == 4:
        return data[:i]
    j = min(len(data), i + rng.randrange(1, 400))
    return data[:j] + data[i:j] + data[j:] if kind == 5 else data[:i] + data[j:]


def _replace_group(data: bytes, pattern: bytes, values: list, rng) -> bytes:
    found = list(re.finditer(pattern, data))
    if not found:
        return data
    m = rng.choice(found)
    return data[:m.start(1)] + rng.choice(values) + data[m.end(1):]


def damaged_copy(src, case: Case, name: str):
    """``src`` copied into the case's folder as ``name`` with one to three damages to one
    of its XML parts."""
    parts = read_parts(src)
    target = case.rng.choice([n for n in parts if n.endswith((".xml", ".rels"))])
    for _ in range(case.rng.randrange(1, 4)):
        parts[target] = damage(parts[target], case.rng)
    out = write_parts(case.folder / name, parts)
    case.inputs.append(out)
    return out


def master_commands(master, folder) -> dict:
    """Each command staff run on a master, as arguments (outputs kept in the case folder)."""
    return {"validate": ["validate", master], "recalc": ["recalc", master],
            "split": ["split", master, "--outdir", folder / "split"],
            "rollover": ["rollover", master, "-o", folder / "next.xlsm"],
            "export": ["export", master, "-o", folder / "確定版.xlsx"]}


def run_commands(case: Case, master, names) -> list:
    """The named commands in turn, each guarding the master, until one finds a defect."""
    outcomes = []
    commands = master_commands(master, case.folder)
    for name in names:
        outcomes.append(run_cli(commands[name], case.folder, guard=master))
        if problem(outcomes[-1]):
            break
    return outcomes


def run_case(masters: dict, case: Case) -> list:
    src = masters[case.rng.choice(["xlsm", "xlsx"])]
    master = damaged_copy(src, case, "m" + src.suffix)
    return run_commands(case, master, [case.rng.choice(sorted(master_commands(master, case.folder)))])

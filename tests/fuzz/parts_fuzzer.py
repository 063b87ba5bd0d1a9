"""Byte-level and attribute damage to a master's XML parts (a span replaced by a hostile
token, a <v> or an attribute value replaced, a part cut, a chunk doubled or dropped), then
the commands staff run on a master: validate, recalc, split, rollover, export.

A defect is whatever the oracle (fuzzlib.problem) calls one; a refusal must also leave the
master as it was."""

from __future__ import annotations

import array
import random
import re
import sys
from pathlib import Path
from xml.sax.saxutils import escape, unescape

from fuzzlib import Case, Outcome, copy_to, problem, read_parts, run_cli, write_parts

NAME = "parts"
BULK_SHARE = .15   # cases made by bulk(): stop 61/62's classes, slower than a byte's damage
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


# Ways Excel and other producers really write a cell or a shared string. The equivalent ones
# keep the cell's meaning (Excel reads the same value), so the verdict must not change.
ERRORS = ['#NULL!', '#DIV/0!', '#VALUE!', '#REF!', '#NAME?', '#NUM!', '#N/A', '#GETTING_DATA', '#SPILL!', '#CALC!']
ISO_DATES = ['1900-02-29', '1900-02-29T00:00:00', '1899-12-31T00:00:00', '9999-12-31T23:59:59', '10000-01-01T00:00:00', '2023-13-01',
             '2023-02-30', '2023-04-01T24:00:00', '2023-04-01T00:00:00Z', '2023-04-01T00:00:00+09:00', '0000-01-01', 'x', '']
SPANS = ['1:2147483647', '5:1', '0:0', '', 'x', '1:16385', '-1:3']
PHONETIC = '<rPh sb="0" eb="1"><t>\u30d5\u30ea\u30ac\u30ca</t></rPh><phoneticPr fontId="0" type="noConversion"/>'
RUN_PROPS = '<rPr><b/><sz val="11"/><color rgb="FFFF0000"/><rFont val="\uff2d\uff33 \uff30\u30b4\u30b7\u30c3\u30af"/><family val="3"/><charset val="128"/></rPr>'
_SI = re.compile(r'<si><t(?: xml:space="preserve")?>([^<]*)</t></si>')
_STRING_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"((?: s="[0-9]+")?) t="s"><v>([0-9]+)</v></c>')
_NUMBER_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"((?: s="([0-9]+)")?)><v>(-?[0-9.]+(?:E[-+]?[0-9]+)?)</v></c>')


def _runs(text: str, rng) -> str:
    """``text`` (unescaped) as rich runs, cut at a random place: the same text to Excel."""
    cut = rng.randrange(len(text) + 1)
    runs = [f'<r>{RUN_PROPS if k else ""}<t xml:space="preserve">{escape(t)}</t></r>' for k, t in enumerate((text[:cut], text[cut:]))]
    return "".join(runs)


def _date_styles(styles: str) -> set:
    """The cellXfs indexes whose number format shows a date (built-in 14-22, 45-47 or a
    custom code with y/m/d)."""
    custom = {m[0] for m in re.findall(r'<numFmt numFmtId="([0-9]+)" formatCode="([^"]*)"', styles) if re.search("[ymd]", m[1])}
    xfs = re.search(r"<cellXfs[^>]*>(.*?)</cellXfs>", styles, re.S)
    ids = re.findall(r'<xf numFmtId="([0-9]+)"', xfs.group(1)) if xfs else []
    return {str(i) for i, n in enumerate(ids) if n in custom or 14 <= int(n) <= 22 or 45 <= int(n) <= 47}


def _serial_to_iso(serial: float) -> str | None:
    import datetime as dt

    if not 61 <= serial < 2958466:   # past the fictitious 1900-02-29, before 10000-01-01
        return None
    return (dt.datetime(1899, 12, 30) + dt.timedelta(days=serial)).isoformat(timespec="seconds")


def rewrite(parts: dict, rng) -> bool:
    """One well-formed rewrite of a shared string or a cell as a real producer writes it
    (rich and phonetic runs, inline strings, t="str", t="d" ISO dates, shared formulas,
    error values, E-notation numbers, row spans); True when Excel reads the same values."""
    kind = rng.choice(["rich", "phonetic", "inline", "inline-rich", "str", "number", "date", "date-bad", "shared-f", "error", "spans", "spans-bad"])
    sst = parts.get("xl/sharedStrings.xml", b"").decode("utf-8")
    if kind in ("rich", "phonetic"):
        found = list(_SI.finditer(sst))
        if not found:
            return False
        m = rng.choice(found)
        text = unescape(m.group(1))
        body = _runs(text, rng) if kind == "rich" else f'<t xml:space="preserve">{escape(text)}</t>'
        parts["xl/sharedStrings.xml"] = (sst[:m.start()] + f"<si>{body}{PHONETIC if rng.random() < .7 else ''}</si>" + sst[m.end():]).encode("utf-8")
        return True
    sheets = sorted(n for n in parts if n.startswith("xl/worksheets/sheet") and n.endswith(".xml"))
    dates = _date_styles(parts.get("xl/styles.xml", b"").decode("utf-8"))
    if kind == "date":   # only a date-formatted serial is a date to Excel
        sheets = [n for n in sheets if any(c.group(3) in dates for c in _NUMBER_CELL.finditer(parts[n].decode("utf-8")))]
        if not sheets:
            return False
    name = rng.choice(sheets)
    xml = parts[name].decode("utf-8")
    strings = [unescape(m.group(1)) if m else None for m in map(_SI.fullmatch, re.findall(r"<si>.*?</si>", sst, re.S))]
    if kind in ("inline", "inline-rich", "str"):
        found = [m for m in _STRING_CELL.finditer(xml) if int(m.group(3)) < len(strings) and strings[int(m.group(3))] is not None]
        if not found:
            return False
        m = rng.choice(found)
        text = strings[int(m.group(3))]
        if kind == "str":
            new = f'<c r="{m.group(1)}"{m.group(2)} t="str"><f>"{escape(text).replace(chr(34), chr(34) * 2)}"</f><v>{escape(text)}</v></c>'
        else:
            inner = _runs(text, rng) + PHONETIC if kind == "inline-rich" else f'<t xml:space="preserve">{escape(text)}</t>'
            new = f'<c r="{m.group(1)}"{m.group(2)} t="inlineStr"><is>{inner}</is></c>'
        parts[name] = (xml[:m.start()] + new + xml[m.end():]).encode("utf-8")
        return kind != "str"   # a formula in an input cell is the tool's to refuse
    if kind == "spans":
        new = re.sub(r'spans="[^"]*"', 'spans="1:16384"', xml)
        parts[name] = new.encode("utf-8")
        return True
    if kind == "spans-bad":
        found = list(re.finditer(r'spans="([^"]*)"', xml))
        if not found:
            return False
        m = rng.choice(found)
        parts[name] = (xml[:m.start(1)] + rng.choice(SPANS) + xml[m.end(1):]).encode("utf-8")
        return False
    cells = [c for c in _NUMBER_CELL.finditer(xml) if kind != "date" or c.group(3) in dates]
    if kind in ("error",):
        cells = cells + list(_STRING_CELL.finditer(xml))
    if not cells:
        return False
    m = rng.choice(cells)
    ref, style = m.group(1), m.group(2)
    if kind == "number":
        value = float(m.group(4))
        new = f'<c r="{ref}"{style}><v>{rng.choice(["%.17E" % value, repr(value), "%.17e" % value, "+" + repr(value)])}</v></c>'
        equivalent = True
    elif kind == "date":
        iso = _serial_to_iso(float(m.group(4)))
        if iso is None:
            return False
        new, equivalent = f'<c r="{ref}"{style} t="d"><v>{iso}</v></c>', True
    elif kind == "date-bad":
        new, equivalent = f'<c r="{ref}"{style} t="d"><v>{rng.choice(ISO_DATES)}</v></c>', False
    elif kind == "shared-f":
        following = [c.group(1) for c in cells if c.start() > m.end()][:3]
        new, equivalent = f'<c r="{ref}"{style}><f t="shared" ref="{ref}:{following[-1] if following else ref}" si="0">1+1</f><v>2</v></c>', False
        for other in following:   # the shared formula's other cells, as Excel writes them
            xml = re.sub(rf'<c r="{other}"((?: s="[0-9]+")?)(?: t="s")?><v>[^<]*</v></c>', rf'<c r="{other}"\1><f t="shared" si="0"/><v>2</v></c>', xml, count=1)
        m = re.search(re.escape(m.group(0)), xml) or m
    else:
        new, equivalent = f'<c r="{ref}"{style} t="e"><v>{escape(rng.choice(ERRORS))}</v></c>', False
    parts[name] = (xml[:m.start()] + new + xml[m.end():]).encode("utf-8")
    return equivalent


# Sizes the hand-made searches of stop 61/62 found and the generators never made: a few kB
# zipped, thousands of elements or thousands of digits once opened (qa-fuzz62-1, bounds62).
EMPTY_COUNTS = [1_000, 8_000, 64_000]
PADDINGS = [1, 12, 4_400, 5_000]     # zeros before a number (past int()'s 4,300 digits)
MANY_TAGS = [1_000_001, 2_000_000, 6_000_000]   # past package.xml.MAX_TREE_TAGS; 6 million took 2 GiB as a tree
UNIQUE_COUNTS = ['4294967296', '4294967295', '18446744073709551616', '0' * 5_000 + '26']


def _digits(number: str, rng, padded: bool) -> str:
    """``number`` zero-padded (Excel reads the same) or a number of 5,000 digits."""
    if padded:
        return '0' * rng.choice(PADDINGS) + number
    return str(rng.randrange(1, 10)) + ''.join(rng.choice('0123456789') for _ in range(4_999))


def _empties(kind: str, count: int) -> str:
    if kind == "validation":
        return '<x14:dataValidation />' * count
    if kind == "name":
        return ''.join(f'<definedName name="n{i}"/>' for i in range(count))
    return ''.join(f'<v:shape id="e{i}"/>' for i in range(count))


_EXT_VALIDATIONS = ('<extLst><ext uri="{{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}}" '
                    'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
                    '<x14:dataValidations count="{n}" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
                    '{body}</x14:dataValidations></ext></extLst></worksheet>')
# (attribute pattern, its number's group) for the places stop 61/62 padded or lengthened by hand
_NUMBERED = {
    "cell-r": (r'<c r="[A-Z]+([0-9]+)"', 1), "row-r": (r'<row r="([0-9]+)"', 1), "s": (r'<c r="[A-Z]+[0-9]+" s="([0-9]+)"', 1),
    "numFmtId": (r'numFmtId="([0-9]+)"', 1), "dimension": (r'<dimension ref="[A-Z]+[0-9]+:[A-Z]+([0-9]+)"', 1),
    "spans": (r'spans="[0-9]+:([0-9]+)"', 1), "merge": (r'<mergeCell ref="[A-Z]+([0-9]+):', 1),
    "anchor": (r'<x:Anchor>([0-9]+),', 1), "shape-id": (r'<v:shape id="_x0000_s([0-9]+)"', 1),
    "spid": (r'o:spid="_x0000_s([0-9]+)"', 1), "xdr-row": (r'<xdr:row>([0-9]+)</xdr:row>', 1)}


_VML_HEAD = ('<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
             'xmlns:x="urn:schemas-microsoft-com:office:excel"><o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="62"/>'
             '</o:shapelayout>')
_T_VML = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/vmlDrawing"


def _tool_sheet_drawing(parts: dict, rng, shapes: str):
    """A legacy drawing holding ``shapes`` given to a sheet the tool writes (一覧, 集計,
    検証結果), as Excel keeps a sheet's notes and buttons: its relationship, its content type,
    the menu's buttons before the shapes when the master has them. The sheet's part, or None."""
    workbook = parts["xl/workbook.xml"].decode("utf-8")
    rels = parts["xl/_rels/workbook.xml.rels"].decode("utf-8")
    ids = [m.group(1) for m in re.finditer(r'<sheet name="(?:一覧|集計|検証結果)"[^>]*r:id="(rId[0-9]+)"', workbook)]
    if not ids:
        return None
    target = re.search(rf'Id="{rng.choice(ids)}"[^>]*Target="([^"]+)"', rels) or re.search(
        rf'Target="([^"]+)"[^>]*Id="{ids[0]}"', rels)
    sheet = "xl/" + target.group(1).lstrip("/").removeprefix("xl/")
    sheet_rels = sheet.replace("worksheets/", "worksheets/_rels/") + ".rels"
    xml = parts[sheet].decode("utf-8")
    if "<legacyDrawing" in xml:
        return None
    menu = next((parts[n].decode("utf-8") for n in sorted(parts) if n.endswith(".vml")), None)
    body = menu[menu.index("<v:shapetype"):menu.rindex("</xml>")] if menu and "<v:shapetype" in menu else ""
    parts["xl/drawings/vmlDrawing62.vml"] = (_VML_HEAD + body + shapes + "</xml>").encode("utf-8")
    own = parts.get(sheet_rels, b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships '
                    b'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>').decode("utf-8")
    parts[sheet_rels] = own.replace("</Relationships>", f'<Relationship Id="rId62" Type="{_T_VML}" '
                                    'Target="../drawings/vmlDrawing62.vml"/></Relationships>').encode("utf-8")
    at = xml.find("<extLst") if "<extLst" in xml else xml.rindex("</worksheet>")
    parts[sheet] = (xml[:at] + '<legacyDrawing r:id="rId62"/>' + xml[at:]).encode("utf-8")
    types = parts["[Content_Types].xml"].decode("utf-8")
    if 'Extension="vml"' not in types:
        types = types.replace("</Types>", '<Default Extension="vml" ContentType="application/vnd.openxmlformats-'
                                          'officedocument.vmlDrawing"/></Types>')
    parts["[Content_Types].xml"] = types.encode("utf-8")
    return sheet


def _small_elements(rng, count: int) -> bytes:
    """``count`` elements ``<b c="%08x"/>``, each value ``rng.getrandbits(32)`` in turn, the
    same bytes as drawing and formatting them one by one (a case replays), four times faster:
    one draw of ``32 * count`` bits holds the same 32-bit words, least significant first, and
    bytes.hex spells them. Six million one by one took two seconds of a case."""
    words = array.array("I", rng.getrandbits(32 * count).to_bytes(4 * count, "little"))
    if sys.byteorder == "little":     # each word's hex digits most significant first, as %08x
        words.byteswap()
    return b'<b c="' + words.tobytes().hex("|", 4).replace("|", '"/><b c="').encode() + b'"/>'


# bulk's kinds, drawn first (its weights by repetition): what a test may ask of a seed.
BULK_KINDS = ("empty", "empty", "digits", "digits", "place", "many-tags", "unique-count")


def bulk(parts: dict, rng) -> str:
    """One rewrite of the classes stop 61/62 found by hand (the kind made, for the finding):
    thousands of empty elements (x14 validations, defined names, VML shapes) with no end tag
    after them; a number zero-padded or spelt with 5,000 digits in a cell's or a row's r, s,
    numFmtId, dimension, spans, a merge, a VML anchor, a shape id; cell places in small
    letters or with $; a part of over a million small elements; shared strings claiming
    2^32 texts. Never equivalent: the tool may refuse, naming the part."""
    kind = rng.choice(BULK_KINDS)
    sheets = sorted(n for n in parts if n.startswith("xl/worksheets/sheet") and n.endswith(".xml"))
    if kind == "empty":
        count = rng.choice(EMPTY_COUNTS)
        vml = [n for n in parts if n.endswith(".vml")]
        what = rng.choice(["validation", "name", "shape"])
        if what == "validation":
            name = rng.choice(sheets)
            xml = parts[name].decode("utf-8")
            if "</x14:dataValidations>" in xml:
                xml = xml.replace("</x14:dataValidations>", _empties(what, count) + "</x14:dataValidations>", 1)
            else:
                xml = xml.replace("</worksheet>", _EXT_VALIDATIONS.format(n=count, body=_empties(what, count)), 1)
        elif what == "name":
            name = "xl/workbook.xml"
            xml = parts[name].decode("utf-8")
            xml = (xml.replace("</definedNames>", _empties(what, count) + "</definedNames>", 1) if "</definedNames>" in xml
                   else xml.replace("<calcPr", f"<definedNames>{_empties(what, count)}</definedNames><calcPr", 1))
        elif what == "shape" and vml and rng.random() < .5:
            name = rng.choice(vml)
            xml = parts[name].decode("utf-8").replace("</xml>", _empties(what, count) + "</xml>", 1)
        else:
            name = _tool_sheet_drawing(parts, rng, _empties("shape", count))
            if name is None:
                return "no tool sheet to draw on"
            return f"{count} empty shape in a legacy drawing of {name}"
        parts[name] = xml.encode("utf-8")
        return f"{count} empty {what} in {name}"
    if kind == "digits":
        places = {w: [(n, m) for n in parts if n.endswith((".xml", ".vml")) for m in re.finditer(p.encode(), parts[n])]
                  for w, (p, _group) in _NUMBERED.items()}
        where = rng.choice(sorted(w for w in places if places[w]))
        found, group = places[where], _NUMBERED[where][1]
        chosen = rng.sample(found, min(len(found), rng.choice([1, 1, 3])))
        padded = rng.random() < .6
        for n, m in sorted(chosen, key=lambda f: (f[0], f[1].start()), reverse=True):   # last first: spans hold
            parts[n] = parts[n][:m.start(group)] + _digits(m.group(group).decode(), rng, padded).encode() + parts[n][m.end(group):]
        return f"{where} {'zero-padded' if padded else 'of 5,000 digits'} ({len(chosen)})"
    if kind == "place":
        return spelt_otherwise(parts, rng)
    if kind == "many-tags":   # each its own attribute value, so the part packs no better than a real one
        trees = [n for n in ("xl/styles.xml", "xl/workbook.xml") if n in parts]   # the parts read as element trees
        name = rng.choice(trees if rng.random() < .7 else sheets + ["xl/sharedStrings.xml"] if "xl/sharedStrings.xml" in parts else sheets)
        count = rng.choice(MANY_TAGS)
        body = _small_elements(random.Random(rng.random()), count)
        close = parts[name].rindex(b"</")
        parts[name] = parts[name][:close] + b'<extLst><ext uri="{61}">' + body + b"</ext></extLst>" + parts[name][close:]
        return f"{count:,} small elements in {name}"
    sst = parts.get("xl/sharedStrings.xml")
    if sst is None:
        return "no shared strings"
    claim = rng.choice(UNIQUE_COUNTS).encode()
    parts["xl/sharedStrings.xml"] = re.sub(rb'(uniqueCount|count)="[0-9]*"', lambda m: m.group(1) + b'="' + claim + b'"',
                                           sst, count=rng.choice([0, 1]))
    return f"shared strings claiming {claim[:24].decode()}"


# Of those, what a master may hold and be read as the intact one (validate's verdict kept): a
# place in small letters, with $ or padded is refused in a part the tool writes (メニュー:
# package.cells._cell_column, Excel calls it damaged), so it is judged by the oracle alone.
SPELT_ALIKE = ("pad-row", "pad-s", "numFmtId padded")


def spelt_otherwise(parts: dict, rng) -> str:
    """Cells' places and numbers spelt as some producers spell them and Excel reads as the
    same: places in small letters or with $ (r="g20", r="$G$20"), or a cell's or row's r, a
    style index s= or a numFmtId padded with zeros (qa-fuzz62-1, stop 61). What it did."""
    sheets = sorted(n for n in parts if n.startswith("xl/worksheets/sheet") and n.endswith(".xml"))
    name = sheets[0] if rng.random() < .6 else rng.choice(sheets)   # the first: a return's own sheet
    share = rng.choice([1.0, 1.0, .5, .05])
    how = rng.choice(["lower", "absolute", "column-absolute", "row-absolute", "pad-r", "pad-row", "pad-s", "pad-numFmtId"])
    zeros = rng.choice(PADDINGS)

    def placed(m):
        if rng.random() >= share:
            return m.group(0)
        col, row = m.group(2), m.group(3)
        new = {"lower": col.lower() + row, "absolute": f"${col}${row}", "column-absolute": f"${col}{row}",
               "row-absolute": f"{col}${row}", "pad-r": col + "0" * zeros + row}.get(how)
        return m.group(1) + new + '"'
    if how == "pad-numFmtId":
        parts["xl/styles.xml"] = re.sub(rb'numFmtId="([0-9]+)"', lambda m: b'numFmtId="' + b"0" * zeros + m.group(1) + b'"',
                                        parts["xl/styles.xml"])
        return f"numFmtId padded with {zeros} zeros"
    pattern = {"pad-row": r'(<row r=")()([0-9]+)"', "pad-s": r'(<c r="[A-Za-z$0-9]+" s=")()([0-9]+)"'}.get(how, r'(<c r=")([A-Z]+)([0-9]+)"')
    if how in ("pad-row", "pad-s"):
        def placed(m):   # noqa: F811 - a number padded, not a place
            return m.group(1) + "0" * zeros + m.group(3) + '"' if rng.random() < share else m.group(0)
    parts[name] = re.sub(pattern, placed, parts[name].decode("utf-8")).encode("utf-8")
    return f"{how} ({share:.0%}, {zeros} zeros) in {name}"


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
            "rollover": ["rollover", master, "-o", folder / ("next" + Path(master).suffix)],
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


def verdict(o: Outcome) -> tuple:
    """What validate said, as far as an equivalent file must say the same."""
    return o.rc, next((line for line in o.output.splitlines() if line.startswith("入力チェック")), "")


def prepare(masters: dict, tmp):
    """The undamaged masters' validate verdicts, for the rewrites that keep every value."""
    baseline = {}
    for kind in ("xlsm", "xlsx"):
        folder = tmp / f"parts-baseline-{kind}"
        folder.mkdir(exist_ok=True)
        baseline[kind] = verdict(run_cli(["validate", copy_to(masters[kind], folder, "m" + masters[kind].suffix)], folder))
    return {**masters, "baseline": baseline}


def run_case(masters: dict, case: Case) -> list:
    kind = case.rng.choice(["xlsm", "xlsx"])
    src = masters[kind]
    if (rng := case.rng_for("bulk62")).random() < BULK_SHARE:   # its own draws: older cases replay as before
        parts = read_parts(src)
        what = bulk(parts, rng)
        master = write_parts(case.folder / ("m" + src.suffix), parts)
        case.inputs.append(master)
        outcomes = run_commands(case, master, [rng.choice(sorted(master_commands(master, case.folder)))])
        if what.startswith(SPELT_ALIKE) and "baseline" in masters and not problem(outcomes[-1]):
            o = run_cli(["validate", master], case.folder, guard=master)   # Excel reads it as the intact master
            if not problem(o) and verdict(o) != masters["baseline"][kind]:
                o.note = f"a master with {what} changed validate's verdict from {masters['baseline'][kind]}"
            outcomes.append(o)
        return outcomes
    if "baseline" in masters and case.rng.random() < .4:
        parts = read_parts(src)
        equivalent = all([rewrite(parts, case.rng) for _ in range(case.rng.randrange(1, 4))])
        master = write_parts(case.folder / ("m" + src.suffix), parts)
        case.inputs.append(master)
        if equivalent:
            o = run_cli(["validate", master], case.folder, guard=master)
            if not problem(o) and verdict(o) != masters["baseline"][kind]:
                o.note = f"a rewrite Excel reads as the same values changed validate's verdict from {masters['baseline'][kind]}"
            return [o]
        return run_commands(case, master, [case.rng.choice(sorted(master_commands(master, case.folder)))])
    master = damaged_copy(src, case, "m" + src.suffix)
    return run_commands(case, master, [case.rng.choice(sorted(master_commands(master, case.folder)))])

"""The parts fuzzer's damage applied to a returned input file (a municipality's file from
``split``), then ``collect`` of it into an intact master. A defect is what the oracle calls
one; a refused collect must leave the master as it was. A rewrite Excel reads as the same
values (parts_fuzzer.rewrite: rich or phonetic runs, inline strings, ISO dates) must be
taken as the intact file is: the same cells changed, none."""

from __future__ import annotations

from fuzzlib import Case, copy_to, problem, read_parts, run_cli, write_parts
from parts_fuzzer import bulk, damaged_copy, rewrite, spelt_otherwise

NAME = "returned"
SHARE62 = .25   # cases made by late_date() or parts_fuzzer.bulk(): the classes stop 61/62 found by hand
# Date-formatted numbers past Excel's last date (2958465 is 9999-12-31 counted from 1900,
# 2957003 from 1904) or whose second rounds into year 10000; the formats a return holds.
LATE_SERIALS = [2957004, 2957100, 2958000, 2958465, 2958465.999995, 2958466, 1e9]
DATE_FORMATS = ["yyyy/m/d", "ge", 'ggge"年"m"月"d"日"', "yyyy/m/d h:mm:ss", "m/d", "[$-411]ge.m.d", "hh:mm:ss",
                # Japanese Excel's own (a text section last), and dates by the number (a
                # condition or a section of no date: python-calamine converts by the first)
                'yyyy"年"m"月"d"日";@', "[<100]yyyy/m/d;0", "yyyy/m/d;;0", "[>=100000]0;yyyy/m/d",
                "[<100][h]:mm;0", '[<10]ggge"年";#,##0']


TYPED = ["#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", 12, 0, -3.5, "12", "以上", None]


def _input_cell(ws, rng):
    """A random cell under 実績値, 分母 or 実施状況 in the municipality's sheet (on a row with
    an 指標ID, mostly), or None."""
    heads = [c for row in ws.iter_rows(max_row=40) for c in row if c.value in ("実績値", "分母", "実施状況")]
    if not heads:
        return None
    head = rng.choice(heads)
    rows = [r for r in range(head.row + 1, ws.max_row + 1) if ws.cell(row=r, column=1).value not in (None, "")]
    if not rows or rng.random() < .1:   # now and then past the table, where a value stops the file
        rows = range(head.row + 1, max(ws.max_row, head.row + 1) + 1)
    return ws.cell(row=rng.choice(rows), column=head.column)


def typed_inputs(path, rng) -> None:
    """One to four values typed into input cells as openpyxl writes them, error values most."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    for _ in range(rng.randint(1, 4)):
        cell = _input_cell(wb.worksheets[0], rng)
        if cell is not None:
            cell.value = rng.choice(TYPED)
    wb.save(path)


def late_date(path, rng) -> str:
    """A returned file counting dates from 1904 (or not), one of its input cells (実績値,
    分母 or 実施状況) a number past 9999-12-31 by that count (or an everyday one) in a date
    format, written as openpyxl writes it (qa-fuzz62-1's class: collect ended in
    OverflowError)."""
    import re

    import openpyxl

    wb = openpyxl.load_workbook(path)
    cell = _input_cell(wb.worksheets[0], rng)
    if cell is None:
        return "no input column"
    # or an everyday number, which a format showing dates by the number shows as one or not
    cell.value = rng.choice(LATE_SERIALS if rng.random() < .5 else [0, 5, 150, 45017, -3, 0.5])
    cell.number_format = rng.choice(DATE_FORMATS)
    wb.save(path)
    if rng.random() < .8:
        parts = read_parts(path)
        parts["xl/workbook.xml"] = re.sub(rb"<workbookPr\b([^>]*?)/>", rb'<workbookPr\1 date1904="1"/>', parts["xl/workbook.xml"], count=1)
        write_parts(path, parts)
    return f"{cell.coordinate} {cell.value} as {cell.number_format}"


def prepare(masters: dict, tmp):
    """What collect --dry-run says of the intact returned file."""
    folder = tmp / "returned-baseline"
    (folder / "in").mkdir(parents=True)
    master = copy_to(masters["xlsx"], folder)
    returned = copy_to(masters["returned"], folder / "in")
    return {**masters, "baseline": run_cli(["collect", master, returned, "--dry-run"], folder).output}


def spelt_alike(master, returned, case: Case, rng) -> list:
    """A return with values typed into its input cells (error values most) or rewritten as
    producers write cells (parts_fuzzer.rewrite), collected (--dry-run) as it is and again with its places or numbers spelt
    otherwise (small letters, $, zeros: parts_fuzzer.spelt_otherwise): Excel reads both
    alike, so collect must say the same of both (qa-fuzz62-1: an error value in r="g20"
    came through as an empty cell over the master's value)."""
    if rng.random() < .6:
        typed_inputs(returned, rng)
    parts = read_parts(returned)
    for _ in range(rng.randrange(3)):
        rewrite(parts, rng)
    write_parts(returned, parts)
    first = run_cli(["collect", master, returned, "--dry-run"], case.folder, guard=master)
    if problem(first):
        case.inputs.append(returned)
        return [first]
    how = spelt_otherwise(parts, rng)
    write_parts(returned, parts)
    case.inputs.append(returned)
    second = run_cli(["collect", master, returned, "--dry-run"], case.folder, guard=master)
    if not problem(second) and second.output != first.output:
        second.note = f"a return with {how} was collected otherwise than spelt as usual: {first.output[-1500:]!r}"
    return [first, second]


SHARE63 = .15   # cases made by classes63(): the classes qa-fuzz63 found by hand
SPACED_ERRORS = [" #N/A", "#N/A ", "#REF!\n", "\t#DIV/0!", "\r\n#VALUE!\r\n", "\u00a0#NUM!"]
# What collect says of each way of giving a cell twice. A value beside an inline text is
# refused by sheet_checks.check_inline_texts since qa-cells63 (the readers part ways on any
# <v> in an inlineStr cell), in its words, not check_places_once's (qa-fuzz64: the oracle
# still asked for 「値が 2 つ」 and called every such case a finding).
TWICE_SAID = {"cell": "がファイルの中に 2 度書かれています", "row": "がファイルの中に 2 度書かれています",
              "value": "に値が 2 つ保存されています", "inline": "の文字列が Excel と違う形で保存されていて"}


def given_twice(xml: bytes, cell: bytes, kind: str, ref: bytes, row: int, first: bytes, second: bytes) -> bytes:
    """The sheet ``xml`` with its ``cell`` (at ``ref``, on ``row``) given ``first`` and then
    ``second``, in one of TWICE_SAID's ways (``kind``)."""
    import re

    own = b'<c r="%s"><v>%s</v></c>' % (ref, first)
    if kind == "value":
        return xml.replace(cell, b'<c r="%s"><v>%s</v><v>%s</v></c>' % (ref, first, second), 1)
    if kind == "inline":
        return xml.replace(cell, b'<c r="%s" t="inlineStr"><v>%s</v><is><t>%s</t></is></c>' % (ref, second, first), 1)
    xml = xml.replace(cell, own + (b'<c r="%s"><v>%s</v></c>' % (ref, second) if kind == "cell" else b""), 1)
    if kind == "row":
        whole = re.search(rb'<row r="%d"[^>]*>.*?</row>' % row, xml, re.S)
        again = whole.group(0).replace(own, b'<c r="%s"><v>%s</v></c>' % (ref, second))
        xml = xml[:whole.end()] + again + xml[whole.end():]
    return xml


def classes63(master, returned, case: Case, rng) -> list:
    """A return's input cell given twice (its <c> again in its row, its row written again,
    a second <v>, a value beside an inline text), or an error value saved with spaces or
    line breaks around its code (qa-fuzz63). Given twice: collect must refuse naming the
    sheet and the cell, never take one of the values (python-calamine kept the last).
    Spaced: collect must name the error on its cell (calamine refused the whole sheet
    naming no cell)."""
    import re

    parts = read_parts(returned)
    sheet = "xl/worksheets/sheet1.xml"
    xml = parts[sheet]
    cells = [m for m in re.finditer(rb'<c r="([GHI](\d+))"[^>]*?(?:/>|>.*?</c>)', xml, re.S)
             if int(m.group(2)) > 19]
    if not cells:
        return []
    m = rng.choice(cells)
    ref, row = m.group(1), int(m.group(2))
    kind = rng.choice(["cell", "row", "value", "inline", "spaced"])
    first, second = rng.choice([(b"12", b"99"), (b"99", b"12"), (b"1", b"0")])
    if kind == "spaced":
        error = rng.choice(SPACED_ERRORS).encode()
        xml = xml.replace(m.group(0), b'<c r="%s" t="e"><v>%s</v></c>' % (ref, error), 1)
    else:
        xml = given_twice(xml, m.group(0), kind, ref, row, first, second)
    parts[sheet] = xml
    write_parts(returned, parts)
    case.inputs.append(returned)
    o = run_cli(["collect", master, returned] + (["--dry-run"] if rng.random() < .5 else []), case.folder, guard=master)
    if problem(o):
        return [o]
    named = ref.decode() if kind != "row" else None
    if kind == "spaced" and not re.search(r"!%s\b" % named, o.output):
        o.note = f"an error value saved as {error!r} in {named} was not named on its cell"
    elif kind != "spaced" and (TWICE_SAID[kind] if kind == "row" else f"セル {named} {TWICE_SAID[kind]}") not in o.output:
        o.note = f"a return giving {ref.decode()} twice ({kind}: {first!r}, {second!r}) was collected without saying so"
    return [o]


def run_case(masters: dict, case: Case) -> list:
    master = copy_to(masters["xlsx"], case.folder)
    (case.folder / "in").mkdir()
    equivalent = False
    if (rng := case.rng_for("classes63")).random() < SHARE63:   # its own draws: older cases replay as before
        return classes63(master, copy_to(masters["returned"], case.folder / "in"), case, rng)
    if (rng := case.rng_for("classes62")).random() < SHARE62:   # its own draws: older cases replay as before
        returned = copy_to(masters["returned"], case.folder / "in")
        kind = rng.choice(["late-date", "bulk", "spelt", "spelt"])
        if kind == "spelt":
            return spelt_alike(master, returned, case, rng)
        if kind == "late-date":
            late_date(returned, rng)
        else:
            parts = read_parts(returned)
            bulk(parts, rng)
            write_parts(returned, parts)
        case.inputs.append(returned)
        return [run_cli(["collect", master, returned] + (["--dry-run"] if rng.random() < .3 else []), case.folder, guard=master)]
    if case.rng.random() < .4:   # a real producer's way of writing the same or a hostile cell
        parts = read_parts(masters["returned"])
        equivalent = all([rewrite(parts, case.rng) for _ in range(case.rng.randrange(1, 4))])
        returned = write_parts(case.folder / "in" / masters["returned"].name, parts)
        case.inputs.append(returned)
    else:
        returned = damaged_copy(masters["returned"], case, "in/" + masters["returned"].name)
    if equivalent and "baseline" in masters:
        o = run_cli(["collect", master, returned, "--dry-run"], case.folder, guard=master)
        if not problem(o) and o.output != masters["baseline"]:
            o.note = f"a rewrite Excel reads as the same values was collected otherwise than the intact file: {masters['baseline']!r}"
        return [o]
    args = ["collect", master, returned] + (["--dry-run"] if case.rng.random() < 0.2 else [])
    return [run_cli(args, case.folder, guard=master)]

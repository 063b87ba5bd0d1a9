"""The master stays the source of truth after a spreadsheet application saved it.

Masters saved by LibreOffice after a staff member's edits through UNO (comment, shape,
chart, picture, a sheet and a name of their own, a conditional format), in both the .xlsm
and .xlsx filters, and one that also carries sheets taken from files Excel saved
(tests/data/excel_made: buttons and VBA, checkbox, comments, text box, pictures in drawings,
in cells, as background and in headers, a table, a chart, rich text) go through the whole
cycle — staff edit → 入力チェック (marks added) → fix → 入力チェック (marks lifted) →
回収ファイル取込 → 評価を再計算 → again — written in place every time. Afterwards every
part the tool does not own is byte-identical, and inside the staff sheets it touched only
the touched cells differ.
"""

from __future__ import annotations

import re
import zipfile
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from realbooks import (grafted_lo_master, lo_convert, lo_master_xlsm, lo_master_xlsx, parts,  # noqa: F401
                       reachable_parts, sheet_parts, staff_sheets, vba_modules)
from conftest import require_soffice
from test_render import close, list_page, read_ppm, words
from renkei_xl.core import contract as c
from renkei_xl.core.looks import SYMBOL_FILLS
from renkei_xl.cycle.collect import collect
from renkei_xl.core.refs import parse_ref
from renkei_xl.cycle.distribute import split_master
from renkei_xl.core.plan_types import CellEdit, WritePlan
from renkei_xl.workbook.session import load_master, recalc_file, validate_file, write_planned

OWNED = (c.LIST, c.SUMMARY, c.FINDINGS, c.IMPORT_LOG)
SHARED = {"xl/workbook.xml", "xl/styles.xml", "[Content_Types].xml", "xl/_rels/workbook.xml.rels"}
BAD = "約10件"


def staff_types(path: Path, sheet: str, ref: str, value) -> None:
    """What a staff member typing one value amounts to (no Excel here: our own cell edit)."""
    row, col = parse_ref(ref)
    write_planned(path, lambda fs: (WritePlan(cells=[CellEdit(sheet, row, col, value)]), None))


def cell_element(xml: str, ref: str) -> str:
    m = re.search(r'<(?:\w+:)?c\b[^>]*\br="' + ref + r'"[^>]*?(?:/>|>.*?</(?:\w+:)?c>)', xml, re.S)
    return m.group(0) if m else ""


def without_cells(xml: str, refs) -> str:
    """A sheet part with the named cells and the <dimension> taken out."""
    for ref in refs:
        xml = xml.replace(cell_element(xml, ref), "") if cell_element(xml, ref) else xml
    return re.sub(r"<(?:\w+:)?dimension\b[^>]*/>", "", xml)


def fill_of(path: Path, sheet: str, ref: str):
    cell = openpyxl.load_workbook(path)[sheet][ref]
    return str(cell.fill.fgColor.rgb)[-6:] if cell.fill.fill_type == "solid" else None


def read_book(path: Path):
    """openpyxl's normal load of ``path``, once per content: the tests read the master each
    cycle left three times (its 一覧, 集計 and names: three loads of up to 0.4 s each, per
    master). Shared by the readers: read it, never change it."""
    import hashlib

    digest = hashlib.sha256(path.read_bytes()).digest()
    if digest not in _READ:
        while len(_READ) >= 3:
            del _READ[next(iter(_READ))]
        _READ[digest] = openpyxl.load_workbook(path)
    return _READ[digest]


_READ: dict[bytes, object] = {}


def list_symbols(path: Path) -> dict[str, str]:
    ws = read_book(path)[c.LIST]
    rows = list(ws.iter_rows(values_only=True))
    h = rows[2]
    i_id, i_sym = h.index("指標ID"), h.index("評価")
    return {r[i_id]: r[i_sym] for r in rows[3:] if r[i_id]}


@pytest.fixture(scope="module", params=["lo_master_xlsm", "lo_master_xlsx", "grafted_lo_master"])
def cycled(request, tmp_path_factory, fy2023):
    """The whole cycle on a copy of an application-saved master; returns what it saw.

    Once per master for the module (a cycle takes seconds): the tests only read what it
    saw and the master it left."""
    src = request.getfixturevalue(request.param)
    tmp_path = tmp_path_factory.mktemp(f"cycled_{request.param}")
    folder = tmp_path / "事務局"
    folder.mkdir()
    master = folder / f"さっぽろ圏_マスター{src.suffix}"
    shutil.copyfile(src, master)
    original = parts(master)
    staff = staff_sheets(master, OWNED)
    seen = {"original": original, "staff": staff, "master": master, "kind": request.param}

    data = load_master(master)
    otaru = next(e for e in data.entries if e.municipality == "小樽市" and e.value)
    chitose = next(e for e in data.entries if e.municipality == "千歳市" and e.value)
    bad_ref, chitose_ref = otaru.cell("value"), chitose.cell("value")
    seen["touched"] = {"小樽市": {bad_ref}, "千歳市": {chitose_ref}}
    seen["fill_before"] = fill_of(master, "小樽市", bad_ref)

    # 1. a staff member types an approximate number; 入力チェック marks it
    staff_types(master, "小樽市", bad_ref, BAD)
    result, written = validate_file(master)
    assert written.path == master
    assert any(f.sheet == "小樽市" and f.cell == bad_ref and f.is_error for f in result.findings)
    seen["fill_marked"] = fill_of(master, "小樽市", bad_ref)

    # 2. fixed; the next check lifts the mark and gives the cell its own format back
    staff_types(master, "小樽市", bad_ref, _number(otaru.value))
    validate_file(master)
    seen["fill_lifted"] = fill_of(master, "小樽市", bad_ref)
    seen["marked_xml"] = cell_element(parts(master)[sheet_parts(parts(master))["小樽市"]].decode(), bad_ref)

    # 3. 千歳市's value is cleared in the master, then comes back in its returned file
    staff_types(master, "千歳市", chitose_ref, None)
    issued = split_master(master, tmp_path / "配布")
    back = tmp_path / "回収"
    back.mkdir()
    returned = back / next(p.name for p in issued if "千歳市" in p.name)
    shutil.copyfile(next(p for p in issued if "千歳市" in p.name), returned)
    wb = openpyxl.load_workbook(returned)
    _input_cell(wb["千歳市"], chitose.indicator_id).value = _number(chitose.value)
    wb.save(returned)
    report = collect(master, [back])
    assert report.written is not None and report.written.path == master, report.refusals

    # 4. recalculated twice
    seen["first"] = recalc_file(master)[0]
    seen["after_first"] = parts(master)
    seen["second"] = recalc_file(master)[0]
    seen["after"] = parts(master)
    seen["folder"] = sorted(p.name for p in folder.iterdir())
    return seen


def _number(text: str):
    try:
        return float(text) if "." in text else int(text)
    except ValueError:
        return text


def _input_cell(ws, indicator_id: str):
    """The 実績値 cell of an indicator in a returned input workbook, by header text."""
    for row in ws.iter_rows(max_row=30):
        heads = {cell.value: cell.column for cell in row}
        if "指標ID" in heads and "実績値" in heads:
            for r in range(row[0].row + 1, ws.max_row + 1):
                if ws.cell(r, heads["指標ID"]).value == indicator_id:
                    return ws.cell(r, heads["実績値"])
    raise AssertionError(f"{indicator_id} not in the returned file")


def test_written_in_place_with_official_symbols(cycled, fy2023):
    master = cycled["master"]
    assert not [n for n in cycled["folder"] if "_結果_" in n], cycled["folder"]
    symbols = list_symbols(master)
    assert {i: symbols.get(i) for i in fy2023.official} == dict(fy2023.official)
    assert cycled["second"].summary.fraction_text == "52／71"
    values = [v for row in read_book(master)[c.SUMMARY].iter_rows(values_only=True) for v in row]
    assert "73.2%" in values and any(isinstance(v, str) and "52" in v and "71" in v for v in values)


def test_marks_added_then_lifted_to_the_cells_own_format(cycled):
    assert cycled["fill_marked"] == c.MARK_FILL
    assert cycled["fill_lifted"] == cycled["fill_before"]
    assert cycled["fill_before"] is not None  # the input cells carry the input fill, as saved


def test_every_part_the_tool_does_not_own_is_byte_identical(cycled):
    before, after, master = cycled["original"], cycled["after"], cycled["master"]
    sheets_before = sheet_parts(before)
    owned_parts = set()
    for name in OWNED:
        if name in sheets_before:
            owned_parts |= reachable_parts(cycled["master"], [name]) if name in sheet_parts(after) else set()
    touched_parts = {sheets_before[s] for s in cycled["touched"]} | {sheets_before[c.MENU]}
    for name, data in before.items():
        if name in SHARED or name in touched_parts or name in owned_parts:
            continue
        assert name in after, f"{name} was removed"
        assert after[name] == data, f"{name} changed"
    for sheet in cycled["staff"]:
        for name in reachable_parts(master, [sheet]):
            if name in touched_parts:
                continue
            assert after.get(name) == before.get(name), f"{name} (reached from {sheet}) changed"


def test_touched_staff_sheets_differ_only_in_touched_cells(cycled):
    before, after = cycled["original"], cycled["after"]
    sheets = sheet_parts(before)
    names = load_names(cycled["master"])
    menu_cells = {ref for key in (c.N_LAST_RUN, c.N_LAST_RESULT) for sheet, ref in [names[key]]}
    for sheet, refs in [*cycled["touched"].items(), (c.MENU, menu_cells)]:
        part = sheets[sheet]
        assert without_cells(after[part].decode(), refs) == without_cells(before[part].decode(), refs), sheet


def load_names(path: Path) -> dict[str, tuple[str, str]]:
    wb = read_book(path)
    out = {}
    for name, dn in wb.defined_names.items():
        dests = list(dn.destinations)
        if len(dests) == 1:
            out[name] = (dests[0][0], dests[0][1].replace("$", ""))
    return out


def test_second_recalc_changes_only_its_own_outputs(cycled):
    first, second = cycled["after_first"], cycled["after"]
    assert set(first) == set(second), "the second run added or removed parts"
    sheets = sheet_parts(second)
    menu = sheets[c.MENU]
    changed = {n for n in second if first[n] != second[n]}
    assert changed <= {menu, "xl/styles.xml"}, changed   # the last-run time, nothing else


def test_vba_project_untouched(cycled):
    if cycled["master"].suffix != ".xlsm":   # none was there, none is added
        assert "xl/vbaProject.bin" not in cycled["original"] and "xl/vbaProject.bin" not in cycled["after"]
        return
    assert cycled["after"]["xl/vbaProject.bin"] == cycled["original"]["xl/vbaProject.bin"]
    modules = vba_modules(cycled["master"])
    assert "Renkei" in modules and "RenkeiRecalc" in modules["Renkei"]


def test_libreoffice_renders_the_list_with_symbol_colours(cycled, tmp_path):
    """LibreOffice prints the cycled master's 一覧 with each symbol's fill. Only 一覧's pages
    are rendered (lo_convert's ``sheet``): the whole master was 27 pages for the one read here."""
    require_soffice()
    pdf = lo_convert(cycled["master"], tmp_path / (cycled["master"].stem + ".pdf"), sheet=c.LIST)
    page = list_page(pdf)
    subprocess.run(["pdftoppm", "-r", "100", "-f", str(page), "-l", str(page), str(pdf), str(tmp_path / "p")],
                   check=True)
    ppm = next(tmp_path.glob("p*.ppm"))
    ws = words(pdf, page)
    header = next(w for w in ws if w[0] == "評価")
    width, height, pixel = read_ppm(ppm)
    scale = 100 / 72
    seen = {"◎": 0, "×": 0}
    for text, x0, y0, x1, y1 in ws:
        if text in seen and header[1] - 20 <= x0 <= header[3] + 20 and y0 > header[4]:
            rgb = pixel(int((x0 - 4) * scale), int((y0 + y1) / 2 * scale))
            assert close(rgb, SYMBOL_FILLS[text]), (text, rgb)
            seen[text] += 1
    assert all(seen.values()), seen


def test_furigana_in_shared_strings_is_neither_read_nor_lost(tmp_path, fy2023, sample_master_xlsm):
    """Japanese typed through an IME carries its reading (<rPh>) in the shared strings:
    it must not leak into the values, and the part keeps it after every write."""
    src = sample_master_xlsm      # read only: the furigana copy below is the one written
    master = tmp_path / "furigana.xlsm"
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(master, "w", zipfile.ZIP_DEFLATED) as out:
        for info in z.infolist():
            data = z.read(info)
            if info.filename == "xl/sharedStrings.xml":
                data = re.sub(r"(<si><t>[^<]*[\u4e00-\u9fff][^<]*</t>)(</si>)",
                              r'\1<rPh sb="0" eb="1"><t>フリガナ</t></rPh><phoneticPr fontId="1"/>\2',
                              data.decode()).encode()
            out.writestr(info, data)
    strings = parts(master)["xl/sharedStrings.xml"]
    assert strings.count(b"<rPh") > 400
    validate_file(master)
    result, _ = recalc_file(master)
    symbols = list_symbols(master)
    assert not any("フリガナ" in str(v) for v in symbols.values())
    assert {i: symbols.get(i) for i in fy2023.official} == dict(fy2023.official)
    assert result.summary.fraction_text == "52／71"
    assert parts(master)["xl/sharedStrings.xml"] == strings
    assert not any("フリガナ" in m.name for m in load_master(master).settings.municipalities)

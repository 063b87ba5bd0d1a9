"""A real spreadsheet application renders what we write: LibreOffice opens the master,
prints it to PDF, and the ◎ □ × cells of 一覧 carry their conditional-format fills."""

import html
import re
import subprocess
from pathlib import Path

import pytest

from conftest import require_soffice
from renkei_xl.core import contract as c
from renkei_xl.core.looks import SYMBOL_FILLS
from renkei_xl.cli.workbook import init_master
from renkei_xl.workbook.session import recalc_file, validate_file

DPI = 100


def to_pdfs(book: Path, outdir: Path, sheets: tuple[str, ...]) -> dict[str, Path]:
    """Each sheet's pages as ``soffice --convert-to pdf`` lays them out, one PDF a sheet, from
    one open of ``book`` in the office this process keeps (realbooks.lo_convert_sheets)."""
    from realbooks import lo_convert_sheets

    require_soffice()
    return lo_convert_sheets(book, {sheet: outdir / f"{book.stem}_{sheet}.pdf" for sheet in sheets})


def words(pdf: Path, page: int) -> list:
    out = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                         capture_output=True, text=True, check=True).stdout
    return [(html.unescape(w), float(a), float(b), float(cc), float(d)) for a, b, cc, d, w in
            re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', out)]


def list_page(pdf: Path) -> int:
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(
        ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout).group(1))
    for p in range(1, pages + 1):
        text = subprocess.run(["pdftotext", "-f", str(p), "-l", str(p), str(pdf), "-"],
                              capture_output=True, text=True, check=True).stdout
        if "連携事業実施状況等一覧" in text:
            return p
    raise AssertionError("一覧 not found in the PDF")


def read_ppm(path: Path):
    """PPM (P6) is three header fields and raw RGB: no imaging library needed."""
    data = path.read_bytes()
    m = re.match(rb"P6\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    width, height = int(m.group(1)), int(m.group(2))
    pixels = data[m.end():]
    return width, height, lambda x, y: tuple(pixels[(y * width + x) * 3:(y * width + x) * 3 + 3])


def close(rgb, hex_colour, tol=14):
    want = tuple(int(hex_colour[i:i + 2], 16) for i in (0, 2, 4))
    return all(abs(a - b) <= tol for a, b in zip(rgb, want))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("render")
    master = tmp / "master.xlsx"
    init_master(master, sample="fy2023")
    recalc_file(master)
    # The three sheets the tests here read (一覧, 次の一歩, 経年), each sheet's pages alone
    # (FilterData Selection), from one load: the whole master was 27 pages drawn for them.
    pdfs = to_pdfs(master, tmp, (c.LIST, c.NEXT_STEPS, c.HISTORY))
    pdf = pdfs[c.LIST]
    page = list_page(pdf)
    # the first 一覧 pages: the FY2023 list's first □ (06-1) is on its second page
    subprocess.run(["pdftoppm", "-r", str(DPI), "-f", str(page), "-l", str(page + 1), str(pdf),
                    str(tmp / "page")], check=True)
    ppms = sorted(tmp.glob("page*.ppm"))
    return pdfs, page, ppms, master


def test_list_page_is_a3_landscape_with_japanese_text(rendered):
    pdfs, page, _, _ = rendered
    pdf = pdfs[c.LIST]
    info = subprocess.run(["pdfinfo", "-f", str(page), "-l", str(page), str(pdf)],
                          capture_output=True, text=True, check=True).stdout
    w, h = map(float, re.search(rf"Page\s+{page} size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert (round(w), round(h)) == (1191, 842)
    text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "連携事業の企画、立案、効果検証" in text and "情報交換会議の開催" in text


def test_the_masters_list_prints_on_the_pages_the_tool_cut(rendered):
    """The master's own 一覧 printed on more pages than the tool placed breaks for (8 for 5
    on the FY2023 list): its pages were cut for a portrait page, and LibreOffice broke them
    again, leaving a page with one row whose 事業概要 was cut at the top."""
    from openpyxl import load_workbook

    pdfs, first, _, master = rendered
    breaks = load_workbook(master)[c.LIST].row_breaks.brk
    info = subprocess.run(["pdfinfo", str(pdfs[c.LIST])], capture_output=True, text=True, check=True).stdout
    last = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    # 一覧's PDF holds its pages alone (see `rendered`): from its first page (the title's) to its
    # last, as before from there to 集計's first page (評価の集計) in the whole book's PDF.
    assert first == 1 and "評価の集計" not in subprocess.run(
        ["pdftotext", str(pdfs[c.LIST]), "-"], capture_output=True, text=True, check=True).stdout
    assert last - first + 1 == len(breaks) + 1


def test_symbol_cells_are_filled_green_yellow_red(rendered):
    pdfs, first, ppms, _ = rendered
    pdf = pdfs[c.LIST]
    seen = {"◎": 0, "□": 0, "×": 0}
    scale = DPI / 72
    for page, ppm in enumerate(ppms, start=first):
        ws = words(pdf, page)
        header = [w for w in ws if w[0] == "評価"]
        assert header, "header 評価 not found"
        col_left, col_right = header[0][1] - 20, header[0][3] + 20
        width, height, pixel = read_ppm(ppm)
        for text, x0, y0, x1, y1 in ws:
            if text in seen and col_left <= x0 <= col_right and y0 > header[0][4]:
                # sample inside the cell, just left of the glyph
                x = int((x0 - 4) * scale)
                y = int((y0 + y1) / 2 * scale)
                colour = SYMBOL_FILLS[text]
                assert close(pixel(x, y), colour), (text, pixel(x, y), colour)
                seen[text] += 1
    assert all(seen.values()), seen


def _formula_master_saved_by_libreoffice(tmp_path) -> Path:
    """The sample master with =6+11 typed in 札幌市's 04-1 cell, saved by LibreOffice (so
    the formula carries its cached result, as Excel saves it)."""
    from openpyxl import load_workbook

    master = tmp_path / "src" / "m.xlsx"
    init_master(master, sample="fy2023")
    wb = load_workbook(master)
    ws = wb["札幌市"]
    head = [cell.value for cell in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[head.index("指標ID")].value == "04-1")
    row[head.index("実績値")].value = "=6+11"
    wb.save(master)
    from realbooks import XLSX_FILTER, lo_convert

    require_soffice()
    return lo_convert(master, tmp_path / "m.xlsx", XLSX_FILTER)


def test_formula_cells_are_read_through_their_cached_values_after_every_write(tmp_path):
    """Staff may type =6+11 in a municipality cell; the value the application cached is
    what counts, and since the tool no longer rewrites staff sheets the formula keeps its
    cached result through recalc, validate and recalc again."""
    from openpyxl import load_workbook

    saved = _formula_master_saved_by_libreoffice(tmp_path)
    for run in (recalc_file, validate_file, recalc_file):
        result, _ = run(saved)
        assert result.consolidated["04-1"].actual == "21件"
        assert result.evaluations["04-1"].symbol == "◎"
    ws = load_workbook(saved)["札幌市"]
    assert any(cell.value == "=6+11" for r in ws.iter_rows() for cell in r)
    cached = load_workbook(saved, data_only=True)["札幌市"]
    assert any(cell.value == 17 for r in cached.iter_rows() for cell in r)


def test_a_formula_without_a_saved_result_is_a_finding_not_an_empty_cell(tmp_path):
    """openpyxl (like other libraries) saves formulas without results: the cell is reported
    with its place, and never counts as 'nothing reported'."""
    from openpyxl import load_workbook

    master = tmp_path / "m.xlsx"
    init_master(master, sample="fy2023")
    wb = load_workbook(master)
    ws = wb["札幌市"]
    head = [cell.value for cell in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[head.index("指標ID")].value == "04-1")
    cell = row[head.index("実績値")]
    cell.value = "=6+11"
    memo = ws.cell(1, ws.max_column + 2, "=1+1")   # a staff column the contract does not read
    wb.save(master)
    result, _ = validate_file(master)
    found = [f for f in result.findings if f.type == "formula-without-result"]
    assert [(f.sheet, f.cell, f.severity) for f in found] == [("札幌市", cell.coordinate, "エラー")]
    assert "計算結果が保存されていません" in found[0].message and memo.coordinate not in found[0].message
    assert found[0].indicator_id == "04-1"
    # never read as "nothing reported": the row is an input error until the file is saved
    assert result.consolidated["04-1"].actual == "（入力エラー）"
    assert result.evaluations["04-1"].symbol == "－"


def test_next_steps_print_one_page_wide_with_their_heads_on_every_page(rendered):
    """次の一歩 had no page setup: its ten columns went over three portrait pages and the
    header row was on the first page only, so staff printed pages of gaps and deadlines
    without 指標ID or column heads. Now every page shows every head, and every row's cells
    print whole beside its 指標ID (the master's cells compared with the PDF's text)."""
    from renkei_xl.core.gaps import COLUMNS

    assert _prints_whole(rendered, c.NEXT_STEPS, COLUMNS, c.NEXT_STEPS + "（") >= 20


def test_the_years_print_each_name_whole_in_its_row(rendered):
    """経年 set no row heights: its wrapped 連携事業名 and 評価指標 printed one line a row, drawn
    over the rows below (72 of the FY2023 sample's 80 rows read wrong from the PDF)."""
    from renkei_xl.core.history import FIXED_HEADERS

    assert _prints_whole(rendered, c.HISTORY, FIXED_HEADERS, c.HISTORY + "（") == 80


def _prints_whole(rendered, sheet: str, heads, title: str) -> int:
    """How many rows of ``sheet`` (its table under ``heads``, keyed by the first column) the
    PDF prints, each once, on pages that each show every head, every cell whole inside its
    borders: the master's cells compared with the PDF's text."""
    from openpyxl import load_workbook

    from pdf_cells import Page, page_count, squeeze

    pdfs, _first, _, master = rendered
    pdf = pdfs[sheet]
    ws = load_workbook(master)[sheet]
    head = next(r for r in range(1, 10) if ws.cell(r, 1).value == heads[0])
    want = {}
    for r in range(head + 1, ws.max_row + 1):
        if ws.cell(r, 1).value is None:
            break
        want[ws.cell(r, 1).value] = [ws.cell(r, k).value for k in range(1, len(heads) + 1)]
    tmp = pdf.parent
    pages = [n for n in range(1, page_count(pdf) + 1)
             if title in subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), str(pdf), "-"],
                                        capture_output=True, text=True, check=True).stdout]
    assert len(pages) == 1, "the title opens the sheet's first page"
    seen = []
    n = pages[0]
    while len(seen) < len(want):
        page = Page(pdf, n, tmp)
        cols = [page.column_of(page.find(h)) for h in heads]      # every head on every page
        for top, bottom in page.body_rows(page.find(heads[0]), *cols[0]):
            key = page.text_in(*cols[0], top, bottom)
            if key not in want:
                continue
            seen.append(key)
            for col, value in zip(cols, want[key]):
                assert page.text_in(*col, top, bottom) == squeeze(value), (sheet, n, key, value)
        n += 1
    assert seen == list(want)
    return len(seen)

"""What is printed: the exported 一覧 and a municipality's input workbook, rendered by
LibreOffice, read back cell by cell from the PDF (tests/pdf_cells.py)."""

from __future__ import annotations

import os
import re
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from conftest import require_soffice
from pdf_cells import Page, page_count, squeeze
from renkei_xl.core import contract as c
from renkei_xl.core.sheet_list import list_sheet
from renkei_xl.cycle.distribute import split_master
from renkei_xl.core.errors import UserError
from renkei_xl.cycle import export
from renkei_xl.cycle.export import export_master, soffice_pdf
from renkei_xl.workbook.session import load_master


@pytest.fixture(scope="module")
def sample_xlsx(sample_master_xlsx) -> bytes:
    """The FY2023 sample master as init writes it, made once per run (conftest's
    ``sample_master_xlsx``): five fixtures and tests each ran init for it, and none of them
    checks init itself. Each writes the bytes to a file of its own."""
    return sample_master_xlsx.read_bytes()


def _sample(path: Path, sample_xlsx: bytes) -> Path:
    path.write_bytes(sample_xlsx)
    return path


@pytest.fixture(scope="module")
def exported(tmp_path_factory, sample_xlsx):
    require_soffice()
    tmp = tmp_path_factory.mktemp("print_list")
    master = _sample(tmp / "master.xlsx", sample_xlsx)
    done = export_master(master, tmp / "確定版.xlsx", pdf=True)
    assert done.pdf_engine == "LibreOffice"
    return done, tmp


def _list_rows(done):
    """指標ID → (役割, status text) as the plan writes them."""
    sp = list_sheet(done.result, done.settings)
    header = next(r for r, row in enumerate(sp.rows, start=1)
                  if row and row[0] is not None and row[0][0] == c.LIST_COLUMNS[0])
    out = {}
    for row in sp.rows[header:]:
        ind_id = row[c.LIST_ID_COL][0]
        status = row[c.LIST_STATUS_COL]
        out[ind_id] = next(i.role for i in done.result.indicators if i.id == ind_id), status[0] if status else ""
    return sp, out


def test_every_list_row_shows_its_whole_status_and_every_page_its_roles(exported):
    done, tmp = exported
    _sp, rows = _list_rows(done)
    assert len(rows) == 80
    _every_row_whole_and_every_page_its_roles(done, tmp)


def _every_row_whole_and_every_page_its_roles(done, tmp) -> dict[str, set[int]]:
    """Each 一覧 row's 評価指標, 基準値, 目標値 and status, read within its borders on the PDF,
    are the plan's cells whole; every page shows the 役割 of its rows; every row is printed
    once. Returns the pages each 役割 is on."""
    sp, rows = _list_rows(done)
    cells = {row[c.LIST_ID_COL][0]: row for row in sp.rows if row and len(row) > c.LIST_ID_COL and row[c.LIST_ID_COL]}
    texts = {head: c.LIST_COLUMNS.index(head) for head in ("評価指標", "基準値", "目標値")}
    seen: Counter = Counter()
    role_pages: dict[str, set[int]] = {}
    pages = page_count(done.pdf)
    assert pages >= 2 and len(sp.print_setup.row_breaks) == pages - 1
    for n in range(1, pages + 1):
        page = Page(done.pdf, n, tmp)
        id_head = page.find("指標ID")
        id_col = page.column_of(id_head)
        status_col = page.column_of(page.find_prefix("連携事業実施状況等（"))
        role_col = page.column_of(page.find("役割"))
        text_cols = {head: page.column_of(page.find(head)) for head in texts}
        body = page.body_rows(id_head, *id_col)             # below the repeated header row
        assert body, n
        body_top, body_bottom = body[0][0], body[-1][1]
        on_page = []
        for top, bottom in body:
            ind_id = page.text_in(*id_col, top, bottom)
            assert ind_id in rows, (n, ind_id, top)
            on_page.append(ind_id)
            got = page.text_in(*status_col, top, bottom)
            assert got == squeeze(rows[ind_id][1]), (n, ind_id, got)
            for head, col in texts.items():
                cell = cells[ind_id][col]
                assert page.text_in(*text_cols[head], top, bottom) == squeeze(cell[0] if cell else ""), (n, ind_id, head)
        # nothing of the status column hangs below the last row of the page
        assert page.text_in(*status_col, body_bottom, page.height) == "", n
        roles = page.text_in(*role_col, body_top, body_bottom)
        for role in dict.fromkeys(rows[i][0] for i in on_page):
            assert squeeze(role) in roles, (n, role, roles)
            role_pages.setdefault(role, set()).add(n)
        seen.update(on_page)
    assert seen == Counter(list(rows)), "every row printed once"
    return role_pages


# Texts unlike FY2023's for 小樽市's first row (04-1): names of 200 characters holding half-width
# kana, characters outside JIS X 0208 and an emoji, a target in the billions, and a 実施状況 on
# 小樽市's sheet longer than Excel's tallest row shows.
HOSTILE_NAME = ("ﾊﾝｶｸｶﾅﾉﾒｲｼｮｳ髙﨑𠮷野家😀" * 3 + "圏域における中小企業の自社の競争力強化に向けたデジタル化の取組に関する補助件数" * 4)[:200]
HOSTILE_PROJECT = ("髙﨑𠮷ﾃｽﾄ事業😀" + "新製品・新技術の開発のための支援と先端技術の活用に関する支援" * 8)[:200]
HOSTILE_STATUS = "前回の実施状況。" * 120


# Characters no font here has (fonts-noto-cjk, DejaVu): LibreOffice prints them as boxes.
UNDRAWN = "✅🎉"

# A list unlike FY2023's: statuses of characters Japanese fonts draw full-width though Unicode
# calls them ambiguous (① ※ ○ → × “ …), of capitals, of 24 line breaks (with 05-1's
# breakdown, near the tallest row), every other status twice its length (a 役割 over three
# pages and more), 04's names and target hostile as in the input workbook below, and a 役割
# of one row at the last page's foot.
HOSTILE_STATUSES = {"02-1": "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳" * 8 + UNDRAWN, "03-1": "※○→●△▲×…“”" * 25,
                    "02-2": "WWWWWWWWWWMMMMMMMMMM" * 15, "05-1": "\n".join(["・会議"] * 25)}


def _hostile_list(master: Path) -> None:
    from openpyxl import load_workbook

    book = load_workbook(master)
    ws = book[c.INDICATORS]
    col = {x.value: x.column for x in ws[1]}
    status = col["実施状況（手入力）"]
    for r in range(2, ws.max_row + 1):
        ind_id, cell = ws.cell(r, 1).value, ws.cell(r, status)
        if ind_id in HOSTILE_STATUSES:
            cell.value = HOSTILE_STATUSES[ind_id]
        elif cell.value:
            cell.value = f"{cell.value}\n{cell.value}"
        if ind_id.startswith("04-"):
            ws.cell(r, col["連携事業名"]).value = HOSTILE_PROJECT
        if ind_id == "04-1":
            ws.cell(r, col["評価指標"]).value = HOSTILE_NAME
            ws.cell(r, col["目標値"]).value = "1,234,567,890件"
        if ind_id == "54-1":
            ws.cell(r, col["役割"]).value = "一行だけの役割"
    book.save(master)


def test_a_list_unlike_fy2023s_prints_every_row_whole_and_every_page_its_roles(tmp_path, sample_xlsx):
    """① ※ ○ → and capitals were measured as narrow Latin (1.1 half-width units, where
    Japanese fonts draw them full-width and Verdana-like capitals up to 0.99 em): a status of
    circled numbers got half the lines it needs and its end printed over the next row, with
    nothing said. The rows are fitted to them now, and nothing is said because nothing is cut."""
    from renkei_xl.cycle.export import cut_note

    require_soffice()
    master = _sample(tmp_path / "master.xlsx", sample_xlsx)
    _hostile_list(master)
    done = export_master(master, tmp_path / "確定版.xlsx", pdf=True)
    assert cut_note(done.result) == ""
    role_pages = _every_row_whole_and_every_page_its_roles(done, tmp_path)
    assert max(map(len, role_pages.values())) >= 3 and "一行だけの役割" in role_pages
    # A character no font here has printed as a box (or as nothing at a run's end), and the
    # PDF's text layer still held it, so nobody was told: the export names the cells and the
    # characters. Those a font draws (04's 😀 and 𠮷, ①: DejaVu, Noto) are not named.
    named = re.findall(r"(\S+) の([^、]+?)に「([^」]+)」", done.undrawn)
    assert named == [("02-1", "連携事業実施状況等（３月末時点）", UNDRAWN)], done.undrawn
    assert done.undrawn.startswith("【注意】PDF（LibreOffice）")


def test_the_confirmed_pdf_and_workbook_carry_the_official_title(exported):
    """The published FY2023 list is 「…連携事業実施状況等一覧【確定版】」; the 確定版 the tool
    wrote (sheet, document title, PDF) lacked 【確定版】, so it read as a working copy. The
    master's own 一覧 is the working list and keeps the plain title."""
    import subprocess

    from openpyxl import load_workbook

    from renkei_xl.core.reference import load_reference

    done, _tmp = exported
    official = load_reference("fy2023").title
    assert official.endswith(c.CONFIRMED_MARK)
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(done.pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert text.split("\n", 1)[0].strip() == official
    info = subprocess.run(["pdfinfo", str(done.pdf)], capture_output=True, text=True, check=True).stdout
    assert f"Title:           {official}" in info
    book = load_workbook(done.path)
    assert book[c.LIST]["A1"].value == official and book.properties.title == official
    assert list_sheet(done.result, done.settings).rows[0][0][0] == official.removesuffix(c.CONFIRMED_MARK)


def test_the_breaks_split_the_role_merges_at_the_page_ends(exported):
    done, _tmp = exported
    sp, _rows = _list_rows(done)
    breaks = sp.print_setup.row_breaks
    for r1, c1, r2, c2 in sp.merges:
        assert not any(r1 <= b < r2 for b in breaks), ("a merge runs over a page break", (r1, c1, r2, c2))
    role_starts = {r1 for r1, c1, _r2, _c2 in sp.merges if c1 == 1}
    assert all(b + 1 in role_starts for b in breaks)



def _stroke(page: Page, word) -> float:
    """The dark pixels of a glyph per pixel of its width: how heavy its stroke prints."""
    xs = range(page._px(word.x0), page._px(word.x1) + 1)
    dark = [x for x in xs for y in range(page._px(word.y0), page._px(word.y1) + 1) if page._dark(x, y)]
    return len(dark) / (max(dark) - min(dark) + 1)


def test_the_two_dashes_print_unlike_each_other(exported):
    """－ (評価不可) and ― (評価時期前・未集計) mean different things, and the legend above
    the list tells them apart by their shape alone (both are grey). LibreOffice drew a lone ―
    in DejaVu Sans Bold, a heavy bar like the － Noto Sans CJK draws: the two printed alike.
    The PDF's profile now prints the missing look font in Noto Sans CJK, where ― is a thin
    full-width rule, as Japanese fonts draw it."""
    done, tmp = exported
    strokes: dict[str, list[float]] = {"－": [], "―": []}
    for n in range(1, page_count(done.pdf) + 1):
        page = Page(done.pdf, n, tmp)
        x0, x1 = page.column_of(page.find("評価"))
        for w in page.words:
            if w.text in strokes and x0 < w.cx < x1:
                strokes[w.text].append(_stroke(page, w))
    assert len(strokes["－"]) == 4 and len(strokes["―"]) == 5     # the 基本KPI rows, the rows before their time
    assert max(strokes["―"]) < 0.75 * min(strokes["－"]), strokes

# ----------------------------------------------------------------------- input workbook



def _hostile_otaru(master: Path) -> str:
    """04-1 made hostile on 指標 and 小樽市 (as staff would type it); 小樽市's 実施状況 cell."""
    from openpyxl import load_workbook

    book = load_workbook(master)
    for name, values in ((c.INDICATORS, {"連携事業名": HOSTILE_PROJECT, "評価指標": HOSTILE_NAME,
                                         "目標値": "1,234,567,890件", "基準値": "1,234件（2017年度）"}),
                         ("小樽市", {"連携事業名": HOSTILE_PROJECT, "評価指標": HOSTILE_NAME, "実施状況": HOSTILE_STATUS})):
        ws = book[name]
        col = {x.value: x.column for x in ws[1]}
        (row,) = [r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == "04-1"]
        for head, value in values.items():
            ws.cell(row, col[head]).value = value
    book.save(master)
    return f"小樽市!{ws.cell(row, col['実施状況']).coordinate}"


@pytest.fixture(scope="module")
def otaru(tmp_path_factory, sample_xlsx):
    from renkei_xl.cycle.distribute import split_cautions

    soffice = require_soffice()
    tmp = tmp_path_factory.mktemp("print_input")
    master = _sample(tmp / "master.xlsx", sample_xlsx)
    status_cell = _hostile_otaru(master)
    files = split_master(master, tmp / "配布")
    (book,) = [p for p in files if p.name.startswith("小樽市_")]
    source = tmp / "otaru.xlsx"          # an ASCII name for soffice's output
    source.write_bytes(book.read_bytes())
    pdf = soffice_pdf(soffice, source, tmp)
    return load_master(master), pdf, tmp, (status_cell, split_cautions(files))


def test_the_input_workbook_prints_each_rows_whole_name_baseline_and_target(otaru):
    data, pdf, tmp, _cut = otaru
    by_id = {i.id: i for i in data.indicators}
    want = [e.indicator_id for e in data.entries if e.municipality == "小樽市" and e.indicator_id]
    assert len(want) >= 5
    got = []
    for n in range(1, page_count(pdf) + 1):
        page = Page(pdf, n, tmp)
        cols = {h: page.column_of(page.find(h)) for h in ("指標ID", "連携事業名", "評価指標", "基準値", "目標値")}
        body = page.body_rows(page.find("指標ID"), *cols["指標ID"])
        for top, bottom in body:
            ind = by_id[page.text_in(*cols["指標ID"], top, bottom)]
            got.append(ind.id)
            assert page.text_in(*cols["連携事業名"], top, bottom) == squeeze(ind.project_name), ind.id
            assert page.text_in(*cols["評価指標"], top, bottom) == squeeze(ind.name), ind.id
            assert page.text_in(*cols["基準値"], top, bottom) == squeeze(ind.baseline), ind.id
            assert page.text_in(*cols["目標値"], top, bottom) == squeeze(ind.target), ind.id
        assert page.text_in(*cols["評価指標"], body[-1][1], page.height) == "", n
    assert got == want
    assert by_id["04-1"].name == HOSTILE_NAME


def test_an_input_cell_the_tallest_row_cannot_show_is_named_by_split(otaru):
    """小樽市's 実施状況 of 960 characters needs 35 lines; the input file's row stops at Excel's
    409 pt (30 lines), so the partner's printout ended part way through it, and split said
    nothing. Split (both faces print split_cautions) now names the master cell to shorten."""
    _data, pdf, tmp, (status_cell, cautions) = otaru
    page = Page(pdf, 1, tmp)
    ids, status = (page.column_of(page.find(h)) for h in ("指標ID", "実施状況"))
    (top, bottom), = [(t, b) for t, b in page.body_rows(page.find("指標ID"), *ids)
                      if page.text_in(*ids, t, b) == "04-1"]
    shown = page.text_in(*status, top, bottom)
    assert HOSTILE_STATUS.startswith(shown) and 0 < len(shown) < len(HOSTILE_STATUS)    # cut in print
    (at,) = [i for i, line in enumerate(cautions) if "途中までしか出ない文章が 1 件" in line]
    assert cautions[at + 1].startswith(f"　{status_cell}（04-1）の実施状況: "), cautions
    assert at + 2 == len(cautions) or not cautions[at + 2].startswith("　"), "no other cell is named"


# ----------------------------------------------------------------------- a hung soffice

def _running(pid: int) -> bool:
    """Alive and not a zombie (PID 1 of a container may never reap an orphan)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _ctrl_c_after(seconds: float):
    """A Ctrl+C (KeyboardInterrupt) in this thread after ``seconds``, as the terminal's SIGINT
    raises it; the handler put back by the caller."""
    import signal

    def interrupt(*_):
        raise KeyboardInterrupt

    before = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    return lambda: (signal.setitimer(signal.ITIMER_REAL, 0), signal.signal(signal.SIGALRM, before))


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
@pytest.mark.parametrize("stopped", ["timeout", "ctrl-c"])
def test_a_soffice_that_hangs_is_refused_in_time_with_everything_it_started(tmp_path, monkeypatch, stopped):
    """soffice is a script whose oosplash starts soffice.bin: on the timeout only the first
    process was killed, and a hung soffice.bin ran on after the refusal, one more at every
    try. Here the stand-in starts a child that inherits its output, as soffice.bin does.
    Ctrl+C reaches only the terminal's process group, not soffice's own: an export stopped
    so left soffice.bin running (for good, when it hung) and its profile folder behind."""
    # The child is found by its command line, unique to this run: the pid it was to write
    # after its start was, on a loaded machine, not yet written when the group was killed.
    naps = f"120.{os.getpid()}{time.monotonic_ns() % 10**9:09d}"
    fake = tmp_path / "soffice"
    fake.write_text(f"#!/bin/sh\nsleep {naps} &\nwait\n")
    fake.chmod(0o755)
    started = time.monotonic()
    if stopped == "timeout":
        monkeypatch.setattr(export, "SOFFICE_TIMEOUT", 1)
        with pytest.raises(UserError, match="1 秒以内に PDF を作りませんでした"):
            soffice_pdf(str(fake), tmp_path / "list.xlsx", tmp_path)
    else:
        restore = _ctrl_c_after(1)
        try:
            with pytest.raises(KeyboardInterrupt):
                soffice_pdf(str(fake), tmp_path / "list.xlsx", tmp_path)
        finally:
            restore()
    assert time.monotonic() - started < 15
    left = _running_with(naps.encode())
    try:
        assert not left, "the child soffice started is still running"
    finally:
        for pid in left:
            os.kill(pid, 9)


def _running_with(argument: bytes) -> list[int]:
    """The processes running (``_running``) with ``argument`` on their command line."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and argument in (entry / "cmdline").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:      # gone meanwhile
            continue
    return [pid for pid in found if _running(pid)]


# ------------------------------------------------------------ a text the row cannot hold

def _long_status(master: Path, ind_id: str, times: int) -> str:
    """The 実施状況（手入力） of ``ind_id`` on 指標 typed ``times`` over; the cell's reference."""
    from openpyxl import load_workbook

    book = load_workbook(master)
    ws = book[c.INDICATORS]
    head = next(r for r in ws.iter_rows(max_row=c.HEADER_SEARCH_ROWS) if any(x.value == "指標ID" for x in r))
    col = {x.value: x.column for x in head}
    row = next(r for r in range(head[0].row + 1, ws.max_row + 1) if ws.cell(r, col["指標ID"]).value == ind_id)
    cell = ws.cell(row, col["実施状況（手入力）"])
    cell.value = cell.value * times
    book.save(master)
    return cell.coordinate


def test_a_status_the_tallest_row_cannot_show_is_named_by_the_export_that_prints_it(tmp_path, capsys, sample_xlsx):
    """A 連携事業実施状況等 ten times the sample's longest needs about 140 lines; Excel's tallest
    row (409 pt) shows 30, so the 確定版's PDF stops part way through it, with nothing on the
    page to say so. 評価を再計算 warned; 確定版を書き出し, which makes what is published, said
    nothing and exited 0. Now it names the cell on 指標 to shorten."""
    from renkei_xl.cli import main
    from renkei_xl.cycle.export import cut_note

    require_soffice()
    master = _sample(tmp_path / "master.xlsx", sample_xlsx)
    ref = _long_status(master, "03-1", 10)
    done = export_master(master, tmp_path / "確定版.xlsx", pdf=True)
    sp, rows = _list_rows(done)
    page = Page(done.pdf, 1, tmp_path)
    id_col = page.column_of(page.find("指標ID"))
    status_col = page.column_of(page.find_prefix("連携事業実施状況等（"))
    (top, bottom), = [(t, b) for t, b in page.body_rows(page.find("指標ID"), *id_col)
                      if page.text_in(*id_col, t, b) == "03-1"]
    shown, whole = page.text_in(*status_col, top, bottom), squeeze(rows["03-1"][1])
    assert whole.startswith(shown[:100]) and len(shown) < len(whole) / 3     # cut in print
    note = cut_note(done.result)
    assert note.startswith("【注意】") and f"{c.INDICATORS}!{ref}（03-1）" in note, note
    capsys.readouterr()
    assert main(["export", str(master), "-o", str(tmp_path / "cli.xlsx")]) == 0
    assert note in capsys.readouterr().out
    # the sample itself has nothing cut, and nothing is said
    assert cut_note(export_master(_sample(tmp_path / "fy2023.xlsx", sample_xlsx),
                                  tmp_path / "plain.xlsx").result) == ""

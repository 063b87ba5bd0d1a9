"""The staff's headers, footers, header pictures and printer settings on a tool sheet stay
when it is rebuilt, on both faces, with the plan's footer in the odd footer's centre
(renkei_xl.package.page_kept).

The master is the FY2023 sample after 評価を再計算 and 入力チェック with, on 集計, what ページ設定
saves: a header with a picture (&G; the legacyDrawingHF part, its VML and images taken from
Excel's own tests/data/excel_made/header_image02.xlsx), left and right footers around a centre
of the staff's own, different first and even pages with their headers and footers, and the
printer settings Excel names from pageSetup (r:id, printerSettings*.bin, with the dpi it
writes beside it). The buttons set PageSetup.CenterFooter alone (excel.desktop.com_page_setup;
the remote engine not even that), so Excel leaves every other section and part; the command
line must leave the same.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from conftest import with_default_types, write_members
from realbooks import package_problems, parts, sample_master_xlsm, sheet_parts  # noqa: F401
from remote_payload import VBA, payload_from_file, remote_book
from test_buttons import licensed  # noqa: F401  (the remote engine's licence fixture)
from test_tool_sheet_drawings import _run, arranged_copy, sheets_libreoffice_opens_after_a_recalc
from test_tool_sheet_settings import _insert, _rels_with

from renkei_xl.core import contract as c
from renkei_xl.core.looks import PrintSetup
from renkei_xl.excel.desktop import com_page_setup
from renkei_xl.package.integrity import write_problems

HERE = Path(__file__).resolve().parent
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
HEADER_FOOTER = ('<headerFooter differentOddEven="1" differentFirst="1">'
                 '<oddHeader>&amp;L&amp;G&amp;C札幌市 &amp;&amp; 連携中枢</oddHeader>'
                 '<oddFooter>&amp;L&amp;8左の注記&amp;C独自の中央&amp;R&amp;D</oddFooter>'
                 '<evenHeader>&amp;R偶数ページ</evenHeader><evenFooter>&amp;C偶数 &amp;P</evenFooter>'
                 '<firstHeader>&amp;C表紙</firstHeader><firstFooter>&amp;R初頁</firstFooter></headerFooter>')
HF_DRAWING = '<legacyDrawingHF r:id="rId93"/>'
VML_PART = "xl/drawings/vmlDrawing93.vml"
IMAGES = {"xl/media/header93a.jpeg": "xl/media/image1.jpeg", "xl/media/header93b.jpeg": "xl/media/image2.jpeg"}
PRINTER_PART = "xl/printerSettings/printerSettings94.bin"
PRINTER = b"\x01" * 220                 # a DEVMODE's size; its bytes are the driver's
TYPES = (("bin", "application/vnd.openxmlformats-officedocument.spreadsheetml.printerSettings"),
         ("jpeg", "image/jpeg"), ("vml", "application/vnd.openxmlformats-officedocument.vmlDrawing"))


def _header_drawing() -> dict[str, bytes]:
    """Excel's header-picture VML with its images, under names of their own; its shape ids in
    a block (idmap 91) no other drawing of the master uses."""
    with zipfile.ZipFile(HERE / "data" / "excel_made" / "header_image02.xlsx") as z:
        vml = z.read("xl/drawings/vmlDrawing1.vml").decode("utf-8")
        rels = z.read("xl/drawings/_rels/vmlDrawing1.vml.rels").decode("utf-8")
        out = {new: z.read(old) for new, old in IMAGES.items()}
    vml = vml.replace('data="1"', 'data="91"').replace("_x0000_s1025", "_x0000_s93185").replace(
        "_x0000_s1026", "_x0000_s93186")
    for new, old in IMAGES.items():
        rels = rels.replace(f"../media/{old.rsplit('/', 1)[1]}", f"../media/{new.rsplit('/', 1)[1]}")
    out[VML_PART] = vml.encode("utf-8")
    out["xl/drawings/_rels/vmlDrawing93.vml.rels"] = rels.encode("utf-8")
    return out


def _as_staff_left_it(src: Path, dst: Path) -> Path:
    members = parts(src)
    summary = sheet_parts(members)[c.SUMMARY]
    text = members[summary].decode("utf-8")
    assert "<headerFooter>" in text and "r:id" not in re.search(r"<pageSetup\b[^>]*>", text).group(0)
    text = re.sub(r"<headerFooter>.*?</headerFooter>", lambda m: HEADER_FOOTER, text, count=1)
    text = re.sub(r"(<pageSetup\b[^>]*?)/>", lambda m: m.group(1) + ' horizontalDpi="200" verticalDpi="200" '
                  'pageOrder="overThenDown" r:id="rId94"/>', text, count=1)
    members[summary] = _insert(text, HF_DRAWING).encode("utf-8")
    name = f"{summary.rsplit('/', 1)[0]}/_rels/{summary.rsplit('/', 1)[1]}.rels"
    members[name] = _rels_with(members.get(name, b"").decode("utf-8"),
                               ("rId93", REL + "vmlDrawing", "../drawings/vmlDrawing93.vml"),
                               ("rId94", REL + "printerSettings", "../printerSettings/printerSettings94.bin")).encode()
    members.update(_header_drawing())
    members[PRINTER_PART] = PRINTER
    with_default_types(members, TYPES)
    write_members(dst, members)
    return dst


@pytest.fixture(scope="module")
def arranged(sample_master_xlsm, tmp_path_factory) -> Path:
    return arranged_copy(sample_master_xlsm, tmp_path_factory, "tool_page", _as_staff_left_it)


def _pages(path: Path) -> dict[str, object]:
    """集計's headers and footers section by section, as openpyxl reads them (its own parser of
    the codes, not the tool's), and the header/footer switches."""
    ws = openpyxl.load_workbook(path, keep_vba=True)[c.SUMMARY]
    hf = ws.HeaderFooter
    out: dict[str, object] = {"differentFirst": hf.differentFirst, "differentOddEven": hf.differentOddEven}
    for name in ("oddHeader", "oddFooter", "evenHeader", "evenFooter", "firstHeader", "firstFooter"):
        item = getattr(hf, name)
        for side in ("left", "center", "right"):
            part = getattr(item, side)
            out[f"{name}.{side}"] = (part.text, part.size, part.font)
    return out


def _sheet(path: Path) -> tuple[str, dict[str, str], dict[str, bytes]]:
    members = parts(path)
    part = sheet_parts(members)[c.SUMMARY]
    rels = members.get(f"{part.rsplit('/', 1)[0]}/_rels/{part.rsplit('/', 1)[1]}.rels", b"").decode("utf-8")
    found = {m.group(1): m.group(2) for m in re.finditer(r'Id="([^"]+)"[^>]*Target="([^"]+)"', rels)}
    return members[part].decode("utf-8"), found, members


def _as_the_buttons_leave_it(arranged: Path) -> dict[str, object]:
    """What Excel's buttons leave: the staff's sections, with CenterFooter set to the plan's
    (com_page_setup, the Windows face's one translation of it)."""
    expected = _pages(arranged)
    centre = com_page_setup(PrintSetup("A4"))["CenterFooter"]
    m = re.fullmatch(r"&(\d+)(.*)", centre)
    expected["oddFooter.center"] = (m.group(2), int(m.group(1)), None)
    return expected


def test_the_master_carries_the_staffs_page(arranged):
    text, rels, members = _sheet(arranged)
    assert HEADER_FOOTER in text and HF_DRAWING in text and rels["rId94"].endswith("printerSettings94.bin")
    assert _pages(arranged)["oddFooter.center"][0] == "独自の中央"
    assert package_problems(arranged) == []


def test_a_rebuild_keeps_the_staffs_headers_pictures_and_printer(arranged, tmp_path):
    master = shutil.copyfile(arranged, tmp_path / "master.xlsm")
    _run("recalc", str(master))
    first, _, _ = _sheet(master)
    _run("recalc", str(master))         # and a second run keeps what the first kept, byte for byte
    text, rels, members = _sheet(master)
    assert text == first
    assert _pages(master) == _as_the_buttons_leave_it(arranged)
    assert HF_DRAWING in text and rels["rId93"] == "../drawings/vmlDrawing93.vml"
    page_setup = re.search(r"<pageSetup\b[^>]*>", text).group(0)
    for kept in ('r:id="rId94"', 'horizontalDpi="200"', 'pageOrder="overThenDown"'):
        assert kept in page_setup, page_setup
    assert rels["rId94"] == "../printerSettings/printerSettings94.bin" and members[PRINTER_PART] == PRINTER
    for part, data in _header_drawing().items():
        assert members[part] == data, part
    assert package_problems(master) == []
    assert write_problems(list(members), list(members), list(members), members.__getitem__) == []


def test_what_was_kept_opens_in_libreoffice(arranged, tmp_path):
    assert c.SUMMARY in sheets_libreoffice_opens_after_a_recalc(arranged, tmp_path)


def test_the_buttons_leave_the_staffs_page(arranged, licensed):
    """The server's answer sets of a tool sheet's page only what the plan decides: the plan's
    page through renkeiPageSetup (the master's VBA, the one client the server answers), whose
    properties are COM's translation of the plan (client.PAGE_SETUP_PROPERTIES: the centre
    footer among them, never a header, the left or right footer or the printer), so what
    staff set there stays, as the command line now keeps it."""
    from renkei_xl.excel import buttons
    from renkei_xl.excel.client import PAGE_SETUP, PAGE_SETUP_PROPERTIES

    payload = payload_from_file(arranged, client=VBA)
    book = remote_book(payload)
    buttons.recalc(book)
    actions = book.json()["actions"]
    sheets = [s["name"] for s in payload["sheets"]]
    on_summary = {a["func"] for a in actions if a.get("sheet_position") is not None
                  and sheets[a["sheet_position"]] == c.SUMMARY}
    assert on_summary & {"sheetClear", "sheetClearContents"}
    page = {f for f in on_summary if re.search(r"(?i)header|footer|printer|pagesetup", f)}
    assert page == {PAGE_SETUP}, page
    assert not [p for p in PAGE_SETUP_PROPERTIES
                if re.search(r"(?i)header$|(left|right)(header|footer)|printer|first|even", p)]


@pytest.mark.parametrize("old, centre, new", [
    ("&L左&C中&R右", "&9&P / &N", "&L左&C&9&P / &N&R右"),
    ("&R右だけ", "&9&P", "&C&9&P&R右だけ"),
    ("節なしの文", "&9&P", "&C&9&P"),                   # text before any section is the centre's
    ("&LA&&LB&C中", "", "&LA&&LB"),                      # "&&" is an ampersand, "&&L" no section
    ("&L&\"Arial,Bold\"&12左", "&9&P", "&L&\"Arial,Bold\"&12左&C&9&P"),
    ("", "", ""),
])
def test_the_plans_footer_takes_the_centre_section_alone(old, centre, new):
    from renkei_xl.package.page_kept import with_centre

    assert with_centre(old, centre) == new


def test_a_staff_page_without_the_plans_footer_keeps_its_switches():
    from renkei_xl.package.page_kept import header_footer

    kept = '<headerFooter differentFirst="1"><firstHeader>&amp;C表紙</firstHeader></headerFooter>'
    assert header_footer(kept, "") == kept
    assert header_footer(None, "") == ""
    assert header_footer(None, "&9&P") == "<headerFooter><oddFooter>&amp;C&amp;9&amp;P</oddFooter></headerFooter>"


def test_a_footer_the_plans_page_number_would_take_past_excels_limit_is_refused(arranged, tmp_path):
    """Staff deleted the page number from 集計's footer and filled the left and right sections
    to 254 characters, which Excel takes; the plan's number put back in the centre makes 265,
    over Excel's 255 (which the buttons' CenterFooter meets as 1004). The command line wrote
    it, a footer Excel would not print; it now refuses naming the sheet, and the master is
    as it was."""
    from io import StringIO
    from contextlib import redirect_stderr, redirect_stdout

    from renkei_xl.cli import main
    from renkei_xl.core.values import cell_length

    footer = "&L" + "左" * 125 + "&R" + "右" * 125
    assert cell_length(footer) == 254
    members = parts(arranged)
    summary = sheet_parts(members)[c.SUMMARY]
    members[summary] = re.sub(r"<oddFooter>.*?</oddFooter>", f"<oddFooter>{footer.replace('&', '&amp;')}</oddFooter>",
                              members[summary].decode("utf-8"), count=1).encode("utf-8")
    master = tmp_path / "master.xlsm"
    write_members(master, members)
    before = master.read_bytes()
    out = StringIO()
    with redirect_stdout(out), redirect_stderr(out):
        code = main(["recalc", str(master)])
    assert code != 0 and f"シート「{c.SUMMARY}」のフッター" in out.getvalue() and "255" in out.getvalue(), out.getvalue()
    assert master.read_bytes() == before



def _long_footer_master(arranged, tmp_path) -> Path:
    """The arranged master with 集計's odd footer at 254 characters of the staff's left and
    right sections (Excel takes it; the plan's page number in the centre makes 265)."""
    footer = "&L" + "左" * 125 + "&R" + "右" * 125
    members = parts(arranged)
    summary = sheet_parts(members)[c.SUMMARY]
    members[summary] = re.sub(r"<oddFooter>.*?</oddFooter>", f"<oddFooter>{footer.replace('&', '&amp;')}</oddFooter>",
                              members[summary].decode("utf-8"), count=1).encode("utf-8")
    master = tmp_path / "work" / "master.xlsm"
    master.parent.mkdir()
    write_members(master, members)
    return master


def test_excel_refuses_a_centre_footer_that_takes_the_footer_past_its_limit(arranged, tmp_path, licensed):  # noqa: F811
    """The model of the VBA client's replay: renkeiPageSetup's CenterFooter beside the staff's
    left and right footers, 265 characters, is PageSetup's 1004 (Excel specifications and
    limits: 255 characters in a header or footer), which the model took without a word;
    within the limit it is taken."""
    from remote_payload import MAX_HEADER_FOOTER, PAGE_SETUP, ExcelError, apply_actions, page_setup_arguments

    master = _long_footer_master(arranged, tmp_path)
    payload = payload_from_file(master, client=VBA)
    index = page_setup_arguments(master)["CenterFooter"]
    args = [None] * (max(page_setup_arguments(master).values()) + 1)
    at = next(i for i, s in enumerate(payload["sheets"]) if s["name"] == c.SUMMARY)
    action = {"func": "renkeiUnprotectSheets", "args": [[c.SUMMARY], []], "sheet_position": None}
    for centre, refused in (("&9&P / &N", True), ("&9&P", True), ("", False)):
        args[index] = centre
        page = {"func": PAGE_SETUP, "args": list(args), "sheet_position": at, "start_row": 0, "start_column": 0,
                "row_count": 1, "column_count": 1}
        if refused:
            with pytest.raises(ExcelError, match="CenterFooter") as refusal:
                apply_actions(payload, [action, page])
            assert refusal.value.number == 1004
        else:       # the staff's 254 characters alone
            assert apply_actions(payload, [action, page]).footers[c.SUMMARY] == {"L": "左" * 125, "C": "", "R": "右" * 125}
    assert MAX_HEADER_FOOTER == 255


def test_a_click_refuses_a_footer_past_excels_limit_as_the_command_line_does(arranged, tmp_path, monkeypatch,
                                                                              licensed):  # noqa: F811
    """評価を再計算 clicked on the server (the VBA client): the plan's CenterFooter beside the
    staff's 254 characters met Excel's 1004 halfway through the replay, after 集計 was
    cleared and rewritten; the click refuses before anything is written, naming the sheet,
    as the command line does (the footer read from the saved master)."""
    from remote_payload import apply_actions
    from renkei_xl.excel import buttons
    from renkei_xl.excel.book import RENKEI_CLIENT_KEY, SAVED_MASTER_KEY

    master = _long_footer_master(arranged, tmp_path)
    monkeypatch.chdir(master.parent)
    payload = payload_from_file(master, client=VBA)
    payload.update({RENKEI_CLIENT_KEY: True, SAVED_MASTER_KEY: str(master)})
    book = remote_book(payload)
    buttons.recalc(book)
    applied = apply_actions(payload, book.json()["actions"])
    said = "\n".join(a["prompt"] for a in applied.alerts)
    assert f"シート「{c.SUMMARY}」のフッター" in said and "255" in said, said
    assert all(a["func"] in ("alert", "renkeiRequest") for a in book.json()["actions"]), book.json()["actions"]

def test_a_footer_within_excels_limit_with_the_plans_page_number_is_written():
    from renkei_xl.core.pages import HEADER_FOOTER_MAX, footer_problem
    from renkei_xl.package.page_kept import odd_footer

    kept = '<headerFooter><oddFooter>&amp;L' + "左" * 120 + '&amp;R' + "右" * 120 + '</oddFooter></headerFooter>'
    assert len(odd_footer(kept, "&9&P / &N")) == HEADER_FOOTER_MAX
    assert footer_problem(c.SUMMARY, odd_footer(kept, "&9&P / &N")) == ""
    assert footer_problem(c.SUMMARY, odd_footer(kept, "&9&P / &N ")).startswith(f"シート「{c.SUMMARY}」")

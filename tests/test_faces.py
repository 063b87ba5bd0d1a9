"""The two faces give the same 一覧, 集計 and 検証結果 — values and looks — and the same marks.

What a run must leave is stated once (``expect_sheet``, ``expect_marks``) and checked on
each face through a View of its result:

- the command line (``renkei-xl validate`` / ``recalc`` on the file), read back from the
  saved package with openpyxl;
- the buttons (``入力チェック`` / ``評価を再計算``) through xlwings' remote engine, their
  actions replayed by the client model of tests/remote_payload.py.

Then the two views are compared with each other attribute by attribute, so a difference
between the faces shows up even where the plan says nothing.

The look system (renkei_xl.core.looks) is checked the same way: every look attribute
(border colour and locking included), the page (paper, fit, margins, header and footer
margins, footer and its size, print titles, breaks) and the sheet protection are stated once
from the plan's records and read back from each face. What the remote engine cannot
express is checked where the live face expresses it: the page through the Windows (COM)
translation of the plan's PrintSetup (renkei_xl.excel.desktop.com_page_setup; the remote
engine sets the print area only, compared from its replay), the protection of a sheet a
click adds through the options the masters' VBA restores (RenkeiServer.bas, read by
remote_payload). Then the rules of the plan: a staff sheet the book lacks refuses the whole
plan, and an unknown conditional-format kind is refused, on both faces alike.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path
from typing import Optional

import openpyxl
import pytest
from openpyxl import load_workbook

from remote_payload import (VBA, applied_looks, click_payload, com_protection_attrs, apply_actions, file_conditional,
                            file_error_cells, file_freeze, file_heights,
                            file_hidden_cols, file_links, file_looks, file_merges, file_print_area,
                            file_protection, file_rows, file_shown, file_widths, look_attrs, payload_from_file, remote_book, saved_book)
from conftest import typed_cells
from test_buttons import licensed  # noqa: F401  (the remote engine's licence fixture)
from renkei_xl.core import contract as c
from renkei_xl.core.refs import cell_ref, parse_ref
from renkei_xl.excel import buttons
from renkei_xl.core.errors import UserError
from renkei_xl.core.looks import LOOKS, PAPER_CODES, PROTECTION, Look, PrintSetup, Protection
from renkei_xl.core.plan import recalc_plan, validate_plan
from renkei_xl.core.plan_types import CellEdit, CondFormat, FillEdit, SheetPlan, WritePlan
from renkei_xl.excel.apply import apply_plan as live_apply
from renkei_xl.excel.book import LiveBook
from renkei_xl.excel.engines import live_book
from renkei_xl.excel.desktop import com_page_setup, com_protection
from renkei_xl.core.pipeline import recalculate
from renkei_xl.workbook.session import opened, recalc_file, validate_file, write_planned

BAD_VALUE = "約10件"
LONG_TEXT = "長い説明の文章です。" * 150      # 1,500 characters: about 45 lines at 60 wide, 65 at 40
ATTRIBUTES = ("rows", "errors", "looks", "merges", "heights", "widths", "links", "conditional", "freeze",
              "hidden", "print_area", "page", "protection")


def _trim(rows):
    rows = [[None if v == "" else v for v in row] for row in rows]
    width = max((i + 1 for row in rows for i, v in enumerate(row) if v is not None), default=0)
    rows = [row[:width] + [None] * (width - len(row[:width])) for row in rows]
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    return rows


def _address(rect) -> str:
    r1, c1, r2, c2 = rect
    return cell_ref(r1, c1) if (r1, c1) == (r2, c2) else f"{cell_ref(r1, c1)}:{cell_ref(r2, c2)}"


class FileView:
    """A master the command line wrote."""
    face = "file"

    def __init__(self, path: Path):
        self.path = path

    def get(self, what: str, sheet: str):
        p = self.path
        return {
            "rows": lambda: _trim(file_rows(p, sheet)),
            "errors": lambda: file_error_cells(p, sheet),     # an error value, not its text
            "looks": lambda: file_looks(p, sheet),
            "merges": lambda: file_merges(p, sheet),
            "heights": lambda: file_heights(p, sheet),
            "widths": lambda: file_widths(p, sheet),
            "links": lambda: file_links(p, sheet),
            "conditional": lambda: [x[:4] for x in file_conditional(p, sheet)],
            "freeze": lambda: file_freeze(p, sheet),
            "hidden": lambda: file_hidden_cols(p, sheet),
            "print_area": lambda: file_print_area(p, sheet),
            "page": lambda: file_page(p, sheet),
            "protection": lambda: file_protection(p).get(sheet, {}).get("options"),
        }[what]()

    def shown(self) -> str:
        return file_shown(self.path)

    def fill(self, sheet: str, ref: str):
        cell = saved_book(self.path)[sheet][ref]
        if type(cell).__name__ == "MergedCell":     # openpyxl drops a merged area's hidden cells' style
            return _hidden_cell_fill(self.path, sheet, ref)
        return cell.fill.fgColor.rgb[-6:].upper() if cell.fill.fill_type == "solid" else None


def _hidden_cell_fill(path: Path, sheet: str, ref: str):
    """The solid fill of a cell in a merged area's hidden part, read from the file's XML
    (openpyxl loads such a cell as a MergedCell without its style, so a mark both faces
    painted there read as none on the file face: faces walker, qa-106)."""
    import posixpath
    import zipfile

    with zipfile.ZipFile(path) as z:
        book, rels = z.read("xl/workbook.xml").decode(), z.read("xl/_rels/workbook.xml.rels").decode()
        rid = next(m.group(2) for m in re.finditer(r'<sheet\b[^>]*?name="([^"]*)"[^>]*?r:id="([^"]*)"', book)
                   if m.group(1) == sheet)
        target = re.search(r'<Relationship\b[^>]*?Id="%s"[^>]*?Target="([^"]*)"' % re.escape(rid), rels)
        target = target or re.search(r'<Relationship\b[^>]*?Target="([^"]*)"[^>]*?Id="%s"' % re.escape(rid), rels)
        part = target.group(1).lstrip("/") if target.group(1).startswith("/") else posixpath.join("xl", target.group(1))
        cell = re.search(r'<c\b[^>]*?\br="%s"[^>]*?>|<c\b[^>]*?\br="%s"[^>]*?/>' % (ref, ref), z.read(part).decode())
        style = re.search(r'\bs="(\d+)"', cell.group(0)) if cell else None
        styles = z.read("xl/styles.xml").decode()
    xfs = re.findall(r"<xf\b[^>]*>", re.search(r"<cellXfs\b[^>]*>(.*?)</cellXfs>", styles, re.S).group(1))
    fill_id = re.search(r'fillId="(\d+)"', xfs[int(style.group(1)) if style else 0])
    fills = re.findall(r"<fill\b.*?</fill>|<fill/>", re.search(r"<fills\b[^>]*>(.*?)</fills>", styles, re.S).group(1), re.S)
    fill = fills[int(fill_id.group(1))] if fill_id else ""
    rgb = re.search(r'<fgColor\b[^>]*?rgb="([0-9A-Fa-f]+)"', fill)
    return rgb.group(1)[-6:].upper() if 'patternType="solid"' in fill and rgb else None


class LiveView:
    """The open workbook after the buttons' actions, as the client applies them."""
    face = "live"

    def __init__(self, applied, plan: WritePlan):
        self.applied = applied
        self.setups = {sp.name: sp.print_setup for sp in plan.sheets}

    def get(self, what: str, sheet: str):
        a = self.applied
        return {
            "rows": lambda: _trim(a.rows(sheet)),
            "errors": lambda: a.error_cells(sheet),
            "looks": lambda: applied_looks(a, sheet),
            "merges": lambda: a.merges.get(sheet, set()),
            "heights": lambda: a.sheet_heights(sheet),
            "widths": lambda: a.sheet_widths(sheet),
            "links": lambda: a.sheet_links(sheet),
            "conditional": lambda: a.sheet_conditional(sheet),
            "freeze": lambda: a.freeze.get(sheet),
            "hidden": lambda: a.hidden_cols.get(sheet, set()),
            "print_area": lambda: a.sheet_print_area(sheet),
            "page": lambda: self.page(sheet),
            "protection": lambda: a.protection.get(sheet, {}).get("options"),
        }[what]()

    def page(self, sheet: str) -> Optional[dict]:
        """The page as the master's renkeiPageSetup and renkeiPageBreaks set it (the replay)."""
        a = self.applied
        if sheet not in a.page_setup:
            return None
        return props_page(a.page_setup[sheet], a.page_breaks.get(sheet, ()))

    def shown(self) -> Optional[str]:
        return self.applied.shown

    def fill(self, sheet: str, ref: str):
        colour = self.applied.colors.get((sheet, ref))
        return colour.lstrip("#").upper() if colour else None


# ------------------------------------------------------------ pages, protection

def page_attrs(setup: Optional[PrintSetup]) -> Optional[dict]:
    """What a sheet's page must be, from the plan's PrintSetup (stated once)."""
    if setup is None:
        return None
    return {"paper": setup.paper, "landscape": setup.landscape, "fit": (setup.fit_width, setup.fit_height),
            "centred": setup.center_horizontally, "margins": tuple(setup.margins),
            "header_margin": setup.header_margin, "footer_margin": setup.footer_margin,
            "footer": (setup.footer, setup.footer_size) if setup.footer else None,
            "title_rows": setup.title_rows, "row_breaks": tuple(setup.row_breaks)}


def _paper_name(code) -> str:
    return {v: k for k, v in PAPER_CODES.items()}.get(int(code), f"paper {code}")


def file_page(path: Path, sheet: str) -> Optional[dict]:
    """The page of a saved sheet, as page_attrs (None: the sheet has no page setup). Read
    from the workbook loaded once per content (saved_book): a load per sheet asked was
    two thirds of this module's time."""
    ws = saved_book(path)[sheet]
    ps = ws.page_setup
    if ps.paperSize is None and ps.orientation is None:
        return None
    m = ws.page_margins
    footer = ws.oddFooter.center
    titles = ws.print_title_rows
    if titles:
        first, last = (int(x) for x in titles.replace("$", "").split(":"))
        titles = (first, last)
    return {"paper": _paper_name(ps.paperSize), "landscape": ps.orientation == "landscape",
            "fit": (int(ps.fitToWidth), int(ps.fitToHeight)), "centred": bool(ws.print_options.horizontalCentered),
            "margins": (m.left, m.right, m.top, m.bottom), "header_margin": m.header, "footer_margin": m.footer,
            "footer": (footer.text, int(footer.size)) if footer.text else None,
            "title_rows": titles or None, "row_breaks": tuple(b.id for b in ws.row_breaks.brk)}


def props_page(props: dict, breaks) -> dict:
    """PageSetup's properties (COM's names and values) and a sheet's breaks, as page_attrs."""
    titles = re.fullmatch(r"\$(\d+):\$(\d+)", props["PrintTitleRows"])
    footer = re.fullmatch(r"&(\d+)(.*)", props["CenterFooter"])
    return {"paper": _paper_name(props["PaperSize"]), "landscape": props["Orientation"] == 2,
            "fit": (props["FitToPagesWide"] or 0, props["FitToPagesTall"] or 0),
            "centred": props["CenterHorizontally"],
            "margins": tuple(round(props[k] / 72, 6) for k in ("LeftMargin", "RightMargin", "TopMargin",
                                                               "BottomMargin")),
            "header_margin": round(props["HeaderMargin"] / 72, 6), "footer_margin": round(props["FooterMargin"] / 72, 6),
            "footer": (footer.group(2), int(footer.group(1))) if footer else None,
            "title_rows": (int(titles.group(1)), int(titles.group(2))) if titles else None,
            "row_breaks": tuple(int(b) for b in breaks)}


# openpyxl's sheetProtection attributes (True: protected, or the action not allowed) and the
# core Protection's fields (True: protected for the first two, allowed for the rest).
_PROTECTION_ATTRS = (("objects", "drawing_objects"), ("scenarios", "scenarios"),
                     ("formatCells", "format_cells"), ("formatColumns", "format_columns"),
                     ("formatRows", "format_rows"), ("insertColumns", "insert_columns"),
                     ("insertRows", "insert_rows"), ("insertHyperlinks", "insert_hyperlinks"),
                     ("deleteColumns", "delete_columns"), ("deleteRows", "delete_rows"), ("sort", "sort"),
                     ("autoFilter", "autofilter"), ("pivotTables", "pivot_tables"))


def protection_attrs(p: Optional[Protection]) -> Optional[dict]:
    """A sheet protected as ``p`` says, as file_protection reads it (None: unprotected)."""
    if p is None:
        return None
    return {"sheet": True, **{attr: (getattr(p, field) if attr in ("objects", "scenarios") else not getattr(p, field))
                              for attr, field in _PROTECTION_ATTRS}}


# -------------------------------------------------------------- the expectations

def expect_sheet(view, sp) -> None:
    """A tool sheet holds what its plan says, and looks as the plan's named looks say."""
    name = sp.name
    assert view.get("rows", name) == _trim([[None if cell is None else cell[0] for cell in row]
                                            for row in sp.rows]), (view.face, name)
    expected = {(r, col): look_attrs(LOOKS[cell[1]]) for r, row in enumerate(sp.rows, start=1)
                for col, cell in enumerate(row, start=1) if cell is not None and cell[1] is not None}
    looks = view.get("looks", name)
    assert looks.keys() == expected.keys(), (view.face, name, set(looks) ^ set(expected))
    wrong = [(k, looks[k], expected[k]) for k in expected if looks[k] != expected[k]]
    assert not wrong, (view.face, name, wrong[:3])
    assert view.get("merges", name) == set(sp.merges), (view.face, name)
    assert view.get("heights", name) == {r: round(h, 1) for r, h in sp.heights.items()}, (view.face, name)
    assert view.get("widths", name) == {col: round(w, 1) for col, w in sp.widths.items()}, (view.face, name)
    assert view.get("links", name) == sp.links, (view.face, name)
    assert sorted(view.get("conditional", name)) == sorted(
        (cf.kind, _address(cf.rect), cf.text, cf.color) for cf in sp.conditional), (view.face, name)
    assert view.get("freeze", name) == sp.freeze, (view.face, name)
    assert view.get("hidden", name) == sp.hidden_cols, (view.face, name)
    area = sp.print_setup.area if sp.print_setup else None
    assert view.get("print_area", name) == (_address(area) if area else None), (view.face, name)
    assert view.get("page", name) == page_attrs(sp.print_setup), (view.face, name)
    assert view.get("protection", name) == protection_attrs(sp.protection if sp.protect else None), (view.face, name)


def expect_marks(view, plan) -> None:
    """Each marked or lifted cell shows the fill the plan gives it."""
    for edit in plan.fills:
        assert view.fill(edit.sheet, edit.ref) == edit.fill, (view.face, edit)


# -------------------------------------------------------------------- the faces

def run_file(entry: str, master: Path, folder: Path) -> FileView:
    path = folder / "file" / master.name
    path.parent.mkdir(parents=True)
    shutil.copyfile(master, path)
    (validate_file if entry == "check" else recalc_file)(path)
    return FileView(path)


def run_live(entry: str, master: Path, folder: Path, plan: Optional[WritePlan] = None) -> LiveView:
    payload = click_payload(master)
    book = remote_book(payload)
    (buttons.check if entry == "check" else buttons.recalc)(book)
    plan = plan if plan is not None else plan_of(entry, master)[0]
    return LiveView(apply_actions(payload, book.json()["actions"]), plan)


def plan_of(entry: str, master: Path):
    """The plan both faces apply (read from the file: the same state either way)."""
    with opened(master) as fs:
        d = fs.data
        result = recalculate(d.settings, d.indicators, d.entries, d.findings)
        make = validate_plan if entry == "check" else recalc_plan
        return make(fs.state, d, result, "", dt.datetime(2024, 4, 1))


def staff_types(path: Path, sheet: str, ref: str, value) -> None:
    """``value`` typed into ``sheet``!``ref`` of ``path`` by the tool's writer, in place: the
    bytes write_planned writes (test_staff_types_writes_what_the_tool_writes), without its
    read of the whole contract first (conftest.typed_cells)."""
    typed_cells(path, path, [CellEdit(sheet, *parse_ref(ref), value)])


def test_staff_types_writes_what_the_tool_writes(masters, tmp_path):
    """staff_types leaves the bytes the tool's own write of the cell leaves (write_planned
    in place: what these masters were typed with before), on a checked (marks, 検証結果),
    a rolled-over and a typed-over master, whatever the cell takes: a text, an empty cell, a
    long text, a date (the clean sample master: test_faces_values' own test)."""
    cases = [("fixed", "小樽市", masters["ref"], BAD_VALUE), ("rolled", "小樽市", masters["ref"], None),
             ("long", c.INDICATORS, "H8", LONG_TEXT), ("bad", c.LIST, "B3", dt.date(2024, 10, 1))]
    for n, (which, sheet, ref, value) in enumerate(cases):
        ours, tools = tmp_path / f"ours{n}" / "m.xlsm", tmp_path / f"tools{n}" / "m.xlsm"
        for path in (ours, tools):
            path.parent.mkdir()
            shutil.copyfile(masters[which], path)
        staff_types(ours, sheet, ref, value)
        write_planned(tools, lambda fs: (WritePlan(cells=[CellEdit(sheet, *parse_ref(ref), value)]), None))
        assert tools.read_bytes() != masters[which].read_bytes(), (which, sheet, ref)     # a cell changed
        assert ours.read_bytes() == tools.read_bytes(), (which, sheet, ref)


@pytest.fixture(scope="module")
def masters(tmp_path_factory, sample_master_xlsm, licensed):  # noqa: F811
    """The FY2023 master with a bad value typed (marks to add), and the same after a check
    and the fix (marks to lift). The clean one is a copy of the suite's shared sample master
    (as init writes it), where this module ran init again."""
    folder = tmp_path_factory.mktemp("faces")
    clean = shutil.copyfile(sample_master_xlsm, folder / "clean.xlsm")
    with opened(clean) as fs:
        entry = next(e for e in fs.data.entries if e.municipality == "小樽市" and e.value)
    ref, good = entry.cell("value"), float(entry.value)
    bad = folder / "bad.xlsm"
    shutil.copyfile(clean, bad)
    staff_types(bad, "小樽市", ref, BAD_VALUE)
    fixed = folder / "fixed.xlsm"
    shutil.copyfile(bad, fixed)
    validate_file(fixed)
    staff_types(fixed, "小樽市", ref, good)
    # next year's master with one value typed: 経年 holds 2023, so 集計 has two charts and
    # 次の一歩 compares with last year (issue #11)
    from renkei_xl.cycle.rollover import rollover_file

    rolled = rollover_file(clean, out=folder / "rolled.xlsm").path
    staff_types(rolled, "小樽市", ref, good)
    # staff deleted 検証結果: both faces add it, and protect it as the built sheets are
    deleted = folder / "deleted.xlsm"
    shutil.copyfile(bad, deleted)
    wb = load_workbook(deleted, keep_vba=True)
    del wb[c.FINDINGS]
    wb.save(deleted)
    # texts 一覧's rows cannot show whole (Excel's rows stop at 409 pt): 札幌市's 実施状況 of
    # one indicator, and the 事業概要 of a project of two indicators (a merged block)
    long = folder / "long.xlsm"
    shutil.copyfile(clean, long)
    with opened(clean) as fs:
        typed = {i.id for i in fs.data.indicators if i.status_manual.strip()}   # 一覧 shows that one
        sapporo = next(e for e in fs.data.entries if e.municipality == "札幌市" and e.indicator_id not in typed)
        inds = [i for i in fs.data.indicators if not i.is_kpi]
        keys = [(i.project_no, i.project_name) for i in inds]
        project = next(k for k in dict.fromkeys(keys) if keys.count(k) == 2)   # 65 lines: over two rows
    staff_types(long, "札幌市", sapporo.cell("status"), LONG_TEXT)
    for ind in inds:
        if (ind.project_no, ind.project_name) == project:
            staff_types(long, c.INDICATORS, ind.cell("summary"), LONG_TEXT)
    return {"clean": clean, "bad": bad, "fixed": fixed, "ref": ref, "rolled": rolled, "deleted": deleted,
            "long": long, "long_status": sapporo.indicator_id, "long_project": project}


@pytest.fixture(scope="module", params=[("recalc", "clean"), ("recalc", "bad"), ("check", "bad"),
                                        ("check", "fixed"), ("recalc", "rolled"), ("check", "deleted"),
                                        ("recalc", "long"), ("check", "long")],
                ids=lambda p: "-".join(p))
def both(request, masters, tmp_path_factory):
    entry, which = request.param
    master = masters[which]
    folder = tmp_path_factory.mktemp(f"{entry}_{which}")
    plan, result = plan_of(entry, master)
    return plan, result, run_file(entry, master, folder), run_live(entry, master, folder, plan)


@pytest.mark.parametrize("face", ["file", "live"])
def test_each_face_writes_the_plans_sheets(both, face):
    plan, _result, file_view, live_view = both
    view = file_view if face == "file" else live_view
    assert plan.sheets
    for sp in plan.sheets:
        expect_sheet(view, sp)


@pytest.mark.parametrize("face", ["file", "live"])
def test_each_face_marks_and_lifts_as_the_plan_says(both, face):
    plan, _result, file_view, live_view = both
    expect_marks(file_view if face == "file" else live_view, plan)


def faces_differ(plan: WritePlan, file_view, live_view) -> list[tuple]:
    """What the two faces leave differently of what ``plan`` writes: every attribute of each
    of its sheets and the fill of each cell it marks or lifts, as (sheet, what, file's, live's).
    The one comparison of the faces, for these tests and the faces walker
    (tests/fuzz/faces_fuzz.py) alike."""
    found = []
    for sp in plan.sheets:
        for what in ATTRIBUTES:
            on_file, on_live = file_view.get(what, sp.name), live_view.get(what, sp.name)
            if on_file != on_live:
                found.append((sp.name, what, on_file, on_live))
    for edit in plan.fills:
        on_file, on_live = file_view.fill(edit.sheet, edit.ref), live_view.fill(edit.sheet, edit.ref)
        if on_file != on_live:
            found.append((edit.sheet, f"fill {edit.ref}", on_file, on_live))
    return found


def test_the_faces_agree_with_each_other(both):
    plan, _result, file_view, live_view = both
    assert faces_differ(plan, file_view, live_view) == []


def test_a_bad_cell_is_marked_and_a_fixed_one_gets_its_input_fill_back(masters, tmp_path):
    ref = masters["ref"]
    for which, want in (("bad", c.MARK_FILL), ("fixed", c.INPUT_FILL)):
        folder = tmp_path / which
        for view in (run_file("check", masters[which], folder), run_live("check", masters[which], folder)):
            assert view.fill("小樽市", ref) == want, (view.face, which)


def test_a_theme_coloured_cell_gets_a_colour_both_faces_can_give_back(masters):
    """A cell Excel filled with a theme colour reads as a token on the file face; the plan
    records the contract's expectation instead, which both faces can paint."""
    from renkei_xl.core.contract_read import MasterData
    from renkei_xl.core.model import ERROR, Finding
    from renkei_xl.core.marks import marks
    from renkei_xl.core.plan_types import MasterState

    with opened(masters["clean"]) as fs:
        data = fs.data
        ref = masters["ref"]
        state = MasterState(fs.state.sheetnames, fs.state.names, {}, lambda s, r: "theme:4:0.6")
        finding = Finding("x", ERROR, "小樽市", ref, "", "")
        _edits, before, _ = marks([finding], state, MasterData(data.settings, data.indicators, data.entries))
    assert before[("小樽市", ref)] == c.INPUT_FILL


def test_a_text_the_list_cannot_show_whole_is_said_alike_by_both_commands(masters, tmp_path, capsys):
    """Excel's rows stop at 409 pt: 入力チェック and 再計算 name the same cut texts at the 指標
    cells they come from (written to 検証結果 by both faces: ``both``), and the command line
    prints them; a warning, so nothing else changes."""
    from renkei_xl.cli import main
    from renkei_xl.core.findings import LIST_TEXT_CUT

    with opened(masters["long"]) as fs:
        inds = fs.data.indicators
    status = next(i for i in inds if i.id == masters["long_status"])
    first_of_project = next(i for i in inds if not i.is_kpi and (i.project_no, i.project_name) == masters["long_project"])
    cut = {}
    for entry in ("check", "recalc"):
        plan, result = plan_of(entry, masters["long"])
        cut[entry] = [f for f in result.findings if f.type == LIST_TEXT_CUT.code]
        assert result.report.ok, result.report.errors
        (findings_sheet,) = [sp for sp in plan.sheets if sp.name == c.FINDINGS]
        written = {cell[0] for row in findings_sheet.rows for cell in row if cell}
        assert all(f.message in written for f in cut[entry]), entry
    assert cut["check"] == cut["recalc"]
    places = {(f.sheet, f.cell) for f in cut["check"]}
    assert (c.INDICATORS, status.cell("status_manual")) in places
    assert (c.INDICATORS, first_of_project.cell("summary")) in places
    assert {f.sheet for f in cut["check"]} == {c.INDICATORS}
    _plan, clean = plan_of("recalc", masters["clean"])
    assert not [f for f in clean.findings if f.type == LIST_TEXT_CUT.code]

    copy = tmp_path / "long.xlsm"
    shutil.copyfile(masters["long"], copy)
    assert main(["validate", str(copy), "--no-write"]) == 0
    out = capsys.readouterr().out
    assert "行目の「連携事業実施状況等（３月末時点）」" in out and "行目の「事業概要」" in out, out


def test_a_count_pasted_into_the_rate_rows_status_is_left_out_alike_by_both_faces(masters, tmp_path):
    """Last year's published 実施状況 of the 達成割合 row, pasted into 実施状況（手入力）, brings
    its count (「・達成済み・達成見込み50／評価可能70」): both faces printed it under the tool's
    52／71. Each prints the tool's count alone and names the pasted line on its cell."""
    with opened(masters["clean"]) as fs:
        rate = next(i for i in fs.data.indicators if i.method == "自動")
    pasted = tmp_path / "pasted.xlsm"
    shutil.copyfile(masters["clean"], pasted)
    staff_types(pasted, c.INDICATORS, rate.cell("status_manual"), f"・達成済み・達成見込み50／評価可能70\n{rate.status_manual}")
    printed = {}
    for view in (run_file("recalc", pasted, tmp_path), run_live("recalc", pasted, tmp_path)):
        (row,) = [r for r in view.get("rows", c.LIST) if rate.id in r]
        printed[view.face] = [v for v in row if isinstance(v, str) and "評価可能" in v]
        findings = [r for r in view.get("rows", c.FINDINGS) if rate.cell("status_manual") in r]
        assert any("50／評価可能70" in str(v) for r in findings for v in r), (view.face, findings)
    assert printed["file"] == printed["live"]
    assert printed["file"] == [f"・達成済み・達成見込み52／評価可能71\n{rate.status_manual}"], printed


def test_the_recalc_plan_holds_next_steps_and_the_years(masters):
    """What the faces above are checked against includes 次の一歩 and, on a rolled-over
    master, the 達成割合 of both years with its chart."""
    plan, _result = plan_of("recalc", masters["rolled"])
    names = [sp.name for sp in plan.sheets]
    assert names == [c.LIST, c.SUMMARY, c.FINDINGS, c.NEXT_STEPS]
    summary = plan.sheets[1]
    assert [ch.title for ch in summary.charts] == ["評価の内訳（全体）", "達成割合の推移"]
    years = next(r for r in summary.rows if r and r[0] and r[0][0] == "年度別の達成割合")
    assert [cell[0] for cell in years[1:]] == ["2023年度", "2024年度"]
    steps = plan.sheets[3]
    assert any(row and len(row) > 9 and row[9] and "前年度" in str(row[9][0]) for row in steps.rows)


# ------------------------------------------------------------ the look system itself

def _both_apply(master: Path, tmp_path: Path, plan: WritePlan) -> tuple[FileView, LiveView]:
    """``plan`` applied by the file face to a copy of ``master`` and by the live face to
    the book the remote engine holds (protection lifted and restored as a click does), for
    the master's VBA client as the server admits it (the only client it answers)."""
    path = tmp_path / "file" / master.name
    path.parent.mkdir(parents=True)
    shutil.copyfile(master, path)
    write_planned(path, lambda fs: (plan, None))
    from renkei_xl.excel.book import RENKEI_CLIENT_KEY

    payload = payload_from_file(master, client=VBA)
    payload[RENKEI_CLIENT_KEY] = True     # the master's RenkeiServer.bas says so (X-Renkei-Client)
    live = live_book(remote_book(payload))
    touched = [*(s.name for s in plan.sheets), *plan.staff_sheets]
    with live.writable(touched, protect=[s.name for s in plan.sheets if s.protect]):
        live_apply(live, plan)
    return FileView(path), LiveView(apply_actions(payload, live.book.json()["actions"]), plan)


def test_a_look_and_a_page_stated_once_show_alike_on_both_faces(masters, tmp_path, monkeypatch):
    """A look and a page unlike the built-in ones (a border of another colour, a portrait A4
    page with its own margins and footer) reach each face attribute by attribute: neither
    writer has a colour, a footer size or a margin of its own. The VBA client's page is read
    from its replay of the master's renkeiPageSetup: the server's answer set the breaks and
    the area only, and titles, paper and margins staff changed stayed there."""
    odd = Look(font_size=11, bold=True, border=True, border_color="1F4E79", fill="FCE4D6", h_align="right")
    monkeypatch.setitem(LOOKS, "odd", odd)
    setup = PrintSetup("A4", landscape=False, fit_width=1, fit_height=2, center_horizontally=False,
                       margins=(0.7, 0.6, 0.8, 0.9), footer="&P", footer_size=11, title_rows=(1, 1),
                       area=(1, 1, 3, 2), header_margin=0.2, footer_margin=0.25, row_breaks=(2,))
    sheet = SheetPlan("見た目", [[("見出し", "header"), ("右", "odd")], [("本文", "body"), (1.5, "odd")],
                                [(None, "odd"), ("最後", "body")]], print_setup=setup)
    from renkei_xl.excel.client import PAGE_SETUP_PROPERTIES

    assert {*PAGE_SETUP_PROPERTIES, "Zoom"} == set(com_page_setup(setup))     # the VBA's is COM's
    file_view, live_view = _both_apply(masters["clean"], tmp_path, WritePlan([sheet]))
    for view in (file_view, live_view):
        expect_sheet(view, sheet)
        looks = view.get("looks", sheet.name)
        assert looks[(1, 2)]["border_color"] == "1F4E79" and looks[(1, 1)]["border_color"] == "808080", view.face
    for what in ATTRIBUTES:
        assert file_view.get(what, sheet.name) == live_view.get(what, sheet.name), what


def test_protection_is_one_record_on_every_writer(masters):
    """The core's Protection is what the package writer wrote on the built master's tool
    sheets (XlsxWriter), what COM is asked for, and what the server tells the masters' VBA
    to protect a sheet a click added with (RenkeiServer.bas keeps no copy of it)."""
    from renkei_xl.excel.desktop import NEW_SHEET_PROTECTION

    want = protection_attrs(PROTECTION)
    built = file_protection(masters["clean"])
    for sheet in (c.LIST, c.SUMMARY, c.FINDINGS, c.MENU):
        assert built[sheet]["options"] == want, sheet
    assert com_protection_attrs(com_protection(PROTECTION)) == want
    assert com_protection_attrs(NEW_SHEET_PROTECTION) == want
    odd = Protection(sort=True, format_rows=False)
    assert com_protection_attrs(com_protection(odd)) == protection_attrs(odd)


def test_a_plan_naming_a_missing_sheet_is_refused_whole_on_both_faces(masters, tmp_path):
    """The rule is the plan's (WritePlan.refuse_missing): nothing is written on either face."""
    plan = WritePlan(cells=[CellEdit("小樽市", 2, 2, "x")], fills=[FillEdit("消えた町", 2, 2, c.MARK_FILL)])
    path = tmp_path / "book.xlsm"
    shutil.copyfile(masters["clean"], path)
    before = path.read_bytes()
    with pytest.raises(UserError, match="消えた町") as on_file:
        write_planned(path, lambda fs: (plan, None))
    assert path.read_bytes() == before
    live = live_book(remote_book(click_payload(masters["clean"])))
    with pytest.raises(UserError, match="消えた町") as on_live:
        live_apply(live, plan)
    assert live.book.json()["actions"] == []
    assert str(on_file.value).endswith(str(on_live.value))   # the file face names the file first


def test_an_unknown_conditional_format_kind_is_refused_on_both_faces(masters, tmp_path):
    sheet = SheetPlan("見た目", [[("◎", "symbol")]], conditional=[CondFormat("iconset", (1, 1, 1, 1), "FF0000")])
    path = tmp_path / "book.xlsm"
    shutil.copyfile(masters["clean"], path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="unknown conditional format: iconset"):
        write_planned(path, lambda fs: (WritePlan([sheet]), None))
    assert path.read_bytes() == before
    live = live_book(remote_book(click_payload(masters["clean"])))
    with pytest.raises(ValueError, match="unknown conditional format: iconset"):
        live_apply(live, WritePlan([sheet]))


def test_a_municipality_named_with_an_apostrophe_is_linked_alike_on_both_faces(tmp_path, licensed):  # noqa: F811
    """検証結果 links to a cell of 「O'樽市」 as 'O''樽市'!E5 (core.refs.quote_sheet): a lone '
    inside the quotes is a broken link in Excel, on either face."""
    from renkei_xl.core.reference import load_reference
    from renkei_xl.workbook.build import build_master

    ref = load_reference("fy2023")
    old, new = "小樽市", "O'樽市"
    settings = ref.settings._replace(municipalities=tuple(
        m._replace(name=new) if m.name == old else m for m in ref.settings.municipalities))
    entries = [e._replace(municipality=new) if e.municipality == old else e for e in ref.entries]
    master = build_master(tmp_path / "quoted.xlsm", settings, ref.indicators, entries)
    with opened(master) as fs:
        cell = next(e for e in fs.data.entries if e.municipality == new and e.value).cell("value")
    staff_types(master, new, cell, BAD_VALUE)
    want = f"'O''樽市'!{cell}"
    for view in (run_file("check", master, tmp_path / "a"), run_live("check", master, tmp_path / "b")):
        assert want in view.get("links", c.FINDINGS).values(), (view.face, view.get("links", c.FINDINGS))
        assert view.fill(new, cell) == c.MARK_FILL, view.face


def test_the_contracts_names_read_alike_on_both_faces(tmp_path, licensed):  # noqa: F811
    """One reading of a defined name (core.refs.named_cell) for both faces: the file's
    workbook.xml and the names xlwings' remote engine gives, a sheet quoted with a doubled
    apostrophe and a name over a range included."""
    from renkei_xl.core.reference import load_reference
    from openpyxl.workbook.defined_name import DefinedName

    from renkei_xl.core.refs import named_cell
    from renkei_xl.package.workbook import WorkbookXml
    from renkei_xl.package.zipped import Package
    from renkei_xl.workbook.build import build_master

    assert named_cell("='O''樽市'!$E$5:$F$9") == ("O'樽市", "E5")
    assert named_cell("設定!$B$3") == ("設定", "B3")
    assert named_cell("=設定!$B$3,設定!$C$3") is None and named_cell('="2023"') is None
    ref = load_reference("fy2023")
    settings = ref.settings._replace(municipalities=tuple(
        m._replace(name="O'樽市") if m.name == "小樽市" else m for m in ref.settings.municipalities))
    entries = [e._replace(municipality="O'樽市") if e.municipality == "小樽市" else e for e in ref.entries]
    master = build_master(tmp_path / "names.xlsm", settings, ref.indicators, entries)
    wb = load_workbook(master, keep_vba=True)
    wb.defined_names["RenkeiTestRange"] = DefinedName("RenkeiTestRange", attr_text="'O''樽市'!$A$1:$C$4")
    wb.save(master)
    file_names = WorkbookXml(Package(master)).workbook_names()
    live_names = live_book(remote_book(click_payload(master))).names
    assert file_names["RenkeiTestRange"] == ("O'樽市", "A1")
    assert c.N_YEAR in file_names
    assert live_names == file_names


def _recalculated_clean(masters, path: Path) -> Path:
    """The clean master after 評価を再計算 (``recalc_file`` in place) at ``path``: the bytes of
    one recalculation per process (the same master recalculated the same way, 0.09 CPU s, in
    ten tests). The backup folder an in-place recalc leaves beside the file is not made;
    no test here reads it. Tests that recalculate after their own edits still run it."""
    import tempfile

    key = str(masters["clean"])
    if key not in _RECALCULATED:
        with tempfile.TemporaryDirectory() as folder:
            done = shutil.copyfile(masters["clean"], Path(folder) / path.name)
            recalc_file(done)
            _RECALCULATED[key] = done.read_bytes()
    path.write_bytes(_RECALCULATED[key])
    return path


_RECALCULATED: dict[str, bytes] = {}


def _noted_list(masters, tmp_path, title: str):
    """A recalculated copy of the clean master with a staff column headed ``title`` after
    一覧's own: (its path, 一覧's header row index, 01-1's row number, the column)."""
    noted = tmp_path / "noted.xlsm"
    _recalculated_clean(masters, noted)
    before = file_rows(noted, c.LIST)
    header = next(i for i, row in enumerate(before) if tuple(row[:len(c.LIST_COLUMNS)]) == c.LIST_COLUMNS)
    note_col = len(c.LIST_COLUMNS) + 1
    first = next(i for i, row in enumerate(before) if row[c.LIST_ID_COL] == "01-1") + 1
    staff_types(noted, c.LIST, cell_ref(header + 1, note_col), title)
    return noted, header, first, note_col


def test_notes_staff_wrote_beside_the_list_stay_with_their_rows_on_both_faces(masters, tmp_path):
    """Staff write a 「職員備考」 column after 一覧's 達成率 (its header, and 「要確認」 on 01-1's
    row), then sort 指標 in Calc (descending 指標ID), so 01-1's row moves to the end of the
    list. 評価を再計算 on either face keeps the header where it was and the note on 01-1's
    new row. Before, both faces rebuilt 一覧 from the result alone and the notes were gone
    without a word."""
    from realbooks import lo_rows_edit

    noted, header, first, note_col = _noted_list(masters, tmp_path, "職員備考")
    staff_types(noted, c.LIST, cell_ref(first, note_col), "要確認")
    master = lo_rows_edit(noted, tmp_path / "sorted" / noted.name, c.INDICATORS, sort="A1:M81")

    for view in (run_file("recalc", master, tmp_path / "a"), run_live("recalc", master, tmp_path / "b")):
        rows = view.get("rows", c.LIST)
        notes = {(i, row[note_col - 1]) for i, row in enumerate(rows) if len(row) >= note_col and row[note_col - 1]}
        moved = next(i for i, row in enumerate(rows) if row[c.LIST_ID_COL] == "01-1")
        assert moved > first, view.face           # the sort moved the row
        assert notes == {(header, "職員備考"), (moved, "要確認")}, view.face


# What staff's column beside 一覧 held (an error cell, or a text typed) → what 評価を再計算 leaves
# there on both faces: the error itself for the codes Excel takes as typed, #VALUE! (what Excel
# saves for older applications) for a later code, and a text only like an error stays the text.
KEPT_ERRORS = [("#N/A", "#N/A"), ("#REF!", "#REF!"), ("#DIV/0!", "#DIV/0!"), ("#SPILL!", "#VALUE!")]
KEPT_TEXTS = ["＃Ｎ／Ａ", "#n/a", "#TODO!"]   # the last: a note, no code Excel has


def test_an_error_value_beside_the_list_stays_an_error_value_on_both_faces(masters, tmp_path):
    """Staff's 「備考」 beside 一覧 holds a VLOOKUP's #N/A (and a #REF!, a #DIV/0!, a #SPILL!).
    評価を再計算 wrote each back as the TEXT 「#N/A」 on both faces (an inlineStr cell; the
    buttons with the text prefix): it looked the same, but ISERROR, COUNTIF and a sort took it
    as a text from then on. Now each is an error value on both faces, the same one."""
    from test_error_cells import with_error

    noted, _header, first, note_col = _noted_list(masters, tmp_path, "備考")
    master = noted
    for k, (error, _kept) in enumerate(KEPT_ERRORS):
        master = with_error(master, tmp_path / f"e{k}.xlsm", c.LIST, cell_ref(first + k, note_col), error)
    texts = {first + len(KEPT_ERRORS) + k: typed for k, typed in enumerate(KEPT_TEXTS)}
    typed_cells(master, master, [CellEdit(c.LIST, r, note_col, typed) for r, typed in texts.items()])
    plan = plan_of("recalc", master)[0]
    file_view, live_view = run_file("recalc", master, tmp_path / "a"), run_live("recalc", master, tmp_path / "b", plan)
    assert faces_differ(plan, file_view, live_view) == []
    for view in (file_view, live_view):
        rows = view.get("rows", c.LIST)
        assert view.get("errors", c.LIST) == {(first + k, note_col) for k in range(len(KEPT_ERRORS))}, view.face
        assert [rows[first + k - 1][note_col - 1] for k in range(len(KEPT_ERRORS))] == [e for _e, e in KEPT_ERRORS]
        assert {r: rows[r - 1][note_col - 1] for r in texts} == texts, view.face


def test_a_date_of_1900_staff_wrote_beside_the_list_keeps_its_day_on_the_command_line(masters, tmp_path):
    """A 15 typed into a date cell beside 一覧 (Excel shows 1900/1/15) is read as 1900-01-15;
    評価を再計算 on the command line wrote it back as serial 16, a day later at every run
    (package.cells counted every day from 1899-12-30, Excel's count only from 1 March 1900),
    and the server's VBA client as 1900-01-15's VBA Date, OLE day 16, which Excel stores as
    serial 16 too (excel.book.as_file_reads reads the same shift the other way)."""
    noted, _, first, note_col = _noted_list(masters, tmp_path, "職員備考")
    write_planned(noted, lambda fs: (WritePlan(cells=[CellEdit(c.LIST, first, note_col, 15, "yyyy/mm/dd")]), None))
    assert file_rows(noted, c.LIST)[first - 1][note_col - 1] == dt.datetime(1900, 1, 15)
    live = _server_recalc(noted).get("rows", c.LIST)[first - 1][note_col - 1]
    assert live in (dt.date(1900, 1, 15), dt.datetime(1900, 1, 15)), live    # its OLE day 14, Excel's serial 15
    for _ in range(2):
        recalc_file(noted)
        note = file_rows(noted, c.LIST)[first - 1][note_col - 1]
        assert note in (15, dt.datetime(1900, 1, 15)), note     # the day kept, whatever its format now


def test_a_date_staff_wrote_beside_the_list_stays_a_date_on_the_command_line(masters, tmp_path):
    """「確認日」 2024/10/01 beside 一覧: the buttons assign the Date to the rebuilt sheet's 標準 cell
    and Excel shows it as a date; the command line wrote its serial into a cell of no format,
    and the note read 「45566」 after 評価を再計算. Within a sheet and in a staff cell of 標準
    alike (workbook.apply.shown_as_date), and a staff cell's own date format is kept."""
    noted, _, first, note_col = _noted_list(masters, tmp_path, "確認日")
    staff_types(noted, c.LIST, cell_ref(first, note_col), dt.date(2024, 10, 1))        # into a 標準 cell
    staff_types(noted, c.LIST, cell_ref(first + 1, note_col), dt.datetime(2024, 10, 1, 9, 30))
    assert file_rows(noted, c.LIST)[first - 1][note_col - 1] == dt.datetime(2024, 10, 1)
    recalc_file(noted)
    rows = file_rows(noted, c.LIST)
    assert [rows[first - 1][note_col - 1], rows[first][note_col - 1]] == [dt.datetime(2024, 10, 1),
                                                                          dt.datetime(2024, 10, 1, 9, 30)]
    ws = load_workbook(noted, keep_vba=True)[c.LIST]
    assert ws.cell(first, note_col).is_date and ws.cell(first + 1, note_col).is_date   # built-in 14 and 22


def test_a_note_whose_indicator_left_the_list_is_named_not_dropped_silently(masters, tmp_path):
    noted = tmp_path / "noted.xlsm"
    _recalculated_clean(masters, noted)
    rows = file_rows(noted, c.LIST)
    kpi = next(i for i, row in enumerate(rows) if row[c.LIST_ID_COL] == "KPI1-1") + 1
    ref = cell_ref(kpi, len(c.LIST_COLUMNS) + 2)
    staff_types(noted, c.LIST, ref, "要確認")
    with opened(noted) as fs:
        ind = next(i for i in fs.data.indicators if i.id == "KPI1-1")
    staff_types(noted, c.INDICATORS, ind.cell("id"), "")     # staff take the indicator out of 指標

    _plan, result = plan_of("recalc", noted)
    [found] = [f for f in result.findings if f.type == "list-note-dropped"]
    assert (found.sheet, found.cell, found.indicator_id) == (c.LIST, ref, "KPI1-1")
    assert "「要確認」" in found.message and "消えました" in found.message


def _unsaved(src: Path, dst: Path, ref: str, formula: str) -> Path:
    """``src`` with 一覧!``ref`` a formula saved without its result, as openpyxl or LibreOffice
    with some settings save it (``<c><f>…</f></c>``, no ``<v>``): calamine reads it as empty."""
    from test_error_cells import with_error

    return with_error(src, dst, c.LIST, ref, "", cell=f'<c r="{ref}" t="str"><f>{formula}</f></c>')


def test_a_note_beside_the_list_saved_without_its_result_is_named_never_dropped(masters, tmp_path):
    """Staff's 「備考」 beside 一覧 holds a formula saved without its result (a master last saved
    by openpyxl or LibreOffice), and a second column's header is one. The command line read
    both as empty: 評価を再計算 dropped the note and the column without a word (検証結果 said
    nothing), where the buttons carry Excel's value, and 次年度のマスターを作成 did not name the
    note left behind. Now each is named with its cell and what to do (save in Excel), and the
    note beside it is kept. One over a tool's header hid the header row: all staff's columns
    went unseen; it is named too."""
    from renkei_xl.core.list_notes import keep_staff_columns, staff_headers, staff_notes
    from renkei_xl.workbook.session import saved_list

    noted, header, first, note_col = _noted_list(masters, tmp_path, "備考")
    staff_types(noted, c.LIST, cell_ref(first + 1, note_col), "要確認")
    note, head = cell_ref(first, note_col), cell_ref(header + 1, note_col + 1)
    master = _unsaved(_unsaved(noted, tmp_path / "n.xlsm", note, '"要"&amp;"確認"'), tmp_path / "h.xlsm", head, '"確認日"')
    plan, result = plan_of("recalc", master)
    said = {f.cell: f for f in result.findings if f.sheet == c.LIST}
    assert set(said) == {note, head} and said[note].indicator_id == "01-1", said
    assert all("計算結果が保存されていない" in f.message and "Excel で開いて保存し直す" in f.hint for f in said.values())
    listed = next(s for s in plan.sheets if s.name == c.LIST)
    assert [cell[0] for cell in listed.rows[first][note_col - 1:]] == ["要確認"]   # the note beside it kept
    with opened(master) as fs:
        saved = saved_list(fs)
    assert f"{c.LIST}!{note}" in staff_notes(saved)
    assert staff_headers(saved) == ["備考", f"{c.LIST}!{head}（計算結果が保存されていない数式）"]

    tool_head = cell_ref(header + 1, c.LIST_ID_COL + 1)
    with opened(_unsaved(noted, tmp_path / "t.xlsm", tool_head, '"指標ID"')) as fs:
        [found] = keep_staff_columns(listed, fs.state.grids[c.LIST])
    assert (found.type, found.cell) == ("list-header-unsaved", tool_head), found


def test_notes_staff_put_on_cells_of_the_list_and_the_summary_are_named_on_both_faces(masters, tmp_path):
    """A note (comment) on a cell of 一覧 (01-1's row) and of 集計: 評価を再計算 rebuilds both
    sheets whole, so the command line wrote them without the notes, and the button's Clear
    All cleared them, without a word on either face. Each is named with its text and its
    row's 指標ID in 検証結果, the same on both faces (the server reads the saved master's)."""
    from openpyxl.comments import Comment

    noted = tmp_path / "noted.xlsm"
    _recalculated_clean(masters, noted)
    rows = file_rows(noted, c.LIST)
    first = next(i for i, row in enumerate(rows) if row[c.LIST_ID_COL] == "01-1") + 1
    wb = openpyxl.load_workbook(noted, keep_vba=True)
    wb[c.LIST][cell_ref(first, c.LIST_SYMBOL_COL + 1)].comment = Comment("札幌市に再照会中", "職員")
    wb[c.SUMMARY]["B3"].comment = Comment("前年度と比べる", "職員")
    wb.save(noted)

    live = _server_recalc(noted)
    for view in (run_file("recalc", noted, tmp_path / "a"), live):
        texts = [" ".join(str(v) for v in row if v) for row in view.get("rows", c.FINDINGS)]
        said = [t for t in texts if "コメント" in t]
        assert any("「札幌市に再照会中」（指標ID 01-1 の行）" in t for t in said), (view.face, said)
        assert any("「前年度と比べる」" in t and "集計" in t for t in said), (view.face, said)
    # Excel on the desktop names the same notes, read from the same saved file.
    from renkei_xl.excel.desktop import _saved
    from renkei_xl.package.comments import sheet_comments

    assert _saved(sheet_comments, noted, c.SUMMARY) == [("B3", "前年度と比べる")]


def test_notes_on_the_next_steps_and_the_findings_are_named_by_the_command_that_rebuilds_them(masters, tmp_path):
    """Notes (comments) on 次の一歩 and on 検証結果 (「確認済み」 on a finding's row): 評価を再計算
    rebuilds both, 入力チェック 検証結果, and the notes went without a word on either face,
    where those on 一覧 and 集計 were named. Now each is named in the new 検証結果 with the
    command that rebuilt its sheet, alike on the command line and the server."""
    from openpyxl.comments import Comment

    noted = tmp_path / "noted.xlsm"
    _recalculated_clean(masters, noted)
    wb = openpyxl.load_workbook(noted, keep_vba=True)
    wb[c.NEXT_STEPS]["A2"].comment = Comment("来年度に向けて相談", "職員")
    wb[c.FINDINGS]["A1"].comment = Comment("確認済み", "職員")
    wb.save(noted)
    for entry, named in (("check", ["確認済み"]), ("recalc", ["確認済み", "来年度に向けて相談"])):
        command = c.CHECK if entry == "check" else c.RECALC
        for view in (run_file(entry, noted, tmp_path / entry), _server_recalc(noted, entry)):
            texts = [" ".join(str(v) for v in row if v) for row in view.get("rows", c.FINDINGS)]
            said = sorted(t for t in texts if "コメント" in t)
            assert len(said) == len(named), (view.face, said)
            for note in named:
                assert any(f"「{note}」" in t and f"{command}で" in t for t in said), (view.face, note, said)


def test_a_note_as_long_as_excel_allows_is_named_within_a_cell_of_the_findings_on_both_faces(masters, tmp_path):
    """A note of Excel's full 32,767 characters on 一覧, and a value as long beside a row whose
    indicator left the list: each finding quoted the text whole, a message past what a cell
    of 検証結果 holds (the command line wrote it over Excel's limit, the button's write of it
    was refused). Quoted from its start, cut with the length said, within a cell."""
    from openpyxl.comments import Comment
    from renkei_xl.core.values import EXCEL_CELL_TEXT

    noted = tmp_path / "noted.xlsm"
    _recalculated_clean(masters, noted)
    rows = file_rows(noted, c.LIST)
    first = next(i for i, row in enumerate(rows) if row[c.LIST_ID_COL] == "01-1") + 1
    kpi = next(i for i, row in enumerate(rows) if row[c.LIST_ID_COL] == "KPI1-1") + 1
    wb = openpyxl.load_workbook(noted, keep_vba=True)
    wb[c.LIST][cell_ref(first, c.LIST_SYMBOL_COL + 1)].comment = Comment("照" * EXCEL_CELL_TEXT, "職員")
    wb[c.LIST][cell_ref(kpi, len(c.LIST_COLUMNS) + 2)] = "確" * EXCEL_CELL_TEXT
    wb.save(noted)
    with opened(noted) as fs:
        ind = next(i for i in fs.data.indicators if i.id == "KPI1-1")
    staff_types(noted, c.INDICATORS, ind.cell("id"), "")     # its row leaves the list

    live = _server_recalc(noted)
    for view in (run_file("recalc", noted, tmp_path / "a"), live):
        texts = [str(v) for row in view.get("rows", c.FINDINGS) for v in row if v]
        for said in ("照照照照", "確確確確"):
            [message] = [t for t in texts if said in t]
            assert len(message) < EXCEL_CELL_TEXT and f"（全{EXCEL_CELL_TEXT:,}文字）" in message, (view.face, len(message))


def _server_recalc(path, entry: str = "recalc") -> "LiveView":
    """評価を再計算 (or ``entry`` "check") as the server runs it: the payload the master's VBA
    sends, the saved master named in it as the server's admission names it, for what the
    payload cannot carry (notes, fills)."""
    payload = click_payload(path)
    book = remote_book(payload)
    (buttons.check if entry == "check" else buttons.recalc)(book)
    return LiveView(apply_actions(payload, book.json()["actions"]), plan_of(entry, path)[0])


def _with_list_note(masters, tmp_path, note: str, name: str, old: bytes, new: bytes) -> Path:
    """The clean master recalculated, a note on 一覧!J8 saved, then its comments part edited
    (``old`` → ``new``) as a hand-made or damaged part would have it."""
    import zipfile
    from openpyxl.comments import Comment

    noted = tmp_path / "noted.xlsm"
    _recalculated_clean(masters, noted)
    wb = openpyxl.load_workbook(noted, keep_vba=True)
    wb[c.LIST]["J8"].comment = Comment(note, "職員")
    wb.save(noted)
    out = tmp_path / name
    with zipfile.ZipFile(noted) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if re.fullmatch(r"xl/comments/comment\d+\.xml", info.filename):
                data = data.replace(old, new)
            dst.writestr(info, data)
    return out


def test_a_broken_notes_part_on_the_list_stops_no_face(masters, tmp_path):
    """A comments part of 一覧 that cannot be parsed: the buttons read no notes from it and
    rebuilt 一覧; the command line stopped 評価を再計算 at 「部品が壊れています」, for a part of
    the sheet it was about to replace. The same on both faces: no note named, 一覧 rebuilt."""
    broken = _with_list_note(masters, tmp_path, "メモ", "broken.xlsm", b"</comments>", b"")

    result, written = recalc_file(broken)      # stopped at the part before
    assert written.path == broken
    assert not [f for f in result.findings if f.type == "tool-note-dropped"]
    from renkei_xl.excel.desktop import _saved
    from renkei_xl.package.comments import sheet_comments

    assert _saved(sheet_comments, broken, c.LIST) == []     # as the buttons read it


def test_a_note_on_no_cell_is_named_by_its_sheet(masters, tmp_path):
    """A comments part (hand-made, or another tool's) whose note names no cell (ref="X"):
    評価を再計算 stopped with a traceback (ValueError) on the command line and with
    「予期しないエラー」 on the buttons. The note is named, by its sheet, on both."""
    odd = _with_list_note(masters, tmp_path, "場所のないメモ", "odd.xlsm", b'ref="J8"', b'ref="X"')
    payload = click_payload(odd)
    book = remote_book(payload)
    buttons.recalc(book)
    live = apply_actions(payload, book.json()["actions"])
    assert any("「場所のないメモ」（一覧）" in str(v) for row in live.rows(c.FINDINGS) for v in row)

    result, _written = recalc_file(shutil.copyfile(odd, tmp_path / "file.xlsm"))
    [found] = [f for f in result.findings if f.type == "tool-note-dropped"]
    assert (found.sheet, found.cell) == (c.LIST, "") and "「場所のないメモ」（一覧）" in found.message


def test_a_column_staff_inserted_at_the_left_or_in_the_middle_of_the_list_is_kept_after_it(masters, tmp_path):
    """Columns inserted inside 一覧 (at A, and before 評価) shift the tool's: the old sheet's
    columns are told by their headers, the staff's go after 達成率 in their order, each value
    on its 指標ID's row."""
    from renkei_xl.core.list_notes import keep_staff_columns
    from renkei_xl.core.sheet_list import list_sheet

    listed = tmp_path / "listed.xlsm"
    _recalculated_clean(masters, listed)
    old = file_rows(listed, c.LIST)
    header = next(i for i, row in enumerate(old) if tuple(row[:len(c.LIST_COLUMNS)]) == c.LIST_COLUMNS)
    kpi = next(i for i, row in enumerate(old) if row[c.LIST_ID_COL] == "KPI1-2")
    for i, row in enumerate(old):
        row.insert(c.LIST_SYMBOL_COL, {header: "確認者", kpi: "佐藤"}.get(i))
        row.insert(0, {header: "No", kpi: 2}.get(i))

    with opened(listed) as fs:
        d = fs.data
        sheet = list_sheet(recalculate(d.settings, d.indicators, d.entries, d.findings), d.settings)
    assert keep_staff_columns(sheet, old) == []
    n = len(c.LIST_COLUMNS)
    values = [[cell[0] if cell else None for cell in row] for row in sheet.rows]
    assert values[header][n:] == ["No", "確認者"] and values[kpi][n:] == [2, "佐藤"]
    assert values[header][:n] == list(c.LIST_COLUMNS)
    assert all(len(row) <= n for i, row in enumerate(values) if i not in (header, kpi))


def test_a_mark_staff_moved_with_its_row_is_lifted_where_it_is_now(masters, tmp_path):
    """入力チェック marks 小樽市's 「約10件」; staff then insert a row above it in Calc (the
    mark moves down with its cell) and fix the value. The next check finds nothing and lifts
    the mark where it is now, giving back the cell's recorded fill. Before, it was lifted
    only at the recorded place (no longer marked, so left alone) and the moved cell stayed
    red for good under 「エラー 0 件」."""
    from realbooks import lo_rows_edit

    checked = tmp_path / "checked.xlsm"
    shutil.copyfile(masters["bad"], checked)
    validate_file(checked)
    row, col = parse_ref(masters["ref"])
    assert FileView(checked).fill("小樽市", masters["ref"]) == c.MARK_FILL
    moved = lo_rows_edit(checked, tmp_path / "moved" / checked.name, "小樽市", insert_row=2)
    now = cell_ref(row + 1, col)
    assert FileView(moved).fill("小樽市", now) == c.MARK_FILL
    staff_types(moved, "小樽市", now, 1)

    result, _written = validate_file(moved)
    assert not [f for f in result.findings if f.is_error]
    sheet = saved_book(moved)["小樽市"]
    assert FileView(moved).fill("小樽市", now) == c.INPUT_FILL
    assert not [cell.coordinate for r in sheet.iter_rows() for cell in r
                if cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb[-6:].upper() == c.MARK_FILL]


def test_a_table_staff_made_on_the_summary_is_named_alike_by_the_server_and_the_file(masters, tmp_path):
    """A table (ListObject) on 集計: the server's VBA client clears 集計 with Cells.Clear, which
    deletes the table in Excel, and the file face wrote 集計 without it; neither said a word.
    The server names it from the tables the client lists in the payload (Remote.bas sends each
    sheet's ListObjects), the file face from the package: the same finding in 検証結果. 入力チェック
    rebuilds 検証結果 only and names none."""
    from test_tool_sheet_tables import SAID, TABLE_NAME, TABLE_RANGE, with_table

    tabled = with_table(masters["clean"], tmp_path / "tabled.xlsm")
    payload = payload_from_file(tabled, client=VBA)
    [listed] = next(s for s in payload["sheets"] if s["name"] == c.SUMMARY)["tables"]
    assert (listed["name"], listed["range_address"]) == (TABLE_NAME, "$B$30:$C$33")
    for view in (run_file("recalc", tabled, tmp_path / "a"), _server_recalc(tabled)):
        rows = [[str(v) for v in row if v] for row in view.get("rows", c.FINDINGS)]
        said = [row for row in rows if any(SAID in v for v in row)]
        assert len(said) == 1 and said[0][1:3] == [c.SUMMARY, TABLE_RANGE.split(":")[0]], (view.face, said)
    for view in (run_file("check", tabled, tmp_path / "b"), _server_recalc(tabled, "check")):
        assert not any("テーブル" in str(v) for row in view.get("rows", c.FINDINGS) for v in row), view.face


def _staff_page(path: Path) -> None:
    from realbooks import staff_page

    wb = load_workbook(path, keep_vba=True)
    staff_page(wb)
    wb.save(path)


def test_a_page_staff_set_on_a_tool_sheet_goes_alike_on_every_face(masters, tmp_path):
    """Print titles, paper and the rest of the page staff changed on 一覧 and 集計: the
    command line and desktop Excel put the plan's page back at every recalc, the server's
    answer set the breaks and the print area only, so the staff's titles and paper stayed on
    that face. Every page attribute of every sheet the plan writes is compared, the VBA
    client's as the master's renkeiPageSetup sets it."""
    staffed = tmp_path / masters["clean"].name
    shutil.copyfile(masters["clean"], staffed)
    _staff_page(staffed)
    assert file_page(staffed, c.SUMMARY)["title_rows"] == (1, 5)
    file_view = run_file("recalc", staffed, tmp_path / "a")
    live_view = _server_recalc(staffed)
    plan = plan_of("recalc", staffed)[0]
    assert {c.LIST, c.SUMMARY} <= {sp.name for sp in plan.sheets if sp.print_setup}
    for sp in plan.sheets:
        assert live_view.get("page", sp.name) == page_attrs(sp.print_setup), sp.name
        assert file_view.get("page", sp.name) == live_view.get("page", sp.name), sp.name


def test_a_mark_on_an_unknown_id_staff_then_cleared_is_lifted_alike_on_the_server(masters, tmp_path):
    """入力チェック marks 小樽市!A9, an unknown 指標ID 「99-9」 typed on an empty row; staff clear
    it and save, and check again. The command line sees the mark on A9 and lifts it; the
    server (rows not moved since the save) looked only for an ID on that row, found none,
    and left A9 red with 「印が、いまどのセルにあるかわかりません」 in 検証結果. The saved
    master's own colour shows the mark where it was recorded: lifted alike on both faces.
    (Found by tests/fuzz/faces_fuzz.py, seed 3086.)"""
    checked = tmp_path / "checked.xlsm"
    shutil.copyfile(masters["clean"], checked)
    staff_types(checked, "小樽市", "A9", "99-9")
    validate_file(checked)
    assert FileView(checked).fill("小樽市", "A9") == c.MARK_FILL
    staff_types(checked, "小樽市", "A9", None)

    plan, result = plan_of("check", checked)
    assert not result.findings and [(e.sheet, e.ref) for e in plan.fills] == [("小樽市", "A9")]
    file_view, live_view = run_file("check", checked, tmp_path / "a"), _server_recalc(checked, "check")
    assert faces_differ(plan, file_view, live_view) == []
    assert live_view.get("rows", c.FINDINGS) == [list(c.FINDING_COLUMNS) + [c.FINDING_BEFORE_COLUMN]]


# ------------------------------------------------- protection staff set on a tool sheet

def _protection_element(path: Path, sheet: str) -> bytes:
    """A sheet's sheetProtection element as saved, byte for byte (b"": none)."""
    from renkei_xl.package.workbook import WorkbookXml
    from renkei_xl.package.zipped import Package

    with Package(path) as pkg:
        part = next(s.part for s in WorkbookXml(pkg).sheets if s.name == sheet)
        found = re.findall(rb"<sheetProtection\b[^>]*>", pkg.read(part))
    return found[-1] if found else b""


def _staff_protects(path: Path, sheets: dict) -> None:
    """Sheets protected from 校閲 → シートの保護 with the dialog's defaults (select cells,
    nothing else) as Excel saves them: ``None`` no password, "legacy" the 16-bit hash Excel
    2007/2010 wrote, "SHA-512" Excel 2013's hash, salt and spin count; or, for "off", the
    protection lifted and left off."""
    from openpyxl.worksheet.protection import SheetProtection

    wb = load_workbook(path, keep_vba=True)
    for sheet, password in sheets.items():
        p = SheetProtection(sheet=password != "off", objects=True, scenarios=True)
        if password == "legacy":
            p.password = "職員のみ"
        elif password == "SHA-512":
            p.algorithmName, p.spinCount = "SHA-512", 100_000
            p.hashValue = "bE4Vx2VN0yq1Wk3xbyGqmMw1JvZ2Ht5sP7Zw1nY8p9Q6a0uQmWcUo3xIuR1k2Q5lq3vJ4l4vR8s3f2g1h0j9kQ=="
            p.saltValue = "t1OIt6dEbWc5Z2mH3Wq0VQ=="
        wb[sheet].protection = p
    wb.save(path)


@pytest.mark.parametrize("entry", ["check", "recalc"])
def test_a_tool_sheet_staff_protected_in_their_own_way_is_protected_so_again_on_both_faces(masters, tmp_path, entry):
    """Staff protected 集計 and 検証結果 again from the dialog, with its defaults (no filter,
    no formatting of rows or columns), and left 一覧 unprotected. Every button lifts a sheet
    to write and protects it again with its own options, and protects a tool sheet it finds
    unprotected with the tool's; the command line wrote the tool's protection over staff's
    options, so they came back on one face only (the faces walker's protection edits)."""
    path = tmp_path / masters["bad"].name
    shutil.copyfile(masters["bad"], path)
    _staff_protects(path, {c.SUMMARY: None, c.FINDINGS: None, c.LIST: "off"})
    staff = file_protection(path)[c.FINDINGS]["options"]
    assert staff != protection_attrs(PROTECTION) and c.LIST not in file_protection(path)
    plan = plan_of(entry, path)[0]
    written = {sp.name for sp in plan.sheets}
    assert c.FINDINGS in written
    file_view = run_file(entry, path, tmp_path)
    live_view = _server_recalc(path, entry)
    assert faces_differ(plan, file_view, live_view) == []
    for sheet in written & {c.SUMMARY, c.FINDINGS}:
        assert file_view.get("protection", sheet) == staff, sheet
    if c.LIST in written:
        assert file_view.get("protection", c.LIST) == protection_attrs(PROTECTION)


@pytest.mark.parametrize("password", ["legacy", "SHA-512"])
def test_a_password_staff_set_on_a_tool_sheet_is_kept_by_the_command_line_and_refused_by_the_button(
        masters, tmp_path, password):
    """一覧 protected with a password: the button cannot lift it and stops before it writes
    anything, naming the sheet (excel.book.locked_sheet_message); the command line writes
    the file itself and keeps the protection and its password as they were (README). It
    wrote the tool's protection, without a password, over it: the password silently gone."""
    from renkei_xl.excel.book import PASSWORD_SHEETS_KEY, RENKEI_CLIENT_KEY, SAVED_MASTER_KEY, STRUCTURE_KEY
    from renkei_xl.excel.book import locked_sheet_message
    from renkei_xl.server.place import protection_of

    path = tmp_path / masters["clean"].name
    shutil.copyfile(masters["clean"], path)
    _staff_protects(path, {c.LIST: password})
    staff = _protection_element(path, c.LIST)
    assert re.search(rb'\s(?:password|hashValue)="', staff)
    cli = tmp_path / "file" / path.name
    cli.parent.mkdir()
    shutil.copyfile(path, cli)
    recalc_file(cli)
    assert _protection_element(cli, c.LIST) == staff
    # The button, as the server runs it: the saved master's protection read by its admission.
    payload = payload_from_file(path, client=VBA)
    locked, structure = protection_of(path)
    assert locked == {c.LIST}
    payload.update({RENKEI_CLIENT_KEY: True, SAVED_MASTER_KEY: str(path), PASSWORD_SHEETS_KEY: sorted(locked),
                    STRUCTURE_KEY: structure})
    book = remote_book(payload)
    buttons.recalc(book)
    actions = book.json()["actions"]
    assert [a["func"] for a in actions if a["func"] not in ("alert", "renkeiRequest")] == []
    said = str([a for a in actions if a["func"] == "alert"][-1]["args"][0])
    assert said.startswith(c.stopped(c.RECALC)) and locked_sheet_message([c.LIST]) in said, said


def test_the_file_view_reads_the_fill_of_a_merged_areas_hidden_cell(tmp_path):
    """Both faces mark each error cell, a merged area's hidden part included (実績値 and 分母
    merged over E8:F9: F8 is named too). openpyxl loads F8 as a MergedCell without its
    style, so the comparison read the file face's mark there as none and called the faces
    different (faces walker, qa-106)."""
    import zipfile

    from openpyxl.styles import PatternFill

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "恵庭市"
    for ref in ("E8", "F8"):
        ws[ref].fill = PatternFill("solid", fgColor="FF9999")
    plain = tmp_path / "plain.xlsx"
    wb.save(plain)
    merged = tmp_path / "merged.xlsx"     # merged after the fill, as Excel keeps each cell's style
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(merged, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b'</sheetData><mergeCells count="1"><mergeCell ref="E8:F9"/>'
                                                     b"</mergeCells>")
            dst.writestr(item, data)
    assert type(load_workbook(merged)["恵庭市"]["F8"]).__name__ == "MergedCell"
    view = FileView(merged)
    assert (view.fill("恵庭市", "E8"), view.fill("恵庭市", "F8"), view.fill("恵庭市", "F9")) == ("FF9999", "FF9999", None)


def _sized_by_staff(path: Path, out: Path, sheet: str, edit) -> Path:
    """``path`` with ``sheet``'s part passed through ``edit`` (its XML text in, out), as Excel
    saves a sheet whose columns staff sized or hid (its <cols>)."""
    from realbooks import parts, sheet_parts

    return _edited_part(path, out, sheet_parts(parts(path))[sheet], edit)


def _edited_part(path: Path, out: Path, part: str, edit) -> Path:
    """``path`` with its ``part`` passed through ``edit`` (its XML text in, out), every other
    part as it was."""
    import zipfile

    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, edit(data.decode("utf-8")).encode("utf-8") if info.filename == part else data)
    return out


def test_the_widths_staff_gave_a_tool_sheets_columns_stay_and_every_column_shows_on_both_faces(masters, tmp_path):
    """Staff widen their 「職員備考」 column beside 一覧 (L: 40) and one of the tool's (B: 60),
    hide columns past the cells for a tidy sheet (T:AD, 5 wide) and narrow the rest (AE:XFD).
    The buttons clear 一覧 with Excel's Clear All, which leaves every column's width, and set
    the plan's: B at the plan's width, L at 40. The command line wrote the sheet anew with
    the plan's widths alone, so the note column came back at the default width from it only;
    and the buttons showed the hidden columns only as far as the old cells went (T:AD stayed
    hidden on them, shown by the command line). Now one rule (SheetPlan.kept_widths): the
    plan's columns as it says, every other column shown at the width staff gave it."""
    noted, _header, _first, note_col = _noted_list(masters, tmp_path, "職員備考")

    def sized(xml: str) -> str:
        xml = re.sub(r'(<col min="2" max="2" width=")[^"]*', r"\g<1>60", xml)
        return xml.replace("</cols>", f'<col min="{note_col}" max="{note_col}" width="40" customWidth="1"/>'
                                      '<col min="20" max="30" width="5" customWidth="1" hidden="1"/>'
                                      '<col min="31" max="16384" width="2.5" customWidth="1"/></cols>')

    master = _sized_by_staff(noted, tmp_path / "sized.xlsm", c.LIST, sized)
    assert file_widths(master, c.LIST)[note_col] == 40 and file_hidden_cols(master, c.LIST) == set(range(20, 31))
    plan = plan_of("recalc", master)[0]
    listed = next(sp for sp in plan.sheets if sp.name == c.LIST)
    file_view, live_view = run_file("recalc", master, tmp_path), run_live("recalc", master, tmp_path, plan)
    assert faces_differ(plan, file_view, live_view) == []
    for view in (file_view, live_view):
        widths = view.get("widths", c.LIST)
        assert widths[2] == round(listed.widths[2], 1) != 60, view.face
        assert (widths[note_col], widths[20], widths[30], widths[16384]) == (40, 5, 5, 2.5), view.face
        assert view.get("hidden", c.LIST) == listed.hidden_cols, view.face


def test_the_sheet_staff_had_shown_stays_shown_on_both_faces(both, masters):
    """Every run of the faces corpus, those that add a sheet (the first 評価を再計算 of a new
    master adds 次の一歩; 入力チェック adds the 検証結果 staff deleted) included: Excel shows the
    sheet it adds, so the buttons left the book on it while the command line left it on the
    sheet it was saved on (メニュー, as init saves it). One rule (WritePlan.added): the sheet
    staff had shown stays shown."""
    _plan, _result, file_view, live_view = both
    assert file_shown(masters["clean"]) == c.MENU
    assert file_view.shown() == live_view.shown() == c.MENU


def test_a_sheet_shown_other_than_the_first_is_shown_again_after_a_click_adds_one(masters, tmp_path):
    """The book saved on 小樽市 (staff click the button of the Quick Access Toolbar there) and
    検証結果 deleted: 入力チェック adds it on each face and leaves 小樽市 shown."""
    def on_otaru(xml: str) -> str:
        view = re.search(r"<workbookView\b[^>]*>", xml).group(0)
        return xml.replace(view, re.sub(r'\s*activeTab="\d+"', "", view).replace("<workbookView", '<workbookView activeTab="4"'))

    master = _edited_part(masters["deleted"], tmp_path / "shown.xlsm", "xl/workbook.xml", on_otaru)
    assert file_shown(master) == "小樽市" and c.FINDINGS not in load_workbook(master, read_only=True).sheetnames
    views = [run_file("check", master, tmp_path), _server_recalc(master, "check")]
    assert [view.shown() for view in views] == ["小樽市"] * 2
    assert all(c.FINDINGS in view.applied.order for view in views[1:])

"""The two faces give the same 一覧, 集計 and 検証結果 — values and looks — and the same marks.

What a run must leave is stated once (``expect_sheet``, ``expect_marks``) and checked on
each face through a View of its result:

- the command line (``renkei-xl validate`` / ``recalc`` on the file), read back from the
  saved package with openpyxl;
- the buttons (``入力チェック`` / ``評価を再計算``) through xlwings' remote engine, their
  actions replayed by the client model of tests/remote_payload.py.

Then the two views are compared with each other attribute by attribute, so a difference
between the faces shows up even where the plan says nothing.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from remote_payload import (applied_looks, apply_actions, file_conditional, file_freeze, file_heights,
                            file_hidden_cols, file_links, file_looks, file_merges, file_print_area,
                            file_rows, file_widths, payload_from_file, remote_book)
from test_buttons import licensed  # noqa: F401  (the remote engine's licence fixture)
from renkei_xl.core import contract as c
from renkei_xl.core.refs import cell_ref, parse_ref
from renkei_xl.excel import buttons
from renkei_xl.core.looks import LOOKS
from renkei_xl.core.plan import recalc_plan, validate_plan
from renkei_xl.core.plan_types import CellEdit, WritePlan
from renkei_xl.core.pipeline import recalculate
from renkei_xl.cli.workbook import init_master
from renkei_xl.workbook.session import opened, recalc_file, validate_file, write_planned

BAD_VALUE = "約10件"
ATTRIBUTES = ("rows", "looks", "merges", "heights", "widths", "links", "conditional", "freeze",
              "hidden", "print_area")


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
            "looks": lambda: file_looks(p, sheet),
            "merges": lambda: file_merges(p, sheet),
            "heights": lambda: file_heights(p, sheet),
            "widths": lambda: file_widths(p, sheet),
            "links": lambda: file_links(p, sheet),
            "conditional": lambda: [x[:4] for x in file_conditional(p, sheet)],
            "freeze": lambda: file_freeze(p, sheet),
            "hidden": lambda: file_hidden_cols(p, sheet),
            "print_area": lambda: file_print_area(p, sheet),
        }[what]()

    def fill(self, sheet: str, ref: str):
        cell = load_workbook(self.path)[sheet][ref]
        return cell.fill.fgColor.rgb[-6:].upper() if cell.fill.fill_type == "solid" else None


class LiveView:
    """The open workbook after the buttons' actions, as the client applies them."""
    face = "live"

    def __init__(self, applied):
        self.applied = applied

    def get(self, what: str, sheet: str):
        a = self.applied
        return {
            "rows": lambda: _trim(a.rows(sheet)),
            "looks": lambda: applied_looks(a, sheet),
            "merges": lambda: a.merges.get(sheet, set()),
            "heights": lambda: a.sheet_heights(sheet),
            "widths": lambda: a.sheet_widths(sheet),
            "links": lambda: a.sheet_links(sheet),
            "conditional": lambda: a.sheet_conditional(sheet),
            "freeze": lambda: a.freeze.get(sheet),
            "hidden": lambda: a.hidden_cols.get(sheet, set()),
            "print_area": lambda: a.sheet_print_area(sheet),
        }[what]()

    def fill(self, sheet: str, ref: str):
        colour = self.applied.colors.get((sheet, ref))
        return colour.lstrip("#").upper() if colour else None


# -------------------------------------------------------------- the expectations

def expect_sheet(view, sp) -> None:
    """A tool sheet holds what its plan says, and looks as the plan's named looks say."""
    name = sp.name
    assert view.get("rows", name) == _trim([[None if cell is None else cell[0] for cell in row]
                                            for row in sp.rows]), (view.face, name)
    expected = {(r, col): LOOKS[cell[1]]._asdict() for r, row in enumerate(sp.rows, start=1)
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


def run_live(entry: str, master: Path, folder: Path) -> LiveView:
    payload = payload_from_file(master)
    book = remote_book(payload)
    (buttons.check if entry == "check" else buttons.recalc)(book)
    return LiveView(apply_actions(payload, book.json()["actions"]))


def plan_of(entry: str, master: Path):
    """The plan both faces apply (read from the file: the same state either way)."""
    with opened(master) as fs:
        d = fs.data
        result = recalculate(d.settings, d.indicators, d.entries, d.findings)
        make = validate_plan if entry == "check" else recalc_plan
        return make(fs.state, d, result, "", dt.datetime(2024, 4, 1)), result


def staff_types(path: Path, sheet: str, ref: str, value) -> None:
    row, col = parse_ref(ref)
    write_planned(path, lambda fs: (WritePlan(cells=[CellEdit(sheet, row, col, value)]), None))


@pytest.fixture(scope="module")
def masters(tmp_path_factory, licensed):  # noqa: F811
    """The FY2023 master with a bad value typed (marks to add), and the same after a check
    and the fix (marks to lift)."""
    folder = tmp_path_factory.mktemp("faces")
    clean = init_master(folder / "clean.xlsm", sample="fy2023")
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
    return {"clean": clean, "bad": bad, "fixed": fixed, "ref": ref, "rolled": rolled}


@pytest.fixture(scope="module", params=[("recalc", "clean"), ("recalc", "bad"), ("check", "bad"),
                                        ("check", "fixed"), ("recalc", "rolled")], ids=lambda p: "-".join(p))
def both(request, masters, tmp_path_factory):
    entry, which = request.param
    master = masters[which]
    folder = tmp_path_factory.mktemp(f"{entry}_{which}")
    plan, result = plan_of(entry, master)
    return plan, result, run_file(entry, master, folder), run_live(entry, master, folder)


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


def test_the_faces_agree_with_each_other(both):
    plan, _result, file_view, live_view = both
    for sp in plan.sheets:
        for what in ATTRIBUTES:
            assert file_view.get(what, sp.name) == live_view.get(what, sp.name), (sp.name, what)
    for edit in plan.fills:
        assert file_view.fill(edit.sheet, edit.ref) == live_view.fill(edit.sheet, edit.ref), edit


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
        _edits, before = marks([finding], state, MasterData(data.settings, data.indicators, data.entries))
    assert before[("小樽市", ref)] == c.INPUT_FILL


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

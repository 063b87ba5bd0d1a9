"""No command writes a package Excel would "repair".

Excel meets a package whose parts do not add up (a relationship to a dropped part, a part
without a content type, a calcChain entry on a cell with no formula, …) with
「一部の内容に問題が見つかりました。修復しますか?」: for staff, a broken master. The checker is
realbooks.package_problems; here every command that writes a package runs on masters that
carry what Excel and LibreOffice store, and every file written is checked.
"""

from __future__ import annotations

import hashlib
import io
import shutil
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conftest import require_soffice
from realbooks import (excel_formulas, excel_made_books, graft_excel_sheet, graft_rich_value_cell, graft_sheet_name, grafted_lo_master, grafted_master,  # noqa: F401
                       lo_master_xlsm, lo_master_xlsx, lo_tool_sheet_edits, package_problems, sample_master_xlsm)

from test_buttons import licensed  # noqa: F401  (the remote engine, with its test key)

from renkei_xl.cli import main
from renkei_xl.core import contract as c


def _run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(out):
        code = main(list(args))
    return code, out.getvalue()


def _problems(paths) -> dict[str, list[str]]:
    found = {p.name: package_problems(p) for p in paths}
    return {name: problems for name, problems in found.items() if problems}


MASTERS = ["sample", "grafted", "lo_xlsm", "lo_xlsx", "grafted_lo", "pictured", "tool_sheets_xlsm",
           "tool_sheets_xlsx", "calc_chain"]
# Formulas staff typed where a write puts values: 05-1's 実績値 on 小樽市 (a returned file fills
# it), a cell of 集計 (the tool rebuilds the sheet); and one the tool never touches.
STAFF_FORMULAS = {("小樽市", "E3"): ("1+2", 3), ("集計", "H3"): ("1+1", 2), ("設定", "L1"): ("2*3", 6)}


# The masters LibreOffice's staff edits of the tool sheets are saved as (.xlsm, .xlsx).
LO_TOOL_SHEETS = ("tool_sheets_only_xlsm", "tool_sheets_xlsx")


@pytest.fixture(scope="module")
def master_of(request, tmp_path_factory):
    """Each kind of master built once for the module: the LibreOffice edits and recalcs of a
    kind were made again by every test of it. Tests copy one before writing; one handed out
    again must be, byte for byte, what was built."""
    folder = tmp_path_factory.mktemp("masters")
    built: dict[str, tuple[Path, str]] = {}

    def get(kind: str) -> Path:
        if kind not in built:
            made = _built(kind, get, request, folder)
            for each, path in (made if isinstance(made, dict) else {kind: made}).items():
                built[each] = (path, hashlib.sha256(path.read_bytes()).hexdigest())
        path, digest = built[kind]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, f"a test changed the shared {kind} master"
        return path
    return get


def _built(kind: str, get, request, folder: Path) -> Path | dict[str, Path]:
    if kind == "pictured":
        sample = request.getfixturevalue("sample_master_xlsm")
        donor = next(b for b in excel_made_books() if b.stem == "embed_image01")
        return graft_rich_value_cell(sample, donor, folder / "pictured.xlsm", "指標", "K8")
    if kind == "recalced":
        recalced = folder / "recalced.xlsm"
        shutil.copyfile(request.getfixturevalue("sample_master_xlsm"), recalced)
        _run("recalc", str(recalced))
        return recalced
    if kind == "calc_chain":
        return excel_formulas(get("recalced"), folder / "calc_chain.xlsm", STAFF_FORMULAS)
    if kind == "tool_sheets_xlsm":      # and Excel's own parts beside LibreOffice's
        current = get("tool_sheets_only_xlsm")
        for donor in excel_made_books():
            current = graft_excel_sheet(current, donor, folder / f"with_{donor.stem}.xlsm", graft_sheet_name(donor))
        return current
    if kind in LO_TOOL_SHEETS:    # both saves of one LibreOffice edit: the same edit of the same bytes
        require_soffice()
        return dict(zip(LO_TOOL_SHEETS, lo_tool_sheet_edits(
            get("recalced"), [folder / f"{each}.{each.rsplit('_', 1)[1]}" for each in LO_TOOL_SHEETS])))
    name = {"sample": "sample_master_xlsm", "grafted": "grafted_master", "lo_xlsm": "lo_master_xlsm",
            "lo_xlsx": "lo_master_xlsx", "grafted_lo": "grafted_lo_master"}[kind]
    return request.getfixturevalue(name)


@pytest.mark.parametrize("kind", MASTERS)
def test_every_write_leaves_a_whole_package(kind, master_of, tmp_path):
    source = master_of(kind)
    assert package_problems(source) == []
    work = tmp_path / "work"
    work.mkdir()
    master = work / f"master{source.suffix}"
    shutil.copyfile(source, master)
    found = {}

    _run("validate", str(master))
    found["validate"] = package_problems(master)
    _run("recalc", str(master))
    found["recalc"] = package_problems(master)
    _run("recalc", str(master), "-o", str(work / f"out{source.suffix}"))
    found["recalc -o"] = package_problems(work / f"out{source.suffix}")

    issued = tmp_path / "issued"
    code, said = _run("split", str(master), "--outdir", str(issued))
    assert code == 0, said
    found["split"] = _problems(sorted(issued.glob("*.xlsx")))
    one = next(issued.glob("小樽市_*.xlsx"))
    book = load_workbook(one)
    sheet = book["小樽市"]
    row = next(r for r in range(1, sheet.max_row + 1) if sheet.cell(r, 1).value == "05-1")
    sheet.cell(row, 7).value = "3件"   # G: 実績値
    returned = tmp_path / "returns" / one.name
    returned.parent.mkdir()
    book.save(returned)
    code, said = _run("collect", str(master), str(returned))
    found["collect"] = package_problems(master)

    code, said = _run("export", str(master), "-o", str(work / "final.xlsx"))   # exit 1 on an input error
    assert (work / "final.xlsx").exists(), said
    found["export"] = package_problems(work / "final.xlsx")

    code, said = _run("rollover", str(master), "-o", str(work / f"next{source.suffix}"))
    assert code == 0, said
    found["rollover"] = package_problems(work / f"next{source.suffix}")
    code, said = _run("history", "import", str(work / f"next{source.suffix}"), str(master))
    found["history import"] = package_problems(work / f"next{source.suffix}")
    if source.suffix == ".xlsm":
        code, said = _run("upgrade-macros", str(master))
        found["upgrade-macros"] = package_problems(master)
    assert {k: v for k, v in found.items() if v} == {}


@pytest.mark.parametrize("args", [("--sample", "fy2023"), ()], ids=["sample", "empty"])
@pytest.mark.parametrize("suffix", [".xlsm", ".xlsx"])
def test_init_writes_a_whole_package(tmp_path, args, suffix):
    path = tmp_path / f"new{suffix}"
    code, said = _run("init", str(path), "--year", "2023", *args)
    assert code == 0, said
    assert package_problems(path) == []


# ----------------------------------------------------------------- the checker itself

def _broken(src: Path, dst: Path, edit) -> Path:
    """``src`` with ``edit(members)`` applied to its parts (name → bytes, in order)."""
    import zipfile

    with zipfile.ZipFile(src) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    edit(members)
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in members.items():
            out.writestr(name, data)
    return dst


def _sub(members, part, old: bytes, new: bytes):
    assert old in members[part], (part, old)
    members[part] = members[part].replace(old, new, 1)


def _sheet_of(members, name: str) -> str:
    from realbooks import sheet_parts
    return sheet_parts(members)[name]


BREAKS = {
    "dangling relationship": (lambda m: m.pop("xl/styles.xml"), "→ missing xl/styles.xml"),
    "no content type": (lambda m: m.__setitem__("xl/media/extra.qqq", b"x"), "no content type for xl/media/extra.qqq"),
    "override of an absent part": (
        lambda m: _sub(m, "[Content_Types].xml", b"</Types>",
                       b'<Override PartName="/xl/gone.xml" ContentType="application/xml"/></Types>'),
        "Override for absent part /xl/gone.xml"),
    "names differing in case": (lambda m: m.__setitem__("XL/Styles.xml", m["xl/styles.xml"]),
                                "duplicate part name xl/styles.xml"),
    "sheet r:id": (lambda m: _sub(m, _sheet_of(m, "小樽市"), b"</sheetData>",
                                  b'</sheetData><hyperlinks><hyperlink ref="A1" r:id="rId77" '
                                  b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"/>'
                                  b'</hyperlinks>'),
                   "<hyperlink> id=rId77 not in"),
    "workbook sheet without its relationship": (
        lambda m: _sub(m, "xl/workbook.xml", b"</sheets>", b'<sheet name="X" sheetId="99" r:id="rId99"/></sheets>'),
        "<sheet> id=rId99 not in xl/_rels/workbook.xml.rels"),
    "defined name on an absent sheet": (
        lambda m: _sub(m, "xl/workbook.xml", b"</definedNames>",
                       "<definedName name=\"x\">'消えたシート'!$A$1</definedName></definedNames>".encode()),
        "defined name x: sheet '消えたシート' absent"),
    "print titles of an absent sheet index": (
        lambda m: _sub(m, "xl/workbook.xml", b"</definedNames>",
                       b'<definedName name="_xlnm.Print_Titles" localSheetId="99">$1:$2</definedName></definedNames>'),
        "localSheetId 99"),
    "app.xml counts": (
        lambda m: m.__setitem__("docProps/app.xml", m["docProps/app.xml"].replace(
            b'<vt:vector size="', b'<vt:vector size="9', 1)),
        "docProps/app.xml: HeadingPairs size 9"),
}


@pytest.mark.parametrize("fault", sorted(BREAKS))
def test_the_checker_names_each_fault(fault, sample_master_xlsm, tmp_path):
    edit, said = BREAKS[fault]
    found = package_problems(_broken(sample_master_xlsm, tmp_path / "broken.xlsm", edit))
    assert any(said in p for p in found), found


def test_the_checker_names_a_chained_cell_without_a_formula(sample_master_xlsm, tmp_path):
    chained = excel_formulas(sample_master_xlsm, tmp_path / "chained.xlsm", STAFF_FORMULAS)
    assert package_problems(chained) == []
    from realbooks import sheet_parts, parts
    part = sheet_parts(parts(chained))["設定"]
    broken = _broken(chained, tmp_path / "broken.xlsm",
                     lambda m: _sub(m, part, b"<f>2*3</f>", b""))
    assert any("calcChain.xml: L1 of sheetId" in p and "holds no formula" in p for p in package_problems(broken))


def test_a_write_keeps_the_chain_unless_it_replaces_a_chained_formula(sample_master_xlsm, tmp_path):
    """validate rewrites 検証結果 only, which holds no chained cell: the chain, its relationship
    and its Override stay byte for byte; recalc rebuilds 集計 over a staff formula: all three go."""
    from realbooks import parts
    master = excel_formulas(sample_master_xlsm, tmp_path / "m.xlsm", {("設定", "L1"): ("2*3", 6)})
    before = parts(master)
    _run("validate", str(master))
    after = parts(master)
    assert after["xl/calcChain.xml"] == before["xl/calcChain.xml"]
    assert after["xl/_rels/workbook.xml.rels"] == before["xl/_rels/workbook.xml.rels"]
    assert after["[Content_Types].xml"] == before["[Content_Types].xml"]

    master = excel_formulas(sample_master_xlsm, tmp_path / "n.xlsm", {("集計", "H3"): ("1+1", 2)})
    _run("recalc", str(master))
    after = parts(master)
    assert "xl/calcChain.xml" not in after and b"calcChain" not in after["xl/_rels/workbook.xml.rels"]
    assert b"calcChain" not in after["[Content_Types].xml"] and package_problems(master) == []


# ----------------------------------------------------------------- the buttons (remote engine)

@pytest.mark.parametrize("kind", ["calc_chain", "tool_sheets_only_xlsm"])
def test_the_buttons_write_whole_packages(kind, master_of, tmp_path, monkeypatch, licensed):  # noqa: F811
    """split, export and rollover clicked through xlwings' remote engine write files of their
    own (from the saved master): each is checked as the command line's are. (Not on the
    grafted masters: XlsxWriter's comment03 sheet spans A1:XFD1048576, which the payload
    model, as the VBA client, would send cell by cell.)"""
    from remote_payload import apply_actions, click_payload, remote_book

    from renkei_xl.excel import buttons

    work = tmp_path / "work"
    work.mkdir()
    master = work / "master.xlsm"
    shutil.copyfile(master_of(kind), master)
    monkeypatch.chdir(work)
    for entry in (buttons.split, buttons.export, buttons.rollover):
        payload = click_payload(master)
        book = remote_book(payload)
        entry(book)
        apply_actions(payload, book.json()["actions"])
    written = [p for p in work.rglob("*.xls[xm]") if p != master and "バックアップ" not in str(p)]
    assert {p.parent.name for p in written} >= {c.SPLIT_DIR, c.EXPORT_DIR}, written
    assert any(p.parent == work for p in written), written   # the new year's master
    assert _problems(written) == {}


# ----------------------------------------------------------------- the writer refuses a broken package

def _saved(master: Path, target: Path, edit) -> str:
    """``edit(pkg)`` on the package of ``master``, then saved to ``target``: "" when written,
    else the refusal's message (and nothing is written)."""
    from renkei_xl.package.xml import PackageError
    from renkei_xl.package.zipped import Package

    with Package(master) as pkg:
        edit(pkg)
        try:
            pkg.save(target)
        except PackageError as exc:
            assert not target.exists()
            return str(exc)
    return ""


def test_the_writer_refuses_to_leave_a_relationship_to_a_part_it_removed(sample_master_xlsm, tmp_path):
    said = _saved(sample_master_xlsm, tmp_path / "out.xlsm", lambda pkg: pkg.remove("xl/styles.xml"))
    assert "書き込みを中止しました" in said and "ない部品「xl/styles.xml」" in said, said
    assert "[Content_Types].xml が、ない部品「/xl/styles.xml」" in said, said


def test_the_writer_refuses_a_part_without_a_content_type(sample_master_xlsm, tmp_path):
    said = _saved(sample_master_xlsm, tmp_path / "out.xlsm", lambda pkg: pkg.write("xl/media/x.qqq", b"x"))
    assert "部品「xl/media/x.qqq」に種類（Content Type）がありません" in said, said


def test_the_writer_refuses_a_new_relationship_to_nothing(sample_master_xlsm, tmp_path):
    from renkei_xl.package.rels import add_rel

    said = _saved(sample_master_xlsm, tmp_path / "out.xlsm",
                  lambda pkg: add_rel(pkg, "xl/workbook.xml", "urn:x", "nothing.xml"))
    assert "ない部品「xl/nothing.xml」" in said, said


def test_a_fault_the_master_already_had_does_not_stop_a_write(sample_master_xlsm, tmp_path):
    """An Override of an absent part the file came with: Excel repairs it as it did before,
    and the write, which touched neither, goes through."""
    master = _broken(sample_master_xlsm, tmp_path / "m.xlsm", BREAKS["override of an absent part"][0])
    assert _saved(master, tmp_path / "out.xlsm", lambda pkg: pkg.write("xl/styles.xml", pkg.read("xl/styles.xml"))) == ""
    assert _saved(master, tmp_path / "out2.xlsm", lambda pkg: None) == ""


def test_the_writer_refuses_a_part_named_again_in_other_case(sample_master_xlsm, tmp_path):
    """「xl/Styles.xml」 beside 「xl/styles.xml」: one part to Excel, whose part names ignore case
    (OPC), two to the zip."""
    said = _saved(sample_master_xlsm, tmp_path / "out.xlsm",
                  lambda pkg: pkg.write("xl/Styles.xml", pkg.read("xl/styles.xml")))
    assert "部品名「xl/styles.xml」が大文字・小文字違いで二つあります" in said, said

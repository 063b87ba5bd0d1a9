"""The helpers of realbooks.py do what other tests rely on: LibreOffice really stores a staff
member's edits, grafted Excel sheets carry every part they link to and still open, and the
package comparisons say what differs."""

import re
import warnings
import zipfile

import pytest
from openpyxl import load_workbook

from conftest import require_soffice
from realbooks import (CF_RANGE, COMMENT_TEXT, SHAPE_TEXT, STAFF_NAME, STAFF_SHEET,
                       assert_parts_identical, excel_made_books, graft_excel_sheet, graft_sheet_name,
                       grafted_lo_master, grafted_master, grafted_masters, lo_inspect, lo_master_xlsm,
                       lo_master_xlsx, package_problems, parts, pdf_text, reachable_parts, relationships,
                       sample_master_xlsm, sheet_parts, staff_sheets, vba_modules,
                       walk_parts)

DONORS = [book.stem for book in excel_made_books()]

# What LibreOffice should see on each grafted sheet: (drawing-page objects, comments, charts,
# strings). Sheet backgrounds, header pictures and in-cell pictures are not objects on the
# draw page; the in-cell checkbox (a style feature) is a plain boolean once styles reset.
SEEN = {
    "background02": (0, 0, 0, []),
    "button07": (1, 0, 0, []),
    "chart_bar01": (1, 0, 1, []),
    "checkbox01": (0, 0, 0, []),
    "comment03": (2, 2, 0, ["Foo"]),
    "embed_image01": (0, 0, 0, []),
    "header_image02": (0, 0, 0, []),
    "image01": (1, 0, 0, []),
    "macro01": (0, 0, 0, []),
    "rich_string01": (0, 0, 0, ["Foo", "Bar", "abcdefg"]),
    "table04": (2, 2, 0, ["Column1", "Column2", "Column3", "Column4"]),
    "textbox01": (1, 0, 0, []),
}


@pytest.fixture(scope="module")
def inspected(lo_master_xlsm, lo_master_xlsx, grafted_masters, grafted_master, grafted_lo_master, tmp_path_factory):
    """One LibreOffice session opens every file made here; the fully grafted master, opened
    once, is also rendered to PDF there (its "pdf")."""
    require_soffice()
    books = {"lo_xlsm": lo_master_xlsm, "lo_xlsx": lo_master_xlsx, "all": grafted_master,
             "lo_all": grafted_lo_master, **grafted_masters}
    pdf = tmp_path_factory.mktemp("rendered") / (grafted_master.stem + ".pdf")
    found = dict(zip(books, lo_inspect(books.values(), pdfs={grafted_master: pdf})))
    found["all"]["pdf"] = pdf
    return found


def _sheet_part(path, name):
    pkg = parts(path)
    return sheet_parts(pkg)[name], pkg


# ----------------------------------------------------------------- LibreOffice staff edits

@pytest.mark.parametrize("kind", ["xlsm", "xlsx"])
def test_libreoffice_stores_the_staff_edits(kind, lo_master_xlsm, lo_master_xlsx, sample_master_xlsm):
    path = {"xlsm": lo_master_xlsm, "xlsx": lo_master_xlsx}[kind]
    pkg = parts(path)
    assert package_problems(path) == []
    assert staff_sheets(path, sheet_parts(parts(sample_master_xlsm))) == [STAFF_SHEET]

    otaru = reachable_parts(path, ["小樽市"])
    comments = [p for p in otaru if re.fullmatch(r"xl/comments\d*\.xml", p)]
    assert len(comments) == 1 and COMMENT_TEXT in pkg[comments[0]].decode()
    assert any(p.endswith(".vml") and b'ObjectType="Note"' in pkg[p] for p in otaru)
    sheet = pkg[sheet_parts(pkg)["小樽市"]].decode()
    assert re.search(rf'<conditionalFormatting sqref="{CF_RANGE}"><cfRule type="cellIs"', sheet) \
        or f"<xm:sqref>{CF_RANGE}</xm:sqref>" in sheet

    settings = reachable_parts(path, ["設定"])
    media = [p for p in settings if p.startswith("xl/media/")]
    assert len(media) == 1 and pkg[media[0]].startswith(b"\x89PNG")
    assert any(p.startswith("xl/drawings/drawing") and p.endswith(".xml") for p in settings)

    shape = [p for p in reachable_parts(path, ["指標"]) if p.startswith("xl/drawings/drawing")]
    assert any("目標値は来年度見直し" in pkg[p].decode() and "prst=\"rect\"" in pkg[p].decode()
               for p in shape if p.endswith(".xml")), SHAPE_TEXT

    memo = reachable_parts(path, [STAFF_SHEET])
    charts = [p for p in memo if re.fullmatch(r"xl/charts/chart\d+\.xml", p)]
    assert len(charts) == 1 and "<c:f>メモ!$B$2:$B$5</c:f>" in pkg[charts[0]].decode()

    workbook = pkg["xl/workbook.xml"].decode()
    assert re.search(rf'<definedName [^>]*name="{STAFF_NAME}"[^>]*>メモ!\$A\$1</definedName>', workbook)

    if kind == "xlsm":
        assert "xl/vbaProject.bin" in pkg
        assert "Renkei" in vba_modules(path)
        assert "RenkeiCheck" in vba_modules(path)["Renkei"]
    else:
        assert "xl/vbaProject.bin" not in pkg and vba_modules(path) == {}
        assert b"macroEnabled" not in pkg["[Content_Types].xml"]


def test_libreoffice_reopens_its_own_saves(inspected):
    for kind in ("lo_xlsm", "lo_xlsx"):
        book = inspected[kind]
        assert book["loaded"], book
        sheets = book["sheets"]
        assert sheets["小樽市"]["annotations"] == 1
        assert sheets["指標"]["shapes"] >= 1 and sheets["設定"]["shapes"] >= 1
        assert sheets[STAFF_SHEET]["charts"] == 1 and "件数" in sheets[STAFF_SHEET]["strings"]
        assert STAFF_NAME in book["names"]


# ----------------------------------------------------------------- grafted Excel sheets

@pytest.mark.parametrize("stem", DONORS)
def test_a_grafted_sheet_carries_every_part_it_links_to(stem, grafted_masters, sample_master_xlsm):
    donor = next(b for b in excel_made_books() if b.stem == stem)
    path = grafted_masters[stem]
    name = graft_sheet_name(donor)
    assert package_problems(path) == []

    donor_pkg, pkg = parts(donor), parts(path)
    donor_sheet = next(iter(sheet_parts(donor_pkg).values()))
    donor_reach = walk_parts(donor_pkg, [donor_sheet])
    reach = reachable_parts(path, [name])
    assert len(reach) == len(donor_reach)
    assert not reach & set(parts(sample_master_xlsm)), "a grafted part overwrote a part of the master"
    # media travel byte for byte
    assert sorted(pkg[p] for p in reach if "/media/" in p) == \
        sorted(donor_pkg[p] for p in donor_reach if "/media/" in p)

    sheet = pkg[sheet_parts(pkg)[name]].decode()
    assert 't="s"' not in sheet and not re.search(r"<c [^>]*\ss=", sheet)
    assert "tabSelected" not in sheet and "codeName" not in sheet

    # everything of the master is still there, byte for byte, except the three edited parts
    master = parts(sample_master_xlsm)
    edited = {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels"}
    assert_parts_identical(sample_master_xlsm, path, set(master) - edited)
    assert vba_modules(path) == vba_modules(sample_master_xlsm)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = load_workbook(path, keep_vba=True)
    assert name in book.sheetnames


def test_grafting_moves_ids_that_must_be_unique(grafted_master):
    pkg = parts(grafted_master)
    blocks = [m.group(1) for p in pkg if p.endswith(".vml")
              for m in [re.search(rb'<o:idmap [^>]*data="([^"]*)"', pkg[p])] if m]
    assert len(blocks) == len(set(blocks)) >= 4  # the master's buttons, two comment sets, header pictures
    chart_sheet = graft_sheet_name(next(b for b in excel_made_books() if b.stem == "chart_bar01"))
    chart = next(p for p in reachable_parts(grafted_master, [chart_sheet]) if "/charts/" in p)
    assert f"<c:f>'{chart_sheet}'!$A$1:$A$5</c:f>" in pkg[chart].decode()
    # the in-cell picture's rich data hangs off the workbook, with the donor's relationship types
    types = {r["Type"].rsplit("/", 1)[1] for r in relationships(pkg, "xl/workbook.xml")}
    assert {"sheetMetadata", "richValueRel", "rdRichValue", "rdRichValueStructure", "rdRichValueTypes"} <= types
    with pytest.raises(NotImplementedError):  # a second rich-value store is not merged
        donor = next(b for b in excel_made_books() if b.stem == "embed_image01")
        graft_excel_sheet(grafted_master, donor, grafted_master.with_name("twice.xlsm"), "二枚目")


def test_libreoffice_opens_every_grafted_master(inspected):
    for stem in [*DONORS, "all", "lo_all"]:
        book = inspected[stem]
        assert book["loaded"], book
        for donor in DONORS if stem in ("all", "lo_all") else [stem]:
            shapes, annotations, charts, strings = SEEN[donor]
            seen = book["sheets"][graft_sheet_name(next(b for b in excel_made_books() if b.stem == donor))]
            assert (seen["shapes"], seen["annotations"], seen["charts"]) == (shapes, annotations, charts), donor
            assert set(strings) <= set(seen["strings"]), donor


def test_grafting_onto_a_libreoffice_save_keeps_its_parts(lo_master_xlsm, grafted_lo_master, inspected):
    assert package_problems(grafted_lo_master) == []
    edited = {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels"}
    assert_parts_identical(lo_master_xlsm, grafted_lo_master, set(parts(lo_master_xlsm)) - edited)
    assert staff_sheets(grafted_lo_master, sheet_parts(parts(lo_master_xlsm))) == \
        [graft_sheet_name(b) for b in excel_made_books()]
    sheets = inspected["lo_all"]["sheets"]
    assert sheets[STAFF_SHEET]["charts"] == 1 and sheets["小樽市"]["annotations"] == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        load_workbook(grafted_lo_master, keep_vba=True)


def test_the_fully_grafted_master_renders(inspected):
    text = pdf_text(inspected["all"]["pdf"])     # LibreOffice's PDF of grafted_master (lo_inspect's pdfs)
    assert "連携事業" in text
    for word in ("abcdefg", "Column1"):
        assert word in text


# ----------------------------------------------------------------- comparisons

def test_assert_parts_identical_names_what_differs(sample_master_xlsm, lo_master_xlsm):
    assert_parts_identical(sample_master_xlsm, sample_master_xlsm, parts(sample_master_xlsm))
    with pytest.raises(AssertionError) as failure:
        assert_parts_identical(sample_master_xlsm, lo_master_xlsm,
                               ["xl/workbook.xml", "xl/vbaProject.bin", "xl/comments5.xml"])
    message = str(failure.value)
    assert "xl/workbook.xml: differs, first difference at byte" in message
    assert "xl/vbaProject.bin: differs, binary" in message
    assert "xl/comments5.xml: missing before" in message


def test_reachable_parts_follows_relationships_and_skips_external_links(grafted_masters):
    path = grafted_masters["table04"]
    reach = reachable_parts(path, [graft_sheet_name("table04")])
    assert not any("perl.com" in p for p in reach)
    assert {p.rsplit("/", 1)[0] for p in reach} >= {"xl/worksheets", "xl/worksheets/_rels", "xl/tables",
                                                    "xl/drawings"}
    with pytest.raises(KeyError):
        reachable_parts(path, ["存在しないシート"])
    with zipfile.ZipFile(path) as z:
        assert set(parts(path)) == set(z.namelist())

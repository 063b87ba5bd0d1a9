"""A part written in pieces (package.zipped.Deflated) is stored as if written whole; a small
part read again is not inflated again (Package.read)."""

from __future__ import annotations

import zipfile
import zlib

import pytest

from renkei_xl.package.xml import PackageError
from renkei_xl.package.zipped import Deflated, Package


def _pieces(n: int = 3000) -> list[str]:
    """Sheet-like text, Japanese and ASCII, cut at uneven places."""
    text = "".join(f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>指標{i}・札幌市{i % 7}件</t></is></c></row>'
                   for i in range(n))
    cuts = list(range(0, len(text), 977)) + [len(text)]
    return [text[a:b] for a, b in zip(cuts, cuts[1:])]


@pytest.mark.parametrize("thread_from", [0, 10 ** 12], ids=["on a thread", "inline"])
def test_pieces_deflate_to_the_stream_of_the_whole(monkeypatch, thread_from):
    monkeypatch.setattr(Deflated, "THREAD_FROM_BYTES", thread_from)
    pieces = _pieces()
    data = "".join(pieces).encode("utf-8")
    whole = zlib.compressobj(6, zlib.DEFLATED, -15)
    d = Deflated.of(pieces)
    assert d.packed == whole.compress(data) + whole.flush()
    assert (d.crc, d.size) == (zlib.crc32(data), len(data))
    assert d.inflated() == data


def test_a_failing_writer_stops_the_deflating_thread(monkeypatch):
    monkeypatch.setattr(Deflated, "THREAD_FROM_BYTES", 0)

    def pieces():
        yield from _pieces(200)
        raise ValueError("render failed")

    with pytest.raises(ValueError, match="render failed"):
        Deflated.of(pieces())


def test_a_part_written_in_pieces_is_saved_read_back_and_headed(tmp_path):
    src = tmp_path / "a.xlsx"
    with zipfile.ZipFile(src, "w") as z:
        # The part has its content type: a rewritten part without one is refused (package.integrity).
        z.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.spreadsheetml.worksheet+xml"/></Types>')
        z.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    pieces = _pieces()
    data = "".join(pieces).encode("utf-8")
    with Package(src) as pkg:
        pkg.write_pieces("xl/worksheets/sheet1.xml", pieces)
        assert pkg.read("xl/worksheets/sheet1.xml") == data
        assert pkg.top("xl/worksheets/sheet1.xml", 100) == (data[:100], True)
        assert pkg.changed() == {"xl/worksheets/sheet1.xml"}
        pkg.save(tmp_path / "b.xlsx")
    with zipfile.ZipFile(tmp_path / "b.xlsx") as z:
        assert z.read("xl/worksheets/sheet1.xml") == data
        assert z.testzip() is None


@pytest.mark.parametrize("padding", [0, 70_000], ids=["top within 64 KB", "top past 64 KB"])
def test_a_sheets_top_is_read_without_its_cells(tmp_path, padding):
    """apply.sheet_top gives the code name and the selected tab from the part's top, and the
    whole text when the top runs past what it inflates."""
    from renkei_xl.workbook.apply import _attr_of, sheet_top

    root = '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"' + " " * padding + ">"
    sheet = (root + '<sheetPr codeName="shList"/><sheetViews><sheetView tabSelected="1" workbookViewId="0"/>'
             '</sheetViews><sheetData>' + "".join(f'<row r="{i}"/>' for i in range(1, 20000)) + "</sheetData></worksheet>")
    src = tmp_path / "a.xlsx"
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    with Package(src) as pkg:
        top = sheet_top(pkg, "xl/worksheets/sheet1.xml")
    assert _attr_of(top, "sheetPr", "codeName") == "shList"
    assert _attr_of(top, "sheetView", "tabSelected") == "1"
    assert ("<sheetData" in top) == bool(padding)


def test_a_small_part_asked_again_is_inflated_once_and_still_checked(tmp_path, monkeypatch):
    """Package.read keeps a small part as read (KEPT_BYTES): a FY2023 recalc opened and
    inflated xl/_rels/workbook.xml.rels 14 times. What is kept still answers as before: a
    part read for a parser first is refused later where a search would read its comment
    (odd markup), a part written since reads as written, a removed one is missing, and a
    part past the size is inflated on every read (its memory is the write's)."""
    types = '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
    rels = '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>'
    src = tmp_path / "a.xlsx"
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", types)
        z.writestr("xl/_rels/workbook.xml.rels", rels)
        z.writestr("xl/styles.xml", "<styleSheet><!-- <numFmt/> --></styleSheet>")
        z.writestr("xl/big.xml", "<a>" + "x" * 300_000 + "</a>")
    inflated: list[str] = []
    inflate = Package._inflate
    monkeypatch.setattr(Package, "_inflate", lambda self, info: inflated.append(info.filename) or inflate(self, info))
    with Package(src) as pkg:
        for _ in range(3):
            assert pkg.read("xl/_rels/workbook.xml.rels") == rels.encode()
            assert pkg.read("[Content_Types].xml") == types.encode()
            assert pkg.read("xl/big.xml", parser_read=True).startswith(b"<a>x")
        assert pkg.read("xl/styles.xml", parser_read=True).startswith(b"<styleSheet>")
        with pytest.raises(PackageError, match="xl/styles.xml"):
            pkg.read("xl/styles.xml")
        pkg.write("xl/_rels/workbook.xml.rels", "<Relationships/>")
        assert pkg.read("xl/_rels/workbook.xml.rels") == b"<Relationships/>"
        pkg.remove("[Content_Types].xml")
        with pytest.raises(PackageError, match="ありません"):
            pkg.read("[Content_Types].xml")
    assert sorted(inflated) == ["[Content_Types].xml", "xl/_rels/workbook.xml.rels", "xl/big.xml", "xl/big.xml",
                                "xl/big.xml", "xl/styles.xml"]

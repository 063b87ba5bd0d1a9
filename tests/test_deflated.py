"""A part written in pieces (package.zipped.Deflated) is stored as if written whole."""

from __future__ import annotations

import zipfile
import zlib

import pytest

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
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    pieces = _pieces()
    data = "".join(pieces).encode("utf-8")
    with Package(src) as pkg:
        pkg.write_pieces("xl/worksheets/sheet1.xml", pieces)
        assert pkg.read("xl/worksheets/sheet1.xml") == data
        assert pkg.head("xl/worksheets/sheet1.xml", 100) == data[:100]
        assert pkg.changed() == {"xl/worksheets/sheet1.xml"}
        pkg.save(tmp_path / "b.xlsx")
    with zipfile.ZipFile(tmp_path / "b.xlsx") as z:
        assert z.read("xl/worksheets/sheet1.xml") == data
        assert z.testzip() is None

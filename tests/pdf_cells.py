"""What a printed sheet shows, cell by cell, read back from the PDF LibreOffice made.

pdftotext reports every glyph the PDF holds, clipped or not, so "the text is in the PDF"
would pass even when a row is too low and its last lines are cut off at the cell border.
Here the borders themselves are found in the rendered page (pdftoppm; the tool draws a
thin border round every cell), and a cell's text is only the words that lie inside its
borders: a line cut off by the row below lands in the next row's cell, or outside every
cell, and the comparison fails.
"""

from __future__ import annotations

import html
import re
import subprocess
from pathlib import Path
from typing import NamedTuple

DPI = 100


class Word(NamedTuple):
    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


def page_count(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))


def words(pdf: Path, page: int) -> list[Word]:
    out = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                         capture_output=True, text=True, check=True).stdout
    return [Word(html.unescape(w), float(a), float(b), float(c), float(d)) for a, b, c, d, w in
            re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', out)]


class Page:
    """One rendered page: its pixels (for borders) and its words (in points)."""

    def __init__(self, pdf: Path, page: int, workdir: Path):
        prefix = workdir / f"page_{page}"
        subprocess.run(["pdftoppm", "-r", str(DPI), "-f", str(page), "-l", str(page), str(pdf), str(prefix)],
                       check=True)
        ppm = next(workdir.glob(f"page_{page}*.ppm"))
        data = ppm.read_bytes()
        m = re.match(rb"P6\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
        self.width, self.height = int(m.group(1)), int(m.group(2))
        self.pixels = data[m.end():]
        ppm.unlink()
        self.words = words(pdf, page)

    def _dark(self, x: int, y: int) -> bool:
        i = (y * self.width + x) * 3
        r, g, b = self.pixels[i], self.pixels[i + 1], self.pixels[i + 2]
        return max(r, g, b) < 200 and max(r, g, b) - min(r, g, b) < 40

    def _px(self, points: float) -> int:
        return int(round(points * DPI / 72))

    def column_edges(self, y: float) -> list[float]:
        """x (points) of the vertical borders crossing the line at ``y`` (points)."""
        py = self._px(y)
        xs = [x for x in range(self.width) if all(self._dark(x, yy) for yy in (py - 1, py, py + 1))]
        edges: list[int] = []
        for x in xs:
            if not edges or x > edges[-1] + 2:
                edges.append(x)
        return [x * 72 / DPI for x in edges]

    def row_edges(self, x0: float, x1: float) -> list[float]:
        """y (points) of the horizontal borders running across the column x0..x1."""
        a, b = self._px(x0) + 3, self._px(x1) - 3
        span = range(a, b)
        ys = [y for y in range(self.height) if sum(self._dark(x, y) for x in span) >= 0.9 * len(span)]
        edges: list[int] = []
        for y in ys:
            if not edges or y > edges[-1] + 2:
                edges.append(y)
        return [y * 72 / DPI for y in edges]

    def body_rows(self, header: Word, x0: float, x1: float) -> list[tuple[float, float]]:
        """(top, bottom) of every bordered row below the header cell holding ``header``."""
        edges = [e for e in self.row_edges(x0, x1) if e > header.cy]
        return list(zip(edges, edges[1:]))

    def find(self, text: str) -> Word:
        for w in self.words:
            if w.text == text:
                return w
        raise AssertionError(f"「{text}」 is not on the page")

    def column_of(self, header: Word) -> tuple[float, float]:
        """The column (x0, x1 in points) whose header cell holds ``header``.

        A vertical stroke of a glyph on the header's line looks like a border there, so an
        edge must also cross the cell just above and just below the word (where a probe
        lands on the cell's own top or bottom border, every x is dark and it rules out
        nothing)."""
        edges = self.column_edges(header.cy)
        for y in (header.y0 - 1.5, header.y1 + 1.5):
            crossing = self.column_edges(y)
            edges = [e for e in edges if any(abs(e - o) <= 1.5 for o in crossing)]
        left = max(e for e in edges if e <= header.x0)
        right = min(e for e in edges if e >= header.x1)
        return left, right

    def text_in(self, x0: float, x1: float, y0: float, y1: float) -> str:
        """The words whose centre lies in the box, in reading order, without spaces."""
        inside = sorted((w for w in self.words if x0 < w.cx < x1 and y0 < w.cy < y1), key=lambda w: w.cy)
        lines: list[list[Word]] = []
        for w in inside:    # Latin and kanji runs of one line differ a little in height
            if lines and abs(w.cy - lines[-1][0].cy) < 3:
                lines[-1].append(w)
            else:
                lines.append([w])
        return "".join(w.text for line in lines for w in sorted(line, key=lambda w: w.x0))

    def find_prefix(self, prefix: str) -> Word:
        for w in self.words:
            if w.text.startswith(prefix):
                return w
        raise AssertionError(f"no word starting 「{prefix}」 on the page")


def squeeze(value: object) -> str:
    """A cell's text as pdftotext gives it back: no spaces, no line breaks."""
    return re.sub(r"\s+", "", "" if value is None else str(value))

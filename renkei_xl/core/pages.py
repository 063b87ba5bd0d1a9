"""Where the printed 一覧's pages end, decided by the tool rather than by the application.

The official list repeats a 役割 (and a project) on every page its rows reach: a merged
cell that runs over a page break shows its text on the first page only, in Excel as in
LibreOffice. So the plan places the breaks itself (manual row breaks), and splits every
merge at them, each part carrying the text.

Automatic breaks must never fall between the manual ones, or a page would again begin in
the middle of a merged cell. A page here holds at most what it holds printed at 100 %:
fit-to-width only ever shrinks the sheet (to about 90 % in Excel, 70 % in LibreOffice,
whose substitute font measures columns wider), so every application fits at least that
much on a page, whatever fonts it has. Rows are in points, as the plan sets them.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Mapping, Sequence

PAPER_POINTS = {"A3": (841.89, 1190.55), "A4": (595.28, 841.89)}   # portrait width, height
FILL = 0.97             # of a page's height: room for rounding in the applications
KEEP_TOGETHER = 2 / 3   # a project moves whole to the next page if this page is this full
# The most manual page breaks a sheet takes. Excel's specifications say 1,026, but a file
# with more than about 1,024 is one Excel reports as damaged when it opens it, and
# HPageBreaks.Add refuses past the limit (1004, the server's replay stopped halfway);
# XlsxWriter, which measured it, keeps 1,023. A 20,000-indicator 一覧 needs more (1,250):
# past this many pages Excel places the breaks itself, and a merged cell running over one
# of those shows its text on its first page only, as before the tool placed any.
MAX_MANUAL_BREAKS = 1_023

Rect = tuple[int, int, int, int]


def body_height(paper: str, landscape: bool, margins: tuple[float, float, float, float]) -> float:
    """Points of rows one page holds at 100 % (margins in inches: left, right, top, bottom)."""
    width, height = PAPER_POINTS[paper]
    if landscape:
        width, height = height, width
    return height - (margins[2] + margins[3]) * 72


def paginate(heights: Mapping[int, float], first: int, last: int, capacity: float,
             repeated: float = 0.0, blocks: Sequence[tuple[int, int]] = (),
             default: float = 15.0) -> list[int]:
    """The last row of every page but the last (1-based rows ``first``..``last``), at most
    MAX_MANUAL_BREAKS of them.

    Rows before ``first`` (title, legend, header) open the first page; every later page
    opens with ``repeated`` points of header rows. A break that would fall inside one of
    ``blocks`` (first, last row of a project) moves to before the block while the page
    stays at least KEEP_TOGETHER full.
    """
    limit = capacity * FILL
    used = sum(heights.get(r, default) for r in range(1, first))
    block_of = {r: b for b in blocks for r in range(b[0], b[1] + 1)}
    breaks: list[int] = []
    page_first = first
    r = first
    while r <= last and len(breaks) < MAX_MANUAL_BREAKS:
        h = heights.get(r, default)
        if used + h <= limit or r == page_first:
            used += h
            r += 1
            continue
        end = r - 1
        block = block_of.get(r)
        if block and block[0] > page_first and block[0] <= end:
            kept = used - sum(heights.get(x, default) for x in range(block[0], r))
            if kept >= limit * KEEP_TOGETHER:
                end = block[0] - 1
        breaks.append(end)
        page_first = end + 1
        used = repeated
        r = page_first
    return breaks


def split_merges(merges: Sequence[Rect], breaks: Sequence[int]) -> list[Rect]:
    """Merged rectangles cut at every page break (1-based rows; ``breaks`` are last rows of
    pages); a part that is a single cell is no longer a merge."""
    ends = sorted(breaks)
    out: list[Rect] = []
    for r1, c1, r2, c2 in merges:
        start = r1
        for b in ends[bisect_left(ends, r1):bisect_left(ends, r2)]:     # r1 <= b < r2
            out.append((start, c1, b, c2))
            start = b + 1
        out.append((start, c1, r2, c2))
    return [m for m in out if (m[0], m[1]) != (m[2], m[3])]


# What a header or a footer holds, its codes (&L, &C, &9, &P …) counted (Excel specifications
# and limits: 255 characters). Excel refuses a longer one, in ページ設定 and through
# PageSetup's properties; a file holding one it does not print.
HEADER_FOOTER_MAX = 255


def footer_problem(sheet: str, footer: str) -> str:
    """Why the footer a write would leave on ``sheet`` (its odd pages' whole footer, the staff's
    left and right sections with the plan's centre) cannot be Excel's, "" when it can.

    The tool's sheets are made with its page number (9 characters), so staff reach the limit
    only after deleting it and filling the side sections; the plan's number put back would
    pass it. The file face refuses the write naming the sheet, as Excel refuses the buttons'
    CenterFooter: no face writes a footer Excel would not print, nor cuts the staff's text."""
    from .face import again
    from .values import cell_length

    n = cell_length(footer)
    if n <= HEADER_FOOTER_MAX:
        return ""
    return (f"シート「{sheet}」のフッターが {n:,} 文字になり、Excel の上限 {HEADER_FOOTER_MAX} 文字を超えます"
            "（ページ設定の左・右のフッターに、ツールが中央に入れるページ番号を合わせた長さです）。"
            f"ページ設定で左か右のフッターを短くしてから、もう一度{again()}ください（何も書き込んでいません）")

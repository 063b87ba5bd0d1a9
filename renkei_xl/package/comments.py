"""The notes (comments) staff put on a sheet's cells, as the package keeps them.

Read only, to say what a rewrite of one of the tool's sheets takes away: 評価を再計算
rebuilds 一覧 and 集計 whole (the file face writes new parts, the buttons' Clear All clears
notes with the cells), so a note staff put there is named rather than lost unseen. Excel
keeps every note, and the legacy part of every threaded comment, in the comments part the
sheet's relationships name; its text is the runs of ``<t>`` under each ``<comment>``.

A part that cannot be read (broken XML, a DTD) names no notes, on every face alike: the
buttons read the saved master's, and a sheet about to be rebuilt is no reason to stop
評価を再計算 on the command line only (its part goes with the old sheet).
"""

from __future__ import annotations

from typing import Optional

from ..core.refs import cell_ref, parse_ref
from .rels import read_rels
from .workbook import WorkbookXml
from .xml import MAIN_NS, PackageError, q, streamed
from .zipped import Package

T_COMMENTS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments"
# Strict OOXML (ISO 29500 strict) names the relationship under its own namespace.
T_COMMENTS_STRICT = "http://purl.oclc.org/ooxml/officeDocument/relationships/comments"


def sheet_comments(pkg: Package, workbook: WorkbookXml, sheet: str) -> list[tuple[str, str]]:
    """(cell reference, text) of each note on ``sheet``, in the part's order; none when the
    sheet has no comments part (or is not in the workbook)."""
    entry = workbook.sheet(sheet)
    if entry is None or entry.part is None:
        return []
    out: list[tuple[str, str]] = []
    for rel in read_rels(pkg, entry.part):
        if rel.type not in (T_COMMENTS, T_COMMENTS_STRICT) or rel.part is None:
            continue
        data = pkg.get(rel.part, parser_read=True)
        if data is None:
            continue
        try:
            out += streamed(data, rel.part, _Notes())
        except PackageError:
            continue
    return out


class _Notes:
    """An XMLParser target that keeps (cell, text) of each ``<comment>`` (its ``<t>`` runs)
    and no element. Read as a tree, a part of more than MAX_TREE_TAGS tags (about 36,000
    Excel notes on one sheet) was refused, and that sheet's notes were dropped without a
    word: 評価を再計算 then rebuilt 一覧 over notes nobody was told of."""

    _COMMENT, _T = q(MAIN_NS, "comment"), q(MAIN_NS, "t")

    def __init__(self):
        self.notes: list[tuple[str, str]] = []
        self.ref: Optional[str] = None
        self.runs: list[str] = []
        self.in_run = False

    def start(self, tag: str, attrib: dict) -> None:
        if tag == self._COMMENT:
            self.ref, self.runs = attrib.get("ref", ""), []
        elif tag == self._T and self.ref is not None:
            self.in_run = True

    def data(self, text: str) -> None:
        if self.in_run:
            self.runs.append(text)

    def end(self, tag: str) -> None:
        if tag == self._T:
            self.in_run = False
        elif tag == self._COMMENT and self.ref is not None:
            self.notes.append((_cell(self.ref), "".join(self.runs).strip()))
            self.ref = None

    def close(self) -> list[tuple[str, str]]:
        return self.notes


def _cell(ref: str) -> str:
    """A note's cell as a reference, "" where its ``ref`` names none (a hand-made part):
    the note is still named, by its sheet, never a traceback on a place that is none."""
    try:
        row, col = parse_ref(ref)
    except ValueError:
        return ""
    return cell_ref(row, col) if row >= 1 and col >= 1 else ""

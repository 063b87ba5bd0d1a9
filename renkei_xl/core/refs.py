"""Cell addresses and sheet names as formulas and links spell them: the one place that
turns (row, column) into "AB12" and back and quotes a sheet name.

It imports nothing, so the plan's types, the readers and both appliers can use it without
pulling anything else in. (openpyxl has the same helpers; the core imports no Excel
library.)
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from functools import lru_cache
from typing import Iterable, Optional, Sequence


# Excel's grid, A1 … XFD1048576: no cell, name or table of a workbook lies past it.
LAST_ROW, LAST_COLUMN = 1_048_576, 16_384
# What a sheet the tool reads may span, well inside that grid (workbook.sheet_checks.
# check_extent measures it, and says why): a sheet past it is refused by every command, so
# no plan writes past it either (plan_types.WritePlan.refuse_past_the_extent).
MAX_ROWS, MAX_COLUMNS, MAX_CELLS = 200_000, 1_000, 4_000_000
# The least width calamine reads a sheet as (A … Z), which its cells are counted by.
LEAST_COLUMNS_READ = 26
# The most digits of a row's number and of a column's, and letters of a column (XFD): the one
# bound of every pattern that finds a cell, row or column in a part's text. A number spelt
# longer names nothing on the grid, and one of 5,000 digits stopped commands in int()
# (qa-fuzz61) where a pattern of its own took any number of digits.
ROW_DIGITS, COLUMN_DIGITS, COLUMN_LETTERS = len(str(LAST_ROW)), len(str(LAST_COLUMN)), 3
# A cell's address as a part or a client spells it (「B3」, no $), within those bounds.
CELL_ADDRESS = f"[A-Z]{{1,{COLUMN_LETTERS}}}[0-9]{{1,{ROW_DIGITS}}}"


# Excel's 16,384 columns (A … XFD): every column a sheet has; a cache without a bound kept any
# other number it was asked, for the life of a server worker.
@lru_cache(maxsize=LAST_COLUMN)
def column_letter(index: int) -> str:
    """1 → A, 28 → AB (openpyxl has this too; the core imports no Excel library)."""
    letters = ""
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_ref(row: int, col: int) -> str:
    return f"{column_letter(col)}{row}"


def quote_sheet(name: str) -> str:
    """A sheet name as a formula or link names it: quoted, an apostrophe doubled
    (「'小樽市'」, 「'O''Brien'」); Excel reads a link with a lone ' inside as broken."""
    return "'" + name.replace("'", "''") + "'"


# A defined name's target as workbook.xml and Excel's Name.RefersTo spell it: "=設定!$B$3",
# "'さっぽろ 圏'!$B$3:$C$4" (a doubled '' inside the quotes is one ').
_NAMED_RANGE = re.compile(rf"=?(?:'((?:[^']|'')+)'|([^'!]+))!\$?([A-Z]{{1,{COLUMN_LETTERS}}})\$?(\d+)"
                          rf"(?::\$?([A-Z]{{1,{COLUMN_LETTERS}}})\$?(\d+))?")


class NameMap(dict):
    """The contract's names as {name: (sheet, first cell)}, with ``unresolved``: the names
    whose definition is no one range (「設定!#REF!」 after its cells were deleted, a
    formula), by name, so that a broken name is told apart from a missing one; and
    ``spans``: the whole range ("B3:B6") of each name over more than one cell, so that a
    setting read from its first cell is not a guess (contract_read.Book.named); and
    ``scoped``: each name defined also (or only) for one sheet, as (that sheet, its
    definition), which Excel's 名前の管理 lists beside the workbook's. A face that cannot
    tell passes a plain dict."""

    def __init__(self, *args, unresolved: Optional[dict[str, str]] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.unresolved = unresolved or {}
        self.spans: dict[str, str] = {}
        self.scoped: dict[str, list[tuple[str, str]]] = {}

    def add_scoped(self, name: str, sheet: str, refers_to: str) -> None:
        """``name`` defined for ``sheet`` alone (its 範囲 in 名前の管理), as ``refers_to``."""
        self.scoped.setdefault(name, []).append((sheet, refers_to.strip().removeprefix("=")))

    def add(self, name: str, refers_to: str) -> None:
        """``name`` as ``refers_to`` defines it: (sheet, first cell), its span when it has
        one, or its definition among the unresolved. Both faces fill the map with this."""
        target = named_cell(refers_to)
        if target is None:
            self.unresolved[name] = refers_to.strip().removeprefix("=")
            return
        self[name] = target
        span = named_span(refers_to)
        if span is not None:
            self.spans[name] = span


def named_cell(refers_to: str) -> Optional[tuple[str, str]]:
    """(sheet, "B3"): the sheet and first cell of a name that refers to one cell or one
    range, quote_sheet undone; None for anything else (a constant, a formula, several
    areas). Both faces read the contract's names with it."""
    m = _NAMED_RANGE.fullmatch(refers_to.strip())
    if not m or not _on_the_grid(m):
        return None
    sheet = m.group(1).replace("''", "'") if m.group(1) else m.group(2)
    # 「$B$00000003」 is B3 (parse_ref's reading, Excel's): the cell, spelt as every reader
    # and writer of a place spells it, not 「B00000003」, which a write put in a cell's r.
    return sheet, f"{m.group(3)}{m.group(4).lstrip('0')}"


def named_past_the_grid(refers_to: str) -> bool:
    """Whether a name's target is spelt as a range but reaches past Excel's grid
    (「設定!$B$1048577」「設定!$ZZZ$3」): no cell, so ``named_cell`` gives None, and the
    refusal says where the grid ends rather than that a row was deleted."""
    m = _NAMED_RANGE.fullmatch(refers_to.strip())
    return m is not None and not _on_the_grid(m)


def _on_the_grid(m: "re.Match") -> bool:
    """Whether both ends of a name's range (_NAMED_RANGE's match) lie on Excel's grid. A name
    in a hand-edited or hostile workbook.xml may say 「設定!$B$1048577」: read, it was an
    empty cell staff were told to fill; 最終実行日時 so named had validate write row
    99,999,999,999 of メニュー, a file Excel calls damaged; and a row of 5,000 digits
    stopped the command with a ValueError (int() refuses past 4,300 digits) (qa-fuzz61)."""
    return on_the_grid(f"{m.group(3)}{m.group(4)}") and (m.group(5) is None or on_the_grid(f"{m.group(5)}{m.group(6)}"))


def named_span(refers_to: str) -> Optional[str]:
    """"B3:C4": the range a name refers to when it is more than one cell; None otherwise."""
    m = _NAMED_RANGE.fullmatch(refers_to.strip())
    if not m or m.group(5) is None or (m.group(5), m.group(6)) == (m.group(3), m.group(4)):
        return None
    return f"{m.group(3)}{m.group(4)}:{m.group(5)}{m.group(6)}"


def area_holding(row: int, col: int, areas: Sequence[tuple[int, int, int, int]]
                 ) -> Optional[tuple[int, int, int, int]]:
    """The first of ``areas`` (first row, first col, last row, last col) that holds the cell:
    a merged area over an input (contract_read.merged_inputs) and one a write would go into
    (plan_types.WritePlan) are found alike."""
    return next((a for a in areas if a[0] <= row <= a[2] and a[1] <= col <= a[3]), None)


def areas_holding(cells: Iterable[tuple[int, int]], areas: Sequence[tuple[int, int, int, int]]
                  ) -> dict[tuple[int, int], tuple[int, int, int, int]]:
    """Each of ``cells`` (row, col) that one of ``areas`` holds -> the first holding it, as
    ``area_holding`` answers cell by cell. Asked area by area, of the cells in its columns and
    rows (the rows bisected): asking every cell of every area cost the cells times the areas,
    7 CPU s for one returned sheet of 20,000 indicator rows whose 連携事業名 were merged
    project by project (5,000 areas over no input), where each area holds a few of them.
    Neither is an area's own rows walked (one may reach past Excel's grid)."""
    columns: dict[int, dict[int, None]] = {}       # row -> its cells' columns, in their order
    for row, col in cells:
        columns.setdefault(row, {})[col] = None
    rows = sorted(columns)
    asked = set().union(*columns.values()) if columns else set()
    out: dict[tuple[int, int], tuple[int, int, int, int]] = {}
    for area in areas:
        r1, c1, r2, c2 = area
        if not any(c1 <= col <= c2 for col in asked):
            continue
        for row in rows[bisect_left(rows, r1):bisect_right(rows, r2)]:
            for col in columns[row]:
                if c1 <= col <= c2 and (row, col) not in out:
                    out[row, col] = area
    return out


def on_the_grid(address: str) -> bool:
    """Whether every cell, column and row an address names (「B3」, 「$A$1:$C$5」, 「A:C」,
    「1:3」) lies on Excel's grid. A hand-made request to the server named 「ZZZ1」 or 「B0」 as a
    setting's cell: xlwings' remote engine failed on the column (a 500), and a row past the
    grid was read as an empty cell staff were told to fill (「設定!B1048577」). A part is
    measured by parse_ref, the grid's one rule: a column alone as its first row, a row alone
    as its first column."""
    for part in address.replace("$", "").upper().split(":"):
        letters = part.rstrip("0123456789")
        digits = part[len(letters):]
        if not (letters or digits):
            return False
        try:
            parse_ref((letters or "A") + (digits or "1"))
        except ValueError:
            return False
    return True


# A cell's address: its column's letters, its row's digits after any leading zeros (int()
# counts them toward its 4,300 digits; 「B030」 is B30, as Excel and calamine read it).
_CELL_ADDRESS = re.compile(rf"\$?([A-Z]{{1,{COLUMN_LETTERS}}})\$?0*([0-9]{{1,{ROW_DIGITS}}})")


def parse_ref(ref: str) -> tuple[int, int]:
    """(row, column) of a cell of Excel's grid (「B3」「$AB$12」); ValueError for anything
    else, a text that is no address or one past the grid (row 0, a row past 1,048,576 or of
    more than 7 digits, a column past XFD). Every reader of an address, from a file, a
    request or the tool's own plan, gets a cell Excel has or this error: unbounded, a row
    of 4,000 digits came back as an int of 4,000 digits to ~70 callers, some of which wrote
    it (a file Excel calls damaged), and one of 5,000 raised int()'s own ValueError deep in
    whichever caller read it first (qa-fuzz61's guards were caller by caller)."""
    m = _CELL_ADDRESS.fullmatch(ref.strip().upper())
    if m:
        row, col = int(m.group(2)), column_number(m.group(1))
        if 1 <= row <= LAST_ROW and col <= LAST_COLUMN:
            return row, col
    raise ValueError(f"no cell of Excel's grid: {ref[:20]!r}")


def column_number(letters: str) -> int:
    """A column's number from its capital letters (「AB」 -> 28), past the grid too (「XFE」
    -> 16,385): the one reading of a column's letters, which package.cells, the sheet checks
    and formula_refs each had a loop of their own for."""
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return col

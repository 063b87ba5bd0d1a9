"""Excel's error values as Excel for Mac hands them over, put back as their text.

Through AppleScript a cell holding an error value has no value: ``value`` gives
``missing value``, which xlwings reads as an empty cell (None), the same as a blank one.
xlwings' ``err_to_str`` would take the classic seven from the range's ``string_value``
(what each cell shows, Range.Text), but its Mac code cannot run on a range of more than one
row: ``_xlmac.Range.raw_value``'s ``ensure_2d`` returns nothing for a list of lists, and the
loop over it raises TypeError (xlwings 0.37.8 and its main branch; its own test reads single
cells only). So with ``err_to_str`` every button that reads a sheet failed on a Mac, and
without it a #N/A or #SPILL! in 実績値 read as an empty cell.

The shown text is read here instead, once a sheet: a cell xlwings reads as empty that shows
a text holds an error value, named as Excel shows it, or UNKNOWN_ERROR when the text is
not shaped like one (Excel in another language shows #NV, #WERT!). A cell whose number
format shows nothing (;;;) cannot be told from an empty one this way.
"""

from __future__ import annotations

from typing import Sequence

from ..core.errors import UserError
from ..core.face import again
from ..core.values import UNKNOWN_ERROR, error_value

# Cells of shown text asked for in one Apple event. A reply has a size cap in bytes
# (xlwings' _xlmac ``max_cells_per_read``: 1.5 million numbers fit, texts take more), and a
# shown text can be a long 実施状況: well below it.
SHOWN_CELLS = 200_000


def rows_2d(value: object) -> list[list[object]]:
    """An AppleScript range reply as rows: a single cell comes as its value, one row as a list."""
    if not isinstance(value, list):
        return [[value]]
    if value and not isinstance(value[0], list):
        return [value]
    return value


def with_shown_errors(sheet: str, rows: list[list[object]], shown: Sequence[Sequence[object]]) -> list[list[object]]:
    """``rows`` (in place; returned) with each error cell's text where xlwings read None.

    Excel for Mac has dropped cells from a range holding error values (xlwings issues
    #1924, #1188): values that no longer line up with what the cells show would be read
    into the wrong columns, so such a read is refused rather than guessed at."""
    if len(rows) != len(shown) or any(len(r) != len(s) for r, s in zip(rows, shown)):
        raise UserError(f"シート「{sheet}」の値を Excel から正しく読み取れませんでした（Mac の Excel は、エラー値"
                        "（#N/A など）のあるセル範囲の値を欠けたまま返すことがあります）。シートのエラー値を直して"
                        f"から、もう一度{again()}ください")
    for row, texts in zip(rows, shown):
        for col, value in enumerate(row):
            if value is None and isinstance(texts[col], str) and texts[col] != "":
                row[col] = error_value(texts[col]) or UNKNOWN_ERROR
    return rows

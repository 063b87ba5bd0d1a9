"""A number in a master's input cell whose number format shows a percent, read as the
percent it shows: 1 in a 「0%」 cell is 100%, 0.85 in 「0.0%」 85%.

Why: Excel stores 「100%」 typed into a 標準 cell as 1 and gives the cell the format 0%, and
once a cell is 0%, 85 typed is stored as 0.85 (its automatic percent entry). The master's
readers read the stored number alone, so 1 on a row whose target is 75% was judged 1% ×
without a word, on both faces. A returned file was already read as it shows
(cycle.collect.inspect: core.displayed.number_read); the master is read by the same
function (``percent_read``), only where the section the number is shown by is a percentage
(words and thousands a master cell's format may show are left as they were read). The
faces supply the formats (read_contract's ``formats``): the file face from the file's
styles, the server from the saved master (excel.remote), which cannot tell the format of a
number typed since the save into an unsaved book; such a number where a percent would
change the judgement is refused, naming its cell (``unknown_format_findings``), never
guessed.
"""

from __future__ import annotations

from typing import Callable, Iterable, Optional

from . import findings as F
from .displayed import number_read, percent_shown

# The least stored number a percentage format shows as a percentage no % row is expected to
# hold: 2 is 200%. 85 in a 0% cell (「8500%」) is most likely 85 typed before the cell was given
# the format: refused (findings.PERCENT_FORMATTED_AFTER), on a returned file and on the master.
PERCENT_AFTER = 2

# The number input cells a percent format is read on (contract fields): 実績値 and 分母 of a
# municipality's sheet, 指標's 実績値（手入力）, 基準値 and 目標値.
READ_AS_SHOWN = frozenset(("value", "denominator", "actual_manual", "baseline", "target"))
# Of those, the cells a number typed as a percent is judged by as a count of % (values whose
# format a face cannot tell are looked at: ``unknown_format_findings``).
JUDGED_AS_PERCENT = frozenset(("value", "actual_manual"))


def percent_read(value: object, number_format: str) -> Optional[str]:
    """The text a number is read as where the section of ``number_format`` it is shown by is
    a percentage (1 in 0% → 「100%」, 0.855 in 0% → 「85.5%」: every digit kept, as collect
    reads a returned cell), else None."""
    if type(value) not in (int, float) or percent_shown(value, number_format) is None:
        return None
    return number_read(value, number_format)


def formatted_after(value: object, number_format: str) -> Optional[str]:
    """What a cell shows where a percentage format shows its number as PERCENT_AFTER (200%)
    or more, else None (findings.PERCENT_FORMATTED_AFTER)."""
    if type(value) not in (int, float) or value < PERCENT_AFTER:
        return None
    return percent_shown(value, number_format)


def unsure_percent(value: object) -> bool:
    """Whether a bare number in a cell of a row counted in % reads as another judgement under
    a percent format than without one and is not already refused: 1 is 1% or 100%, 1.05 is
    1.05% or 105%. Under 1 is refused either way (findings.PERCENT_AS_FRACTION), and from
    PERCENT_AFTER a percent format is refused (PERCENT_FORMATTED_AFTER)."""
    return type(value) in (int, float) and 1 <= value < PERCENT_AFTER


def unknown_format_findings(cells: Iterable[tuple[str, int, int, object, str]], records: dict,
                            unsure: Callable[[str, int, int, object], bool]) -> list:
    """The cells (sheet, row, col, number, field) holding a number ``unsure_percent`` calls
    ambiguous whose format the face cannot tell (``unsure``: an unsaved edit on the server),
    on a row counted in % (the indicator's input unit; a 比率's 実績値 is a count, and has
    none): each refused, naming the cell. ``records``: (sheet, row) → its indicator."""
    from .methods import input_unit
    from .refs import cell_ref
    from .values import unit_family

    out = []
    for sheet, row, col, number, field in cells:
        ind = records.get((sheet, row))
        if ind is None or field not in JUDGED_AS_PERCENT:
            continue
        unit = input_unit(ind)
        if unit is None or unit_family(unit) != "%":
            continue
        if unsure(sheet, row, col, number):
            label = "実績値（手入力）" if field == "actual_manual" else "実績値"
            out.append(F.PERCENT_FORMAT_UNSAVED.at(sheet, cell_ref(row, col), ind.id, label=label,
                                                   value=_plain(number), percent=_plain(number * 100) + "%"))
    return out


def _plain(number: float) -> str:
    from .contract_read import text

    return text(float(number))

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
styles, the server from what the master's VBA sends (X-Renkei-Percents, client 7:
server.percent_header, unsaved edits included), or, where it sends nothing, from the saved
master (excel.remote), which cannot tell the format of a number typed since the save into an
unsaved book; such a number where a percent would change the judgement is refused, naming its
cell (``unknown_format_findings``), never guessed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Callable, Mapping, Optional

from .lazy_pattern import LazyPattern
from . import findings as F
from .displayed import number_read, percent_shown, plain_format, shown_otherwise, sign_shown_otherwise

# The least stored number a percentage format shows as a percentage no % row is expected to
# hold: 2 is 200%. 85 in a 0% cell (「8500%」) is most likely 85 typed before the cell was given
# the format: refused (findings.PERCENT_FORMATTED_AFTER), on a returned file and on the master.
PERCENT_AFTER = 2

# The number input cells a percent format is read on (contract fields): 実績値 and 分母 of a
# municipality's sheet, 指標's 実績値（手入力）, 基準値 and 目標値.
READ_AS_SHOWN = frozenset(("value", "denominator", "actual_manual", "baseline", "target"))
# The text input cells whose number is asked only whether its format shows it with another
# sign than it has (core.displayed.sign_shown_otherwise): 実施状況 and 実施状況（手入力）. A
# status is read as the text typed, and -12 in 「0;0」 was read 「-12」 where the cell shows 12
# (qa-values64c); which one was meant is a guess, as for a 実績値, so it is refused. Its other
# formats (a percentage, words) are left as they were read: a status is no figure.
SIGN_ONLY = frozenset(("status", "status_manual"))


def read_on(sheet_name: str) -> bool:
    """Whether a face looks for percent formats on this sheet at all: not on 設定 (its 0.0%
    概ね達成閾値 is read as a ratio; following it loaded the saved master on every click) nor
    on the tool's own sheets, which hold none of READ_AS_SHOWN. One rule for the server and
    the desktop, which each ask something per sheet (the saved master, Excel)."""
    from . import contract as c

    return sheet_name != c.SETTINGS and not c.is_tool_owned(sheet_name)


def percent_read(value: object, number_format: str) -> Optional[str]:
    """The text a number is read as where the section of ``number_format`` it is shown by is
    a percentage (1 in 0% → 「100%」, 0.855 in 0% → 「85.5%」: every digit kept, as collect
    reads a returned cell), else None. Not one shown with another sign than it has (-0.5 in
    「0%;0%」 shows 50%, 0.5 in 「"▲"0%」 ▲50%: core.displayed.sign_shown_otherwise): read as
    shown it was 50% on both faces, where the cell holds -50%, and which one staff meant is a
    guess, as for -12 in 「0;0」; shown_otherwise refuses it, naming what it shows."""
    if (type(value) not in (int, float) or percent_shown(value, number_format) is None
            or sign_shown_otherwise(value, number_format) is not None):
        return None
    return number_read(value, number_format)


class PercentFormats:
    """What a face hands core.contract_read.read_contract: the cells of a sheet whose number
    format has a percent sign, with that format (``cells``: sheet → {(row, col): format}),
    the fields read by it, the reading, and the findings on what was read so. The reader
    is handed this rather than importing it: core.displayed uses the reader's ``text``."""

    FIELDS = READ_AS_SHOWN | SIGN_ONLY

    def __init__(self, cells: Callable[[str], Mapping[tuple[int, int], str]]):
        self.cells = cells

    @staticmethod
    def read(value: object, number_format: str, field: str = "value") -> Optional[str]:
        return None if field in SIGN_ONLY else percent_read(value, number_format)

    @staticmethod
    def otherwise(value: object, number_format: str, field: str = "value") -> Optional[str]:
        """What the cell shows where its format shows the number otherwise and it is not
        read as shown (core.displayed.shown_otherwise), else None; of a status (SIGN_ONLY),
        only where it shows another sign than the number has (sign_shown_otherwise)."""
        if field in SIGN_ONLY:
            return None if plain_format(number_format) else sign_shown_otherwise(value, number_format)
        return shown_otherwise(value, number_format)

    @staticmethod
    def findings(percents, indicators, entries) -> list:
        """The numbers read as a percent (``percents``: (sheet, row, col, number, format,
        field)) that their format shows as PERCENT_AFTER or more: F.PERCENT_FORMATTED_AFTER,
        as on a returned file, the row －."""
        from . import contract as c
        from .contract_read import text
        from .refs import cell_ref
        from .values import shown

        ids = {(i.sheet, i.row): i.id for i in indicators}
        ids.update({(e.sheet, e.row): e.indicator_id for e in entries})
        labels = {**c.ENTRY_HEADERS, **c.INDICATOR_HEADERS}
        out = []
        for sheet, row, col, value, fmt, field in percents:
            if seen := formatted_after(value, fmt):
                out.append(F.PERCENT_FORMATTED_AFTER.at(sheet, cell_ref(row, col), ids.get((sheet, row), ""),
                                                        label=labels[field], shown=shown(seen),
                                                        value=shown(text(value))))
        return out

    @staticmethod
    def otherwise_findings(cells, indicators, entries) -> list:
        """The numbers whose format shows them otherwise (``cells``: (sheet, row, col, number,
        format, field, shown)): each refused, naming what the cell shows
        (findings.SHOWN_OTHERWISE), the row －."""
        from . import contract as c
        from .contract_read import text
        from .refs import cell_ref

        ids = {(i.sheet, i.row): i.id for i in indicators}
        ids.update({(e.sheet, e.row): e.indicator_id for e in entries})
        labels = {**c.ENTRY_HEADERS, **c.INDICATOR_HEADERS}
        return [F.shown_otherwise(sheet, cell_ref(row, col), ids.get((sheet, row), ""), label=labels[field],
                                  value=text(value), number_format=fmt, seen=seen)
                for sheet, row, col, value, fmt, field, seen in cells]


# The number format a cell is given where the tool writes a number into a percent one.
GENERAL = "General"


def written_format(value: object, number_format: Optional[str]) -> Optional[str]:
    """The format a master input cell of ``number_format`` is given where the tool writes the
    number ``value`` into it (collect's plan): 標準 (GENERAL) where the format would show the
    number as a percent (``percent_read``), else None (the cell keeps its own).

    Why: a return's 85 (85%) written into a cell staff once typed 「100%」 into, which Excel
    gave the format 0% (this year's, or last year's kept by rollover), showed 「8500%」 and was
    refused as a percent format added afterwards (PERCENT_FORMATTED_AFTER), though staff never
    typed it. In 標準 the cell shows what the return showed, and reads as collect read it.

    Why not 0.85 (value / 100) under the staff's 0%: the format's decimals would hide digits
    the return had (85.5 shows 「86%」 under 0%, and a book set to precision as displayed
    stores 0.86), the division leaves binary tails (1.1 / 100 is 0.011000000000000001, read
    back 「1.1000000000000001%」), and it would be a second rule of what a percent means for
    the numbers only the tool wrote. The reader then reads the cell as the return was read.

    Why here and not in rollover (an emptied input cell keeps its format): the same cell is
    made within a year (staff type 「100%」, a return comes later), so the write is where the
    rule must live anyway; a format on an empty cell misleads no one (Excel's percent entry
    stores 85 typed into a 0% cell as 0.85, 85%), and it is the staff's look to keep."""
    if number_format and (percent_read(value, number_format) is not None
                          or shown_otherwise(value, number_format) is not None):
        # and where it would show the number otherwise (約85, nothing): the master's reader
        # refuses such a cell (findings.SHOWN_OTHERWISE), so the tool's own write must not make one
        return GENERAL
    return None


def formatted_after(value: object, number_format: str) -> Optional[str]:
    """What a cell shows where a percentage format shows its number as PERCENT_AFTER (200%)
    or more, else None (findings.PERCENT_FORMATTED_AFTER)."""
    if type(value) not in (int, float) or value < PERCENT_AFTER:
        return None
    return percent_shown(value, number_format)


# A bare number a percent format would read as another judgement on a row counted in %: 1 is
# 1% or 100% (「100%」 typed), 2.5 is 2.5% or 250%. Up to 10 (1000%): a rate typed with its %
# sign as far as a % row's figures go (達成率, 前年比); at first only 1 to 2 was refused, and
# 「250%」 typed into an unsaved book was read as 2.5% and judged × without a word. From 10, a
# bare number is read as typed. Under 1 too (0.85 is 「85%」 typed, or 85 typed into a cell
# already 0%, Excel's percent entry): without a format it is refused as PERCENT_AS_FRACTION,
# whose advice (type 85) stores 0.85 again in a 0% cell, so staff could not get past it without
# the save no message asked for (faces walker, qa-122); the save decides it, as for 1.
# As the reader's text of the number (contract_read.text).
_UNSURE = LazyPattern(r"0\.\d*[1-9]\d*|[1-9](?:\.\d+)?")


def unknown_format_findings(data, unsure: Callable[[str, str, str], bool]) -> list:
    """The 実績値 and 実績値（手入力） of rows counted in % (the indicator's input unit; a 比率's
    実績値 is a count, and has none), and the 目標値 of 比率 and 自動 rows and of rows whose
    municipality sheets show % as their 単位, holding a bare number a percent format would read
    otherwise (_UNSURE) whose format the face cannot tell (``unsure(sheet, cell, text)``:
    an unsaved edit on the server): each refused, naming the cell, never read as a guess."""
    from . import contract as c
    from .methods import input_unit, method_of
    from .values import typed_percent, unit_family

    by_id = {i.id: i for i in data.indicators}
    shown_units: dict[str, set] = {}     # 指標ID → the 単位 its municipality rows show
    for e in data.entries:
        if type(e.unit) is str and e.unit:
            shown_units.setdefault(e.indicator_id, set()).add(e.unit)
    out = []
    # Each cell named by its column's header on its sheet: 指標's, or a municipality sheet's.
    for record, field, heads in [*((i, "actual_manual", c.INDICATOR_HEADERS) for i in data.indicators),
                                 *((e, "value", c.ENTRY_HEADERS) for e in data.entries),
                                 *((i, "target", c.INDICATOR_HEADERS) for i in data.indicators)]:
        typed = getattr(record, field)
        if type(typed) is not str or not _UNSURE.fullmatch(typed):
            continue
        ind = record if field != "value" else by_id.get(record.indicator_id)
        if field == "target":
            # The target is what says a row counts in %, and it is the number in doubt: its
            # 集計方法 or the 単位 the municipality sheets show (written from the target when
            # they were made) says it instead. Read as typed, 「105%」 typed became a target of 1.05 with no
            # unit, and the municipalities' 68% were the cells named (faces walker, qa-122).
            # A 比率's or a 達成割合 (自動) row's target is a share whatever was typed: 「80%」
            # typed as 01-1's target was 0.8, and 74.6% judged ◎ against it on the button.
            method = method_of(record)
            if not (method is not None and (method.rates_others or method.denominator)
                    or any(unit_family(u) == "%" for u in shown_units.get(record.id, ()))):
                continue
        else:
            unit = input_unit(ind) if ind is not None else None
            if unit is None or unit_family(unit) != "%":
                continue
        sheet, ref = record.sheet or getattr(record, "municipality", ""), record.cells.get(field)
        if ref and unsure(sheet, ref, typed):
            out.append(F.PERCENT_FORMAT_UNSAVED.at(sheet, ref, ind.id, label=heads[field], value=typed,
                                                   percent=typed_percent(Decimal(typed))))
    return out

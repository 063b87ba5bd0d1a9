"""検証結果: the findings a run lists (at most SHOWN_FINDING_ROWS, then one count row), with
links to their cells and the fill each marked cell had before (renkei_xl.core.marks)."""

# No ``from __future__ import annotations``: typing.NamedTuple compiles each string
# annotation (a ForwardRef) when the module is imported, at every command's start.

from typing import Mapping, NamedTuple, Optional, Sequence

from . import contract as c
from .layout import findings_grid
from .looks import print_setup
from .marks import fill_text, normal_ref
from .model import ERROR, Finding
from .plan_types import SheetPlan
from .refs import quote_sheet
from .sheet_grid import fitted_heights, sheet_from_grid
from .values import count_text

FINDING_WIDTHS = (8, 14, 8, 10, 70, 50, 10)

# 検証結果 lists at most this many findings, then one row that counts the rest.
SHOWN_FINDING_ROWS = 1_000
SHOWN_BUSY_SHEETS = 5     # sheets named in the count row, most findings first


class Shown(NamedTuple):
    """The findings 検証結果 lists and what its count row says of the others."""
    findings: list[Finding]
    omitted: int
    note: Optional[str]      # the count row's text; None when nothing is left out


def shown_findings(findings: Sequence[Finding], limit: int = SHOWN_FINDING_ROWS) -> Shown:
    """Which findings 検証結果 lists: all of them up to ``limit``, else errors before warnings
    (each in their own order), the rest counted in one row naming the sheets they are on.

    One rule for every face: a sheet with 150,000 stray rows would otherwise be 150,000
    rows with links and marks, which no Excel client replays in time (the server issue).
    Only listed findings are marked, so every mark has its row on 検証結果 and the next
    run can lift it with the fill recorded there.
    """
    if len(findings) <= limit:
        return Shown(list(findings), 0, None)
    errors = [i for i, f in enumerate(findings) if f.is_error]
    keep = set(errors[:limit])
    if len(keep) < limit:
        keep.update([i for i, f in enumerate(findings) if not f.is_error][:limit - len(keep)])
    shown = [f for i, f in enumerate(findings) if i in keep]
    rest = [f for i, f in enumerate(findings) if i not in keep]
    n_errors = sum(1 for f in rest if f.is_error)
    per_sheet: dict[str, int] = {}
    for f in rest:
        per_sheet[f.sheet] = per_sheet.get(f.sheet, 0) + 1
    busy = sorted(per_sheet.items(), key=lambda kv: -kv[1])
    where = "、".join(f"「{s}」{count_text(n)} 件" for s, n in busy[:SHOWN_BUSY_SHEETS] if s)
    if len(busy) > SHOWN_BUSY_SHEETS:
        where += " ほか"
    note = (f"ほかに {count_text(len(rest))} 件（エラー {count_text(n_errors)} 件、警告 {count_text(len(rest) - n_errors)} 件）"
                    f"あります。表示は {count_text(limit)} 件までです" + (f"（シート{where}）" if where else "")
            # written into 検証結果, which both faces write alike: the face's own words would
            # make the master's sheet differ by who checked it last
            + "。上の行を直してから、もう一度入力チェックをすると続きが出ます。")
    return Shown(shown, len(rest), note)


# How many findings a run's message lists, on every face (the command's printout, a button's
# box, which may show fewer to fit and counts them); the rest are on 検証結果.
LISTED_FINDINGS = 10


def listed_findings(findings: Sequence[Finding], limit: int = LISTED_FINDINGS) -> Shown:
    """What the command line prints and a button's message lists of a run's findings: the
    errors, then the warnings (each in the order found), the first ``limit``; the others
    counted (``omitted``). One place for both faces: the button listed the errors alone where
    the command printed the warnings with them, for the same master; and errors first, so
    that a box cut to fit never shows warnings in their place."""
    ordered = [f for f in findings if f.is_error] + [f for f in findings if not f.is_error]
    return Shown(ordered[:limit], max(len(ordered) - limit, 0), None)


def finding_line(f: Finding) -> str:
    """One listed finding, as both faces list it: 「[エラー] 小樽市!E2 04-1: …」 on one line. An
    指標ID that is no ID (an error value, TRUE/FALSE: unread_value) is left out: the line
    showed 「指標!A8 #N/A: 指標IDがエラー値「#N/A」です」, the error bare as if it were the
    indicator's ID. It stays the finding's key (一覧's row of that ID carries its note)."""
    from .values import one_line, unread_value

    shown = f" {one_line(str(f.indicator_id))}" if f.indicator_id and not unread_value(f.indicator_id) else ""
    return f"[{f.severity}] {f.place}{shown}: {f.said}"


def findings_sheet(findings: Sequence[Finding], sheetnames: Sequence[str],
                   before: Mapping[tuple[str, str], Optional[str]]) -> SheetPlan:
    """検証結果: one row per listed finding (shown_findings), セル linked to the cell, errors
    in red, filterable; below them, outside the filter, the row that counts the others."""
    shown = shown_findings(findings)
    findings = shown.findings
    grid = findings_grid(findings)
    grid.rows[0] = [*grid.rows[0], c.FINDING_BEFORE_COLUMN]
    for i, f in enumerate(findings, start=1):
        key = (f.sheet, normal_ref(f.cell)) if f.cell else None
        grid.rows[i] = [*grid.rows[i], fill_text(before[key]) if key in before else None]
    ncols = len(c.FINDING_COLUMNS) + 1
    sheet = sheet_from_grid(c.FINDINGS, grid, ncols, FINDING_WIDTHS)
    sheet.heights = fitted_heights(grid, FINDING_WIDTHS)
    link_col = c.FINDING_COLUMNS.index("セル") + 1
    for r, f in enumerate(findings, start=2):
        if f.cell and f.sheet in sheetnames:
            sheet.links[(r, link_col)] = f"{quote_sheet(f.sheet)}!{f.cell}"
            value, _ = sheet.rows[r - 1][link_col - 1]
            sheet.rows[r - 1][link_col - 1] = (value, "link")
        if f.severity == ERROR:
            value, _ = sheet.rows[r - 1][0]
            sheet.rows[r - 1][0] = (value, "error")
    if shown.note:
        sheet.rows.append([(shown.note, "note")])
    sheet.freeze = (2, 1)
    # Staff print it to work through the cells: one page wide, the header on every page
    # (it had no page at all: A4 portrait at 100 %, the 内容 column on pages of its own).
    sheet.print_setup = print_setup("a4", title_rows=(1, 1))
    if findings:
        sheet.autofilter = (1, 1, len(findings) + 1, len(c.FINDING_COLUMNS))
    sheet.hidden_cols = {ncols}
    return sheet

"""A return of a year whose next year's master is already made (a late return).

Rollover writes the closed year into the new master as it stood then: the year's column
of 経年 and the 「前年度実績（YYYY年度）」 beside each row. A return collected afterwards
into the old master changes that year, and nothing carries it over by itself; a return
dropped into the new master is refused for its year. Both faces say the same, from here:

- the new master refuses the old year's file and says where it goes and how the year is
  brought into its 経年 afterwards (``other_year``, from collect.inspect);
- the old master imports it, as it should (the year's own master is the source of truth
  for its year), and warns with 【注意】 that the next year's master, found where rollover
  puts it (cycle.rollover.default_target), does not hold these values yet and how to bring
  them in (``later_lines``); the command exits 1, as rollover and export do on a warning.

``renkei-xl history import`` with the year's master carries the year again into the next
year's master (core.carry): what 経年 held for it and the 前年度実績 columns are replaced.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional, Sequence

from ...core import contract as c
from ...core.errors import UserError

SHOWN_ROWS = 10


def next_master(master: Path, year: int) -> Optional[Path]:
    """Next year's master beside ``master`` (of 対象年度 ``year``), where rollover makes it by
    default, when it is there and is that year's master; else None. A file by that name
    that cannot be read as a master is not taken for one: nothing is said then."""
    from ...safety import same_file
    from ..rollover import default_target, fiscal_year_of

    later = default_target(Path(master), year + 1, year)
    if not later.is_file() or same_file(later, master):
        return None
    try:
        return later if fiscal_year_of(later) == year + 1 else None
    except (UserError, OSError):
        return None


def other_year(year: str, master_year: int, master: Optional[Path] = None) -> str:
    """Why a return of another year is refused, and where it goes: a year before this
    master's is a late return of a year already rolled over, or this year's answers typed
    into last year's file; the file cannot tell which, so both are said. ``master``: this
    master's file, so that the command named is one staff can copy (import_args)."""
    from ...core.carry import catch_up
    from ...core.digits import whole_number
    from ..rollover import import_args

    from ...core.values import shown

    number = whole_number(year)
    # quoted as a cell's text is (shown): the visible block's 年度 of a file without its
    # properties may hold any text or number, and 1.8E+308 was said in 309 digits (qa-132)
    year = shown(year) if year else year
    said = f"{year or '不明'}年度のファイルです（マスターの対象年度は {master_year}年度）"
    if number is None:
        return said
    if number < master_year:
        # A late return, or this year's figures typed into last year's file, which the
        # municipality kept: told only to import it there, staff replaced the closed year's
        # figures with this year's, and carried them into this master's 経年.
        later, source, look = import_args(master, master_year, number)
        return (f"{said}。{year}年度のマスターで取り込んでください。そのあと、このマスターに反映するには、"
                + catch_up(number, later, source, master_year)
                + (f"（{look}）" if look else "")
                + f"。ただし、{master_year}年度の実績を{year}年度のファイルに入力して送ってきた"
                f"（前の年度のファイルを使った）ものなら、{year}年度のマスターには取り込まないでください"
                f"（{year}年度の実績が{master_year}年度の値で置き換わります）。"
                f"{master_year}年度の入力用ファイルに入力して送り直してもらってください")
    return f"{said}。{year}年度のマスターで取り込んでください"


def report_later_lines(report, shown: Callable[[Path], str] = str) -> list[str]:
    """The 【注意】 when the collect of ``report`` (a CollectReport) changes a year whose next
    year's master is already made (later_lines): both faces say it, the command exits 1.
    Here rather than a method of the report, so that the report's module needs nothing of
    rollover (rollover reads 取込履歴 through it: cycle.export.unreturned)."""
    return (later_lines(report.later, report.year, report.changes, shown, report.master, report.dry_run)
            if report.year is not None else [])


def later_lines(later: Optional[Path], year: int, changes: Sequence,
                shown: Callable[[Path], str] = str, source: Optional[Path] = None, dry_run: bool = False) -> list[str]:
    """The 【注意】 of a collect that changed ``year``'s values while next year's master
    ``later`` (next_master) already holds that year; nothing when there is none or
    nothing changed. ``changes``: the report's cell changes; ``source``: this year's master.
    ``dry_run``: said of what the import would do: a dry run imported nothing, and 「この
    取り込みの値がまだ入っていません」 with the step to carry them read as done."""
    from ...core.carry import catch_up

    if later is None or not changes:
        return []
    rows = list(dict.fromkeys(f"{ch.sheet} {ch.indicator_id}" for ch in changes))
    listed = "、".join(rows[:SHOWN_ROWS]) + (f" ほか {len(rows) - SHOWN_ROWS} 件" if len(rows) > SHOWN_ROWS else "")
    made = f"【注意】{year + 1}年度のマスター「{shown(later)}」が、すでに作られています。"
    columns = f"その「{c.HISTORY}」の{year}年度と「{c.PREVIOUS_HEADER.format(year=year)}」の列"
    step = catch_up(year, later.name, source.name if source else "")
    if dry_run:
        return [f"{made}取り込んでも、{columns}には、取り込む値は入りません（{listed}）。",
                f"　取り込んだあと、{step}。"]
    return [f"{made}{columns}には、この取り込みの値がまだ入っていません（{listed}）。", f"　{step}。"]

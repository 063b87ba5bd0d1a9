"""A return of a year whose next year's master is already made (a late return).

Rollover writes the closed year into the new master as it stood then: the year's column
of 経年 and the 「前年度実績（YYYY年度）」 beside each row. A return collected afterwards
into the old master changes that year, and nothing carries it over by itself; a return
dropped into the new master is refused for its year. Both faces say the same, from here:

- the new master refuses the old year's file and says where it goes and how the year is
  brought into its 経年 afterwards (``other_year``, from collect.inspect);
- the old master imports it, as it should (the year's own master is the source of truth
  for its year), and warns with 【注意】 that the next year's master, found where rollover
  puts it (cycle.rollover.default_target) or in the next year's folder rollover tells staff
  to move it to (``next_master``), does not hold these values yet and how to bring them in
  (``later_lines``); the command exits 1, as rollover and export do on a warning. On the
  server the step asks IT to run the command (cycle.rollover.BY_IT).

``renkei-xl history import`` with the year's master carries the year again into the next
year's master (core.carry): what 経年 held for it and the 前年度実績 columns are replaced.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional, Sequence

from ...core import contract as c


def next_master(master: Path, year: int) -> Optional[Path]:
    """Next year's master for ``master`` (of 対象年度 ``year``), where rollover makes it by
    default (beside it) or where its message tells staff to move it (the folder of the next
    year, 「…\\2023年度」 → 「…\\2024年度」, as the new master's サーバー作業フォルダー names it),
    when it is there and is taken for that year's master (cycle.rollover.year_master_at);
    else None. A file by that name that cannot be read as a master is not taken for one:
    nothing is said then. The next year's folder was not looked in, and a late return
    collected on the server, where staff had moved the new master as told, said nothing of
    it (client-146)."""
    from ..rollover import default_target, other_year_folder, year_master_at

    beside = default_target(Path(master), year + 1, year)
    places = [beside]
    if (folder := other_year_folder(Path(master), year, year + 1)) is not None:
        places.append(folder / beside.name)
    return next((p for p in places if year_master_at(p, master, year + 1)), None)


def other_year(year: str, master_year: int, master: Optional[Path] = None) -> str:
    """Why a return of another year is refused, and where it goes: a year before this
    master's is a late return of a year already rolled over, or this year's answers typed
    into last year's file; the file cannot tell which, so both are said. ``master``: this
    master's file, so that the command named is one staff can copy (import_args)."""
    from ...core.face import by_button
    from ...core.carry import catch_up
    from ...core.digits import whole_number
    from ..rollover import import_args, it_folder

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
                + catch_up(number, later, source, master_year, it_folder(), by_button())
                + (f"（{look}）" if look else "")
                + f"。ただし、{master_year}年度の実績を{year}年度のファイルに入力して送ってきた"
                f"（前の年度のファイルを使った）ものなら、{year}年度のマスターには取り込まないでください"
                f"（{year}年度の実績が{master_year}年度の値で置き換わります）。"
                f"{master_year}年度の入力用ファイルに入力して送り直してもらってください")
    return f"{said}。{year}年度のマスターで取り込んでください"


def report_later_lines(report, shown: Callable[[Path], str] = str, apart: bool = False) -> list[str]:
    """The 【注意】 when the collect of ``report`` (a CollectReport) changes a year whose next
    year's master is already made (later_lines): both faces say it, the command exits 1.
    Here rather than a method of the report, so that the report's module needs nothing of
    rollover (rollover reads 取込履歴 through it: cycle.export.unreturned)."""
    return (later_lines(report.later, report.year, report.changes, shown, report.master, report.dry_run, apart)
            if report.year is not None else [])


def later_lines(later: Optional[Path], year: int, changes: Sequence,
                shown: Callable[[Path], str] = str, source: Optional[Path] = None, dry_run: bool = False,
                apart: bool = False) -> list[str]:
    """The 【注意】 of a collect that changed ``year``'s values while next year's master
    ``later`` (next_master) already holds that year; nothing when there is none or
    nothing changed. ``changes``: the report's cell changes; ``source``: this year's master.
    ``dry_run``: said of what the import would do: a dry run imported nothing, and 「この
    取り込みの値がまだ入っていません」 with the step to carry them read as done. ``apart``: where
    the next year's master is on a line of its own (Whole), for a button's message, which
    cut the one line through the path to keep the rows after it (qa-150)."""
    import os

    from ...core.alerts import Whole
    from ...core.face import by_button
    from ...core.carry import catch_up
    from ..rollover import it_names

    if later is None or not changes:
        return []
    rows = list(dict.fromkeys(f"{ch.sheet} {ch.indicator_id}" for ch in changes))
    from ...core.values import listed

    named = listed(rows)
    made = Whole(f"【注意】{year + 1}年度のマスター「{shown(later)}」が、すでに作られています。")
    columns = f"その「{c.HISTORY}」の{year}年度と「{c.PREVIOUS_HEADER.format(year=year)}」の列"
    # Run in this year's master's folder, where staff ran collect: the later master by its
    # name, or its path from there when it was moved to the next year's folder; on the
    # server by IT in the work folder (cycle.rollover.it_names).
    here = later.name if source is None or later.parent == source.parent else os.path.relpath(later, source.parent)
    later_named, source_named, where = it_names(later, source) or (here, source.name if source else "", "")
    step = catch_up(year, later_named, source_named, where=where, save=by_button())
    # Whole: a command cut in its middle by a button's message box is no command (core.alerts)
    said = (f"取り込んでも、{columns}には、取り込む値は入りません（{named}）。" if dry_run else
            f"{columns}には、この取り込みの値がまだ入っていません（{named}）。")
    step = Whole(f"　取り込んだあと、{step}。" if dry_run else f"　{step}。")
    return [made, f"　{said}", step] if apart else [made + said, step]

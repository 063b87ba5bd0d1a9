"""回収ファイル取込: returned input workbooks checked, diffed against the master and imported.

Every file is judged on its own and either yields cell changes or one refusal line; a
refused file changes nothing. Only the accepted files are applied, all in one write of
the master (one backup, one atomic rename). The planning half (``plan_collect``) works on
plain records, so the xlwings button can show the same changes and apply them through
Excel itself.

What is refused, and why it matters to the office:
- not a workbook, a truncated zip, a password-encrypted file (an OLE compound file:
  Excel stores encrypted .xlsx that way), a file with a VBA project: nothing in it can be
  read safely, or it must not enter the master (LGWAN gateways strip macros);
- no identifier, another municipality or year, another template version, a changed
  indicator list (fingerprint): the answers would land on the wrong questions;
- a seal that does not match the master's key (renkei_xl.core.seal.master_key), or none
  when the master has a key: a file relabelled as another municipality's, forged, or
  issued by another master. A master without a key (built before keys existed) can only
  check the plain fingerprint (UNKEYED_NOTE);
- rows deleted or added, headers renamed: the cells no longer mean what the master thinks;
- values the master's own validation (renkei_xl.core.validate) calls errors, and cells
  changed both in the file and in the master since the file was issued (their rows are
  held; a cell returned as issued leaves the master's value as it is: since_issue);
- a submission older than one already imported (core ``modified``), unless ``force``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Callable, Optional, Sequence

from ...core import contract as c
from ...clock import now
from ...core.contract_read import MasterData, text
from .import_log import check_import_log, read_import_log, refuse_misnamed
from .inspect import Attribution, identifier, inspect_file, returned_by
from .paths import expand_paths, may_be_a_return, open_in_excel
from .since_issue import changed_since_issue, first_since_issue, logged_at
from .records import (ALREADY, INPUT_FIELDS, LOG_COLUMNS, REFUSED, SAME, UNKEYED_NOTE, Change, CollectReport,
                      ImportRecord, Refusal, Refused, Submission, held_cells, held_line, held_summary, held_was,
                      kept_line)

__all__ = ["ALREADY", "INPUT_FIELDS", "LOG_COLUMNS", "REFUSED", "SAME", "UNKEYED_NOTE", "Change", "CollectReport",
           "ImportRecord", "Refusal", "Submission", "collect", "held_line", "held_summary", "kept_line", "expand_paths", "identifier", "inspect_file",
           "plan_collect", "plan_import", "read_import_log"]


def plan_collect(data: MasterData, paths: Sequence[Path], logged: Sequence[ImportRecord] = (), *,
                 force: bool = False, exclude: Sequence[Path] = (), key: Optional[bytes] = None,
                 split_folder: Optional[Path] = None, master: Optional[Path] = None) -> CollectReport:
    """What importing ``paths`` into ``data`` would change, which files are refused and why,
    the 取込履歴 rows to add, each imported file's held cells, the master cells it left
    as staff corrected them after the split and the warnings on cells it imports (file
    name, findings), as one report.
    Pure with respect to the master: nothing is written.

    ``key``: the master's key (core.seal.master_key); None only for a master that has
    none, and then each file's seal goes unchecked (say UNKEYED_NOTE).

    ``split_folder``: where split made the input files (配布用 beside the master), so that
    a refusal names them as split named them (inspect.issued_name); ``master``: the master's
    file, named in the command a refusal of another year's file gives (later_year.other_year)."""
    stamp = now()
    submissions, refusals = _read_returns(data, paths, exclude, key, split_folder, master)
    entries = {(e.municipality, e.indicator_id): e for e in data.entries}
    current: dict[tuple[str, str], str] = {}
    known = list(logged)
    changes: list[Change] = []
    records: list[ImportRecord] = []
    held: list[tuple[str, tuple]] = []
    kept: list[tuple[str, tuple]] = []
    noted: list[tuple[str, tuple]] = []
    for sub in submissions:
        values, conflicts, kept_here = sub.values, [], []
        try:
            check_import_log(sub, known, force)
            if sub.issued and first_since_issue(sub, known):
                own = {ind_id: entries[(sub.municipality, ind_id)] for ind_id in sub.values}
                values, conflicts, kept_here = changed_since_issue(sub, own, current)
            left_out = sub.held + tuple(conflicts)
            logged_held = held_cells(left_out)      # refused here, before its cells are taken
            logged_was = held_was(sub, left_out, entries)
        except Refused as exc:
            refusals.append(Refusal(sub.path, exc.reason, exc.kind))
            continue
        mine = _changes(sub.municipality, values, entries, current)
        changes += mine
        record = ImportRecord(sub.path.name, sub.municipality, logged_at(sub, stamp), len(mine), sub.sha256, sub.modified,
                              logged_held, logged_was)
        held.append((sub.path.name, left_out))
        kept.append((sub.path.name, tuple(kept_here)))
        noted.append((sub.path.name, tuple(f for f in sub.noted if f.place not in {x.place for x in left_out})))
        records.append(record)
        known.append(record)
    report = CollectReport(changes, refusals, records, held_by_file=held, kept_by_file=kept, noted_by_file=noted)
    report.year = data.settings.fiscal_year
    return report


def _read_returns(data: MasterData, paths: Sequence[Path], exclude: Sequence[Path], key: Optional[bytes],
                  split_folder: Optional[Path], master: Optional[Path] = None
                  ) -> tuple[list[Submission], list[Refusal]]:
    """Each file read (the newest of each municipality's), or refused with its reason; a file
    that cannot be read holds back only the returns of the municipality it names."""
    files, refusals = expand_paths(paths, exclude)
    skip = {Path(p).resolve() for p in exclude}
    submissions: list[Submission] = []
    unread: list[tuple[Refusal, Attribution]] = [
        (r, returned_by(r.path, data)) for r in refusals if may_be_a_return(r.path) and r.path.resolve() not in skip]
    for path in files:
        if (busy := open_in_excel(path)) is not None:
            refusal = busy
        else:
            try:
                submissions.append(inspect_file(path, data, key, split_folder, master))
                continue
            except Refused as exc:
                refusal = Refusal(path, exc.reason, exc.kind)
                if exc.attribution is not None:     # the file was opened: whose it is was read then
                    refusals.append(refusal)
                    unread.append((refusal, exc.attribution))
                    continue
        refusals.append(refusal)
        unread.append((refusal, returned_by(path, data)))
    submissions, superseded = _newest_of_each(submissions, unread)
    return submissions, refusals + superseded


def _changes(municipality: str, values: dict[str, dict[str, object]], entries, current: dict) -> list[Change]:
    """The master cells ``values`` change; ``current`` (master cell → text) is updated, so
    a later file of the same run is compared with what this one wrote."""
    out = []
    for ind_id, fields in values.items():
        entry = entries[(municipality, ind_id)]
        for f, new in fields.items():
            cell = entry.cell(f)
            if not cell:
                continue
            key = (municipality, cell)
            old = current.get(key, getattr(entry, f))
            if text(new) != old:
                out.append(Change(municipality, cell, ind_id, c.ENTRY_HEADERS[f], old, new))
                current[key] = text(new)
    return out


def _newest_of_each(submissions: list[Submission], unread: Sequence[tuple[Refusal, Attribution]] = ()
                    ) -> tuple[list[Submission], list[Refusal]]:
    """One submission per municipality: the newest by its save time. Each file carries the
    municipality's whole sheet, so an older one beside it could only be written and then
    written over, row by row; it is named as left out instead, never mixed in silently.

    Where the newest cannot be told, the municipality is held whole (every file of it
    refused, the master keeps its values), because importing any of them would be a guess:
    - two files without a save time, or with the same one (the file name says nothing of
      which came later);
    - a file that was refused (open in Excel, damaged, …) or not read (a ZIP, an .xls, a
      folder of workbooks) and may be that municipality's newest (``unread``:
      inspect.returned_by tells whose it may be). It holds the
      municipality unless its save time shows it is older than the newest taken; a file
      that may be anyone's (unreadable, its name naming no municipality) holds every one."""
    ordered = sorted(submissions, key=lambda s: (s.modified or dt.datetime.min, s.path.name))
    by_muni: dict[str, list[Submission]] = {}
    for s in ordered:
        by_muni.setdefault(s.municipality, []).append(s)
    kept: list[Submission] = []
    left: list[Refusal] = []
    for muni, subs in by_muni.items():
        subs, twins = _one_of_each_content(subs)
        left += twins
        newest = subs[-1]
        times = [s.modified for s in subs]
        if len(subs) > 1 and (None in times or times.count(newest.modified) > 1):
            names = "」「".join(s.path.name for s in subs)
            left += [Refusal(s.path, f"同じ市町村（{muni}）のファイル「{names}」のどれが新しいか、保存日時から決められない"
                                     "ため（保存日時がないか、同じです）、どれも取り込みません。新しい1つだけをフォルダーに"
                                     "置いて、もう一度取り込んでください") for s in subs]
            continue
        blocking = [(r, a) for r, a in unread
                    if (a.municipalities is None or muni in a.municipalities)
                    and not (a.modified and newest.modified and a.modified < newest.modified)]
        if blocking:
            left += [Refusal(s.path, _held_for(muni, blocking)) for s in subs]
            continue
        kept.append(newest)
        left += [Refusal(s.path, f"同じ市町村（{muni}）の新しいファイル「{newest.path.name}」があるため、こちらは取り込み"
                                 "ません（フォルダーには市町村ごとに最新の1つだけを置いてください）") for s in subs[:-1]]
    kept.sort(key=lambda s: (s.modified or dt.datetime.min, s.path.name))
    return kept, left


def _one_of_each_content(subs: list[Submission]) -> tuple[list[Submission], list[Refusal]]:
    """One of each set of byte-identical files (a mail's attachment saved twice: 「…入力.xlsx」
    and 「…入力 (1).xlsx」), the one with the shortest name. They carry the same save time,
    so both were refused as two returns whose order cannot be told, and the municipality's
    only answer was left out. The others are named, not refused: nothing in them is lost."""
    chosen: dict[str, Submission] = {}
    for s in subs:
        best = chosen.get(s.sha256)
        if best is None or (len(s.path.name), s.path.name) < (len(best.path.name), best.path.name):
            chosen[s.sha256] = s
    kept = [s for s in subs if chosen[s.sha256] is s]
    twins = [Refusal(s.path, f"「{chosen[s.sha256].path.name}」と同じ内容のファイルです（同じ添付ファイルを2回保存したときなど）。"
                             f"内容は「{chosen[s.sha256].path.name}」として取り込みます", SAME)
             for s in subs if chosen[s.sha256] is not s]
    return kept, twins


def _held_for(muni: str, blocking: Sequence[tuple[Refusal, Attribution]]) -> str:
    """Why a municipality's readable return is held: a refused file may be its newer one."""
    names = "」「".join(r.path.name for r, _a in blocking)
    whose = ("どの市町村のファイルか分からない" if all(a.municipalities is None for _r, a in blocking)
             else f"同じ市町村（{muni}）の")
    return (f"{whose}ファイル「{names}」を取り込めないため、{muni}のファイルはどれも取り込みません"
            "（そちらが新しいファイルかもしれず、古いファイルを取り込むと新しい回答が古い値で置き換わります）。"
            "そのファイルの理由を見て直すか、フォルダーから移してから、もう一度取り込んでください")


def plan_import(data: MasterData, state, paths: Sequence[Path], *, force: bool = False,
                exclude: Sequence[Path] = (), key: Optional[bytes] = None, master: Optional[Path] = None):
    """What importing ``paths`` does, for either face: the report and the write plan.

    The plan is empty when nothing is to be imported (every file refused or already in);
    it is built before anyone is asked, so a 取込履歴 without its headers stops here.
    ``master``: the master's file, beside which next year's master is looked for when
    values change (later_year: its 経年 and 前年度実績 do not have them; report.later).
    """
    from ...core.plan import collect_plan
    from ...core.plan_types import WritePlan

    log = state.grids.get(c.IMPORT_LOG)
    logged = read_import_log(log) if log else []
    refuse_misnamed(logged, data.settings.names)
    split_folder = Path(master).parent / c.SPLIT_DIR if master is not None else None
    report = plan_collect(data, paths, logged, force=force, exclude=exclude, key=key, split_folder=split_folder,
                          master=master)
    if master is not None and report.changes:
        from .later_year import next_master

        report.later = next_master(Path(master), data.settings.fiscal_year)
        report.master = Path(master)
    plan = (collect_plan(state, report.changes, LOG_COLUMNS,
                         [tuple(None if v == "" else v for v in r[:len(LOG_COLUMNS)]) for r in report.records],
                         report.status_line(), now())
            if report.records else WritePlan())
    return report, plan


def collect(master: Path, paths: Sequence[Path], *, dry_run: bool = False, force: bool = False,
            echo: Optional[Callable[[str], None]] = None) -> CollectReport:
    """Plan and apply in one atomic write; refused files change nothing. ``echo``: where
    UNKEYED_NOTE is said before anything is written (the report's lists: collect.said).

    When nothing is to be written (every file refused or already imported, or a dry run)
    the master is not written at all, so it stays byte-identical.
    """
    from ...core.plan_types import WritePlan
    from ...workbook.session import check_path, opened, write_planned

    master = check_path(Path(master))

    def make(fs):
        from ...core.seal import master_key

        key = master_key(fs.workbook)
        report, plan = plan_import(fs.data, fs.state, paths, force=force, exclude=[master], key=key, master=master)
        report.dry_run = dry_run
        if echo and key is None:
            echo(UNKEYED_NOTE)
        return (WritePlan() if dry_run else plan), report

    if dry_run:
        with opened(master) as fs:
            return make(fs)[1]
    report, written = write_planned(master, make)
    report.written = written
    return report

"""Year after year on files: next year's master (rollover) and the history import.

Rollover reads this year's master and writes next year's to a new file: the package is
copied part by part and only what renkei_xl.core.rollover's plan names changes (the file
applier, as for every other write), so macros, buttons, xlwings.conf and every sheet and
column the staff made carry over byte for byte. The new file is written under its own
writer lock, through a temporary file renamed into place; the old master is only read
(a button runs it while Excel has the old master open, which is why it is not refused).
"""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path
from typing import NamedTuple, Optional, Protocol, Sequence

from ..core import contract as c
from ..core.alerts import Detail, Listing, Part, Whole, listed_names
from ..core.face import again
from ..core.carry import recalc_step
from ..core.errors import UserError
from ..core.model import NOT_EVALUABLE
from ..core.sheet_findings import LISTED_FINDINGS
from ..core.values import LISTED, MUNICIPALITIES, count_text, listed, listed_limit, one_line
from ..clock import now
from ..safety import check_regular_file, refuse_not_file, same_file, system_reason
from ..workbook.session import Written, check_path, saved_list, write_planned


class WorkFolder(Protocol):
    """The server's work folder as a click's messages name it (server.place.Place)."""
    workdir: Path

    def shown(self, path: Path) -> str: ...            # a path as staff find it (the share's)
    def command_path(self, path: Path) -> str: ...     # a path as a command run in workdir names it


# Who runs the `renkei-xl history import` a message names. Unset (the command line, a button
# on the PC's Python): the staff reading it, in a master's folder. On the server (set for a
# click by server.app.run_button) IT, in the work folder: staff there have buttons only, no
# button imports history (contract.HISTORY_IMPORT), and they were told to run the command
# 「in the closed year's folder」 by names that folder does not hold once the new master is
# moved to the next year's folder as the rollover told them (client-146).
BY_IT: ContextVar[Optional[WorkFolder]] = ContextVar("renkei_history_import_by_it", default=None)


def it_names(later: Optional[Path], source: Optional[Path]) -> Optional[tuple[str, str, str]]:
    """(``later``, ``source``, the work folder) as the server's message names them for IT
    (core.carry.catch_up's ``where``), both masters from the work folder; None off the
    server. A master not known is "" (the command's placeholder)."""
    place = BY_IT.get()
    if place is None:
        return None
    named = [place.command_path(p) if p is not None else "" for p in (later, source)]
    return named[0], named[1], place.shown(place.workdir)


def it_folder() -> str:
    """The work folder as staff see it on the server (catch_up's ``where``), else ""."""
    place = BY_IT.get()
    return "" if place is None else place.shown(place.workdir)


class TargetExists(UserError):
    """Next year's file is there already: each face says how to go on in its own terms
    (the command line's --force, a button's rename-or-delete)."""

    def __init__(self, path: Path):
        super().__init__(f"「{path.name}」はすでにあります")
        self.path = path


def filled_note(path: Path) -> str:
    """What the next year's master already there holds, when staff typed into it: a
    refusal said only 「すでにあります」 and how to make it again, which throws away a
    year's inputs (into a backup) if it was the real next master and this one the older."""
    from ..core.rollover import emptied_inputs
    from ..workbook.session import load_master

    try:
        data = load_master(path)
    except (UserError, OSError):
        return ""
    filled = len(emptied_inputs(data))
    if not filled:
        return ""
    return (f"（{data.settings.fiscal_year}年度のマスターで、実績値・分母・実施状況が {filled} セル入力されています。"
            "作り直すと、その入力は新しいマスターに残りません）")


class RolloverDone(NamedTuple):
    path: Path
    report: object          # renkei_xl.core.rollover.RolloverReport
    backup: Optional[Path] = None   # the file --force replaced, as it was (a year's inputs, maybe)
    master: Optional[Path] = None   # the closed year's master it was made from
    unreturned: tuple = ()          # municipalities 取込履歴 has no return of (cycle.export.unreturned)
    held: tuple = ()                # held cells still outstanding (cycle.export.outstanding_held)


def default_target(master: Path, new_year: int, old_year: int) -> Path:
    from ..core.rollover import next_name

    return master.with_name(next_name(master.name, old_year, new_year))


def rollover_file(master: Path, new_year: Optional[int] = None, out: Optional[Path] = None, *,
                  force: bool = False) -> RolloverDone:
    """Next year's master from ``master`` (left as it is), at ``out`` or beside it."""
    from ..core.calc_on_load import refuse_stale
    from ..core.pipeline import recalculate
    from ..core.rollover import check_new_year, rollover_plan
    from .export import outstanding_held, unreturned

    master = check_path(master)
    old_year = fiscal_year_of(master)
    check_named_year(master, old_year)
    year = new_year if new_year is not None else old_year + 1
    check_new_year(old_year, year)        # before a folder or a lock is made
    target = Path(out) if out else default_target(master, year, old_year)
    refuse_not_file(target)               # a folder first: not "add --force", not its "extension"
    if c.suffix_problem(target.name, "出力先"):
        raise UserError(c.suffix_problem(target.name, "出力先"))
    if target.suffix.lower() != master.suffix.lower():
        raise UserError(f"出力先「{target.name}」の拡張子はマスターと同じ「{master.suffix}」にしてください"
                        "（マクロやボタンをそのまま引き継ぐため）")
    if same_file(target, master):
        raise UserError("出力先がマスターと同じファイルです。次年度のマスターは別のファイルに作ります")
    _check_target_year(target, year)
    from ..safety import check_confined, check_excel_path, make_folder

    # Its own path only: the master's name is staff's (the year moved on), not cut to a hash;
    # its backups come with the writes of the master, as this year's do.
    check_excel_path(target, backups=False)
    if target.exists() and not force:
        raise TargetExists(target)

    check_confined(target)
    make_folder(target.parent, "出力先")

    def make(fs):
        if target.exists() and not force:   # again under the lock: another click made it meanwhile
            raise TargetExists(target)
        d = fs.data
        refuse_stale(d.findings, "次年度のマスターを作る")
        # The year's returns still out, as 確定版を書き出し names them: 経年 records the year from
        # the sheets as they stand (an error value in 取込履歴 refuses, before anything is written).
        left = unreturned(d, fs.state.grids.get(c.IMPORT_LOG))
        held = outstanding_held(d, fs.state.grids.get(c.IMPORT_LOG))
        closed = recalculate(d.settings, d.indicators, d.entries, d.findings)
        plan, report = rollover_plan(fs.state, fs.sheets, d, closed, year, now(), saved_list(fs))
        # A key of its own: next year's returns are sealed anew, and the server tells the
        # two years' masters apart (core.seal.master_id).
        from ..core.seal import identity_names, new_key

        plan.names.extend(identity_names(new_key()))
        return plan, (report, left, held)

    # keep_grids: the plan reads every municipality sheet the contract has just read.
    (report, left, held), written = write_planned(master, make, target, keep_grids=True)
    return RolloverDone(target, report, written.backup if written else None, master, left, held)


def named_year(path: Path) -> Optional[int]:
    """The one fiscal year the file's name gives (core.fiscal.named_year)."""
    from ..core.fiscal import named_year

    return named_year(Path(path).name)


def other_named_year(path: Path, year: int) -> Optional[int]:
    """The one fiscal year the file's name gives (named_year), when it is not ``year``."""
    named = named_year(path)
    return named if named != year else None


def check_named_year(master: Path, year: int) -> None:
    """The one rule of a master named for another year (core.contract_read.year_name_refusal),
    said before rollover or history import has a folder or a lock made: every read of a
    master for a command refuses it too (workbook.session.opened), later."""
    from ..core.contract_read import year_name_refusal

    if said := year_name_refusal(Path(master).name, year):
        raise UserError(said)


def _check_target_year(target: Path, year: int) -> None:
    """A next master named for another year (-o 「…_2023年度_…」 for 2024) is not made: the
    next command on it would refuse it by its name (core.contract_read.year_name_refusal),
    later and in other words."""
    other = other_named_year(target, year)
    if other is not None:
        raise UserError(f"出力先「{target.name}」の名前は{other}年度ですが、作るのは {year}年度のマスターです"
                        f"（何も作っていません）。名前を{year}年度にしてから、もう一度{again()}ください")


def earlier_master(master: Path, master_year: int, year: int) -> Optional[Path]:
    """``year``'s master for the master ``master`` (of 対象年度 ``master_year``), where rollover
    leaves it: beside it under the name rollover moved on (「…_2023年度_…」 for
    「…_2024年度_…」; a name rollover gave a year, 「マスター_2024年度」, came from 「マスター」),
    or under either name in the folder of the earlier year (the master moved to the folder
    rollover named for the new year, 「…\\2024年度」, leaves the old one in 「…\\2023年度」).
    Only a file taken for that year's master (year_master_at) is taken; else None, and the
    message says where it looked (import_args)."""
    for place in _earlier_places(Path(master), master_year, year):
        if year_master_at(place, master, year):
            return place
    return None


def year_master_at(place: Path, master: Path, year: int) -> bool:
    """Whether the file at ``place`` is ``year``'s master (and not ``master`` itself): read
    for its 対象年度 where this run may read it. A server click reads only its own master's
    folder (safety.is_confined), so the other year's folder, where staff moved the other
    master as rollover told them, is not read: a file there under the name rollover gives is
    taken by its name, which is all a message naming it needs (client-146)."""
    from ..safety import is_confined

    try:
        if not place.is_file() or same_file(place, master):
            return False
        return fiscal_year_of(place) == year if is_confined(place) else True
    except (UserError, OSError):
        return False


def _earlier_places(master: Path, master_year: int, year: int) -> list[Path]:
    from ..core.fiscal import moved_year

    names = [moved_year(master.stem, master_year, year) + master.suffix]
    appended = f"_{master_year}年度"
    if master.stem.endswith(appended):     # any year before: fiscal_year_of tells (a --year rollover skips)
        names.append(master.stem[:-len(appended)] + master.suffix)
    folders = [master.parent]
    if (older := other_year_folder(master, master_year, year)) is not None:
        folders.append(older)
    return list(dict.fromkeys(folder / name for folder in folders for name in names + [master.name]))


def other_year_folder(master: Path, master_year: int, year: int) -> Optional[Path]:
    """``year``'s folder for ``master`` (of 対象年度 ``master_year``): its folder's name with
    the year moved (「…\\2023年度」 → 「…\\2024年度」), as rollover moves サーバー作業フォルダー
    (core.rollover.next_folder) and staff move the masters; None when the name holds no year."""
    from ..core.fiscal import moved_year

    folder = master.parent
    moved = moved_year(folder.name, master_year, year)
    return folder.with_name(moved) if folder.name and moved != folder.name else None


def import_args(master: Optional[Path], master_year: int, year: int) -> tuple[str, str, str]:
    """(this master, ``year``'s master, where to look) as a message names them in
    ``renkei-xl history import``: this master by its name (the command is run in its folder,
    as staff run collect), the earlier one by its name or its path from there when found
    (earlier_master), else "" and a sentence saying where it was looked for. On the server
    both are named from the work folder, where IT runs it (it_names)."""
    import os

    if master is None:
        return "", "", ""
    master = Path(master)
    found = earlier_master(master, master_year, year)
    by_it = it_names(master, found)
    if found is not None:
        if by_it is not None:
            return by_it[0], by_it[1], ""
        shown = found.name if found.parent == master.parent else os.path.relpath(found, master.parent)
        return master.name, shown, ""
    older = other_year_folder(master, master_year, year)
    there = f"このマスターと同じフォルダーにも、前の年度のフォルダー「{older}」にも" if older is not None \
        else "このマスターと同じフォルダーに"
    return (master.name if by_it is None else by_it[0]), "", (
        f"{there}{year}年度のマスターが見つかりませんでした。{year}年度のサーバー作業フォルダーなどから"
        f"探し、（{year}年度のマスター） の所にそのファイルの場所を書いて実行してください")


def fiscal_year_of(master: Path) -> int:
    """This master's 対象年度 from 設定 alone: the write reads the whole master anyway, and
    reading it twice was a fifth of a rollover of 2,000 × 40 (benchmarks/server.py). Any
    trouble here takes the full read, which says what is wrong in the usual words. Collect
    asks it too, of the next year's master it finds beside its own (cycle.collect.later_year)."""
    from ..core.contract_read import Book, read_settings
    from ..package.workbook import WorkbookXml
    from ..package.zipped import Package
    from ..workbook.session import opened
    from ..workbook.grids import Grids

    try:
        with Package(master) as pkg:
            workbook = WorkbookXml(pkg)
            grids = Grids(pkg, [c.SETTINGS], workbook)
            try:
                return read_settings(Book({c.SETTINGS: grids[c.SETTINGS]}, workbook.workbook_names())).fiscal_year
            finally:
                grids.close()
    except Exception:
        with opened(master) as fs:
            return fs.data.settings.fiscal_year


def rollover_lines(done: RolloverDone, shown: Optional[str] = None) -> list[str]:
    """What both faces tell the staff after a rollover; ``shown``: the new file as the
    staff find it (a button on the server gives the share's name)."""
    return [p.render(p.most) if isinstance(p, Listing) else p for p in rollover_parts(done, shown)]


def rollover_parts(done: RolloverDone, shown: Optional[str] = None) -> list[Part]:
    """rollover_lines with its lists as Listings, which a button's message cuts to fit
    (core.alerts)."""
    r = done.report
    # Whole: where the new master is (qa-149: a long message cut this line to 「20」). Detail:
    # what was carried, which the new master shows and the command line says in full.
    lines: list[Part] = [Whole(f"{r.new_year}年度のマスターを作成しました: {shown or done.path}"),
             Detail(f"・指標 {r.indicators} 件（事業・評価指標・目標値・集計方法・評価方法）をそのまま引き継ぎました"),
             Detail(f"・入力欄 {r.emptied} セルを空にし、各行の横に「{c.PREVIOUS_HEADER.format(year=r.old_year)}」を表示しました"),
             ]
    if r.unrecorded:
        lines += [f"【注意】{r.old_year}年度のマスターには、実績値・分母・実施状況が 1 つも入力されていません。"
                  f"{r.old_year}年度は「{c.HISTORY}」シートに記録せず、指標シートの前年度実績も空にしました。",
                  f"　{r.old_year}年度のマスターを選んだか確かめてください。実績を入力してから作り直すときは、"
                  f"入力して{recalc_step(str(done.master or ''), r.old_year, '')}、できた{r.new_year}年度のマスターを削除してから、"
                  "もう一度作成してください。"]
    else:
        lines.append(Detail(f"・{r.old_year}年度の実績値と評価を「{c.HISTORY}」シートに記録しました（{r.recorded} 指標）"))
    if r.skipped:
        lines += [skipped_line(r.old_year, r.new_year, done.path)]
    lines += _cautions(done)
    if r.past:
        # The heading in the Listing: a plain line before it was left out by a long message,
        # and 「…ほか 13 件」 stood alone (qa-149).
        lines.append(Listing([f"　{f.indicator_id}: {f.message}" for f in r.past], "　…ほか {n} 件", cap=LISTED_FINDINGS,
                             head=f"・目標の年度が過ぎている指標 {len(r.past)} 件を「{c.FINDINGS}」に挙げました"
                                  "（目標の見直しが必要です）:\n"))
    lines += _overwritten(r)
    if r.states_added:
        lines.append(f"・「{c.SETTINGS}」の状態の選択肢（{c.N_STATES}）に、評価で使える言葉 {len(r.states_added)} 語を加えました"
                     f"（{listed(r.states_added, '語')}）")
    if r.list_notes:
        lines.append(Listing(list(r.list_notes), "ほか {n} か所（一覧にあります）", cap=listed_limit("か所"), sep="、", more_sep=" ",
                             head=f"・{r.old_year}年度の「{c.LIST}」に書いたメモ {len(r.list_notes)} か所は、新しいマスターの"
                                  f"「{c.LIST}」には引き継いでいません（その年度の値についてのメモのため。{r.old_year}年度の"
                                  "マスターに残っています。次の年度にも要るメモは、新しいマスターで評価を再計算した後に"
                                  f"「{c.LIST}」の右の列に書き直してください）: "))
    if r.list_heads:
        lines.append(f"・{r.old_year}年度の「{c.LIST}」の右に作った列（見出し{listed((f'「{h}」' for h in r.list_heads), '列')}"
                     f"）は、新しいマスターの「{c.LIST}」にはありません。"
                     f"新しいマスターで評価を再計算した後に、「{c.LIST}」の右の列に見出しを付け直してください")
    if r.notes:
        lines.append(Listing(dropped_lines(r.notes), "【注意】ほかのコメント {n} 件も同じです", cap=LISTED))
        lines.append(f"　（どのコメントも、{r.old_year}年度のマスターには残っています）")
    lines.append(Detail(f"一覧・集計は、新しいマスターで{recalc_step(str(done.path), r.new_year, 'と')}作られます。"
                        f"このマスター（{r.old_year}年度）は変更していません。"))
    if done.backup:
        lines.append(Whole(f"・前からあった「{done.path.name}」は作り直しました。それまでの内容（入力済みの実績など）は"
                           f"バックアップにあります: {done.backup}"))
    if r.folder_problem:
        lines.append(f"【注意】{r.folder_problem}。新しいマスターの「{c.N_SERVER_FOLDER}」は書き換えていません"
                     "（ボタンをサーバーで使うときだけ必要な名前です。直すまで、サーバーのボタンは実行されません）")
    if r.folder[1]:
        # Whole: the folder to make and the move are a step (and the server's history import
        # names the new master there); a long message cut it in its middle (client-146)
        # The folder named once (it was named three times: on a long share path a third of
        # the message box, qa-149); the year before is 設定's own, and the command line's.
        lines.append(Whole(f"・ボタンをサーバーで使う場合は、フォルダー「{r.folder[1]}」を作り、新しいマスターをそこへ移してから"
                           f"開いてください（新しいマスターの「{c.N_SERVER_FOLDER}」をこのフォルダーにしました）"))
    return lines


def _overwritten(r) -> list[Part]:
    """The closed year's records 経年 held that its evaluation replaced (core.history.overwritten)."""
    return overwritten_parts(r.overwritten, f"【注意】「{c.HISTORY}」の{r.old_year}年度の記録 {len(r.overwritten)} 指標を、"
                             f"{r.old_year}年度の入力から評価した実績値と評価で置き換えました（元の値は{r.old_year}年度の"
                             f"マスターに残っています。残す値は、新しいマスターの「{c.HISTORY}」の同じ指標ID・年度のセルに"
                             "入力し直してください）:")


def carried_changes(r) -> list[Part]:
    """The records of a carried year that changed in 経年 (core.history.overwritten): the late
    return's figure it was run for, and a figure staff had typed into the later master's 経年
    (a 基本KPI's, which the inputs never give), which was replaced said only as 「記録済みの
    2023年度を置き換え」, the backup alone keeping it."""
    return overwritten_parts(r.overwritten, f"・「{c.HISTORY}」の{r.year}年度で値が変わった記録 {len(r.overwritten)} 指標"
                             f"（前の記録 → {r.year}年度のマスターの入力から評価した記録。前の記録はバックアップのファイルに"
                             f"あります。残す値は、このマスターの「{c.HISTORY}」の同じセルに入力し直してください）:")


def imported_changes(records) -> list[Part]:
    """The records of 経年 a history CSV changed (core.history.overwritten): 「うち 80 行は記録済みの
    年度を置き換え」 said the same of a file imported twice, which changed nothing, and of one
    that changed a figure, without which: the old figure is in the backup alone."""
    return overwritten_parts(records, f"・値が変わった記録 {len(records)} 件（前の記録 → CSV の記録。前の記録はバックアップの"
                                      "ファイルにあります）:")


def overwritten_parts(records, head: str) -> list[Part]:
    """Records of 経年 replaced by a year's own evaluation (rollover's and a carried year's:
    core.history.overwritten) under ``head``, each cell with what it held and holds now: a
    Listing capped as every list is (values.LISTED), said at its cap by the command line and
    by a button with room for it; a detail (core.alerts.Listing.detail), which a message short
    of room gives up whole before the cautions that say what to mend or where a file is. It
    was one Detail line cut at a hand-written five, outside the shared rule."""
    def shown_record(rec) -> str:     # on the line of its cell (values.one_line): staff read it so
        return one_line(f"{rec.actual or '（空欄）'} {rec.symbol}".strip())

    return [Listing([f"　{cell}（{i}）: 「{shown_record(old)}」→「{shown_record(new)}」" for cell, i, old, new in records],
                    "　…ほか {n} 件", cap=LISTED, head=f"{head}\n", detail=True)] if records else []


def renamed_part(renamed, of: str, mend: str) -> Listing:
    """The 指標IDs whose years in 経年 were of another 評価指標 than 指標's now (core.history.
    renamed), which every writer of 経年 relabels with 指標's: said by rollover and by both
    imports alike (an import said nothing, and after it neither 次の一歩 nor the next rollover
    could tell a reused ID any more). ``of``: where the old wording stood; ``mend``: how to
    give the new indicator its own ID from where staff are."""
    return Listing([f"　{i}: 「{one_line(old)}」→「{one_line(new)}」" for i, old, new in renamed], "　…ほか {n} 件", cap=LISTED,
                   head=f"【注意】「{c.HISTORY}」に前の年度がある指標IDのうち {len(renamed)} 件は、評価指標が"
                        f"{of}のものと違います（「{c.HISTORY}」は指標シートの評価指標にしました）。"
                        "言い回しを直しただけなら問題ありません。指標IDを別の指標に使い回したときは、前の年度の"
                        f"実績がその指標の記録として並ぶため、{mend}:\n")


def rendered(part: Part) -> str:
    """A part of a message as the command line says it: a Listing at its most."""
    return part.render(part.most) if isinstance(part, Listing) else part


# How an import that relabelled a reused ID is undone: the backup still shows the old wording.
IMPORT_RENAMED_MEND = "バックアップのファイルに戻し、新しい指標に別の指標IDを付けてから、もう一度取り込んでください"


def _cautions(done: RolloverDone) -> list[Part]:
    """rollover_parts' 【注意】 lines of what the year carried (or could not) that staff
    should look at in the new master."""
    r = done.report
    out: list[Part] = []
    # `history import` is run in the closed year's folder, as collect's catch_up says it: both
    # masters by their names, on every face. The button's path as staff see it (the share's on
    # the server) beside the old master's bare name made a command for no folder,
    # long enough that the message box cut it in its middle (qa-143). On the server IT runs
    # it in the work folder (BY_IT), the new master named where this message tells staff to
    # move it (the next year's folder its サーバー作業フォルダー names), as it will be by then.
    moved = done.path
    if BY_IT.get() is not None and r.folder[1] and not r.folder_problem:
        moved = (other_year_folder(done.path, r.old_year, r.new_year) or done.path.parent) / done.path.name
    if r.missing:
        from ..core.carry import by_it, import_command
        later, source, look = import_args(moved, r.new_year, r.missing)
        command = import_command(later, source, r.missing)
        step = f"{by_it(where, command)}してもらうと" if (where := it_folder()) else f"{command} で"
        out.append(Whole(f"【注意】「{c.HISTORY}」に{r.missing}年度の記録がありません（このマスターは{r.missing}年度のマスターから"
                     f"作られています）。{r.missing}年度のマスターがあれば、{step}取り込めます"
                     f"（{look + '。' if look else ''}それより前の年度も、各年度のマスターか CSV から取り込めます）"))
    if r.renamed:
        out.append(renamed_part(r.renamed, f"「{c.HISTORY}」",
                                f"{r.old_year}年度のマスターで新しい指標に別の指標IDを付け、次年度のマスターを作り直してください"))
    out += closed_year_stale(r.stale, r.recorded, r.old_year, str(done.master or ""))
    beside = done.master is not None and done.path.parent == done.master.parent
    later, source = done.path.name if beside else str(done.path), done.master.name if done.master else ""
    later, source, where = it_names(moved, done.master) or (later, source, "")
    if done.unreturned and not r.unrecorded:
        out += unreturned_parts(r.old_year, done.unreturned, later, source, r.new_year, where)
    if done.held and not r.unrecorded:
        out += held_parts(r.old_year, done.held, later, source, r.new_year, where, step_above=bool(done.unreturned))
    if r.errors and not r.unrecorded:
        # After the partial collect's step, the same step is referred to, not said again: twice
        # the command with both masters' paths on a share took a third of the message box.
        out += error_parts(r.old_year, r.errors, later, source, r.new_year, where,
                           step_above=bool(done.unreturned))
    if r.hidden:
        out.append(Listing(list(r.hidden), "ほか {n} 列", cap=listed_limit("列"), sep="、", more_sep=" ",
                           head=f"【注意】「{c.PREVIOUS_HEADER.format(year=r.old_year)}」の列を、非表示の列に作りました"
                                "（列を選んで右クリックし「再表示」を選ぶと見えます）: "))
    if r.unlisted:
        shown_sheets = listed((f"「{sheet}」（{n} 行）" for sheet, n in r.unlisted), "シート")
        out.append(f"【注意】シート{shown_sheets}は市町村シートの形ですが、「{c.SETTINGS}」の市町村一覧にないため、"
                     f"入力（{r.old_year}年度の値）を空にせず、新しいマスターにそのまま残しました（集計はされません）。"
                     "連携から外れた市町村なら、新しいマスターからシートを削除してください。市町村一覧に戻すなら、"
                     f"先にそのシートの実績値・分母・実施状況を空にしてください（残すと{r.old_year}年度の値が"
                     f"{r.new_year}年度の実績として集計されます）")
    return out


def closed_year_stale(stale: Sequence[str], total: int, year: int, source: str = "") -> list[Part]:
    """The 【注意】 of a closed year's 一覧 rows that differ from the evaluation recorded in 経年
    (core.rollover.stale_parts), said alike by the rollover and by history import (which said
    it in a line of its own wording): the year is recorded from its inputs, and its 一覧 wants
    recalculating in its own master (``source``, as the command line names it), where what
    was mailed may differ."""
    from ..core.rollover import EVALUATED_NOW, stale_parts

    return stale_parts(stale, total, f"{year}年度の", EVALUATED_NOW,
                       f"「{c.HISTORY}」には{EVALUATED_NOW}を記録しました。{year}年度のマスターで{recalc_step(source, year, '')}、"
                       "一覧を確かめてください（確定版を送った後なら、送ったものと違うことがあります）。")


def unreturned_parts(year: int, names, later: str, source: str, later_year: int, where: str = "") -> list[Part]:
    """A rollover after a partial collect: 経年 and the 前年度実績 columns took the year from
    the sheets of municipalities whose return was never collected, and nothing said so
    (確定版を書き出し names them, cycle.export.unreturned_note). Both faces say it, with the way
    a return collected late reaches the new master (core.carry.catch_up)."""
    from ..core.face import by_button
    from ..core.carry import catch_up
    from .collect.said import collect_step

    # vital: the names are what staff act on (ask for the return), kept before the targets' list
    return [listed_names(names, MUNICIPALITIES, vital=True,
                         head=f"【注意】シート「{c.IMPORT_LOG}」に回収ファイルの取り込みがない市町村があります"
                              f"（{count_text(len(names))} 市町村）: "),
            Detail(f"　「{c.HISTORY}」の{year}年度と「{c.PREVIOUS_HEADER.format(year=year)}」の列は、その市町村シートに"
                   f"今ある値で記録しました（マスターに直接入力した市町村なら、このままで構いません）。"),
            Whole(f"　回答が届いたら、{year}年度のマスターで{collect_step(source, '')}、"
                  + catch_up(year, later, source, later_year, where, by_button()))]


def held_parts(year: int, held, later: str, source: str, later_year: int, where: str = "",
               step_above: bool = False) -> list[Part]:
    """The cells 回収ファイル取込 held that the closed year's master still lacks
    (cycle.export.outstanding_held): 経年 and the 前年度実績 columns recorded the year without
    them, as 確定版を書き出し would have published it. ``step_above``: unreturned_parts has
    just said how a late value reaches the new master. Its first cell is not vital, as
    export's is: the rollover's button message, the fullest there is (the new master's place
    and the catch-up command whole, an input error's cell, the targets past), was over the
    box with it at its floor, and cut the command in its middle (qa-143); the closed year's
    取込履歴, which the message names, lists every cell."""
    from ..core.face import by_button
    from ..core.carry import catch_up
    from .collect.said import outstanding_parts

    # the step above holds the command; this one names it only (collect.said.outstanding_parts)
    then = ("上と同じ手順で新しいマスターに取り込んでください。" if step_above
            else Whole(catch_up(year, later, source, later_year, where, by_button())))
    return outstanding_parts(held, f"「{c.HISTORY}」の{year}年度と「{c.PREVIOUS_HEADER.format(year=year)}」の列は、"
                                   "そのセルに今ある値（空欄か前の値）で記録しました。", then, source, f"{year}年度の",
                             vital=False)


def error_parts(year: int, errors, later: str, source: str, later_year: Optional[int] = None,
                where: str = "", step_above: bool = False) -> list[Part]:
    """The input errors a closed year was recorded with (each row －「（入力エラー）」 in 経年,
    for good unless carried again), by sheet and cell, and how the corrected year reaches
    the later master: only the count was said, and nothing of how to mend the record.
    ``step_above``: the message has just said that step (unreturned_parts), and refers to it."""
    from ..core.face import by_button
    from ..core.carry import catch_up
    from ..core.sheet_findings import LISTED_FINDINGS

    target = year + 1 if later_year is None else later_year
    step = (f"　入力エラーを{year}年度のマスターで直したときも、上と同じ手順で{target}年度のマスターに取り込んでください"
            if step_above else Whole(f"　入力エラーを{year}年度のマスターで直したら、"
                          + catch_up(year, later, source, later_year, where, by_button())))
    return [Listing([f"　{' '.join(p for p in (f.place, f.indicator_id) if p)}: {f.said}" for f in errors],
                    "　…ほか {n} 件", cap=LISTED_FINDINGS, vital=True,
                    head=f"【注意】{year}年度の評価には入力エラーが {count_text(len(errors))} 件ありました（入力エラーの行は「{c.HISTORY}」に"
                         f"評価不可（{NOT_EVALUABLE}）として記録しました）:\n"),
            step]


def skipped_line(old_year: int, new_year: int, made: Path) -> str:
    """What a rollover past the next year (--year) says: the years between are in no
    master it read, so 経年 has none of them (集計 shows them 記録なし, 次の一歩 has no
    year before) and 「前年度実績」 beside each row is the closed year's; the master of such
    a year, if there is one, is carried."""
    from ..core.carry import command_arg, import_command

    between = f"{old_year + 1}年度" if new_year - old_year == 2 else f"{old_year + 1}〜{new_year - 1}年度"
    command = f"renkei-xl history import {command_arg(made.name)} （その年度のマスター）"
    if new_year - old_year == 2:      # one year between: its master named when it is where rollover leaves it
        later, source, _look = import_args(made, new_year, old_year + 1)
        if source:
            command = import_command(later, source, old_year + 1)
    return (f"【注意】{old_year}年度のマスターから{new_year}年度を作ったため、{between}は「{c.HISTORY}」に"
            f"記録されていません（各行の横の列も{old_year}年度の実績です）。{between}のマスターがあれば、"
            f"{command} で取り込んでください。"
            f"{new_year - 1}年度のマスターから作るつもりだった場合は、できた{new_year}年度のマスターを削除して、"
            f"{new_year - 1}年度のマスターで作り直してください")


# ------------------------------------------------------------------ history import

class HistoryImport(NamedTuple):
    imported: int
    replaced: int
    refusals: list            # renkei_xl.core.history.Refusal
    written: Optional[Written]
    previous: int = 0         # 指標 rows whose 前年度実績 column now shows the CSV's year before
    untouched: tuple = ()     # municipality sheets whose 前年度実績 column a CSV cannot correct
    year_before: int = 0      # the master's year before, when the CSV held it
    notes: tuple = ()         # notes (comments) on 経年, which the import rebuilds (Finding each)
    renamed: tuple = ()       # IDs relabelled by the rewrite (core.history.renamed: renamed_part)
    changed: tuple = ()       # records the CSV changed (core.history.overwritten: imported_changes)


def import_history(master: Path, csv_path: Path) -> HistoryImport:
    """Earlier years into 経年 from a CSV (指標ID, 年度, 実績値, 評価): every row checked, bad
    rows refused with a reason, the good ones written; nothing valid, nothing written.
    Rows of the year just before the master's also correct 指標's 前年度実績 column
    (core.rollover.previous_from_records)."""
    from ..core.contract_read import Book
    from ..core.findings import uncached_places
    from ..core.history import (MAX_CSV_BYTES, csv_rows, decode_csv, history_sheet, merged, parse_history_csv,
                                overwritten, read_history, read_kept, refuse_unrecordable, renamed, years_of)
    from ..core.list_notes import dropped_by_rebuild
    from ..core.plan_types import WritePlan
    from ..core.rollover import previous_from_records

    csv_path = Path(csv_path)
    check_regular_file(csv_path, "CSV ファイル")
    try:
        # One byte past the limit is enough for decode_csv to refuse it: a 500 MB file read
        # whole cost 500 MB before 「大きすぎます」.
        with open(csv_path, "rb") as fh:
            raw = fh.read(MAX_CSV_BYTES + 1)
    except OSError as exc:
        raise UserError(f"CSV ファイル「{csv_path.name}」を読めません（{system_reason(exc)}）") from None
    content = decode_csv(raw, csv_path.name)
    csv_rows(content, csv_path.name)     # the file itself, refused before the master is opened

    def make(fs):
        d = fs.data
        refuse_unrecordable(d.indicators, uncached_places(d.findings))
        grid = fs.state.grids.get(c.HISTORY)
        history = read_history(grid, d.indicators, d.settings.fiscal_year)
        parsed = parse_history_csv(content, d.indicators, d.settings.fiscal_year, history)
        if not parsed.records:
            return WritePlan(), (parsed, [], [], 0, (), (), ())
        after, kept = merged(history, parsed.records), read_kept(grid)
        recorded = set(years_of(history))
        changed = tuple(x for year in sorted({y for _i, y, _r in parsed.records} & recorded)
                        for x in overwritten(grid, after, year))
        sheet = history_sheet(after, d.indicators, kept)
        before = d.settings.fiscal_year - 1
        last_year = {ind_id: record for ind_id, year, record in parsed.records if year == before}
        cells, untouched = previous_from_records(Book(fs.sheets, fs.state.names), d, before, last_year)
        notes = tuple(dropped_by_rebuild(fs.state, None, (c.HISTORY,), c.HISTORY_IMPORT))
        return WritePlan([sheet], cells=cells), (parsed, cells, untouched, before if last_year else 0, notes,
                                                 tuple(renamed(after, kept, d.indicators)), changed)

    # keep_grids: the 前年度実績 column is found on the sheets the contract has just read.
    (parsed, cells, untouched, before, notes, relabelled, changed), written = write_planned(master, make,
                                                                                            keep_grids=True)
    return HistoryImport(len(parsed.records), parsed.replaced, parsed.refusals, written,
                         len(cells), tuple(untouched), before, notes, relabelled, changed)


class YearCarried(NamedTuple):
    report: object            # renkei_xl.core.carry.CarryReport
    written: Written
    source: Path


def carry_year(master: Path, source: Path) -> YearCarried:
    """A closed year from its own master (``source``, only read: it may be open in Excel)
    into a later year's ``master``: core.carry says what changes and why."""
    from ..core.calc_on_load import refuse_stale
    from ..core.carry import carry_plan
    from ..core.findings import uncached_places
    from ..core.history import refuse_unrecordable
    from ..core.pipeline import recalculate
    from ..workbook.session import file_named, opened

    master, source = check_path(master), check_path(source)
    check_named_year(source, fiscal_year_of(source))
    if same_file(master, source):
        raise UserError("取り込むマスターが、取り込み先のマスターと同じファイルです。"
                        "前の年度のマスターを指定してください")
    with opened(source) as fs:
        d = fs.data
        try:
            # The older master's refusals are said of it by its name. From inside the write
            # of ``master`` (carry_plan refuses the same cells) they began with the later
            # master's name, 「2024年度_マスター.xlsm: 指標!H7「#N/A」…」, and sent staff to a
            # cell of the master that holds no error; refuse_stale said 「このマスター」 of either.
            refuse_stale(d.findings, f"{c.HISTORY}に取り込む")
            refuse_unrecordable(d.indicators, uncached_places(d.findings))
            closed = recalculate(d.settings, d.indicators, d.entries, d.findings)
        except UserError as exc:
            raise file_named(source, exc) from None
        listed = saved_list(fs)

    def make(fs):
        return carry_plan(fs.state, fs.sheets, fs.data, d, closed, listed)

    # keep_grids: the 前年度実績 columns are found on the sheets the contract has just read.
    report, written = write_planned(master, make, keep_grids=True)
    return YearCarried(report, written, source)


def dropped_lines(notes) -> list[str]:
    """The notes (comments) and charts a rebuilt tool sheet lost, as the command line says
    each (core.list_notes.dropped_by_rebuild: recalc names them in 検証結果 the same way)."""
    return [f"【注意】{f.message}。{f.hint}" for f in notes]


def carried_lines(done: YearCarried) -> list[str]:
    """What the command line tells staff after a year was carried from its master."""
    r = done.report
    again = f"、記録済みの{r.year}年度を置き換え" if r.replaced else ""
    lines = [f"{r.year}年度のマスター「{done.source.name}」の実績値と評価を「{c.HISTORY}」に取り込みました"
             f"（{r.recorded} 指標{again}）: {done.written.path}"]
    if done.written.backup:
        lines.append(f"バックアップ: {done.written.backup}")
    if r.previous or r.emptied:
        lines.append(f"・各シートの「{c.PREVIOUS_HEADER.format(year=r.year)}」の列も、{r.year}年度のマスターの値に"
                     f"しました（{r.previous} 行）")
    if r.emptied:
        lines.append(f"　{r.year}年度のマスターにない指標IDの {r.emptied} 行は、その列を空にしました"
                     "（その後に加えた行など）")
    if r.unmatched:
        names = listed((f"「{n}」" for n in r.unmatched), "シート")
        lines.append(f"【注意】シート{names}の市町村は {r.year}年度のマスターにないため、その「"
                     f"{c.PREVIOUS_HEADER.format(year=r.year)}」の列はそのままにしました（名前を変えた市町村なら"
                     f"前の名前の {r.year}年度の値、加わった市町村なら空のはずです。違うときは直してください）")
    if r.errors:
        lines += [p.render(p.most) if isinstance(p, Listing) else p
                  for p in error_parts(r.year, r.errors, done.written.path.name, done.source.name, r.later_year)]
    lines += [rendered(p) for p in closed_year_stale(r.stale, r.recorded, r.year, str(done.source))]
    lines += [rendered(p) for p in carried_changes(r)]
    if r.renamed:
        lines.append(rendered(renamed_part(r.renamed, f"{r.year}年度のマスターか「{c.HISTORY}」", IMPORT_RENAMED_MEND)))
    lines += dropped_lines(r.notes)
    lines.append(reflected_line(str(done.written.path)))
    return lines


def reflected_line(master: str) -> str:
    """The last line of a history import (of a master or a CSV): 集計 draws 経年 when it is
    recalculated, said as the face does it (core.carry.recalc_step). No button imports
    history, and the command line was told 「次に「評価を再計算」したときに」 with no command."""
    return f"集計の年度別の達成割合は、このマスターで{recalc_step(master, 0, 'と')}反映されます。"

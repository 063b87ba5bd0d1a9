"""What a collect says of its files and cells, on both faces: the files refused, the cells
left out, kept or warned of, the files imported and the cells changed, each list capped by
the one rule (core.values, core.sheet_findings) and its rest counted with where the whole
record is. The 取込 button shows these parts in its box (core.alerts.alert_text), fewer
only to fit; the command line prints them at their caps (core.alerts.printed). The command
line printed every change and every file on a line of its own (500 returns: 500 lines, and
every imported cell named) while the button cut the same lists."""

from __future__ import annotations

from typing import Sequence

from ...core import contract as c
from ...core.alerts import Listing, Part
from ...core.face import step
from ...core.findings import LABEL_CHANGED
from ...core.sheet_findings import LISTED_FINDINGS
from ...core.values import MUNICIPALITIES, count_text, listed_limit
from .records import HELD_COLUMN, CollectReport, held_line, held_summary, kept_line, noted_line

# The most cells a collect's list names (changed, left out, kept, warned of): cells named
# with their place and why, as a run's findings are named.
SHOWN_CELLS = LISTED_FINDINGS
# The most returned files a list names: one a municipality, so a region's in full.
SHOWN_FILES = listed_limit(MUNICIPALITIES)


def collect_step(master: str = "", then: str = "て") -> str:
    """回収ファイル取込 as the face reading the message does it (core.face.step): the button's
    caption pressed, or the whole command with ``master`` as the command line names it and
    the buttons' own folder (回収). 確定版を書き出し's and the rollover's 【注意】 told the
    command line 「回収ファイル取込をしてから」 and 「マスターで取り込み」: a button's caption and
    no command, after a run of 「renkei-xl export」."""
    from ...core.carry import command_arg

    book = command_arg(master) if master else "（マスター）"
    return step(c.COLLECT, f"renkei-xl collect {book} {c.COLLECT_DIR}", then)


def refused_more() -> str:
    """The count of the refused files not shown and how to see them, in the face's own step
    (core.face.step): nothing holds them but the folder, so the next run lists them (a file
    imported meanwhile is not imported twice)."""
    again = step(c.COLLECT, "renkei-xl collect", "と")
    return f"　…ほか {{n}} 件（上のファイルを直すか回収フォルダーから移してから、もう一度{again}、残りのファイルと理由を表示します）"


def collect_parts(report: CollectReport, done: bool = True, every_change: bool = False) -> list[Part]:
    """What both faces list of a collect: left_out_parts, then the files imported and the
    cells changed. ``done`` False: nothing was written (a dry run), said of what it would do.
    ``every_change``: the cells changed all listed, not SHOWN_CELLS of them: the command
    line's --dry-run is where staff read the diff before it is applied (old → new per cell,
    as the customer asked), and a preview that named ten of 300 changes would not be one."""
    parts = left_out_parts(report, done)
    if report.records:
        parts += ["", imported_listing(report, done)]
        if report.changes:
            parts.append(changes_listing(report, f"書き換え{'た' if done else 'る'}セル {len(report.changes)} か所:\n",
                                         cap=len(report.changes) if every_change else SHOWN_CELLS))
        elif done:
            parts.append("書き換えたセルはありません（上のとおり取り込まなかったセルのほかは、値がマスターと同じでした）。"
                         if report.held or report.kept else "値はマスターと同じでした（書き換えたセルはありません）。")
    return parts


def imported_listing(report: CollectReport, done: bool = True) -> Listing:
    """The files imported, with their municipality; how many cells each changed is on 取込履歴."""
    files = [f"{r.file_name}（{r.municipality}）" for r in report.records]
    if not done:
        return Listing(files, "ほか {n} 件", cap=SHOWN_FILES, head=f"取り込めるファイル {len(files)} 件: ",
                       sep="、", more_sep=" ")
    return Listing(files, f"ほか {{n}} 件（シート「{c.IMPORT_LOG}」にあります）", cap=SHOWN_FILES,
                   head=f"{len(files)} 件のファイルを取り込みました: ", sep="、", more_sep=" ")


def changes_listing(report: CollectReport, head: str = "", cap: int = SHOWN_CELLS) -> Listing:
    """The cells changed, old → new (the button's question before it writes has no head)."""
    return Listing([f"・{ch.line()}" for ch in report.changes], "　…ほか {n} か所", cap=cap, head=head)


def left_out_parts(report: CollectReport, done: bool = True) -> list[Part]:
    """What a collect did not take, each kind under its heading: the files refused, the
    cells held, the master's corrections kept, the warnings on cells taken, the files
    imported before, and the copies of a file taken in this run (an attachment saved twice).
    ``done`` False: the import was cancelled or is a dry run, and the held cells are said of
    what it would have done. Each heading is its list's head (core.alerts.Listing), so a
    message that gives way keeps it (qa-150)."""
    parts: list[Part] = []
    refused = report.refused
    if refused:
        parts += ["", Listing([f"・{r.name}: {r.reason}" for r in refused], refused_more(), cap=SHOWN_FILES,
                              head=f"取り込めないファイル {len(refused)} 件（このファイルからは何も取り込んでいません）:\n")]
    parts += _cells_listed(held_summary(report.held, done), [held_line(name, f) for name, f in report.held],
                           f"（シート「{c.IMPORT_LOG}」の「{HELD_COLUMN}」にあります）" if done else "")
    parts += _cells_listed(f"配布後にマスターで直した値を残{'した' if done else 'す'}セル {len(report.kept)} か所"
                           "（回答ではそのセルが配布時のままでした）:", [kept_line(name, f) for name, f in report.kept])
    # A label a municipality wrote into (findings.LABEL_CHANGED) is no 入力チェック warning: the
    # return itself, left in the folder, is where the whole text stays.
    labels = [(name, f) for name, f in report.noted if f.type == LABEL_CHANGED.code]
    checked = [(name, f) for name, f in report.noted if f.type != LABEL_CHANGED.code]
    took = "取り込みました" if done else "取り込みます"
    parts += _cells_listed(f"入力チェックで警告になるセル {len(checked)} か所（{took}）:",
                           [noted_line(name, f) for name, f in checked], "（入力チェックで示します）")
    parts += _cells_listed(f"連携事業名・評価指標が配布時と違うセル {len(labels)} か所（値は{took}）:",
                           [noted_line(name, f) for name, f in labels], "（文はそれぞれの回答ファイルに残っています）")
    already = [r.name for r in report.already]
    if already:
        parts += ["", Listing(already, "ほか {n} 件", cap=SHOWN_FILES, head=f"取り込み済みのファイル {len(already)} 件: ",
                              sep="、", more_sep=" ")]
    if report.same:
        parts += ["", Listing([f"・{r.name}: {r.reason}" for r in report.same], "　…ほか {n} 件", cap=SHOWN_FILES,
                              head=f"同じ内容のファイル {len(report.same)} 件（1 つだけ取り込みます）:\n")]
    return parts


def _cells_listed(title: str, said: list[str], where: str = "") -> list[Part]:
    """A titled list of cells, at most SHOWN_CELLS of them and fewer where a button's message
    has no room (an alert has no scroll bar); ``where``: where the whole list is. The title
    is the list's head, given up with it only: a line of its own, it was the longest plain
    line and left out first, and 「・取り込みません: …」 stood without what it was (qa-150)."""
    if not said:
        return []
    return ["", Listing([f"・{line}" for line in said], f"　…ほか {{n}} か所{where}", cap=SHOWN_CELLS, head=title + "\n")]


def collect_lines(report: CollectReport) -> list[str]:
    """What the command line lists of a collect: collect_parts as the button lists them
    (core.alerts.printed), each list at its cap, the rest counted with where it is."""
    from ...core.alerts import printed

    lines = printed(collect_parts(report, done=not report.dry_run, every_change=report.dry_run))
    return lines[1:] if lines[:1] == [""] else lines


def written_lines(report: CollectReport, master: object) -> list[str]:
    """What the command line says after collect_lines: what was written, where the record
    is and the step after it (later_year's 【注意】 comes after these)."""
    from .records import recalc_next

    if report.written is None:
        if not report.dry_run:
            return ["取り込むファイルがないため、マスターは変更していません。"]
        # the preview's next step: a staff member who read the diff must learn how to apply it
        return [f"取り込める {len(report.records)} ファイル、変更 {len(report.changes)} セル（まだ書き込んでいません）。",
                *(["取り込むときは、同じコマンドを --dry-run を付けずに実行してください。"] if report.records else [])]
    lines = [f"{report.imported_line()}: {report.written.path}"]
    if report.written.backup:
        lines.append(f"バックアップ: {report.written.backup}")
    lines.append(f"取り込みの記録はシート「{c.IMPORT_LOG}」にあります。")
    return lines + ([recalc_next(str(master))] if report.changes else [])


def outstanding_parts(held: Sequence, detail: str, then: str, master: str = "", year: str = "",
                      vital: bool = True) -> list[Part]:
    """What 確定版を書き出し and the rollover say of the held cells still outstanding
    (core.held.Outstanding): where each is, what was sent, in which file and when, and what to
    do, as collect said it when it held them. ``detail``: what was computed without them;
    ``then``: how the sentence of what to do ends (「もう一度書き出してください」), a ``Whole``
    where it holds a command staff copy (the rollover's `renkei-xl history import`), and the
    sentence is one then; else it is a plain line, which a button's message may cut: made
    Whole for the button's caption alone, it was kept before the rollover's command, which the
    box then cut in its middle (「renke…（中略）…績」, qa-143's defect); ``master``:
    the master as the command line names it; ``year``: 「2023年度の」 where the message is
    about another master than the one named; ``vital``: the first cell kept where the message
    is short of room (core.alerts.Listing). A warning, never a refusal: staff may publish
    with a value still to come, but not without being told."""
    from ...core.alerts import Detail, Whole

    if not held:
        return []
    return [Listing([f"・{o.line()}" for o in held],
                        f"　…ほか {{n}} か所（シート「{c.IMPORT_LOG}」の「{HELD_COLUMN}」にあります）", cap=SHOWN_CELLS,
                        vital=vital, head=f"【注意】「{c.COLLECT}」で取り込まなかったセルが {count_text(len(held))} か所、まだ"
                                         f"{year}マスターに入力されていません（その市町村は取り込み済みです）:\n"),
            Detail(f"　{detail}"),
            (Whole if isinstance(then, Whole) else str)(
                f"　{year}マスターのそのセルに値を入力するか、市町村に直したファイルを送ってもらい"
                f"{collect_step(master)}取り込んでから、{then}")]


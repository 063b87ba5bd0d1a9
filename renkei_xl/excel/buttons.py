"""What the buttons on メニュー run: ``RunPython "import renkei_xl.excel.buttons as m; m.check()"``.

Each click starts a new Python process, so this module imports only the light core at
the top (no openpyxl, pandas or xlsxwriter of its own: xlwings brings what it brings) and
each operation imports what it needs when it runs. Every entry point reads the open
workbook in bulk, calls the same core as the command line (contract_read → pipeline →
renkei_xl.core.plan's write plan) and applies that plan through Excel (renkei_xl.excel.apply),
so both faces write the same and nothing staff built is lost. Whatever
happens ends in a Japanese message box, never a traceback dialog.
"""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

from ..core import contract as c
from ..core.alerts import Listing, Part, Whole, alert_text
from ..core.errors import UserError, out_of_memory, released
from ..core.refs import cell_ref
from ..core.unsaved import read_only_click
from ..errorlog import BUTTON_LOG, log_error, log_path
from ..interpreter import SAID_BY_CLICK, say
from ..core.model import SYMBOLS, Finding, Report
from ..clock import now
from .book import LiveBook, array_cells_message, online_book_message
from .engines import live_book

ERROR_LOG = log_path(BUTTON_LOG)
# How long a click waits for an earlier click on the same master still writing it, where
# clicks can overlap (LiveBook.clicks_overlap), before it stops and says so.
CLICK_WAIT_SECONDS = 30.0
# Where a remote-engine book's file is, set per request by the renkei-xl server
# (renkei_xl.server.place.Place: master(live) -> Path, shown(path) -> str, shown_text(text) -> str).
# Unset, the book's name is resolved in the working directory and paths are shown as they are.
REMOTE_PLACE: ContextVar = ContextVar("renkei_remote_place", default=None)
# What a button's body returns: its message's parts, fitted to the box once (core.alerts) by
# _run with whatever the click says first (core.unsaved.read_only_click's note); or one text.
Said = Union[str, list[Part]]


# ------------------------------------------------------------------- entry points

def check(book=None) -> None:
    """入力チェック: findings to 検証結果, bad cells marked (like ``renkei-xl validate``)."""
    _run(c.CHECK, _check, book)


def recalc(book=None) -> None:
    """評価を再計算: 一覧, 集計 and 検証結果 rebuilt (like ``renkei-xl recalc``)."""
    _run(c.RECALC, _recalc, book)


def split(book=None) -> None:
    """配布用ファイル作成: one input workbook per municipality in 配布用 beside the master."""
    _run(c.SPLIT, _split, book)


def collect(book=None) -> None:
    """回収ファイル取込: returned files in 回収 beside the master, checked and imported."""
    _run(c.COLLECT, _collect, book)


def export(book=None) -> None:
    """確定版を書き出し: the values-only 一覧 (and 集計) in 確定版 beside the master."""
    _run(c.EXPORT, _export, book)


def rollover(book=None) -> None:
    """次年度のマスターを作成: next year's master beside this one (like ``renkei-xl rollover``)."""
    _run(c.ROLLOVER, _rollover, book)


# ------------------------------------------------------------------------ framing

def _caller():
    import xlwings as xw

    return xw.Book.caller()


def _run(title: str, body: Callable[[LiveBook, str], Said], book=None) -> None:
    """Run one button: status bar while working, one alert at the end, whatever happens.

    A book opened read-only is judged first (_read_only_note): 回収ファイル取込 stops there,
    入力チェック and 評価を再計算 say first that their results cannot be kept in the master.

    A button that writes into the book (contract.BOOK_WRITERS) readies it first
    (LiveBook.prepare): a legacy shared workbook is refused there, before anything is read
    or asked, as RenkeiServer.bas refuses it before sending; the buttons that only make files
    from the saved master run in one, since Excel forbids nothing they do there.

    Without a book (Book.caller() failing: the VBA module and the Python xlwings differ)
    there is nobody to show an alert to: the Japanese sentence goes to RunPython's own box
    (stderr and exit code 1, shown by Renkei.bas' RenkeiPythonFailed), without the traceback
    that buried it.
    """
    if book is None:
        try:
            book = _caller()
        except Exception as exc:
            _say_in_runpythons_box("Excel のブックに接続できませんでした。ボタンのマクロ（xlwings）と Python 側の "
                                   "xlwings のバージョンが違う可能性があります。「renkei-xl upgrade-macros」で"
                                   f"マクロを更新してください（{type(exc).__name__}: {exc}）", exc)
    live = None
    try:
        live = live_book(book)
        with _one_click_at_a_time(live):
            first = _read_only_note(live, title)
            live.calculate()                # a book set to manual calculation shows stale results
            if title in c.BOOK_WRITERS:
                live.prepare()              # grouped sheets, a shared workbook: before anything is read
            if said := live.year_name_refusal(live.book.name):   # every output carries the year
                raise UserError(said)
            live.status(f"{title}: ブックを読み込んでいます…")
            message = _as_button(body, live, title)
    except UserError as exc:
        _alert(book, live, alert_text([f"{c.stopped(title)}\n\n{exc}"]), critical=True)
    except Exception as exc:  # the last guard: a sentence for staff, the details in a log
        if REMOTE_PLACE.get() is not None:
            # On the server the request fails as a whole (500 with a 受付番号, traceback in
            # the server's error log): nothing half-made is replayed in the workbook.
            raise
        released(exc)   # what the failed work held, freed before the log's record needs memory
        # said in the button's words too (the run again: core.face.again), outside the body
        _alert(book, live, _as_button(_unexpected_alert, title, exc, _log_error(title)), critical=True)
    else:
        _alert(book, live, alert_text([*first, *([message] if isinstance(message, str) else message)]))
    finally:
        if live is not None:
            live.status(None)


def _unexpected_alert(title: str, exc: Exception, log: str) -> str:
    """What staff are told of a click the last guard caught (``log``: where its details
    went): a place the tool could not write (rights, a read-only place, no room) said as
    such, the memory run out said as what they can do about it (core.errors.out_of_memory),
    anything else as an unexpected error to send in; each after what was written before it
    stopped (PartlyWritten)."""
    from ..safety import place_refusal

    cause = exc.cause if isinstance(exc, PartlyWritten) else exc
    partly = [c.PARTLY_WRITTEN, ""] if isinstance(exc, PartlyWritten) else []
    if (said := place_refusal(cause)) is not None:
        return alert_text([f"{c.stopped(title)}\n\n{said}", "", *partly, f"（詳細: {log}）"])
    said = ([f"{c.stopped(title)}\n\n{out_of_memory()}"] if isinstance(cause, MemoryError) else
            [f"{c.named(title)}で予期しないエラーが発生しました。", "", f"{type(cause).__name__}: {cause}"])
    return alert_text([*said, "", *partly, f"詳細は {log} に記録しました。担当者にこのファイルを送ってください。"])


def _as_button(body: Callable[..., Said], *args) -> Said:
    """``body(*args)`` run as a button's (core.face.BY_BUTTON): every step its messages ask
    for is said as a button's (core.face.step), and a step naming `renkei-xl history import`
    says to save the book first, since a button's collect writes the open book and the command
    reads the saved file (client-146). The last guard's message too (_unexpected_alert): a
    place refused or the memory run out asked the PC's button for 「もう一度実行して」."""
    from ..core.face import BY_BUTTON

    token = BY_BUTTON.set(True)
    try:
        return body(*args)
    finally:
        BY_BUTTON.reset(token)


def _read_only_note(live: LiveBook, title: str) -> list[str]:
    """The one rule for a book Excel opened read-only (core.unsaved.read_only_click), on the
    server (RenkeiServer.bas' word, which admission gives the payload) as on Windows (COM),
    judged as staff opened the book, before Excel's calculation can mark it changed: its
    refusal raised, or the lines the click's message starts with."""
    said = read_only_click(title, live.book_state())
    if said.refused:
        raise UserError(said.refused)
    return [said.note, ""] if said.note else []


def _one_click_at_a_time(live: LiveBook):
    """Where a click can start while another still writes the same master (a Mac), the
    tool's own writer lock on the master's file, as every command-line writer takes it
    (safety.writer_lock): the later click waits, then stops in Japanese having changed
    nothing, instead of two processes writing one book through Excel at once. Held for
    the reading and writing only, not while the last message waits for staff. A book with
    no file on this PC has nothing to lock by: its clicks run as before."""
    from contextlib import nullcontext

    if not live.clicks_overlap:
        return nullcontext()
    try:
        name = live.file_name()
    except UserError:
        return nullcontext()
    path = Path(name)
    if "://" in name or not path.is_absolute() or not path.is_file():
        return nullcontext()
    from ..safety import writer_lock

    return writer_lock(path, timeout=CLICK_WAIT_SECONDS)


def _alert(book, live: Optional[LiveBook], text: str, critical: bool = False) -> None:
    """The click's one message. On the server every server path in it is written as the share
    names it, whichever part of the message quotes one: a refusal, and as much a line of a
    message that says the click ran (collect's list of the files it could not read quoted
    each one's path on the server)."""
    place = REMOTE_PLACE.get()
    if place is not None:
        text = place.shown_text(text)
    try:
        if live is not None:
            live.alert(text, critical=critical)
        else:
            from ..core.alerts import BUTTON_CHARS, cut
            from .book import ALERT_TITLE

            book.app.alert(cut(text, BUTTON_CHARS), title=ALERT_TITLE, mode="critical" if critical else "info")
    except Exception:
        # Not even a message box: the sentence goes where RunPython shows Python's stderr (in
        # Renkei.bas' RenkeiPythonFailed box), which it shows on Windows only for an exit code
        # other than 0. Printed to stdout and ending well, the click said nothing at all.
        if place is not None:
            print(text)
            return
        _say_in_runpythons_box(text)


def _say_in_runpythons_box(text: str, cause: Optional[BaseException] = None) -> None:
    """RunPython shows Python's stderr only after an exit code other than 0 (on Windows), so
    the click ends with 1; interpreter.say writes the sentence after SAID_BY_CLICK, which tells
    its box the sentence is the click's own, in the code page the box reads."""
    say(text)
    raise SystemExit(1) from cause


def _log_error(title: str):
    log_error(ERROR_LOG, title)
    return ERROR_LOG


def _shown(path: Path) -> str:
    """A folder as the staff can find it (the server's share name on the server)."""
    place = REMOTE_PLACE.get()
    return str(path) if place is None else place.shown(path)


# ----------------------------------------------------------------- check, recalc

def _evaluate(live: LiveBook, title: str):
    from ..core.pipeline import recalculate

    data = live.read()
    live.status(f"{title}: 集約・評価しています…")
    return data, recalculate(data.settings, data.indicators, data.entries, data.findings)


def _apply(live: LiveBook, plan) -> list[str]:
    """The plan written through Excel, protection lifted on every sheet it touches, the
    tool sheets it writes protected again (renkei_xl.core.plan decides everything written).

    The optional cells (メニュー's status) on a sheet protected with a password are left
    out (WritePlan.leave_out) instead of refusing the command; returns the lines that say so."""
    from ..core.plan import owned_sheets
    from .apply import apply_plan

    left_out = plan.leave_out(live.password_sheets(plan.optional_sheets))
    touched = [*owned_sheets(plan), *plan.staff_sheets]
    plan.refuse_taken(live.other_tabs())   # Excel's 1004 halfway otherwise (name taken)
    plan.refuse_added(live.sheetnames, live.structure_locked())   # before anything is written
    written = [(e.sheet, e.row, e.col) for e in plan.cells]
    plan.refuse_merged(live.merges_over(written))   # Excel's 1004 halfway otherwise
    plan.refuse_data_tables(live.data_tables_over(written))   # the same
    plan.refuse_long_texts()   # the same (a text over 32,767 with its prefix)
    plan.refuse_past_the_extent()                 # a sheet no command could read again otherwise
    in_arrays = [f"{sheet}!{cell_ref(row, col)}" for sheet, row, col in live.array_cells(written)]
    if in_arrays:                                   # Excel's 1004 halfway otherwise
        raise UserError(array_cells_message(in_arrays))
    for sp in plan.sheets:                          # the same: PageSetup's CenterFooter
        if sp.print_setup is not None and (problem := live.footer_problem(sp.name, sp.print_setup)):
            raise UserError(problem)
    if problem := live.formats_problem(plan):     # the same: 「セルの書式が多すぎます」
        raise UserError(problem)
    with live.quiet(), live.writable(touched, protect=[s.name for s in plan.sheets if s.protect], written=written):
        try:
            apply_plan(live, plan)
        except Exception as exc:
            if live.is_desktop:      # Excel has taken the writes before it (the remote engine: none yet)
                raise PartlyWritten(exc) from exc
            raise
    return [left_out_line(sheet, [e.ref for e in left_out if e.sheet == sheet])
            for sheet in dict.fromkeys(e.sheet for e in left_out)]


class PartlyWritten(Exception):
    """Excel stopped a desktop click partway through its writes (a COM error past every check
    made before writing): some sheets hold the new run, the rest the last one, and a save
    would keep both. _run says so in the words the server's VBA uses (contract.PARTLY_WRITTEN)."""

    def __init__(self, cause: BaseException):
        self.cause = cause
        super().__init__(f"{type(cause).__name__}: {cause}")


def left_out_line(sheet: str, refs: Sequence[str]) -> str:
    """What a click says of the status cells it did not write."""
    return (f"シート「{sheet}」はパスワードで保護されているため、最後の実行の日時と結果（{'・'.join(refs)}）は"
            "書き込んでいません。")


def _check(live: LiveBook, title: str) -> Said:
    from ..core.plan import validate_plan
    from .apply import master_state

    data, result = _evaluate(live, title)
    plan, result = validate_plan(master_state(live), data, result, title, now())
    live.status(f"{title}: 検証結果を書き込んでいます…")
    left_out = _apply(live, plan)
    report = result.report
    head = ("入力チェックが終わりました。誤りは見つかりませんでした。" if report.ok else
            f"入力チェックが終わりました。エラーが {len(report.errors)} 件あります。")
    return [head, *_findings_parts(result.findings), "",
            f"結果はシート「{c.FINDINGS}」にあります（セル欄をクリックすると該当のセルへ移動します）。", *left_out]


def _recalc(live: LiveBook, title: str) -> Said:
    from ..core.pipeline import missed_note
    from ..core.plan import REBUILT_BY_RECALC, recalc_plan
    from .apply import master_state

    data, result = _evaluate(live, title)
    plan, result = recalc_plan(master_state(live), data, result, title, now())
    live.status(f"{title}: {'・'.join(REBUILT_BY_RECALC)}を書き込んでいます…")
    left_out = _apply(live, plan)
    s = result.summary
    counts = "　".join(f"{sym} {s.counts.get(sym, 0)}件" for sym in SYMBOLS)
    return [
        f"評価を再計算しました（{len(result.indicators)} 指標）。", counts, s.rate_line,
        *filter(None, [missed_note(result)]), "",
        *_findings_parts(result.findings), "",
        f"シート{''.join(f'「{name}」' for name in REBUILT_BY_RECALC)}を作り直しました。", *left_out]


def _findings_parts(findings: Sequence[Finding]) -> list[Part]:
    """The counts, and the findings the command line prints, in its order, as far as the
    message holds them (listed_findings; all are on 検証結果)."""
    from ..core.sheet_findings import LISTED_FINDINGS, finding_line, listed_findings

    shown = listed_findings(findings)
    return [f"検証: {Report(tuple(findings)).counts()}",
            Listing([f"・{finding_line(f)}" for f in shown.findings],
                    f"　…ほか {{n}} 件（シート「{c.FINDINGS}」を見てください）", cap=LISTED_FINDINGS,
                    beyond=shown.omitted, vital=True)]


# ------------------------------------------------------ split, collect, export

def master_path(live: LiveBook) -> Path:
    """The master's file on disk, for the operations that read or sit beside it.

    Excel (Windows, macOS) gives the full path. The remote engine knows the book only by
    its name, which is resolved in the working directory of the Python process.
    """
    place = REMOTE_PLACE.get()
    if place is not None and not live.is_desktop:
        return place.master(live)
    name = live.file_name()
    if "://" in name:
        raise UserError(online_book_message())
    path = Path(name)
    if not path.is_absolute():
        if live.is_desktop:
            raise UserError("このブックはまだ保存されていません。マクロ有効ブック（.xlsm）として保存してから"
                            "もう一度ボタンを押してください")
        path = Path.cwd() / path
    if not path.exists():
        raise UserError(f"マスターのファイル「{path}」が見つかりません。保存してからもう一度ボタンを押してください")
    return path


def _saved_or_ask(live: LiveBook, title: str, master: Path) -> bool:
    """split reads the saved file: unsaved edits are saved first, with the staff's consent.

    Only Windows can tell (Workbook.Saved); the server compares the workbook sent with the
    saved master before the click runs (server.admission). On a Mac, which cannot tell, the
    open book is compared with the saved master as the server compares: the files were made
    from the saved master without a word, leaving out edits not saved. A read-only copy (a
    colleague had the master open) cannot be saved over it: Excel's Save failed there, and
    staff got 「予期しないエラー」. What the tool reads from it is compared with the saved
    master instead: the same, the files are made from the saved master; otherwise staff are
    told to reopen, in the server's words (core.unsaved).
    """
    from ..core.unsaved import RECALCULATED_ON_OPENING, BookState, read_only_steps, steps

    if live.is_desktop and not live.tells_saved:
        _same_as_saved(live, master, "\n" + steps(BookState())[0])
        return True
    if not live.unsaved():
        return True
    if live.read_only():
        _same_as_saved(live, master, read_only_steps(edited=True))
        return True
    answer = live.alert(f"保存されていない変更があります。ブックを上書き保存してから{c.named(title)}を続けますか？\n"
                        f"（「キャンセル」で中止します。{RECALCULATED_ON_OPENING}）", buttons="ok_cancel")
    if answer != "ok":
        return False
    live.book.save()
    return True


def _same_as_saved(live: LiveBook, master: Path, said: str) -> None:
    """Refused, saying ``said``, when what the tool reads of the open book differs from the
    saved master the files would be made from."""
    from ..core.unsaved import differing_sheets
    from ..workbook.session import load_master

    differ = differing_sheets(load_master(master, as_named=False), live.read())   # the open book's name was judged
    if differ is not None:
        raise UserError(f"開いているブックの{differ}が、保存されているマスター「{master.name}」と違います。"
                        + said.rstrip("。"))


def _split(live: LiveBook, title: str) -> Said:
    from ..core.business_days import reply_deadline
    from ..cycle.distribute import backups_parts, caution_listings, now, split_master, written_listing

    master = master_path(live)
    if not _saved_or_ask(live, title, master):
        return c.stopped(title)
    outdir = master.parent / c.SPLIT_DIR     # made by split_master once every name is settled
    live.status(f"{title}: 市町村ごとのファイルを作っています…")
    issued = now()
    due = reply_deadline(issued.date())
    place = REMOTE_PLACE.get()
    written = split_master(master, outdir, deadline=due.day, issued=issued,
                           read=place.saved_read(master) if place is not None else None)
    saved = backups_parts(written, _shown) + caution_listings(written)
    return [f"市町村ごとの入力用ファイルを {len(written)} 件作りました。",
            f"{due.note()}（入力用ファイルに記載しました）。", "",
            Whole(f"保存先: {_shown(outdir)}"),
            written_listing(written),
            "", *([*saved, ""] if saved else []), "それぞれの市町村にメールで送ってください。"]


def _export(live: LiveBook, title: str) -> Said:
    """From the saved master, like every button that makes files (README: 保存していない変更):
    on Windows unsaved edits are saved first with the staff's consent; on the server the
    click is refused unless the workbook sent is the saved one (renkei_xl.server.admission).
    The 一覧 is recomputed, so a stale one is never exported.

    The PDF comes with it where Excel is behind the book; the remote engine runs on a
    server that may have neither Excel nor LibreOffice, so there only the .xlsx is made.
    A PDF that fails does not undo the .xlsx: the alert says which one exists.
    """
    import dataclasses

    from ..cycle.export import default_name, export_data, export_lock, stale_pdf_note, undrawn_note, write_pdf

    master = master_path(live)
    if not _saved_or_ask(live, title, master):
        return c.stopped(title)
    place = REMOTE_PLACE.get()
    sent = place.sent_data if place is not None else None     # admission read this very payload
    data = sent if sent is not None else live.read()
    outdir = master.parent / c.EXPORT_DIR
    from ..safety import make_folder, shown_path

    # Named before the folder is made: a folder too deep for Excel is refused with nothing made.
    target = outdir / default_name(data.settings, shown_path(outdir))
    make_folder(outdir, "確定版の保存先")
    if live.is_desktop:
        # Before the 確定版 is written, as on the command line: a PDF open or read-only was
        # found only after it, and the alert said 「何も書き込んでいません」 beside a new 確定版.
        from ..safety import check_targets

        check_targets([target.with_suffix(".pdf")])
    live.status(f"{title}: 確定版を書き出しています…")
    listed = live.grid(c.LIST) if c.LIST in live.sheetnames else None
    log = live.grid(c.IMPORT_LOG) if c.IMPORT_LOG in live.sheetnames else None
    note: list[str] = []
    with export_lock(target):        # the .xlsx and its PDF as one pair
        done = export_data(data, target, listed=listed, locked=True, log=log,
                           partners=(target.with_suffix(".pdf"),) if live.is_desktop else ())
        files = [done.path]
        if live.is_desktop:
            live.status(f"{title}: PDF を作っています…")
            try:
                pdf, engine = write_pdf(done.result, data.settings, done.path.with_suffix(".pdf"),
                                        keep_backup=done.backup is not None, list_plan=done.list_plan)
                files.append(pdf)
                # made: replaced_note names no old one; what it could not print is said as the command says it
                done = dataclasses.replace(done, pdf=pdf, undrawn=undrawn_note(done.list_plan, engine))
            except UserError as exc:
                # A changed 確定版 has its old PDF named by replaced_note, as on the other faces.
                note = ["", f"PDF は作れませんでした: {exc}",
                        *filter(None, [stale_pdf_note(done.path.with_suffix(".pdf")) if done.backup is None else ""])]
    return _exported(done, outdir, files, note)


def _exported(done, outdir: Path, files: Sequence[Path], note: Sequence[str]) -> list[Part]:
    """確定版を書き出し's message. The towns not collected are a list that keeps its step:
    as one line, the longest plain one, a deep folder's message left that 【注意】 out whole
    (qa-150). Where the 確定版 is, its files and where the one it replaced is kept are
    Whole, never the lines the box cuts."""
    from ..core.pipeline import missed_note
    from ..cycle.export import cut_note, errors_note, held_parts, replaced_note, stale_parts, unreturned_parts

    result = done.result
    return [
        "確定版を書き出しました（値だけのファイルです。マクロ・数式・非表示シートは含みません）。",
        *filter(None, [errors_note(result)]), *stale_parts(done.stale, len(result.indicators)),
        *unreturned_parts(done.unreturned), *held_parts(done.held),
        *filter(None, [cut_note(result), done.undrawn]),
        result.summary.line(), *filter(None, [missed_note(result)]), "", *_findings_parts(result.findings), "",
        Whole(f"保存先: {_shown(outdir)}"), *(Whole(f"・{p.name}") for p in files),
        *(Whole(n) for n in filter(None, [replaced_note(done, _shown)])), *note]


def _collect(live: LiveBook, title: str) -> Said:
    from ..cycle.collect import UNKEYED_NOTE, plan_import
    from ..cycle.collect.later_year import report_later_lines
    from ..cycle.collect.records import recalc_next
    from ..cycle.collect.said import changes_listing, collect_parts, left_out_parts
    from .apply import master_state

    master = master_path(live)
    inbox = master.parent / c.COLLECT_DIR
    if not inbox.exists():
        from ..safety import make_folder

        make_folder(inbox, "回収用")     # in Japanese when it cannot be made; the server's log counts it
        return (f"回収用のフォルダーを作りました: {_shown(inbox)}\n\n市町村から戻ったファイル（.xlsx）をこのフォルダーに"
                "入れてから、もう一度「回収ファイル取込」を押してください。")
    data = live.read()
    live.status(f"{title}: 回収したファイルを確認しています…")
    from ..cycle.distribute import master_key_of_file

    key = master_key_of_file(master)
    report, plan = plan_import(data, master_state(live), [inbox], exclude=[master], key=key, master=master)
    changes, refusals, records = report.changes, report.refusals, report.records
    if not changes and not refusals and not records:
        return f"フォルダー「{_shown(inbox)}」に取り込むファイル（.xlsx）がありません。"
    parts: list[Part] = [Whole(f"回収フォルダー: {_shown(inbox)}")]
    if key is None:
        parts += ["", UNKEYED_NOTE]
    head = list(parts)
    if changes and live.is_desktop:
        # Excel waits for the answer. The remote engine cannot (its alert is an action the
        # client shows afterwards): there the changes are applied and listed below.
        answer = live.alert(alert_text([f"{len(records)} 件のファイルから、次の {len(changes)} か所を"
                                        "書き換えます。よろしいですか？", changes_listing(report)]), buttons="ok_cancel")
        if answer != "ok":
            return head + left_out_parts(report, done=False) + ["", "取り込みを中止しました（ブックは変更していません）。"]
    if plan.empty:
        return parts + left_out_parts(report)
    live.status(f"{title}: {len(changes)} か所を書き込んでいます…")
    left_out = _apply(live, plan)
    parts += collect_parts(report)      # the lists the command line prints (cycle.collect.said)
    if changes:
        # Whole: the next step, short, was left out with the blank lines (qa-150)
        parts += ["", Whole(recalc_next())]
    parts += [f"取り込みの記録はシート「{c.IMPORT_LOG}」にあります。", *left_out]
    late = report_later_lines(report, _shown, apart=True)
    return parts + (["", *late] if late else [])


def _rollover(live: LiveBook, title: str) -> Said:
    """From the saved file, like split: the new master is a copy of this one's package with
    only the plan's cells and the tool's sheets changed, which Excel's own copy of an open
    book could not give. This book stays as it is (the new one opens next to it)."""
    from ..cycle.rollover import TargetExists, filled_note, rollover_file, rollover_parts

    master = master_path(live)
    if not _saved_or_ask(live, title, master):
        return c.stopped(title)
    live.status(f"{title}: 新しいマスターを作っています…")
    try:
        done = rollover_file(master)
    except TargetExists as exc:
        raise UserError(f"次年度のマスター「{_shown(exc.path)}」はすでにあります{filled_note(exc.path)}。作り直す場合は、そのファイルを"
                        f"削除するか別の名前に変えてから、もう一度{c.named(title)}を押してください") from None
    return [*rollover_parts(done, _shown(done.path)), "",
            "新しいマスターを開き、「配布用ファイル作成」から新しい年度の作業を始めてください。"]

"""確定版を書き出し: the confirmed 一覧 and 集計 as a new values-only workbook, and a PDF.

The 一覧 is recomputed from the master's data (pipeline.recalculate) instead of copied,
so a stale 一覧 the staff forgot to recalculate can never be emailed. It is rendered by
the same plan and file applier as the master's (renkei_xl.core.plan, workbook.apply), into a
brand-new workbook: nothing of the master (VBA, defined names, hidden sheets, external
links, document properties naming the staff) can travel with it, and every string is
written as text, never a formula.

The sheets stay protected without a password, as the plan has them:
the recipients read a confirmed list, protection keeps a stray keystroke from changing a
symbol before it is forwarded, and anyone who needs to can lift it (校閲 → シート保護の解除).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

from ..core import contract as c
from ..core.alerts import Part
from ..core.face import again
from ..core.contract_read import MasterData
from ..core.errors import UserError
from ..core.model import Result, Settings
from ..core.plan_types import SheetPlan
from ..safety import refuse_not_file, same_file
from ..scratch import scratch_folder

SOFFICE_TIMEOUT = 240  # seconds; a first start with a fresh profile takes a few


@dataclass
class ExportResult:
    path: Path
    pdf: Optional[Path]
    result: Result
    settings: Settings
    pdf_engine: str = ""
    stale: tuple[str, ...] = ()     # 指標IDs the master's own 一覧 shows otherwise (stale_note)
    backup: Optional[Path] = None   # the earlier 確定版 it replaced, when that said something else
    list_plan: Optional[SheetPlan] = None   # its 一覧 as laid out (confirmed_list), for a PDF made after it
    unreturned: tuple[str, ...] = ()   # municipalities 取込履歴 has no return of (unreturned_note)
    undrawn: str = ""               # what the PDF prints as nothing (undrawn_note)
    held: tuple = ()                # held cells still outstanding (outstanding_held, core.held.Outstanding)


def default_name(settings: Settings, folder: Optional[str] = None) -> str:
    """From 設定's 圏域名 and 年度, so through the one rule for names made of content, short
    enough for Excel to open it in ``folder`` (as staff name it: safety.shown_path)."""
    from ..core.filenames import safe_file_name

    return safe_file_name(settings.region, ".xlsx", tail=f"_{settings.fiscal_year}年度_連携事業実施状況等一覧",
                          folder=folder)


def export_master(master: Path, out: Optional[Path] = None, *, pdf: bool = False,
                  check: Optional[Callable[[Settings], object]] = None, draft: bool = False) -> ExportResult:
    """``check``: asked of the master's 設定 before anything is written (the mail that goes
    with the 確定版: a refusal of its addresses came after the file was written).
    ``draft``: its .eml draft (draft_path) is written after it, as one set with it."""
    from ..workbook.session import check_path, opened, saved_list

    master = check_path(Path(master))
    with opened(master) as fs:
        data, listed, log = fs.data, saved_list(fs), fs.state.grids.get(c.IMPORT_LOG)
    if check is not None:
        check(data.settings)
    if not out:
        from ..safety import shown_path

        out = master.with_name(default_name(data.settings, shown_path(master.parent)))
    out = Path(out)
    if same_file(out, master):
        raise UserError("書き出し先がマスターブックと同じです。別のファイル名を指定してください")
    return export_data(data, out, pdf=pdf, listed=listed, log=log, partners=(draft_path(out),) if draft else ())


def draft_path(out: Path) -> Path:
    """The 確定版's mail draft (export --eml), named after it as its PDF is."""
    return Path(out).with_suffix(".eml")


_NOT_READ = object()


def export_lock(out: Path):
    """One export into one 確定版 at a time, its .xlsx and its PDF together: two at once (two
    staff, or the command line beside a button) could leave one's .xlsx beside the other's
    PDF, a pair that was never made together. The lock file goes when the export is done."""
    from ..safety import make_folder, writer_lock

    make_folder(Path(out).parent, f"「{Path(out).name}」の保存先")    # the lock file lies beside it
    return writer_lock(out)


def export_data(data: MasterData, out: Path, *, pdf: bool = False, listed=_NOT_READ,
                locked: bool = False, log: Optional[Sequence[Sequence[object]]] = None,
                partners: Sequence[Path] = ()) -> ExportResult:
    """The 確定版 at ``out`` and, with ``pdf``, its PDF beside it; both or neither.

    The PDF is made first, into a temporary folder (scratch; none without a PDF): without an engine (no Excel, no
    LibreOffice) or with one that fails, nothing is written, so a new .xlsx never sits
    beside an older PDF that staff would mail with it as if they matched. A master with
    input errors is still written (its rows are －, and the summary says how many are left
    out): each face says so in its own terms (errors_note).

    ``listed``: the master's 一覧 as it stands (None: the sheet is gone). The 確定版 is
    computed from the inputs whatever 一覧 shows; the rows where 一覧 shows otherwise are
    named (``stale``, stale_note), since staff check the 一覧 and mail the 確定版.

    ``locked``: the caller holds export_lock (a button writes its PDF after the .xlsx).
    ``log``: the master's 取込履歴 as a grid (None: no such sheet), for ``unreturned``.
    ``partners``: the files the caller writes after it as one set (safety.replace_file)."""
    from ..core.calc_on_load import refuse_stale
    from ..core.pipeline import recalculate
    from ..core.rollover import stale_rows
    from ..package.zipped import same_book
    from ..safety import IF_CHANGED, check_excel_path, check_targets, safe_write

    out = Path(out)
    refuse_not_file(out)
    check_excel_path(out)       # a name given (--output): one made by default_name fits already
    if out.suffix.lower() != ".xlsx":
        raise UserError(f"確定版のファイル名は .xlsx で終わる必要があります（{out.name}）。マクロは含めません")
    pdf_target = out.with_suffix(".pdf") if pdf else None
    if pdf_target is not None:
        with _nothing_written():
            find_pdf_engine()       # said before the recalculation, before anything is written
        # Both targets before either is written: a read-only PDF refused only after the
        # .xlsx was replaced left a new 確定版 beside the old PDF, said as "written" and
        # "nothing written" in one message.
        check_targets((out, pdf_target))
    refuse_stale(data.findings, "確定版を書き出す")
    left, held = unreturned(data, log), outstanding_held(data, log)    # before anything is written (取込履歴 may refuse)
    result, list_plan = confirmed_list(recalculate(data.settings, data.indicators, data.entries, data.findings),
                                       data.settings)
    with contextlib.nullcontext() if locked else export_lock(out), \
            contextlib.nullcontext() if pdf_target is None else scratch_folder() as tmp:
        made, engine = None, ""
        if pdf_target is not None:
            with _nothing_written():
                made, engine = _made_pdf(result, data.settings, tmp, list_plan)
        # The pair is locked as one (export_lock), not each file: the 確定版 folder is one staff open.
        # Kept only when it differs (IF_CHANGED): exported again unchanged, the 確定版 left a
        # backup at every run. Its PDF and draft are backed up with it, before its rename.
        saved = safe_write(out, lambda tmp: write_confirmed(tmp, result, data.settings, list_plan=list_plan), lock=False,
                           keep_backup=IF_CHANGED, same=same_book, partners=tuple(filter(None, (pdf_target, *partners))))
        if made is not None:
            try:
                safe_write(pdf_target, lambda t: shutil.copyfile(made, t), keep_backup=saved is not None, lock=False)
            except (UserError, OSError) as exc:
                raise _pdf_refused(exc, out, pdf_target) from None
    stale = () if listed is _NOT_READ else tuple(stale_rows(listed, result, data.settings))
    return ExportResult(out, pdf_target if made is not None else None, result, data.settings, engine, stale, saved,
                        list_plan, left, undrawn_note(list_plan, engine) if made is not None else "", held)


def unreturned(data: MasterData, log: Optional[Sequence[Sequence[object]]]) -> tuple[str, ...]:
    """The municipalities asked for answers (rows on their sheet) whose return 取込履歴 has
    no import of, once it has any (the year's returns are being collected): a 確定版 written
    after a partial collect was mailed to every municipality computed without the answers
    still out, and nothing said so. A master whose 取込履歴 is empty is filled by hand and
    gets no such word; a rollover starts the new master's 取込履歴 empty."""
    from .collect.import_log import MUNICIPALITY_COLUMN, read_import_log

    records = read_import_log(log, (MUNICIPALITY_COLUMN,)) if log else []
    if not records:
        return ()
    done = {r.municipality for r in records}
    asked = {e.municipality for e in data.entries if e.indicator_id}
    return tuple(m for m in data.settings.names if m in asked and m not in done)


def outstanding_held(data: MasterData, log: Optional[Sequence[Sequence[object]]]) -> tuple:
    """The cells 回収ファイル取込 held that the master still lacks (core.held.outstanding): the
    municipality counts as collected, so ``unreturned`` does not name it, and the 確定版 and
    経年 went out without a value it sent, without a word."""
    from ..core.held import Hold, master_cells, outstanding
    from .collect.import_log import MUNICIPALITY_COLUMN, WAS_AT_IMPORT, read_import_log

    # an error value in 取込時のマスターの値 is named, never read as no held cell
    records = read_import_log(log, (MUNICIPALITY_COLUMN, WAS_AT_IMPORT)) if log else []
    return tuple(outstanding([Hold(r.municipality, r.file_name, r.imported_at, r.held_cells, r.held_was)
                              for r in records], master_cells(data.entries)))


def still_out_notes(done: ExportResult, master: str = "") -> list[str]:
    """What the command line says of the answers the 確定版 was computed without: the returns
    not collected (unreturned) and the cells collect held (outstanding_held), as the button."""
    from ..core.alerts import printed

    return [n for n in (unreturned_note(done.unreturned, master), "\n".join(printed(held_parts(done.held, master)))) if n]


def held_parts(held: Sequence, master: str = "") -> list:
    """What both faces say of ``outstanding_held`` after a 確定版 (collect.said.outstanding_parts)."""
    from .collect.said import outstanding_parts

    return outstanding_parts(held, "確定版は、そのセルに今ある値（空欄か前の値）で計算しています。",
                             "もう一度書き出してください。", master)


def unreturned_note(names: Sequence[str], master: str = "") -> str:
    """What the command line says of ``unreturned`` (unreturned_parts): the button's lines."""
    from ..core.alerts import printed

    return "\n".join(printed(unreturned_parts(names, master)))


def unreturned_parts(names: Sequence[str], master: str = "") -> list:
    """What both faces say of ``unreturned``: the 確定版 holds those municipalities' sheets
    as they stand, which is right only where staff typed the answers in themselves. A
    button's message lists the names as far as it has room (vital: they are whom to ask),
    and keeps the step (what the 確定版 was computed from, Detail, gives way first): as one
    line, a deep folder's message left it out whole (qa-150). ``master``: the master as the
    command line names it (the step's command, collect.said.collect_step)."""
    if not names:
        return []
    from ..core.alerts import Detail, listed_names
    from ..core.values import MUNICIPALITIES, count_text
    from .collect.said import collect_step

    return [listed_names(names, MUNICIPALITIES, vital=True,
                         head=f"【注意】シート「{c.IMPORT_LOG}」に回収ファイルの取り込みがない市町村があります"
                              f"（{count_text(len(names))} 市町村）: "),
            Detail("　確定版は、その市町村シートに今ある値で計算しています。"),
            f"　回答が届いていれば{collect_step(master)}から、もう一度書き出してください（マスターに直接入力した"
            "市町村なら、このままで構いません）。"]


def confirmed_list(result: Result, settings: Settings) -> tuple[Result, SheetPlan]:
    """The 確定版's 一覧, laid out once, and the result with the texts its tallest rows cannot
    show (a 確定版 and its PDF cut them off unsaid: recalc warned, export did not), so both
    faces can say them (cut_note). One layout serves the findings, the .xlsx and the PDF: it
    was made twice (core.plan.checked_result, then write_confirmed), some 0.2 s at 20,000
    indicators. The 確定版's title (CONFIRMED_MARK) changes no finding: the title row is one
    line high whatever its text, and a finding is only ever an indicator's cell."""
    from ..core.plan import with_findings
    from ..core.sheet_list import list_layout

    list_plan, cut = list_layout(result, settings, confirmed=True)
    return with_findings(result, cut), list_plan


@contextlib.contextmanager
def _nothing_written():
    """A PDF refusal before any file is written says so (the button's PDF, made after its
    .xlsx, says the opposite: write_pdf)."""
    try:
        yield
    except UserError as exc:
        raise UserError(f"{exc}{NOTHING_WRITTEN}") from None


def replaced_note(done: ExportResult, shown: Callable[[Path], str] = str) -> str:
    """What both faces say when the 確定版 replaced an earlier one that said something else
    (exported again after a change): where that one is. Nothing when it said the same.

    When no PDF was made this time (the command without --pdf, the server's button) and the
    earlier one's PDF is still beside the new 確定版, that PDF is named as the earlier
    list's: it was left there without a word, and staff mail the folder's PDF with the
    .xlsx as a pair. ``done.pdf``: the PDF this export made (a button that makes it after
    export_data sets it)."""
    if done.backup is None:
        return ""
    said = f"前に書き出した内容の違う確定版は「{shown(done.backup.parent)}」に残しました（{done.backup.name}）"
    old_pdf = done.path.with_suffix(".pdf")
    if done.pdf is None and old_pdf.exists():
        said += (f"。横の「{old_pdf.name}」は前の確定版の PDF のままで、今の確定版と内容が違います（今回は PDF を"
                 "作っていません）。古い PDF を送らないよう、削除するか作り直してください（PDF はコマンドの --pdf か、"
                 "パソコンの Python で動かすボタンで作れます）")
    return said


def errors_note(result: Result) -> str:
    """What both faces say when the 確定版 was written from a master with input errors: it is
    mailed to every municipality, so the count is said plainly, not only in the 達成割合's
    「（入力エラーで評価不可の…を除く）」 (the cells follow, as recalc lists them)."""
    errors = result.report.errors
    if not errors:
        return ""
    return (f"【注意】入力エラーが {len(errors)} 件あります。エラーのある指標は確定版で「－」（評価不可）に"
            "なっています。送る前にマスターを直し、もう一度書き出してください。")


def cut_note(result: Result) -> str:
    """What both faces say when a text of the 確定版's 一覧 needs more than Excel's tallest
    row: the file holds it whole, but the PDF and the printed 一覧 stop part way, with
    nothing on the page to say so. It is sent to every municipality and published, so the
    cells are named here, not only counted (sheet_list.list_cuts finds them)."""
    from ..core.findings import LIST_TEXT_CUT

    cut = [f for f in result.findings if f.type == LIST_TEXT_CUT.code]
    if not cut:
        return ""
    from ..core.values import listed

    return (f"【注意】確定版の「{c.LIST}」に、長すぎて PDF と印刷では途中までしか出ない文章が {len(cut)} 件"
            f"あります: {listed(f'{f.place}（{f.indicator_id}）' for f in cut)}。その文章を短くしてから、もう一度書き出してください。")



def undrawn_note(list_plan: SheetPlan, engine: str) -> str:
    """What both faces say when the PDF ``engine`` made lacks characters of the 一覧: a
    character no font of this machine has (an emoji such as 🎉 or ✅, a 外字, a rare kanji)
    is printed by LibreOffice as a box (as nothing at the end of a run of fallback glyphs),
    while the PDF's text layer still holds it: nothing told staff that the published PDF
    showed 「開催☒☒」 for 「開催✅🎉」. Excel draws them from Windows' own
    fallback fonts (Segoe UI Emoji …), so only LibreOffice's PDF is looked at."""
    from ..core.sheet_list import list_undrawn

    if engine != "LibreOffice":
        return ""
    drawn = font_coverage()
    if drawn is None:
        return ""
    found = list_undrawn(list_plan, drawn)
    if not found:
        return ""
    from ..core.values import listed

    shown = listed(f"{ind_id} の{head}に「{chars}」" if ind_id and head else f"{c.LIST} {row}行目に「{chars}」"
                   for row, head, ind_id, chars in found)
    return (f"【注意】PDF（LibreOffice）では、このパソコンのフォントにない文字が印刷されていません（□ の形に"
            f"なるか、何も出ません）: {shown}。絵文字や外字をふつうの文字に直してから、もう一度書き出してください"
            "（確定版の .xlsx には入っています）。")


def font_coverage() -> "Optional[Callable[[str], bool]]":
    """Whether some font installed here has a glyph for a character, as fontconfig (which
    LibreOffice asks for a font to fall back on) reports every font's character set; None
    where fontconfig cannot say (no fc-list: Windows)."""
    from bisect import bisect_right

    try:
        listed = subprocess.run(["fc-list", "--format", "%{charset}\n"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    ranges = []
    for part in listed.stdout.decode("ascii", "replace").split():
        first, _, last = part.partition("-")
        try:
            ranges.append((int(first, 16), int(last or first, 16)))
        except ValueError:
            continue
    if listed.returncode != 0 or not ranges:
        return None
    ranges.sort()
    starts, ends = [ranges[0][0]], [ranges[0][1]]
    for first, last in ranges[1:]:          # merged into disjoint runs, for bisect
        if first <= ends[-1] + 1:
            ends[-1] = max(ends[-1], last)
        else:
            starts.append(first)
            ends.append(last)

    def drawn(ch: str) -> bool:
        i = bisect_right(starts, ord(ch)) - 1
        return i >= 0 and ord(ch) <= ends[i]
    return drawn


def stale_note(stale: Sequence[str], total: int = 0, master: str = "") -> str:
    """What the command line says when the master's 一覧 is not what the 確定版 holds
    (stale_parts): the button's lines, the warning and its step apart (they were joined on
    one line with 「。」, the step's indent dropped)."""
    from ..core.alerts import printed

    return "\n".join(printed(stale_parts(stale, total, master)))


def stale_parts(stale: Sequence[str], total: int = 0, master: str = "") -> list[Part]:
    """What both faces say when the master's 一覧 is not what the 確定版 holds
    (core.rollover.stale_parts): staff read the 一覧 and mail the 確定版, so they recalculate
    before they mail. ``total``: the indicators the 確定版 holds; ``master``: the master as
    the command line names it (the step's command, core.carry.recalc_step)."""
    from ..core.carry import recalc_step
    from ..core.rollover import EVALUATED_NOW, stale_parts as differing

    return differing(stale, total, "マスターの", f"確定版（{EVALUATED_NOW}）",
                     f"マスターで{recalc_step(master, 0, '')}、一覧を確かめてください。")


def _pdf_refused(exc: "UserError | OSError", out: Path, pdf_target: Path) -> UserError:
    """The PDF refused after its 確定版 was written: the write's own refusal (it names the
    cause and its remedy: a full disk, a read-only file, a folder's rights, a PDF open in a
    viewer on Windows), read of the PDF alone. 「PDF を閉じてから」 was added to every cause,
    after 「「読み取り専用」を外してから」 or 「空き容量を増やしてから」, and an OSError was put
    in as the system's English."""
    from ..safety import of_one_file, place_refusal, refused_remedy, refused_why

    if isinstance(exc, OSError):
        rights = f"フォルダーのアクセス権を確かめてから、もう一度{again()}ください"
        said = place_refusal(exc) or (f"「{pdf_target.name}」を書き込めません（{refused_why(exc)}）。"
                                      f"{refused_remedy(exc, rights, 'ここに書き込める', 'PDF を表示するプログラムなど')}。")
    else:
        said = of_one_file(str(exc), pdf_target)
    return UserError(f"確定版「{out.name}」は書き出しましたが、PDF「{pdf_target.name}」を保存できませんでした。"
                     f"{said}{stale_pdf_note(pdf_target)}")


def stale_pdf_note(target: Path) -> str:
    """An older PDF left beside a 確定版 it no longer matches, said by name (both faces)."""
    return (f"前に作った「{target.name}」は古いままで、この確定版と内容が違うことがあります。"
            if target.exists() else "")


def write_confirmed(target: Path, result: Result, settings: Settings,
                    sheets: Sequence[str] = (c.LIST, c.SUMMARY), *, list_plan: Optional[SheetPlan] = None) -> None:
    """A new workbook with only the given output sheets, values only, no personal properties.
    ``list_plan``: the 一覧 already laid out (confirmed_list), else laid out here."""
    from ..core.sheet_list import list_sheet
    from ..core.sheet_summary import summary_sheet
    from ..workbook.fresh import write_new_book

    planned = {c.LIST: lambda: list_plan if list_plan is not None else list_sheet(result, settings, confirmed=True),
               c.SUMMARY: lambda: summary_sheet(result, settings)}
    write_new_book(target, [planned[name]() for name in sheets],
                   c.list_title(settings.region, settings.fiscal_year, confirmed=True))


# ------------------------------------------------------------------------------- PDF

def write_pdf(result: Result, settings: Settings, target: Path, *, keep_backup: bool = False,
              list_plan: Optional[SheetPlan] = None) -> tuple[Path, str]:
    """一覧 alone (A3 landscape, from its print setup) as a PDF: Excel where it exists,
    else LibreOffice headless. ``keep_backup``: the 確定版 beside it replaced a different
    one, whose PDF is kept with it. ``list_plan``: the 確定版's 一覧 as laid out."""
    from ..safety import ensure_not_open, safe_write

    target = Path(target)
    ensure_not_open(target)  # before the conversion, not only after it
    with scratch_folder() as tmp:
        pdf, engine = _made_pdf(result, settings, tmp, list_plan)
        safe_write(target, lambda t: shutil.copyfile(pdf, t), keep_backup=keep_backup, lock=False)
    return target, engine


NO_PDF_ENGINE = ("PDF を作れません: Excel も LibreOffice も見つかりません。"
                 "Excel のある PC で実行するか、LibreOffice をインストールしてください"
                 "（PDF なしで書き出すには --pdf を外してください）")
NOTHING_WRITTEN = "。確定版も PDF も書き出していません（前に書き出したファイルはそのままです）"


def find_pdf_engine() -> Optional[str]:
    """LibreOffice's program, or None where Excel may make the PDF (Windows, macOS: whether
    it starts is only known by starting it). Neither: refused, before anything is written."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None and not _excel_possible():
        raise UserError(NO_PDF_ENGINE)
    return soffice


def _made_pdf(result: Result, settings: Settings, tmp: Path,
              list_plan: Optional[SheetPlan] = None) -> tuple[Path, str]:
    """The PDF in the temporary folder ``tmp``, converted from a one-sheet workbook so that
    neither engine adds the 集計 pages; and the engine that made it."""
    # An ASCII name: soffice derives the output name from it, whatever the locale.
    source = tmp / "list.xlsx"
    write_confirmed(source, result, settings, (c.LIST,), list_plan=list_plan)
    soffice = find_pdf_engine()
    if _excel_possible():
        pdf = _excel_pdf(source, tmp / "list.pdf")
        if pdf is not None:
            return pdf, "Excel"
    if soffice is None:
        raise UserError(NO_PDF_ENGINE)
    return soffice_pdf(soffice, source, tmp), "LibreOffice"


def _excel_possible() -> bool:
    return sys.platform in ("win32", "darwin")


def _excel_pdf(source: Path, pdf: Path) -> Optional[Path]:
    """Through Excel itself (xlwings Book.to_pdf); None when Excel cannot be started."""
    try:
        import xlwings as xw

        app = xw.App(visible=False, add_book=False)
    except Exception:  # no Excel installed, or it cannot be automated here
        return None
    try:
        book = app.books.open(str(source), read_only=True)
        try:
            book.to_pdf(str(pdf), include=[c.LIST])
        finally:
            book.close()
    except Exception as exc:
        raise UserError(f"Excel で PDF を作れませんでした（{exc}）") from exc
    finally:
        app.quit()
    return pdf if pdf.exists() else None


def soffice_pdf(soffice: str, source: Path, outdir: Path) -> Path:
    """LibreOffice headless with a new profile (the font replacement, _font_profile), so
    parallel runs never share one. The profile goes in ``outdir``, the export's own folder
    (scratch.scratch_folder): beside it in the system's temporary folder, a run killed
    during the conversion left a profile there that nothing removed."""
    profile = Path(outdir) / "profile"
    cmd = [soffice, "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}",
           "--convert-to", "pdf", "--outdir", str(outdir), str(source)]
    try:
        _font_profile(profile)
        returncode, said = _run_whole(cmd, SOFFICE_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise UserError(f"LibreOffice が {SOFFICE_TIMEOUT} 秒以内に PDF を作りませんでした") from None
    except OSError as exc:
        raise UserError(f"LibreOffice を起動できません（{exc}）") from None
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    pdf = outdir / (source.stem + ".pdf")
    if returncode != 0 or not pdf.exists():
        detail = said.decode("utf-8", "replace").strip()[:300]
        raise UserError(f"LibreOffice で PDF を作れませんでした（終了コード {returncode}: {detail}）")
    return pdf


# The CJK font LibreOffice prints the look font (looks.FONT_NAME) with where that is missing.
CJK_FONT = "Noto Sans CJK JP"


def _font_profile(profile: Path) -> None:
    """A fresh profile that prints the look font in one CJK font, where the look font is
    missing and that one is installed (Linux with fonts-noto-cjk).

    Left to fontconfig, LibreOffice draws Meiryo UI's Latin and punctuation in DejaVu Sans
    and its kana and kanji in Noto Sans CJK, each character's script choosing. A 評価 cell
    holding ― (評価時期前・未集計) alone is "Latin" and came out as DejaVu's thick bar, the
    width and weight of the － (評価不可) Noto draws: the two symbols, and the legend that
    tells them apart, printed alike. In one CJK font, as in Meiryo UI on Excel, ― is a thin
    full-width rule and － a short heavy bar. Where Meiryo UI exists (Windows), nothing is
    replaced. Row heights hold: Noto's Latin is narrower than DejaVu's, and its line (13.0 pt
    at 9 pt) is what text_fit already allows for."""
    from ..core.looks import FONT_NAME

    if not shutil.which("fc-list") or _installed(FONT_NAME) or not _installed(CJK_FONT):
        return
    user = profile / "user"
    user.mkdir(parents=True, exist_ok=True)
    pair = "".join(f'<prop oor:name="{k}" oor:op="fuse"><value>{v}</value></prop>' for k, v in (
        ("Always", "true"), ("OnScreenOnly", "false"), ("ReplaceFont", FONT_NAME), ("SubstituteFont", CJK_FONT)))
    (user / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        '<item oor:path="/org.openoffice.Office.Common/Font/Substitution">'
        '<prop oor:name="Replacement" oor:op="fuse"><value>true</value></prop></item>\n'
        '<item oor:path="/org.openoffice.Office.Common/Font/Substitution/FontPairs">'
        f'<node oor:name="_0" oor:op="replace">{pair}</node></item>\n'
        '</oor:items>\n', encoding="utf-8")


def _installed(family: str) -> bool:
    try:
        found = subprocess.run(["fc-list", f":family={family}", "family"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return bool(found.stdout.strip())


def _run_whole(cmd: Sequence[str], timeout: float) -> tuple[int, bytes]:
    """``cmd``'s exit code and what it said (stderr, else stdout), with every process it
    started ended when it overruns ``timeout``.

    ``soffice`` is a script that starts oosplash, which starts soffice.bin: killing the one
    process subprocess.run knows left a hung soffice.bin running after the refusal, holding
    memory and a profile folder already deleted, one more at every try. So it runs in a
    process group of its own (POSIX) or is ended as a tree (Windows' taskkill /T), on the
    timeout and on whatever else stops the wait: Ctrl+C reaches only the terminal's group,
    not this one, and an export stopped so left soffice.bin converting on (for good, when
    it hung), which then made its profile folder again in the temporary folder once the
    export had removed it."""
    own_group = {"start_new_session": True} if os.name != "nt" else {
        "creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **own_group) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except BaseException:
            _end_tree(proc)
            with contextlib.suppress(subprocess.TimeoutExpired):    # a process that left the group
                proc.communicate(timeout=10)
            raise
    return proc.returncode, err or out


def _end_tree(proc: subprocess.Popen) -> None:
    if os.name == "nt":
        subprocess.run(["taskkill", "/F", "/T", "/PID", str(proc.pid)], capture_output=True, check=False)
    else:
        import signal

        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    proc.kill()

"""What staff should do when the open workbook differs from the saved master.

The buttons that make files (配布用ファイル作成, 確定版を書き出し, 次年度のマスターを作成)
make them from the saved master. On the server they are refused while the workbook sent
differs from it (renkei_xl.server.admission), for one of two reasons, and the right step for
one is the wrong one for the other: edits not saved yet (save, then press again), or a copy
older than the saved master (opened read-only while a colleague had it, who then saved; or
the file replaced since): saving that copy would undo the colleague's work. What the open
book says of itself (Workbook.Saved, Workbook.ReadOnly: renkei_xl.server.book_state for
the server, COM on the desktop) decides which step staff are given; where it cannot say,
both go, each with its reason. On the desktop a read-only copy with unsaved edits cannot
be saved first (excel.buttons._saved_or_ask): the same words say so.

The buttons that write into the open book (contract.BOOK_WRITERS) have one rule of their own
for a read-only copy, in the same words (read_only_click): what they write there cannot be
saved over the master.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

from . import contract as c

OUTCOME_DIFFERS = "保存と違う"


class BookState(NamedTuple):
    """None where the client did not say."""
    saved: Optional[bool] = None
    read_only: Optional[bool] = None


_SAVE = "このブックには、まだ保存していない変更があります。{fix}上書き保存してから、もう一度ボタンを押してください。"
_NEWER = ("このブックは、開いた後に保存し直されたマスターより古い内容です（ほかの人がマスターを保存した、ファイルを"
          "置き換えたなど）。上書き保存はしないでください（保存されているマスターの変更が消えます）。このブックを閉じ、"
          "マスターを開き直してから、もう一度ボタンを押してください。")
_READ_ONLY_IS = ("このブックは読み取り専用で開かれています（ほかの人がマスターを開いていたときなど）。読み取り専用のブックは"
                 "マスターに上書き保存できません。")
_REOPEN = "このブックを閉じ、ほかの人がマスターを閉じてから開き直して、もう一度{button}を押してください。"
_READ_ONLY = _READ_ONLY_IS + _REOPEN.format(button="ボタン")
# Said when Excel marks the copy unsaved, which it also does on opening a workbook it
# recalculates then (the tool's masters ask for that: docs/excel-model.md, check 5), so
# worded for staff who changed nothing too.
_READ_ONLY_EDITED = "このブックで変更した内容があるときは、保存されないため、開き直したマスターに入れ直してください。"
# A question to save (the desktop's, excel.buttons._saved_or_ask) put to staff who typed
# nothing: Excel marks a workbook it recalculates on opening unsaved, and a master the
# command line wrote with a formula outside the tool's sheets asks for that (core.calc_on_load).
RECALCULATED_ON_OPENING = ("何も入力していなくても、開いたときに Excel が数式を計算し直したブック（コマンドで書き込んだ"
                           "マスターなど）は、変更ありと扱われます。そのときも「OK」で続けてください")
_EITHER = ("・このブックで変更して、まだ保存していないとき: {fix}上書き保存してから、もう一度ボタンを押してください。\n"
           "・このブックを開いた後に、ほかの人がマスターを保存したとき（読み取り専用で開いたときなど）: 上書き保存は"
           "しないでください（ほかの人の変更が消えます）。このブックを閉じ、マスターを開き直してから、もう一度ボタンを"
           "押してください。")


def read_only_steps(edited: bool) -> str:
    """A read-only copy: it cannot be saved over the master, whatever it holds."""
    return _READ_ONLY + (_READ_ONLY_EDITED if edited else "")


class ReadOnlyClick(NamedTuple):
    """What a click does about a book opened read-only (``read_only_click``): ``refused``, the
    reason it stops with before it reads anything; ``note``, the lines its message starts with."""
    refused: Optional[str] = None
    note: Optional[str] = None


# A button whose whole purpose is to change the master: on a copy that cannot be saved over it,
# its work is lost when the book is closed (取込履歴 too, so the same returns are taken again
# later), or lives on in a copy saved under another name that is no master.
_REFUSED_READ_ONLY = frozenset({c.COLLECT})
# Buttons whose results are worth looking at before they are kept (what 入力チェック finds, the
# evaluation 評価を再計算 gives): they run, and say first that nothing of it reaches the master.
_NOTED_READ_ONLY = frozenset({c.CHECK, c.RECALC})
# Said first when those run, in the words of a refused file button (read_only_steps).
_RESULTS_NOT_KEPT = ("下の結果はこのブックに書き込みましたが、マスターには残りません。見て確かめるだけにしてください（別の"
                     "名前で保存したブックはマスターではなく、その後の作業もマスターに入りません）。結果をマスターに残す"
                     "ときは、")
_NOTHING_READ = ("取り込んでも、書き換えた値も取り込みの記録（シート「{log}」）も保存できないため、回収したファイルは読まずに"
                 "止めました。ブックは変更していません。")


def read_only_click(caption: str, state: BookState) -> ReadOnlyClick:
    """The one rule for a button that writes into the open workbook (contract.BOOK_WRITERS)
    when Excel opened it read-only (a colleague had the master open on the share), on every
    face that knows it (the server from RenkeiServer.bas' X-Renkei-Book, Windows from COM).
    These buttons wrote into such a book without a word, and staff could not save it over
    the master: 回収ファイル取込's import and its 取込履歴 were lost on closing (the same
    returns taken again later), or kept in a copy saved under another name.

    回収ファイル取込 exists to change the master, so it is refused before it reads anything.
    入力チェック and 評価を再計算 show what the master holds, which is worth seeing on a copy,
    so they run with a note at the top that their results cannot be kept, and what to do.
    Not known (a client that does not say, LibreOffice, a Mac) is as before: the click runs.
    The buttons that make files are judged from the saved master (server.admission,
    excel.buttons._saved_or_ask), not here."""
    if not state.read_only:
        return ReadOnlyClick()
    edited = _READ_ONLY_EDITED if state.saved is False else ""
    again = _REOPEN.format(button=c.named(caption))
    if caption in _REFUSED_READ_ONLY:
        return ReadOnlyClick(refused=_READ_ONLY_IS + _NOTHING_READ.format(log=c.IMPORT_LOG) + again + edited)
    if caption in _NOTED_READ_ONLY:
        return ReadOnlyClick(note="【注意】" + _READ_ONLY_IS + _RESULTS_NOT_KEPT + again + edited)
    return ReadOnlyClick()


def steps(state: BookState, fix: str = "") -> tuple[str, str]:
    """(what staff should do, the outcome for the log) for a workbook that differs from the
    saved master. ``fix``: a step before saving ("直して", when the open book has errors
    the saved master has not).

    A read-only copy cannot be saved over the master whatever it holds. A saved copy (Excel's
    "no changes since the last save") holds nothing that saving would add: the difference is
    on the disk's side, the file changed after this copy was opened. Unsaved edits in a
    copy that may be saved: save it. Anything else is not known, so both steps go."""
    if state.read_only:
        return read_only_steps(state.saved is False), f"{OUTCOME_DIFFERS}・読み取り専用"
    if state.saved is True:
        return _NEWER, f"{OUTCOME_DIFFERS}・古いコピー"
    if state.read_only is False and state.saved is False:
        return _SAVE.format(fix=fix), f"{OUTCOME_DIFFERS}・未保存"
    return _EITHER.format(fix=fix), OUTCOME_DIFFERS


def differing_sheets(saved, sent) -> Optional[str]:
    """The sheets of the open book (``sent``) whose contract data, as the one reader reads
    it, differ from the saved master's, as staff read them (「シート「小樽市」」), or None
    when nothing the tool reads differs. Excel's own flag (Workbook.Saved) is no measure:
    it marks a workbook recalculated on opening unsaved, and knows nothing of a newer save."""
    if _contents(saved) == _contents(sent):
        return None
    return _sheets(_named_sheets(saved, sent))


_SHEETS_NAMED = 3


def _named_sheets(saved, sent) -> list[str]:
    """設定 and 指標 first, then the municipality sheets in the saved master's order: staff
    who changed nothing there learn from the names that the saved master is the newer one."""
    out = []
    if saved.settings != sent.settings:
        out.append(c.SETTINGS)
    if saved.indicators != sent.indicators:
        out.append(c.INDICATORS)
    a, b = _by_sheet(saved), _by_sheet(sent)
    for name in [*a, *(n for n in b if n not in a)]:
        if a.get(name) != b.get(name) and name not in out:
            out.append(name)
    return out


def _by_sheet(data) -> dict[str, tuple[list, list]]:
    out: dict[str, tuple[list, list]] = {}
    for entry in data.entries:
        out.setdefault(entry.sheet or entry.municipality, ([], []))[0].append(entry)
    for finding in data.findings:
        out.setdefault(finding.sheet, ([], []))[1].append(finding)
    return out


def _contents(data) -> tuple:
    return (data.settings, data.indicators, data.entries, data.findings)


def _sheets(names: list[str]) -> str:
    if not names:    # the same rows, in another order of sheets
        return f"シート（{c.SETTINGS}・{c.INDICATORS}・市町村のシート）の内容"
    shown = "」「".join(names[:_SHEETS_NAMED])
    from .values import more_text
    more = more_text(len(names) - _SHEETS_NAMED, "シート") if len(names) > _SHEETS_NAMED else ""
    return f"シート「{shown}」{more}"

"""Excel's state at the moment staff click a button, and what the click does in it.

The server path: xlwings' Remote.bas sends, and replays the answer on, ActiveWorkbook; Excel
refuses protection and much else while sheets are grouped (「[グループ]」) and in a legacy
shared workbook (「ブックの共有（レガシ）」). The master's RenkeiServer.bas deals with each
before it sends anything (RenkeiUnready); the model of Excel (tests/remote_payload.py) reads
from the master's own VBA what it does, and refuses what Excel refuses where it does not.
The desktop path (RunPython, COM) does the same through WindowsBook.prepare.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook

from remote_payload import (EXCEL_KEY, RENKEI_REFUSED, VBA, ClientStopped, ExcelError, SentOtherBook,
                            apply_actions, before_sending, payload_from_file, remote_book, shared_refused_to)
from test_buttons import _copy, _returned_file, licensed, master  # noqa: F401  (fixtures)
from renkei_xl.core import contract as c
from renkei_xl.excel import buttons
from renkei_xl.excel.book import locked_sheet_message, shared_book_message
from renkei_xl.excel.client import fit_actions
from renkei_xl.vba.sources import button_entries

REVISIONS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/revisionHeaders"
# Each button's caption -> its entry point, as Renkei.bas names it ("check") and buttons defines it.
ENTRIES = {caption: button_entries()[macro] for caption, macro, _what in c.BUTTONS}
FILE_MAKERS = [caption for caption in ENTRIES if caption not in c.BOOK_WRITERS]


def _answer(entry, payload: dict) -> list[dict]:
    book = remote_book(payload)
    entry(book)
    return fit_actions(book.json()["actions"], frozenset(payload[EXCEL_KEY]["subs"])).actions


def _grouped(master: Path, path: Path, sheets=(c.LIST, c.SUMMARY)) -> Path:
    """The master as Excel saves it with ``sheets`` grouped: each sheet's view tabSelected."""
    _copy(master, path)
    wb = load_workbook(path, keep_vba=True)
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws.title in sheets
    wb.active = wb.sheetnames.index(sheets[0])
    wb.save(path)
    return path


def _shared(master: Path, path: Path) -> Path:
    """The master as a legacy shared workbook: Excel keeps its change history as the
    workbook's revisionHeaders part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(master) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", f'<Relationship Id="rIdShared" Type="{REVISIONS}" '
                                    'Target="revisions/revisionHeaders.xml"/></Relationships>'.encode())
            elif item.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/revisions/revisionHeaders.xml" '
                                    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
                                    b'revisionHeaders+xml"/></Types>')
            out.writestr(item, data)
        out.writestr("xl/revisions/revisionHeaders.xml",
                     '<headers xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                     'guid="{00000000-0000-0000-0000-000000000001}" diskRevisions="1" revisionId="1" '
                     'version="1"/>')
    return path


def test_the_masters_vba_readies_the_book_before_sending(master):
    """RenkeiServer.bas' RenkeiUnready, as the model reads it from the master it built."""
    done = before_sending(master)
    assert set(done) == {"front", "ungroup", "shared", "calculate"}
    assert done["shared"] == shared_book_message() + "。"
    assert "再表示" in done["front"] and "グループ" in done["ungroup"]


def test_a_click_with_another_book_in_front_sends_the_master(master):
    """A button run from the macro list (Alt+F8) or the toolbar while another book is in
    front: Remote.bas would send that book and replay the answer on it. The master's VBA
    brings the master to the front first, so the payload is the master's."""
    assert payload_from_file(master, client=VBA, in_front=False) == payload_from_file(master, client=VBA)


def test_a_book_set_to_manual_calculation_sends_calculated_values(master):
    """Calculation set to manual (by staff, or by the first book opened that day): after 回収
    wrote a municipality's 実績値, a staff formula in 指標 still shows its last result, and
    Remote.bas would send it to be evaluated. The master's VBA calculates first, so the
    server gets what the saved (calculated) master holds, as the command line reads it."""
    wb = load_workbook(master)
    ws = wb[c.INDICATORS]
    header = [cell.value for cell in ws[1]]
    col = header.index(next(h for h in header if h and str(h).startswith("実績値"))) + 1
    ref = f"{ws.cell(1, col).column_letter}2"
    stale = {c.INDICATORS: {ref: "999999"}}
    assert payload_from_file(master, client=VBA, uncalculated=stale) == payload_from_file(master, client=VBA)


def test_a_click_on_grouped_sheets_is_replayed_whole(master, tmp_path):
    """Staff ctrl-clicked 一覧 and 集計 (「[グループ]」) and pressed 評価を再計算. Excel gives
    no protection, merge, conditional format, filter or panes to a group (the model refuses
    them, 1004): the master's VBA ungroups before sending, and the whole answer replays."""
    path = _grouped(master, tmp_path / "grouped.xlsm")
    payload = payload_from_file(path, client=VBA)
    assert payload[EXCEL_KEY]["grouped"] == []
    applied = apply_actions(payload, _answer(buttons.recalc, payload))
    assert {c.LIST, c.SUMMARY, c.FINDINGS} <= set(applied.protection)
    assert applied.merges.get(c.LIST) and applied.freeze.get(c.LIST)
    # A VBA that sent the book grouped: the first lift of a protected sheet stops the click,
    # and staff read that a sheet has a password.
    older = dict(payload, **{EXCEL_KEY: dict(payload[EXCEL_KEY], grouped=[c.LIST, c.SUMMARY])})
    with pytest.raises(ExcelError) as met:
        apply_actions(older, _answer(buttons.recalc, payload))
    assert met.value.number == RENKEI_REFUSED and "パスワード" in met.value.text


def test_a_sheet_left_in_page_layout_view_keeps_its_view_and_the_click_replays_whole(master, tmp_path):
    """Staff look at 一覧 as printed (表示 > ページ レイアウト, saved as view="pageLayout") and
    press 評価を再計算. Excel's ribbon offers no freezing in that view, and what FreezePanes
    does there is not known (docs/excel-model.md check 16; the model takes 1004): the master's
    RenkeiFreeze leaves that sheet's panes and view, and the rest of the answer replays."""
    from remote_payload import freeze_leaves_page_layout

    path = _copy(master, tmp_path / "layout.xlsm")
    wb = load_workbook(path, keep_vba=True)
    wb[c.LIST].sheet_view.view = "pageLayout"
    wb.save(path)
    assert freeze_leaves_page_layout(path)
    payload = payload_from_file(path, client=VBA)
    assert payload[EXCEL_KEY]["page_layout"] == [c.LIST]
    actions = _answer(buttons.recalc, payload)
    order = [s["name"] for s in payload["sheets"]]
    assert any(a["func"] == "freezePaneAtRange" and order[a["sheet_position"]] == c.LIST for a in actions)
    applied = apply_actions(payload, actions)
    assert c.LIST not in applied.freeze and applied.freeze.get(c.FINDINGS)
    assert {c.LIST, c.SUMMARY, c.FINDINGS} <= set(applied.protection)     # the click went to its end
    older = dict(payload, **{EXCEL_KEY: dict(payload[EXCEL_KEY], freeze_leaves_page_layout=False)})
    with pytest.raises(ExcelError, match="Page Layout"):
        apply_actions(older, actions)


def test_a_shared_workbook_is_refused_in_its_own_words_before_anything_is_sent(master, tmp_path):
    """A legacy shared workbook: Excel unprotects no sheet and merges no cells there. The
    master's VBA stops before sending, saying what it is and how to stop sharing; without it
    the click stopped at its first action with the refusal for a sheet with a password."""
    path = _shared(master, tmp_path / "shared.xlsm")
    for caption in c.BOOK_WRITERS:
        with pytest.raises(ClientStopped) as stopped:
            payload_from_file(path, client=VBA, entry=ENTRIES[caption])
        assert stopped.value.text == shared_book_message() + "。"
    payload = payload_from_file(master, client=VBA)
    older = dict(payload, **{EXCEL_KEY: dict(payload[EXCEL_KEY], shared=True)})
    actions = _answer(buttons.check, payload)
    with pytest.raises(ExcelError) as met:
        apply_actions(older, actions)
    lifted = next(a for a in actions if a["func"] == "renkeiUnprotectSheets")["args"][0]
    first = next(s for s in lifted if s in payload[EXCEL_KEY]["protection"])
    assert met.value.number == RENKEI_REFUSED and met.value.text == locked_sheet_message([first])


def test_the_masters_vba_refuses_a_shared_workbook_to_the_buttons_the_one_table_says_write_into_it(master):
    """RenkeiServer.bas' BOOK_WRITERS is contract.BOOK_WRITERS by Renkei.bas' entries: the
    server face stops the same buttons as the desktop (excel.buttons._run)."""
    assert shared_refused_to(master) == {ENTRIES[caption] for caption in c.BOOK_WRITERS}
    assert FILE_MAKERS and set(FILE_MAKERS) == {c.SPLIT, c.EXPORT, c.ROLLOVER}


@pytest.mark.parametrize("caption", FILE_MAKERS)
def test_a_button_that_only_makes_files_runs_in_a_shared_workbook(master, tmp_path, monkeypatch, caption):
    """配布用ファイル作成, 確定版を書き出し and 次年度のマスターを作成 read the saved master and write
    files beside it: nothing they do is what Excel forbids in a legacy shared workbook
    (protection, merges, conditional formats, links, charts). The master's VBA stopped them
    too, with a message saying the button's results could not be written into the book."""
    path = _shared(master, tmp_path / "work" / "shared.xlsm")
    monkeypatch.chdir(path.parent)
    payload = payload_from_file(path, client=VBA, entry=ENTRIES[caption])
    assert payload[EXCEL_KEY]["shared"]
    applied = apply_actions(payload, _answer(getattr(buttons, ENTRIES[caption]), payload))
    (alert,) = applied.alerts
    assert "中止" not in alert["prompt"] and "共有" not in alert["prompt"], alert["prompt"]
    assert [p.name for p in path.parent.iterdir() if p != path and not p.name.startswith(".")], "no file made"


# ------------------------------------------------------------------- the desktop face

class _Window:
    def __init__(self, grouped: int):
        self.SelectedSheets = SimpleNamespace(Count=grouped)


class _ComBook:
    """The COM calls WindowsBook.prepare makes, as Excel answers them (no Excel runs here):
    Select on the active sheet of the active book leaves it alone in its window's selection."""

    def __init__(self, shared=False, grouped=1, read_only=False, saved=True):
        self.MultiUserEditing = shared
        self.ReadOnly, self.Saved = read_only, saved
        self.window = _Window(grouped)
        self.calls = []
        self.ActiveSheet = SimpleNamespace(Select=self._select)
        self.Windows = lambda i: self.window

    def _select(self):
        self.calls.append("Select")
        self.window.SelectedSheets.Count = 1


def _windows_book(api: _ComBook):
    from renkei_xl.excel.desktop import WindowsBook

    book = SimpleNamespace(name="マスター.xlsm", api=api, activate=lambda: api.calls.append("activate"), sheets=[],
                           app=SimpleNamespace(engine=SimpleNamespace(type="desktop")))
    return WindowsBook(book)


def test_the_desktop_ungroups_the_masters_sheets_before_writing():
    api = _ComBook(grouped=3)
    _windows_book(api).prepare()
    assert api.calls == ["activate", "Select"] and api.window.SelectedSheets.Count == 1
    alone = _ComBook()
    _windows_book(alone).prepare()
    assert alone.calls == []


@pytest.mark.parametrize("caption", list(ENTRIES))
def test_the_desktop_refuses_a_shared_workbook_to_the_buttons_that_write_into_it(monkeypatch, caption):
    """A button that writes into the book readies it before anything is read (buttons._run):
    a shared workbook's sheets cannot be unprotected, which read as a password before. The
    buttons that only make files run, as on the server (contract.BOOK_WRITERS)."""
    import sys

    monkeypatch.setattr(sys, "platform", "win32")
    calls: list = []
    app = SimpleNamespace(engine=SimpleNamespace(type="desktop"), calculation="automatic",
                          api=SimpleNamespace(), alert=lambda text, **k: calls.append(("alert", text)))
    api = _ComBook(shared=True)
    book = SimpleNamespace(name="マスター.xlsm", app=app, sheets=[], api=api, activate=lambda: calls.append("activate"))
    buttons._run(caption, lambda live, title: calls.append("body") or "済み", book)
    if caption in c.BOOK_WRITERS:
        assert calls == [("alert", f"{c.stopped(caption)}\n\n{shared_book_message()}")], calls
    else:
        assert calls == ["body", ("alert", "済み")], calls


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_the_desktop_calculates_a_book_set_to_manual_before_the_click_reads_it(monkeypatch, platform):
    """xlwings' App.calculate (F9) before the button's own work reads anything, only where
    App.calculation is manual."""
    import sys

    monkeypatch.setattr(sys, "platform", platform)
    for mode, expected in (("manual", ["Calculate", "body"]), ("automatic", ["body"]), ("semiautomatic", ["body"])):
        calls: list[str] = []
        app = SimpleNamespace(engine=SimpleNamespace(type="desktop"), calculation=mode,
                              calculate=lambda: calls.append("Calculate"), api=SimpleNamespace(),
                              alert=lambda *a, **k: calls.append("alert"))
        book = SimpleNamespace(name="マスター.xlsm", app=app, sheets=[], api=_ComBook())     # a writer readies the book first
        buttons._run("入力チェック", lambda live, title: calls.append("body") or "済み", book)
        assert calls[:len(expected)] == expected, calls


@pytest.mark.parametrize("visible, activated", [(-1, True), (0, False), (2, False), (True, True), (False, False)])
def test_the_desktop_freezes_panes_only_on_a_sheet_excel_shows(visible, activated):
    """COM's Worksheet.Visible is -1 (shown), 0 (hidden) or 2 (very hidden, set in the VBA
    editor's properties): a very hidden 一覧 was taken as shown, and Activate met 1004 in the
    middle of the click's writes. A Mac says True or False."""
    calls: list[str] = []

    def activate():
        if visible not in (-1, True):
            raise OSError("Activate method of Worksheet class failed")
        calls.append("activate")

    sheet = SimpleNamespace(visible=visible, activate=activate)
    api = _ComBook()
    live = _windows_book(api)
    live.book.sheets = SimpleNamespace(active=SimpleNamespace(activate=lambda: calls.append("back")))
    live._freeze_window = lambda rows, cols: calls.append("freeze")
    live.freeze(sheet, (4, 1))
    assert calls == (["activate", "freeze", "back"] if activated else [])


class _FreezeWindow:
    """COM's ActiveWindow as WindowsBook._freeze_window meets it: View is xlNormalView (1),
    xlPageBreakPreview (2) or xlPageLayoutView (3); every property set is recorded."""

    def __init__(self, view: int):
        object.__setattr__(self, "View", view)
        object.__setattr__(self, "set", [])

    def __setattr__(self, name, value):
        self.set.append((name, value))


@pytest.mark.parametrize("view, frozen", [(1, True), (2, True), (3, False)])
def test_the_desktop_leaves_the_panes_of_a_sheet_in_page_layout_view(view, frozen):
    """As RenkeiServer.bas' RenkeiFreeze: in Page Layout view the window keeps its panes and
    its view (nothing is set); Normal and Page Break Preview freeze as always."""
    win = _FreezeWindow(view)
    live = _windows_book(_ComBook())
    live.book.app.api = SimpleNamespace(ActiveWindow=win)
    live._freeze_window(4, 1)
    if frozen:
        assert win.set[-1] == ("FreezePanes", True) and ("SplitRow", 4) in win.set
    else:
        assert win.set == []           # neither the panes nor the view staff chose


class _PrinterPageSetup:
    """COM's PageSetup where the default printer's driver lacks the paper asked (an office
    printer without A3): Excel refuses PaperSize with 1004 (「PaperSize プロパティを設定できません」,
    what RenkeiServer.bas' renkeiPageSetup sets under On Error Resume Next); every other
    property set is recorded."""

    def __init__(self):
        object.__setattr__(self, "set", [])

    def __setattr__(self, name, value):
        if name == "PaperSize":
            raise RuntimeError("(-2147352567, 'Exception occurred.', (0, 'Microsoft Excel', "
                               "'Unable to set the PaperSize property of the PageSetup class', None, 0, -2146827284))")
        self.set.append((name, value))


def test_a_paper_the_printer_lacks_keeps_the_sheets_and_the_desktop_sets_the_rest_as_the_server_does():
    """The server's replay keeps the sheet's paper and goes on; the desktop (COM) raised, and
    評価を再計算 stopped with 一覧's values written and its page half set (PartlyWritten)."""
    from renkei_xl.core.looks import PrintSetup
    from renkei_xl.excel.desktop import com_page_setup

    ps, breaks = _PrinterPageSetup(), []
    sheet = SimpleNamespace(api=SimpleNamespace(PageSetup=ps, ResetAllPageBreaks=lambda: breaks.append("reset"),
                                                HPageBreaks=SimpleNamespace(Add=lambda Before: breaks.append(Before))),
                            range=lambda cell: SimpleNamespace(api=cell))
    setup = PrintSetup(paper="A3", landscape=True, title_rows=(1, 3), footer="&P / &N", row_breaks=(40, 80))
    _windows_book(_ComBook())._page_setup(sheet, setup)
    assert ps.set == [(prop, value) for prop, value in com_page_setup(setup).items() if prop != "PaperSize"]
    assert breaks == ["reset", (41, 1), (81, 1)]


# -------------------------------------------------- a book Excel opened read-only

# What a button that writes into the book does there (core.unsaved.read_only_click): stop, run
# with a note first, or run as ever (the file makers are judged from the saved master).
READ_ONLY_DOES = {c.COLLECT: "refused", c.CHECK: "noted", c.RECALC: "noted",
                  c.SPLIT: "runs", c.EXPORT: "runs", c.ROLLOVER: "runs"}


def _said_read_only(text: str, caption: str, edited: bool) -> None:
    """The words every face gives a book opened read-only: why (a colleague has the master),
    that it cannot be kept, the step (close, wait, reopen, press this button again), and the
    edits typed in the copy only where Excel marks it changed."""
    assert "読み取り専用で開かれています（ほかの人がマスターを開いていたときなど）" in text, text
    assert f"ほかの人がマスターを閉じてから開き直して、もう一度{c.named(caption)}を押してください" in text, text
    assert ("開き直したマスターに入れ直してください" in text) == edited, text


def test_the_one_rule_covers_every_button_and_what_the_client_did_not_say_runs_as_ever():
    from renkei_xl.core.unsaved import BookState, ReadOnlyClick, read_only_click

    assert set(READ_ONLY_DOES) == set(ENTRIES) and {k for k, v in READ_ONLY_DOES.items() if v != "runs"} == c.BOOK_WRITERS
    for caption in ENTRIES:
        for state in (BookState(), BookState(False, None), BookState(True, False), BookState(False, False)):
            assert read_only_click(caption, state) == ReadOnlyClick(), (caption, state)


@pytest.mark.parametrize("saved", [True, False])
@pytest.mark.parametrize("caption", list(ENTRIES))
def test_the_desktop_stops_collect_on_a_read_only_book_and_notes_check_and_recalc(monkeypatch, caption, saved):
    """A colleague had the master open, so Excel opened it read-only (COM: Workbook.ReadOnly).
    回収ファイル取込 wrote its import and 取込履歴 into it without a word, lost on closing (the
    same returns taken again later): it stops before its body reads anything. 入力チェック
    and 評価を再計算 run (their results are worth seeing) with a note first that they cannot
    be kept. The buttons that make files run as ever (their own rule: _saved_or_ask)."""
    import sys

    monkeypatch.setattr(sys, "platform", "win32")
    for read_only in (True, False):
        calls: list = []
        app = SimpleNamespace(engine=SimpleNamespace(type="desktop"), calculation="automatic",
                              api=SimpleNamespace(), alert=lambda text, **k: calls.append(("alert", text, k.get("mode"))))
        api = _ComBook(read_only=read_only, saved=saved)
        book = SimpleNamespace(name="マスター.xlsm", app=app, sheets=[], api=api, activate=lambda: calls.append("activate"))
        buttons._run(caption, lambda live, title: calls.append("body") or ["済み"], book)
        does = READ_ONLY_DOES[caption] if read_only else "runs"
        if does == "refused":
            ((what, text, mode),) = calls
            assert what == "alert" and mode == "critical" and text.startswith(f"{c.stopped(caption)}\n\n"), calls
            assert "回収したファイルは読まずに止めました。ブックは変更していません。" in text, text
            _said_read_only(text, caption, edited=not saved)
        elif does == "noted":
            assert calls[0] == "body" and len(calls) == 2, calls
            _what, text, mode = calls[1]
            assert mode == "info" and text.startswith("【注意】") and text.endswith("\n\n済み"), text
            assert "マスターには残りません" in text and "別の名前で保存したブックはマスターではなく" in text, text
            _said_read_only(text, caption, edited=not saved)
        else:
            assert calls == ["body", ("alert", "済み", "info")], calls


def _read_only_payload(path: Path, saved: bool = True) -> dict:
    """What the server gives the click of a book RenkeiServer.bas said was opened read-only
    (X-Renkei-Book, read by server.book_state, kept by admission under BOOK_STATE_KEY)."""
    from renkei_xl.excel.book import BOOK_STATE_KEY

    return {**payload_from_file(path, client=VBA), BOOK_STATE_KEY: [saved, True]}


def test_the_server_face_stops_collect_on_a_read_only_book_before_it_reads_the_returns(master, tmp_path, monkeypatch):
    """The remote engine, replayed on the model of Excel: a read-only book's 回収ファイル取込
    answers its refusal alone (no cell, no 取込履歴 written); the writable one imports."""
    book = _copy(master, tmp_path / "work" / "master.xlsm")
    monkeypatch.chdir(book.parent)
    returned, _ind_id, _new = _returned_file(book, tmp_path, "小樽市", 3)
    _copy(returned, book.parent / c.COLLECT_DIR / returned.name)
    payload = _read_only_payload(book, saved=False)
    actions = _answer(buttons.collect, payload)
    assert [a["func"] for a in actions] == ["alert"], [a["func"] for a in actions]
    applied = apply_actions(payload, actions)
    (alert,) = applied.alerts
    assert alert["mode"] == "critical" and alert["prompt"].startswith(c.stopped(c.COLLECT)), alert
    _said_read_only(alert["prompt"], c.COLLECT, edited=True)
    (alert,) = apply_actions(payload, _answer(buttons.collect, payload_from_file(book, client=VBA))).alerts
    assert "1 件のファイルを取り込みました" in alert["prompt"], alert


@pytest.mark.parametrize("caption", [c.CHECK, c.RECALC])
def test_the_server_face_runs_check_and_recalc_on_a_read_only_book_saying_first_they_cannot_be_kept(master, caption):
    payload = _read_only_payload(master)
    applied = apply_actions(payload, _answer(getattr(buttons, ENTRIES[caption]), payload))
    (alert,) = applied.alerts
    assert alert["mode"] == "info" and alert["prompt"].startswith("【注意】このブックは読み取り専用"), alert
    _said_read_only(alert["prompt"], caption, edited=False)
    assert c.FINDINGS in applied.protection       # the click ran to its end
    assert ("評価を再計算しました" if caption == c.RECALC else "入力チェックが終わりました") in alert["prompt"]


def test_esc_pressed_during_a_server_click_leaves_no_sheet_unprotected(master):
    """Staff pressed Esc (or Ctrl+Break) while a server click replayed its answer, a long wait
    on a big 一覧. Excel's default for the key (xlInterrupt) stops the code in its box 「コードの
    実行が中断されました」, whose 終了 ends every procedure without running its error handler
    (documented: Application.EnableCancelKey): the sheets renkeiUnprotectSheets had lifted stayed
    unprotected, Application.EnableEvents stayed False for the rest of the session, and no box
    said the book was half written. The model put protection back after any stop. The master's
    RenkeiCallServer turns the key off until protection and events are back; the key then does
    nothing and the replay runs to its message."""
    from remote_payload import CODE_ENDED, UNPROTECT, cancel_key_off

    payload = payload_from_file(master, client=VBA)
    assert cancel_key_off(master) and payload[EXCEL_KEY]["cancel_key_off"]
    actions = _answer(buttons.check, payload)
    lifting = [a["func"] for a in actions].index(UNPROTECT)
    pressed = dict(payload, **{EXCEL_KEY: dict(payload[EXCEL_KEY], escape_at=lifting + 1)})
    applied = apply_actions(pressed, actions)
    assert applied.alerts and {c.MENU, c.FINDINGS} <= set(applied.protection)
    # A RenkeiCallServer that leaves the key as Excel has it: 終了 leaves the lifted sheets open.
    older = dict(pressed, **{EXCEL_KEY: dict(pressed[EXCEL_KEY], cancel_key_off=False)})
    with pytest.raises(ExcelError) as met:
        apply_actions(older, actions)
    assert met.value.number == CODE_ENDED
    assert {c.MENU, c.FINDINGS} <= set(actions[lifting]["args"][0]) - set(met.value.applied.protection)

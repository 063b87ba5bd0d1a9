"""The desktop engine's calls as xlwings 0.37.8 and Excel take them (no Windows or Mac runs here).

On a Mac every call outside xlwings' own API is an AppleScript term that ``best_effort``
drops when it fails, so a wrong term never showed: it only left the look (or the
protection) out on every click. tests/apple_model.py checks each term against the
terminology xlwings itself sends (xlwings/mac_dict.py) and refuses what appscript refuses.
"""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest

from apple_model import AppleExcel, Keywords
from renkei_xl.core.errors import UserError
from renkei_xl.core.looks import PROTECTION
from renkei_xl.core.plan_types import PrintSetup
from renkei_xl.excel.desktop import MacBook, WindowsBook, mac_protection


class _Sheets(list):
    def __getitem__(self, key):
        return next(s for s in self if s.name == key) if isinstance(key, str) else super().__getitem__(key)


def _mac_book(excel: AppleExcel, names=("一覧", "小樽市")) -> MacBook:
    def sheet(name):
        path = f"sheet[{name}]"
        return SimpleNamespace(name=name, api=excel.ref(path), visible=True, activate=lambda: None,
                               range=lambda first, last=None: SimpleNamespace(api=excel.ref(f"{path}.range")))

    book = SimpleNamespace(app=SimpleNamespace(engine=SimpleNamespace(type="desktop"), api=excel.ref("app")),
                           sheets=_Sheets(sheet(n) for n in names))
    book.sheets.active = book.sheets[0]
    return MacBook(book)


@pytest.fixture
def appscript(monkeypatch):
    """``from appscript import k`` as on a Mac (appscript installs on macOS only)."""
    monkeypatch.setitem(sys.modules, "appscript", SimpleNamespace(k=Keywords()))


def _protected(excel: AppleExcel, name: str, own=PROTECTION) -> None:
    path = f"sheet[{name}]"
    excel.values.update({f"{path}.protect_contents": True, f"{path}.protect_drawing_objects": own.drawing_objects,
                         f"{path}.protect_scenarios": own.scenarios})
    excel.values.update({f"{path}.protection_object.{term}": value for term, value in mac_protection(own).items()
                         if term.startswith("allow_")})


def test_a_mac_protects_again_with_the_sheets_own_options_in_applescripts_terms(appscript):
    """protect_worksheet's contents parameter is ``worksheet_contents`` (mac_dict.py,
    "protect_worksheet"): ``contents=True`` was refused by appscript as an unknown keyword,
    which best_effort dropped, so on a Mac every click left the tool's sheets unprotected.
    What staff were allowed on the sheet (filter, format) comes back as it was, as on Windows."""
    excel = AppleExcel()
    own = PROTECTION._replace(sort=True, format_cells=True)
    _protected(excel, "一覧", own)
    live = _mac_book(excel)
    with live.writable(["一覧", "小樽市"], protect=["小樽市"]):
        assert excel.values["sheet[一覧].protect_contents"] is False
    assert excel.values["sheet[一覧].protect_contents"] is True
    assert ("sheet[一覧]", "protect_worksheet", dict(mac_protection(own))) in excel.log
    # a sheet the click added is protected as the built ones are
    assert ("sheet[小樽市]", "protect_worksheet", dict(mac_protection(PROTECTION))) in excel.log
    assert excel.values["sheet[小樽市].protect_contents"] is True


def test_a_mac_never_asks_for_a_password_and_refuses_before_writing(appscript):
    """unprotect with an explicit empty password (mac_dict.py: unprotect takes ``password``):
    a sheet with a password stops the click with the Japanese refusal before anything is
    written, and the sheets lifted before it are protected again. Before, best_effort
    dropped the failure and the write itself stopped halfway with Excel's message."""
    excel = AppleExcel(passwords={"sheet[小樽市]": "staff-only"})
    _protected(excel, "一覧")
    _protected(excel, "小樽市")
    live = _mac_book(excel)
    assert live.password_sheets(["一覧", "小樽市"]) == ["小樽市"]
    assert excel.values["sheet[一覧].protect_contents"] is True
    with pytest.raises(UserError, match="「小樽市」はパスワードで保護されている"):
        with live.writable(["一覧", "小樽市"]):
            pytest.fail("nothing may be written")
    assert excel.values["sheet[一覧].protect_contents"] is True
    assert ("sheet[小樽市]", "unprotect", {"password": ""}) in excel.log


def test_a_mac_freezes_panes_from_the_top_left_as_windows_and_the_vba_do(appscript):
    """SplitRow counts rows from the top of what the window shows: WindowsBook and
    RenkeiServer.bas' RenkeiFreeze unsplit and scroll to A1 first; the Mac did not, so a
    一覧 staff had scrolled froze at the scrolled row."""
    excel = AppleExcel()
    live = _mac_book(excel)
    live.freeze(live.book.sheets["一覧"], (4, 2))
    win = "app.active_window"
    assert [entry for entry in excel.log if entry[0].startswith(win)] == [
        (f"{win}.freeze_panes", "set", False), (f"{win}.split", "set", False),
        (f"{win}.scroll_row", "set", 1), (f"{win}.scroll_column", "set", 1),
        (f"{win}.split_row", "set", 3), (f"{win}.split_column", "set", 1), (f"{win}.freeze_panes", "set", True)]


def test_a_mac_puts_filter_buttons_with_the_autofilter_range_command(appscript):
    """``autofilter`` is only a class in xlwings' terminology (mac_dict.py: ("autofilter",
    b"X240") among the classes, its element "autofilters", the command "autofilter_range"):
    appscript names references by property, element and command only (terminology.py,
    _makereferencetable), so ``range.api.autofilter()`` raised AttributeError, best_effort
    dropped it, and 検証結果 had no filter buttons on a Mac."""
    excel = AppleExcel({"sheet[一覧].autofilter_mode": True})
    live = _mac_book(excel)
    live.autofilter(live.book.sheets["一覧"], (1, 1, 5, 3))
    assert excel.log == [("sheet[一覧].autofilter_mode", "set", False), ("sheet[一覧].range", "autofilter_range", {})]


def test_every_applescript_term_the_mac_uses_is_in_xlwings_terminology(appscript, monkeypatch):
    """No term of MacBook fails in the model: best_effort drops nothing."""
    from renkei_xl.excel import book as book_module

    def strict(action):
        action()
    monkeypatch.setattr("renkei_xl.excel.desktop.best_effort", strict)
    assert book_module.best_effort is not strict
    excel = AppleExcel()
    _protected(excel, "一覧")
    live = _mac_book(excel)
    sheet = live.book.sheets["一覧"]
    live.underline(sheet.range((1, 1)))
    live.freeze(sheet, None)
    live.autofilter(sheet, (1, 1, 2, 2))
    live._page_setup(sheet, PrintSetup(paper="A4", title_rows=(1, 3)))
    with live.writable(["一覧"]):
        pass
    assert ("sheet[一覧].range.font_object.underline", "set", "k.underline_style_single") in excel.log
    assert ("sheet[一覧].page_setup_object.print_title_rows", "set", "$1:$3") in excel.log


class _OneDriveBook(SimpleNamespace):
    """A book opened from OneDrive whose synced file xlwings cannot find: its desktop
    engines turn Excel's URL into the local file and raise XlwingsError where there is none
    (xlwings/utils.py, fullname_url_to_local_path; _xlwindows.py and _xlmac.py Book.fullname)."""

    @property
    def fullname(self):
        import xlwings

        raise xlwings.XlwingsError("Couldn't find your local OneDrive file, see: xlwings.org/error")


@pytest.mark.parametrize("cls", [WindowsBook, MacBook])
def test_a_book_on_onedrive_xlwings_cannot_place_is_checked_and_refused_in_japanese(cls):
    """入力チェック and 評価を再計算 read the saved master's notes beside the open book: a
    OneDrive master xlwings could not place stopped them with 「予期しないエラー」 and
    xlwings' English. Now they run without the saved notes (none is known, as on the server
    when there is no saved file), and the buttons that need the file say why in Japanese."""
    from renkei_xl.excel.buttons import master_path

    live = cls(_OneDriveBook(app=SimpleNamespace(engine=SimpleNamespace(type="desktop")), sheets=[]))
    assert live.comment_source() is None
    with pytest.raises(UserError, match="OneDrive / SharePoint 上で開かれています"):
        master_path(live)


def test_a_second_click_on_a_mac_waits_for_the_first_and_stops_in_japanese(tmp_path, monkeypatch):
    """On a Mac, RunPython returns at once and Python runs in the background
    (xlwings-0.37.8.applescript: the shell command ends in "&"), so a second click started a
    second process writing the same open book while the first still wrote. It now waits for
    the first (the command line's writer lock on the master) and stops, having changed
    nothing, if the first does not finish (CLICK_WAIT_SECONDS, 0 here)."""
    from renkei_xl.excel import buttons
    from renkei_xl.safety import writer_lock

    master = tmp_path / "連携マスター.xlsm"
    master.write_bytes(b"saved")
    said: list[str] = []
    app = SimpleNamespace(engine=SimpleNamespace(type="desktop"), calculation="automatic", api=None,
                          alert=lambda text, **_: said.append(text))
    book = SimpleNamespace(app=app, sheets=[], fullname=str(master), name=master.name, api=None)
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(buttons, "CLICK_WAIT_SECONDS", 0)

    def body(live, title):
        said.append("body")
        return "済み"
    with writer_lock(master):           # the first click, still writing
        buttons._run("入力チェック", body, book)
    assert "body" not in said and "書き込み中" in said[-1]
    buttons._run("入力チェック", body, book)
    assert said[-2:] == ["body", "済み"]

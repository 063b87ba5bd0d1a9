"""One LiveBook class per engine behind one interface, and the factory that picks it.

The Windows (COM) and macOS (AppleScript) classes cannot run here; what can be checked is
that each answers every write of the interface and that the factory picks it. The remote
class runs on real payloads: what its client replays is data it is given (RemoteClient),
and the answer's alignment follows that data alone.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from remote_payload import LICENSE_ENV, OFFICE_JS, VBA, payload_from_file, remote_book
from renkei_xl.cli.workbook import init_master
from renkei_xl.excel import buttons
from renkei_xl.excel.book import MAC, REMOTE, RENKEI_CLIENT_KEY, WINDOWS, LiveBook
from renkei_xl.excel.desktop import DesktopBook, MacBook, WindowsBook
from renkei_xl.excel.engines import engine_of, live_book
from renkei_xl.excel.remote import RemoteBook, RemoteClient

ALIGNMENT = {"setHorizontalAlignment", "setVerticalAlignment"}


def test_each_engine_class_answers_every_write_of_the_interface():
    for cls, engine in ((WindowsBook, WINDOWS), (MacBook, MAC), (RemoteBook, REMOTE)):
        assert cls.__abstractmethods__ == frozenset(), cls
        assert cls.engine == engine and issubclass(cls, LiveBook)
    assert {"set_column_width", "underline", "align", "freeze", "autofilter", "writable"} <= LiveBook.__abstractmethods__
    assert DesktopBook.__abstractmethods__ == {"_freeze_window", "_lift", "_protect", "underline", "autofilter"}
    assert WindowsBook.is_desktop and MacBook.is_desktop and not RemoteBook.is_desktop
    assert WindowsBook.reads_colours and MacBook.reads_colours and not RemoteBook.reads_colours


def _desktop_book():
    sheets = [SimpleNamespace(name="設定")]
    return SimpleNamespace(app=SimpleNamespace(engine=SimpleNamespace(type="desktop")), sheets=sheets)


@pytest.mark.parametrize("platform, cls", [("win32", WindowsBook), ("darwin", MacBook)])
def test_a_desktop_book_gets_its_platforms_class(monkeypatch, platform, cls):
    monkeypatch.setattr(sys, "platform", platform)
    book = _desktop_book()
    live = live_book(book)
    assert type(live) is cls and engine_of(book) == cls.engine and live.sheetnames == ["設定"]


@pytest.fixture(scope="module")
def master(tmp_path_factory) -> Path:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(*LICENSE_ENV)
        import xlwings as xw

        if "remote" not in [e.name for e in xw.engines]:
            from xlwings.main import Engine
            from xlwings.pro import _xlremote

            xw.engines.add(Engine(impl=_xlremote.engine))
        yield init_master(tmp_path_factory.mktemp("engines") / "master.xlsm", sample="fy2023")


@pytest.mark.parametrize("client, marked, aligns", [(OFFICE_JS, False, True), (VBA, False, False), (VBA, True, True)])
def test_a_remote_book_is_given_what_its_client_replays(master, tmp_path, client, marked, aligns):
    """Office.js and a VBA client the server marks as carrying RenkeiServer.bas align;
    xlwings' own VBA client does not, so the answer holds no alignment for it."""
    book = shutil.copyfile(master, tmp_path / "book.xlsm")
    payload = payload_from_file(Path(book), client=client)
    if marked:
        payload[RENKEI_CLIENT_KEY] = True
    live = live_book(remote_book(payload))
    assert type(live) is RemoteBook and live.client == RemoteClient(aligns=aligns)
    answered = remote_book(payload)
    buttons.recalc(answered)
    funcs = {a["func"] for a in answered.json()["actions"]}
    assert bool(funcs & ALIGNMENT) == aligns, funcs & ALIGNMENT


class _Range:
    def __init__(self, rows):
        self.rows = rows

    def options(self, **_):
        return SimpleNamespace(value=[list(r) for r in self.rows])


def _com_book(rows):
    """A book as xlwings shows it through COM: one sheet, its values as pywin32 returns them."""
    last = SimpleNamespace(row=len(rows), column=len(rows[0]))
    sheet = SimpleNamespace(name="指標", used_range=SimpleNamespace(last_cell=last), range=lambda *_: _Range(rows))
    sheets = _Sheets([sheet])
    return SimpleNamespace(app=SimpleNamespace(engine=SimpleNamespace(type="desktop")), sheets=sheets)


class _Sheets(list):
    def __getitem__(self, key):
        return next(s for s in self if s.name == key) if isinstance(key, str) else super().__getitem__(key)


def test_the_windows_book_reads_com_error_values_as_their_text(monkeypatch):
    """COM gives #SPILL! as the SCODE int -2146826243; only the Windows class reads it back
    as text, and numbers stay numbers."""
    monkeypatch.setattr(sys, "platform", "win32")
    spill = -2146828288 + 2045
    live = live_book(_com_book([["実績値", spill], [12.5, "#REF!"]]))
    assert type(live) is WindowsBook
    assert live.grid("指標") == [["実績値", "#SPILL!"], [12.5, "#REF!"]]
    assert MacBook(_com_book([[spill]])).grid("指標") == [[spill]]


def test_a_sheets_own_com_protection_goes_back_as_it_was():
    """What WindowsBook lifts it restores with the sheet's own options (read from COM's
    Worksheet.Protection, a stand-in here: no Excel runs), through the one name table."""
    from types import SimpleNamespace

    from renkei_xl.core.looks import PROTECTION
    from renkei_xl.excel.desktop import _windows_protection, com_protection

    own = PROTECTION._replace(sort=True, autofilter=False, format_cells=True)
    allowed = {k: v for k, v in com_protection(own).items() if k.startswith("Allow")}
    api = SimpleNamespace(Protection=SimpleNamespace(**allowed), ProtectDrawingObjects=False, ProtectScenarios=True)
    assert _windows_protection(api) == com_protection(own._replace(drawing_objects=False))
    assert _windows_protection(api) != com_protection(PROTECTION)


class _ComSheet:
    """The COM calls WindowsBook's protection makes, as Excel answers them (COM cannot run
    here): Unprotect("") lifts a sheet without a password and fails on one with a password
    (Excel's 1004 arrives as a com_error)."""

    def __init__(self, password=None):
        self.ProtectContents = True
        self.ProtectDrawingObjects = self.ProtectScenarios = True
        self.Protection = SimpleNamespace(**{name: False for name in (
            "AllowFormattingCells", "AllowFormattingColumns", "AllowFormattingRows", "AllowInsertingColumns",
            "AllowInsertingRows", "AllowInsertingHyperlinks", "AllowDeletingColumns", "AllowDeletingRows",
            "AllowSorting", "AllowFiltering", "AllowUsingPivotTables")})
        self.password, self.calls = password, []

    def Unprotect(self, password=None):
        self.calls.append(("Unprotect", password))
        if self.password is not None and password != self.password:
            raise OSError("(-2147352567, 'Exception occurred.', 'The password you supplied is not correct.')")
        self.ProtectContents = False

    def Protect(self, **options):
        self.calls.append(("Protect", options["Contents"]))
        self.ProtectContents = True


class _ComSheets(list):
    def __getitem__(self, key):
        return next(s for s in self if s.name == key) if isinstance(key, str) else super().__getitem__(key)


def test_windows_never_asks_for_a_password_and_protects_again_what_it_lifted():
    """A sheet protected with a password stops the write with the Japanese refusal, not
    Excel's password dialog (Unprotect with an explicit empty password), and the sheets
    lifted before it are protected again."""
    from renkei_xl.core.errors import UserError

    open_sheet, locked = _ComSheet(), _ComSheet(password="staff-only")
    book = SimpleNamespace(app=SimpleNamespace(engine=SimpleNamespace(type="desktop")), sheets=_ComSheets(
        [SimpleNamespace(name="一覧", api=open_sheet), SimpleNamespace(name="小樽市", api=locked)]))
    live = WindowsBook(book)
    with pytest.raises(UserError, match="「小樽市」はパスワードで保護されている"):
        with live.writable(["一覧", "小樽市"]):
            pytest.fail("nothing may be written")
    assert open_sheet.calls == [("Unprotect", ""), ("Protect", True)] and open_sheet.ProtectContents
    assert locked.calls == [("Unprotect", "")] and locked.ProtectContents
    with live.writable(["一覧"]):
        assert not open_sheet.ProtectContents
    assert open_sheet.ProtectContents

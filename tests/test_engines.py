"""One LiveBook class per engine behind one interface, and the factory that picks it.

The Windows (COM) and macOS (AppleScript) classes cannot run here; what can be checked is
that each answers every write of the interface and that the factory picks it. The remote
class runs on real payloads: what its client replays is data it is given (RemoteClient),
and the answer's alignment follows that data alone.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from remote_payload import OFFICE_JS, OLE_EPOCH, VBA, payload_from_file, remote_book
from test_buttons import licensed  # noqa: F401  (the remote engine's licence fixture)
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
    assert DesktopBook.__abstractmethods__ == {"_freeze_window", "_own_protection", "_unprotect", "_protect", "underline",
                                              "autofilter"}
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
def master(tmp_path_factory, licensed) -> Path:  # noqa: F811  (the remote engine, for the module)
    return init_master(tmp_path_factory.mktemp("engines") / "master.xlsm", sample="fy2023")


@pytest.mark.parametrize("client, marked, aligns", [(OFFICE_JS, False, False), (VBA, False, False), (VBA, True, True)])
def test_a_remote_book_is_given_what_its_client_replays(master, tmp_path, client, marked, aligns):
    """Only the server's mark of a master carrying RenkeiServer.bas aligns; xlwings' own VBA
    client does not, so the answer holds no alignment for it. An Office.js payload is no
    longer told apart (it aligned): the server answers no client without the mark
    (test_server: test_a_client_the_server_cannot_answer_is_refused_before_anything_runs)."""
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
    def __init__(self, rows, value2=None):
        self.rows, self.value2 = rows, value2

    def options(self, **_):
        return SimpleNamespace(value=[list(r) for r in self.rows])

    @property
    def api(self):
        """What a Mac reads besides: each cell's shown text (tests/test_mac_errors.py); and
        COM's Value2, the Doubles the cells hold (a tuple of row tuples, a scalar for one cell)."""
        return SimpleNamespace(string_value=SimpleNamespace(get=lambda: [[str(v) for v in r] for r in self.rows]),
                               Value2=self.value2)


def _com_book(rows, value2=None):
    """A book as xlwings shows it through COM: one sheet, its values as pywin32 returns them."""
    last = SimpleNamespace(row=len(rows), column=len(rows[0]))
    sheet = SimpleNamespace(name="指標", used_range=SimpleNamespace(last_cell=last),
                            range=lambda *_: _Range(rows, value2))
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


def test_the_windows_book_reads_a_com_boolean_as_the_file_reader_does(monkeypatch):
    """A check box's linked cell is a VT_BOOL, which pywin32 hands over as bool: an int to
    isinstance, but never an error code (excel.com_errors looks at ints alone), so it
    reaches the core as the bool python-calamine reads, and is named as a TRUE/FALSE there."""
    from renkei_xl.core.contract_read import text
    from renkei_xl.core.values import boolean_value

    monkeypatch.setattr(sys, "platform", "win32")
    live = live_book(_com_book([["実施状況", True], [False, 1.0]]))
    grid = live.grid("指標")
    assert grid == [["実施状況", True], [False, 1.0]] and type(grid[0][1]) is bool and type(grid[1][0]) is bool
    assert [boolean_value(text(v)) for v in (True, False, 1.0, "TRUE")] == ["TRUE", "FALSE", None, "TRUE"]


def test_the_windows_book_reads_a_currency_cell_as_the_double_it_holds(monkeypatch):
    """0.123456 typed into a cell formatted 「¥#,##0.00」: COM's Range.Value is a Currency,
    Decimal("0.1235") from pywin32, and the click judged 0.1235 where the command line reads
    0.123456 from the saved file. Value2 is read for such a sheet and taken for those cells
    only (a date stays the datetime Value gives, never Value2's serial)."""
    from decimal import Decimal

    monkeypatch.setattr(sys, "platform", "win32")
    when = dt.datetime(2024, 3, 31)
    rows = [["実績値", Decimal("0.1235")], [when, Decimal("12")]]
    live = live_book(_com_book(rows, value2=(("実績値", 0.123456), (45382.0, 12.0))))
    assert live.grid("指標") == [["実績値", 0.123456], [when.date(), 12.0]]   # the date as the file reader's
    assert type(live.grid("指標")[1][1]) is float
    assert live_book(_com_book([[Decimal("1.0001")]], value2=1.00005)).grid("指標") == [[1.00005]]


def test_a_sheets_own_com_protection_goes_back_as_it_was():
    """What WindowsBook lifts it restores with the sheet's own options (read from COM's
    Worksheet.Protection, a stand-in here: no Excel runs), through the one name table."""
    from types import SimpleNamespace

    from renkei_xl.core.looks import PROTECTION
    from renkei_xl.excel.desktop import _windows_protection, com_protection

    own = PROTECTION._replace(sort=True, autofilter=False, format_cells=True)
    allowed = {k: v for k, v in com_protection(own).items() if k.startswith("Allow")}
    api = SimpleNamespace(Protection=SimpleNamespace(**allowed), ProtectDrawingObjects=False, ProtectScenarios=True)
    assert com_protection(_windows_protection(api)) == com_protection(own._replace(drawing_objects=False))
    assert _windows_protection(api) != PROTECTION


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


# What the file reader (python-calamine, then workbook.sheet_rows.as_read) gives for a serial
# saved with a time or a date format (measured: calamine reads the serial alike in each):
# below 1 a time of day, serials 1-59 counted from 1899-12-31, 60 (Excel's 29 February 1900)
# as 1900-02-28, a whole serial a date.
SAVED_SERIALS = {0: "00:00:00", 0.4375: "10:30:00", 1: dt.date(1900, 1, 1), 17: dt.date(1900, 1, 17),
                 59: dt.date(1900, 2, 28), 59.75: dt.datetime(1900, 2, 28, 18), 60: dt.date(1900, 2, 28),
                 61: dt.date(1900, 3, 1), 45000.5: dt.datetime(2023, 3, 15, 12),
                 # fractions of a second (=NOW() saved): to the second, as VBA's Date keeps them
                 45000.437507: dt.datetime(2023, 3, 15, 10, 30, 1), 0.999999: dt.date(1900, 1, 1)}
DATE_FORMATS = ("h:mm", "yyyy/m/d", "yyyy/m/d h:mm", "[h]:mm:ss")     # the last a duration: calamine's timedelta
SPARE_COLUMN = 10      # J: a staff column beside 小樽市's table


def _with_date_cells(master: Path, path: Path) -> Path:
    """A copy of ``master`` with every SAVED_SERIALS value in every DATE_FORMATS format on
    小樽市 (from J1 on, a column per format), and a time, a date of January 1900 and
    Excel's 29 February typed into its 実績値 and 分母 cells, saved by the tool's own writer."""
    from renkei_xl.core.plan_types import CellEdit, WritePlan
    from renkei_xl.workbook.session import write_planned

    shutil.copyfile(master, path)
    edits = [CellEdit("小樽市", r, SPARE_COLUMN + k, serial, number_format=fmt)
             for k, fmt in enumerate(DATE_FORMATS) for r, serial in enumerate(SAVED_SERIALS, start=1)]
    edits += [CellEdit("小樽市", 2, 5, 0.4375, number_format="h:mm"), CellEdit("小樽市", 3, 5, 17, "yyyy/m/d"),
              CellEdit("小樽市", 4, 6, 60, number_format="yyyy/m/d")]
    write_planned(path, lambda fs: (WritePlan(cells=edits), None))
    return path


@pytest.mark.parametrize("client", [VBA, OFFICE_JS])
def test_a_date_or_time_cell_reads_on_the_live_face_as_the_file_reader_reads_it(master, tmp_path, client):
    """A client sends a date or time cell as a date of OLE Automation's day count (VBA's
    Range.Value through VBA-Web's ConvertToIso: 「10:30」 as "1899-12-30T10:30:00.000Z",
    serial 17 as 1900-01-16). Read as sent, the buttons said 「1899-12-30 10:30:00」 where
    the command line said 「10:30:00」, and the server found the workbook sent never equal
    to the saved master: every button that makes files was refused for unsaved edits."""
    from renkei_xl.package.zipped import Package
    from renkei_xl.workbook.grids import Grids
    from renkei_xl.workbook.session import load_master

    path = _with_date_cells(master, tmp_path / "book.xlsm")
    with Package(path) as pkg:
        grids = Grids(pkg, ["小樽市"])
        saved = [list(row) for row in grids.rows("小樽市")]
        grids.close()
    live = live_book(remote_book(payload_from_file(path, client=client)))
    grid = live.grid("小樽市")
    for k, fmt in enumerate(DATE_FORMATS):
        for r, (serial, expected) in enumerate(SAVED_SERIALS.items()):
            col = SPARE_COLUMN + k - 1
            assert saved[r][col] == expected and type(saved[r][col]) is type(expected), (serial, fmt, saved[r][col])
            assert grid[r][col] == expected and type(grid[r][col]) is type(expected), (serial, fmt, grid[r][col])
    # what the server's admission compares (server.admission._saved): the contract data
    sent, on_disk = live.read(), load_master(path)
    assert (sent.settings, sent.indicators, sent.entries, sent.findings) == (
        on_disk.settings, on_disk.indicators, on_disk.entries, on_disk.findings)
    from renkei_xl.core.pipeline import recalculate

    said = {f.place: f.message for f in recalculate(sent.settings, sent.indicators, sent.entries,
                                                    sent.findings).findings}
    assert "「10:30:00」は時刻です" in said["小樽市!E2"] and "「1900-01-17」は日付" in said["小樽市!E3"], said


def test_com_reads_a_date_or_time_cell_as_the_file_reader_does(monkeypatch):
    """pywin32 hands a date or time cell over as the VT_DATE Excel gives COM, which xlwings
    turns into a datetime of OLE's day count (a time of day on 1899-12-30): the Windows
    class reads it through the same normalisation as the remote one."""
    monkeypatch.setattr(sys, "platform", "win32")
    ole = [OLE_EPOCH + dt.timedelta(days=serial) for serial in SAVED_SERIALS]
    live = live_book(_com_book([ole, ["実績値", 12.5]]))
    assert type(live) is WindowsBook
    assert live.grid("指標") == [list(SAVED_SERIALS.values()), ["実績値", 12.5]]


def test_the_bench_sends_a_date_or_time_cell_as_excels_clients_do(master, tmp_path):
    """tests/remote_payload models the clients, not a kinder one: Remote.bas writes a VBA
    Date (OLE's day count, whole seconds) and xlwings' Office.js client the same day from
    ``serial - 25569`` (milliseconds), for a time of day as for a date."""
    path = _with_date_cells(master, tmp_path / "book.xlsm")
    sent = [f"{day}.000Z" for day in (
        "1899-12-30T00:00:00", "1899-12-30T10:30:00", "1899-12-31T00:00:00", "1900-01-16T00:00:00",
        "1900-02-27T00:00:00", "1900-02-27T18:00:00", "1900-02-28T00:00:00", "1900-03-01T00:00:00",
        "2023-03-15T12:00:00")]     # SAVED_SERIALS in order, those of whole seconds
    fractions = {VBA: ["2023-03-15T10:30:01.000Z", "1899-12-31T00:00:00.000Z"],       # VBA's Date: whole seconds
                 OFFICE_JS: ["2023-03-15T10:30:00.605Z", "1899-12-30T23:59:59.914Z"]}
    for client in (VBA, OFFICE_JS):
        rows = next(s for s in payload_from_file(path, client=client)["sheets"] if s["name"] == "小樽市")["values"]
        for k in range(len(DATE_FORMATS)):
            got = [row[SPARE_COLUMN + k - 1] for row in rows[:len(SAVED_SERIALS)]]
            assert got == sent + fractions[client], client
        assert (rows[1][4], rows[2][4]) == ("1899-12-30T10:30:00.000Z", "1900-01-16T00:00:00.000Z")


class _FormattedCells:
    """A sheet as COM shows its cells' NumberFormat and takes Range.Value (COM cannot run
    here): a range's NumberFormat is its cells' one format, or Null (None) where they
    differ; a value assigned keeps a leading apostrophe in a Text ("@") cell and takes it as
    the text prefix elsewhere (the stricter behaviour tests/remote_payload.py models)."""

    def __init__(self, name: str, formats: dict[tuple[int, int], str]):
        self.name, self.formats, self.values, self.questions = name, formats, {}, 0

    def range(self, first, last=None):
        return _FormattedRange(self, first, last or first)


class _FormattedRange:
    def __init__(self, sheet: _FormattedCells, first, last):
        self.sheet = sheet
        self.cells = [(r, c) for r in range(first[0], last[0] + 1) for c in range(first[1], last[1] + 1)]
        self.merge_cells = False

    @property
    def number_format(self):
        self.sheet.questions += 1
        found = {self.sheet.formats.get(cell, "General") for cell in self.cells}
        if len(found) > 1 and getattr(self.sheet, "per_cell", False):    # Excel for Mac, perhaps
            return [[self.sheet.formats.get(cell, "General")] for cell in self.cells]
        return found.pop() if len(found) == 1 else None

    @property
    def value(self):
        raise AssertionError("not read")

    @value.setter
    def value(self, value):
        row = value[0] if isinstance(value, list) else [value]
        for cell, v in zip(self.cells, row):
            text = isinstance(v, str) and self.sheet.formats.get(cell) == "@"
            self.sheet.values[cell] = v[1:] if isinstance(v, str) and v.startswith("'") and not text else v


def test_desktop_excel_says_which_cells_are_text_and_their_strings_go_without_the_prefix():
    """Desktop Excel is asked each run's NumberFormat (a format staff set since the last save
    included) and cell by cell only where the run's formats differ: a string into a Text cell
    goes as it is, anywhere else with the text prefix, and a number as it is."""
    from renkei_xl.core.plan_types import CellEdit, WritePlan
    from renkei_xl.excel.apply import apply_plan

    sheet = _FormattedCells("小樽市", {(2, 5): "@", (2, 6): "@", (3, 6): "@"})
    book = SimpleNamespace(sheets=_Sheets([sheet]), app=SimpleNamespace())
    live = WindowsBook(book)
    edits = [CellEdit("小樽市", 2, col, v) for col, v in ((5, "1-1"), (6, "'実施"), (7, "17"))]
    edits += [CellEdit("小樽市", 3, col, v) for col, v in ((5, "73.2%"), (6, "実施"), (7, 40))]
    apply_plan(live, WritePlan(cells=edits))
    assert sheet.values == {(2, 5): "1-1", (2, 6): "'実施", (2, 7): "17", (3, 5): "73.2%", (3, 6): "実施", (3, 7): 40}
    assert sheet.questions == (1 + 3) + (1 + 2)    # each row's run of strings, mixed: then its strings one by one


@pytest.mark.parametrize("saved, read_only, edited, outcome", [
    (True, True, True, "made"), (False, False, False, "asked"), (False, True, False, "made"),
    (False, True, True, "refused")])
def test_a_read_only_copy_is_compared_with_the_saved_master_not_asked_to_save(master, monkeypatch, saved, read_only,
                                                                               edited, outcome):
    """The file buttons ask to save unsaved edits first (Windows only: Workbook.Saved and
    ReadOnly, COM stand-ins here, the master and its reader real). A copy opened read-only
    (a colleague had the master) cannot be saved over it: Excel's Save failed after staff
    said OK, as 「予期しないエラー」. Its contract data is compared with the saved master's
    instead, as the server compares: the same (Excel marks a workbook it recalculates on
    opening unsaved), the files are made from the saved master; different, staff are told
    to reopen, naming the sheet, in the server's words (core.unsaved)."""
    from renkei_xl.core import contract as c
    from renkei_xl.core.errors import UserError
    from renkei_xl.core.unsaved import read_only_steps
    from renkei_xl.workbook.session import load_master

    monkeypatch.setattr(sys, "platform", "win32")
    book = _desktop_book()
    book.api = SimpleNamespace(Saved=saved, ReadOnly=read_only)
    asks = []
    live = live_book(book)
    data = load_master(master)
    if edited:     # one 実績値 of 小樽市 typed since the save
        first = next(i for i, e in enumerate(data.entries) if e.municipality == "小樽市")
        data.entries[first] = data.entries[first]._replace(value="99")
    monkeypatch.setattr(live, "read", lambda: data)
    monkeypatch.setattr(live, "alert", lambda text, **kw: asks.append(text) or "cancel")
    if outcome == "refused":
        with pytest.raises(UserError) as refused:
            buttons._saved_or_ask(live, c.SPLIT, master)
        said = str(refused.value)
        assert said.startswith("開いているブックのシート「小樽市」が、保存されているマスター「master.xlsm」と違います")
        assert said.endswith(read_only_steps(edited=True).rstrip("。")) and not asks, said
    else:
        assert buttons._saved_or_ask(live, c.SPLIT, master) is (outcome == "made")
        assert bool(asks) == (outcome == "asked")
        # staff who typed nothing in a master Excel recalculated on opening learn why they are asked
        assert all("何も入力していなくても、開いたときに Excel が数式を計算し直した" in text for text in asks), asks


@pytest.mark.parametrize("edited", [False, True])
def test_a_mac_compares_the_open_book_with_the_saved_master_before_making_files(master, monkeypatch, edited):
    """A Mac cannot say whether the open book has unsaved edits (no Workbook.Saved through
    AppleScript), and the file buttons make their files from the saved master: edits typed
    and not saved were left out of the 配布用 files without a word. The open book is now
    compared with the saved master as the server compares: the same, the files are made;
    different, the click stops naming the sheet, with both steps (save it, or reopen it when
    a colleague saved since), as the server says when the book does not tell."""
    from renkei_xl.core import contract as c
    from renkei_xl.core.errors import UserError
    from renkei_xl.core.unsaved import BookState, steps
    from renkei_xl.workbook.session import load_master

    monkeypatch.setattr(sys, "platform", "darwin")
    live = live_book(_desktop_book())
    assert type(live) is MacBook
    data = load_master(master)
    if edited:     # one 実績値 of 小樽市 typed since the save
        first = next(i for i, e in enumerate(data.entries) if e.municipality == "小樽市")
        data.entries[first] = data.entries[first]._replace(value="99")
    monkeypatch.setattr(live, "read", lambda: data)
    monkeypatch.setattr(live, "alert", lambda *_a, **_k: pytest.fail("a Mac cannot tell, so it does not ask"))
    if edited:
        with pytest.raises(UserError) as refused:
            buttons._saved_or_ask(live, c.SPLIT, master)
        said = str(refused.value)
        assert said.startswith("開いているブックのシート「小樽市」が、保存されているマスター「master.xlsm」と違います")
        assert steps(BookState())[0].rstrip("。") in said, said
    else:
        assert buttons._saved_or_ask(live, c.SPLIT, master) is True


# A number input cell of the master whose format shows a percent is read as it shows
# (core.percent_cells): 1 typed as 「100%」 is 100%, 85 in a 0% cell (「8500%」) refused. The
# desktop buttons read the bare number (1 as 1%, judged × without a word) until they asked
# Excel for the formats (DesktopBook.percent_cells). qa-120.
PERCENT_EDITS = (("札幌市", 63, 5, 1, "0%"), ("小樽市", 2, 5, 85, "0%"), ("指標", 5, 8, 0.75, "0%"))


class _DesktopRange:
    """A range as xlwings shows it on the desktop: values as the remote engine reads them
    from the file's payload, NumberFormat as the file has it (Null where the cells differ),
    MergeCells and MergeArea as the file's merges say (True where every cell is in one,
    Null where some are), each question counted (``questions``: the formats; ``merges``:
    each merge question by its name)."""

    def __init__(self, sheet: "_DesktopSheet", first, last):
        self.sheet, self.first, self.last = sheet, first, last or first
        self._range = sheet.remote.range(first, self.last)

    def _merge_of(self, r: int, c: int):
        return next((m.bounds for m in self.sheet.ws.merged_cells.ranges
                     if m.min_row <= r <= m.max_row and m.min_col <= c <= m.max_col), None)

    @property
    def merge_cells(self):
        self.sheet.merges.append("merge_cells")
        (r1, c1), (r2, c2) = self.first, self.last
        merged = {self._merge_of(r, c) is not None for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
        return merged.pop() if len(merged) == 1 else None

    @property
    def merge_area(self):
        self.sheet.merges.append("merge_area")
        assert self.first == self.last, "MergeArea is asked of one cell"
        bounds = self._merge_of(*self.first)       # openpyxl's (min_col, min_row, max_col, max_row)
        return self if bounds is None else _DesktopRange(self.sheet, (bounds[1], bounds[0]), (bounds[3], bounds[2]))

    @property
    def address(self):
        from renkei_xl.core.refs import cell_ref

        self.sheet.merges.append("address")
        first, last = (re.sub(r"([A-Z]+)", r"$\1$", cell_ref(*cell)) for cell in (self.first, self.last))
        return first if first == last else f"{first}:{last}"       # 「$E$4:$E$5」, as Excel says it

    def options(self, **kw):
        return self._range.options(**kw)

    @property
    def number_format(self):
        self.sheet.questions += 1
        (r1, c1), (r2, c2) = self.first, self.last
        found = {self.sheet.ws.cell(r, c).number_format for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
        return found.pop() if len(found) == 1 else None


class _DesktopSheet:
    def __init__(self, remote, ws):
        self.remote, self.ws, self.name, self.questions = remote, ws, remote.name, 0
        self.used_range = remote.used_range
        self.merges: list[str] = []

    def range(self, first, last=None):
        return _DesktopRange(self, first, last)


def _desktop_of(path: Path, mac: bool = False):
    """The saved master ``path`` open in desktop Excel, as far as xlwings shows it (no
    Excel runs here): a stand-in, its values, names, number formats and merges the file's;
    ``mac``: what a Mac reads besides, each cell's shown text (no error value here)."""
    from remote_payload import saved_book

    remote, wb = remote_book(payload_from_file(path, client=VBA)), saved_book(path)   # COM reads Range.Value as Remote.bas does
    sheets = _Sheets([_DesktopSheet(s, wb[s.name]) for s in remote.sheets])
    if mac:
        for sheet in sheets:
            sheet.range = lambda first, last=None, s=sheet: _MacRange(_DesktopRange(s, first, last))
    return SimpleNamespace(sheets=sheets, names=remote.names, app=SimpleNamespace())


@pytest.mark.parametrize("cls", [WindowsBook, MacBook])
def test_desktop_excel_reads_a_percent_formatted_master_cell_as_the_file_face_does(master, tmp_path, cls):
    """The desktop buttons read the master as the command line reads the file: 1 in a 0%
    cell is 100%, 0.75 in 0% is 75%, and 85 in 0% is refused as showing 8500%. Read as
    the bare number, 1 was 1% and judged × without a word, and a Mac, which compares the
    open book with the saved master before making files, refused 配布 on a saved master."""
    from renkei_xl.core.plan_types import CellEdit, WritePlan
    from renkei_xl.workbook.session import load_master, write_planned

    path = shutil.copyfile(master, tmp_path / "book.xlsm")
    write_planned(path, lambda fs: (WritePlan(cells=[CellEdit(*edit[:4], number_format=edit[4])
                                                     for edit in PERCENT_EDITS]), None))
    on_disk, book = load_master(path), _desktop_of(path, mac=cls is MacBook)
    live = cls(book)
    data = live.read()
    assert (data.settings, data.indicators, data.entries, data.findings) == (
        on_disk.settings, on_disk.indicators, on_disk.entries, on_disk.findings)
    if cls is MacBook:     # the saved master open as it is: 配布 goes on (it was refused as differing)
        from renkei_xl.core import contract as c

        assert buttons._saved_or_ask(live, c.SPLIT, path) is True
    assert next(e.value for e in data.entries if e.sheet == "札幌市" and e.row == 63) == "100%"
    assert next(i.target for i in data.indicators if i.row == 5) == "75%"
    refused = next(f for f in data.findings if f.place == "小樽市!E2")
    assert refused.type == "percent-formatted-after" and "8500%" in refused.message, refused
    asked = sum(s.questions for s in book.sheets)
    assert 0 < asked <= 60, asked       # each input column once, split around the cells set: not one per cell


class _MacRange:
    def __init__(self, rng):
        self.rng = rng

    def options(self, **kw):
        kw.pop("err_to_str", None)
        return self.rng.options(**kw)

    @property
    def number_format(self):
        return self.rng.number_format

    @property
    def merge_cells(self):
        return self.rng.merge_cells

    @property
    def merge_area(self):
        return self.rng.merge_area

    @property
    def api(self):
        values = self.rng.options(ndim=2).value
        return SimpleNamespace(string_value=SimpleNamespace(get=lambda: [["" if v is None else str(v) for v in r]
                                                                          for r in values]))


@pytest.mark.parametrize("cls, per_cell", [(WindowsBook, False), (MacBook, False), (MacBook, True)])
def test_desktop_excel_is_asked_percent_formats_a_block_at_a_time(cls, per_cell):
    """A municipality sheet of 20,000 rows: one question for a column of one format, and
    a few dozen where three cells differ (blocks split only where mixed), never one per
    cell. A Mac answering a mixed block cell by cell is taken at its word."""
    rows = 20_000
    grid = [["指標ID", "x", "x", "x", "実績値"]] + [["1-1", "", "", "", float(r % 7)] for r in range(2, rows + 1)]
    grid[99][4] = "未把握"     # text is not asked for
    data = SimpleNamespace(indicators=[], entries=[SimpleNamespace(sheet="小樽市", cells={"value": "E2", "status": "G2"})])
    for formats, most, found in [({}, 1, {}),
                                 ({(r, 5): "0%" for r in range(2, rows + 1)}, 1,
                                  {(r, 5): "0%" for r in range(2, rows + 1) if r != 100}),
                                 ({(7, 5): "0%", (12_345, 5): "0.0%", (rows, 5): "0%"}, 1 + 2 * 3 * 16,
                                  {(7, 5): "0%", (12_345, 5): "0.0%", (rows, 5): "0%"})]:
        sheet = _FormattedCells("小樽市", formats)
        sheet.per_cell = per_cell
        live = cls(SimpleNamespace(sheets=_Sheets([sheet]), app=SimpleNamespace()))
        got = live.percent_cells({"小樽市": grid, "設定": [[0.8]]}, data)
        assert got == ({"小樽市": found} if found else {})
        assert sheet.questions <= (1 if per_cell else most), sheet.questions


@pytest.mark.parametrize("cls", [WindowsBook, MacBook])
def test_collect_on_the_desktop_gives_a_cell_of_a_percent_format_the_format_general(master, tmp_path, cls):
    """collect's plan asks where it writes a number whether the cell shows it as a percent
    (MasterState.percents): the desktop said nothing (None), so 85 went into an emptied 0%
    cell and read back as 「8500%」, where the file face and the server give it 標準. Excel is
    asked of the cells written, an empty one included; a cell of 標準 is left as it is."""
    from renkei_xl.core.percent_cells import GENERAL, written_format
    from renkei_xl.core.plan_types import CellEdit, WritePlan
    from renkei_xl.workbook.session import write_planned

    path = shutil.copyfile(master, tmp_path / "book.xlsm")
    write_planned(path, lambda fs: (WritePlan(cells=[CellEdit("札幌市", 63, 5, None, number_format="0%")]), None))
    book = _desktop_of(path)
    percents = cls(book).percent_source()
    assert percents is not None
    sapporo = percents("札幌市")
    assert sapporo.get((63, 5)) == "0%" and written_format(85, sapporo.get((63, 5))) == GENERAL
    assert sapporo.get((64, 5)) is None and written_format(85, sapporo.get((64, 5))) is None
    assert dict(sapporo) == {(63, 5): "0%"}
    assert sum(s.questions for s in book.sheets) == 2      # one question a cell looked up

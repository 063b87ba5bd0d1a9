"""Every command given the wrong kind of workbook says what the file is and which command
takes it; the command line follows the usual conventions (--version, usage, exit codes)."""

from __future__ import annotations

import re
import shutil
import zipfile

import openpyxl
import pytest

from renkei_xl import __version__
from renkei_xl.cli import main
from renkei_xl.cli.workbook import init_master
from renkei_xl.cycle.distribute import split_master
from renkei_xl.cycle.export import export_master

MASTER_COMMANDS = (["validate"], ["recalc"], ["export"], ["split", "--outdir", "配布2"], ["evaluate"],
                   ["upgrade-macros"])


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kinds")
    master = init_master(tmp / "マスター.xlsm", sample="fy2023")
    files = split_master(master, tmp / "配布")
    otaru = next(p for p in files if p.name.startswith("小樽市_"))
    confirmed = export_master(master, tmp / "確定版.xlsx").path
    foreign = tmp / "家計簿.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "4月"
    wb.save(foreign)
    return tmp, master, otaru, confirmed, foreign


def _run(capsys, args, cwd=None):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("command", MASTER_COMMANDS, ids=lambda c: c[0])
def test_a_master_command_given_an_input_workbook_names_it_and_collect(books, capsys, command):
    tmp, master, otaru, _confirmed, _foreign = books
    args = [command[0], otaru, *[tmp / a if a == "配布2" else a for a in command[1:]]]
    before = otaru.read_bytes()
    code, out, err = _run(capsys, args)
    assert code == 2, (out, err)
    assert "これは小樽市の入力用ファイル" in err and "collect（回収ファイル取込）" in err, err
    assert "Traceback" not in err and otaru.read_bytes() == before


@pytest.mark.parametrize("command", MASTER_COMMANDS, ids=lambda c: c[0])
def test_a_master_command_given_a_confirmed_list_or_a_foreign_book_says_so(books, capsys, command):
    tmp, _master, _otaru, confirmed, foreign = books
    for book, said in ((confirmed, "これは確定版"), (foreign, "マスターブックではありません")):
        args = [command[0], book, *[tmp / a if a == "配布2" else a for a in command[1:]]]
        code, out, err = _run(capsys, args)
        assert code == 2 and said in err and f"「{book.name}」" in err, (book.name, out, err)


def test_an_input_workbook_without_its_properties_is_still_recognised(books, capsys, tmp_path):
    """A mail client or an office suite may drop the custom properties: the sheets tell."""
    _tmp, _master, otaru, _confirmed, _foreign = books
    bare = tmp_path / "戻り.xlsx"
    with zipfile.ZipFile(otaru) as zin, zipfile.ZipFile(bare, "w") as zout:
        for info in zin.infolist():
            if info.filename != "docProps/custom.xml":
                zout.writestr(info, zin.read(info))
    code, _out, err = _run(capsys, ["recalc", bare])
    assert code == 2 and "これは小樽市の入力用ファイル" in err, err


def test_collect_given_a_master_or_a_confirmed_list_says_what_it_is(books, capsys, tmp_path):
    _tmp, master, _otaru, confirmed, _foreign = books
    other = tmp_path / "去年のマスター.xlsm"
    shutil.copyfile(master, other)
    work = tmp_path / "マスター.xlsm"
    shutil.copyfile(master, work)
    before = work.read_bytes()
    code, out, _err = _run(capsys, ["collect", work, other, confirmed])
    assert code == 1 and work.read_bytes() == before
    assert re.search(r"・去年のマスター\.xlsm: これはマスターブックです。", out), out
    assert re.search(r"・確定版\.xlsx: これは確定版", out), out


def test_collect_given_an_input_workbook_as_the_master_points_at_the_order(books, capsys):
    _tmp, master, otaru, _confirmed, _foreign = books
    code, _out, err = _run(capsys, ["collect", otaru, master])
    assert code == 2 and "これは小樽市の入力用ファイル" in err


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"renkei-xl {__version__}"


def test_no_command_prints_usage_on_stderr_and_exits_2(capsys):
    code, out, err = _run(capsys, [])
    assert code == 2 and out == "" and "使い方: renkei-xl" in err


@pytest.mark.parametrize("command", [*MASTER_COMMANDS, ["collect"], ["rollover"]], ids=lambda c: c[0])
def test_a_master_with_an_excel4_macro_sheet_is_read_and_the_sheet_kept(books, capsys, tmp_path, command):
    """An Excel 4.0 macro sheet (an old tool's 「Macro1」, 挿入 > Excel 4.0 マクロ) among the tabs:
    python-calamine refuses the whole book («Unrecognized sheet:type»), and every command said
    the master was damaged and to save it again in Excel, which keeps the sheet. The tool
    reads no macro sheet: each command runs, and the sheet's part and tab stay as they were."""
    from conftest import with_macro_sheet

    tmp, master, otaru, _confirmed, _foreign = books
    book = with_macro_sheet(master, tmp_path / "マクロシート付き.xlsm")
    macro = zipfile.ZipFile(book).read("xl/macrosheets/sheet1.xml")
    rest = {"配布2": tmp_path / "配布2", "collect": otaru, "rollover": tmp_path / "次年度.xlsm"}
    args = [command[0], book, *[rest.get(a, a) for a in command[1:]]]
    if command[0] == "collect":
        args.append(rest["collect"])
    elif command[0] == "rollover":
        args += ["-o", rest["rollover"]]
    code, out, err = _run(capsys, args)
    assert code == 0 and "壊れて" not in err, (out, err)
    with zipfile.ZipFile(book) as kept:
        assert kept.read("xl/macrosheets/sheet1.xml") == macro
        assert re.search(r'<sheet name="Macro1" [^>]*/>', kept.read("xl/workbook.xml").decode("utf-8"))


def _without_conf_sheet(source, path):
    """``source`` with its xlwings.conf tab renamed, as a master whose sheet staff renamed or
    an older tool's master without one: the tab list no longer holds the sheet."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/workbook.xml":
                assert b'name="xlwings.conf"' in data
                data = data.replace(b'name="xlwings.conf"', b'name="old conf"')
            out.writestr(item, data)
    return path


@pytest.mark.parametrize("macro_sheet", [False, True], ids=["plain", "excel4-macro-sheet"])
def test_upgrade_macros_server_without_the_conf_sheet_is_refused_before_anything_is_written(
        books, capsys, tmp_path, macro_sheet):
    """upgrade-macros --server on a master without its xlwings.conf sheet: refused naming the
    file and the sheet, the master byte for byte as it was and no backup made. The new macros
    and the key were saved first and the server's row refused after (a refusal that changed
    the master); with an Excel 4.0 macro sheet among the tabs the sheet list was asked of
    python-calamine, which refuses such a book, and the command ended in 予期しないエラー."""
    from conftest import with_macro_sheet

    _tmp, master, _otaru, _confirmed, _foreign = books
    book = _without_conf_sheet(master, tmp_path / "設定なし.xlsm")
    if macro_sheet:
        book = with_macro_sheet(book, tmp_path / "マクロシート付き.xlsm")
    before = book.read_bytes()
    code, out, err = _run(capsys, ["upgrade-macros", book, "--server", "http://renkei-server:8000"])
    assert code == 2, (out, err)
    assert book.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == [], out
    assert f"「{book.name}」にシート「xlwings.conf」がありません" in err and "予期しない" not in err, err

"""A returned file's save time (docProps/core.xml dcterms:modified) is the file's own text,
written by whatever clock the municipality's PC keeps: collect orders a municipality's
returns by it, and refuses one older than a return already imported. A save time after the
moment of collecting is no save time, so it never puts a municipality's later returns behind
it. Found by qa-109."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile

from conftest import write_members
from remote_payload import click_said
from renkei_xl.cli import main
from renkei_xl.cycle.collect import collect
from renkei_xl.core import contract as c
from renkei_xl.excel import buttons

from test_buttons import licensed  # noqa: F401  (the remote engine, with its test key: sample's)
from test_cycle import cell_of, cycle, set_cell, set_modified  # noqa: F401  (cycle: the fixture)
from test_error_cells import issued, sample  # noqa: F401  (FY2023's .xlsm master and 小樽市's file split issued)

MUNI = "小樽市"


def test_a_correction_after_a_return_saved_by_a_clock_years_ahead_is_imported(cycle, capsys):
    """小樽市's first return came from a PC whose clock said 2099: it was imported and logged
    as submitted on 2099/01/01, and the corrected return saved a day later on a right clock
    was refused 「…より古いファイルです（…--force を付けてください）」, on the buttons too, where
    no --force can be given. The first file's time is no time: both are imported in turn."""
    master, _by_muni, filled = cycle
    path = filled[MUNI]
    set_modified(path, dt.datetime(2099, 1, 1, tzinfo=dt.timezone.utc))
    assert main(["collect", str(master), str(path)]) == 0, capsys.readouterr().out
    capsys.readouterr()
    set_cell(path, MUNI, "04-1", "実績値", 7)        # the correction, saved now (openpyxl stamps it)
    code = main(["collect", str(master), str(path)])
    out = capsys.readouterr().out
    assert code == 0 and "より古いファイル" not in out, out
    assert cell_of(master, MUNI, "04-1", "実績値") == 7


def test_a_click_of_collect_orders_no_return_by_a_save_time_ahead_of_now(sample, issued, tmp_path, monkeypatch):
    """The button face: two returns of 小樽市 in the folder, one saved by a clock years ahead.
    It was taken as the newest and the other left out as older; neither time orders them now,
    so both are named and neither is imported (the municipality is held, as for two files
    without a save time)."""
    master = tmp_path / "work" / "master.xlsm"
    master.parent.mkdir()
    shutil.copyfile(sample, master)
    inbox = master.parent / c.COLLECT_DIR
    inbox.mkdir()
    ahead, right = inbox / issued.name, inbox / issued.name.replace(".xlsx", "_訂正.xlsx")
    for path, when, value in ((ahead, "2099-01-01T00:00:00Z", 5), (right, "2024-04-10T00:00:00Z", 21)):
        _saved_as(issued, path, when, value)
    monkeypatch.chdir(master.parent)
    said = click_said(master, buttons.collect)
    assert f"同じ市町村（{MUNI}）のファイル「{ahead.name}」「{right.name}」のどれが新しいか、保存日時から決められない" in said, said
    assert "04-1 実績値" not in said, said


def _saved_as(issued, path, when: str, value: int, application: str = "") -> None:
    """``issued`` with 04-1's 実績値 (G20) ``value``, saved at ``when`` (core's modified as the
    file stores it) by ``application`` (docProps/app.xml's Application; as issued when empty)."""
    with zipfile.ZipFile(issued) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    parts["docProps/core.xml"] = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                                        rb"\g<1>" + when.encode() + rb"\g<2>", parts["docProps/core.xml"])
    parts["xl/worksheets/sheet1.xml"] = re.sub(rb'<c r="G20"[^>]*>.*?</c>', b'<c r="G20" s="10"><v>%d</v></c>' % value,
                                               parts["xl/worksheets/sheet1.xml"], count=1)
    if application:
        parts["docProps/app.xml"] = re.sub(rb"<Application>[^<]*</Application>",
                                           b"<Application>" + application.encode() + b"</Application>",
                                           parts["docProps/app.xml"])
    write_members(path, parts)


# What LibreOffice 7.4 (Debian 12) wrote as Application, saving an input file as .xlsx.
LIBREOFFICE = "LibreOffice/7.4.7.2$Linux_X86_64 LibreOffice_project/40$Build-2"


def test_a_return_libreoffice_saved_is_ordered_by_the_hour_it_was_saved_in_japan(sample, issued, tmp_path):
    """LibreOffice stamps a save with the PC's own clock and marks it UTC all the same (its
    sfx2 takes the local time, its OOXML export writes it with 「Z」; measured with 7.4 on a
    PC in Japan: saved at 09:56 UTC, stamped 「18:56:30Z」). 小樽市 sent its return from Calc
    at 10:00 and a correction from Excel at 12:00 (03:00 UTC): the Calc one read as 19:00,
    the newer, and was imported, the correction left out 「新しいファイル…があるため」."""
    master = tmp_path / "master.xlsm"
    shutil.copyfile(sample, master)
    inbox = tmp_path / "回収"
    inbox.mkdir()
    calc, excel = inbox / issued.name, inbox / issued.name.replace(".xlsx", "_訂正.xlsx")
    _saved_as(issued, calc, "2024-04-10T10:00:00Z", 5, LIBREOFFICE)
    _saved_as(issued, excel, "2024-04-10T03:00:00Z", 21, "Microsoft Excel")
    report = collect(master, [inbox], dry_run=True)
    assert [(ch.indicator_id, ch.new) for ch in report.changes] == [("04-1", 21)], report.refusals
    [left] = report.refused
    assert left.path == calc and f"新しいファイル「{excel.name}」" in left.reason, left.reason
    assert [r.submitted_at for r in report.records] == [dt.datetime(2024, 4, 10, 12, 0)]

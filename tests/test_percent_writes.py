"""collect never writes a number into a master cell whose format would show it as a percent
(qa-119): the cell is given the format 標準, on both faces, so it shows and reads what the
return showed (core.percent_cells.written_format).

A master's input cell formatted as a percent is read as it shows (qa-116): 1 in 「0%」 is
100%, 85 in 「0%」 shows 「8500%」 and is refused (findings.PERCENT_FORMATTED_AFTER). Staff who
typed 「100%」 into 札幌市!E63 (42-2, 目標 75%) gave the cell 0%, which rollover keeps on the
emptied cell; next year's return of 85 was written into it as 85 and the row went －
(「後から % の表示形式が付いた可能性」), though nobody typed 8500%. The same within a year: staff
type 100%, a return comes later.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from conftest import returned_input
from remote_payload import VBA, apply_actions, payload_from_file, remote_book
from test_buttons import licensed  # noqa: F401  (the remote engine, with its test key)

from renkei_xl.core import contract as c
from renkei_xl.core.pipeline import recalculate
from renkei_xl.core.plan_types import CellEdit, WritePlan
from renkei_xl.excel.book import RENKEI_CLIENT_KEY, SAVED_MASTER_KEY

CENTRE, ROW, VALUE_COL, IND = "札幌市", 63, 5, "42-2"
CELL = f"E{ROW}"


@pytest.fixture(scope="module")
def sample(sample_master_xlsm, licensed) -> Path:  # noqa: F811
    """The FY2023 sample master as init writes it: the suite's shared one (built once per run,
    across workers), where this module ran init again. Read-only: copy it before a write."""
    return sample_master_xlsm


def _typed_100_percent(sample: Path, path: Path) -> Path:
    """The master with 「100%」 typed into 札幌市!E63 as Excel stores it: 1, the format 0%."""
    from renkei_xl.workbook.session import write_planned

    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(sample, path)
    write_planned(path, lambda fs: (WritePlan(cells=[CellEdit(CENTRE, ROW, VALUE_COL, 1, number_format="0%")]),
                                    None))
    return path


def _rolled_over(sample: Path, work: Path) -> Path:
    """Next year's master of one whose E63 staff typed 100% into: E63 empty, its 0% kept."""
    from renkei_xl.cycle.rollover import rollover_file

    old = _typed_100_percent(sample, work / "old" / "master.xlsm")
    new = work / "master.xlsm"
    rollover_file(old, out=new)
    cell = openpyxl.load_workbook(new)[CENTRE][CELL]
    assert (cell.value, cell.number_format) == (None, "0%")
    return new


def _typed_and_cleared(sample: Path, work: Path) -> Path:
    """This year's master whose E63 staff typed 100% into and then cleared (Delete keeps the
    format), before the split: E63 empty in 0%."""
    from renkei_xl.workbook.session import write_planned

    path = _typed_100_percent(sample, work / "master.xlsm")
    write_planned(path, lambda fs: (WritePlan(cells=[CellEdit(CENTRE, ROW, VALUE_COL, None)]), None))
    cell = openpyxl.load_workbook(path)[CENTRE][CELL]
    assert (cell.value, cell.number_format) == (None, "0%")
    return path


MASTERS = {"rolled over": _rolled_over, "same year": _typed_and_cleared}


def _read(master: Path):
    from renkei_xl.workbook.session import load_master

    data = load_master(master)
    result = recalculate(data.settings, data.indicators, data.entries, data.findings)
    value = next(e.value for e in data.entries if e.sheet == CENTRE and e.row == ROW)
    return value, result.evaluations[IND].symbol, [f for f in result.findings if f.place == f"{CENTRE}!{CELL}"]


@pytest.mark.parametrize("made", MASTERS)
def test_collect_writes_a_returned_85_into_a_0_percent_cell_as_85_in_general(sample, tmp_path, made):
    """The reproduction (init, 100% typed, rollover, split, 85 returned, collect, recalc) on the
    command line, and the same within one year: E63 holds 85 in 標準, read as 85 (85%)."""
    from renkei_xl.cycle.collect import collect

    master = MASTERS[made](sample, tmp_path / "work")
    folder = returned_input(master, tmp_path, CENTRE, 85, ind_id=IND)
    collect(master, [folder])
    cell = openpyxl.load_workbook(master)[CENTRE][CELL]
    assert (cell.value, cell.number_format) == (85, "General")
    value, symbol, said = _read(master)
    assert value == "85" and symbol not in ("－", "") and not said, (value, symbol, said)


def _collect_click(master: Path, folder: Path, monkeypatch) -> object:
    """The collect button on ``master`` (xlwings' VBA client, the server's admission adding the
    saved master's path), its actions replayed on the model of Excel."""
    from conftest import collect_click

    return apply_actions(*collect_click(master, folder, monkeypatch))


@pytest.mark.parametrize("made", MASTERS)
def test_the_collect_button_gives_the_cell_the_same_value_and_format_as_the_command_line(sample, tmp_path, made,
                                                                                      monkeypatch):
    """The server knows the cell's 0% from the saved master (the payload has values only),
    and writes 85 then the format 標準, as the command line does."""
    from renkei_xl.cycle.collect import collect

    master = MASTERS[made](sample, tmp_path / "button")
    folder = returned_input(master, tmp_path / "r", CENTRE, 85, ind_id=IND)
    applied = _collect_click(master, folder, monkeypatch)
    assert not applied.alerts or "取り込みました" in applied.alerts[0]["prompt"], applied.alerts
    on_file = tmp_path / "file" / "master.xlsm"
    on_file.parent.mkdir()
    shutil.copyfile(master, on_file)
    collect(on_file, [folder])
    cell = openpyxl.load_workbook(on_file)[CENTRE][CELL]
    assert applied.grids[CENTRE][(ROW, VALUE_COL)] == cell.value == 85
    assert applied.formats.get((CENTRE, CELL)) == cell.number_format == "General"


def test_a_text_or_a_number_off_a_percent_format_keeps_the_cells_format():
    """Only a number the format would show as a percent: a text, a number in 0.0, and a
    negative number shown by a section without a percent keep the cell's format."""
    from renkei_xl.core.percent_cells import GENERAL, written_format

    assert written_format(85, "0%") == written_format(0.5, "0.0%") == written_format(0, "0%") == GENERAL
    assert written_format("85%", "0%") is None
    assert written_format(True, "0%") is None
    assert written_format(85, "0.0") is None
    assert written_format(85, None) is None
    assert written_format(-5, '0%;"▲"0') is None


def test_a_number_written_into_a_cell_that_would_show_it_otherwise_is_given_general():
    """shown63: the master's reader refuses a number its format shows otherwise (約85, nothing,
    0 for 85 in 「0,」: core.displayed.shown_otherwise), so collect's write must not make one:
    such a cell is given 標準, as a percent one is; plain formats and a hidden zero keep theirs."""
    from renkei_xl.core.percent_cells import GENERAL, written_format

    assert written_format(85, '"約"0') == written_format(85, ";;;") == written_format(85, "0,") == GENERAL
    assert written_format(85, '#,##0"人"') == GENERAL
    assert written_format(85, "#,##0") is written_format(0, "0;-0;;@") is written_format("85", '"約"0') is None


def test_the_readers_find_an_empty_cell_of_a_percent_format():
    """package.cells.numbers_formatted (both faces' readers): an empty cell of a percent
    format, as Excel saves one (<c r="E63" s="5"/>) or with no value, as None; a text is none."""
    from renkei_xl.package.cells import numbers_formatted

    part = ('<sheetData><row r="63"><c r="D63" s="5"><v>0.5</v></c><c r="E63" s="5"/><c r="F63" s="5"></c>'
            '<c r="G63" s="5" t="s"><v>3</v></c><c r="H63" s="2"/></row></sheetData>')
    assert numbers_formatted(part, "", "sheet1.xml", {5: "0%"}) == {
        (63, 4): ("0%", 0.5), (63, 5): ("0%", None), (63, 6): ("0%", None)}


def test_a_number_read_as_a_percent_goes_out_in_the_input_file_as_read_and_comes_back_unchanged(sample, tmp_path):
    """split hands out what the master reads: 1 in 「0%」 (100% typed) went out as a bare 1 on
    a row counted in %, which the municipality reads as 1%; its file returned unchanged was
    refused as a master 「1」 corrected to 「100%」 since issue. It goes out as 「100%」, in the
    input cell and in the hidden issued column, and comes back as no change; 85 typed over it
    is collected as 85 in 標準."""
    from renkei_xl.cycle.collect import collect
    from renkei_xl.cycle.distribute import split_master

    master = _typed_100_percent(sample, tmp_path / "m" / "master.xlsm")
    issued = split_master(master, tmp_path / "配布")
    src = next(p for p in issued if CENTRE in p.name)
    ws = openpyxl.load_workbook(src)[CENTRE]
    heads = next(r for r in ws.iter_rows() if any(cell.value == "実績値" for cell in r))
    cols = {cell.value: cell.column for cell in heads if cell.value}
    row = next(r for r in range(heads[0].row + 1, ws.max_row + 1) if ws.cell(r, cols["指標ID"]).value == IND)
    assert ws.cell(row, cols["実績値"]).value == ws.cell(row, cols[c.ISSUED_HEADERS["value"]]).value == "100%"
    unchanged = tmp_path / "unchanged"
    unchanged.mkdir()
    shutil.copyfile(src, unchanged / src.name)
    done = collect(master, [unchanged])
    assert not done.held_by_file and not done.refusals and _read(master)[:2] == ("100%", "◎"), done
    folder = returned_input(master, tmp_path / "r", CENTRE, 85, ind_id=IND, issued=issued)
    done = collect(master, [folder])
    cell = openpyxl.load_workbook(master)[CENTRE][CELL]
    assert (cell.value, cell.number_format) == (85, "General") and _read(master)[:2] == ("85", "◎")

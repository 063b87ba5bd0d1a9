"""The buttons' Python side, driven through xlwings' remote engine on real master files.

Each test builds a real master (.xlsm), turns the saved file into the payload xlwings'
VBA client would send, runs an entry point of renkei_xl.excel.buttons on
``xw.Book(json=payload)``, replays the emitted actions on a copy of the grids and compares
the result with what the command line writes into the same workbook with openpyxl.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from remote_payload import (LICENSE_ENV, apply_actions, file_rows, payload_from_file,
                            remote_book)
from renkei_xl import contract as c
from renkei_xl.cli import main as cli_main
from renkei_xl.distribute import file_name
from renkei_xl.excel import buttons
from renkei_xl.export import default_name
from renkei_xl.layout import findings_grid
from renkei_xl.model import ACHIEVED, MISSED, NEARLY
from renkei_xl.workbook.commands import init_master
from renkei_xl.workbook.session import recalc_file, validate_file

REPO = Path(__file__).resolve().parents[1]
JAPANESE_MASTER = Path("連携事業") / "さっぽろ圏_2023年度_マスター.xlsm"
BAD_VALUE = "約10件"
BAD_MUNICIPALITY = "小樽市"


@pytest.fixture(scope="module")
def licensed():
    """The remote engine, with the noncommercial key set for these tests only.

    xlwings registers its remote engine when it is imported and the key is present; the
    test session imported it before this fixture ran, so the engine is added here.
    """
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(*LICENSE_ENV)
        import xlwings as xw

        if "remote" not in [e.name for e in xw.engines]:
            from xlwings.main import Engine
            from xlwings.pro import _xlremote

            xw.engines.add(Engine(impl=_xlremote.engine))
        yield


@pytest.fixture(scope="module")
def master(tmp_path_factory, licensed) -> Path:
    return init_master(tmp_path_factory.mktemp("master") / "master.xlsm", sample="fy2023")


def _copy(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    return dst


def _run(entry, payload: dict):
    book = remote_book(payload)
    entry(book)
    actions = book.json()["actions"]
    return apply_actions(payload, actions), actions


def _only_alert(applied) -> dict:
    assert len(applied.alerts) == 1, applied.alerts
    return applied.alerts[0]


def _entry_cell(path: Path, municipality: str, header: str = "実績値") -> tuple[str, int]:
    """(cell, row) of the first filled ``header`` cell on a municipality sheet."""
    ws = load_workbook(path)[municipality]
    for row in ws.iter_rows(max_row=c.HEADER_SEARCH_ROWS):
        for cell in row:
            if cell.value == header:
                col = cell.column
                for r in range(cell.row + 1, ws.max_row + 1):
                    if ws.cell(r, col).value not in (None, ""):
                        return ws.cell(r, col).coordinate, r
    raise AssertionError(f"no {header} on {municipality}")


def _put(path: Path, sheet: str, ref: str, value) -> None:
    wb = load_workbook(path, keep_vba=True)
    wb[sheet][ref] = value
    wb.save(path)


def _findings_rows(findings) -> list[list[object]]:
    rows = findings_grid(findings).padded()
    return [[v for v in row] for row in rows]


def _trim(rows: list[list[object]]) -> list[list[object]]:
    width = max((i + 1 for row in rows for i, v in enumerate(row) if v is not None), default=0)
    rows = [row[:width] + [None] * (width - len(row[:width])) for row in rows]
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    return rows


# -------------------------------------------------------------------- recalc, check

def test_recalc_writes_the_same_list_summary_and_findings_as_the_command_line(master, tmp_path, fy2023):
    cli = _copy(master, tmp_path / "cli.xlsm")
    result, written = recalc_file(cli)
    payload = payload_from_file(_copy(master, tmp_path / "button.xlsm"))
    applied, actions = _run(buttons.recalc, payload)

    for sheet in (c.LIST, c.SUMMARY, c.FINDINGS):
        assert applied.rows(sheet) == file_rows(written.path, sheet), sheet

    # 評価 per 指標ID as the official FY2023 list prints them
    rows = applied.rows(c.LIST)
    header = rows.index(list(c.LIST_COLUMNS))
    symbols = {r[c.LIST_ID_COL]: r[c.LIST_SYMBOL_COL] for r in rows[header + 1:]}
    assert symbols == dict(fy2023.official)

    # 集計: 達成割合 from the official symbols (the meta row counts itself)
    official = list(fy2023.official.values())
    achieved = official.count(ACHIEVED)
    evaluable = sum(official.count(s) for s in (ACHIEVED, NEARLY, MISSED))
    assert f"{achieved}／{evaluable}" == "52／71"  # as printed in the FY2023 list
    summary = applied.rows(c.SUMMARY)
    rate_row = next(r for r in summary if r[0] == "達成割合")
    assert f"達成済み・達成見込み{achieved}／評価可能{evaluable}" in rate_row
    assert f"{achieved / evaluable * 100:.1f}%" == "73.2%"
    assert "73.2%" in rate_row

    # メニュー: the same status line as the command line's
    menu_cli = load_workbook(written.path, data_only=True)[c.MENU]
    wb_names = load_workbook(written.path).defined_names
    sheet, ref = next(iter(wb_names[c.N_LAST_RESULT].destinations))
    assert applied.value(sheet, ref.replace("$", "")) == menu_cli[ref.replace("$", "")].value

    # formats the file path sets: 達成率 and the 達成割合 cell as percentages
    rate_col = chr(ord("A") + c.LIST_RATE_COL)
    assert applied.formats[(c.LIST, f"{rate_col}{header + 2}")] == "0.0%"

    alert = _only_alert(applied)
    assert alert["mode"] == "info"
    assert f"{achieved}／{evaluable}" in alert["prompt"] and "73.2%" in alert["prompt"]
    assert f"◎ {achieved}件" in alert["prompt"]
    assert result.summary.achieved == achieved


def test_strings_are_written_as_text_so_excel_does_not_convert_them(master, tmp_path):
    """「73.2%」 typed into a cell would become 0.732; the writer marks strings as text."""
    payload = payload_from_file(_copy(master, tmp_path / "button.xlsm"))
    _applied, actions = _run(buttons.recalc, payload)
    list_pos = [s["name"] for s in payload["sheets"]].index(c.LIST)
    written = [v for a in actions if a["func"] == "setValues" and a["sheet_position"] == list_pos
               for row in a["values"] for v in row]
    strings = [v for v in written if isinstance(v, str) and v]
    assert strings and all(v.startswith("'") for v in strings)
    assert "'73.2%" in written


def test_check_gives_the_findings_of_validate_file(master, tmp_path):
    bad = _copy(master, tmp_path / "bad.xlsm")
    cell, _row = _entry_cell(bad, BAD_MUNICIPALITY)
    _put(bad, BAD_MUNICIPALITY, cell, BAD_VALUE)
    cli = _copy(bad, tmp_path / "cli.xlsm")
    result, written = validate_file(cli)
    assert result.errors

    payload = payload_from_file(bad)
    applied, _ = _run(buttons.check, payload)
    assert applied.rows(c.FINDINGS) == _trim(_findings_rows(result.findings))
    assert applied.rows(c.FINDINGS) == file_rows(written.path, c.FINDINGS)
    # every finding with a cell is linked to it, every error cell is marked
    for r, f in enumerate(result.findings, start=2):
        if f.cell:
            assert applied.links[(c.FINDINGS, f"C{r}")] == (f"#'{f.sheet}'!{f.cell}", f.cell)
    marked = {k for k, v in applied.colors.items() if v == "#" + c.MARK_FILL}
    assert marked == {(f.sheet, f.cell) for f in result.errors if f.cell and f.sheet not in c.TOOL_SHEETS}


def test_a_bad_cell_gets_an_alert_naming_sheet_and_cell(master, tmp_path):
    bad = _copy(master, tmp_path / "bad.xlsm")
    cell, _row = _entry_cell(bad, BAD_MUNICIPALITY)
    _put(bad, BAD_MUNICIPALITY, cell, BAD_VALUE)
    payload = payload_from_file(bad)
    for entry in (buttons.check, buttons.recalc):
        applied, _ = _run(entry, payload)
        alert = _only_alert(applied)
        assert f"{BAD_MUNICIPALITY}!{cell}" in alert["prompt"], alert["prompt"]
        assert BAD_VALUE in alert["prompt"]
        assert "Traceback" not in alert["prompt"]
        rows = applied.rows(c.FINDINGS)
        assert [BAD_MUNICIPALITY, cell] in [r[1:3] for r in rows[1:]]
        assert applied.colors[(BAD_MUNICIPALITY, cell)] == "#" + c.MARK_FILL


def test_marks_of_the_last_check_are_lifted_once_the_cell_is_fixed(master, tmp_path):
    book = _copy(master, tmp_path / "book.xlsm")
    cell, _row = _entry_cell(book, BAD_MUNICIPALITY)
    good = load_workbook(book)[BAD_MUNICIPALITY][cell].value
    _put(book, BAD_MUNICIPALITY, cell, BAD_VALUE)
    validate_file(book)                      # lists and marks the cell in the file
    assert [BAD_MUNICIPALITY, cell] in [r[1:3] for r in file_rows(book, c.FINDINGS)]
    _put(book, BAD_MUNICIPALITY, cell, good)  # the staff fix it
    applied, _ = _run(buttons.check, payload_from_file(book))
    assert applied.colors[(BAD_MUNICIPALITY, cell)] is None
    assert applied.rows(c.FINDINGS) == [list(c.FINDING_COLUMNS)]


def test_a_user_error_becomes_one_alert_and_changes_nothing(master, tmp_path, monkeypatch):
    payload = payload_from_file(_copy(master, tmp_path / "book.xlsm"))
    monkeypatch.chdir(tmp_path)
    payload["names"] = [n for n in payload["names"] if n["name"] != c.N_REGION]
    for entry in (buttons.check, buttons.recalc, buttons.export):
        applied, actions = _run(entry, payload)
        assert [a["func"] for a in actions] == ["alert"]
        alert = _only_alert(applied)
        assert alert["mode"] == "critical"
        assert f"名前の定義「{c.N_REGION}」がありません" in alert["prompt"]


def test_an_unexpected_error_becomes_an_alert_with_a_log(master, tmp_path, monkeypatch):
    log = tmp_path / "error.log"
    monkeypatch.setattr(buttons, "ERROR_LOG", log)
    payload = payload_from_file(_copy(master, tmp_path / "book.xlsm"))
    # a broken payload: a name pointing at a sheet that is not there
    payload["names"][0]["sheet_index"] = len(payload["sheets"]) + 5
    applied, actions = _run(buttons.recalc, payload)
    alert = _only_alert(applied)
    assert alert["mode"] == "critical" and "予期しないエラー" in alert["prompt"]
    assert str(log) in alert["prompt"]
    assert "Traceback" in log.read_text(encoding="utf-8")
    assert [a["func"] for a in actions] == ["alert"]


# ---------------------------------------------------------- Japanese file and folder

def test_a_japanese_master_builds_recalculates_and_runs_every_button(tmp_path, licensed, monkeypatch):
    path = tmp_path / JAPANESE_MASTER
    assert cli_main(["init", str(path), "--sample", "fy2023"]) == 0
    assert cli_main(["recalc", str(path)]) == 0
    payload = payload_from_file(path)
    assert payload["book"]["name"] == JAPANESE_MASTER.name
    monkeypatch.chdir(path.parent)  # the remote engine knows the book by name only
    for entry in (buttons.check, buttons.recalc, buttons.split, buttons.export, buttons.collect):
        applied, _ = _run(entry, payload)
        alert = _only_alert(applied)
        assert alert["mode"] == "info", (entry.__name__, alert["prompt"])
    assert (path.parent / buttons.SPLIT_DIR).is_dir()
    assert (path.parent / buttons.EXPORT_DIR).is_dir()
    assert (path.parent / buttons.COLLECT_DIR).is_dir()


# ------------------------------------------------------- split, export, collect

def test_split_writes_one_file_per_municipality_beside_the_master(master, tmp_path, monkeypatch, fy2023):
    book = _copy(master, tmp_path / "work" / "master.xlsm")
    monkeypatch.chdir(book.parent)
    applied, actions = _run(buttons.split, payload_from_file(book))
    outdir = book.parent / buttons.SPLIT_DIR
    expected = sorted(file_name(m.name, fy2023.settings.fiscal_year) for m in fy2023.settings.municipalities)
    assert sorted(p.name for p in outdir.iterdir()) == expected
    prompt = _only_alert(applied)["prompt"]
    assert str(outdir) in prompt and f"{len(expected)} 件" in prompt
    assert [a["func"] for a in actions] == ["alert"]  # the master itself is not written


def test_export_writes_the_list_the_command_line_writes(master, tmp_path, monkeypatch, fy2023):
    book = _copy(master, tmp_path / "work" / "master.xlsm")
    _result, written = recalc_file(_copy(master, tmp_path / "cli.xlsm"))
    monkeypatch.chdir(book.parent)
    before = book.read_bytes()
    applied, actions = _run(buttons.export, payload_from_file(book))
    outdir = book.parent / buttons.EXPORT_DIR
    files = list(outdir.iterdir())
    assert [f.name for f in files] == [default_name(fy2023.settings)]
    wb = load_workbook(files[0])
    assert wb.sheetnames == [c.LIST, c.SUMMARY]
    for sheet in (c.LIST, c.SUMMARY):
        assert file_rows(files[0], sheet) == file_rows(written.path, sheet)
    assert files[0].name in _only_alert(applied)["prompt"]
    assert [a["func"] for a in actions] == ["alert"]
    assert book.read_bytes() == before  # the master file is untouched


def _returned_file(master_copy: Path, tmp_path: Path, municipality: str, delta: int) -> tuple[Path, str, object]:
    """A municipality's input file as it comes back: one 実績値 changed by ``delta``."""
    from renkei_xl.distribute import split_master

    outdir = tmp_path / "issued"
    issued = {p.name: p for p in split_master(master_copy, outdir)}
    src = issued[file_name(municipality, 2023)]
    wb = load_workbook(src)
    ws = wb[municipality]
    cols = {cell.value: cell.column for row in ws.iter_rows(max_row=c.HEADER_SEARCH_ROWS)
            for cell in row if cell.value in ("指標ID", "実績値")}
    first = next(cell.row for row in ws.iter_rows(max_row=c.HEADER_SEARCH_ROWS)
                 for cell in row if cell.value == "実績値") + 1
    for r in range(first, ws.max_row + 1):
        value = ws.cell(r, cols["実績値"]).value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            new = value + delta
            ws.cell(r, cols["実績値"]).value = new
            ind_id = ws.cell(r, cols["指標ID"]).value
            break
    else:
        raise AssertionError("no numeric 実績値 to change")
    wb.save(src)
    return src, str(ind_id), new


def test_collect_applies_returned_values_and_logs_them_through_excel(master, tmp_path, monkeypatch):
    book = _copy(master, tmp_path / "work" / "master.xlsm")
    monkeypatch.chdir(book.parent)
    returned, ind_id, new = _returned_file(book, tmp_path, BAD_MUNICIPALITY, 3)
    inbox = book.parent / buttons.COLLECT_DIR
    _copy(returned, inbox / returned.name)

    payload = payload_from_file(book)
    before = book.read_bytes()
    applied, actions = _run(buttons.collect, payload)
    prompt = _only_alert(applied)["prompt"]
    assert applied.alerts[0]["mode"] == "info", prompt
    assert book.read_bytes() == before  # the button writes through Excel, never the file

    # the changed cell, found the way the reader finds it
    from renkei_xl.excel.book import LiveBook

    data = LiveBook(remote_book(payload)).read()
    entry = next(e for e in data.entries if e.municipality == BAD_MUNICIPALITY and e.indicator_id == ind_id)
    assert applied.value(BAD_MUNICIPALITY, entry.cell("value")) == new
    assert f"{BAD_MUNICIPALITY}!{entry.cell('value')}" in prompt and returned.name in prompt

    from renkei_xl.collect import LOG_COLUMNS, read_history

    log = applied.rows(c.IMPORT_LOG)
    assert log[0] == list(LOG_COLUMNS)
    history = read_history(log)
    assert [(h.file_name, h.municipality, h.changed_cells) for h in history] == [
        (returned.name, BAD_MUNICIPALITY, 1)]

    # The same file again, from the workbook as it now is: already imported, nothing written.
    after = json.loads(json.dumps(payload, ensure_ascii=False))
    after["sheets"] = [{"name": s, "values": [["" if v is None else v for v in row]
                                              for row in applied.rows(s)] or [[]],
                        "pictures": [], "tables": []} for s in applied.order]
    again, actions = _run(buttons.collect, after)
    assert [a["func"] for a in actions] == ["alert"]
    assert returned.name in _only_alert(again)["prompt"] and "取り込み済み" in again.alerts[0]["prompt"]


def test_collect_refuses_a_broken_file_and_changes_nothing(master, tmp_path, monkeypatch):
    book = _copy(master, tmp_path / "work" / "master.xlsm")
    monkeypatch.chdir(book.parent)
    inbox = book.parent / buttons.COLLECT_DIR
    inbox.mkdir()
    (inbox / "小樽市_2023年度_入力.xlsx").write_bytes(b"PK\x03\x04 truncated")
    applied, actions = _run(buttons.collect, payload_from_file(book))
    assert [a["func"] for a in actions] == ["alert"]
    prompt = _only_alert(applied)["prompt"]
    assert "小樽市_2023年度_入力.xlsx" in prompt and "取り込めない" in prompt


# ------------------------------------------------------------- process and imports

def _python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, LICENSE_ENV[0]: LICENSE_ENV[1],
           "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300)


def test_check_and_recalc_load_no_file_library(master, tmp_path):
    """A click starts a new process: openpyxl and xlsxwriter stay out of check/recalc."""
    saved = tmp_path / "payload.json"
    saved.write_text(json.dumps(payload_from_file(master), ensure_ascii=False), encoding="utf-8")
    code = (
        "import json, sys, xlwings as xw\n"
        "import renkei_xl.excel.buttons as m\n"
        f"payload = json.loads(open({str(saved)!r}, encoding='utf-8').read())\n"
        "for f in (m.check, m.recalc):\n"
        "    book = xw.Book(json=payload)\n"
        "    f(book)\n"
        "    assert book.json()['actions'][-1]['args'][3] == 'info', book.json()['actions'][-1]\n"
        "print(sorted(x for x in ('openpyxl', 'xlsxwriter') if x in sys.modules))\n")
    run = _python(code, tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_importing_the_buttons_module_loads_no_excel_library(tmp_path):
    code = ("import sys, renkei_xl.excel.buttons\n"
            "print(sorted(x for x in ('openpyxl', 'xlsxwriter', 'pandas', 'xlwings') if x in sys.modules))\n")
    run = _python(code, tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_every_macro_in_renkei_bas_has_its_entry_point():
    import re

    bas = (REPO / "macros" / "Renkei.bas").read_text(encoding="ascii")
    called = re.findall(r"import renkei_xl\.excel\.buttons as m; m\.(\w+)\(\)", bas)
    assert called == ["check", "recalc", "split", "collect", "export"]
    for name in called:
        assert callable(getattr(buttons, name))

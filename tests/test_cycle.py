"""The email cycle on real files: split → municipalities fill in → collect → recalc → export.

Everything runs on workbooks written to tmp_path: the FY2023 sample master built by the
real builder, input files written by XlsxWriter and filled with openpyxl the way a
municipality's Excel would save them, LibreOffice headless for the PDF and a real
aiosmtpd server on 127.0.0.1 for sending.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import functools
import io
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
import zlib
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from aiosmtpd.controller import Controller
from defusedxml import ElementTree

from conftest import require_soffice, taken, saved_once, sendable, shared_build, value_key, with_members, with_sendable_contacts
from ports import free_port as _free_port
from remote_payload import file_grid, read_both_ways, saved_book
from renkei_xl.core import contract as c
from renkei_xl.core.carry import command_arg
from renkei_xl.cycle import mail, smtp
from renkei_xl.cli import main
from renkei_xl.cycle.collect import collect, plan_collect
from renkei_xl.cycle.collect.said import collect_lines
from renkei_xl.cycle.collect.import_log import OLDER_REMEDY
from renkei_xl.cycle.distribute import (P_FINGERPRINT, P_ISSUED, P_MUNICIPALITY, P_SEAL, P_YEAR, file_name,
                                        master_key_of_file, split_master)
from renkei_xl.core.seal import fingerprint, issued_rows, municipality_seal
from renkei_xl.cycle.export import export_master
from renkei_xl.core.methods import METHODS, input_rule
from renkei_xl.core.values import NUMBER, parse_value
from renkei_xl.cli.workbook import init_master
from renkei_xl.core.errors import UserError
from renkei_xl.core.history import read_history
from renkei_xl.workbook.session import load_master, opened, recalc_file

INPUT_HEADERS = ("実績値", "分母", "実施状況")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
NUMERIC_METHODS = tuple(m.name for m in METHODS if m.numeric)


@functools.cache
def _sample_bytes(name: str) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return init_master(Path(folder) / name, sample="fy2023").read_bytes()


def sample_master(path: Path) -> Path:
    """A fresh FY2023 sample master at ``path``, as init_master makes one: the bytes of one
    made under the same name once in a process (init_master took 0.06 s in each of some 27
    tests; the bytes, immutable, cannot carry one test's edits to the next). Two masters in
    one test that must differ (their keys) are still each made by init_master."""
    path.write_bytes(_sample_bytes(path.name))
    return path


# ----------------------------------------------------------------------------- helpers

def header_row(ws) -> tuple[int, dict[str, int]]:
    return _header_in(ws.iter_rows(max_row=c.HEADER_SEARCH_ROWS, values_only=True), ws.title)


def _header_in(rows, title: str) -> tuple[int, dict[str, int]]:
    """The header row (1-based) among a sheet's first rows of values, its columns by header."""
    for r, row in enumerate(rows, start=1):
        if r > c.HEADER_SEARCH_ROWS:
            break
        cols = {v: i for i, v in enumerate(row, start=1) if isinstance(v, str)}
        if "指標ID" in cols and "実績値" in cols:
            return r, cols
    raise AssertionError(f"no header row in {title}")


def id_row(ws, ind_id: str) -> tuple[int, dict[str, int]]:
    """The row of ``ind_id`` on a municipality sheet, and the sheet's columns by header."""
    top, cols = header_row(ws)
    return next(r for r in range(top + 1, ws.max_row + 1) if ws.cell(r, cols["指標ID"]).value == ind_id), cols


def formatted_return(path: Path, ind_id: str, header: str, value, number_format: str) -> str:
    """``value`` typed into ``header`` of ``ind_id``'s row in a returned file, the cell given
    ``number_format`` (as a municipality formats its own cell); the cell's place 「小樽市!G6」."""
    wb = openpyxl.load_workbook(path)
    ws = wb["小樽市"]
    row, cols = id_row(ws, ind_id)
    cell = ws.cell(row, cols[header])
    cell.value, cell.number_format = value, number_format
    wb.save(path)
    return f"{ws.title}!{cell.coordinate}"


def empty_master_values(master: Path, names) -> None:
    wb = openpyxl.load_workbook(master, keep_vba=master.suffix == ".xlsm")
    for name in names:
        ws = wb[name]
        top, cols = header_row(ws)
        for r in range(top + 1, ws.max_row + 1):
            for head in INPUT_HEADERS:
                ws.cell(r, cols[head]).value = None
    wb.save(master)


def typed(value: str, numeric: bool, full_width: bool):
    """What a municipality types: numbers on numeric rows (some with full-width digits)."""
    if not value:
        return None
    if numeric:
        v = parse_value(value)
        if v.kind == NUMBER and not v.notes:
            n: Decimal = v.number
            number = int(n) if n == n.to_integral_value() else float(n)
            return str(number).translate(FULL_WIDTH) if full_width else number
    return value


def fill(path: Path, ref, municipality: str) -> int:
    """Type the official FY2023 values into a returned file; returns how many cells were typed."""
    by_id = {i.id: i for i in ref.indicators}
    own = {e.indicator_id: e for e in ref.entries if e.municipality == municipality}
    wb = openpyxl.load_workbook(path)
    ws = wb[municipality]
    top, cols = header_row(ws)
    typed_cells = 0
    for r in range(top + 1, ws.max_row + 1):
        ind_id = ws.cell(r, cols["指標ID"]).value
        entry = own.get(ind_id)
        if entry is None:
            continue
        numeric = by_id[ind_id].method in NUMERIC_METHODS
        value = typed(entry.value, numeric, full_width=typed_cells % 3 == 0)
        ws.cell(r, cols["実績値"]).value = value
        if entry.denominator:
            ws.cell(r, cols["分母"]).value = typed(entry.denominator, True, full_width=False)
        typed_cells += value is not None
    wb.save(path)
    return typed_cells


def set_cell(path: Path, municipality: str, ind_id: str, header: str, value) -> None:
    """``value`` typed into ``header`` of ``ind_id``'s row on ``municipality``'s sheet, saved by
    openpyxl once per content and edit (conftest.saved_once: the cycle's files are the same
    in every test)."""
    saved_once(path, ("set_cell", municipality, ind_id, header, value_key(value)),
               lambda p: _set_cell(p, municipality, ind_id, header, value))


def _set_cell(path: Path, municipality: str, ind_id: str, header: str, value) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb[municipality]
    top, cols = header_row(ws)
    for r in range(top + 1, ws.max_row + 1):
        if ws.cell(r, cols["指標ID"]).value == ind_id:
            ws.cell(r, cols[header]).value = value
            wb.save(path)
            return
    raise AssertionError(f"{ind_id} not on {municipality}")


def rewrite_zip(src: Path, dst: Path, replace=None, add=None, drop=()) -> Path:
    """Copy a package part by part, replacing, adding or dropping parts (what Excel would store).
    Where parts are only replaced, the others are copied as they are packed
    (conftest.with_members: the same parts, without deflating every one of them again)."""
    replace, add = replace or {}, add or {}
    if not add and not drop:
        with zipfile.ZipFile(src) as zin:
            names = set(zin.namelist())
            changed = {name: edit(zin.read(name)) for name, edit in replace.items() if name in names}
        with_members(src, dst, changed)
        return dst
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst.with_suffix(".tmp"), "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            data = zin.read(info.filename)
            if info.filename in replace:
                data = replace[info.filename](data)
            zout.writestr(info.filename, data)
        for name, data in add.items():
            zout.writestr(name, data)
    dst.with_suffix(".tmp").replace(dst)
    return dst


def set_modified(path: Path, when: dt.datetime) -> None:
    stamp = when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ").encode()

    def core(data: bytes) -> bytes:
        out, n = re.subn(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                         rb"\g<1>" + stamp + rb"\g<2>", data)
        assert n == 1
        return out
    rewrite_zip(path, path, {"docProps/core.xml": core})


def set_property(path: Path, name: str, value: str) -> None:
    wb = openpyxl.load_workbook(path)
    for prop in wb.custom_doc_props.props:
        if prop.name == name:
            prop.value = value
    wb.save(path)


def issued_cells(path: Path, municipality: str) -> dict[str, dict[str, str]]:
    """指標ID → field → the text of the hidden 配布時の… columns of an input file, as split
    wrote them (what the seal of a file of version 2 on covers; the labels from version 3)."""
    from renkei_xl.core.contract_read import text

    def read(rows):
        top, cols = _header_in(rows, municipality)
        return {row[cols["指標ID"] - 1]: {f: text(row[cols[h] - 1]) for f, h in c.ISSUED_HEADERS.items() if h in cols}
                for row in rows[top:] if row[cols["指標ID"] - 1]}
    # file_grid: the cells read are values split wrote (no formula), as a normal load gave them
    return read_both_ways(lambda: read(file_grid(path, municipality)),
                          lambda: read(_loaded_rows(path, municipality)), f"{path} {municipality}")


def identified(path: Path, muni: str, **props: str) -> Path:
    """The file's identifier changed in both places it is kept, as split writes them: the
    custom properties and the visible block (``props``: property name → new text)."""
    from renkei_xl.cycle.distribute import ID_LABELS

    labels = {prop: label for label, prop in ID_LABELS.items()}
    wb = openpyxl.load_workbook(path)
    for prop in wb.custom_doc_props.props:
        if prop.name in props:
            prop.value = props[prop.name]
    ws = wb[muni]
    for row in ws.iter_rows(max_row=c.HEADER_SEARCH_ROWS):
        for i, cell in enumerate(row):
            name = next((p for p, label in labels.items() if cell.value == label and p in props), None)
            if name is not None:
                next(x for x in row[i + 1:] if x.value).value = props[name]
    wb.save(path)
    return path


def version_1_seal(key: bytes, muni: str, year: str, issued_at: str, ids: list[str], code: str) -> str:
    """The seal as the files issued before version 2 carry it, written out here rather
    than asked of the code under test: those files are out there, and must still verify."""
    import hashlib
    import hmac
    import json

    payload = json.dumps(["renkei-xl return seal 1", muni, year, "1", issued_at, ids, code],
                         ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, payload.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def as_version_1(path: Path, master: Path, muni: str) -> Path:
    """An input file as the previous version split it: 様式の版 1, sealed without the
    issued values (the hidden columns, if still there, are left as they are)."""
    from renkei_xl.cycle.distribute import P_VERSION

    props = {p.name: p.value for p in openpyxl.load_workbook(path).custom_doc_props.props}
    ids = [e.indicator_id for e in load_master(master).entries if e.municipality == muni and e.indicator_id]
    sealed = version_1_seal(master_key_of_file(master), muni, props[P_YEAR], props[P_ISSUED], ids,
                            props[P_FINGERPRINT])
    return identified(path, muni, **{P_VERSION: "1", P_SEAL: sealed})


def _otaru_held(master: Path, filled: dict, capsys, ind_id: str, header: str, value) -> str:
    """小樽市's return with ``value`` typed into ``header`` of ``ind_id``, collected: the command
    line's output, after it held the file (exit 1)."""
    set_cell(filled["小樽市"], "小樽市", ind_id, header, value)
    code = main(["collect", str(master), str(filled["小樽市"])])
    out = capsys.readouterr().out
    assert code == 1, out
    return out


def _loaded_rows(path: Path, sheet: str) -> list[list]:
    """A sheet's values as openpyxl's normal load gives them (a formula as its text): what
    ``file_grid`` stands in for where the cells read hold values (``read_both_ways``)."""
    return [list(row) for row in saved_book(path)[sheet].iter_rows(values_only=True)]


def cell_of(master: Path, municipality: str, ind_id: str, header: str):
    """The value of ``header`` in ``ind_id``'s row, read with ``file_grid``: tests ask cells
    of many states of a master, each an openpyxl load before (issue #20 item 9)."""
    def read(rows):
        top, cols = _header_in(rows, municipality)
        return next((row[cols[header] - 1],) for row in rows[top:] if row[cols["指標ID"] - 1] == ind_id)
    try:
        return read_both_ways(lambda: read(file_grid(master, municipality)),
                              lambda: read(_loaded_rows(master, municipality)), f"{master} {municipality}")[0]
    except StopIteration:
        raise AssertionError(ind_id) from None


def import_log(master: Path) -> list[tuple]:
    """The master's 取込履歴 as openpyxl's ``iter_rows(values_only=True)`` gives it, read with
    ``file_grid`` (the tests beside read cells of the same master through it; a load of the
    whole master for this one sheet was most of their own time)."""
    return read_both_ways(lambda: [tuple(r) for r in file_grid(master, c.IMPORT_LOG)],
                          lambda: [tuple(r) for r in _loaded_rows(master, c.IMPORT_LOG)], f"{master} {c.IMPORT_LOG}")


def list_rows(master: Path) -> dict[str, tuple]:
    """指標ID → (実績値, 評価) from the master's 一覧, found by header text."""
    return read_both_ways(lambda: _listed(file_grid(master, c.LIST)), lambda: _listed(_loaded_rows(master, c.LIST)),
                          f"{master} {c.LIST}")


def _listed(rows: list) -> dict[str, tuple]:
    top = next(i for i, r in enumerate(rows) if "指標ID" in r and "評価" in r)
    h = rows[top]
    i_id, i_actual, i_symbol = h.index("指標ID"), h.index("実績値"), h.index("評価")
    return {r[i_id]: (r[i_actual], r[i_symbol]) for r in rows[top + 1:] if r[i_id]}


def _built_cycle(folder: Path, fy2023) -> tuple:
    master = init_master(folder / "マスター.xlsx", sample="fy2023")
    names = fy2023.settings.names
    empty_master_values(master, names)
    files = split_master(master, folder / "配布")
    by_muni = dict(zip(names, files))
    returned = folder / "回収"
    returned.mkdir()
    filled = {}
    for muni, path in by_muni.items():
        target = returned / path.name
        target.write_bytes(path.read_bytes())
        fill(target, fy2023, muni)
        filled[muni] = target
    return master, by_muni, filled


@pytest.fixture
def cycle(tmp_path, tmp_path_factory, fy2023):
    """The sample master with every municipality's values emptied, split, files filled: made
    once per run (conftest.shared_build: a split and twelve files filled, about 3 s) and
    copied whole into each test's own folder, which the test may change as it likes."""
    master, by_muni, filled = shared_build(tmp_path_factory, "cycle-fy2023", lambda f: _built_cycle(f, fy2023))
    root = master.parent
    shutil.copytree(root, tmp_path, dirs_exist_ok=True)

    def here(path: Path) -> Path:
        return tmp_path / path.relative_to(root)
    return here(master), {m: here(p) for m, p in by_muni.items()}, {m: here(p) for m, p in filled.items()}


# ------------------------------------------------------------------------------ split

def test_the_input_file_says_whose_status_reaches_the_list_as_recalc_warns(tmp_path_factory, fy2023):
    """The file told every municipality 「実施状況 … 一覧の「連携事業実施状況等」に載ります」, and recalc
    then warned of each row whose 指標 has 実施状況（手入力） that the municipality's was not shown
    (every partner's row of the sample). Now the file says it by the rule recalc warns by: a
    status typed into every row of the issued sheets, the rows validate warns of are the ones
    the file says are not printed as typed."""
    from renkei_xl.core.validate import validate

    master, by_muni, _ = shared_build(tmp_path_factory, "cycle-fy2023", lambda f: _built_cycle(f, fy2023))
    data = load_master(master)
    typed = [e._replace(status="説明会を2回開催") for e in data.entries]
    at = {(e.sheet, e.cell("status")) for e in typed}
    warned = {(f.sheet, f.indicator_id) for f in validate(data.settings, data.indicators, typed)
              if f.type in ("replaced-status", "ignored-entry") and (f.sheet, f.cell) in at}
    for muni in ("札幌市", "小樽市"):
        rows = list(dict.fromkeys(e.indicator_id for e in typed if e.municipality == muni and e.indicator_id))
        shown = [i for i in rows if (muni, i) not in warned]
        ws = openpyxl.load_workbook(by_muni[muni], read_only=True).worksheets[0]
        [line] = [v for (v,) in ws.iter_rows(max_row=12, max_col=1, values_only=True) if str(v).startswith("　・実施状況:")]
        not_printed = "入力した文は一覧の「連携事業実施状況等」にそのままは載りません"
        assert len(shown) < len(rows) and not_printed in line, (muni, line)
        if shown:
            assert f"指標ID {'、'.join(shown)} の行は一覧の「連携事業実施状況等」に載ります" in line, (muni, shown, line)
        else:
            assert "このファイルの指標では、" + not_printed in line, (muni, line)


def test_split_refuses_two_municipalities_whose_names_make_one_file_and_writes_nothing(tmp_path):
    """「小樽|市」 and 「小樽_市」 are two sheet names but one file name (| cannot be in one): the
    second file would be written over the first and one municipality get nothing. Refused
    before any file is made, naming both."""
    master = sample_master(tmp_path / "マスター.xlsx")
    wb = openpyxl.load_workbook(master)
    for old, new in (("小樽市", "小樽|市"), ("岩見沢市", "小樽_市")):
        wb[old].title = new
        next(cell for row in wb[c.SETTINGS].iter_rows() for cell in row if cell.value == old).value = new
    wb.save(master)
    out = tmp_path / "配布"
    with pytest.raises(UserError) as refused:
        split_master(master, out)
    assert "「小樽|市」と「小樽_市」" in str(refused.value) and "何も作っていません" in str(refused.value)
    assert not out.exists() or not any(out.iterdir())


def test_a_split_stopped_partway_names_the_files_made_and_the_ones_not(tmp_path, fy2023):
    """A full disk, or the backup of a returned file with no place to go, at the third
    municipality: the two files made are whole and stay; the message said only that the
    master was not changed. (What can be asked before the first write is: the test below.)"""
    master = sample_master(tmp_path / "マスター.xlsx")
    names = fy2023.settings.names
    out = tmp_path / "配布"
    out.mkdir()
    third = out / file_name(names[2], 2023)
    third.write_bytes(b"a return saved under the issued name")   # kept before it is replaced ...
    (out / f"{third.stem}_バックアップ").write_bytes(b"")        # ... where a file is in the way
    with pytest.raises(UserError) as stopped:
        split_master(master, out)
    text = str(stopped.value)
    assert f"2 件（{file_name(names[0], 2023)}、{file_name(names[1], 2023)}）は作成済みです" in text, text
    assert f"{len(names) - 2} 件（{file_name(names[2], 2023)}" in text and "作成していません" in text, text
    # not 「何も書き込んでいません」 beside the two made: the file the write refused is named
    assert "何も書き込んでいません" not in text and f"「{file_name(names[2], 2023)}」は書き込んでいません" in text, text
    made = sorted(p.name for p in out.iterdir() if p.is_file() and p.suffix == ".xlsx")
    assert made == sorted(file_name(n, 2023) for n in names[:3])
    assert third.read_bytes() == b"a return saved under the issued name"


def test_a_split_stopped_by_a_full_disk_says_plainly_what_the_folder_holds(tmp_path, fy2023, monkeypatch):
    """The third file met a full disk: its refusal said 「元のファイルは変更していません」 beside
    「2 件は作成済みです」 (which 元のファイル?), and nothing said that a file of an earlier split
    still sits under a name not made this time, to be mailed as this issue's. Now the file
    refused is named, the folder named, and the earlier files counted."""
    import errno

    import renkei_xl.workbook.input_book as input_book

    master = sample_master(tmp_path / "マスター.xlsx")
    names = fy2023.settings.names
    out = tmp_path / "配布"
    out.mkdir()
    earlier = out / file_name(names[3], 2023)
    earlier.write_bytes(b"an earlier issue")
    real, calls = input_book.write_input_book, []

    def full_at_the_third(tmp, *args, **kwargs):
        calls.append(tmp)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(tmp, *args, **kwargs)

    monkeypatch.setattr(input_book, "write_input_book", full_at_the_third)
    with pytest.raises(UserError) as stopped:
        split_master(master, out)
    text = str(stopped.value)
    third = file_name(names[2], 2023)
    assert f"ディスクの空き容量が足りないため「{third}」を書き込めませんでした。" in text, text
    assert "元のファイル" not in text and "何も書き込んでいません" not in text, text
    assert (f"フォルダー「{out}」の入力用ファイルのうち、2 件（{file_name(names[0], 2023)}、{file_name(names[1], 2023)}）"
            "は作成済みです。") in text, text
    assert (f"{len(names) - 2} 件（{third}、{earlier.name}、" in text
            and "作成していません（そのうち 1 件は、前に作成した同じ名前のファイルが変更されずに残っています。"
                "今回の内容ではありません）" in text), text
    assert earlier.read_bytes() == b"an earlier issue"


@functools.cache
def _split_with_drafts() -> dict[str, bytes]:
    """The files and drafts a split (--eml) of the sample master makes (``sample_master``'s
    bytes, so its key): file name → bytes, made once in a process for the tests that need
    an earlier split in the folder (split_master, four times the same, was a third of theirs)."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "配布"
        split_master(sample_master(Path(folder) / "マスター.xlsx"), out, eml=True)
        assert all(p.is_file() for p in out.iterdir())
        return {p.name: p.read_bytes() for p in out.iterdir()}


@pytest.mark.parametrize("in_the_way", ["open in Excel", "read-only", "a folder", "the draft open"])
def test_a_split_asks_every_file_before_it_writes_the_first(tmp_path, fy2023, in_the_way):
    """小樽市's file open in Excel (or read-only, or a folder of its name, or its .eml draft
    open): refused before 札幌市's file is replaced, so 配布用 never holds files of two
    issues (before, the first files were remade and the run then stopped)."""
    master = sample_master(tmp_path / "マスター.xlsx")
    names = fy2023.settings.names
    out = tmp_path / "配布"
    out.mkdir()
    for name, data in _split_with_drafts().items():       # an earlier split of this master
        (out / name).write_bytes(data)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    blocked = out / file_name(names[-1], 2023)
    if in_the_way == "open in Excel":
        (out / f"~${blocked.name}").write_bytes(b"owner")
    elif in_the_way == "read-only":
        blocked.chmod(0o444)
    elif in_the_way == "a folder":
        blocked.unlink()
        blocked.mkdir()
    else:
        from renkei_xl.cycle.distribute import eml_path

        (out / f"~${eml_path(blocked).name}").write_bytes(b"owner")
    with pytest.raises(UserError):
        split_master(master, out, eml=True)
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and not p.name.startswith("~$")}
    before.pop(blocked.name, None) if in_the_way == "a folder" else None
    assert after == before


def test_a_row_missing_from_a_municipality_sheet_is_named_where_to_add_it(tmp_path, capsys):
    """04-1 added to 指標 but not to 小樽市's sheet (here: its row deleted): 入力チェック said
    nothing and split sent 小樽市 a form without the row. Now a warning names where to add
    it, and split says which files lack rows (the total is what an empty row gives)."""
    master = sample_master(tmp_path / "マスター.xlsx")
    wb = openpyxl.load_workbook(master)
    ws = wb["小樽市"]
    top, cols = header_row(ws)
    row = next(r for r in range(top + 1, ws.max_row + 1) if ws.cell(r, cols["指標ID"]).value == "04-1")
    ws.delete_rows(row)
    last = max(r for r in range(top + 1, ws.max_row + 1) if ws.cell(r, cols["指標ID"]).value)
    wb.save(master)
    main(["validate", str(master)])
    out = capsys.readouterr().out
    assert f"小樽市!A{last + 1}" in out and "小樽市のシートに指標「04-1」" in out and "の行がありません" in out, out
    result, _written = recalc_file(master)
    (found,) = [f for f in result.findings if f.type == "missing-row"]
    assert not found.is_error and found.place == f"小樽市!A{last + 1}"
    assert result.evaluations["04-1"].symbol != "－"
    assert main(["split", str(master), "--outdir", str(tmp_path / "配布")]) == 0     # a warning, as validate's
    out = capsys.readouterr().out
    assert "【注意】次の市町村のシートに指標の行がないため" in out and "　小樽市: 04-1" in out, out


def test_split_says_which_sheet_still_shows_an_indicator_renamed_in_the_indicator_sheet(tmp_path, capsys):
    """04-1's 評価指標 renamed in 指標 after the sheets were made: the input files asked each
    municipality with the old words while 一覧 published the new ones, and nothing said so.
    split now names each sheet cell that still shows the old words; the files are made."""
    master = sample_master(tmp_path / "マスター.xlsx")
    wb = openpyxl.load_workbook(master)
    ws = wb[c.INDICATORS]
    top, cols = next((r, {v: i for i, v in enumerate(row, start=1) if isinstance(v, str)})
                     for r, row in enumerate(ws.iter_rows(max_row=c.HEADER_SEARCH_ROWS, values_only=True), start=1)
                     if "指標ID" in row and "評価指標" in row)
    row = next(r for r in range(top + 1, ws.max_row + 1) if ws.cell(r, cols["指標ID"]).value == "04-1")
    old = ws.cell(row, cols["評価指標"]).value
    ws.cell(row, cols["評価指標"]).value = "相談会の開催件数"
    wb.save(master)
    assert main(["split", str(master), "--outdir", str(tmp_path / "配布")]) == 0
    out = capsys.readouterr().out
    otaru = openpyxl.load_workbook(master)["小樽市"]
    o_top, o_cols = header_row(otaru)
    o_row = next(r for r in range(o_top + 1, otaru.max_row + 1) if otaru.cell(r, o_cols["指標ID"]).value == "04-1")
    cell = otaru.cell(o_row, o_cols["評価指標"]).coordinate
    assert "【注意】市町村のシートの連携事業名・評価指標が指標シートと違う" in out, out
    assert f"小樽市!{cell}（04-1）「{old}」→ 指標では「相談会の開催件数」" in out, out
    assert len(list((tmp_path / "配布").glob("*.xlsx"))) == 12


def test_no_row_of_an_input_file_is_taller_than_excel_allows(tmp_path):
    """A 評価指標 of thousands of characters (a report pasted in) made its row of 札幌市's
    input file 5,876 pt tall, where Excel's rows stop at 409 (its RowHeight refuses more).
    The row stops at the limit; the cell keeps the whole text."""
    from renkei_xl.core.text_fit import MAX_ROW_HEIGHT

    master = sample_master(tmp_path / "マスター.xlsx")
    wb = openpyxl.load_workbook(master)
    ws = wb["札幌市"]
    head = next(r for r in range(1, 10) if c.ENTRY_HEADERS["indicator_id"] in [x.value for x in ws[r]])
    cols = {x.value: x.column for x in ws[head]}
    row = next(r for r in range(head + 1, ws.max_row + 1)
               if ws.cell(r, cols[c.ENTRY_HEADERS["indicator_id"]]).value == "04-1")
    long_name = "指標の説明" * 1_000
    ws.cell(row, cols[c.ENTRY_HEADERS["name"]]).value = long_name
    wb.save(master)
    books = split_master(master, tmp_path / "配布", echo=lambda _line: None)
    sapporo = openpyxl.load_workbook(next(p for p in books if p.name.startswith("札幌市")))["札幌市"]
    heights = {r: d.height for r, d in sapporo.row_dimensions.items() if d.height is not None}
    assert heights and max(heights.values()) == MAX_ROW_HEIGHT, max(heights.values())
    assert any(cell.value == long_name for r in sapporo.iter_rows() for cell in r)   # whole, not cut
    for book in books:
        sheet = openpyxl.load_workbook(book).worksheets[0]
        assert all(d.height is None or 0 <= d.height <= MAX_ROW_HEIGHT for d in sheet.row_dimensions.values()), book


def test_split_writes_protected_identified_input_files(cycle, fy2023):
    master, issued, _ = cycle
    assert [p.name for p in issued.values()] == [file_name(m, 2023) for m in fy2023.settings.names]
    data = load_master(master)
    key = master_key_of_file(master)
    assert key is not None
    master_wb = openpyxl.load_workbook(master)     # read only: once, not once per municipality
    for muni, path in issued.items():
        with zipfile.ZipFile(path) as zf:
            assert not any("vbaProject" in n for n in zf.namelist())
            custom = zf.read("docProps/custom.xml").decode()
        assert muni in custom
        wb = openpyxl.load_workbook(path)
        props = {p.name: p.value for p in wb.custom_doc_props.props}
        assert props[P_MUNICIPALITY] == muni and props[P_YEAR] == "2023"
        assert props[P_FINGERPRINT] == fingerprint(issued_rows(data, muni)[muni])
        assert props[P_SEAL] == municipality_seal(key, data, muni, props[P_ISSUED], cells=issued_cells(path, muni))
        ws = wb[muni]
        assert ws.protection.sheet and not ws.protection.password
        # the structure too, without a password: no sheet copied to answer in, none unhidden
        # (openpyxl reads it as Excel writes it; LibreOffice 7.4 does not import it from XLSX)
        assert wb.security is not None and wb.security.lockStructure and not wb.security.workbookPassword
        top, cols = header_row(ws)
        visible = [v for row in ws.iter_rows(max_row=top - 1, values_only=True) for v in row if v]
        assert muni in visible and "2023" in visible and props[P_FINGERPRINT] in visible
        assert props[P_SEAL] in visible
        # the master's header cells in their order, 基準値 and 目標値 (read-only) before 実績値,
        # and the same 指標ID rows as the master's sheet
        master_ws = master_wb[muni]
        m_top, m_cols = header_row(master_ws)
        assert [h for h in sorted(cols, key=cols.get) if h in m_cols] == sorted(m_cols, key=m_cols.get)
        assert set(cols) - set(m_cols) == {"基準値", "目標値", *c.ISSUED_HEADERS.values()}
        assert cols["基準値"] + 1 == cols["目標値"] == cols["実績値"] - 1
        # each input cell and label as issued, as text, in hidden columns after the table, outside the print area
        issued_cols = [cols[h] for h in c.ISSUED_HEADERS.values()]
        assert issued_cols == list(range(ws.max_column - len(c.ISSUED_HEADERS) + 1, ws.max_column + 1))
        assert all(ws.column_dimensions[openpyxl.utils.get_column_letter(k)].hidden for k in issued_cols)
        assert not any(ws.column_dimensions[openpyxl.utils.get_column_letter(k)].hidden
                       for k in range(1, issued_cols[0]))
        assert ws.print_area.endswith(f"${openpyxl.utils.get_column_letter(issued_cols[0] - 1)}${ws.max_row}")
        by_id = {i.id: i for i in data.indicators}
        own = {e.indicator_id: e for e in data.entries if e.municipality == muni}
        for r in range(top + 1, ws.max_row + 1):
            ind = by_id[ws.cell(r, cols["指標ID"]).value]
            assert (ws.cell(r, cols["基準値"]).value or "") == ind.baseline
            assert (ws.cell(r, cols["目標値"]).value or "") == ind.target
            for field, head in c.ISSUED_HEADERS.items():
                shown = (getattr(own[ind.id], field) if field in c.INPUT_FIELDS
                         else ws.cell(r, cols[c.ENTRY_HEADERS[field]]).value)     # the label as the row shows it
                assert (ws.cell(r, cols[head]).value or "") == shown and shown is not None, (r, field)
        ids = [ws.cell(r, cols["指標ID"]).value for r in range(top + 1, ws.max_row + 1)]
        assert ids == [e.indicator_id for e in data.entries if e.municipality == muni]
        for r in range(top + 1, ws.max_row + 1):
            # 分母 is open (and cream) only on a row that reads one: a 合計's 分母 asked for a
            # figure nothing reads, and collect held the row typed there
            takes_denominator = input_rule(by_id[ws.cell(r, cols["指標ID"]).value], "denominator") is not None
            for col in range(1, ws.max_column + 1):
                cell = ws.cell(r, col)
                open_ = col in {cols[h] for h in INPUT_HEADERS} and (col != cols["分母"] or takes_denominator)
                assert cell.protection.locked == (not open_), (muni, r, col)
                assert (cell.fill.fgColor.rgb == f"FF{c.INPUT_FILL}") == open_, (muni, r, col)
        numeric = {e.indicator_id for e in data.entries if e.municipality == muni}
        dvs = ws.data_validations.dataValidation
        for r in range(top + 1, ws.max_row + 1):
            ind = next(i for i in data.indicators if i.id == ws.cell(r, cols["指標ID"]).value)
            ref = ws.cell(r, cols["実績値"]).coordinate
            # one rule per run of rows that share it; exactly one covers each cell
            covering = [dv for dv in dvs if ref in dv.sqref]
            assert len(covering) <= 1, (ref, [str(dv.sqref) for dv in covering])
            if ind.method in NUMERIC_METHODS:
                assert covering[0].type == "custom" and ">=0)," in covering[0].formula1
            if ind.method == "状態":
                assert covering[0].type == "list" and covering[0].formula1 == c.N_STATES
        assert numeric
        # the list source lives inside the file, behind a defined name
        assert "'選択肢'!" in wb.defined_names[c.N_STATES].attr_text


# --------------------------------------------------------------------------- the cycle

def test_full_cycle_reproduces_the_official_list(cycle, fy2023, capsys):
    master, _, filled = cycle
    emptied = load_master(master)
    assert all(not (e.value or e.denominator) for e in emptied.entries)
    set_cell(filled["札幌市"], "札幌市", "04-1", "実績値", "１７")   # typed with full-width digits

    report = collect(master, [filled["札幌市"].parent])
    assert not report.refused, report.refused
    assert len(report.records) == len(fy2023.settings.names)
    # 札幌市 04-1 was typed as full-width 「１７」 and arrives as the number 17
    lines = [ch.line() for ch in report.changes]      # the record: the command lists the first few
    assert any(re.fullmatch(r"札幌市!E\d+ 04-1 実績値: （空欄） → 17", line) for line in lines), lines
    assert cell_of(master, "札幌市", "04-1", "実績値") == 17
    assert report.written is not None and report.written.backup is not None

    recalc_file(master)
    listed = list_rows(master)
    symbols = {i: s for i, (_a, s) in listed.items()}
    assert symbols == dict(fy2023.official)
    for ind_id in ("04-1", "06-1", "08-1"):
        assert listed[ind_id][0] == fy2023.official_actual[ind_id]

    log = import_log(master)
    assert log[0] == ("ファイル名", "市町村", "取込日時", "変更セル数", "SHA-256", "提出日時", "取り込まなかったセル",
                      "取込時のマスターの値")
    assert {r[1] for r in log[1:]} == set(fy2023.settings.names)
    assert all(r[6] is None for r in log[1:])   # nothing was left out
    assert sum(r[3] for r in log[1:]) == len(report.changes) > 0


def test_same_file_twice_changes_nothing_the_second_time(cycle):
    master, _, filled = cycle
    first = collect(master, [filled["小樽市"]])
    assert first.changes and first.written is not None
    before = master.read_bytes()

    dry = collect(master, [filled["小樽市"]], dry_run=True)
    second = collect(master, [filled["小樽市"]])
    assert master.read_bytes() == before
    for report in (dry, second):
        assert report.changes == [] and report.records == [] and report.written is None
        assert [r.kind for r in report.refusals] == ["already"]
        said = collect_lines(report)       # the files imported before, named as the button names them
        assert said[0] == "取り込み済みのファイル 1 件: 小樽市_2023年度_入力.xlsx", said


def test_dry_run_shows_changes_and_writes_nothing(cycle, capsys):
    master, _, filled = cycle
    before = master.read_bytes()
    code = main(["collect", str(master), str(filled["小樽市"]), "--dry-run"])
    out = capsys.readouterr().out
    assert code == 0
    assert re.search(r"小樽市!E\d+ 04-1 実績値: （空欄） → 2", out), out
    assert master.read_bytes() == before


def test_collect_lists_its_changes_as_the_button_does_and_the_dry_run_every_one(cycle, capsys):
    """The command printed every change and a line a file (twelve returns: every cell they
    changed), where the 取込 button lists a few and counts the rest: the same lines now
    (cycle.collect.said), the whole record on 取込履歴 and in the master. --dry-run is the
    diff shown before it is applied (old → new per cell): there every change is listed."""
    from renkei_xl.core.alerts import printed
    from renkei_xl.core.sheet_findings import LISTED_FINDINGS
    from renkei_xl.cycle.collect.said import changes_listing

    master, _, filled = cycle
    code = main(["collect", str(master), *map(str, filled.values()), "--dry-run"])
    out = capsys.readouterr().out
    total = int(re.search(r"取り込める \d+ ファイル、変更 (\d+) セル", out).group(1))
    assert code == 0 and total > LISTED_FINDINGS and len(filled) > 5, out
    changed = [line for line in out.splitlines() if " → " in line]
    assert len(changed) == total and out.count(" か所:\n") == 1 and "…ほか" not in out, out
    assert taken(out) == {p.name: m for m, p in filled.items()}, out    # every file, named once
    assert out.rstrip().endswith("取り込むときは、同じコマンドを --dry-run を付けずに実行してください。"), out
    # the run that writes lists them as the button does: its head, the first few, the rest counted
    report = collect(master, list(filled.values()), dry_run=True)
    listed = printed([changes_listing(report, "書き換えたセル:\n")])
    assert listed == ["書き換えたセル:", *changed[:LISTED_FINDINGS], f"　…ほか {total - LISTED_FINDINGS} か所"]


@pytest.mark.parametrize("new", ["済\n小樽市!G3 05-1 実績値: 3 → 3", "済\r\n小樽市!G3 05-1 実績値: 3 → 3",
                                 "済\r小樽市!G3 05-1 実績値: 3 → 3"])
def test_a_change_line_shows_the_value_on_its_one_line(new):
    """Staff confirm an import by its change lines (the command line's and the button's): a
    returned 実施状況 with a line break added a line of its own that read as another change
    (qa-inject66). The break is shown as ⏎, as a number refused for one is quoted."""
    from renkei_xl.cycle.collect.records import Change

    line = Change("小樽市", "G2", "04-1", "実施状況", "実施\n済み", new).line()
    assert line == "小樽市!G2 04-1 実施状況: 実施⏎済み → 済⏎小樽市!G3 05-1 実績値: 3 → 3"


def test_plan_collect_is_pure_and_matches_collect(cycle):
    master, _, filled = cycle
    before = master.read_bytes()
    planned = plan_collect(load_master(master), [filled["千歳市"]], key=master_key_of_file(master))
    changes, refusals, records = planned.changes, planned.refusals, planned.records
    assert master.read_bytes() == before and not refusals and len(records) == 1
    assert {(ch.sheet, ch.indicator_id, ch.field, ch.new) for ch in changes} >= {
        ("千歳市", "04-1", "実績値", 1), ("千歳市", "08-1", "実績値", 2)}
    report = collect(master, [filled["千歳市"]])
    assert report.changes == changes


def test_identifier_is_read_from_the_sheet_when_the_properties_are_lost(cycle):
    master, _, filled = cycle
    path = filled["恵庭市"]

    def drop(pattern: bytes):
        return lambda data: re.sub(pattern, b"", data)
    rewrite_zip(path, path, {"[Content_Types].xml": drop(rb'<Override [^>]*custom\.xml"[^>]*/>'),
                             "_rels/.rels": drop(rb'<Relationship [^>]*custom\.xml"[^>]*/>')},
                drop={"docProps/custom.xml"})
    assert len(openpyxl.load_workbook(path).custom_doc_props) == 0
    report = collect(master, [path])
    assert not report.refusals and report.records[0].municipality == "恵庭市"
    assert cell_of(master, "恵庭市", "04-1", "実績値") == 1


@pytest.mark.parametrize("settings_name", ["新しのつ村", "新篠津 村"], ids=["renamed", "settings-spaced"])
def test_a_return_issued_before_a_rename_is_refused_saying_the_step(cycle, settings_name):
    """A return issued under 「新篠津村」 arrives after staff renamed the partner: it was
    refused with 「設定シートの市町村一覧にありません」 alone, which tells staff neither why a
    municipality they still have is 「not there」 nor what to do. Its numbers are never put on
    another sheet (whose they are is what is in doubt); the refusal now names the step: send
    a form under the new name, or, when 設定 holds the name typed another way, correct it.
    Returns of the others, issued before the change, are imported as before."""
    master, _, filled = cycle
    wb = openpyxl.load_workbook(master)
    wb["新篠津村"].title = "新しのつ村"
    row = next(cell for row in wb[c.SETTINGS].iter_rows() for cell in row if cell.value == "新篠津村")
    row.value = settings_name
    wb.save(master)
    report = collect(master, [filled["新篠津村"], filled["恵庭市"]])
    (refused,) = report.refused
    assert "市町村「新篠津村」は設定シートの市町村一覧にありません" in refused.reason, refused.reason
    if settings_name == "新しのつ村":
        assert "新しい名前の入力用ファイルを「配布用ファイル作成」で作り直して" in refused.reason, refused.reason
    else:
        assert "（設定では「新篠津 村」と書かれています）" in refused.reason, refused.reason
    assert [r.municipality for r in report.records] == ["恵庭市"]
    assert all(ch.sheet != "新しのつ村" for ch in report.changes)


# ---------------------------------------------------------------------------- refusals

def _renamed_municipality(path: Path, tmp: Path) -> Path:
    wb = openpyxl.load_workbook(path)
    wb["小樽市"].title = "函館市"
    for prop in wb.custom_doc_props.props:
        if prop.name == P_MUNICIPALITY:
            prop.value = "函館市"
    out = tmp / "函館市_2023年度_入力.xlsx"
    wb.save(out)
    return out


def _other_year(path: Path, tmp: Path) -> Path:
    set_property(path, P_YEAR, "2022")
    return path


def _year_in_circled_digits(path: Path, tmp: Path) -> Path:
    """A 対象年度 str.isdigit() takes and int() does not: collect ended in a ValueError."""
    set_property(path, P_YEAR, "②⓪②②")
    return path


def _on_the_sheet(path: Path, edit, *, unprotect: bool = True) -> Path:
    """The returned file with ``edit(ws, top, cols)`` done on 小樽市's sheet as a person would
    in Excel (the protection lifted first, unless ``unprotect`` is False), then saved."""
    wb = openpyxl.load_workbook(path)
    ws = wb["小樽市"]
    top, cols = header_row(ws)
    if unprotect:
        ws.protection.sheet = False
    edit(ws, top, cols)
    wb.save(path)
    return path


def _row_deleted(path: Path, tmp: Path) -> Path:
    return _on_the_sheet(path, lambda ws, top, cols: ws.delete_rows(top + 2))


def _identity_typed_over(path: Path, tmp: Path) -> Path:
    """岩見沢市 filled in 小樽市's file and typed its own name over the visible block (the
    properties and the seal still say 小樽市)."""
    def edit(ws, top, cols):
        label = next(cell for row in ws.iter_rows(max_row=c.HEADER_SEARCH_ROWS) for cell in row
                     if cell.value == "市町村")
        shown = next(ws.cell(label.row, col) for col in range(label.column + 1, ws.max_column + 1)
                     if ws.cell(label.row, col).value)
        shown.value = "岩見沢市"
    return _on_the_sheet(path, edit, unprotect=False)


def _ids_swapped(path: Path, tmp: Path) -> Path:
    """The protection lifted and two 指標ID cells swapped (the ID column sorted alone): the
    answers typed on 04-1's line would land on 06-1 and the other way round."""
    def edit(ws, top, cols):
        cells = {ws.cell(r, cols["指標ID"]).value: ws.cell(r, cols["指標ID"]) for r in range(top + 1, ws.max_row + 1)}
        cells["04-1"].value, cells["06-1"].value = "06-1", "04-1"
    return _on_the_sheet(path, edit)


def _id_typed_over(new_id, names_too: bool = False):
    """The protection lifted and 05-1's 指標ID typed over (or cleared): refused as 「行が削除され
    ています」 (or a row 配布時になかった), the cell unnamed. ``names_too``: every 評価指標
    cleared as well, so only the fingerprint tells what the cell held."""
    def make(path: Path, tmp: Path) -> Path:
        def edit(ws, top, cols):
            row, _cols = id_row(ws, "05-1")
            ws.cell(row, cols["指標ID"]).value = new_id
            for r in range(top + 1, ws.max_row + 1) if names_too else ():
                ws.cell(r, cols["評価指標"]).value = None
        return _on_the_sheet(path, edit)
    return make


def _header_renamed(path: Path, tmp: Path) -> Path:
    def edit(ws, top, cols):
        ws.cell(top, cols["実施状況"]).value = "状況"
    return _on_the_sheet(path, edit, unprotect=False)


def _row_inserted_with_values(path: Path, tmp: Path) -> Path:
    """A row inserted inside the table and answered there, its 指標ID left empty."""
    def edit(ws, top, cols):
        ws.insert_rows(top + 2)
        ws.cell(top + 2, cols["実績値"]).value = 9
    return _on_the_sheet(path, edit)


def _rows_added_below(path: Path, tmp: Path) -> Path:
    """Answers typed in 5,000 rows below the table, without 指標ID."""
    def edit(ws, top, cols):
        last = ws.max_row
        for r in range(last + 3, last + 5003):
            ws.cell(r, cols["実施状況"]).value = "実施"
    return _on_the_sheet(path, edit, unprotect=False)


def _rows_added_under_one_new_id(path: Path, tmp: Path) -> Path:
    """Two rows added below the table under one new 指標ID (two sub-items of 04-1): they were
    named 「04-2、04-2: 小樽市!A27、小樽市!A28、小樽市!A27 ほか 1 件」, each cell once per row."""
    def edit(ws, top, cols):
        last = ws.max_row
        for r in (last + 1, last + 2):
            ws.cell(r, cols["指標ID"]).value, ws.cell(r, cols["実績値"]).value = "04-2", 1
    return _on_the_sheet(path, edit)


def _typed_over_the_target(path: Path, tmp: Path) -> Path:
    """The protection lifted and 05-1's answer typed one column to the left, into the grey
    目標値: collect reads 実績値 only, so the answer was dropped and the file logged as taken."""
    def edit(ws, top, cols):
        row = next(r for r in range(top + 1, ws.max_row + 1) if ws.cell(r, cols["指標ID"]).value == "05-1")
        ws.cell(row, cols["目標値"]).value = 7
    return _on_the_sheet(path, edit)


def _rolled_and_split(folder: Path) -> tuple[Path, Path]:
    """The FY2023 sample rolled over to 2024 and split: the new master and 小樽市's file."""
    from renkei_xl.cycle.rollover import rollover_file

    m2023 = sample_master(folder / "さっぽろ圏_2023年度_マスター.xlsm")
    master = rollover_file(m2023).path
    (book,) = [p for p in split_master(master, folder / "配布", echo=lambda _l: None) if p.name.startswith("小樽市")]
    return master, book


@pytest.mark.parametrize("value", ["", 8])
def test_an_answer_typed_over_last_years_column_is_refused_not_lost(tmp_path, tmp_path_factory, value):
    """From the second year the grey 「前年度実績（2023年度）」 stands just left of 実績値: an
    answer typed there (the protection lifted), 実績値 left empty, was read by nobody, and the
    file was logged as taken. It is refused naming the cell; a row whose 実績値 holds the
    answer is taken whatever that column shows (a year corrected since by history import).
    The rollover and the split are the same in both cases: made once (conftest.shared_build)
    and the master copied into the case's own folder, which collect may write."""
    shared, book = shared_build(tmp_path_factory, "rolled-2024-split", _rolled_and_split)
    master = tmp_path / shared.name
    shutil.copyfile(shared, master)
    label = c.PREVIOUS_HEADER.format(year=2023)
    at = {}

    def edit(ws, top, cols):
        row = next(r for r in range(top + 1, ws.max_row + 1) if ws.cell(r, cols["指標ID"]).value == "05-1")
        at["cell"] = ws.cell(row, cols[label]).coordinate
        ws.cell(row, cols[label]).value = 7
        ws.cell(row, cols["実績値"]).value = value or None
    returned = tmp_path / "回収" / book.name
    returned.parent.mkdir()
    shutil.copyfile(book, returned)
    _on_the_sheet(returned, edit)
    before = master.read_bytes()
    report = collect(master, [returned.parent])
    if value:
        assert not report.refused, report.refused
        return
    assert [r.reason for r in report.refused] == [r.reason for r in report.refused if f"小樽市!{at['cell']}「7」" in r.reason]
    assert report.refused and f"{label}（確認用の灰色の列）が配布時と違い、その行の実績値が空です" in report.refused[0].reason
    assert master.read_bytes() == before


def _note_beside_the_table(path: Path, tmp: Path) -> Path:
    """A note typed two columns right of the table (past the hidden issued columns)."""
    def edit(ws, top, cols):
        ws.cell(top + 1, ws.max_column + 2).value = "暫定値です"
    return _on_the_sheet(path, edit)


def _notes_on_cells(path: Path, tmp: Path) -> Path:
    """Notes (comments) put on two answers once the protection was lifted, Excel's legacy kind
    (its author's line first): collect read the values, logged the file as imported, and the
    notes were never seen (qa-returns66)."""
    from openpyxl.comments import Comment

    def edit(ws, top, cols):
        ws.cell(top + 2, cols["実績値"]).comment = Comment("集計中のため空欄", "小樽市")
        ws.cell(top + 3, cols["実績値"]).comment = Comment("小樽市:\n暫定値です。確定値は5月に送ります", "小樽市")
    return _on_the_sheet(path, edit)


def _note_above_the_header(path: Path, tmp: Path) -> Path:
    """A note typed beside the identifier block, above the table: it was dropped unread and
    the file logged as imported."""
    def edit(ws, top, cols):
        ws.cell(top - 2, cols["実績値"]).value = "05-1 は見込みの値です"
    return _on_the_sheet(path, edit)


def _column_inserted_with_a_header(path: Path, tmp: Path) -> Path:
    """A 備考 column inserted after 実施状況 and a note typed in it."""
    def edit(ws, top, cols):
        ws.insert_cols(cols["実施状況"] + 1)
        ws.cell(top, cols["実施状況"] + 1).value = "備考"
        ws.cell(top + 2, cols["実施状況"] + 1).value = "3月末の見込み値です"
    return _on_the_sheet(path, edit)


def _hidden_columns_removed(path: Path, tmp: Path) -> Path:
    """Excel's ドキュメント検査 → 非表示の行と列 → すべて削除, run before mailing the file out:
    the issued columns are gone, so the seal cannot match; it was called a forgery."""
    def edit(ws, top, cols):
        first = min(cols[h] for h in c.ISSUED_HEADERS.values())
        ws.delete_cols(first, len(c.ISSUED_HEADERS))
    return _on_the_sheet(path, edit)


def _sheet_copied_and_answered(path: Path, tmp: Path) -> Path:
    """Excel's シートの移動またはコピー: 「小樽市 (2)」, answers typed on the copy only."""
    wb = openpyxl.load_workbook(path)
    copy = wb.copy_worksheet(wb["小樽市"])
    copy.title = "小樽市 (2)"
    top, cols = header_row(copy)
    copy.cell(top + 1, cols["実績値"]).value = 9
    wb.save(path)
    return path


def _sheet_of_sums_added(path: Path, tmp: Path) -> Path:
    """A sheet added to add up the figures (the structure's protection lifted), no copy of
    the table: the reason must not send staff looking for answers typed on a copy."""
    wb = openpyxl.load_workbook(path)
    wb.security.lockStructure = False
    sums = wb.create_sheet("計算")
    sums["A1"], sums["A2"] = 5, 3
    wb.save(path)
    return path


def _note_on_the_choices_sheet(path: Path, tmp: Path) -> Path:
    """The hidden 選択肢 shown again and a note typed there (qa-returns64): it was imported,
    the note dropped without a word."""
    wb = openpyxl.load_workbook(path)
    wb["選択肢"]["C5"] = "04-1 の実績は暫定値です"
    wb["選択肢"]["A40"] = "05-1 は未集計"       # below the list, in its column
    wb.save(path)
    return path


def _vba_project(tmp: Path) -> bytes:
    """The VBA project a master of ``init`` carries (its bytes made once in a process)."""
    with zipfile.ZipFile(sample_master(tmp / "vba_source.xlsm")) as zf:
        return zf.read("xl/vbaProject.bin")


def _with_vba(path: Path, tmp: Path, suffix: str) -> Path:
    def types(data: bytes) -> bytes:
        data = data.replace(b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml")
        return data.replace(b"<Default ", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/><Default ', 1)

    def rels(data: bytes) -> bytes:
        return data.replace(b"</Relationships>", b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/'
                            b'office/2006/relationships/vbaProject" Target="vbaProject.bin"/></Relationships>')
    out = path.with_suffix(suffix)
    rewrite_zip(path, out, {"[Content_Types].xml": types, "xl/_rels/workbook.xml.rels": rels},
                {"xl/vbaProject.bin": _vba_project(tmp)})
    if out != path:
        path.unlink()
    return out


def _encrypted(path: Path, tmp: Path) -> Path:
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = io.BytesIO(path.read_bytes())
    out = io.BytesIO()
    OOXMLFile(plain).encrypt("secret", out)
    path.write_bytes(out.getvalue())
    return path


def _truncated(path: Path, tmp: Path) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _text_file(path: Path, tmp: Path) -> Path:
    path.write_text("小樽市 04-1 実績値 2件\n", encoding="utf-8")
    return path


def _ten_thousand_parts(path: Path, tmp: Path) -> Path:
    """A package of 10,001 more (empty) members: 300,000 took 9 s and 380 MB to import, every
    member listed by zipfile several times (qa-returns64); refused as no return, before."""
    with zipfile.ZipFile(path, "a", zipfile.ZIP_STORED) as zf:
        for k in range(10_001):
            zf.writestr(f"x/{k}", b"")
    return path


def _unicode_text(path: Path, tmp: Path) -> Path:
    """Excel's 「Unicode テキスト」 (UTF-16 with its BOM) named .xlsx: its NUL bytes made it
    no text to the check, and it was told only 「Excel ブック（.xlsx）ではありません」."""
    path.write_bytes("\ufeff指標ID\t実績値\r\n04-1\t2\r\n".encode("utf-16-le"))
    return path


def _emptied(path: Path, tmp: Path) -> Path:
    """An attachment saved as the mail client failed: 0 bytes under the return's name. It was
    told only 「Excel ブック（.xlsx）ではありません」 (qa-returns64)."""
    path.write_bytes(b"")
    return path


def _package_renamed(parts: dict[str, bytes]):
    """A return saved in another ZIP-based format and renamed .xlsx (its parts as that
    application lays them out: only what says which format it is)."""
    def make(path: Path, tmp: Path) -> Path:
        with zipfile.ZipFile(path, "w") as zf:
            for name, data in parts.items():
                zf.writestr(name, data)
        return path
    return make


_ODS = {"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<office:document-content/>",
        "META-INF/manifest.xml": b"<manifest:manifest/>"}
# As Excel types an .xlsb's parts: its main part's type says 「macroEnabled」 with or without
# macros, and one renamed .xlsx was told to be renamed .xlsm (qa-damaged66).
_XLSB = {"[Content_Types].xml": b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                                b'<Default Extension="bin" ContentType="application/vnd.ms-excel.sheet.binary.'
                                b'macroEnabled.main"/></Types>',
         "_rels/.rels": b"<Relationships/>", "xl/workbook.bin": b"\x83\x01\x00"}


def _approximate(path: Path, tmp: Path) -> Path:
    set_cell(path, "小樽市", "04-1", "実績値", "約10件")
    return path


REFUSALS = {
    "municipality not in 設定": (_renamed_municipality, "設定シートの市町村一覧にありません"),
    "another year": (_other_year, "2022年度のファイル"),
    "another year in circled digits": (_year_in_circled_digits, "②⓪②②年度のファイルです（マスターの対象年度は 2023年度）"),
    "row deleted": (_row_deleted, "行が削除されています"),
    "row inserted with values": (_row_inserted_with_values, "指標IDのない行に値があります"),
    "sheet copied and answered": (_sheet_copied_and_answered, "配布時になかったシート「小樽市 (2)」に値があります。この"
                                                              "シートは取り込まないため、ファイルごと取り込みません。"
                                                              "シートをコピーして入力した可能性があります"),
    "sheet of sums added": (_sheet_of_sums_added, "配布時になかったシート「計算」に値があります。このシートは取り込まない"
                                                  "ため、ファイルごと取り込みません。計算や下書きに使ったシートなら、シート"
                                                  "「小樽市」の入力欄に値として貼り付け直してから"),
    "note on the hidden 選択肢": (_note_on_the_choices_sheet, "非表示のシート「選択肢」（状態の選択肢の一覧）に、配布時に"
                                                             "なかった値があります（選択肢!C5「04-1 の実績は暫定値です」、"
                                                             "選択肢!A40「05-1 は未集計」）"),
    "answer typed over 目標値": (_typed_over_the_target, "目標値（確認用の灰色の列）が配布時と違います（小樽市!F21「7」"
                                                       "（配布時は「５件（毎年度）」））"),
    "note beside the table": (_note_beside_the_table, "配布時になかった列に値があります（小樽市!P20）"),
    "notes on cells": (_notes_on_cells, "セルにメモ（コメント）があります（小樽市!G21「集計中のため空欄」、小樽市!G22"
                                        "「小樽市:⏎暫定値です。確定値は5月に送ります」）。取り込むのはセルの値だけのため"),
    "note above the header": (_note_above_the_header, "シート「小樽市」の表の上（見出しの行より上）の、配布時に空だった"
                                                      "セルに値があります（小樽市!G17）"),
    "hidden columns removed": (_hidden_columns_removed, "非表示の列（配布時の実績値・配布時の分母・配布時の実施状況・配布時の連携事業名・配布時の評価指標）が削除"
                                                        "されています（Excel の「ドキュメント検査」"),
    "column inserted with a header": (_column_inserted_with_a_header, "配布時になかった列に値があります（小樽市!J21）"),
    "values in rows added below": (_rows_added_below, "指標IDのない行に値があります（小樽市!"),
    "rows added under one new ID": (_rows_added_under_one_new_id, "配布時になかった行があります（指標ID 04-2: 小樽市!A27、"
                                                                  "小樽市!A28）"),
    "header renamed": (_header_renamed, "見出し「実施状況」がありません"),
    "identity typed over": (_identity_typed_over, "シートには「岩見沢市」、ファイルの情報には「小樽市」"),
    "指標ID swapped": (_ids_swapped, "指標ID「04-1」のものです"),
    "指標ID typed over": (_id_typed_over("99-9"), "シート「小樽市」の指標IDが書き換えられています（小樽市!A21「99-9」"
                                                 "（配布時は「05-1」））"),
    "指標ID typed over as another": (_id_typed_over("04-1"), "指標IDが書き換えられています（小樽市!A21「04-1」（配布時は"
                                                            "「05-1」））"),
    "指標ID cleared": (_id_typed_over(None), "指標IDが書き換えられています（小樽市!A21「（空欄）」（配布時は「05-1」））"),
    "指標ID and 評価指標 typed over": (_id_typed_over("99-9", names_too=True),
                                     "指標IDが書き換えられています（小樽市!A21「99-9」（配布時は「05-1」））"),
    "xlsm with VBA": (lambda p, t: _with_vba(p, t, ".xlsm"), "マクロ（VBA）"),
    "VBA in an .xlsx": (lambda p, t: _with_vba(p, t, ".xlsx"), "マクロ（VBA）"),
    "password-encrypted": (_encrypted, "パスワードで暗号化されています"),
    "truncated zip": (_truncated, "壊れています"),
    "text renamed .xlsx": (_text_file, "Excel ブック（.xlsx）ではありません（中身は文字のファイル（CSV など）です）。配布した"),
    "ten thousand parts": (_ten_thousand_parts, "ブックの部品が多すぎます（10,0"),
    "Unicode text renamed .xlsx": (_unicode_text, "（中身は文字のファイル（Unicode テキスト）です）。配布した"),
    "file of 0 bytes": (_emptied, "空のファイル（0 バイト）です。保存やコピーが途中で"),
    ".ods renamed .xlsx": (_package_renamed(_ODS), "中身は OpenDocument 形式（.ods）です）。そのファイルを開き、"),
    ".xlsb renamed .xlsx": (_package_renamed(_XLSB), "中身は Excel バイナリ ブック（.xlsb）です）。そのファイルを開き、"),
    "xlsx renamed .xlsm": (lambda p, t: p.rename(p.with_suffix(".xlsm")), "拡張子を .xlsx に戻して"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refused_file_leaves_master_byte_identical(cycle, tmp_path, case):
    master, _, filled = cycle
    make, reason = REFUSALS[case]
    bad = make(filled["小樽市"], tmp_path)
    before = master.read_bytes()
    report = collect(master, [bad])
    assert master.read_bytes() == before
    assert report.written is None and report.changes == [] and report.records == []
    assert [r.path.name for r in report.refused] == [bad.name]
    assert reason in report.refused[0].reason, report.refused[0].reason
    assert f"・{bad.name}: {report.refused[0].reason}" in collect_lines(report)     # on its one line


def test_collect_reads_each_sheet_of_a_return_once(cycle, monkeypatch):
    """A return's first sheet was parsed, checked and read by calamine three times per
    collect (the identifier block for its errors, again for whose it is, then as the
    municipality's table): ReturnedBook.grid now reads a sheet once per file. The twelve
    returns still come in whole. The hidden 選択肢 is read only where its part may hold a note
    (inspect._choices_may_hold_more), which split's never does."""
    from renkei_xl.workbook import returned

    master, _, filled = cycle
    read, check = [], returned.check_sheet_xml
    monkeypatch.setattr(returned, "check_sheet_xml", lambda name, *a, **k: read.append(name) or check(name, *a, **k))
    report = collect(master, list(filled.values()))
    assert report.written is not None and not report.refused and len(report.records) == len(filled), report.refused
    assert sorted(read) == sorted(filled), read         # each municipality's sheet, once


def test_a_return_of_many_sheets_asks_the_book_once_not_per_sheet(cycle, monkeypatch):
    """Every sheet of a return is read (an added sheet may hold answers), and each read asked
    the book again for its duration styles (workbook.xml's relationships and styles.xml
    reread) and for its calcPr (workbook.xml searched past every tab), so the cost grew with
    the square of the sheets: 3,000 empty sheets took 5 s, 20,000 (a 5 MB file) ran past two
    minutes. Each is asked once per file now (qa-returns64)."""
    from renkei_xl.package.workbook import WorkbookXml
    from renkei_xl.workbook import returned

    master, _, filled = cycle
    path = filled["小樽市"]
    n = 40
    empty = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>'
    members = {}
    with zipfile.ZipFile(path) as zf:
        members = {i: zf.read(i) for i in zf.namelist()}
    members["xl/workbook.xml"] = members["xl/workbook.xml"].replace(b"</sheets>", b"".join(
        b'<sheet name="S%d" sheetId="%d" r:id="rX%d"/>' % (k, 100 + k, k) for k in range(n)) + b"</sheets>")
    members["xl/_rels/workbook.xml.rels"] = members["xl/_rels/workbook.xml.rels"].replace(b"</Relationships>", b"".join(
        b'<Relationship Id="rX%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        b'Target="worksheets/x%d.xml"/>' % (k, k) for k in range(n)) + b"</Relationships>")
    members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(b"</Types>", b"".join(
        b'<Override PartName="/xl/worksheets/x%d.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        b'spreadsheetml.worksheet+xml"/>' % k for k in range(n)) + b"</Types>")
    members.update({f"xl/worksheets/x{k}.xml": empty for k in range(n)})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    asked = {"durations": 0, "calcPr": 0}
    durations, setting = returned.duration_styles, WorkbookXml.calc_setting
    monkeypatch.setattr(returned, "duration_styles",
                        lambda *a: asked.__setitem__("durations", asked["durations"] + 1) or durations(*a))
    monkeypatch.setattr(WorkbookXml, "calc_setting",
                        lambda self, name: asked.__setitem__("calcPr", asked["calcPr"] + 1) or setting(self, name))
    report = collect(master, [path], dry_run=True)
    assert not report.refused and [r.file_name for r in report.records] == [path.name], report.refused
    # calcPr: the return's calcMode, calcOnSave and fullPrecision, and the master's own; not per sheet (46 before)
    assert asked["durations"] == 1 and asked["calcPr"] <= 5, asked


def _pasted_over_a_hidden_row(path: Path) -> Path:
    """小樽市 hides 05-1's row (the sheet lets rows be hidden, no protection lifted) and pastes
    its three answers for 04-1, 06-1 and 08-1 over G20:G22: Excel fills the hidden row too."""
    def edit(ws, top, cols):
        ws.row_dimensions[top + 2].hidden = True
        for r, value in zip(range(top + 1, top + 5), (2, 1, 3, None)):
            ws.cell(r, cols["実績値"]).value = value
    return _on_the_sheet(path, edit, unprotect=False)


def test_answers_pasted_over_a_hidden_row_are_refused_naming_it_and_taken_once_it_is_shown(cycle):
    """The paste put 1 into the hidden 05-1 and moved 3 and nothing into 06-1 and 08-1: it was
    imported as it stood, wrong in three rows nobody saw. Refused whole, naming the hidden row;
    shown again (the values checked), the same file is taken."""
    master, _, filled = cycle
    _pasted_over_a_hidden_row(filled["小樽市"])
    before = master.read_bytes()
    [refusal] = collect(master, [filled["小樽市"]]).refused
    assert refusal.reason.startswith("シート「小樽市」の非表示の行（21 行目）に、配布時から変わった値があります"
                                     "（小樽市!G21（05-1））"), refusal.reason
    assert master.read_bytes() == before

    _on_the_sheet(filled["小樽市"], lambda ws, top, cols: setattr(ws.row_dimensions[top + 2], "hidden", False),
                  unprotect=False)
    assert not collect(master, [filled["小樽市"]]).refused
    assert cell_of(master, "小樽市", "05-1", "実績値") == 1


@pytest.mark.parametrize("typed, words", [("10-20", "範囲の表記（「-」）"), ("１０－２０件", "範囲の表記（「－」）")])
def test_a_range_typed_with_a_dash_in_a_returned_file_is_refused_as_a_range(cycle, capsys, typed, words):
    """「10-20」 typed by a municipality: its row is held, and the reason says it is a range
    (it said 「単位「-20」を認識できません」, as if the second number were a unit)."""
    master, _, filled = cycle
    set_cell(master, "小樽市", "04-1", "実績値", 7)
    set_cell(filled["小樽市"], "小樽市", "04-1", "実績値", typed)
    code = main(["collect", str(master), str(filled["小樽市"])])
    out = capsys.readouterr().out
    assert code == 1
    line = next(ln for ln in out.splitlines() if "取り込みません" in ln and "04-1" in ln)
    assert f"「{typed}」" in line and words in line and "単位" not in line, out
    assert cell_of(master, "小樽市", "04-1", "実績値") == 7


def test_a_hidden_row_left_as_issued_is_no_reason_to_refuse(cycle):
    master, _, filled = cycle
    _on_the_sheet(filled["小樽市"], lambda ws, top, cols: setattr(ws.row_dimensions[top + 2], "hidden", True),
                  unprotect=False)
    assert not collect(master, [filled["小樽市"]]).refused


def test_a_refused_value_keeps_the_masters_row_and_the_cli_says_where(cycle, capsys):
    """A value the master's rules refuse: its row is not imported (the master keeps its
    value), the other rows are, and the cell is named in the report and on 取込履歴.
    Fifty held in one return: the message names ten and says the rest are on 取込履歴, and
    取込履歴 holds every one. It named 20 and counted 30, and 入力チェック names none of them
    (the master keeps a value its rules accept, empty or earlier): 30 answers of 札幌市
    were recorded nowhere, and a second collect of the file says it was imported already."""
    from renkei_xl.workbook.session import validate_file

    master, _, filled = cycle
    set_cell(master, "札幌市", "04-1", "実績値", 7)   # the master's value, kept

    def approximate(path):
        """「約10件」 typed into 実績値 of the sheet's first 50 rows: (cell, 指標ID) of each."""
        wb = openpyxl.load_workbook(path)
        ws = wb["札幌市"]
        top, cols = header_row(ws)
        rows = [r for r in range(top + 1, ws.max_row + 1) if ws.cell(r, cols["指標ID"]).value]
        for r in rows[:50]:
            ws.cell(r, cols["実績値"]).value = "約10件"
        wb.save(path)
        return ([(ws.cell(r, cols["実績値"]).coordinate, ws.cell(r, cols["指標ID"]).value) for r in rows[:50]],
                next(ws.cell(r, cols["指標ID"]).value for r in rows[50:] if ws.cell(r, cols["実績値"]).value is not None))
    typed, last = saved_once(filled["札幌市"], ("fifty approximate",), approximate)
    code = main(["collect", str(master), str(filled["札幌市"])])
    out = capsys.readouterr().out
    assert code == 1
    row_041 = dict((i, cell) for cell, i in typed)["04-1"]
    assert f"取り込みません: 札幌市_2023年度_入力.xlsx: 札幌市!{row_041} 04-1: " in out and "約10件" in out, out
    log = import_log(master)
    assert log[0][6] == "取り込まなかったセル"
    recorded = re.findall(r"札幌市!([A-Z]+\d+)（実績値: 「約10件」は概数・見込みの表記）", log[1][6])
    assert recorded == [cell for cell, _i in typed] and "ほか" not in log[1][6], log[1][6]
    assert "取り込まなかったセル 50 か所" in out and "どのセルもシート「取込履歴」の「取り込まなかったセル」に記録しました" in out
    assert "　…ほか 40 か所（シート「取込履歴」の「取り込まなかったセル」にあります）" in out, out
    assert cell_of(master, "札幌市", "04-1", "実績値") == 7
    assert cell_of(master, "札幌市", last, "実績値") is not None    # the other rows came in
    # 入力チェック on the master after it names none of those rows: 取込履歴 is the one record of them
    result, _ = validate_file(master, write=False)
    assert not {f.indicator_id for f in result.findings if f.sheet == "札幌市"} & {i for _c, i in typed}


def test_input_cells_merged_across_rows_hold_both_rows_and_keep_the_masters_values(cycle, capsys):
    """実績値 of 04-1 and 06-1 merged into one cell showing 9 (the protection lifted): Excel
    keeps only the first cell's value, so 06-1 read as emptied and its value was replaced
    by nothing, without a word. Both rows are held, named, the master's values kept."""
    master, _, filled = cycle
    before = {i: cell_of(master, "小樽市", i, "実績値") for i in ("04-1", "06-1")}

    def edit(ws, top, cols):
        rows = {ws.cell(r, cols["指標ID"]).value: r for r in range(top + 1, ws.max_row + 1)}
        assert rows["06-1"] == rows["04-1"] + 2
        col = cols["実績値"]
        ws.cell(rows["04-1"], col).value = 9
        ws.merge_cells(start_row=rows["04-1"], start_column=col, end_row=rows["06-1"], end_column=col)
    _on_the_sheet(filled["小樽市"], edit)
    code = main(["collect", str(master), str(filled["小樽市"])])
    out = capsys.readouterr().out
    assert code == 1
    for ind_id in ("04-1", "05-1", "06-1"):
        assert re.search(rf"取り込みません: 小樽市_2023年度_入力\.xlsx: 小樽市!G\d+ {ind_id}: 実績値のセルが結合されています"
                         r"（G20:G22）", out), out
    assert {i: cell_of(master, "小樽市", i, "実績値") for i in ("04-1", "06-1")} == before
    assert cell_of(master, "小樽市", "08-1", "実績値") is not None    # the other rows came in


def test_a_number_typed_into_status_instead_of_the_value_holds_the_row(cycle, capsys):
    """04-1's answer typed into 実施状況, 実績値 left empty: it was imported as the status, and
    the total summed without 小樽市's number. The row is held and named, the master kept."""
    master, _, filled = cycle
    set_cell(master, "小樽市", "04-1", "実績値", 5)
    set_cell(filled["小樽市"], "小樽市", "04-1", "実績値", None)
    out = _otaru_held(master, filled, capsys, "04-1", "実施状況", 7)
    assert re.search(r"取り込みません: 小樽市_2023年度_入力\.xlsx: 小樽市!I\d+ 04-1: 実績値が空欄で、実施状況に数値「7」だけ", out), out
    assert cell_of(master, "小樽市", "04-1", "実績値") == 5 and cell_of(master, "小樽市", "04-1", "実施状況") is None
    assert cell_of(master, "小樽市", "06-1", "実績値") is not None    # the other rows came in


def test_a_returned_status_shown_as_a_rough_figure_beside_an_empty_value_holds_the_row(cycle, capsys):
    """小樽市 leaves 04-1's 実績値 empty and types 10 into 実施状況, formatted 「"約"0」: the
    cell shows 「約10」, read as that text, and was imported as the status, 小樽市's figure
    left out of the total without a word (a bare 10 was held). Held and named, as 10 is."""
    master, _, filled = cycle
    set_cell(filled["小樽市"], "小樽市", "04-1", "実績値", None)
    place = formatted_return(filled["小樽市"], "04-1", "実施状況", 10, '"約"0')
    assert main(["collect", str(master), str(filled["小樽市"])]) == 1
    out = capsys.readouterr().out
    assert re.search(r"取り込みません: 小樽市_2023年度_入力\.xlsx: 小樽市!I\d+ 04-1: 実績値が空欄で、実施状況に数値「約10」だけ", out), out
    assert cell_of(master, "小樽市", "04-1", "実施状況") is None
    assert cell_of(master, "小樽市", "06-1", "実績値") is not None    # the other rows came in


def test_a_returned_status_of_excels_full_cell_is_held_because_the_tool_writes_one_less(cycle, capsys):
    """A 実施状況 of Excel's full 32,767 characters is only a warning in the master (一覧 shows
    it cut), but importing it means the tool writes it into the master's cell, and the
    buttons' text prefix counts against Excel's limit: the row is held and named, as before."""
    master, _, filled = cycle
    out = _otaru_held(master, filled, capsys, "04-1", "実施状況", "あ" * 32_767)
    assert re.search(r"取り込みません: 小樽市_2023年度_入力\.xlsx: 小樽市!\w+\d+ 04-1: 実施状況が32,767文字あり", out), out
    assert not cell_of(master, "小樽市", "04-1", "実施状況")


@pytest.mark.parametrize("typed", [dt.datetime(2023, 10, 10), dt.time(10, 30)])
def test_a_status_excel_saved_as_a_date_is_held_not_written_as_its_serial(cycle, capsys, typed):
    """「10/10」 typed into 実施状況 is saved by Excel as a date (of the year it was typed in).
    The file face wrote it into the master as its serial number, 45209 (and 一覧 would have
    shown 「45209」), the buttons as a date: the row is held and the cell named, on every face
    alike, and the master keeps its value."""
    master, _, filled = cycle
    out = _otaru_held(master, filled, capsys, "04-1", "実施状況", typed)
    held = "日付" if isinstance(typed, dt.datetime) else "時刻"       # a date is no 数値 to staff (findings.held_as)
    assert re.search(r"取り込みません: 小樽市_2023年度_入力\.xlsx: 小樽市!I\d+ 04-1: 実施状況「[-:\d ]+」"
                     rf"(（セルの{held}は [-:\d]+）)?"
                     r"が日付・時刻として"
                     r"保存されています", out), out
    assert cell_of(master, "小樽市", "04-1", "実施状況") is None
    assert cell_of(master, "小樽市", "06-1", "実績値") is not None    # the other rows came in


@pytest.mark.parametrize("number_format, seen", [
    ('[$-411]ggge"年"', "令和5年"), ('[$-411]ge"年"', "R5年"),
    ('[$-411]ggge"年"m"月"d"日"', "令和5年3月15日")])
def test_a_status_shown_as_a_japanese_era_date_is_held(cycle, capsys, number_format, seen):
    """45000 in 04-1's 実施状況, formatted 和暦 「[$-411]ggge"年"」 (the cell shows 令和5年): the era
    was not made, and a format of an era and a year alone is none python-calamine reads as a
    date, so collect imported 「45000」 into the master without a word. It is held as a date,
    as 「10/10」 is, quoting what the cell shows and the date beside it (core.displayed.date_shown
    gives the era-only formats their date, as calamine gives the others, forms62)."""
    master, _, filled = cycle
    place = formatted_return(filled["小樽市"], "04-1", "実施状況", 45000, number_format)
    rc = main(["collect", str(master), str(filled["小樽市"])])
    out = capsys.readouterr().out
    assert rc == 1, out
    assert (f"{place} 04-1: 実施状況「{seen}」（セルの日付は 2023-03-15）が日付・時刻として"
            "保存されています") in out, out
    assert cell_of(master, "小樽市", "04-1", "実施状況") is None, out


@pytest.mark.parametrize("typed, number_format, seen, held", [
    (dt.datetime(2023, 10, 10), 'm"月"d"日"', "10月10日", "日付は 2023-10-10"),
    (dt.datetime(2023, 10, 10), "ge.m.d", "R5.10.10", "日付は 2023-10-10"),
    (dt.datetime(2023, 10, 10, 10, 30), 'm"月"d"日" h:mm', "10月10日 10:30", "日時は 2023-10-10 10:30:00"),
    (dt.time(10, 30), 'h"時"mm"分"', "10時30分", "時刻は 10:30:00"),   # was quoted 「10:30:00」
])
def test_a_returned_date_is_quoted_as_its_cell_shows_it(cycle, capsys, typed, number_format, seen, held):
    """「10月10日」 typed into 05-1's 実績値 is a date in the returned file; the row was held
    quoting 「2023-10-10」, which the municipality's cell does not show. The quote is the
    cell's text, the date beside it, called a date (日付, 時刻, 日時: 「（セルの数値は 2023-10-10）」
    called it a number, which staff do not call a date); the row is still held."""
    master, _, filled = cycle
    place = formatted_return(filled["小樽市"], "05-1", "実績値", typed, number_format)
    assert main(["collect", str(master), str(filled["小樽市"])]) == 1
    out = capsys.readouterr().out
    assert re.search(rf"小樽市!G\d+ 05-1: [^\n]*「{re.escape(seen)}」（セルの{held}）", out), out
    assert cell_of(master, "小樽市", "05-1", "実績値") is None


@pytest.mark.parametrize("value, held", [
    (dt.datetime(2023, 10, 10), "日付"), (dt.date(2023, 10, 10), "日付"), (dt.datetime(2023, 10, 10, 10, 30), "日時"),
    (dt.time(1, 5), "時刻"), (dt.timedelta(hours=1), "時刻"), (dt.timedelta(hours=36), "日時"), (0.85, "数値"), (12, "数値"),
])
def test_what_a_quoted_cell_holds_is_named_in_staff_words(value, held):
    """The one rule of the words after a quote (findings.held_as): a date is 「セルの日付は
    2023-10-10」, a time 「セルの時刻は 1:05:00」, never 「セルの数値は」 for either."""
    from renkei_xl.core.findings import held_as

    assert held_as(value) == held


def test_a_returned_finding_quotes_its_own_cell_as_shown_not_a_neighbour_of_the_same_number(cycle, capsys):
    """小樽市 types 2.5 into 05-1's 実績値 (a count) and 2.5 into the 分母 beside it, which it
    formats 0.00 (shown 2.50). Findings quote what a cell shows, found by the quoted text: the
    分母's 「2.50」 was lent to the 実績値's quote, 「実績値「2.50」（セルの数値は 2.5）は件数・人数
    なのに小数です」, a text the 実績値 cell does not show. Each quote is its own cell's."""
    master, _, filled = cycle
    wb = openpyxl.load_workbook(filled["小樽市"])
    ws = wb["小樽市"]
    row, cols = id_row(ws, "05-1")
    ws.cell(row, cols["実績値"]).value = 2.5
    ws.cell(row, cols["分母"]).value = 2.5
    ws.cell(row, cols["分母"]).number_format = "0.00"
    wb.save(filled["小樽市"])
    assert main(["collect", str(master), str(filled["小樽市"])]) == 1
    out = capsys.readouterr().out
    assert "実績値「2.5」は件数・人数なのに小数です" in out, out
    assert "実績値「2.50」" not in out, out


@pytest.mark.parametrize("value, number_format, said", [
    (10, '0"以上"', "「10以上」は範囲の表記"),
    (12000, '#,##0,"千円"', "実績値「12千円」の単位"),
    (85, '0.0"%"', "実績値「85.0%」（セルの数値は 85）の単位"),
    (1, '"実施";"未実施"', "数値を入力するセルに「実施」と入力されています"),
    (1234, '#,##0"件"', None),
    (12000, '0.0E+0"千円"', "実績値「12000千円」"),             # scientific shows 1.2E+4千円: its words read
    (12000, '# ?/?"千円"', "実績値「12000 千円」"),             # a fraction's words too
    (12000, '0.0E+0"件"', None),                               # words of the row's own unit: the number
    # A negative section's own sign marks are its sign, not a second one (read 「▲-12000」,
    # unreadable, before): the stored number, refused as any negative 件 is.
    (-12000, '0.00E+00;"▲"0.00E+00', "実績値「-12000」は負の値です"),       # ▲1.20E+04
    (-12000, '0.0E+0"件";"▲"0.0E+0"件"', "実績値「▲12000件」は負の値です"),   # ▲1.2E+4件
    (5, '[<10]"10未満";0', "「10未満」は範囲の表記"),         # the section a condition chose shows words
    (12, '[<10]"10未満";0', None),                            # ... and the section it did not, the number
    (-3, '[<10]"10未満";[>=100]"100以上";0', "「10未満」は範囲の表記"),
    (150, '[<10]"10未満";[>=100]"100以上";0', "「100以上」は範囲の表記"),
    (50, '[<10]"10未満";[>=100]"100以上";0', None),
    (5000, '[>=1000]#,##0,"千件";0', None),                   # 5千件: the number 5000, read with its scale
    # Scaled with no word for the scale: 「12」 was imported as 12 where the cell holds 12000
    # (qa-fuzz63); 12 and 12000 are each a guess, the row is held
    (12000, '#,##0,', "実績値「12」は、セルの数値 12000 が表示形式「#,##0,」で桁を縮めて表示されたもの"),
    (3000000, '#,##0,,', "実績値「3」は、セルの数値 3000000 が表示形式「#,##0,,」で桁を縮めて"),
    (5000, '[>=1000]#,##0,;0', "実績値「5」は、セルの数値 5000 が表示形式"),
    (500, '[>=1000]#,##0,;0', None),                          # the section it did not take: 500
    # a negative section's own sign, whichever mark: the minus sign U+2212 was read as a
    # word, and 「−12」 imported as -12 where 「-12」 and 「▲12」 were held (review63b)
    (-12000, '#,##0,;"−"#,##0,', "実績値「−12」は、セルの数値 -12000 が表示形式"),
    (-12000, '#,##0,;"▲"#,##0,', "実績値「▲12」は、セルの数値 -12000 が表示形式"),
    # ... and the full-width and small hyphen-minus, which the value reader reads as a minus
    # too: 「－12」 and 「﹣12」 were imported as -12 (stop 63)
    (-12000, '#,##0,;"－"#,##0,', "実績値「－12」は、セルの数値 -12000 が表示形式"),
    (-12000, '#,##0,;"﹣"#,##0,', "実績値「﹣12」は、セルの数値 -12000 が表示形式"),
    (12000, 'General"千円"', "実績値「12000千円」の単位"),           # 標準 among words (「G/標準"千円"」)
    (10, 'General"以上"', "「10以上」は範囲の表記"),
    (1234, 'General"件"', None),
])
def test_a_returned_number_is_read_as_the_words_its_format_shows(cycle, capsys, value, number_format, said):
    """小樽市 types 10 into 05-1's 実績値 (件) and formats it 0"以上": its cell shows 「10以上」, a
    bound the master refuses when typed, yet collect imported the bare 10 without a word (and
    12000 shown 「12千円」 as 12000件, 85 shown 「85.0%」 as 85件, 1 shown 「実施」 as 1件). The
    number is read as the text its format shows (core.displayed.number_read), as a percentage
    already was; a unit the row counts in (件) still imports the number."""
    master, _, filled = cycle
    place = formatted_return(filled["小樽市"], "05-1", "実績値", value, number_format)
    rc = main(["collect", str(master), str(filled["小樽市"])])
    out = capsys.readouterr().out
    if said is None:
        assert rc == 0 and cell_of(master, "小樽市", "05-1", "実績値") == value, out
    else:
        assert rc == 1 and said in out and f"{place} 05-1" in out, out
        assert cell_of(master, "小樽市", "05-1", "実績値") is None, out      # held, not imported


# (指標ID, number typed into its 実績値, the cell's format, what the cell shows)
_SIGNS_SHOWN = (("05-1", -12, '0"件";0"件"', "12件"),      # was imported as 12 without a word
                ("04-1", -12, "0;0", "12"),                # 「実績値「12」（セルの数値は -12）は負の値です」
                ("06-1", 12, '"▲"0', "▲12"),
                ("08-1", 12, '"▲"0.00E+00', "▲1.20E+01"),   # scientific: read 「▲12」 as its words
                ("23-1", -0.5, "0%;0%", "50%"))             # qa-values64c: read as the 50% shown
# qa-values64c: a 実施状況 so shown was taken as the text 「-12」 (the number stored) or 「12件」
# (the words shown), without a word
_STATUS_SIGNS = (("04-1", -12, "0;0", "12"), ("05-1", -12, '0"件";0"件"', "12件"))


def test_a_returned_number_shown_with_another_sign_is_held_naming_what_it_shows(cycle, capsys):
    """小樽市's 05-1 実績値 holds -12 in 「0"件";0"件"」: the cell shows 12件, and collect imported
    12 without a word; -12 in 「0;0」 was said to be 「実績値「12」… 負の値です」, a number its
    cell shows positive. The master refuses its own such cell (qa-values64, core.displayed.
    sign_shown_otherwise, the one rule); a return's row is held alike (findings.SHOWN_OTHERWISE),
    naming file, sheet, cell and what Excel shows. One collect of four such cells."""
    master, _, filled = cycle
    path = filled["小樽市"]
    wb = openpyxl.load_workbook(path)
    ws = wb["小樽市"]

    def typed(cases, header: str) -> dict[str, str]:
        """Each case's number and format put into its row's ``header`` cell: 指標ID → its place."""
        out = {}
        for ind_id, value, number_format, _seen in cases:
            row, cols = id_row(ws, ind_id)
            cell = ws.cell(row, cols[header])
            cell.value, cell.number_format = value, number_format
            out[ind_id] = f"{ws.title}!{cell.coordinate}"
        return out

    places, statuses = typed(_SIGNS_SHOWN, "実績値"), typed(_STATUS_SIGNS, "実施状況")
    wb.save(path)
    rc = main(["collect", str(master), str(path)])
    out = capsys.readouterr().out
    assert rc == 1, out
    for ind_id, value, number_format, seen in _STATUS_SIGNS:
        assert (f"{path.name}: {statuses[ind_id]} {ind_id}: 実施状況のセルには数値 {value} が入っていますが、"
                f"表示形式「{number_format}」のため Excel では「{seen}」と表示されています") in out, out
    for ind_id, value, number_format, seen in _SIGNS_SHOWN:
        assert (f"{path.name}: {places[ind_id]} {ind_id}: 実績値のセルには数値 {value} が入っていますが、"
                f"表示形式「{number_format}」のため Excel では「{seen}」と表示されています") in out, out
        assert f"実績値「{seen}」" not in out, out
        assert cell_of(master, "小樽市", ind_id, "実績値") is None, out        # held, not imported
    assert cell_of(master, "小樽市", "28-1", "実績値") is not None, out        # the other rows came in


@pytest.mark.parametrize("value, number_format, imported", [
    (5, '[<10]"10未満";0', None),
    (-3, '[<10]"10未満";0', None),
    (1, '"実施";"未実施"', None),                  # words alone, without a condition: none of the number
    (12, '[<10]"10未満";0"件"', "12件"),           # the section not chosen by the condition: its digits
    (12345, '0.0E+0"件"', None),                   # scientific with words: shows 1.2E+4件, none of 12345's digits
])
def test_a_returned_status_its_format_shows_as_words_alone_is_held(cycle, capsys, value, number_format, imported):
    """小樽市 types 5 into 04-1's 実施状況, formatted 「[<10]"10未満";0」: the cell shows 「10未満」,
    and collect imported 「5」 into the master without a word (the format's condition chose the
    section, and a condition was not read). A 実施状況 is taken as shown only where it shows
    its number's every digit (12 in 0"件" → 「12件」); 「10未満」 shows none of 5, so the row is
    held, the cell named, the master kept."""
    master, _, filled = cycle
    place = formatted_return(filled["小樽市"], "04-1", "実施状況", value, number_format)
    rc = main(["collect", str(master), str(filled["小樽市"])])
    out = capsys.readouterr().out
    if imported is not None:
        assert rc == 0 and cell_of(master, "小樽市", "04-1", "実施状況") == imported, out
        return
    seen = {1: "実施", 12345: "12345件"}.get(value, "10未満")
    assert rc == 1, out
    assert (f"{place} 04-1: 実施状況「{seen}」が数値（{value}）に"
            "表示形式で文字を付けて保存されており") in out, out
    assert cell_of(master, "小樽市", "04-1", "実施状況") is None, out       # held, not imported
    assert cell_of(master, "小樽市", "06-1", "実績値") is not None, out    # the other rows came in


_NOTHING = "何も表示されていません"


@pytest.mark.parametrize("header, value, number_format, shows", [
    ("実績値", 12, ";;;", _NOTHING), ("実施状況", 12, ";;;", _NOTHING), ("実績値", -5, "0;;", _NOTHING),
    ("実績値", 5, '[<10]"";0', _NOTHING),
    ("実績値", 0, "0;-0;;@", None),              # a zero shown blank, the common way to hide zeros: 0
    # A section of 「#」 that the number rounds below shows none of its digits (qa-88):
    ("実績値", 0.3, '#"千円"', "「千円」とだけ表示され、数値の桁が表示されていません"),   # was imported as 300 円
    ("実績値", 0.4, "#,###", _NOTHING), ("実績値", 0.04, "#.#", "「.」とだけ表示され、数値の桁が表示されていません"),
    ("実施状況", 0.3, '#"件"', "「件」とだけ表示され、数値の桁が表示されていません"),
    ("実績値", 0, "#,###", None),                # zero hidden by 「#」: still 0
    # the 「#」 formats municipalities use, with ordinary numbers: shown, so imported
    ("実績値", 12, "#,###", None), ("実績値", 1234, '#,###"件"', None), ("実績値", 7, "#.#", None),
])
def test_a_returned_number_its_format_shows_as_nothing_is_held(cycle, capsys, header, value, number_format, shows):
    """小樽市 types 12 into 05-1's 実績値 and formats it 「;;;」: the form shows an empty cell, and
    collect imported 12 without a word (a number nobody sees on the form; read as empty it
    would be a figure dropped). Either is a guess (SPEC §3): the row is held, the cell, the
    number and the format named, the master kept. A hidden zero is 0. So is a number its
    「#」 section rounds to no digit: 0.3 in 「#"千円"」 shows 「千円」 alone and was read 「0.3千円」,
    imported as 300 円 nobody at the municipality could see; the message says what the cell
    shows, which a staff member checks against it."""
    master, _, filled = cycle
    place = formatted_return(filled["小樽市"], "05-1", header, value, number_format)
    rc = main(["collect", str(master), str(filled["小樽市"])])
    out = capsys.readouterr().out
    if shows is None:
        assert rc == 0 and cell_of(master, "小樽市", "05-1", header) == value, out
        return
    assert rc == 1, out
    assert (f"{place} 05-1: {header}のセルに数値 {value} が入っていますが、"
            f"表示形式「{number_format}」のため{shows}") in out, out
    for word in re.findall(r'"([^"]+)"', number_format):
        assert f"{value}{word}" not in out, out                       # not read with its words
    assert cell_of(master, "小樽市", "05-1", header) is None, out       # held, not imported
    assert cell_of(master, "小樽市", "06-1", "実績値") is not None, out    # the other rows came in


@pytest.mark.parametrize("as_displayed", [False, True])
def test_a_returned_file_without_a_styles_part_is_read_by_its_values(cycle, capsys, as_displayed):
    """A returned file with no styles part (xl/styles.xml, its relationship and content type
    gone: a tool that writes no formats) stopped the whole collect with 「エラー: 「マスター.xlsx」:
    「小樽市_….xlsx」に書式の部品（styles.xml）がありません」, blaming the master; in a book set to
    precision as displayed the file was refused. Its values need no styles: it is read by
    them, as a file whose styles.xml cannot be read is."""
    master, _, filled = cycle
    wb = openpyxl.load_workbook(filled["小樽市"])
    ws = wb["小樽市"]
    row, cols = id_row(ws, "05-1")
    ws.cell(row, cols["実績値"]).value = 2.5
    if as_displayed:
        wb.calculation.fullPrecision = False
    wb.save(filled["小樽市"])
    rewrite_zip(filled["小樽市"], filled["小樽市"], drop=("xl/styles.xml",), replace={
        "xl/_rels/workbook.xml.rels": lambda x: re.sub(rb"<Relationship[^>]*styles[^>]*/>", b"", x),
        "[Content_Types].xml": lambda x: re.sub(rb"<Override[^>]*styles[^>]*/>", b"", x)})
    rc = main(["collect", str(master), str(filled["小樽市"])])
    out = capsys.readouterr().out
    assert rc == 1 and "05-1: 実績値「2.5」は件数・人数なのに小数です" in out, out
    assert cell_of(master, "小樽市", "06-1", "実績値") is not None, out    # the other rows came in


@pytest.mark.parametrize("header, value", [("実施状況", True), ("実施状況", False), ("実績値", True)])
def test_a_returned_check_box_or_typed_true_is_held_not_imported(cycle, capsys, header, value):
    """A check box put over 実施状況 (its linked cell holds TRUE/FALSE), or TRUE typed into an
    input cell of the returned file: 04-1's 実施状況 was imported into the master as the
    boolean, with a warning only that 指標's text replaces it (one 一覧 shows was published
    as 「TRUE」), and a 実績値 was 「「TRUE」を…読めません」. The row is held, the cell named as
    a TRUE/FALSE, and the master keeps its value."""
    master, _, filled = cycle
    out = _otaru_held(master, filled, capsys, "04-1", header, value)
    assert re.search(rf"取り込みません: 小樽市_2023年度_入力\.xlsx: 小樽市!\w+\d+ 04-1: {header}が TRUE/FALSE（論理値）の"
                     rf"「{str(value).upper()}」です", out), out
    assert cell_of(master, "小樽市", "04-1", header) is None
    assert cell_of(master, "小樽市", "06-1", "実績値") is not None    # the other rows came in


def test_a_returned_figure_worded_as_the_target_is_held_not_read_as_a_number(cycle, capsys):
    """小樽市 copies 05-1's grey 目標値 「５件（毎年度）」 into 実績値: it was imported and read as
    5 (◎ against 5), without a word. The row is held and named; the master keeps its value."""
    master, _, filled = cycle
    out = _otaru_held(master, filled, capsys, "05-1", "実績値", "５件（毎年度）")
    assert re.search(r"取り込みません: 小樽市_2023年度_入力\.xlsx: 小樽市!G\d+ 05-1: 実績値「５件（毎年度）」に、目標の"
                     r"書き方の注記「（毎年度）」が付いています", out), out
    assert cell_of(master, "小樽市", "05-1", "実績値") is None


@pytest.mark.parametrize("actual", [None, 7])
def test_a_returned_figure_in_the_denominator_of_a_row_without_one_is_held(cycle, capsys, actual):
    """小樽市 lifts the protection and types its 05-1 figure one column right, into 分母 (it was
    open on every row of the file; now only on a 比率's):
    05-1 is a 合計 and reads no 分母, so the 「7」 was imported where nothing reads it, 実績値
    left as it was, and collect said nothing (exit 0). The row is held and named, beside an
    empty 実績値 and beside a filled one alike; the master keeps its values."""
    master, _, filled = cycle
    set_cell(filled["小樽市"], "小樽市", "05-1", "実績値", actual)
    out = _otaru_held(master, filled, capsys, "05-1", "分母", 7)
    assert re.search(r"取り込みません: 小樽市_2023年度_入力\.xlsx: 小樽市!H\d+ 05-1: 集計方法「合計」の指標は分母を"
                     r"使わないため、分母「7」は使われません（この行は取り込まず", out), out
    assert cell_of(master, "小樽市", "05-1", "分母") is None
    assert cell_of(master, "小樽市", "05-1", "実績値") is None
    assert cell_of(master, "小樽市", "06-1", "実績値") is not None    # the other rows came in


def test_a_denominator_the_master_held_when_issued_holds_no_return(tmp_path, capsys):
    """A 分母 staff left on a 合計 row of the master (入力チェック warns of it there) goes out in
    the file and comes back as it went: the municipality typed nothing there, and holding the
    row would hold every return of it for good. It is imported, as before."""
    master = sample_master(tmp_path / "マスター.xlsx")
    set_cell(master, "小樽市", "05-1", "分母", 3)
    returned = split_master(master, tmp_path / "配布")
    path = next(p for p in returned if p.name.startswith("小樽市"))
    set_cell(path, "小樽市", "05-1", "実績値", 4)
    assert main(["collect", str(master), str(path)]) == 0, capsys.readouterr().out
    assert cell_of(master, "小樽市", "05-1", "実績値") == 4


def _set_method(master: Path, ind_id: str, method: str) -> None:
    """``ind_id``'s 集計方法 on 指標 made ``method``, saved by openpyxl once per content and
    edit (conftest.saved_once: the same sample master in both cases of the test below)."""
    saved_once(master, ("_set_method", ind_id, method), lambda p: _method_set(p, ind_id, method))


def _method_set(master: Path, ind_id: str, method: str) -> None:
    wb = openpyxl.load_workbook(master)
    ws = wb[c.INDICATORS]
    header = next(r for r in range(1, 10) if "集計方法" in [x.value for x in ws[r]])
    heads = [x.value for x in ws[header]]
    row = next(r for r in range(header + 1, ws.max_row + 1) if ws.cell(r, heads.index("指標ID") + 1).value == ind_id)
    ws.cell(row, heads.index("集計方法") + 1).value = method
    wb.save(master)


@pytest.mark.parametrize("after_split", [True, False])
def test_a_row_made_a_ratio_after_the_split_asks_for_the_file_again_not_for_a_locked_denominator(
        tmp_path, capsys, after_split):
    """Staff make 05-1 (a 合計) a 比率 after the split. Its 分母 went out locked (open only on a
    比率's row), so 小樽市's answer came back without one and collect said 「分母の数値を入力して
    ください」 of a cell Excel refuses to take. It says the method changed and to issue the
    file again; a 比率 issued as one, its 分母 open and left empty, still asks for the 分母."""
    master = sample_master(tmp_path / "マスター.xlsx")
    if not after_split:
        _set_method(master, "05-1", "比率")
    returned = split_master(master, tmp_path / "配布")
    if after_split:
        _set_method(master, "05-1", "比率")
    path = next(p for p in returned if p.name.startswith("小樽市"))
    set_cell(path, "小樽市", "05-1", "実績値", 4)
    assert main(["collect", str(master), str(path)]) == 1
    out = capsys.readouterr().out
    closed = "配布した後で集計方法が「比率」に変わった指標です。このファイルでは分母のセルが保護されていて"
    assert (closed in out) == after_split, out
    assert ("比率の指標には 0 より大きい分母が必要です" in out) == (not after_split), out
    assert cell_of(master, "小樽市", "05-1", "実績値") is None


@pytest.mark.parametrize("header, typed, was", [("単位", "社", "件"), ("基準値", "3件", "－")])
def test_a_locked_cell_typed_over_once_the_protection_is_lifted_refuses_the_file(cycle, capsys, header, typed, was):
    """小樽市 lifts the sheet's protection (it has no password) and makes 05-1's 単位 「社」, or
    corrects its 基準値: collect reads neither, so the file was imported (its 4 read as 4件)
    and the edit lost without a word. The file is refused naming the cell, both texts and
    what to do; the same cell typed over on a sheet still protected is the master's side
    (staff edited it since the split) and refuses nothing."""
    master, _, filled = cycle
    path = filled["小樽市"]
    set_cell(path, "小樽市", "05-1", "実績値", 4)
    set_cell(path, "小樽市", "05-1", header, typed)
    wb = openpyxl.load_workbook(path)
    assert wb["小樽市"].protection.sheet
    protected = path.with_name("保護したまま.xlsx")
    shutil.copyfile(path, protected)
    wb["小樽市"].protection.sheet = False
    wb.save(path)
    before = master.read_bytes()
    assert main(["collect", str(master), str(path)]) == 1
    out = capsys.readouterr().out
    assert re.search(rf"・小樽市_2023年度_入力\.xlsx: シート「小樽市」の保護が外され、入力欄ではないセルが"
                     rf"書き換えられています（小樽市!\w+\d+「{typed}」（マスターは「{was}」））。", out), out
    assert master.read_bytes() == before
    assert main(["collect", str(master), str(protected)]) == 0, capsys.readouterr().out
    assert cell_of(master, "小樽市", "05-1", "実績値") == 4


def _labels_typed_over(ws, top, cols) -> dict[str, tuple[str, str]]:
    """Once the protection is lifted: a note on 05-1's answer 4 appended to its 評価指標, 06-1's 連携事業名
    cleared, 08-1's 評価指標 rewritten. 指標ID → (the cell, what the warning quotes)."""
    out = {}
    for ind_id, head, edit in (("05-1", "評価指標", lambda was: f"{was}（うち2件は見込み）"),
                               ("06-1", "連携事業名", lambda was: None),
                               ("08-1", "評価指標", lambda was: "学生の数（暫定）")):
        row, _cols = id_row(ws, ind_id)
        cell = ws.cell(row, cols[head])
        was, cell.value = cell.value, edit(cell.value)
        ws.cell(row, cols["実績値"]).value = 4 if ind_id == "05-1" else ws.cell(row, cols["実績値"]).value
        out[ind_id] = (f"{ws.title}!{cell.coordinate}", {
            "05-1": "評価指標が配布時と違います: 配布時の文の後に「（うち2件は見込み）」が書き足されています。",
            "06-1": f"連携事業名が配布時と違います: 空欄にされています（配布時は「{was}」）。",
            "08-1": f"評価指標が配布時と違います: 「学生の数（暫定）」に書き換えられています（配布時は「{was}」）。"}[ind_id])
    return out


def test_a_note_typed_into_a_label_is_imported_with_a_warning_that_quotes_it(cycle):
    """小樽市 lifts the protection (it has no password) and types into 連携事業名 and 評価指標:
    「…（うち2件は見込み）」, a label cleared, one rewritten. collect reads the input cells
    only, so the file was imported and logged and the note lost without a word. The labels as
    issued (hidden, sealed) are the reference: each changed cell is a warning naming the
    file, the cell and the text typed, on the command line and the button alike, and the
    answers are imported. 04-1's 評価指標 reworded in 指標 after the split warns of nothing."""
    from renkei_xl.core.alerts import printed
    from renkei_xl.cycle.collect.records import noted_line
    from renkei_xl.cycle.collect.said import collect_lines, left_out_parts

    master, _, filled = cycle
    path = filled["小樽市"]
    edits: dict = {}
    _on_the_sheet(path, lambda ws, top, cols: edits.update(_labels_typed_over(ws, top, cols)))
    data = load_master(master)
    data.indicators = [i._replace(name="連携して開催したセミナーの回数（言い換え）") if i.id == "04-1" else i
                       for i in data.indicators]        # reworded in 指標 after the split
    report = plan_collect(data, [path], key=master_key_of_file(master))
    assert not report.refused and not report.held and [r.municipality for r in report.records] == ["小樽市"]
    assert ("05-1", "実績値", 4) in [(ch.indicator_id, ch.field, ch.new) for ch in report.changes]
    assert [(f.place, f.indicator_id) for _name, f in report.noted] == [(p, i) for i, (p, _s) in edits.items()]
    lines = [noted_line(name, f) for name, f in report.noted]
    shown = "\n".join(printed(left_out_parts(report)))               # the button's lines
    assert all(line in shown for line in lines) and all(f"・{line}" in collect_lines(report) for line in lines), shown
    assert f"連携事業名・評価指標が配布時と違うセル {len(edits)} か所" in shown and "入力チェックで警告になるセル" not in shown
    for ind_id, (place, said) in edits.items():
        assert f"警告: {path.name}: {place} {ind_id}: {said}取り込むのは実績値・分母・実施状況だけ" in shown, shown


def test_a_return_whose_sheet_cannot_be_inflated_is_refused_and_the_others_imported(cycle, capsys):
    """A return whose sheet's deflate stream is damaged (an attachment mangled on the way; the
    zip's directory intact): zipfile raises zlib.error, which is no BadZipFile, so collect
    stopped with 「予期しないエラー」 (exit 3) and no return of the folder was imported. The
    file is refused as damaged, naming it, and the others come in."""
    master, _, filled = cycle
    path = filled["小樽市"]
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = next(i for i in z.infolist() if i.filename.startswith("xl/worksheets/sheet"))
    assert info.compress_type == zipfile.ZIP_DEFLATED
    start = info.header_offset + 30 + len(info.filename.encode("utf-8")) + len(info.extra)
    raw[start] = 0x07       # a last block of the reserved type 11: zlib stops at it
    path.write_bytes(bytes(raw))
    with pytest.raises(zlib.error):
        zipfile.ZipFile(path).testzip()
    code = main(["collect", str(master), str(path), str(filled["千歳市"])])
    out = capsys.readouterr().out
    assert code == 1, out
    assert f"・{path.name}: ファイルが壊れています" in out, out
    assert cell_of(master, "千歳市", "04-1", "実績値") == 1


def test_refused_file_does_not_block_the_good_ones(cycle):
    master, _, filled = cycle
    _truncated(filled["小樽市"], None)
    report = collect(master, [filled["小樽市"], filled["千歳市"]])
    assert [r.path.name for r in report.refused] == [filled["小樽市"].name]
    assert {ch.sheet for ch in report.changes} == {"千歳市"}
    assert cell_of(master, "小樽市", "04-1", "実績値") is None
    assert cell_of(master, "千歳市", "04-1", "実績値") == 1


def _older_after_newer(cycle, tmp_path):
    """小樽市's return of 04-1 = 7 (saved 4/10) imported, then its older one of 5 (saved 4/5)
    offered: the master, the older file and what collect said of it, having written nothing."""
    master, issued, _ = cycle
    old, new = tmp_path / "old" / "小樽市_2023年度_入力.xlsx", tmp_path / "new" / "小樽市_2023年度_入力.xlsx"
    for path, value in ((old, 5), (new, 7)):
        path.parent.mkdir()
        path.write_bytes(issued["小樽市"].read_bytes())
        set_cell(path, "小樽市", "04-1", "実績値", value)
    set_modified(old, dt.datetime(2024, 4, 5, 10, 0, tzinfo=dt.timezone.utc))
    set_modified(new, dt.datetime(2024, 4, 10, 10, 0, tzinfo=dt.timezone.utc))

    assert collect(master, [new]).written is not None
    assert cell_of(master, "小樽市", "04-1", "実績値") == 7
    before = master.read_bytes()
    report = collect(master, [old])
    assert master.read_bytes() == before
    return master, old, report


def test_older_submission_is_refused_unless_forced(cycle, tmp_path):
    master, old, report = _older_after_newer(cycle, tmp_path)
    assert "古いファイル" in report.refused[0].reason and OLDER_REMEDY in report.refused[0].reason

    forced = collect(master, [old], force=True)
    assert not forced.refused and forced.written is not None
    assert cell_of(master, "小樽市", "04-1", "実績値") == 5


def test_an_older_submission_saved_again_is_taken_as_the_newest_as_its_refusal_says(cycle, tmp_path):
    """The refusal of an older file told staff to add --force, which a button cannot; it says
    to save the file again, and a file saved again (its save time now) is imported."""
    master, old, report = _older_after_newer(cycle, tmp_path)
    assert "上書き保存してから" in report.refused[0].reason
    set_modified(old, dt.datetime.now(dt.timezone.utc))          # as Excel's save stamps it
    again = collect(master, [old])
    assert not again.refused and again.written is not None
    assert cell_of(master, "小樽市", "04-1", "実績値") == 5


def test_two_returns_of_one_municipality_import_only_the_newer_and_name_the_other(cycle, tmp_path):
    """Each return carries the whole sheet: the older beside the newer could only be written
    and written over. It is named as left out, whatever order the names sort in."""
    master, issued, _ = cycle
    folder = tmp_path / "two"
    folder.mkdir()
    older, newer = folder / "小樽市_z.xlsx", folder / "小樽市_a.xlsx"
    for path, value in ((older, 5), (newer, 7)):
        path.write_bytes(issued["小樽市"].read_bytes())
        set_cell(path, "小樽市", "04-1", "実績値", value)
    set_cell(older, "小樽市", "06-1", "実績値", 3)           # only in the older one: not mixed in
    set_modified(older, dt.datetime(2024, 4, 5, 10, 0, tzinfo=dt.timezone.utc))
    set_modified(newer, dt.datetime(2024, 4, 10, 10, 0, tzinfo=dt.timezone.utc))
    report = collect(master, [folder])
    assert [(r.path.name, "新しいファイル「小樽市_a.xlsx」" in r.reason) for r in report.refused] == [("小樽市_z.xlsx", True)]
    assert [(ch.indicator_id, ch.new) for ch in report.changes] == [("04-1", 7)]
    assert cell_of(master, "小樽市", "04-1", "実績値") == 7 and not cell_of(master, "小樽市", "06-1", "実績値")


def _two_returns(folder: Path, issued: Path, names=("小樽市_第1回.xlsx", "小樽市_第2回.xlsx"), saved=(
        dt.datetime(2024, 4, 5, 10, 0, tzinfo=dt.timezone.utc), dt.datetime(2024, 4, 10, 10, 0, tzinfo=dt.timezone.utc))):
    """An older and a newer return of 小樽市 (04-1: 5, then 7) in ``folder``."""
    folder.mkdir(exist_ok=True)
    out = []
    for name, value, when in zip(names, (5, 7), saved):
        path = folder / name
        path.write_bytes(issued.read_bytes())
        set_cell(path, "小樽市", "04-1", "実績値", value)
        if when is not None:
            set_modified(path, when)
        else:
            rewrite_zip(path, path, {"docProps/core.xml": lambda b: re.sub(
                rb"<dcterms:modified[^>]*>[^<]*</dcterms:modified>", b"", b)})
        out.append(path)
    return out


@pytest.mark.parametrize("refusal", ["open in Excel", "truncated", "rows deleted", "properties dropped, damaged"])
def test_a_newest_return_that_is_refused_holds_its_municipality_whole(cycle, tmp_path, capsys, refusal):
    """The newer return cannot be taken: the older one must not come in in its place (the
    master would hold the stale answer and the run would look done). Whose the refused
    file is, is told by its identity or, unreadable, by its name."""
    master, issued, filled = cycle
    folder = tmp_path / "in"
    older, newer = _two_returns(folder, issued["小樽市"])
    if refusal == "open in Excel":
        (folder / f"~${newer.name}").write_bytes(b"owner")
    elif refusal == "truncated":
        _truncated(newer, None)
    elif refusal == "rows deleted":
        _row_deleted(newer, None)
    else:   # its identity unreadable and its name no help: it may be anyone's, so all are held
        _truncated(newer, None)
        newer = newer.rename(folder / "回答.xlsx")
    (folder / "恵庭市_2023年度_入力.xlsx").write_bytes(filled["恵庭市"].read_bytes())
    before = cell_of(master, "小樽市", "04-1", "実績値")
    code = main(["collect", str(master), str(folder)])
    out = capsys.readouterr().out
    assert code == 1
    assert cell_of(master, "小樽市", "04-1", "実績値") == before
    assert re.search(rf"・{older.name}: .*ファイル「{newer.name}」を取り込めないため", out), out
    assert f"・{newer.name}: " in out
    assert older.name not in taken(out)
    if refusal == "properties dropped, damaged":
        assert "どの市町村のファイルか分からない" in out
        assert "恵庭市" not in taken(out).values()
    else:
        assert "恵庭市_2023年度_入力.xlsx" in taken(out)      # the others are not held


@pytest.mark.parametrize("sent", ["zip", "zip, Windows names", "zip, Mac names", "zip named .xlsx", "password zip",
                                  "xls", "folder", "zip of no one", "ATT00001.dat", "=_UTF-8_B_5bCP5qib5biC_="])
def test_a_return_collect_does_not_read_holds_its_municipality(cycle, tmp_path, capsys, sent):
    """A ZIP, an .xls or a folder beside a readable return may be the municipality's newer
    answer: it holds the municipality as a refused .xlsx does (before, the older .xlsx was
    imported and the run looked done). Whose it is, is told by the names it carries (a
    ZIP's member names are in clear even with a password, and Windows writes them in
    Shift_JIS without the UTF-8 flag, macOS and Linux's zip in UTF-8 without it); naming
    no one, it may be anyone's. A ZIP named .xlsx is told by the same names, and is said to
    be a ZIP (it was 「ブック本体がありません」 with 「開いて保存し直して」, which no
    application can, and, read as anyone's, it held 恵庭市 too) (qa-returns64). So is the
    return a mail system delivered under a name of its own (old Outlook's 「ATT00001.dat」,
    an encoded name left undecoded, no extension): it was 「Excel ブック（.xlsx）ではない」,
    to be moved out of the folder, and held no one, so the older return was imported in its
    place; it is told by its content, and said to be renamed (qa-returns66)."""
    import zipfile

    master, issued, filled = cycle
    folder = tmp_path / "in"
    older, newer = _two_returns(folder, issued["小樽市"])
    inner = "小樽市_2023年度_入力（修正）.xlsx"
    if sent == "xls":
        sent_as = folder / "小樽市_2023年度_入力.xls"
        sent_as.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))
    elif sent.startswith(("ATT", "=_")):
        sent_as = folder / sent
        sent_as.write_bytes(newer.read_bytes())
    elif sent == "folder":
        sent_as = folder / "再送"
        sent_as.mkdir()
        (sent_as / inner).write_bytes(newer.read_bytes())
    else:
        sent_as = folder / ("小樽市.zip" if sent == "zip" else "回答.xlsx" if sent == "zip named .xlsx" else "回答.zip")
        with zipfile.ZipFile(sent_as, "w") as zf:
            zf.writestr(zipfile.ZipInfo("回答/資料.xlsx" if sent == "zip of no one" else inner), newer.read_bytes())
        raw = sent_as.read_bytes()
        if sent in ("zip, Windows names", "password zip"):   # as Windows writes it: cp932, no flag
            sjis = inner.encode("cp932")
            raw = raw.replace(inner.encode("utf-8"), sjis.ljust(len(inner.encode("utf-8")), b" "))
            raw = raw.replace(b"\x00\x08", b"\x00\x00")      # the UTF-8 flag off, in both headers
        if sent == "zip, Mac names":                         # as macOS and Info-ZIP write it: UTF-8, no flag
            raw = raw.replace(b"\x00\x08", b"\x00\x00")
        if sent == "password zip":                          # encrypted: only the names can be read
            raw = raw.replace(b"PK\x03\x04\x14\x00\x00\x00", b"PK\x03\x04\x14\x00\x01\x00")
        sent_as.write_bytes(raw)
    newer.unlink()
    (folder / "恵庭市_2023年度_入力.xlsx").write_bytes(filled["恵庭市"].read_bytes())
    before = cell_of(master, "小樽市", "04-1", "実績値")
    code = main(["collect", str(master), str(folder)])
    out = capsys.readouterr().out
    assert code == 1
    assert cell_of(master, "小樽市", "04-1", "実績値") == before, out
    assert re.search(rf"・{older.name}: .*ファイル「{sent_as.name}」を取り込めないため", out), out
    assert f"・{sent_as.name}: " in out
    if sent == "zip of no one":
        assert "どの市町村のファイルか分からない" in out and "恵庭市" not in taken(out).values()
    else:
        assert "恵庭市_2023年度_入力.xlsx" in taken(out)      # the others are not held
    if sent == "zip named .xlsx":
        assert f"「{inner}」を入れた圧縮ファイル（ZIP）です。名前の最後の「.xlsx」を「.zip」に変えて" in out, out
        assert "保存し直した" not in out.split(f"・{sent_as.name}: ")[1].splitlines()[0], out
    if sent == "ATT00001.dat":
        assert ("「ATT00001.dat」は名前の拡張子が「.dat」ですが、中身は Excel ブック（.xlsx）です。名前の最後の「.dat」を"
                "「.xlsx」に戻してから、もう一度取り込んでください") in out, out
    if sent.startswith("=_"):
        assert "拡張子が「（なし）」ですが、中身は Excel ブック（.xlsx）です。名前の最後に「.xlsx」を付けてから" in out, out


@pytest.mark.parametrize("odd", ["folder", "fifo"])
def test_one_entry_that_is_no_file_does_not_stop_the_others(cycle, tmp_path, capsys, odd):
    """A folder or a FIFO named 江別市_….xlsx in 回収 stopped the whole import (「中止しました」)
    and 小樽市's good return beside it was not taken: it is refused on its own now."""
    import os

    master, _issued, filled = cycle
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "小樽市_2023年度_入力.xlsx").write_bytes(filled["小樽市"].read_bytes())
    strange = folder / "江別市_2023年度_入力.xlsx"
    strange.mkdir() if odd == "folder" else os.mkfifo(strange)
    code = main(["collect", str(master), str(folder)])
    out = capsys.readouterr().out
    assert code == 1
    assert f"・{strange.name}: " in out and "小樽市_2023年度_入力.xlsx" in taken(out), out


def test_a_folder_named_for_a_municipality_holds_it_alone(cycle, tmp_path, capsys):
    """A folder 「小樽市」 holding 「回答.xlsx」: its own name says whose it is (the names inside
    replaced it, so it named no one and held every municipality)."""
    master, issued, filled = cycle
    folder = tmp_path / "in"
    (folder / "小樽市").mkdir(parents=True)
    (folder / "小樽市" / "回答.xlsx").write_bytes(filled["小樽市"].read_bytes())
    (folder / "恵庭市_2023年度_入力.xlsx").write_bytes(filled["恵庭市"].read_bytes())
    assert main(["collect", str(master), str(folder)]) == 1
    out = capsys.readouterr().out
    assert "恵庭市_2023年度_入力.xlsx" in taken(out) and "・小樽市: " in out, out


@pytest.mark.parametrize("name", ["小樽市.zip", "回答.zip", "江別市_2023年度_入力.xlsx", "回答.xlsx"])
def test_a_fifo_in_the_folder_is_refused_once_never_opened_and_holds_no_one(cycle, tmp_path, capsys, name):
    """A FIFO named .zip made collect wait forever (its ZIP directory was read); one named
    .xlsx was refused twice, and naming no municipality it held them all. A FIFO is no one's
    return: refused once, by what it is, and the others are taken. Run in a child process (a
    wait is killed at its time bound, not hung in the suite), forked from one that imported
    the tool (forked_cli.cli_run): a fresh interpreter's imports were most of each case's CPU,
    and these cases are of what collect does, not of how a process starts."""
    import os

    from forked_cli import cli_run

    master, issued, filled = cycle
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "恵庭市_2023年度_入力.xlsx").write_bytes(filled["恵庭市"].read_bytes())
    os.mkfifo(folder / name)
    run = cli_run(["collect", str(master), str(folder)], timeout=60)
    assert run.returncode == 1, run
    assert run.stdout.count(f"・{name}: ") == 1, run.stdout
    assert "恵庭市_2023年度_入力.xlsx" in taken(run.stdout), run.stdout


def test_a_refused_return_older_than_the_one_taken_holds_nothing(cycle, tmp_path):
    master, issued, _ = cycle
    older, newer = _two_returns(tmp_path / "in", issued["小樽市"])
    _row_deleted(older, None)
    set_modified(older, dt.datetime(2024, 4, 5, 10, 0, tzinfo=dt.timezone.utc))
    report = collect(master, [tmp_path / "in"])
    assert [r.path.name for r in report.refused] == [older.name]
    assert cell_of(master, "小樽市", "04-1", "実績値") == 7


def test_a_return_named_for_another_municipality_is_refused_and_holds_both(cycle, tmp_path, capsys):
    """岩見沢市 filled in 恵庭市's file (the wrong attachment) and sent it back as its own. The
    file is genuinely 恵庭市's (identity and seal), so it was imported into 恵庭市's sheet with
    岩見沢市's numbers, exit 0. Refused, saying what the name and the file say and both ways
    on; being refused, it holds 恵庭市 and 岩見沢市 (it may be the newer answer of either),
    as any refused return holds the municipalities it may be; the others come in."""
    master, issued, filled = cycle
    folder = tmp_path / "in"
    folder.mkdir()
    misnamed = folder / file_name("岩見沢市", 2023)
    misnamed.write_bytes(issued["恵庭市"].read_bytes())
    set_cell(misnamed, "恵庭市", "04-1", "実績値", 5)
    set_modified(misnamed, dt.datetime(2024, 4, 10, 10, 0, tzinfo=dt.timezone.utc))
    for muni, name in (("恵庭市", file_name("恵庭市", 2023)), ("岩見沢市", "岩見沢市_2023年度_入力（前回）.xlsx")):
        shutil.copy(filled[muni], folder / name)
        set_modified(folder / name, dt.datetime(2024, 4, 5, 10, 0, tzinfo=dt.timezone.utc))
    shutil.copy(filled["千歳市"], folder / filled["千歳市"].name)
    code = main(["collect", str(master), str(folder)])
    out = capsys.readouterr().out
    assert code == 1
    assert (f"・{misnamed.name}: ファイル名は岩見沢市を指していますが、中身は恵庭市の入力用ファイルです"
            in out), out
    assert "岩見沢市には、自分の市町村のファイル（「岩見沢市_2023年度_入力.xlsx」）に入力して" in out
    assert "本当に恵庭市の回答なら、ファイル名を「恵庭市_2023年度_入力.xlsx」に変えてから" in out
    for name in (file_name("恵庭市", 2023), "岩見沢市_2023年度_入力（前回）.xlsx"):
        assert re.search(rf"・{re.escape(name)}: .*ファイル「{misnamed.name}」を取り込めないため", out), out
    assert cell_of(master, "恵庭市", "04-1", "実績値") is None
    assert cell_of(master, "岩見沢市", "04-1", "実績値") is None
    assert "千歳市_2023年度_入力.xlsx" in taken(out) and cell_of(master, "千歳市", "04-1", "実績値") == 1


@pytest.mark.parametrize("name", ["回答.xlsx", "恵庭市_2023年度_入力（岩見沢市経由）.xlsx"])
def test_a_return_whose_name_names_no_municipality_or_its_own_too_is_taken(cycle, tmp_path, name):
    master, _issued, filled = cycle
    back = tmp_path / name
    shutil.copy(filled["恵庭市"], back)
    report = collect(master, [back])
    assert not report.refused and [r.municipality for r in report.records] == ["恵庭市"]
    assert cell_of(master, "恵庭市", "04-1", "実績値") == 1


def test_a_name_inside_a_longer_one_is_not_named_by_it(tmp_path):
    """設定 with 広島市 beside 北広島市: 広島市's file sent back as 「北広島市_2023年度_入力.xlsx」
    names 北広島市 only (the longest name at each place), so it is refused; read as naming
    広島市 too, it would pass as naming its own."""
    master = sample_master(tmp_path / "マスター.xlsx")
    wb = openpyxl.load_workbook(master)
    wb["千歳市"].title = "広島市"
    next(cell for row in wb[c.SETTINGS].iter_rows() for cell in row if cell.value == "千歳市").value = "広島市"
    wb.save(master)
    issued = {p.name: p for p in split_master(master, tmp_path / "配布")}
    back = tmp_path / "回収" / file_name("北広島市", 2023)
    back.parent.mkdir()
    shutil.copy(issued[file_name("広島市", 2023)], back)
    report = collect(master, [back])
    assert [r.path.name for r in report.refused] == [back.name]
    assert "ファイル名は北広島市を指していますが、中身は広島市の入力用ファイルです" in report.refused[0].reason
    own = tmp_path / "回収" / file_name("広島市", 2023)
    back.rename(own)
    assert not collect(master, [own]).refused


@pytest.mark.parametrize("saved", ["none", "the same"])
def test_two_returns_whose_order_cannot_be_told_are_both_refused(cycle, tmp_path, capsys, saved):
    """No save time (or the same one) on two returns of one municipality: the names say
    nothing of which came later, so neither is imported and both are named."""
    master, issued, _ = cycle
    when = None if saved == "none" else dt.datetime(2024, 4, 5, 10, 0, tzinfo=dt.timezone.utc)
    first, second = _two_returns(tmp_path / "in", issued["小樽市"], ("小樽市_修正版.xlsx", "小樽市_回答.xlsx"),
                                 (when, when))
    before = cell_of(master, "小樽市", "04-1", "実績値")
    code = main(["collect", str(master), str(tmp_path / "in")])
    out = capsys.readouterr().out
    assert code == 1 and cell_of(master, "小樽市", "04-1", "実績値") == before
    for path in (first, second):
        assert re.search(rf"・{path.name}: .*「{first.name}」「{second.name}」のどれが新しいか", out) \
            or re.search(rf"・{path.name}: .*「{second.name}」「{first.name}」のどれが新しいか", out), out
    assert "新しいファイル「" not in out


def test_columns_the_master_sheet_has_of_its_own_travel_and_come_back_without_a_refusal(tmp_path):
    """Staff's own columns on a municipality sheet (a 備考, and a 目標値 of their own wording)
    are copied into the file as they are: returned untouched, they are no value 「outside the
    input cells」, and the file is taken."""
    master, back = _issued_with_a_staff_column(tmp_path, (("備考", "前年度は別集計"), ("目標値", "20件")))
    report = collect(master, [back])
    assert not report.refused, report.refused
    assert cell_of(master, "小樽市", "05-1", "実績値") == 7


def _issued_with_a_staff_column(tmp_path: Path, columns=(("備考", "前年度は別集計"),)) -> tuple[Path, Path]:
    """A master whose 小樽市 sheet has staff's own ``columns`` (header, first row's value: a 備考),
    split; 小樽市's answer in its file. The columns are added by openpyxl once per process
    for the same columns (conftest.saved_once: the same sample master in three tests)."""
    master = sample_master(tmp_path / "マスター.xlsx")
    saved_once(master, ("_issued_with_a_staff_column", columns), lambda p: _staff_columns_added(p, columns))
    issued = {p.name: p for p in split_master(master, tmp_path / "配布", echo=lambda _l: None)}
    back = tmp_path / "回収" / file_name("小樽市", 2023)
    back.parent.mkdir()
    shutil.copy(issued[back.name], back)
    set_cell(back, "小樽市", "05-1", "実績値", 7)
    return master, back


def _staff_columns_added(master: Path, columns) -> None:
    wb = openpyxl.load_workbook(master)
    ws = wb["小樽市"]
    top, _cols = header_row(ws)
    for head, value in columns:
        col = ws.max_column + 1
        ws.cell(top, col).value = head
        ws.cell(top + 1, col).value = value
    wb.save(master)


def _rename_master_column(master: Path, old: str, new: str) -> None:
    wb = openpyxl.load_workbook(master)
    ws = wb["小樽市"]
    top, cols = header_row(ws)
    ws.cell(top, cols[old]).value = new
    wb.save(master)


def test_a_staff_column_renamed_in_the_master_after_the_split_does_not_refuse_the_returns(tmp_path):
    """Staff rename their 備考 column 職員メモ after the files went out. Every return carried
    the column as split copied it, under its old header, and was refused for values 「in a
    column the split did not write」, the message sending staff after the municipality. The
    column is the master's own, renamed: the returns are taken."""
    master, back = _issued_with_a_staff_column(tmp_path)
    _rename_master_column(master, "備考", "職員メモ")
    report = collect(master, [back])
    assert not report.refused, report.refused
    assert cell_of(master, "小樽市", "05-1", "実績値") == 7


def test_a_column_a_municipality_added_is_still_refused_beside_a_renamed_one(tmp_path):
    master, back = _issued_with_a_staff_column(tmp_path)
    _rename_master_column(master, "備考", "職員メモ")

    def edit(ws, top, cols):
        ws.insert_cols(cols["実施状況"] + 1)
        ws.cell(top, cols["実施状況"] + 1).value = "補足"
        ws.cell(top + 1, cols["実施状況"] + 1).value = "暫定値です"
    _on_the_sheet(back, edit)
    [refusal] = collect(master, [back]).refused
    assert "配布時になかった列に値があります" in refusal.reason, refusal.reason


def test_one_attachment_saved_twice_is_imported_once_and_the_copy_named(cycle, tmp_path, capsys):
    """The mail's attachment saved twice (「… (1).xlsx」 beside the first): the two are
    byte-identical, so their save times are the same, and both were refused as two returns
    whose order cannot be told, the municipality's only answer left out. One is imported,
    the copy named as the same file, and the run ends well."""
    master, _, filled = cycle
    folder = tmp_path / "twice"
    folder.mkdir()
    first = shutil.copy(filled["恵庭市"], folder / filled["恵庭市"].name)
    twin = shutil.copy(first, folder / f"{Path(first).stem} (1).xlsx")
    code = main(["collect", str(master), str(folder)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert [f for f, town in taken(out).items() if town == "恵庭市"] == [Path(first).name], out
    assert cell_of(master, "恵庭市", "04-1", "実績値") == 1
    assert f"{Path(twin).name}: 「{Path(first).name}」と同じ内容のファイルです" in out, out
    assert "どれが新しいか" not in out


def test_a_folder_names_what_it_does_not_read(cycle, tmp_path):
    """A return saved as .xls or .csv, or put in a folder of its own, is named as not read
    (before, the run said nothing of it and exited 0)."""
    master, _, filled = cycle
    folder = tmp_path / "mixed"
    (folder / "sub").mkdir(parents=True)
    (folder / "小樽市_2023年度_入力.xlsx").write_bytes(filled["小樽市"].read_bytes())
    (folder / "江別市_2023年度_入力.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))
    (folder / "千歳市.csv").write_text("指標ID,実績値\n04-1,9\n", encoding="utf-8")
    (folder / "sub" / "恵庭市_2023年度_入力.xlsx").write_bytes(filled["恵庭市"].read_bytes())
    (folder / "説明.pdf").write_bytes(b"%PDF-1.4")
    (folder / "恵庭市_回答.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    (folder / "Thumbs.db").write_bytes(b"\0")            # the system's own: not named
    (folder / "~$説明.xlsx").write_bytes(b"lock")          # a lock file is no return of its own
    report = collect(master, [folder])
    assert sorted(r.path.name for r in report.refused) == ["sub", "千歳市.csv", "恵庭市_回答.zip",
                                                           "江別市_2023年度_入力.xls", "説明.pdf"]
    zipped = next(r for r in report.refused if r.path.suffix == ".zip")
    assert "ZIP を展開して、中の .xlsx をこのフォルダー" in zipped.reason
    assert all("取り込" in r.reason or "Excel ブック" in r.reason for r in report.refused)
    assert {ch.sheet for ch in report.changes} == {"小樽市"}


def test_a_master_kept_among_the_returns_collects_them_year_long(cycle, tmp_path, capsys):
    """Staff who keep the master in the folder the returns are saved to (``collect
    マスター.xlsm .``): the first collect named its own writer lock, taken during that very
    run, as 「取り込みません: .….xlsm.renkei-lock: Excel ブック（.xlsx）ではない」 (exit 1), and
    every later collect read the backup folder that first write made as a folder of
    workbooks no municipality could be told for, and so took no municipality's return at all
    (qa-140). The tool's own lock and the master's backups are passed over in silence."""
    master, _, filled = cycle
    folder = tmp_path / "一緒"
    folder.mkdir()
    here = folder / master.name
    shutil.copyfile(master, here)
    shutil.copyfile(filled["小樽市"], folder / filled["小樽市"].name)
    assert main(["collect", str(here), str(folder)]) == 0
    out = capsys.readouterr().out
    assert "取り込みません" not in out and "renkei-lock" not in out, out
    from renkei_xl.safety import backup_folder

    assert backup_folder(here).is_dir()
    shutil.copyfile(filled["千歳市"], folder / filled["千歳市"].name)
    assert main(["collect", str(here), str(folder)]) == 0
    out = capsys.readouterr().out
    assert "取り込みません" not in out and "バックアップ: " in out, out
    assert filled["千歳市"].name in taken(out), out


def test_next_years_backups_beside_a_master_kept_among_the_returns_hold_no_return(cycle, tmp_path, capsys):
    """Staff who keep the master among the returns keep next year's master there too (rollover
    makes it beside the closed year's), and the late returns still come in. Once next year's
    master had a backup folder (rollover --force, any write), every collect of the closed year
    read it as a folder of workbooks no municipality could be told for and took no return:
    「どの市町村のファイルか分からないファイル「…_2024年度_マスター_バックアップ」を取り込めないため、
    小樽市のファイルはどれも取り込みません」 (sequence walker --beside, qa-148). Any book's backup
    folder beside it is the tool's own and passed over, as the master's own is (qa-140)."""
    master, _, filled = cycle
    folder = tmp_path / "一緒"
    folder.mkdir()
    here = folder / master.name
    shutil.copyfile(master, here)
    assert main(["rollover", str(here)]) in (0, 1)
    assert main(["rollover", str(here), "--force"]) in (0, 1)
    capsys.readouterr()
    from renkei_xl.safety import backup_folder

    later = [p for p in folder.iterdir() if p.is_file() and p != here]
    assert len(later) == 1 and backup_folder(later[0]).is_dir()
    shutil.copyfile(filled["小樽市"], folder / filled["小樽市"].name)
    main(["collect", str(here), str(folder)])
    out = capsys.readouterr().out
    assert filled["小樽市"].name in taken(out), out
    assert "バックアップ:" in out and backup_folder(later[0]).name not in out.replace(f"バックアップ: {backup_folder(here)}", ""), out


def test_what_a_mac_adds_to_a_return_is_passed_over_and_holds_no_one(cycle, tmp_path, capsys):
    """A return copied from a Mac onto the share gets a 「._」 twin of the same name (its
    Finder data, not a workbook); a Mac's ZIP unpacked on Windows adds 「__MACOSX」 holding
    such twins. The twin ends in .xlsx and names 小樽市, so it was read, refused as no
    workbook, and held 小樽市's real return, with the folder named as one not looked into."""
    master, _, filled = cycle
    folder = tmp_path / "from_a_mac"
    (folder / "__MACOSX").mkdir(parents=True)
    name = filled["小樽市"].name
    (folder / name).write_bytes(filled["小樽市"].read_bytes())
    apple_double = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(64)
    (folder / f"._{name}").write_bytes(apple_double)
    (folder / "__MACOSX" / f"._{name}").write_bytes(apple_double)
    code = main(["collect", str(master), str(folder)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "取り込みません" not in out and "__MACOSX" not in out and f"._{name}" not in out, out
    assert [f for f, town in taken(out).items() if town == "小樽市"] == [name], out


def test_a_return_whose_extension_was_typed_in_full_width_is_named_so_and_holds_its_municipality(cycle, tmp_path):
    """「小樽市_修正.ｘｌｓｘ」 (renamed with the IME on): it was refused as no Excel book, and
    held no one, so an older 小樽市 return beside it was imported in its place."""
    master, issued, filled = cycle
    folder = tmp_path / "wide"
    folder.mkdir()
    older = shutil.copy(issued["小樽市"], folder / "小樽市_2023年度_入力.xlsx")
    wide = shutil.copy(filled["小樽市"], folder / "小樽市_修正.ｘｌｓｘ")
    before = master.read_bytes()
    report = collect(master, [folder])
    reasons = {r.path.name: r.reason for r in report.refused}
    assert "名前の拡張子「.ｘｌｓｘ」が全角です" in reasons[Path(wide).name] and "半角の「.xlsx」" in reasons[Path(wide).name]
    assert "取り込みません" in reasons[Path(older).name] and not report.records
    assert master.read_bytes() == before


def test_a_folder_holding_only_a_zip_is_no_silent_success(cycle, tmp_path, capsys):
    """Returns sent as a (PPAP) ZIP: before, 「取り込むファイルがない」 and exit 0."""
    master, _, _ = cycle
    folder = tmp_path / "zipped"
    folder.mkdir()
    (folder / "小樽市_2023年度_入力.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    code = main(["collect", str(master), str(folder)])
    out = capsys.readouterr().out
    assert code == 1
    assert "・小樽市_2023年度_入力.zip: 圧縮ファイル（.zip）です。ZIP を展開して" in out, out


@pytest.mark.parametrize("encoded,shown", [("shift_jis", "小樽市_回答.xlsx"), ("latin-1", "\\xe9t\\xe9.xlsx")])
def test_a_file_name_that_is_not_utf8_is_refused_by_name_and_the_others_imported(cycle, tmp_path, capsys,
                                                                                encoded, shown):
    """A Windows ZIP unpacked on Linux leaves Shift_JIS bytes in a name: before, the whole
    collect crashed (exit 3) and the good files were not imported either."""
    import os

    master, _, filled = cycle
    folder = tmp_path / "names"
    folder.mkdir()
    (folder / "恵庭市_2023年度_入力.xlsx").write_bytes(filled["恵庭市"].read_bytes())
    name = "小樽市_回答.xlsx" if encoded == "shift_jis" else "été.xlsx"
    with open(os.fsencode(str(folder)) + b"/" + name.encode(encoded), "wb") as out:
        out.write(filled["小樽市"].read_bytes())
    code = main(["collect", str(master), str(folder)])
    out = capsys.readouterr().out
    assert code == 1
    assert f"・{shown}: ファイル名の文字コードが読めません" in out, out
    assert "恵庭市_2023年度_入力.xlsx" in taken(out) and cell_of(master, "恵庭市", "04-1", "実績値") is not None


@pytest.mark.parametrize("lock", ["~${name}", ".~lock.{name}#"])
def test_a_return_open_in_excel_is_refused_and_the_others_imported(cycle, tmp_path, lock):
    """Staff who opened a return to look at it may have changed a value without saving: the
    saved file is not what they see. It is refused with the lock's name, the master keeps
    its values for that municipality, and the other returns are imported."""
    master, _, filled = cycle
    folder = tmp_path / "open"
    folder.mkdir()
    for name in ("小樽市", "恵庭市"):
        (folder / f"{name}_2023年度_入力.xlsx").write_bytes(filled[name].read_bytes())
    (folder / lock.format(name="小樽市_2023年度_入力.xlsx")).write_bytes(b"owner")
    before = cell_of(master, "小樽市", "04-1", "実績値")
    report = collect(master, [folder])
    assert [r.path.name for r in report.refused] == ["小樽市_2023年度_入力.xlsx"]
    app = "LibreOffice" if lock.startswith(".~lock.") else "Excel"
    assert f"{app} で開かれています" in report.refused[0].reason
    assert lock.format(name="小樽市_2023年度_入力.xlsx") in report.refused[0].reason
    assert {ch.sheet for ch in report.changes} == {"恵庭市"}
    assert cell_of(master, "小樽市", "04-1", "実績値") == before


def test_a_return_open_in_libreoffice_is_refused_naming_who_has_it_open(cycle, tmp_path):
    """The lock names its user: the refusal says who to ask to save and close the return."""
    master, _, filled = cycle
    folder = tmp_path / "open"
    folder.mkdir()
    name = "小樽市_2023年度_入力.xlsx"
    (folder / name).write_bytes(filled["小樽市"].read_bytes())
    (folder / f".~lock.{name}#").write_bytes("山田 太郎,yamada,PC-01,07.12.2026 09:15,;".encode())
    report = collect(master, [folder])
    assert report.refused[0].reason.startswith(f"山田 太郎 さんが LibreOffice で開いています（ロックファイル .~lock.{name}# があります）")


def test_a_huge_file_is_refused_by_its_size_before_it_is_read(cycle, tmp_path, monkeypatch):
    from renkei_xl.cycle.collect import inspect

    master, _, filled = cycle
    monkeypatch.setattr(inspect, "MAX_FILE", 1000)
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail(f"{self.name} was read"))
    report = collect(master, [filled["小樽市"]], dry_run=True)
    assert len(report.refused) == 1 and "大きすぎます" in report.refused[0].reason


def test_a_file_where_the_backup_folder_goes_is_a_japanese_refusal(cycle):
    from renkei_xl.core.errors import UserError
    from renkei_xl.safety import backup_folder

    master, _, filled = cycle
    backup_folder(master).write_bytes(b"not a folder")
    before = master.read_bytes()
    with pytest.raises(UserError, match="バックアップ用のフォルダー.*同じ名前のファイルがあります"):
        collect(master, [filled["小樽市"]])
    assert master.read_bytes() == before


def _corrected_after_split(master: Path, municipality: str, ind_id: str, value) -> None:
    """What staff do when a municipality phones in a correction after the split (saved by
    openpyxl once per content and correction: conftest.saved_once)."""
    saved_once(master, ("_corrected_after_split", municipality, ind_id, value_key(value)),
               lambda p: _correct(p, municipality, ind_id, value))


def _correct(master: Path, municipality: str, ind_id: str, value) -> None:
    wb = openpyxl.load_workbook(master)
    ws = wb[municipality]
    row, cols = id_row(ws, ind_id)
    ws.cell(row, cols["実績値"]).value = value
    wb.save(master)


def test_a_correction_made_in_the_master_after_split_is_kept_against_an_untouched_row(cycle, capsys):
    """R-D6: the municipality returned 04-1 as issued (empty); staff had typed 5 into the
    master meanwhile. Before, collect put the issued empty back over it."""
    master, _, filled = cycle
    _corrected_after_split(master, "小樽市", "04-1", 5)
    set_cell(filled["小樽市"], "小樽市", "04-1", "実績値", None)   # left as issued

    assert main(["collect", str(master), str(filled["小樽市"])]) == 0
    out = capsys.readouterr().out
    assert cell_of(master, "小樽市", "04-1", "実績値") == 5
    assert re.search(r"マスターの値のまま: .*小樽市!E\d+ 04-1: 配布した後でマスターで直した実績値「5」を残しました"
                     r"（回答ではこのセルは配布時の空欄のままでした）", out), out
    assert "04-1 実績値" not in out                       # no change listed for it
    assert cell_of(master, "小樽市", "08-1", "実績値") == 3   # the rest of the file is imported


def test_an_import_of_the_file_as_issued_does_not_make_the_real_return_overwrite_corrections(cycle, capsys):
    """小樽市's file as split issued it (collected from 配布用 by mistake, or returned blank
    before the answers came) is imported first, changing no cell; the real return, 04-1 left
    as issued, then came in as a resubmission and put the issued empty over the 5 staff had
    typed after the split. An import that changed nothing leaves the correction staff's."""
    master, by_muni, filled = cycle
    _corrected_after_split(master, "小樽市", "04-1", 5)
    assert main(["collect", str(master), str(by_muni["小樽市"])]) == 0
    out = capsys.readouterr().out
    assert taken(out) == {by_muni["小樽市"].name: "小樽市"} and "1 ファイル、0 セルを取り込みました" in out, out
    set_cell(filled["小樽市"], "小樽市", "04-1", "実績値", None)   # left as issued
    set_modified(filled["小樽市"], dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5))

    assert main(["collect", str(master), str(filled["小樽市"])]) == 0
    out = capsys.readouterr().out
    assert cell_of(master, "小樽市", "04-1", "実績値") == 5, out
    assert "配布した後でマスターで直した実績値「5」を残しました" in out, out
    assert cell_of(master, "小樽市", "08-1", "実績値") == 3


def test_a_cell_changed_on_both_sides_is_held_and_named(cycle, capsys):
    """Staff typed 5 after the split, the municipality typed 2: neither is taken."""
    master, _, filled = cycle
    _corrected_after_split(master, "小樽市", "04-1", 5)

    assert main(["collect", str(master), str(filled["小樽市"])]) == 1
    out = capsys.readouterr().out
    assert cell_of(master, "小樽市", "04-1", "実績値") == 5
    assert re.search(r"取り込みません: .*小樽市!G\d+ 04-1: 配布した後でマスターの実績値が空欄から「5」に直され、"
                     r"回答でも「2」に変わっています", out), out
    log = import_log(master)
    assert "配布した後でマスターの実績値が空欄から「5」に直され" in log[-1][6]
    assert cell_of(master, "小樽市", "08-1", "実績値") == 3


def test_an_error_value_in_the_master_is_no_correction_to_keep(cycle):
    """A master cell that became #REF! after the split (a broken formula) is written over by
    the returned value, changed or not, as before: an error is never kept as staff's value.
    Nor is a TRUE/FALSE (a check box linked to the cell since): it was kept as 「配布した後で
    マスターで直した実施状況「TRUE」」, or held the returned row as changed on both sides."""
    master, _, filled = cycle
    wb = openpyxl.load_workbook(master)
    ws = wb["小樽市"]
    top, cols = header_row(ws)
    rows = {ws.cell(r, cols["指標ID"]).value: r for r in range(top + 1, ws.max_row + 1)}
    ws.cell(rows["04-1"], cols["実績値"]).value = "#REF!"     # as both readers hand a cached error over
    ws.cell(rows["08-1"], cols["実施状況"]).value = "#N/A"
    ws.cell(rows["06-1"], cols["実施状況"]).value = True
    ws.cell(rows["05-1"], cols["実施状況"]).value = False
    wb.save(master)
    set_cell(filled["小樽市"], "小樽市", "04-1", "実績値", None)   # returned as issued (empty)
    set_cell(filled["小樽市"], "小樽市", "05-1", "実施状況", "実施した")   # answered
    report = collect(master, [filled["小樽市"]])
    assert not report.kept and not report.held, (report.kept, report.held)
    assert {(ch.indicator_id, ch.field, ch.old, ch.new) for ch in report.changes} >= {
        ("04-1", "実績値", "#REF!", None), ("08-1", "実施状況", "#N/A", None), ("08-1", "実績値", "", 3),
        ("06-1", "実施状況", "TRUE", None), ("05-1", "実施状況", "FALSE", "実施した")}


def test_the_same_value_on_both_sides_is_no_conflict(cycle):
    master, _, filled = cycle
    _corrected_after_split(master, "小樽市", "04-1", 2)
    report = collect(master, [filled["小樽市"]])
    assert not report.held and not report.kept and report.records
    assert "04-1" not in {ch.indicator_id for ch in report.changes}
    assert cell_of(master, "小樽市", "04-1", "実績値") == 2


def _resubmitted(returned, tmp_path):
    """小樽市's return sent again, corrected (04-1 実績値 4), saved five minutes later."""
    again = tmp_path / "again" / returned.name
    again.parent.mkdir()
    again.write_bytes(returned.read_bytes())
    set_cell(again, "小樽市", "04-1", "実績値", 4)
    set_modified(again, dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5))
    return again


@pytest.mark.parametrize("count", [None, "", 0.4])
def test_a_resubmission_after_an_import_is_compared_with_the_master_not_the_issued_values(cycle, tmp_path, count):
    """After a file of this issue was imported, the master differs from the issued values by
    that import: a corrected resubmission's new values come in, and are no conflict. A
    変更セル数 staff emptied or typed over (0.4) on 取込履歴 is no count of 0 (an import that changed
    nothing, which first_since_issue passes over): nothing is assumed."""
    master, _, filled = cycle
    assert collect(master, [filled["小樽市"]]).written is not None
    assert cell_of(master, "小樽市", "04-1", "実績値") == 2
    if count is not None:
        wb = openpyxl.load_workbook(master)
        log = wb[c.IMPORT_LOG]
        column = next(cell.column for cell in log[1] if cell.value == "変更セル数")
        log.cell(2, column).value = count or None
        wb.save(master)
    again = _resubmitted(filled["小樽市"], tmp_path)
    report = collect(master, [again])
    assert not report.held and not report.kept and not report.refused
    assert [(ch.indicator_id, ch.old, ch.new) for ch in report.changes] == [("04-1", "2", 4)]


def test_a_resubmission_after_the_clock_stepped_back_since_the_split_is_no_conflict(cycle, tmp_path, monkeypatch):
    """The server's clock stepped back two hours after the split (NTP correcting a clock that
    ran ahead; the clock module's seam plays it): the first import was logged before the
    issue time the split stamped, so the municipality's corrected resubmission was taken for
    the first return since the issue, its new value held as changed on both sides,
    「配布した後でマスターの実績値が空欄から「2」に直され」, the 2 being that first import. The
    import is logged no earlier than the issue of the file it takes."""
    import time

    from renkei_xl import clock
    from renkei_xl.cycle.collect import read_import_log
    from renkei_xl.cycle.distribute import P_ISSUED

    master, _, filled = cycle
    props = openpyxl.load_workbook(filled["小樽市"]).custom_doc_props.props
    issued = dt.datetime.fromisoformat(next(p.value for p in props if p.name == P_ISSUED))
    back = issued.replace(tzinfo=clock.JAPAN).timestamp() - 2 * 3600      # two hours before the split
    monkeypatch.setattr(clock, "_instant", lambda: back)
    assert collect(master, [filled["小樽市"]]).written is not None
    assert cell_of(master, "小樽市", "04-1", "実績値") == 2
    again = _resubmitted(filled["小樽市"], tmp_path)
    monkeypatch.setattr(clock, "_instant", lambda: back + 600)          # ten minutes later, the clock still behind
    report = collect(master, [again])
    assert not report.held and not report.kept and not report.refused, (report.held, report.kept, report.refused)
    assert [(ch.indicator_id, ch.old, ch.new) for ch in report.changes] == [("04-1", "2", 4)]
    logged = read_import_log([list(r) for r in import_log(master)])
    assert [r.imported_at for r in logged] == [issued, issued]        # not before the issue, not the clock's future


def test_a_split_after_the_clock_stepped_back_past_an_import_keeps_staffs_corrections(cycle, tmp_path, monkeypatch):
    """An import logged an hour ahead (the server's clock ran ahead), NTP then stepped the
    clock back and staff split again: the new files were stamped before that import, so the
    new 小樽市 file's first return was read as a resubmission (first_since_issue) and every
    cell differing from the master came in, staff's correction made after the new split
    overwritten by the value returned as issued. The issue is stamped after the imports the
    master logs."""
    import time

    from renkei_xl import clock

    master, _, filled = cycle
    props = openpyxl.load_workbook(filled["小樽市"]).custom_doc_props.props
    first_issue = dt.datetime.fromisoformat(next(p.value for p in props if p.name == P_ISSUED))
    at = first_issue.replace(tzinfo=clock.JAPAN).timestamp()
    monkeypatch.setattr(clock, "_instant", lambda: at + 3600)              # an hour ahead
    assert collect(master, [filled["小樽市"]]).written is not None
    assert cell_of(master, "小樽市", "04-1", "実績値") == 2
    monkeypatch.setattr(clock, "_instant", lambda: at + 600)               # stepped back
    files = split_master(master, tmp_path / "配布2")
    issued_again = next(p for p in files if "小樽市" in p.name)
    _correct(master, "小樽市", "04-1", 7)                                  # staff, after the new split
    returned = tmp_path / "回収2" / issued_again.name
    returned.parent.mkdir()
    returned.write_bytes(issued_again.read_bytes())
    set_cell(returned, "小樽市", "08-1", "実績値", 9)                       # 04-1 returned as issued (2)
    set_modified(returned, dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5))
    monkeypatch.setattr(clock, "_instant", lambda: at + 1200)
    report = collect(master, [returned])
    assert not report.refused and not report.held, (report.refused, report.held)
    assert cell_of(master, "小樽市", "04-1", "実績値") == 7, [(ch.indicator_id, ch.old, ch.new) for ch in report.changes]
    assert cell_of(master, "小樽市", "08-1", "実績値") == 9
    assert any(f.indicator_id == "04-1" for _name, f in report.kept), report.kept


def test_an_issue_time_edited_with_a_zone_is_compared_not_crashed_on(cycle):
    """RenkeiIssued is the file's own text: with a zone it is still an instant, compared
    with 取込履歴's local times (an aware and a naive time raise TypeError)."""
    from renkei_xl.cycle.collect import ImportRecord

    master, _, filled = cycle
    set_property(filled["小樽市"], P_ISSUED, "2023-06-01T09:00:00+09:00")
    logged = [ImportRecord("前.xlsx", "小樽市", dt.datetime(2023, 5, 1, 9, 0), 1, "0" * 64, None)]
    report = plan_collect(load_master(master), [filled["小樽市"]], logged, key=None)
    assert not report.refused and report.records and not report.held


def test_times_typed_with_a_zone_into_the_import_log_are_compared_not_crashed_on(cycle):
    """取込履歴 is staff's sheet: a 取込日時 or 提出日時 typed as text with a zone is an instant."""
    from renkei_xl.cycle.collect import LOG_COLUMNS, read_import_log

    master, _, filled = cycle
    grid = [list(LOG_COLUMNS), ["前.xlsx", "小樽市", "2099-01-01T09:00:00+09:00", 1, "0" * 64, "2099-01-01T09:00:00+09:00", None]]
    logged = read_import_log(grid)
    assert logged[0].imported_at.tzinfo is None and logged[0].submitted_at.tzinfo is None
    report = plan_collect(load_master(master), [filled["小樽市"]], logged, key=master_key_of_file(master))
    assert "より古いファイル" in report.refused[0].reason   # compared: the logged one is newer


def test_a_save_time_at_the_end_of_the_calendar_is_no_crash_in_japan(cycle, monkeypatch):
    """A return whose core save time is 9999-12-31 23:00 UTC: in Japan's zone that is past
    the last datetime, and converting it raised OverflowError (exit 3). It is no time."""
    import time

    master, _, filled = cycle
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        set_property(filled["小樽市"], P_ISSUED, "9999-12-31T23:00:00+00:00")   # openpyxl saves: first
        set_modified(filled["小樽市"], dt.datetime(9999, 12, 31, 23, 0, tzinfo=dt.timezone.utc))
        report = plan_collect(load_master(master), [filled["小樽市"]], key=None)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert not report.refused and [r.submitted_at for r in report.records] == [None]


def test_a_file_issued_without_the_issued_columns_imports_every_difference_as_before(cycle):
    """Files already out when the columns came keep their template version and are read
    as they always were (version 1: its seal covers no issued values)."""
    master, _, filled = cycle
    _corrected_after_split(master, "小樽市", "04-1", 5)
    path = filled["小樽市"]
    wb = openpyxl.load_workbook(path)
    ws = wb["小樽市"]
    _top, cols = header_row(ws)
    ws.delete_cols(cols["配布時の実績値"], len(c.ISSUED_HEADERS))
    wb.save(path)
    as_version_1(path, master, "小樽市")
    report = collect(master, [path])
    assert not report.held and not report.kept
    assert ("04-1", "5", 2) in {(ch.indicator_id, ch.old, ch.new) for ch in report.changes}


def _master_sheet_renamed(ws):
    ws.title = "小樽市 "


def _master_header_broken(ws):
    _top, cols = header_row(ws)
    ws.cell(_top, cols["実績値"]).value = "#REF!"


def _master_row_doubled(ws):
    row, cols = id_row(ws, "04-1")
    ws.append([ws.cell(row, k).value for k in range(1, ws.max_column + 1)])


@pytest.mark.parametrize("damage, said", [
    (_master_sheet_renamed, "「小樽市 」は名前が違います"),
    (lambda ws: ws.parent.remove(ws), "シートがありません"),
    (_master_header_broken, "エラー値「#REF!」"),
    (_master_row_doubled, "指標ID「04-1」が重複しています"),
])
def test_a_master_sheet_that_cannot_be_compared_is_named_not_the_returned_file(cycle, damage, said):
    """The return is as issued; the master's own 小樽市 sheet is at fault. Before, the file was
    refused for rows "added" or a template "changed", which sent staff after the wrong file."""
    master, _, filled = cycle
    wb = openpyxl.load_workbook(master)
    damage(wb["小樽市"])
    wb.save(master)
    report = collect(master, [filled["小樽市"]])
    [refusal] = report.refused
    assert refusal.reason.startswith("マスターの市町村シート「小樽市」") and said in refusal.reason, refusal.reason
    assert "マスターの側の問題です" in refusal.reason


def test_last_years_file_refused_by_the_new_master_does_not_only_send_it_to_last_years(cycle, tmp_path):
    """A municipality that kept its 2023 return and typed its 2024 figures into it: the 2024
    master refused the file and told staff only to import it into the 2023 master, which
    takes it (a genuine file of its year, newer than the one it holds) and replaces the
    closed year's figures with 2024's. The file cannot say which it is; the refusal now
    names this case and its remedy beside the late return's."""
    from renkei_xl.cycle.rollover import rollover_file

    master, _issued, filled = cycle
    collect(master, list(filled.values()))
    later = rollover_file(master).path
    reused = filled["小樽市"]
    set_cell(reused, "小樽市", "04-1", "実績値", 9)
    [refusal] = collect(later, [reused]).refused
    assert refusal.reason.startswith("2023年度のファイルです（マスターの対象年度は 2024年度）。"), refusal.reason
    assert ("2024年度の実績を2023年度のファイルに入力して送ってきた（前の年度のファイルを使った）ものなら、"
            "2023年度のマスターには取り込まないでください（2023年度の実績が2024年度の値で置き換わります）。"
            "2024年度の入力用ファイルに入力して送り直してもらってください") in refusal.reason, refusal.reason


def test_a_late_return_after_rollover_is_imported_with_a_warning_and_refused_by_the_new_master(cycle, capsys):
    """南幌町's return comes after next year's master was made. The new master refuses it,
    saying which master takes it and how the year then reaches this one's 経年; the old
    master imports it (its year's own source of truth) but says, 【注意】 and exit 1, that
    the new master's 経年 and 前年度実績 do not hold it yet, naming the command. Before,
    both were silent on it (exit 0), and the new master kept the old values for good."""
    from renkei_xl.cycle.rollover import rollover_file

    master, _issued, filled = cycle
    late = filled.pop("南幌町")
    collect(master, list(filled.values()))
    later = rollover_file(master).path
    assert later.name == "マスター_2024年度.xlsx"
    set_cell(late, "南幌町", "04-1", "実績値", 7)

    code = main(["collect", str(later), str(late)])
    out = capsys.readouterr().out
    assert code == 1
    assert (f"・{late.name}: 2023年度のファイルです（マスターの対象年度は 2024年度）。"
            "2023年度のマスターで取り込んでください。") in out, out
    assert (f"renkei-xl history import {later.name} {master.name} で、2024年度のマスターの「経年」と"
            "「前年度実績（2023年度）」の列に取り込んで") in out, out

    code = main(["collect", str(master), str(late)])
    out = capsys.readouterr().out
    assert code == 1, out
    assert cell_of(master, "南幌町", "04-1", "実績値") == 7
    assert (f"【注意】2024年度のマスター「{later}」が、すでに作られています。その「経年」の2023年度と"
            "「前年度実績（2023年度）」の列には、この取り込みの値がまだ入っていません（南幌町 04-1") in out, out
    said = re.search(r"renkei-xl history import (\S+) (\S+) で、2024年度のマスターの「経年」と", out)
    assert said and said.groups() == (later.name, master.name), out

    # The command it names, run as staff would: the year carried into the 2024 master.
    assert main(["history", "import", str(later.parent / said[1]), str(master.parent / said[2])]) == 0
    out = capsys.readouterr().out
    assert "・各シートの「前年度実績（2023年度）」の列も、2023年度のマスターの値にしました" in out, out
    assert read_history(_sheet_rows(later, c.HISTORY))["04-1"][2023] == \
        read_history(_sheet_rows(_rolled_again(master), c.HISTORY))["04-1"][2023]
    assert _previous(later, "南幌町", "04-1") == "7件"


def _sheet_rows(path: Path, sheet: str) -> list[list[object]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return [list(r) for r in wb[sheet].iter_rows(values_only=True)]
    finally:
        wb.close()


def _rolled_again(master: Path) -> Path:
    """What a rollover made now, after the late return, would hold: the reference."""
    from renkei_xl.cycle.rollover import rollover_file

    return rollover_file(master, out=master.with_name("again_2024年度.xlsx")).path


def _previous(path: Path, sheet: str, ind_id: str) -> object:
    rows = _sheet_rows(path, sheet)
    header = rows[0]
    col = next(i for i, h in enumerate(header) if str(h or "").startswith("前年度実績"))
    return next(r[col] for r in rows[1:] if r[0] == ind_id)


def test_master_changed_after_split_refuses_the_old_file(cycle):
    master, _, filled = cycle
    wb = openpyxl.load_workbook(master)
    ws = wb[c.INDICATORS]
    cols = {v: i for i, v in enumerate(next(ws.iter_rows(max_row=1, values_only=True)), start=1)}
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, cols["指標ID"]).value == "04-1")
    ws.cell(row, cols["目標値"]).value = "25件（毎年度）"
    wb.save(master)
    before = master.read_bytes()
    report = collect(master, [filled["小樽市"]])
    assert master.read_bytes() == before
    assert "配布し直して" in report.refused[0].reason


# ----------------------------------------------------------------------------- export

def _sheet_xml(zf: zipfile.ZipFile):
    return [n for n in zf.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A fresh FY2023 master exported once with its PDF (LibreOffice converts it, some
    seconds), for the tests that only read what it wrote; and how many times 一覧 was laid
    out for it (sheet_list.list_grid counted). (folder, export, layouts, digest of the
    .xlsx and the PDF, which each test checks are still as written.)"""
    from renkei_xl.core import sheet_list

    require_soffice()
    folder = tmp_path_factory.mktemp("exported")
    master = init_master(folder / "マスター.xlsm", sample="fy2023")
    laid, grid = [], sheet_list.list_grid
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sheet_list, "list_grid", lambda *a, **k: laid.append(a) or grid(*a, **k))
        done = export_master(master, pdf=True)
    return folder, done, len(laid), _export_digest(done)


def _export_digest(done) -> tuple[bytes, bytes]:
    return done.path.read_bytes(), done.pdf.read_bytes() if done.pdf else b""


def test_export_is_values_only_and_anonymous(exported, tmp_path, fy2023):
    folder, result, _layouts, written = exported
    assert _export_digest(result) == written
    out = result.path
    assert out == folder / "さっぽろ連携中枢都市圏_2023年度_連携事業実施状況等一覧.xlsx"
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        assert not any("vbaproject" in n.lower() for n in names)
        assert not any(n.startswith("xl/externalLinks") for n in names)
        assert "docProps/custom.xml" not in names
        for part in _sheet_xml(zf):
            assert ElementTree.fromstring(zf.read(part)).findall(".//m:f", NS) == [], part
        book = ElementTree.fromstring(zf.read("xl/workbook.xml"))
        sheets = [s.get("name") for s in book.findall(".//m:sheet", NS)]
        assert sheets == [c.LIST, c.SUMMARY]
        assert all(s.get("state", "visible") == "visible" for s in book.findall(".//m:sheet", NS))
        for dn in book.findall(".//m:definedName", NS):
            own = sheets[int(dn.get("localSheetId"))]
            referenced = set(re.findall(r"'?([^'!,]+)'?!", dn.text))
            assert referenced == {own}, dn.text
        core = ElementTree.fromstring(zf.read("docProps/core.xml"))
        for tag in ("{http://purl.org/dc/elements/1.1/}creator",
                    "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}lastModifiedBy"):
            node = core.find(tag)
            assert node is None or not (node.text or "").strip()
        app = zf.read("docProps/app.xml").decode()
        assert "<Company>" not in app and "<Manager>" not in app

    wb = openpyxl.load_workbook(out)
    assert all(ws.sheet_state == "visible" for ws in wb.worksheets)
    project_names = sorted({i.project_name for i in fy2023.indicators if not i.is_kpi})

    # LibreOffice opens the exported workbook itself
    from realbooks import lo_convert

    conv = lo_convert(out, tmp_path / "conv" / (out.stem + ".pdf"))
    for pdf in (result.pdf, conv):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        flat = re.sub(r"\s+", "", text)
        assert "連携事業" in flat
        found = [n for n in project_names if re.sub(r"\s+", "", n) in flat]
        assert len(found) >= 20, found
    info = subprocess.run(["pdfinfo", str(result.pdf)], capture_output=True, text=True, check=True).stdout
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert (round(width), round(height)) == (1191, 842)   # A3 landscape
    # The PDF's properties: the published title, the program, no author (the profile is fresh,
    # the source has no creator) and no file name of the source it was printed from.
    props = dict(re.findall(r"^(\w[\w ]*?):\s+(.*)$", info, re.M))
    assert props["Title"] == c.list_title(result.settings.region, 2023, confirmed=True), props
    assert "Author" not in props and "Subject" not in props and "Keywords" not in props, props
    detached = subprocess.run(["pdfdetach", "-list", str(result.pdf)], capture_output=True, text=True, check=True)
    assert detached.stdout.startswith("0 embedded files"), detached.stdout


def test_export_carries_nothing_the_staff_left_in_the_master(tmp_path):
    """What staff leave in a master never leaves the office in the 確定版: the key that seals
    returns (a hidden name), their names in the document properties and a custom property, a
    note and its author, a data validation's input message, a link to the file server, a
    hidden sheet and a name on it, their own 「備考」 column on 指標, and a note column beside
    一覧 (list_notes, kept on the master) hidden and in white. The 確定版 is a new workbook made
    from the recalculated result (workbook.fresh), so none has a way in; this holds it so."""
    from openpyxl.comments import Comment
    from openpyxl.packaging.custom import StringProperty
    from openpyxl.styles import Font
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.worksheet.datavalidation import DataValidation

    master = sample_master(tmp_path / "マスター.xlsx")
    wb = openpyxl.load_workbook(master)
    key = wb.defined_names["_renkei_key"].attr_text.strip('"')
    wb.properties.creator, wb.properties.lastModifiedBy = "山田太郎", "佐藤花子"
    wb.custom_doc_props.append(StringProperty(name="担当者", value="職員の鈴木"))
    ws = wb[c.INDICATORS]
    ws["A2"].comment = Comment("内部メモ: 公表前に課長確認", "高橋一郎")
    ws["B3"].hyperlink = "\\\\fileserver\\renkei\\内部資料.xlsx"
    ws.cell(1, ws.max_column + 1, "備考").offset(1, 0).value = "課内だけの備考"
    rule = DataValidation(type="list", formula1='"a,b"', promptTitle="入力の相談先", prompt="入力は伊藤まで")
    ws.add_data_validation(rule)
    rule.add("A2")
    wb.create_sheet("内部").sheet_state = "hidden"
    wb["内部"]["A1"] = "非公表の調整メモ"
    wb.defined_names["内部メモ"] = DefinedName("内部メモ", attr_text="'内部'!$A$1")
    listed = wb[c.LIST]
    listed["M5"] = "要確認（非公表）"
    listed["M5"].font = Font(color="FFFFFFFF")
    listed.column_dimensions["M"].hidden = True
    wb.save(master)
    out = export_master(master, tmp_path / "確定版.xlsx").path
    left = ("山田", "佐藤", "鈴木", "高橋", "伊藤", "内部", "fileserver", "相談先", "課内", "備考", "非公表", key[:16])
    for book in (master, out):
        with zipfile.ZipFile(book) as zf:
            written = b"".join(zf.read(n) for n in zf.namelist()).decode("utf-8")
        if book == master:      # each is in the master, where a leak would come from
            assert [t for t in left if t not in written] == []
    assert [t for t in left if t in written] == [], [t for t in left if t in written]


def test_export_lays_out_its_list_once_for_the_findings_the_file_and_the_pdf(exported, tmp_path, monkeypatch):
    """The 確定版's 一覧 was laid out for the texts its tallest rows cut (cut_note), again for
    the PDF's source and again for the .xlsx: some 0.2 s each at 20,000 indicators. One
    layout serves all three, and the PDF a button makes after the .xlsx (write_pdf) too.
    That PDF is printed by this process's running LibreOffice (realbooks.lo_convert), not
    one started for it: the layouts counted are export's own."""
    from realbooks import lo_convert
    from renkei_xl.core import sheet_list
    from renkei_xl.cycle import export
    from renkei_xl.cycle.export import write_pdf

    _folder, done, layouts, written = exported
    assert _export_digest(done) == written
    assert done.pdf is not None and layouts == 1
    laid, grid = [], sheet_list.list_grid
    monkeypatch.setattr(sheet_list, "list_grid", lambda *a, **k: laid.append(a) or grid(*a, **k))
    printed = []
    monkeypatch.setattr(export, "soffice_pdf", lambda _soffice, source, outdir: printed.append(source) or
                        lo_convert(source, outdir / (source.stem + ".pdf")))
    write_pdf(done.result, done.settings, tmp_path / "button.pdf", list_plan=done.list_plan)
    assert (tmp_path / "button.pdf").stat().st_size and laid == [] and len(printed) == 1


def test_a_list_an_earlier_version_printed_in_full_width_digits_is_not_stale(fy2023):
    """Versions up to 0b11feb7 (renkei-xl demo then) echoed staff's 「３回」 on 一覧 where this one
    prints 「3回」: export, rollover and history import said such a master's 一覧 differed in 12
    indicators, and sent staff to recalculate last year's closed master for a digit's width.
    The figures are compared whatever their digits' width; another figure, or a symbol, still is."""
    from renkei_xl.core.layout import list_grid
    from renkei_xl.core.pipeline import recalculate
    from renkei_xl.core.rollover import stale_rows

    result = recalculate(fy2023.settings, list(fy2023.indicators), list(fy2023.entries))
    rows = [list(r) for r in list_grid(result, fy2023.settings).rows]
    wide = str.maketrans("0123456789", "０１２３４５６７８９")
    changed = {r[c.LIST_ID_COL] for r in rows if len(r) > c.LIST_ID_COL and r[c.LIST_ID_COL]
               and str(r[c.LIST_ACTUAL_COL]) != str(r[c.LIST_ACTUAL_COL]).translate(wide)}
    earlier = [[*r[:c.LIST_ACTUAL_COL], str(r[c.LIST_ACTUAL_COL]).translate(wide), *r[c.LIST_ACTUAL_COL + 1:]]
               if len(r) > c.LIST_ID_COL and r[c.LIST_ID_COL] in changed else r for r in rows]
    assert {"02-1", "04-1", "05-2"} <= changed
    assert stale_rows(earlier, result, fy2023.settings) == []
    by_id = {r[c.LIST_ID_COL]: r for r in earlier if len(r) > c.LIST_ID_COL}
    by_id["02-1"][c.LIST_ACTUAL_COL] = "４回"            # another figure
    by_id["05-2"][c.LIST_SYMBOL_COL] = "◎"              # another symbol
    assert stale_rows(earlier, result, fy2023.settings) == ["02-1", "05-2"]


def test_export_recomputes_instead_of_trusting_a_stale_list(tmp_path, capsys):
    master = sample_master(tmp_path / "マスター.xlsx")
    recalc_file(master)
    assert list_rows(master)["04-1"][1] == "◎"
    wb = openpyxl.load_workbook(master)     # a value changed after the last 再計算
    ws = wb["札幌市"]
    row, cols = id_row(ws, "04-1")
    ws.cell(row, cols["実績値"]).value = 0
    wb.save(master)
    assert list_rows(master)["04-1"][1] == "◎"       # the master's 一覧 is stale
    done = export_master(master, tmp_path / "確定版.xlsx")
    assert list_rows(done.path)["04-1"][1] == "×"
    # ... and the rows where the master's 一覧 shows otherwise are named, as rollover names them
    assert done.stale == ("01-1", "04-1")
    assert main(["export", str(master), "-o", str(tmp_path / "確定版2.xlsx")]) == 0
    out = capsys.readouterr().out
    assert "【注意】マスターの「一覧」は、確定版（今の入力から計算した評価）と 2 指標で違います" in out
    # the warning and its step apart, as the button says them (they were one line, joined by 「。」)
    # and in the command line's own terms (core.face.step): the command to run, not a button
    assert f": 01-1、04-1\n　マスターで renkei-xl recalc {command_arg(str(master))} を実行し" in out, out
    recalc_file(master)
    assert export_master(master, tmp_path / "確定版3.xlsx").stale == ()
    assert main(["export", str(master), "-o", str(tmp_path / "確定版4.xlsx")]) == 0
    assert "【注意】" not in capsys.readouterr().out


def _export_by_smtp(master: Path, out: Path):
    """``renkei-xl export --smtp`` against a real SMTP server on 127.0.0.1: the exit code,
    and the server's record of what it received."""
    handler = Recorder()
    server = Controller(handler, hostname="127.0.0.1", port=_free_port())
    server.start()
    try:
        code = main(["export", str(master), "-o", str(out), "--smtp", f"127.0.0.1:{server.port}",
                     "--from", "office@city-sapporo.lg.jp", "--to", "renkei@otaru.lg.jp"])
    finally:
        server.stop()
    return code, handler


def test_export_after_a_partial_collect_names_the_municipalities_not_yet_collected(cycle, tmp_path, capsys):
    """Two of twelve returns collected, then 確定版を書き出し: the file went to every municipality
    computed from ten empty sheets, and nothing said so. The others are named (written all
    the same, exit 0), with the collect to run (it said 「回収ファイル取込をしてから」, a button's
    caption); before any collect (a master filled by hand) and once every return is in,
    nothing is said."""
    from renkei_xl.core.carry import command_arg

    master, _, filled = cycle
    names = list(filled)
    assert main(["export", str(master), "-o", str(tmp_path / "a.xlsx")]) == 0
    assert "取込履歴」に回収ファイルの取り込みがない" not in capsys.readouterr().out
    assert main(["collect", str(master), str(filled["小樽市"]), str(filled["千歳市"])]) == 0
    assert main(["export", str(master), "-o", str(tmp_path / "b.xlsx")]) == 0
    out = capsys.readouterr().out
    rest = [m for m in names if m not in ("小樽市", "千歳市")]
    assert (f"【注意】シート「取込履歴」に回収ファイルの取り込みがない市町村があります（{len(rest)} 市町村）: "
            f"{'、'.join(rest)}\n　確定版は、その市町村シートに今ある値で計算しています。\n") in out, out   # each one named
    # the step in the command line's terms: 「回収ファイル取込をしてから」 was the button's caption
    assert f"\n　回答が届いていれば renkei-xl collect {command_arg(str(master))} 回収 を実行してから、もう一度書き出して" in out, out
    assert (tmp_path / "b.xlsx").exists()
    assert main(["collect", str(master), *map(str, filled.values())]) == 0
    assert main(["export", str(master), "-o", str(tmp_path / "c.xlsx")]) == 0
    assert "取込履歴」に回収ファイルの取り込みがない" not in capsys.readouterr().out


def test_export_of_a_master_with_input_errors_writes_warns_and_exits_1(tmp_path, capsys):
    """validate said エラー 2 件 (exit 1), yet export wrote the 確定版 mailed to every
    municipality with exit 0 and only 「（入力エラーで評価不可の1件を除く）」 as a hint."""
    master = sample_master(tmp_path / "マスター.xlsx")
    wb = openpyxl.load_workbook(master)
    wb["札幌市"]["E2"] = "約10件"
    wb[c.INDICATORS]["H5"] = None
    wb.save(master)
    out = tmp_path / "確定版.xlsx"
    assert main(["export", str(master), "-o", str(out)]) == 1
    printed = capsys.readouterr().out
    assert out.is_file()                                   # written all the same
    assert "入力エラーが 2 件あります" in printed, printed
    assert "札幌市!E2" in printed and "指標!H5" in printed, printed
    # The printed 確定版 says a row is － for an input error, not where or what: the place and
    # the bad cell's content (「約10件」, or a name and phone number typed as a 実績値) are
    # the office's, and were published in the row's 連携事業実施状況等 (qa-export64).
    with zipfile.ZipFile(out) as zf:
        published = "".join(zf.read(n).decode("utf-8") for n in zf.namelist() if n.endswith(".xml"))
    said = re.findall(r"※入力エラーのため評価不可[^<]*", published)
    assert said and not any(x in t for t in said for x in ("札幌市!E2", "約10件", "指標!H5")), said
    (tmp_path / "きれい").mkdir()
    clean = sample_master(tmp_path / "きれい" / "マスター.xlsx")
    assert main(["export", str(clean), "-o", str(tmp_path / "きれい確定版.xlsx")]) == 0
    printed = capsys.readouterr().out
    assert "入力エラー" not in printed
    # Never recalculated: every row of its 一覧 differs, said in one line as the button says it
    # (core.rollover.stale_parts); the command line listed ten IDs and 「ほか 70 件」.
    assert ("【注意】マスターの「一覧」は、確定版（今の入力から計算した評価）と 80 指標で違います（すべての指標です。"
            f"評価を再計算していないようです）。マスターで renkei-xl recalc {command_arg(str(clean))} を実行し、一覧を確かめてください。"
            ) in printed, printed


def test_export_with_input_errors_does_not_send_the_mail(tmp_path, monkeypatch, capsys):
    """A 確定版 with － where the errors are went out by --smtp to every municipality, the
    warning printed after the fact. Now it is written, and not sent."""
    monkeypatch.delenv(smtp.ENV_USER, raising=False)
    monkeypatch.delenv(smtp.ENV_PASSWORD, raising=False)
    master = sample_master(tmp_path / "マスター.xlsx")
    wb = openpyxl.load_workbook(master)
    wb["札幌市"]["E2"] = "約10件"
    wb.save(master)
    out = tmp_path / "確定版.xlsx"
    code, handler = _export_by_smtp(master, out)
    assert code == 1 and out.is_file() and handler.envelopes == []
    printed = capsys.readouterr().out
    assert "メールは送信していません" in printed and "送信しました" not in printed, printed


def test_export_pdf_without_an_engine_writes_nothing(tmp_path, monkeypatch, capsys):
    """--pdf with neither Excel nor LibreOffice wrote (or replaced) the .xlsx and then said
    only that the PDF could not be made: a new .xlsx beside an older PDF. Now the engine is
    looked for first, and a conversion that fails also leaves both files as they were."""
    import renkei_xl.cycle.export as export

    master = sample_master(tmp_path / "マスター.xlsx")
    out = tmp_path / "確定版.xlsx"
    monkeypatch.setattr(export.shutil, "which", lambda name: None)
    monkeypatch.setattr(export, "_excel_possible", lambda: False)
    assert main(["export", str(master), "-o", str(out), "--pdf"]) == 2
    assert "確定版も PDF も書き出していません" in capsys.readouterr().err
    assert not out.exists() and not out.with_suffix(".pdf").exists()
    # an older pair stays a pair when the conversion itself fails
    out.write_bytes(b"old xlsx")
    out.with_suffix(".pdf").write_bytes(b"old pdf")
    monkeypatch.setattr(export.shutil, "which", lambda name: "/usr/bin/soffice")

    def broken(*_args):
        raise UserError("LibreOffice で PDF を作れませんでした")
    monkeypatch.setattr(export, "soffice_pdf", broken)
    assert main(["export", str(master), "-o", str(out), "--pdf"]) == 2
    assert "確定版も PDF も書き出していません" in capsys.readouterr().err
    assert out.read_bytes() == b"old xlsx" and out.with_suffix(".pdf").read_bytes() == b"old pdf"


def test_export_pdf_refuses_a_read_only_pdf_before_writing_the_confirmed_list(tmp_path, monkeypatch, capsys):
    """A 確定版 PDF marked read-only (kept as mailed) was found only after the new .xlsx had
    replaced the old one: a new list beside the old PDF, and a message saying both
    「書き出しました」 and 「何も書き込んでいません」. Now both targets are checked first."""
    import os
    import renkei_xl.cycle.export as export

    master = sample_master(tmp_path / "マスター.xlsx")
    out = tmp_path / "確定版.xlsx"
    out.write_bytes(b"old xlsx")
    old_pdf = out.with_suffix(".pdf")
    old_pdf.write_bytes(b"old pdf")
    os.chmod(old_pdf, 0o444)
    monkeypatch.setattr(export.shutil, "which", lambda name: "/usr/bin/soffice")

    def made(_soffice, source, outdir):
        pdf = outdir / (source.stem + ".pdf")
        pdf.write_bytes(b"new pdf")
        return pdf
    monkeypatch.setattr(export, "soffice_pdf", made)
    assert main(["export", str(master), "-o", str(out), "--pdf"]) == 2
    err = capsys.readouterr().err
    assert "読み取り専用" in err and "書き出しましたが" not in err, err
    assert out.read_bytes() == b"old xlsx" and old_pdf.read_bytes() == b"old pdf"


@pytest.mark.parametrize("command", ["export", "split"])
def test_a_file_made_from_a_master_open_in_excel_says_that_unsaved_edits_are_not_in_it(tmp_path, capsys, command):
    """The 確定版 (its PDF, its mail) and the input files come from the master as last saved:
    with the master open in Excel, edits not yet saved were silently left out of what is mailed."""
    master = sample_master(tmp_path / "マスター.xlsx")
    args = ["-o", str(tmp_path / "確定版.xlsx")] if command == "export" else ["--outdir", str(tmp_path / "配布")]
    assert main([command, str(master), *args]) == 0
    assert "Excel で開かれています" not in capsys.readouterr().out
    (tmp_path / "~$マスター.xlsx").write_bytes(b"")
    assert main([command, str(master), *args]) == 0
    printed = capsys.readouterr().out
    assert "保存していない変更は含みません" in printed and "Excel で開かれています" in printed, printed


def test_split_keeps_a_different_file_it_replaces_and_says_so(tmp_path, capsys, monkeypatch):
    """A municipality's filled-in file saved into 配布用 under the issued name was replaced
    by a blank one on the next split, without a backup. A file byte for byte what split
    writes needs none."""
    from renkei_xl.cycle import distribute
    from renkei_xl.safety import list_backups

    monkeypatch.setattr(distribute, "now", lambda: dt.datetime(2024, 4, 8, 9, 0))   # before the deadline

    master = sample_master(tmp_path / "マスター.xlsx")
    outdir = tmp_path / "配布用"
    issued = dt.datetime(2024, 4, 5, 9, 0)
    files = split_master(master, outdir, deadline=dt.date(2024, 4, 19), issued=issued)
    assert files.backups == {}
    again = split_master(master, outdir, deadline=dt.date(2024, 4, 19), issued=issued)
    assert again.backups == {}             # the same issue, byte for byte: nothing backed up
    assert all(list_backups(path) == [] for path in again)
    returned = files[1]
    wb = openpyxl.load_workbook(returned)
    ws = wb.active
    top, cols = header_row(ws)
    ws.cell(top + 1, cols["実績値"]).value = 12345
    wb.save(returned)
    filled = returned.read_bytes()
    assert main(["split", str(master), "--outdir", str(outdir), "--deadline", "2024-04-19"]) == 0
    printed = capsys.readouterr().out
    kept = list_backups(returned)
    assert len(kept) == 1 and kept[0].read_bytes() == filled
    assert "上書きする前に" in printed and returned.name in printed, printed
    assert returned.read_bytes() != filled
    # the files made, as the button lists them (distribute.written_listing), under where they
    # are: one 「作成: …」 line a file was printed, however many municipalities 設定 lists
    from renkei_xl.cycle.distribute import written_listing

    listing = written_listing(again)
    assert f"保存先: {outdir}\n{listing.render(listing.most)}\n" in printed, printed


def test_split_again_backs_up_only_what_differs_beyond_its_issue_time(tmp_path, capsys, monkeypatch):
    """Re-running split a minute later (nothing changed in the master) backed up every file
    of 配布用, and said so: only the issue stamp differed. A draft made earlier was
    replaced without a backup or a word, even one staff had edited. Now a file or draft
    that differs only in what each split makes anew is replaced quietly; one that says
    something else (staff's edit, another deadline) is kept and named."""
    from renkei_xl.cycle import distribute
    from renkei_xl.safety import list_backups

    master = sample_master(tmp_path / "マスター.xlsx")
    outdir = tmp_path / "配布用"
    monkeypatch.setattr(distribute, "now", lambda: dt.datetime(2024, 4, 5, 9, 0))
    args = ["split", str(master), "--outdir", str(outdir), "--deadline", "2024-04-19", "--eml"]
    assert main(args) == 0
    monkeypatch.setattr(distribute, "now", lambda: dt.datetime(2024, 4, 5, 9, 7))
    capsys.readouterr()
    assert main(args) == 0
    printed = capsys.readouterr().out
    made = sorted(outdir.iterdir())
    assert len(made) == 24 and all(p.is_file() for p in made), made   # no backup folder
    assert "上書きする前に" not in printed, printed
    draft = outdir / "小樽市_2023年度_入力依頼.eml"
    edited = draft.read_bytes().replace(b"To: ", b"Cc: kacho@example.lg.jp\r\nTo: ", 1)
    draft.write_bytes(edited)
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert [p.read_bytes() for p in list_backups(draft)] == [edited]
    assert "上書きする前に" in printed and draft.name in printed, printed
    assert sum(1 for p in outdir.iterdir() if p.is_dir()) == 1
    assert main(args[:-3] + ["--deadline", "2024-04-22", "--eml"]) == 0    # another deadline: each kept
    assert sum(1 for p in outdir.iterdir() if p.is_dir()) == 24
    assert "24 件" in capsys.readouterr().out


def test_split_into_a_file_named_like_the_folder_is_refused_in_japanese(tmp_path, capsys):
    master = sample_master(tmp_path / "マスター.xlsx")
    (tmp_path / "配布用").write_text("x")
    assert main(["split", str(master), "--outdir", str(tmp_path / "配布用")]) == 2
    err = capsys.readouterr().err
    assert "同じ名前のファイルがあります" in err and "予期しない" not in err, err


# ------------------------------------------------------------------------------- mail

def _attachments(msg):
    return [(part.get_filename(), part.get_payload(decode=True)) for part in msg.iter_attachments()]


def test_split_eml_drafts_address_each_municipality(tmp_path, fy2023, capsys, monkeypatch):
    from renkei_xl.cycle import distribute

    monkeypatch.setattr(distribute, "now", lambda: dt.datetime(2024, 4, 5, 10, 0))  # before the deadline
    master = sample_master(tmp_path / "マスター.xlsx")
    outdir = tmp_path / "配布"
    assert main(["split", str(master), "--outdir", str(outdir), "--eml", "--deadline", "2024-04-19"]) == 0
    central = fy2023.settings.central
    for muni in fy2023.settings.municipalities:
        book = outdir / file_name(muni.name, 2023)
        eml = outdir / (book.stem + "依頼.eml")
        msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        assert msg["X-Unsent"] == "1"
        assert [a.addr_spec for a in msg["To"].addresses] == [muni.email]
        assert [a.addr_spec for a in msg["From"].addresses] == [central.email]
        assert muni.name in msg["Subject"]
        assert "2024年4月19日（金）" in msg.get_body().get_content()
        assert msg.get_body().get_content().rstrip().endswith(f"\nメール: {central.email}")   # 「下記まで」
        assert _attachments(msg) == [(book.name, book.read_bytes())]


def _set_address(master: Path, municipality: str, address, **others) -> None:
    """``address`` typed over ``municipality``'s メールアドレス on 設定, and each of ``others``
    (municipality=address) with it: one openpyxl load and save for them all."""
    wb = openpyxl.load_workbook(master)
    ws = wb[c.SETTINGS]
    for name, value in {municipality: address, **others}.items():
        [cell] = [row[3] for row in ws.iter_rows() if row[0].value == name]
        assert "@" in cell.value, cell.coordinate      # the メールアドレス column
        cell.value = value
    wb.save(master)


def test_split_eml_with_a_bad_address_makes_nothing_and_names_the_municipality(tmp_path, capsys):
    """A full-width ＠ in the seventh municipality's address stopped split after seven input
    files and six drafts, naming the address alone. Now every address is checked first."""
    master = sample_master(tmp_path / "マスター.xlsx")
    _set_address(master, "北広島市", "kikaku＠city.example.jp", 長沼町="kikaku@town．naganuma.example")
    outdir = tmp_path / "配布"
    assert main(["split", str(master), "--outdir", str(outdir), "--eml"]) == 2
    err = capsys.readouterr().err
    assert "シート「設定」の北広島市（設定!D16）のメールアドレス「kikaku＠city.example.jp」" in err, err
    assert "シート「設定」の長沼町（設定!D21）のメールアドレス「kikaku@town．naganuma.example」" in err, err   # both at once
    assert not outdir.exists() or not any(outdir.iterdir())


@pytest.mark.parametrize("region,said", [
    ("さっぽろ連携中枢\n都市圏", "シート「設定」の圏域名「さっぽろ連携中枢都市圏」の9文字目に改行（Alt+Enter）が"),
    ("さっぽろ連携中枢都市圏\x85", "設定!B2: 圏域名「さっぽろ連携中枢都市圏」の12文字目に制御文字 U+0085 が")])
def test_split_eml_with_a_line_break_in_the_region_makes_nothing(tmp_path, capsys, region, said):
    """圏域名 typed with Alt+Enter stopped split --eml after its first file, saying only
    「メールの件名に改行を含めることはできません」. Now it is refused first, naming 圏域名. A NEL
    (U+0085, kept by the cell's strip as a control character) at its end passed the check,
    which counted lines, and stood mid-subject (「【…\x85】…」), where the email package takes
    it for a line break: export --smtp stopped with 「予期しないエラー」 (make fuzz,
    mail:13451516:328). The message names the break by place and code point: a NEL shows as nothing.
    A control character is refused as 設定 is read, for every command (it titles 一覧 too:
    contract_read.read_settings, qa-91); the mail's check names the line breaks left to it."""
    master = sample_master(tmp_path / "マスター.xlsx")
    wb = openpyxl.load_workbook(master)
    [(sheet, ref)] = wb.defined_names[c.N_REGION].destinations
    wb[sheet][ref.replace("$", "")] = region
    wb.save(master)
    outdir = tmp_path / "配布"
    assert main(["split", str(master), "--outdir", str(outdir), "--eml"]) == 2
    err = capsys.readouterr().err
    assert f"{said}入っています" in err, err
    assert not outdir.exists() or not any(outdir.iterdir())


def test_export_eml_does_not_leave_out_a_municipality_without_an_address(tmp_path, capsys):
    """The 確定版 went to the eleven municipalities with an address, and the twelfth was
    left out without a word (exit 0). Now the mail is refused, naming it, and before the
    確定版 is written (it was written first, the refusal after): so is a bad --to or --from."""
    master = sample_master(tmp_path / "マスター.xlsx")
    _set_address(master, "北広島市", None)
    out = tmp_path / "確定版.xlsx"
    refused = {(): "北広島市（設定!D16） のメールアドレスが空です",
               ("--to", "a＠city.example.jp"): "宛先のメールアドレス「a＠city.example.jp」",
               ("--to", "a@city.example.jp", "--from", "b＠city.example.jp"): "差出人のメールアドレス"}
    for given, says in refused.items():
        for mailed in (["--eml"], ["--smtp", "127.0.0.1:9"]):
            assert main(["export", str(master), "-o", str(out), *mailed, *given]) == 2, (mailed, given)
            err = capsys.readouterr().err
            assert says in err and "1つのセル" not in err, err      # --to and --from are not cells
            assert not out.exists() and not out.with_suffix(".eml").exists(), (mailed, given)
    assert main(["export", str(master), "-o", str(out), "--eml", "--to", "a@city.example.jp"]) == 0


def test_an_address_copied_into_another_municipalitys_row_is_said_before_the_mail(tmp_path, capsys, fy2023):
    """岩見沢市's address dragged down over 小樽市's (Excel's fill handle): 小樽市's request draft
    went to 岩見沢市, and the 確定版 went to that mailbox once (each mailbox once), 小樽市 left out
    of To, exit 0 and no word. Now both faces say it before the mail, naming both cells; a cell
    adding the office's own address beside the municipality's stays unsaid.

    The sample's own addresses (renkei@otaru.example) are no recipients: drafts to them were
    made without a word. Both commands say so, naming each cell, as --smtp's refusal does."""
    master = sample_master(tmp_path / "マスター.xlsx")
    iwamizawa = next(m.email for m in fy2023.settings.municipalities if m.name == "岩見沢市")
    _set_address(master, "小樽市", iwamizawa, 江別市=f"{fy2023.settings.central.email}; kikaku@ebetsu.lg.jp")
    said = f"　小樽市（設定!D11）、岩見沢市（設定!D12）: {iwamizawa}"
    placeholder = ("【注意】例示用に予約されたドメイン（.example・.test・.invalid・.localhost・example.com など）の"
                   "メールアドレスには、メールが届きません")
    cells = [f"　小樽市（設定!D11）: {iwamizawa}\n", "　江別市（設定!D13）: renkei@city-sapporo.example\n",
             "　長沼町（設定!D21）: renkei@naganuma.example\n"]
    assert main(["export", str(master), "-o", str(tmp_path / "確定版.xlsx"), "--eml"]) == 0
    out = capsys.readouterr().out
    assert "【注意】シート「設定」で、メールアドレスが同じ市町村があります" in out and said in out, out
    assert out.index(said) < out.index("メール下書き") and "江別市" not in out.split("【注意】")[1]
    assert placeholder in out and all(x in out for x in cells) and out.index(placeholder) < out.index("メール下書き"), out
    assert main(["split", str(master), "--outdir", str(tmp_path / "配布"), "--eml"]) == 0
    out = capsys.readouterr().out
    assert said in out and placeholder in out and all(x in out for x in cells), out


def test_export_eml_draft_to_every_municipality(tmp_path, fy2023):
    master = sample_master(tmp_path / "マスター.xlsx")
    out = tmp_path / "確定版.xlsx"
    assert main(["export", str(master), "-o", str(out), "--eml"]) == 0
    msg = email.message_from_bytes(out.with_suffix(".eml").read_bytes(), policy=email.policy.default)
    assert msg["X-Unsent"] == "1"
    assert [a.addr_spec for a in msg["To"].addresses] == [m.email for m in fy2023.settings.municipalities]
    # each named after its municipality: what Outlook shows, and what a refusal names
    assert [a.display_name for a in msg["To"].addresses] == [m.name for m in fy2023.settings.municipalities]
    assert [a.addr_spec for a in msg["From"].addresses] == [fy2023.settings.central.email]
    assert "確定版" in msg["Subject"]
    assert _attachments(msg) == [(out.name, out.read_bytes())]


def test_export_again_keeps_only_a_confirmed_list_that_differs_and_its_pdf(tmp_path, capsys, monkeypatch):
    """Exported again from an unchanged master, the 確定版 left a backup at every run (only
    its document dates differed), while its PDF was replaced without one even when the
    list had changed: the pair once mailed was lost. Now an unchanged 確定版 is replaced
    quietly, and a changed one is kept with its PDF, and the command says where.

    The three PDFs are made by this process's running LibreOffice (realbooks.lo_convert),
    not by a LibreOffice started with a profile of its own for each (~2 CPU-s a PDF): what
    is kept and said does not depend on which office printed them; export's own start of
    LibreOffice is held by the module's exported master (test_export_is_values_only_and_anonymous)."""
    from realbooks import lo_convert
    from renkei_xl.cycle import export
    from renkei_xl.safety import list_backups

    require_soffice()
    printed = []
    monkeypatch.setattr(export, "soffice_pdf", lambda _soffice, source, outdir: printed.append(source) or
                        lo_convert(source, outdir / (source.stem + ".pdf")))
    master = sample_master(tmp_path / "マスター.xlsx")
    out = tmp_path / "確定版" / "一覧.xlsx"
    args = ["export", str(master), "-o", str(out), "--pdf"]
    assert main(args) == 0 and main(args) == 0
    assert list_backups(out) == [] and list_backups(out.with_suffix(".pdf")) == []
    mailed, mailed_pdf = out.read_bytes(), out.with_suffix(".pdf").read_bytes()
    assert "残しました" not in capsys.readouterr().out
    set_cell(master, "小樽市", "04-1", "実績値", 5)
    assert main(args) == 0
    [kept] = list_backups(out)
    [kept_pdf] = list_backups(out.with_suffix(".pdf"))
    assert kept.read_bytes() == mailed != out.read_bytes() and kept_pdf.read_bytes() == mailed_pdf
    assert f"前に書き出した内容の違う確定版は「{kept.parent}」に残しました" in capsys.readouterr().out
    assert len(printed) == 3, printed


def test_export_keeps_an_earlier_draft_that_says_something_else(tmp_path, capsys):
    """The 確定版's draft was written over without a backup or a word, even after staff
    had edited it; one that differs only in its date and message id needs none."""
    from renkei_xl.safety import list_backups

    master = sample_master(tmp_path / "マスター.xlsx")
    out = tmp_path / "確定版.xlsx"
    draft = out.with_suffix(".eml")
    args = ["export", str(master), "-o", str(out), "--eml"]
    assert main(args) == 0 and main(args) == 0
    assert list_backups(draft) == [] and "下書きは" not in capsys.readouterr().out
    edited = draft.read_bytes().replace(b"To: ", b"Bcc: kacho@example.lg.jp\r\nTo: ", 1)
    draft.write_bytes(edited)
    assert main(args) == 0
    [kept] = list_backups(draft)
    assert kept.read_bytes() == edited and f"「{kept}」に残しました" in capsys.readouterr().out


class Recorder:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


def test_export_smtp_delivers_the_workbook(tmp_path, monkeypatch, capsys, fy2023):
    """The sample's contacts (renkei@otaru.example) are no recipients: --smtp tried to send to
    them. Refused before the 確定版 is written, naming each cell, --to or --from that holds
    one; ordinary addresses go."""
    monkeypatch.delenv(smtp.ENV_USER, raising=False)
    monkeypatch.delenv(smtp.ENV_PASSWORD, raising=False)
    master = sample_master(tmp_path / "マスター.xlsx")
    out = tmp_path / "確定版.xlsx"
    refused = {(): ["　札幌市（設定!D10）: renkei@city-sapporo.example", "　小樽市（設定!D11）: renkei@otaru.example"],
               ("--to", "a@otaru.test", "--from", "b@city-sapporo.lg.jp"): ["　--to: a@otaru.test"],
               ("--to", "a@otaru.lg.jp", "--from", "b@mail.example.com"): ["　--from（差出人）: b@mail.example.com"],
               ("--to", "a@otaru.lg.jp"): ["　札幌市（設定!D10）（差出人）: renkei@city-sapporo.example"]}
    for given, cells in refused.items():
        assert main(["export", str(master), "-o", str(out), "--smtp", "127.0.0.1:9", *given]) == 2, given
        err = capsys.readouterr().err
        assert "例示用に予約されたドメイン（.example・.test・.invalid・.localhost・example.com など）" in err, err
        assert "メールは送信していません" in err and all(f"{x}\n" in err + "\n" for x in cells), err
        assert not out.exists(), given
    code, handler = _export_by_smtp(master, out)
    assert code == 0
    [envelope] = handler.envelopes
    assert envelope.mail_from == "office@city-sapporo.lg.jp"
    assert envelope.rcpt_tos == ["renkei@otaru.lg.jp"]
    msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert msg["X-Unsent"] is None
    assert _attachments(msg) == [(out.name, out.read_bytes())]


def test_export_smtp_sends_from_the_central_city_to_every_municipality(tmp_path, monkeypatch, capsys, fy2023):
    """--from's help says the sender defaults to 設定's central city, as the draft's does;
    --smtp refused without it, and only after the 確定版 was written. A server that takes
    five recipients per mail: the command names who got it and gives the rest for --to."""
    monkeypatch.delenv(smtp.ENV_USER, raising=False)
    monkeypatch.delenv(smtp.ENV_PASSWORD, raising=False)

    class FivePerMail(Recorder):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if len(envelope.rcpt_tos) >= 5:
                return "452 4.5.3 Too many recipients"
            envelope.rcpt_tos.append(address)
            return "250 OK"

    master = with_sendable_contacts(sample_master(tmp_path / "マスター.xlsx"))
    out = tmp_path / "確定版.xlsx"
    handler = FivePerMail()
    server = Controller(handler, hostname="127.0.0.1", port=_free_port())
    server.start()
    try:
        code = main(["export", str(master), "-o", str(out), "--smtp", f"127.0.0.1:{server.port}"])
        err = capsys.readouterr().err
        rest = err.rsplit(": ", 1)[1].split()
        assert code == 2 and rest == [sendable(m.email) for m in fy2023.settings.municipalities[5:]], err
        assert "5 件の宛先には送信しました（札幌市 <" in err and "恵庭市 <" in err, err
        assert main(["export", str(master), "-o", str(out), "--smtp", f"127.0.0.1:{server.port}", "--to", *rest]) == 2
        assert "5 件の宛先には送信しました（恵庭市 <renkei@eniwa.lg.jp>" in capsys.readouterr().err   # named again
        assert main(["export", str(master), "-o", str(out), "--smtp", f"127.0.0.1:{server.port}",
                     "--to", *rest[5:]]) == 0
    finally:
        server.stop()
    first, second, third = handler.envelopes
    assert first.mail_from == sendable(fy2023.settings.central.email)
    served = first.rcpt_tos + second.rcpt_tos + third.rcpt_tos
    assert served == [sendable(m.email) for m in fy2023.settings.municipalities]


# -------------------------------------------- the master's municipality sheet after the split

def test_a_master_sheet_staff_sorted_after_the_split_still_takes_the_returns(cycle, tmp_path, capsys):
    """Staff sort 小樽市's rows in Calc (descending 指標ID) after the files went out. The
    return answers the same questions: it is imported, each value into its own 指標ID's row.
    Before, every return of that municipality was refused as a stale template
    (「指標ID・目標値が変わった」, 配布し直して), its fingerprint taken in the master's order."""
    from realbooks import lo_rows_edit

    master, _, filled = cycle
    sorted_master = lo_rows_edit(master, tmp_path / "並べ替え" / master.name, "小樽市", sort="A1:G8")
    shutil.copyfile(sorted_master, master)
    wanted = {"04-1": 11, "05-1": 9, "28-1": 1}
    for ind_id, value in wanted.items():
        set_cell(filled["小樽市"], "小樽市", ind_id, "実績値", value)

    report = collect(master, [filled["小樽市"]])
    assert not report.refused, report.refused
    ids = [r[0] for r in openpyxl.load_workbook(master)["小樽市"].iter_rows(min_row=2, max_col=1, values_only=True)]
    assert ids == sorted(ids, reverse=True)          # the staff's order is kept
    assert {i: cell_of(master, "小樽市", i, "実績値") for i in wanted} == wanted


def test_a_row_staff_deleted_from_the_master_after_the_split_is_said_to_be_the_masters(cycle, tmp_path):
    """Staff delete 小樽市's 05-1 row in Calc (行の削除) after the split; 小樽市's return is as
    issued. The refusal says the master's row went, not that the file has a row the split
    never made (「配布時になかった行があります」 sent staff after the municipality)."""
    from realbooks import lo_rows_edit

    master, _, filled = cycle
    edited = lo_rows_edit(master, tmp_path / "削除" / master.name, "小樽市", remove_row=3)
    assert cell_of(edited, "小樽市", "04-1", "指標ID") == "04-1"
    shutil.copyfile(edited, master)
    before = master.read_bytes()

    [refusal] = collect(master, [filled["小樽市"]]).refused
    assert refusal.reason.startswith("配布した後で、マスターの市町村シート「小樽市」の指標ID 05-1 の行がなくなりました"), \
        refusal.reason
    assert "配布時になかった" not in refusal.reason
    assert master.read_bytes() == before


def test_a_row_staff_added_to_the_master_after_the_split_takes_the_return_and_names_the_row(cycle, capsys):
    """Staff add an indicator's row (03-1) to 小樽市's sheet after the files went out. Every
    return out was refused as a stale template, to be issued again, though each still answers
    what it was asked (its seal says so). It is taken for its rows; 03-1 is named as not in
    it, on the screen and in 取込履歴, and the command exits 1 (something is still to do)."""
    master, _, filled = cycle
    wb = openpyxl.load_workbook(master)
    ws = wb["小樽市"]
    ws.append(["03-1"])
    added_at = f"A{ws.max_row}"
    wb.save(master)
    set_cell(filled["小樽市"], "小樽市", "05-1", "実績値", 4)

    code = main(["collect", str(master), str(filled["小樽市"])])
    out = capsys.readouterr().out
    assert code == 1
    assert (f"取り込みません: 小樽市_2023年度_入力.xlsx: 小樽市!{added_at} 03-1: 配布した後でマスターの市町村シートに"
            f"加わった行です（マスターの 小樽市!{added_at}）。このファイルにはこの行がないため、小樽市の値は入っていません") in out, out
    assert taken(out).get("小樽市_2023年度_入力.xlsx") == "小樽市"
    assert cell_of(master, "小樽市", "05-1", "実績値") == 4
    log = list(openpyxl.load_workbook(master)[c.IMPORT_LOG].iter_rows(values_only=True))
    assert log[1][6].startswith(f"小樽市!{added_at}（配布した後でマスターの市町村シートに加わった行です"), log
    assert log[1][7] is None, log      # its 指標ID: no answer was sent, none is outstanding


def test_a_row_staff_added_while_another_went_is_still_refused(cycle, tmp_path):
    """A row the master lost since the split still refuses the file: its answer there would
    have nowhere to go."""
    from realbooks import lo_rows_edit

    master, _, filled = cycle
    edited = lo_rows_edit(master, tmp_path / "削除" / master.name, "小樽市", remove_row=3)
    shutil.copyfile(edited, master)
    wb = openpyxl.load_workbook(master)
    wb["小樽市"].append(["03-1"])
    wb.save(master)
    [refusal] = collect(master, [filled["小樽市"]]).refused
    assert refusal.reason.startswith("配布した後で、マスターの市町村シート「小樽市」の指標ID 03-1 の行が加わりました。"
                                     "指標ID 05-1 の行がなくなりました"), refusal.reason


def test_a_row_the_municipality_deleted_is_still_the_files(cycle):
    """The other way round: the file lost a row the master still has (its sheet unprotected)."""
    master, _, filled = cycle
    wb = openpyxl.load_workbook(filled["小樽市"])
    ws = wb["小樽市"]
    row, cols = id_row(ws, "05-1")
    ws.protection.sheet = False
    ws.delete_rows(row)
    wb.save(filled["小樽市"])

    [refusal] = collect(master, [filled["小樽市"]]).refused
    assert refusal.reason == "シート「小樽市」の行が削除されています（指標ID 05-1）", refusal.reason


def test_a_dash_typed_as_an_answer_is_said_by_collect_as_the_masters_check_says_it(cycle):
    """「－」 「―」 「-」 typed as 実績値 are imported as no report (read as empty), and
    入力チェック on the master warns of each (findings.DASH_AS_EMPTY); collect said nothing.
    Both faces of collect now give the master's own finding, naming the file and the
    returned cell; after the import the master's check says the same words of its cell."""
    from renkei_xl.core.validate import validate
    from renkei_xl.cycle.collect.records import noted_line

    master, _, filled = cycle
    path = filled["小樽市"]
    typed = {"04-1": "－", "06-1": "―", "08-1": "-"}
    wb = openpyxl.load_workbook(path)
    ws = wb["小樽市"]
    places = {}
    for ind_id, dash in typed.items():
        row, cols = id_row(ws, ind_id)
        ws.cell(row, cols["実績値"]).value = dash
        places[ind_id] = f"小樽市!{ws.cell(row, cols['実績値']).coordinate}"
    wb.save(path)
    report = collect(master, [path])
    assert report.written is not None and not report.refused and not report.held
    said = {f.indicator_id: (name, f.place, f.message) for name, f in report.noted}
    assert {i: (n, p) for i, (n, p, _m) in said.items()} == {i: (path.name, p) for i, p in places.items()}, said
    checked = {f.indicator_id: f.message for f in validate(*(lambda d: (d.settings, d.indicators, d.entries))(
        load_master(master))) if f.sheet == "小樽市" and f.indicator_id in typed}
    assert {i: m for i, (_n, _p, m) in said.items()} == checked, (said, checked)
    assert checked["04-1"] == "実績値「－」は値がないことを表す記号のため、空欄（報告なし）として扱います"
    lines = [noted_line(name, f) for name, f in report.noted]
    shown = "\n".join(collect_lines(report))     # the command line's lines, the button's parts
    assert all(f"・{line}" in shown for line in lines), shown


def _rows_inserted_above(count: int):
    """``count`` empty rows inserted at the top of the sheet (the protection lifted): the
    header row moves from split's row 19 to 19 + ``count``."""
    return lambda path: _on_the_sheet(path, lambda ws, top, cols: ws.insert_rows(2, count))


def _header_in_full_width(path: Path) -> None:
    """「指標ID」 「実績値」 typed over with the IME's full-width letters and digits: the same
    headers but for their width (NFKC)."""
    def edit(ws, top, cols):
        ws.cell(top, cols["指標ID"]).value = "指標ＩＤ"
        ws.cell(top, cols["単位"]).value = "単位 "
    _on_the_sheet(path, edit)


@pytest.mark.parametrize("edit", [_rows_inserted_above(2), _rows_inserted_above(30), _header_in_full_width],
                         ids=["two rows inserted above", "thirty rows inserted above", "header in full width"])
def test_a_header_moved_down_or_typed_in_another_width_is_still_the_issued_header(cycle, edit):
    """Two rows inserted above the table moved the header past the 20 rows it is looked for
    in, and a 「指標ＩＤ」 differs from 「指標ID」 by its width only: each return was refused as
    「見出しが変更されています」. The header row that holds split's hidden 配布時の… headers is
    split's (the seal covers their values), and a width is no change: the return is taken."""
    master, _, filled = cycle
    edit(filled["小樽市"])
    report = collect(master, [filled["小樽市"]], dry_run=True)
    assert not report.refused and [r.municipality for r in report.records] == ["小樽市"], collect_lines(report)
    assert {ch.indicator_id for ch in report.changes} == {"04-1", "06-1", "08-1", "28-1"}, collect_lines(report)


def test_a_header_moved_down_in_a_file_without_its_hidden_columns_says_rows_were_inserted(cycle):
    """Without split's hidden columns nothing tells the header row moved down for split's:
    refused, naming what happened instead of 「見出しが変更されています」."""
    master, _, filled = cycle
    _hidden_columns_removed(filled["小樽市"], None)
    _rows_inserted_above(2)(filled["小樽市"])
    [refusal] = collect(master, [filled["小樽市"]], dry_run=True).refused
    assert refusal.reason.startswith("シート「小樽市」の表の上に行が挿入され、見出しの行が 21 行目に移っています"), refusal.reason


def test_a_target_staff_changed_after_the_split_is_named_in_the_refusal(cycle):
    """Staff change 04-1's 目標値 in 指標 mid-year. The return is refused as before (it was
    answered against the old target), now naming the indicator, its 指標 cell and the target
    as issued and as it is: the refusal said only 「指標（指標ID・目標値）が変わった」, and
    staff had to find which of the file's indicators it was."""
    master, _, filled = cycle
    with opened(master) as fs:
        ind = next(i for i in fs.data.indicators if i.id == "04-1")
    wb = openpyxl.load_workbook(master)
    wb[c.INDICATORS][ind.cell("target")] = "25件（毎年度）"
    wb.save(master)

    [refusal] = collect(master, [filled["小樽市"]]).refused
    assert refusal.reason == ("配布した後でマスターの指標（指標ID・目標値）が変わったため、このファイルは古い様式です"
                              f"（目標値を変えた指標: 04-1（指標!{ind.cell('target')}）「{ind.target}」→「25件（毎年度）」）。"
                              "入力用ファイルを配布し直してください"), refusal.reason


def test_a_folder_holding_only_a_full_width_named_return_may_be_a_return(tmp_path):
    """A subfolder of 回収 holding only 「小樽市.ｘｌｓｘ」 was not counted as one that may hold
    a return (its extension read as typed), while the same file loose in 回収 was."""
    from renkei_xl.cycle.collect.paths import may_be_a_return

    folder = tmp_path / "回収" / "小樽市から"
    folder.mkdir(parents=True)
    (folder / "小樽市_2023年度_入力.ｘｌｓｘ").write_bytes(b"PK")
    assert may_be_a_return(folder)
    assert not may_be_a_return(tmp_path / "回収" / "空") and not may_be_a_return(tmp_path / "nothing")


def test_the_import_log_names_a_held_cell_with_its_value_whole():
    """取込履歴's 取り込まなかったセル shows each cell with its message's first clause: it was cut
    at the first 「（」, inside the value, so 「12（見込み）」 read 「…「12」 with no reason."""
    from renkei_xl.core import findings as F
    from renkei_xl.cycle.collect.records import held_cells

    f = F.NOT_A_NUMBER.at("小樽市", "E5", "01-1", value="約12（見込み）")
    shown = held_cells([f])
    assert shown == "小樽市!E5（数値を入力するセルに「約12（見込み）」と入力されています）", shown
    g = F.UNKNOWN_ID.at("小樽市", "B9", "", id="99-9", like="")
    assert held_cells([g]) == "小樽市!B9（指標ID「99-9」は指標シートにありません）"
    cut = F.NO_RESULT.at("小樽市", "F5", "01-1")   # a 「（」 outside the quotes still ends it
    assert held_cells([cut]) == "小樽市!F5（数式に計算結果が保存されていません）"


def test_a_log_column_added_since_goes_after_staffs_notes_beside_the_log():
    """A 取込履歴 of an earlier version (no 取込時のマスターの値) with staff's notes in the column
    after it, on rows but not on the header row: the new header went into that column, over
    the notes, and a note on a row of its own was then read as a record with no 市町村."""
    from renkei_xl.core.sheet_import_log import import_log_writes
    from renkei_xl.cycle.collect.records import LOG_COLUMNS

    old = list(LOG_COLUMNS[:-1])
    grid = [old, ["前.xlsx", "小樽市", None, 1, "0" * 64, None, "", "要確認"], [None] * 7 + ["メモ"]]
    sheet, edits = import_log_writes(grid, LOG_COLUMNS, [["新.xlsx", "小樽市", None, 2, "1" * 64, None, "", "x"]])
    assert sheet is None
    header = [(e.col, e.value) for e in edits if e.row == 1]
    assert header == [(len(old) + 2, LOG_COLUMNS[-1])], header      # after staff's column H
    assert {(e.col, e.value) for e in edits if e.row == 4} >= {(len(old) + 2, "x")}


def test_a_return_of_another_year_in_digits_staff_do_not_type_is_read_as_no_year(cycle, tmp_path):
    """「٢٠٢٢」 is 2022 to int(): the refusal sent staff to the 2022 master, a year the file
    does not say in any digit they read."""
    master, _, filled = cycle
    set_property(filled["小樽市"], P_YEAR, "٢٠٢٢")
    report = collect(master, [filled["小樽市"]])
    reason = report.refused[0].reason
    assert reason.startswith("٢٠٢٢年度のファイルです（マスターの対象年度は 2023年度）") and "2022" not in reason, reason


def test_held_cells_are_warned_of_by_export_and_rollover_until_typed_in_or_imported(cycle, tmp_path, capsys):
    """小樽市 returned 「約10件」 as 04-1's 実績値: collect held the cell (the master kept it
    empty) and recorded it on 取込履歴, then nothing said it again: 小樽市 counted as collected,
    入力チェック saw an empty cell it accepts, and 確定版を書き出し and 次年度のマスターを作成 went
    ahead silently, the 確定版 and 経年 without a value 小樽市 did send. Both now warn (written
    all the same), naming the master's cell, what was sent, the file and when, and the way on;
    the warning goes once staff type the value in, or once a corrected return is imported."""
    from renkei_xl.cycle.rollover import rollover_file, rollover_lines

    master, _issued, filled = cycle
    returned = filled["小樽市"]
    set_cell(returned, "小樽市", "04-1", "実績値", "約10件")
    assert main(["collect", str(master), str(returned)]) == 1
    capsys.readouterr()
    place = next(f"小樽市!{e.cell('value')}" for e in load_master(master).entries
                 if e.municipality == "小樽市" and e.indicator_id == "04-1")

    assert main(["export", str(master), "-o", str(tmp_path / "a.xlsx")]) == 0      # a warning, not a refusal
    out = capsys.readouterr().out
    assert "【注意】「回収ファイル取込」で取り込まなかったセルが 1 か所、まだマスターに入力されていません" in out, out
    assert f"・{place} 04-1: 実績値: 「約10件」は概数・見込みの表記（{returned.name}、" in out, out
    assert f"renkei-xl collect {command_arg(str(master))} 回収 を実行して取り込んでから、もう一度書き出してください。" in out, out
    said = "\n".join(rollover_lines(rollover_file(master, out=tmp_path / "次.xlsx")))
    assert "【注意】「回収ファイル取込」で取り込まなかったセルが 1 か所、まだ2023年度のマスターに入力されていません" in said, said
    assert f"・{place} 04-1: 実績値: 「約10件」は" in said and "「経年」の2023年度と" in said, said

    # An error value over what the master held at the import is named, never read as no held cell.
    from test_error_cells import with_error

    log = openpyxl.load_workbook(master, read_only=True)["取込履歴"]
    was = next(cell.coordinate for row in log.iter_rows(min_row=2) for cell in row
               if isinstance(cell.value, str) and "04-1 実績値" in cell.value)
    (tmp_path / "broken").mkdir()
    broken = with_error(master, tmp_path / "broken" / master.name, "取込履歴", was, "#N/A")
    assert main(["export", str(broken), "-o", str(tmp_path / "e.xlsx")]) == 2
    assert f"取込履歴!{was}「#N/A」 はエラー値です" in capsys.readouterr().err

    # Staff typed the value into the master: nothing is outstanding.
    typed_in = tmp_path / "typed" / master.name
    typed_in.parent.mkdir()
    shutil.copyfile(master, typed_in)
    set_cell(typed_in, "小樽市", "04-1", "実績値", 9)
    assert main(["export", str(typed_in), "-o", str(tmp_path / "t.xlsx")]) == 0
    assert "取り込まなかったセル" not in capsys.readouterr().out

    # A corrected return imported: the cell came in, nothing is outstanding.
    fixed = tmp_path / "fixed" / returned.name
    fixed.parent.mkdir()
    shutil.copyfile(returned, fixed)
    set_cell(fixed, "小樽市", "04-1", "実績値", 12)
    assert main(["collect", str(master), str(fixed)]) == 0
    capsys.readouterr()
    assert main(["export", str(master), "-o", str(tmp_path / "b.xlsx")]) == 0
    assert "取り込まなかったセル" not in capsys.readouterr().out


def test_a_long_text_typed_over_what_the_master_held_is_read_in_bounded_time():
    """取込時のマスターの値 is read at every export and rollover. Its entries were searched for
    in the whole text, and a 32,767-character cell staff pasted over without a 「（」 took
    6 s of CPU to find none (each start position scanned to the end): ten such cells, a
    minute. Read in a child held to 5 s of CPU, which the quadratic read passes 12-fold."""
    import resource

    code = ("from renkei_xl.core.held import read_was\n"
            "assert all(read_was(t) == [] for t in ['a' * 32767, 'あ' * 32767] * 5)")
    limit = lambda: resource.setrlimit(resource.RLIMIT_CPU, (5, 5))   # noqa: E731
    run = subprocess.run([sys.executable, "-c", code], preexec_fn=limit, capture_output=True, timeout=120)
    assert run.returncode == 0, (run.returncode, run.stderr[-2000:])


def test_a_held_cell_answered_again_by_a_later_return_is_not_outstanding_though_the_master_stayed_empty():
    """The rule both warnings use (core.held.outstanding): the municipality's latest import is
    its answer. A later return that left the cell empty (no figure after all) was imported,
    and nothing it sent is lacking, though the master's cell is as empty as at the hold."""
    from renkei_xl.core.held import Hold, outstanding, was_text

    held = ("小樽市!G20（実績値: 「約10件」は概数・見込みの表記）", was_text([("小樽市!G20", "04-1", "実績値", "")]))
    master = {("小樽市", "04-1", "実績値"): ("小樽市!E2", "")}
    first = Hold("小樽市", "小樽市_2023年度_入力.xlsx", dt.datetime(2024, 4, 10, 10), *held)
    [still] = outstanding([first], master)
    assert still.line() == "小樽市!E2 04-1: 実績値: 「約10件」は概数・見込みの表記（小樽市_2023年度_入力.xlsx、2024/04/10 10:00 に取込）"
    again = Hold("小樽市", "小樽市_2023年度_入力.xlsx", dt.datetime(2024, 4, 12, 9), "", "")
    assert outstanding([first, again], master) == [] and outstanding([again, first], master) == []

"""No command writes a package Excel would "repair".

Excel meets a package whose parts do not add up (a relationship to a dropped part, a part
without a content type, a calcChain entry on a cell with no formula, …) with
「一部の内容に問題が見つかりました。修復しますか?」: for staff, a broken master. The checker is
realbooks.package_problems; here every command that writes a package runs on masters that
carry what Excel and LibreOffice store, and every file written is checked.
"""

from __future__ import annotations

import io
import shutil
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conftest import require_soffice
from realbooks import (excel_formulas, excel_made_books, graft_excel_sheet, graft_rich_value_cell, graft_sheet_name, grafted_lo_master, grafted_master,  # noqa: F401
                       lo_master_xlsm, lo_master_xlsx, lo_tool_sheet_edit, package_problems, sample_master_xlsm)

from renkei_xl.cli import main


def _run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(out):
        code = main(list(args))
    return code, out.getvalue()


def _problems(paths) -> dict[str, list[str]]:
    return {p.name: package_problems(p) for p in paths if package_problems(p)}


MASTERS = ["sample", "grafted", "lo_xlsm", "lo_xlsx", "grafted_lo", "pictured", "tool_sheets_xlsm",
           "tool_sheets_xlsx", "calc_chain"]
# Formulas staff typed where a write puts values: 05-1's 実績値 on 小樽市 (a returned file fills
# it), a cell of 集計 (the tool rebuilds the sheet); and one the tool never touches.
STAFF_FORMULAS = {("小樽市", "E3"): ("1+2", 3), ("集計", "H3"): ("1+1", 2), ("設定", "L1"): ("2*3", 6)}


@pytest.fixture
def master_of(request, tmp_path):
    def get(kind: str) -> Path:
        if kind == "pictured":
            sample = request.getfixturevalue("sample_master_xlsm")
            donor = next(b for b in excel_made_books() if b.stem == "embed_image01")
            return graft_rich_value_cell(sample, donor, tmp_path / "pictured.xlsm", "指標", "K8")
        if kind == "calc_chain":
            recalced = tmp_path / "recalced.xlsm"
            shutil.copyfile(request.getfixturevalue("sample_master_xlsm"), recalced)
            _run("recalc", str(recalced))
            return excel_formulas(recalced, tmp_path / "calc_chain.xlsm", STAFF_FORMULAS)
        if kind.startswith("tool_sheets"):
            require_soffice()
            recalced = tmp_path / "recalced.xlsm"
            shutil.copyfile(request.getfixturevalue("sample_master_xlsm"), recalced)
            _run("recalc", str(recalced))
            current = lo_tool_sheet_edit(recalced, tmp_path / f"tool_sheets.{kind.rsplit('_', 1)[1]}")
            if current.suffix == ".xlsm":   # and Excel's own parts beside LibreOffice's
                for donor in excel_made_books():
                    current = graft_excel_sheet(current, donor, tmp_path / f"with_{donor.stem}.xlsm",
                                                graft_sheet_name(donor))
            return current
        name = {"sample": "sample_master_xlsm", "grafted": "grafted_master", "lo_xlsm": "lo_master_xlsm",
                "lo_xlsx": "lo_master_xlsx", "grafted_lo": "grafted_lo_master"}[kind]
        return request.getfixturevalue(name)
    return get


@pytest.mark.parametrize("kind", MASTERS)
def test_every_write_leaves_a_whole_package(kind, master_of, tmp_path):
    source = master_of(kind)
    assert package_problems(source) == []
    work = tmp_path / "work"
    work.mkdir()
    master = work / f"master{source.suffix}"
    shutil.copyfile(source, master)
    found = {}

    _run("validate", str(master))
    found["validate"] = package_problems(master)
    _run("recalc", str(master))
    found["recalc"] = package_problems(master)
    _run("recalc", str(master), "-o", str(work / f"out{source.suffix}"))
    found["recalc -o"] = package_problems(work / f"out{source.suffix}")

    issued = tmp_path / "issued"
    code, said = _run("split", str(master), "--outdir", str(issued))
    assert code == 0, said
    found["split"] = _problems(sorted(issued.glob("*.xlsx")))
    one = next(issued.glob("小樽市_*.xlsx"))
    book = load_workbook(one)
    sheet = book["小樽市"]
    row = next(r for r in range(1, sheet.max_row + 1) if sheet.cell(r, 1).value == "05-1")
    sheet.cell(row, 7).value = "3件"   # G: 実績値
    returned = tmp_path / "returns" / one.name
    returned.parent.mkdir()
    book.save(returned)
    code, said = _run("collect", str(master), str(returned))
    found["collect"] = package_problems(master)

    code, said = _run("export", str(master), "-o", str(work / "final.xlsx"))   # exit 1 on an input error
    assert (work / "final.xlsx").exists(), said
    found["export"] = package_problems(work / "final.xlsx")

    code, said = _run("rollover", str(master), "-o", str(work / f"next{source.suffix}"))
    assert code == 0, said
    found["rollover"] = package_problems(work / f"next{source.suffix}")
    code, said = _run("history", "import", str(work / f"next{source.suffix}"), str(master))
    found["history import"] = package_problems(work / f"next{source.suffix}")
    assert {k: v for k, v in found.items() if v} == {}


@pytest.mark.parametrize("args", [("--sample", "fy2023"), ()], ids=["sample", "empty"])
@pytest.mark.parametrize("suffix", [".xlsm", ".xlsx"])
def test_init_writes_a_whole_package(tmp_path, args, suffix):
    path = tmp_path / f"new{suffix}"
    code, said = _run("init", str(path), "--year", "2023", *args)
    assert code == 0, said
    assert package_problems(path) == []

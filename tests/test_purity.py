"""The core imports no Excel library: it must serve files, live workbooks and tests alike."""

import ast
import subprocess
import sys
from pathlib import Path

CORE = ["values", "fiscal", "model", "contract", "contract_read", "layout", "rules", "consolidate", "validate", "pipeline",
        "reference", "textable", "plan", "looks"]
PKG = Path(__file__).resolve().parents[1] / "renkei_xl"


def test_core_modules_do_not_import_excel_libraries_statically():
    for name in CORE:
        tree = ast.parse((PKG / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            mods = []
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                mods = [node.module]
            elif isinstance(node, ast.ImportFrom) and node.level:
                mods = [f"renkei_xl.{node.module or ''}"]
            for m in mods:
                assert not m.split(".")[0] in ("openpyxl", "xlwings", "pandas", "xlsxwriter", "python_calamine"), (name, m)
                assert not m.startswith(("renkei_xl.workbook", "renkei_xl.excel", "renkei_xl.package")), (name, m)


def test_evaluating_the_reference_list_loads_no_excel_library():
    code = ("import sys; from renkei_xl.reference import load_reference; "
            "from renkei_xl.pipeline import recalculate; r = load_reference(); "
            "recalculate(r.settings, r.indicators, r.entries); "
            "print(sorted(m for m in ('openpyxl','xlwings','pandas','xlsxwriter') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_write_plan_is_made_without_any_excel_library():
    code = ("import sys, datetime as dt; from renkei_xl.reference import load_reference; "
            "from renkei_xl.pipeline import recalculate; from renkei_xl.plan import MasterState, recalc_plan; "
            "from renkei_xl.contract_read import MasterData; r = load_reference(); "
            "res = recalculate(r.settings, r.indicators, r.entries); "
            "p = recalc_plan(MasterState([], {}), MasterData(r.settings, list(r.indicators), list(r.entries)), res, "
            "'', dt.datetime(2024, 4, 1)); assert len(p.sheets) == 3; "
            "print(sorted(m for m in ('openpyxl','xlwings','pandas','xlsxwriter','python_calamine') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

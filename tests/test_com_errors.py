"""Error values as Windows COM reads them (renkei_xl/excel/com_errors.py).

No Excel runs here; the values are the SCODEs pywin32 returns for VT_ERROR cells, the same
numbers xlwings' own ``_xlwindows.cell_errors`` keys on, so the classic seven are checked
against xlwings and the newer ones by the same arithmetic.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

from renkei_xl.core.values import ERROR_VALUES, UNKNOWN_ERROR, error_value
from renkei_xl.excel.com_errors import CODES, clean_grid, error_text


def _xlwings_cell_errors() -> dict:
    """``xlwings._xlwindows.cell_errors``, read from its source (the module imports pywin32)."""
    source = Path(importlib.util.find_spec("xlwings").origin).with_name("_xlwindows.py").read_text(encoding="utf-8")
    node = next(n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "cell_errors" for t in n.targets))
    return ast.literal_eval(node.value)


def test_the_classic_seven_read_as_xlwings_reads_them():
    known = _xlwings_cell_errors()
    assert len(known) == 7
    for scode, text in known.items():
        assert error_text(scode) == text


@pytest.mark.parametrize("code, text", [(2045, "#SPILL!"), (2050, "#CALC!"), (2043, "#GETTING_DATA"),
                                        (2049, "#FIELD!"), (2047, "#BLOCKED!"), (2048, "#UNKNOWN!"),
                                        (2060, UNKNOWN_ERROR)])
def test_newer_error_values_are_errors_not_numbers(code, text):
    scode = -2146828288 + code            # 0x800A0000 | code, signed
    assert error_text(scode) == text
    assert error_value(error_text(scode)) is not None     # the core then names the cell


def test_every_code_maps_to_an_error_the_core_knows():
    assert set(CODES.values()) <= set(ERROR_VALUES)


def test_numbers_stay_numbers():
    rows = [[1, 2.5, -2146826243.0, "#SPILL!", None, True, -2146826243]]
    assert clean_grid(rows) == [[1, 2.5, -2146826243.0, "#SPILL!", None, True, "#SPILL!"]]
    assert error_text(True) is None and error_text(0) is None and error_text(-2146828288 + 1999) is None

"""setup.cfg's dependency floors stay ones ``make floors`` (tests/floors.py) can install:
each product and server requirement a single ``name>=version``, each pinned exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from floors import floor, pins, requirements

ROOT = Path(__file__).resolve().parents[1]
CFG = (ROOT / "setup.cfg").read_text(encoding="utf-8")


def test_every_product_and_server_requirement_is_one_floor_pinned_by_make_floors():
    reqs = requirements(CFG)
    product = reqs["install_requires"] + reqs["server"]
    assert product and all(floor(line) for line in product)
    pinned = pins(CFG)
    assert len(pinned) == len({floor(line)[0].lower() for line in product})
    assert all("==" in line for line in pinned.values())


def test_a_requirement_without_a_single_floor_cannot_be_pinned():
    for line in ("olefile", "starlette>=0.36,<2", "uvicorn>0.23", "xlwings==0.37.5"):
        with pytest.raises(ValueError):
            floor(line)
    assert floor('tomli>=2.0; python_version < "3.11"') == ("tomli", "2.0", 'python_version < "3.11"')


def test_the_test_extras_higher_floor_is_the_pin():
    cfg = ("[options]\ninstall_requires =\n    openpyxl>=3.1\n    XlsxWriter>=3.2.1\n"
           "[options.extras_require]\nserver =\n    starlette>=0.36.2\n"
           "test =\n    starlette>=0.37.2\n    openpyxl>=3.0\n    pytest>=7\n")
    assert pins(cfg) == {"openpyxl": "openpyxl==3.1", "xlsxwriter": "XlsxWriter==3.2.1",
                         "starlette": "starlette==0.37.2"}

"""A tool sheet's tab colour and window settings stay, as Excel's Clear All leaves them on the
buttons' face (renkei_xl.package.sheet_window).

The master is the FY2023 sample after 評価を再計算 and 入力チェック, its tool sheets' tabs
coloured and 一覧 set to 85% without gridlines, as Excel writes them. 評価を再計算 and
入力チェック rebuild those sheets on the file face, and LibreOffice opens what they wrote
(this LibreOffice reports no tab colour through UNO for any file, so the colours are checked
in the parts).
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest

from conftest import require_soffice
from realbooks import lo_inspect, package_problems, parts, sample_master_xlsm, sheet_parts  # noqa: F401
from test_tool_sheet_drawings import _run, written_copy

COLOURS = {"一覧": 0xC62828, "集計": 0x1565C0, "検証結果": 0x2E7D32}
# 一覧's window as Excel saves it after staff chose 85% and hid the gridlines, scrolled down.
EXCEL_VIEW = ' showGridLines="0" topLeftCell="A40" zoomScale="85" zoomScaleNormal="85"'
TAB = re.compile(r"<(?:\w+:)?tabColor\b[^>]*/>")
VIEW = re.compile(r"<(?:\w+:)?sheetView\b[^>]*>")


def _tops(path: Path) -> dict[str, str]:
    """Each tool sheet's text before its cells."""
    members = parts(path)
    where = sheet_parts(members)
    return {name: members[where[name]].decode("utf-8").split("<sheetData", 1)[0] for name in COLOURS}


def _as_staff_left_it(src: Path, dst: Path) -> Path:
    """The tool sheets' tabs coloured and 一覧's window set, as Excel saves them."""
    where = sheet_parts(parts(src))
    edits = {where[name]: name for name in COLOURS}
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
        for info in z.infolist():
            data = z.read(info)
            if info.filename in edits:
                name, text = edits[info.filename], data.decode("utf-8")
                text = re.sub(r"(<sheetPr\b[^>]*?)(/>|>)", lambda m: m.group(1) + f'><tabColor rgb="FF{COLOURS[name]:06X}"/>'
                              + ("</sheetPr>" if m.group(2) == "/>" else ""), text, count=1)
                if name == "一覧":
                    text = text.replace("<sheetView ", "<sheetView" + EXCEL_VIEW + " ", 1)
                data = text.encode("utf-8")
            out.writestr(info, data)
    return dst


@pytest.fixture(scope="module")
def coloured(sample_master_xlsm, tmp_path_factory) -> Path:
    require_soffice()
    folder = tmp_path_factory.mktemp("tool_window")
    master = written_copy(sample_master_xlsm, folder / "written.xlsm", "recalc", "validate")
    return _as_staff_left_it(master, folder / "coloured.xlsm")


def test_the_master_carries_the_staffs_tabs_and_window(coloured):
    tops = _tops(coloured)
    assert all(TAB.search(top) for top in tops.values()), tops
    assert EXCEL_VIEW in VIEW.search(tops["一覧"]).group(0)


def test_a_rebuild_keeps_tab_colours_and_window_settings(coloured, tmp_path):
    before = _tops(coloured)
    master = tmp_path / "master.xlsm"
    shutil.copyfile(coloured, master)
    _run("recalc", str(master))
    _run("validate", str(master))
    after = _tops(master)
    for name in COLOURS:
        assert TAB.search(after[name]).group(0) == TAB.search(before[name]).group(0), name
    view = VIEW.search(after["一覧"]).group(0)
    assert ' showGridLines="0"' in view and ' zoomScale="85"' in view and ' zoomScaleNormal="85"' in view
    # the scroll position named rows of the old content; the frozen pane is the plan's
    assert "topLeftCell" not in view
    assert package_problems(master) == []
    (book,) = lo_inspect([master])
    assert book["loaded"], book
    assert set(COLOURS) <= set(book["sheets"])

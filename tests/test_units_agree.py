"""One unit per indicator: the builder, split, collect, validation and consolidation agree.

28-1 (参加市町村数, target 「全市町村（毎年度）」) is the case that used to split them: the
builder stored 「1市町村」 as the number 1 under 単位 「市町村」, while collect kept a typed
「1市町村」 as text in a cell whose rule asks for a number. Each face now asks
core.methods.input_unit, and the whole split → fill → collect → recalc cycle shows it.
"""

from __future__ import annotations

import openpyxl
import pytest

from renkei_xl.core import methods
from renkei_xl.core.methods import PARTICIPANT_UNIT, cell_value, input_unit, shown_unit
from renkei_xl.core.model import Entry
from renkei_xl.core.validate import validate
from renkei_xl.cli.workbook import init_master
from renkei_xl.cycle.collect import collect
from renkei_xl.cycle.distribute import split_master
from renkei_xl.workbook.session import load_master, recalc_file

from test_cycle import cell_of, empty_master_values, fill, header_row, list_rows, set_cell


def _ind(fy2023, ind_id):
    return next(i for i in fy2023.indicators if i.id == ind_id)


def test_every_method_states_its_unit_once(fy2023):
    """The unit each sample indicator is counted in, derived from the one table."""
    by_method = {}
    for ind in fy2023.indicators:
        by_method.setdefault(ind.method, set()).add(input_unit(ind))
    assert by_method[methods.METHOD_PARTICIPANTS] == {PARTICIPANT_UNIT}
    assert by_method[methods.METHOD_RATIO] == {None}          # a count of anything over a count
    assert "件" in by_method[methods.METHOD_SUM]               # 04-1 「25件」
    assert input_unit(_ind(fy2023, "40-4"), "denominator") is None
    assert shown_unit(_ind(fy2023, "28-1")) == PARTICIPANT_UNIT


@pytest.mark.parametrize("typed, stored", [
    ("1市町村", 1), ("１", 1), (1.0, 1), ("  1 ", 1), ("0", 0),
    ("320人", "320人"),        # another unit: kept as typed for validation to name
    ("1市町村以上", "1市町村以上"),
])
def test_a_participation_cell_is_stored_the_same_by_every_writer(fy2023, typed, stored):
    assert cell_value(_ind(fy2023, "28-1"), "value", typed) == stored


def test_validation_judges_the_unit_it_is_told(fy2023):
    ind = _ind(fy2023, "28-1")
    settings = fy2023.settings

    def findings(value):
        return [f for f in validate(settings, [ind], [Entry("小樽市", "28-1", value, sheet="小樽市")])
                if f.indicator_id == "28-1"]

    assert findings("1市町村") == [] and findings("1") == []
    wrong = findings("320人")
    assert [f.type for f in wrong] == ["unit-mismatch"]
    assert "市町村" in wrong[0].message


def test_the_builder_writes_what_collect_would_store(tmp_path, fy2023):
    master = init_master(tmp_path / "m.xlsx", sample="fy2023")
    ws = openpyxl.load_workbook(master)["小樽市"]
    top, cols = header_row(ws)
    row = next(r for r in range(top + 1, ws.max_row + 1) if ws.cell(r, cols["指標ID"]).value == "28-1")
    assert ws.cell(row, cols["単位"]).value == PARTICIPANT_UNIT
    entry = next(e for e in fy2023.entries if e.municipality == "小樽市" and e.indicator_id == "28-1")
    assert ws.cell(row, cols["実績値"]).value == cell_value(_ind(fy2023, "28-1"), "value", entry.value) == 1


def test_28_1_typed_with_its_unit_goes_through_the_whole_cycle(tmp_path, fy2023):
    master = init_master(tmp_path / "マスター.xlsx", sample="fy2023")
    names = fy2023.settings.names
    empty_master_values(master, names)
    files = dict(zip(names, split_master(master, tmp_path / "配布")))
    returned = tmp_path / "回収"
    returned.mkdir()
    for muni, path in files.items():
        target = returned / path.name
        target.write_bytes(path.read_bytes())
        fill(target, fy2023, muni)
    # 小樽市 types the unit the 単位 column shows, 江別市 full-width digits.
    set_cell(returned / files["小樽市"].name, "小樽市", "28-1", "実績値", "1市町村")
    set_cell(returned / files["江別市"].name, "江別市", "28-1", "実績値", "１")

    report = collect(master, [returned])
    assert not report.refused, report.refused
    assert cell_of(master, "小樽市", "28-1", "実績値") == 1
    assert cell_of(master, "江別市", "28-1", "実績値") == 1
    data = load_master(master)
    assert not [f for f in validate(data.settings, data.indicators, data.entries) if f.indicator_id == "28-1"]

    result, _ = recalc_file(master)
    assert result.consolidated["28-1"].actual == "11市町村"
    assert list_rows(master)["28-1"] == ("11市町村", fy2023.official["28-1"])


def test_a_participation_in_another_unit_is_refused_naming_the_cell(tmp_path, fy2023):
    master = init_master(tmp_path / "マスター.xlsx", sample="fy2023")
    path = split_master(master, tmp_path / "配布")[fy2023.settings.names.index("小樽市")]
    set_cell(path, "小樽市", "28-1", "実績値", "320人")
    report = collect(master, [path])
    # The row is not imported (the master keeps its value); the rest of the file is.
    assert report.refused == [] and len(report.records) == 1
    (name, f), = report.held
    assert name == path.name and f.indicator_id == "28-1" and "市町村" in f.message
    assert f.place.startswith("小樽市!")
    assert not [ch for ch in report.changes if ch.indicator_id == "28-1"]
    assert f.place in report.records[0].held_cells


# A 比率 takes any unit, but its units must divide (methods._ratio_units): a numerator or
# 分母 typed with a unit is stored as typed, so that the rule sees it; only a bare number is
# stored as the number (as every other numeric cell is).
@pytest.mark.parametrize("field, typed, stored", [
    ("value", "41人", "41人"), ("denominator", "72件", "72件"), ("denominator", "143%", "143%"),
    ("value", "5セット", "5セット"), ("value", "４１", 41), ("denominator", " 72 ", 72), ("value", 41.0, 41),
])
def test_a_ratios_number_is_stored_bare_only_without_a_unit(fy2023, field, typed, stored):
    assert cell_value(_ind(fy2023, "40-4"), field, typed) == stored


@pytest.mark.parametrize("value, denominator, listed", [
    ("41人", "72件", ("－", "－")),          # people over cases: named on the 分母, not published
    ("41人", "72名", ("60.9%", "□")),        # (90 + 41) / (143 + 72): one family divides
])
def test_a_ratio_returned_with_units_is_judged_as_typed_on_the_master(tmp_path, fy2023, value, denominator, listed):
    """qa-135: collect stored a returned 比率's 「41人」 and 「72件」 as 41 and 72 (any unit
    would do), so 一覧 published 60.9% without a word, where the same typed on the master was
    named 「分母の単位が実績値（分子）の単位「人」と違います」 and the row －."""
    master = init_master(tmp_path / "マスター.xlsx", sample="fy2023")
    path = split_master(master, tmp_path / "配布")[fy2023.settings.names.index("小樽市")]
    set_cell(path, "小樽市", "40-4", "実績値", value)
    set_cell(path, "小樽市", "40-4", "分母", denominator)
    report = collect(master, [path])
    assert not report.refused and not report.held, (report.refused, report.held)
    assert (cell_of(master, "小樽市", "40-4", "実績値"), cell_of(master, "小樽市", "40-4", "分母")) == (value, denominator)
    result, _ = recalc_file(master)
    found = [(f.type, f.place.split("!")[0]) for f in result.findings if f.indicator_id == "40-4"]
    assert found == ([("units-differ", "小樽市")] if listed[0] == "－" else []), found
    assert list_rows(master)["40-4"] == listed

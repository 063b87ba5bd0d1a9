"""The whole list path on the FY2023 master with rows changed to values a hair under a band
edge (the edges tests/test_rules_oracle.py draws from SPEC 3): the command line and the
buttons (xlwings' remote engine) print the same symbol, 達成率, 達成割合 line and 次の一歩 gap,
and each agrees with SPEC 3's oracle."""

from __future__ import annotations

import shutil
from fractions import Fraction

import pytest

from remote_payload import apply_actions, file_rows, click_payload, remote_book
from test_buttons import licensed  # noqa: F401  (the remote engine's licence fixture)
from test_faces import staff_types
from test_rules_oracle import meta
from renkei_xl.cli.workbook import init_master
from renkei_xl.core import contract as c
from renkei_xl.core.model import ACHIEVED, MISSED, NEARLY
from renkei_xl.excel import buttons
from renkei_xl.workbook.session import opened, recalc_file

# (目標値, 実績値（手入力）, symbol, 達成率 as stored): SPEC 3's bands on the exact ratio
CASES = [("27兆９千億円", "27兆8999億9999万9990円", NEARLY, 0.999),
         ("1兆円", "8499億9999万9999円", MISSED, 0.849),
         ("1兆円", "8500億円", NEARLY, 0.85)]


@pytest.fixture(scope="module")
def changed(tmp_path_factory, licensed):  # noqa: F811
    folder = tmp_path_factory.mktemp("oracle_faces")
    master = init_master(folder / "master.xlsm", sample="fy2023")
    with opened(master) as fs:
        manual = [i for i in fs.data.indicators if i.method == "中心市のみ" and not i.rule
                  and "（毎年度）" in i.target and "回" not in i.target][:len(CASES)]
        central = {e.indicator_id: e for e in fs.data.entries if e.municipality == fs.data.settings.central.name}
    assert len(manual) == len(CASES)
    for ind, (target, actual, _, _) in zip(manual, CASES):
        staff_types(master, c.INDICATORS, ind.cell("target"), target)
        entry = central[ind.id]
        staff_types(master, entry.sheet or entry.municipality, entry.cell("value"), actual)
        staff_types(master, entry.sheet or entry.municipality, entry.cell("unit"), "円")   # as the target counts
    live_master = folder / "live.xlsm"
    shutil.copyfile(master, live_master)
    payload = click_payload(live_master)
    book = remote_book(payload)
    buttons.recalc(book)
    live = apply_actions(payload, book.json()["actions"])
    recalc_file(master)
    return master, live, [i.id for i in manual]


def _table(rows):
    head = next(i for i, r in enumerate(rows) if "指標ID" in r)
    cols = {name: j for j, name in enumerate(rows[head]) if name}
    return {r[cols["指標ID"]]: r for r in rows[head + 1:] if r[cols["指標ID"]]}, cols


@pytest.mark.parametrize("face", ["file", "live"])
def test_each_face_prints_the_oracles_symbol_rate_and_share(changed, face):
    master, live, ids = changed
    rows = file_rows(master, c.LIST) if face == "file" else live.rows(c.LIST)
    table, cols = _table(rows)
    for ind_id, (_, _, symbol, rate) in zip(ids, CASES):
        assert (table[ind_id][cols["評価"]], table[ind_id][cols["達成率"]]) == (symbol, rate), (face, ind_id)
    others = [r[cols["評価"]] for i, r in table.items() if not i.startswith("01-1")]
    expected, achieved, evaluable = meta(others, Fraction(85, 100))
    assert table["01-1"][cols["評価"]] == expected
    summary = file_rows(master, c.SUMMARY) if face == "file" else live.rows(c.SUMMARY)
    assert any(f"{achieved}／{evaluable}" in str(v) for row in summary for v in row if v), face
    # ― (U+2015, 評価時期前・未集計) and － (U+FF0D, 評価不可) as the official list prints them
    marks = [r[cols["評価"]] for r in table.values()]
    assert (marks.count("\u2015"), marks.count("\uff0d")) == (5, 4), face
    assert set(marks) <= {ACHIEVED, NEARLY, MISSED, "\u2015", "\uff0d"}, face


def test_the_next_steps_name_each_changed_row_on_both_faces(changed):
    master, live, ids = changed
    on_file = [r for r in file_rows(master, c.NEXT_STEPS) if r]
    on_live = [r for r in live.rows(c.NEXT_STEPS) if r]
    assert [[v for v in r if v not in (None, "")] for r in on_file] == [[v for v in r if v not in (None, "")]
                                                                        for r in on_live]
    text = "\n".join(" ".join(str(v) for v in r if v) for r in on_file)
    for ind_id in ids:
        assert ind_id in text

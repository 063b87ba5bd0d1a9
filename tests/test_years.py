"""Year after year (issue #11): next year's master, 経年, 次の一歩 and the history import.

Everything runs on the FY2023 sample master, the official list being the expectation:
the rollover to 2024 keeps the 80 indicators with their methods and targets, empties the
inputs, shows last year's values beside each row and records 2023 in 経年 with the official
symbols; refilled and recalculated, 2024 is judged against the same targets; a second
rollover keeps both years; the gap of every row that is not ◎ is checked against the
official 目標値 and 実績値.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from remote_payload import file_grid, payload_book, read_both_ways
from test_buttons import licensed  # noqa: F401  (the remote engine's licence fixture)
from renkei_xl.cli import main as cli_main
from renkei_xl.cli.workbook import init_master
from renkei_xl.core import contract as c
from renkei_xl.core.carry import command_arg
from renkei_xl.core.deadlines import target_year
from renkei_xl.core.errors import UserError
from renkei_xl.core.findings import PAST_TARGET
from renkei_xl.core.gaps import gap_text
from renkei_xl.core.history import read_history, read_kept, years_of
from renkei_xl.core.model import ACHIEVED, SYMBOLS
from renkei_xl.core.plan_types import CellEdit, WritePlan
from renkei_xl.core.values import NUMBER, format_number, parse_value
from renkei_xl.cycle.rollover import import_history, rollover_file
from renkei_xl.workbook.session import load_master, opened, recalc_file, write_planned

PREVIOUS_2023 = c.PREVIOUS_HEADER.format(year=2023)


def _grid(path: Path, sheet: str) -> list[list[object]]:
    """The saved values of a sheet as ``load_workbook(data_only=True)`` gives them, read with
    ``file_grid`` (tests read several sheets of many states of a master: 94 reads of 32
    contents in this module, each content an openpyxl load before)."""
    return file_grid(path, sheet)


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name -> part name, from workbook.xml and its relationships."""
    with opened(path) as fs:
        return {s.name: s.part for s in fs.workbook.sheets if s.part}


def _refill(old: Path, new: Path) -> None:
    """Type last year's inputs into next year's master (2024 reports what 2023 did)."""
    before = load_master(old)
    after = load_master(new)
    cells = []
    rows_new = {(e.sheet, e.indicator_id, e.row): e for e in after.entries}
    for e in before.entries:
        twin = rows_new[(e.sheet, e.indicator_id, e.row)]
        for f in ("value", "denominator", "status"):
            value = getattr(e, f)
            if value:
                r, col = _rc(twin.cell(f))
                cells.append(CellEdit(e.sheet, r, col, _number(value)))
    by_id = {i.id: i for i in after.indicators}
    for ind in before.indicators:
        for f in ("actual_manual", "status_manual"):
            value = getattr(ind, f)
            if value:
                r, col = _rc(by_id[ind.id].cell(f))
                cells.append(CellEdit(ind.sheet, r, col, value))
    write_planned(new, lambda fs: (WritePlan(cells=cells), None))


def _ref(rc: tuple[int, int]) -> str:
    from renkei_xl.core.refs import cell_ref

    return cell_ref(*rc)


def _rc(ref: str) -> tuple[int, int]:
    from renkei_xl.core.refs import parse_ref

    return parse_ref(ref)


def _number(text: str):
    try:
        return float(text) if "." in text else int(text)
    except ValueError:
        return text


@pytest.fixture(scope="module")
def years(tmp_path_factory):
    """2023 (the sample, recalculated) → 2024 (rolled over, refilled, recalculated) → 2025."""
    folder = tmp_path_factory.mktemp("years")
    m2023 = init_master(folder / "さっぽろ圏_2023年度_マスター.xlsm", sample="fy2023")
    r2023, _ = recalc_file(m2023)
    before = m2023.read_bytes()
    done = rollover_file(m2023)
    seen = {"m2023": m2023, "r2023": r2023, "before": before, "done": done, "m2024": done.path,
            "fresh2024": _parts(done.path), "data2024": load_master(done.path)}
    copy = folder / "rolled_empty.xlsm"
    shutil.copyfile(done.path, copy)
    seen["empty2024"] = copy
    _refill(m2023, done.path)
    seen["r2024"], _ = recalc_file(done.path)
    seen["m2025"] = rollover_file(done.path).path
    seen["r2025"], _ = recalc_file(seen["m2025"])
    return seen


# ------------------------------------------------------------------ rollover 2024

def test_the_old_master_is_only_read_and_the_new_one_is_named_for_its_year(years):
    assert years["m2023"].read_bytes() == years["before"]
    assert years["m2024"].name == "さっぽろ圏_2024年度_マスター.xlsm"
    assert years["m2025"].name == "さっぽろ圏_2025年度_マスター.xlsm"


def test_no_relationship_of_the_new_master_points_at_a_missing_part(years):
    """集計 is rebuilt without its chart: its old drawing's relationships went with the
    drawing (they were left pointing at xl/charts/chart1.xml, no longer in the file)."""
    from realbooks import package_problems

    for key in ("m2024", "empty2024", "m2025"):
        assert package_problems(years[key]) == [], key


def test_rollover_keeps_every_indicator_method_and_target(years, fy2023):
    data = years["data2024"]
    assert len(data.indicators) == len(fy2023.indicators) == 80
    keep = ("id", "role", "project_no", "project_name", "summary", "name", "baseline", "target",
            "method", "rule", "is_kpi")
    assert [tuple(getattr(i, k) for k in keep) for i in data.indicators] == \
           [tuple(getattr(i, k) for k in keep) for i in fy2023.indicators]
    assert data.settings.fiscal_year == 2024
    assert data.settings.base_date.isoformat() == "2025-03-31"
    assert [m[:4] for m in data.settings.municipalities] == [m[:4] for m in fy2023.settings.municipalities]   # cells aside


def test_rollover_empties_every_input_and_shows_last_years_value_beside_it(years):
    data, old = years["data2024"], load_master(years["m2023"])
    assert data.entries, "the municipality rows are kept"
    assert all(not (e.value or e.denominator or e.status) for e in data.entries)
    assert all(not (i.actual_manual or i.status_manual) for i in data.indicators)
    shown = 0
    for muni in data.settings.names:
        grid = _grid(years["empty2024"], muni)
        header = grid[0]
        assert header[:len(c.ENTRY_HEADERS)] == list(c.ENTRY_HEADERS.values())  # staff columns kept
        col = header.index(PREVIOUS_2023)
        for e in (e for e in old.entries if e.municipality == muni):
            cell = grid[e.row - 1][col]
            if e.value:
                assert cell is not None and str(cell).startswith(e.value), (muni, e.indicator_id, cell)
                shown += 1
            else:
                assert cell is None
    assert shown == sum(1 for e in old.entries if e.value)
    grid = _grid(years["empty2024"], c.INDICATORS)
    col = grid[0].index(PREVIOUS_2023)
    r2023 = years["r2023"]
    for ind in old.indicators:
        assert grid[ind.row - 1][col].endswith(r2023.evaluations[ind.id].symbol), ind.id


def _col_runs(path: Path, sheet: str) -> list[dict[str, str]]:
    """The attributes of each <col> run of ``sheet``'s part, in their order (the part found
    from workbook.xml and its relationships directly: _sheet_parts reads the whole master)."""
    with zipfile.ZipFile(path) as z:
        book, rels = z.read("xl/workbook.xml").decode(), z.read("xl/_rels/workbook.xml.rels").decode()
        rid = re.search(rf'<sheet name="{re.escape(sheet)}"[^>]*?r:id="([^"]+)"', book).group(1)
        target = re.search(rf'<Relationship [^>]*?Id="{rid}"[^>]*?Target="([^"]+)"|'
                           rf'<Relationship [^>]*?Target="([^"]+)"[^>]*?Id="{rid}"', rels)
        text = z.read("xl/" + (target.group(1) or target.group(2)).lstrip("/").removeprefix("xl/")).decode()
    cols = re.search(r"<cols>(.*?)</cols>", text, re.S)
    return [dict(re.findall(r'(\w+)="([^"]*)"', m)) for m in re.findall(r"<col\b([^>]*?)/?>", cols.group(1))] \
        if cols else []


def _col_run(path: Path, sheet: str, col: int) -> dict[str, str]:
    """The attributes of the <col> run that covers column ``col`` of ``sheet`` ({} where none)."""
    return next((r for r in _col_runs(path, sheet) if int(r["min"]) <= col <= int(r["max"])), {})


def _previous_width_fits(path: Path, sheet: str, year: int = 2023) -> dict[str, str]:
    """The run of ``sheet``'s 「前年度実績（``year``年度）」 column, checked to be as wide as
    its header and every value it shows need (text_fit.text_width, in the default font
    the column's cells take): returned for the caller's further checks."""
    from renkei_xl.core.looks import NORMAL_FONT_SIZE
    from renkei_xl.core.text_fit import text_width

    grid = _grid(path, sheet)
    col = grid[0].index(c.PREVIOUS_HEADER.format(year=year))
    run = _col_run(path, sheet, col + 1)
    shown = [row[col] for row in grid if len(row) > col]
    assert run and float(run["width"]) == text_width(shown, NORMAL_FONT_SIZE), (sheet, run)
    assert run["customWidth"] == "1" and (int(run["min"]), int(run["max"])) == (col + 1, col + 1), (sheet, run)
    return run


def test_the_previous_column_is_as_wide_as_its_header_and_values(years):
    """The 前年度実績 column rollover adds beside each table came at the default width (8.43):
    「前年度実績（2023年度）」 and values such as 指標's 「30,273千人（2022年度） －」 were cut
    at the next filled cell. It is now as wide as its texts need on one line, on 指標 and
    each municipality sheet (a short column, 小樽市's, as wide as its header), and every
    column staff sized before keeps its run as written."""
    path = years["empty2024"]
    widths = {}
    for sheet in (c.INDICATORS, "札幌市", "小樽市"):
        run = _previous_width_fits(path, sheet)
        widths[sheet] = float(run["width"])
        before = _col_runs(years["m2023"], sheet)
        assert [r for r in _col_runs(path, sheet) if r not in before] == [run], sheet
    assert widths[c.INDICATORS] > widths["小樽市"] > 20, widths


def test_rollover_records_2023_in_history_with_the_official_symbols(years, fy2023):
    history = read_history(_grid(years["empty2024"], c.HISTORY))
    assert {i: per[2023].symbol for i, per in history.items()} == dict(fy2023.official)
    assert history["08-1"][2023].actual == "17件"
    assert all(set(per) == {2023} for per in history.values())


def test_rollover_leaves_the_tool_sheets_empty_and_lists_past_targets(years, fy2023):
    path = years["empty2024"]
    listing = _grid(path, c.LIST)
    ids = [r[c.LIST_ID_COL] for r in listing[3:] if len(r) > c.LIST_ID_COL and r[c.LIST_ID_COL]]
    assert ids == [] and "2024年度" in listing[0][0]
    assert not any(isinstance(v, (int, float)) for r in _grid(path, c.SUMMARY) for v in r)
    findings = _grid(path, c.FINDINGS)
    flagged = {r[3] for r in findings[1:] if r[0] == "警告" and "見直し" in str(r[4])}
    expected = {i.id for i in fy2023.indicators if not i.is_kpi and (target_year(i.target) or 9999) < 2024}
    assert "10-1" in expected and "31-2" not in expected
    assert flagged == expected


def test_a_target_of_a_calendar_year_gone_by_is_listed_for_review(sample, tmp_path, capsys):
    """02-2's target retyped 「15社（2023年）」 (a calendar year, which a target's note may give):
    the 2024 master judged it as this year's and 検証結果 never listed it for review, as it
    lists 「15社（2023年度）」. 「１回（2024年）」 is 2024's own, not past in 2024."""
    wb = openpyxl.load_workbook(sample, keep_vba=True)
    ws = wb[c.INDICATORS]
    cells = {cell.value: cell for row in ws.iter_rows() for cell in row if isinstance(cell.value, str)}
    cells["15社（毎年度）"].value = "15社（2023年）"
    cells["１回（毎年度）"].value = "１回（2024年）"
    wb.save(sample)
    done = rollover_file(sample, out=tmp_path / "2024" / "m_2024年度.xlsm")
    past = {f.indicator_id: f.message for f in done.report.past}
    assert "02-2" in past and "02-1" not in past, past
    assert "目標値「15社（2023年）」の年度（2023年度）は対象年度（2024年度）より前です" in past["02-2"]
    flagged = {r[3] for r in _grid(done.path, c.FINDINGS)[1:] if r[0] == "警告" and "見直し" in str(r[4])}
    assert "02-2" in flagged and "02-1" not in flagged


def test_a_closed_years_record_typed_into_history_and_replaced_is_named(years, sample, tmp_path, capsys):
    """Staff keep 2024's 基本KPI figure in the 2024 master's 経年 (「31兆円」, which no input
    gives) and a record of 02-1 of their own. 次年度のマスターを作成 records 2024 from its
    evaluation, as it should, but replaced both without a word: 31兆円 was gone from the 2025
    master. Now each replaced cell is named with what it held and what it holds now; a record
    that is what the evaluation gives (02-2 「30社 ◎」), and the sample's official 2023 (「３回」
    is 「3回」, 「－」 no value), are not."""
    m2024 = shutil.copyfile(years["m2024"], tmp_path / years["m2024"].name)
    wb = openpyxl.load_workbook(m2024, keep_vba=True)
    ws = wb[c.HISTORY]
    top = next(cell.row for cell in ws["A"] if cell.value == "指標ID")
    col = ws.max_column + 1
    ws.cell(top, col, "2024年度 実績値"), ws.cell(top, col + 1, "2024年度 評価")
    rows = {cell.value: cell.row for cell in ws["A"] if cell.value}
    for ind_id, actual, symbol in (("KPI1-1", "31兆円", "－"), ("02-1", "99回", "◎"), ("02-2", "30社", "◎")):
        ws.cell(rows[ind_id], col, actual), ws.cell(rows[ind_id], col + 1, symbol)
    wb.save(m2024)
    from openpyxl.utils import get_column_letter as letter

    assert cli_main(["rollover", str(m2024), "-o", str(tmp_path / "2025" / years["m2025"].name)]) == 0
    out = capsys.readouterr().out
    assert "【注意】「経年」の2024年度の記録 2 指標を、2024年度の入力から評価した実績値と評価で置き換えました" in out
    assert f"経年!{letter(col)}{rows['KPI1-1']}（KPI1-1）: 「31兆円 －」→「（空欄） －」" in out, out
    assert f"経年!{letter(col)}{rows['02-1']}（02-1）: 「99回 ◎」→「3回 ◎」" in out, out
    assert "02-2" not in out.split("置き換えました")[1].split("・")[0]

    assert cli_main(["rollover", str(sample)]) == 0       # the official 2023, evaluated again
    assert "置き換えました" not in capsys.readouterr().out


def test_macros_buttons_xlwings_conf_and_staff_parts_carry_over(years):
    old, new = _parts(years["m2023"]), years["fresh2024"]
    sheets = _sheet_parts(years["m2023"])
    assert new["xl/vbaProject.bin"] == old["xl/vbaProject.bin"]
    assert new[sheets[c.XLWINGS_CONF]] == old[sheets[c.XLWINGS_CONF]]
    edited = {sheets[s] for s in (c.MENU, c.SETTINGS, c.INDICATORS, *load_master(years["m2023"]).settings.names)}
    owned = {sheets[s] for s in (c.LIST, c.SUMMARY, c.FINDINGS, *c.YEAR_SHEETS) if s in sheets}
    shared = {"xl/workbook.xml", "xl/styles.xml", "[Content_Types].xml", "xl/_rels/workbook.xml.rels"}
    for name, data in old.items():
        if name in edited or name in owned or name in shared or "/_rels/" in name and any(
                p.rsplit("/", 1)[1] in name for p in owned) or name.startswith(("xl/drawings/", "xl/charts/")):
            continue
        assert new.get(name) == data, name
    # buttons: the メニュー's VML and controls are the old ones
    for name in old:
        if "vmlDrawing" in name or "ctrlProps" in name:
            assert new[name] == old[name], name


# ------------------------------------------------------- 2024 refilled and judged

def test_2024_is_judged_against_the_same_targets(years, fy2023):
    r2024 = years["r2024"]
    deadline_passed = {i.id for i in fy2023.indicators if (target_year(i.target) or 9999) < 2024}
    same = [i.id for i in fy2023.indicators if i.id not in deadline_passed and i.id != "01-1"]
    assert len(same) > 50
    assert {i: r2024.evaluations[i].symbol for i in same} == {i: fy2023.official[i] for i in same}
    # deadline rows judged for 2024: 2023年度まで not met → ×, flagged; 2025年度 not yet → ―
    assert fy2023.official["10-1"] == "×" and r2024.evaluations["10-1"].symbol == "×"
    assert any(f.type == PAST_TARGET.code and f.indicator_id == "10-1" for f in r2024.findings)
    for ind_id in ("31-2", "54-1"):
        assert next(i for i in fy2023.indicators if i.id == ind_id).target.startswith("2025年度")
        assert r2024.evaluations[ind_id].symbol == "―"
        assert not any(f.type == PAST_TARGET.code and f.indicator_id == ind_id for f in r2024.findings)


def test_next_steps_compare_with_last_year(years):
    grid = _grid(years["m2024"], c.NEXT_STEPS)
    header = grid[2]
    rows = {r[0]: r for r in grid[3:] if r and r[0]}
    trend = header.index("前年度との比較")
    assert rows["08-1"][trend].startswith("→") and "17件" in rows["08-1"][trend]
    assert "◎まであと8件" in rows["08-1"][header.index("目標までの差")]


def test_next_steps_do_not_compare_with_a_year_of_another_indicator(sample, tmp_path):
    """An 指標ID given to another indicator since 経年 recorded its year (renumbered, or a
    dropped ID reused): 次の一歩 compared the two, 「↑（前年度 3件 ◎）」 of the old one's
    count. A year recorded under the same 評価指標 is compared as before."""
    path = tmp_path / "経年.csv"
    path.write_text("指標ID,年度,実績値,評価\n08-1,2022,3件,◎\n06-1,2022,3件,×\n", encoding="utf-8")
    assert import_history(sample, path).imported == 2
    wb = openpyxl.load_workbook(sample, keep_vba=True)
    ws = wb[c.INDICATORS]
    head = [cell.value for cell in ws[1]]
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == "08-1")
    ws.cell(row, head.index("評価指標") + 1).value = "新しく加えた指標（番号を付け直し）"
    wb.save(sample)
    recorded = read_kept(_grid(sample, c.HISTORY)).labels["08-1"][1]
    assert cli_main(["recalc", str(sample)]) == 0
    grid = _grid(sample, c.NEXT_STEPS)
    header = grid[2]
    rows = {r[0]: r for r in grid[3:] if r and r[0]}
    trend = header.index("前年度との比較")
    assert rows["08-1"][trend] == f"比べません（「経年」の前年度の記録は、評価指標「{recorded}」のものです）"
    assert rows["06-1"][trend].startswith("↑") or rows["06-1"][trend].startswith("→"), rows["06-1"][trend]


# ------------------------------------------------------------------ twice

def test_a_second_rollover_keeps_both_years_and_the_chart_has_both(years, fy2023):
    history = read_history(_grid(years["m2025"], c.HISTORY))
    assert {i: per[2023].symbol for i, per in history.items()} == dict(fy2023.official)
    assert {i: per[2024].symbol for i, per in history.items()} == \
           {i: e.symbol for i, e in years["r2024"].evaluations.items()}
    summary = _grid(years["m2025"], c.SUMMARY)
    years_row = next(r for r in summary if r[0] == "年度別の達成割合")
    assert [v for v in years_row[1:] if v] == ["2023年度", "2024年度", "2025年度"]
    rate_row = summary[summary.index(years_row) + 1]
    assert rate_row[1] == 0.732          # as 一覧 prints it (73.2%), not 0.7324
    with zipfile.ZipFile(years["m2025"]) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    trend = [x for x in charts if "達成割合の推移" in x]
    assert len(trend) == 1
    assert all(f"<c:v>{y}年度</c:v>" in trend[0] for y in (2023, 2024, 2025))


def _drop_indicator(master: Path, ind_id: str) -> None:
    """What staff do to retire an indicator: its row on 指標 and on every municipality
    sheet emptied (a deleted row reads the same to the tool)."""
    data = load_master(master)
    rows = [(i.sheet, i.row) for i in data.indicators if i.id == ind_id]
    rows += [(e.sheet, e.row) for e in data.entries if e.indicator_id == ind_id]
    grids = {s: _grid(master, s) for s in {s for s, _ in rows}}
    cells = [CellEdit(s, r, col, None) for s, r in rows for col in range(1, len(grids[s][r - 1]) + 1)]
    write_planned(master, lambda fs: (WritePlan(cells=cells), None))


def test_an_indicator_taken_off_keeps_what_it_was_in_history_year_after_year(years, tmp_path):
    """04-1 taken off 指標 in 2024: its 2023 record stays in 経年, and so do its 連携事業名,
    評価指標 and 目標値, marked as no longer on 指標. The rollover after the row left wrote
    「（指標シートにない指標）」 alone, blank beside it: 「04-1 21件 ◎」 with nothing saying
    what it had measured, in the one sheet of the master that keeps the old years.

    The 前年度実績 column the next rollovers reuse: staff's notes under the table in it
    (「※…」 on 小樽市 and 指標) stay; the value the tool wrote beside 小樽市's 04-1, left when
    staff emptied the row's table cells alone, is emptied (never shown as 2024's). Both
    notes were emptied with the whole column, without a word."""
    m2024 = tmp_path / "さっぽろ圏_2024年度_マスター.xlsm"
    shutil.copyfile(years["m2024"], m2024)
    before = next(r for r in _grid(m2024, c.HISTORY) if r[0] == "04-1")
    assert before[1] and before[2] and before[3]
    otaru, ind = _grid(m2024, "小樽市"), _grid(m2024, c.INDICATORS)
    o_col, i_col = otaru[0].index(PREVIOUS_2023) + 1, ind[0].index(PREVIOUS_2023) + 1
    o_row = next(r for r, row in enumerate(otaru, start=1) if row[0] == "04-1")
    left = otaru[o_row - 1][o_col - 1]
    _drop_indicator(m2024, "04-1")
    notes = [("小樽市", (len(otaru) + 3, o_col), "※2023年度は速報値"), (c.INDICATORS, (len(ind) + 2, i_col), "※参考値")]
    _set(m2024, ("小樽市", (o_row, o_col), left), *notes)
    m2025 = rollover_file(m2024).path
    m2026 = rollover_file(m2025).path          # nothing entered in 2025: 経年 is written again all the same
    for master in (m2025, m2026):
        row = next(r for r in _grid(master, c.HISTORY) if r[0] == "04-1")
        assert row[1:4] == [before[1], "（指標シートにない指標）" + before[2], before[3]], row
        assert read_history(_grid(master, c.HISTORY))["04-1"][2023] == (before[4], before[5])
        assert "04-1" not in {i.id for i in load_master(master).indicators}
        assert [_grid(master, s)[r - 1][col - 1] for s, (r, col), _v in notes] == [v for *_p, v in notes]
        assert left and _grid(master, "小樽市")[o_row - 1][o_col - 1] is None


def test_history_prints_one_page_wide_with_its_header_on_every_page(years):
    """経年 widens by two columns a year; it had no page setup, so Excel printed it in
    portrait across pages, the later ones years without the 指標ID they belong to."""
    ws = openpyxl.load_workbook(years["m2025"])[c.HISTORY]
    assert ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    assert ws.print_title_rows == "$3:$3"
    assert [ws.cell(3, k).value for k in (1, 5, 7)] == ["指標ID", "2023年度 実績値", "2024年度 実績値"]


# ------------------------------------------------------------- gaps, FY2023

def _amount_ok(text: str, gap: Decimal, unit: str, family: str) -> bool:
    """The 「◎まであとN」 amount: exact below 1万, never smaller than the gap above it."""
    m = re.search(r"◎まであと([\d,.]+)(万|億|兆)?(ポイント|" + re.escape(unit) + r")", text)
    if not m:
        return False
    shown = Decimal(m.group(1).replace(",", ""))
    scale = {"万": Decimal(10) ** 4, "億": Decimal(10) ** 8, "兆": Decimal(10) ** 12}.get(m.group(2), 1)
    if family in ("件", "人", "社", "校", "回", "市町村"):
        gap = gap.to_integral_value(rounding="ROUND_CEILING")
    if scale == 1:
        return shown == gap
    return gap <= shown * scale < gap + scale / 10


def test_gap_texts_of_every_row_that_is_not_achieved(fy2023):
    settings = fy2023.settings
    official = dict(fy2023.official)
    checked = 0
    for ind in fy2023.indicators:
        symbol, actual = official[ind.id], fy2023.official_actual[ind.id]
        text = gap_text(ind, actual, symbol, "", settings, [s for i, s in official.items() if i != "01-1"])
        if symbol == ACHIEVED:
            assert text == "", ind.id
            continue
        assert text, ind.id
        try:
            t, a = parse_value(ind.target), parse_value(actual)
        except ValueError:
            continue
        if ind.is_kpi or t.kind != NUMBER or a.kind != NUMBER or ind.method == "自動":
            continue
        gap = t.number - a.number
        unit = t.unit
        assert _amount_ok(text, gap, unit, t.family), (ind.id, text, gap)
        assert f"（{a.core}／{t.core}）" in text, (ind.id, text)
        checked += 1
    assert checked >= 12
    project8 = next(i for i in fy2023.indicators if i.id == "08-1")
    text = gap_text(project8, fy2023.official_actual["08-1"], official["08-1"], "", settings)
    assert "◎まであと8件（17件／25件）" in text
    assert format_number(Decimal(25) - Decimal(17)) + "件" in text


@pytest.mark.parametrize("target, text", [
    ("2025年度中", "2025年度まであと2年度"),
    ("令和6年9月末まで", "2024年9月30日（2024年度）まであと1年度"),
    ("2024年3月末まで", "2024年3月31日（2023年度）、今年度が期限"),
    ("2023/3/31まで", "2023年3月31日（2022年度）、期限を過ぎています。目標の見直しが必要です"),
])
def test_next_steps_say_how_long_to_a_deadline_as_staff_write_it(fy2023, target, text):
    from renkei_xl.core.gaps import deadline_text

    ind = next(i for i in fy2023.indicators if i.id == "10-1")._replace(target=target)
    assert deadline_text(ind, 2023) == text


def _next_steps_with(sample, base_date: tuple, targets: dict) -> dict:
    """次の一歩's rows of ``targets`` (指標ID → 目標値) after a recalc with 基準日 ``base_date``."""
    import datetime as dt

    wb = openpyxl.load_workbook(sample, keep_vba=True)
    sheet, ref = next(iter(wb.defined_names[c.N_BASE_DATE].destinations))
    wb[sheet][ref.replace("$", "")].value = dt.datetime(*base_date)
    ws = wb[c.INDICATORS]
    head = [cell.value for cell in ws[1]]
    rows = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}
    for ind_id, target in targets.items():
        ws.cell(rows[ind_id], head.index("目標値") + 1).value = target
    wb.save(sample)
    assert cli_main(["recalc", str(sample)]) == 0
    steps = openpyxl.load_workbook(sample)[c.NEXT_STEPS]
    return {row[0]: row for row in steps.iter_rows(values_only=True) if row and row[0] in targets}


def test_next_steps_hold_a_month_deadline_to_the_status_date_as_its_symbol_is(sample):
    """A deadline to the month in this 年度 that 基準日 has passed is × (rules._deadline);
    次の一歩 said 「今年度が期限」 beside it. With 基準日 2023-09-30: June's is past, December's
    is still this year's, and a 年度 deadline stays 「今年度が期限」."""
    said = _next_steps_with(sample, (2023, 9, 30), {"14-1": "2023年6月末まで", "35-1": "2023年12月末まで",
                                                    "51-1": "2023年度中"})
    assert "2023年6月30日（2023年度）、期限を過ぎています。目標の見直しが必要です" in said["14-1"], said["14-1"]
    assert "2023年12月31日（2023年度）、今年度が期限" in said["35-1"], said["35-1"]
    assert "2023年度（今年度が期限）" in said["51-1"], said["51-1"]


def test_next_steps_hold_a_day_deadline_of_a_later_year_to_a_late_status_date(sample):
    """基準日 may be after the 年度's end (figures as of 2024-05-31 for 2023年度): a deadline to
    the day in 2024年度 that it has reached is × (rules._deadline), and 次の一歩 said
    「2024年4月30日（2024年度）まであと1年度」 beside it, counting by 年度 alone."""
    said = _next_steps_with(sample, (2024, 5, 31), {"14-1": "2024年4月末まで", "35-1": "2024年5月31日まで",
                                                    "51-1": "2024年6月末まで"})
    assert said["14-1"][3] == "×", said["14-1"]
    assert ("2024年4月30日（2024年度）、期限を過ぎています（基準日 2024年5月31日）。目標の見直しが必要です"
            in said["14-1"]), said["14-1"]
    assert said["35-1"][3] == "×", said["35-1"]
    assert "2024年5月31日（2024年度）、基準日が期限" in said["35-1"], said["35-1"]
    assert "2024年6月30日（2024年度）まであと1年度" in said["51-1"], said["51-1"]


def test_the_meta_row_says_how_many_rows_must_turn_achieved(fy2023):
    from renkei_xl.core.rules import achievement_rate, context_of

    official = dict(fy2023.official)
    others = [s for i, s in official.items() if i != "01-1"]
    meta = next(i for i in fy2023.indicators if i.id == "01-1")
    text = gap_text(meta, "73.2%", "×", "", fy2023.settings, others)
    k = int(re.search(r"◎まであと(\d+)指標", text).group(1))
    open_rows = [i for i, s in enumerate(others) if s in ("□", "×")]
    trial = list(others)
    for i in open_rows[:k]:
        trial[i] = ACHIEVED
    assert achievement_rate(trial, 1.0, context_of(fy2023.settings))[0] == ACHIEVED
    trial = list(others)
    for i in open_rows[:k - 1]:
        trial[i] = ACHIEVED
    assert achievement_rate(trial, 1.0, context_of(fy2023.settings))[0] != ACHIEVED


def test_the_meta_rows_gap_is_counted_against_its_own_target(fy2023):
    """達成割合 aimed at 「80%」: 52／71 = 73.2 % is 91.5 % of it, □ on 一覧, and 次の一歩 said
    「□まであと10指標、◎まであと20指標」, counted against 100 %. Against 80 %: no □ to reach,
    and ◎ at 56.8 of 71 rows (57／71 = 80.3 %), four more."""
    from renkei_xl.core.pipeline import recalculate

    inds = [i._replace(target="80%（毎年度）") if i.id == "01-1" else i for i in fy2023.indicators]
    res = recalculate(fy2023.settings, inds, fy2023.entries)
    meta = next(i for i in inds if i.id == "01-1")
    ev = res.evaluations["01-1"]
    assert ev.symbol == "□"
    others = [res.evaluations[i.id].symbol for i in inds if i.id != "01-1"]
    text = gap_text(meta, res.consolidated["01-1"].actual, ev.symbol, ev.reason, fy2023.settings, others)
    assert text.startswith("◎まであと4指標が◎になる必要があります"), text


# ------------------------------------------------------------------ history CSV

@pytest.fixture(scope="module")
def sample_built(tmp_path_factory) -> tuple[Path, bytes]:
    """The FY2023 sample master, built once for the module: each test's copy is a master of
    its own (init_master took 0.06 s a test), the bytes checked unchanged at each copy."""
    master = init_master(tmp_path_factory.mktemp("sample") / "m.xlsm", sample="fy2023")
    return master, master.read_bytes()


@pytest.fixture
def sample(sample_built, tmp_path):
    built, made = sample_built
    assert built.read_bytes() == made, "the module's sample master was changed"
    master = tmp_path / "m.xlsm"
    shutil.copyfile(built, master)
    return master


def _csv_imported(master: Path, folder: Path, rows: list[str], encoding: str):
    """A history CSV of ``rows`` under its header, imported: (its path, the result, line → reason)."""
    csv_path = folder / "経年.csv"
    csv_path.write_text("".join(f"{r}\n" for r in ["指標ID,年度,実績値,評価", *rows]), encoding=encoding)
    done = import_history(master, csv_path)
    return csv_path, done, {r.line: r.reason for r in done.refusals}


def test_history_csv_imports_good_rows_and_refuses_each_bad_one(sample, tmp_path, capsys):
    csv_path, done, reasons = _csv_imported(sample, tmp_path, ["08-1,2022,15件,×", "06-1,令和4年度,10件,◎",
                                                                "99-9,2022,3件,◎", "08-1,2030,20件,□",
                                                                "05-2,2022,約10件,×", "05-2,2021,3校,-",
                                                                "08-1,2022,15件,×"], "cp932")
    assert done.imported == 2
    assert set(reasons) == {4, 5, 6, 7, 8}
    assert "99-9" in reasons[4] and "指標シートにも「経年」シートにもありません" in reasons[4]
    assert "2030年度" in reasons[5] and "対象年度" in reasons[5]
    assert "約10件" in reasons[6] and "経年の記録にできません" in reasons[6]
    assert "◎ □ × － ―" in reasons[7]
    assert "08-1 の 2022年度は 2行目と同じです（1 行だけ取り込みます）" in reasons[8], reasons[8]
    history = read_history(_grid(sample, c.HISTORY))
    assert history["08-1"][2022].actual == "15件" and history["08-1"][2022].symbol == "×"
    assert history["06-1"][2022].symbol == "◎"
    assert set(history["05-2"]) == {2023} and "99-9" not in history   # 2023: the sample's own year
    # the command line says the same, with the line numbers, and exits 1 (rows refused)
    assert cli_main(["history", "import", str(sample), str(csv_path)]) == 1
    out = capsys.readouterr().out
    assert "4行目" in out and "99-9" in out and "経年" in out


def test_a_history_csv_figure_counting_another_thing_than_its_indicator_is_refused(sample, tmp_path):
    """「5件」 on the line of 03-1 (counted in 名: a figure typed on the wrong line) went into
    経年 beside the other years' 名 as if they compared. A unit of the same family (人 for
    名, 社 for 企業) or none at all (counted in the target's) is taken, as in 実績値（手入力）."""
    _path, done, reasons = _csv_imported(sample, tmp_path, ["03-1,2022,5件,×", "03-1,2021,2400人,◎",
                                                            "02-2,2022,14企業,×", "04-1,2021,17,×"], "utf-8")
    assert set(reasons) == {2}, reasons
    assert "実績値「5件」の単位「件」が、指標 03-1 の目標値「2,500名（毎年度）」の単位「名」と違います" in reasons[2]
    assert done.imported == 3
    history = read_history(_grid(sample, c.HISTORY))
    assert 2022 not in history["03-1"] and history["03-1"][2021] == ("2400人", "◎")
    assert history["02-2"][2022] == ("14企業", "×") and history["04-1"][2021] == ("17", "×")


def test_a_history_csv_fraction_on_a_row_counted_in_percent_is_refused_not_compared(sample, tmp_path):
    """01-1 counts in % (目標値 「100％（毎年度）」). A CSV made from the stored cells carries
    2023's 73.2% as 0.732: it went into 経年 as 「0.732」 beside the years' 「73.2%」, and after
    評価を再計算 次の一歩 showed 「↑（前年度 0.732 ×）」 for 73.2% both years, as the master's
    own input of 0.732 is refused (validate.fraction_of_percent). 73.2 or 0.732% is taken."""
    _path, done, reasons = _csv_imported(sample, tmp_path, ["01-1,2022,0.732,×", "01-1,2021,73.2,×",
                                                            "01-1,2020,0.5%,×"], "utf-8-sig")
    assert set(reasons) == {2}, reasons
    assert "実績値「0.732」は、「73.2%」を Excel が保存する値と同じです" in reasons[2], reasons[2]
    assert "0.732% なのか 73.2% なのか決められません" in reasons[2]
    history = read_history(_grid(sample, c.HISTORY))
    assert 2022 not in history["01-1"] and history["01-1"][2021] == ("73.2", "×")
    assert history["01-1"][2020] == ("0.5%", "×") and done.imported == 2


@pytest.mark.parametrize("typed, refused", [("約10件", True), ("10件程度", True), ("10以上", True),
                                             ("10件（見込み）", True), (12, False), ("12件", False)])
def test_a_history_sheet_value_is_held_to_the_csv_rule_in_its_words(fy2023, typed, refused):
    """「約10件」, 「10件程度」 or 「10以上」 typed straight into 経年 (04-1 counts in 件) was kept as
    that year's figure, while the history CSV refused the same value naming its line. One rule
    for a 経年 value whichever way it arrives: the sheet refuses what the CSV refuses, naming the
    cell where the CSV names its line, in the same words; what the CSV takes (a bare 12,
    counted in the target's 件) the sheet keeps."""
    from renkei_xl.core.history import parse_history_csv

    grid = [["指標ID", "連携事業名", "評価指標", "目標値", "2021年度 実績値", "2021年度 評価", "2022年度 実績値",
             "2022年度 評価"], ["04-1", "", "", "", "17件", "×", typed, "×"]]
    csv = parse_history_csv(f"指標ID,年度,実績値,評価\n04-1,2022,{typed},×\n", fy2023.indicators, 2023)
    assert [r.line for r in csv.refusals] == ([2] if refused else [])
    if not refused:
        assert read_history(grid, fy2023.indicators, 2023)["04-1"][2022] == (str(typed), "×")
        return
    with pytest.raises(UserError) as sheet:
        read_history(grid, fy2023.indicators, 2023)
    assert str(sheet.value) == f"{c.HISTORY}!G2 の{csv.refusals[0].reason}", (sheet.value, csv.refusals)
    assert f"実績値「{typed}」は経年の記録にできません" in str(sheet.value)
    assert read_history(grid)["04-1"][2022] == (typed, "×")     # no indicators: read as it is (its labels)


@pytest.mark.parametrize("line", ['04-1,2022,"約10件\n2行目",×', '04-1,"20\n22",10件,×', '04-1,2022,10件,"◎\n済"',
                                  '"04\n-1",2022,10件,×', '04-1,2022,"10件\r\n以上",×', '04-1,2022,"R5\n10/10",◎',
                                  '04-1,2022,"(10\n)",×', '04-1,2022,10件,×,"メモ\n2行目"'])
def test_a_refused_value_with_a_line_break_is_quoted_on_one_line(fy2023, line):
    """A value holding a line break (Alt+Enter in the cell Excel saved as CSV) was quoted as
    typed: the refusal went on across two lines, its rest read as a line of its own. Every
    refusal quotes a staff value on one line (values.shown: the break as ⏎)."""
    from renkei_xl.core.history import parse_history_csv

    parsed = parse_history_csv(f"指標ID,年度,実績値,評価\n{line}\n", fy2023.indicators, 2023)
    assert len(parsed.refusals) == 1 and not parsed.records, parsed
    said = parsed.refusals[0].text()
    assert "\n" not in said and "\r" not in said and "⏎" in said, said


def test_a_fraction_typed_into_a_percent_rows_year_of_the_history_sheet_is_refused_naming_it(sample, tmp_path):
    """0.732 typed into 経年's 2022年度 実績値 of 01-1 (counted in %: 「100％（毎年度）」) was read
    as 0.732%, and 評価を再計算's 次の一歩 showed 「↑（前年度 0.732 ×）」 beside this year's 73.2%.
    The sheet is read by the CSV's rule (validate.fraction_of_percent): refused, naming the cell,
    nothing written; 73.2% typed as text is taken."""
    _csv_imported(sample, tmp_path, ["01-1,2022,73.2%,×"], "utf-8")
    grid = _grid(sample, c.HISTORY)
    top = next(r for r, row in enumerate(grid) if "指標ID" in row)
    row, col = next(r for r, v in enumerate(grid) if v and v[0] == "01-1"), grid[top].index("2022年度 実績値")
    _set(sample, (c.HISTORY, (row + 1, col + 1), 0.732))
    before = sample.read_bytes()
    with pytest.raises(UserError) as refused:
        recalc_file(sample)
    where = f"{c.HISTORY}!{chr(ord('A') + col)}{row + 1}"
    assert f"{where} の実績値「0.732」は、「73.2%」を Excel が保存する値と同じです" in str(refused.value), refused.value
    assert "「'73.2%」のように先頭に ' を付けて" in str(refused.value) and sample.read_bytes() == before


def test_an_indicator_id_excel_turned_into_a_date_is_refused_saying_so(sample, tmp_path):
    """A history CSV opened in Excel to add a year, and saved: 「02-1」 became the date 「2月1日」
    (「2022/2/1」, 「1-Feb」 as other settings show it). The line was refused as an ID no sheet
    has, which did not say where it came from; now it names 02-1 and how to keep it text. A
    date no ID of the master reads as (12月31日) is refused as before, without the hint."""
    _path, done, reasons = _csv_imported(sample, tmp_path, ["2月1日,2022,2回,◎", "2022/2/1,2022,2回,◎",
                                                            "1-Feb,2022,2回,◎", "12月31日,2022,2回,◎"], "cp932")
    assert set(reasons) == {2, 3, 4, 5} and done.imported == 0, reasons
    for line in (2, 3, 4):
        assert "（Excel で CSV を開くと、指標ID「02-1」は日付に変わります。" in reasons[line], reasons[line]
    assert reasons[5] == "指標ID「12月31日」は指標シートにも「経年」シートにもありません", reasons[5]


def test_a_year_given_twice_with_different_figures_is_taken_from_neither_line(sample, tmp_path):
    """A corrected line added below the old one (「08-1,2022,16件」 under 「15件」): the first
    was taken and the correction refused, a guess between two figures said only as a
    refused line. Neither is taken now, each line names the other; the rest is imported."""
    _path, done, reasons = _csv_imported(sample, tmp_path, ["08-1,2022,15件,×", "06-1,2022,10件,◎",
                                                            "08-1,2022,16件,×", "08-1,2022,15件,□"], "utf-8")
    assert set(reasons) == {2, 4, 5} and done.imported == 1, reasons
    for line in (2, 4, 5):
        assert "08-1 の 2022年度が 2行目・4行目・5行目 にあり、実績値か評価が違います" in reasons[line], reasons[line]
    history = read_history(_grid(sample, c.HISTORY))
    assert 2022 not in history["08-1"] and history["06-1"][2022] == ("10件", "◎")


@pytest.mark.parametrize("lines", [6, 3000])
def test_lines_giving_one_year_many_figures_are_each_refused_in_a_bounded_text(fy2023, lines):
    """One indicator's year on many lines, each figure its own: every line's refusal named
    every other line, quadratic (20,000 lines took 6 GB, 100,000 more than a PC has). It
    names the first five and counts the rest, on every line alike."""
    from renkei_xl.core.history import parse_history_csv

    content = "\n".join(["指標ID,年度,実績値,評価", *(f"08-1,2022,{n}件,×" for n in range(lines))])
    parsed = parse_history_csv(content, fy2023.indicators, 2023)
    assert not parsed.records and [r.line for r in parsed.refusals] == list(range(2, lines + 2))
    said = "08-1 の 2022年度が 2行目・3行目・4行目・5行目・6行目 ほか 1 行（全 6 行） にあり" if lines == 6 else \
        "08-1 の 2022年度が 2行目・3行目・4行目・5行目・6行目 ほか 2,995 行（全 3,000 行） にあり"
    assert all(said in r.reason and len(r.reason) < 200 for r in parsed.refusals), parsed.refusals[0]


@pytest.mark.parametrize("again, said", [
    ("04-1,2022,21件,◎", "（うち 1 行は記録済みの年度を置き換え、値が変わったのは 0 行）"),
    ("04-1,2022,25件,×", "値が変わったのは 1 行）"),
])
def test_a_csv_imported_again_names_the_records_it_changed(sample, tmp_path, capsys, again, said):
    """A year imported a second time said 「うち 1 行は記録済みの年度を置き換え」 whether the file
    was the same or changed a figure, and not which: the old figure is in the backup alone."""
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("指標ID,年度,実績値,評価\n04-1,2022,21件,◎\n", encoding="utf-8")
    second.write_text(f"指標ID,年度,実績値,評価\n{again}\n", encoding="utf-8")
    assert cli_main(["history", "import", str(sample), str(first)]) == 0
    capsys.readouterr()
    assert cli_main(["history", "import", str(sample), str(second)]) == 0
    out = capsys.readouterr().out
    assert said in out, out
    changed = "」→「" in out and f"経年!{_ref((10, 5))}（04-1）: 「21件 ◎」→「25件 ×」" in out
    assert changed == again.endswith("×"), out


def test_a_past_year_of_an_indicator_taken_off_can_still_be_corrected(sample, tmp_path):
    """04-1 left 指標 but 経年 keeps its years: a CSV correcting one of them was refused
    「指標シートにありません」, leaving the figure staff had found wrong in the record."""
    _drop_indicator(sample, "04-1")
    _path, done, reasons = _csv_imported(sample, tmp_path, ["04-1,2022,22件,◎", "04-1,2021,18件,×"], "utf-8")
    assert done.imported == 2 and not reasons, reasons
    history = read_history(_grid(sample, c.HISTORY))["04-1"]
    assert history[2022] == ("22件", "◎") and history[2021] == ("18件", "×") and history[2023] == ("21件", "◎")


def test_a_csv_correcting_last_year_corrects_the_indicator_sheets_previous_column(years, tmp_path, capsys):
    """A correction of 2023 imported into the 2024 master went into 経年 while 指標's
    「前年度実績（2023年度）」 beside the row still showed the figure found wrong. Now the rows
    the CSV names show its value; every other row and the municipality sheets (the CSV has no
    municipality's value) stay, and the command line says which columns it left and how to
    correct them."""
    master = tmp_path / "さっぽろ圏_2024年度_マスター.xlsm"
    shutil.copyfile(years["empty2024"], master)
    label = c.PREVIOUS_HEADER.format(year=2023)
    before = {s: _grid(master, s) for s in (c.INDICATORS, "札幌市")}
    rows = ["KPI1-2,2023,\"31,000千人（2023年度）\",×", "03-1,2023,4000名,◎", "08-1,2022,15件,×"]
    _path, done, reasons = _csv_imported(master, tmp_path, rows, "utf-8")
    assert done.imported == 3 and not reasons and done.previous == 2, done
    grid = _grid(master, c.INDICATORS)
    col = next(r for r in grid if c.INDICATOR_HEADERS["id"] in r).index(label)
    shown = {row[0]: row[col] for row in grid}
    assert shown["KPI1-2"] == "31,000千人（2023年度） ×" and shown["03-1"] == "4000名 ◎"
    changed = [i for i, (old, new) in enumerate(zip(before[c.INDICATORS], grid)) if old != new]
    assert [grid[i][0] for i in changed] == ["KPI1-2", "03-1"], changed
    assert _grid(master, "札幌市") == before["札幌市"]
    assert "札幌市" in done.untouched
    shutil.copyfile(years["empty2024"], master)
    assert cli_main(["history", "import", str(master), str(_path)]) == 0
    out = capsys.readouterr().out
    assert f"「{label}」の列も、CSV の値にしました（2 行）" in out, out
    assert f"市町村シートの「{label}」の列は変えていません" in out and "札幌市" in out, out



def _history_as_excel_saves_it(master: Path, path: Path, encoding: str, headers: dict[str, str],
                               values: dict[tuple[str, str], str]) -> Path:
    """経年 of ``master`` saved as Excel's 「CSV UTF-8」 (BOM) or 「CSV」 (cp932) saves a sheet:
    its title and note lines above the header, every cell as shown, headers and cells changed
    as staff retype them (``headers``: old → new, ``values``: (指標ID, header) → text)."""
    import csv
    import io

    grid = [["" if v is None else str(v) for v in row] for row in _grid(master, c.HISTORY)]
    at = next(k for k, row in enumerate(grid) if "指標ID" in row)
    head = grid[at]
    for (ind_id, h), value in values.items():
        next(row for row in grid if row[0] == ind_id)[head.index(h)] = value
    grid[at] = [headers.get(h, h) for h in head]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(grid)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


@pytest.mark.parametrize("encoding, actual_head, symbol_head", [("utf-8-sig", "2023年度 実績値", "2023年度 評価"),
                                                                ("cp932", "令和5年度 実績値", "R5年度 評価")])
def test_history_saved_from_excel_as_a_csv_of_its_own_layout_is_imported_year_by_year(
        years, tmp_path, capsys, encoding, actual_head, symbol_head):
    """経年 saved by Excel as a CSV (last year's, kept for the record) was refused for a header
    「年度」 its layout never has: staff were left to retype each year of each indicator one a
    line. Read as 経年 is read: every year's 実績値 and 評価 under its 指標ID and year, a year
    not before the master's and an ID neither 指標 nor 経年 has refused naming their line."""
    master = tmp_path / "さっぽろ圏_2024年度_マスター.xlsm"
    shutil.copyfile(years["empty2024"], master)
    values = {("08-1", "2023年度 実績値"): "18件", ("08-1", "2023年度 評価"): "□",
              ("KPI1-2", "2024年度 評価"): "◎", ("01-1", "評価指標"): "各連携事業の\n評価指標の達成割合"}
    path = _history_as_excel_saves_it(years["m2025"], tmp_path / "経年_2025.csv", encoding,
                                      {"2023年度 実績値": actual_head, "2023年度 評価": symbol_head}, values)
    with path.open("a", encoding=encoding, newline="") as fh:
        fh.write("99-9,新しい事業,新しい指標,10件,5件,×,,\r\n")
    before = read_history(_grid(years["m2025"], c.HISTORY))
    assert cli_main(["history", "import", str(master), str(path)]) == 1
    out = capsys.readouterr().out
    history = read_history(_grid(master, c.HISTORY))
    assert history["08-1"][2023] == ("18件", "□")
    assert {i: per[2023] for i, per in history.items() if i != "08-1"} == \
           {i: per[2023] for i, per in before.items() if i != "08-1"}
    assert years_of(history) == [2023]
    lines = out.splitlines()
    line = 3 + len(before) + 2     # the title, the note, the header, each indicator (01-1's of two lines), 99-9
    assert f"取り込みません: {line}行目: 2023年度の列: 指標ID「99-9」は指標シートにも「経年」シートにもありません" in lines, out
    kpi = 4 + next(k for k, i in enumerate(before) if i == "KPI1-2")
    assert (f"取り込みません: {kpi}行目: 2024年度の列: 2024年度は対象年度（2024年度）より前ではありません"
            "（取り込めるのは過去の年度だけです。今年度の実績は市町村シートに入力してください）") in lines, out


def test_a_history_csv_refusal_names_the_line_a_row_starts_on_after_a_cell_of_two_lines(sample, tmp_path):
    """A cell of two lines (Alt+Enter in Excel) is one row of two lines in the CSV: every
    refusal after it named the line before the one staff had to mend."""
    _path, done, reasons = _csv_imported(sample, tmp_path, ['08-1,2022,"15件\n（速報値）",×', "99-9,2022,3件,◎"],
                                         "utf-8")
    assert set(reasons) == {2, 4} and "99-9" in reasons[4], reasons


def test_an_error_in_the_header_of_history_saved_as_a_csv_refuses_the_file_and_keeps_the_master(
        years, tmp_path, capsys):
    """Excel writes a header cell holding an error as its text (「#REF!」 where 「2023年度 実績値」
    was). Read as a column of no year, the 2023 評価 beside it was imported with an empty
    実績値: every indicator's 2023 実績値 (「3回」) became nothing in 経年 and in 指標's
    前年度実績, exit 1 as for the other years' rows alone. Refused naming the cell; nothing is
    written."""
    master = tmp_path / "さっぽろ圏_2024年度_マスター.xlsm"
    shutil.copyfile(years["empty2024"], master)
    before = master.read_bytes()
    path = _history_as_excel_saves_it(years["m2025"], tmp_path / "経年_2025.csv", "utf-8-sig",
                                      {"2023年度 実績値": "#REF!"}, {})
    assert cli_main(["history", "import", str(master), str(path)]) == 2
    err = capsys.readouterr().err
    assert re.search(r"見出し 3行目\d+列目「#REF!」 はエラー値です", err), err
    assert master.read_bytes() == before


@pytest.mark.parametrize("head, typed, said", [
    ("2023年度 評価", "#DIV/0!", "評価がエラー値「#DIV/0!」です"),
    ("2023年度 評価", "FALSE", "評価が TRUE/FALSE（論理値）の「FALSE」です"),
    ("指標ID", "#N/A", "指標IDがエラー値「#N/A」です")])
def test_an_error_or_boolean_in_a_csv_record_is_refused_as_what_it_is(years, tmp_path, capsys, head, typed, said):
    """Excel writes an error cell as its text and a TRUE/FALSE as 「TRUE」「FALSE」 into a CSV.
    Only in the 実績値 was either named: in the 評価 it was refused as 「◎ □ × － ― のどれかに
    してください」 and in the 指標ID as an ID 指標 lacks, neither of which is what staff mend."""
    master = tmp_path / "さっぽろ圏_2024年度_マスター.xlsm"
    shutil.copyfile(years["empty2024"], master)
    path = _history_as_excel_saves_it(years["m2025"], tmp_path / "経年_2025.csv", "utf-8-sig", {},
                                      {("08-1", head): typed})
    before = read_history(_grid(master, c.HISTORY))["08-1"]
    assert cli_main(["history", "import", str(master), str(path)]) == 1
    out = capsys.readouterr().out
    assert any(line.startswith("取り込みません: ") and f"2023年度の列: {said}" in line for line in out.splitlines()), out
    assert read_history(_grid(master, c.HISTORY))["08-1"][2023] == before[2023]


def test_a_csv_of_an_earlier_year_leaves_a_master_without_its_column_as_it_is(sample, tmp_path):
    """The sample 2023 master was not made by rollover: it has no 前年度実績 column, and a
    CSV of 2022 adds none."""
    before = _grid(sample, c.INDICATORS)
    _path, done, reasons = _csv_imported(sample, tmp_path, ["08-1,2022,15件,×"], "utf-8")
    assert done.imported == 1 and not reasons and done.previous == 0 and not done.untouched
    assert _grid(sample, c.INDICATORS) == before


def test_a_year_missing_between_recorded_years_stands_as_a_gap_in_the_summary(sample, tmp_path):
    """2020 imported beside the sample's 2023: 集計's years read 2020年度, 2023年度 side by
    side and the chart drew them as consecutive years. The years between stand, 記録なし."""
    _csv_imported(sample, tmp_path, ["08-1,2020,15件,×", "06-1,2020,10件,◎"], "utf-8")
    recalc_file(sample)
    summary = _grid(sample, c.SUMMARY)
    at = next(i for i, r in enumerate(summary) if r[0] == "年度別の達成割合")
    years, rates, counts = (summary[at + k][1:6] for k in range(3))
    assert list(years) == ["2020年度", "2021年度", "2022年度", "2023年度", None]
    assert list(rates[:4]) == [0.5, None, None, 0.732]
    assert list(counts[:4]) == ["1／2", "記録なし", "記録なし", "52／71"]


def test_history_csv_takes_what_the_list_prints_and_refuses_odd_digits_and_error_values(sample, tmp_path):
    """「（入力エラー）」 is what 一覧 and 経年 print for a row an input error made －: 経年 saved
    as a CSV came back refused for it. A year in other digits (「٢٠٢٢」, 「𝟮𝟬𝟮𝟮」) was read as
    2022 in silence; an error value was called unreadable as a number."""
    _path, done, reasons = _csv_imported(sample, tmp_path, ["08-1,2022,（入力エラー）,－", "06-1,٢٠٢١,10件,◎",
                                                            "06-1,𝟮𝟬𝟮𝟭,10件,◎", "05-2,2022,#REF!,×",
                                                            "06-1,2022,（入力エラー）,◎"], "utf-8-sig")
    assert done.imported == 1
    assert "「（入力エラー）」なのに評価が「◎」" in reasons.pop(6), reasons    # it contradicts itself
    assert set(reasons) == {3, 4, 5}, reasons
    assert "年度「٢٠٢١」を読めません" in reasons[3] and "年度「𝟮𝟬𝟮𝟭」を読めません" in reasons[4]
    assert "エラー値「#REF!」" in reasons[5]
    assert read_history(_grid(sample, c.HISTORY))["08-1"][2022] == ("（入力エラー）", "－")


def test_a_true_or_false_in_a_history_csv_or_a_recorded_cell_is_named_as_one(sample, tmp_path):
    """Excel writes a check box's linked cell (or TRUE typed) into a CSV as 「TRUE」: it was
    refused as a value nobody could read. A TRUE/FALSE in a cell of 指標 that 経年 records
    (評価指標 F8 of 04-1) was written into 経年 as the text 「TRUE」 (an error value there is
    refused, naming the cell): refused alike."""
    from renkei_xl.core.errors import UserError
    from renkei_xl.core.history import refuse_unrecordable

    _path, done, reasons = _csv_imported(sample, tmp_path, ["05-2,2022,TRUE,×", "06-1,2022,10件,◎"], "utf-8-sig")
    assert done.imported == 1 and set(reasons) == {2}, reasons
    assert "実績値が TRUE/FALSE（論理値）の「TRUE」です" in reasons[2], reasons
    indicators = load_master(sample).indicators
    bad = [i._replace(name="TRUE") if i.id == "04-1" else i for i in indicators]
    with pytest.raises(UserError, match=r"指標!F8「TRUE」がTRUE/FALSE（論理値）のため、「経年」に記録できません"):
        refuse_unrecordable(bad)
    refuse_unrecordable(indicators)


def _refused_by_history_writers(sample, tmp_path, capsys, *needles: str, recalc: bool = True) -> None:
    """評価を再計算 (unless ``recalc`` is False), 次年度のマスターを作成 and 経年の取り込み each
    refuse ``sample`` saying every one of ``needles``, without a traceback, writing nothing."""
    before = sample.read_bytes()
    csv_path = tmp_path / "経年.csv"
    csv_path.write_text("指標ID,年度,実績値,評価\n08-1,2022,15件,×\n", encoding="utf-8")
    for command in ([["recalc", str(sample)]] if recalc else []) + [
            ["rollover", str(sample), "-o", str(tmp_path / "next.xlsm")], ["history", "import", str(sample), str(csv_path)]]:
        assert cli_main(command) == 2, command
        out = capsys.readouterr()
        said = out.out + out.err
        assert all(needle in said for needle in needles) and "Traceback" not in said, said
        assert sample.read_bytes() == before and not (tmp_path / "next.xlsm").exists()


@pytest.mark.parametrize("ref", ["E10", "A3"])
def test_a_formula_saved_without_its_result_in_history_is_named_not_read_as_empty(sample, tmp_path, capsys, ref):
    """A cell of 経年 holding a formula without a saved result (a file written by openpyxl
    or LibreOffice with some settings) was read by calamine as empty: 04-1's 2023 実績値
    (E10) as not recorded, the 「指標ID」 header (A3) as no history at all; 評価を再計算,
    次年度のマスターを作成 and 経年の取り込み went on without a word. Each now refuses it,
    naming the cell as findings.NO_RESULT does on 指標, and writes nothing."""
    from conftest import rewrite_cells

    rewrite_cells(sample, _sheet_parts(sample)[c.HISTORY], {ref: f'<c r="{ref}" s="{{s}}"><f>1+1</f></c>'})
    _refused_by_history_writers(sample, tmp_path, capsys, f"経年!{ref} は計算結果が保存されていない数式です",
                                "Excel で開いて保存し直す")


@pytest.mark.parametrize("cell, said", [
    ('<c r="A3" s="{s}" t="e"><v>#REF!</v></c>', "経年!A3「#REF!」 はエラー値です"),
    ('<c r="A3" s="{s}" t="e"><f>#REF!</f><v>#REF!</v></c>', "経年!A3「#REF!」 はエラー値です"),
    ('<c r="A3" s="{s}" t="e"><f>XLOOKUP(1,B:B,C:C)</f><v>#SPILL!</v></c>', "経年!A3「#SPILL!」 はエラー値です"),
    ('<c r="A3" s="{s}" t="b"><v>1</v></c>', "経年!A3「TRUE」 はTRUE/FALSE（論理値）です"),
    # the cell to put right named too: the place before 「連携事業名」 (qa-132)
    ('<c r="A3" s="{s}" t="inlineStr"><is><t>ID</t></is></c>',
     "見出し（経年!E3「2023年度 実績値」）がありますが、見出し「指標ID」がありません（経年!A3 は「ID」です）"),
    ('<c r="A3" s="{s}"/>', "見出し（経年!E3「2023年度 実績値」）がありますが、見出し「指標ID」がありません（経年!A3 は空欄です）"),
], ids=["error", "formula-error", "spill", "true", "typed-over", "cleared"])
def test_the_id_header_of_history_as_an_error_or_typed_over_is_named_not_read_as_no_history(sample, tmp_path, capsys,
                                                                                          cell, said):
    """The 「指標ID」 header of 経年 (A3) holding an error value, a TRUE or another word: no
    header row was found and 経年 read as no history at all, as the formula without result
    above did; 評価を再計算 drew 集計 without a year, and 次年度のマスターを作成 wrote 経年 anew
    without any of them, saying only that the closed year's record was missing (qa-128)."""
    from conftest import rewrite_cells

    rewrite_cells(sample, _sheet_parts(sample)[c.HISTORY], {"A3": cell})
    _refused_by_history_writers(sample, tmp_path, capsys, said)


@pytest.mark.parametrize("cell, said", [
    ('<c r="F3" s="{s}" t="inlineStr"><is><t>評価</t></is></c>',
     "「2023年度 実績値」（経年!E3）がありますが、「2023年度 評価」がありません（経年!F3 は「評価」です"),
    ('<c r="F3" s="{s}"/>', "「2023年度 実績値」（経年!E3）がありますが、「2023年度 評価」がありません（経年!F3 は空欄です"),
    ('<c r="E3" s="{s}" t="inlineStr"><is><t>2023年度 実積値</t></is></c>',
     "「2023年度 評価」（経年!F3）がありますが、「2023年度 実績値」がありません（経年!E3 は「2023年度 実積値」です"),
    ('<c r="D3" s="{s}" t="inlineStr"><is><t>目標</t></is></c>',
     "見出し「目標値」が見つかりません（その見出しのあるはずのセル D3 は「目標」です。見出しが書き換えられています）"),
    # a year not yet reached (future_year): a slip of the year, said before the pair it lacks
    ('<c r="E3" s="{s}" t="inlineStr"><is><t>2025年度 実績値</t></is></c>',
     "見出し「2025年度 実績値」（経年!E3）: 2025年度は対象年度（2023年度）より後の年度です"),
], ids=["symbol-typed-over", "symbol-cleared", "actual-typo", "target-typed-over", "future-year"])
def test_a_header_of_history_typed_over_is_named_not_read_as_half_a_year(sample, tmp_path, capsys, cell, said):
    """A year's 「2023年度 評価」 (F3) typed over 「評価」 or cleared, or its 「2023年度 実績値」
    (E3) mistyped: the year was read without that column, 集計 drew 2023 without its 達成割合
    (or its 実績値 were no record), and 次年度のマスターを作成 kept the column as staff's text
    beside the years. Every version wrote a year as the two side by side (qa-131). 「目標値」
    (D3) typed over was kept as staff's column after the years, the targets no label: named by
    the writers of 経年 (評価を再計算 reads the years alone, not stopped by a label: read_kept)."""
    from conftest import rewrite_cells

    rewrite_cells(sample, _sheet_parts(sample)[c.HISTORY], {cell.split('"')[1]: cell})
    _refused_by_history_writers(sample, tmp_path, capsys, said, recalc="D3" not in cell)


def test_a_year_after_the_masters_year_is_no_record_on_the_sheet_nor_in_a_csv(fy2023):
    """A 経年 column headed 2025 in a 2023 master was read as that year's records: 集計 drew a
    達成割合 for a year not reached and the rollover carried it on; a CSV line of 2025 was
    refused as 「より前ではありません」, which says nothing of the slip. One rule
    (history.future_year) on the sheet, in a CSV and so in the rollover, which reads the sheet;
    the year itself stays the sheet's (the rollover replaces it and says so)."""
    from renkei_xl.core.history import parse_history_csv

    grid = [["指標ID", "連携事業名", "評価指標", "目標値", "2023年度 実績値", "2023年度 評価", "2025年度 実績値",
             "2025年度 評価"], ["04-1", "", "", "", "21件", "◎", "30件", "◎"]]
    assert read_history(grid)["04-1"][2025] == ("30件", "◎")       # no year given: read as it is
    with pytest.raises(UserError, match=r"見出し「2025年度 実績値」（経年!G1）: 2025年度は対象年度（2023年度）より後の年度です"):
        read_history(grid, fiscal_year=2023)
    assert read_history(grid, fiscal_year=2025)["04-1"][2023] == ("21件", "◎")
    parsed = parse_history_csv("指標ID,年度,実績値,評価\n04-1,2025,30件,◎\n04-1,2023,21件,◎\n", fy2023.indicators, 2023)
    assert [r.reason for r in parsed.refusals] == [
        "2025年度は対象年度（2023年度）より後の年度です（まだ来ていない年度の記録はありません。年度の打ち間違いではないか確かめてください）",
        "2023年度は対象年度（2023年度）より前ではありません（取り込めるのは過去の年度だけです。今年度の実績は市町村シートに入力してください）"]


def test_a_tab_separated_history_file_is_read_as_excel_saves_it(sample, tmp_path):
    """Excel's テキスト（タブ区切り） save: the same rows as the CSV, separated by tabs (a 実績値
    with a comma in it stays one field)."""
    tsv = tmp_path / "経年.txt"
    tsv.write_text("指標ID\t年度\t実績値\t評価\n08-1\t2022\t1,015件\t×\n", encoding="cp932")
    done = import_history(sample, tsv)
    assert done.imported == 1 and not done.refusals
    assert read_history(_grid(sample, c.HISTORY))["08-1"][2022].actual == "1,015件"


@pytest.mark.parametrize("bom, encoding", [(b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")])
def test_a_unicode_text_history_file_is_read_as_excel_and_notepad_save_it(sample, tmp_path, capsys, bom, encoding):
    """Excel's 「Unicode テキスト」 save (UTF-16 with its BOM, tabs, CRLF) and メモ帳's 「Unicode」:
    refused as 「CSV（文字のファイル）ではありません」 for the zero bytes UTF-16 holds, a file
    of text sent back as if it were none. Both faces of the import are this command."""
    for name, sep in (("経年.txt", "\t"), ("経年.csv", ",")):
        path = tmp_path / name
        rows = [f"指標ID{sep}年度{sep}実績値{sep}評価", f"08-1{sep}令和4年度{sep}\"1,015件\"{sep}×"]
        path.write_bytes(bom + "".join(f"{r}\r\n" for r in rows).encode(encoding))
        assert cli_main(["history", "import", str(sample), str(path)]) == 0, capsys.readouterr()
        assert "「経年」に 1 行を取り込みました" in capsys.readouterr().out
        assert read_history(_grid(sample, c.HISTORY))["08-1"][2022] == ("1,015件", "×")
    path.write_bytes(b"\xff\xfe\x00\xd8,\x00")     # half a surrogate pair: no UTF-16 text
    assert cli_main(["history", "import", str(sample), str(path)]) == 2
    assert "UTF-16-LE の文字として読めません" in capsys.readouterr().err


def _refused_at_peak(sample, path, said: str) -> int:
    """The memory import_history of ``path`` into ``sample`` peaked at before refusing it as ``said``."""
    import tracemalloc

    from renkei_xl.core.errors import UserError

    tracemalloc.start()
    try:
        with pytest.raises(UserError, match=said):
            import_history(sample, path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_huge_history_file_is_refused_having_read_only_past_the_limit(sample, tmp_path):
    """A 経年 file far past MAX_CSV_BYTES (a 500 MB 「Unicode テキスト」 export of a whole
    system) is refused as 大きすぎます after reading one byte past the limit: it was read
    whole first, its size in memory before the refusal. The file is sparse, so the test
    writes nothing; a read of it whole would hold its 64 MiB."""
    from renkei_xl.core.history import MAX_CSV_BYTES

    path = tmp_path / "経年.txt"
    with open(path, "wb") as fh:
        fh.write(b"\xff\xfe")
        fh.truncate(64 * 2**20)
    before = sample.read_bytes()
    assert _refused_at_peak(sample, path, "「経年.txt」は大きすぎます（5 MB まで）") < 3 * MAX_CSV_BYTES
    assert sample.read_bytes() == before


def test_a_history_file_of_empty_lines_or_a_huge_field_is_refused_in_japanese(sample, tmp_path):
    """Under 5 MB, two files the csv module reads badly: empty lines only (five million rows
    were read, 340 MiB, before 「行が多すぎます」; staff who see five rows in the file are told
    that the empty lines count) and a field past its 131,072 characters
    (refused in its English, 「field larger than field limit (131072)」)."""
    from renkei_xl.core.errors import UserError

    path = tmp_path / "経年.csv"
    path.write_bytes("指標ID,年度,実績値,評価\n".encode() + b"\n" * (5 * 2**20 - 64))
    assert _refused_at_peak(sample, path, "「経年.csv」の行が多すぎます（100,000 行まで）。読んだ 100,001 行のうち "
                            "100,000 行は空の行です。空の行も1行と数えるため、表の下の空の行を削除して") < 64 * 2**20
    path.write_text("指標ID,年度,実績値,評価\n" + "08-1,2022,1件,◎\n" * 100_001, encoding="utf-8")
    with pytest.raises(UserError) as err:
        import_history(sample, path)
    assert str(err.value) == "「経年.csv」の行が多すぎます（100,000 行まで）", str(err.value)   # no word of empty lines
    path.write_text("指標ID,年度,実績値,評価\n08-1,2022," + "1" * 200_000 + ",◎\n", encoding="utf-8")
    with pytest.raises(UserError) as err:
        import_history(sample, path)
    assert str(err.value) == "「経年.csv」の2行目を CSV として読めません（1 つの欄が 131,072 文字を超えています）", str(err.value)


def test_a_history_row_with_more_fields_than_its_header_is_refused_not_cut(sample, tmp_path, capsys):
    """「1,015件」 typed without quotes is two fields: with 評価 before 実績値 the year went in as
    「1」 without a word, after it the row was refused for an 評価 「015件」. A row whose extra
    fields are empty (what Excel writes under a wider header) is read as it was."""
    path = tmp_path / "経年.csv"
    path.write_text("指標ID,年度,評価,実績値\n08-1,2022,×,1,015件\n06-1,2022,◎,10件,,\n", encoding="utf-8")
    assert cli_main(["history", "import", str(sample), str(path)]) == 1
    out = capsys.readouterr().out
    assert "2行目: 見出しは 4 列なのに、この行には 5 列あります（余分な「015件」）" in out, out
    history = read_history(_grid(sample, c.HISTORY))
    assert 2022 not in history["08-1"] and history["06-1"][2022] == ("10件", "◎")
    path.write_text("指標ID,年度,実績値,評価\n08-1,2022,1,015件,×\n", encoding="utf-8")
    done = import_history(sample, path)
    assert [r.line for r in done.refusals] == [2] and "5 列" in done.refusals[0].reason


def test_a_history_csv_without_a_valid_row_changes_nothing(sample, tmp_path, capsys):
    before = sample.read_bytes()
    csv_path = tmp_path / "bad.csv"
    csv_path.write_text("指標ID,年度,実績値,評価\n99-9,2022,3件,◎\n08-1,2024,1件,◎\n", encoding="utf-8")
    assert cli_main(["history", "import", str(sample), str(csv_path)]) == 1
    assert sample.read_bytes() == before
    assert "変更していません" in capsys.readouterr().out
    for content, words in ((b"\x00\x01\x02", "CSV"), ("年度,評価\n".encode(), "指標ID"),
                           (b"\x82\xff\x82\xff,\x82\xff\n", "文字コード")):
        csv_path.write_bytes(content)
        assert cli_main(["history", "import", str(sample), str(csv_path)]) == 2
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err
    assert sample.read_bytes() == before


def test_rollover_refuses_what_it_must_not_do(sample, tmp_path, capsys):
    assert cli_main(["rollover", str(sample), "--year", "2023"]) == 2
    assert "より後" in capsys.readouterr().err
    assert cli_main(["rollover", str(sample), "-o", str(tmp_path / "next.xlsx")]) == 2
    assert "拡張子" in capsys.readouterr().err
    assert cli_main(["rollover", str(sample)]) == 0
    assert "2024年度のマスターを作成しました" in capsys.readouterr().out
    assert cli_main(["rollover", str(sample)]) == 2   # exists: not overwritten without --force
    assert "すでにあります" in capsys.readouterr().err


def test_rollover_names_the_notes_staff_wrote_beside_the_list_instead_of_dropping_them(sample, capsys):
    """Staff's notes beside 一覧 (kept through every 評価を再計算) were gone from next year's
    master without a word. They speak of this year's figures, so they are not carried to the
    new year's rows: the report names them and says they stay in this year's master."""
    recalc_file(sample)
    wb = openpyxl.load_workbook(sample, keep_vba=True)
    ws = wb[c.LIST]
    rows = list(ws.iter_rows(values_only=True))
    header = next(i for i, row in enumerate(rows) if tuple(row[:len(c.LIST_COLUMNS)]) == c.LIST_COLUMNS) + 1
    col = len(c.LIST_COLUMNS) + 1
    ws.cell(header, col).value = "職員備考"
    ws.cell(header + 3, col).value = "要確認"
    wb.save(sample)
    assert cli_main(["rollover", str(sample)]) == 0
    out = capsys.readouterr().out
    letter = openpyxl.utils.get_column_letter(col)
    assert (f"・2023年度の「一覧」に書いたメモ 1 か所は、新しいマスターの「一覧」には引き継いでいません" in out
            and f"）: 一覧!{letter}{header + 3}\n" in out), out
    # The column's own header (職員備考) names the column: it is no note of a figure, and it is
    # named as the column staff head again in the new master (it went without a word).
    assert f"一覧!{letter}{header}、" not in out, out
    assert "・2023年度の「一覧」の右に作った列（見出し「職員備考」）は、新しいマスターの「一覧」にはありません" in out, out


# 経年 as staff edited it, per edit: the same sample master for each command (the module's
# sample_built), so the edit is made and saved by openpyxl once and its bytes written for the
# other commands (three openpyxl loads and saves of the master became one).
_HISTORY_EDITS: dict[str, bytes] = {}


def _history_edited(sample: Path, edit: str) -> None:
    if edit in _HISTORY_EDITS:
        sample.write_bytes(_HISTORY_EDITS[edit])
        return
    wb = openpyxl.load_workbook(sample, keep_vba=True)
    ws = wb[c.HISTORY]
    cells = {cell.value: cell for row in ws.iter_rows() for cell in row if isinstance(cell.value, str)}
    if edit == "heading":
        extra = ws.cell(cells["2023年度 評価"].row, ws.max_column + 1, "2023年度 実績値")
        ws.cell(extra.row + 1, extra.column, "1件")
    elif edit == "symbol":
        symbols = cells["2023年度 評価"]
        ws.cell(symbols.row + 1, symbols.column, "達成")
    elif edit == "error id":               # a formula staff put in 経年 lost its reference
        ids = cells["指標ID"]
        last = ws.max_row + 1
        ws.cell(last, ids.column, "#REF!")
        ws.cell(last, cells["2023年度 評価"].column, "×")
    elif edit == "error actual":
        actuals = cells["2023年度 実績値"]
        ws.cell(actuals.row + 1, actuals.column, "#N/A")
    elif edit == "boolean id":
        ids = cells["指標ID"]
        last = ws.max_row + 1
        ws.cell(last, ids.column, True)
        ws.cell(last, cells["2023年度 評価"].column, "×")
    elif edit == "boolean actual":
        actuals = cells["2023年度 実績値"]
        ws.cell(actuals.row + 1, actuals.column, False)
    else:                                  # 04-1's row pasted again below, with another record
        ids = cells["指標ID"]
        last = ws.max_row + 1
        ws.cell(last, ids.column, "04-1")
        ws.cell(last, cells["2023年度 評価"].column, "×")
    wb.save(sample)
    _HISTORY_EDITS[edit] = sample.read_bytes()


@pytest.mark.parametrize("edit, says", [
    ("heading", "見出し「2023年度 実績値」が 2 か所"),
    ("symbol", "評価 経年!"),
    ("row", "指標ID「04-1」の行が 2 つ"),
    ("error id", "「#REF!」 はエラー値です"),          # its years were kept under 「#REF!」
    ("error actual", "「#N/A」 はエラー値です"),       # read as the text 「#N/A」
    ("boolean id", "「TRUE」 はTRUE/FALSE（論理値）です"),    # its years were kept under 「TRUE」
    ("boolean actual", "「FALSE」 はTRUE/FALSE（論理値）です"),  # a check box's FALSE, kept as 実績値 「FALSE」
])
@pytest.mark.parametrize("command", ["recalc", "rollover", "history"])
def test_a_history_staff_edited_into_two_readings_is_refused_and_nothing_written(
        sample, tmp_path, capsys, edit, says, command):
    """経年 with a year headed twice (which column is that year's?), or an 評価 no symbol
    (「達成」, which that year's 達成割合 would leave out): every command that reads 経年
    names the cells and writes nothing; rollover and the CSV import would write the guess back."""
    _history_edited(sample, edit)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    csv_path = tmp_path / "h.csv"
    csv_path.write_text("指標ID,年度,実績値,評価\n14-1,2022,,―\n", encoding="utf-8")
    args = {"recalc": ["recalc", str(sample)], "rollover": ["rollover", str(sample)],
            "history": ["history", "import", str(sample), str(csv_path)]}[command]
    code = cli_main(args)
    err = capsys.readouterr().err
    assert code != 0 and says in err and "Traceback" not in err, err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file() and p.name != "h.csv"} == before


@pytest.mark.parametrize("where", ["record", "note"])
def test_a_record_or_note_on_a_history_row_whose_id_was_cleared_is_named_not_dropped(
        sample, tmp_path, capsys, where):
    """Staff clear 02-1's 指標ID in 経年 (Delete on the wrong cell), or write a note under the
    table in a column of their own. Every writer of 経年 keys what it keeps by 指標ID: the
    2024 master's 経年 had 02-1's row without its 2023年度 「３回 ◎」 (or without the note),
    exit 0 and not a word. Now rollover and the imports name the cell and the empty 指標ID and
    write nothing; 評価を再計算, which rewrites no 経年, still runs."""
    wb = openpyxl.load_workbook(sample, keep_vba=True)
    ws = wb[c.HISTORY]
    row = next(cell.row for cell in ws["A"] if cell.value == "02-1")
    if where == "record":
        ws.cell(row, 1).value = None
        said = f"経年!E{row}「３回」（経年!A{row} が空欄）"
    else:
        ws["G3"] = "職員メモ"
        ws.cell(ws.max_row + 2, 7).value = "※2023年度は速報値"
        said = f"経年!G{ws.max_row}「※2023年度は速報値」（経年!A{ws.max_row} が空欄）"
    wb.save(sample)
    before = sample.read_bytes()
    csv_path = tmp_path / "h.csv"
    csv_path.write_text("指標ID,年度,実績値,評価\n08-1,2022,15件,×\n", encoding="utf-8")
    for args in (["rollover", str(sample)], ["history", "import", str(sample), str(csv_path)]):
        assert cli_main(args) == 2
        err = capsys.readouterr().err
        assert said in err and "「指標ID」が空欄の行にあります" in err and "Traceback" not in err, err
    assert sample.read_bytes() == before
    assert not list(tmp_path.glob("*2024*"))
    assert cli_main(["recalc", str(sample)]) == 0


@pytest.mark.parametrize("header", ["評価指標", "職員メモ"])
def test_a_true_or_false_beside_the_records_is_refused_in_a_label_and_kept_in_a_staff_column(
        sample, tmp_path, capsys, header):
    """経年's 評価指標 (what a year measured, written back by rollover) holding TRUE was
    written into next year's 経年 as the text 「TRUE」, as an error value was before it was
    refused; a column staff added to 経年 keeps its check box's TRUE as the value it is."""
    wb = openpyxl.load_workbook(sample, keep_vba=True)
    ws = wb[c.HISTORY]
    cells = {cell.value: cell for row in ws.iter_rows() for cell in row if isinstance(cell.value, str)}
    top = cells["指標ID"].row
    col = cells[header].column if header in cells else ws.max_column + 1
    ws.cell(top, col, header)
    ws.cell(top + 1, col, True)
    wb.save(sample)
    code = cli_main(["rollover", str(sample), "-o", str(tmp_path / "next.xlsm")])
    err = capsys.readouterr().err
    if header == "評価指標":
        assert code == 2 and "「TRUE」 はTRUE/FALSE（論理値）です" in err and not (tmp_path / "next.xlsm").exists(), err
        return
    assert code == 0, err
    kept = _grid(tmp_path / "next.xlsm", c.HISTORY)
    assert [value for row in kept for value in row if value is True] == [True]


def test_symbols_in_history_are_kept_exactly(sample, tmp_path):
    """－ (評価不可) and ― (評価時期前) survive the CSV and the sheet as different symbols."""
    csv_path = tmp_path / "h.csv"
    csv_path.write_text("指標ID,年度,実績値,評価\n14-1,2022,,―\nKPI1-1,2022,,－\n", encoding="utf-8")
    import_history(sample, csv_path)
    history = read_history(_grid(sample, c.HISTORY))
    assert history["14-1"][2022].symbol == "―" and history["KPI1-1"][2022].symbol == "－"
    assert set(SYMBOLS) >= {history["14-1"][2022].symbol, history["KPI1-1"][2022].symbol}


# ------------------------------------------------------------------ the button

def test_the_rollover_button_writes_the_same_next_master_as_the_command_line(tmp_path, monkeypatch,
                                                                             licensed):  # noqa: F811
    """「次年度のマスターを作成」 through xlwings' remote engine: the new master beside the
    open one, the open one untouched and not written through Excel, the same content as
    `renkei-xl rollover` writes, one alert saying what was done."""
    from remote_payload import apply_actions, click_payload, remote_book
    from renkei_xl.excel import buttons

    work = tmp_path / "work"
    work.mkdir()
    book = init_master(work / "さっぽろ圏_2023年度_マスター.xlsm", sample="fy2023")
    cli_dir = tmp_path / "cli"
    cli_dir.mkdir()
    cli_copy = cli_dir / book.name
    shutil.copyfile(book, cli_copy)
    before = book.read_bytes()
    monkeypatch.chdir(work)
    payload = click_payload(book)
    xw_book = remote_book(payload)
    buttons.rollover(xw_book)
    actions = xw_book.json()["actions"]
    applied = apply_actions(payload, actions)
    assert [a["func"] for a in actions] == ["alert"]
    prompt = applied.alerts[0]["prompt"]
    assert applied.alerts[0]["mode"] == "info", prompt
    new = work / "さっぽろ圏_2024年度_マスター.xlsm"
    assert new.exists() and str(new) in prompt and "2024年度のマスターを作成しました" in prompt
    assert book.read_bytes() == before
    done = rollover_file(cli_copy)
    for sheet in (c.SETTINGS, c.INDICATORS, "小樽市", c.HISTORY, c.FINDINGS, c.LIST):
        assert _grid(new, sheet) == _grid(done.path, sheet), sheet
    # a second click refuses: the file is there, nothing is overwritten
    again = remote_book(click_payload(book))
    buttons.rollover(again)
    alert = apply_actions(payload, again.json()["actions"]).alerts[0]
    assert alert["mode"] == "critical" and "すでにあります" in alert["prompt"]


def test_the_sample_master_starts_with_the_official_year_in_its_history(tmp_path, fy2023):
    """init --sample fy2023: 経年 holds 2023 as the official list prints it."""
    import openpyxl

    from renkei_xl.cli.workbook import init_master
    from renkei_xl.core.history import read_history, read_kept, years_of

    master = init_master(tmp_path / "見本.xlsm", sample="fy2023")
    grid = _grid(master, c.HISTORY)
    history = read_history(grid)
    assert {i: per[2023].symbol for i, per in history.items()} == dict(fy2023.official)
    assert history["08-1"][2023].actual == fy2023.official_actual["08-1"] == "17件"
    assert sorted({y for per in history.values() for y in per}) == [2023]


# ------------------------------------------------ years and places the tool must not make

def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("year", ["0", "-5", "1999", "2101"])
def test_init_refuses_a_year_the_reader_would_refuse_and_makes_nothing(tmp_path, capsys, year):
    """Before, 0 made a 2023 master (a silent guess), -5 an internal error, 1999 and 2101
    masters every later command refused. 0 and -5 are no year as staff write one (four digits,
    or 令和…, the rule a history CSV's 年度 is read by too): the parser refuses them, exit 2."""
    try:
        code = cli_main(["init", str(tmp_path / "m.xlsx"), "--year", year])
    except SystemExit as stop:
        code = stop.code
    assert code == 2
    assert "2000～2100" in capsys.readouterr().err and _tree(tmp_path) == []


def test_init_takes_the_year_its_name_gives_and_refuses_another(tmp_path, capsys):
    """`renkei-xl init さっぽろ圏_R6年度_マスター.xlsx` made a master for 2023 (一覧 headed
    2023年度, deadlines judged against 2023) until collect or the rollover refused it for its
    name. Now the name's one year is 対象年度; --year naming another is refused, nothing made;
    a plan's period names no year (the default stays)."""
    from renkei_xl.workbook.session import load_master

    named = tmp_path / "さっぽろ圏_R6年度_マスター.xlsx"
    assert cli_main(["init", str(named)]) == 0
    assert load_master(named).settings.fiscal_year == 2024
    # what staff fill in next is said (staff-walk: it ended on 「作成しました」)
    assert capsys.readouterr().out.splitlines()[1] == (
        "次に、シート「設定」の担当部署・メールアドレスと、シート「指標」・市町村のシートを入力し、"
        f"入力チェック（renkei-xl validate {named}）で確かめてください")
    other = tmp_path / "さっぽろ圏_令和6年度_マスター.xlsx"
    assert cli_main(["init", str(other), "--year", "2025"]) == 2
    err = capsys.readouterr().err
    assert "「さっぽろ圏_令和6年度_マスター.xlsx」の名前は2024年度ですが、対象年度（--year）は 2025年度です（何も作っていません）" in err
    assert not other.exists()
    period = tmp_path / "第2期（2022〜2026年度）_マスター.xlsx"
    assert cli_main(["init", str(period), "--year", "2024"]) == 0
    assert load_master(period).settings.fiscal_year == 2024
    # a sample's year is its own: under a name of another it made a master every command refused
    assert cli_main(["init", str(other), "--sample", "fy2023"]) == 2
    err = capsys.readouterr().err
    assert "「さっぽろ圏_令和6年度_マスター.xlsx」の名前は2024年度ですが、見本データ fy2023 は 2023年度のものです（何も作っていません）" in err
    assert not other.exists()


def test_rollover_past_2100_is_refused_before_a_folder_or_lock_is_made(tmp_path, capsys):
    master = init_master(tmp_path / "m.xlsx", year=2100)
    before = _tree(tmp_path)
    assert cli_main(["rollover", str(master), "-o", str(tmp_path / "new" / "m2101.xlsx")]) == 2
    assert "新しい対象年度（2101）" in capsys.readouterr().err and _tree(tmp_path) == before
    assert cli_main(["rollover", str(master), "--year", "2099", "-o", str(tmp_path / "new" / "x.xlsx")]) == 2
    assert _tree(tmp_path) == before


@pytest.mark.parametrize("command", ["rollover", "export"])
def test_an_output_place_that_cannot_be_one_is_refused_in_japanese(tmp_path, capsys, command):
    """A file where the output's folder should be, a folder where the output file should be,
    a name the file system cannot hold: a sentence naming it, never exit 3."""
    master = init_master(tmp_path / "m.xlsx", sample="fy2023")
    (tmp_path / "d.xlsx").mkdir()
    for out, words in ((master / "out.xlsx", "同じ名前のファイルがあります"),
                       (tmp_path / "d.xlsx", "はフォルダーです"),
                       (tmp_path / ("名" * 200 + ".xlsx"), "名前が長すぎて")):
        assert cli_main([command, str(master), "-o", str(out), *(["--force"] if command == "rollover" else [])]) == 2
        assert words in capsys.readouterr().err, out


def test_rollovers_at_once_make_the_next_master_once_and_the_others_are_told_it_is_there(sample):
    """Clicks at the same moment all passed the check for next year's file before the first
    had made it; each then wrote it again (a new key each time) and said it had made it.
    The check is made again under the writer's lock."""
    import threading

    from renkei_xl.cycle.rollover import TargetExists

    start = threading.Barrier(3)
    results: list[object] = []

    def click():
        start.wait(10)
        try:
            results.append(rollover_file(sample).path.name)
        except TargetExists as exc:
            results.append(exc)

    clicks = [threading.Thread(target=click) for _ in range(3)]
    for t in clicks:
        t.start()
    for t in clicks:
        t.join(60)
    made = [r for r in results if isinstance(r, str)]
    assert len(results) == 3 and len(made) == 1, results
    assert all("すでにあります" in str(r) and r.path.name == made[0] for r in results if isinstance(r, TargetExists))
    assert not (sample.parent / (Path(made[0]).stem + "_バックアップ")).exists()


def test_indicator_texts_of_a_cells_length_are_cut_in_the_history_sheet(fy2023):
    """経年 repeats each indicator's 連携事業名, 評価指標 and 目標値: one of Excel's 32,767
    characters went in whole, over Excel's limit with 連携事業名's number before it."""
    from renkei_xl.core.history import YearRecord, history_sheet
    from renkei_xl.core.values import CELL_TEXT_LIMIT, EXCEL_CELL_TEXT, cell_length

    first = next(i for i in fy2023.indicators if i.project_no is not None and not i.is_kpi)   # 「4　…」
    long = [first._replace(project_name="p" * EXCEL_CELL_TEXT, name="n" * EXCEL_CELL_TEXT, target="t" * EXCEL_CELL_TEXT)]
    sheet = history_sheet({long[0].id: {2023: YearRecord("1件", "◎")}}, long)
    texts = [cell[0] for row in sheet.rows for cell in row if cell and isinstance(cell[0], str)]
    assert max(map(cell_length, texts)) == CELL_TEXT_LIMIT
    assert sum(cell_length(t) == CELL_TEXT_LIMIT for t in texts) == 3


# ------------------------------------------------- a year nobody filled in or recalculated

def test_a_year_with_nothing_entered_is_not_recorded_and_the_command_says_so(years, tmp_path, capsys):
    """A master rolled over with no value entered anywhere (next year's master rolled again
    by mistake) made 経年 a year of ― and × at 0.0% and showed 「0.0% ×」 as 前年度実績, with
    exit 0. The new master is still made, without that year, and the command exits 1."""
    empty = tmp_path / "さっぽろ圏_2024年度_マスター.xlsm"
    shutil.copyfile(years["empty2024"], empty)
    assert cli_main(["rollover", str(empty)]) == 1
    out = capsys.readouterr().out
    assert "1 つも入力されていません" in out and "記録せず" in out and "記録しました（" not in out, out
    new = tmp_path / "さっぽろ圏_2025年度_マスター.xlsm"
    history = read_history(_grid(new, c.HISTORY))
    assert history and all(2024 not in per and 2023 in per for per in history.values())
    grid = _grid(new, c.INDICATORS)
    header_at = next(i for i, r in enumerate(grid) if c.PREVIOUS_HEADER.format(year=2024) in r)
    col = grid[header_at].index(c.PREVIOUS_HEADER.format(year=2024))
    assert not any(r[col] not in (None, "") for r in grid[header_at + 1:] if len(r) > col)


def test_a_list_not_recalculated_since_the_inputs_changed_is_named(sample, tmp_path, capsys):
    """The sample as init writes it has an empty 一覧: the year is recorded from its inputs
    (what recalc and export give), and the rollover names the rows 一覧 does not show so.
    Recalculated, and with one input changed afterwards, only that row is named."""
    assert cli_main(["rollover", str(sample), "-o", str(tmp_path / "a.xlsm")]) == 0
    out = capsys.readouterr().out
    assert "記録しました（80 指標）" in out and "「一覧」は、今の入力から計算した評価と 80 指標で違います" in out, out
    recalc_file(sample)
    assert cli_main(["rollover", str(sample), "-o", str(tmp_path / "b.xlsm")]) == 0
    assert "【注意】" not in capsys.readouterr().out
    wb = openpyxl.load_workbook(sample, keep_vba=True)
    ws = wb["札幌市"]
    header = next(r for r in ws.iter_rows() if any(cell.value == "実績値" for cell in r))
    col = next(cell.column for cell in header if cell.value == "実績値")
    ids = next(cell.column for cell in header if cell.value == "指標ID")
    row = next(r for r in range(header[0].row + 1, ws.max_row + 1)
               if isinstance(ws.cell(r, col).value, (int, float)) and ws.cell(r, col).value > 1)
    ws.cell(row, col).value = ws.cell(row, col).value * 1000
    changed = ws.cell(row, ids).value
    wb.save(sample)
    assert cli_main(["rollover", str(sample), "-o", str(tmp_path / "c.xlsm")]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "違います" in x)
    named = line.split("入力が変わっています）: ")[1].split("、")
    assert changed in named and len(named) <= 2, line     # the row, and 01-1 if its symbol moved


OLD_STATE_LIST = ("常時", "維持", "維持・改善", "開設", "実施", "策定", "検討完了", "構築", "完了",
                  "未構築", "未実施", "実施なし", "（未集計）")


def _with_state_list(master: Path, words) -> None:
    """設定's 状態一覧 as a master built by an earlier version had it (openpyxl: an .xlsx)."""
    wb = openpyxl.load_workbook(master)
    ws = wb[c.SETTINGS]
    dn = wb.defined_names[c.N_STATES]
    (sheet, ref), = dn.destinations
    col = ref.split(":")[0].replace("$", "").rstrip("0123456789")
    top = int(ref.split(":")[0].replace("$", "")[len(col):])
    for i in range(40):
        ws[f"{col}{top + i}"] = words[i] if i < len(words) else None
    dn.attr_text = f"'{c.SETTINGS}'!${col}${top}:${col}${top + len(words) - 1}"
    wb.save(master)


def _state_list_of(master: Path) -> list[str]:
    wb = openpyxl.load_workbook(master)
    (sheet, ref), = wb.defined_names[c.N_STATES].destinations
    return [cell.value for row in wb[sheet][ref] for cell in row]


def test_next_years_master_offers_every_state_word_the_rules_read(tmp_path, capsys):
    """A master built when 状態一覧 lacked 「改善」 and others kept that list year after year
    (rollover copies 設定): next year's master gets the whole list, named; a list staff
    changed themselves is left as it is."""
    from renkei_xl.core.choices import STATE_CHOICES

    master = init_master(tmp_path / "m_2023年度.xlsx", sample="fy2023")
    _with_state_list(master, OLD_STATE_LIST)
    capsys.readouterr()
    assert cli_main(["rollover", str(master)]) == 0
    assert _state_list_of(tmp_path / "m_2024年度.xlsx") == list(STATE_CHOICES)
    assert "評価で使える言葉 12 語を加えました（改善、開催、達成、開始、未策定 ほか 7 語）" in capsys.readouterr().out
    own = [*OLD_STATE_LIST[:3], "一部実施"]
    _with_state_list(master, own)
    assert cli_main(["rollover", str(master), "--force"]) == 0
    assert _state_list_of(tmp_path / "m_2024年度.xlsx") == own
    assert "語を加えました" not in capsys.readouterr().out


# ------------------------------------------------------- a year again from its master

def _entry_cell(path: Path, sheet: str, ind_id: str, field: str) -> tuple[int, int]:
    e = next(e for e in load_master(path).entries if e.sheet == sheet and e.indicator_id == ind_id)
    return _rc(e.cell(field))


def _set(path: Path, *cells: tuple[str, tuple[int, int], object]) -> None:
    write_planned(path, lambda fs: (WritePlan(cells=[CellEdit(s, r, col, v) for s, (r, col), v in cells]), None))


def _previous_by_id(path: Path) -> dict[tuple[str, str], object]:
    """(sheet, 指標ID) → its 前年度実績 cell, on every sheet that has the column (``file_grid``;
    with ``PAYLOAD_BOTH_WAYS`` against openpyxl's read-only load, which the test read before)."""
    def read(sheets):
        out = {}
        for title, rows in sheets:
            top = next((i for i, r in enumerate(rows) if r and r[0] == "指標ID"), None)
            if top is None or PREVIOUS_2023 not in rows[top]:
                continue
            col = rows[top].index(PREVIOUS_2023)
            out.update({(title, r[0]): r[col] for r in rows[top + 1:] if r and r[0]})
        return out

    def loaded():
        wb = openpyxl.load_workbook(path, read_only=True)
        try:
            return read([(ws.title, [list(r) for r in ws.iter_rows(values_only=True)]) for ws in wb.worksheets])
        finally:
            wb.close()
    return read_both_ways(lambda: read((ws.title, file_grid(path, ws.title)) for ws in payload_book(path).worksheets),
                          loaded, str(path))


@pytest.fixture(scope="module")
def late(tmp_path_factory):
    """The 2023 sample rolled over to 2024; then a late 札幌市 04-1 (17 → 40件) typed into 2023;
    ``again``: what a rollover made now would hold (the reference the import must reach)."""
    folder = tmp_path_factory.mktemp("late")
    m2023 = init_master(folder / "さっぽろ圏_2023年度_マスター.xlsm", sample="fy2023")
    m2024 = rollover_file(m2023).path
    _set(m2023, ("札幌市", _entry_cell(m2023, "札幌市", "04-1", "value"), 40))
    again = rollover_file(m2023, out=folder / "again.xlsm").path
    return {"m2023": m2023, "m2024": m2024, "again": again, "folder": folder}


def test_a_late_year_is_carried_from_its_master_as_a_rollover_made_now_would(late, tmp_path, capsys):
    """`history import NEW OLD.xlsm`: 経年's 2023 and every 前年度実績 cell become what a
    rollover made after the late return holds; nothing else in the package changes. The
    2024 master's 札幌市 rows of 02-1 and 02-2 were swapped and a row given a new ID since
    the rollover: each row gets its own ID's value, the new one none."""
    m2024 = tmp_path / "m2024.xlsm"
    shutil.copyfile(late["m2024"], m2024)
    first, second = (_entry_cell(m2024, "札幌市", i, "value")[0] for i in ("02-1", "02-2"))
    moved = _entry_cell(m2024, "小樽市", "04-1", "value")[0]
    _set(m2024, ("札幌市", (first, 1), "02-2"), ("札幌市", (second, 1), "02-1"), ("小樽市", (moved, 1), "99-9"))
    before = _parts(m2024)
    assert _previous_by_id(m2024)[("札幌市", "02-1")] == "30社"      # the swap: 02-2's value beside 02-1

    assert cli_main(["history", "import", str(m2024), str(late["m2023"])]) == 0
    out = capsys.readouterr().out
    assert "2023年度のマスター「さっぽろ圏_2023年度_マスター.xlsm」の実績値と評価を「経年」に取り込みました" in out, out
    assert "記録済みの2023年度を置き換え" in out and "【注意】2023年度の「一覧」" in out, out
    # The 2023 master was never recalculated: said as the rollover says it (cycle.rollover.
    # closed_year_stale), not ten IDs and 「ほか 70 件」 in a wording of its own.
    assert ("80 指標で違います（すべての指標です。評価を再計算していないようです）。「経年」には今の入力から計算した評価を"
            f"記録しました。2023年度のマスターで renkei-xl recalc {command_arg(str(late['m2023']))} を実行し、一覧を確かめてください"
            "（確定版を送った後なら") in out, out
    # No button imports history: its last line gives the command, not 「次に「評価を再計算」したときに」
    assert f"達成割合は、このマスターで renkei-xl recalc {command_arg(str(m2024))} を実行すると反映されます。" in out, out
    assert "押し" not in out, out
    rows = len([e for e in load_master(m2024).entries if e.row is not None]) + len(load_master(m2024).indicators)
    assert f"マスターの値にしました（{rows - 1} 行）" in out and "にない指標IDの 1 行は、その列を空に" in out, out

    reference = read_history(_grid(late["again"], c.HISTORY))
    assert {i: per[2023] for i, per in read_history(_grid(m2024, c.HISTORY)).items()} == \
        {i: per[2023] for i, per in reference.items()}
    assert reference["04-1"][2023].actual == "44件"
    shown, wanted = _previous_by_id(m2024), _previous_by_id(late["again"])
    assert shown[("札幌市", "04-1")] == "40件" and shown[("札幌市", "02-1")] == "３回"
    assert shown[("小樽市", "99-9")] is None
    assert {k: v for k, v in shown.items() if k != ("小樽市", "99-9")} == \
        {k: v for k, v in wanted.items() if k != ("小樽市", "04-1")}

    parts = _sheet_parts(m2024)
    changed = {n for n, data in _parts(m2024).items() if before.get(n) != data}
    assert changed == {parts[c.HISTORY], parts[c.INDICATORS], parts["札幌市"], parts["小樽市"]}, changed


@pytest.mark.parametrize("old, new", [("小樽市", "新小樽市")])
def test_a_partner_renamed_since_keeps_its_previous_column_when_the_year_is_carried(late, tmp_path, capsys, old, new):
    """A partner renamed in the 2024 master (sheet and 設定 row, as the README says): carrying
    2023 again emptied its 「前年度実績（2023年度）」 column, as if its rows were new, and
    said those rows' IDs were missing from 2023. The year has no municipality of that name,
    and a name is its only key: the column stays as rollover wrote it, and the sheet is named."""
    m2024 = tmp_path / "m2024.xlsm"
    shutil.copyfile(late["m2024"], m2024)
    wb = openpyxl.load_workbook(m2024, keep_vba=True)
    wb[old].title = new
    st = wb["設定"]
    next(cell for row in st.iter_rows() for cell in row if cell.value == old).value = new
    wb.save(m2024)
    before = {i: v for (s, i), v in _previous_by_id(m2024).items() if s == new}
    assert any(before.values())

    assert cli_main(["history", "import", str(m2024), str(late["m2023"])]) == 0
    out = capsys.readouterr().out
    assert {i: v for (s, i), v in _previous_by_id(m2024).items() if s == new} == before
    assert f"【注意】シート「{new}」の市町村は 2023年度のマスターにないため" in out, out
    assert "にない指標IDの" not in out, out


def test_a_year_two_before_is_carried_into_history_alone(late, tmp_path):
    """2023 into the 2025 master: 経年 only (2025's 前年度実績 column is 2024's)."""
    m2025 = rollover_file(late["m2024"], out=tmp_path / "m2025.xlsm").path
    before = _parts(m2025)
    assert cli_main(["history", "import", str(m2025), str(late["m2023"])]) == 0
    assert read_history(_grid(m2025, c.HISTORY))["04-1"][2023].actual == "44件"
    changed = {n for n, data in _parts(m2025).items() if before.get(n) != data}
    assert changed == {_sheet_parts(m2025)[c.HISTORY]}, changed


def test_a_rollover_past_the_next_year_says_the_years_between_are_missing_and_they_carry(late, tmp_path, capsys):
    """`rollover 2023年度 --year 2025` (the 2023 master picked where 2024's was meant): the
    2025 master was made with 2023 as its 前年度実績 and no 2024 in 経年, exit 0 and not a
    word. Now it says so and exits 1; the 2024 master, carried afterwards, fills the year,
    an indicator only 2024 had (04-1 renumbered 04-9 that year) with what it measured."""
    m2023, m2024 = tmp_path / "さっぽろ圏_2023年度_マスター.xlsm", tmp_path / "m2024.xlsm"
    shutil.copyfile(late["m2023"], m2023)
    shutil.copyfile(late["m2024"], m2024)
    _set(m2024, ("札幌市", _entry_cell(m2024, "札幌市", "04-1", "value"), 25))
    data = load_master(m2024)
    _set(m2024, *[(s, (r, 1), "04-9") for s, r in [(i.sheet, i.row) for i in data.indicators if i.id == "04-1"]
                  + [(e.sheet, e.row) for e in data.entries if e.indicator_id == "04-1"]])

    assert cli_main(["rollover", str(m2023), "--year", "2025"]) == 1
    out = capsys.readouterr().out
    assert "【注意】2023年度のマスターから2025年度を作ったため、2024年度は「経年」に記録されていません" in out, out
    m2025 = tmp_path / "さっぽろ圏_2025年度_マスター.xlsm"
    assert f"renkei-xl history import {m2025.name} （その年度のマスター）" in out, out
    assert years_of(read_history(_grid(m2025, c.HISTORY))) == [2023]

    assert cli_main(["history", "import", str(m2025), str(m2024)]) == 0
    history = read_history(_grid(m2025, c.HISTORY))
    assert years_of(history) == [2023, 2024] and history["04-9"][2024].actual == "25件"
    row = next(r for r in _grid(m2025, c.HISTORY) if r[0] == "04-9")
    it = next(i for i in data.indicators if i.id == "04-1")
    assert row[1:4] == [it.project_label, "（指標シートにない指標）" + it.name, it.target], row


def test_a_next_master_made_again_with_force_says_where_the_one_it_replaced_is(late, tmp_path, capsys):
    """`rollover --force` over a 2024 master already filled in: the help promises a backup,
    and one was made, but the report never said so nor where: staff saw 「2024年度のマスターを
    作成しました」 and a year of inputs gone. The refusal before it said only 「すでにあります」."""
    m2023, m2024 = tmp_path / "さっぽろ圏_2023年度_マスター.xlsm", tmp_path / "さっぽろ圏_2024年度_マスター.xlsm"
    shutil.copyfile(late["m2023"], m2023)
    shutil.copyfile(late["m2024"], m2024)
    _set(m2024, ("札幌市", _entry_cell(m2024, "札幌市", "04-1", "value"), 25))
    filled = m2024.read_bytes()
    assert cli_main(["rollover", str(m2023)]) == 2     # the refusal says what would be thrown away
    assert "（2024年度のマスターで、実績値・分母・実施状況が 1 セル入力されています。" in capsys.readouterr().err
    assert cli_main(["rollover", str(m2023), "--force"]) == 0
    said = re.search(r"それまでの内容（入力済みの実績など）はバックアップにあります: (.+)$", capsys.readouterr().out, re.M)
    assert said, "the backup is not named"
    assert Path(said.group(1)).read_bytes() == filled
    assert not load_master(m2024).entries[0].value


def test_a_year_closed_with_input_errors_names_them_and_how_to_mend_the_record(late, tmp_path, capsys):
    """A 2023 master rolled over with 「約40件」 in 札幌市 04-1: 経年 keeps 04-1's 2023 as －
    「（入力エラー）」, and staff were told only 「入力エラーが 1 件あり」: not where, nor that
    the record stays so unless the corrected year is carried. Both are said now, and the
    way said mends it; carrying a year with an error names it the same way."""
    m2023 = tmp_path / "さっぽろ圏_2023年度_マスター.xlsm"
    shutil.copyfile(late["m2023"], m2023)
    where = _entry_cell(m2023, "札幌市", "04-1", "value")
    _set(m2023, ("札幌市", where, "約40件"))
    assert cli_main(["rollover", str(m2023)]) == 0
    out = capsys.readouterr().out
    m2024 = tmp_path / "さっぽろ圏_2024年度_マスター.xlsm"
    assert f"札幌市!{_ref(where)} 04-1: 実績値: 「約40件」" in out, out
    command = f"renkei-xl history import {m2024.name} {m2023.name}"
    assert command in out, out
    assert read_history(_grid(m2024, c.HISTORY))["04-1"][2023] == ("（入力エラー）", "－")

    m2022 = tmp_path / "m2022.xlsm"          # an older master with the same error, carried
    shutil.copyfile(m2023, m2022)
    _set(m2022, ("設定", (3, 2), 2022))      # 対象年度 (設定!B3, the defined name's cell)
    assert load_master(m2022).settings.fiscal_year == 2022
    assert cli_main(["history", "import", str(m2024), str(m2022)]) == 0
    assert f"札幌市!{_ref(where)} 04-1: 実績値: 「約40件」" in capsys.readouterr().out

    _set(m2023, ("札幌市", where, 40))
    assert cli_main(["history", "import", str(m2024), str(m2023)]) == 0
    assert read_history(_grid(m2024, c.HISTORY))["04-1"][2023] == ("44件", "◎")


@pytest.mark.parametrize("command", ["rollover", "history"])
def test_a_master_named_for_another_year_than_its_own_is_refused(late, tmp_path, capsys, command):
    """The 2023 master copied to 「…_2024年度_…」 and filled with 2024's values, 設定 left at
    2023: rollover closed it as 2023 (2024's values recorded as 2023 in 経年) into a
    「…_2024年度_マスター_2024年度」 master, and carrying it replaced 2023's record. Both are
    refused naming both years, nothing made or changed."""
    copied = tmp_path / "さっぽろ圏_令和6年度_マスター.xlsm"
    shutil.copyfile(late["m2023"], copied)
    target = tmp_path / "m2025.xlsm"
    shutil.copyfile(late["m2024"], target)
    before = sorted(p.name for p in tmp_path.iterdir()), target.read_bytes()
    args = ["rollover", str(copied)] if command == "rollover" else ["history", "import", str(target), str(copied)]
    assert cli_main(args) == 2
    err = capsys.readouterr().err
    assert f"マスター「{copied.name}」の名前は2024年度ですが、「設定」の対象年度は 2023年度です" in err, err
    assert (sorted(p.name for p in tmp_path.iterdir()), target.read_bytes()) == before
    period = tmp_path / "第2期_2022年度〜2026年度_マスター.xlsm"      # a plan's period names no one year
    shutil.copyfile(late["m2023"], period)
    args = ["rollover", str(period)] if command == "rollover" else ["history", "import", str(target), str(period)]
    assert cli_main(args) == 0


@pytest.mark.parametrize("name, years", [
    ("第2期_2022〜2026年度_マスター", {2022, 2026}), ("第2期_2022～2026年度", {2022, 2026}),
    ("R4-R8年度_マスター", {2022, 2026}), ("令和4年度から令和8年度", {2022, 2026}),
    ("第2期_2022年度〜2026年度_マスター", {2022, 2026}), ("さっぽろ圏_R6年度_マスター", {2024}),
    ("2023年度分_マスター(R6.3.31)", {2023}), ("R6.3.31_2024年度", {2024})])
def test_a_range_of_years_written_with_one_nendo_names_both_ends(name, years):
    """「2022〜2026年度」 (a plan's period, 年度 written once) read as naming 2026 alone, so
    rollover refused the 2023 master 「第2期_2022〜2026年度_マスター」 as named for 2026."""
    from renkei_xl.core.fiscal import named_fiscal_years

    assert named_fiscal_years(name) == years


@pytest.mark.parametrize("name, year, other", [
    ("さっぽろ圏_2024年度_マスター.xlsm", 2023, 2024), ("さっぽろ圏_令和6年度_マスター.xlsx", 2023, 2024),
    ("R6年度_マスター.xlsm", 2025, 2024), ("さっぽろ圏_２０２２年度.xlsm", 2023, 2022),
    ("さっぽろ圏_2024年度_マスター.xlsm", 2024, None), ("第2期_2022年度〜2026年度_マスター.xlsm", 2023, None),
    ("さっぽろ圏_マスター.xlsm", 2023, None), ("R6.3.31時点_マスター.xlsm", 2023, None),
    ("さっぽろ圏_2024年度_マスター.xlsm", None, None)])
def test_the_one_rule_of_a_master_named_for_another_year(name, year, other):
    """core.contract_read.year_name_refusal, which every command, button and the server's
    admission say: a name of one other year is refused with both ways to mend it; a name of
    the year, of a period, of no year, or a 設定 that did not read (None) is not."""
    from renkei_xl.core.contract_read import year_name_refusal

    said = year_name_refusal(name, year)
    if other is None:
        assert said == ""
    else:
        assert said.startswith(f"マスター「{name}」の名前は{other}年度ですが、「設定」の対象年度は {year}年度です"), said
        assert f"対象年度を {other} に直し、{year}年度のマスターなら名前を{year}年度に直して" in said, said


def test_a_year_closed_from_a_master_open_in_excel_says_unsaved_edits_are_not_in(late, tmp_path, capsys):
    """The command line reads the closed year's saved file (the button asks to save first):
    with the master open in Excel, edits not yet saved went into neither 経年 nor
    前年度実績, and the command said nothing of it."""
    from renkei_xl.safety import lock_file

    m2023 = tmp_path / "さっぽろ圏_2023年度_マスター.xlsm"
    shutil.copyfile(late["m2023"], m2023)
    lock_file(m2023).write_bytes(b"staff")
    assert cli_main(["rollover", str(m2023)]) == 0
    out = capsys.readouterr().out
    assert "【注意】「さっぽろ圏_2023年度_マスター.xlsm」は Excel で開かれています" in out, out
    assert "上書き保存してから --force を付けて作り直してください" in out, out
    m2024 = tmp_path / "さっぽろ圏_2024年度_マスター.xlsm"
    assert cli_main(["history", "import", str(m2024), str(m2023)]) == 0
    assert "上書き保存してからもう一度取り込んでください" in capsys.readouterr().out
    lock_file(m2023).unlink()
    assert cli_main(["history", "import", str(m2024), str(m2023)]) == 0
    assert "Excel で開かれています" not in capsys.readouterr().out


def _target_cell(path: Path, ind_id: str) -> tuple[int, int]:
    return _rc(next(i for i in load_master(path).indicators if i.id == ind_id).cell("target"))


def test_a_year_judged_against_another_target_shows_it_in_history(late, tmp_path):
    """04-1's target raised from 20件 to 30件 in 2024, then to 40件 in 2025. 経年 showed one
    目標値, this master's, beside every year: 2023's 「21件 ◎」 stood beside 「40件」 with
    nothing saying it was judged against 20件. A year judged against another target has
    its own 「YYYY年度 目標値」 column, filled where the target differs."""
    m2024 = tmp_path / "さっぽろ圏_2024年度_マスター.xlsm"
    shutil.copyfile(late["m2024"], m2024)
    _set(m2024, ("札幌市", _entry_cell(m2024, "札幌市", "04-1", "value"), 25),
         (c.INDICATORS, _target_cell(m2024, "04-1"), "30件（毎年度）"))
    m2025 = rollover_file(m2024).path
    grid = _grid(m2025, c.HISTORY)
    header = grid[2]
    assert [h for h in header if h and "年度" in h] == \
        ["2023年度 実績値", "2023年度 評価", "2023年度 目標値", "2024年度 実績値", "2024年度 評価"]
    rows = {r[0]: dict(zip(header, r)) for r in grid[3:]}
    assert rows["04-1"]["目標値"] == "30件（毎年度）" and rows["04-1"]["2023年度 目標値"] == "20件（毎年度）"
    assert rows["04-1"]["2023年度 評価"] == "◎" and rows["04-1"]["2024年度 評価"] == "×"    # 25 of 30: each its own
    assert all(r["2023年度 目標値"] is None for i, r in rows.items() if i != "04-1")

    _set(m2025, (c.INDICATORS, _target_cell(m2025, "04-1"), "40件（毎年度）"))
    m2026 = rollover_file(m2025).path        # nothing entered in 2025: 経年 written again all the same
    grid = _grid(m2026, c.HISTORY)
    row = dict(zip(grid[2], next(r for r in grid if r[0] == "04-1")))
    assert (row["目標値"], row["2023年度 目標値"], row["2024年度 目標値"]) == \
        ("40件（毎年度）", "20件（毎年度）", "30件（毎年度）")
    assert read_history(grid)["04-1"] == {2023: ("21件", "◎"), 2024: ("25件", "×")}


def test_an_indicator_id_given_to_another_indicator_is_said_at_rollover(late, tmp_path, capsys):
    """04-1 given to a new indicator in 2024: 経年's 2023 「21件 ◎」 of the old one stood
    under the new one's 評価指標 and 目標値, the old 評価指標 gone from the sheet, and the
    rollover said nothing. It names the ID with both 評価指標 now."""
    m2024 = tmp_path / "さっぽろ圏_2024年度_マスター.xlsm"
    shutil.copyfile(late["m2024"], m2024)
    it = next(i for i in load_master(m2024).indicators if i.id == "04-1")
    _set(m2024, (c.INDICATORS, _rc(it.cell("name")), "新しい補助制度の利用件数"),
         ("札幌市", _entry_cell(m2024, "札幌市", "04-1", "value"), 3))
    assert cli_main(["rollover", str(m2024)]) == 0
    out = capsys.readouterr().out
    assert "評価指標が「経年」のものと違います" in out, out
    assert f"04-1: 「{it.name}」→「新しい補助制度の利用件数」" in out, out
    assert out.count("」→「") == 1, out


@pytest.mark.parametrize("how", ["its master", "a csv"])
def test_an_indicator_id_given_to_another_indicator_is_said_by_the_imports_too(late, tmp_path, capsys, how):
    """04-1 given to a new indicator in the 2024 master, then a year imported: 経年 was written
    with the new 評価指標 beside the old indicator's 2023 「21件 ◎」 (carried from 2023's master,
    or already there), without a word; 次の一歩 then compared the two indicators and the next
    rollover, its 経年 relabelled, said nothing either. The imports say it as rollover does."""
    m2024 = tmp_path / "さっぽろ圏_2024年度_マスター.xlsm"
    shutil.copyfile(late["m2024"], m2024)
    it = next(i for i in load_master(m2024).indicators if i.id == "04-1")
    _set(m2024, (c.INDICATORS, _rc(it.cell("name")), "新しい補助制度の利用件数"))
    source = late["m2023"]
    if how == "a csv":
        source = tmp_path / "経年.csv"
        source.write_text("指標ID,年度,実績値,評価\n06-1,2020,10件,◎\n", encoding="utf-8")
    assert cli_main(["history", "import", str(m2024), str(source)]) == 0
    out = capsys.readouterr().out
    assert "評価指標が" in out and "バックアップのファイルに戻し、新しい指標に別の指標IDを付けてから" in out, out
    assert f"　04-1: 「{it.name}」→「新しい補助制度の利用件数」" in out and out.count("　04-1: 「") == 1, out


def test_a_record_typed_into_history_and_replaced_by_a_carried_year_is_named(late, tmp_path, capsys):
    """A 基本KPI's 2023 figure typed into the 2024 master's 経年 (the inputs never give it),
    then 2023 carried again from its master: replaced by the year's evaluation, said only as
    「記録済みの2023年度を置き換え」, the typed figure kept by the backup alone. Each record
    that changed is named, cell and both values, as rollover names what it replaces."""
    m2024 = tmp_path / "さっぽろ圏_2024年度_マスター.xlsm"
    shutil.copyfile(late["m2024"], m2024)
    grid = _grid(m2024, c.HISTORY)
    row = next(r for r, cells in enumerate(grid, start=1) if cells and cells[0] == "KPI1-1")
    col = grid[2].index("2023年度 実績値") + 1
    _set(m2024, (c.HISTORY, (row, col), "31兆円"))
    assert cli_main(["history", "import", str(m2024), str(late["m2023"])]) == 0
    out = capsys.readouterr().out
    assert "・「経年」の2023年度で値が変わった記録 2 指標（前の記録 → 2023年度のマスターの入力から評価した記録。" in out, out
    assert f"経年!{_ref((row, col))}（KPI1-1）: 「31兆円 －」→「（空欄） －」" in out, out
    assert "（04-1）: 「21件 ◎」→「44件 ◎」" in out, out     # the late return the carry is run for


def test_a_master_whose_history_lost_the_year_it_was_made_from_says_so(late, tmp_path, capsys):
    """経年 emptied by hand in the 2024 master (made from 2023): the 2025 master's 経年 went
    on with 2024 alone, 2023 gone, and the rollover said nothing of it. Emptied: its header row
    and records (the 「指標ID」 header alone cleared, the years and records left under it, is
    refused naming the cell: test_the_id_header_of_history_…, qa-128)."""
    m2024 = tmp_path / "さっぽろ圏_2024年度_マスター.xlsm"
    shutil.copyfile(late["m2024"], m2024)
    grid = file_grid(m2024, c.HISTORY)
    emptied = [(c.HISTORY, (r, k), None) for r in range(3, len(grid) + 1)
               for k, v in enumerate(grid[r - 1], start=1) if v not in (None, "")]
    _set(m2024, ("札幌市", _entry_cell(m2024, "札幌市", "04-1", "value"), 3), *emptied)
    assert cli_main(["rollover", str(m2024)]) == 0
    out = capsys.readouterr().out
    assert "【注意】「経年」に2023年度の記録がありません（このマスターは2023年度のマスターから作られています）" in out, out
    assert "renkei-xl history import さっぽろ圏_2025年度_マスター.xlsm （2023年度のマスター）" in out, out
    assert cli_main(["rollover", str(late["m2024"]), "-o", str(tmp_path / "x.xlsm")]) == 1   # nothing entered
    assert "記録がありません" not in capsys.readouterr().out


@pytest.mark.parametrize("case", ["same file", "later year", "nothing entered"])
def test_carrying_a_year_refuses_what_it_cannot_mean_and_writes_nothing(late, tmp_path, capsys, case):
    m2024 = tmp_path / "m2024.xlsm"
    shutil.copyfile(late["m2024"], m2024)
    target, source, said = {
        "same file": (m2024, m2024, "取り込み先のマスターと同じファイルです"),
        "later year": (late["m2023"], m2024, "それより前の年度のマスターだけを取り込めます"),
        "nothing entered": (rollover_file(m2024, out=tmp_path / "m2025.xlsm").path, m2024,
                            "取り込むマスター（2024年度）には、実績値・分母・実施状況が 1 つも入力されていません"),
    }[case]
    before = target.read_bytes()
    assert cli_main(["history", "import", str(target), str(source)]) == 2
    assert said in capsys.readouterr().err
    assert target.read_bytes() == before


def test_a_next_master_named_for_another_year_is_not_made(sample, tmp_path, capsys):
    """`rollover -o 「…_2023年度_…」` made a 2024 master named for 2023, which the next
    rollover, history import and collect then refuse by its name. Refused at once now; a
    name of the new year, of no year or of a period is taken."""
    wrong = tmp_path / "さっぽろ圏_2023年度_マスター.xlsm"
    assert cli_main(["rollover", str(sample), "-o", str(wrong)]) == 2
    said = capsys.readouterr().err
    assert "名前は2023年度ですが、作るのは 2024年度のマスターです" in said and not wrong.exists(), said
    for name in ("さっぽろ圏_2024年度_マスター.xlsm", "next.xlsm", "第2期_2022〜2026年度_マスター.xlsm"):
        assert cli_main(["rollover", str(sample), "-o", str(tmp_path / name)]) == 0, name


def test_a_column_staff_added_to_the_history_is_kept_by_the_next_rollover(years, tmp_path):
    """Staff write 「職員メモ」 beside 経年's years in the 2024 master (「見直し中」 on 04-1). The
    2025 master's 経年 has the column after its years, the note on 04-1's row. Before, each
    rollover wrote 経年 from its records alone and the column was gone without a word."""
    m2024 = shutil.copyfile(years["m2024"], tmp_path / years["m2024"].name)
    rows = _grid(m2024, c.HISTORY)
    top = next(i for i, r in enumerate(rows) if "指標ID" in r)
    row = next(i for i, r in enumerate(rows) if r[0] == "04-1") + 1
    col = len(rows[top]) + 1
    write_planned(m2024, lambda fs: (WritePlan(cells=[CellEdit(c.HISTORY, top + 1, col, "職員メモ"),
                                                      CellEdit(c.HISTORY, row, col, "見直し中")]), None))

    m2025 = rollover_file(m2024, out=tmp_path / "2025" / years["m2025"].name).path
    rows = _grid(m2025, c.HISTORY)
    header = next(r for r in rows if "指標ID" in r)
    assert header[-1] == "職員メモ" and "2024年度 評価" in header
    assert {r[0]: r[-1] for r in rows[rows.index(header) + 1:] if r[-1]} == {"04-1": "見直し中"}


def test_a_row_not_yet_counted_is_said_so_not_unentered(fy2023):
    """20-1 reports 「（未集計）」 (the official list's ―): 次の一歩 said 「実績値が未入力です」,
    though a value was entered; a 合計 one of whose municipalities is 未集計 is the same."""
    ind = next(i for i in fy2023.indicators if i.id == "20-1")
    text = gap_text(ind, "（未集計）", "―", "", fy2023.settings)
    assert text.startswith("実績値が未集計です") and "未入力" not in text


def test_rollover_says_it_left_a_sheet_settings_does_not_list_as_it_was(tmp_path):
    """長沼町 leaves the partnership: its 設定 row goes, its sheet stays. Rollover empties the
    inputs of the municipalities 設定 lists only, so 長沼町's 2023 value went into the 2024
    master as it was, and its report said 「入力欄 … を空に」 with no word of it: staff who
    add 長沼町 back to 設定 in 2024 would have its 2023 number counted as 2024's. Now the
    report (both faces show rollover_parts) names the sheet and the step; a master whose
    sheets 設定 all lists says nothing.

    The same staff hid the unused columns after 小樽市's table (H:XFD, 「使わない列を非表示」):
    前年度実績 went into hidden H, and the report said 「各行の横に…表示しました」 of a column
    nobody saw. Now the report names the column and how to show it."""
    from renkei_xl.cycle.rollover import rollover_lines

    m2023 = init_master(tmp_path / "さっぽろ圏_2023年度_マスター.xlsx", sample="fy2023")
    plain = rollover_lines(rollover_file(m2023))
    assert not [line for line in plain if "市町村一覧にないため" in line or "非表示" in line]
    (tmp_path / "さっぽろ圏_2024年度_マスター.xlsx").unlink()
    wb = openpyxl.load_workbook(m2023)
    ws = wb[c.SETTINGS]
    (row,) = [r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "長沼町"]
    for col in range(1, 5):
        ws.cell(row, col).value = None
    wb["小樽市"].column_dimensions.group("H", "XFD", hidden=True)
    wb.save(m2023)
    done = rollover_file(m2023)
    (said,) = [line for line in rollover_lines(done) if "市町村一覧にないため" in line]
    assert "シート「長沼町」（1 行）" in said and "2023年度の値" in said and "シートを削除してください" in said, said
    (hidden,) = [line for line in rollover_lines(done) if "非表示" in line]
    assert hidden.endswith("「再表示」を選ぶと見えます）: 「小樽市」の H 列"), hidden
    # The new column is cut out of staff's hidden run, sized, and stays hidden like the rest.
    (run,) = [r for r in _col_runs(m2023, "小樽市") if r["max"] == "16384"]
    fitted = _previous_width_fits(done.path, "小樽市")
    assert fitted == {**run, "max": "8", "width": fitted["width"]} and float(fitted["width"]) > 20, run
    assert _col_run(done.path, "小樽市", 9) == {**run, "min": "9"}
    kept = [r for r in _grid(done.path, "長沼町")[1:] if r[4]]
    assert [(r[0], r[4]) for r in kept] == [("28-1", 1)]


# ------------------------------------------------------------------ notes on 経年

def _noted_history(master: Path, note: str) -> None:
    """A note (comment) staff put on a cell of 経年: 「2023年度は速報値」 beside a year's figure."""
    from openpyxl.comments import Comment

    wb = openpyxl.load_workbook(master, keep_vba=True)
    wb[c.HISTORY]["E4"].comment = Comment(note, "職員")
    wb.save(master)


def test_a_note_on_history_is_named_by_the_csv_import_that_rebuilds_it(sample, tmp_path, capsys):
    """経年 is rebuilt whole by `history import`, written in place: a note on it went without a
    word, where 評価を再計算 names each note on the sheets it rebuilds (list_notes.dropped_notes)."""
    _noted_history(sample, "2023年度は速報値")
    csv_path, done, _reasons = _csv_imported(sample, tmp_path, ["08-1,2022,15件,×"], "utf-8")
    assert done.imported == 1
    assert [(f.sheet, f.cell) for f in done.notes] == [(c.HISTORY, "E4")]
    assert "「2023年度は速報値」" in done.notes[0].message and c.HISTORY_IMPORT in done.notes[0].message
    _noted_history(sample, "2022年度は再確認")
    assert cli_main(["history", "import", str(sample), str(csv_path)]) == 0
    out = capsys.readouterr().out
    assert "「2022年度は再確認」（経年!E4）" in out and c.HISTORY_IMPORT in out


def test_a_note_on_history_is_named_by_the_rollover_and_by_carrying_a_year(sample, tmp_path):
    """Rollover builds the new master's 経年 (and 一覧, 検証結果…) anew: a note on 経年, the one
    tool sheet that goes on year after year, was not in the new master and nothing said so;
    carrying the year again (`history import` of the old master) rebuilt 経年 in place alike."""
    from renkei_xl.cycle.rollover import carried_lines, carry_year, rollover_lines

    master = tmp_path / "さっぽろ圏_2023年度_マスター.xlsm"
    shutil.move(sample, master)
    _noted_history(master, "KPIは速報値")
    done = rollover_file(master)
    assert [(f.sheet, f.cell) for f in done.report.notes] == [(c.HISTORY, "E4")]
    said = "\n".join(rollover_lines(done))
    assert "「KPIは速報値」（経年!E4）" in said and "2023年度のマスターには残っています" in said
    _noted_history(done.path, "2024年度に見直し")
    lines = carried_lines(carry_year(done.path, master))
    assert any("「2024年度に見直し」（経年!E4）" in line and c.HISTORY_IMPORT in line for line in lines), lines



# ------------------------------------------------- staff's cells beside the tables

def _cells(path: Path, sheet: str, *refs: str) -> tuple[list[object], list[object]]:
    """The values of ``refs`` and the first row of a sheet (``file_grid``; with
    ``PAYLOAD_BOTH_WAYS`` against openpyxl's normal load, which the test read before)."""
    def fast():
        rows = file_grid(path, sheet)
        at = [_rc(ref) for ref in refs]
        return [rows[r - 1][col - 1] if r <= len(rows) and col <= len(rows[r - 1]) else None for r, col in at], \
            (list(rows[0]) if rows else [None])

    def loaded():
        ws = openpyxl.load_workbook(path)[sheet]
        return [ws[ref].value for ref in refs], [h.value for h in ws[1]]
    return read_both_ways(fast, loaded, f"{path} {sheet}")


def test_notes_without_a_header_beside_a_table_keep_their_cells_and_the_previous_year_goes_past_them(
        sample, tmp_path):
    """Staff write beside a municipality's table and 指標 without a header: 「要確認」 next to
    札幌市's 02-2, a footnote under the table, a memo beside 指標's 02-1. Rollover took the
    column right after the last header for 前年度実績: the next master had last year's values
    over the notes, and the footnote emptied. Now it is the first column free from the
    header down; a sheet with nothing beside its table has it right after the last header."""
    from openpyxl.utils import get_column_letter as letter

    free = len(_cells(sample, "札幌市")[1]) + 1
    row = _entry_cell(sample, "札幌市", "02-2", "value")[0]
    ind_free = len(_cells(sample, c.INDICATORS)[1]) + 1
    ind_row = next(i.row for i in load_master(sample).indicators if i.id == "02-1")
    _set(sample, ("札幌市", (row, free), "要確認"), ("札幌市", (row + 200, free), "※2月に再照会"),
         (c.INDICATORS, (ind_row, ind_free), "職員メモ"))
    recalc_file(sample)

    made = rollover_file(sample, out=tmp_path / "2024" / "m_2024年度.xlsm").path
    kept, header = _cells(made, "札幌市", f"{letter(free)}{row}", f"{letter(free)}{row + 200}",
                          f"{letter(free + 1)}{row}")
    assert kept == ["要確認", "※2月に再照会", "30社"] and header[free - 1:] == [None, PREVIOUS_2023]
    kept, header = _cells(made, c.INDICATORS, f"{letter(ind_free)}{ind_row}", f"{letter(ind_free + 1)}{ind_row}")
    assert kept == ["職員メモ", "3回 ◎"] and header[ind_free - 1:] == [None, PREVIOUS_2023]
    assert _cells(made, "小樽市")[1][free - 1:] == [PREVIOUS_2023]


@pytest.mark.parametrize("typed", ["2024年3月31日", "令和6年3月31日", "2024/3/31"])
def test_a_base_date_typed_as_text_moves_a_year_and_stays_a_date_people_read(sample, tmp_path, typed):
    """基準日 pasted as text into a cell formatted as 文字列 (the reader takes 「2024年3月31日」
    and 「令和6年3月31日」): the next master's 設定 showed 「45747」, the date's serial, in the
    cell staff check before sending the year's files out."""
    from openpyxl.styles.numbers import is_date_format

    # the name as openpyxl reads it (payload_book: its workbook part read by openpyxl, once
    # per content; the three cases' samples are the same bytes, a full load each before)
    sheet, ref = next(iter(payload_book(sample).defined_names[c.N_BASE_DATE].destinations))
    ref = ref.replace("$", "")
    row, col = _rc(ref)
    write_planned(sample, lambda fs: (WritePlan(cells=[CellEdit(sheet, row, col, typed, "@")]), None))
    recalc_file(sample)
    made = rollover_file(sample, out=tmp_path / "2024" / "m_2024年度.xlsm").path
    wb = openpyxl.load_workbook(made, read_only=True)   # the one cell, with its style, as openpyxl reads it
    try:
        cell = wb[sheet][ref]
        value, number_format = cell.value, cell.number_format
    finally:
        wb.close()
    assert value.date() == dt.date(2025, 3, 31) and is_date_format(number_format), (value, number_format)
    assert load_master(made).settings.base_date == dt.date(2025, 3, 31)


@pytest.mark.parametrize("day, years, moved", [((2023, 2, 28), 1, (2024, 2, 29)), ((2024, 2, 29), 1, (2025, 2, 28)),
                                               ((2024, 2, 29), 4, (2028, 2, 29)), ((2024, 3, 31), 1, (2025, 3, 31)),
                                               ((2023, 2, 27), 1, (2024, 2, 27))])
def test_a_base_date_at_a_months_end_stays_at_its_end(day, years, moved):
    """基準日 2023/2/28 (「２月末時点」 at the head of 一覧's status column) became 2024/2/28 in
    the next master, whose 一覧 then said 「２月２８日時点」 for a year whose month ends on the 29th."""
    from renkei_xl.core.rollover import shifted

    new = shifted(dt.date(*day), years)
    assert new == dt.date(*moved)
    assert ("末時点" in c.status_head(new)) == ("末時点" in c.status_head(dt.date(*day)))


def _base_date_and_validation(path: Path) -> tuple[dt.date, dt.date, dt.date]:
    from openpyxl.utils.datetime import from_excel

    wb = openpyxl.load_workbook(path)
    (sheet, ref), = wb.defined_names[c.N_BASE_DATE].destinations
    ws = wb[sheet]
    ref = ref.replace("$", "")
    (dv,) = [dv for dv in ws.data_validations.dataValidation if ref in dv.sqref]
    assert dv.type == "date" and dv.operator in (None, "between")
    return ws[ref].value.date(), from_excel(float(dv.formula1)).date(), from_excel(float(dv.formula2)).date()


def test_the_base_date_of_a_year_at_either_end_of_the_range_is_one_its_cell_takes(tmp_path):
    """基準日's validation ran from 2000/01/01 to 2100/12/31 while the reader takes up to a
    year after the year's end: the 2100 master (init --year 2100, or a rollover from 2099)
    held 2101/03/31 in a cell whose validation refused it, and staff typing 2101/03/31
    there again were told 「基準日は日付で入力してください」. The validation takes what the
    reader takes of the first and the last year."""
    from renkei_xl.core.contract_read import base_date_bounds

    for year in (2000, 2100):
        held, low, high = _base_date_and_validation(init_master(tmp_path / f"m_{year}年度.xlsx", year=year))
        assert low <= held <= high and (low, high) == (base_date_bounds(2000)[0], base_date_bounds(2100)[1])
    sample = init_master(tmp_path / "s.xlsx", sample="fy2023")    # named for 2099 once 設定 says it
    _set(sample, *((sheet, _rc(ref.replace("$", "")), value) for sheet, ref, value in
                   [(*next(iter(openpyxl.load_workbook(sample).defined_names[n].destinations)), v)
                    for n, v in ((c.N_YEAR, 2099), (c.N_BASE_DATE, dt.datetime(2100, 3, 31)))]))
    m2099 = sample.rename(tmp_path / "s_2099年度.xlsx")
    recalc_file(m2099)
    held, low, high = _base_date_and_validation(rollover_file(m2099).path)
    assert held == dt.date(2101, 3, 31) and low <= held <= high


@pytest.mark.parametrize("actual_header, symbol_header", [("２０２３年度　実績値", "2023年度評価"),
                                                          ("令和5年度 実績値", "R５年度評価"),
                                                          # without 年度, as a history CSV's 年度 is read:
                                                          # were staff's own columns, after 2024
                                                          ("R5 実績値", "2023 評価"),
                                                          ("令和5 実績値", "Ｒ５評価")])
def test_a_year_header_staff_retyped_in_full_width_or_without_its_space_stays_that_year(
        years, tmp_path, actual_header, symbol_header):
    """Staff retype 経年's 「2023年度 実績値」 as 「２０２３年度　実績値」 or 「令和5年度 実績値」 and
    「2023年度 評価」 as 「2023年度評価」 or 「R５年度評価」 in the 2024 master. The 2025 master's 経年
    still has 2023 as a year, under the tool's own headers, with 04-1's record; before, both
    columns were read as staff's own, and 2023 left the years (its 達成割合 and records kept
    only as text beside them)."""
    m2024 = shutil.copyfile(years["m2024"], tmp_path / years["m2024"].name)
    rows = _grid(m2024, c.HISTORY)
    top = next(i for i, r in enumerate(rows) if "指標ID" in r)
    header = rows[top]
    record = next(r for r in rows[top + 1:] if r[0] == "04-1")
    actual, symbol = header.index("2023年度 実績値"), header.index("2023年度 評価")
    before = (record[actual], record[symbol])
    assert before[1], before
    write_planned(m2024, lambda fs: (WritePlan(cells=[CellEdit(c.HISTORY, top + 1, actual + 1, actual_header),
                                                      CellEdit(c.HISTORY, top + 1, symbol + 1, symbol_header)]), None))

    m2025 = rollover_file(m2024, out=tmp_path / "2025" / years["m2025"].name).path
    rows = _grid(m2025, c.HISTORY)
    header = next(r for r in rows if "指標ID" in r)
    assert actual_header not in header and symbol_header not in header, header
    record = next(r for r in rows[rows.index(header) + 1:] if r[0] == "04-1")
    assert (record[header.index("2023年度 実績値")], record[header.index("2023年度 評価")]) == before


def test_headers_of_staffs_own_are_not_read_as_a_year():
    """What the year headers without 年度 must not take: a long-term target staff keep beside
    the years (「2030目標値」, no year's own target), and words without a year."""
    from renkei_xl.core.history import year_of_header

    assert year_of_header("R5 実績値", "実績値") == 2023 and year_of_header("2023評価", "評価") == 2023
    assert year_of_header("2030目標値", "目標値") is None and year_of_header("2030年度 目標値", "目標値") == 2030
    for header in ("前年度実績値", "実績値", "1 実績値", "2023.0年度 評価", "職員の評価"):
        assert year_of_header(header, "実績値") is None and year_of_header(header, "評価") is None, header


def test_a_plans_period_and_a_padded_year_in_the_names_are_kept_as_written(sample_built, tmp_path):
    """A master named for its plan's period and its year 「第2期ビジョン（2019〜2023年度）_R05年度」,
    served from the folder 「R05年度」. The next master was 「第2期ビジョン（2019〜2024年度）_R6年度」
    and its サーバー作業フォルダー 「R6年度」: the plan's period moved with the year (which no
    rollover check compares: core.fiscal.named_fiscal_years reads it as a period), the padded
    year lost its zero. Now the period stays and the year keeps its width."""
    master = tmp_path / "第2期ビジョン（2019〜2023年度）_R05年度_マスター.xlsm"
    shutil.copyfile(sample_built[0], master)
    wb = openpyxl.load_workbook(master, keep_vba=True)
    sheet, ref = next(iter(wb.defined_names[c.N_SERVER_FOLDER].destinations))
    wb[sheet][ref.replace("$", "")] = "R05年度"
    wb.save(master)

    done = rollover_file(master)
    assert done.path.name == "第2期ビジョン（2019〜2023年度）_R06年度_マスター.xlsm", done.path.name
    assert done.report.folder == ("R05年度", "R06年度")
    wb = openpyxl.load_workbook(done.path)
    assert wb[sheet][ref.replace("$", "")].value == "R06年度"


def test_a_master_counting_from_1904_rolls_over_with_its_dates_right(years, tmp_path):
    """A master whose Excel counts days from 1904 (「1904 年から計算する」, workbookPr date1904:
    the old Mac default, kept by the book): rollover wrote the new 基準日 2025-03-31 as its
    1900 serial, which that book shows as 2029-04-01, so every command refused the new master
    for a 基準日 outside its year; and 取込履歴's time stood four years late."""
    from conftest import with_members
    from realbooks import parts

    members = parts(years["m2023"])
    book = members["xl/workbook.xml"].decode("utf-8")
    book, n = re.subn(r"<workbookPr\b", '<workbookPr date1904="1"', book, count=1)
    assert n == 1
    members["xl/workbook.xml"] = book.encode("utf-8")
    mac = tmp_path / "さっぽろ圏_2023年度_マスター.xlsm"
    from realbooks import sheet_parts
    from renkei_xl.package.workbook import WorkbookXml
    from renkei_xl.package.zipped import Package

    with Package(years["m2023"]) as pkg:
        sheet, ref = WorkbookXml(pkg).workbook_names()[c.N_BASE_DATE]
    part = sheet_parts(members)[sheet]
    # 2024-03-31 as that book holds it: days since 1904-01-01, in place of its 1900 serial
    text, n = re.subn(rf'(<c r="{ref}"[^>]*>)<v>[^<]*</v>', rf"\g<1><v>{(dt.date(2024, 3, 31) - dt.date(1904, 1, 1)).days}</v>",
                      members[part].decode("utf-8"), count=1)
    assert n == 1
    members[part] = text.encode("utf-8")
    # the two parts changed, the others copied as packed (the whole master was repacked)
    with_members(years["m2023"], mac, {name: members[name] for name in ("xl/workbook.xml", part)})
    old = load_master(mac).settings.base_date
    new = load_master(rollover_file(mac).path).settings
    assert (old, new.fiscal_year, new.base_date) == (dt.date(2024, 3, 31), 2024, dt.date(2025, 3, 31))


def test_a_past_years_rate_in_the_summary_is_the_one_its_list_printed(tmp_path):
    """52／71 (73.24 %) at a threshold of 73.235 % is □, and its 一覧 prints 「73.3%」 (never
    under the edge, rules.shown_ratio); the next year's 集計 rounded the count again and
    printed 2023 at 73.2 %, below the threshold that year was judged by."""
    master = init_master(tmp_path / "さっぽろ圏_2023年度_マスター.xlsx", sample="fy2023")
    _set(master, (c.SETTINGS, (5, 2), 0.73235))
    recalc_file(master)
    listed = _grid(master, c.LIST)
    top = next(i for i, r in enumerate(listed) if "指標ID" in r)
    meta = next(r for r in listed[top + 1:] if r[listed[top].index("指標ID")] == "01-1")
    assert meta[listed[top].index("実績値")] == "73.3%"
    nxt = rollover_file(master).path
    recalc_file(nxt)
    summary = _grid(nxt, c.SUMMARY)
    at = next(i for i, r in enumerate(summary) if r[0] == "年度別の達成割合")
    assert summary[at][1] == "2023年度" and summary[at + 2][1] == "52／71"
    assert summary[at + 1][1] == 0.733

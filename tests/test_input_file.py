"""A municipality's input workbook as LibreOffice opens it: what a partner meets (the sheet
protected, the state list hidden, only the cream input cells open, each with the master's
rule, prompt and refusal) and the round trip (typed and saved by LibreOffice, then
collected into the master).

The sheet is rendered by the package writer from a plan (renkei_xl.core.input_sheet);
openpyxl reads the same file in test_cycle, this reads it through LibreOffice's own model.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from conftest import require_soffice
from realbooks import lo_probe
from renkei_xl.core.refs import cell_ref
from renkei_xl.core import contract as c
from renkei_xl.core.input_sheet import INPUT_FIELDS
from renkei_xl.core.methods import INPUT_ERROR_TITLE, INPUT_WARNING_TITLE, input_rule
from renkei_xl.cycle.collect import collect
from renkei_xl.cycle.distribute import split_master
from renkei_xl.workbook.session import load_master

MUNI = "小樽市"
# A note typed into a label once the protection is lifted (test_a_note_libreoffice_saved_…)
LABEL_ID, LABEL_NOTE = "06-1", "（うち2件は見込み）"
OPERATORS = {">=": "GREATER_EQUAL", ">": "GREATER"}


@pytest.fixture(scope="module")
def probed(tmp_path_factory, sample_master_xlsx):
    require_soffice()
    tmp = tmp_path_factory.mktemp("input_file")
    master = tmp / "master.xlsx"        # the shared sample, a copy of its own: tests collect into it
    master.write_bytes(sample_master_xlsx.read_bytes())
    data = load_master(master)
    (book,) = [p for p in split_master(master, tmp / "配布", echo=lambda _l: None) if p.name.startswith(MUNI)]
    first = _probe(book, tmp / "first", [])
    header = next(int(k.split(",")[0]) for k, v in first["cells"].items() if v["string"] == "指標ID")
    cols = {v["string"]: int(k.split(",")[1]) for k, v in first["cells"].items()
            if int(k.split(",")[0]) == header and v["string"]}
    by_id = {i.id: i for i in data.indicators}
    numeric = next(e for e in data.entries if e.municipality == MUNI and e.indicator_id
                   and input_rule(by_id[e.indicator_id], "value") is not None
                   and input_rule(by_id[e.indicator_id], "value").kind == "decimal")
    row = next(int(k.split(",")[0]) for k, v in first["cells"].items()
               if v["string"] == numeric.indicator_id and int(k.split(",")[1]) == cols["指標ID"])
    saved = tmp / "returned" / book.name
    saved.parent.mkdir()
    typed = 4321
    # 「85%」 typed into another row's 実施状況, as Calc's input line stores it (test_a_percent_…)
    percent_row = next(r for r in range(row + 1, row + 99) if first["cells"][f"{r},{cols['指標ID']}"]["string"])
    at = {v["string"]: int(k.split(",")[0]) for k, v in first["cells"].items()
          if int(k.split(",")[1]) == cols["指標ID"] and int(k.split(",")[0]) > header}
    shown = [  # numbers whose cell shows them otherwise (test_a_finding_on_a_returned_cell_quotes_…)
        [at["08-1"], cols["実績値"], {"value": 0.85, "format": "0%"}],             # 85% on a 件 row
        [at["23-1"], cols["実施状況"], {"value": 0.0451388888888889, "format": "[HH]:MM:SS"}],  # 1:05:00
        [at["28-1"], cols["実績値"], {"value": 1234.5, "format": '#,##0"人"'}],     # 1,235人 on a 市町村 row
        [at["40-4"], cols["実績値"], {"value": 0.85, "format": "0%"}],             # 85% on a 比率's 分子
        # numbers whose format adds words or a scale (test_a_number_whose_format_adds_…)
        [at["04-1"], cols["実施状況"], {"value": 12, "format": '0"件"'}],            # 12件
        [at["28-1"], cols["実施状況"], {"value": 12.5, "format": '0"件"'}],          # 13件, 12.5 stored
        [at["23-1"], cols["実績値"], {"value": 85, "format": "0%"}],               # 8500%
        [at[LABEL_ID], cols["評価指標"], first["cells"][f"{at[LABEL_ID]},{cols['評価指標']}"]["string"] + LABEL_NOTE]]
    second = _probe(book, tmp / "second", [[row, cols["実績値"], typed],
                                           [percent_row, cols["実施状況"], {"value": 0.85, "format": "0%"}],
                                           *shown], saved)
    import shutil
    shutil.copy(master, tmp / "pristine.xlsx")     # before any test collects into ``master``
    return master, data, first, header, cols, (numeric, typed, second, saved)


def _probe(book: Path, work: Path, edits: list, out: Path = None) -> dict:
    """tests/uno_input_probe.py on ``book`` in the soffice this process keeps (realbooks.lo_probe)."""
    work.mkdir()
    out = out or work / "saved.xlsx"
    return lo_probe("uno_input_probe", book, MUNI, str(out.resolve()), edits, read_only=False)


def test_libreoffice_sees_the_sheet_protected_and_the_state_list_hidden(probed):
    _master, _data, first, header, _cols, _ = probed
    assert first["sheets"] == {MUNI: {"visible": True, "protected": True},
                               "選択肢": {"visible": False, "protected": True}}
    assert first["names"][c.N_STATES] == f"$選択肢.$A$2:$A${1 + len(c.STATE_CHOICES)}"
    assert first["title_rows"] == [header, header]    # the header row repeats on every page
    _m, _d, _f, _h, cols, _ = probed
    assert first["hidden_columns"] == [cols[h] for h in c.ISSUED_HEADERS.values()]   # and nothing else


def test_only_the_input_cells_are_open_and_each_asks_what_the_master_asks(probed):
    _master, data, first, header, cols, _ = probed
    by_id = {i.id: i for i in data.indicators}
    from renkei_xl.core.contract import ENTRY_HEADERS

    inputs = {cols[ENTRY_HEADERS[f]]: f for f in INPUT_FIELDS}
    rows = [e.indicator_id for e in data.entries if e.municipality == MUNI and e.indicator_id]
    checked = 0
    for key, cell in first["cells"].items():
        r, col = (int(x) for x in key.split(","))
        field = inputs.get(col) if r > header else None
        ind = by_id[rows[r - header - 1]] if field is not None else None
        rule = input_rule(ind, field) if field is not None else None
        if field == "denominator" and rule is None:
            field = None     # a 分母 the row does not read is closed, as the table around it
        assert cell["locked"] == (field is None), (key, cell)
        if field is None:
            assert cell["validation"] is None, (key, cell)
            continue
        if rule is None:
            assert cell["validation"] is None, (key, cell)
            continue
        v = cell["validation"]
        assert (v["input_title"], v["input_message"], v["error_title"], v["error_message"]) == (
            rule.title, rule.prompt, INPUT_WARNING_TITLE if rule.warning_only else INPUT_ERROR_TITLE,
            rule.error), key   # a warning that lets the word in is not titled 「入力できない値です」
        assert v["show_input"] and v["show_error"] and v["ignore_blank"], key
        assert v["alert"] == ("WARNING" if rule.warning_only else "STOP"), key
        if rule.kind == "list":
            assert (v["type"], v["formula1"]) == ("LIST", rule.list_name), key
        elif rule.also:   # written for the area's first cell, which LibreOffice takes as its source
            source_row, source_col = v["source"]
            assert source_col == col and source_row <= r, (key, v["source"])
            assert (v["type"], v["formula1"]) == (
                "CUSTOM", rule.formula(cell_ref(source_row, source_col)).replace(",", ";")), key
        else:
            assert (v["type"], v["operator"], float(v["formula1"])) == (
                rule.kind.upper(), OPERATORS[rule.criteria], rule.minimum), key
        checked += 1
    assert checked >= len(rows)


def test_a_number_cell_takes_a_figure_not_counted_yet_and_refuses_other_words(probed, tmp_path):
    """Staff are told to enter 「（未集計）」 for a figure not counted yet, but the number cells
    carried Excel's decimal rule, which refuses every text: typed, it was refused by the very
    cell. The rule is now a formula (InputRule.formula) that LibreOffice, reading the file,
    finds true for a number and for 「（未集計）」, false for 「17件」 and for a negative number."""
    master, data, _first, header, cols, (numeric, _typed, _second, _saved) = probed
    book = next(p for p in (master.parent / "配布").iterdir() if p.name.startswith(MUNI))
    row = header + 1 + [e.indicator_id for e in data.entries
                        if e.municipality == MUNI and e.indicator_id].index(numeric.indicator_id)
    at = [row, cols["実績値"]]
    # Typed one after another into the one cell, in one LibreOffice run (each value replaces
    # the last and is judged as it stands, as staff retyping the cell): a start each cost ~2 s.
    values = ("（未集計）", 12, "17件", -3, "未集計")
    typed = _probe(book, tmp_path / "typed", [[*at, value] for value in values])["typed"]
    assert [t[:2] for t in typed] == [at] * len(values), typed
    assert [t[3] for t in typed] == [True, True, False, False, True], typed


def test_a_file_typed_and_saved_by_libreoffice_is_collected(probed):
    """… with the values as issued still in it: a correction staff made in the master
    after the split, to a row LibreOffice saved untouched, is kept."""
    master, data, _first, _header, _cols, (numeric, typed, second, saved) = probed
    assert second["typed"][0][2] == str(typed)
    other = next(e for e in data.entries if e.municipality == MUNI and e.indicator_id
                 and e.indicator_id != numeric.indicator_id and e.value.isdigit())
    wb = openpyxl.load_workbook(master)
    wb[MUNI][other.cell("value")].value = int(other.value) + 100
    wb.save(master)
    report = collect(master, [saved.parent])
    assert not report.refused, report.refused
    assert [(f.indicator_id, f.type) for _name, f in report.kept] == [(other.indicator_id, "kept-master-correction")]
    entries = {e.indicator_id: e for e in load_master(master).entries if e.municipality == MUNI}
    assert entries[numeric.indicator_id].value == str(typed)    # entries hold the text staff see
    assert entries[other.indicator_id].value == str(int(other.value) + 100)


def test_a_percent_typed_into_a_status_is_held_naming_the_cell_and_what_it_shows(probed, tmp_path):
    """「85%」 typed into 実施状況 is saved by Calc (and Excel) as 0.85 in a 0% cell: collect
    took 「0.85」 into the master's 実施状況, a text nobody typed, which 一覧 would publish. The
    row is held, naming the cell and the 85% it shows, the master's 実施状況 as it was."""
    import shutil

    master, data, first, _header, cols, (_numeric, _typed, second, saved) = probed
    assert second["typed"][1][2] == "85%"
    r, col = second["typed"][1][:2]
    ind_id = first["cells"][f"{r},{cols['指標ID']}"]["string"]
    copy = tmp_path / master.name
    shutil.copy(master.parent / "pristine.xlsx", copy)
    report = collect(copy, [saved.parent])
    assert not report.refused, report.refused
    said = [f for _name, f in report.held if f.type == "status-percent"]
    assert [(f.cell, f.indicator_id) for f in said] == [(cell_ref(r, col), ind_id)], report.held
    assert "実施状況「85%」が割合の数値（0.85）として保存されています" in said[0].message
    entry = next(e for e in load_master(copy).entries if e.municipality == MUNI and e.indicator_id == ind_id)
    assert entry.status == next(e for e in data.entries if e.municipality == MUNI and e.indicator_id == ind_id).status


def test_a_note_libreoffice_saved_into_a_label_is_said_and_the_answers_imported(probed, tmp_path):
    """Every cell but the cream input cells is locked (above), the sheet protected without a
    password: Calc's ツール → シートの保護 lifts it, and 06-1's 評価指標 takes a note. collect
    imported the file and the note was never read; the label as issued (the hidden column,
    sealed) tells it, and the warning quotes what was typed. The answers are imported."""
    import shutil

    master, _data, first, header, cols, (numeric, typed, second, saved) = probed
    at = {v["string"]: int(k.split(",")[0]) for k, v in first["cells"].items()
          if int(k.split(",")[1]) == cols["指標ID"] and int(k.split(",")[0]) > header}
    ref = cell_ref(at[LABEL_ID], cols["評価指標"])
    assert first["cells"][f"{at[LABEL_ID]},{cols['評価指標']}"]["locked"]
    assert second["typed"][-1][:2] == [at[LABEL_ID], cols["評価指標"]]
    copy = tmp_path / master.name
    shutil.copy(master.parent / "pristine.xlsx", copy)
    report = collect(copy, [saved.parent])
    assert not report.refused and report.records, report.refused
    said = [(name, f.place, f.indicator_id, f.message) for name, f in report.noted if f.type == "returned-label-changed"]
    assert said == [(saved.name, f"{MUNI}!{ref}", LABEL_ID, f"評価指標が配布時と違います: 配布時の文の後に「{LABEL_NOTE}」が"
                     "書き足されています。取り込むのは実績値・分母・実施状況だけで、評価指標の文は取り込みません（マスターは"
                     "変わりません）。市町村のメモなら内容を確かめ、回答に関わること（見込みの値など）は市町村に確かめて"
                     "マスターに直接入力してください")], report.noted
    entry = next(e for e in load_master(copy).entries if e.municipality == MUNI and e.indicator_id == numeric.indicator_id)
    assert entry.value == str(typed)


@pytest.mark.parametrize("where, said", [
    ("target", "の目標値（確認用の灰色の列）が配布時と違います（小樽市!{cell}「4321」"),
    ("beside", "の配布時になかった列に値があります（小樽市!{cell}）")])
def test_an_answer_libreoffice_saved_outside_the_input_cells_refuses_the_file(probed, tmp_path, where, said):
    """An answer typed into the grey 目標値 (protection lifted) or a note typed beside the
    table, saved by LibreOffice: collect reads neither, so taking the file dropped them and
    logged it as imported. It is refused, naming the cell, the master byte-identical."""
    import shutil

    from renkei_xl.core.refs import cell_ref

    master, _data, first, header, cols, (_numeric, _typed, _second, saved) = probed
    book = saved.parent.parent / "配布" / saved.name
    last = max(int(k.split(",")[1]) for k in first["cells"])
    row, col = header + 1, cols["目標値"] if where == "target" else last + 2
    returned = tmp_path / "returned" / saved.name
    returned.parent.mkdir()
    _probe(book, tmp_path / "lo", [[row, col, "4321" if where == "target" else "暫定値です"]], returned)
    copy = tmp_path / master.name
    shutil.copy(master, copy)
    before = copy.read_bytes()
    report = collect(copy, [returned.parent])
    assert [r.path.name for r in report.refused] == [saved.name]
    assert said.format(cell=cell_ref(row, col)) in report.refused[0].reason, report.refused[0].reason
    assert copy.read_bytes() == before and not report.changes


def test_a_finding_on_a_returned_cell_quotes_what_the_cell_shows(probed, tmp_path):
    """A returned file holds a number and the format it is shown in: 「85%」 typed on a 件 row
    is 0.85 in a 0% cell, 「1:05:00」 is 0.0451388888888889. The row was held with
    「実績値「0.85」は件数・人数なのに小数です」, a number the municipality could not find in
    its cell. Each finding now quotes what the cell shows (with the number where it helps)."""
    import shutil

    master, _data, first, header, cols, (_numeric, _typed, second, saved) = probed
    at = {v["string"]: int(k.split(",")[0]) for k, v in first["cells"].items()
          if int(k.split(",")[1]) == cols["指標ID"] and int(k.split(",")[0]) > header}
    assert [t[2] for t in second["typed"][2:6]] == ["85%", "01:05:00", "1,235人", "85%"]
    copy = tmp_path / master.name
    shutil.copy(master.parent / "pristine.xlsx", copy)
    report = collect(copy, [saved.parent])
    assert not report.refused, report.refused
    said: dict[str, str] = {}
    for _name, f in report.held:
        said[f.indicator_id] = said.get(f.indicator_id, "") + f.message
    assert "実績値「85%」の単位" in said["08-1"], said          # was 「0.85」は件数・人数なのに小数です
    assert "実施状況「01:05:00」が日付・時刻として保存されています" in said["23-1"], said
    assert "「1,235人」（セルの数値は 1234.5）" in said["28-1"], said
    assert "「85%」は割合のようです" in said["40-4"], said
    assert "数値「85%」（セルの数値は 0.85）だけが入力されています" in said["05-1"], said
    assert not any("0.85」" in m or "0.0451388888888889" in m for m in said.values()), said


def test_a_percentage_on_a_percent_row_is_taken_as_the_returned_file_shows_it(probed, tmp_path):
    """「85%」 typed on a row counting in % is 0.85 in a 0% cell. Read as the number alone, it
    was held as 「0.85% なのか 85% なのか決められません」, although the file's own format says
    85%: the format is the file's evidence (not a guess, SPEC §3), so the row is taken as 85."""
    import shutil

    master, _data, first, header, cols, (_numeric, _typed, _second, saved) = probed
    copy = tmp_path / master.name
    shutil.copy(master.parent / "pristine.xlsx", copy)
    wb = openpyxl.load_workbook(copy)   # 40-4 made a row that counts in % (合計 of a 70% target)
    sheet = wb[c.INDICATORS]
    heads = {cell.value: cell.column for cell in next(r for r in sheet.iter_rows() if any(
        x.value == c.INDICATOR_HEADERS["id"] for x in r))}
    row = next(r for r in sheet.iter_rows() if r[heads[c.INDICATOR_HEADERS["id"]] - 1].value == "40-4")
    row[heads[c.INDICATOR_HEADERS["method"]] - 1].value = "合計"
    wb.save(copy)
    report = collect(copy, [saved.parent])
    assert not report.refused, report.refused
    assert not [f for _name, f in report.held if f.indicator_id == "40-4"], report.held
    entry = next(e for e in load_master(copy).entries if e.municipality == MUNI and e.indicator_id == "40-4")
    assert entry.value == "85"


@pytest.mark.parametrize("ind_id, field, shows, found, said, imported", [
    ("28-1", "実績値", "1,235人", "unit-mismatch", "実績値「1,235人」（セルの数値は 1234.5）の単位", None),
    ("04-1", "実施状況", "12件", None, None, "12件"),
    ("28-1", "実施状況", "13件", "status-words", "実施状況「13件」が数値（12.5）に表示形式で文字を付けて", None),
    ("23-1", "実績値", "8500%", "percent-formatted-after", "実績値「8500%」は、セルの数値 85 が割合の表示形式で", None)])
def test_a_number_whose_format_adds_words_is_read_with_them(probed, tmp_path, ind_id, field, shows, found, said,
                                                            imported):
    """A returned number whose format adds a unit or words the municipality sees was taken
    alone: 1234.5 shown 「1,235人」 on a 市町村 row was 1234.5 市町村, a 実施状況 12 shown 「12件」 was
    「12」, 85 shown 「8500%」 was 8500 without a word. The number is read with the format's
    words (the unit rules judge 「1234人」 as typed); a 実施状況 is taken as shown where it
    shows its number's every digit, else held; a percentage of 200% or more is held."""
    import shutil

    master, data, first, header, cols, (_numeric, _typed, second, saved) = probed
    at = {v["string"]: int(k.split(",")[0]) for k, v in first["cells"].items()
          if int(k.split(",")[1]) == cols["指標ID"] and int(k.split(",")[0]) > header}
    ref = cell_ref(at[ind_id], cols[field])
    assert [t[2] for t in second["typed"] if cell_ref(*t[:2]) == ref] == [shows]
    copy = tmp_path / master.name
    shutil.copy(master.parent / "pristine.xlsx", copy)
    report = collect(copy, [saved.parent])
    assert not report.refused, report.refused
    mine = [f for _name, f in report.held if f.indicator_id == ind_id]
    entry = next(e for e in load_master(copy).entries if e.municipality == MUNI and e.indicator_id == ind_id)
    if found is None:
        assert not mine, mine
        assert entry.status == imported
    else:
        assert [f for f in mine if f.type == found and f.cell == ref and said in f.message], mine

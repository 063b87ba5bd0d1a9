"""Answers a VBA client can replay: bounded by the master's size, never by what staff left
on a sheet, and a refusal in Japanese for what the server does not serve.

- 検証結果 lists at most SHOWN_FINDING_ROWS findings and then one count row, on both faces
  (the button through the server's own code, ``run_button``, replayed on the model; the
  command line on the file), and only listed cells are marked;
- a master of the largest size the server serves (2,000 indicators × 40 municipalities,
  built by the project's builder from benchmarks/run.py's generator) gets answers of at
  most 5 MB from 入力チェック and 評価を再計算;
- a payload past the limits (renkei_xl.server.limits) is refused with 413 and a sentence
  naming the sheet, before anything runs.
Nothing here is timed (benchmarks/server.py times the buttons; docs/performance.md).
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from remote_payload import (EXCEL_KEY, KNOWN_ACTIONS, VBA, apply_actions, file_protection, file_rows,
                            payload_book, payload_from_file)
from test_buttons import licensed  # noqa: F401  (the remote engine's licence fixture)
from renkei_xl.cli import main as cli_main
from renkei_xl.core import contract as c
from renkei_xl.core.alerts import BUTTON_CHARS
from renkei_xl.core.model import ERROR, WARNING, Finding
from renkei_xl.core.sheet_findings import SHOWN_FINDING_ROWS, shown_findings
from renkei_xl.excel.book import RENKEI_CLIENT_KEY
from renkei_xl.server import limits
from renkei_xl.server.app import handle, run_button
from renkei_xl.server.config import ServerConfig
from renkei_xl.server.place import Place

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from run import synthetic  # noqa: E402  (the benchmarks' generator of large masters)

MAX_ANSWER = 5 * 1024 * 1024
STRAYS = SHOWN_FINDING_ROWS + 500
STRAY_SHEET = "札幌市"
FOLDER = "2023年度"


def _answer(entry: str, payload: dict, workdir: Path) -> tuple[dict, int]:
    """The actions the server would send for ``payload`` and their size as sent (bytes)."""
    payload = {**json.loads(json.dumps(payload, ensure_ascii=False)), RENKEI_CLIENT_KEY: True}
    answer = run_button(entry, payload, Place(workdir, "", "test"))
    return answer, len(json.dumps(answer, ensure_ascii=False).encode("utf-8"))


def _last_alert(answer: dict) -> tuple[str, str]:
    alert = answer["actions"][-1]
    assert alert["func"] == "alert", alert
    return alert["args"][0], alert["args"][3]


# ------------------------------------------------------------------- the rule itself

def _finding(i: int, severity: str, sheet: str = "小樽市") -> Finding:
    return Finding("missing-field", severity, sheet, f"C{i + 2}", "", f"行 {i}", "")


def test_findings_up_to_the_limit_are_all_listed_in_order():
    findings = [_finding(i, ERROR if i % 3 else WARNING) for i in range(SHOWN_FINDING_ROWS)]
    shown = shown_findings(findings)
    assert shown.findings == findings and shown.omitted == 0 and shown.note is None


def test_past_the_limit_errors_come_first_and_one_row_counts_the_rest_by_sheet():
    warnings = [_finding(i, WARNING, "設定") for i in range(300)]
    errors = [_finding(i, ERROR) for i in range(SHOWN_FINDING_ROWS + 200)]
    shown = shown_findings(warnings + errors)
    assert shown.findings == errors[:SHOWN_FINDING_ROWS]
    assert shown.omitted == 500
    assert "ほかに 500 件（エラー 200 件、警告 300 件）" in shown.note, shown.note
    assert "「設定」300 件" in shown.note and "「小樽市」200 件" in shown.note, shown.note


# --------------------------------------------------- stray rows: both faces, summarised

@pytest.fixture(scope="module")
def strays(tmp_path_factory) -> Path:
    """The FY2023 sample master with STRAYS rows on 札幌市 that have a 実績値 and no 指標ID
    (each an error), as staff leave them by pasting a column too far."""
    folder = tmp_path_factory.mktemp("strays")
    master = folder / "strays.xlsm"   # with the master's VBA: the model replays what it carries
    assert cli_main(["init", str(master), "--sample", "fy2023"]) == 0
    wb = load_workbook(master, keep_vba=True)
    ws = wb[STRAY_SHEET]
    header = next(r for r in range(1, 20) if c.ENTRY_HEADERS["value"] in [x.value for x in ws[r]])
    col = [x.value for x in ws[header]].index(c.ENTRY_HEADERS["value"]) + 1
    first = ws.max_row + 3
    for r in range(first, first + STRAYS):
        ws.cell(r, col, 1)
    wb.save(master)
    return master


def test_stray_rows_give_the_same_summarised_check_on_both_faces(strays, tmp_path, licensed):  # noqa: F811
    payload = payload_from_file(strays, client=VBA)
    answer, size = _answer("check", payload, tmp_path)
    prompt, mode = _last_alert(answer)
    assert mode == "info", prompt
    # hundreds of errors, listed as far as MsgBox shows them (core.alerts), the rest counted
    assert len(prompt) <= BUTTON_CHARS and "…ほか " in prompt and prompt.endswith(
        f"結果はシート「{c.FINDINGS}」にあります（セル欄をクリックすると該当のセルへ移動します）。"), prompt
    live = apply_actions(payload, answer["actions"])

    on_file = tmp_path / strays.name
    shutil.copyfile(strays, on_file)
    cli_main(["validate", str(on_file)])   # exits 1: the file has errors
    rows = file_rows(on_file, c.FINDINGS)

    shown = live.rows(c.FINDINGS)
    assert shown == rows
    assert len(shown) == 1 + SHOWN_FINDING_ROWS + 1          # header, listed findings, count row
    note = shown[-1][0]
    m = re.search(r"ほかに ([\d,]+) 件", note or "")
    assert m and int(m.group(1).replace(",", "")) >= STRAYS - SHOWN_FINDING_ROWS, note
    assert f"「{STRAY_SHEET}」" in note, note
    assert all(v is None for v in shown[-1][1:])

    # Marks: only the listed cells, so each one can be lifted from its row next time.
    listed = {(r[1], r[2]) for r in shown[1:-1] if r[1] and r[2]}
    marked = {key for key, colour in live.colors.items() if colour == "#" + c.MARK_FILL}
    assert marked and marked <= listed
    # One action per stray row would be several MB; summarised, the answer stays small.
    assert size < 1024 * 1024, size


# ------------------------------------------------------- the largest master served

@pytest.fixture(scope="module")
def largest(tmp_path_factory) -> tuple[dict, Path]:
    """A master of the size the server promises (2,000 × 40), built by the project's builder,
    and the payload xlwings' VBA client sends for it (every sheet's values from A1, the names)."""
    from python_calamine import CalamineWorkbook

    from renkei_xl.package.workbook import WorkbookXml
    from renkei_xl.package.zipped import Package
    from renkei_xl.workbook.build import build_master

    folder = tmp_path_factory.mktemp("largest")
    master = build_master(folder / "largest.xlsx", *synthetic(2000, 40))
    # the names as the tool reads them (MasterState.names: WorkbookXml.workbook_names), from
    # the workbook part alone: a whole read of the master (session.opened) took a second here
    defined = dict(WorkbookXml(Package(master, master.read_bytes())).workbook_names())
    book = CalamineWorkbook.from_path(str(master))
    order = book.sheet_names
    sheets = []
    for name in order:
        values = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        sheets.append({"name": name, "values": [[_json(v) for v in row] for row in values] or [[]],
                       "pictures": [], "tables": []})
    names = [{"name": n, "sheet_index": order.index(s), "address": ref, "book_scope": True,
              "scope_sheet_name": None, "scope_sheet_index": None}
             for n, (s, ref) in defined.items() if s in order]
    import xlwings as xw

    payload = {"client": VBA, "version": xw.__version__,
               "book": {"name": master.name, "active_sheet_index": 0, "selection": "A1"},
               "names": names, "sheets": sheets,
               # the model of Excel: this file's protection, read as payload_from_file reads it
               # (its protected sheets alone: payload_book of the whole took 2 s here, a normal
               # openpyxl load of 402,000 cells 4.4), a client with every action (what a
               # master's own VBA may replay is tests/test_server.py's)
               EXCEL_KEY: {"protection": file_protection(master),
                           "subs": sorted(KNOWN_ACTIONS)}}
    return json.loads(json.dumps(payload, ensure_ascii=False)), folder


def _json(value):
    import datetime as dt

    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%dT00:00:00.000Z")
    return value


def test_the_largest_master_served_is_within_the_limits(largest):
    payload, _folder = largest
    assert limits.refusal(payload) is None
    indicators = next(s for s in payload["sheets"] if s["name"] == c.INDICATORS)
    assert len(indicators["values"]) > 2000


@pytest.mark.parametrize("entry", ["check", "recalc"])
def test_the_largest_master_served_answers_in_at_most_5_mb(largest, entry, licensed):  # noqa: F811
    payload, folder = largest
    answer, size = _answer(entry, payload, folder)
    prompt, mode = _last_alert(answer)
    assert mode == "info", prompt
    assert size <= MAX_ANSWER, size
    if entry == "recalc":
        live = apply_actions(payload, answer["actions"])
        assert "（2000 指標）" in prompt, prompt
        assert len(live.rows(c.LIST)) > 2000


# --------------------------------------------------------------------- refusals

def _refused(tmp_path, payload: dict) -> tuple[int, str, str]:
    config = ServerConfig(workdir=tmp_path, key="k")
    return handle(config, "check", json.dumps(payload, ensure_ascii=False).encode("utf-8"), True)


def _with_sheet(payload: dict, name: str, values: list) -> dict:
    out = json.loads(json.dumps(payload, ensure_ascii=False))
    sheets = [s for s in out["sheets"] if s["name"] != name]
    sheets.append({"name": name, "values": values, "pictures": [], "tables": []})
    out["sheets"] = sheets
    return out


def test_a_sheet_the_vba_client_cannot_count_is_refused_naming_it(strays, tmp_path):
    payload = payload_from_file(strays, client=VBA)
    status, text, outcome = _refused(tmp_path, _with_sheet(payload, "メモ", [[""]] * limits.VBA_MAX_ROWS + [["x"]]))
    assert status == 413 and outcome == "大きすぎる"
    assert "シート「メモ」" in text and "32,767 行" in text and "32,766" in text, text


def test_more_indicators_than_served_are_refused_naming_the_sheet(strays, tmp_path):
    payload = payload_from_file(strays, client=VBA)
    indicators = next(s for s in payload["sheets"] if s["name"] == c.INDICATORS)["values"]
    longer = indicators + [[""] * len(indicators[0])] * (limits.MAX_INDICATOR_ROWS + 1 - len(indicators))
    status, text, _outcome = _refused(tmp_path, _with_sheet(payload, c.INDICATORS, longer))
    assert status == 413 and f"シート「{c.INDICATORS}」" in text and "2,000" in text, text


def test_more_cells_than_served_are_refused_naming_the_largest_sheet(strays, tmp_path):
    payload = payload_from_file(strays, client=VBA)
    wide = [[""] * 100] * (limits.MAX_CELLS // 100 + 1)
    status, text, _outcome = _refused(tmp_path, _with_sheet(payload, "貼り付け", wide))
    assert status == 413 and "「貼り付け」" in text and "大きすぎ" in text, text
    assert "Traceback" not in text


def test_more_sheets_than_served_are_refused_before_the_engine_reads_them(strays, tmp_path):
    """The remote engine finds each sheet by name through all of them: 20,000 one-cell
    sheets (1.4 MB) held a click for 40 s, past the client's timeout. The largest master
    served, with room for staff's own sheets, is under the limit; one more is refused."""
    payload = payload_from_file(strays, client=VBA)
    extra = [{"name": f"メモ{i}", "values": [["x"]], "pictures": [], "tables": []}
             for i in range(limits.MAX_SHEETS + 1 - len(payload["sheets"]))]
    assert limits.refusal({**payload, "sheets": payload["sheets"] + extra[:-1]}) is None
    many = {**payload, "sheets": payload["sheets"] + extra + [
        {"name": f"追加{i}", "values": [["x"]], "pictures": [], "tables": []} for i in range(20_000)]}
    status, text, outcome = _refused(tmp_path, many)
    assert status == 413 and outcome == "大きすぎる" and f"{limits.MAX_SHEETS} 枚まで" in text, text


def test_a_body_of_more_values_than_served_is_refused_before_it_is_parsed(strays, tmp_path, monkeypatch):
    """30 MB of short texts under the byte limit made the server hold 500 MB while parsing,
    and the cell count said 413 only afterwards. The commas bound the values first; the
    largest master served stays under that bound (test_the_largest_master_served…)."""
    from renkei_xl.server import refusals

    def never(_body):
        raise AssertionError("parsed")

    monkeypatch.setattr(refusals, "parse_payload", never)
    import renkei_xl.server.app as server_app
    monkeypatch.setattr(server_app, "parse_payload", never)
    body = b'{"sheets": [{"values": [[' + b",".join(b'"%d"' % i for i in range(limits.MAX_COMMAS + 2)) + b"]]}]}"
    status, text, outcome = handle(ServerConfig(workdir=tmp_path, key="k"), "check", body, True)
    assert status == 413 and outcome == "大きすぎる" and "大きすぎて" in text, text


def test_a_body_of_strings_without_commas_is_refused_unparsed(tmp_path, monkeypatch):
    """32 MB of 「"」 has no comma, so the bound on values passed it; no JSON, so the searches
    for unsendable cells ran over its 16 million strings (9 s, 1.4 GB). Strings are values
    (or names) as commas are: a body of more than MAX_COMMAS of them is refused unparsed."""
    from renkei_xl.server import refusals

    def never(_body):
        raise AssertionError("parsed")

    import renkei_xl.server.app as server_app
    monkeypatch.setattr(refusals, "parse_payload", never)
    monkeypatch.setattr(server_app, "parse_payload", never)
    for body in (b'"' * (2 * limits.MAX_COMMAS + 2), b'{"sheets": [' + b'""' * (limits.MAX_COMMAS + 1) + b"]}"):
        assert body.count(b",") == 0
        status, text, outcome = handle(ServerConfig(workdir=tmp_path, key="k"), "check", body, True)
        assert status == 413 and outcome == "大きすぎる" and "大きすぎて" in text, text
    escaped = json.dumps({"sheets": [{"values": [['\\"' * 1_000] for _ in range(limits.MAX_COMMAS // 1_000)]}]})
    assert limits.body_refusal(escaped.encode()) is None     # quotes escaped inside texts are no strings


def test_commas_inside_texts_are_not_counted_as_values():
    """3,000 pasted CSV lines (one cell each, 6,000 cells, 3.6 MB) were refused as more than
    900,000 values: every comma byte was counted, those inside texts too. Only the commas
    between values count (escaped quotes and backslashes honoured), still without a parse
    and in C speed; many values are still refused, strings or numbers alike."""
    import time

    csv = [[",".join(str(i) for i in range(320))] for _ in range(3_000)]
    body = json.dumps({"sheets": [{"name": "メモ", "values": csv}]}, ensure_ascii=False).encode("utf-8")
    assert body.count(b",") > limits.MAX_COMMAS
    assert limits.value_commas(body) == 2_999 + 1 and limits.body_refusal(body) is None
    tricky = [['a\\",' * 400, "\\" * 300 + "," * 300, 'x"y,' * 300] for _ in range(1_000)]
    body = json.dumps({"values": tricky}).encode()
    assert body.count(b",") > limits.MAX_COMMAS and limits.value_commas(body) == 2 * 1_000 + 999
    many = [["a"] * 10 for _ in range(limits.MAX_COMMAS // 10 + 1)]
    numbers = [[1, "x,y"] * 5 for _ in range(limits.MAX_COMMAS // 10 + 1)]
    for values in (many, numbers):
        body = json.dumps({"values": values}).encode()
        started = time.perf_counter()
        assert limits.body_refusal(body) is not None
        assert time.perf_counter() - started < 5


def test_the_largest_master_served_is_under_the_bound_on_values(largest):
    payload, _folder = largest
    assert limits.body_refusal(json.dumps(payload, ensure_ascii=False).encode("utf-8")) is None

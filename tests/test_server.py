"""The renkei-xl server (``renkei-xl serve``): a real uvicorn process on 127.0.0.1, real HTTP.

Payloads are what xlwings' VBA client sends for the FY2023 sample master (the saved file
read by tests/remote_payload.py, ``client="VBA"``) with the headers RenkeiServer.bas adds.
The answers are replayed on the workbook model and must be what the local buttons and
the command line write (tests/test_faces.py's expectations), and every action in them
must be one the VBA modules shipped in the master implement.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from conftest import require_soffice
from remote_payload import KNOWN_ACTIONS, VBA, apply_actions, payload_from_file
from test_buttons import licensed  # noqa: F401  (the remote engine's licence fixture)
from test_faces import ATTRIBUTES, FileView, LiveView, expect_marks, expect_sheet, plan_of, run_file, staff_types
from test_vba import _olevba_modules
from renkei_xl.cli import main as cli_main
from renkei_xl.core import contract as c
from renkei_xl.excel.buttons import COLLECT_DIR, EXPORT_DIR, SPLIT_DIR
from renkei_xl.vba.sources import MACROS_DIR, button_entries
from renkei_xl.workbook.conf import conf_rows
from renkei_xl.workbook.session import opened

import xlwings

XLWINGS_ADDIN = Path(xlwings.__file__).parent / "addin"
KEY = "test-key-7f3a9c1e5b2d4a6f8e0c"
SHARE = r"\\fs\renkei"
FOLDER = "2023年度"
MASTER_NAME = "さっぽろ圏_2023年度_マスター.xlsm"
USER = "山田 花子"
HEADERS = {"Authorization": KEY, "X-Renkei-Client": "1",
           "X-Renkei-User": "".join(f"{ord(ch):04X}" for ch in USER)}
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
BAD_VALUE = "約10件"
CLIENTS = 12


@dataclass
class Server:
    url: str
    workdir: Path
    master: Path
    log: Path
    cwd: Path

    def post(self, entry: str, payload=None, *, headers=HEADERS, content=None, timeout=60) -> httpx.Response:
        if content is None:
            content = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return httpx.post(f"{self.url}/buttons/{entry}", content=content, timeout=timeout,
                          headers={**headers, "Content-Type": "application/json"})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, licensed):  # noqa: F811
    root = tmp_path_factory.mktemp("server")
    workdir, cwd = root / "work", root / "cwd"
    (workdir / FOLDER).mkdir(parents=True)
    cwd.mkdir()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    master = workdir / FOLDER / MASTER_NAME
    assert cli_main(["init", str(master), "--sample", "fy2023", "--server", url, "--server-folder", FOLDER]) == 0
    env = {**os.environ, "XLWINGS_LICENSE_KEY": "noncommercial", "RENKEI_XL_SERVER_KEY": KEY}
    log = root / "server.log"
    with log.open("w", encoding="utf-8") as err:
        proc = subprocess.Popen([sys.executable, "-m", "renkei_xl.cli", "serve", "--host", "127.0.0.1",
                                 "--port", str(port), "--workdir", str(workdir), "--share", SHARE, "--max-mb", "1"],
                                cwd=cwd, env=env, stdout=err, stderr=err)
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the server stopped: {log.read_text(encoding='utf-8')}")
            try:
                if httpx.get(url + "/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not start: {log.read_text(encoding='utf-8')}")
            time.sleep(0.2)
        yield Server(url, workdir, master, log, cwd)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _payload(path: Path) -> dict:
    return payload_from_file(path, client=VBA)


def _named_cell(payload: dict, name: str) -> tuple[list, int, int]:
    """(the sheet's rows, row index, column index) of a defined name in the payload."""
    from renkei_xl.core.contract_read import parse_ref

    entry = next(n for n in payload["names"] if n["name"] == name)
    rows = payload["sheets"][entry["sheet_index"]]["values"]
    r, col = parse_ref(entry["address"].split(":")[0])
    while len(rows) < r:
        rows.append([])
    while len(rows[r - 1]) < col:
        rows[r - 1].append("")
    return rows, r - 1, col - 1


def _set_name(payload: dict, name: str, value) -> dict:
    rows, r, col = _named_cell(payload, name)
    rows[r][col] = value
    return payload


def _alerts(answer: dict) -> list[dict]:
    return [a for a in answer["actions"] if a["func"] == "alert"]


def _only_alert(response: httpx.Response) -> tuple[str, str]:
    assert response.status_code == 200, response.text
    alerts = _alerts(response.json())
    assert len(alerts) == 1, alerts
    return alerts[0]["args"][0], alerts[0]["args"][3]


def _vba_actions() -> dict[str, list[str]]:
    """Action name -> the modules of the master's VBA that define a Sub for it (Remote.bas
    replays an action as ``Application.Run action("func"), wb, action``)."""
    out: dict[str, list[str]] = {}
    for path in (XLWINGS_ADDIN / "Remote.bas", MACROS_DIR / "RenkeiServer.bas"):
        text = path.read_bytes().decode("cp1252")
        for sub in re.findall(r"^Sub (\w+)\(wb As Workbook, action As Dictionary\)", text, re.MULTILINE):
            out.setdefault(sub, []).append(path.stem)
    return out


# --------------------------------------------------------------------- the answers

@pytest.mark.parametrize("entry", ["check", "recalc"])
def test_the_server_writes_what_the_plan_says_and_what_the_command_line_writes(server, entry, tmp_path, fy2023):
    payload = _payload(server.master)
    response = server.post(entry, payload)
    prompt, mode = _only_alert(response)
    assert mode == "info", prompt
    live = LiveView(apply_actions(payload, response.json()["actions"]))
    plan, result = plan_of(entry, server.master)
    file_view = run_file(entry, server.master, tmp_path)
    for sp in plan.sheets:
        expect_sheet(live, sp)
        for what in ATTRIBUTES:   # looks included: fonts, borders, alignment, merges, sizes, ...
            assert live.get(what, sp.name) == file_view.get(what, sp.name), (sp.name, what)
    expect_marks(live, plan)
    if entry == "recalc":
        rows = live.applied.rows(c.LIST)
        header = rows.index(list(c.LIST_COLUMNS))
        assert {r[c.LIST_ID_COL]: r[c.LIST_SYMBOL_COL] for r in rows[header + 1:]} == dict(fy2023.official)
        assert "52／71" in prompt and "73.2%" in prompt
        rate = next(r for r in live.applied.rows(c.SUMMARY) if r[0] == "達成割合")
        assert "73.2%" in rate
        assert result.summary.rate_text == "73.2%"


def test_every_action_the_server_sends_is_one_the_masters_vba_implements(server, tmp_path):
    vba = _vba_actions()
    repeated = {name: mods for name, mods in vba.items() if len(mods) > 1}
    assert not repeated   # Application.Run would not know which one to call
    bad = tmp_path / MASTER_NAME
    shutil.copyfile(server.master, bad)
    with opened(bad) as fs:
        entry = next(e for e in fs.data.entries if e.municipality == "小樽市" and e.value)
    staff_types(bad, "小樽市", entry.cell("value"), BAD_VALUE)
    sent = set()
    for path in (server.master, bad):
        for name in ("check", "recalc", "export", "split", "collect"):
            response = server.post(name, _payload(path))
            assert response.status_code == 200, response.text
            sent |= {a["func"] for a in response.json()["actions"]}
    assert {"setValues", "setFontProperty", "setBorderProperty", "setHorizontalAlignment", "rangeMerge",
            "addConditionalFormat", "freezePaneAtRange", "setPrintArea", "setRangeColor", "alert"} <= sent
    assert sent <= set(vba), sent - set(vba)
    # Everything the live face can write has its Sub, but the chart: a VBA client's payload
    # lists no charts, so the last run's chart could not be removed; the server leaves the
    # 集計 chart out for it (README, docs/staff-setup.md).
    charts = {a for a in KNOWN_ACTIONS if "Chart" in a}
    assert KNOWN_ACTIONS - charts - {"sheetClearContents"} <= set(vba)
    assert not sent & charts


# ------------------------------------------------------------------ the file buttons

def test_file_buttons_work_in_the_folder_named_in_settings(server):
    folder = server.workdir / FOLDER
    shown = SHARE + "\\" + FOLDER
    prompt, mode = _only_alert(server.post("split", _payload(server.master)))
    assert mode == "info", prompt
    split = sorted(p for p in (folder / SPLIT_DIR).iterdir() if p.is_file())
    assert len(split) == 12 and all(p.suffix == ".xlsx" for p in split)
    assert f"{shown}\\{SPLIT_DIR}" in prompt

    prompt, mode = _only_alert(server.post("export", _payload(server.master)))
    assert mode == "info" and f"{shown}\\{EXPORT_DIR}" in prompt, prompt
    assert [p.suffix for p in (folder / EXPORT_DIR).iterdir() if p.is_file()] == [".xlsx"]

    prompt, mode = _only_alert(server.post("collect", _payload(server.master)))
    assert mode == "info" and f"{shown}\\{COLLECT_DIR}" in prompt, prompt
    assert (folder / COLLECT_DIR).is_dir()
    # a municipality returns its file with one value changed: imported through the answer
    returned = next(p for p in split if p.name.startswith("小樽市"))
    wb = load_workbook(returned)
    ws = wb.worksheets[0]
    head = next(cell for row in ws.iter_rows(max_row=c.HEADER_SEARCH_ROWS) for cell in row if cell.value == "実績値")
    target = next(ws.cell(r, head.column) for r in range(head.row + 1, ws.max_row + 1)
                  if isinstance(ws.cell(r, head.column).value, (int, float)))
    ids = next(cell.column for row in ws.iter_rows(max_row=head.row, min_row=head.row) for cell in row
               if cell.value == "指標ID")
    indicator = ws.cell(target.row, ids).value
    target.value = target.value + 1000
    new_value = target.value
    wb.save(folder / COLLECT_DIR / returned.name)
    payload = _payload(server.master)
    response = server.post("collect", payload)
    prompt, mode = _only_alert(response)
    assert mode == "info" and "1 件のファイルを取り込みました" in prompt, prompt
    applied = apply_actions(payload, response.json()["actions"])
    sheet = applied.rows("小樽市")
    h = next(i for i, row in enumerate(sheet) if "実績値" in row)
    col, id_col = sheet[h].index("実績値"), sheet[h].index("指標ID")
    row = next(r for r in sheet[h + 1:] if r[id_col] == indicator)
    assert row[col] == new_value


@pytest.mark.parametrize("value, words", [
    ("", "サーバー作業フォルダー"),
    ("../..", "使えません"),
    ("2023年度/../../..", "使えません"),
    ("/etc", "作業フォルダーの外"),
    ("C:\\Windows", "作業フォルダーの外"),
    ("\\\\other\\share", "作業フォルダーの外"),
    ("2022年度", "ありません"),
])
def test_a_missing_or_escaping_work_folder_is_refused_in_japanese(server, value, words):
    before = sorted(p.relative_to(server.workdir.parent) for p in server.workdir.parent.rglob("*"))
    for entry in ("split", "export", "collect"):
        prompt, mode = _only_alert(server.post(entry, _set_name(_payload(server.master), c.N_SERVER_FOLDER, value)))
        assert mode == "critical" and words in prompt and "Traceback" not in prompt, prompt
    assert sorted(p.relative_to(server.workdir.parent) for p in server.workdir.parent.rglob("*")) == before


def test_the_share_name_as_staff_type_it_is_taken(server):
    payload = _set_name(_payload(server.master), c.N_SERVER_FOLDER, SHARE + "\\" + FOLDER)
    prompt, mode = _only_alert(server.post("export", payload))
    assert mode == "info", prompt


# -------------------------------------------------------------------- many at once

def test_twelve_clients_at_once_get_their_own_answers(server):
    base = _payload(server.master)
    with opened(server.master) as fs:
        entry = next(e for e in fs.data.entries if e.municipality == "小樽市" and e.value)
    sheet_index = next(i for i, s in enumerate(base["sheets"]) if s["name"] == "小樽市")
    from renkei_xl.core.contract_read import parse_ref

    r, col = parse_ref(entry.cell("value"))
    payloads = []
    for i in range(CLIENTS):
        p = _set_name(json.loads(json.dumps(base, ensure_ascii=False)), c.N_REGION, f"テスト圏{i:02d}")
        if i % 2:
            p["sheets"][sheet_index]["values"][r - 1][col - 1] = BAD_VALUE
        payloads.append(p)
    barrier = threading.Barrier(CLIENTS)

    def click(i: int):
        barrier.wait()
        start = time.perf_counter()
        response = server.post("recalc", payloads[i])
        return response, time.perf_counter() - start

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(click, range(CLIENTS)))
    for i, (response, _seconds) in enumerate(answers):
        prompt, mode = _only_alert(response)
        assert mode == "info", prompt
        assert ("エラー 1 件" if i % 2 else "エラー 0 件") in prompt, (i, prompt)
        applied = apply_actions(payloads[i], response.json()["actions"])
        title = applied.rows(c.LIST)[0][0]
        assert f"テスト圏{i:02d}" in title, (i, title)
        assert sum(f"テスト圏{j:02d}" in json.dumps(response.json(), ensure_ascii=False)
                   for j in range(CLIENTS)) == 1


# ----------------------------------------------------------------------- refusals

def _big_payload(server) -> dict:
    payload = _payload(server.master)
    payload["sheets"].append({"name": "大きい", "values": [["あ" * 1000] * 200] * 3, "pictures": [], "tables": []})
    return payload


REFUSALS = {
    "wrong key": (lambda s: s.post("recalc", _payload(s.master), headers={**HEADERS, "Authorization": "wrong-key"}),
                  401, "鍵"),
    "no key": (lambda s: s.post("recalc", _payload(s.master), headers={"X-Renkei-Client": "1"}), 401, "鍵"),
    "malformed JSON": (lambda s: s.post("recalc", content=b'{"client": "VBA", "sheets": [}'), 400, "読めません"),
    "not UTF-8": (lambda s: s.post("recalc", content=b'{"client": "\xff"}'), 400, "読めません"),
    "not an xlwings payload": (lambda s: s.post("check", {"sheets": 3}), 400, "形式"),
    "rows that are not lists": (lambda s: s.post("check", {**_payload(s.master), "sheets": [{"name": "設定", "values": 5}]}),
                                400, "形式"),
    "not a master": (lambda s: s.post("recalc", {**_payload(s.master), "sheets": [
        {"name": "Sheet1", "values": [["a"]], "pictures": [], "tables": []}], "names": []}), 422, "マスターではありません"),
    "oversized": (lambda s: s.post("recalc", _big_payload(s)), 413, "大きすぎ"),
    "a sheet past what xlwings' VBA client can count": (lambda s: s.post("check", {**_payload(s.master), "sheets": [
        *_payload(s.master)["sheets"], {"name": "貼り付け", "values": [[""]] * 32_768, "pictures": [], "tables": []}]}),
        413, "シート「貼り付け」"),
    "another xlwings version": (lambda s: s.post("recalc", {**_payload(s.master), "version": "0.1.0"}), 409, "upgrade-macros"),
    "book name climbing out": (lambda s: s.post("split", {**_payload(s.master), "book": {
        "name": "../../../etc/マスター.xlsm", "active_sheet_index": 0, "selection": "A1"}}), 422, "ファイル名"),
    "book name with a Windows path": (lambda s: s.post("export", {**_payload(s.master), "book": {
        "name": "..\\..\\マスター.xlsm", "active_sheet_index": 0, "selection": "A1"}}), 422, "ファイル名"),
    "absolute book name": (lambda s: s.post("collect", {**_payload(s.master), "book": {
        "name": "C:\\Users\\マスター.xlsm", "active_sheet_index": 0, "selection": "A1"}}), 422, "ファイル名"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refusals_are_japanese_with_no_traceback(server, case):
    send, status, words = REFUSALS[case]
    before = sorted(p.relative_to(server.workdir.parent) for p in server.workdir.parent.rglob("*"))
    response = send(server)
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("text/plain")
    assert JAPANESE.search(response.text) and words in response.text, response.text
    assert "Traceback" not in response.text and "File \"" not in response.text
    assert sorted(p.relative_to(server.workdir.parent) for p in server.workdir.parent.rglob("*")) == before


def test_the_buttons_are_the_contracts_buttons(server):
    entries = button_entries()
    listed = httpx.get(server.url + "/", timeout=10).json()["buttons"]
    assert listed == [entries[macro] for _caption, macro, _ in c.BUTTONS]
    assert httpx.post(f"{server.url}/buttons/nothing", headers=HEADERS, content=b"{}", timeout=10).status_code == 404


# ------------------------------------------------------- what the server keeps

def test_the_log_holds_time_button_user_and_outcome_only(server):
    server.post("check", _payload(server.master))
    text = server.log.read_text(encoding="utf-8")
    lines = text.strip().splitlines()
    assert "Traceback" not in text
    line = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (INFO|ERROR) (?:"
                      r"renkei-xl server on .*"
                      r"|button=\S+ user=.+ outcome=\S+ status=\d{3}(?: \d+ms)?"
                      r"|outcome=\S+ status=413)")
    assert all(line.fullmatch(l) for l in lines), [l for l in lines if not line.fullmatch(l)]
    assert f"button={c.CHECK} user={USER} outcome=完了 status=200" in text
    assert "outcome=鍵が違う status=401" in text
    for secret in (KEY, "さっぽろ", "札幌市", BAD_VALUE, MASTER_NAME):   # nothing of a request's content
        assert secret not in text


def test_the_server_keeps_no_copy_of_a_workbook(server):
    server.post("recalc", _payload(server.master))
    assert not any(server.cwd.iterdir())
    assert [p.name for p in server.workdir.iterdir()] == [FOLDER]
    folder = server.workdir / FOLDER
    kept = {p.name for p in folder.iterdir()}
    locks = {p.name for p in folder.iterdir() if p.name.endswith(".renkei-lock")}   # the writers' lock, empty
    assert all((folder / name).stat().st_size == 0 for name in locks)
    assert kept - locks == {MASTER_NAME, SPLIT_DIR, EXPORT_DIR, COLLECT_DIR}
    assert server.master.read_bytes()[:2] == b"PK"


# ---------------------------------------------------------- the master's macros

def test_init_server_writes_buttons_that_call_the_server(server):
    modules = _olevba_modules(server.master)
    # the call, and the URL it was built for (the xlwings.conf row decides when present)
    assert 'server = GetConfig("RENKEI_SERVER", BUILT_FOR_SERVER)' in modules["Renkei"]
    assert f'Private Const BUILT_FOR_SERVER As String = "{server.url}"' in modules["Renkei"]
    assert "RunServerPython url, headers:=headers" in modules["RenkeiServer"]
    assert "Function RunServerPython(" in modules["Remote"]
    assert 'url & "/buttons/" & entry' in modules["RenkeiServer"]
    rows = conf_rows(server.master)
    assert ["RENKEI_SERVER", server.url] in [r[:2] for r in rows]
    assert load_workbook(server.master)[c.SETTINGS]
    with opened(server.master) as fs:
        assert fs.data.settings.fiscal_year == 2023
    from renkei_xl.core.contract_read import Book, server_folder

    with opened(server.master) as fs:
        assert server_folder(Book(dict(fs.sheets), fs.state.names))[0] == FOLDER


def test_upgrade_macros_server_switches_a_local_master(tmp_path):
    path = tmp_path / "local.xlsm"
    assert cli_main(["init", str(path), "--sample", "fy2023"]) == 0
    assert "RENKEI_SERVER" not in [r[0] for r in conf_rows(path)]
    assert cli_main(["upgrade-macros", str(path), "--server", "http://renkei-server:8000/"]) == 0
    rows = [r[:2] for r in conf_rows(path)]
    assert rows[:2] == [["Show Console", False], ["RENKEI_SERVER", "http://renkei-server:8000"]]
    assert cli_main(["upgrade-macros", str(path), "--server", "http://other:9000"]) == 0
    assert [r[:2] for r in conf_rows(path)][:2] == [["Show Console", False], ["RENKEI_SERVER", "http://other:9000"]]
    assert 'BUILT_FOR_SERVER As String = "http://other:9000"' in _olevba_modules(path)["Renkei"]
    assert cli_main(["upgrade-macros", str(path), "--server", "ftp://x"]) == 2


def test_libreoffice_binds_the_buttons_of_a_server_master(server, tmp_path):
    require_soffice()
    run = subprocess.run(["/usr/bin/python3", str(Path(__file__).with_name("uno_probe.py")), str(server.master),
                          str(tmp_path / "lo_profile")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    probe = json.loads(run.stdout)
    library = probe["libraries"]["VBAProject"]
    assert {"Renkei", "RenkeiServer", "Remote", "WebClient", "WebHelpers"} <= set(library)
    assert [(b["label"], [e["code"] for e in b["events"]]) for b in probe["buttons"][c.MENU]] == [
        (caption, [f"vnd.sun.star.script:VBAProject.{macro}?language=Basic&location=document"])
        for caption, macro, _ in c.BUTTONS]


def test_serve_refuses_to_start_without_key_licence_or_folder(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("RENKEI_XL_SERVER_KEY", "XLWINGS_LICENSE_KEY")}
    cases = [({}, "XLWINGS_LICENSE_KEY"),
             ({"XLWINGS_LICENSE_KEY": "noncommercial"}, "鍵がありません"),
             ({"XLWINGS_LICENSE_KEY": "noncommercial", "RENKEI_XL_SERVER_KEY": "short"}, "短すぎ")]
    for extra, words in cases:
        run = subprocess.run([sys.executable, "-m", "renkei_xl.cli", "serve", "--workdir", str(tmp_path)],
                             env={**env, **extra}, capture_output=True, text=True, timeout=60)
        assert run.returncode == 2 and words in run.stderr and "Traceback" not in run.stderr, run.stderr
    run = subprocess.run([sys.executable, "-m", "renkei_xl.cli", "serve", "--workdir", str(tmp_path / "none")],
                         env={**env, "XLWINGS_LICENSE_KEY": "noncommercial", "RENKEI_XL_SERVER_KEY": KEY},
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "作業フォルダー" in run.stderr, run.stderr


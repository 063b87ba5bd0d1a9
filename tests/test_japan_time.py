"""Every time the tool records or judges is Japan time (UTC+09:00), whatever zone the machine
keeps (renkei_xl.clock). The server IT runs `renkei-xl serve` on is often kept in UTC (a
Linux server, a container) or any zone at all: there a click at 10:15 was recorded as
最終実行 01:15, in 取込履歴, in an input file's issue time and in a backup's name, and a click
at 08:00 on 1 April judged the day as 31 March, the fiscal year before.

Each test sets the zone the process reads (TZ, time.tzset) and looks at what the command
line, a served click or the log wrote; a run in a child process reads its own TZ
(tests/forked_cli.py)."""

from __future__ import annotations

import datetime as dt
import email
import re
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from test_buttons import licensed  # noqa: F401  (the remote engine's licence fixture)
from renkei_xl import clock
from renkei_xl.cli import main as cli_main
from renkei_xl.core import contract as c

JAPAN = dt.timezone(dt.timedelta(hours=9))
# 08:00 on 1 April 2024 in Japan: 23:00 on 31 March in UTC, 19:00 on 31 March in New York (EDT).
APRIL_FIRST_8AM = dt.datetime(2024, 3, 31, 23, 0, tzinfo=dt.timezone.utc).timestamp()
ZONES = ["UTC", "America/New_York", "Pacific/Kiritimati"]     # behind Japan, with DST, ahead of it


@pytest.fixture
def zone(monkeypatch):
    """Set the machine's zone for this process: zone(name)."""
    if not hasattr(time, "tzset"):
        pytest.skip("TZ is read only on POSIX")      # the server and CI are Linux

    def setting(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield setting
    monkeypatch.undo()
    time.tzset()


def _japan_now() -> dt.datetime:
    return dt.datetime.now(JAPAN).replace(tzinfo=None, microsecond=0)


def _between(when: dt.datetime, before: dt.datetime, after: dt.datetime) -> bool:
    return before - dt.timedelta(seconds=1) <= when <= after + dt.timedelta(seconds=1)


@pytest.mark.parametrize("name", ZONES)
def test_the_clock_says_japan_time_in_any_zone(zone, monkeypatch, name):
    zone(name)
    monkeypatch.setattr(clock, "_instant", lambda: APRIL_FIRST_8AM)
    assert clock.now() == dt.datetime(2024, 4, 1, 8, 0)
    assert clock.aware().isoformat() == "2024-04-01T08:00:00+09:00"
    saved = dt.datetime(2024, 3, 31, 23, 0, tzinfo=dt.timezone.utc)      # a return's save time, in UTC
    assert clock.local(saved) == dt.datetime(2024, 4, 1, 8, 0)


def test_a_split_at_8am_on_1_april_on_a_utc_server_is_of_1_april(zone, monkeypatch, tmp_path, capsys):
    """The fiscal-year boundary: 08:00 on 1 April in Japan is 31 March on the server's UTC
    clock. A deadline of 31 March was taken as today's (on every letter and input file, a
    day already past), and the files were issued at 「2024-03-31 23:00」, the year before."""
    master = tmp_path / "マスター.xlsx"
    assert cli_main(["init", str(master), "--sample", "fy2023"]) == 0
    zone("UTC")
    monkeypatch.setattr(clock, "_instant", lambda: APRIL_FIRST_8AM)
    capsys.readouterr()
    assert cli_main(["split", str(master), "--outdir", str(tmp_path / "out"), "--deadline", "2024-03-31"]) != 0
    said = capsys.readouterr()
    assert "回答期限 2024年3月31日（日） は今日（2024年4月1日（月））より前の日付です" in said.out + said.err, said
    assert not (tmp_path / "out").exists()
    assert cli_main(["split", str(master), "--outdir", str(tmp_path / "out")]) == 0
    issued = _issued(next((tmp_path / "out").glob("*.xlsx")))
    assert issued == "2024-04-01 08:00:00"


@pytest.mark.parametrize("name", ["UTC", "Asia/Tokyo"])
def test_an_input_file_says_it_was_saved_when_it_was_issued(zone, monkeypatch, tmp_path, name):
    """The issue time goes into the input file's own save time (docProps, UTC, which XlsxWriter
    writes with a 「Z」). It went in as Japan's wall time and read back nine hours late: a file
    returned unsaved ranked as a submission saved in the future, and a correction saved within
    those hours was refused as older. Read back, it is the issue time, in any zone."""
    from renkei_xl.workbook.returned import ReturnedBook

    master = tmp_path / "マスター.xlsx"
    assert cli_main(["init", str(master), "--sample", "fy2023"]) == 0
    zone(name)
    monkeypatch.setattr(clock, "_instant", lambda: APRIL_FIRST_8AM)
    assert cli_main(["split", str(master), "--outdir", str(tmp_path / "out")]) == 0
    path = next((tmp_path / "out").glob("*.xlsx"))
    with zipfile.ZipFile(path) as z:
        assert b"2024-03-31T23:00:00Z" in z.read("docProps/core.xml")
    assert ReturnedBook(path.read_bytes(), path.name).modified == dt.datetime(2024, 4, 1, 8, 0)


def _issued(path: Path) -> str:
    wb = load_workbook(path)
    return next(p.value for p in wb.custom_doc_props.props if p.name == "RenkeiIssued")


def _named_value(path: Path, name: str):
    wb = load_workbook(path)
    ((sheet, ref),) = wb.defined_names[name].destinations
    return wb[sheet][ref.replace("$", "")].value


@pytest.mark.parametrize("name", ["UTC", "America/New_York"])
def test_the_command_line_records_japan_time_on_a_machine_in_another_zone(zone, tmp_path, name):
    """Each command a child process of its own with TZ set, as on the server: the issue time,
    the mail's Date, the backup's name, 取込日時 and 提出日時 in 取込履歴, and メニュー's 最終実行."""
    from test_hostile_files import run_cli

    zone(name)
    master = tmp_path / "マスター.xlsx"
    before = _japan_now()
    for args in (["init", str(master), "--sample", "fy2023"], ["split", str(master), "--outdir", "out", "--eml"]):
        run = run_cli(args, tmp_path)
        assert run.code == 0, run
    returned = sorted((tmp_path / "out").glob("*.xlsx"))[0]
    wb = load_workbook(returned)
    wb.save(returned)                      # a save time (UTC in the file) as the municipality saves it
    for args in (["collect", str(master), str(returned)], ["recalc", str(master)]):
        run = run_cli(args, tmp_path)
        assert run.code == 0, run
    after = _japan_now()

    assert _between(dt.datetime.fromisoformat(_issued(returned)), before, after), (_issued(returned), before)
    eml = next((tmp_path / "out").glob("*.eml"))
    date = email.utils.parsedate_to_datetime(email.message_from_bytes(eml.read_bytes())["Date"])
    assert date.utcoffset() == dt.timedelta(hours=9), date
    assert _between(date.replace(tzinfo=None), before, after), (date, before)
    stamps = [re.search(r"_(\d{8}-\d{6})", p.name).group(1) for p in master.parent.glob("*_バックアップ/*")]
    assert stamps and all(_between(dt.datetime.strptime(s, "%Y%m%d-%H%M%S"), before, after) for s in stamps), stamps
    log = load_workbook(master)[c.IMPORT_LOG]
    rows = [r for r in log.iter_rows(values_only=True) if r[0] == returned.name]
    assert len(rows) == 1
    imported, submitted = rows[0][2], rows[0][5]
    assert _between(imported, before, after) and _between(submitted, before, after), (rows, before)
    last_run = _named_value(master, c.N_LAST_RUN)
    assert _between(last_run, before, after), (last_run, before)


def test_a_click_served_by_a_server_kept_in_utc_records_japan_time(zone, tmp_path, licensed):  # noqa: F811
    """`renkei-xl serve` started with TZ=UTC, a staff click on 入力チェック: メニュー's 最終実行
    as the answer writes it, and the server log's line for the click, are Japan time."""
    from remote_payload import apply_actions
    from test_server import _named_cell, _only_alert, _payload, serving

    zone("UTC")
    with serving(tmp_path) as server:
        payload = _payload(server.master)
        before = _japan_now()
        response = server.post("check", payload)
        after = _japan_now()
        _prompt, mode = _only_alert(response)
        assert mode == "info"
        _rows, r, col = _named_cell(payload, c.N_LAST_RUN)
        sheet = payload["sheets"][next(n for n in payload["names"] if n["name"] == c.N_LAST_RUN)["sheet_index"]]["name"]
        written = apply_actions(payload, response.json()["actions"]).grids[sheet][(r + 1, col + 1)]
        last_run = written if isinstance(written, dt.datetime) else dt.datetime.fromisoformat(str(written))
        assert _between(last_run, before, after), (written, before)
        deadline = time.monotonic() + 20
        while not (lines := [ln for ln in server.log.read_text(encoding="utf-8").splitlines() if "request=" in ln]):
            assert time.monotonic() < deadline, "no line for the click in the log"
            time.sleep(0.1)
    logged = dt.datetime.fromisoformat(lines[-1].split(" INFO ")[0])
    assert logged.utcoffset() == dt.timedelta(hours=9), lines[-1]
    assert _between(logged.replace(tzinfo=None), before, after), (lines[-1], before)

"""The server's request log as a file of its own (``renkei-xl serve --log``), on a Windows
server where standard error is the service manager's file in the ANSI code page.

A real ``renkei-xl serve`` in a subprocess, its standard error forced to cp932
(PYTHONIOENCODING, what Python 3.11 uses on Japanese Windows when standard error is not a
console), real HTTP requests. The request log was standard error: in cp932, beside a UTF-8
error log, a book named with 𠮷 written as ``\\U00020bb7``, and under NSSM a file moved aside
but never deleted.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import xlwings

from renkei_xl import errorlog
from renkei_xl.server import log as server_log
from ports import wait_accepted
from serve_refusal import serve_in_process
from test_buttons import licensed  # noqa: F401  (the remote engine's licence fixture)
from test_server import HEADERS, KEY, _free_port, configured_log, http_get, http_post  # noqa: F401 (a fixture)

BOOK = "𠮷田_マスター.xlsm"         # 𠮷 (U+20BB7) is not in cp932
USER = "𠮷野 ①子"
SPLIT = "\\U00020bb7"               # what cp932's backslashreplace makes of 𠮷


def _cp932_env() -> dict:
    return {**os.environ, "XLWINGS_LICENSE_KEY": "noncommercial", "RENKEI_XL_SERVER_KEY": KEY,
            "PYTHONIOENCODING": "cp932", "PYTHONUTF8": "0"}


@contextlib.contextmanager
def _serving(tmp_path: Path, *args: str):
    """``renkei-xl serve`` with ``args``, its standard error (cp932) in ``stderr.bin``:
    (port, that file) once it answers."""
    workdir = tmp_path / "work"
    workdir.mkdir(exist_ok=True)
    port, stderr = _free_port(), tmp_path / "stderr.bin"
    with stderr.open("ab") as err:
        proc = subprocess.Popen([sys.executable, "-m", "renkei_xl.cli", "serve", "--host", "127.0.0.1",
                                 "--port", str(port), "--workdir", str(workdir), *args],
                                env=_cp932_env(), stdout=err, stderr=err)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, stderr.read_bytes()
            with contextlib.suppress(httpx.HTTPError):
                if http_get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        yield port, stderr
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _not_a_master(port: int) -> str:
    """A click from a book named BOOK by USER that is no master (refused, 「マスターでない」,
    after its name is read): its 受付番号."""
    payload = ('{"client": "VBA", "version": "%s", "book": {"name": "%s", "active_sheet_index": 0}, '
               '"names": [], "sheets": [{"name": "Sheet1", "values": [[1]]}]}') % (xlwings.__version__, BOOK)
    user = USER.encode("utf-16-be").hex().upper()
    answer = http_post(f"http://127.0.0.1:{port}/buttons/check", content=payload.encode("utf-8"), timeout=30,
                       headers={**HEADERS, "X-Renkei-User": user, "Content-Type": "application/json"})
    assert answer.status_code == 422 and "マスターではありません" in answer.text, answer.text
    return answer.text.rsplit("受付番号 ", 1)[1][:8]


def _lines_with(path: Path, needle: str, timeout: float = 20) -> list[str]:
    """The lines of the UTF-8 file holding ``needle``, once there are some (the guard writes
    a request's line after its answer)."""
    deadline = time.monotonic() + timeout
    while True:
        text = path.read_bytes().decode("utf-8") if path.exists() else ""
        found = [line for line in text.splitlines() if needle in line]
        if found or time.monotonic() > deadline:
            return found


def test_the_request_log_is_a_utf8_file_whatever_standard_errors_code_page(tmp_path):
    """Standard error in cp932 (a Windows service): the request lines go to the --log file in
    UTF-8, 𠮷 and the outcomes as written; standard error has only the start line, in UTF-8
    too (the path of the logs holds 𠮷)."""
    folder = tmp_path / "ログ𠮷"
    log, error_log = folder / "記録.log", folder / "エラー.log"
    with _serving(tmp_path, "--workers", "2", "--log", str(log), "--error-log", str(error_log)) as (port, stderr):
        refused = http_post(f"http://127.0.0.1:{port}/buttons/check", content=b"{}", timeout=10,
                            headers={"Authorization": "wrong-key-0123456789"})
        number = _not_a_master(port)
        said = _lines_with(log, f"request={number}")
        assert refused.status_code == 401 and _lines_with(log, "outcome=鍵が違う status=401")
    assert len(said) == 1 and f"book={BOOK} " in said[0] and "outcome=マスターでない status=422" in said[0], said
    assert f'user="{USER}"' in said[0], said
    text = log.read_bytes().decode("utf-8")
    assert SPLIT.lower() not in text.lower() and "renkei-xl サーバーを停止しました" in text, text
    err = stderr.read_bytes().decode("utf-8")      # not cp932: a UnicodeDecodeError here
    assert [line for line in err.splitlines() if line.strip()] == [
        f"renkei-xl サーバーを起動しました: http://127.0.0.1:{port} 作業フォルダー {(tmp_path / 'work').resolve()}、"
        f"ワーカー 2、記録 {log}、エラーログ {error_log}"], err


def test_the_request_log_rotates_by_size_keeping_a_fixed_number(tmp_path):
    """NSSM's AppRotateFiles moves its file aside but deletes none: the log grew without end.
    The server's own file is moved to .1 (… .5) past --log-mb, the oldest dropped."""
    log = tmp_path / "logs" / "requests.log"
    with _serving(tmp_path, "--log", str(log), "--error-log", str(tmp_path / "logs" / "error.log"),
                  "--log-mb", "0.002") as (port, _stderr):
        numbers = [_not_a_master(port) for _ in range(80)]
        assert _lines_with(log, f"request={numbers[-1]}")
    files = sorted(p.name for p in log.parent.glob("requests.log*"))
    assert files == ["requests.log", *(f"requests.log.{n}" for n in range(1, 6)), "requests.log.lock"], files
    limit = int(0.002 * 1024 * 1024)
    sizes = [p.stat().st_size for p in log.parent.glob("requests.log*")]
    assert all(size < limit + 600 for size in sizes), sizes          # a file past the size by one line at most
    kept = "".join(p.read_bytes().decode("utf-8") for p in log.parent.glob("requests.log*"))
    assert f"request={numbers[0]} " not in kept and f"request={numbers[-1]} " in kept
    assert BOOK in kept


def test_a_request_log_that_cannot_be_written_goes_to_standard_error_said_once(tmp_path):
    """The log's folder gone after the start (a drive removed, a folder deleted): each worker's
    request lines go to standard error, in UTF-8, after one line saying why."""
    folder = tmp_path / "logs"
    log = folder / "requests.log"
    with _serving(tmp_path, "--workers", "2", "--log", str(log),
                  "--error-log", str(tmp_path / "error.log")) as (port, stderr):
        # The start's probe answered is written after its answer: wait for its line, or a
        # worker may write it in the instant between the folder gone and the file in its place.
        assert _lines_with(log, "outcome=稼働確認")
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
        folder.write_text("a file where the folder was")
        numbers = [_not_a_master(port) for _ in range(6)]
        for number in numbers:
            assert _lines_with(stderr, f"request={number}")
    err = stderr.read_bytes().decode("utf-8")
    said = [line for line in err.splitlines() if "に書き込めません" in line]
    # Once in each process that logs (two workers, and the supervisor's stop line), not once a line.
    assert 1 <= len(said) <= 3 and all(f"記録のファイル「{log}」" in line for line in said), err
    # why, in Japanese: the system's own words were shown (「（Not a directory）」; a line a
    # worker wrote while the folder was gone and the file not yet there says 「（見つかりません）」,
    # and the supervisor's stop line, written with the file in place, says the former always)
    reasons = ("に書き込めません（途中がフォルダーではありません）", "に書き込めません（見つかりません）")
    assert all(any(reason in line for reason in reasons) for line in said), err
    assert any(reasons[0] in line for line in said), err
    assert all(f"book={BOOK} " in line for line in err.splitlines() if "request=" in line and "status=422" in line), err
    assert "Traceback" not in err, err


def test_a_request_log_in_the_work_folder_or_not_writable_is_refused_at_start(tmp_path):
    workdir = tmp_path / "work"
    workdir.mkdir()
    (tmp_path / "a-file").write_text("not a folder")
    env = _cp932_env()
    cases = [(workdir / "logs" / "requests.log", "が作業フォルダーの中です"),
             (tmp_path / "a-file" / "requests.log", "に書き込めません"),
             (tmp_path / "error.log", "同じファイル")]
    for n, (log, words) in enumerate(cases):
        args = ["--workdir", str(workdir), "--port", str(_free_port()), "--log", str(log),
                "--error-log", str(tmp_path / "error.log")]
        if n == 0:      # one as a process: its line in UTF-8 though standard error is cp932
            run = subprocess.run([sys.executable, "-m", "renkei_xl.cli", "serve", *args],
                                 env=env, capture_output=True, timeout=60)
            status, err = run.returncode, run.stderr.decode("utf-8")
        else:
            status, err = serve_in_process(args, env)
        assert status == 2 and words in err and "Traceback" not in err, err
        assert "--log" in err and "記録のファイル" in err, err
    assert not (workdir / "logs").exists()
    status, err = serve_in_process(["--workdir", str(workdir), "--log-mb", "0"], env)
    assert status == 2 and "--log-mb 0 は使えません" in err, err


def test_without_log_the_request_log_goes_beside_the_error_log_given(tmp_path, monkeypatch):
    """`--log`'s help says its default is the error log's folder: with `--error-log` given (every
    install made before --log existed, such as the NSSM example's), the request log went to
    the service account's own folder instead (%LOCALAPPDATA%), which IT had not chosen."""
    folder, home = tmp_path / "ログ", tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))                  # where the service account's own folder is
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    with _serving(tmp_path, "--error-log", str(folder / "error.log")) as (port, stderr):
        number = _not_a_master(port)
        assert _lines_with(folder / "renkei-xl-server.log", f"request={number}")
    assert not (home / "state").exists()
    err = stderr.read_bytes().decode("utf-8")
    assert f"記録 {folder / 'renkei-xl-server.log'}、エラーログ {folder / 'error.log'}" in err, err


def _held_and_written(lines: list[str], outcome: str) -> tuple[int, int]:
    """(the lines of ``outcome``, the requests or records they say were held back: repeats=)."""
    import re

    said = [line for line in lines if f"outcome={outcome} " in line]
    return len(said), sum(int(m.group(1)) for line in said for m in [re.search(r" repeats=(\d+)", line)] if m)


@pytest.mark.parametrize("stop, workers, group", [
    (signal.SIGTERM, 1, False),       # systemctl stop, kill
    (signal.SIGINT, 1, True),         # Ctrl+C in its console: to the console's processes, all of them
    (signal.SIGTERM, 2, False),       # the supervisor stops its workers with SIGTERM
    (signal.SIGINT, 2, True),
], ids=["sigterm-1", "ctrl-c-1", "sigterm-2-workers", "ctrl-c-2-workers"])
def test_the_counts_held_back_are_written_when_the_server_stops_within_their_minute(tmp_path, stop, workers, group):
    """A scanner's 25 requests to paths that are no button are 10 lines and a count of 15 held back
    (server.log.Quiet), written when their minute ends; 300 idle connections a worker past its
    256 are one line of uvicorn's record and a count (server.log.OnceAMinute). The server
    stopped within the minute (Ctrl+C, the service stopped) and the log had the 10 lines and
    the one, and nothing of the rest: the timers of the minute's end die with the process. The
    counts are now written as each process's serving ends, before the stop line, in a real
    ``renkei-xl serve`` stopped by the signal, with one worker and with two."""
    workdir, log, error_log = tmp_path / "work", tmp_path / "logs" / "requests.log", tmp_path / "logs" / "error.log"
    workdir.mkdir()
    port, sent = _free_port(), 25
    env = {**os.environ, "XLWINGS_LICENSE_KEY": "noncommercial", "RENKEI_XL_SERVER_KEY": KEY}
    with (tmp_path / "stderr.log").open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "renkei_xl.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--workdir", str(workdir), "--workers", str(workers), "--log", str(log),
                                 "--error-log", str(error_log)], env=env, stdout=err, stderr=err,
                                start_new_session=True)
    idle: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "stderr.log").read_text()
            with contextlib.suppress(httpx.HTTPError):
                if http_get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        with httpx.Client() as client:        # one connection: one worker, one client's count
            for n in range(sent):      # not wrong keys: past 10 a minute those are held (server.guesses)
                assert client.get(f"http://127.0.0.1:{port}/wp-login-{n}.php", timeout=10).status_code == 404
        for _ in range(300 * workers):        # sending nothing: past the limit, the oldest are closed
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        # Every one accepted (each past the bound closing one as it is), then counted as the
        # closes arrive: a second's sleep stood in for both, which a loaded machine outran.
        wait_accepted(port)
        for sock in idle:
            sock.setblocking(False)
        closed, left, last = 0, list(idle), time.monotonic()
        deadline = last + 30
        while closed < (300 - 256) * workers or time.monotonic() - last < 0.3:   # none more arriving
            assert time.monotonic() < deadline, closed
            for sock in list(left):
                try:
                    gone = sock.recv(1) == b""
                except BlockingIOError:
                    gone = False
                except ConnectionResetError:
                    gone = True
                if gone:
                    closed, last = closed + 1, time.monotonic()
                    left.remove(sock)
            time.sleep(0.02)
        assert closed >= (300 - 256) * workers, closed
        assert _lines_with(log, "outcome=宛先なし")
        time.sleep(0.5)                       # the guard's lines are written after the answers
        if group:
            os.killpg(proc.pid, stop)
        else:
            proc.send_signal(stop)
        assert proc.wait(timeout=60) == 0, (tmp_path / "stderr.log").read_text()
    finally:
        for sock in idle:
            sock.close()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    lines = log.read_text(encoding="utf-8").splitlines()
    stopped = max(n for n, line in enumerate(lines) if "renkei-xl サーバーを停止しました" in line)
    written, held = _held_and_written(lines[:stopped], "宛先なし")
    assert (written, held) == (10 + 1, sent - 10), lines        # 10 lines, and one with the count of the others
    written, held = _held_and_written(lines[:stopped], "接続数の上限")
    assert written + held == closed and written <= 2 * workers and held, (closed, lines)


def test_a_traceback_quoting_the_key_or_millions_of_characters_is_kept_without_either(tmp_path, configured_log):
    """The key is in no line of the request log, whichever field a client sends it in; an
    exception's message quoting it (a book, sheet or path name, a value a client with the
    key sent) put it in the error log as it came: tracebacks were escaped, never hidden.
    And one quoting 2 million characters was escaped whole (a string a character, 30 times
    the message) before the log file cut the record, on the event loop for the guard's."""
    import tracemalloc
    import traceback

    from renkei_xl.errorlog import RECORD_CHARS
    from renkei_xl.server import log as server_log

    error_log = tmp_path / "error.log"
    configured_log(error_log)
    server_log.keep_out(KEY)
    def logged(quoted: str) -> int:
        """Where ``quoted`` begins in the traceback logged."""
        try:
            raise ValueError(quoted)
        except ValueError:
            server_log.error("0123abcd", "入力チェック")
            return len(traceback.format_exc()) - len(quoted) - 1

    start = logged(f"シート「{KEY}」がありません")
    logged("x" * (RECORD_CHARS - start - 5) + KEY)         # the key across the cut
    text = error_log.read_text(encoding="utf-8")
    assert KEY[:5] not in text and server_log.KEY_SHOWN in text, text[-500:]
    said = "\u2460" * 2_000_000
    tracemalloc.start()
    try:
        try:
            raise ValueError(said)
        except ValueError:
            server_log.error("4567cdef", "入力チェック")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * len(said.encode("utf-8")), peak
    record = error_log.read_text(encoding="utf-8").split("request=4567cdef", 1)[1]
    assert len(record) < RECORD_CHARS + 300 and "文字を省略" in record, len(record)


def test_a_record_of_uvicorn_or_asyncio_quoting_the_key_across_its_cut_leaves_none_of_it(configured_log, tmp_path):
    """uvicorn's and asyncio's records are a line each, their first line cut to 300
    characters (server.log.Forwarded): the key hidden after the cut, one across it left its
    beginning in the request log."""
    import logging

    from renkei_xl.server import log as server_log

    records = configured_log(tmp_path / "error.log")
    server_log.keep_out(KEY)
    record = logging.LogRecord("asyncio", logging.ERROR, __file__, 1, "Exception in callback %s", ("y" * 260 + KEY,), None)
    server_log.Forwarded().emit(record)
    said = [r.getMessage() for r in records if r.name == server_log.LOGGER]
    assert said and not any(KEY[:5] in text for text in said) and server_log.KEY_SHOWN in said[0], said


# A child that logs one record through each of the tool's log writers with the file-size limit
# (RLIMIT_FSIZE) set just past what the file holds, so that the disk "fills" in the middle of
# the record, as a full disk does (the kernel takes what fits, then refuses: ENOSPC, EFBIG);
# then, the limit lifted (room again), the next record.
_CUT_BY_THE_DISK = r'''
import logging, resource, sys
from pathlib import Path
from renkei_xl import errorlog
from renkei_xl.server import log as server_log
from renkei_xl.server import log as server_log

kind, path = sys.argv[1], Path(sys.argv[2])
room = path.stat().st_size + 20       # the record's first 20 bytes fit
if kind == "errorlog":
    def write(text):
        try:
            raise ValueError(text)
        except ValueError:
            return errorlog.log_error(path, f"renkei-xl {text}")
else:
    handler = server_log.LogFile(path, 10**9, failed=lambda handler, record, exc: print("failed", exc.errno))
    handler.setFormatter(server_log._Formatter(server_log.LOG_FORMAT))
    logger = logging.getLogger("cut")
    logger.addHandler(handler)
    logger.propagate = False
    def write(text):
        logger.warning("%s", text)
unlimited = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
resource.setrlimit(resource.RLIMIT_FSIZE, (room, unlimited))
write("request=aaaa1111 outcome=完了 the record the disk cut")
resource.setrlimit(resource.RLIMIT_FSIZE, (unlimited, unlimited))
write("request=bbbb2222 outcome=完了 the record after it")
'''


@pytest.mark.parametrize("kind", ["server", "errorlog"])
def test_a_record_the_disk_cut_is_taken_back_and_the_next_record_is_a_line_of_its_own(tmp_path, kind):
    """The disk filled in the middle of a record (a full disk, a quota, a file-size limit: a
    real one here, RLIMIT_FSIZE in a child): its first bytes stayed in the file without a
    line end, and the next record, once there was room, was glued to them: 「… WARNING
    request=2026-12-06 … WARNING request=bbbb2222 …」, one line naming two records, the first
    of which the log did not hold. The request log, the server's error log (both
    server.log.LogFile) and the command line's error log (errorlog.log_error) keep whole
    records only, and a record starts a line of its own."""
    path = tmp_path / "requests.log"
    path.write_bytes("2026-12-06 10:00:00+09:00 INFO request=00000000 outcome=完了\n".encode("utf-8"))
    done = subprocess.run([sys.executable, "-c", _CUT_BY_THE_DISK, kind, str(path)], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    text = path.read_bytes().decode("utf-8")
    record = re.compile(r"(?:--- )?\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+09:00 (?:INFO|WARNING|renkei-xl) ")
    records = [line for line in text.splitlines() if not line.startswith(errorlog.TRACE_INDENT)]
    assert all(record.match(line) for line in records), text      # a record's first line, or a traceback's
    assert "aaaa1111" not in text and len([line for line in records if "bbbb2222" in line]) == 1, text
    assert text.endswith("\n"), text


def test_a_record_after_one_a_killed_process_left_cut_starts_a_line_of_its_own(tmp_path):
    """A process killed in the middle of a record (or a cut that could not be taken back,
    another worker having appended after it) left the file without its line end: the next
    record starts on a new line, not glued to the cut one."""
    path = tmp_path / "requests.log"
    path.write_bytes("2026-12-06 10:00:00+09:00 INFO request=aaaa1111 outcome=完".encode("utf-8"))
    handler = server_log.LogFile(path, failed=lambda handler, record, exc: None)
    handler.emit(logging.makeLogRecord({"msg": "request=bbbb2222 outcome=完了", "levelname": "INFO"}))
    assert path.read_bytes().decode("utf-8").splitlines()[-1] == "request=bbbb2222 outcome=完了"


_RUNNING_CUT_BY_THE_DISK = r'''
import os, resource, sys
from pathlib import Path
from renkei_xl.server.running import Running

running = Running.open(Path(sys.argv[1]))
first = "request=aaaa1111 client=10.0.0.5 button=評価を再計算 outcome=中断（サーバーが止まった） status=-"
second = "request=bbbb2222 client=10.0.0.6 button=配布用ファイル作成 outcome=中断（サーバーが止まった） status=-"
running.started("aaaa1111", first)
unlimited = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
resource.setrlimit(resource.RLIMIT_FSIZE, (len(first.encode()) + 30, unlimited))   # the second record cut
running.started("bbbb2222", second)
os._exit(0)                          # killed while both ran: its file left for the next worker
'''


def test_a_running_click_the_disk_cut_is_not_logged_as_a_line_by_the_next_worker(tmp_path):
    """A worker's file of running clicks (server.running) is rewritten at every click; the
    disk filling in the middle of it (a real file-size limit here) left a record's first
    bytes, and the worker that found the file after that worker died logged them as a line:
    「request=bbbb2222 client=10.0.0.6 but」, no button, no outcome. Whole records only."""
    from renkei_xl.server import running

    done = subprocess.run([sys.executable, "-c", _RUNNING_CUT_BY_THE_DISK, str(tmp_path)], capture_output=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    records = running.left_by_others(tmp_path)
    assert records == ["request=aaaa1111 client=10.0.0.5 button=評価を再計算 outcome=中断（サーバーが止まった） status=-"], records


def _stderr_backed_log(folder):
    """A request log in ``folder`` whose records go to standard error while it cannot be
    written (as serve sets it up); returns a function that logs one finished click by number."""
    handler = server_log.LogFile(folder / "requests.log", failed=server_log._to_stderr)
    handler.setFormatter(server_log._Formatter(server_log.LOG_FORMAT))

    def record(number: str) -> None:
        handler.emit(logging.makeLogRecord({"msg": f"request={number} client=10.0.0.5 outcome=完了 status=200 written=0 5ms",
                                            "levelno": logging.INFO, "levelname": "INFO"}))
    return record


def test_the_log_file_says_how_many_records_went_to_standard_error_once_it_takes_them_again(tmp_path, capsys,
                                                                                               monkeypatch):
    """The log's folder gone for a while (a drive away, a folder deleted and made again, a
    full disk freed): its records went to standard error, and once the file took records
    again nothing in it said so: a silent gap in which IT, looking up a click staff quote,
    found no line and no word of where it was. The first record back is led by one line
    saying how many went to standard error, and since when."""
    folder = tmp_path / "logs"
    folder.mkdir()
    record = _stderr_backed_log(folder)

    record("aaaa0001")
    (folder / "requests.log").unlink()
    folder.rmdir()
    record("bbbb0002")
    record("bbbb0003")
    folder.mkdir()
    record("cccc0004")
    record("cccc0005")
    err = capsys.readouterr().err
    assert "request=bbbb0002" in err and "request=bbbb0003" in err, err
    lines = (folder / "requests.log").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3 and "request=cccc0004" in lines[1] and "request=cccc0005" in lines[2], lines
    gap = lines[0]
    assert re.fullmatch(r"\S+ \S+ WARNING request=- client=- outcome=記録のファイルに書けなかった lines=2 "
                        r'since="\S+ \S+\+09:00" text=".+"', gap), gap
    assert "標準エラー出力" in gap, gap

    # Standard error gone too (a service manager's file on the full disk, pythonw): the
    # records are lost, and the line says that rather than where they went.
    folder.joinpath("requests.log").unlink()
    folder.rmdir()
    closed = open(tmp_path / "stderr.txt", "w", encoding="utf-8")
    closed.close()
    monkeypatch.setattr(sys, "stderr", closed)
    record("dddd0006")
    monkeypatch.undo()
    folder.mkdir()
    record("eeee0007")
    lines = (folder / "requests.log").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and " lines=0 lost=1 since=" in lines[0] and "request=eeee0007" in lines[1], lines


def test_a_log_that_does_not_answer_keeps_a_bounded_queue_and_says_what_it_dropped(tmp_path, configured_log,
                                                                                    monkeypatch):
    """The log files are written in a thread of their own (server.log_thread): a file that
    does not answer (here its handler held, as a write that hangs on a share holds it) holds
    up no request. What waits for it is bounded (QUEUE_RECORDS; QUEUE_CHARS): past it a
    record is counted, not kept, and one line says how many, once the queue takes records
    again; the lines kept come out whole and in order, and the stop writes out the rest."""
    from renkei_xl.server import log_thread

    monkeypatch.setattr(log_thread, "QUEUE_RECORDS", 3)
    path = tmp_path / "requests.log"
    configured_log(tmp_path / "error.log", request_log=path)
    log = logging.getLogger(server_log.LOGGER)
    log_thread.start()
    try:
        requests = next(h for q in log.handlers for h in getattr(q, "writes_through", ())
                        if getattr(h, "_renkei", "") == "requests")
        requests.acquire()                  # the file does not answer
        try:
            log.info("request=aaaa0001 outcome=完了")
            _drained(log_thread)            # the thread has it, and waits
            for n in range(2, 10):
                log.info("request=aaaa%04d outcome=完了", n)
            log.error("request=bbbb0001 trace", extra={"traceback": True})
        finally:
            requests.release()
        _drained(log_thread)                # the file answers again: the queue takes records
        log.info("request=cccc0001 outcome=完了")
    finally:
        log_thread.stop()
    log.info("request=dddd0001 outcome=完了")                # after the stop: written as it comes
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [re.search(r"request=(\S+)", l).group(1) for l in lines] == [
        "aaaa0001", "aaaa0002", "aaaa0003", "aaaa0004", "-", "cccc0001", "dddd0001"], lines
    dropped = lines[4]
    assert re.fullmatch(r"\S+ \S+ WARNING request=- client=- outcome=記録の書き込みが追いつかず捨てた lines=6 "
                        r'since="\S+ \S+\+09:00" text=".+"', dropped), dropped
    assert "3 件" in dropped and "（うちエラーログ 1 件）" in dropped, dropped
    assert not (tmp_path / "error.log").exists() or "bbbb0001" not in (tmp_path / "error.log").read_text(encoding="utf-8")


def _drained(log_thread) -> None:
    deadline = time.monotonic() + 10
    while log_thread._RUNNING[0].queue.qsize():
        assert time.monotonic() < deadline
        time.sleep(0.005)


_WRITE_ONLY = r'''
import logging, os, sys
from renkei_xl.server import log as server_log
path = sys.argv[1]
handler = server_log.LogFile(path, failed=lambda handler, record, exc: print("failed", exc))
handler.emit(logging.makeLogRecord({"msg": "request=bbbb0002 outcome=完了", "levelno": logging.INFO, "levelname": "INFO"}))
'''


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="setpriv takes root's rights over modes away")
def test_a_log_file_the_account_may_append_to_but_not_read_takes_its_records(tmp_path):
    """A log file given a mode the service account may write but not read (logrotate's
    ``create 0620 root renkei``): records are appended as before (errorlog.append_record
    reads the file's last byte only where it may)."""
    path = tmp_path / "requests.log"
    path.write_text("2026-12-06 10:00:00+09:00 INFO request=aaaa0001 outcome=完了\n", encoding="utf-8")
    os.chmod(path, 0o200)            # root's own, held to its mode once setpriv takes the rights over modes away
    caps = "-dac_override,-dac_read_search"
    done = subprocess.run(["setpriv", "--bounding-set", caps, "--inh-caps", caps, sys.executable, "-c",
                           _WRITE_ONLY, str(path)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert done.returncode == 0 and "failed" not in done.stdout, (done.stdout, done.stderr)
    os.chmod(path, 0o600)
    assert path.read_text(encoding="utf-8").splitlines()[1:] == ["request=bbbb0002 outcome=完了"]


def test_standard_error_takes_a_bounded_number_of_records_while_the_log_cannot_be_written(tmp_path, capsys,
                                                                                           monkeypatch):
    """The log's folder gone for a week: every record went to standard error, which under
    NSSM (AppStderr, never rotated) or a systemd unit writing to a file is a file that grew
    without bound. Past STDERR_RECORDS (or STDERR_BYTES) the records are counted, one line
    saying so (after the line saying why), then a line with the count an hour at most; the
    file's gap line, once it takes records again, says how many were counted."""
    monkeypatch.setattr(server_log, "STDERR_RECORDS", 5, raising=False)
    folder = tmp_path / "logs"
    folder.mkdir()
    record = _stderr_backed_log(folder)

    folder.rmdir()
    for n in range(200):
        record(f"b{n:07d}")
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 + 5 + 1, err
    assert "に書き込めません" in err[0] and "request=b0000004" in err[5], err
    assert "数だけ数えます（5 行を書きました）" in err[6], err
    folder.mkdir()
    record("c0000001")
    lines = (folder / "requests.log").read_text(encoding="utf-8").splitlines()
    assert " lines=5 counted=195 since=" in lines[0] and "request=c0000001" in lines[1], lines

    # Bytes bound the same: records of the longest kind (RECORD_CHARS) stop before STDERR_BYTES.
    monkeypatch.setattr(server_log, "STDERR_RECORDS", 10_000)
    folder.joinpath("requests.log").unlink()
    folder.rmdir()
    for n in range(300):
        record("x" * 8000)
    err = capsys.readouterr().err
    assert len(err.encode("utf-8")) <= server_log.STDERR_BYTES + 2000, len(err)
    assert "数だけ数えます" in err


def _filled_log(tmp_path, kept: int):
    path = tmp_path / "requests.log"
    handler = server_log.LogFile(path, max_bytes=100, kept=kept, failed=lambda *_: None)
    handler.setFormatter(logging.Formatter("%(message)s"))
    return path, handler


def test_rotation_keeps_the_newest_by_its_names_when_the_clock_stepped_back(tmp_path):
    """The rotated files to remove were picked by modification time. The clock stepped back
    (an NTP correction after a day ahead), every file written before it looks newer than the
    one just moved to ``.1``; with one more file of a rotated log's name beside them (a
    ``.7`` IT moved aside, logrotate's ``.20261201``), the newest records were the ones
    removed. The rotation's own names say the order; a name it does not give is left alone."""
    path, handler = _filled_log(tmp_path, kept=5)
    ahead = time.time() + 86400
    for name in ("1", "2", "3", "4", "5", "7", "20261201"):
        Path(f"{path}.{name}").write_text(f"old {name}\n", encoding="utf-8")
        os.utime(f"{path}.{name}", (ahead, ahead))
    path.write_text("newest " + "x" * 120 + "\n", encoding="utf-8")
    handler.emit(logging.makeLogRecord({"msg": "after"}))
    assert Path(f"{path}.1").read_text(encoding="utf-8").startswith("newest "), sorted(os.listdir(tmp_path))
    assert [Path(f"{path}.{n}").read_text(encoding="utf-8") for n in (2, 3, 4, 5)] == \
        [f"old {n}\n" for n in (1, 2, 3, 4)]
    assert Path(f"{path}.7").read_text(encoding="utf-8") == "old 7\n"              # not ours: left alone
    assert Path(f"{path}.20261201").read_text(encoding="utf-8") == "old 20261201\n"
    assert path.read_text(encoding="utf-8") == "after\n"


def test_files_left_aside_keep_their_order_when_the_clock_stepped_back(tmp_path):
    """A kept place that cannot be taken (a file held open on Windows; a folder of that name
    here) leaves the log aside under ``.<pid>-<n>``, ``n`` the time: files left aside before
    the clock stepped back had later names than the one left now, and the newest went first.
    The name left now comes after every one left before; the oldest of them go."""
    path, handler = _filled_log(tmp_path, kept=2)
    Path(f"{path}.1").mkdir()
    Path(f"{path}.1", "held").write_text("x")           # .1 cannot be replaced: a folder, not empty
    later = time.time_ns() + 86400 * 10**9
    for n, order in enumerate((later, later + 1)):
        Path(f"{path}.4242-{order}").write_text(f"aside {n}\n", encoding="utf-8")
    path.write_text("newest " + "x" * 120 + "\n", encoding="utf-8")
    handler.emit(logging.makeLogRecord({"msg": "after"}))
    rotated = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir()
               if p.is_file() and p.name not in ("requests.log", "requests.log.lock")}
    assert len(rotated) == 2, rotated
    assert any(text.startswith("newest ") for text in rotated.values()), rotated
    assert "aside 1\n" in rotated.values() and "aside 0\n" not in rotated.values(), rotated
    assert Path(f"{path}.1", "held").exists()


def test_a_named_pipe_as_a_log_is_refused_at_start_and_never_waited_on_while_serving(tmp_path, licensed):  # noqa: F811
    """A log is a regular file (errorlog.open_log). A named pipe with no reader, given as
    ``--log`` or put in the log's place while serving, was opened to append and the open
    waited for a reader, for good: ``serve`` hung at its start check with no word, and a
    worker (a service account, without root's rights over modes) whose log became one stopped
    answering every click, its event loop waiting on the open."""
    workdir, pipe = tmp_path / "work", tmp_path / "pipe.log"
    workdir.mkdir()
    os.mkfifo(pipe)
    try:
        run = subprocess.run([sys.executable, "-m", "renkei_xl.cli", "serve", "--workdir", str(workdir),
                              "--port", str(_free_port()), "--log", str(pipe), "--error-log", str(tmp_path / "e.log")],
                             env=_cp932_env(), capture_output=True, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("serve waited on the named pipe given as --log")
    err = run.stderr.decode("utf-8")
    assert run.returncode == 2 and "名前付きパイプ" in err and "--log" in err and "Traceback" not in err, err

    from test_server import serving

    with serving(tmp_path / "served", unprivileged=True) as server:
        assert http_get(server.url + "/", timeout=10).status_code == 200
        server.log.unlink()
        os.mkfifo(server.log, 0o200)        # the account may write it, not read it: the open that waited
        for _ in range(2):
            try:
                assert http_get(server.url + "/", timeout=10).status_code == 200
            except httpx.TimeoutException:
                pytest.fail("the worker waited on the named pipe in its log's place")
        said = (server.log.parent / "stderr.log").read_text(encoding="utf-8")
        assert said.count(f"記録のファイル「{server.log}」に書き込めません（名前付きパイプ") == 1, said
        assert "outcome=稼働確認" in said, said       # the records went to standard error instead
        server.log.unlink()


def test_a_link_put_in_a_logs_place_while_serving_is_not_followed(tmp_path):
    """A link IT gives as ``--log`` is resolved once at start (server.log.check_log); a link
    put in the log's place while serving was followed, and each record was appended to
    whatever it named (a master in the work folder, a system file for a service running as
    root). Not followed now: the records go to standard error, with the one line saying why."""
    real, link = tmp_path / "logs" / "real.log", tmp_path / "link.log"
    real.parent.mkdir()
    link.symlink_to(real)
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("")
    with _serving(tmp_path, "--log", str(link), "--error-log", str(tmp_path / "logs" / "error.log")) as (port, stderr):
        assert http_get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200
        assert _lines_with(real, "outcome=稼働確認"), "the link IT gave was not the log"
        swap = real.with_name("swap")
        swap.symlink_to(elsewhere)
        os.replace(swap, real)          # at once: the server writes no record in between
        for _ in range(2):
            assert http_get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200
        deadline = time.monotonic() + 10
        while "outcome=稼働確認" not in stderr.read_bytes().decode("utf-8", "replace") and time.monotonic() < deadline:
            time.sleep(0.1)
    said = stderr.read_bytes().decode("utf-8", "replace")
    assert elsewhere.read_text() == "", elsewhere.read_text()
    assert said.count(f"記録のファイル「{real}」に書き込めません（シンボリックリンク") == 1, said


def test_the_files_threads_finish_their_work_at_the_end_within_a_bound():
    """server.aside's threads (the numbers file, the running file) had no stop: a SIGTERM'd
    worker died with a click's 「ended」 still queued (its next start logged the finished
    click as 中断), and a normal exit joined them without a bound (a share that stopped
    answering kept the worker from ending). At the end (server.log.AT_STOP, before the log
    thread's stop) what they hold is done, within FINISH_SECONDS for all; daemon threads."""
    import threading

    from renkei_xl.server.aside import Aside, finish_all
    from renkei_xl.server.log import AT_STOP

    written, share = [], threading.Event()
    aside = Aside("test-running")
    assert AT_STOP[0] is finish_all
    aside.soon(written.append, "ended")
    assert finish_all(5.0) == [] and written == ["ended"]        # queued work done at the end
    aside.soon(share.wait, 30)                                    # a share that stopped answering
    started = time.monotonic()
    assert finish_all(0.3) == ["test-running"]
    assert time.monotonic() - started < 2.0
    assert all(t.daemon for t in threading.enumerate() if t.name == "renkei-test-running")
    share.set()
    assert finish_all(5.0) == []

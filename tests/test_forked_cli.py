"""tests/forked_cli.py's children against a fresh process: what differs is said there."""

import os
import subprocess
import sys

import pytest

from forked_cli import cli_run, run_forked

SAYS_ZONE = "import time\nprint(time.strftime('%z', time.localtime(0)))\n"


def test_a_forked_run_keeps_local_time_by_its_own_tz(tmp_path):
    """A run's environment replaces the server's in the child, but the C library reads TZ
    once: a test setting TZ for a run (as test_errorlog does for its own process) got the server's zone in
    every date the command wrote, where a fresh process would have used the run's."""
    said = {}
    for zone in ("Asia/Tokyo", "UTC"):
        out, err = tmp_path / f"{zone.replace('/', '_')}.out", tmp_path / "err"
        out.touch()
        err.touch()
        done = run_forked([], str(tmp_path), dict(os.environ, TZ=zone), str(out), str(err), SAYS_ZONE, 60)
        assert done["code"] == 0, err.read_text()
        said[zone] = out.read_text().strip()
    assert said == {"Asia/Tokyo": "+0900", "UTC": "+0000"}


def test_cli_run_answers_as_a_fresh_command_does(tmp_path):
    """cli_run stands in for `subprocess.run([python, -m, renkei_xl.cli, ...], capture_output=True,
    text=True)` where a command's start is not what a test checks: the same exit code and the
    same Japanese words on the same stream, in a process of its own."""
    book = tmp_path / "m.xls"
    book.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    fresh = subprocess.run([sys.executable, "-m", "renkei_xl.cli", "validate", str(book)],
                           capture_output=True, text=True, cwd=tmp_path)
    forked = cli_run(["validate", str(book)], cwd=str(tmp_path))
    assert (forked.returncode, forked.stdout, forked.stderr) == (fresh.returncode, fresh.stdout, fresh.stderr)
    assert forked.returncode == 2 and "マクロ有効ブック" in forked.stderr, forked.stderr
    said = cli_run(["--version"])
    assert said.returncode == 0 and said.stdout == subprocess.run(
        [sys.executable, "-m", "renkei_xl.cli", "--version"], capture_output=True, text=True).stdout


def test_cli_run_raises_timeout_expired_as_subprocess_run_does(tmp_path, monkeypatch):
    """A run past its bound is killed with its process group and said as subprocess.run says it."""
    from ports import free_port

    port = free_port()
    monkeypatch.setenv("RENKEI_XL_SERVER_KEY", "k" * 40)
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    with pytest.raises(subprocess.TimeoutExpired) as raised:
        cli_run(["serve", "--host", "127.0.0.1", "--port", str(port), "--workdir", str(tmp_path)], timeout=1)
    assert raised.value.cmd[:2] == ["renkei-xl", "serve"]

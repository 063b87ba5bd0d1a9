"""The unexpected-error log of the command line and the local buttons (renkei_xl.errorlog):
in the temp folder of a staff PC or of the server's account, read by IT from the time and
the command staff quote, and sent as a file.

It wrote its time without an offset (a PC or server kept in UTC wrote 01:15 for 10:15 JST),
the command line and the traceback as they came (a file name or a cell text with a line
break wrote a record of its own, 「--- <time> renkei-xl …」), and it grew without end."""

from __future__ import annotations

import re
import time

import pytest

from renkei_xl import errorlog

HOSTILE = "a\r\n--- 2020-01-01 00:00:00+09:00 renkei-xl forged\u0085b\u2028c\u2029d\x1b[31me\u202ef\x00g\udc80h\u3164i\u115fj"


def _logged(path, header: str, message: str):
    try:
        raise ValueError(message)
    except ValueError:
        return errorlog.log_error(path, header)


@pytest.fixture
def tokyo(monkeypatch):
    if not hasattr(time, "tzset"):
        pytest.skip("TZ is read only on POSIX")      # the server and CI are Linux
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_each_record_says_its_time_zone(tmp_path, tokyo):
    path = tmp_path / "error.log"
    assert _logged(path, "renkei-xl recalc マスター.xlsm", "x") == path
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert re.fullmatch(r"--- \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+09:00 renkei-xl recalc マスター\.xlsm", first), first


def test_nothing_a_command_or_an_exception_quotes_can_write_a_record_of_its_own(tmp_path):
    """CR, LF, NEL, LS/PS, an ANSI escape, a bidi override, NUL, half of a surrogate pair and
    the fillers that show as a blank (escaped in the request log too: server.log.escape) in the
    command line (a file's name) and in the exception's message (a cell's text)."""
    path = tmp_path / "error.log"
    assert _logged(path, f"renkei-xl recalc {HOSTILE}.xlsm", HOSTILE) == path
    text = path.read_text(encoding="utf-8")
    records = [line for line in text.split("\n") if line.startswith("---")]
    assert len(records) == 1 and "forged" in records[0], text
    assert all(line.startswith(errorlog.TRACE_INDENT) for line in text.split("\n")[1:] if line), text
    for raw in "\r\x85\u2028\u2029\x1b\u202e\x00\u3164\u115f":
        assert raw not in text, repr(raw)
    assert "\\u202e" in text and "\\udc80" in text


def test_the_log_is_bounded_keeping_one_older_file(tmp_path, monkeypatch):
    monkeypatch.setattr(errorlog, "LOG_BYTES", 4096, raising=False)
    path = tmp_path / "error.log"
    for n in range(60):
        assert _logged(path, f"renkei-xl run {n:03d}", "y" * 200) == path
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["error.log", "error.log.1"], files
    assert all(p.stat().st_size < 4096 + 1500 for p in tmp_path.iterdir())
    kept = (tmp_path / "error.log.1").read_text(encoding="utf-8") + path.read_text(encoding="utf-8")
    assert "renkei-xl run 059" in path.read_text(encoding="utf-8") and "renkei-xl run 000" not in kept


def test_one_record_is_cut_to_its_bound(tmp_path):
    path = tmp_path / "error.log"
    assert _logged(path, "renkei-xl recalc", "z" * (errorlog.RECORD_CHARS * 2)) == path
    text = path.read_text(encoding="utf-8")
    assert len(text) < errorlog.RECORD_CHARS + 200 and "文字を省略" in text


def test_a_huge_exception_is_cut_before_it_is_escaped(tmp_path):
    """An exception quoting 2 million characters was escaped whole, a string a character
    (over 100 MiB) for a record of 256 KiB: a PC short of memory met a second error."""
    import tracemalloc

    path = tmp_path / "error.log"
    said = "①" * 2_000_000
    tracemalloc.start()
    try:
        assert _logged(path, "renkei-xl recalc " + "x" * 32_767, said) == path
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * len(said.encode("utf-8")), peak      # was 30 times the message
    text = path.read_text(encoding="utf-8")
    assert len(text) < errorlog.RECORD_CHARS + 200 and "文字を省略" in text

"""tests/forked_cli.py's children against a fresh process: what differs is said there."""

import os

from forked_cli import run_forked

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

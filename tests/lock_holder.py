"""A child process that holds a writer lock, for the tests of writers that wait for each other."""

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

# Holds the writer lock of argv[1] until argv[3] exists; then, given argv[4], renames argv[1] to it.
HOLDER = """
import os, sys, time
from pathlib import Path
from renkei_xl.safety import writer_lock
path, held, release = map(Path, sys.argv[1:4])
with writer_lock(path):
    held.write_text("held")
    while not release.exists():
        time.sleep(0.01)
    if len(sys.argv) > 4:
        os.rename(path, path.with_name(sys.argv[4]))
"""

# Holds the OS lock of the lock file argv[1] itself (as another writer's writer_lock holds it,
# without removing it after) until argv[3] exists: what a waiter does then is its own.
RAW_HOLDER = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o666)
fcntl.flock(fd, fcntl.LOCK_EX)
open(sys.argv[2], "w").write("held")
while not os.path.exists(sys.argv[3]):
    time.sleep(0.01)
"""


def waited_for_lock(target: Path, folder: Path, run: Callable[[], object]) -> object:
    """``run()`` started while another process holds ``target``'s writer lock: it must still
    be waiting, ``target`` not written, two seconds later; then the lock is released and
    ``run()``'s result returned once it ends."""
    held, release = folder / "held", folder / "release"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(target), str(held), str(release)])
    done: list[object] = []
    worker = threading.Thread(target=lambda: done.append(run()))
    try:
        while not held.exists():
            assert holder.poll() is None
            time.sleep(0.01)
        worker.start()
        time.sleep(2)
        assert worker.is_alive() and not target.exists(), "did not wait for the lock"
        release.write_text("go")
        worker.join(timeout=60)
        assert not worker.is_alive() and done, "did not end once the lock was released"
        return done[0]
    finally:
        release.write_text("go")
        holder.wait(timeout=30)
        worker.join(timeout=60)

"""A child process that holds a writer lock, for the tests of writers that wait for each other."""

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

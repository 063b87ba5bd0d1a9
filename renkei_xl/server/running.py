"""The clicks a worker is running, in a small file of its own beside the error log, so that a
click cut by the end of its process still gets its line in the log.

A click's line is written when it ends. A worker killed while one ran (the system short of
memory, a kill, the machine restarted, a service stopped at once) wrote none: staff met a
broken connection with no 受付番号, and the log had nothing for a request that had reached
the server and may have written half a file. Each worker now keeps the clicks it runs, and
those waiting for their turn, in ``renkei-xl-running-<pid>-<random>.txt``, locked for its
life; a worker that starts (the next start, or the one uvicorn starts in place of a dead
one) writes a line for each click left in a file nobody holds (``CUT``, or ``NOT_RUN_CUT``
for one that never ran), then removes the file.

Nothing here may stop a click: a file that cannot be written (a full disk, a folder gone,
a share without locks) leaves the clicks unrecorded, as they were before.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Optional

PREFIX = "renkei-xl-running-"
CUT = "中断（サーバーが止まった）"      # outcome of a click whose process ended while it ran
NOT_RUN_CUT = "実行せず（サーバーが止まった）"   # … while it waited for its turn: nothing of it ran
# What is read of a gone worker's file: its clicks running at once fill a few lines, and a
# file left huge or garbled (200 MB) was read whole at start, 380 MiB, each line a record in
# an error log that keeps 1 MiB (errorlog.LOG_BYTES), the real records pushed out.
READ_BYTES = 256 * 1024
READ_RECORDS = 1000


class Running:
    """This worker's file of running clicks (``started``/``ended``); None of it when the file
    cannot be had (``open``)."""

    def __init__(self, path: Path, fd: int):
        from .aside import Aside

        self.path, self.fd = path, fd
        self.now: dict[str, str] = {}
        self._aside = Aside("running")

    def soon(self, change, *args) -> None:
        """``change(*args)`` (``started``, ``ended``) as the server does it: in the file's own
        thread, in the order asked, the event loop not waiting (server.aside): the file may
        sit on a share where a write takes seconds, and it is written twice a click."""
        self._aside.soon(change, *args)

    @classmethod
    def open(cls, folder: Path) -> Optional["Running"]:
        from ..safety import held_new_file

        path = Path(folder) / f"{PREFIX}{os.getpid()}-{secrets.token_hex(4)}.txt"
        fd = held_new_file(path)     # None on a share without locks: a file nobody could tell was held
        return None if fd is None else cls(path, fd)

    def started(self, request_id: str, record: str) -> None:
        """``record``: the click's line so far (server.log.line), written as it is if cut."""
        self.now[request_id] = record
        self._write()

    def ended(self, request_id: str) -> None:
        if self.now.pop(request_id, None) is not None:
            self._write()

    def _write(self) -> None:
        """The clicks as whole lines, as many as the disk takes: a disk that filled in the
        middle of a record (a full disk, a quota) left its first bytes, and the worker that
        found the file logged them as a line of their own (「request=… button=配布用フ」, no
        outcome), a click's record the log could not say."""
        data = "".join(f"{record}\n" for record in self.now.values()).encode("utf-8", "backslashreplace")
        written = 0
        try:
            os.lseek(self.fd, 0, os.SEEK_SET)
            os.ftruncate(self.fd, 0)
            while written < len(data):
                done = os.write(self.fd, data[written:])
                if not done:
                    break
                written += done
        except OSError:
            pass
        if written < len(data):
            try:
                os.ftruncate(self.fd, data.rfind(b"\n", 0, written) + 1)   # the whole records written
            except OSError:
                pass


def left_by_others(folder: Path) -> list[str]:
    """The records of clicks whose worker has gone (its file in ``folder`` not held), each
    file removed once read: what the log owes those clicks."""
    records: list[str] = []
    try:
        names = [entry.path for entry in os.scandir(folder) if entry.name.startswith(PREFIX)]
    except OSError:
        return records
    for name in names:
        records += _taken(Path(name))
    return records


def _taken(path: Path) -> list[str]:
    """The records of ``path`` when its worker has gone (its lock to be had), the file
    removed; [] while a worker holds it, or once another reader took it."""
    from ..core.errors import UserError
    from ..safety import still_named, try_lock

    try:
        fd = os.open(path, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return []
    try:
        try:
            if not try_lock(fd, path) or not still_named(fd, path):
                return []
        except UserError:
            return []
        size = os.fstat(fd).st_size
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, min(size, READ_BYTES)).decode("utf-8", "backslashreplace") if size else ""
        if os.name != "nt":
            _remove(path)          # while held: no other reader takes it again (still_named)
    except OSError:
        return []
    finally:
        os.close(fd)
    if os.name == "nt":
        _remove(path)              # Windows removes no open file
    records = [line for line in text.splitlines() if line.strip()]
    if size > READ_BYTES or len(records) > READ_RECORDS:
        records = records[:READ_RECORDS] + [f"{path.name} は {size:,} バイトあり、最初の {READ_RECORDS} 件の"
                                            "ほかは読みませんでした（動いていたクリックの記録として大きすぎる、壊れたファイルです）"]
    return records


def _remove(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass

"""The request numbers the server gave clicks, so that a client's report of a failed replay
(``/outcome``, RenkeiServer.bas' RenkeiReport) is logged as Excel's error only for a number
this server issued, recently, for that button, and only once.

The report named any number a key holder wrote, and the log said 「Excelエラー」 for it: a
line claiming staff saw an error for a click that never was (or a second time for one that
was). A report that cannot be backed is still logged, as unverified, saying why (``claim``).

One small file beside the error log for every worker (``NAME``): with ``--workers 2`` the
report reaches any worker, not the one that answered the click. It is held locked while it
is read and written, so a number is claimed once whichever worker the reports reach; it
keeps numbers for KEPT_SECONDS and at most KEPT_NUMBERS of them, so it stays a few tens of
kilobytes. Without an error log (an app made in a test) the numbers are kept in memory.
Nothing here may stop a click: a file that cannot be had leaves its reports unverified.
The server waits for the file off its event loop (``given``, ``claimed``; server.aside), for
a bounded time and with a bounded queue: a file held elsewhere slows its own click or report
by WAIT_SECONDS at most, and no other request of the worker at all.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable, Optional

NAME = "renkei-xl-issued.txt"
# RenkeiReport posts within seconds of the answer (its own timeout is 5 s); an hour is room
# for a client clock's or a slow network's worst, and what the file keeps then is small.
KEPT_SECONDS = 3600.0
KEPT_NUMBERS = 2000          # about 40 bytes each: the file stays under 100 KB
READ_BYTES = 256 * 1024      # a file grown past this (tampered, garbled) is read no further
LOCK_SECONDS = 2.0
# How long a click's answer or a report's line waits for the file in all (its lock, a share's
# slow write, the numbers and reports ahead of it): past it the answer goes and the number
# still goes into the file after it, the report is logged UNCHECKED. And how many reports may
# wait at once in a worker: past them a report is logged UNCHECKED at once (a flood).
WAIT_SECONDS = LOCK_SECONDS + 1.0
QUEUED = 8

VERIFIED = "Excelエラー"
NO_NUMBER = "Excelエラー（未確認：受付番号なし）"
NOT_ISSUED = "Excelエラー（未確認：このサーバーが発行していない受付番号）"
REPEATED = "Excelエラー（未確認：報告済みの受付番号）"
UNCHECKED = "Excelエラー（未確認：受付番号を確かめられない）"


class Issued:
    """Numbers issued (``issue``) and claimed by a report (``claim``), in ``path`` (None: in
    memory). Each record is a line: ``I <number> <entry> <time>`` or ``R <number>``."""

    def __init__(self, path: Optional[Path]):
        from .aside import Aside

        self.path = path
        self._memory: list[str] = []
        self._aside = Aside("issued")

    async def given(self, number: str, entry: str) -> None:
        """``issue`` as the server does it: off its event loop, waited for WAIT_SECONDS at most."""
        if self.path is None:
            return self.issue(number, entry)
        await self._aside.result(self.issue, number, entry, within=WAIT_SECONDS, queued=None, otherwise=None)

    async def claimed(self, number: str, entry: str) -> str:
        """``claim`` as the server does it: off its event loop, UNCHECKED past WAIT_SECONDS or QUEUED."""
        if self.path is None:
            return self.claim(number, entry)
        return await self._aside.result(self.claim, number, entry, within=WAIT_SECONDS, queued=QUEUED,
                                        otherwise=UNCHECKED if number.isalnum() else NO_NUMBER)

    def issue(self, number: str, entry: str) -> None:
        self._change(lambda lines: [*lines, f"I {number} {entry} {time.time():.0f}"])

    def claim(self, number: str, entry: str) -> str:
        """The outcome the report's line says: VERIFIED the first time a number issued for
        ``entry`` within KEPT_SECONDS is reported, else why it is not."""
        verdict = [UNCHECKED if number.isalnum() else NO_NUMBER]

        def check(lines: list[str]) -> Optional[list[str]]:
            if not number.isalnum():
                return None
            if not any(line.startswith(f"I {number} {entry} ") for line in lines):
                verdict[0] = NOT_ISSUED
                return None
            if f"R {number}" in lines:
                verdict[0] = REPEATED
                return None
            verdict[0] = VERIFIED
            return [*lines, f"R {number}"]

        self._change(check)
        return verdict[0]

    def _change(self, change: Callable[[list[str]], Optional[list[str]]]) -> None:
        """``change`` of the records (the old ones dropped first), written back unless it
        returns None; under the file's lock, or not at all when it cannot be had."""
        if self.path is None:
            changed = change(_fresh(self._memory))
            if changed is not None:
                self._memory = _fresh(changed)
            return
        from ..safety import try_lock, unlock

        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except OSError:
            return
        try:
            if not _locked(fd, self.path, try_lock):
                return
            try:
                os.lseek(fd, 0, os.SEEK_SET)
                text = os.read(fd, READ_BYTES).decode("ascii", "replace")
                changed = change(_fresh(text.splitlines()))
                if changed is not None:
                    data = "".join(f"{line}\n" for line in _fresh(changed)).encode("ascii", "replace")
                    os.lseek(fd, 0, os.SEEK_SET)
                    os.ftruncate(fd, 0)
                    os.write(fd, data)
            finally:
                unlock(fd)
        except OSError:
            pass
        finally:
            os.close(fd)


def _locked(fd: int, path: Path, try_lock) -> bool:
    from ..core.errors import UserError

    deadline = time.monotonic() + LOCK_SECONDS
    while True:
        try:
            os.lseek(fd, 0, os.SEEK_SET)         # Windows locks the byte at the position
            if try_lock(fd, path):
                return True
        except UserError:                        # a folder without locks: nothing is claimed
            return False
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)


def _fresh(lines: list[str]) -> list[str]:
    """The records of the last KEPT_SECONDS, at most KEPT_NUMBERS numbers, each report kept
    with its number (a claim past them reads as never issued: it is not backed)."""
    oldest = time.time() - KEPT_SECONDS
    kept: list[str] = []
    for line in lines:
        parts = line.split(" ")
        if len(parts) == 4 and parts[0] == "I":
            try:
                if float(parts[3]) >= oldest:
                    kept.append(line)
            except ValueError:
                pass
        elif len(parts) == 2 and parts[0] == "R":
            kept.append(line)
    issued = set([line for line in kept if line.startswith("I ")][-KEPT_NUMBERS:])
    numbers = {line.split(" ")[1] for line in issued}
    return [line for line in kept if line in issued or (line.startswith("R ") and line.split(" ")[1] in numbers)]

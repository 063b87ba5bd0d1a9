"""A worker's own small files (server.issued's numbers, server.running's clicks) written in
one thread of their own, never on the event loop.

A worker answers every connection from one event loop: whatever it waits for there, every
other request of the worker waits too (a colleague's click, the health check, the timeouts
of slow clients). The numbers file waited up to issued.LOCK_SECONDS for its lock there, at
every click and every report, and the running file was written there twice a click, on a
folder that may be a share where a write takes seconds. One thread a file keeps the order
its changes were asked in (a click's 「ended」 never before its 「started」); a wait the
request needs the result of is bounded (``result``), so a file that stops answering slows
its own requests by that bound and no other request at all.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional, TypeVar

T = TypeVar("T")


class Aside:
    """One thread (made at the first use) for ``name``'s file: ``soon`` not waited for,
    ``result`` waited for within a bound."""

    def __init__(self, name: str):
        self.name = name
        self._thread: Optional[ThreadPoolExecutor] = None
        self._waiting = 0           # ``result`` work not yet done in the thread (counted on the event loop)

    def _pool(self) -> ThreadPoolExecutor:
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix=f"renkei-{self.name}")
        return self._thread

    def soon(self, work: Callable[..., object], *args) -> None:
        """``work(*args)`` after what was asked before it; nothing waits for it."""
        self._pool().submit(self._logged, work, None, *args)

    async def result(self, work: Callable[..., T], *args, within: float, queued: Optional[int],
                     otherwise: T) -> T:
        """``work(*args)``'s result once it is done within ``within`` seconds, else
        ``otherwise`` (the work still ends in its thread); ``otherwise`` at once, the work not
        done, while ``queued`` of them wait already (a flood of reports, a file that stopped
        answering): the thread's queue stays bounded. None: always done (work bounded
        elsewhere, a click's number: clicks are run in turn, server.turns)."""
        if queued is not None and self._waiting >= queued:
            return otherwise
        self._waiting += 1
        done = asyncio.get_running_loop().run_in_executor(self._pool(), self._logged, work, otherwise, *args)
        done.add_done_callback(self._done)      # counted until its thread is done with it, not its waiter
        try:
            return await asyncio.wait_for(asyncio.shield(done), within)
        except asyncio.TimeoutError:
            return otherwise

    def _done(self, _done: "asyncio.Future") -> None:
        self._waiting -= 1

    def _logged(self, work: Callable[..., T], otherwise: T, *args) -> T:
        """``work(*args)``, or ``otherwise`` with its traceback in the error log: nobody waits
        for it (``soon``, a ``result`` past its bound) to see what it raised, and a file of
        the worker's own may not stop a click."""
        try:
            return work(*args)
        except Exception:
            from . import log as server_log

            server_log.error("-", self.name)
            return otherwise

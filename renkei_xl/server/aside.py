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
import queue
import threading
import time
import weakref
from concurrent.futures import Future, TimeoutError as FutureTimeout
from typing import Callable, Optional, TypeVar

from .log import AT_STOP

T = TypeVar("T")

# The longest a process's end waits for the work its files' threads still hold (``finish``):
# a click's 「ended」 written before a SIGTERM'd worker dies (else its next start logs the
# finished click as 中断), and no longer, so a share that stopped answering cannot keep a
# worker from ending. The threads are daemons for the same reason: the interpreter's exit
# joins a ThreadPoolExecutor's threads without a bound.
FINISH_SECONDS = 5.0
# A thread with nothing to do for this long ends (the next work starts another): a process
# that makes many apps (the tests, a worker started again) keeps no idle thread of each.
IDLE_SECONDS = 30.0
_MADE: "weakref.WeakSet[Aside]" = weakref.WeakSet()


class Aside:
    """One daemon thread (made at the first use) for ``name``'s file: ``soon`` not waited
    for, ``result`` waited for within a bound, ``finish`` at the process's end."""

    def __init__(self, name: str):
        self.name = name
        self._queue: Optional[queue.SimpleQueue] = None
        self._lock = threading.Lock()   # the queue and its thread made, or ended idle, one at a time
        self._waiting = 0           # ``result`` work not yet done in the thread (counted on the event loop)
        _MADE.add(self)
        if finish_all not in AT_STOP:
            AT_STOP.insert(0, finish_all)   # before the log thread's stop: its errors are logged

    def _put(self, done: Optional[Future], work: Callable, otherwise, args: tuple) -> None:
        with self._lock:
            if self._queue is None:
                self._queue = queue.SimpleQueue()
                threading.Thread(target=self._run, args=(self._queue,), name=f"renkei-{self.name}",
                                 daemon=True).start()
            self._queue.put((done, work, otherwise, args))

    def _run(self, asked: queue.SimpleQueue) -> None:
        while True:
            try:
                done, work, otherwise, args = asked.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if asked.empty():       # nothing was put while it waited for the lock
                        self._queue = None
                        return
                continue
            result = self._logged(work, otherwise, *args)
            if done is not None:
                done.set_result(result)

    def soon(self, work: Callable[..., object], *args) -> None:
        """``work(*args)`` after what was asked before it; nothing waits for it."""
        self._put(None, work, None, args)

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
        future: Future = Future()
        self._put(future, work, otherwise, args)
        done = asyncio.wrap_future(future)
        done.add_done_callback(self._done)      # counted until its thread is done with it, not its waiter
        try:
            return await asyncio.wait_for(asyncio.shield(done), within)
        except asyncio.TimeoutError:
            return otherwise

    def finish(self, within: float) -> bool:
        """Whether what the thread was asked before this was done within ``within`` seconds."""
        if self._queue is None:
            return True
        done: Future = Future()
        self._put(done, lambda: None, None, ())
        try:
            done.result(timeout=max(within, 0.0))
            return True
        except FutureTimeout:
            return False

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


def finish_all(within: float = FINISH_SECONDS) -> list[str]:
    """At a process's end (server.log.AT_STOP): the work every file's thread holds done,
    within ``within`` seconds for all of them; the names of those not done in time."""
    until = time.monotonic() + within
    return [aside.name for aside in list(_MADE) if not aside.finish(until - time.monotonic())]

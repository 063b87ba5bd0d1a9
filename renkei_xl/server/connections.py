"""How long a connection may take, and what the server says when the machine runs short.

A municipal LAN holds PCs that open connections and send nothing (a broken client, a
scanner, someone trying): uvicorn keeps such a connection until the peer closes it, each
one an open file. About a thousand of them (the default limit of open files) stopped every
click, and asyncio's accept loop then wrote a traceback per attempt to the request log
(hundreds of megabytes in a minute). So:

- a connection must send its request line and headers within ``HEADER_SECONDS``, and a
  request its body within ``BODY_SECONDS`` (renkei_xl.server.app.Guard), or it is closed;
- the soft limit of open files is raised to the hard one at start (POSIX);
- a message the event loop repeats (accept failing while files are short) is written once
  a minute with the count of the repeats, so the request log stays one line per request.

A reverse proxy in front (docs/staff-setup.md) absorbs slow clients as well.
"""

from __future__ import annotations

import logging
import time

from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_SECONDS = 10.0     # a click's request line and headers are a few hundred bytes
BODY_SECONDS = 60.0       # the largest body accepted (32 MB) over a slow office link
REPEAT_SECONDS = 60.0


class TimelyH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing a connection that has not sent a whole request
    head within ``header_seconds`` of opening (or of its last answer, when kept alive)."""

    header_seconds = HEADER_SECONDS

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_timer = self.loop.call_later(self.header_seconds, self._no_request)

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def connection_lost(self, exc) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().connection_lost(exc)

    def _no_request(self) -> None:
        self._head_timer = None
        if self.cycle is None and not self.transport.is_closing():
            self.transport.close()


def raise_open_files_limit() -> None:
    """The soft limit of open files up to the hard one (systemd's soft default is 1,024)."""
    try:
        import resource
    except ImportError:      # Windows: no such limit to raise
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else max(soft, 65536), hard))
        except (ValueError, OSError):
            pass


class OnceAMinute(logging.Filter):
    """Lets a message through once per ``every`` seconds; the next one it lets through says
    how many it held back. For the event loop's own logger: ``socket.accept() out of system
    resource`` comes once per connection attempt while open files are short."""

    def __init__(self, every: float = REPEAT_SECONDS, clock=time.monotonic):
        super().__init__()
        self.every, self.clock = every, clock
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = str(record.msg)
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.every:
            self._held[key] = self._held.get(key, 0) + 1
            return False
        self._last[key] = now
        held = self._held.pop(key, 0)
        if held:
            record.msg = f"{record.msg} (the same {held} more times in the last {self.every:g} s)"
        return True

"""The server's two log files written in one thread of their own, never on the event loop.

A worker answers every connection from one event loop. Each record of the request log and
the error log (server.log.LogFile) opens the file, appends and closes it, looks at its size,
and now and then rotates it (a lock file, a listing, renames): on a share given as --log,
each of those can take seconds, and the loop waited on them at every request's line, at a
traceback, at every warning; every colleague's click, the health check and the slow
clients' timeouts of that worker waited with it. Now the logger hands each record to a
queue (``Queued``, on the loop: no file touched) and one thread (``Writer``) writes them in
the order they came, through the same LogFile handlers: each line as it was.

The queue is bounded, in records and in characters (QUEUE_RECORDS, QUEUE_CHARS): a log
that stops answering while requests keep coming would otherwise grow the worker's memory
for as long as it lasts. Past the bound a record is counted, not kept, and one line
(DROPPED) says how many and since when, before the next record the queue takes (or at the
stop). The thread is stopped, what it holds written first, wherever serving ends
(``stop``): serve's end (Ctrl+C, SIGTERM, SIGHUP), a worker's end (server.log.AtStop: a
worker stopped by SIGTERM dies right after it, with no atexit), a worker that cannot
start (before its os._exit), and the interpreter's exit.
"""

from __future__ import annotations

import logging
import logging.handlers
import queue
import sys
import threading
import time
from typing import Optional

from ..errorlog import stamp
from .log import AT_STOP, LOGGER, LogFile, line

# At most this many records, and this many characters of them, wait for the thread: a
# request line is a few hundred characters, a traceback at most errorlog.RECORD_CHARS
# (256 Ki): some 20 to 40 MB of a worker's memory at worst, hours of clicks on a log that
# stopped answering.
QUEUE_RECORDS = 10_000
QUEUE_CHARS = 8_000_000
# How long a stop waits for the thread to write what it holds: a log on a share that stopped
# answering may not hold up a stop for good (systemd kills a stop past 90 s).
STOP_SECONDS = 30.0

DROPPED = "記録の書き込みが追いつかず捨てた"
DROPPED_TEXT = ("記録のファイルへの書き込みが追いつかず、書き込み待ちが上限（{records:,} 件または {chars:,} 文字）に達したため、"
                "{since} からの {lines:,} 件（うちエラーログ {tracebacks:,} 件）を書かずに捨てました")
NOT_WRITTEN = ("記録のファイル「{path}」への書き込みが {seconds:.0f} 秒たっても終わらないため、書き込み待ちの記録 {left:,} 件を"
               "書かずにサーバーを停止します")


class Queued(logging.handlers.QueueHandler):
    """The logger's one handler while the thread runs: each record formatted here (its
    message, as the file handlers' formatter takes it) and queued, within the bounds; past
    them counted (``dropped``) for the line that says so."""

    def __init__(self, records: Optional[int] = None, chars: Optional[int] = None):
        super().__init__(queue.Queue(QUEUE_RECORDS if records is None else records))
        self.max_chars = QUEUE_CHARS if chars is None else chars
        self.chars = 0              # characters of the records queued or being written
        self.dropped = 0            # records not kept since the last line saying so
        self.dropped_tracebacks = 0
        self.dropped_since: Optional[float] = None
        self._bound = threading.Lock()      # records come from the loop, click threads and the writer itself
        self.writes_through: tuple[logging.Handler, ...] = ()      # the files' handlers (server.log.configure)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            record = self.prepare(record)
        except Exception:
            self.handleError(record)
            return
        with self._bound:
            if self.dropped and self._put(self._dropped_record()):
                self.dropped = self.dropped_tracebacks = 0
                self.dropped_since = None
            if not self.dropped and self._put(record):
                return
            self.dropped += 1
            self.dropped_tracebacks += bool(getattr(record, "traceback", False))
            if self.dropped_since is None:
                self.dropped_since = record.created

    def _put(self, record: logging.LogRecord) -> bool:
        size = _size(record)
        if self.chars + size > self.max_chars:
            return False
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            return False
        self.chars += size
        return True

    def written(self, record: logging.LogRecord) -> None:
        """``record`` is out of the queue and written (or failed): its characters free."""
        with self._bound:
            self.chars -= _size(record)

    def _dropped_record(self) -> logging.LogRecord:
        """The line for the records not kept, a WARNING of the request log."""
        text = line(request="-", client="-", outcome=DROPPED, lines=self.dropped,
                    since=stamp(self.dropped_since or time.time()),
                    text=DROPPED_TEXT.format(records=self.queue.maxsize, chars=self.max_chars,
                                             since=stamp(self.dropped_since or time.time()),
                                             lines=self.dropped, tracebacks=self.dropped_tracebacks))
        return self.prepare(logging.makeLogRecord({"name": LOGGER, "msg": text, "levelno": logging.WARNING,
                                                   "levelname": "WARNING"}))

    def take_dropped(self) -> Optional[logging.LogRecord]:
        """The line for records not kept, once, for the stop to write itself."""
        with self._bound:
            if not self.dropped:
                return None
            record = self._dropped_record()
            self.dropped = self.dropped_tracebacks = 0
            return record


def _size(record: logging.LogRecord) -> int:
    return len(record.msg) if isinstance(record.msg, str) else 0


class Writer(logging.handlers.QueueListener):
    """The thread that writes the queued records through the log files' handlers, in order.
    A handler that raises (not an OSError, which LogFile says itself) is said as logging
    says a handler's failure: the thread goes on, every later line with it."""

    def __init__(self, queued: Queued, *handlers: logging.Handler):
        super().__init__(queued.queue, *handlers, respect_handler_level=True)
        self.queued = queued

    def start(self) -> None:
        self._thread = threading.Thread(target=self._monitor, name="renkei-log", daemon=True)
        self._thread.start()

    def handle(self, record: logging.LogRecord) -> None:
        try:
            for handler in self.handlers:
                if record.levelno >= handler.level:
                    try:
                        handler.handle(record)
                    except Exception:
                        handler.handleError(record)
        finally:
            self.queued.written(record)


_RUNNING: list[Writer] = []      # this process's writer, while its thread runs


def start() -> None:
    """The log files of the server's logger (server.log.configure) written from now on in a
    thread of their own. Called where a process starts serving (run.configure_logging, in
    ``serve`` and in each worker); a log to standard error stays as it is."""
    if _RUNNING:
        return
    logger = logging.getLogger(LOGGER)
    files = [handler for handler in logger.handlers if isinstance(handler, LogFile)]
    if not files:
        return
    queued = Queued()
    queued.writes_through = tuple(files)
    writer = Writer(queued, *files)
    writer.start()
    if stop not in AT_STOP:
        AT_STOP.append(stop)
    for handler in files:
        logger.removeHandler(handler)
    logger.addHandler(queued)
    _RUNNING.append(writer)


def stop() -> None:
    """What the thread holds written, then the thread stopped and the files written directly
    again (the process is ending: nothing waits on its loop any more). At most STOP_SECONDS:
    a log that does not answer may not keep the server from stopping; the records left are
    counted on standard error. Called again, nothing more."""
    if not _RUNNING:
        return
    writer = _RUNNING.pop()
    queued = writer.queued
    logger = logging.getLogger(LOGGER)
    until = time.monotonic() + STOP_SECONDS
    try:
        writer.queue.put(writer._sentinel, timeout=STOP_SECONDS)
    except queue.Full:
        pass
    thread = writer._thread
    if thread is not None:
        thread.join(max(until - time.monotonic(), 0.0))
    if thread is not None and thread.is_alive():
        _not_written(writer)
        return
    logger.removeHandler(queued)
    for handler in writer.handlers:
        logger.addHandler(handler)
    while True:                     # what came after the sentinel (the writer's own warnings)
        try:
            record = writer.queue.get_nowait()
        except queue.Empty:
            break
        if record is not writer._sentinel:
            writer.handle(record)
    dropped = queued.take_dropped()
    if dropped is not None:
        writer.handle(dropped)


def _not_written(writer: Writer) -> None:
    """The thread still in a write past STOP_SECONDS: the records it had not reached are
    counted on standard error (the service's own file), the one place left."""
    path = next((handler.baseFilename for handler in writer.handlers if isinstance(handler, LogFile)), "-")
    left = writer.queue.qsize() + writer.queued.dropped
    try:
        sys.stderr.write(NOT_WRITTEN.format(path=path, seconds=STOP_SECONDS, left=left) + "\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass

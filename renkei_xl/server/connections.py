"""How long a connection may take, how many a worker keeps, and what the server says when
the machine runs short.

A municipal LAN holds PCs that open connections and send nothing (a broken client, a
scanner, someone trying): uvicorn keeps such a connection until the peer closes it, each
one an open file. About a thousand of them (the default limit of open files) stopped every
click, and asyncio's accept loop then wrote a traceback per attempt to the request log
(hundreds of megabytes in a minute). So:

- a connection must send its request line and headers within ``HEADER_SECONDS`` of opening
  and of each answer on it (kept alive), and a request its body within ``BODY_SECONDS``
  (renkei_xl.server.app.Guard), or it is closed. uvicorn's own keep-alive timer is no bound:
  the first byte of a next request switches it off, and nothing replaced it, so one byte
  after an answer held a connection for good;
- a connection whose client takes no part of its answer for ``WRITE_STALL_SECONDS`` (a
  client that stopped reading, or a PC gone from the network without closing) is cut: the
  answer waited in the server for good, the click's log line never came (server.app sends
  an answer in pieces and waits for each), and the connection kept its place;
- over HTTPS (``--ssl-certfile``), a connection must finish its TLS handshake within
  ``HANDSHAKE_SECONDS`` of opening, then send its head as above. uvicorn hands TLS to
  asyncio's ``create_server``, whose handshake limit is 60 s, and its protocol only sees a
  connection once the handshake is done: connections that never began one (20 of 20 were
  still open after 15 s) escaped both the head timer and the bound below. So the protocol
  does the handshake itself (``TimelyH11Protocol.tls``, asyncio's public ``start_tls`` on
  the plain connection uvicorn accepted), with its own timeout, counted from the accept;
- a worker keeps at most ``connection_limit()`` connections (below its open-files limit and
  below the 512 sockets of the selector Windows runs workers on), those still in their TLS
  handshake included; past it, of the address holding the most connections, the one that
  has waited longest for a request head (or for its handshake) is closed, so a flood of
  idle connections cannot keep a click out, nor one PC's flood another PC's click (nginx
  reuses its idle keep-alive connections the same way);
- the soft limit of open files is raised to the hard one at start (POSIX);
- a request uvicorn cannot read (TLS to plain HTTP, a broken header) is answered in
  Japanese with a number and logged as one request line (server.log), not uvicorn's
  English line without time or address;
- a message the event loop repeats (accept failing while files are short, connections
  closed for not finishing TLS) is written once a minute with the count of the repeats
  (server.log.OnceAMinute).

uvicorn's ``limit_concurrency`` is not used: it bounds nothing at accept (every connection
still takes its file), counts idle connections with requests, and answers a click past it
with an English 503 that staff would see, while the clicks themselves are already bounded
in Japanese by their turns (server.turns).

A reverse proxy in front (docs/staff-setup.md) absorbs slow clients as well.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import ssl
import time
from functools import lru_cache
from typing import Optional

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from .log import Quiet
from .refusals import NUMBER_TO_IT
from .turns import CLIENT_TIMEOUT_SECONDS

HEADER_SECONDS = 10.0     # a click's request line and headers are a few hundred bytes
# A TLS handshake is two round trips and a few kilobytes, done in milliseconds on a LAN:
# the head's limit is ample, and a shorter one is no safer (the bound on connections does that).
HANDSHAKE_SECONDS = HEADER_SECONDS
BODY_SECONDS = 60.0       # the largest body accepted (32 MB) over a slow office link
# An answer's bytes waiting in the server with none taken by the client for this long: the
# client has gone (xlwings' VBA client gives up after its timeout, server.turns).
WRITE_STALL_SECONDS = CLIENT_TIMEOUT_SECONDS
# Connections one worker keeps: far above an office's clicks at once (each click is one
# connection, kept 5 s after its answer), below 512 (the sockets select() takes on
# Windows, where workers run on a selector loop).
MAX_CONNECTIONS = 256
# Open files a worker keeps for everything but connections: the listening socket, logs,
# Python's own, and what a click opens (the master, its backup, a zip being written).
FILES_FOR_WORK = 64
MIN_CONNECTIONS = 16

UNREADABLE_REQUEST = ("サーバーに届いた要求を読めませんでした（HTTP の要求の形ではありません。受付番号 {request_id}）。"
                      + NUMBER_TO_IT)
UNREADABLE_OUTCOME = "読めない要求"
# A chunked body costs h11 about 20 microseconds a chunk on a loaded 2-core server, whatever
# the chunk holds, all of it inside the one event-loop turn that parses what a read brought
# (up to 256 KiB, some 43,000 one-byte chunks: a second during which no other connection of
# the worker is served). One client sending a body a byte a chunk, key or no key (a refused
# request's body is still parsed to its end, for up to HEADER_SECONDS), held every click of
# its worker back by seconds. A body may come in SMALL_CHUNKS_FREE chunks more than its
# bytes make in chunks of CHUNK_BYTES_FLOOR (no client of ours sends chunks; a proxy
# re-chunking sends kilobytes), or it is refused at once (TimelyH11Protocol, _CountedConnection).
SMALL_CHUNKS_FREE = 64
CHUNK_BYTES_FLOOR = 512
TINY_CHUNKS_REQUEST = ("サーバーに届いた要求を受け付けられませんでした（送信データが、1 つ平均 {floor} バイトに満たない"
                       "細かい断片（chunk）に分けて送られています。受付番号 {{request_id}}）。Excel のマスターのボタンは"
                       "この形で送らないため、Excel 以外の送信元か、途中の機器（プロキシなど）が送っています。"
                       + NUMBER_TO_IT).format(floor=CHUNK_BYTES_FLOOR)
TINY_CHUNKS_OUTCOME = "細かすぎる分割送信"
# In the scope uvicorn hands the app (its own dict, which the guard copies): the request's
# number (受付番号), taken by whichever of the guard and ``send_400_response`` comes first,
# and, when the rest of a request the app is reading cannot be parsed (a broken chunk), the
# status the protocol answered it with, for the guard's one line (server.app.Guard).
REQUEST_KEY = "renkei.request"
UNREADABLE_KEY = "renkei.unreadable"
UNREADABLE_OUTCOME_KEY = "renkei.unreadable.outcome"    # which of the two 400s (the guard's line says it)
# A request whose head had begun (some bytes of it came) and never ended: one line each, under
# a number of its own (nothing of it is logged: it was never authenticated). uvicorn, and the
# head timer, closed such a connection without a word: a PC whose link dropped mid-request, or
# a client that gave up, left IT no trace of a request that had reached the server.
HEAD_TIMED_OUT = "要求の途中で時間切れ"
HEAD_CLIENT_GONE = "要求の途中で切断"
HEAD_CLOSED_HERE = "要求の途中で打ち切り（接続数の上限かサーバー停止）"
# Requests sent before the answer to the one ahead of them (TimelyH11Protocol.on_response_complete).
PIPELINED = "答えを待たずに送られた要求（接続を閉じた）"
LIMIT_REACHED = ("connection limit %d reached: closed the connection that waited longest for a request, "
                 "of the address holding the most connections")
# Records of uvicorn's logger (server.log writes them once a minute, with the count held back):
TLS_TIMED_OUT = "TLS handshake not finished within %g s: closed the connection from %s"
TLS_FAILED = "TLS handshake failed: closed the connection from %s (%s)"

_QUIET = Quiet()      # one per worker, as the Guard's (server.app.QUIETED)


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


@lru_cache(maxsize=1)
def connection_limit() -> int:
    """Connections a worker keeps: MAX_CONNECTIONS, or fewer where the open-files limit
    (after ``raise_open_files_limit``) would not leave FILES_FOR_WORK beside them."""
    try:
        import resource
    except ImportError:      # Windows: no such limit; MAX_CONNECTIONS keeps under select()'s 512
        return MAX_CONNECTIONS
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(MIN_CONNECTIONS, min(MAX_CONNECTIONS, soft - FILES_FOR_WORK))


class _CountedConnection(h11.Connection):
    """h11's server connection, counting each request body's chunks and bytes as they are
    parsed and refusing the body once its chunks are too small (SMALL_CHUNKS_FREE): raised
    from ``next_event``, inside uvicorn's loop over a read's events, so the loop stops there
    and uvicorn answers it as a request it cannot read (TimelyH11Protocol.send_400_response),
    which tells this refusal by ``tiny``."""

    _chunks = 0
    _bytes = 0
    tiny = False

    def next_event(self):
        event = super().next_event()
        if isinstance(event, h11.Request):
            self._chunks = self._bytes = 0
        elif isinstance(event, h11.Data):
            self._bytes += len(event.data)
            if event.chunk_start:
                self._chunks += 1
                # the free chunks are the slack: a chunk begun holds only what has come of it yet
                if self._bytes < (self._chunks - SMALL_CHUNKS_FREE) * CHUNK_BYTES_FLOOR:
                    self.tiny = True
                    raise h11.RemoteProtocolError(f"{self._chunks} chunks holding {self._bytes} bytes")
        return event


class TimelyH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing a connection that has not sent a whole request
    head within ``header_seconds`` of opening (or of its last answer, when kept alive), and
    keeping at most ``max_connections`` in its worker (None: ``connection_limit()``).

    ``tls`` (set in each worker by server.run.use_tls): the connection uvicorn accepted in
    plain TCP is upgraded here, with ``start_tls`` and a timeout of ``handshake_seconds``,
    and counts toward ``max_connections`` from the accept. Not uvicorn's own TLS: it gives
    asyncio's ``create_server`` no handshake timeout (60 s) and builds its protocol only
    after the handshake, and neither uvicorn.Config nor uvicorn.Server has a setting for
    either; a subclass of uvicorn.Server would copy its ``startup`` and ``uvicorn.run``'s
    supervisors. The protocol class is uvicorn's documented ``http`` setting."""

    header_seconds = HEADER_SECONDS
    handshake_seconds = HANDSHAKE_SECONDS
    write_stall_seconds = WRITE_STALL_SECONDS
    max_connections: Optional[int] = None
    tls: Optional[ssl.SSLContext] = None

    _head_timer = None
    _stall_timer = None
    _armed_for = None          # the request cycle the head timer was set after (None: none yet)
    _waiting_since = 0.0
    _handshake = None          # the TLS handshake under way (a task), None once done or failed
    _early = None              # what TLS decrypted before the handshake's task went on (a list)
    _closed_here = False       # closed by the server (the bound, a stop): not the client's failure
    _served = False            # uvicorn's connection_made done (after the handshake over TLS)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # made as uvicorn makes its own (the same bound on an incomplete head), counting chunks
        size = self.config.h11_max_incomplete_event_size
        self.conn = _CountedConnection(h11.SERVER) if size is None else _CountedConnection(h11.SERVER, size)

    def connection_made(self, transport) -> None:  # type: ignore[override]
        if self.tls is not None and transport.get_extra_info("sslcontext") is None:
            self._start_handshake(transport)
        else:
            self._connected(transport)

    def _connected(self, transport) -> None:
        super().connection_made(transport)
        self._served = True
        self._arm_head_timer()
        self._make_room()

    def data_received(self, data: bytes) -> None:
        """A client's first request comes with its last handshake flight: asyncio's TLS layer
        hands it over (4 requests in 5 measured) before ``start_tls`` has returned, so before
        uvicorn's ``connection_made``. It is kept until then (``_tls_handshake``)."""
        if self._early is not None:
            self._early.append(data)
        else:
            super().data_received(data)

    def shutdown(self) -> None:
        if self._handshake is not None:      # a stop: no request to finish on it
            self._close_here()
        else:
            self._head_cut(HEAD_CLOSED_HERE)
            super().shutdown()

    def on_response_complete(self) -> None:
        """After each answer on a kept-alive connection the next head is awaited anew. Set
        before uvicorn's own step, which may start a request already received: a request
        sent before this answer was complete (HTTP pipelining) is not served, and the
        connection is closed (RFC 9112 9.3.2 lets a server close; a client retries on a new
        connection). No client of the server pipelines (xlwings' VBA client, browsers,
        monitors wait for each answer), and a connection working through requests queued
        in one go is in the middle of a request all the while, which the bound on
        connections cannot close (``_make_room``): 300 connections from one PC, each with
        3,000 health checks queued (no key needed) and none of the answers read, held every
        place for minutes, and every other PC's connection was closed at once."""
        if not self.transport.is_closing():
            if self.conn.their_state is h11.DONE and self.conn.trailing_data[0]:
                self._pipelined_cut()
            else:
                self._arm_head_timer()
        super().on_response_complete()

    def _pipelined_cut(self) -> None:
        """The connection closed on requests sent ahead of their answers, said once (a line
        per client a minute, as the other cuts: ``_QUIET``)."""
        self._said_once(PIPELINED, secrets.token_hex(4), "-", 0)
        self._closed_here = True
        self.transport.close()

    def handle_events(self) -> None:
        super().handle_events()
        if self._head_timer is not None and self.cycle is not self._armed_for:   # a new request's head
            self._cancel_head_timer()

    def connection_lost(self, exc) -> None:
        self._head_cut(HEAD_CLIENT_GONE)
        self._cancel_head_timer()
        self._cancel_stall_timer()
        if not self._served:        # asyncio's TLS layer reports a failed handshake here too
            self.connections.discard(self)
            return
        super().connection_lost(exc)

    def pause_writing(self) -> None:
        """The answer's bytes are past what the connection holds unsent: the client must
        take some within ``write_stall_seconds`` or the connection is cut (abort: a close
        would wait for the bytes to go). uvicorn then drops the rest of the answer and the
        guard logs it as not delivered (server.app._in_pieces)."""
        super().pause_writing()
        if self._stall_timer is None:
            self._stall_timer = self.loop.call_later(self.write_stall_seconds, self.transport.abort)

    def resume_writing(self) -> None:
        self._cancel_stall_timer()
        super().resume_writing()

    def _cancel_stall_timer(self) -> None:
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = None

    def send_400_response(self, msg: str) -> None:
        """A request h11 cannot parse: uvicorn answered ``Invalid HTTP request received.`` in
        English and logged it without time, number or address. Answered here in Japanese
        with a number, and logged as the request line of that number (server.log); the
        answer and the close are uvicorn's own steps."""
        from .refusals import TEXT

        self._cancel_head_timer()       # this line says it: not a head cut as well (_head_cut)
        # A request the app is reading whose body cannot be parsed (a chunk size that is no
        # number): answered under the guard's number, and its one line is the guard's. It
        # wrote a second line, 「切断」 with no status, under a number the client never saw.
        cycle = self.cycle if self.cycle is not None and self.cycle.more_body else None
        request_id = cycle.scope.setdefault(REQUEST_KEY, secrets.token_hex(4)) if cycle else secrets.token_hex(4)
        text, outcome = ((TINY_CHUNKS_REQUEST, TINY_CHUNKS_OUTCOME) if self.conn.tiny
                         else (UNREADABLE_REQUEST, UNREADABLE_OUTCOME))
        body = text.format(request_id=request_id).encode("utf-8")
        headers = [(b"content-type", TEXT.encode("ascii")), (b"content-length", str(len(body)).encode("ascii")),
                   (b"connection", b"close")]
        try:
            for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"), h11.Data(data=body),
                          h11.EndOfMessage()):
                self.transport.write(self.conn.send(event))
        except h11.LocalProtocolError:       # h11 cannot answer in this state: nothing sent
            status: int | str = "-"
        else:
            status = 400
        self.transport.close()
        if cycle is not None:       # the guard's line says it, with what it knows of the request
            cycle.scope[UNREADABLE_KEY] = status
            cycle.scope[UNREADABLE_OUTCOME_KEY] = outcome
            # Gone for the app now, as connection_lost will say: the guard, when it had not run
            # yet (the broken chunk came with the head), answered 401 on the answered
            # connection, and h11's refusal of it was a traceback in the error log and an
            # ERROR line of uvicorn's (「returned without completing response」).
            cycle.disconnected = True
            cycle.message_event.set()
            return
        self._said_once(outcome, request_id, status, (time.monotonic() - self._waiting_since) * 1000)

    def _said_once(self, outcome: str, request_id: str, status: "int | str", millis: float) -> None:
        """The log line of a connection cut here (``outcome``: why), bounded per client and
        outcome (``_QUIET``: a line a minute, then how many repeats): a flood of them is a
        bounded log. One wording of the three cuts (unreadable, pipelined, a head cut off)."""
        from . import log as server_log

        client = (self.client or ("-",))[0]
        shown, repeats = _QUIET.let((client, outcome))
        if shown:
            server_log.log.info("%s", server_log.request_line(
                request=request_id, client=client, outcome=outcome, status=status, millis=millis, repeats=repeats))

    # ------------------------------------------------------------------ the head timer

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._armed_for = self.cycle
        self._waiting_since = time.monotonic()
        self._head_timer = self.loop.call_later(self.header_seconds, self._no_request)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _no_request(self) -> None:
        self._head_cut(HEAD_TIMED_OUT)
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def _head_cut(self, outcome: str) -> None:
        """The line of a request whose head had begun and will not end (``outcome``: why),
        once; nothing when no byte of a head came (a kept-alive connection closed idle, a
        port check): those are no request, nor the rest of a body answered before it ended
        (a chunked body refused as slow: h11 holds its trailer or size line unparsed, and the
        request has its line already). Bounded per client as refusals are (``_QUIET``)."""
        if self._head_timer is None or not self._served or not self.conn.trailing_data[0] \
                or self.conn.their_state is not h11.IDLE:
            return
        self._cancel_head_timer()       # said: the close that follows says nothing more
        self._said_once(outcome, secrets.token_hex(4), "-", (time.monotonic() - self._waiting_since) * 1000)

    # ------------------------------------------------------------------ TLS

    def _start_handshake(self, raw) -> None:
        """The plain connection counted and closable (``transport``) while TLS is set up on it."""
        self.transport = raw
        self.connections.add(self)
        self._waiting_since = time.monotonic()
        self._early = []
        self._handshake = self.loop.create_task(self._tls_handshake(raw))
        self._make_room()

    async def _tls_handshake(self, raw) -> None:
        peer = (raw.get_extra_info("peername") or ("-",))[0]
        started = self.loop.time()
        tls, failure = None, None
        try:
            tls = await self.loop.start_tls(raw, self, self.tls, server_side=True,
                                            ssl_handshake_timeout=self.handshake_seconds)
        except (OSError, asyncio.TimeoutError) as exc:      # ssl.SSLError is an OSError
            failure = exc
        finally:
            self._handshake = None
            if tls is None:
                self._early = None
                self.connections.discard(self)
                raw.close()
        if tls is None:
            # Said: the limit, and what the TLS layer refused (plain HTTP sent to the HTTPS
            # port, a client refusing the certificate). Not: a close by the server (the
            # bound says so itself, a stop), nor by the client (ConnectionResetError: a
            # port check, a client that gave up), which is no fault of TLS. None without a
            # failure: closed during the handshake.
            if failure is not None and not self._closed_here and not isinstance(failure, ConnectionResetError):
                # asyncio's timeout aborts so (its timer may fire a clock tick early, 16 ms on Windows)
                if isinstance(failure, ConnectionAbortedError) and self.loop.time() - started >= 0.9 * self.handshake_seconds:
                    logging.getLogger("uvicorn.error").warning(TLS_TIMED_OUT, self.handshake_seconds, peer)
                else:
                    logging.getLogger("uvicorn.error").warning(TLS_FAILED, peer, str(failure)[:200] or type(failure).__name__)
            return
        early, self._early = self._early, None
        self._connected(tls)
        for data in early:
            if self.transport.is_closing():
                break
            self.data_received(data)

    def _close_here(self) -> None:
        self._closed_here = True
        self._head_cut(HEAD_CLOSED_HERE)
        self._cancel_head_timer()
        self.transport.close()

    # ------------------------------------------------------------ connections kept

    def _make_room(self) -> None:
        """Past the limit, a connection waiting for a request head (or in its TLS handshake)
        is closed: of the address holding the most connections in this worker, the one that
        has waited longest (this one, when every other is in the middle of a request).

        By age alone, one PC on the LAN opening connections without end (a broken client, a
        scanner, someone trying) closed every other PC's connection before its head came: a
        click from a PC whose request took a moment longer (a slow link, a TLS handshake) was
        cut, the flood's own connections newer than it. Taken from the address holding the
        most, the flood closes its own, and the others keep their places."""
        limit = self.max_connections or connection_limit()
        if len(self.connections) <= limit:
            return
        held: dict = {}
        for p in self.connections:
            held[_address(p)] = held.get(_address(p), 0) + 1
        waiting = [p for p in self.connections
                   if isinstance(p, TimelyH11Protocol) and (p._head_timer is not None or p._handshake is not None)
                   and not p.transport.is_closing()]
        closed = min(waiting, key=lambda p: (-held[_address(p)], p._waiting_since), default=self)
        closed._close_here()
        logging.getLogger("uvicorn.error").warning(LIMIT_REACHED, limit)


def _address(protocol) -> str:
    """The client address of a connection (its TCP peer: a TLS connection in its handshake
    has no ``client`` of uvicorn's yet)."""
    peer = getattr(protocol, "client", None)
    if not peer:
        transport = getattr(protocol, "transport", None)
        peer = transport.get_extra_info("peername") if transport is not None else None
    return str(peer[0]) if peer else "-"

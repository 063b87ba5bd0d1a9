"""The ASGI app: one POST endpoint per button, behind a guard that checks the key and the size.

Endpoints come from the one button list (renkei_xl.core.contract.BUTTONS) and the entry
point each button's macro names (Renkei.bas, renkei_xl.vba.sources.button_entries), so a
sixth button is served as soon as it is in both, with no change here.

What a request may be answered:
- 200 and xlwings' actions (``book.json()``): the button ran; its message to staff is the
  last action (an alert), whatever happened inside, as with a local click;
- 401, 413, 400, 409, 422 and plain Japanese text: refused before anything ran. xlwings'
  VBA client shows such a text in a message box as it is, so it is written for staff;
- 403, 404, 409 and plain Japanese text as well (renkei_xl.server.refusals, .admission);
- 500 and Japanese text with only a 受付番号: something unexpected failed; the traceback
  is in the error log under that number (renkei_xl.server.log), never in the answer.

A click whose client has gone (Excel's timeout, Excel closed) while it waited for its turn
is not run: nobody would see its message, and a file button would leave a file staff were
never told of. One whose client goes while it runs is run to its end (a write stopped
halfway is worse), and its log line says the answer was not delivered and how many files
the click wrote: uvicorn drops an answer to a closed connection without a word, so the
guard watches for the ASGI ``http.disconnect`` itself.

Each request gets its own remote-engine App and Book: xlwings' remote engine keeps one
"active book" per App and ``app.alert`` writes into it, so two clicks sharing xlwings'
default App could swap their messages. The book is closed after the answer is built and
nothing of the payload is written anywhere; the log line (written by the guard, one per
request) is number, client address, button, book, the Excel user name the client sent,
outcome, status, what it wrote in the work folder (a count, 0 for nothing) and duration.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import hmac
import ipaddress
import re
import json
import secrets
import time
from pathlib import Path
from typing import Callable, Iterator, Optional

# Starlette alone, not FastAPI on it: each route takes the Request, nothing is read through
# FastAPI's parameters or models, and importing FastAPI with pydantic cost every worker about
# half its start (0.2 of 0.4 CPU s), 18 MB for the server's life, and the offline folder
# pydantic-core's compiled wheels for every Python and platform.
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ..core import contract as c
from ..core.errors import UserError
from ..core.refs import COLUMN_LETTERS
from ..core.unsaved import BookState
from ..excel.client import ClientCannotReplay, clash_text, exact_numbers, fit_actions, request_action, upgrade_note, with_note
from ..vba.sources import shipped_replayable
from . import limits
from . import log as server_log
from .admission import MASTER_HEADER, PLACE_HEADER, admit
from .book_state import BOOK_STATE_HEADER, book_state
from .currency_header import CURRENCY_HEADER, currency_header
from .percent_header import PERCENTS_HEADER, percent_header
from .sheet_positions import CHART_SHEETS_HEADER, TABS_HEADER, other_tabs, positions, to_worksheets
from .config import ServerConfig
from .place import NameTooLong, Place, safe_book_name
from .connections import (BODY_SECONDS, REQUEST_KEY, TINY_CHUNKS_OUTCOME, UNREADABLE_KEY, UNREADABLE_OUTCOME,
                          UNREADABLE_OUTCOME_KEY)
from .guesses import HELD_OUTCOME, Guesses
from .issued import NAME as ISSUED_NAME, Issued
from .turns import Busy, Turns
from .refusals import NOT_FOUND, TEXT, UNSENDABLE_OUTCOME, Refusal, numbered, parse_payload, unexpected

GONE_KEY = "renkei.gone"            # scope: set (asyncio.Event) once the client has gone, after the body
OUTCOME_KEY = "renkei.outcome"      # scope: what the endpoint reports for the log line
ARRIVED_KEY = "renkei.arrived"      # scope: time.monotonic() when the guard met the request (server.turns)
NOT_RUN = "実行せず（接続切れ）"      # outcome: the client left before the click's turn
LOST = "応答できず（接続切れ）"        # outcome: the client left before the answer; result= says what ran
STOPPED = "実行せず（サーバー停止）"   # outcome: the server was stopped at once before the click's turn
STOPPED_TEXT = ("renkei-xl サーバーが停止されたため、ボタンを実行しませんでした。ブックは変更していません。"
                "IT 担当者にサーバーを起動し直してもらってから、もう一度ボタンを押してください。")

USER_HEADER = "x-renkei-user"       # Application.UserName as UTF-16 hex (RenkeiServer.bas)
CLIENT_HEADER = "x-renkei-client"   # the master carries RenkeiServer.bas' actions
BUTTON_PREFIX = "/buttons/"
OUTCOME_SUFFIX = "/outcome"        # POST by the client when Excel failed to replay an answer


def endpoints() -> dict[str, tuple[str, str]]:
    """Entry point ("recalc") -> (caption, macro) for every button of the contract."""
    from ..vba.sources import button_entries

    entries = button_entries()
    out = {}
    for caption, macro, _what in c.BUTTONS:
        if macro not in entries:
            raise RuntimeError(f"Renkei.bas has no RenkeiRun line for {macro}")
        out[entries[macro]] = (caption, macro)
    return out


def create_app(config: ServerConfig):
    """The Guard in front of a Starlette app: the health route and each button's two."""
    _load_engine()
    buttons = endpoints()

    async def health(_request: Request) -> JSONResponse:
        """For a monitor or a person checking the address: says nothing about workbooks."""
        return JSONResponse({"status": "ok", "service": "renkei-xl", "buttons": list(buttons)})

    turns, running, issued = Turns(config.clicks_at_once, config.turn_wait), _running(config), _issued(config)

    def endpoint(entry: str, caption: str) -> Callable:
        async def run(request: Request):
            body = request.scope.get("renkei.body", b"")
            request_id = request.scope.get(REQUEST_KEY) or secrets.token_hex(4)
            user = _user(request.headers.get(USER_HEADER, "")) or "-"
            written: list = []
            seen: dict = {}
            request.scope[OUTCOME_KEY] = {"button": caption, "user": user}   # its line if stopped while waiting
            try:
                async with _in_turn(turns, seen, running, request, request_id, caption, user) as until:
                    if await request.is_disconnected():      # gone while waiting: nobody to answer
                        request.scope[OUTCOME_KEY] = {"button": caption, "outcome": NOT_RUN, "user": user, "waited": seen.get("waited")}
                        return PlainTextResponse("", status_code=204)
                    status, answer, outcome = await _to_its_end(
                        _still_running(request, caption, user), handle, config, entry, body, bool(request.headers.get(CLIENT_HEADER)), request_id,
                        caption, request.headers.get(MASTER_HEADER, ""), request.headers.get(CHART_SHEETS_HEADER, ""),
                        written, seen, book_state(request.headers.get(BOOK_STATE_HEADER, "")), _opened(request.headers.get(PLACE_HEADER)), until,
                        request.headers.get(PERCENTS_HEADER), request.headers.get(CURRENCY_HEADER),
                        request.headers.get(TABS_HEADER))
            except Busy as busy:
                status, answer, outcome = 503, busy.said(c.named(caption)), "混雑"
            request.scope[OUTCOME_KEY] = {"button": caption, "outcome": outcome, "user": user,
                                          "book": seen.get("book"), "written": len(written), "waited": seen.get("waited")}
            if status == 200:
                await issued.given(request_id, entry)   # before the answer: its report may follow at once
                return Response(_answer_json(_numbered_refusal(answer, request_id), seen), media_type="application/json")
            return PlainTextResponse(numbered(answer, request_id), status_code=status, media_type=TEXT)
        run.__name__ = f"button_{entry}"
        return run

    def outcome(entry: str, caption: str) -> Callable:
        async def report(request: Request):
            """RenkeiServer.bas' RenkeiReport, Excel failing to replay an answer: Excel's error
            once for a number issued to the button (server.issued), else said as unverified."""
            number, text, answered = _failure_report(request.scope.get("renkei.body", b""))
            request.scope[OUTCOME_KEY] = {"button": caption, "outcome": await issued.claimed(answered, entry), "answered": answered,
                                          "error": number, "text": text,
                                          "user": _user(request.headers.get(USER_HEADER, "")) or "-"}
            return PlainTextResponse("", status_code=204)
        report.__name__ = f"outcome_{entry}"
        return report

    routes, paths = [Route("/", health, methods=["GET"])], set()
    for entry, (caption, _macro) in buttons.items():
        routes += [Route(BUTTON_PREFIX + entry, endpoint(entry, caption), methods=["POST"], name=caption),
                   Route(BUTTON_PREFIX + entry + OUTCOME_SUFFIX, outcome(entry, caption), methods=["POST"],
                         name=caption + " の結果")]
        paths |= {BUTTON_PREFIX + entry, BUTTON_PREFIX + entry + OUTCOME_SUFFIX}
    return Guard(Starlette(routes=routes, exception_handlers={Exception: _unexpected_answer}), config, paths)


def _issued(config: ServerConfig) -> Issued:
    """The numbers given to clicks (server.issued), in a file beside the error log that every
    worker shares; in memory without an error log (an app made in a test)."""
    return Issued(Path(config.error_log).parent / ISSUED_NAME if config.error_log is not None else None)


def _running(config: ServerConfig):
    """This worker's file of running clicks (server.running), beside the error log, once a
    line is written for each click a worker that has gone left unanswered; None without an
    error log (an app made in a test)."""
    if config.error_log is None:
        return None
    from .running import Running, left_by_others

    folder = Path(config.error_log).parent
    for record in left_by_others(folder):
        server_log.log.warning("%s", record)
    return Running.open(folder)


@contextlib.asynccontextmanager
async def _in_turn(turns: Turns, seen: dict, running, request: Request, request_id: str, caption: str, user: str):
    """The click's turn (server.turns: yields the moment it may wait until), and its line as
    it would be if its process ended meanwhile (server.running): 実行せず while it waits for
    its turn, 中断 once it runs. Only a running click was recorded: clicks waiting behind it
    when the server was killed had no line at all, though each had reached the server and
    its staff met a broken connection."""
    from .running import CUT, NOT_RUN_CUT

    with _recorded(running, request, request_id, caption, user, NOT_RUN_CUT) as record:
        async with turns.turn(seen, request.scope.get(ARRIVED_KEY)) as until:
            record(CUT)
            yield until


@contextlib.contextmanager
def _recorded(running, request: Request, request_id: str, caption: str, user: str,
              outcome: str) -> Iterator[Callable[[str], None]]:
    """While the click waits or runs, its line as it would be if its process ended, with
    ``outcome`` (server.running); yields how to change that outcome."""
    if running is None:
        yield lambda _outcome: None
        return
    started = server_log.stamp()

    def record(said: str) -> None:
        running.soon(running.started, request_id, server_log.line(
            request=request_id, client=request.client.host if request.client else "-", button=caption, user=user,
            outcome=said, status="-", started=started))

    record(outcome)
    try:
        yield record
    finally:
        running.soon(running.ended, request_id)


async def _unexpected_answer(request: Request, _exc: Exception) -> PlainTextResponse:
    """What starlette's outermost middleware answers for an exception out of an endpoint: it
    answers before the Guard sees the exception, and its own answer was the English
    「Internal Server Error」 without a 受付番号. The Guard logs the traceback under that number."""
    return PlainTextResponse(unexpected(request.scope.get(REQUEST_KEY, "-")), status_code=500, media_type=TEXT)


# A click still running after this long has met something that hangs (a share that stopped
# answering): the buttons answer within 10 s up to the size served (server.turns). The log
# says so while it runs, under its number: otherwise every later click of its worker was
# refused as 混雑 for as long as it hung, and nothing in the log said why.
STILL_RUNNING_SECONDS = 60.0
STILL_RUNNING = "実行中のまま"        # outcome of that line; the click's own line follows when it ends


async def _to_its_end(still_running: Callable[[float], None], func: Callable, *args):
    """``func(*args)`` in a thread, awaited to its end even when the server is stopped at once
    (a second Ctrl+C: asyncio then cancels every task, starlette's thread-pool call's own
    included). The thread went on writing all the same (Python waits for it before it
    exits), but Excel was answered uvicorn's English 「Internal Server Error」, and the log
    had no line for a click that made a file. A future of the loop's executor is no task:
    nothing cancels it, so the click's answer and its line are what it did.
    ``still_running(seconds)`` once the run is past STILL_RUNNING_SECONDS."""
    context = contextvars.copy_context()
    done = asyncio.get_running_loop().run_in_executor(None, functools.partial(context.run, func, *args))
    wait: Optional[float] = STILL_RUNNING_SECONDS
    while True:
        try:
            return await asyncio.wait_for(asyncio.shield(done), wait)
        except asyncio.TimeoutError:
            still_running(wait)
            wait = None
        except asyncio.CancelledError:
            return await done


def _still_running(request: Request, caption: str, user: str) -> Callable[[float], None]:
    def say(seconds: float) -> None:
        server_log.log.warning("%s", server_log.request_line(
            request=request.scope.get(REQUEST_KEY, "-"), client=(request.client.host if request.client else "-"),
            status="-", outcome=STILL_RUNNING, millis=seconds * 1000, button=caption, user=user))
    return say


# seen: (the answer, its JSON) as _ran measured it against what the client can take
ANSWER_KEY = "answer"


def _answer_json(answer: dict, seen: dict) -> bytes:
    """The answer as sent (server.limits.answer_json), encoded once: _ran encodes it to
    measure it, and the same text is sent unless a 受付番号 was added since
    (_numbered_refusal gives a new answer then). Encoding it twice was a twentieth of a
    click's CPU (a 評価を再計算's answer is thousands of actions)."""
    measured = seen.get(ANSWER_KEY)
    if measured is not None and measured[0] is answer:
        return measured[1]
    return limits.answer_json(answer)


def _numbered_refusal(answer: dict, request_id: str) -> dict:
    """An answer whose click was stopped (its last message critical) with the request number
    in that message: staff quote it, the log line has it (server.log)."""
    actions = answer.get("actions", [])
    alerts = [a for a in actions if a.get("func") == "alert"]
    if not alerts or alerts[-1]["args"][3] != "critical" or "受付番号" in str(alerts[-1]["args"][0]):
        return answer
    return {**answer, "actions": with_note(actions, f"受付番号 {request_id}")}


def _failure_report(body: bytes) -> tuple[str, str, str]:
    """(error number, Excel's text, the request number it answers) of a client's report;
    "?" where absent. The log line escapes them (server.log)."""
    try:
        data = json.loads(body.decode("utf-8")) if len(body) <= 4096 else {}
    except (UnicodeDecodeError, ValueError, RecursionError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    number = data.get("error")
    answered = data.get("request")
    return (str(number) if isinstance(number, int) else "?", str(data.get("description") or "")[:300],
            answered if isinstance(answered, str) and answered.isalnum() and len(answered) <= 16 else "?")


# ----------------------------------------------------------------------- the guard

# A request with both Transfer-Encoding and Content-Length: uvicorn (h11) reads its body by its
# chunks and kept the connection, while a proxy in front (docs/staff-setup.md) may read it by its
# Content-Length. Bytes the proxy forwarded as one request's body were then read here as a request
# of their own, joined to the next client's (its address, its key): request smuggling. RFC 9112
# 6.1 has the server close the connection after answering one; it is refused unread as well, before
# the key is asked (the smuggled bytes are the danger, whoever sent them). No xlwings client sends
# both; the log says so (outcome TWO_LENGTHS_OUTCOME), a flood of them bounded as refusals are.
TWO_LENGTHS_OUTCOME = "長さの指定が二重"
TWO_LENGTHS = ("送信データの長さの指定が二重です（Content-Length と Transfer-Encoding の両方があります）。サーバーは"
               "読まずに断り、接続を閉じました。Excel のマスターのボタンはこの形で送らないため、Excel 以外の送信元か、"
               "途中の機器（プロキシなど）が送っています。ブックは変更していません。IT 担当者に連絡してください。")


# What a request comes to before its key or its button is known (server.log.Quiet): a
# refusal, or a look at the address (a monitor's; a flood of them is no monitor).
QUIETED = frozenset({"鍵が違う", "宛先なし", "稼働確認", HELD_OUTCOME, TWO_LENGTHS_OUTCOME, UNREADABLE_OUTCOME,
                     TINY_CHUNKS_OUTCOME})


class Guard:
    """Pure ASGI in front of the app: a number for the request, the key before anything is
    read, then the path, then the size, then the whole body read once (bounded) and handed
    to the endpoint. Refusals are Japanese text; so is an unexpected failure anywhere below
    (500 with the number only). One log line per request, written here whatever happened:
    an unauthenticated request's path and headers are not in it."""

    def __init__(self, app, config: ServerConfig, paths: set[str] = frozenset()):
        self.app, self.config, self.paths = app, config, set(paths)
        self._key = config.key.encode("utf-8")
        server_log.keep_out(config.key)     # in no line, whichever field a client sends it in
        self._held = 0      # bytes of request bodies held in this worker (Held)
        self._quiet = server_log.Quiet()
        self._guesses = Guesses()           # wrong keys slowed down (server.guesses)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            return await self._no_websocket(scope, send)
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        # On uvicorn's scope too: the protocol answers a body it cannot parse under this number
        # (connections.TimelyH11Protocol.send_400_response), and says so there (UNREADABLE_KEY).
        origin = scope
        request_id = origin.setdefault(REQUEST_KEY, secrets.token_hex(4))
        scope = dict(scope)
        scope["client"] = client_of(scope, self.config.proxy)
        scope[ARRIVED_KEY] = time.monotonic()       # the turn's wait counts the body's sending (server.turns)
        record = {"status": 500, "sent": False, "lost": False}

        def left() -> bool:
            gone = scope.get(GONE_KEY)
            return gone is not None and gone.is_set()

        async def watched(message):
            if message["type"] == "http.response.start":
                if left():      # uvicorn drops it: the log must not say it was sent
                    record["lost"] = True
                else:
                    record["status"], record["sent"] = message["status"], True
            elif message["type"] == "http.response.body" and record["sent"]:
                if not await _in_pieces(send, message, left):
                    record["lost"] = True
                return
            await send(message)

        fields: dict = {}
        try:
            fields = await self._serve(scope, receive, watched)
        except asyncio.CancelledError:     # the server stopped at once before the click ran
            fields = {"outcome": STOPPED}
            if not record["sent"]:
                await _text(watched, 503, numbered(STOPPED_TEXT, request_id))
        except Exception:
            server_log.error(request_id, "guard")
            fields = {"outcome": "エラー"}
            if not record["sent"]:
                await _text(watched, 500, unexpected(request_id))
        fields = {**fields, **scope.get(OUTCOME_KEY, {})}
        if origin.get(UNREADABLE_KEY) == 400:   # what the client got, whatever the guard sent after it
            fields = {key: value for key, value in fields.items() if key in ("path", "button", "user", "book")}
            fields["outcome"] = origin.get(UNREADABLE_OUTCOME_KEY, UNREADABLE_OUTCOME)
            record.update(status=400, sent=True, lost=False)
        if "button" in fields:
            fields.pop("path", None)
        if record["lost"] and fields.get("outcome") != NOT_RUN:
            fields.update(outcome=LOST, result=fields.get("outcome", "-"))
        client = (scope.get("client") or ("-",))[0]
        if fields.get("outcome") in QUIETED:
            shown, fields["repeats"] = self._quiet.let((client, fields["outcome"]))
            if not shown:
                return
        server_log.log.info("%s", server_log.request_line(
            request=request_id, client=client, status=record["status"] if record["sent"] else "-",
            millis=(time.perf_counter() - started) * 1000, **{"outcome": "-", **fields}))

    async def _no_websocket(self, scope, send) -> None:
        """A WebSocket upgrade, which no button uses: closed before it is accepted (uvicorn
        answers 403), with its line. uvicorn hands one to the app only where a WebSocket
        library is installed beside it (``uvicorn[standard]``, or one another package
        brought): it went past the guard to the framework, which closed it, so no key was asked
        and the log had no line for a request that had reached the server. ``serve`` also
        turns uvicorn's WebSockets off (run.serve: ``ws="none"``)."""
        request_id = secrets.token_hex(4)
        await send({"type": "websocket.close", "code": 1008})
        client = (scope.get("client") or ("-",))[0]
        shown, repeats = self._quiet.let((client, server_log.UPGRADE_REFUSED))
        if shown:
            server_log.log.info("%s", server_log.request_line(request=request_id, client=client, status=403,
                                                              outcome=server_log.UPGRADE_REFUSED, millis=0,
                                                              repeats=repeats))

    async def _serve(self, scope, receive, send) -> dict:
        """The request answered; the fields the log line may show of it."""
        path = scope["path"] = origin_form(scope["path"])
        headers = {k.decode("latin-1").lower(): v for k, v in scope.get("headers", [])}
        if "transfer-encoding" in headers and "content-length" in headers:     # before anything: a smuggling
            await _text(send, 400, numbered(TWO_LENGTHS, scope[REQUEST_KEY]), close=True)
            return {"outcome": TWO_LENGTHS_OUTCOME}
        if not path.startswith(BUTTON_PREFIX):
            if path == "/" and scope["method"] in ("GET", "HEAD"):
                await self.app(scope, receive, send)
                return {"outcome": "稼働確認"}
            await _text(send, 404, numbered(NOT_FOUND, scope[REQUEST_KEY]))
            return {"outcome": "宛先なし"}
        client = (scope.get("client") or ("-",))[0]
        held = self._guesses.held(client)
        if held is not None:            # its key not checked: the answer tells no right key from a wrong one
            await _text(send, 429, numbered(held, scope[REQUEST_KEY]))
            return {"outcome": HELD_OUTCOME}
        if not self._authorised(headers.get("authorization", b"")):
            self._guesses.wrong(client)
            await _text(send, 401, numbered(f"renkei-xl サーバーの鍵が違うか、ありません。シート「{c.XLWINGS_CONF}」の AUTH "
                                            "（またはパソコンの xlwings.conf）に、IT 担当者から受け取った鍵を書いてください。",
                                            scope[REQUEST_KEY]))
            return {"outcome": "鍵が違う"}
        self._guesses.right(client)
        if path not in self.paths:
            await _text(send, 404, numbered(NOT_FOUND, scope[REQUEST_KEY]))
            return {"path": path, "outcome": "ボタンなし"}
        if scope["method"] != "POST":
            await _text(send, 405, numbered("ボタンは Excel のマスターから押してください（POST だけを受け付けます）。",
                                            scope[REQUEST_KEY]))
            return {"path": path, "outcome": "方法の誤り"}
        coding = headers.get("content-encoding", b"").strip().lower()
        if coding not in (b"", b"identity"):        # never unpacked: no bomb, no guess
            await _text(send, 415, numbered(ENCODED, scope[REQUEST_KEY]))
            return {"path": path, "outcome": "圧縮された送信"}
        limit = self.config.max_bytes
        declared = headers.get("content-length", b"")
        declared = int(declared) if declared.isdigit() else 0
        if declared > limit:
            await _too_large(send, limit, scope[REQUEST_KEY])
            return {"path": path, "outcome": "大きすぎる"}
        held = Held(self)
        try:
            refused = await self._read_body(scope, receive, send, held)
            if refused:
                return {"path": path, "outcome": refused}
            await self._hand_over(scope, receive, send)
        finally:
            held.release()
        return {"path": path}

    async def _read_body(self, scope, receive, send, held: "Held") -> str:
        """The whole body into ``scope["renkei.body"]``, within the size, the time and the
        worker's memory for bodies; "" or the outcome of its refusal (answered). What a body
        holds is counted as it arrives, not as its length says: a client that says 32 MB and
        sends a byte a second holds a byte a second's worth."""
        limit, number = self.config.max_bytes, scope[REQUEST_KEY]
        chunks, size = [], 0
        deadline = time.monotonic() + BODY_SECONDS
        while True:
            try:
                message = await asyncio.wait_for(receive(), max(deadline - time.monotonic(), 0.001))
            except asyncio.TimeoutError:     # a body sent a trickle at a time holds a connection
                await _text(send, 408, numbered(f"ブックの送信が {BODY_SECONDS:g} 秒で終わりませんでした。ネットワークを"
                                                "確かめて、もう一度ボタンを押してください。", number))
                return "送信が遅い"
            if message["type"] == "http.disconnect":
                return "切断"
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(send, limit, number)
                return "大きすぎる"
            if not held.take(size):
                await _text(send, 503, numbered(MEMORY_BUSY, number))
                return "混雑（受け取り中のブック）"
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        scope["renkei.body"] = b"".join(chunks)
        return ""

    async def _hand_over(self, scope, receive, send) -> None:
        """The app run on the body read, with the client's leaving watched: ``scope[GONE_KEY]``
        is set once it has gone (``listen``)."""
        gone = scope[GONE_KEY] = asyncio.Event()
        done = False

        async def listen():
            """Waits on the server's receive from the end of the body on, so that the guard
            knows when the client has gone: before the click's turn (``replay``) and when
            the answer is sent (``watched``). Waiting there also keeps uvicorn reading (it
            stops past 64 KiB of unread body until asked), so a close is seen when it comes."""
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        async def replay():
            """The body (read before) once, then only the disconnect (starlette's
            Request.is_disconnected asks it without waiting)."""
            nonlocal done
            if not done and not gone.is_set():
                done = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        listener = asyncio.ensure_future(listen())
        try:
            await self.app(scope, replay, send)
        finally:
            listener.cancel()

    def _authorised(self, header: bytes) -> bool:
        value = header.strip()
        if value[:7].lower() == b"bearer ":
            value = value[7:].strip()
        return bool(value) and hmac.compare_digest(value, self._key)


def client_of(scope: dict, proxy: bool) -> Optional[tuple]:
    """The client's address as the log writes it: the connection's own, or, with ``--proxy``
    and a connection from this machine (the reverse proxy, docs/staff-setup.md 0-5), the
    address the proxy added last to X-Forwarded-For, when it is an IP address.

    uvicorn's own reading (its proxy_headers, on by default) took the header from any
    connection of this machine, with no proxy set up, and wrote whatever it said: any
    program or user of the server named another PC as the client of its requests (keyed
    or not), and an unauthenticated request put a text of its own in the log line
    (「client="fake outcome=…"」), which no header of one may. The nearest proxy's entry is
    the last (IIS appends the client's address to the one the client sent).

    An IPv6 address with a zone (「fe80::1%eth0」) is none a proxy forwards, and Python's
    ipaddress takes any text after the 「%」 as its zone: 「fe80::1% outcome=完了」 passed as an
    address and was written as the client, a text of the sender's own in the line, and each
    such text was an address of its own to the bounds kept per address (server.guesses, Quiet)."""
    peer = scope.get("client")
    if not proxy or not peer or not _loopback(peer[0]):
        return peer
    sent = b",".join(v for k, v in scope.get("headers", []) if k.lower() == b"x-forwarded-for")
    last = sent.rsplit(b",", 1)[-1].strip().decode("latin-1") if sent else ""
    try:
        address = ipaddress.ip_address(last)
    except ValueError:
        return peer
    return peer if getattr(address, "scope_id", None) is not None else (str(address), 0)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_ABSOLUTE_FORM = re.compile(r"(?i)https?://[^/]*")


def origin_form(path: str) -> str:
    """The path of a request target in absolute form (「POST http://server:8000/buttons/check」),
    which RFC 9112 3.2.2 says a server must accept, as a client set to reach the server as a
    proxy sends it; the Host it names is the server's own, whatever it says, as for any
    request (the key decides). uvicorn hands the whole URL on as the path: every such request
    was answered 404 「このボタンはサーバーにありません。マスターのマクロとサーバーの版が合っていない
    可能性があります」, which sent IT to the master's macros, and the health check failed."""
    head = _ABSOLUTE_FORM.match(path)
    return path if head is None else path[head.end():] or "/"


# A body sent compressed (Content-Encoding: gzip, deflate…): xlwings' clients never send one,
# so a hand-made client or a device on the way did. It was read as JSON and refused as 「入れ子が
# 深すぎるか、括弧が対応していません」, a reason that sent IT looking at the master.
ENCODED = ("送信データが圧縮されています（Content-Encoding）。サーバーは圧縮していない送信だけを受け付けます。"
           "Excel のマスターのボタンは圧縮して送らないため、Excel 以外の送信元か、途中の機器が圧縮しています。"
           "ブックは変更していません。IT 担当者に連絡してください。")


# Bodies a worker holds at once, in multiples of the largest it accepts (--max-mb): bodies
# are read before a click's turn, so clicks waiting for theirs hold theirs. Without a bound
# a few clients sending the largest body on many connections (256 a worker) filled the
# server's memory; past it a click is refused as busy, which staff can act on.
BODIES_HELD = 4
MEMORY_BUSY = ("サーバーが混み合っているため、ボタンを受け付けられませんでした（ほかのパソコンから送られたブックを処理中です）。"
               "ブックは変更していません。少し待ってから、もう一度ボタンを押してください。")


class Held:
    """The bytes one request's body holds of its worker's budget (``Guard._held``), given
    back when the request ends. One event loop per worker: no lock is needed."""

    def __init__(self, guard: "Guard"):
        self.guard, self.size = guard, 0

    def take(self, size: int) -> bool:
        """Hold ``size`` bytes in all (no more than before), or False when the worker's
        budget would be past; a body alone is always let in up to the size limit."""
        more = max(size - self.size, 0)
        budget = self.guard.config.max_bytes * BODIES_HELD
        if more and self.guard._held + more > budget and self.guard._held > 0:
            return False
        self.guard._held += more
        self.size += more
        return True

    def release(self) -> None:
        self.guard._held -= self.size
        self.size = 0


# The piece of an answer handed to uvicorn at a time. uvicorn takes a whole body into its
# buffer at once and reports it sent; a client that left while a 5 MB answer was still on
# its way (Excel's timeout, Excel closed, over a slow office link) was logged 完了 with
# status 200. In pieces, uvicorn waits for its buffer to empty between them, so the guard
# sees a close that comes while the answer is going out.
ANSWER_PIECE = 64 * 1024


async def _in_pieces(send, message: dict, left: Callable[[], bool]) -> bool:
    """``message`` (a response body) sent in ANSWER_PIECE pieces; False when the client had
    left before the last one was handed over (uvicorn then drops the rest without a word).
    A close after that is not counted: a client that read the whole answer may close at
    once, and what it had not read yet of the last piece TCP does not tell.

    The last piece ends the body in the same message. It was followed, after a turn of the
    loop, by an empty message that ended it: a client that had the whole answer (its
    Content-Length) sent its next request in that turn, the protocol read it before the
    end, and took it for one sent ahead of the answer (connections.TimelyH11Protocol.
    on_response_complete closes such a connection): a kept-alive client's next request was
    cut, now and then, under load."""
    body, more = message.get("body", b""), message.get("more_body", False)
    view = memoryview(body)
    starts = range(0, len(body), ANSWER_PIECE)
    for start in starts:
        if left():
            return False
        last = start == starts[-1]
        await send({"type": "http.response.body", "body": bytes(view[start:start + ANSWER_PIECE]),
                    "more_body": more if last else True})
        if last:
            return True
        await asyncio.sleep(0)      # a close the connection met in that send is seen (Guard._hand_over's listen)
    await send({"type": "http.response.body", "body": b"", "more_body": more})
    return True


async def _text(send, status: int, text: str, close: bool = False) -> None:
    """``text`` answered with ``status``; ``close``: the connection closed after it (h11 closes
    one whose answer says ``connection: close``), no further request read from it."""
    body = text.encode("utf-8")
    headers = [(b"content-type", TEXT.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status,
                "headers": headers + [(b"connection", b"close")] if close else headers})
    await send({"type": "http.response.body", "body": body})


async def _too_large(send, limit: int, request_id: str) -> None:
    await _text(send, 413, numbered(f"ブックが大きすぎて受け付けられません（上限 {limit // (1024 * 1024)} MB）。"
                                    "不要なシートや行を減らすか、IT 担当者に上限（--max-mb）の変更を依頼してください。",
                                    request_id))


# ---------------------------------------------------------------------- one request

def handle(config: ServerConfig, entry: str, body: bytes, renkei_client: bool, request_id: str = "",
           caption: str = "", sent_master: str = "", chart_sheets: str = "",
           written: Optional[list] = None, seen: Optional[dict] = None,
           state: BookState = BookState(), opened: Optional[str] = None,
           until: Optional[float] = None, percents: Optional[str] = None,
           currency: Optional[str] = None, tabs: Optional[str] = None) -> tuple[int, object, str]:
    """(status, actions or text, outcome for the log) of one click; runs in a worker thread.
    ``chart_sheets``: RenkeiServer.bas' CHART_SHEETS_HEADER (renkei_xl.server.sheet_positions);
    ``written``: what the click wrote in its folder is appended to it (the log line counts
    it); ``seen["book"]``: the book the click names, for the log line; ``state``: what
    RenkeiServer.bas said of the open book (renkei_xl.server.book_state); ``until``: the
    moment (time.monotonic()) past which the click waits for no writer lock (server.turns);
    ``percents``: RenkeiServer.bas' X-Renkei-Percents as sent (server.percent_header);
    ``currency``: its X-Renkei-Currency as sent (server.currency_header); ``tabs``: its
    X-Renkei-Tabs as sent (server.sheet_positions.other_tabs)."""
    request_id = request_id or secrets.token_hex(4)
    written = written if written is not None else []
    seen = seen if seen is not None else {}
    try:
        payload = _admitted(config, body, renkei_client, request_id, caption or entry, sent_master, chart_sheets,
                            seen, state, opened, percents, currency, tabs)
    except Refusal as refusal:
        return refusal.status, refusal.text, refusal.outcome
    except Exception:   # admission met something _shape_problem let pass: logged like a button's
        server_log.error(request_id, caption or entry)
        return 500, unexpected(request_id), "エラー"
    place, folder, payload = payload
    status, answer, outcome = _ran(entry, payload, place, folder, request_id, caption or entry, written, until, seen)
    if status != 200 and written:      # stopped after it wrote: staff are told what is in the folder now
        answer = f"{answer}\n\n{_written_note(place, folder, written)}"
    return status, answer, outcome


def _ran(entry: str, payload: dict, place: Place, folder, request_id: str, caption: str,
         written: list, until: Optional[float] = None, seen: Optional[dict] = None) -> tuple[int, object, str]:
    """The button run in its folder; ``seen["waited"]`` grows by what its writer locks waited."""
    from ..safety import (checked_while_locked, confined, noting_replaced, place_refusal, remove_stale_temps_in,
                          waiting_until)
    from .admission import still_admitted

    seen = seen if seen is not None else {}
    from ..scratch import tidy
    from .config import TEMP_FOLDER

    tidy(place.workdir / TEMP_FOLDER)     # there, and without what a killed worker's click left (server.run.use_server_temp)
    try:
        # every write of this click lands in its folder, or nowhere, and beside the master admitted
        with (confined(folder, checked=True), noting_replaced(written), waiting_until(until) as waits,
              checked_while_locked(lambda: still_admitted(place))):
            remove_stale_temps_in([folder, folder / c.SPLIT_DIR, folder / c.EXPORT_DIR])   # a killed click's, long past
            try:
                answer = run_button(entry, payload, place)
            finally:
                seen["waited"] = seen.get("waited", 0.0) + sum(waits)
    except ClientCannotReplay as exc:
        if place.clashes:
            return 409, clash_text(place.clashes, "サーバーの答えを Excel に書き込めません。ブックは変更していません"), "名前の重複"
        return 409, ("このマスターのマクロは古く、サーバーの答えを Excel に書き込めません（マクロに "
                     f"{'、'.join(exc.missing)} がありません）。ブックは変更していません。IT 担当者に、このマスターの"
                     "マクロの更新を依頼してください（docs/staff-setup.md「マクロの更新」）。"), "マクロが古い"
    except Exception as exc:   # the button's own guard passes unexpected errors on (excel.buttons._run)
        server_log.error(request_id, caption)
        if (said := place_refusal(exc)) is not None:     # rights, a read-only place, no room: IT's to mend
            return 500, f"サーバーで{said}ブックは変更していません。", "エラー"     # numbered as it is answered
        return 500, unexpected(request_id), "エラー"
    sent = limits.answer_json(answer)
    if (refused := limits.answer_refusal(caption, len(sent))) is not None:
        return refused          # never an answer the client cannot take
    seen[ANSWER_KEY] = (answer, sent)
    return 200, answer, _outcome(answer)


def _written_note(place: Place, folder, written: list) -> str:
    """What a click wrote before it was stopped: 「ブックは変更していません」 is true of the open
    workbook, and the folder still gained these (a next year's master, input files)."""
    from ..core.values import listed

    return (f"ただし、サーバー作業フォルダー「{place.shown(folder)}」には、このボタンが書き込んだものが {len(written)} 件"
            f"あります（{listed(p.name for p in written)}）。")


def _not_a_master(sheets: list[str]) -> Optional[str]:
    """Why a book sent without 設定 or 指標 is not served, None when it has both. A tab renamed
    by a slip (「設定 」) is a master all the same, and named as every face names it
    (contract_read.no_sheet): 「renkei-xl で作ったマスターから」 sent staff to rebuild one."""
    missing = [s for s in (c.SETTINGS, c.INDICATORS) if s not in sheets]
    if not missing:
        return None
    from ..core.contract_read import near_sheet, no_sheet

    if all(near_sheet(s, sheets) for s in missing):
        return "。".join(no_sheet(s, sheets) for s in missing) + "。"
    return (f"このブックは連携事業のマスターではありません（シート「{'」「'.join(missing)}」がありません）。"
            "renkei-xl で作ったマスターからボタンを押してください。")


def _admitted(config: ServerConfig, body: bytes, renkei_client: bool, request_id: str, caption: str,
              sent_master: str, chart_sheets: str = "", seen: Optional[dict] = None,
              state: BookState = BookState(), opened: Optional[str] = None, percents: Optional[str] = None,
              currency: Optional[str] = None, tabs: Optional[str] = None):
    """(place, the folder the click may write in, payload), or a Refusal. ``seen["book"]``:
    the book's name as sent once the payload reads, its place in the work folder once admitted."""
    seen = seen if seen is not None else {}
    if (refused := limits.body_refusal(body)) is not None:   # before a parse that could cost 500 MB
        raise Refusal(*refused)
    charts = positions(chart_sheets)
    payload = parse_payload(body)
    if (refused := limits.sheets_refusal(payload)) is not None:     # before any pass over the sheets
        raise Refusal(*refused)
    if isinstance(payload, dict) and isinstance(payload.get("names"), list):
        to_worksheets(payload, charts)      # before anything reads a name's sheet
    from ..excel.book import RENKEI_CLIENT_KEY, SERVER_KEYS

    if isinstance(payload, dict):
        for key in SERVER_KEYS:     # the server's own words, never a body's (excel.book says why)
            payload.pop(key, None)
    problem = _shape_problem(payload)
    if problem:
        raise Refusal(400, f"xlwings の送信データの形式ではありません（{problem}）。", "形式の誤り")
    seen["book"] = payload["book"]["name"]
    if (refused := _client_refusal(payload["client"], renkei_client)) is not None:
        raise refused
    from .unsendable import message, short_rows

    holes = short_rows(payload)
    if holes:
        raise Refusal(400, message(holes), UNSENDABLE_OUTCOME)
    import xlwings as xw

    if payload["version"] != xw.__version__:
        raise Refusal(409, (f"マスターのマクロ（xlwings {payload['version']}）とサーバー（xlwings {xw.__version__}）の版が"
                            "違います。IT 担当者に「renkei-xl upgrade-macros マスター.xlsm --server URL」でマクロを"
                            "更新してもらってください。"), "版の違い")
    try:
        safe_book_name(payload["book"]["name"])
    except UserError as exc:
        raise Refusal(422, f"{exc}。", "名前の誤り") from None
    sheets = [s["name"] for s in payload["sheets"]]
    if (not_master := _not_a_master(sheets)) is not None:
        raise Refusal(422, not_master, "マスターでない")
    if (refused := limits.refusal(payload)) is not None:   # larger than served: never a timeout
        raise Refusal(*refused)
    payload[RENKEI_CLIENT_KEY] = True       # the only client admitted (_client_refusal)
    _client_said(payload, percents, currency, tabs)
    place = Place(config.workdir, config.share, request_id)
    try:
        folder = admit(place, caption, payload, sent_master, state, opened)
    except NameTooLong as exc:
        raise Refusal(422, f"{c.stopped(caption)}\n\n{exc}。", "名前の誤り") from None
    seen["book"] = (folder / payload["book"]["name"]).relative_to(place.workdir).as_posix()
    return place, folder, payload


# The client the answer is made for: xlwings' VBA client (Remote.bas) in a master carrying
# RenkeiServer.bas, which says so (CLIENT_HEADER). The answer starts with RenkeiServer.bas' own
# actions (renkeiRequest, renkeiUnprotectSheets, renkeiSetText, ...) and counts on
# RenkeiCallServer around the replay (the master brought forward, protection put back, Excel's
# error reported). No other client defines them: xlwings Server's Office.js add-in (xlwings.js),
# Office Scripts and Google Apps Script look each action up in their own table and stop at the
# first they lack, after the actions before it; Remote.bas called directly runs what the master
# has, in no order the plan made. Such a click is refused before the master is even looked for.
VBA_CLIENT = "VBA"
OTHER_CLIENT_OUTCOME = "マクロ以外の送信元"
NO_RENKEI_MACRO_OUTCOME = "連携マクロなし"


def _client_refusal(client: str, renkei_client: bool) -> Optional[Refusal]:
    """Why the server cannot answer this client (None: it can), in words that say what to use."""
    if client != VBA_CLIENT:
        return Refusal(409, (f"この送信元（{_shown(client)}）には、renkei-xl サーバーは答えられません。サーバーの答えには、"
                             "マスターのマクロ（RenkeiServer.bas）にしかない書き込み（renkeiUnprotectSheets など）が"
                             "含まれ、xlwings のアドイン（Office.js）などでは途中で止まるためです。何も実行していません。"
                             f"ブックは変更していません。マスター（.xlsm）をデスクトップ版の Excel で開き、シート「{c.MENU}」の"
                             "ボタンを押してください。"), OTHER_CLIENT_OUTCOME)
    if not renkei_client:
        return Refusal(409, ("このボタンは、renkei-xl サーバー用のマクロ（RenkeiServer.bas）を通さずに送られました（マスターの"
                             "マクロが古いか、ボタンが xlwings の RunServerPython を直接呼んでいます）。サーバーの答えは"
                             "そのマクロでしか正しく書き込めないため、何も実行していません。ブックは変更していません。"
                             f"シート「{c.MENU}」のボタンを押してください。それでもこの表示が出るときは、IT 担当者にマクロの"
                             "更新（upgrade-macros）を依頼し、更新したマスターを開いてからもう一度ボタンを押してください。"),
                       NO_RENKEI_MACRO_OUTCOME)
    return None


def _client_said(payload: dict, percents: Optional[str], currency: Optional[str], tabs: Optional[str]) -> None:
    """What RenkeiServer.bas' headers say of the open book, put in the payload where they read
    as the client writes them (absent where not: the saved master stands in, as before)."""
    from ..excel.book import CURRENCY_KEY, OTHER_TABS_KEY, PERCENTS_KEY

    if (said := percent_header(percents)) is not None:
        payload[PERCENTS_KEY] = said
    if (exact := currency_header(currency)) is not None:
        payload[CURRENCY_KEY] = exact
    if (named := other_tabs(tabs)) is not None:
        payload[OTHER_TABS_KEY] = named


def run_button(entry: str, payload: dict, place: Place) -> dict:
    """The button's own code on a book of its own; its actions as xlwings' clients expect,
    cut to what the clicking master's VBA can replay (ClientCannotReplay when that would
    leave out more than looks)."""
    import xlwings as xw
    from xlwings.pro._xlremote import App, get_range_api

    from ..cycle.rollover import BY_IT
    from ..excel import buttons
    from ..safety import SHOWN_AS

    impl = App(apps=None, add_book=False).books.open(json=payload)
    try:
        token = buttons.REMOTE_PLACE.set(place)
        shown = SHOWN_AS.set(place.shown)       # what Excel can open is counted on the share's path
        by_it = BY_IT.set(place)                # `history import` is IT's, in the work folder
        try:
            getattr(buttons, entry)(xw.Book(impl=impl))
        finally:
            BY_IT.reset(by_it)
            SHOWN_AS.reset(shown)
            buttons.REMOTE_PLACE.reset(token)
        answer = dict(impl.json())
        actions = [request_action(place.request_id, entry), *answer.get("actions", [])]
        actions = exact_numbers(actions)     # VBA-Web's parser would hand the client long numbers as text
        fitted = fit_actions(actions, place.replayable)
        answer["actions"] = with_note(fitted.actions, upgrade_note(fitted.left_out, shipped_replayable(), place.clashes))
        return answer
    finally:
        impl.close()
        # xlwings' remote Range slices a sheet through get_range_api, an unbounded lru_cache
        # keyed by the sheet's whole values: every sheet a click wrote stayed there for the
        # life of the worker (memory growing click by click), and a later sheet equal to one
        # of them (0 for FALSE) was given its cells. The grid itself reads the payload
        # (excel.remote.RemoteBook.grid); what the writes cached goes with the click.
        get_range_api.cache_clear()


# What a cell of an xlwings payload may hold: JSON's scalars (dates arrive as text).
_SCALARS = frozenset({str, int, float, bool, type(None)})
# A name's range as the clients send it (Remote.bas: Address(False, False)), or whole columns or
# rows, as far as the remote engine's reader takes it (xlwings.utils.a1_to_tuples): whole columns
# or rows with a $ (「$A:$C」) it reads as no range, and the click ended in 「予期しないエラー」.
_COLUMN = f"[A-Za-z]{{1,{COLUMN_LETTERS}}}"
_ADDRESS = rf"\$?{_COLUMN}\$?\d+(?::\$?{_COLUMN}\$?\d+)?|{_COLUMN}:{_COLUMN}|\d+:\d+"


def _shape_problem(payload) -> Optional[str]:
    """What of the payload is not the shape xlwings' clients send (None: all of it is). Every
    field the remote engine or the buttons read is checked here, so that a doctored body is a
    400 with the reason, never an error in the middle of a click."""
    if not isinstance(payload, dict):
        return "全体がオブジェクトではありません"
    for key, kind in (("client", str), ("version", str), ("book", dict), ("names", list), ("sheets", list)):
        if not isinstance(payload.get(key), kind):
            return f"「{key}」がありません"
    sheets, book = payload["sheets"], payload["book"]
    if not isinstance(book.get("name"), str):
        return "ブックの名前がありません"
    # Its type only: Remote.bas counts the active sheet among chart sheets too (ActiveSheet.Index),
    # so it may lie past the worksheets sent; nothing here reads it.
    if type(book.get("active_sheet_index")) is not int or not isinstance(book.get("selection", ""), (str, type(None))):
        return "ブックの形が違います"
    for sheet in sheets:
        if not (isinstance(sheet, dict) and isinstance(sheet.get("name"), str) and isinstance(sheet.get("values"), list)
                and all(isinstance(row, list) for row in sheet["values"])):
            return "シートの形が違います"
        if problem := _sheet_name_problem(sheet["name"]):
            return problem
        if not all(_SCALARS.issuperset(map(type, row)) for row in sheet["values"]):
            return f"シート「{_shown(sheet['name'])}」のセルの値の形が違います"
        if not _listed_shape(sheet):
            return f"シート「{_shown(sheet['name'])}」の図・テーブルの形が違います"
        if not _address(sheet.get("used_range_address"), optional=True):
            return f"シート「{_shown(sheet['name'])}」の使用範囲の形が違います"
    if twice := _sheet_twice(sheets):
        return twice
    for name in payload["names"]:
        if not _name_shape(name, len(sheets)):
            called = name.get("name") if isinstance(name, dict) else None
            return f"名前の定義「{_shown(called)}」の形が違います" if isinstance(called, str) else "名前の定義の形が違います"
    if twice := _name_twice(payload["names"]):
        return twice
    return None


def _name_twice(names: list) -> str:
    """Which defined name a body sends twice ("" when none): Excel holds one name of a
    spelling in a scope, case aside (Remote.bas sends a sheet's own as 「シート!名前」), so the
    body was doctored. The remote engine kept the last: 対象年度 sent again over another cell
    was read there, and the click ran on it (or blamed that cell) without a word."""
    seen: dict = {}
    for name in names:
        key = name["name"].casefold()
        if key in seen:
            return f"名前の定義「{_shown(seen[key])}」が 2 つあります"
        seen[key] = name["name"]
    return ""


def _shown(text: str, cut: int = 40) -> str:
    """A sheet's or a name's text from the body as a refusal quotes it: its start (a defined
    name may be 255 characters), with what shows as nothing or turns the message around (a
    bidi override, a line break, a lone surrogate) written as 〔U+XXXX〕 (core.filenames.visible),
    as the book's own name is quoted (server.place)."""
    from ..core.filenames import visible

    return visible(text[:cut]) + ("…" if len(text) > cut else "")


def _sheet_twice(sheets: list) -> str:
    """Which sheet a body sends twice ("" when none): Excel cannot hold two sheets whose names
    it reads alike (core.contract.sheet_name_key), so the body was doctored. The refusal said
    only 「同じ名前のシートが 2 つあります」, leaving whoever made it to look through every sheet;
    it names both spellings (the names are within Excel's 31 characters, checked before)."""
    seen: dict = {}
    for sheet in sheets:
        name = sheet["name"]
        key = c.sheet_name_key(name)
        if key not in seen:
            seen[key] = name
        elif seen[key] == name:
            return f"シート「{_shown(name)}」が 2 つあります"
        else:
            return f"シート「{_shown(seen[key])}」と「{_shown(name)}」は Excel では同じ名前です"
    return ""


def _sheet_name_problem(name: str) -> str:
    """Why ``name`` is no sheet name Excel sends ("" when it is one): empty, or past Excel's
    31 characters (UTF-16 units, core.values.cell_length, as the 設定 reader counts a
    municipality's sheet). Checked before anything reads the name a character at a time:
    a sheet named with 20 million characters went through core.contract.sheet_name_key's
    per-character pass (4.5 s of the worker's turn, 7 s at the 32 MB taken) and the click
    then ran as if the name were Excel's."""
    from ..core.values import cell_length

    length = cell_length(name)
    if 0 < length <= c.SHEET_NAME_MAX:
        return ""
    if not length:
        return "名前のないシートがあります"
    return (f"シート「{_shown(name, c.SHEET_NAME_MAX)}」の名前が {length:,} 文字あります"
            f"（Excel のシート名は {c.SHEET_NAME_MAX} 文字まで）")


# What a sheet lists beside its values (Remote.bas: pictures and tables; Office.js: charts too),
# each a list of objects; of a table, the name and range the tool reads (excel.remote's tables).
_TABLE_ADDRESSES = ("header_row_range_address", "data_body_range_address", "total_row_range_address")


def _listed_shape(sheet: dict) -> bool:
    for key in ("pictures", "tables", "charts"):
        listed = sheet.get(key, [])
        if not (isinstance(listed, list) and all(isinstance(item, dict) for item in listed)):
            return False
    return all(isinstance(t.get("name"), str) and _address(t.get("range_address"))
               and all(isinstance(t.get(k), (str, type(None))) for k in _TABLE_ADDRESSES)
               for t in sheet.get("tables", []))


def _address(value, optional: bool = False) -> bool:
    """A range as _ADDRESS spells it, on Excel's grid (core.refs.on_the_grid): the remote engine
    takes any letters and digits, and a name at 「ZZZ1」 ended a click in 「予期しないエラー」, one
    at 「B1048577」 was read as an empty cell to fill. ``optional``: None or absent is one too
    (a sheet's used_range_address, which the remote engine reads and the clients of the
    xlwings served do not send: 「x」 there was a 500 on the tool's own sheets)."""
    from ..core.refs import on_the_grid

    if optional and value is None:
        return True
    return isinstance(value, str) and re.fullmatch(_ADDRESS, value) is not None and on_the_grid(value)


def _index(value, count: int, optional: bool = False) -> bool:
    return (optional and value is None) or (type(value) is int and 0 <= value < count)


def _name_shape(name, count: int) -> bool:
    """A defined name as Remote.bas and Office.js send it: a range's coordinates, or none
    (a constant or a formula) beside its definition."""
    return (isinstance(name, dict) and isinstance(name.get("name"), str) and type(name.get("book_scope")) is bool
            and _index(name.get("sheet_index"), count, optional=True)
            and _address(name.get("address"), optional=True)
            and _index(name.get("scope_sheet_index"), count, optional=True)
            and (name["book_scope"] or isinstance(name.get("scope_sheet_name"), str))
            and isinstance(name.get("refers_to", ""), (str, type(None))))


def _outcome(answer: dict) -> str:
    alerts = [a for a in answer.get("actions", []) if a.get("func") == "alert"]
    if not alerts:
        return "完了"
    return "中止" if alerts[-1]["args"][3] == "critical" else "完了"


def _user(raw: str) -> str:
    """The Excel user name RenkeiServer.bas sends as UTF-16 hex; "" when absent or not hex."""
    return _from_hex(raw, 100) or ""     # escaped in the log line (server.log)


def _opened(raw: Optional[str]) -> Optional[str]:
    """Where Excel opened the book from (PLACE_HEADER: Workbook.FullName as UTF-16 hex); None
    when the client did not say (a master before client 6) or said nothing readable."""
    return _from_hex(raw or "", 4096) or None


def _from_hex(raw: str, chars: int) -> Optional[str]:
    """A text RenkeiServer.bas sends as UTF-16 hex (RenkeiHex), of at most ``chars`` units;
    None when absent, longer, or not such hex."""
    raw = raw.strip()
    if not raw or len(raw) % 4 or len(raw) > 4 * chars:
        return None
    try:
        return bytes.fromhex(raw).decode("utf-16-be")
    except ValueError:
        return None


def _load_engine() -> None:
    """Import the remote engine once at start (it checks the licence variable), so the
    first click does not pay for it and a missing licence stops the start, not a click."""
    import xlwings  # noqa: F401
    from xlwings.pro import _xlremote  # noqa: F401

    from ..excel import apply, book, buttons  # noqa: F401
    from ..core import pipeline, plan  # noqa: F401

"""The ASGI app: one POST endpoint per button, behind a guard that checks the key and the size.

Endpoints come from the one button list (renkei_xl.core.contract.BUTTONS) and the entry
point each button's macro names (Renkei.bas, renkei_xl.vba.sources.button_entries), so a
sixth button is served as soon as it is in both, with no change here.

What a request may be answered:
- 200 and xlwings' actions (``book.json()``): the button ran; its message to staff is the
  last action (an alert), whatever happened inside, as with a local click;
- 401, 413, 400, 409, 422 and plain Japanese text: refused before anything ran. xlwings'
  VBA client shows such a text in a message box as it is, so it is written for staff;
- 500 and Japanese text: something failed outside the button's own guard (never a traceback).

Each request gets its own remote-engine App and Book: xlwings' remote engine keeps one
"active book" per App and ``app.alert`` writes into it, so two clicks sharing xlwings'
default App could swap their messages. The book is closed after the answer is built and
nothing of the payload is written anywhere; the log line is time, button, the Excel user
name the client sent, outcome and duration.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import time
from typing import Callable, Optional

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from ..core import contract as c
from ..core.errors import UserError
from ..excel.client import ClientCannotReplay, fit_actions, request_action
from . import limits
from .config import ServerConfig
from .place import Place, safe_book_name

log = logging.getLogger("renkei_xl.server")

USER_HEADER = "x-renkei-user"       # Application.UserName as UTF-16 hex (RenkeiServer.bas)
CLIENT_HEADER = "x-renkei-client"   # the master carries RenkeiServer.bas' actions
BUTTON_PREFIX = "/buttons/"
OUTCOME_SUFFIX = "/outcome"        # POST by the client when Excel failed to replay an answer
TEXT = "text/plain; charset=utf-8"


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
    _load_engine()
    app = FastAPI(title="renkei-xl", docs_url=None, redoc_url=None, openapi_url=None)
    buttons = endpoints()

    @app.get("/")
    def health() -> dict:
        """For a monitor or a person checking the address: says nothing about workbooks."""
        return {"status": "ok", "service": "renkei-xl", "buttons": list(buttons)}

    def endpoint(entry: str, caption: str) -> Callable:
        async def run(request: Request):
            started = time.perf_counter()
            user = _user(request.headers.get(USER_HEADER, ""))
            body = request.scope.get("renkei.body", b"")
            status, answer, outcome = await run_in_threadpool(
                handle, config, entry, body, bool(request.headers.get(CLIENT_HEADER)))
            log.info("button=%s user=%s outcome=%s status=%d %.0fms", caption, user or "-", outcome, status,
                     (time.perf_counter() - started) * 1000)
            if status == 200:
                return JSONResponse(answer)
            return PlainTextResponse(answer, status_code=status, media_type=TEXT)
        run.__name__ = f"button_{entry}"
        return run

    def outcome(entry: str, caption: str) -> Callable:
        async def report(request: Request):
            """What Excel did with an answer, when its replay failed (RenkeiServer.bas'
            RenkeiReport): the log then says what staff saw, not only what was sent."""
            user = _user(request.headers.get(USER_HEADER, ""))
            number, text, request_id = _failure_report(request.scope.get("renkei.body", b""))
            log.info("request=%s button=%s user=%s outcome=Excelエラー status=%s text=%s", request_id, caption,
                     _escaped(user) or "-", number, _escaped(text))
            return PlainTextResponse("", status_code=204)
        report.__name__ = f"outcome_{entry}"
        return report

    for entry, (caption, _macro) in buttons.items():
        app.add_api_route(BUTTON_PREFIX + entry, endpoint(entry, caption), methods=["POST"], name=caption)
        app.add_api_route(BUTTON_PREFIX + entry + OUTCOME_SUFFIX, outcome(entry, caption), methods=["POST"],
                          name=caption + " の結果")
    return Guard(app, config)


def _failure_report(body: bytes) -> tuple[str, str, str]:
    """(error number, Excel's text, request number) of a client's report; "?" where absent."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    number = data.get("error")
    request_id = data.get("request")
    return (str(number) if isinstance(number, int) else "?", str(data.get("description") or "")[:300],
            request_id if isinstance(request_id, str) and request_id.isalnum() and len(request_id) <= 16 else "?")


def _escaped(text: str) -> str:
    """One log line per event: CR, LF and other control characters shown escaped."""
    return json.dumps(text, ensure_ascii=False)[1:-1]


# ----------------------------------------------------------------------- the guard

class Guard:
    """Pure ASGI in front of the app: the key before anything is read, then the size, then
    the whole body read once (bounded) and handed to the endpoint. Refusals are Japanese."""

    def __init__(self, app, config: ServerConfig):
        self.app, self.config = app, config
        self._key = config.key.encode("utf-8")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(BUTTON_PREFIX):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v for k, v in scope.get("headers", [])}
        if not self._authorised(headers.get("authorization", b"")):
            log.info("button=%s user=%s outcome=鍵が違う status=401", scope["path"][len(BUTTON_PREFIX):],
                     _user(headers.get(USER_HEADER, b"").decode("latin-1")) or "-")
            return await _text(send, 401, "renkei-xl サーバーの鍵が違うか、ありません。シート「xlwings.conf」の AUTH "
                                          "（またはパソコンの xlwings.conf）に、IT 担当者から受け取った鍵を書いてください。")
        limit = self.config.max_bytes
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await _too_large(send, limit)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return await _too_large(send, limit)
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        scope = dict(scope, **{"renkei.body": b"".join(chunks)})
        done = False

        async def replay():
            nonlocal done
            if not done:
                done = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)

    def _authorised(self, header: bytes) -> bool:
        value = header.strip()
        if value[:7].lower() == b"bearer ":
            value = value[7:].strip()
        return bool(value) and hmac.compare_digest(value, self._key)


async def _text(send, status: int, text: str) -> None:
    body = text.encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", TEXT.encode()), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _too_large(send, limit: int) -> None:
    log.info("outcome=大きすぎる status=413")
    await _text(send, 413, f"ブックが大きすぎて受け付けられません（上限 {limit // (1024 * 1024)} MB）。"
                           "不要なシートや行を減らすか、IT 担当者に上限（--max-mb）の変更を依頼してください。")


# ---------------------------------------------------------------------- one request

def handle(config: ServerConfig, entry: str, body: bytes, renkei_client: bool) -> tuple[int, object, str]:
    """(status, actions or text, outcome for the log) of one click; runs in a worker thread."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return 400, "送信データを読めません（xlwings の送信データ（JSON）ではありません）。", "形式の誤り"
    problem = _shape_problem(payload)
    if problem:
        return 400, f"xlwings の送信データの形式ではありません（{problem}）。", "形式の誤り"
    import xlwings as xw

    if payload["client"] != "Office.js" and payload["version"] != xw.__version__:
        return 409, (f"マスターのマクロ（xlwings {payload['version']}）とサーバー（xlwings {xw.__version__}）の版が"
                     "違います。IT 担当者に「renkei-xl upgrade-macros マスター.xlsm --server URL」でマクロを"
                     "更新してもらってください。"), "版の違い"
    try:
        safe_book_name(payload["book"]["name"])
    except UserError as exc:
        return 422, f"{exc}。", "名前の誤り"
    sheets = [s["name"] for s in payload["sheets"]]
    missing = [s for s in (c.SETTINGS, c.INDICATORS) if s not in sheets]
    if missing:
        return 422, (f"このブックは連携事業のマスターではありません（シート「{'」「'.join(missing)}」がありません）。"
                     "renkei-xl で作ったマスターからボタンを押してください。"), "マスターでない"
    if (refused := limits.refusal(payload)) is not None:   # larger than served: never a timeout
        return refused
    if renkei_client:
        from ..excel.book import RENKEI_CLIENT_KEY

        payload[RENKEI_CLIENT_KEY] = True
    request_id = secrets.token_hex(4)
    try:
        answer = run_button(entry, payload, Place(config.workdir, config.share, request_id))
    except ClientCannotReplay as exc:
        return 409, ("このマスターのマクロは古く、サーバーの答えを Excel に書き込めません（マクロに "
                     f"{'、'.join(exc.missing)} がありません）。ブックは変更していません。IT 担当者に、このマスターの"
                     "マクロの更新を依頼してください（docs/staff-setup.md「マクロの更新」）。"), "マクロが古い"
    except Exception as exc:   # outside the button's own guard: building the book
        log.error("request=%s button=%s unexpected %s", request_id, entry, type(exc).__name__)
        return 500, (f"サーバーでブックを読み込めませんでした（受付番号 {request_id}）。"
                     "IT 担当者に受付番号を伝えてください。"), "エラー"
    return 200, answer, _outcome(answer)


def run_button(entry: str, payload: dict, place: Place) -> dict:
    """The button's own code on a book of its own; its actions as xlwings' clients expect,
    cut to what the clicking master's VBA can replay (ClientCannotReplay when that would
    leave out more than looks)."""
    import xlwings as xw
    from xlwings.pro._xlremote import App

    from ..excel import buttons

    impl = App(apps=None, add_book=False).books.open(json=payload)
    try:
        token = buttons.REMOTE_PLACE.set(place)
        try:
            getattr(buttons, entry)(xw.Book(impl=impl))
        finally:
            buttons.REMOTE_PLACE.reset(token)
        answer = dict(impl.json())
        actions = [request_action(place.request_id, entry), *answer.get("actions", [])]
        answer["actions"] = fit_actions(actions, place.replayable).actions
        return answer
    finally:
        impl.close()


def _shape_problem(payload) -> Optional[str]:
    if not isinstance(payload, dict):
        return "全体がオブジェクトではありません"
    for key, kind in (("client", str), ("version", str), ("book", dict), ("names", list), ("sheets", list)):
        if not isinstance(payload.get(key), kind):
            return f"「{key}」がありません"
    if not isinstance(payload["book"].get("name"), str):
        return "ブックの名前がありません"
    for sheet in payload["sheets"]:
        if not (isinstance(sheet, dict) and isinstance(sheet.get("name"), str) and isinstance(sheet.get("values"), list)
                and all(isinstance(row, list) for row in sheet["values"])):
            return "シートの形が違います"
    for name in payload["names"]:
        if not (isinstance(name, dict) and isinstance(name.get("name"), str)):
            return "名前の定義の形が違います"
    return None


def _outcome(answer: dict) -> str:
    alerts = [a for a in answer.get("actions", []) if a.get("func") == "alert"]
    if not alerts:
        return "完了"
    return "中止" if alerts[-1]["args"][3] == "critical" else "完了"


def _user(raw: str) -> str:
    """The Excel user name RenkeiServer.bas sends as UTF-16 hex; "" when absent or not hex."""
    raw = raw.strip()
    if not raw or len(raw) % 4 or len(raw) > 400:
        return ""
    try:
        return bytes.fromhex(raw).decode("utf-16-be").replace("\n", " ")
    except ValueError:
        return ""


def _load_engine() -> None:
    """Import the remote engine once at start (it checks the licence variable), so the
    first click does not pay for it and a missing licence stops the start, not a click."""
    import xlwings  # noqa: F401
    from xlwings.pro import _xlremote  # noqa: F401

    from ..excel import apply, book, buttons  # noqa: F401
    from ..core import pipeline, plan  # noqa: F401

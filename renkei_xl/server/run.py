"""``renkei-xl serve``: the app on uvicorn, with our own log of requests.

uvicorn's access log is off (it would write the request line as sent: an unauthenticated
path, a key in it); our one line per request says number, client, button, user, outcome
and duration (renkei_xl.server.log: the --log file), tracebacks go to the error log file
only. uvicorn's and asyncio's own records are lines of the same log (``log_config``:
server.log.uvicorn_log_config).

The app has nothing to do at start or stop, so uvicorn's lifespan task is off: a stop at
once (a second Ctrl+C) cancelled it, and starlette reported that cancellation as a failed
shutdown, a line 「Traceback (most recent call last):」 of the request log.

A worker that cannot start stops the whole server: it leaves a mark for the parent and
asks it to stop (uvicorn's supervisor would otherwise start it again, forever on older
versions), and ``serve`` then ends with status 2. Everything that could make a worker
fail is checked before the first one starts (renkei_xl.cli.server), so this is the
last guard, not the way settings are checked.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import uuid
from pathlib import Path
from typing import Optional

from .config import KEY_ENV, ServerConfig
from . import log_thread
from .log import configure, say_held

# With several worker processes, uvicorn imports the app in each of them: the settings
# travel in this variable, the key the server started with in RENKEI_XL_SERVER_KEY (the
# environment only the service's account and the administrator can read, as its file).
# A worker reading --key-file again when uvicorn restarts it (one that died) took the file
# as it was then: deleted, it stopped the whole server (status 2, which systemd does not
# restart); rewritten for a rotation not yet finished, one worker in two refused every
# click with 「鍵が違う」.
CONFIG_ENV = "RENKEI_XL_SERVER_CONFIG"
STARTUP_FAILURE = 3   # uvicorn's own code for a worker that could not start
WORKER_FAILED = "renkei-xl サーバーのワーカーを起動できませんでした。エラーログを確認してください"
TLS_CHANGED = ("HTTPS の証明書「{cert}」と秘密鍵「{key}」を、ワーカーを起動し直すときに読み込めませんでした（起動した後で"
               "変更または削除されました）。読み込める組にしてから、サーバーを起動し直してください")


def configure_logging(error_log: Optional[Path] = None, log: Optional[Path] = None,
                      log_bytes: Optional[int] = None) -> None:
    """The logs of a serving process, their files written in a thread of their own
    (server.log_thread): a log on a slow share holds up no request."""
    configure(error_log, log, log_bytes)
    log_thread.start()


def _logging_from(settings: dict) -> None:
    """A worker's logging, to the files ``serve`` checked (CONFIG_ENV)."""
    configure_logging(*(Path(settings[key]) if settings.get(key) else None for key in ("error_log", "log")),
                      settings.get("log_bytes"))


def serve(config: ServerConfig, host: str, port: int, workers: int = 1,
          ssl_certfile: Optional[str] = None, ssl_keyfile: Optional[str] = None,
          warnings: tuple[str, ...] | list[str] = ()) -> int:
    """Serve until stopped. ``workers`` > 1: that many warm processes share the port, so
    clicks from many PCs at once run side by side on a machine with that many cores.
    ``warnings``: what IT should fix though the server runs (a key file every user may read,
    …), each a line after the start line, in the log and on the console."""
    import uvicorn

    configure_logging(config.error_log, config.log, config.log_bytes)
    use_server_temp(config.workdir)
    log = logging.getLogger("renkei_xl.server")
    # The address as a URL writes it, which IT copies into RENKEI_SERVER: an IPv6 one in
    # brackets (「http://::1:8000」 is no URL).
    url = f"{'https' if ssl_certfile else 'http'}://{f'[{host}]' if ':' in host else host}:{port}"
    # In Japanese, as every line IT reads from the tool (the records' keys stay ASCII for grep).
    started = (f"renkei-xl サーバーを起動しました: {url} 作業フォルダー {config.workdir}"
               f"{f'（共有名 {config.share}）' if config.share else ''}、ワーカー {workers}、"
               f"記録 {config.log or '標準エラー出力'}、エラーログ {config.error_log}")
    log.info("%s", started)
    if config.log is not None:
        # Also where IT looks first (a console, the service manager's file): the one line
        # that says where the logs are. Nothing more goes there while the files can be written.
        print(started, file=sys.stderr, flush=True)
    from .log import line

    for warning in warnings:     # in the form of the log's other lines without a request (grep outcome=)
        log.warning("%s", line(request="-", client="-", outcome="設定の警告", source="renkei-xl", text=warning))
        if config.log is not None:
            print(f"警告: {warning}", file=sys.stderr, flush=True)
    from .connections import TimelyH11Protocol, raise_open_files_limit
    from .log import uvicorn_log_config

    raise_open_files_limit()
    # TLS is not uvicorn's (no ssl_certfile for it): the protocol does the handshake, bounded
    # (server.connections), in each worker with the pair read there (use_tls).
    # proxy_headers off: uvicorn's own middleware took X-Forwarded-For from any connection of
    # this machine, whatever it said, as the client's address; the guard reads it, and only
    # with --proxy (server.app.client_of).
    options = dict(host=host, port=port, access_log=False, log_level=None, log_config=uvicorn_log_config(),
                   server_header=False, date_header=False, http=TimelyH11Protocol, lifespan="off",
                   ws="none",      # no button uses WebSockets: an upgrade is a request the guard answers and logs
                   proxy_headers=False)
    tls = (ssl_certfile, ssl_keyfile) if ssl_certfile else None
    _stop_on_sigterm()
    try:
        failed = _run(uvicorn, config, options, workers, tls)
    finally:
        # The counts held back (server.log.say_held) before the stop line: the process's
        # own (one process), the supervisor's records' (workers say theirs as they end).
        say_held()
        # The start has its line: so has the stop, or a server that ended (a stop, a
        # restart of the machine) looked in the log like one that had no clicks.
        log.info("renkei-xl サーバーを停止しました: %s", url)
        log_thread.stop()       # every line written before ``serve`` returns
    if failed is not None:
        print(f"エラー: {failed}", file=sys.stderr)
        return 2
    return 0


def _stop_on_sigterm() -> None:
    """SIGTERM (systemctl stop, kill) ends ``serve`` as Ctrl+C does. uvicorn stops gracefully,
    then raises the signal again under the handler it found: the default one ended a
    one-worker server by the signal itself (status 143), without its stop line.

    SIGHUP (the console window or the SSH session the server was started from closed) is
    a stop too, as graceful as SIGTERM: uvicorn does not handle it in its serving process,
    and its default ended the server at once, a click halfway through its write, with
    no line in the log. (With several workers, uvicorn's supervisor takes SIGHUP as a
    restart of its workers, and the workers leave it to the supervisor: ``app_from_env``.)"""
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stopped)
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, _hung_up)


def _stopped(_signum, _frame) -> None:
    raise KeyboardInterrupt     # what uvicorn.run takes as the end of serving


def _hung_up(_signum, _frame) -> None:
    signal.raise_signal(signal.SIGTERM)     # uvicorn's handler while it serves, else _stopped


def _run(uvicorn, config: ServerConfig, options: dict, workers: int,
         tls: Optional[tuple[str, str]] = None) -> Optional[str]:
    """Serving until stopped; None, or what to tell IT when a worker could not start.
    ``tls``: the certificate and key files to serve HTTPS with."""
    if workers <= 1:
        from .app import create_app

        if tls is not None:
            use_tls(*tls)       # checked a moment ago (cli check_tls): a failure here is a traceback
        uvicorn.run(create_app(config), **options)
        return None
    from ..scratch import root

    mark = root() / f"renkei-xl-worker-failed-{uuid.uuid4().hex}"     # the server's own folder (use_server_temp)
    os.environ[CONFIG_ENV] = json.dumps({"workdir": str(config.workdir), "share": config.share,
                                         "max_bytes": config.max_bytes,
                                         "error_log": str(config.error_log) if config.error_log else None,
                                         "log": str(config.log) if config.log else None,
                                         "log_bytes": config.log_bytes,
                                         "failed_mark": str(mark), "tls": tls, "proxy": config.proxy})
    os.environ[KEY_ENV] = config.key
    try:
        uvicorn.run("renkei_xl.server.run:app_from_env", factory=True, workers=workers, **options)
    finally:
        failed = mark.read_text(encoding="utf-8") if mark.exists() else None
        mark.unlink(missing_ok=True)
    return None if failed is None else failed or WORKER_FAILED


def app_from_env():
    """The app of one worker process, from the settings ``serve`` left in CONFIG_ENV. Its
    logging is set up first: an app that could not be imported (an installation changed
    under the running server) printed its traceback in the request log, through logging's
    last resort, and the error log had none."""
    settings = json.loads(os.environ[CONFIG_ENV])
    error_log = Path(settings["error_log"]) if settings.get("error_log") else None
    try:
        _logging_from(settings)
        if hasattr(signal, "SIGHUP"):       # a closed console: the supervisor replaces this worker gracefully
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
        if settings.get("tls"):
            _tls_in_worker(settings)
        use_server_temp(Path(settings["workdir"]))
        from .app import create_app
        from .config import load_key

        key = load_key()
        os.environ.pop(KEY_ENV, None)       # nor handed on to a process a click may start (none does today)
        return create_app(ServerConfig(Path(settings["workdir"]), key,
                                       max_bytes=settings["max_bytes"], share=settings["share"],
                                       error_log=error_log, proxy=bool(settings.get("proxy"))))
    except BaseException:
        _worker_failed(settings, "worker start")


def use_server_temp(workdir: Path) -> None:
    """This process's temporary files (the tool's and Python's: openpyxl writes each sheet of
    a 確定版 to one) in the server's own folder of the work folder (config.TEMP_FOLDER),
    swept of what a killed worker left: in the system's temporary folder they lay outside
    the work folder, and nothing removed a killed click's. Where the folder cannot be had
    now (the start made it: removed since), the system's folder as before, no click refused."""
    from ..scratch import use_root
    from .config import TEMP_FOLDER

    try:
        use_root(Path(workdir) / TEMP_FOLDER)
    except OSError:
        pass


def use_tls(certfile: str, keyfile: str) -> None:
    """HTTPS in this process: the context the protocol's handshakes use
    (connections.TimelyH11Protocol.tls), a class setting since uvicorn builds the protocol
    (``http``) itself, in each worker. Made as uvicorn's default one is (its
    ``create_ssl_context`` with its defaults: TLS server, no client certificate, Python's
    ciphers); the HTTP/1.1 protocol offers no ALPN."""
    import ssl

    from .config import load_tls_pair
    from .connections import TimelyH11Protocol

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    load_tls_pair(context, certfile, keyfile)      # never a passphrase asked on a console
    TimelyH11Protocol.tls = context


def _tls_in_worker(settings: dict) -> None:
    """The TLS pair of one worker process, read as the files are when uvicorn starts it,
    weeks after ``serve`` checked them when it starts one again for a worker that died. A
    certificate's key deleted or renewed as a pair that does not match made each new worker
    fail in uvicorn's own code, before the app: its traceback printed in the request log
    and the worker started again every half second, for as long as the server ran. It
    stops the server as a worker that cannot start does."""
    cert, key = settings["tls"]
    try:
        use_tls(cert, key)
    except BaseException:
        _worker_failed(settings, "worker TLS", TLS_CHANGED.format(cert=cert, key=key))


def _worker_failed(settings: dict, title: str, why: str = "") -> None:
    """The exception being handled to the error log only, the mark for ``serve`` (with
    what to tell IT, "": WORKER_FAILED), and the whole server asked to stop (uvicorn's
    STARTUP_FAILURE: not started again)."""
    from .log import error

    error("-", title)
    log_thread.stop()       # the traceback written: os._exit leaves no thread to write it
    Path(settings["failed_mark"]).write_text(why, encoding="utf-8")
    os.kill(os.getppid(), signal.SIGTERM)
    os._exit(STARTUP_FAILURE)

"""The server's two logs, two files of its own (``LogFile``, one class for both): the request
log, one line per request (``--log``), and the error log, tracebacks filed under the 受付番号
staff were shown (``--error-log``). Both are UTF-8 and rotated by size, a fixed number kept.

Not standard error: under a service manager (NSSM's AppStderr) standard error is a file
that Windows Python writes in the ANSI code page (cp932: a book named with 𠮷 as
``\\U00020bb7``), beside a UTF-8 error log; and NSSM's own rotation moves files aside but
never deletes one, so the log grew without end on a server nobody watches. Standard error
now carries only what cannot go to a file (start-up failures and the start line saying
where the logs are, a log file that cannot be written), in UTF-8 too (``utf8_stderr``).

The request line is built from fields, every value escaped: a path or a header comes from
whoever sent the request, and a raw CR or LF in it would start a line of its own (a forged
「outcome=完了」). Values with a space, a quote or an equals sign are quoted, so the line
splits into fields one way only. What an unauthenticated request sent (its path, its
headers) is not written at all; the key never is. No workbook content is written: a
button's title, the book's name and place in the work folder, the Excel user name, the
outcome, how many files and folders the request wrote (0: nothing) and the duration.

uvicorn's and asyncio's own records come to the same log (``uvicorn_log_config``, the
dictConfig uvicorn applies in each process): one escaped line each, with the time and a
Japanese outcome; their tracebacks go to the error log, and a kind of record that repeats
is written once a minute with its count (``OnceAMinute``).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import sys
import time
import traceback
import weakref
from collections import OrderedDict
from pathlib import Path
from typing import Optional

from ..core.errors import released
from ..errorlog import RECORD_CHARS, TRACE_INDENT, append_record, escaped, open_log, seen, stamp, traceback_text
from .config import DEFAULT_LOG_MB, LOG_KEPT

LOGGER = "renkei_xl.server"
LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"


class _Formatter(logging.Formatter):
    """Each line's time with its offset from UTC (errorlog.stamp: the rule of every log of the tool)."""

    def formatTime(self, record: logging.LogRecord, datefmt: Optional[str] = None) -> str:  # noqa: N802
        return stamp(record.created)


ERROR_LOG_NAME = "renkei-xl-server-error.log"
LOG_NAME = "renkei-xl-server.log"

log = logging.getLogger(LOGGER)


# What no line may hold, whichever field it comes in: the server's key (the Guard names it,
# keep_out). Requests without the key have their path and headers left out; one with it
# may still carry it where a field is read from (a path made by hand, 「/buttons/<key>」,
# the Excel user name, a report's text), and it was written as it came.
_KEPT_OUT: set[str] = set()
KEY_SHOWN = "〔鍵〕"


def keep_out(secret: str) -> None:
    """``secret`` is written as KEY_SHOWN in every field of every line from now on."""
    if secret:
        _KEPT_OUT.add(secret)


def _hidden(text: str) -> str:
    for secret in _KEPT_OUT:
        if secret in text:
            text = text.replace(secret, KEY_SHOWN)
    return text


def escape(value: object) -> str:
    """One field value as printable text on one line: control and separator characters as
    \\uXXXX, backslash doubled, quoted when it holds a space, a quote or ``=`` (or is empty);
    the key as KEY_SHOWN (keep_out). Escaped too: the printable characters that show as
    nothing or as a blank (errorlog.seen): a Hangul filler between two names
    of a user read as two words on an unquoted field, and a book's name as another book's."""
    text = _hidden(str(value))
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == " " or seen(ch):         # the rule of every log (errorlog.seen)
            out.append(ch)
        else:
            out.append(escaped(ch))
    shown = "".join(out)
    if not shown or any(ch in shown for ch in ' "='):
        return f'"{shown}"'
    return shown


def trace_text(trace: str) -> str:
    """A traceback as the error log keeps it (errorlog.traceback_text), the key written as
    KEY_SHOWN and cut to RECORD_CHARS before it is escaped. An exception's message quotes
    what a request sent (a book's, a sheet's or a path's name, a value): the key in one of
    them, hidden in every field of the request log, was written as it came in the error log
    (its tracebacks went to traceback_text alone). And a message of millions of characters
    was escaped whole, a string a character, before LogFile cut the record (the rule
    errorlog.log_error keeps). The key out before the cut, as in request_line: the window
    cut holds any key that begins in it."""
    window = trace[:RECORD_CHARS + max(map(len, _KEPT_OUT), default=0)]
    text = _hidden(window)[:RECORD_CHARS]
    over = len(trace) - RECORD_CHARS
    return traceback_text(text) + (f"\n{TRACE_INDENT}…（{over} 文字を省略）" if over > 0 else "")


def line(**fields: object) -> str:
    """``key=value`` pairs in the order given, each value escaped; None values left out."""
    return " ".join(f"{key}={escape(value)}" for key, value in fields.items() if value is not None)


# A value from a request (a book's name, an authenticated request's path, a client's report)
# is cut to this many characters in the log: one line stays one screen, whatever was sent.
FIELD_CHARS = 200


# A turn that came within this many seconds was no wait (the event loop's own step).
WAITED_SHOWN = 0.1


def request_line(*, request: str, client: str, status: int | str, outcome: str, millis: float,
                 button: Optional[str] = None, book: Optional[str] = None, user: Optional[str] = None,
                 path: Optional[str] = None, result: Optional[str] = None, written: int = 0,
                 answered: Optional[str] = None, error: Optional[str] = None, text: Optional[str] = None,
                 repeats: Optional[int] = None, waited: Optional[float] = None) -> str:
    """``book``: the book the click named (its folder in the work folder once admitted).
    ``written``: how many files and folders the request wrote in the work folder, 0 when
    nothing (every refusal, every button that only answers Excel). ``answered``, ``error``,
    ``text``: a client's report that Excel failed to replay the answer to request
    ``answered`` with run-time error ``error`` (RenkeiServer.bas). ``status`` "-": nothing
    was sent (the client went away first); then ``result`` is what the click did all the same,
    as it is with a status and outcome=応答できず when the client went away while the answer
    was on its way (server.app._in_pieces).
    ``repeats``: how many lines like this one (``Quiet``) were held back before it.
    ``waited``: the seconds a click waited for its turn (server.turns) and for writer locks
    held elsewhere (safety.waiting_until), shown from WAITED_SHOWN on: part of the duration,
    which alone did not tell IT a slow click from a queued one.
    Every text value is cut to FIELD_CHARS: any of them may come from a client (a report's
    error number of 4,000 digits, an address a proxy forwards), not only the book and path."""
    fields = dict(request=request, client=client or "-", button=button, book=book, path=path, user=user,
                  outcome=outcome, status=status, result=result, written=written,
                  answered=answered, error=error, text=text, repeats=repeats,
                  waited=f"{waited * 1000:.0f}ms" if waited is not None and waited >= WAITED_SHOWN else None)
    # The key out before the cut: a key across FIELD_CHARS left its beginning in the line.
    return line(**{key: _cut(_hidden(value)) if isinstance(value, str) else value for key, value in fields.items()}) \
        + f" {millis:.0f}ms"


def _cut(value: Optional[str]) -> Optional[str]:
    if value is None or len(value) <= FIELD_CHARS:
        return value
    return f"{value[:FIELD_CHARS]}…（{len(value)} 文字）"


def default_error_log() -> Path:
    return _log_folder() / ERROR_LOG_NAME


def default_log(error_log: Optional[Path] = None) -> Path:
    """Beside the error log (``error_log``, the one IT chose with --error-log, else its
    default): one folder for IT to find both, and one right to give the service account
    (docs/staff-setup.md). An install made before --log gives --error-log only."""
    return (Path(error_log).parent if error_log is not None else _log_folder()) / LOG_NAME


def _log_folder() -> Path:
    """A log folder of the service account, never the work folder staff see: Windows'
    %LOCALAPPDATA%\\renkei-xl\\logs, else $XDG_STATE_HOME (or ~/.local/state)/renkei-xl."""
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "renkei-xl" / "logs"
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "renkei-xl"


def utf8_stderr() -> None:
    """Standard error in UTF-8 when it is not a console. Python 3.11 on Windows writes a
    redirected standard error (a service manager's file, a pipe) in the ANSI code page,
    cp932 on Japanese Windows, with backslashreplace: one server's two logs in two
    encodings, and a book named with 𠮷 written as ``\\U00020bb7``. A console is left as
    it is: Windows' is written in UTF-16 (WriteConsoleW, PEP 528) whatever the encoding,
    and a terminal on Linux shows what its locale says. Called in every process that
    logs (uvicorn's workers start with a standard error of their own)."""
    stream = sys.stderr
    try:
        if stream is None or stream.isatty() or (stream.encoding or "").lower().replace("-", "") == "utf8":
            return
        stream.reconfigure(encoding="utf-8", errors="backslashreplace")
    except (AttributeError, ValueError, OSError):      # not a TextIOWrapper (a test's capture), or closed
        pass


def configure(error_log: Optional[Path], request_log: Optional[Path] = None,
              max_bytes: Optional[int] = None) -> None:
    """The request log (INFO) to ``request_log`` (standard error when None: a test, an
    embedding) and, when given, the error log file (tracebacks), each rotated past
    ``max_bytes`` (LOG_BYTES when None)."""
    utf8_stderr()
    _say_held_at_exit()
    sys.unraisablehook = _unraisable
    logging.captureWarnings(True)           # to the request log as lines of their own (FORWARDED)
    logger = logging.getLogger(LOGGER)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    size = LOG_BYTES if max_bytes is None else max_bytes
    # The files' handlers may be written through by the log thread (server.log_thread.Queued).
    present = [*logger.handlers, *(h for q in logger.handlers for h in getattr(q, "writes_through", ()))]
    if not any(getattr(h, "_renkei", "") == "requests" for h in present):
        if request_log is None:
            handler = logging.StreamHandler(sys.stderr)
        else:
            handler = LogFile(request_log, size, failed=_to_stderr)
        handler.setFormatter(_Formatter(LOG_FORMAT))
        handler.addFilter(lambda record: not getattr(record, "traceback", False))
        handler._renkei = "requests"
        logger.addHandler(handler)
    if error_log is not None and not any(getattr(h, "_renkei", "") == "errors" for h in present):
        handler = LogFile(error_log, size, failed=_not_kept)
        handler.setFormatter(_Formatter(LOG_FORMAT))
        handler.addFilter(lambda record: bool(getattr(record, "traceback", False)))
        handler._renkei = "errors"
        logger.addHandler(handler)


# Each log's growth: a request line is a few hundred bytes, a traceback a few kilobytes,
# but a flood of clicks (or a click failing the same way on every press) adds one each
# time. Past LOG_BYTES (``--log-mb``) the file moves to ``.1`` (``.1`` to ``.2``…), LOG_KEPT
# of them kept: at most about 60 MB a log, the newest records always kept. One record is
# cut to RECORD_CHARS.
LOG_BYTES = DEFAULT_LOG_MB * 1024 * 1024


class LogFile(logging.Handler):
    """A log file of the server (the request log, the error log): each record appended in
    an open of its own, the file rotated by size first. Opened per record, never held: on
    Windows a file another worker holds open cannot be renamed, so each worker keeping its
    own handle would stop every rotation (and logging's RotatingFileHandler then fails
    there). Its folder may have gone or turned read-only since the start check, the disk
    may be full: the request is answered all the same, and ``failed(handler, record,
    exc)`` says so where it can, instead of logging's own traceback on standard error."""

    def __init__(self, filename: Path, max_bytes: int = LOG_BYTES, kept: int = LOG_KEPT, *, failed):
        super().__init__()
        self.baseFilename = os.path.abspath(filename)
        self.max_bytes, self.kept, self.failed = max_bytes, kept, failed
        self.failing = False        # this process could not write the last record
        self.elsewhere = 0          # records this process wrote to standard error since (_to_stderr)
        self.lost = 0               # … and those standard error did not take either
        self.counted = 0            # … and those only counted, past the bound (STDERR_RECORDS)
        self.elsewhere_bytes = 0    # what this process wrote to standard error since
        self.counted_said = 0.0     # when (time.monotonic) the count was last said there
        self.elsewhere_since: Optional[str] = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
            if len(text) > RECORD_CHARS:
                text = f"{text[:RECORD_CHARS]}\n…（{len(text) - RECORD_CHARS} 文字を省略）"
            self._rotate()
            if self.elsewhere_since is not None:
                text = f"{self._gap()}\n{text}"
            append_record(self.baseFilename, text, follow=False)    # whole, or nothing of it (a full disk)
            self.failing, self.elsewhere, self.lost, self.elsewhere_since = False, 0, 0, None
            self.counted, self.elsewhere_bytes = 0, 0
        except OSError as exc:
            self.failed(self, record, exc)

    def _gap(self) -> str:
        """The line that says, once the file takes records again, how many of this process's
        went to standard error meanwhile, and since when: the file had a silent gap there (a
        full disk, a folder gone for an hour), and IT, reading it for a click staff quote
        from that hour, found nothing and no word of where it was."""
        return self.format(logging.makeLogRecord({
            "msg": line(request="-", client="-", outcome=GAP, lines=self.elsewhere, lost=self.lost or None,
                        counted=self.counted or None, since=self.elsewhere_since, text=GAP_TEXT),
            "levelno": logging.WARNING, "levelname": "WARNING"}))

    def _rotate(self) -> None:
        """The file moved aside once it is full, by one worker at a time: a worker finding
        another rotating (its lock, ``.lock`` beside the log) leaves it to that one, and the
        one holding it checks the size again (a worker that found the log full just before
        another moved it would move the new one too: one kept file lost early)."""
        if not self._full():
            return
        from ..core.errors import UserError
        from ..safety import try_lock, unlock

        try:
            fd: Optional[int] = os.open(f"{self.baseFilename}.lock", os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        except OSError:
            fd = None          # no lock to be had (a folder read-only but for the log): rotated all the same
        held = False
        try:
            if fd is not None:
                try:
                    held = try_lock(fd, Path(self.baseFilename))
                    if not held:
                        return     # another worker is rotating: it moves this log too
                except UserError:  # a share without locks: rotated unlocked
                    pass
            if self._full():
                self._move_aside()
        finally:
            if held:
                unlock(fd)
            if fd is not None:
                os.close(fd)

    def _full(self) -> bool:
        try:
            return os.path.getsize(self.baseFilename) >= self.max_bytes
        except OSError:        # not there yet: nothing to move
            return False

    def _move_aside(self) -> None:
        """The log to ``.1``, moved before anything else moves: on Windows a log another
        worker is appending to (or a viewer holds open) cannot be renamed while its older
        files can, and shifting those first moved each one on at every record until one
        was left. So it goes to a name of its own first (``_aside_name``); only then do the
        kept files move up, and the files left aside (this one, and those earlier rotations
        left while a kept file was held) take ``.1``, ``.2``… newest first.

        The order is the names' own, never the files' times: ``.1`` the newest, and every file
        left aside newer than every numbered one. A kept file held open stops the moves where
        it stands, numbered ones first, the files aside then the oldest first, so that order
        holds whichever move fails. Ordered by modification time, a clock stepped back (the
        newest file written before the older ones' times) had the newest file removed."""
        aside = self._aside_name()
        try:
            os.replace(self.baseFilename, aside)
        except OSError:
            # Not moved (open elsewhere): the record is still appended, the next one tries
            # again; a lost record is worse than a file a little past its size.
            return
        numbered, asides = self._ours()
        ahead = len(asides)             # how many places each numbered file moves up
        try:
            for n in sorted(numbered, reverse=True):
                if n + ahead > self.kept:
                    os.remove(numbered[n])          # past the kept: the oldest go
                else:
                    os.replace(numbered[n], f"{self.baseFilename}.{n + ahead}")
            for i, (_order, path) in enumerate(asides):     # the oldest first, into the highest place
                place = ahead - i
                if place > self.kept:
                    os.remove(path)
                else:
                    os.replace(path, f"{self.baseFilename}.{place}")
        except OSError:
            # A kept file open elsewhere: the others stay where they are (beside the kept ones,
            # for IT to find) rather than over a kept one; the order above still holds.
            pass
        self._keep_newest()

    def _aside_name(self) -> str:
        """``.<pid>-<n>``: ``n`` the time in nanoseconds, but after every name already left aside
        (a clock stepped back gave the newest file the oldest name, and it went first)."""
        _numbered, asides = self._ours()
        order = max([time.time_ns(), *(order + 1 for order, _path in asides)])
        return f"{self.baseFilename}.{os.getpid()}-{order}"

    def _ours(self) -> tuple[dict[int, str], list[tuple[int, str]]]:
        """The rotated files of this log, by the names rotation gives (``_move_aside``): the
        numbered ones ``.1``… up to ``kept``, and those left aside ``.<pid>-<n>`` with their
        ``n``, the oldest first. Nothing else is ours, so nothing else is moved or removed: a
        ``.7`` IT moved aside, logrotate's ``.20261205``, a folder."""
        folder, name = os.path.split(self.baseFilename)
        numbered: dict[int, str] = {}
        asides: list[tuple[int, str]] = []
        try:
            entries = os.listdir(folder)
        except OSError:
            return numbered, asides
        for entry in entries:
            found = _ROTATED.fullmatch(entry[len(name):]) if entry.startswith(name) else None
            path = os.path.join(folder, entry)
            if found is None or not os.path.isfile(path):
                continue
            if found.group("n") is not None:
                n = int(found.group("n"))
                if str(n) == found.group("n") and 1 <= n <= self.kept:
                    numbered[n] = path
            else:
                asides.append((int(found.group("order")), path))
        return numbered, sorted(asides)

    def _keep_newest(self) -> None:
        """Of the rotated files (``_ours``), the ``kept`` newest stay, by the rotation's order:
        the numbered ones from the highest removed first, then those left aside, the oldest
        first. A kept file held open on Windows (a tail on ``.3``) cannot be moved on, and each
        rotation while it was held left the log aside: a file of --log-mb more each time, with
        no end. One that cannot be removed (held as well) stays and counts: the next one goes
        instead."""
        numbered, asides = self._ours()
        oldest_first = [numbered[n] for n in sorted(numbered, reverse=True)] + [path for _order, path in asides]
        left = len(oldest_first)
        for path in oldest_first:
            if left <= self.kept:
                break
            try:
                os.remove(path)
                left -= 1
            except OSError:                         # held: it counts, the next older goes instead
                pass


# A rotated log's name after the log's own: ``.1``… or ``.<pid>-<n>`` (LogFile._move_aside).
_ROTATED = re.compile(r"\.(?:(?P<n>\d+)|\d+-(?P<order>\d+))")


def _not_kept(handler: LogFile, record: logging.LogRecord, exc: Optional[BaseException]) -> None:
    """A traceback the error log could not take: one line in the request log, under the
    request's number, saying so."""
    first = record.getMessage().split("\n", 1)[0]
    reason = getattr(exc, "strerror", None) or type(exc).__name__
    log.warning("%s", f"{first} {line(error_log=str(handler.baseFilename), not_kept=reason)}")


GAP = "記録のファイルに書けなかった"
GAP_TEXT = ("この間の記録（lines= の数）は、標準エラー出力（サービスの記録: NSSM の AppStderr のファイル、journald）に"
            "書きました。counted= の数は、そこが大きくなりすぎないよう数だけ数えた記録、lost= の数は、そこにも書けずに"
            "失われた記録です")

# What one process writes to standard error while its log file cannot be written, at most:
# STDERR_RECORDS records or STDERR_BYTES, whichever comes first; past it the records are only
# counted (LogFile.counted, the gap line's counted=), with one line saying so, and a line with
# the count every STDERR_COUNT_SECONDS while it lasts. Standard error under a service manager
# is a file too (NSSM's AppStderr, which nothing rotates; a systemd unit's StandardError=file:,
# journald without limits): a log folder gone for a week moved the whole log there, unbounded.
STDERR_RECORDS = 1000
STDERR_BYTES = 1024 * 1024
STDERR_COUNT_SECONDS = 3600.0
COUNTED_TEXT = ("記録のファイル「{path}」に書き込めないままのため、標準エラー出力が大きくなりすぎないよう、"
                "ここからの記録は書かずに数だけ数えます（{lines} 行を書きました）。書き込めるようになると、"
                "ファイルの最初の行（counted=）にその数を書きます")
STILL_COUNTED_TEXT = "記録のファイル「{path}」にまだ書き込めません。書かずに数えた記録: {counted} 行（{since} から）"


def _to_stderr(handler: LogFile, record: logging.LogRecord, exc: Optional[BaseException]) -> None:
    """A request line the request log could not take: to standard error, the one place left
    (the service manager's file, journald), after one line saying why, once until the file
    can be written again. Not a line per record saying so: a full disk would double them.
    Bounded (STDERR_RECORDS, STDERR_BYTES): past it the records are counted (_count_only)."""
    handler.elsewhere_since = handler.elsewhere_since or stamp(record.created)
    try:
        if not handler.failing:
            # The system's strerror is English (「Permission denied」) inside a Japanese line IT reads.
            from ..safety import system_reason

            reason = system_reason(exc) if isinstance(exc, OSError) else type(exc).__name__
            sys.stderr.write(f"記録のファイル「{handler.baseFilename}」に書き込めません（{reason}）。"
                             "書き込めるようになるまで、記録はここ（標準エラー出力）に書きます\n")
        handler.failing = True
        text = handler.format(record) + "\n"
        if handler.counted or handler.elsewhere >= STDERR_RECORDS \
                or handler.elsewhere_bytes + len(text.encode("utf-8", "replace")) > STDERR_BYTES:
            _count_only(handler)
            return
        sys.stderr.write(text)
        sys.stderr.flush()
        handler.elsewhere += 1
        handler.elsewhere_bytes += len(text.encode("utf-8", "replace"))
    except (OSError, ValueError, AttributeError):      # no standard error either (pythonw, closed)
        handler.lost += 1           # the gap's line says so (LogFile._gap): written nowhere


def _count_only(handler: LogFile) -> None:
    """A record past the bound of standard error (STDERR_RECORDS, STDERR_BYTES): counted, not
    written. The first one says so in a line; then a line with the count once every
    STDERR_COUNT_SECONDS (a monotonic clock: a clock stepped back neither stops nor floods
    them), for IT reading the service's file to see the log is still not written."""
    now = time.monotonic()
    if not handler.counted:
        said = COUNTED_TEXT.format(path=handler.baseFilename, lines=handler.elsewhere)
    elif now - handler.counted_said >= STDERR_COUNT_SECONDS:
        said = STILL_COUNTED_TEXT.format(path=handler.baseFilename, counted=handler.counted,
                                         since=handler.elsewhere_since)
    else:
        said = None
    handler.counted += 1
    if said is not None:
        handler.counted_said = now
        with contextlib.suppress(OSError, ValueError, AttributeError):     # counted all the same
            sys.stderr.write(said + "\n")
            sys.stderr.flush()


def _unraisable(unraisable) -> None:
    """An exception Python could not raise (a ``ZipFile.__del__`` closing a half-written
    file on a full disk): its traceback to the error log, one line to the request log,
    instead of Python's own lines printed into the request log."""
    where = getattr(unraisable.object, "__qualname__", None) or type(unraisable.object).__name__
    text = "".join(traceback.format_exception(unraisable.exc_type, unraisable.exc_value,
                                              unraisable.exc_traceback)).rstrip()
    log.error("%s\n%s", line(request="-", unraisable=where), trace_text(text), extra={"traceback": True})
    log.warning("%s", line(request="-", unraisable=where, error=getattr(unraisable.exc_value, "strerror", None)
                           or unraisable.exc_type.__name__))


def check_log(path: Path, workdir: Path, *, option: str, name: str) -> Path:
    """A log's file (``name``: 記録, エラーログ), checked at start: writable, and not in the
    work folder (a log names server paths, users and code, which the staff's share has no
    use for; and a write there would count as the buttons' own)."""
    from ..core.errors import UserError
    from ..safety import system_reason

    path = Path(path).expanduser().absolute()
    resolved = Path(os.path.realpath(path))
    work = Path(os.path.realpath(workdir))
    if resolved == work or work in resolved.parents:
        raise UserError(f"{name}「{path}」が作業フォルダーの中です。作業フォルダーの外（例: ログ用のフォルダー）を "
                        f"{option} に指定してください")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        pass                    # a file where the folder should be: the open below says it
    except OSError as exc:
        # The folder, not the file: 「書き込めるファイルを指定してください」 sent IT to change a
        # file name when /var/log/renkei-xl was missing (systemd's LogsDirectory makes it for
        # the service, a start by hand has none) and the service's account may not make it.
        raise UserError(f"{name}のフォルダー「{path.parent}」がなく、作れません（{system_reason(exc)}）。管理者がフォルダーを"
                        "作り、サービスのアカウントに書き込みを許してください（Linux の例: install -d -o renkei -g renkei "
                        f"-m 750 {path.parent}）。または書き込めるフォルダーのファイルを {option} に指定してください") from None
    if hasattr(os, "O_NOFOLLOW"):
        # A link IT made is resolved once, here: each record then opens the file itself and
        # no link put in its place later (LogFile, follow=False). A link put there while
        # serving was followed, and every record appended to whatever it named (a master in
        # the work folder, a system file when the service runs as root).
        path = Path(os.path.realpath(path))
    try:
        os.close(open_log(path, follow=False)[0])   # as each record opens it: a named pipe would wait for good
    except OSError as exc:
        raise UserError(f"{name}「{path}」に書き込めません（{system_reason(exc)}）。書き込めるファイルを "
                        f"{option} に指定してください") from None
    return path


def check_logs(log_file: Path, error_log: Path, workdir: Path) -> tuple[Path, Path]:
    """Both logs checked, and not one file: the two would rotate each other's records away."""
    from ..core.errors import UserError

    requests = check_log(log_file, workdir, option="--log", name="記録のファイル")
    errors = check_log(error_log, workdir, option="--error-log", name="エラーログ")
    if os.path.realpath(requests) == os.path.realpath(errors):
        raise UserError(f"記録のファイルとエラーログが同じファイル「{requests}」です。--log と --error-log には"
                        "別のファイルを指定してください")
    return requests, errors


def error(request_id: str, title: str) -> None:
    """The exception being handled, with its traceback, under ``request_id``: only to the
    error log (the request line says outcome=エラー with the same number). What the failed
    work held is let go first (core.errors.released): a click whose memory ran out still
    held it in its frames, and the record's own text needed memory."""
    released(sys.exc_info()[1])
    log.error("%s\n%s", line(request=request_id, button=title), trace_text(traceback.format_exc()),
              extra={"traceback": True})


# ------------------------------------------------------- uvicorn's and asyncio's records

REPEAT_SECONDS = 60.0
# py.warnings: Python's warnings (logging.captureWarnings, configure), which printed their
# own two lines, file and source, into the request log (multiprocessing's 「resource_tracker:
# process died unexpectedly」 once a closed console's SIGHUP had reached it).
FORWARDED = ("uvicorn", "uvicorn.error", "asyncio", "py.warnings")
# Digits and addresses in a message that say which instance, not which kind: a timer's
# ``when=5512.731``, a socket's ``fd=12``, an object's ``at 0x7f3a…``.
_VOLATILE = re.compile(r"0x[0-9a-fA-F]+|\d+(?:\.\d+)?")
# uvicorn's records the server writes a line of its own for (connections.TimelyH11Protocol
# answers an unreadable request and logs it under its number).
WRITTEN_ELSEWHERE = frozenset({"Invalid HTTP request received."})
# An upgrade request (WebSocket), which no button makes: uvicorn's records of one, and the
# guard's line for one that reached the app (server.app.Guard._no_websocket).
UPGRADE_REFUSED = "未対応の切り替え要求"
# What IT reads for the records met so far (first words of the message); others by level.
OUTCOMES = (("socket.accept() out of system resource", "接続を受けられない（開けるファイルの上限）"),
            ("connection limit", "接続数の上限"),
            ("TLS handshake not finished", "TLS の接続が時間内に完了せず切断"),
            ("TLS handshake failed", "TLS の接続に失敗して切断"),
            ("Unsupported upgrade request", UPGRADE_REFUSED),
            ("No supported WebSocket library", UPGRADE_REFUSED),
            ("Exception in callback", "内部エラー"),
            ("Exception in ASGI application", "内部エラー"),
            ("Task exception was never retrieved", "内部エラー"))
BY_LEVEL = {logging.INFO: "情報", logging.WARNING: "警告", logging.ERROR: "エラー", logging.CRITICAL: "エラー"}
# uvicorn's records below WARNING that IT must read all the same, raised to WARNING: a worker
# that died (killed by the system for memory, or by someone) is started again by uvicorn's
# supervisor, which says so only at INFO. The log had no trace of it, nor of the click it
# was running, which Excel met as a broken connection.
WORKER_DIED = re.compile(r"Child process \[\d+\] died")
DIED = "ワーカー停止（起動し直した。処理中のボタンは応答なし）"


def kind(record: logging.LogRecord) -> tuple[str, str, str]:
    """What stays the same across repeats of one kind of record: the logger, the exception
    type, and the first line of the message template with its digits and addresses taken
    out (asyncio formats each record itself, ``handle: <TimerHandle when=…>`` included)."""
    exc_type = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
    template = record.getMessage() if record.name == "py.warnings" else str(record.msg)   # its template is "%s"
    first = template.split("\n", 1)[0]
    return record.name, exc_type, _VOLATILE.sub("#", first)


class OnceAMinute(logging.Filter):
    """Lets one record of a kind (``kind``) through per ``every`` seconds; the next one it
    lets through carries ``repeats``, how many it held back. A flood of one kind (accept
    failing while files are short, thousands of accept retries failing at a stop) is so a
    line a minute, whatever each record says of its own instance.

    At most ``keys`` kinds (MAX_KEYS) are kept within a minute: a kind's first line text can
    hold what digits do not say (an IPv6 peer's letters in a warning about its socket), and
    the maps grew without bound within the minute. Kinds past that are one kind, OTHER_KINDS,
    its count on a line of its own (``_say``)."""

    def __init__(self, every: Optional[float] = None, clock=time.monotonic, keys: Optional[int] = None):
        super().__init__()
        self.every, self.clock = REPEAT_SECONDS if every is None else every, clock
        self.keys = MAX_KEYS if keys is None else keys
        self._last: OrderedDict[tuple, float] = OrderedDict()   # the oldest minute first (_forget)
        self._held: dict[tuple, int] = {}
        self._latest: dict[tuple, logging.LogRecord] = {}     # the last record held back of a kind
        _KEEPERS.add(self)

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "held_said", False):      # the last one held back, said as the minute ends
            return True
        key = kind(record)
        now = self.clock()
        if key not in self._last:
            self._forget(now)
            if len(self._last) >= self.keys:
                key = OTHER_KINDS
        last = self._last.get(key)
        if last is not None and now - last < self.every:
            self._held[key] = self._held.get(key, 0) + 1
            self._latest[key] = record
            if self._held[key] == 1:
                self._said_at_end(key, last)
            return False
        if key == OTHER_KINDS:
            self._say(key)                  # the others' count on its own line, not on this record's
        else:
            record.repeats = self._held.pop(key, 0) or None
        self._latest.pop(key, None)
        self._last[key] = now
        self._last.move_to_end(key)
        return True

    def _forget(self, now: float) -> None:
        """Kinds whose minute has ended, oldest first, dropped with their count said: each
        kind is dropped once, so a flood of new kinds costs no pass over all of them."""
        while self._last:
            key, last = next(iter(self._last.items()))
            if now - last < self.every:
                return
            self._say(key)
            del self._last[key]

    def _say(self, key: tuple) -> None:
        """The count held back of ``key`` written now: its last record, with ``repeats`` the
        others; of OTHER_KINDS, a line of its own (the records held were of many kinds)."""
        held, record = self._held.pop(key, 0), self._latest.pop(key, None)
        if not held or record is None:
            return
        if key == OTHER_KINDS:
            log.warning("%s", line(request="-", client="-", outcome=OTHER_KINDS_OUTCOME, source=OTHERS,
                                   text=OTHER_KINDS_TEXT.format(keys=self.keys), repeats=held))
            return
        record.repeats = (held - 1) or None
        record.held_said = True
        logging.getLogger(record.name).handle(record)

    def say_held(self) -> None:
        """Every count held back, written now (the process is stopping: ``say_held``)."""
        for key in list(self._held):
            self._say(key)

    def _said_at_end(self, key: tuple, last: float) -> None:
        """The last record held back of ``key`` let through as its minute ends (it happened;
        ``repeats`` the others held), unless a record of the kind has said them by then. A flood
        that stopped (connections past the limit, closed for good) was its first line and
        nothing else: the count held back waited for a record of its kind that never came.
        On the event loop the record came from; from another thread, the next record says it."""
        import asyncio

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return

        def said() -> None:
            if self._last.get(key) == last:
                self._say(key)

        loop.call_later(max(last + self.every - self.clock(), 0.0), said)


# A client's requests refused before anything is read (no key, a wrong key, a path that is
# no button: a scanner, a script, a PC with an old key) are written QUIET_BURST a minute per
# client and outcome; the next one written after that says how many were held back
# (``repeats=``). A flood of them would otherwise fill the log, and journald drops a
# service's lines past its rate limit (10,000 in 30 s by default): the clicks' own lines
# with them.
QUIET_BURST = 10


class Quiet:
    """Which lines of a kind (``key``: client and outcome) are written: ``burst`` per
    ``every`` seconds (REPEAT_SECONDS when None), the rest counted and reported on the next
    line written, or, when none comes within the window, on a line of their own as it ends
    (``held_back``). Reported only on the next line, a flood that stopped (a scanner gone)
    was never counted: the log had its first lines and no trace of the rest.

    At most ``keys`` clients and outcomes (MAX_KEYS) are kept within a window: one LAN host
    may have any number of IPv6 addresses (privacy addresses, a scanner making its own), and
    a window per address grew the worker's memory without bound within the minute. A key
    past that is counted with the others past it (client OTHERS, per outcome): its first
    ``burst`` lines written as ever, with their own address, the rest counted on a line of
    their own (``held_back``), never on one client's line."""

    def __init__(self, every: Optional[float] = None, burst: Optional[int] = None, clock=time.monotonic,
                 keys: Optional[int] = None, budget: Optional["AllClients"] = None):
        self.every = REPEAT_SECONDS if every is None else every
        self.burst, self.clock = QUIET_BURST if burst is None else burst, clock
        self.keys = MAX_KEYS if keys is None else keys
        self.budget = budget        # None: the process's own (REFUSED, looked up at each line)
        self._windows: OrderedDict[tuple, list] = OrderedDict()   # key -> [start, written, held], oldest first
        _KEEPERS.add(self)

    def _all(self) -> "AllClients":
        return REFUSED if self.budget is None else self.budget

    def let(self, key: tuple) -> tuple[bool, Optional[int]]:
        """(whether to write this line, how many were held back before it). A line this
        client and outcome may have is written only within the lines of all clients together
        (AllClients): past them it is counted there, with the count it carried."""
        shown, held = self._let(key)
        if shown and not self._all().take(key[1], 1 + (held or 0)):
            return False, None
        return shown, held

    def _let(self, key: tuple) -> tuple[bool, Optional[int]]:
        now = self.clock()
        window = self._windows.get(key)
        if window is None:
            self._forget(now)
            if len(self._windows) >= self.keys:
                key = (OTHERS, key[1])
                window = self._windows.get(key)
        if window is None or now - window[0] >= self.every:
            held = window[2] if window is not None else 0
            self._windows[key] = [now, 1, 0]
            self._windows.move_to_end(key)
            if key[0] == OTHERS:            # many clients' count: a line of its own
                if held:
                    held_back(key, held, self._all())
                return True, None
            return True, held or None
        if window[1] < self.burst:
            window[1] += 1
            return True, None
        window[2] += 1
        if window[2] == 1:
            self._said_at_end(key, window)
        return False, None

    def _forget(self, now: float) -> None:
        """Windows that have ended, oldest first, dropped with their count said (its timer, if
        any, finds it gone): each dropped once, so a flood of new addresses costs no pass over
        all of them (the pass made for every new key past 1,000 took minutes for 100,000)."""
        while self._windows:
            key, window = next(iter(self._windows.items()))
            if now - window[0] < self.every:
                return
            del self._windows[key]
            if window[2]:
                held, window[2] = window[2], 0
                held_back(key, held, self._all())

    def say_held(self) -> None:
        """Every count held back, written now (the process is stopping: ``say_held``)."""
        for key, window in list(self._windows.items()):
            if window[2]:
                held, window[2] = window[2], 0
                held_back(key, held, self._all())

    def _said_at_end(self, key: tuple, window: list) -> None:
        """The count of ``window`` written as it ends, unless a line of ``key`` has said it by
        then. On the worker's event loop (every line held back is let from it); without one
        (a direct call) the next line says it, as ever."""
        import asyncio

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return

        def said() -> None:
            if self._windows.get(key) is window and window[2]:
                held, window[2] = window[2], 0
                held_back(key, held, self._all())

        loop.call_later(max(window[0] + self.every - self.clock(), 0.0), said)


def held_back(key: tuple, held: int, budget: Optional["AllClients"] = None) -> None:
    """The line for ``held`` requests of ``key`` (client, outcome) that Quiet held back and no
    later line of theirs counted: ``request=-``, for no one request, with ``repeats=``. It is
    a line about refused requests too: past the lines of all clients (``budget``) it is counted
    there instead (10,000 addresses each past its burst were 10,000 such lines a minute)."""
    client, outcome = key
    if (REFUSED if budget is None else budget).take(outcome, held):
        log.info("%s", line(request="-", client=client, outcome=outcome, repeats=held))


# Lines a process writes a minute about requests refused or looked at before their key is
# known (Quiet's lines and its held_back counts), all clients together. Quiet bounds each
# client (QUIET_BURST); a host with any number of IPv6 addresses still wrote about 100,000
# lines a minute per outcome (MAX_KEYS × QUIET_BURST), and the rotated log (about 60 MB)
# was pushed out in minutes, the clicks' own lines with it. Past REFUSED_LINES the requests
# are only counted, by outcome, and one line (ALL_OUTCOME) says how many were left out as
# the minute ends. A refused line is about 120 bytes: at most about 4 KB a minute a worker
# (5 to 6 MB a day), so the log keeps days of clicks under a flood that never stops.
REFUSED_LINES = 30
ALL_CLIENTS = "（全体）"
ALL_OUTCOME = "記録の上限"
ALL_TEXT = ("1 分間に断った要求などの記録が {lines} 行を超えたため、{left_out} 件は 1 件ずつは書かずに数えました"
            "（{by_outcome}）")


class AllClients:
    """The lines about refused requests of all clients together: REFUSED_LINES per minute
    (REPEAT_SECONDS), the rest counted by outcome and said in one line (``_say``) as the minute
    ends, or at the next line after it, or as the process stops (``say_held``). Read at each
    line where not given, so that a test's minute or bound holds for the server it makes."""

    def __init__(self, lines: Optional[int] = None, every: Optional[float] = None, clock=time.monotonic):
        self.lines, self.every, self.clock = lines, every, clock
        self.start: Optional[float] = None
        self.written = 0
        self.left_out: dict[str, int] = {}      # outcome -> requests; outcomes are the code's own few
        _KEEPERS.add(self)

    def take(self, outcome: str, requests: int = 1) -> bool:
        """Whether a line for ``requests`` requests of ``outcome`` may be written; if not,
        they are counted."""
        now = self.clock()
        every = REPEAT_SECONDS if self.every is None else self.every
        if self.start is None or now - self.start >= every:
            self._say()
            self.start, self.written = now, 0
        if self.written < (REFUSED_LINES if self.lines is None else self.lines):
            self.written += 1
            return True
        if not self.left_out:
            self._said_at_end(self.start, every)
        self.left_out[outcome] = self.left_out.get(outcome, 0) + requests
        return False

    def _say(self) -> None:
        if not self.left_out:
            return
        left_out, self.left_out = self.left_out, {}
        by_outcome = "、".join(f"{outcome} {count:,}" for outcome, count in sorted(left_out.items(), key=lambda kv: -kv[1]))
        log.info("%s", line(request="-", client=ALL_CLIENTS, outcome=ALL_OUTCOME,
                            text=ALL_TEXT.format(lines=REFUSED_LINES if self.lines is None else self.lines,
                                                 left_out=f"{sum(left_out.values()):,}", by_outcome=by_outcome),
                            repeats=sum(left_out.values())))

    def say_held(self) -> None:
        self._say()

    def _said_at_end(self, start: float, every: float) -> None:
        """The count said as the minute ends (a flood that stopped has no next line to say it),
        on the event loop the line came from; without one, the next line after it says it."""
        import asyncio

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return

        def said() -> None:
            if self.start != start:
                return                      # a later line began a minute of its own and said it
            if self.clock() - start < every:   # the loop's timer a little ahead of the clock
                loop.call_later(max(start + every - self.clock(), 0.001), said)
                return
            self._say()

        loop.call_later(max(start + every - self.clock(), 0.0), said)


# Keys (a client and outcome; a kind of record) Quiet and OnceAMinute keep within a minute,
# a few hundred bytes each: about 3 MB a map at most. Past them, OTHERS stands for the rest.
MAX_KEYS = 10_000
OTHERS = "（ほか多数）"
OTHER_KINDS = (OTHERS, "", "")
OTHER_KINDS_OUTCOME = "ほかの種類の記録"
OTHER_KINDS_TEXT = "1 分間の記録の種類が {keys} を超えたため、超えた種類の記録は種類を分けずに数えました"

# Every Quiet and OnceAMinute of this process, for their counts to be written at its stop.
_KEEPERS: "weakref.WeakSet" = weakref.WeakSet()
_AT_EXIT: list[bool] = []

# This process's lines about refused requests, every Quiet's (the guard's, the protocol's).
REFUSED = AllClients()


def say_held() -> None:
    """Every count held back in this process written now: the process is stopping. Its timers
    at the minute's end never come then, and a scanner's requests past the first lines, the
    server stopped within the minute (Ctrl+C, the service stopped, a worker replaced), left
    no trace. Called where each process's serving ends: ``serve`` before its stop line (one
    process, and the supervisor of workers), each worker as uvicorn says it has finished
    (``AtStop``), and at the interpreter's exit for what came after (``configure``)."""
    for keeper in list(_KEEPERS):
        keeper.say_held()


def _say_held_at_exit() -> None:
    if not _AT_EXIT:
        atexit.register(_at_exit)       # before logging's own shutdown (registered at its import)
        _AT_EXIT.append(True)


# What else is done where a process's serving ends, after the held counts are said, in order:
# the files' threads' work done (server.aside.finish_all, put first by the first Aside made),
# then the log thread's stop (server.log_thread adds it as it starts), its queued lines
# written out.
AT_STOP: list = []


def _at_exit() -> None:
    say_held()
    for stop in list(AT_STOP):
        stop()


# uvicorn's last record of a process that served (a worker, or the one process): its server
# has shut down, its connections are closed. A worker stopped by SIGTERM ends right after it,
# by the signal uvicorn raises again under the default handler: no atexit, no finally of ours.
FINISHED = re.compile(r"Finished server process \[\d+\]")


class AtStop(logging.Filter):
    """On uvicorn's logger: the held counts written (``say_held``) when uvicorn says its server
    process has finished, before the line itself goes on (it is INFO chatter: not written),
    and what the files' threads and the log thread hold written out (AT_STOP): a worker
    stopped by SIGTERM dies right after this record, its queued lines with it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if FINISHED.fullmatch(record.getMessage()):
            _at_exit()
        return True


class Forwarded(logging.Handler):
    """uvicorn's and asyncio's records as lines of the request log: ``request=-``, a Japanese
    outcome, where it came from, its first line and the exception's type; the traceback to
    the error log. Their own handlers wrote them without time, and asyncio's tracebacks
    into the request log. These records name no connection (``client=-``): the one that
    would, a request uvicorn cannot read, is written by the protocol as a request line
    with its address (connections.TimelyH11Protocol.send_400_response)."""

    def __init__(self, level: int = logging.NOTSET):
        super().__init__(level)
        self.addFilter(lambda record: not (isinstance(record.msg, str) and record.msg in WRITTEN_ELSEWHERE))
        self.addFilter(_raised)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            # The key out before the cut to 300 (as request_line does): a key across it left
            # its beginning in the line, which keep_out no longer found.
            first = _hidden(record.getMessage().split("\n", 1)[0].strip())
            exc = record.exc_info[1] if record.exc_info else None
            fields = dict(request="-", client="-", outcome=_outcome(record, first),
                          source=record.name, text=first[:300], error=type(exc).__name__ if exc is not None else None,
                          repeats=getattr(record, "repeats", None))
            log.log(record.levelno, "%s", line(**fields))
            if record.exc_info:
                trace = logging.Formatter().formatException(record.exc_info)
                log.error("%s\n%s", line(request="-", source=record.name, text=first[:300]), trace_text(trace),
                          extra={"traceback": True})
        except Exception:
            self.handleError(record)


def _raised(record: logging.LogRecord) -> bool:
    """Whether a record is written: WARNING and above, and the INFO records IT must read
    (WORKER_DIED), raised to WARNING; uvicorn's other INFO chatter is not."""
    if record.levelno >= logging.WARNING:
        return True
    if WORKER_DIED.fullmatch(record.getMessage()):
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True
    return False


def _outcome(record: logging.LogRecord, first: str) -> str:
    if WORKER_DIED.fullmatch(first):
        return DIED
    for start, outcome in OUTCOMES:
        if first.startswith(start):
            return outcome
    return BY_LEVEL.get(record.levelno, "記録")


def uvicorn_log_config() -> dict:
    """uvicorn's ``log_config``: its loggers and asyncio's to ``Forwarded`` through one
    ``OnceAMinute``. uvicorn applies it in every process it starts (workers included). The
    supervisor's logger passes INFO on, for ``_raised`` to pick what IT must read, and for
    ``AtStop`` to write the held counts as a worker's serving ends."""
    return {"version": 1, "disable_existing_loggers": False,
            "filters": {"repeats": {"()": f"{__name__}.OnceAMinute"}, "at_stop": {"()": f"{__name__}.AtStop"}},
            "handlers": {"forwarded": {"()": f"{__name__}.Forwarded", "filters": ["repeats"]}},
            "loggers": {name: {"handlers": ["forwarded"], "level": "INFO" if name == "uvicorn.error" else "WARNING",
                               "propagate": False, **({"filters": ["at_stop"]} if name == "uvicorn.error" else {})}
                        for name in FORWARDED}}

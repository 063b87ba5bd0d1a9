"""Where an unexpected error's traceback goes: a log file staff can send, never their screen.

Both faces (the command line and the buttons) end an unexpected error with a Japanese
sentence naming this file; the traceback is appended here. The server's error log
(renkei_xl.server.log) writes its records the same way: the time with its offset from UTC
(``stamp``), every line of a traceback indented and escaped (``traceback_text``).

The file is bounded (``LOG_BYTES``, one older file kept as ``.1``): it sits in the temp
folder of a staff PC or of the server's account, where nobody clears it, and every
unexpected error of every run appended a traceback for as long as the PC was used.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import traceback
from pathlib import Path
from typing import Optional

from .clock import aware
from .core.values import UNSEEN_IN_NAMES

CLI_LOG = "renkei-xl-error.log"
BUTTON_LOG = "renkei-xl-button-error.log"

# Past this size the log moves to ``.1`` (the one before it dropped): at most about twice
# this on disk, the newest records always kept.
LOG_BYTES = 1024 * 1024
# One record cut to this many characters (an exception quoting a whole cell, a file's text).
RECORD_CHARS = 256 * 1024
# How each line of a traceback starts: a record starts with its time, so no line of a
# traceback, whatever an exception's message quotes, reads as a record of its own.
TRACE_INDENT = "  | "


def log_path(name: str) -> Path:
    return Path(tempfile.gettempdir()) / name


def stamp(created: Optional[float] = None) -> str:
    """A record's time in Japan time with its offset (「2026-12-04 10:15:03+09:00」), now when
    ``created`` (a POSIX time) is None, whatever zone the machine keeps (clock): a server kept
    in UTC wrote 01:15 for an error staff met at 10:15, and IT looks a record up by the time
    staff quote. The offset stays written, so the record still lines up with the system's
    own logs in UTC. Python's offset (datetime), not the C library's %z, which Windows
    spells as a time zone name in the system's code page."""
    return aware(created).isoformat(sep=" ", timespec="seconds")


def seen(ch: str) -> bool:
    """Whether every log of the tool (this one, the server's two: server.log.escape) writes
    ``ch`` as itself: printable to Python, and not one of the printable characters that show
    as nothing or as a blank (core.values.UNSEEN_IN_NAMES). The error log kept those as they
    came while the request log escaped them: a Hangul filler after a book's name, quoted in
    an exception, read there as another name than the request line's for the same click."""
    return ch.isprintable() and ch not in UNSEEN_IN_NAMES


def escaped(ch: str) -> str:
    """How a log writes a character it does not write as itself (``seen``)."""
    return f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}"


def printable(text: str) -> str:
    """``text`` with its control and separator characters (CR, LF, NEL, LS/PS, ESC, bidi
    overrides, NUL, half of a surrogate pair) and the characters that show as nothing or
    as a blank written as \\uXXXX (``seen``); spaces and tabs kept."""
    return "".join(ch if seen(ch) or ch in " \t" else escaped(ch) for ch in text)


def traceback_text(trace: str) -> str:
    """A traceback as the lines of its record: each line indented (TRACE_INDENT) and
    escaped (``printable``). An exception's message may quote what staff or a request sent
    (a book's, a sheet's or a file's name): a CR or LF there started a line of the log of
    its own, a forged record that IT, looking up the error staff quoted, would read."""
    return "\n".join(TRACE_INDENT + printable(part) for part in trace.rstrip().split("\n"))


def log_error(path: Path, header: str) -> Optional[Path]:
    """Append the traceback being handled under ``header`` (escaped as its lines are); None
    when the log cannot be written. A character UTF-8 has no bytes for (half of a surrogate
    pair: a text Excel cut inside an emoji, a file name not in UTF-8 on Linux) is written as
    its escape: the write raised, and the last guard ended in a traceback instead of its
    sentence."""
    trace = traceback.format_exc()
    # Cut before escaping: an exception quoting 5 million characters was escaped whole,
    # one string a character (440 MiB, seconds), for a record of 256 KiB.
    record = f"--- {stamp()} {printable(header[:RECORD_CHARS])}\n{traceback_text(trace[:RECORD_CHARS])}"
    over = max(0, len(header) - RECORD_CHARS) + max(0, len(trace) - RECORD_CHARS) + max(0, len(record) - RECORD_CHARS)
    if over:
        record = f"{record[:RECORD_CHARS]}\n{TRACE_INDENT}…（{over} 文字を省略）"
    try:
        _make_room(path)
        append_record(path, record)
    except OSError:
        return None
    return path


def open_log(path: "Path | str", follow: bool = True) -> tuple[int, bool]:
    """The log ``path`` opened to append (created when missing): its descriptor, and whether
    it may be read too. Only a regular file is a log (else OSError ESPIPE, which
    safety.system_reason says in Japanese), and the open never waits: a named pipe given as
    ``--log`` (or put in a log's place) with no reader made the open wait for one, for good,
    with no word: ``serve`` hung at its start check, and a worker whose log was replaced so
    while it served stopped answering every click (its event loop waits on the open).

    ``follow=False``: a symbolic link in the file's place is not followed (OSError ELOOP;
    the server's logs, whose links were resolved once at start: server.log.check_log)."""
    flags = os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        try:
            fd, readable = os.open(path, os.O_RDWR | flags, 0o666), True
        except PermissionError:     # a log the account may append to but not read (a mode given by logrotate's create)
            fd, readable = os.open(path, os.O_WRONLY | flags, 0o666), False
    except OSError as exc:
        if exc.errno == errno.ENXIO:        # a pipe without a reader, opened without waiting
            raise OSError(errno.ESPIPE, os.strerror(errno.ESPIPE), str(path)) from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.ESPIPE, os.strerror(errno.ESPIPE), str(path))
    return fd, readable     # O_NONBLOCK changes nothing for a regular file's writes


def append_record(path: "Path | str", record: str, follow: bool = True) -> None:
    """``record`` appended to the log ``path`` as whole lines, or nothing of it (OSError).

    A disk that fills in the middle of a record (a full disk, a quota, a file-size limit)
    takes its first bytes and refuses the rest: the record was left cut, without its line
    end, and the next record, once there was room again, was glued to it, a line starting
    with one record's time and number and ending with another's (「… INFO request=2026-12-06
    … request=bbbb …」), which IT, looking up a number staff quote, reads as a record. The
    part written is taken back (when no other writer appended after it), and a record is
    started on a line of its own when the file does not end with one (a cut that could not
    be taken back, a process killed mid-record). Windows' line ends, as a text-mode append
    wrote them, for Notepad."""
    data = record.replace("\n", os.linesep).encode("utf-8", "backslashreplace") + os.linesep.encode()
    fd, readable = open_log(path, follow)
    try:
        end = os.lseek(fd, 0, os.SEEK_END)
        if readable and end and os.lseek(fd, end - 1, os.SEEK_SET) >= 0 and os.read(fd, 1) != b"\n":
            data = os.linesep.encode() + data
        written = 0
        try:
            while written < len(data):
                done = os.write(fd, data[written:])   # appended at the end, wherever the offset is
                if not done:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
                written += done
        except OSError:
            if written:
                _take_back(fd, written)
            raise
    finally:
        os.close(fd)


def _take_back(fd: int, written: int) -> None:
    """The ``written`` bytes of a cut record removed, when they are still the file's last."""
    try:
        end = os.lseek(fd, 0, os.SEEK_CUR)     # just past what this append wrote
        if os.fstat(fd).st_size == end:
            os.ftruncate(fd, end - written)
    except OSError:
        pass


def _make_room(path: Path) -> None:
    """The log moved to ``.1`` once it is past LOG_BYTES. Not moved (open in another
    program on Windows): appended all the same, a lost record being worse than a file a
    little past its size."""
    try:
        if os.path.getsize(path) < LOG_BYTES:
            return
        os.replace(path, f"{path}.1")
    except OSError:
        pass

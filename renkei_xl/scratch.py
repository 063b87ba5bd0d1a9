"""The tool's own temporary folders (a PDF's source workbook, the PDF, LibreOffice's profile),
made where the run's temporary files belong, and swept of what a killed run left there.

A run killed halfway (the server's supervisor ending a dead worker, IT stopping the
service, a SIGTERM or a shutdown of the command line) runs no ``finally``: each such export
left its folder and a LibreOffice profile of half a megabyte in the system's temporary
folder, where nothing removes them on a machine that runs all year, and a server that
must read and write only in its work folder wrote there. So:

- each run's folder holds a file locked for the folder's life (``HELD``): a folder whose
  file nobody holds, and untouched for ``STALE_AFTER_SECONDS`` (the age the tool's
  temporary files are judged by, safety), was left by a run that has gone. Two runs at
  once (two workers exporting, the command line beside a button) never remove each
  other's: the age guards the moment between a folder's making and its lock;
- every new folder sweeps its siblings first (``sweep``), and only ours: our prefix, our
  account's, never a link;
- the server gives its processes a folder of their own inside its work folder
  (``use_root``): Python's own temporary files (openpyxl writes each sheet to one) go there
  too, and it is swept at each start and each click.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import stat
import time
from pathlib import Path
from typing import Iterator, Optional

PREFIX = "renkei-xl-tmp-"
HELD = ".held"
# The folders versions before this one made with tempfile (「renkei_pdf_」 and 8 of its
# characters): ours by that name, swept as old. (Their LibreOffice profiles, 「lo_」 and a
# uuid, are a name other programs use too: left alone.)
_EARLIER = re.compile(r"renkei_pdf_[a-z0-9_]{8}")

_root: Optional[Path] = None


def root() -> Path:
    """Where this process's temporary folders go: the system's temporary folder, or the
    server's own (``use_root``)."""
    if _root is not None:
        return _root
    import tempfile     # not at import: about 1.5 ms of every command and click (safety._new_temp_file)

    return Path(tempfile.gettempdir())


def use_root(folder: Path) -> Path:
    """``folder`` (``own_folder``) taken as this process's temporary folder, Python's
    ``tempfile`` included, and swept of what a killed process left. OSError when it cannot."""
    global _root
    import tempfile

    folder = own_folder(folder)
    _root = folder
    tempfile.tempdir = str(folder)
    sweep(folder, everything=True)
    return folder


def own_folder(folder: Path) -> Path:
    """``folder`` made where missing (only this account may enter it) and hidden; OSError
    when it cannot be made or something else has its name."""
    folder = Path(folder)
    with contextlib.suppress(FileExistsError):
        os.mkdir(folder, 0o700)
    if not stat.S_ISDIR(os.lstat(folder).st_mode):
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))
    from .safety import hide

    hide(folder)
    return folder


def tidy(folder: Path) -> list[Path]:
    """The server's own ``folder`` before a click: made again where it went (removed from
    the share while the server ran, every 確定版 ended in an unexpected error: openpyxl's
    temporary files had no folder), and swept of what a killed worker left (``sweep``)."""
    with contextlib.suppress(OSError):
        own_folder(folder)
    return sweep(folder, everything=True)


@contextlib.contextmanager
def scratch_folder() -> Iterator[Path]:
    """A new folder of this run's own under ``root``, removed when the block ends; what a
    killed run left beside it is removed first (``sweep``)."""
    base = root()
    sweep(base)
    path = _new_folder(base)
    fd = _hold(path)
    try:
        yield path
    finally:
        if fd is not None:
            os.close(fd)
        shutil.rmtree(path, ignore_errors=True)


def _new_folder(base: Path) -> Path:
    for _ in range(100):
        path = base / f"{PREFIX}{os.urandom(6).hex()}"
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"no unused folder name in {base}")


def _hold(folder: Path) -> Optional[int]:
    """The folder's ``HELD`` file, locked for as long as its descriptor stays open (however
    the process ends); None where the place has no locks (a share without them: the age
    alone then tells a gone run's folder)."""
    from .safety import held_new_file

    return held_new_file(folder / HELD)


def sweep(base: Path, everything: bool = False) -> list[Path]:
    """What killed runs left in ``base``, removed: our folders (``PREFIX``, and the earlier
    versions' names) that nobody holds and that are ``stale``. ``everything``: ``base`` is
    the server's own folder, where any stale entry is a killed process's (Python's own
    temporary files, a supervisor's mark)."""
    gone = []
    try:
        with os.scandir(base) as entries:
            found = list(entries)
    except OSError:
        return gone
    for entry in found:
        ours = entry.name.startswith(PREFIX) or _EARLIER.fullmatch(entry.name) is not None
        if (ours or everything) and _left(Path(entry.path), ours):
            gone.append(Path(entry.path))
    return gone


def _left(path: Path, ours: bool) -> bool:
    """``path`` removed when it is stale, this account's, not a link and (a folder of ours)
    not held by a run; whether it went."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if stat.S_ISLNK(st.st_mode) or not stale(st.st_mtime):
        return False
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return False
    if not stat.S_ISDIR(st.st_mode):
        with contextlib.suppress(OSError):
            os.unlink(path)
            return True
        return False
    if ours and _held(path / HELD):
        return False
    shutil.rmtree(path, ignore_errors=True)
    return not os.path.lexists(path)


def stale(mtime: float) -> bool:
    """Untouched for STALE_AFTER_SECONDS either way of the clock (safety._remove_stale: a
    clock stepped back leaves nothing for as long as it had been ahead)."""
    from .safety import STALE_AFTER_SECONDS

    return abs(time.time() - mtime) > STALE_AFTER_SECONDS


def _held(held: Path) -> bool:
    """Whether a live run holds ``held`` (``_hold``). A missing file is nobody's: a folder
    of an earlier version, or one a LibreOffice outliving its export made again."""
    from .core.errors import UserError
    from .safety import try_lock

    try:
        fd = os.open(held, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return False
    except OSError:
        return True         # not ours to judge (a link, no rights): left
    try:
        return not try_lock(fd, held)
    except UserError:       # a share without locks: the age decides
        return False
    finally:
        os.close(fd)

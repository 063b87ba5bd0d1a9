"""Where an unexpected error's traceback goes: a log file staff can send, never their screen.

Both faces (the command line and the buttons) end an unexpected error with a Japanese
sentence naming this file; the traceback is appended here.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import traceback
from pathlib import Path
from typing import Optional

CLI_LOG = "renkei-xl-error.log"
BUTTON_LOG = "renkei-xl-button-error.log"


def log_path(name: str) -> Path:
    return Path(tempfile.gettempdir()) / name


def log_error(path: Path, header: str) -> Optional[Path]:
    """Append the traceback being handled under ``header``; None when the log cannot be written.
    A character UTF-8 has no bytes for (half of a surrogate pair: a text Excel cut inside an
    emoji, a file name not in UTF-8 on Linux) is written as its escape, as the server's log
    writes it: the write raised, and the last guard ended in a traceback instead of its sentence."""
    try:
        with path.open("a", encoding="utf-8", errors="backslashreplace") as f:
            f.write(f"--- {dt.datetime.now().isoformat(' ', 'seconds')} {header}\n")
            f.write(traceback.format_exc())
    except OSError:
        return None
    return path

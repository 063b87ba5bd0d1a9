"""The tool's one clock: the time a run records (メニュー's 最終実行, 取込履歴, an issue time),
to the second, as staff read it in a cell. Tests set it where a module reads it."""

from __future__ import annotations

import datetime as dt


def now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)

"""A value's line breaks on the one line of a message.

Below values and fiscal, which both quote what staff typed in their refusals (values.shown,
fiscal's dates and years), so that one rule says how a quoted line break looks.
"""

from __future__ import annotations

from .lazy_pattern import LazyPattern

# A line break inside a value quoted on one line of a listing (a change line of 回収ファイル取込,
# a number refused for its gap, a refusal quoting a cell or a CSV line): as a line of its own,
# 「済\n小樽市!G3 05-1 実績値: 3 → 3」 read as a second change the click would make, and a lone
# CR sent a terminal back to the line's start.
LINE_BREAK_SHOWN = "⏎"
_LINE_BREAKS = LazyPattern("\r\n|[\r\n]")


def one_line(text: str) -> str:
    """``text`` with each line break (CRLF, LF or a lone CR) as LINE_BREAK_SHOWN."""
    return _LINE_BREAKS.sub(LINE_BREAK_SHOWN, text) if "\n" in text or "\r" in text else text

"""Plain-text tables that line up in a terminal with Japanese text.

Full-width characters take two columns; str.ljust counts them as one, so columns drift.
The width comes from unicodedata's East Asian Width (W and F are two columns); a library
such as wcwidth would do the same for this text, and this avoids a dependency.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Sequence


# The characters tables show: Japanese text uses a few thousand, kept; any character of
# Unicode's million would have stayed for good without a bound.
@lru_cache(maxsize=1 << 13)
def _char_width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def width(text: str) -> int:
    """Columns ``text`` takes; row heights of a 20,000-row 一覧 ask this 200,000 times."""
    return len(text) if text.isascii() else sum(map(_char_width, text))


def clip(text: str, limit: int) -> str:
    text = text.replace("\n", " ")
    if width(text) <= limit:
        return text
    out, used = [], 0
    for ch in text:
        w = width(ch)
        if used + w > limit - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def pad(text: str, size: int) -> str:
    return text + " " * max(size - width(text), 0)


def render(header: Sequence[str], rows: Sequence[Sequence[str]], limits: Sequence[int]) -> str:
    cells = [[clip(str(c), lim) for c, lim in zip(row, limits)] for row in [header, *rows]]
    sizes = [max(width(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(pad(c, s) for c, s in zip(r, sizes)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * s for s in sizes))
    return "\n".join(lines)

"""The envelope RenkeiServer.bas writes its per-sheet headers in (X-Renkei-Percents,
X-Renkei-Currency): ``version;part;part…``, each part opening with a sheet name as UTF-16 hex
(RenkeiHex), or the overflow mark alone. One reader of it, so both headers refuse a hand-made
or cut request alike: anything not as the client writes it is no header, never a guess.
"""

from __future__ import annotations

import re
from typing import Optional


def sheet_parts(header: Optional[str], *, max_chars: int, overflow: str, version: str,
                part: "re.Pattern[str]") -> "Optional[list[tuple[str, re.Match[str]]]]":
    """(sheet name, the part's match of ``part``, whose group 1 is the name's hex) for each part
    of ``header``, or None: absent, longer than ``max_chars``, the ``overflow`` mark, another
    ``version``, a part ``part`` does not match, or a name that is half a surrogate pair."""
    header = (header or "").strip()
    if not header or len(header) > max_chars or header == overflow:
        return None
    said, *parts = header.split(";")
    if said != version:
        return None
    out = []
    for text in parts:
        m = part.fullmatch(text)
        sheet = hex_text(m.group(1)) if m is not None else None
        if sheet is None:
            return None
        out.append((sheet, m))
    return out


def hex_text(hexed: str) -> Optional[str]:
    """Text RenkeiHex wrote (UTF-16 code units as hex), or None for a lone surrogate: no sheet
    name or number format Excel holds."""
    try:
        return bytes.fromhex(hexed).decode("utf-16-be")
    except ValueError:
        return None

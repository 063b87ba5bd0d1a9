"""The byte order marks Windows writes at the head of a text file, and the encoding each names.

メモ帳 saves 「UTF-8（BOM 付き）」 or 「Unicode」 (UTF-16 with a BOM), and Excel's 「Unicode
テキスト」 is UTF-16 with a BOM too: a file staff made on Windows is read by the encoding its
BOM names, in one place for every reader of such a file (the server's key file, the 経年 CSV).
"""

from __future__ import annotations

from typing import Optional

BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def split_bom(data: bytes) -> tuple[bytes, Optional[str]]:
    """``data`` without its BOM, and the encoding the BOM names (None: no BOM)."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return data[len(bom):], encoding
    return data, None

"""Which characters are digits: the one rule, for every reader of numbers, years and dates.

Its own module because both core.values (numbers) and core.fiscal (years and dates, which
core.values imports) ask it; neither can import the other for it.
"""

from __future__ import annotations

import sys
import unicodedata
from typing import Optional


_NARROW = str.maketrans("０１２３４５６７８９", "0123456789")


def narrow_digits(text: str) -> str:
    """``text`` with full-width ０～９ as ASCII digits: the same figure as printed by a version
    that echoed staff's 「３回」 on 一覧 and one that prints 「3回」 (for comparing what was
    printed, never for reading a value)."""
    return text.translate(_NARROW)


def odd_digit(text: str) -> Optional[str]:
    """The first character that is a digit to Unicode (or that NFKC folds into one) but not
    one staff type as a digit: ASCII and full-width ０～９ are read; 「10²」 would be 102,
    「①」 1, 「٣」 3, 「14³」 143 once normalised, and a guess like that is never made in
    silence. Kanji numerals (千 万) are not digits here: they are multipliers."""
    if text.isascii():
        return None
    for ch in text:
        if ch.isascii() or "０" <= ch <= "９":
            continue
        if ch.isdigit():
            return ch
        folded = unicodedata.normalize("NFKC", ch)   # 「㉑」 is 21; 「㎡」 (m2) is a unit, kept
        if any("0" <= d <= "9" for d in folded) and not any(d.isalpha() for d in folded):
            return ch
    return None


def whole_number(text: str) -> Optional[int]:
    """``text`` as a whole number when it is written only in the digits staff type (ASCII and
    full-width ０～９), else None. Not str.isdigit(): it takes 「①」 and 「²」 too, on which
    int() then raises (a 500, or 「予期しないエラー」 in the middle of a command), and 「٢٠٢٢」,
    which int() reads as 2022 in silence.

    None too for more digits than int() converts (Python's int_max_str_digits, 4,300 by
    default; leading zeros not counted): no 事業No, year, port or position is one, and int()
    raised ValueError, 「予期しないエラー」 on both faces, for a 事業No of 4,301 digits or the
    年度 of a return's visible block (qa-132). The caller then says the text is no number."""
    if text and all("0" <= ch <= "9" or "０" <= ch <= "９" for ch in text):
        digits = text.lstrip("0０") or "0"
        limit = sys.get_int_max_str_digits()
        return int(digits) if not limit or len(digits) <= limit else None
    return None

"""Which characters are digits: the one rule, for every reader of numbers, years and dates.

Its own module because both core.values (numbers) and core.fiscal (years and dates, which
core.values imports) ask it; neither can import the other for it.
"""

from __future__ import annotations

import unicodedata
from typing import Optional


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
    which int() reads as 2022 in silence."""
    if text and all("0" <= ch <= "9" or "０" <= ch <= "９" for ch in text):
        return int(text)
    return None

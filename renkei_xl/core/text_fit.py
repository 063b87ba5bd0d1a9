"""How many lines a wrapped cell needs, and how tall its row must be to show them all.

Neither Excel nor LibreOffice sizes a row for wrapped text written into a file, and merged
cells are never auto-sized, so the tool sets every row height itself. Too low, and the
last lines are cut off in print (52-1's 連携事業実施状況 list lost its last line that way);
the estimate therefore errs on the tall side:

- the font is the look system's (renkei_xl.core.looks: Meiryo UI, 9 pt, and why);
- widths are Excel's: a column of width w is about 7w pixels of the default font's digits
  (Meiryo UI 10 or Calibri 11), and a 9-pt full-width character takes 12 pixels, so about
  1.15 half-width characters fit per unit at 9 pt. LibreOffice measures the width unit with its substitute font's wider
  digits, so its columns are wider and its lines never more than Excel's;
- a character is 2 half-width units when full-width, and so is one Unicode calls ambiguous
  that is no Latin letter (① ※ ○ → ×: Japanese fonts draw them full-width); a Latin one
  is 1.1, a capital 1.6 and W M m w @ % about 2 (Meiryo's Latin is Verdana's, wide);
- lines break the way both applications break them: anywhere between full-width
  characters, between words of Latin text (a word that does not fit moves down whole),
  and never before a closing bracket or 、。 (kinsoku: the character before moves down too);
- a line is 1.5 em (13.5 pt at 9 pt): about Meiryo's line, more than Meiryo UI's (Meiryo with
  its line spacing cut down) and than the Noto Sans CJK that LibreOffice renders instead
  (13.0 pt at 9 pt).
"""

from __future__ import annotations

import math
import unicodedata
from typing import Callable, Iterable, Sequence

from .looks import FONT_SIZE

CHARS_PER_WIDTH_9PT = 1.15   # half-width characters per unit of column width at 9 pt
LINE_EM = 1.5                # line pitch in em
PADDING = 4.0                # points above and below the text of a cell
# Excel's tallest row (points; its specifications and limits). Every height the tool writes
# stops there, in whichever sheet: the button's RowHeight refuses more with a 1004, and a
# file is not to carry what Excel itself cannot set. Text beyond it is in the cell, whole,
# but not shown.
MAX_ROW_HEIGHT = 409.0
LATIN_UNITS = 1.1            # a proportional Latin character, in half-width units (digits are wide)
CAPITAL_UNITS = 1.6          # a capital: Meiryo's (Verdana's) widest, O and Q, are 0.79 em
WIDEST_UNITS = 1.99          # W M m w @ %: Verdana's W is 0.99 em (under 2: a word's, see _Widths)
WIDEST_LATIN = set("WMmw@%")
# Characters that may not begin a line (行頭禁則): the character before them moves down.
NO_LINE_START = set("、。，．・：；？！ー）」』】〕］｝〉》”’ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ々ゝゞヽヾ,.:;!?)]}%％")


class _Widths(dict):
    """Half-width units of a character: 1 for a space, 2 for a full-width one (a token of its
    own, a line may break before it), and strictly between for a character of a word (Latin,
    which moves down whole), by its shape. Unicode's East Asian Ambiguous characters that are
    no letters (① ※ ○ → × “ … ―) are full-width: Japanese fonts (Meiryo UI, Noto Sans CJK
    JP) draw them so. Counted as narrow Latin, a status of circled numbers needed twice the
    lines the tool gave it and printed cut. Each character is classified once; every later
    lookup is a dict's, in C (list(map(...))), which is what measuring every character of
    every long text needs."""

    def __missing__(self, ch: str) -> float:
        wide = unicodedata.east_asian_width(ch)
        if wide in "WF" or (wide == "A" and not ch.isascii()):
            u = WIDEST_UNITS if ch.isalpha() and wide == "A" else 2.0   # Greek, Cyrillic: in words
        else:
            u = WIDEST_UNITS if ch in WIDEST_LATIN else CAPITAL_UNITS if ch.isupper() else LATIN_UNITS
        self[ch] = u
        return u


_UNITS = _Widths({" ": 1.0})


def _per_width(font_size: float) -> float:
    """Half-width units of ``font_size`` text per unit of column width."""
    return CHARS_PER_WIDTH_9PT * 9.0 / font_size


def per_line(width: float, font_size: float = FONT_SIZE) -> float:
    """Half-width units that fit on one line of a column ``width`` wide."""
    return max(width * _per_width(font_size), 2.0)


# The widest column text_width gives: a municipality sheet's widest (実施状況,
# contract.ENTRY_WIDTHS). A longer text shows its start, as a long note does there.
WIDEST_FIT = 50.0
CELL_MARGIN = 1.0   # units of width for the cell's own margins, beside its text


def text_width(texts: Iterable[object], font_size: float = FONT_SIZE, most: float = WIDEST_FIT) -> float:
    """The column width (whole units, at most ``most``) that shows each of ``texts`` on one
    line, every line of a text with line breaks: per_line the other way round, so a column
    sized here holds what lines() counts as one line. For a column the tool adds beside
    staff's table (rollover's 前年度実績), unwrapped: at the default width its header and
    values were cut at the next filled cell."""
    per_width = _per_width(font_size)
    cap = (most - CELL_MARGIN) * per_width
    need = 0.0
    for value in {v if type(v) is str else str(v) for v in texts if v is not None}:
        for line in value.split("\n"):
            if len(line) >= cap:            # no character is narrower than one unit
                return most
            need = max(need, sum(map(_UNITS.__getitem__, line)))
    return float(min(most, math.ceil(need / per_width + CELL_MARGIN)))


def _paragraph_lines(text: str, cap: float) -> int:
    units = list(map(_UNITS.__getitem__, text))
    if sum(units) <= cap:
        return 1
    # Tokens: a run of word characters (Latin) is one word (placed by _place_word); a
    # full-width character or a space is a token of its own, placed here. One pass, no
    # token list: the first recalc of a master measures a few hundred long texts.
    lines, used, last = 1, 0.0, 0.0
    start, word_w = -1, 0.0
    for i, u in enumerate(units):
        if 1.0 < u < 2.0:                    # a word's character
            if start < 0:
                start = i
            word_w += u
            continue
        if start >= 0:
            lines, used, last = _place_word(text[start], units[start:i], word_w, cap, lines, used, last)
            start, word_w = -1, 0.0
        if used + u <= cap:
            used, last = used + u, u
        elif text[i] == " ":                 # a space at the end of a line takes no room
            used, last = cap, 0.0
        else:
            lines += 1
            if text[i] in NO_LINE_START and last and last + u <= cap:
                used, last = last + u, u     # the character before moves down with it
            else:
                used, last = u, u
    if start >= 0:
        lines, used, last = _place_word(text[start], units[start:], word_w, cap, lines, used, last)
    return lines


def _place_word(first: str, units: Sequence[float], w: float, cap: float, lines: int, used: float,
                last: float) -> tuple[int, float, float]:
    """A word of width ``w`` (its characters' ``units``, the first ``first``) placed after
    ``used`` units of the current line: the lines, the units used of the last line, and the
    width of the last token."""
    if used + w <= cap:
        return lines, used + w, w
    if w > cap:                              # a word longer than a line is broken anywhere
        for u in units:
            if used + u > cap:
                lines, used = lines + 1, 0.0
            used += u
        return lines, used, units[-1]
    if first in NO_LINE_START and last and last + w <= cap:
        return lines + 1, last + w, w        # the character before moves down with it
    return lines + 1, w, w


_CAPS: dict[tuple[float, float], float] = {}
_LINES: dict[tuple[str, float], int] = {}
# What _LINES may hold, in characters of its texts, before it starts again: a server worker
# lives for weeks and fits every text of every master clicked, and a count of entries alone
# let 500,000 texts of up to a cell's 32,767 characters stay (gigabytes in the worst case).
# 20 million characters (about 40-80 MB) is one 20,000-row master's texts several times over.
_LINES_MAX_CHARS = 20_000_000
_lines_chars = 0


def _cap(width: float, font_size: float) -> float:
    cap = _CAPS.get((width, font_size))
    if cap is None:
        cap = _CAPS[(width, font_size)] = per_line(width, font_size)
    return cap


def lines(value: object, width: float, font_size: float = FONT_SIZE) -> int:
    """Lines ``value`` takes wrapped in a column ``width`` wide (at least one).

    Called for every distinct text of every column of the sheets the tool writes
    (column_lines), so results are kept per text and line length."""
    if value is None or width <= 0:
        return 1
    text = value if isinstance(value, str) else str(value)
    if not text:
        return 1
    cap = _cap(width, font_size)
    if "\n" not in text and len(text) * 2 <= cap:
        return 1                         # even all full-width (the widest there is), it fits
    key = (text, cap)
    n = _LINES.get(key)
    if n is None:
        global _lines_chars
        if len(_LINES) > 500_000 or _lines_chars + len(text) > _LINES_MAX_CHARS:
            _LINES.clear()
            _lines_chars = 0
        n = _LINES[key] = sum(_paragraph_lines(part, cap) for part in text.split("\n"))
        _lines_chars += len(text)
    return n


def column_lines(rows: Sequence[Sequence[object]], widths: Sequence[float],
                 font_size: float = FONT_SIZE) -> list[list[int]]:
    """For each column ``i`` (``widths[i]`` wide), ``lines`` of every row's cell in it (1
    where a row has no such cell).

    A whole sheet at once, and each distinct text measured once: a column of 一覧 repeats
    its texts (役割, symbols, 事業概要), and mapping them back runs in C. For the 220,000
    cells of a 20,000-row 一覧 this takes 0.16 s (a call per cell) down to about 0.05 s."""
    n = len(widths)
    padded = [row if len(row) >= n else list(row) + [None] * (n - len(row)) for row in rows]
    out = []
    for width, cells in zip(widths, zip(*padded)):     # the columns, transposed in C
        distinct = set(cells)
        if not set(map(type, distinct)) <= _TEXT_TYPES:     # (1 and 1.0 are one key, "1" and "1.0" not)
            cells = [v if v is None or type(v) is str else str(v) for v in cells]   # as lines() does
            distinct = set(cells)
        cap = _cap(width, font_size)
        # lines()'s own test for text that fits, made here: most texts do, and a call each
        # for the 47,000 distinct texts of a 20,000-row 一覧 cost 25 ms.
        known = {text: 1 if text is None or ("\n" not in text and len(text) * 2 <= cap)
                 else lines(text, width, font_size) for text in distinct}
        out.append(list(map(known.__getitem__, cells)))
    return out if padded else [[] for _ in widths]


_TEXT_TYPES = {str, type(None)}


def height(n_lines: int, font_size: float = FONT_SIZE) -> float:
    """Points a row needs for ``n_lines`` lines of ``font_size`` text (more than a row can
    have, where the text is long: a merged block adds it up over its rows)."""
    return n_lines * LINE_EM * font_size + PADDING


def row_height(n_lines: int, font_size: float = FONT_SIZE) -> float:
    """The height a row of ``n_lines`` lines is given: what it needs, up to Excel's limit."""
    return min(height(n_lines, font_size), MAX_ROW_HEIGHT)


def most_lines(font_size: float = FONT_SIZE) -> int:
    """The most lines of ``font_size`` text the tallest row shows whole."""
    return int((MAX_ROW_HEIGHT - PADDING) // (LINE_EM * font_size))


# ------------------------------------------------------------------ characters without a glyph

# What prints nothing of its own whatever the font: spaces, line breaks and other controls,
# format characters (ZWJ, ZWSP, soft hyphen) and variation selectors (an IVS picks its base
# character's shape, drawn with the base).
_INVISIBLE_CATEGORIES = frozenset(("Cc", "Cf", "Zs", "Zl", "Zp"))


def _invisible(ch: str) -> bool:
    o = ord(ch)
    return (unicodedata.category(ch) in _INVISIBLE_CATEGORIES
            or 0xFE00 <= o <= 0xFE0F or 0xE0100 <= o <= 0xE01EF)


def undrawn(text: str, drawn: Callable[[str], bool]) -> str:
    """The characters of ``text`` that ``drawn`` (whether some font of the printing machine
    has a glyph for a character) says print as nothing, each once, in order of appearance.

    LibreOffice prints a character no installed font has as a box, or as nothing: 「イベントを
    開催🎉」 was published as 「イベントを開催☒」, and a 外字 (private use) or an emoji a partner
    typed was lost from the 確定版's PDF without a word (cycle.export.undrawn_note)."""
    return "".join(dict.fromkeys(ch for ch in text if not ch.isascii() and not _invisible(ch) and not drawn(ch)))

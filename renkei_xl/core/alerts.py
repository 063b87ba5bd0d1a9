"""The messages a button shows, fitted once to the box every client shows them in.

xlwings' VBA client shows the server's messages with VBA's MsgBox: each ``alert`` of an
answer (Remote.bas' alert Sub) and the text of a refusal (``MsgBox myResponse.Content``).
MsgBox's prompt holds about 1,024 characters ("The maximum length of prompt is approximately
1024 characters, depending on the width of the characters used": MsgBox function, Office VBA
language reference) and drops the rest without a sign. A message ends with what staff must do
next (「続けて「評価を再計算」を押してください」) and where the whole story is (「取り込みの記録は
シート「取込履歴」にあります」), so a long list in the middle cost exactly those lines: 24 files
refused by 回収ファイル取込 made 2,396 characters.

So every message a button shows is put together here: its fixed lines whole, each list cut
to what fits and its rest counted in a line that says where the whole list is (``Listing``),
the closing lines kept. The desktop shows the same text (one plan, the same budget), though
its message box would hold more.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence, Union

# Lengths are counted as MsgBox counts them: in UTF-16 units, a character outside the BMP
# (𠮷 of family names, an emoji) two, like a cell's text.
from .values import cell_length

# The most characters a button's message, or a refusal's text, may have: MsgBox's "approximately
# 1024", less a margin for what "approximately" leaves open (Windows lays the prompt out by width).
ALERT_CHARS = 1000
# Of these, what the server may add at the end of a button's message after the button ran: the
# note that the master's macros are too old for some looks (excel.client.upgrade_note) and a
# stopped click's request number (server.app), whose longest forms tests/test_client_actions
# holds below this. A button's own message keeps within the rest on every face, so that both
# faces show the same text.
SERVER_NOTE_CHARS = 200
BUTTON_CHARS = ALERT_CHARS - SERVER_NOTE_CHARS
# What stands for the part of a text cut in its middle (``cut``).
ELLIPSIS = "…（中略）…"


class Listing(NamedTuple):
    """Items of which as many are shown as fit (never more than ``cap``), the rest counted by
    ``more`` ("{n}": how many are not shown), which says where the whole list is. Rendered
    as ``head`` followed by the items joined by ``sep``, then ``more`` after ``more_sep``
    (None: ``sep``). A listing without items is left out of the message. ``vital``: its
    items name what staff must mend, an input error's sheet and cell, so its first item is
    never given up for the others' (a long path in the fixed lines is cut instead): the
    rollover of a master with one bad cell, saved under a long Japanese folder name, said
    「入力エラーが 1 件ありました: …ほか 1 件」 and no cell, while a target's finding showed."""
    items: Sequence[str]
    more: str
    cap: Union[int, None] = None
    head: str = ""
    sep: str = "\n"
    more_sep: Union[str, None] = None
    vital: bool = False

    def render(self, shown: int) -> str:
        rest = len(self.items) - shown
        listed = self.sep.join(self.items[:shown])
        if not rest:
            return self.head + listed
        joiner = (self.sep if self.more_sep is None else self.more_sep) if shown else ""
        return self.head + listed + joiner + self.more.format(n=rest)

    @property
    def most(self) -> int:
        return len(self.items) if self.cap is None else min(self.cap, len(self.items))


class Whole(str):
    """A fixed line that holds a command staff type or copy (``renkei-xl history import A B``):
    cut in its middle it is no command at all, and a button's message showed 「…history import
    さっぽろ圏_2024年度_マスター.…（中略）…024年度のマスターの…」 (qa-143). When the fixed lines are
    too long, another line is cut first; only a message of such lines alone cuts one."""


Part = Union[str, Listing]


def alert_text(parts: Sequence[Part], budget: int = BUTTON_CHARS) -> str:
    """``parts`` as the lines of one message of at most ``budget`` characters.

    Lists give way first, one item at a time from the one showing the most (so that each
    keeps a share: the files refused as well as the cells changed), down to none shown (its
    ``more`` line alone), but a vital list's first item (Listing.vital). Only if the fixed
    lines are too long by themselves (a refusal's text quoting much) is the longest of them
    cut in its middle (``cut``), a plain line before a ``Whole`` one or a list at its floor
    (a vital list's first item names the cell to mend); the last part, the closing line, is
    cut only when it alone is over the budget."""
    parts = [p for p in parts if not isinstance(p, Listing) or p.items]
    shown = [p.most if isinstance(p, Listing) else 0 for p in parts]

    def rendered() -> list[str]:
        return [p.render(k) if isinstance(p, Listing) else p for p, k in zip(parts, shown)]

    lines = rendered()
    while _length(lines) > budget:
        listed = [i for i, p in enumerate(parts)
                  if isinstance(p, Listing) and shown[i] > (1 if p.vital else 0)]
        if not listed:
            break
        longest = max(listed, key=lambda i: (shown[i], cell_length(lines[i])))
        shown[longest] -= 1
        lines = rendered()
    over = _length(lines) - budget
    if over > 0:
        fixed = [i for i in range(len(lines) - 1) if cell_length(lines[i]) > len(ELLIPSIS)]
        kept = (Whole, Listing)   # a command; a list at its floor (a vital one's first item, its cell)
        fixed = [i for i in fixed if not isinstance(parts[i], kept)] or fixed or [len(lines) - 1]
        longest = max(fixed, key=lambda i: cell_length(lines[i]))
        lines[longest] = cut(lines[longest], max(cell_length(lines[longest]) - over, 0))
        over = _length(lines) - budget
        if over > 0:      # several long fixed lines: the whole text, its start and its end kept
            return cut("\n".join(lines), budget)
    return "\n".join(lines)


def cut(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters: its start and its end, the middle given as
    ELLIPSIS (what staff must do is usually said last, what happened first)."""
    if cell_length(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return _start(text, limit)
    keep = limit - len(ELLIPSIS)
    tail = keep // 3
    return _start(text, keep - tail) + ELLIPSIS + _start(text[::-1], tail)[::-1]


def _start(text: str, units: int) -> str:
    """The longest start of ``text`` of at most ``units`` UTF-16 units."""
    if text.isascii():
        return text[:units]
    used = 0
    for end, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > units:
            return text[:end]
    return text


def _length(lines: Sequence[str]) -> int:
    return sum(map(cell_length, lines)) + max(len(lines) - 1, 0)

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
from .values import cell_length, count_text, listed_limit

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
    「入力エラーが 1 件ありました: …ほか 1 件」 and no cell, while a target's finding showed.
    ``beyond``: items left out before the listing was made (a run's findings past the ones
    listed: sheet_findings.listed_findings), counted in ``more`` with those not shown. ``detail``: what was done, said in full
    where staff find it again (as a ``Detail`` line): a message short of room leaves it out
    whole, with the Detail lines, before any list gives way (the records of 経年 a rollover
    replaced, whose heading alone took the room of the step to mend an input error)."""
    items: Sequence[str]
    more: str
    cap: Union[int, None] = None
    head: str = ""
    sep: str = "\n"
    more_sep: Union[str, None] = None
    vital: bool = False
    beyond: int = 0
    detail: bool = False

    def render(self, shown: int) -> str:
        rest = len(self.items) - shown + self.beyond
        listed = self.sep.join(self.items[:shown])
        if not rest:
            return self.head + listed
        joiner = (self.sep if self.more_sep is None else self.more_sep) if shown else ""
        return self.head + listed + joiner + self.more.format(n=count_text(rest))

    @property
    def most(self) -> int:
        return len(self.items) if self.cap is None else min(self.cap, len(self.items))


def listed_names(items: Sequence[str], unit: str = "件", *, head: str = "", vital: bool = False) -> Listing:
    """``items`` as values.listed names them (「第1町、第2町、… ほか 1,980 市町村」), as a Listing
    both faces say: the command line at its most (values.listed's text), a button as many as
    fit, fewer only to fit, the rest counted from there. rollover printed 2,000 uncollected
    municipalities whole, and export named 20 where its button named as many as its box held."""
    return Listing(list(items), f"ほか {{n}} {unit}", cap=listed_limit(unit), head=head, sep="、", more_sep=" ",
                   vital=vital)


def printed(parts: Sequence[Part]) -> list[str]:
    """``parts`` as the command line prints them: the lines the button's message has, each
    list at its cap (Listing.most), the rest counted as the button counts them. One rendering
    for every command, so that the two faces say the same lines: export printed its 【注意】
    and the step after it on one line where the button said them apart."""
    return [line for p in parts if not isinstance(p, Listing) or p.items
            for line in (p.render(p.most) if isinstance(p, Listing) else p).split("\n")]


class Whole(str):
    """A fixed line that holds a command staff type or copy (``renkei-xl history import A B``),
    or names the file or folder they must find (「2024年度のマスターを作成しました: （場所）」): cut in
    its middle it is no command at all, and a button's message showed 「…history import
    さっぽろ圏_2024年度_マスター.…（中略）…024年度のマスターの…」 (qa-143); the rollover's first line,
    its longest plain line on a long share, was cut to 「20」 and staff lost where the new
    master was (qa-149). Details and plain lines go first; only a message of such lines alone
    cuts one."""


class Detail(str):
    """A fixed line the message can do without: what was done, said in full where staff find
    it again (検証結果, the command line's output), not what to do or where a file is
    (「・指標 80 件…をそのまま引き継ぎました」). Left out whole, before any list gives way or any
    line is cut: a rollover with an input error and 13 targets past, on a share, cut its
    first line (the new master's path) while three such lines stood whole (qa-149)."""


Part = Union[str, Listing]
# A plain line cut shorter than this is left out instead: 「20」 or 「【注意】2023年…（中略）…ださい。」
# says nothing, and its room goes to the lines that do; kept this long, its start says what
# it is about and its end what to do.
SHORTEST_CUT = 60


def alert_text(parts: Sequence[Part], budget: int = BUTTON_CHARS) -> str:
    """``parts`` as the lines of one message of at most ``budget`` characters.

    What gives way, least needed first: Detail lines and detail lists, left out whole (the
    longest first); then
    lists, one item at a time from the one showing the most (so that each keeps a share:
    the files refused as well as the cells changed), down to none shown (its ``more`` line
    alone), but a vital list's first item (Listing.vital); then plain fixed lines, the
    longest first, each cut in its middle (``cut``) or, when little of it would be left,
    left out. A ``Whole`` line (a command, a file's place) or a list at its floor is cut
    only when such lines alone are over the budget; the last part, the closing line, only
    when it alone is."""
    parts = [p for p in parts if not isinstance(p, Listing) or p.items]
    shown = [p.most if isinstance(p, Listing) else 0 for p in parts]

    def rendered() -> list[str]:
        return [p.render(k) if isinstance(p, Listing) else p for p, k in zip(parts, shown)]

    lines = rendered()
    details = sorted((i for i, p in enumerate(parts) if isinstance(p, Detail) or (isinstance(p, Listing) and p.detail)),
                     key=lambda i: -cell_length(lines[i]))
    for i in details:
        if _length(lines, parts) <= budget:
            break
        parts[i] = None     # left out
    lines = rendered()
    while _length(lines, parts) > budget:
        listed = [i for i, p in enumerate(parts)
                  if isinstance(p, Listing) and shown[i] > (1 if p.vital else 0)]
        if not listed:
            break
        longest = max(listed, key=lambda i: (shown[i], cell_length(lines[i])))
        shown[longest] -= 1
        lines = rendered()
    last = max((i for i, p in enumerate(parts) if p is not None), default=0)
    plain = [i for i in range(last) if parts[i] is not None and not isinstance(parts[i], (Whole, Listing))]
    for i in sorted(plain, key=lambda i: -cell_length(lines[i])):
        over = _length(lines, parts) - budget
        if over <= 0:
            break
        keep = cell_length(lines[i]) - over
        if keep >= SHORTEST_CUT:
            lines[i] = cut(lines[i], keep)
        else:
            parts[i] = None
    over = _length(lines, parts) - budget
    if over > 0:
        # Only Whole lines and lists at their floor left (or the closing line alone over):
        # the longest of them cut.
        kept = [i for i in range(last) if parts[i] is not None and cell_length(lines[i]) > len(ELLIPSIS)] or [last]
        longest = max(kept, key=lambda i: cell_length(lines[i]))
        lines[longest] = cut(lines[longest], max(cell_length(lines[longest]) - over, 0))
        if _length(lines, parts) > budget:     # several long lines: the whole text, its start and its end kept
            return cut(_joined(lines, parts), budget)
    return _joined(lines, parts)


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


def _joined(lines: Sequence[str], parts: Sequence[object]) -> str:
    return "\n".join(line for line, part in zip(lines, parts) if part is not None)


def _length(lines: Sequence[str], parts: Sequence[object]) -> int:
    return cell_length(_joined(lines, parts))

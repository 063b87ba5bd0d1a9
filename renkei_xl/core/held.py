"""Cells 回収ファイル取込 held (not imported) that are still outstanding: the one rule every
command that publishes or closes the year (確定版を書き出し, 次年度のマスターを作成) warns by.

A held cell left the master as it was (empty in a new year) and was recorded on 取込履歴,
and nothing said it again: the municipality counted as collected, 入力チェック saw an empty
or earlier value it accepts, and the 確定版 and 経年 went out without a value the
municipality did send (a 合計 short). So each import records, beside its held cells
(HELD_COLUMN), what the master's cell held then (WAS_COLUMN), and a held cell is outstanding
until either

- a later import of the same municipality did not hold it (every return carries the whole
  sheet: that import took the cell, found it the same, or kept staff's correction), or
- the master's cell now holds something other than what it held at the import (staff
  typed the value in).

What cannot be told is not guessed: a record from before WAS_COLUMN names the returned
file's cells only, not the master's, and is passed over.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Mapping, NamedTuple, Optional, Sequence

from .refs import CELL_ADDRESS

# 取込履歴's column of what the master's held cells held at the import: 「小樽市!G20（04-1 実績値）: 空欄」,
# one entry per held input cell (the returned file's place, then the master's row and column).
WAS_COLUMN = "取込時のマスターの値"
EMPTY = "空欄"
# A value quoted as it is when it is this short and holds none of the marks the entries are
# told apart by; else by a digest of it (a long 実施状況 would fill the log's cell).
QUOTED_CHARS = 30
_UNQUOTED = set("「」、\n\r")
# A place HELD_COLUMN starts an entry with: 「小樽市!G20（」 at its start or after 「、」.
_HELD_PLACE = re.compile(rf"(?:^|、)([^、（!]+!{CELL_ADDRESS})（")
# One entry, matched whole: the column's text is split at 「、」 first, which no entry holds
# (a place has none, a quoted value none: _UNQUOTED). Searched for in the whole text, the
# lazy place took each start position to the text's end: 6 s for a 32,767-character cell
# staff pasted over, per cell, at every export and rollover.
_ENTRY = re.compile(r"(?P<place>[^、（]+)（(?P<id>[^（）]+) (?P<field>[^（）\s]+)）: "
                    r"(?P<was>" + EMPTY + r"|「[^「」、\n\r]*」|#[0-9a-f]{8})")


def was_token(value: str) -> str:
    """What the master's cell holds, as WAS_COLUMN records it and as it is compared."""
    if value == "":
        return EMPTY
    if len(value) <= QUOTED_CHARS and not _UNQUOTED.intersection(value):
        return f"「{value}」"
    return "#" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:8]


def was_text(cells: Sequence[tuple[str, str, str, str]]) -> str:
    """WAS_COLUMN's text of ``cells`` (returned file's place, 指標ID, header, master's value)."""
    return "、".join(f"{place}（{ind_id} {field}）: {was_token(value)}" for place, ind_id, field, value in cells)


def read_was(text: str) -> list[tuple[str, str, str, str]]:
    """WAS_COLUMN's entries (place, 指標ID, header, token); none from a cell staff typed over."""
    return [(m["place"], m["id"], m["field"], m["was"])
            for part in (text or "").split("、") if (m := _ENTRY.fullmatch(part))]


class Hold(NamedTuple):
    """One 取込履歴 row as the rule reads it."""
    municipality: str
    file_name: str
    imported_at: Optional[dt.datetime]
    held: str           # HELD_COLUMN: 「小樽市!G20（実績値: 「約10件」は概数・見込みの表記）、…」
    was: str            # WAS_COLUMN


class Outstanding(NamedTuple):
    """A held cell the master still lacks."""
    place: str          # the master's cell, 「小樽市!G20」
    indicator_id: str
    field: str          # its header: 実績値, 分母, 実施状況
    reason: str         # what 取込履歴 says was wrong, quoting what was sent (「約10件」)
    file_name: str
    imported_at: Optional[dt.datetime]

    def line(self) -> str:
        when = f"、{self.imported_at:%Y/%m/%d %H:%M} に取込" if self.imported_at else ""
        why = self.reason if self.reason.startswith(f"{self.field}: ") else f"{self.field}: {self.reason or '（理由は回答ファイルで確認）'}"
        return f"{self.place} {self.indicator_id}: {why}（{self.file_name}{when}）"


def outstanding(log: Sequence[Hold], master: Mapping[tuple[str, str, str], tuple[str, str]]) -> list[Outstanding]:
    """The held cells still outstanding (module docstring), in 取込履歴's order. ``log``: its
    rows in their order; ``master``: (municipality, 指標ID, header) → (the master's cell
    「小樽市!G20」, its value as text). A row whose 指標ID or header the master no longer has
    is passed over (the question is gone)."""
    latest: dict[str, tuple[tuple[dt.datetime, int], Hold]] = {}
    for i, row in enumerate(log):
        key = (row.imported_at or dt.datetime.min, i)
        if row.municipality and (row.municipality not in latest or key >= latest[row.municipality][0]):
            latest[row.municipality] = (key, row)
    out = []
    for _key, row in sorted(latest.values(), key=lambda kv: kv[0][1]):
        entries = read_was(row.was)
        reasons = _reasons(row.held)
        for place, ind_id, field, was in entries:
            cell = master.get((row.municipality, ind_id, field))
            if cell is None or was_token(cell[1]) != was:
                continue        # no such cell now, or typed in since the import
            out.append(Outstanding(cell[0], ind_id, field, reasons.get(place, ""), row.file_name, row.imported_at))
    return out


def _reasons(held: str) -> dict[str, str]:
    """Each place's reason in HELD_COLUMN's text, cut where the next place starts (a reason
    quotes what was sent, which may hold 「、」 or 「）」); none where it lists places only."""
    held = held or ""
    starts = [(m.start(1), m.end(1), m[1]) for m in _HELD_PLACE.finditer(held)]
    out = {}
    for k, (_start, end, place) in enumerate(starts):
        stop = starts[k + 1][0] - 1 if k + 1 < len(starts) else len(held)
        body = held[end + 1:stop]
        out.setdefault(place, body[:-1] if body.endswith("）") else body)
    return out


def master_cells(entries: Sequence) -> dict[tuple[str, str, str], tuple[str, str]]:
    """``outstanding``'s ``master`` from the master's municipality rows (core.model.Entry)."""
    from .contract import ENTRY_HEADERS, INPUT_FIELDS
    from .contract_read import text

    return {(e.municipality, e.indicator_id, ENTRY_HEADERS[f]): (f"{e.sheet or e.municipality}!{e.cell(f)}",
                                                                 text(getattr(e, f)))
            for e in entries if e.indicator_id for f in INPUT_FIELDS if e.cell(f)}

"""Texts that look the same but are not: the one rule of which characters staff confuse.

一覧 and 集計 group 指標's rows by their 役割 and their 連携事業名 as typed. A Japanese IME
gives 「－」 (U+FF0D) or 「-」 where 「サービス」 has the long vowel mark 「ー」 (U+30FC), a paste
from a web page brings 「·」 (U+00B7) for 「・」, half-width kana or an inner space: the row
then stood under a role of its own, and 集計 printed a fourth line that reads like the third
with the counts split between them, without a word. Rows are never merged by likeness (that
would be a guess); the spelling fewer rows use is named on its cell, beside the other.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Sequence

from . import contract as c
from . import findings as F
from .model import Finding, Indicator
from .values import DASH_CHARS, DASH_MARKS, SYMBOL_LOOKALIKES, shown

# Dashes, hyphens, minus signs, box-drawing lines and long vowel marks: values.DASH_CHARS.
# Middle dots (「・」, and what a paste or another IME gives for it).
DOT_LIKE = "・·‧⋅∙•･"
# Wave dashes and tildes.
WAVE_LIKE = "〜～~∼"
_FOLD = str.maketrans({**{ch: "-" for ch in DASH_CHARS}, **{ch: "・" for ch in DOT_LIKE},
                       **{ch: "~" for ch in WAVE_LIKE}})
_BLANKS = re.compile(r"\s+")


@lru_cache(maxsize=1 << 12)
def text_key(text: str) -> str:
    """``text`` as compared for likeness: width (NFKC), the look-alike classes above and
    every space aside. Cached: a role is shared by thousands of rows."""
    return _BLANKS.sub("", unicodedata.normalize("NFKC", text).translate(_FOLD))


def lookalike_findings(indicators: Sequence[Indicator]) -> list[Finding]:
    """A finding on each 役割 (and each 連携事業名 under one 事業No) spelled otherwise than
    the spelling most rows like it use (the first, on a tie)."""
    roles = dict.fromkeys((None, ind.role) for ind in indicators)
    projects = dict.fromkeys((ind.project_no, ind.project_name) for ind in indicators if not ind.is_kpi)
    out = _differing(indicators, "role", roles, lambda ind: (None, ind.role))
    out += _differing(indicators, "project_name", projects,
                      lambda ind: None if ind.is_kpi else (ind.project_no, ind.project_name))
    return out


def _differing(indicators: Sequence[Indicator], field: str, spellings: dict, spelled) -> list[Finding]:
    """``spellings``: every (scope, text) there is, once. Only a scope with two texts or more
    is compared by likeness, and rows are looked at only when two texts are alike: most
    事業No have one name (20,000 indicators cost 0.045 s when every row's name was normalised,
    ~2 % of a recalculation)."""
    scopes: dict[object, list[str]] = {}
    for scope, typed in spellings:
        if typed and type(typed) is str:
            scopes.setdefault(scope, []).append(typed)
    keys: dict[tuple, list[str]] = {}
    for scope, texts in scopes.items():
        if len(texts) > 1:      # nearly always one
            for typed in texts:
                keys.setdefault((scope, text_key(typed)), []).append(typed)
    groups = [(scope, group) for (scope, _key), group in keys.items() if len(group) > 1]
    if not groups:
        return []
    wanted = {(scope, typed) for scope, group in groups for typed in group}
    rows: dict[tuple, list[Indicator]] = {}
    for ind in indicators:
        where = spelled(ind)
        if where in wanted:
            rows.setdefault(where, []).append(ind)
    out: list[Finding] = []
    label = _LABELS[field]
    for scope, group in groups:
        by_spelling = {typed: rows[(scope, typed)] for typed in group}
        usual = max(by_spelling, key=lambda t: len(by_spelling[t]))   # the first of the most used
        first = by_spelling[usual][0]
        for typed, inds in by_spelling.items():
            if typed == usual:
                continue
            for ind in inds:
                out.append(F.LOOKALIKE_TEXT.at(ind.sheet, ind.cell(field), ind.id, label=label, value=shown(typed),
                                               other=shown(usual), first=f"{first.sheet}!{first.cell(field)}",
                                               difference=first_difference(typed, usual)))
    return sorted(out, key=lambda f: (f.sheet, _row_of(f.cell)))


def _row_of(cell: str) -> int:
    return int("".join(ch for ch in cell if ch.isdigit()) or 0)


_LABELS = {f: c.INDICATOR_HEADERS[f] for f in ("role", "project_name")}


def first_difference(typed: str, usual: str) -> str:
    """Where two look-alike texts part, with the code points: 「－」（U+FF0D） と 「ー」（U+30FC）."""
    from difflib import SequenceMatcher

    for tag, i1, i2, j1, j2 in SequenceMatcher(None, typed, usual, autojunk=False).get_opcodes():
        if tag != "equal":
            return f"{_chars(typed[i1:i2])} と {_chars(usual[j1:j2])}"
    return ""


def _chars(part: str) -> str:
    if not part:
        return "（なし）"
    return f"「{part}」（{' '.join(f'U+{ord(ch):04X}' for ch in part[:4])}）"


# What staff type for a symbol of the list where a symbol is read as typed (経年, its CSV):
# 「○」 for ◎ (values.SYMBOL_LOOKALIKES), 「-」 for － or ―. Named with the symbol it looks
# like, never read as it: ― (評価時期前・未集計) and － (評価不可) mean different things and
# are counted apart.


def symbol_hint(typed: str) -> str:
    """Why a text that is no symbol of the list may look like one, in brackets, or ""."""
    if typed and DASH_MARKS.issuperset(typed):
        return (f"（「{typed}」は「－」（評価不可）にも「―」（評価時期前・未集計）にも見えますが、どちらでもありません。"
                "2 つは意味が違い、集計でも別に数えるため、どちらかを入力してください）")
    symbol = next((sym for sym, alike in SYMBOL_LOOKALIKES.items() if typed in alike), None) if len(typed) == 1 else None
    if symbol is None:
        return ""
    return f"（「{typed}」（U+{ord(typed):04X}）は「{symbol}」（U+{ord(symbol):04X}）とは別の文字です）"

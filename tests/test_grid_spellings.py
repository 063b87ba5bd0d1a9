"""The patterns of a cell's column and row built from core.refs' bounds (review63) answer as
the typed ones did: each is run beside the text it had before, on a table of spellings at
and past the grid's edges, and so are the era parts of a date format (displayed.ERA_PARTS).

The old texts are typed here on purpose: they are what the new patterns must answer as.
"""

from __future__ import annotations

import re

import pytest

from renkei_xl.core import displayed, formula_refs, refs
from renkei_xl.package import cells
from renkei_xl.server import app
from renkei_xl.workbook import sheet_checks, sheet_form, stored_values

SPELLINGS = ["A1", "XFD1048576", "XFE1", "ABCD1", "a1", "xfd3", "$A$1", "$AB$12", "A0", "A00", "A01048577",
             "A1048577", "B030", "B00000030000", "B12345678", "B9999999999", "B123456789012",
             "B" + "0" * 5000 + "3", "B" + "9" * 5000, "ZZZ1", "AB12", "A1:B2", "a1:xfd9", "A1:XFE2",
             "$A$1:$C$5", "A:C", "$A:$C", "ABCD:A", "1:3", "", "1", "A", "A1B"]

# (where, the pattern's text before review63, its flags, the pattern now, a spelling as the
# pattern meets it).
_STR = [
    ("refs._NAMED_RANGE", r"=?(?:'((?:[^']|'')+)'|([^'!]+))!\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?",
     0, refs._NAMED_RANGE, lambda s: f"=設定!{s}"),
    ("formula_refs._TOKEN_PATTERN", None, re.S, formula_refs._token(), lambda s: f"SUM({s})+'他'!{s}"),
    ("cells._ARRAY_REF", r"<(?:[\w.-]+:)?f\b(?=[^<>]*\bt=[\"']array[\"'])[^<>]*?\bref=[\"']"
     r"([A-Za-z]{1,3}\d+(?::[A-Za-z]{1,3}\d+)?)[\"']", 0, cells._ARRAY_REF, lambda s: f'<f t="array" ref="{s}">'),
    ("cells._DATA_TABLE_REF", r"<(?:[\w.-]+:)?f\b(?=[^<>]*\bt=[\"']dataTable[\"'])[^<>]*?\bref=[\"']"
     r"([A-Za-z]{1,3}\d+(?::[A-Za-z]{1,3}\d+)?)[\"']", 0, cells._DATA_TABLE_REF,
     lambda s: f"<f t='dataTable' ref='{s}'>"),
    ("cells._MERGE_REF", r"<(?:[\w.-]+:)?mergeCell\b[^<>]*?\bref=[\"']([A-Za-z]{1,3}\d+:[A-Za-z]{1,3}\d+)[\"']",
     0, cells._MERGE_REF, lambda s: f'<mergeCell ref="{s}:{s}"/>'),
    ("cells._AREA_END", r"\$?([A-Z]{1,3})\$?0*([0-9]{1,15})", 0, cells._AREA_END, lambda s: s),
    ("sheet_checks._REF", r'\sr="([A-Z]{1,3}\d+)"', 0, sheet_checks._REF, lambda s: f'<c r="{s}">'),
    ("sheet_checks._AREA_REF", r'\sref="([A-Z]{1,3}\d+(?::[A-Z]{1,3}\d+)?)"', 0, sheet_checks._AREA_REF,
     lambda s: f'<f ref="{s}">'),
    ("app._ADDRESS", r"\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d+)?|[A-Za-z]{1,3}:[A-Za-z]{1,3}|\d+:\d+",
     0, app._ADDRESS, lambda s: s),
]
_BYTES = [
    ("sheet_checks._WIDE_FILLED", rb' r="([A-Z]{2,3})[0-9]+"[^<>/]*>', sheet_checks._WIDE_FILLED),
    ("sheet_checks._ANY_CELL_COLUMN", rb' r="([A-Z]{1,3})[0-9]+"', sheet_checks._ANY_CELL_COLUMN),
    ("sheet_checks._filled_at", rb'<x:c(?= r="([A-Z]{1,3})([0-9]+)"[^<>/]*>)', sheet_checks._filled_at(b"x:")),
    ("sheet_checks._ERROR_REF", rb'\br="([A-Z]{1,3})0*([0-9]{1,10})"', sheet_checks._ERROR_REF),
    ("sheet_form._far_cell", rb'<x:c r="[A-Z]{1,3}([0-9]{6,})"', sheet_form._far_cell(b"x:")),
    ("sheet_form._cell_without_plain_r", rb'<x:c(?! r="[A-Z]{1,3}[1-9][0-9]*"' + sheet_form._PLAIN_S + rb')[\s/>]',
     sheet_form._cell_without_plain_r(b"x:")),
    ("stored_values._NAMED_REF", rb'\sr="([A-Z]{1,3}[0-9]+)"', stored_values._NAMED_REF),
]


def _text(pattern) -> str | bytes:
    return getattr(pattern, "pattern", pattern)


def _answers(pattern, flags: int, texts) -> list:
    compiled = re.compile(_text(pattern), flags)
    return [[(m.span(), m.groups()) for m in compiled.finditer(t)] for t in texts]


@pytest.mark.parametrize("where, old, flags, new, spelt", _STR, ids=[case[0] for case in _STR])
def test_a_str_pattern_answers_as_before(where, old, flags, new, spelt):
    if old is None:    # the formula tokens: the two alternatives that held a column's {1,3}
        old = _text(new).replace(formula_refs._COLUMN, "[A-Za-z]{1,3}")
        assert old.count("[A-Za-z]{1,3}") == 3
    assert _text(new) == old, where     # the same text: the same regex, at the same cost
    texts = [spelt(s) for s in SPELLINGS] + [spelt(s.lower()) for s in SPELLINGS]
    assert _answers(new, flags, texts) == _answers(old, flags, texts), where


@pytest.mark.parametrize("where, old, new", _BYTES, ids=[case[0] for case in _BYTES])
def test_a_bytes_pattern_answers_as_before(where, old, new):
    assert _text(new) == old, where
    texts = [f'<x:c r="{s}" s="1">'.encode() for s in SPELLINGS] + [f'<x:c r="{s}"/>'.encode() for s in SPELLINGS]
    assert _answers(new, 0, texts) == _answers(old, 0, texts), where


def test_a_number_cells_place_is_read_as_before(monkeypatch):
    """sheet_form._NUMBER_CELL_REF alone is a new text: a row of up to the grid's seven digits,
    where it took an unsignedInt's ten and parse_ref refused the eight to ten past the grid.
    Its one reader, _number_cell, answers the same for every spelling."""
    assert _text(sheet_form._NUMBER_CELL_REF) == rb'\sr="([A-Z]{1,3})0*([0-9]{1,7})"'
    attrs = [f' r="{s}"'.encode() for s in SPELLINGS] + [f' r="{s}" t="n"'.encode() for s in SPELLINGS]
    now = [sheet_form._number_cell(a) for a in attrs]
    monkeypatch.setattr(sheet_form, "_NUMBER_CELL_REF", re.compile(rb'\sr="([A-Z]{1,3})0*([0-9]{1,10})"'))
    assert [sheet_form._number_cell(a) for a in attrs] == now
    assert (1048575, 16383) in now and now.count(None) > len(attrs) // 2


FORMATS = ['ggge"年"m"月"d"日"', "ge.m.d", "gge", 'e"年"', "ee", "yyyy/m/d", "GGGE", '[$-ja-JP]ggge"年"', "0.00",
           '"g"0', "h:mm", '[DBNum1]ggge"年"m"月"d"日"', "gggggg", "eee", "mmm-yy", "General", "@"]


def test_the_era_parts_answer_as_before():
    """displayed.ERA_PARTS: _DATE_PART's text is what it was, and is_era_format answers as its
    [ge] did."""
    assert displayed._DATE_PART.pattern == r"\[h+\]|\[m+\]|\[s+\]|yyyy|yy|hh|h|mm|m|dd|d|ss|s|g{1,3}|ee?|\.0+"
    old = [displayed.shows_date(f) and re.search(r"[ge]", "".join(
        t for kind, t in displayed._pieces(displayed._sections(f)[0]) if kind == "code"), re.I) is not None
        for f in FORMATS]
    assert [displayed.is_era_format(f) for f in FORMATS] == old
    assert True in old and False in old

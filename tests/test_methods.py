"""集計方法 are records (core/methods.py): everything that differs between methods is read
from them, so the lists staff see and every face follow the one table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from renkei_xl.core import methods
from renkei_xl.core.methods import METHODS, input_rule, is_numeric_cell, reported_by, value_prompt
from renkei_xl.core.model import Indicator
from renkei_xl.core.validate import validate

README = Path(__file__).resolve().parents[1] / "README.md"
GUIDE = README.parent / "docs" / "staff-guide.md"


def test_every_method_is_complete():
    for m in METHODS:
        assert m.name and m.summary, m
        assert m.reporters in (methods.EVERY_MUNICIPALITY, methods.CENTRAL_ONLY, methods.NOBODY)
        assert m.manual in (methods.MANUAL_ALWAYS, methods.MANUAL_FALLBACK, methods.MANUAL_NEVER)
        if m.reporters == methods.EVERY_MUNICIPALITY:
            assert m.roll is not None, f"{m.name}: every municipality reports it, so it needs a roll-up"
        if m.numeric or m.state:
            assert m.prompt, m.name


def test_the_staff_readme_lists_exactly_the_methods():
    """The staff's sentence (the staff guide, docs/staff-guide.md, which holds what the README's
    part for staff once did) is checked against the table, so a new method cannot be forgotten
    there."""
    text = README.read_text(encoding="utf-8") + GUIDE.read_text(encoding="utf-8")
    listed = re.search(r"集計方法は ([^\s]+)\s*\n?\s*から選びます", text)
    assert listed, "the staff's list of 集計方法"
    assert tuple(listed.group(1).split("・")) == methods.NAMES


@pytest.mark.parametrize("method", METHODS, ids=[m.name for m in METHODS])
def test_each_face_reads_the_method_from_the_record(method):
    ind = Indicator("01-1", "役割", 1, "事業", "概要", "指標", "10件", "20件", method.name)
    assert is_numeric_cell(ind, "value") == method.numeric
    assert is_numeric_cell(ind, "denominator") == method.denominator
    assert reported_by(ind, is_central=False) == (method.reporters == methods.EVERY_MUNICIPALITY)
    assert reported_by(ind, is_central=True) == (method.reporters != methods.NOBODY)
    rule = input_rule(ind, "value")
    assert (rule is not None) == (method.numeric or method.state)
    if method.numeric:
        assert rule.prompt == value_prompt(ind)
    # validation knows every method by its record: no unknown-method finding
    assert not [f for f in validate(_settings(), [ind], []) if f.type == "unknown-method"]


def test_an_unknown_method_is_named_with_the_choices():
    ind = Indicator("01-1", "役割", 1, "事業", "概要", "指標", "10件", "20件", "平均")
    found = [f for f in validate(_settings(), [ind], []) if f.type == "unknown-method"]
    assert found and all(name in found[0].hint for name in methods.NAMES)
    assert methods.input_unit(ind) is None and input_rule(ind, "value") is None


def _settings():
    from renkei_xl.core.model import Municipality, Settings

    return Settings("圏域", 2023, None, 0.85, (Municipality("札幌市", "中心市"), Municipality("小樽市")))

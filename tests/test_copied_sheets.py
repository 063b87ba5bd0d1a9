"""core.copied_sheets on the FY2023 reference: where a copy is named, and where two partners
who truly share a figure or two are not."""

from __future__ import annotations

from renkei_xl.core import findings as F
from renkei_xl.core.copied_sheets import MIN_ROWS, copied_sheets
from renkei_xl.core.model import Municipality


def _with_partner(ref, rows, entries=None):
    """The reference with a 12th partner, 新町, answering ``rows`` (another's, copied)."""
    settings = ref.settings._replace(
        municipalities=(*ref.settings.municipalities, Municipality("新町", "連携市町村")))
    return settings, [*(ref.entries if entries is None else entries),
                      *(e._replace(municipality="新町", sheet="新町") for e in rows)]


def _answered(ref, name):
    return [e for e in ref.entries if e.municipality == name and (e.value or e.denominator or e.status)]


def test_the_reference_names_no_copy_though_partners_share_figures(fy2023):
    assert copied_sheets(fy2023.settings, fy2023.entries) == []


def test_a_copy_is_named_from_min_rows_answered_rows_on(fy2023):
    rows = _answered(fy2023, "札幌市")
    assert len(rows) > MIN_ROWS
    for n, named in ((MIN_ROWS - 1, False), (MIN_ROWS, True), (len(rows), True)):
        # 札幌市 answering only its first n rows, and 新町 copied from it
        sapporo = [*rows[:n], *(e._replace(value="", denominator="", status="") for e in rows[n:])]
        settings, entries = _with_partner(fy2023, rows[:n], sapporo + [
            e for e in fy2023.entries if e.municipality != "札幌市"])
        found = copied_sheets(settings, entries)
        assert bool(found) is named, (n, found)
        if named:
            (f,) = found
            assert (f.type, f.sheet, f.indicator_id) == (F.COPIED_SHEET.code, "新町", rows[0].indicator_id)
            assert f"{n} 行" in f.message and "シート「札幌市」" in f.message


def test_one_answer_changed_or_added_is_not_a_copy(fy2023):
    rows = _answered(fy2023, "札幌市")
    changed = [*rows[:-1], rows[-1]._replace(value=rows[-1].value + "0")]
    added = rows[0]._replace(indicator_id="99-1", value="1件")     # a row 札幌市's sheet has not
    for copy in (changed, rows[:-1], [*rows, added]):
        assert copied_sheets(*_with_partner(fy2023, copy)) == [], copy[-1]


def test_splits_caution_names_a_pair_whose_name_has_brackets():
    """split's 【注意】 names each pair with the finding's first sentence: it was cut at the
    message's first 「（」, so a partner named 「北広島市（仮）」 read 「シート「北広島市」."""
    from types import SimpleNamespace

    from renkei_xl.cycle.distribute import split_cautions

    f = F.COPIED_SHEET.at("北広島市（仮）", "E3", "01-1", name="北広島市（仮）", other="江別市（旧）", count=4)
    (_, pair) = split_cautions(SimpleNamespace(copied=[f]))
    assert pair == "　シート「北広島市（仮）」とシート「江別市（旧）」は、入力のある 4 行がすべて同じです（北広島市（仮）!E3 から）"


def test_a_copy_made_before_any_answer_is_named_by_last_years_figures(fy2023):
    """Early in a year partners are added: a sheet copied then has no answers yet, but the
    前年度実績 column rollover wrote beside them is the other partner's, and split sends it
    to the new partner as its own last year. It is named as a copy too."""
    rolled = [e._replace(previous=e.value, value="", denominator="", status="") for e in fy2023.entries]
    copied = [e for e in rolled if e.municipality == "札幌市" and e.previous]
    assert len(copied) >= MIN_ROWS
    (f,) = copied_sheets(*_with_partner(fy2023, copied, rolled))
    assert (f.sheet, f.indicator_id) == ("新町", copied[0].indicator_id) and "シート「札幌市」" in f.message
    assert copied_sheets(fy2023.settings, rolled) == []

"""Hostile values: every bad input is a finding on its cell and never feeds a total.

Each case below puts one hostile value in one input cell of the FY2023 reference and
checks three things: the finding (type, severity, sheet, cell, Japanese message, hint),
that the consolidated 実績値 is 「（入力エラー）」 and the evaluation － names the cell (not
a number computed from the other municipalities), and that the 達成割合 row leaves the
row out like any －. The cases are generated in code from small tables; nothing here
times anything, but the 100,000-character values would hang a quadratic parser.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from renkei_xl.core.consolidate import consolidate, rollup
from renkei_xl.core.contract_read import Book, read_settings
from renkei_xl.core.errors import UserError
from renkei_xl.core.model import ACHIEVED, ERROR, NOT_EVALUABLE, Entry
from renkei_xl.core.pipeline import recalculate
from renkei_xl.core.validate import validate
from renkei_xl.core.values import (CELL_TEXT_LIMIT, INPUT_ERROR, NUMBER, STATUS, TRUNCATION_MARK,
                              ValueParseError, bare_number, cell_length, parse_input,
                              parse_value, shown)

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
FULL = str.maketrans("0123456789,.", "０１２３４５６７８９，．")

# 04-1 (合計, 「20件（毎年度）」, officially ◎ with 21件): 小樽市's row is the hostile one.
SUM_ID, MUNI, CELL = "04-1", "小樽市", "E7"
ENTRY_CELLS = {"indicator_id": "A7", "value": "E7", "denominator": "F7", "status": "G7"}


# --------------------------------------------------------------------------- the cases

def _bounds():
    """以上 以下 未満 超 以内 after a number, in half and full width, with and without unit."""
    for word in ("以上", "以下", "未満", "超", "以内"):
        for number in ("10", "10件"):
            yield number + word, "range-value", word
        yield ("10件" + word).translate(FULL), "range-value", word
    yield "10件以上（毎年度）", "range-value", "以上"
    yield "以上10件", "range-value", "以上"
    yield "10件（以上）", "range-value", "以上"
    yield "100～", "range-value", "～"      # an open range: it read 「単位「~」を認識できません」
    yield "～10件", "range-value", "～"
    # A range written with a dash or a long vowel mark, as staff type one: it read
    # 「単位「-20」を認識できません」, as if the second number were a unit.
    yield "10-20", "range-value", "範囲の表記（「-」）"
    yield "１０－２０件", "range-value", "範囲の表記（「－」）"
    yield "10件ー20件", "range-value", "範囲の表記（「ー」）"
    yield "1,000 – 2,000", "range-value", "範囲の表記（「–」）"
    # A range whose number carries 万/千/億, with a wave or a dash: it read 「単位「~20万円」を
    # 認識できません」, as the dash ranges did (qa-118).
    yield "10～20万円", "range-value", "範囲の表記（「～」）"
    yield "10万～20万", "range-value", "範囲の表記（「～」）"
    yield "10-20千円", "range-value", "範囲の表記（「-」）"
    yield "100万～", "range-value", "範囲の表記（「～」）"


def _approximations():
    for text, word in (("約10", "約"), ("約10件", "約"), ("10程度", "程度"), ("10件程度", "程度"),
                       ("10件（見込み）", "見込"), ("10件見込み", "見込"), ("およそ10件", "およそ"),
                       ("10件前後", "前後"), ("概ね10件", "概ね"), ("１０件くらい", "くらい")):
        yield text, "approximate-value", word


def _numbers():
    yield "-3", "negative", "負の値"
    yield "▲3件", "negative", "負の値"
    yield "△3", "negative", "負の値"
    yield "－3件", "negative", "負の値"
    yield "2.5", "fractional-count", "小数"
    yield "2.5件", "fractional-count", "小数"
    yield "２．５件", "fractional-count", "小数"
    yield "1e308", "unparseable", "指数表記"
    yield "1E5件", "unparseable", "指数表記"
    yield "1" + "0" * 15, "too-large", "大きすぎます"
    yield "9" * 20 + "件", "too-large", "大きすぎます"
    yield "1000兆件", "too-large", "大きすぎます"
    yield "9" * 100_000, "too-large", "大きすぎる"
    yield "1," * 50_000, "too-long", "長すぎます"
    yield "(10件)" * 20_000, "too-long", "長すぎます"
    yield "（" * 100_000, "too-long", "長すぎます"
    yield "NaN", "unparseable", "読めません"
    yield "inf", "unparseable", "読めません"
    yield "-Infinity", "unparseable", "読めません"
    yield "1\x002件", "control-character", "制御文字"
    yield "10\x07", "control-character", "制御文字"
    yield "\x1b[31m10", "control-character", "制御文字"
    yield "10\u200b件", "control-character", "見えない文字"
    yield "\ufeff10件", "control-character", "見えない文字"
    yield "#DIV/0!", "formula-error", "エラー値「#DIV/0!」"
    yield "10ドル", "unparseable", "単位"
    yield "実施", "not-a-number", "数値を入力するセル"
    yield "3人", "unit-mismatch", "単位"
    yield "1,00件", "unparseable", "カンマ"
    # A date typed into a cell of the Text format stays the text: it read 「単位「/3/31」」.
    yield "2024/3/31", "unparseable", "日付として入力されています"
    yield "２０２４／３／３１", "unparseable", "日付として入力されています"
    # The same date with a dash (「単位「-3-31」」) or with its time (「数字の間に空白があります」) (qa-118).
    yield "2024-3-31", "unparseable", "日付として入力されています"
    yield "２０２４－３－３１", "unparseable", "日付として入力されています"
    yield "2024/3/31 10:00", "unparseable", "日付として入力されています"


def _number_shapes():
    """Digits, commas and points in shapes no number is written in: a decimal comma, a
    group that starts with 0, a comma after the point, a point beside 万・千. Each was read
    as some number (1.234567, 123, 1234.56789, 10000.5) where only the commas were checked."""
    for text in ("1.234,567", "1.234,5件", "0,123", "00,500件", "1,234.567,890", "1.5,000", "1万,000"):
        yield text, "unparseable", "カンマ"
    yield "1,234.5,6".translate(FULL), "unparseable", "カンマ"
    for text in ("1万.5", "1千.5件", "1.万", "1.5.6"):
        yield text, "unparseable", "を読めません"


CASES = [*_bounds(), *_approximations(), *_numbers(), *_number_shapes()]
IDS = [f"{i:02d}-{t}-{v[:12]!r}" for i, (v, t, _w) in enumerate(CASES)]


def test_there_are_enough_generated_cases():
    assert len(CASES) >= 40
    assert len({c[0] for c in CASES}) == len(CASES)


def _replace(fy2023, ind_id, muni, value, **extra):
    out = []
    for e in fy2023.entries:
        if e.indicator_id == ind_id and e.municipality == muni:
            e = e._replace(value=value, sheet=muni, row=7, cells=ENTRY_CELLS, **extra)
        out.append(e)
    return out


@pytest.fixture(scope="module")
def baseline(fy2023):
    return recalculate(fy2023.settings, fy2023.indicators, fy2023.entries)


def _finding(findings, cell=CELL, sheet=MUNI):
    found = [f for f in findings if f.sheet == sheet and f.cell == cell]
    assert len(found) == 1, found
    return found[0]


def _assert_japanese_finding(f, kind, fragment, value):
    assert f.type == kind
    assert f.severity == ERROR and f.is_error
    assert fragment in f.message
    assert JAPANESE.search(f.message) and JAPANESE.search(f.hint)
    # Quoted values are cut: a 100,000-character value does not land in 検証結果 whole.
    assert len(f.message) < 400
    if len(value) <= 20:  # quoted as typed, control characters made visible
        assert shown(value) in f.message or shown(value.strip()) in f.message


def _assert_excluded(result, ind_id, place, baseline):
    c = result.consolidated[ind_id]
    ev = result.evaluations[ind_id]
    assert c.actual == INPUT_ERROR
    assert c.breakdown == ""
    assert ev.symbol == NOT_EVALUABLE and ev.ratio is None
    assert place in ev.reason and "入力エラー" in ev.reason
    # The meta row (◎ / (◎+□+×)) now leaves the row out like any －.
    was = baseline.evaluations[ind_id].symbol
    assert result.summary.evaluable == baseline.summary.evaluable - 1
    assert result.summary.achieved == baseline.summary.achieved - (was == ACHIEVED)
    meta = result.evaluations["01-1"].reason
    assert f"{result.summary.achieved}／評価可能{result.summary.evaluable}" in meta


@pytest.mark.parametrize("value,kind,fragment", CASES, ids=IDS)
def test_hostile_sum_input_is_a_finding_and_feeds_nothing(fy2023, baseline, value, kind, fragment):
    entries = _replace(fy2023, SUM_ID, MUNI, value)
    f = _finding(validate(fy2023.settings, list(fy2023.indicators), entries))
    _assert_japanese_finding(f, kind, fragment, value)
    assert f.indicator_id == SUM_ID
    result = recalculate(fy2023.settings, fy2023.indicators, entries)
    _assert_excluded(result, SUM_ID, f"{MUNI}!{CELL}", baseline)
    # The same finding, once: consolidation does not report it a second time.
    assert [x for x in result.findings if x.place == f"{MUNI}!{CELL}"] == [f]
    # 一覧's note says why the row is －, then the staff's own text (no breakdown listing
    # the bad number).
    note, _, rest = result.consolidated[SUM_ID].status_text.partition("\n")
    assert note.startswith("※入力エラーのため評価不可") and f"{MUNI}!{CELL}" in note
    assert rest == fy2023.indicators[[i.id for i in fy2023.indicators].index(SUM_ID)].status_manual.strip()


# Inputs of other methods: 中心市のみ (53-1 「２人以上（毎年度）」 on 札幌市), 手入力 (06-1 made
# 手入力, 「10件（毎年度）」), 比率's 分母 (40-4), 状態 (23-1), 参加市町村数 (28-1).
OTHER_CASES = [
    ("53-1", "central", "2人以上", "range-value"),
    ("53-1", "central", "約2人", "approximate-value"),
    ("53-1", "central", "2.5人", "fractional-count"),
    ("53-1", "central", "-2", "negative"),
    ("53-1", "central", "2人（見込み）", "approximate-value"),
    ("05-3", "central", "70.5%", "unit-mismatch"),     # a 中心市のみ row in % against 100名
    ("24-1", "central", "3人", "unit-mismatch"),       # ◎ against 「各１回（毎年度）」: 3 ≥ 1, unit unread
    ("24-1", "manual", "2件", "unit-mismatch"),
    ("06-1", "manual", "10件以上", "range-value"),
    ("06-1", "manual", "１０件以下", "range-value"),
    ("06-1", "manual", "▲3件", "negative"),
    ("06-1", "manual", "9.5件", "fractional-count"),
    ("06-1", "manual", "9" * 100_000, "too-large"),
    ("40-4", "denominator", "143以上", "range-value"),
    ("40-4", "denominator", "約143", "approximate-value"),
    ("40-4", "denominator", "0", "missing-denominator"),
    ("40-4", "value", "90超", "range-value"),
    ("23-1", "value", "維持以上", "range-value"),
    ("28-1", "value", "-1", "negative"),
    ("28-1", "value", "1以上", "range-value"),
]


@pytest.mark.parametrize("ind_id,where,value,kind", OTHER_CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2][:10]!r}" for c in OTHER_CASES])
def test_hostile_inputs_of_every_method(fy2023, baseline, ind_id, where, value, kind):
    indicators, entries = list(fy2023.indicators), list(fy2023.entries)
    if where == "manual":
        indicators = [i._replace(method="手入力", actual_manual=value,
                                          cells={"actual_manual": "K9"}) if i.id == ind_id else i
                      for i in indicators]
        entries = [e for e in entries if e.indicator_id != ind_id]
        sheet, cell = "指標", "K9"
    else:
        muni = next(e.municipality for e in entries if e.indicator_id == ind_id)
        if where == "denominator":
            original = next(e for e in entries if e.indicator_id == ind_id and e.municipality == muni)
            entries = _replace(fy2023, ind_id, muni, original.value, denominator=value)
            cell = "F7"
        else:
            entries = _replace(fy2023, ind_id, muni, value)
            cell = "E7"
        sheet = muni
    f = _finding(validate(fy2023.settings, indicators, entries), cell, sheet)
    assert (f.type, f.severity, f.indicator_id) == (kind, ERROR, ind_id)
    assert JAPANESE.search(f.message) and f.hint
    result = recalculate(fy2023.settings, indicators, entries)
    _assert_excluded(result, ind_id, f"{sheet}!{cell}", baseline)


def test_a_bad_value_that_does_not_feed_the_row_does_not_stop_it(fy2023, baseline):
    # 53-1 is 中心市のみ: a stray row of 小樽市 is reported but 札幌市's value still counts.
    entries = list(fy2023.entries) + [Entry("小樽市", "53-1", "2人以上", sheet="小樽市", row=9,
                                            cells={"value": "E9"})]
    result = recalculate(fy2023.settings, fy2023.indicators, entries)
    assert _finding(result.findings, "E9").type == "range-value"
    assert result.evaluations["53-1"] == baseline.evaluations["53-1"]


def test_two_bad_cells_are_both_named(fy2023, baseline):
    entries = _replace(fy2023, SUM_ID, MUNI, "10件以上")
    entries = [e._replace(value="約1件", sheet="千歳市", cells={"value": "E8"})
               if e.indicator_id == SUM_ID and e.municipality == "千歳市" else e for e in entries]
    result = recalculate(fy2023.settings, fy2023.indicators, entries)
    reason = result.evaluations[SUM_ID].reason
    assert "小樽市!E7" in reason and "千歳市!E8" in reason
    assert result.consolidated[SUM_ID].actual == INPUT_ERROR


def test_duplicated_rows_do_not_double_count(fy2023, baseline):
    entries = list(fy2023.entries) + [Entry("小樽市", SUM_ID, "2件", sheet="小樽市", row=8,
                                            cells={"indicator_id": "A8", "value": "E8"})]
    result = recalculate(fy2023.settings, fy2023.indicators, entries)
    assert _finding(result.findings, "A8").type == "duplicate-id"
    _assert_excluded(result, SUM_ID, "小樽市!A8", baseline)


def test_consolidate_alone_refuses_bad_inputs(fy2023):
    ind = next(i for i in fy2023.indicators if i.id == SUM_ID)
    for value in ("10件以上", "-3", "2.5", "▲3件"):
        entries = [e for e in _replace(fy2023, SUM_ID, MUNI, value) if e.indicator_id == SUM_ID]
        r = rollup(ind, entries, fy2023.settings)
        assert r.consolidated.actual == INPUT_ERROR and r.input_errors
        assert consolidate(ind, entries, fy2023.settings).actual == INPUT_ERROR


# --------------------------------------------------------------------- accepted inputs

@pytest.mark.parametrize("value,total", [
    ("１００，０００", "100,019件"), ("3", "22件"), ("３件", "22件"), ("0", "19件"), ("2件", "21件"),
    ("－", "19件"), ("", "19件")])
def test_ordinary_inputs_still_feed_the_total(fy2023, value, total):
    entries = _replace(fy2023, SUM_ID, MUNI, value)
    assert not [f for f in validate(fy2023.settings, list(fy2023.indicators), entries) if f.is_error]
    result = recalculate(fy2023.settings, fy2023.indicators, entries)
    assert result.consolidated[SUM_ID].actual == total


def test_targets_keep_their_bounds_and_status_phrases_stay_inputs():
    assert parse_value("15社以上").at_least and parse_value("15社以上").number == 15
    assert parse_value("２人以上（毎年度）").annual
    with pytest.raises(ValueParseError) as exc:
        parse_input("15社以上")
    assert exc.value.code == "range-value"
    v = parse_input("各１回以上実施")
    assert v.kind == STATUS and v.each
    assert parse_input("100％（毎年度）").number == 100
    assert parse_input("2,500名（毎年度）").kind == NUMBER
    assert bare_number("10件以上", "件") is None and bare_number("10件", "件") == 10


@pytest.mark.parametrize("raw,code", [
    (float("nan"), "unparseable"), (float("inf"), "unparseable"), (float("-inf"), "unparseable"),
    (Decimal("NaN"), "unparseable"), (1e308, "too-large"), (10 ** 100_000, "too-large"),
    (True, "unparseable")], ids=["nan", "inf", "-inf", "Decimal-NaN", "1e308", "10**100000", "True"])
def test_native_numbers_from_a_live_workbook(raw, code):
    with pytest.raises(ValueParseError) as exc:
        parse_input(raw)
    assert exc.value.code == code
    assert JAPANESE.search(str(exc.value))
    assert len(str(exc.value)) < 200


# ----------------------------------------------------------------------------- texts

@pytest.mark.parametrize("length", [CELL_TEXT_LIMIT + 1, CELL_TEXT_LIMIT + 2])
def test_a_status_longer_than_a_cell_is_an_error_and_is_cut_visibly(fy2023, baseline, length):
    """Excel's cell holds 32,767: a status of exactly that is fine in the master (a warning:
    一覧 shows it cut, the tool writes one less); only one longer than any cell is an error."""
    from renkei_xl.core.model import WARNING

    status = "あ" * length
    entries = _replace(fy2023, SUM_ID, MUNI, "2件", status=status)
    ind = next(i for i in fy2023.indicators if i.id == SUM_ID)
    indicators = [i._replace(status_manual="") if i.id == SUM_ID else i
                  for i in fy2023.indicators]
    result = recalculate(fy2023.settings, indicators, entries)
    f = _finding(result.findings, "G7")
    if length == CELL_TEXT_LIMIT + 1:
        assert (f.type, f.severity) == ("text-cut", WARNING)
        assert "32,767文字あり、Excel のセルには入りますが" in f.message and "32,766文字" in f.message
    else:
        assert (f.type, f.severity) == ("text-too-long", ERROR)
        assert "32,768文字あり、Excel の1つのセルに書ける32,767文字を超えています" in f.message
    assert TRUNCATION_MARK in f.message
    text = result.consolidated[SUM_ID].status_text
    assert cell_length(text) == CELL_TEXT_LIMIT and text.endswith(TRUNCATION_MARK)
    assert text.startswith("あああ")
    # A status does not feed the value: the row is still evaluated.
    assert result.consolidated[SUM_ID].actual == "21件"
    assert result.evaluations[SUM_ID] == baseline.evaluations[SUM_ID]
    assert ind.status_manual  # the reference's own text was set aside for this case


def test_statuses_that_only_together_exceed_a_cell(fy2023):
    part = "い" * 12_000
    entries = [e._replace(status=part) if e.indicator_id == SUM_ID else e
               for e in fy2023.entries]
    indicators = [i._replace(status_manual="", cells={"status_manual": "L9"})
                  if i.id == SUM_ID else i for i in fy2023.indicators]
    result = recalculate(fy2023.settings, indicators, entries)
    f = _finding(result.findings, "L9", "指標")
    assert (f.type, f.severity, f.indicator_id) == ("text-too-long", ERROR, SUM_ID)
    text = result.consolidated[SUM_ID].status_text
    assert cell_length(text) == CELL_TEXT_LIMIT and text.endswith(TRUNCATION_MARK)


def test_emoji_count_twice_as_excel_counts_them():
    from renkei_xl.core.values import fit_cell
    text = fit_cell("😀" * 20_000)
    assert cell_length(text) <= CELL_TEXT_LIMIT and text.endswith(TRUNCATION_MARK)


def test_a_control_character_in_a_status_is_an_error_and_dropped(fy2023):
    entries = _replace(fy2023, SUM_ID, MUNI, "2件", status="実施\x07しました")
    indicators = [i._replace(status_manual="") if i.id == SUM_ID else i
                  for i in fy2023.indicators]
    result = recalculate(fy2023.settings, indicators, entries)
    f = _finding(result.findings, "G7")
    assert (f.type, f.severity) == ("control-character", ERROR) and "U+0007" in f.message
    assert "実施しました" in result.consolidated[SUM_ID].status_text


# Every text of 指標 that 一覧 shows, 役割 included: Excel saves a control character typed or
# pasted into a cell as 「_x0007_」, which every reader turns back into U+0007. In 役割 it
# was taken without a word (dropped on 一覧), where the same in 連携事業名 was an error on
# its cell. Found by qa-91.
@pytest.mark.parametrize("field,cell,label", [("role", "B9", "役割"), ("project_name", "D9", "連携事業名"),
                                              ("summary", "E9", "事業概要"), ("name", "F9", "評価指標"),
                                              ("status_manual", "L9", "実施状況（手入力）")])
def test_a_control_character_in_any_text_of_the_list_is_an_error(fy2023, field, cell, label):
    ind = next(i for i in fy2023.indicators if i.id == "06-1")
    ind = ind._replace(**{field: "連携\x07" + (getattr(ind, field) or "実施")}, cells={field: cell})
    f = _finding(validate(fy2023.settings, [ind], []), cell, "指標")
    assert (f.type, f.severity) == ("control-character", ERROR) and "U+0007" in f.message and label in f.message


def test_long_indicator_texts_are_errors(fy2023):
    ind = next(i for i in fy2023.indicators if i.id == "06-1")._replace(
                              summary="う" * 40_000, cells={"summary": "E9"})
    f = _finding(validate(fy2023.settings, [ind], []), "E9", "指標")
    assert (f.type, f.severity) == ("text-too-long", ERROR) and "事業概要" in f.message


# -------------------------------------------------------------------------- settings

NAMES = {"圏域名": ("設定", "B2"), "対象年度": ("設定", "B3"), "基準日": ("設定", "B4"),
         "概ね達成閾値": ("設定", "B5")}


def _book(year=2023, threshold=0.85, municipalities=(("札幌市", "中心市"), ("小樽市", "連携市町村")),
          base="end of year", region="テスト圏"):
    if base == "end of year":
        base = dt.datetime(year + 1 if isinstance(year, int) and not isinstance(year, bool) else 2024, 3, 31)
    grid = [["基本設定"], ["圏域名", region], ["対象年度", year],
            ["基準日", base], ["概ね達成閾値", threshold], [], [],
            ["市町村一覧"], ["市町村名", "区分", "担当部署", "メールアドレス"]]
    grid += [list(m) for m in municipalities]
    return Book({"設定": grid}, NAMES)


@pytest.mark.parametrize("value,fragment", [
    (1.5, "150%"), ("150%", "150%"), (150, "150%"), (0, "0%"), (-0.1, "-10%"), ("abc", "読めません"),
    (85.5, "8550%"), ("1.5", "150%"), (float("nan"), "読めません"), (None, "割合で入力"),
    ("", "割合で入力"), (True, "割合で入力"), ("85", None), ("-85%", "-85%"), ("9" * 100_000, "読めません"),
    ("٠.٨٥", "読めません"), ("٨٥%", "読めません"), ("𝟴𝟱%", "読めません")],
    ids=lambda v: repr(v)[:12] if not isinstance(v, str) or len(v) < 30 else "long")
def test_threshold_outside_0_to_100_percent_is_refused(value, fragment):
    if fragment is None:
        assert read_settings(_book(threshold=value)).threshold == pytest.approx(0.85)
        return
    with pytest.raises(UserError) as exc:
        read_settings(_book(threshold=value))
    msg = str(exc.value)
    assert msg.startswith("設定!B5: 概ね達成閾値") and fragment in msg and len(msg) < 300


@pytest.mark.parametrize("value,expected", [
    (85, 0.85), (0.85, 0.85), (100, 1.0), (1, 1.0), ("85%", 0.85), ("８５％", 0.85), ("0.85", 0.85),
    ("85.5%", 0.855), (0.5, 0.5)])
def test_threshold_forms_that_are_accepted(value, expected):
    assert read_settings(_book(threshold=value)).threshold == pytest.approx(expected)


@pytest.mark.parametrize("value,fragment", [
    (23, "2000～2100"), (1999, "2000～2100"), (3000, "2000～2100"), ("令和5", "「2023」"),
    ("令和5年度", "「2023」"), (2023.5, "西暦の整数"), ("abc", "西暦の整数"), (None, "西暦の整数"),
    (True, "西暦の整数"), ("9" * 100_000, "西暦の整数"), ("٢٠٢٣", "西暦の整数"), ("𝟮𝟬𝟮𝟯", "西暦の整数")],
    ids=lambda v: repr(v)[:12] if not isinstance(v, str) or len(v) < 30 else "long")
def test_implausible_years_are_refused(value, fragment):
    with pytest.raises(UserError) as exc:
        read_settings(_book(year=value))
    msg = str(exc.value)
    assert msg.startswith("設定!B3: 対象年度") and fragment in msg and len(msg) < 300


@pytest.mark.parametrize("value,expected", [(2023, 2023), (2023.0, 2023), ("２０２３", 2023),
                                            (2000, 2000), (2100, 2100)])
def test_plausible_years(value, expected):
    assert read_settings(_book(year=value)).fiscal_year == expected


@pytest.mark.parametrize("value,fragment", [
    (0, "日付ではありません"), (0.0, "日付ではありません"), (dt.time(0, 0), "日付ではありません"),
    (-1.0, "0 以下の数か時刻"), (-0.25, "0 以下の数か時刻"),
    (dt.timedelta(0), "日付ではありません"), (dt.datetime(1899, 12, 30), "対象年度（2023年度）と合いません"),
    (dt.datetime(1999, 4, 1), "対象年度（2023年度）と合いません"), ("2026/04/01", "対象年度（2023年度）と合いません"),
    ("R٦.3.31", "数字として読めません"), ("2024/٠3/31", "数字として読めません"),
    ("2024年", "月と日がありません"), ("令和6年", "月と日がありません"),
    (dt.datetime(2023, 3, 31), "2023/04/01 から 2025/03/31")])
def test_a_base_date_that_is_no_date_of_the_year_is_refused_naming_its_cell(value, fragment):
    """0 (a cleared date cell, 「=IF(…,"",0)」) reached the buttons as the serial 0 and was
    accepted as 1899/12/30, which split then wrote into every input file; the file face read
    it as a time and said 「00:00:00」. A date of another year went into every file too."""
    with pytest.raises(UserError) as exc:
        read_settings(_book(base=value))
    msg = str(exc.value)
    assert msg.startswith("設定!B4: 基準日") and fragment in msg, msg


@pytest.mark.parametrize("value,expected", [
    (dt.datetime(2024, 3, 31), dt.date(2024, 3, 31)), (45382, dt.date(2024, 3, 31)), ("R6.3.31", dt.date(2024, 3, 31)),
    ("令和6年3月31日", dt.date(2024, 3, 31)), ("R6.3月", dt.date(2024, 3, 31)), (dt.datetime(2024, 3, 31, 17), dt.date(2024, 3, 31)),
    (dt.datetime(2023, 4, 1), dt.date(2023, 4, 1)), (dt.datetime(2025, 3, 31), dt.date(2025, 3, 31)),
    (None, None), ("", None)])
def test_a_base_date_in_the_year_or_the_year_after_reads(value, expected):
    assert read_settings(_book(base=value)).base_date == expected


def test_an_empty_municipality_table_is_refused():
    with pytest.raises(UserError) as exc:
        read_settings(_book(municipalities=()))
    msg = str(exc.value)
    assert "市町村の一覧が空です" in msg and "設定" in msg and "設定!A10" in msg


@pytest.mark.parametrize("first,typed", [("南幌町", "南幌　町"), ("南幌町", "南 幌町"), ("ニセコ町", "ﾆｾｺ町")])
def test_one_municipality_typed_twice_in_settings_is_refused_naming_both(first, typed):
    """「南幌町」 and 「南幌　町」 in 設定 (a row typed again with a space, or in half-width
    kana): read as two municipalities, the second had no sheet, and its finding pointed at
    the first one's own sheet as 「名前が違います」, inviting staff to rename the wrong sheet.
    Refused at the row, naming the first; two municipalities never differ by width or
    spaces alone. (Trailing spaces are stripped from every cell: 「南幌町 」 is a plain duplicate.)"""
    rows = (("札幌市", "中心市"), (first, "連携市町村"), ("小樽市", "連携市町村"), (typed, "連携市町村"))
    with pytest.raises(UserError) as exc:
        read_settings(_book(municipalities=rows))
    msg = str(exc.value)
    assert msg.startswith("設定!A13: ") and f"「{typed}」は、上の行の「{first}」と" in msg and "重複した行を削除" in msg, msg
    with pytest.raises(UserError, match="が重複しています"):
        read_settings(_book(municipalities=rows[:3] + ((first + " ", "連携市町村"),)))


@pytest.mark.parametrize("edit", ["row deleted", "kind cleared"])
def test_a_settings_list_left_without_its_central_city_in_calc_is_refused_naming_it(sample_master_xlsm, tmp_path,
                                                                                       capsys, edit):
    """Staff delete 札幌市's row of 設定's list in Calc (行の削除), or clear its 区分 (a blank
    区分 reads as 連携市町村). With no 中心市 every 中心市のみ row (65 of FY2023's) went ―
    未集計 and recalc, then export wrote a 確定版 of them, exit 0 and only a warning about
    札幌市's sheet. Refused, naming the 区分 column, before anything is written."""
    from realbooks import lo_formulas_edit, lo_rows_edit

    from renkei_xl.cli import main

    master = tmp_path / "master.xlsm"
    if edit == "row deleted":
        lo_rows_edit(sample_master_xlsm, master, "設定", remove_row=10)
    else:
        lo_formulas_edit(sample_master_xlsm, master, {("設定", "B10"): ""})
    before = master.read_bytes()
    for command in (["recalc"], ["export", "-o", str(tmp_path / "確定版.xlsx")]):
        assert main([*command, str(master)]) == 2
        err = capsys.readouterr().err
        assert "設定!B10: 市町村の一覧に区分「中心市」の市町村がありません" in err, err
    assert master.read_bytes() == before
    assert not (tmp_path / "確定版.xlsx").exists()


def test_a_sheet_staff_sorted_with_its_header_in_calc_is_named_never_read_short(sample_master_xlsm, tmp_path, capsys):
    """Staff sort 小樽市 (A1:G8) in Calc with 「範囲に列見出しを含む」 unticked: 「指標ID」 sorts
    after every ID, the header lands on row 8 and the rows above it were not read. 小樽市's
    figures fell out of every total (04-1 ◎ became □, 28-1 □ became ×) with warnings that its
    rows were missing, export wrote that, and split handed out empty forms. Now the first row
    above the header is named: 小樽市's indicators are － on that finding, split refuses.
    (指標 sorted so has its header past the 20 rows searched: refused as missing already.)"""
    from realbooks import lo_rows_edit

    from renkei_xl.cli import main

    master = lo_rows_edit(sample_master_xlsm, tmp_path / "master.xlsm", "小樽市", sort="A1:G8", sort_header=False)
    said = "小樽市!A1 の「04-1」の行は、見出し行（小樽市!A8）より上にあるため読まれず"
    before = master.read_bytes()
    assert main(["split", "--outdir", str(tmp_path / "配布"), str(master)]) == 2
    assert said in capsys.readouterr().err
    assert master.read_bytes() == before
    assert main(["recalc", str(master)]) == 1
    out = capsys.readouterr().out
    assert f"[エラー] 小樽市!A1: {said}" in out and "行がありません" not in out, out
    assert "－11" in out, out     # 小樽市's 7 indicators － on the finding, not totals without it


@pytest.mark.parametrize("region", ["", None, " \u3000 "])
def test_an_empty_region_is_refused_naming_its_cell_before_any_title_is_made(region):
    """An empty 圏域名 passed 入力チェック; recalc titled 一覧 「 2023年度 …」 and export wrote
    「_2023年度_連携事業実施状況等一覧.xlsx」 with it, while only the mail refused it (naming no
    cell). 設定 is read once for every command and face: refused there, naming 設定!B2."""
    with pytest.raises(UserError) as exc:
        read_settings(_book(region=region))
    assert str(exc.value).startswith("設定!B2: 圏域名が空です。"), exc.value


def test_two_central_cities_are_refused_naming_both_cells():
    """「区分「中心市」は1つだけに」 named no cell: staff searched 設定's table for the second one."""
    rows = (("札幌市", "中心市"), ("小樽市", "連携市町村"), ("江別市", "中心市 "))
    with pytest.raises(UserError) as exc:
        read_settings(_book(municipalities=rows))
    msg = str(exc.value)
    assert msg.startswith("設定!B12: 区分「中心市」が 2 つあります: 設定!B10（札幌市）、設定!B12（江別市）。"), msg


@pytest.mark.parametrize("sheet,renamed", [("設定", "設定 "), ("設定", "設定\u3000"), ("指標", "指標 ")])
def test_a_required_sheet_renamed_by_a_slip_is_named(sheet, renamed):
    """A tab renamed by a slip (a space typed after 「設定」) was told only 「シート「設定」が
    ありません」 (and by the server's buttons, that the book is no master at all)."""
    from renkei_xl.core.contract_read import read_indicators

    book = _book()
    if sheet == "設定":
        book.sheets[renamed] = book.sheets.pop("設定")
        with pytest.raises(UserError) as exc:
            read_settings(book)
    else:
        book.sheets[renamed] = [["指標ID"]]
        with pytest.raises(UserError) as exc:
            read_indicators(book)
    assert str(exc.value).startswith(f"シート「{sheet}」がありません（シート「{renamed}」は名前が違います。"), exc.value
    assert str(exc.value).endswith(f"シートの名前を「{sheet}」に戻してください"), exc.value


def test_settings_that_read_well():
    s = read_settings(_book())
    assert (s.fiscal_year, s.threshold, s.names) == (2023, 0.85, ("札幌市", "小樽市"))


@pytest.mark.parametrize("method", ["", "ごうけい", "#N/A", 3])
def test_a_bad_sum_method_is_one_finding_and_its_row_is_left_out(fy2023, baseline, method):
    """A 集計方法 that is blank, not a method, an error value or a number: one error on its
    cell (validation's, not a second from the roll-up), the row －, left out of the 達成割合
    as any input error, and the municipalities' rows of it read without a crash (what they
    feed is unknown, so no "fed nothing" warning either)."""
    cells = {"method": "I8", "target": "G8"}
    indicators = [i._replace(method=method, row=8, cells=cells) if i.id == SUM_ID else i
                  for i in fy2023.indicators]
    result = recalculate(fy2023.settings, indicators, fy2023.entries)
    found = [f for f in result.findings if f.indicator_id == SUM_ID]
    assert [(f.sheet, f.cell, f.severity) for f in found] == [("指標", "I8", ERROR)], found
    assert JAPANESE.search(found[0].message) and (str(method) in found[0].message or method == "")
    assert result.evaluations[SUM_ID].symbol == NOT_EVALUABLE
    assert result.summary.evaluable == baseline.summary.evaluable - 1
    assert result.summary.left_out == baseline.summary.left_out + 1
    assert {i: e.symbol for i, e in result.evaluations.items() if i not in (SUM_ID, "01-1")} == \
        {i: e.symbol for i, e in baseline.evaluations.items() if i not in (SUM_ID, "01-1")}


# A bidirectional override, embedding or isolate shows as nothing and reorders the text after
# it: 「\u202e達成済み」 shows 「み済成達」, so a 実施状況 or 評価指標 pasted with one was published
# on 一覧 reading other than what was typed, without a word. Named on its cell, as a control
# character is, and dropped from 一覧 alike; the marks U+200E/U+200F (web text) move nothing here.
@pytest.mark.parametrize("char", ["\u202e", "\u202d", "\u202b", "\u2067", "\u2066"])
def test_a_bidirectional_control_in_a_status_is_named_and_not_published(fy2023, char):
    entries = _replace(fy2023, SUM_ID, MUNI, "2件", status=f"実施{char}しました")
    indicators = [i._replace(status_manual="") if i.id == SUM_ID else i
                  for i in fy2023.indicators]
    result = recalculate(fy2023.settings, indicators, entries)
    f = _finding(result.findings, "G7")
    assert (f.type, f.severity) == ("control-character", ERROR), f
    assert f"U+{ord(char):04X}" in f.message and "文字の向きを変える" in f.message, f.message
    assert "実施しました" in result.consolidated[SUM_ID].status_text


@pytest.mark.parametrize("field,cell,label", [("role", "B9", "役割"), ("name", "F9", "評価指標"),
                                              ("status_manual", "L9", "実施状況（手入力）")])
def test_a_bidirectional_control_in_a_text_of_the_list_is_named(fy2023, field, cell, label):
    from renkei_xl.core.values import published

    ind = next(i for i in fy2023.indicators if i.id == "06-1")
    typed = "連携\u202e" + (getattr(ind, field) or "実施")
    ind = ind._replace(**{field: typed}, cells={field: cell})
    f = _finding(validate(fy2023.settings, [ind], []), cell, "指標")
    assert (f.type, f.severity) == ("control-character", ERROR) and "U+202E" in f.message and label in f.message
    assert published(typed) == typed.replace("\u202e", "")


def test_the_direction_marks_of_pasted_web_text_are_left():
    from renkei_xl.core.values import dropped_char, published

    assert dropped_char("連携\u200e事業\u200f") is None
    assert published("連携\u200e事業") == "連携\u200e事業"


def test_every_bidirectional_control_is_found_in_a_long_status_with_line_breaks():
    """dropped_char asks one character class made from BIDI_CONTROLS (a search in C: the set's
    isdisjoint hashed every character of every status, stop 65): each control is found in a
    long multi-line status as in a short text, the first one in the text is the one named,
    and the direction marks of pasted web text are not."""
    from renkei_xl.core.values import BIDI_CONTROLS, dropped_char

    status = "・札幌市：各種イベントを実施しました。\n" * 40
    for ch in sorted(BIDI_CONTROLS):
        assert dropped_char(status + ch + "事業\u202a") == ch, hex(ord(ch))
        assert dropped_char(ch) == ch
    assert dropped_char(status + "\u200e\u200f\u2065\u202f\u2029") is None

"""The value parser against every distinct 基準値/目標値/実績値 string of the FY2023 list."""

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from renkei_xl.core.values import (EMPTY, NUMBER, STATUS, ValueParseError, format_number,
                              parse_value)

TABLE = Path(__file__).parent / "data" / "values_fy2023.tsv"


def _rows():
    with open(TABLE, encoding="utf-8") as fh:
        lines = [l for l in fh.read().splitlines() if l and not l.startswith("#")]
    return [tuple(l.split("\t")) for l in lines]


ROWS = _rows()


def test_table_covers_every_distinct_string_of_the_seed(fy2023):
    strings = set()
    for ind in fy2023.indicators:
        strings |= {ind.baseline, ind.target, fy2023.official_actual[ind.id]}
    assert strings == {r[0] for r in ROWS}


@pytest.mark.parametrize("raw,kind,number,unit,status,flags,deadline,notes", ROWS,
                         ids=[r[0] for r in ROWS])
def test_seed_string(raw, kind, number, unit, status, flags, deadline, notes):
    v = parse_value(raw)
    assert v.kind == kind
    assert (v.number is None and number == "") or v.number == Decimal(number)
    assert v.unit == unit
    assert v.status == status
    got_flags = {f for f in ("per_year", "each", "at_least", "negative") if getattr(v, f)}
    assert got_flags == set(filter(None, flags.split(",")))
    assert str(v.deadline or "") == deadline
    assert ",".join(f"{n.kind}:{n.year or ''}" for n in v.notes) == notes


@pytest.mark.parametrize("raw,expected", [
    ("27兆９千億円", Decimal("27900000000000")),
    ("1億408万円", Decimal("104080000")),
    ("31千人", Decimal("31000")),
    ("43.9万人", Decimal("439000")),
    ("１２件", Decimal("12")),
    ("１，２３４人", Decimal("1234")),
    ("▲2,805人", Decimal("-2805")),
    ("△5件", Decimal("-5")),
    ("3千5百件", Decimal("3500")),
    ("2億円", Decimal("200000000")),
    ("−5件", Decimal("-5")),          # U+2212, the minus sign: it was unreadable
    ("−2,805人", Decimal("-2805")),
])
def test_multipliers_and_widths(raw, expected):
    assert parse_value(raw).number == expected


@pytest.mark.parametrize("raw,fragment", [
    ("約10件", "概数"),
    ("10件程度", "概数"),
    ("1,00件", "カンマ"),
    ("5万3億円", "順序"),
    ("10ドル", "単位「ドル」"),
    ("10件（来年度）", "注記「来年度」"),
    ("10件（2023年度", "括弧"),
    ("よろしく", "読めません"),
    ("1 7", "数字の間に空白"),
    ("１　７件", "数字の間に空白"),
    ("2024-03-01", "日付として入力されています"),      # a date cell, as the readers give it
    ("1900-01-03", "日付として入力されています"),      # 3 typed into a cell formatted m/d
    ("2024-03-01 00:00:00", "日付として入力されています"),
    ("10～12", "範囲の表記（「～」）です。範囲ではなく、1つの数値だけを"),   # was 「単位「~12」を認識できません」
    ("10〜12件", "範囲の表記（「〜」）"),                                   # the wave dash, as IMEs give it, as typed
    ("10~12", "範囲の表記（「~」）"),
    ("10件～12件", "範囲の表記（「～」）"),
    ("一万", "「一」は漢数字です"),                  # kanji digits: were 「読めません」 with no why
    ("二十件", "「二」は漢数字です"),
    ("一部実施", "読めません"),                      # a word, not a number in kanji
    ("Ⅻ", "「Ⅻ」はローマ数字です。数字は半角か全角の 0～9 で入力してください（「Ⅻ」なら「12」）"),   # was 「読めません」
    ("ⅲ件", "「ⅲ」はローマ数字です"),               # NFKC folds them into letters, no number
    ("ⅠⅤ", "「ⅠⅤ」はローマ数字です。数字は半角か全角の 0～9 で入力してください"),    # no sum offered for two
    ("Ⅱ期計画", "読めません"),                     # a word with a numeral in it
])
def test_unreadable_values_get_a_precise_reason(raw, fragment):
    with pytest.raises(ValueParseError) as exc:
        parse_value(raw)
    assert fragment in str(exc.value)
    assert raw in str(exc.value)


def test_a_line_break_between_digits_is_refused_and_shown():
    """Alt+Enter inside 17: never read as 17 (spaces are dropped from statuses, not numbers)."""
    with pytest.raises(ValueParseError) as exc:
        parse_value("1\n7")
    assert "「1⏎7」は数字の間に改行があります" in str(exc.value)
    assert parse_value("維持 ・ 改善").kind == parse_value("維持・改善").kind
    assert parse_value("17 件").number == 17


def test_symbols_are_classified_before_normalisation():
    # － (U+FF0D) and ― (U+2015) are both "no value" in a value column, while NFKC would
    # turn － into an ASCII minus that reads as a sign.
    assert parse_value("－").kind == EMPTY
    assert parse_value("―").kind == EMPTY
    assert parse_value("－5件").number == Decimal("-5")


def test_excel_numbers_pass_through():
    assert parse_value(12).number == Decimal(12)
    assert parse_value(0.629).kind == NUMBER
    assert parse_value(None).kind == EMPTY


def test_status_words():
    assert parse_value("未構築").negative
    assert parse_value("常時").kind == STATUS and not parse_value("常時").negative


FULL = str.maketrans("0123456789,", "０１２３４５６７８９，")


def _kanji(n: int) -> str:
    """Render n with 兆/億/万 sections, each section plain digits or 「X千」 when it can."""
    parts = []
    for unit, size in (("兆", 10**12), ("億", 10**8), ("万", 10**4)):
        q, n = divmod(n, size)
        if q:
            parts.append((f"{q // 1000}千" if q % 1000 == 0 else str(q)) + unit)
    if n or not parts:
        parts.append(str(n))
    return "".join(parts)


@given(st.integers(min_value=0, max_value=10**15))
def test_plain_and_comma_forms_round_trip(n):
    assert parse_value(f"{n}件").number == n
    assert parse_value(f"{n:,}件").number == n
    assert parse_value(f"{n:,}件".translate(FULL)).number == n


@given(st.integers(min_value=1, max_value=10**15 - 1))
def test_kanji_sections_round_trip(n):
    assert parse_value(_kanji(n) + "円").number == n
    assert parse_value(_kanji(n).translate(FULL) + "円").number == n


@given(st.integers(min_value=-10**9, max_value=10**9))
def test_format_then_parse(n):
    assert parse_value(format_number(Decimal(n), "人")).number == n


@given(st.decimals(min_value=0, max_value=10**6, places=1, allow_nan=False))
def test_decimal_ten_thousands(d):
    assert parse_value(f"{d}万人").number == d * 10000


@pytest.mark.parametrize("raw,code,fragment", [
    ("10件以下", "range-value", "以下"), ("5未満", "range-value", "未満"), ("10超", "range-value", "超"),
    ("10件以内", "range-value", "以内"), ("10件（見込み）", "approximate-value", "見込"),
    ("約10件", "approximate-value", "約"), ("1e308", "unparseable", "指数表記"),
    ("10\x07件", "control-character", "U+0007"), ("9" * 101, "too-large", "大きすぎる"), ("あ" * 101, "too-long", "長すぎます"),
    ("9" * 21 + "件", "too-large", "桁数"),
])
def test_every_column_refuses_approximations_and_open_ranges(raw, code, fragment):
    with pytest.raises(ValueParseError) as exc:
        parse_value(raw)
    assert exc.value.code == code and fragment in str(exc.value)


def test_inputs_refuse_at_least_and_huge_numbers_targets_do_not():
    from renkei_xl.core.values import parse_input
    assert parse_value("15社以上").at_least
    for raw, code in (("15社以上", "range-value"), ("１０件以上", "range-value"),
                      ("1,000兆円", "too-large"), (float("nan"), "unparseable")):
        with pytest.raises(ValueParseError) as exc:
            parse_input(raw)
        assert exc.value.code == code
    assert parse_input("各１回以上実施").each
    assert parse_input("999兆円").number == Decimal(999) * 10 ** 12


def test_every_fy2023_input_is_still_accepted(fy2023):
    from renkei_xl.core.values import parse_input
    for ind in fy2023.indicators:
        parse_input(ind.actual_manual)
        parse_input(fy2023.official_actual[ind.id])
    for e in fy2023.entries:
        parse_input(e.value)
        parse_input(e.denominator)


@pytest.mark.parametrize("value,shown", [
    (20.999999999999996, "21"), (0.1 + 0.2, "0.3"), (2.0000000000000004, "2"), (1e-7, "0.0000001"),
    (12345678901234568.0, "12345678901234600"), (123456789012345.67, "123456789012346"), (0.68, "0.68"),
    (17.0, "17"), (-0.0, "0"), (1234.5, "1234.5")])
def test_a_number_reads_with_the_15_significant_digits_excel_keeps(value, shown):
    """One rule on every face: the file reader and xlwings' COM engine hand over the whole
    double, xlwings' VBA client the 15 digits CStr writes. A formula's 20.999999999999996,
    which Excel shows as 21, was a 小数 error on the command line and 21 on the server."""
    from renkei_xl.core.contract_read import text

    assert text(value) == shown
    assert text(float(format(value, ".15g"))) == shown      # what the VBA client sends reads alike


def test_the_state_list_offers_every_word_the_rules_read_and_nothing_else():
    """「改善」 was read by the rules (◎ for a 「維持・改善」 target) but missing from 状態一覧,
    so choosing it was impossible and typing it drew 「一覧にない言葉です」; 「未策定」 「中止」
    likewise. Every word the rules read as a state is offered, bar a spelling of an offered
    word (「実施済み」) and the words only a target states; every offered word reads as one."""
    from renkei_xl.core.contract import STATE_CHOICES

    assert {"改善", "未策定", "中止"} <= set(STATE_CHOICES)
    from renkei_xl.core.choices import STATE_SPELLINGS, TARGET_STATES, UNCOUNTED_STATE
    from renkei_xl.core.values import NEGATIVE_STATUS, POSITIVE_STATUS, UNCOUNTED

    read = POSITIVE_STATUS | NEGATIVE_STATUS
    assert read - set(STATE_SPELLINGS) - set(TARGET_STATES) == set(STATE_CHOICES) - {UNCOUNTED_STATE}
    assert len(set(STATE_CHOICES)) == len(STATE_CHOICES)
    for word in STATE_CHOICES:
        assert parse_value(word).kind == (UNCOUNTED if word == UNCOUNTED_STATE else STATUS), word
    for spelling in STATE_SPELLINGS:
        assert spelling.rstrip("済み") in STATE_CHOICES


@pytest.mark.parametrize("typed", ["◎", "〇", "○", "◯", "□", "×", "✕", "✖", " × ", "　◎　",
                                   "Ｘ", "ｘ", "⭕", "❌", "▢"])   # full-width letters, an IME's まる・ばつ
def test_a_symbol_typed_as_a_value_is_named_as_a_symbol(typed):
    """A 実績値（手入力） of 「〇」 (達成 to the one who typed it) was refused as a kanji digit,
    「◎」 as unreadable: both say now that the symbol is the tool's to compute."""
    from renkei_xl.core.values import parse_input

    with pytest.raises(ValueParseError, match="評価の記号のようです") as exc:
        parse_input(typed)
    assert "漢数字" not in str(exc.value)


@pytest.mark.parametrize("typed, under_way", [("策定中", True), ("検討中", True), ("完了予定", True),
                                              ("開設中", False), ("実施中", False), ("集計中", False)])
def test_a_word_of_work_under_way_is_told_what_to_enter(typed, under_way):
    """「策定中」 against 「2030年度まで」 was 「数値・状態・期限のいずれとしても読めません」 with the hint
    「例: 20件、1,500人…」: it is said to be work under way, with 「未完了」 to enter. 「開設中」
    (open now) is not: a state kept may meet its target."""
    from renkei_xl.core.values import parse_input

    with pytest.raises(ValueParseError) as exc:
        parse_input(typed)
    assert ("「未完了」" in str(exc.value)) == under_way, exc.value


@pytest.mark.parametrize("typed", ["集計中", "確認中", "未確定"])
def test_a_figure_not_counted_yet_is_told_to_be_entered_as_such(typed):
    from renkei_xl.core.values import parse_input

    with pytest.raises(ValueParseError, match="「（未集計）」と入力してください"):
        parse_input(typed)


@pytest.mark.parametrize("text, year", [("10件（2025年度末）", 2025), ("10件（2025年度末時点）", 2025),
                                        ("10件（令和5年度末）", 2023), ("10件（2024年度現在）", 2024),
                                        ("完了（2025年度末）", 2025)])
def test_a_note_of_the_end_of_a_year_is_read_as_of_that_year(text, year):
    """「（2025年度末）」 was refused 「注記を解釈できません」 while 「（2025年度末まで）」 and
    「（2025年度）」 were read: the figure as of the end of that year is a note of that year."""
    from renkei_xl.core.values import NOTE_ASOF

    (note,) = parse_value(text).notes
    assert (note.kind, note.year) == (NOTE_ASOF, year)


# A deadline as staff write one (SPEC 3): 「2025年度中」 and the like were 「単位「年度中」を認識
# できません」, 「2024年3月まで」 「単位「年3月まで」を認識できません」.
@pytest.mark.parametrize("text, year, due", [
    ("2025年度中", 2025, None), ("2025年度内", 2025, None), ("2025年度までに", 2025, None),
    ("2025年度末まで", 2025, None), ("2025年度末までに", 2025, None), ("2025年度中に", 2025, None),
    ("令和7年度中", 2025, None), ("R7年度内", 2025, None), ("Ｒ７年度までに", 2025, None),
    ("2024年3月まで", 2023, "2024-03-31"), ("2024年3月末まで", 2023, "2024-03-31"),
    ("令和6年3月末まで", 2023, "2024-03-31"), ("R6.3月まで", 2023, "2024-03-31"),
    ("2024年9月まで", 2024, "2024-09-30"), ("令和6年9月末まで", 2024, "2024-09-30"),
    ("２０２４年２月末日までに", 2023, "2024-02-29"), ("2024/3/31まで", 2023, "2024-03-31"),
    ("令和6年4月1日まで", 2024, "2024-04-01"),
    # 「以内」 after a year is 「内」 (it was the range refusal, 「数値だけを入力してください」).
    ("2025年度以内", 2025, None), ("令和7年度以内に", 2025, None), ("2024年3月末以内", 2023, "2024-03-31"),
])
def test_a_deadline_as_staff_write_it_names_its_year_and_its_day(text, year, due):
    """A month names its 年度 without a guess (April–March: 2024年3月 is 2023年度); its last day
    is the deadline's day, which the rule compares with 基準日 (rules._deadline)."""
    import datetime as dt

    from renkei_xl.core.deadlines import target_year
    from renkei_xl.core.values import DEADLINE

    v = parse_value(text)
    assert (v.kind, v.deadline, v.due) == (DEADLINE, year, due and dt.date.fromisoformat(due))
    assert target_year(text) == year


@pytest.mark.parametrize("text, year", [("10件（2025年度中）", 2025), ("10件（令和7年度内）", 2025),
                                        ("10件（2025年度末までに）", 2025)])
def test_a_note_of_a_deadline_takes_the_same_words(text, year):
    from renkei_xl.core.values import NOTE_UNTIL

    (note,) = parse_value(text).notes
    assert (note.kind, note.year) == (NOTE_UNTIL, year)


@pytest.mark.parametrize("text, says", [
    ("2025年まで", "期限は「2025年度まで」または「2025年12月まで」のように書いてください"),
    ("2025年", "期限は「2025年度まで」または「2025年12月まで」のように書いてください"),
    ("令和7年まで", "期限は「令和7年度まで」または「令和7年12月まで」のように書いてください"),
    ("2024年3月", "期限なら「2024年3月まで」のように「まで」を付けて書いてください"),
    ("令和6年度3月まで", "「2025年度まで」「令和7年度中」「2025年12月まで」「令和6年3月末まで」「2024/3/31まで」"),
    ("2024/3/31末", "日付の後に付けられるのは「まで」「までに」です"),
    ("10件（2024年3月まで）", "「（2025年度まで）」のように年度で書いてください"),
    ("10件（2025年まで）", "「（2025年度まで）」のように年度で書いてください"),
    ("10件（2025年度上期まで）", "は年度ではなく月・日付・半期・暦年です。"),
])
def test_a_time_that_is_no_deadline_is_refused_saying_what_to_type(text, says):
    """「2025年まで」: a calendar year ends three months before the 年度 of its number, so which
    was meant cannot be told; it was 「単位「年まで」を認識できません」, which said nothing of
    what to type. The finding's hint lists the forms that work (findings.PARSE_HINTS)."""
    from renkei_xl.core import findings as F
    from renkei_xl.core.values import DEADLINE_FORM

    with pytest.raises(ValueParseError) as caught:
        parse_value(text)
    assert caught.value.code == DEADLINE_FORM and says in str(caught.value), str(caught.value)
    assert "単位" not in str(caught.value)
    assert "「2024/3/31まで」" in F.UNREADABLE[DEADLINE_FORM].hint


@pytest.mark.parametrize("text", ["100人（2025年度までの累計）", "100人（2025年度の累計）", "100人（令和7年度までの累計）"])
def test_a_deadline_followed_by_words_no_note_has_names_the_words(text):
    """「…年度までの累計」 was told it was 「年度ではなく月・日付・半期・暦年」: a 年度 it is; 「の累計」
    is what no note reads."""
    with pytest.raises(ValueParseError) as caught:
        parse_value(text)
    said = str(caught.value)
    assert "「の累計」を解釈できません" in said and "月・日付" not in said and "使える注記" in said, said


@pytest.mark.parametrize("text, number", [("2024.3", Decimal("2024.3")), ("2025件", Decimal(2025)),
                                          ("1,000件", Decimal(1000))])
def test_a_number_that_starts_like_a_year_stays_a_number(text, number):
    v = parse_value(text)
    assert (v.kind, v.number, v.due) == (NUMBER, number, None)


def test_a_date_cell_in_a_value_column_says_how_to_type_a_deadline():
    """A target typed 「2024年3月」 is made a date by Excel (read back 「2024-03-01 00:00:00」):
    the refusal says that 「まで」 keeps a deadline a text."""
    with pytest.raises(ValueParseError, match="「2024年3月まで」「2024/3/31まで」のように「まで」を付けて"):
        parse_value("2024-03-01 00:00:00")


@pytest.mark.parametrize("text", ["2025年度末頃", "令和6年度3月まで", "2024年13月まで", "R6.13月まで", "R0年度まで",
                                  "2025年2月30日まで", "2024/13/1まで"])
def test_a_deadline_that_cannot_be_read_offers_the_forms_that_work(text):
    """「2025年度末頃」 was 「単位「年度末頃」を認識できません」; 「R6.13月まで」 「数値・状態・期限の
    いずれとしても読めません」, which said nothing of what to type."""
    from renkei_xl.core.values import DEADLINE_EXAMPLES, DEADLINE_FORM

    with pytest.raises(ValueParseError) as caught:
        parse_value(text)
    assert caught.value.code == DEADLINE_FORM and DEADLINE_EXAMPLES in str(caught.value), str(caught.value)


@pytest.mark.parametrize("text, due", [("2024.12まで", "2024-12-31"), ("2024.3まで", "2024-03-31")])
def test_a_dotted_month_deadline_is_its_month(text, due):
    """「2024.12まで」 was a deadline of 2024-01-31 (dateutil took 「2024.12」 for a decimal)."""
    import datetime as dt

    assert parse_value(text).due == dt.date.fromisoformat(due)


@pytest.mark.parametrize("text, year, due", [
    ("2025年度上期まで", 2025, "2025-09-30"), ("令和７年度上期まで", 2025, "2025-09-30"),
    ("２０２５年度上半期中", 2025, "2025-09-30"), ("2025年度下期まで", 2025, "2026-03-31"),
    ("R7年度下半期末まで", 2025, "2026-03-31"), ("2025年度第１四半期まで", 2025, "2025-06-30"),
    ("2025年度第3四半期中に", 2025, "2025-12-31"), ("2025年度末迄", 2025, None), ("令和7年度迄に", 2025, None),
    ("2024/3/31迄", 2023, "2024-03-31"),
])
def test_a_deadline_to_a_half_or_a_quarter_of_a_year_or_with_迄_is_read(text, year, due):
    """「2025年度上期まで」 (April–September, as a 年度 is halved) and 「令和7年度迄」 (まで as
    official documents write it) were refused, the first saying only to write another form."""
    import datetime as dt

    from renkei_xl.core.values import DEADLINE

    v = parse_value(text)
    assert (v.kind, v.deadline, v.due) == (DEADLINE, year, due and dt.date.fromisoformat(due))


@pytest.mark.parametrize("text", ["5年度まで", "５年度末までに", "元年度中"])
def test_a_year_without_its_era_is_refused_saying_to_write_one(text):
    """「5年度まで」 in a 令和 office was 「単位「年度まで」を認識できません」: the era is not
    guessed, and the refusal says to write it (or the Western year)."""
    from renkei_xl.core.values import DEADLINE_FORM

    with pytest.raises(ValueParseError) as caught:
        parse_value(text)
    assert caught.value.code == DEADLINE_FORM and "元号を付ける" in str(caught.value), str(caught.value)
    assert "単位" not in str(caught.value)


def test_a_refusal_names_the_kinds_of_cells_it_lists():
    """One list may hold error values, TRUE/FALSE and pictures: each kind named, a picture by
    its place alone (there is no text to quote), and what to do for each kind added once."""
    from renkei_xl.core.values import RICH_VALUE, unread_advice, unread_kind, unread_places, unread_value

    found = [("経年!A5", unread_value(True)), ("経年!E4", unread_value("#REF!")), ("経年!E6", unread_value(RICH_VALUE)),
             ("経年!E7", unread_value(" FALSE "))]
    held = [e for _where, e in found]
    assert unread_kind(held) == "エラー値、TRUE/FALSE（論理値）か画像（または株価・地理などのデータの種類）"
    assert unread_kind(["#N/A", "TRUE"]) == "エラー値か TRUE/FALSE（論理値）"
    assert unread_kind(["FALSE"]) == "TRUE/FALSE（論理値）" and unread_kind(["#REF!"]) == "エラー値"
    assert unread_places(found + [("経年!E8", unread_value("#N/A"))] * 2) == (
        "経年!A5「TRUE」、経年!E4「#REF!」、経年!E6、経年!E7「FALSE」、経年!E8「#N/A」 ほか 1 か所")
    advice = unread_advice(held)
    assert advice.count("リンク先をこのセル以外に") == 1 and "「セルの上に配置」" in advice, advice
    assert unread_advice(["#REF!"]) == "" and "#VALUE!" in unread_advice(["#VALUE!"])


@pytest.mark.parametrize("serial", [1, 15, 59, 61, 62, 45566, 2958465])
def test_a_date_is_written_as_the_serial_it_was_read_from(serial):
    """Excel's count of days (1900 a leap year, serial 60 its 29 February) read and written by
    one rule: the file face wrote every date before 1900-03-01 one serial later than it was
    read (a 15 in a date cell, 1900-01-15, came back as 16 at each command)."""
    import datetime as dt

    from renkei_xl.core.contract_read import duration_as_read, excel_serial

    day = duration_as_read(dt.timedelta(days=serial))
    assert excel_serial(day) == serial
    assert excel_serial(dt.datetime.combine(day, dt.time(12))) == serial + 0.5


def test_no_date_before_excel_s_first_is_written_as_another_day():
    """1899-12-31 would be serial 0 (Excel's 「1900/1/0」), 1899-12-30 its ##### of a time."""
    import datetime as dt

    from renkei_xl.core.contract_read import excel_serial

    assert excel_serial(dt.date(1900, 1, 1)) == 1 and excel_serial(dt.date(1900, 2, 28)) == 59
    assert excel_serial(dt.date(1900, 3, 1)) == 61
    for day in (dt.date(1899, 12, 31), dt.datetime(1899, 12, 30, 10, 30)):
        with pytest.raises(ValueError):
            excel_serial(day)

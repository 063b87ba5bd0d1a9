"""Reply deadlines land on business days: not on weekends, national holidays (振替休日
included) or the year-end closure, and both faces reach them through one function."""

from __future__ import annotations

import datetime as dt
import email
import email.policy

import openpyxl
import pytest

from renkei_xl.cli import main
from renkei_xl.cli.workbook import init_master
from renkei_xl.core.business_days import closed_reason, japanese_date, next_business_day, reply_deadline
from renkei_xl.cycle import distribute
from renkei_xl.cycle.distribute import file_name, split_master

D = dt.date.fromisoformat


@pytest.mark.parametrize("day, reason", [
    ("2024-02-10", "土曜日"), ("2024-02-11", "建国記念の日"), ("2024-02-12", "建国記念の日 振替休日"),
    ("2024-02-23", "天皇誕生日"), ("2024-09-23", "秋分の日 振替休日"), ("2023-12-29", "年末年始の休み"),
    ("2024-01-03", "年末年始の休み"), ("2024-01-01", "年末年始の休み"), ("2026-12-13", "日曜日"),
    ("2024-02-09", None), ("2024-01-04", None), ("2023-12-28", None),
])
def test_closed_days(day, reason):
    assert closed_reason(D(day)) == reason


def test_next_business_day_skips_a_holiday_weekend_and_the_year_end():
    assert next_business_day(D("2024-02-10")) == D("2024-02-13")      # Sat, Sun, 振替休日 Mon
    assert next_business_day(D("2023-12-29")) == D("2024-01-04")      # 年末年始, then Thursday
    assert next_business_day(D("2024-02-09")) == D("2024-02-09")      # a business day stays


def test_the_default_deadline_of_a_friday_before_a_holiday_weekend():
    """Friday 2024-02-09 starts 建国記念の日's three-day weekend; two weeks later is
    天皇誕生日 (Friday 2/23), then a weekend: the deadline is Monday 2/26."""
    due = reply_deadline(D("2024-02-09"))
    assert due.day == D("2024-02-26") and due.moved_from == D("2024-02-23")
    assert "天皇誕生日" in due.note() and "2024年2月26日（月）" in due.note()


def test_a_chosen_deadline_on_a_holiday_is_moved_and_said_so():
    due = reply_deadline(D("2024-02-09"), D("2024-02-12"))
    assert due.day == D("2024-02-13") and due.chosen
    assert due.note() == ("指定の回答期限 2024年2月12日（月） は建国記念の日 振替休日のため、"
                          "次の開庁日 2024年2月13日（火） にしました")
    assert reply_deadline(D("2024-02-09"), D("2024-02-16")).moved_from is None


@pytest.fixture
def friday(monkeypatch):
    """split run on Friday 2024-02-09, 10:00."""
    monkeypatch.setattr(distribute, "now", lambda: dt.datetime(2024, 2, 9, 10, 0))


def _letter_and_sheet(outdir, municipality="小樽市"):
    book = outdir / file_name(municipality, 2023)
    msg = email.message_from_bytes(distribute.eml_path(book).read_bytes(), policy=email.policy.default)
    ws = openpyxl.load_workbook(book)[municipality]
    top = [v for row in ws.iter_rows(max_row=3, values_only=True) for v in row if v]
    return msg.get_body().get_content(), top


def test_split_on_a_friday_before_a_holiday_weekend_sets_the_next_business_day(tmp_path, friday, capsys):
    master = init_master(tmp_path / "マスター.xlsx", sample="fy2023")
    assert main(["split", str(master), "--outdir", str(tmp_path / "配布"), "--eml"]) == 0
    out = capsys.readouterr().out
    assert "次の開庁日 2024年2月26日（月）" in out
    body, top = _letter_and_sheet(tmp_path / "配布")
    assert "2024年2月26日（月）までに" in body
    assert any("2024年2月26日（月）" in str(v) for v in top)


def test_a_deadline_given_on_a_holiday_is_moved_with_a_message(tmp_path, friday, capsys):
    master = init_master(tmp_path / "マスター.xlsx", sample="fy2023")
    assert main(["split", str(master), "--outdir", str(tmp_path / "配布"), "--eml",
                 "--deadline", "2024-02-23"]) == 0
    out = capsys.readouterr().out
    assert "指定の回答期限 2024年2月23日（金） は天皇誕生日のため、次の開庁日 2024年2月26日（月） にしました" in out
    body, _top = _letter_and_sheet(tmp_path / "配布", "江別市")
    assert "2024年2月26日（月）までに" in body and "2月23日" not in body


def test_split_without_a_deadline_reaches_the_same_date(tmp_path, friday):
    """split_master given no date (an API caller) applies the same rule itself."""
    master = init_master(tmp_path / "マスター.xlsx", sample="fy2023")
    split_master(master, tmp_path / "配布", eml=True)
    body, top = _letter_and_sheet(tmp_path / "配布")
    assert japanese_date(D("2024-02-26")) + "までに" in body
    assert any("2024年2月26日（月）" in str(v) for v in top)

import datetime as dt

import pytest

from renkei_xl.core.fiscal import (DateParseError, PartialDate, fiscal_year_of, parse_date,
                              parse_fiscal_year)


@pytest.mark.parametrize("text,expected", [
    ("R5.10/10", PartialDate(2023, 10, 10)),
    ("R6.1.20", PartialDate(2024, 1, 20)),
    ("Ｒ6.1.20", PartialDate(2024, 1, 20)),
    ("R6.2月", PartialDate(2024, 2)),
    ("令和5年10月10日", PartialDate(2023, 10, 10)),
    ("令和元年5月1日", PartialDate(2019, 5, 1)),
    ("平成31年4月30日", PartialDate(2019, 4, 30)),
    ("2024-03-31", PartialDate(2024, 3, 31)),
    ("2024/3/31", PartialDate(2024, 3, 31)),
    ("2024年3月", PartialDate(2024, 3)),
    ("2024/12", PartialDate(2024, 12)),
    ("2024.12", PartialDate(2024, 12)),    # dateutil read 「2024.12」 and 「2024.03」 as January
    ("2024.03", PartialDate(2024, 3)),
    ("2024.3", PartialDate(2024, 3)),      # and refused 「2024.3」 and 「2024.5」
    ("2024.10.1", PartialDate(2024, 10, 1)),
])
def test_dates(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text,year", [("令和5年度", 2023), ("令和５年度", 2023), ("R5年度", 2023),
                                       ("2023年度", 2023), ("平成29年度", 2017)])
def test_fiscal_years(text, year):
    assert parse_fiscal_year(text) == year


def test_fiscal_year_runs_april_to_march():
    assert fiscal_year_of(dt.date(2024, 3, 31)) == 2023
    assert fiscal_year_of(dt.date(2024, 4, 1)) == 2024
    assert parse_date("R6.2月").fiscal_year == 2023
    assert parse_date("R6.2月").to_date() == dt.date(2024, 2, 29)


@pytest.mark.parametrize("text", ["R5.13/1", "2023-02-30", "来週", "令和0年度"])
def test_bad_dates_say_why(text):
    with pytest.raises(DateParseError):
        parse_date(text) if "年度" not in text else parse_fiscal_year(text)

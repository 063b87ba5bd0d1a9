"""Hostile sizes for this stop's pure readers: work bounded by what a file holds, never by
the product of two of its sizes, and a number format that cannot round a value leaves it."""

from __future__ import annotations

import sys

from renkei_xl.core import history
from renkei_xl.core.displayed import as_displayed


def _calls_in(module, fn):
    """How many Python frames of ``module`` ``fn`` runs: the work it does, counted, not timed."""
    calls = 0
    path = module.__file__

    def profile(frame, event, _arg):
        nonlocal calls
        if event == "call" and frame.f_code.co_filename == path:
            calls += 1

    sys.setprofile(profile)
    try:
        result = fn()
    finally:
        sys.setprofile(None)
    return result, calls


def test_layout_csv_work_follows_the_cells_not_years_times_lines(tmp_path):
    """A 経年 CSV of 1,000 year columns over 2,000 lines of an ID alone (0.04 MB) went
    through every year for every line: 72 s for 2,000 years over 99,000 lines."""
    header = "指標ID," + ",".join(f"{y}年度 実績値" for y in range(1000, 2000))
    path = tmp_path / "経年.csv"
    path.write_bytes((header + "\n" + "A\n" * 2000 + "B," + "1," * 3 + "\n").encode("utf-8"))
    content = history.decode_csv(path.read_bytes(), path.name)
    rows, calls = _calls_in(history, lambda: history.csv_rows(content, path.name))
    assert [r.fields[:3] for r in rows] == [("B", str(y), "1") for y in (1000, 1001, 1002)]
    assert calls < 20_000          # was over 2,000,000 (a generator per year per line)


def test_format_beyond_every_digit_leaves_the_value():
    """A value of 300 digits in a cell of 30 decimals (Excel's most), or a format of 200
    percent signs, raised decimal.InvalidOperation: a traceback for a number Excel keeps as is."""
    assert as_displayed(1e300, "0." + "0" * 30) == 1e300
    assert as_displayed(1.5, "0" + "%" * 200) == 1.5
    assert as_displayed(-1e300, "0.00;-0." + "0" * 30) == -1e300


def test_csv_line_wider_than_a_sheet_is_refused_naming_its_line(tmp_path):
    """A line of 5 MB of commas was five million fields (125 MiB, seconds of header search)
    before any word; no sheet Excel saves is wider than 16,384 columns."""
    import pytest

    from renkei_xl.core.errors import UserError

    path = tmp_path / "経年.csv"
    path.write_bytes(("指標ID,年度,実績値,評価\n" + "A,2023,1," + "," * 20_000 + "\n").encode("utf-8"))
    content = history.decode_csv(path.read_bytes(), path.name)
    with pytest.raises(UserError, match=r"「経年.csv」の2行目の欄が多すぎます（20,004 個"):
        history.csv_rows(content, path.name)
    assert len(history.csv_rows("指標ID,年度,実績値,評価\nA,2023,1," + "," * 16_380 + "\n")) == 1


def test_a_huge_running_file_left_by_a_dead_worker_is_read_in_part(tmp_path):
    """A file of running clicks left huge or garbled was read whole at the next start and each
    line logged: 200 MB took 380 MiB, and 20 million records flooded a log that keeps 1 MiB."""
    from renkei_xl.server import running

    huge = tmp_path / f"{running.PREFIX}1-dead.txt"
    huge.write_bytes(b"\xff\xfe garbled\n" * 400_000)
    kept = tmp_path / f"{running.PREFIX}2-dead.txt"
    kept.write_text("a click\nanother click\n", encoding="utf-8")
    records = running.left_by_others(tmp_path)
    assert 1_000 < len(records) < 2_000          # was 400,002: every line of it
    note = next(r for r in records if huge.name in r)
    assert "4,400,000 バイト" in note and "読みませんでした" in note, note
    assert {"a click", "another click"} <= set(records)
    assert not huge.exists() and not kept.exists()


def test_a_text_cells_search_never_reads_past_another_t_s():
    """Each ``t="s"`` of a sheet was read on to its tag's end: 40,000 of them in one
    attribute (0.2 MB) took seconds, a sheet of them hours. A hit now ends before the next
    one (work bounded by the sheet's length), and the text cell behind them is still refused."""
    import pytest

    from renkei_xl.workbook.stored_values import UnreadableSheet, _decimal_indexes, check_stored_values

    fake = b't="s"' * 40_000
    raw = (b'<worksheet><sheetData><row r="1"><c r="A1"><v>1.5</v></c><c r="B1" x=\'' + fake
           + b'\' t="s"><v>1.5</v></c></row></sheetData></worksheet>')
    search = _decimal_indexes(b"", False)
    assert search.match(raw, raw.find(b't="s"')) is None
    with pytest.raises(UnreadableSheet, match="B1"):
        check_stored_values("指標", raw, b"")


def test_a_format_longer_than_excel_allows_rounds_nothing():
    """Excel keeps number formats of at most 255 characters; 100,000 unclosed 「[」 in a
    styles.xml not saved by Excel were stripped in seconds (each read to the end), and the
    value rounded by a format no Excel has."""
    assert as_displayed(1.25, "[" * 100_000 + "0.0") == 1.25
    assert as_displayed(1.25, "[" * 200 + "0.0") == 1.3         # within 255: as before


def test_a_history_layout_giving_more_records_than_any_master_holds_is_refused_naming_its_line(monkeypatch):
    """5 MB of 「1,」 under a header of 16,000 years (a 経年 CSV) were 2.3 million records,
    each refused on its own line: 51 s, 1.3 GB and 2.3 million lines printed. Counted as
    they are made, the records past history.MAX_CSV_RECORDS stop the file at that line."""
    import pytest

    from renkei_xl.core.errors import UserError

    monkeypatch.setattr(history, "MAX_CSV_RECORDS", 10, raising=False)
    header = "指標ID," + ",".join(f"{y}年度 実績値" for y in range(2001, 2007))
    content = header + "\n" + "A,1,1,1,1,1,1\n" * 3
    with pytest.raises(UserError, match=r"記録.*が多すぎます（10 件まで。3行目で超えました）"):
        history.csv_rows(content, "経年.csv")
    assert len(history.csv_rows(header + "\nA,1,1,1,1,1,1\n")) == 6


def test_settings_rows_are_read_in_work_bounded_by_their_number():
    """Each 設定 row's name was compared, folded (name_key), with every row above it: 2,000
    municipalities took 4 million foldings, 18 s of 入力チェック (37 s of rollover) before a
    word. The names are looked up now; a name typed twice is still refused."""
    import datetime as dt

    import pytest

    from renkei_xl.core import contract_read
    from renkei_xl.core.contract_read import Book, read_settings
    from renkei_xl.core.errors import UserError

    names = {"圏域名": ("設定", "B2"), "対象年度": ("設定", "B3"), "基準日": ("設定", "B4"),
             "概ね達成閾値": ("設定", "B5")}
    head = [["基本設定"], ["圏域名", "テスト圏"], ["対象年度", 2023], ["基準日", dt.datetime(2024, 3, 31)],
            ["概ね達成閾値", 0.85], [], [], ["市町村一覧"], ["市町村名", "区分", "担当部署", "メールアドレス"],
            ["札幌市", "中心市"]]
    rows = [[f"市{i:04d}", "連携市町村"] for i in range(600)]
    settings, calls = _calls_in(contract_read, lambda: read_settings(Book({"設定": head + rows}, names)))
    assert len(settings.municipalities) == 601
    assert calls < 30 * 601          # was over 900,000 (every row against every row above)
    with pytest.raises(UserError, match="設定!A611: 市町村名「市 0003」は、上の行の「市0003」と"):
        read_settings(Book({"設定": head + rows + [["市 0003", "連携市町村"]]}, names))

"""X-Renkei-Currency (RenkeiServer.bas' RenkeiPercents walk, client 9; renkei_xl.server.currency_header):
the exact number (Range.Value2) of each cell whose Range.Value, which xlwings' VBA client sends,
is VBA's Currency rounded to four decimal places. A number typed since the save into a Currency
or Accounting cell (0.123456 sent as 0.1235) is read as typed with the header, as the command
line reads it once saved; taken only where it rounds to the number the payload holds (a doctored
header changes nothing else); a master whose VBA predates the header reads as before (the saved
master's numbers), and so does a sheet the client could not fit into the header.
"""

from __future__ import annotations

import json
import struct

import pytest

from remote_payload import (CURRENCY_MAX, VBA, admitted_percents, client_body, client_headers, currency_header_of,
                            payload_from_file, typed_since_save)
from test_buttons import licensed  # noqa: F401  (the remote engine's licence fixture)
from test_server import server  # noqa: F401  (a real renkei-xl server on 127.0.0.1)
from renkei_xl.core.plan_types import CellEdit, WritePlan
from renkei_xl.excel.book import CURRENCY_KEY, SAVED_MASTER_KEY
from renkei_xl.server.currency_header import MAX_CHARS, OVERFLOW, UNKNOWN, currency_header

MUNI, ROW, VALUE_COL, REF = "小樽市", 2, 5, "E2"     # 04-1 (合計) 実績値: a count
YEN = '"¥"#,##0;[Red]"¥"\\-#,##0'
FRACTIONAL = "は件数・人数なのに小数です"


def _hex(text: str) -> str:
    return text.encode("utf-16-be").hex().upper()


def _bits(x: float) -> str:
    return struct.pack(">d", x).hex().upper()


def test_the_header_reads_as_renkei_percents_writes_it():
    said = currency_header(f"1;{_hex('小樽市')}/E2={_bits(12.00005)},F3={_bits(-0.123456)};{_hex('指標')}/{UNKNOWN}")
    assert said == {"小樽市": [[2, 5, 12.00005], [3, 6, -0.123456]], "指標": None}
    assert currency_header("1") == {}          # no cell whose Value rounds


@pytest.mark.parametrize("header", [None, "", OVERFLOW, "2", "0", "1;", f"1;{_hex('a')}/", f"1;{_hex('a')}/E2",
                                    f"1;{_hex('a')}/E2={_bits(1.5)[:15]}", f"1;{_hex('a')}/E0={_bits(1.5)}",
                                    f"1;{_hex('a')}/XFE1={_bits(1.5)}", f"1;{_hex('a')}/A1048577={_bits(1.5)}",
                                    f"1;{_hex('a')}/E2={_bits(1.5).lower()}", f"1;{_hex('a')}/E2=7FF0000000000000",
                                    f"1;{_hex('a')}/E2=7FF8000000000000", f"1;D800/E2={_bits(1.5)}",
                                    f"1;{_hex('a' * 32)}/E2={_bits(1.5)}", f"1;{_hex('a')}/E2={_bits(1.5)},E2={_bits(2.5)}",
                                    f"1;{_hex('a')}/E2={_bits(1.5)};{_hex('a')}/{UNKNOWN}", f"1;{_hex('a')}/+/E2",
                                    f"1;{_hex('a')}/E2={_bits(1.5)};;", "1;" + f"{_hex('a')}/" + ",".join(
                                        f"A{i}={_bits(1.5)}" for i in range(1, MAX_CHARS // 20))])
def test_a_header_renkei_currency_did_not_write_is_not_read(header):
    """Absent (a master before client 9), the overflow marker, and anything not in its shape (bits
    cut short or in lower case, an infinity or NaN, a cell past XFD1048576 or twice, a lone
    surrogate, a name past 31 characters, a sheet not known and listed, past MAX_CHARS): None,
    so the click reads as before."""
    assert currency_header(header) is None


@pytest.fixture(scope="module")
def master(tmp_path_factory, licensed):  # noqa: F811
    """A server master (its RenkeiServer.bas sends X-Renkei-Currency) whose 小樽市!E2 is saved as 7
    in a ¥ format, and another whose E2 is saved as 12.00005 in it."""
    from renkei_xl.cli.workbook import init_master
    from renkei_xl.workbook.session import write_planned

    out = {}
    for saved in (7, 12.00005):
        folder = tmp_path_factory.mktemp("currency")
        path = init_master(folder / "master.xlsm", sample="fy2023", server="http://127.0.0.1:1", server_folder="F")
        write_planned(path, lambda fs, saved=saved: (WritePlan(cells=[CellEdit(MUNI, ROW, VALUE_COL, saved,
                                                                               number_format=YEN)]), None))
        out[saved] = path
    return out


def _live(path, payload: dict, header=lambda h: h):
    """The click's read of ``payload`` as the server admits it with X-Renkei-Currency as
    ``header`` makes it from the client's (None: not sent), the saved master beside it."""
    import xlwings as xw
    from xlwings.pro._xlremote import App

    from renkei_xl.excel.engines import live_book

    admitted = {k: v for k, v in admitted_percents(payload).items() if k != CURRENCY_KEY}
    said = currency_header(header(currency_header_of(payload)))
    if said is not None:
        admitted[CURRENCY_KEY] = said
    admitted[SAVED_MASTER_KEY] = str(path)
    live = live_book(xw.Book(impl=App(apps=None, add_book=False).books.open(json=admitted)))
    entry = next(e for e in live.read().entries if e.sheet == MUNI and e.row == ROW)
    return live.grid(MUNI)[ROW - 1][VALUE_COL - 1], entry.value


def _typed(path, typed) -> dict:
    payload = payload_from_file(path, client=VBA)
    typed_since_save(payload, MUNI, REF, typed)
    return payload


def test_a_figure_typed_since_the_save_is_read_as_typed_with_the_header(master):
    """12.00005 typed since the save over a saved 7: Range.Value sends 12 (the model rounds it
    as Excel does), and the header gives back the number typed; a master before client 9 reads
    12, as the README says (the saved 7 is no number that rounds to it)."""
    payload = _typed(master[7], 12.00005)
    values = next(s for s in payload["sheets"] if s["name"] == MUNI)["values"]
    assert values[ROW - 1][VALUE_COL - 1] == 12.0
    assert f"{_hex(MUNI)}/{REF}={_bits(12.00005)}" in currency_header_of(payload)
    assert _live(master[7], payload) == (12.00005, "12.00005")
    assert _live(master[7], payload, lambda h: None) == (12.0, "12")


def test_a_figure_typed_since_the_save_that_the_saved_one_rounds_to_is_the_one_typed(master):
    """12 typed over a saved 12.00005: both are sent as 12, and without the header the saved
    master's 12.00005 was read (it rounds to the number sent). The client names no cell of that
    sheet (Value and Value2 are one number), so the number typed is read."""
    payload = _typed(master[12.00005], 12)
    assert currency_header_of(payload) == "1"
    assert _live(master[12.00005], payload) == (12, "12")
    assert _live(master[12.00005], payload, lambda h: None) == (12.00005, "12.00005")   # before client 9


@pytest.mark.parametrize("doctored", [13.5, 12.0001, 11.99994])
def test_a_doctored_number_that_does_not_round_to_the_one_sent_changes_nothing(master, doctored):
    """A hand-made header giving 小樽市!E2 a number that VBA's Currency would not have sent as 12:
    the number sent is read, never the header's."""
    payload = _typed(master[7], 12.00005)
    assert _live(master[7], payload, lambda h: h.replace(_bits(12.00005), _bits(doctored))) == (12.0, "12")


def test_a_header_naming_cells_that_hold_no_number_changes_nothing(master):
    """A hand-made header naming 小樽市's 指標ID (a text) and an empty cell past the sheet: only a
    number sent is replaced."""
    payload = _typed(master[7], 12.00005)
    extra = f",A2={_bits(0.00001)},ZZ900={_bits(0.00001)}"
    assert _live(master[7], payload, lambda h: h + extra) == (12.00005, "12.00005")


def test_a_sheet_the_header_could_not_hold_is_read_from_the_saved_master(master):
    """A sheet whose part passes CURRENCY_MAX is sent as not known, that sheet alone: it is read
    as a master before client 9 read it (the saved master's number where it rounds to the one
    sent), and the others by the header."""
    payload = payload_from_file(master[12.00005], client=VBA)
    numbers = payload["_excel"]["currency_numbers"]
    numbers["札幌市"] = {f"K{r}": 0.000011 * r for r in range(1, CURRENCY_MAX // 20)}   # formatted ¥ since the save
    header = currency_header_of(payload)
    assert f";{_hex('札幌市')}/{UNKNOWN}" in header and f"{_hex(MUNI)}/{REF}=" in header
    said = currency_header(header)
    assert said["札幌市"] is None and said[MUNI] == [[ROW, VALUE_COL, 12.00005]]
    assert _live(master[12.00005], payload) == (12.00005, "12.00005")
    unknown = f"1;{_hex(MUNI)}/{UNKNOWN}"
    assert _live(master[12.00005], payload, lambda h: unknown) == (12.00005, "12.00005")     # saved master's
    typed = _typed(master[12.00005], 12)
    assert _live(master[12.00005], typed, lambda h: unknown) == (12.00005, "12.00005")       # as before client 9


def test_a_book_too_many_numbers_to_name_sends_the_overflow_marker():
    """Past CURRENCY_MAX characters even for the sheets' not-known parts: the overflow marker,
    which the server reads as no header (as a master before client 9)."""
    sheets = [{"name": f"s{i}", "values": [[1.0]]} for i in range(CURRENCY_MAX // 6)]
    payload = {"sheets": sheets, "_excel": {"currency_numbers": {s["name"]: {"A1": 1.00001} for s in sheets}}}
    assert currency_header_of(payload) == OVERFLOW
    assert currency_header(OVERFLOW) is None


def test_the_clients_exact_number_reads_an_unsaved_currency_figure_on_a_real_server(server):  # noqa: F811
    """Through a real server: 小樽市!E2 given a ¥ format and 12.00005 since the save (the book
    unsaved). The click with the header (client 9) says 「件数・人数なのに小数です」 as the command
    line does once it is saved; one without it (an older master) reads 12 and says nothing."""
    payload = payload_from_file(server.master, client=VBA)
    payload["_excel"]["currency_numbers"].setdefault(MUNI, {})[REF] = None     # formatted ¥ since the save
    typed_since_save(payload, MUNI, REF, 12.00005)
    headers = {**server.headers, **client_headers(payload), "X-Renkei-Book": "saved=0; read-only=0"}
    assert "X-Renkei-Currency" in headers
    answers = {}
    for sent in (True, False):
        if not sent:
            headers.pop("X-Renkei-Currency")
        response = server.post("check", content=client_body(payload), headers=headers)
        assert response.status_code == 200, response.text[:500]
        text = json.dumps(json.loads(response.text), ensure_ascii=False)    # its \u escapes read (a line feed's too)
        answers[sent] = f"「12.00005」{FRACTIONAL}" in text, f"「12」{FRACTIONAL}" in text
    assert answers == {True: (True, False), False: (False, False)}


def test_both_headers_at_their_bounds_fit_in_what_the_server_reads(server):  # noqa: F811
    """X-Renkei-Percents at PERCENTS_MAX characters, X-Renkei-Currency at CURRENCY_MAX and
    X-Renkei-Tabs near TABS_MAX (client 10) beside the other headers of ours (X-Renkei-Place as
    long as Excel's 218-character path makes it) are read by the real server and the click
    runs. That the whole stays within h11's 16 KiB is arithmetic here, not measured: h11 bounds
    a head only while it is incomplete, and over loopback the head arrives in one read (a pad
    of 5,200 more characters passed too)."""
    from remote_payload import PERCENTS_MAX, TABS_MAX
    from renkei_xl.server.sheet_positions import other_tabs

    assert PERCENTS_MAX + CURRENCY_MAX + TABS_MAX + 4 * 218 + 1500 < 16 * 1024

    payload = payload_from_file(server.master, client=VBA)
    percents, row = f"2;{_hex(MUNI)}/{_hex('0%')}/Z1", 2
    while len(percents) + len(f",Z{row}") <= PERCENTS_MAX:
        percents, row = percents + f",Z{row}", row + 1
    currency, row = f"1;{_hex(MUNI)}/Y1={_bits(0.00001)}", 2
    while len(currency) + len(f",Y{row}={_bits(0.00001)}") <= CURRENCY_MAX:
        currency, row = currency + f",Y{row}={_bits(0.00001)}", row + 1
    assert currency_header(currency) is not None and len(currency) > CURRENCY_MAX - 30
    tabs = "1" + f";{_hex('グラフ')}" * ((TABS_MAX - 1) // 13)       # chart sheets no tool sheet is named as
    assert other_tabs(tabs) is not None and len(tabs) > TABS_MAX - 13
    headers = {**server.headers, **client_headers(payload), "X-Renkei-Book": "saved=1; read-only=0",
               "X-Renkei-Percents": percents, "X-Renkei-Currency": currency, "X-Renkei-Tabs": tabs,
               "X-Renkei-Pad": "0041" * 218}
    response = server.post("check", content=client_body(payload), headers=headers)
    assert response.status_code == 200, response.text[:300]

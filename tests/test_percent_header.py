"""X-Renkei-Percents (RenkeiServer.bas' RenkeiPercents, client 7; renkei_xl.server.percent_header):
the number formats holding a percent sign of the cells holding a number, which xlwings' payload
does not carry. A real server reads a click's unsaved edits by them; a master whose VBA predates
the header, a list too long for a header (the client's overflow marker) and a hand-made header
are read as before (the saved master's formats, a number in doubt refused until saved), never
from a guess and never with a traceback.
"""

from __future__ import annotations

import json

import pytest

from remote_payload import VBA, admitted_percents, client_body, client_headers, payload_from_file, percent_header_of, typed_since_save
from test_buttons import licensed  # noqa: F401  (the remote engine's licence fixture)
from test_server import server  # noqa: F401  (a real renkei-xl server on 127.0.0.1)
from renkei_xl.server.percent_header import MAX_CHARS, OVERFLOW, UNKNOWN, percent_header

CENTRE, CELL = "札幌市", "E63"          # 42-2 (中心市のみ, 目標 75%（毎年度）): a row counted in %
SAVE_FIRST = "上書き保存してから、もう一度ボタンを押してください"


def _hex(text: str) -> str:
    return text.encode("utf-16-be").hex().upper()


def test_the_header_reads_as_renkei_percents_writes_it():
    said = percent_header(f"2;{_hex('札幌市')}/{_hex('0%')}/E2:E5,G7;{_hex('指標')}/{_hex('0.0%')}/H4")
    assert said == {"札幌市": [("0%", [(2, 5, 5, 5), (7, 7, 7, 7)])], "指標": [("0.0%", [(4, 8, 4, 8)])]}
    assert percent_header("2") == {}        # a book with no number in a percent format


def test_a_sheet_sent_as_not_known_is_none_and_the_others_are_read():
    """A sheet RenkeiPercents could not read (past its bounds, an error there) is sent as
    UNKNOWN, that sheet alone (client-124: one protected sheet made the whole header OVERFLOW)."""
    said = percent_header(f"2;{_hex('札幌市')}/{UNKNOWN};{_hex('指標')}/{_hex('0.0%')}/H4")
    assert said == {"札幌市": None, "指標": [("0.0%", [(4, 8, 4, 8)])]}


@pytest.mark.parametrize("header", [None, "", OVERFLOW, "1", "3", "2;", "2;zz/00300025/E2", f"2;{_hex('a')}/{_hex('0%')}/",
                                    f"2;{_hex('a')}/{_hex('0%')}/E0", f"2;{_hex('a')}/{_hex('0%')}/XFE1",
                                    f"2;{_hex('a')}/{_hex('0%')}/A1048577", f"2;{_hex('a')}/{_hex('0%')}/E2;;",
                                    f"2;D800/{_hex('0%')}/E2", f"2;{_hex('a' * 32)}/{_hex('0%')}/E2",
                                    f"2;{_hex('a')}/{_hex('0%')}/E2 E3", "2;" + f"{_hex('a')}/{_hex('0%')}/E2,"
                                    + ",".join(["A1"] * MAX_CHARS),
                                    # version 1 (client 7 before client-124, never released): not read
                                    f"1;{_hex('a')}/{_hex('0%')}/E2",
                                    # a sheet not known and listed, or not known twice; the marker misplaced
                                    f"2;{_hex('a')}/+;{_hex('a')}/{_hex('0%')}/E2", f"2;{_hex('a')}/{_hex('0%')}/E2;{_hex('a')}/+",
                                    f"2;{_hex('a')}/+;{_hex('a')}/+", f"2;{_hex('a')}/+/E2", f"2;{_hex('a')}/{_hex('0%')}/+",
                                    f"2;+;{_hex('a')}/+"])
def test_a_header_renkei_percents_did_not_write_is_not_read(header):
    """Absent (a master before client 7), the overflow marker, and anything not in its shape
    (a lone surrogate, a name past 31 characters, a cell past XFD1048576, past MAX_CHARS, a
    sheet both not known and listed): None, so the click reads as before."""
    assert percent_header(header) is None


def _sent(server, typed: str, header=lambda h: h):  # noqa: F811
    """A 入力チェック click of the server's master after staff typed ``typed`` into 札幌市!E63
    since the save (the book unsaved), the header as ``header`` makes it from the client's."""
    payload = payload_from_file(server.master, client=VBA)
    typed_since_save(payload, CENTRE, CELL, typed)
    headers = {**server.headers, **client_headers(payload), "X-Renkei-Book": "saved=0; read-only=0"}
    made = header(headers.get("X-Renkei-Percents"))
    headers.pop("X-Renkei-Percents", None)
    if made is not None:
        headers["X-Renkei-Percents"] = made
    return server.post("check", content=client_body(payload), headers=headers)


def _found(response) -> str:
    assert response.status_code == 200, response.text[:500]
    return json.dumps(json.loads(response.text), ensure_ascii=False)    # its \u escapes read (a line feed's too)


def test_the_clients_formats_read_an_unsaved_percent_on_a_real_server(server):  # noqa: F811
    """「150%」 typed since the save is 1.5 in a 0% cell: read as 150 % with the header (the
    model of client 7 sends it from the open book), refused until saved without it."""
    payload = payload_from_file(server.master, client=VBA)
    typed_since_save(payload, CENTRE, CELL, "150%")
    assert _hex(CENTRE) + "/" + _hex("0%") + "/" in percent_header_of(payload)
    assert SAVE_FIRST not in _found(_sent(server, "150%"))
    assert SAVE_FIRST in _found(_sent(server, "150%", lambda h: None))      # a master before client 7


@pytest.mark.parametrize("doctored", [lambda h: OVERFLOW, lambda h: "2;garbage", lambda h: h + ";" + "A" * 20000,
                                      # the whole sheet named again and again: more cells than were sent, twice over
                                      lambda h: h + f";{_hex(CENTRE)}/{_hex('0%')}/" + ",".join(["A1:XFD1048576"] * 500)])
def test_an_overflowing_or_doctored_header_is_read_as_without_it(server, doctored):  # noqa: F811
    """The client's overflow marker, a header not in RenkeiPercents' shape, and one naming more
    cells than the sheets sent could hold twice: the click reads as an older master's did (the
    number in doubt refused, in Japanese), never a guess, never a traceback."""
    assert SAVE_FIRST in _found(_sent(server, "150%", doctored))


@pytest.mark.parametrize("unknown, refused", [(CENTRE, True), ("小樽市", False)])
def test_a_sheet_sent_as_not_known_is_read_as_before_on_a_real_server(server, unknown, refused):  # noqa: F811
    """client-124: the header naming one sheet not known (RenkeiPercents past its bounds there)
    reads that sheet as an older master's click did (札幌市's 「150%」 typed since the save refused
    until saved) and the others by the header (札幌市's read when another sheet is not known)."""
    from remote_payload import with_unknown_sheets

    assert (SAVE_FIRST in _found(_sent(server, "150%", lambda h: with_unknown_sheets(h, [unknown])))) is refused


def test_a_header_naming_cells_that_hold_no_number_changes_nothing(server):  # noqa: F811
    """A hand-made header giving 0% to 札幌市's texts and empty cells (its 指標ID column, a column
    past the sheet) reads as the header the client sends: only cells holding a number take a
    format from it."""
    extra = f";{_hex(CENTRE)}/{_hex('0%')}/A1:A100,Z1:Z100"
    plain, doctored = _found(_sent(server, "150%")), _found(_sent(server, "150%", lambda h: h + extra))
    assert SAVE_FIRST not in doctored
    assert _said_cells(plain) == _said_cells(doctored)


def _said_cells(text: str) -> list[str]:
    """The findings' messages an answer writes into 検証結果 (the texts that name a cell)."""
    import re

    return sorted(set(re.findall(r"[^\"]*(?:です|ません|ください)[^\"]*", text)))


def test_the_model_sends_the_header_only_for_a_master_whose_vba_does(server, tmp_path):  # noqa: F811
    """A master built with client 7's RenkeiServer.bas sends it; one whose RenkeiServer.bas
    predates it (its RenkeiCallServer without the line) sends nothing, as an older master."""
    import shutil

    from remote_payload import _vba_codes

    assert any('headers.Add "X-Renkei-Percents", RenkeiPercents(' in code for code in _vba_codes(server.master))
    assert "X-Renkei-Percents" in client_headers(payload_from_file(server.master, client=VBA))
    copy = tmp_path / server.master.name
    shutil.copyfile(server.master, copy)
    payload = payload_from_file(copy, client=VBA)
    payload["_excel"]["percent_formats"] = None
    assert "X-Renkei-Percents" not in client_headers(payload)
    assert "renkei_percents" not in admitted_percents(payload)


def test_upgrade_macros_brings_the_header_to_a_master_whose_vba_predates_it(tmp_path):
    """A master built before client 7 sends no X-Renkei-Percents (its clicks read as before);
    upgrade-macros gives it the shipped RenkeiServer.bas, and its clicks send the header."""
    import dataclasses

    from conftest import replace_vba_project
    from remote_payload import sends_percents
    from renkei_xl.cli import main as cli_main
    from renkei_xl.vba.inject import sheet_code_names
    from renkei_xl.vba.project import Module, build_vba_project
    from renkei_xl.vba.sources import our_modules, remote_modules, with_server, xlwings_modules

    url = "http://renkei-server:8000"
    path = tmp_path / "master.xlsm"
    assert cli_main(["init", str(path), "--sample", "fy2023", "--server", url]) == 0
    line = '    headers.Add "X-Renkei-Percents", RenkeiPercents(wb, exact)\r\n'

    def older(m: Module) -> Module:
        if m.name != "RenkeiServer":
            return m
        assert line in m.source
        return dataclasses.replace(m, source=m.source.replace(line, "").replace(
            'RENKEI_CLIENT_VERSION As String = "10"', 'RENKEI_CLIENT_VERSION As String = "6"'))

    project = build_vba_project([Module("ThisWorkbook", "document", ""),
                                 *(Module(n, "document", "") for n in sheet_code_names(path)),
                                 *map(older, with_server(our_modules(), url)), *xlwings_modules(), *remote_modules()])
    replace_vba_project(path, path, project)
    assert not sends_percents(path)
    assert "X-Renkei-Percents" not in client_headers(payload_from_file(path, client=VBA))
    assert cli_main(["upgrade-macros", str(path), "--server", url]) == 0
    assert sends_percents(path)
    assert "X-Renkei-Percents" in client_headers(payload_from_file(path, client=VBA))

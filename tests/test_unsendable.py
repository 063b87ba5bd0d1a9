"""The holes xlwings' VBA client leaves for error values it cannot write (server/unsendable.py)."""

from __future__ import annotations

import json

import pytest

from renkei_xl.server.refusals import Refusal, parse_payload
from renkei_xl.server.unsendable import SHOWN, message, short_rows, unsendable_cells


def _payload(*sheets) -> dict:
    return {"client": "VBA", "version": "0", "book": {"name": "m.xlsm"}, "names": [],
            "sheets": [{"name": n, "values": v} for n, v in sheets]}


def _body_with_holes(payload: dict, holes: set) -> str:
    """JSON as ConvertToJson writes it, with nothing where ``holes`` (sheet index, r, c) are."""
    mark = "\ue001"
    copy = json.loads(json.dumps(payload))
    for i, r, c in holes:
        copy["sheets"][i]["values"][r - 1][c - 1] = mark
    return json.dumps(copy, ensure_ascii=False).replace(json.dumps(mark, ensure_ascii=False), "")


@pytest.mark.parametrize("holes, expected", [
    ({(0, 1, 1)}, [("札幌市", "A1")]),                               # first of its row: "[,"
    ({(0, 2, 3)}, [("札幌市", "C2")]),                               # last of its row: ",]"
    ({(0, 2, 2), (1, 1, 2)}, [("札幌市", "B2"), ("小樽市", "B1")]),  # middle: ",,"
    ({(0, 1, 2), (0, 1, 3)}, [("札幌市", "B1"), ("札幌市", "C1")]),  # two side by side
])
def test_each_hole_is_named_by_sheet_and_cell(holes, expected):
    # Strings that look like holes must not count: "[,", ",,", ",]" and an escaped quote.
    payload = _payload(("札幌市", [["a,,b", "[,", 3], [1, 2, ",]\\\","]]),
                       ("小樽市", [[1, 2, 3]]))
    body = _body_with_holes(payload, holes)
    with pytest.raises(ValueError):
        json.loads(body)
    assert unsendable_cells(body) == expected
    with pytest.raises(Refusal) as refused:
        parse_payload(body.encode("utf-8"))
    assert refused.value.status == 400 and f"シート「{expected[0][0]}」のセル {expected[0][1]}" in refused.value.text


def test_a_body_broken_otherwise_is_called_unreadable():
    for body in ('{"client": "VBA", "sheets": [}', '{"a": [1, 2', '{"a": 1,, "b": 2}'):
        assert unsendable_cells(body) is None
        with pytest.raises(Refusal) as refused:
            parse_payload(body.encode("utf-8"))
        assert "読めません" in refused.value.text
    assert unsendable_cells('{"a": [1, 2], "b": "[,,]", "c": [1 2]}') is None     # a hole's look in a string


def test_a_one_column_sheet_loses_the_whole_row_and_is_still_caught():
    payload = _payload(("メモ", [[1], [], [3]]), ("札幌市", [[1, 2], [3, 4]]))
    assert short_rows(payload) == [("メモ", "A2")]
    assert short_rows(_payload(("空", [[]]), ("一列", [[1], [2]]))) == []


def test_many_holes_are_counted_not_listed():
    cells = [("札幌市", f"A{r}") for r in range(1, SHOWN + 4)]
    text = message(cells)
    assert f"セル A{SHOWN}" in text and f"A{SHOWN + 1}" not in text and "A5 ほか 3 か所に" in text


def test_as_many_holes_as_the_bound_on_values_lets_through_are_counted_not_each_named():
    """900,000 holes (a sheet of #SPILL! cells, a body of 0.9 MB the bound on values passes):
    a text marker per hole and every hole's cell named held 400 MiB for a message that names
    five. The holes are one object once parsed, and only the cells named are made."""
    import tracemalloc

    from renkei_xl.server.limits import MAX_COMMAS, body_refusal

    n = MAX_COMMAS - 100
    body = '{"client": "VBA", "sheets": [{"name": "札幌市", "values": [[' + "," * n + "]]}]}"
    assert body_refusal(body.encode("utf-8")) is None
    tracemalloc.start()
    try:
        cells = unsendable_cells(body)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert cells == [("札幌市", ref) for ref in ("A1", "B1", "C1", "D1", "E1")] and cells.total == n + 1
    assert f" ほか {n + 1 - SHOWN:,} か所に" in message(cells)
    assert peak < 48 * len(body), (peak, len(body))     # was 450 ×


@pytest.mark.parametrize("body", [b'[]"' + b'\\"' * 20_000, b'[1,,2]"' + b'\\"' * 20_000,
                                  b'[[0000000000000001]]"' + b'\\"' * 20_000])
def test_a_string_left_open_is_searched_once_not_from_every_quote_inside_it(body):
    """The searches of a body that did not parse (quoted_large_numbers, then the holes) skip
    JSON strings; one left open failed at its quote and the search went on inside it, where
    each escaped quote opened another string that again ran to the end: quadratic. 「[]"」 and
    40,000 「\\"」, a body of 80 KB (brackets paired, within every bound on values), held the
    worker's turn for 100 s (qa-fuzz62-2); 20,000 took 19 s. An open string now runs to the
    end of the body, as nesting_too_deep reads it: refused at once."""
    import time

    started = time.perf_counter()
    with pytest.raises(Refusal) as refused:
        parse_payload(body)
    assert refused.value.status == 400 and "送信データを読めません" in refused.value.text
    assert time.perf_counter() - started < 2

"""A real VBA client's payload of the FY2023 master with one to five values, rows or keys
replaced (error values, huge numbers, lone surrogates, lists where a value belongs, rows
cut short), through the server's ``handle()`` for check, recalc, split, rollover and
collect; beside it, often, X-Renkei-Percents (server.percent_header): as RenkeiPercents
writes it for the payload sent, with sheets it could not read, or hostile (a block over a
whole sheet, reversed, overlapping, formats that are no percent or hold sections, words,
conditions, a sheet not sent, a lone surrogate, past its bound); and X-Renkei-Currency
(server.currency_header, client 9): as the walk writes it, or hostile (any bits, NaN and
infinities among them, over numbers, texts and cells past the sheet, sheets not sent or not
known, a cell twice, past its bound). A defect is what the oracle
(fuzzlib.problem) calls one: a 500, a traceback, or a hang of the click."""

from __future__ import annotations

import copy
import json
import math
import re

from fuzzlib import Case, problem
from server_base import case_master, click, server_master

NAME = "payload"
BODY62_SHARE = .15   # cases made by classes62(): the bodies stop 62 found by hand
VALUES = [None, '', ' ', '#N/A', '#DIV/0!', '#REF!', True, False, 0, -0.0, 1e308, -1e308, 1e-320, 2**53 + 1,
          12345678901234567890, '1,000', '１２', '以上', '50%', '2023-04-01T00:00:00.000Z', '2023/4/1', 'R5.3.31',
          '令和5年3月31日', '◎', '□', '×', '－', '―', '-', 'x' * 40000, '=A1', "'123", '\u0000', '\ud800', '𠮷野家', 'A\nB',
          45000.5, -45000, 60, 2958466, -1, 0.1 + 0.2, [1, 2], {'a': 1},
          # ISO dates out of Excel's range or the calendar, and JSON's non-numbers
          '0000-01-01T00:00:00.000Z', '1899-12-30T00:00:00.000Z', '1900-02-29T00:00:00.000Z', '9999-12-31T23:59:59.999Z',
          '10000-01-01T00:00:00.000Z', '+010000-01-01T00:00:00.000Z', '-000001-01-01T00:00:00.000Z', '2023-02-30T00:00:00.000Z',
          '2023-04-01T24:00:00.000Z', '2023-04-01T00:00:00+09:00', '2023-04-01', '2023-04-01T00:00:00.000', '2023-W13-5',
          float('nan'), float('inf'), float('-inf'), 9.99999999999999e307, 5e-324, 'x' * 32767, [[[]]], [None], {}]
ENTRIES = [('check', '入力チェック'), ('recalc', '評価を再計算'), ('split', '配布用ファイル作成'),
           ('rollover', '次年度のマスターを作成'), ('collect', '回収ファイル取込')]


def prepare(masters: dict, tmp):
    return server_master(tmp)


def mutate(payload: dict, rng) -> None:
    """One change to a copy of the payload: a cell (mostly), a row cut, a name, a sheet key."""
    sheets = payload['sheets']
    named = [s for s in sheets if isinstance(s, dict) and s.get('name') in ('設定', '指標', '小樽市', '札幌市')]
    sheet = rng.choice(named if named and rng.random() < 0.8 else sheets)
    values, kind = sheet['values'], rng.randrange(10)
    if kind < 7 and isinstance(values, list) and values:
        row = rng.choice(values)
        if isinstance(row, list) and row:
            row[rng.randrange(len(row))] = rng.choice(VALUES)
    elif kind == 7 and isinstance(values, list) and values and isinstance(values[0], list):
        r = rng.randrange(len(values))
        values[r] = values[r][:rng.randrange(len(values[r]) + 1)] if isinstance(values[r], list) else values[r]
    elif kind == 8:
        name = rng.choice(payload.get('names') or [{}])
        if name:
            name[rng.choice(list(name))] = rng.choice(VALUES)
    else:
        sheet[rng.choice(list(sheet))] = rng.choice(VALUES)


PLAIN = [v for v in VALUES if v is None or isinstance(v, str) or (isinstance(v, (int, float)) and math.isfinite(v))]
PLAIN += [0.85, 1, 1.05, 85, 1500, 0.005, -0.5, 2.5, 100, 1e15, "85%", "１５００％"]


def mutate_plain(payload: dict, rng) -> None:
    """A value a person could type into a cell of 指標 or a municipality sheet, over a number
    most often (a percent cell's), the payload's shape kept."""
    sheets = [s for s in payload["sheets"] if s.get("name") not in ("設定",) and isinstance(s.get("values"), list)]
    sheet = rng.choice(sheets)
    cells = [(r, c) for r, row in enumerate(sheet["values"]) for c, v in enumerate(row) if type(v) in (int, float)]
    if cells and rng.random() < .7:
        r, c = rng.choice(cells)
    else:
        r = rng.randrange(len(sheet["values"]))
        if not sheet["values"][r]:
            return
        c = rng.randrange(len(sheet["values"][r]))
    sheet["values"][r][c] = rng.choice(PLAIN)


def mutate_body(body: bytes, rng) -> bytes:
    """What a body can carry that no dict can: a key twice, JSON's non-numbers as literals,
    arrays nested deeper than any parser recurses, numbers past a double."""
    text = body.decode("utf-8")
    kind = rng.randrange(5)
    keys = list(re.finditer(r'"(\w+)": ("(?:[^"\\]|\\.)*"|-?[0-9.eE+]+|null|true|false)', text))
    if kind == 0 and keys:   # a key twice, the hostile value last (Python's parser keeps the last one)
        m = rng.choice(keys)
        again = json.dumps(rng.choice(VALUES[:30] + [m.group(2)[1:-1] + "x"]), ensure_ascii=False)
        return (text[:m.end()] + f', "{m.group(1)}": {again}' + text[m.end():]).encode("utf-8")
    if kind == 1:
        nums = list(re.finditer(r'(?<=[\[,: ])-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?(?=[,\]}])', text))
        if nums:
            m = rng.choice(nums)
            new = rng.choice(['NaN', 'Infinity', '-Infinity', '1e400', '-1e400', '1' * 5000, '1e-400', '-0', '0.' + '0' * 400 + '1'])
            return (text[:m.start()] + new + text[m.end():]).encode("utf-8")
    depth = rng.choice([100, 1000, 100000])
    deep = '[' * depth + ']' * depth if kind != 4 else '{"a":' * depth + '1' + '}' * depth
    values = list(re.finditer(r'"values": \[', text))
    if values:
        m = rng.choice(values)
        return (text[:m.end()] + deep + ", " + text[m.end():]).encode("utf-8")
    return (deep if kind == 2 else text).encode("utf-8")


# Formats a header may name: RenkeiPercents sends any format holding a percent sign, and a
# hand-made request any text at all.
FORMATS = ['0%', '0.0%', '0.00%', '#%', '#,##0%', '0%;"▲"0%', '0%;[Red]-0%', '[>1]0%;0%', '0"%"', '0\\%', '"%"0',
           '0%%', '[DBNum1][$-411]0%', '0.0E+00%', '# ?/?%', '0%;;;', ';;;', '0', 'General', '@', '0%;@', '[h]:mm%',
           '#,##0,%', '0.0%"以上"', '"約"0%', '0' * 255, '%', '']


def _hex(text: str) -> str:
    return text.encode("utf-16-be", "surrogatepass").hex().upper()


def _numbers(payload: dict, sheet: str) -> list:
    """The cells of ``sheet`` in the payload that hold a number, as A1 references."""
    from openpyxl.utils import get_column_letter

    for s in payload.get("sheets") or []:
        if isinstance(s, dict) and s.get("name") == sheet and isinstance(s.get("values"), list):
            return [f"{get_column_letter(c)}{r}" for r, row in enumerate(s["values"], 1) if isinstance(row, list)
                    for c, v in enumerate(row, 1) if type(v) in (int, float) and c <= 16384]
    return []


def percents_for(payload: dict, rng):
    """X-Renkei-Percents sent beside ``payload``: none (as a master whose VBA predates it), as
    RenkeiPercents writes it for the payload sent (remote_payload.percent_header_of), with
    sheets it could not read, or a hostile one drawn part by part."""
    from remote_payload import PERCENTS_OVERFLOW, percent_header_of, with_unknown_sheets

    kind = rng.randrange(6)
    if kind == 0:
        return None
    try:
        true = percent_header_of(payload)
    except (TypeError, AttributeError, UnicodeEncodeError):   # a sheet named by a list, a number, a lone surrogate: no book
        true = None
    names = [s.get("name") for s in payload.get("sheets") or [] if isinstance(s, dict) and isinstance(s.get("name"), str)]
    if kind == 1:
        return true
    if kind == 2 and names:
        return with_unknown_sheets(true, rng.sample(names, rng.randint(1, min(3, len(names)))))
    if kind == 3:
        return rng.choice([PERCENTS_OVERFLOW, "1", "2", "2;", "1;" + (true or "2")[2:], (true or "2") + ";",
                           (true or "2") + ";" + "0041" * 3 + "/+", "2;" + "00" * 9000, " 2 ", "2;D800/0025/A1",
                           "2;" + _hex("指標") + "/" + _hex("0%") + "/A0",
                           "2;" + _hex("指標") + "/+;" + _hex("指標") + "/+"])
    parts = []
    for _ in range(rng.randint(1, 6)):
        sheet = rng.choice(names + ["存在しないシート", "\ud800", "x" * 31] if names else ["x"])
        fmt = rng.choice(FORMATS)
        blocks = []
        numbers = _numbers(payload, sheet)
        for _ in range(rng.randint(1, 5)):
            col, row = rng.choice(["A", "B", "C", "D", "E", "F", "G", "H", "XFD"]), rng.choice([1, 2, 3, 5, 8, 13, 1048576])
            if numbers and rng.random() < .6:      # a cell that holds a number: its format is read
                blocks.append(rng.choice(numbers))
            elif rng.random() < .5:
                blocks.append(f"{col}{row}")
            else:
                col2, row2 = rng.choice(["A", "C", "H", "XFD"]), rng.choice([1, 4, 20, 1048576])
                blocks.append(f"{col}{row}:{col2}{row2}")
        parts.append(f"{_hex(sheet)}/+" if rng.random() < .1 else f"{_hex(sheet)}/{_hex(fmt)}/{','.join(blocks)}")
    return ";".join(["2", *parts])


# Doubles a hand-made X-Renkei-Currency may give a cell: near the numbers sent and far from them,
# huge, subnormal, and the bits of no number (NaN, infinities).
BITS = ["0000000000000000", "8000000000000000", "7FF0000000000000", "FFF0000000000000", "7FF8000000000001",
        "0000000000000001", "7FEFFFFFFFFFFFFF", "402800068DB8BAC7", "3FBF9ACFFA7EB6BF", "C3E0000000000000"]


def currency_for(payload: dict, rng):
    """X-Renkei-Currency sent beside ``payload``: none (a master before client 9), as the walk
    writes it for the payload sent (remote_payload.currency_header_of), or a hostile one."""
    import struct

    from remote_payload import CURRENCY_OVERFLOW, currency_header_of

    kind = rng.randrange(5)
    if kind == 0:
        return None
    if kind == 1:
        try:
            return currency_header_of(payload)
        except (TypeError, AttributeError, UnicodeEncodeError, KeyError):
            return None
    if kind == 2:
        return rng.choice([CURRENCY_OVERFLOW, "1", "2", "1;", " 1 ", "1;" + "00" * 3000, "1;D800/A1=" + BITS[7],
                           "1;" + _hex("指標") + "/+;" + _hex("指標") + "/+", "1;" + _hex("指標") + "/A1=" + BITS[7].lower()])
    names = [s.get("name") for s in payload.get("sheets") or [] if isinstance(s, dict) and isinstance(s.get("name"), str)]
    parts = []
    for sheet in rng.sample(names, min(len(names), rng.randint(1, 4))) + (["存在しないシート"] if rng.random() < .2 else []):
        if rng.random() < .1:
            parts.append(f"{_hex(sheet)}/+")
            continue
        cells = []
        numbers = _numbers(payload, sheet)
        for _ in range(rng.randint(1, 8)):
            ref = rng.choice(numbers) if numbers and rng.random() < .7 else rng.choice(["A1", "B2", "XFD1048576", "E2"])
            if rng.random() < .5 and numbers:
                bits = struct.pack(">d", rng.choice([0.00004, -0.00004, 0.5, 1e-9, 12.00005]) + rng.random()).hex().upper()
            else:
                bits = rng.choice(BITS)
            cells.append(f"{ref}={bits}")
        parts.append(f"{_hex(sheet)}/{','.join(cells)}")
    return ";".join(["1", *parts])


ESCAPED_QUOTES = [1_000, 40_000, 200_000]   # 40,000 held a worker 100 s before its 400 (qa-fuzz62-2)
NAME_CELLS = ["C3", "B2", "A1", "B6", "ZZZ1", "C3:C4"]


def open_string(body: bytes, rng) -> bytes:
    """A body whose last string is left open and holds many escaped quotes: after brackets
    that pair (「[]"」), or cut from a real body at a random place."""
    quotes = b'\\"' * rng.choice(ESCAPED_QUOTES)
    head = rng.choice([b'[]', b'{}', b'{"a": []', body[:rng.randrange(len(body))]])
    return head + b'"' + quotes + rng.choice([b'', b'"', b']', b'x' * 10])


def name_again(payload: dict, rng) -> str | None:
    """A workbook's defined name sent twice (its spelling, or its case changed), over another
    cell or its own: Excel holds one name of a spelling in a scope, so the body was made by
    hand and must be refused (400), not read at the last one's cell. The name, or None."""
    names = [n for n in payload.get("names") or [] if isinstance(n, dict) and n.get("book_scope") and isinstance(n.get("name"), str)]
    if not names:
        return None
    name = rng.choice(names)
    spelt = name["name"].swapcase() if rng.random() < .3 else name["name"]
    again = {**name, "name": spelt, "address": rng.choice(NAME_CELLS + [name.get("address")])}
    at = rng.randrange(len(payload["names"]) + 1)
    payload["names"].insert(at, again)
    return name["name"]


TABS64_SHARE = .3   # cases sending X-Renkei-Tabs (client 10, stop 64) drawn by tabs_for()
# Names a tab that is no worksheet may have in the open book: the sheets a click writes, a
# staff sheet's, the same but for case or width, Excel's longest, a chart's own.
TAB_NAMES = ["集計", "一覧", "検証結果", "次の一歩", "メニュー", "設定", "指標", "経年", "取込履歴", "ｼｭｳｹｲ", "一覧 ",
             "グラフ1", "Chart1", "x" * 31, "集" * 31, "'集計'", "[1]", "\u00a0"]


def tabs_for(payload: dict, rng) -> "str | None":
    """X-Renkei-Tabs sent beside ``payload`` (server.sheet_positions.other_tabs): as
    RenkeiChartSheets writes it for the payload sent (remote_payload.tabs_header_of), naming 1-4
    tabs (often a sheet the click writes or one the payload sends), or hostile: the overflow
    mark, another version, an empty part, small letters, a lone surrogate, a name past 31
    characters, past TABS_MAX. Only the oracle judges: a tab named as a sheet the click writes
    is refused by WritePlan.refuse_taken, which the suite holds."""
    from remote_payload import TABS_MAX, TABS_OVERFLOW, TABS_VERSION, tabs_header_of

    kind = rng.randrange(3)
    if kind == 0:
        try:
            return tabs_header_of(payload)
        except (TypeError, AttributeError):
            return None
    names = [s.get("name") for s in payload.get("sheets") or [] if isinstance(s, dict) and isinstance(s.get("name"), str)]
    if kind == 1:
        tabs = rng.sample(TAB_NAMES + names[:5], rng.randint(1, 4))
        return ";".join([TABS_VERSION, *(_hex(t) for t in tabs)])
    return rng.choice([TABS_OVERFLOW, TABS_VERSION, TABS_VERSION + ";", "2;" + _hex("集計"), TABS_VERSION + ";" + _hex("集計").lower(),
                       TABS_VERSION + ";D800", TABS_VERSION + ";" + _hex("x" * 32), TABS_VERSION + ";;" + _hex("集計"),
                       TABS_VERSION + (";" + _hex("集計")) * 2, " " + TABS_VERSION + ";" + _hex("一覧") + " ",
                       TABS_VERSION + ";" + ";".join([_hex("x" * 31)] * (TABS_MAX // 124 + 1)), TABS_VERSION + ";zz",
                       TABS_VERSION + ";" + _hex("集計") + "/+", "+;" + _hex("集計")])


def run_case(context: dict, case: Case) -> list:
    from remote_payload import client_body

    if (rng := case.rng_for("body62")).random() < BODY62_SHARE:   # its own draws: older cases replay as before
        return classes62(context, case, rng)
    payload = copy.deepcopy(context["payload"])
    # plain: values a person types, in the cells, the payload's shape kept, check or recalc: the
    # click runs, and reads the cells the header names
    plain = case.rng.random() < .35
    for _ in range(case.rng.randrange(1, 6)):
        (mutate_plain if plain else mutate)(payload, case.rng)
    entry, caption = case.rng.choice(ENTRIES[:2] if plain else ENTRIES)
    percents = percents_for(payload, case.rng)
    currency = currency_for(payload, case.rng)
    try:
        body = client_body(payload)
    except Exception:   # a payload no client could write (json refuses it): not a case
        return []
    if not plain and case.rng.random() < .3:
        body = mutate_body(body, case.rng)
    sent = case.folder / "payload.json"
    sent.write_bytes(body)
    case.inputs.append(sent)
    if percents is not None:
        header = case.folder / "x-renkei-percents.txt"
        header.write_text(percents, encoding="utf-8", errors="surrogatepass")
        case.inputs.append(header)
    if currency is not None:
        header = case.folder / "x-renkei-currency.txt"
        header.write_text(currency, encoding="utf-8", errors="surrogatepass")
        case.inputs.append(header)
    tabs = tabs_for(payload, rng) if (rng := case.rng_for("tabs64")).random() < TABS64_SHARE else None   # older cases replay as before
    if tabs is not None:
        header = case.folder / "x-renkei-tabs.txt"
        header.write_text(tabs, encoding="utf-8", errors="surrogatepass")
        case.inputs.append(header)
    case_master(context, case.folder)
    return [click(context, case.folder, entry, caption, body, percents, currency, tabs)]


def classes62(context: dict, case: Case, rng) -> list:
    """The bodies stop 62 found by hand (qa-fuzz62-2): an open string of escaped quotes (a
    refusal within the click's time, not a worker held for minutes), a defined name twice
    (refused, 400)."""
    from remote_payload import client_body

    payload = copy.deepcopy(context["payload"])
    entry, caption = rng.choice(ENTRIES)
    twice = name_again(payload, rng) if rng.random() < .5 else None
    body = client_body(payload)
    if twice is None:
        body = open_string(body, rng)
    sent = case.folder / "payload.json"
    sent.write_bytes(body)
    case.inputs.append(sent)
    case_master(context, case.folder)
    o = click(context, case.folder, entry, caption, body, percents_for(payload, rng) if twice else None)
    if twice is not None and not problem(o) and o.status != 400:
        o.note = f"a body naming 「{twice}」 twice was answered {o.status}, not refused as doctored (400)"
    return [o]

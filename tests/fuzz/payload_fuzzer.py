"""A real VBA client's payload of the FY2023 master with one to five values, rows or keys
replaced (error values, huge numbers, lone surrogates, lists where a value belongs, rows
cut short), through the server's ``handle()`` for check, recalc, split, rollover and
collect. A defect is what the oracle (fuzzlib.problem) calls one: a 500, a traceback, or
a hang of the click."""

from __future__ import annotations

import copy

from fuzzlib import Case
from server_base import case_master, click, server_master

NAME = "payload"
VALUES = [None, '', ' ', '#N/A', '#DIV/0!', '#REF!', True, False, 0, -0.0, 1e308, -1e308, 1e-320, 2**53 + 1,
          12345678901234567890, '1,000', '１２', '以上', '50%', '2023-04-01T00:00:00.000Z', '2023/4/1', 'R5.3.31',
          '令和5年3月31日', '◎', '□', '×', '－', '―', '-', 'x' * 40000, '=A1', "'123", '\u0000', '\ud800', '𠮷野家', 'A\nB',
          45000.5, -45000, 60, 2958466, -1, 0.1 + 0.2, [1, 2], {'a': 1}]
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


def run_case(context: dict, case: Case) -> list:
    from remote_payload import client_body

    payload = copy.deepcopy(context["payload"])
    for _ in range(case.rng.randrange(1, 6)):
        mutate(payload, case.rng)
    entry, caption = case.rng.choice(ENTRIES)
    try:
        body = client_body(payload)
    except Exception:   # a payload no client could write (json refuses it): not a case
        return []
    sent = case.folder / "payload.json"
    sent.write_bytes(body)
    case.inputs.append(sent)
    case_master(context, case.folder)
    return [click(context, case.folder, entry, caption, body)]

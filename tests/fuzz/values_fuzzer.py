"""Values Excel would accept, typed through openpyxl into 設定, 指標, 経年, 取込履歴 and the
municipality sheets of a master (error values, full-width digits, era dates, marks that
look like ◎/×, formulas, huge and tiny numbers, long texts), then two of the commands.
A defect is what the oracle (fuzzlib.problem) calls one: such values must get a message
naming sheet and cell, or be taken as Excel means them."""

from __future__ import annotations

import datetime as dt

from fuzzlib import Case
from parts_fuzzer import master_commands, run_commands

NAME = "values"
VALUES = [None, '', ' ', '#N/A', '#DIV/0!', '#REF!', '#VALUE!', True, False, 0, -0.0, 1e308, -1e308, 1e-320, 2**53 + 1,
          '1,000', '１２', '以上', '50%', '2023/4/1', 'R5.3.31', '令和5年3月31日', '◎', '□', '×', '－', '―', '-', '−', 'ー',
          'x' * 5000, "'123", '𠮷野家', 'A\nB', 45000.5, -45000, 60, 2958465, -1, 0.1 + 0.2, 0.5, 1, 100, 1.0000001,
          dt.datetime(1900, 1, 1), dt.datetime(2023, 3, 31), dt.datetime(9999, 12, 31), dt.date(2024, 2, 29), dt.time(12, 0),
          '=1/0', '=A1', '=NA()', '=""', '=TRUE', '  12  ', '12 回', '12回', '0.5割', '5割', '50％', '△5', '▲3', '(3)', '1e3',
          'NaN', 'inf', '全市町村', '札幌市', '合計', '中心市のみ', '状態', '手入力', '比率', '達成済み', '実施', '未実施', '2023',
          2023, 2101, 1999, '２０２３',
          # every error value Excel has, and the numbers, dates and texts at its limits
          '#NULL!', '#NAME?', '#NUM!', '#GETTING_DATA', 9.99999999999999e307, -9.99999999999999e307, 1e-308, -1e-308,
          2.2250738585072014e-308, 5e-324, 1.7976931348623157e308, 1e15, 999999999999999, 0.1, -1e-15, 2958465.9999999,
          dt.datetime(1900, 2, 28), dt.datetime(1900, 3, 1), dt.datetime(1899, 12, 31), dt.datetime(1900, 1, 1, 0, 0, 1),
          dt.datetime(9999, 12, 31, 23, 59, 59, 999999), dt.date(1900, 1, 1), dt.date(9999, 12, 31), dt.timedelta(days=1.5),
          dt.time(23, 59, 59, 999999), 'x' * 32767, 'あ' * 32767, '𠮷' * 16383, '\t', '\r\n', ' 札幌市', '札幌市 ', '札幌市\u3000',
          '=' + 'A' * 8000, '=#N/A', '=NA()+1', "='小樽市'!A1", '=1E+308*10', '1900/2/29', '9999/12/31', '10000/1/1']
SHEETS = ('設定', '指標', '経年', '小樽市', '札幌市', '千歳市', '取込履歴')


def typed_copy(src, case: Case):
    """``src`` with one to five cells typed over, saved by openpyxl as a staff edit is."""
    import openpyxl

    keep_vba = src.suffix == ".xlsm"
    wb = openpyxl.load_workbook(src, keep_vba=keep_vba)
    rng = case.rng
    for _ in range(rng.randrange(1, 6)):
        ws = wb[rng.choice([n for n in wb.sheetnames if n in SHEETS])]
        filled = [c for r in ws.iter_rows(max_row=90) for c in r if c.value is not None] if rng.random() < .6 else []
        if filled:   # a cell the contract reads: mostly one that holds something already
            row, col = (c := rng.choice(filled)).row, c.column
        else:
            row = rng.randrange(1, max(2, min(ws.max_row, 90)) + 1)
            col = rng.randrange(1, max(2, ws.max_column) + 1)
        value = rng.choice(VALUES)
        try:
            ws.cell(row, col).value = value
        except Exception:   # openpyxl refuses what Excel would (a merged cell's tail): not typed
            pass
    out = case.folder / ("m" + src.suffix)
    wb.save(out)
    case.inputs.append(out)
    return out


def run_case(masters: dict, case: Case) -> list:
    master = typed_copy(masters[case.rng.choice(["xlsm", "xlsx"])], case)
    return run_commands(case, master, [case.rng.choice(sorted(master_commands(master, case.folder)))])

"""The faces walker: random staff edits, then the command line and the button must agree.

Not collected by pytest (a script): ``.venv/bin/python tests/fuzz/faces_fuzz.py --seconds 900
[--seed N] [--replay .fuzz/faces/fail-<seed>/edits.json]`` (findings in .fuzz/faces/).

Each case copies the FY2023 sample master (``init --sample fy2023``: the .xlsm with the VBA
the buttons need, as tests/test_faces.py builds it), applies 1-5 staff edits through openpyxl
(values typed into the municipality sheets and 指標 — numbers, text numbers, full-width digits,
以上/約, percentages, error values, empty strings, TRUE, dates, long text, units, negatives,
huge numbers —, a municipality sheet's row deleted or duplicated, a 目標値 or 集計方法 changed,
概ね達成閾値 changed; and, after those, protection as staff set it in Excel, drawn with
``--protection``'s weight: sheets protected with or without a password, in the form Excel
2007/2010 (the legacy hash) or 2013+ (SHA-512) saves it, a tool sheet's protection lifted, the
structure protected, a tool sheet deleted), saves it, and runs 入力チェック and 評価を再計算 on
both faces from that one file:

- the command line: ``renkei-xl validate`` / ``recalc`` on a copy, in a bounded child
  (fuzzlib.run_cli: timeout, memory limit, the oracle fuzzlib.problem);
- the button as the renkei-xl server runs it (server.app.run_button on xlwings' remote engine,
  the payload the master's VBA sends, with X-Renkei-Percents where its VBA sends it (client 7;
  ``--no-percents``: as an older master), the saved master named as admission names it), its
  answer replayed on the model of Excel's VBA client (tests/remote_payload.apply_actions).
  With ``--unsaved`` and the header, every 検証結果 row must be the command line's; without
  it, only rows on the cells typed since the save may differ (unsaved_differences).

A defect is: a traceback, 「予期しないエラー」 or a hang on either face; an answer Excel would
refuse to replay; one face refusing and the other not, or two refusals in other words — but
a sheet the click writes that has a password, which the button refuses (naming it) and the
command line writes keeping the password, as the README promises; a refusal that changed the
file or answered with a write; a sheet's password or the book's protection the command line
did not keep byte for byte; a staff sheet's protection one face leaves otherwise; and
anything of what the plan writes that the faces leave differently — the cells of 一覧, 集計,
検証結果 (and 次の一歩) with their looks, merges, sizes, links, conditional formats, panes,
page and protection, and the fill of each cell marked or lifted in the municipality sheets —
compared by tests/test_faces.faces_differ, the suite's own comparison — and any value of 設定,
指標 or a municipality sheet one face leaves otherwise than the other. A failed case is kept
in OUT/fail-<seed>/ (edits.json, the edited master, what each face said).
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import os
import random
import re
import shutil
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")   # the remote engine (tests only)

import fuzzlib  # noqa: E402

ROOT = HERE.parents[1]
MUNIS = ["札幌市", "小樽市", "岩見沢市", "江別市", "千歳市", "恵庭市", "北広島市", "石狩市",
         "当別町", "新篠津村", "南幌町", "長沼町"]
ENTRIES = ("check", "recalc")
STAFF_SHEETS = ["設定", "指標"]
OLE_EPOCH = dt.datetime(1899, 12, 30)     # the day a client's date counts from (remote_payload.client_date)
LEAP_1900_END = dt.datetime(1900, 3, 1)   # from here Excel's serial is the OLE day
CLIENT_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
# Whose payload the button gets: the master's VBA (RenkeiServer.bas). The server refuses every other
# client (Office.js and xlwings' other clients: server.place), so there is no other face to compare;
# --client Office.js, which ran an add-in's payload as the master's, went with that refusal.
CLIENT = "VBA"
# How often a protection edit is drawn (--protection W: its weight among the edits, 0 none).
PROTECTION = {"weight": 1.0}
UNSAVED = {"weight": 0.0}      # --unsaved: the share of cases with values typed after the last save
# --merges: the share of unsaved cases that also merge cells of an input area since the save
MERGES = {"weight": 0.0}
PERCENTS = {"send": True}      # --no-percents: the button without X-Renkei-Percents (a master before client 7)
HEADER = {"sent": False}       # whether the last live_face sent X-Renkei-Percents
# --unknown: the share of unsaved cases whose header names some sheets typed into since the save
# as not known (header version 2: RenkeiPercents past its bound of cells read one by one, or an
# error on that sheet): the marker's "unknown"; the sheets of the case being compared
UNKNOWN = {"weight": 0.0, "sheets": frozenset()}
# --currency: the share of unsaved cases that also type a number into a Currency- or
# Accounting-formatted cell since the save (the cell saved with that format, or given it
# since): VBA's Range.Value sends it as a Currency of four decimals, client 9's
# X-Renkei-Currency its Value2 (core.currency). With both headers sent, the faces read the
# same numbers: 一覧 and 集計 are compared as well as 検証結果 (CURRENCY_SINCE).
CURRENCY = {"weight": 0.0}
CURRENCY_FORMATS = ("[$¥-411]#,##0.00", '"¥"#,##0;[Red]"¥"\\-#,##0', '\\¥#,##0.00', '"$"#,##0.00',
                    '_ "¥"* #,##0.00_ ;_ "¥"* \\-#,##0.00_ ;_ "¥"* "-"??_ ;_ @_ ', "#,##0.00 [$€-407]",
                    '[$$-409]#,##0.00;[Red]-[$$-409]#,##0.00')
# past four decimals (rounded by VBA's Currency), at a tie, rounding to a whole number, tiny,
# negative, at and past Currency's range, and numbers Currency holds as they are
CURRENCY_NUMBERS = (0.123456, 12.00005, 45021.00005, 1234.56789, -0.00004, 0.00005, 99.99999, 1e-05,
                    -12.345678, 3.14159265, 123456789.123456, 922337203685477.0, 1e16 + 2, 12.5, 1.1, 7, 0.0001)
TOOL_SHEETS = ["メニュー", "一覧", "集計", "検証結果", "経年", "次の一歩"]
# A tool sheet a click makes again when staff deleted it (so a protected structure meets it).
REMADE = ["検証結果", "次の一歩", "集計"]
SEEN: dict[str, int] = {}     # how the compared runs ended (both refused, both ran), for the summary
# Municipality sheet: E 実績値, F 分母, G 実施状況 (D 単位 now and then); 指標: G 基準値, H 目標値,
# I 集計方法, K 実績値（手入力）, L 実施状況（手入力）.
MUNI_COLS = (5, 5, 5, 6, 7, 7, 4, 1)
INDICATOR_COLS = (11, 11, 12, 8, 7)
ERRORS = ("#N/A", "#DIV/0!", "#REF!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!")
TEXTS = ("12", "１２", "１２．５", "10以上", "約10件", "10件程度", "85%", "８５％", "1,234", "12件", "3万人",
         "27兆９千億円", "1億408万円", "▲5", "-3", "－", "―", "", " ", "維持", "実施", "未実施", "策定",
         "常時", "開設", "検討完了", "R5.10/10", "令和５年度", "2023年度まで", "（毎年度）", "TRUE", "ＴＲＵＥ",
         "1E3", "1/2", "0", "０", "12\n13", "'12", "約", "以上", "11／12", "全市町村", "43.9万人", "31千人")
PCT_NUMBERS = (0.5, 1, 1.05, 2.5, 85, 0.85, None)
PCT_FORMATS = ("0%", "0.0%", '0%;"▲"0%')
METHODS = ("合計", "参加市町村数", "中心市のみ", "手入力", "比率", "状態", "自動", "ほげ", "", "合計 ")
THRESHOLDS = ((0.85, None), (0.8, None), (0.9, "0%"), (1, None), (0, None), (1.5, None), (-0.1, None),
              ("85%", None), ("0.85", None), ("abc", None), ("", None), ("#N/A", None), (True, None))


# ------------------------------------------------------------------ drawing edits

def draw_value(rng: random.Random) -> list:
    """One value as staff type it, JSON-shaped so a case replays from its edits.json."""
    kind = rng.choice(["num", "num", "text", "text", "text", "error", "pct", "bool", "date", "long",
                       "huge", "empty", "formatted", "pctfmt", "pctfmt"])
    if kind == "num":
        return ["num", rng.choice([rng.randint(0, 500), round(rng.uniform(0, 200), rng.randint(0, 3)),
                                   -rng.randint(1, 100), 0])]
    if kind == "text":
        return ["text", rng.choice(TEXTS)]
    if kind == "error":
        return ["error", rng.choice(ERRORS)]
    if kind == "pct":
        return ["pct", round(rng.uniform(0, 1.5), 3)]
    if kind == "bool":
        return ["bool", rng.random() < 0.5]
    if kind == "date":
        day = dt.date(2023, 4, 1) + dt.timedelta(days=rng.randint(-400, 800))
        return ["date", day.isoformat()]
    if kind == "long":
        # up to Excel's 32,767 characters a cell holds (openpyxl writes more; no staff member can)
        word = rng.choice(["長い説明の文章です。", "実施した。", "x"])
        return ["text", word * rng.choice([40, 400, 32_767 // len(word)])]
    if kind == "huge":
        return ["num", rng.choice([1e15, 1e300, 10 ** 20, -1e12, 123456789012345678, 1e-300])]
    if kind == "pctfmt":        # a percent-formatted input cell as Excel stores it (core.percent_cells)
        # 「50%」「100%」「105%」「250%」 typed (0.5, 1, 1.05, 2.5), 85 typed before the format was
        # given (「8500%」), or the cell emptied keeping its format (collect writes there later)
        return ["formatted", rng.choice(PCT_NUMBERS), rng.choice(PCT_FORMATS)]
    if kind == "formatted":     # a number in a cell of another format, or a number typed into 文字列
        # Currency and Accounting (Range.Value a VBA Currency: four decimals, qa-107), a 和暦
        # date and a time of day (a VBA Date) among them, and numbers past four decimals
        return ["formatted", rng.choice([rng.randint(0, 5000), round(rng.uniform(0, 100), 2), "12", "１２",
                                         round(rng.uniform(-100, 100), 5), rng.randint(40000, 50000) + 0.00005]),
                rng.choice(["#,##0", "0.0", "@", "0.00%", "#,##0\"件\"", "[h]:mm", "yyyy/m/d", "0.0E+00",
                            "[$¥-411]#,##0.00", '"¥"#,##0;[Red]"¥"\\-#,##0',
                            '_ "¥"* #,##0.00_ ;_ "¥"* \\-#,##0.00_ ;_ "¥"* "-"??_ ;_ @_ ',
                            '[$-411]ggge"年"m"月"d"日"', "h:mm:ss"])]
    return ["empty", None]


def draw_protection(rng: random.Random) -> dict:
    """One protection edit as staff make it in Excel (校閲 → シートの保護 / ブックの保護 /
    シート保護の解除), or a tool sheet deleted (so that a click must add it again)."""
    kind = rng.choices(["sheetprot", "unprotect", "bookprot", "dropsheet"], weights=[6, 2, 2, 1])[0]
    password = rng.choice([None, None, "legacy", "sha512", "sha512"])
    if kind == "sheetprot":
        return {"kind": kind, "sheet": rng.choice(TOOL_SHEETS * 2 + MUNIS + STAFF_SHEETS * 2),
                "password": password, "options": rng.choice(["excel", "excel", "tool", "filter"])}
    if kind == "unprotect":
        return {"kind": kind, "sheet": rng.choice(TOOL_SHEETS + MUNIS[:2])}
    if kind == "bookprot":
        return {"kind": kind, "password": password}
    return {"kind": kind, "sheet": rng.choice(REMADE)}


def draw_edits(rng: random.Random) -> list[dict]:
    # Half the cases start from the master as staff have it after their first 評価を再計算
    # (次の一歩 made): a protected structure then meets a sheet to add only when one was deleted.
    edits = [{"kind": "recalculated"}] if PROTECTION["weight"] and rng.random() < 0.5 else []
    for _ in range(rng.randint(1, 5)):
        kind = rng.choices(["muni", "indicator", "delete", "duplicate", "target", "method", "threshold", "fill",
                            "merge", "protect", "hide", "basedate", "rename", "protection"],
                           weights=[8, 3, 1, 1, 2, 2, 1, 2, 1, 1, 1, 1, 0.3, PROTECTION["weight"]])[0]
        if kind == "protection":
            edits.append(draw_protection(rng))
            continue
        if kind == "muni":
            edits.append({"kind": kind, "sheet": rng.choice(MUNIS), "row": rng.randint(2, 40),
                          "col": rng.choice(MUNI_COLS), "value": draw_value(rng)})
        elif kind == "indicator":
            edits.append({"kind": kind, "row": rng.randint(2, 81), "col": rng.choice(INDICATOR_COLS),
                          "value": draw_value(rng)})
        elif kind in ("delete", "duplicate"):
            edits.append({"kind": kind, "sheet": rng.choice(MUNIS), "row": rng.randint(2, 40)})
        elif kind == "target":
            edits.append({"kind": kind, "row": rng.randint(2, 81), "value": draw_value(rng)})
        elif kind == "method":
            edits.append({"kind": kind, "row": rng.randint(2, 81), "value": ["text", rng.choice(METHODS)]})
        elif kind == "fill":       # staff colour an input cell (its own fill comes back when a mark is lifted)
            edits.append({"kind": kind, "sheet": rng.choice(MUNIS), "row": rng.randint(2, 40),
                          "col": rng.choice(MUNI_COLS), "fill": rng.choice(["FFFF00", "FFC7CE", "FF9999", "FFFFFF", None])})
        elif kind == "merge":      # cells merged over a row of a municipality sheet
            col = rng.randint(1, 6)
            edits.append({"kind": kind, "sheet": rng.choice(MUNIS), "row": rng.randint(2, 40), "col": col,
                          "rows": rng.choice([0, 0, 1]), "cols": rng.randint(1 if col < 6 else 0, 2)})
        elif kind == "protect":    # a municipality sheet protected without a password
            edits.append({"kind": kind, "sheet": rng.choice(MUNIS)})
        elif kind == "hide":       # a row or a column of a municipality sheet hidden
            edits.append({"kind": kind, "sheet": rng.choice(MUNIS), "row": rng.choice([None, rng.randint(2, 40)]),
                          "col": rng.choice(MUNI_COLS)})
        elif kind == "basedate":   # 基準日 (the deadline rules read it)
            edits.append({"kind": kind, "value": rng.choice([
                ["date", rng.choice(["2024-03-31", "2023-03-31", "2025-04-01", "2030-03-31"])],
                ["text", rng.choice(["R6.3.31", "2024/3/31", "令和6年3月31日", "来年", ""])], draw_value(rng)])})
        elif kind == "rename":     # a municipality sheet renamed (設定 still names the old one)
            edits.append({"kind": kind, "sheet": rng.choice(MUNIS), "to": rng.choice(["小樽", "小樽市 ", "ｵﾀﾙ市", "新市"])})
        else:
            value, fmt = rng.choice(THRESHOLDS)
            edits.append({"kind": kind, "value": ["bool" if value is True else "num" if isinstance(value, (int, float))
                                                  else "text", value], "format": fmt})
    if rng.random() < UNSAVED["weight"]:
        edits += draw_unsaved(rng, edits)
    return edits


def draw_unsaved(rng: random.Random, saved: list[dict]) -> list[dict]:
    """Values typed after the last save into the open book (the button's payload holds them;
    the saved master the server reads formats from does not): the marker {"kind": "saved"},
    then 1–3 values, often over a cell an edit before gave a percent format (「100%」 saved,
    then 「50%」 or 「250%」 typed over it: Excel keeps the 0% and stores 0.5, 2.5), or a
    percent typed into a 標準 cell (Excel gives it 0%). Only values: a fill, row or protection
    changed since the save is another matter (the server reads those from the saved master)."""
    tail = [{"kind": "saved"}]
    earlier = [e for e in saved if e["kind"] in ("muni", "indicator", "target")]
    for _ in range(rng.randint(1, 3)):
        value = (["formatted", rng.choice([0.5, 1, 1.05, 2.5, 0.85, 85, 12]), rng.choice(PCT_FORMATS)]
                 if rng.random() < 0.7 else draw_value(rng))
        if earlier and rng.random() < 0.6:
            e = dict(rng.choice(earlier))
            e["value"] = value
        else:
            e = rng.choice([{"kind": "muni", "sheet": rng.choice(MUNIS), "row": rng.randint(2, 40), "col": 5},
                            {"kind": "indicator", "row": rng.randint(2, 81), "col": 11},
                            {"kind": "target", "row": rng.randint(2, 81)}])
            e["value"] = value
        tail.append(e)
    if MERGES["weight"] and rng.random() < MERGES["weight"]:     # (no draw without: seeds replay as before)
        # cells merged since the save over a municipality sheet's input area (実績値, 分母,
        # 実施状況), maybe over a cell just typed: the server knows the saved master's merges
        # only; the master's RenkeiCheckWritten refuses a write the merge meets before any
        tail.append({"kind": "merge", "sheet": rng.choice(MUNIS), "row": rng.randint(2, 40),
                     "col": rng.choice((5, 5, 6, 7)), "rows": rng.choice([0, 1, 1, 2]), "cols": rng.choice([0, 0, 1, 2])})
        if rng.random() < .4:     # or over cells of a sheet the click writes (a heading made wider)
            tail[-1].update(sheet=rng.choice(["一覧", "集計", "検証結果", "次の一歩"]), row=rng.randint(1, 30),
                            col=rng.randint(1, 8))
        if rng.random() < .25:    # or over メニュー's 最終実行日時 / 最終実行結果 (B11:C12), which each click writes
            tail[-1].update(sheet="メニュー", row=rng.randint(10, 12), col=rng.randint(2, 4))
        if rng.random() < .3:     # or an array formula entered ({=…}, Ctrl+Shift+Enter) where the click writes
            tail[-1] = {"kind": "array", "sheet": rng.choice(["一覧", "集計", "検証結果"]), "row": rng.randint(1, 30),
                        "col": rng.randint(1, 8), "rows": rng.choice([0, 1])}
    pre = []       # edits before the save's marker (a cell saved with a Currency format)
    if CURRENCY["weight"] and rng.random() < CURRENCY["weight"]:     # (no draw without: seeds replay as before)
        for _ in range(rng.randint(1, 3)):
            fmt = rng.choice(CURRENCY_FORMATS)
            e = rng.choice([{"kind": "muni", "sheet": rng.choice(MUNIS), "row": rng.randint(2, 40), "col": 5},
                            {"kind": "muni", "sheet": rng.choice(MUNIS), "row": rng.randint(2, 40), "col": 6},
                            {"kind": "indicator", "row": rng.randint(2, 81), "col": 11},
                            {"kind": "indicator", "row": rng.randint(2, 81), "col": 7},
                            {"kind": "target", "row": rng.randint(2, 81)}])
            how = rng.choice(["saved", "saved", "since", "plain"])
            if how == "saved":       # formatted and saved with a number; another typed since (the format kept)
                pre.append({**e, "value": ["formatted", rng.choice(CURRENCY_NUMBERS), fmt]})
            # "plain": typed with no format since, into a cell saved with one (the format kept)
            if how == "plain":
                pre.append({**e, "value": ["formatted", rng.choice([12, 0.5, 1234.56789]), fmt]})
            number = rng.choice(CURRENCY_NUMBERS + ("random",))
            if number == "random":      # any number of up to seven decimals (12.3457 × 10,000 is no whole float)
                number = round(rng.uniform(-5000, 5000), rng.randint(4, 7))
            tail.append({**e, "value": ["formatted", number, fmt], "currency": True})
    if UNKNOWN["weight"] and rng.random() < UNKNOWN["weight"]:
        typed = sorted({e.get("sheet", "指標") for e in tail[1:] if e["kind"] != "merge"})
        chosen = [sheet for sheet in typed if rng.random() < .6] or [rng.choice(typed)]
        if rng.random() < .3:       # and a sheet nothing was typed into since
            chosen.append(rng.choice(MUNIS))
        tail[0]["unknown"] = sorted(set(chosen))
    return pre + tail


# ------------------------------------------------------------------ applying them

PROTECTION_EDITS = ("sheetprot", "unprotect", "bookprot", "dropsheet")
PASSWORD = "職員のみ"      # what staff typed; the tool never knows it


def excel_hash(password: str, salt: bytes, spin: int = 100_000) -> bytes:
    """The SHA-512 hash Excel 2013+ writes for a protection password (ECMA-376 Part 1,
    18.2.29 / 18.3.1.85; MS-OFFCRYPTO 2.3.7.1): H0 = SHA-512(salt + UTF-16LE password),
    then spinCount rounds of H = SHA-512(H + the round's number, 4 bytes little-endian)."""
    import hashlib

    h = hashlib.sha512(salt + password.encode("utf-16-le")).digest()
    for i in range(spin):
        h = hashlib.sha512(h + i.to_bytes(4, "little")).digest()
    return h


def _sheet_protection(e: dict, salt: bytes):
    """The sheetProtection Excel writes: its dialog's defaults (select locked and unlocked
    cells, nothing else: objects and scenarios protected), the tool's own options (format
    rows/columns, filter), or filtering alone; the password as Excel 2007/2010 wrote it
    (the legacy 16-bit hash, openpyxl's ``password``) or as Excel 2013+ does (SHA-512,
    base64 hash and salt, spinCount 100000)."""
    import base64

    from openpyxl.worksheet.protection import SheetProtection

    p = SheetProtection(sheet=True, objects=True, scenarios=True)
    if e["options"] in ("tool", "filter"):
        p.autoFilter = False
    if e["options"] == "tool":
        p.formatRows = p.formatColumns = False
    if e["password"] == "legacy":
        p.password = PASSWORD
    elif e["password"] == "sha512":
        p.algorithmName, p.spinCount = "SHA-512", 100_000
        p.saltValue = base64.b64encode(salt).decode()
        p.hashValue = base64.b64encode(excel_hash(PASSWORD, salt)).decode()
    return p


def _book_protection(e: dict, salt: bytes):
    """workbookProtection as Excel writes 「ブックの保護」 (構成): lockStructure, and the
    password as the legacy hash (workbookPassword) or SHA-512 (workbookAlgorithmName…)."""
    import base64

    from openpyxl.workbook.protection import WorkbookProtection

    p = WorkbookProtection(lockStructure=True)
    if e["password"] == "legacy":
        p.workbook_password = PASSWORD      # openpyxl's setter hashes it as Excel 2007 did
    elif e["password"] == "sha512":
        p.workbookAlgorithmName, p.workbookSpinCount = "SHA-512", 100_000
        p.workbookSaltValue = base64.b64encode(salt).decode()
        p.workbookHashValue = base64.b64encode(excel_hash(PASSWORD, salt)).decode()
    return p

def _put(cell, value: list) -> None:
    kind, v = value[:2]
    if type(cell).__name__ == "MergedCell":      # inside a merged area: Excel types into none of it
        return
    if kind == "error":
        cell.value = v          # openpyxl stores a known error code as an error cell (t="e")
    elif kind == "pct":
        cell.value = v
        cell.number_format = "0%"
    elif kind == "date":
        cell.value = dt.date.fromisoformat(v)
        cell.number_format = "yyyy/m/d"
    elif kind == "empty":
        cell.value = None
    elif kind == "formatted":
        cell.value = v
        cell.number_format = value[2]
    else:
        cell.value = v


# apply_edits' last books made from edits with no save's marker (the saved master of a case,
# or a case typing nothing since): the bytes by (master, its size and time, the edits). A case
# whose saved master has no edits before the marker (a replay, the suite's cases) re-saved the
# unchanged master through openpyxl each time; a seed's edits come back as the next case's
# saved part in the suite. A few are kept: a run's drawn cases seldom repeat.
_MADE: dict[tuple, bytes] = {}
_MADE_KEPT = 4


def apply_edits(master: Path, out: Path, edits: list[dict]) -> Path:
    """``master`` with ``edits`` made through openpyxl, saved as ``out`` (VBA kept). Edits
    with no save's marker change nothing but the book, so the book is taken from ``_MADE``
    when the same master had the same edits before."""
    from openpyxl import load_workbook

    from renkei_xl.core import contract as c

    made = None
    if not any(e["kind"] in ("saved", "array") for e in edits):     # (those two note what was typed since)
        stat = Path(master).stat()
        made = (str(Path(master).resolve()), stat.st_size, stat.st_mtime_ns, json.dumps(edits, ensure_ascii=False))
        if made in _MADE:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(_MADE[made])
            return out
    wb = load_workbook(master, keep_vba=True)
    # each case's salts replay with it; the saved master's (edits before the marker) are the same
    kept = edits[:[e["kind"] for e in edits].index("saved")] if any(e["kind"] == "saved" for e in edits) else edits
    salts = random.Random(json.dumps(kept, ensure_ascii=False))
    # Staff type first and protect after (a protected sheet's locked cells take no typing):
    # the protection edits last, in their order.
    since = False
    if any(e["kind"] == "saved" for e in edits):     # the whole book (not the saved master's edits)
        TYPED_SINCE.clear()
        TYPED_IDS.clear()
        TYPED_FINAL.clear()
        SHARE_ROWS.clear()
        MANUAL_ROWS.clear()
        MERGED_SINCE.clear()
        MERGED_IDS.clear()
        ARRAY_SINCE.clear()
        CURRENCY_SINCE.clear()
    for e in sorted(edits, key=lambda e: e["kind"] in PROTECTION_EDITS):
        kind = e["kind"]
        since = since or kind == "saved"
        if since and kind in ("muni", "indicator", "target") and e.get("sheet", c.INDICATORS) in wb.sheetnames:
            ws = wb[e.get("sheet", c.INDICATORS)]
            row = min(e["row"], ws.max_row + 1) if kind == "muni" else e["row"]
            TYPED_SINCE.add((ws.title, f"{_letter(e['col'] if kind != 'target' else 8)}{row}"))
            key = ws._cells.get((row, 1))      # not ws.cell(): that makes the cell, and moves max_row
            if kind == "target" and (ws.title, row) not in SHARE_ROWS:
                # the row counts in % whatever the typed target is: its saved target says %, or
                # its 集計方法 is 自動 (達成割合) or 比率 (README; core.percent_cells)
                was, method = ws._cells.get((row, 8)), ws._cells.get((row, 9))
                SHARE_ROWS[(ws.title, row)] = (any(ch in str(was.value if was else "") for ch in "%％")
                                               or str(method.value if method else "").strip() in ("自動", "比率"))
            TYPED_FINAL[(ws.title, f"{_letter(e['col'] if kind != 'target' else 8)}{row}")] = (
                None if e["value"][0] == "empty" else e["value"][1],
                e["value"][2] if e["value"][0] == "formatted" else "0%" if e["value"][0] == "pct" else None,
                None if key is None or key.value in (None, "") else str(key.value))
            if key is not None and key.value not in (None, ""):
                TYPED_IDS.add(str(key.value))
            if kind == "indicator" and e["col"] == 11 and (ws.title, row) not in MANUAL_ROWS:
                # 実績値（手入力）: its row's 目標値 and 集計方法 as they stood when it was typed,
                # which say whether the cell is read at all and whether it counts in %
                was, method = ws._cells.get((row, 8)), ws._cells.get((row, 9))
                MANUAL_ROWS[(ws.title, row)] = ("" if was is None or was.value is None else str(was.value),
                                                "" if method is None or method.value is None else str(method.value).strip())
            if e.get("currency"):
                CURRENCY_SINCE.add((ws.title, f"{_letter(e['col'] if kind != 'target' else 8)}{row}"))
        if since and kind == "merge" and e["sheet"] in wb.sheetnames and (e["rows"] or e["cols"]):
            ws = wb[e["sheet"]]
            for row in range(e["row"], e["row"] + e["rows"] + 1):
                key = ws._cells.get((row, 1))
                if key is not None and key.value not in (None, ""):
                    TYPED_IDS.add(str(key.value))
                    MERGED_IDS.add(str(key.value))
                for col in range(e["col"], e["col"] + e["cols"] + 1):
                    TYPED_SINCE.add((ws.title, f"{_letter(col)}{row}"))
                    MERGED_SINCE.add((ws.title, f"{_letter(col)}{row}"))
        if kind == "array":        # drawn after the save only (draw_unsaved)
            ws = wb[e["sheet"]] if e["sheet"] in wb.sheetnames else None
            if ws is not None and not any(m.min_col <= e["col"] <= m.max_col and m.min_row <= e["row"] + e["rows"]
                                          and e["row"] <= m.max_row for m in ws.merged_cells.ranges):
                # (Excel enters no array over a merged cell: 「配列数式は結合セルでは無効です」)
                from openpyxl.worksheet.formula import ArrayFormula

                for row in range(e["row"], e["row"] + e["rows"] + 1):
                    ws.cell(row, e["col"]).value = None
                    ARRAY_SINCE.add((ws.title, f"{_letter(e['col'])}{row}"))
                ref = f"{_letter(e['col'])}{e['row']}:{_letter(e['col'])}{e['row'] + e['rows']}"
                ws.cell(e["row"], e["col"]).value = ArrayFormula(ref, "=ROW()")
            continue
        if kind in ("recalculated", "saved"):     # the base master chosen (one_case); the save's marker
            continue
        if (kind in ("muni", "delete", "duplicate", "fill", "merge", "protect", "hide", "sheetprot", "unprotect",
                     "dropsheet") and e["sheet"] not in wb.sheetnames):
            continue       # renamed or deleted by an edit before
        if kind == "sheetprot":
            wb[e["sheet"]].protection = _sheet_protection(e, salts.randbytes(16))
        elif kind == "unprotect":
            wb[e["sheet"]].protection.sheet = False
        elif kind == "bookprot":
            wb.security = _book_protection(e, salts.randbytes(16))
        elif kind == "dropsheet":
            if wb.security is None or not wb.security.lockStructure:     # Excel deletes none then
                del wb[e["sheet"]]
        elif kind == "muni":
            ws = wb[e["sheet"]]
            _put(ws.cell(min(e["row"], ws.max_row + 1), e["col"]), e["value"])
        elif kind in ("indicator", "target", "method"):
            col = {"target": 8, "method": 9}.get(kind, e.get("col"))
            _put(wb[c.INDICATORS].cell(e["row"], col), e["value"])
        elif kind == "delete":
            ws = wb[e["sheet"]]
            ws.delete_rows(min(e["row"], ws.max_row))
        elif kind == "duplicate":
            ws = wb[e["sheet"]]
            row = min(e["row"], ws.max_row)
            ws.insert_rows(row + 1)
            for col in range(1, ws.max_column + 1):
                src, dst = ws.cell(row, col), ws.cell(row + 1, col)
                dst.value = src.value
                dst._style = src._style
        elif kind == "fill":
            from openpyxl.styles import PatternFill

            ws = wb[e["sheet"]]
            ws.cell(e["row"], e["col"]).fill = (PatternFill("solid", fgColor=e["fill"]) if e["fill"]
                                                else PatternFill(fill_type=None))
        elif kind == "merge":
            ws = wb[e["sheet"]]
            if e["rows"] or e["cols"]:
                ws.merge_cells(start_row=e["row"], start_column=e["col"], end_row=e["row"] + e["rows"],
                               end_column=e["col"] + e["cols"])
        elif kind == "protect":
            wb[e["sheet"]].protection.sheet = True
        elif kind == "hide":
            ws = wb[e["sheet"]]
            if e["row"]:
                ws.row_dimensions[e["row"]].hidden = True
            else:
                from openpyxl.utils import get_column_letter

                ws.column_dimensions[get_column_letter(e["col"])].hidden = True
        elif kind == "basedate":
            sheet, ref = _named(wb, c.N_BASE_DATE)
            _put(wb[sheet][ref], e["value"])
        elif kind == "rename":
            if e["sheet"] in wb.sheetnames and e["to"] not in wb.sheetnames:
                wb[e["sheet"]].title = e["to"]
        elif kind == "threshold":
            sheet, ref = _named(wb, c.N_THRESHOLD)
            _put(wb[sheet][ref], e["value"])
            if e.get("format"):
                wb[sheet][ref].number_format = e["format"]
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    if made is not None:
        _MADE[made] = out.read_bytes()
        while len(_MADE) > _MADE_KEPT:
            del _MADE[next(iter(_MADE))]
    return out


def _manual_may_be_named(target: str, method: str) -> bool:
    """Whether a percent typed since the save into 実績値（手入力） must be named by one face.

    The README's refusal is for a row counted in %; elsewhere the file face names the percent
    only against a 目標値 with a unit (validate's unit clash). So neither face says a word
    where the cell is never read (比率, 合計, 自動…: the municipalities' values or the other
    rows make the row, methods.MANUAL_NEVER; seed 137586, 1.05 on a 比率 row), nor on a row
    not in % whose target has no unit to clash with (a 基本KPI's 「現状値からの増加」: seed
    137574, 0.85 in 0.0% on 札幌駅の乗車人員数, shown as typed on the face that knew the format)."""
    from renkei_xl.core.methods import BY_NAME, MANUAL_NEVER
    from renkei_xl.core.values import ValueParseError, parse_input

    known = BY_NAME.get(method)
    if known is not None and known.manual == MANUAL_NEVER:
        return False
    if any(ch in target for ch in "%％"):
        return True
    try:
        return bool(parse_input(target).unit)
    except ValueParseError:
        return True       # an unreadable target is named itself; keep the promise strict


# The cells apply_edits typed into after the save's marker (sheet, A1 reference): the server
# cannot know their formats (it reads them from the saved master).
TYPED_SINCE: set[tuple[str, str]] = set()
SHARE_ROWS: dict = {}      # (sheet, row) → whether a target typed since is on a row counted in %
MANUAL_ROWS: dict = {}     # (sheet, row) → (目標値, 集計方法) of a 実績値（手入力） typed since
TYPED_FINAL: dict = {}     # (sheet, ref) → (the last value typed, its format)
TYPED_IDS: set[str] = set()       # the 指標IDs of their rows (a 目標値 read otherwise words others)
MERGED_SINCE: set[tuple[str, str]] = set()     # the cells of areas merged since the save
MERGED_IDS: set[str] = set()                   # the 指標IDs of their rows
CURRENCY_SINCE: set[tuple[str, str]] = set()   # --currency: the Currency-formatted cells typed since
ARRAY_SINCE: set[tuple[str, str]] = set()      # the cells of array formulas entered since the save


def _letter(col: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(col)


def _named(wb, name: str) -> tuple[str, str]:
    from renkei_xl.core.refs import named_cell

    return named_cell(wb.defined_names[name].attr_text)


# ------------------------------------------------------------------ the two faces

def file_face(entry: str, edited: Path, folder: Path):
    """The command line on a copy: (the copy, the outcome, the refusal's words or None)."""
    path = folder / "file" / entry / edited.name
    path.parent.mkdir(parents=True)
    shutil.copyfile(edited, path)
    # guarded: a refusal must leave the file byte for byte (no half write)
    outcome = fuzzlib.run_cli(["validate" if entry == "check" else "recalc", path], path.parent, guard=path)
    refusal = None
    if outcome.rc == 2:
        said = outcome.output.strip()
        refusal = said.split("エラー: ", 1)[1].strip() if "エラー: " in said else said
    return path, outcome, refusal


def live_face(entry: str, edited: Path, folder: Path, saved: Path | None = None):
    """The button as the server runs it, on its own copy: (Applied or None, answer, refusal).
    ``saved``: the master as last saved (the book sent is unsaved: Workbook.Saved False)."""
    from remote_payload import RENKEI_REFUSED, ExcelError, apply_actions, payload_from_file
    from renkei_xl.core import contract as c
    from renkei_xl.excel.book import PASSWORD_SHEETS_KEY, RENKEI_CLIENT_KEY, SAVED_MASTER_KEY, STRUCTURE_KEY
    from renkei_xl.server.app import run_button
    from renkei_xl.server.place import Place, protection_of, replayable_of

    path = folder / "live" / entry / edited.name
    path.parent.mkdir(parents=True)
    shutil.copyfile(edited, path)
    payload = payload_from_file(path, client=CLIENT)
    if PERCENTS["send"]:
        from remote_payload import admitted_percents
        from renkei_xl.excel.book import PERCENTS_KEY

        # X-Renkei-Percents where the master's VBA sends it (client 7 on; the model says so: none
        # for an older VBA), as the server's admission passes it on to the click
        # (none read where it says the list was too long: the overflow marker)
        sent = {sheet["name"] for sheet in payload["sheets"]}
        payload = admitted_percents(payload, unknown=sorted(UNKNOWN["sheets"] & sent) if saved is not None else ())
        HEADER["sent"] = PERCENTS_KEY in payload
    else:
        HEADER["sent"] = False
    from renkei_xl.excel.book import CURRENCY_KEY

    # X-Renkei-Currency (client 9 on), admitted with the percents' header: the exact numbers
    HEADER["currency"] = CURRENCY_KEY in payload
    if saved is not None:
        from renkei_xl.excel.book import BOOK_STATE_KEY

        on_disk = path.with_name("saved_" + path.name)
        shutil.copyfile(saved, on_disk)
        payload[BOOK_STATE_KEY] = [False, False]     # RenkeiServer.bas: Workbook.Saved, ReadOnly
    else:
        on_disk = path
    payload.update({RENKEI_CLIENT_KEY: True, SAVED_MASTER_KEY: str(on_disk)})
    place = Place(path.parent, "", "faces")
    place.replayable, place.clashes = replayable_of(on_disk)   # as server.admission reads them from the saved master
    locked, structure = protection_of(on_disk)
    if locked or structure:
        payload[PASSWORD_SHEETS_KEY], payload[STRUCTURE_KEY] = sorted(locked), structure
    # The server's payload is a request body the click may change (xlwings' remote engine adds
    # a sheet it makes to the payload's own list); the replay starts from the book as sent.
    answer = run_button(entry, copy.deepcopy(payload), place)
    alerts = [a for a in answer["actions"] if a["func"] == "alert"]
    caption = c.CHECK if entry == "check" else c.RECALC
    said = str(alerts[-1]["args"][0]) if alerts else ""
    if said.startswith(c.stopped(caption)):
        return None, answer, said[len(c.stopped(caption)):].strip().rstrip("。")
    try:
        return apply_actions(payload, answer["actions"]), answer, None
    except ExcelError as met:
        if met.number != RENKEI_REFUSED:
            raise
        # RenkeiServer.bas refused before writing (a merge, array or data table made since the
        # save, the structure, a password): what staff read; no action before it but the request's
        at = answer["actions"].index(met.action)
        if wrote := [a["func"] for a in answer["actions"][:at] if a["func"] != "renkeiRequest"]:
            raise AssertionError(f"RenkeiRefuse after writing: {wrote[:8]}") from met
        return None, {"actions": answer["actions"][:at]}, met.text.strip().rstrip("。")


def _short(value, n: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= n else text[:n] + f"…({len(text)} chars)"


def _first_differences(what: str, on_file, on_live, n: int = 3) -> str:
    """Where two readings of one attribute part, for a finding a person can read."""
    if what == "rows" and isinstance(on_file, list) and isinstance(on_live, list):
        cells = []
        for r in range(max(len(on_file), len(on_live))):
            a = on_file[r] if r < len(on_file) else []
            b = on_live[r] if r < len(on_live) else []
            for col in range(max(len(a), len(b))):
                x = a[col] if col < len(a) else None
                y = b[col] if col < len(b) else None
                if x != y:
                    cells.append(f"r{r + 1}c{col + 1}: file {_short(x, 120)} / live {_short(y, 120)}")
        return "; ".join(cells[:n]) + (f" (+{len(cells) - n})" if len(cells) > n else "")
    if isinstance(on_file, dict) and isinstance(on_live, dict):
        keys = sorted({*on_file, *on_live} - {k for k in on_file if on_live.get(k, object()) == on_file[k]}, key=str)
        return "; ".join(f"{k}: file {_short(on_file.get(k), 120)} / live {_short(on_live.get(k), 120)}"
                         for k in keys[:n]) + (f" (+{len(keys) - n})" if len(keys) > n else "")
    return f"file {_short(on_file)} / live {_short(on_live)}"


def compare(entry: str, edited: Path, folder: Path, saved: Path | None = None) -> list[str]:
    """Both faces of one button from ``edited``; the defects, one line each. ``saved``: the
    master as last saved, where values were typed into the open book since (the button's
    book unsaved)."""
    from test_faces import FileView, LiveView, faces_differ, plan_of

    problems = []
    path, outcome, file_refusal = file_face(entry, edited, folder)
    if why := fuzzlib.problem(outcome):
        problems.append(f"{entry}: command line: {why}: {outcome.output[-1500:]}")
    try:
        applied, answer, live_refusal = live_face(entry, edited, folder, saved)
    except Exception:
        return problems + [f"{entry}: button: {traceback.format_exc()[-2500:]}"]
    said = json.dumps([a for a in answer["actions"] if a["func"] == "alert"], ensure_ascii=False)
    if "予期しない" in said:
        problems.append(f"{entry}: button: 「予期しないエラー」: {said[:1500]}")
    if problems:
        return problems
    if file_refusal is None and outcome.rc in (0, 1):
        # The command line writes the file itself and keeps staff's passwords, sheets' and
        # the structure's, as they were (README: 保護とパスワードをそのまま残して書き込みます).
        problems += [f"{entry}: command line: {p}" for p in passwords_dropped(edited, path)]
    if live_refusal is not None and (written := [a["func"] for a in answer["actions"] if a["func"] not in ("alert", "renkeiRequest")]):
        problems.append(f"{entry}: button refused after writing: {written[:8]}")
    if problems:
        return problems
    if file_refusal is None and live_refusal is not None and (locked := password_refusal(live_refusal)):
        # A sheet with a password: the button cannot lift it and refuses before it writes
        # (excel.book.locked_sheet_message); the command line writes the file keeping the
        # password (checked above). Only a sheet the edited file protects with one is named.
        from renkei_xl.package.protection import password_sheets
        from renkei_xl.package.workbook import WorkbookXml
        from renkei_xl.package.zipped import Package

        with Package(edited) as pkg:
            have = password_sheets(pkg, WorkbookXml(pkg))
        if not set(locked) <= have:
            return [f"{entry}: button names sheets without a password: {locked} (with one: {sorted(have)})"]
        SEEN["password: button refused, command line kept it"] = SEEN.get(
            "password: button refused, command line kept it", 0) + 1
        return []
    if file_refusal is None and live_refusal is not None and (merged := merged_run_refusal(live_refusal)):
        # README: a merge made since the save that the button writes into (its hidden part, or
        # its first cell with its neighbours) stops the click before it writes (unmerge, or save,
        # then press again); the command line reads the saved book, which has the merge, and writes
        # the sheet (around it, or making the plan's merges). Only a merge made since named.
        if not {tuple(p) for p in merged} <= MERGED_SINCE:
            return [f"{entry}: button names cells not merged since the save: {merged} ({sorted(MERGED_SINCE)})"]
        SEEN["merged since the save: button refused before writing"] = SEEN.get(
            "merged since the save: button refused before writing", 0) + 1
        return []
    if (file_refusal is None) != (live_refusal is None):
        return [f"{entry}: one face refused: command line {_short(file_refusal or outcome.output[-600:], 800)} / "
                f"button {_short(live_refusal or said, 800)}"]
    if file_refusal is not None:
        # The command line names the file first (「…xlsm」: …); the rest is the same sentence,
        # but for how each face is run again (contract.locked_structure_message's ``again``).
        said_on_file = file_refusal.rstrip("。").replace("もう一度実行して", "もう一度ボタンを押して")
        if not (said_on_file == live_refusal or said_on_file.endswith(live_refusal)
                or _cut_from(live_refusal, said_on_file)):
            return [f"{entry}: refused in other words: command line {_short(file_refusal, 800)} / "
                    f"button {_short(live_refusal, 800)}"]
        SEEN["refused alike"] = SEEN.get("refused alike", 0) + 1
        return []
    SEEN["ran alike" if outcome.rc == 0 else "ran alike, errors found"] = SEEN.get(
        "ran alike" if outcome.rc == 0 else "ran alike, errors found", 0) + 1
    plan, _result = plan_of(entry, edited)
    file_view, live_view = FileView(path), LiveView(applied, plan)
    if saved is not None:
        return unsaved_differences(entry, file_view, live_view)
    for sheet, what, on_file, on_live in faces_differ(plan, file_view, live_view):
        problems.append(f"{entry}: {sheet} {what} differs: {_first_differences(what, on_file, on_live)}")
    # The staff's own sheets: each face leaves their values as they were (the marks are fills).
    written = {sp.name for sp in plan.sheets}
    book = _currency_book(path)     # opened once for every staff sheet compared (14 of them)
    try:
        for sheet in [n for n in applied.order if n not in written and n in STAFF_SHEETS + MUNIS]:
            on_file = [[_as_client_sent(_serial_as_read(v / dt.timedelta(days=1)) if isinstance(v, dt.timedelta) else v)
                        for v in row] for row in file_view.get("rows", sheet)]   # a duration cell: openpyxl's timedelta
            on_file = _currency_as_sent(book, sheet, on_file)
            on_live = [[_as_file_reads(v) for v in row] for row in live_view.get("rows", sheet)]
            if on_file != on_live:
                problems.append(f"{entry}: {sheet} values differ: {_first_differences('rows', on_file, on_live)}")
    finally:
        book.close()
    # Their protection too: each face leaves a staff sheet protected (or not) as it was.
    from remote_payload import file_protection

    on_file_protection = file_protection(path)
    for sheet in [n for n in applied.order if n not in written]:
        a, b = on_file_protection.get(sheet), applied.protection.get(sheet)
        if (a or {}).get("options") != (b or {}).get("options") or bool(a and a["password"]) != bool(b and b["password"]):
            problems.append(f"{entry}: {sheet} protection differs: file {_short(a, 200)} / live {_short(b, 200)}")
    return problems


def unsaved_differences(entry: str, file_view, live_view) -> list[str]:
    """Both faces ran on a book with values typed since its save: the server reads the
    formats of those cells from the saved master, so it may read them otherwise (README: a
    number from 1 up to 10 on a % row refused, PERCENT_FORMAT_UNSAVED; from 10 as typed;
    the file face reads the format Excel gave the cell). Every 検証結果 row one face has and
    the other not must name a cell typed since; the sheets written after (一覧, 集計…) follow
    from those readings and are not compared. A 検証結果 difference elsewhere is a defect."""
    from renkei_xl.core import contract as c

    rows = {}
    for name, view in (("file", file_view), ("live", live_view)):
        try:
            got = view.get("rows", c.FINDINGS)
        except (KeyError, ValueError):
            got = []
        rows[name] = {tuple(r) for r in (got or [])[1:] if any(v not in (None, "") for v in r)}
    unknown = UNKNOWN["sheets"] if HEADER["sent"] else frozenset()
    # README: the server reads the merges of the master as last saved; a merge made since is
    # not in them, so the command line (the book saved with it) names its cells as merged, and
    # the button reads the open book's cells as they are (its hidden part empty, as Excel left
    # it). Rows on those cells, or on their rows' 指標IDs, may differ whatever the header says.
    # A number with a fifth decimal typed since the save into a Currency- or Accounting-formatted
    # cell reaches the server as VBA's Currency (Range.Value: four decimals; core.currency), and
    # no saved number gives it back: the button reads 45021.0001 where the file holds 45021.00005
    # (faces walker 130386, qa-130). Rows on such a cell may quote it otherwise, unless the
    # master's VBA sends the exact numbers (X-Renkei-Currency, client 9 on: client-129).
    from renkei_xl.core.currency import currency_rounds, is_currency_format

    rounded = {cell for cell, (value, fmt, _key) in TYPED_FINAL.items()
               if fmt and is_currency_format(fmt) and currency_rounds(value)} if not HEADER.get("currency") else set()
    if rounded:
        cut = {r for r in rows["file"] ^ rows["live"] if (r[1], r[2]) in rounded}
        rows = {name: got - cut for name, got in rows.items()}
    if MERGED_SINCE:
        merged_rows = {r for r in rows["file"] ^ rows["live"] if (r[1], r[2]) in MERGED_SINCE or str(r[3]) in MERGED_IDS}
        rows = {name: got - merged_rows for name, got in rows.items()}
        if merged_rows:
            SEEN["merged since the save: 検証結果 differs on its cells"] = SEEN.get(
                "merged since the save: 検証結果 differs on its cells", 0) + 1
    # docs/staff-guide.md: 「% 以外の表示形式は保存されているマスターから読みます」. A number given a
    # format other than % since the save (3312 in 「#,##0"件"」, which the file face names as shown
    # 「3,312件」) is read by the button as the saved cell's format says; X-Renkei-Percents
    # carries percent formats only. Rows on such a cell may differ (faces walker 8238).
    worded = {cell for cell, (_value, fmt, _key) in TYPED_FINAL.items()
              if fmt and "%" not in fmt and cell in TYPED_SINCE}
    if worded:
        cut = {r for r in rows["file"] ^ rows["live"] if (r[1], r[2]) in worded}
        rows = {name: got - cut for name, got in rows.items()}
        if cut:
            seen = "a format other than % typed since the save: 検証結果 differs on its cells"
            SEEN[seen] = SEEN.get(seen, 0) + 1
    if HEADER["sent"] and not unknown:
        # X-Renkei-Percents says the format of every number the open book holds in a percent
        # format, the ones typed since the save included: the button reads them as the command
        # line reads the same book saved, so every 検証結果 row is the same on both faces.
        if rows["file"] != rows["live"]:
            return [f"{entry}: unsaved, with X-Renkei-Percents: 検証結果 rows differ ({sorted(TYPED_SINCE)}): "
                    f"file-only {_short(sorted(rows['file'] - rows['live']), 900)} / "
                    f"live-only {_short(sorted(rows['live'] - rows['file']), 900)}"]
        if CURRENCY_SINCE and HEADER.get("currency") and not MERGED_SINCE and not ARRAY_SINCE:
            # Both headers: a Currency cell typed since reads as its Value2 on the button, as the
            # command line reads the book saved; what the click writes from it is alike too.
            for sheet in (c.LIST, c.SUMMARY):
                try:
                    on_file, on_live = file_view.get("rows", sheet), live_view.get("rows", sheet)
                except (KeyError, ValueError):
                    continue
                if on_file != on_live:
                    return [f"{entry}: unsaved Currency cells {sorted(CURRENCY_SINCE)}, with both headers: {sheet} "
                            f"differs: {_first_differences('rows', on_file, on_live)}"]
            SEEN["unsaved Currency, headers: lists alike"] = SEEN.get("unsaved Currency, headers: lists alike", 0) + 1
        SEEN["unsaved, header: alike"] = SEEN.get("unsaved, header: alike", 0) + 1
        return []
    # Without the header every cell typed since may be read otherwise; with it, only those on a
    # sheet it names as not known (read there as without it, the other sheets by the header).
    typed_final = {k: v for k, v in TYPED_FINAL.items() if not unknown or k[0] in unknown}
    typed = {k for k in TYPED_SINCE if not unknown or k[0] in unknown}
    ids = TYPED_IDS if not unknown else {key for key in (v[2] for v in typed_final.values()) if key}
    odd = [r for r in rows["file"] ^ rows["live"] if (r[1], r[2]) not in typed and str(r[3]) not in ids]
    # README: a number under 10 typed since the save into a cell Excel shows as a percent
    # is refused on the server, naming the cell, where the file face read it as that percent
    # without a word (a % row; elsewhere the file face names it, the unit not being %).
    named = {(r[1], r[2]) for r in rows["live"]}
    for (sheet, ref), (value, fmt, key) in typed_final.items():
        if ref[0] == "H" and not SHARE_ROWS.get((sheet, int(ref[1:]))):
            continue       # a target on no % row: the server reads it as typed (nothing says %)
        if ref[0] == "K" and (sheet, int(ref[1:])) in MANUAL_ROWS and not _manual_may_be_named(
                *MANUAL_ROWS[(sheet, int(ref[1:]))]):
            continue
        if (key and ref[0] in "EKH" and type(value) in (int, float) and 0 < value < 10 and "%" in (fmt or "")
                and (sheet, ref) not in {(r[1], r[2]) for r in rows["file"]} and (sheet, ref) not in named):
            odd.append(("promise", sheet, ref, f"{value} in {fmt}: read silently by the button (README: refused)"))
    if odd:
        return [f"{entry}: unsaved: 検証結果 rows differ on cells not typed since the save "
                f"({sorted(TYPED_SINCE)}): file-only {_short(sorted(r for r in odd if r in rows['file']), 900)} / "
                f"live-only {_short(sorted(r for r in odd if r in rows['live']), 900)}"
                + "".join(f"; {r[1]}!{r[2]} {r[3]}" for r in odd if r[0] == "promise")]
    key = "unsaved: alike" if rows["file"] == rows["live"] else "unsaved: differ on cells typed since"
    key += f", header with {len(unknown)} sheets not known" if unknown else ""
    SEEN[key] = SEEN.get(key, 0) + 1
    return []


def _cut_from(short: str, whole: str) -> bool:
    """Whether a button's refusal is ``whole`` cut in its middle to fit VBA's MsgBox
    (core.alerts.cut: 「…（中略）…」 for the middle); the command line quotes it whole (a
    基準日 typed as 2,000 characters of text)."""
    from renkei_xl.core.alerts import ELLIPSIS

    if ELLIPSIS not in short:
        return False
    head, tail = short.split(ELLIPSIS, 1)
    at = whole.find(head)
    return at >= 0 and whole.endswith(tail) and at + len(head) <= len(whole) - len(tail)


_MERGED_RUN = re.compile(r"([^!、\s]+)!([A-Z]+\d+)（[A-Z]+\d+:[A-Z]+\d+）")


def merged_run_refusal(said: str) -> list[tuple[str, str]]:
    """The (sheet, cell)s a button's refusal names as merged, when it is the refusal of a
    write into a merge in its own words (contract.merged_run_message: its first cell written
    with its neighbours, merged since the save; merged_cells_message: its hidden part); []
    otherwise."""
    from renkei_xl.core.contract import merged_cells_message, merged_run_message

    head = re.split(r" は(?:保存した後に結合したセル|結合したセルの左上以外のセル)のため", said, maxsplit=1)[0]
    places = [(m.group(1), m.group(2)) for m in _MERGED_RUN.finditer(head)]
    if not places or said not in (merged_run_message([head], "ボタンを押して").rstrip("。"),
                                  merged_cells_message([head], "ボタンを押して").rstrip("。")):
        return []
    return places


_PASSWORD_REFUSAL = re.compile(r"シート「(.+?)」はパスワードで保護されているため")


def password_refusal(said: str) -> list[str]:
    """The sheets a button's refusal names as protected with a password, when it is that
    refusal in its own words (excel.book.locked_sheet_message); [] otherwise."""
    from renkei_xl.excel.book import locked_sheet_message

    m = _PASSWORD_REFUSAL.match(said)
    names = m.group(1).split("」「") if m else []
    return names if names and locked_sheet_message(names).rstrip("。") == said else []


def protection_elements(path: Path) -> dict[str, bytes]:
    """Sheet -> its sheetProtection element where it has a password, and "(book)" -> the
    workbookProtection element where the structure or windows are locked."""
    from renkei_xl.package.protection import password_sheets
    from renkei_xl.package.workbook import WorkbookXml
    from renkei_xl.package.zipped import Package

    out = {}
    with Package(path) as pkg:
        book = WorkbookXml(pkg)
        for name in password_sheets(pkg, book):
            part = next(s.part for s in book.sheets if s.name == name)
            out[name] = re.findall(rb"<(?:\w+:)?sheetProtection\b[^>]*>", pkg.read(part))[-1]
        if m := re.search(r"<(?:\w+:)?workbookProtection\b[^>]*>", book.text):
            out["(book)"] = m.group(0).encode("utf-8")
    return out


def passwords_dropped(before: Path, after: Path) -> list[str]:
    """Each sheet's password and the book's protection ``before`` has that ``after`` does
    not have as it was."""
    was, now = protection_elements(before), protection_elements(after)
    return [f"{name}: protection {was[name].decode('utf-8')[:300]} became "
            f"{now.get(name, b'(none)').decode('utf-8')[:300]}"
            for name in was if now.get(name) != was[name]]


def _as_file_reads(value):
    """A date as the client sent it (ISO text, tests/remote_payload.client_date) as openpyxl
    reads the cell: the model keeps what was sent in the cells no action wrote."""
    if isinstance(value, str) and CLIENT_DATE.fullmatch(value):
        when = dt.datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S")
        # The client counts OLE days, Excel's serials before 1900-03-01 one more (its leap
        # 1900): the cell's serial is the OLE day, read as openpyxl reads that serial
        # (9.35 in yyyy/m/d: the client sends 1900-01-08T08:24, the file reads 1900-01-09 08:24).
        return when if when >= LEAP_1900_END else _serial_as_read((when - OLE_EPOCH) / dt.timedelta(days=1))
    return value


def _as_client_sent(value):
    """A date or time the file holds, as the model holds the cell no action wrote: what the
    client sent (remote_payload.client_date: the VBA client whole seconds),
    read back as _as_file_reads reads it. Excel's cell keeps the serial; the
    model has only what was sent (48122.00005 in a 和暦 date: the file reads 00:00:04.32, the
    model 00:00:04), so the file is compared as the client would have sent it."""
    if not isinstance(value, (dt.datetime, dt.time)):
        return value
    from openpyxl.utils.datetime import to_excel
    from remote_payload import client_date

    return _as_file_reads(client_date(to_excel(value), CLIENT))


def _currency_book(path: Path):
    """The file read only, for ``_currency_as_sent``. One opening serves every sheet compared:
    openpyxl reads the styles and shared strings again on each, which took most of a case's
    comparison when each sheet reopened it."""
    from openpyxl import load_workbook

    return load_workbook(path, read_only=True)


def _currency_as_sent(book, sheet: str, rows: list) -> list:
    """The file's numbers in Currency- or Accounting-formatted cells as the VBA client sent
    them (Range.Value through VBA's Currency: four decimals, remote_payload.vba_currency): the
    model holds a cell no action wrote as it was sent, Excel keeps the Double (oracle error,
    faces walker 122810, qa-122: 41570.00005 / 41570.0001). ``book``: ``_currency_book``'s."""
    from remote_payload import currency_format, vba_currency

    ws = book[sheet]
    out = [list(r) for r in rows]
    for r, row in enumerate(ws.iter_rows(max_row=len(out))):
        for c, cell in enumerate(row[:len(out[r])]):
            if (type(cell.value) in (int, float) and getattr(cell, "data_type", "n") == "n"
                    and currency_format(cell.number_format or "")):
                out[r][c] = vba_currency(cell.value)
    return out


def _serial_as_read(serial: float):
    """A date-formatted cell's serial as openpyxl reads it (a time of day under 1, Excel's
    day count before 1900-03-01)."""
    from openpyxl.utils.datetime import from_excel

    return from_excel(serial)


def one_case(master: Path, edits: list[dict], work: Path, chained: bool = True) -> list[str]:
    """The defects of one case. ``chained``: also the steps staff take next (the suite's
    smoke case leaves them out, for its time)."""
    if any(e["kind"] == "recalculated" for e in edits):
        master = recalculated(master)
    edited = apply_edits(master, work / "edited" / "master.xlsm", edits)
    saved = None
    UNKNOWN["sheets"] = frozenset()
    if marks := [i for i, e in enumerate(edits) if e["kind"] == "saved"]:
        saved = apply_edits(master, work / "saved" / "master.xlsm", edits[:marks[0]])
        UNKNOWN["sheets"] = frozenset(edits[marks[0]].get("unknown", ()))
    problems = []
    for entry in ENTRIES:
        problems += compare(entry, edited, work, saved)
    if not chained or saved is not None:
        return problems
    # As staff go on: 評価を再計算 on the master 入力チェック saved (its marks and 検証結果 in it),
    # then the typed values put back as they were and 入力チェック again (marks lifted).
    checked = work / "file" / "check" / edited.name
    if not problems and checked.exists():
        problems += [f"after check: {p}" for p in compare("recalc", checked, work / "after-check")]
        fixed = put_back(master, checked, edits, work / "fixed" / edited.name)
        if fixed is not None:
            problems += [f"fixed, checked again: {p}" for p in compare("check", fixed, work / "fixed-check")]
    return problems


def put_back(master: Path, checked: Path, edits: list[dict], out: Path) -> Path | None:
    """``checked`` with the cells the edits typed into given the master's values again (None:
    nothing to put back, or rows moved, so the cells are no longer where they were)."""
    from openpyxl import load_workbook

    from renkei_xl.core import contract as c

    if any(e["kind"] in ("delete", "duplicate", "merge", "rename") for e in edits):
        return None
    cells = {(e["sheet"] if e["kind"] == "muni" else c.INDICATORS, e["row"],
              {"target": 8, "method": 9}.get(e["kind"], e.get("col")))
             for e in edits if e["kind"] in ("muni", "indicator", "target", "method")}
    if not cells:
        return None
    was = load_workbook(master, keep_vba=True)
    wb = load_workbook(checked, keep_vba=True)
    for sheet, row, col in cells:
        old, cell = was[sheet].cell(row, col), wb[sheet].cell(row, col)
        cell.value, cell.number_format = old.value, old.number_format
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


# ------------------------------------------------------------------ the run

def licensed() -> None:
    """xlwings' remote engine, as tests/test_buttons.licensed adds it."""
    import xlwings as xw

    if "remote" not in [e.name for e in xw.engines]:
        from xlwings.main import Engine
        from xlwings.pro import _xlremote

        xw.engines.add(Engine(impl=_xlremote.engine))


def build_master(folder: Path) -> Path:
    from renkei_xl.cli.workbook import init_master

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "さっぽろ圏_2023年度_マスター.xlsm"
    for old in (path, path.with_name("recalculated_" + path.name)):
        if old.exists():
            old.unlink()
    return init_master(path, sample="fy2023")


def recalculated(master: Path) -> Path:
    """``master`` after one 評価を再計算 on the command line, made once beside it."""
    from renkei_xl.workbook.session import recalc_file

    out = master.with_name("recalculated_" + master.name)
    if not out.exists():
        shutil.copyfile(master, out)
        recalc_file(out)
    return out


def run(seconds: float, seed: int, out: Path, count: int = 0, replay: list | None = None,
        say=print, master: Path | None = None, chained: bool = True) -> int:
    """Cases from ``seed`` on until ``seconds`` pass (or ``count`` cases, or each of
    ``replay``'s edit lists once): the number of failed cases."""
    licensed()
    out.mkdir(parents=True, exist_ok=True)
    master = master or build_master(out / "base")
    end = time.monotonic() + seconds
    n = fails = 0
    kinds: dict[str, int] = {}
    if replay:
        count = len(replay)
    while time.monotonic() < end and (not count or n < count):
        case_seed = seed + n
        edits = replay[n] if replay else draw_edits(random.Random(f"faces:{case_seed}"))
        work = out / f"case-{case_seed}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        (work / "edits.json").write_text(json.dumps(edits, ensure_ascii=False, indent=1), encoding="utf-8")
        try:
            problems = one_case(master, edits, work, chained)
        except Exception:
            problems = [f"harness error: {traceback.format_exc()[-2000:]}"]
        for e in edits:
            kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
        n += 1
        if problems:
            fails += 1
            dst = out / f"fail-{case_seed}"
            shutil.rmtree(dst, ignore_errors=True)
            work.rename(dst)
            (dst / "problems.txt").write_text("\n".join(problems), encoding="utf-8")
            say(f"seed {case_seed}: {json.dumps(edits, ensure_ascii=False)[:600]}")
            for p in problems:
                say(f"    {p[:900]}")
            say(f"    replay: .venv/bin/python tests/fuzz/faces_fuzz.py --replay {dst / 'edits.json'}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    say(f"{n} cases from seed {seed}, {fails} with problems; edits drawn: {json.dumps(kinds, ensure_ascii=False)}; "
        f"runs: {json.dumps(SEEN, ensure_ascii=False)}")
    return fails


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--out", default=str(ROOT / ".fuzz" / "faces"))
    ap.add_argument("--replay", help="a case's edits.json (one case) or a JSON list of them")
    ap.add_argument("--protection", type=float, default=1.0,
                    help="the weight of protection edits (sheets with and without a password, the structure, "
                         "protection lifted, a tool sheet deleted) among the others (0: none; 20: mostly these)")
    ap.add_argument("--unsaved", type=float, default=0.0,
                    help="the share of cases with values typed after the last save (the server reads the "
                         "saved master's formats; README: an unsaved 1 to 10 on a %% row is refused)")
    ap.add_argument("--unknown", type=float, default=0.0,
                    help="with --unsaved and the header: the share of those cases whose header names some "
                         "of the sheets typed into since the save as not known (read there as without it)")
    ap.add_argument("--merges", type=float, default=0.0,
                    help="with --unsaved: the share of those cases that also merge cells of a municipality "
                         "sheet's input area since the save (the server knows the saved master's merges)")
    ap.add_argument("--currency", type=float, default=0.0,
                    help="with --unsaved: the share of those cases that also type numbers (past four decimals "
                         "among them) into Currency- or Accounting-formatted cells since the save")
    ap.add_argument("--no-percents", action="store_true",
                    help="the button without X-Renkei-Percents, as a master whose VBA predates client 7 "
                         "(by default it is sent wherever the model of the master's VBA sends it)")
    args = ap.parse_args()
    PERCENTS["send"] = not args.no_percents
    UNSAVED["weight"] = args.unsaved
    UNKNOWN["weight"] = args.unknown
    MERGES["weight"] = args.merges
    CURRENCY["weight"] = args.currency
    PROTECTION["weight"] = args.protection
    replay = None
    if args.replay:
        loaded = json.loads(Path(args.replay).read_text(encoding="utf-8"))
        replay = [loaded] if loaded and isinstance(loaded[0], dict) else loaded
    print(f"faces walker: seed {args.seed}, client {CLIENT}, protection weight {args.protection}", flush=True)
    # resolved: the command-line face runs in another folder, where a relative --out is no file
    fails = run(args.seconds, args.seed, Path(args.out).resolve(), args.count, replay,
                say=lambda line: print(line, flush=True))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())

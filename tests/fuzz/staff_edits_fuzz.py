"""Fuzz the master with what LibreOffice Calc writes when staff do ordinary things.

Not collected by pytest (a script): ``.venv/bin/python tests/fuzz/staff_edits_fuzz.py
--seconds 900`` (findings in .fuzz/staff_edits/). It builds the FY2023 sample master (init + recalc),
keeps one headless soffice of its own (own profile, own process group, ended at exit), and for
each sequence draws 1-4 staff actions, applies them through UNO (real Calc calls), saves as
.xlsm, then runs validate, recalc, split + collect, rollover and export on the file and judges:

- no exit 3, no 「予期しないエラー」, no traceback;
- a refusal (exit != 0) leaves the master byte-identical and names a sheet (and, where the
  action put something in a cell, that cell) in Japanese;
- metamorphic oracle: actions marked *neutral* (formatting, hiding, moving, re-typing a value
  in another spelling the rules read as the same number, inserting empty rows/columns,
  sorting a municipality sheet's rows …) must leave 一覧 (keyed by 指標ID) as it was for the
  untouched LibreOffice-saved master, or be refused naming the cell;
- an error value typed over an input cell is never counted as empty nor as 0: recalc either
  refuses naming the cell or the row shows no symbol computed from it.

Every sequence whose verdict is not clean is kept in OUT/fail-<n>/ with its actions
(actions.json), the saved master before the runs and the commands' output.
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from pathlib import Path

sys.path.append("/usr/lib/python3/dist-packages")

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from realbooks import _pipe_files  # noqa: E402
CLI = [str(ROOT / ".venv" / "bin" / "renkei-xl")]
XLSM_FILTER = "Calc MS Excel 2007 VBA XML"
MUNIS = ["札幌市", "小樽市", "岩見沢市", "江別市", "千歳市", "恵庭市", "北広島市", "石狩市",
         "当別町", "新篠津村", "南幌町", "長沼町"]
TOOL_SHEETS = ["一覧", "集計", "検証結果", "メニュー", "経年"]

# ----------------------------------------------------------------------------- office


class Office:
    def __init__(self, base: Path):
        self.base = base
        self.proc = None
        self.desktop = None

    def start(self):
        self.stop()
        prof = Path(tempfile.mkdtemp(prefix="lo_fuzz70_", dir=self.base))
        if getattr(self, "locale", None):     # the locale Calc's input line reads by (ja-JP: 3/31 is 3月31日)
            user = prof / "profile" / "user"
            user.mkdir(parents=True)
            (user / "registrymodifications.xcu").write_text(
                '<?xml version="1.0" encoding="UTF-8"?><oor:items xmlns:oor="http://openoffice.org/2001/registry" '
                'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
                '<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" oor:op="fuse">'
                f'<value>{self.locale}</value></prop></item></oor:items>')
        self.pipe = f"fuzz70_{uuid.uuid4().hex}"
        # the sockets a killed soffice leaves in /tmp, removed at stop (the suite's harness
        # names them: tests/realbooks._pipe_files)
        self.pipe_files = _pipe_files(f"file://{prof}/profile", self.pipe)
        self.proc = subprocess.Popen(
            ["soffice", "--headless", "--invisible", "--nologo", "--norestore", "--nodefault",
             "--nolockcheck", f"-env:UserInstallation=file://{prof}/profile",
             f"--accept=pipe,name={self.pipe};urp;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        import uno
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        for _ in range(120):
            try:
                ctx = resolver.resolve(f"uno:pipe,name={self.pipe};urp;StarOffice.ComponentContext")
                break
            except Exception:
                time.sleep(0.5)
        else:
            raise RuntimeError("soffice did not answer")
        self.ctx = ctx
        self.desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)

    def stop(self):
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.proc = None
            for name in self.pipe_files:
                try:
                    os.unlink(name)
                except OSError:
                    pass


def prop(name, value):
    from com.sun.star.beans import PropertyValue
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def url(path: Path) -> str:
    import uno
    return uno.systemPathToFileUrl(str(path))


# ----------------------------------------------------------------------------- actions
# Each action: (name, params, neutral, cells) drawn against the opened document; `apply`
# does it. `neutral` says 一覧 must not change; `cells` are (sheet, ref) it typed into.

# 設定: B3 対象年度, B4 基準日, B5 概ね達成閾値 (0-based rows 2, 3, 4)
SETTING_TYPED = [(2, "２０２３"), (2, "2023年度"), (2, "令和5年度"), (2, "R5"), (2, "'2023"),
                 (3, "2024/3/31"), (3, "R6.3.31"), (3, "令和6年3月31日"), (3, "'2024-03-31"), (3, "45382"),
                 (4, "85%"), (4, "85"), (4, "'0.85"), (4, "８５％"), (4, "0.85"), (4, "=17/20"), (4, "1.5")]

ERROR_FORMULAS = ["=NA()", "=1/0", "=\"a\"+1", "=SQRT(-1)", "=INDIRECT(\"nosuch!A1\")"]


def data_cells(doc, sheet_name):
    """(ref, value) of a sheet's used area, row 2 onward."""
    sh = doc.Sheets.getByName(sheet_name)
    cur = sh.createCursor()
    cur.gotoEndOfUsedArea(False)
    return sh, cur.RangeAddress.EndRow, cur.RangeAddress.EndColumn


def col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def fw(text: str) -> str:
    return text.translate(str.maketrans("0123456789.,", "０１２３４５６７８９．，"))


def header_col(sh, name, last_col):
    for c in range(last_col + 1):
        if sh.getCellByPosition(c, 0).getString() == name:
            return c
    return None


def draw(rng: random.Random, doc) -> dict:
    """One random staff action as a plain description (applied by `apply`)."""
    kind = rng.choice([
        "insert_rows", "delete_rows", "insert_cols", "delete_cols", "sort_muni", "sort_indicators",
        "move_sheet", "copy_sheet", "rename_sheet", "hide_sheet", "hide_row", "hide_col", "add_sheet",
        "merge", "validation", "cond_format", "autofilter", "freeze", "protect", "protect_book",
        "type_error", "type_same_text", "type_fullwidth", "type_apostrophe", "type_ijo",
        "type_date", "type_long", "type_linebreak", "clear_cell", "paste_values",
        "fmt_text", "fmt_percent", "fmt_date", "font_fill", "error_ref_after_delete", "type_percent",
        "type_setting", "type_formula_same", "type_formula_same"])
    muni = rng.choice(MUNIS[1:] if rng.random() < 0.7 else MUNIS)
    if not doc.Sheets.hasByName(muni):          # renamed by an earlier action
        muni = next(m for m in MUNIS if doc.Sheets.hasByName(m))
    target = rng.choice([n for n in ("指標", "設定", muni, "一覧") if doc.Sheets.hasByName(n)])
    a = {"kind": kind, "sheet": target}
    sh, last_row, last_col = data_cells(doc, target)
    row = rng.randint(1, max(1, last_row))
    col = rng.randint(0, max(0, last_col))
    a["row"], a["col"] = row, col
    if kind in ("insert_rows", "delete_rows", "insert_cols", "delete_cols"):
        a["count"] = rng.choice([1, 1, 2])
        a["at"] = rng.choice([row, last_row + 1]) if "rows" in kind else rng.choice([col, last_col + 1, 0])
    elif kind in ("sort_muni", "sort_indicators"):
        # (指標 renamed by an earlier action: its rows sorted under the new name are another
        # action's matter; seed 8370 stopped the walker here)
        a["sheet"] = muni if kind == "sort_muni" or not doc.Sheets.hasByName("指標") else "指標"
        sh, last_row, last_col = data_cells(doc, a["sheet"])
        a["key"] = rng.randint(0, last_col)
        a["range"] = f"A1:{col_letter(last_col)}{last_row + 1}"
        a["asc"] = rng.random() < 0.5
        a["header"] = rng.random() < 0.8     # Calc guesses; staff may untick 「範囲に列見出しを含む」
    elif kind in ("move_sheet", "copy_sheet", "rename_sheet", "hide_sheet"):
        a["sheet"] = rng.choice(["指標", "設定", muni, "一覧", "集計", "メニュー", "検証結果"])
        a["pos"] = rng.randint(0, doc.Sheets.Count - 1)
        a["new"] = rng.choice([a["sheet"] + "2", a["sheet"] + " (2)", "作業用", "ｺﾋﾟｰ", a["sheet"] + " "])
    elif kind == "add_sheet":
        a["new"] = rng.choice(["札幌市 (2)", "小樽 市", "一覧 (2)", "集計2", "札幌", "新市町村", "検証結果(2)",
                               "小樽市（旧）", "ｲﾁﾗﾝ"])
        a["pos"] = rng.randint(0, doc.Sheets.Count)
    elif kind == "merge":
        a["w"], a["h"] = rng.randint(1, 2), rng.randint(0, 2)
    elif kind == "type_error":
        a["sheet"] = rng.choice([muni, "指標" if doc.Sheets.hasByName("指標") else muni])
        sh, last_row, last_col = data_cells(doc, a["sheet"])
        c = header_col(sh, "実績値" if a["sheet"] != "指標" else "実績値（手入力）", last_col)
        a["col"] = c if c is not None and rng.random() < 0.8 else rng.randint(0, last_col)
        a["row"] = rng.randint(1, max(1, last_row))
        a["formula"] = rng.choice(ERROR_FORMULAS)
    elif kind == "type_setting":
        a["sheet"] = "設定"
    elif kind in ("type_formula_same", "type_same_text", "type_fullwidth", "type_apostrophe", "fmt_text", "fmt_percent",
                  "type_percent", "fmt_date", "paste_values", "type_date", "type_ijo"):
        a["sheet"] = muni
        sh, last_row, last_col = data_cells(doc, muni)
        c = header_col(sh, "実績値", last_col)
        a["col"] = c if c is not None else 4
        a["row"] = rng.randint(1, max(1, last_row))
    elif kind == "protect":
        a["password"] = rng.choice(["", "pw"])
    elif kind == "error_ref_after_delete":
        a["sheet"] = muni
        sh, last_row, last_col = data_cells(doc, muni)
        c = header_col(sh, "実績値", last_col)
        a["col"] = c if c is not None else 4
        a["row"] = rng.randint(1, max(1, last_row))
    a["pick"] = rng.random()
    return a


def neutral(a: dict, before_value) -> bool:
    """Whether the rules read the edited book as the untouched one (一覧 must not change)."""
    k = a["kind"]
    if k in ("sort_muni", "sort_indicators") and not a.get("header", True):
        return False    # the header sorted in among the rows: named (Book.header table_top), not neutral
    if k in ("hide_sheet", "hide_row", "hide_col", "validation", "cond_format", "freeze", "font_fill",
             "autofilter", "move_sheet", "protect", "protect_book", "sort_muni", "sort_indicators",
             "paste_values", "insert_cols", "insert_rows", "copy_sheet", "fmt_text"):
        return True
    if k == "fmt_percent":
        # A number in a master's 実績値 is read as its format shows it (core.percent_cells,
        # README): 12 given 0% is 「1200%」 and refused, 0 is 0%, a unit its row may not count
        # in. Neutral only over no number (oracle error before qa-122).
        return not isinstance(before_value, float)
    if k == "fmt_date":    # the value now shows as a date: named as such (恵庭市!E7 …) is right too
        return False
    if k in ("type_same_text", "type_fullwidth", "type_apostrophe", "type_formula_same"):
        return True    # only typed over a number, in another spelling of it
    return False


def apply(doc, a: dict) -> dict:
    """Apply one action; returns what the oracle needs (cells typed, the value before)."""
    from com.sun.star.table import CellRangeAddress
    info = {"cells": [], "before": None}
    sheets = doc.Sheets
    if not sheets.hasByName(a["sheet"]):
        info["skipped"] = "no such sheet"
        return info
    sh = sheets.getByName(a["sheet"])
    k, r, c = a["kind"], a["row"], a["col"]
    cell = sh.getCellByPosition(c, r)
    ref = f"{col_letter(c)}{r + 1}"
    if cell.getType().value == "VALUE":
        info["before"] = cell.getValue()
    elif cell.getType().value == "TEXT":
        info["before"] = cell.getString()
    if k == "insert_rows":
        sh.Rows.insertByIndex(a["at"], a["count"])
    elif k == "delete_rows":
        sh.Rows.removeByIndex(a["at"], a["count"])
    elif k == "insert_cols":
        sh.Columns.insertByIndex(a["at"], a["count"])
    elif k == "delete_cols":
        sh.Columns.removeByIndex(a["at"], a["count"])
    elif k in ("sort_muni", "sort_indicators"):
        sort_range(sh.getCellRangeByName(a["range"]), a["key"], a["asc"], a.get("header", True))
    elif k == "move_sheet":
        sheets.moveByName(a["sheet"], a["pos"])
    elif k == "copy_sheet":
        if not sheets.hasByName(a["new"]):
            sheets.copyByName(a["sheet"], a["new"], a["pos"])
    elif k == "rename_sheet":
        if not sheets.hasByName(a["new"]):
            sh.setName(a["new"])
    elif k == "hide_sheet":
        visible = sum(1 for i in range(sheets.Count) if sheets.getByIndex(i).IsVisible)
        if visible > 1:
            sh.IsVisible = False
    elif k == "hide_row":
        sh.Rows.getByIndex(r).IsVisible = False
    elif k == "hide_col":
        sh.Columns.getByIndex(c).IsVisible = False
    elif k == "add_sheet":
        if not sheets.hasByName(a["new"]):
            sheets.insertNewByName(a["new"], min(a["pos"], sheets.Count))
            n = sheets.getByName(a["new"])
            n.getCellByPosition(0, 0).setString("指標ID")
            n.getCellByPosition(4, 0).setString("実績値")
            n.getCellByPosition(0, 1).setString("04-1")
            n.getCellByPosition(4, 1).setValue(99)
    elif k == "merge":
        rg = sh.getCellRangeByPosition(c, r, c + a["w"], r + a["h"])
        rg.merge(True)
    elif k == "validation":
        rg = sh.getCellRangeByPosition(c, r, c, r + 3)
        v = rg.Validation
        from com.sun.star.sheet.ValidationType import DECIMAL
        from com.sun.star.sheet.ConditionOperator import GREATER_EQUAL
        v.Type = DECIMAL
        v.setOperator(GREATER_EQUAL)
        v.setFormula1("0")
        rg.Validation = v
    elif k == "cond_format":
        rg = sh.getCellRangeByPosition(c, r, c, r + 5)
        cf = rg.ConditionalFormat
        from com.sun.star.sheet.ConditionOperator import EQUAL
        cf.addNew((prop("Operator", EQUAL), prop("Formula1", "0"), prop("StyleName", "Bad")))
        rg.ConditionalFormat = cf
    elif k == "autofilter":
        _, last_row, last_col = data_cells(doc, a["sheet"])
        addr = CellRangeAddress()
        addr.Sheet = sh.RangeAddress.Sheet
        addr.StartColumn, addr.StartRow, addr.EndColumn, addr.EndRow = 0, 0, last_col, last_row
        name = "fuzz_filter_" + uuid.uuid4().hex[:6]
        try:
            doc.DatabaseRanges.addNewByName(name, addr)
            doc.DatabaseRanges.getByName(name).AutoFilter = True
        except Exception as exc:  # a range already covered: Calc refuses too
            info["skipped"] = str(exc)
    elif k == "freeze":
        ctl = doc.CurrentController
        if ctl is not None:
            ctl.setActiveSheet(sh)
            ctl.freezeAtPosition(1, 1)
    elif k == "protect":
        sh.protect(a["password"])
    elif k == "protect_book":
        doc.protect("")
    elif k == "type_error":
        cell.setFormula(a["formula"])
        info["cells"].append((a["sheet"], ref, "error"))
    elif k == "error_ref_after_delete":
        # a staff formula pointing at a helper cell in a column further right; then the column goes
        _, _, last_col = data_cells(doc, a["sheet"])
        helper = last_col + 3
        sh.getCellByPosition(helper, r).setValue(5)
        cell.setFormula(f"={col_letter(helper)}{r + 1}")
        sh.Columns.removeByIndex(helper, 1)
        info["cells"].append((a["sheet"], ref, "error"))
    elif k == "type_same_text":
        if isinstance(info["before"], float):
            cell.setString(_num(info["before"]))
            info["cells"].append((a["sheet"], ref, "same"))
    elif k == "type_fullwidth":
        if isinstance(info["before"], float):
            cell.setString(fw(_num(info["before"])))
            info["cells"].append((a["sheet"], ref, "same"))
    elif k == "type_apostrophe":
        if isinstance(info["before"], float):
            cell.setFormula("'" + _num(info["before"]))
            info["cells"].append((a["sheet"], ref, "same"))
    elif k == "type_ijo":
        cell.setString(rng_pick(a, ["10件以上", "5未満", "１０以上", "3件未満"]))
        info["cells"].append((a["sheet"], ref, "typed"))
    elif k == "type_date":
        cell.setFormula(rng_pick(a, ["2024/3/31", "R6.3.31", "3/31"]))
        info["cells"].append((a["sheet"], ref, "typed"))
    elif k == "type_long":
        cell.setString("長い説明" * rng_pick(a, [300, 2000, 9000]))
        info["cells"].append((a["sheet"], ref, "typed"))
    elif k == "type_linebreak":
        cell.setString(rng_pick(a, ["12\n件", "改行\nあり", "\n", "１２\r\n"]))
        info["cells"].append((a["sheet"], ref, "typed"))
    elif k == "clear_cell":
        cell.setString("")
        info["cells"].append((a["sheet"], ref, "cleared"))
    elif k == "paste_values":
        _, last_row, last_col = data_cells(doc, a["sheet"])
        rg = sh.getCellRangeByPosition(0, 0, last_col, last_row)
        rg.setDataArray(rg.getDataArray())
    elif k == "type_percent":
        # a percent typed into the master's 実績値 as Excel stores it: 「50%」「100%」「105%」「250%」
        # (0.5, 1, 1.05, 2.5 in 0%), 85 typed into a cell already 0% (0.85), or the cell emptied
        # keeping its format (core.percent_cells; collect writes 標準 there)
        fmts = doc.NumberFormats
        from com.sun.star.lang import Locale
        loc = Locale("ja", "JP", "")
        code = rng_pick(a, ["0%", "0.0%", '0%;"▲"0%'])
        key = fmts.queryKey(code, loc, False)
        if key == -1:
            key = fmts.addNew(code, loc)
        cell.NumberFormat = key
        number = [0.5, 1, 1.05, 2.5, 0.85, None][int(a["pick"] * 997) % 6]
        if number is None:
            cell.setString("")
        else:
            cell.setValue(number)
        info["cells"].append((a["sheet"], ref, "type_percent"))
    elif k in ("fmt_text", "fmt_percent", "fmt_date"):
        fmts = doc.NumberFormats
        from com.sun.star.lang import Locale
        loc = Locale("ja", "JP", "")
        code = {"fmt_text": "@", "fmt_percent": "0%", "fmt_date": "YYYY/MM/DD"}[k]
        key = fmts.queryKey(code, loc, False)
        if key == -1:
            key = fmts.addNew(code, loc)
        cell.NumberFormat = key
        info["cells"].append((a["sheet"], ref, k))
    elif k == "type_setting":
        # what staff type into 設定's named cells: (row, text typed as in Calc's input line)
        r, typed = rng_pick(a, SETTING_TYPED)
        ref = f"B{r + 1}"
        sh = sheets.getByName("設定")
        sh.getCellRangeByName(ref).setFormula(typed)
        info["cells"].append(("設定", ref, "setting:" + typed))
    elif k == "type_formula_same":
        if isinstance(info["before"], float):
            v = _num(info["before"])
            cell.setFormula(rng_pick(a, [f"={v}+0", f"=VALUE(\"{v}\")", f"=\"{v}\"", f"=ROUND({v};0)"]))
            info["cells"].append((a["sheet"], ref, "same"))
    elif k == "font_fill":
        rg = sh.getCellRangeByPosition(c, r, c + 1, r + 1)
        rg.CharWeight = 150.0
        rg.CellBackColor = 0xFFFF00
    return info


def rng_pick(a, options):
    return options[int(a["pick"] * len(options)) % len(options)]


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(v)


# ----------------------------------------------------------------------------- runs


def run(args, cwd, timeout=300):
    p = subprocess.run(CLI + args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                       env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    return p.returncode, p.stdout, p.stderr


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# A municipality sheet's labels, copies of 指標's that the contract does not read: an error
# value there keeps the row's symbol and recalc does not name it (core.validate, qa-91); split,
# which would hand the label out, refuses naming it (distribute._check_no_unread_cells).
LABEL_HEADERS = ("連携事業名", "評価指標")


def label_cells(path: Path, cells: list) -> set:
    """The typed cells (sheet, ref) that lie in a municipality sheet's label column."""
    from python_calamine import CalamineWorkbook
    wb = CalamineWorkbook.from_path(str(path))
    out = set()
    for sheet, ref in {(c[0], c[1]) for c in cells}:
        if sheet not in MUNIS or sheet not in wb.sheet_names:
            continue
        head = wb.get_sheet_by_name(sheet).to_python(nrows=1)
        col = 0
        for ch in re.match(r"[A-Z]+", ref).group():
            col = col * 26 + ord(ch) - 64
        if head and col - 1 < len(head[0]) and head[0][col - 1] in LABEL_HEADERS:
            out.add((sheet, ref))
    return out


def ichiran(path: Path) -> dict:
    from python_calamine import CalamineWorkbook
    wb = CalamineWorkbook.from_path(str(path))
    rows = wb.get_sheet_by_name("一覧").to_python()
    head = None
    out = {}
    for row in rows:
        if head is None:
            if "指標ID" in row and "評価" in row:
                head = {v: i for i, v in enumerate(row) if v}
            continue
        key = row[head["指標ID"]] if head["指標ID"] < len(row) else None
        if key:
            out[str(key)] = tuple(str(row[head[h]]) if head[h] < len(row) else "" for h in
                                  ("実績値", "評価", "達成率") if h in head)
    return out


REF_RE = re.compile(r"[A-Z]{1,3}[0-9]{1,7}")


def judge(cmd, rc, out, err, before, after, typed_cells) -> list[str]:
    problems = []
    text = out + err
    if rc == 3 or "予期しないエラー" in text or "Traceback" in text:
        problems.append(f"{cmd}: unexpected error rc={rc}: {err.strip()[-600:]}")
        return problems
    if rc == 2:     # a refusal (1 = done, with findings)
        if before != after:
            problems.append(f"{cmd}: refused (rc={rc}) but the master changed")
        if not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", err):
            problems.append(f"{cmd}: refusal not in Japanese: {err.strip()[-300:]}")
        if not re.search(r"(シート「|」のシート|名前の定義「|[^\s!「」]+![A-Z]{1,3}[0-9]{1,7})", err):
            problems.append(f"{cmd}: refusal names no sheet or cell: {err.strip()[-300:]}")
    return problems


def one_sequence(office, base: Path, baseline: dict, rng: random.Random, work: Path,
                 fixed: list | None = None) -> tuple[list, list]:
    work.mkdir(parents=True, exist_ok=True)
    master = work / "master_2023.xlsm"
    doc = office.desktop.loadComponentFromURL(url(base), "_blank", 0,
                                              (prop("Hidden", True), prop("MacroExecutionMode", 0)))
    actions, infos = [], []
    try:
        for i in range(len(fixed) if fixed else rng.randint(1, 4)):
            a = fixed[i] if fixed else draw(rng, doc)
            try:
                info = apply(doc, a)
            except Exception as exc:   # Calc refused the action itself (as its UI would)
                info = {"cells": [], "skipped": f"{type(exc).__name__}: {exc}"}
            actions.append(a)
            infos.append(info)
        doc.calculateAll()
        doc.storeToURL(url(master), (prop("FilterName", XLSM_FILTER), prop("Overwrite", True)))
    finally:
        doc.close(True)
    (work / "actions.json").write_text(json.dumps([actions, infos], ensure_ascii=False, indent=1, default=str))
    shutil.copy(master, work / "saved_by_lo.xlsm")
    problems = []
    typed = [c for i in infos for c in i.get("cells", [])]
    all_neutral = all(neutral(a, i.get("before")) for a, i in zip(actions, infos) if not i.get("skipped"))
    labels = label_cells(master, [c for c in typed if c[2] == "error"])
    log = []
    for cmd in (["validate"], ["recalc"], ["split", "--outdir", "out"], ["collect", None, "out"],
                ["rollover", "--year", "2024", "-o", "next.xlsm"], ["export", "-o", "final.xlsx"]):
        args = [x if x is not None else str(master) for x in cmd]
        if cmd[0] in ("validate", "recalc", "split", "rollover", "export"):
            args = cmd + [str(master)]
        if cmd[0] == "collect":
            if not (work / "out").is_dir():
                continue
            args = ["collect", str(master), "out"]
        before = digest(master)
        try:
            rc, out, err = run(args, work)
        except subprocess.TimeoutExpired:
            problems.append(f"{cmd[0]}: timed out")
            continue
        after = digest(master)
        log.append({"cmd": args, "rc": rc, "out": out[-3000:], "err": err[-3000:]})
        problems += judge(cmd[0], rc, out, err, before, after, typed)
        if cmd[0] == "split":
            for sheet, ref in sorted(labels):
                if rc == 0 or f"{sheet}!{ref}" not in err:
                    problems.append(f"split: an error value typed in the label {sheet}!{ref} is not refused: "
                                    f"{(err or out)[:500]}")
        if cmd[0] == "recalc":
            err_cells = [c for c in typed if c[2] == "error"]
            if rc in (0, 1):
                got = ichiran(master)
                if all_neutral:
                    diff = {k: (baseline.get(k), got.get(k)) for k in set(baseline) | set(got)
                            if baseline.get(k) != got.get(k)}
                    if diff:
                        problems.append(f"recalc: neutral edits changed 一覧: {dict(list(diff.items())[:5])}")
                    if rc == 1:
                        problems.append(f"recalc: findings on neutral edits: {out.strip()[:600]}")
                for sheet, ref, what in err_cells:
                    if f"{sheet}!{ref}" not in out and (sheet, ref) not in labels:
                        problems.append(f"recalc: an error value typed in {sheet}!{ref} is not named: {out[:500]}")
            else:
                if all_neutral:
                    problems.append(f"recalc: refused neutral edits: {err.strip()[-400:]}")
    (work / "log.json").write_text(json.dumps(log, ensure_ascii=False, indent=1))
    return actions, problems


def sort_range(area, key: int, ascending: bool, header: bool) -> None:
    """Calc's データ → 並べ替え on one column; ``header`` is 「範囲に列見出しを含む」."""
    from com.sun.star.table import TableSortField   # UNO's modules: importable once soffice's Python path is set
    import uno
    field = TableSortField()
    field.Field, field.IsAscending = key, ascending
    descriptor = area.createSortDescriptor()
    for p in descriptor:
        if p.Name == "SortFields":
            p.Value = uno.Any("[]com.sun.star.table.TableSortField", (field,))
        elif p.Name == "ContainsHeader":
            p.Value = header
    area.sort(descriptor)


def workspace(out_arg: str):
    """(findings folder, a started soffice, an empty base folder): both walkers' start. The
    soffice is ended at exit, also on SIGTERM (atexit alone left it running)."""
    out = Path(out_arg).resolve()       # soffice's profile is a file:// URL: a relative one is none
    out.mkdir(parents=True, exist_ok=True)
    office = Office(out)
    atexit.register(office.stop)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    office.start()
    base_dir = out / "base"
    shutil.rmtree(base_dir, ignore_errors=True)
    base_dir.mkdir()
    return out, office, base_dir


def settle(out: Path, work: Path, seed: int, problems: list[str], drawn: str, keep: bool) -> bool:
    """One sequence's end, both walkers': a failed one's folder kept as ``fail-<seed>`` and
    its problems printed under what was drawn; a clean one's folder removed unless ``keep``.
    Whether it failed."""
    if problems:
        dst = out / f"fail-{seed}"
        shutil.rmtree(dst, ignore_errors=True)
        work.rename(dst)
        print(f"seed {seed}: {drawn}", flush=True)
        for p in problems:
            print("   ", p[:700], flush=True)
    elif not keep:
        shutil.rmtree(work, ignore_errors=True)
    return bool(problems)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[2] / ".fuzz" / "staff_edits"))
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--replay", help="a JSON list of action lists to apply instead of drawn ones")
    args = ap.parse_args()
    out, office, base_dir = workspace(args.out)
    tool_master = base_dir / "tool.xlsm"
    run(["init", str(tool_master), "--sample", "fy2023"], base_dir)
    run(["recalc", str(tool_master)], base_dir)
    base = base_dir / "lo.xlsm"
    doc = office.desktop.loadComponentFromURL(url(tool_master), "_blank", 0, (prop("Hidden", True),))
    doc.storeToURL(url(base), (prop("FilterName", XLSM_FILTER), prop("Overwrite", True)))
    doc.close(True)
    check = base_dir / "check.xlsm"
    shutil.copy(base, check)
    rc, o, e = run(["recalc", str(check)], base_dir)
    assert rc == 0, e
    baseline = ichiran(check)
    print(f"baseline {len(baseline)} rows; seed {args.seed}", flush=True)
    end = time.monotonic() + args.seconds
    n = fails = 0
    kinds: dict[str, int] = {}
    fixed = json.loads(Path(args.replay).read_text()) if args.replay else None
    if fixed:
        args.count = len(fixed)
    while time.monotonic() < end and (not args.count or n < args.count):
        seed = args.seed + n
        rng = random.Random(seed)
        work = out / f"seq-{seed}"
        shutil.rmtree(work, ignore_errors=True)
        try:
            actions, problems = one_sequence(office, base, baseline, rng, work, fixed[n] if fixed else None)
        except Exception as exc:
            where = traceback.extract_tb(exc.__traceback__)[-1]   # the walker's line that the office refused
            print(f"seed {seed}: harness error {type(exc).__name__}: {exc} (at {Path(where.filename).name}:"
                  f"{where.lineno} {where.line})", flush=True)
            office.start()
            n += 1
            continue
        for a in actions:
            kinds[a["kind"]] = kinds.get(a["kind"], 0) + 1
        n += 1
        fails += settle(out, work, seed, problems, str([a["kind"] + ":" + a["sheet"] for a in actions]), bool(fixed))
    print(f"{n} sequences, {fails} with problems; actions drawn: {json.dumps(kinds, ensure_ascii=False)}")


if __name__ == "__main__":
    main()

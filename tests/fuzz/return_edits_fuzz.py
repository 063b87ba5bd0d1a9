"""Fuzz collect with returned input files as municipalities edit and save them in Calc.

Not collected by pytest (a script): ``.venv/bin/python tests/fuzz/return_edits_fuzz.py
--seconds 900`` (findings in .fuzz/return_edits/). It builds the FY2023 sample master (init + recalc) and
splits it once; each sequence copies master and input files, applies 1-4 random actions
through UNO (real Calc calls, the same soffice handling as staff_edits_fuzz) to one or two
municipalities' input files, saves each as a municipality would (.xlsx as given, .xls, .ods,
.csv, under another name, into a subfolder, with a lock file beside it), then runs collect,
validate and recalc and judges:

- no exit 3, no 「予期しないエラー」, no traceback;
- a refused collect (exit 2) leaves the master byte-identical and names the file;
- a file left out (取り込みません) is named with the reason, in Japanese;
- after collect, no other municipality's sheet changed, and in the edited municipalities'
  sheets only 実績値/分母/実施状況 changed;
- an error value typed into an input cell never arrives as empty or 0; 「以上/未満」 never
  arrives as a number; full-width digits arrive as their number or not at all; a cell the
  municipality may not fill (locked, unprotected and typed over) never reaches the master.

With ``--values-only`` (the block of that name below) a sequence keeps the structure split
made and only types into the open cells, in a Calc set to ja-JP: most sequences then reach
the value rules instead of a refusal of the whole file.

Every sequence whose verdict is not clean is kept in OUT/fail-<n>/.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from staff_edits_fuzz import ERROR_FORMULAS, MUNIS, Office, col_letter, digest, prop, run, settle, sort_range, url, workspace  # noqa: E402

FILTERS = {"xlsx": ("Calc MS Excel 2007 XML", ""), "xls": ("MS Excel 97", ""), "ods": ("calc8", ""),
           "csv": ("Text - txt - csv (StarCalc)", "44,34,76,1")}
INPUT_COLS = ("実績値", "分母", "実施状況")
LOCKED_COLS = ("指標ID", "目標値", "単位", "基準値", "評価指標", "配布時の実績値")

TYPED = {
    "ijo": ["10件以上", "5未満", "１０以上", "3件未満", "10以上"],
    "fullwidth": ["１２", "３．５", "１，２００", "０"],
    "text": ["約10件", "未集計", "-", "なし", "集計中"],
    "date": ["2024/3/31", "R6.3.31", "3/31", "10月10日"],
    "percent": ["85%", "８５％", "0.85", "85.5%"],
    "long": ["長い説明" * 300, "長い説明" * 9000],
    "linebreak": ["12\n件", "改行\nあり", "１２\r\n"],
}


def table(doc, muni):
    """(sheet, header row index, {header: col}, last data row index) of the input table."""
    sh = doc.Sheets.getByName(muni) if doc.Sheets.hasByName(muni) else doc.Sheets.getByIndex(0)
    cur = sh.createCursor()
    cur.gotoEndOfUsedArea(False)
    last_row, last_col = cur.RangeAddress.EndRow, cur.RangeAddress.EndColumn
    for r in range(min(last_row + 1, 60)):
        if sh.getCellByPosition(0, r).getString() == "指標ID":
            cols = {sh.getCellByPosition(c, r).getString(): c for c in range(last_col + 1)}
            return sh, r, cols, last_row
    return sh, None, {}, last_row


def draw(rng: random.Random, doc, muni: str) -> dict:
    kind = rng.choice([
        "type_ijo", "type_fullwidth", "type_text", "type_date", "type_percent", "type_error",
        "type_long", "type_linebreak", "clear_cell", "type_number",
        "edit_locked", "fill_locked_denominator", "insert_rows", "delete_rows", "sort", "hide_row",
        "merge", "paste_values", "rename_sheet", "add_sheet", "copy_other", "fmt_number",
        "type_number", "type_error", "type_ijo", "insert_cols", "delete_cols", "unhide_cols", "edit_ident",
        "paste_other_rows", "memo_outside", "type_boolean", "type_formula_ref"])
    sh, hr, cols, last = table(doc, muni)
    a = {"kind": kind, "muni": muni, "pick": rng.random()}
    if hr is None:
        a["kind"] = "type_number"
        hr, cols = 0, {"実績値": 4}
    a["row"] = rng.randint(hr + 1, max(hr + 1, last))
    a["col"] = cols.get(rng.choice(INPUT_COLS), cols.get("実績値", 4))
    a["col_name"] = next((k for k, v in cols.items() if v == a["col"]), "?")
    if kind == "edit_locked":
        name = rng.choice([k for k in LOCKED_COLS if k in cols] or ["指標ID"])
        a["col"], a["col_name"] = cols.get(name, 0), name
    elif kind == "fill_locked_denominator":
        a["col"], a["col_name"] = cols.get("分母", 7), "分母"
    elif kind in ("insert_rows", "delete_rows"):
        a["count"] = rng.choice([1, 1, 2])
        a["at"] = rng.choice([a["row"], last + 1])
    elif kind == "sort":
        a["key"] = rng.choice([v for k, v in cols.items() if k in ("指標ID", "実績値", "評価指標")] or [0])
        a["range"] = f"A{hr + 1}:{col_letter(max(cols.values()))}{last + 1}"
        a["asc"] = rng.random() < 0.5
        a["header"] = rng.random() < 0.7
    elif kind == "merge":
        a["w"], a["h"] = rng.randint(0, 1), rng.randint(0, 2)
    elif kind == "rename_sheet":
        a["new"] = rng.choice([muni + " ", muni + "（回答）", "Sheet1", "小樽", muni + "2"])
    elif kind == "add_sheet":
        a["new"] = rng.choice(["メモ", muni + " (2)", "Sheet2"])
        a["fill"] = rng.random() < 0.5
    elif kind == "copy_other":
        a["other"] = rng.choice([m for m in MUNIS if m != muni])
    elif kind in ("insert_cols", "delete_cols"):
        a["at"] = rng.choice([v for k, v in cols.items() if k in INPUT_COLS or k in ("単位", "目標値")] + [max(cols.values()) + 1])
        a["count"] = 1
        a["head"] = rng.choice(["備考", "", "実績値"])
    elif kind == "unhide_cols":
        a["edit"] = rng.random() < 0.5
    elif kind == "edit_ident":
        a["row"] = rng.randint(max(0, hr - 7), hr - 1)
        a["col"] = 2
    elif kind == "paste_other_rows":
        a["other"] = rng.choice([m for m in MUNIS if m != muni])
    elif kind == "memo_outside":
        a["where"] = rng.choice(["right", "below", "above"])
    elif kind == "fmt_number":
        a["code"] = rng.choice(["@", "0%", "YYYY/MM/DD", "#,##0\"件\"", "0.00"])
    a["unprotect"] = kind in ("edit_locked", "fill_locked_denominator", "insert_rows", "delete_rows", "sort",
                              "merge", "rename_sheet", "add_sheet", "copy_other", "paste_values", "insert_cols",
                              "delete_cols", "unhide_cols", "edit_ident", "paste_other_rows", "memo_outside") or rng.random() < 0.2
    return a


def pick(a, options):
    return options[int(a["pick"] * len(options)) % len(options)]


def apply(office, doc, a: dict, outdir: Path) -> dict:
    info = {"cells": []}
    sh, hr, cols, last = table(doc, a["muni"])
    if a["unprotect"]:
        sh.unprotect("")          # split's protection has no password: Calc's menu lifts it
        doc.unprotect("")
        info["unprotected"] = True
    k, r, c = a["kind"], a["row"], a["col"]
    cell = sh.getCellByPosition(c, r)
    key = sh.getCellByPosition(0, r).getString()
    before = cell.getString()
    mark = lambda what, typed="": info["cells"].append({"id": key, "col": a["col_name"], "what": what,  # noqa: E731
                                                         "typed": typed, "before": before,
                                                         "ref": f"{col_letter(c)}{r + 1}"})
    if k.startswith("type_") and k not in ("type_error", "type_number"):
        typed = pick(a, TYPED[k[5:]])
        if k in ("type_date", "type_percent"):
            # Calc's input line reads 「3/31」 as a date and 「85%」 as 0.85 and gives the cell a
            # date or percent format; setFormula parses alike but leaves the format 標準
            cell.setFormula(typed)
            if cell.getType().value == "VALUE":
                _format(doc, cell, "YYYY/MM/DD" if k == "type_date" else "0%")
        else:
            cell.setString(typed)
        mark(k[5:], typed)
    elif k == "type_number":
        v = pick(a, [7, 0, 12.5, 1200, 3])
        cell.setValue(v)
        mark("number", v)
    elif k == "type_error":
        f = pick(a, ERROR_FORMULAS)
        cell.setFormula(f)
        mark("error", f)
    elif k == "clear_cell":
        cell.setString("")
        mark("cleared")
    elif k == "edit_locked":
        typed = pick(a, ["99-9", "社", "30件", "12", ""])
        cell.setString(typed)
        mark("locked", typed)
    elif k == "fill_locked_denominator":
        cell.setValue(pick(a, [100, 50, 7]))
        mark("denominator", cell.getValue())
    elif k == "insert_rows":
        sh.Rows.insertByIndex(a["at"], a["count"])
    elif k == "delete_rows":
        sh.Rows.removeByIndex(a["at"], a["count"])
        info["deleted"] = True
    elif k == "sort":
        sort_range(sh.getCellRangeByName(a["range"]), a["key"], a["asc"], a["header"])
    elif k == "hide_row":
        sh.Rows.getByIndex(r).IsVisible = False
    elif k == "merge":
        sh.getCellRangeByPosition(c, r, c + a["w"], r + a["h"]).merge(True)
        info["merged"] = True
    elif k == "paste_values":
        rg = sh.getCellRangeByPosition(0, 0, max(cols.values() or [8]), last)
        rg.setDataArray(rg.getDataArray())
    elif k == "rename_sheet":
        if not doc.Sheets.hasByName(a["new"]):
            sh.setName(a["new"])
    elif k == "add_sheet":
        if not doc.Sheets.hasByName(a["new"]):
            doc.Sheets.insertNewByName(a["new"], doc.Sheets.Count)
            if a["fill"]:
                doc.Sheets.getByName(a["new"]).getCellByPosition(0, 0).setString("メモ: 04-1 は 12 件")
    elif k == "copy_other":
        other = office.desktop.loadComponentFromURL(url(outdir / f"{a['other']}_2023年度_入力.xlsx"), "_blank", 0,
                                                    (prop("Hidden", True),))
        try:
            if not doc.Sheets.hasByName(a["other"]):
                doc.Sheets.importSheet(other, a["other"], doc.Sheets.Count)
        finally:
            other.close(True)
    elif k == "insert_cols":
        sh.Columns.insertByIndex(a["at"], a["count"])
        if a["head"]:
            sh.getCellByPosition(a["at"], hr).setString(a["head"])
            sh.getCellByPosition(a["at"], hr + 1).setString("確認中")
    elif k == "delete_cols":
        sh.Columns.removeByIndex(a["at"], a["count"])
        info["deleted"] = True
    elif k == "unhide_cols":
        for name in ("配布時の実績値", "配布時の分母", "配布時の実施状況"):
            if name in cols:
                sh.Columns.getByIndex(cols[name]).IsVisible = True
        if a["edit"] and "配布時の実績値" in cols:
            sh.getCellByPosition(cols["配布時の実績値"], r).setString("")
    elif k == "edit_ident":
        cell.setString(pick(a, ["小樽市", "2024", "", "1", "岩見沢市"]))
    elif k == "paste_other_rows":
        other = office.desktop.loadComponentFromURL(url(outdir / f"{a['other']}_2023年度_入力.xlsx"), "_blank", 0,
                                                    (prop("Hidden", True),))
        try:
            osh, ohr, ocols, olast = table(other, a["other"])
            src = osh.getCellRangeByPosition(0, ohr + 1, max(ocols.values()), olast).getDataArray()
            n = min(len(src), last - hr)
            sh.getCellRangeByPosition(0, hr + 1, len(src[0]) - 1, hr + n).setDataArray(src[:n])
            info["pasted_other"] = True
        finally:
            other.close(True)
    elif k == "memo_outside":
        rr, cc = {"right": (r, max(cols.values()) + 2), "below": (last + 2, 1), "above": (hr - 1, 3)}[a["where"]]
        sh.getCellByPosition(cc, rr).setString("メモ: 確認中")
    elif k == "type_boolean":
        cell.setFormula(pick(a, ["=TRUE()", "=FALSE()", "=1=1"]))
        mark("boolean")
    elif k == "type_formula_ref":
        # a formula over other cells: its cached value is what the file holds
        cell.setFormula(pick(a, ["=3+4", "=SUM(E20:E21)", "=F20", "=\"12\"&\"件\"", "=TODAY()"]))
        mark("formula")
    elif k == "fmt_number":
        _format(doc, cell, a["code"])
        mark("format", a["code"])
    return info


def _format(doc, cell, code):
    from com.sun.star.lang import Locale
    fmts, loc = doc.NumberFormats, Locale("ja", "JP", "")
    fk = fmts.queryKey(code, loc, False)
    cell.NumberFormat = fk if fk != -1 else fmts.addNew(code, loc)


def master_rows(path: Path) -> dict:
    """{sheet: {指標ID: {header: value}}} of the municipality sheets."""
    from python_calamine import CalamineWorkbook
    wb = CalamineWorkbook.from_path(str(path))
    out = {}
    for m in MUNIS:
        rows = wb.get_sheet_by_name(m).to_python()
        head = rows[0]
        out[m] = {str(r[0]): {h: r[i] for i, h in enumerate(head) if h} for r in rows[1:] if r and r[0]}
    return out


# The master's 実績値 cells emptied keeping a percent format before split (「100%」 typed once and
# cleared, or last year's kept by rollover): collect writes a returned number into them and gives
# it the format 標準 (README; core.percent_cells.written_format). {sheet: {指標ID: format}}.
PREPPED: dict = {}
PREPPED_WRITTEN: dict = {}     # the formats the numbers collect wrote into PREPPED cells ended with
PREP_FORMATS = ("0%", "0.0%", '0%;"▲"0%')


def percent_prep(path: Path) -> None:
    """Every third municipality row's 実績値 in ``path`` emptied with a percent format (PREPPED)."""
    from openpyxl import load_workbook
    wb = load_workbook(path, keep_vba=True)
    for m in MUNIS:
        ws = wb[m]
        head = {c.value: c.column for c in ws[1] if c.value}
        for i, r in enumerate(range(2, ws.max_row + 1)):
            key = ws.cell(r, 1).value
            if key and i % 3 == 0:
                fmt = PREP_FORMATS[i // 3 % len(PREP_FORMATS)]
                cell = ws.cell(r, head["実績値"])
                cell.value, cell.number_format = None, fmt
                PREPPED.setdefault(m, {})[str(key)] = fmt
    wb.save(path)


def judge_prepped(path: Path, before, after) -> list[str]:
    """A number collect wrote into a PREPPED cell reads as the number written: its format shows
    no percent (collect gave it 標準), so 85 is not 「8500%」."""
    from openpyxl import load_workbook

    from renkei_xl.core.percent_cells import percent_read
    problems = []
    wb = load_workbook(path, read_only=True)
    for m, ids in PREPPED.items():
        ws = wb[m]
        rows = list(ws.iter_rows())
        head = {c.value: i for i, c in enumerate(rows[0]) if c.value}
        for row in rows[1:]:
            key = str(row[0].value) if row[0].value is not None else ""
            if key not in ids:
                continue
            cell = row[head["実績値"]]
            got, was = after.get(m, {}).get(key, {}).get("実績値"), before.get(m, {}).get(key, {}).get("実績値")
            if got == was or type(cell.value) not in (int, float):
                continue
            PREPPED_WRITTEN[cell.number_format] = PREPPED_WRITTEN.get(cell.number_format, 0) + 1
            if percent_read(cell.value, cell.number_format) is not None:
                problems.append(f"collect: {m} {key} 実績値 {cell.value!r} written into a {ids[key]} cell "
                                f"keeps the format {cell.number_format!r} (reads "
                                f"{percent_read(cell.value, cell.number_format)!r})")
    return problems


def judge_cmd(cmd, rc, out, err, before, after) -> list[str]:
    text = out + err
    if rc == 3 or "予期しないエラー" in text or "Traceback" in text:
        return [f"{cmd}: unexpected error rc={rc}: {text.strip()[-600:]}"]
    problems = []
    if rc == 2:
        if before != after:
            problems.append(f"{cmd}: refused (rc=2) but the master changed")
        if not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", err):
            problems.append(f"{cmd}: refusal not in Japanese: {err.strip()[-300:]}")
    return problems


def save(doc, a_save: dict, outdir: Path, muni: str) -> Path:
    fmt = a_save["fmt"]
    name = f"{muni}_2023年度_入力"
    if a_save["where"] in ("rename", "rename_keep"):
        name = f"{muni}_回答_{a_save['tag']}"
    folder = outdir / muni if a_save["where"] == "subfolder" else outdir
    folder.mkdir(exist_ok=True)
    dst = folder / f"{name}.{fmt}"
    flt, opts = FILTERS[fmt]
    props = [prop("FilterName", flt), prop("Overwrite", True)]
    if opts:
        props.append(prop("FilterOptions", opts))
    doc.storeToURL(url(dst), tuple(props))
    original = outdir / f"{muni}_2023年度_入力.xlsx"
    if dst != original and original.exists() and a_save["where"] != "rename_keep":
        original.unlink()
    if a_save["lock"]:
        lock = folder / (f"~${dst.name}" if a_save["lock"] == "excel" else f".~lock.{dst.name}#")
        lock.write_text(",職員,pc01,05.12.2026 06:00,file:///home/staff/.config/libreoffice/4;")
    return dst


def one_sequence(office, base: Path, base_out: Path, rng: random.Random, work: Path,
                 values_only: bool = False) -> tuple[list, list]:
    work.mkdir(parents=True, exist_ok=True)
    master = work / "master_2023.xlsm"
    shutil.copy(base, master)
    outdir = work / "out"
    shutil.copytree(base_out, outdir)
    munis = rng.sample(MUNIS, rng.choice([1, 1, 2]))
    plan = []
    for muni in munis:
        src = outdir / f"{muni}_2023年度_入力.xlsx"
        doc = office.desktop.loadComponentFromURL(url(src), "_blank", 0, (prop("Hidden", True),))
        acts, infos = [], []
        try:
            for _ in range(rng.randint(1, 6) if values_only else rng.randint(1, 4)):
                a = draw_value(rng, doc, muni) if values_only else draw(rng, doc, muni)
                try:
                    info = apply_value(doc, a) if values_only else apply(office, doc, a, base_out)
                except Exception as exc:   # Calc refused it (as its UI would)
                    info = {"cells": [], "skipped": f"{type(exc).__name__}: {exc}"}
                acts.append(a)
                infos.append(info)
            doc.calculateAll()
            s = {"fmt": rng.choice(["xlsx"] * 6 + (["xls", "ods"] if values_only else ["xls", "ods", "csv"])),
                 "where": rng.choice(["same"] * (15 if values_only else 5) + ["rename", "rename_keep", "subfolder"]),
                 "lock": rng.choice([None] * (18 if values_only else 6) + ["excel", "lo"]), "tag": rng.randint(1, 9)}
            dst = save(doc, s, outdir, muni)
        finally:
            doc.close(True)
        plan.append({"muni": muni, "actions": acts, "infos": infos, "save": s, "file": str(dst.relative_to(work))})
    (work / "plan.json").write_text(json.dumps(plan, ensure_ascii=False, indent=1, default=str))
    shutil.copytree(outdir, work / "returned_as_saved")
    before_rows = master_rows(master)
    problems, log = [], []
    collect_text, after_rows = "", before_rows
    new_classes = values_only and any(c.get("named_class") or c["what"] == "value:ratio"
                                      for p in plan for info in p["infos"] for c in info.get("cells", []))
    for cmd in (["collect", str(master), "out"], ["validate", str(master)], ["recalc", str(master)]):
        b = digest(master)
        try:
            rc, out, err = run(cmd, work)
        except Exception as exc:
            problems.append(f"{cmd[0]}: {exc}")
            continue
        log.append({"cmd": cmd, "rc": rc, "out": out[-4000:], "err": err[-4000:]})
        problems += judge_cmd(cmd[0], rc, out, err, b, digest(master))
        if cmd[0] == "collect":
            after_rows = master_rows(master)
            # the command lists at most a few files and cells (cycle.collect.said); every
            # file taken and every cell left out is on 取込履歴, the record read with it
            collect_text = out + err + "\n" + import_record(master)
            problems += judge_collect(rc, collect_text, plan, before_rows, after_rows)
            problems += judge_prepped(master, before_rows, after_rows)
            if values_only:
                problems += judge_values(collect_text, plan, before_rows, after_rows)
            if new_classes:
                shutil.copyfile(master, work / "collected.xlsm")
    if new_classes and all(entry["rc"] in (0, 1) for entry in log):
        problems += judge_named(master, plan, before_rows, after_rows, collect_text)
        problems += judge_ratio(master, plan, before_rows, after_rows)
        problems += faces_agree(work / "collected.xlsm", work / "faces")
    (work / "log.json").write_text(json.dumps(log, ensure_ascii=False, indent=1))
    with open(work.parent / "arrivals.jsonl", "a") as f:
        for x in ARRIVALS:
            f.write(json.dumps(x, ensure_ascii=False, default=str) + "\n")
    ARRIVALS.clear()
    return plan, problems


def _plain(v) -> str:
    """A value as text, so 3, 3.0 and 「3」 compare alike."""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


def _num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


ARRIVALS: list = []


def judge_collect(rc, text, plan, before, after) -> list[str]:
    problems = []
    edited = {p["muni"] for p in plan}
    for m in MUNIS:
        for key in set(before[m]) | set(after[m]):
            b, a = before[m].get(key), after[m].get(key)
            if b == a:
                continue
            if m not in edited:
                problems.append(f"collect: {m} (not returned edited) changed at {key}: {b} -> {a}")
                continue
            if b is None or a is None:
                problems.append(f"collect: {m} row {key} appeared/vanished")
                continue
            for h in set(b) | set(a):
                if b.get(h) != a.get(h) and h not in INPUT_COLS:
                    problems.append(f"collect: {m}!{key} column {h} changed: {b.get(h)!r} -> {a.get(h)!r}")
    # the master never changes between split and collect here: a reason blaming it sends
    # staff to issue the file again for what the municipality did
    for line in text.splitlines():
        if line.startswith("取り込みません") and ("古い様式" in line or "入力用ファイルを配布し直して" in line):
            problems.append(f"collect: blames the master for a municipality's edit: {line[:300]}")
    for p in plan:
        name = Path(p["file"]).name
        taken = re.search(rf"取込: {re.escape(name)}（", text) is not None
        if not taken and name not in text and p["muni"] not in text:
            problems.append(f"collect: {name} neither taken nor named")
        last = {}     # the last thing typed into each cell is what the file holds
        for info in p["infos"]:
            if info.get("pasted_other"):
                # another municipality's whole table pasted over this one: what was typed
                # before is gone with its rows (seed 8186: 「３．５」 typed, then 江別市's rows)
                last.clear()
            for cell in info.get("cells", []):
                last[(cell["id"], cell["col"])] = cell
        for cell in last.values():
            m, key, col, what = p["muni"], cell["id"], cell["col"], cell["what"]
            got = after[m].get(key, {}).get(col)
            was = before[m].get(key, {}).get(col)
            named = key in text and name in text
            ARRIVALS.append({"what": what, "typed": cell["typed"], "col": col, "was": was, "got": got,
                             "taken": taken, "named": named, "fmt": p["save"]["fmt"],
                             "unprotected": any(i.get("unprotected") for i in p["infos"])})
            if what.startswith("value:"):
                continue         # judged by judge_values
            if got == was:
                if (taken and not named and what not in ("cleared", "format", "locked")
                        and _plain(cell["typed"]) != _plain(was) and _plain(cell["before"]) != _plain(cell["typed"])):
                    problems.append(f"collect: {cell['typed']!r} typed in {m} {key} {col} ({cell['ref']}) neither "
                                    f"arrived nor was named (master keeps {was!r})")
                continue
            if what == "error" and got in ("", 0, 0.0, None):
                problems.append(f"collect: error {cell['typed']} in {m} {key} {col} arrived as {got!r}")
            if what == "ijo" and _num(got):
                problems.append(f"collect: {cell['typed']!r} in {m} {key} {col} arrived as number {got!r}")
            if what == "locked" and col not in INPUT_COLS:
                problems.append(f"collect: locked {col} typed in {m} {key} reached the master: {got!r}")
            if what == "fullwidth":
                want = float(cell["typed"].translate(str.maketrans("０１２３４５６７８９．，", "0123456789.,")).replace(",", ""))
                if _num(got) and got != want:
                    problems.append(f"collect: {cell['typed']!r} in {m} {key} arrived as {got!r}")
            if what in ("date", "percent", "text", "linebreak", "long", "format", "denominator", "cleared", "number"):
                pass     # kept for review in the log: what arrived
    return problems


# ----------------------------------------------------------------------------- --values-only
# Most drawn actions above are structural (rows, sheets, protection), so the whole file is
# refused and few typed values reach the value rules. With --values-only a sequence keeps
# the structure split made and types, as a municipality types in Calc's input line, into
# the cells it may fill. Each typed text carries what a person reads from it: a number
# (and its unit, where the text says one), or None for a text that says no one plain number
# (a bound, an approximation, a date, an error, a status). The oracle: a cell that arrives
# in the master either reads (core.values.parse_input, the master's rule) as that number,
# or does not read as a number at all, or was named by collect; an error never arrives as
# empty or 0; nothing but the typed cells changes.

N = None
# A fraction Calc's input line reads (「1 1/2」, given # ?/?) shows its number exactly and is
# read as stored (core.displayed: scientific and fractions are read as the number they
# round): 1.5 is what a person reads; 「1/2」 alone is a date in ja-JP (1月2日), no number.
WEIGHT_FORMATTED = 0     # --formats: numbers typed into cells the municipality formatted (VALUE_FORMATS)
OFFICE = None     # the walker's soffice (main), for its NumberFormatter
VALUE_TYPED = [          # (typed as in Calc's input line, the number a person reads or N; a unit or
                         # multiplier read as SPEC §3 reads it: 1.5億 is 150000000, 12人 is 12)
    ("10件以上", N), ("5未満", N), ("約10件", N), ("10件程度", N), ("１０以上", N), ("12件（見込み）", N),
    ("１２", 12), ("－５", -5), ("＋３", 3), ("１，２３４", 1234), ("３．５", 3.5), ("１２３４５６７", 1234567),
    ("1,234", 1234), ("1.234,5", N), ("1 234", N), ("12,34", N), ("1,2345", N), ("1.234.567", N),
    ("85%", 85), ("８５％", 85), ("85.5%", 85.5), ("0.5%", 0.5), ("120%", 120),
    ("3千円", 3000), ("12万円", 120000), ("1.5億", 150000000), ("3万人", 30000), ("1億408万円", 104080000), ("2千", 2000), ("3万", 30000),
    ("12人", 12), ("12社", 12), ("12回", 12), ("12校", 12), ("12件", 12), ("12㎡", N), ("12km", N),
    ("2024/3/31", N), ("R6.3.31", N), ("3/31", N), ("10月10日", N), ("令和6年3月31日", N), ("2024-03-31", N),
    ("12:30", N), ("1:05:00", N), ("2024/3/31 10:00", N), ("H31.4.1", N),
    ("1/2", N), ("1 1/2", 1.5), ("0 1/2", 0.5), ("1E3", 1000), ("1e-2", 0.01), ("2.5E+3", 2500),
    ("▲5", -5), ("△5", -5), ("-5", -5), ("（1,234）", N), ("(12)", N), ("▲1,234", -1234), ("-0", 0),
    ("'12", 12), ("'0012", 12), ("'1,234", 1234), ("0012", 12),
    (" 12 ", 12), ("12 ", 12), ("　１２　", 12), ("1 2", N),
    ("0", 0), ("0件", 0), ("00", 0), ("0.0", 0), ("-", N), ("－", N), ("―", N), ("ー", N),
    ("TRUE", N), ("FALSE", N), ("なし", N), ("未集計", N), ("集計中", N), ("実施", N), ("達成", N),
    ("長い説明" * 300, N), ("長い説明" * 9000, N), ("12\n件", 12), ("改行\nあり", N), ("１２\r\n", 12), ("12\n", 12),
    ("#N/A", N), ("#DIV/0!", N), ("#REF!", N), ("＃N/A", N),
]
VALUE_FORMULAS = [       # (formula, the number a person reads from its result or N)
    ("=1/0", N), ("=NA()", N), ("=\"5\"", 5), ("=\"\"", N), ("=3+4", 7), ("=0", 0), ("=\"12件\"", 12),
    ("=1=1", N), ("=TRUE()", N), ("=TODAY()", N), ("=DATE(2024;3;31)", N), ("=1/3", N),
    ("=\"a\"+1", N), ("=SQRT(-1)", N), ("=REPT(\"長\";40000)", N), ("=\"12\"&CHAR(10)&\"件\"", 12),
]
VALUE_FORMATS = [        # (a format the municipality gives the cell, a number typed into it, what a person reads or N;
                         # a multiplier the format shows is read as the same text typed: 「12千円」 is 12000;
                         # a number shown rounded (1234.5 shown 1,235) is the number stored, as Excel's own
                         # sums take it: ordinary rounding, not a number hidden (core.displayed.shown_without_digits))
    ("0%", 0.85, N), ("0.0%", 0.855, N), ('0.0"%"', 85, N), ('0"以上"', 10, N), ('"約"0', 10, N),
    ('0"件程度"', 10, N), ('0"未満"', 5, N), ('#,##0"件"', 1234, 1234), ('0"人"', 12, 12), ('#,##0"千円"', 12, 12000),
    ('#,##0,"千円"', 12000, 12000), ('0"万人"', 3, 30000), ("yyyy/mm/dd", 45382, N), ('[$-411]ggge"年"m"月"d"日"', 45382, N),
    ("h:mm", 0.5, N), ("@", 12, 12), ("0;▲0", -5, N), ('0;"（"0"）"', -12, N), ("#,##0", 1234.5, 1234.5),
    ("#,##0.00", 12, 12), ("0.0", 12.34, 12.34), ('0;-0;"－"', 0, 0), ('"実施";"未実施"', 1, N), ("\\¥#,##0", 12000, 12000),
    ("+0;-0;0", 12, 12), ("0.0E+00", 1200, 1200), ("# ?/?", 2.5, 2.5), ('[<10]"10未満";0', 5, N), ("[DBNum1]0", 12, 12),
    ('0"件（見込み）"', 12, N), ('"R"0', 5, N), ('0_);(0)', 12, 12),
    # 「#」 sections: a number they round to no digit is held (findings.HIDDEN_NUMBER, qa-88);
    # the formats municipalities use with ordinary numbers still import them
    ('#"千円"', 0.3, N), ("#,###", 0.4, N), ("#.#", 0.04, N), ("#%", 0.004, N), ("#,###,", 300, N),
    (";;;", 12, N), ("#,###", 0, 0), ("#,###", 12, 12), ('#,###"件"', 1234, 1234), ("#,##0;△#,##0", 5, 5),
    ("#,###;-#,###;\"-\"", 12, 12), ("#.#", 5, 5),
    # Japanese Excel's own date format (a text section last), formats that show dates by the
    # number (python-calamine converts by the first section alone), a 郵便番号 format (stop 71)
    ('yyyy"年"m"月"d"日";@', 45382, N), ("[<100]yyyy/m/d;0", 150, 150), ("yyyy/m/d;;0", 0, 0),
    ("[>=100000]0;yyyy/m/d", 45017, N), ("000-0000", 1234, N),
]
REF_FORMULAS = ["={ref}", "=SUM({row})", "={ref}*1", "=IFERROR({ref};\"\")"]
# --named: values the tool names as what they are rather than reading them (qa-135): Roman
# numerals of a Japanese font (values._roman_numeral: 「Ⅻ」 is no 12 nor the letters XII) and
# bidirectional controls (values.dropped_char: 「\u202e達成済み」 shows 「み済成達」, 「\u202e12」
# shows 21). A person reads no plain number from any of them. Judged after recalc
# (judge_named): one that arrives is named on its row in 検証結果, never read as a number, and
# no bidirectional control reaches 一覧; the faces (command line and button) agree on the master.
NAMED_TYPED = [
    ("Ⅻ", N, "roman"), ("ⅲ件", N, "roman"), ("Ⅱ人", N, "roman"), ("ⅠⅤ", N, "roman"), ("Ⅳ", N, "roman"),
    ("ⅹ", N, "roman"), ("Ⅻ ", N, "roman"), ("１Ⅱ", N, "roman"), ("ↀ", N, "roman"),
    ("\u202e達成済み", N, "bidi"), ("実施\u202eしました", N, "bidi"), ("\u2067実施\u2069", N, "bidi"),
    ("\u202e12", N, "bidi"), ("12\u202c", N, "bidi"), ("\u202d5件", N, "bidi"), ("\u202b維持\u202c", N, "bidi"),
]
BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# --ratio: a 比率 row (its 分母 open) given a numerator and a denominator with units, as a
# municipality counts them (「12人」 of 「30件」): SPEC's sum rule held to a 比率 (methods._ratio_units).
# A person's families, not the tool's table: 人 and 名 count people, 件 cases, 社 companies.
RATIO_UNITS = ("人", "名", "件", "社", "", "")
RATIO_FAMILY = {"人": "人", "名": "人", "件": "件", "社": "社"}
WEIGHT_NAMED = WEIGHT_RATIO = 0     # (no draw without: seeds replay as before)


def draw_value(rng: random.Random, doc, muni: str) -> dict:
    """One typed value into a cell the municipality may fill (its structure kept)."""
    sh, hr, cols, last = table(doc, muni)
    a = {"kind": "value", "muni": muni, "pick": rng.random(), "unprotect": False}
    if hr is None:
        return {**a, "kind": "skip"}
    rows = [r for r in range(hr + 1, last + 1) if sh.getCellByPosition(0, r).getString()]
    a["row"] = rng.choice(rows)
    open_cols = [v for k, v in cols.items() if k in INPUT_COLS + ("備考",)
                 and not sh.getCellByPosition(v, a["row"]).CellProtection.IsLocked]
    a["col"] = rng.choice(open_cols or [cols.get("実績値", 4)])
    a["col_name"] = next((k for k, v in cols.items() if v == a["col"]), "?")
    how = rng.choices(["typed", "formula", "ref", "text_format", "hidden_row", "comment", "clear", "formatted",
                       "named", "ratio"],
                      [60, 14, 6, 8, 4, 4, 4, WEIGHT_FORMATTED, WEIGHT_NAMED, WEIGHT_RATIO])[0]
    a["how"] = how
    if how == "ratio":
        den = cols.get("分母")
        ratio_rows = [r for r in rows if den is not None and not sh.getCellByPosition(den, r).CellProtection.IsLocked]
        if not ratio_rows:
            return {**a, "kind": "skip"}
        a["row"], a["col"], a["col_name"] = rng.choice(ratio_rows), cols.get("実績値", 4), "実績値"
        n = rng.randint(0, 80)
        d = n + rng.randint(0 if n else 1, 120)
        a["typed"], a["den_typed"] = f"{n}{rng.choice(RATIO_UNITS)}", f"{d}{rng.choice(RATIO_UNITS)}"
        a["reads"], a["den_reads"] = n, d
        return a
    if how == "named":
        a["typed"], a["reads"], a["named_class"] = rng.choice(NAMED_TYPED)
        return a
    if how in ("typed", "text_format", "hidden_row"):
        a["typed"], a["reads"] = rng.choice(VALUE_TYPED)
    elif how == "formula":
        a["typed"], a["reads"] = rng.choice(VALUE_FORMULAS)
    elif how == "formatted":
        a["format"], a["number"], a["reads"] = rng.choice(VALUE_FORMATS)
        a["typed"] = repr(a["number"])
    elif how == "ref":
        other = rng.choice([v for k, v in cols.items() if v != a["col"]])
        a["typed"] = rng.choice(REF_FORMULAS).format(ref=f"{col_letter(other)}{a['row'] + 1}",
                                                    row=f"A{a['row'] + 1}:{col_letter(max(cols.values()))}{a['row'] + 1}")
        a["reads"] = N
    if how in ("text_format", "comment", "formatted"):
        a["unprotect"] = True     # Calc keeps 書式設定 of a protected sheet's cells from staff
    return a


def apply_value(doc, a: dict) -> dict:
    info = {"cells": []}
    if a["kind"] == "skip":
        return info
    sh, hr, cols, last = table(doc, a["muni"])
    if a["unprotect"]:
        sh.unprotect("")
        info["unprotected"] = True
    r, c = a["row"], a["col"]
    cell = sh.getCellByPosition(c, r)
    key = sh.getCellByPosition(0, r).getString()
    before = cell.getString()
    how = a["how"]
    if how == "comment":
        from com.sun.star.table import CellAddress
        addr = CellAddress()
        addr.Sheet, addr.Column, addr.Row = sh.RangeAddress.Sheet, c, r
        sh.Annotations.insertNew(addr, "確認中です（担当：佐藤）")
    elif how == "clear":
        cell.setString("")
    elif how == "formatted":       # 書式設定 → ユーザー定義, then the number typed into it
        _format(doc, cell, a["format"])
        cell.setValue(a["number"])
    elif how == "ratio":           # the numerator and its denominator, typed in the input line
        cell.setFormula(a["typed"])
        den = sh.getCellByPosition(cols["分母"], r)
        den_before = den.getString()
        den.setFormula(a["den_typed"])
        info["cells"].append({"id": key, "col": "分母", "what": "value:ratio", "typed": a["den_typed"],
                              "reads": a["den_reads"], "before": den_before, "ref": f"{col_letter(cols['分母'])}{r + 1}",
                              "calc": {"type": den.getType().value, "value": den.getValue(), "string": den.getString(),
                                       "error": den.getError(), "format": _format_code(doc, den)}})
        info["ratio"] = key
    elif how == "named":           # pasted (a bidirectional control is no key a person presses) or typed
        cell.setString(a["typed"])
    else:
        if how == "text_format":
            _format(doc, cell, "@")
        if how == "hidden_row":
            sh.Rows.getByIndex(r).IsVisible = False
        if "\n" in a["typed"] or "\r" in a["typed"] or how == "text_format":
            cell.setString(a["typed"])          # Alt+Enter, or a 文字列 cell: the input line keeps text
        else:
            cell.setFormula(a["typed"])         # parsed as Calc's input line parses it
            if how != "formula" and cell.getType().value == "VALUE":
                _input_format(doc, cell, a["typed"])
        if how == "text_format":
            sh.protect("")
    t = cell.getType().value
    reads = a.get("reads")
    if how == "ref" and not cell.getError() and re.fullmatch(r"-?\d+(\.\d+)?", cell.getString().strip()):
        # a formula over another cell shows that cell's number (an empty one's 0): a person
        # reads what the cell shows, as the master takes a formula's saved result
        reads = float(cell.getString().strip())     # 0_);(0) shows 「12 」
    info["cells"].insert(0, {"id": key, "col": a["col_name"], "what": "value:" + how, "typed": a.get("typed", ""),
                          "reads": reads, "before": before, "ref": f"{col_letter(c)}{r + 1}",
                          "named_class": a.get("named_class"),
                          # a 比率 row (its 分母 open): a value with a unit arrives with it (README)
                          "ratio_row": "分母" in cols and not sh.getCellByPosition(cols["分母"], r).CellProtection.IsLocked,
                          "calc": {"type": t, "value": cell.getValue(), "string": cell.getString(),
                                   "error": cell.getError(), "format": _format_code(doc, cell)}})
    if a["unprotect"] and how != "text_format":
        sh.protect("")
    return info


def _input_format(doc, cell, typed: str) -> None:
    """The format Calc's input line gives a cell it reads a date, time, percent, fraction or
    E-number in (setFormula parses alike but leaves the format 標準): what a typed 3/31 is."""
    fmt = OFFICE.ctx.ServiceManager.createInstanceWithContext("com.sun.star.util.NumberFormatter", OFFICE.ctx)
    fmt.attachNumberFormatsSupplier(doc)
    try:
        key = fmt.detectNumberFormat(0, typed)
    except Exception:
        return
    if key:
        cell.NumberFormat = key


def _format_code(doc, cell) -> str:
    try:
        return doc.NumberFormats.getByKey(cell.NumberFormat).FormatString
    except Exception:
        return "?"


# The class collect holds since qa-88 (findings.HIDDEN_NUMBER): a number other than 0 whose
# cell shows none of its digits (「;;;」, 0.3 in #"千円" shown 「千円」, 0.4 in #,### shown 「」).
# Judged by what Calc showed, not by the product's rule: a hold of a cell Calc showed digits
# in (12 in #,###) is a correct value held; an arrival of one it showed none of, a guess.
_HIDDEN_SAID = ("数値の桁が表示されていません", "何も表示されていません")


def _shown_without_digits(calc: dict) -> "bool | None":
    """Whether Calc showed the typed number (other than 0) without any digit; None where that
    is no question of this class: not a number, 0, or [DBNum] (Calc shows kanji digits, and
    a word such as 千円 is no digit). Dates, times, scientific and fractions show their number
    otherwise (collect quotes or reads them by their own rules): None only where a digit is
    missing, so a hold of one Calc showed digits in is still a correct value held."""
    code = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]|Standard|General|標準', "", calc.get("format") or "")
    if calc.get("type") != "VALUE" or calc.get("error") or not calc.get("value") or "DBNum" in (calc.get("format") or ""):
        return None
    dated = re.search(r"[YMDHSymdhsGgEeAa/@]", code) is not None
    if dated and "@" not in code and not _is_date(calc.get("value")):
        return True     # Excel shows ##### (core.displayed.shows_hashes), whatever Calc shows
    if re.search(r"[0-9０-９]", calc.get("string") or ""):
        return False
    return None if dated else True


def _is_date(value) -> bool:
    """Whether a number in a date or time format is one Excel has a date for (0 to the end of
    9999-12-31, the 1900 count): Calc shows a date before 1900 (「-12:00」 for -0.5 in h:mm),
    Excel 「#####」, and collect holds the cell as a number shown without digits."""
    try:
        return 0 <= float(value) < 2958466
    except (TypeError, ValueError):
        return True


def _held_as_hidden(text: str, muni: str, ref: str) -> bool:
    """Whether collect's output holds ``muni``'s cell ``ref`` (its returned file's; two files
    share refs, so the sheet is part of it) as a hidden number."""
    return any(f"{muni}!{ref} " in line and any(s in line for s in _HIDDEN_SAID) for line in text.splitlines())


def judge_values(text: str, plan, before, after) -> list[str]:
    """The --values-only oracle on each typed cell (see the block's comment)."""
    from renkei_xl.core.values import ValueParseError, parse_input
    problems = []
    # Named means a finding names the cell: collect's list of changes (「小樽市!E3 05-1 実績値:
    # （空欄） → 10」) names every cell it imports, which made every arrival count as named.
    text = "\n".join(line for line in text.splitlines() if " → " not in line)
    for p in plan:
        last = {}
        for info in p["infos"]:
            for cell in info.get("cells", []):
                if cell["what"] == "value:comment" and (cell["id"], cell["col"]) in last:
                    continue        # a comment changes no value: the cell reads as typed before
                last[(cell["id"], cell["col"])] = cell
        taken = bool(p.get("file")) and re.search(rf"取込: {re.escape(Path(p['file']).name)}（", text) is not None
        for cell in last.values():
            m, key, col = p["muni"], cell["id"], cell["col"]
            got, was = after[m].get(key, {}).get(col), before[m].get(key, {}).get(col)
            calc = cell.get("calc", {})
            named = key in text or cell["ref"] in text
            ARRIVALS.append({"typed": cell["typed"][:60], "how": cell["what"], "col": col, "calc": calc,
                             "was": was, "got": got if not isinstance(got, str) else got[:60], "named": named,
                             "fmt": p["save"]["fmt"]})
            where = f"{cell['typed'][:40]!r} ({cell['what']}) in {m} {key} {col} ({cell['ref']}; Calc: {calc})"
            digitless = _shown_without_digits(calc)
            if digitless is False and _held_as_hidden(text, m, cell["ref"]):
                problems.append(f"collect: {where} held as a number shown without digits; the cell showed "
                                f"{calc.get('string')!r}")
                continue
            if got == was:
                # a value the file holds otherwise than the master, in a file taken, neither
                # arrived nor was named: dropped without a word (qa-135)
                held = {"VALUE": calc.get("value"), "TEXT": calc.get("string"), "EMPTY": ""}.get(calc.get("type"), was)
                if (taken and not named and cell["what"] not in ("value:comment", "value:formula", "value:ref")
                        and _plain(held if held is not None else "") != _plain(was if was is not None else "")):
                    problems.append(f"collect: {where} neither arrived nor was named (master keeps {was!r})")
                continue
            if calc.get("error") and got in ("", 0, 0.0, None) and not named:
                problems.append(f"collect: error {where} arrived as {got!r}")
                continue
            shows = re.sub(r'"[^"]*"|Standard|General|標準|\[[^\]]*\]', "", calc.get("format", ""))
            # (a format that shows some numbers as dates and others not shows this one as the
            # number: 150 in 「[<100]YYYY/M/D;0」 is 150, and arrives as one)
            if (col == "実施状況" and _num(got) and calc.get("type") == "VALUE" and re.search(r"[%YMDHS]", shows)
                    and not re.fullmatch(r"-?[\d,]+(?:\.\d+)?", (calc.get("string") or "").strip())):
                problems.append(f"collect: {where} arrived as the number {got!r}; the cell showed "
                                f"{calc.get('string')!r}")
                continue
            try:
                v = parse_input(got)
            except ValueParseError:
                continue           # recalc names it (the master's rule refuses it)
            except Exception as exc:
                problems.append(f"rules: {where}: parse_input({got!r}) raised {type(exc).__name__}: {exc}")
                continue
            if v.kind != "number":
                continue
            if digitless and not named:
                problems.append(f"collect: {where} arrived as {got!r}, a number the cell showed without any "
                                f"of its digits ({calc.get('string')!r})")
                continue
            if col == "実施状況":
                continue
            reads = cell["reads"]
            if cell.get("ratio_row") and isinstance(got, str) and v.unit:
                # a 比率 row keeps what its numerator and 分母 count (「12km」 of 「40km」 is 30 %):
                # collect writes the unit through and recalc judges the pair (methods._ratio_units)
                continue
            if reads is None and not named and cell["what"] != "value:clear":
                problems.append(f"collect: {where} arrived as {got!r}, read as the number {v.number}{v.unit} "
                                "where a person reads no plain number")
            elif reads is not None and float(v.number) != float(reads) and not named:
                problems.append(f"collect: {where} arrived as {got!r}, read as {v.number}{v.unit}; "
                                f"a person reads {reads}")
    return problems


def _sheet(path: Path, name: str) -> list:
    from python_calamine import CalamineWorkbook
    try:
        return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()
    except Exception:
        return []


def import_record(path: Path) -> str:
    """The master's 取込履歴, every file taken and the cells it left out, as lines the judges
    read beside collect's output: 「取込: （ファイル名）（市町村、変更 n セル）」 a file, then
    「取り込みません: （ファイル名）: 小樽市!G20（理由）、…」 of the cells it left out."""
    rows = _sheet(path, "取込履歴")
    if not rows:
        return ""
    head = [str(h) for h in rows[0]]
    at = {h: i for i, h in enumerate(head)}
    lines = []
    for r in rows[1:]:
        get = (lambda h: r[at[h]] if h in at and at[h] < len(r) and r[at[h]] not in (None, "") else "")
        if not get("ファイル名"):
            continue
        changed = get("変更セル数")
        lines.append(f"取込: {get('ファイル名')}（{get('市町村')}、変更 {int(changed) if changed != '' else 0} セル）")
        if get("取り込まなかったセル"):
            lines.append(f"取り込みません: {get('ファイル名')}: {get('取り込まなかったセル')}")
    return "\n".join(lines)


def _findings(path: Path) -> list:
    """検証結果's rows: (重大度, シート, セル, 指標ID, 内容, …)."""
    return [r for r in _sheet(path, "検証結果")[1:] if r and any(v not in (None, "") for v in r)]


def judge_named(master: Path, plan, before, after, collect_text: str) -> list[str]:
    """--named after recalc: a Roman numeral or a bidirectional control that arrived in 実績値 or
    分母 is named on its row (検証結果, or collect's own words) and never read as a number; one in
    実施状況 is named or kept out of 一覧; no bidirectional control is on 一覧."""
    from renkei_xl.core.values import ValueParseError, parse_input
    problems = []
    listed = _sheet(master, "一覧")
    for r, row in enumerate(listed):
        for c, v in enumerate(row):
            if isinstance(v, str) and not BIDI.isdisjoint(v):
                problems.append(f"recalc: 一覧 r{r + 1}c{c + 1} shows a bidirectional control: {v[:80]!r}")
    findings = _findings(master)
    said = "\n".join(line for line in collect_text.splitlines() if " → " not in line)
    for p in plan:
        m = p["muni"]
        last = {}
        for info in p["infos"]:
            for cell in info.get("cells", []):
                last[(cell["id"], cell["col"])] = cell
        for (key, col), cell in last.items():
            kind = cell.get("named_class")
            if not kind:
                continue
            got, was = after[m].get(key, {}).get(col), before[m].get(key, {}).get(col)
            if got == was or not isinstance(got, str):
                continue        # not arrived (held, refused: collect's words judged them), or read by Calc
            named = any(str(f[1]) == m and str(f[3]) == key for f in findings) or f"{m}!{cell['ref']}" in said
            where = f"{cell['typed']!r} ({kind}) in {m} {key} {col}"
            if col in ("実績値", "分母"):
                try:
                    v = parse_input(got)
                    number = v.number if v.kind == "number" else None
                except ValueParseError:
                    number = None
                if number is not None:
                    problems.append(f"rules: {where} arrived as {got!r}, read as the number {number}")
                if not named:
                    problems.append(f"recalc: {where} arrived as {got!r} and no finding names {m}'s row {key}")
            elif kind == "bidi" and not named:
                plain = "".join(ch for ch in got if ch not in BIDI).strip()
                if plain and any(plain in str(v) for row in listed for v in row):
                    problems.append(f"recalc: {where} shown on 一覧 (controls dropped) and no finding names {m}'s row {key}")
    return problems


_RATIO_TEXT = re.compile(r"^\s*(\d+)\s*(人|名|件|社)?\s*$")


def _ratio_unit(value) -> "str | None":
    """A reported value's unit family by a person's reading ('' none), or None: not such a count."""
    if value in (None, ""):
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return ""
    m = _RATIO_TEXT.match(str(value))
    return None if m is None else RATIO_FAMILY.get(m.group(2) or "", "")


def judge_ratio(master: Path, plan, before, after) -> list[str]:
    """--ratio after recalc, on each 比率 row typed with units: where the municipalities'
    numerators, or their denominators, count things of different families, or the numerators
    other things than the denominators, 一覧 shows no rate and 検証結果 says 単位 on that row;
    where they agree, no finding of its 単位 blames the 分母. The units are those typed (what
    the municipality counted), for each typed cell that arrived: the master's value may be the
    bare number collect stored (qa-135: 「41人」 of 「72件」 stored as 41 of 72)."""
    ids = {info["ratio"] for p in plan for info in p["infos"] if info.get("ratio")}
    if not ids:
        return []
    typed = {}
    for p in plan:
        for info in p["infos"]:
            for cell in info.get("cells", []):
                typed[(p["muni"], cell["id"], cell["col"])] = cell["typed"]
    problems = []
    sheets = {m: _sheet(master, m) for m in MUNIS}
    findings = _findings(master)
    listed = {str(r[9]): r for r in _sheet(master, "一覧") if len(r) > 9}
    for key in sorted(ids):
        nums, dens, odd = set(), set(), False
        for m, rows in sheets.items():
            head = rows[0] if rows else []
            for row in rows[1:]:
                if row and str(row[0]) == key:
                    rec = dict(zip(head, row))
                    for col in ("実績値", "分母"):
                        arrived = after[m].get(key, {}).get(col) != before[m].get(key, {}).get(col)
                        if (m, key, col) in typed and arrived:
                            rec[col] = typed[(m, key, col)]
                    n, d = _ratio_unit(rec.get("実績値")), _ratio_unit(rec.get("分母"))
                    odd = odd or n is None or d is None
                    nums.add(n)
                    dens.add(d)
        if odd:
            continue      # another value's rule judges the row (not a question of units)
        nums.discard("")
        dens.discard("")
        conflict = len(nums) > 1 or len(dens) > 1 or bool(nums and dens and nums != dens)
        shown = str(listed.get(key, [""] * 7)[6])
        about_units = [f for f in findings if str(f[3]) == key and "単位" in str(f[4])]
        if conflict and (shown.endswith("%") or not about_units):
            problems.append(f"recalc: 比率 {key}: numerators {sorted(nums)} / denominators {sorted(dens)} "
                            f"differ; 一覧 shows {shown!r}, unit findings {about_units[:2]}")
        if not conflict and any("分母の単位" in str(f[4]) for f in about_units):
            problems.append(f"recalc: 比率 {key}: numerators {sorted(nums)} / denominators {sorted(dens)} agree, "
                            f"yet {about_units[:2]}")
    return problems


def faces_agree(collected: Path, folder: Path) -> list[str]:
    """入力チェック and 評価を再計算 on the collected master: the command line and the button
    (the faces walker's comparison) agree."""
    import faces_fuzz
    problems = []
    for entry in ("check", "recalc"):
        try:
            problems += [f"faces: {p}" for p in faces_fuzz.compare(entry, collected, folder / entry)]
        except Exception as exc:
            problems.append(f"faces: {entry}: harness {type(exc).__name__}: {exc}")
    if problems:       # whole (the walker prints each cut)
        (folder / "problems.txt").write_text("\n".join(problems), encoding="utf-8")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[2] / ".fuzz" / "return_edits"))
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--keep", action="store_true", help="keep clean sequences too")
    ap.add_argument("--formats", type=int, default=8,
                    help="--values-only: weight of a municipality's own format on a typed number (60: typed text)")
    ap.add_argument("--values-only", action="store_true",
                    help="keep the file's structure; type what staff type into the cells they may fill")
    ap.add_argument("--named", type=int, default=0,
                    help="--values-only: weight of a Roman numeral or a bidirectional control typed (judged "
                         "after recalc: named, never read as a number, not on 一覧; the faces agree)")
    ap.add_argument("--ratio", type=int, default=0,
                    help="--values-only: weight of a 比率 row's numerator and denominator typed with units "
                         "(件/人/名/社 mixes; judged after recalc on 一覧 and 検証結果; the faces agree)")
    ap.add_argument("--percent-prep", action="store_true",
                    help="every third 実績値 of the master emptied with a percent format before split "
                         "(collect writes into them: 標準)")
    args = ap.parse_args()
    if args.values_only:
        # staff's Calc reads the input line in Japanese: 2024/3/31 and 10月10日 become dates
        Office.locale = "ja-JP"
    global WEIGHT_FORMATTED, WEIGHT_NAMED, WEIGHT_RATIO
    WEIGHT_FORMATTED, WEIGHT_NAMED, WEIGHT_RATIO = args.formats, args.named, args.ratio
    if args.named or args.ratio:
        # the button's modules imported before soffice's uno: uno's import hook turns starlette's
        # ModuleNotFoundError for the optional python_multipart into an ImportError it does not catch
        import faces_fuzz  # noqa: F401
        import test_faces  # noqa: F401
        from renkei_xl.server.app import run_button  # noqa: F401
    out, office, base_dir = workspace(args.out)
    global OFFICE
    OFFICE = office
    base = base_dir / "master_2023.xlsm"
    run(["init", str(base), "--sample", "fy2023"], base_dir)
    run(["recalc", str(base)], base_dir)
    if args.percent_prep:
        percent_prep(base)
    rc, o, e = run(["split", str(base), "--outdir", "out"], base_dir)
    assert rc == 0, e
    shutil.rmtree(base_dir / "master_2023_バックアップ", ignore_errors=True)
    print(f"seed {args.seed}", flush=True)
    end = time.monotonic() + args.seconds
    n = fails = 0
    seen: dict[str, int] = {}
    while time.monotonic() < end and (not args.count or n < args.count):
        seed = args.seed + n
        work = out / f"seq-{seed}"
        shutil.rmtree(work, ignore_errors=True)
        try:
            plan, problems = one_sequence(office, base, base_dir / "out", random.Random(seed), work,
                                          args.values_only)
        except Exception as exc:
            print(f"seed {seed}: harness error {type(exc).__name__}: {exc}", flush=True)
            office.start()
            n += 1
            continue
        n += 1
        for p in plan:
            for a in p["actions"]:
                seen[a["kind"]] = seen.get(a["kind"], 0) + 1
            seen["save:" + p["save"]["fmt"] + "/" + p["save"]["where"]] = seen.get("save:" + p["save"]["fmt"] + "/" + p["save"]["where"], 0) + 1
        drawn = str([(p["muni"], [a["kind"] for a in p["actions"]], p["save"]) for p in plan])
        fails += settle(out, work, seed, problems, drawn, bool(args.keep))
    print(f"{n} sequences, {fails} with problems; drawn: {json.dumps(seen, ensure_ascii=False)}"
          + (f"; written into emptied % cells, left as: {json.dumps(PREPPED_WRITTEN, ensure_ascii=False)}"
             if args.percent_prep else ""))


if __name__ == "__main__":
    main()

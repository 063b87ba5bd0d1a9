"""Commands of `renkei-xl` in random order over years, with invariants checked after each step.

Staff do not follow the README: they collect twice, roll a year over before collecting, import
history twice, re-split after returns came in, recalc after a rollover with nothing entered,
export a 確定版 with half the returns, restore a backup by copying it back, and start two
commands at once from two PCs on a shared folder. This is a seeded random walk (not a
hypothesis state machine: every step is a real process on real files, a shrinker's thousands
of replays would not fit the time, and a seed plus the step log replays a failure exactly).

Not collected by pytest (no ``test_`` prefix). Run:

    .venv/bin/python tests/fuzz/sequence_fuzz.py --seeds 0-19 --steps 25 [--keep DIR]

A failure prints the seed, the steps so far and the invariant broken; ``--seeds N --keep DIR``
replays that seed and leaves its folder for a look.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import openpyxl
from openpyxl.cell.cell import MergedCell
import python_calamine

CLI = [str(Path(sys.executable).with_name("renkei-xl"))]
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
TOOL_SHEETS = ("一覧", "集計", "検証結果", "次の一歩")
BACKUP_SUFFIX = "_バックアップ"


class Broken(AssertionError):
    """An invariant that did not hold."""


def sha(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def run(args: list[str], cwd: Path, env: dict) -> tuple[int, str]:
    p = subprocess.run(CLI + [str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                       text=True, timeout=300)
    return p.returncode, p.stdout + p.stderr


def start(args: list[str], cwd: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen(CLI + [str(a) for a in args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def calamine_sheets(path: Path) -> dict[str, list[list[object]]]:
    wb = python_calamine.CalamineWorkbook.from_path(str(path))
    return {n: wb.get_sheet_by_name(n).to_python() for n in wb.sheet_names}


def history_check(grid: list[list[object]], where: str) -> dict[int, dict[str, str]]:
    """経年 as {year: {id: symbol}}; two rows for one id or two columns for one year break."""
    head = next((i for i, r in enumerate(grid) if r and str(r[0]).strip() == "指標ID"), None)
    if head is None:
        return {}
    header = [str(h) for h in grid[head]]
    cols: dict[int, int] = {}
    for k, h in enumerate(header):
        m = re.fullmatch(r"(\d{4})年度 評価", h.strip())
        if m:
            year = int(m.group(1))
            if year in cols:
                raise Broken(f"{where}: 経年 has two 評価 columns for {year}")
            cols[year] = k
    seen: set[str] = set()
    out: dict[int, dict[str, str]] = {y: {} for y in cols}
    for r in grid[head + 1:]:
        ident = str(r[0]).strip() if r and r[0] not in (None, "") else ""
        if not ident:
            continue
        if ident in seen:
            raise Broken(f"{where}: 経年 has two rows for {ident}")
        seen.add(ident)
        for y, k in cols.items():
            out[y][ident] = str(r[k]) if k < len(r) else ""
    return out


def list_symbols(grid: list[list[object]]) -> dict[str, str]:
    """一覧's 評価 by 指標ID, as the printed list shows it."""
    for i, r in enumerate(grid):
        cells = [str(c).strip() for c in r]
        if "指標ID" in cells and "評価" in cells:
            ki, ke = cells.index("指標ID"), cells.index("評価")
            return {str(row[ki]).strip(): str(row[ke]).strip() for row in grid[i + 1:]
                    if len(row) > max(ki, ke) and str(row[ki]).strip()}
    return {}


def list_rows(grid: list[list[object]]) -> dict[str, tuple[str, str]]:
    """一覧's (実績値, 評価) by 指標ID, as the printed list shows them."""
    for i, r in enumerate(grid):
        cells = [str(c).strip() for c in r]
        if "指標ID" in cells and "評価" in cells and "実績値" in cells:
            ki, ka, ke = cells.index("指標ID"), cells.index("実績値"), cells.index("評価")
            return {str(row[ki]).strip(): (str(row[ka]).strip(), str(row[ke]).strip())
                    for row in grid[i + 1:] if len(row) > max(ki, ka, ke) and str(row[ki]).strip()}
    return {}


def history_rows(grid: list[list[object]], year: int) -> dict[str, tuple[str, str]]:
    """経年's (実績値, 評価) of one year by 指標ID ({} when it has no such year)."""
    head = next((i for i, r in enumerate(grid) if r and str(r[0]).strip() == "指標ID"), None)
    if head is None:
        return {}
    cells = [str(h).strip() for h in grid[head]]
    ka, ke = f"{year}年度 実績値", f"{year}年度 評価"
    if ka not in cells or ke not in cells:
        return {}
    ka, ke = cells.index(ka), cells.index(ke)
    return {str(r[0]).strip(): (str(r[ka]).strip(), str(r[ke]).strip()) for r in grid[head + 1:]
            if r and str(r[0]).strip() and len(r) > max(ka, ke)}


def yearly_rates(grid: list[list[object]]) -> dict[str, tuple[str, str]]:
    """集計's 年度別の達成割合: {"2022年度": (rate, "47／63")}."""
    for i, r in enumerate(grid):
        if r and str(r[0]).strip() == "年度別の達成割合":
            years = [str(c).strip() for c in r[1:]]
            rate, text = grid[i + 1][1:], grid[i + 2][1:]
            return {y: (str(rate[k]), str(text[k])) for k, y in enumerate(years) if y}
    return {}


def sheet_ids(path: Path) -> set[str]:
    """指標's IDs now (what the next 一覧 must list)."""
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        ws = wb["指標"]
        rows = list(ws.iter_rows(values_only=True))
    finally:
        wb.close()
    head = next(i for i, r in enumerate(rows) if r and r[0] == "指標ID")
    return {str(r[0]).strip() for r in rows[head + 1:] if r and r[0] not in (None, "")}


def load_master_(path: Path):
    from renkei_xl.workbook.session import load_master
    return load_master(path)


def evaluation(path: Path) -> tuple[int, dict[str, str]]:
    """What the tool computes from the master's inputs now (what rollover and export record)."""
    from renkei_xl.core.pipeline import recalculate
    from renkei_xl.workbook.session import load_master

    d = load_master(path)
    res = recalculate(d.settings, d.indicators, d.entries, d.findings)
    return d.settings.fiscal_year, {i: e.symbol for i, e in res.evaluations.items()}


# --- filling a returned file ---------------------------------------------------------------

PLAUSIBLE_STATUS = ("実施", "維持", "常時", "開設", "未実施", "策定", "検討中")
HOSTILE = ("約10件", "10件以上", "=1/0", "=SUM(A1:A2)", "#REF!", "#N/A", "-5", "1e308", "１２",
           "▲3", "😀", " ", "x" * 33000, "'10/10", "０．５")


def _typed(ws, r: int, c: int, value) -> None:
    """``value`` typed into a cell of an input file, unless an earlier hostile fill merged it
    into the cell above (openpyxl's MergedCell takes no value; seed 893 stopped the walk there):
    staff cannot type into a merged area's other cells either."""
    cell = ws.cell(r, c)
    if not isinstance(cell, MergedCell):
        cell.value = value


def fill(src: Path, dst: Path, rnd: random.Random, hostile: bool) -> str:
    wb = openpyxl.load_workbook(src)
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if r and r[0] == "指標ID")
    cols = {h: k + 1 for k, h in enumerate(rows[head]) if h}
    data = [head + 2 + j for j, r in enumerate(rows[head + 1:]) if r and r[0]]
    notes = []
    if not data:
        wb.save(dst)
        return "no rows"
    for r in rnd.sample(data, k=max(1, len(data) // 2)):
        given = ws.cell(r, cols["配布時の実績値"]).value if "配布時の実績値" in cols else None
        if hostile and rnd.random() < 0.5:
            kind = rnd.choice(["value", "date", "merge", "gray", "denominator", "sheet", "idcell", "note"])
            if kind == "value":
                v = rnd.choice(HOSTILE)
                _typed(ws, r, cols[rnd.choice(["実績値", "実施状況"])], v)
            elif kind == "date":
                _typed(ws, r, cols["実施状況"], dt.datetime(2024, 10, 10))
            elif kind == "merge":
                ws.merge_cells(start_row=r, start_column=cols["実績値"], end_row=r + 1,
                               end_column=cols["実績値"])
            elif kind == "gray":
                _typed(ws, r, cols["目標値"], "99件")
            elif kind == "denominator":
                _typed(ws, r, cols["分母"], 7)
            elif kind == "sheet":
                _typed(wb.copy_worksheet(ws), r, cols["実績値"], 3)
            elif kind == "idcell":
                ws["C15"] = "0000"
            else:
                ws.cell(1, 14).value = "メモ"
            notes.append(f"{kind}@{r}")
        else:
            if isinstance(given, (int, float)) or (isinstance(given, str) and re.search(r"\d", given or "")):
                _typed(ws, r, cols["実績値"], rnd.choice([rnd.randint(0, 40), f"{rnd.randint(0, 40)}", None]))
            elif given:
                _typed(ws, r, cols["実績値"], rnd.choice(PLAUSIBLE_STATUS))
            if rnd.random() < 0.5:
                _typed(ws, r, cols["実施状況"], f"連携会議を{rnd.randint(1, 9)}回開催した")
    wb.save(dst)
    return ",".join(notes) or "plausible"


def fill_year(src: Path, dst: Path, rnd: random.Random) -> None:
    """A municipality's whole year, as a careful clerk types it: a number near the target
    for a numeric row (with a 分母 on a % row), the target's word for a status row, a
    sentence of 実施状況; so that ◎, □ and × all occur."""
    import unicodedata

    wb = openpyxl.load_workbook(src)
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if r and r[0] == "指標ID")
    cols = {h: k + 1 for k, h in enumerate(rows[head]) if h}
    for j, r in enumerate(rows[head + 1:]):
        if not r or not r[0]:
            continue
        x = head + 2 + j
        target = unicodedata.normalize("NFKC", str(ws.cell(x, cols["目標値"]).value or ""))
        unit = str(ws.cell(x, cols["単位"]).value or "")
        n = re.search(r"\d[\d,]*(?:\.\d+)?", target)
        if "全市町村" in target:
            ws.cell(x, cols["実績値"]).value = rnd.choice([1, 1, 1, 0])
        elif n and "年度まで" not in target and not re.fullmatch(r"\d{4}年度", target):
            goal = float(n.group().replace(",", "")) * (1000 if "千" in target else 10000 if "万" in target else 1)
            if unit in ("%", "％") or not ws.cell(x, cols["分母"]).protection.locked:
                ws.cell(x, cols["実績値"]).value = rnd.randint(60, 100)
                ws.cell(x, cols["分母"]).value = 100
            else:
                ws.cell(x, cols["実績値"]).value = max(0, round(goal * rnd.choice([0.5, 0.8, 0.9, 1.0, 1.2])))
        elif target:
            ws.cell(x, cols["実績値"]).value = re.split(r"[（(]", target)[0]
        ws.cell(x, cols["実施状況"]).value = f"2022年度に連携会議を{rnd.randint(1, 9)}回開催した"
    wb.save(dst)


# --- the walk ------------------------------------------------------------------------------

class World:
    def __init__(self, root: Path, seed: int, log, start: int = 2023):
        self.root, self.rnd, self.log = root, random.Random(seed), log
        self.env = dict(os.environ, TMPDIR=str(root / "tmp"), PYTHONDONTWRITEBYTECODE="1")
        (root / "tmp").mkdir(parents=True, exist_ok=True)
        self.steps = 0
        self.refusals: dict[str, int] = {}
        self.years: dict[Path, int] = {}          # 設定's year, per master path
        self.carried: dict[tuple[Path, int], dict[str, str]] = {}   # 経年 expected after a carry
        self.master = root / "さっぽろ圏_2023年度_マスター.xlsm"
        self.old = root / "old" / "さっぽろ圏_2022年度_マスター.xlsm"
        self.old.parent.mkdir()
        rc, out = run(["init", self.old, "--year", "2022"], root, self.env)
        if rc != 0:
            raise Broken(f"init 2022 failed: {out}")
        self.years[self.old] = 2022
        # --from 2022: what 2022's 一覧 printed, the masters whose 経年 must keep it, the IDs a
        # CSV of 2022 legitimately rewrote there, and the IDs staff removed from each master
        self.printed22: dict[str, tuple[str, str]] = {}
        self.lineage: set[Path] = set()
        self.csv22: dict[Path, set[str]] = {}
        self.removed: dict[Path, set[str]] = {}
        self.renumbered: dict[Path, set[str]] = {}     # new IDs staff gave an old row
        self.renamed: dict[Path, dict[str, str]] = {}  # municipality sheet: new name -> 2022's
        self.sampled: set[Path] = set()                 # made by init --sample fy2023
        if start == 2022:
            self.build_2022()
        else:
            self.demo = root / "demo"
            rc, out = run(["demo", "--outdir", self.demo], root, self.env)
            if rc != 0:
                raise Broken(f"demo failed: {out}")
            shutil.copy2(self.demo / self.master.name, self.master)
        self.years[self.master] = 2023
        if start == 2022:
            self.RULES = self.RULES + self.YEAR_RULES

    # ---- --from 2022: a year of data, then the first rollover ----
    def build_2022(self) -> None:
        """FY2022 as staff really start: indicators and municipalities typed into a fresh
        master, split, every return filled with plausible values, collected, recalculated,
        exported; then rolled over to 2023."""
        sample = self.root / "tmp" / "見本.xlsm"
        rc, out = run(["init", sample, "--sample", "fy2023"], self.root, self.env)
        if rc != 0:
            raise Broken(f"init sample failed: {out}")
        src = openpyxl.load_workbook(sample)
        wb = openpyxl.load_workbook(self.old, keep_vba=True)
        for r, row in enumerate(src["指標"].iter_rows(values_only=True), start=1):
            for c, v in enumerate(row, start=1):
                if c in (11, 12) and r > 1 and row[12] != "○":   # 手入力: none typed in 2022 but KPIs
                    v = None
                wb["指標"].cell(r, c).value = v
        for ws in src.worksheets[3:15]:
            for r, row in enumerate(ws.iter_rows(values_only=True), start=1):
                for c, v in enumerate(row[:4], start=1):
                    wb[ws.title].cell(r, c).value = v
        for r in range(10, 22):
            for c in (3, 4):
                wb["設定"].cell(r, c).value = src["設定"].cell(r, c).value
        wb["設定"]["B5"] = 0.8          # 2022's threshold; a step may change 2023's
        wb.save(self.old)
        src.close()
        out22, back = self.root / "配布用_2022", self.root / "回収_2022"
        back.mkdir()
        for args in (["split", self.old, "--outdir", out22], None, ["collect", self.old, back],
                     ["recalc", self.old], ["export", self.old, "-o", self.root / "確定版_2022.xlsx"]):
            if args is None:
                for f in sorted(out22.glob("*.xlsx")):
                    fill_year(f, back / f.name, self.rnd)
                continue
            rc, out = run(args, self.root, self.env)
            self.log(f"  2022 {args[0]}: rc={rc} {out.strip().splitlines()[-1][:150] if out.strip() else ''}")
            self.check_output(f"2022 {args[0]}", rc, out)
            if rc == 2:
                raise Broken(f"2022 {args[0]} refused: {out[-1500:]}")
        printed = list_rows(calamine_sheets(self.old)["一覧"])
        _, ev = evaluation(self.old)
        if {i: s for i, (_, s) in printed.items()} != {i: s for i, s in ev.items() if i in printed}:
            raise Broken("2022: 一覧 after recalc disagrees with the evaluation")
        exported = list_rows(calamine_sheets(self.root / "確定版_2022.xlsx")["一覧"])
        if exported != printed:
            raise Broken("2022: 確定版's 一覧 differs from the master's 一覧")
        if sum(s in "◎□×" for _, s in printed.values()) < 30:
            raise Broken("2022: nothing collected (no 実績値 in 一覧)")
        self.printed22 = printed
        self.entries22 = {(e.municipality, e.indicator_id): e.value.strip()
                          for e in load_master_(self.old).entries if e.value.strip()}
        self.rate22 = yearly_rates(calamine_sheets(self.old)["集計"]).get("2022年度")
        if not self.rate22:
            raise Broken("2022: 集計 shows no 2022年度 in 年度別の達成割合")
        self.rollover_2022(force=False)

    def rollover_2022(self, force: bool) -> None:
        """2022 → 2023 (again: staff roll over twice, the second time with --force)."""
        before = self.all_files()
        args = ["rollover", self.old, "-o", self.master] + (["--force"] if force else [])
        rc, out = run(args, self.root, self.env)
        self.log(f"  rollover 2022{' --force' if force else ''}: rc={rc} "
                 f"{out.strip().splitlines()[-1][:150] if out.strip() else ''}")
        self.check_output("rollover 2022", rc, out)
        if rc == 2:
            if force or not before.get(self.master):
                raise Broken(f"rollover 2022 refused: {out[-1500:]}")
            return
        self.years[self.master] = 2023
        self.lineage.add(self.master)
        self.csv22.pop(self.master, None)
        self.removed.pop(self.master, None)
        self.renumbered.pop(self.master, None)
        self.renamed.pop(self.master, None)
        self.carried = {k: v for k, v in self.carried.items() if k[0] != self.master}
        self.check_masters("rollover 2022", before, {self.master}, refused=False)

    # masters in the folder (rollover adds them)
    def masters(self) -> list[Path]:
        return sorted(p for p in self.root.glob("*.xlsm") if not p.name.startswith("~$"))

    def pick(self) -> Path:
        return self.rnd.choice(self.masters())

    def year_of(self, m: Path) -> int:
        return self.years.get(m) or int(re.search(r"(\d{4})年度", m.name).group(1))

    def all_files(self) -> dict[Path, str | None]:
        return {m: sha(m) for m in self.masters() + [self.old]}

    # ---- invariants ----
    def check_output(self, what: str, rc: int, out: str) -> None:
        if rc == 3 or "Traceback" in out or "予期しないエラー" in out:
            raise Broken(f"{what}: unexpected error rc={rc}\n{out[-3000:]}")
        if rc not in (0, 1, 2):
            raise Broken(f"{what}: exit {rc}\n{out[-2000:]}")
        if rc == 2:
            if not JAPANESE.search(out):
                raise Broken(f"{what}: refusal not in Japanese: {out[-1000:]}")
            key = re.sub(r"[0-9]+", "N", out.strip().splitlines()[-1] if out.strip() else "")[:160]
            self.refusals[key] = self.refusals.get(key, 0) + 1

    def check_masters(self, what: str, before: dict[Path, str | None], touched: set[Path],
                      refused: bool) -> None:
        for m in self.masters() + [self.old]:
            now = sha(m)
            if m not in touched or refused:
                if m in before and before[m] != now:
                    raise Broken(f"{what}: {m.name} changed though {'refused' if refused else 'not written'}")
            if m in before and before[m] is not None and before[m] != now:
                folder = m.with_name(m.stem + BACKUP_SUFFIX)
                kept = {sha(b) for b in folder.glob("*")} if folder.is_dir() else set()
                if before[m] not in kept:
                    raise Broken(f"{what}: {m.name} rewritten with no backup of its previous content")
            self.check_one(what, m)

    def check_one(self, what: str, m: Path) -> None:
        try:
            openpyxl.load_workbook(m, keep_vba=True).close()
            sheets = calamine_sheets(m)
        except Exception as e:  # noqa: BLE001 - any failure to open is the finding
            raise Broken(f"{what}: {m.name} does not open: {e!r}")
        rc, out = run(["validate", "--no-write", m], self.root, self.env)
        if rc not in (0, 1) or "Traceback" in out:
            raise Broken(f"{what}: {m.name} fails validate's structure checks rc={rc}\n{out[-2000:]}")
        year, _ = evaluation(m)
        if m in self.years and year != self.years[m]:
            raise Broken(f"{what}: {m.name} 設定 year {self.years[m]} -> {year}")
        self.years[m] = year
        hist = history_check(sheets.get("経年", []), f"{what}: {m.name}")
        for (path, y), expected in self.carried.items():
            if path == m and y in hist:
                got = {i: s for i, s in hist[y].items() if i in expected}
                diff = {i: (expected[i], got.get(i)) for i in expected if got.get(i) != expected[i]}
                if diff:
                    raise Broken(f"{what}: {m.name} 経年 {y} differs from that year's evaluation: "
                                 f"{dict(list(diff.items())[:6])}")
        if m in self.lineage:
            self.check_2022(what, m, sheets, year)

    def check_2022(self, what: str, m: Path, sheets: dict, year: int) -> None:
        """A master that carries FY2022: 経年's 2022 is what 2022's 一覧 printed (実績値 and 評価,
        judged by 2022's threshold and targets), removed indicators included; no column, 経年
        or 前年度実績, names this master's own year or a later one."""
        grid = sheets.get("経年", [])
        got = {i: ("" if a == "－" else a, e) for i, (a, e) in history_rows(grid, 2022).items()}
        printed = {i: ("" if a == "－" else a, e) for i, (a, e) in self.printed22.items()}
        skip = self.csv22.get(m, set())
        diff = {i: (p, got.get(i)) for i, p in printed.items() if i not in skip and got.get(i) != p}
        if diff:
            raise Broken(f"{what}: {m.name} 経年 2022 differs from what 2022's 一覧 printed: "
                         f"{dict(list(diff.items())[:5])}")
        if year == 2023:
            for name, g in sheets.items():
                if name == "指標" or not g or str(g[0][0]).strip() != "指標ID" or "前年度実績（2022年度）" not in map(str, g[0]):
                    continue
                k = [str(h) for h in g[0]].index("前年度実績（2022年度）")
                town = self.renamed.get(m, {}).get(name, name)
                for r in g[1:]:
                    if str(r[0]).strip() in self.renumbered.get(m, set()):
                        continue
                    shown = str(r[k]).strip() if len(r) > k else ""
                    was = self.entries22.get((town, str(r[0]).strip()), "")
                    if shown and not was:
                        raise Broken(f"{what}: {m.name} {name} shows 前年度実績（2022年度） {shown!r} for "
                                     f"{r[0]}, which {name} did not report in 2022")
                    if was and not shown.startswith(was.split("／")[0][:1]):
                        raise Broken(f"{what}: {m.name} {name} shows 前年度実績（2022年度） {shown!r} for "
                                     f"{r[0]}, 2022 had {was!r}")
        for name, g in sheets.items():
            head = g[:1] if name != "経年" else g[:4]
            for row in head:
                for h in row:
                    y = re.search(r"(\d{4})年度 (?:実績値|評価|目標値)$|前年度実績（(\d{4})年度）", str(h))
                    # the FY2023 sample records the official 2023 list in its own 経年 by design
                    own = year if (name == "経年" and m in self.sampled) else year - 1
                    if y and int(y.group(1) or y.group(2)) > own:
                        raise Broken(f"{what}: {m.name} sheet {name} has a column {h!r} in a {year} master")

    # ---- one command ----
    def command(self, what: str, args: list, touched: set[Path]) -> tuple[int, str]:
        before = self.all_files()
        rc, out = run(args, self.root, self.env)
        self.log(f"  {what}: rc={rc} {out.strip().splitlines()[-1][:150] if out.strip() else ''}")
        self.check_output(what, rc, out)
        self.check_masters(what, before, touched, refused=(rc == 2))
        return rc, out

    # ---- rules ----
    def r_split(self):
        m = self.pick()
        self.command(f"split {m.name}", ["split", m, "--outdir", self.root / f"配布用_{self.year_of(m)}"], set())

    def r_fill(self):
        m = self.pick()
        dist = self.root / f"配布用_{self.year_of(m)}"
        files = sorted(dist.glob("*.xlsx")) if dist.is_dir() else []
        if not files:
            return self.r_split()
        src = self.rnd.choice(files)
        back = self.root / f"回収_{self.year_of(m)}"
        back.mkdir(exist_ok=True)
        hostile = self.rnd.random() < 0.35
        how = fill(src, back / src.name, self.rnd, hostile)
        self.log(f"  fill {src.name} ({how})")

    def r_collect(self):
        m = self.pick()
        folders = sorted(self.root.glob("回収_*"))
        if not folders:
            return self.r_fill()
        back = self.rnd.choice(folders)
        dry = self.rnd.random() < 0.15
        args = ["collect", m, back] + (["--dry-run"] if dry else [])
        rc, out = self.command(f"collect {m.name} {back.name}{' --dry-run' if dry else ''}", args,
                               set() if dry else {m})
        if dry or rc == 2:
            return
        first = calamine_sheets(m)
        imported = re.search(r"^(\d+ ファイル、\d+ セルを取り込みました): ", out, re.M)
        status = [v for row in first.get("メニュー", []) for v in row if isinstance(v, str) and v.startswith("回収ファイル取込")]
        if imported and not any(v.startswith(f"回収ファイル取込: {imported.group(1)}") for v in status):
            # README: メニュー's 最終実行結果 says what the import did, in the command line's words
            raise Broken(f"collect: メニュー of {m.name} does not say 「{imported.group(1)}」: {status}")
        rc2, out2 = self.command(f"collect again {m.name}", args, {m})
        second = calamine_sheets(m)
        if "マスターは変更していません" in out2 and first.get("メニュー") != second.get("メニュー"):
            raise Broken(f"collect again: nothing imported, yet メニュー of {m.name} changed")
        for name in first:
            if name in ("メニュー", "取込履歴", "検証結果"):
                continue
            if first[name] != second.get(name):
                raise Broken(f"collect twice: sheet {name} of {m.name} differs after the second collect")

    def r_beside(self):
        """Staff keep the master among the returns (``collect マスター.xlsm .``, README): one
        folder holding this year's returns, the master, the other years' masters beside it
        with their backup folders, a rollover made there, all as the tool leaves them. A copy
        of the world's folder, so the walk goes on unchanged. The collect must take what the
        same returns in a folder of their own give (a dry run on the world's master), and a
        second one must not stumble on what the first wrote (lock, backups): nothing of the
        tool's own is named, held or counted (qa-140, qa-148)."""
        m = self.pick()
        year = self.year_of(m)
        back = self.root / f"回収_{year}"
        returns = sorted(back.glob("*.xlsx")) if back.is_dir() else []
        if not returns:
            return self.r_fill()
        rc0, clean = run(["collect", m, back, "--dry-run"], self.root, self.env)
        self.check_output(f"beside: collect --dry-run {m.name} {back.name}", rc0, clean)
        if rc0 == 2:
            return
        want = re.search(r"取り込める (\d+) ファイル、変更 (\d+) セル", clean)
        shared = Path(f"{self.root}-共有")
        shutil.rmtree(shared, ignore_errors=True)
        shared.mkdir()
        for p in self.masters():
            shutil.copy2(p, shared / p.name)
            folder = p.with_name(p.stem + BACKUP_SUFFIX)
            if folder.is_dir() and self.rnd.random() < 0.8:
                shutil.copytree(folder, shared / folder.name, copy_function=shutil.copy2)
        for f in returns:
            shutil.copy2(f, shared / f.name)
        here = shared / m.name
        steps = []
        if self.rnd.random() < 0.4:      # next year's master made in the same folder first
            steps.append(["rollover", here.name, "--force"])
        steps += [["collect", here.name, "."], ["collect", here.name, "."]]
        got = []
        for args in steps:
            rc, out = run(args, shared, self.env)
            what = "beside " + " ".join(args)
            self.log(f"  {what}: rc={rc} {out.strip().splitlines()[-1][:150] if out.strip() else ''}")
            self.check_output(what, rc, out)
            if args[0] != "collect":
                continue
            own = [ln for ln in out.splitlines() if ("renkei-lock" in ln or BACKUP_SUFFIX in ln
                   or ".~renkei-" in ln) and not ln.startswith("バックアップ: ")]
            if own:
                raise Broken(f"{what}: collect names the tool's own files among the returns: {own[:3]}\n{out[-1500:]}")
            got.append((rc, out))
        (rc1, out1), (rc2, out2) = got
        took = re.search(r"^(\d+) ファイル、(\d+) セルを取り込みました", out1, re.M)
        if want and rc1 != 2:
            n = (took.group(1), took.group(2)) if took else ("0", "0")
            if n != want.groups() and not (n[1] == want.group(2) == "0"):
                raise Broken(f"beside: collect {m.name} . took {n} (files, cells) where the same returns in a "
                             f"folder of their own give {want.groups()}\n{out1[-2000:]}")
        if rc2 != 2 and re.search(r"^[1-9]\d* ファイル、[1-9]\d* セルを取り込みました", out2, re.M):
            raise Broken(f"beside: a second collect {m.name} . changed cells again\n{out2[-1500:]}")
        self.check_one("beside", here)
        # on a Broken the folder is left for a look (main removes it unless --keep)
        shutil.rmtree(shared, ignore_errors=True)

    def r_place(self):
        """A write sent where the system refuses it: a folder under /sys (EPERM even for root,
        as a share without the right to write), a file there (EACCES), a path through a file
        (ENOTDIR), a name past the file system's 255 bytes. The command must refuse (exit 2) in
        Japanese, change no master, and name the place: the path given or a folder above it
        that is there, never a folder that is not (safety.make_folder, place_refusal; qa-144,
        qa-147, qa-148)."""
        m = self.pick()
        year = self.year_of(m)
        a_file = self.root / "メモ.txt"
        a_file.write_text("x", encoding="utf-8")
        place = self.rnd.choice([Path("/sys/連携"), Path("/sys/kernel/連携/配布"), Path("/sys"),
                                 a_file / "配布", self.root / ("長" * 90) / "配布"])
        name = self.rnd.choice(["確定版.xlsx", f"さっぽろ圏_{year + 1}年度_マスター.xlsm"])
        args = self.rnd.choice([["split", m, "--outdir", place], ["export", m, "-o", place / "確定版.xlsx"],
                                # rollover's output keeps the master's .xlsm (an .xlsx is refused first, by name:
                                # seeds 148402, 148403 drew 確定版.xlsx here, a walker defect)
                                ["rollover", m, "-o", place / f"さっぽろ圏_{year + 1}年度_マスター.xlsm", "--force"],
                                # init's name carries the year it is given: a name of another year is
                                # refused first, by name (seed 7201 drew the next year's here, a walker defect)
                                ["init", place / name.replace(str(year + 1), str(year)), "--year", str(year)]])
        rc, out = self.command(f"place {args[0]} {place}", args, set())
        if rc != 2:
            raise Broken(f"place {args[0]} into {place}: not refused (rc={rc})\n{out[-1200:]}")
        quoted = [Path(q) for q in re.findall(r"「(/[^「」]*)」", out)]
        ours = [q for q in quoted if q == place or place.is_relative_to(q) or q.is_relative_to(place)]
        if not ours:
            raise Broken(f"place {args[0]} into {place}: the refusal names no place on the way: {out[-1200:]}")
        for q in re.findall(r"フォルダー「(/[^「」]*)」に", out):
            if not Path(q).is_dir():
                raise Broken(f"place {args[0]} into {place}: the refusal blames a folder that is not there: {q}\n{out[-1200:]}")

    def r_validate(self):
        m = self.pick()
        self.command(f"validate {m.name}", ["validate", m], {m})

    def r_recalc(self):
        m = self.pick()
        rc, _ = self.command(f"recalc {m.name}", ["recalc", m], {m})
        if rc == 2:
            return
        first = calamine_sheets(m)
        parts1 = self._tool_parts(m)
        rc2, _ = self.command(f"recalc again {m.name}", ["recalc", m], {m})
        parts2 = self._tool_parts(m)
        for name in parts1:
            if parts1[name] != parts2.get(name):
                raise Broken(f"recalc not idempotent: {name} of {m.name} changed on a second recalc")
        _, ev = evaluation(m)
        shown = list_symbols(first.get("一覧", []))
        diff = {i: (shown.get(i), s) for i, s in ev.items() if i in shown and shown[i] != s}
        if diff:
            raise Broken(f"recalc: 一覧 of {m.name} disagrees with the evaluation: {dict(list(diff.items())[:6])}")
        if m in self.lineage:
            self.check_list(m, first.get("一覧", []))

    def check_list(self, m: Path, grid: list) -> None:
        """This year's 一覧 lists 指標's IDs only (a removed one is gone) and its 実績値 are this
        year's consolidation: no 2022 value shows under a later year."""
        from renkei_xl.core.pipeline import recalculate
        from renkei_xl.workbook.session import load_master

        rows = list_rows(grid)
        rate = yearly_rates(calamine_sheets(m).get("集計", [])).get("2022年度")
        if not self.csv22.get(m) and rate != self.rate22:
            raise Broken(f"recalc: 集計 of {m.name} shows 2022年度 as {rate}, 2022's own 集計 printed {self.rate22}")
        ids = sheet_ids(m)
        if set(rows) != ids:
            raise Broken(f"recalc: 一覧 of {m.name} lists {sorted(set(rows) - ids)[:5]} not in 指標 "
                         f"and lacks {sorted(ids - set(rows))[:5]}")
        d = load_master(m)
        res = recalculate(d.settings, d.indicators, d.entries, d.findings)
        auto = {i.id for i in d.indicators if i.method == "自動"}
        for i, (actual, _) in rows.items():
            c = res.consolidated.get(i)
            if i in auto or c is None:
                continue
            if actual != (c.actual or "").strip() and actual not in ("", "－", "―"):
                raise Broken(f"recalc: 一覧 of {m.name} shows {actual!r} for {i}, this year's inputs give "
                             f"{c.actual!r} (2022 printed {self.printed22.get(i, ('', ''))[0]!r})")

    def _tool_parts(self, m: Path) -> dict[str, bytes]:
        import zipfile
        from renkei_xl.workbook.session import opened
        with opened(m) as fs:
            parts = {s.name: s.part for s in fs.workbook.sheets if s.part and s.name in TOOL_SHEETS}
        with zipfile.ZipFile(m) as z:
            return {n: z.read(p) for n, p in parts.items()}

    def r_rollover(self):
        m = self.pick()
        year = self.year_of(m)
        args = ["rollover", m]
        force = self.rnd.random() < 0.4
        skip = self.rnd.random() < 0.1
        if force:
            args.append("--force")
        if skip:
            args += ["--year", str(year + 2)]
        target = self.root / m.name.replace(f"{year}年度", f"{year + (2 if skip else 1)}年度")
        existed = target.exists()
        before_eval = evaluation(m)[1]
        if m not in self.lineage and force:
            self.lineage.discard(target)
        if force:
            self.carried.pop((target, year), None)
        rc, out = self.command(f"rollover {m.name}{' --force' if force else ''}{' skip' if skip else ''}",
                               args, {target})
        if rc != 2 and target.exists():
            self.years[target] = year + (2 if skip else 1)
            if "経年に記録しません" not in out and "記録しませんでした" not in out:
                self.carried[(target, year)] = before_eval
            self.inherit(m, target)
            self.check_one("after rollover", target)
            if CAUTION_COMMANDS:
                self.caution_commands(m, target, year + (2 if skip else 1), out)
        elif rc == 2 and existed and force:
            raise Broken(f"rollover --force refused: {out[-800:]}")

    def caution_commands(self, m: Path, target: Path, new_year: int, out: str) -> None:
        """A rollover's 【注意】 (a partial collect: municipalities 取込履歴 has no return of;
        input errors) gives staff `renkei-xl history import LATER SOURCE`, to run in the
        closed year's folder (core.carry.catch_up): it must name the new master's own year,
        the 前年度実績 columns only when that year is the next, and run as copied (qa-140,
        qa-143, qa-148)."""
        import shlex

        year = self.year_of(m)
        # Only catch_up's command (「… で、YYYY年度のマスターの「経年」…に取り込んでください」) is a
        # promise once staff did the steps before it. The missing year's 「…があれば、… で取り込めます」
        # is an offer: that year may have been rolled over with nothing entered
        # (core.rollover._missing_year), and history import then rightly refuses the empty
        # master (seeds 148011, 148016).
        for said in re.findall(r"renkei-xl history import [^\n]*?(?= で、)", out):
            args = shlex.split(said)[1:]
            if any(a.startswith("（") for a in args):
                continue            # a placeholder the message says where to find
            where = re.search(re.escape(said) + r" で、(\d{4})年度のマスターの「経年」(と「前年度実績（\d{4}年度）」の列)?に", out)
            if where and (int(where.group(1)) != new_year or bool(where.group(2)) != (new_year == year + 1)):
                raise Broken(f"rollover {m.name} -> {new_year}: 【注意】 says 「{where.group(0)}」")
            rc, got = run(args, m.parent, self.env)
            self.log(f"  caution's command {' '.join(args[:2])}: rc={rc} {got.strip().splitlines()[-1][:120] if got.strip() else ''}")
            self.check_output("caution's command", rc, got)
            if rc == 2:
                raise Broken(f"rollover {m.name}: the command its 【注意】 gives is refused: {said}\n{got[-1200:]}")
            self.check_masters("caution's command", {}, {target}, refused=False)

    def r_history(self):
        m = self.pick()
        year = self.year_of(m)
        older = [p for p in self.masters() + [self.old] if self.year_of(p) < year]
        if older and self.rnd.random() < 0.6:
            src = self.rnd.choice(older)
            before_eval = evaluation(src)[1]
            rc, out = self.command(f"history import {m.name} {src.name}", ["history", "import", m, src], {m})
            if rc != 2:
                self.carried[(m, self.year_of(src))] = before_eval
                if src == self.old and self.printed22:
                    self.lineage.add(m)
                    self.csv22.pop(m, None)
                    self.check_one("after history import 2022", m)
        else:
            csv = self.root / "経年.csv"
            y = self.rnd.choice([2019, 2020, 2021, year, year + 1] + ([2022, 2022] if self.printed22 else []))
            lines = ["指標ID,年度,実績値,評価"]
            for ident in ("02-1", "03-1", "04-1", "99-9"):
                lines.append(f"{ident},{y},{self.rnd.randint(0, 9)}件,{self.rnd.choice('◎□×－―?')}")
            csv.write_text("\n".join(lines) + "\n", encoding=self.rnd.choice(["utf-8", "cp932", "utf-8-sig"]))
            if y == 2022:   # those rows of 2022 are the CSV's now (a refusal changes nothing anyway)
                self.csv22.setdefault(m, set()).update(("02-1", "03-1", "04-1", "99-9"))
            if (m, y) in self.carried:
                # The CSV's rows of year y are 経年's now (taken row by 指標ID; a refusal changes
                # nothing anyway), so what an earlier rollover or master import carried for those
                # IDs is no longer what 経年 holds: seed 11206 (--from 2022) took 03-1's ◎ from
                # the CSV and the walk still expected 2022's □ (oracle error, qa-112).
                self.carried[(m, y)] = {i: e for i, e in self.carried[(m, y)].items()
                                        if i not in ("02-1", "03-1", "04-1", "99-9")}
            self.command(f"history import {m.name} csv {y}", ["history", "import", m, csv], {m})

    def r_export(self):
        m = self.pick()
        args = ["export", m] + (["-o", self.root / "確定版" / f"確定版_{self.year_of(m)}.xlsx"]
                                if self.rnd.random() < 0.5 else [])
        (self.root / "確定版").mkdir(exist_ok=True)
        self.command(f"export {m.name}", args, set())

    def r_restore(self):
        m = self.pick()
        folder = m.with_name(m.stem + BACKUP_SUFFIX)
        backups = sorted(folder.glob("*"), key=lambda p: p.stat().st_mtime) if folder.is_dir() else []
        if not backups:
            return
        newest = backups[-1]
        shutil.copyfile(newest, m)
        self.carried = {k: v for k, v in self.carried.items() if k[0] != m}
        self.lineage.discard(m)
        self.log(f"  restore {m.name} <- {newest.name}")
        self.check_one("restore", m)

    def r_init(self):
        m = self.pick()
        if m == self.master and self.rnd.random() < 0.5:
            return
        year = self.year_of(m)
        sample = ["--sample", "fy2023"] if year == 2023 else []
        self.lineage.discard(m)
        if sample:
            self.sampled.add(m)
        self.command(f"init --force {m.name}", ["init", m, *sample, "--year", str(year), "--force"], {m})
        self.carried = {k: v for k, v in self.carried.items() if k[0] != m}

    def r_twice(self):
        """Two commands at once on one shared folder (two PCs)."""
        m = self.pick()
        options = [["recalc", m], ["validate", m], ["export", m],
                   ["rollover", m, "--force"]]
        folders = sorted(self.root.glob("回収_*"))
        if folders:
            options.append(["collect", m, folders[0]])
        older = [p for p in self.masters() + [self.old] if self.year_of(p) < self.year_of(m)]
        if older:
            options.append(["history", "import", m, older[0]])
        a, b = self.rnd.choice(options), self.rnd.choice(options)
        nxt = self.root / m.name.replace(f"{self.year_of(m)}年度", f"{self.year_of(m) + 1}年度")
        self.carried = {k: v for k, v in self.carried.items() if k[0] not in (m, nxt)}
        if m not in self.lineage:
            self.lineage.discard(nxt)
        before = self.all_files()
        pa, pb = start(a, self.root, self.env), start(b, self.root, self.env)
        outs = [(x, p.communicate(timeout=300)[0], p.returncode) for x, p in ((a, pa), (b, pb))]
        for args, out, rc in outs:
            what = "twice " + " ".join(str(s) if not isinstance(s, Path) else s.name for s in args)
            self.log(f"  {what}: rc={rc} {out.strip().splitlines()[-1][:150] if out.strip() else ''}")
            self.check_output(what, rc, out)
        touched = {m} | {self.root / m.name.replace(f"{self.year_of(m)}年度", f"{self.year_of(m) + 1}年度")}
        self.check_masters("twice", before, touched, refused=False)
        if nxt.exists():
            self.years.setdefault(nxt, self.year_of(m) + 1)
        if any(args[0] == "rollover" and rc != 2 for args, _, rc in outs):
            self.inherit(m, nxt)

    def r_opened(self):
        """The master open in Excel on another PC (its owner file ~$ beside it)."""
        m = self.pick()
        lock = m.with_name("~$" + m.name)
        lock.write_bytes(b"\x0cPC-2" + b" " * 48)
        try:
            cmd = self.rnd.choice([["recalc", m], ["validate", m], ["collect", m, self.root / "回収_2023"],
                                   ["rollover", m, "--force"], ["export", m]])
            nxt = self.root / m.name.replace(f"{self.year_of(m)}年度", f"{self.year_of(m) + 1}年度")
            self.carried = {k: v for k, v in self.carried.items() if k[0] != nxt}
            if m not in self.lineage:
                self.lineage.discard(nxt)
            # rollover only reads the open master (allowed, with a note); it writes next year's
            rc, _ = self.command("opened " + cmd[0], cmd, {nxt} if cmd[0] == "rollover" else set())
            if cmd[0] == "rollover" and rc != 2:
                self.inherit(m, nxt)
        finally:
            lock.unlink()

    def r_edit_history(self):
        """Staff copy a row of 経年 by hand (two rows for one 指標ID): every command must stop."""
        m = self.pick()
        wb = openpyxl.load_workbook(m, keep_vba=True)
        if "経年" not in wb.sheetnames or wb["経年"].max_row < 5:
            return
        ws = wb["経年"]
        row = [c.value for c in ws[5]]
        ws.append(row)
        wb.save(m)
        self.log(f"  edit 経年 of {m.name}: row 5 copied")
        cmd = self.rnd.choice([["recalc", m], ["rollover", m, "--force"]])  # export reads no 経年
        before = sha(m)
        rc, out = run(cmd, self.root, self.env)
        self.log(f"  after 経年 edit {cmd[0]}: rc={rc} {out.strip().splitlines()[-1][:150] if out.strip() else ''}")
        self.check_output("after 経年 edit " + cmd[0], rc, out)
        if sha(m) != before:
            raise Broken(f"{cmd[0]} wrote a master whose 経年 has two rows for one 指標ID")
        if rc != 2:
            raise Broken(f"{cmd[0]} on a 経年 with two rows for one 指標ID did not stop: {out[-600:]}")
        ws.delete_rows(ws.max_row)
        wb.save(m)
        self.carried = {k: v for k, v in self.carried.items() if k[0] != m}

    def inherit(self, m: Path, target: Path) -> None:
        """A master made from ``m`` carries 2022 as ``m`` did (or not at all)."""
        if m in self.lineage and target.exists():
            self.lineage.add(target)
            self.csv22[target] = set(self.csv22.get(m, set()))
        else:
            self.lineage.discard(target)

    # ---- --from 2022: what changes between years ----
    def r_rollover22(self):
        """Staff roll 2022 over again (the 2023 master exists: refused, or rebuilt with --force)."""
        self.rollover_2022(force=self.rnd.random() < 0.5)

    def r_yearedit(self):
        """What staff change by hand in a new year's master: the threshold, indicators added,
        removed or renumbered, a partner joining, one renamed, a 目標値, a 集計方法."""
        later = [p for p in self.masters() if self.year_of(p) > 2022]
        if not later:
            return
        m = self.rnd.choice(later)
        kind = self.rnd.choice(YEAR_EDITS)
        wb = openpyxl.load_workbook(m, keep_vba=True)
        ind = wb["指標"]
        head = [c.value for c in ind[1]]
        col = {h: k + 1 for k, h in enumerate(head) if h}
        rows = [r for r in range(2, ind.max_row + 1) if ind.cell(r, 1).value not in (None, "")]
        plain = [r for r in rows if ind.cell(r, col["集計方法"]).value not in ("自動", "手入力")
                 and ind.cell(r, col["基本KPI"]).value != "○"]
        ids = {str(ind.cell(r, 1).value) for r in rows}
        towns = [ws for ws in wb.worksheets if ws.title not in ("メニュー", "設定", "指標")
                 and ws.cell(1, 1).value == "指標ID"]
        note = kind
        try:
            note = self._year_edit(wb, m, kind, ind, col, rows, plain, ids, towns, note)
        except AttributeError:      # a merged cell where the edit would type (a fill merged it)
            wb.close()
            self.log(f"  year edit {m.name}: {kind} skipped (merged cell)")
            return
        wb.save(m)
        wb.close()
        self.log(f"  year edit {m.name}: {note}")
        self.check_one("year edit " + kind, m)
        then = self.rnd.random()
        if then < 0.4 + REIMPORT:       # staff recalc at once, or re-carry 2022 into the edited master
            self.pick = lambda: m
            try:
                (self.r_recalc if then < 0.25 else self.r_history)()
            finally:
                del self.pick

    def _year_edit(self, wb, m, kind, ind, col, rows, plain, ids, towns, note) -> str:
        if kind == "threshold":
            wb["設定"]["B5"] = self.rnd.choice([0.75, 0.9, 0.95])
            note += f" {wb['設定']['B5'].value}"
        elif kind in ("add", "remove", "renumber") and plain:
            r = self.rnd.choice(plain)
            old_id = str(ind.cell(r, 1).value)
            new_id = next(f"{old_id.split('-')[0]}-{k}" for k in range(5, 99)
                          if f"{old_id.split('-')[0]}-{k}" not in ids)
            if kind == "add":
                n = ind.max_row + 1
                for c in range(1, ind.max_column + 1):
                    ind.cell(n, c).value = ind.cell(r, c).value
                ind.cell(n, 1).value = new_id
                ind.cell(n, col["評価指標"]).value = f"{ind.cell(r, col['評価指標']).value}（新指標）"
                for c in ("実績値（手入力）", "実施状況（手入力）"):
                    ind.cell(n, col[c]).value = None
                for ws in towns:
                    hit = next((x for x in range(2, ws.max_row + 1) if ws.cell(x, 1).value == old_id), None)
                    if hit:
                        x = ws.max_row + 1
                        for c in range(1, 5):
                            ws.cell(x, c).value = ws.cell(hit, c).value
                        ws.cell(x, 1).value = new_id
            else:
                for ws in [ind] + towns:
                    for x in range(ws.max_row, 1, -1):
                        if ws.cell(x, 1).value == old_id:
                            if kind == "remove":
                                ws.delete_rows(x)
                            else:
                                ws.cell(x, 1).value = new_id
                self.removed.setdefault(m, set()).add(old_id)
                if kind == "renumber":
                    self.renumbered.setdefault(m, set()).add(new_id)
            note += f" {old_id}->{new_id}"
        elif kind == "join":
            st = wb["設定"]
            r = next(x for x in range(10, 40) if st.cell(x, 1).value in (None, ""))
            name = f"新{r}町"
            st.cell(r, 1).value, st.cell(r, 2).value = name, "連携市町村"
            st.cell(r, 3).value, st.cell(r, 4).value = "企画課", f"renkei{r}@new.example"
            base = self.rnd.choice(towns[1:])
            ws = wb.copy_worksheet(base)
            ws.title = name
            for x in range(2, ws.max_row + 1):
                for c in range(5, ws.max_column + 1):
                    ws.cell(x, c).value = None
            note += f" {name} (from {base.title})"
        elif kind == "rename":
            st = wb["設定"]
            r = self.rnd.choice([x for x in range(11, 40) if st.cell(x, 1).value in {w.title for w in towns}])
            old_name = st.cell(r, 1).value
            new_name = "新" + old_name
            st.cell(r, 1).value = new_name
            wb[old_name].title = new_name
            names = self.renamed.setdefault(m, {})
            names[new_name] = names.pop(old_name, old_name)
            note += f" {old_name}->{new_name}"
        elif kind == "target" and plain:
            cands = [r for r in plain if re.search(r"[0-9０-９]", str(ind.cell(r, col["目標値"]).value or ""))]
            if cands:
                r = self.rnd.choice(cands)
                old_t = str(ind.cell(r, col["目標値"]).value)
                ind.cell(r, col["目標値"]).value = re.sub(r"[0-9０-９][0-9０-９,，.]*",
                                                       str(self.rnd.randint(1, 60)), old_t, count=1)
                note += f" {ind.cell(r, 1).value}: {old_t} -> {ind.cell(r, col['目標値']).value}"
        elif kind == "method" and plain:
            r = self.rnd.choice(plain)
            was = ind.cell(r, col["集計方法"]).value
            ind.cell(r, col["集計方法"]).value = "参加市町村数" if was == "合計" else "合計"
            note += f" {ind.cell(r, 1).value}: {was} -> {ind.cell(r, col['集計方法']).value}"
        return note

    YEAR_RULES = ("yearedit", "yearedit", "yearedit", "rollover22")

    RULES = ("split", "fill", "fill", "fill", "collect", "collect", "validate", "recalc", "rollover",
             "history", "export", "restore", "init", "twice", "opened", "edit_history")

    def step(self) -> None:
        rule = self.rnd.choice(self.RULES)
        self.steps += 1
        self.log(f"step {self.steps}: {rule}")
        getattr(self, "r_" + rule)()


# The hand edits of a later year's master (r_yearedit), a kind repeated to weight it, and how
# much more often than 0.4 an edit is followed at once by a recalc or a history import.
YEAR_EDITS = ["threshold", "add", "remove", "renumber", "join", "rename", "target", "method"]
REIMPORT = 0.0
# --caution-commands: run the history import a rollover's 【注意】 gives, as staff copy it.
CAUTION_COMMANDS = False


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0-4")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--keep", type=Path)
    ap.add_argument("-v", action="store_true")
    ap.add_argument("--from", dest="start", type=int, choices=(2022, 2023), default=2023,
                    help="2022: start from a FY2022 master holding a year of data, rolled over to 2023")
    ap.add_argument("--year-edits", help="--from 2022: the year edits drawn from, comma-separated "
                    "(repeat one to weight it), e.g. rename,rename,join,remove")
    ap.add_argument("--reimport", type=float, default=0.0,
                    help="--from 2022: added to the 0.4 chance that an edit is followed at once by "
                         "recalc (first 0.25) or a history import of 2022")
    ap.add_argument("--beside", type=int, default=0,
                    help="how many times the rule 'beside' (the master kept among the returns, "
                         "collect マスター.xlsm .) is added to the rules drawn from; 0 (default) keeps old seeds")
    ap.add_argument("--caution-commands", action="store_true",
                    help="run the `history import` a rollover's 【注意】 gives (partial collect, input "
                         "errors) in the closed year's folder, as staff copy it; off by default (old seeds unchanged)")
    ap.add_argument("--places", type=int, default=0,
                    help="how many times the rule 'place' (a write sent where the system refuses it) "
                         "is added to the rules drawn from; 0 (default) keeps old seeds")
    a = ap.parse_args(argv)
    global YEAR_EDITS, REIMPORT, CAUTION_COMMANDS
    CAUTION_COMMANDS = a.caution_commands
    if a.year_edits:
        YEAR_EDITS = [k.strip() for k in a.year_edits.split(",") if k.strip()]
    REIMPORT = a.reimport
    if a.keep is not None:      # the walk runs commands from other folders: a relative --keep is lost
        a.keep = a.keep.resolve()
        a.keep.mkdir(parents=True, exist_ok=True)
    lo, _, hi = a.seeds.partition("-")
    seeds = range(int(lo), int(hi or lo) + 1)
    failures, steps, refusals = [], 0, {}
    t0 = time.time()
    for seed in seeds:
        root = Path(tempfile.mkdtemp(prefix=f"seq{seed}-", dir=a.keep))
        lines: list[str] = []
        log = (lambda s: (lines.append(s), print(s) if a.v else None))
        try:
            w = World(root, seed, log, a.start)
            w.RULES = w.RULES + ("beside",) * a.beside + ("place",) * a.places
            for _ in range(a.steps):
                w.step()
            steps += w.steps
            for k, v in w.refusals.items():
                refusals[k] = refusals.get(k, 0) + v
        except Exception as e:  # noqa: BLE001 - a fuzzer's own fault is reported, the walk goes on
            failures.append(seed)
            print(f"=== seed {seed} FAILED after {len(lines)} log lines: {e}")
            print("\n".join(lines[-25:]))
        finally:
            if not a.keep:
                shutil.rmtree(root, ignore_errors=True)
                shutil.rmtree(f"{root}-共有", ignore_errors=True)
    print(f"{len(seeds)} sequences, {steps} steps completed, {len(failures)} failed {failures}, "
          f"{time.time() - t0:.0f} s")
    for k, v in sorted(refusals.items(), key=lambda kv: -kv[1]):
        print(f"  refusal x{v}: {k}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

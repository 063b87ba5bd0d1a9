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
                ws.cell(r, cols[rnd.choice(["実績値", "実施状況"])]).value = v
            elif kind == "date":
                ws.cell(r, cols["実施状況"]).value = dt.datetime(2024, 10, 10)
            elif kind == "merge":
                ws.merge_cells(start_row=r, start_column=cols["実績値"], end_row=r + 1,
                               end_column=cols["実績値"])
            elif kind == "gray":
                ws.cell(r, cols["目標値"]).value = "99件"
            elif kind == "denominator":
                ws.cell(r, cols["分母"]).value = 7
            elif kind == "sheet":
                wb.copy_worksheet(ws).cell(r, cols["実績値"]).value = 3
            elif kind == "idcell":
                ws["C15"] = "0000"
            else:
                ws.cell(1, 14).value = "メモ"
            notes.append(f"{kind}@{r}")
        else:
            if isinstance(given, (int, float)) or (isinstance(given, str) and re.search(r"\d", given or "")):
                ws.cell(r, cols["実績値"]).value = rnd.choice([rnd.randint(0, 40), f"{rnd.randint(0, 40)}", None])
            elif given:
                ws.cell(r, cols["実績値"]).value = rnd.choice(PLAUSIBLE_STATUS)
            if rnd.random() < 0.5:
                ws.cell(r, cols["実施状況"]).value = f"連携会議を{rnd.randint(1, 9)}回開催した"
    wb.save(dst)
    return ",".join(notes) or "plausible"


# --- the walk ------------------------------------------------------------------------------

class World:
    def __init__(self, root: Path, seed: int, log):
        self.root, self.rnd, self.log = root, random.Random(seed), log
        self.env = dict(os.environ, TMPDIR=str(root / "tmp"), PYTHONDONTWRITEBYTECODE="1")
        (root / "tmp").mkdir(parents=True, exist_ok=True)
        self.steps = 0
        self.refusals: dict[str, int] = {}
        self.years: dict[Path, int] = {}          # 設定's year, per master path
        self.carried: dict[tuple[Path, int], dict[str, str]] = {}   # 経年 expected after a carry
        self.demo = root / "demo"
        rc, out = run(["demo", "--outdir", self.demo], root, self.env)
        if rc != 0:
            raise Broken(f"demo failed: {out}")
        self.master = root / "さっぽろ圏_2023年度_マスター.xlsm"
        shutil.copy2(self.demo / self.master.name, self.master)
        self.old = root / "old" / "さっぽろ圏_2022年度_マスター.xlsm"
        self.old.parent.mkdir()
        rc, out = run(["init", self.old, "--year", "2022"], root, self.env)
        if rc != 0:
            raise Broken(f"init 2022 failed: {out}")
        self.years[self.master] = 2023
        self.years[self.old] = 2022

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
        rc, _ = self.command(f"collect {m.name} {back.name}{' --dry-run' if dry else ''}", args,
                             set() if dry else {m})
        if dry or rc == 2:
            return
        first = calamine_sheets(m)
        rc2, out2 = self.command(f"collect again {m.name}", args, {m})
        second = calamine_sheets(m)
        for name in first:
            if name in ("メニュー", "取込履歴", "検証結果"):
                continue
            if first[name] != second.get(name):
                raise Broken(f"collect twice: sheet {name} of {m.name} differs after the second collect")

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
        if force:
            self.carried.pop((target, year), None)
        rc, out = self.command(f"rollover {m.name}{' --force' if force else ''}{' skip' if skip else ''}",
                               args, {target})
        if rc != 2 and target.exists():
            self.years[target] = year + (2 if skip else 1)
            if "経年に記録しません" not in out and "記録しませんでした" not in out:
                self.carried[(target, year)] = before_eval
            self.check_one("after rollover", target)
        elif rc == 2 and existed and force:
            raise Broken(f"rollover --force refused: {out[-800:]}")

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
        else:
            csv = self.root / "経年.csv"
            y = self.rnd.choice([2019, 2020, 2021, year, year + 1])
            lines = ["指標ID,年度,実績値,評価"]
            for ident in ("02-1", "03-1", "04-1", "99-9"):
                lines.append(f"{ident},{y},{self.rnd.randint(0, 9)}件,{self.rnd.choice('◎□×－―?')}")
            csv.write_text("\n".join(lines) + "\n", encoding=self.rnd.choice(["utf-8", "cp932", "utf-8-sig"]))
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
        self.log(f"  restore {m.name} <- {newest.name}")
        self.check_one("restore", m)

    def r_init(self):
        m = self.pick()
        if m == self.master and self.rnd.random() < 0.5:
            return
        year = self.year_of(m)
        sample = ["--sample", "fy2023"] if year == 2023 else []
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
            # rollover only reads the open master (allowed, with a note); it writes next year's
            self.command("opened " + cmd[0], cmd, {nxt} if cmd[0] == "rollover" else set())
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

    RULES = ("split", "fill", "fill", "fill", "collect", "collect", "validate", "recalc", "rollover",
             "history", "export", "restore", "init", "twice", "opened", "edit_history")

    def step(self) -> None:
        rule = self.rnd.choice(self.RULES)
        self.steps += 1
        self.log(f"step {self.steps}: {rule}")
        getattr(self, "r_" + rule)()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0-4")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--keep", type=Path)
    ap.add_argument("-v", action="store_true")
    a = ap.parse_args(argv)
    lo, _, hi = a.seeds.partition("-")
    seeds = range(int(lo), int(hi or lo) + 1)
    failures, steps, refusals = [], 0, {}
    t0 = time.time()
    for seed in seeds:
        root = Path(tempfile.mkdtemp(prefix=f"seq{seed}-", dir=a.keep))
        lines: list[str] = []
        log = (lambda s: (lines.append(s), print(s) if a.v else None))
        try:
            w = World(root, seed, log)
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
    print(f"{len(seeds)} sequences, {steps} steps completed, {len(failures)} failed {failures}, "
          f"{time.time() - t0:.0f} s")
    for k, v in sorted(refusals.items(), key=lambda kv: -kv[1]):
        print(f"  refusal x{v}: {k}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

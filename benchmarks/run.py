"""Whole-process `renkei-xl recalc` against the openpyxl load+save floor, on three masters.

Each button click and each command starts a fresh Python process, so the figure that
matters is the whole process: start-up, imports, reading, computing and writing. The
floor is `openpyxl.load_workbook(f).save(g)` of the same file in the same run, so the
ratio is comparable across machines. Peak memory is each child's own ru_maxrss.

    python benchmarks/run.py [--repeat N] [--only fy2023,2000x40,20000x12]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from renkei_xl.model import Entry, Indicator, Municipality, Settings  # noqa: E402
from renkei_xl.reference import load_reference  # noqa: E402

ROLES = ("圏域全体の経済成長のけん引", "高次の都市機能の集積・強化", "圏域全体の生活関連機能サービスの向上")
METHODS = ("合計", "合計", "合計", "中心市のみ", "状態", "手入力")


def synthetic(n_indicators: int, n_munis: int):
    """A master shaped like the real one: long Japanese texts, mixed methods, all values."""
    munis = tuple(Municipality(f"市町村{i:02d}" if i else "札幌市", "中心市" if i == 0 else "連携市町村")
                  for i in range(n_munis))
    settings = Settings("ベンチマーク圏", 2023, None, 0.85, munis)
    summary = "圏域における先端技術の普及促進等を行うため、ＩＴ利活用ビジネスに関する補助や、セミナー、マッチングを行う。"
    indicators, entries = [], []
    for k in range(n_indicators):
        method = METHODS[k % len(METHODS)]
        ind_id = f"B{k:05d}"
        target = "維持" if method == "状態" else f"{(k % 50) + 10}件（毎年度）"
        indicators.append(Indicator(
            ind_id, ROLES[k % 3], k // 3 + 1, f"連携事業その{k // 3 + 1}", summary,
            f"支援件数その{k}", "－", target, method, "",
            f"{k % 60}件" if method == "手入力" else "", "・事業を実施した（３月末時点）", False))
        if method == "合計":
            entries += [Entry(m.name, ind_id, f"{(k + j) % 5}件") for j, m in enumerate(munis)]
        elif method == "中心市のみ":
            entries.append(Entry(munis[0].name, ind_id, f"{k % 70}件"))
        elif method == "状態":
            entries += [Entry(m.name, ind_id, "維持") for m in munis[:3]]
    return settings, indicators, entries


def build(kind: str, folder: Path) -> Path:
    from renkei_xl.workbook.build import build_master

    path = folder / f"{kind}.xlsx"
    if kind == "fy2023":
        ref = load_reference("fy2023")
        build_master(path, ref.settings, ref.indicators, ref.entries)
    else:
        n, m = (int(x) for x in kind.split("x"))
        build_master(path, *synthetic(n, m))
    return path


def run(cmd: list[str]) -> tuple[float, int]:
    """(seconds, peak RSS in MiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss // 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="fy2023,2000x40,20000x12")
    args = parser.parse_args()
    py = sys.executable
    work = Path(tempfile.mkdtemp(prefix="renkei_bench_"))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, repeat {args.repeat} (median)")
    print(f"{'master':<10} {'size':>8} {'floor s':>8} {'recalc s':>9} {'ratio':>6} {'floor MiB':>10} {'recalc MiB':>11}")
    try:
        for kind in args.only.split(","):
            master = build(kind, work)
            floors, recalcs, floor_mem, recalc_mem = [], [], 0, 0
            for _ in range(args.repeat):
                copy = work / f"run_{kind}.xlsx"
                shutil.copy(master, copy)
                t, mem = run([py, "-c", "import sys, openpyxl; "
                              "openpyxl.load_workbook(sys.argv[1]).save(sys.argv[2])",
                              str(copy), str(work / "floor.xlsx")])
                floors.append(t)
                floor_mem = max(floor_mem, mem)
                t, mem = run([py, "-m", "renkei_xl.cli", "recalc", str(copy)])
                recalcs.append(t)
                recalc_mem = max(recalc_mem, mem)
            f, r = statistics.median(floors), statistics.median(recalcs)
            size = master.stat().st_size / 1e6
            print(f"{kind:<10} {size:>6.1f}MB {f:>8.2f} {r:>9.2f} {r / f:>6.2f} {floor_mem:>10} {recalc_mem:>11}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

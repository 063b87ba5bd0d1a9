"""Whole-process time of one button's Python side, against the `import xlwings` floor.

A click on 評価を再計算 starts a fresh Python process (xlwings RunPython), so the figure
that matters is that whole process: interpreter start, imports, reading the workbook,
recalculating, writing back. Here Excel is replaced by xlwings' remote engine: the child
process imports renkei_xl.excel.buttons, builds ``xw.Book(json=payload)`` from the FY2023
sample master's payload (saved to a JSON file beforehand), runs ``recalc(book)`` and
serialises the actions (``book.json()``), which is what the remote client would replay.
The floor, ``python -c "import xlwings"``, is measured in the same run, so the ratio is
comparable across machines. It prints figures and asserts nothing.

    python benchmarks/button_startup.py [--repeat N]

XLWINGS_LICENSE_KEY=noncommercial is set for the child processes only (the remote engine
needs it; PolyForm Noncommercial, which covers government institutions). The children get
a bytecode cache in the work folder even where PYTHONDONTWRITEBYTECODE is set, as an
installed tool has (pip compiles it; benchmarks/run.py does the same): without it every
click compiled renkei_xl from source again, about 50 ms that no staff PC pays.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))  # click_payload: the test bench's VBA-client stand-in

FLOOR = "import xlwings"
BUTTON = """
import json, sys
import renkei_xl.excel.buttons as m
import xlwings as xw
book = xw.Book(json=json.loads(open(sys.argv[1], encoding="utf-8").read()))
m.recalc(book)
actions = json.dumps(book.json(), ensure_ascii=False, default=str)
last = book.json()["actions"][-1]
assert last["func"] == "alert" and last["args"][3] == "info", last["args"][0]
"""


def _time(args: list[str], env: dict, cwd: Path) -> float:
    start = time.perf_counter()
    run = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"child failed:\n{run.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs of each command (median reported)")
    args = parser.parse_args()

    from remote_payload import click_payload
    from renkei_xl.cli.workbook import init_master

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(XLWINGS_LICENSE_KEY="noncommercial", PYTHONPATH=str(REPO))
    with tempfile.TemporaryDirectory(prefix="renkei_button_bench_") as tmp:
        folder = Path(tmp)
        env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
        master = init_master(folder / "さっぽろ圏_2023年度_マスター.xlsm", sample="fy2023")
        payload = folder / "payload.json"
        payload.write_text(json.dumps(click_payload(master), ensure_ascii=False), encoding="utf-8")
        print(f"payload: {payload.stat().st_size / 1024:.0f} KiB from {master.name}")

        floor_args = [sys.executable, "-c", FLOOR]
        button_args = [sys.executable, "-c", BUTTON, str(payload)]
        _time(floor_args, env, folder)   # warm the file cache once, not measured
        _time(button_args, env, folder)
        floors, buttons = [], []
        for _ in range(args.repeat):      # interleaved, so drift hits both alike
            floors.append(_time(floor_args, env, folder))
            buttons.append(_time(button_args, env, folder))

    floor, button = statistics.median(floors), statistics.median(buttons)
    print(f"runs each: {args.repeat}")
    print(f"floor  python -c 'import xlwings'          median {floor:6.3f} s  "
          f"(min {min(floors):.3f}, max {max(floors):.3f})")
    print(f"button import buttons + Book(json) + recalc median {button:6.3f} s  "
          f"(min {min(buttons):.3f}, max {max(buttons):.3f})")
    print(f"ratio  button / floor: {button / floor:.2f}  (our own share: {button - floor:+.3f} s)")


if __name__ == "__main__":
    main()

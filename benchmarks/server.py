"""One 評価を再計算 click through the warm renkei-xl server against a local RunPython click.

A local click (xlwings RunPython) starts a fresh Python process: interpreter start,
imports, reading the workbook, recalculating, writing back. It is timed as in
benchmarks/button_startup.py: a child process imports renkei_xl.excel.buttons, builds
``xw.Book(json=payload)`` from the FY2023 sample master's payload, runs ``recalc(book)``
and serialises the actions. The server click is one HTTP POST of the same payload (as
xlwings' VBA client sends it, with RenkeiServer.bas' headers) to a running
``renkei-xl serve`` on 127.0.0.1, timed from before the JSON is encoded to after the answer
is decoded: what Excel waits for, less its own packing and replay, which both set-ups share.
Twelve clients then click at once (threads released by a barrier), and the slowest answer
counts. Targets (the server issue): one click ≤ 0.2 × a local click, the slowest of twelve
≤ 0.5 ×. Exits 1 when one is missed.

    python benchmarks/server.py [--repeat N]

XLWINGS_LICENSE_KEY=noncommercial is set for the child processes only (the remote engine
needs it; PolyForm Noncommercial, which covers government institutions).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))  # payload_from_file: the test bench's VBA-client stand-in
sys.path.insert(0, str(REPO / "benchmarks"))

from button_startup import BUTTON, _time  # noqa: E402

CLIENTS = 12
TARGET_ONE, TARGET_TWELVE = 0.2, 0.5
KEY = "benchmark-key-0123456789abcdef"
HEADERS = {"Authorization": KEY, "X-Renkei-Client": "1", "X-Renkei-User": "30D930F330C1",
           "Content-Type": "application/json"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its live children (uvicorn's workers), Linux only."""
    total, todo = 0.0, [pid]
    tick = os.sysconf("SC_CLK_TCK")
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(x) for x in (task / "children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs of each measurement (median reported)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="server worker processes (default: the machine's cores, as docs/staff-setup.md advises)")
    args = parser.parse_args()

    import httpx

    from remote_payload import VBA, payload_from_file
    from renkei_xl.cli.workbook import init_master

    env = {**os.environ, "XLWINGS_LICENSE_KEY": "noncommercial", "PYTHONPATH": str(REPO),
           "RENKEI_XL_SERVER_KEY": KEY}
    with tempfile.TemporaryDirectory(prefix="renkei_server_bench_") as tmp:
        folder = Path(tmp)
        (folder / "work" / "2023年度").mkdir(parents=True)
        master = init_master(folder / "work" / "2023年度" / "さっぽろ圏_2023年度_マスター.xlsm", sample="fy2023",
                             server="http://127.0.0.1:1", server_folder="2023年度")
        payload = payload_from_file(master, client=VBA)
        payload_file = folder / "payload.json"
        payload_file.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        print(f"payload: {payload_file.stat().st_size / 1024:.0f} KiB from {master.name} (VBA client)")

        button_args = [sys.executable, "-c", BUTTON, str(payload_file)]
        _time(button_args, env, folder)       # warm the file cache once, not measured
        local = statistics.median(_time(button_args, env, folder) for _ in range(args.repeat))

        port = _free_port()
        url = f"http://127.0.0.1:{port}/buttons/recalc"
        server = subprocess.Popen([sys.executable, "-m", "renkei_xl.cli", "serve", "--port", str(port),
                                   "--workdir", str(folder / "work"), "--workers", str(args.workers)], env=env, cwd=folder,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("the server did not start")
                    time.sleep(0.2)

            def click(client: httpx.Client) -> float:
                start = time.perf_counter()
                body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                response = client.post(url, content=body, headers=HEADERS, timeout=120)
                answer = response.json()
                elapsed = time.perf_counter() - start
                last = answer["actions"][-1]
                assert response.status_code == 200 and last["func"] == "alert" and last["args"][3] == "info"
                return elapsed

            with httpx.Client() as client:
                for _ in range(3):            # warm: first imports and caches, not measured
                    click(client)
                one = statistics.median(click(client) for _ in range(args.repeat))

            def twelve() -> float:
                barrier = threading.Barrier(CLIENTS)
                clients = [httpx.Client() for _ in range(CLIENTS)]

                def one_client(i: int) -> float:
                    barrier.wait()
                    return click(clients[i])

                try:
                    with ThreadPoolExecutor(CLIENTS) as pool:
                        return max(pool.map(one_client, range(CLIENTS)))
                finally:
                    for client in clients:
                        client.close()

            twelve()                          # warm the worker threads, not measured
            cpu_before = _cpu_seconds(server.pid)
            slowest = statistics.median(twelve() for _ in range(args.repeat))
            cpu_per_click = (_cpu_seconds(server.pid) - cpu_before) / (args.repeat * CLIENTS)
        finally:
            server.terminate()
            server.wait(timeout=20)

    ok_one, ok_twelve = one <= TARGET_ONE * local, slowest <= TARGET_TWELVE * local
    print(f"runs each: {args.repeat} (medians); server workers: {args.workers}; cores: {os.cpu_count()}")
    print(f"local click (fresh process)           {local:6.3f} s")
    print(f"server click (warm, one client)       {one:6.3f} s  ratio {one / local:.2f}  target ≤ {TARGET_ONE}  "
          f"{'PASS' if ok_one else 'MISS'}")
    print(f"server, {CLIENTS} clients at once, slowest {slowest:6.3f} s  ratio {slowest / local:.2f}  "
          f"target ≤ {TARGET_TWELVE}  {'PASS' if ok_twelve else 'MISS'}")
    cores = min(args.workers, os.cpu_count() or 1)
    print(f"server CPU per click {cpu_per_click * 1000:.0f} ms: {CLIENTS} clicks need "
          f"{CLIENTS * cpu_per_click:.3f} CPU s, at best {CLIENTS * cpu_per_click / cores:.3f} s on {cores} core(s) "
          f"= {CLIENTS * cpu_per_click / cores / local:.2f} x a local click")
    return 0 if ok_one and ok_twelve else 1


if __name__ == "__main__":
    sys.exit(main())

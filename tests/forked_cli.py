"""The command line in a child process forked from one that has already imported the tool.

A fresh `python -c ... renkei_xl.cli` spends most of a short run starting the interpreter
and importing the package and its readers (about 0.07 CPU-s of a 0.1 s validate of the
sample master; test_hostile_files makes ~200 such runs). Here one server process per test
process imports them once and forks a child per run: the child is still a process of its
own, with its own exit code, standard output and error, peak memory (VmHWM, which starts at
the server's resident pages, as a fresh process starts at its own imports), time bound and
process group to kill, and it ends as a program does (SystemExit, atexit, the interpreter's
finalization). Only what the server imported is not imported again, and the children share
the server's hash seed. What an interpreter reads once as it starts is the server's: the
PYTHON* variables (standard output's encoding, PYTHONPATH) and the modules' import-time
state; the time zone is read again from each run's TZ (time.tzset), as a fresh process
reads it. A defect only a fresh process shows (an import missing from a command's path)
is for the fresh runs: run_cli(fresh=True), test_startup, the `-m renkei_xl.cli` tests.

Used by test_hostile_files.run_cli, test_hostile_writes' killed runs of the sample
master, and cli_run (test_stale_results' commands, test_master_macros' upgrade-macros runs). The runs that hold the first start of a process (a command's imports, a fresh
interpreter's memory, the large master killed) stay fresh `subprocess` runs
(test_hostile_files.run_cli(fresh=True)).
"""

from __future__ import annotations

import atexit
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[1]

# The server: imports what the commands import, then per request (one JSON line: args, cwd,
# env, the two output files, the time bound) forks a child that runs the command as
# test_hostile_files.WRAPPER does, waits for it on a pidfd, kills its process group past the
# bound, and answers its exit status, usage and whether it timed out.
SERVER = r"""
import json, os, select, signal, socket, sys, time
import renkei_xl.cli, renkei_xl.cli.workbook, renkei_xl.cli.cycle, renkei_xl.cli.years
import renkei_xl.workbook.session, renkei_xl.workbook.apply, renkei_xl.cycle.collect
import renkei_xl.cycle.distribute, renkei_xl.workbook.state, renkei_xl.package.zipped
sock = socket.socket(fileno=int(sys.argv[1]))
reader = sock.makefile("r", encoding="utf-8")


def child(req):
    os.setsid()
    os.chdir(req["cwd"])
    os.environ.clear()
    os.environ.update(req["env"])
    time.tzset()                                  # local time by the run's TZ, as a fresh process reads it
    import tempfile
    tempfile.tempdir = None                       # read from TMPDIR again, as a fresh process does
    null = os.open(os.devnull, os.O_RDONLY)
    out = os.open(req["out"], os.O_WRONLY)
    err = os.open(req["err"], os.O_WRONLY)
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(err, 2)
    for fd in (null, out, err):
        os.close(fd)
    reader.close()                                # the server's end of the socket is not the child's
    sock.close()
    sys.argv = ["-c", *req["args"]]
    exec(compile(req["wrapper"], "<string>", "exec"), {"__name__": "__main__"})


def serve(req):
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            child(req)
        except SystemExit:
            raise
        except BaseException:
            import traceback
            traceback.print_exc()
            sys.exit(1)
        sys.exit(0)
    pidfd = os.pidfd_open(pid)
    try:
        ended, _, _ = select.select([pidfd], [], [], req["timeout"])
    finally:
        os.close(pidfd)
    if not ended:
        os.killpg(pid, signal.SIGKILL)
    _pid, status, usage = os.wait4(pid, 0)
    return {"code": os.waitstatus_to_exitcode(status), "maxrss": usage.ru_maxrss,
            "timed_out": not ended, "seconds": time.monotonic() - start}


for line in reader:
    answer = serve(json.loads(line))
    sock.sendall((json.dumps(answer) + "\n").encode("utf-8"))
"""

# The command line as `python -m renkei_xl.cli` runs it, for runs whose peak memory is not asked.
PLAIN = """
import runpy, sys
sys.argv = ["renkei-xl"] + sys.argv[1:]
runpy.run_module("renkei_xl.cli", run_name="__main__", alter_sys=True)
"""

_lock = threading.Lock()
_server: Optional[tuple[subprocess.Popen, socket.socket, object]] = None


def _start() -> tuple[subprocess.Popen, socket.socket, object]:
    """The server, its interpreter set as test_hostile_files.run_cli sets a fresh one's
    (UTF-8 output, this checkout first on the path): each child's own environment is the
    one its run gives."""
    env = dict(os.environ, PYTHONIOENCODING="utf-8",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    ours, theirs = socket.socketpair()
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(theirs.fileno())], pass_fds=[theirs.fileno()],
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    theirs.close()
    atexit.register(_stop)
    return proc, ours, ours.makefile("r", encoding="utf-8")


def _stop() -> None:
    global _server
    if _server is not None:
        proc, sock, reader = _server
        sock.shutdown(socket.SHUT_WR)            # the server's loop ends at the end of its input
        reader.close()
        sock.close()
        proc.wait(timeout=30)
        _server = None


def run_forked(args: list[str], cwd: str, env: dict, out: str, err: str, wrapper: str, timeout: float) -> dict:
    """One run in a forked child, killed with its process group past ``timeout`` seconds:
    its exit code, peak memory as wait4 gives it, whether it timed out and how long it ran.
    ``env`` is the whole environment of the child."""
    global _server
    with _lock:
        if _server is None or _server[0].poll() is not None:
            _server = _start()
        _proc, sock, reader = _server
        sock.sendall((json.dumps({"args": args, "cwd": cwd, "env": env, "out": out, "err": err,
                                  "wrapper": wrapper, "timeout": timeout}) + "\n").encode("utf-8"))
        line = reader.readline()
    if not line:
        raise RuntimeError("the forking server of the command line ended")
    return json.loads(line)


def cli_run(args: list[str], cwd: Optional[str] = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m renkei_xl.cli ARGS` as subprocess.run(..., capture_output=True, text=True)
    answers it, run in a forked child: for tests that check what a command does to a file and
    says, not how a process starts (each fresh start re-imports the tool, ~0.2 CPU-s). The
    child gets this process's environment; its output is read as UTF-8, the server's
    encoding. A run past ``timeout`` raises subprocess.TimeoutExpired, as subprocess.run does."""
    argv = ["renkei-xl", *args]
    with tempfile.NamedTemporaryFile() as out, tempfile.NamedTemporaryFile() as err:
        done = run_forked(list(args), cwd or os.getcwd(), dict(os.environ), out.name, err.name, PLAIN, timeout)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    if done["timed_out"]:
        raise subprocess.TimeoutExpired(argv, timeout, stdout, stderr)
    return subprocess.CompletedProcess(argv, done["code"], stdout, stderr)

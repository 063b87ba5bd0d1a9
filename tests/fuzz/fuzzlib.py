"""What the fuzzers share: a case's identity and randomness, bounded children, the masters
they damage, and the one oracle that says what a defect is.

Every case draws from its own ``random.Random`` seeded by (fuzzer, seed, index), so a case
is replayed alone, without the cases before it. Every command runs in a child under a
timeout and an address-space limit: a hang or a blow-up is a finding, not a dead machine.
"""

from __future__ import annotations

import io
import os
import pickle
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
import traceback
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = float(os.environ.get("FUZZ_TIMEOUT", "60"))   # seconds a command may take
MEMORY_MB = int(os.environ.get("FUZZ_MEMORY_MB", "2048"))
JAPANESE = re.compile("[\u3040-\u30ff\u4e00-\u9fff]")
# Where a message points staff: a 「quoted」 sheet, cell, part or file name, a cell
# reference, or a line of a CSV. (Sampled refusals of every file fuzzer all hold one.)
# A cell reference is told by the letters and digits around it, not by \b: Japanese letters
# are word characters, so 「千歳市!B8が…」 (core.values.unread_places) had no \b after B8
# and a refusal naming its cell was called one naming nowhere (qa-118, values:13217869:14).
WHERE = re.compile(r"「[^」]+」|(?<![A-Za-z0-9])[A-Z]{1,3}[0-9]{1,7}(?![0-9])|[0-9]+\s*行目")


@dataclass
class Case:
    """One case of one fuzzer; ``rng`` is all the randomness it may use."""
    fuzzer: str
    seed: int
    index: int
    folder: Path
    inputs: list = field(default_factory=list)   # damaged inputs kept with a finding

    @property
    def id(self) -> str:
        return f"{self.fuzzer}:{self.seed}:{self.index}"

    @property
    def rng(self) -> random.Random:
        if not hasattr(self, "_rng"):
            self._rng = random.Random(self.id)   # str seeds hash the same on every run
        return self._rng

    def rng_for(self, topic: str) -> random.Random:
        """Randomness of its own for a generator added later (``topic``): drawing from it
        leaves ``rng``'s draws, and so every older case's replay, as they were."""
        return random.Random(f"{self.id}/{topic}")


@dataclass
class Outcome:
    """What one command (or one request) answered. ``note`` is a fuzzer's own finding (a
    mail header injected, say); ``changed`` a refused command that still wrote its input."""
    label: str
    rc: object = 0
    output: str = ""
    hung: bool = False
    status: int | None = None
    changed: bool = False
    note: str = ""


def problem(o: Outcome) -> str | None:
    """The oracle, in its one place: a traceback, exit code 3 or 「予期しないエラー」, any
    other exit than 0/1/2, a server 500, a hang, a refusal without a Japanese sentence
    naming where, or a master changed by a refused command."""
    if o.note:
        return o.note
    if o.hung:
        return f"hang: no answer within {TIMEOUT:.0f} s"
    if "Traceback (most recent call last)" in o.output:
        return "traceback"
    if "予期しない" in o.output:
        return "「予期しないエラー」"
    if o.status == 500:
        return "server answered 500"
    if o.status is not None and o.status >= 400 and not JAPANESE.search(o.output):
        return f"server refusal {o.status} without a Japanese sentence"
    if o.status is None and o.rc is not None and o.rc not in (0, 1, 2):
        return f"exit code {o.rc}"
    if o.changed:
        return "refused, but the master was changed"
    if o.rc == 2 and not (JAPANESE.search(o.output) and WHERE.search(o.output)):
        return "refusal without a Japanese sentence naming where"
    return None


def limit_memory() -> None:
    """In the child before it runs: an allocation past the limit fails there (MemoryError,
    a finding) instead of swapping the shared machine to a halt."""
    limit = MEMORY_MB * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def cli_command() -> list[str]:
    """The installed command beside this interpreter, as staff start it."""
    script = Path(sys.executable).parent / "renkei-xl"
    return [str(script)] if script.exists() else [sys.executable, "-m", "renkei_xl.cli"]


def run_cli(args: list, cwd: Path, guard: Path | None = None) -> Outcome:
    """``renkei-xl args`` in a bounded child. ``guard``: a file a refusal must leave as it
    was (compared byte for byte). Its temp folder is the case's, so an unexpected error's
    log (renkei_xl.errorlog) is kept with the finding, not in the machine's shared one."""
    before = guard.read_bytes() if guard is not None and guard.exists() else None
    label = " ".join(str(a) for a in args)
    try:
        p = subprocess.run([*cli_command(), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                           errors="replace", timeout=TIMEOUT, preexec_fn=limit_memory,
                           env={**os.environ, "XLWINGS_LICENSE_KEY": "noncommercial", "TMPDIR": str(cwd)})
    except subprocess.TimeoutExpired:
        return Outcome(label, hung=True)
    changed = before is not None and p.returncode == 2 and guard.read_bytes() != before
    return Outcome(label, p.returncode, p.stdout + p.stderr, changed=changed)


def in_child(fn, *args, timeout: float = TIMEOUT):
    """``fn(*args)`` in a forked child under the timeout and memory limit; its result, or
    an ``Outcome`` saying it hung, raised (with the traceback) or died. Forked, so the
    modules the parent imported once cost nothing per case."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:   # the child: never returns into the caller's code
        os.close(read)
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 1)
        os.dup2(quiet, 2)
        try:
            limit_memory()
            result = ("ok", fn(*args))
        except BaseException:
            result = ("raised", traceback.format_exc())
        with os.fdopen(write, "wb") as out:
            out.write(pickle.dumps(result))
        os._exit(0)
    os.close(write)
    return _child_result(pid, read, timeout)


def _child_result(pid: int, read: int, timeout: float):
    """Read the child's pickled answer, killing it at the deadline."""
    deadline = time.monotonic() + timeout
    data = io.BytesIO()
    os.set_blocking(read, False)
    with os.fdopen(read, "rb", buffering=0) as pipe:
        while time.monotonic() < deadline:
            chunk = pipe.read(1 << 16)
            if chunk is None:        # nothing yet
                time.sleep(0.01)
                continue
            if chunk == b"":         # the child closed its end: it is exiting
                os.waitpid(pid, 0)
                break
            data.write(chunk)
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return Outcome("in process", hung=True)
    try:
        kind, value = pickle.loads(data.getvalue())
    except Exception:
        return Outcome("in process", rc="died", output="the child died without an answer")
    return value if kind == "ok" else Outcome("in process", rc="raised", output=value)


def read_parts(path: Path) -> dict[str, bytes]:
    """A package's parts in their order (name → bytes)."""
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def write_parts(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def build_masters(folder: Path, xlsm: Path | None = None, xlsx: Path | None = None) -> dict[str, Path]:
    """The FY2023 sample master as ``init`` writes it (.xlsm and .xlsx), its FY2024 successor
    (``rollover``), and a returned input file (``split``): what the fuzzers damage. Built
    once per run (``xlsm``, ``xlsx``: the suite's own sample masters, copied); each case
    copies what it changes."""
    from renkei_xl.cli import main

    folder.mkdir(parents=True, exist_ok=True)
    out = {"xlsm": folder / "さっぽろ圏_2023年度_マスター.xlsm", "xlsx": folder / "マスター.xlsx",
           "next": folder / "さっぽろ圏_2024年度_マスター.xlsm"}
    if xlsm is None:
        _quiet(main, ["init", str(out["xlsm"]), "--sample", "fy2023"])
    else:
        shutil.copyfile(xlsm, out["xlsm"])
    if xlsx is None:
        _quiet(main, ["init", str(out["xlsx"]), "--sample", "fy2023"])
    else:
        shutil.copyfile(xlsx, out["xlsx"])
    _quiet(main, ["rollover", str(out["xlsm"]), "-o", str(out["next"])])
    _quiet(main, ["split", str(out["xlsx"]), "--outdir", str(folder / "split")])
    out["returned"] = sorted((folder / "split").glob("*.xlsx"))[0]
    return out


def _quiet(main, argv: list) -> None:
    """A setup command whose messages are not the run's; it must succeed."""
    from contextlib import redirect_stderr, redirect_stdout

    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        rc = main(argv)
    assert rc == 0, (argv, rc)


def copy_to(src: Path, folder: Path, name: str | None = None) -> Path:
    dst = folder / (name or src.name)
    shutil.copyfile(src, dst)
    return dst


def save_finding(root: Path, case: Case, found: list[tuple[Outcome, str]]) -> Path:
    """``root/<id>/``: the damaged inputs and a text file with each command, its exit code
    and its output, so the finding outlives the run's temporary folder."""
    where = root / case.id.replace(":", "_")
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    for path in [*case.inputs, case.folder / "renkei-xl-error.log"]:
        path = Path(path)
        if path.is_file():
            shutil.copyfile(path, where / path.name)
    lines = [f"case {case.id}", f"replay: {replay_command(case)}", ""]
    for o, why in found:
        lines += [f"$ {o.label}", f"defect: {why}", f"exit: {o.status or o.rc}", o.output[-4000:], ""]
    (where / "finding.txt").write_text("\n".join(lines), encoding="utf-8")
    return where


def replay_command(case: Case) -> str:
    return f"make fuzz FUZZ_CASE={case.id}"

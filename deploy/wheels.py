"""Gather every wheel the renkei-xl server and command line need, for Windows and Linux, into
one folder that installs with no network:

    python deploy/wheels.py [--outdir wheels] [--python 3.11 --python 3.12 --python 3.13]
    python wheels/install.py        (pip install --no-index --find-links wheels --force-reinstall "renkei-xl[server]")

renkei-xl itself is built as a wheel from this checkout; its dependencies (with the
``server`` extra) are downloaded as binary wheels for each platform and Python version
(``pip download --only-binary=:all: --platform ...``), so the folder serves a Windows
server and a Linux one alike. Run it on a machine that reaches the package index; copy
the folder to the closed network (USB memory, the file server).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from renkei_xl import PYTHON_MIN  # noqa: E402  (the package alone: it imports nothing)
PLATFORMS = {
    "windows": ["win_amd64"],
    "linux": ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"],
}
PYTHONS = ("3.11", "3.12", "3.13")   # what a Windows server gets from python.org today
# pip evaluates environment markers for the machine it runs on, not for --platform: what a
# platform's dependencies need only there (xlwings' pywin32, click's colorama) is named here.
PLATFORM_ONLY = {"windows": ["pywin32", "colorama"], "linux": []}


def release(version: str) -> str:
    """The Python release pip is told to download for: pip reads "3.11" as 3.11.0, which
    renkei-xl's Requires-Python refuses (renkei_xl.PYTHON_MIN), so the floor's minor is asked
    as the floor itself. The wheels are the same: they are tagged by the minor version."""
    asked = tuple(int(part) for part in version.split("."))
    return ".".join(map(str, PYTHON_MIN)) if asked == PYTHON_MIN[:2] else version


def run(args: list[str]) -> None:
    print("+", " ".join(args), flush=True)
    subprocess.run(args, check=True)


def download(args: list[str]) -> str:
    """One ``pip download``, its output kept for the end: six of them run at once."""
    done = subprocess.run(args, capture_output=True, text=True)
    shown = "+ " + " ".join(args) + "\n" + done.stdout + done.stderr
    if done.returncode:
        raise SystemExit(shown + f"pip download failed (exit {done.returncode})")
    return shown


def gather(jobs: list[tuple[list[str], Path]], out: Path) -> None:
    """Each platform and version downloaded at once, each into a folder of its own, then
    moved into ``out``. pip spends a download waiting on the index (4.5 s of wall time, 1.6 s
    of CPU each here), so the six together take about as long as one; a folder each because
    two pips saving the same pure-Python wheel into one folder would race on the file. A
    wheel's file name says its version and tags, so one already there is the same wheel."""
    with ThreadPoolExecutor(max_workers=len(jobs) or 1) as pool:
        for shown in pool.map(lambda job: download([*job[0], "--dest", str(job[1])]), jobs):
            print(shown, end="", flush=True)
    for _, folder in jobs:
        for wheel in sorted(folder.glob("*.whl")):
            if not (out / wheel.name).exists():
                shutil.move(str(wheel), out / wheel.name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--outdir", default=str(REPO / "wheels"))
    parser.add_argument("--python", action="append", help=f"Python versions (default: {' '.join(PYTHONS)})")
    parser.add_argument("--platform", action="append", choices=sorted(PLATFORMS),
                        help="windows and/or linux (default: both)")
    args = parser.parse_args(argv)
    out = Path(args.outdir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip"]
    run([*pip, "wheel", "--no-deps", "--wheel-dir", str(out), str(REPO)])
    ours = max(out.glob("renkei_xl-*.whl"), key=lambda p: p.stat().st_mtime)
    with tempfile.TemporaryDirectory(dir=out) as scratch:
        jobs = []
        for platform in args.platform or sorted(PLATFORMS):
            tags = [flag for tag in PLATFORMS[platform] for flag in ("--platform", tag)]
            for version in args.python or PYTHONS:
                jobs.append(([*pip, "download", "--only-binary=:all:", *tags, "--python-version", release(version),
                              "--implementation", "cp", f"{ours}[server]", *PLATFORM_ONLY[platform]],
                             Path(scratch) / f"{platform}-{version}"))
        gather(jobs, out)
    # The installer that says in Japanese which Python versions the folder serves.
    shutil.copyfile(REPO / "deploy" / "install.py", out / "install.py")
    print(f"{len(list(out.glob('*.whl')))} wheels and install.py in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Gather every wheel the renkei-xl server and command line need, for Windows and Linux, into
one folder that installs with no network:

    python deploy/wheels.py [--outdir wheels] [--python 3.11 --python 3.12 --python 3.13]
    python wheels/install.py        (pip install --no-index --find-links wheels "renkei-xl[server]")

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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PLATFORMS = {
    "windows": ["win_amd64"],
    "linux": ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"],
}
PYTHONS = ("3.11", "3.12", "3.13")   # what a Windows server gets from python.org today
# pip evaluates environment markers for the machine it runs on, not for --platform: what a
# platform's dependencies need only there (xlwings' pywin32, click's colorama) is named here.
PLATFORM_ONLY = {"windows": ["pywin32", "colorama"], "linux": []}


def run(args: list[str]) -> None:
    print("+", " ".join(args), flush=True)
    subprocess.run(args, check=True)


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
    for platform in args.platform or sorted(PLATFORMS):
        tags = [flag for tag in PLATFORMS[platform] for flag in ("--platform", tag)]
        for version in args.python or PYTHONS:
            run([*pip, "download", "--only-binary=:all:", *tags, "--python-version", version,
                 "--implementation", "cp", "--dest", str(out), f"{ours}[server]", *PLATFORM_ONLY[platform]])
    # The installer that says in Japanese which Python versions the folder serves.
    shutil.copyfile(REPO / "deploy" / "install.py", out / "install.py")
    print(f"{len(list(out.glob('*.whl')))} wheels and install.py in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

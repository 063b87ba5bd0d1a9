"""The declared dependency floors, installed and tried (``make floors``).

setup.cfg's floors are what an on-premises install from an old offline wheel folder, or a PC
with older packages, gets; CI installs the newest releases. A floor nobody installed was no
floor: python-calamine>=0.2 lacked CalamineWorkbook.close, which every read calls, and
xlwings>=0.33's remote engine had no Sheet.used_range, so the server's buttons failed with a
traceback (deps62). This makes .venv-floor with every floor pinned exactly and runs the test
modules that exercise the libraries.

A package the test extra also names is pinned at the higher of its floors: the tests need
theirs (setup.cfg says why beside the test extra); test-only tools install their newest.

    python3 tests/floors.py            # make .venv-floor, run MODULES (nice, 2 workers)
    python3 tests/floors.py --pins     # print the pins only
"""

from __future__ import annotations

import argparse
import configparser
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv-floor"

# The modules whose tests go through openpyxl, xlwings' remote engine, XlsxWriter,
# python-calamine, defusedxml, dateutil, jpholiday, starlette, uvicorn and olefile.
MODULES = [
    "test_workbook.py", "test_build.py", "test_package_integrity.py", "test_package_keeps.py",
    "test_package_parse.py", "test_packaging.py", "test_faces.py", "test_faces_values.py",
    "test_server.py", "test_server_layout.py", "test_server_log.py", "test_server_setup.py",
    "test_server_tls.py", "test_server_bounds.py", "test_vba.py", "test_vba_static.py",
    "test_vba_signature.py", "test_business_days.py", "test_fiscal.py", "test_values.py",
    "test_roundtrip.py", "test_payload_book.py", "test_client_actions.py",
    "test_returned_settings.py", "test_returns_keyed.py", "test_error_cells.py",
    "test_rich_values.py", "test_stale_results.py", "test_cycle.py", "test_demo.py",
    "test_master_macros.py", "test_state_read.py", "test_hostile_values.py",
    "test_split_repeatable.py", "test_input_file.py", "test_confirmed_pdf.py",
]

_FLOOR = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*>=\s*([0-9][0-9A-Za-z.]*)\s*(;.*)?$")


def requirements(cfg: str) -> dict[str, list[str]]:
    """setup.cfg's install_requires and extras, as lists of requirement lines."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(cfg)
    found = {"install_requires": parser.get("options", "install_requires", fallback="")}
    if parser.has_section("options.extras_require"):
        found.update(parser.items("options.extras_require"))
    return {key: [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
            for key, text in found.items()}


def floor(line: str) -> tuple[str, str, str]:
    """(name, version, marker) of a requirement that is one floor (``name>=X``, a marker
    allowed). Anything else cannot be pinned at its floor, and is refused."""
    m = _FLOOR.match(line)
    if m is None:
        raise ValueError(f"not a single floor (name>=version): {line!r}")
    return m.group(1), m.group(2), (m.group(3) or "").lstrip("; ").strip()


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _version(text: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"[.]", text))


def pins(cfg: str) -> dict[str, str]:
    """Each product and server package at its floor (the test extra's, where higher), as
    constraint lines keyed by normalised name."""
    reqs = requirements(cfg)
    product = [floor(line) for line in reqs["install_requires"] + reqs.get("server", [])]
    tested = {_key(n): v for n, v, _ in (floor(line) for line in reqs.get("test", []))}
    out = {}
    for name, version, marker in product:
        key = _key(name)
        if key in tested and _version(tested[key]) > _version(version):
            version = tested[key]
        out[key] = f"{name}=={version}" + (f"; {marker}" if marker else "")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pins", action="store_true", help="print the constraints and stop")
    args = ap.parse_args()
    lines = list(pins((ROOT / "setup.cfg").read_text(encoding="utf-8")).values())
    if args.pins:
        print("\n".join(lines))
        return 0
    constraints = VENV / "constraints.txt"
    py = VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    constraints.write_text("\n".join(lines) + "\n", encoding="utf-8")
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-compile", "-c", str(constraints),
                    "-e", f"{ROOT}[test]"], check=True)
    subprocess.run([str(py), "-m", "pip", "list"], check=True)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="", PYTHONPYCACHEPREFIX=str(VENV / "pycache"))
    run = subprocess.run(["nice", "-n", "5", str(py), "-m", "pytest", "-q", "-n", "2", "-p", "no:warnings",
                          *(f"tests/{m}" for m in MODULES)], cwd=ROOT, env=env)
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())

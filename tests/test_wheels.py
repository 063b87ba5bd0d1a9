"""`make wheels` (deploy/wheels.py): one folder that installs the server and the command line
with no network, on every Python version the docs list (3.11–3.13, what python.org gives a
Windows server today). The Linux set is installed, with the folder's own install.py, into a
fresh venv of each listed version this machine can run, with pip's index and every
configured source switched off; the Windows set is checked by its file names (binary
packages for win_amd64 are there), since it cannot be installed here. A Python the folder
does not serve, or one older than renkei-xl's floor, gets install.py's Japanese sentence, not
pip's English one."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import shared_build
from oldpython import old_python
from renkei_xl import PYTHON_MIN

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "deploy"))
from wheels import PYTHONS  # noqa: E402

CURRENT = f"{sys.version_info.major}.{sys.version_info.minor}"
ISOLATED = {**{k: v for k, v in os.environ.items() if not k.startswith("PIP_")},
            "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_COMPILE": "0"}
# PIP_COMPILE=0 is pip's --no-compile (PIP_NO_COMPILE=1 is not: pip reads a "no-" flag's
# value as the option's own, so it turns compiling on). pip compiles every module it installs
# and goes on whatever compiling says (a failure is a debug line), so nothing a check here
# reads comes of it: the imports below compile what they import, as a venv whose bytecode
# was not written would. It was 2.4 of each version's 3.5 CPU s of install, the wheel's
# build environment 1 s of the folder's make.


def interpreter(version: str) -> str | None:
    """A runnable python of ``version`` that renkei-xl runs on (PYTHON_MIN): on PATH, or one
    pyenv installed. Debian 12's python3.11 on PATH is 3.11.2, which install.py refuses."""
    if version == CURRENT:
        return sys.executable
    at_floor = f"import sys; sys.exit(sys.version_info < {PYTHON_MIN!r})"
    root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    candidates = [shutil.which(f"python{version}"),
                  *sorted(glob.glob(os.path.join(root, "versions", f"{version}.*", "bin", f"python{version}")))[::-1]]
    return next((found for found in candidates
                 if found and subprocess.run([found, "-c", at_floor], capture_output=True).returncode == 0), None)


# Each version looked up once: this runs wherever the module is collected (every xdist worker),
# and a pyenv shim that is not the selected version takes about 0.2 s to say so.
RUNNABLE = {v: found for v in PYTHONS if (found := interpreter(v))}


def wheel_folder(tmp_path_factory) -> Path:
    """`make wheels`' folder (deploy/wheels.py), made once a run: tests/test_packaging.py
    checks the renkei-xl wheel in it, which deploy/wheels.py builds with the command that
    module ran on its own before. Read-only."""
    def build(out: Path) -> Path:
        run = subprocess.run([sys.executable, str(REPO / "deploy" / "wheels.py"), "--outdir", str(out)],
                             capture_output=True, text=True, timeout=1800, env={**os.environ, "PIP_COMPILE": "0"})
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        return out
    return shared_build(tmp_path_factory, "make wheels", build)


@pytest.fixture(scope="module")
def wheels(tmp_path_factory):
    return wheel_folder(tmp_path_factory)


def test_the_folder_holds_every_listed_version_for_windows_and_linux(wheels):
    assert PYTHONS == ("3.11", "3.12", "3.13")
    names = [p.name.lower() for p in wheels.glob("*.whl")]
    for package in ("renkei_xl-", "xlwings-", "python_calamine-", "starlette-", "uvicorn-",
                    "openpyxl-", "xlsxwriter-"):
        assert any(n.startswith(package) for n in names), package
    # the app is Starlette alone (server.app): FastAPI brought pydantic-core's compiled wheels
    assert not [n for n in names if n.startswith(("fastapi-", "pydantic"))], names
    for version in PYTHONS:
        tag = "cp" + version.replace(".", "")
        for package in ("xlwings-", "python_calamine-", "pywin32-"):   # the Windows set
            assert any(n.startswith(package) and n.endswith("win_amd64.whl") and tag in n for n in names), (package, tag)
        for package in ("xlwings-", "python_calamine-"):               # the Linux set
            assert any(n.startswith(package) and "manylinux" in n and tag in n for n in names), (package, tag)
    assert (wheels / "install.py").is_file()


# What ensurepip would install into a venv of the interpreter that runs this (pip, and setuptools
# on 3.11: the wheels bundled with that Python), unpacked into the venv's site-packages.
_BUNDLED = ("import ensurepip, glob, os, sysconfig, zipfile\n"
            "wheels = glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), '_bundled', '*.whl'))\n"
            "assert any(os.path.basename(w).startswith('pip-') for w in wheels), wheels\n"
            "for wheel in wheels:\n"
            "    with zipfile.ZipFile(wheel) as z:\n"
            "        z.extractall(sysconfig.get_paths()['purelib'])\n")


def venv_with_pip(python: str, env_dir: Path) -> Path:
    """A venv of ``python`` as ``python -m venv`` makes it (the staff's step before install.py),
    its python returned: the pip (and on 3.11 setuptools) its Python bundles, the very files
    ensurepip would install. Made ``--without-pip`` and the bundled wheels unpacked into
    site-packages: ensurepip installs them by running pip from its wheel and compiles every
    one of pip's ~900 modules, 4 of the 6 CPU s each version's venv and install took; the
    install below runs the same pip on the same files (bytecode compiled as it imports, as
    in a venv whose bytecode was never written). Nothing checked here reads pip's own entry
    scripts (bin/pip), which that leaves out: install.py runs ``python -m pip``."""
    made = subprocess.run([python, "-m", "venv", "--without-pip", str(env_dir)], capture_output=True, text=True,
                          timeout=300)
    assert made.returncode == 0, made.stderr
    venv_python = env_dir / "bin" / "python"
    unpacked = subprocess.run([str(venv_python), "-I", "-c", _BUNDLED], capture_output=True, text=True, timeout=300)
    assert unpacked.returncode == 0, unpacked.stderr
    return venv_python


def test_every_listed_version_this_machine_runs_installs_with_no_network(wheels, tmp_path):
    assert CURRENT in RUNNABLE
    print("offline install tested on Python", ", ".join(RUNNABLE))
    for version, python in RUNNABLE.items():
        env_dir = tmp_path / f"venv{version}"
        venv_python = venv_with_pip(python, env_dir)
        install = subprocess.run([str(venv_python), str(wheels / "install.py")], capture_output=True, text=True,
                                 timeout=900, env=ISOLATED, cwd=tmp_path)
        assert install.returncode == 0, (version, install.stdout[-3000:] + install.stderr[-3000:])
        assert f"Python {version}" in install.stdout
        check = subprocess.run([str(env_dir / "bin" / "renkei-xl"), "serve", "--help"], capture_output=True,
                               text=True, timeout=120, env=ISOLATED, cwd=tmp_path)
        assert check.returncode == 0 and "--workdir" in check.stdout and "--ssl-certfile" in check.stdout, check.stderr
        imported = subprocess.run([str(venv_python), "-c", "import starlette, uvicorn, xlwings, python_calamine, "
                                   "renkei_xl.server.app, renkei_xl.cli; print('ok')"],
                                  capture_output=True, text=True, timeout=120, env=ISOLATED, cwd=tmp_path)
        assert imported.stdout.strip() == "ok", (version, imported.stderr)


def test_a_version_the_folder_does_not_serve_is_told_in_japanese(wheels, tmp_path):
    folder = tmp_path / "only-current"
    folder.mkdir()
    shutil.copyfile(wheels / "install.py", folder / "install.py")
    other = next(v for v in PYTHONS if v != CURRENT)
    for wheel in wheels.glob("*.whl"):       # a folder made for one other version only
        if "cp" not in wheel.name or f"cp{other.replace('.', '')}" in wheel.name:
            shutil.copyfile(wheel, folder / wheel.name)
    run = subprocess.run([sys.executable, str(folder / "install.py")], capture_output=True, text=True, timeout=300,
                         env=ISOLATED, cwd=tmp_path)
    assert run.returncode == 2 and run.stdout == ""
    assert f"Python {CURRENT} 用のパッケージはこのフォルダーにありません" in run.stderr and f"Python {other}" in run.stderr
    assert "No matching distribution" not in run.stderr


def test_a_python_older_than_the_floor_is_told_in_japanese_before_pip(wheels, tmp_path):
    """Debian 12's own Python is 3.11.2, which the folder serves by its minor version (cp311
    wheels) and renkei-xl refuses (renkei_xl.PYTHON_MIN): pip said in English that renkei-xl
    "requires a different Python". install.py says it in Japanese first, from the wheel's
    Requires-Python, and runs no pip (the venv has none: a pip run would fail otherwise)."""
    python, version = old_python()
    env_dir = tmp_path / "old"
    made = subprocess.run([python, "-m", "venv", "--without-pip", str(env_dir)], capture_output=True, text=True,
                          timeout=300)
    assert made.returncode == 0, made.stderr
    run = subprocess.run([str(env_dir / "bin" / "python"), str(wheels / "install.py")], capture_output=True,
                         text=True, timeout=300, env=ISOLATED, cwd=tmp_path)
    shown, floor = ".".join(map(str, version)), ".".join(map(str, PYTHON_MIN))
    assert (run.returncode, run.stdout) == (2, ""), run.stderr[-3000:]
    assert run.stderr.startswith(f"エラー: この Python は {shown} です。renkei-xl は Python {floor} 以降で動きます"), run.stderr
    assert f"python.org の Python {floor} 以降（3.12・3.13 も可）" in run.stderr and "正規表現の不具合" in run.stderr
    assert "Traceback" not in run.stderr and "pip" not in run.stderr.replace("install.py", "")

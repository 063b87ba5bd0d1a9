"""A quiet install that carries everything: every folder of the package that Python could
import is declared, so setuptools has nothing to warn about; the data files travel with it;
and the VBA modules, kept once in the top-level macros/ of the customer's layout, are in the
wheel as renkei_xl/vba/macros/, where the installed tool finds them, while an editable
install reads them from macros/."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MACROS = ROOT / "macros"
MAPPED = "renkei_xl.vba.macros"   # the package name macros/ has in the wheel


def _config():
    """setup.cfg as setuptools reads it. setuptools is imported here, not at the top: every
    xdist worker imports this file to collect it, and setuptools with its vendored packages
    is ~0.35 CPU-s to import with a fresh clone's empty bytecode cache (perf-107)."""
    from setuptools.config.setupcfg import read_configuration

    return read_configuration(str(ROOT / "setup.cfg"))["options"]


def _folders() -> set[str]:
    found = {".".join(p.relative_to(ROOT).parts) for p in (ROOT / "renkei_xl").rglob("*")
             if p.is_dir() and p.name.isidentifier() and p.name != "__pycache__"
             and any(q.is_file() for q in p.iterdir())}
    return found | {"renkei_xl"}


def test_every_importable_folder_is_a_declared_package():
    """setuptools warns "Package ... is absent from the packages configuration" for each
    folder with a valid name that holds files but is not listed; a listed one that is gone
    fails the build."""
    declared = set(_config()["packages"])
    assert declared == _folders() | {MAPPED}, (declared ^ (_folders() | {MAPPED}))


def test_the_data_files_are_package_data():
    data = _config()["package_data"]
    for path in (ROOT / "renkei_xl").rglob("*"):
        if path.is_file() and path.suffix not in (".py", ".pyc"):
            package = ".".join(path.parent.relative_to(ROOT).parts)
            patterns = data.get(package, [])
            assert any(path.match(pattern) for pattern in patterns), (package, path.name)
    for path in MACROS.iterdir():
        assert any(path.match(pattern) for pattern in data.get(MAPPED, [])), path.name


def test_the_vba_modules_have_one_copy_at_the_top():
    assert _config()["package_dir"] == {"": ".", MAPPED: "macros"}
    assert sorted(p.name for p in MACROS.iterdir()) == ["Renkei.bas", "RenkeiServer.bas"]
    assert not [p for p in (ROOT / "renkei_xl").rglob("*") if p.suffix in (".bas", ".cls")]
    for path in MACROS.iterdir():   # exported as the VBA editor writes them
        data = path.read_bytes()
        assert data.isascii() and b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b""), path.name


def test_a_checkout_reads_the_modules_from_macros():
    from renkei_xl.vba.sources import MACROS_DIR, our_modules
    assert MACROS_DIR.resolve() == MACROS.resolve()
    assert [m.name for m in our_modules()] == ["Renkei", "RenkeiServer"]


def _makefile_warnings() -> str:
    """The warnings filter `make venv` runs pip install -e under (the Makefile's EDITABLE_NOTICE)."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    assert "\tPYTHONWARNINGS='$(EDITABLE_NOTICE)' $(BIN)/pip install -q --no-compile -e '.[test]'" in lines
    (line,) = [l for l in lines if l.startswith("EDITABLE_NOTICE :=")]
    return line.split(":=", 1)[1].strip()


def test_an_editable_install_reads_the_modules_from_macros(tmp_path):
    """What `make venv` does (pip install -q under the Makefile's warnings filter), into an empty venv,
    run away from the checkout: quiet, as a fresh `make demo` must be (the mapped folder made
    setuptools' import hook print ten lines of "BuildBackendWarning: Editable installation"
    before the demo), and the tool still reads the one copy in macros/."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    env = {**os.environ, "PYTHONWARNINGS": _makefile_warnings()}
    run = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-compile", "--no-deps",
                          "-e", str(ROOT)], capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    said = run.stdout + run.stderr
    assert "Warning" not in said and "setuptools" not in said, said[-3000:]
    code = "from renkei_xl.vba.sources import MACROS_DIR, our_modules; print(MACROS_DIR); print(*[m.name for m in our_modules()])"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    shown = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert shown.returncode == 0, shown.stderr
    folder, names = shown.stdout.splitlines()
    assert Path(folder) == MACROS and names == "Renkei RenkeiServer"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel `make wheels` builds of this checkout (``pip wheel --no-deps``, the command
    this fixture ran on its own before), taken from the folder tests/test_wheels.py checks:
    one build of the package a run (shared_build), not one per module (3 s idle, 16 s of
    wall time on a busy machine, most of it pip setting up the isolated build)."""
    from test_wheels import wheel_folder

    (found,) = wheel_folder(tmp_path_factory).glob("renkei_xl-*.whl")
    return found


def test_the_wheel_carries_the_modules_byte_for_byte(wheel):
    with zipfile.ZipFile(wheel) as z:
        inside = {Path(n).name: z.read(n) for n in z.namelist() if n.startswith("renkei_xl/vba/macros/")}
        names = z.namelist()
    assert inside == {p.name: p.read_bytes() for p in MACROS.iterdir()}
    assert not any(n.startswith("macros/") for n in names)          # no stray top-level package
    assert "renkei_xl/data/fy2023.toml" in names


def test_the_installed_wheel_finds_its_modules(wheel, tmp_path):
    """Installed, the tool reads the modules the wheel carries (python -S: no editable
    install of this checkout on the path)."""
    target = tmp_path / "site"
    run = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target", str(target),
                          str(wheel)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from renkei_xl.vba.sources import MACROS_DIR, our_modules; "
            "print(MACROS_DIR); print(*[m.name for m in our_modules()])")
    shown = subprocess.run([sys.executable, "-S", "-c", code, str(target)], capture_output=True, text=True,
                           timeout=120, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    folder, names = shown.stdout.splitlines()
    assert Path(folder) == target / "renkei_xl" / "vba" / "macros" and names == "Renkei RenkeiServer"

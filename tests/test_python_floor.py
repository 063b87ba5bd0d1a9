"""The oldest Python the tool runs on (renkei_xl.PYTHON_MIN, 3.11.5), refused below it at every entry.

Python 3.10 has no possessive quantifiers, and 3.11.0-3.11.4 match them wrongly (CPython
gh-106052, gh-100061, fixed in 3.11.5): on Debian 12's 3.11.2 every recalc of the FY2023 master
ended in 「予期しないエラーが発生しました（IndexError: list index out of range）」, the styles
part's <xf> pattern finding nothing, and a check that finds nothing accepts what it should
refuse. Run here under a real older interpreter (tests/oldpython.py), the package from this
checkout and the venv's libraries on its path, so the entries are the real ones."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import renkei_xl
from oldpython import old_python
from renkei_xl import PYTHON_MIN, interpreter

REPO = Path(__file__).resolve().parents[1]
# What the console script renkei-xl runs (setup.cfg: renkei-xl = renkei_xl.cli:run).
CONSOLE_SCRIPT = "import sys; from renkei_xl.cli import run; sys.exit(run())"
# What a button's RunPython runs (macros/Renkei.bas' RenkeiRun).
BUTTON = "import renkei_xl.excel.buttons as m; m.recalc()"


def test_setup_cfg_asks_for_the_python_the_package_holds_to():
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg", encoding="utf-8")
    assert cfg["options"]["python_requires"] == ">=" + ".".join(map(str, PYTHON_MIN))
    assert PYTHON_MIN >= (3, 11, 5)     # 3.11.5 fixed the possessive quantifiers
    assert "tomli" not in cfg["options"]["install_requires"]


@pytest.mark.parametrize("version", [(3, 11, 4), (3, 11, 0), (3, 10, 13), (3, 9, 18, "final", 0)])
def test_an_older_python_is_refused_naming_it_what_to_install_and_why(version, capsys):
    said = interpreter.refusal(version, PYTHON_MIN)
    shown = ".".join(map(str, version[:3]))
    assert said.startswith(f"エラー: この Python は {shown} です。")
    assert "python.org の Python 3.11.5 以降（3.12・3.13 も可）" in said and "正規表現の不具合" in said
    with pytest.raises(SystemExit) as stopped:
        interpreter.refuse(PYTHON_MIN, version)
    assert stopped.value.code == 2
    assert capsys.readouterr() == ("", interpreter.SAID_BY_CLICK + said + "\n")


@pytest.mark.parametrize("version", [(3, 11, 5), (3, 11, 7), (3, 12, 0), (3, 13, 1), tuple(sys.version_info)])
def test_a_python_from_the_floor_up_runs(version, capsys):
    assert interpreter.refusal(version, PYTHON_MIN) is None
    interpreter.refuse(PYTHON_MIN, version)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("cfg, made_with", [
    ("home = /opt/py/bin\nversion = 3.11.7\n", "3.11.7"),                          # python -m venv, 3.11
    ("home = /opt/py/bin\nversion_info = 3.13.0.final.0\n", "3.13.0"),              # 3.13 writes both
    ("home = /usr/bin\nversion = 3.11.2\n", None),                                  # made with the old one
    ("home = /usr/bin\nversion = 3.11.4\n", None),                                  # made with one below
    (None, None),                                                                     # no venv
])
def test_a_venv_made_with_a_newer_python_than_runs_it_says_the_library_loaded_was_another(cfg, made_with, tmp_path,
                                                                                         capsys):
    """A pyenv-built 3.11.7 copied from /root to /opt keeps /root in its library path: under the
    service account the venv ran Debian's 3.11.2 libpython, and the refusal sent IT to install
    the Python it had installed (a readme walk: `runuser -u renkei -- …/renkei-xl serve --help`)."""
    if cfg is not None:
        (tmp_path / "pyvenv.cfg").write_text(cfg, encoding="utf-8")
    with pytest.raises(SystemExit):
        interpreter.refuse(PYTHON_MIN, (3, 11, 2), prefix=tmp_path)
    said = capsys.readouterr().err
    if made_with is None:
        assert said == interpreter.SAID_BY_CLICK + interpreter.refusal((3, 11, 2), PYTHON_MIN) + "\n"
    else:
        assert f"この venv は Python {made_with} で作られていますが、動いているのは Python 3.11.2 です" in said
        assert "libpython" in said and "python.org" not in said


def test_a_venv_whose_python_runs_an_older_library_is_told_so_at_the_real_entry(old, tmp_path):
    """The same through the console script under a real older interpreter, from a venv whose
    pyvenv.cfg names the newer Python it was made with (what the copied pyenv Python leaves)."""
    python, version = old
    venv = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    cfg = venv / "pyvenv.cfg"
    cfg.write_text("\n".join("version = 3.11.7" if line.startswith("version") else line
                             for line in cfg.read_text(encoding="utf-8").splitlines()) + "\n", encoding="utf-8")
    run = _under(str(venv / "bin" / "python"), ["-c", CONSOLE_SCRIPT, "serve", "--help"], tmp_path)
    assert (run.returncode, run.stdout) == (2, ""), run.stderr[-2000:]
    assert run.stderr == interpreter.SAID_BY_CLICK + interpreter.refusal(version, PYTHON_MIN, (3, 11, 7)) + "\n"


@pytest.fixture(scope="module")
def old():
    return old_python()


def _under(python: str, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """``python args`` with this checkout and this venv's libraries on its path (PYTHONPATH), as
    an older Python that renkei-xl was installed into runs them (-s: no user site)."""
    path = [str(REPO), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    return subprocess.run([python, "-s", *args], capture_output=True, text=True, timeout=60, cwd=cwd,
                          env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONPATH": os.pathsep.join(path),
                               "XLWINGS_LICENSE_KEY": "noncommercial"})


@pytest.mark.parametrize("entry", [
    ["-m", "renkei_xl.cli", "recalc", "master.xlsx"],           # python -m renkei_xl.cli
    ["-c", CONSOLE_SCRIPT, "recalc", "master.xlsx"],            # renkei-xl recalc
    ["-c", CONSOLE_SCRIPT, "serve", "--help"],                  # renkei-xl serve
    ["-c", BUTTON],                                             # 評価を再計算 (RunPython)
], ids=["python -m", "renkei-xl recalc", "renkei-xl serve", "button"])
def test_every_entry_refuses_an_older_python_in_japanese_before_anything(old, entry, sample_master_xlsx, tmp_path):
    python, version = old
    master = tmp_path / "master.xlsx"
    shutil.copyfile(sample_master_xlsx, master)
    before = master.read_bytes()
    run = _under(python, entry, tmp_path)
    assert (run.returncode, run.stdout) == (2, ""), (python, version, run.stdout, run.stderr[-2000:])
    assert run.stderr == interpreter.SAID_BY_CLICK + interpreter.refusal(version, PYTHON_MIN) + "\n", run.stderr[-2000:]
    assert master.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["master.xlsx"]


def test_the_package_holds_the_floor_where_its_first_line_runs():
    """The check runs in renkei_xl/__init__.py, before any module of ours: a module that compiled
    a possessive pattern at import on 3.10 stopped with re.error's traceback before any check of
    the command line could speak. The package stays import-free (sys is always loaded)."""
    source = Path(renkei_xl.__file__).read_text(encoding="utf-8")
    imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert imports == ["import sys"]


def test_make_refuses_an_older_python_before_it_makes_a_venv(old, tmp_path):
    """`make demo` and `make test` make the venv first: with an older python3, pip stopped it with
    its English "requires a different Python" (or, before the floor, a venv of a Python whose
    patterns match wrongly). The Makefile asks the package first, which refuses in Japanese."""
    python, version = old
    venv = tmp_path / "venv"
    run = subprocess.run(["make", "--no-print-directory", "venv", f"PY={python}", f"VENV={venv}"], cwd=REPO,
                         capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    assert run.returncode != 0, run.stdout
    assert interpreter.SAID_BY_CLICK + interpreter.refusal(version, PYTHON_MIN) in run.stderr, run.stderr[-2000:]
    assert not venv.exists()

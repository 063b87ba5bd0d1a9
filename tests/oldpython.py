"""An interpreter older than renkei_xl.PYTHON_MIN that this machine runs, found by its version.

Debian 12's /usr/bin/python3.11 is 3.11.2 (here, and on CI, where python3-uno brings it); any
3.11.0-3.11.4 or older 3.x on PATH or under pyenv serves as well. On CI none found is a failure:
the refusal of an old Python is only tested where one runs."""

from __future__ import annotations

import functools
import glob
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from renkei_xl import PYTHON_MIN

_VERSION = "import sys; print('.'.join(map(str, sys.version_info[:3])))"


def _candidates() -> list[str]:
    names = ["/usr/bin/python3.11", "/usr/bin/python3"]
    names += [found for name in ("python3.11", "python3.10", "python3") if (found := shutil.which(name))]
    root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    for pattern in ("3.11.[0-4]", "3.10.*"):
        names += sorted(glob.glob(os.path.join(root, "versions", pattern, "bin", "python3")))
    return list(dict.fromkeys(names))


@functools.lru_cache(maxsize=1)
def _found() -> tuple[str, tuple[int, int, int]] | None:
    """The first older Python, a 3.11 preferred: the tool's dependencies load there, so only the
    refusal stands between it and patterns that answer wrongly."""
    older = []
    for path in _candidates():
        if not os.access(path, os.X_OK):
            continue
        run = subprocess.run([path, "-I", "-c", _VERSION], capture_output=True, text=True, timeout=60)
        if run.returncode == 0:
            version = tuple(int(part) for part in run.stdout.strip().split("."))
            if (3, 6) <= version < PYTHON_MIN:
                older.append((version[:2] != (3, 11), path, version))
    return min(older)[1:] if older else None


def old_python() -> tuple[str, tuple[int, int, int]]:
    """(path, version) of an interpreter older than PYTHON_MIN; a failure on CI when none."""
    found = _found()
    if found is None:
        floor = ".".join(map(str, PYTHON_MIN))
        if os.environ.get("CI"):
            pytest.fail(f"Python {floor} より前の Python が見つかりません: /usr/bin/python3.11（Debian 12 の 3.11.2、"
                        ".ci/run が入れる python3-uno が連れてくる）があるはずです")
        pytest.skip(f"no Python older than {floor} here (allowed only outside CI)")
    return found

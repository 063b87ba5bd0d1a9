"""conftest.shared_build: a costly input is built once per test run, even when pytest-xdist
runs the suite in several processes at once, and a failed build is tried again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import shared_build

TESTS = Path(__file__).resolve().parent

# One "worker": its own base folder inside the run's folder, as xdist lays them out.
WORKER = """
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from conftest import shared_build

class Factory:
    def getbasetemp(self):
        return Path(sys.argv[2]) / sys.argv[3]

def build(folder):
    with open(Path(sys.argv[2]) / "builds.log", "a") as log:
        log.write(sys.argv[3] + "\\n")
    time.sleep(1.0)                      # long enough for the other worker to wait on the lock
    made = folder / "made.txt"
    made.write_text("built by " + sys.argv[3])
    return {"made": made}

print(shared_build(Factory(), "costly input", build)["made"].read_text())
"""


def test_two_workers_at_once_build_once_and_both_get_the_result(tmp_path):
    env = {**os.environ, "PYTEST_XDIST_WORKER": "gw"}
    for worker in ("popen-gw0", "popen-gw1"):
        (tmp_path / worker).mkdir()
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(TESTS), str(tmp_path), worker], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for worker in ("popen-gw0", "popen-gw1")]
    answers = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        answers.append(out.strip())
    builders = (tmp_path / "builds.log").read_text().split()
    assert len(builders) == 1
    assert answers == [f"built by {builders[0]}"] * 2


class _Factory:
    def __init__(self, base: Path):
        self.base = base

    def getbasetemp(self) -> Path:
        return self.base

    def mktemp(self, name: str) -> Path:
        path = self.base / name
        path.mkdir(parents=True)
        return path


def test_a_failed_build_leaves_nothing_and_the_next_caller_builds(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    factory = _Factory(tmp_path / "popen-gw0")
    factory.base.mkdir()

    def broken(folder: Path):
        (folder / "half.txt").write_text("half")
        raise RuntimeError("LibreOffice did not start")

    with pytest.raises(RuntimeError):
        shared_build(factory, "input", broken)
    calls = []

    def works(folder: Path):
        calls.append(folder)
        assert not any(folder.iterdir())          # the broken build's leftovers are gone
        return folder / "whole.txt"

    assert shared_build(factory, "input", works) == tmp_path / "shared" / "input" / "whole.txt"
    assert shared_build(factory, "input", works) == tmp_path / "shared" / "input" / "whole.txt"
    assert len(calls) == 1


def test_without_xdist_each_process_builds_in_its_own_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    factory = _Factory(tmp_path)
    assert shared_build(factory, "in put", lambda folder: folder) == tmp_path / "in_put"
    assert not (tmp_path / "shared").exists()

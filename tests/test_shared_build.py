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


def test_an_edit_saved_once_is_written_again_with_its_save_time_made_now(tmp_path, monkeypatch):
    """conftest.saved_once: the same edit of the same content is made once; the next file
    gets the bytes it left and what it returned, its dcterms:modified made the time of this
    save (collect orders a municipality's files by it), and any other edit or content is
    made anew. An edit that raises is made again the next time."""
    import datetime as dt
    import zipfile

    import openpyxl

    import conftest
    from conftest import saved_once, value_key

    monkeypatch.setattr(conftest, "_SAVED_ONCE", {})
    made = []

    def edit(path, value):
        made.append(value)
        wb = openpyxl.load_workbook(path)
        wb.active["B2"] = value
        wb.save(path)
        return f"B2={value!r}"

    def modified(path):
        with zipfile.ZipFile(path) as z:
            return openpyxl.load_workbook(path).properties.modified, z.read("xl/worksheets/sheet1.xml")

    blank = tmp_path / "blank.xlsx"
    openpyxl.Workbook().save(blank)
    first, second, third = (tmp_path / f"{n}.xlsx" for n in (1, 2, 3))
    for p in (first, second, third):
        p.write_bytes(blank.read_bytes())
    assert saved_once(first, ("B2", value_key(1)), lambda p: edit(p, 1)) == "B2=1"
    stamp, sheet = modified(first)
    stale = dt.datetime(2001, 2, 3, 4, 5, 6)
    monkeypatch.setitem(conftest._SAVED_ONCE, *next(
        (slot, (_stamped(data, stale, tmp_path / "stamped.xlsx"), result)) for slot, (data, result) in conftest._SAVED_ONCE.items()))
    assert saved_once(second, ("B2", value_key(1)), lambda p: edit(p, 1)) == "B2=1"
    assert made == [1]
    again, again_sheet = modified(second)
    assert again_sheet == sheet and again >= stamp and again > stale
    assert saved_once(third, ("B2", value_key(True)), lambda p: edit(p, True)) == "B2=True"
    assert made == [1, True]                      # True is not 1
    assert openpyxl.load_workbook(third).active["B2"].value is True

    def broken(path):
        made.append("broken")
        raise AssertionError("no such row")
    for _ in range(2):
        with pytest.raises(AssertionError):
            saved_once(blank, ("missing",), broken)
    assert made == [1, True, "broken", "broken"]


def _stamped(data: bytes, when, scratch: Path) -> bytes:
    """A package's bytes with docProps/core.xml's dcterms:modified set to ``when``."""
    import io
    import re
    import zipfile

    from conftest import write_members

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    members["docProps/core.xml"] = re.sub(rb"(<dcterms:modified\b[^>]*>)[^<]*", lambda m: m.group(1) + when.strftime(
        "%Y-%m-%dT%H:%M:%SZ").encode(), members["docProps/core.xml"])
    write_members(scratch, members)
    return scratch.read_bytes()

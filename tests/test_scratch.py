"""An export's temporary folder (its PDF's source, the PDF, LibreOffice's profile) is the
tool's own, and what a killed export left there goes at the next one.

A run killed during its PDF (a SIGTERM, the server's supervisor, a shutdown) runs no
``finally``: it left a folder and a LibreOffice profile of half a megabyte each in the
system's temporary folder, next to it, and nothing removed them on a machine that runs all
year. The conversion here is LibreOffice's stand-in (a script, as test_print's hung soffice),
which records the profile it was given: what is tested is where the folders go and which
ones the next export removes, not LibreOffice.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest

from renkei_xl import scratch
from renkei_xl.cycle.export import write_pdf

HOUR_AGO = time.time() - 3600

STAND_IN = """#!/bin/sh
# LibreOffice's stand-in: the profile it is given made (as soffice makes it) and recorded,
# the PDF written where --outdir says.
out=""; prev=""
for a; do
  case "$a" in -env:UserInstallation=file://*) profile="${a#-env:UserInstallation=file://}";; esac
  [ "$prev" = "--outdir" ] && out="$a"
  prev="$a"
done
mkdir -p "$profile/user" && echo "$profile" > "$0.profile"
printf '%%PDF-1.4\\n' > "$out/list.pdf"
"""


def _aged(path: Path) -> Path:
    os.utime(path, (HOUR_AGO, HOUR_AGO))
    return path


def _left_by_a_killed_export(base: Path, name: str) -> Path:
    """A folder as a killed export leaves it: its lock file nobody holds, its source, a profile."""
    folder = base / name
    (folder / "profile" / "user").mkdir(parents=True)
    (folder / "profile" / "user" / "registrymodifications.xcu").write_text("<oor:items/>")
    (folder / scratch.HELD).write_bytes(b"")
    (folder / "list.xlsx").write_bytes(b"PK")
    return folder


@pytest.fixture
def temp(tmp_path, monkeypatch) -> Path:
    """The system's temporary folder of this test; LibreOffice is the stand-in."""
    base = tmp_path / "temp"
    base.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(base))
    monkeypatch.setattr(scratch, "_root", None)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "soffice").write_text(STAND_IN)
    (bin_dir / "soffice").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return base


def test_an_export_removes_what_killed_exports_left_and_nothing_else(temp, tmp_path, fy2023):
    from renkei_xl.core.pipeline import recalculate

    result = recalculate(fy2023.settings, list(fy2023.indicators), list(fy2023.entries))
    killed = _aged(_left_by_a_killed_export(temp, "renkei-xl-tmp-0123456789ab"))
    earlier = temp / "renkei_pdf_k1l2m3n4"          # a version before this one, killed the same way
    earlier.mkdir()
    (earlier / "list.xlsx").write_bytes(b"PK")
    _aged(earlier)
    just_killed = _left_by_a_killed_export(temp, "renkei-xl-tmp-ba9876543210")    # may be a run still starting
    theirs = temp / "lo_0f1e2d3c4b5a69788796a5b4c3d2e1f0"     # a LibreOffice profile of any program
    (theirs / "user").mkdir(parents=True)
    _aged(theirs)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("kept")
    _aged(elsewhere)
    (temp / "renkei-xl-tmp-link").symlink_to(elsewhere)
    with scratch.scratch_folder() as running:       # another export still converting, for an hour
        (running / "list.xlsx").write_bytes(b"PK")
        _aged(running)
        target, engine = write_pdf(result, fy2023.settings, tmp_path / "out" / "list.pdf")
        assert target.read_bytes().startswith(b"%PDF") and engine == "LibreOffice"
        assert running.is_dir() and (running / "list.xlsx").exists(), "a running export's folder was removed"
    profile = Path((tmp_path / "bin" / "soffice.profile").read_text().strip())
    # LibreOffice's profile inside the export's own folder, which went with it
    assert profile.name == "profile" and profile.parent.parent == temp, profile
    assert profile.parent.name.startswith(scratch.PREFIX) and not profile.parent.exists()
    assert not killed.exists() and not earlier.exists()
    assert sorted(p.name for p in temp.iterdir()) == sorted([just_killed.name, theirs.name, "renkei-xl-tmp-link"])
    assert (elsewhere / "keep.txt").read_text() == "kept"


def test_the_servers_own_folder_takes_pythons_temporary_files_and_sweeps_them(tmp_path, monkeypatch):
    """A worker's temporary files (openpyxl writes each sheet of a 確定版 to one) go to the
    server's own folder in its work folder (server.run.use_server_temp); a killed worker's are
    removed at the next start, a live or fresh one's kept."""
    from renkei_xl.server.config import TEMP_FOLDER
    from renkei_xl.server.run import use_server_temp

    monkeypatch.setattr(tempfile, "tempdir", tempfile.gettempdir())     # put back after the test
    monkeypatch.setattr(scratch, "_root", None)
    own = tmp_path / TEMP_FOLDER
    own.mkdir()
    killed = _aged(_left_by_a_killed_export(own, "renkei-xl-tmp-00aa11bb22cc"))
    sheet = own / "openpyxl.x1y2z3w4"           # a killed worker's sheet of openpyxl
    sheet.write_bytes(b"<worksheet/>")
    _aged(sheet)
    fresh = own / "openpyxl.q9r8s7t6"
    fresh.write_bytes(b"<worksheet/>")
    use_server_temp(tmp_path)
    assert not killed.exists() and not sheet.exists() and fresh.exists()
    fd, made = tempfile.mkstemp()
    os.close(fd)
    assert Path(made).parent == own and scratch.root() == own
    with scratch.scratch_folder() as folder:
        assert folder.parent == own

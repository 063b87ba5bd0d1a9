"""Master workbooks as real applications save them, and part-by-part package comparison.

The tool owns a few parts of the master (its sheets, the VBA project, ...); everything the
staff or another application put there must come through every write byte for byte. These
helpers produce such masters and compare packages:

- `lo_staff_edit` lets LibreOffice (through UNO) do what a staff member does in Calc:
  a comment, a shape, a chart on a sheet of their own, a picture, a defined name and a
  conditional format, then save as .xlsm or .xlsx;
- `graft_excel_sheet` adds a sheet that Microsoft Excel saved (``tests/data/excel_made/``, copies of files Excel saved, with their licence),
  with every part it links to, as a staff sheet of a master, working on the zip package;
- `lo_tool_sheet_edit` lets LibreOffice add what staff add to the tool's own sheets (comments
  on 一覧, 集計 and 検証結果, a chart of their own on 集計); `excel_formulas` gives a master staff
  formulas and the calcChain.xml Excel saves with them;
- `parts`, `reachable_parts`, `staff_sheets`, `assert_parts_identical` compare packages, and
  `package_problems` names what Excel would "repair" in one;
- `vba_modules` and `render_pdf_text` look inside (olevba) and render (LibreOffice → PDF);
  `lo_cell_values` reads the values LibreOffice shows, with and without its recalculation
  on load.

Other test modules import the helpers with ``from realbooks import ...``; the session
fixtures (`sample_master_xlsm`, `lo_master_xlsm`, `lo_master_xlsx`, `grafted_masters`,
`grafted_master`, `grafted_lo_master`) are offered to every module by tests/conftest.py.

The UNO work runs in a child process (tests/uno_job.py run as a script by the venv's Python
with Debian's UNO bridge on its path): ``uno`` replaces ``builtins.__import__`` when imported,
which should not happen inside the pytest process, and a hung LibreOffice can then be killed
cleanly.
The child connects to one headless soffice that each pytest process (each xdist worker) keeps
for all its jobs (`_Office`: started on the first job, ended with the session; a dead, hung or
unclean one is replaced), closes every document it opened and restores any option it set.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import posixpath
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path
from typing import Iterable
from urllib.parse import unquote
from xml.sax.saxutils import escape, unescape

import pytest
from defusedxml import ElementTree

# The UNO side (the jobs' child process) and what its jobs add to a book, offered here as before.
from uno_job import (CF_RANGE, CF_SHEET, CHART_NAME, COMMENT_CELL, COMMENT_SHEET, COMMENT_TEXT,  # noqa: F401
                     IMAGE_SHEET, READY_EXIT, SHAPE_SHEET, SHAPE_TEXT, STAFF_NAME, STAFF_NAME_REF, STAFF_SHEET,
                     TOOL_CHART_NAME, TOOL_CHART_SHEET, TOOL_PICTURE_NAME, TOOL_PICTURE_SHEET, TOOL_SHEET_COMMENTS,
                     TOOL_TEXT_BOX_NAME, TOOL_TEXT_BOX_SHEET, TOOL_TEXT_BOX_TEXT, UNO_PATH, _alive, tiny_png)

# Files Microsoft Excel saved (BSD 2-Clause, licence beside them), kept in the repository: CI clones only this repo.
EXCEL_MADE = Path(__file__).resolve().parent / "data" / "excel_made"
SOFFICE_TIMEOUT = 180  # seconds for one LibreOffice job on a busy 2-core machine
UNO_JOB = Path(__file__).resolve().parent / "uno_job.py"   # the script each UNO job's child runs

XLSM_FILTER = "Calc MS Excel 2007 VBA XML"
XLSX_FILTER = "Calc MS Excel 2007 XML"
STAFF_EDIT_FILTERS = ("xlsm", "xlsx")   # lo_staff_edit's filter names


NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_WORKSHEET = NS_REL + "/worksheet"


# --------------------------------------------------------------------------- building masters

def sample_master(path: Path) -> Path:
    """The FY2023 sample master exactly as `renkei-xl init PATH --sample fy2023` writes it."""
    from renkei_xl.cli.workbook import init_master

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    init_master(path, sample="fy2023")
    return path




def _soffice() -> str:
    path = shutil.which("soffice") or shutil.which("libreoffice")
    if path is None:
        raise AssertionError("LibreOffice (soffice) not found")
    return path


def _profile_url(profile: Path) -> str:
    return "file://" + str(profile.resolve())


def _pipe_files(profile_url: str, pipe: str) -> list[str]:
    """The sockets a soffice listening on ``pipe`` makes in /tmp, which it removes only when it
    ends by itself: sal's pipes are /tmp/OSL_PIPE_<uid>_<name>, one named by --accept and the
    single-instance one (officeipcthread.cxx: 「SingleOfficeIPC_」 and the MD5 of the profile's
    URL in UTF-16-LE, each byte in hex without its leading zero). Killed, as this harness ends
    every office, each run left both behind: 1,370 of them in /tmp after a day of runs."""
    digest = hashlib.md5(profile_url.encode("utf-16-le")).digest()
    single = "SingleOfficeIPC_" + "".join(format(byte, "x") for byte in digest)
    return [f"/tmp/OSL_PIPE_{os.getuid()}_{name}" for name in (pipe, single)]


# --------------------------------------------------------------------------- one soffice per process
# Starting LibreOffice costs seconds; the suite ran some fifty UNO jobs, each with a soffice of
# its own. Now each pytest process (each xdist worker) keeps one headless soffice, started on
# the first job with a profile folder under that process's pytest temp folder, and ended when
# the session ends (or, as a net, when the process exits). A job's child process closes what it
# opened and restores what it set, and checks that LibreOffice holds no document afterwards; an
# instance that died, hangs or was left unclean is killed (its process group, ours alone) and
# the next job gets a fresh one.

READY_TIMEOUT = 60   # seconds a running soffice may take to answer before it counts as hung



class _Office:
    """The headless soffice this process keeps for its UNO jobs."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.guard: subprocess.Popen | None = None
        self.pipe = ""
        self.folder: Path | None = None
        self.base: Path | None = None   # pytest's temp folder of this process, set by the session fixture
        self.owner = os.getpid()
        self.starts = 0                 # instances started by this process (tests check the sharing)
        self.pipe_files: list[str] = []  # its sockets in /tmp, removed when it is killed

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None and _alive(self.proc.pid)

    def start(self) -> None:
        """A fresh instance, with a profile folder of its own: a killed instance may have
        left its profile half written."""
        self.stop()
        if self.base is not None:
            self.base.mkdir(parents=True, exist_ok=True)
        self.folder = Path(tempfile.mkdtemp(prefix="lo_renkei_uno_", dir=self.base))
        self.pipe = f"renkei_{uuid.uuid4().hex}"
        profile = _profile_url(self.folder / "profile")
        self.pipe_files = _pipe_files(profile, self.pipe)
        self.proc = subprocess.Popen(
            [_soffice(), "--headless", "--invisible", "--nologo", "--norestore", "--nodefault",
             "--nolockcheck", f"-env:UserInstallation={profile}", f"--accept=pipe,name={self.pipe};urp;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.guard = subprocess.Popen([sys.executable, "-I", "-S", "-c", _GUARD, str(self.proc.pid),
                                       *self.pipe_files],
                                      stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, start_new_session=True)
        self.starts += 1

    def stop(self) -> None:
        """Kill the whole process group (oosplash and soffice.bin; started in a session of its
        own, so nobody else's) at once: the profile is thrown away, nothing needs saving."""
        if self.guard is not None and os.getpid() == self.owner:
            self.guard.kill()           # before the group goes: it must not fire on a reused id
            self.guard.wait()
            self.guard.stdin.close()
        self.guard = None
        if self.proc is not None and os.getpid() == self.owner:
            _kill_group(self.proc)
            for name in self.pipe_files:
                with contextlib.suppress(OSError):
                    os.unlink(name)
        self.proc = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


# Kills the office's process group when this process dies without ending it (SIGTERM or SIGKILL
# skip the session's end and atexit): its stdin is a pipe only this process holds open.
_GUARD = """import os, signal, sys
sys.stdin.buffer.read()
try:
    os.killpg(int(sys.argv[1]), signal.SIGKILL)
except OSError:
    pass
for name in sys.argv[2:]:
    try:
        os.unlink(name)
    except OSError:
        pass
"""

_OFFICE = _Office()


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:   # unkillable (D state): nothing more we can do
        pass


def _end_office() -> None:
    if os.getpid() == _OFFICE.owner:
        _OFFICE.stop()


atexit.register(_end_office)   # the net under the session fixture: also a run that is interrupted


@pytest.fixture(scope="session", autouse=True)
def _uno_office_session(tmp_path_factory):
    """Puts this process's soffice profile under its pytest temp folder and ends that soffice
    when the session ends, passed or failed. Starts nothing: the first UNO job does."""
    _OFFICE.base = tmp_path_factory.getbasetemp() / "lo_uno"
    yield
    _end_office()


def _run_uno_job(job: dict, timeout: float = SOFFICE_TIMEOUT, ready_timeout: float = READY_TIMEOUT) -> dict:
    """Run `job` in a child process connected to this process's soffice (started here when
    there is none, or none alive). Returns the child's JSON answer; raises AssertionError with
    its stderr. An office that does not answer within `ready_timeout`, or that the child finds
    holding a document, is replaced and the job run once more on the fresh one; after a job
    that failed or timed out the office is killed, so the next job starts clean."""
    fresh = not _OFFICE.running()
    if fresh:
        _OFFICE.start()
    answer = _uno_attempt(job, timeout, None if fresh else ready_timeout)
    if answer is None:              # the office we had was dead, hung or unclean: a fresh one
        _OFFICE.start()
        answer = _uno_attempt(job, timeout, None)
    return answer


def _uno_attempt(job: dict, timeout: float, ready_timeout: float | None) -> dict | None:
    """One run of the child against the current office. None when the office proved unusable
    before the job began (only checked for an office reused from earlier jobs)."""
    tmp = Path(tempfile.mkdtemp(prefix="lo_renkei_job_", dir=_OFFICE.base))
    ready = tmp / "ready"
    job = dict(job, pipe=_OFFICE.pipe, tmp=str(tmp), soffice_pid=_OFFICE.proc.pid, ready=str(ready))
    child = subprocess.Popen([sys.executable, str(UNO_JOB)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, encoding="utf-8")
    start = time.monotonic()
    ok = False
    try:
        payload = json.dumps(job, ensure_ascii=False)
        while True:     # in slices, to see the office answer (or not) well before the job's end
            try:
                out, err = child.communicate(payload, timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                payload = None
                waited = time.monotonic() - start
                if ready_timeout is not None and waited > ready_timeout and not ready.exists():
                    return None
                if waited > timeout:
                    child.kill()
                    err = child.communicate()[1]
                    raise AssertionError(f"UNO job {job['kind']} took longer than {timeout} s:\n"
                                         f"{err[-4000:]}") from None
        if child.returncode == READY_EXIT and ready_timeout is not None:
            return None
        if child.returncode != 0:
            raise AssertionError(f"UNO job {job['kind']} failed (exit {child.returncode}):\n{err[-4000:]}")
        ok = True
        return json.loads(out)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
        if not ok:
            _OFFICE.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def lo_staff_edit(src: Path, dst: Path, *, filter: str = "xlsm") -> Path:
    """Let LibreOffice do what a staff member does in Calc, then save as .xlsm or .xlsx.

    Adds: a comment on 小樽市!B2, a rectangle with text on 指標, a new sheet 「メモ」 with a
    few numbers and a chart of them, a picture on 設定, the workbook name 担当者メモ → メモ!$A$1
    and a cell-value conditional format on 小樽市!D2:D8 (単位, not an input column).
    ``filter="xlsm"`` saves with "Calc MS Excel 2007 VBA XML" (keeps the VBA project),
    ``filter="xlsx"`` with "Calc MS Excel 2007 XML".
    """
    return lo_staff_edits(src, {filter: dst})[filter]


def lo_staff_edits(src: Path, saves: dict[str, Path]) -> dict[str, Path]:
    """`lo_staff_edit` once, saved with each filter of ``saves`` ({"xlsm": dst, "xlsx": dst}):
    one LibreOffice start and one edit for both files (storeToURL leaves the document as it
    was, so each save is what a run of its own would write)."""
    for filter in saves:
        if filter not in STAFF_EDIT_FILTERS:
            raise ValueError(f"filter must be 'xlsm' or 'xlsx', not {filter!r}")
    src = Path(src).resolve()
    if not src.is_file():
        raise FileNotFoundError(src)
    saves = {filter: Path(dst).resolve() for filter, dst in saves.items()}
    for dst in saves.values():
        dst.parent.mkdir(parents=True, exist_ok=True)
        if dst.exists():
            dst.unlink()
    _run_uno_job({"kind": "staff_edit", "src": str(src),
                  "saves": [[str(dst), XLSM_FILTER if filter == "xlsm" else XLSX_FILTER]
                            for filter, dst in saves.items()]})
    for dst in saves.values():
        if not dst.exists():
            raise AssertionError(f"LibreOffice did not write {dst}")
    return saves




def lo_tool_sheet_edit(src: Path, dst: Path) -> Path:
    """Let LibreOffice do what staff do to the sheets the tool owns: a comment on 一覧, 集計 and
    検証結果 each, a chart of their own on 集計 (of its first columns), a picture on 一覧 and a
    text box on 集計; then save ``dst`` (.xlsx or .xlsm, by its suffix)."""
    return lo_tool_sheet_edits(src, [dst])[0]


def lo_tool_sheet_edits(src: Path, dsts: Iterable[Path]) -> list[Path]:
    """`lo_tool_sheet_edit` once, saved as each of ``dsts`` (.xlsx or .xlsm, by its suffix): one
    load and one edit for all, as staff who save a book twice in one Calc session. Not byte for
    byte what a run of its own would write after the first save: LibreOffice's export gives the
    document one more number format ("General"), which later saves carry in styles.xml and on
    boolean cells (s=); its chart part numbers and x14 ids differ from save to save anyway."""
    dsts = [Path(dst).resolve() for dst in dsts]
    for dst in dsts:
        dst.unlink(missing_ok=True)
    _run_uno_job({"kind": "tool_sheets", "src": str(Path(src).resolve()),
                  "saves": [[str(dst), XLSM_FILTER if dst.suffix.lower() == ".xlsm" else XLSX_FILTER] for dst in dsts]})
    for dst in dsts:
        if not dst.exists():
            raise AssertionError(f"LibreOffice did not write {dst}")
    return dsts


def lo_form_control(src: Path, dst: Path, sheet: str, label: str) -> Path:
    """Let LibreOffice put a form check box labelled ``label`` on ``sheet`` (a 2010 form
    control: its VML shape, <controls> and xl/ctrlProps, a DrawingML copy); save ``dst``."""
    dst = Path(dst).resolve()
    dst.unlink(missing_ok=True)
    _run_uno_job({"kind": "form_control", "src": str(Path(src).resolve()), "dst": str(dst), "sheet": sheet,
                  "label": label, "filter": XLSM_FILTER if dst.suffix.lower() == ".xlsm" else XLSX_FILTER})
    if not dst.exists():
        raise AssertionError(f"LibreOffice did not write {dst}")
    return dst


def lo_rows_edit(src: Path, dst: Path, sheet: str, *, sort: str = "", remove_row: int = 0,
                 insert_row: int = 0, sort_header: bool = True, unprotect: bool = False) -> Path:
    """Let LibreOffice do what staff do to a sheet's rows in Calc, then save ``dst`` (.xlsx
    or .xlsm, by its suffix): ``sort`` a range (「A1:G8」, its first row the header) by its
    first column, descending (データ → 並べ替え); with ``sort_header=False`` ascending and
    「範囲に列見出しを含む」 unticked, the header row sorted in among the rows;
    ``remove_row`` delete a whole row (1-based, 行の削除); ``insert_row`` insert an empty
    row there (行の挿入). ``unprotect``: lift the sheet's protection first (an input file's has
    no password: ツール → シートの保護 unticked)."""
    dst = Path(dst).resolve()
    dst.unlink(missing_ok=True)
    data = Path(src).read_bytes()
    key = (hashlib.sha256(data).hexdigest(), sheet, sort, remove_row, insert_row, sort_header, unprotect,
           dst.suffix.lower())
    done = _ROWS_EDITED.get(key)
    if done is not None and hashlib.sha256(done.read_bytes()).hexdigest() == _ROWS_EDITED_DIGEST[key]:
        dst.parent.mkdir(parents=True, exist_ok=True)   # as LibreOffice's save makes it
        shutil.copyfile(done, dst)      # the same edit of the same bytes, saved before in this process
        return dst
    _run_uno_job({"kind": "rows", "src": str(Path(src).resolve()), "dst": str(dst), "sheet": sheet,
                  "sort": sort, "sort_header": sort_header, "remove_row": remove_row, "insert_row": insert_row,
                  "unprotect": unprotect,
                  "filter": XLSM_FILTER if dst.suffix.lower() == ".xlsm" else XLSX_FILTER})
    if not dst.exists():
        raise AssertionError(f"LibreOffice did not write {dst}")
    if not _ROWS_EDITED:
        _ROWS_EDITED_DIR.append(Path(tempfile.mkdtemp(prefix="lo_rows_edited_")))
        atexit.register(shutil.rmtree, _ROWS_EDITED_DIR[0], True)
    kept = _ROWS_EDITED_DIR[0] / f"{len(_ROWS_EDITED)}{dst.suffix}"
    shutil.copyfile(dst, kept)
    _ROWS_EDITED[key], _ROWS_EDITED_DIGEST[key] = kept, hashlib.sha256(kept.read_bytes()).hexdigest()
    return dst


# lo_rows_edit's saves by (the source's digest, the edit, the suffix): tests that make the
# same edit in Calc of the same file (test_cycle's row deleted from a fresh cycle master)
# get a copy of the first save, not another LibreOffice run (a second or more each).
_ROWS_EDITED: dict[tuple, Path] = {}
_ROWS_EDITED_DIGEST: dict[tuple, str] = {}
_ROWS_EDITED_DIR: list[Path] = []


def lo_formulas_edit(src: Path, dst: Path, formulas: dict[tuple[str, str], str]) -> Path:
    """Let LibreOffice type ``formulas`` into cells as staff type them in Calc
    ({("小樽市", "E2"): "=1/0"}, English function names), then save ``dst`` (.xlsx or .xlsm,
    by its suffix): Calc computes each and saves its result with it, an error value as
    Excel's code (its own Err:5xx as the nearest of Excel's seven)."""
    dst = Path(dst).resolve()
    dst.unlink(missing_ok=True)
    _run_uno_job({"kind": "formulas", "src": str(Path(src).resolve()), "dst": str(dst),
                  "formulas": [[sheet, ref, f] for (sheet, ref), f in formulas.items()],
                  "filter": XLSM_FILTER if dst.suffix.lower() == ".xlsm" else XLSX_FILTER})
    if not dst.exists():
        raise AssertionError(f"LibreOffice did not write {dst}")
    return dst


def lo_cell_values(path: Path, cells: Iterable[tuple[str, str]]) -> dict[str, list]:
    """The values LibreOffice shows in ``cells`` ((sheet, "A1") pairs) of ``path`` opened
    read-only, under each choice of its 「Recalculation on file load」 for Excel 2007 and
    newer (Tools → Options → Calc → Formula; officecfg Calc/Formula/Load/OOXMLRecalcMode):
    {"never": …, "always": …}. "never" is LibreOffice's default: a formula shows the result
    the file carries, whatever calcPr asks (its oox import reads no fullCalcOnLoad).
    "always": every formula computed from the cells as the file holds them."""
    answer = _run_uno_job({"kind": "cell_values", "path": str(Path(path).resolve()),
                           "cells": [list(cell) for cell in cells], "modes": {"never": 1, "always": 0}})
    return answer["values"]


def lo_inspect(paths: Iterable[Path], pdfs: dict[Path, Path] | None = None) -> list[dict]:
    """Open each workbook in one LibreOffice session (hidden, read-only) and report what
    Calc sees: {"path", "loaded", "sheets": {name: {"shapes", "annotations", "charts",
    "strings"}}, "names"}. A file LibreOffice cannot load has loaded=False.

    ``pdfs`` ({book: pdf}): those books are also stored as PDF (`lo_convert`'s PDF_FILTER)
    from the document opened here, before it is read: `lo_convert` would open the same bytes
    again, as it opens them (hidden, read-only, no macros run), for the same PDF (0.7 s of
    LibreOffice a master)."""
    pdfs = {str(Path(book).resolve()): str(Path(pdf).resolve()) for book, pdf in (pdfs or {}).items()}
    for pdf in pdfs.values():
        Path(pdf).parent.mkdir(parents=True, exist_ok=True)
        Path(pdf).unlink(missing_ok=True)
    books = _run_uno_job({"kind": "inspect", "paths": [str(Path(p).resolve()) for p in paths], "pdfs": pdfs,
                          "pdf_filter": PDF_FILTER})["books"]
    for pdf in pdfs.values():
        if not Path(pdf).is_file():
            raise AssertionError(f"LibreOffice did not write {pdf}")
    return books


PDF_FILTER = "calc_pdf_Export"     # what ``soffice --convert-to pdf`` takes for a spreadsheet


# Calc's 「テキスト CSV」 as staff save a sheet from it: comma, quote, UTF-8 (76), from line 1.
CSV_FILTER, CSV_UTF8 = "Text - txt - csv (StarCalc)", "44,34,76,1"


def lo_convert(src: Path, dst: Path, filter: str = PDF_FILTER, options: str = "", sheet: str = "") -> Path:
    """``soffice --convert-to`` in this process's running office: ``src`` opened as
    LibreOffice opens a file (hidden, read-only, no macros run) and stored as ``dst`` with
    ``filter`` (PDF_FILTER, XLSX_FILTER, XLSM_FILTER, CSV_FILTER), the default options of each
    or ``options`` (its FilterOptions: CSV_UTF8; the default CSV is in the system's encoding). A
    ``soffice --convert-to`` with a profile of its own started LibreOffice for each file
    (~2 s of CPU); the office here is shared by the process's UNO jobs. A file LibreOffice
    cannot load, or a store that fails, raises AssertionError.

    ``sheet`` (PDF only): the pages of that sheet alone (FilterData Selection), laid out as in
    the whole book's PDF: the sample master's 一覧 page came out pixel for pixel the same but for
    the footer's 「n / m」 and a legend line's glyphs, shifted by under 0.1 pt. A test that reads
    one sheet's page had LibreOffice draw every sheet of the master (27 pages, ~2.5 CPU-s)."""
    if sheet:
        assert filter == PDF_FILTER and not options, "a sheet's pages alone are PDF's"
        return lo_convert_sheets(src, {sheet: dst})[sheet]
    dst = Path(dst).resolve()
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.unlink(missing_ok=True)
    _run_uno_job({"kind": "convert", "src": str(Path(src).resolve()), "dst": str(dst), "filter": filter,
                  "options": options})
    if not dst.is_file():
        raise AssertionError(f"LibreOffice did not write {dst}")
    return dst


def lo_convert_sheets(src: Path, pdfs: dict[str, Path]) -> dict[str, Path]:
    """`lo_convert`'s ``sheet`` PDF of each sheet of ``pdfs`` ({sheet: pdf}), from one open of
    ``src``: a test module that reads a few sheets' pages opened the master once for each, or
    had LibreOffice draw every sheet."""
    pdfs = {sheet: Path(pdf).resolve() for sheet, pdf in pdfs.items()}
    for pdf in pdfs.values():
        pdf.parent.mkdir(parents=True, exist_ok=True)
        pdf.unlink(missing_ok=True)
    _run_uno_job({"kind": "convert", "src": str(Path(src).resolve()), "filter": PDF_FILTER,
                  "sheets": [[sheet, str(pdf)] for sheet, pdf in pdfs.items()]})
    for pdf in pdfs.values():
        if not pdf.is_file():
            raise AssertionError(f"LibreOffice did not write {pdf}")
    return pdfs


def lo_probe(probe: str, path: Path, *args, read_only: bool = True) -> dict:
    """The JSON answer of ``probe`` (the module tests/uno_probe.py or tests/uno_input_probe.py)
    on ``path`` opened in the soffice this process keeps: a private soffice per probe was a
    LibreOffice start (1.5–2 CPU-s) each, for what one open document shows."""
    return _run_uno_job({"kind": "probe", "probe": probe, "path": str(Path(path).resolve()),
                         "read_only": read_only, "args": list(args)})


# --------------------------------------------------------------------------- package reading

def parts(path: Path) -> dict[str, bytes]:
    """Every zip member name → its uncompressed bytes (directories left out)."""
    with zipfile.ZipFile(path) as z:
        return {info.filename: z.read(info) for info in z.infolist() if not info.is_dir()}


def rels_name(part: str) -> str:
    """The relationships part of `part`: xl/workbook.xml → xl/_rels/workbook.xml.rels."""
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def resolve_target(source: str, target: str) -> str:
    """The part name a relationship target of `source` points at (relative or absolute)."""
    target = unquote(target)
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def relationships(pkg: dict[str, bytes], part: str) -> list[dict[str, str]]:
    """The relationships of `part` as attribute dicts (Id, Type, Target, TargetMode)."""
    data = pkg.get(rels_name(part))
    if data is None:
        return []
    root = ElementTree.fromstring(data)
    return [dict(rel.attrib) for rel in root.iter(f"{{{NS_PKG_REL}}}Relationship")]


def _internal(rel: dict) -> bool:
    return rel.get("TargetMode", "Internal") != "External"


def workbook_part(pkg: dict[str, bytes]) -> str:
    """The workbook part, found through the package relationships (_rels/.rels)."""
    for rel in relationships(pkg, ""):
        if rel["Type"].endswith("/officeDocument") and _internal(rel):
            return resolve_target("", rel["Target"])
    return "xl/workbook.xml"


def sheet_parts(pkg: dict[str, bytes]) -> dict[str, str]:
    """Sheet name → sheet part, in the order of workbook.xml (worksheets and chart sheets)."""
    wb = workbook_part(pkg)
    targets = {rel["Id"]: resolve_target(wb, rel["Target"]) for rel in relationships(pkg, wb)}
    root = ElementTree.fromstring(pkg[wb])
    sheets = root.find(f"{{{NS_MAIN}}}sheets")
    return {s.get("name"): targets[s.get(f"{{{NS_REL}}}id")] for s in sheets}


def walk_parts(pkg: dict[str, bytes], starts: Iterable[str]) -> list[str]:
    """Parts reachable from `starts` through internal relationships, breadth first,
    each followed by its .rels part when it has one."""
    seen, order, queue = set(), [], list(starts)
    while queue:
        part = queue.pop(0)
        if part in seen or part not in pkg:
            continue
        seen.add(part)
        order.append(part)
        if rels_name(part) in pkg:
            order.append(rels_name(part))
            seen.add(rels_name(part))
        queue.extend(resolve_target(part, rel["Target"])
                     for rel in relationships(pkg, part) if _internal(rel))
    return order


def reachable_parts(path: Path, sheets: Iterable[str]) -> set[str]:
    """The parts reachable from the named sheets: each sheet part, its .rels part, and
    recursively every part their internal relationships point at (with its .rels)."""
    pkg = parts(path)
    by_name = sheet_parts(pkg)
    missing = [s for s in sheets if s not in by_name]
    if missing:
        raise KeyError(f"no sheet {missing} in {path} (sheets: {list(by_name)})")
    return set(walk_parts(pkg, [by_name[s] for s in sheets]))


def staff_sheets(path: Path, owned: Iterable[str]) -> list[str]:
    """The sheet names of the workbook, in tab order, except the tool-owned ones.
    Chart sheets count too: they belong to the staff like any other sheet."""
    owned = set(owned)
    return [name for name in sheet_parts(parts(path)) if name not in owned]


def package_problems(path: Path) -> list[str]:
    """Faults Excel meets with 「一部の内容に問題が見つかりました。修復しますか?」 (ECMA-376 Part 2,
    OPC, and what Excel checks of SpreadsheetML on load): dangling internal relationship targets,
    parts without a content type, Overrides naming absent parts, part names differing only in
    case, duplicate relationship ids or sheet names/ids, a sheet of workbook.xml without its
    relationship, a defined name on an absent sheet, an r:id (or VML o:relid) of any part missing
    from that part's relationships, a calcChain.xml entry on a cell holding no formula (or on an
    absent sheet: Excel "removes records" from it), and docProps/app.xml vectors whose counts
    disagree (Excel then removes the whole part). An empty list means none was found."""
    with zipfile.ZipFile(path) as z:
        names = [i.filename for i in z.infolist() if not i.is_dir()]
    pkg = parts(path)
    problems = []
    lowered = [n.lower() for n in names]
    problems += [f"duplicate part name {n}" for n in sorted({n for n in lowered if lowered.count(n) > 1})]
    types = _content_types(pkg)
    for name in names:
        if name != "[Content_Types].xml" and _content_type(types, name)[0] is None:
            problems.append(f"no content type for {name}")
    present = set(lowered)
    problems += [f"Override for absent part {o}" for o in types[1] if o.lstrip("/") not in present]
    for name in names:
        if not name.endswith(".rels"):
            continue
        source = posixpath.join(posixpath.dirname(posixpath.dirname(name)), posixpath.basename(name)[:-5])
        rels = relationships(pkg, source)
        ids = [r["Id"] for r in rels]
        problems += [f"{name}: duplicate Id {i}" for i in sorted({i for i in ids if ids.count(i) > 1})]
        problems += [f"{name}: {r['Id']} → missing {resolve_target(source, r['Target'])}"
                     for r in rels if _internal(r) and resolve_target(source, r["Target"]).lower() not in present]
    problems += _relationship_id_problems(pkg)
    wb = workbook_part(pkg)
    root = ElementTree.fromstring(pkg[wb])
    sheets = list(root.find(f"{{{NS_MAIN}}}sheets"))
    for attr in ("name", "sheetId"):
        values = [s.get(attr).lower() for s in sheets]
        problems += [f"duplicate sheet {attr} {v}" for v in sorted({v for v in values if values.count(v) > 1})]
    problems += _defined_name_problems(root, [s.get("name") for s in sheets])
    problems += _calc_chain_problems(pkg, wb, sheets)
    problems += _app_properties_problems(pkg)
    problems += _table_reference_problems(pkg, root)
    return problems


NS_OFFICE = "urn:schemas-microsoft-com:office:office"   # VML's o:relid


def _relationship_id_problems(pkg: dict[str, bytes]) -> list[str]:
    """Every r:… attribute (drawing, legacyDrawing, tablePart, hyperlink, picture, a blip's
    r:embed, a chart's r:id, control, oleObject …) and VML o:relid of an XML part names an Id
    of that part's relationships."""
    problems = []
    for name, data in pkg.items():
        if name.endswith(".rels") or not _is_xml(name, data) or name == "[Content_Types].xml":
            continue
        have = frozenset(r["Id"] for r in relationships(pkg, name))
        key = (name, hashlib.sha256(data).digest(), have)
        if key not in _PART_RELATIONSHIP_ID_PROBLEMS:
            if len(_PART_RELATIONSHIP_ID_PROBLEMS) > 50_000:
                _PART_RELATIONSHIP_ID_PROBLEMS.clear()
            _PART_RELATIONSHIP_ID_PROBLEMS[key] = tuple(_part_relationship_id_problems(name, have, data))
        problems += _PART_RELATIONSHIP_ID_PROBLEMS[key]
    return problems


# A part's faults by (name, digest of its bytes, its relationships' Ids), found once per process:
# the same sheets and drawings come back in every file a test checks after each command, and
# parsing them all again was most of package_problems' time. The digest stands for the bytes,
# which are not held.
_PART_RELATIONSHIP_ID_PROBLEMS: dict[tuple, tuple[str, ...]] = {}


def _part_relationship_id_problems(name: str, have: frozenset, data: bytes) -> list[str]:
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        if name.endswith(".vml"):   # VML as Office writes it is not always well-formed XML
            ids = set(re.findall(r'o:relid="([^"]*)"', data.decode("utf-8", "replace")))
            return [f"{name}: o:relid {i} not in {rels_name(name)}" for i in sorted(ids - have)]
        return [f"{name}: not well-formed XML"]
    problems = []
    for element in root.iter():
        for key, value in element.attrib.items():
            if (key.startswith(f"{{{NS_REL}}}") or key == f"{{{NS_OFFICE}}}relid") and value and value not in have:
                tag = element.tag.rsplit("}", 1)[-1]
                problems.append(f"{name}: <{tag}> {key.rsplit('}', 1)[-1]}={value} not in {rels_name(name)}")
    return problems


_SHEET_IN_FORMULA = re.compile(r"(?:'((?:[^']|'')+)'|([^\s'!,()=+\-*/&^<>:;{}\[\]\"]+))!")


def _defined_name_problems(workbook: "ElementTree.Element", sheet_names: list[str]) -> list[str]:
    """A defined name (print titles and areas included) whose localSheetId or formula names a
    sheet the workbook lacks: Excel repairs the name away."""
    problems = []
    known = {n.lower() for n in sheet_names}
    names = workbook.find(f"{{{NS_MAIN}}}definedNames")
    for dn in (names if names is not None else []):
        label = dn.get("name")
        local = dn.get("localSheetId")
        if local is not None and not (local.isdigit() and int(local) < len(sheet_names)):
            problems.append(f"defined name {label}: localSheetId {local} of {len(sheet_names)} sheets")
        text = re.sub(r'"[^"]*"', "", dn.text or "")
        for quoted, bare in _SHEET_IN_FORMULA.findall(text):
            sheet = quoted.replace("''", "'") if quoted else bare
            if sheet.startswith("[") or sheet.lower() in known or sheet == "#REF":
                continue
            problems.append(f"defined name {label}: sheet {sheet!r} absent ({dn.text})")
    return problems


def _table_reference_problems(pkg: dict[str, bytes], workbook: "ElementTree.Element") -> list[str]:
    """Each structured reference (「予算表[金額]」) of a formula (a cell's, a conditional
    format's, a validation's) or a defined name names a table the book has: Excel cannot read
    one naming no table, and repairs the file by removing the formula (or the name)."""
    import html
    from renkei_xl.package.tables import table_refs

    tables = set()
    for name, data in pkg.items():
        if re.fullmatch(r"xl/tables/[^/]+\.xml", name):
            m = re.search(rb'<(?:\w+:)?table\b[^>]*?\sdisplayName="([^"]*)"', data)
            if m:
                tables.add(html.unescape(m.group(1).decode()).lower())
    formulas = [(f"definedName {d.get('name')}", d.text or "") for d in workbook.iter(f"{{{NS_MAIN}}}definedName")]
    for name, data in pkg.items():
        if name.startswith(("xl/worksheets/", "xl/tables/")) and name.endswith(".xml") and b"[" in data:
            formulas += [(name, html.unescape(f.decode())) for f in
                         re.findall(rb"<((?:[\w.-]+:)?(?:f|formula|formula1|formula2|calculatedColumnFormula|"
                                    rb"totalsRowFormula))(?:\s[^>]*)?>([^<]*)</\1>", data)
                         for f in [f[1]] if b"[" in f]
    problems = [f"{where}: {formula} names no table of the book" for where, formula in formulas
                if any(ref.lower() not in tables for _s, _e, ref in table_refs(formula))]
    # A slicer cache of a table names it by id: one naming no table is repaired away.
    ids = {m.group(1) for name, data in pkg.items() if re.fullmatch(r"xl/tables/[^/]+\.xml", name)
           for m in [re.search(rb'<(?:\w+:)?table\b[^>]*?\sid="([^"]*)"', data)] if m}
    for name, data in pkg.items():
        if name.startswith("xl/slicerCaches/") and name.endswith(".xml"):
            problems += [f"{name}: tableId {i.decode()} names no table of the book"
                         for i in re.findall(rb'<(?:[\w.-]+:)?tableSlicerCache\b[^>]*?\stableId="([^"]*)"', data)
                         if i not in ids]
    return problems


def _calc_chain_problems(pkg: dict[str, bytes], wb: str, sheets: list) -> list[str]:
    """Each cell of calcChain.xml holds a formula on an existing sheet (i = sheetId, carried over
    from the previous entry when left out)."""
    chain = next((resolve_target(wb, r["Target"]) for r in relationships(pkg, wb)
                  if r["Type"].endswith("/calcChain")), None)
    if chain is None or chain not in pkg:
        return []
    targets = {r["Id"]: resolve_target(wb, r["Target"]) for r in relationships(pkg, wb)}
    by_id = {s.get("sheetId"): targets.get(s.get(f"{{{NS_REL}}}id")) for s in sheets}
    formulas: dict[str, set[str]] = {}
    problems, sheet_id = [], None
    for entry in ElementTree.fromstring(pkg[chain]).iter(f"{{{NS_MAIN}}}c"):
        sheet_id = entry.get("i", sheet_id)
        part = by_id.get(sheet_id)
        if part is None or part not in pkg:
            problems.append(f"{chain}: {entry.get('r')} on absent sheetId {sheet_id}")
            continue
        if part not in formulas:
            formulas[part] = {c.get("r") for c in ElementTree.fromstring(pkg[part]).iter(f"{{{NS_MAIN}}}c")
                              if c.find(f"{{{NS_MAIN}}}f") is not None}
        if entry.get("r") not in formulas[part]:
            problems.append(f"{chain}: {entry.get('r')} of sheetId {sheet_id} holds no formula")
    return problems


NS_VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
NS_EXT_PROPS = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"


def _app_properties_problems(pkg: dict[str, bytes]) -> list[str]:
    """docProps/app.xml's vectors: each size attribute counts its children, and the counts of
    HeadingPairs add up to the titles of TitlesOfParts (a mismatch makes Excel remove the part:
    troldal/OpenXLSX#220). Stale titles alone Excel rewrites on its next save, silently."""
    app = next((resolve_target("", r["Target"]) for r in relationships(pkg, "")
                if r["Type"].endswith("/extended-properties")), None)
    if app is None or app not in pkg:
        return []
    root = ElementTree.fromstring(pkg[app])
    problems = []
    vectors = {}
    for tag in ("HeadingPairs", "TitlesOfParts"):
        holder = root.find(f"{{{NS_EXT_PROPS}}}{tag}")
        vector = holder.find(f"{{{NS_VT}}}vector") if holder is not None else None
        if vector is None:
            continue
        vectors[tag] = list(vector)
        if int(vector.get("size", -1)) != len(vector):
            problems.append(f"{app}: {tag} size {vector.get('size')} with {len(vector)} entries")
    if "HeadingPairs" in vectors and "TitlesOfParts" in vectors:
        counts = [v.find(f"{{{NS_VT}}}i4") for v in vectors["HeadingPairs"]]
        total = sum(int(c.text) for c in counts if c is not None)
        if total != len(vectors["TitlesOfParts"]):
            problems.append(f"{app}: HeadingPairs count {total} titles, TitlesOfParts holds "
                            f"{len(vectors['TitlesOfParts'])}")
    return problems


def _is_xml(name: str, data: bytes) -> bool:
    return name.endswith((".xml", ".rels", ".vml")) or data.lstrip()[:1] == b"<"


def _first_difference(a: bytes, b: bytes, context: int = 80) -> str:
    n = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    lo = max(0, n - context // 2)
    return (f"first difference at byte {n} (sizes {len(a)} → {len(b)}):\n"
            f"      before: {a[lo:n + context // 2]!r}\n"
            f"      after:  {b[lo:n + context // 2]!r}")


def assert_parts_identical(before: Path, after: Path, names: Iterable[str]) -> None:
    """Each named part exists in both packages with the same bytes; on failure the message
    lists every missing or differing part, with the first difference of XML parts."""
    a, b = parts(before), parts(after)
    problems = []
    for name in sorted(set(names)):
        if name not in a or name not in b:
            where = " and ".join(w for w, pkg in (("before", a), ("after", b)) if name not in pkg)
            problems.append(f"  {name}: missing {where}")
        elif a[name] != b[name]:
            detail = (_first_difference(a[name], b[name]) if _is_xml(name, a[name])
                      else f"binary, sizes {len(a[name])} → {len(b[name])}")
            problems.append(f"  {name}: differs, {detail}")
    if problems:
        raise AssertionError(f"{len(problems)} part(s) not byte-identical between {before} and "
                             f"{after}:\n" + "\n".join(problems))


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLEVBA_READ: dict[bytes, tuple[bool, dict[str, str]]] = {}   # digest of a package's OLE parts → olevba's reading


def _ole_parts_digest(path: Path) -> bytes | None:
    """A digest of every part of the zip package at `path` that starts as an OLE file, with its
    name, in the package's order: exactly what olevba's open_openxml reads of a package for VBA
    (it looks in every OLE part). None when `path` is not a zip package or has no OLE part
    (read afresh: nothing then to key on)."""
    if not zipfile.is_zipfile(path):
        return None
    digest, found = hashlib.sha256(), False
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            with z.open(name) as part:
                if part.read(len(OLE_MAGIC)) != OLE_MAGIC:
                    continue
            found = True
            digest.update(name.encode() + b"\0" + hashlib.sha256(z.read(name)).digest())
    return digest.digest() if found else None


def olevba_read(path: Path) -> tuple[bool, dict[str, str]]:
    """(whether olevba detects VBA macros, VBA module name → source code as it decompresses
    them) for the book at `path`. olevba's pure-Python decompression costs about 0.3 s a master,
    and many tests read the same project (a fixture's master, a graft or write that must leave
    the project byte for byte): its reading is kept per process, keyed by the bytes of the
    package's OLE parts, so the same bytes are read once and any changed byte is read afresh."""
    from oletools.olevba import VBA_Parser

    key = _ole_parts_digest(path)
    if key is not None and key in _OLEVBA_READ:
        detected, modules = _OLEVBA_READ[key]
        return detected, dict(modules)
    parser = VBA_Parser(str(path))
    try:
        detected = bool(parser.detect_vba_macros())
        modules = {stream.split("/")[-1]: code for _, stream, _, code in parser.extract_macros()} if detected else {}
    finally:
        parser.close()
    if key is not None:
        _OLEVBA_READ[key] = (detected, dict(modules))
    return detected, modules


def vba_modules(path: Path) -> dict[str, str]:
    """VBA module name → source code, as oletools' olevba decompresses it from the project
    (`olevba_read`); none when olevba finds no VBA."""
    return olevba_read(path)[1]


def render_pdf_text(path: Path, outdir: Path) -> str:
    """Convert `path` to PDF with LibreOffice (`lo_convert`) and return `pdftotext -layout`
    of it. Conversion failures raise AssertionError."""
    path, outdir = Path(path).resolve(), Path(outdir).resolve()
    return pdf_text(lo_convert(path, outdir / (path.stem + ".pdf")))


def pdf_text(pdf: Path) -> str:
    """`pdftotext -layout` of ``pdf`` (a PDF LibreOffice wrote: `render_pdf_text`, `lo_inspect`)."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True)
    if text.returncode != 0:
        raise AssertionError(f"pdftotext failed on {pdf}: {text.stderr}")
    return text.stdout


# --------------------------------------------------------------------------- grafting

def _attr(value: str) -> str:
    return escape(value, {'"': "&quot;"})


def _drop_attr(attrs: str, name: str) -> str:
    return re.sub(rf"""\s{name}\s*=\s*("[^"]*"|'[^']*')""", "", attrs)


def _fresh_name(taken: set[str], name: str) -> str:
    """`name` if no part has it (part names compare case-insensitively), else the same
    folder and stem with the next free number: xl/media/image1.png → xl/media/image7.png."""
    if name.lower() not in taken:
        return name
    folder, base = posixpath.split(name)
    stem, _, ext = re.match(r"(.*?)(\d*)(\.[^.]*)?$", base).groups()
    ext = ext or ""
    pattern = re.compile(re.escape(posixpath.join(folder, stem).lower()) + r"(\d+)" + re.escape(ext.lower()) + "$")
    used = [int(m.group(1)) for m in map(pattern.match, taken) if m]
    return posixpath.join(folder, f"{stem}{max(used, default=0) + 1}{ext}")


def _content_types(pkg: dict[str, bytes]) -> tuple[dict[str, str], dict[str, str]]:
    """(Default extension → type, Override part name → type), keys lower-cased."""
    root = ElementTree.fromstring(pkg["[Content_Types].xml"])
    defaults = {e.get("Extension").lower(): e.get("ContentType") for e in root.iter(f"{{{NS_CT}}}Default")}
    overrides = {e.get("PartName").lower(): e.get("ContentType") for e in root.iter(f"{{{NS_CT}}}Override")}
    return defaults, overrides


def _content_type(types, part: str) -> tuple[str | None, bool]:
    """(content type of `part`, whether it came from an Override)."""
    defaults, overrides = types
    if "/" + part.lower() in overrides:
        return overrides["/" + part.lower()], True
    return defaults.get(_extension(part)), False


def _extension(part: str) -> str:
    """The extension the package's Default elements match ("_rels/.rels" → "rels")."""
    base = posixpath.basename(part)
    return base.rsplit(".", 1)[1].lower() if "." in base else ""


def _shared_strings(pkg: dict[str, bytes]) -> list[str]:
    """The inner XML of each <si> of the workbook's shared strings (plain <t> or rich runs)."""
    wb = workbook_part(pkg)
    for rel in relationships(pkg, wb):
        if rel["Type"].endswith("/sharedStrings"):
            xml = pkg[resolve_target(wb, rel["Target"])].decode("utf-8")
            if re.search(r"<\w+:si\b", xml):
                raise NotImplementedError("shared strings with a namespace prefix")
            return [m.group(1) or "" for m in re.finditer(r"<si(?:\s[^>]*)?(?:/>|>(.*?)</si>)", xml, re.S)]
    return []


def _graft_sheet_xml(xml: str, strings: list[str], shape_map: dict[int, int]) -> str:
    """The donor sheet as a staff sheet of the master: shared strings become inline strings
    (rich runs kept), style indexes go (the donor's styles.xml does not come along), the sheet
    is not selected and has no code name of its own, and shape ids follow the moved VML."""
    def cell(m: re.Match) -> str:
        attrs, body = _drop_attr(m.group(1), "s"), m.group(3)
        if re.search(r"""\st\s*=\s*["']s["']""", attrs) and body is not None:
            index = re.search(r"<v>\s*(\d+)\s*</v>", body)
            if index:
                attrs = re.sub(r"""\st\s*=\s*["']s["']""", ' t="inlineStr"', attrs)
                body = body.replace(index.group(0), f"<is>{strings[int(index.group(1))]}</is>")
        return f"<c{attrs}/>" if body is None else f"<c{attrs}>{body}</c>"

    xml = re.sub(r"<c(?=[\s/>])([^>]*?)(/>|>(.*?)</c>)", cell, xml, flags=re.S)
    for tag, attrs in (("row", ("s", "customFormat")), ("col", ("style",)),
                       ("sheetView", ("tabSelected",)), ("sheetPr", ("codeName",))):
        xml = _strip(xml, tag, attrs)
    if shape_map:
        xml = re.sub(r'(\sshapeId=")(\d+)"',
                     lambda m: f'{m.group(1)}{_move_shape_id(int(m.group(2)), shape_map)}"', xml)
    return xml


def _strip(xml: str, tag: str, attrs: Iterable[str]) -> str:
    """`xml` with the named attributes removed from every <tag> start tag."""
    def start(m: re.Match) -> str:
        inner = m.group(1)
        for attr in attrs:
            inner = _drop_attr(inner, attr)
        return f"<{tag}{inner}{m.group(2)}"

    return re.sub(rf"<{tag}(?=[\s/>])([^>]*?)(/?>)", start, xml)


def _move_shape_id(shape_id: int, block_map: dict[int, int]) -> int:
    block, rest = divmod(shape_id, 1024)
    return block_map.get(block, block) * 1024 + rest


def _vml_blocks(xml: str) -> list[int]:
    m = re.search(r'<o:idmap\b[^>]*\bdata="([^"]*)"', xml)
    return [int(x) for x in re.findall(r"\d+", m.group(1))] if m else []


def _move_vml(xml: str, first_free: int) -> tuple[str, dict[int, int]]:
    """Give a carried VML drawing its own shape-id blocks (o:idmap) after the master's,
    renumbering its _x0000_sNNNN shape ids, as Excel keeps them unique per workbook."""
    old = _vml_blocks(xml)
    if not old:
        return xml, {}
    block_map = {b: first_free + i for i, b in enumerate(old)}
    xml = re.sub(r'(<o:idmap\b[^>]*\bdata=")[^"]*"',
                 lambda m: m.group(1) + ",".join(str(block_map[b]) for b in old) + '"', xml, count=1)
    xml = re.sub(r"_x0000_s(\d+)", lambda m: f"_x0000_s{_move_shape_id(int(m.group(1)), block_map)}", xml)
    return xml, block_map


def _quoted_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _retarget_formulas(xml: str, old_sheet: str, new_sheet: str) -> str:
    """Chart series formulas (<c:f>) of the donor's sheet point at the grafted sheet."""
    ref = re.compile(rf"(?:{re.escape(escape(_quoted_sheet(old_sheet)))}|(?<![\w.']){re.escape(escape(old_sheet))})!")
    new = escape(_quoted_sheet(new_sheet)) + "!"

    def formula(m: re.Match) -> str:
        return m.group(1) + ref.sub(lambda _: new, m.group(3)) + m.group(4)

    return re.sub(r"(<(\w+:)?f>)(.*?)(</\2f>)", formula, xml, flags=re.S)


def _unique_table(xml: str, used_ids: set[int], used_names: set[str]) -> str:
    """A table's id and name must be unique in the workbook: renumber on collision."""
    table_id = int(re.search(r'<table\b[^>]*\sid="(\d+)"', xml).group(1))
    name = re.search(r'<table\b[^>]*\sdisplayName="([^"]*)"', xml).group(1)
    if table_id in used_ids or name.lower() in used_names:
        new_id = max(used_ids | {table_id}) + 1
        new_name = f"Table{new_id}"
        while new_name.lower() in used_names:
            new_id += 1
            new_name = f"Table{new_id}"

        def head(m: re.Match) -> str:
            tag = re.sub(r'(\sid=")\d+"', rf'\g<1>{new_id}"', m.group(0), count=1)
            return re.sub(r'(\s(?:name|displayName)=")[^"]*"', rf"\g<1>{new_name}" + '"', tag)

        xml = re.sub(r"<table\b[^>]*>", head, xml, count=1)
        table_id, name = new_id, new_name
    used_ids.add(table_id)
    used_names.add(name.lower())
    return xml


def _tables(pkg: dict[str, bytes], types) -> tuple[set[int], set[str]]:
    ids, names = set(), set()
    for part, data in pkg.items():
        if (_content_type(types, part)[0] or "").endswith("spreadsheetml.table+xml"):
            text = data.decode("utf-8")
            ids.add(int(re.search(r'<table\b[^>]*\sid="(\d+)"', text).group(1)))
            names.add(re.search(r'<table\b[^>]*\sdisplayName="([^"]*)"', text).group(1).lower())
    return ids, names


def _retarget_rels(xml: str, source: str, new_source: str, mapping: dict[str, str]) -> str:
    """Relationship targets of a moved part, pointing at the moved parts from its new place."""
    def rel(m: re.Match) -> str:
        tag = m.group(0)
        if re.search(r'\sTargetMode="External"', tag):
            return tag
        target = re.search(r'\sTarget="([^"]*)"', tag)
        raw = unescape(target.group(1), {"&quot;": '"', "&apos;": "'"})
        old = resolve_target(source, raw)
        if old not in mapping:
            return tag
        new = ("/" + mapping[old] if raw.startswith("/")
               else posixpath.relpath(mapping[old], posixpath.dirname(new_source) or "."))
        return tag.replace(target.group(0), f' Target="{_attr(new)}"')

    return re.sub(r"<Relationship\b[^>]*>", rel, xml)


def _check_sheet_name(name: str) -> None:
    if not name or len(name) > 31 or re.search(r"[\[\]:*?/\\]", name) or name[0] == "'" or name[-1] == "'":
        raise ValueError(f"not a valid Excel sheet name: {name!r}")


WORKBOOK_PICTURE_TYPES = ("/sheetMetadata",)  # plus every workbook relationship into xl/richData/


def _add_content_types(m: dict[str, bytes], d_types, carried: list[str], mapping: dict[str, str],
                       new_parts: dict[str, bytes], donor: Path) -> str:
    """The master's [Content_Types].xml with a type for every carried part (by its new name)."""
    m_types = _content_types(m)
    defaults, overrides = [], []
    m_defaults = m_types[0]
    for part in carried:
        ctype, override = _content_type(d_types, part)
        if ctype is None:
            raise ValueError(f"{donor}: no content type for {part}")
        new = mapping[part]
        ext = _extension(new)
        if not override and ext not in m_defaults and ext:
            defaults.append(f'<Default Extension="{_attr(ext)}" ContentType="{_attr(ctype)}"/>')
            m_defaults[ext] = ctype
        elif _content_type(m_types, new)[0] != ctype:
            overrides.append(f'<Override PartName="/{_attr(new)}" ContentType="{_attr(ctype)}"/>')
    if "rels" not in m_defaults:
        overrides += [f'<Override PartName="/{_attr(p)}" ContentType="application/vnd.openxmlformats-package.'
                      f'relationships+xml"/>' for p in new_parts if p.endswith(".rels")]
    ct = m["[Content_Types].xml"].decode("utf-8")
    ct = re.sub(r"(<Types\b[^>]*>)", lambda x: x.group(1) + "".join(defaults), ct, count=1)
    ct = ct.replace("</Types>", "".join(overrides) + "</Types>")

    return ct


def _rich_value_rels(d: dict[str, bytes], d_wb: str) -> list[dict[str, str]]:
    """The workbook relationships of a rich-value store: xl/metadata.xml and xl/richData/*."""
    return [r for r in relationships(d, d_wb) if _internal(r) and (
        r["Type"].endswith(WORKBOOK_PICTURE_TYPES)
        or resolve_target(d_wb, r["Target"]).startswith(posixpath.join(posixpath.dirname(d_wb), "richData/")))]


def graft_rich_value_cell(master: Path, donor: Path, dst: Path, sheet: str, cell: str,
                          cached: str = "#VALUE!") -> Path:
    """`master` with the donor's rich-value store (xl/metadata.xml, xl/richData/* and what
    they link to: the picture) carried in, and `sheet`!`cell` made the donor's first rich
    value as Excel 365 stores it: <c t="e" vm="1"><v>#VALUE!</v></c> (`cached`: the value
    older applications show). The cell keeps its style; every other part but the sheet,
    [Content_Types].xml and workbook.xml.rels stays byte-identical."""
    m, d = parts(master), parts(donor)
    m_wb, d_wb = workbook_part(m), workbook_part(d)
    wanted = _rich_value_rels(d, d_wb)
    if not wanted or [r for r in relationships(m, m_wb) if r["Type"] in {w["Type"] for w in wanted}]:
        raise NotImplementedError(f"{donor} has no rich-value store, or {master} has one already")
    starts = [resolve_target(d_wb, r["Target"]) for r in wanted]
    carried = [p for p in walk_parts(d, starts) if not p.endswith(".rels")]
    taken, mapping = {p.lower() for p in m}, {}
    for part in carried:
        mapping[part] = _fresh_name(taken, part)
        taken.add(mapping[part].lower())
    new_parts = {mapping[p]: d[p] for p in carried}
    for part in carried:
        if rels_name(part) in d:
            new_parts[rels_name(mapping[part])] = _retarget_rels(
                d[rels_name(part)].decode("utf-8"), part, mapping[part], mapping).encode("utf-8")
    ct = _add_content_types(m, _content_types(d), carried, mapping, new_parts, donor)
    wb_rels_part = rels_name(m_wb)
    wb_rels = m[wb_rels_part].decode("utf-8")
    next_rid = max((int(n) for n in re.findall(r'\sId="rId(\d+)"', wb_rels)), default=0) + 1
    new_rels = "".join(
        f'<Relationship Id="rId{next_rid + k}" Type="{_attr(r["Type"])}" '
        f'Target="{_attr(posixpath.relpath(mapping[resolve_target(d_wb, r["Target"])], posixpath.dirname(m_wb) or "."))}"/>'
        for k, r in enumerate(wanted))
    wb_rels = wb_rels.replace("</Relationships>", new_rels + "</Relationships>")
    sheet_part = sheet_parts(m)[sheet]
    xml = m[sheet_part].decode("utf-8")
    found = re.search(rf'<c r="{cell}"(?P<attrs>[^>]*?)(?:/>|>.*?</c>)', xml)
    if found is None:
        raise ValueError(f"{sheet}!{cell} is not written in {master}")
    attrs = _drop_attr(_drop_attr(found.group("attrs"), "t"), "vm")
    xml = xml[:found.start()] + f'<c r="{cell}"{attrs} t="e" vm="1"><v>{_attr(cached)}</v></c>' + xml[found.end():]
    edited = {"[Content_Types].xml": ct.encode("utf-8"), wb_rels_part: wb_rels.encode("utf-8"),
              sheet_part: xml.encode("utf-8")}
    _write_package(master, Path(dst), edited, new_parts)
    return Path(dst)


REL_CALC_CHAIN = NS_REL + "/calcChain"
CT_CALC_CHAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"


def excel_formulas(master: Path, dst: Path, formulas: dict[tuple[str, str], tuple[str, object]]) -> Path:
    """``master`` as Excel saves it once staff typed ``formulas`` ({(sheet, "H1"): ("1+2", 3)},
    each with the result Excel cached) into its cells: with xl/calcChain.xml, the order in which
    Excel calculates, naming every formula cell of the workbook (Excel writes one whenever a
    workbook holds a formula, and "repairs" a file whose chain names a cell without one)."""
    pkg = parts(master)
    by_name = sheet_parts(pkg)
    for (sheet, ref), (formula, cached) in formulas.items():
        part = by_name[sheet]
        xml = pkg[part].decode("utf-8")
        value = (f'<c r="{ref}"{{s}}><f>{escape(formula)}</f><v>{cached}</v></c>' if not isinstance(cached, str)
                 else f'<c r="{ref}"{{s}} t="str"><f>{escape(formula)}</f><v>{escape(cached)}</v></c>')
        match = re.search(rf'<c r="{ref}"(?:[^>]*?/>|[^>]*?>.*?</c>)', xml, flags=re.S)
        if match:
            style = re.search(r'\ss="(\d+)"', match.group(0).split(">")[0])
            xml = xml[:match.start()] + value.format(s=f' s="{style.group(1)}"' if style else "") + xml[match.end():]
        else:
            row = int(re.sub(r"[A-Z]", "", ref))
            cell = value.format(s="")
            found = re.search(rf'<row r="{row}"[^>]*?(?:/>|>.*?</row>)', xml, flags=re.S)
            if found is None:
                raise ValueError(f"add row {row} to {sheet} first")
            text = found.group(0)
            text = (text[:-2] + f">{cell}</row>") if text.endswith("/>") else text.replace("</row>", cell + "</row>")
            # column order within the row
            cells = re.findall(r'<c r="[A-Z]+\d+"(?:[^>]*?/>|[^>]*?>.*?</c>)', text, flags=re.S)
            head = text[:text.index("<c ")] if "<c " in text else text[:-6]
            key = lambda c: (len(re.match(r'<c r="([A-Z]+)', c).group(1)), re.match(r'<c r="([A-Z]+)', c).group(1))
            text = head + "".join(sorted(cells, key=key)) + "</row>"
            xml = xml[:found.start()] + text + xml[found.end():]
        pkg[part] = xml.encode("utf-8")
    wb = workbook_part(pkg)
    ids = {s.get("name"): s.get("sheetId") for s in ElementTree.fromstring(pkg[wb]).find(f"{{{NS_MAIN}}}sheets")}
    entries = []
    for name, part in by_name.items():
        for cell in ElementTree.fromstring(pkg[part]).iter(f"{{{NS_MAIN}}}c"):
            if cell.find(f"{{{NS_MAIN}}}f") is not None:
                entries.append(f'<c r="{cell.get("r")}" i="{ids[name]}"/>')
    chain = "xl/calcChain.xml"
    pkg[chain] = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<calcChain xmlns="{NS_MAIN}">'
                  + "".join(entries) + "</calcChain>").encode()
    rels = rels_name(wb)
    pkg[rels] = pkg[rels].replace(b"</Relationships>", f'<Relationship Id="rId990" Type="{REL_CALC_CHAIN}" '
                                  'Target="calcChain.xml"/></Relationships>'.encode())
    pkg["[Content_Types].xml"] = pkg["[Content_Types].xml"].replace(
        b"</Types>", f'<Override PartName="/{chain}" ContentType="{CT_CALC_CHAIN}"/></Types>'.encode())
    with zipfile.ZipFile(master) as z:
        had = set(z.namelist())
    _write_package(master, dst, {k: v for k, v in pkg.items() if k in had}, {chain: pkg[chain]})
    return dst


def graft_excel_sheet(master: Path, donor: Path, dst: Path, sheet_name: str) -> Path:
    """Add the first sheet of an Excel-made workbook to `master` as the staff sheet
    `sheet_name`, with every part it links to, and write the result to `dst`.

    Works on the zip package: the donor sheet and every part reachable from it through its
    relationships (drawings, VML, comments, tables, charts, media, printer settings, control
    properties ...) get fresh names in the master's folders, their .rels follow; workbook.xml,
    workbook.xml.rels and [Content_Types].xml get the new entries by text edits, so every
    other part of the master stays byte-identical.

    - Shared-string cells become inline strings (rich runs kept); the donor's styles.xml is
      not carried, so cell, row and column style indexes are dropped. Conditional formats
      whose dxfId points into the donor's styles would need the same care (no donor has one).
    - The donor's vbaProject.bin is not carried (the master keeps its own); the sheet loses
      its code name and tab selection.
    - VML drawings get their own shape-id block; chart formulas follow the new sheet name;
      a table whose id or name is taken gets the next free one.
    - Pictures in cells (vm= cells: xl/metadata.xml and xl/richData/*, linked from the donor's
      workbook.xml.rels) come along only if the master has neither; otherwise
      NotImplementedError (merging two rich-value stores means renumbering their indexes).
    - Excel 365 in-cell checkboxes (checkbox01) are a cell *style* feature (an xf extension
      pointing into xl/featurePropertyBag): with styles reset the cell stays a plain boolean
      and the workbook-level feature property bag is not carried.
    - The donor's defined names (print areas, filter ranges) and docProps are not carried.
    """
    _check_sheet_name(sheet_name)
    m, d = parts(master), parts(donor)
    m_wb, d_wb = workbook_part(m), workbook_part(d)
    m_sheets = sheet_parts(m)
    if sheet_name.lower() in (n.lower() for n in m_sheets):
        raise ValueError(f"{master} already has a sheet named {sheet_name!r}")
    donor_name, d_sheet = next(iter(sheet_parts(d).items()))
    m_types, d_types = _content_types(m), _content_types(d)

    carried = [p for p in walk_parts(d, [d_sheet]) if not p.endswith(".rels")]
    workbook_rels = []  # (type, donor part) to link from the master's workbook
    if re.search(rb"<c\b[^>]*\s(vm|cm)=\"", d[d_sheet]):
        wanted = _rich_value_rels(d, d_wb)
        present = [r for r in relationships(m, m_wb) if r["Type"] in {w["Type"] for w in wanted}]
        if present:
            raise NotImplementedError(f"{master} already has {[r['Target'] for r in present]}: merging the "
                                      "rich-value stores of two workbooks is not supported")
        for rel in wanted:
            part = resolve_target(d_wb, rel["Target"])
            workbook_rels.append((rel["Type"], part))
            carried += [p for p in walk_parts(d, [part]) if not p.endswith(".rels") and p not in carried]

    # fresh names in the master
    taken = {p.lower() for p in m}
    mapping = {}
    sheet_dir = posixpath.dirname(next(iter(m_sheets.values())))
    for part in carried:
        wish = posixpath.join(sheet_dir, "sheet1.xml") if part == d_sheet else part
        mapping[part] = _fresh_name(taken, wish)
        taken.add(mapping[part].lower())

    # carried parts, edited where a workbook-wide rule asks for it
    new_parts: dict[str, bytes] = {}
    used_blocks = [b for p, data in m.items() if p.endswith(".vml")
                   for b in _vml_blocks(data.decode("utf-8", "replace"))]
    next_block = max(used_blocks, default=0) + 1
    table_ids, table_names = _tables(m, m_types)
    sheet_vml = {resolve_target(d_sheet, r["Target"]): r["Id"] for r in relationships(d, d_sheet)
                 if r["Type"].endswith("/vmlDrawing")}
    legacy = re.search(rb'<legacyDrawing\b[^>]*\sr:id="([^"]*)"', d[d_sheet])
    shape_map = {}
    for part in carried:
        data = d[part]
        ctype = _content_type(d_types, part)[0] or ""
        if part.endswith(".vml"):
            text, block_map = _move_vml(data.decode("utf-8"), next_block)
            next_block += len(block_map)
            if legacy and sheet_vml.get(part) == legacy.group(1).decode():
                shape_map = block_map
            data = text.encode("utf-8")
        elif ctype.endswith("drawingml.chart+xml"):
            data = _retarget_formulas(data.decode("utf-8"), donor_name, sheet_name).encode("utf-8")
        elif ctype.endswith("spreadsheetml.table+xml"):
            data = _unique_table(data.decode("utf-8"), table_ids, table_names).encode("utf-8")
        new_parts[mapping[part]] = data
    new_parts[mapping[d_sheet]] = _graft_sheet_xml(
        d[d_sheet].decode("utf-8"), _shared_strings(d), shape_map).encode("utf-8")
    for part in carried:
        if rels_name(part) in d:
            new_parts[rels_name(mapping[part])] = _retarget_rels(
                d[rels_name(part)].decode("utf-8"), part, mapping[part], mapping).encode("utf-8")

    ct = _add_content_types(m, d_types, carried, mapping, new_parts, donor)

    # workbook.xml.rels and workbook.xml
    wb_rels_part = rels_name(m_wb)
    wb_rels = m[wb_rels_part].decode("utf-8")
    numbers = [int(n) for n in re.findall(r'\sId="rId(\d+)"', wb_rels)]
    next_rid = max(numbers, default=0) + 1
    new_rels = []
    sheet_rid = f"rId{next_rid}"
    for rtype, target_part in [(REL_WORKSHEET, d_sheet), *workbook_rels]:
        target = posixpath.relpath(mapping[target_part], posixpath.dirname(m_wb) or ".")
        new_rels.append(f'<Relationship Id="rId{next_rid}" Type="{_attr(rtype)}" Target="{_attr(target)}"/>')
        next_rid += 1
    wb_rels = wb_rels.replace("</Relationships>", "".join(new_rels) + "</Relationships>")

    wb = m[m_wb].decode("utf-8")
    prefix = re.search(r"<(\w+:)?sheets\b", wb).group(1) or ""
    r_prefix = re.search(rf'xmlns:(\w+)="{re.escape(NS_REL)}"', wb)
    sheet_id = max(int(n) for n in re.findall(r"<(?:\w+:)?sheet\b[^>]*\ssheetId=\"(\d+)\"", wb)) + 1
    rid_attr = (f'{r_prefix.group(1)}:id="{sheet_rid}"' if r_prefix
                else f'xmlns:gr="{NS_REL}" gr:id="{sheet_rid}"')
    entry = f'<{prefix}sheet name="{_attr(sheet_name)}" sheetId="{sheet_id}" {rid_attr}/>'
    wb = wb.replace(f"</{prefix}sheets>", entry + f"</{prefix}sheets>", 1)

    edited = {"[Content_Types].xml": ct.encode("utf-8"), wb_rels_part: wb_rels.encode("utf-8"),
              m_wb: wb.encode("utf-8")}
    _write_package(master, Path(dst), edited, new_parts)
    return Path(dst)


def _write_package(master: Path, dst: Path, edited: dict[str, bytes], added: dict[str, bytes]) -> None:
    """Copy `master` to `dst` member by member (same order and compression), with the
    `edited` members replaced and the `added` ones appended. Written next to dst, then renamed."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{uuid.uuid4().hex}.tmp")
    try:
        with zipfile.ZipFile(master) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
            stamp = (1980, 1, 1, 0, 0, 0)
            for info in src.infolist():
                out.writestr(info, edited.get(info.filename) or src.read(info))
                stamp = info.date_time
            for name, data in added.items():
                info = zipfile.ZipInfo(name, date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                out.writestr(info, data)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------- session fixtures
# Each fixture depends only on pytest's own tmp_path_factory; tests/conftest.py offers them to
# every test module. The files are shared by the whole test run (all xdist workers too):
# treat them as read-only, copy before writing.

_BUILT: dict[tuple[str, str], object] = {}


def _once(factory, key: str, build):
    """Once per process (a module that imports a fixture by name gets its own copy of the
    fixture, with its own session cache) and, through shared_build, once per run."""
    from conftest import shared_build

    slot = (str(factory.getbasetemp()), key)
    if slot not in _BUILT:
        _BUILT[slot] = shared_build(factory, key, build)
    return _BUILT[slot]


def excel_made_books() -> list[Path]:
    """The Excel-made workbooks of tests/data/excel_made, sorted by name."""
    books = sorted(p for p in EXCEL_MADE.glob("*.xls[xm]"))
    if not books:
        raise AssertionError(f"no Excel-made workbooks in {EXCEL_MADE}")
    return books


def graft_sheet_name(donor: Path) -> str:
    """The staff-sheet name a donor gets in the grafted fixtures: 職員_<file stem>."""
    return f"職員_{Path(donor).stem}"


def _sample(factory) -> Path:
    return _once(factory, "sample_master", lambda d: sample_master(d / "さっぽろ圏_2023年度_マスター.xlsm"))


def _lo_saved(factory, kind: str) -> Path:
    """Both filters' saves come from one LibreOffice run, built on the first request."""
    from conftest import require_soffice

    require_soffice()
    return _once(factory, "lo_masters", lambda d: lo_staff_edits(
        _sample(factory), {k: d / f"staff_edited.{k}" for k in STAFF_EDIT_FILTERS}))[kind]


@pytest.fixture(scope="session")
def sample_master_xlsm(tmp_path_factory) -> Path:
    """The FY2023 sample master (.xlsm) as `renkei-xl init --sample fy2023` writes it."""
    return _sample(tmp_path_factory)


@pytest.fixture(scope="session")
def sample_master_xlsx(tmp_path_factory) -> Path:
    """The FY2023 sample master as `renkei-xl init master.xlsx --sample fy2023` writes it
    (.xlsx): for tests of what a master leads to (split, export, print), not of init."""
    return _once(tmp_path_factory, "sample_master_xlsx", lambda d: sample_master(d / "master.xlsx"))


@pytest.fixture(scope="session")
def lo_master_xlsm(tmp_path_factory) -> Path:
    """The sample master after a staff member's edits in LibreOffice, saved as .xlsm."""
    return _lo_saved(tmp_path_factory, "xlsm")


@pytest.fixture(scope="session")
def lo_master_xlsx(tmp_path_factory) -> Path:
    """The sample master after a staff member's edits in LibreOffice, saved as .xlsx."""
    return _lo_saved(tmp_path_factory, "xlsx")


@pytest.fixture(scope="session")
def grafted_masters(tmp_path_factory) -> dict[str, Path]:
    """Donor file stem → the sample master (.xlsm) with that Excel-made sheet grafted in
    as the staff sheet `graft_sheet_name(donor)`."""
    def build(folder: Path) -> dict[str, Path]:
        master = _sample(tmp_path_factory)
        return {donor.stem: graft_excel_sheet(master, donor, folder / f"{donor.stem}.xlsm", graft_sheet_name(donor))
                for donor in excel_made_books()}

    return _once(tmp_path_factory, "grafted_masters", build)


@pytest.fixture(scope="session")
def grafted_master(tmp_path_factory) -> Path:
    """The sample master (.xlsm) with every Excel-made sheet grafted in, one staff sheet
    each (`graft_sheet_name(donor)`, in file-name order)."""
    def build(folder: Path) -> Path:
        current = _sample(tmp_path_factory)
        for donor in excel_made_books():
            current = graft_excel_sheet(current, donor, folder / f"with_{donor.stem}.xlsm", graft_sheet_name(donor))
        return current

    return _once(tmp_path_factory, "grafted_master", build)



@pytest.fixture(scope="session")
def grafted_lo_master(tmp_path_factory) -> Path:
    """`lo_master_xlsm` (staff edits saved by LibreOffice) with every Excel-made sheet grafted
    in as well: both applications' ways of storing things in one master."""
    def build(folder: Path) -> Path:
        current = _lo_saved(tmp_path_factory, "xlsm")
        for donor in excel_made_books():
            current = graft_excel_sheet(current, donor, folder / f"with_{donor.stem}.xlsm", graft_sheet_name(donor))
        return current

    return _once(tmp_path_factory, "grafted_lo_master", build)



# The page staff set on the tool sheets that have one (print titles, paper, fit, margins, footer).
STAFF_PAGE_SHEETS = ("一覧", "集計")


def staff_page(wb) -> None:
    """A page staff set on tool sheets in Excel, as an openpyxl workbook ``wb`` keeps it: other
    print titles, paper, orientation, fit, margins and footer on 一覧 and 集計."""
    for sheet in STAFF_PAGE_SHEETS:
        ws = wb[sheet]
        ws.print_title_rows = "1:5"
        ws.page_setup.paperSize, ws.page_setup.orientation = 1, "portrait"     # Letter
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 3, 2
        ws.print_options.horizontalCentered = False
        ws.page_margins.left = ws.page_margins.top = 1.5
        ws.oddFooter.center.text = "staff"

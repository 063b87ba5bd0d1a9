"""Shared fixtures and how the suite stays quick. The FY2023 reference list is the test data
of this project.

`make test` runs the suite with pytest-xdist on a worker more than the cores (``-n WORKERS
--dist loadfile``; the Makefile says why): each test file runs whole on one worker, so a
module-scoped fixture is still built once.
A worker is a separate process with its own ``tmp_path_factory`` base folder; each
LibreOffice start gets its own profile folder and a free port or pipe (tests/uno_common.py,
tests/realbooks.py), so workers never share one. realbooks' UNO jobs share one soffice per
worker (under its base folder, ended with the session; tests/test_uno_office.py). ``pytest tests/test_x.py`` without ``-n``
runs in one process as before.

What to use instead of building your own (building a master or starting LibreOffice costs
seconds; copying a file costs nothing):

- ``fy2023`` (here): the FY2023 reference list.
- ``sample_master_xlsm``, ``sample_master_xlsx``, ``lo_master_xlsm``, ``lo_master_xlsx``,
  ``grafted_masters``, ``grafted_master``, ``grafted_lo_master`` (tests/realbooks.py,
  available in every test module): the FY2023 sample master as ``init`` writes it, after a staff member's edits saved
  by LibreOffice, and with Excel-made sheets grafted in. Built once per test run, across
  all workers (``shared_build``). They are shared: copy one to ``tmp_path`` before writing.
- ``licensed`` (tests/test_buttons.py; import it by name): xlwings' remote engine with the
  noncommercial key, for the buttons' tests.
- ``saved_book`` (tests/remote_payload.py): a saved workbook loaded by openpyxl once per
  content; the ``file_*`` readers use it. ``payload_from_file`` and ``file_rows`` read
  ``payload_book`` (the same cells, read faster; ``RENKEI_TEST_PAYLOAD_BOTH_WAYS=1`` checks
  every payload against ``saved_book``).
- ``shared_build`` (here): build any costly, read-only input once per test run.
- ``saved_once`` (here): a test's openpyxl edit and save of a file, made once per process for
  the same content and edit, its bytes written again (with the save time made now) after.
- ``typed_cells`` (here): cells typed into a master with the tool's own writer, the bytes
  ``write_planned`` writes, without its read of the whole contract first.

Slow modules run first (``pytest_collection_modifyitems``), so that the last file a worker
takes is a short one; add a module to ``SLOW_FIRST`` when it takes more than ~20 s.
"""

import fcntl
import os
import pickle
import re
import shutil
import sys
from pathlib import Path

import pytest

from renkei_xl.core.reference import load_reference


def taken(out: str) -> dict:
    """File name → municipality of each return a collect's output names as taken (or to take,
    --dry-run): its list 「n 件のファイルを取り込みました: a.xlsx（小樽市）、b.xlsx（恵庭市） ほか…」
    (cycle.collect.said.imported_listing), the files listed, not those counted."""
    found = re.search(r"^(?:\d[\d,]* 件のファイルを取り込みました|取り込めるファイル \d[\d,]* 件): (.*)$", out, re.M)
    if not found:
        return {}
    names = re.sub(r" ほか [\d,]+ 件.*$", "", found.group(1))
    return {name: town.removesuffix("）") for name, _, town in (item.rpartition("（") for item in names.split("、"))}


def replace_vba_project(src_path, dst_path, data: bytes) -> None:
    """``dst_path`` becomes ``src_path`` with ``data`` as its VBA project, through the
    tool's one safe write, so ``dst_path`` may be ``src_path``: how the tests give a master
    an older or a staff-edited project (upgrade-macros does the same with a backup)."""
    from renkei_xl.safety import replace_file
    from renkei_xl.vba.inject import write_with_project

    replace_file(dst_path, lambda tmp: write_with_project(src_path, tmp, data), keep_backup=False)

# In order of time (each module's wall time in a fresh clone's `make test` on 2 cores, 2026-12-07,
# the modules over ~8 s): the longest first, so that the last file a worker takes is a short one.
# The server modules that wait on the network (slow clients, timeouts, TLS handshakes) come early
# whatever their length: at the end their waits left a core idle (69 % busy there, 100 % before).
SLOW_FIRST = ("test_server.py", "test_hostile_files.py", "test_cycle.py", "test_buttons.py",
              "test_error_cells.py", "test_vba_libreoffice.py", "test_hostile_writes.py",
              "test_server_layout.py", "test_faces_values.py", "test_server_hostile_lan.py",
              "test_server_log.py", "test_server_tls.py", "test_years.py", "test_excel_limits.py",
              "test_faces.py", "test_realbooks.py", "test_fuzzers.py", "test_package_integrity.py",
              "test_mail.py", "test_wheels.py", "test_uno_office.py", "test_print.py",
              "test_master_macros.py", "test_lossless.py", "test_merged_inputs.py", "test_answer_size.py",
              "test_judgeable.py", "test_input_file.py", "test_vba_compile.py")


def rewrite_cells(path, part: str, cells: dict) -> None:
    """Cells of one sheet part rewritten as Excel saves them (a cached error value, say):
    ``cells`` maps a reference to the new cell's XML, where ``{s}`` stands for the old
    cell's style, so the cell keeps its look. Each reference must be there once."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        xml = z.read(part).decode("utf-8")
    for ref, cell in cells.items():
        def keep_style(m, cell=cell):
            style = re.search(r'\ss="(\d+)"', m.group(0).split(">")[0])
            return cell.replace("{s}", style.group(1) if style else "0")

        xml, n = re.subn(r'<c r="%s"(?:[^>]*?/>|[^>]*?>.*?</c>)' % ref, keep_style, xml, count=1, flags=re.S)
        assert n == 1, ref
    with_members(path, path, {part: xml.encode("utf-8")})


def saved_once(path, key: tuple, edit):
    """``edit(path)``, a test's edit of a file it then saves through openpyxl (a load and a
    save, 0.02–0.2 s), done once per process for the same file content and ``key`` (what
    the edit is: the helper, the sheet, cell and value with its type): the bytes it left are
    written again for the next test that asks for the same edit of the same content (the
    module's shared master, the cycle's returned files). What ``edit`` returns is kept with
    them. An edit that raises keeps nothing. The file written again is the one the edit
    wrote with its save time made now, as openpyxl stamps each save (docProps/core.xml's
    dcterms:modified, which collect orders a municipality's files by)."""
    import datetime as dt
    import hashlib
    import io
    import zipfile

    slot = (hashlib.sha256(path.read_bytes()).digest(), key)
    if slot in _SAVED_ONCE:
        data, result = _SAVED_ONCE[slot]
        now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        stamp = re.compile(rb"(<dcterms:modified\b[^>]*>)([^<]*)(</dcterms:modified>)")
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            saved = stamp.search(z.read("docProps/core.xml"))
            if saved is None or saved.group(2) == now.encode("ascii"):
                path.write_bytes(data)
                return result
            members = {i.filename: z.read(i) for i in z.infolist()}
        members["docProps/core.xml"] = stamp.sub(lambda m: m.group(1) + now.encode("ascii") + m.group(3),
                                                 members["docProps/core.xml"], count=1)
        write_members(Path(path), members)
        return result
    result = edit(path)
    data = path.read_bytes()
    global _saved_once_bytes
    while _SAVED_ONCE and _saved_once_bytes + len(data) > _SAVED_ONCE_LIMIT:     # the oldest go first
        _saved_once_bytes -= len(_SAVED_ONCE.pop(next(iter(_SAVED_ONCE)))[0])
    _SAVED_ONCE[slot] = data, result
    _saved_once_bytes += len(data)
    return result


def value_key(value) -> tuple:
    """A cell value as ``saved_once``'s key: 1, 1.0 and True are three edits."""
    return type(value).__name__, repr(value)


_SAVED_ONCE: dict[tuple, tuple[bytes, object]] = {}
_SAVED_ONCE_LIMIT = 64 * 2**20
_saved_once_bytes = 0


def write_members(path, members: dict) -> None:
    """The package at ``path`` written anew from ``members`` (part name → bytes), in order."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    path.write_bytes(buf.getvalue())


def with_members(src, dst, changed: dict) -> None:
    """``dst`` becomes the package at ``src`` with ``changed``'s parts (part name → bytes, each
    one ``src`` has) in place, every other part copied as its compressed bytes by the product's
    ``Package.copy_with``: a test changing one sheet of a master recompressed the whole package
    for it (test_error_cells' cells with an error, 7 % of that module). The parts are what
    Excel and openpyxl read, and they are the same as ``write_members`` writes; a package the
    product's reader refuses is written by ``write_members``. ``dst`` may be ``src``."""
    import zipfile

    from renkei_xl.package.xml import PackageError
    from renkei_xl.package.zipped import Package

    data = Path(src).read_bytes()
    try:
        with Package(Path(src), data=data) as package:
            assert set(changed) <= set(package.names()), sorted(set(changed) - set(package.names()))
            out = package.copy_with(changed)
    except PackageError:
        with zipfile.ZipFile(src) as z:
            members = {i.filename: changed.get(i.filename, z.read(i)) for i in z.infolist()}
        write_members(dst, members)
        return
    Path(dst).write_bytes(out)


def typed_cells(src, dst, edits) -> Path:
    """``src`` with ``edits`` (CellEdits) written by the tool's writer (``apply_plan``, the
    package saved by ``Package.save``) as ``dst`` (which may be ``src``): the bytes
    ``write_planned`` writes for a plan of those cells, in place or with ``out``, without its
    read of the master's whole contract (every sheet parsed and judged) before each write,
    which a test typing staff's values into a master it then reads does not need (a fifth
    of test_faces_values' CPU). Its refusals are the plan's and the writer's: a plan they
    refuse raises here too. test_faces_values and test_faces hold the bytes to write_planned's."""
    from renkei_xl.core.plan_types import WritePlan
    from renkei_xl.package.workbook import WorkbookXml
    from renkei_xl.package.zipped import Package
    from renkei_xl.workbook.apply import apply_plan
    from renkei_xl.workbook.state import StyleReader

    src, dst = Path(src), Path(dst)
    with Package(src, data=src.read_bytes()) as pkg:
        workbook = WorkbookXml(pkg)
        apply_plan(pkg, workbook, StyleReader(pkg, workbook), WritePlan(cells=list(edits)))
        pkg.save(dst)
    return dst


def with_default_types(members: dict, types: "tuple[tuple[str, str], ...]") -> None:
    """[Content_Types].xml of ``members`` given a Default for each (extension, content type)
    it lacks, as Excel declares a part kind it adds (printer settings, images)."""
    text = members["[Content_Types].xml"].decode("utf-8")
    for ext, kind in types:
        if f'Extension="{ext}"' not in text:
            text = text.replace("<Override", f'<Default Extension="{ext}" ContentType="{kind}"/><Override', 1)
    members["[Content_Types].xml"] = text.encode("utf-8")


EXCEL_CALC_PR = '<calcPr calcId="191029"/>'


def saved_by_excel(path) -> None:
    """workbook.xml's calcPr as Excel's save leaves it: its own engine's id, no request to
    calculate on opening (fullCalcOnLoad, which the tool's build and its writes set). A test
    that puts a formula with a result into a master models a book Excel calculated and saved;
    without this, the file face takes that result as stale (core.calc_on_load.stale_results)."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    calc_pr_as_excel_saves(members)
    write_members(Path(path), members)


def calc_pr_as_excel_saves(members: dict) -> None:
    """``saved_by_excel`` on a package's parts (name → bytes) a test is about to write: one
    write of the file, not a second one to change its calcPr."""
    book, n = re.subn(r"<calcPr\b[^>]*/>", EXCEL_CALC_PR, members["xl/workbook.xml"].decode("utf-8"))
    assert n == 1
    members["xl/workbook.xml"] = book.encode("utf-8")


# The sample's contacts (renkei@otaru.example) are under a name reserved for examples, and
# --smtp refuses them (cycle.letters.unsendable_placeholders). A test that sends through its
# local aiosmtpd gives 設定 ordinary addresses first, as staff do before the year's mail:
# 「renkei@otaru.lg.jp」 (the sample's local part, an LGWAN-shaped name; only 127.0.0.1 sees it).
SENDABLE_SUFFIX = ".lg.jp"


def sendable(address: str) -> str:
    """``address`` with the sample's reserved 「.example」 ending replaced by SENDABLE_SUFFIX."""
    return address[: -len(".example")] + SENDABLE_SUFFIX if address.endswith(".example") else address


def with_sendable_contacts(master) -> Path:
    """``master`` with every address of 設定's table made ``sendable``: one load and save."""
    import openpyxl

    from renkei_xl.core import contract as c

    wb = openpyxl.load_workbook(master, keep_vba=Path(master).suffix == ".xlsm")
    for row in wb[c.SETTINGS].iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and "@" in cell.value:
                cell.value = sendable(cell.value)
    wb.save(master)
    return Path(master)


def returned_input(master, tmp, municipality: str, value, ind_id=None, issued=None) -> Path:
    """A folder (under ``tmp``) holding ``municipality``'s input file with ``value`` typed as a
    実績値: ``ind_id``'s, or the first row's. The file is ``issued``'s (one split's files, so
    several returns come from one split, as a year's do) or of a split of ``master`` made now.
    What a municipality sends back, made the way it is made: the tool's own split, one cell
    typed, saved."""
    import openpyxl

    from renkei_xl.cycle.distribute import split_master

    tmp = Path(tmp)
    tmp.mkdir(parents=True, exist_ok=True)
    if issued is None:
        issued = split_master(master, tmp / f"配布_{municipality}")
    src = next(p for p in issued if municipality in p.name)
    folder = tmp / f"回収_{municipality}"
    folder.mkdir()
    dst = folder / src.name
    shutil.copyfile(src, dst)
    wb = openpyxl.load_workbook(dst)
    ws = wb[municipality]
    heads = next(r for r in ws.iter_rows() if any(cell.value == "実績値" for cell in r))
    col = next(cell.column for cell in heads if cell.value == "実績値")
    id_col = next(cell.column for cell in heads if cell.value == "指標ID")
    rows = range(heads[0].row + 1, ws.max_row + 1)
    row = rows[0] if ind_id is None else next(r for r in rows if ws.cell(r, id_col).value == ind_id)
    ws.cell(row, col).value = value
    wb.save(dst)
    return folder


def collect_click(master: Path, folder: Path, monkeypatch, instant: float = 1_711_846_800.0):
    """A 回収ファイル取込 click on the saved ``master`` through the server's VBA client, the
    returns of ``folder`` copied into the master's 回収 folder, at a fixed time (2024-03-31
    10:00 JST): the payload and the actions as the master's VBA replays them
    (excel.client.fit_actions), for remote_payload.apply_actions."""
    from remote_payload import EXCEL_KEY, VBA, payload_from_file, remote_book
    from renkei_xl import clock
    from renkei_xl.core import contract as c
    from renkei_xl.excel import buttons
    from renkei_xl.excel.book import RENKEI_CLIENT_KEY, SAVED_MASTER_KEY
    from renkei_xl.excel.client import fit_actions

    inbox = master.parent / c.COLLECT_DIR
    inbox.mkdir()
    for f in folder.iterdir():
        shutil.copyfile(f, inbox / f.name)
    payload = payload_from_file(master, client=VBA)
    payload.update({RENKEI_CLIENT_KEY: True, SAVED_MASTER_KEY: str(master)})
    book = remote_book(payload)
    with monkeypatch.context() as m:
        m.chdir(master.parent)
        m.setattr(clock, "_instant", lambda: instant)
        buttons.collect(book)
    return payload, fit_actions(book.json()["actions"], frozenset(payload[EXCEL_KEY]["subs"])).actions


def with_macro_sheet(source: Path, path: Path, name: str = "Macro1") -> Path:
    """``source`` with an Excel 4.0 macro sheet (挿入 > Excel 4.0 マクロ) as its first tab, as
    Excel saves one: a macrosheet part, its relationship and content type, and the sheet-scoped
    names' and the active tab's indexes moved one tab on."""
    import re as _re
    import zipfile

    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/workbook.xml":
                text = data.decode("utf-8")
                ids = [int(n) for n in _re.findall(r'sheetId="(\d+)"', text)]
                prefix = _re.search(r'<(?:\w+:)?sheet\b[^>]*?\b(\w+):id="', text).group(1)
                text = _re.sub(r'(<(?:\w+:)?sheets>)', lambda m: m.group(1) + f'<sheet name="{name}" '
                               f'sheetId="{max(ids) + 1}" {prefix}:id="rIdXlm"/>', text, count=1)
                text = _re.sub(r'\b(localSheetId|activeTab)="(\d+)"', lambda m: f'{m.group(1)}="{int(m.group(2)) + 1}"',
                               text)
                data = text.encode("utf-8")
            elif item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdXlm" Type="http://schemas.microsoft.com/'
                                    b'office/2006/relationships/xlMacrosheet" Target="macrosheets/sheet1.xml"/>'
                                    b"</Relationships>")
            elif item.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/macrosheets/sheet1.xml" '
                                    b'ContentType="application/vnd.ms-excel.macrosheet+xml"/></Types>')
            out.writestr(item, data)
        out.writestr("xl/macrosheets/sheet1.xml",
                     '<xm:macrosheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                     'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"><sheetData><row r="1">'
                     '<c r="A1" t="str"><f>RETURN()</f><v></v></c></row></sheetData></xm:macrosheet>')
    return path


@pytest.fixture(scope="session")
def fy2023():
    return load_reference("fy2023")


def memory_filler():
    """Work whose memory ran out, for the last guards' tests: ``(out_of_memory, alive)``.
    ``out_of_memory`` raises MemoryError holding an object in its own frame only, as the
    failed work's data is held; ``alive()`` says whether that object is still held. A guard
    must let go of it (core.errors.released) before its record, which needs memory too."""
    import weakref

    class Filled:
        pass

    held: list = []

    def out_of_memory(*_args, **_kwargs):
        filled = Filled()
        held.append(weakref.ref(filled))
        raise MemoryError

    return out_of_memory, lambda: bool(held) and held[0]() is not None


def require_soffice() -> str:
    """LibreOffice is part of the product's test bench: on CI its absence is a failure."""
    path = shutil.which("soffice") or shutil.which("libreoffice")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice (soffice) が見つかりません: .ci/run がインストールするはずです")
        pytest.skip("soffice not installed (allowed only outside CI)")
    return path


def shared_build(tmp_path_factory, key: str, build):
    """``build(folder)`` once per test run, also across pytest-xdist workers; its result
    (paths, or anything pickle keeps) is returned to every caller.

    Under xdist the workers' base folders sit side by side in the run's own folder, so the
    first worker to get the lock builds in ``<run>/shared/<key>`` and the others wait, then
    read the result. A build that fails leaves nothing behind: the next caller tries again
    (and fails with its own error). Treat what it made as read-only.
    """
    slot = (str(tmp_path_factory.getbasetemp()), key)
    if slot not in _SHARED:         # once per process too: without xdist each caller built anew
        _SHARED[slot] = _shared_build(tmp_path_factory, key, build)
    return _SHARED[slot]


_SHARED: dict[tuple[str, str], object] = {}


def _shared_build(tmp_path_factory, key: str, build):
    name = re.sub(r"\W", "_", key, flags=re.ASCII)
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return build(tmp_path_factory.mktemp(name))
    root = tmp_path_factory.getbasetemp().parent / "shared"
    root.mkdir(exist_ok=True)
    done = root / f"{name}.pickle"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)        # released when the file closes
        if done.exists():
            return pickle.loads(done.read_bytes())
        folder = root / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        result = build(folder)
        done.write_bytes(pickle.dumps(result))
        return result


# Python's default is (700, 10, 10). See pytest_configure.
TEST_PROCESS_GC_THRESHOLD = (5000, 10, 100)


def pytest_configure(config):
    """The cyclic collector of a test process runs its young collections seven times less
    often. A test process keeps a great deal alive from test to test (every collected test,
    the shared masters' parsed books, remote_payload's caches), and each collection that
    reaches the oldest generation walks it all: 10–13 % of a module's CPU (test_cycle 3.3–3.7 s
    of 28, test_error_cells 3.3 of 33; gc.callbacks timed). With this threshold the same
    modules spent 0.3 s collecting. The oldest generation is looked at ten times less often
    again: over a whole `make test` the three workers still made 31 full collections of up to
    0.7 s each (18.6 of their 27 CPU s collecting; gc.callbacks timed per worker), and 5 after
    (15 s in all). What a full collection frees is garbage in cycles that outlived two young
    collections, which a test process can carry for longer. The product sets nothing here: its commands pause the
    collector for a run themselves (renkei_xl.collector), and every child process a test
    starts (the command line, the server, LibreOffice's Python) begins with Python's defaults."""
    import gc

    gc.set_threshold(*TEST_PROCESS_GC_THRESHOLD)


def pytest_sessionfinish(session):
    """What the run leaves behind is frozen (gc.freeze) before pytest's last collection
    (its unraisableexception plugin collects once at unconfigure, to report a finalizer's
    exception): that collection walked every object a worker had kept (a million and more:
    the shared masters, the button model's caches), about 3.5 s of CPU a worker at the very
    end of the run, when the three workers end together on two cores (py-spy over a whole
    ``make test``: 418 samples at 40 Hz). What is frozen is never collected, as at any
    process's exit (renkei_xl.cli.run freezes likewise); garbage made after the freeze is
    still collected and its finalizers' exceptions still reported."""
    import gc

    gc.freeze()


def pytest_sessionstart(session):
    """Before a pytest-xdist worker collects, it rewrites its share of the test modules
    (``rewrite_share``)."""
    worker = getattr(session.config, "workerinput", None)
    if worker is not None:          # xdist names its workers gw0, gw1, …
        number = str(worker.get("workerid", ""))[2:]
        rewrite_share(session.config, int(worker.get("workercount", 1)), int(number) if number.isdigit() else 0)


TEST_FOLDER = Path(__file__).parent


def rewrite_share(config, workers: int, index: int, files=None) -> list[Path]:
    """The test modules of this worker's share (the ``index``-th of ``workers`` shares of
    about the same size; ``files``: TEST_FOLDER's test_*.py) rewritten by pytest's assertion rewriting
    into its bytecode cache, where no valid one is there yet; returns those it wrote.

    Every worker collects every module, and on a fresh clone (``make test``'s
    PYTHONPYCACHEPREFIX in the new venv starts empty) each rewrote and compiled all 2.7 MB of
    them at once, two thirds of it repeated. With each worker writing its third first, the
    three shares are ready at about the same moment, and the collection reads the others' (a
    module not yet written is rewritten by the importer as before; pytest writes each cache file
    whole, under its own name first): a fresh clone's collection 9–10 → about 5 CPU s a worker
    (docs/performance.md, perf-109). This is the work and the cache
    file pytest's import hook makes (``AssertionRewritingHook.exec_module``); nothing where
    bytecode is not written or asserts are not rewritten."""
    from _pytest.assertion import rewrite

    state = config.stash.get(rewrite.assertstate_key, None)
    if state is None or state.mode != "rewrite" or sys.dont_write_bytecode:
        return []
    if files is None:
        files = sorted(TEST_FOLDER.glob("test_*.py"))
    loads, shares = [0] * workers, [[] for _ in range(workers)]
    for path in sorted(files, key=lambda f: (-f.stat().st_size, f.name)):     # the largest first
        lightest = loads.index(min(loads))
        loads[lightest] += path.stat().st_size
        shares[lightest].append(path)
    written = []
    for path in shares[index % workers]:
        cache_dir = rewrite.get_cache_dir(path)
        pyc = cache_dir / (path.name[:-3] + rewrite.PYC_TAIL)
        if not rewrite.try_makedirs(cache_dir) or rewrite._read_pyc(path, pyc, state.trace) is not None:
            continue
        source_hash, co = rewrite._rewrite_test(path, config)
        if rewrite._write_pyc(state, co, source_hash, pyc):
            written.append(path)
    return written


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """The slow modules first, each module's tests in the order pytest chose (a stable sort)."""
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


# The shared masters, for every test module (tests/realbooks.py builds them), and the session's
# end of this process's LibreOffice for the UNO jobs (autouse; it starts nothing).
from realbooks import (_uno_office_session, grafted_lo_master, grafted_master,  # noqa: E402,F401
                       grafted_masters, lo_master_xlsm, lo_master_xlsx, sample_master_xlsm,
                       sample_master_xlsx)


@pytest.fixture(autouse=True)
def _error_logs_in_the_test_folder(monkeypatch, tmp_path_factory):
    """An unexpected error's log (renkei_xl.errorlog) from a run in this process goes to the
    worker's own folder: the system temp folder's renkei-xl-error.log is shared by every
    worktree and user of the machine, grew with each run, and a test reading its error back
    depended on being allowed to write a file another user may own. The buttons' log is
    a module constant (excel.buttons.ERROR_LOG), patched where a test reads it."""
    from renkei_xl import errorlog

    base = tmp_path_factory.getbasetemp()
    monkeypatch.setattr(errorlog, "log_path", lambda name: base / name)


@pytest.fixture(autouse=True)
def _refused_lines_of_this_test(monkeypatch):
    """A server made in this process (test_server._InThread) writes its lines about refused
    requests within one budget a minute for the whole process (server.log.REFUSED): each test
    its own, so that one test's flood never leaves the next one's refusals unwritten."""
    import sys

    server_log = sys.modules.get("renkei_xl.server.log")
    if server_log is not None:
        monkeypatch.setattr(server_log, "REFUSED", server_log.AllClients())

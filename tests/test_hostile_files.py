"""Damaged and foreign files, as staff could hand them to `renkei-xl`: a generated corpus.

Every case is made at run time from the real FY2023 sample master (or from the 小樽市 input
file that `split` makes from it) by rewriting zip members, so nothing binary is checked in.
Each case runs the real command line in a child process and holds it to the promise made
to staff (SPEC §5, renkei_xl.cli): one Japanese sentence (exit 2) or findings (exit 1),
never a traceback, in bounded time and memory, and a refused run leaves the master
byte-identical with no backup added.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import pytest

from renkei_xl.cycle.distribute import split_master
from renkei_xl.cli.workbook import init_master
from renkei_xl.workbook.safety import backup_folder

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 60                      # seconds per child run
MAX_RSS_KIB = 500 * 1024          # ru_maxrss is in KiB on Linux
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff01-\uff5e]")
MUNI = "小樽市"

SML = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT_SML = "http://purl.oclc.org/ooxml/spreadsheetml/main"
OFFICE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
STRICT_OFFICE_REL = "http://purl.oclc.org/ooxml/officeDocument/relationships"


# ----------------------------------------------------------------------------- the books

@dataclass(frozen=True)
class Book:
    """Where the damage goes in one kind of workbook."""
    sheet_part: str        # the 小樽市 sheet's part
    sheet_rel: str         # its target in xl/_rels/workbook.xml.rels
    number_cell: str       # a municipality cell holding a number (実績値)
    blank_cell: str        # an empty municipality cell (備考), exactly as written
    other_sheet: str       # another sheet's name in workbook.xml (renamed to 小樽市)


MASTER = Book("xl/worksheets/sheet5.xml", "worksheets/sheet5.xml", "E2", '<c r="G2" s="13"/>', "岩見沢市")
RETURNED = Book("xl/worksheets/sheet1.xml", "worksheets/sheet1.xml", "G20", '<c r="I20" s="10"/>', "選択肢")


def read_members(raw: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def write_members(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def edit_part(members: dict[str, bytes], part: str, fn: Callable[[str], str]) -> None:
    before = members[part].decode("utf-8")
    after = fn(before)
    assert after != before, f"the mutation did not change {part}"
    members[part] = after.encode("utf-8")


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1, f"{old!r} not found"
    return text.replace(old, new, 1)


def set_cell(xml: str, ref: str, cell: str) -> str:
    """Replace the <c r=ref> element (self-closed or not) by ``cell``."""
    pattern = re.compile(r'<c r="%s"(?:[^>]*?/>|[^>]*?>.*?</c>)' % re.escape(ref), re.S)
    out, n = pattern.subn(lambda _m: cell, xml, count=1)
    assert n == 1, f"cell {ref} not found"
    return out


def entity_dtd(root: str) -> str:
    """A billion-laughs style internal subset (defused parsers must refuse it)."""
    lines = ['<!ENTITY lol0 "lollollollollollollollollollol">']
    for i in range(1, 8):
        lines.append(f'<!ENTITY lol{i} "' + f"&lol{i - 1};" * 10 + '">')
    return f"<!DOCTYPE {root} [{''.join(lines)}]>"


def after_declaration(xml: str, insert: str) -> str:
    end = xml.index("?>") + 2 if xml.startswith("<?xml") else 0
    return xml[:end] + insert + xml[end:]


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b"")


def ole_file() -> bytes:
    """A compound file as Excel 97-2003 (.xls) or an encrypted .xlsx would arrive."""
    from renkei_xl.vba.cfb import write_compound_file

    return write_compound_file({"Workbook": b"\x09\x08\x10\x00\x00\x06\x05\x00" + b"\x00" * 5000,
                                "\x05SummaryInformation": b"\xfe\xff" + b"\x00" * 200})


# ----------------------------------------------------------------------------- mutations
# Each takes the original bytes and the Book, returns (damaged bytes, suffix or None).

Mutation = Callable[[bytes, Book], tuple[bytes, Optional[str]]]


def zipped(fn: Callable[[dict[str, bytes], Book], None]) -> Mutation:
    def mutate(raw: bytes, book: Book):
        members = read_members(raw)
        fn(members, book)
        return write_members(members), None
    mutate.__name__ = fn.__name__
    return mutate


@zipped
def sheet_cut(m, b):
    m[b.sheet_part] = m[b.sheet_part][: len(m[b.sheet_part]) // 2]


@zipped
def styles_cut(m, b):
    m["xl/styles.xml"] = m["xl/styles.xml"][: len(m["xl/styles.xml"]) // 2]


@zipped
def styles_without_cellxfs(m, b):
    edit_part(m, "xl/styles.xml", lambda x: re.sub(r"<cellXfs.*?</cellXfs>", "", x, flags=re.S))


@zipped
def shared_string_out_of_range(m, b):
    edit_part(m, b.sheet_part, lambda x: set_cell(x, b.number_cell,
                                                  f'<c r="{b.number_cell}" t="s"><v>99999</v></c>'))


def _text_cell(b: Book, text: str) -> str:
    ref = re.search(r'r="(\w+)"', b.blank_cell).group(1)
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


@zipped
def nul_byte_in_text(m, b):
    edit_part(m, b.sheet_part, lambda x: replace_once(x, b.blank_cell, _text_cell(b, "備考\x00です")))


@zipped
def control_byte_in_text(m, b):
    edit_part(m, b.sheet_part, lambda x: replace_once(x, b.blank_cell, _text_cell(b, "備考\x1bです\x0b")))


@zipped
def number_of_100000_digits(m, b):
    edit_part(m, b.sheet_part, lambda x: set_cell(x, b.number_cell,
                                                  f'<c r="{b.number_cell}"><v>{"9" * 100_000}</v></c>'))


@zipped
def doctype_in_sheet(m, b):
    def fn(x):
        x = after_declaration(x, entity_dtd("worksheet"))
        return replace_once(x, b.blank_cell, _text_cell(b, "&lol7;"))
    edit_part(m, b.sheet_part, fn)


@zipped
def doctype_in_shared_strings(m, b):
    edit_part(m, "xl/sharedStrings.xml",
              lambda x: replace_once(after_declaration(x, entity_dtd("sst")), "</t>", "&lol7;</t>"))


@zipped
def workbook_xml_missing(m, b):
    del m["xl/workbook.xml"]


def retarget_sheet(m, b, target: str) -> None:
    """The 小樽市 sheet's relationship pointed somewhere else."""
    edit_part(m, "xl/_rels/workbook.xml.rels",
              lambda x: replace_once(x, f'Target="{b.sheet_rel}"', f'Target="{target}"'))


@zipped
def sheet_relationship_to_missing_part(m, b):
    retarget_sheet(m, b, "worksheets/sheet99.xml")


@zipped
def content_types_missing(m, b):
    del m["[Content_Types].xml"]


def zip_cut_at_60_percent(raw, b):
    return raw[: int(len(raw) * 0.6)], None


def empty_file(raw, b):
    return b"", None


def ole_xls(raw, b):
    return ole_file(), None


def csv_renamed_xlsx(raw, b):
    return "市町村,指標ID,実績値\r\n小樽市,1,2\r\n".encode("utf-8-sig"), ".xlsx"


def png_renamed_xlsm(raw, b):
    return tiny_png(), ".xlsm"


@zipped
def two_sheets_with_one_name(m, b):
    edit_part(m, "xl/workbook.xml", lambda x: replace_once(x, f'name="{b.other_sheet}"', f'name="{MUNI}"'))


@zipped
def defined_name_to_missing_sheet(m, b):
    def fn(x):
        missing = "<definedName name=\"対象年度\">'存在しないシート'!$B$3</definedName>"
        if '<definedName name="対象年度">' in x:
            return re.sub(r'<definedName name="対象年度">[^<]*</definedName>', lambda _m: missing, x)
        x = re.sub(r'(<definedName name="状態一覧">)[^<]*(</definedName>)',
                   lambda mm: mm.group(1) + "'存在しないシート'!$A$2:$A$14" + mm.group(2), x)
        return replace_once(x, "<definedNames>", "<definedNames>" + missing)
    edit_part(m, "xl/workbook.xml", fn)


@zipped
def sheet_root_not_worksheet(m, b):
    edit_part(m, b.sheet_part,
              lambda x: x.replace("<worksheet ", "<chartsheet ").replace("</worksheet>", "</chartsheet>"))


@zipped
def strict_ooxml_namespace(m, b):
    for name in list(m):
        if name.endswith((".xml", ".rels")):
            text = m[name].decode("utf-8")
            m[name] = text.replace(SML, STRICT_SML).replace(OFFICE_REL, STRICT_OFFICE_REL).encode("utf-8")
    assert STRICT_SML.encode() in m["xl/workbook.xml"]


@zipped
def dotdot_relationship_target(m, b):
    retarget_sheet(m, b, "../../../../../etc/passwd")


@zipped
def zip_bomb_member(m, b):
    m["xl/embeddings/zeros.bin"] = bytes(50 * 2**20)


@zipped
def sheet_padded_to_50_mb(m, b):
    """Well-formed XML (whitespace after the root is allowed) that inflates to 50 MB."""
    m[b.sheet_part] = m[b.sheet_part] + b" " * (50 * 2**20)


@zipped
def shared_strings_missing(m, b):
    del m["xl/sharedStrings.xml"]


def duplicate_zip_member(raw, b):
    """The sheet twice under one name, the copies disagreeing: which one is "the" sheet?"""
    members = read_members(raw)
    second = set_cell(members[b.sheet_part].decode("utf-8"), b.number_cell,
                      f'<c r="{b.number_cell}"><v>12345</v></c>').encode("utf-8")
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # zipfile warns "Duplicate name"
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in members.items():
                z.writestr(name, data)
            z.writestr(b.sheet_part, second)
    return buf.getvalue(), None


MUTATIONS: dict[str, Mutation] = {f.__name__: f for f in (
    sheet_cut, styles_cut, styles_without_cellxfs, shared_string_out_of_range, nul_byte_in_text,
    control_byte_in_text, number_of_100000_digits, doctype_in_sheet, doctype_in_shared_strings,
    workbook_xml_missing, sheet_relationship_to_missing_part, content_types_missing,
    zip_cut_at_60_percent, empty_file, ole_xls, csv_renamed_xlsx, png_renamed_xlsm,
    two_sheets_with_one_name, defined_name_to_missing_sheet, sheet_root_not_worksheet,
    strict_ooxml_namespace, dotdot_relationship_target, zip_bomb_member, sheet_padded_to_50_mb,
    shared_strings_missing, duplicate_zip_member)}

# Damage inside one sheet: the message may name the sheet instead of the file.
SHEET_LEVEL = {"sheet_cut", "shared_string_out_of_range", "nul_byte_in_text", "control_byte_in_text",
               "number_of_100000_digits", "doctype_in_sheet", "sheet_root_not_worksheet",
               "two_sheets_with_one_name", "sheet_relationship_to_missing_part",
               "dotdot_relationship_target", "sheet_padded_to_50_mb", "duplicate_zip_member"}
# Damage the message can only place by another name than the file's or the sheet's.
OTHER_NAMES = {"defined_name_to_missing_sheet": ["対象年度", "存在しないシート"]}
# Damage to one value, not to the file: the value is an error finding, its row shows the
# error (never a total), and recalc goes on with the rest, as for any bad cell.
VALUE_LEVEL = {"number_of_100000_digits"}
# Damage a returned file can carry without harm to what is imported: its values are read
# from the sheet alone (formats and the workbook's own names are not used).
HARMLESS_IN_RETURNS = {"styles_without_cellxfs", "defined_name_to_missing_sheet"}


# ----------------------------------------------------------------------------- running

@dataclass
class Run:
    args: list[str]
    code: int
    out: str
    err: str
    seconds: float
    max_rss_kib: int
    timed_out: bool

    @property
    def text(self) -> str:
        return self.out + self.err

    def __str__(self) -> str:
        return (f"renkei-xl {' '.join(self.args)} -> exit {self.code} in {self.seconds:.1f} s, "
                f"{self.max_rss_kib // 1024} MiB\n--- stdout\n{self.out[-3000:]}\n--- stderr\n{self.err[-3000:]}")


# The child reports its own peak RSS (VmHWM of the process image after exec): wait4's
# ru_maxrss would also count the test process, whose pages a forked child starts with.
WRAPPER = """
import atexit, os, runpy, sys
def _hwm():
    try:
        with open("/proc/self/status") as f:
            kib = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
    except (OSError, StopIteration):
        import resource
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with open(os.environ["RENKEI_TEST_HWM"], "w") as f:
        f.write(str(kib))
atexit.register(_hwm)
sys.argv = ["renkei-xl"] + sys.argv[1:]
runpy.run_module("renkei_xl.cli", run_name="__main__", alter_sys=True)
"""


def run_cli(args: list[str], cwd: Path) -> Run:
    """`python -m renkei_xl.cli ARGS` in a child process, with its peak memory and time."""
    tmp = cwd / "_tmp"
    tmp.mkdir(exist_ok=True)
    hwm = tmp / "hwm.txt"
    env = dict(os.environ, PYTHONIOENCODING="utf-8", TMPDIR=str(tmp), RENKEI_TEST_HWM=str(hwm),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-c", WRAPPER, *args], cwd=cwd,
                                stdout=out, stderr=err, env=env, start_new_session=True)
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > TIMEOUT:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.01)
        seconds = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        peak = int(hwm.read_text()) if hwm.exists() else usage.ru_maxrss
        return Run(args, proc.returncode, out.read().decode("utf-8", "replace"),
                   err.read().decode("utf-8", "replace"), seconds, peak, timed_out)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def backups(master: Path) -> list[str]:
    folder = backup_folder(master)
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def without_names(text: str, names: list[str]) -> str:
    """The output with paths and file/sheet names removed, so they cannot pass for Japanese."""
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, "")
    return text


# ----------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="session")
def sample(tmp_path_factory) -> Path:
    return init_master(tmp_path_factory.mktemp("hostile_files") / "sample.xlsm", sample="fy2023")


@pytest.fixture(scope="session")
def returned_sample(sample, tmp_path_factory) -> Path:
    files = split_master(sample, tmp_path_factory.mktemp("split"), echo=lambda _line: None)
    (otaru,) = [p for p in files if p.name.startswith(MUNI)]
    return otaru


def fresh_master(sample: Path, tmp_path: Path, name: str = "master.xlsm") -> Path:
    path = tmp_path / name
    shutil.copyfile(sample, path)
    return path


# ----------------------------------------------------------------------------- controls

def test_undamaged_master_validates(sample, tmp_path):
    master = fresh_master(sample, tmp_path)
    run = run_cli(["validate", master.name], tmp_path)
    assert run.code == 0 and "エラー 0 件" in run.out, run
    assert "Traceback" not in run.text, run


def test_undamaged_master_recalculates(sample, tmp_path):
    master = fresh_master(sample, tmp_path)
    run = run_cli(["recalc", master.name], tmp_path)
    assert run.code == 0 and "52／71" in run.out, run
    assert "Traceback" not in run.text, run
    assert run.max_rss_kib < MAX_RSS_KIB, run


def test_undamaged_returned_file_is_collected(sample, returned_sample, tmp_path):
    master = fresh_master(sample, tmp_path)
    folder = tmp_path / "returned"
    folder.mkdir()
    shutil.copyfile(returned_sample, folder / returned_sample.name)
    run = run_cli(["collect", master.name, folder.name], tmp_path)
    assert run.code == 0 and f"取込: {returned_sample.name}" in run.out, run
    assert "Traceback" not in run.text, run


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_every_mutation_changes_the_file(sample, returned_sample, name):
    """The corpus is what it claims: each mutation yields bytes unlike the original."""
    for src, book in ((sample, MASTER), (returned_sample, RETURNED)):
        raw = src.read_bytes()
        damaged, _suffix = MUTATIONS[name](raw, book)
        assert damaged != raw


# ----------------------------------------------------------------------------- the corpus

# A run of two or more English words, as a library's own message would bring (names of
# formats the staff see in Excel are fine).
ENGLISH = re.compile(r"[A-Za-z][A-Za-z'`]*(?:[ :,.-]+[A-Za-z][A-Za-z'`]*)+")
PART_NAME = re.compile(r"[\w/\[\]]+\.(?:xml|rels|bin|xlsx|xlsm|xls)\b")
ALLOWED_ENGLISH = ("Office Open XML", "Strict Open XML")


def english_leaks(text: str) -> list[str]:
    for term in ALLOWED_ENGLISH:
        text = text.replace(term, "")
    text = PART_NAME.sub("", text)
    return ENGLISH.findall(text)


def check_common(run: Run, names: list[str], must_name: list[str]) -> None:
    assert not run.timed_out, f"did not finish within {TIMEOUT} s\n{run}"
    assert "Traceback" not in run.text, run
    assert run.code != 3, f"unexpected-error path (exit 3)\n{run}"
    assert JAPANESE.search(without_names(run.text, names)), f"no Japanese beyond the names\n{run}"
    assert any(n in run.text for n in must_name), f"names none of {must_name}\n{run}"
    assert run.max_rss_kib < MAX_RSS_KIB, f"peak memory {run.max_rss_kib // 1024} MiB\n{run}"
    if run.code == 2:
        assert run.err.startswith("エラー: "), run
        assert len(run.err.strip().splitlines()) == 1, f"not one message\n{run}"


def check_no_english(run: Run, names: list[str]) -> None:
    """Last, so that a case fails for this only when it otherwise behaves."""
    leaks = english_leaks(without_names(run.text, names))
    assert not leaks, f"English text leaks to staff: {leaks}\n{run}"


@pytest.mark.parametrize("command", ["validate", "recalc"])
@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_damaged_master(sample, tmp_path, name, command):
    damaged, suffix = MUTATIONS[name](sample.read_bytes(), MASTER)
    master = tmp_path / ("master" + (suffix or ".xlsm"))
    master.write_bytes(damaged)
    before, saved = digest(master), backups(master)
    run = run_cli([command, master.name], tmp_path)
    names = [str(tmp_path), master.name, master.stem, MUNI]
    must_name = [master.name] + ([MUNI] if name in SHEET_LEVEL else []) + OTHER_NAMES.get(name, [])
    check_common(run, names, must_name)
    allowed = {1, 2} if command == "validate" else ({0} if name in VALUE_LEVEL else {2})
    assert run.code in allowed, f"exit {run.code} (expected {sorted(allowed)})\n{run}"
    if run.code == 2:
        assert digest(master) == before, f"refused, yet the master changed\n{run}"
        assert backups(master) == saved, f"refused, yet a backup was added\n{run}"
    else:
        assert re.search(r"入力チェック: エラー [1-9]", run.out), run
        assert f"[エラー] {MUNI}!" in run.out, run
    check_no_english(run, names)


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_damaged_returned_file(sample, returned_sample, tmp_path, name):
    master = fresh_master(sample, tmp_path)
    damaged, suffix = MUTATIONS[name](returned_sample.read_bytes(), RETURNED)
    folder = tmp_path / "returned"
    folder.mkdir()
    returned = folder / (returned_sample.stem + (suffix or returned_sample.suffix))
    returned.write_bytes(damaged)
    before, saved = digest(master), backups(master)
    run = run_cli(["collect", master.name, folder.name], tmp_path)
    names = [str(tmp_path), returned.name, returned.stem, master.name, folder.name, MUNI]
    if name in HARMLESS_IN_RETURNS:
        assert run.code == 0 and "取り込みました" in run.out, run
        return
    check_common(run, names, [returned.name])
    # collect exits 1 when it refused a file (cycle_commands.cmd_collect), 2 for an error.
    assert run.code in {1, 2}, f"exit {run.code}: the damaged file was not refused\n{run}"
    assert digest(master) == before, f"nothing was importable, yet the master changed\n{run}"
    assert backups(master) == saved, f"nothing was importable, yet a backup was added\n{run}"
    check_no_english(run, names)

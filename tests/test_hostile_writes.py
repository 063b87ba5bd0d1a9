"""Writes under hostile conditions: symlinked masters, killed runs, a full disk, text that
looks like a formula, runs at the same moment, unexpected errors. Nothing is lost, nothing
wrong is accepted, and staff get a Japanese sentence, never a traceback."""

from __future__ import annotations

import errno
import hashlib
import multiprocessing as mp
import os
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from renkei_xl.core import contract as c
from renkei_xl.cli import main as cli_main
from renkei_xl.core.refs import parse_ref
from renkei_xl.core.errors import UserError
from renkei_xl.package.zipped import Package
from renkei_xl.core.plan_types import CellEdit, WritePlan
from renkei_xl.safety import STALE_AFTER_SECONDS, temp_prefix, writer_lock_file
from renkei_xl.workbook.session import load_master, recalc_file, validate_file, write_planned

from concurrent_writers import run_import, run_recalc
from conftest import returned_input
from forked_cli import PLAIN, cli_run, run_forked
from lock_holder import HOLDER, waited_for_lock
from remote_payload import file_grid


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def sample(sample_master_xlsm) -> Path:
    """The FY2023 sample master (.xlsm), the run's shared one (conftest): every test copies
    it before writing; none checks init itself."""
    return sample_master_xlsm


@pytest.fixture
def master(sample, tmp_path) -> Path:
    path = tmp_path / "マスター.xlsm"
    shutil.copyfile(sample, path)
    return path


def staff_types(path: Path, sheet: str, ref: str, value) -> None:
    row, col = parse_ref(ref)
    write_planned(path, lambda fs: (WritePlan(cells=[CellEdit(sheet, row, col, value)]), None))


def status_cell(path: Path) -> str:
    """The 実施状況（手入力） of the first indicator, which 一覧 shows as typed."""
    return load_master(path).indicators[5].cell("status_manual")


@pytest.mark.parametrize("text", ['=HYPERLINK("http://example.com","x")', "=WEBSERVICE(\"http://x\")",
                                  "=1+1", "+1+1", "-1+1", "@SUM(A1)", "=cmd|' /C calc'!A0"])
def test_text_that_looks_like_a_formula_stays_text_in_every_written_sheet(master, text):
    """A status typed as text starting with = is written as an inline string in 一覧: never
    a live formula that runs when the master is opened."""
    ref = status_cell(master)
    staff_types(master, c.INDICATORS, ref, text)
    recalc_file(master)
    with zipfile.ZipFile(master) as z:
        wb = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        rid = re.search(r'<sheet [^>]*name="一覧"[^>]*r:id="(\w+)"', wb).group(1)
        target = re.search(r'Id="' + rid + r'"[^>]*Target="([^"]+)"|Target="([^"]+)"[^>]*Id="' + rid + '"', rels)
        part = "xl/" + (target.group(1) or target.group(2)).lstrip("/").removeprefix("xl/")
        xml = z.read(part).decode()
    assert "<f>" not in xml and "<f " not in xml
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert escaped in xml
    # openpyxl's reading of 一覧 alone (read_only: its sheet parser, the same cells and types;
    # a full load parsed every sheet of the master, half of this test's CPU)
    wb = openpyxl.load_workbook(master, read_only=True)
    try:
        ws = wb[c.LIST]
        ws.reset_dimensions()           # every cell the sheet's XML holds, whatever <dimension> says
        cells = [cell for row in ws.iter_rows() for cell in row]
    finally:
        wb.close()
    assert any(isinstance(cell.value, str) and text in cell.value for cell in cells)
    assert all(cell.data_type != "f" for cell in cells)


def test_a_symlinked_master_is_written_through_the_link(master, tmp_path):
    link = tmp_path / "link" / "マスター.xlsm"
    link.parent.mkdir()
    link.symlink_to(master)
    recalc_file(link)
    assert link.is_symlink() and os.path.realpath(link) == str(master)
    assert openpyxl.load_workbook(master)[c.LIST]["H4"].value == "－"


@pytest.mark.parametrize("how", ["renamed", "copied"])
def test_a_master_a_colleague_saved_meanwhile_is_not_written_over(master, tmp_path, how):
    """Excel saves by renaming a new file over the master, a copy from a mail writes into it:
    either one between this run's read and its write was undone silently, the colleague's
    version left only in a backup no one was told of."""
    theirs = tmp_path / "theirs.xlsm"
    shutil.copyfile(master, theirs)
    staff_types(theirs, c.INDICATORS, status_cell(theirs), "同僚が保存した値")
    saved = digest(theirs)

    def colleague_saves():
        if how == "renamed":
            os.replace(theirs, master)
        else:
            shutil.copyfile(theirs, master)

    def make(fs):
        colleague_saves()
        return WritePlan(cells=[CellEdit(c.INDICATORS, 200, 1, "ツールの値")]), None

    with pytest.raises(UserError, match="「マスター.xlsm」は、この処理が読み込んだ後に別の人またはプログラムが保存しました"):
        write_planned(master, make)
    assert digest(master) == saved
    # the master itself given as the output, by another spelling (recalc -o): no "other file"
    if not theirs.exists():
        shutil.copyfile(master, theirs)
    (master.parent / "sub").mkdir()
    with pytest.raises(UserError, match="「マスター.xlsm」は、この処理が読み込んだ後に別の人またはプログラムが保存しました"):
        write_planned(master, make, out=master.parent / "sub" / ".." / master.name)
    assert digest(master) == saved
    (master.parent / "sub").rmdir()
    assert not (master.parent / "マスター_バックアップ").exists()
    assert not list(master.parent.glob(temp_prefix(master) + "*"))


def test_a_master_saved_meanwhile_is_not_written_over_by_upgrade_macros(master, tmp_path, monkeypatch, capsys):
    """upgrade-macros reads the master while it writes the new one: a save that landed in
    between (another PC copying a master over it, a run of an older version) was replaced by
    the older version's parts with new macros, and the newer save was kept nowhere, not even
    in the backup (which holds the version read)."""
    import renkei_xl.vba.inject as inject

    theirs = tmp_path / "theirs.xlsm"
    shutil.copyfile(master, theirs)
    staff_types(theirs, c.INDICATORS, status_cell(theirs), "同僚が保存した値")
    saved = digest(theirs)
    real = inject.write_with_project

    def colleague_saves_meanwhile(src, dst, data, *more):
        dropped = real(src, dst, data, *more)
        os.replace(theirs, master)
        return dropped

    monkeypatch.setattr(inject, "write_with_project", colleague_saves_meanwhile)
    assert cli_main(["upgrade-macros", str(master)]) == 2
    err = capsys.readouterr().err
    assert "「マスター.xlsm」は、この処理が読み込んだ後に別の人またはプログラムが保存しました" in err, err
    assert digest(master) == saved
    assert not list(master.parent.glob(temp_prefix(master) + "*"))


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads the process's open files from /proc")
def test_no_handle_of_this_process_holds_the_master_when_it_is_replaced(master, monkeypatch):
    """Windows refuses to rename a file over one that any handle holds open, this process's
    own included (Python opens files without FILE_SHARE_DELETE): the master's package was
    still open at the rename, so every write from a Windows PC would be refused as 「他の
    プログラムが使用中」. What Windows would refuse is seen here in /proc."""
    real_replace, seen = os.replace, []

    def replace(src, dst, *, src_dir_fd=None, dst_dir_fd=None):
        held = [os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
                if os.path.exists(f"/proc/self/fd/{fd}")]
        # the write point renames inside the folder it holds open (safety._hold_folder)
        path = os.fspath(dst) if dst_dir_fd is None else os.path.join(os.readlink(f"/proc/self/fd/{dst_dir_fd}"), dst)
        seen.append((path, [h for h in held if h == os.path.realpath(path)]))
        return real_replace(src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd)

    monkeypatch.setattr(os, "replace", replace)
    recalc_file(master)
    assert (str(master), []) in seen, seen


def test_temporary_files_of_a_killed_run_are_removed_by_the_next_run(master):
    stale = master.with_name(temp_prefix(master) + "abcd1234" + master.suffix)
    stale.write_bytes(b"half a zip")
    old = time.time() - STALE_AFTER_SECONDS - 60
    os.utime(stale, (old, old))
    fresh = master.with_name(temp_prefix(master) + "efgh5678" + master.suffix)
    fresh.write_bytes(b"another run's, just started")
    other = master.with_name(".~renkei-other.xlsm.zzzz.xlsm")
    other.write_bytes(b"another master's")
    os.utime(other, (old, old))
    in_backups = master.with_name("マスター_バックアップ") / (temp_prefix(master.with_name("マスター_20261204-091500.xlsm"))
                                                          + "abcd1234.xlsm")
    in_backups.parent.mkdir()
    in_backups.write_bytes(b"a backup half copied when the run was killed")
    os.utime(in_backups, (old, old))
    recalc_file(master)
    assert not stale.exists() and not in_backups.exists() and not other.exists()
    assert fresh.exists()


@pytest.mark.parametrize("command", ["recalc", "validate", "split"])
def test_what_a_killed_write_left_for_another_file_goes_at_the_next_command(master, command):
    """A rollover killed while it wrote left a master-sized temporary file beside the
    masters, a split its half-written input file and a half-copied backup in 配布用: each
    for a target nobody writes again. The server's clicks removed them (test_server's
    test_what_a_killed_click_was_writing_goes_at_a_later_click); the command line removed
    only a target's own, so in a folder worked from the command line they stayed for good.
    Now every write sweeps the folder it writes into by the same rule: past the age limit."""
    outdir = master.parent / "配布用"
    old = time.time() - STALE_AFTER_SECONDS - 60
    left = [master.with_name(temp_prefix(master.with_name("さっぽろ圏_2024年度_マスター.xlsm")) + "0123456789ab.xlsm"),
            master.with_name("さっぽろ圏_2024年度_マスター_バックアップ") / (temp_prefix(master) + "0123456789ab.xlsm")]
    if command == "split":
        left = [outdir / (temp_prefix(outdir / "廃止した町_2023年度_入力.xlsx") + "0123456789ab.xlsx"),
                outdir / "廃止した町_2023年度_入力_バックアップ" / (temp_prefix(outdir / "x.xlsx") + "0123456789ab.xlsx")]
    young = left[0].with_name(left[0].name.replace("0123456789ab", "ba9876543210"))   # another writer's, now
    for path in [*left, young]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"PK half a file")
    for path in left:
        os.utime(path, (old, old))
    cli_main([command, str(master), *(["--outdir", str(outdir)] if command == "split" else [])])
    assert not any(path.exists() for path in left) and young.exists()


def test_a_half_written_input_file_of_a_killed_split_is_removed_by_the_next_split(master):
    """配布用 is the folder staff attach files from: a split killed while writing left its
    temporary file there for good (only the master's own were removed)."""
    from renkei_xl.cycle.distribute import split_master

    outdir = master.parent / "配布用"
    first = split_master(master, outdir)[0]
    stale = first.with_name(temp_prefix(first) + "abcd1234" + first.suffix)
    stale.write_bytes(b"half a zip")
    old = time.time() - STALE_AFTER_SECONDS - 60
    os.utime(stale, (old, old))
    split_master(master, outdir)
    assert not stale.exists()


def test_a_full_disk_leaves_the_master_and_says_so_in_japanese(master, monkeypatch):
    before = digest(master)

    def full(self, target):
        with open(target, "wb") as f:
            f.write(b"PK")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Package, "save", full)
    with pytest.raises(UserError, match="ディスクの空き容量が足りない"):
        recalc_file(master)
    assert digest(master) == before
    assert not list(master.parent.glob(temp_prefix(master) + "*"))


@pytest.fixture
def small_disk(tmp_path):
    """A real file system of 600 KB (tmpfs), where the system allows mounting one (root on
    Linux): a full disk as the share reports it, not an error put in by hand."""
    folder = tmp_path / "small"
    folder.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(folder)],
                          capture_output=True) if shutil.which("mount") else None
    if made is None or made.returncode != 0:
        pytest.skip("a small file system cannot be mounted here")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.parametrize("left_kb, stops_at", [(250, "「マスター.xlsm」を書き込め"), (150, "のバックアップ（フォルダー「マスター_バックアップ」の")])
def test_a_really_full_disk_keeps_the_master_and_says_which_file(sample, small_disk, left_kb, stops_at, capsys):
    """The master's backup and its new version each need the master's size: a disk too full
    for the backup named a file staff never made (マスター_20261204-….xlsm) as the one that
    could not be written."""
    master = small_disk / "マスター.xlsm"
    shutil.copyfile(sample, master)
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    (small_disk / "ほかのファイル").write_bytes(b"\0" * max(free - left_kb * 1024, 0))
    before = digest(master)
    assert cli_main(["recalc", str(master)]) == 2
    err = capsys.readouterr().err
    assert "ディスクの空き容量が足りないため「マスター.xlsm」" in err and stops_at in err, err
    assert "Traceback" not in err
    assert digest(master) == before
    assert not list(small_disk.rglob(".~renkei-*")) and not list(small_disk.glob(".*lock*"))


@pytest.mark.parametrize("left_kb", [0, 4])
def test_an_export_onto_a_full_disk_prints_one_japanese_sentence_and_no_traceback(sample, small_disk, left_kb):
    """The 確定版 starts as a blank book openpyxl saves: on a full disk openpyxl left its
    archive open, and its finaliser failed again at exit, so staff read the Japanese
    sentence and then 「Exception ignored in: <function ZipFile.__del__ …> Traceback … OSError:
    [Errno 28] No space left on device」 (and on Windows the open handle would keep the blank
    from being removed). In a child process: the finaliser runs at its exit (a forked one,
    tests/forked_cli.py: it ends as a program does)."""

    master = small_disk / "マスター.xlsm"
    shutil.copyfile(sample, master)
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    (small_disk / "ほかのファイル").write_bytes(b"\0" * max(free - left_kb * 1024, 0))
    before = digest(master)
    run = cli_run(["export", str(master)], timeout=120)
    assert run.returncode == 2, run
    assert run.stderr.startswith("エラー: ディスクの空き容量が足りないため「"), run.stderr
    assert "Traceback" not in run.stderr and "Exception ignored" not in run.stderr, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert digest(master) == before
    assert sorted(p.name for p in small_disk.iterdir()) == ["ほかのファイル", "マスター.xlsm"]


def test_a_master_made_again_on_a_full_disk_is_said_as_a_full_disk_naming_it(sample, small_disk):
    """init --force on a disk the backup filled: XlsxWriter's error was turned into
    「ファイル「…/.~renkei-マスター.xlsm.….built.xlsm」を書き込めません（[Errno 28] No space left on
    device）」 (a file staff never made, the reason in English), then a traceback at exit
    from the archive XlsxWriter left open."""

    master = small_disk / "マスター.xlsm"
    shutil.copyfile(sample, master)
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    (small_disk / "ほかのファイル").write_bytes(b"\0" * max(free - 250 * 1024, 0))
    before = digest(master)
    run = cli_run(["init", str(master), "--sample", "fy2023", "--force"], timeout=120)
    assert run.returncode == 2, run
    assert run.stderr.strip() == ("エラー: ディスクの空き容量が足りないため「マスター.xlsm」を書き込めませんでした。"
                                  "元のファイルは変更していません。ディスクの空き容量（または割り当て）を増やしてから、"
                                  "もう一度実行してください。"), run.stderr
    assert digest(master) == before
    assert not list(small_disk.rglob(".~renkei-*"))


@pytest.fixture
def few_files(tmp_path, request):
    """A real file system that holds ``request.param`` entries (tmpfs' nr_inodes, its root
    included), as a quota counting files, or an ext4 disk whose folder needs one more block
    for a new name, refuses a new file however small: a full disk met at a file's creation."""
    folder = tmp_path / "few"
    folder.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size=2m,nr_inodes={request.param}", "tmpfs", str(folder)],
                          capture_output=True) if shutil.which("mount") else None
    if made is None or made.returncode != 0:
        pytest.skip("a small file system cannot be mounted here")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.parametrize("few_files, stops_at", [
    (2, "「マスター.xlsm」を書き込め"),                                        # the writer lock beside it
    (3, "バックアップ用のフォルダー「"),                                        # the backup folder
    (4, "「マスター.xlsm」のバックアップ（フォルダー「マスター_バックアップ」の"),   # the backup's temporary file
    (5, "「マスター.xlsm」を書き込め"),                                        # the new master's, the backup made
], indirect=["few_files"])
def test_a_disk_full_when_a_file_is_made_is_said_as_a_full_disk(sample, few_files, stops_at, capsys):
    """Making the temporary file or the lock on a full disk was said as a folder that cannot
    be written: 「フォルダー「…」に書き込めません（ディスクの空き容量が足りません）。何も書き込んで
    いません。書き込めるフォルダーを指定してから…」, just after a backup had been written into
    that folder, and staff pointed to another folder rather than to the space."""
    master = few_files / "マスター.xlsm"
    shutil.copyfile(sample, master)
    before = digest(master)
    assert cli_main(["recalc", str(master)]) == 2
    err = capsys.readouterr().err
    assert f"ディスクの空き容量が足りないため{stops_at}" in err, err
    assert "元のファイルは変更していません" in err and "空き容量（または割り当て）を増やして" in err, err
    assert "フォルダーを指定" not in err and "フォルダーに置いて" not in err and "名前を変える" not in err, err
    assert "Traceback" not in err, err
    assert digest(master) == before
    assert not list(few_files.rglob(".~renkei-*")) and not list(few_files.glob(".*lock*"))


@pytest.mark.skipif(os.name == "nt", reason="flock is the POSIX lock")
def test_a_share_without_file_locks_is_said_in_japanese(master, monkeypatch, capsys):
    """A share mounted without locks (NFS without its lock service) answers flock with
    ENOLCK: the command ended as an unexpected error, in English. And 「何も書き込んでいません」
    was said beside the empty lock file the refused run had just made there (left for good).

    No such share can be mounted here (no NFS without lockd, no FUSE, no 9p), so the OS
    answer is simulated: fcntl.flock raising OSError(ENOLCK), what it raises on one."""
    import fcntl

    real = fcntl.flock

    def no_locks(fd, op):
        if op & fcntl.LOCK_EX:
            raise OSError(errno.ENOLCK, "No locks available")
        return real(fd, op)

    monkeypatch.setattr(fcntl, "flock", no_locks)
    before = digest(master)
    names_before = sorted(p.name for p in master.parent.iterdir())
    assert cli_main(["recalc", str(master)]) == 2
    err = capsys.readouterr().err
    assert f"フォルダー「{master.parent}」ではファイルのロックが使えないため（ロックを使えません）" in err, err
    assert "何も書き込んでいません" in err and "Traceback" not in err
    assert digest(master) == before
    assert sorted(p.name for p in master.parent.iterdir()) == names_before, "the refused run left a file"


def test_a_lock_file_that_was_there_is_left_where_locks_cannot_be_had(master, monkeypatch):
    """Only what the refused run made is removed: a lock file already there (another run's,
    on the same lockless share) is not this run's to remove."""
    import fcntl

    from renkei_xl.safety import writer_lock, writer_lock_file

    def no_locks(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    there = writer_lock_file(master)
    there.touch()
    monkeypatch.setattr(fcntl, "flock", no_locks)
    with pytest.raises(UserError):
        with writer_lock(master):
            pass
    assert there.exists()


def test_the_command_line_on_a_full_disk_prints_one_japanese_line(master, monkeypatch, capsys):
    monkeypatch.setattr(Package, "save", lambda self, t: (_ for _ in ()).throw(OSError(errno.ENOSPC, "full")))
    assert cli_main(["recalc", str(master)]) != 0
    err = capsys.readouterr().err
    assert "ディスクの空き容量" in err and "Traceback" not in err


@pytest.mark.parametrize("over", [-1000, 1])     # the backup stops, or the new master (larger: 一覧 filled) does
def test_a_file_size_limit_keeps_the_master_and_says_so_in_japanese(master, over):
    """A real per-file size limit (RLIMIT_FSIZE; a FAT32 stick's 4 GB, an account's limit on a
    share): the write ended as 「予期しないエラー」 with 「File too large」 in English."""
    import resource
    import subprocess
    import sys

    before = digest(master)
    limit = master.stat().st_size + over

    def limited():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    run = subprocess.run([sys.executable, "-m", "renkei_xl.cli", "recalc", str(master)], preexec_fn=limited,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    assert "ファイルの大きさの上限を超えたため、書き込めませんでした" in run.stderr, run.stderr
    assert "元のファイルは変更していません" in run.stderr and "予期しない" not in run.stderr, run.stderr
    assert digest(master) == before


def test_an_unexpected_error_keeps_the_master_and_names_a_log(master, monkeypatch, capsys):
    before = digest(master)
    monkeypatch.setattr(Package, "save", lambda self, t: (_ for _ in ()).throw(RuntimeError("boom")))
    assert cli_main(["recalc", str(master)]) == 3
    err = capsys.readouterr().err
    assert "ブックは変更していません" in err and "renkei-xl-error.log" in err and "Traceback" not in err
    log = Path(re.search(r"詳細を (.+?) に記録", err).group(1))
    assert "RuntimeError: boom" in log.read_text(encoding="utf-8")
    assert digest(master) == before


# ------------------------------------------------------------------ at the same moment



def test_a_split_waits_for_another_split_into_the_same_folder(master, tmp_path):
    """Two splits into one 配布用 at once (two staff, or the command line and a button) left it
    with files of both issues, each run reporting its own deadline: a split writes its
    files while it holds the folder, and the other waits for it."""
    import subprocess
    import sys

    outdir = master.parent / "配布用"
    outdir.mkdir()
    held, release = tmp_path / "held", tmp_path / "release"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(outdir), str(held), str(release)])
    split = None
    try:
        while not held.exists():
            assert holder.poll() is None
            time.sleep(0.01)
        split = subprocess.Popen([sys.executable, "-m", "renkei_xl.cli", "split", str(master), "--outdir", str(outdir)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(3)
        assert split.poll() is None and not list(outdir.iterdir())
        release.write_text("go")
        out, err = split.communicate(timeout=60)
        assert split.returncode == 0, err
        assert len(list(outdir.glob("*.xlsx"))) == 12
    finally:
        release.write_text("go")
        holder.wait(timeout=30)
        if split is not None and split.poll() is None:
            split.kill()
            split.communicate()


def test_an_export_waits_for_another_export_of_the_same_confirmed_list(master, tmp_path):
    """Two exports into one 確定版 at once (two staff, or the command line beside a button)
    wrote their .xlsx and PDF file by file, so one's .xlsx could end beside the other's PDF.
    The pair is now written under one lock: an export waits while another holds it (the
    button: tests/test_buttons.py)."""
    from renkei_xl.cycle.export import default_name

    target = master.with_name(default_name(load_master(master).settings))
    assert waited_for_lock(target, tmp_path, lambda: cli_main(["export", str(master)])) == 0
    assert target.exists()


def _wait_holding(proc, path: Path, timeout: float = 60) -> None:
    """Until ``proc`` has ``path`` open (Linux: /proc): a writer waiting on a lock file."""
    want = os.path.realpath(path)
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None and time.monotonic() < deadline, f"{proc.args} did not open {path}"
        try:
            if any(os.path.realpath(fd) == want for fd in Path(f"/proc/{proc.pid}/fd").iterdir()):
                return
        except OSError:        # a descriptor closed while it was looked at
            pass
        time.sleep(0.02)


def test_a_master_moved_while_its_write_waited_is_said_in_japanese(master, tmp_path):
    """A write waits up to 30 s for another: a master renamed or moved meanwhile ended the
    command as an unexpected error (FileNotFoundError, in English) with an error log."""
    import subprocess
    import sys

    held, release = tmp_path / "held", tmp_path / "release"
    mover = subprocess.Popen([sys.executable, "-c", HOLDER, str(master), str(held), str(release), "移動した.xlsm"])
    try:
        while not held.exists():
            assert mover.poll() is None
            time.sleep(0.01)
        run = subprocess.Popen([sys.executable, "-m", "renkei_xl.cli", "recalc", str(master)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _wait_holding(run, writer_lock_file(master))     # its write waits on the lock (a sleep stood in)
        release.write_text("go")
        out, err = run.communicate(timeout=60)
    finally:
        release.write_text("go")
        mover.wait(timeout=30)
    assert run.returncode == 2, err
    assert err.strip() == f"エラー: ファイル「{master}」が見つかりません", err
    assert master.with_name("移動した.xlsm").exists()


@pytest.fixture(scope="module")
def two_returns(sample, tmp_path_factory) -> tuple[Path, Path]:
    """小樽市's and 江別市's returns (41 and 42 typed) of one split of the shared sample
    master, made once for the rounds below: each round's master is a copy of the same
    bytes (the same key), so the same returned files are its own (a split and two openpyxl
    edits per round before)."""
    from renkei_xl.cycle.distribute import split_master

    folder = tmp_path_factory.mktemp("two_returns")
    master = folder / "マスター.xlsm"
    shutil.copyfile(sample, master)
    issued = split_master(master, folder / "配布")
    assert master.read_bytes() == sample.read_bytes()      # the split wrote nothing into it
    return (returned_input(master, folder, "小樽市", 41, issued=issued),
            returned_input(master, folder, "江別市", 42, issued=issued))


@pytest.mark.parametrize("round_", range(2))
def test_two_imports_and_a_recalc_at_the_same_moment_all_land(master, tmp_path, two_returns, round_):
    """Two staff members import different municipalities' returns while a third
    recalculates: every import is in the file afterwards, none reported falsely."""
    a, b = (shutil.copytree(folder, tmp_path / folder.name) for folder in two_returns)
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    # All three go at once when all three have started (each imported what it runs): a
    # moment 3 s ahead waited out ~2 s every time, and a process slower than that on a
    # loaded machine would have run alone.
    start = ctx.Barrier(3)
    procs = [ctx.Process(target=run_import, args=(str(master), str(a), start, out)),
             ctx.Process(target=run_import, args=(str(master), str(b), start, out)),
             ctx.Process(target=run_recalc, args=(str(master), start, out))]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert all(ok for *_, ok in results), results
    history = load_master(master)
    values = {(e.municipality, e.row): e.value for e in history.entries}
    # 取込履歴's rows below its header, read with file_grid (remote_payload: openpyxl's load
    # of those values, without loading every sheet of the master for one)
    log = [r for r in file_grid(master, c.IMPORT_LOG)[1:] if r[0]]
    assert sorted(r[1] for r in log) == ["小樽市", "江別市"]
    assert "41" in {v for (m, _), v in values.items() if m == "小樽市"}
    assert "42" in {v for (m, _), v in values.items() if m == "江別市"}


# ------------------------------------------------------------------------- limits

def _add_to_sheet_part(path: Path, sheet: str, xml_cells: str) -> None:
    """Cells appended to a sheet's XML as another application might have saved them."""
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        wb = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        data = {n: z.read(n) for n in names}
    rid = re.search(r'<sheet [^>]*name="' + sheet + r'"[^>]*r:id="(\w+)"', wb).group(1)
    target = re.search(r'<Relationship [^>]*Id="' + rid + r'"[^>]*Target="([^"]+)"', rels) or re.search(
        r'<Relationship [^>]*Target="([^"]+)"[^>]*Id="' + rid + '"', rels)
    part = "xl/" + target.group(1).lstrip("/").removeprefix("xl/")
    data[part] = data[part].decode().replace("</sheetData>", xml_cells + "</sheetData>").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n in names:
            z.writestr(n, data[n])


@pytest.mark.parametrize("cells", [
    '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>',
    '<row r="300000"><c r="A300000" t="inlineStr"><is><t>x</t></is></c></row>',
    '<row r="5000"><c r="ZZZ5000"><v>1</v></c></row>',
], ids=["XFD1048576", "row 300000", "column ZZZ"])
def test_a_sheet_spanning_too_far_is_refused_in_japanese_without_crashing(master, cells):
    """calamine would allocate the whole rectangle and the OS would kill the process: the
    extent is checked first, in a child process so that a crash would fail the test."""
    _add_to_sheet_part(master, "小樽市", cells)
    before = digest(master)
    for command in ("validate", "recalc"):
        out = cli_run([command, str(master)], timeout=120)
        # a sheet that cannot be read refuses the run: results without it would be wrong
        assert out.returncode == 2, out
        assert "シート「小樽市」の使用範囲が大きすぎます" in out.stderr and "マスター.xlsm" in out.stderr
        assert "Traceback" not in out.stderr and "memory allocation" not in out.stderr
        assert digest(master) == before


def test_a_part_that_inflates_far_beyond_its_size_is_refused(master):
    """A zip bomb inside the master: refused from the zip directory, before inflating."""
    with zipfile.ZipFile(master, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/media/bomb.bin", b"\0" * (40 * 2**20))
    before = digest(master)
    with pytest.raises(UserError, match="展開すると"):
        recalc_file(master)
    assert digest(master) == before


# ------------------------------------------------------------------ killed mid-write

@pytest.mark.parametrize("command", ["recalc", "validate", "collect"])
def test_a_run_killed_at_any_moment_leaves_the_old_or_the_new_master(master, tmp_path, command):
    """SIGKILL at many points of a run: the master is always the file before the run or a
    complete new one (the rename is the only moment it changes), never a broken zip. The
    points are shares of a run's own length on this machine, most over its last part where
    the backup and the new master are written: fixed delays of 0-0.3 s all fell before
    recalc's and collect's write, and only validate's was ever reached."""
    from renkei_xl.cycle.distribute import split_master
    from renkei_xl.workbook.session import load_master as load

    # One issue of the input files (a split), returned again with a new value each time, so
    # that every run has something to write.
    issued = split_master(master, tmp_path / "配布") if command == "collect" else []

    def args(i: int) -> list[str]:
        if command == "collect":
            return [command, str(master), str(returned_input(master, tmp_path / f"r{i}", "小樽市", 40 + i, issued=issued))]
        return [command, str(master)]

    def run(args: list[str], kill_after: float) -> dict:
        """The command in a child process (forked from one that has imported the tool:
        tests/forked_cli.py), its process group killed (SIGKILL) if it runs past ``kill_after``."""
        return run_forked(args, str(tmp_path), dict(os.environ), os.devnull, os.devnull, PLAIN, kill_after)

    first = run(args(0), 60)
    assert not first["timed_out"] and first["code"] in (0, 1), first   # a first run writes more (a first import's log)
    second = run(args(99), 60)
    assert not second["timed_out"] and second["code"] in (0, 1), second
    whole = second["seconds"]
    before = digest(master)
    outcomes = set()
    # A run is about 0.1 s, so the load of the moment moves it by as much: the points reach past it.
    for i, share in enumerate([0.3, 0.6, 0.75, 0.85, 0.9, 0.95, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0], start=1):
        run(args(i), share * whole)
        now = digest(master)
        if now == before:
            outcomes.add("old")
            continue
        with zipfile.ZipFile(master) as z:
            assert z.testzip() is None
        data = load(master)              # opens and reads as a master
        assert len(data.indicators) == 80
        outcomes.add("new")
        before = now
    print("OUTCOMES", command, outcomes, whole)
    assert outcomes, outcomes
    # whatever was left behind, the next run cleans up after a while and works
    recalc_file(master)


def test_split_writes_formula_looking_text_as_text(master, tmp_path):
    """A status a municipality typed as =HYPERLINK(…) goes out in its input file as text."""
    from renkei_xl.cycle.distribute import split_master

    entry = next(e for e in load_master(master).entries if e.municipality == "小樽市")
    staff_types(master, "小樽市", entry.cell("status"), '=HYPERLINK("http://example.com","x")')
    files = split_master(master, tmp_path / "配布")
    otaru = next(p for p in files if "小樽市" in p.name)
    with zipfile.ZipFile(otaru) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        strings = z.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in z.namelist() else ""
    assert not any("<f>" in x for x in sheets)
    assert "=HYPERLINK(" in strings + "".join(sheets)


@pytest.fixture(scope="module")
def large_master(tmp_path_factory) -> Path:
    """3,000 indicators × 12 municipalities, built as the benchmarks build theirs."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from run import synthetic  # noqa: E402

    from renkei_xl.workbook.build import build_master

    settings, indicators, entries = synthetic(3000, 12)
    return build_master(tmp_path_factory.mktemp("large") / "large.xlsx", settings, indicators, entries)


def test_a_large_master_killed_at_any_moment_is_the_old_or_the_new_one(large_master, tmp_path):
    """Killed at points spread over a run as long as one takes on this machine, most of them
    over its last part, where the backup and the new master are written (fixed delays fell
    after a run's end on a fast machine, before its write on a busy one, and slept on after
    a run had ended); a run that ended before its kill point is a whole one, the new master."""
    import signal
    import subprocess
    import sys

    master = tmp_path / "large.xlsx"
    shutil.copyfile(large_master, master)
    before = digest(master)

    def recalc():
        return subprocess.Popen([sys.executable, "-m", "renkei_xl.cli", "recalc", str(master)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    recalc_file(master)                 # in this process: no kill and no timing of this one
    assert digest(master) != before
    started = time.monotonic()          # a recalc of a recalculated master, as each below is
    assert recalc().wait(timeout=120) == 0
    whole = time.monotonic() - started
    before = digest(master)
    for share in [0.2, 0.5, 0.65, 0.75, 0.85, 0.9, 0.95, 1.05]:
        proc = recalc()
        try:
            proc.wait(timeout=share * whole)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=120)
        now = digest(master)
        if now != before:
            with zipfile.ZipFile(master) as z:
                assert z.testzip() is None
            assert len(load_master(master).indicators) == 3000
            before = now
    result, _ = recalc_file(master)     # and it still works afterwards
    assert len(result.indicators) == 3000


def test_a_sheet_with_a_million_empty_styled_rows_is_read_in_bounded_time(master):
    """Formatting applied down to row 1,048,576 is not data: the run reads only the cells
    that hold values (the rows are in the XML, and nothing is allocated for them)."""
    import subprocess
    import sys

    rows = "".join(f'<row r="{r}" s="1" customFormat="1"/>' for r in range(200, 1_048_577))
    _add_to_sheet_part(master, "小樽市", rows)
    start = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "renkei_xl.cli", "recalc", str(master)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out
    assert "52／71" in out.stdout
    assert time.monotonic() - start < 60


# ------------------------------------------------ the folder as staff see it on Windows

@pytest.fixture
def cwd(tmp_path) -> Path:
    """Where a child command runs (it keeps its temporary files there)."""
    folder = tmp_path / "cwd"
    folder.mkdir()
    return folder


def _user(args: list[str], cwd: Path):
    """The command line in a child process, held to file modes as a user is (root without
    its override; a 0444 file is then what Windows' 読み取り専用 attribute is)."""
    from test_hostile_files import run_cli

    return run_cli(args, cwd, as_a_user=True)


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("command", ["recalc", "validate", "history"])
def test_a_read_only_master_is_refused_before_anything_is_written(master, tmp_path, cwd, command):
    """Every writing command: one Japanese sentence naming the file and how to lift the
    attribute, exit 2, the master unchanged, no backup (it was 予期しないエラー, exit 3)."""
    csv = tmp_path / "経年.csv"
    csv.write_text("指標ID,年度,実績値,評価\n02-1,2022,3回,◎\n", encoding="utf-8")
    args = {"history": ["history", "import", str(master), str(csv)]}.get(command, [command, str(master)])
    os.chmod(master, 0o444)
    before, listing = digest(master), _listing(master.parent)
    run = _user(args, cwd)
    assert run.code == 2, run
    assert run.err.strip() == (f"エラー: 「{master.name}」は読み取り専用です。エクスプローラーでファイルのプロパティを開き、"
                               "「読み取り専用」を外してからもう一度実行してください。何も書き込んでいません"), run
    assert digest(master) == before and _listing(master.parent) == listing


def test_export_onto_a_read_only_final_list_is_refused(master, cwd):
    final = master.with_name("確定版.xlsx")
    assert cli_main(["export", str(master), "-o", str(final)]) == 0
    os.chmod(final, 0o444)
    before, listing = digest(final), _listing(master.parent)
    run = _user(["export", str(master), "-o", str(final)], cwd)
    assert run.code == 2 and "「確定版.xlsx」は読み取り専用です" in run.err, run
    assert digest(final) == before and _listing(master.parent) == listing


def test_a_look_without_writing_needs_no_write_access_and_no_closed_workbook(master, tmp_path, cwd):
    """validate --no-write in a folder staff may only read, and beside Excel's owner file:
    it reads the last saved state, as evaluate does, and says so in one line when the
    workbook is open."""
    ro = tmp_path / "閲覧のみ"
    ro.mkdir()
    shutil.move(master, ro / master.name)
    book = ro / master.name
    try:
        os.chmod(ro, 0o555)
        run = _user(["validate", "--no-write", str(book)], cwd)
        assert run.code == 0 and run.out.startswith("入力チェック: "), run
        shown = run.out
    finally:
        os.chmod(ro, 0o755)
    (ro / ("~$" + book.name)).write_bytes(b"\x05staff")
    before = digest(book)
    run = _user(["validate", "--no-write", str(book)], cwd)
    assert run.code == 0, run
    first, *rest = run.out.splitlines()
    assert first == (f"「{book.name}」は Excel で開かれています（~${book.name} があります）。"
                     "最後に保存された内容を読みました（保存していない変更は含みません）"), run
    assert "\n".join(rest) + "\n" == shown
    assert digest(book) == before and _listing(ro) == sorted([book.name, "~$" + book.name])
    assert cli_main(["validate", str(book)]) == 2          # writing is still refused while it is open
    assert digest(book) == before


def test_no_lock_file_is_left_beside_any_file_a_command_was_given(master, sample, tmp_path):
    """Beside a master written, a master read, and files refused (not a master, empty, an
    input file): the folder holds what it held (Explorer shows dot-files)."""
    from renkei_xl.cycle.distribute import split_master

    folder = master.parent
    foreign = folder / "グラフ.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = 1
    wb.save(foreign)
    (folder / "空.xlsx").write_bytes(b"")
    csv = folder / "経年.csv"
    csv.write_text("指標ID,年度,実績値,評価\n02-1,2022,3回,◎\n", encoding="utf-8")
    split_master(master, folder / "配布用", echo=lambda _line: None)
    input_file = next((folder / "配布用").iterdir())
    listing = _listing(folder)
    for args in (["validate", str(foreign)], ["recalc", str(folder / "空.xlsx")],
                 ["upgrade-macros", str(foreign)], ["recalc", str(input_file)],
                 ["history", "import", str(input_file), str(csv)]):
        assert cli_main(args) == 2, args
    assert _listing(folder) == listing and not any(p.name.startswith(".") for p in input_file.parent.iterdir())
    for args in (["recalc", str(master)], ["validate", str(master)], ["upgrade-macros", str(master)],
                 ["rollover", str(master)]):
        assert cli_main(args) in (0, 1), args
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]


def test_another_open_workbook_does_not_make_this_one_open(master):
    """Excel has さっぽろ圏_2023年度_マスター.xlsm open; 旧_さっぽろ圏_2023年度_マスター.xlsm is another
    workbook, and is written (staff were told to delete the open workbook's owner file)."""
    open_book = master.with_name("さっぽろ圏_2023年度_マスター.xlsm")
    old = master.with_name("旧_さっぽろ圏_2023年度_マスター.xlsm")
    shutil.copyfile(master, open_book)
    shutil.copyfile(master, old)
    (master.parent / ("~$" + open_book.name)).write_bytes(b"\x05staff")
    before = digest(old)
    assert cli_main(["recalc", str(old)]) == 0
    assert digest(old) != before
    assert cli_main(["recalc", str(open_book)]) == 2


def test_a_master_with_the_longest_legal_name_is_written(master, tmp_path, capsys):
    """80 kana (245 bytes with .xlsm): the tool's own lock, temporary and backup names were
    too long, and staff read 「フォルダーに書き込めません（File name too long）」."""
    long_master = master.with_name("あ" * 80 + ".xlsm")
    master.rename(long_master)
    before = digest(long_master)
    assert cli_main(["recalc", str(long_master)]) == 0, capsys.readouterr()
    assert digest(long_master) != before
    names = [p.name for p in long_master.parent.rglob("*")]
    assert all(len(n.encode()) <= 255 for n in names) and len(names) == 3, names   # master, folder, backup
    too_long = long_master.with_name("い" * 85 + ".xlsm")
    assert cli_main(["recalc", str(long_master), "-o", str(too_long)]) == 2
    err = capsys.readouterr().err
    assert "名前が長すぎて使えません" in err and "255 バイトまで" in err and "File name" not in err, err


def test_a_folder_that_cannot_be_written_is_said_in_japanese(master, cwd):
    """The system's reason was shown as it came, in English (「（Permission denied）」)."""
    folder = master.parent / "閲覧のみ"
    folder.mkdir()
    book = folder / master.name
    shutil.copyfile(master, book)
    os.chmod(folder, 0o555)
    try:
        run = _user(["recalc", str(book)], cwd)
    finally:
        os.chmod(folder, 0o755)
    assert run.code == 2, run
    assert f"フォルダー「{folder}」に" in run.err and "（書き込む権限がありません）" in run.err, run
    assert "Permission" not in run.err, run
    assert _listing(folder) == [book.name]


def test_a_backup_folder_that_cannot_be_written_is_said_as_such_with_a_remedy_for_it(master, cwd):
    """マスター_バックアップ at mode 555: staff read 「フォルダー「…_バックアップ」に書き込めません …
    書き込めるフォルダーを指定してから」, though no command names the backup folder (it sits
    beside the master). Now it is called the backup folder, and the remedy is its rights or
    moving the master."""
    folder = master.parent / "マスター_バックアップ"
    folder.mkdir()
    before = digest(master)
    folder.chmod(0o555)
    try:
        run = _user(["recalc", str(master)], cwd)
    finally:
        folder.chmod(0o755)
    assert run.code == 2, run
    assert run.err.strip() == (f"エラー: バックアップ用のフォルダー「{folder}」に書き込めません（書き込む権限がありません）。"
                               "何も書き込んでいません。このフォルダーのアクセス権（書き込めるか）を確かめるか、"
                               f"「{master.name}」を書き込めるフォルダーに移してから、もう一度実行してください"), run
    assert digest(master) == before and _listing(folder) == []


def test_the_folder_a_writer_lock_goes_in_is_the_one_named(master, tmp_path, cwd):
    """split's lock on 配布用 is a hidden file beside it, in the folder above: that folder at
    mode 555 was said 「「配布用」のフォルダーに書き込めません」, naming neither folder plainly."""
    year = tmp_path / "年度"
    outdir = year / "配布用"
    outdir.mkdir(parents=True)
    year.chmod(0o555)
    try:
        run = _user(["split", str(master), "--outdir", str(outdir)], cwd)
    finally:
        year.chmod(0o755)
    assert run.code == 2, run
    assert (f"エラー: フォルダー「{year}」に「配布用」の書き込み用の隠しファイル .配布用.renkei-lock を作れません"
            "（書き込む権限がありません）。何も書き込んでいません。このフォルダーのアクセス権（書き込めるか）を確かめるか、"
            in run.err), run
    assert "「配布用」のフォルダー" not in run.err and _listing(outdir) == [], run


def test_a_folder_that_cannot_be_made_names_the_folder_that_refused(master, tmp_path, cwd):
    """配布用 missing in a folder at mode 555: the refusal named only 配布用, which is not there
    (on the server, IT was asked to give rights to 「このフォルダー」, the missing one)."""
    year = tmp_path / "年度"
    year.mkdir()
    year.chmod(0o555)
    try:
        run = _user(["split", str(master), "--outdir", str(year / "配布用")], cwd)
    finally:
        year.chmod(0o755)
    assert run.code == 2, run
    assert (f"入力用ファイルの作成先のフォルダー「{year / '配布用'}」を作れません（フォルダー「{year}」に書き込む権限が"
            f"ありません）。何も書き込んでいません。フォルダー「{year}」のアクセス権（書き込めるか）を確かめるか、" in run.err), run


def test_a_folder_in_the_name_of_a_writer_lock_is_said_as_such(master):
    """A folder named as the master's writer lock (.マスター.xlsm.renkei-lock, made by hand or
    by a sync tool): 「「…」のフォルダーに書き込めません（フォルダーです）」 read as nonsense."""
    import io
    from contextlib import redirect_stderr

    from renkei_xl.safety import writer_lock_file

    lock = writer_lock_file(master)
    lock.mkdir()
    before, err = digest(master), io.StringIO()
    with redirect_stderr(err):
        assert cli_main(["recalc", str(master)]) == 2
    assert err.getvalue().strip() == (
        f"エラー: フォルダー「{lock.parent}」に、「{master.name}」の書き込み用の隠しファイル {lock.name} と同じ名前の"
        f"フォルダーがあるため、その隠しファイルを作れません。何も書き込んでいません。そのフォルダー {lock.name} の名前を"
        "変えるか削除してから、もう一度実行してください"), err.getvalue()
    assert digest(master) == before and lock.is_dir()


def test_a_share_without_locks_names_the_folder_the_lock_is_in(tmp_path, monkeypatch):
    """ENOLCK on 配布用's lock (it lies in the folder above) was said 「「配布用」のフォルダーでは」."""
    import fcntl

    from renkei_xl.safety import writer_lock

    outdir = tmp_path / "年度" / "配布用"
    outdir.mkdir(parents=True)

    def no_locks(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with pytest.raises(UserError) as refused:
        with writer_lock(outdir):
            pass
    assert str(refused.value).startswith(f"フォルダー「{outdir.parent}」ではファイルのロックが使えないため（ロックを使えません）"), refused.value


def test_a_full_disk_met_in_a_click_sends_staff_to_it(tmp_path):
    """「空き容量を増やしてから」 is not staff's to do for the server's disk: a click is sent to
    IT, as the last guard's place_refusal already did (one rule: safety._full_remedy)."""
    from renkei_xl.safety import _full_said, confined

    full = OSError(errno.ENOSPC, "No space left on device")
    assert "空き容量（または割り当て）を増やしてから" in str(_full_said(full, "「台帳.xlsx」"))
    with confined(tmp_path):
        said = str(_full_said(full, "「台帳.xlsx」"))
    assert "IT 担当者に、サーバーのディスクの空き容量と割り当てを確かめてもらってください" in said and "増やして" not in said, said


@pytest.mark.parametrize("command", ["split", "collect", "make_folder", "validate"])
def test_a_folder_on_the_way_this_account_may_not_look_into_is_named_in_japanese(master, tmp_path, cwd, command):
    """Path.is_dir and Path.exists raise PermissionError below a folder the account may not
    look into (rights staff set on the share): split (refuse_not_file), collect given such a
    folder (expand_paths), make_folder's second look and a master inside such a folder
    (check_path) ended as 予期しないエラー."""
    locked = tmp_path / "閉じたフォルダー"
    locked.mkdir()
    target = locked / "中" / "配布用"
    shutil.copyfile(master, locked / master.name)
    args = {"split": ["split", str(master), "--outdir", str(target)],
            "collect": ["collect", str(master), str(target)],
            "validate": ["validate", str(locked / master.name)]}.get(command)
    os.chmod(locked, 0o000)
    try:
        if args is not None:
            run = _user(args, cwd)
            code, err = run.code, run.err
        else:
            import subprocess
            import sys

            probe = ("from pathlib import Path\nfrom renkei_xl.safety import make_folder\n"
                     "from renkei_xl.core.errors import UserError\ntry:\n"
                     f"    make_folder(Path({str(target)!r}), '配布用')\n"
                     "except UserError as exc:\n    print(exc)\n    raise SystemExit(2)\n")
            caps = "-dac_override,-dac_read_search"
            done = subprocess.run(["setpriv", "--bounding-set", caps, "--inh-caps", caps, sys.executable, "-c", probe],
                                  capture_output=True, text=True, timeout=60)
            code, err = done.returncode, done.stdout + done.stderr
    finally:
        os.chmod(locked, 0o755)
    assert code == 2 and f"フォルダー「{locked}」の中を読めません（アクセス権がありません）" in err, err
    assert "予期しない" not in err and "Traceback" not in err, err


@pytest.mark.parametrize("mode", [0o000, 0o311])
@pytest.mark.parametrize("command", ["recalc", "collect"])
def test_a_backup_folder_this_account_may_not_list_is_said_in_japanese(master, tmp_path, cwd, command, mode):
    """マスター_バックアップ closed by its rights (mode 000, or 0311: looked through but not
    listed, an ACL IT set on the share): listing the backups raised PermissionError, and
    recalc and collect ended as 「予期しないエラー」 (exit 3) with nothing written. Run without
    root's rights over modes (tests/test_hostile_files.run_cli: setpriv when run as root)."""
    folder = master.parent / "マスター_バックアップ"
    folder.mkdir()
    args = ["recalc", str(master)]
    if command == "collect":
        args = ["collect", str(master), str(returned_input(master, tmp_path / "戻り", "小樽市", 7))]
    before, listing = digest(master), _listing(master.parent)
    folder.chmod(mode)
    try:
        run = _user(args, cwd)
    finally:
        folder.chmod(0o755)
    assert run.code == 2, run
    assert f"バックアップ用のフォルダー「{folder}」の中を読めません（アクセス権がありません）。何も書き込んでいません" in run.err, run
    assert "予期しない" not in run.err and "Traceback" not in run.err and "Permission" not in run.err, run
    assert digest(master) == before and _listing(master.parent) == listing and _listing(folder) == []
    assert cli_main(args) == 0 and digest(master) != before       # the rights given back: the next run works


def test_a_place_the_system_refuses_where_no_step_names_it_is_said_in_japanese(tmp_path, cwd):
    """init into a folder this account may not look into (mode 000): no step of init asks the
    folder's rights first, so PermissionError reached the last guard and staff read
    「予期しないエラーが発生しました（PermissionError: [Errno 13] Permission denied: …）」,
    exit 3, for a cause they can mend. The last guard now says rights, a read-only place and
    a full disk as such (safety.place_refusal), naming the file; the details are still logged."""
    closed = tmp_path / "closed"
    closed.mkdir()
    closed.chmod(0o000)
    try:
        run = _user(["init", str(closed / "新.xlsx")], cwd)
    finally:
        closed.chmod(0o755)
    assert run.code == 2, run
    assert f"エラー: 「{closed / '新.xlsx'}」を読み書きできませんでした（アクセス権がありません）。" in run.err, run
    assert "ファイルとフォルダーのアクセス権" in run.err and "ブックは変更していません" in run.err, run
    assert "予期しない" not in run.err and "Permission" not in run.err and "Traceback" not in run.err, run
    assert list(closed.iterdir()) == []


@pytest.mark.parametrize("code, reason", [(errno.EACCES, "アクセス権がありません"), (errno.EPERM, "アクセス権がありません"),
                                          (errno.EROFS, "読み取り専用の場所です"),
                                          (errno.ENOSPC, "ディスクの空き容量が足りません"),
                                          (errno.EDQUOT, "ディスクの割り当てが足りません"),
                                          (errno.EFBIG, "ファイルの大きさの上限を超えます")])
def test_the_place_refusals_say_the_cause_and_the_remedy_of_the_face(tmp_path, code, reason):
    """Each cause of the place, on the command line and on the server (a confined click, where
    staff are sent to IT): the file named, the reason in Japanese, never the system's English."""
    from renkei_xl.safety import confined, place_refusal

    target = tmp_path / "台帳.xlsx"
    said = place_refusal(OSError(code, os.strerror(code), str(target)))
    assert said.startswith(f"「{target}」を読み書きできませんでした（{reason}）。") and "IT 担当者" not in said, said
    with confined(tmp_path):
        on_server = place_refusal(OSError(code, os.strerror(code), str(target)))
    assert "IT 担当者" in on_server and reason in on_server, on_server
    assert place_refusal(OSError(code, os.strerror(code))).startswith("ファイルまたはフォルダーを読み書きできませんでした")
    assert os.strerror(code) not in said


def test_other_errors_are_left_to_the_last_guards_own_words():
    from renkei_xl.safety import place_refusal

    assert place_refusal(OSError(errno.EIO, "Input/output error", "x")) is None
    assert place_refusal(ValueError("x")) is None
    assert place_refusal(FileNotFoundError(errno.ENOENT, "No such file", "x")) is None


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
@pytest.mark.parametrize("command", ["split", "export", "rollover"])
@pytest.mark.parametrize("kind, said", [("fifo", "名前付きパイプ（FIFO）"), ("device", "デバイス")])
def test_a_pipe_or_a_device_under_a_name_to_be_written_is_said_as_such(master, tmp_path, capsys, command, kind, said):
    """A named pipe, or a link to /dev/null, under the name split, export or rollover writes:
    the backup of what is replaced said 「バックアップを作れません: … が見つかりません」 of a name
    staff could see (Path.is_file is False for it). It is now named by its kind, nothing
    written, the master as it was (found by walkers62 on a server's 配布用 folder)."""
    folder = tmp_path / "out"
    folder.mkdir()
    if command == "split":
        target, argv = folder / "札幌市_2023年度_入力.xlsx", ["split", str(master), "--outdir", str(folder)]
    elif command == "export":
        target = folder / "確定版.xlsx"
        argv = ["export", str(master), "-o", str(target)]
    else:
        target = folder / "次年度.xlsm"
        argv = ["rollover", str(master), "-o", str(target)]
    if kind == "fifo":
        os.mkfifo(target)
    else:
        target.symlink_to(os.devnull)
    before = digest(master)
    capsys.readouterr()
    assert cli_main(argv) == 2
    err = capsys.readouterr().err
    assert f"「{target}」は{said}で、ファイルではありません" in err and "見つかりません" not in err, err
    assert sorted(p.name for p in folder.iterdir()) == [target.name]
    assert digest(master) == before


@pytest.mark.parametrize("when", ["before the backup", "after the rename"])
def test_ctrl_c_says_whether_the_master_was_written(master, monkeypatch, capsys, when):
    """Ctrl+C lands between any two steps of a command: before anything is written, or after
    the master was renamed into place (the lines still to print). 「中断しました。」 alone left
    staff to guess which; now the message says, as an unexpected error's does."""
    from renkei_xl import safety

    before = digest(master)
    if when == "before the backup":
        def stop(*args, **kwargs):
            raise KeyboardInterrupt
        monkeypatch.setattr(safety, "backup", stop)
    else:
        noted = safety._note_replaced

        def stop(*args):
            noted(*args)
            raise KeyboardInterrupt
        monkeypatch.setattr(safety, "_note_replaced", stop)
    assert cli_main(["recalc", str(master)]) == 130
    err = capsys.readouterr().err
    if when == "before the backup":
        assert err.strip() == "中断しました。ブックは変更していません。", err
        assert digest(master) == before
    else:
        assert err.strip() == f"中断しました。ただし、中断の前に「{master}」は書き込み済みです（前の内容はバックアップにあります）。", err
        assert digest(master) != before and zipfile.ZipFile(master).testzip() is None


def test_ctrl_c_after_a_new_file_claims_no_backup(master, tmp_path, monkeypatch, capsys):
    """A file that was not there before (rollover's next master) has no backup: 「（前の内容は
    バックアップにあります）」 sent staff looking for one."""
    from renkei_xl import safety

    noted = safety._note_replaced

    def stop(*args):
        noted(*args)
        raise KeyboardInterrupt
    monkeypatch.setattr(safety, "_note_replaced", stop)
    nxt = tmp_path / "次年度.xlsm"
    assert cli_main(["rollover", str(master), "-o", str(nxt)]) == 130
    err = capsys.readouterr().err
    assert err.strip() == f"中断しました。ただし、中断の前に「{nxt}」は書き込み済みです。", err

def test_ctrl_c_in_split_says_how_many_files_were_written(master, tmp_path, monkeypatch, capsys):
    """Ctrl+C while split wrote its files (it prints its list only at the end) said
    「ただし、中断の前に「配布用/石狩市_2023年度_入力依頼.eml」は書き込み済みです」: one file named,
    though sixteen had been replaced and the rest not, the folder staff mail from holding two
    issues. Now the count is said, with the last one, and that running it again writes the rest."""
    from renkei_xl import safety

    noted, calls = safety._note_replaced, []

    def stop(*args):
        noted(*args)
        calls.append(args)
        if len(calls) == 3:
            raise KeyboardInterrupt
    monkeypatch.setattr(safety, "_note_replaced", stop)
    outdir = tmp_path / "配布用"
    assert cli_main(["split", str(master), "--outdir", str(outdir)]) == 130
    err = capsys.readouterr().err
    assert err.startswith("中断しました。ただし、中断の前にファイル 3 個を書き込み済みです（最後は「"), err
    assert "ほかに書き込むはずだったファイルは前のままです。もう一度実行してください。" in err, err
    assert "バックアップにあります" not in err, err
    assert len(list(outdir.glob("*.xlsx"))) == 3


@pytest.mark.skipif(os.name == "nt", reason="POSIX counts a name's bytes")
@pytest.mark.parametrize("command", ["recalc", "export"])
def test_a_master_named_to_the_limit_is_written_though_its_owner_file_name_could_not_be(
        sample, tmp_path, capsys, command):
    """A master's name of 254 bytes is one the file system takes; Excel's owner file for it
    ("~$" + the name) is not. Looking for that owner file raised ENAMETOOLONG, and recalc
    and export were refused naming 「~$…」 as too long (export after writing its 確定版,
    saying nothing was written). No application can make such an owner file: none is there."""
    name = "さっぽろ圏_2023年度_" + "マ" * 74 + ".xlsm"
    assert len(name.encode()) == 254
    master = tmp_path / name
    shutil.copyfile(sample, master)
    assert cli_main([command, str(master)]) == 0, capsys.readouterr().err
    assert "~$" not in capsys.readouterr().err
    assert zipfile.ZipFile(master).testzip() is None

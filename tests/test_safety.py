"""Safe writes: atomic replace, Excel's lock files, backups, and the tool's own writer lock.

What the writer keeps of a workbook (every part it has no business with, byte for byte)
is proved in test_package_keeps.py.
"""

from __future__ import annotations

import datetime
import errno
import json
import os
import re
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from renkei_xl import safety
from renkei_xl.core.errors import UserError
from renkei_xl.safety import (
    KEEP_BACKUPS, KEEP_DAYS,
    atomic_path, atomic_write, backup, ensure_not_open, list_backups, lock_file, replace_file, writer_lock,
    writer_lock_file,
)

# ----------------------------------------------------------------- helpers


def make_book(path: Path) -> Path:
    """A small real workbook: a staff sheet 指標 and a tool-owned sheet 集計."""
    wb = xlsxwriter.Workbook(str(path))
    staff = wb.add_worksheet("指標")
    owned = wb.add_worksheet("集計")
    for row in range(5):
        staff.write_row(row, 0, [row + 1, (row + 1) * 2, "◎"])
        owned.write_row(row, 0, [row + 1, (row + 1) * 3])
    wb.close()
    return path


def wait_for(path: Path, proc: subprocess.Popen, seconds: float = 60) -> None:
    """Until ``path`` exists; fails early with the child's output if the child died."""
    deadline = time.monotonic() + seconds
    while not path.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the child ended early ({proc.returncode}): {out}{err}")
        if time.monotonic() > deadline:
            pytest.fail(f"{path.name} did not appear within {seconds} s")
        time.sleep(0.01)


def end(proc: subprocess.Popen) -> None:
    """End a child this test started, if it is still running."""
    if proc.poll() is None:
        proc.kill()
    proc.communicate(timeout=30)


# ----------------------------------------------------------------- atomic writes


def test_every_write_point_refuses_a_folder_out_of_the_confinement(tmp_path):
    """On the server every write lands in the click's folder: folders are made at a write
    point too (make_folder, parents included), and it refused nothing outside."""
    inside, outside = tmp_path / "work" / "2023年度", tmp_path / "elsewhere"
    inside.mkdir(parents=True)
    (inside / "link").symlink_to(outside, target_is_directory=False)
    with safety.confined(inside):
        for folder in (outside / "a" / "b", inside / ".." / "x", inside / "link" / "sub"):
            with pytest.raises(safety.OutsideFolder):
                safety.make_folder(folder, "テスト")
        safety.make_folder(inside / "配布用", "テスト")
    assert not outside.exists() and not (tmp_path / "work" / "x").exists() and (inside / "配布用").is_dir()


def test_a_folder_that_cannot_be_made_names_a_file_only_where_there_is_one(tmp_path):
    """`split --outdir` onto a read-only share, or where a part of the path is a file, said
    「そのファイルの名前を変えるか、書き込める場所に…」: no file had that name, and staff looked
    for one. The file is named only when one has the folder's name (qa-99)."""
    (tmp_path / "報告.txt").write_text("x", encoding="utf-8")
    with pytest.raises(UserError) as said:
        safety.make_folder(tmp_path / "報告.txt" / "配布用", "入力用ファイルの作成先")
    assert "途中がフォルダーではありません" in str(said.value) and "そのファイル" not in str(said.value)
    assert "書き込める場所にしてから、もう一度実行してください" in str(said.value), said.value
    with pytest.raises(UserError) as said:
        safety.make_folder(tmp_path / "報告.txt", "入力用ファイルの作成先")
    assert "同じ名前のファイルがあります" in str(said.value) and "そのファイルの名前を変えるか" in str(said.value)


@pytest.mark.parametrize("swapped", ["配布用", "2023年度"])
def test_a_folder_swapped_for_a_link_while_a_button_writes_gets_nothing_out_of_the_folder(tmp_path, swapped):
    """Time of check, time of use: the write point checked the folder when the write began;
    while the button wrote (seconds), someone on the share renamed 配布用 (or the year's
    folder) and put a link of its name to elsewhere. The writer writes the temporary file
    by its name, through the link, and the rename by name put the result there: out of the
    click's folder, out of the work folder."""
    work = tmp_path / "work"
    year = work / "2023年度"
    (year / "配布用").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "配布用").mkdir(parents=True)
    target = year / "配布用" / "小樽市_2023年度_入力.xlsx"
    with safety.confined(work):
        with pytest.raises(safety.OutsideFolder, match="置き換えられたか、移動されました"):
            with atomic_path(target) as tmp:
                link = year / "配布用" if swapped == "配布用" else year
                link.rename(link.with_name("移した"))
                link.symlink_to(elsewhere / "配布用" if swapped == "配布用" else elsewhere, target_is_directory=True)
                tmp.write_bytes(b"the result")
    assert not [p for p in elsewhere.rglob("*") if p.is_file()]


def test_a_return_replaced_by_a_link_after_it_was_listed_is_not_read(tmp_path):
    """回収取込 lists the folder (links out of it refused there), then reads the returns one
    by one, seconds later for the last of forty: a return replaced meanwhile by a link to a
    workbook out of the work folder was read there and imported into the clicking master."""
    from renkei_xl.cycle.collect.inspect import _read
    from renkei_xl.cycle.collect.paths import expand_paths
    from renkei_xl.cycle.collect.records import Refused

    year = tmp_path / "work" / "2023年度"
    (year / "回収").mkdir(parents=True)
    returned = year / "回収" / "小樽市_2023年度_入力.xlsx"
    returned.write_bytes(b"PK the return")
    secret = tmp_path / "elsewhere" / "秘密.xlsx"
    secret.parent.mkdir()
    secret.write_bytes(b"PK another office's data")
    with safety.confined(year):
        files, refusals = expand_paths([year / "回収"])
        assert files == [returned] and not refusals
        returned.unlink()
        returned.symlink_to(secret)         # someone on the share, while the click reads
        with pytest.raises(Refused, match="外を指すリンク"):
            _read(returned)
        returned.unlink()
        returned.write_bytes(b"PK the return, saved again")
        assert _read(returned) == b"PK the return, saved again"
    assert _read(returned) == b"PK the return, saved again"     # no confinement: the command line


def test_atomic_write_replaces_content_and_keeps_permissions(tmp_path):
    target = tmp_path / "master.xlsx"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    atomic_write(target, lambda tmp: tmp.write_bytes(b"new content"))
    assert target.read_bytes() == b"new content"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["master.xlsx"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="giving a file to another account needs root")
def test_a_replaced_file_keeps_its_owner_and_group(tmp_path):
    """A master on a share served from Linux, written by the server's account or a command
    run as root, became theirs: the office's group, and with it the colleagues' right to
    save the master, was lost though the mode was kept."""
    target = tmp_path / "master.xlsm"
    target.write_bytes(b"office's")
    os.chown(target, 1234, 2345)
    os.chmod(target, 0o664)
    atomic_write(target, lambda tmp: tmp.write_bytes(b"new"))
    st = os.stat(target)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1234, 2345, 0o664)
    assert target.read_bytes() == b"new"


def _acl(*entries: tuple) -> bytes:
    """A POSIX access ACL as the kernel stores it (system.posix_acl_access): version 2, then
    (tag, permissions, id) entries; tags 1 owner, 2 a named user, 4 group, 0x10 mask, 0x20 other."""
    import struct

    return struct.pack("<I", 2) + b"".join(struct.pack("<HHI", tag, perm, uid) for tag, perm, uid in entries)


def test_a_replaced_file_keeps_its_acl_and_extended_attributes(tmp_path):
    """On a share served from Linux, IT gives a colleague the right to save the master by an
    ACL (Samba maps Windows permissions onto one) and Samba keeps the DOS attributes beside
    the file: the tool's write made a new file with neither, and the colleague could no
    longer save the master."""
    target = tmp_path / "master.xlsm"
    target.write_bytes(b"office's")
    os.chmod(target, 0o644)
    none = 0xFFFFFFFF
    acl = _acl((1, 6, none), (2, 6, 1234), (4, 4, none), (0x10, 6, none), (0x20, 4, none))
    os.setxattr(target, "system.posix_acl_access", acl)
    os.setxattr(target, "user.DOSATTRIB", b"0x20")
    atomic_write(target, lambda tmp: tmp.write_bytes(b"new"))
    assert os.getxattr(target, "system.posix_acl_access") == acl
    assert os.getxattr(target, "user.DOSATTRIB") == b"0x20"
    assert target.read_bytes() == b"new" and stat.S_IMODE(target.stat().st_mode) == 0o664


def test_atomic_write_new_file_gets_normal_permissions(tmp_path):
    target = tmp_path / "new.xlsx"
    umask = os.umask(0o022)
    try:
        atomic_write(target, lambda tmp: tmp.write_bytes(b"x"))
    finally:
        os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_failure_after_temp_file_is_written_leaves_target_identical(tmp_path):
    target = make_book(tmp_path / "master.xlsx")
    before = target.read_bytes()
    seen = {}

    def write_then_fail(tmp: Path):
        make_book(tmp)  # the whole new workbook is on disk ...
        seen["tmp"] = tmp
        assert tmp.stat().st_size > 0 and tmp.parent == target.parent
        assert tmp.name.startswith(".~renkei-") and tmp.suffix == ".xlsx"
        raise RuntimeError("injected between writing and the rename")

    with pytest.raises(RuntimeError, match="injected"):
        atomic_write(target, write_then_fail)
    assert target.read_bytes() == before
    assert not seen["tmp"].exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["master.xlsx"]


def _colleague_saves_while_writing(target: Path, ours: bytes):
    """A write of ``ours`` during which a colleague's save lands on ``target`` (by rename, as
    Excel saves)."""
    def write(tmp: Path):
        tmp.write_bytes(ours)
        theirs = target.with_name("theirs" + target.suffix)
        theirs.write_bytes(b"colleague's save")
        os.replace(theirs, target)
    return write


def test_a_save_by_someone_else_while_the_new_file_is_written_is_not_replaced(tmp_path):
    """The last look before the rename: a colleague's save that lands while the (long) write
    of the temporary file runs stays, and so does the backup of the version read."""
    target = tmp_path / "master.xlsm"
    target.write_bytes(b"version read")
    read_as = os.stat(target)

    with pytest.raises(UserError, match="「master.xlsm」は、この処理が読み込んだ後に別の人"):
        replace_file(target, _colleague_saves_while_writing(target, b"built from the version read"), read_as=read_as)
    assert target.read_bytes() == b"colleague's save"
    assert [p.read_bytes() for p in list_backups(target)] == [b"version read"]
    assert not list(tmp_path.glob(".~renkei-*"))


@pytest.mark.parametrize("keep", [True, safety.IF_CHANGED, False])
def test_a_save_while_a_file_is_made_anew_is_neither_replaced_nor_lost(tmp_path, keep):
    """A write that reads nothing of its target (init --force, an input file, a 確定版)
    backed up the file as it was at the start and renamed over whatever was there at the
    end: a colleague's save in between was in neither the file nor the backup."""
    target = tmp_path / "master.xlsm"
    target.write_bytes(b"version at the start")

    with pytest.raises(UserError, match="「master.xlsm」は、この処理が読み込んだ後に別の人"):
        replace_file(target, _colleague_saves_while_writing(target, b"made anew"), keep_backup=keep)
    assert target.read_bytes() == b"colleague's save"
    backed_up = {True: [b"version at the start"], safety.IF_CHANGED: [b"colleague's save"], False: []}[keep]
    assert [p.read_bytes() for p in list_backups(target)] == backed_up      # IF_CHANGED backs up at the end
    assert not list(tmp_path.glob(".~renkei-*"))


@pytest.mark.parametrize("keep", [True, safety.IF_CHANGED, False])
def test_a_file_saved_under_the_name_while_it_is_made_is_not_replaced(tmp_path, keep):
    """A file not there when the write began (a 確定版, a new master, an input file) and saved
    under its name meanwhile by a colleague was renamed over: their save in neither the file
    nor a backup (none is made of a file that was not there)."""
    target = tmp_path / "確定版.xlsx"

    def made_while_colleague_saves(tmp: Path):
        tmp.write_bytes(b"made anew")
        theirs = tmp_path / "theirs.xlsx"
        theirs.write_bytes(b"colleague's save")
        os.replace(theirs, target)

    with pytest.raises(UserError, match="「確定版.xlsx」は、この処理が書き込む間に、別の人またはプログラムが同じ名前で保存しました"):
        replace_file(target, made_while_colleague_saves, keep_backup=keep)
    assert target.read_bytes() == b"colleague's save"
    assert not list(tmp_path.glob(".~renkei-*"))
    replace_file(tmp_path / "新規.xlsx", lambda tmp: tmp.write_bytes(b"new"), keep_backup=keep)   # none appears: written
    assert (tmp_path / "新規.xlsx").read_bytes() == b"new"


def test_context_manager_flavour_with_openpyxl(tmp_path):
    target = make_book(tmp_path / "master.xlsx")
    wb = openpyxl.load_workbook(target)
    wb["指標"]["D1"] = "更新"
    with atomic_path(target) as tmp:
        wb.save(tmp)
    assert openpyxl.load_workbook(target)["指標"]["D1"].value == "更新"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["master.xlsx"]


def test_nothing_written_to_temp_keeps_target(tmp_path):
    target = tmp_path / "master.xlsx"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        atomic_write(target, lambda tmp: None)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["master.xlsx"]


# ----------------------------------------------------------------- lock files


@pytest.mark.parametrize("name, lock_name", [
    ("master.xlsm", "~$master.xlsm"),
    ("連携事業一覧マスター.xlsm", "~$連携事業一覧マスター.xlsm"),
    ("abcdefg.xlsx", "~$abcdefg.xlsx"),
    ("master.xlsm", ".~lock.master.xlsm#"),                     # LibreOffice
])
def test_open_workbook_is_refused_and_not_written(tmp_path, name, lock_name):
    target = tmp_path / name
    target.write_bytes(b"staff edits")
    (tmp_path / lock_name).write_bytes(b"\x05staff")
    with pytest.raises(UserError) as info:
        atomic_write(target, lambda tmp: tmp.write_bytes(b"ours"))
    message = str(info.value)
    app = "LibreOffice" if lock_name.startswith(".~lock.") else "Excel"
    assert f"「{name}」は {app} で開かれています（ロックファイル {lock_name} があります）" in message
    assert f"{app} で閉じてからもう一度実行してください" in message
    assert target.read_bytes() == b"staff edits"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, lock_name])


def test_a_workbook_opened_in_excel_while_the_new_file_is_written_is_not_replaced(tmp_path):
    """Writing a large master takes seconds: a colleague who opens it meanwhile would save
    their copy over the result (or, on a share, have it replaced under them). The lock file
    is looked for again just before the rename."""
    target = tmp_path / "master.xlsm"
    target.write_bytes(b"staff edits")

    def write_while_opened(tmp: Path):
        tmp.write_bytes(b"ours")
        (tmp_path / "~$master.xlsm").write_bytes(b"\x05staff")

    with pytest.raises(UserError, match="「master.xlsm」は Excel で開かれています"):
        atomic_write(target, write_while_opened)
    assert target.read_bytes() == b"staff edits"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["master.xlsm", "~$master.xlsm"]


def test_short_name_is_not_confused_with_truncated_locks(tmp_path):
    target = tmp_path / "master.xlsm"
    (tmp_path / "~$ster.xlsm").write_bytes(b"x")   # would be a lock only for a long stem
    ensure_not_open(target)
    assert lock_file(target) == tmp_path / "~$master.xlsm"


@pytest.mark.parametrize("name, other", [
    ("旧_さっぽろ圏_2023年度_マスター.xlsm", "さっぽろ圏_2023年度_マスター.xlsm"),   # the other's own owner file
    ("連携事業一覧マスター.xlsm", "事業一覧マスター.xlsm"),
    ("abcdefg.xlsx", "bcdefg.xlsx"),
])
def test_the_owner_file_of_another_open_workbook_is_not_taken_for_this_ones(tmp_path, name, other):
    """Excel names its owner file "~$" + the whole name. Word's form (the first characters
    replaced) is the owner file of another workbook here: this one is written, and the
    workbook that is open is still refused, told to delete only its own owner file."""
    target, open_book = tmp_path / name, tmp_path / other
    target.write_bytes(b"old")
    open_book.write_bytes(b"staff edits")
    (tmp_path / ("~$" + other)).write_bytes(b"\x05staff")
    atomic_write(target, lambda tmp: tmp.write_bytes(b"ours"))
    assert target.read_bytes() == b"ours"
    with pytest.raises(UserError) as info:
        atomic_write(open_book, lambda tmp: tmp.write_bytes(b"ours"))
    assert f"隠しファイル ~${other} を削除" in str(info.value)
    assert open_book.read_bytes() == b"staff edits"


# ----------------------------------------------------------------- backups


def test_twelve_backups_keep_newest_ten_in_time_order(tmp_path):
    target = tmp_path / "master.xlsm"
    made = []
    for version in range(12):
        target.write_bytes(f"version {version}".encode())
        made.append(backup(target, keep=10, days=0))
    folder = tmp_path / "master_バックアップ"
    kept = list_backups(target)
    assert sorted(folder.iterdir()) == kept
    assert len(kept) == 10
    assert kept == made[2:]                       # the two oldest went
    assert [p.read_bytes() for p in kept] == [f"version {v}".encode() for v in range(2, 12)]
    assert kept == sorted(kept, key=lambda p: p.name)
    for p in kept:
        assert re.fullmatch(r"master_\d{8}-\d{6}(_\d{3})?\.xlsm", p.name)


def test_clicks_of_one_afternoon_keep_the_last_backup_of_each_day_before(tmp_path):
    """再計算 rewrites the master at every click: twelve clicks in an afternoon rotated away
    every backup of the days before (the state before last week's import). The last one
    of each earlier day stays, for KEEP_DAYS days: still a bounded folder."""
    target = tmp_path / "master.xlsm"
    folder = tmp_path / "master_バックアップ"
    folder.mkdir()
    earlier = []
    for ago in range(40, 5, -1):                          # 35 days before today, two backups on each
        day = (datetime.date.today() - datetime.timedelta(days=ago)).strftime("%Y%m%d")
        for hhmmss in ("090000", "170000"):
            p = folder / f"master_{day}-{hhmmss}.xlsm"
            p.write_bytes(p.name.encode())
            earlier.append(p)
    today = []
    for click in range(12):
        target.write_bytes(f"click {click}".encode())
        today.append(backup(target))
    kept = list_backups(target)
    last_of_each_day = [p for p in earlier if p.name.endswith("-170000.xlsm")]
    assert kept == last_of_each_day[-KEEP_DAYS:] + today[-KEEP_BACKUPS:]
    assert len(kept) == KEEP_DAYS + KEEP_BACKUPS


def test_a_backup_stamped_ahead_by_a_wrong_clock_does_not_hang_the_next_write(tmp_path):
    """A PC on the share whose clock was a year ahead left a backup named so: the next write
    counted 999 names a second up to it, for days. It now comes right after that one."""
    target = tmp_path / "master.xlsm"
    target.write_bytes(b"now")
    folder = tmp_path / "master_バックアップ"
    folder.mkdir()
    ahead = datetime.datetime.now() + datetime.timedelta(days=365)
    (folder / f"master_{ahead:%Y%m%d-%H%M%S}_004.xlsm").write_bytes(b"from the wrong clock")
    started = time.monotonic()
    made = backup(target)
    assert time.monotonic() - started < 2
    assert made.name == f"master_{ahead:%Y%m%d-%H%M%S}_005.xlsm" and made.read_bytes() == b"now"
    assert list_backups(target)[-1] == made


def test_a_write_that_fails_again_and_again_keeps_the_older_backups(tmp_path):
    """Each try backs the master up before it fails: twelve tries on a full disk made twelve
    copies of one version, and the ten backups of the days before were rotated away."""
    target = tmp_path / "master.xlsm"
    for version in range(10):
        target.write_bytes(f"version {version}".encode())
        backup(target, keep=10)

    def disk_full(tmp: Path):
        tmp.write_bytes(b"half a")
        raise OSError(errno.ENOSPC, "No space left on device")

    for _ in range(12):
        with pytest.raises(UserError, match="ディスクの空き容量が足りない"):
            replace_file(target, disk_full)
    assert [p.read_bytes() for p in list_backups(target)] == [f"version {v}".encode() for v in range(10)]
    target.write_bytes(b"version 10")            # a write that lands is backed up again
    assert backup(target).read_bytes() == b"version 10"


def test_backup_of_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="見つかりません"):
        backup(tmp_path / "missing.xlsm")



# ------------------------------------------------------------ the writer lock

HOLDER = textwrap.dedent('''
    import sys, time
    from pathlib import Path
    from renkei_xl.safety import writer_lock
    master, held, release = map(Path, sys.argv[1:4])
    with writer_lock(master, timeout=10):
        held.write_text("held")
        while not release.exists():
            time.sleep(0.01)
    print("released")
''')


def hold_lock(tmp_path: Path, master: Path) -> tuple[subprocess.Popen, Path]:
    """A second process holding the writer lock of ``master`` until ``release`` appears."""
    held, release = tmp_path / "held", tmp_path / "release"
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(master), str(held), str(release)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(held, proc)
    return proc, release


def test_second_writer_waits_then_is_refused_then_gets_the_lock(tmp_path):
    master = tmp_path / "連携事業一覧マスター.xlsm"
    master.write_bytes(b"master")
    proc, release = hold_lock(tmp_path, master)
    try:
        started = time.monotonic()
        with pytest.raises(UserError) as info:
            with writer_lock(master, timeout=0.5):
                pytest.fail("two writers held the lock at once")
        waited = time.monotonic() - started
        assert 0.45 <= waited < 10, waited
        message = str(info.value)
        assert "「連携事業一覧マスター.xlsm」は別の renkei-xl の処理が書き込み中です" in message
        assert "その処理が終わってからもう一度実行してください" in message
        assert info.value.__suppress_context__          # one sentence, no chained traceback
        release.write_text("go")
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0 and out.strip() == "released", err
        started = time.monotonic()
        with writer_lock(master, timeout=5):
            assert time.monotonic() - started < 2
    finally:
        end(proc)
    assert master.read_bytes() == b"master"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([master.name, "held", "release"])


def test_lock_of_a_killed_writer_is_free(tmp_path):
    master = tmp_path / "master.xlsx"
    master.write_bytes(b"master")
    proc, _release = hold_lock(tmp_path, master)
    try:
        with pytest.raises(UserError):
            with writer_lock(master, timeout=0.2):
                pass
        proc.kill()
        proc.wait(timeout=30)
        with writer_lock(master, timeout=5):
            pass
    finally:
        end(proc)


def test_one_process_takes_the_lock_again_after_releasing(tmp_path):
    master = tmp_path / "master.xlsx"
    for _ in range(3):
        with writer_lock(master, timeout=1):
            assert writer_lock_file(master).parent == tmp_path
    assert not master.exists()          # the lock never creates or touches the master


@pytest.mark.parametrize("made", [False, True])
def test_no_lock_is_left_when_the_writer_is_done_and_a_waiter_still_excludes(tmp_path, made):
    """No lock file stays, beside a file that was never made (a refused rollover or export)
    nor beside one that is there (a master, or a file that was refused as one). A writer
    that was waiting on the removed lock file locks a new one, and a third still waits for
    it (the removal must not let two writers in at once)."""
    import threading

    from renkei_xl.core.errors import UserError

    target = tmp_path / "next.xlsx"
    if made:
        target.write_bytes(b"made")
    lock = writer_lock_file(target)
    held, release, seen = threading.Event(), threading.Event(), []

    def second():
        with writer_lock(target, timeout=10):
            seen.append(lock.exists())
            held.set()
            release.wait(10)

    with writer_lock(target, timeout=1):
        assert lock.exists()
        waiter = threading.Thread(target=second)
        waiter.start()
        time.sleep(0.3)                   # the second writer waits on this lock file
    assert held.wait(10) and seen == [True]
    with pytest.raises(UserError, match="書き込み中"):
        with writer_lock(target, timeout=0.3):
            pass
    release.set()
    waiter.join(10)
    assert not lock.exists()
    target.write_bytes(b"made")
    with writer_lock(target, timeout=1):
        assert lock.exists()
    assert not lock.exists()              # beside a file that is there, too
    assert sorted(p.name for p in tmp_path.iterdir()) == ["next.xlsx"]


RACER = textwrap.dedent('''
    import json, sys, time
    from pathlib import Path
    from renkei_xl.core.plan_types import CellEdit, WritePlan
    from renkei_xl.workbook import session
    from renkei_xl.workbook.apply import apply_plan          # loaded before the start
    from renkei_xl.workbook.state import read_state
    master, go, ready, row, value, locked, after, done = sys.argv[1:9]
    if locked != "locked":                                   # the control: no lock at all
        import contextlib
        session.writer_lock = lambda path: contextlib.nullcontext()
    if locked == "bare":                                     # nor the look at the version read
        from renkei_xl import safety
        session.replace_file = lambda target, fn, read_as=None: (safety.backup(target), safety.atomic_write(target, fn))[0]
    times = {}
    def make(fs):
        times["read"] = time.time()
        time.sleep(0.6)              # long enough for the other writer to read the same file
        while after and not Path(after).exists():    # a second writer: plans once the first has written
            time.sleep(0.002)
        times["planned"] = time.time()
        return WritePlan(cells=[CellEdit("小樽市", int(row), 7, value)]), None
    Path(ready).write_text("ready")
    while not Path(go).exists():
        time.sleep(0.002)
    times["start"] = time.time()
    try:
        session.write_planned(Path(master), make)
    except session.UserError as exc:
        times["refused"] = str(exc)
    times["done"] = time.time()
    Path(done).write_text("done")
    print(json.dumps(times))
''')


def race(tmp_path: Path, master: Path, locked: bool | str, in_turn: bool = False) -> list[dict]:
    """Two writers of one cell each, started together. ``in_turn``: the second makes its
    plan only once the first has written (both still read the same version), so which of
    the two checks of the version read refuses it is not left to the scheduler: two
    writers that both skip the lock and check within the same microseconds before their
    renames both pass (under load, one was preempted between its check and its rename),
    which no check without a lock can prevent. test_a_save_by_someone_else_while_the_new_
    file_is_written_is_not_replaced holds the check before the rename."""
    go = tmp_path / "go"
    procs = []
    try:
        for row, value, after in ((2, "A", ""), (3, "B", "A" if in_turn else "")):
            ready = tmp_path / f"ready_{value}"
            procs.append(subprocess.Popen(
                [sys.executable, "-c", RACER, str(master), str(go), str(ready), str(row), value,
                 locked if isinstance(locked, str) else "locked" if locked else "unlocked",
                 str(tmp_path / f"done_{after}") if after else "", str(tmp_path / f"done_{value}")],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        for proc, value in zip(procs, "AB"):
            wait_for(tmp_path / f"ready_{value}", proc)
        go.write_text("go")
        times = []
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            times.append(json.loads(out))
        return times
    finally:
        for proc in procs:
            end(proc)


@pytest.fixture
def master(tmp_path):
    from renkei_xl.cli.workbook import init_master

    path = init_master(tmp_path / "master.xlsm", sample="fy2023")
    ws = openpyxl.load_workbook(path)["小樽市"]
    assert ws.cell(1, 7).value == "実施状況" and ws.cell(2, 7).value is None and ws.cell(3, 7).value is None
    return path


def test_two_writers_at_once_both_edits_arrive(tmp_path, master):
    times = race(tmp_path, master, locked=True)
    assert abs(times[0]["start"] - times[1]["start"]) < 0.4, times      # they really started together
    first, second = sorted(times, key=lambda t: t["read"])
    assert second["read"] > first["planned"], times                      # the second read the first's result
    ws = openpyxl.load_workbook(master)["小樽市"]
    assert (ws.cell(2, 7).value, ws.cell(3, 7).value) == ("A", "B")
    assert len(list_backups(master)) == 2


def test_without_the_lock_the_same_race_loses_an_edit(tmp_path, master):
    """The control: the race above is real — without the lock, nor the look at the version
    read before the rename, one edit is lost."""
    times = race(tmp_path, master, locked="bare")
    assert abs(times[0]["read"] - times[1]["read"]) < 0.6, times         # both read the same file
    assert not any("refused" in t for t in times)
    ws = openpyxl.load_workbook(master)["小樽市"]
    assert sorted(str(v) for v in (ws.cell(2, 7).value, ws.cell(3, 7).value)) in (["A", "None"], ["B", "None"])


def test_a_writer_that_keeps_no_lock_is_refused_rather_than_undo_a_write(tmp_path, master):
    """What Excel or an older version of the tool does, which take no writer lock: the write
    that comes second sees the master is no longer the version it read and is refused."""
    read = master.read_bytes()
    times = race(tmp_path, master, locked=False, in_turn=True)
    assert abs(times[0]["read"] - times[1]["read"]) < 0.6, times
    first, second = times
    assert "refused" not in first and "「master.xlsm」は、この処理が読み込んだ後に別の人" in second.get("refused", ""), times
    ws = openpyxl.load_workbook(master)["小樽市"]
    assert (ws.cell(2, 7).value, ws.cell(3, 7).value) == ("A", None)
    # The version both read is kept, once: the second writer is refused before its backup.
    backups = list_backups(master)
    assert len(backups) == 1 and backups[0].read_bytes() == read, backups


def test_module_does_not_import_openpyxl():
    code = ("import sys, renkei_xl.safety, renkei_xl.package.zipped, renkei_xl.package.workbook, "
            "renkei_xl.package.cells, renkei_xl.package.styles; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('openpyxl', 'xlwings', 'pandas')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_two_names_of_one_file_are_one_file(tmp_path):
    """export -o and rollover -o compare the output with the master: a hard link (and, on
    Windows' and macOS' file systems, a name differing in case) is the master itself."""
    from renkei_xl.safety import same_file

    master = tmp_path / "master.xlsx"
    master.write_bytes(b"x")
    os.link(master, tmp_path / "other-name.xlsx")
    assert same_file(master, tmp_path / "other-name.xlsx")
    assert same_file(master, tmp_path / "sub" / ".." / "master.xlsx")
    assert not same_file(master, tmp_path / "new.xlsx")


# ------------------------------------------------------------ read-only files

READ_ONLY = "は読み取り専用です。エクスプローラーでファイルのプロパティを開き、「読み取り専用」を外してから"

# root reads and writes a file of mode 0444; without these capabilities it is held to the
# mode as a user is (and as Windows holds everyone to the 読み取り専用 attribute).
AS_A_USER = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
             "--bounding-set=-dac_override,-dac_read_search"]


def as_a_user(code: str, *args: str) -> subprocess.CompletedProcess:
    prefix = AS_A_USER if os.geteuid() == 0 else []
    return subprocess.run([*prefix, sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1])))


@pytest.mark.parametrize("how", ["atomic_write", "replace_file", "safe_write"])
def test_a_read_only_target_is_refused_before_anything_is_written(tmp_path, how):
    """The refusal comes before the backup: no backup folder, no temporary file, the file
    as it was and still read-only."""
    from renkei_xl import safety

    target = tmp_path / "確定版.xlsx"
    target.write_bytes(b"mailed")
    os.chmod(target, 0o444)
    with pytest.raises(UserError) as info:
        getattr(safety, how)(target, lambda tmp: tmp.write_bytes(b"ours"))
    assert f"「確定版.xlsx」{READ_ONLY}" in str(info.value) and "何も書き込んでいません" in str(info.value)
    assert target.read_bytes() == b"mailed" and stat.S_IMODE(target.stat().st_mode) == 0o444
    assert sorted(p.name for p in tmp_path.iterdir()) == ["確定版.xlsx"]


TURNED_READ_ONLY = """
import os, sys
from pathlib import Path
from renkei_xl.core.errors import UserError
from renkei_xl.safety import atomic_write, remove_stale_temps
folder = Path(sys.argv[1])
target = folder / "確定版.xlsx"

def write(tmp):
    tmp.write_bytes(b"ours")
    os.chmod(folder, 0o555)          # IT turns the share read-only while the file is written

before = len(os.listdir("/proc/self/fd"))
try:
    atomic_write(target, write)
except UserError as exc:
    print("refused:", exc)
print("descriptors kept:", len(os.listdir("/proc/self/fd")) - before)
os.chmod(folder, 0o755)
left = [p for p in folder.iterdir() if p.name != "確定版.xlsx"]
for p in left:
    os.utime(p, (0, 0))              # older than a live write's stay
print("swept:", len(remove_stale_temps(target)), "of", len(left))
"""


def test_a_folder_turned_read_only_while_a_file_is_written_is_said_in_japanese_and_keeps_nothing_open(tmp_path):
    """The folder made read-only while the file was written (IT changing the share's rights
    during a click): the rename was refused, and the temporary file could not be removed
    either. That removal raised 「Permission denied」 over the refusal (予期しないエラー on a
    button) and skipped closing the folder and the temporary file: two descriptors kept by
    the server for each such click, the file held by them as a live write's, never swept."""
    folder = tmp_path / "確定版"
    folder.mkdir()
    (folder / "確定版.xlsx").write_bytes(b"issued")
    run = as_a_user(TURNED_READ_ONLY, str(folder))
    assert run.returncode == 0, run.stderr
    assert "refused: 「確定版.xlsx」に書き込めません" in run.stdout, run.stdout
    assert "descriptors kept: 0" in run.stdout and "swept: 1 of 1" in run.stdout, run.stdout
    assert sorted(p.name for p in folder.iterdir()) == ["確定版.xlsx"]
    assert (folder / "確定版.xlsx").read_bytes() == b"issued"


LOCKED_WRITE = """
import sys
from renkei_xl.core.errors import UserError
from renkei_xl.safety import atomic_write, writer_lock
try:
    with writer_lock(sys.argv[1], timeout=0.5):
        atomic_write(sys.argv[1], lambda tmp: tmp.write_bytes(b"written by another account"))
except UserError as exc:
    print(exc)
    raise SystemExit(2)
"""


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="giving a file to another account needs root")
def test_a_lock_file_another_account_left_neither_shuts_this_one_out_nor_lets_two_in(tmp_path):
    """A writer lock file left by another account (a killed run's; on Windows every run's
    stays, and a share's create mask may give others no write) could not be opened for
    writing: every other account was refused for good, told 「フォルダーに書き込めません …
    書き込みできるフォルダーに置いて」 of a folder it could write. Opened for reading, it still
    keeps two writers apart."""
    master = tmp_path / "master.xlsm"
    master.write_bytes(b"old")
    lock = writer_lock_file(master)

    def left_by_another_account():
        lock.touch()
        os.chown(lock, 1234, 1234)
        os.chmod(lock, 0o644)

    left_by_another_account()
    with writer_lock(master, timeout=1):
        run = as_a_user(LOCKED_WRITE, str(master))
    assert run.returncode == 2 and "は別の renkei-xl の処理が書き込み中です" in run.stdout, run
    assert master.read_bytes() == b"old"
    left_by_another_account()
    run = as_a_user(LOCKED_WRITE, str(master))
    assert run.returncode == 0, run
    assert master.read_bytes() == b"written by another account"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["master.xlsm"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="giving a file to another account needs root")
def test_a_lock_file_this_account_may_not_even_read_is_named(tmp_path):
    """Not the folder is blamed (it can be written): the hidden file that stops the write."""
    master = tmp_path / "master.xlsm"
    master.write_bytes(b"old")
    lock = writer_lock_file(master)
    lock.touch()
    os.chown(lock, 1234, 1234)
    os.chmod(lock, 0o600)
    run = as_a_user(LOCKED_WRITE, str(master))
    assert run.returncode == 2, run
    assert run.stdout.strip() == ("「master.xlsm」の書き込み用の隠しファイル .master.xlsm.renkei-lock を開けません（アクセス権がありません）。"
                                  "何も書き込んでいません。ほかの renkei-xl の処理が動いていないことを確かめてから "
                                  ".master.xlsm.renkei-lock を削除し、もう一度実行してください"), run
    assert master.read_bytes() == b"old"


def test_a_backup_never_takes_a_read_only_mode(tmp_path):
    """shutil.copy2 copied the mode: the temporary backup of a 0444 file could not be opened
    to be synced (PermissionError as a user). The backup keeps the times, not the mode."""
    source = tmp_path / "master.xlsm"
    source.write_bytes(b"kept")
    os.utime(source, (1_600_000_000, 1_600_000_000))
    os.chmod(source, 0o444)
    run = as_a_user("import sys; from renkei_xl.safety import backup; print(backup(sys.argv[1]))", str(source))
    assert run.returncode == 0, run.stderr
    made = Path(run.stdout.strip())
    assert made.read_bytes() == b"kept" and made.stat().st_mtime == 1_600_000_000
    assert stat.S_IMODE(made.stat().st_mode) & stat.S_IWUSR
    assert list_backups(source) == [made]


def test_a_backup_being_copied_is_no_killed_write_to_another_click(tmp_path, monkeypatch):
    """The backup's temporary file took the master's times as soon as it was copied, so a
    master last saved an hour ago was copied into a file that looked an hour old: another
    click on the work folder (remove_stale_temps_in, run before every click) removed it
    while the first click was still finishing it, and that click ended in 予期しないエラー.
    The times are given to the backup once it has its name."""
    source = tmp_path / "master.xlsm"
    source.write_bytes(b"kept")
    old = time.time() - safety.STALE_AFTER_SECONDS - 3600
    os.utime(source, (old, old))
    real_fsync = safety._fsync_file
    swept: list = []

    def another_click_sweeps(path):
        swept.extend(safety.remove_stale_temps_in([tmp_path]))
        real_fsync(path)

    monkeypatch.setattr(safety, "_fsync_file", another_click_sweeps)
    made = backup(source)
    assert swept == [] and made.read_bytes() == b"kept"
    assert made.stat().st_mtime == pytest.approx(old)


def test_a_write_in_progress_is_no_killed_write_whatever_the_clock_says(tmp_path):
    """Age told a killed write's temporary file from a live one, read off the wall clock: the
    clock set forward by ten minutes (NTP correcting a server that booted with a wrong time)
    made a write in progress look killed, and another process's sweep (every click's, every
    write's) removed its file under it. A live write holds its file; a killed one's, as old,
    still goes."""
    # As the clock jumping forward makes a live write's file look.
    _sweep_beside_a_live_write(tmp_path, time.time() - safety.STALE_AFTER_SECONDS - 3600)


def test_a_killed_writes_file_from_before_the_clock_stepped_back_goes_at_the_next_sweep(tmp_path):
    """A killed write's temporary file was removed once it was STALE_AFTER_SECONDS old by the
    clock: written while the clock ran a day ahead (before NTP stepped it back), it looked
    written in the future and stayed a day, a master-sized file every killed write, in the
    folder staff open. A live write's file, its time as far ahead, stays (it holds its file)."""
    _sweep_beside_a_live_write(tmp_path, time.time() + 86400)


def _sweep_beside_a_live_write(tmp_path, stamp: float) -> None:
    """A killed write's temporary file and a live write's, both dated ``stamp``: another
    process's sweep removes the killed one only, and the live write ends whole."""
    target = tmp_path / "master.xlsm"
    target.write_bytes(b"old")
    killed = tmp_path / (safety.temp_prefix(target) + "0" * 12 + ".xlsm")
    killed.write_bytes(b"left by a killed run")
    os.utime(killed, (stamp, stamp))
    sweep = ("import sys; from pathlib import Path; from renkei_xl.safety import remove_stale_temps_in; "
             "print([p.name for p in remove_stale_temps_in([Path(sys.argv[1])])])")
    with safety.atomic_path(target) as tmp:
        tmp.write_bytes(b"new")
        os.utime(tmp, (stamp, stamp))
        run = subprocess.run([sys.executable, "-c", sweep, str(tmp_path)], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        assert run.stdout.strip() == repr([killed.name])
        assert tmp.exists()
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["master.xlsm"]


# ------------------------------------------------------------ long names

KANA_80 = "あ" * 80 + ".xlsm"        # 245 bytes: a legal name on ext4 and on NTFS


def test_the_working_files_of_a_master_with_the_longest_legal_name_fit(tmp_path):
    """Lock, temporary files, backup folder and backups are named after the master; for a
    name near the limit their derived part is cut, with a hash, to stay within 255 bytes,
    so the master can be written. Two long names that share their beginning keep apart."""
    from renkei_xl.safety import backup_folder, temp_prefix

    target = tmp_path / KANA_80
    target.write_bytes(b"old")
    twin = tmp_path / ("あ" * 79 + "い.xlsm")
    names = [writer_lock_file(target).name, temp_prefix(target) + "0" * 12 + target.suffix,
             backup_folder(target).name]
    assert all(len(n.encode()) <= 255 for n in names), [len(n.encode()) for n in names]
    assert writer_lock_file(target) != writer_lock_file(twin) and backup_folder(target) != backup_folder(twin)
    assert temp_prefix(target) != temp_prefix(twin)
    with writer_lock(target, timeout=1):
        for version in range(3):
            made = backup(target)
            atomic_write(target, lambda tmp: tmp.write_bytes(f"new {version}".encode()))
    assert target.read_bytes() == b"new 2"
    kept = list_backups(target)
    assert len(kept) == 3 and kept[-1] == made and all(len(p.name.encode()) <= 255 for p in kept)
    assert [p.read_bytes() for p in kept] == [b"old", b"new 0", b"new 1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([KANA_80, backup_folder(target).name])


def test_short_names_keep_their_working_file_names(tmp_path):
    from renkei_xl.safety import backup_folder, temp_prefix

    target = tmp_path / "m.xlsm"
    assert writer_lock_file(target).name == ".m.xlsm.renkei-lock"
    assert temp_prefix(target) == ".~renkei-m.xlsm."
    assert backup_folder(target).name == "m_バックアップ"


@pytest.mark.parametrize("name", ["い" * 85 + ".xlsm", "x" * 251 + ".xlsx"])
def test_a_name_the_file_system_cannot_hold_is_refused_in_japanese(tmp_path, name):
    """Said as the name's fault, with how long a name may be, before anything is written
    (not 「フォルダーに書き込めません（File name too long）」)."""
    from renkei_xl.safety import safe_write

    with pytest.raises(UserError) as info:
        safe_write(tmp_path / name, lambda tmp: tmp.write_bytes(b"x"))
    message = str(info.value)
    assert f"「{name}」は名前が長すぎて使えません" in message and "255 バイトまで" in message, message
    assert "何も書き込んでいません" in message and "File name" not in message
    assert not any(tmp_path.iterdir())


# ------------------------------------------------------------ Windows: a hidden lock file


class FakeKernel32:
    """GetFileAttributesW / SetFileAttributesW as Windows answers them (DWORD as c_int)."""

    def __init__(self, attrs: int):
        self.attrs, self.set_to = attrs, None

    def GetFileAttributesW(self, path: str) -> int:
        return -1 if self.attrs is None else self.attrs

    def SetFileAttributesW(self, path: str, attrs: int) -> int:
        self.set_to = attrs
        return 1


@pytest.mark.parametrize("attrs, expected", [
    (0x80, 0x02),            # FILE_ATTRIBUTE_NORMAL is valid only alone
    (0x20, 0x22),            # ARCHIVE kept
    (0x22, None),            # hidden already: nothing set
])
def test_the_lock_file_is_hidden_on_windows(attrs, expected):
    from renkei_xl.safety import _hide

    kernel32 = FakeKernel32(attrs)
    assert _hide(Path("C:/共有/.m.xlsm.renkei-lock"), kernel32)
    assert kernel32.set_to == expected
    assert not _hide(Path("C:/gone"), FakeKernel32(None))


def test_the_lock_file_is_hidden_where_the_system_is_windows(tmp_path, monkeypatch):
    """Windows cannot remove a file its holder has open, so there the lock file stays:
    _open_lock hides it as it opens it (and only there)."""
    from renkei_xl import safety

    hidden = []
    monkeypatch.setattr(safety, "_hide", hidden.append)
    os.close(safety._open_lock(tmp_path / "m.xlsm", tmp_path / ".m.xlsm.renkei-lock")[0])
    assert hidden == []
    monkeypatch.setattr(os, "name", "nt")
    try:
        fd, _ = safety._open_lock(tmp_path / "m.xlsm", tmp_path / ".m.xlsm.renkei-lock")
    finally:
        monkeypatch.undo()
    os.close(fd)
    assert hidden == [tmp_path / ".m.xlsm.renkei-lock"]


def test_a_link_to_nothing_where_the_backup_folder_goes_is_said_in_japanese(tmp_path):
    """A link of the backup folder's name whose target was moved or deleted: mkdir finds
    the name taken and stat finds nothing there. It was 「システムのエラー EEXIST」; the master
    is untouched and staff are told what is in the way."""
    from renkei_xl.safety import backup_folder, replace_file

    target = tmp_path / "master.xlsx"
    target.write_bytes(b"old")
    backup_folder(target).symlink_to(tmp_path / "moved_away")
    with pytest.raises(UserError) as caught:
        replace_file(target, lambda tmp: tmp.write_bytes(b"new"))
    said = str(caught.value)
    assert "リンク先のフォルダーがありません" in said and "EEXIST" not in said, said
    assert target.read_bytes() == b"old"


def test_a_lock_file_name_made_a_link_after_its_check_creates_nothing_out_of_the_folder(tmp_path, monkeypatch):
    """The writer lock's hidden file is checked (check_confined), then opened, made when
    missing. Someone on the share who put a link of its name to a file elsewhere between the
    two had the server make that file there, out of the click's folder and the work folder
    (an empty file in another region's folder, or anywhere the service's account writes),
    and lock it. The open follows no link now; the writer is refused in Japanese."""
    year = tmp_path / "work" / "2023年度"
    year.mkdir(parents=True)
    master = year / "さっぽろ圏_2023年度_マスター.xlsm"
    master.write_bytes(b"PK the master")
    planted = tmp_path / "elsewhere" / "作られたファイル"
    planted.parent.mkdir()
    checked = safety.check_confined

    def then_link(path):
        checked(path)
        if str(path).endswith(safety.LOCK_SUFFIX) and not os.path.lexists(path):
            os.symlink(planted, path)           # after the check, before the open
    monkeypatch.setattr(safety, "check_confined", then_link)
    with safety.confined(year):
        with pytest.raises(safety.OutsideFolder, match="リンク"):
            with safety.writer_lock(master, timeout=1):
                pass
    assert not planted.exists()


def test_backups_named_while_the_clock_was_behind_keep_one_a_real_day(tmp_path, monkeypatch):
    """The clock a month ahead once (a PC on the share, a server before NTP fixed it) left a
    backup named a month ahead; every backup after it, the clock right again, was named with
    that stamp and a counter until the clock caught up (_backup_name: never sorting before
    it). Retention by the name's day made those weeks one day: each write kept the newest
    ten and the last of that "day", and removed the backups that were the only copy of each
    real day before them. Their day is now the day their version was saved: the newest ten
    and the last of each of the 30 days before them stay, as the README promises."""
    from renkei_xl import clock

    target = tmp_path / "master.xlsm"
    jst = datetime.timezone(datetime.timedelta(hours=9))
    ahead = datetime.datetime(2027, 1, 10, 10, 0, tzinfo=jst).timestamp()
    monkeypatch.setattr(clock, "_instant", lambda: ahead)
    target.write_bytes(b"saved ahead")
    os.utime(target, (ahead - 3600, ahead - 3600))
    first = backup(target)
    assert first.name == "master_20270110-100000.xlsm"
    start = datetime.datetime(2026, 11, 1, 10, 0, tzinfo=jst).timestamp()
    made = []
    for day in range(40):                                   # the clock stepped back: a write a day
        saved = start + day * 86400
        target.write_bytes(f"day {day}".encode())
        os.utime(target, (saved - 3600, saved - 3600))
        monkeypatch.setattr(clock, "_instant", lambda at=saved: at)
        made.append(backup(target))
    assert all(p.name.startswith("master_20270110-100000_") for p in made), made[-1]
    kept = list_backups(target)
    assert kept[-KEEP_BACKUPS:] == made[-KEEP_BACKUPS:]          # the newest ten
    # Before them, the last of each of the 30 latest days: 29 real days and the day ahead.
    assert kept == [first] + made[1:], [p.read_bytes() for p in kept]
    assert len(kept) == KEEP_BACKUPS + KEEP_DAYS


def _excel_owner_file(user: str, ansi: bytes | None = None) -> bytes:
    """An owner file as Excel writes it (165 bytes): the name's length and the name in the
    ANSI code page, spaces to byte 55, the length as 2 bytes, the name in UTF-16LE."""
    ansi = user.encode("cp932") if ansi is None else ansi
    head = bytes([len(ansi)]) + ansi
    head += b" " * (55 - len(head))
    body = head + len(user).to_bytes(2, "little") + user.encode("utf-16-le")
    return body + b" \x00" * ((165 - len(body)) // 2) + b" " * ((165 - len(body)) % 2)


@pytest.mark.parametrize("lock_name, content, app", [
    ("~$master.xlsm", _excel_owner_file("山田 太郎"), "Excel"),
    ("~$master.xlsm", _excel_owner_file("山田 太郎", ansi=b"\x8eR\x93c \x91\xbe\x98Y"), "Excel"),
    (".~lock.master.xlsm#", "山田 太郎,yamada,PC-01,07.12.2026 09:15,file:///home/yamada/.config/libreoffice/4;"
                            .encode(), "LibreOffice"),
    (".~lock.master.xlsm#", b",\xe5\xb1\xb1\xe7\x94\xb0 \xe5\xa4\xaa\xe9\x83\x8e,PC-01,07.12.2026 09:15,;", "LibreOffice"),
])
def test_an_open_workbook_is_refused_naming_who_has_it_open(tmp_path, lock_name, content, app):
    """Excel's owner file (and LibreOffice's lock) names the user who has the workbook open:
    on a shared master staff were told only 「Excel で開かれています」 and had to ask round the
    office who it was. Now the refusal names them; the master is untouched."""
    from renkei_xl.safety import lock_owner

    target = tmp_path / "master.xlsm"
    target.write_bytes(b"staff edits")
    (tmp_path / lock_name).write_bytes(content)
    assert lock_owner(tmp_path / lock_name) == "山田 太郎"
    with pytest.raises(UserError) as info:
        atomic_write(target, lambda tmp: tmp.write_bytes(b"ours"))
    message = str(info.value)
    assert f"「master.xlsm」は 山田 太郎 さんが {app} で開いています（ロックファイル {lock_name} があります）" in message
    assert f"山田 太郎 さんに {app} で閉じてもらってからもう一度実行してください" in message
    assert target.read_bytes() == b"staff edits"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["master.xlsm", lock_name])


def test_an_open_workbook_refusal_names_one_user_from_one_read_of_the_lock(tmp_path, monkeypatch):
    """ensure_not_open read the owner file twice, once for who has it open and once for who
    is to close it: a lock Excel rewrote in between (the master closed by one and opened by
    another) told staff that 山田 has it open and to ask 佐藤 to close it (review63b)."""
    from renkei_xl import safety

    target = tmp_path / "master.xlsm"
    target.write_bytes(b"staff edits")
    (tmp_path / "~$master.xlsm").write_bytes(_excel_owner_file("山田 太郎"))
    names = iter(["山田 太郎", "佐藤 花子"])
    monkeypatch.setattr(safety, "lock_owner", lambda lock: next(names, ""))
    with pytest.raises(UserError) as info:
        ensure_not_open(target)
    message = str(info.value)
    assert "山田 太郎 さんが Excel で開いています" in message, message
    assert "山田 太郎 さんに Excel で閉じてもらってから" in message and "佐藤" not in message, message


@pytest.mark.parametrize("content", [b"", b"\x05staff", b"\xff" * 165, b"x" * 5000,
                                     _excel_owner_file("a\nb")])
def test_an_owner_file_that_names_no_one_still_refuses_without_a_name(tmp_path, content):
    from renkei_xl.safety import lock_owner

    target = tmp_path / "master.xlsm"
    target.write_bytes(b"staff edits")
    (tmp_path / "~$master.xlsm").write_bytes(content)
    assert lock_owner(tmp_path / "~$master.xlsm") == ""
    with pytest.raises(UserError, match="「master.xlsm」は Excel で開かれています"):
        ensure_not_open(target)


@pytest.mark.skipif(os.name == "nt", reason="named pipes by mkfifo are POSIX")
def test_an_owner_file_that_is_a_pipe_is_not_waited_on(tmp_path):
    """Reading the name must not hang on a named pipe of the owner file's name (opening one
    for reading waits for a writer): the workbook is refused, without a name."""
    target = tmp_path / "master.xlsm"
    target.write_bytes(b"staff edits")
    os.mkfifo(tmp_path / "~$master.xlsm")
    with pytest.raises(UserError, match="「master.xlsm」は Excel で開かれています"):
        ensure_not_open(target)


def test_a_folder_named_as_a_backup_takes_no_backup_s_place(tmp_path):
    """A folder in the backup folder under a backup's name (someone unpacked a zip of it
    there, with a later stamp) counted as the newest backup: the kept count held one real
    backup less for each such folder, and the write that found the master as its newest
    real backup holds copied it again. Only files are backups; the folder is left alone."""
    target = tmp_path / "master.xlsm"
    folder = tmp_path / "master_バックアップ"
    folder.mkdir()
    ahead = datetime.datetime.now() + datetime.timedelta(days=2)
    stray = folder / f"master_{ahead:%Y%m%d-%H%M%S}.xlsm"
    stray.mkdir()
    made = []
    for version in range(12):
        target.write_bytes(f"version {version}".encode())
        made.append(backup(target, keep=10, days=0))
    kept = list_backups(target)
    assert stray.is_dir() and stray not in kept
    assert [p.read_bytes() for p in kept] == [f"version {v}".encode() for v in range(2, 12)]
    assert backup(target, keep=10, days=0) == made[-1]          # the same content: no second copy

"""A refused write says what refused it, with the remedy of that cause and of the face
(qa-147). One fixed remedy per ``except OSError`` fitted one cause and misled on the others:
「ファイルを閉じてから」 for a rename a Linux folder's rights refused, 「Outlook で開いて
いれば閉じて」 for a draft the account may not read, 「PDF を閉じてから」 after a full disk,
「アクセス権を確かめて」 for a volume mounted read-only. The errno is read in one place
(safety.may_be_held, refused_why, refused_remedy); the errors here are the system's own,
met as a user without root's rights (setpriv) or on a real small or read-only mount."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from renkei_xl import safety
from renkei_xl.cli import main as cli_main
from renkei_xl.cli.workbook import init_master

ROOT = Path(__file__).resolve().parents[1]
# Root without its rights over others' files: DAC override (any file), and FOWNER (a sticky
# folder's rule), as a service or staff account has none of them.
AS_A_USER = ["setpriv", "--inh-caps=-dac_override,-dac_read_search,-fowner",
             "--bounding-set=-dac_override,-dac_read_search,-fowner"]


def _as_a_user(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root to take its own rights away (setpriv)")
    env = dict(os.environ, PYTHONIOENCODING="utf-8", PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([*AS_A_USER, sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    return init_master(tmp_path_factory.mktemp("refusal_causes") / "sample.xlsm", sample="fy2023")


def test_a_rename_a_sticky_linux_folder_refuses_is_not_a_file_to_close(sample, tmp_path):
    """A shared folder with the sticky bit (mode 1777: each account may replace only its own
    files), the master saved by a colleague's account: the rename over it fails with EPERM.
    It was 「他のプログラムが使用中か…ファイルを閉じてからもう一度実行してください」, and
    nothing had it open; now the folder's rule is named, and the master is unchanged."""
    share = tmp_path / "share"
    share.mkdir()
    master = share / "マスター.xlsm"
    shutil.copyfile(sample, master)
    master.chmod(0o666)
    os.chown(master, 1000, 1000)
    os.chown(share, 1000, 1000)
    share.chmod(0o1777)
    before = master.read_bytes()
    run = _as_a_user(["-m", "renkei_xl.cli", "recalc", master.name], share)
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert "閉じて" not in run.stderr and "使用中" not in run.stderr, run.stderr
    assert "「マスター.xlsm」に書き込めません（" in run.stderr and "スティッキービット" in run.stderr, run.stderr
    assert f"フォルダー「{share}」のアクセス権" in run.stderr and "元のファイルは変更していません" in run.stderr
    assert "Traceback" not in run.stderr
    assert master.read_bytes() == before


PROBE = """
import os, sys
from pathlib import Path
from renkei_xl import safety
from renkei_xl.core.errors import UserError
folder = Path(sys.argv[1])
def write(tmp):
    tmp.write_bytes(b"new")
    folder.chmod(0o555)           # IT takes the folder's write right while the file is written
try:
    if sys.argv[2] == "server":
        with safety.confined(folder):
            safety.safe_write(folder / "確定版.xlsx", write, lock=False)
    else:
        safety.safe_write(folder / "確定版.xlsx", write, lock=False)
except UserError as exc:
    print("UserError", exc)
"""


@pytest.mark.parametrize("face", ["cli", "server"])
def test_a_rename_a_folder_refuses_on_posix_says_its_rights_to_the_reader_of_the_face(tmp_path, face):
    """The folder's write right taken while the file was written (EACCES at the rename, as a
    user): 「ファイルを閉じてから」 was said on both faces; now the folder's rights, to staff on
    the command line, to IT from a server click (staff cannot give the server rights)."""
    folder = tmp_path / "確定版"
    folder.mkdir()
    (folder / "確定版.xlsx").write_bytes(b"old")
    run = _as_a_user(["-c", PROBE, str(folder), face], tmp_path)
    folder.chmod(0o755)
    said = run.stdout
    assert said.startswith("UserError 「確定版.xlsx」に書き込めません（書き込む権限がありません）"), (said, run.stderr)
    assert "閉じて" not in said and "使用中" not in said, said
    if face == "server":
        assert "IT 担当者に、サーバーのアカウントがフォルダー「" in said and "アクセス権（書き込めるか）を確かめるか" not in said
    else:
        assert f"フォルダー「{folder}」のアクセス権（書き込めるか）を確かめるか" in said and "IT 担当者" not in said
    assert (folder / "確定版.xlsx").read_bytes() == b"old"


def test_windows_keeps_the_reading_of_a_file_held_open(monkeypatch):
    """On Windows a PermissionError is also a file another program holds (a sharing
    violation): there, and only there, 「開いていれば閉じて」 stays, with the rights beside it."""
    denied = PermissionError(errno.EACCES, "Access is denied")
    assert not safety.may_be_held(denied)
    assert "閉じて" not in safety.refused_remedy(denied, "権限を確かめてください", "書き込める")
    monkeypatch.setattr(os, "name", "nt")
    held, remedy = safety.may_be_held(denied), safety.refused_remedy(denied, "権限を確かめてください", "書き込める")
    why = safety.refused_why(denied)
    monkeypatch.undo()
    assert held and why == "ほかのプログラムが開いているか、書き込む権限がありません"
    assert remedy.startswith("Excel などでそのファイルを開いていれば閉じてから") and "権限を確かめてください" in remedy


DRAFT = """
import sys
from email.message import EmailMessage
from renkei_xl.cycle import mail
from renkei_xl.core.errors import UserError
msg = EmailMessage()
msg["To"], msg["From"], msg["Subject"] = "a@example.jp", "b@example.jp", "依頼"
msg.set_content("本文")
try:
    mail.save_draft(msg, sys.argv[1])
except UserError as exc:
    print("UserError", exc)
"""


def test_a_draft_the_account_may_not_read_is_not_said_open_in_outlook(tmp_path):
    """A draft of the same name left by another account with its own rights (mode 600):
    reading it to compare was refused (EACCES), and staff were told to close it in Outlook."""
    draft = tmp_path / "依頼.eml"
    draft.write_bytes(b"To: x@example.jp\r\n\r\nold\r\n")
    draft.chmod(0o600)
    os.chown(draft, 1000, 1000)
    run = _as_a_user(["-c", DRAFT, str(draft)], tmp_path)
    said = run.stdout
    assert said.startswith("UserError メールの下書き「"), (said, run.stderr)
    assert "前からある同じ名前のファイルを読む権限がありません" in said and "Outlook" not in said, said
    assert draft.read_bytes() == b"To: x@example.jp\r\n\r\nold\r\n"


@pytest.fixture
def read_only_mount(tmp_path):
    """A folder mounted read-only (EROFS), as a share can be: a bind mount, where allowed."""
    folder = tmp_path / "ro"
    folder.mkdir()
    yield folder
    subprocess.run(["umount", str(folder)], capture_output=True)


def _mount_read_only(folder: Path) -> None:
    made = subprocess.run(["mount", "-o", "bind,ro", str(folder), str(folder)], capture_output=True) \
        if shutil.which("mount") else None
    if made is None or made.returncode != 0:
        pytest.skip("a read-only mount cannot be made here")


@pytest.mark.parametrize("server", [False, True])
def test_a_read_only_volume_is_not_a_right_to_look_at(sample, read_only_mount, capsys, server):
    """A master on a volume mounted read-only: the rights are fine, and both faces were sent
    to them (「このフォルダーのアクセス権（書き込めるか）を確かめるか」; IT: 「サーバーの
    アカウントが…書き込めるか」). Now staff go elsewhere, IT looks at the volume."""
    master = read_only_mount / "マスター.xlsm"
    shutil.copyfile(sample, master)
    _mount_read_only(read_only_mount)
    from renkei_xl.core.errors import UserError
    from renkei_xl.workbook.session import recalc_file

    with pytest.raises(UserError) as refused:
        if server:
            with safety.confined(read_only_mount):
                recalc_file(master)
        else:
            recalc_file(master)
    said = str(refused.value)
    assert "（読み取り専用の場所です）" in said and "アクセス権" not in said and "書き込めるか" not in said, said
    assert ("読み取り専用の場所" in said.split("）。", 1)[1] and "IT 担当者" in said) if server else "IT 担当者" not in said


def test_a_pdf_a_full_disk_refuses_is_not_a_pdf_to_close(tmp_path, monkeypatch, capsys):
    """export --pdf on a disk the 確定版 left too little room on (a real 600 KB tmpfs): the
    PDF's refusal said to free room, then 「PDF を閉じてから、もう一度書き出してください」."""
    from renkei_xl.cycle import export

    folder = tmp_path / "small"
    folder.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(folder)], capture_output=True) \
        if shutil.which("mount") else None
    if made is None or made.returncode != 0:
        pytest.skip("a small file system cannot be mounted here")
    try:
        master = init_master(tmp_path / "マスター.xlsx", sample="fy2023")

        def big_pdf(_result, _settings, into, _plan):
            pdf = Path(into) / "list.pdf"
            pdf.write_bytes(b"%PDF-1.4\n" + b"0" * 700_000)
            return pdf, "stub"

        monkeypatch.setattr(export, "find_pdf_engine", lambda: "stub")
        monkeypatch.setattr(export, "_made_pdf", big_pdf)
        assert cli_main(["export", str(master), "-o", str(folder / "確定版.xlsx"), "--pdf"]) == 2
        err = capsys.readouterr().err
    finally:
        subprocess.run(["umount", str(folder)], check=True)
    assert "確定版「確定版.xlsx」は書き出しましたが、PDF「確定版.pdf」を保存できませんでした" in err, err
    assert "ディスクの空き容量" in err and "閉じて" not in err and "Traceback" not in err, err


def test_a_split_stopped_by_a_draft_says_which_input_files_are_made(sample, tmp_path, monkeypatch):
    """split --eml, a draft of an earlier split left with another account's rights (mode 600):
    its refusal ended the split naming only the draft, with no word of the input files
    already made (and mailed as this split's). Now said as an input file's refusal is."""
    folder = tmp_path / "work"
    folder.mkdir()
    master = folder / "m.xlsm"
    shutil.copyfile(sample, master)
    monkeypatch.chdir(folder)
    assert cli_main(["split", "--outdir", "out", "--eml", master.name]) == 0
    drafts = sorted((folder / "out").glob("*.eml"))
    held = drafts[1]
    held.chmod(0o600)
    os.chown(held, 1000, 1000)
    run = _as_a_user(["-m", "renkei_xl.cli", "split", "--outdir", "out", "--eml", "m.xlsm"], folder)
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert f"メールの下書き「out/{held.name}」を保存できません（前からある同じ名前のファイルを読む権限がありません）" in run.stderr
    assert "の入力用ファイルのうち、" in run.stderr and "は作成済みです" in run.stderr, run.stderr
    assert "Outlook" not in run.stderr and "Traceback" not in run.stderr

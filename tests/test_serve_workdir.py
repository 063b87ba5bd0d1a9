"""`renkei-xl serve` without --workdir works in the folder it was started in: --help and
docs/staff-setup.md say so, and a start where no work folder belongs (the system's folders,
where a service starts; the root of a drive) is refused in Japanese before anything is
written there."""

from __future__ import annotations

from pathlib import Path

import pytest

from renkei_xl.cli import main
from renkei_xl.core.errors import UserError
from renkei_xl.server.config import check_workdir

ROOT = Path(__file__).resolve().parent.parent


def test_help_says_the_start_folder_is_the_work_folder(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = "".join(capsys.readouterr().out.split())      # argparse wraps the help where it likes
    assert "--workdirフォルダー作業フォルダー:" in out and "（省略すると、serveを起動したフォルダー。" in out, out


def test_staff_setup_says_the_start_folder_is_the_work_folder():
    text = (ROOT / "docs" / "staff-setup.md").read_text(encoding="utf-8")
    assert "省略すると、`serve` を起動したフォルダー（コマンドプロンプトのそのときのフォルダー）が作業フォルダーになります" in text


def test_a_start_at_the_root_without_workdir_is_refused(monkeypatch):
    monkeypatch.chdir("/")
    with pytest.raises(UserError) as refused:
        check_workdir(None)
    assert str(refused.value).startswith("--workdir を指定していないため、serve を起動したフォルダー「/」が作業フォルダーに"
                                         "なりますが、ここはドライブのいちばん上（ルート）のフォルダーです"), refused.value


def test_a_system_folder_is_refused_given_or_not(monkeypatch, tmp_path):
    windows = tmp_path / "Windows"
    (windows / "System32").mkdir(parents=True)
    monkeypatch.setenv("SystemRoot", str(windows))
    monkeypatch.chdir(windows / "System32")
    for given in (None, str(windows / "System32")):
        with pytest.raises(UserError) as refused:
            check_workdir(given)
        assert "ここはシステムのフォルダーです（何も書き込んでいません）" in str(refused.value), refused.value
    assert check_workdir(str(tmp_path)) == tmp_path.resolve()

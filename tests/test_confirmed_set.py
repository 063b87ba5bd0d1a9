"""The 確定版 and its PDF or draft, written by one export as a set, each renamed into place in
turn: a kill or Ctrl+C between the two renames left the new 確定版 beside the previous PDF
(or draft). The run again found the 確定版 unchanged (no backup needed), so it replaced that
PDF without a backup, though the 確定版 it went with had been backed up by the stopped run:
staff lost the previous version's PDF (qa-writes63b). Now the set's backups are taken before
any of it is renamed, and the stop says the set is incomplete (README: 確定版を書き出し)."""

import os
import shutil
from pathlib import Path

import pytest

from realbooks import sample_master
from renkei_xl import safety
from renkei_xl.cli import main
from test_confirmed_pdf import _set_actual


def _stopped_after_the_rename_of(name: str, monkeypatch) -> None:
    """Ctrl+C (or a kill) at the real point: the next rename after ``name`` (the 確定版) was
    renamed into place, whatever it is (the PDF's, the draft's, or a backup's of them)."""
    real, done = os.replace, []

    def replace(src, dst, *args, **kwargs):
        if done:
            raise KeyboardInterrupt
        real(src, dst, *args, **kwargs)
        if Path(os.fsdecode(dst)).name == name:
            done.append(dst)
    monkeypatch.setattr(os, "replace", replace)


@pytest.mark.parametrize("partner", [
    pytest.param(".eml", id="draft"),
    pytest.param(".pdf", id="pdf", marks=pytest.mark.skipif(
        shutil.which("soffice") is None and shutil.which("libreoffice") is None, reason="no LibreOffice")),
])
def test_a_set_stopped_between_its_renames_and_made_again_keeps_the_previous_set(
        tmp_path, monkeypatch, capsys, partner):
    master = sample_master(tmp_path / "マスター.xlsx")
    out = tmp_path / "確定版" / "一覧.xlsx"
    mate = out.with_suffix(partner)
    argv = ["export", str(master), "-o", str(out), "--eml" if partner == ".eml" else "--pdf"]
    assert main(argv) == 0
    previous, previous_mate = out.read_bytes(), mate.read_bytes()

    _set_actual(master, "小樽市", "04-1", 5)
    capsys.readouterr()
    with monkeypatch.context() as m:
        _stopped_after_the_rename_of(out.name, m)
        assert main(argv) == 130
    err = capsys.readouterr().err
    assert out.read_bytes() != previous and mate.read_bytes() == previous_mate     # half new, half old
    assert f"「{out}」は書き込み済みです（前の内容はバックアップにあります）" in err, err
    assert f"一緒に書き込むはずだった「{mate.name}」は前のままで、組がそろっていません。もう一度実行してください。" in err, err

    assert main(argv) == 0
    assert mate.read_bytes() != previous_mate
    kept = [p.read_bytes() for p in safety.list_backups(mate)]
    assert previous_mate in kept, "the previous PDF/draft is lost: not in the backups"
    assert previous in [p.read_bytes() for p in safety.list_backups(out)]


def test_a_whole_set_says_nothing_of_a_set(tmp_path, monkeypatch, capsys):
    """Stopped after the set was written (the lines still to print): no word of a set."""
    master = sample_master(tmp_path / "マスター.xlsx")
    out = tmp_path / "一覧.xlsx"
    noted = safety._note_replaced

    def stop(target, *args):
        noted(target, *args)
        if Path(target).suffix == ".eml":
            raise KeyboardInterrupt
    monkeypatch.setattr(safety, "_note_replaced", stop)
    assert main(["export", str(master), "-o", str(out), "--eml"]) == 130
    err = capsys.readouterr().err
    assert "ファイル 2 個を書き込み済みです" in err and "組" not in err, err

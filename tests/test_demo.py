import subprocess
import sys

import pytest


def _demo(folder):
    out = subprocess.run([sys.executable, "-m", "renkei_xl.cli", "demo", "--outdir", str(folder)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


@pytest.fixture(scope="module")
def first_demo(tmp_path_factory):
    """The demo run once in an empty folder: the folder, what it showed, and the names in the
    folder right after. One run serves both tests: the second runs the demo again on it,
    where it ran the demo twice in a folder of its own (three demos, 2.2 CPU s, now two)."""
    folder = tmp_path_factory.mktemp("demo")
    shown = _demo(folder)
    return folder, shown, {p.name for p in folder.iterdir()}


def test_demo_builds_checks_and_reproduces_the_official_list(first_demo):
    _, shown, made = first_demo
    assert "80／80" in shown
    assert "◎52 □7 ×12 ―5 －4  達成割合 52／71 = 73.2%" in [line.strip() for line in shown.splitlines()]
    assert "さっぽろ圏_2023年度_マスター.xlsm" in made
    # the demo also starts the next year from the sample (issue #11)
    assert "5. 次年度のマスターを作成" in shown and "経年に 2023年度を記録" in shown
    assert "さっぽろ圏_2024年度_マスター.xlsm" in made
    # a new year's × with no input yet is explained, not left as 「達成割合 0／6」 alone
    assert "× 6 件のうち 5 件は期限（「2023年度まで」など）を過ぎて未完了の指標、1 件はそれを数える達成割合の行です" in shown
    assert "残しました" not in shown


def test_demo_run_again_says_it_replaced_its_masters_and_where_they_are(first_demo):
    """Run a second time, the demo replaced both masters (keeping backups) without a word."""
    folder, _, _ = first_demo
    shown = _demo(folder)
    assert "（前にあったファイルは「さっぽろ圏_2023年度_マスター_バックアップ」に残しました）" in shown
    assert "（前にあったファイルは「さっぽろ圏_2024年度_マスター_バックアップ」に残しました）" in shown
    assert list((folder / "さっぽろ圏_2024年度_マスター_バックアップ").iterdir())

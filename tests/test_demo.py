import subprocess
import sys


def _demo(folder):
    out = subprocess.run([sys.executable, "-m", "renkei_xl.cli", "demo", "--outdir", str(folder)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_demo_builds_checks_and_reproduces_the_official_list(tmp_path):
    shown = _demo(tmp_path)
    assert "80／80" in shown
    assert "◎52 □7 ×12 ―5 －4  達成割合 52／71 = 73.2%" in [line.strip() for line in shown.splitlines()]
    assert (tmp_path / "さっぽろ圏_2023年度_マスター.xlsm").exists()
    # the demo also starts the next year from the sample (issue #11)
    assert "5. 次年度のマスターを作成" in shown and "経年に 2023年度を記録" in shown
    assert (tmp_path / "さっぽろ圏_2024年度_マスター.xlsm").exists()
    # a new year's × with no input yet is explained, not left as 「達成割合 0／6」 alone
    assert "× 6 件のうち 5 件は期限（「2023年度まで」など）を過ぎて未完了の指標、1 件はそれを数える達成割合の行です" in shown
    assert "残しました" not in shown


def test_demo_run_again_says_it_replaced_its_masters_and_where_they_are(tmp_path):
    """Run a second time, the demo replaced both masters (keeping backups) without a word."""
    _demo(tmp_path)
    shown = _demo(tmp_path)
    assert "（前にあったファイルは「さっぽろ圏_2023年度_マスター_バックアップ」に残しました）" in shown
    assert "（前にあったファイルは「さっぽろ圏_2024年度_マスター_バックアップ」に残しました）" in shown
    assert list((tmp_path / "さっぽろ圏_2024年度_マスター_バックアップ").iterdir())

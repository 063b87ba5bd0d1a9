import subprocess
import sys


def test_demo_builds_checks_and_reproduces_the_official_list(tmp_path):
    out = subprocess.run([sys.executable, "-m", "renkei_xl.cli", "demo", "--outdir", str(tmp_path)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "80／80" in out.stdout
    assert "◎52 □7 ×12 ―5 －4  達成割合 52／71 = 73.2%" in out.stdout.splitlines()
    assert (tmp_path / "さっぽろ圏_2023年度_マスター.xlsm").exists()
    # the demo also starts the next year from the sample (issue #11)
    assert "5. 次年度のマスターを作成" in out.stdout and "経年に 2023年度を記録" in out.stdout
    assert (tmp_path / "さっぽろ圏_2024年度_マスター.xlsm").exists()

import subprocess
import sys

import pytest

from test_buttons import licensed  # noqa: F401  (the remote engine's licence fixture)


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


def test_a_new_years_recalc_says_why_its_rate_is_zero_on_both_faces(first_demo, tmp_path, licensed, capsys):
    """A new year's master recalculated before any input: 「達成割合 0／6 = 0.0%」 and nothing
    more, on the command line and on the button; only the demo said why. The one rule
    (pipeline.missed_note) is said under the 達成割合 by each face, in the same words."""
    import shutil

    from remote_payload import click_payload
    from test_buttons import _only_alert, _run
    from renkei_xl.cli import main
    from renkei_xl.excel import buttons

    folder, _, _ = first_demo
    said = "× 6 件のうち 5 件は期限（「2023年度まで」など）を過ぎて未完了の指標、1 件はそれを数える達成割合の行です"
    cli = shutil.copyfile(folder / "さっぽろ圏_2024年度_マスター.xlsm", tmp_path / "cli.xlsm")
    capsys.readouterr()
    assert main(["recalc", str(cli)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith(said) and out[-2].endswith("達成割合 0／6 = 0.0%"), out
    button = shutil.copyfile(folder / "さっぽろ圏_2024年度_マスター.xlsm", tmp_path / "button.xlsm")
    applied, _ = _run(buttons.recalc, click_payload(button))
    prompt = _only_alert(applied)["prompt"].splitlines()
    assert prompt[prompt.index("達成割合 0／6 = 0.0%") + 1] == out[-1], prompt

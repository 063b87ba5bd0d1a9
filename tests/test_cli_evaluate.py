import subprocess
import sys


def run(*args):
    return subprocess.run([sys.executable, "-m", "renkei_xl.cli", *args], capture_output=True,
                          text=True)


def test_evaluate_prints_table_and_summary():
    out = run("evaluate")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[-1] == "◎52 □7 ×12 ―5 －4  達成割合 52／71 = 73.2%"
    assert any(l.startswith("06-1") and "□" in l for l in lines)
    assert sum(1 for l in lines if l[:2].isdigit() or l.startswith("KPI")) == 80


def test_missing_file_is_a_japanese_message_not_a_traceback(tmp_path):
    out = run("evaluate", str(tmp_path / "ない.xlsx"))
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and "ない.xlsx" in out.stderr


def test_each_command_is_built_alone_and_all_are_listed():
    """One command builds only its own subparser; the lists that route commands to their
    modules must name every command the modules register."""
    import argparse

    from renkei_xl.cli import CYCLE_COMMANDS, SERVER_COMMANDS, WORKBOOK_COMMANDS, YEAR_COMMANDS, build_parser

    def commands(parser):
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        return set(action.choices)

    everything = commands(build_parser())
    assert everything == {"evaluate", *WORKBOOK_COMMANDS, *CYCLE_COMMANDS, *YEAR_COMMANDS, *SERVER_COMMANDS}
    for name in everything:
        assert commands(build_parser(name)) == {name}
    assert commands(build_parser("no-such-command")) == everything


def test_recalc_writes_and_exits_1_when_input_errors_made_rows_not_evaluable(tmp_path):
    """As validate does: a batch run must not read a master with errors as clean. The
    result is written either way."""
    import openpyxl

    from renkei_xl.cli.workbook import init_master

    master = init_master(tmp_path / "m.xlsx", sample="fy2023")
    assert run("recalc", str(master)).returncode == 0
    wb = openpyxl.load_workbook(master)
    ws = wb["小樽市"]
    cell = next(c for row in ws.iter_rows(min_row=2) for c in row if c.column == 5 and isinstance(c.value, int))
    cell.value = "約10件"
    wb.save(master)
    before = master.read_bytes()
    out = run("recalc", str(master))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "エラー 1 件" in out.stdout and master.read_bytes() != before

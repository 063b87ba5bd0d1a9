"""A return of a year already rolled over (a late return), as staff meet it: the refusal of
the next year's master names the command that carries the year over with the real file
names, one staff can copy and run in the master's folder; a dry run on the year's own
master speaks of what the import would do, not of what happened."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

from renkei_xl.cli import main
from renkei_xl.core.carry import command_arg, import_command
from renkei_xl.cycle.collect import collect

import pytest

from conftest import shared_build
from test_cycle import _built_cycle, cell_of, cycle, set_cell  # noqa: F401  (cycle: the fixture)

COMMAND = re.compile(r"(renkei-xl history import .+?) で、2024年度のマスターの「経年」")


def _rolled(cycle):
    """(the 2023 master, the 2024 master, a late return): every municipality's return but
    南幌町's collected, the master rolled over, then 南幌町's return typed in."""
    from renkei_xl.cycle.rollover import rollover_file

    master, _issued, filled = cycle
    late = filled.pop("南幌町")
    collect(master, list(filled.values()))
    later = rollover_file(master).path
    set_cell(late, "南幌町", "04-1", "実績値", 7)
    return master, later, late


def _rolled_build(folder: Path, tmp_path_factory, fy2023) -> tuple[Path, Path, Path]:
    """``_rolled`` of a copy of the shared cycle (test_cycle's ``cycle`` fixture) in ``folder``."""
    master, by_muni, filled = shared_build(tmp_path_factory, "cycle-fy2023", lambda f: _built_cycle(f, fy2023))
    root = master.parent
    shutil.copytree(root, folder, dirs_exist_ok=True)

    def here(path: Path) -> Path:
        return folder / path.relative_to(root)
    return _rolled((here(master), {m: here(p) for m, p in by_muni.items()}, {m: here(p) for m, p in filled.items()}))


@pytest.fixture
def rolled(tmp_path, tmp_path_factory, fy2023):
    """``_rolled`` in the test's own folder, where the ``cycle`` fixture puts its files: made
    once per run (conftest.shared_build: a collect of eleven returns and a rollover were
    about 0.7 s of each of five tests) and copied whole, so a test may change, move or
    delete the masters as it likes."""
    made = shared_build(tmp_path_factory, "collect-late-rolled", lambda f: _rolled_build(f, tmp_path_factory, fy2023))
    root = made[0].parent
    shutil.copytree(root, tmp_path, dirs_exist_ok=True)
    return tuple(tmp_path / p.relative_to(root) for p in made)


def _run_as_copied(command: str, folder, monkeypatch) -> int:
    """The command as staff paste it in the master's folder."""
    words = shlex.split(command)
    assert words[:3] == ["renkei-xl", "history", "import"], words
    monkeypatch.chdir(folder)
    return main(words[1:])


def test_refusal_of_a_late_return_names_both_masters_in_a_command_that_runs(rolled, monkeypatch, capsys):
    master, later, late = rolled
    [refusal] = collect(later, [late]).refused
    said = COMMAND.search(refusal.reason)
    assert said, refusal.reason
    assert said[1] == f"renkei-xl history import {later.name} {master.name}", refusal.reason
    assert "（このマスター）" not in refusal.reason and "（2023年度のマスター）" not in refusal.reason

    assert main(["collect", str(master), str(late)]) == 1
    capsys.readouterr()
    assert _run_as_copied(said[1], later.parent, monkeypatch) == 0
    assert "前年度実績（2023年度）" in capsys.readouterr().out


def _moved_to_their_years_folders(rolled, tmp_path):
    """(the 2023 master, the 2024 master, a late return) after rollover, each master moved
    into the folder of its year (「連携 2023年度」, 「連携 2024年度」), as rollover tells staff."""
    master, later, late = rolled
    old_folder, new_folder = tmp_path / "連携 2023年度", tmp_path / "連携 2024年度"
    old_folder.mkdir()
    new_folder.mkdir()
    return shutil.move(str(master), old_folder / master.name), shutil.move(str(later), new_folder / later.name), late


def test_the_earlier_master_is_found_in_the_folder_of_its_year(rolled, tmp_path, monkeypatch):
    """Rollover names the next year's サーバー作業フォルダー; staff move the new master
    there and the old one stays in its year's folder: the command names it from there."""
    master, later, late = _moved_to_their_years_folders(rolled, tmp_path)
    [refusal] = collect(later, [late]).refused
    said = COMMAND.search(refusal.reason)
    assert said, refusal.reason
    assert said[1] == f'renkei-xl history import {later.name} "../連携 2023年度/{master.name}"', refusal.reason

    assert collect(master, [late]).changes
    assert _run_as_copied(said[1], later.parent, monkeypatch) == 0


def test_an_earlier_master_not_found_is_said_with_where_it_was_looked_for(rolled, tmp_path):
    master, later, late = rolled
    master.unlink()
    [refusal] = collect(later, [late]).refused
    said = COMMAND.search(refusal.reason)
    assert said and said[1] == f"renkei-xl history import {later.name} （2023年度のマスター）", refusal.reason
    assert "このマスターと同じフォルダーに2023年度のマスターが見つかりませんでした" in refusal.reason, refusal.reason


def test_command_arguments_are_quoted_only_when_a_shell_would_split_them():
    assert command_arg("マスター_2024年度.xlsm") == "マスター_2024年度.xlsm"
    assert command_arg("連携 マスター.xlsm") == '"連携 マスター.xlsm"'
    assert command_arg("A&B(2024).xlsm") == '"A&B(2024).xlsm"'
    assert import_command("新.xlsm", "", 2023) == "renkei-xl history import 新.xlsm （2023年度のマスター）"
    assert shlex.split(import_command("a b.xlsm", "c d.xlsm", 2023))[3:] == ["a b.xlsm", "c d.xlsm"]


def test_a_dry_run_of_a_late_return_speaks_of_what_the_import_would_do(rolled, capsys):
    """`collect --dry-run` on the 2023 master after rollover said 「この取り込みの値がまだ
    入っていません」 and the carrying step as if the return had been imported: nothing was."""
    master, later, late = rolled
    before = master.read_bytes()
    main(["collect", str(master), str(late), "--dry-run"])
    out = capsys.readouterr().out
    assert master.read_bytes() == before
    assert "まだ入っていません" not in out, out
    assert (f"【注意】2024年度のマスター「{later}」が、すでに作られています。取り込んでも、その「経年」の2023年度と"
            "「前年度実績（2023年度）」の列には、取り込む値は入りません（南幌町 04-1") in out, out
    assert (f"　取り込んだあと、2023年度のマスターで renkei-xl recalc {master.name} を実行して一覧を確かめてから、"
            f"renkei-xl history import {later.name} {master.name} で") in out, out
    assert "押して" not in out, out     # the command line has no button (core.face.step)


def test_a_dry_run_with_held_cells_does_not_say_they_were_logged(cycle, capsys):
    """取り込まなかったセル …「マスターの値のままにしました（ほかの行は取り込みました）。どのセルも
    シート「取込履歴」…に記録しました」 on a dry run: nothing was imported or logged."""
    master, _issued, filled = cycle
    set_cell(filled["小樽市"], "小樽市", "04-1", "実績値", "たくさん")
    main(["collect", str(master), str(filled["小樽市"]), "--dry-run"])
    out = capsys.readouterr().out
    assert "取り込みました" not in out and "にもあります" not in out and "記録しました" not in out, out
    assert "取り込まないセル 1 か所: 誤りのあるセルを含む行は取り込まず、マスターの値のままにします" in out, out

    main(["collect", str(master), str(filled["小樽市"])])
    assert "取り込まなかったセル 1 か所:" in capsys.readouterr().out


def test_a_return_two_years_late_names_the_master_it_was_collected_into(cycle, monkeypatch, capsys):
    """A 2023 return collected into the 2025 master (made with --year 2025, or two rollovers
    on): the refusal said to carry the year 「で、2024年度のマスターの「経年」と「前年度実績
    （2023年度）」の列に」 while its command names the 2025 master, which has no such column and
    whose import touches none (core.carry.carry_plan). It names the 2025 master and 経年 only
    (qa-140); the command it gives runs."""
    from renkei_xl.cycle.rollover import rollover_file

    master, _issued, filled = cycle
    late = filled.pop("南幌町")
    collect(master, list(filled.values()))
    later = rollover_file(master, 2025).path
    set_cell(late, "南幌町", "04-1", "実績値", 7)
    [refusal] = collect(later, [late]).refused
    assert "2024年度のマスター" not in refusal.reason, refusal.reason
    said = re.search(r"(renkei-xl history import .+?) で、2025年度のマスターの「経年」に取り込んでください", refusal.reason)
    assert said and said[1] == f"renkei-xl history import {later.name} {master.name}", refusal.reason
    assert collect(master, [late]).changes
    assert _run_as_copied(said[1], later.parent, monkeypatch) == 0
    assert "の実績値と評価を「経年」に取り込みました" in capsys.readouterr().out


def test_a_next_master_moved_to_the_next_years_folder_is_still_named(rolled, tmp_path, monkeypatch, capsys):
    """Rollover tells staff to move the new master into the folder of its year (「…2024年度」):
    a late return collected into the 2023 master then said nothing of the 2024 master, which
    was looked for beside it only (client-146). It is found there, and the command it gives,
    run in the 2023 master's folder where staff ran collect, carries the value."""
    master, later, late = _moved_to_their_years_folders(rolled, tmp_path)
    assert main(["collect", str(master), str(late)]) == 1
    out = capsys.readouterr().out
    assert f"【注意】2024年度のマスター「{later}」が、すでに作られています" in out, out
    said = COMMAND.search(out)
    assert said and said[1] == f'renkei-xl history import "../連携 2024年度/{later.name}" {master.name}', out
    assert _run_as_copied(said[1], Path(master).parent, monkeypatch) == 0
    assert cell_of(later, "南幌町", "04-1", "前年度実績（2023年度）") == "7件"

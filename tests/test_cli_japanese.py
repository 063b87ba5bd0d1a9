"""The command line speaks Japanese to staff: argparse's own mistakes and help, the forms
staff write years and dates in, and the last guard's account of what was written."""

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from renkei_xl.cli import main
from renkei_xl.core.errors import out_of_memory
from renkei_xl.cli.parser import day, fiscal_year, japanese_message
from realbooks import sample_master

# English words argparse would print; none may reach staff. Option names and their
# placeholders (--error-log ERROR_LOG) are the command's own spelling and are left out.
ENGLISH = re.compile(r"\b(usage|error|required|invalid|argument|arguments|expected|choose|"
                     r"unrecognized|positional|options|show this help|ambiguous)\b", re.I)


def english_words(text: str):
    return ENGLISH.findall(re.sub(r"-[-\w]+|\b[A-Z][A-Z_]+\b", "", text))


def run(*args, cwd=None, **kwargs):
    return subprocess.run([sys.executable, "-m", "renkei_xl.cli", *args], capture_output=True,
                          text=True, cwd=cwd, **kwargs)


def run_here(capsys, monkeypatch, *args, cwd=None) -> subprocess.CompletedProcess:
    """``renkei-xl *args`` through the in-process ``main`` (what most modules call), its exit
    code, standard output and error as ``run`` gives them: for the tests about what a
    command says, not about the process (exit at interpreter level, the console's encoding,
    a pipe; those keep ``run``). A child process costs ~80 ms of CPU in interpreter and
    imports alone; 52 of them were 3.7 of this module's 6.2 CPU s. An exception main lets
    out (a traceback in the child) fails the test here as well."""
    if cwd is not None:
        monkeypatch.chdir(cwd)
    capsys.readouterr()
    try:
        code = main(list(args))
    except SystemExit as stop:          # argparse's own exit, as the child's
        code = stop.code
    said = capsys.readouterr()
    return subprocess.CompletedProcess(list(args), code, said.out, said.err)


MISTAKES = [
    (["valdate", "m.xlsm"], "「validate」のことでしょうか"),           # a misspelt command
    (["validate"], "マスター を指定してください"),                       # a missing argument
    (["collect"], "マスター、回収ファイル を指定してください"),
    (["history"], "サブコマンド を指定してください"),
    (["validate", "a.xlsm", "b.xlsm"], "「b.xlsm」は使えない指定です（renkei-xl validate --help で"),   # its command's help
    (["recalc", "m.xlsm", "--no-such-option"], "「--no-such-option」は使えない指定です（renkei-xl recalc --help"),
    (["history", "import", "a", "b", "c"], "（renkei-xl history import --help で"),
    (["--bogus"], "「--bogus」は使えない指定です（renkei-xl --help で"),
    (["rollover", "m.xlsm", "--year", "来年"], "「来年」を年度として読めません"),
    (["rollover", "m.xlsm", "--year"], "値を 1 つ指定してください"),
    (["split", "m.xlsm", "--outdir", "o", "--deadline", "2024-02-30"], "日付として正しくありません"),
    (["split", "m.xlsm", "--outdir", "o", "--deadline", "R6.4"], "日がありません"),
    # the deadline's examples alone (not the cell reader's as well, whose R6.2月 has no day)
    (["split", "m.xlsm", "--outdir", "o", "--deadline", "12/18"],
     "「12/18」を日付として読めません（例: 2024-04-19、2024/4/19、令和6年4月19日、R6.4.19）（renkei-xl split --help"),
    (["serve", "--port", "八十"], "「八十」は整数として読めません"),
    # a port in digits staff do not type: int() raised on 「²」 (argparse named the function,
    # 「_smtp」) and read 「٥٨٧」 as 587 without a word
    (["export", "m.xlsm", "--smtp", "smtp.example.jp:²"], "サーバー名:ポート番号 の形で指定してください"),
    (["export", "m.xlsm", "--smtp", "smtp.example.jp:٥٨٧"], "サーバー名:ポート番号 の形で指定してください"),
    (["export", "m.xlsm", "--smtp", "smtp.example.jp:70000"], "サーバー名:ポート番号 の形で指定してください"),
    (["evaluate", "--sample", "fy2024"], "「fy2024」は指定できません"),
    (["init", "x.xlsx", "--sample", "fy1999"], "指定できるもの: fy2023"),
    (["export", "m.xlsm", "--pdf=yes"], "値「yes」は付けられません"),
]


@pytest.mark.parametrize("argv,said", MISTAKES, ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_every_command_line_mistake_is_told_in_japanese(tmp_path, capsys, monkeypatch, argv, said):
    out = run_here(capsys, monkeypatch, *argv, cwd=tmp_path)
    assert out.returncode == 2 and out.stdout == ""
    assert said in out.stderr, out.stderr
    assert "エラー: " in out.stderr and "使い方: renkei-xl" in out.stderr and "--help で使い方を表示します" in out.stderr
    assert not english_words(out.stderr), out.stderr
    assert list(tmp_path.iterdir()) == []          # nothing made


def _command_lines():
    """Every command (history import too) with the arguments it requires, so that argparse
    reads it through and only an unknown option is left over."""
    import argparse

    from renkei_xl.cli import build_parser

    def walk(parser, path):
        for commands in (a for a in parser._actions if isinstance(a, argparse._SubParsersAction)):
            for name, p in commands.choices.items():
                needed = [w for a in p._actions if a.option_strings and a.required for w in (a.option_strings[0], "x")]
                needed += ["x" for a in p._actions
                           if not a.option_strings and not isinstance(a, argparse._SubParsersAction)]
                if not any(isinstance(a, argparse._SubParsersAction) for a in p._actions):
                    yield [*path, name], needed
                yield from walk(p, [*path, name])
    return list(walk(build_parser(), []))


@pytest.mark.parametrize("command,needed", _command_lines(), ids=lambda v: " ".join(v))
def test_an_unknown_option_shows_its_own_commands_usage(capsys, command, needed):
    """「renkei-xl export m.xlsx --bogus」 printed renkei-xl's own usage (コマンド ...) above the
    error: argparse finds an unknown option at the top parser. Every command's now shows its own."""
    with pytest.raises(SystemExit) as stop:
        main([*command, *needed, "--bogus"])
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert err.startswith(f"使い方: renkei-xl {' '.join(command)} ") and "「--bogus」は使えない指定です" in err, err


def test_help_of_every_command_is_in_japanese():
    from renkei_xl.cli import build_parser

    parser = build_parser()
    helps = [parser.format_help()]
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, p in sub.choices.items():
        helps.append(p.format_help())
        inner = [a for a in p._actions if a.__class__.__name__ == "_SubParsersAction"]
        helps += [q.format_help() for a in inner for q in a.choices.values()]
    assert len(helps) > 12
    for text in helps:
        assert text.startswith("使い方: renkei-xl") and "この説明を表示して終わる" in text
        assert not english_words(text), text
        # the README's words: 職員 (serve said スタッフ), 2023年度 (evaluate and demo said FY2023)
        assert "スタッフ" not in text and "FY20" not in text, text
        # what an option takes is said in Japanese too (--outdir OUTDIR, --deadline DEADLINE)
        assert set(re.findall(r"--[a-z-]+ ([A-Z_:]{2,})", text)) <= {"URL", "MB"}, text


def test_a_message_argparse_may_add_later_is_kept_after_a_japanese_sentence():
    assert japanese_message("argument --x: something new") == "--x: 指定に誤りがあります（something new）"


@pytest.mark.parametrize("text", ["2024", "２０２４", "2024年度", "令和6年度", "令和６年度", "R6", "Ｒ６年度", " 2024 "])
def test_a_year_is_taken_as_staff_write_it(text):
    assert fiscal_year(text) == 2024


# Spellings of a year alone, read or refused alike by --year and a history CSV's 年度.
YEAR_SPELLINGS = ["2022", "２０２２", "2022年度", "令和4年度", "令和４", "R4", "Ｒ４年度", "令和元年度", "R 4",
                  "𝟮𝟬𝟮𝟮", "٢٠٢٢", "+2022", "22", "0", "-5", "令和4年", "R4.4", "来年", ""]


@pytest.mark.parametrize("text", YEAR_SPELLINGS)
def test_a_year_reads_alike_on_the_command_line_and_in_a_history_csv(text):
    """--year (cli.parser.fiscal_year) and a history CSV's 年度 (core.history) had a rule each:
    the command line took 「𝟮𝟬𝟮𝟮」 and 「+2022」 as 2022 where the CSV refused both. One rule
    now (core.fiscal.staff_year): each spelling is the same year, or refused, in both."""
    import argparse

    from renkei_xl.core.history import parse_history_csv

    try:
        on_line = fiscal_year(text)
    except argparse.ArgumentTypeError:
        on_line = None
    got = parse_history_csv(f"指標ID,年度,実績値,評価\n01-1,{text},5,◎\n", [], 2030, {"01-1": {}})
    in_csv = got.records[0][1] if got.records else None
    assert (on_line, len(got.records) + len(got.refusals)) == (in_csv, 1), got.refusals


@pytest.mark.parametrize("text", ["2024-04-19", "2024/4/19", "20240419", "令和6年4月19日", "R6.4.19", "Ｒ６．４．１９"])
def test_a_deadline_is_taken_as_staff_write_it(text):
    assert day(text) == dt.date(2024, 4, 19)


def test_a_deadline_already_past_is_refused_before_anything_is_made(tmp_path):
    master = sample_master(tmp_path / "m.xlsx")
    out = run("split", str(master), "--outdir", str(tmp_path / "配布"), "--deadline", "2020-01-06")
    assert out.returncode == 2, out.stderr
    assert "回答期限 2020年1月6日（月） は今日" in out.stderr and "より前の日付です" in out.stderr
    assert not (tmp_path / "配布").exists()


def test_the_samples_the_parser_offers_are_the_samples_there_are():
    from renkei_xl.cli.help_texts import SAMPLE_NAMES
    from renkei_xl.core.reference import SAMPLES

    assert SAMPLE_NAMES == tuple(SAMPLES)


def test_debug_is_accepted_after_the_command_too(tmp_path):
    out = run("validate", str(tmp_path / "ない.xlsm"), "--debug")
    assert out.returncode == 2 and "「" in out.stderr and "ない.xlsm" in out.stderr
    assert "使えない指定" not in out.stderr


def test_a_folder_given_as_the_master_or_the_csv_is_called_a_folder(tmp_path):
    master = sample_master(tmp_path / "m.xlsx")
    for argv in (["validate", str(tmp_path)], ["history", "import", str(master), str(tmp_path)]):
        out = run(*argv)
        assert out.returncode == 2 and "はフォルダーで、ファイルではありません" in out.stderr, out.stderr


# A file of another format given as the master: what it is and how to mend it, not
# 「拡張子は .xlsx か .xlsm にしてください」, which a renamed .xls or CSV answers with 「壊れています」.
# A master renamed to another extension is told to get its name back (its content is a
# master: package.zipped.content_suffix); a file that really is of that format is told what
# it is (tests/test_renamed_books.py has each pair of content and name).
OTHER_FORMATS = {"m.xls": "中身は Excel ブック（.xlsx）です。名前の最後の「.xls」を「.xlsx」に戻して",
                 "m.ods": "中身は Excel ブック（.xlsx）です。名前の最後の「.ods」を「.xlsx」に戻して",
                 "m.csv": "中身は Excel ブック（.xlsx）です。名前の最後の「.csv」を「.xlsx」に戻して",
                 "m.pdf": "中身は Excel ブック（.xlsx）です。名前の最後の「.pdf」を「.xlsx」に戻して"}
REAL_FORMATS = {"m.xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "Excel マクロ有効ブック（.xlsm）」として保存"),
                "m.csv": ("指標ID,年度\n".encode(), "CSV などの文字のファイルで、マスターブックではありません"),
                "m.pdf": (b"%PDF-1.4\n", "マスターブック（.xlsm か .xlsx）ではありません")}
MASTER_COMMANDS = (["validate"], ["recalc"], ["export"], ["rollover"], ["split", "--outdir", "配布用"],
                   ["collect", "回収"], ["upgrade-macros"], ["evaluate"])


@pytest.mark.parametrize("name", OTHER_FORMATS)
def test_a_file_of_another_format_given_as_the_master_is_named_as_such(tmp_path, capsys, monkeypatch, name):
    book = tmp_path / name
    shutil.copyfile(sample_master(tmp_path / "m.xlsx"), book)
    for command, *rest in MASTER_COMMANDS:
        out = run_here(capsys, monkeypatch, command, str(book), *rest, cwd=tmp_path)
        assert out.returncode == 2 and OTHER_FORMATS[name] in out.stderr, (command, out.stderr)
        assert "拡張子は" not in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("name", REAL_FORMATS)
def test_a_file_really_of_another_format_is_named_as_such(tmp_path, name):
    book = tmp_path / name
    book.write_bytes(REAL_FORMATS[name][0])
    out = run("validate", str(book), cwd=tmp_path)
    assert out.returncode == 2 and REAL_FORMATS[name][1] in out.stderr, out.stderr
    assert "戻して" not in out.stderr, out.stderr


def test_an_xls_master_given_to_history_import_is_not_called_a_bad_csv(tmp_path):
    master = sample_master(tmp_path / "m.xlsx")
    old = tmp_path / "2022.xls"
    shutil.copyfile(master, old)
    out = run("history", "import", str(master), str(old))
    assert out.returncode == 2 and OTHER_FORMATS["m.xls"] in out.stderr and "CSV" not in out.stderr, out.stderr


@pytest.mark.parametrize("command", ["export", "rollover", "recalc"])
def test_a_folder_given_as_the_output_is_called_a_folder(tmp_path, command):
    """Not its missing extension, and not "add --force" (rollover, as the folder exists)."""
    master = sample_master(tmp_path / "m.xlsx")
    (tmp_path / "sub").mkdir()
    before = master.read_bytes()
    out = run(command, str(master), "-o", str(tmp_path / "sub"))
    assert out.returncode == 2 and "はフォルダーです" in out.stderr, out.stderr
    assert master.read_bytes() == before and list((tmp_path / "sub").iterdir()) == []


# --------------------------------------------------------------- what was written, told truly

def _validate_failing_in(module, name: str, tmp_path, monkeypatch, capsys, said: str = "boom") -> tuple[bool, str]:
    """``renkei-xl validate`` on the sample with ``module.name`` raising an unexpected error
    that says ``said``: whether the master changed, and what was said."""
    master = sample_master(tmp_path / "m.xlsx")

    def broken(*_args, **_kwargs):
        raise RuntimeError(said)

    monkeypatch.setattr(module, name, broken)
    before = master.read_bytes()
    assert main(["validate", str(master)]) == 3
    return master.read_bytes() != before, capsys.readouterr().err


def test_an_unexpected_error_after_the_write_says_the_book_was_written(tmp_path, monkeypatch, capsys):
    """The last guard must not claim 「ブックは変更していません」 when the master was already
    replaced (here: the report after the write fails)."""
    from renkei_xl.cli import workbook as cli_workbook

    changed, err = _validate_failing_in(cli_workbook, "_print_written", tmp_path, monkeypatch, capsys)
    assert changed
    assert "書き込み済みです" in err and "m.xlsx" in err and "変更していません" not in err


def test_an_unexpected_error_before_any_write_says_nothing_changed(tmp_path, monkeypatch, capsys):
    from renkei_xl.workbook import session

    changed, err = _validate_failing_in(session, "validate_file", tmp_path, monkeypatch, capsys)
    assert not changed
    assert "ブックは変更していません" in err and "書き込み済み" not in err


def test_an_unexpected_error_quoting_half_an_emoji_is_logged_and_said(tmp_path, monkeypatch, capsys):
    """The error's text holds half of a surrogate pair (a cell Excel cut inside an emoji, a
    file name not in UTF-8): writing the log raised, and the last guard ended in a traceback."""
    import sys

    from renkei_xl.cli import _printable_streams
    from renkei_xl.workbook import session

    _printable_streams()    # as the program (cli.run) prints, on the streams capsys put there
    assert sys.stderr.errors == "backslashreplace"
    changed, err = _validate_failing_in(session, "validate_file", tmp_path, monkeypatch, capsys, said="「\ud83d」")
    assert not changed
    assert "予期しないエラーが発生しました" in err and "ログを書けませんでした" not in err, err


@pytest.mark.parametrize("text, printed", [
    ("evil\x1b[2J\x1b[31mRED", "evil[U+001B][2J[U+001B][31mRED"),     # clears the screen, colours
    ("5件\r小樽市!G2 04-1 実績値: 5件 → 5件", "5件[U+000D]小樽市!G2 04-1 実績値: 5件 → 5件"),  # back over the line
    ("\x9b2J", "[U+009B]2J"), ("\u202e達成済み", "[U+202E]達成済み"), ("bell\x07", "bell[U+0007]"),
    ("一行目\n二行目\tタブ", "一行目\n二行目\tタブ"), ("一行目\r\n二行目", "一行目\r\n二行目"),
    ("=HYPERLINK(\"http://evil\",\"x\")", "=HYPERLINK(\"http://evil\",\"x\")")])
def test_the_console_is_shown_a_control_character_a_text_holds(text, printed, capsys):
    """Texts of the master and of returned files reach the console whole (evaluate's table,
    collect's change lines): an ESC or a lone CR in one was obeyed, not shown, and a change
    line could read as another (qa-inject66). Every write of the program goes through one
    rule (cli.shown_controls)."""
    from renkei_xl.cli import _printable_streams

    _printable_streams()    # as the program (cli.run) prints, on the streams capsys put there
    print(text, end="")
    print(text, end="", file=sys.stderr)
    assert capsys.readouterr() == (printed, printed)


def test_output_nobody_reads_is_not_an_unexpected_error(tmp_path):
    """``renkei-xl validate m.xlsx | head -c0``: the reader is gone before the report; the
    master is written and the command ends without the last guard's message."""
    master = sample_master(tmp_path / "m.xlsx")
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        out = subprocess.run([sys.executable, "-m", "renkei_xl.cli", "validate", str(master)],
                             stdout=write_end, stderr=subprocess.PIPE, text=True)
    finally:
        os.close(write_end)
    assert out.returncode == 1
    assert "予期しない" not in out.stderr and "Traceback" not in out.stderr
    assert any(p.suffix == ".xlsx" for p in (tmp_path / "m_バックアップ").iterdir())   # it was written


def test_a_console_that_cannot_show_a_character_does_not_fail_the_command(tmp_path):
    master = sample_master(tmp_path / "m.xlsx")
    shown = master.with_name("評価🎌.xlsx")
    shutil.move(master, shown)
    out = subprocess.run([sys.executable, "-m", "renkei_xl.cli", "validate", str(shown)],
                         capture_output=True, env={**os.environ, "PYTHONIOENCODING": "cp932"})
    assert out.returncode == 0, out.stderr.decode("cp932", "replace")
    text = out.stdout.decode("cp932")
    assert "入力チェック" in text and "\\U0001f38c" in text


# A command whose memory runs out: the child fills its address space inside validate (each
# size of block until none is left), then raises MemoryError with all of it still held by
# the frame, as a run out of memory on a hostile or huge file does.
_OUT_OF_MEMORY = r"""
import os, resource, sys
from renkei_xl import cli
from renkei_xl.workbook import session

def filled(*_args, **_kwargs):
    held = []
    for size in (1 << 20, 1 << 16, 1 << 12, 1 << 8, 1):
        try:
            while True:
                held.append(bytearray(size))
        except MemoryError:
            pass
    raise MemoryError

session.validate_file = filled
with open("/proc/self/status") as status:
    size = next(int(line.split()[1]) for line in status if line.startswith("VmSize")) * 1024
resource.setrlimit(resource.RLIMIT_AS, (size + (64 << 20), resource.RLIM_INFINITY))
sys.argv = ["renkei-xl", "validate", sys.argv[1]]
cli.run()
"""


@pytest.mark.skipif(sys.platform != "linux", reason="the address-space limit and /proc are Linux's")
def test_a_command_out_of_memory_ends_with_its_sentence_not_a_traceback(tmp_path):
    """Memory run out mid-command (qa-fuzz61: a part of six million elements, a MemoryError
    before the tree limit): the last guard's traceback formatting and log record need memory
    too, and while the failed work's frames still held what filled it, they raised again and
    Python printed a traceback of its own, exit 1, the log unwritten."""
    master = sample_master(tmp_path / "m.xlsx")
    before = master.read_bytes()
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", _OUT_OF_MEMORY, str(master)], capture_output=True, text=True,
                          encoding="utf-8", env=env, timeout=120)
    assert done.returncode == 3, done.stderr[-2000:]
    assert done.stderr.startswith(out_of_memory()) and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "ブックは変更していません" in done.stderr and master.read_bytes() == before
    log = (tmp_path / "renkei-xl-error.log").read_text(encoding="utf-8")
    assert "MemoryError" in log and "filled" in log, log[-2000:]


# A master named for 2024 whose 設定 says 2023 (the FY2023 master copied by hand, 設定 left as
# it was), as every face refuses it (core.contract_read.year_name_refusal).
MISNAMED = "さっぽろ圏_2024年度_マスター.xlsm"
MISNAMED_SAID = (f"マスター「{MISNAMED}」の名前は2024年度ですが、「設定」の対象年度は 2023年度です（何も作っていません）。"
                 "2024年度のマスターなら「設定」の対象年度を 2024 に直し、2023年度のマスターなら名前を2023年度に直してから")
# Every command that reads a master (rollover and history import from a master refused it
# before: tests/test_years.py); ``M`` is the master, the rest are made in its folder.
YEAR_COMMANDS = [["validate", "M"], ["validate", "M", "--no-write"], ["recalc", "M"], ["evaluate", "M"],
                 ["split", "M", "--outdir", "配布用"], ["collect", "M", "回収"], ["export", "M"],
                 ["export", "M", "--eml", "--smtp", "127.0.0.1:9"], ["history", "import", "M", "経年.csv"],
                 ["upgrade-macros", "M"]]


@pytest.mark.parametrize("argv", YEAR_COMMANDS, ids=" ".join)
def test_a_master_named_for_another_year_is_refused_by_every_command(sample_master_xlsm, tmp_path, capsys,
                                                                      monkeypatch, argv):
    """The FY2023 master copied to 「…_2024年度_マスター.xlsm」, 設定 left at 2023: split made 12
    「2023年度」 input files and export a 2023 確定版 (exit 0) that staff would have sent as
    2024's; only rollover and history import refused it. Every command refuses it now, in
    rollover's words, and nothing is made or changed."""
    master = tmp_path / MISNAMED
    shutil.copyfile(sample_master_xlsm, master)
    (tmp_path / "回収").mkdir()
    (tmp_path / "経年.csv").write_text("指標ID,年度,実績値,評価\n08-1,2022,15件,×\n", encoding="utf-8")
    before = sorted(p.name for p in tmp_path.rglob("*")), master.read_bytes()
    done = run_here(capsys, monkeypatch, *[str(master) if a == "M" else a for a in argv], cwd=tmp_path)
    assert done.returncode == 2 and MISNAMED_SAID in done.stderr, done.stderr + done.stdout
    assert (sorted(p.name for p in tmp_path.rglob("*")), master.read_bytes()) == before

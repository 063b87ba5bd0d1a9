"""The README's command list (Developers: Commands) names every command and option the
command line has: it once left out init's --server and --force, split's --deadline,
serve's TLS files and more, so a reader of the README could not find them. The commands,
options and value forms the staff's texts quote (the README's part for staff, the staff
guide docs/staff-guide.md it grew into, and docs/staff-setup.md) are held to the parser as
well (qa-99: those were read by no test)."""

import argparse
import re
from pathlib import Path

import pytest

from renkei_xl.cli import build_parser

README = Path(__file__).resolve().parents[1] / "README.md"


def _listed() -> dict[str, set[str]]:
    text = README.read_text(encoding="utf-8")
    block = text[text.index("### Commands"):]
    block = block[block.index("```sh") + 5:]
    block = block[:block.index("```")]
    listed: dict[str, set[str]] = {}
    command = None
    for line in block.splitlines():
        m = re.match(r"renkei-xl (\S+)", line)
        if m:
            command = m.group(1) if not m.group(1).startswith("-") else None
            if command == "history":
                command = "history " + line.split()[2]
        if command:
            listed.setdefault(command, set()).update(re.findall(r"(?<![\w-])--?[a-z][a-z-]*", line.split("#")[0]))
    return listed


def _options(parser: argparse.ArgumentParser) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = _options(sub)
                if nested:
                    out.update({f"{name} {k}": v for k, v in nested.items()})
                else:
                    out[name] = {tuple(a.option_strings) for a in sub._actions
                                 if a.option_strings and "--help" not in a.option_strings}
    return out


def test_every_command_and_option_is_in_the_readme():
    listed, actual = _listed(), _options(build_parser())
    assert set(listed) == set(actual)
    missing = {cmd: sorted(o[-1] for o in opts if not listed[cmd] & set(o)) for cmd, opts in actual.items()}
    known = {cmd: {s for o in opts for s in o} for cmd, opts in actual.items()}
    extra = {cmd: sorted(listed[cmd] - known[cmd]) for cmd in actual}
    missing = {cmd: o for cmd, o in missing.items() if o}
    extra = {cmd: o for cmd, o in extra.items() if o}
    assert missing == {} and extra == {}


SETUP = README.parent / "docs" / "staff-setup.md"
GUIDE = README.parent / "docs" / "staff-guide.md"
# What `nssm set <service> <parameter>` takes after the parameter (NSSM 2.24's settings.cpp):
# the words are joined with spaces into one value, so anything more on the line becomes part
# of it (a password followed by a note is a wrong password; 「Exit （…）」 no exit action).
NSSM_WORDS = {"AppEnvironmentExtra": 1, "AppStderr": 1, "AppStdout": 1, "AppExit": 2, "AppStopMethodConsole": 1,
              "ObjectName": 2, "AppDirectory": 1, "Start": 1, "DisplayName": 1, "Description": 1}


def _typed_lines(path: Path) -> list[str]:
    """The commands in the file's code blocks, as IT would paste them: a line continued with
    cmd's 「^」 or a shell's 「\\」 joined to the next."""
    lines, block, pending = [], False, ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.strip().startswith("```"):
            block = not block
            continue
        if not block:
            continue
        text = pending + raw.strip()
        if text.endswith(("^", "\\")) and not text.endswith("\\\\"):
            pending = text[:-1] + " "
            continue
        pending = ""
        lines.append(text)
    return lines


def test_the_service_examples_run_as_typed():
    """docs/staff-setup.md's NSSM example carried notes on its command lines: pasted, NSSM took
    「パスワード （作業フォルダーに…）」 for the account's password, 「Exit （終了コード…）」 for the
    exit action and made the console file 「console.log （起動の 1 行と…）」. Each line is a
    command as it is typed; each `renkei-xl serve` in it is one the command line accepts."""
    import shlex

    parser = build_parser()
    served = 0
    for line in _typed_lines(SETUP):
        words = line.split()
        if words[:2] == ["nssm", "set"]:
            assert len(words) == 4 + NSSM_WORDS[words[3]], line
        if "serve" in words and "..." not in words:
            command = words[words.index("serve"):]
            args = parser.parse_args(shlex.split(" ".join(command).replace("\\", "/")))
            assert args.func.__name__ == "cmd_serve", line
            served += 1
    assert served >= 2


def _manual() -> str:
    """What staff read of their own manual: the README above Developers, then the staff guide
    (docs/staff-guide.md) that holds the details the README's part for staff once carried."""
    readme = README.read_text(encoding="utf-8")
    return readme[:readme.index("## Developers")] + "\n\n" + GUIDE.read_text(encoding="utf-8")


def _quoted(start: str) -> re.Pattern:
    """The manual's 「…」 quote that begins with ``start``, as a pattern: its 「…」 stands for
    whatever the command fills in there (a file name, a count)."""
    text = _manual()
    at = text.index("「" + start) + 1
    depth, end = 1, at
    while depth:
        depth += {"「": 1, "」": -1}.get(text[end], 0)
        end += 1
    return re.compile(".*?".join(re.escape(part) for part in text[at:end - 1].split("…")))


def test_the_quoted_refusals_of_collect_and_of_a_wrong_file_are_what_the_commands_print(tmp_path, capsys):
    """The README quoted collect's ZIP refusal as 「…をこのフォルダーに置いてください」 and the
    wrong-file message without 「（配布用ファイル作成で作ったファイル）」, while the commands said
    otherwise; staff search their screen for the words the manual gives."""
    import shutil

    from renkei_xl.cli import main
    from renkei_xl.cli.workbook import init_master

    master = tmp_path / "マスター.xlsm"
    init_master(master, sample="fy2023")
    assert main(["split", str(master), "--outdir", str(tmp_path / "配布用")]) == 0
    returned = tmp_path / "回収"
    returned.mkdir()
    issued = tmp_path / "配布用" / "小樽市_2023年度_入力.xlsx"
    shutil.copy(issued, returned / issued.name)
    shutil.copy(issued, returned / "小樽市_2023年度_入力 (1).xlsx")
    (returned / "江別市_回答.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    capsys.readouterr()
    main(["collect", str(master), str(returned), "--dry-run"])
    said = capsys.readouterr().out
    for start in ("ZIP を展開して", "同じ内容のファイルです"):
        assert _quoted(start).search(said), (start, said)
    assert main(["validate", str(issued)]) != 0
    said = capsys.readouterr()
    assert _quoted("これは小樽市の入力用ファイル").search(said.out + said.err), said


def _staff_texts() -> list[tuple[str, str]]:
    """(file, text) of what staff and their IT person read: the README above Developers, the
    staff guide and docs/staff-setup.md."""
    readme = README.read_text(encoding="utf-8")
    return [("README.md", readme[:readme.index("## Developers")]),
            ("docs/staff-guide.md", GUIDE.read_text(encoding="utf-8")),
            ("docs/staff-setup.md", SETUP.read_text(encoding="utf-8"))]


def _quoted_commands() -> list[tuple[str, str]]:
    """Every `renkei-xl …` the staff texts quote inline as a command to type (a quote broken
    over two lines joined), but those with 「…」 standing for the rest of the line."""
    found = []
    for name, text in _staff_texts():
        for quoted in re.findall(r"`(renkei-xl [^`]+)`", text):
            line = " ".join(quoted.split())
            if "…" not in line and "..." not in line.replace("\\...\\", "").replace("/.../", ""):
                found.append((name, line))
    return found


# The words the texts put where staff write their own value, as one they might write.
PLACEHOLDERS = {"ホスト:ポート": "smtp.example.lg.jp:587", "URL": "http://192.0.2.10:8000", "アドレス": "kikaku@example.lg.jp"}


def test_every_command_the_staff_texts_quote_is_one_the_command_line_takes():
    """The texts quote commands a staff member types as written (`renkei-xl split マスター.xlsm
    --outdir 配布用`, `renkei-xl validate --no-write マスター.xlsm`, `renkei-xl init 2023年度\\…
    --server … --server-folder 2023年度`, …); only the Developers' list was checked, so a
    renamed option or a command put in another order went on being quoted in the staff's
    words. Each is parsed by the real parser, as a staff member would type it."""
    import shlex

    import contextlib
    import io

    def takes(words: list[str]) -> bool:
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                build_parser().parse_args(words)
        except SystemExit as exc:
            return exc.code in (0, None)        # --version, --help
        return True

    commands = _quoted_commands()
    assert len(commands) >= 20, commands
    for name, line in commands:
        words = [PLACEHOLDERS.get(w, w) for w in shlex.split(line.replace("\\", "/"))[1:]]
        # A command named in a sentence without its file (`renkei-xl recalc`, `renkei-xl export
        # --pdf`): the one the staff would add is the master.
        named_only = all(w.startswith("-") for w in words[1:])
        assert takes(words) or (named_only and takes(words + ["マスター.xlsm"])), \
            f"{name}: `{line}` is not a command renkei-xl takes"


def test_every_option_the_staff_texts_name_is_one_a_command_has():
    """An option quoted alone (`--deadline 2024-04-19`, `--resend --to アドレス`, `-o 新しいファイル.xlsm`)
    names one that a command has."""
    known = {s for opts in _options(build_parser()).values() for o in opts for s in o} | {"--version", "--debug"}
    for name, text in _staff_texts():
        for quoted in re.findall(r"`(--?[a-z][^`]*)`", text):
            named = set(re.findall(r"(?<![\w-])--?[a-z][a-z-]*", quoted))
            assert named <= known, (name, quoted, named - known)


@pytest.mark.parametrize("written", ["2024-04-19", "2024/4/19", "令和6年4月19日", "R6.4.19"])
def test_the_deadline_forms_the_readme_names_are_read(written):
    """The staff guide (配布用ファイル作成): `--deadline 2024-04-19`, 「2024/4/19、令和6年4月19日、R6.4.19 とも書けます」."""
    import datetime

    assert written in _manual()
    args = build_parser().parse_args(["split", "マスター.xlsm", "--outdir", "配布用", "--deadline", written])
    assert args.deadline == datetime.date(2024, 4, 19)
    # split --help gives the same forms (it left out 2024/4/19: readme63)
    split = build_parser()._subparsers._group_actions[0].choices["split"]
    [deadline] = [a for a in split._actions if "--deadline" in a.option_strings]
    assert written in deadline.help, deadline.help


@pytest.mark.parametrize("written", ["2024", "2024年度", "令和6年度"])
def test_the_year_forms_the_readme_names_are_read(written):
    """The staff guide (新しい年度を始めるとき): `--year 2024`（`2024年度`、`令和6年度` とも書けます）."""
    manual = _manual()
    assert f"`{written}`" in manual or f"`--year {written}`" in manual
    args = build_parser().parse_args(["rollover", "マスター.xlsm", "--year", written])
    assert args.year == 2024


def _readme_paragraph(label: str) -> str:
    """The README paragraph a message names as 「label」: the one that opens with it in bold
    (**label** or **label（…）**) or the section under a heading of that name."""
    text = README.read_text(encoding="utf-8")
    for start in (f"**{label}**", f"**{label}（", f"### {label}"):
        if start in text:
            at = text.index(start)
            end = text.find("\n\n", at)
            return text[at:end if end > 0 else len(text)]
    raise AssertionError(f"the README has no 「{label}」")


def test_the_licence_refusal_points_at_the_readme_paragraph_that_explains_the_licence(monkeypatch):
    """`renkei-xl serve` without XLWINGS_LICENSE_KEY sent IT to the README's 「サーバーで動かす」,
    a bullet that says nothing of the licence: the paragraph on it is 「ライセンス」, and
    docs/staff-setup.md has its own chapter (0-1)."""
    from renkei_xl.core.errors import UserError
    from renkei_xl.server.config import check_license

    monkeypatch.delenv("XLWINGS_LICENSE_KEY", raising=False)
    with pytest.raises(UserError) as said:
        check_license()
    [label] = re.findall(r"README の「([^」]+)」", str(said.value))
    assert "XLWINGS_LICENSE_KEY=noncommercial" in _readme_paragraph(label), label
    [chapter] = re.findall(r"docs/staff-setup\.md の ([0-9-]+) 章", str(said.value))
    assert f"### {chapter}. ライセンスの確認" in SETUP.read_text(encoding="utf-8")


def test_the_staff_texts_never_install_renkei_xl_by_its_name_from_the_public_index():
    """renkei-xl is not published on PyPI: 「pip install renkei-xl」 typed as the README said
    fetched whatever carries that name there (nothing, or someone else's package). Staff
    install from the distributed folder (`pip install .`) or the offline wheels folder,
    whose install.py passes --no-index."""
    bare = re.compile(r"pip3?\s+install\s+(?:-\S+\s+)*[\"']?renkei[-_]xl(?:\[[^\]]*\])?[\"']?(?=[\s`]|$)")
    found = [(name, m.group(0)) for name, text in _staff_texts() for line in text.splitlines()
             for m in [bare.search(line)] if m and "--no-index" not in line]
    assert not found, found


def _quoted_any_number(start: str) -> re.Pattern:
    """``_quoted`` with each number of the README's example standing for any number."""
    return re.compile(re.sub(r"\d+", r"\\d+", _quoted(start).pattern))


def test_the_status_the_readme_quotes_for_an_import_is_what_collect_writes(tmp_path, capsys):
    """README (回収ファイル取込): メニューの「最終実行結果」 becomes 「回収ファイル取込: 2 ファイル、15 セルを
    取り込みました」, followed by 「（取り込まなかったセル 3 か所）」 when cells were left out, and
    stays as it was when nothing was imported (qa-136: the quotes held to what collect writes).
    The command names the next step the button names, 評価を再計算, once cells were written
    (staff-walk: it ended on the import, and 一覧 kept the old values), as a command staff can
    copy: a master name with a space in quotes, as every step's command (core.carry.recalc_step)."""
    import openpyxl

    from renkei_xl.cli import main
    from renkei_xl.cli.workbook import init_master

    master = tmp_path / "受付 マスター.xlsm"
    init_master(master, sample="fy2023")
    assert main(["split", str(master), "--outdir", str(tmp_path / "配布用")]) == 0
    returned = tmp_path / "回収"
    returned.mkdir()
    wb = openpyxl.load_workbook(tmp_path / "配布用" / "小樽市_2023年度_入力.xlsx")
    ws = wb.worksheets[0]
    head = next(r for r in ws.iter_rows() if any(cell.value == "実績値" for cell in r))
    col = next(cell.column for cell in head if cell.value == "実績値")
    counts = [r for r in range(head[0].row + 1, ws.max_row + 1) if isinstance(ws.cell(r, col).value, (int, float))]
    ws.cell(counts[0], col).value = 12345
    ws.cell(counts[1], col).value = 1.5             # a count with decimals: that row is left out
    wb.save(returned / "小樽市_2023年度_入力.xlsx")

    def status() -> str:
        menu = openpyxl.load_workbook(master)["メニュー"]
        return next(row[i + 1].value for row in menu.iter_rows() for i, cell in enumerate(row[:-1])
                    if cell.value == "最終実行結果")

    before = status()
    capsys.readouterr()
    assert main(["collect", str(master), str(returned), "--dry-run"]) == 1
    assert status() == before
    assert "renkei-xl recalc" not in capsys.readouterr().out
    main(["collect", str(master), str(returned)])
    assert f'続けて renkei-xl recalc "{master}" を実行してください。' in capsys.readouterr().out.splitlines()
    said = status()
    imported, held = _quoted_any_number("回収ファイル取込: "), _quoted_any_number("（取り込まなかったセル ")
    assert re.fullmatch(imported.pattern + held.pattern, said), said
    assert said == "回収ファイル取込: 1 ファイル、1 セルを取り込みました（取り込まなかったセル 1 か所）", said
    main(["collect", str(master), str(returned)])   # nothing new to import
    assert status() == said
    assert "renkei-xl recalc" not in capsys.readouterr().out


def test_the_under_way_mark_the_readme_quotes_is_what_a_click_writes():
    """README: a click first sets メニュー's 最終実行結果 to 「「評価を再計算」を実行中：…」; it quoted
    「『…』を実行中：…」, brackets the book never shows (qa-136)."""
    from renkei_xl.core import contract as c

    for caption in (c.RECALC, c.CHECK, c.COLLECT):
        quoted = _quoted("「評価を再計算」を実行中").pattern.replace(re.escape(f"「{c.RECALC}」"), re.escape(f"「{caption}」"))
        assert re.fullmatch(quoted, c.under_way_line(caption)), caption


def test_the_staff_texts_quote_the_tools_words_in_its_own_brackets():
    """docs/staff-setup.md (0-8, メッセージの見分け方) quoted the macros' and the server's words as
    「『ボタン名』の途中で Excel がエラーを返しました…」, 「シート『札幌市』のセル F12 に…」 and
    「シート『…』の使用範囲が…」, while every message the tool shows quotes a button, sheet or value
    in 「」 (「評価を再計算」の途中で…, シート「札幌市」のセル F12 に…): staff search their screen
    for the words the manual gives. The tool writes no 『 at all, so none belongs in a quote of it."""
    from test_vba_doc_refs import _texts

    package = README.parent / "renkei_xl"
    tool = [p.read_text(encoding="utf-8") for p in package.rglob("*.py")] + list(_texts().values())
    assert len(tool) > 100 and not [t[:60] for t in tool if "『" in t]
    found = [(name, n, line.strip()) for name, text in _staff_texts()
             for n, line in enumerate(text.splitlines(), start=1) if "『" in line]
    assert not found, found


# Katakana words the tool and the staff texts spell one way: (the spelling, the other one).
# The collect button said 「回収フォルダ: …」 above refusals asking for 「このフォルダー（回収）」,
# and the setup document's table 「配布用・回収・確定版のフォルダ」 beside 「サーバー作業フォルダー」.
ONE_SPELLING = (("フォルダー", "フォルダ(?!ー)"), ("メモリ", "メモリー"))


def test_the_tool_and_the_staff_texts_spell_each_word_one_way():
    """Staff search their screen and the manuals for the words a message gives; a word spelt two
    ways within one message, or otherwise in the manual than on screen, reads as two things."""
    from test_vba_doc_refs import _texts

    package = README.parent / "renkei_xl"
    texts = [(str(p.relative_to(README.parent)), p.read_text(encoding="utf-8")) for p in package.rglob("*.py")]
    texts += list(_texts().items()) + _staff_texts()
    found = [(name, n, line.strip()[:80], spelt) for name, text in texts
             for n, line in enumerate(text.splitlines(), start=1)
             for spelt, other in ONE_SPELLING if re.search(other, line)]
    assert not found, found


def _limits() -> list[tuple[str, str]]:
    """(file, phrase) for each limit the staff texts quote, the phrase spelt from the constant
    that is the limit: one number in one place (the constant), and the texts say it."""
    from renkei_xl.core import business_days, contract, copied_sheets, filenames, looks, pages, refs, sheet_findings, text_fit
    from renkei_xl.core.alerts import ALERT_CHARS
    from renkei_xl.core.contract_read import REGION_MAX
    from renkei_xl.core.errors import UserError
    from renkei_xl.core.validate import JUMP
    from renkei_xl.core.values import CELL_TEXT_LIMIT
    from renkei_xl.errorlog import BUTTON_LOG, CLI_LOG, LOG_BYTES
    from renkei_xl.excel.buttons import CLICK_WAIT_SECONDS
    from renkei_xl.package import zipped
    from renkei_xl.safety import KEEP_BACKUPS, KEEP_DAYS, NAME_MAX, WRITER_WAIT_SECONDS
    from renkei_xl.server import app, config, connections, limits, log, place, turns
    from renkei_xl.workbook.returned import FUTURE_SLACK
    from renkei_xl.workbook.sheet_checks import MAX_SHARED_STRINGS_BYTES

    import importlib.util

    spec = importlib.util.spec_from_file_location("deploy_wheels", README.parent / "deploy" / "wheels.py")
    wheels = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(wheels)
    from renkei_xl import PYTHON_MIN

    pythons, oldest = "・".join(wheels.PYTHONS), ".".join(map(str, PYTHON_MIN))   # the floor, not 3.11
    mib = 2 ** 20
    wait = int(turns.CLIENT_TIMEOUT_SECONDS - turns.LONGEST_CLICK_SECONDS)
    history_rows = refs.MAX_CELLS // refs.LEAST_COLUMNS_READ
    assert business_days.DEFAULT_DAYS % 7 == 0
    readme = [
        f"回答期限は {business_days.DEFAULT_DAYS // 7} 週間後",
        f"一覧は {sheet_findings.SHOWN_FINDING_ROWS:,} 件までで（エラーが先）",
        f"Excel のメッセージボックスに収まる長さ（およそ {ALERT_CHARS:,} 文字）",
        f"幅の狭い取込履歴ではおよそ {round(history_rows, -4) // 10 ** 4} 万行",
        f"ツールが決めるのは最初の {pages.MAX_MANUAL_BREAKS + 1:,} ページまで",
        f"Excel の行の高さの上限は {text_fit.MAX_ROW_HEIGHT:.0f} ポイント",
        f"入力のある行（「前年度実績（…年度）」の列も数えます）が {copied_sheets.MIN_ROWS} 行以上",
        f"最新{KEEP_BACKUPS}個と、それより前の日ごとの最後の 1 個を {KEEP_DAYS} 日分",
        f"1 シート {refs.MAX_ROWS:,} 行・{refs.MAX_COLUMNS:,} 列（合わせて {refs.MAX_CELLS // 10 ** 4} 万セル）まで",
        f"展開して {zipped.MAX_PART_BYTES // mib} MB まで、圧縮率 {zipped.MAX_RATIO} 倍まで",
        f"展開して {MAX_SHARED_STRINGS_BYTES // mib} MB までです",
        f"先の処理が終わるのを最大 {WRITER_WAIT_SECONDS:.0f} 秒待ちます",
        f"{CELL_TEXT_LIMIT:,} 文字までで",
        f"表題に載るため、{REGION_MAX:,} 文字までです",
        f"Excel の上限（{looks.MAX_CELL_FORMATS:,} 個）",
        f"指標 {contract.SERVED_INDICATORS:,} 件・市町村 {contract.SERVED_MUNICIPALITIES} まで",
        f"{limits.MAX_CELLS // 10 ** 4} 万個まで、指標シートは {limits.MAX_INDICATOR_ROWS:,} 行まで",
        f"{limits.VBA_MAX_ROWS + 1:,} 行目以降まで使われているシート",
        f"シートは {limits.MAX_SHEETS} 枚まで送れます",
        f"受け取れる {limits.MAX_ANSWER_BYTES // mib} MB を超える",
        f"{wait} 秒待っても順番が来ないとき",
        f"Windows が開ける {place.MAX_PATH_CHARS} 文字に収まる",
        f"フォルダー名とファイル名を合わせて {filenames.EXCEL_PATH_MAX} 文字まで",
        f"「エラー: …」と表示して止まったとき（マスターが Excel で開かれている、読み取り専用、指定の誤り など）は、"
        f"どのコマンドも終了コード {UserError.exit_code} で終わります",
        f"詳細を記録したファイル（`{CLI_LOG}`。場所は表示されます）",
        f"保存日時が取り込む時より {FUTURE_SLACK.days} 日以上後",
        f"「前年度実績（YYYY年度）」の {JUMP} 倍以上か {JUMP} 分の 1 以下のとき",
        f"Windows のフォルダーでは {NAME_MAX} 文字まで、サーバー（Linux）の フォルダーでは "
        f"{filenames.NAME_MAX_BYTES} バイト（全角でおよそ {(filenames.NAME_MAX_BYTES - len('.xlsm')) // 3} 文字）まで",
        f"Windows 用・Linux 用（Python {pythons}）のパッケージ",
        f"python.org のインストーラー（{oldest} 以降",
    ]
    setup = [
        f"Windows 用と Linux 用（**Python {pythons}**）のパッケージ",
        f"このリポジトリのテストは、Python {pythons} のそれぞれで",
        f"「Windows installer (64-bit)」（Python {oldest} 以降",
        f"「macOS 64-bit universal2 installer」（Python {oldest} 以降",
        f"{config.MIN_KEY_CHARS} 文字以上の文字列",
        f"\\Temp\\{BUTTON_LOG}`）が書かれています",
        f"{LOG_BYTES // mib} MB を超えると古い分を `.1` に移します（その前の分は消えます）",
        f"順番を {wait} 秒（Excel が待つ {turns.CLIENT_TIMEOUT_SECONDS:.0f} 秒から、いちばん長いボタンの "
        f"{turns.LONGEST_CLICK_SECONDS:.0f} 秒を引いた時間）",
        f"（既定 {config.DEFAULT_MAX_MB} MB。",
        f"この上限の {app.BODIES_HELD} 倍まで",
        f"（既定で {config.DEFAULT_MAX_MB * app.BODIES_HELD} MB）",
        f"Excel のマクロが受け取れる {limits.MAX_ANSWER_BYTES // mib} MB",
        f"（既定 {config.DEFAULT_LOG_MB} MB）",
        f"{config.LOG_KEPT} つまで残します",
        f"約 {config.DEFAULT_LOG_MB * (config.LOG_KEPT + 1)} MB まで",
        f"ボタンが {app.STILL_RUNNING_SECONDS:.0f} 秒を超えても終わらない",
        f"1 分に {log.QUIET_BURST} 行まで",
        f"結果の組は {log.MAX_KEYS:,} までです",
        f"プロセスごとに{log.STDERR_RECORDS:,} 行（または {log.STDERR_BYTES // mib} MB）まで",
        f"{connections.HEADER_SECONDS:.0f} 秒以内に届かないと、接続を閉じます",
        f"{connections.BODY_SECONDS:.0f} 秒以内に届き終わらない",
        f"開いておく接続は {connections.MAX_CONNECTIONS} まで",
        f"既定は {turns.CLIENT_TIMEOUT_SECONDS * 1000:.0f}（{turns.CLIENT_TIMEOUT_SECONDS:.0f} 秒）",
        f"シートの使用範囲が {limits.VBA_MAX_ROWS + 1:,} 行目（または {limits.VBA_MAX_ROWS + 1:,} 列目）以降",
        f"前のボタンの処理が終わるまで（最大 {CLICK_WAIT_SECONDS:g} 秒）待ってから動きます",
        f"書き込み中です（{CLICK_WAIT_SECONDS:g} 秒待ちました）",
    ]
    return [("manual", p) for p in readme] + [("docs/staff-setup.md", p) for p in setup]


def test_every_limit_the_staff_texts_quote_is_the_constant_of_that_limit():
    """The staff texts quote many limits (検証結果's 1,000 rows, the 30 s writer wait, the server's
    2,000 indicators and 45 万 cells, the 20 s turn, --max-mb's 32 MB and its 4 times, the log's
    10 MB × 5 …), each a constant in the code that changed as the project went (readme63:
    the brief asked that every number the README quotes for a limit equal the constant). Each
    phrase here is spelt from its constant, so a limit changed in the code and not in the text,
    or the other way round, fails here; line breaks and spaces in the text do not matter."""
    texts = {"manual": _manual(), "docs/staff-setup.md": SETUP.read_text(encoding="utf-8")}
    flat = {name: re.sub(r"\s+", "", text) for name, text in texts.items()}
    missing = [(name, phrase) for name, phrase in _limits() if re.sub(r"\s+", "", phrase) not in flat[name]]
    assert not missing, missing
    # split's --help says the default deadline in its own words
    from renkei_xl.core.business_days import DEFAULT_DAYS

    split = next(a for a in build_parser()._subparsers._group_actions[0].choices["split"]._actions
                 if "--deadline" in a.option_strings)
    assert f"既定: {DEFAULT_DAYS // 7}週間後" in split.help, split.help


def test_every_name_in_the_code_the_readme_gives_is_there():
    """The README's Developers part points at the code by name (`text_fit.MAX_ROW_HEIGHT`,
    `cycle.rollover.BY_IT`, `excel/remote.client_value`, `core/filenames.py` …). qa-150 turned
    distribute.cut_lines into distribute._cut and the README went on naming the old one
    (readme63). Each backquoted dotted or slashed name whose head is a module of renkei_xl
    (its last parts, `distribute` for renkei_xl.cycle.distribute) resolves to a module, or an
    attribute of one; a named file exists."""
    import importlib

    package = README.parent / "renkei_xl"
    modules: dict[str, set[str]] = {}
    for path in package.rglob("*.py"):
        parts = path.with_suffix("").relative_to(package).parts
        parts = parts[:-1] if parts[-1] == "__init__" else parts
        for k in range(1, len(parts) + 1):
            modules.setdefault(".".join(parts[-k:]), set()).add(".".join(parts))

    def resolves(full: str, attrs: list[str]) -> bool:
        try:
            found = importlib.import_module(f"renkei_xl.{full}")
        except ImportError:
            return False
        for i, attr in enumerate(attrs):
            if not hasattr(found, attr):
                return resolves(f"{full}.{'.'.join(attrs[:i + 1])}", attrs[i + 1:]) if i == 0 else False
            found = getattr(found, attr)
        return True

    text = README.read_text(encoding="utf-8") + GUIDE.read_text(encoding="utf-8")
    named, wrong = 0, []
    for ref in sorted(set(re.findall(r"`([a-z_][a-z_0-9]*(?:[./][a-z_0-9]+)*[./][A-Za-z_][A-Za-z_0-9]*)`", text))):
        if ref.endswith(".py"):
            named += 1
            places = [p.as_posix() for top in ("renkei_xl", "tests", "deploy", "benchmarks")
                      for p in (README.parent / top).rglob(Path(ref).name)]
            if not any(p.endswith("/" + ref) for p in places):
                wrong.append(ref)
            continue
        parts = ref.replace("/", ".").split(".")
        head = next((i for i in range(len(parts) - 1, 0, -1) if ".".join(parts[:i]) in modules), None)
        if head is None:
            continue
        named += 1
        if not any(resolves(full, parts[head:]) for full in modules[".".join(parts[:head])]):
            wrong.append(ref)
    assert named > 100 and not wrong, (named, wrong)


def test_the_words_the_readme_lists_as_completing_a_deadline_are_the_rules_words():
    """README (実績の言葉の評価) lists the words that report a deadline target (「2025年度まで」)
    done; it left out 「達成」, which rules.COMPLETIONS has taken since the state words came from
    one definition (readme63), so staff who reported 「達成」 could not know it counts. The
    list is the rules' set, no more, no fewer."""
    from renkei_xl.core.rules import COMPLETIONS

    [listed] = re.findall(r"期限の目標（[^）]*）は、完了を表す言葉（([^）]+)）で ◎", _manual())
    assert set(listed.split("・")) == set(COMPLETIONS), listed


def test_the_examples_of_a_stopped_click_are_what_the_master_reader_says():
    """docs/staff-setup.md 4 (「「○○」を中止しました」) gave 「名前の定義「圏域名」がありません」 as an
    example, while the reader says 「名前の定義「圏域名」がないか、参照先が壊れています…」 (a name the
    buttons' client leaves out may be a broken one): staff search their screen for the words the
    manual gives (qa-docs66). Each example is what the reader raises for that fault."""
    from renkei_xl.core.contract_read import Book, read_indicators, read_settings
    from renkei_xl.core.errors import UserError

    examples = re.search(r"ブックの作りに問題があるときに出ます（例:(.*?)）。", SETUP.read_text(encoding="utf-8"), re.S).group(1)
    quoted = re.findall(r"「((?:[^「」]|「[^「」]*」)+)」", examples)
    said = []
    for read, book in ((read_settings, Book({"設定": [["圏域名"]]}, {})),
                       (read_indicators, Book({"指標": [["指標ID", "役割", "事業No", "連携事業名", "評価指標", "集計方法"]]}, {}))):
        with pytest.raises(UserError) as refused:
            read(book)
        said.append(str(refused.value))
    assert len(quoted) == 2 and [q for q, s in zip(quoted, said) if not s.startswith(q)] == [], (quoted, said)


def test_the_staff_texts_quote_no_finding_in_a_form_no_face_shows():
    """The README quoted 入力チェック's findings as 「札幌市!E5: 実績値がエラー値「#REF!」です」,
    「小樽市!G2: 実施状況が TRUE/FALSE…」 and 「小樽市!E2: 実績値のセルに画像…」, a form neither face
    shows: the command prints 「札幌市!E5 04-1: 実績値がエラー値…」, the button 「・[エラー] 札幌市!E5 04-1:
    実績値がエラー値…」 and 検証結果 the cell and 内容 in their own columns (qa-docs66). The texts name the
    cell and quote the finding's words; 一覧's 「※入力エラーのため評価不可（札幌市!E5: …）」 and
    collect's 「取り込みません: ….xlsx: 小樽市!G20 04-1: …」 are quoted whole, as they are shown."""
    from renkei_xl.cli.workbook import print_findings
    from renkei_xl.core.model import Finding

    import contextlib
    import io

    shown = io.StringIO()
    with contextlib.redirect_stdout(shown):
        print_findings([Finding("cell-error", "エラー", "札幌市", "E5", "04-1", "実績値がエラー値「#REF!」です")])
    assert "札幌市!E5 04-1: 実績値がエラー値「#REF!」です" in shown.getvalue(), shown.getvalue()
    bare = re.compile(r"「[^「」\s（）※:]+![A-Z]{1,3}[0-9]+: ")
    found = [(name, m.group(0)) for name, text in _staff_texts() for m in bare.finditer(text)]
    assert not found, found


def _slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation (「」（）・. and the rest)
    dropped, spaces turned into hyphens; kana, kanji, digits, hyphens and underscores kept."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return {_slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, re.M)}


def test_every_link_between_the_staff_texts_reaches_a_heading():
    """The staff's part of the README grew to 800 lines and moved, but for the start and the
    year, into docs/staff-guide.md: the README, the guide and docs/staff-setup.md now send staff
    to each other's sections by link (…/staff-guide.md#新しい年度を始めるとき). A link to a file
    that is not there, or to a heading renamed or moved, lands at the top of a long page or
    nowhere. Each relative link resolves to a file and, with an anchor, to one of its headings."""
    checked, wrong = 0, []
    for path in (README, GUIDE, SETUP):
        text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            linked = (path.parent / file).resolve() if file else path
            checked += 1
            if not linked.is_file() or (anchor and anchor not in _anchors(linked)):
                wrong.append((path.name, target))
    assert checked > 40 and not wrong, (checked, wrong)


def test_every_readme_section_a_message_names_is_in_the_readme():
    """Two messages send IT to the README by a section's name: serve without its packages to
    「オフラインでのインストール」, serve without the licence key to 「ライセンス」. When the staff's
    details moved into docs/staff-guide.md, the README had to keep both names, the licence with
    its text and the offline install as a link to the guide's section of that name."""
    package = README.parent / "renkei_xl"
    named = {label for path in package.rglob("*.py")
             for label in re.findall(r"README の「([^」]+)」", path.read_text(encoding="utf-8"))}
    assert named >= {"ライセンス", "オフラインでのインストール"}, named
    guide = GUIDE.read_text(encoding="utf-8")
    for label in named:
        paragraph = _readme_paragraph(label)
        links = re.findall(r"\]\(docs/staff-guide\.md#([^)]+)\)", paragraph)
        sections = [_slug(h) for h in re.findall(rf"^#+ ({re.escape(label)}.*)$", guide, re.M)]
        assert paragraph.startswith("### ") or set(links) & set(sections), (label, paragraph[:200])

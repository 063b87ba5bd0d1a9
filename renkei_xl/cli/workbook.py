"""The workbook subcommands of `renkei-xl` (init, validate, recalc, demo).

Each handler is a few lines over renkei_xl.workbook.session, so the command line adds no
behaviour of its own that the buttons would lack.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .help_texts import FORCE_HELP, MASTER_HELP, SAMPLE_NAMES
from .parser import fiscal_year
from ..collector import collector_paused
from ..core import contract as c
from ..core.errors import UserError

DEMO_DIR = Path("workbooks")
SERVER_HELP = "ボタンを renkei-xl サーバーで動かす（例: http://renkei-server:8000。xlwings.conf の RENKEI_SERVER）"
DEMO_NAME = "さっぽろ圏_2023年度_マスター.xlsm"


def print_findings(findings) -> None:
    """The findings a button's message lists, in its order (listed_findings: errors first),
    one line each (finding_line). The first 30 in the order found hid the errors that
    「エラー 4 件」 and the exit code spoke of behind a sheet of warnings and 「… ほか 48 件」."""
    from ..core.sheet_findings import finding_line, listed_findings
    from ..core.values import more_text

    shown = listed_findings(findings)
    for f in shown.findings:
        print(f"  {finding_line(f)}")
    if shown.omitted:
        print(f"  … {more_text(shown.omitted)}（シート「{c.FINDINGS}」を見てください）")   # as a button says it


def _print_written(written) -> None:
    print(f"書き込み先: {written.path}")
    if written.backup:
        print(f"バックアップ: {written.backup}")


def _checked_year(path: Path, year: int | None, sample: str | None) -> int | None:
    """init's 対象年度: --year, else the one the name gives (cycle.rollover.named_year; a
    sample has its own). Without it the master was made for 2023 whatever its name said: a
    year of 一覧 headed 2023年度 and deadlines judged against 2023, until collect or the
    rollover refused the master for its name. One other than the one year the name gives is
    refused before anything is made, as every command and button that reads a master refuses
    such a master (core.contract_read.year_name_refusal, said in workbook.session.opened,
    excel.buttons._run and the server's admission)."""
    from ..core.contract_read import check_fiscal_year
    from ..cycle.rollover import named_year, other_named_year

    if year is None and not sample:
        year = named_year(path)
    if year is None:
        return None
    check_fiscal_year(year, "対象年度（--year）")
    other = other_named_year(path, year)
    if other is not None:
        raise UserError(f"「{path.name}」の名前は{other}年度ですが、対象年度（--year）は {year}年度です（何も作っていません）。"
                        f"名前か --year のどちらかを直してから、もう一度実行してください")
    return year


def _sample_of_its_year(path: Path, sample: str, year: int | None, ref):
    """A sample's settings and rows: its 対象年度 is its own, so --year or a name of another
    year is refused. Under a name of another year it made a master that every command then
    refused for its name (core.contract_read.year_name_refusal)."""
    from ..cycle.rollover import other_named_year

    own = ref.settings.fiscal_year
    if year is not None and year != own:
        raise UserError(f"見本データ {sample} は {own}年度のものです（--year {year} とは使えません）")
    if (other := other_named_year(path, own)) is not None:
        raise UserError(f"「{path.name}」の名前は{other}年度ですが、見本データ {sample} は {own}年度のものです"
                        f"（何も作っていません）。名前を{own}年度にしてから、もう一度実行してください")
    return ref.settings, ref.indicators, ref.entries


def init_master(path: Path, year: int | None = None, sample: str | None = None,
                interpreter: str | None = None, force: bool = False, server: str | None = None,
                server_folder: str = "") -> Path:
    from ..core.model import Municipality, Settings
    from ..core.history import history_sheet
    from ..core.plan_types import WritePlan
    from ..core.reference import load_reference, official_history
    from ..workbook.build import build_master
    from ..workbook.fresh import applied
    from ..safety import check_excel_path, safe_write

    path = Path(path)
    if c.suffix_problem(path.name):
        raise UserError(c.suffix_problem(path.name, "マスターブック"))
    # Staff open the master in Excel: a path Excel cannot open is refused before the build.
    # Its own path only, as rollover's new master (the backups are the later writes').
    check_excel_path(path, backups=False)
    # The buttons' options on a book without buttons: it was built without them, exit 0 and
    # no word, and staff went looking for the Python setting in a book that has no xlwings.conf.
    for option, given in (("--server", server), ("--interpreter", interpreter)):
        if given and path.suffix.lower() != c.MACRO_SUFFIX:
            raise UserError(f"{option} はボタン付きのマスター（.xlsm）にだけ使えます（.xlsx にはボタンがありません）")
    if server:
        server = server_url(server)
    year = _checked_year(path, year, sample)
    if path.exists() and not force:
        raise UserError(f"「{path}」はすでにあります。作り直す場合は --force を付けてください（バックアップを残します）")
    ref = load_reference(sample or "fy2023")
    if sample:
        settings, indicators, entries = _sample_of_its_year(path, sample, year, ref)
    else:
        # Without a sample: the 12 municipalities and the region name, nothing else.
        base = ref.settings
        settings = Settings(base.region, base.fiscal_year if year is None else year, None, base.threshold,
                            tuple(Municipality(m.name, m.kind) for m in base.municipalities))
        indicators, entries = (), ()
    history = official_history(ref) if sample else None

    def build(target: Path) -> None:
        build_master(target, settings, indicators, entries, interpreter=interpreter,
                     server=server, server_folder=server_folder)

    def write(tmp: Path) -> None:
        if history is None:
            build(tmp)
            return
        # The sample's 経年 is a tool sheet: the file applier adds it, as rollover would.
        built = tmp.with_name(tmp.stem + ".built" + tmp.suffix)
        try:
            build(built)
            applied(built, tmp, WritePlan([history_sheet(history, indicators)]))
        finally:
            built.unlink(missing_ok=True)

    safe_write(path, write)
    return path


def server_url(url: str) -> str:
    """The renkei-xl server's address as the buttons will call it: http(s)://host[:port][/path]."""
    from urllib.parse import urlsplit

    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise UserError(f"サーバーの URL「{url}」が正しくありません（例: http://renkei-server:8000）")
    return url


def cmd_init(args: argparse.Namespace) -> int:
    path = init_master(Path(args.path), args.year, args.sample, args.interpreter, args.force,
                       server=args.server, server_folder=args.server_folder or "")
    print(f"マスターブックを作成しました: {path}")
    print(_init_next(path, bool(args.sample)))
    if args.server:
        print(f"ボタンはサーバー {server_url(args.server)} で動きます（xlwings.conf シートの RENKEI_SERVER）")
    return 0


def _init_next(path: Path, sample: bool) -> str:
    """What staff fill in before the year's work: a new master ended on 「作成しました」, and
    one from the sample went on to mail its placeholder contacts (…@otaru.example)."""
    contacts = f"シート「{c.SETTINGS}」の担当部署・メールアドレス"
    if sample:
        return f"{contacts}は見本の例です。依頼や確定版のメールを作る前に、実際のものに直してください"
    return (f"次に、{contacts}と、シート「{c.INDICATORS}」・市町村のシートを入力し、"
            f"入力チェック（renkei-xl validate {path}）で確かめてください")


def cmd_validate(args: argparse.Namespace) -> int:
    with collector_paused():       # from the imports on (renkei_xl.collector)
        from ..workbook.session import validate_file

        result, written = validate_file(Path(args.master), write=not args.no_write)
    if args.no_write:
        from ..safety import open_note

        if note := open_note(Path(args.master)):
            print(note)
    print(f"入力チェック: {result.report.counts()}")
    print_findings(list(result.findings))
    if written:
        _print_written(written)
    return 0 if result.report.ok else 1


def cmd_recalc(args: argparse.Namespace) -> int:
    with collector_paused():       # from the imports on (renkei_xl.collector)
        from ..workbook.session import recalc_file

        result, written = recalc_file(Path(args.master), Path(args.output) if args.output else None)
    if result.findings:
        print(f"入力チェック: {result.report.counts()}")
        print_findings(list(result.findings))
    _print_written(written)
    print(result.summary.line())
    from ..core.pipeline import missed_note

    if note := missed_note(result):
        print(note)
    # Written either way; 1 says, as validate's does, that input errors made rows － (a batch
    # run or CI must not read a master with errors as a clean recalculation).
    return 0 if result.report.ok else 1


def cmd_demo(args: argparse.Namespace) -> int:
    """Build the FY2023 sample master, check it, recalculate it, compare with the official list.
    Run again, it makes both masters anew: each line says so, and where the earlier ones are."""
    from ..core.reference import load_reference
    from ..workbook.session import recalc_file, validate_file

    outdir = Path(args.outdir)
    path = outdir / DEMO_NAME
    before = path.exists()
    init_master(path, sample="fy2023", force=True)
    print(f"1. 見本マスターを作成: {path}{_replaced_note(path, before)}")
    result, _ = validate_file(path)
    print(f"2. 入力チェック: {result.report.counts()}")
    result, written = recalc_file(path)
    print(f"3. 評価を再計算: {written.path}")
    ref = load_reference("fy2023")
    same = sum(result.evaluations[i].symbol == s for i, s in ref.official.items())
    print(f"4. 公式の評価（2023年度 確定版）との一致: {same}／{len(ref.official)} 行")
    print(f"   {result.summary.line()}")
    from ..core.model import ACHIEVED

    steps = sum(1 for i in result.indicators if result.evaluations[i.id].symbol != ACHIEVED)
    print(f"   {ACHIEVED}でない {steps} 指標の次の一歩（目標までの差・期限・未入力の市町村）はシート"
          f"「{c.NEXT_STEPS}」にあります")
    from ..cycle.rollover import default_target, rollover_file

    before = default_target(path, ref.settings.fiscal_year + 1, ref.settings.fiscal_year).exists()
    done = rollover_file(path, force=True)
    r = done.report
    print(f"5. 次年度のマスターを作成: {done.path}{_replaced_note(done.path, before)}")
    print(f"   指標 {r.indicators} 件を引き継ぎ、入力 {r.emptied} セルを空に、経年に {r.old_year}年度を記録、"
          f"目標の見直し {len(r.past)} 件（検証結果）。{r.old_year}年度のマスターは変更していません")
    nxt, _ = recalc_file(done.path)
    print(f"6. {r.new_year}年度のマスターを再計算（まだ入力なし）: {nxt.summary.line()}")
    from ..core.pipeline import missed_note

    if note := missed_note(nxt):
        print(f"   {note}")
    return 0 if same == len(ref.official) else 1


def _replaced_note(path: Path, existed: bool) -> str:
    """A demo run again replaces its masters (force): said, with where the earlier one is."""
    from ..safety import backup_folder

    return f"（前にあったファイルは「{backup_folder(path).name}」に残しました）" if existed else ""


def cmd_upgrade_macros(args: argparse.Namespace) -> int:
    """Swap in the VBA built from this installation's macros/ and xlwings, keep all else."""
    from ..vba.missing import missing_macros, missing_said
    from ..workbook.kind import check_master_file
    from ..workbook.session import check_path, load_master

    path = check_path(Path(args.master))
    check_master_file(path)
    if path.suffix.lower() != c.MACRO_SUFFIX:
        raise UserError(f"「{path.name}」はマクロ有効ブック（.xlsm）ではありません")
    # The key's write after the macros (give_key) reads the whole master as every command
    # does, and its refusal came after the new macros were saved: a master no reader takes
    # (a sheet whose state Excel has not, schema:31375:578) was changed, then refused with
    # 「Excel で閉じて」. Read the same way first, it is refused in its own words, unchanged.
    load_master(path)
    server = server_url(args.server) if args.server else None
    if server:
        # What would refuse the server's row (no xlwings.conf sheet, an error value in its
        # table) refuses before anything is written: it came after the new macros and the key
        # were saved, a refusal that had changed the master.
        from ..workbook.conf import conf_row_plan

        conf_row_plan(path, c.SERVER_KEY, server)
    saved, notes, dropped, before, added = _swap_macros(path, server)
    after = missing_macros(path)        # the file written, by the rule that found the losses
    print(*_upgrade_said(path, saved, before, after, added), *notes, sep="\n")
    if dropped:
        # The old signature signs code no longer there (package.vba_signature).
        print("マクロのデジタル署名を外しました（署名は前のマクロのもので、新しいマクロには合いません）。"
              "署名したマクロだけを実行する設定の PC では、VBA の画面の［ツール］→［デジタル署名］で"
              "署名し直すまでボタンが動きません")
    from ..cycle.distribute import give_key

    if give_key(path) is None:   # the key and the identity the server checks (RenkeiServer.bas sends it)
        raise UserError(f"「{path.name}」に照合用の鍵を書き込めませんでした。Excel で閉じてからもう一度実行してください")
    if server:
        from ..workbook.conf import conf_row_plan
        from ..workbook.session import write_planned

        row, _written = write_planned(path, lambda _fs: conf_row_plan(path, c.SERVER_KEY, server))
        print(f"ボタンはサーバー {server} で動きます（{c.XLWINGS_CONF} シート {row} 行目の {c.SERVER_KEY}）")
    if after:
        raise UserError(f"マクロは入れ替えましたが、入れ直せないものがあります: {missing_said(path.name, after)}")
    return 0


def _swap_macros(path: Path, server: "str | None"):
    """The master's project replaced by this installation's, under the writer lock, and what
    LibreOffice lost (vba.missing) put back in the same write: the buttons' modules come with
    the new project, the buttons by workbook.menu_buttons. Returns the backup, the notes on
    staff's code, the signatures dropped, the losses found and the buttons put back."""
    from ..safety import replace_file, writer_lock
    from ..vba.carry import upgraded_project
    from ..vba.inject import chart_code_names, sheet_code_names, workbook_code_name, write_with_project
    from ..vba.missing import missing_macros
    from ..workbook.menu_buttons import put_back_buttons

    with writer_lock(path):
        # The version read, looked at again before the backup and the rename: a master saved
        # or copied over meanwhile (another PC, a restore from mail) was written over with
        # the older one's parts, the newer save kept nowhere, not even in the backup.
        read_as = os.stat(path)
        data, notes = upgraded_project(path, sheet_code_names(path), workbook_code_name(path), server,
                                       chart_code_names(path))
        before = missing_macros(path)
        added: list[str] = []

        def buttons(pkg) -> None:
            if before and before.buttons:
                added.extend(put_back_buttons(pkg, before.buttons))

        dropped: list[str] = []
        saved = replace_file(path, lambda tmp: dropped.extend(write_with_project(path, tmp, data, buttons)),
                             read_as=read_as)
    return saved, notes, dropped, before, added


def _upgrade_said(path: Path, saved: Path, before, after, added: list[str]) -> list[str]:
    """upgrade-macros' first lines: the master, its backup, and what of LibreOffice's losses
    (vba.missing ``before``) it put back; not 「更新しました」 while ``after`` (the same rule on
    the file written) still finds one (the command then ends in its error)."""
    said = [f"マクロを更新しました: {path}" if not after else
            f"マクロを入れ替えました: {path}（ボタンはまだ動きません。下のエラーを見てください）", f"バックアップ: {saved}"]
    if before and before.modules and not (after and after.modules):
        said.append(f"ボタンのマクロ（VBA のモジュール {'、'.join(before.modules)}）がなかったため、入れ直しました")
    if added:
        said.append(f"シート「{c.MENU}」にボタン（{'、'.join(added)}）がなかったため、作成時と同じ場所に入れ直しました")
    return said


def register(sub) -> None:
    p = sub.add_parser("init", help="新しいマスターブックを作る（.xlsm はボタン付き）")
    p.add_argument("path", metavar="ブック", help="作成するブック（.xlsx または .xlsm）")
    p.add_argument("--year", type=fiscal_year, metavar="年度", help="対象年度（例: 2023）")
    p.add_argument("--sample", choices=SAMPLE_NAMES, help="見本データで埋める")
    p.add_argument("--interpreter", metavar="Pythonの場所", help="ボタンが使う Python（xlwings.conf の Interpreter）")
    p.add_argument("--force", action="store_true", help=FORCE_HELP)
    p.add_argument("--server", metavar="URL", help=SERVER_HELP)
    p.add_argument("--server-folder", metavar="フォルダー名",
                   help="設定の「サーバー作業フォルダー」（サーバーの作業フォルダー内のフォルダー名）")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("validate", help="入力チェック（検証結果シートに書き出す）")
    p.add_argument("master", metavar="マスター", help=MASTER_HELP)
    p.add_argument("--no-write", action="store_true", help="ブックに書き込まず表示だけする")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("recalc", help="集約・評価を再計算して一覧・集計を作り直す")
    p.add_argument("master", metavar="マスター", help=MASTER_HELP)
    p.add_argument("-o", "--output", metavar="ファイル", help="結果を別のファイルに書き出す")
    p.set_defaults(func=cmd_recalc)

    p = sub.add_parser("upgrade-macros", help="マスターのマクロ（VBA）を今のバージョンに入れ替える")
    p.add_argument("master", metavar="マスター", help=MASTER_HELP)
    p.add_argument("--server", metavar="URL", help=SERVER_HELP)
    p.set_defaults(func=cmd_upgrade_macros)

    p = sub.add_parser("demo", help="2023年度の見本で一連の処理（作成・入力チェック・再計算・次年度のマスター）を実行する")
    p.add_argument("--outdir", default=str(DEMO_DIR), metavar="フォルダー", help="作成先フォルダー（既定: workbooks/）")
    p.set_defaults(func=cmd_demo)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use the renkei-xl command")

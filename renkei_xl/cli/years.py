"""The year-after-year subcommands of `renkei-xl`: rollover and history import.

Thin handlers over renkei_xl.cycle.rollover, which the 「次年度のマスターを作成」 button calls too.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .help_texts import FORCE_HELP, MASTER_HELP
from .parser import fiscal_year


def cmd_rollover(args: argparse.Namespace) -> int:
    from ..core.errors import UserError
    from ..cycle.rollover import TargetExists, filled_note, rollover_file, rollover_lines

    try:
        done = rollover_file(Path(args.master), args.year, Path(args.output) if args.output else None,
                             force=args.force)
    except TargetExists as exc:
        raise UserError(f"「{exc.path}」はすでにあります{filled_note(exc.path)}。作り直す場合は --force を付けてください"
                        "（バックアップを残します）") from None
    for line in rollover_lines(done):
        print(line)
    _say_if_open(Path(args.master), " --force を付けて作り直して")
    return 1 if done.report.warned else 0      # the closed year left out of 経年 (see RolloverReport)


def cmd_history(args: argparse.Namespace) -> int:
    from ..core import contract as c
    from ..core.errors import UserError
    from ..cycle.rollover import (IMPORT_RENAMED_MEND, carried_lines, carry_year, dropped_lines, import_history,
                                  imported_changes, reflected_line, renamed_part, rendered)

    suffix = Path(args.csv).suffix.lower()
    if suffix in c.OTHER_SPREADSHEETS and suffix not in c.TEXT_TABLES:   # an .xls master: read as a CSV, 「CSV ではありません」
        from ..package.zipped import content_suffix

        raise UserError(c.not_a_book(Path(args.csv).name, content_suffix(Path(args.csv)) if Path(args.csv).is_file() else ""))
    if suffix in c.MASTER_SUFFIXES:    # a master of an earlier year
        for line in carried_lines(carry_year(Path(args.master), Path(args.csv))):
            print(line)
        _say_if_open(Path(args.csv), "もう一度取り込んで")
        return 0
    done = import_history(Path(args.master), Path(args.csv))
    for r in done.refusals:
        print(f"取り込みません: {r.text()}")
    if done.written is None:
        print(f"取り込める行がないため、マスターは変更していません（取り込めない行 {len(done.refusals)} 件）。")
        return 1
    note = (f"（うち {done.replaced} 行は記録済みの年度を置き換え、値が変わったのは {len(done.changed)} 行）"
            if done.replaced else "")
    print(f"「{c.HISTORY}」に {done.imported} 行を取り込みました{note}: {done.written.path}")
    if done.written.backup:
        print(f"バックアップ: {done.written.backup}")
    for part in imported_changes(done.changed):
        print(rendered(part))
    label = c.PREVIOUS_HEADER.format(year=done.year_before)
    if done.previous:
        print(f"「{c.INDICATORS}」シートの「{label}」の列も、CSV の値にしました（{done.previous} 行）。")
    if done.untouched:
        from ..core.carry import import_command
        from ..core.values import listed
        from ..cycle.rollover import import_args

        later, source, look = import_args(Path(args.master), done.year_before + 1, done.year_before)
        print(f"【注意】市町村シートの「{label}」の列は変えていません（CSV には市町村ごとの値がありません: "
              f"{listed(done.untouched, '市町村')}）。"
              f"市町村ごとの値も直すには、{done.year_before}年度のマスターを直してから "
              f"{import_command(later, source, done.year_before)} を実行してください。{look + '。' if look else ''}")
    if done.renamed:
        print(rendered(renamed_part(done.renamed, f"「{c.HISTORY}」", IMPORT_RENAMED_MEND)))
    for line in dropped_lines(done.notes):
        print(line)
    if done.refusals:
        print(f"取り込めない行が {len(done.refusals)} 件ありました（上の理由を見て CSV を直してください）。")
    print(reflected_line(args.master))
    return 1 if done.refusals else 0


def _say_if_open(master: Path, again: str) -> None:
    """A closed year is read from its saved file, as a button reads it after asking to
    save: on the command line, with the master open in Excel, edits not yet saved went
    into neither 経年 nor 前年度実績, and nothing said so."""
    from ..core import contract as c
    from ..safety import open_note

    if note := open_note(master):
        print(f"【注意】{note}。保存していない変更があれば、上書き保存してから{again}ください"
              f"（「{c.HISTORY}」の記録と前年度実績には、その変更は入っていません）")


def register(sub) -> None:
    p = sub.add_parser("rollover", help="次年度のマスターを作る（このマスターは変更しない）")
    p.add_argument("master", metavar="マスター", help="今年度のマスターブック（.xlsx/.xlsm）")
    p.add_argument("--year", type=fiscal_year, metavar="年度", help="新しい対象年度（既定: 今の対象年度の次）")
    p.add_argument("-o", "--output", metavar="ファイル", help="新しいマスターのファイル（既定: 名前の年度を入れ替えて同じフォルダー）")
    p.add_argument("--force", action="store_true", help=FORCE_HELP)
    p.set_defaults(func=cmd_rollover)

    p = sub.add_parser("history", help="経年（過去の年度の実績値と評価）を扱う")
    hs = p.add_subparsers(dest="history_command", metavar="サブコマンド", required=True)
    q = hs.add_parser("import", help="前の年度のマスター、または CSV（指標ID,年度,実績値,評価）から過去の年度を取り込む")
    q.add_argument("master", metavar="マスター", help=MASTER_HELP)
    q.add_argument("csv", metavar="取り込むファイル",
                   help="前の年度のマスターブック（.xlsx/.xlsm: その年度の経年と前年度実績を書き直す）、"
                        "または CSV ファイル（UTF-8 または Shift_JIS）")
    q.set_defaults(func=cmd_history)

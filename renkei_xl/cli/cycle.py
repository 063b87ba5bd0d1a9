"""The email-cycle subcommands of `renkei-xl`: split, collect, export.

Thin handlers over renkei_xl.cycle.distribute / collect / export, which the buttons call too.
Each imports its module when it runs, so `renkei-xl --help` stays light.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .help_texts import MASTER_HELP, SENDER_HELP
from .parser import DAY_EXAMPLES, day
from ..core.errors import UserError


def _smtp(text: str) -> tuple[str, int]:
    """Not str.isdigit() for the port: it takes 「²」, on which int() raised and argparse said
    「…は_smtpとして読めません」, and 「٥٨٧」, which int() read as 587 (core.digits)."""
    from ..core.digits import whole_number

    host, sep, port = text.rpartition(":")
    number = whole_number(port) if sep and host else None
    if number is None or not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"「{text}」は サーバー名:ポート番号 の形で指定してください（例: smtp.example.jp:587）")
    return host, number


def cmd_split(args: argparse.Namespace) -> int:
    from ..core.business_days import reply_deadline
    from ..cycle.distribute import backups_lines, now, split_cautions, split_master, written_lines

    issued = now()
    due = reply_deadline(issued.date(), args.deadline)
    files = split_master(Path(args.master), Path(args.outdir), eml=args.eml, deadline=due.day,
                         sender=args.sender, issued=issued)
    from ..safety import open_note

    if note := open_note(Path(args.master)):
        print(note)     # the input files lack the edits not yet saved: said, as export says it
    for line in written_lines(files, Path(args.outdir), eml=args.eml):     # as the button lists them
        print(line)
    for line in backups_lines(files) + split_cautions(files):
        print(line)
    print(due.note("（--deadline で変更できます）" if args.deadline is None else ""))
    print(f"{len(files)} 市町村分の入力用ファイルを作成しました。")
    return 0


def cmd_collect(args: argparse.Namespace) -> int:
    from ..cycle.collect import collect
    from ..cycle.collect.later_year import report_later_lines
    from ..cycle.collect.said import collect_lines, written_lines

    if args.dry_run:
        print("確認のみ（--dry-run）: マスターには書き込みません。")
    report = collect(Path(args.master), [Path(p) for p in args.paths], dry_run=args.dry_run,
                     force=args.force, echo=print)
    listed = collect_lines(report)      # the button's lists, at their caps
    for line in [*listed, *([""] if listed else []), *written_lines(report, args.master)]:
        print(line)
    late = report_later_lines(report)
    for line in late:
        print(line)
    # 1 also when next year's master lacks what came in (as rollover and export exit 1 on a
    # 【注意】): a batch must not take the year as settled.
    return 1 if report.refused or report.held or late else 0


def cmd_export(args: argparse.Namespace) -> int:
    from ..cycle.export import cut_note, errors_note, export_master, replaced_note, stale_note, still_out_notes
    from ..cycle.letters import borrowed_addresses, confirmed_message, placeholder_addresses
    from ..cycle.mail import attachment_name_problem

    from ..safety import open_note

    mailed = args.eml or args.smtp
    if args.to and not mailed:
        raise UserError("--to は --eml または --smtp と一緒に指定してください")
    if args.resend and not args.smtp:
        raise UserError("--resend は --smtp と一緒に指定してください")

    # The name staff give is the attachment's (its PDF's stem too): said before anything is written.
    if mailed and args.output and (problem := attachment_name_problem(Path(args.output).name)):
        raise UserError(problem)

    def mail_settled(settings) -> None:
        """The mail as it will be made, without its attachments: whatever it would refuse
        (an address of 設定 or --to, the sender, 圏域名) is refused before the 確定版 is written."""
        confirmed_message(settings, (), to=args.to or (), sender=args.sender, draft=not args.smtp)

    result = export_master(Path(args.master), Path(args.output) if args.output else None, pdf=args.pdf,
                           check=mail_settled if mailed else None, draft=args.eml)
    print(f"確定版を書き出しました: {result.path}")
    if note := open_note(Path(args.master)):
        print(note)     # what is mailed lacks the edits not yet saved: said, as evaluate says it
    if replaced_note(result):
        print(replaced_note(result))
    if result.pdf:
        print(f"PDF（{result.pdf_engine}）: {result.pdf}")
        if result.undrawn:
            print(result.undrawn)
    print(result.result.summary.line())
    from ..core.pipeline import missed_note

    if note := missed_note(result.result):
        print(note)
    if result.stale:
        print(stale_note(result.stale, len(result.result.indicators), args.master))   # as the button says it
    for note in still_out_notes(result, args.master):
        print(note)
    if note := cut_note(result.result):
        print(note)
    errors = result.result.report.errors
    if errors:
        print(errors_note(result.result))
    if result.result.findings:      # as the button's message lists them (print_findings)
        from .workbook import print_findings

        print(f"入力チェック: {result.result.report.counts()}")
        print_findings(list(result.result.findings))
    if mailed and not args.to and (borrowed := borrowed_addresses(result.settings)):
        print(borrowed.render(borrowed.most))     # before the mail goes: it reaches one office less
    if args.eml and (placeholders := placeholder_addresses(result.settings, args.to or (), args.sender)):
        print(placeholders.render(placeholders.most))     # --smtp refused them before the 確定版 was written
    _mail_confirmed(args, result, bool(errors))
    # Written either way; 1 says, as recalc's does, that input errors made rows － in a file
    # that is mailed to every municipality.
    return 1 if errors else 0


def _mail_confirmed(args: argparse.Namespace, result, errors: bool) -> None:
    """The 確定版's draft (--eml) and its sending (--smtp), once it is written."""
    from ..cycle.letters import confirmed_message

    attachments = [result.path] + ([result.pdf] if result.pdf else [])
    if args.eml:
        from ..cycle.export import draft_path
        from ..cycle.mail import save_draft

        msg = confirmed_message(result.settings, attachments, to=args.to or (), sender=args.sender)
        kept: list[Path] = []
        draft = save_draft(msg, draft_path(result.path), kept=kept.append)
        print(f"メール下書き: {draft}")
        for backup in kept:
            print(f"　前に作った内容の違う下書きは「{backup}」に残しました")
    if args.smtp and errors:
        # The draft above is for staff to look at; a message sent goes out as it is, to every
        # municipality, with － where the errors are. Fixed and exported again, it is sent.
        print("入力エラーがあるため、メールは送信していません（確定版は書き出しました）。"
              "マスターを直してから、もう一度書き出して送信してください。")
    elif args.smtp:
        from ..cycle.sendlog import record_path, send_lock

        record = record_path(result.path)
        with send_lock(record):
            _send_recorded(args, result, attachments, record)


def _send_recorded(args: argparse.Namespace, result, attachments: list, record: Path) -> None:
    """Send the 確定版 to those that have not got this content yet (core.send_record.decide),
    and add what became of it to the 送信記録, whether it went or not."""
    import dataclasses

    from .. import clock
    from ..core.send_record import ACCEPTED, UNSENT, Attempt, Recipient, decide, had_lines, shown_recipient, why_again
    from ..cycle.letters import confirmed_message
    from ..cycle.sendlog import append_attempt, read_record, recorded_text, unsaved_note
    from ..cycle.smtp import SendFailed
    from ..package.zipped import book_digest
    from ..safety import ensure_writable

    attempts = read_record(record)
    before = recorded_text(record)
    # A record marked 読み取り専用 is refused before the send, not found unwritable after it.
    ensure_writable(record)
    content = book_digest(result.path)
    # The sender is 設定's central city unless --from says otherwise, as for the draft
    # and as --from's help says (--smtp demanded --from, after the 確定版 was written).
    everyone = confirmed_message(result.settings, attachments, to=args.to or (), sender=args.sender, draft=False)
    addresses = {a.addr_spec: a for a in everyone["To"].addresses}
    shown = {spec: shown_recipient(a) for spec, a in addresses.items()}
    names = tuple(p.name for p in attachments)
    decision = decide(attempts, content, list(addresses), resend=args.resend, attached=names)
    for line in why_again(decision):
        print(line)
    if not decision.send:
        # Not the twelve names again: one line says it, and 不明 ones are still named.
        unknown = [(a, status) for a, status in decision.had if status != ACCEPTED]
        for line in had_lines(dataclasses.replace(decision, had=tuple(unknown)), shown):
            print(line)
        print(f"宛先の全員に、この内容の確定版を送信済みです。メールは送信していません（送信記録: {record.name}。もう一度送るには --resend）。")
        return
    for line in had_lines(decision, shown):
        print(line)
    msg = (everyone if len(decision.send) == len(addresses) else
           confirmed_message(result.settings, attachments, to=[addresses[a] for a in decision.send],
                             sender=args.sender, draft=False))
    host, port = args.smtp
    failed = None
    attempt = Attempt(clock.now().isoformat(sep=" "), result.path.name, content, f"{host}:{port}", attached=names)
    went: list = []
    try:
        delivery = _send_noting(args, msg, record, attempt, shown, before, went)
    except SendFailed as exc:
        failed, delivery = exc, exc.delivery
    entries = tuple(Recipient(status, shown.get(spec, spec), reason if status != UNSENT or failed is None else "")
                    for spec, (status, reason) in delivery.outcome.items())
    # The command's words kept only where the entries do not say why (未送信: no connection,
    # the message refused): a partial refusal's reasons are on its lines already.
    unsent = any(status == UNSENT for status, _reason in delivery.outcome.values())
    note = str(failed) if failed is not None and unsent else ("--resend で送信" if args.resend else "")
    try:
        append_attempt(record, dataclasses.replace(attempt, entries=entries, note=note), after=before)
    except (UserError, OSError) as exc:
        if not went:        # the record refused before the message went (going): nothing was sent
            raise UserError(f"送信記録「{record.name}」を書き込めないため、メールは送信していません（{exc}）") from None
        raise unsaved_note(record, exc) from None
    _said_after(record, failed, delivery.outcome, f"送信しました（{host}:{port}、宛先 {msg['To']}）")


def _send_noting(args: argparse.Namespace, msg, record: Path, attempt, shown: dict, before: str, went: list):
    """send(), the 送信記録 written as the message goes (``went``: who it went to then): every
    recipient the server took as 不明, for the outcome to replace (cycle.sendlog.going_attempt).
    Written after the send only, a run stopped once the server had the message (Ctrl+C,
    killed) left no record, and the rerun sent every office a second copy."""
    from ..cycle.sendlog import append_attempt, going_attempt
    from ..cycle.smtp import send

    def going(took: list) -> None:
        append_attempt(record, going_attempt(attempt, took, shown), after=before)
        went.extend(took)

    host, port = args.smtp
    try:
        return send(msg, host, port, starttls=args.starttls, going=going)
    except KeyboardInterrupt:
        if went:
            print(f"メールの送信の途中で止めました。メールサーバーに渡した宛先（{len(went)} 件）は、届いたか分からないため"
                  f"送信記録「{record.name}」に「不明」と記録しました。もう一度実行しても、その宛先には送りません"
                  "（届いていなければ --resend --to アドレス で送ってください）。", file=sys.stderr)
        raise


def _said_after(record: Path, failed, outcome: dict, sent: str) -> None:
    """What the command says once the attempt is recorded: the record first, so that a
    refusal still ends in the addresses to copy after --to."""
    from ..core.send_record import UNKNOWN

    if failed is None:
        print(sent)
        print(f"送信記録: {record}")
        return
    unknown = "" if all(status != UNKNOWN for status, _reason in outcome.values()) else (
        "届いたか分からない宛先（不明）は送信記録で送信済みとして扱い、もう一度実行しても送りません"
        "（届いていないと分かったら --resend --to アドレス で送ってください）。")
    print(f"送信記録: {record}")
    raise UserError(f"{failed}{unknown}") from None


def register(sub) -> None:
    p = sub.add_parser("split", help="市町村ごとの入力用ファイル（.xlsx）を作る（配布用ファイル作成）")
    p.add_argument("master", metavar="マスター", help=MASTER_HELP)
    p.add_argument("--outdir", required=True, metavar="フォルダー", help="入力用ファイルの作成先フォルダー")
    p.add_argument("--eml", action="store_true", help="市町村ごとの依頼メールの下書き（.eml）も作る")
    p.add_argument("--deadline", type=day, metavar="日付", help=f"回答期限（例: {DAY_EXAMPLES}。既定: 2週間後）。土日・祝日・年末年始（12/29～1/3）なら次の開庁日にします")
    p.add_argument("--from", dest="sender", metavar="アドレス", help=SENDER_HELP)
    p.set_defaults(func=cmd_split)

    p = sub.add_parser("collect", help="市町村から戻った入力用ファイルを確認して取り込む（回収ファイル取込）")
    p.add_argument("master", metavar="マスター", help=MASTER_HELP)
    p.add_argument("paths", nargs="+", metavar="回収ファイル", help="戻ってきたファイル、またはそれを入れたフォルダー")
    p.add_argument("--dry-run", action="store_true", help="変更内容を表示するだけで、マスターには書き込まない")
    p.add_argument("--force", action="store_true", help="取り込み済みのものより古い提出でも取り込む")
    p.set_defaults(func=cmd_collect)

    p = sub.add_parser("export", help="一覧と集計を値だけの確定版ファイル（と PDF）に書き出す（確定版を書き出し）")
    p.add_argument("master", metavar="マスター", help=MASTER_HELP)
    p.add_argument("-o", "--output", metavar="ファイル", help="書き出すファイル（.xlsx、既定: マスターと同じフォルダー）")
    p.add_argument("--pdf", action="store_true", help="一覧の PDF も作る（Excel、なければ LibreOffice）")
    p.add_argument("--eml", action="store_true", help="送付メールの下書き（.eml）を作る")
    p.add_argument("--to", nargs="+", metavar="アドレス", help="宛先（既定: 設定シートの全市町村のメールアドレス）")
    p.add_argument("--from", dest="sender", metavar="アドレス", help=SENDER_HELP)
    p.add_argument("--smtp", type=_smtp, metavar="ホスト:ポート", help="このメールサーバーで送信する"
                   "（ポート 465 は最初から暗号化（SMTPS）。認証は環境変数 RENKEI_SMTP_USER / RENKEI_SMTP_PASSWORD）")
    p.add_argument("--resend", action="store_true", help="送信記録で送信済みの宛先にも、もう一度送る"
                   "（既定: 同じ内容の確定版を受け付けた宛先には送らない）")
    p.add_argument("--starttls", action="store_true", help="STARTTLS で暗号化して送信する（ポート 587 など。"
                   "サーバーが STARTTLS に対応していれば、パスワードはこれを付けたときだけ送ります）")
    p.set_defaults(func=cmd_export)

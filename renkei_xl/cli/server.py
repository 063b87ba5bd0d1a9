"""`renkei-xl serve`: the buttons' server (renkei_xl.server), for masters whose xlwings.conf
names it (RENKEI_SERVER). Needs the optional extra: pip install "renkei-xl[server]".

Every setting is checked here, once, before uvicorn starts a worker: a wrong one ends the
command with status 2 and one Japanese line, so a service manager never restarts a
server that cannot run."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core.errors import UserError


MISSING = ("サーバーに必要なパッケージがありません。pip install \"renkei-xl[server]\" で入れてください"
           "（インターネットのないサーバーでは README の「オフラインでのインストール」）")


def cmd_serve(args: argparse.Namespace) -> int:
    from importlib.util import find_spec

    try:
        import uvicorn  # noqa: F401  (this process runs it, whatever the number of workers)
    except ImportError:
        raise UserError(MISSING) from None
    # Starlette (the app's framework) looked up, not imported, before the checks: with several
    # workers this process only starts and watches them (each imports the app itself), and
    # importing the app's framework here cost every start CPU and the supervisor memory for the
    # server's life, and a start refused for a setting (a licence, a port) as much before it
    # said why.
    if find_spec("starlette") is None:
        raise UserError(MISSING)
    from ..server.config import (ServerConfig, check_address, check_license, check_numbers, check_server_temp,
                                 check_share, check_tls, check_workdir, load_key, readable_by_others)
    from ..server.log import check_logs, default_error_log, default_log, utf8_stderr
    from ..server.run import serve

    utf8_stderr()       # what cannot go to the log files, in the same encoding as they are
    check_numbers(args.port, args.workers, args.max_mb, args.log_mb)
    share = check_share(args.share)
    check_license()
    workdir = check_workdir(args.workdir)
    key = load_key(args.key_file)
    error_log = Path(args.error_log) if args.error_log else default_error_log()
    log, error_log = check_logs(Path(args.log) if args.log else default_log(error_log), error_log, workdir)
    check_tls(args.ssl_certfile, args.ssl_keyfile)
    check_address(args.host, args.port)
    check_server_temp(workdir)      # last: made in the work folder, where its processes' temporary files go (server.run)
    config = ServerConfig(workdir, key, max_bytes=int(args.max_mb * 1024 * 1024), share=share,
                          error_log=error_log, log=log, log_bytes=int(args.log_mb * 1024 * 1024),
                          proxy=args.proxy)
    # What IT set up against docs/staff-setup.md 0-3 and the server runs with all the same:
    # said after the start line, where IT looks, not a refusal (server.config).
    warnings = [w for w in (readable_by_others(args.key_file, "鍵のファイル"),
                            readable_by_others(args.ssl_keyfile, "HTTPS の秘密鍵")) if w]
    if args.workers <= 1:       # this process serves the app: a broken installation said as before
        try:
            import starlette.applications  # noqa: F401
        except ImportError:
            raise UserError(MISSING) from None
    return serve(config, args.host, args.port, workers=args.workers,
                 ssl_certfile=args.ssl_certfile, ssl_keyfile=args.ssl_keyfile, warnings=warnings)


def register(sub) -> None:
    from ..server.config import DEFAULT_HOST, DEFAULT_LOG_MB, DEFAULT_MAX_MB, LOG_KEPT, DEFAULT_PORT, KEY_ENV

    p = sub.add_parser("serve", help="ボタンのサーバーを起動する（職員のパソコンに Python が不要になる）")
    p.add_argument("--host", default=DEFAULT_HOST, metavar="アドレス",
                   help=f"待ち受けるアドレス（既定: {DEFAULT_HOST}。庁内から使うにはサーバーの IP アドレス）")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, metavar="番号", help=f"ポート（既定: {DEFAULT_PORT}）")
    p.add_argument("--workdir", metavar="フォルダー",
                   help="作業フォルダー: 配布用・回収・確定版とマスターを置く共有フォルダー（省略すると、serve を起動した"
                        "フォルダー。サービスでは C:\\Windows\\System32 などになるため、必ず指定する。システムのフォルダーや"
                        "ドライブのルートなら起動しない）")
    p.add_argument("--share", metavar="共有名", help="作業フォルダーの、職員から見た名前（例: \\\\fileserver\\renkei）。メッセージに使う")
    p.add_argument("--key-file", metavar="ファイル", help=f"鍵を書いたファイル（なければ環境変数 {KEY_ENV}）")
    p.add_argument("--max-mb", type=float, metavar="MB", default=DEFAULT_MAX_MB, help=f"受け付けるブックの上限 MB（既定: {DEFAULT_MAX_MB}）")
    p.add_argument("--workers", type=int, default=1, metavar="数",
                   help="同時に処理するプロセスの数（既定: 1。CPU のコア数までにすると、多くのパソコンから同時に押されても速い）")
    p.add_argument("--error-log", metavar="ファイル", help="予期しないエラーの詳細（受付番号ごと）を書くファイル（既定: サービスのユーザーの"
                                       "ログフォルダー。作業フォルダーの外にすること）")
    p.add_argument("--log", metavar="ファイル", help="記録（1 回の要求につき 1 行）を書くファイル（既定: エラーログと同じ"
                                 "フォルダーの renkei-xl-server.log。作業フォルダーの外にすること）")
    p.add_argument("--log-mb", type=float, metavar="MB", default=DEFAULT_LOG_MB,
                   help=f"記録とエラーログを、この大きさで次のファイルに切り替える（既定: {DEFAULT_LOG_MB}。古いものは {LOG_KEPT} つまで残す）")
    p.add_argument("--ssl-certfile", metavar="ファイル", help="HTTPS の証明書（PEM）。--ssl-keyfile と一緒に指定する")
    p.add_argument("--ssl-keyfile", metavar="ファイル", help="HTTPS の秘密鍵（PEM）")
    p.add_argument("--proxy", action="store_true",
                   help="同じサーバーのリバースプロキシ（nginx、IIS など）の後ろで動かす。プロキシが付ける X-Forwarded-For の"
                        "アドレスを記録の client= に書く（指定しないときは、接続してきたアドレスだけを書く）")
    p.set_defaults(func=cmd_serve)

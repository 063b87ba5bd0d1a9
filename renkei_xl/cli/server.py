"""`renkei-xl serve`: the buttons' server (renkei_xl.server), for masters whose xlwings.conf
names it (RENKEI_SERVER). Needs the optional extra: pip install "renkei-xl[server]"."""

from __future__ import annotations

import argparse

from ..core.errors import UserError


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise UserError("サーバーに必要なパッケージがありません。pip install \"renkei-xl[server]\" で入れてください"
                        "（インターネットのないサーバーでは README の「オフラインでのインストール」）") from None
    from ..server.config import ServerConfig, check_license, check_workdir, load_key
    from ..server.run import serve

    check_license()
    config = ServerConfig(check_workdir(args.workdir), load_key(args.key_file),
                          max_bytes=int(args.max_mb * 1024 * 1024), share=args.share or "")
    serve(config, args.host, args.port, workers=max(1, args.workers), key_file=args.key_file)
    return 0


def register(sub) -> None:
    from ..server.config import DEFAULT_HOST, DEFAULT_MAX_MB, DEFAULT_PORT, KEY_ENV

    p = sub.add_parser("serve", help="ボタンのサーバーを起動する（スタッフのパソコンに Python が不要になる）")
    p.add_argument("--host", default=DEFAULT_HOST,
                   help=f"待ち受けるアドレス（既定: {DEFAULT_HOST}。庁内から使うにはサーバーの IP アドレス）")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"ポート（既定: {DEFAULT_PORT}）")
    p.add_argument("--workdir", default=".", help="作業フォルダー: 配布用・回収・確定版とマスターを置く共有フォルダー")
    p.add_argument("--share", help="作業フォルダーの、スタッフから見た名前（例: \\\\fileserver\\renkei）。メッセージに使う")
    p.add_argument("--key-file", help=f"鍵を書いたファイル（なければ環境変数 {KEY_ENV}）")
    p.add_argument("--max-mb", type=float, default=DEFAULT_MAX_MB, help=f"受け付けるブックの上限 MB（既定: {DEFAULT_MAX_MB}）")
    p.add_argument("--workers", type=int, default=1,
                   help="同時に処理するプロセスの数（既定: 1。CPU のコア数までにすると、多くのパソコンから同時に押されても速い）")
    p.set_defaults(func=cmd_serve)

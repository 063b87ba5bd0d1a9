"""What one installation of the server sets, and the checks made before it starts.

The key is shared by every master of the installation (xlwings' AUTH setting on the
Excel side, sent as the Authorization header). It comes from the environment
(RENKEI_XL_SERVER_KEY) or a file only the service account can read (--key-file), never
from the command line, where other users of the machine could read it in the process list.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..core.errors import UserError

KEY_ENV = "RENKEI_XL_SERVER_KEY"
LICENSE_ENV = "XLWINGS_LICENSE_KEY"
MIN_KEY_CHARS = 16
DEFAULT_MAX_MB = 32          # the FY2023 master's payload is 40 KiB; 20,000 rows about 5 MB
DEFAULT_PORT = 8000
DEFAULT_HOST = "127.0.0.1"   # only this machine until IT names the office address


@dataclass(frozen=True)
class ServerConfig:
    workdir: Path                 # every file a button reads or writes is under it
    key: str                      # the shared key (the Authorization header)
    max_bytes: int = DEFAULT_MAX_MB * 1024 * 1024
    share: str = ""               # how staff reach workdir, e.g. \\fileserver\renkei (messages only)


def load_key(key_file: Optional[str] = None) -> str:
    """The shared key from --key-file or RENKEI_XL_SERVER_KEY; refused when missing or short."""
    if key_file:
        try:
            key = Path(key_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UserError(f"鍵のファイル「{key_file}」を読めません（{exc.strerror}）") from None
    else:
        key = os.environ.get(KEY_ENV, "").strip()
    if not key:
        raise UserError(f"サーバーの鍵がありません。環境変数 {KEY_ENV} か --key-file で、"
                        f"{MIN_KEY_CHARS} 文字以上の鍵を指定してください（例: python -c \"import secrets; "
                        "print(secrets.token_urlsafe(32))\" で作れます）")
    if len(key) < MIN_KEY_CHARS:
        raise UserError(f"サーバーの鍵が短すぎます（{MIN_KEY_CHARS} 文字以上にしてください）")
    return key


def check_workdir(workdir: str | Path) -> Path:
    path = Path(workdir).expanduser()
    if not path.is_dir():
        raise UserError(f"作業フォルダー「{path}」がありません。作成してから --workdir に指定してください")
    return path.resolve()


def check_license() -> None:
    """xlwings' remote engine is under the PolyForm Noncommercial licence; it runs only when
    the installation says so (XLWINGS_LICENSE_KEY=noncommercial), which the office decides."""
    if not os.environ.get(LICENSE_ENV):
        raise UserError(
            f"環境変数 {LICENSE_ENV} がありません。サーバーが使う xlwings のリモートエンジンは PolyForm "
            "Noncommercial ライセンスで、政府機関（自治体を含む）の利用は非商用として認められています。"
            f"ライセンスを確認したうえで {LICENSE_ENV}=noncommercial を設定してから起動してください"
            "（README の「サーバーで動かす」を参照）")

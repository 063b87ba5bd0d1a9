"""What one installation of the server sets, and the checks made before it starts.

The key is shared by every master of the installation (xlwings' AUTH setting on the
Excel side, sent as the Authorization header). It comes from the environment
(RENKEI_XL_SERVER_KEY) or a file only the service account can read (--key-file), never
from the command line, where other users of the machine could read it in the process list.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..core.errors import UserError
from ..safety import system_reason
from .turns import CLICKS_AT_ONCE, TURN_WAIT_SECONDS

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
    error_log: Optional[Path] = None   # tracebacks under their 受付番号 (server.log)
    log: Optional[Path] = None         # one line per request (server.log); None: standard error
    log_bytes: Optional[int] = None    # either log moved aside past this size (None: server.log.LOG_BYTES)
    clicks_at_once: int = CLICKS_AT_ONCE       # buttons one worker runs at a time (server.turns)
    turn_wait: float = TURN_WAIT_SECONDS       # seconds a click may wait for its turn
    proxy: bool = False           # --proxy: X-Forwarded-For from this machine's reverse proxy is logged (server.app.client_of)


MAX_KEY_FILE_BYTES = 4096     # a key is a line; anything longer is not a key file
_KEY_CHARS = re.compile(r"[!-~]+")   # printable ASCII, no space: what an HTTP header carries as sent


def load_key(key_file: Optional[str] = None) -> str:
    """The shared key from --key-file or RENKEI_XL_SERVER_KEY; refused when missing or short."""
    key = _read_key_file(key_file) if key_file else os.environ.get(KEY_ENV, "").strip()
    if not key:
        raise UserError(f"サーバーの鍵がありません。環境変数 {KEY_ENV} か --key-file で、"
                        f"{MIN_KEY_CHARS} 文字以上の鍵を指定してください（例: python -c \"import secrets; "
                        "print(secrets.token_urlsafe(32))\" で作れます）")
    if len(key) < MIN_KEY_CHARS:
        raise UserError(f"サーバーの鍵が短すぎます（{MIN_KEY_CHARS} 文字以上にしてください）")
    if not _KEY_CHARS.fullmatch(key):
        # Excel sends the key as an HTTP header (xlwings.conf's AUTH): a full-width character,
        # a space or a control character inside it would not arrive as typed, and every
        # click would be refused as 「鍵が違う」 with nothing at the start to say why.
        raise UserError("サーバーの鍵に使えない文字（全角文字・空白・制御文字など）があります。鍵は半角の英数字と"
                        "記号だけで作ってください（例: python -c \"import secrets; print(secrets.token_urlsafe(32))\"）")
    return key


def _read_key_file(key_file: str) -> str:
    """The key file's one line. Windows' メモ帳 saves UTF-8 with a BOM or 「Unicode」 (UTF-16
    with a BOM): both are read as the key typed, where a BOM was kept as the key's first
    character (every click then 「鍵が違う」) and UTF-16 ended the start in a traceback. A
    FIFO or a device is refused by its mode, before a read that would never end."""
    import stat

    try:
        mode = os.stat(key_file).st_mode
        if not stat.S_ISREG(mode):
            raise UserError(f"鍵のファイル「{key_file}」は通常のファイルではありません。鍵を 1 行書いたファイルを"
                            "--key-file に指定してください")
        with open(key_file, "rb") as fh:
            data = fh.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise UserError(f"鍵のファイル「{key_file}」を読めません（{system_reason(exc)}）。ファイルがあるか、serve を動かす"
                        f"アカウントが読めるかを確かめてください（Linux: {_ONLY_SERVICE_READS.format(path=key_file)}、"
                        "Windows: ファイルのプロパティの「セキュリティ」でサービスのアカウントに読み取りを許可）") from None
    if len(data) > MAX_KEY_FILE_BYTES:
        raise UserError(f"鍵のファイル「{key_file}」が大きすぎます（鍵を 1 行だけ書いたファイルにしてください）")
    from ..core.text_bytes import split_bom

    data, encoding = split_bom(data)
    try:
        return data.decode(encoding or "utf-8").strip()
    except UnicodeDecodeError:
        raise UserError(f"鍵のファイル「{key_file}」を文字として読めません。メモ帳などで鍵を 1 行書き、"
                        "UTF-8 で保存し直してください") from None


# What docs/staff-setup.md (0-3) has IT type for a secret file: root owns it, the service's
# group (the account renkei) may read it, nobody else. Said in every message about such a file.
_ONLY_SERVICE_READS = "chown root:renkei {path} と chmod 640 {path}"


def readable_by_others(path: Optional[str], what: str) -> str:
    """A warning for IT when the secret file ``path`` (the key, the TLS private key) may be
    read by every user of the machine, or "". Why: the doc asks for a file only the service's
    account reads, and the server ran as well with one any login could copy the key from
    (a file made by an editor or by `>` has mode 644), nothing said. A warning and not a
    refusal: a server working today must not stop on upgrade with every button refused.
    POSIX modes only; Windows' rights are ACLs, which the doc has IT set by hand."""
    import stat

    if not path or os.name == "nt":
        return ""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return ""
    if not mode & (stat.S_IROTH | stat.S_IWOTH):
        return ""
    return (f"{what}「{path}」は、このサーバーのすべての利用者が読めます（アクセス権 {stat.S_IMODE(mode):04o}）。"
            f"{_ONLY_SERVICE_READS.format(path=path)} で、サービスのアカウントだけが読めるようにしてください"
            "（ほかの利用者が読んだおそれがあるときは、docs/staff-setup.md 0-3 章の「鍵の入れ替え」のとおり入れ替えます）")


# Where serve is started without --workdir and must not work: a service starts in the system
# folder (C:\Windows\System32), a shell of an administrator at the root or in a system folder.
_POSIX_SYSTEM = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc", "/run", "/sbin", "/sys", "/usr", "/var")


def unsuitable_workdir(path: Path) -> str:
    """What the resolved folder ``path`` is when no work folder should be there, or "": the
    system's own folders (Windows' folder and all under it, Program Files, ProgramData; a
    POSIX system folder) and the root of a drive or of the disk. Why: without --workdir the
    folder serve was started in is the work folder, and a service starts in
    C:\\Windows\\System32, where split would have made 配布用 among the system's files."""
    windows = [os.environ.get(name, "") for name in ("SystemRoot", "windir")]
    programs = [os.environ.get(name, "") for name in ("ProgramFiles", "ProgramFiles(x86)", "ProgramData")]

    def same_or_under(folder: str) -> bool:
        if not folder:
            return False
        top = Path(folder)
        return path == top or top in path.parents

    if any(same_or_under(w) for w in windows) or any(path == Path(p) for p in programs if p) \
            or (os.name != "nt" and str(path) in _POSIX_SYSTEM):
        return "システムのフォルダー"
    if path.parent == path:
        return "ドライブのいちばん上（ルート）のフォルダー"
    return ""


def check_workdir(workdir: Optional[str | Path]) -> Path:
    """The work folder, there and readable and writable by the service's account. Tried,
    not judged by its mode bits: Windows' ACLs, a share mounted read-only and root's own
    rights are only known by trying. Otherwise every file button failed later, one by one.
    None: --workdir not given, and the folder serve started in is taken, unless it is one
    no work folder belongs in (unsuitable_workdir): said so, and that --workdir names it."""
    path = Path(workdir if workdir is not None else ".").expanduser()
    if not path.is_dir():
        if path.exists():   # a file (or a device) of that name: "missing" sent IT looking for a folder that was there
            raise UserError(f"作業フォルダー「{path}」はフォルダーではなくファイルです。フォルダーを指定してください")
        raise UserError(f"作業フォルダー「{path}」がありません。作成してから --workdir に指定してください")
    path = path.resolve()
    what = unsuitable_workdir(path)
    if what and (workdir is None or what == "システムのフォルダー"):
        said = ("--workdir を指定していないため、serve を起動したフォルダー" if workdir is None else "--workdir に指定したフォルダー")
        raise UserError(f"{said}「{path}」が作業フォルダーになりますが、ここは{what}です（何も書き込んでいません）。"
                        "配布用・回収・確定版とマスターを置く共有フォルダーを作り、--workdir でそのフォルダーを指定して"
                        "起動してください（サービスとして起動すると、起動したフォルダーは C:\\Windows\\System32 などになります）")
    try:
        os.listdir(path)
        fd, probe = _probe_file(path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        from ..safety import refused_remedy

        # By what refused (refused_remedy): a full disk (or no inode left) and a volume mounted
        # read-only were told to give the account rights it already had.
        raise UserError(f"作業フォルダー「{path}」を読み書きできません（{system_reason(exc)}）。" + refused_remedy(
            exc, "サーバーを動かすアカウントに、このフォルダーの読み取りと書き込みの権限を与えてください",
            "このフォルダーを読み書きできる")) from None
    return path


# The server's own folder inside the work folder: every temporary file of its processes
# (scratch.use_root), so that nothing a click makes lies outside the work folder, and what
# a killed worker left is found and removed there.
TEMP_FOLDER = ".renkei-xl-temp"


def check_server_temp(workdir: Path) -> Path:
    """The server's temporary folder (TEMP_FOLDER), made; a UserError for IT where it cannot
    be (a file of that name, a folder the account cannot make), before any worker starts."""
    from ..scratch import own_folder

    folder = Path(workdir) / TEMP_FOLDER
    try:
        return own_folder(folder)
    except OSError as exc:
        raise UserError(f"作業フォルダーの中に、サーバーが一時ファイルを置くフォルダー「{folder}」を作れません"
                        f"（{system_reason(exc)}）。同じ名前のファイルがあれば移すか削除し、サーバーを動かすアカウントが"
                        "作業フォルダーに書き込めるようにしてください") from None


def _probe_file(folder: Path) -> tuple[int, str]:
    """A new hidden file in ``folder`` (removed at once): whether this account may write there."""
    for _ in range(10):
        probe = os.path.join(folder, f".~renkei-serve-{os.urandom(4).hex()}")
        try:
            return os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), probe
        except FileExistsError:
            continue
    raise FileExistsError(f"no unused probe name in {folder}")


def check_license() -> None:
    """xlwings' remote engine is under the PolyForm Noncommercial licence; it runs only when
    the installation says so (XLWINGS_LICENSE_KEY=noncommercial), which the office decides.

    Checked the way xlwings itself checks it (xlwings.pro.utils.LicenseHandler, which
    every import of the remote engine runs), once, in the process that starts the workers:
    a value xlwings refuses would otherwise stop every worker at its start, and uvicorn's
    supervisor would start them again and again."""
    value = os.environ.get(LICENSE_ENV, "").strip()
    if not value:
        raise UserError(
            f"環境変数 {LICENSE_ENV} がありません。サーバーが使う xlwings のリモートエンジンは PolyForm "
            "Noncommercial ライセンスで、政府機関（自治体を含む）の利用は非商用として認められています。"
            f"ライセンスを確認したうえで {LICENSE_ENV}=noncommercial を設定してから起動してください"
            "（README の「ライセンス」、docs/staff-setup.md の 0-1 章を参照）")
    try:
        import xlwings  # noqa: F401
        from xlwings.pro.utils import LicenseHandler

        LicenseHandler.validate_license("pro")
    except Exception:   # xlwings' LicenseError, or ImportError for a legacy key without its package
        raise UserError(f"環境変数 {LICENSE_ENV} の値を xlwings が受け付けません。非商用の利用なら、"
                        f"すべて小文字で {LICENSE_ENV}=noncommercial にしてください（大文字・空白・引用符は不可）。"
                        "有償のライセンスキーなら、キーをそのまま写してください") from None


MAX_WORKERS = 64
MAX_MB = 1024


DEFAULT_LOG_MB = 10
# How many rotated files of each log are kept (server.log.LogFile; `--log-mb`'s help says it).
LOG_KEPT = 5
MAX_LOG_MB = 1024


def check_numbers(port: int, workers: int, max_mb: float, log_mb: float = DEFAULT_LOG_MB) -> None:
    if not 1 <= port <= 65535:
        raise UserError(f"--port {port} は使えません（1〜65535 の番号にしてください）")
    if not 1 <= workers <= MAX_WORKERS:
        raise UserError(f"--workers {workers} は使えません（1〜{MAX_WORKERS}、ふつうは CPU のコア数まで）")
    if not 0 < max_mb <= MAX_MB:
        raise UserError(f"--max-mb {max_mb:g} は使えません（0 より大きく {MAX_MB} 以下にしてください）")
    if not 0.001 <= log_mb <= MAX_LOG_MB:
        raise UserError(f"--log-mb {log_mb:g} は使えません（0.001 以上 {MAX_LOG_MB} 以下にしてください）")


def check_address(host: str, port: int) -> None:
    """The address is this machine's and the port is free, before any worker tries to bind."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):     # UnicodeError: a label empty or past 63 characters (「renkei..lg.jp」, IDNA)
        raise UserError(f"--host「{host}」はこのサーバーのアドレスとして使えません（名前を解決できません）") from None
    family, _type, _proto, _name, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # POSIX: SO_REUSEADDR lets the port of a server stopped a moment ago (TIME_WAIT) be
        # bound, as uvicorn binds it; a listening port is refused all the same. Windows: it
        # lets a socket bind a port another process listens on, so a second ``serve`` on
        # the port passed this check (two servers sharing the port, two writers), or met
        # uvicorn's English bind error after it.
        if os.name != "nt":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except PermissionError:
            if os.name != "nt" and 0 < port < 1024:
                # A port under 1024 is the administrator's on Linux: the service's own account
                # (docs/staff-setup.md 0-3) cannot listen on 443 or 80, and the general advice
                # below (another program, another address) sent IT looking for what was not there.
                raise UserError(f"{host}:{port} で待ち受けられません（1024 より小さいポートは、管理者でないアカウントでは"
                                "使えません）。8000 や 8443 など 1024 以上のポートを --port に指定してください（443 で受けるときは、"
                                "リバースプロキシを前に置きます: docs/staff-setup.md 0-5 章）") from None
            raise UserError(f"{host}:{port} で待ち受けられません（アクセス権がありません）。ほかのプログラムが使っていない"
                            "ポートか、このサーバーのアドレスを指定してください") from None
        except OSError as exc:
            raise UserError(f"{host}:{port} で待ち受けられません（{system_reason(exc)}）。ほかのプログラムが使っていない"
                            "ポートか、このサーバーのアドレスを指定してください") from None


# --share is how staff reach the work folder, and every 保存先 they are told is written under
# it (server.place.Place.shown): a UNC name (\\fileserver\renkei), a drive letter mapped to
# it (Z:\renkei, Z:), or, for a Mac, smb://fileserver/renkei or /Volumes/renkei. A name
# none of these (「fileserver\renkei」 without its \\, yen signs copied from a Japanese
# document) would send staff to a place Explorer cannot open, in every message.
_SEGMENT = r"[^\\/:*?\"<>|\x00-\x1f\x7f]+"
_SHARE_FORMS = (re.compile(rf"\\\\{_SEGMENT}(?:\\{_SEGMENT})+\\?"),
                re.compile(rf"[A-Za-z]:(?:\\{_SEGMENT})*\\?"),
                re.compile(rf"smb://{_SEGMENT}(?:/{_SEGMENT})+/?"),
                re.compile(rf"(?:/{_SEGMENT})+/?"))
_YEN = "¥￥＼"


def check_share(share: Optional[str]) -> str:
    """The share name as given ("" when none), or a UserError saying how to write it."""
    if not share:
        return ""
    if any(form.fullmatch(share) for form in _SHARE_FORMS):
        return share
    hint = ""
    if any(ch in share for ch in _YEN):
        hint = "円記号（¥）や全角の「＼」ではなく、半角の「\\」で区切ってください。"
    elif share.startswith("\\") or ("\\" in share and not share.startswith("\\\\")):
        hint = "共有の名前は「\\\\サーバー名\\共有名」のように、先頭に「\\」を 2 つ付けて書いてください。"
    raise UserError(f"--share「{share}」は、職員がエクスプローラーで開ける名前ではありません。{hint}"
                    "例: \\\\fileserver\\renkei（共有フォルダー）、Z:\\renkei（ドライブ）")


def check_tls(certfile: Optional[str], keyfile: Optional[str]) -> None:
    """Both or neither, and a pair the ssl module loads (what uvicorn will do in each worker)."""
    if not certfile and not keyfile:
        return
    if not (certfile and keyfile):
        raise UserError("HTTPS には --ssl-certfile（証明書）と --ssl-keyfile（秘密鍵）の両方を指定してください")
    import ssl

    load_tls_pair(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), certfile, keyfile)


class _Encrypted(Exception):
    """The key file asked for a passphrase (load_tls_pair's password callback)."""


def _no_passphrase() -> str:
    raise _Encrypted


def load_tls_pair(context, certfile: str, keyfile: str) -> None:
    """``certfile`` and ``keyfile`` loaded into ``context`` (an ssl.SSLContext), or a UserError
    in Japanese saying what to fix: the one load of the pair, at the start check and in each
    worker (server.run.use_tls). Never a read that waits:
    - an encrypted key (「-----BEGIN ENCRYPTED PRIVATE KEY-----」) made OpenSSL ask 「Enter PEM
      pass phrase:」 on the console, in English, and wait there for ever (a service's
      standard input a pipe, a console IT left open), and without one the start ended in
      「（Invalid argument）。PEM 形式の組を指定してください」, which is what IT had given;
      every worker would ask again, and one uvicorn starts again weeks later with nobody to
      answer. A key the server can read at any start is one without a passphrase;
    - a FIFO or a device is refused by its mode (a key file that is a pipe, as --key-file);
    - the system's reason in Japanese (safety.system_reason), OpenSSL's by what it means."""
    import ssl
    import stat

    for path, what in ((certfile, "証明書"), (keyfile, "秘密鍵")):
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            raise UserError(f"HTTPS の{what}「{path}」を読めません（{system_reason(exc)}）。--ssl-certfile と "
                            "--ssl-keyfile に PEM 形式の証明書と秘密鍵のファイルを指定してください") from None
        if not stat.S_ISREG(mode):
            raise UserError(f"HTTPS の{what}「{path}」は通常のファイルではありません"
                            f"（{'フォルダー' if stat.S_ISDIR(mode) else 'パイプやデバイス'}です）。PEM 形式の{what}の"
                            "ファイルを指定してください")
    try:
        context.load_cert_chain(certfile, keyfile, password=_no_passphrase)
    except _Encrypted:
        raise UserError(f"HTTPS の秘密鍵「{keyfile}」はパスフレーズで暗号化されています。サーバーは起動のたびに"
                        "パスフレーズを尋ねられない（サービスとして動く）ため、暗号化していない秘密鍵にして指定してください"
                        "（例: openssl pkey -in 暗号化した鍵 -out 新しい鍵。新しい鍵のファイルはサービスのアカウントだけが"
                        "読めるようにします）") from None
    except ssl.SSLError as exc:
        if getattr(exc, "reason", None) == "KEY_VALUES_MISMATCH":
            raise UserError(f"HTTPS の秘密鍵「{keyfile}」は証明書「{certfile}」と組になっていません（別の証明書の秘密鍵です）。"
                            "一緒に発行された証明書と秘密鍵を指定してください") from None
        if _swapped(certfile, keyfile):
            raise UserError(f"--ssl-certfile「{certfile}」が秘密鍵、--ssl-keyfile「{keyfile}」が証明書です（2 つが"
                            f"入れ替わっています）。--ssl-certfile {keyfile} --ssl-keyfile {certfile} のように指定し直して"
                            "ください") from None
        raise UserError(f"証明書「{certfile}」と秘密鍵「{keyfile}」を読み込めません（PEM 形式の証明書と秘密鍵ではありません"
                        f"{'、OpenSSL: ' + exc.reason if getattr(exc, 'reason', None) else ''}）。"
                        "PEM 形式の組を指定してください") from None
    except OSError as exc:
        raise UserError(f"証明書「{certfile}」と秘密鍵「{keyfile}」を読み込めません（{system_reason(exc)}）。"
                        "PEM 形式の組を指定してください") from None


def _swapped(certfile: str, keyfile: str) -> bool:
    """Whether the certificate was given as the key and the key as the certificate, judged by
    their PEM headers: the pair's commonest mistake, which OpenSSL only calls 「not PEM」."""
    def head(path: str) -> bytes:
        try:
            with open(path, "rb") as fh:
                return fh.read(64 * 1024)
        except OSError:
            return b""

    return b"PRIVATE KEY-----" in head(certfile) and b"-----BEGIN CERTIFICATE-----" in head(keyfile)

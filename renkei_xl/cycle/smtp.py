"""How a mail of the yearly cycle travels: the SMTP client (the message is cycle.mail).

``smtplib`` is the client; what is added on top is what a municipal mail server on a slow
line needs: one time budget for the whole exchange (a watchdog), the password never sent
in clear text, STARTTLS and SMTPS, temporary refusals told apart from bad addresses, a
partial delivery said with who got the mail, Japanese messages, and credentials taken
only from the environment.
"""

from __future__ import annotations

import copy
import errno
import os
import re
import smtplib
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Callable, Optional

from renkei_xl.core.errors import UserError
from renkei_xl.core.values import listed

from .mail import POLICY

# Credentials come only from these variables: never from arguments, files or the
# workbook, so that a password is never saved in a workbook that gets emailed.
ENV_USER = "RENKEI_SMTP_USER"
ENV_PASSWORD = "RENKEI_SMTP_PASSWORD"

# Ports where SMTP runs inside TLS from the start (SMTPS, RFC 8314), not upgraded by STARTTLS.
SMTPS_PORTS = frozenset({465})


@dataclass(frozen=True)
class Delivery:
    """What became of one mail, recipient by recipient (envelope address → (status, reason)),
    in the words of core.send_record: the 送信記録 keeps it, and a rerun reads it back."""
    outcome: dict


class SendFailed(UserError):
    """The UserError of a send that did not reach everyone, with what did go (``delivery``):
    the caller records who got the mail before the message is shown."""

    def __init__(self, message: str, delivery: Delivery):
        super().__init__(message)
        self.delivery = delivery


def send(msg: EmailMessage, host: str, port: int, *, starttls: bool = False,
         timeout: float = 30, going: Optional[Callable[[list[str]], None]] = None) -> Delivery:
    """Deliver over SMTP; every failure the staff can fix comes back as a Japanese UserError.

    The draft marker is removed from a copy, so the caller's message (and any .eml
    saved from it) is left as it was. ``timeout`` bounds each wait; the whole exchange
    has a budget besides (``_budget``), so no server holds the command for ever.
    ``going``: called with the recipients the server took, just before the message
    itself goes (the last moment at which nobody can have it yet): the 送信記録 is written
    there, so that a run stopped from then on (Ctrl+C, killed) has said who may have it.
    """
    user, password = _credentials()
    outgoing = copy.deepcopy(msg)
    del outgoing["X-Unsent"]
    server = f"{host}:{port}"
    implicit_tls = port in SMTPS_PORTS
    smtp = (_PacedSSL(timeout=timeout, context=ssl.create_default_context()) if implicit_tls
            else _Paced(timeout=timeout))
    watchdog = _Watchdog(smtp, _budget(outgoing, timeout))
    smtp.going = going
    try:
        _exchange(smtp, outgoing, host, port, server, starttls, implicit_tls, user, password, watchdog, timeout)
    except UserError as exc:
        raise SendFailed(str(exc), _delivery(smtp, outgoing, str(exc))) from exc
    return _delivery(smtp, outgoing, "")


def _exchange(smtp, outgoing, host, port, server, starttls, implicit_tls, user, password, watchdog, timeout):
    """The exchange, every failure worded in Japanese; apart from send() so that send can
    tell, whatever failed, who got the mail (_delivery reads it from ``smtp``)."""
    try:
        _connect(smtp, host, port, server, watchdog.reason(timeout))
        if starttls and not implicit_tls:
            _starttls(smtp, server)
        if user:
            if not starttls and not implicit_tls:
                _refuse_plain_password(smtp, server)
            _login(smtp, user, password, server)
        _deliver(smtp, outgoing, server, encrypted=implicit_tls or starttls)
    except UserError:
        raise
    except smtplib.SMTPResponseException as exc:
        # Before MAIL FROM (_deliver words every refusal from there on): nothing went. Staff
        # read only the server's English words, and could not tell whether to send again.
        later = "時間をおいて、もう一度実行してください。" if _temporary(exc.smtp_code) else ""
        raise UserError(f"メールサーバー {server} がエラーを返しました{_reply(exc)}。"
                        f"メールは送信していません。{later}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise UserError(f"メールサーバー {server} との通信が途中で切れました（{watchdog.reason(timeout)(exc)}）。"
                        + _what_went(smtp)) from exc
    finally:
        _close(smtp)          # within the budget too: a QUIT answered a byte at a time held it
        watchdog.stop()


# The slowest line a mail is waited for, in bytes a second: a 10 MB mail gets about
# 8 minutes besides the fixed part of the budget (four timeouts for the commands).
_SLOWEST_LINE = 20_000


class _Paced(smtplib.SMTP):
    """The message and the reply to its end are waited for until the budget ends, not one
    timeout: Python's sendall counts its timeout over the whole buffer, and the server
    answers only once it has read what the network still held (and scanned it; RFC 5321
    §4.5.3.2.6 gives that reply 10 minutes). A 1.3 MB mail to a server reading it at
    300 KB/s failed after a 2 s timeout as if the server were silent (30 s: any mail
    that takes longer to send, e.g. 10 MB below 2.7 Mbit/s)."""

    deadline: Optional[float] = None     # time.monotonic() at which the budget ends
    data_started = False                 # whether the message itself began to go out
    data_ended = False                   # whether all of it, to the closing dot, went out
    data_reply: Optional[tuple] = None   # the server's reply to the message, once it came
    rcpt_replies: Optional[dict] = None  # envelope address → its reply to RCPT TO
    going: Optional[Callable[[list[str]], None]] = None   # send()'s ``going``

    def rcpt(self, recip, options=()):
        reply = super().rcpt(recip, options)
        if self.rcpt_replies is None:
            self.rcpt_replies = {}
        self.rcpt_replies[recip] = reply
        return reply

    def data(self, msg):
        if self.going is not None:
            self.going([a for a, reply in (self.rcpt_replies or {}).items() if reply[0] in (250, 251)])
        self.data_started = True
        if self.sock is not None and self.deadline is not None:
            self.sock.settimeout(max(self.deadline - time.monotonic(), 0.1))
        self.data_reply = reply = super().data(msg)
        return reply

    def send(self, s):
        super().send(s)
        # data() hands the message over in one send, ending in the dot that ends it; the
        # commands are str. Raised before here, the dot never left: nothing can be delivered.
        if self.data_started and isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.data_ended = True


    def getreply(self):
        """smtplib's reading of one reply, within _REPLY_BYTES: it reads lines until one
        without 「-」 after the code, keeping each, so a server answering 「250-…」 without
        end filled memory until the budget cut it (3 GB in 8 s on 127.0.0.1: about 45 GB in
        the default 120 s, the process killed); and a line past smtplib's 8 KB was said as
        the server's own 「500 Line too long.」."""
        if self.file is None and self.sock is not None:
            self.file = _BoundedReply(self.sock.makefile("rb"))
        if isinstance(self.file, _BoundedReply):
            self.file.left = _REPLY_BYTES
        try:
            return super().getreply()
        except smtplib.SMTPServerDisconnected as exc:
            # smtplib turns any OSError of the read (SMTPException is one) into a disconnection
            if isinstance(exc.__context__, _ReplyTooLong):
                raise exc.__context__ from None
            raise


# The most one reply of the server is read for: RFC 5321 §4.5.3.1.5 bounds a reply line to
# 512 bytes, and a server's longest reply (EHLO's list of extensions) is a few of them.
_REPLY_BYTES = 65_536


class _ReplyTooLong(smtplib.SMTPException):
    """A reply past _REPLY_BYTES, or a line past smtplib's own bound (_lost_reason words it)."""


class _BoundedReply:
    """The reply reader smtplib reads lines from, counting what one reply took."""

    def __init__(self, file):
        self._file, self.left = file, _REPLY_BYTES

    def readline(self, size: int = -1) -> bytes:
        line = self._file.readline(min(size, self.left + 1) if size >= 0 else self.left + 1)
        self.left -= len(line)
        if self.left < 0 or (0 <= size == len(line) and not line.endswith(b"\n")):
            raise _ReplyTooLong(f"{_REPLY_BYTES // 1024} KB")
        return line

    def close(self) -> None:
        self._file.close()


class _PacedSSL(_Paced, smtplib.SMTP_SSL):
    pass


def _delivery(smtp: _Paced, outgoing: EmailMessage, said: str) -> Delivery:
    """Each envelope recipient's fate, from the replies the server gave: 受付 only when
    it took both the address and the message; 不明 when the message went to its dot and
    no reply came; 拒否 with the server's words when it refused the address; 未送信
    otherwise, with what the command said (``said``) as the reason."""
    from ..core.send_record import ACCEPTED, REFUSED, UNKNOWN, UNSENT

    replies = smtp.rcpt_replies or {}
    taken = smtp.data_reply is not None and smtp.data_reply[0] == 250
    outcome = {}
    for address in _recipient_names(outgoing):
        reply = replies.get(address)
        if reply is None:
            outcome[address] = (UNSENT, said)
        elif reply[0] not in (250, 251):
            outcome[address] = (REFUSED, f"{reply[0]} {_text(reply[1]).strip()}")
        elif taken:
            outcome[address] = (ACCEPTED, "")
        elif smtp.data_ended and smtp.data_reply is None:
            outcome[address] = (UNKNOWN, "送信の最後で接続が切れ、届いたか分かりません")
        else:
            outcome[address] = (UNSENT, said)
    return Delivery(outcome)


def _what_went(smtp: _Paced) -> str:
    """Whether a cut connection may have delivered: not before the message went out to its
    closing dot (the envelope, or part of a message, delivers nothing), so staff can simply
    run it again instead of asking 12 offices. A relay closing in the middle of a large
    message (421, its size limit or its time limit) was said to have perhaps delivered it."""
    if not smtp.data_ended:
        return "メールはまだ送信していません（どの宛先にも届いていません）。もう一度実行してください。"
    return "メールが届いていない可能性があります。宛先に確認してから再送してください。"


def _budget(msg: EmailMessage, timeout: float) -> float:
    return 4 * timeout + len(msg.as_bytes(policy=POLICY)) / _SLOWEST_LINE


class _Watchdog:
    """Cuts the connection when the exchange outlasts its budget: a server answering one
    byte at a time, each within the timeout, held the command for ever."""

    def __init__(self, smtp: _Paced, seconds: float):
        self.seconds, self.fired = seconds, False
        self.deadline = smtp.deadline = time.monotonic() + seconds
        self._timer = threading.Timer(seconds, self._cut, [smtp])
        self._timer.daemon = True
        self._timer.start()

    def _cut(self, smtp: smtplib.SMTP) -> None:
        self.fired = True
        sock = smtp.sock       # read once: the sending thread may close it (sock = None) meanwhile
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)   # wakes a blocked read; close() need not
            except OSError:
                pass

    def stop(self) -> None:
        self._timer.cancel()

    def reason(self, timeout: float) -> Callable[[BaseException], str]:
        """Why the exchange ended, in Japanese (smtplib's own words are English)."""
        def said(exc: BaseException) -> str:
            # The wait for DATA's reply times out with the budget, the cut may come after it.
            if self.fired or time.monotonic() >= self.deadline - 0.2:
                return f"{self.seconds:.0f}秒以内にやり取りが終わりませんでした"
            return _lost_reason(exc, timeout)
        return said


def _credentials() -> tuple[str, str]:
    """(user, password) from the environment; both or neither."""
    user = os.environ.get(ENV_USER) or ""
    password = os.environ.get(ENV_PASSWORD) or ""
    if bool(user) != bool(password):
        raise UserError(f"環境変数 {ENV_USER} と {ENV_PASSWORD} は両方設定してください"
                        "（片方だけ設定されています）。認証が不要なサーバーでは両方とも削除してください。")
    for name, value in ((ENV_USER, user), (ENV_PASSWORD, password)):
        if not value.isascii():
            # smtplib sends AUTH in ASCII only: a full-width letter typed with the IME on
            # ended in a UnicodeEncodeError (a traceback), never reaching the server.
            raise UserError(f"環境変数 {name} に全角文字など、半角でない文字が入っています。"
                            "日本語入力をオフにして、半角で設定し直してください。")
    return user, password


def _refuse_plain_password(smtp: smtplib.SMTP, server: str) -> None:
    """A server that offers STARTTLS is not sent the password in clear text: without
    --starttls it went over the network readable by anyone on the way."""
    smtp.ehlo_or_helo_if_needed()
    if smtp.has_extn("starttls"):
        raise UserError(f"メールサーバー {server} は暗号化（STARTTLS）に対応していますが、暗号化せずに"
                        "パスワードを送ろうとしました。--starttls を付けて、もう一度実行してください。"
                        "メールは送信していません。")


def _connect(smtp: smtplib.SMTP, host: str, port: int, server: str,
             reason: Callable[[BaseException], str]) -> None:
    """Plain SMTP, or TLS from the first byte on an SMTPS port (smtp is an SMTP_SSL there):
    spoken plainly to one, the client waited for a greeting the server never sends, and
    said after 30 s only that nothing answered."""
    # What the constructor sets and connect() does not: the name TLS checks the certificate
    # against (the client is made unconnected, so that the budget covers the greeting).
    smtp._host = host
    try:
        code, text = smtp.connect(host, port)
        if code != 220:
            raise smtplib.SMTPConnectError(code, text)
    except smtplib.SMTPConnectError as exc:
        if not _temporary(exc.smtp_code):
            raise UserError(f"メールサーバー {server} に接続できません（{reason(exc)}）。"
                            "サーバー名・ポート番号・ネットワーク接続を確認してください。") from exc
        # The server is there and said so (421 busy, or going down): the name, port and
        # network are right, and staff sent to check them changed a right setting.
        raise UserError(f"メールサーバー {server} は今、接続を受け付けていません{_reply(exc)}。"
                        "サーバーが混み合っているなど一時的な理由で、設定の誤りではありません。メールは送信していません。"
                        "時間をおいて、もう一度実行してください。") from exc
    except ssl.SSLCertVerificationError as exc:
        raise UserError(f"メールサーバー {server} に暗号化して接続できません（{_certificate_problem(exc)}"
                        "メールは送信していません。") from exc
    except (OSError, smtplib.SMTPException) as exc:
        # SMTP_SSL's handshake runs inside connect(); a read of the greeting fails as
        # SMTPServerDisconnected, so a bare SSLError or reset here is the handshake's.
        if isinstance(smtp, smtplib.SMTP_SSL) and isinstance(exc, _HANDSHAKE_FAILURES):
            raise UserError(f"メールサーバー {server} に暗号化して接続できません（{_tls_problem(exc, implicit=True)}"
                            "メールは送信していません。") from exc
        raise UserError(f"メールサーバー {server} に接続できません（{reason(exc)}）。{_no_greeting(smtp, exc)}"
                        "サーバー名・ポート番号・ネットワーク接続を確認してください。") from exc


def _no_greeting(smtp: smtplib.SMTP, exc: BaseException) -> str:
    """A plain connection that no greeting came on is most often a server speaking TLS from
    the start (SMTPS) on a port other than 465: it waits for the client's TLS hello while the
    client waits for its 220. Staff read only that nothing answered, and checked the network."""
    if isinstance(smtp, smtplib.SMTP_SSL) or not isinstance(exc, smtplib.SMTPServerDisconnected):
        return ""
    if "timed out" not in str(exc):
        return ""
    return ("接続はできましたが、サーバーから SMTP の最初の応答がありません。最初から暗号化するサーバー（SMTPS）なら、"
            "ポート 465 を指定してください。")


def _starttls(smtp: smtplib.SMTP, server: str) -> None:
    try:
        smtp.starttls(context=ssl.create_default_context())
    except smtplib.SMTPNotSupportedError as exc:
        raise UserError(f"メールサーバー {server} は STARTTLS（暗号化）に対応していません。"
                        "暗号化の設定を確認してください。") from exc
    except ssl.SSLCertVerificationError as exc:
        raise UserError(f"メールサーバー {server} との暗号化接続（STARTTLS）に失敗しました（{_certificate_problem(exc)}"
                        "メールは送信していません。") from exc
    except _HANDSHAKE_FAILURES as exc:   # the handshake's: a command or reply fails as SMTPException
        raise UserError(f"メールサーバー {server} との暗号化接続（STARTTLS）に失敗しました（"
                        f"{_tls_problem(exc, implicit=False)}メールは送信していません。") from exc


# A TLS handshake that failed for a reason other than the certificate (_CERTIFICATE_PROBLEMS):
# OpenSSL's reason (ssl.SSLError.reason; "EOF" for a server closing or resetting the
# connection mid-handshake) → (what it means, what to do), or for SMTPS and STARTTLS apart
# ({True: SMTPS, False: STARTTLS}). Staff read only OpenSSL's English before
# (「[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)」), with 「サーバー名・
# ポート番号・ネットワーク接続を確認してください」 on port 465; _tls_problem keeps it for IT.
_ASK_IT = "IT 担当者（メールサーバーの管理者）に、このメッセージを伝えて確認してください。"
_PORTS = "最初から暗号化するのはポート 465、--starttls を付けて暗号化するのはポート 587 か 25 です"
_OLD_SERVER = ("サーバーが古い暗号化方式（TLS 1.1 以前）にしか対応していないため、安全に接続できません",
               "サーバーを TLS 1.2 以降に対応させるよう、IT 担当者（メールサーバーの管理者）に依頼してください。")
_TLS_PROBLEMS = {
    # plain SMTP where TLS was expected: the wrong port on SMTPS, something in the way after STARTTLS
    "WRONG_VERSION_NUMBER": {
        True: ("このポートのサーバーは、最初から暗号化する方式（SMTPS）ではなく、暗号化しない SMTP で応答しました",
               f"--smtp のポート番号を確かめてください（{_PORTS}）。分からなければ、{_ASK_IT}"),
        False: ("サーバーは STARTTLS（暗号化の開始）を受け付けましたが、その後も暗号化せずに応答しました（途中の機器や"
                "ウイルス対策ソフトが暗号化を妨げている可能性があります）", _ASK_IT)},
    "TLSV1_ALERT_PROTOCOL_VERSION": _OLD_SERVER,      # the server's alert: it speaks no TLS 1.2
    "UNSUPPORTED_PROTOCOL": _OLD_SERVER,              # its ServerHello chose TLS 1.0 or 1.1
    "SSLV3_ALERT_HANDSHAKE_FAILURE": ("サーバーとこのパソコンに、共通して使える暗号の方式がありません", _ASK_IT),
    "EOF": ("暗号化の手順の途中で、サーバーが接続を切りました（サーバーがこのパソコンの暗号化方式を受け付けないか、"
            "途中の機器が通信を止めている可能性があります）", f"ポート番号を確かめ（{_PORTS}）、合っていれば {_ASK_IT}"),
}
_TLS_OTHER = ("暗号化の手順が、サーバーとの間で成り立ちませんでした", _ASK_IT)
# What fails a handshake besides the certificate: OpenSSL's refusals, and a reset (a server
# or firewall dropping a ClientHello it does not like).
_HANDSHAKE_FAILURES = (ssl.SSLError, ConnectionResetError)


def _tls_problem(exc: OSError, *, implicit: bool) -> str:
    """What a failed handshake means and what to do (_TLS_PROBLEMS), OpenSSL's words kept for
    IT, ending the parenthesis the caller opened as _certificate_problem does; ``implicit``:
    SMTPS, where TLS starts at once, rather than STARTTLS."""
    if isinstance(exc, ssl.SSLEOFError) or not isinstance(exc, ssl.SSLError):
        key = "EOF"
    else:
        key = getattr(exc, "reason", None) or ""
    found = _TLS_PROBLEMS.get(key, _TLS_OTHER)
    what, fix = found[implicit] if isinstance(found, dict) else found
    # 「[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)」: the words alone
    detail = exc.strerror or str(exc) or type(exc).__name__
    detail = re.sub(r"^\[SSL: \w+\] | \(_ssl\.c:\d+\)$", "", detail)
    return f"{what}。IT 担当者向けの詳細: {detail}）。{fix}"


# OpenSSL's verify codes (X509_V_ERR_*) for what a municipal mail server's certificate most
# often is: (what it means, in words staff can pass to IT; what to do). Others are said as
# _CERTIFICATE_OTHER, OpenSSL's words kept for IT (_certificate_problem).
_TRUST_IT = ("庁内のサーバーが独自の証明書を使っているときは、IT 担当者からその証明書（またはその発行元の証明書）"
             "を PEM 形式のファイルで受け取り、環境変数 SSL_CERT_FILE にそのファイルの場所を設定してから、"
             "もう一度実行してください。")
_NAME_ON_IT = ("--smtp には、証明書に書かれているサーバー名（IT 担当者に確認してください）を指定して、"
               "もう一度実行してください。")
_RENEW = "証明書の更新を、メールサーバーの管理者（IT 担当者）に依頼してください。"
_REMAKE = ("SSL_CERT_FILE を設定しても使えません。鍵が 2048 ビット以上で SHA-256 以上の署名の証明書に作り直すよう、"
           "メールサーバーの管理者（IT 担当者）に依頼してください。")
_CERTIFICATE_PROBLEMS = {
    18: ("サーバーの証明書が自己署名の証明書で、このパソコンでは信頼されていません", _TRUST_IT),
    19: ("サーバーの証明書が、このパソコンで信頼されていない自己署名の証明書から発行されています", _TRUST_IT),
    20: ("サーバーの証明書の発行元（認証局）が、このパソコンで信頼されていません（サーバーが中間証明書を送っていない"
         "こともあります）", _TRUST_IT),
    2: ("サーバーの証明書の発行元（認証局）が、このパソコンで信頼されていません", _TRUST_IT),
    21: ("サーバーの証明書の発行元（認証局）が分かりません（サーバーが中間証明書を送っていないこともあります）", _TRUST_IT),
    10: ("サーバーの証明書の有効期限が切れています", _RENEW),
    9: ("サーバーの証明書がまだ有効になっていません（このパソコンの時計も確認してください）", _RENEW),
    62: ("サーバーの証明書が、指定したサーバー名のものではありません", _NAME_ON_IT),
    64: ("サーバーの証明書が、指定した IP アドレスのものではありません", _NAME_ON_IT),
    # an old certificate (1024-bit RSA, SHA-1): trusting it changes nothing, it must be remade
    66: ("サーバーの証明書の鍵が短すぎて、安全ではないため使えません", _REMAKE),
    67: ("サーバーの証明書の発行元の鍵が短すぎて、安全ではないため使えません", _REMAKE),
    68: ("サーバーの証明書の署名の方式が古く（SHA-1 など）、安全ではないため使えません", _REMAKE),
}
_CERTIFICATE_OTHER = ("サーバーの証明書を、このパソコンでは信頼できません", _ASK_IT)


def _certificate_problem(exc: ssl.SSLCertVerificationError) -> str:
    """Why the server's certificate was not trusted and what staff can do, ending the
    parenthesis the caller opened; one wording for SMTPS and STARTTLS. Said before as
    「サーバーの証明書を確認できません: self-signed certificate」 in OpenSSL's English, with
    「サーバーの証明書を確認してください」 (SMTPS: 「サーバー名・ポート番号・ネットワーク接続を確認」),
    and nothing said of SSL_CERT_FILE, the one way to trust an office's own certificate
    (the Windows certificate store aside). A code outside the table was still said in English
    with SSL_CERT_FILE as the remedy: 「EE certificate key too weak」, which no trust mends."""
    what, fix = _CERTIFICATE_PROBLEMS.get(exc.verify_code, _CERTIFICATE_OTHER)
    if exc.verify_code not in _CERTIFICATE_PROBLEMS:
        what = f"{what}。IT 担当者向けの詳細: {exc.verify_message or exc.verify_code}"
    return f"{what}）。{fix}"


# The mechanisms smtplib's login tries, as it spells them (SMTP.login's preferred_auths).
_MECHANISMS = ("CRAM-MD5", "PLAIN", "LOGIN")


def _login(smtp: smtplib.SMTP, user: str, password: str, server: str) -> None:
    smtp.ehlo_or_helo_if_needed()
    offered = smtp.esmtp_features.get("auth", "").split()
    if offered and not set(offered) & set(_MECHANISMS):
        # An Exchange connector offering only 「AUTH NTLM」 or 「AUTH GSSAPI NTLM」: smtplib's plain
        # SMTPException (「No suitable authentication method found.」) was said as a connection cut,
        # in English, with 「もう一度実行してください」, which fails the same way every time.
        raise UserError(f"メールサーバー {server} が受け付ける認証方式（{' '.join(offered)[:200]}）では、renkei-xl は"
                        f"ログインできません（使える方式: {'・'.join(_MECHANISMS)}）。メールは送信していません。"
                        "PLAIN か LOGIN で認証できる送信用のサーバー（またはポート）を IT 担当者に確認してください"
                        f"（認証なしで送れるサーバーなら、環境変数 {ENV_USER} と {ENV_PASSWORD} を削除してください）。")
    try:
        smtp.login(user, password)
    except smtplib.SMTPAuthenticationError as exc:
        raise UserError(f"メールサーバー {server} での認証に失敗しました{_reply(exc)}。"
                        f"環境変数 {ENV_USER} / {ENV_PASSWORD} のユーザー名とパスワードを確認してください。"
                        ) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise UserError(f"メールサーバー {server} は認証（AUTH）に対応していません。"
                        "暗号化（STARTTLS）が必要でないか確認し、認証が不要なら環境変数 "
                        f"{ENV_USER} / {ENV_PASSWORD} を削除してください。") from exc


def _deliver(smtp: smtplib.SMTP, outgoing: EmailMessage, server: str, *, encrypted: bool) -> None:
    """Send, and say which refusal it was: recipients, sender, size, login, data. A 4xx
    reply is a temporary one (the server busy, closing, or taking only so many recipients
    per mail): the addresses are right, and the mail is to be sent again later."""
    names = _recipient_names(outgoing)
    try:
        refused = smtp.send_message(outgoing)
    except smtplib.SMTPRecipientsRefused as exc:
        first = _reply_of(*next(iter(exc.recipients.values())))
        if all(code == 530 for code, _text in exc.recipients.values()):  # some servers ask at RCPT
            raise _login_wanted(first, server, tls_offered=not encrypted and smtp.has_extn("starttls")) from exc
        if all(_size_status(text) for _code, text in exc.recipients.values()):   # a size announced (SIZE=)
            raise _too_large(first, smtp, outgoing) from exc
        raise _all_refused(exc.recipients, names, server) from exc
    except smtplib.SMTPSenderRefused as exc:
        if _says_too_large(exc):
            raise _too_large(_reply(exc), smtp, outgoing) from exc
        if exc.smtp_code == 530:
            raise _login_wanted(_reply(exc), server, tls_offered=not encrypted and smtp.has_extn("starttls")) from exc
        raise _sender_refused(exc, server) from exc
    except smtplib.SMTPDataError as exc:
        if _temporary(exc.smtp_code):
            raise UserError(_busy(server, exc)) from exc
        if _says_too_large(exc):
            raise _too_large(_reply(exc), smtp, outgoing) from exc
        raise UserError(f"メールサーバー {server} がメールを受け付けませんでした{_reply(exc)}。"
                        "メールは送信していません。サーバーの応答の意味を、メールサーバーの管理者に確認してください。") from exc
    if refused:
        raise _partly_refused(refused, names)


def _temporary(code: int) -> bool:
    return 400 <= code < 500


def _busy(server: str, exc: smtplib.SMTPResponseException) -> str:
    return (f"メールサーバー {server} が一時的にメールを受け付けませんでした{_reply(exc)}。"
            "メールは送信していません。アドレスの誤りではありません。時間をおいて、もう一度送信してください。")


def _all_refused(recipients: dict, names: dict, server: str) -> UserError:
    codes = [code for code, _text in recipients.values()]
    if 421 in codes:
        # The server closed the session at one RCPT TO (smtplib stops there): the mail went
        # to no one, and the recipient it came at is no more to blame than the others.
        closing = next(reply for reply in recipients.values() if reply[0] == 421)
        refused = {addr: reply for addr, reply in recipients.items() if reply[0] != 421}
        return UserError(f"メールサーバー {server} が、宛先を伝えている途中で接続を終了しました{_reply_of(*closing)}。"
                         "メールはどの宛先にも送信していません。"
                         f"{_refusals(refused, names)}時間をおいて、もう一度実行してください。")
    if all(_refusal_kind(*reply) == "later" for reply in recipients.values()):
        return UserError(f"メールサーバー {server} が宛先を一時的に受け付けませんでした: "
                         f"{_refused_list(recipients, names)}。メールは送信していません。"
                         "アドレスの誤りではありません。時間をおいて、もう一度送信してください。")
    if len(recipients) > 1 and all(_policy_refusal(text) for _code, text in recipients.values()):
        # 5.7.x to every address alike: the server does not relay for this sender or
        # connection (no login, or not the office's server); the addresses may be right.
        return UserError(f"メールサーバー {server} が、すべての宛先への送信（中継）を許可しませんでした"
                         f"（{_refused_list(dict(list(recipients.items())[:1]), names)} ほか）。"
                         "メールは送信していません。アドレスの誤りではなく、認証（環境変数 "
                         f"{ENV_USER} / {ENV_PASSWORD}）やサーバー名・ポートの設定が必要な可能性があります。")
    fix = "アドレスを直してから、" if any(_refusal_kind(*reply) == "bad" for reply in recipients.values()) else ""
    return UserError(f"宛先がメールサーバーに受け付けられなかったため、どの宛先にも送信しませんでした。"
                     f"{_refusals(recipients, names)}{fix}もう一度実行してください。")


def _policy_refusal(text) -> bool:
    """An enhanced status 5.7.x (RFC 3463: security or policy), not a bad mailbox (5.1.x)."""
    return _text(text).strip().startswith("5.7.")


def _text(reply) -> str:
    """A reply's text as smtplib gives it (bytes, or str from our own exceptions)."""
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _says_too_large(exc: smtplib.SMTPResponseException) -> bool:
    """The mail refused for its size: 552 to MAIL FROM (the size announced with SIZE=) or to
    the message (a relay that announces no limit), or, under any code, the enhanced status
    5.3.4 (RFC 3463 "message too big for system") or 5.2.3 ("message length exceeds
    administrative limit", a mailbox's own limit: Exchange's). At RCPT TO only the latter two
    (_size_status): a bare 552 there is a full mailbox or too many recipients (``_later``)."""
    return exc.smtp_code == 552 or _size_status(exc.smtp_error)


def _size_status(text) -> bool:
    return _text(text).strip().startswith(("5.3.4", "5.2.3"))


def _too_large(reply: str, smtp: smtplib.SMTP, outgoing: EmailMessage) -> UserError:
    """Said alike wherever the relay refuses the size, with the mail's size and the relay's
    limit when it announces one: refused after the message, it read 「添付ファイルの大きさの
    制限などを確認」, with neither the sizes to cut to nor whether anything went."""
    size = len(outgoing.as_bytes(policy=POLICY))
    limit = smtp.esmtp_features.get("size", "").strip()
    # ASCII digits only: str.isdigit() takes 「²」 (int() raised) and 「٥٠٠٠」 (read as 5000).
    cap = f"、このサーバーの上限は {_megabytes(int(limit))}" if limit.isascii() and limit.isdigit() and int(limit) > 0 else ""
    return UserError(f"メールが大きすぎるため、メールサーバーに拒否されました{reply}。"
                     f"添付ファイルを含めたメールの大きさは {_megabytes(size)}{cap}です"
                     "（添付ファイルはメールでは約 1.37 倍になります）。メールは送信していません。"
                     "添付ファイルを減らすか、分けて送信してください。")


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{-(-size // 1000)} KB"


def _login_wanted(reply: str, server: str, *, tls_offered: bool) -> UserError:
    """530 to MAIL FROM or to every RCPT TO. Where the server offers STARTTLS and the session
    is not encrypted, 530 may ask for either (Postfix's 「530 5.7.0 Must issue a STARTTLS
    command first」; AUTH offered only once encrypted): told only to set the login, staff
    set it, ran again, and were only then told to add --starttls."""
    if tls_offered:
        return UserError(f"メールサーバー {server} は、送信の前に暗号化（STARTTLS）かログイン（認証）を求めています"
                         f"{reply}。--starttls を付けて、もう一度実行してください（ログインも必要なら、環境変数 "
                         f"{ENV_USER} と {ENV_PASSWORD} にユーザー名とパスワードを設定してください）。"
                         "メールは送信していません。")
    return UserError(f"メールサーバー {server} はログイン（認証）を求めています{reply}。"
                     f"環境変数 {ENV_USER} と {ENV_PASSWORD} にユーザー名とパスワードを設定してください。"
                     "メールは送信していません。")


def _sender_refused(exc: smtplib.SMTPSenderRefused, server: str) -> UserError:
    if _temporary(exc.smtp_code):
        return UserError(_busy(server, exc))
    return UserError(f"差出人 {exc.sender} がメールサーバーに拒否されたため、送信しませんでした"
                     f"{_reply(exc)}。差出人のメールアドレスを確認してください。")


def _partly_refused(refused: dict, names: dict) -> UserError:
    """Some recipients got the mail and some did not: both named, and how to send it to the
    rest alone, since running the same command again sends it twice to those served."""
    served = [who for addr, who in names.items() if addr not in refused]
    fix = ("（拒否されたアドレスは正しいアドレスに直してください）"
           if any(_refusal_kind(*reply) == "bad" for reply in refused.values()) else "")
    return UserError(f"{len(served)} 件の宛先には送信しました（{listed(served)}）。"
                     f"{_refusals(refused, names)}"
                     f"同じコマンドをもう一度実行すると、送信記録により、送信済みの宛先には送らず残りの宛先だけに送ります{fix}。"
                     "宛先を指定するときは、--to の後に次のアドレスを並べて実行してください: "
                     + " ".join(refused))


def _later(code: int, text) -> bool:
    """Whether a recipient's refusal leaves the address right: a 4xx (busy, greylisting, too
    many recipients in one mail), or 552, which RFC 5321 §4.5.3.1.10 has clients read as 452
    (RFC 821 gave 552 to "too many recipients", and old relays still answer so; otherwise a
    full mailbox). Read as a bad address, a relay's 552 5.5.3 past its fifth recipient sent
    staff to check eight right addresses. A full mailbox said under 550 or 554 (enhanced
    status 5.2.2, RFC 3463) is the same case: the address is right."""
    return _temporary(code) or code == 552 or _text(text).strip().startswith("5.2.2")


def _refusals(refused: dict, names: dict) -> str:
    """Each refused recipient under what it means: a bad address to check, a refusal by the
    server's rules (5.7.x), or a temporary refusal to send again. In one list under one
    verdict, the seven municipalities a relay took no more of (452) were told to check their
    addresses beside the one really unknown (550), twelve greylisted (451) beside one unknown,
    and the municipalities outside a relay that delivers unauthenticated mail only inside its own
    domain (554 5.7.1 Relay access denied) beside the one inside it that got the mail."""
    groups: dict[str, dict] = {"bad": {}, "policy": {}, "size": {}, "later": {}}
    for addr, reply in refused.items():
        groups[_refusal_kind(*reply)][addr] = reply
    said = ""
    if groups["bad"]:
        said += (f"次の {len(groups['bad'])} 件の宛先はメールサーバーに拒否されました。メールアドレスを確認してください: "
                 f"{_refused_list(groups['bad'], names)}。")
    if groups["policy"]:
        said += (f"次の {len(groups['policy'])} 件の宛先への送信は、メールサーバーが許可しませんでした（アドレスの誤り"
                 f"ではなく、認証（環境変数 {ENV_USER} / {ENV_PASSWORD}）やサーバーの設定が必要な可能性があります）: "
                 f"{_refused_list(groups['policy'], names)}。")
    if groups["size"]:
        said += (f"次の {len(groups['size'])} 件の宛先は、メールの大きさがその宛先の上限を超えるため受け付けられません"
                 "でした（アドレスの誤りではありませんが、同じメールをもう一度送っても同じように拒否されます。添付ファイルを"
                 f"減らすか分けて送るか、受け取れる大きさを宛先に確認してください）: {_refused_list(groups['size'], names)}。")
    if groups["later"]:
        said += (f"次の {len(groups['later'])} 件の宛先は一時的に受け付けられませんでした（アドレスの誤りではありません）: "
                 f"{_refused_list(groups['later'], names)}。")
    return said


def _refusal_kind(code: int, text) -> str:
    """What a refused RCPT TO means for the address: "size", "later", "policy" or "bad".
    "size" first: a recipient's own limit (552 5.2.3, or 5.3.4, to the size announced with
    SIZE=) was said as 「一時的に受け付けられませんでした」 among "later", and the same mail sent
    again was refused again, every time."""
    if _size_status(text):
        return "size"
    if _later(code, text):
        return "later"
    return "policy" if _policy_refusal(text) else "bad"


def _recipient_names(msg: EmailMessage) -> dict[str, str]:
    """Each envelope recipient (To, then Cc) as staff know it: 「北広島市 <…>」."""
    from ..core.send_record import shown_recipient

    names: dict[str, str] = {}
    for field in ("To", "Cc"):
        for address in (msg[field].addresses if msg[field] is not None else ()):
            names.setdefault(address.addr_spec, shown_recipient(address))
    return names


def _close(smtp: smtplib.SMTP) -> None:
    # Not smtp.__exit__: a non-221 answer to QUIT after a delivered message would turn
    # a successful send into an error.
    try:
        if smtp.sock is not None:      # one wait for the answer, not what was left for DATA's
            smtp.sock.settimeout(smtp.timeout)
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _lost_reason(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "接続が拒否されました"
    if isinstance(exc, socket.gaierror):
        return "サーバー名が見つかりません"
    if isinstance(exc, TimeoutError) or "timed out" in str(exc):
        return f"{timeout:g}秒以内に応答がありません"
    if isinstance(exc, _ReplyTooLong):
        return "サーバーの応答が長すぎて終わりません。SMTP のサーバーではないかもしれません"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "サーバーが接続を切りました"
    if isinstance(exc, smtplib.SMTPResponseException):
        return "サーバーが接続を受け付けませんでした" + _reply(exc)
    # Said before in the system's English alone (「[Errno 101] Network is unreachable」)
    detail = f"IT 担当者向けの詳細: {getattr(exc, 'strerror', None) or str(exc) or type(exc).__name__}"
    if isinstance(exc, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)):
        return f"サーバーが接続を切りました。{detail}"
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return f"このパソコンからサーバーまで、ネットワークがつながっていません。{detail}"
    return f"通信できませんでした。{detail}"


def _reply(exc: smtplib.SMTPResponseException) -> str:
    return _reply_of(exc.smtp_code, exc.smtp_error)


def _reply_of(code: int, text) -> str:
    return f"（サーバーの応答: {code} {_text(text).strip()}）"


def _refused_list(recipients: dict, names: dict) -> str:
    parts = []
    for address, (code, text) in recipients.items():
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        parts.append(f"{names.get(address, address)}（{code} {text.strip()}）")
    return listed(parts)

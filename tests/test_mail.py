"""Mail drafts and SMTP sending, checked by parsing what is written and a real SMTP server."""

from __future__ import annotations

import datetime as dt
import io
import email
import email.header
import email.policy
import errno
import re
import socket
import string
import zipfile
from pathlib import Path

import openpyxl
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from ports import free_port

from renkei_xl.cycle import letters, mail, smtp
from renkei_xl.core.errors import UserError

REGION = "さっぽろ連携中枢都市圏"
SENDER = "さっぽろ連携中枢都市圏事務局 <renkei@city.sapporo.jp>"
OTARU = "kikaku@city.otaru.lg.jp"
CONFIRMED_NAME = "さっぽろ連携中枢都市圏_2023年度_連携事業実施状況等一覧.xlsx"
INPUT_NAME = "小樽市_2023年度_入力.xlsx"
BODY = "小樽市 企画政策室\nご担当者様\n\nいつもお世話になっております。\n実績値（12件、▲3,000円）をご入力ください。\n"


def write_xlsx(path: Path, sheet: str) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(["指標ID", "連携事業名", "実績値"])
    ws.append(["A-01", "高度医療の提供", "1億408万円"])
    wb.save(path)
    return path


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def addresses(msg, name):
    return [a.addr_spec for a in msg[name].addresses]


def body_text(msg) -> str:
    # text/plain is canonically CRLF (RFC 2046); compare in Python's newline form.
    return msg.get_body(("plain",)).get_content().replace("\r\n", "\n")


def raw_name_fallback(raw: bytes) -> str:
    """The Content-Type name= parameter as an old client reads it: RFC 2047 words in quotes."""
    unfolded = re.sub(rb"\r\n[ \t]", b" ", raw).decode("ascii")
    found = re.search(r'Content-Type: application/vnd\.openxmlformats[^;]*;\s*name="([^"]*)"', unfolded)
    assert found, "no name= parameter on the attachment's Content-Type"
    return str(email.header.make_header(email.header.decode_header(found.group(1))))


# --- drafts -----------------------------------------------------------------------

@pytest.mark.parametrize("name,sheet,subject", [
    (CONFIRMED_NAME, "一覧", f"【{REGION}】2023年度 連携事業実施状況等一覧（確定版）の送付"),
    (INPUT_NAME, "小樽市", f"【{REGION}】2023年度 連携事業実施状況等の入力のお願い（小樽市）"),
])
def test_draft_parses_back(tmp_path, name, sheet, subject):
    book = write_xlsx(tmp_path / name, sheet)
    msg = mail.build_message(sender=SENDER, to=[f"小樽市 企画政策室 <{OTARU}>"],
                             cc=["soumu@city.sapporo.jp"], subject=subject, body=BODY,
                             attachments=[book])
    eml = mail.save_draft(msg, tmp_path / "out" / "draft.eml")
    raw = eml.read_bytes()
    got = parse(raw)

    assert got["X-Unsent"] == "1"
    assert addresses(got, "From") == ["renkei@city.sapporo.jp"]
    assert got["From"].addresses[0].display_name == "さっぽろ連携中枢都市圏事務局"
    assert addresses(got, "To") == [OTARU]
    assert addresses(got, "Cc") == ["soumu@city.sapporo.jp"]
    assert got["Subject"] == subject
    assert got["Date"].datetime is not None
    assert re.fullmatch(r"<[^@<>]+@city\.sapporo\.jp>", got["Message-ID"])
    assert body_text(got) == BODY

    [att] = list(got.iter_attachments())
    assert att.get_content_type() == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert att.get_filename() == name
    assert att.get_content() == book.read_bytes()
    assert openpyxl.load_workbook(io.BytesIO(att.get_content())).sheetnames == [sheet]

    assert b"filename*" in raw and raw_name_fallback(raw) == name
    assert re.search(rb"Subject: =\?utf-8\?[bq]\?", raw, re.IGNORECASE)
    # Old gateways: 7-bit only, CRLF only, every line within the RFC 5322 limit.
    assert raw.isascii()
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert all(not part.defects for part in got.walk())


def test_body_lines_are_short_base64(tmp_path):
    long_line = "連携事業" * 200 + "\n"
    raw = mail.build_message(sender=SENDER, to=[OTARU], subject="件名", body=long_line).as_bytes()
    got = parse(raw)
    assert got["Content-Transfer-Encoding"] == "base64"
    assert body_text(got) == long_line
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78


def test_sent_form_has_no_draft_marker(tmp_path):
    msg = mail.build_message(sender=SENDER, to=[OTARU], subject="件名", body=BODY, draft=False,
                             date=dt.datetime(2024, 4, 19, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=9))))
    got = parse(msg.as_bytes())
    assert "X-Unsent" not in got
    assert got["Date"].datetime == dt.datetime(2024, 4, 19, 0, 30, tzinfo=dt.timezone.utc)


def test_pdf_and_eml_attachments(tmp_path):
    pdf = tmp_path / "一覧.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n")
    inner = mail.build_message(sender=SENDER, to=[OTARU], subject="元のメール（小樽市）", body=BODY)
    eml = mail.save_draft(inner, tmp_path / "元のメール.eml")
    raw = mail.build_message(sender=SENDER, to=[OTARU], subject="件名", body=BODY,
                             attachments=[pdf, eml]).as_bytes()
    got = parse(raw)
    pdf_part, eml_part = got.iter_attachments()
    assert pdf_part.get_content_type() == "application/pdf"
    assert pdf_part.get_filename() == "一覧.pdf"
    assert pdf_part.get_content() == pdf.read_bytes()
    assert eml_part.get_content_type() == "message/rfc822"
    assert eml_part["Content-Transfer-Encoding"] == "7bit"
    assert eml_part.get_filename() == "元のメール.eml"
    assert eml_part.get_content()["Subject"] == "元のメール（小樽市）"
    assert raw.isascii()


def test_macro_workbook_is_refused(tmp_path):
    xlsm = tmp_path / "小樽市.xlsm"
    xlsm.write_bytes(b"PK")
    with pytest.raises(UserError, match="マクロ"):
        mail.build_message(sender=SENDER, to=[OTARU], subject="件名", body=BODY, attachments=[xlsm])


@pytest.mark.parametrize("bad", ["kikaku＠city.otaru.lg.jp", "kikaku@city.otaru　lg.jp", "kikaku", "a b@c.jp"])
def test_bad_address_names_the_entry(bad):
    with pytest.raises(UserError) as err:
        mail.build_message(sender=SENDER, to=[bad], subject="件名", body=BODY)
    assert "宛先のメールアドレス" in str(err.value) and bad.strip() in str(err.value)


def test_missing_recipient_attachment_and_bad_subject(tmp_path):
    with pytest.raises(UserError, match="宛先"):
        mail.build_message(sender=SENDER, to=["", "  "], subject="件名", body=BODY)
    with pytest.raises(UserError, match="見つかりません"):
        mail.build_message(sender=SENDER, to=[OTARU], subject="件名", body=BODY,
                           attachments=[tmp_path / "ない.xlsx"])
    with pytest.raises(UserError, match="改行"):
        mail.build_message(sender=SENDER, to=[OTARU], subject="件名\nBcc: x@y.jp", body=BODY)


def test_save_draft_replaces_and_leaves_no_temp(tmp_path):
    target = tmp_path / "小樽市.eml"
    target.write_bytes(b"old")
    msg = mail.build_message(sender=SENDER, to=[OTARU], subject="新しい件名", body=BODY)
    kept = []
    assert mail.save_draft(msg, target, kept=kept.append) == target
    assert parse(target.read_bytes())["Subject"] == "新しい件名"
    # the draft it replaced said something else: kept, and said where (no temporary file left)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["小樽市.eml", "小樽市_バックアップ"]
    assert [p.read_bytes() for p in kept] == [b"old"]
    again = mail.build_message(sender=SENDER, to=[OTARU], subject="新しい件名", body=BODY)
    assert mail.save_draft(again, target, kept=kept.append) == target and len(kept) == 1   # only its date differs


def test_save_draft_unwritable_place_is_a_user_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    msg = mail.build_message(sender=SENDER, to=[OTARU], subject="件名", body=BODY)
    with pytest.raises(UserError, match="「draft.eml」の保存先のフォルダー.*を作れません（同じ名前のファイルがあります）"):
        mail.save_draft(msg, blocker / "draft.eml")


# --- templates --------------------------------------------------------------------

def fields_of(*templates: str) -> set[str]:
    """The fields (「{圏域名}」) the default templates name: each one the letter fills."""
    return {name for t in templates for _lit, name, _spec, _conv in string.Formatter().parse(t) if name}


def test_default_templates_fill_completely():
    request = dict(圏域名=REGION, 対象年度=2023, 市町村名="小樽市", 担当部署="企画政策室",
                   回答期限=letters.format_deadline(dt.date(2024, 4, 19)), 事務局名="札幌市 企画課",
                   連絡先="renkei@city.sapporo.jp")
    assert set(request) == fields_of(letters.REQUEST_SUBJECT, letters.REQUEST_BODY)
    subject = letters.render_template(letters.REQUEST_SUBJECT, **request)
    body = letters.render_template(letters.REQUEST_BODY, **request)
    assert subject == f"【{REGION}】2023年度 連携事業実施状況等の入力のお願い（小樽市）"
    assert "2024年4月19日（金）までに" in body
    # 「下記までお問い合わせください」: below stood the department's name alone
    assert body.rstrip().endswith("札幌市 企画課\nメール: renkei@city.sapporo.jp")
    # the cells the file itself names (「色の付いたセル」 took in the grey columns too)
    from renkei_xl.core.input_sheet import INPUT_CELLS

    assert f"入力できるのは{INPUT_CELLS}だけです" in body and "色の付いたセル" not in body

    confirmed = dict(圏域名=REGION, 対象年度=2023, 事務局名="札幌市 企画課", 連絡先="renkei@city.sapporo.jp")
    assert set(confirmed) == fields_of(letters.CONFIRMED_SUBJECT, letters.CONFIRMED_BODY)
    assert (letters.render_template(letters.CONFIRMED_SUBJECT, **confirmed)
            == f"【{REGION}】2023年度 連携事業実施状況等一覧（確定版）の送付")
    for text in (subject, body, letters.render_template(letters.CONFIRMED_BODY, **confirmed)):
        assert "{" not in text and "}" not in text


def test_template_errors_are_user_errors():
    with pytest.raises(UserError, match="回答期限"):
        letters.render_template(letters.REQUEST_BODY, 圏域名=REGION)
    with pytest.raises(UserError, match="使えません"):
        letters.render_template("{圏域名.__class__}", 圏域名=REGION)
    with pytest.raises(UserError, match="書式"):
        letters.render_template("【{圏域名】", 圏域名=REGION)


# --- SMTP -------------------------------------------------------------------------

class Recorder:
    """aiosmtpd handler keeping every delivered envelope; refuses listed recipients, those
    past ``limit`` (452, as servers that take only so many per mail), and answers MAIL FROM
    or DATA with ``mail_reply`` / ``data_reply`` when given."""

    def __init__(self, refuse=(), limit=None, mail_reply=None, data_reply=None, rcpt=None):
        self.envelopes = []
        self.refuse = set(refuse)
        self.limit, self.mail_reply, self.data_reply = limit, mail_reply, data_reply
        self.rcpt = rcpt      # (envelope, address) -> a reply refusing it, or None to take it

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.mail_reply:
            return self.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        refusal = self.rcpt(envelope, address) if self.rcpt else None
        if refusal:
            return refusal
        if address in self.refuse:
            return "550 5.1.1 User unknown"
        if self.limit is not None and len(envelope.rcpt_tos) >= self.limit:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    started = []

    def start(handler, **kwargs):
        controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **kwargs)
        controller.start()
        started.append(controller)
        return controller

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture
def no_credentials(monkeypatch):
    monkeypatch.delenv(smtp.ENV_USER, raising=False)
    monkeypatch.delenv(smtp.ENV_PASSWORD, raising=False)


def draft_with_book(tmp_path, to=(OTARU,)):
    book = write_xlsx(tmp_path / INPUT_NAME, "小樽市")
    msg = mail.build_message(sender=SENDER, to=list(to), cc=["soumu@city.sapporo.jp"],
                             subject="【さっぽろ】入力のお願い", body=BODY, attachments=[book])
    return msg, book


def test_send_delivers_without_draft_marker(tmp_path, smtp_server, no_credentials):
    handler = Recorder()
    server = smtp_server(handler)
    msg, book = draft_with_book(tmp_path)
    smtp.send(msg, server.hostname, server.port)

    [envelope] = handler.envelopes
    assert envelope.mail_from == "renkei@city.sapporo.jp"
    assert sorted(envelope.rcpt_tos) == sorted([OTARU, "soumu@city.sapporo.jp"])
    got = parse(envelope.content)
    assert "X-Unsent" not in got
    assert msg["X-Unsent"] == "1"  # the caller's draft is left as it was
    [att] = list(got.iter_attachments())
    assert att.get_filename() == INPUT_NAME
    assert att.get_content() == book.read_bytes()
    assert body_text(got) == BODY


def test_japanese_names_go_through_a_relay_without_8bitmime_or_smtputf8(tmp_path, smtp_server, no_credentials):
    """Old relays offer neither 8BITMIME nor SMTPUTF8 (aiosmtpd with decode_data offers no
    8BITMIME): the municipalities' names, the subject, the body and the attachment's name are
    all sent 7-bit, and nothing asks the relay for either extension."""
    handler = Recorder()
    server = smtp_server(handler, decode_data=True)
    msg, book = draft_with_book(tmp_path, to=TWELVE)
    smtp.send(msg, server.hostname, server.port)
    [envelope] = handler.envelopes
    assert envelope.original_content.isascii()
    assert not any(o.upper().startswith(("BODY=", "SMTPUTF8")) for o in envelope.mail_options), envelope.mail_options
    got = parse(envelope.original_content)
    assert got["To"].addresses[6].display_name == "北広島市"
    assert list(got.iter_attachments())[0].get_filename() == INPUT_NAME and body_text(got) == BODY


AUTH_WITHOUT_TLS = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def auth_server(smtp_server, logins, **kwargs):
    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        ok = (auth_data.login, auth_data.password) == (b"renkei", b"s3cret")
        # handled=False: aiosmtpd then answers 535 itself instead of staying silent.
        return AuthResult(success=ok, handled=ok)

    handler = Recorder()
    server = smtp_server(handler, authenticator=authenticator, auth_required=True,
                         auth_require_tls=False, **kwargs)
    return handler, server


@AUTH_WITHOUT_TLS
def test_send_logs_in_with_environment_credentials(tmp_path, smtp_server, monkeypatch):
    logins = []
    handler, server = auth_server(smtp_server, logins)
    monkeypatch.setenv(smtp.ENV_USER, "renkei")
    monkeypatch.setenv(smtp.ENV_PASSWORD, "s3cret")
    msg, book = draft_with_book(tmp_path)
    smtp.send(msg, server.hostname, server.port)
    assert logins == [(b"renkei", b"s3cret")]
    [envelope] = handler.envelopes
    assert list(parse(envelope.content).iter_attachments())[0].get_content() == book.read_bytes()


@AUTH_WITHOUT_TLS
def test_send_wrong_password_is_japanese_auth_error(tmp_path, smtp_server, monkeypatch):
    logins = []
    handler, server = auth_server(smtp_server, logins)
    monkeypatch.setenv(smtp.ENV_USER, "renkei")
    monkeypatch.setenv(smtp.ENV_PASSWORD, "wrong")
    with pytest.raises(UserError, match="認証に失敗"):
        smtp.send(draft_with_book(tmp_path)[0], server.hostname, server.port)
    assert logins and not handler.envelopes


@AUTH_WITHOUT_TLS
def test_send_without_credentials_to_auth_server_is_refused(tmp_path, smtp_server, no_credentials):
    handler, server = auth_server(smtp_server, [])
    with pytest.raises(UserError, match=f"認証.*{smtp.ENV_USER}"):
        smtp.send(draft_with_book(tmp_path)[0], server.hostname, server.port)
    assert not handler.envelopes



class _WindowsOnlyAuth(Recorder):
    """An Exchange receive connector's EHLO as IT often leaves it: 「AUTH GSSAPI NTLM」 alone
    (aiosmtpd offers a mechanism for each auth_ method; its own PLAIN and LOGIN are excluded)."""

    async def auth_NTLM(self, server, args):
        return AuthResult(success=False, handled=False)

    async def auth_GSSAPI(self, server, args):
        return AuthResult(success=False, handled=False)


@AUTH_WITHOUT_TLS
def test_a_server_offering_no_mechanism_smtplib_speaks_says_so(tmp_path, smtp_server, monkeypatch):
    """smtplib's login raised its plain SMTPException (「No suitable authentication method
    found.」), which was said as a connection cut, in English, with 「もう一度実行してください」:
    the same failure on every run. It names the mechanisms offered and the ones the tool has."""
    handler = _WindowsOnlyAuth()
    server = smtp_server(handler, auth_require_tls=False, auth_exclude_mechanism=["LOGIN", "PLAIN"],
                         authenticator=lambda *args: AuthResult(success=False))
    monkeypatch.setenv(smtp.ENV_USER, "renkei")
    monkeypatch.setenv(smtp.ENV_PASSWORD, "s3cret")
    with pytest.raises(UserError) as refused:
        smtp.send(draft_with_book(tmp_path)[0], server.hostname, server.port)
    said = str(refused.value)
    assert "認証方式（GSSAPI NTLM）では、renkei-xl はログインできません（使える方式: CRAM-MD5・PLAIN・LOGIN）" in said
    assert "メールは送信していません" in said and "切れました" not in said and "suitable" not in said
    assert not handler.envelopes

def test_only_one_credential_variable_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv(smtp.ENV_USER, "renkei")
    monkeypatch.delenv(smtp.ENV_PASSWORD, raising=False)
    with pytest.raises(UserError, match=smtp.ENV_PASSWORD):
        smtp.send(draft_with_book(tmp_path)[0], "127.0.0.1", 25)


def test_starttls_unsupported_is_japanese_error(tmp_path, smtp_server, no_credentials):
    handler = Recorder()
    server = smtp_server(handler)
    with pytest.raises(UserError, match="STARTTLS"):
        smtp.send(draft_with_book(tmp_path)[0], server.hostname, server.port, starttls=True)
    assert not handler.envelopes


def test_tls_refused_for_now_says_nothing_went(tmp_path, smtp_server, no_credentials):
    """A relay offering STARTTLS and answering it 454 (TLS not available for now): staff read
    only 「エラーを返しました（サーバーの応答: 454 TLS not available）」, not whether the mail
    had gone or whether to send it again."""
    class OffersTls(Recorder):
        async def handle_EHLO(self, server, session, envelope, hostname, responses):
            session.host_name = hostname
            return responses[:-1] + ["250-STARTTLS", responses[-1]]

    handler = OffersTls()
    server = smtp_server(handler)
    with pytest.raises(UserError) as err:
        smtp.send(draft_with_book(tmp_path)[0], server.hostname, server.port, starttls=True)
    said = str(err.value)
    assert "（サーバーの応答: 454 TLS not available）" in said, said
    assert "メールは送信していません。時間をおいて、もう一度実行してください。" in said, said
    assert not handler.envelopes


def test_refused_connection_is_japanese_error(tmp_path, no_credentials):
    # A bound socket that does not listen: connecting to its port is refused.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        with pytest.raises(UserError) as err:
            smtp.send(draft_with_book(tmp_path)[0], "127.0.0.1", port, timeout=5)
    assert "接続できません" in str(err.value) and "拒否" in str(err.value)


def test_refused_recipient_is_japanese_error(tmp_path, smtp_server, no_credentials):
    handler = Recorder(refuse={OTARU, "soumu@city.sapporo.jp"})
    server = smtp_server(handler)
    with pytest.raises(UserError) as err:
        smtp.send(draft_with_book(tmp_path)[0], server.hostname, server.port)
    assert "宛先" in str(err.value) and OTARU in str(err.value) and "550" in str(err.value)
    assert not handler.envelopes


def test_partly_refused_recipients_are_reported(tmp_path, smtp_server, no_credentials):
    handler = Recorder(refuse={OTARU})
    server = smtp_server(handler)
    with pytest.raises(UserError) as err:
        smtp.send(draft_with_book(tmp_path)[0], server.hostname, server.port)
    assert OTARU in str(err.value) and "送信済み" in str(err.value)
    [envelope] = handler.envelopes
    assert envelope.rcpt_tos == ["soumu@city.sapporo.jp"]


def test_oversized_mail_is_japanese_error(tmp_path, smtp_server, no_credentials):
    handler = Recorder()
    server = smtp_server(handler, data_size_limit=2000)
    with pytest.raises(UserError, match="大きすぎる"):
        smtp.send(draft_with_book(tmp_path)[0], server.hostname, server.port)
    assert not handler.envelopes


@pytest.mark.parametrize("relay, limit", [(dict(data_size_limit=2000), "、このサーバーの上限は 2 KBです"),
                                          (dict(data_reply="552 5.3.4 Message size exceeds fixed limit", data_size_limit=None), ""),
                                          (dict(data_reply="554 5.3.4 Message too big for system", data_size_limit=None), ""),
                                          (dict(data_reply="554 5.2.3 Message length exceeds administrative limit",
                                                data_size_limit=None), "")])
def test_too_large_is_said_alike_with_the_sizes_wherever_the_relay_refuses_it(tmp_path, smtp_server, no_credentials,
                                                                             relay, limit):
    """Refused after the message (a relay that announces no SIZE), the mail read 「メールサーバーが
    メールを受け付けませんでした…添付ファイルの大きさの制限などを確認」, not that it was too large,
    and neither refusal said the mail's size, the relay's limit, or that nothing went."""
    msg, _book = draft_with_book(tmp_path)
    relay = dict(relay)
    reply = relay.pop("data_reply", None)
    handler = Recorder(data_reply=reply)
    server = smtp_server(handler, **relay)
    with pytest.raises(UserError) as err:
        smtp.send(msg, server.hostname, server.port)
    said = str(err.value)
    size = -(-len(msg.as_bytes(policy=mail.POLICY)) // 1000)
    assert said.startswith(f"メールが大きすぎるため、メールサーバーに拒否されました（サーバーの応答: {(reply or '552')[:3]}"), said
    assert f"添付ファイルを含めたメールの大きさは {size} KB{limit or 'です'}" in said, said
    assert "メールは送信していません" in said, said
    assert not handler.envelopes


@pytest.mark.parametrize("size", [b"\xb2", b"\xb3\xb9"])
def test_a_size_announced_in_other_digits_is_not_read_as_a_limit(tmp_path, no_credentials, size):
    """smtplib reads an EHLO reply as Latin-1, where 「²」 「³」 「¹」 are digits to str.isdigit():
    int() then raised out of the refusal's message, a traceback where staff should read
    that the mail is too large."""
    def talk(conn):
        reader = conn.makefile("rb")
        conn.sendall(b"220 ESMTP\r\n")
        for line in iter(reader.readline, b""):
            verb = line[:4].upper()
            if verb == b"EHLO":
                conn.sendall(b"250-relay\r\n250-SIZE " + size + b"\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                conn.sendall(b"354 go ahead\r\n")
                _to_the_dot(reader)
                conn.sendall(b"552 5.3.4 Message size exceeds fixed limit\r\n")
            elif verb == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            else:
                conn.sendall(b"250 ok\r\n")

    port = _raw_server(talk)
    with pytest.raises(UserError) as err:
        smtp.send(draft_with_book(tmp_path)[0], "127.0.0.1", port, timeout=5)
    said = str(err.value)
    assert said.startswith("メールが大きすぎるため、メールサーバーに拒否されました"), said
    assert "上限" not in said, said


@pytest.mark.parametrize("reply", ["552 5.3.4 Message size exceeds fixed maximum message size",
                                   "550 5.2.3 Message length exceeds administrative limit"])
def test_a_size_refused_at_every_recipient_is_said_as_a_mail_too_large(tmp_path, smtp_server, no_credentials, reply):
    """A relay that checks the size announced (SIZE=) against each recipient's limit refuses
    at RCPT TO: 552 there was said as 「一時的に受け付けられませんでした…時間をおいて」 (sent again,
    refused again), 550 5.2.3 as a bad address, neither with the sizes to cut to."""
    handler = Recorder(rcpt=lambda envelope, address: reply)
    said = _refusal(tmp_path, smtp_server, handler)
    assert said.startswith(f"メールが大きすぎるため、メールサーバーに拒否されました（サーバーの応答: {reply}）。"), said
    assert "メールは送信していません" in said and "一時的" not in said and "アドレス" not in said, said
    assert not handler.envelopes


def test_format_deadline_weekday():
    assert letters.format_deadline(dt.date(2024, 4, 19)) == "2024年4月19日（金）"
    assert letters.format_deadline(dt.date(2024, 3, 31)) == "2024年3月31日（日）"


TWELVE = [f"{name} <renkei{i}@town{i}.example.jp>" for i, name in enumerate(
    ["札幌市", "小樽市", "岩見沢市", "江別市", "千歳市", "恵庭市", "北広島市", "石狩市", "当別町", "新篠津村", "南幌町", "長沼町"])]


def _refusal(tmp_path, smtp_server, handler, to=TWELVE) -> str:
    """What staff read when ``handler``, served by a real aiosmtpd, refuses the mail."""
    server = smtp_server(handler)
    with pytest.raises(UserError) as err:
        smtp.send(draft_with_book(tmp_path, to=to)[0], server.hostname, server.port)
    return str(err.value)


def _refused_at_rcpt(tmp_path, smtp_server, reply: str, to) -> str:
    """What staff read when a real server answers every RCPT TO with ``reply``."""
    return _refusal(tmp_path, smtp_server, Recorder(rcpt=lambda envelope, address: reply), to)


def test_recipient_limit_names_who_got_it_and_how_to_send_the_rest(tmp_path, smtp_server, no_credentials):
    """A server taking five recipients per mail (452 4.5.3) delivered to five of twelve, and
    the message called the seven others refused, to be checked as wrong addresses; running
    the command again would send it twice to the five. Now both groups are named by
    municipality, the refusal is said to be temporary, and the rest is given for --to."""
    handler = Recorder(limit=5)
    said = _refusal(tmp_path, smtp_server, handler)
    [envelope] = handler.envelopes
    assert len(envelope.rcpt_tos) == 5
    assert "5 件の宛先には送信しました（札幌市 <renkei0@town0.example.jp>" in said, said
    assert "恵庭市 <renkei5@town5.example.jp>（452 4.5.3 Too many recipients）" in said, said
    assert "一時的" in said and "メールアドレスを確認" not in said, said
    rest = said.rsplit(": ", 1)[1].split()
    assert rest == [f"renkei{i}@town{i}.example.jp" for i in range(5, 12)] + ["soumu@city.sapporo.jp"], said


class Unknown(Recorder):
    """A relay refusing one municipality's address (550 5.1.1) and answering the others with
    ``reply``, or taking only ``limit`` recipients per mail (452)."""

    def __init__(self, unknown, reply=None, limit=None):
        super().__init__(refuse={unknown}, limit=limit)
        self.reply = reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reply and address not in self.refuse:
            return self.reply
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


def test_one_unknown_address_among_temporary_refusals_is_the_only_one_to_check(tmp_path, smtp_server, no_credentials):
    """小樽市 unknown (550 5.1.1) on a relay taking five recipients per mail: the seven it took
    no more of (452) were listed with 小樽市 under 「拒否されました。メールアドレスを確認してください」,
    and staff checked seven right addresses. Now each is said under what its reply means."""
    handler = Unknown("renkei1@town1.example.jp", limit=5)
    said = _refusal(tmp_path, smtp_server, handler)
    [envelope] = handler.envelopes
    assert len(envelope.rcpt_tos) == 5
    bad, later = said.split("メールアドレスを確認してください: ", 1)[1].split("一時的に受け付けられませんでした", 1)
    assert "小樽市 <renkei1@town1.example.jp>（550 5.1.1 User unknown）" in bad and "452" not in bad, said
    assert "（アドレスの誤りではありません）: 北広島市 <renkei6@town6.example.jp>（452 4.5.3" in later, said
    assert "小樽市" not in later, said


@pytest.mark.parametrize("first", ["550 5.1.1 User unknown", "550 5.7.1 Recipient address rejected: Access denied"])
def test_greylisted_recipients_beside_one_refused_are_not_called_bad_addresses(tmp_path, smtp_server, no_credentials,
                                                                               first):
    """Every recipient refused, one for good (550) and twelve greylisted (451): the message
    called all thirteen refused and asked to check every address."""
    handler = Recorder(rcpt=lambda envelope, address: first if address == "renkei0@town0.example.jp"
                       else "451 4.7.1 Greylisted, try again later")
    said = _refusal(tmp_path, smtp_server, handler)
    assert not handler.envelopes
    assert "どの宛先にも送信しませんでした" in said, said
    assert f"札幌市 <renkei0@town0.example.jp>（{first}）。" in said, said
    assert "次の 12 件の宛先は一時的に受け付けられませんでした（アドレスの誤りではありません）: 小樽市" in said, said
    unknown = "5.1.1" in first
    assert ("次の 1 件の宛先はメールサーバーに拒否されました。メールアドレスを確認してください: 札幌市" in said) == unknown, said
    assert ("アドレスを直してから" in said) == unknown, said


def test_too_many_recipients_said_as_rfc_821_did_is_not_a_bad_address(tmp_path, smtp_server, no_credentials):
    """Old relays answer "too many recipients" with 552 (RFC 821's code; RFC 5321 §4.5.3.1.10
    has clients read it as 452): the eight past the fifth were called refused addresses."""
    handler = Recorder(rcpt=lambda envelope, address: "552 5.5.3 Too many recipients" if len(envelope.rcpt_tos) >= 5
                       else None)
    said = _refusal(tmp_path, smtp_server, handler)
    [envelope] = handler.envelopes
    assert len(envelope.rcpt_tos) == 5
    assert "次の 8 件の宛先は一時的に受け付けられませんでした（アドレスの誤りではありません）: 恵庭市" in said, said
    assert "メールアドレスを確認" not in said and "直してください" not in said, said


@pytest.mark.parametrize("full", ["550 5.2.2 Mailbox full", "554 5.2.2 mailbox over quota"])
def test_a_full_mailbox_under_another_code_than_552_is_not_a_bad_address(tmp_path, smtp_server, no_credentials, full):
    """A full mailbox said with 550 or 554 and RFC 3463's 5.2.2, as with 552: the address is
    right. It was listed under 「メールアドレスを確認してください」 and 「正しいアドレスに直して」."""
    handler = Recorder(rcpt=lambda envelope, address: full if address == "renkei1@town1.example.jp" else None)
    said = _refusal(tmp_path, smtp_server, handler)
    [envelope] = handler.envelopes
    assert len(envelope.rcpt_tos) == 12
    assert f"次の 1 件の宛先は一時的に受け付けられませんでした（アドレスの誤りではありません）: 小樽市 <renkei1@town1.example.jp>（{full}）" in said, said
    assert "メールアドレスを確認" not in said and "直してください" not in said, said


@pytest.mark.parametrize("limit", ["552 5.2.3 Message exceeds the recipient's size limit",
                                   "552 5.3.4 Message size exceeds fixed maximum message size"])
def test_one_recipients_size_limit_is_not_said_to_pass_later(tmp_path, smtp_server, no_credentials, limit):
    """One of twelve refusing the size announced with SIZE= at RCPT (its own mailbox limit) was
    listed under 「一時的に受け付けられませんでした」 (552 read as 452), and the same mail sent again
    was refused again. Now said as the size, with what to do, apart from the other kinds."""
    handler = Recorder(rcpt=lambda envelope, address: limit if address == "renkei1@town1.example.jp" else None)
    said = _refusal(tmp_path, smtp_server, handler)
    [envelope] = handler.envelopes
    assert len(envelope.rcpt_tos) == 12
    assert ("次の 1 件の宛先は、メールの大きさがその宛先の上限を超えるため受け付けられませんでした" in said
            and "添付ファイルを減らすか分けて送るか、受け取れる大きさを宛先に確認してください）: "
                f"小樽市 <renkei1@town1.example.jp>（{limit}）" in said), said
    assert "一時的" not in said and "メールアドレスを確認" not in said, said


def test_a_server_closing_at_the_seventh_recipient_sent_to_no_one_and_blames_no_one(tmp_path, smtp_server, no_credentials):
    """A relay answering 421 at the seventh RCPT TO and closing: the message said 「宛先を一時的に
    受け付けませんでした: 北広島市（421 …）」, as if 北広島市 alone had a problem, beside the one
    really unknown address, not that the server had closed the session."""
    handler = Recorder(refuse={"renkei1@town1.example.jp"},
                       rcpt=lambda envelope, address: "421 4.7.0 Too many errors, closing connection"
                       if len(envelope.rcpt_tos) == 5 else None)
    server = smtp_server(handler)
    with pytest.raises(UserError) as err:
        smtp.send(draft_with_book(tmp_path, to=TWELVE)[0], server.hostname, server.port)
    said = str(err.value)
    assert not handler.envelopes
    assert said.startswith(f"メールサーバー {server.hostname}:{server.port} が、宛先を伝えている途中で接続を終了しました"
                           "（サーバーの応答: 421 4.7.0 Too many errors, closing connection）。"
                           "メールはどの宛先にも送信していません。"), said
    assert "メールアドレスを確認してください: 小樽市 <renkei1@town1.example.jp>（550 5.1.1 User unknown）。" in said, said
    assert "北広島市" not in said and said.endswith("時間をおいて、もう一度実行してください。"), said


@pytest.mark.parametrize("where", ["mail_reply", "data_reply"])
@pytest.mark.parametrize("reply", ["421 4.3.2 Service not available", "451 4.3.0 Temporary failure"])
def test_temporary_refusal_is_not_called_a_bad_address(tmp_path, smtp_server, no_credentials, where, reply):
    """A busy server's 421/451 to MAIL FROM read 「差出人…を確認してください」, and to DATA
    「添付ファイルの大きさの制限などを確認」: staff went looking for a fault that was not there."""
    handler = Recorder(**{where: reply})
    server = smtp_server(handler)
    with pytest.raises(UserError) as err:
        smtp.send(draft_with_book(tmp_path)[0], server.hostname, server.port)
    said = str(err.value)
    assert "一時的" in said and reply in said and "時間をおいて" in said, said
    assert "確認してください" not in said, said
    assert not handler.envelopes


def test_relaying_denied_to_every_recipient_points_at_the_server_settings(tmp_path, smtp_server, no_credentials):
    said = _refused_at_rcpt(tmp_path, smtp_server, "554 5.7.1 Relay access denied", TWELVE)
    assert "中継" in said and smtp.ENV_USER in said and "アドレスの誤りではなく" in said, said


def test_a_relay_delivering_only_inside_its_domain_does_not_call_the_others_bad_addresses(tmp_path, smtp_server,
                                                                                          no_credentials):
    """An office relay delivers unauthenticated mail inside its own domain and refuses to relay
    outside (554 5.7.1): 札幌市 got the mail, and the twelve others were called refused
    addresses to check; the server wanted a login, or another server."""
    handler = Recorder(rcpt=lambda envelope, address: None if address.endswith("@town0.example.jp")
                       else "554 5.7.1 <%s>: Relay access denied" % address)
    said = _refusal(tmp_path, smtp_server, handler)
    [envelope] = handler.envelopes
    assert envelope.rcpt_tos == ["renkei0@town0.example.jp"]
    assert "1 件の宛先には送信しました（札幌市 <renkei0@town0.example.jp>）" in said, said
    assert "次の 12 件の宛先への送信は、メールサーバーが許可しませんでした（アドレスの誤りではなく、認証" in said, said
    assert smtp.ENV_USER in said and "メールアドレスを確認" not in said and "直してください" not in said, said


def test_silent_server_after_data_is_bounded_and_said_in_japanese(tmp_path, smtp_server, no_credentials):
    import asyncio
    import time

    handler = Recorder()

    async def silent(server, session, envelope):
        await asyncio.sleep(10)
        return "250 OK"

    handler.handle_DATA = silent
    server = smtp_server(handler)
    started = time.monotonic()
    with pytest.raises(UserError) as err:
        smtp.send(draft_with_book(tmp_path)[0], server.hostname, server.port, timeout=0.5)
    assert time.monotonic() - started < 6
    assert "秒以内にやり取りが終わりませんでした" in str(err.value) and "timed out" not in str(err.value), str(err.value)


def _raw_server(talk) -> int:
    """A one-connection TCP server on 127.0.0.1 running ``talk(socket)`` in a thread: for
    servers aiosmtpd will not play (a slow line, a trickle)."""
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def run():
        conn, _ = listener.accept()
        with conn, listener:
            try:
                talk(conn)
            except OSError:
                pass

    threading.Thread(target=run, daemon=True).start()
    return listener.getsockname()[1]


def _to_the_dot(reader) -> None:
    while reader.readline() not in (b".\r\n", b""):
        pass


def _speaks_smtp(conn, *, data=_to_the_dot, quit=lambda conn: conn.sendall(b"221 bye\r\n")) -> None:
    """Just enough SMTP on one connection for a test to change one part: 250 to every
    command, the message after DATA read by ``data(reader)``, the answer to QUIT by ``quit(conn)``."""
    reader = conn.makefile("rb")
    conn.sendall(b"220 ESMTP\r\n")
    for line in iter(reader.readline, b""):
        verb = line[:4].upper()
        if verb == b"QUIT":
            quit(conn)
            return
        if verb == b"DATA":
            conn.sendall(b"354 go ahead\r\n")
            data(reader)
        conn.sendall(b"250 ok\r\n")


def test_large_mail_on_a_slow_line_is_delivered(tmp_path, no_credentials):
    """A 0.7 MB mail to a server reading it at about 300 KB/s failed after a 1 s timeout as
    if the server were silent: sendall counts the timeout over the whole message, and the
    reply to its end comes once the server has read it. Now it goes, within the budget."""
    import os
    import time

    pdf = tmp_path / "一覧.pdf"
    pdf.write_bytes(os.urandom(500_000))
    received = []

    def slowly(reader):
        data = b""
        while not data.endswith(b"\r\n.\r\n"):
            data += reader.read1(16384)
            time.sleep(0.05)
        received.append(data)

    port = _raw_server(lambda conn: _speaks_smtp(conn, data=slowly))
    msg = mail.build_message(sender=SENDER, to=[OTARU], subject="件名", body=BODY, attachments=[pdf])
    smtp.send(msg, "127.0.0.1", port, timeout=1)
    [data] = received
    [att] = parse(data[:-5].replace(b"\r\n..", b"\r\n.")).iter_attachments()
    assert att.get_content() == pdf.read_bytes()


def test_trickling_server_is_cut_at_the_budget(tmp_path, no_credentials):
    """A server sending its greeting a byte at a time, each within the timeout, held the
    command for ever."""
    import time

    def trickle(conn):
        while True:
            conn.sendall(b"2")
            time.sleep(0.1)

    port = _raw_server(trickle)
    started = time.monotonic()
    with pytest.raises(UserError) as err:
        smtp.send(draft_with_book(tmp_path)[0], "127.0.0.1", port, timeout=0.5)
    assert time.monotonic() - started < 7
    assert "秒以内にやり取りが終わりませんでした" in str(err.value), str(err.value)


_FLOOD = 20_000_000   # what a flooding server sends before it waits: past any bound, yet not all memory


def _flood(first: bytes, line: bytes):
    """A server answering ``first`` to the greeting's place, then ``line`` over and over
    (to _FLOOD bytes), then nothing."""
    import time

    def talk(conn):
        if first:
            conn.sendall(first)
            conn.recv(1000)
        chunk = line * (65_536 // len(line) + 1)
        for _ in range(_FLOOD // len(chunk)):
            conn.sendall(chunk)
        time.sleep(30)
    return talk


@pytest.mark.parametrize("first, line", [
    (b"", b"220-" + b"x" * 500 + b"\r\n"),           # a greeting of endless lines
    (b"220 ok\r\n", b"250-" + b"y" * 500 + b"\r\n"),  # EHLO answered without end
    (b"", b"2" * 4096),                                # one line that never ends
], ids=["greeting", "ehlo", "line"])
def test_a_reply_without_end_is_cut_at_its_bound_and_said_in_japanese(tmp_path, no_credentials, first, line):
    """smtplib reads a reply's lines until one without 「-」, keeping each: a server sending
    「250-…」 without end filled memory until the budget cut it (3 GB in 8 s; the default
    budget of 120 s is tens of GB). Now a reply is read to 64 KB (smtp._REPLY_BYTES) and
    staff are told the server's answer does not end, naming it."""
    import time

    port = _raw_server(_flood(first, line))
    started = time.monotonic()
    with pytest.raises(UserError) as err:
        smtp.send(draft_with_book(tmp_path)[0], "127.0.0.1", port, timeout=2)
    assert time.monotonic() - started < 3
    said = str(err.value)
    assert f"メールサーバー 127.0.0.1:{port}" in said and "サーバーの応答が長すぎて終わりません" in said, said
    assert "Line too long" not in said, said


@pytest.fixture
def tls_files(tmp_path):
    """A self-signed certificate for 127.0.0.1 (the openssl command line, as IT would make one)."""
    import subprocess

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


@AUTH_WITHOUT_TLS
def test_password_goes_only_over_starttls_when_the_server_offers_it(tmp_path, smtp_server, monkeypatch, tls_files):
    """With credentials set and no --starttls, the password went in clear text (AUTH PLAIN)
    to a server that offered STARTTLS. Now it is refused before the login; with
    --starttls the login and the mail go encrypted, the certificate checked."""
    import ssl

    cert, key = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins = []
    handler, server = auth_server(smtp_server, logins, tls_context=context, require_starttls=False)
    monkeypatch.setenv(smtp.ENV_USER, "renkei")
    monkeypatch.setenv(smtp.ENV_PASSWORD, "s3cret")
    msg = draft_with_book(tmp_path)[0]
    with pytest.raises(UserError, match="--starttls"):
        smtp.send(msg, server.hostname, server.port)
    assert logins == [] and not handler.envelopes
    with pytest.raises(UserError, match="証明書") as untrusted:       # not trusted yet
        smtp.send(msg, server.hostname, server.port, starttls=True)
    # in the words SMTPS uses for it, not OpenSSL's 「[SSL: CERTIFICATE_VERIFY_FAILED] … (_ssl.c:1006)」
    # nor its English 「self-signed certificate」, and with the one way to trust it (SSL_CERT_FILE)
    said = str(untrusted.value)
    assert "（サーバーの証明書が自己署名の証明書で、このパソコンでは信頼されていません）" in said, said
    assert "環境変数 SSL_CERT_FILE にそのファイルの場所を設定" in said, said
    assert "_ssl.c" not in said and "self-signed" not in said and "メールは送信していません" in said, said
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    smtp.send(msg, server.hostname, server.port, starttls=True)
    assert logins == [(b"renkei", b"s3cret")] and len(handler.envelopes) == 1


def test_a_server_asking_for_starttls_first_says_starttls(tmp_path, smtp_server, monkeypatch, tls_files, no_credentials):
    """A relay that takes mail only encrypted answers MAIL FROM with 「530 Must issue a STARTTLS
    command first」: staff were told only to set a login (which this one does not need), and
    after setting it were told to add --starttls. Now --starttls is said at once, and works."""
    import ssl

    cert, key = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler = Recorder()
    server = smtp_server(handler, tls_context=context, require_starttls=True)
    msg = draft_with_book(tmp_path)[0]
    with pytest.raises(UserError) as err:
        smtp.send(msg, server.hostname, server.port)
    said = str(err.value)
    assert "530 Must issue a STARTTLS command first" in said and "--starttls を付けて" in said, said
    assert "メールは送信していません" in said and not handler.envelopes, said
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    smtp.send(msg, server.hostname, server.port, starttls=True)
    assert len(handler.envelopes) == 1


@pytest.mark.parametrize("variable", [smtp.ENV_USER, smtp.ENV_PASSWORD])
def test_full_width_credentials_are_a_japanese_error(tmp_path, monkeypatch, variable):
    """A password typed with the IME on (ｓ3cret) ended in UnicodeEncodeError, a traceback."""
    monkeypatch.setenv(smtp.ENV_USER, "renkei")
    monkeypatch.setenv(smtp.ENV_PASSWORD, "s3cret")
    monkeypatch.setenv(variable, "ｓ3cret")
    with pytest.raises(UserError, match=f"{variable} に全角文字"):
        smtp.send(draft_with_book(tmp_path)[0], "127.0.0.1", 25)


def test_smtps_port_speaks_tls_from_the_start(tmp_path, smtp_server, monkeypatch, tls_files, no_credentials):
    """Port 465 (SMTPS) was spoken to in plain SMTP: the client waited for a greeting the
    server never sends, and after 30 s said only that nothing answered. Now it is TLS
    from the first byte, with the certificate checked (and said in Japanese when it fails)."""
    import ssl

    cert, key = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler = Recorder()
    server = smtp_server(handler, ssl_context=context)
    monkeypatch.setattr(smtp, "SMTPS_PORTS", frozenset({server.port}))
    msg, book = draft_with_book(tmp_path)
    with pytest.raises(UserError) as untrusted:
        smtp.send(msg, server.hostname, server.port, timeout=5)
    # said as STARTTLS says it: 「self-signed certificate」 in English and 「サーバー名・ポート番号・
    # ネットワーク接続を確認してください」, none of which is wrong, was said before
    said = str(untrusted.value)
    assert "暗号化して接続できません（サーバーの証明書が自己署名の証明書で" in said and "SSL_CERT_FILE" in said, said
    assert "ネットワーク接続" not in said and "self-signed" not in said, said
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with pytest.raises(UserError) as elsewhere:       # trusted, but made out to 127.0.0.1, not to this name
        smtp.send(msg, "localhost", server.port, timeout=5)
    said = str(elsewhere.value)
    assert "（サーバーの証明書が、指定したサーバー名のものではありません）" in said, said
    assert "証明書に書かれているサーバー名" in said and "メールは送信していません" in said, said
    smtp.send(msg, server.hostname, server.port, timeout=5)
    [envelope] = handler.envelopes
    assert list(parse(envelope.content).iter_attachments())[0].get_content() == book.read_bytes()

def _one_tls_connection(starttls: bool, answer) -> int:
    """A server for one connection, on a port of its own, that fails the client's TLS
    handshake as ``answer`` says: after STARTTLS (``starttls``) or from the first byte
    (SMTPS), it reads the ClientHello, then sends ``answer`` (bytes: a TLS alert, an old
    ServerHello, plain text), closes ("close") or resets ("reset") the connection. A
    real server's side of each is what these bytes are; aiosmtpd's own TLS (asyncio) closes
    without a word on any failure, and this OpenSSL refuses to serve TLS 1.0 at all."""
    import contextlib
    import struct
    import threading

    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        conn, _ = listener.accept()
        with conn, listener:
            if starttls:
                said = conn.makefile("rb")
                conn.sendall(b"220 mail.example ESMTP\r\n")
                said.readline()
                conn.sendall(b"250-mail.example\r\n250 STARTTLS\r\n")
                said.readline()
                conn.sendall(b"220 2.0.0 Ready to start TLS\r\n")
            conn.settimeout(5)
            conn.recv(65_536)               # the ClientHello (b"" when the client gave up)
            if answer == "reset":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif isinstance(answer, bytes):
                conn.sendall(answer)
                with contextlib.suppress(OSError):      # a client's reset after an alert
                    conn.recv(65_536)       # until the client closes: what it read is the answer

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1]


def _tls_alert(description: int) -> bytes:
    return bytes([0x15, 3, 1, 0, 2, 2, description])    # a fatal alert record (RFC 5246 §7.2)


# A ServerHello choosing TLS 1.0 (3.1) and TLS_RSA_WITH_AES_128_CBC_SHA: a server too old for TLS 1.2
_HELLO_BODY = bytes([3, 1]) + bytes(32) + bytes([0, 0x00, 0x2F, 0])
_TLS10_HELLO = bytes([0x16, 3, 1, 0, 4 + len(_HELLO_BODY), 2, 0, 0, len(_HELLO_BODY)]) + _HELLO_BODY


@pytest.mark.parametrize("starttls", [True, False], ids=["STARTTLS", "SMTPS"])
@pytest.mark.parametrize("answer, what, detail", [
    (_tls_alert(70), "サーバーが古い暗号化方式（TLS 1.1 以前）にしか対応していない", "tlsv1 alert protocol version"),
    (_TLS10_HELLO, "サーバーが古い暗号化方式（TLS 1.1 以前）にしか対応していない", "unsupported protocol"),
    (_tls_alert(40), "共通して使える暗号の方式がありません", "sslv3 alert handshake failure"),
    ("close", "暗号化の手順の途中で、サーバーが接続を切りました", "EOF occurred in violation of protocol"),
    ("reset", "暗号化の手順の途中で、サーバーが接続を切りました", "Connection reset by peer"),
    # plain SMTP where TLS was expected: a box in the way after STARTTLS, the wrong port on SMTPS
    (b"421 4.3.2 plain words\r\n", {True: "その後も暗号化せずに応答しました（途中の機器や",
                                     False: "最初から暗号化する方式（SMTPS）ではなく、暗号化しない SMTP で応答しました"},
     "wrong version number"),
], ids=["old-alert", "old-hello", "no-cipher", "closed", "reset", "plain"])
def test_a_handshake_that_fails_says_what_it_means_in_japanese(tmp_path, monkeypatch, no_credentials,
                                                                starttls, answer, what, detail):
    """A TLS failure other than the certificate's reached staff in OpenSSL's English alone
    (「（[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)）」), on port 465 with
    「サーバー名・ポート番号・ネットワーク接続を確認してください」, and a reset mid-handshake as
    「[Errno 104] Connection reset by peer」 with 「もう一度実行してください」. Each now says what it
    means and what to do (the port, IT), OpenSSL's words kept for IT."""
    port = _one_tls_connection(starttls, answer)
    monkeypatch.setattr(smtp, "SMTPS_PORTS", frozenset() if starttls else frozenset({port}))
    with pytest.raises(UserError) as err:
        smtp.send(draft_with_book(tmp_path)[0], "127.0.0.1", port, starttls=starttls, timeout=5)
    said, what = str(err.value), what[starttls] if isinstance(what, dict) else what
    opening = "との暗号化接続（STARTTLS）に失敗しました（" if starttls else "に暗号化して接続できません（"
    assert f"メールサーバー 127.0.0.1:{port} {opening}" in said, said
    assert what in said and f"。IT 担当者向けの詳細: {detail}）。" in said, said
    assert "[SSL:" not in said and "_ssl.c" not in said and "Errno" not in said, said
    assert "IT 担当者" in said.split("）。")[-1] and said.endswith("メールは送信していません。"), said


def test_a_plain_server_on_the_smtps_port_says_the_port(tmp_path, smtp_server, monkeypatch, no_credentials):
    """aiosmtpd speaking plain SMTP on the port taken for SMTPS: its 220 read as a TLS record."""
    handler = Recorder()
    server = smtp_server(handler)
    monkeypatch.setattr(smtp, "SMTPS_PORTS", frozenset({server.port}))
    with pytest.raises(UserError) as err:
        smtp.send(draft_with_book(tmp_path)[0], server.hostname, server.port, timeout=5)
    said = str(err.value)
    assert "暗号化しない SMTP で応答しました。IT 担当者向けの詳細: wrong version number）。" in said, said
    assert "--smtp のポート番号を確かめてください（最初から暗号化するのはポート 465、--starttls を付けて暗号化するのは" in said
    assert "ネットワーク接続" not in said and not handler.envelopes, said


@pytest.mark.parametrize("starttls", [False, True], ids=["plain", "STARTTLS"])
def test_a_server_speaking_tls_from_the_start_on_another_port_names_465(tmp_path, monkeypatch, no_credentials, starttls):
    """An SMTPS server on a port renkei-xl speaks plain SMTP to (587 given instead of 465):
    it waits for the TLS hello, the client for the greeting. Said was only that nothing
    answered, and to check the network; now that the connection was made and 465 is the
    port for a server that encrypts from the start."""
    port = _one_tls_connection(False, None)
    monkeypatch.setattr(smtp, "SMTPS_PORTS", frozenset())
    with pytest.raises(UserError) as err:
        smtp.send(draft_with_book(tmp_path)[0], "127.0.0.1", port, starttls=starttls, timeout=0.2)
    said = str(err.value)
    assert "（0.2秒以内に応答がありません）。接続はできましたが、サーバーから SMTP の最初の応答がありません。" in said, said
    assert "最初から暗号化するサーバー（SMTPS）なら、ポート 465 を指定してください。" in said, said


def test_a_certificate_with_a_short_key_is_not_said_to_be_trusted_by_ssl_cert_file(tmp_path, smtp_server, monkeypatch,
                                                                                    no_credentials):
    """A 1024-bit certificate (an old office server's) was said as 「サーバーの証明書を確認できません:
    EE certificate key too weak」, in English, with SSL_CERT_FILE as the remedy: trusted so, it
    fails the same. Now said as too short a key, to be remade by IT."""
    import ssl
    import subprocess

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:1024", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.set_ciphers("DEFAULT:@SECLEVEL=0")          # the old server's own setting
    context.load_cert_chain(cert, key)
    handler = Recorder()
    server = smtp_server(handler, tls_context=context)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))       # trusted: the key is still too short
    with pytest.raises(UserError) as err:
        smtp.send(draft_with_book(tmp_path)[0], server.hostname, server.port, starttls=True, timeout=5)
    said = str(err.value)
    assert "（サーバーの証明書の鍵が短すぎて、安全ではないため使えません）。SSL_CERT_FILE を設定しても使えません。" in said, said
    assert "key too weak" not in said and not handler.envelopes, said


@pytest.mark.parametrize("code, said", [
    (errno.ENETUNREACH, "（このパソコンからサーバーまで、ネットワークがつながっていません。IT 担当者向けの詳細: Network is unreachable）"),
    (errno.EACCES, "（通信できませんでした。IT 担当者向けの詳細: Permission denied）"),
], ids=["unreachable", "denied"])
def test_a_connection_the_system_refuses_is_said_in_japanese(tmp_path, monkeypatch, no_credentials, code, said):
    """「[Errno 101] Network is unreachable」 (no network, a VPN down) was all staff read."""
    import os

    def unreachable(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(socket, "create_connection", unreachable)
    with pytest.raises(UserError) as err:
        smtp.send(draft_with_book(tmp_path)[0], "127.0.0.1", 25, timeout=5)
    assert said in str(err.value) and "Errno" not in str(err.value), str(err.value)


def _settings(otaru_cell: str):
    from renkei_xl.core.model import Municipality, Settings

    return Settings(REGION, 2023, municipalities=(
        Municipality("札幌市", "中心市", "企画課", "renkei@city.sapporo.jp"),
        Municipality("小樽市", "連携市町村", "企画政策室", otaru_cell)))


def test_two_addresses_in_one_cell_separated_as_outlook_does(tmp_path):
    """「a; b」 (Outlook's separator, where staff copy addresses from) was refused as a bad
    address while 「a, b」 was taken; each is now named after its municipality."""
    book = write_xlsx(tmp_path / INPUT_NAME, "小樽市")
    settings = _settings(f"{OTARU}; kacho@city.otaru.lg.jp")
    msg = letters.request_message(settings, settings.municipalities[1], book, dt.date(2024, 4, 19))
    got = parse(msg.as_bytes())
    assert [(a.display_name, a.addr_spec) for a in got["To"].addresses] == [
        ("小樽市", OTARU), ("小樽市", "kacho@city.otaru.lg.jp")]


@pytest.mark.parametrize("cell,named", [
    (f"企画政策室, 連携担当 <{OTARU}>", [("企画政策室, 連携担当", OTARU)]),
    (f"Kikaku, Seisaku <{OTARU}>; 課長 <kacho@city.otaru.lg.jp>",
     [("Kikaku, Seisaku", OTARU), ("課長", "kacho@city.otaru.lg.jp")]),
    (f'企画"政策"室 <{OTARU}>, kacho@city.otaru.lg.jp',
     [('企画"政策"室', OTARU), ("小樽市", "kacho@city.otaru.lg.jp")]),
    (f'山田"太郎 <{OTARU}>', [('山田"太郎', OTARU)]),
    # a quoted name holding 「<」「>」, as Outlook quotes it: was refused, 「6文字目に空白」
    (f'"企画政策室 <代表>" <{OTARU}>, "a<b" <kacho@city.otaru.lg.jp>',
     [("企画政策室 <代表>", OTARU), ("a<b", "kacho@city.otaru.lg.jp")]),
])
def test_a_name_holding_a_comma_or_a_quote_reaches_its_address(tmp_path, smtp_server, no_credentials, cell, named):
    """A name in 設定 holding 「,」 or 「"」, as Outlook shows such names (「Kikaku, Seisaku」),
    was cut at the comma or lost at the quote: split and export stopped, saying the cell's
    first character 「企」 could not be used in an address. Each address now goes, named as
    typed, in the draft and through a real SMTP server."""
    book = write_xlsx(tmp_path / INPUT_NAME, "小樽市")
    settings = _settings(cell)
    msg = letters.request_message(settings, settings.municipalities[1], book, dt.date(2024, 4, 19))
    draft = parse(msg.as_bytes())
    assert [(a.display_name, a.addr_spec) for a in draft["To"].addresses] == named
    handler = Recorder()
    server = smtp_server(handler)
    smtp.send(msg, server.hostname, server.port)
    [envelope] = handler.envelopes
    assert envelope.rcpt_tos == [spec for _name, spec in named]
    assert [(a.display_name, a.addr_spec) for a in parse(envelope.content)["To"].addresses] == named


@pytest.mark.parametrize("cell", [f"{OTARU}, {OTARU}", f"企画政策室 <{OTARU}>; kikaku@CITY.OTARU.LG.JP"])
def test_one_mailbox_twice_in_a_cell_is_sent_one_copy(tmp_path, smtp_server, no_credentials, cell):
    """An address typed twice in 設定's cell (or once more with its domain in capitals, the same
    mailbox) went twice in To and twice in the envelope: some mail servers deliver a copy for
    each. Each mailbox once now, named as first written."""
    book = write_xlsx(tmp_path / INPUT_NAME, "小樽市")
    settings = _settings(cell)
    msg = letters.request_message(settings, settings.municipalities[1], book, dt.date(2024, 4, 19))
    assert [a.addr_spec.lower() for a in parse(msg.as_bytes())["To"].addresses] == [OTARU.lower()]
    handler = Recorder()
    server = smtp_server(handler)
    smtp.send(msg, server.hostname, server.port)
    [envelope] = handler.envelopes
    assert [r.lower() for r in envelope.rcpt_tos] == [OTARU.lower()]


def test_the_confirmed_list_to_two_municipalities_sharing_an_address_and_a_cc_in_to_goes_once():
    """確定版 goes to every municipality's address: two sharing an office's address, or a CC
    already in To, put one mailbox twice in the message."""
    from renkei_xl.core.model import Municipality, Settings

    settings = Settings(REGION, 2023, municipalities=(
        Municipality("札幌市", "中心市", "企画課", "renkei@city.sapporo.jp"),
        Municipality("小樽市", "連携市町村", "企画政策室", OTARU),
        Municipality("余市町", "連携市町村", "企画課", OTARU)))
    msg = letters.confirmed_message(settings, [], sender="renkei@city.sapporo.jp")
    assert [a.addr_spec for a in parse(msg.as_bytes())["To"].addresses] == ["renkei@city.sapporo.jp", OTARU]
    msg = mail.build_message(sender="renkei@city.sapporo.jp", to=[OTARU], cc=[OTARU, "kacho@city.otaru.lg.jp"],
                             subject="件名", body="本文")
    assert [a.addr_spec for a in parse(msg.as_bytes())["Cc"].addresses] == ["kacho@city.otaru.lg.jp"]


@pytest.mark.parametrize("cell,hint", [
    (f"企画政策室 <{OTARU}>, 課長 <kacho＠city.otaru.lg.jp>", "（43文字目の「＠」は使えません）"),
    (f"企画政策室 <kikaku@city.otaru\u200b.lg.jp>", "（25文字目に見えない文字 U+200B があります）"),
])
def test_a_bad_address_after_a_japanese_name_points_at_the_address(tmp_path, cell, hint):
    """The character pointed at was the cell's first that was not ASCII: 「1文字目の「企」は使えません」
    for a full-width ＠ in the second address, sending staff to take the name out."""
    book = write_xlsx(tmp_path / INPUT_NAME, "小樽市")
    settings = _settings(cell)
    with pytest.raises(UserError) as err:
        letters.request_message(settings, settings.municipalities[1], book, dt.date(2024, 4, 19))
    assert f"「{cell}」が正しくありません{hint}" in str(err.value), str(err.value)


@pytest.mark.parametrize("cell", ["(" * 600 + OTARU, "(a" * 16_383, f"企画政策室{' ' * 32_000}<{OTARU}>"])
def test_a_cell_of_many_brackets_or_spaces_is_refused_in_japanese_naming_it(tmp_path, cell):
    """A 設定 cell as long as Excel holds (32,767 characters). The email library reads each 「(」
    as a comment one level deeper and ran out of stack at about 500 (RecursionError: the
    command's unexpected error, no cell named). A name padded with spaces before its
    <address> is found from the last 「<」 (the pattern tried every place the name could
    end, a second a cell), and still goes."""
    book = write_xlsx(tmp_path / INPUT_NAME, "小樽市")
    settings = _settings(cell)
    if "<" in cell:
        msg = letters.request_message(settings, settings.municipalities[1], book, dt.date(2024, 4, 19))
        assert [(a.display_name, a.addr_spec) for a in parse(msg.as_bytes())["To"].addresses] == [("企画政策室", OTARU)]
        return
    with pytest.raises(UserError) as err:
        letters.request_message(settings, settings.municipalities[1], book, dt.date(2024, 4, 19))
    said = str(err.value)
    assert said.startswith("シート「設定」の小樽市のメールアドレス「(") and "正しくありません" in said, said[:200]


def test_a_municipality_without_a_department_is_addressed_without_a_trailing_space(tmp_path):
    book = write_xlsx(tmp_path / INPUT_NAME, "小樽市")
    settings = _settings(OTARU)
    otaru = settings.municipalities[1]._replace(department="")
    body = parse(letters.request_message(settings, otaru, book, dt.date(2024, 4, 19)).as_bytes()).get_body()
    lines = body.get_content().splitlines()
    assert lines[0] == "小樽市" and all(line == line.rstrip(" \u3000") for line in lines)


def test_japanese_separator_names_the_municipality_and_the_separators(tmp_path):
    book = write_xlsx(tmp_path / INPUT_NAME, "小樽市")
    settings = _settings(f"{OTARU}、kacho@city.otaru.lg.jp")
    with pytest.raises(UserError) as err:
        letters.request_message(settings, settings.municipalities[1], book, dt.date(2024, 4, 19))
    said = str(err.value)
    assert said.startswith(f"シート「設定」の小樽市のメールアドレス「{OTARU}、kacho@city.otaru.lg.jp」"), said
    assert "半角の「,」か「;」か、セル内の改行で区切って" in said, said


def test_empty_region_is_refused_not_mailed_as_empty_brackets(tmp_path):
    """An empty 圏域名 made 「【】2023年度 連携事業実施状況等一覧（確定版）の送付」 from 「の札幌市 企画課です」."""
    book = write_xlsx(tmp_path / CONFIRMED_NAME, "一覧")
    settings = _settings(OTARU)._replace(region="")
    with pytest.raises(UserError, match="シート「設定」の圏域名が空です"):
        letters.confirmed_message(settings, [book], to=[OTARU])
    with pytest.raises(UserError, match="シート「設定」の圏域名が空です"):
        letters.confirmed_message(settings, [book])


def test_login_asked_at_the_recipient_says_so(tmp_path, smtp_server, no_credentials):
    """Servers that ask for a login at RCPT TO (530 5.7.0) were read as refusing a bad address."""
    said = _refused_at_rcpt(tmp_path, smtp_server, "530 5.7.0 Authentication required", [OTARU])
    assert "ログイン（認証）を求めています（サーバーの応答: 530 5.7.0 Authentication required）" in said, said
    assert smtp.ENV_USER in said and "メールアドレスを確認" not in said, said


def test_connection_cut_before_data_says_nothing_went(tmp_path, no_credentials):
    """A server dropping the connection at the seventh RCPT TO: the message said the mail
    might not have arrived and to ask the recipients, though nothing had been sent."""
    def drops_at_seventh(conn):
        reader = conn.makefile("rb")
        conn.sendall(b"220 ESMTP\r\n")
        recipients = 0
        for line in iter(reader.readline, b""):
            recipients += line[:4].upper() == b"RCPT"
            if recipients == 7:
                return
            conn.sendall(b"250 ok\r\n")

    port = _raw_server(drops_at_seventh)
    with pytest.raises(UserError) as err:
        smtp.send(draft_with_book(tmp_path, to=TWELVE)[0], "127.0.0.1", port, timeout=2)
    said = str(err.value)
    assert "サーバーが接続を切りました" in said and "まだ送信していません" in said, said
    assert "宛先に確認" not in said, said


def test_a_busy_server_at_the_greeting_is_not_said_to_be_the_wrong_server(tmp_path, no_credentials):
    """A relay at its connection limit greets with 421: staff read both 「時間をおいて、もう一度送信」
    and 「サーバー名・ポート番号・ネットワーク接続を確認してください」, and changed right settings."""
    port = _raw_server(lambda conn: conn.sendall(b"421 4.7.0 Too many connections, try again later\r\n"))
    with pytest.raises(UserError) as err:
        smtp.send(draft_with_book(tmp_path)[0], "127.0.0.1", port, timeout=2)
    said = str(err.value)
    assert "（サーバーの応答: 421 4.7.0 Too many connections, try again later）" in said, said
    assert "メールは送信していません" in said and "時間をおいて" in said, said
    assert "サーバー名・ポート番号" not in said, said


@pytest.mark.parametrize("cut, sure", [("in_the_message", True), ("before_the_reply", False)])
def test_connection_cut_during_the_message_says_whether_it_can_have_gone(tmp_path, no_credentials, cut, sure):
    """A relay answering 421 and closing while a 12 MB 確定版 was still going out: the message
    said it might have arrived and to ask the recipients, twelve offices, though the end of
    the mail had never been sent. Cut after the end, before the reply, it may have gone."""
    import os

    def closes(conn):
        reader = conn.makefile("rb")
        conn.sendall(b"220 ESMTP\r\n")
        for line in iter(reader.readline, b""):
            if line[:4].upper() == b"DATA":
                conn.sendall(b"354 go ahead\r\n")
                if cut == "in_the_message":
                    reader.read(65536)
                    conn.sendall(b"421 4.4.2 Connection timed out\r\n")
                else:
                    _to_the_dot(reader)
                return
            conn.sendall(b"250 ok\r\n")

    pdf = tmp_path / "一覧.pdf"
    pdf.write_bytes(os.urandom(12_000_000 if cut == "in_the_message" else 1000))
    msg = mail.build_message(sender=SENDER, to=TWELVE, subject="件名", body=BODY, attachments=[pdf])
    with pytest.raises(UserError) as err:
        smtp.send(msg, "127.0.0.1", _raw_server(closes), timeout=5)
    said = str(err.value)
    assert "通信が途中で切れました" in said, said
    assert ("まだ送信していません（どの宛先にも届いていません）" in said) == sure, said
    assert ("宛先に確認してから再送" in said) == (not sure), said


@pytest.mark.parametrize("bad,hint", [
    ("kikaku@city.otaru\u200b.lg.jp", "18文字目に見えない文字 U+200B があります"),
    ("kikaku@city.otaru\u00a0lg.jp", "18文字目に空白 U+00A0 があります"),
    ("kikaku＠city.otaru.lg.jp", "7文字目の「＠」は使えません"),
    # each was 「1文字目の「札」は使えません」 (or 「6文字目」), 「全角文字（＠ ． など）や空白」 to look for
    ("札幌市 企画課", "名前だけで、メールアドレスがありません）。「名前 <kikaku@city.example.lg.jp>」のように"),
    ("info@札幌市.jp", "日本語のドメイン名です）。メールでは、日本語のドメイン名は「xn--」で始まる形で書きます。"
                      "「info@xn--7st6f65x.jp」と書いてください"),
    ("山田@city.otaru.lg.jp", "@ の前に日本語が入っています）。このようなアドレスは、多くのメールサーバーが受け付けない"),
])
def test_bad_address_points_at_the_character(bad, hint):
    """A zero-width space copied from a web page made 「kikaku@city.otaru​.lg.jp」 refused
    with nothing to see in the message or in the cell."""
    with pytest.raises(UserError) as err:
        mail.build_message(sender=SENDER, to=[bad], subject="件名", body=BODY)
    assert f"「{bad}」が正しくありません（{hint}" in str(err.value), str(err.value)
    assert ("全角文字（＠ ． など）" in str(err.value)) == ("文字目" in hint), str(err.value)


def test_central_city_with_two_addresses_names_the_cell_and_from(tmp_path):
    """設定 takes two addresses in one cell, the central city's too, but a mail has one
    sender: split --eml stopped after its first file, and export after writing the 確定版,
    saying only 「差出人のメールアドレスは1つだけ」 with neither the cell nor --from named."""
    from renkei_xl.core.model import Municipality

    book = write_xlsx(tmp_path / CONFIRMED_NAME, "一覧")
    settings = _settings(OTARU)
    two = settings.municipalities[0]._replace(email="renkei@city.sapporo.jp; kikaku@city.sapporo.jp")
    settings = settings._replace(municipalities=(two, *settings.municipalities[1:]))
    assert isinstance(two, Municipality)
    for make in (lambda: letters.check_mail_settings(settings), lambda: letters.confirmed_message(settings, [book])):
        with pytest.raises(UserError) as err:
            make()
        said = str(err.value)
        assert said.startswith("シート「設定」の中心市（札幌市）のメールアドレスが 2 つあります"), said
        assert "--from" in said, said
    letters.check_mail_settings(settings, "renkei@city.sapporo.jp")
    msg = letters.confirmed_message(settings, [book], sender="renkei@city.sapporo.jp")
    assert len(parse(msg.as_bytes())["To"].addresses) == 3


def test_a_quit_answered_a_byte_at_a_time_after_delivery_is_cut_at_the_budget(tmp_path, no_credentials):
    """The mail delivered, a server trickling its answer to QUIT (each byte within the
    timeout) held the command for ever: the watchdog stopped before QUIT, and the socket
    kept the long wait DATA was given. Now QUIT is within the budget and the send stands."""
    import time

    def trickles(conn):
        for _ in range(120):
            conn.sendall(b"2")
            time.sleep(0.2)

    port = _raw_server(lambda conn: _speaks_smtp(conn, quit=trickles))
    started = time.monotonic()
    smtp.send(draft_with_book(tmp_path)[0], "127.0.0.1", port, timeout=0.5)
    assert time.monotonic() - started < 8


@pytest.mark.parametrize("sender, said", [("kikaku＠city.sapporo.jp", "--from の差出人のメールアドレス「kikaku＠"),
                                          ("a@city.sapporo.jp, b@city.sapporo.jp", "--from の差出人のメールアドレスは1つだけ")])
def test_a_bad_from_is_refused_with_the_settings_before_any_file(sender, said):
    """split --eml checks 設定 before its first file, but a bad --from was found at the
    first draft: one input file made, then the refusal."""
    with pytest.raises(UserError) as err:
        letters.check_mail_settings(_settings(OTARU), sender)
    assert str(err.value).startswith(said), str(err.value)


@pytest.fixture(scope="module")
def otaru_book(tmp_path_factory):
    """The sample master as openpyxl loads it and its 設定 row of 小樽市, made once: each case
    types its own address into that row and saves the book as its own master (building and
    loading the master was two thirds of a case). Also the book saved once with a
    placeholder in that address cell, and the part it is in (``_typed_into``)."""
    from renkei_xl.cli.workbook import init_master

    folder = tmp_path_factory.mktemp("otaru")
    master = init_master(folder / "マスター.xlsx", sample="fy2023")
    wb = openpyxl.load_workbook(master)
    [row] = [row for row in wb["設定"].iter_rows() if row[0].value == "小樽市"]
    placeholder = folder / "placeholder.xlsx"
    row[3].value = _PLACEHOLDER
    wb.save(placeholder)
    wb.save(placeholder)        # as every save after the first writes it (outlineLevelCol="0" added)
    with zipfile.ZipFile(placeholder) as z:
        [part] = [n for n in z.namelist() if f"<t>{_PLACEHOLDER}</t>".encode() in z.read(n)]
    return wb, row, (placeholder, part)


_PLACEHOLDER = "otaru-placeholder@otaru.example"


def _typed_into(otaru_book, master: Path, cell: str) -> None:
    """``master`` becomes the book with ``cell`` in 小樽市's address cell, as openpyxl's save
    writes it: openpyxl writes a text inline in the sheet's XML, so the book saved once with
    a placeholder there (``otaru_book``) has the placeholder's text replaced, escaped and
    marked as openpyxl marks it. A save of the whole book was most of a case; the parts
    are the same (test_an_address_typed_into_the_saved_book_is_what_openpyxl_saves). An
    empty cell, which openpyxl writes without a text, is saved as ever."""
    from xml.sax.saxutils import escape

    from conftest import with_members

    wb, row, (placeholder, part) = otaru_book
    if not cell:
        row[3].value = cell
        wb.save(master)
        return
    with zipfile.ZipFile(placeholder) as z:
        xml = z.read(part).decode("utf-8")
    space = ' xml:space="preserve"' if cell.strip() and cell.strip() != cell else ""
    assert xml.count(f"<t>{_PLACEHOLDER}</t>") == 1
    with_members(placeholder, master, {part: xml.replace(f"<t>{_PLACEHOLDER}</t>",
                                                         f"<t{space}>{escape(cell)}</t>").encode("utf-8")})


def _export_eml_with_otaru(otaru_book, tmp_path, cell: str):
    """``export --eml`` on a real master whose 小樽市 address cell is ``cell``: exit code, stderr, draft."""
    from renkei_xl.cli import main

    master = tmp_path / "マスター.xlsx"
    _typed_into(otaru_book, master, cell)
    out = tmp_path / "確定版.xlsx"
    err = io.StringIO()
    from contextlib import redirect_stderr, redirect_stdout

    with redirect_stderr(err), redirect_stdout(io.StringIO()):
        code = main(["export", str(master), "-o", str(out), "--eml"])
    draft = out.with_suffix(".eml")
    return code, err.getvalue(), parse(draft.read_bytes()) if draft.exists() else None


@pytest.mark.parametrize("cell", ['"\'\n" <ab@otaru.example> & ＠\u2028', " kikaku@otaru.example\n"])
def test_an_address_typed_into_the_saved_book_is_what_openpyxl_saves(otaru_book, tmp_path, cell):
    """The cases below type 小樽市's address by _typed_into: every part of the book is the one
    openpyxl's own save of that cell writes (the save time apart), for texts to escape, a
    line break, a separator and spaces at either end (every case of this module's was
    compared so once)."""
    wb, row, _ = otaru_book
    typed, saved = tmp_path / "typed.xlsx", tmp_path / "saved.xlsx"
    _typed_into(otaru_book, typed, cell)
    row[3].value = cell
    wb.save(saved)
    with zipfile.ZipFile(typed) as a, zipfile.ZipFile(saved) as b:
        assert a.namelist() == b.namelist()
        assert [n for n in a.namelist() if n != "docProps/core.xml" and a.read(n) != b.read(n)] == []


def test_a_cell_of_32767_characters_is_quoted_cut_not_whole(otaru_book, tmp_path):
    """A text pasted into 小樽市's address cell up to Excel's 32,767 characters was copied into
    the refusal whole: a screenful on the command line (qa-132). Cut as values.shown cuts a
    text, its length said; the hint still says what is wrong (no 「@」 in it: no address at all)."""
    cell = "あ" * 32_767
    code, err, draft = _export_eml_with_otaru(otaru_book, tmp_path, cell)
    assert code == 2 and draft is None
    assert (f"シート「設定」の小樽市（設定!D11）のメールアドレス「{'あ' * 1_000}…（全32,767文字）」が正しくありません"
            "（名前だけで、メールアドレスがありません）") in err, err[:2_000]
    assert len(err) < 1_500, len(err)


@pytest.mark.parametrize("cell, said", [
    ("kacho＠city.otaru.lg.jp", "シート「設定」の小樽市（設定!D11）のメールアドレス「kacho＠city.otaru.lg.jp」が正しくありません"),
    ("", "シート「設定」の市町村一覧で、小樽市（設定!D11） のメールアドレスが空です")])
def test_a_refused_address_names_its_settings_cell(otaru_book, tmp_path, cell, said):
    """A refusal of 小樽市's addresses named 「シート「設定」の小樽市」 alone: staff looked down
    設定's table for the row and across it for the cell. Now the cell, 設定!D11 (qa-133).
    The command line's alone: no button makes a mail."""
    code, err, draft = _export_eml_with_otaru(otaru_book, tmp_path, cell)
    assert code == 2 and draft is None and said in err, err


LONG = "x" * 70 + "@city.otaru.hokkaido.jp"


@pytest.mark.parametrize("cell,wanted", [
    (f"{LONG}; 課長 <kacho@city.otaru.lg.jp>", [LONG, "kacho@city.otaru.lg.jp"]),
    (f'{LONG};"CON" <renkei57@otaru.example>;"\'\n" <ab@otaru.example>',
     [LONG, "renkei57@otaru.example", "ab@otaru.example"]),
    (f"企画課 <{LONG}>, 企画係 <{'y' * 60}@otaru.example>", [LONG, "y" * 60 + "@otaru.example"]),
    # a quoted ASCII name longer than a line: folded, it lost its quotes and read as no address
    (f'"{"x" * 200}*;" <a.b59@otaru.example>', ["a.b59@otaru.example"]),
    # a long name starting with a dot: folded, the email package's parser raised reading it back
    (f'.{"x" * 200} <a.b59@otaru.example>', ["a.b59@otaru.example"]),
    # two addresses on two lines of the cell (Alt+Enter): the first was read as the second's name
    ('kikaku@otaru.example\n企画係 <kakari@otaru.example>', ["kikaku@otaru.example", "kakari@otaru.example"]),
])
def test_every_address_of_a_long_to_reads_back_from_the_draft(otaru_book, tmp_path, cell, wanted):
    """Python's folder (before 3.11.9, CPython issue 100884) broke a long To after a Japanese
    name into 「=?utf-8?q?=2C?=」: the comma was read as part of the next name, and 小樽市's
    second address vanished from the To that Outlook shows, though the server still got it.
    Each address of the cell is in the To a reader parses, as typed."""
    code, err, draft = _export_eml_with_otaru(otaru_book, tmp_path, cell)
    assert code == 0, err
    assert not draft["To"].defects, draft["To"].defects
    got = [a.addr_spec for a in draft["To"].addresses]
    assert got[1:1 + len(wanted)] == wanted and len(got) == 11 + len(wanted), got


@pytest.mark.parametrize("name", ["=?utf-8?b?QQ==?=\u2028CON", "=?utf-8?b?QQ==?= 企画課"])
def test_a_name_no_reader_reads_back_as_typed_is_refused(otaru_book, tmp_path, name):
    """A name holding an encoded word as typed text, and a line separator: written raw (the
    policy's folding decoded it), U+2028 became a line break that ended the To header of
    the draft, its recipient lost with every header after it (found by make fuzz,
    mail:8978966:146). Refused, naming whose address it is in 設定, the address and the name."""
    code, err, draft = _export_eml_with_otaru(otaru_book, tmp_path, f'"{name}" <kikaku@otaru.example>')
    assert code == 2 and draft is None, err
    assert "シート「設定」の小樽市（設定!D11）のメールアドレス「kikaku@otaru.example」の名前「" in err, err


def test_a_name_too_long_for_a_header_line_is_refused_naming_whose_it_is(otaru_book, tmp_path):
    """A quoted ASCII name past a header line's 998 characters cannot be folded (it loses its
    quotes) nor written whole: refused, naming 小樽市's cell in 設定 rather than the address alone."""
    code, err, draft = _export_eml_with_otaru(otaru_book, tmp_path, f'"{"x" * 1000}*;" <kikaku@otaru.example>')
    assert code == 2 and draft is None, err
    assert "シート「設定」の小樽市（設定!D11）のメールアドレス「kikaku@otaru.example」の名前が長すぎて" in err, err


@pytest.mark.parametrize("cell", ["a..b@otaru.example", ".kikaku@otaru.example", "kikaku.@otaru.example",
                                  "企画課 <kikaku..seisaku@otaru.example>", "kikaku@otaru.example>",
                                  "a.b@sub.example.>",
                                  # repaired by the email library into another address, in silence
                                  "kikaku@otaru.exa(mple", "kikaku@[127.0.0.1", "企画課 kikaku@otaru.example",
                                  # an address in a name, which would be sent nowhere
                                  "kikaku@otaru.example 企画係 <kakari@otaru.example>",
                                  # the same with a full-width ＠: read as the next address's name, in silence
                                  "kikaku＠otaru.example\n企画係 <kakari@otaru.example>",
                                  "kikaku＠otaru.example, 企画係 <kakari@otaru.example>",
                                  "kikaku﹫otaru.example; kakari@otaru.example",
                                  "kikaku＠otaru.example 企画係 <kakari@otaru.example>",
                                  # a domain no relay delivers to
                                  "kikaku@-otaru.example", "kikaku@otaru-.example", f"kikaku@{'b' * 64}.jp",
                                  "kikaku@[999.0.0.1]"])
def test_an_address_no_reader_could_parse_is_refused_naming_the_cell(otaru_book, tmp_path, cell):
    """「a..b@」 (a dot typed twice) or a stray 「>」 after the address went into the mail and
    was read back as a broken To; the relay refuses it at RCPT or it bounces. An entry the
    email library reads only by repairing it (an unclosed comment or literal, a name without
    its <…>) was sent to what the repair made of it: 「kikaku@otaru.exa(mple」 to otaru.exa.
    Each is refused in 設定, naming 小樽市's cell."""
    code, err, draft = _export_eml_with_otaru(otaru_book, tmp_path, cell)
    assert code == 2 and draft is None
    assert f"シート「設定」の小樽市（設定!D11）のメールアドレス「{cell}」が正しくありません" in err, err


@pytest.mark.parametrize("cell,wanted", [
    # Outlook names a recipient who has no name by the address, in single quotes
    ("'kikaku@otaru.example' <kikaku@otaru.example>", "kikaku@otaru.example"),
    ("Kikaku@otaru.example <kikaku@otaru.example>", "kikaku@otaru.example"),
    # a comment before the address, nested, or on the cell's next line (Alt+Enter)
    ("(企画課) kikaku@otaru.example", "kikaku@otaru.example"),
    ("kikaku@otaru.example (企画(政策)課)", "kikaku@otaru.example"),
    ("kikaku@otaru.example\n(企画課)", "kikaku@otaru.example"),
])
def test_a_cell_the_checks_for_a_repaired_address_must_not_stop(otaru_book, tmp_path, cell, wanted):
    """The checks refusing an address the email library repaired, or one hidden in a name,
    refused cells that are neither and that export had sent: a name that is the address it
    names, and comments RFC 5322 allows where staff put them. Each still reaches the To."""
    code, err, draft = _export_eml_with_otaru(otaru_book, tmp_path, cell)
    assert code == 0, err
    assert [a.addr_spec for a in draft["To"].addresses].count(wanted) == 1


def test_a_sender_name_that_fits_a_to_line_but_not_a_from_line_is_refused_naming_the_sender():
    """An address is checked where its cell is read against the longest field it goes in
    (From, two characters longer than To): a sender's name that fitted To's 998-character
    line but not From's was refused later, by the draft's writer, naming no one."""
    from email.headerregistry import Address

    address = "kikaku@otaru.example"
    name = "x" * (993 - len(str(Address("*;", addr_spec=address))))
    assert len(str(Address(name + "*;", addr_spec=address))) == 993      # To: 2 + 2 + 993 + 1 = 998 fits
    with pytest.raises(UserError) as err:
        mail.parse_addresses([f'"{name}*;" <{address}>'], "--from の差出人")
    assert str(err.value).startswith("--from の差出人のメールアドレス「kikaku@otaru.example」の名前が長すぎて"), str(err.value)


# An address's folded form is kept per address (perf-106): the email package folded and parsed
# it again for every command that read 設定's twelve municipalities (about 1.5 ms each).
_KEPT_CASES = ["山田 太郎 <taro@city.example.jp>", "a@x.example", "Yamada, Taro <t@x.example>",
               "札幌市 企画政策局 企画課 広域連携担当係 " * 3 + "<kikaku@city.sapporo.example>",
               '"' + "x" * 120 + '" <long@x.example>']


def _forget_folded() -> None:
    """The kept folded forms forgotten (so that a case starts as a new process does)."""
    kept = getattr(mail, "_folded", None)
    if kept is not None:
        kept.cache_clear()


@pytest.mark.parametrize("typed", _KEPT_CASES)
def test_an_address_is_folded_once_and_written_as_before(typed, monkeypatch):
    _forget_folded()
    address = mail.parse_addresses([typed], "宛先")[0]
    first = {field: mail._piece(field, address) for field in ("From", "To", "Cc")}
    asked = []
    read_back = mail._read_back
    monkeypatch.setattr(mail, "_read_back", lambda field, piece: asked.append(field) or read_back(field, piece))
    again = mail.parse_addresses([typed], "宛先")[0]
    assert {field: mail._piece(field, again) for field in ("From", "To", "Cc")} == first
    assert asked == []                      # nothing folded or read back a second time
    _forget_folded()                        # and folded anew, the same text
    assert {field: mail._piece(field, again) for field in ("From", "To", "Cc")} == first
    assert asked


def test_a_name_no_mail_can_carry_is_refused_each_time_it_is_asked():
    _forget_folded()
    for _ in range(2):
        with pytest.raises(UserError, match="そのままではメールに正しく書けません"):
            mail.parse_addresses(["=?utf-8?b?QQ==?= <a@x.example>"], "宛先")


@pytest.mark.parametrize("name, said", [("確定\n版.xlsx", "3文字目に改行が"),
                                        ("確定\u2028版.xlsx", "3文字目に改行にあたる見えない文字 U+2028 が"),
                                        ("確定版\x85.xlsx", "4文字目に改行にあたる見えない文字 U+0085 が")])
@pytest.mark.parametrize("how", [["--eml"], ["--smtp", "127.0.0.1:1"]])
def test_a_confirmed_name_no_attachment_can_hold_is_refused_before_anything_is_written(tmp_path, name, said, how):
    """export -o names the attachment. A line break in it (U+2028 and U+0085 are allowed in a
    Windows file name) is one the email package's policy refuses in a header, in English:
    export --eml wrote the 確定版 and then stopped with 「予期しないエラー」 (exit 3). Refused
    first, naming the character; the master is left as it was, nothing is written."""
    from contextlib import redirect_stderr, redirect_stdout

    from renkei_xl.cli import main
    from renkei_xl.cli.workbook import init_master
    from renkei_xl.core.filenames import visible

    master = init_master(tmp_path / "マスター.xlsx", sample="fy2023")
    before = master.read_bytes()
    out, err = tmp_path / "出力" / name, io.StringIO()
    with redirect_stderr(err), redirect_stdout(io.StringIO()):
        code = main(["export", str(master), "-o", str(out), *how])
    assert code == 2, err.getvalue()
    assert f"ファイル名「{visible(name)}」の{said}入っています" in err.getvalue()
    assert "何も書き込んでいません" in err.getvalue()
    assert master.read_bytes() == before and not (tmp_path / "出力").exists()
    with pytest.raises(UserError, match="改行"):      # and wherever an attachment is named: never a ValueError
        mail.build_message(sender=SENDER, to=[OTARU], subject="件名", body=BODY, attachments=[tmp_path / name])
